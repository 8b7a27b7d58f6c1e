//! Programs in the forms the random-program generator's `nd_zip` and `row_copy` kinds write:
//! `scan`s whose tuple state holds a count beside a float and that stop early by `return None`
//! or yield early by `return Some(..)` (the count read as a factor and as an index), a grid
//! written by `Zip::indexed` inside a loop then changed by `map_inplace` and through a
//! reference to one element, its length read off its shape, and rows of a nested array
//! copied out before the loop that reads them by element.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Some have their Hessian-vector products checked against differences of the
//! gradient too.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::differentiate;
use ndarray::{Array2, Zip};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// `scan`s with a count in their state that leave the closure early.
// ---------------------------------------------------------------------------------------------

/// A running product with a count, stopped by `return None` after three items:
/// items `k·x·bᵏ` for k = 1, 2, 3, so `f = x(b + 2b² + 3b³)`,
/// `∂f/∂x = b + 2b² + 3b³`, `∂f/∂b = x(1 + 4b + 9b²)`.
#[differentiate(hessian)]
fn stopped_by_none(x: f64, b: f64) -> f64 {
    let items: Vec<f64> = (0..6usize)
        .scan((0usize, x), |st, _| {
            st.0 += 1;
            st.1 *= b;
            if st.0 > 3 {
                return None;
            }
            Some(st.1 * st.0 as f64)
        })
        .collect();
    items.iter().sum()
}

/// Odd steps yield early by `return Some(..)` with the count read as an index, even steps
/// update the state: with `w = [w₀, w₁, w₂]`, the items are `s₁ = x/2 + w₀`, `s₁w₂`,
/// `s₂ = s₁/2 + w₂`, `s₂w₁`, so `f = s₁(1 + w₂) + s₂(1 + w₁)` and
/// `∂f/∂x = (1 + w₂)/2 + (1 + w₁)/4`, `∂f/∂w₀ = 1 + w₂ + (1 + w₁)/2`, `∂f/∂w₁ = s₂`,
/// `∂f/∂w₂ = s₁ + 1 + w₁`.
#[differentiate]
fn yields_early(w: &[f64], x: f64) -> f64 {
    (0..4usize)
        .scan((x, 0usize), |st, i| {
            st.1 += 1;
            if i % 2 == 1 {
                return Some(st.0 * w[st.1 % w.len()]);
            }
            st.0 = st.0 * 0.5 + w[i];
            Some(st.0)
        })
        .sum()
}

/// The generator's form, inside a loop over a table's rows copied out one by one: per row
/// `r`, a scan over `j = 0, 1` with state `(s, c)`, `s ← s·a + r[j]/2`, `c ← c + j + 1`, items
/// `s·c/8`, stopped by `return None` when `c > 2` (after one item). So each row adds
/// `(r₀a + r₀/2)/8 = r₀(a + ½)/8`, `f = (a + ½)/8 · Σ r₀ = (a + ½)(a + a b + b)/8` for rows
/// `[a, ·], [a b, ·], [b, ·]`: `∂f/∂a = (a + a b + b)/8 + (a + ½)(1 + b)/8`,
/// `∂f/∂b = (a + ½)(a + 1)/8`.
#[differentiate(hessian)]
fn rows_then_scan(a: f64, b: f64) -> f64 {
    let tb: [[f64; 2]; 3] = [[a, b * 0.5], [a * b, 0.25], [b, -a * 0.5]];
    let mut e = 0.0;
    for r in tb.iter() {
        let q: f64 = (0..2usize)
            .scan((r[0], 0usize), |st, j| {
                st.0 = st.0 * a + r[j] * 0.5;
                st.1 += j + 1;
                if st.1 > 2 {
                    return None;
                }
                Some(st.0 * (st.1 as f64) * 0.125)
            })
            .sum();
        e += q;
    }
    e
}

#[test]
fn a_scan_with_a_count_stopped_by_return_none() {
    let (x, b) = (0.8, -0.6);
    let (v, g) = stopped_by_none_grad(x, b);
    assert_eq!(v, stopped_by_none(x, b));
    close("f", v, x * (b + 2.0 * b * b + 3.0 * b.powi(3)), TOL);
    close2(
        "∇f",
        g,
        (
            b + 2.0 * b * b + 3.0 * b.powi(3),
            x * (1.0 + 4.0 * b + 9.0 * b * b),
        ),
    );
    let f = |p: &(f64, f64)| stopped_by_none(p.0, p.1);
    gradcheck(f, &(x, b), &g).assert_ok();
    let dir = (0.3, -0.7);
    let (_, t) = stopped_by_none_jvp(x, b, dir.0, dir.1);
    jvpcheck(f, &(x, b), &dir, &t).assert_ok();
    // H = [[0, 1 + 4b + 9b²], [1 + 4b + 9b², x(4 + 18b)]].
    let (_, _, hv) = stopped_by_none_hvp(x, b, dir.0, dir.1);
    let c = 1.0 + 4.0 * b + 9.0 * b * b;
    close2(
        "H·v",
        hv,
        (c * dir.1, c * dir.0 + x * (4.0 + 18.0 * b) * dir.1),
    );
    hvpcheck(
        |p: &(f64, f64)| stopped_by_none_grad(p.0, p.1).1,
        &(x, b),
        &dir,
        &hv,
    )
    .assert_ok();
}

#[test]
fn a_scan_with_a_count_yielding_early_by_return_some() {
    let w = vec![0.4, -0.3, 0.9];
    let x = 0.6;
    let (v, (gw, gx)) = yields_early_grad(&w, x);
    assert_eq!(v, yields_early(&w, x));
    let s1 = x / 2.0 + w[0];
    let s2 = s1 / 2.0 + w[2];
    close("f", v, s1 * (1.0 + w[2]) + s2 * (1.0 + w[1]), TOL);
    close("∂f/∂x", gx, (1.0 + w[2]) / 2.0 + (1.0 + w[1]) / 4.0, TOL);
    close_all(
        "∂f/∂w",
        &gw,
        &[1.0 + w[2] + (1.0 + w[1]) / 2.0, s2, s1 + 1.0 + w[1]],
    );
    gradcheck(
        |p: &(Vec<f64>, f64)| yields_early(&p.0, p.1),
        &(w.clone(), x),
        &(gw, gx),
    )
    .assert_ok();
}

#[test]
fn rows_of_a_table_each_scanned_with_a_count() {
    let (a, b) = (0.7, -0.45);
    let (v, g) = rows_then_scan_grad(a, b);
    assert_eq!(v, rows_then_scan(a, b));
    let s = a + a * b + b;
    close("f", v, (a + 0.5) * s / 8.0, TOL);
    close2(
        "∇f",
        g,
        (
            s / 8.0 + (a + 0.5) * (1.0 + b) / 8.0,
            (a + 0.5) * (a + 1.0) / 8.0,
        ),
    );
    let f = |p: &(f64, f64)| rows_then_scan(p.0, p.1);
    gradcheck(f, &(a, b), &g).assert_ok();
    let dir = (-0.4, 0.8);
    let (_, _, hv) = rows_then_scan_hvp(a, b, dir.0, dir.1);
    hvpcheck(
        |p: &(f64, f64)| rows_then_scan_grad(p.0, p.1).1,
        &(a, b),
        &dir,
        &hv,
    )
    .assert_ok();
}

// ---------------------------------------------------------------------------------------------
// A grid written by `Zip::indexed` in a loop, changed in place, rows copied out.
// ---------------------------------------------------------------------------------------------

/// Per trip `c = 0, 1`, `Zip::indexed` adds into every cell of a 2×3 grid:
/// `o ← o/2 + x_ij·a + c·b` with `x_ij = (i + 2j)/8`; then `map_inplace` scales every cell by
/// `k = a/2` after a `let`; then the last column is changed through `let z = &mut g[[i, 2]];
/// *z += a·i/4`; its height read by `let n = g.shape()[0];`, rows copied out before the loop
/// reading them: `f = Σ_{i<n} g[i][0]·g[i][2] + Σ g`.
/// With `p_ij = x_ij a/2 + x_ij a + b = 1.5 a x_ij + b` after two trips, `g_ij = p_ij a/2`
/// (+ `a i/4` for `j = 2`), and the derivatives follow by the product rule (checked in the
/// test from those closed forms).
#[differentiate(hessian)]
fn grid_in_a_loop(a: f64, b: f64) -> f64 {
    let mut g = Array2::<f64>::zeros((2, 3));
    for c in 0..2 {
        Zip::indexed(&mut g).for_each(|(i, j), o| {
            let x = (i + 2 * j) as f64 / 8.0;
            *o = *o * 0.5 + x * a + (c as f64) * b;
        });
    }
    g.map_inplace(|v| {
        let k = a * 0.5;
        *v *= k;
    });
    for i in 0..2 {
        let z = &mut g[[i, 2]];
        *z += a * (i as f64) * 0.25;
    }
    let n = g.shape()[0];
    let rows = [[g[[0, 0]], g[[0, 2]]], [g[[1, 0]], g[[1, 2]]]];
    let r0 = rows[0];
    let [_, r1] = rows;
    let mut e = 0.0;
    for i in 0..n {
        let r = if i == 0 { r0 } else { r1 };
        e += r[0] * r[1];
    }
    e + g.sum()
}

/// The closed form of `grid_in_a_loop`'s cells, as a function of `(a, b)`.
fn grid_cells(a: f64, b: f64) -> [[f64; 3]; 2] {
    let mut g = [[0.0; 3]; 2];
    for i in 0..2 {
        for j in 0..3 {
            let x = (i + 2 * j) as f64 / 8.0;
            g[i][j] = (1.5 * a * x + b) * a / 2.0 + if j == 2 { a * i as f64 / 4.0 } else { 0.0 };
        }
    }
    g
}

#[test]
fn a_grid_written_by_zip_indexed_in_a_loop_then_in_place() {
    let (a, b) = (0.9, -0.35);
    let (v, g) = grid_in_a_loop_grad(a, b);
    assert_eq!(v, grid_in_a_loop(a, b));
    let cells = grid_cells(a, b);
    let want: f64 = (0..2).map(|i| cells[i][0] * cells[i][2]).sum::<f64>()
        + cells.iter().flatten().sum::<f64>();
    close("f", v, want, TOL);
    // ∂g_ij/∂a = 0.75 x a + (1.5 a x + b)/2 (+ i/4 for j = 2), ∂g_ij/∂b = a/2.
    let (mut ga, mut gb) = (0.0, 0.0);
    let da = |i: usize, j: usize| {
        let x = (i + 2 * j) as f64 / 8.0;
        0.75 * x * a + (1.5 * a * x + b) / 2.0 + if j == 2 { i as f64 / 4.0 } else { 0.0 }
    };
    for i in 0..2 {
        ga += da(i, 0) * cells[i][2] + cells[i][0] * da(i, 2);
        gb += a / 2.0 * (cells[i][2] + cells[i][0]);
        for j in 0..3 {
            ga += da(i, j);
            gb += a / 2.0;
        }
    }
    close2("∇f", g, (ga, gb));
    let f = |p: &(f64, f64)| grid_in_a_loop(p.0, p.1);
    gradcheck(f, &(a, b), &g).assert_ok();
    let dir = (0.5, 0.25);
    let (_, _, hv) = grid_in_a_loop_hvp(a, b, dir.0, dir.1);
    hvpcheck(
        |p: &(f64, f64)| grid_in_a_loop_grad(p.0, p.1).1,
        &(a, b),
        &dir,
        &hv,
    )
    .assert_ok();
}

/// A running sum of one value that stops once it passes a threshold: with `xs = [0.5, 0.4,
/// ..]` and `w = 1.2`, the sum is 0.6 after the first item (its item `0.6·x₀`), 1.08 after the
/// second, which stops the scan. So `f = w x₀²`: `∂f/∂w = x₀²`, `∂f/∂x₀ = 2 w x₀`, zero for
/// the other items.
#[differentiate]
fn running_until_large(xs: &[f64], w: f64) -> f64 {
    xs.iter()
        .scan(0.0, |acc, &x| {
            *acc += x * w;
            if *acc > 1.0 {
                return None;
            }
            Some(*acc * x)
        })
        .sum()
}

#[test]
fn a_scan_of_one_value_stopped_by_return_none() {
    let xs = vec![0.5, 0.4, 0.9, 0.2];
    let w = 1.2;
    let (v, (gx, gw)) = running_until_large_grad(&xs, w);
    assert_eq!(v, running_until_large(&xs, w));
    close("f", v, w * xs[0] * xs[0], TOL);
    close("∂f/∂w", gw, xs[0] * xs[0], TOL);
    close_all("∂f/∂x", &gx, &[2.0 * w * xs[0], 0.0, 0.0, 0.0]);
    gradcheck(
        |p: &(Vec<f64>, f64)| running_until_large(&p.0, p.1),
        &(xs.clone(), w),
        &(gx, gw),
    )
    .assert_ok();
}
