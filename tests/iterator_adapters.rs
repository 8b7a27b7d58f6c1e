//! Iterator adapters Rust engineers reach for without thinking, in differentiated functions:
//! `take_while` and `skip_while`, `chain` (of a `rev()`, of `std::iter::once(a)`, of ranges, and
//! `zip` of a chain), `flat_map` and `flatten` (over `chunks`, `windows`, rows of a
//! `&[Vec<f64>]`, arrays, and ranges), `scan` (running sums, exponential moving averages,
//! cumulative products), and `for c in v.chunks_mut(k)` loops writing the chunk.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences; each value against the plain function's; the tangent of `_jvp`
//! against the analytic gradient along a direction; the Hessian-vector product of `_hvp`
//! against central differences of the gradient. Edge cases: predicates never true, empty
//! slices. One generic `T: Float` function and one `f32` function use every adapter.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::useless_vec,
    clippy::unnecessary_fold,
    clippy::redundant_closure,
    clippy::map_flatten,
    clippy::iter_skip_next
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use num_traits::Float;

mod common;
use common::*;

const X: [f64; 6] = [0.5, -0.3, 1.2, 2.0, 0.7, -1.1];

/// A gradient with respect to `(x, a)`.
type G = (Vec<f64>, f64);

/// `f(x, a)` through its generated functions: the value of `_grad` against `f`, the gradient
/// against `want` (analytic) and central differences, the tangent of `_jvp` along a direction
/// against `want · v`, and `_hvp`: its value and gradient against `f` and `want`, its
/// Hessian-vector product against central differences of the gradient along the direction.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
#[track_caller]
fn check(
    what: &str,
    x: &[f64],
    a: f64,
    f: impl Fn(&[f64], f64) -> f64,
    grad: impl Fn(&[f64], f64) -> (f64, G),
    jvp: impl Fn(&[f64], f64, &Vec<f64>, f64) -> (f64, f64),
    hvp: impl Fn(&[f64], f64, &Vec<f64>, f64) -> (f64, G, G),
    want: G,
) {
    let y = f(x, a);
    let (v, (gx, ga)) = grad(x, a);
    close(&format!("{what}: value"), v, y, TOL);
    close_all(&format!("{what}: ∂x"), &gx, &want.0);
    close(&format!("{what}: ∂a"), ga, want.1, TOL);
    let r = gradcheck(|p: &G| f(&p.0, p.1), &(x.to_vec(), a), &(gx.clone(), ga));
    assert!(r.passed(), "{what}: {r}");

    let (dx, da) = (data(x.len(), 3.0), 0.7);
    let (v, t) = jvp(x, a, &dx, da);
    close(&format!("{what}: jvp value"), v, y, TOL);
    let dot = want.0.iter().zip(&dx).map(|(g, d)| g * d).sum::<f64>() + want.1 * da;
    close(&format!("{what}: jvp tangent"), t, dot, TOL);

    let (v, (hgx, hga), (hx, ha)) = hvp(x, a, &dx, da);
    close(&format!("{what}: hvp value"), v, y, TOL);
    close_all(&format!("{what}: hvp ∂x"), &hgx, &want.0);
    close(&format!("{what}: hvp ∂a"), hga, want.1, TOL);
    let h = 1e-6;
    let at = |s: f64| {
        let xs: Vec<f64> = x.iter().zip(&dx).map(|(x, d)| x + s * d).collect();
        grad(&xs, a + s * da).1
    };
    let (up, down) = (at(h), at(-h));
    for k in 0..x.len() {
        let fd = (up.0[k] - down.0[k]) / (2.0 * h);
        close(&format!("{what}: (H v)x[{k}]"), hx[k], fd, 1e-6);
    }
    close(
        &format!("{what}: (H v)a"),
        ha,
        (up.1 - down.1) / (2.0 * h),
        1e-6,
    );
}

/// `check` of the function `$f` with its generated `_grad`, `_jvp` and `_hvp`.
macro_rules! check {
    ($f:ident, $grad:ident, $jvp:ident, $hvp:ident, $x:expr, $a:expr, $want:expr) => {
        check(
            stringify!($f),
            $x,
            $a,
            |x, a| $f(x, a),
            |x, a| $grad(x, a),
            |x, a, dx, da| $jvp(x, a, dx, da),
            |x, a, dx, da| $hvp(x, a, dx, da),
            $want,
        )
    };
}

// ---------------------------------------------------------------------------------------------
// take_while
// ---------------------------------------------------------------------------------------------

/// c·Σ_{i<m} x_i² over the prefix of items below c: ∂x_i = 2c·x_i (i < m), ∂c = Σ_{i<m} x_i².
#[differentiate(hessian)]
fn tw_map_sum(x: &[f64], c: f64) -> f64 {
    x.iter().take_while(|v| **v < c).map(|v| v * v * c).sum()
}

/// a·Σ_{i<m} (i+1)·x_i over the first four items while they exceed −1: ∂x_i = a(i+1),
/// ∂a = Σ (i+1)·x_i.
#[differentiate(hessian)]
fn tw_enumerate_fold(x: &[f64], a: f64) -> f64 {
    x.iter()
        .enumerate()
        .take_while(|(i, v)| *i < 4 && **v > -1.0)
        .fold(0.0, |acc, (i, &v)| acc + a * v * (i as f64 + 1.0))
}

/// Σ_{k<m} (k+1)·sin(a·x_k) while |x_k| < 1.5, the position counted after `take_while`:
/// ∂x_k = (k+1)·a·cos(a x_k), ∂a = Σ (k+1)·x_k·cos(a x_k).
#[differentiate(hessian)]
fn tw_for_enumerate(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for (k, &v) in x.iter().take_while(|v| v.abs() < 1.5).enumerate() {
        s += (v * a).sin() * (k + 1) as f64;
    }
    s
}

/// m·a·x_{m−1} with m the length of the prefix below 1.5 (`count`, `last`): ∂x_{m−1} = m·a,
/// ∂a = m·x_{m−1}.
#[differentiate(hessian)]
fn tw_count_last(x: &[f64], a: f64) -> f64 {
    let n = x.iter().take_while(|v| **v < 1.5).count();
    let l = *x.iter().take_while(|v| **v < 1.5).last().unwrap();
    n as f64 * l * a
}

/// Σ_{i<m} (a·x_i)² over the prefix whose a·x_i exceed −1, collected first: ∂x_i = 2a²x_i,
/// ∂a = 2a·Σ x_i².
#[differentiate(hessian)]
fn tw_collect(x: &[f64], a: f64) -> f64 {
    let v: Vec<f64> = x.iter().map(|v| v * a).take_while(|v| *v > -1.0).collect();
    v.iter().map(|w| w * w).sum()
}

fn prefix(x: &[f64], keep: impl Fn(f64) -> bool) -> usize {
    x.iter().position(|&v| !keep(v)).unwrap_or(x.len())
}

#[test]
fn take_while_in_sums_folds_loops_counts_and_collections() {
    for (x, c) in [(&X[..], 1.0), (&X[..], 3.0), (&X[..], -5.0), (&[][..], 1.0)] {
        // c = −5: the predicate is never true, nothing is taken.
        let m = prefix(x, |v| v < c);
        let gx = (0..x.len())
            .map(|i| if i < m { 2.0 * c * x[i] } else { 0.0 })
            .collect();
        let gc = x[..m].iter().map(|v| v * v).sum();
        check!(
            tw_map_sum,
            tw_map_sum_grad,
            tw_map_sum_jvp,
            tw_map_sum_hvp,
            x,
            c,
            (gx, gc)
        );
    }
    assert_eq!(tw_map_sum(&X, -5.0), 0.0);

    let a = 0.8;
    let m = 4;
    let gx = (0..6).map(|i| if i < m { a * (i as f64 + 1.0) } else { 0.0 });
    let ga = (0..m).map(|i| (i as f64 + 1.0) * X[i]).sum();
    check!(
        tw_enumerate_fold,
        tw_enumerate_fold_grad,
        tw_enumerate_fold_jvp,
        tw_enumerate_fold_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let m = prefix(&X, |v| v.abs() < 1.5);
    assert_eq!(m, 3);
    let gx = (0..6).map(|k| {
        if k < m {
            (k + 1) as f64 * a * (a * X[k]).cos()
        } else {
            0.0
        }
    });
    let ga = (0..m)
        .map(|k| (k + 1) as f64 * X[k] * (a * X[k]).cos())
        .sum();
    check!(
        tw_for_enumerate,
        tw_for_enumerate_grad,
        tw_for_enumerate_jvp,
        tw_for_enumerate_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let m = prefix(&X, |v| v < 1.5);
    let mut gx = vec![0.0; 6];
    gx[m - 1] = m as f64 * a;
    let ga = m as f64 * X[m - 1];
    check!(
        tw_count_last,
        tw_count_last_grad,
        tw_count_last_jvp,
        tw_count_last_hvp,
        &X,
        a,
        (gx, ga)
    );

    for a in [1.0, 0.5] {
        // a = 1: the prefix ends before x_5 = −1.1; a = 0.5: all is kept.
        let m = prefix(&X, |v| v * a > -1.0);
        let gx = (0..6).map(|i| if i < m { 2.0 * a * a * X[i] } else { 0.0 });
        let ga = 2.0 * a * X[..m].iter().map(|v| v * v).sum::<f64>();
        check!(
            tw_collect,
            tw_collect_grad,
            tw_collect_jvp,
            tw_collect_hvp,
            &X,
            a,
            (gx.collect(), ga)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// skip_while
// ---------------------------------------------------------------------------------------------

/// c·Σ_{i≥m} x_i² after the leading items below c (a later item below c is kept):
/// ∂x_i = 2c·x_i (i ≥ m), ∂c = Σ_{i≥m} x_i².
#[differentiate(hessian)]
fn sw_map_sum(x: &[f64], c: f64) -> f64 {
    x.iter().skip_while(|v| **v < c).map(|v| v * v * c).sum()
}

/// a·Σ_k (k+1)·x_{m+k} after the leading positive items, counted after `skip_while`:
/// ∂x_{m+k} = a(k+1), ∂a = Σ (k+1)·x_{m+k}.
#[differentiate(hessian)]
fn sw_for_enumerate(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for (k, v) in x.iter().skip_while(|v| **v > 0.0).enumerate() {
        s += a * v * (k + 1) as f64;
    }
    s
}

/// Π_{i≥m} (1 + a·x_i) over the items after the leading ones whose index is below 2, by
/// `fold`: ∂x_i = a·P/(1 + a x_i), ∂a = P·Σ x_i/(1 + a x_i).
#[differentiate(hessian)]
fn sw_enumerate_fold(x: &[f64], a: f64) -> f64 {
    x.iter()
        .enumerate()
        .skip_while(|(i, _)| *i < 2)
        .fold(1.0, |p, (_, v)| p * (1.0 + a * v))
}

#[test]
fn skip_while_in_sums_loops_and_folds() {
    for (x, c) in [(&X[..], 1.0), (&X[..], -5.0), (&X[..], 5.0), (&[][..], 1.0)] {
        // c = −5: never true, nothing skipped; c = 5: everything skipped.
        let m = prefix(x, |v| v < c);
        let gx = (0..x.len())
            .map(|i| if i >= m { 2.0 * c * x[i] } else { 0.0 })
            .collect();
        let gc = x[m..].iter().map(|v| v * v).sum();
        check!(
            sw_map_sum,
            sw_map_sum_grad,
            sw_map_sum_jvp,
            sw_map_sum_hvp,
            x,
            c,
            (gx, gc)
        );
    }
    // The later item below c (0.7) is kept.
    close(
        "kept",
        sw_map_sum(&X, 1.0),
        (1.44 + 4.0 + 0.49 + 1.21) * 1.0,
        TOL,
    );

    let a = 0.6;
    let m = prefix(&X, |v| v > 0.0);
    let gx = (0..6).map(|i| if i >= m { a * (i - m + 1) as f64 } else { 0.0 });
    let ga = (m..6).map(|i| (i - m + 1) as f64 * X[i]).sum();
    check!(
        sw_for_enumerate,
        sw_for_enumerate_grad,
        sw_for_enumerate_jvp,
        sw_for_enumerate_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let p: f64 = X[2..].iter().map(|v| 1.0 + a * v).product();
    let gx = (0..6).map(|i| {
        if i >= 2 {
            a * p / (1.0 + a * X[i])
        } else {
            0.0
        }
    });
    let ga = p * X[2..].iter().map(|v| v / (1.0 + a * v)).sum::<f64>();
    check!(
        sw_enumerate_fold,
        sw_enumerate_fold_grad,
        sw_enumerate_fold_jvp,
        sw_enumerate_fold_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

// ---------------------------------------------------------------------------------------------
// chain
// ---------------------------------------------------------------------------------------------

/// Σ_i (i+1)·x_i + Σ_j (n+j+1)·a·x_{n−1−j} + (2n+1)·a: `x`, then `x` reversed and scaled,
/// then `a` alone, enumerated: ∂x_k = (k+1) + a·(2n − k), ∂a = Σ_j (n+j+1)·x_{n−1−j} + 2n+1.
#[differentiate(hessian)]
fn chain_rev_once(x: &[f64], a: f64) -> f64 {
    x.iter()
        .copied()
        .chain(x.iter().rev().map(|v| v * a))
        .chain(std::iter::once(a))
        .enumerate()
        .map(|(i, v)| v * (i as f64 + 1.0))
        .sum()
}

/// Σ_{i ∈ {0,1}∪{4..n}} sin(a·x_i) over two chained ranges: ∂x_i = a·cos(a x_i) there,
/// ∂a = Σ x_i·cos(a x_i).
#[differentiate(hessian)]
fn chain_ranges(x: &[f64], a: f64) -> f64 {
    (0..2)
        .chain(4..x.len())
        .map(|i| x[i] * a)
        .fold(0.0, |s, v| s + v.sin())
}

/// Σ_i (i+1)·x_i + 7a (the chain `x, a` zipped with 1..=7) + Σ_{k<5} (k+1)·x_{n−1−k} (1..=5
/// zipped with `x` reversed then `a`: the zip stops first): ∂x_i = (i+1) + (n−i) for
/// n−1−i < 5, ∂a = 7.
#[differentiate(hessian)]
fn chain_zip(x: &[f64], a: f64) -> f64 {
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
    let head: f64 = x
        .iter()
        .chain(std::iter::once(&a))
        .zip(w.iter())
        .map(|(p, q)| p * q)
        .sum();
    let tail: f64 = w[..5]
        .iter()
        .zip(x.iter().rev().chain([a].iter()))
        .map(|(q, p)| q * p)
        .sum();
    head + tail
}

/// Σ e^{a·x_i} over x[..2] then x[4..], in a `for` loop: ∂x_i = a·e^{a x_i} there,
/// ∂a = Σ x_i·e^{a x_i}.
#[differentiate(hessian)]
fn chain_for(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for &v in x[..2].iter().chain(x[4..].iter()) {
        s += (a * v).exp();
    }
    s
}

#[test]
fn chain_of_rev_once_ranges_and_zips() {
    let (a, n) = (0.9, 6usize);
    let gx = (0..n).map(|k| (k + 1) as f64 + a * (2 * n - k) as f64);
    let ga = (0..n)
        .map(|j| (n + j + 1) as f64 * X[n - 1 - j])
        .sum::<f64>()
        + (2 * n + 1) as f64;
    check!(
        chain_rev_once,
        chain_rev_once_grad,
        chain_rev_once_jvp,
        chain_rev_once_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
    // Of an empty slice, only `a` is left: (0 + 1)·a.
    let (v, (g, ga)) = chain_rev_once_grad(&[], a);
    close("empty chain", v, a, TOL);
    assert!(g.is_empty());
    close("empty chain ∂a", ga, 1.0, TOL);

    let idx = [0, 1, 4, 5];
    let gx = (0..n).map(|i| {
        if idx.contains(&i) {
            a * (a * X[i]).cos()
        } else {
            0.0
        }
    });
    let ga = idx.iter().map(|&i| X[i] * (a * X[i]).cos()).sum();
    check!(
        chain_ranges,
        chain_ranges_grad,
        chain_ranges_jvp,
        chain_ranges_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let gx = (0..n).map(|i| (i + 1) as f64 + if n - 1 - i < 5 { (n - i) as f64 } else { 0.0 });
    check!(
        chain_zip,
        chain_zip_grad,
        chain_zip_jvp,
        chain_zip_hvp,
        &X,
        a,
        (gx.collect(), 7.0)
    );

    let gx = (0..n).map(|i| {
        if idx.contains(&i) {
            a * (a * X[i]).exp()
        } else {
            0.0
        }
    });
    let ga = idx.iter().map(|&i| X[i] * (a * X[i]).exp()).sum();
    check!(
        chain_for,
        chain_for_grad,
        chain_for_jvp,
        chain_for_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

// ---------------------------------------------------------------------------------------------
// flat_map and flatten
// ---------------------------------------------------------------------------------------------

/// Σ_i sin(a·(j_i+1)·x_i), j_i the position of x_i in its chunk of 4: ∂x_i = a(j_i+1)·cos(..),
/// ∂a = Σ (j_i+1)·x_i·cos(..).
#[differentiate(hessian)]
fn fm_chunks(x: &[f64], a: f64) -> f64 {
    x.chunks(4)
        .flat_map(|c| c.iter().enumerate().map(|(j, v)| v * (j + 1) as f64))
        .map(|v| (v * a).sin())
        .sum()
}

/// a·Σ m_i·x_i², m_i the number of windows of 2 holding x_i (1 at the ends, else 2):
/// ∂x_i = 2a·m_i·x_i, ∂a = Σ m_i·x_i².
#[differentiate(hessian)]
fn fm_windows_flatten(x: &[f64], a: f64) -> f64 {
    x.windows(2).flatten().map(|v| v * v * a).sum()
}

/// Σ_{i<2, j<3} (x_{3i+j}·(j + a))²: ∂x_k = 2x_k(j+a)², ∂a = Σ 2x_k²(j+a), k = 3i+j.
#[differentiate(hessian)]
fn fm_ranges(x: &[f64], a: f64) -> f64 {
    (0..2)
        .flat_map(|i| (0..3).map(move |j| x[i * 3 + j] * (j as f64 + a)))
        .map(|t| t * t)
        .sum()
}

/// Σ_i (x_i + (a·x_i)²) over the items of `[v, a·v]` flattened, in a `for` loop:
/// ∂x_i = 1 + 2a²x_i, ∂a = 2a·Σ x_i².
#[differentiate(hessian)]
fn fm_arrays_for(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for (k, w) in x.iter().flat_map(|&v| [v, a * v]).enumerate() {
        s += if k % 2 == 0 { w } else { w * w };
    }
    s
}

/// a·Σ r_j² over the rows: ∂r_j = 2a·r_j, ∂a = Σ r_j².
#[differentiate]
fn fm_rows(rows: &[Vec<f64>], a: f64) -> f64 {
    rows.iter()
        .flat_map(|r| r.iter())
        .map(|v| v * v)
        .sum::<f64>()
        * a
}

#[test]
fn flat_map_over_chunks_windows_ranges_arrays_and_rows() {
    let a = 0.7;
    let j = |i: usize| (i % 4 + 1) as f64;
    let gx = (0..6).map(|i| a * j(i) * (a * j(i) * X[i]).cos());
    let ga = (0..6).map(|i| j(i) * X[i] * (a * j(i) * X[i]).cos()).sum();
    check!(
        fm_chunks,
        fm_chunks_grad,
        fm_chunks_jvp,
        fm_chunks_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let m = |i: usize| if i == 0 || i == 5 { 1.0 } else { 2.0 };
    let gx = (0..6).map(|i| 2.0 * a * m(i) * X[i]);
    let ga = (0..6).map(|i| m(i) * X[i] * X[i]).sum();
    check!(
        fm_windows_flatten,
        fm_windows_flatten_grad,
        fm_windows_flatten_jvp,
        fm_windows_flatten_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
    // One element: no window of 2, nothing flattened.
    let (v, (g, ga)) = fm_windows_flatten_grad(&[1.5], a);
    assert_eq!((v, g, ga), (fm_windows_flatten(&[1.5], a), vec![0.0], 0.0));

    let j = |k: usize| (k % 3) as f64;
    let gx = (0..6).map(|k| 2.0 * X[k] * (j(k) + a).powi(2));
    let ga = (0..6).map(|k| 2.0 * X[k] * X[k] * (j(k) + a)).sum();
    check!(
        fm_ranges,
        fm_ranges_grad,
        fm_ranges_jvp,
        fm_ranges_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let gx = (0..6).map(|i| 1.0 + 2.0 * a * a * X[i]);
    let ga = 2.0 * a * X.iter().map(|v| v * v).sum::<f64>();
    check!(
        fm_arrays_for,
        fm_arrays_for_grad,
        fm_arrays_for_jvp,
        fm_arrays_for_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );

    let rows = vec![vec![0.5, -1.0], vec![], vec![2.0, 0.25, 1.5]];
    let (v, (gr, ga)) = fm_rows_grad(&rows, a);
    close("rows value", v, fm_rows(&rows, a), TOL);
    for (g, r) in gr.iter().zip(&rows) {
        close_all(
            "rows ∂r",
            g,
            &r.iter().map(|v| 2.0 * a * v).collect::<Vec<_>>(),
        );
    }
    close(
        "rows ∂a",
        ga,
        rows.iter().flatten().map(|v| v * v).sum(),
        TOL,
    );
    let r = gradcheck(
        |p: &(Vec<Vec<f64>>, f64)| fm_rows(&p.0, p.1),
        &(rows.clone(), a),
        &(gr, ga),
    );
    assert!(r.passed(), "rows: {r}");
    let dr = vec![vec![1.0, 0.5], vec![], vec![-1.0, 2.0, 0.5]];
    let (v, t) = fm_rows_jvp(&rows, a, &dr, 0.3);
    close("rows jvp value", v, fm_rows(&rows, a), TOL);
    let sq: f64 = rows.iter().flatten().map(|v| v * v).sum();
    let dsq: f64 = rows
        .iter()
        .flatten()
        .zip(dr.iter().flatten())
        .map(|(v, d)| 2.0 * v * d)
        .sum();
    close("rows jvp tangent", t, a * dsq + 0.3 * sq, TOL);
}

// ---------------------------------------------------------------------------------------------
// scan
// ---------------------------------------------------------------------------------------------

/// a·Σ_k S_k², S_k = Σ_{i≤k} x_i the running sums collected: ∂x_i = 2a·Σ_{k≥i} S_k,
/// ∂a = Σ S_k².
#[differentiate(hessian)]
fn scan_running_sum(x: &[f64], a: f64) -> f64 {
    let c: Vec<f64> = x
        .iter()
        .scan(0.0, |acc, &v| {
            *acc += v;
            Some(*acc)
        })
        .collect();
    c.iter().map(|s| s * s * a).sum()
}

/// Σ_k m_k, the exponential moving average m_k = a·x_k + (1−a)·m_{k−1} from m_{−1} = x_0.
/// m_k = (1−a)^{k+1}x_0 + Σ_{i≤k} a(1−a)^{k−i}x_i, so ∂x_i = Σ_{k≥i} a(1−a)^{k−i}
/// (+ Σ_k (1−a)^{k+1} for i = 0); ∂a = Σ_k dm_k with dm_k = x_k − m_{k−1} + (1−a)·dm_{k−1}.
#[differentiate(hessian)]
fn scan_ema(x: &[f64], a: f64) -> f64 {
    x.iter()
        .scan(x[0], |m, &v| {
            *m = a * v + (1.0 - a) * *m;
            Some(*m)
        })
        .sum()
}

/// Σ_k P_k, P_k = Π_{i≤k} (1 + a·x_i) the cumulative products: ∂x_i = a/(1+a x_i)·Σ_{k≥i} P_k,
/// ∂a = Σ_k P_k·Σ_{i≤k} x_i/(1 + a x_i).
#[differentiate(hessian)]
fn scan_cumprod(x: &[f64], a: f64) -> f64 {
    x.iter()
        .scan(1.0, |p: &mut f64, &v| {
            *p *= 1.0 + a * v;
            Some(*p)
        })
        .sum::<f64>()
}

#[test]
fn scan_for_running_sums_moving_averages_and_products() {
    let a = 0.4;
    let s: Vec<f64> = X
        .iter()
        .scan(0.0, |s, v| Some(*s + v).inspect(|t| *s = *t))
        .collect();
    let gx = (0..6).map(|i| 2.0 * a * s[i..].iter().sum::<f64>());
    let ga = s.iter().map(|s| s * s).sum();
    check!(
        scan_running_sum,
        scan_running_sum_grad,
        scan_running_sum_jvp,
        scan_running_sum_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
    let (v, (g, ga)) = scan_running_sum_grad(&[], a);
    assert_eq!((v, g, ga), (scan_running_sum(&[], a), vec![], 0.0));

    let n = X.len();
    let b = 1.0 - a;
    let mut gx: Vec<f64> = (0..n)
        .map(|i| (i..n).map(|k| a * b.powi((k - i) as i32)).sum())
        .collect();
    gx[0] += (0..n).map(|k| b.powi(k as i32 + 1)).sum::<f64>();
    let (mut m, mut dm, mut ga) = (X[0], 0.0, 0.0);
    for &v in &X {
        dm = v - m + b * dm;
        m = a * v + b * m;
        ga += dm;
    }
    check!(
        scan_ema,
        scan_ema_grad,
        scan_ema_jvp,
        scan_ema_hvp,
        &X,
        a,
        (gx, ga)
    );

    let p: Vec<f64> = (0..n)
        .map(|k| X[..=k].iter().map(|v| 1.0 + a * v).product())
        .collect();
    let gx = (0..n).map(|i| a / (1.0 + a * X[i]) * p[i..].iter().sum::<f64>());
    let ga = (0..n)
        .map(|k| p[k] * X[..=k].iter().map(|v| v / (1.0 + a * v)).sum::<f64>())
        .sum();
    check!(
        scan_cumprod,
        scan_cumprod_grad,
        scan_cumprod_jvp,
        scan_cumprod_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

// ---------------------------------------------------------------------------------------------
// chunks_mut
// ---------------------------------------------------------------------------------------------

/// Pairs (p, q) = (x_{2k}, x_{2k+1}) of a local copy become (a·p, q + a·p), then Σ v²:
/// ∂p = 2a²p + 2a(q + ap), ∂q = 2(q + ap), ∂a = Σ 2ap² + 2p(q + ap).
#[differentiate(hessian)]
fn chunks_mut_local(x: &[f64], a: f64) -> f64 {
    let mut v = x.to_vec();
    for c in v.chunks_mut(2) {
        c[0] *= a;
        c[1] += c[0];
    }
    v.iter().map(|t| t * t).sum()
}

/// Pairs (p, q) of the buffer become (a·p + q, (k+1)·p), k the pair's position; a last odd
/// element is left alone (`chunks_exact_mut`).
#[differentiate(hessian)]
fn pairs_into(v: &mut [f64], a: f64) {
    for (k, c) in v.chunks_exact_mut(2).enumerate() {
        let t = c[0];
        c[0] = t * a + c[c.len() - 1];
        c[1] = t * (k as f64 + 1.0);
    }
}

/// Σ v² after `pairs_into` on a copy: ∂p = 2a(ap + q) + 2(k+1)²p, ∂q = 2(ap + q),
/// ∂a = Σ 2p(ap + q).
#[differentiate(hessian)]
fn chunks_mut_param(x: &[f64], a: f64) -> f64 {
    let mut v = x.to_vec();
    pairs_into(&mut v, a);
    v.iter().map(|t| t * t).sum()
}

#[test]
fn chunks_mut_loops_write_a_local_and_a_mut_slice_parameter() {
    let a = 1.3;
    let mut gx = vec![0.0; 6];
    let mut ga = 0.0;
    for k in 0..3 {
        let (p, q) = (X[2 * k], X[2 * k + 1]);
        gx[2 * k] = 2.0 * a * a * p + 2.0 * a * (q + a * p);
        gx[2 * k + 1] = 2.0 * (q + a * p);
        ga += 2.0 * a * p * p + 2.0 * p * (q + a * p);
    }
    check!(
        chunks_mut_local,
        chunks_mut_local_grad,
        chunks_mut_local_jvp,
        chunks_mut_local_hvp,
        &X,
        a,
        (gx, ga)
    );

    // Five elements: two pairs and the last one, left alone.
    let x = &X[..5];
    let mut gx = vec![0.0; 5];
    let mut ga = 0.0;
    for k in 0..2 {
        let (p, q) = (x[2 * k], x[2 * k + 1]);
        let w = (k + 1) as f64;
        gx[2 * k] = 2.0 * a * (a * p + q) + 2.0 * w * w * p;
        gx[2 * k + 1] = 2.0 * (a * p + q);
        ga += 2.0 * p * (a * p + q);
    }
    gx[4] = 2.0 * x[4];
    check!(
        chunks_mut_param,
        chunks_mut_param_grad,
        chunks_mut_param_jvp,
        chunks_mut_param_hvp,
        x,
        a,
        (gx, ga)
    );
}

/// Two sweeps over the pairs of a fixed-size array: pair k becomes (a·p, a·p·q), then
/// (2a·p, 3a·p·q) with (p, q) = (x_{2k}, x_{2k+1}). Summed: ∂p = 2a + 3a·q, ∂q = 3a·p,
/// ∂a = Σ 2p + 3p·q. The outer loop did not carry `buf`: value and gradient were 0.
#[differentiate(hessian)]
fn chunks_mut_swept(x: &[f64], a: f64) -> f64 {
    let mut buf = [0.0; 6];
    for _ in 0..2 {
        for (k, c) in buf.chunks_mut(2).enumerate() {
            c[0] += a * x[2 * k];
            c[1] += c[0] * x[2 * k + 1];
        }
    }
    buf.iter().sum()
}

/// Pairs of a copy become (p, q·p·a) when a > 0: ∂p = 1 + a·q, ∂q = a·p, ∂a = Σ p·q. The
/// branch did not carry `v` (rustc's E0382 in the generated code).
#[differentiate(hessian)]
fn chunks_mut_in_a_branch(x: &[f64], a: f64) -> f64 {
    let mut v = x.to_vec();
    if a > 0.0 {
        for c in v.chunks_exact_mut(2) {
            c[1] *= c[0] * a;
        }
    }
    v.iter().sum()
}

#[test]
fn chunks_mut_loops_inside_a_loop_or_a_branch() {
    let a = 1.3;
    let mut gx = vec![0.0; 6];
    let mut ga = 0.0;
    for k in 0..3 {
        let (p, q) = (X[2 * k], X[2 * k + 1]);
        gx[2 * k] = 2.0 * a + 3.0 * a * q;
        gx[2 * k + 1] = 3.0 * a * p;
        ga += 2.0 * p + 3.0 * p * q;
    }
    check!(
        chunks_mut_swept,
        chunks_mut_swept_grad,
        chunks_mut_swept_jvp,
        chunks_mut_swept_hvp,
        &X,
        a,
        (gx, ga)
    );
    let mut gx = vec![0.0; 6];
    let mut ga = 0.0;
    for k in 0..3 {
        let (p, q) = (X[2 * k], X[2 * k + 1]);
        gx[2 * k] = 1.0 + a * q;
        gx[2 * k + 1] = a * p;
        ga += p * q;
    }
    check!(
        chunks_mut_in_a_branch,
        chunks_mut_in_a_branch_grad,
        chunks_mut_in_a_branch_jvp,
        chunks_mut_in_a_branch_hvp,
        &X,
        a,
        (gx, ga)
    );
}

// ---------------------------------------------------------------------------------------------
// Generic and f32
// ---------------------------------------------------------------------------------------------

/// Every adapter at once over a generic float:
/// Σ_{i<m} x_i² (take_while below c) + Σ_{i≥m'} c·x_i (skip_while below 0) + Σ_i S_i
/// (running sums by `scan`) + Σ_i x_i·(j_i+1) (`flat_map` over chunks of 2) + Σ x_i + c
/// (`chain` with `once(c)`).
#[differentiate(hessian)]
fn every_adapter<T: Float>(x: &[T], c: T) -> T {
    let one = T::one();
    let taken = x
        .iter()
        .take_while(|v| **v < c)
        .fold(T::zero(), |s, &v| s + v * v);
    let skipped = x
        .iter()
        .skip_while(|v| **v < T::zero())
        .fold(T::zero(), |s, &v| s + c * v);
    let running = x
        .iter()
        .scan(T::zero(), |acc, &v| {
            *acc = *acc + v;
            Some(*acc)
        })
        .fold(T::zero(), |s, v| s + v);
    let chunked = x
        .chunks(2)
        .flat_map(|p| {
            p.iter()
                .enumerate()
                .map(move |(j, &v)| v * (T::from(j).unwrap() + one))
        })
        .fold(T::zero(), |s, v| s + v);
    let chained = x
        .iter()
        .copied()
        .chain(std::iter::once(c))
        .fold(T::zero(), |s, v| s + v);
    taken + skipped + running + chunked + chained
}

/// The analytic gradient of `every_adapter` (see there).
fn every_adapter_want(x: &[f64], c: f64) -> G {
    let n = x.len();
    let m = prefix(x, |v| v < c);
    let m2 = prefix(x, |v| v < 0.0);
    let gx = (0..n)
        .map(|i| {
            let taken = if i < m { 2.0 * x[i] } else { 0.0 };
            let skipped = if i >= m2 { c } else { 0.0 };
            taken + skipped + (n - i) as f64 + (i % 2 + 1) as f64 + 1.0
        })
        .collect();
    (gx, x[m2..].iter().sum::<f64>() + 1.0)
}

#[test]
fn generic_and_f32() {
    let c = 1.0;
    let x = [-0.5, 0.25, 1.2, -0.75, 2.0];
    let want = every_adapter_want(&x, c);
    check!(
        every_adapter,
        every_adapter_grad,
        every_adapter_jvp,
        every_adapter_hvp,
        &x,
        c,
        want.clone()
    );

    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (v, (g, gc)) = every_adapter_grad(&x32, c as f32);
    close(
        "f32 value",
        v as f64,
        every_adapter(&x32, c as f32) as f64,
        1e-6,
    );
    for (k, (&g, &w)) in g.iter().zip(&want.0).enumerate() {
        close(&format!("f32 ∂x[{k}]"), g as f64, w, 1e-5);
    }
    close("f32 ∂c", gc as f64, want.1, 1e-5);
    let r = gradcheck(
        |p: &(Vec<f32>, f32)| every_adapter(&p.0, p.1),
        &(x32.clone(), c as f32),
        &(g, gc),
    );
    assert!(r.passed(), "f32: {r}");
}

/// The same in `f32` written out: Σ_{i<m} x_i³ over the prefix below c, then c·Σ of a running
/// sum: ∂x_i = 3x_i² (i < m) + c·(n − i), ∂c = Σ_k S_k.
#[differentiate]
fn f32_take_scan(x: &[f32], c: f32) -> f32 {
    let cubes: f32 = x.iter().take_while(|v| **v < c).map(|v| v * v * v).sum();
    let running: f32 = x
        .iter()
        .scan(0.0f32, |s, &v| {
            *s += v;
            Some(*s)
        })
        .sum();
    cubes + c * running
}

#[test]
fn f32_adapters() {
    let x = [0.5f32, -0.25, 1.5, 0.75];
    let c = 1.0f32;
    let (v, (g, gc)) = f32_take_scan_grad(&x, c);
    assert_eq!(v, f32_take_scan(&x, c));
    let n = x.len();
    let m = 2;
    for i in 0..n {
        let want = if i < m { 3.0 * x[i] * x[i] } else { 0.0 } + c * (n - i) as f32;
        close(&format!("f32 ∂x[{i}]"), g[i] as f64, want as f64, 1e-6);
    }
    let sums: f32 = (0..n).map(|k| x[..=k].iter().sum::<f32>()).sum();
    close("f32 ∂c", gc as f64, sums as f64, 1e-6);
    let r = gradcheck(
        |p: &(Vec<f32>, f32)| f32_take_scan(&p.0, p.1),
        &(x.to_vec(), c),
        &(g, gc),
    );
    assert!(r.passed(), "f32: {r}");
    let (v, t) = f32_take_scan_jvp(&x, c, &vec![1.0, 0.0, 0.0, 0.0], 0.0);
    assert_eq!(v, f32_take_scan(&x, c));
    close("f32 tangent", t as f64, 3.0 * 0.25 + 4.0, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Adapters after a chain or a flat_map: the loops of the parts share the state
// ---------------------------------------------------------------------------------------------

/// a·(x_0 + x_1 + x_2): `take_while` stops at x_3 = 2 in the first part, and the second part
/// (starting at x_0 < 1.5 again) adds nothing: ∂x_i = a (i < 3), ∂a = x_0 + x_1 + x_2.
#[differentiate(hessian)]
fn chain_take_while(x: &[f64], a: f64) -> f64 {
    x.iter()
        .chain(x.iter())
        .take_while(|v| **v < 1.5)
        .map(|v| v * a)
        .sum()
}

/// The same over the pairs of `x` flattened.
#[differentiate(hessian)]
fn flat_map_take_while(x: &[f64], a: f64) -> f64 {
    x.chunks(2)
        .flat_map(|c| c.iter())
        .take_while(|v| **v < 1.5)
        .map(|v| v * a)
        .sum()
}

/// x_0..x_5 then x_5..x_0, skipping 5 and taking 3: x_5, x_5, x_4, so a·(2x_5² + x_4²):
/// ∂x_5 = 4a·x_5, ∂x_4 = 2a·x_4, ∂a = 2x_5² + x_4².
#[differentiate(hessian)]
fn chain_skip_take(x: &[f64], a: f64) -> f64 {
    x.iter()
        .chain(x.iter().rev())
        .skip(5)
        .take(3)
        .map(|v| v * v * a)
        .sum()
}

/// Σ_k (k+1)·x_{i_k} over the items x_i > 0 (the position counted after `filter`):
/// ∂x_{i_k} = a(k+1), ∂a = Σ (k+1)·x_{i_k}.
#[differentiate(hessian)]
fn filter_enumerate(x: &[f64], a: f64) -> f64 {
    x.iter()
        .filter(|v| **v > 0.0)
        .enumerate()
        .map(|(k, v)| a * v * (k + 1) as f64)
        .sum()
}

#[test]
fn adapters_after_chain_flat_map_and_filter() {
    let a = 0.9;
    let gx = (0..6).map(|i| if i < 3 { a } else { 0.0 });
    let ga = X[..3].iter().sum();
    let want: G = (gx.collect(), ga);
    check!(
        chain_take_while,
        chain_take_while_grad,
        chain_take_while_jvp,
        chain_take_while_hvp,
        &X,
        a,
        want.clone()
    );
    check!(
        flat_map_take_while,
        flat_map_take_while_grad,
        flat_map_take_while_jvp,
        flat_map_take_while_hvp,
        &X,
        a,
        want
    );

    let mut gx = vec![0.0; 6];
    gx[5] = 4.0 * a * X[5];
    gx[4] = 2.0 * a * X[4];
    let ga = 2.0 * X[5] * X[5] + X[4] * X[4];
    check!(
        chain_skip_take,
        chain_skip_take_grad,
        chain_skip_take_jvp,
        chain_skip_take_hvp,
        &X,
        a,
        (gx, ga)
    );

    let kept: Vec<usize> = (0..6).filter(|&i| X[i] > 0.0).collect();
    let mut gx = vec![0.0; 6];
    let mut ga = 0.0;
    for (k, &i) in kept.iter().enumerate() {
        gx[i] = a * (k + 1) as f64;
        ga += (k + 1) as f64 * X[i];
    }
    check!(
        filter_enumerate,
        filter_enumerate_grad,
        filter_enumerate_jvp,
        filter_enumerate_hvp,
        &X,
        a,
        (gx, ga)
    );
}

/// a then x_5, …, x_0 (the chain reversed), enumerated, and the indices 5, 4, 1, 0 of two
/// chained ranges reversed: a + Σ_j (j+2)·x_{5−j} + Σ_k (k+1)·x_{i_k}².
/// ∂x_i = (7 − i) + 2(k_i + 1)·x_i for i in {5, 4, 1, 0} at position k_i; ∂a = 1.
#[differentiate(hessian)]
fn chain_rev(x: &[f64], a: f64) -> f64 {
    let first: f64 = x
        .iter()
        .chain(std::iter::once(&a))
        .rev()
        .enumerate()
        .map(|(i, v)| v * (i + 1) as f64)
        .sum();
    let mut second = 0.0;
    for (k, i) in (0..2).chain(4..6).rev().enumerate() {
        second += (k + 1) as f64 * x[i] * x[i];
    }
    first + second
}

#[test]
fn a_chain_reversed() {
    let a = 0.3;
    let order = [5, 4, 1, 0];
    let gx = (0..6).map(|i| {
        let k = order.iter().position(|&j| j == i);
        (7 - i) as f64 + k.map_or(0.0, |k| 2.0 * (k + 1) as f64 * X[i])
    });
    check!(
        chain_rev,
        chain_rev_grad,
        chain_rev_jvp,
        chain_rev_hvp,
        &X,
        a,
        (gx.collect(), 1.0)
    );
}

/// a·Σ_k x_k·q_k, q = 1, 3, 5, 6 the positive weights (`zip` of a filtered chain, read by a
/// counter): ∂x_k = a·q_k (k < 4), ∂a = Σ x_k·q_k.
#[differentiate(hessian)]
fn zip_filtered(x: &[f64], a: f64) -> f64 {
    let w = [1.0, -2.0, 3.0, -4.0, 5.0, 6.0];
    x.iter()
        .zip(w.iter().filter(|v| **v > 0.0))
        .map(|(p, q)| p * q * a)
        .sum()
}

#[test]
fn zip_of_a_filtered_chain() {
    let a = 1.1;
    let q = [1.0, 3.0, 5.0, 6.0];
    let gx = (0..6).map(|k| if k < 4 { a * q[k] } else { 0.0 });
    let ga = (0..4).map(|k| X[k] * q[k]).sum();
    check!(
        zip_filtered,
        zip_filtered_grad,
        zip_filtered_jvp,
        zip_filtered_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
    // Fewer items than weights: the zip ends with `x`.
    let x = &X[..2];
    let (v, (g, ga)) = zip_filtered_grad(x, a);
    close("short value", v, zip_filtered(x, a), TOL);
    close_all("short ∂x", &g, &[a, 3.0 * a]);
    close("short ∂a", ga, X[0] + 3.0 * X[1], TOL);
}

// ---------------------------------------------------------------------------------------------
// iter_mut zipped with a chain
// ---------------------------------------------------------------------------------------------

/// Scales the buffer's elements by the items of `x` then `a`.
#[differentiate(hessian)]
fn scale_by_chain(out: &mut [f64], x: &[f64], a: f64) {
    for (o, v) in out.iter_mut().zip(x.iter().chain(std::iter::once(&a))) {
        *o *= v;
    }
}

/// Σ_k (k+1)·z_k² over z = (x_0, …, x_{n−1}, a): the buffer [1, 2, …, n+1] scaled by z, then
/// Σ_k o_k·z_k with o_k = (k+1)·z_k: ∂z_k = 2(k+1)·z_k.
#[differentiate(hessian)]
fn iter_mut_zip_chain(x: &[f64], a: f64) -> f64 {
    let mut out: Vec<f64> = (0..x.len() + 1).map(|k| (k + 1) as f64).collect();
    scale_by_chain(&mut out, x, a);
    out.iter()
        .zip(x.iter().chain([a].iter()))
        .map(|(o, z)| o * z)
        .sum()
}

#[test]
fn iter_mut_zipped_with_a_chain() {
    let a = -0.4;
    let n = X.len();
    let gx = (0..n).map(|k| 2.0 * (k + 1) as f64 * X[k]);
    let ga = 2.0 * (n + 1) as f64 * a;
    check!(
        iter_mut_zip_chain,
        iter_mut_zip_chain_grad,
        iter_mut_zip_chain_jvp,
        iter_mut_zip_chain_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

// ---------------------------------------------------------------------------------------------
// Counters after a filter, the best item of a chain, and array literals as sources
// ---------------------------------------------------------------------------------------------

/// a·(p_1² + p_2²), p the positive items (`skip(1).take(2)` after `filter`): ∂p_k = 2a·p_k
/// for those two, ∂a = p_1² + p_2².
#[differentiate(hessian)]
fn filter_skip_take(x: &[f64], a: f64) -> f64 {
    x.iter()
        .filter(|v| **v > 0.0)
        .skip(1)
        .take(2)
        .map(|v| v * v * a)
        .sum()
}

/// The largest of (k+1)·z_k over z = (x, a·x_0) chained and enumerated, by `max_by`, and the sum
/// over arrays `[a, x_1]` and `&[x_0, a]` looped over: at X and a = 3, the largest is
/// 7·a·x_0 = 10.5 (the last item): ∂x_0 = 7a + 1, ∂x_1 = 1, ∂a = 7·x_0 + 2.
#[differentiate(hessian)]
fn best_of_chain_and_arrays(x: &[f64], a: f64) -> f64 {
    let best = x
        .iter()
        .copied()
        .chain(std::iter::once(a * x[0]))
        .enumerate()
        .map(|(k, z)| (k + 1) as f64 * z)
        .max_by(|p, q| p.total_cmp(q))
        .unwrap();
    let mut s = 0.0;
    for v in [a, x[1]] {
        s += v;
    }
    for &v in &[x[0], a] {
        s += v;
    }
    best + s
}

#[test]
fn counters_after_filter_best_of_a_chain_and_arrays() {
    let a = 1.7;
    let pos: Vec<usize> = (0..6).filter(|&i| X[i] > 0.0).collect();
    let mut gx = vec![0.0; 6];
    let mut ga = 0.0;
    for &i in &pos[1..3] {
        gx[i] = 2.0 * a * X[i];
        ga += X[i] * X[i];
    }
    check!(
        filter_skip_take,
        filter_skip_take_grad,
        filter_skip_take_jvp,
        filter_skip_take_hvp,
        &X,
        a,
        (gx, ga)
    );

    let a = 3.0;
    // (k+1)·x_k is at most 4·2 = 8, below 7·a·x_0 = 10.5.
    assert!((0..6).all(|k| (k + 1) as f64 * X[k] < 7.0 * a * X[0]));
    let mut gx = vec![0.0; 6];
    gx[0] = 7.0 * a + 1.0;
    gx[1] = 1.0;
    check!(
        best_of_chain_and_arrays,
        best_of_chain_and_arrays_grad,
        best_of_chain_and_arrays_jvp,
        best_of_chain_and_arrays_hvp,
        &X,
        a,
        (gx, 7.0 * X[0] + 2.0)
    );
}

/// a·Σ_k T_k with a tuple state: S_k = Σ_{j≤k} x_j and T_k = Σ_{j≤k} S_j, so
/// Σ_k T_k = Σ_j (n−j)(n−j+1)/2·x_j: ∂x_j = a(n−j)(n−j+1)/2, ∂a = Σ_k T_k.
#[differentiate(hessian)]
fn scan_tuple_state(x: &[f64], a: f64) -> f64 {
    x.iter()
        .scan((0.0, 0.0), |st, &v| {
            st.0 += v;
            st.1 += st.0;
            Some(st.1 * a)
        })
        .sum()
}

#[test]
fn scan_with_a_tuple_state() {
    let (a, n) = (0.6, X.len());
    let gx = (0..n).map(|j| a * ((n - j) * (n - j + 1)) as f64 / 2.0);
    let ga = (0..n)
        .map(|j| ((n - j) * (n - j + 1)) as f64 / 2.0 * X[j])
        .sum();
    check!(
        scan_tuple_state,
        scan_tuple_state_grad,
        scan_tuple_state_jvp,
        scan_tuple_state_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

/// Σ_z Σ_{k<2} k·z²·a over z = (x, a), the inner loop left by its own `break` (which a `for`
/// loop over a chain allows): Σ_z z²·a, so ∂x_i = 2a·x_i, ∂a = Σ x_i² + 3a².
#[differentiate(hessian)]
fn chain_for_inner_break(x: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for v in x.iter().chain(std::iter::once(&a)) {
        for k in 0..5 {
            if k == 2 {
                break;
            }
            s += k as f64 * v * v * a;
        }
    }
    s
}

#[test]
fn a_for_loop_over_a_chain_with_an_inner_break() {
    let a = 0.8;
    let gx = X.iter().map(|v| 2.0 * a * v);
    let ga = X.iter().map(|v| v * v).sum::<f64>() + 3.0 * a * a;
    check!(
        chain_for_inner_break,
        chain_for_inner_break_grad,
        chain_for_inner_break_jvp,
        chain_for_inner_break_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

// ---------------------------------------------------------------------------------------------
// sums and products whose type only their terms give
// ---------------------------------------------------------------------------------------------

/// A count made by summing literal terms (`Σ 1.0`, a float only rustc types, from where it
/// meets `a`), a sum of `f64` terms returned unannotated, and a product of `f64` terms:
/// n·a + Σ a·x_i² + Π (1 + a·x_i)/10, so ∂x_i = 2a·x_i + P·a/(1 + a·x_i),
/// ∂a = n + Σ x_i² + P·Σ x_i/(1 + a·x_i), where P is the product term.
#[differentiate(hessian)]
fn counted_sum_product(x: &[f64], a: f64) -> f64 {
    let n = x.iter().map(|_| 1.0).sum::<f64>();
    let p: f64 = x.iter().map(|v| 1.0 + a * v).product();
    n * a + x.iter().map(|v| a * v * v).sum::<f64>() + p / 10.0
}

#[test]
fn sums_of_literal_terms_and_products_typed_by_their_terms() {
    let a = 0.3;
    let p: f64 = X.iter().map(|v| 1.0 + a * v).product::<f64>() / 10.0;
    let gx = X.iter().map(|v| 2.0 * a * v + p * a / (1.0 + a * v));
    let ga = X.len() as f64
        + X.iter().map(|v| v * v).sum::<f64>()
        + p * X.iter().map(|v| v / (1.0 + a * v)).sum::<f64>();
    check!(
        counted_sum_product,
        counted_sum_product_grad,
        counted_sum_product_jvp,
        counted_sum_product_hvp,
        &X,
        a,
        (gx.collect(), ga)
    );
}

/// The last negative element found by `find`, with the default 1 where there is none, times
/// Σx: with `.copied()` after `find` and before it (these were the error "`.find(..)` on an
/// iterator over differentiated values is followed where its result is taken apart at once").
/// With a negative x_k found, ∂x_k = Σx + x_k and ∂x_i = x_k elsewhere; with none, ∂ = 1.
#[differentiate]
fn last_negative_times_sum(x: &[f64]) -> f64 {
    let last = x.iter().rev().find(|&&v| v < 0.0).copied().unwrap_or(1.0);
    last * x.iter().sum::<f64>()
}

#[differentiate]
fn first_negative_times_sum(x: &[f64]) -> f64 {
    let first = x.iter().copied().find(|&v| v < 0.0).unwrap_or(1.0);
    first * x.iter().sum::<f64>()
}

/// The default computed by `unwrap_or_else` from a differentiated value.
#[differentiate]
fn first_large_or_twice_x0(x: &[f64]) -> f64 {
    x.iter()
        .cloned()
        .find(|v| *v > 10.0)
        .unwrap_or_else(|| x[0] * 2.0)
        * x[1]
}

#[test]
fn find_with_a_default() {
    let s: f64 = X.iter().sum();
    let (v, g) = last_negative_times_sum_grad(&X);
    assert_eq!(v, last_negative_times_sum(&X));
    let mut want = vec![-1.1; 6];
    want[5] = s - 1.1;
    close_all("last negative", &g, &want);
    let (v, g) = first_negative_times_sum_grad(&X);
    assert_eq!(v, first_negative_times_sum(&X));
    let mut want = vec![-0.3; 6];
    want[1] = s - 0.3;
    close_all("first negative", &g, &want);
    fd_vec("first negative", first_negative_times_sum, &X, &g);
    // None negative: the default, 1, and ∂ = 1 everywhere.
    let pos = [0.5, 0.3, 1.2];
    let (v, g) = last_negative_times_sum_grad(&pos);
    assert_eq!(v, 2.0);
    close_all("no negative", &g, &[1.0; 3]);
    // None above 10: 2·x₀·x₁.
    let (v, g) = first_large_or_twice_x0_grad(&X);
    assert_eq!(v, first_large_or_twice_x0(&X));
    close_all(
        "default from x",
        &g,
        &[2.0 * X[1], 2.0 * X[0], 0.0, 0.0, 0.0, 0.0],
    );
    let big = [0.5, 12.0, 1.0];
    let (v, g) = first_large_or_twice_x0_grad(&big);
    assert_eq!(v, 144.0);
    close_all("found", &g, &[0.0, 24.0, 0.0]);
}

/// `chain.last()` and `chain.nth(k)` with a default: the last item of `x.iter().rev().skip(1)`
/// is x₀, the 4th item x₃, and an `nth` past the end the default 2:
/// f = x₀·x₃·2, ∂ = (2x₃, 0, 0, 2x₀, 0, 0). These were the error "`.last(..)` on an iterator
/// over differentiated values is not supported".
#[differentiate]
fn last_and_nth(x: &[f64]) -> f64 {
    let l = x.iter().rev().skip(1).last().copied().unwrap_or(0.0);
    let n = x.iter().nth(3).copied().unwrap_or(1.0);
    let far = x.iter().copied().nth(100).unwrap_or(2.0);
    l * n * far
}

/// The last item of a mapped chain: 2·x₅, plus Σ i·x_{n−1−i}.
#[differentiate]
fn last_of_a_map(x: &[f64]) -> f64 {
    let last = x.iter().map(|v| v * 2.0).last().unwrap_or(0.0);
    last + x
        .iter()
        .rev()
        .enumerate()
        .map(|(i, v)| i as f64 * v)
        .sum::<f64>()
}

#[test]
fn last_and_nth_of_chains() {
    let (v, g) = last_and_nth_grad(&X);
    assert_eq!(v, last_and_nth(&X));
    close_all(
        "last_and_nth",
        &g,
        &[2.0 * X[3], 0.0, 0.0, 2.0 * X[0], 0.0, 0.0],
    );
    let (v, g) = last_of_a_map_grad(&X);
    assert_eq!(v, last_of_a_map(&X));
    close_all("last_of_a_map", &g, &[5.0, 4.0, 3.0, 2.0, 1.0, 2.0]);
    // Empty: the defaults.
    assert_eq!(last_and_nth_grad(&[]), (0.0, vec![]));
}

/// An open range zipped with a sequence, a count beside each item (`u.iter().zip(1..)`,
/// `(0..).zip(u)`): rejected with a message that said ranges are followed. The range is
/// bounded by `usize::MAX` for the lowering; the zip stops with the sequence.
#[differentiate]
fn counted_weights(u: &[f64]) -> f64 {
    let a: f64 = u.iter().zip(1..).map(|(v, k)| v * k as f64).sum();
    let mut b = 0.0;
    for (k, v) in (0..).zip(u) {
        b += v * v * k as f64;
    }
    a + b
}

#[test]
fn open_ranges_zipped_with_sequences() {
    let u = [1.0, 2.0, 3.0];
    let (v, g) = counted_weights_grad(&u);
    assert_eq!(v, counted_weights(&u));
    // Σ (k + 1)·uₖ + Σ k·uₖ²: ∂uₖ = k + 1 + 2k·uₖ.
    assert_eq!(g, vec![1.0, 2.0 + 4.0, 3.0 + 12.0]);
}

// ---------------------------------------------------------------------------------------------
// A `map` closure that changes a variable (an exponential moving average) before `skip` or
// `step_by`: Rust runs it for every item pulled through it, the dropped ones too, and
// the generated code ran it only for the items kept (30.1 where the value is 24.8).
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn ema_after_burn_in(x: &[f64], alpha: f64) -> f64 {
    let mut ema = 0.0;
    x.iter()
        .map(|&v| {
            ema = alpha * v + (1.0 - alpha) * ema;
            ema
        })
        .skip(2)
        .map(|e| e * e)
        .sum::<f64>()
}

#[differentiate]
fn ema_decimated(x: &[f64], alpha: f64) -> f64 {
    let mut ema = 0.0;
    let s = x
        .iter()
        .map(|&v| {
            ema = alpha * v + (1.0 - alpha) * ema;
            ema
        })
        .step_by(2)
        .map(|e| e * e)
        .sum::<f64>();
    s + ema
}

/// The same as loops, each sample through the average once.
fn ema_loop(x: &[f64], alpha: f64, keep: impl Fn(usize) -> bool) -> (f64, f64) {
    let (mut ema, mut s) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        ema = alpha * v + (1.0 - alpha) * ema;
        if keep(i) {
            s += ema * ema;
        }
    }
    (s, ema)
}

#[test]
fn stateful_maps_before_skipping_adapters() {
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let alpha = 0.5;
    let burn_in = ema_loop(&x, alpha, |i| i >= 2).0;
    assert_eq!(ema_after_burn_in(&x, alpha), burn_in);
    let (y, (gx, ga)) = ema_after_burn_in_grad(&x, alpha);
    assert_eq!(y, burn_in);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| ema_after_burn_in(&p.0, p.1),
        &(x.to_vec(), alpha),
        &(gx.clone(), ga),
    );
    assert!(r.passed(), "{r}");
    // x₀ reaches every kept average through the state: its derivative is not 0.
    assert!(gx[0] > 0.1, "{gx:?}");
    let (s, last) = ema_loop(&x, alpha, |i| i % 2 == 0);
    let (y, (gx, ga)) = ema_decimated_grad(&x, alpha);
    assert_eq!(y, s + last);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| ema_decimated(&p.0, p.1),
        &(x.to_vec(), alpha),
        &(gx, ga),
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Arithmetic operators as function paths: `fold(0.0, f64::add)`, `Add::add`, `f64::mul(a, b)`.
// They were taken for functions of the user's (rustc's "no `add_vjp` for `f64`").
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn operator_paths(x: &[f64], w: f64) -> f64 {
    use std::ops::{Add, Mul};
    let s = x.iter().copied().fold(0.0, f64::add);
    let t = x.iter().fold(0.0, Add::add);
    let p = x.iter().copied().fold(1.0, Mul::mul);
    f64::mul(s, w) + std::ops::Sub::sub(t, p) + std::ops::Neg::neg(w)
}

#[test]
fn arithmetic_operators_as_paths() {
    let x = [1.5, -2.0, 0.5];
    let w = 3.0;
    let (s, p) = (0.0, 1.5 * -2.0 * 0.5);
    let (y, (gx, gw)) = operator_paths_grad(&x, w);
    assert_eq!(y, operator_paths(&x, w));
    close("value", y, s * w + s - p - w, 1e-15);
    // ∂/∂xᵢ = w + 1 − Π_{j≠i} xⱼ, ∂/∂w = Σx − 1.
    let expected: Vec<f64> = (0..3)
        .map(|i| w + 1.0 - (0..3).filter(|&j| j != i).map(|j| x[j]).product::<f64>())
        .collect();
    for (g, e) in gx.iter().zip(&expected) {
        close("∂/∂x", *g, *e, 1e-15);
    }
    close("∂/∂w", gw, s - 1.0, 1e-15);
}

/// A `scan` closure changes only its own state: `nth` and `take` after it are followed (the
/// check for closures that change variables rejected them).
#[differentiate]
fn scan_nth(x: &[f64]) -> f64 {
    x.iter()
        .scan(0.0, |s, &v| {
            *s = *s * 0.5 + v;
            Some(*s)
        })
        .nth(3)
        .unwrap_or(0.0)
}

#[differentiate]
fn scan_take_skip(x: &[f64]) -> f64 {
    x.iter()
        .scan(0.0, |s, &v| {
            *s += v;
            Some(*s)
        })
        .take(4)
        .skip(2)
        .map(|c| c * c)
        .sum::<f64>()
}

#[test]
fn scans_before_nth_and_take() {
    let x = [0.3, 0.5, 0.9, 0.2, -0.4];
    let (y, g) = scan_nth_grad(&x);
    assert_eq!(y, scan_nth(&x));
    assert_eq!(g, vec![0.125, 0.25, 0.5, 1.0, 0.0]);
    // c₂ = x₀ + x₁ + x₂, c₃ = c₂ + x₃: 2c₂ + 2c₃ for x₀..x₂, 2c₃ for x₃.
    let (y, g) = scan_take_skip_grad(&x);
    assert_eq!(y, scan_take_skip(&x));
    let (c2, c3) = (1.7, 1.9);
    let expected = [
        2.0 * (c2 + c3),
        2.0 * (c2 + c3),
        2.0 * (c2 + c3),
        2.0 * c3,
        0.0,
    ];
    for (a, e) in g.iter().zip(expected) {
        close("∂/∂x", *a, e, 1e-12);
    }
}

/// `unzip` into two `Vec`s bound by a `let`, floats beside floats and beside indices, one of
/// them then changed in place: a loop that pushes each pair's halves. It was an error that
/// listed the supported consumers.
#[differentiate(hessian)]
fn split_parts(x: &[f64]) -> f64 {
    let (pos, neg): (Vec<f64>, Vec<f64>) = x.iter().map(|v| (v.max(0.0), v.min(0.0))).unzip();
    let (mut sq, at): (Vec<_>, Vec<usize>) = x.iter().enumerate().map(|(i, v)| (v * v, i)).unzip();
    sq[0] += x[1];
    let mut weighted = 0.0;
    for (s, &i) in sq.iter().zip(&at) {
        weighted += s * (i as f64 + 1.0);
    }
    pos.iter().sum::<f64>() * neg.iter().sum::<f64>() + weighted
}

#[test]
fn unzip_into_two_vecs() {
    let x = [0.5, -1.25, 2.0, -0.75, 0.3];
    let p: f64 = x.iter().filter(|v| **v > 0.0).sum();
    let n: f64 = x.iter().filter(|v| **v < 0.0).sum();
    let weighted: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| v * v * (i as f64 + 1.0))
        .sum::<f64>()
        + x[1];
    let mut want = [0.0; 5];
    for (i, &v) in x.iter().enumerate() {
        want[i] = if v > 0.0 { n } else { p } + 2.0 * v * (i as f64 + 1.0);
    }
    want[1] += 1.0;
    let (y, g) = split_parts_grad(&x);
    close("value", y, p * n + weighted, 1e-12);
    close_all("gradient", &g, &want);
    let (_, pullback) = split_parts_vjp(&x);
    close_all("pullback at 3", &pullback(3.0), &want.map(|d| 3.0 * d));
    // Along t: the tangent, and H·t = (∂p·t)∂n + (∂n·t)∂p + 2·diag(i + 1)·t.
    let t = vec![0.25, -0.5, 1.0, 0.75, -0.2];
    let (_, tangent) = split_parts_jvp(&x, &t);
    close(
        "tangent",
        tangent,
        want.iter().zip(&t).map(|(a, b)| a * b).sum(),
        1e-12,
    );
    let (dp, dn): (f64, f64) =
        x.iter().zip(&t).fold(
            (0.0, 0.0),
            |(a, b), (v, d)| {
                if *v > 0.0 { (a + d, b) } else { (a, b + d) }
            },
        );
    let want_hv: Vec<f64> = (0..5)
        .map(|i| if x[i] > 0.0 { dn } else { dp } + 2.0 * (i as f64 + 1.0) * t[i])
        .collect();
    let (_, _, hv) = split_parts_hvp(&x, &t);
    close_all("H·t", &hv, &want_hv);
}
