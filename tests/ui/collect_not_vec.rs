use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let a = x.iter().map(|v| v * 2.0).collect::<Array1<f64>>();
    a.sum()
}

fn main() {
    let _ = f_grad(&[1.0]);
}
