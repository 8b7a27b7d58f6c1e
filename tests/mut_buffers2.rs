//! Helpers writing into their caller's `&mut` buffers, in the forms beyond those of
//! `tests/mut_buffers.rs`: a `&mut [T]` helper lent a fixed-size array; two buffers of rows or
//! structs in one helper, and such a buffer beside a returned value, in loops; a helper
//! returning a value that writes through a `&mut f64`; loops calling a helper under
//! checkpointing. Reverse mode, forward mode and Hessian-vector products.
//!
//! Each gradient is checked against its analytic form and against central finite differences,
//! and each value against the plain function's.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)] // written as users write them

use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Buffers of rows and of structs: two in one helper, or one beside a returned value, in loops.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Body {
    x: f64,
    v: f64,
}

/// Moves the bodies of `a` by their velocities and slows those of `b` by their positions.
#[differentiate(hessian)]
fn drift_and_drag(k: f64, a: &mut [Body], b: &mut Vec<Body>) {
    for i in 0..a.len() {
        a[i].x += k * a[i].v;
        b[i].v -= k * b[i].x;
    }
}

/// Three steps: a.x = x₀ + 3k·x₁, b.v = x₀ − 3k·x₂, f = a.x·b.v:
/// ∂x₀ = b.v + a.x, ∂x₁ = 3k·b.v, ∂x₂ = −3k·a.x, ∂k = 3x₁·b.v − 3x₂·a.x.
#[differentiate(hessian)]
fn bodies_after_steps(x: &[f64], k: f64) -> f64 {
    let mut a = vec![Body { x: x[0], v: x[1] }];
    let mut b = vec![Body { x: x[2], v: x[0] }];
    for _ in 0..3 {
        drift_and_drag(k, &mut a, &mut b);
    }
    a[0].x * b[0].v
}

fn bodies_gradient(x: &[f64], k: f64) -> (Vec<f64>, f64) {
    let (ax, bv) = (x[0] + 3.0 * k * x[1], x[0] - 3.0 * k * x[2]);
    (
        vec![bv + ax, 3.0 * k * bv, -3.0 * k * ax],
        3.0 * x[1] * bv - 3.0 * x[2] * ax,
    )
}

#[test]
fn two_buffers_of_structs_in_a_loop() {
    let (x, k) = ([0.5, -1.0, 2.0], 0.3);
    let (v, (gx, gk)) = bodies_after_steps_grad(&x, k);
    close("value", v, bodies_after_steps(&x, k), 1e-15);
    let (wx, wk) = bodies_gradient(&x, k);
    close_all("∂x", &gx, &wx);
    close("∂k", gk, wk, 1e-12);
    fd_vec("∂x fd", |x| bodies_after_steps(x, k), &x, &gx);
    fd("∂k fd", |k| bodies_after_steps(&x, k), k, gk);
}

#[test]
fn forward_and_second_order_through_two_buffers_of_structs() {
    let x = vec![0.5, -1.0, 2.0];
    let k = 0.3;
    let pairs = forward("bodies_after_steps").check(
        &x,
        |x| bodies_after_steps(x, k),
        |x, v| bodies_after_steps_jvp(x, k, v, 0.0),
        |x, w| {
            let (y, pb) = bodies_after_steps_vjp(x, k);
            (y, pb(w).0)
        },
    );
    let (gx, _) = bodies_gradient(&x, k);
    for (v, jv) in pairs {
        let want: f64 = (0..3).map(|i| gx[i] * v[i]).sum();
        close("J·v", jv, want, 1e-12);
    }
    // f = (x₀ + c x₁)(x₀ − c x₂) with c = 3k: along (d, 0), H·(d, 0) in x is
    // (2d₀ + c d₁ − c d₂, c d₀ − c² d₂, −c d₀ − c² d₁) with d = (1, 0.5, −1).
    let d = vec![1.0, 0.5, -1.0];
    let (_, _, hv) = bodies_after_steps_hvp(&x, k, &d, 0.0);
    let c = 3.0 * k;
    close("Hv0", hv.0[0], 2.0 * d[0] + c * d[1] - c * d[2], 1e-12);
    close("Hv1", hv.0[1], c * d[0] - c * c * d[2], 1e-12);
    close("Hv2", hv.0[2], -c * d[0] - c * c * d[1], 1e-12);
}

/// Adds the outer product x xᵀ to a grid and returns x₀x₁.
#[differentiate]
fn add_outer(x: &[f64], g: &mut Vec<Vec<f64>>) -> f64 {
    for i in 0..g.len() {
        for j in 0..g[i].len() {
            g[i][j] += x[i] * x[j];
        }
    }
    x[0] * x[1]
}

/// Three calls: g₀₁ = 3x₀x₁ and s = 3x₀x₁, f = 9x₀²x₁²: ∂x₀ = 18x₀x₁², ∂x₁ = 18x₀²x₁.
#[differentiate]
fn outer_products_summed(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    let mut s = 0.0;
    for _ in 0..3 {
        s += add_outer(x, &mut g);
    }
    g[0][1] * s
}

#[test]
fn a_buffer_of_rows_beside_a_returned_value_in_a_loop() {
    let x = vec![0.5, -1.5];
    let (v, g) = outer_products_summed_grad(&x);
    close("value", v, outer_products_summed(&x), 1e-15);
    close("∂x0", g[0], 18.0 * x[0] * x[1] * x[1], 1e-12);
    close("∂x1", g[1], 18.0 * x[0] * x[0] * x[1], 1e-12);
    fd_vec("∂x fd", outer_products_summed, &x, &g);
    forward("outer_products_summed").check(
        &x,
        |x| outer_products_summed(x),
        |x, v| outer_products_summed_jvp(x, v),
        |x, w| {
            let (y, pb) = outer_products_summed_vjp(x);
            (y, pb(w))
        },
    );
}
