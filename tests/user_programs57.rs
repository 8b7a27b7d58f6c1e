//! Floats taken out of what a pattern binds: `Option`s, tuples, slices and structs that
//! iterators, slice methods and folds give (`if let Some((h, t)) = x.split_first()`, `let (i,
//! &m) = x.iter().enumerate().max_by(..).unwrap()`, a `fold` to a tuple destructured after it,
//! `while let [a, b, rest @ ..] = s`, an `Option<f64>` local set in a loop, `for (a, b)` over
//! zipped and stepped chains, over a view `ArrayView1::from(x)` of the slice), each followed as
//! written.
//!
//! With them, the forms that an item taken out of a chain by code run as written, reaching the
//! pattern inside a tuple (`match (x.chunks(2).next(), x.chunks(2).last())`) or as the value of
//! a branch (`let o = if .. { x.chunks(2).next() } else { .. }; if let Some(c) = o`), carried by
//! a loop, a struct literal's field or an array's element, was written in before it was an
//! error (it gave a gradient of zero; `tests/ui/bound_from_chain_item_in_tuple_or_branch.rs`,
//! `tests/ui/bound_from_chain_item_carried.rs`), written as the error says: by index.
//!
//! Each gradient is checked against its closed form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's, and some `_jvp` and `_hvp` against finite differences.

#![allow(clippy::needless_range_loop)] // written as users write them

mod common;
use autodiff::differentiate;
use common::*;

const X: [f64; 6] = [0.3, -1.2, 2.5, 0.7, -0.4, 1.9];

// ---------------------------------------------------------------------------------------------
// The forms the error for an item in a tuple or a branch's value asks for.
// ---------------------------------------------------------------------------------------------

/// The first element times the last of an even-length slice, read by index (the rewrite of
/// `match (x.chunks(2).next(), x.chunks(2).last()) { (Some(a), Some(b)) => a[0] * b[1], .. }`):
/// `∂/∂x[0] = x[n−1]`, `∂/∂x[n−1] = x[0]`.
#[differentiate]
fn ends(x: &[f64]) -> f64 {
    let n = x.len();
    if n >= 2 && n % 2 == 0 {
        x[0] * x[n - 1]
    } else {
        0.0
    }
}

#[test]
fn ends_by_index() {
    let (v, g) = ends_grad(&X);
    close("value", v, ends(&X), TOL);
    close("value, closed form", v, X[0] * X[5], TOL);
    close_all("gradient", &g, &[X[5], 0.0, 0.0, 0.0, 0.0, X[0]]);
    fd_vec("gradient", ends, &X, &g);
}

/// The first pair of a slice longer than two, or of the first three by the sign of `x[0]`
/// (the rewrites of `if let (Some(c), true) = (x.first_chunk::<2>(), x.len() > 2)` and of
/// `let o = if x[0] > 0.0 { x.chunks(2).next() } else { x.chunks(3).next() }`): the chunk is
/// the subslice where it starts, `&x[..k]`, whose first two elements are `x[0]`, `x[1]`, so
/// `∂/∂x[0] = x[1]`, `∂/∂x[1] = x[0]` on both sides.
#[differentiate]
fn first_pair_if_long(x: &[f64]) -> f64 {
    if x.len() > 2 { x[0] * x[1] } else { 0.0 }
}

#[differentiate]
fn pair_by_sign(x: &[f64]) -> f64 {
    let k = if x[0] > 0.0 { 2 } else { 3 };
    let c = &x[..k.min(x.len())];
    if c.len() >= 2 { c[0] * c[1] } else { 0.0 }
}

#[test]
fn first_pair_by_subslice() {
    let expect = [X[1], X[0], 0.0, 0.0, 0.0, 0.0];
    let (v, g) = first_pair_if_long_grad(&X);
    close("value", v, first_pair_if_long(&X), TOL);
    close("value, closed form", v, X[0] * X[1], TOL);
    close_all("gradient", &g, &expect);
    fd_vec("gradient", first_pair_if_long, &X, &g);
    for x0 in [0.3, -0.3] {
        let mut x = X;
        x[0] = x0;
        let (v, g) = pair_by_sign_grad(&x);
        close("value", v, pair_by_sign(&x), TOL);
        close("value, closed form", v, x[0] * x[1], TOL);
        close_all("gradient", &g, &[x[1], x[0], 0.0, 0.0, 0.0, 0.0]);
        fd_vec("gradient", pair_by_sign, &x, &g);
    }
}

/// The second pair where there is one (the rewrite of `let c = if x.len() > 3 {
/// x.chunks(2).nth(1) } else { None }; match c { Some(&[a, b]) => a * b, _ => 0.0 }`):
/// `∂/∂x[2] = x[3]`, `∂/∂x[3] = x[2]`; with a Hessian-vector product, `H v` has `v[3]` at 2 and
/// `v[2]` at 3.
#[differentiate(hessian)]
fn second_pair(x: &[f64]) -> f64 {
    if x.len() > 3 {
        let c = &x[2..4];
        c[0] * c[1]
    } else {
        0.0
    }
}

#[test]
fn second_pair_by_subslice() {
    let (v, g) = second_pair_grad(&X);
    close("value", v, second_pair(&X), TOL);
    close_all("gradient", &g, &[0.0, 0.0, X[3], X[2], 0.0, 0.0]);
    fd_vec("gradient", second_pair, &X, &g);
    let dir = vec![0.5, -1.0, 0.25, 2.0, 1.5, -0.75];
    let (v2, g2, hv) = second_pair_hvp(&X, &dir);
    close("hvp value", v2, v, TOL);
    close_all("hvp gradient", &g2, &g);
    close_all("Hv", &hv, &[0.0, 0.0, dir[3], dir[2], 0.0, 0.0]);
    let (_, t) = second_pair_jvp(&X, &dir);
    close("tangent", t, X[3] * dir[2] + X[2] * dir[3], TOL);
}

/// The last pair that starts at an even position below 6, by the position a loop carries in an
/// `Option` (the rewrite of `o = x.chunks(2).nth(k);` in a loop, matched after it):
/// `∂/∂x[4] = x[5]`, `∂/∂x[5] = x[4]`. The position is data and indexes the slice.
#[differentiate]
fn at_last_start(x: &[f64]) -> f64 {
    let mut at = None;
    for k in 0..3 {
        if 2 * k + 1 < x.len() {
            at = Some(2 * k);
        }
    }
    match at {
        Some(i) => x[i] * x[i + 1],
        None => 0.0,
    }
}

/// The first and the last pair by their positions in an array (the rewrite of `for o in
/// [x.chunks(2).next(), x.chunks(2).last()] { if let Some(c) = o { .. } }`):
/// `x[0]x[1] + x[n−2]x[n−1]`, so `∂/∂x[0] = x[1]`, `∂/∂x[1] = x[0]`, `∂/∂x[n−2] = x[n−1]`,
/// `∂/∂x[n−1] = x[n−2]`.
#[differentiate]
fn end_pairs(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in [0, x.len() - 2] {
        s += x[i] * x[i + 1];
    }
    s
}

#[test]
fn positions_carried_and_listed() {
    let (v, g) = at_last_start_grad(&X);
    close("value", v, at_last_start(&X), TOL);
    close("value, closed form", v, X[4] * X[5], TOL);
    close_all("gradient", &g, &[0.0, 0.0, 0.0, 0.0, X[5], X[4]]);
    fd_vec("gradient", at_last_start, &X, &g);
    let (v, g) = end_pairs_grad(&X);
    close("value", v, end_pairs(&X), TOL);
    close("value, closed form", v, X[0] * X[1] + X[4] * X[5], TOL);
    close_all("gradient", &g, &[X[1], X[0], 0.0, 0.0, X[5], X[4]]);
    fd_vec("gradient", end_pairs, &X, &g);
}

// ---------------------------------------------------------------------------------------------
// Patterns over what followed forms give.
// ---------------------------------------------------------------------------------------------

/// `Σx² − (Σx)²/n` from a `fold` to a tuple destructured after it:
/// `∂/∂x[k] = 2x[k] − 2(Σx)/n`.
#[differentiate]
fn spread(x: &[f64]) -> f64 {
    let (s, q) = x.iter().fold((0.0, 0.0), |(s, q), v| (s + v, q + v * v));
    q - s * s / x.len() as f64
}

#[test]
fn fold_to_a_tuple_destructured() {
    let (v, g) = spread_grad(&X);
    let s: f64 = X.iter().sum();
    close("value", v, spread(&X), TOL);
    let expect: Vec<f64> = X.iter().map(|x| 2.0 * x - 2.0 * s / 6.0).collect();
    close_all("gradient", &g, &expect);
    fd_vec("gradient", spread, &X, &g);
    let dir = vec![1.0, 0.5, -0.2, 0.3, 0.0, -1.0];
    let (_, t) = spread_jvp(&X, &dir);
    close(
        "tangent",
        t,
        expect.iter().zip(&dir).map(|(a, b)| a * b).sum(),
        1e-12,
    );
}

/// The head times the sum of the tail, by `if let Some((h, t)) = x.split_first()`:
/// `∂/∂x[0] = Σ_{k≥1} x[k]`, `∂/∂x[k] = x[0]`.
#[differentiate]
fn head_tail(x: &[f64]) -> f64 {
    if let Some((h, t)) = x.split_first() {
        h * t.iter().sum::<f64>()
    } else {
        0.0
    }
}

#[test]
fn split_first_bound() {
    let (v, g) = head_tail_grad(&X);
    close("value", v, head_tail(&X), TOL);
    let tail: f64 = X[1..].iter().sum();
    let mut expect = vec![X[0]; 6];
    expect[0] = tail;
    close_all("gradient", &g, &expect);
    fd_vec("gradient", head_tail, &X, &g);
}

/// The largest element squared plus its position, by `let (i, &m) =
/// x.iter().enumerate().max_by(..).unwrap()`: `∂/∂x[argmax] = 2·max`, zero elsewhere (the
/// position is an integer).
#[differentiate]
fn peak(x: &[f64]) -> f64 {
    let (i, &m) = x
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    m * m + i as f64
}

#[test]
fn enumerate_max_by_destructured() {
    let (v, g) = peak_grad(&X);
    close("value", v, peak(&X), TOL);
    close("value, closed form", v, X[2] * X[2] + 2.0, TOL);
    close_all("gradient", &g, &[0.0, 0.0, 2.0 * X[2], 0.0, 0.0, 0.0]);
    fd_vec("gradient", peak, &X, &g);
}

/// Products of consecutive pairs by `while let [a, b, rest @ ..] = s { .. s = rest; }`:
/// `∂/∂x[2k] = x[2k+1]`, `∂/∂x[2k+1] = x[2k]`.
#[differentiate]
fn pair_products(x: &[f64]) -> f64 {
    let mut s = x;
    let mut acc = 0.0;
    while let [a, b, rest @ ..] = s {
        acc += a * b;
        s = rest;
    }
    acc
}

#[test]
fn while_let_slice_pattern() {
    let (v, g) = pair_products_grad(&X);
    close("value", v, pair_products(&X), TOL);
    close_all("gradient", &g, &[X[1], X[0], X[3], X[2], X[5], X[4]]);
    fd_vec("gradient", pair_products, &X, &g);
}

/// Squared steps between neighbours with an `Option<f64>` local set in the loop:
/// `∂/∂x[k] = 2(x[k] − x[k−1]) − 2(x[k+1] − x[k])` (a missing neighbour's term is 0).
#[differentiate]
fn roughness(x: &[f64]) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        if let Some(p) = prev {
            s += (v - p) * (v - p);
        }
        prev = Some(v);
    }
    s
}

#[test]
fn option_local_set_in_a_loop() {
    let (v, g) = roughness_grad(&X);
    close("value", v, roughness(&X), TOL);
    let n = X.len();
    let expect: Vec<f64> = (0..n)
        .map(|k| {
            let left = if k > 0 { 2.0 * (X[k] - X[k - 1]) } else { 0.0 };
            let right = if k + 1 < n {
                -2.0 * (X[k + 1] - X[k])
            } else {
                0.0
            };
            left + right
        })
        .collect();
    close_all("gradient", &g, &expect);
    fd_vec("gradient", roughness, &X, &g);
}

/// `for (a, b)` over a zip of each element with the next, stepped by two:
/// `Σ_k x[2k]·x[2k+1]`, the same closed form as [`pair_products`].
#[differentiate]
fn stepped_pairs(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in x.iter().zip(x.iter().skip(1)).step_by(2) {
        s += a * b;
    }
    s
}

#[test]
fn for_pattern_over_stepped_zip() {
    let (v, g) = stepped_pairs_grad(&X);
    close("value", v, stepped_pairs(&X), TOL);
    close_all("gradient", &g, &[X[1], X[0], X[3], X[2], X[5], X[4]]);
    fd_vec("gradient", stepped_pairs, &X, &g);
}

// ---------------------------------------------------------------------------------------------
// A view of the slice, `ArrayView1::from(x)` (rustc's "no function `from_vjp`" in the
// generated code before it was read as `aview1(x)` is).
// ---------------------------------------------------------------------------------------------

/// The largest element squared through `if let Some(m) = a.iter().max_by(..)` over
/// `ArrayView1::from(x)`: `∂/∂x[argmax] = 2·max`.
#[differentiate]
fn view_peak(x: &[f64]) -> f64 {
    let a = ndarray::ArrayView1::from(x);
    if let Some(m) = a.iter().max_by(|p, q| p.total_cmp(q)) {
        m * m
    } else {
        0.0
    }
}

/// `Σ i·x[i]²` through `for (i, &v) in a.indexed_iter()` of the view reshaped to 2×3 rows:
/// with `i = (r, c)`, the weight `3r + c` is the flat position, so `∂/∂x[k] = 2k·x[k]`.
#[differentiate]
fn view_weighted(x: &[f64]) -> f64 {
    let a = ndarray::ArrayView1::from(x)
        .into_shape_with_order((2, 3))
        .unwrap();
    let mut s = 0.0;
    for ((r, c), &v) in a.indexed_iter() {
        s += v * v * (3 * r + c) as f64;
    }
    s
}

#[test]
fn array_view_from_a_slice() {
    let (v, g) = view_peak_grad(&X);
    close("value", v, view_peak(&X), TOL);
    close("value, closed form", v, X[2] * X[2], TOL);
    close_all("gradient", &g, &[0.0, 0.0, 2.0 * X[2], 0.0, 0.0, 0.0]);
    fd_vec("gradient", view_peak, &X, &g);
    let (v, g) = view_weighted_grad(&X);
    close("value", v, view_weighted(&X), TOL);
    let expect: Vec<f64> = (0..6).map(|k| 2.0 * k as f64 * X[k]).collect();
    close_all("gradient", &g, &expect);
    fd_vec("gradient", view_weighted, &X, &g);
}
