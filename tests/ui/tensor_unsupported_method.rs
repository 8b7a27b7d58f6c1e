// An ndarray method with no derivative rule on a differentiated array.
use autodiff::differentiate;
use ndarray::{Array1, Axis};

#[differentiate]
fn f(x: &Array1<f64>) -> f64 {
    x.product_axis(Axis(0)).sum()
}

fn main() {
    let _ = f_grad(&Array1::zeros(3));
}
