//! Structural mechanics and environmental models as engineers write them: bars, beams and
//! trusses assembled into stiffness matrices and solved by hand-written elimination, and
//! reservoir and snow models fitted to observations.
//!
//! A row taken out of a `Vec<Vec<f64>>` and dropped, `k.remove(d);` (a fixed degree of freedom
//! removed from the stiffness matrix, also `k.swap_remove(d);`), was a build error that the
//! container's length changes and its elements' zero needs a shape: the cotangent of the row
//! that nothing read was a zero made from the type alone. It is now a zero shaped like the row
//! removed, and the gradient reaches the matrix's other entries.
//!
//! A row of a matrix made by `vec![vec![0.0; n]; n]` replaced by one of another length, `k[i]
//! = r` of a row with its first column removed (`*row = ..` of `for row in k.iter_mut()` too),
//! panicked in the backward pass with "Vec add_assign: length mismatch": the row's adjoint
//! was taken leaving a zero of the new row's length, where the old row's adjoint was then
//! added. The rows of a matrix made so were of a type the macro did not know, their floats'
//! type being open until written; they are now rows, as those of a matrix declared
//! `Vec<Vec<f64>>` were, and the zero left has the old row's length.
//!
//! Each gradient is checked against its analytic form where it is short (stated beside the
//! function) and against central finite differences through `autodiff::check`.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::Array1;

mod common;
use common::*;

/// The compliance `fᵀu` of a bar of `e.len()` springs in series, node 0 fixed by removing its
/// row and column from the assembled matrix: `Σ P²/k_e`, so `∂/∂k_e = −P²/k_e²`.
#[differentiate]
fn bar_removed_rows(k_el: &[f64], load: f64) -> f64 {
    let n = k_el.len() + 1;
    let mut k = vec![vec![0.0; n]; n];
    for (e, &ke) in k_el.iter().enumerate() {
        k[e][e] += ke;
        k[e][e + 1] -= ke;
        k[e + 1][e] -= ke;
        k[e + 1][e + 1] += ke;
    }
    let mut f = vec![0.0; n];
    f[n - 1] = load;
    k.remove(0);
    k = k
        .iter()
        .map(|row| {
            let mut r = row.clone();
            r.remove(0);
            r
        })
        .collect();
    f.remove(0);
    let m = f.len();
    let mut b = f.clone();
    for p in 0..m {
        for r in p + 1..m {
            let c = k[r][p] / k[p][p];
            for j in p..m {
                k[r][j] -= c * k[p][j];
            }
            b[r] -= c * b[p];
        }
    }
    let mut u = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|j| k[i][j] * u[j]).sum();
        u[i] = (b[i] - s) / k[i][i];
    }
    f.iter().zip(&u).map(|(a, b)| a * b).sum()
}

#[test]
fn a_row_removed_from_the_stiffness_matrix_and_dropped() {
    let k = [2.0, 3.0, 1.5, 4.0];
    let (c, (gk, gp)) = bar_removed_rows_grad(&k, 0.7);
    let flex: f64 = k.iter().map(|v| 1.0 / v).sum();
    close("compliance", c, 0.49 * flex, 1e-12);
    for (i, (&g, &ke)) in gk.iter().zip(&k).enumerate() {
        close(&format!("∂k{i}"), g, -0.49 / (ke * ke), 1e-10);
    }
    close("∂P", gp, 2.0 * 0.7 * flex, 1e-10);
    fd_vec("k", |x| bar_removed_rows(x, 0.7), &k, &gk);
}

/// The same with the last rows dropped by `swap_remove` (which moves the last row into the
/// removed one's place; here the removed row is the last, so nothing moves), keeping the block
/// of the first `m` nodes of a bar fixed at its far end: `Σ P²/k_e` again.
#[differentiate]
fn bar_swap_removed(k_el: &[f64], load: f64) -> f64 {
    let n = k_el.len() + 1;
    let mut k = vec![vec![0.0; n]; n];
    for e in 0..n - 1 {
        k[e][e] += k_el[e];
        k[e][e + 1] -= k_el[e];
        k[e + 1][e] -= k_el[e];
        k[e + 1][e + 1] += k_el[e];
    }
    k.swap_remove(n - 1);
    let m = n - 1;
    let mut a: Vec<Vec<f64>> = k.iter().map(|row| row[..m].to_vec()).collect();
    let mut b = vec![0.0; m];
    b[0] = load;
    for p in 0..m {
        for r in p + 1..m {
            let c = a[r][p] / a[p][p];
            for j in p..m {
                a[r][j] -= c * a[p][j];
            }
            b[r] -= c * b[p];
        }
    }
    let mut u = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|j| a[i][j] * u[j]).sum();
        u[i] = (b[i] - s) / a[i][i];
    }
    load * u[0]
}

#[test]
fn a_row_swap_removed_and_dropped() {
    let k = [2.0, 3.0, 1.5];
    let (c, (gk, _)) = bar_swap_removed_grad(&k, 0.7);
    let flex: f64 = k.iter().map(|v| 1.0 / v).sum();
    close("compliance", c, 0.49 * flex, 1e-12);
    for (i, (&g, &ke)) in gk.iter().zip(&k).enumerate() {
        close(&format!("∂k{i}"), g, -0.49 / (ke * ke), 1e-10);
    }
    fd_vec("k", |x| bar_swap_removed(x, 0.7), &k, &gk);
}

#[derive(Clone, Differentiable)]
struct Layer {
    w: Vec<f64>,
}

/// Rows of other kinds dropped the same way: an `Array1` taken out by `remove` and a struct
/// with a `Vec` field by `swap_remove`, neither read. With `r_i = (x_i, x_i²)` and `w_i = (x_i,
/// 2x_i)`, what is left sums to `Σ_{i≥1} (x_i + x_i²) + Σ_{i≥1} 3x_i`:
/// `∂x₀ = 0`, `∂x_i = 4 + 2x_i`.
#[differentiate]
fn rows_dropped(x: &[f64]) -> f64 {
    let mut rows: Vec<Array1<f64>> = Vec::new();
    let mut ls: Vec<Layer> = Vec::new();
    for i in 0..3 {
        rows.push(Array1::from(vec![x[i], x[i] * x[i]]));
        ls.push(Layer {
            w: vec![x[i], 2.0 * x[i]],
        });
    }
    rows.remove(0);
    ls.swap_remove(0);
    rows.iter().map(|r| r.sum()).sum::<f64>()
        + ls.iter().map(|l| l.w.iter().sum::<f64>()).sum::<f64>()
}

#[test]
fn an_array_row_and_a_struct_with_a_vec_dropped() {
    let x = [0.5, 1.5, -0.7];
    let (_, g) = rows_dropped_grad(&x);
    close("∂x0", g[0], 0.0, 1e-12);
    close("∂x1", g[1], 4.0 + 3.0, 1e-12);
    close("∂x2", g[2], 4.0 - 1.4, 1e-12);
    fd_vec("x", rows_dropped, &x, &g);
}

/// The strain energy `½ uᵀK_r u` of the rows left after the fixed node's row is dropped, with
/// its Hessian-vector product against the difference of gradients and its tangent against the
/// gradient.
#[differentiate(hessian)]
fn energy_of_rows_left(k_el: &[f64], u: &[f64]) -> f64 {
    let n = k_el.len() + 1;
    let mut k = vec![vec![0.0; n]; n];
    for e in 0..n - 1 {
        k[e][e] += k_el[e];
        k[e][e + 1] -= k_el[e];
        k[e + 1][e] -= k_el[e];
        k[e + 1][e + 1] += k_el[e];
    }
    k.remove(0);
    let mut w = 0.0;
    for i in 0..n - 1 {
        for j in 1..n {
            w += 0.5 * u[i] * k[i][j] * u[j - 1];
        }
    }
    w
}

#[test]
fn a_dropped_row_under_forward_mode_and_the_hessian() {
    let k = [2.0, 3.0, 1.5];
    let u = [0.2, -0.1, 0.4];
    let (_, (gk, gu)) = energy_of_rows_left_grad(&k, &u);
    fd_vec("k", |x| energy_of_rows_left(x, &u), &k, &gk);
    fd_vec("u", |x| energy_of_rows_left(&k, x), &u, &gu);
    let dk = vec![0.1, -0.2, 0.3];
    let du = vec![0.3, 0.1, -0.2];
    let (_, t) = energy_of_rows_left_jvp(&k, &u, &dk, &du);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    close("tangent", t, dot(&gk, &dk) + dot(&gu, &du), 1e-12);
    let (_, _, hv) = energy_of_rows_left_hvp(&k, &u, &dk, &du);
    let h = 1e-5;
    let at = |s: f64| {
        let kk: Vec<f64> = k.iter().zip(&dk).map(|(a, b)| a + s * b).collect();
        let uu: Vec<f64> = u.iter().zip(&du).map(|(a, b)| a + s * b).collect();
        energy_of_rows_left_grad(&kk, &uu).1
    };
    let (p, m) = (at(h), at(-h));
    for i in 0..3 {
        close("H·v, k", hv.0[i], (p.0[i] - m.0[i]) / (2.0 * h), 1e-6);
        close("H·v, u", hv.1[i], (p.1[i] - m.1[i]) / (2.0 * h), 1e-6);
    }
}

/// The stiffness of springs in series assembled into `vec![vec![0.0; n]; n]`, each row then
/// replaced by itself without its first column (node 0 fixed), written back by index and
/// through `iter_mut()`. The rows left are `(−k₀, 0, 0)`, `(k₀+k₁, −k₁, 0)`, `(−k₁, k₁+k₂, −k₂)`
/// and `(0, −k₂, k₂)`, whose sum of squares has `∂k₀ = 2k₀ + 2(k₀+k₁)`, `∂k₁ = 2(k₀+k₁) + 4k₁ +
/// 2(k₁+k₂)` and `∂k₂ = 2(k₁+k₂) + 6k₂`: `(6, 12, 10)` at `k = (1, 1, 1)`.
#[differentiate]
fn rows_replaced_shorter(k_el: &[f64]) -> f64 {
    let n = k_el.len() + 1;
    let mut k = vec![vec![0.0; n]; n];
    for e in 0..n - 1 {
        k[e][e] += k_el[e];
        k[e][e + 1] -= k_el[e];
        k[e + 1][e] -= k_el[e];
        k[e + 1][e + 1] += k_el[e];
    }
    for i in 0..2 {
        let mut r = k[i].clone();
        r.remove(0);
        k[i] = r;
    }
    for row in k.iter_mut().skip(2) {
        *row = {
            let mut r = row.clone();
            r.remove(0);
            r
        };
    }
    k.iter().map(|r| r.iter().map(|v| v * v).sum::<f64>()).sum()
}

#[test]
fn rows_of_a_matrix_made_by_vec_replaced_by_shorter_ones() {
    let (_, g) = rows_replaced_shorter_grad(&[1.0, 1.0, 1.0]);
    close("∂k0", g[0], 6.0, 1e-12);
    close("∂k1", g[1], 12.0, 1e-12);
    close("∂k2", g[2], 10.0, 1e-12);
    let k = [2.0, 3.0, 1.5];
    let (_, g) = rows_replaced_shorter_grad(&k);
    fd_vec("k", rows_replaced_shorter, &k, &g);
}
