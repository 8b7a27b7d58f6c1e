use autodiff::differentiate;
use ndarray::Array1;

// `to_shape` has no rule: one error, which names the reshape that is followed (and none for the
// `.unwrap()` after it).
#[differentiate]
fn as_matrix(theta: &Array1<f64>) -> f64 {
    let m = theta.to_shape((2, 3)).unwrap();
    m.sum_axis(ndarray::Axis(0)).mapv(|s| s * s).sum()
}

fn main() {
    let _ = as_matrix_grad(&Array1::zeros(6));
}
