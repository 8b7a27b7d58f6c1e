use autodiff::differentiate;
use ndarray::Array2;

// A matrix built by `from_shape_fn` from a differentiated value, by a closure named outside
// the call: the message says which forms are followed, and to write the elements in loops.
#[differentiate]
fn f(w: f64) -> f64 {
    let entry = |(i, j): (usize, usize)| w * (i as f64 - j as f64);
    let m = Array2::from_shape_fn((3, 3), entry);
    m.sum()
}

fn main() {}
