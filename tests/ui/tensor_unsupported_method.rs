// A closure-taking ndarray method on a differentiated array has no derivative rule.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn f(x: &Array1<f64>) -> f64 {
    x.mapv(|v| v * v).sum()
}

fn main() {
    let _ = f_grad(&Array1::zeros(3));
}
