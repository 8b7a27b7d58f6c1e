//! Molecular modelling and bioinformatics programs: force fields over positions stored as
//! `Vec<[f64; 3]>` and flat slices, neighbour lists, and likelihoods of sequence models.
//!
//! A neighbour list built inside a differentiated function, `let mut nbrs: Vec<Vec<usize>> =
//! vec![Vec::new(); n];` with `nbrs[i].push(j)` for the pairs within a cutoff, was the error
//! "`.push(..)` on an element of a container changes the element's length, which the
//! derivative does not follow", whose advice (build rows of floats with their length) did not
//! fit rows of integers, which carry no derivative. A row of integers now changes as written
//! (also where the container's type is not written and the pushed values are integers), and
//! a row of floats pushed into is still that error.
//!
//! A traceback table of a dynamic-programming alignment, `ptr[i][j] = 1` of `let mut ptr:
//! Vec<Vec<u8>> = vec![vec![0; m + 1]; n + 1];` beside the table of scores, was rustc's "cannot
//! move out of index of `Vec<Vec<u8>>`" in the generated code: the row read to be written back
//! was moved out of the grid, as a row of integers is not `Copy`. It is now a copy, as a row of
//! floats is. A row of a table of data changed by a method with a closure,
//! `nbrs[i].retain(|&j| j != i)`, was the error that the closure may change the row, "write an
//! index loop" (which a filter is not); and a table of integers written with an integer literal
//! or a slice of them (`ptr[i][j] = 0`, `v[i].extend_from_slice(&[0, 1])`) was taken to be of
//! unknown contents afterwards, which the changes of its rows then refused. Writing into a
//! container of data keeps it data (Rust gives the value the elements' type), and its rows'
//! changes run as written: `retain` as the filter it is, the others on a copy of the row
//! written back.
//!
//! The flat view of coordinates stored as rows of fixed-size arrays, `pos.as_flattened()` of
//! `pos: &[[f64; 3]]` (stable since Rust 1.80), was "no derivative rule for method
//! `as_flattened`", whose advice spoke of methods of structs. It is the copy of the elements in
//! order, as `pos.iter().flatten().copied().collect::<Vec<_>>()` is.
//!
//! A map indexed by the item of a loop over references, `idx[c]` of `for (pos, c) in
//! chars.iter().enumerate()` (an alphabet's index, a k-mer's code) or `eps[el]` of `for el in
//! elems.iter()` over a map parameter, was rustc's "expected `&char`, found `char`" in the
//! generated code, which binds the item's value: the map is now lent the reference, as in Rust.
//!
//! A lookup in a map with a default, `q.get(names[i]).copied().unwrap_or(0.0)` of a key of
//! `&str` written without `&`, was taken for an element of a slice at a position; it runs as
//! written.
//!
//! A local set of data, the excluded pairs of a force field built from its bonds with
//! `excluded.insert((i, j))`, was "`insert` takes 2 argument(s) here, found 1": the insert was
//! taken for a `Vec`'s, which takes a position too. A set holds no float, and its `insert` of
//! one value is made as written.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use std::collections::{HashMap, HashSet};

mod common;
use common::*;

fn flat3(p: &[[f64; 3]]) -> Vec<f64> {
    p.iter().flat_map(|a| a.iter().copied()).collect()
}

fn unflat3(x: &[f64]) -> Vec<[f64; 3]> {
    x.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Neighbour lists: rows of integers pushed into.
// ---------------------------------------------------------------------------------------------

/// An embedded-atom energy over a neighbour list built from the distances: `E = −a Σ_i √ρ_i`,
/// `ρ_i = Σ_{j ∈ N(i)} φ(r_ij)`, `φ(r) = exp(−β(r − 1))·(1 − r/rc)²`. With `u = r_ij/rc` and
/// `φ'(r) = −β φ(r) − 2 exp(−β(r − 1))(1 − u)/rc`, `∂E/∂x_i = −a/2 Σ_j (ρ_i^{−½} + ρ_j^{−½})
/// φ'(r_ij) (x_i − x_j)/r_ij` over the neighbours (the list is symmetric).
#[differentiate(wrt(pos))]
fn eam_energy(pos: &[[f64; 3]], rc: f64, a: f64, beta: f64) -> f64 {
    let n = pos.len();
    let mut nbrs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let d2: f64 = (0..3).map(|c| (pos[i][c] - pos[j][c]).powi(2)).sum();
            if d2 < rc * rc {
                nbrs[i].push(j);
            }
        }
    }
    let mut e = 0.0;
    for i in 0..n {
        let mut rho = 0.0;
        for &j in &nbrs[i] {
            let r = (0..3)
                .map(|c| (pos[i][c] - pos[j][c]).powi(2))
                .sum::<f64>()
                .sqrt();
            rho += (-beta * (r - 1.0)).exp() * (1.0 - r / rc).powi(2);
        }
        e += -a * rho.sqrt();
    }
    e
}

/// The analytic gradient of [`eam_energy`] (see there).
fn eam_gradient(pos: &[[f64; 3]], rc: f64, a: f64, beta: f64) -> Vec<[f64; 3]> {
    let n = pos.len();
    let dist = |i: usize, j: usize| {
        (0..3)
            .map(|c| (pos[i][c] - pos[j][c]).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let rho: Vec<f64> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i && dist(i, j) < rc)
                .map(|j| {
                    let r = dist(i, j);
                    (-beta * (r - 1.0)).exp() * (1.0 - r / rc).powi(2)
                })
                .sum()
        })
        .collect();
    let mut g = vec![[0.0; 3]; n];
    for i in 0..n {
        for j in 0..n {
            let r = dist(i, j);
            if i == j || r >= rc {
                continue;
            }
            let ex = (-beta * (r - 1.0)).exp();
            let dphi = -beta * ex * (1.0 - r / rc).powi(2) - 2.0 * ex * (1.0 - r / rc) / rc;
            let w = -0.5 * a * (rho[i].powf(-0.5) + rho[j].powf(-0.5)) * dphi / r;
            for c in 0..3 {
                g[i][c] += w * (pos[i][c] - pos[j][c]);
            }
        }
    }
    g
}

#[test]
fn neighbour_list_of_integers_pushed_per_row() {
    // The last atom has no neighbour within the cutoff; the others have one to three.
    let pos = vec![
        [0.0, 0.1, 0.2],
        [1.1, 0.0, -0.2],
        [0.3, 1.2, 0.4],
        [1.9, 1.7, 0.9],
        [3.5, 3.0, 3.0],
    ];
    let (rc, a, beta) = (2.5, 1.0, 2.0);
    let (e, g) = eam_energy_grad(&pos, rc, a, beta);
    assert_eq!(e, eam_energy(&pos, rc, a, beta));
    close_all(
        "∂E/∂x",
        &flat3(&g),
        &flat3(&eam_gradient(&pos, rc, a, beta)),
    );
    let r = gradcheck(
        |x: &Vec<f64>| eam_energy(&unflat3(x), rc, a, beta),
        &flat3(&pos),
        &flat3(&g),
    );
    assert!(r.passed(), "{r}");
}

/// As [`eam_energy`]'s list, the container's type unwritten (its rows take the type of the
/// integers pushed), with the list's lengths read too: `E = Σ_i Σ_{j ∈ N(i)} (x_i − x_j)² +
/// Σ_i |N(i)|·x_i`, `N(i) = {j ≠ i : |x_i − x_j| < 2.5}`: `∂E/∂x_i = 4 Σ_{j ∈ N(i)} (x_i −
/// x_j) + |N(i)|`.
#[differentiate(wrt(x))]
fn list_energy(x: &[f64]) -> f64 {
    let n = x.len();
    let mut nbrs = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i != j && (x[i] - x[j]).abs() < 2.5 {
                nbrs[i].push(j);
            }
        }
    }
    let mut e = 0.0;
    for i in 0..n {
        for &j in &nbrs[i] {
            e += (x[i] - x[j]).powi(2);
        }
        e += nbrs[i].len() as f64 * x[i];
    }
    e
}

#[test]
fn neighbour_list_of_an_unwritten_type() {
    let x = [1.0, -2.1, 3.0, 0.35, 1.7];
    let (e, g) = list_energy_grad(&x);
    assert_eq!(e, list_energy(&x));
    let near = |i: usize, j: usize| i != j && (x[i] - x[j]).abs() < 2.5;
    let expected: Vec<f64> = (0..x.len())
        .map(|i| {
            let nb: Vec<usize> = (0..x.len()).filter(|&j| near(i, j)).collect();
            4.0 * nb.iter().map(|&j| x[i] - x[j]).sum::<f64>() + nb.len() as f64
        })
        .collect();
    close_all("∂E/∂x", &g, &expected);
    fd_vec("list_energy", list_energy, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 2. A row of a table of fixed-size arrays copied into a `Vec`.
// ---------------------------------------------------------------------------------------------

/// `log Σ exp(v)`, shifted by the largest element.
#[differentiate(hessian)]
fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// The forward algorithm of a three-state hidden Markov model in log space, the first column
/// of emissions copied out of a table of rows, `emit[0].to_vec()` (it was rustc's "expected
/// `[f64; 3]`, found `Vec<f64>`" in the generated code: the `Vec`'s adjoint was added into the
/// row's, an array). A forbidden transition is a log-probability of −∞. With `α_t(j) =
/// e_t(j) + log Σ_i exp(α_{t−1}(i) + A_ij)` and `L = log Σ_j exp(α_T(j))`, `∂L/∂e_t(j)` is the
/// posterior probability of state `j` at time `t`, `exp(α_t(j) + β_t(j) − L)` with the backward
/// `β_t(i) = log Σ_j exp(A_ij + e_{t+1}(j) + β_{t+1}(j))`, `β_T = 0`.
#[differentiate(hessian, wrt(emit))]
fn hmm_forward(emit: &[[f64; 3]], log_a: &[[f64; 3]; 3]) -> f64 {
    let mut alpha = emit[0].to_vec();
    for t in 1..emit.len() {
        let mut next = vec![0.0; 3];
        for j in 0..3 {
            let terms: Vec<f64> = (0..3).map(|i| alpha[i] + log_a[i][j]).collect();
            next[j] = log_sum_exp(&terms) + emit[t][j];
        }
        alpha = next;
    }
    log_sum_exp(&alpha)
}

/// The posteriors `exp(α_t(j) + β_t(j) − L)` of [`hmm_forward`] (see there).
fn hmm_posteriors(emit: &[[f64; 3]], log_a: &[[f64; 3]; 3]) -> Vec<[f64; 3]> {
    let lse = |v: &[f64]| {
        let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    let n = emit.len();
    let mut alpha = vec![emit[0]; n];
    for t in 1..n {
        for j in 0..3 {
            let terms: Vec<f64> = (0..3).map(|i| alpha[t - 1][i] + log_a[i][j]).collect();
            alpha[t][j] = lse(&terms) + emit[t][j];
        }
    }
    let mut beta = vec![[0.0; 3]; n];
    for t in (0..n - 1).rev() {
        for i in 0..3 {
            let terms: Vec<f64> = (0..3)
                .map(|j| log_a[i][j] + emit[t + 1][j] + beta[t + 1][j])
                .collect();
            beta[t][i] = lse(&terms);
        }
    }
    let l = lse(&alpha[n - 1]);
    (0..n)
        .map(|t| std::array::from_fn(|j| (alpha[t][j] + beta[t][j] - l).exp()))
        .collect()
}

#[test]
fn hmm_forward_from_a_row_copied_to_a_vec() {
    let ninf = f64::NEG_INFINITY;
    let log_a = [[-0.1, -2.4, ninf], [ninf, -0.2, -1.7], [-1.0, ninf, -0.5]];
    let emit: Vec<[f64; 3]> = (0..6)
        .map(|t| {
            let u = t as f64;
            [
                -(u * 0.7).sin().abs() - 0.1,
                -(u * 1.3).cos().abs() - 0.2,
                -0.6,
            ]
        })
        .collect();
    let (l, g) = hmm_forward_grad(&emit, &log_a);
    assert_eq!(l, hmm_forward(&emit, &log_a));
    close_all("∂L/∂e", &flat3(&g), &flat3(&hmm_posteriors(&emit, &log_a)));
    // The posteriors of each time step sum to one.
    for row in &g {
        close("Σ posteriors", row.iter().sum(), 1.0, TOL);
    }
    let r = gradcheck(
        |x: &Vec<f64>| hmm_forward(&unflat3(x), &log_a),
        &flat3(&emit),
        &flat3(&g),
    );
    assert!(r.passed(), "{r}");
    // The tangent along a direction is the gradient's projection on it, and the
    // Hessian-vector product the difference of gradients along it.
    let v: Vec<[f64; 3]> = (0..6).map(|t| [0.1 * t as f64, -0.2, 0.3]).collect();
    let (_, t) = hmm_forward_jvp(&emit, &log_a, &v);
    let projection: f64 = flat3(&g).iter().zip(flat3(&v)).map(|(a, b)| a * b).sum();
    close("J·v", t, projection, TOL);
    let (_, _, hv) = hmm_forward_hvp(&emit, &log_a, &v);
    let h = 1e-5;
    let shifted = |s: f64| -> Vec<f64> {
        let e: Vec<[f64; 3]> = emit
            .iter()
            .zip(&v)
            .map(|(e, d)| std::array::from_fn(|k| e[k] + s * d[k]))
            .collect();
        flat3(&hmm_forward_grad(&e, &log_a).1)
    };
    let (gp, gm) = (shifted(h), shifted(-h));
    for (k, a) in flat3(&hv).iter().enumerate() {
        close(&format!("H·v[{k}]"), *a, (gp[k] - gm[k]) / (2.0 * h), 1e-7);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Tables of integers beside the floats: traceback pointers, pruned neighbour lists.
// ---------------------------------------------------------------------------------------------

/// Needleman–Wunsch alignment cost with a traceback table: `D[i][j] = min(D[i−1][j−1] +
/// c[i−1][j−1], D[i−1][j] + g, D[i][j−1] + g)`, `ptr` records which, and the result is the
/// optimal cost plus the sum of the costs of the matched pairs on the traceback path: `S = D[n][m]
/// + Σ_{(i, j) matched} c[i][j]`. Away from ties, `D[n][m]` is the sum of the matched costs and
/// `g` times the number of gaps, so `∂S/∂c[i][j] = 2` on the matched pairs of the optimal path,
/// 0 elsewhere, and `∂S/∂g` is the number of gaps.
#[differentiate]
fn alignment_with_traceback(cost: &[Vec<f64>], gap: f64) -> f64 {
    let n = cost.len();
    let m = cost[0].len();
    let mut d = vec![vec![0.0; m + 1]; n + 1];
    let mut ptr: Vec<Vec<u8>> = vec![vec![0; m + 1]; n + 1];
    for i in 1..=n {
        d[i][0] = i as f64 * gap;
        ptr[i][0] = 1;
    }
    for j in 1..=m {
        d[0][j] = j as f64 * gap;
        ptr[0][j] = 2;
    }
    for i in 1..=n {
        for j in 1..=m {
            let diag = d[i - 1][j - 1] + cost[i - 1][j - 1];
            let up = d[i - 1][j] + gap;
            let left = d[i][j - 1] + gap;
            if diag <= up && diag <= left {
                d[i][j] = diag;
                ptr[i][j] = 0;
            } else if up <= left {
                d[i][j] = up;
                ptr[i][j] = 1;
            } else {
                d[i][j] = left;
                ptr[i][j] = 2;
            }
        }
    }
    let (mut i, mut j) = (n, m);
    let mut matched = 0.0;
    while i > 0 || j > 0 {
        match ptr[i][j] {
            0 => {
                matched += cost[i - 1][j - 1];
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    d[n][m] + matched
}

/// The matched pairs and the number of gaps of the optimal path of
/// [`alignment_with_traceback`], by the same recursion.
fn traceback(cost: &[Vec<f64>], gap: f64) -> (Vec<(usize, usize)>, usize) {
    let (n, m) = (cost.len(), cost[0].len());
    let mut d = vec![vec![0.0; m + 1]; n + 1];
    for i in 0..=n {
        d[i][0] = i as f64 * gap;
    }
    for j in 0..=m {
        d[0][j] = j as f64 * gap;
    }
    for i in 1..=n {
        for j in 1..=m {
            d[i][j] = (d[i - 1][j - 1] + cost[i - 1][j - 1])
                .min(d[i - 1][j] + gap)
                .min(d[i][j - 1] + gap);
        }
    }
    let (mut i, mut j, mut pairs, mut gaps) = (n, m, Vec::new(), 0);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + cost[i - 1][j - 1] {
            pairs.push((i - 1, j - 1));
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + gap {
            i -= 1;
            gaps += 1;
        } else {
            j -= 1;
            gaps += 1;
        }
    }
    (pairs, gaps)
}

#[test]
fn alignment_with_a_traceback_table_of_integers() {
    let cost: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..6)
                .map(|j| (((i * 6 + j) as f64) * 0.77).sin().abs())
                .collect()
        })
        .collect();
    let gap = 0.6;
    let (s, (gc, gg)) = alignment_with_traceback_grad(&cost, gap);
    assert_eq!(s, alignment_with_traceback(&cost, gap));
    let (pairs, gaps) = traceback(&cost, gap);
    assert!(!pairs.is_empty() && gaps > 0);
    for (i, row) in gc.iter().enumerate() {
        for (j, &g) in row.iter().enumerate() {
            let want = if pairs.contains(&(i, j)) { 2.0 } else { 0.0 };
            close(&format!("∂S/∂c[{i}][{j}]"), g, want, TOL);
        }
    }
    close("∂S/∂g", gg, gaps as f64, TOL);
    let flat: Vec<f64> = cost.iter().flatten().copied().collect();
    let gflat: Vec<f64> = gc.iter().flatten().copied().collect();
    fd_vec(
        "alignment",
        |x| alignment_with_traceback(&x.chunks(6).map(|r| r.to_vec()).collect::<Vec<_>>(), gap),
        &flat,
        &gflat,
    );
}

/// A neighbour list of every other atom, pruned of the atom itself and of the atoms beyond the
/// cutoff by `retain` on its rows, then sorted and changed by the other row methods:
/// `E = Σ_i Σ_{j ∈ N(i)} (rc − |x_i − x_j|)²`, `N(i) = {j ≠ i : |x_i − x_j| < rc}`, so `∂E/∂x_i =
/// −4 Σ_{j ∈ N(i)} (rc − |x_i − x_j|)·sign(x_i − x_j)` (each pair is counted from both ends).
#[differentiate(wrt(x))]
fn pruned_pairs(x: &[f64], rc: f64) -> f64 {
    let n = x.len();
    let mut nbrs: Vec<Vec<usize>> = vec![(0..n).collect(); n];
    for i in 0..n {
        nbrs[i].retain(|&j| j != i && (x[i] - x[j]).abs() < rc);
        nbrs[i].extend_from_slice(&[i, i]);
        nbrs[i].sort_unstable();
        nbrs[i].dedup();
        nbrs[i].retain(|&j| j != i);
        nbrs[i].reverse();
    }
    let mut e = 0.0;
    for i in 0..n {
        for &j in &nbrs[i] {
            e += (rc - (x[i] - x[j]).abs()).powi(2);
        }
    }
    e
}

#[test]
fn neighbour_list_pruned_by_row_methods() {
    let x = [0.0, 0.7, 1.9, 2.3, 4.4];
    let rc = 1.5;
    let (e, g) = pruned_pairs_grad(&x, rc);
    assert_eq!(e, pruned_pairs(&x, rc));
    let expected: Vec<f64> = (0..x.len())
        .map(|i| {
            (0..x.len())
                .filter(|&j| j != i && (x[i] - x[j]).abs() < rc)
                .map(|j| -4.0 * (rc - (x[i] - x[j]).abs()) * (x[i] - x[j]).signum())
                .sum()
        })
        .collect();
    close_all("∂E/∂x", &g, &expected);
    fd_vec("pruned_pairs", |x| pruned_pairs(x, rc), &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 4. The flat view of rows of fixed-size arrays.
// ---------------------------------------------------------------------------------------------

/// `Σ_k x_k²` of a flat slice.
#[differentiate]
fn sum_of_squares(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum()
}

/// A restraint of the flattened coordinates `x = pos.as_flattened()` to weights `w`: `E = (Σ_k
/// w_k x_k)·x_4 + Σ_k x_k² + len(x)`, so `∂E/∂x_k = w_k x_4 + 2 x_k + [k = 4]·Σ_j w_j x_j`.
#[differentiate(wrt(pos))]
fn flat_restraint(pos: &[[f64; 3]], w: &[f64]) -> f64 {
    let flat = pos.as_flattened();
    let s: f64 = flat.iter().zip(w).map(|(a, b)| a * b).sum();
    s * flat[4] + sum_of_squares(pos.as_flattened()) + pos.as_flattened().len() as f64
}

#[test]
fn coordinates_flattened() {
    let pos = vec![[1.0, 2.0, 3.0], [0.5, 0.1, 0.2], [-0.3, 0.8, 1.1]];
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.5, -1.0, 0.25];
    let (e, g) = flat_restraint_grad(&pos, &w);
    assert_eq!(e, flat_restraint(&pos, &w));
    let x = flat3(&pos);
    let s: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
    let expected: Vec<f64> = (0..x.len())
        .map(|k| w[k] * x[4] + 2.0 * x[k] + if k == 4 { s } else { 0.0 })
        .collect();
    close_all("∂E/∂x", &flat3(&g), &expected);
    fd_vec(
        "flat_restraint",
        |x| flat_restraint(&unflat3(x), &w),
        &x,
        &flat3(&g),
    );
    let v: Vec<[f64; 3]> = (0..3).map(|i| [0.1 * i as f64, -0.2, 0.3]).collect();
    let (_, t) = flat_restraint_jvp(&pos, &w, &v);
    let projection: f64 = flat3(&g).iter().zip(flat3(&v)).map(|(a, b)| a * b).sum();
    close("J·v", t, projection, TOL);
}

// ---------------------------------------------------------------------------------------------
// 5. Maps of data indexed by the items of loops over references.
// ---------------------------------------------------------------------------------------------

/// A position-weighted spectrum of the 2-mers of a DNA string, the bases coded by a map built in
/// the function and the 2-mer by a rolling 2-bit code, compared to a target: `c_m = Σ_{p:
/// kmer(p) = m} exp(w_p)`, `T = Σ_m c_m`, `L = Σ_m (c_m/T − t_m)²`. With `u_m = 2(c_m/T − t_m)`,
/// `∂L/∂w_p = exp(w_p)·(u_{kmer(p)} − Σ_m u_m c_m/T)/T` for the positions that end a 2-mer (`p ≥
/// 1`), 0 for the first.
#[differentiate(wrt(w))]
fn kmer_spectrum_loss(w: &[f64], seq: &str, target: &[f64]) -> f64 {
    let code: HashMap<char, usize> = "ACGT".chars().enumerate().map(|(i, c)| (c, i)).collect();
    let chars: Vec<char> = seq.chars().collect();
    let mut counts = vec![0.0; 16];
    let mut kmer = 0usize;
    for (pos, c) in chars.iter().enumerate() {
        kmer = ((kmer << 2) | code[c]) & 15;
        if pos >= 1 {
            counts[kmer] += w[pos].exp();
        }
    }
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .zip(target)
        .map(|(c, t)| (c / total - t).powi(2))
        .sum()
}

#[test]
fn kmer_spectrum_coded_by_a_map() {
    let seq = "ACGTACGGTACCA";
    let w: Vec<f64> = (0..seq.len())
        .map(|i| ((i as f64) * 0.37).sin() * 0.5)
        .collect();
    let target: Vec<f64> = (0..16)
        .map(|m| if m % 3 == 0 { 0.15 } else { 0.02 })
        .collect();
    let (l, g) = kmer_spectrum_loss_grad(&w, seq, &target);
    assert_eq!(l, kmer_spectrum_loss(&w, seq, &target));
    let base = |c: u8| b"ACGT".iter().position(|&b| b == c).unwrap();
    let bytes = seq.as_bytes();
    let kmer = |p: usize| 4 * base(bytes[p - 1]) + base(bytes[p]);
    let mut counts = [0.0; 16];
    for p in 1..bytes.len() {
        counts[kmer(p)] += w[p].exp();
    }
    let total: f64 = counts.iter().sum();
    let u: Vec<f64> = (0..16)
        .map(|m| 2.0 * (counts[m] / total - target[m]))
        .collect();
    let mean: f64 = (0..16).map(|m| u[m] * counts[m] / total).sum();
    let expected: Vec<f64> = (0..bytes.len())
        .map(|p| {
            if p == 0 {
                0.0
            } else {
                w[p].exp() * (u[kmer(p)] - mean) / total
            }
        })
        .collect();
    close_all("∂L/∂w", &g, &expected);
    fd_vec(
        "kmer_spectrum_loss",
        |w| kmer_spectrum_loss(w, seq, &target),
        &w,
        &g,
    );
}

/// Pair energies with well depths looked up by element name in a map parameter, indexed by the
/// items of a loop over the names: `E = Σ_i ε(e_i)·x_i²`, `∂E/∂x_i = 2 ε(e_i) x_i`.
#[differentiate(wrt(x))]
fn element_energy(x: &[f64], elems: &[String], eps: &HashMap<String, f64>) -> f64 {
    let mut e = 0.0;
    for (i, el) in elems.iter().enumerate() {
        e += eps[el] * x[i] * x[i];
    }
    e
}

#[test]
fn map_parameter_indexed_by_loop_items() {
    let eps: HashMap<String, f64> = [("C".to_string(), 0.7), ("O".to_string(), 1.3)]
        .into_iter()
        .collect();
    let elems: Vec<String> = ["C", "O", "C", "O"].iter().map(|s| s.to_string()).collect();
    let x = [0.4, -1.1, 2.0, 0.3];
    let (e, g) = element_energy_grad(&x, &elems, &eps);
    assert_eq!(e, element_energy(&x, &elems, &eps));
    let expected: Vec<f64> = (0..4).map(|i| 2.0 * eps[&elems[i]] * x[i]).collect();
    close_all("∂E/∂x", &g, &expected);
    fd_vec(
        "element_energy",
        |x| element_energy(x, &elems, &eps),
        &x,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// 6. A set of excluded pairs.
// ---------------------------------------------------------------------------------------------

/// A soft repulsion between the atoms of a chain that are neither bonded (1-2) nor share a bond
/// partner (1-3), the exclusions built in a set from the bond list through each atom's
/// neighbours: `E = Σ_{i<j, (i,j) ∉ X} exp(−r_ij²)`, `∂E/∂x_i = Σ_{j: (i,j) ∉ X} −2 exp(−r_ij²)
/// (x_i − x_j)`.
#[differentiate(wrt(pos))]
fn excluded_repulsion(pos: &[[f64; 3]], bonds: &[(usize, usize)]) -> f64 {
    let n = pos.len();
    let mut excluded: HashSet<(usize, usize)> = HashSet::new();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(i, j) in bonds {
        excluded.insert((i.min(j), i.max(j)));
        adj[i].push(j);
        adj[j].push(i);
    }
    for a in 0..n {
        for &b in &adj[a] {
            for &c in &adj[b] {
                if c != a {
                    excluded.insert((a.min(c), a.max(c)));
                }
            }
        }
    }
    let mut e = 0.0;
    for i in 0..n {
        for j in (i + 1)..n {
            if excluded.contains(&(i, j)) {
                continue;
            }
            let r2: f64 = (0..3).map(|c| (pos[i][c] - pos[j][c]).powi(2)).sum();
            e += (-r2).exp();
        }
    }
    e
}

#[test]
fn repulsion_without_excluded_pairs() {
    let pos: Vec<[f64; 3]> = (0..6)
        .map(|i| {
            let t = i as f64;
            [0.9 * t, 0.8 * (t * 1.9).sin(), 0.6 * (t * 0.7).cos()]
        })
        .collect();
    let bonds = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)];
    let (e, g) = excluded_repulsion_grad(&pos, &bonds);
    assert_eq!(e, excluded_repulsion(&pos, &bonds));
    // Along a chain, the pairs (i, j) with j ≥ i + 3 remain.
    let mut expected = vec![[0.0; 3]; pos.len()];
    for i in 0..pos.len() {
        for j in 0..pos.len() {
            if i.abs_diff(j) < 3 {
                continue;
            }
            let r2: f64 = (0..3).map(|c| (pos[i][c] - pos[j][c]).powi(2)).sum();
            for c in 0..3 {
                expected[i][c] += -2.0 * (-r2).exp() * (pos[i][c] - pos[j][c]);
            }
        }
    }
    close_all("∂E/∂x", &flat3(&g), &flat3(&expected));
    fd_vec(
        "excluded_repulsion",
        |x| excluded_repulsion(&unflat3(x), &bonds),
        &flat3(&pos),
        &flat3(&g),
    );
}

/// Partial charges looked up by atom name with a default for the names the map lacks, the key
/// a `&str` written without `&` (it was read as a position of a slice, rustc's "expected
/// `usize`, found `&str`" in the generated code): `E = Σ_i q(n_i)·x_i³`, `∂E/∂x_i = 3 q(n_i)
/// x_i²`, `q = 0` for a name not in the map.
#[differentiate(wrt(x))]
fn charge_energy(x: &[f64], names: &[&str], q: &HashMap<String, f64>) -> f64 {
    let mut e = 0.0;
    for i in 0..x.len() {
        e += q.get(names[i]).copied().unwrap_or(0.0) * x[i].powi(3);
    }
    e
}

#[test]
fn map_lookup_with_a_default() {
    let q: HashMap<String, f64> = [("C".to_string(), 0.5), ("N".to_string(), -0.25)]
        .into_iter()
        .collect();
    let names = ["C", "X", "N", "C"];
    let x = [0.4, -1.1, 2.0, 0.3];
    let (e, g) = charge_energy_grad(&x, &names, &q);
    assert_eq!(e, charge_energy(&x, &names, &q));
    let expected: Vec<f64> = (0..4)
        .map(|i| 3.0 * q.get(names[i]).copied().unwrap_or(0.0) * x[i] * x[i])
        .collect();
    close_all("∂E/∂x", &g, &expected);
    fd_vec("charge_energy", |x| charge_energy(x, &names, &q), &x, &g);
}
