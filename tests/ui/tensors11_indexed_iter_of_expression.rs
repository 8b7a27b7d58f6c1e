use autodiff::differentiate;
use ndarray::Array2;

// `indexed_iter()` is followed on a variable with the indices named in the pattern (`for ((i,
// j), &v) in a.indexed_iter()`); of another expression, the error says what to write.
#[differentiate]
fn weighted(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for ((i, j), &v) in a.t().indexed_iter() {
        s += (i + 2 * j) as f64 * v;
    }
    s
}

fn main() {
    let _ = weighted_grad(&Array2::zeros((2, 2)));
}
