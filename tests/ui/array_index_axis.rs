use autodiff::differentiate;
use ndarray::{Array2, Axis};

#[differentiate]
fn f(a: &Array2<f64>) -> f64 {
    a.index_axis(Axis(0), 0).sum()
}

fn main() {
    let _ = f_grad(&Array2::zeros((2, 2)));
}
