//! Programs that compile and must give the gradient central differences give: a struct
//! completed from another (`S { a: y, ..base }`) whose base is read again, iterator orders
//! that reverse a `step_by` or a `zip` of unequal lengths, the tie rules of `max_by_key`
//! and `min_by_key`, and a sorted insert at the position `binary_search_by` gives.
//!
//! `S { a: y, ..base }` copies from a place only the fields it does not name, so `base`
//! stays readable where those are `Copy`; the generated functions moved `base` instead, and a
//! later `base.c` (or the update in the next iteration of a loop) was rustc's E0382 "borrow of
//! moved value" inside the generated code. The base is now copied where it is read again.
//! `best.binary_search_by(..).unwrap_or_else(|e| e)` was rejected as a closure that may change
//! `best`; the position it takes out of the search's `Result` is data.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop, clippy::useless_vec)] // written as users write them

use autodiff::{Differentiable, differentiate};
use num_traits::Float;

mod common;
use common::*;

const X: [[f64; 5]; 3] = [
    [0.7, -0.4, 1.3, 0.2, -0.9],
    [-1.2, 0.9, 0.35, 1.7, 0.6],
    [1.6, 1.1, -0.8, 0.45, 1.25],
];

#[derive(Clone, Differentiable)]
struct S {
    a: f64,
    b: f64,
    c: f64,
}

#[derive(Clone, Differentiable)]
struct P2<T: Float> {
    a: T,
    b: T,
}

/// The base read after the update: `f = x3·x0·x2 + x0·x1`.
#[differentiate(hessian)]
fn update_then_base(x: &[f64]) -> f64 {
    let base = S {
        a: x[0],
        b: x[1],
        c: x[2],
    };
    let s = S {
        a: x[3] * x[0],
        ..base
    };
    s.a * base.c + base.a * s.b
}

/// The update in every iteration of a loop, from the same base:
/// `f = x1·x3·(x0 + x1 + x2) + 3·x2 + x0`.
#[differentiate]
fn update_in_loop(x: &[f64]) -> f64 {
    let base = S {
        a: x[0],
        b: x[1],
        c: x[2],
    };
    let mut t = 0.0;
    for i in 0..3 {
        let s = S {
            a: x[i] * x[3],
            ..base
        };
        t += s.a * s.b + s.c;
    }
    t + base.a
}

/// Over a generic float, the base read after: `f = x·y² + y`.
#[differentiate]
fn update_generic<T: Float>(x: T, y: T) -> T {
    let base = P2 { a: x, b: y };
    let s = P2 { a: x * y, ..base };
    s.a * base.b + s.b
}

#[test]
fn a_struct_update_leaves_its_base_readable() {
    let d = [0.3, -0.8, 0.5, 0.25, 0.1];
    for x in X {
        let x = &x[..4];
        let d = &d[..4];
        // ∇ = (x3·x2 + x1, x0, x3·x0, x0·x2)
        let (v, g) = update_then_base_grad(x);
        assert_eq!(v, update_then_base(x));
        let e = [x[3] * x[2] + x[1], x[0], x[3] * x[0], x[0] * x[2]];
        close_all("update then base", &g, &e);
        fd_vec("update then base", update_then_base, x, &g);
        // H·d = (x2·d3 + x3·d2 + d1, d0, x3·d0 + x0·d3, x2·d0 + x0·d2)
        let (v2, g2, hv) = update_then_base_hvp(x, &d.to_vec());
        assert_eq!(v2, v);
        close_all("update then base, gradient of hvp", &g2, &g);
        let eh = [
            x[2] * d[3] + x[3] * d[2] + d[1],
            d[0],
            x[3] * d[0] + x[0] * d[3],
            x[2] * d[0] + x[0] * d[2],
        ];
        close_all("update then base, H·d", &hv, &eh);

        // ∂0 = x1·x3 + 1, ∂1 = x3·(x0 + x1 + x2) + x1·x3, ∂2 = x1·x3 + 3, ∂3 = x1·(x0 + x1 + x2)
        let (v, g) = update_in_loop_grad(x);
        assert_eq!(v, update_in_loop(x));
        let sum = x[0] + x[1] + x[2];
        let e = [
            x[1] * x[3] + 1.0,
            x[3] * sum + x[1] * x[3],
            x[1] * x[3] + 3.0,
            x[1] * sum,
        ];
        close_all("update in a loop", &g, &e);
        fd_vec("update in a loop", update_in_loop, x, &g);

        // ∂x = y², ∂y = 2xy + 1
        let (a, b) = (x[0], x[1]);
        let (v, g) = update_generic_grad(a, b);
        assert_eq!(v, update_generic(a, b));
        close2("update, generic", g, (b * b, 2.0 * a * b + 1.0));
        fd2("update, generic", update_generic, (a, b), g);
        let (v32, g32) = update_generic_grad(a as f32, b as f32);
        assert_eq!(v32, update_generic(a as f32, b as f32));
        let (a32, b32) = (a as f32, b as f32);
        assert!((g32.0 - b32 * b32).abs() <= 1e-5 * (b32 * b32).abs().max(1.0));
        assert!(
            (g32.1 - (2.0 * a32 * b32 + 1.0)).abs()
                <= 1e-5 * (2.0 * a32 * b32 + 1.0).abs().max(1.0)
        );
    }
}

/// `step_by(2).rev()` visits positions 4, 2, 0 of five elements and 2, 0 of four, so with
/// the weights the fold gives, `f = Σ_k 0.5^k·x[2k]²`.
#[differentiate]
fn every_other_reversed(x: &[f64]) -> f64 {
    x.iter()
        .step_by(2)
        .rev()
        .fold(0.0, |acc, &v| acc * 0.5 + v * v)
}

/// `zip` of 5 and 3 elements reversed pairs from the shorter one's end, `(x2, w2), (x1, w1),
/// (x0, w0)` with `w = x[..3]`: `f = Σ_{k<3} 0.5^k·x_k²`.
#[differentiate]
fn unequal_zip_reversed(x: &[f64]) -> f64 {
    let w = vec![x[0], x[1], x[2]];
    x.iter()
        .zip(w.iter())
        .rev()
        .fold(0.0, |acc, (a, b)| acc * 0.5 + a * b)
}

#[test]
fn reversed_orders_pair_the_right_elements() {
    for x in X {
        for n in [4, 5] {
            let x = &x[..n];
            // ∂x[2k] = 2·0.5^k·x[2k], 0 at odd positions
            let (v, g) = every_other_reversed_grad(x);
            assert_eq!(v, every_other_reversed(x));
            let e: Vec<f64> = (0..n)
                .map(|i| match i % 2 {
                    0 => 2.0 * 0.5f64.powi(i as i32 / 2) * x[i],
                    _ => 0.0,
                })
                .collect();
            close_all("step_by(2).rev()", &g, &e);
            fd_vec("step_by(2).rev()", every_other_reversed, x, &g);
        }
        // ∂x_k = 2·0.5^k·x_k for k < 3, 0 after
        let (v, g) = unequal_zip_reversed_grad(&x);
        assert_eq!(v, unequal_zip_reversed(&x));
        let e: Vec<f64> = (0..5)
            .map(|k| match k < 3 {
                true => 2.0 * 0.5f64.powi(k as i32) * x[k],
                false => 0.0,
            })
            .collect();
        close_all("zip of unequal lengths, reversed", &g, &e);
        fd_vec(
            "zip of unequal lengths, reversed",
            unequal_zip_reversed,
            &x,
            &g,
        );
    }
}

/// Ties of an integer key, away from the key's jumps: `max_by_key` takes the last of the
/// largest, `min_by_key` the first of the smallest. `f = 2·x[m] + 3·x[n]`.
#[differentiate]
fn key_ties(x: &[f64]) -> f64 {
    let m = x
        .iter()
        .copied()
        .max_by_key(|v| v.abs().round() as i64)
        .unwrap();
    let n = x
        .iter()
        .copied()
        .min_by_key(|v| v.abs().round() as i64)
        .unwrap();
    m * 2.0 + n * 3.0
}

#[test]
fn key_ties_pick_the_element_rust_picks() {
    for x in X {
        let key = |v: f64| v.abs().round() as i64;
        let top = x.iter().map(|&v| key(v)).max().unwrap();
        let low = x.iter().map(|&v| key(v)).min().unwrap();
        let m = (0..5).rev().find(|&i| key(x[i]) == top).unwrap();
        let n = (0..5).find(|&i| key(x[i]) == low).unwrap();
        // ∂x[m] = 2, ∂x[n] = 3, 0 elsewhere (m ≠ n at these points)
        let (v, g) = key_ties_grad(&x);
        assert_eq!(v, key_ties(&x));
        let mut e = vec![0.0; 5];
        e[m] += 2.0;
        e[n] += 3.0;
        close_all("key ties", &g, &e);
        fd_vec("key ties", key_ties, &x, &g);
    }
    // At the first point, three elements tie for the largest key and two for the smallest.
    let x = X[0];
    assert_eq!(x.iter().filter(|v| v.abs().round() == 1.0).count(), 3);
    assert_eq!(x.iter().filter(|v| v.abs().round() == 0.0).count(), 2);
}

/// A sorted insert at the position the search finds, `Ok` or `Err`: `best` is `2·x` in
/// ascending order, and `f = Σ_i (i + 1)·best[i]`.
#[differentiate]
fn sorted_insert(x: &[f64]) -> f64 {
    let mut best: Vec<f64> = Vec::new();
    for &v in x {
        let w = v * 2.0;
        let pos = best
            .binary_search_by(|b| b.partial_cmp(&w).unwrap())
            .unwrap_or_else(|e| e);
        best.insert(pos, w);
    }
    best.iter()
        .enumerate()
        .map(|(i, a)| a * (i as f64 + 1.0))
        .sum::<f64>()
}

#[test]
fn a_sorted_insert_at_a_searched_position() {
    for x in X {
        // ∂x_k = 2·(r_k + 1), r_k the number of elements smaller than x_k (distinct values)
        let (v, g) = sorted_insert_grad(&x);
        assert_eq!(v, sorted_insert(&x));
        let e: Vec<f64> = x
            .iter()
            .map(|&a| 2.0 * (x.iter().filter(|&&b| b < a).count() as f64 + 1.0))
            .collect();
        close_all("sorted insert", &g, &e);
        fd_vec("sorted insert", sorted_insert, &x, &g);
    }
}
