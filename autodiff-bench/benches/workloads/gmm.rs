//! Workload 3: the negative log-likelihood of a Gaussian mixture (the ADBench GMM objective
//! without its Wishart prior), over `n` points in `d` dimensions with `K` components:
//!
//! ```text
//! NLL = n·(logsumexp(α) + d/2·ln 2π) − Σᵢ logsumexp_k(α_k + Σⱼ q_kj − ½‖Q_k (xᵢ − μ_k)‖²)
//! ```
//!
//! `Q_k` is lower triangular: `exp(q_k)` on its diagonal, `L_k` below it (`d(d−1)/2` entries,
//! row by row). Active: `alphas` (K), `means` (K·d), `qs` (K·d), `ls` (K·d(d−1)/2); the data
//! `x` (n·d, row-major) is inactive. Every version precomputes `exp(q)` and `Σⱼ q_kj` once.
//!
//! The function reads only scalars and slices and keeps an online log-sum-exp over components
//! (`if beta > m`), the subset `#[differentiate]` handles; the hand-written gradient is what a
//! careful person writes: per point, the K exponents `β` and the vectors `xc = x − μ_k`,
//! `r = Q_k·xc` in scratch buffers, a two-pass log-sum-exp, then the softmax weights `w`, with
//! `∂β/∂α = 1`, `∂β/∂q_kj = 1 − r_j·e^{q_kj}·xc_j`, `∂β/∂L_jl = −r_j·xc_l`, `∂β/∂μ = Q_kᵀ·r`.
//!
//! `#[differentiate(.., hessian)]` also generates `gmm_hvp`, timed along one random direction
//! after a check against central differences of the hand-written gradient. The local arrays are
//! declared `Vec<f64>`: without the annotation the macro does not know that their elements are
//! scalars, and `_hvp` has no second-order rule for `exp`/`ln` of values of unknown type.
//!
//! Finite differences need `2p + 1` evaluations for `p` parameters (3301 at d=10, K=25): above 64
//! parameters the runner differentiates 16 evenly spaced coordinates and the report scales its
//! time to all `p` (marked `~`).

// The objective indexes by loop counters on purpose: that is the subset `#[differentiate]` reads.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::check::random_direction;
use autodiff::differentiate;
use easy_ml::differentiation::record_operations::SwappedOperations;
use easy_ml::differentiation::{Record, WengertList};
use easy_ml::numeric::extra::{Exp, Ln};

use super::alloc::heap_kept_by;
use super::{
    Case, Method, RTOL_EXACT, Rng, Stored, assert_close, central_fd_coords, check_gradients,
    check_hvp, fd_coordinates, runner,
};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

#[differentiate(wrt(alphas, means, qs, ls), hessian)]
pub fn gmm(alphas: &[f64], means: &[f64], qs: &[f64], ls: &[f64], x: &[f64], d: usize) -> f64 {
    let k = alphas.len();
    let n = x.len() / d;
    let tri = (d * d - d) / 2;
    let mut amax = alphas[0];
    for c in 1..k {
        if alphas[c] > amax {
            amax = alphas[c];
        }
    }
    let mut asum = 0.0;
    for c in 0..k {
        asum += (alphas[c] - amax).exp();
    }
    let lse_alpha = amax + asum.ln();
    let mut eq: Vec<f64> = vec![0.0; k * d];
    let mut sumq: Vec<f64> = vec![0.0; k];
    for c in 0..k {
        for j in 0..d {
            eq[c * d + j] = qs[c * d + j].exp();
            sumq[c] += qs[c * d + j];
        }
    }
    let mut total = 0.0;
    for i in 0..n {
        let mut m = f64::NEG_INFINITY;
        let mut acc = 0.0;
        for c in 0..k {
            let mut sq = 0.0;
            for j in 0..d {
                let mut t = eq[c * d + j] * (x[i * d + j] - means[c * d + j]);
                let row = c * tri + (j * j - j) / 2;
                for l in 0..j {
                    t += ls[row + l] * (x[i * d + l] - means[c * d + l]);
                }
                sq += t * t;
            }
            let beta = alphas[c] + sumq[c] - 0.5 * sq;
            if beta > m {
                acc = acc * (m - beta).exp() + 1.0;
                m = beta;
            } else {
                acc += (beta - m).exp();
            }
        }
        total += m + acc.ln();
    }
    (n as f64) * (lse_alpha + 0.5 * (d as f64) * LN_2PI) - total
}

/// The gradient: `(alphas, means, qs, ls)`.
pub type GmmGrad = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

/// The hand-written value and gradient (see the module docs for the derivatives).
pub fn gmm_hand(
    alphas: &[f64],
    means: &[f64],
    qs: &[f64],
    ls: &[f64],
    x: &[f64],
    d: usize,
) -> (f64, GmmGrad) {
    let k = alphas.len();
    let n = x.len() / d;
    let tri = (d * d - d) / 2;
    let amax = alphas.iter().fold(f64::NEG_INFINITY, |m, &a| m.max(a));
    let asum: f64 = alphas.iter().map(|a| (a - amax).exp()).sum();
    let lse_alpha = amax + asum.ln();
    let eq: Vec<f64> = qs.iter().map(|q| q.exp()).collect();
    let sumq: Vec<f64> = (0..k)
        .map(|c| qs[c * d..(c + 1) * d].iter().sum())
        .collect();

    let mut g_means = vec![0.0; k * d];
    let mut g_ls = vec![0.0; k * tri];
    // Σᵢ w_ic and Σᵢ w_ic·r_j·xc_j: ∂/∂α and ∂/∂q are assembled from them at the end.
    let mut w_sum = vec![0.0; k];
    let mut rxc = vec![0.0; k * d];
    let mut beta = vec![0.0; k];
    let mut xc = vec![0.0; k * d];
    let mut r = vec![0.0; k * d];
    let mut total = 0.0;
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        let mut m = f64::NEG_INFINITY;
        for c in 0..k {
            let xc = &mut xc[c * d..(c + 1) * d];
            let r = &mut r[c * d..(c + 1) * d];
            let mu = &means[c * d..(c + 1) * d];
            let lc = &ls[c * tri..(c + 1) * tri];
            for j in 0..d {
                xc[j] = xi[j] - mu[j];
            }
            let mut sq = 0.0;
            for j in 0..d {
                let row = (j * j - j) / 2;
                let mut t = eq[c * d + j] * xc[j];
                for l in 0..j {
                    t += lc[row + l] * xc[l];
                }
                r[j] = t;
                sq += t * t;
            }
            beta[c] = alphas[c] + sumq[c] - 0.5 * sq;
            m = m.max(beta[c]);
        }
        let mut s = 0.0;
        for c in 0..k {
            beta[c] = (beta[c] - m).exp();
            s += beta[c];
        }
        total += m + s.ln();
        let inv = 1.0 / s;
        for c in 0..k {
            // −w_c: this point's share of ∂(−logsumexp)/∂β_c.
            let w = beta[c] * inv;
            w_sum[c] += w;
            let xc = &xc[c * d..(c + 1) * d];
            let r = &r[c * d..(c + 1) * d];
            let lc = &ls[c * tri..(c + 1) * tri];
            let gm = &mut g_means[c * d..(c + 1) * d];
            let gl = &mut g_ls[c * tri..(c + 1) * tri];
            for j in 0..d {
                let wr = w * r[j];
                rxc[c * d + j] += wr * xc[j];
                // ∂(−β)/∂μ_l = −(Qᵀr)_l: the diagonal part here, the L part below.
                gm[j] -= wr * eq[c * d + j];
                let row = (j * j - j) / 2;
                for l in 0..j {
                    gl[row + l] += wr * xc[l];
                    gm[l] -= wr * lc[row + l];
                }
            }
        }
    }
    let value = (n as f64) * (lse_alpha + 0.5 * (d as f64) * LN_2PI) - total;
    let g_alphas = (0..k)
        .map(|c| (n as f64) * (alphas[c] - lse_alpha).exp() - w_sum[c])
        .collect();
    let g_qs = (0..k * d)
        .map(|cj| -w_sum[cj / d] + eq[cj] * rxc[cj])
        .collect();
    (value, (g_alphas, g_means, g_qs, g_ls))
}

/// The same objective (and online log-sum-exp) as [`gmm`], on the `easy-ml` tape.
pub fn gmm_tape(
    list: &WengertList<f64>,
    alphas: &[f64],
    means: &[f64],
    qs: &[f64],
    ls: &[f64],
    x: &[f64],
    d: usize,
) -> (f64, GmmGrad) {
    list.clear();
    let vars = |v: &[f64]| -> Vec<Record<'_, f64>> {
        v.iter().map(|&p| Record::variable(p, list)).collect()
    };
    let (ar, mr, qr, lr) = (vars(alphas), vars(means), vars(qs), vars(ls));
    let k = alphas.len();
    let n = x.len() / d;
    let tri = (d * d - d) / 2;
    let mut amax = ar[0];
    for c in 1..k {
        if ar[c] > amax {
            amax = ar[c];
        }
    }
    let mut asum = Record::constant(0.0);
    for c in 0..k {
        asum = asum + (ar[c] - amax).exp();
    }
    let lse_alpha = amax + asum.ln();
    let eq: Vec<Record<'_, f64>> = qr.iter().map(|q| q.exp()).collect();
    let mut sumq = vec![Record::constant(0.0); k];
    for c in 0..k {
        for j in 0..d {
            sumq[c] = sumq[c] + qr[c * d + j];
        }
    }
    let mut total = Record::constant(0.0);
    for i in 0..n {
        let mut m = Record::constant(f64::NEG_INFINITY);
        let mut acc = Record::constant(0.0);
        for c in 0..k {
            let mut sq = Record::constant(0.0);
            for j in 0..d {
                let mut t = eq[c * d + j] * mr[c * d + j].sub_swapped(x[i * d + j]);
                let row = c * tri + (j * j - j) / 2;
                for l in 0..j {
                    t = t + lr[row + l] * mr[c * d + l].sub_swapped(x[i * d + l]);
                }
                sq = sq + t * t;
            }
            let beta = ar[c] + sumq[c] - sq * 0.5;
            if beta > m {
                acc = acc * (m - beta).exp() + 1.0;
                m = beta;
            } else {
                acc = acc + (beta - m).exp();
            }
        }
        total = total + (m + acc.ln());
    }
    let value = (lse_alpha + 0.5 * (d as f64) * LN_2PI) * (n as f64) - total;
    let g = value.derivatives();
    let grads = |v: &[Record<'_, f64>]| -> Vec<f64> { v.iter().map(|r| g[r]).collect() };
    (
        value.number,
        (grads(&ar), grads(&mr), grads(&qr), grads(&lr)),
    )
}

/// Parameters and data of one size.
struct Problem {
    d: usize,
    k: usize,
    alphas: Vec<f64>,
    means: Vec<f64>,
    qs: Vec<f64>,
    ls: Vec<f64>,
    x: Vec<f64>,
}

impl Problem {
    fn new(d: usize, k: usize, n: usize) -> Problem {
        let mut rng = Rng::new(440 + (d * 100 + k) as u64);
        let mut normals = |m: usize, s: f64| (0..m).map(|_| s * rng.normal()).collect::<Vec<_>>();
        Problem {
            d,
            k,
            alphas: normals(k, 1.0),
            means: normals(k * d, 1.5),
            qs: normals(k * d, 0.2),
            ls: normals(k * (d * d - d) / 2, 0.3),
            x: normals(n * d, 2.0),
        }
    }

    fn flat(&self) -> Vec<f64> {
        [&self.alphas[..], &self.means, &self.qs, &self.ls].concat()
    }

    /// The parameters `(alphas, means, qs, ls)` of a flat vector `[alphas, means, qs, ls]`.
    fn split<'p>(&self, p: &'p [f64]) -> (&'p [f64], &'p [f64], &'p [f64], &'p [f64]) {
        let (k, kd) = (self.k, self.k * self.d);
        (
            &p[..k],
            &p[k..k + kd],
            &p[k + kd..k + 2 * kd],
            &p[k + 2 * kd..],
        )
    }

    /// The objective at a flat parameter vector `[alphas, means, qs, ls]`.
    fn eval_flat(&self, p: &[f64]) -> f64 {
        let (a, m, q, l) = self.split(p);
        gmm(a, m, q, l, &self.x, self.d)
    }

    /// The hand-written gradient at a flat parameter vector, flat.
    fn grad_flat(&self, p: &[f64]) -> Vec<f64> {
        let (a, m, q, l) = self.split(p);
        flatten(&gmm_hand(a, m, q, l, &self.x, self.d).1)
    }
}

fn flatten(g: &GmmGrad) -> Vec<f64> {
    [&g.0[..], &g.1, &g.2, &g.3].concat()
}

pub fn cases() -> Vec<Case> {
    vec![case(2, 5, 1000), case(5, 10, 1000), case(10, 25, 1000)]
}

fn case(d: usize, k: usize, n: usize) -> Case {
    let name = format!("GMM d={d} K={k} n={n}");
    let pb = Problem::new(d, k, n);
    let theta = pb.flat();
    let p = theta.len();
    let list = WengertList::new();

    let hand = gmm_hand(&pb.alphas, &pb.means, &pb.qs, &pb.ls, &pb.x, d);
    let (yo, go) = gmm_grad(&pb.alphas, &pb.means, &pb.qs, &pb.ls, &pb.x, d);
    let (yt, gt) = gmm_tape(&list, &pb.alphas, &pb.means, &pb.qs, &pb.ls, &pb.x, d);
    let coords = fd_coordinates(p);
    let fd = central_fd_coords(|p| pb.eval_flat(p), &theta, &coords);
    check_gradients(
        &name,
        &(hand.0, flatten(&hand.1)),
        &(yo, flatten(&go)),
        &(yt, flatten(&gt)),
        &fd,
        &coords,
    );

    // The Hessian-vector product along a random direction: its value and gradient are the
    // hand-written ones, H·v the central difference of the hand-written gradient along v.
    let v = random_direction(
        &(
            pb.alphas.clone(),
            pb.means.clone(),
            pb.qs.clone(),
            pb.ls.clone(),
        ),
        1,
    );
    let (ys, gs, hv) = gmm_hvp(
        &pb.alphas, &pb.means, &pb.qs, &pb.ls, &pb.x, d, &v.0, &v.1, &v.2, &v.3,
    );
    assert_close(&name, "value (hvp)", &[ys], &[hand.0], RTOL_EXACT);
    assert_close(
        &name,
        "gradient (hvp)",
        &flatten(&gs),
        &flatten(&hand.1),
        RTOL_EXACT,
    );
    check_hvp(
        &name,
        |p| pb.grad_flat(p),
        &theta,
        &flatten(&v),
        &flatten(&hv),
    );

    let fd_scale = (2 * p + 1) as f64 / (2 * coords.len() + 1) as f64;
    let pb = std::rc::Rc::new(pb);
    let runners = vec![
        (Method::Function, {
            let pb = pb.clone();
            runner(move || gmm(black_box(&pb.alphas), &pb.means, &pb.qs, &pb.ls, &pb.x, d))
        }),
        (Method::Ours, {
            let pb = pb.clone();
            runner(move || gmm_grad(black_box(&pb.alphas), &pb.means, &pb.qs, &pb.ls, &pb.x, d))
        }),
        (Method::Hand, {
            let pb = pb.clone();
            runner(move || gmm_hand(black_box(&pb.alphas), &pb.means, &pb.qs, &pb.ls, &pb.x, d))
        }),
        (Method::FiniteDiff, {
            let pb = pb.clone();
            runner(move || central_fd_coords(|p| pb.eval_flat(p), black_box(&theta), &coords))
        }),
        (Method::Tape, {
            let pb = pb.clone();
            runner(move || {
                gmm_tape(
                    &list,
                    black_box(&pb.alphas),
                    &pb.means,
                    &pb.qs,
                    &pb.ls,
                    &pb.x,
                    d,
                )
            })
        }),
        (Method::Hvp, {
            let pb = pb.clone();
            runner(move || {
                gmm_hvp(
                    black_box(&pb.alphas),
                    &pb.means,
                    &pb.qs,
                    &pb.ls,
                    &pb.x,
                    d,
                    &v.0,
                    &v.1,
                    &v.2,
                    &v.3,
                )
            })
        }),
    ];
    Case {
        name,
        params: p,
        ops: None,
        fd_scale,
        runners,
        stored: Some(Box::new(move || {
            let ((_, pb_), heap) =
                heap_kept_by(|| gmm_vjp(&pb.alphas, &pb.means, &pb.qs, &pb.ls, &pb.x, d));
            Stored {
                closure: size_of_val(&pb_),
                heap,
            }
        })),
    }
}
