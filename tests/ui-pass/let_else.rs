//! `let .. else` is the `match` it stands for: the pattern's names bound by the one arm that
//! goes on, the `else` block the arm that diverges.
#![deny(warnings)]

use autodiff::differentiate;

#[differentiate]
fn f(x: f64, k: Option<u32>) -> f64 {
    let Some(n) = k else {
        return x;
    };
    x * n as f64
}

#[differentiate]
fn g(x: &[f64]) -> f64 {
    let [a, mut b, ..] = x[..] else {
        return 0.0;
    };
    b += a;
    a * b
}

fn main() {
    let _ = f_grad(1.0, Some(2));
    let _ = g_grad(&[1.0, 2.0]);
}
