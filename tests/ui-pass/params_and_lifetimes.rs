#![deny(warnings)]
//! Unnamed parameters and explicit lifetimes are accepted.
use autodiff::differentiate;

#[differentiate]
fn ignore_second(x: f64, _: f64) -> f64 {
    x * x
}

#[differentiate(wrt(xs))]
fn weighted<'a>(xs: &'a [f64], w: &'a [f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s += xs[i] * w[i];
    }
    s
}

fn main() {
    let (_, (d0, d1)) = ignore_second_grad(3.0, 4.0);
    assert_eq!((d0, d1), (6.0, 0.0));
    let (_, g) = weighted_grad(&[1.0, 2.0], &[3.0, 4.0]);
    assert_eq!(g, vec![3.0, 4.0]);
    assert_eq!(ignore_second(1.0, 0.0) + weighted(&[1.0], &[1.0]), 2.0);
}
