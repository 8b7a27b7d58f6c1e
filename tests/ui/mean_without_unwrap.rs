// ndarray's `mean` returns an `Option`; the macro asks for `.unwrap()`.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn f(x: &Array1<f64>) -> f64 {
    let m = x.mean();
    m.unwrap_or(0.0)
}

fn main() {
    let _ = f_grad(&Array1::zeros(3));
}
