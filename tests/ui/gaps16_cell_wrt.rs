use std::cell::Cell;

use autodiff::differentiate;

// A cell parameter is shared state, read as data: it has no gradient type.
#[differentiate(wrt(x, c))]
fn scaled(x: f64, c: &Cell<f64>) -> f64 {
    x * c.get()
}

fn main() {}
