//! Workload 3b: the ADBench Gaussian mixture objective as its C++ reference writes it —
//! scratch vectors `xcentered`, `Qxcentered` and `main_term` overwritten for every point and
//! component, `Q·x` with the lower part's index carried through the triangle of loops, a
//! two-pass log-sum-exp and the Wishart prior — translated line by line into scalar loops over
//! slices. No hand-written gradient sits beside it (the report's `gmm` workload has one, for the
//! same mixture written as a careful user would write it); the row shows what the gradient of
//! code written this way costs against the code itself. `icf` holds per component the `d`
//! log-diagonal entries of `Q_k`, then its strictly lower part column by column. Checked against
//! central finite differences before it is timed.

#![allow(clippy::needless_range_loop, clippy::too_many_arguments)]

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::differentiate;

use super::alloc::heap_kept_by;
use super::{
    Case, Method, RTOL_EXACT, RTOL_FD, Rng, Stored, assert_close, central_fd_coords,
    fd_coordinates, runner,
};

#[differentiate(wrt(alphas, means, icf))]
pub fn gmm_objective(
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

/// The gradient of `gmm_objective` written by hand: per point, the K exponents and the
/// vectors `xc = x − μ_k` and `Qxc = Q_k·xc` in scratch buffers, a two-pass log-sum-exp, then
/// with the softmax weight `w_k`: `∂/∂Qxc = −w_k·Qxc`, and through `Q_k` to `icf` (its
/// diagonal through `exp`), `xc` and so `μ_k`. The Wishart prior and `−n·lse(α)` are added
/// at the end.
pub fn gmm_objective_hand(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    wishart_gamma: f64,
    wishart_m: f64,
    d: usize,
    k: usize,
    n: usize,
) -> (f64, Grad) {
    let icf_sz = d * (d + 1) / 2;
    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }
    let mut g_alphas = vec![0.0; k];
    let mut g_means = vec![0.0; k * d];
    let mut g_icf = vec![0.0; k * icf_sz];
    let mut xc = vec![0.0; k * d];
    let mut qxc = vec![0.0; k * d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        let xi = &x[ix * d..(ix + 1) * d];
        for ik in 0..k {
            let xc = &mut xc[ik * d..(ik + 1) * d];
            let qxc = &mut qxc[ik * d..(ik + 1) * d];
            let mu = &means[ik * d..(ik + 1) * d];
            let qd = &qdiags[ik * d..(ik + 1) * d];
            let l = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            for id in 0..d {
                xc[id] = xi[id] - mu[id];
                qxc[id] = qd[id] * xc[id];
            }
            let mut li = 0;
            for i in 0..d {
                for j in i + 1..d {
                    qxc[j] += l[li] * xc[i];
                    li += 1;
                }
            }
            let sqsum: f64 = qxc.iter().map(|v| v * v).sum();
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqsum;
        }
        let mx = main_term.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let mut semx = 0.0;
        for ik in 0..k {
            main_term[ik] = (main_term[ik] - mx).exp();
            semx += main_term[ik];
        }
        slse += semx.ln() + mx;
        for ik in 0..k {
            let w = main_term[ik] / semx;
            g_alphas[ik] += w;
            let xc = &xc[ik * d..(ik + 1) * d];
            let qxc = &qxc[ik * d..(ik + 1) * d];
            let qd = &qdiags[ik * d..(ik + 1) * d];
            let l = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            let (g_diag, g_l) = g_icf[ik * icf_sz..(ik + 1) * icf_sz].split_at_mut(d);
            let g_mu = &mut g_means[ik * d..(ik + 1) * d];
            // ∂/∂xc_i, ∂/∂diag_i and ∂/∂L_ij of −w·½‖Qxc‖², with r = Qxc.
            let mut li = 0;
            for i in 0..d {
                let r = w * qxc[i];
                g_diag[i] += w - r * qd[i] * xc[i];
                let mut gx = r * qd[i];
                for j in i + 1..d {
                    let rj = w * qxc[j];
                    gx += rj * l[li];
                    g_l[li] -= rj * xc[i];
                    li += 1;
                }
                g_mu[i] += gx;
            }
        }
    }
    let amx = alphas.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let sa: f64 = alphas.iter().map(|a| (a - amx).exp()).sum();
    let lse_alphas = sa.ln() + amx;
    let nf = n as f64;
    for ik in 0..k {
        g_alphas[ik] -= nf * (alphas[ik] - lse_alphas).exp();
    }
    let constant = -nf * (d as f64) * 0.5 * (2.0 * std::f64::consts::PI).ln();
    let g2 = wishart_gamma * wishart_gamma;
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frob = 0.0;
        for id in 0..d {
            let q = qdiags[ik * d + id];
            frob += q * q;
            g_icf[ik * icf_sz + id] += g2 * q * q - wishart_m;
        }
        for i in d..icf_sz {
            let v = icf[ik * icf_sz + i];
            frob += v * v;
            g_icf[ik * icf_sz + i] += g2 * v;
        }
        prior += 0.5 * g2 * frob - wishart_m * sum_qs[ik];
    }
    (
        constant + slse - nf * lse_alphas + prior,
        (g_alphas, g_means, g_icf),
    )
}

pub fn cases() -> Vec<Case> {
    vec![case(2, 5, 1000), case(10, 25, 1000), case(20, 50, 1000)]
}

/// The gradient: `(alphas, means, icf)`.
type Grad = (Vec<f64>, Vec<f64>, Vec<f64>);

/// A gradient of [`gmm_objective`], with its arguments.
type GradFn = fn(&[f64], &[f64], &[f64], &[f64], f64, f64, usize, usize, usize) -> (f64, Grad);

struct Problem {
    d: usize,
    k: usize,
    n: usize,
    alphas: Vec<f64>,
    means: Vec<f64>,
    icf: Vec<f64>,
    x: Vec<f64>,
}

const GAMMA: f64 = 1.0;
const M: f64 = 0.0;

impl Problem {
    fn eval_flat(&self, p: &[f64]) -> f64 {
        let (k, kd) = (self.k, self.k * self.d);
        let (a, m, q) = (&p[..k], &p[k..k + kd], &p[k + kd..]);
        gmm_objective(a, m, q, &self.x, GAMMA, M, self.d, self.k, self.n)
    }

    fn hand(&self) -> (f64, Grad) {
        self.gradient_by(gmm_objective_hand)
    }

    fn grad(&self) -> (f64, Grad) {
        self.gradient_by(gmm_objective_grad)
    }

    /// The value and gradient by `g`, ours or the hand-written one (same arguments).
    fn gradient_by(&self, g: GradFn) -> (f64, Grad) {
        let (d, k, n) = (self.d, self.k, self.n);
        g(
            &self.alphas,
            &self.means,
            &self.icf,
            &self.x,
            GAMMA,
            M,
            d,
            k,
            n,
        )
    }
}

fn case(d: usize, k: usize, n: usize) -> Case {
    let name = format!("GMM from ADBench's C++ d={d} K={k} n={n}");
    let mut rng = Rng::new(4400 + (d * 100 + k) as u64);
    let mut normals = |m: usize, s: f64| (0..m).map(|_| s * rng.normal()).collect::<Vec<_>>();
    let icf_sz = d * (d + 1) / 2;
    let pb = Problem {
        d,
        k,
        n,
        alphas: normals(k, 1.0),
        means: normals(k * d, 1.5),
        icf: normals(k * icf_sz, 0.2),
        x: normals(n * d, 2.0),
    };
    let theta = [&pb.alphas[..], &pb.means, &pb.icf].concat();
    let p = theta.len();
    let (y, (ga, gm, gq)) = pb.grad();
    let ours = [ga, gm, gq].concat();
    let coords = fd_coordinates(p);
    let (yf, fd) = central_fd_coords(|q| pb.eval_flat(q), &theta, &coords);
    assert_close(&name, "value", &[y], &[yf], 1e-12);
    let at = |g: &[f64]| coords.iter().map(|&c| g[c]).collect::<Vec<_>>();
    assert_close(
        &name,
        "ours against finite differences",
        &at(&ours),
        &at(&fd),
        RTOL_FD,
    );
    let (yh, (ha, hm, hq)) = pb.hand();
    assert_close(&name, "hand-written value", &[yh], &[y], 1e-12);
    assert_close(
        &name,
        "hand-written against ours",
        &[ha, hm, hq].concat(),
        &ours,
        RTOL_EXACT,
    );

    let fd_scale = (2 * p + 1) as f64 / (2 * coords.len() + 1) as f64;
    let pb = std::rc::Rc::new(pb);
    let runners = vec![
        (Method::Function, {
            let pb = pb.clone();
            runner(move || {
                let (d, k, n) = (pb.d, pb.k, pb.n);
                let x = &pb.x;
                gmm_objective(
                    black_box(&pb.alphas),
                    &pb.means,
                    &pb.icf,
                    x,
                    GAMMA,
                    M,
                    d,
                    k,
                    n,
                )
            })
        }),
        (Method::Ours, {
            let pb = pb.clone();
            runner(move || black_box(&pb).grad())
        }),
        (Method::Hand, {
            let pb = pb.clone();
            runner(move || black_box(&pb).hand())
        }),
        (Method::FiniteDiff, {
            let pb = pb.clone();
            runner(move || central_fd_coords(|q| pb.eval_flat(q), black_box(&theta), &coords))
        }),
    ];
    Case {
        name,
        params: p,
        ops: None,
        fd_scale,
        runners,
        stored: Some(Box::new(move || {
            let (d, k, n) = (pb.d, pb.k, pb.n);
            let ((_, pb_), heap) = heap_kept_by(|| {
                gmm_objective_vjp(&pb.alphas, &pb.means, &pb.icf, &pb.x, GAMMA, M, d, k, n)
            });
            Stored {
                closure: size_of_val(&pb_),
                heap,
            }
        })),
    }
}
