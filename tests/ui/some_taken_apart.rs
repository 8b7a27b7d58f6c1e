// An `Option` built by `Some(e)` and taken apart in the same expression is `e`: the error says
// to write `e` (it named `Some` as a function of the user's to rewrite).
use autodiff::differentiate;

#[differentiate]
fn defaulted(x: f64) -> f64 {
    Some(x).unwrap_or(0.0)
}

#[differentiate]
fn unwrapped(x: f64) -> f64 {
    Some(x).unwrap()
}

#[differentiate]
fn matched(x: f64) -> f64 {
    if let Some(v) = Some(x * 2.0) { v } else { 0.0 }
}

fn main() {
    let _ = defaulted_grad(1.0);
    let _ = unwrapped_grad(1.0);
    let _ = matched_grad(1.0);
}
