use autodiff::differentiate;

// A tuple written in the `match` (`match (x, n) { (v, 0) => v, .. }`) is followed: its
// elements are bound by `let`s in the arms. A tuple kept in a variable is taken apart by the
// pattern, which the derivative cannot follow.
#[differentiate]
fn f(x: f64, n: u32) -> f64 {
    let t = (x, n);
    match t {
        (v, 0) => v,
        _ => x * 2.0,
    }
}

fn main() {
    let _ = f_grad(1.0, 0);
}
