// An ndarray method with no derivative rule on a differentiated array.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn f(x: &Array1<f64>) -> f64 {
    x.product()
}

fn main() {
    let _ = f_grad(&Array1::zeros(3));
}
