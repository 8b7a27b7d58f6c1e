//! Differentiable algorithms and dynamic programming as Rust engineers write them: soft-DTW with
//! a table whose `f64::INFINITY` border meets the soft-min as a local array of candidates `[a,
//! b, c]` read by `iter().fold(..)` and `iter().map(..)`, a soft-min by an inverse temperature
//! over such an array holding an infinite candidate, a soft-min over costs the caller gives
//! with `f64::INFINITY` for forbidden choices (tested by `is_finite`), CTC loss over a
//! blank-extended label sequence with a `match` whose guard reads the `Vec<usize>` of labels
//! inside the alpha recursion, and the HMM forward algorithm in log space with forbidden
//! (`f64::NEG_INFINITY`) transitions.
//!
//! Each gradient is checked against its analytic form (stated beside the function, computed by
//! a plain function in the test: the soft-min's weights, the posterior of a path enumeration)
//! and against central finite differences through `autodiff::check`; tangents (`_jvp`) and
//! Hessian-vector products (`_hvp`) against finite differences of the function and of the
//! gradient.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Soft-DTW with the candidates of the soft-min in a local array.
// ---------------------------------------------------------------------------------------------

/// Soft-DTW: `R[i][j] = (x_i − y_j)² + softmin_γ(R[i−1][j], R[i][j−1], R[i−1][j−1])` with
/// `softmin_γ(r) = m − γ ln Σ e^{−(r_k − m)/γ}`, `m = min r`, over a table whose border is
/// `+∞`. The candidates are a local array, so an infinite one is divided by `γ` and read by
/// `exp` there: along a direction that moves `γ`, the tangent of `e^{−∞}` is `0·∞`, which was
/// NaN (the array's elements were not known to be floats, and the runtime's rule of `exp` did
/// not test for it).
#[differentiate(hessian)]
fn soft_dtw(x: &[f64], y: &[f64], gamma: f64) -> f64 {
    let n = x.len();
    let m = y.len();
    let mut r = vec![vec![f64::INFINITY; m + 1]; n + 1];
    r[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let c = [r[i - 1][j], r[i][j - 1], r[i - 1][j - 1]];
            let mn = c.iter().fold(f64::INFINITY, |a, &v| a.min(v));
            let s: f64 = c.iter().map(|&v| (-(v - mn) / gamma).exp()).sum();
            r[i][j] = (x[i - 1] - y[j - 1]).powi(2) + mn - gamma * s.ln();
        }
    }
    r[n][m]
}

/// The soft-min of `r` at temperature `γ`, its weights `p_k = e^{−r_k/γ}/Σ e^{−r_l/γ}`
/// (`∂ softmin/∂r_k`) and `∂ softmin/∂γ = (softmin − Σ p_k r_k)/γ`.
fn softmin_parts(r: &[f64], gamma: f64) -> (f64, Vec<f64>, f64) {
    let m = r.iter().cloned().fold(f64::INFINITY, f64::min);
    let e: Vec<f64> = r.iter().map(|v| (-(v - m) / gamma).exp()).collect();
    let z: f64 = e.iter().sum();
    let s = m - gamma * z.ln();
    let p: Vec<f64> = e.iter().map(|v| v / z).collect();
    let mean: f64 = p.iter().zip(r).map(|(p, r)| p * r).sum();
    (s, p, (s - mean) / gamma)
}

#[test]
fn soft_dtw_of_array_candidates_has_finite_tangents_along_the_temperature() {
    // Two points against one: the second row's soft-min has one finite candidate, `R[1][1]`,
    // and two infinite ones, so `D = (x₀ − y₀)² + (x₁ − y₀)²`, `∂D/∂xᵢ = 2(xᵢ − y₀)` and
    // `∂D/∂γ = 0`.
    let (x, y, gamma) = (vec![0.3, -0.4], vec![0.1], 0.5);
    let (v, (gx, gy, gg)) = soft_dtw_grad(&x, &y, gamma);
    close("D", v, 0.2f64.powi(2) + 0.5f64.powi(2), TOL);
    close_all("∂D/∂x", &gx, &[2.0 * 0.2, 2.0 * -0.5]);
    close_all("∂D/∂y", &gy, &[-2.0 * 0.2 - 2.0 * -0.5]);
    close("∂D/∂γ", gg, 0.0, TOL);
    for dir in [
        (vec![0.0, 0.0], vec![0.0], 1.0),
        (vec![0.3, -0.2], vec![0.7], -0.4),
    ] {
        let (_, t) = soft_dtw_jvp(&x, &y, gamma, &dir.0, &dir.1, dir.2);
        let expected = gx[0] * dir.0[0] + gx[1] * dir.0[1] + gy[0] * dir.1[0] + gg * dir.2;
        close("tangent", t, expected, TOL);
    }
    // The Hessian along `γ` alone: the gradient does not depend on `γ`.
    let (_, _, hv) = soft_dtw_hvp(&x, &y, gamma, &vec![0.0, 0.0], &vec![0.0], 1.0);
    close_all("H·e_γ, x", &hv.0, &[0.0, 0.0]);
    close("H·e_γ, γ", hv.2, 0.0, TOL);

    // Two by two: `R₂₂ = d₂₂ + softmin(R₁₂, R₂₁, R₁₁)` with `R₁₂ = d₁₁ + d₁₂`, `R₂₁ = d₁₁ + d₂₁`,
    // `R₁₁ = d₁₁`: with the weights `p` of those three, `∂D/∂d₁₁ = 1`, `∂D/∂d₁₂ = p₀`,
    // `∂D/∂d₂₁ = p₁`, `∂D/∂d₂₂ = 1`, and `∂D/∂γ` is the soft-min's.
    let (x, y, gamma): (Vec<f64>, Vec<f64>, f64) = (vec![0.3, -0.4], vec![0.1, 0.6], 0.7);
    let d = |i: usize, j: usize| (x[i] - y[j]).powi(2);
    let (s, p, ds_dg) = softmin_parts(&[d(0, 0) + d(0, 1), d(0, 0) + d(1, 0), d(0, 0)], gamma);
    let (v, (gx, gy, gg)) = soft_dtw_grad(&x, &y, gamma);
    close("D", v, d(1, 1) + s, TOL);
    let w = [[1.0, p[0]], [p[1], 1.0]];
    let gx_exp: Vec<f64> = (0..2)
        .map(|i| (0..2).map(|j| 2.0 * (x[i] - y[j]) * w[i][j]).sum())
        .collect();
    let gy_exp: Vec<f64> = (0..2)
        .map(|j| (0..2).map(|i| -2.0 * (x[i] - y[j]) * w[i][j]).sum())
        .collect();
    close_all("∂D/∂x", &gx, &gx_exp);
    close_all("∂D/∂y", &gy, &gy_exp);
    close("∂D/∂γ", gg, ds_dg, TOL);

    // Longer series, against finite differences: the gradient, tangents and `H·v`.
    type P = (Vec<f64>, Vec<f64>, f64);
    let f = |p: &P| soft_dtw(&p.0, &p.1, p.2);
    let at: P = (vec![0.1, 0.5, -0.3, 0.8], vec![0.0, 0.4, 0.6], 0.3);
    let (_, g) = soft_dtw_grad(&at.0, &at.1, at.2);
    let r = gradcheck(f, &at, &g);
    assert!(r.passed(), "{r}");
    for v in [
        (vec![0.0; 4], vec![0.0; 3], 1.0),
        (vec![0.2, -0.1, 0.4, 0.3], vec![-0.5, 0.1, 0.2], 0.6),
    ] {
        let (_, t) = soft_dtw_jvp(&at.0, &at.1, at.2, &v.0, &v.1, v.2);
        assert!(t.is_finite(), "tangent {t}");
        let r = jvpcheck(f, &at, &v, &t);
        assert!(r.passed(), "jvp: {r}");
        let (_, _, hv) = soft_dtw_hvp(&at.0, &at.1, at.2, &v.0, &v.1, v.2);
        let r = hvpcheck(|p: &P| soft_dtw_grad(&p.0, &p.1, p.2).1, &at, &v, &hv);
        assert!(r.passed(), "hvp: {r}");
    }
}

/// The same recursion in `f32` with one row kept: `prev` and `cur`, the candidates again an
/// array.
#[differentiate]
fn soft_dtw_rows_f32(x: &[f32], y: &[f32], gamma: f32) -> f32 {
    let m = y.len();
    let mut prev = vec![f32::INFINITY; m + 1];
    prev[0] = 0.0;
    for &xi in x {
        let mut cur = vec![f32::INFINITY; m + 1];
        for j in 1..=m {
            let c = [prev[j], cur[j - 1], prev[j - 1]];
            let mn = c.iter().cloned().fold(f32::INFINITY, f32::min);
            let z: f32 = c.iter().map(|v| (-(v - mn) / gamma).exp()).sum();
            cur[j] = (xi - y[j - 1]).powi(2) + mn - gamma * z.ln();
        }
        prev = cur;
    }
    prev[m]
}

#[test]
fn soft_dtw_in_f32_with_one_row_kept() {
    // One point against two: `R₁₂ = d₁₂ + softmin(∞, R₁₁, ∞) = d₁₁ + d₁₂`, so `∂D/∂x₀ =
    // 2(x₀ − y₀) + 2(x₀ − y₁)` and `∂D/∂γ = 0`.
    let (x, y) = (vec![0.25f32], vec![0.5f32, -0.25]);
    let (_, (gx, gy, gg)) = soft_dtw_rows_f32_grad(&x, &y, 0.5);
    assert!((gx[0] - (2.0 * -0.25 + 2.0 * 0.5)).abs() < 1e-6, "{gx:?}");
    assert!(
        (gy[0] - 0.5).abs() < 1e-6 && (gy[1] - -1.0).abs() < 1e-6,
        "{gy:?}"
    );
    assert_eq!(gg, 0.0);
    let (_, t) = soft_dtw_rows_f32_jvp(&x, &y, 0.5, &vec![0.0], &vec![0.0, 0.0], 1.0);
    assert_eq!(t, 0.0);
    type P = (Vec<f32>, Vec<f32>, f32);
    let at: P = (vec![0.1, 0.5, -0.3], vec![0.0, 0.4, 0.6], 0.5);
    let (_, g) = soft_dtw_rows_f32_grad(&at.0, &at.1, at.2);
    let r = gradcheck(|p: &P| soft_dtw_rows_f32(&p.0, &p.1, p.2), &at, &g);
    assert!(r.passed(), "{r}");
    let v: P = (vec![0.3, -0.2, 0.1], vec![0.0, 0.5, -0.4], 0.7);
    let (_, t) = soft_dtw_rows_f32_jvp(&at.0, &at.1, at.2, &v.0, &v.1, v.2);
    let r = jvpcheck(|p: &P| soft_dtw_rows_f32(&p.0, &p.1, p.2), &at, &v, &t);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// An inverse temperature times an infinite candidate of a local array.
// ---------------------------------------------------------------------------------------------

/// A soft-min by an inverse temperature `β` over candidates `(a, +∞, 2b)` held in an array:
/// `F = m − ln Σ e^{β(m − c_k)}/β = −ln Z/β` with `Z = e^{−βa} + e^{−2βb}`, so
/// `∂F/∂a = p_a`, `∂F/∂b = 2p_b` (`p` the weights `e^{−βc}/Z`) and
/// `∂F/∂β = ln Z/β² + (p_a·a + p_b·2b)/β`. The infinite candidate's product `β·(m − ∞)` got the
/// cotangent `0` from `exp`, and its rule gave `β` the NaN `0·∞`: the array's elements were not
/// known to be floats, so the product's tested rule was not used.
#[differentiate(wrt(x, beta))]
fn softmin_inverse_temperature(x: &[f64], beta: f64) -> f64 {
    let cands = [x[0], f64::INFINITY, x[1] * 2.0];
    let mn = cands.iter().cloned().fold(f64::INFINITY, f64::min);
    let z: f64 = cands.iter().map(|&c| ((mn - c) * beta).exp()).sum();
    mn - z.ln() / beta
}

#[test]
fn an_inverse_temperature_times_an_infinite_candidate_of_an_array() {
    let (x, beta): (Vec<f64>, f64) = (vec![0.1, 0.35], 2.0);
    let (a, c) = (x[0], 2.0 * x[1]);
    let z = (-beta * a).exp() + (-beta * c).exp();
    let (pa, pc) = ((-beta * a).exp() / z, (-beta * c).exp() / z);
    let (v, (gx, gb)) = softmin_inverse_temperature_grad(&x, beta);
    close("F", v, -z.ln() / beta, TOL);
    close_all("∂F/∂x", &gx, &[pa, 2.0 * pc]);
    close(
        "∂F/∂β",
        gb,
        z.ln() / (beta * beta) + (pa * a + pc * c) / beta,
        TOL,
    );
    let f = |p: &(Vec<f64>, f64)| softmin_inverse_temperature(&p.0, p.1);
    let r = gradcheck(f, &(x.clone(), beta), &(gx, gb));
    assert!(r.passed(), "{r}");
    let dir = (vec![0.4, -0.3], 0.8);
    let (_, t) = softmin_inverse_temperature_jvp(&x, beta, &dir.0, dir.1);
    let r = jvpcheck(f, &(x.clone(), beta), &dir, &t);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Forbidden choices given by the caller as infinite costs.
// ---------------------------------------------------------------------------------------------

/// A soft-min at temperature `γ` over `x_i + c_i`, the costs `c` data from the caller with
/// `f64::INFINITY` for a forbidden choice; the minimum is taken over the allowed ones (tested
/// by `is_finite`). `F = m − γ ln Σ e^{−(x_i + c_i − m)/γ}`, `∂F/∂x_i = p_i` (zero for a
/// forbidden one) and `∂F/∂γ = (F − Σ p_i (x_i + c_i))/γ`. Along a direction that moves `γ`,
/// the forbidden term's tangent was `e^{−∞}·∞`, NaN: the function names no infinity, so its
/// `exp` had no test, though it tests its data for them.
#[differentiate(wrt(x, gamma))]
fn softmin_allowed(x: &[f64], costs: &[f64], gamma: f64) -> f64 {
    let mut best: Option<f64> = None;
    for i in 0..x.len() {
        if costs[i].is_finite() {
            let c = x[i] + costs[i];
            best = match best {
                Some(b) if b <= c => Some(b),
                _ => Some(c),
            };
        }
    }
    let mn = best.unwrap_or(0.0);
    let mut z = 0.0;
    for i in 0..x.len() {
        let c = x[i] + costs[i];
        z += (-(c - mn) / gamma).exp();
    }
    mn - gamma * z.ln()
}

#[test]
fn a_soft_min_over_costs_the_caller_forbids_with_infinities() {
    let x = vec![0.1, 0.5, -0.3, 0.8];
    let costs = vec![0.5, f64::INFINITY, 0.2, 1.0];
    let gamma = 0.4;
    let allowed: Vec<f64> = (0..4).map(|i| x[i] + costs[i]).collect();
    let finite: Vec<f64> = allowed.iter().copied().filter(|c| c.is_finite()).collect();
    let (s, p, ds_dg) = softmin_parts(&finite, gamma);
    let (v, (gx, gg)) = softmin_allowed_grad(&x, &costs, gamma);
    close("F", v, s, TOL);
    close_all("∂F/∂x", &gx, &[p[0], 0.0, p[1], p[2]]);
    close("∂F/∂γ", gg, ds_dg, TOL);
    let f = |q: &(Vec<f64>, f64)| softmin_allowed(&q.0, &costs, q.1);
    let r = gradcheck(f, &(x.clone(), gamma), &(gx.clone(), gg));
    assert!(r.passed(), "{r}");
    let (_, t) = softmin_allowed_jvp(&x, &costs, gamma, &vec![0.0; 4], 1.0);
    close("tangent along γ", t, gg, TOL);
    let dir = (vec![0.3, -0.2, 0.5, 0.1], -0.6);
    let (_, t) = softmin_allowed_jvp(&x, &costs, gamma, &dir.0, dir.1);
    let r = jvpcheck(f, &(x.clone(), gamma), &dir, &t);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// CTC loss: a `match` whose guard reads the labels.
// ---------------------------------------------------------------------------------------------

/// CTC's negative log-likelihood of `labels` under per-frame log-probabilities `lp` (blank 0):
/// the alpha recursion over the blank-extended labels, each state's predecessors chosen by a
/// `match` on its position whose guard reads the extended labels (`ext[s] == ext[s − 2]`: no
/// skip between repeated labels), summed in log space from `f64::NEG_INFINITY`. The guard took
/// the `Vec<usize>` by value: rustc's "use of moved value" in the generated code, in the next
/// iteration of the loop.
#[differentiate(wrt(lp))]
fn ctc_nll(lp: &[Vec<f64>], labels: &[usize]) -> f64 {
    let blank = 0usize;
    let ext: Vec<usize> = std::iter::once(blank)
        .chain(labels.iter().flat_map(|&l| [l, blank]))
        .collect();
    let s_len = ext.len();
    let mut alpha = vec![f64::NEG_INFINITY; s_len];
    alpha[0] = lp[0][blank];
    alpha[1] = lp[0][ext[1]];
    for t in 1..lp.len() {
        let mut next = vec![f64::NEG_INFINITY; s_len];
        for s in 0..s_len {
            let cands: Vec<f64> = match s {
                0 => vec![alpha[0]],
                1 => vec![alpha[1], alpha[0]],
                _ if ext[s] == blank || ext[s] == ext[s - 2] => vec![alpha[s], alpha[s - 1]],
                _ => vec![alpha[s], alpha[s - 1], alpha[s - 2]],
            };
            let m = cands.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            next[s] = if m == f64::NEG_INFINITY {
                f64::NEG_INFINITY
            } else {
                m + cands.iter().map(|&c| (c - m).exp()).sum::<f64>().ln() + lp[t][ext[s]]
            };
        }
        alpha = next;
    }
    let (a, b) = (alpha[s_len - 1], alpha[s_len - 2]);
    let m = a.max(b);
    -(m + ((a - m).exp() + (b - m).exp()).ln())
}

/// CTC by enumerating every path of `T` frames over `K` symbols: `L = −ln Σ_π e^{Σ_t lp[t][π_t]}`
/// over the paths that collapse (repeats merged, blanks dropped) to `labels`, and
/// `∂L/∂lp[t][k] = −P(π_t = k | labels)`, the share of those paths' probability that passes
/// through symbol `k` at frame `t`.
fn ctc_by_paths(lp: &[Vec<f64>], labels: &[usize]) -> (f64, Vec<Vec<f64>>) {
    let (t_len, k) = (lp.len(), lp[0].len());
    let mut total = 0.0;
    let mut through = vec![vec![0.0; k]; t_len];
    for code in 0..k.pow(t_len as u32) {
        let path: Vec<usize> = (0..t_len).map(|t| code / k.pow(t as u32) % k).collect();
        let mut collapsed = Vec::new();
        let mut prev = usize::MAX;
        for &q in &path {
            if q != prev && q != 0 {
                collapsed.push(q);
            }
            prev = q;
        }
        if collapsed == labels {
            let p = (0..t_len).map(|t| lp[t][path[t]]).sum::<f64>().exp();
            total += p;
            for t in 0..t_len {
                through[t][path[t]] += p;
            }
        }
    }
    let grad = through
        .iter()
        .map(|row| row.iter().map(|p| -p / total).collect())
        .collect();
    (-total.ln(), grad)
}

#[test]
fn ctc_loss_with_a_match_guard_on_the_labels() {
    let lp: Vec<Vec<f64>> = (0..5)
        .map(|t| {
            let row: Vec<f64> = (0..3).map(|c| ((t * 3 + c) as f64 * 0.77).sin()).collect();
            let z: f64 = row.iter().map(|v| v.exp()).sum();
            row.iter().map(|v| v - z.ln()).collect()
        })
        .collect();
    // Distinct labels, a repeated label, and a repeated label with the fewest frames it
    // needs (three: `1 0 1`), where most of the alpha table is `−∞`.
    for (labels, frames) in [(vec![1, 2], 5), (vec![1, 1], 5), (vec![1, 1], 3)] {
        let lp = &lp[..frames];
        let (l_exp, g_exp) = ctc_by_paths(lp, &labels);
        let (l, g) = ctc_nll_grad(lp, &labels);
        close("L", l, l_exp, 1e-12);
        for t in 0..frames {
            close_all(&format!("∂L/∂lp[{t}]"), &g[t], &g_exp[t]);
        }
        let f = |p: &Vec<Vec<f64>>| ctc_nll(p, &labels);
        let r = gradcheck(f, &lp.to_vec(), &g);
        assert!(r.passed(), "{labels:?} over {frames}: {r}");
        let v: Vec<Vec<f64>> = (0..frames)
            .map(|t| (0..3).map(|c| ((t + 2 * c) as f64 * 0.4).cos()).collect())
            .collect();
        let (_, tangent) = ctc_nll_jvp(lp, &labels, &v);
        let r = jvpcheck(f, &lp.to_vec(), &v, &tangent);
        assert!(r.passed(), "{labels:?} over {frames}, jvp: {r}");
    }
}

/// A `match` on a count whose guard reads a `Vec<usize>` that is read again after the `match`
/// (`ext.len()`): `v = x₂` here (`ext[2] = 3 ≠ 2`), and `f = 3v²`, `∂f/∂x = (0, 0, 6x₂)`.
#[differentiate]
fn guard_then_length(x: &[f64], labels: &[usize]) -> f64 {
    let ext: Vec<usize> = labels.iter().map(|&l| l + 1).collect();
    let v = match ext.len() {
        0 => x[0],
        s if ext[s - 1] == 2 => x[1],
        _ => x[2],
    };
    v * v * ext.len() as f64
}

#[test]
fn a_match_guard_lends_the_labels_it_reads() {
    let x = [1.0, 2.0, 3.0];
    let (v, g) = guard_then_length_grad(&x, &[1, 1, 2]);
    close("f", v, 27.0, TOL);
    close_all("∂f/∂x", &g, &[0.0, 0.0, 18.0]);
    // `ext[1] = 2`: the guard's arm, `f = 2x₁²`.
    let (v, g) = guard_then_length_grad(&x, &[0, 1]);
    close("f", v, 8.0, TOL);
    close_all("∂f/∂x", &g, &[0.0, 8.0, 0.0]);
    fd_vec(
        "f",
        |p| guard_then_length(p, &[1, 1, 2]),
        &x,
        &[0.0, 0.0, 18.0],
    );
}

/// How many labels are above one: a helper on data that a guard calls with a borrow.
fn above_one(labels: &[usize]) -> usize {
    labels.iter().filter(|&&l| l > 1).count()
}

/// A guard that lends an owned `Vec<usize>` to a function (`_ if above_one(&labels) > i`), in
/// a loop, the `Vec` read again after it: `f = x₀ + Σ_{0<i<c} xᵢ² + Σ_{i≥max(c,1)} sin xᵢ +
/// len` with `c` the count of labels above one. The guard took the `Vec` by value: rustc's
/// "borrow of moved value" in the generated code.
#[differentiate(wrt(x))]
fn guard_lends_to_a_call(x: &[f64], labels: Vec<usize>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += match i {
            0 => x[i],
            _ if above_one(&labels) > i => x[i] * x[i],
            _ => x[i].sin(),
        };
    }
    s + labels.len() as f64
}

#[test]
fn a_match_guard_lends_a_container_to_a_call() {
    let x = [0.3, -1.2, 2.1, 0.7];
    for labels in [vec![0, 2, 3, 5], vec![2, 0], vec![]] {
        let c = above_one(&labels);
        let (v, g) = guard_lends_to_a_call_grad(&x, labels.clone());
        close("f", v, guard_lends_to_a_call(&x, labels.clone()), TOL);
        let expected: Vec<f64> = (0..x.len())
            .map(|i| match i {
                0 => 1.0,
                _ if c > i => 2.0 * x[i],
                _ => x[i].cos(),
            })
            .collect();
        close_all("∂f/∂x", &g, &expected);
        fd_vec("f", |p| guard_lends_to_a_call(p, labels.clone()), &x, &g);
    }
}

// ---------------------------------------------------------------------------------------------
// The HMM forward algorithm in log space, with forbidden transitions.
// ---------------------------------------------------------------------------------------------

/// `ln P(obs)` by the forward recursion in log space, `α_t(j) = lse_i(α_{t−1}(i) + ln A_ij) +
/// ln B_j(o_t)`, a state no transition reaches left at `−∞` by a guard.
#[differentiate(wrt(log_pi, log_a, log_b))]
fn hmm_log_forward(log_pi: &[f64], log_a: &[Vec<f64>], log_b: &[Vec<f64>], obs: &[usize]) -> f64 {
    let n = log_pi.len();
    let mut la: Vec<f64> = (0..n).map(|i| log_pi[i] + log_b[i][obs[0]]).collect();
    for &o in &obs[1..] {
        let mut next = vec![f64::NEG_INFINITY; n];
        for j in 0..n {
            let m = (0..n)
                .map(|i| la[i] + log_a[i][j])
                .fold(f64::NEG_INFINITY, f64::max);
            if m == f64::NEG_INFINITY {
                continue;
            }
            let s: f64 = (0..n).map(|i| (la[i] + log_a[i][j] - m).exp()).sum();
            next[j] = m + s.ln() + log_b[j][o];
        }
        la = next;
    }
    let m = la.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + la.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// `ln P(obs)` by enumerating the state paths, and its gradient: `∂/∂ln π_i = P(z₀ = i | obs)`,
/// `∂/∂ln A_ij = Σ_t P(z_{t−1} = i, z_t = j | obs)`, `∂/∂ln B_j(o) = Σ_{t: o_t = o} P(z_t = j |
/// obs)` (posterior counts), zero for a transition of probability 0.
fn hmm_by_paths(
    pi: &[f64],
    a: &[Vec<f64>],
    b: &[Vec<f64>],
    obs: &[usize],
) -> (f64, Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let (n, t_len) = (pi.len(), obs.len());
    let mut total = 0.0;
    let mut gp = vec![0.0; n];
    let mut ga = vec![vec![0.0; n]; n];
    let mut gb = vec![vec![0.0; b[0].len()]; n];
    for code in 0..n.pow(t_len as u32) {
        let z: Vec<usize> = (0..t_len).map(|t| code / n.pow(t as u32) % n).collect();
        let mut p = pi[z[0]] * b[z[0]][obs[0]];
        for t in 1..t_len {
            p *= a[z[t - 1]][z[t]] * b[z[t]][obs[t]];
        }
        total += p;
        gp[z[0]] += p;
        for t in 0..t_len {
            gb[z[t]][obs[t]] += p;
            if t > 0 {
                ga[z[t - 1]][z[t]] += p;
            }
        }
    }
    let scale = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x /= total);
    scale(&mut gp);
    ga.iter_mut().for_each(scale);
    gb.iter_mut().for_each(scale);
    (total.ln(), gp, ga, gb)
}

#[test]
fn hmm_forward_in_log_space_with_forbidden_transitions() {
    let pi: Vec<f64> = vec![0.5, 0.3, 0.2];
    let a: Vec<Vec<f64>> = vec![
        vec![0.8, 0.2, 0.0],
        vec![0.3, 0.5, 0.2],
        vec![0.0, 0.5, 0.5],
    ];
    let b: Vec<Vec<f64>> = vec![vec![0.6, 0.4], vec![0.2, 0.8], vec![0.5, 0.5]];
    let obs = vec![0usize, 1, 1, 0, 1];
    let ln = |m: &[Vec<f64>]| -> Vec<Vec<f64>> {
        m.iter()
            .map(|r| r.iter().map(|v| v.ln()).collect())
            .collect()
    };
    let (lpi, la, lb) = (
        pi.iter().map(|v| v.ln()).collect::<Vec<_>>(),
        ln(&a),
        ln(&b),
    );
    assert_eq!(la[0][2], f64::NEG_INFINITY);
    let (v_exp, gp_exp, ga_exp, gb_exp) = hmm_by_paths(&pi, &a, &b, &obs);
    let (v, (gp, ga, gb)) = hmm_log_forward_grad(&lpi, &la, &lb, &obs);
    close("ln P", v, v_exp, 1e-12);
    close_all("∂/∂ln π", &gp, &gp_exp);
    for i in 0..3 {
        close_all(&format!("∂/∂ln A[{i}]"), &ga[i], &ga_exp[i]);
        close_all(&format!("∂/∂ln B[{i}]"), &gb[i], &gb_exp[i]);
    }
    // Finite differences over the finite entries (the forbidden ones stay `−∞`).
    let with_forbidden = |m: &Vec<Vec<f64>>| {
        let mut m = m.clone();
        m[0][2] = f64::NEG_INFINITY;
        m[2][0] = f64::NEG_INFINITY;
        m
    };
    let mut la0 = la.clone();
    let mut ga0 = ga.clone();
    for (i, j) in [(0, 2), (2, 0)] {
        la0[i][j] = 0.0;
        ga0[i][j] = 0.0;
    }
    type P = (Vec<f64>, Vec<Vec<f64>>, Vec<Vec<f64>>);
    let f = |p: &P| hmm_log_forward(&p.0, &with_forbidden(&p.1), &p.2, &obs);
    let at: P = (lpi.clone(), la0.clone(), lb.clone());
    let r = gradcheck(f, &at, &(gp, ga0, gb));
    assert!(r.passed(), "{r}");
    let v: P = (
        vec![0.3, -0.2, 0.1],
        vec![vec![0.0; 3]; 3],
        vec![vec![0.2, -0.1]; 3],
    );
    let (_, t) = hmm_log_forward_jvp(&lpi, &la, &lb, &obs, &v.0, &v.1, &v.2);
    let r = jvpcheck(f, &at, &v, &t);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Generic over the float type: the runtime's rules.
// ---------------------------------------------------------------------------------------------

/// Soft-DTW over a generic float `T` on a flat table (`T::infinity()` border): its arithmetic
/// goes through the runtime's rules, whose forward rule of `exp` gave `e^{−∞}·∞ = NaN` along a
/// direction that moves `γ`; it is now exactly 0 where `eˣ` is.
#[differentiate]
fn soft_dtw_generic<T: num_traits::Float>(x: &[T], y: &[T], gamma: T) -> T {
    let (n, m) = (x.len(), y.len());
    let w = m + 1;
    let mut r = vec![T::infinity(); (n + 1) * w];
    r[0] = T::zero();
    for i in 1..=n {
        for j in 1..=m {
            let (a, b, c) = (r[(i - 1) * w + j], r[i * w + j - 1], r[(i - 1) * w + j - 1]);
            let mn = a.min(b).min(c);
            let z =
                (-(a - mn) / gamma).exp() + (-(b - mn) / gamma).exp() + (-(c - mn) / gamma).exp();
            r[i * w + j] = (x[i - 1] - y[j - 1]).powi(2) + mn - gamma * z.ln();
        }
    }
    r[n * w + m]
}

#[test]
fn generic_soft_dtw_has_finite_tangents_along_the_temperature() {
    // As above, two points against one: `∂D/∂xᵢ = 2(xᵢ − y₀)`, `∂D/∂γ = 0`.
    let (x, y) = (vec![0.3, -0.4], vec![0.1]);
    let (_, (gx, _, gg)) = soft_dtw_generic_grad(&x, &y, 0.5);
    close_all("∂D/∂x", &gx, &[0.4, -1.0]);
    close("∂D/∂γ", gg, 0.0, TOL);
    let (_, t) = soft_dtw_generic_jvp(&x, &y, 0.5, &vec![0.0, 0.0], &vec![0.0], 1.0);
    close("tangent along γ", t, 0.0, TOL);
    type P = (Vec<f64>, Vec<f64>, f64);
    let at: P = (vec![0.1, 0.5, -0.3, 0.8], vec![0.0, 0.4, 0.6], 0.3);
    let f = |p: &P| soft_dtw_generic(&p.0, &p.1, p.2);
    let (_, g) = soft_dtw_generic_grad(&at.0, &at.1, at.2);
    let r = gradcheck(f, &at, &g);
    assert!(r.passed(), "{r}");
    let v: P = (vec![0.2, -0.1, 0.4, 0.3], vec![-0.5, 0.1, 0.2], 0.6);
    let (_, t) = soft_dtw_generic_jvp(&at.0, &at.1, at.2, &v.0, &v.1, v.2);
    let r = jvpcheck(f, &at, &v, &t);
    assert!(r.passed(), "{r}");
}
