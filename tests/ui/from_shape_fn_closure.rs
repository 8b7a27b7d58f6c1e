use autodiff::differentiate;
use ndarray::Array2;

// A matrix built by `from_shape_fn` from a differentiated value: the message says to write
// its elements in loops.
#[differentiate]
fn f(w: f64) -> f64 {
    let m = Array2::from_shape_fn((3, 3), |(i, j)| w * (i as f64 - j as f64));
    m.sum()
}

fn main() {}
