// An `Option` of a chain kept in a variable and passed on: not taken apart, tested or
// unwrapped where it is made, so its value is not followed.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let best = x.iter().copied().max_by(|a, b| a.total_cmp(b));
    best.map_or(0.0, |m| m * 2.0)
}

fn main() {
    let _ = f_grad(&[1.0]);
}
