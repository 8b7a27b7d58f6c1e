use autodiff::differentiate;
use ndarray::Array2;

#[differentiate]
fn f(a: &Array2<f64>) -> f64 {
    a.iter().map(|v| v * v).sum()
}

fn main() {
    let a = Array2::zeros((2, 2));
    let _ = f_grad(&a);
}
