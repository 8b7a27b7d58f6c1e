//! Programs that hold references into differentiated or data slices: a local `Option<&f64>`
//! set to `Some(v)` of a loop's item (`let mut first = None; for v in x.iter() { if .. {
//! first = Some(v); } } first.copied().unwrap_or(1.0) * t`), which was rustc's E0716
//! "temporary value dropped while borrowed" at the loop: the item is a copy of the element
//! made in the loop, and the reference kept past it referred to that copy. A reference to a
//! loop's item now refers to the element in the data. Also a reference chosen by a branch
//! and read through `*` (`let r = if c { &x[0] } else { &y[1] }; *r * t`), which was an error.
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

/// A reference chosen by a branch and read through `*`: `r = x[0]` for `t > 0`, else `y[1]`,
/// and `f = r² t`, so `∂/∂r = 2 r t`, `∂/∂t = r²`. `*r` of such a local was an error that
/// said dereferencing is supported for references bound with `let r = &x`.
#[differentiate]
fn chosen_by_branch(x: &[f64], y: &[f64], t: f64) -> f64 {
    let r = if t > 0.0 { &x[0] } else { &y[1] };
    let s = *r * t;
    s * *r
}

/// The same by a `match`, the slices left out of the derivative: `∂/∂t = r²`.
#[differentiate(wrt(t))]
fn chosen_by_match(x: &[f64], y: &[f64], t: f64) -> f64 {
    let r = match t > 0.0 {
        true => &x[1],
        false => &y[0],
    };
    *r * *r * t
}

#[test]
fn reference_chosen_by_a_branch() {
    let (x, y) = ([0.5, 2.0, -1.0], [1.5, -2.0, 0.25]);
    for t in [3.0, -1.0] {
        let (v, (gx, gy, gt)) = chosen_by_branch_grad(&x, &y, t);
        close("value", v, chosen_by_branch(&x, &y, t), TOL);
        let (r, mut wx, mut wy) = (if t > 0.0 { x[0] } else { y[1] }, [0.0; 3], [0.0; 3]);
        if t > 0.0 {
            wx[0] = 2.0 * r * t;
        } else {
            wy[1] = 2.0 * r * t;
        }
        close_all("gradient in x", &gx, &wx);
        close_all("gradient in y", &gy, &wy);
        close("gradient in t", gt, r * r, TOL);
        fd_vec2(
            "gradient",
            |x, y| chosen_by_branch(x, y, t),
            &x,
            &y,
            &gx,
            &gy,
        );
        fd("gradient in t", |t| chosen_by_branch(&x, &y, t), t, gt);

        let (v, gt) = chosen_by_match_grad(&x, &y, t);
        close("value", v, chosen_by_match(&x, &y, t), TOL);
        let r = if t > 0.0 { x[1] } else { y[0] };
        close("gradient in t", gt, r * r, TOL);
        fd("gradient in t", |t| chosen_by_match(&x, &y, t), t, gt);
    }
}

/// A reference to one of two scalar arguments chosen by a branch: `f = 2 m²` with `m` the
/// larger, so `∂/∂m = 4 m` and zero for the other.
#[differentiate]
fn larger_by_reference(x: f64, y: f64) -> f64 {
    let r = if x > y { &x } else { &y };
    *r * 2.0 * *r
}

#[test]
fn reference_to_a_scalar_chosen_by_a_branch() {
    for (x, y) in [(1.0, 2.0), (3.0, 2.0)] {
        let (v, g) = larger_by_reference_grad(x, y);
        close("value", v, larger_by_reference(x, y), TOL);
        let want = if x > y {
            (4.0 * x, 0.0)
        } else {
            (0.0, 4.0 * y)
        };
        close2("gradient, closed form", g, want);
        fd2("gradient", larger_by_reference, (x, y), g);
    }
}
