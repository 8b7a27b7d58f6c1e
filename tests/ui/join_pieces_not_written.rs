use autodiff::differentiate;
use ndarray::{Array1, ArrayView1, Axis, concatenate};

#[differentiate]
fn from_vec(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let views: Vec<ArrayView1<f64>> = vec![a.view(), b.view()];
    let c = concatenate(Axis(0), &views).unwrap();
    c.sum()
}

fn main() {
    let a = Array1::zeros(2);
    let _ = from_vec_grad(&a, &a);
}
