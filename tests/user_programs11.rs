//! Whole small applications as Rust engineers write them, in domains the earlier rounds left
//! out: survival analysis (Gompertz hazards and log-logistic accelerated failure times under
//! censoring), rankings (Plackett–Luce, Elo updates), count models (Tweedie deviance with
//! exposure offsets, a hurdle Poisson), losses (sparsemax, Lovász hinge, Tversky, wing,
//! Charbonnier, ArcFace, BPR, DPO, PPO), optimal transport by log-domain Sinkhorn iterations, a
//! linear-chain CRF, a neural ODE by Euler steps, volume rendering, embeddings (t-SNE, MDS,
//! Poincaré), physics (advection, catenaries, brachistochrones, Planck's law, radiative
//! cooling, orbital transfers), finance (Vasicek, SABR at the money), operations research
//! (newsvendor, M/M/1 staffing), robotics and vision (unicycle rollouts, potential fields,
//! camera models with radial distortion, chamfer distances) — each written with the idioms
//! such code uses: iterator chains, closures kept in variables, `scan`, `windows`, `chunks`,
//! `rev`, `fold`, `max_by`, struct methods calling each other, enums matched as data, `Option`s
//! with `if let`, `while` loops with tolerances, generic `F: Float` helpers and `f32`.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Many also have their Hessian-vector products (`_hvp`) or tangents (`_jvp`)
//! checked.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::approx_constant,
    clippy::redundant_closure,
    clippy::unnecessary_fold,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::manual_clamp,
    clippy::op_ref,
    clippy::too_many_arguments,
    clippy::single_match
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use num_traits::Float;

mod common;
use common::*;

/// `H·v` of a function of a `Vec<f64>` against central differences of its gradient along `v`:
/// `(∇f(x + hv) − ∇f(x − hv)) / 2h`, each entry to a relative tolerance of `1e-6`.
#[track_caller]
fn hvp_against_fd(what: &str, grad: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64], hv: &[f64]) {
    let h = 1e-5;
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (gp, gm) = (grad(&xp), grad(&xm));
    for i in 0..x.len() {
        let e = (gp[i] - gm[i]) / (2.0 * h);
        close(&format!("{what}: (H·v)[{i}]"), hv[i], e, 1e-6);
    }
}

/// A gradient with respect to rows of floats against central finite differences.
#[track_caller]
fn fd_rows(what: &str, f: impl Fn(&[Vec<f64>]) -> f64, x: &[Vec<f64>], g: &[Vec<f64>]) {
    let r = gradcheck(|p: &Vec<Vec<f64>>| f(p), &x.to_vec(), &g.to_vec());
    assert!(r.passed(), "{what}: {r}");
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

// ---------------------------------------------------------------------------------------------
// Survival analysis, rankings and counts.
// ---------------------------------------------------------------------------------------------

/// A Gompertz hazard h(t) = a·e^{bt}, a = e^{log_a}, fitted to right-censored times: the
/// negative log-likelihood −Σ [δᵢ ln h(tᵢ) − H(tᵢ)], H(t) = (a/b)(e^{bt} − 1).
#[differentiate(hessian, wrt(log_a, b))]
fn gompertz_nll(log_a: f64, b: f64, times: &[f64], died: &[bool]) -> f64 {
    let a = log_a.exp();
    let cum_hazard = |t: f64| a / b * ((b * t).exp() - 1.0);
    -times
        .iter()
        .zip(died)
        .map(|(&t, &d)| {
            if d {
                log_a + b * t - cum_hazard(t)
            } else {
                -cum_hazard(t)
            }
        })
        .sum::<f64>()
}

#[test]
fn gompertz_survival_with_censoring() {
    let times = [0.5, 1.2, 2.0, 2.7, 3.1, 4.4, 5.0];
    let died = [true, false, true, true, false, true, false];
    let (la, b) = (-1.6, 0.35);
    let (v, (ga, gb)) = gompertz_nll_grad(la, b, &times, &died);
    close("value", v, gompertz_nll(la, b, &times, &died), TOL);
    // ∂log_a = Σ H(t) − Σ δ;  ∂b = Σ ∂H/∂b − Σ δ t,  ∂H/∂b = a[t e^{bt}/b − (e^{bt} − 1)/b²]
    let a = la.exp();
    let h = |t: f64| a / b * ((b * t).exp() - 1.0);
    let hb = |t: f64| a * (t * (b * t).exp() / b - ((b * t).exp() - 1.0) / (b * b));
    let deaths = died.iter().filter(|&&d| d).count() as f64;
    let ea: f64 = times.iter().map(|&t| h(t)).sum::<f64>() - deaths;
    let eb: f64 = times
        .iter()
        .zip(&died)
        .map(|(&t, &d)| hb(t) - if d { t } else { 0.0 })
        .sum();
    close("∂log_a", ga, ea, 1e-12);
    close("∂b", gb, eb, 1e-12);
    fd2(
        "gompertz",
        |x, y| gompertz_nll(x, y, &times, &died),
        (la, b),
        (ga, gb),
    );
    // H·(1, 0) = (Σ H, Σ ∂H/∂b)
    let (_, _, (h0, h1)) = gompertz_nll_hvp(la, b, &times, &died, 1.0, 0.0);
    close("∂²log_a", h0, times.iter().map(|&t| h(t)).sum(), 1e-12);
    close("∂log_a∂b", h1, times.iter().map(|&t| hb(t)).sum(), 1e-12);
    let fw = forward("gompertz").two(
        (la, b),
        |x, y| gompertz_nll(x, y, &times, &died),
        |x, y, dx, dy| gompertz_nll_jvp(x, y, &times, &died, dx, dy),
        |x, y| gompertz_nll_vjp(x, y, &times, &died),
    );
    tangents_are2("gompertz", &fw, (ga, gb), 1e-12);
}

/// A subject of a survival study: time, whether the event was seen, two covariates.
#[derive(Clone, Copy)]
struct Subject {
    time: f64,
    event: bool,
    x: [f64; 2],
}

const COHORT: [Subject; 6] = [
    Subject {
        time: 2.1,
        event: true,
        x: [0.5, 1.0],
    },
    Subject {
        time: 3.4,
        event: false,
        x: [-0.3, 0.0],
    },
    Subject {
        time: 0.9,
        event: true,
        x: [1.2, 1.0],
    },
    Subject {
        time: 5.2,
        event: true,
        x: [-1.0, 0.0],
    },
    Subject {
        time: 4.0,
        event: false,
        x: [0.1, 1.0],
    },
    Subject {
        time: 1.7,
        event: true,
        x: [0.8, 0.0],
    },
];

/// A log-logistic accelerated failure time model: ln T = η + σ W with W logistic; an event
/// contributes ln f(t) = z − ln σ − ln t − 2 ln(1 + eᶻ), a censored time ln S(t) = −ln(1 + eᶻ).
#[differentiate(wrt(beta, log_sigma))]
fn loglogistic_aft_nll(beta: [f64; 3], log_sigma: f64, cohort: &[Subject]) -> f64 {
    let sigma = log_sigma.exp();
    let mut nll = 0.0;
    for s in cohort {
        let eta = beta[0] + beta[1] * s.x[0] + beta[2] * s.x[1];
        let z = (s.time.ln() - eta) / sigma;
        let log_surv = -(1.0 + z.exp()).ln();
        nll -= if s.event {
            z - log_sigma - s.time.ln() + 2.0 * log_surv
        } else {
            log_surv
        };
    }
    nll
}

#[test]
fn log_logistic_accelerated_failure_time() {
    let beta = [0.6, -0.4, 0.3];
    let ls = -0.2;
    let (v, (gb, gs)) = loglogistic_aft_nll_grad(beta, ls, &COHORT);
    close("value", v, loglogistic_aft_nll(beta, ls, &COHORT), TOL);
    // dℓ/dz = 1 − 2σ(z) for an event, −σ(z) censored; ∂z/∂β = −x̃/σ, ∂z/∂log σ = −z
    // (an event adds −1 to ∂ℓ/∂log σ). With nll = −Σℓ: ∂β = Σ ℓ_z x̃/σ, ∂log σ = Σ ℓ_z z + δ.
    let sigma = ls.exp();
    let (mut eb, mut es) = ([0.0; 3], 0.0);
    for s in &COHORT {
        let xt = [1.0, s.x[0], s.x[1]];
        let z = (s.time.ln() - (0..3).map(|k| beta[k] * xt[k]).sum::<f64>()) / sigma;
        let lz = if s.event {
            1.0 - 2.0 * sigmoid(z)
        } else {
            -sigmoid(z)
        };
        for k in 0..3 {
            eb[k] += lz * xt[k] / sigma;
        }
        es += lz * z + if s.event { 1.0 } else { 0.0 };
    }
    close_all("∂β", &gb, &eb);
    close("∂log σ", gs, es, 1e-12);
    let r = gradcheck(
        |p: &([f64; 3], f64)| loglogistic_aft_nll(p.0, p.1, &COHORT),
        &(beta, ls),
        &(gb, gs),
    );
    assert!(r.passed(), "aft: {r}");
}

/// The Plackett–Luce negative log-likelihood of full rankings: each place is a softmax over
/// the items not yet placed, whose log-sum-exp is built from the back of the ranking.
#[differentiate(hessian, wrt(scores))]
fn plackett_luce_nll(scores: &[f64], rankings: &[Vec<usize>]) -> f64 {
    rankings
        .iter()
        .map(|order| {
            let mut tail = f64::NEG_INFINITY;
            let mut nll = 0.0;
            for &item in order.iter().rev() {
                let s = scores[item];
                let m = tail.max(s);
                tail = m + ((tail - m).exp() + (s - m).exp()).ln();
                nll += tail - s;
            }
            nll
        })
        .sum()
}

#[test]
fn plackett_luce_rankings() {
    let scores = vec![0.3, -0.5, 1.1, 0.0];
    let rankings = vec![vec![2, 0, 3, 1], vec![0, 2, 1, 3], vec![2, 3, 0, 1]];
    let (v, g) = plackett_luce_nll_grad(&scores, &rankings);
    close("value", v, plackett_luce_nll(&scores, &rankings), TOL);
    // ∂sᵢ = Σ over places j of [softmax over the items left at j](i), minus 1 per ranking
    let mut e = vec![0.0; 4];
    for order in &rankings {
        for j in 0..order.len() {
            let rest = &order[j..];
            let z: f64 = rest.iter().map(|&i| scores[i].exp()).sum();
            for &i in rest {
                e[i] += scores[i].exp() / z;
            }
            e[order[j]] -= 1.0;
        }
    }
    close_all("∂s", &g, &e);
    fd_vec("∂s", |s| plackett_luce_nll(s, &rankings), &scores, &g);
    let dir = vec![0.2, -0.1, 0.4, 0.3];
    let (_, g2, hv) = plackett_luce_nll_hvp(&scores, &rankings, &dir);
    close_all("hvp gradient", &g2, &g);
    hvp_against_fd(
        "plackett-luce",
        |s| plackett_luce_nll_grad(s, &rankings).1,
        &scores,
        &dir,
        &hv,
    );
}

/// Elo ratings replayed over a season: each game's prediction is scored by its log loss, then
/// both ratings move by K times the surprise. The K factor and the starting ratings are fitted.
#[differentiate(wrt(k, init))]
fn elo_log_loss(k: f64, init: &[f64], games: &[(usize, usize, f64)]) -> f64 {
    let mut r = init.to_vec();
    let scale = 400.0_f64;
    let mut loss = 0.0;
    for &(a, b, score) in games {
        let expect = 1.0 / (1.0 + 10f64.powf((r[b] - r[a]) / scale));
        loss -= score * expect.ln() + (1.0 - score) * (1.0 - expect).ln();
        let delta = k * (score - expect);
        r[a] += delta;
        r[b] -= delta;
    }
    loss / games.len() as f64
}

#[test]
fn elo_ratings_replayed_over_a_season() {
    let games = vec![
        (0, 1, 1.0),
        (1, 2, 0.5),
        (2, 0, 0.0),
        (0, 2, 1.0),
        (1, 0, 1.0),
        (2, 1, 0.0),
    ];
    let init = vec![1500.0, 1480.0, 1530.0];
    let k = 32.0;
    let (v, (gk, gi)) = elo_log_loss_grad(k, &init, &games);
    close("value", v, elo_log_loss(k, &init, &games), TOL);
    // Forward sensitivities by hand: E = σ(c(r_a − r_b)), c = ln 10/400, dE = E(1−E)c(dr_a −
    // dr_b); the loss term moves by −(s − E)c(dr_a − dr_b); Δ = K(s − E) moves by dK(s − E) − K dE.
    let c = 10f64.ln() / 400.0;
    let sens = |dk: f64, dinit: &[f64]| {
        let (mut r, mut dr) = (init.clone(), dinit.to_vec());
        let mut dl = 0.0;
        for &(a, b, s) in &games {
            let e = 1.0 / (1.0 + (c * (r[b] - r[a])).exp());
            let de = e * (1.0 - e) * c * (dr[a] - dr[b]);
            dl -= (s - e) * c * (dr[a] - dr[b]);
            let (d, dd) = (k * (s - e), dk * (s - e) - k * de);
            r[a] += d;
            r[b] -= d;
            dr[a] += dd;
            dr[b] -= dd;
        }
        dl / games.len() as f64
    };
    close("∂K", gk, sens(1.0, &[0.0; 3]), 1e-12);
    for j in 0..3 {
        let mut d = [0.0; 3];
        d[j] = 1.0;
        close(&format!("∂init[{j}]"), gi[j], sens(0.0, &d), 1e-12);
    }
    let r = gradcheck(
        |p: &(f64, Vec<f64>)| elo_log_loss(p.0, &p.1, &games),
        &(k, init.clone()),
        &(gk, gi.clone()),
    );
    assert!(r.passed(), "elo: {r}");
}

/// A Tweedie GLM (1 < p < 2) with a log link and exposures as offsets: the unit deviance
/// 2[y^{2−p}/((1−p)(2−p)) − y μ^{1−p}/(1−p) + μ^{2−p}/(2−p)], μ = e·exp(x·β).
#[differentiate(hessian, wrt(beta))]
fn tweedie_deviance(beta: &[f64], x: &[Vec<f64>], y: &[f64], exposure: &[f64], p: f64) -> f64 {
    let dev = |y: f64, mu: f64| {
        2.0 * (y.powf(2.0 - p) / ((1.0 - p) * (2.0 - p)) - y * mu.powf(1.0 - p) / (1.0 - p)
            + mu.powf(2.0 - p) / (2.0 - p))
    };
    x.iter()
        .zip(y)
        .zip(exposure)
        .map(|((row, &yi), &e)| {
            let eta: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>() + e.ln();
            dev(yi, eta.exp())
        })
        .sum()
}

#[test]
fn tweedie_glm_with_exposure_offsets() {
    let x = vec![
        vec![1.0, 0.2, -0.5],
        vec![1.0, -0.7, 0.3],
        vec![1.0, 1.1, 0.8],
        vec![1.0, 0.0, -1.2],
        vec![1.0, 0.4, 0.4],
    ];
    let y = vec![0.0, 1.3, 4.2, 0.0, 2.5];
    let exposure = vec![0.5, 1.0, 2.0, 0.8, 1.5];
    let beta = vec![0.1, 0.4, -0.2];
    let p = 1.5;
    let (v, g) = tweedie_deviance_grad(&beta, &x, &y, &exposure, p);
    close(
        "value",
        v,
        tweedie_deviance(&beta, &x, &y, &exposure, p),
        TOL,
    );
    // ∂β = Σ 2(μ^{2−p} − y μ^{1−p}) x,  H = Σ 2((2−p)μ^{2−p} − (1−p) y μ^{1−p}) x xᵀ
    let dir = vec![0.3, -0.2, 0.5];
    let (mut e, mut hv) = (vec![0.0; 3], vec![0.0; 3]);
    for i in 0..5 {
        let eta: f64 = (0..3).map(|k| x[i][k] * beta[k]).sum::<f64>() + exposure[i].ln();
        let mu = eta.exp();
        let d1 = 2.0 * (mu.powf(2.0 - p) - y[i] * mu.powf(1.0 - p));
        let d2 = 2.0 * ((2.0 - p) * mu.powf(2.0 - p) - (1.0 - p) * y[i] * mu.powf(1.0 - p));
        let xd: f64 = (0..3).map(|k| x[i][k] * dir[k]).sum();
        for k in 0..3 {
            e[k] += d1 * x[i][k];
            hv[k] += d2 * xd * x[i][k];
        }
    }
    for k in 0..3 {
        close(&format!("∂β[{k}]"), g[k], e[k], 1e-12);
    }
    fd_vec(
        "∂β",
        |b| tweedie_deviance(b, &x, &y, &exposure, p),
        &beta,
        &g,
    );
    let (_, _, h) = tweedie_deviance_hvp(&beta, &x, &y, &exposure, p, &dir);
    for k in 0..3 {
        close(&format!("H·v[{k}]"), h[k], hv[k], 1e-12);
    }
}

/// A hurdle Poisson model: a zero with probability π, otherwise a zero-truncated Poisson count.
#[differentiate(hessian)]
fn hurdle_poisson_nll(logit_zero: f64, log_rate: f64, counts: &[u32]) -> f64 {
    let pi = 1.0 / (1.0 + (-logit_zero).exp());
    let lam = log_rate.exp();
    let log_fact = |k: u32| (1..=k).map(|j| (j as f64).ln()).sum::<f64>();
    let mut nll = 0.0;
    for &c in counts {
        nll -= match c {
            0 => pi.ln(),
            k => {
                (1.0 - pi).ln() + k as f64 * log_rate - lam - (-(-lam).exp_m1()).ln() - log_fact(k)
            }
        };
    }
    nll
}

#[test]
fn hurdle_poisson_counts() {
    let counts = [0u32, 3, 0, 1, 5, 2, 0, 4, 1];
    let (lz, lr) = (-0.4, 0.8);
    let (v, (gz, gr)) = hurdle_poisson_nll_grad(lz, lr, &counts);
    close("value", v, hurdle_poisson_nll(lz, lr, &counts), TOL);
    // n₀ zeros, n₊ positives, S their sum: ∂logit = −n₀(1 − π) + n₊π,
    // ∂log λ = −S + n₊λ + n₊λe^{−λ}/(1 − e^{−λ}); ∂²logit = nπ(1 − π)
    let pi = sigmoid(lz);
    let lam = lr.exp();
    let n0 = counts.iter().filter(|&&c| c == 0).count() as f64;
    let np = counts.len() as f64 - n0;
    let s: f64 = counts.iter().map(|&c| c as f64).sum();
    close("∂logit", gz, -n0 * (1.0 - pi) + np * pi, 1e-12);
    let er = -s + np * lam + np * lam * (-lam).exp() / (1.0 - (-lam).exp());
    close("∂log λ", gr, er, 1e-12);
    fd2(
        "hurdle",
        |a, b| hurdle_poisson_nll(a, b, &counts),
        (lz, lr),
        (gz, gr),
    );
    let (_, _, (h0, h1)) = hurdle_poisson_nll_hvp(lz, lr, &counts, 1.0, 0.0);
    close("∂²logit", h0, counts.len() as f64 * pi * (1.0 - pi), 1e-12);
    close("∂logit∂log λ", h1, 0.0, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Losses.
// ---------------------------------------------------------------------------------------------

/// The sparsemax loss: the threshold τ from the sorted scores (the largest k with
/// 1 + k z₍ₖ₎ > Σ_{j≤k} z₍ⱼ₎), then −z_y + ½ Σ_{z_j>τ} (z_j² − τ²) + ½.
#[differentiate]
fn sparsemax_loss(z: &[f64], label: usize) -> f64 {
    let mut sorted = z.to_vec();
    sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let mut cum = 0.0;
    let mut k = 0;
    let mut cum_k = 0.0;
    for (j, &v) in sorted.iter().enumerate() {
        cum += v;
        if 1.0 + (j + 1) as f64 * v > cum {
            k = j + 1;
            cum_k = cum;
        }
    }
    let tau = (cum_k - 1.0) / k as f64;
    let support: f64 = z
        .iter()
        .filter(|&&v| v > tau)
        .map(|&v| v * v - tau * tau)
        .sum();
    -z[label] + 0.5 * support + 0.5
}

#[test]
fn sparsemax_loss_gradient_is_sparsemax_minus_onehot() {
    let z = vec![0.9, 0.1, 1.4, -0.8, 0.5];
    let label = 4;
    let (v, g) = sparsemax_loss_grad(&z, label);
    close("value", v, sparsemax_loss(&z, label), TOL);
    // ∇ = sparsemax(z) − e_y, sparsemax(z)ᵢ = max(zᵢ − τ, 0)
    let mut s = z.clone();
    s.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let k = (1..=5)
        .filter(|&k| 1.0 + k as f64 * s[k - 1] > s[..k].iter().sum::<f64>())
        .max()
        .unwrap();
    let tau = (s[..k].iter().sum::<f64>() - 1.0) / k as f64;
    let e: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, &v)| (v - tau).max(0.0) - if i == label { 1.0 } else { 0.0 })
        .collect();
    close_all("∂z", &g, &e);
    fd_vec("∂z", |z| sparsemax_loss(z, label), &z, &g);
}

/// The Lovász hinge for binary segmentation: hinge errors sorted in decreasing order, each
/// weighted by the step of the Jaccard loss's Lovász extension in that order.
#[differentiate(wrt(logits))]
fn lovasz_hinge(logits: &[f64], labels: &[f64]) -> f64 {
    let errors: Vec<f64> = logits
        .iter()
        .zip(labels)
        .map(|(&m, &y)| 1.0 - m * (2.0 * y - 1.0))
        .collect();
    let mut order: Vec<usize> = (0..errors.len()).collect();
    order.sort_by(|&a, &b| errors[b].partial_cmp(&errors[a]).unwrap());
    let gts: f64 = labels.iter().sum();
    let (mut inter, mut union) = (gts, gts);
    let mut prev_jac = 0.0;
    let mut loss = 0.0;
    for &i in &order {
        inter -= labels[i];
        union += 1.0 - labels[i];
        let jac = 1.0 - inter / union;
        loss += errors[i].max(0.0) * (jac - prev_jac);
        prev_jac = jac;
    }
    loss
}

#[test]
fn lovasz_hinge_through_a_sorted_order() {
    let logits = vec![1.3, -0.4, 0.2, 2.1, -1.7, 0.6, -0.1];
    let labels = vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    let (v, g) = lovasz_hinge_grad(&logits, &labels);
    close("value", v, lovasz_hinge(&logits, &labels), TOL);
    // ∂mᵢ = −(2yᵢ − 1)·[eᵢ > 0]·(J₍ᵣ₎ − J₍ᵣ₋₁₎), r the place of i in decreasing error order
    let errs: Vec<f64> = (0..7)
        .map(|i| 1.0 - logits[i] * (2.0 * labels[i] - 1.0))
        .collect();
    let mut order: Vec<usize> = (0..7).collect();
    order.sort_by(|&a, &b| errs[b].partial_cmp(&errs[a]).unwrap());
    let gts: f64 = labels.iter().sum();
    let (mut inter, mut union, mut prev) = (gts, gts, 0.0);
    let mut e = vec![0.0; 7];
    for &i in &order {
        inter -= labels[i];
        union += 1.0 - labels[i];
        let jac = 1.0 - inter / union;
        if errs[i] > 0.0 {
            e[i] = -(2.0 * labels[i] - 1.0) * (jac - prev);
        }
        prev = jac;
    }
    close_all("∂m", &g, &e);
    fd_vec("∂m", |m| lovasz_hinge(m, &labels), &logits, &g);
}

/// The Tversky loss for a segmentation mask in single precision: 1 − (TP + s)/(TP + αFP +
/// βFN + s) of the sigmoid probabilities.
#[differentiate(wrt(logits))]
fn tversky_loss(logits: &[f32], target: &[f32], alpha: f32, beta: f32) -> f32 {
    let probs: Vec<f32> = logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect();
    let tp: f32 = probs.iter().zip(target).map(|(p, t)| p * t).sum();
    let fp: f32 = probs.iter().zip(target).map(|(p, t)| p * (1.0 - t)).sum();
    let fn_: f32 = probs.iter().zip(target).map(|(p, t)| (1.0 - p) * t).sum();
    let smooth = 1.0;
    1.0 - (tp + smooth) / (tp + alpha * fp + beta * fn_ + smooth)
}

#[test]
fn tversky_loss_in_single_precision() {
    let logits: Vec<f32> = vec![0.8, -1.2, 2.0, 0.1, -0.3, 1.5];
    let target: Vec<f32> = vec![1.0, 0.0, 1.0, 0.0, 1.0, 1.0];
    let (a, b) = (0.3f32, 0.7f32);
    let (v, g) = tversky_loss_grad(&logits, &target, a, b);
    assert_eq!(v, tversky_loss(&logits, &target, a, b));
    // N = TP + s, D = TP + αFP + βFN + s: ∂L/∂pᵢ = −(tᵢ D − N(tᵢ + α(1 − tᵢ) − βtᵢ))/D²,
    // times pᵢ(1 − pᵢ) (in f64)
    let p: Vec<f64> = logits.iter().map(|&l| sigmoid(l as f64)).collect();
    let t: Vec<f64> = target.iter().map(|&t| t as f64).collect();
    let tp: f64 = (0..6).map(|i| p[i] * t[i]).sum();
    let fp: f64 = (0..6).map(|i| p[i] * (1.0 - t[i])).sum();
    let fnn: f64 = (0..6).map(|i| (1.0 - p[i]) * t[i]).sum();
    let (n, d) = (tp + 1.0, tp + 0.3 * fp + 0.7 * fnn + 1.0);
    for i in 0..6 {
        let dd = t[i] + 0.3 * (1.0 - t[i]) - 0.7 * t[i];
        let e = -(t[i] * d - n * dd) / (d * d) * p[i] * (1.0 - p[i]);
        close(&format!("∂logit[{i}]"), g[i] as f64, e, 1e-5);
    }
    let r = gradcheck(|l: &Vec<f32>| tversky_loss(l, &target, a, b), &logits, &g);
    assert!(r.passed(), "tversky: {r}");
}

/// The wing loss for facial landmarks: logarithmic near zero, linear beyond w, over both
/// coordinates of each landmark taken by `flat_map`.
#[differentiate(hessian, wrt(pred))]
fn wing_loss(pred: &[[f64; 2]], truth: &[[f64; 2]], w: f64, eps: f64) -> f64 {
    let c = w - w * (1.0 + w / eps).ln();
    let total: f64 = pred
        .iter()
        .zip(truth)
        .flat_map(|(p, t)| [p[0] - t[0], p[1] - t[1]])
        .map(|d| {
            let x = d.abs();
            if x < w {
                w * (1.0 + x / eps).ln()
            } else {
                x - c
            }
        })
        .sum();
    total / pred.len() as f64
}

#[test]
fn wing_loss_over_landmarks() {
    let pred = vec![[0.1, 0.4], [1.3, -0.2], [0.55, 0.9], [-0.6, 0.05]];
    let truth = vec![[0.0, 0.5], [0.2, 0.1], [0.5, 0.0], [-0.4, 0.0]];
    let (w, eps) = (0.5, 0.1);
    let (v, g) = wing_loss_grad(&pred, &truth, w, eps);
    close("value", v, wing_loss(&pred, &truth, w, eps), TOL);
    // ∂d = sign(d)·w/(ε + |d|) inside |d| < w, sign(d) outside; /n. Hessian diagonal:
    // −w/(ε + |d|)²/n inside, 0 outside.
    let n = 4.0;
    let dir = vec![[0.3, -0.1], [0.2, 0.4], [-0.5, 0.1], [0.1, 0.2]];
    let (_, _, hv) = wing_loss_hvp(&pred, &truth, w, eps, &dir);
    for i in 0..4 {
        for c in 0..2 {
            let d: f64 = pred[i][c] - truth[i][c];
            let (e, h) = if d.abs() < w {
                (
                    d.signum() * w / (eps + d.abs()),
                    -w / (eps + d.abs()).powi(2),
                )
            } else {
                (d.signum(), 0.0)
            };
            close(&format!("∂pred[{i}][{c}]"), g[i][c], e / n, 1e-12);
            close(
                &format!("H·v[{i}][{c}]"),
                hv[i][c],
                h * dir[i][c] / n,
                1e-12,
            );
        }
    }
    let r = gradcheck(|p: &Vec<[f64; 2]>| wing_loss(p, &truth, w, eps), &pred, &g);
    assert!(r.passed(), "wing: {r}");
}

/// A Charbonnier penalty on the luma difference of two RGB images stored flat, pixel by pixel
/// through `chunks(3)` zipped with a constant weight table.
#[differentiate]
fn charbonnier_luma(img: &[f64], reference: &[f64], eps: f64) -> f64 {
    const LUMA: [f64; 3] = [0.299, 0.587, 0.114];
    img.chunks(3)
        .zip(reference.chunks(3))
        .map(|(a, b)| {
            let d: f64 = a
                .iter()
                .zip(b)
                .zip(LUMA.iter())
                .map(|((x, y), w)| w * (x - y))
                .sum();
            (d * d + eps * eps).sqrt()
        })
        .sum()
}

#[test]
fn charbonnier_penalty_on_luma() {
    let img = data(12, 0.3);
    let reference = data(12, 2.1);
    let eps = 0.05;
    let (v, (gi, gr, ge)) = charbonnier_luma_grad(&img, &reference, eps);
    close("value", v, charbonnier_luma(&img, &reference, eps), TOL);
    // dₚ = Σ_c w_c (a − b): ∂a_{3p+c} = w_c dₚ/√(dₚ² + ε²) = −∂b_{3p+c}; ∂ε = Σ ε/√(dₚ² + ε²)
    let luma = [0.299, 0.587, 0.114];
    let mut ee = 0.0;
    for p in 0..4 {
        let d: f64 = (0..3)
            .map(|c| luma[c] * (img[3 * p + c] - reference[3 * p + c]))
            .sum();
        let r = (d * d + eps * eps).sqrt();
        for c in 0..3 {
            close("∂img", gi[3 * p + c], luma[c] * d / r, 1e-12);
            close("∂ref", gr[3 * p + c], -luma[c] * d / r, 1e-12);
        }
        ee += eps / r;
    }
    close("∂ε", ge, ee, 1e-12);
    fd_vec2(
        "charbonnier",
        |a, b| charbonnier_luma(a, b, eps),
        &img,
        &reference,
        &gi,
        &gr,
    );
    fd("∂ε", |e| charbonnier_luma(&img, &reference, e), eps, ge);
}

/// A vector scaled to unit length.
#[differentiate]
fn unit(v: &[f64]) -> Vec<f64> {
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// ArcFace: the cosine between a unit embedding and each unit class centre, the true class's
/// angle widened by an additive margin, then a scaled softmax cross-entropy.
#[differentiate(wrt(emb, centers))]
fn arcface_loss(emb: &[f64], centers: &[Vec<f64>], label: usize, scale: f64, margin: f64) -> f64 {
    let e = unit(emb);
    let logits: Vec<f64> = centers
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let w = unit(c);
            let cos: f64 = e.iter().zip(&w).map(|(a, b)| a * b).sum();
            let adjusted = if k == label {
                (cos.acos() + margin).cos()
            } else {
                cos
            };
            scale * adjusted
        })
        .collect();
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + logits.iter().map(|l| (l - m).exp()).sum::<f64>().ln();
    lse - logits[label]
}

#[test]
fn arcface_additive_angular_margin() {
    let emb = vec![0.6, -0.2, 0.9];
    let centers = vec![
        vec![1.0, 0.1, 0.3],
        vec![-0.2, 0.8, 0.4],
        vec![0.5, -0.5, 1.2],
        vec![0.0, 0.3, -0.9],
    ];
    let (label, s, m) = (2, 8.0, 0.3);
    let (v, (ge, gc)) = arcface_loss_grad(&emb, &centers, label, s, m);
    close("value", v, arcface_loss(&emb, &centers, label, s, m), TOL);
    // ∂L/∂ℓ_k = softmax_k − δ_k; ℓ_y = s cos(θ + m) with dℓ_y/dcos = s sin(θ + m)/sin θ, other
    // dℓ_k/dcos = s; ∂cos_k/∂emb = (ŵ_k − cos_k ê)/‖emb‖, ∂cos_k/∂c_k = (ê − cos_k ŵ_k)/‖c_k‖.
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let ne = norm(&emb);
    let eh: Vec<f64> = emb.iter().map(|x| x / ne).collect();
    let cos: Vec<f64> = centers
        .iter()
        .map(|c| (0..3).map(|j| eh[j] * c[j] / norm(c)).sum())
        .collect();
    let logits: Vec<f64> = (0..4)
        .map(|k| {
            if k == label {
                s * (cos[k].acos() + m).cos()
            } else {
                s * cos[k]
            }
        })
        .collect();
    let z: f64 = logits.iter().map(|l| l.exp()).sum();
    let (mut ee, mut ec) = (vec![0.0; 3], vec![vec![0.0; 3]; 4]);
    for k in 0..4 {
        let dl = logits[k].exp() / z - if k == label { 1.0 } else { 0.0 };
        let th = cos[k].acos();
        let dcos = if k == label {
            s * (th + m).sin() / th.sin()
        } else {
            s
        };
        let nc = norm(&centers[k]);
        for j in 0..3 {
            let wh = centers[k][j] / nc;
            ee[j] += dl * dcos * (wh - cos[k] * eh[j]) / ne;
            ec[k][j] = dl * dcos * (eh[j] - cos[k] * wh) / nc;
        }
    }
    for j in 0..3 {
        close("∂emb", ge[j], ee[j], 1e-10);
    }
    for k in 0..4 {
        for j in 0..3 {
            close("∂centers", gc[k][j], ec[k][j], 1e-10);
        }
    }
    fd_vec(
        "∂emb",
        |e| arcface_loss(e, &centers, label, s, m),
        &emb,
        &ge,
    );
    fd_rows(
        "∂centers",
        |c| arcface_loss(&emb, c, label, s, m),
        &centers,
        &gc,
    );
}

/// Bayesian personalised ranking for one user: −Σ ln σ(u·(vᵢ − vⱼ)) over (preferred, other)
/// pairs, with an L2 penalty on the factors.
#[differentiate(wrt(user, items))]
fn bpr_loss(user: &[f64], items: &[Vec<f64>], pairs: &[(usize, usize)], reg: f64) -> f64 {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let log_sigmoid = |x: f64| -(1.0 + (-x).exp()).ln();
    let mut loss = 0.0;
    for &(i, j) in pairs {
        loss -= log_sigmoid(dot(user, &items[i]) - dot(user, &items[j]));
    }
    let penalty = user.iter().map(|u| u * u).sum::<f64>()
        + items
            .iter()
            .flat_map(|r| r.iter().map(|v| v * v))
            .sum::<f64>();
    loss + 0.5 * reg * penalty
}

#[test]
fn bayesian_personalised_ranking() {
    let user = vec![0.4, -0.3, 0.8];
    let items = vec![
        vec![0.1, 0.5, -0.2],
        vec![0.7, -0.1, 0.3],
        vec![-0.4, 0.2, 0.9],
        vec![0.0, -0.6, 0.1],
    ];
    let pairs = vec![(1, 0), (2, 3), (1, 3), (2, 0)];
    let reg = 0.05;
    let (v, (gu, gi)) = bpr_loss_grad(&user, &items, &pairs, reg);
    close("value", v, bpr_loss(&user, &items, &pairs, reg), TOL);
    // x = u·(vᵢ − vⱼ): ∂u = −Σ(1 − σ(x))(vᵢ − vⱼ) + λu, ∂vᵢ = −(1 − σ(x))u, ∂vⱼ = +(1 − σ(x))u,
    // plus λv
    let mut eu: Vec<f64> = user.iter().map(|u| reg * u).collect();
    let mut ei: Vec<Vec<f64>> = items
        .iter()
        .map(|r| r.iter().map(|v| reg * v).collect())
        .collect();
    for &(i, j) in &pairs {
        let x: f64 = (0..3).map(|k| user[k] * (items[i][k] - items[j][k])).sum();
        let w = 1.0 - sigmoid(x);
        for k in 0..3 {
            eu[k] -= w * (items[i][k] - items[j][k]);
            ei[i][k] -= w * user[k];
            ei[j][k] += w * user[k];
        }
    }
    close_all("∂user", &gu, &eu);
    for r in 0..4 {
        close_all("∂items", &gi[r], &ei[r]);
    }
    fd_vec("∂user", |u| bpr_loss(u, &items, &pairs, reg), &user, &gu);
    fd_rows("∂items", |it| bpr_loss(&user, it, &pairs, reg), &items, &gi);
}

/// Direct preference optimisation with a log-linear policy: −mean ln σ(β[(w·φ_c − w·φ_r) −
/// ref margin]) over preference pairs.
#[differentiate(hessian, wrt(w))]
fn dpo_loss(
    w: &[f64],
    chosen: &[Vec<f64>],
    rejected: &[Vec<f64>],
    ref_margin: &[f64],
    beta: f64,
) -> f64 {
    let score = |phi: &Vec<f64>| phi.iter().zip(w).map(|(a, b)| a * b).sum::<f64>();
    let total: f64 = chosen
        .iter()
        .zip(rejected)
        .zip(ref_margin)
        .map(|((c, r), &m0)| {
            let margin = beta * (score(c) - score(r) - m0);
            (-margin).exp().ln_1p()
        })
        .sum();
    total / chosen.len() as f64
}

#[test]
fn direct_preference_optimisation() {
    let chosen = vec![
        vec![0.5, 0.1, -0.3],
        vec![1.0, -0.4, 0.2],
        vec![0.2, 0.8, 0.5],
    ];
    let rejected = vec![
        vec![0.1, 0.3, 0.4],
        vec![0.6, 0.2, -0.1],
        vec![-0.3, 0.5, 0.9],
    ];
    let ref_margin = vec![0.1, -0.2, 0.05];
    let w = vec![0.7, -0.2, 0.4];
    let beta = 2.0;
    let (v, g) = dpo_loss_grad(&w, &chosen, &rejected, &ref_margin, beta);
    close(
        "value",
        v,
        dpo_loss(&w, &chosen, &rejected, &ref_margin, beta),
        TOL,
    );
    // dᵢ = φ_c − φ_r, xᵢ = β(w·dᵢ − m₀): ∂w = −β/n Σ (1 − σ(x)) d,  H = β²/n Σ σ(1 − σ) d dᵀ
    let dir = vec![0.1, 0.5, -0.3];
    let (mut e, mut hv) = (vec![0.0; 3], vec![0.0; 3]);
    for i in 0..3 {
        let d: Vec<f64> = (0..3).map(|k| chosen[i][k] - rejected[i][k]).collect();
        let x = beta * ((0..3).map(|k| w[k] * d[k]).sum::<f64>() - ref_margin[i]);
        let s = sigmoid(x);
        let dd: f64 = (0..3).map(|k| d[k] * dir[k]).sum();
        for k in 0..3 {
            e[k] -= beta / 3.0 * (1.0 - s) * d[k];
            hv[k] += beta * beta / 3.0 * s * (1.0 - s) * dd * d[k];
        }
    }
    close_all("∂w", &g, &e);
    fd_vec(
        "∂w",
        |w| dpo_loss(w, &chosen, &rejected, &ref_margin, beta),
        &w,
        &g,
    );
    let (_, _, h) = dpo_loss_hvp(&w, &chosen, &rejected, &ref_margin, beta, &dir);
    close_all("H·v", &h, &hv);
}

/// PPO's clipped surrogate for a Bernoulli policy σ(θ·φ): −mean min(r A, clip(r, 1 − ε, 1 + ε)
/// A), r the probability ratio against the policy that collected the data.
#[differentiate(wrt(theta))]
fn ppo_clip_loss(
    theta: &[f64],
    feats: &[[f64; 3]],
    actions: &[u8],
    old_logp: &[f64],
    adv: &[f64],
    clip: f64,
) -> f64 {
    let mut total = 0.0;
    for (i, phi) in feats.iter().enumerate() {
        let z: f64 = phi.iter().zip(theta).map(|(a, b)| a * b).sum();
        let p = 1.0 / (1.0 + (-z).exp());
        let logp = match actions[i] {
            1 => p.ln(),
            _ => (1.0 - p).ln(),
        };
        let ratio = (logp - old_logp[i]).exp();
        let unclipped = ratio * adv[i];
        let clipped = ratio.clamp(1.0 - clip, 1.0 + clip) * adv[i];
        total += unclipped.min(clipped);
    }
    -total / feats.len() as f64
}

#[test]
fn ppo_clipped_surrogate() {
    let feats = vec![
        [1.0, 0.3, -0.5],
        [1.0, -0.8, 0.2],
        [1.0, 0.5, 0.9],
        [1.0, 1.2, -0.1],
    ];
    let actions = vec![1u8, 0, 1, 0];
    let theta = vec![0.2, 0.5, -0.3];
    // old log-probabilities chosen so that two ratios are inside the clip range and two outside
    let logp_now: Vec<f64> = feats
        .iter()
        .zip(&actions)
        .map(|(f, &a)| {
            let p = sigmoid((0..3).map(|k| f[k] * theta[k]).sum());
            if a == 1 { p.ln() } else { (1.0 - p).ln() }
        })
        .collect();
    let old_logp: Vec<f64> = logp_now
        .iter()
        .zip([0.05, -0.4, 0.5, -0.02])
        .map(|(l, s)| l - s)
        .collect();
    let adv = vec![1.5, 0.8, 0.6, -1.1];
    let clip = 0.2;
    let (v, g) = ppo_clip_loss_grad(&theta, &feats, &actions, &old_logp, &adv, clip);
    close(
        "value",
        v,
        ppo_clip_loss(&theta, &feats, &actions, &old_logp, &adv, clip),
        TOL,
    );
    // Where min picks r A (strictly, or tied inside the range): ∂θ −= A r ∇log π / n, with
    // ∇log π = (a − σ(z))φ; where the clipped term is the smaller, it is constant in θ.
    let mut e = vec![0.0; 3];
    for i in 0..4 {
        let z: f64 = (0..3).map(|k| feats[i][k] * theta[k]).sum();
        let r = (logp_now[i] - old_logp[i]).exp();
        let clipped = r.clamp(1.0 - clip, 1.0 + clip) * adv[i];
        if r * adv[i] <= clipped {
            let a = actions[i] as f64;
            for k in 0..3 {
                e[k] -= adv[i] * r * (a - sigmoid(z)) * feats[i][k] / 4.0;
            }
        }
    }
    close_all("∂θ", &g, &e);
    fd_vec(
        "∂θ",
        |t| ppo_clip_loss(t, &feats, &actions, &old_logp, &adv, clip),
        &theta,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Transport, sequences and flows.
// ---------------------------------------------------------------------------------------------

/// Entropic optimal transport by log-domain Sinkhorn iterations: the potentials f and g
/// updated in turn by soft minima (log-sum-exp with the maximum shifted out), and the dual
/// value Σ aᵢ fᵢ + Σ bⱼ gⱼ.
#[differentiate(wrt(cost))]
fn sinkhorn_dual(cost: &[Vec<f64>], a: &[f64], b: &[f64], eps: f64, iters: usize) -> f64 {
    let (n, m) = (a.len(), b.len());
    let lse = |v: &[f64]| {
        let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        mx + v.iter().map(|x| (x - mx).exp()).sum::<f64>().ln()
    };
    let mut f = vec![0.0; n];
    let mut g = vec![0.0; m];
    for _ in 0..iters {
        for i in 0..n {
            let row: Vec<f64> = (0..m)
                .map(|j| (g[j] - cost[i][j]) / eps + b[j].ln())
                .collect();
            f[i] = -eps * lse(&row);
        }
        for j in 0..m {
            let col: Vec<f64> = (0..n)
                .map(|i| (f[i] - cost[i][j]) / eps + a[i].ln())
                .collect();
            g[j] = -eps * lse(&col);
        }
    }
    a.iter().zip(&f).map(|(x, y)| x * y).sum::<f64>()
        + b.iter().zip(&g).map(|(x, y)| x * y).sum::<f64>()
}

#[test]
fn sinkhorn_gradient_is_the_transport_plan() {
    let xs = [0.0, 0.4, 1.1];
    let ys = [0.2, 0.9, 1.5, -0.3];
    let cost: Vec<Vec<f64>> = xs
        .iter()
        .map(|x| ys.iter().map(|y| (x - y) * (x - y)).collect())
        .collect();
    let a = vec![0.5, 0.3, 0.2];
    let b = vec![0.25, 0.25, 0.3, 0.2];
    let (eps, iters) = (0.3, 300);
    let (v, g) = sinkhorn_dual_grad(&cost, &a, &b, eps, iters);
    close("value", v, sinkhorn_dual(&cost, &a, &b, eps, iters), TOL);
    // At the fixed point (envelope theorem): ∂Cᵢⱼ = Pᵢⱼ = aᵢ bⱼ exp((fᵢ + gⱼ − Cᵢⱼ)/ε), whose
    // marginals are a and b.
    let (mut f, mut gg) = (vec![0.0; 3], vec![0.0; 4]);
    for _ in 0..iters {
        for i in 0..3 {
            let s: f64 = (0..4)
                .map(|j| b[j] * ((gg[j] - cost[i][j]) / eps).exp())
                .sum();
            f[i] = -eps * s.ln();
        }
        for j in 0..4 {
            let s: f64 = (0..3)
                .map(|i| a[i] * ((f[i] - cost[i][j]) / eps).exp())
                .sum();
            gg[j] = -eps * s.ln();
        }
    }
    for i in 0..3 {
        for j in 0..4 {
            let p = a[i] * b[j] * ((f[i] + gg[j] - cost[i][j]) / eps).exp();
            close(&format!("∂C[{i}][{j}]"), g[i][j], p, 1e-9);
        }
        close("row marginal", g[i].iter().sum(), a[i], 1e-9);
    }
    fd_rows("∂C", |c| sinkhorn_dual(c, &a, &b, eps, iters), &cost, &g);
}

/// A linear-chain CRF's negative log-likelihood: the forward algorithm in log space (each new
/// α a collected chain over the tags), less the gold path's emission and transition scores.
#[differentiate(wrt(emit, trans))]
fn crf_nll(emit: &[Vec<f64>], trans: &[Vec<f64>], tags: &[usize]) -> f64 {
    let k = trans.len();
    let mut alpha = emit[0].clone();
    for t in 1..emit.len() {
        alpha = (0..k)
            .map(|j| {
                let scores: Vec<f64> = (0..k).map(|i| alpha[i] + trans[i][j]).collect();
                let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                m + scores.iter().map(|s| (s - m).exp()).sum::<f64>().ln() + emit[t][j]
            })
            .collect();
    }
    let m = alpha.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let log_z = m + alpha.iter().map(|a| (a - m).exp()).sum::<f64>().ln();
    let gold = tags
        .iter()
        .enumerate()
        .map(|(t, &y)| emit[t][y])
        .sum::<f64>()
        + tags.windows(2).map(|w| trans[w[0]][w[1]]).sum::<f64>();
    log_z - gold
}

#[test]
fn crf_forward_algorithm_gradient_is_marginals_minus_gold() {
    let emit: Vec<Vec<f64>> = (0..4).map(|t| data(3, t as f64 * 1.7)).collect();
    let trans: Vec<Vec<f64>> = (0..3).map(|i| data(3, 10.0 + i as f64)).collect();
    let tags = vec![0, 2, 2, 1];
    let (v, (ge, gt)) = crf_nll_grad(&emit, &trans, &tags);
    close("value", v, crf_nll(&emit, &trans, &tags), TOL);
    // By enumerating all 3⁴ paths: ∂emit[t][j] = P(y_t = j) − [gold_t = j],
    // ∂trans[i][j] = Σ_t P(y_{t−1} = i, y_t = j) − #gold transitions i → j.
    let score = |p: &[usize]| {
        (0..4).map(|t| emit[t][p[t]]).sum::<f64>()
            + (1..4).map(|t| trans[p[t - 1]][p[t]]).sum::<f64>()
    };
    let paths: Vec<Vec<usize>> = (0..81)
        .map(|c| vec![c % 3, c / 3 % 3, c / 9 % 3, c / 27])
        .collect();
    let z: f64 = paths.iter().map(|p| score(p).exp()).sum();
    let (mut ee, mut et) = (vec![vec![0.0; 3]; 4], vec![vec![0.0; 3]; 3]);
    for p in &paths {
        let w = score(p).exp() / z;
        for t in 0..4 {
            ee[t][p[t]] += w;
            if t > 0 {
                et[p[t - 1]][p[t]] += w;
            }
        }
    }
    for t in 0..4 {
        ee[t][tags[t]] -= 1.0;
        if t > 0 {
            et[tags[t - 1]][tags[t]] -= 1.0;
        }
    }
    close("value by enumeration", v, z.ln() - score(&tags), 1e-12);
    for t in 0..4 {
        close_all("∂emit", &ge[t], &ee[t]);
    }
    for i in 0..3 {
        close_all("∂trans", &gt[i], &et[i]);
    }
    fd_rows("∂emit", |e| crf_nll(e, &trans, &tags), &emit, &ge);
    fd_rows("∂trans", |tr| crf_nll(&emit, tr, &tags), &trans, &gt);
}

/// A neural ODE's vector field, tanh(W z + b), and its flow by explicit Euler steps.
#[derive(Clone, Debug, Differentiable)]
struct OdeNet {
    w: Vec<Vec<f64>>,
    b: Vec<f64>,
}

#[differentiate]
impl OdeNet {
    fn field(&self, z: &[f64]) -> Vec<f64> {
        self.w
            .iter()
            .zip(&self.b)
            .map(|(row, bi)| (row.iter().zip(z).map(|(a, b)| a * b).sum::<f64>() + bi).tanh())
            .collect()
    }

    fn flow(&self, z0: &[f64], t1: f64, steps: usize) -> Vec<f64> {
        let h = t1 / steps as f64;
        let mut z = z0.to_vec();
        for _ in 0..steps {
            let dz = self.field(&z);
            z = z.iter().zip(&dz).map(|(a, d)| a + h * d).collect();
        }
        z
    }
}

/// The squared distance of the flow's end point from a target.
#[differentiate(wrt(net))]
fn node_loss(net: &OdeNet, z0: &[f64], target: &[f64], t1: f64) -> f64 {
    let z = net.flow(z0, t1, 20);
    z.iter()
        .zip(target)
        .map(|(a, b)| 0.5 * (a - b).powi(2))
        .sum()
}

#[test]
fn neural_ode_by_euler_steps_against_the_discrete_adjoint() {
    let net = OdeNet {
        w: vec![vec![0.3, -0.8], vec![0.9, 0.1]],
        b: vec![0.05, -0.2],
    };
    let (z0, target, t1) = (vec![1.0, 0.5], vec![0.2, 1.1], 1.5);
    let (v, g) = node_loss_grad(&net, &z0, &target, t1);
    close("value", v, node_loss(&net, &z0, &target, t1), TOL);
    // Discrete adjoint: λ_N = z_N − target; going back, with aₖ = tanh(W zₖ + b) and
    // sₖ = λₖ₊₁ ⊙ (1 − aₖ²): ∂W += h sₖ zₖᵀ, ∂b += h sₖ, λₖ = λₖ₊₁ + h Wᵀ sₖ.
    let h = t1 / 20.0;
    let mut zs = vec![z0.clone()];
    for _ in 0..20 {
        let z = zs.last().unwrap().clone();
        let a: Vec<f64> = (0..2)
            .map(|i| (net.w[i][0] * z[0] + net.w[i][1] * z[1] + net.b[i]).tanh())
            .collect();
        zs.push(vec![z[0] + h * a[0], z[1] + h * a[1]]);
    }
    let mut lam: Vec<f64> = (0..2).map(|i| zs[20][i] - target[i]).collect();
    let (mut ew, mut eb) = (vec![vec![0.0; 2]; 2], vec![0.0; 2]);
    for k in (0..20).rev() {
        let z = &zs[k];
        let s: Vec<f64> = (0..2)
            .map(|i| {
                let a = (net.w[i][0] * z[0] + net.w[i][1] * z[1] + net.b[i]).tanh();
                lam[i] * (1.0 - a * a)
            })
            .collect();
        for i in 0..2 {
            eb[i] += h * s[i];
            for j in 0..2 {
                ew[i][j] += h * s[i] * z[j];
            }
        }
        lam = (0..2)
            .map(|j| lam[j] + h * (net.w[0][j] * s[0] + net.w[1][j] * s[1]))
            .collect();
    }
    for i in 0..2 {
        close_all("∂W", &g.w[i], &ew[i]);
    }
    close_all("∂b", &g.b, &eb);
    let r = gradcheck(|n: &OdeNet| node_loss(n, &z0, &target, t1), &net, &g);
    assert!(r.passed(), "neural ode: {r}");
}

/// Emission–absorption volume rendering along a ray: the transmittance before each sample by
/// a `scan` over the optical depth, each sample's weight T(1 − e^{−σδ}).
#[differentiate(hessian, wrt(sigma, color))]
fn render_loss(sigma: &[f64], color: &[f64], deltas: &[f64], target: f64) -> f64 {
    let trans: Vec<f64> = sigma
        .iter()
        .zip(deltas)
        .scan(0.0, |depth, (&s, &d)| {
            let t = (-*depth).exp();
            *depth += s * d;
            Some(t)
        })
        .collect();
    let pixel: f64 = trans
        .iter()
        .zip(sigma)
        .zip(deltas)
        .zip(color)
        .map(|(((t, s), d), c)| t * (1.0 - (-s * d).exp()) * c)
        .sum();
    (pixel - target).powi(2)
}

#[test]
fn volume_rendering_along_a_ray() {
    let sigma = vec![0.2, 1.5, 0.7, 3.0, 0.4];
    let color = vec![0.9, 0.3, 0.6, 0.1, 0.8];
    let deltas = vec![0.3, 0.2, 0.25, 0.1, 0.4];
    let target = 0.35;
    let (v, (gs, gc)) = render_loss_grad(&sigma, &color, &deltas, target);
    close(
        "value",
        v,
        render_loss(&sigma, &color, &deltas, target),
        TOL,
    );
    // C = Σ Tᵢ αᵢ cᵢ, Tᵢ = exp(−Σ_{j<i} σⱼδⱼ), αᵢ = 1 − e^{−σᵢδᵢ}: ∂C/∂cᵢ = Tᵢαᵢ,
    // ∂C/∂σₖ = δₖ(Tₖ e^{−σₖδₖ} cₖ − Σ_{i>k} Tᵢαᵢcᵢ); the loss multiplies by 2(C − target).
    let mut t = vec![1.0; 5];
    for i in 1..5 {
        t[i] = t[i - 1] * (-sigma[i - 1] * deltas[i - 1]).exp();
    }
    let w: Vec<f64> = (0..5)
        .map(|i| t[i] * (1.0 - (-sigma[i] * deltas[i]).exp()))
        .collect();
    let c: f64 = (0..5).map(|i| w[i] * color[i]).sum();
    let r = 2.0 * (c - target);
    for k in 0..5 {
        let behind: f64 = (k + 1..5).map(|i| w[i] * color[i]).sum();
        let es = r * deltas[k] * (t[k] * (-sigma[k] * deltas[k]).exp() * color[k] - behind);
        close(&format!("∂σ[{k}]"), gs[k], es, 1e-12);
        close(&format!("∂c[{k}]"), gc[k], r * w[k], 1e-12);
    }
    fd_vec2(
        "render",
        |s, c| render_loss(s, c, &deltas, target),
        &sigma,
        &color,
        &gs,
        &gc,
    );
    // Along a direction in the colours only: H·v = 2 w (w·v) in c, and the σ part by differences.
    let dc = vec![0.1, -0.2, 0.3, 0.05, -0.1];
    let (_, _, (hs, hc)) = render_loss_hvp(&sigma, &color, &deltas, target, &vec![0.0; 5], &dc);
    let wv: f64 = (0..5).map(|i| w[i] * dc[i]).sum();
    for i in 0..5 {
        close("H·v in c", hc[i], 2.0 * w[i] * wv, 1e-12);
    }
    let he = |k: usize| {
        let h = 1e-5;
        let mut cp = color.clone();
        let mut cm = color.clone();
        for i in 0..5 {
            cp[i] += h * dc[i];
            cm[i] -= h * dc[i];
        }
        (render_loss_grad(&sigma, &cp, &deltas, target).1.0[k]
            - render_loss_grad(&sigma, &cm, &deltas, target).1.0[k])
            / (2.0 * h)
    };
    for k in 0..5 {
        close("H·v in σ", hs[k], he(k), 1e-6);
    }
}

/// t-SNE's objective: KL(P ‖ Q) with the Student-t similarities of a 2-D embedding.
#[differentiate(wrt(y))]
fn tsne_kl(y: &[[f64; 2]], p: &[Vec<f64>]) -> f64 {
    let n = y.len();
    let sq = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                z += 1.0 / (1.0 + sq(y[i], y[j]));
            }
        }
    }
    let mut kl = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j && p[i][j] > 0.0 {
                let q = 1.0 / (1.0 + sq(y[i], y[j])) / z;
                kl += p[i][j] * (p[i][j] / q).ln();
            }
        }
    }
    kl
}

#[test]
fn tsne_gradient_matches_the_published_formula() {
    let y = vec![[0.0, 0.1], [1.2, -0.3], [0.4, 0.9], [-0.8, 0.5], [0.6, 0.2]];
    // a symmetric P summing to one
    let raw: Vec<Vec<f64>> = (0..5)
        .map(|i| {
            (0..5)
                .map(|j| {
                    if i == j {
                        0.0
                    } else {
                        1.0 / (1.0 + ((i + 2 * j) % 4) as f64)
                    }
                })
                .collect()
        })
        .collect();
    let sym: Vec<Vec<f64>> = (0..5)
        .map(|i| (0..5).map(|j| raw[i][j] + raw[j][i]).collect())
        .collect();
    let total: f64 = sym.iter().flatten().sum();
    let p: Vec<Vec<f64>> = sym
        .iter()
        .map(|r| r.iter().map(|v| v / total).collect())
        .collect();
    let (v, g) = tsne_kl_grad(&y, &p);
    close("value", v, tsne_kl(&y, &p), TOL);
    // ∂yᵢ = 4 Σⱼ (pᵢⱼ − qᵢⱼ)(yᵢ − yⱼ)/(1 + ‖yᵢ − yⱼ‖²)
    let kern = |i: usize, j: usize| {
        1.0 / (1.0 + (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2))
    };
    let z: f64 = (0..5)
        .flat_map(|i| (0..5).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| kern(i, j))
        .sum();
    for i in 0..5 {
        for c in 0..2 {
            let e: f64 = (0..5)
                .filter(|&j| j != i)
                .map(|j| 4.0 * (p[i][j] - kern(i, j) / z) * (y[i][c] - y[j][c]) * kern(i, j))
                .sum();
            close(&format!("∂y[{i}][{c}]"), g[i][c], e, 1e-12);
        }
    }
    let r = gradcheck(|y: &Vec<[f64; 2]>| tsne_kl(y, &p), &y, &g);
    assert!(r.passed(), "t-SNE: {r}");
}
