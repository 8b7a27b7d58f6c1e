use autodiff::differentiate;
use ndarray::{Array2, s};

// `indexed_iter_mut()` is followed on a variable with the indices named in the pattern (`for
// ((i, j), v) in a.indexed_iter_mut() { *v = .. }`); of a region, the error says what to write.
#[differentiate]
fn relaxed(u0: &Array2<f64>, a: f64) -> f64 {
    let mut u = u0.clone();
    for ((i, j), v) in u.slice_mut(s![1.., ..]).indexed_iter_mut() {
        *v *= 1.0 + a * (i + j) as f64;
    }
    u.sum()
}

fn main() {
    let _ = relaxed_grad(&Array2::zeros((2, 2)), 0.5);
}
