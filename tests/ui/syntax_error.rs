//! A function with a syntax error: rustc's own error is the only one, and callers of the
//! generated items see none.
use autodiff::differentiate;

#[differentiate]
fn broken(x: f64) -> f64 {
    let y = x * ;
    y
}

fn main() {
    let _ = broken_grad(0.5);
    let _ = broken_vjp(0.5);
}
