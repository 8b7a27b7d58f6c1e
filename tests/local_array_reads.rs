//! Local arrays made anew in each iteration of a loop and read in a nest of loops below it —
//! the scratch vectors of the ADBench Gaussian mixture written from its C++ reference
//! (`xcentered`, `Qxcentered`, `main_term`). The pullback needs each iteration's contents: it
//! keeps the array's elements once per iteration (copied into one buffer for all iterations)
//! and reads them again, instead of keeping each of the `d(d − 1)/2` reads of the nest. Every
//! gradient is checked against an analytic formula (stated beside the function) or central
//! finite differences, at sizes where the nest runs zero, one and several times.

#![allow(clippy::needless_range_loop, clippy::too_many_arguments)] // written as users write them

use autodiff::differentiate;

mod common;
use common::*;

/// `s = Σ_r Σ_{i<j} xc_i·xc_j` with `xc_i = x_{r,i}·w_i`, the scratch vector `xc` overwritten in
/// every iteration: `∂s/∂w_k = Σ_r x_{r,k}·Σ_{j≠k} xc_j`.
#[differentiate(wrt(w))]
fn pairs(w: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
    let mut xc = vec![0.0; d];
    let mut s = 0.0;
    for r in 0..n {
        for i in 0..d {
            xc[i] = x[r * d + i] * w[i];
        }
        for i in 0..d {
            for j in i + 1..d {
                s += xc[i] * xc[j];
            }
        }
    }
    s
}

fn pairs_grad_analytic(w: &[f64], x: &[f64], d: usize, n: usize) -> Vec<f64> {
    let mut g = vec![0.0; d];
    for r in 0..n {
        let xc: Vec<f64> = (0..d).map(|i| x[r * d + i] * w[i]).collect();
        let total: f64 = xc.iter().sum();
        for k in 0..d {
            g[k] += x[r * d + k] * (total - xc[k]);
        }
    }
    g
}

#[test]
fn a_scratch_vector_read_in_a_triangle_of_loops() {
    for d in [1, 2, 3, 7] {
        let n = 5;
        let (w, x) = (data(d, 0.5), data(n * d, 2.0));
        let (v, g) = pairs_grad(&w, &x, d, n);
        close("value", v, pairs(&w, &x, d, n), TOL);
        let expected = pairs_grad_analytic(&w, &x, d, n);
        for k in 0..d {
            close(&format!("d={d}: ∂w[{k}]"), g[k], expected[k], 1e-12);
        }
        fd_vec(&format!("pairs d={d}"), |w| pairs(w, &x, d, n), &w, &g);
    }
}

/// The same with `f32` and a fixed-size array as the scratch space.
#[differentiate(wrt(w))]
fn pairs_f32(w: &[f32; 3], x: &[f32], n: usize) -> f32 {
    let mut xc = [0.0f32; 3];
    let mut s = 0.0f32;
    for r in 0..n {
        for i in 0..3 {
            xc[i] = x[r * 3 + i] * w[i];
        }
        for i in 0..3 {
            for j in i + 1..3 {
                s += xc[i] * xc[j];
            }
        }
    }
    s
}

#[test]
fn an_f32_fixed_size_scratch_array() {
    let w = [0.4f32, -0.7, 1.1];
    let x: Vec<f32> = data(12, 1.0).iter().map(|&v| v as f32).collect();
    let (_, g) = pairs_f32_grad(&w, &x, 4);
    let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let expected = pairs_grad_analytic(&w64, &x64, 3, 4);
    for k in 0..3 {
        close(&format!("∂w[{k}]"), g[k] as f64, expected[k], 1e-5);
    }
}

/// The ADBench Gaussian mixture objective with its Wishart prior, written from the C++
/// reference: `icf` holds per component the `d` log-diagonal entries of `Q_k`, then its
/// strictly lower part column by column.
#[differentiate(wrt(alphas, means, icf))]
fn gmm_objective(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    wishart_gamma: f64,
    wishart_m: f64,
    d: usize,
    k: usize,
    n: usize,
) -> f64 {
    let icf_sz = d * (d + 1) / 2;
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        let mut s = 0.0;
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            s += q;
            qdiags[ik * d + id] = q.exp();
        }
        sum_qs[ik] = s;
    }
    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        for ik in 0..k {
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut lparamsidx = d;
            for i in 0..d {
                for j in i + 1..d {
                    qxcentered[j] += icf[ik * icf_sz + lparamsidx] * xcentered[i];
                    lparamsidx += 1;
                }
            }
            let mut sqsum = 0.0;
            for id in 0..d {
                sqsum += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqsum;
        }
        let mut mx = main_term[0];
        for ik in 1..k {
            if main_term[ik] > mx {
                mx = main_term[ik];
            }
        }
        let mut semx = 0.0;
        for ik in 0..k {
            semx += (main_term[ik] - mx).exp();
        }
        slse += semx.ln() + mx;
    }
    let mut amx = alphas[0];
    for ik in 1..k {
        if alphas[ik] > amx {
            amx = alphas[ik];
        }
    }
    let mut sa = 0.0;
    for ik in 0..k {
        sa += (alphas[ik] - amx).exp();
    }
    let lse_alphas = sa.ln() + amx;
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frob = 0.0;
        for id in 0..d {
            frob += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        for i in d..icf_sz {
            frob += icf[ik * icf_sz + i] * icf[ik * icf_sz + i];
        }
        prior += 0.5 * wishart_gamma * wishart_gamma * frob - wishart_m * sum_qs[ik];
    }
    constant + slse - (n as f64) * lse_alphas + prior
}

#[test]
fn the_adbench_gaussian_mixture_from_its_reference() {
    for (d, k, n) in [(1, 2, 3), (2, 3, 4), (4, 3, 5)] {
        let icf_sz = d * (d + 1) / 2;
        let alphas = data(k, 0.1);
        let means = data(k * d, 1.7);
        let icf: Vec<f64> = data(k * icf_sz, 3.3).iter().map(|v| 0.5 * v).collect();
        let x = data(n * d, 5.9);
        let (g1, g2) = (1.3, 0.7);
        let (v, (ga, gm, gi)) = gmm_objective_grad(&alphas, &means, &icf, &x, g1, g2, d, k, n);
        close(
            "value",
            v,
            gmm_objective(&alphas, &means, &icf, &x, g1, g2, d, k, n),
            TOL,
        );
        let what = format!("d={d} k={k} n={n}");
        fd_vec(
            &format!("{what}: alphas"),
            |a| gmm_objective(a, &means, &icf, &x, g1, g2, d, k, n),
            &alphas,
            &ga,
        );
        fd_vec(
            &format!("{what}: means"),
            |m| gmm_objective(&alphas, m, &icf, &x, g1, g2, d, k, n),
            &means,
            &gm,
        );
        fd_vec(
            &format!("{what}: icf"),
            |q| gmm_objective(&alphas, &means, q, &x, g1, g2, d, k, n),
            &icf,
            &gi,
        );
    }
}

/// [`pairs`] with its Hessian-vector product: forward over reverse keeps the arrays whole.
/// `H·v` of `s` along `v` is `∂/∂t ∇s(w + t·v)`, here by central differences of the analytic
/// gradient.
#[differentiate(wrt(w), hessian)]
fn pairs_h(w: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
    let mut xc: Vec<f64> = vec![0.0; d];
    let mut s = 0.0;
    for r in 0..n {
        for i in 0..d {
            xc[i] = x[r * d + i] * w[i];
        }
        for i in 0..d {
            for j in i + 1..d {
                s += xc[i] * xc[j];
            }
        }
    }
    s
}

#[test]
fn the_hessian_vector_product_of_a_scratch_vector_nest() {
    let (d, n) = (4, 3);
    let (w, x, v) = (data(d, 0.5), data(n * d, 2.0), data(d, 9.0));
    let (y, g, hv) = pairs_h_hvp(&w, &x, d, n, &v);
    close("value", y, pairs(&w, &x, d, n), TOL);
    let expected = pairs_grad_analytic(&w, &x, d, n);
    let h = 1e-5;
    let shifted = |t: f64| -> Vec<f64> {
        let wt: Vec<f64> = w.iter().zip(&v).map(|(a, b)| a + t * b).collect();
        pairs_grad_analytic(&wt, &x, d, n)
    };
    let (gp, gm) = (shifted(h), shifted(-h));
    for k in 0..d {
        close(&format!("∂w[{k}]"), g[k], expected[k], 1e-12);
        close(
            &format!("(H·v)[{k}]"),
            hv[k],
            (gp[k] - gm[k]) / (2.0 * h),
            1e-7,
        );
    }
}

/// Counters carried through loops and read inside them: the pullback computes them from the
/// loop's index. An `i32` counter over a `usize` range going down by a step read from a
/// parameter, and the counter's value after the loop read too:
/// `s = Σ_i Σ_{j>i} w[k_ij]·x_i·x_j + c_end` with `k` counting down from `m − 1` by `step`, so
/// `∂s/∂w[k_ij] = x_i·x_j`.
#[differentiate(wrt(w))]
fn counted(w: &[f64], x: &[f64], step: i32) -> f64 {
    let d = x.len();
    let mut s = 0.0;
    let mut k: i32 = (w.len() - 1) as i32;
    for i in 0..d {
        for j in i + 1..d {
            s += w[k as usize] * x[i] * x[j];
            k -= step;
        }
    }
    s + k as f64
}

#[test]
fn counters_carried_through_a_triangle_of_loops() {
    for d in [0, 1, 2, 4] {
        let x = data(d, 1.3);
        let pairs = d * d.saturating_sub(1) / 2;
        let step = 2;
        let m = (pairs.max(1) - 1) * step as usize + 1;
        let w = data(m, 0.2);
        let (v, g) = counted_grad(&w, &x, step);
        close("value", v, counted(&w, &x, step), TOL);
        let mut expected = vec![0.0; m];
        let mut k = m - 1;
        for i in 0..d {
            for j in i + 1..d {
                expected[k] += x[i] * x[j];
                k = k.saturating_sub(step as usize);
            }
        }
        for (n, (a, e)) in g.iter().zip(&expected).enumerate() {
            close(&format!("d={d}: ∂w[{n}]"), *a, *e, 1e-12);
        }
    }
}
