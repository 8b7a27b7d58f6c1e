use autodiff::differentiate;
use ndarray::Array3;

fn cube() -> Array3<f64> {
    Array3::zeros((2, 2, 2))
}

// The macro does not see the rank of what `cube` returns: the check at the loop names it.
#[differentiate]
fn doubled(k: f64) -> f64 {
    let mut m = cube();
    for mut row in m.rows_mut() {
        row *= k;
    }
    m.sum()
}

fn main() {
    let _ = doubled_grad(2.0);
}
