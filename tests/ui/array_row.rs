use autodiff::differentiate;
use ndarray::Array2;

#[differentiate]
fn f(a: &Array2<f64>) -> f64 {
    a.row(0).sum()
}

fn main() {
    let _ = f_grad(&Array2::zeros((2, 2)));
}
