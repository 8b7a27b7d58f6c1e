use autodiff::differentiate;
use ndarray::Array2;

// `indexed_iter()` is followed on a vector (`for (i, &v) in a.indexed_iter()`); of a matrix,
// whose index is a tuple, it is the error that says to loop over the indices.
#[differentiate]
fn weighted(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for ((i, j), &v) in a.indexed_iter() {
        s += (i + j) as f64 * v;
    }
    s
}

fn main() {
    let _ = weighted_grad(&Array2::zeros((2, 2)));
}
