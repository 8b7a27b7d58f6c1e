//! Type mistakes in the user's own code are reported at the user's expressions, in the words
//! of the operation, beside rustc's own error.
use autodiff::differentiate;

#[differentiate]
fn integer_added(x: f64) -> f64 {
    let mut acc = 0.0;
    acc += 1;
    acc * x
}

#[differentiate]
fn mixed_floats(x: f64, y: f32) -> f64 {
    x * y
}

fn main() {}
