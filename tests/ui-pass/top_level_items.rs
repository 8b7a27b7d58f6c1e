//! Items at the top of a differentiated function's body are in scope in the generated items.
#![deny(warnings)]

use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    const SCALE: f64 = 2.0;
    x * SCALE
}

fn main() {
    let _ = f_grad(1.0);
}
