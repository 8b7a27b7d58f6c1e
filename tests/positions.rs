//! The position of the best item, found by an iterator chain (`enumerate().max_by(..)
//! .map(|(i, _)| i)`, `min_by`, `find`), then used as an index: the position is run as written
//! (no derivative goes through it), the element it picks is differentiated. Each gradient is
//! checked against its analytic value and central finite differences (away from ties, where
//! the position is constant nearby).

use autodiff::differentiate;

mod common;
use common::{data, fd_vec};

/// `x_m²` with `m` the position of the largest: `∂/∂x_k = 2·x_m` at `k = m`, else 0.
#[differentiate]
fn square_of_largest(xs: &[f64]) -> f64 {
    let m = xs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.partial_cmp(b.1).unwrap())
        .map(|(i, _)| i)
        .unwrap();
    xs[m].powi(2)
}

/// `2·x_m` with `m` the position of the smallest (0 for no items): `∂/∂x_m = 2`.
#[differentiate]
fn twice_smallest(xs: &[f64]) -> f64 {
    let m = xs
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    2.0 * xs[m]
}

/// `x_m·t` with `m` the first position where `x_m > t`, else `t²`: `∂/∂x_m = t`,
/// `∂/∂t = x_m` (or `2t`).
#[differentiate]
fn first_above(xs: &[f64], t: f64) -> f64 {
    match xs.iter().enumerate().find(|(_, v)| **v > t).map(|(i, _)| i) {
        Some(m) => xs[m] * t,
        None => t * t,
    }
}

#[test]
fn the_position_of_the_largest_picks_the_element_differentiated() {
    let xs = data(7, 0.4);
    let m = (0..7).fold(0, |m, k| if xs[k] > xs[m] { k } else { m });
    let (v, g) = square_of_largest_grad(&xs);
    assert_eq!(v, square_of_largest(&xs));
    for (k, gk) in g.iter().enumerate() {
        let want = if k == m { 2.0 * xs[m] } else { 0.0 };
        assert_eq!(*gk, want, "∂/∂x_{k}");
    }
    fd_vec("largest", square_of_largest, &xs, &g);
}

#[test]
fn the_position_of_the_smallest_with_a_default() {
    let xs = data(6, 2.1);
    let m = (0..6).fold(0, |m, k| if xs[k] < xs[m] { k } else { m });
    let (v, g) = twice_smallest_grad(&xs);
    assert_eq!(v, 2.0 * xs[m]);
    for (k, gk) in g.iter().enumerate() {
        assert_eq!(*gk, if k == m { 2.0 } else { 0.0 }, "∂/∂x_{k}");
    }
    fd_vec("smallest", twice_smallest, &xs, &g);
}

#[test]
fn the_first_position_found_or_none() {
    let xs = [0.3, -0.5, 0.8, 1.1];
    // Found at 2 (0.8 > 0.5): ∂/∂x_2 = t, ∂/∂t = x_2.
    let (v, (gx, gt)) = first_above_grad(&xs, 0.5);
    assert_eq!(v, 0.8 * 0.5);
    assert_eq!(gx, vec![0.0, 0.0, 0.5, 0.0]);
    assert_eq!(gt, 0.8);
    fd_vec("found", |p| first_above(p, 0.5), &xs, &gx);
    // None: t², ∂/∂t = 2t and nothing for the items.
    let (v, (gx, gt)) = first_above_grad(&xs, 5.0);
    assert_eq!(v, 25.0);
    assert_eq!(gx, vec![0.0; 4]);
    assert_eq!(gt, 10.0);
}
