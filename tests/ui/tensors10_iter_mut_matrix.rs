use autodiff::differentiate;
use ndarray::Array2;

#[differentiate]
fn f(a: &Array2<f64>) -> f64 {
    let mut b = a.clone();
    for v in b.iter_mut() {
        *v = v.tanh();
    }
    b.sum()
}

fn main() {
    let _ = f_grad(&Array2::zeros((2, 2)));
}
