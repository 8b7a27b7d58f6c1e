use autodiff::differentiate;
use ndarray::{Array1, Axis, concatenate};

#[differentiate]
fn long(a: &Array1<f64>) -> f64 {
    let v = a.view();
    let c = concatenate(Axis(0), &[v, v, v, v, v, v, v, v, v]).unwrap();
    c.sum()
}

fn main() {
    let _ = long_grad(&Array1::zeros(2));
}
