//! Whole small applications as Rust engineers write them, in domains the earlier rounds left
//! out: survival analysis (Gompertz hazards and log-logistic accelerated failure times under
//! censoring), rankings (Plackett–Luce, Elo updates), count models (Tweedie deviance with
//! exposure offsets, a hurdle Poisson), losses (sparsemax, Lovász hinge, Tversky, wing,
//! Charbonnier, ArcFace, BPR, DPO, PPO), optimal transport by log-domain Sinkhorn iterations, a
//! linear-chain CRF, a neural ODE by Euler steps, volume rendering, embeddings (t-SNE, MDS,
//! Poincaré), physics (advection, catenaries, brachistochrones, Planck's law, radiative
//! cooling, orbital transfers), finance (Vasicek, SABR at the money), operations research
//! (newsvendor, Erlang C staffing, facility location, CES production, log barriers), robotics
//! and vision (unicycle rollouts, potential fields, camera models with radial distortion,
//! chamfer distances, mesh smoothing), energy-based and reinforcement learning (RBM free
//! energies, generalised advantage estimates, a mixture of experts, a hyper-gradient through
//! training), signals (LMS filters, ADSR envelopes, exponential smoothing) — each written with
//! the idioms such code uses: iterator chains, closures kept in variables (also called inside
//! predicates and comparators), `scan`, `windows`, `chunks`, `rev`, `fold`, `max_by`, struct
//! methods calling each other, enums matched as data, `Option`s with `if let`, `while` loops
//! with tolerances, `loop` values, generic `F: Float` helpers and `f32`.
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

// ---------------------------------------------------------------------------------------------
// Physics and engineering.
// ---------------------------------------------------------------------------------------------

/// Linear advection on a periodic grid by the first-order upwind scheme, the two time levels
/// swapped with `std::mem::swap`; a weighted read-out of the final profile.
#[differentiate(wrt(u0, courant))]
fn advect_upwind(u0: &[f64], courant: f64, weights: &[f64], steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..steps {
        for i in 0..n {
            let left = if i == 0 { u[n - 1] } else { u[i - 1] };
            next[i] = u[i] - courant * (u[i] - left);
        }
        std::mem::swap(&mut u, &mut next);
    }
    u.iter().zip(weights).map(|(a, w)| a * w).sum()
}

#[test]
fn upwind_advection_gradient_is_the_transposed_scheme() {
    let u0 = data(8, 0.2);
    let weights = data(8, 5.0);
    let (c, steps) = (0.4, 12);
    let (v, (gu, gc)) = advect_upwind_grad(&u0, c, &weights, steps);
    close("value", v, advect_upwind(&u0, c, &weights, steps), TOL);
    // u ↦ A u is linear: ∂u0 = (Aᵀ)ⁿ w, (Aᵀ λ)ᵢ = (1 − c)λᵢ + c λᵢ₊₁ (periodic)
    let mut lam = weights.clone();
    for _ in 0..steps {
        lam = (0..8)
            .map(|i| (1.0 - c) * lam[i] + c * lam[(i + 1) % 8])
            .collect();
    }
    close_all("∂u0", &gu, &lam);
    fd_vec("∂u0", |u| advect_upwind(u, c, &weights, steps), &u0, &gu);
    fd("∂c", |c| advect_upwind(&u0, c, &weights, steps), c, gc);
    let fw = forward("advection").check(
        &(u0.clone(), c),
        |p| advect_upwind(&p.0, p.1, &weights, steps),
        |p, t| advect_upwind_jvp(&p.0, p.1, &weights, steps, &t.0, t.1),
        |p, w| {
            let (y, back) = advect_upwind_vjp(&p.0, p.1, &weights, steps);
            (y, back(w))
        },
    );
    for ((du, dc), jv) in fw {
        let e: f64 = du.iter().zip(&gu).map(|(a, b)| a * b).sum::<f64>() + dc * gc;
        close("tangent", jv, e, 1e-12);
    }
}

/// A chain hanging between two pins: springs between equally spaced nodes whose heights are
/// the unknowns, plus gravity; the node list built by `once(..).chain(..)`.
#[differentiate(hessian, wrt(heights))]
fn hanging_chain_energy(heights: &[f64], span: f64, rest: f64, k: f64, weight: f64) -> f64 {
    let nodes: Vec<f64> = std::iter::once(0.0)
        .chain(heights.iter().copied())
        .chain(std::iter::once(0.0))
        .collect();
    let dx = span / (nodes.len() - 1) as f64;
    let elastic: f64 = nodes
        .windows(2)
        .map(|w| {
            let len = (dx * dx + (w[1] - w[0]).powi(2)).sqrt();
            0.5 * k * (len - rest).powi(2)
        })
        .sum();
    elastic + weight * heights.iter().sum::<f64>()
}

#[test]
fn hanging_chain_equilibrium_forces() {
    let heights = vec![-0.3, -0.55, -0.6, -0.5, -0.25];
    let (span, rest, k, wt) = (3.0, 0.45, 20.0, 0.8);
    let (v, g) = hanging_chain_energy_grad(&heights, span, rest, k, wt);
    close(
        "value",
        v,
        hanging_chain_energy(&heights, span, rest, k, wt),
        TOL,
    );
    // ∂yᵢ = w + k(ℓᵢ − r)(yᵢ − yᵢ₋₁)/ℓᵢ − k(ℓᵢ₊₁ − r)(yᵢ₊₁ − yᵢ)/ℓᵢ₊₁, pins at 0
    let mut y = vec![0.0];
    y.extend(&heights);
    y.push(0.0);
    let dx = span / 6.0;
    let tension = |a: usize| {
        let l = (dx * dx + (y[a + 1] - y[a]).powi(2)).sqrt();
        k * (l - rest) * (y[a + 1] - y[a]) / l
    };
    let e: Vec<f64> = (1..6).map(|i| wt + tension(i - 1) - tension(i)).collect();
    close_all("∂y", &g, &e);
    fd_vec(
        "∂y",
        |h| hanging_chain_energy(h, span, rest, k, wt),
        &heights,
        &g,
    );
    let dir = vec![0.1, -0.3, 0.2, 0.4, -0.1];
    let (_, _, hv) = hanging_chain_energy_hvp(&heights, span, rest, k, wt, &dir);
    hvp_against_fd(
        "chain",
        |h| hanging_chain_energy_grad(h, span, rest, k, wt).1,
        &heights,
        &dir,
        &hv,
    );
}

/// The descent time of a bead pushed off at speed v₀ along a polyline through given depths: on
/// a straight segment under constant acceleration, t = 2L/(v_a + v_b), v = √(v₀² + 2 g y).
/// (From rest, v₀ = 0, the first node's speed is √0, whose derivative is infinite: the gradient
/// is right, as that node is fixed, but its zero tangent times ∞ makes `_jvp` and `_hvp` NaN.)
#[differentiate(hessian, wrt(depths))]
fn descent_time(depths: &[f64], width: f64, end_depth: f64, g: f64) -> f64 {
    let mut ys = Vec::with_capacity(depths.len() + 2);
    ys.push(0.0);
    ys.extend_from_slice(depths);
    ys.push(end_depth);
    let dx = width / (ys.len() - 1) as f64;
    let speed = |y: f64| (0.25 + 2.0 * g * y).sqrt();
    let mut total = 0.0;
    for w in ys.windows(2) {
        let len = (dx * dx + (w[1] - w[0]).powi(2)).sqrt();
        total += 2.0 * len / (speed(w[0]) + speed(w[1]));
    }
    total
}

#[test]
fn brachistochrone_by_a_polyline() {
    let depths = vec![0.5, 0.8, 0.95, 1.0, 0.98];
    let (width, end, g) = (2.0, 0.9, 9.81);
    let (v, gd) = descent_time_grad(&depths, width, end, g);
    close("value", v, descent_time(&depths, width, end, g), TOL);
    // Segment (a, b): t = 2L/S, S = v_a + v_b: ∂t/∂y_b = 2(y_b − y_a)/(L S) − 2L v′(y_b)/S²,
    // ∂t/∂y_a = −2(y_b − y_a)/(L S) − 2L v′(y_a)/S², v′(y) = g/v(y), v₀ = 0.5
    let mut y = vec![0.0];
    y.extend(&depths);
    y.push(end);
    let dx = width / 6.0;
    let sp = |y: f64| (0.25 + 2.0 * g * y).sqrt();
    let mut e = vec![0.0; 7];
    for a in 0..6 {
        let b = a + 1;
        let l = (dx * dx + (y[b] - y[a]).powi(2)).sqrt();
        let s = sp(y[a]) + sp(y[b]);
        e[b] += 2.0 * (y[b] - y[a]) / (l * s) - 2.0 * l * (g / sp(y[b])) / (s * s);
        if a > 0 {
            e[a] += -2.0 * (y[b] - y[a]) / (l * s) - 2.0 * l * (g / sp(y[a])) / (s * s);
        }
    }
    close_all("∂depths", &gd, &e[1..6]);
    fd_vec("∂depths", |d| descent_time(d, width, end, g), &depths, &gd);
    let dir = vec![0.2, 0.1, -0.1, 0.3, -0.2];
    let (_, _, hv) = descent_time_hvp(&depths, width, end, g, &dir);
    hvp_against_fd(
        "brachistochrone",
        |d| descent_time_grad(d, width, end, g).1,
        &depths,
        &dir,
        &hv,
    );
}

/// Planck's law in micrometres and kelvin, B = s/λ⁵ / (e^{c₂/(λT)} − 1), fitted to a measured
/// spectrum by least squares in the temperature and the scale.
#[differentiate(hessian, wrt(temp, scale))]
fn planck_fit(temp: f64, scale: f64, lams: &[f64], flux: &[f64]) -> f64 {
    const C2: f64 = 14387.77;
    let planck = |lam: f64| scale / lam.powi(5) / (C2 / (lam * temp)).exp_m1();
    lams.iter()
        .zip(flux)
        .map(|(&l, &f)| (planck(l) - f).powi(2))
        .sum()
}

#[test]
fn planck_spectrum_temperature_fit() {
    let lams = vec![0.4, 0.6, 0.8, 1.0, 1.5, 2.0];
    let flux = vec![0.9, 2.1, 2.4, 2.0, 1.1, 0.6];
    let (t, s) = (5200.0, 140.0);
    let (v, (gt, gs)) = planck_fit_grad(t, s, &lams, &flux);
    close("value", v, planck_fit(t, s, &lams, &flux), TOL);
    // x = c₂/(λT): ∂B/∂T = B·(x/T)·eˣ/(eˣ − 1), ∂B/∂s = B/s; ∂²/∂s² = 2Σ (B/s)²
    let c2 = 14387.77;
    let (mut et, mut es, mut hss) = (0.0, 0.0, 0.0);
    for (&l, &f) in lams.iter().zip(&flux) {
        let x = c2 / (l * t);
        let b = s / l.powi(5) / x.exp_m1();
        et += 2.0 * (b - f) * b * (x / t) * x.exp() / x.exp_m1();
        es += 2.0 * (b - f) * b / s;
        hss += 2.0 * (b / s).powi(2);
    }
    close("∂T", gt, et, 1e-12);
    close("∂s", gs, es, 1e-12);
    fd2(
        "planck",
        |a, b| planck_fit(a, b, &lams, &flux),
        (t, s),
        (gt, gs),
    );
    let (_, _, (h_ts, h_ss)) = planck_fit_hvp(t, s, &lams, &flux, 0.0, 1.0);
    close("∂²s", h_ss, hss, 1e-12);
    let h = 1e-3;
    let ets = (planck_fit_grad(t, s + h, &lams, &flux).1.0
        - planck_fit_grad(t, s - h, &lams, &flux).1.0)
        / (2.0 * h);
    close("∂T∂s", h_ts, ets, 1e-6);
}

/// A body cooling by radiation, dT/dt = −k(T⁴ − T_env⁴), by Euler steps until a time.
#[differentiate(wrt(k, t0))]
fn radiative_cooling(k: f64, t0: f64, t_env: f64, dt: f64, t_end: f64) -> f64 {
    let mut temp = t0;
    let mut t = 0.0;
    while t < t_end {
        temp -= dt * k * (temp.powi(4) - t_env.powi(4));
        t += dt;
    }
    temp
}

#[test]
fn radiative_cooling_in_a_while_loop() {
    let (k, t0, te, dt, end) = (0.6, 1.2, 0.4, 0.05, 2.0);
    let (v, (gk, g0)) = radiative_cooling_grad(k, t0, te, dt, end);
    close("value", v, radiative_cooling(k, t0, te, dt, end), TOL);
    // Sensitivities step by step: s ← s(1 − 4 dt k T³) − dt(T⁴ − Tₑ⁴) for k, and
    // s ← s(1 − 4 dt k T³) for T₀ (the same number of steps as the loop's)
    let (mut temp, mut sk, mut s0, mut t) = (t0, 0.0, 1.0, 0.0);
    while t < end {
        let j = 1.0 - 4.0 * dt * k * temp.powi(3);
        sk = sk * j - dt * (temp.powi(4) - te.powi(4));
        s0 *= j;
        temp -= dt * k * (temp.powi(4) - te.powi(4));
        t += dt;
    }
    close("∂k", gk, sk, 1e-12);
    close("∂T₀", g0, s0, 1e-12);
    fd2(
        "cooling",
        |a, b| radiative_cooling(a, b, te, dt, end),
        (k, t0),
        (gk, g0),
    );
}

/// The total Δv of a Hohmann transfer between circular orbits, from the vis-viva equation.
#[differentiate]
fn hohmann_delta_v(r1: f64, r2: f64, mu: f64) -> f64 {
    let a = 0.5 * (r1 + r2);
    let vis_viva = |r: f64| (mu * (2.0 / r - 1.0 / a)).sqrt();
    let circular = |r: f64| (mu / r).sqrt();
    (vis_viva(r1) - circular(r1)).abs() + (circular(r2) - vis_viva(r2)).abs()
}

#[test]
fn hohmann_transfer_delta_v() {
    let (r1, r2, mu) = (1.0, 3.2, 1.5);
    let (v, (g1, g2, gm)) = hohmann_delta_v_grad(r1, r2, mu);
    close("value", v, hohmann_delta_v(r1, r2, mu), TOL);
    // Δv = √(μ/r₁)(√(2r₂/(r₁ + r₂)) − 1) + √(μ/r₂)(1 − √(2r₁/(r₁ + r₂))) for r₂ > r₁;
    // Δv is homogeneous of degree ½ in μ: ∂μ = Δv/(2μ). The r-derivatives by the chain rule:
    let s = r1 + r2;
    let q1 = (2.0 * r2 / s).sqrt();
    let q2 = (2.0 * r1 / s).sqrt();
    let c1 = (mu / r1).sqrt();
    let c2 = (mu / r2).sqrt();
    // d q1/d r1 = −q1/(2s), d q1/d r2 = q1 (1/(2 r2) − 1/(2s)); likewise q2 with roles swapped
    let e1 = -c1 / (2.0 * r1) * (q1 - 1.0) + c1 * (-q1 / (2.0 * s))
        - c2 * q2 * (1.0 / (2.0 * r1) - 1.0 / (2.0 * s));
    let e2 = c1 * q1 * (1.0 / (2.0 * r2) - 1.0 / (2.0 * s))
        - c2 / (2.0 * r2) * (1.0 - q2)
        - c2 * (-q2 / (2.0 * s));
    close("Δv by hand", v, c1 * (q1 - 1.0) + c2 * (1.0 - q2), 1e-14);
    close("∂r₁", g1, e1, 1e-12);
    close("∂r₂", g2, e2, 1e-12);
    close("∂μ", gm, v / (2.0 * mu), 1e-12);
    fd3("hohmann", hohmann_delta_v, (r1, r2, mu), (g1, g2, gm));
    let fw = forward("hohmann").three(
        (r1, r2, mu),
        hohmann_delta_v,
        hohmann_delta_v_jvp,
        hohmann_delta_v_vjp,
    );
    for (d, jv) in fw {
        close("tangent", jv, g1 * d.0 + g2 * d.1 + gm * d.2, 1e-12);
    }
}

/// The Duffing oscillator's right-hand side, for any float type.
#[differentiate]
fn duffing_rhs<F: Float>(x: F, v: F, delta: F, alpha: F, beta: F) -> (F, F) {
    (v, -delta * v - alpha * x - beta * x * x * x)
}

/// The displacement after `steps` midpoint steps, returned from a helper as a tuple and
/// destructured.
#[differentiate(wrt(x0, v0))]
fn duffing_end<F: Float>(x0: F, v0: F, delta: F, alpha: F, beta: F, h: F, steps: usize) -> F {
    let half = h / (F::one() + F::one());
    let (mut x, mut v) = (x0, v0);
    for _ in 0..steps {
        let (dx, dv) = duffing_rhs(x, v, delta, alpha, beta);
        let (mx, mv) = (x + half * dx, v + half * dv);
        let (dx, dv) = duffing_rhs(mx, mv, delta, alpha, beta);
        x = x + h * dx;
        v = v + h * dv;
    }
    x
}

#[test]
fn duffing_oscillator_generic_in_f64_and_f32() {
    let (x0, v0, d, a, b, h, n) = (0.8, -0.2, 0.1, -1.0, 1.0, 0.05, 60);
    let (val, (gx, gv)) = duffing_end_grad(x0, v0, d, a, b, h, n);
    close("value", val, duffing_end(x0, v0, d, a, b, h, n), TOL);
    // Tangent-linear midpoint steps: J(x) = [[0, 1], [−α − 3βx², −δ]],
    // s ← s + h J(m)(s + h/2 J(x) s)
    let jac = |x: f64, s: [f64; 2]| [s[1], (-a - 3.0 * b * x * x) * s[0] - d * s[1]];
    let tangent = |s0: [f64; 2]| {
        let (mut x, mut v, mut s) = (x0, v0, s0);
        for _ in 0..n {
            let (mx, mv) = (
                x + h / 2.0 * v,
                v + h / 2.0 * (-d * v - a * x - b * x * x * x),
            );
            let js = jac(x, s);
            let sm = [s[0] + h / 2.0 * js[0], s[1] + h / 2.0 * js[1]];
            let jm = jac(mx, sm);
            s = [s[0] + h * jm[0], s[1] + h * jm[1]];
            x += h * mv;
            v += h * (-d * mv - a * mx - b * mx * mx * mx);
        }
        s[0]
    };
    close("∂x₀", gx, tangent([1.0, 0.0]), 1e-12);
    close("∂v₀", gv, tangent([0.0, 1.0]), 1e-12);
    fd2(
        "duffing",
        |p, q| duffing_end(p, q, d, a, b, h, n),
        (x0, v0),
        (gx, gv),
    );
    let (v32, (gx32, gv32)) = duffing_end_grad(
        x0 as f32, v0 as f32, d as f32, a as f32, b as f32, h as f32, n,
    );
    close("f32 value", v32 as f64, val, 1e-4);
    close("f32 ∂x₀", gx32 as f64, gx, 1e-3);
    close("f32 ∂v₀", gv32 as f64, gv, 1e-3);
}

/// An artificial potential field for path planning: an attractive bowl at the goal, and a
/// repulsive term from each obstacle closer than ρ₀ (the others filtered out).
#[differentiate(hessian, wrt(pos))]
fn potential_field(
    pos: [f64; 2],
    goal: [f64; 2],
    obstacles: &[[f64; 2]],
    eta: f64,
    rho0: f64,
) -> f64 {
    let dist = |c: &[f64; 2]| ((pos[0] - c[0]).powi(2) + (pos[1] - c[1]).powi(2)).sqrt();
    let attract = 0.5 * ((pos[0] - goal[0]).powi(2) + (pos[1] - goal[1]).powi(2));
    let repulse: f64 = obstacles
        .iter()
        .filter(|c| dist(c) < rho0)
        .map(|c| 0.5 * eta * (1.0 / dist(c) - 1.0 / rho0).powi(2))
        .sum();
    attract + repulse
}

#[test]
fn potential_field_path_planning() {
    let pos = [0.4, 0.3];
    let goal = [2.0, 1.0];
    let obstacles = vec![[0.8, 0.5], [0.1, -0.2], [3.0, 3.0]];
    let (eta, rho0) = (0.5, 1.0);
    let (v, g) = potential_field_grad(pos, goal, &obstacles, eta, rho0);
    close(
        "value",
        v,
        potential_field(pos, goal, &obstacles, eta, rho0),
        TOL,
    );
    // ∇ = (p − g) − Σ_{ρ<ρ₀} η(1/ρ − 1/ρ₀)(p − c)/ρ³
    let mut e = [pos[0] - goal[0], pos[1] - goal[1]];
    for c in &obstacles {
        let rho = ((pos[0] - c[0]).powi(2) + (pos[1] - c[1]).powi(2)).sqrt();
        if rho < rho0 {
            for k in 0..2 {
                e[k] -= eta * (1.0 / rho - 1.0 / rho0) * (pos[k] - c[k]) / rho.powi(3);
            }
        }
    }
    close_all("∇", &g, &e);
    let r = gradcheck(
        |p: &[f64; 2]| potential_field(*p, goal, &obstacles, eta, rho0),
        &pos,
        &g,
    );
    assert!(r.passed(), "field: {r}");
    let dir = [0.3, -0.7];
    let (_, _, hv) = potential_field_hvp(pos, goal, &obstacles, eta, rho0, dir);
    hvp_against_fd(
        "field",
        |p| {
            potential_field_grad([p[0], p[1]], goal, &obstacles, eta, rho0)
                .1
                .to_vec()
        },
        &pos,
        &dir,
        &hv,
    );
}

/// A unicycle driven by speed and turn-rate commands: the pose updated by a tuple assignment
/// per step, then the squared miss of the goal plus the control effort.
#[differentiate(wrt(speed, turn))]
fn unicycle_cost(speed: &[f64], turn: &[f64], goal: (f64, f64), dt: f64, effort: f64) -> f64 {
    let (mut x, mut y, mut th) = (0.0, 0.0, 0.0);
    for (&v, &w) in speed.iter().zip(turn) {
        (x, y, th) = (x + dt * v * th.cos(), y + dt * v * th.sin(), th + dt * w);
    }
    let control: f64 = speed.iter().chain(turn).map(|u| u * u).sum();
    (x - goal.0).powi(2) + (y - goal.1).powi(2) + effort * control
}

#[test]
fn unicycle_rollout_against_the_costate() {
    let speed = vec![1.0, 1.2, 0.9, 1.1, 0.8];
    let turn = vec![0.3, -0.2, 0.5, 0.4, -0.1];
    let (goal, dt, eff) = ((1.5, 0.8), 0.4, 0.01);
    let (v, (gs, gw)) = unicycle_cost_grad(&speed, &turn, goal, dt, eff);
    close("value", v, unicycle_cost(&speed, &turn, goal, dt, eff), TOL);
    // Costate (λx, λy) is constant (= 2(x_N − goal)); λθ after step k collects
    // Σ_{j>k} dt vⱼ(−λx sin θⱼ + λy cos θⱼ). ∂vₖ = dt(λx cos θₖ + λy sin θₖ) + 2ε vₖ,
    // ∂wₖ = dt λθ(after k) + 2ε wₖ.
    let mut th = vec![0.0; 6];
    let (mut x, mut y) = (0.0, 0.0);
    for k in 0..5 {
        x += dt * speed[k] * th[k].cos();
        y += dt * speed[k] * th[k].sin();
        th[k + 1] = th[k] + dt * turn[k];
    }
    let (lx, ly) = (2.0 * (x - goal.0), 2.0 * (y - goal.1));
    for k in 0..5 {
        let es = dt * (lx * th[k].cos() + ly * th[k].sin()) + 2.0 * eff * speed[k];
        let lt: f64 = (k + 1..5)
            .map(|j| dt * speed[j] * (-lx * th[j].sin() + ly * th[j].cos()))
            .sum();
        close(&format!("∂v[{k}]"), gs[k], es, 1e-12);
        close(
            &format!("∂w[{k}]"),
            gw[k],
            dt * lt + 2.0 * eff * turn[k],
            1e-12,
        );
    }
    fd_vec2(
        "unicycle",
        |a, b| unicycle_cost(a, b, goal, dt, eff),
        &speed,
        &turn,
        &gs,
        &gw,
    );
}

// ---------------------------------------------------------------------------------------------
// Vision, embeddings and kernels.
// ---------------------------------------------------------------------------------------------

/// A pinhole camera with a yaw, a translation and two radial distortion coefficients.
#[derive(Clone, Debug, Differentiable)]
struct Camera {
    focal: f64,
    k1: f64,
    k2: f64,
    yaw: f64,
    t: [f64; 3],
}

#[differentiate]
impl Camera {
    fn to_camera(&self, p: [f64; 3]) -> [f64; 3] {
        let (s, c) = self.yaw.sin_cos();
        [
            c * p[0] - s * p[2] + self.t[0],
            p[1] + self.t[1],
            s * p[0] + c * p[2] + self.t[2],
        ]
    }

    fn project(&self, p: [f64; 3]) -> [f64; 2] {
        let q = self.to_camera(p);
        let (u, v) = (q[0] / q[2], q[1] / q[2]);
        let r2 = u * u + v * v;
        let radial = 1.0 + self.k1 * r2 + self.k2 * r2 * r2;
        [self.focal * radial * u, self.focal * radial * v]
    }

    fn residual(&self, p: [f64; 3], obs: [f64; 2]) -> f64 {
        let [x, y] = self.project(p);
        (x - obs[0]).powi(2) + (y - obs[1]).powi(2)
    }
}

/// Bundle adjustment's reprojection error for one camera over its points.
#[differentiate(wrt(cam, points))]
fn reprojection_error(cam: &Camera, points: &[[f64; 3]], obs: &[[f64; 2]]) -> f64 {
    points
        .iter()
        .zip(obs)
        .map(|(p, o)| cam.residual(*p, *o))
        .sum()
}

#[test]
fn bundle_adjustment_with_radial_distortion() {
    let cam = Camera {
        focal: 1.8,
        k1: -0.12,
        k2: 0.03,
        yaw: 0.15,
        t: [0.1, -0.05, 4.0],
    };
    let points = vec![
        [0.5, 0.2, 0.3],
        [-0.7, 0.4, -0.2],
        [0.1, -0.6, 0.8],
        [0.9, 0.9, -0.5],
    ];
    let obs = vec![[0.3, 0.1], [-0.35, 0.15], [0.05, -0.3], [0.4, 0.45]];
    let (v, (gc, gp)) = reprojection_error_grad(&cam, &points, &obs);
    close("value", v, reprojection_error(&cam, &points, &obs), TOL);
    // x = f·(1 + k₁r² + k₂r⁴)·(u, v) is linear in f, k₁ and k₂ through the radial factor:
    // ∂f = Σ 2 res·x/f, ∂k₁ = Σ 2 res·f r² (u, v), ∂k₂ = Σ 2 res·f r⁴ (u, v)
    let (mut ef, mut e1, mut e2) = (0.0, 0.0, 0.0);
    for (p, o) in points.iter().zip(&obs) {
        let (s, c) = cam.yaw.sin_cos();
        let q = [
            c * p[0] - s * p[2] + cam.t[0],
            p[1] + cam.t[1],
            s * p[0] + c * p[2] + cam.t[2],
        ];
        let uv = [q[0] / q[2], q[1] / q[2]];
        let r2 = uv[0] * uv[0] + uv[1] * uv[1];
        let rad = 1.0 + cam.k1 * r2 + cam.k2 * r2 * r2;
        for k in 0..2 {
            let res = cam.focal * rad * uv[k] - o[k];
            ef += 2.0 * res * rad * uv[k];
            e1 += 2.0 * res * cam.focal * r2 * uv[k];
            e2 += 2.0 * res * cam.focal * r2 * r2 * uv[k];
        }
    }
    close("∂focal", gc.focal, ef, 1e-12);
    close("∂k₁", gc.k1, e1, 1e-12);
    close("∂k₂", gc.k2, e2, 1e-12);
    let r = gradcheck(|c: &Camera| reprojection_error(c, &points, &obs), &cam, &gc);
    assert!(r.passed(), "camera: {r}");
    let r = gradcheck(
        |p: &Vec<[f64; 3]>| reprojection_error(&cam, p, &obs),
        &points,
        &gp,
    );
    assert!(r.passed(), "points: {r}");
}

/// The symmetric chamfer distance between two point clouds: each point's squared distance to
/// its nearest neighbour in the other cloud, by a nested chain folded with `f64::min`.
#[differentiate]
fn chamfer(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let d2 = |p: &[f64; 2], q: &[f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
    let ab: f64 = a
        .iter()
        .map(|p| b.iter().map(|q| d2(p, q)).fold(f64::INFINITY, f64::min))
        .sum();
    let ba: f64 = b
        .iter()
        .map(|q| a.iter().map(|p| d2(p, q)).fold(f64::INFINITY, f64::min))
        .sum();
    ab / a.len() as f64 + ba / b.len() as f64
}

#[test]
fn chamfer_distance_between_point_clouds() {
    let a = vec![[0.0, 0.0], [1.0, 0.2], [0.4, 0.9]];
    let b = vec![[0.1, -0.1], [0.9, 0.4], [0.5, 1.2], [1.5, 0.0]];
    let (v, (ga, gb)) = chamfer_grad(&a, &b);
    close("value", v, chamfer(&a, &b), TOL);
    // nn(p) the nearest point of the other cloud: ∂p = 2(p − nn(p))/n_a + Σ_{q: nn(q)=p}
    // 2(p − q)/n_b, and symmetrically for b
    let d2 = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
    let nearest = |p: [f64; 2], cloud: &[[f64; 2]]| {
        (0..cloud.len())
            .min_by(|&i, &j| d2(p, cloud[i]).partial_cmp(&d2(p, cloud[j])).unwrap())
            .unwrap()
    };
    let (mut ea, mut eb) = (vec![[0.0; 2]; 3], vec![[0.0; 2]; 4]);
    for i in 0..3 {
        let j = nearest(a[i], &b);
        for k in 0..2 {
            ea[i][k] += 2.0 * (a[i][k] - b[j][k]) / 3.0;
            eb[j][k] -= 2.0 * (a[i][k] - b[j][k]) / 3.0;
        }
    }
    for j in 0..4 {
        let i = nearest(b[j], &a);
        for k in 0..2 {
            eb[j][k] += 2.0 * (b[j][k] - a[i][k]) / 4.0;
            ea[i][k] -= 2.0 * (b[j][k] - a[i][k]) / 4.0;
        }
    }
    for i in 0..3 {
        close_all("∂a", &ga[i], &ea[i]);
    }
    for j in 0..4 {
        close_all("∂b", &gb[j], &eb[j]);
    }
    let r = gradcheck(
        |p: &(Vec<[f64; 2]>, Vec<[f64; 2]>)| chamfer(&p.0, &p.1),
        &(a.clone(), b.clone()),
        &(ga.clone(), gb.clone()),
    );
    assert!(r.passed(), "chamfer: {r}");
}

/// A rigid motion of the plane.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Pose {
    theta: f64,
    tx: f64,
    ty: f64,
}

#[differentiate]
impl Pose {
    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.theta.sin_cos();
        [c * p[0] - s * p[1] + self.tx, s * p[0] + c * p[1] + self.ty]
    }

    fn misfit(&self, p: [f64; 2], q: [f64; 2]) -> f64 {
        let m = self.apply(p);
        (m[0] - q[0]).powi(2) + (m[1] - q[1]).powi(2)
    }
}

/// Point-to-point alignment (one ICP step with known matches), weighted per pair.
#[differentiate(wrt(pose))]
fn alignment_error(pose: Pose, src: &[[f64; 2]], dst: &[[f64; 2]], weights: &[f64]) -> f64 {
    src.iter()
        .zip(dst)
        .zip(weights)
        .map(|((p, q), w)| w * pose.misfit(*p, *q))
        .sum()
}

#[test]
fn rigid_alignment_with_matched_points() {
    let pose = Pose {
        theta: 0.3,
        tx: -0.2,
        ty: 0.5,
    };
    let src = vec![[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [0.5, -0.8]];
    let dst = vec![[0.7, 0.9], [-0.6, 1.3], [-1.3, 0.2], [0.4, 0.1]];
    let w = vec![1.0, 0.5, 2.0, 1.5];
    let (v, g) = alignment_error_grad(pose, &src, &dst, &w);
    close("value", v, alignment_error(pose, &src, &dst, &w), TOL);
    // r = R p + t − q: ∂t = 2Σ w r, ∂θ = 2Σ w r·R′p, R′p = (−s p₀ − c p₁, c p₀ − s p₁)
    let (s, c) = pose.theta.sin_cos();
    let (mut et, mut ex, mut ey) = (0.0, 0.0, 0.0);
    for i in 0..4 {
        let p = src[i];
        let r = [
            c * p[0] - s * p[1] + pose.tx - dst[i][0],
            s * p[0] + c * p[1] + pose.ty - dst[i][1],
        ];
        let rp = [-s * p[0] - c * p[1], c * p[0] - s * p[1]];
        et += 2.0 * w[i] * (r[0] * rp[0] + r[1] * rp[1]);
        ex += 2.0 * w[i] * r[0];
        ey += 2.0 * w[i] * r[1];
    }
    close("∂θ", g.theta, et, 1e-12);
    close("∂tx", g.tx, ex, 1e-12);
    close("∂ty", g.ty, ey, 1e-12);
    let r = gradcheck(|p: &Pose| alignment_error(*p, &src, &dst, &w), &pose, &g);
    assert!(r.passed(), "pose: {r}");
}

/// Metric multidimensional scaling: the raw stress Σ_{i<j} (‖xᵢ − xⱼ‖ − dᵢⱼ)² over the pairs
/// of a `flat_map` of index ranges.
#[differentiate(hessian, wrt(x))]
fn mds_stress(x: &[[f64; 2]], d: &[Vec<f64>]) -> f64 {
    let n = x.len();
    (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| {
            let dist = ((x[i][0] - x[j][0]).powi(2) + (x[i][1] - x[j][1]).powi(2)).sqrt();
            (dist - d[i][j]).powi(2)
        })
        .sum()
}

#[test]
fn multidimensional_scaling_stress() {
    let x = vec![[0.0, 0.0], [1.0, 0.3], [0.2, 1.1], [-0.9, 0.4], [0.6, -0.7]];
    let d: Vec<Vec<f64>> = (0..5)
        .map(|i| {
            (0..5)
                .map(|j| {
                    if i == j {
                        0.0
                    } else {
                        0.5 + 0.2 * ((i * j) % 5) as f64
                    }
                })
                .collect()
        })
        .collect();
    let (v, g) = mds_stress_grad(&x, &d);
    close("value", v, mds_stress(&x, &d), TOL);
    // ∂xᵢ = Σ_{j≠i} 2(δᵢⱼ − dᵢⱼ)(xᵢ − xⱼ)/δᵢⱼ, δ the embedded distance (d symmetric)
    for i in 0..5 {
        for k in 0..2 {
            let e: f64 = (0..5)
                .filter(|&j| j != i)
                .map(|j| {
                    let dist = ((x[i][0] - x[j][0]).powi(2) + (x[i][1] - x[j][1]).powi(2)).sqrt();
                    2.0 * (dist - d[i][j]) * (x[i][k] - x[j][k]) / dist
                })
                .sum();
            close(&format!("∂x[{i}][{k}]"), g[i][k], e, 1e-12);
        }
    }
    let r = gradcheck(|x: &Vec<[f64; 2]>| mds_stress(x, &d), &x, &g);
    assert!(r.passed(), "mds: {r}");
    let dir: Vec<[f64; 2]> = (0..5)
        .map(|i| [0.1 * i as f64, 0.3 - 0.1 * i as f64])
        .collect();
    let (_, _, hv) = mds_stress_hvp(&x, &d, &dir);
    let flat = |v: &[[f64; 2]]| {
        v.iter()
            .flat_map(|p| p.iter().copied())
            .collect::<Vec<f64>>()
    };
    let unflat = |v: &[f64]| v.chunks(2).map(|c| [c[0], c[1]]).collect::<Vec<[f64; 2]>>();
    hvp_against_fd(
        "mds",
        |p| flat(&mds_stress_grad(&unflat(p), &d).1),
        &flat(&x),
        &flat(&dir),
        &flat(&hv),
    );
}

/// The distance in the Poincaré ball: acosh(1 + 2‖u − v‖²/((1 − ‖u‖²)(1 − ‖v‖²))).
#[differentiate]
fn poincare_distance(u: &[f64], v: &[f64]) -> f64 {
    let sq = |a: &[f64]| a.iter().map(|x| x * x).sum::<f64>();
    let diff: f64 = u.iter().zip(v).map(|(a, b)| (a - b).powi(2)).sum();
    (1.0 + 2.0 * diff / ((1.0 - sq(u)) * (1.0 - sq(v)))).acosh()
}

/// Poincaré embeddings of a hierarchy: a softmax over negative distances, the true parent
/// against sampled negatives.
#[differentiate(wrt(emb))]
fn poincare_loss(emb: &[Vec<f64>], edges: &[(usize, usize)], negatives: &[Vec<usize>]) -> f64 {
    let mut loss = 0.0;
    for (k, &(child, parent)) in edges.iter().enumerate() {
        let pos = -poincare_distance(&emb[child], &emb[parent]);
        let mut z = pos.exp();
        for &n in &negatives[k] {
            z += (-poincare_distance(&emb[child], &emb[n])).exp();
        }
        loss += z.ln() - pos;
    }
    loss
}

#[test]
fn poincare_embeddings_of_a_hierarchy() {
    let emb = vec![
        vec![0.05, 0.02],
        vec![0.4, 0.1],
        vec![-0.3, 0.35],
        vec![0.6, -0.2],
        vec![-0.5, -0.4],
    ];
    let edges = vec![(1, 0), (2, 0), (3, 1), (4, 2)];
    let negatives = vec![vec![3, 4], vec![3, 1], vec![2, 4], vec![1, 3]];
    let (v, g) = poincare_loss_grad(&emb, &edges, &negatives);
    close("value", v, poincare_loss(&emb, &edges, &negatives), TOL);
    // ∂d/∂u = 4/(β√(γ² − 1))·[(‖v‖² − 2⟨u, v⟩ + 1)/α² u − v/α], α = 1 − ‖u‖², β = 1 − ‖v‖²,
    // γ = 1 + 2‖u − v‖²/(αβ); the loss is Σ softmax_k(−d)·∂d_k − ∂d_pos per edge
    let dd = |u: &[f64], w: &[f64]| -> (f64, Vec<f64>) {
        let nu: f64 = u.iter().map(|x| x * x).sum();
        let nw: f64 = w.iter().map(|x| x * x).sum();
        let uw: f64 = u.iter().zip(w).map(|(a, b)| a * b).sum();
        let diff: f64 = u.iter().zip(w).map(|(a, b)| (a - b).powi(2)).sum();
        let (al, be) = (1.0 - nu, 1.0 - nw);
        let ga = 1.0 + 2.0 * diff / (al * be);
        let c = 4.0 / (be * (ga * ga - 1.0).sqrt());
        let grad = (0..2)
            .map(|k| c * ((nw - 2.0 * uw + 1.0) / (al * al) * u[k] - w[k] / al))
            .collect();
        (ga.acosh(), grad)
    };
    let mut e = vec![vec![0.0; 2]; 5];
    for (k, &(c, p)) in edges.iter().enumerate() {
        let others: Vec<usize> = std::iter::once(p)
            .chain(negatives[k].iter().copied())
            .collect();
        let z: f64 = others
            .iter()
            .map(|&o| (-dd(&emb[c], &emb[o]).0).exp())
            .sum();
        for (idx, &o) in others.iter().enumerate() {
            let (d, gu) = dd(&emb[c], &emb[o]);
            let (_, gv) = dd(&emb[o], &emb[c]);
            let wgt = -(-d).exp() / z + if idx == 0 { 1.0 } else { 0.0 };
            for j in 0..2 {
                e[c][j] += wgt * gu[j];
                e[o][j] += wgt * gv[j];
            }
        }
    }
    for i in 0..5 {
        close_all("∂emb", &g[i], &e[i]);
    }
    fd_rows("∂emb", |x| poincare_loss(x, &edges, &negatives), &emb, &g);
}

/// Kernel ridge regression with an RBF kernel: the weights solved by conjugate gradients (a
/// `while` loop on the residual), then the squared error on held-out points.
#[differentiate(wrt(log_ell))]
fn krr_validation(
    log_ell: f64,
    xs: &[f64],
    ys: &[f64],
    lambda: f64,
    xv: &[f64],
    yv: &[f64],
) -> f64 {
    let ell = log_ell.exp();
    let rbf = |a: f64, b: f64| (-(a - b).powi(2) / (2.0 * ell * ell)).exp();
    let n = xs.len();
    let apply = |v: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| (0..n).map(|j| rbf(xs[i], xs[j]) * v[j]).sum::<f64>() + lambda * v[i])
            .collect()
    };
    let mut alpha = vec![0.0; n];
    let mut r = ys.to_vec();
    let mut p = r.clone();
    let mut rr: f64 = r.iter().map(|v| v * v).sum();
    let mut it = 0;
    while rr > 1e-28 && it < 50 {
        let ap = apply(&p);
        let step = rr / p.iter().zip(&ap).map(|(a, b)| a * b).sum::<f64>();
        for i in 0..n {
            alpha[i] += step * p[i];
            r[i] -= step * ap[i];
        }
        let rr_new: f64 = r.iter().map(|v| v * v).sum();
        for i in 0..n {
            p[i] = r[i] + rr_new / rr * p[i];
        }
        rr = rr_new;
        it += 1;
    }
    xv.iter()
        .zip(yv)
        .map(|(&x, &y)| {
            let pred: f64 = xs.iter().zip(&alpha).map(|(&xi, a)| a * rbf(x, xi)).sum();
            (pred - y).powi(2)
        })
        .sum()
}

/// Solves a small dense system by Gaussian elimination with partial pivoting (test only).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().partial_cmp(&a[j][c].abs()).unwrap())
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        x[r] = (b[r] - (r + 1..n).map(|k| a[r][k] * x[k]).sum::<f64>()) / a[r][r];
    }
    x
}

#[test]
fn kernel_ridge_lengthscale_through_conjugate_gradients() {
    let xs = vec![-1.0, -0.4, 0.1, 0.7, 1.2, 1.9];
    let ys: Vec<f64> = xs.iter().map(|x: &f64| (2.0 * x).sin()).collect();
    let xv = vec![-0.7, 0.4, 1.5];
    let yv: Vec<f64> = xv.iter().map(|x: &f64| (2.0 * x).sin()).collect();
    let (le, lambda) = (-0.6, 0.1);
    let (v, g) = krr_validation_grad(le, &xs, &ys, lambda, &xv, &yv);
    close(
        "value",
        v,
        krr_validation(le, &xs, &ys, lambda, &xv, &yv),
        TOL,
    );
    // α = (K + λI)⁻¹y; with ∂k/∂log ℓ = k·d²/ℓ²: ∂α = −(K + λI)⁻¹(∂K)α and
    // ∂L = Σ 2(pred − y)(∂kᵥ·α + kᵥ·∂α). CG converges to rounding, so the unrolled gradient is
    // the implicit one to 1e-9.
    let ell = le.exp();
    let k = |a: f64, b: f64| (-(a - b).powi(2) / (2.0 * ell * ell)).exp();
    let dk = |a: f64, b: f64| k(a, b) * (a - b).powi(2) / (ell * ell);
    let m: Vec<Vec<f64>> = (0..6)
        .map(|i| {
            (0..6)
                .map(|j| k(xs[i], xs[j]) + if i == j { lambda } else { 0.0 })
                .collect()
        })
        .collect();
    let alpha = solve(m.clone(), ys.clone());
    let dka: Vec<f64> = (0..6)
        .map(|i| (0..6).map(|j| dk(xs[i], xs[j]) * alpha[j]).sum())
        .collect();
    let dalpha: Vec<f64> = solve(m, dka).iter().map(|v| -v).collect();
    let mut e = 0.0;
    for (&x, &y) in xv.iter().zip(&yv) {
        let pred: f64 = (0..6).map(|i| alpha[i] * k(x, xs[i])).sum();
        let dpred: f64 = (0..6)
            .map(|i| alpha[i] * dk(x, xs[i]) + dalpha[i] * k(x, xs[i]))
            .sum();
        e += 2.0 * (pred - y) * dpred;
    }
    close("∂log ℓ", g, e, 1e-9);
    fd(
        "∂log ℓ",
        |l| krr_validation(l, &xs, &ys, lambda, &xv, &yv),
        le,
        g,
    );
}

// ---------------------------------------------------------------------------------------------
// Finance and operations.
// ---------------------------------------------------------------------------------------------

/// Vasicek zero-coupon yields, y(T) = −ln P(T)/T with ln P = A − B r₀, fitted to a curve.
#[differentiate(hessian, wrt(a, b, sigma))]
fn vasicek_fit(a: f64, b: f64, sigma: f64, r0: f64, mats: &[f64], yields: &[f64]) -> f64 {
    let model = |t: f64| {
        let bt = (1.0 - (-a * t).exp()) / a;
        let at =
            (b - sigma * sigma / (2.0 * a * a)) * (bt - t) - sigma * sigma * bt * bt / (4.0 * a);
        -(at - bt * r0) / t
    };
    mats.iter()
        .zip(yields)
        .map(|(&t, &y)| (model(t) - y).powi(2))
        .sum()
}

#[test]
fn vasicek_yield_curve_fit() {
    let mats = vec![0.5, 1.0, 2.0, 5.0, 10.0];
    let yields = vec![0.021, 0.024, 0.028, 0.033, 0.036];
    let (a, b, s, r0) = (0.4, 0.04, 0.02, 0.02);
    let (v, (ga, gb, gs)) = vasicek_fit_grad(a, b, s, r0, &mats, &yields);
    close("value", v, vasicek_fit(a, b, s, r0, &mats, &yields), TOL);
    // y is affine in b: ∂y/∂b = −(B − T)/T, so ∂b = Σ 2 res·(T − B)/T and ∂²b = 2Σ ((T − B)/T)²
    let (mut eb, mut hbb) = (0.0, 0.0);
    for (&t, &yv) in mats.iter().zip(&yields) {
        let bt = (1.0 - (-a * t).exp()) / a;
        let at = (b - s * s / (2.0 * a * a)) * (bt - t) - s * s * bt * bt / (4.0 * a);
        let y = -(at - bt * r0) / t;
        eb += 2.0 * (y - yv) * (t - bt) / t;
        hbb += 2.0 * ((t - bt) / t).powi(2);
    }
    close("∂b", gb, eb, 1e-12);
    fd3(
        "vasicek",
        |p, q, r| vasicek_fit(p, q, r, r0, &mats, &yields),
        (a, b, s),
        (ga, gb, gs),
    );
    let (_, _, (_, h_bb, _)) = vasicek_fit_hvp(a, b, s, r0, &mats, &yields, 0.0, 1.0, 0.0);
    close("∂²b", h_bb, hbb, 1e-12);
}

/// Hagan's SABR approximation at the money, fitted to a term structure of ATM volatilities.
#[differentiate(hessian, wrt(alpha, rho, nu))]
fn sabr_atm_fit(alpha: f64, rho: f64, nu: f64, beta: f64, quotes: &[(f64, f64, f64)]) -> f64 {
    let mut loss = 0.0;
    for &(fwd, expiry, vol) in quotes {
        let fb = fwd.powf(1.0 - beta);
        let correction = (1.0 - beta).powi(2) * alpha * alpha / (24.0 * fb * fb)
            + rho * beta * nu * alpha / (4.0 * fb)
            + (2.0 - 3.0 * rho * rho) * nu * nu / 24.0;
        let model = alpha / fb * (1.0 + correction * expiry);
        loss += (model - vol).powi(2);
    }
    loss
}

#[test]
fn sabr_at_the_money_volatility_fit() {
    let quotes = vec![
        (0.03, 0.5, 0.21),
        (0.031, 1.0, 0.205),
        (0.033, 2.0, 0.2),
        (0.035, 5.0, 0.19),
    ];
    let (alpha, rho, nu, beta) = (0.035, -0.3, 0.45, 0.5);
    let (v, (ga, gr, gn)) = sabr_atm_fit_grad(alpha, rho, nu, beta, &quotes);
    close("value", v, sabr_atm_fit(alpha, rho, nu, beta, &quotes), TOL);
    // ∂σ/∂ρ = (α/F^{1−β})(βνα/(4F^{1−β}) − ρν²/4)T, ∂σ/∂ν = (α/F^{1−β})(ρβα/(4F^{1−β}) +
    // (2 − 3ρ²)ν/12)T
    let (mut er, mut en) = (0.0, 0.0);
    for &(f, t, vol) in &quotes {
        let fb = f.powf(1.0 - beta);
        let corr = (1.0 - beta).powi(2) * alpha * alpha / (24.0 * fb * fb)
            + rho * beta * nu * alpha / (4.0 * fb)
            + (2.0 - 3.0 * rho * rho) * nu * nu / 24.0;
        let res = alpha / fb * (1.0 + corr * t) - vol;
        er += 2.0 * res * alpha / fb * (beta * nu * alpha / (4.0 * fb) - rho * nu * nu / 4.0) * t;
        en += 2.0 * res * alpha / fb
            * (rho * beta * alpha / (4.0 * fb) + (2.0 - 3.0 * rho * rho) * nu / 12.0)
            * t;
    }
    close("∂ρ", gr, er, 1e-12);
    close("∂ν", gn, en, 1e-12);
    fd3(
        "sabr",
        |a, r, n| sabr_atm_fit(a, r, n, beta, &quotes),
        (alpha, rho, nu),
        (ga, gr, gn),
    );
    let dir = (0.01, 0.2, -0.1);
    let (_, _, hv) = sabr_atm_fit_hvp(alpha, rho, nu, beta, &quotes, dir.0, dir.1, dir.2);
    let h = 1e-6;
    let gp = sabr_atm_fit_grad(
        alpha + h * dir.0,
        rho + h * dir.1,
        nu + h * dir.2,
        beta,
        &quotes,
    )
    .1;
    let gm = sabr_atm_fit_grad(
        alpha - h * dir.0,
        rho - h * dir.1,
        nu - h * dir.2,
        beta,
        &quotes,
    )
    .1;
    close("H·v α", hv.0, (gp.0 - gm.0) / (2.0 * h), 1e-6);
    close("H·v ρ", hv.1, (gp.1 - gm.1) / (2.0 * h), 1e-6);
    close("H·v ν", hv.2, (gp.2 - gm.2) / (2.0 * h), 1e-6);
}

/// The newsvendor's expected cost over demand scenarios: holding on what is left, a penalty on
/// what is short.
#[differentiate]
fn newsvendor_cost(q: f64, demands: &[f64], holding: f64, shortage: f64) -> f64 {
    demands
        .iter()
        .map(|&d| holding * (q - d).max(0.0) + shortage * (d - q).max(0.0))
        .sum::<f64>()
        / demands.len() as f64
}

#[test]
fn newsvendor_order_quantity() {
    let demands = vec![80.0, 95.0, 120.0, 60.0, 105.0, 130.0, 90.0];
    let (q, h, p) = (100.0, 1.5, 4.0);
    let (v, (gq, _, gh, gp)) = newsvendor_cost_grad(q, &demands, h, p);
    close("value", v, newsvendor_cost(q, &demands, h, p), TOL);
    // ∂q = (h·#{d < q} − p·#{d > q})/n, ∂h = mean (q − d)⁺, ∂p = mean (d − q)⁺
    let n = demands.len() as f64;
    let below = demands.iter().filter(|&&d| d < q).count() as f64;
    let above = demands.iter().filter(|&&d| d > q).count() as f64;
    close("∂q", gq, (h * below - p * above) / n, 1e-12);
    close(
        "∂h",
        gh,
        demands.iter().map(|d| (q - d).max(0.0)).sum::<f64>() / n,
        1e-12,
    );
    close(
        "∂p",
        gp,
        demands.iter().map(|d| (d - q).max(0.0)).sum::<f64>() / n,
        1e-12,
    );
    fd("∂q", |q| newsvendor_cost(q, &demands, h, p), q, gq);
}

/// The mean wait in an M/M/c queue by the Erlang C formula, the Poisson terms built by a
/// running product.
#[differentiate(wrt(lambda, mu))]
fn erlang_c_wait(lambda: f64, mu: f64, servers: usize) -> f64 {
    let a = lambda / mu;
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..servers {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let rho = a / servers as f64;
    let top = term / (1.0 - rho);
    let wait_prob = top / (sum + top);
    wait_prob / (servers as f64 * mu - lambda)
}

#[test]
fn erlang_c_queue_wait() {
    // One server: W_q = λ/(μ(μ − λ)), ∂λ = 1/(μ − λ)², ∂μ = −λ(2μ − λ)/(μ(μ − λ))²
    let (l, m) = (0.7, 1.0);
    let (v, (gl, gm)) = erlang_c_wait_grad(l, m, 1);
    close("M/M/1 value", v, l / (m * (m - l)), 1e-14);
    close("M/M/1 ∂λ", gl, 1.0 / (m - l).powi(2), 1e-12);
    close(
        "M/M/1 ∂μ",
        gm,
        -l * (2.0 * m - l) / (m * (m - l)).powi(2),
        1e-12,
    );
    // Three servers: the wait is homogeneous of degree −1 in (λ, μ): λ∂λ + μ∂μ = −W
    let (l, m) = (2.2, 1.0);
    let (v, (gl, gm)) = erlang_c_wait_grad(l, m, 3);
    close("M/M/3 value", v, erlang_c_wait(l, m, 3), TOL);
    close("Euler's identity", l * gl + m * gm, -v, 1e-12);
    fd2("M/M/3", |a, b| erlang_c_wait(a, b, 3), (l, m), (gl, gm));
    let fw = forward("erlang").two(
        (l, m),
        |a, b| erlang_c_wait(a, b, 3),
        |a, b, da, db| erlang_c_wait_jvp(a, b, 3, da, db),
        |a, b| erlang_c_wait_vjp(a, b, 3),
    );
    tangents_are2("erlang", &fw, (gl, gm), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Closures called where the code runs as written.
// ---------------------------------------------------------------------------------------------

/// Local closures called inside the predicates of `filter` and `take_while`, inside a
/// `min_by` comparator (one closure calling another), and inside a macro.
#[differentiate(wrt(p))]
fn site_energy(p: [f64; 2], sites: &[[f64; 2]], cutoff: f64) -> f64 {
    let d2 = |s: &[f64; 2]| (p[0] - s[0]).powi(2) + (p[1] - s[1]).powi(2);
    let within = |s: &[f64; 2]| d2(s) < cutoff * cutoff;
    let near: f64 = sites
        .iter()
        .filter(|s| within(s))
        .map(|s| (-d2(s)).exp())
        .sum();
    let closest = sites
        .iter()
        .min_by(|a, b| d2(a).partial_cmp(&d2(b)).unwrap())
        .unwrap();
    let lead: f64 = sites
        .iter()
        .take_while(|s| d2(s) > 0.02)
        .map(|s| d2(s).sqrt())
        .sum();
    assert!(d2(&sites[0]) >= 0.0, "a squared distance");
    near + d2(closest) + lead
}

#[test]
fn closures_called_in_predicates_comparators_and_macros() {
    let p = [0.3, -0.2];
    let sites = vec![
        [1.0, 0.5],
        [0.4, 0.0],
        [-1.5, 0.8],
        [0.25, -0.3],
        [2.0, 2.0],
    ];
    let cutoff = 1.2;
    let (v, g) = site_energy_grad(p, &sites, cutoff);
    close("value", v, site_energy(p, &sites, cutoff), TOL);
    // ∂p = Σ_{d² < r²} −2(p − s)e^{−d²} + 2(p − s*) (s* the closest) + Σ_{leading d² > 0.02}
    // (p − s)/d
    let d2 = |s: &[f64; 2]| (p[0] - s[0]).powi(2) + (p[1] - s[1]).powi(2);
    let mut e = [0.0; 2];
    for s in &sites {
        if d2(s) < cutoff * cutoff {
            for k in 0..2 {
                e[k] -= 2.0 * (p[k] - s[k]) * (-d2(s)).exp();
            }
        }
    }
    let closest = sites
        .iter()
        .min_by(|a, b| d2(a).partial_cmp(&d2(b)).unwrap())
        .unwrap();
    for k in 0..2 {
        e[k] += 2.0 * (p[k] - closest[k]);
    }
    for s in sites.iter().take_while(|s| d2(s) > 0.02) {
        for k in 0..2 {
            e[k] += (p[k] - s[k]) / d2(s).sqrt();
        }
    }
    close_all("∂p", &g, &e);
    let r = gradcheck(|q: &[f64; 2]| site_energy(*q, &sites, cutoff), &p, &g);
    assert!(r.passed(), "site energy: {r}");
}

// ---------------------------------------------------------------------------------------------
// More models: energy-based, reinforcement learning, economics, signals.
// ---------------------------------------------------------------------------------------------

/// A restricted Boltzmann machine's free energy F(v) = −b·v − Σⱼ ln(1 + e^{cⱼ + Wⱼ·v}), and
/// the contrastive-divergence objective: mean F over data less mean F over fantasy samples.
#[derive(Clone, Debug, Differentiable)]
struct Rbm {
    w: Vec<Vec<f64>>,
    b: Vec<f64>,
    c: Vec<f64>,
}

#[differentiate]
impl Rbm {
    fn free_energy(&self, v: &[f64]) -> f64 {
        let visible: f64 = self.b.iter().zip(v).map(|(b, x)| b * x).sum();
        let hidden: f64 = self
            .w
            .iter()
            .zip(&self.c)
            .map(|(row, cj)| {
                let act = cj + row.iter().zip(v).map(|(w, x)| w * x).sum::<f64>();
                act.exp().ln_1p()
            })
            .sum();
        -visible - hidden
    }
}

#[differentiate(wrt(rbm))]
fn contrastive_divergence(rbm: &Rbm, data: &[Vec<f64>], fantasy: &[Vec<f64>]) -> f64 {
    let pos = data.iter().map(|v| rbm.free_energy(v)).sum::<f64>() / data.len() as f64;
    let neg = fantasy.iter().map(|v| rbm.free_energy(v)).sum::<f64>() / fantasy.len() as f64;
    pos - neg
}

#[test]
fn rbm_contrastive_divergence() {
    let rbm = Rbm {
        w: vec![vec![0.2, -0.4, 0.1], vec![0.5, 0.3, -0.2]],
        b: vec![0.1, -0.1, 0.05],
        c: vec![-0.2, 0.3],
    };
    let data = vec![
        vec![1.0, 0.0, 1.0],
        vec![1.0, 1.0, 0.0],
        vec![0.0, 1.0, 1.0],
    ];
    let fantasy = vec![vec![0.0, 0.0, 1.0], vec![1.0, 1.0, 1.0]];
    let (v, g) = contrastive_divergence_grad(&rbm, &data, &fantasy);
    close(
        "value",
        v,
        contrastive_divergence(&rbm, &data, &fantasy),
        TOL,
    );
    // ∂F/∂Wⱼᵢ = −σ(aⱼ)vᵢ, ∂F/∂bᵢ = −vᵢ, ∂F/∂cⱼ = −σ(aⱼ); data averaged minus fantasy averaged
    let mut ew = vec![vec![0.0; 3]; 2];
    let mut eb = vec![0.0; 3];
    let mut ec = vec![0.0; 2];
    for (set, sign) in [(&data, 1.0 / 3.0), (&fantasy, -0.5)] {
        for v in set.iter() {
            for i in 0..3 {
                eb[i] -= sign * v[i];
            }
            for j in 0..2 {
                let a = rbm.c[j] + (0..3).map(|i| rbm.w[j][i] * v[i]).sum::<f64>();
                ec[j] -= sign * sigmoid(a);
                for i in 0..3 {
                    ew[j][i] -= sign * sigmoid(a) * v[i];
                }
            }
        }
    }
    for j in 0..2 {
        close_all("∂W", &g.w[j], &ew[j]);
    }
    close_all("∂b", &g.b, &eb);
    close_all("∂c", &g.c, &ec);
    let r = gradcheck(
        |m: &Rbm| contrastive_divergence(m, &data, &fantasy),
        &rbm,
        &g,
    );
    assert!(r.passed(), "rbm: {r}");
}

/// A value function's regression onto generalised advantage estimates: TD errors with a
/// linear critic, accumulated from the back by `rev().scan(..)`, then ½ Σ Â².
#[differentiate(wrt(w))]
fn gae_critic_loss(w: &[f64], feats: &[[f64; 2]], rewards: &[f64], gamma: f64, lambda: f64) -> f64 {
    let value = |phi: &[f64; 2]| w[0] * phi[0] + w[1] * phi[1];
    let deltas: Vec<f64> = rewards
        .iter()
        .enumerate()
        .map(|(t, &r)| r + gamma * value(&feats[t + 1]) - value(&feats[t]))
        .collect();
    let mut adv: Vec<f64> = deltas
        .iter()
        .rev()
        .scan(0.0, |acc, &d| {
            *acc = d + gamma * lambda * *acc;
            Some(*acc)
        })
        .collect();
    adv.reverse();
    0.5 * adv.iter().map(|a| a * a).sum::<f64>()
}

#[test]
fn generalised_advantage_estimation() {
    let feats = vec![[1.0, 0.2], [0.8, -0.1], [0.5, 0.4], [0.3, 0.9], [0.0, 0.5]];
    let rewards = vec![0.5, -0.2, 1.0, 0.3];
    let w = vec![0.4, -0.6];
    let (gamma, lambda) = (0.9, 0.8);
    let (v, g) = gae_critic_loss_grad(&w, &feats, &rewards, gamma, lambda);
    close(
        "value",
        v,
        gae_critic_loss(&w, &feats, &rewards, gamma, lambda),
        TOL,
    );
    // Âₜ = Σₖ (γλ)ᵏ δₜ₊ₖ is linear in w with ∂δₜ/∂w = γφₜ₊₁ − φₜ: ∂w = Σₜ Âₜ ∂Âₜ/∂w
    let n = rewards.len();
    let mut e = vec![0.0; 2];
    for t in 0..n {
        let mut a = 0.0;
        let mut da = [0.0; 2];
        for k in t..n {
            let f = (gamma * lambda).powi((k - t) as i32);
            let vk = w[0] * feats[k][0] + w[1] * feats[k][1];
            let vk1 = w[0] * feats[k + 1][0] + w[1] * feats[k + 1][1];
            a += f * (rewards[k] + gamma * vk1 - vk);
            for c in 0..2 {
                da[c] += f * (gamma * feats[k + 1][c] - feats[k][c]);
            }
        }
        for c in 0..2 {
            e[c] += a * da[c];
        }
    }
    close_all("∂w", &g, &e);
    fd_vec(
        "∂w",
        |w| gae_critic_loss(w, &feats, &rewards, gamma, lambda),
        &w,
        &g,
    );
}

/// A CES production function Y = A(α K^ρ + (1 − α) L^ρ)^{1/ρ}, fitted to output data in logs.
#[differentiate(hessian, wrt(log_a, alpha, rho))]
fn ces_fit(
    log_a: f64,
    alpha: f64,
    rho: f64,
    capital: &[f64],
    labour: &[f64],
    output: &[f64],
) -> f64 {
    let mut sse = 0.0;
    for ((&k, &l), &y) in capital.iter().zip(labour).zip(output) {
        let inner = alpha * k.powf(rho) + (1.0 - alpha) * l.powf(rho);
        let log_y = log_a + inner.ln() / rho;
        sse += (log_y - y.ln()).powi(2);
    }
    sse
}

#[test]
fn ces_production_function_fit() {
    let capital = vec![1.0, 2.0, 3.5, 5.0, 8.0];
    let labour = vec![2.0, 2.5, 3.0, 4.0, 4.5];
    let output = vec![1.6, 2.4, 3.3, 4.6, 6.0];
    let (la, al, rho) = (0.1, 0.4, 0.5);
    let (v, (ga, gal, gr)) = ces_fit_grad(la, al, rho, &capital, &labour, &output);
    close(
        "value",
        v,
        ces_fit(la, al, rho, &capital, &labour, &output),
        TOL,
    );
    // r = ln Ŷ − ln Y: ∂log A = 2Σr, ∂α = 2Σ r (K^ρ − L^ρ)/(ρ S), ∂²log A = 2n
    let (mut ea, mut eal) = (0.0, 0.0);
    for i in 0..5 {
        let s = al * capital[i].powf(rho) + (1.0 - al) * labour[i].powf(rho);
        let r = la + s.ln() / rho - output[i].ln();
        ea += 2.0 * r;
        eal += 2.0 * r * (capital[i].powf(rho) - labour[i].powf(rho)) / (rho * s);
    }
    close("∂log A", ga, ea, 1e-12);
    close("∂α", gal, eal, 1e-12);
    fd3(
        "ces",
        |a, b, c| ces_fit(a, b, c, &capital, &labour, &output),
        (la, al, rho),
        (ga, gal, gr),
    );
    let (_, _, (h0, _, _)) = ces_fit_hvp(la, al, rho, &capital, &labour, &output, 1.0, 0.0, 0.0);
    close("∂²log A", h0, 10.0, 1e-12);
}

/// An interior-point barrier objective t·cᵀx − Σ ln(bᵢ − aᵢ·x), infinite outside the feasible
/// set (an early return from the loop over constraints).
#[differentiate(hessian, wrt(x))]
fn log_barrier(x: &[f64], c: &[f64], a: &[[f64; 2]], b: &[f64], t: f64) -> f64 {
    let mut phi = t * c.iter().zip(x).map(|(ci, xi)| ci * xi).sum::<f64>();
    for (row, &bi) in a.iter().zip(b) {
        let slack = bi - row[0] * x[0] - row[1] * x[1];
        if slack <= 0.0 {
            return f64::INFINITY;
        }
        phi -= slack.ln();
    }
    phi
}

#[test]
fn log_barrier_gradient_and_hessian() {
    let a = vec![[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [1.0, 2.0]];
    let b = vec![2.0, 1.5, 0.5, 3.0];
    let c = vec![1.0, -0.5];
    let x = vec![0.4, 0.3];
    let t = 2.0;
    let (v, g) = log_barrier_grad(&x, &c, &a, &b, t);
    close("value", v, log_barrier(&x, &c, &a, &b, t), TOL);
    // ∇ = t c + Σ aᵢ/sᵢ,  ∇² = Σ aᵢaᵢᵀ/sᵢ²
    let dir = vec![0.3, -0.8];
    let (mut e, mut hv) = ([t * c[0], t * c[1]], [0.0; 2]);
    for (row, &bi) in a.iter().zip(&b) {
        let s = bi - row[0] * x[0] - row[1] * x[1];
        let ad = row[0] * dir[0] + row[1] * dir[1];
        for k in 0..2 {
            e[k] += row[k] / s;
            hv[k] += row[k] * ad / (s * s);
        }
    }
    close_all("∇", &g, &e);
    fd_vec("∇", |x| log_barrier(x, &c, &a, &b, t), &x, &g);
    let (_, _, h) = log_barrier_hvp(&x, &c, &a, &b, t, &dir);
    close_all("∇²·v", &h, &hv);
    assert_eq!(log_barrier(&[3.0, 0.0], &c, &a, &b, t), f64::INFINITY);
    assert_eq!(
        log_barrier_grad(&[3.0, 0.0], &c, &a, &b, t).0,
        f64::INFINITY
    );
}

/// The class of a training example in a two-class problem.
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Spam,
    Ham,
}

/// Gaussian naive Bayes: each class has per-feature means and log standard deviations, and
/// each example is scored under its own class's, picked by a `match`.
#[differentiate(wrt(means, log_sds))]
fn naive_bayes_nll(means: &[Vec<f64>], log_sds: &[Vec<f64>], xs: &[Vec<f64>], ys: &[Class]) -> f64 {
    let mut nll = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        let k = match y {
            Class::Spam => 0,
            Class::Ham => 1,
        };
        for (j, &v) in x.iter().enumerate() {
            let z = (v - means[k][j]) / log_sds[k][j].exp();
            nll += 0.5 * z * z + log_sds[k][j];
        }
    }
    nll
}

#[test]
fn gaussian_naive_bayes_by_class() {
    let means = vec![vec![0.5, -0.2], vec![-0.3, 0.8]];
    let log_sds = vec![vec![0.1, -0.3], vec![0.2, 0.0]];
    let xs = vec![
        vec![0.7, 0.1],
        vec![-0.5, 1.0],
        vec![0.2, -0.4],
        vec![0.0, 0.5],
    ];
    let ys = vec![Class::Spam, Class::Ham, Class::Spam, Class::Ham];
    let (v, (gm, gs)) = naive_bayes_nll_grad(&means, &log_sds, &xs, &ys);
    close("value", v, naive_bayes_nll(&means, &log_sds, &xs, &ys), TOL);
    // z = (x − μ)/σ: ∂μ = −Σ z/σ, ∂log σ = Σ (1 − z²), over the examples of the class
    let (mut em, mut es) = (vec![vec![0.0; 2]; 2], vec![vec![0.0; 2]; 2]);
    for (x, y) in xs.iter().zip(&ys) {
        let k = if *y == Class::Spam { 0 } else { 1 };
        for j in 0..2 {
            let sd = log_sds[k][j].exp();
            let z = (x[j] - means[k][j]) / sd;
            em[k][j] -= z / sd;
            es[k][j] += 1.0 - z * z;
        }
    }
    for k in 0..2 {
        close_all("∂μ", &gm[k], &em[k]);
        close_all("∂log σ", &gs[k], &es[k]);
    }
    fd_rows(
        "∂μ",
        |m| naive_bayes_nll(m, &log_sds, &xs, &ys),
        &means,
        &gm,
    );
    fd_rows(
        "∂log σ",
        |s| naive_bayes_nll(&means, s, &xs, &ys),
        &log_sds,
        &gs,
    );
}

/// An LMS adaptive filter over tap windows of the input: the weights move by μ eₖ xₖ after
/// each sample; the step size is tuned on the sum of squared errors.
#[differentiate(wrt(mu))]
fn lms_error(mu: f64, input: &[f64], desired: &[f64]) -> f64 {
    let mut w = [0.0; 3];
    let mut total = 0.0;
    for (taps, &d) in input.windows(3).zip(desired) {
        let y: f64 = taps.iter().zip(&w).map(|(x, wi)| x * wi).sum();
        let e = d - y;
        total += e * e;
        for k in 0..3 {
            w[k] += mu * e * taps[k];
        }
    }
    total
}

#[test]
fn lms_adaptive_filter_step_size() {
    let input = data(12, 0.7);
    let desired: Vec<f64> = input
        .windows(3)
        .map(|t| 0.6 * t[0] - 0.3 * t[1] + 0.2 * t[2])
        .collect();
    let mu = 0.4;
    let (v, g) = lms_error_grad(mu, &input, &desired);
    close("value", v, lms_error(mu, &input, &desired), TOL);
    // Sensitivities: de = −dw·x, dw ← dw + (e + μ de) x, d(total) += 2 e de
    let (mut w, mut dw, mut dt) = ([0.0; 3], [0.0; 3], 0.0);
    for (t, &d) in input.windows(3).zip(&desired) {
        let e = d - (0..3).map(|k| t[k] * w[k]).sum::<f64>();
        let de = -(0..3).map(|k| t[k] * dw[k]).sum::<f64>();
        dt += 2.0 * e * de;
        for k in 0..3 {
            w[k] += mu * e * t[k];
            dw[k] += (e + mu * de) * t[k];
        }
    }
    close("∂μ", g, dt, 1e-12);
    fd("∂μ", |m| lms_error(m, &input, &desired), mu, g);
}

/// The stage of an ADSR envelope at a time.
enum Stage {
    Attack,
    Decay,
    Sustain,
}

/// An ADSR envelope's level at time t, the stage found first and matched, and the squared
/// error of the envelope against a recorded amplitude.
#[differentiate(wrt(attack, decay, sustain))]
fn adsr_fit(attack: f64, decay: f64, sustain: f64, times: &[f64], amp: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (&t, &a) in times.iter().zip(amp) {
        let stage = if t < attack {
            Stage::Attack
        } else if t < attack + decay {
            Stage::Decay
        } else {
            Stage::Sustain
        };
        let level = match stage {
            Stage::Attack => t / attack,
            Stage::Decay => 1.0 - (1.0 - sustain) * (t - attack) / decay,
            Stage::Sustain => sustain,
        };
        loss += (level - a).powi(2);
    }
    loss
}

#[test]
fn adsr_envelope_fit_over_an_enum_of_stages() {
    let times = vec![0.02, 0.05, 0.1, 0.15, 0.25, 0.4, 0.6];
    let amp = vec![0.3, 0.7, 0.9, 0.75, 0.6, 0.55, 0.5];
    let (a, d, s) = (0.08, 0.2, 0.55);
    let (v, (ga, gd, gs)) = adsr_fit_grad(a, d, s, &times, &amp);
    close("value", v, adsr_fit(a, d, s, &times, &amp), TOL);
    // attack: ∂a = −t/a²; decay, u = (t − a)/d: ∂a = (1 − s)/d, ∂d = (1 − s)u/d, ∂s = u;
    // sustain: ∂s = 1. Each times 2(level − amp).
    let (mut ea, mut ed, mut es) = (0.0, 0.0, 0.0);
    for (&t, &y) in times.iter().zip(&amp) {
        if t < a {
            ea += 2.0 * (t / a - y) * (-t / (a * a));
        } else if t < a + d {
            let u = (t - a) / d;
            let r = 2.0 * (1.0 - (1.0 - s) * u - y);
            ea += r * (1.0 - s) / d;
            ed += r * (1.0 - s) * u / d;
            es += r * u;
        } else {
            es += 2.0 * (s - y);
        }
    }
    close("∂attack", ga, ea, 1e-12);
    close("∂decay", gd, ed, 1e-12);
    close("∂sustain", gs, es, 1e-12);
    fd3(
        "adsr",
        |p, q, r| adsr_fit(p, q, r, &times, &amp),
        (a, d, s),
        (ga, gd, gs),
    );
}

/// The soft-thresholded elastic-net penalty over any float type, and a least-squares fit in
/// single precision that uses it.
#[differentiate]
fn elastic_penalty<F: Float>(beta: &[F], l1: F, l2: F) -> F {
    beta.iter().fold(F::zero(), |acc, &b| {
        acc + l1 * b.abs() + l2 * b * b / (F::one() + F::one())
    })
}

#[differentiate(wrt(beta))]
fn elastic_net_f32(beta: &[f32], x: &[[f32; 3]], y: &[f32], l1: f32, l2: f32) -> f32 {
    let sse: f32 = x
        .iter()
        .zip(y)
        .map(|(row, &t)| {
            let pred: f32 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
            0.5 * (pred - t) * (pred - t)
        })
        .sum();
    sse + elastic_penalty(beta, l1, l2)
}

#[test]
fn elastic_net_in_single_precision_through_a_generic_penalty() {
    let x: Vec<[f32; 3]> = vec![
        [1.0, 0.5, -0.2],
        [0.3, -1.0, 0.8],
        [-0.7, 0.2, 0.4],
        [0.9, 0.9, 0.1],
    ];
    let y: Vec<f32> = vec![0.8, -0.4, 0.1, 1.2];
    let beta: Vec<f32> = vec![0.5, -0.3, 0.2];
    let (l1, l2) = (0.1f32, 0.05f32);
    let (v, g) = elastic_net_f32_grad(&beta, &x, &y, l1, l2);
    assert_eq!(v, elastic_net_f32(&beta, &x, &y, l1, l2));
    // ∂β = Xᵀ(Xβ − y) + l1 sign(β) + l2 β (in f64)
    for k in 0..3 {
        let mut e: f64 = (0..4)
            .map(|i| {
                let pred: f64 = (0..3).map(|j| x[i][j] as f64 * beta[j] as f64).sum();
                (pred - y[i] as f64) * x[i][k] as f64
            })
            .sum();
        e += l1 as f64 * (beta[k] as f64).signum() + l2 as f64 * beta[k] as f64;
        close(&format!("∂β[{k}]"), g[k] as f64, e, 1e-5);
    }
    let r = gradcheck(|b: &Vec<f32>| elastic_net_f32(b, &x, &y, l1, l2), &beta, &g);
    assert!(r.passed(), "elastic net: {r}");
}

/// A city to be served, and its demand: plain data, neither `Clone` nor `Copy` (its elements
/// are borrowed where the loop reads their fields).
struct City {
    pos: [f64; 2],
    demand: f64,
}

const CITIES: [City; 4] = [
    City {
        pos: [0.0, 0.0],
        demand: 3.0,
    },
    City {
        pos: [4.0, 1.0],
        demand: 1.0,
    },
    City {
        pos: [1.0, 3.0],
        demand: 2.0,
    },
    City {
        pos: [3.0, 4.0],
        demand: 1.5,
    },
];

/// The Fermat–Weber facility location objective: demand-weighted distances to a depot.
#[differentiate(hessian, wrt(depot))]
fn weber_cost(depot: [f64; 2], cities: &[City]) -> f64 {
    cities
        .iter()
        .map(|c| {
            let (dx, dy) = (depot[0] - c.pos[0], depot[1] - c.pos[1]);
            c.demand * dx.hypot(dy)
        })
        .sum()
}

#[test]
fn fermat_weber_facility_location() {
    let depot = [1.7, 1.9];
    let (v, g) = weber_cost_grad(depot, &CITIES);
    close("value", v, weber_cost(depot, &CITIES), TOL);
    // ∇ = Σ wᵢ (p − aᵢ)/‖p − aᵢ‖,  ∇² = Σ wᵢ (I − uuᵀ)/‖p − aᵢ‖
    let dir = [0.4, -0.9];
    let (mut e, mut hv) = ([0.0; 2], [0.0; 2]);
    for c in &CITIES {
        let d = [depot[0] - c.pos[0], depot[1] - c.pos[1]];
        let n = d[0].hypot(d[1]);
        let u = [d[0] / n, d[1] / n];
        let ud = u[0] * dir[0] + u[1] * dir[1];
        for k in 0..2 {
            e[k] += c.demand * u[k];
            hv[k] += c.demand * (dir[k] - u[k] * ud) / n;
        }
    }
    close_all("∇", &g, &e);
    let r = gradcheck(|p: &[f64; 2]| weber_cost(*p, &CITIES), &depot, &g);
    assert!(r.passed(), "weber: {r}");
    let (_, _, h) = weber_cost_hvp(depot, &CITIES, dir);
    close_all("∇²·v", &h, &hv);
}

/// Simple exponential smoothing whose starting level is a setting that may be off (then the
/// first observation), fitted in the smoothing constant by one-step-ahead squared errors.
#[differentiate(wrt(alpha))]
fn ses_sse(alpha: f64, ys: &[f64], init: Option<f64>) -> f64 {
    let mut level = init.unwrap_or(ys[0]);
    let mut sse = 0.0;
    for &y in &ys[1..] {
        let e = y - level;
        sse += e * e;
        level += alpha * e;
    }
    sse
}

#[test]
fn exponential_smoothing_with_an_optional_start() {
    let ys = vec![3.0, 3.4, 2.9, 3.8, 4.1, 3.7, 4.4];
    let alpha = 0.35;
    for init in [None, Some(3.3)] {
        let (v, g) = ses_sse_grad(alpha, &ys, init);
        close("value", v, ses_sse(alpha, &ys, init), TOL);
        // dℓ ← dℓ + e + α de with de = −dℓ; d(sse) += 2 e de
        let (mut l, mut dl, mut ds) = (init.unwrap_or(ys[0]), 0.0, 0.0);
        for &y in &ys[1..] {
            let e = y - l;
            let de = -dl;
            ds += 2.0 * e * de;
            l += alpha * e;
            dl += e + alpha * de;
        }
        close("∂α", g, ds, 1e-12);
        fd("∂α", |a| ses_sse(a, &ys, init), alpha, g);
    }
}

/// The beta-binomial log-likelihood of success counts out of n trials, its beta functions
/// written as sums of logs (integer counts): ln B(k + α, n − k + β) − ln B(α, β).
#[differentiate(hessian)]
fn beta_binomial_nll(alpha: f64, beta: f64, counts: &[(u32, u32)]) -> f64 {
    let rising = |a: f64, m: u32| (0..m).map(|i| (a + i as f64).ln()).sum::<f64>();
    -counts
        .iter()
        .map(|&(k, n)| rising(alpha, k) + rising(beta, n - k) - rising(alpha + beta, n))
        .sum::<f64>()
}

#[test]
fn beta_binomial_overdispersed_counts() {
    let counts = vec![(3u32, 10u32), (7, 12), (0, 5), (4, 8), (9, 10)];
    let (a, b) = (1.8, 2.4);
    let (v, (ga, gb)) = beta_binomial_nll_grad(a, b, &counts);
    close("value", v, beta_binomial_nll(a, b, &counts), TOL);
    // ∂α = −Σ [Σ_{i<k} 1/(α + i) − Σ_{i<n} 1/(α + β + i)], ∂²α = Σ [Σ_{i<k} 1/(α + i)² − Σ_{i<n}
    // 1/(α + β + i)²]
    let s = |x: f64, m: u32, p: i32| (0..m).map(|i| (x + i as f64).powi(-p)).sum::<f64>();
    let ea: f64 = -counts
        .iter()
        .map(|&(k, n)| s(a, k, 1) - s(a + b, n, 1))
        .sum::<f64>();
    let eb: f64 = -counts
        .iter()
        .map(|&(k, n)| s(b, n - k, 1) - s(a + b, n, 1))
        .sum::<f64>();
    let haa: f64 = counts
        .iter()
        .map(|&(k, n)| s(a, k, 2) - s(a + b, n, 2))
        .sum();
    let hab: f64 = -counts.iter().map(|&(_, n)| s(a + b, n, 2)).sum::<f64>();
    close("∂α", ga, ea, 1e-12);
    close("∂β", gb, eb, 1e-12);
    fd2(
        "beta-binomial",
        |x, y| beta_binomial_nll(x, y, &counts),
        (a, b),
        (ga, gb),
    );
    let (_, _, (h0, h1)) = beta_binomial_nll_hvp(a, b, &counts, 1.0, 0.0);
    close("∂²α", h0, haa, 1e-12);
    close("∂α∂β", h1, hab, 1e-12);
}

/// A triangle mesh's umbrella smoothing energy: Σ over edges of w‖vᵢ − vⱼ‖², plus a pull
/// towards the original positions.
#[differentiate(hessian, wrt(verts))]
fn mesh_smoothing(verts: &[[f64; 3]], rest: &[[f64; 3]], edges: &[(usize, usize)], w: f64) -> f64 {
    let sq = |a: [f64; 3], b: [f64; 3]| (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>();
    let smooth: f64 = edges.iter().map(|&(i, j)| sq(verts[i], verts[j])).sum();
    let fidelity: f64 = verts.iter().zip(rest).map(|(v, r)| sq(*v, *r)).sum();
    w * smooth + fidelity
}

#[test]
fn mesh_laplacian_smoothing() {
    let rest = vec![
        [0.0, 0.0, 0.0],
        [1.0, 0.1, 0.0],
        [0.5, 0.9, 0.2],
        [1.4, 1.0, -0.1],
    ];
    let verts: Vec<[f64; 3]> = rest
        .iter()
        .enumerate()
        .map(|(i, p)| [p[0] + 0.05 * i as f64, p[1] - 0.03, p[2] + 0.02 * i as f64])
        .collect();
    let edges = vec![(0, 1), (1, 2), (2, 0), (1, 3), (3, 2)];
    let w = 0.7;
    let (v, g) = mesh_smoothing_grad(&verts, &rest, &edges, w);
    close("value", v, mesh_smoothing(&verts, &rest, &edges, w), TOL);
    // ∂vᵢ = 2w Σ_{edges ∋ i} (vᵢ − vⱼ) + 2(vᵢ − rᵢ); the Hessian is 2(wL + I), L the graph
    // Laplacian
    let dir: Vec<[f64; 3]> = (0..4)
        .map(|i| [0.1 * i as f64, -0.2, 0.3 - 0.1 * i as f64])
        .collect();
    let mut e: Vec<[f64; 3]> = (0..4)
        .map(|i| [0, 1, 2].map(|k| 2.0 * (verts[i][k] - rest[i][k])))
        .collect();
    let mut hv: Vec<[f64; 3]> = dir.iter().map(|d| d.map(|x| 2.0 * x)).collect();
    for &(i, j) in &edges {
        for k in 0..3 {
            e[i][k] += 2.0 * w * (verts[i][k] - verts[j][k]);
            e[j][k] -= 2.0 * w * (verts[i][k] - verts[j][k]);
            hv[i][k] += 2.0 * w * (dir[i][k] - dir[j][k]);
            hv[j][k] -= 2.0 * w * (dir[i][k] - dir[j][k]);
        }
    }
    for i in 0..4 {
        close_all("∂v", &g[i], &e[i]);
    }
    let r = gradcheck(
        |x: &Vec<[f64; 3]>| mesh_smoothing(x, &rest, &edges, w),
        &verts,
        &g,
    );
    assert!(r.passed(), "mesh: {r}");
    let (_, _, h) = mesh_smoothing_hvp(&verts, &rest, &edges, w, &dir);
    for i in 0..4 {
        close_all("H·v", &h[i], &hv[i]);
    }
}

/// A spring–damper released from a displacement, stepped by semi-implicit Euler in a `loop`
/// whose value, the displacement at the end time, is carried out by `break`.
#[differentiate(wrt(k, c))]
fn damped_release(k: f64, c: f64, x0: f64, dt: f64, t_end: f64) -> f64 {
    let (mut x, mut v, mut t) = (x0, 0.0, 0.0);
    let end = loop {
        if t >= t_end {
            break x;
        }
        v += dt * (-k * x - c * v);
        x += dt * v;
        t += dt;
    };
    end
}

#[test]
fn spring_damper_release_with_a_loop_value() {
    let (k, c, x0, dt, end) = (4.0, 0.3, 1.0, 0.01, 1.5);
    let (val, (gk, gc)) = damped_release_grad(k, c, x0, dt, end);
    close("value", val, damped_release(k, c, x0, dt, end), TOL);
    // Tangent-linear steps for a parameter p: dv ← dv + dt(−k dx − c dv − ∂ₚ(k x + c v)),
    // dx ← dx + dt·dv (the new dv)
    let tangent = |pk: f64, pc: f64| {
        let (mut x, mut v, mut t, mut dx, mut dv) = (x0, 0.0, 0.0, 0.0, 0.0);
        while t < end {
            dv += dt * (-k * dx - c * dv - pk * x - pc * v);
            v += dt * (-k * x - c * v);
            x += dt * v;
            dx += dt * dv;
            t += dt;
        }
        dx
    };
    close("∂k", gk, tangent(1.0, 0.0), 1e-12);
    close("∂c", gc, tangent(0.0, 1.0), 1e-12);
    fd2(
        "release",
        |a, b| damped_release(a, b, x0, dt, end),
        (k, c),
        (gk, gc),
    );
}

/// A mixture of linear experts under a softmax gate: ŷ = Σₖ πₖ(x)·(eₖ·x), fitted by least
/// squares over a batch.
#[differentiate]
fn moe_loss(gate: &[Vec<f64>], experts: &[Vec<f64>], xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let mut loss = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        let scores: Vec<f64> = gate.iter().map(|g| dot(g, x)).collect();
        let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
        let z: f64 = weights.iter().sum();
        let pred: f64 = weights
            .iter()
            .zip(experts)
            .map(|(w, e)| w / z * dot(e, x))
            .sum();
        loss += (pred - y).powi(2);
    }
    loss
}

#[test]
fn mixture_of_linear_experts() {
    let gate = vec![vec![0.5, -0.2], vec![-0.3, 0.4], vec![0.1, 0.1]];
    let experts = vec![vec![1.0, 0.5], vec![-0.5, 1.2], vec![0.3, -0.8]];
    let xs = vec![vec![1.0, 0.3], vec![-0.4, 0.9], vec![0.7, -1.1]];
    let ys = vec![0.9, 0.2, -0.5];
    let (v, (gg, ge, _, _)) = moe_loss_grad(&gate, &experts, &xs, &ys);
    close("value", v, moe_loss(&gate, &experts, &xs, &ys), TOL);
    // r = ŷ − y, fₖ = eₖ·x: ∂eₖ = 2r πₖ x, ∂gₖ = 2r πₖ (fₖ − ŷ) x
    let (mut eg, mut ee) = (vec![vec![0.0; 2]; 3], vec![vec![0.0; 2]; 3]);
    for (x, &y) in xs.iter().zip(&ys) {
        let s: Vec<f64> = gate.iter().map(|g| g[0] * x[0] + g[1] * x[1]).collect();
        let z: f64 = s.iter().map(|v| v.exp()).sum();
        let pi: Vec<f64> = s.iter().map(|v| v.exp() / z).collect();
        let f: Vec<f64> = experts.iter().map(|e| e[0] * x[0] + e[1] * x[1]).collect();
        let pred: f64 = (0..3).map(|k| pi[k] * f[k]).sum();
        let r = pred - y;
        for k in 0..3 {
            for j in 0..2 {
                ee[k][j] += 2.0 * r * pi[k] * x[j];
                eg[k][j] += 2.0 * r * pi[k] * (f[k] - pred) * x[j];
            }
        }
    }
    for k in 0..3 {
        close_all("∂gate", &gg[k], &eg[k]);
        close_all("∂experts", &ge[k], &ee[k]);
    }
    fd_rows("∂gate", |g| moe_loss(g, &experts, &xs, &ys), &gate, &gg);
    fd_rows("∂experts", |e| moe_loss(&gate, e, &xs, &ys), &experts, &ge);
}

/// The validation loss after training a ridge regression by gradient descent inside the
/// objective, stopped by a tolerance on the gradient's norm: the hyper-gradient in λ.
#[differentiate(wrt(lambda))]
fn ridge_hypergradient(lambda: f64, x: &[[f64; 2]], y: &[f64], xv: &[[f64; 2]], yv: &[f64]) -> f64 {
    let mut w = [0.0, 0.0];
    let lr = 0.1;
    let mut it = 0;
    loop {
        let mut g = [lambda * w[0], lambda * w[1]];
        for (row, &t) in x.iter().zip(y) {
            let r = row[0] * w[0] + row[1] * w[1] - t;
            g[0] += r * row[0];
            g[1] += r * row[1];
        }
        let norm = g[0].hypot(g[1]);
        if norm < 1e-300 || it == 40 {
            break;
        }
        w[0] -= lr * g[0];
        w[1] -= lr * g[1];
        it += 1;
    }
    xv.iter()
        .zip(yv)
        .map(|(row, &t)| (row[0] * w[0] + row[1] * w[1] - t).powi(2))
        .sum()
}

#[test]
fn ridge_hypergradient_through_training() {
    let x = vec![[1.0, 0.2], [0.5, -0.8], [-0.3, 0.9], [1.2, 0.4]];
    let y = vec![0.9, 0.6, -0.2, 1.1];
    let xv = vec![[0.8, 0.1], [-0.5, 0.5]];
    let yv = vec![0.7, -0.3];
    let lambda = 0.3;
    let (v, g) = ridge_hypergradient_grad(lambda, &x, &y, &xv, &yv);
    close(
        "value",
        v,
        ridge_hypergradient(lambda, &x, &y, &xv, &yv),
        TOL,
    );
    // Forward sensitivity of the 40 steps: dw ← dw − lr((XᵀX + λI) dw + w), with w the
    // iterate before the step; ∂λ = Σ 2 rᵥ xᵥ·dw
    let (mut w, mut dw) = ([0.0; 2], [0.0; 2]);
    for _ in 0..40 {
        let mut gr = [lambda * w[0], lambda * w[1]];
        let mut hd = [lambda * dw[0] + w[0], lambda * dw[1] + w[1]];
        for (row, &t) in x.iter().zip(&y) {
            let r = row[0] * w[0] + row[1] * w[1] - t;
            let rd = row[0] * dw[0] + row[1] * dw[1];
            for k in 0..2 {
                gr[k] += r * row[k];
                hd[k] += rd * row[k];
            }
        }
        for k in 0..2 {
            w[k] -= 0.1 * gr[k];
            dw[k] -= 0.1 * hd[k];
        }
    }
    let e: f64 = xv
        .iter()
        .zip(&yv)
        .map(|(row, &t)| {
            2.0 * (row[0] * w[0] + row[1] * w[1] - t) * (row[0] * dw[0] + row[1] * dw[1])
        })
        .sum();
    close("∂λ", g, e, 1e-12);
    fd(
        "∂λ",
        |l| ridge_hypergradient(l, &x, &y, &xv, &yv),
        lambda,
        g,
    );
}

/// The swish activation z·σ(z), for any float type (`hessian`, as a `hessian` caller needs).
#[differentiate(hessian)]
fn swish<F: Float>(z: F) -> F {
    z / (F::one() + (-z).exp())
}

/// A one-hidden-layer regression network with swish units, generic over the float type.
#[differentiate(hessian, wrt(w1, w2))]
fn swish_mlp_loss<F: Float>(w1: &[[F; 2]], w2: &[F], xs: &[[F; 2]], ys: &[F]) -> F {
    let mut loss = F::zero();
    for (x, &y) in xs.iter().zip(ys) {
        let pred = w1.iter().zip(w2).fold(F::zero(), |acc, (row, &v)| {
            acc + v * swish(row[0] * x[0] + row[1] * x[1])
        });
        loss = loss + (pred - y) * (pred - y);
    }
    loss
}

#[test]
fn swish_network_generic_in_f64_and_f32() {
    let w1 = vec![[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]];
    let w2 = vec![0.7, -0.4, 0.9];
    let xs = vec![[1.0, 0.5], [-0.3, 0.9], [0.6, -1.2], [0.0, 0.4]];
    let ys = vec![0.4, -0.1, 0.3, 0.2];
    let (v, (g1, g2)) = swish_mlp_loss_grad(&w1, &w2, &xs, &ys);
    close("value", v, swish_mlp_loss(&w1, &w2, &xs, &ys), TOL);
    // r = ŷ − y, zⱼ = w1ⱼ·x: ∂w2ⱼ = 2r swish(zⱼ), ∂w1ⱼ = 2r w2ⱼ swish′(zⱼ) x,
    // swish′(z) = σ(z)(1 + z(1 − σ(z)))
    let (mut e1, mut e2) = (vec![[0.0; 2]; 3], vec![0.0; 3]);
    for (x, &y) in xs.iter().zip(&ys) {
        let z: Vec<f64> = w1.iter().map(|r| r[0] * x[0] + r[1] * x[1]).collect();
        let pred: f64 = (0..3).map(|j| w2[j] * z[j] * sigmoid(z[j])).sum();
        let r = pred - y;
        for j in 0..3 {
            let s = sigmoid(z[j]);
            e2[j] += 2.0 * r * z[j] * s;
            for k in 0..2 {
                e1[j][k] += 2.0 * r * w2[j] * s * (1.0 + z[j] * (1.0 - s)) * x[k];
            }
        }
    }
    close_all("∂w2", &g2, &e2);
    for j in 0..3 {
        close_all("∂w1", &g1[j], &e1[j]);
    }
    let r = gradcheck(
        |p: &(Vec<[f64; 2]>, Vec<f64>)| swish_mlp_loss(&p.0, &p.1, &xs, &ys),
        &(w1.clone(), w2.clone()),
        &(g1.clone(), g2.clone()),
    );
    assert!(r.passed(), "swish mlp: {r}");
    // H·v with a direction in w2 only: the network is linear in w2, so H·v in w2 is
    // 2 Σ a (a·d), a the hidden activations
    let d2 = vec![0.3, -0.2, 0.5];
    let (_, _, (_, hv2)) = swish_mlp_loss_hvp(&w1, &w2, &xs, &ys, &vec![[0.0; 2]; 3], &d2);
    let mut e = vec![0.0; 3];
    for x in &xs {
        let a: Vec<f64> = w1
            .iter()
            .map(|r| swish(r[0] * x[0] + r[1] * x[1]))
            .collect();
        let ad: f64 = (0..3).map(|j| a[j] * d2[j]).sum();
        for j in 0..3 {
            e[j] += 2.0 * a[j] * ad;
        }
    }
    close_all("H·v in w2", &hv2, &e);
    // single precision agrees with double to its rounding
    let w1f: Vec<[f32; 2]> = w1.iter().map(|r| [r[0] as f32, r[1] as f32]).collect();
    let w2f: Vec<f32> = w2.iter().map(|&v| v as f32).collect();
    let xsf: Vec<[f32; 2]> = xs.iter().map(|r| [r[0] as f32, r[1] as f32]).collect();
    let ysf: Vec<f32> = ys.iter().map(|&v| v as f32).collect();
    let (_, (_, g2f)) = swish_mlp_loss_grad(&w1f, &w2f, &xsf, &ysf);
    for j in 0..3 {
        close("f32 ∂w2", g2f[j] as f64, g2[j], 1e-5);
    }
}

/// Labels to leave out of the loss (padding).
const IGNORE: usize = usize::MAX;

/// Class-weighted softmax cross-entropy over rows of logits, skipping padded positions with
/// `continue`.
#[differentiate(wrt(logits))]
fn weighted_xent(logits: &[Vec<f64>], labels: &[usize], class_w: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut norm = 0.0;
    for (row, &y) in logits.iter().zip(labels) {
        if y == IGNORE {
            continue;
        }
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        total += class_w[y] * (lse - row[y]);
        norm += class_w[y];
    }
    total / norm
}

#[test]
fn class_weighted_cross_entropy_with_padding() {
    let logits = vec![
        vec![1.0, 0.2, -0.5],
        vec![0.1, 0.9, 0.3],
        vec![-0.4, 0.0, 1.5],
        vec![0.7, 0.7, 0.1],
    ];
    let labels = vec![0, IGNORE, 2, 1];
    let class_w = vec![1.0, 2.0, 0.5];
    let (v, g) = weighted_xent_grad(&logits, &labels, &class_w);
    close("value", v, weighted_xent(&logits, &labels, &class_w), TOL);
    // ∂ℓᵢ = w_y (softmax(ℓᵢ) − e_y)/Σw over the kept rows; padded rows get nothing
    let norm: f64 = labels
        .iter()
        .filter(|&&y| y != IGNORE)
        .map(|&y| class_w[y])
        .sum();
    for (i, row) in logits.iter().enumerate() {
        let z: f64 = row.iter().map(|v| v.exp()).sum();
        let e: Vec<f64> = (0..3)
            .map(|k| match labels[i] {
                IGNORE => 0.0,
                y => class_w[y] * (row[k].exp() / z - if k == y { 1.0 } else { 0.0 }) / norm,
            })
            .collect();
        close_all("∂logits", &g[i], &e);
    }
    fd_rows(
        "∂logits",
        |l| weighted_xent(l, &labels, &class_w),
        &logits,
        &g,
    );
}

/// Mean–variance rebalancing with proportional transaction costs: ½λ wᵀΣw − μ·w + c Σ|w − w₀|.
#[differentiate(hessian, wrt(w))]
fn rebalance_cost(w: &[f64], w0: &[f64], mu: &[f64], cov: &[Vec<f64>], lambda: f64, c: f64) -> f64 {
    let n = w.len();
    let mut risk = 0.0;
    for i in 0..n {
        for j in 0..n {
            risk += w[i] * cov[i][j] * w[j];
        }
    }
    let ret: f64 = mu.iter().zip(w).map(|(m, x)| m * x).sum();
    let trades: f64 = w.iter().zip(w0).map(|(a, b)| (a - b).abs()).sum();
    0.5 * lambda * risk - ret + c * trades
}

#[test]
fn rebalancing_with_transaction_costs() {
    let cov = vec![
        vec![0.04, 0.01, 0.002],
        vec![0.01, 0.09, -0.01],
        vec![0.002, -0.01, 0.02],
    ];
    let mu = vec![0.06, 0.1, 0.03];
    let w0 = vec![0.3, 0.3, 0.4];
    let w = vec![0.35, 0.25, 0.4 + 1e-3];
    let (lambda, c) = (3.0, 0.002);
    let (v, g) = rebalance_cost_grad(&w, &w0, &mu, &cov, lambda, c);
    close(
        "value",
        v,
        rebalance_cost(&w, &w0, &mu, &cov, lambda, c),
        TOL,
    );
    // ∇ = λΣw − μ + c·sign(w − w₀),  ∇² = λΣ
    let dir = vec![0.2, -0.1, 0.4];
    for i in 0..3 {
        let sw: f64 = (0..3).map(|j| cov[i][j] * w[j]).sum();
        close(
            "∇",
            g[i],
            lambda * sw - mu[i] + c * (w[i] - w0[i]).signum(),
            1e-12,
        );
    }
    fd_vec(
        "∇",
        |x| rebalance_cost(x, &w0, &mu, &cov, lambda, c),
        &w,
        &g,
    );
    let (_, _, hv) = rebalance_cost_hvp(&w, &w0, &mu, &cov, lambda, c, &dir);
    for i in 0..3 {
        let e: f64 = (0..3).map(|j| lambda * cov[i][j] * dir[j]).sum();
        close("∇²·v", hv[i], e, 1e-12);
    }
}

/// A counter-flow heat exchanger's duty Q = U·A·ΔT_lm, the log-mean temperature difference of
/// the two end differences.
#[differentiate]
fn exchanger_duty(dt_hot_end: f64, dt_cold_end: f64, ua: f64) -> f64 {
    let lmtd = (dt_hot_end - dt_cold_end) / (dt_hot_end / dt_cold_end).ln();
    ua * lmtd
}

#[test]
fn heat_exchanger_log_mean_temperature_difference() {
    let (a, b, ua) = (40.0, 15.0, 2.5);
    let (v, (ga, gb, gu)) = exchanger_duty_grad(a, b, ua);
    close("value", v, exchanger_duty(a, b, ua), TOL);
    // L = ln(a/b): ∂a = UA[L − (a − b)/a]/L², ∂b = UA[−L + (a − b)/b]/L², ∂UA = ΔT_lm
    let l = (a / b).ln();
    close("∂ΔT₁", ga, ua * (l - (a - b) / a) / (l * l), 1e-12);
    close("∂ΔT₂", gb, ua * (-l + (a - b) / b) / (l * l), 1e-12);
    close("∂UA", gu, (a - b) / l, 1e-12);
    fd3("duty", exchanger_duty, (a, b, ua), (ga, gb, gu));
    let fw = forward("duty").three(
        (a, b, ua),
        exchanger_duty,
        exchanger_duty_jvp,
        exchanger_duty_vjp,
    );
    for (d, jv) in fw {
        close("tangent", jv, ga * d.0 + gb * d.1 + gu * d.2, 1e-12);
    }
}

/// Monod growth kinetics μ = μ_max S/(K_s + S), fitted to growth rates at several substrate
/// concentrations.
#[differentiate(hessian, wrt(mu_max, ks))]
fn monod_fit(mu_max: f64, ks: f64, substrate: &[f64], growth: &[f64]) -> f64 {
    let rate = |s: f64| mu_max * s / (ks + s);
    substrate
        .iter()
        .zip(growth)
        .map(|(&s, &g)| {
            let r = rate(s) - g;
            r * r
        })
        .sum()
}

#[test]
fn monod_kinetics_fit() {
    let s = vec![0.5, 1.0, 2.0, 4.0, 8.0];
    let g = vec![0.18, 0.3, 0.42, 0.52, 0.58];
    let (mm, ks) = (0.65, 1.7);
    let (v, (gm, gk)) = monod_fit_grad(mm, ks, &s, &g);
    close("value", v, monod_fit(mm, ks, &s, &g), TOL);
    // h = S/(K + S): ∂μ_max = Σ 2r h, ∂K = −Σ 2r μ_max S/(K + S)²; ∂²μ_max = 2Σ h²
    let (mut em, mut ek, mut hmm) = (0.0, 0.0, 0.0);
    for (&si, &gi) in s.iter().zip(&g) {
        let h = si / (ks + si);
        let r = mm * h - gi;
        em += 2.0 * r * h;
        ek -= 2.0 * r * mm * si / (ks + si).powi(2);
        hmm += 2.0 * h * h;
    }
    close("∂μ_max", gm, em, 1e-12);
    close("∂K", gk, ek, 1e-12);
    fd2("monod", |a, b| monod_fit(a, b, &s, &g), (mm, ks), (gm, gk));
    let (_, _, (h0, _)) = monod_fit_hvp(mm, ks, &s, &g, 1.0, 0.0);
    close("∂²μ_max", h0, hmm, 1e-12);
}

/// Kepler's equation E − e sin E = M solved by Newton's method in a `while` loop on the
/// step's size, then the true anomaly from the eccentric one.
#[differentiate]
fn true_anomaly(ecc: f64, mean_anomaly: f64) -> f64 {
    let mut e_anom = mean_anomaly;
    let mut step = 1.0;
    let mut iters = 0;
    while step.abs() > 1e-15 && iters < 50 {
        step = (e_anom - ecc * e_anom.sin() - mean_anomaly) / (1.0 - ecc * e_anom.cos());
        e_anom -= step;
        iters += 1;
    }
    let half = e_anom / 2.0;
    2.0 * ((1.0 + ecc).sqrt() * half.sin()).atan2((1.0 - ecc).sqrt() * half.cos())
}

#[test]
fn kepler_equation_by_newton_against_the_implicit_derivative() {
    let (e, m) = (0.3, 1.1);
    let (v, (ge, gm)) = true_anomaly_grad(e, m);
    close("value", v, true_anomaly(e, m), TOL);
    // At the root: ∂E/∂M = 1/(1 − e cos E), ∂E/∂e = sin E/(1 − e cos E). The true anomaly
    // ν = 2 atan(√((1 + e)/(1 − e)) tan(E/2)) has ∂ν/∂E = √(1 − e²)/(1 − e cos E) and
    // ∂ν/∂e|_E = sin ν/(1 − e²) = sin E/((1 − e cos E)√(1 − e²)).
    let mut ea = m;
    for _ in 0..50 {
        ea -= (ea - e * ea.sin() - m) / (1.0 - e * ea.cos());
    }
    let den = 1.0 - e * ea.cos();
    let root = (1.0 - e * e).sqrt();
    let dnu_de_anom = root / den;
    close("∂M", gm, dnu_de_anom / den, 1e-12);
    close(
        "∂e",
        ge,
        dnu_de_anom * ea.sin() / den + ea.sin() / (den * root),
        1e-12,
    );
    fd2("kepler", true_anomaly, (e, m), (ge, gm));
}

/// A rocket stage: specific impulse and its wet and dry masses (data).
#[derive(Clone, Copy)]
struct Stage2 {
    isp: f64,
    propellant: f64,
    dry: f64,
}

/// The ideal Δv of a multi-stage rocket carrying a payload, by the Tsiolkovsky equation stage
/// after stage (the upper stages ride on the lower ones), in the payload mass and g₀.
#[differentiate(wrt(payload))]
fn staged_delta_v(payload: f64, stages: &[Stage2], g0: f64) -> f64 {
    let mut above: f64 = payload + stages.iter().map(|s| s.propellant + s.dry).sum::<f64>();
    let mut dv = 0.0;
    for s in stages {
        let m0 = above;
        let mf = above - s.propellant;
        dv += s.isp * g0 * (m0 / mf).ln();
        above = mf - s.dry;
    }
    dv
}

#[test]
fn multistage_rocket_delta_v() {
    let stages = vec![
        Stage2 {
            isp: 280.0,
            propellant: 400.0,
            dry: 40.0,
        },
        Stage2 {
            isp: 320.0,
            propellant: 90.0,
            dry: 10.0,
        },
        Stage2 {
            isp: 340.0,
            propellant: 20.0,
            dry: 3.0,
        },
    ];
    let (payload, g0) = (5.0, 9.80665);
    let (v, g) = staged_delta_v_grad(payload, &stages, g0);
    close("value", v, staged_delta_v(payload, &stages, g0), TOL);
    // Each stage's masses include the payload additively: ∂Δv/∂m_p = Σ Isp g₀ (1/m₀ − 1/m_f)
    let mut above = payload + stages.iter().map(|s| s.propellant + s.dry).sum::<f64>();
    let mut e = 0.0;
    for s in &stages {
        let mf = above - s.propellant;
        e += s.isp * g0 * (1.0 / above - 1.0 / mf);
        above = mf - s.dry;
    }
    close("∂payload", g, e, 1e-12);
    fd("∂payload", |p| staged_delta_v(p, &stages, g0), payload, g);
}

/// Top-k mean pooling: the scores sorted in decreasing order into a copy, the first k taken.
#[differentiate]
fn top_k_mean(scores: &[f64], k: usize) -> f64 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
    sorted.iter().take(k).sum::<f64>() / k as f64
}

#[test]
fn top_k_mean_pooling() {
    let scores = vec![0.3, 1.7, -0.2, 0.9, 1.1, 0.05];
    let (v, g) = top_k_mean_grad(&scores, 3);
    close("value", v, top_k_mean(&scores, 3), TOL);
    close("value by hand", v, (1.7 + 1.1 + 0.9) / 3.0, 1e-15);
    // ∂sᵢ = 1/k for the k largest, 0 for the others
    close_all("∂s", &g, &[0.0, 1.0 / 3.0, 0.0, 1.0 / 3.0, 1.0 / 3.0, 0.0]);
    fd_vec("∂s", |s| top_k_mean(s, 3), &scores, &g);
}

/// The energy of the difference between a signal's even and odd polyphase components, read
/// by `step_by(2)` and `skip(1).step_by(2)` zipped.
#[differentiate(hessian)]
fn polyphase_mismatch(x: &[f64]) -> f64 {
    x.iter()
        .step_by(2)
        .zip(x.iter().skip(1).step_by(2))
        .map(|(a, b)| (a - b).powi(2))
        .sum()
}

#[test]
fn polyphase_components_by_step_by() {
    let x = data(7, 1.3);
    let (v, g) = polyphase_mismatch_grad(&x);
    close("value", v, polyphase_mismatch(&x), TOL);
    // pairs (x₀, x₁), (x₂, x₃), (x₄, x₅); x₆ unpaired: ∂x₂ᵢ = 2(x₂ᵢ − x₂ᵢ₊₁) = −∂x₂ᵢ₊₁
    let mut e = vec![0.0; 7];
    for i in 0..3 {
        let d = x[2 * i] - x[2 * i + 1];
        e[2 * i] = 2.0 * d;
        e[2 * i + 1] = -2.0 * d;
    }
    close_all("∂x", &g, &e);
    fd_vec("∂x", polyphase_mismatch, &x, &g);
    let dir = data(7, 4.0);
    let (_, _, hv) = polyphase_mismatch_hvp(&x, &dir);
    let eh: Vec<f64> = (0..7)
        .map(|i| match i {
            6 => 0.0,
            i if i % 2 == 0 => 2.0 * (dir[i] - dir[i + 1]),
            i => -2.0 * (dir[i - 1] - dir[i]),
        })
        .collect();
    close_all("H·v", &hv, &eh);
}

/// A block-diagonal quadratic form over pairs of coordinates, each block weighted by its
/// position: Σ_b w_b (c₀² + c₀c₁ + c₁²) through `chunks(2).enumerate()`.
#[differentiate(hessian, wrt(x))]
fn block_quadratic(x: &[f64], weights: &[f64]) -> f64 {
    x.chunks(2)
        .enumerate()
        .map(|(b, c)| weights[b] * (c[0] * c[0] + c[0] * c[1] + c[1] * c[1]))
        .sum()
}

#[test]
fn block_diagonal_quadratic_over_chunks() {
    let x = vec![0.5, -1.0, 0.3, 0.8, -0.6, 0.2];
    let w = vec![1.0, 2.0, 0.5];
    let (v, g) = block_quadratic_grad(&x, &w);
    close("value", v, block_quadratic(&x, &w), TOL);
    // ∂c₀ = w(2c₀ + c₁), ∂c₁ = w(c₀ + 2c₁); H = w [[2, 1], [1, 2]] per block
    let dir = vec![0.1, 0.2, -0.3, 0.4, 0.5, -0.6];
    let (_, _, hv) = block_quadratic_hvp(&x, &w, &dir);
    for b in 0..3 {
        let (c0, c1) = (x[2 * b], x[2 * b + 1]);
        close("∂c₀", g[2 * b], w[b] * (2.0 * c0 + c1), 1e-12);
        close("∂c₁", g[2 * b + 1], w[b] * (c0 + 2.0 * c1), 1e-12);
        let (d0, d1) = (dir[2 * b], dir[2 * b + 1]);
        close("H·v₀", hv[2 * b], w[b] * (2.0 * d0 + d1), 1e-12);
        close("H·v₁", hv[2 * b + 1], w[b] * (d0 + 2.0 * d1), 1e-12);
    }
    fd_vec("∂x", |x| block_quadratic(x, &w), &x, &g);
}

/// The launch angle of a projectile on flat ground fitted so that it lands at a target:
/// range v² sin 2θ / g, the angle shadowed from degrees to radians first.
#[differentiate(wrt(theta_deg, speed))]
fn landing_miss(theta_deg: f64, speed: f64, target: f64, g: f64) -> f64 {
    let theta = theta_deg.to_radians();
    let range = speed * speed * (2.0 * theta).sin() / g;
    let range = range.max(0.0);
    (range - target).powi(2)
}

#[test]
fn projectile_launch_angle_to_hit_a_target() {
    let (th, v, target, g) = (35.0, 20.0, 30.0, 9.81);
    let (val, (gt, gv)) = landing_miss_grad(th, v, target, g);
    close("value", val, landing_miss(th, v, target, g), TOL);
    // R = v² sin 2θ/g: ∂θ° = 2(R − T)·(2v² cos 2θ/g)·π/180, ∂v = 2(R − T)·2v sin 2θ/g
    let t = th.to_radians();
    let r = v * v * (2.0 * t).sin() / g;
    close(
        "∂θ",
        gt,
        2.0 * (r - target) * 2.0 * v * v * (2.0 * t).cos() / g * PI_180,
        1e-12,
    );
    close(
        "∂v",
        gv,
        2.0 * (r - target) * 2.0 * v * (2.0 * t).sin() / g,
        1e-12,
    );
    fd2(
        "landing",
        |a, b| landing_miss(a, b, target, g),
        (th, v),
        (gt, gv),
    );
    let fw = forward("landing").two(
        (th, v),
        |a, b| landing_miss(a, b, target, g),
        |a, b, da, db| landing_miss_jvp(a, b, target, g, da, db),
        |a, b| landing_miss_vjp(a, b, target, g),
    );
    tangents_are2("landing", &fw, (gt, gv), 1e-12);
}

const PI_180: f64 = std::f64::consts::PI / 180.0;
