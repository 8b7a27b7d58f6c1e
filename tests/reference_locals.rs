//! A local that refers to an element and is pointed elsewhere by the body, as a search by
//! reference is written: `let mut best = &x[0]; for v in x.iter() { if v > best { best = v; } }
//! best * t`, also with `*v > *best`, `best = &x[i]`, two such locals, and items of a slice of
//! structs. These were rustc's "expected `f64`, found `&f64`" in the generated code (the
//! comparison of an item with the reference), or an error that said dereferencing is supported
//! for references bound by a `let` (the variable was assigned in the loop); the variable now
//! holds the element it refers to, as a loop's item does.
//!
//! Each gradient is checked against its closed form (stated beside the function) and against
//! central finite differences through `autodiff::check`, each value against the plain
//! function's.

#![allow(clippy::needless_range_loop)] // written as users write them

mod common;
use autodiff::{Differentiable, differentiate};
use common::*;

const X: [f64; 5] = [0.3, 0.9, 0.2, 0.5, -0.4];
const Y: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];

/// The largest element times `t`: with `k` its (single) position, `∂/∂x[k] = t`, `∂/∂t = x[k]`.
#[differentiate]
fn largest_scaled(x: &[f64], t: f64) -> f64 {
    let mut best = &x[0];
    for v in x.iter() {
        if v > best {
            best = v;
        }
    }
    best * t
}

/// The same with the element referred to by index and read through `*`.
#[differentiate]
fn largest_scaled_by_index(x: &[f64], t: f64) -> f64 {
    let mut best = &x[0];
    for i in 1..x.len() {
        if x[i] > *best {
            best = &x[i];
        }
    }
    *best * t
}

/// The same with the slice left out of the derivative: `∂/∂t = max x`.
#[differentiate(wrt(t))]
fn largest_of_data_scaled(x: &[f64], t: f64) -> f64 {
    let mut best = &x[0];
    for v in x {
        if *v > *best {
            best = v;
        }
    }
    *best * t
}

#[test]
fn largest_element_found_by_reference() {
    let k = 1;
    for t in [2.0, -0.5] {
        let mut want = vec![0.0; X.len()];
        want[k] = t;
        for (v, (gx, gt), plain) in [
            (
                largest_scaled_grad(&X, t).0,
                largest_scaled_grad(&X, t).1,
                largest_scaled(&X, t),
            ),
            (
                largest_scaled_by_index_grad(&X, t).0,
                largest_scaled_by_index_grad(&X, t).1,
                largest_scaled_by_index(&X, t),
            ),
        ] {
            close("value", v, plain, TOL);
            close_all("gradient in x", &gx, &want);
            close("gradient in t", gt, X[k], TOL);
        }
        let (_, (gx, gt)) = largest_scaled_grad(&X, t);
        fd_vec("gradient in x", |x| largest_scaled(x, t), &X, &gx);
        fd("gradient in t", |t| largest_scaled(&X, t), t, gt);
        let (_, (gx, _)) = largest_scaled_by_index_grad(&X, t);
        fd_vec("gradient in x", |x| largest_scaled_by_index(x, t), &X, &gx);
        let (v, gt) = largest_of_data_scaled_grad(&X, t);
        close("value", v, largest_of_data_scaled(&X, t), TOL);
        close("gradient in t", gt, X[k], TOL);
    }
}

/// The spread between a value of `y` at the largest `x` and the smallest `x`, by two such
/// locals: `f = y[k] − x[m]` with `k` the position of the largest `x` and `m` of the smallest,
/// so `∂/∂y[k] = 1`, `∂/∂x[m] = −1`.
#[differentiate]
fn spread(x: &[f64], y: &[f64]) -> f64 {
    let mut lo = &x[0];
    let mut hi = &x[0];
    for (i, v) in x.iter().enumerate() {
        if v < lo {
            lo = v;
        }
        if *v > *hi {
            hi = &y[i];
        }
    }
    hi - lo
}

#[test]
fn two_locals_found_by_reference() {
    let (v, (gx, gy)) = spread_grad(&X, &Y);
    close("value", v, spread(&X, &Y), TOL);
    // `hi` compares `x[i]` with what it refers to, which becomes `y[k]` once a larger `x[k]`
    // is met: after `x[1] = 0.9 > 0.3` it refers to `y[1] = 2`, larger than every later `x`.
    close("value, closed form", v, Y[1] - X[4], TOL);
    close_all("gradient in x", &gx, &[0.0, 0.0, 0.0, 0.0, -1.0]);
    close_all("gradient in y", &gy, &[0.0, 1.0, 0.0, 0.0, 0.0]);
    fd_vec2("gradient", spread, &X, &Y, &gx, &gy);
}

#[derive(Clone, Debug, Differentiable)]
struct Pt {
    x: f64,
    y: f64,
}

/// The product of the coordinates of the point farthest along `t·x`: for `t > 0` the point
/// with the largest `x` (`k`), `∂/∂p[k].x = p[k].y`, `∂/∂p[k].y = p[k].x`, `∂/∂t = 0`.
#[differentiate]
fn farthest_product(p: &[Pt], t: f64) -> f64 {
    let mut best = &p[0];
    for q in p.iter() {
        if q.x * t > best.x * t {
            best = q;
        }
    }
    best.x * best.y
}

#[test]
fn struct_element_found_by_reference() {
    let p: Vec<Pt> = X.iter().zip(Y).map(|(&x, y)| Pt { x, y }).collect();
    let (v, (gp, gt)) = farthest_product_grad(&p, 1.5);
    close("value", v, farthest_product(&p, 1.5), TOL);
    close("value, closed form", v, X[1] * Y[1], TOL);
    for (i, g) in gp.iter().enumerate() {
        let (wx, wy) = if i == 1 { (Y[1], X[1]) } else { (0.0, 0.0) };
        close("gradient in p.x", g.x, wx, TOL);
        close("gradient in p.y", g.y, wy, TOL);
    }
    close("gradient in t", gt, 0.0, TOL);
    fd_any("gradient", |p: &Vec<Pt>| farthest_product(p, 1.5), &p, &gp);
}
