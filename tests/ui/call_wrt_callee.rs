// A callee declared with `wrt(..)` leaves a float parameter out of its gradient, so a call that
// passes a float there cannot be differentiated: a compile error, never a misattributed gradient.
use autodiff::differentiate;

#[differentiate(wrt(x))]
fn h(x: f64, c: f64) -> f64 {
    x * c
}

#[differentiate]
fn f(x: f64) -> f64 {
    h(x, 2.0)
}

fn main() {
    let _ = f_grad(1.0);
}
