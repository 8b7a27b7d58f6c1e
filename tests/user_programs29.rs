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
//! Each gradient is checked against its analytic form where it is short (stated beside the
//! function) and against central finite differences through `autodiff::check`.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::differentiate;

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
