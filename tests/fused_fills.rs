//! A loop that fills several scratch arrays at once, and may carry a sum beside them (`for id
//! in 0..d { xc[id] = x[id] − μ[id]; qx[id] = q[id]·xc[id]; s += .. }`), as a user fuses the
//! ADBench mixture's first two loops: each array is a fill of its own (`fills.rs`), and a read
//! of what the same iteration has just written (`xc[id]` after `xc[id] = ..`) is the value
//! written. Each function is checked against the plain function's value, an analytic gradient
//! or central finite differences, `_jvp` and `_hvp`; the arrays the rewrite must leave alone (one
//! that reads another's previous contents) are checked the same way.

#![allow(clippy::needless_range_loop)]

use autodiff::check::hvpcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// Σᵢ [Σⱼ qxᵢⱼ + Σ_{j<k} qxᵢⱼ·xcᵢₖ] with xcᵢⱼ = xᵢⱼ − μⱼ and qxᵢⱼ = e^{qⱼ}·xcᵢⱼ, both filled by one
/// loop that also sums the first term.
#[differentiate(wrt(mu, q), hessian)]
fn fused(mu: &[f64], q: &[f64], x: &[f64], d: usize) -> f64 {
    let n = x.len() / d;
    let mut qd = vec![0.0; d];
    for j in 0..d {
        qd[j] = q[j].exp();
    }
    let mut xc = vec![0.0; d];
    let mut qx = vec![0.0; d];
    let mut total = 0.0;
    for i in 0..n {
        let mut s = 0.0;
        for j in 0..d {
            xc[j] = x[i * d + j] - mu[j];
            qx[j] = qd[j] * xc[j];
            s += qx[j];
        }
        for j in 0..d {
            for k in j + 1..d {
                s += qx[j] * xc[k];
            }
        }
        total += s;
    }
    total
}

/// ∂/∂μ_m = Σᵢ [−e^{q_m} − e^{q_m}·Σ_{k>m} xcᵢₖ − Σ_{j<m} qxᵢⱼ];
/// ∂/∂q_m = Σᵢ [qxᵢₘ + qxᵢₘ·Σ_{k>m} xcᵢₖ].
fn fused_grad_by_hand(mu: &[f64], q: &[f64], x: &[f64], d: usize) -> Vec<f64> {
    let n = x.len() / d;
    let mut g = vec![0.0; 2 * d];
    for i in 0..n {
        let xc: Vec<f64> = (0..d).map(|j| x[i * d + j] - mu[j]).collect();
        let qx: Vec<f64> = (0..d).map(|j| q[j].exp() * xc[j]).collect();
        for m in 0..d {
            let after: f64 = xc[m + 1..].iter().sum();
            let before: f64 = qx[..m].iter().sum();
            g[m] += -q[m].exp() - q[m].exp() * after - before;
            g[d + m] += qx[m] + qx[m] * after;
        }
    }
    g
}

#[test]
fn two_arrays_and_a_sum_filled_by_one_loop() {
    for d in [1, 2, 4] {
        let x = data(3 * d, 1.0);
        let p = [data(d, 2.0), data(d, 3.0)].concat();
        let f = |p: &[f64]| fused(&p[..d], &p[d..], &x, d);
        let (v, (gm, gq)) = fused_grad(&p[..d], &p[d..], &x, d);
        assert_eq!(v, f(&p));
        let g = [gm, gq].concat();
        close_all(
            &format!("fused d={d}"),
            &g,
            &fused_grad_by_hand(&p[..d], &p[d..], &x, d),
        );
        fd_vec(&format!("fused d={d}"), f, &p, &g);
        forward(format!("fused d={d}")).check(
            &p,
            |p| f(p),
            |p, v| fused_jvp(&p[..d], &p[d..], &x, d, &v[..d].to_vec(), &v[d..].to_vec()),
            |p, w| {
                let (y, back) = fused_vjp(&p[..d], &p[d..], &x, d);
                let (a, b) = back(w);
                (y, [a, b].concat())
            },
        );
        let dir = data(2 * d, 4.0);
        let (_, _, (hm, hq)) = fused_hvp(
            &p[..d],
            &p[d..],
            &x,
            d,
            &dir[..d].to_vec(),
            &dir[d..].to_vec(),
        );
        let grad = |p: &Vec<f64>| {
            let (_, (a, b)) = fused_grad(&p[..d], &p[d..], &x, d);
            [a, b].concat()
        };
        let r = hvpcheck(grad, &p, &dir, &[hm, hq].concat());
        assert!(r.passed(), "fused d={d} hvp: {r}");
    }
}

/// `prev[j]` takes what `cur[j]` held *before* this iteration writes it (the last point's
/// `w_j·x_{i−1,j}`), so `prev` is no fill; `cur` is. Σᵢ Σⱼ cur_j·sin(prev_j) + Σ_{j<k} prev_j·cur_k.
#[differentiate(wrt(w))]
fn lagged(w: &[f64], x: &[f64], d: usize) -> f64 {
    let n = x.len() / d;
    let mut cur = vec![0.0; d];
    let mut prev = vec![0.0; d];
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..d {
            prev[j] = cur[j] * 1.5;
            cur[j] = w[j] * x[i * d + j];
        }
        for j in 0..d {
            total += cur[j] * prev[j].sin();
            for k in j + 1..d {
                total += prev[j] * cur[k];
            }
        }
    }
    total
}

fn lagged_grad_by_hand(w: &[f64], x: &[f64], d: usize) -> Vec<f64> {
    // cur_j = w_j·x_{i,j}, prev_j = 1.5·w_j·x_{i−1,j} (0 at i = 0).
    let n = x.len() / d;
    let mut g = vec![0.0; d];
    for i in 0..n {
        let xp = |j: usize| if i == 0 { 0.0 } else { x[(i - 1) * d + j] };
        let cur: Vec<f64> = (0..d).map(|j| w[j] * x[i * d + j]).collect();
        let prev: Vec<f64> = (0..d).map(|j| 1.5 * w[j] * xp(j)).collect();
        for j in 0..d {
            // cur_j·sin(prev_j)
            g[j] += x[i * d + j] * prev[j].sin() + cur[j] * prev[j].cos() * 1.5 * xp(j);
            for k in j + 1..d {
                g[j] += 1.5 * xp(j) * cur[k];
                g[k] += prev[j] * x[i * d + k];
            }
        }
    }
    g
}

#[test]
fn an_array_that_takes_another_s_previous_contents_is_no_fill() {
    for d in [1, 3] {
        let x = data(4 * d, 1.0);
        let w = data(d, 2.0);
        let (v, g) = lagged_grad(&w, &x, d);
        assert_eq!(v, lagged(&w, &x, d));
        close_all(
            &format!("lagged d={d}"),
            &g,
            &lagged_grad_by_hand(&w, &x, d),
        );
        fd_vec(&format!("lagged d={d}"), |w| lagged(w, &x, d), &w, &g);
        forward(format!("lagged d={d}")).check(
            &w,
            |w| lagged(w, &x, d),
            |w, v| lagged_jvp(w, &x, d, &v.to_vec()),
            |w, s| {
                let (y, back) = lagged_vjp(w, &x, d);
                (y, back(s))
            },
        );
    }
}
