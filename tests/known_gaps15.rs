//! Programs users wrote that were rejected, or failed inside generated code, and now are
//! differentiated:
//!
//! - `a.fold(init, |m, &v| ..)` of a local ndarray array (`let a = x.mapv(..);`), as of a
//!   parameter: the same fold over `a.iter()`; as ndarray visits the elements in memory
//!   order, only a fold whose result does not depend on the order is followed (`m + ..`,
//!   `m * ..`, `m.max(..)`), any other being an error that says to write `a.iter().fold(..)`
//!   (`tests/ui/gaps15_fold_order.rs`): before, `a.t().fold(0.0, |m, &v| 0.5 * m + v)` was
//!   differentiated in row-major order while the function folds in memory order;
//! - `a.product()` of an ndarray array of differentiated values, and `let y: f64 = x.into();`
//!   of a differentiated `f32` (the cast `x as f64`, as `f64::from(x)` already was);
//! - `&mut v[i]`, an element of a `Vec` (or array) of differentiated values, given to a
//!   differentiated helper taking `&mut f64` that updates it;
//! - `std::iter::repeat(x).take(n)` as the source of an iterator chain.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; under `hessian`, `_jvp` and
//! `_hvp` too.

#![deny(warnings)]
#![allow(
    clippy::unnecessary_fold,
    clippy::useless_conversion,
    clippy::let_and_return,
    clippy::needless_range_loop,
    clippy::manual_repeat_n,
    clippy::assign_op_pattern,
    clippy::neg_cmp_op_on_partial_ord
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. `fold` of a local ndarray array.
// ---------------------------------------------------------------------------------------------

/// Σ sin(xᵢ²), folded over a local: ∂/∂xᵢ = 2xᵢ·cos(xᵢ²).
#[differentiate]
fn fold_local(x: &Array1<f64>) -> f64 {
    let a = x.mapv(|v| v * v);
    a.fold(0.0, |m, &v| m + v.sin())
}

/// maxᵢ s·xᵢ (s > 0), by a fold of a local: ∂/∂xᵢ = s at the maximum, 0 elsewhere;
/// ∂/∂s = x at the maximum.
#[differentiate]
fn fold_local_max(x: &Array1<f64>, s: f64) -> f64 {
    let a = x * s;
    a.fold(f64::NEG_INFINITY, |m, &v| m.max(v))
}

/// Π e^{xᵢ} = e^{Σxᵢ} on `f32`: ∂/∂xᵢ = e^{Σxⱼ}.
#[differentiate]
fn fold_local32(x: &Array1<f32>) -> f32 {
    let a = x.mapv(|v| v.exp());
    a.fold(1.0f32, |m, &v| m * v)
}

/// Σₖ Σᵢ ((k+1)·xᵢ)² for k = 0, 1, 2, a local folded in a loop: 14·Σxᵢ², ∂/∂xᵢ = 28xᵢ.
#[differentiate]
fn fold_local_loop(x: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for k in 0..3 {
        let a = x * (k as f64 + 1.0);
        t += a.fold(0.0, |m, &v| m + v * v);
    }
    t
}

/// Σ (2yᵢ)² with a closure that borrows its element: 4·Σyᵢ².
#[differentiate]
fn fold_in_helper(y: &Array1<f64>) -> f64 {
    let b = y * 2.0;
    b.fold(0.0, |m, v| m + v * v)
}

/// The helper of sin(xᵢ): 4·Σ sin²(xᵢ), ∂/∂xᵢ = 8·sin(xᵢ)·cos(xᵢ).
#[differentiate]
fn fold_through_helper(x: &Array1<f64>) -> f64 {
    let y = x.mapv(|v| v.sin());
    fold_in_helper(&y)
}

/// Σᵢⱼ (W·W)ᵢⱼ = 1ᵀ·W·W·1: ∂/∂Wₖₗ = (row sum l of W) + (column sum k of W).
#[differentiate]
fn fold_matrix(w: &Array2<f64>) -> f64 {
    let a = w.dot(w);
    a.fold(0.0, |m, &v| m + v)
}

/// Σ xᵢ² − Σ xᵢ, the second fold subtracting: ∂/∂xᵢ = 2xᵢ − 1 (of a transposed view, whose
/// memory order is not row-major: the fold does not depend on the order).
#[differentiate]
fn fold_transposed(w: &Array2<f64>) -> f64 {
    let a = w.t();
    let b = w.mapv(|v| v * v);
    a.fold(b.sum(), |m, &v| m - v)
}

#[test]
fn fold_of_a_local_array() {
    let x = Array1::from(vec![0.3, -1.1, 0.7, 1.4]);
    let (y, g) = fold_local_grad(&x);
    close("fold local", y, x.iter().map(|v| (v * v).sin()).sum(), TOL);
    let want = x.mapv(|v| 2.0 * v * (v * v).cos());
    same("fold local: grad", &g, &want, TOL);
    fd_array("fold local", fold_local, &x, &g);

    let s = 1.5;
    let (y, (gx, gs)) = fold_local_max_grad(&x, s);
    close("fold max", y, 1.4 * s, TOL);
    same(
        "fold max: ∂x",
        &gx,
        &Array1::from(vec![0.0, 0.0, 0.0, s]),
        TOL,
    );
    close("fold max: ∂s", gs, 1.4, TOL);
    let r = gradcheck(
        |p: &(Array1<f64>, f64)| fold_local_max(&p.0, p.1),
        &(x.clone(), s),
        &(gx, gs),
    );
    assert!(r.passed(), "fold max: {r}");

    let x32 = Array1::from(vec![0.1f32, -0.4, 0.25]);
    let (y, g) = fold_local32_grad(&x32);
    let e = x32.sum().exp();
    assert!((y - e).abs() < 1e-6 * e, "fold f32: {y} against {e}");
    for &gi in g.iter() {
        assert!((gi - e).abs() < 1e-5 * e, "fold f32: grad {gi} against {e}");
    }
    let r = gradcheck(fold_local32, &x32, &g);
    assert!(r.passed(), "fold f32: {r}");

    let (y, g) = fold_local_loop_grad(&x);
    close("fold in a loop", y, 14.0 * x.mapv(|v| v * v).sum(), TOL);
    same("fold in a loop: grad", &g, &x.mapv(|v| 28.0 * v), TOL);
    fd_array("fold in a loop", fold_local_loop, &x, &g);

    let (y, g) = fold_through_helper_grad(&x);
    close(
        "fold in a helper",
        y,
        4.0 * x.mapv(|v| v.sin().powi(2)).sum(),
        TOL,
    );
    let want = x.mapv(|v| 8.0 * v.sin() * v.cos());
    same("fold in a helper: grad", &g, &want, TOL);
    fd_array("fold in a helper", fold_through_helper, &x, &g);

    let w = matrix(3, 3, 0.4);
    let (y, g) = fold_matrix_grad(&w);
    close("fold of a product", y, w.dot(&w).sum(), TOL);
    let want = Array2::from_shape_fn((3, 3), |(k, l)| w.row(l).sum() + w.column(k).sum());
    same("fold of a product: grad", &g, &want, TOL);
    fd_array("fold of a product", fold_matrix, &w, &g);

    let w = matrix(2, 3, 1.3);
    let (y, g) = fold_transposed_grad(&w);
    close("fold of a view", y, fold_transposed(&w), TOL);
    same("fold of a view: grad", &g, &w.mapv(|v| 2.0 * v - 1.0), TOL);
    fd_array("fold of a view", fold_transposed, &w, &g);
}

// ---------------------------------------------------------------------------------------------
// 2. `a.product()` of an array, `.into()` of a float.
// ---------------------------------------------------------------------------------------------

/// Π (xᵢ + 1): ∂/∂xᵢ = Π / (xᵢ + 1).
#[differentiate]
fn product_local(x: &Array1<f64>) -> f64 {
    let a = x.mapv(|v| v + 1.0);
    let p: f64 = a.product();
    p
}

/// Π xᵢ of a parameter, times s: ∂/∂xᵢ = s·Π_{j≠i} xⱼ, ∂/∂s = Π xᵢ.
#[differentiate]
fn product_param(x: &Array1<f64>, s: f64) -> f64 {
    x.product() * s
}

/// Π 2xᵢ on `f32`: 2ⁿ·Π xᵢ, ∂/∂xᵢ = 2ⁿ·Π_{j≠i} xⱼ.
#[differentiate]
fn product_f32(x: &Array1<f32>) -> f32 {
    let p: f32 = (x * 2.0f32).product();
    p
}

/// Σₖ Π ((k+1)·xᵢ) for k = 0, 1: (1 + 2ⁿ)·Π xᵢ, ∂/∂xᵢ = (1 + 2ⁿ)·Π_{j≠i} xⱼ.
#[differentiate]
fn product_in_loop(x: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for k in 0..2 {
        let p: f64 = (x * (k as f64 + 1.0)).product();
        t += p;
    }
    t
}

fn product_but(x: &[f64], i: usize) -> f64 {
    x.iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, v)| v)
        .product()
}

#[test]
fn product_of_an_array() {
    let x = Array1::from(vec![0.5, -1.2, 2.0, 0.8]);
    let xs = x.to_vec();
    let (y, g) = product_local_grad(&x);
    let p: f64 = x.iter().map(|v| v + 1.0).product();
    close("product", y, p, TOL);
    same("product: grad", &g, &x.mapv(|v| p / (v + 1.0)), TOL);
    fd_array("product", product_local, &x, &g);

    let (y, (gx, gs)) = product_param_grad(&x, 0.7);
    close("product of a parameter", y, 0.7 * x.product(), TOL);
    let want = Array1::from_shape_fn(4, |i| 0.7 * product_but(&xs, i));
    same("product of a parameter: ∂x", &gx, &want, TOL);
    close("product of a parameter: ∂s", gs, x.product(), TOL);
    let r = gradcheck(
        |p: &(Array1<f64>, f64)| product_param(&p.0, p.1),
        &(x.clone(), 0.7),
        &(gx, gs),
    );
    assert!(r.passed(), "product of a parameter: {r}");

    let (y, g) = product_in_loop_grad(&x);
    close("product in a loop", y, 17.0 * x.product(), TOL);
    let want = Array1::from_shape_fn(4, |i| 17.0 * product_but(&xs, i));
    same("product in a loop: grad", &g, &want, TOL);
    fd_array("product in a loop", product_in_loop, &x, &g);

    let x32 = Array1::from(vec![0.5f32, -1.25, 0.75]);
    let (y, g) = product_f32_grad(&x32);
    let p = 8.0 * x32.product();
    assert!((y - p).abs() < 1e-6, "product f32: {y} against {p}");
    for i in 0..3 {
        let want = p / x32[i];
        assert!(
            (g[i] - want).abs() < 1e-5,
            "product f32: {} against {want}",
            g[i]
        );
    }
    let r = gradcheck(product_f32, &x32, &g);
    assert!(r.passed(), "product f32: {r}");
}

/// (x as f64)² of an `f32` by `.into()`: ∂/∂x = 2x.
#[differentiate]
fn into_f64(x: f32) -> f64 {
    let y: f64 = x.into();
    y * y
}

/// sin of `f64::from(x)`: ∂/∂x = cos x.
#[differentiate]
fn from_f32(x: f32) -> f64 {
    f64::from(x).sin()
}

/// Σ (vᵢ as f64)², converted by `.into()` in a loop: ∂/∂vᵢ = 2vᵢ.
#[differentiate]
fn into_in_loop(x: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for &v in x {
        let w: f64 = v.into();
        s += w * w;
    }
    s
}

/// x³ through `.into()` of an `f64` to itself: ∂/∂x = 3x², ∂²/∂x² = 6x.
#[differentiate(hessian)]
fn into_same(x: f64) -> f64 {
    let y: f64 = x.into();
    y * y * y
}

/// An `f32` helper whose result is widened by `.into()`: (x·e^x as f64)·2,
/// ∂/∂x = 2·(1 + x)·e^x.
#[differentiate]
fn scaled32(x: f32) -> f32 {
    x * x.exp()
}
#[differentiate]
fn into_of_helper(x: f32) -> f64 {
    let y: f64 = scaled32(x).into();
    2.0 * y
}

/// Central differences of a function from `f32` to `f64`, in `f64`.
#[track_caller]
fn fd_into(what: &str, f: impl Fn(f32) -> f64, x: f32, d: f32) {
    let h = 1e-2f32;
    let diff = (f(x + h) - f(x - h)) / (2.0 * h as f64);
    assert!(
        (diff - d as f64).abs() <= 1e-3 * diff.abs().max(1.0),
        "{what} at {x}: central difference {diff} against {d}"
    );
}

#[test]
fn into_of_a_float() {
    for &x in &[0.5f32, -1.25, 2.0] {
        let (y, g) = into_f64_grad(x);
        close("into", y, (x as f64).powi(2), TOL);
        assert!((g - 2.0 * x).abs() <= 1e-6, "into: {g} against {}", 2.0 * x);
        fd_into("into", into_f64, x, g);

        let (y, g) = from_f32_grad(x);
        close("from", y, (x as f64).sin(), TOL);
        assert!((g - x.cos()).abs() <= 1e-6, "from: {g} against {}", x.cos());
        fd_into("from", from_f32, x, g);

        let (y, g) = into_of_helper_grad(x);
        let want = 2.0 * (1.0 + x) * x.exp();
        close("into of a helper", y, 2.0 * (x * x.exp()) as f64, TOL);
        assert!(
            (g - want).abs() <= 1e-5 * want.abs().max(1.0),
            "into of a helper: {g}"
        );
        fd_into("into of a helper", into_of_helper, x, g);
    }
    let xs = vec![0.5f32, -1.5, 2.25];
    let (y, g) = into_in_loop_grad(&xs);
    close("into in a loop", y, 0.25 + 2.25 + 5.0625, TOL);
    for i in 0..3 {
        assert_eq!(g[i], 2.0 * xs[i], "into in a loop: exact");
        let mut up = xs.clone();
        let mut down = xs.clone();
        up[i] += 1e-2;
        down[i] -= 1e-2;
        let diff = (into_in_loop(&up) - into_in_loop(&down)) / 2e-2;
        assert!((diff - g[i] as f64).abs() <= 1e-3 * diff.abs().max(1.0));
    }
    for &x in &[0.5f64, -1.5, 2.0] {
        let (y, g) = into_same_grad(x);
        close("into f64", y, x * x * x, TOL);
        close("into f64: grad", g, 3.0 * x * x, TOL);
        fd("into f64", into_same, x, g);
        let (_, _, hv) = into_same_hvp(x, 0.5);
        close("into f64: hvp", hv, 0.5 * 6.0 * x, TOL);
        let (_, t) = into_same_jvp(x, 0.5);
        close("into f64: jvp", t, 0.5 * 3.0 * x * x, TOL);
        forward("into f64").one(x, into_same, into_same_jvp, into_same_vjp);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. `&mut v[i]` given to a helper taking `&mut f64`.
// ---------------------------------------------------------------------------------------------

/// a ← a·k + 1.
#[differentiate(hessian)]
fn bump(a: &mut f64, k: f64) {
    *a = *a * k + 1.0;
}

/// v = x with v₁ ← x₁·k + 1, then Σ vⱼ²: ∂/∂xⱼ = 2xⱼ (j ≠ 1), ∂/∂x₁ = 2(x₁k + 1)·k,
/// ∂/∂k = 2(x₁k + 1)·x₁.
#[differentiate]
fn bump_one(x: &[f64], k: f64) -> f64 {
    let mut v = x.to_vec();
    bump(&mut v[1], k);
    v.iter().map(|a| a * a).sum()
}

/// Every element bumped in a loop, then Σ vᵢ²: ∂/∂xᵢ = 2(xᵢk + 1)·k,
/// ∂/∂k = Σ 2(xᵢk + 1)·xᵢ.
#[differentiate]
fn bump_each(x: &[f64], k: f64) -> f64 {
    let mut v = x.to_vec();
    for i in 0..v.len() {
        bump(&mut v[i], k);
    }
    v.iter().map(|a| a * a).sum()
}

/// The loop in a helper taking the buffer `&mut [f64]`, its elements lent on.
#[differentiate]
fn relax(v: &mut [f64], k: f64) {
    for i in 0..v.len() {
        bump(&mut v[i], k);
    }
}

/// The same as `bump_each`, through `relax`.
#[differentiate]
fn relaxed(x: &[f64], k: f64) -> f64 {
    let mut v = x.to_vec();
    relax(&mut v, k);
    v.iter().map(|a| a * a).sum()
}

/// [x, 2x] with its second element bumped: x·(2xk + 1), ∂/∂x = 4xk + 1, ∂/∂k = 2x²;
/// Hessian [[4k, 4x], [4x, 0]].
#[differentiate(hessian)]
fn bump_array(x: f64, k: f64) -> f64 {
    let mut v = [x, 2.0 * x];
    bump(&mut v[1], k);
    v[0] * v[1]
}

/// Scales a row of three.
#[differentiate]
fn scale3(p: &mut [f64; 3], k: f64) {
    for j in 0..3 {
        p[j] *= k;
    }
}

/// The first row scaled: k·x₀₁ + x₁₂; ∂/∂x₀₁ = k, ∂/∂x₁₂ = 1, ∂/∂k = x₀₁.
#[differentiate]
fn scale_row(x: &[[f64; 3]], k: f64) -> f64 {
    let mut v = x.to_vec();
    scale3(&mut v[0], k);
    v[0][1] + v[1][2]
}

/// a ← a·k, returning the old a.
#[differentiate]
fn scale_old(a: &mut f64, k: f64) -> f64 {
    let old = *a;
    *a *= k;
    old
}

/// x₀ + x₀k·x₁: ∂/∂x₀ = 1 + k·x₁, ∂/∂x₁ = x₀k, ∂/∂k = x₀x₁.
#[differentiate]
fn scale_old_used(x: &[f64], k: f64) -> f64 {
    let mut v = x.to_vec();
    let old = scale_old(&mut v[0], k);
    old + v[0] * v[1]
}

/// a ← a·k + 1 on `f32`.
#[differentiate]
fn bump32(a: &mut f32, k: f32) {
    *a = *a * k + 1.0;
}

/// (x₀k + 1)·x₁ on `f32`: ∂/∂x₀ = k·x₁, ∂/∂x₁ = x₀k + 1, ∂/∂k = x₀x₁.
#[differentiate]
fn bump_f32(x: &[f32], k: f32) -> f32 {
    let mut v = x.to_vec();
    bump32(&mut v[0], k);
    v[0] * v[1]
}

#[test]
fn element_lent_to_a_helper() {
    let x = vec![0.4, -1.3, 0.9];
    let k = 0.7;
    let check =
        |what: &str, f: fn(&[f64], f64) -> f64, g: (Vec<f64>, f64), want: (Vec<f64>, f64)| {
            close_all(&format!("{what}: ∂x"), &g.0, &want.0);
            close(&format!("{what}: ∂k"), g.1, want.1, TOL);
            let r = gradcheck(|p: &(Vec<f64>, f64)| f(&p.0, p.1), &(x.clone(), k), &g);
            assert!(r.passed(), "{what}: {r}");
        };

    let (y, g) = bump_one_grad(&x, k);
    let b = x[1] * k + 1.0;
    close("one element", y, x[0] * x[0] + b * b + x[2] * x[2], TOL);
    let want = (vec![2.0 * x[0], 2.0 * b * k, 2.0 * x[2]], 2.0 * b * x[1]);
    check("one element", bump_one, g, want);

    let each = |x: &[f64]| -> (Vec<f64>, f64) {
        let gx = x.iter().map(|v| 2.0 * (v * k + 1.0) * k).collect();
        let gk = x.iter().map(|v| 2.0 * (v * k + 1.0) * v).sum();
        (gx, gk)
    };
    let (_, g) = bump_each_grad(&x, k);
    check("each element", bump_each, g, each(&x));
    let (_, g) = relaxed_grad(&x, k);
    check("each element in a helper", relaxed, g, each(&x));

    let (y, g) = scale_old_used_grad(&x, k);
    close("old value", y, x[0] + x[0] * k * x[1], TOL);
    let want = (vec![1.0 + k * x[1], x[0] * k, 0.0], x[0] * x[1]);
    check("old value", scale_old_used, g, want);

    for &(x, k) in &[(0.5, 1.5), (-1.2, 0.3)] {
        let (y, g) = bump_array_grad(x, k);
        close("array element", y, x * (2.0 * x * k + 1.0), TOL);
        close2("array element: grad", g, (4.0 * x * k + 1.0, 2.0 * x * x));
        fd2("array element", bump_array, (x, k), g);
        let (_, _, hv) = bump_array_hvp(x, k, 0.5, -1.0);
        let want = (4.0 * k * 0.5 - 4.0 * x, 4.0 * x * 0.5);
        close2("array element: hvp", hv, want);
        forward("array element").two((x, k), bump_array, bump_array_jvp, bump_array_vjp);
    }

    let rows = vec![[0.3, -0.8, 1.1], [0.5, 0.2, -0.6]];
    let (y, (gx, gk)) = scale_row_grad(&rows, k);
    close("row element", y, k * rows[0][1] + rows[1][2], TOL);
    assert_eq!(
        gx,
        vec![[0.0, k, 0.0], [0.0, 0.0, 1.0]],
        "row element: ∂x (exact)"
    );
    close("row element: ∂k", gk, rows[0][1], TOL);
    let r = gradcheck(
        |p: &(Vec<[f64; 3]>, f64)| scale_row(&p.0, p.1),
        &(rows.clone(), k),
        &(gx, gk),
    );
    assert!(r.passed(), "row element: {r}");

    let x32 = vec![0.5f32, -1.5];
    let k32 = 0.75f32;
    let (y, (gx, gk)) = bump_f32_grad(&x32, k32);
    assert_eq!(y, (x32[0] * k32 + 1.0) * x32[1]);
    assert_eq!(
        gx,
        vec![k32 * x32[1], x32[0] * k32 + 1.0],
        "f32: ∂x (exact)"
    );
    assert_eq!(gk, x32[0] * x32[1], "f32: ∂k (exact)");
    let r = gradcheck(
        |p: &(Vec<f32>, f32)| bump_f32(&p.0, p.1),
        &(x32.clone(), k32),
        &(gx, gk),
    );
    assert!(r.passed(), "f32: {r}");
}

// ---------------------------------------------------------------------------------------------
// 5. `repeat(x).take(n)`; `successors` and `partition` written as their errors say
//    (`tests/ui/gaps15_adapters.rs`); `rchunks` as written and as the loop from the back.
// ---------------------------------------------------------------------------------------------

/// x³ as the product of `repeat(x).take(3)`: ∂/∂x = 3x², ∂²/∂x² = 6x.
#[differentiate(hessian)]
fn repeat_product(x: f64) -> f64 {
    std::iter::repeat(x).take(3).product()
}

/// n·sin(x) by `repeat_n(x, n).map(..)`: ∂/∂x = n·cos(x).
#[differentiate]
fn repeat_map(x: f64, n: usize) -> f64 {
    std::iter::repeat_n(x, n).map(|v| v.sin()).sum::<f64>()
}

/// Σᵢ xᵢ·s zipped with `repeat(s)`, on `f32`: ∂/∂xᵢ = s, ∂/∂s = Σxᵢ.
#[differentiate]
fn repeat_zip32(x: &[f32], s: f32) -> f32 {
    x.iter()
        .zip(std::iter::repeat(s).take(x.len()))
        .map(|(a, b)| a * b)
        .sum()
}

/// Σₖ x·0.5ᵏ for k < 4, the sequence `successors(Some(x), |&v| Some(v * 0.5))` written as a
/// loop: 1.875·x, ∂/∂x = 1.875.
#[differentiate]
fn halvings(x: f64) -> f64 {
    let mut v = x;
    let mut s = 0.0;
    for _ in 0..4 {
        s += v;
        v = v * 0.5;
    }
    s
}

/// Σ over `x.rchunks(2)` of first·last, written from the back: for x of length 5 the chunks
/// [x₃, x₄], [x₁, x₂], [x₀]: x₃x₄ + x₁x₂ + x₀²; ∂/∂x = (2x₀, x₂, x₁, x₄, x₃).
#[differentiate]
fn rchunk_products(x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut end = x.len();
    while end > 0 {
        let start = end.saturating_sub(2);
        let c = &x[start..end];
        s += c[0] * c[c.len() - 1];
        end = start;
    }
    s
}

/// The same sum over `x.rchunks(2)` as written, and `rchunks_exact(2)` (the front element of an
/// odd length left out) times the chunk's index from the back plus one.
#[differentiate(hessian)]
fn rchunk_products_as_written(x: &[f64]) -> f64 {
    x.rchunks(2).map(|c| c[0] * c[c.len() - 1]).sum::<f64>()
        + x.rchunks_exact(2)
            .enumerate()
            .map(|(k, c)| (k as f64 + 1.0) * c[1])
            .sum::<f64>()
}

/// Σ of the positive part minus Σ of squares of the rest, with a `filter` per part:
/// ∂/∂xᵢ = 1 where xᵢ > 0, −2xᵢ elsewhere.
#[differentiate]
fn split_parts(x: &[f64]) -> f64 {
    let pos: Vec<f64> = x.iter().copied().filter(|&v| v > 0.0).collect();
    let rest: Vec<f64> = x.iter().copied().filter(|&v| !(v > 0.0)).collect();
    pos.iter().sum::<f64>() - rest.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn iterator_sources_and_rewrites() {
    for &x in &[0.5f64, -1.5, 2.0] {
        let (y, g) = repeat_product_grad(x);
        close("repeat product", y, x * x * x, TOL);
        close("repeat product: grad", g, 3.0 * x * x, TOL);
        fd("repeat product", repeat_product, x, g);
        let (_, _, hv) = repeat_product_hvp(x, 0.5);
        close("repeat product: hvp", hv, 0.5 * 6.0 * x, TOL);
        forward("repeat product").one(x, repeat_product, repeat_product_jvp, repeat_product_vjp);

        let (y, g) = repeat_map_grad(x, 3);
        close("repeat map", y, 3.0 * x.sin(), TOL);
        close("repeat map: grad", g, 3.0 * x.cos(), TOL);
        fd("repeat map", |x| repeat_map(x, 3), x, g);

        let (y, g) = halvings_grad(x);
        close("halvings", y, 1.875 * x, TOL);
        close("halvings: grad", g, 1.875, TOL);
        fd("halvings", halvings, x, g);
    }
    let (y, g) = repeat_map_grad(0.3, 0);
    assert_eq!((y, g), (0.0, 0.0), "repeat map: none");

    let x32 = vec![0.5f32, -1.25, 2.0];
    let (y, (gx, gs)) = repeat_zip32_grad(&x32, 1.5);
    assert_eq!(y, 1.5 * (0.5 - 1.25 + 2.0), "repeat zip f32");
    assert_eq!(gx, vec![1.5f32; 3], "repeat zip f32: ∂x (exact)");
    assert_eq!(gs, 0.5 - 1.25 + 2.0, "repeat zip f32: ∂s (exact)");
    let r = gradcheck(
        |p: &(Vec<f32>, f32)| repeat_zip32(&p.0, p.1),
        &(x32.clone(), 1.5),
        &(gx, gs),
    );
    assert!(r.passed(), "repeat zip f32: {r}");

    let x = data(5, 0.7);
    let (y, g) = rchunk_products_grad(&x);
    let want: f64 = x.rchunks(2).map(|c| c[0] * c[c.len() - 1]).sum();
    close("rchunks", y, want, TOL);
    close(
        "rchunks: by hand",
        y,
        x[3] * x[4] + x[1] * x[2] + x[0] * x[0],
        TOL,
    );
    close_all("rchunks: grad", &g, &[2.0 * x[0], x[2], x[1], x[4], x[3]]);
    fd_vec("rchunks", rchunk_products, &x, &g);
    // As written: the exact chunks of 5 elements are [x₃, x₄] (k = 0) and [x₁, x₂] (k = 1),
    // adding x₄ + 2·x₂.
    let (y2, g2) = rchunk_products_as_written_grad(&x);
    assert_eq!(y2, rchunk_products_as_written(&x));
    close("rchunks as written", y2, y + x[4] + 2.0 * x[2], TOL);
    let want = [g[0], g[1], g[2] + 2.0, g[3], g[4] + 1.0];
    close_all("rchunks as written: grad", &g2, &want);
    fd_vec("rchunks as written", rchunk_products_as_written, &x, &g2);
    // An even length: every chunk full.
    let x6 = data(6, 0.3);
    let (_, g6) = rchunk_products_as_written_grad(&x6);
    fd_vec(
        "rchunks as written, 6",
        rchunk_products_as_written,
        &x6,
        &g6,
    );
    let t = data(5, 1.9);
    let (_, dy) = rchunk_products_as_written_jvp(&x, &t);
    let want: f64 = g2.iter().zip(&t).map(|(a, b)| a * b).sum();
    close("rchunks as written: tangent", dy, want, TOL);
    // Hessian: ∂²/∂x₀² = 2, ∂²/∂x₁∂x₂ = 1, ∂²/∂x₃∂x₄ = 1.
    let (_, _, hv) = rchunk_products_as_written_hvp(&x, &t);
    let want = [2.0 * t[0], t[2], t[1], t[4], t[3]];
    close_all("rchunks as written: H·t", &hv, &want);

    let x = vec![0.4, -1.1, 0.9, -0.2];
    let (y, g) = split_parts_grad(&x);
    let (pos, rest): (Vec<f64>, Vec<f64>) = x.iter().partition(|&&v| v > 0.0);
    let want = pos.iter().sum::<f64>() - rest.iter().map(|v| v * v).sum::<f64>();
    close("partition", y, want, TOL);
    let want: Vec<f64> = x
        .iter()
        .map(|&v| if v > 0.0 { 1.0 } else { -2.0 * v })
        .collect();
    close_all("partition: grad", &g, &want);
    fd_vec("partition", split_parts, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 3. A helper returning `Option<f64>`, written as its error says
//    (`tests/ui/gaps15_option_helper.rs`): the default as an argument for `.unwrap_or(d)`, a
//    flag kept as a float for `if let` / `match` / `?`.
// ---------------------------------------------------------------------------------------------

/// ln x where x > 0, else the default.
#[differentiate]
fn safe_log_or(x: f64, default: f64) -> f64 {
    if x > 0.0 { x.ln() } else { default }
}

/// `safe_log(x).unwrap_or(0.0) * x`: x·ln x for x > 0 (∂ = ln x + 1), else 0 (∂ = 0).
#[differentiate]
fn log_or_zero(x: f64) -> f64 {
    safe_log_or(x, 0.0) * x
}

/// (ln x, found), the flag `1.0` where x > 0.
#[differentiate(hessian)]
fn safe_log(x: f64) -> (f64, f64) {
    if x > 0.0 { (x.ln(), 1.0) } else { (0.0, 0.0) }
}

/// `if let Some(v) = safe_log(x) { v * v } else { 0.0 }`: ln² x for x > 0, ∂ = 2·ln x / x,
/// ∂² = 2·(1 − ln x) / x²; else 0.
#[differentiate(hessian)]
fn log_squared(x: f64) -> f64 {
    let (v, found) = safe_log(x);
    if found > 0.0 { v * v } else { 0.0 }
}

/// `let r = safe_log(x)?; Some(r.sqrt())` of a helper: √(ln x) where x > 0.
#[differentiate]
fn sqrt_log(x: f64) -> (f64, f64) {
    let (r, found) = safe_log(x);
    if found == 0.0 {
        return (0.0, 0.0);
    }
    (r.sqrt(), 1.0)
}

/// `match sqrt_log(x) { Some(v) => v + x, None => x }` on x > 1: √(ln x) + x,
/// ∂ = 1 / (2x·√(ln x)) + 1; else x, ∂ = 1.
#[differentiate]
fn sqrt_log_plus(x: f64) -> f64 {
    let (v, found) = sqrt_log(x);
    if found > 0.0 { v + x } else { x }
}

/// A loop summing `safe_log(xᵢ).unwrap_or(0.0)`: Σ ln xᵢ over xᵢ > 0, ∂/∂xᵢ = 1/xᵢ there,
/// 0 elsewhere.
#[differentiate]
fn log_sum(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for &v in x {
        s += safe_log_or(v, 0.0);
    }
    s
}

#[test]
fn option_helper_written_with_floats() {
    for &x in &[0.5f64, 2.0, -1.0] {
        let pos = x > 0.0;
        let (y, g) = log_or_zero_grad(x);
        close("unwrap_or", y, if pos { x * x.ln() } else { 0.0 }, TOL);
        close(
            "unwrap_or: grad",
            g,
            if pos { x.ln() + 1.0 } else { 0.0 },
            TOL,
        );
        fd("unwrap_or", log_or_zero, x, g);

        let (y, g) = log_squared_grad(x);
        let l = x.ln();
        close("if let", y, if pos { l * l } else { 0.0 }, TOL);
        close("if let: grad", g, if pos { 2.0 * l / x } else { 0.0 }, TOL);
        fd("if let", log_squared, x, g);
        let (_, _, hv) = log_squared_hvp(x, 0.5);
        let h = if pos { 2.0 * (1.0 - l) / (x * x) } else { 0.0 };
        close("if let: hvp", hv, 0.5 * h, TOL);
        forward("if let").one(x, log_squared, log_squared_jvp, log_squared_vjp);
    }
    for &x in &[1.5f64, 3.0, 0.5] {
        let (y, g) = sqrt_log_plus_grad(x);
        let (want, d) = if x > 1.0 {
            let r = x.ln().sqrt();
            (r + x, 1.0 / (2.0 * x * r) + 1.0)
        } else if x > 0.0 {
            // ln x < 0: √ of a negative number, NaN, as the `Option` program gives.
            (f64::NAN, f64::NAN)
        } else {
            (x, 1.0)
        };
        if want.is_nan() {
            assert!(y.is_nan(), "match: NaN where ln x < 0");
            continue;
        }
        close("match", y, want, TOL);
        close("match: grad", g, d, TOL);
        fd("match", sqrt_log_plus, x, g);
    }
    let x = vec![0.5, -1.0, 2.0, 3.0];
    let (y, g) = log_sum_grad(&x);
    close("loop", y, 0.5f64.ln() + 2.0f64.ln() + 3.0f64.ln(), TOL);
    close_all("loop: grad", &g, &[2.0, 0.0, 0.5, 1.0 / 3.0]);
    fd_vec("loop", log_sum, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 6. Methods of a data struct (no `#[derive(Differentiable)]`): run as written where their
//    arguments are data; given a differentiated argument, the `impl` block carries
//    `#[differentiate(wrt(..))]` naming the float arguments (`self` stays data).
// ---------------------------------------------------------------------------------------------

/// A grid of n points spaced h apart: data.
struct Grid {
    n: usize,
    h: f64,
}

impl Grid {
    fn point(&self, i: usize) -> f64 {
        i as f64 * self.h
    }
    fn count(&self) -> usize {
        self.n
    }
    fn spacing(&self) -> f64 {
        self.h
    }
}

/// The same data, with a method given a differentiated value.
struct Scale {
    h: f64,
}

#[differentiate(hessian, wrt(x))]
impl Scale {
    fn weight(&self, x: f64) -> f64 {
        x * x * self.h
    }
}

/// Σᵢ sin(x·tᵢ) over the points tᵢ = i·h of a local grid: ∂/∂x = Σᵢ tᵢ·cos(x·tᵢ).
#[differentiate]
fn grid_sum(x: f64) -> f64 {
    let g = Grid { n: 4, h: 0.3 };
    let mut s = 0.0;
    for i in 0..g.count() {
        s += (x * g.point(i)).sin();
    }
    s
}

/// x·t₂ + h of a grid given as data: ∂/∂x = 2h.
#[differentiate(wrt(x))]
fn grid_param(x: f64, g: &Grid) -> f64 {
    x * g.point(2) + g.spacing()
}

/// weight(x)·x = h·x³, the method differentiated in x: ∂/∂x = 3h·x², ∂² = 6h·x.
#[differentiate(hessian, wrt(x))]
fn scaled_cube(x: f64, s: &Scale) -> f64 {
    s.weight(x) * x
}

/// The same on a local: 0.5·x² + x, ∂/∂x = x + 1.
#[differentiate]
fn local_scale(x: f64) -> f64 {
    let s = Scale { h: 0.5 };
    s.weight(x) + x
}

#[test]
fn methods_of_a_data_struct() {
    for &x in &[0.5f64, -1.5, 2.0] {
        let (y, g) = grid_sum_grad(x);
        let ts = [0.0, 0.3, 0.6, 0.9f64];
        close("local grid", y, ts.iter().map(|t| (x * t).sin()).sum(), TOL);
        let want: f64 = ts.iter().map(|t| t * (x * t).cos()).sum();
        close("local grid: grad", g, want, TOL);
        fd("local grid", grid_sum, x, g);

        let grid = Grid { n: 5, h: 0.25 };
        let (y, g) = grid_param_grad(x, &grid);
        close("grid parameter", y, x * 0.5 + 0.25, TOL);
        close("grid parameter: grad", g, 0.5, TOL);
        fd("grid parameter", |x| grid_param(x, &grid), x, g);

        let s = Scale { h: 1.5 };
        let (y, g) = scaled_cube_grad(x, &s);
        close("method in wrt", y, 1.5 * x * x * x, TOL);
        close("method in wrt: grad", g, 4.5 * x * x, TOL);
        fd("method in wrt", |x| scaled_cube(x, &s), x, g);
        let (_, _, hv) = scaled_cube_hvp(x, &s, 0.5);
        close("method in wrt: hvp", hv, 0.5 * 9.0 * x, TOL);
        let (_, t) = scaled_cube_jvp(x, &s, 0.5);
        close("method in wrt: jvp", t, 0.5 * 4.5 * x * x, TOL);

        let (y, g) = local_scale_grad(x);
        close("method on a local", y, 0.5 * x * x + x, TOL);
        close("method on a local: grad", g, x + 1.0, TOL);
        fd("method on a local", local_scale, x, g);
    }
}
