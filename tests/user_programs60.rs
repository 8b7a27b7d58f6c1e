//! Programs that hold references into differentiated or data slices: a local `Option<&f64>`
//! set to `Some(v)` of a loop's item (`let mut first = None; for v in x.iter() { if .. {
//! first = Some(v); } } first.copied().unwrap_or(1.0) * t`), which was rustc's E0716
//! "temporary value dropped while borrowed" at the loop: the item is a copy of the element
//! made in the loop, and the reference kept past it referred to that copy. A reference to a
//! loop's item now refers to the element in the data.
//!
//! Each gradient is checked against its closed form (stated beside the function) and against
//! central finite differences, each value against the plain function's.

mod common;
use autodiff::differentiate;
use common::*;

const X: [f64; 5] = [-0.3, 0.7, 0.2, -0.9, 0.4];

/// The first positive element times `t` (1 if none): `∂/∂t = x[k]`, `k` its position.
#[differentiate(wrt(t))]
fn first_positive_scaled(x: &[f64], t: f64) -> f64 {
    let mut first = None;
    for v in x.iter() {
        if *v > 0.0 && first.is_none() {
            first = Some(v);
        }
    }
    first.copied().unwrap_or(1.0) * t
}

/// The last positive element of a `Vec` by `for v in x` times `t²`: `∂/∂t = 2 t x[k]`.
#[differentiate(wrt(t))]
fn last_positive_scaled(x: &Vec<f64>, t: f64) -> f64 {
    let mut last: Option<&f64> = None;
    for v in x {
        if *v > 0.0 {
            last = Some(v);
        }
    }
    last.copied().unwrap_or(0.0) * t * t
}

/// The first element above `t` by index, kept as `Some(&x[i])`: `∂/∂t = 2 t` times the
/// element (`x[1] = 0.7` for `t` below it).
#[differentiate(wrt(t))]
fn first_above_by_index(x: &[f64], t: f64) -> f64 {
    let mut found = None;
    for (i, v) in x.iter().enumerate() {
        if *v > 0.5 && found.is_none() {
            found = Some(&x[i]);
        }
    }
    found.copied().unwrap_or(0.0) * t * t
}

#[test]
fn reference_to_a_loop_item_kept_past_the_loop() {
    for t in [2.0, -0.5] {
        let (v, g) = first_positive_scaled_grad(&X, t);
        close("value", v, first_positive_scaled(&X, t), TOL);
        close("gradient, closed form", g, X[1], TOL);
        fd("gradient", |t| first_positive_scaled(&X, t), t, g);

        let x = X.to_vec();
        let (v, g) = last_positive_scaled_grad(&x, t);
        close("value", v, last_positive_scaled(&x, t), TOL);
        close("gradient, closed form", g, 2.0 * t * X[4], TOL);
        fd("gradient", |t| last_positive_scaled(&x, t), t, g);

        let (v, g) = first_above_by_index_grad(&X, t);
        close("value", v, first_above_by_index(&X, t), TOL);
        close("gradient, closed form", g, 2.0 * t * X[1], TOL);
        fd("gradient", |t| first_above_by_index(&X, t), t, g);
    }
    // No positive element: the default, `∂/∂t = 1`.
    let neg = [-1.0, -2.0];
    let (v, g) = first_positive_scaled_grad(&neg, 3.0);
    close("value", v, 3.0, TOL);
    close("gradient", g, 1.0, TOL);
}
