//! Building vectors and arrays (`Vec::new()` + `push`, `Vec::with_capacity`, `vec![x; n]`,
//! `vec![a, b, c]`, `[a, b, c]`, `extend` with an iterator), variables declared first and
//! assigned in the arms of an `if` or `match` (as the ADBench bundle-adjustment code is written),
//! shape queries on arrays and `Option`s of discrete values.
//!
//! Each gradient is checked against the analytic derivative (stated beside the function) and
//! against central finite differences through `autodiff::check`.

// The functions are written as people write them (pushes after `with_capacity`, `vec!` of a
// few elements, declarations assigned later, `len() == 0`): that is what they test.
#![allow(
    clippy::needless_range_loop,
    clippy::vec_init_then_push,
    clippy::needless_late_init,
    clippy::useless_vec,
    clippy::len_zero
)]

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2, array};

mod common;
use common::*;

/// Prefix sums written into `vec![0.0; n + 1]` (an untyped literal), and into
/// `vec![0.0; x.len()]`: h[k+1] = h[k] + xₖ·w, s = Σ h[k] + Σ g[k] with g[k] = xₖ²:
/// ∂s/∂xₖ = w·(n − k) + 2xₖ, ∂s/∂w = Σ xₖ·(n − k).
#[differentiate]
fn prefix(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n + 1];
    for k in 0..n {
        h[k + 1] = h[k] + x[k] * w;
    }
    let mut g = vec![0.0; x.len()];
    for k in 0..n {
        g[k] = x[k] * x[k];
    }
    let mut s = 0.0;
    for k in 1..=n {
        s += h[k] + g[k - 1];
    }
    s
}

#[test]
fn vec_of_zeros_with_computed_lengths() {
    let x = [0.5, -1.0, 2.0, 0.25];
    let w = 1.5;
    let (_, (dx, dw)) = prefix_grad(&x, w);
    for k in 0..4 {
        close("∂x", dx[k], w * (4 - k) as f64 + 2.0 * x[k], TOL);
    }
    close("∂w", dw, (0..4).map(|k| x[k] * (4 - k) as f64).sum(), TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| prefix(&p.0, p.1),
        &(x.to_vec(), w),
        &(dx, dw),
    );
    assert!(r.passed(), "{r}");
}

/// `vec![x; n]` with a differentiated element, `vec![a, b, c]`, `Vec::with_capacity` + push,
/// and an array literal: v = [x, x, x], u = [x, y, x·y], p = [y², x], a = [x, 2y]:
/// s = Σv + Σu·(1, 2, 3) + p₀·p₁ + a₀·a₁ = 3x + x + 2y + 3xy + xy² + 2xy;
/// ∂s/∂x = 4 + 5y + y², ∂s/∂y = 2 + 5x + 2xy.
#[differentiate]
fn built(x: f64, y: f64, n: usize) -> f64 {
    let v = vec![x; n];
    let u = vec![x, y, x * y];
    let mut p = Vec::with_capacity(2);
    p.push(y * y);
    p.push(x);
    let a = [x, 2.0 * y];
    let mut s = 0.0;
    for e in v.iter() {
        s += e;
    }
    for (k, e) in u.iter().enumerate() {
        s += (k + 1) as f64 * e;
    }
    s + p[0] * p[1] + a[0] * a[1]
}

#[test]
fn vectors_and_arrays_of_differentiated_elements() {
    let (x, y) = (0.7, -1.3);
    let (v, d) = built_grad(x, y, 3);
    close(
        "value",
        v,
        3.0 * x + x + 2.0 * y + 3.0 * x * y + x * y * y + 2.0 * x * y,
        TOL,
    );
    close2(
        "built",
        d,
        (4.0 + 5.0 * y + y * y, 2.0 + 5.0 * x + 2.0 * x * y),
    );
    fd2("built", |x, y| built(x, y, 3), (x, y), d);
}

/// A vector pushed to in a loop, from `Vec::new()`, read back through an iterator:
/// v = [sin x₀, …], Σ i·vᵢ: ∂/∂xᵢ = i·cos xᵢ.
#[differentiate]
fn pushed(x: &[f64]) -> f64 {
    let mut v = Vec::new();
    for e in x {
        v.push(e.sin());
    }
    v.iter().enumerate().map(|(i, e)| i as f64 * e).sum()
}

#[test]
fn vec_new_and_push_in_a_loop() {
    let x = [0.2, 1.1, -0.4];
    let (_, d) = pushed_grad(&x);
    for i in 0..3 {
        close("∂x", d[i], i as f64 * x[i].cos(), TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| pushed(p), &x.to_vec(), &d);
    assert!(r.passed(), "{r}");
}

/// The residual of bundle adjustment's radial distortion, written as ADBench writes it:
/// `let (r0, r1, r2);` then assigned in both arms. With p = (x, y), the branch on x > 0 picks
/// (r0, r1) = (x·y, x) or (y, x²); r2 = r0 + r1; e = r0·r1·r2 · z with z decided by a `match`.
#[differentiate]
fn deferred(x: f64, y: f64) -> f64 {
    let (r0, r1, r2);
    if x > 0.0 {
        r0 = x * y;
        r1 = x;
    } else {
        r0 = y;
        r1 = x * x;
    }
    r2 = r0 + r1;
    let z;
    match (x > 1.0) as u8 {
        0 => z = 2.0,
        _ => z = y,
    }
    let w: f64;
    if y > 0.0 {
        w = x;
    } else {
        w = -x;
    }
    r0 * r1 * r2 * z + w
}

#[test]
fn declared_first_assigned_in_both_arms() {
    // x > 1, y > 0: e = x·y · x · (x·y + x) · y + x = x³y³ + x³y², so
    // ∂/∂x = 3x²y³ + 3x²y² + 1, ∂/∂y = 3x³y² + 2x³y.
    let (x, y) = (1.5, 0.8);
    let (_, d) = deferred_grad(x, y);
    close2(
        "x > 1",
        d,
        (
            3.0 * x * x * y * y * y + 3.0 * x * x * y * y + 1.0,
            3.0 * x * x * x * y * y + 2.0 * x * x * x * y,
        ),
    );
    fd2("x > 1", deferred, (x, y), d);
    // x ≤ 0, y < 0: e = y · x² · (y + x²) · 2 − x = 2x²y² + 2x⁴y − x, so
    // ∂/∂x = 4xy² + 8x³y − 1, ∂/∂y = 4x²y + 2x⁴.
    let (x, y) = (-0.6, -0.9);
    let (_, d) = deferred_grad(x, y);
    close2(
        "x ≤ 0",
        d,
        (
            4.0 * x * y * y + 8.0 * x * x * x * y - 1.0,
            4.0 * x * x * y + 2.0 * x.powi(4),
        ),
    );
    fd2("x ≤ 0", deferred, (x, y), d);
}

/// Shape queries and `Option`s of discrete values run as written: s = Σ aᵢⱼ · (rows + cols +
/// first dim + k), with k from an `Option<usize>`; ∂s/∂aᵢⱼ = rows + cols + rows + k, and
/// ∂s/∂vᵢ = len v.
#[differentiate]
fn shapes(a: &Array2<f64>, k: Option<usize>, v: &Array1<f64>) -> f64 {
    let (n, m) = (a.nrows(), a.ncols());
    let d = a.dim();
    let r = a.raw_dim();
    let first = a.shape()[0];
    let kk = k.unwrap_or(1) + k.map_or(0, |j| j) + k.unwrap_or_default();
    let empty = v.is_empty() || a.len() == 0;
    let scale = (n + m + first + kk + d.0 - r[0]) as f64;
    if empty {
        0.0
    } else {
        a.sum() * scale + v.len() as f64 * v.sum()
    }
}

#[test]
fn shape_queries_and_discrete_options() {
    let a = array![[1.0, 2.0, 3.0], [-1.0, 0.5, 0.25]];
    let v = array![1.0, -2.0];
    let (s, (da, dv)) = shapes_grad(&a, Some(3), &v);
    // rows + cols + first + (k + k + k) + rows − rows.
    let scale = (2 + 3 + 2 + 3 + 3 + 3) as f64;
    close("value", s, a.sum() * scale + 2.0 * v.sum(), TOL);
    for e in da.iter() {
        close("∂a", *e, scale, TOL);
    }
    for e in dv.iter() {
        close("∂v", *e, 2.0, TOL);
    }
    let (_, (da, _)) = shapes_grad(&a, None, &v);
    // k = None: 1 + 0 + 0.
    close("∂a, k = None", da[[0, 0]], (2 + 3 + 2 + 1) as f64, TOL);
}

/// `extend` with an iterator chain and with a slice: v = [x₀², x₁², …, x₀, x₁, …], Σ v:
/// ∂/∂xᵢ = 2xᵢ + 1.
#[differentiate]
fn extended(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = Vec::new();
    v.extend(x.iter().map(|e| e * e));
    v.extend(x);
    v.iter().sum()
}

#[test]
fn extend_with_a_chain() {
    let x = [1.0, -2.0, 0.5];
    let (s, d) = extended_grad(&x);
    close("value", s, 1.0 + 4.0 + 0.25 - 0.5, TOL);
    for i in 0..3 {
        close("∂x", d[i], 2.0 * x[i] + 1.0, TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| extended(p), &x.to_vec(), &d);
    assert!(r.passed(), "{r}");
}

/// `vec![]` filled by pushes in a loop (its elements' type comes from what is pushed): the
/// product of the elements at even positions, ∂/∂xᵢ = Π / xᵢ there, 0 elsewhere.
#[differentiate]
fn empty_vec_then_push(x: &[f64]) -> f64 {
    let mut out = vec![];
    for (i, v) in x.iter().enumerate() {
        if i % 2 == 0 {
            out.push(*v);
        }
    }
    out.iter().product()
}

#[test]
fn an_empty_vec_literal_filled_in_a_loop() {
    let x = [1.5, 2.0, -3.0, 4.0, 0.5];
    let (p, d) = empty_vec_then_push_grad(&x);
    let expected_p = 1.5 * -3.0 * 0.5;
    close("value", p, expected_p, TOL);
    for i in 0..5 {
        let e = if i % 2 == 0 { expected_p / x[i] } else { 0.0 };
        close("∂x", d[i], e, TOL);
    }
    let r = gradcheck(|p: &Vec<f64>| empty_vec_then_push(p), &x.to_vec(), &d);
    assert!(r.passed(), "{r}");
}

/// A `&mut` buffer pushed to, printed and checked by macros, then read: r = 3x², dr/dx = 6x.
#[differentiate]
fn buffer_in_macros(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * x);
    println!("{:?}", out);
    assert!(!out.is_empty());
    let n = out.len();
    out[n - 1] * 3.0
}

#[test]
fn a_mut_buffer_named_in_macros() {
    let mut v = vec![1.0];
    let (r, (dx, _)) = buffer_in_macros_grad(1.5, &mut v);
    close("value", r, 6.75, TOL);
    close("d/dx", dx, 9.0, TOL);
    assert_eq!(v, [1.0, 2.25]);
    fd("buffer", |x| buffer_in_macros(x, &mut vec![1.0]), 1.5, dx);
}

/// Vectors and strings compared (by reference, as Rust compares them) before they are used
/// again: s = Σ x when the labels are as expected and the name is "sum", plus the number of
/// labels when x₀ < x₁; ∂s/∂xᵢ = 1 on that branch.
#[differentiate]
fn compared(x: &[f64], labels: Vec<usize>, name: &str) -> f64 {
    let expected = vec![0, 1];
    let mut s = 0.0;
    if labels == expected && name == "sum" {
        s = x.iter().sum();
    }
    let k = labels.len();
    if x[0] < x[1] { s + k as f64 } else { s }
}

#[test]
fn comparisons_of_vectors_and_strings() {
    let x = [1.0, 2.0];
    let (v, d) = compared_grad(&x, vec![0, 1], "sum");
    close("value", v, 5.0, TOL);
    assert_eq!(d, vec![1.0, 1.0]);
    let (v, d) = compared_grad(&x, vec![1, 1], "sum");
    close("value, other labels", v, 2.0, TOL);
    assert_eq!(d, vec![0.0, 0.0]);
}
