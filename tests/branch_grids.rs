//! Grids and other containers whose rows are not floats (`Vec<Vec<f64>>`, a `Vec` of
//! parameter structs, a `Vec` of ndarray vectors), written in a loop and again under an `if`:
//! the textbook edit-distance recursion is the model. These were rustc's "a container of
//! `Vec<f64>` whose length changes is differentiated where its elements are floats" inside the
//! generated code: the pullback of the `if` started the grid's adjoint from a zero made from
//! its length, which makes no rows. Each arm now assigns that adjoint (see
//! `simplify::defer_branch_adjoints`). Each gradient is checked against the same function
//! written on a flat `Vec<f64>` (which never had the problem), against central differences,
//! and `_jvp` against the gradient.

#![allow(clippy::needless_range_loop)]

use autodiff::{Differentiable, differentiate};
use ndarray::Array1;

mod common;
use common::*;

/// The alignment cost of two sequences with a gap penalty: `dp[i][j]` is the cheapest of a
/// match `(a_i − b_j)²` and a gap on either side.
#[differentiate]
fn align(a: &[f64], b: &[f64], gap: f64) -> f64 {
    let (n, m) = (a.len(), b.len());
    let mut dp = vec![vec![0.0; m + 1]; n + 1];
    for i in 1..=n {
        dp[i][0] = gap * i as f64;
    }
    for j in 1..=m {
        dp[0][j] = gap * j as f64;
    }
    for i in 1..=n {
        for j in 1..=m {
            dp[i][j] = dp[i - 1][j - 1] + (a[i - 1] - b[j - 1]).powi(2);
            if dp[i - 1][j] + gap < dp[i][j] {
                dp[i][j] = dp[i - 1][j] + gap;
            }
            if dp[i][j - 1] + gap < dp[i][j] {
                dp[i][j] = dp[i][j - 1] + gap;
            }
        }
    }
    dp[n][m]
}

/// `align` on one flat `Vec`, row `i` at `i·(m + 1)`.
#[differentiate]
fn align_flat(a: &[f64], b: &[f64], gap: f64) -> f64 {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut dp = vec![0.0; (n + 1) * w];
    for i in 1..=n {
        dp[i * w] = gap * i as f64;
    }
    for j in 1..=m {
        dp[j] = gap * j as f64;
    }
    for i in 1..=n {
        for j in 1..=m {
            dp[i * w + j] = dp[(i - 1) * w + j - 1] + (a[i - 1] - b[j - 1]).powi(2);
            if dp[(i - 1) * w + j] + gap < dp[i * w + j] {
                dp[i * w + j] = dp[(i - 1) * w + j] + gap;
            }
            if dp[i * w + j - 1] + gap < dp[i * w + j] {
                dp[i * w + j] = dp[i * w + j - 1] + gap;
            }
        }
    }
    dp[n * w + m]
}

#[test]
fn edit_distance_on_a_grid_of_rows() {
    let x = [0.1, 0.5, 0.9, 1.7, 0.2, 0.8, 0.3];
    let f = |p: &[f64]| align(&p[..4], &p[4..6], p[6]);
    let (v, (ga, gb, gg)) = align_grad(&x[..4], &x[4..6], x[6]);
    assert_eq!(v, f(&x));
    let (vf, (fa, fb, fg)) = align_flat_grad(&x[..4], &x[4..6], x[6]);
    assert_eq!(v, vf);
    close_all("∂a", &ga, &fa);
    close_all("∂b", &gb, &fb);
    close("∂gap", gg, fg, TOL);
    // Both gap branches and the match are taken somewhere: every input has a derivative.
    assert!(gg != 0.0 && ga.iter().chain(&gb).any(|&d| d != 0.0));
    let g: Vec<f64> = ga.iter().chain(&gb).copied().chain([gg]).collect();
    fd_vec("align", f, &x, &g);
    let dx = [0.3, -0.2, 0.5, 0.1, 1.0, -0.7, 0.4];
    let (vj, dv) = align_jvp(
        &x[..4],
        &x[4..6],
        x[6],
        &dx[..4].to_vec(),
        &dx[4..6].to_vec(),
        dx[6],
    );
    assert_eq!(vj, v);
    let want: f64 = g.iter().zip(&dx).map(|(a, b)| a * b).sum();
    close("jvp", dv, want, 1e-12);
}

/// Written twice per iteration, once under an `if` on data: with `x₁ > 0`, after two
/// iterations `g[0][1] = 2x₀`, `g[1][0] = x₀ + x₀ = 2x₀`... precisely: iteration 1 sets
/// `g[1][0] = 0 + x₀`, `g[0][1] = x₀`; iteration 2 sets `g[1][0] = x₀ + x₀`, `g[0][1] = 2x₀`.
/// f = 2x₀·2x₀ = 4x₀², ∂x₀ = 8x₀. With `x₁ ≤ 0`, `g[0][1]` stays 0 and f = 0.
#[differentiate]
fn grid_twice(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    for _ in 0..2 {
        g[1][0] = g[0][1] + x[0];
        if x[1] > 0.0 {
            g[0][1] += x[0];
        }
    }
    g[0][1] * g[1][0]
}

/// The same with an `else` that writes the other row.
/// With x₁ > 0: g[0][1] = 2x₀ and g[1][0] = 0, f = 0 + x₀·(2x₀) = 2x₀² (∂x₀ = 4x₀);
/// with x₁ ≤ 0: g[1][0] = 2x₀ and f = 2x₀·x₀ = 2x₀² too.
#[differentiate]
fn grid_either(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    for _ in 0..2 {
        if x[1] > 0.0 {
            g[0][1] += x[0];
        } else {
            g[1][0] += x[0];
        }
    }
    g[0][1] * g[1][0] + x[0] * (g[0][1] + g[1][0])
}

#[derive(Clone, Debug, Differentiable)]
struct Q {
    x: f64,
    y: f64,
}

/// `grid_twice` with its Hessian: f = 4x₀² + x₀x₁ with x₁ > 0, H = [[8, 1], [1, 0]].
#[differentiate(hessian)]
fn grid_twice_h(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    for _ in 0..2 {
        g[1][0] = g[0][1] + x[0];
        if x[1] > 0.0 {
            g[0][1] += x[0];
        }
    }
    g[0][1] * g[1][0] + x[0] * x[1]
}

#[test]
fn hessian_through_a_grid_written_under_an_if() {
    let x = [0.7, 1.0];
    let (v, g, hv) = grid_twice_h_hvp(&x, &vec![1.0, 0.0]);
    assert_eq!(v, grid_twice_h(&x));
    close_all("gradient", &g, &[8.0 * 0.7 + 1.0, 0.7]);
    close_all("H·e₀", &hv, &[8.0, 1.0]);
    let (_, _, hv) = grid_twice_h_hvp(&x, &vec![0.0, 1.0]);
    close_all("H·e₁", &hv, &[1.0, 0.0]);
}

/// `grid_twice` on a `Vec` of structs: f = 4x₀² with x₁ > 0.
#[differentiate]
fn structs_twice(x: &[f64]) -> f64 {
    let mut ps = vec![Q { x: 0.0, y: 0.0 }; 2];
    for _ in 0..2 {
        ps[1].x = ps[0].y + x[0];
        if x[1] > 0.0 {
            ps[0].y += x[0];
        }
    }
    ps[0].y * ps[1].x
}

/// A `Vec` of ndarray vectors: hs[1] = hs[0] + x₀, then (x₁ > 0) hs[0] = 2·hs[0] + x₀.
/// Iteration 1: hs[1] = x₀, hs[0] = x₀; iteration 2: hs[1] = 2x₀, hs[0] = 3x₀ (each of 2
/// entries): f = (2·3x₀)(2·2x₀) = 24x₀², ∂x₀ = 48x₀.
#[differentiate]
fn vectors_twice(x: &[f64]) -> f64 {
    let mut hs = vec![Array1::<f64>::zeros(2); 2];
    for _ in 0..2 {
        hs[1] = &hs[0] + x[0];
        if x[1] > 0.0 {
            hs[0] = &hs[0] * 2.0 + x[0];
        }
    }
    hs[0].sum() * hs[1].sum()
}

/// Whole rows written: as `grid_twice`, f = 4x₀².
#[differentiate]
fn rows_twice(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    for _ in 0..2 {
        g[1] = vec![g[0][1] + x[0], 0.0];
        if x[1] > 0.0 {
            g[0] = vec![0.0, g[0][1] + x[0]];
        }
    }
    g[0][1] * g[1][0]
}

#[test]
fn containers_of_rows_written_under_an_if() {
    for (x0, x1) in [(0.7, 1.0), (-1.3, 0.5), (0.7, -1.0)] {
        let x = [x0, x1];
        let on = if x1 > 0.0 { 1.0 } else { 0.0 };
        let cases: [(&str, fn(&[f64]) -> f64, fn(&[f64]) -> (f64, Vec<f64>), f64); 5] = [
            ("grid_twice", grid_twice, grid_twice_grad, 8.0 * on),
            ("grid_either", grid_either, grid_either_grad, 4.0),
            ("structs_twice", structs_twice, structs_twice_grad, 8.0 * on),
            (
                "vectors_twice",
                vectors_twice,
                vectors_twice_grad,
                48.0 * on,
            ),
            ("rows_twice", rows_twice, rows_twice_grad, 8.0 * on),
        ];
        for (name, f, grad, k) in cases {
            let (v, g) = grad(&x);
            assert_eq!(v, f(&x), "{name} value");
            close_all(name, &g, &[k * x0, 0.0]);
            fd_vec(name, f, &x, &g);
        }
    }
}

/// log |det A| by Gaussian elimination with partial pivoting, rows swapped under an `if` in
/// the loop that carries the matrix, A = X + 3I (3×3, `Vec<Vec<f64>>`). Its gradient is
/// A⁻ᵀ. The loop's pullback took the matrix's adjoint leaving zeros made from its length, which
/// makes no rows: rustc's E0277 inside the generated code. Each arm of the swap's `if` now
/// assigns it (see `simplify::move_carried_adjoints`).
#[differentiate]
fn log_det(x: &[f64]) -> f64 {
    let n = 3;
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| x[i * n + j] + if i == j { 3.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let mut ld = 0.0;
    for k in 0..n {
        let mut p = k;
        for i in k + 1..n {
            if a[i][k].abs() > a[p][k].abs() {
                p = i;
            }
        }
        if p != k {
            a.swap(p, k);
        }
        let piv = a[k][k];
        ld += piv.abs().ln();
        for i in k + 1..n {
            let f = a[i][k] / piv;
            for j in k..n {
                a[i][j] -= f * a[k][j];
            }
        }
    }
    ld
}

#[test]
fn log_det_with_row_swaps() {
    // Off-diagonal entries large enough that the pivot search swaps rows.
    let x = [0.3, -1.2, 0.7, 4.9, -0.4, 0.05, 0.6, 0.2, -0.9];
    let (v, g) = log_det_grad(&x);
    assert_eq!(v, log_det(&x));
    fd_vec("log det", log_det, &x, &g);
    // ∂ log|det A| / ∂A = A⁻ᵀ: check A·gᵀ = I.
    let a = |i: usize, j: usize| x[i * 3 + j] + if i == j { 3.0 } else { 0.0 };
    for i in 0..3 {
        for j in 0..3 {
            let s: f64 = (0..3).map(|k| a(i, k) * g[j * 3 + k]).sum();
            close(
                &format!("(A·Gᵀ)[{i}][{j}]"),
                s,
                if i == j { 1.0 } else { 0.0 },
                1e-12,
            );
        }
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

/// A `Vec` of structs emptied by `while let Some(p) = ps.pop()`: f = 2·x₀ + x₀·1 = 3x₀. This
/// was a compile error (the loop changes the length of the `Vec` it carries, and its adjoint
/// was taken leaving zeros made from a length); the arms of the loop's test now receive it
/// whole.
#[differentiate]
fn popped_in_a_loop(x0: f64) -> f64 {
    let mut ps = vec![Particle { x: x0, v: 1.0 }, Particle { x: 2.0, v: x0 }];
    let mut s = 0.0;
    while let Some(p) = ps.pop() {
        s += p.x * p.v;
    }
    s
}

/// Pushes and pops under an `if`: push (2x₀, ½), pop it (s += x₀), twice: f = 2x₀ + 2.
#[differentiate]
fn pushed_and_popped(x0: f64) -> f64 {
    let mut ps = vec![Particle { x: x0, v: 1.0 }, Particle { x: 2.0, v: x0 }];
    let mut s = 0.0;
    for i in 0..4 {
        if i % 2 == 0 {
            ps.push(Particle {
                x: x0 * 2.0,
                v: 0.5,
            });
        } else {
            let p = ps.pop().unwrap();
            s += p.x * p.v;
        }
    }
    s + ps.len() as f64
}

#[test]
fn structs_popped_and_pushed_in_loops() {
    for x0 in [1.5, -0.25] {
        assert_eq!(popped_in_a_loop_grad(x0), (popped_in_a_loop(x0), 3.0));
        assert_eq!(pushed_and_popped_grad(x0), (pushed_and_popped(x0), 2.0));
    }
}

/// A copy of a parameter grid (`rows.to_vec()`) whose row is replaced by a row of another
/// length: the copy was not seen as a grid, so the replaced row's adjoint took the new row's
/// length. Refined in a loop (a row grown by one point per iteration) the gradient was wrong
/// with no error (∂/∂g₀₀ 0.98 where it is 1.47, with a gradient row of length 3 for a
/// parameter row of length 1); shrunk, the pullback panicked.
#[differentiate]
fn refine_first_row(g0: &[Vec<f64>], c: f64) -> f64 {
    let mut g = g0.to_vec();
    for _ in 0..2 {
        let n = g[0].len();
        g[0] = (0..n + 1).map(|i| g[0][i.min(n - 1)] * c).collect();
    }
    g[0].iter().sum::<f64>() + g[1][0]
}

#[differentiate]
fn shrink_second_row(rows: &Vec<Vec<f64>>, c: f64) -> f64 {
    let mut g = rows.clone();
    let before = g[1][0] * g[1][1] * 10.0;
    g[1] = vec![c * g[1][1]];
    before
        + g.iter()
            .map(|r| r.iter().map(|v| v * v).sum::<f64>())
            .sum::<f64>()
}

#[test]
fn copied_grids_with_rows_of_another_length() {
    let rows = vec![vec![0.5], vec![0.3, -0.2]];
    let c = 0.7;
    let (v, (gr, gc)) = refine_first_row_grad(&rows, c);
    assert_eq!(v, refine_first_row(&rows, c));
    // Row 0 becomes [a·c, a·c] then [a·c², a·c², a·c²]: the sum is 3·a·c².
    assert_eq!(gr.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 2]);
    assert!((gr[0][0] - 3.0 * c * c).abs() < 1e-12, "{gr:?}");
    assert_eq!(gr[1], vec![1.0, 0.0]);
    assert!((gc - 6.0 * 0.5 * c).abs() < 1e-12, "{gc}");

    let (v, (gr, gc)) = shrink_second_row_grad(&rows, c);
    assert_eq!(v, shrink_second_row(&rows, c));
    let (a, b) = (rows[1][0], rows[1][1]);
    // 10·a·b + x₀² + (c·b)²: ∂a = 10b, ∂b = 10a + 2c²b, ∂c = 2cb².
    assert_eq!(gr[0], vec![2.0 * rows[0][0]]);
    assert!(
        (gr[1][0] - 10.0 * b).abs() < 1e-12
            && (gr[1][1] - (10.0 * a + 2.0 * c * c * b)).abs() < 1e-12
    );
    assert!((gc - 2.0 * c * b * b).abs() < 1e-12);
}
