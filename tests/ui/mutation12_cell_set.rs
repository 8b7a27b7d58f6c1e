use autodiff::differentiate;
use std::cell::Cell;

// `c.set(x * x)` keeps the value in the cell, and `c.get()` reads it back: a path from `x`
// to the result that no returned value carries. Differentiated, the gradient would miss it
// (it was 1 where 2x + 1 is right), so the call whose value is dropped is rejected.
#[differentiate]
fn f(x: f64) -> f64 {
    let c = Cell::new(0.0);
    c.set(x * x);
    c.get() + x
}

/// Keeps `v` in the cell it is lent.
fn stash(c: &Cell<f64>, v: f64) {
    c.set(v)
}

// The same through a function lent the cell.
#[differentiate]
fn g(x: f64) -> f64 {
    let c = Cell::new(0.0);
    stash(&c, x.sin());
    c.get() * x
}

fn main() {
    let _ = f_grad(0.5);
    let _ = g_grad(0.5);
}
