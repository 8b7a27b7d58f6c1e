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
    Case, Method, RTOL_FD, Rng, Stored, assert_close, central_fd_coords, fd_coordinates, runner,
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

pub fn cases() -> Vec<Case> {
    vec![case(2, 5, 1000), case(10, 25, 1000), case(20, 50, 1000)]
}

/// The gradient: `(alphas, means, icf)`.
type Grad = (Vec<f64>, Vec<f64>, Vec<f64>);

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

    fn grad(&self) -> (f64, Grad) {
        let (d, k, n) = (self.d, self.k, self.n);
        gmm_objective_grad(
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
