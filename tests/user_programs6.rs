//! Programs as Rust engineers write them when they fit statistical models, filter signals,
//! simulate small physical systems and train small networks, in domains the earlier files
//! leave out: likelihoods with a hand-written `ln_gamma` (Student-t, Poisson, negative
//! binomial), KL divergences, robust and sparse regression objectives, mixtures; convolutions,
//! FIR/IIR filters, moving averages, autocorrelation and total variation over slices;
//! Euler/leapfrog steps over a `Vec` of structs, a heat equation with a swapped scratch buffer;
//! layer norm, attention, GRU/RNN cells, batch norm and embeddings over `ndarray`; Newton steps,
//! bisection, interpolation and quadrature inside objectives.
//!
//! Then the forms these programs found rejected, followed now: the user's methods on the items
//! of `iter_mut()` over a `Vec` of structs (`b.force(k)`); the `Option` of `max_by` and its kin
//! taken apart by `match`, `if let` or `unwrap_or` (also through `let best = ..`);
//! `std::iter::zip(a, b)`; `collect::<Array1<f64>>()` and `Array1::from_iter(chain)`; and
//! `s![i..i + k.len()]` with the length of a differentiated array. Their forward mode is checked
//! too.
//!
//! Each gradient is checked against its analytic form (stated beside the function) where it is
//! short, and against central finite differences through `autodiff::check`; each value against
//! the plain function's.

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
    clippy::manual_unwrap_or
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis};
use num_traits::Float;
use std::f64::consts::PI;

mod common;
use common::*;

const XS: [f64; 7] = [0.3, -0.5, 1.2, 0.8, -0.1, 0.65, 1.9];

// ---------------------------------------------------------------------------------------------
// Statistics: likelihoods with a hand-written log-gamma.
// ---------------------------------------------------------------------------------------------

/// ln Γ(x) by the recurrence Γ(x) = Γ(x + 1)/x up to x ≥ 7 and the Stirling series there.
#[differentiate]
fn ln_gamma(x: f64) -> f64 {
    let mut x = x;
    let mut shift = 0.0;
    while x < 7.0 {
        shift -= x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)));
    shift + (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + series
}

/// The digamma function ψ = (ln Γ)′, by the same recurrence and the asymptotic series.
fn digamma(x: f64) -> f64 {
    let mut x = x;
    let mut acc = 0.0;
    while x < 7.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let inv2 = 1.0 / (x * x);
    acc + x.ln() - 0.5 / x - inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 / 252.0))
}

#[test]
fn ln_gamma_by_recurrence_and_series() {
    for x in [0.7, 1.5, 3.2, 9.5] {
        let (v, g) = ln_gamma_grad(x);
        close("value", v, ln_gamma(x), TOL);
        // Γ(1.5) = √π/2
        if x == 1.5 {
            close("ln Γ(1.5)", v, (PI.sqrt() / 2.0).ln(), 1e-10);
        }
        close("ψ", g, digamma(x), 1e-9);
        fd("ln_gamma", ln_gamma, x, g);
    }
}

/// Student-t negative log-likelihood with location μ, scale e^{log_s} and ν degrees of freedom:
/// per point, with r = (x − μ)/s, ℓ = −lnΓ((ν+1)/2) + lnΓ(ν/2) + ½ln(νπ) + ln s
/// + (ν+1)/2·ln(1 + r²/ν); so ∂μ = −Σ (ν+1)r / (s(ν + r²)), ∂log_s = Σ 1 − (ν+1)r²/(ν + r²),
/// ∂ν = Σ −½ψ((ν+1)/2) + ½ψ(ν/2) + 1/(2ν) + ½ln(1 + r²/ν) − (ν+1)r²/(2ν(ν + r²)).
#[differentiate]
fn student_t_nll(mu: f64, log_s: f64, nu: f64, xs: &[f64]) -> f64 {
    let s = log_s.exp();
    let norm = ln_gamma(0.5 * nu) - ln_gamma(0.5 * (nu + 1.0)) + 0.5 * (nu * PI).ln() + log_s;
    let mut total = 0.0;
    for &x in xs {
        let r = (x - mu) / s;
        total += norm + 0.5 * (nu + 1.0) * (1.0 + r * r / nu).ln();
    }
    total
}

#[test]
fn student_t_likelihood() {
    let (mu, ls, nu) = (0.4, -0.2, 3.5);
    let (v, (gm, gs, gn, gx)) = student_t_nll_grad(mu, ls, nu, &XS);
    close("value", v, student_t_nll(mu, ls, nu, &XS), TOL);
    let s = f64::exp(ls);
    let (mut wm, mut ws, mut wn) = (0.0, 0.0, 0.0);
    for &x in &XS {
        let r = (x - mu) / s;
        wm -= (nu + 1.0) * r / (s * (nu + r * r));
        ws += 1.0 - (nu + 1.0) * r * r / (nu + r * r);
        wn += -0.5 * digamma(0.5 * (nu + 1.0))
            + 0.5 * digamma(0.5 * nu)
            + 0.5 / nu
            + 0.5 * (1.0 + r * r / nu).ln()
            - (nu + 1.0) * r * r / (2.0 * nu * (nu + r * r));
    }
    close("∂μ", gm, wm, 1e-12);
    close("∂log_s", gs, ws, 1e-12);
    close("∂ν", gn, wn, 1e-9);
    let r = gradcheck(
        |p: &Vec<f64>| student_t_nll(p[0], p[1], p[2], &XS),
        &vec![mu, ls, nu],
        &vec![gm, gs, gn],
    );
    assert!(r.passed(), "{r}");
    fd_vec("∂x", |x| student_t_nll(mu, ls, nu, x), &XS, &gx);
}

/// Poisson regression with a log link and counts as integers: λᵢ = exp(a + b·tᵢ),
/// nll = Σ λᵢ − yᵢ·ln λᵢ + ln(yᵢ!); ∂a = Σ (λᵢ − yᵢ), ∂b = Σ (λᵢ − yᵢ)·tᵢ.
#[differentiate]
fn poisson_nll(a: f64, b: f64, t: &[f64], counts: &[u32]) -> f64 {
    t.iter()
        .zip(counts)
        .map(|(&ti, &k)| {
            let eta = a + b * ti;
            let log_fact: f64 = (1..=k).map(|j| (j as f64).ln()).sum();
            eta.exp() - k as f64 * eta + log_fact
        })
        .sum()
}

#[test]
fn poisson_regression_with_integer_counts() {
    let t = [0.0, 0.5, 1.0, 1.5, 2.0];
    let counts = [1u32, 2, 2, 5, 7];
    let (a, b) = (0.2, 0.8);
    let (v, (ga, gb, _)) = poisson_nll_grad(a, b, &t, &counts);
    close("value", v, poisson_nll(a, b, &t, &counts), TOL);
    let (mut wa, mut wb) = (0.0, 0.0);
    for (&ti, &k) in t.iter().zip(&counts) {
        let r = (a + b * ti).exp() - k as f64;
        wa += r;
        wb += r * ti;
    }
    close2("gradient", (ga, gb), (wa, wb));
    fd2(
        "poisson",
        |a, b| poisson_nll(a, b, &t, &counts),
        (a, b),
        (ga, gb),
    );
}

/// Negative binomial with mean μ = e^{m} and dispersion r = e^{log_r}:
/// ln p(y) = lnΓ(y + r) − lnΓ(r) − lnΓ(y + 1) + r·ln(r/(r + μ)) + y·ln(μ/(r + μ)).
/// ∂m of −Σ ln p = −Σ μ·(y/μ − (y + r)/(r + μ)) = Σ r(μ − y)/(r + μ);
/// ∂log_r = −Σ r·(ψ(y + r) − ψ(r) + ln(r/(r + μ)) + 1 − (y + r)/(r + μ)).
#[differentiate]
fn neg_binomial_nll(m: f64, log_r: f64, ys: &[u32]) -> f64 {
    let mu = m.exp();
    let r = log_r.exp();
    let mut nll = 0.0;
    for &y in ys {
        let y = y as f64;
        let lp = ln_gamma(y + r) - ln_gamma(r) - ln_gamma(y + 1.0)
            + r * (r / (r + mu)).ln()
            + y * (mu / (r + mu)).ln();
        nll -= lp;
    }
    nll
}

#[test]
fn negative_binomial_with_ln_gamma() {
    let ys = [0u32, 3, 1, 8, 2, 4];
    let (m, lr) = (1.1, 0.3);
    let (v, g) = neg_binomial_nll_grad(m, lr, &ys);
    close("value", v, neg_binomial_nll(m, lr, &ys), TOL);
    let (mu, r) = (f64::exp(m), f64::exp(lr));
    let (mut wm, mut wr) = (0.0, 0.0);
    for &y in &ys {
        let y = y as f64;
        wm += r * (mu - y) / (r + mu);
        wr -= r * (digamma(y + r) - digamma(r) + (r / (r + mu)).ln() + 1.0 - (y + r) / (r + mu));
    }
    close("∂m", g.0, wm, 1e-12);
    close("∂log_r", g.1, wr, 1e-9);
    fd2(
        "neg binomial",
        |m, l| neg_binomial_nll(m, l, &ys),
        (m, lr),
        g,
    );
}

// ---------------------------------------------------------------------------------------------
// Statistics: softmax, divergences, robust and sparse objectives, mixtures.
// ---------------------------------------------------------------------------------------------

/// Softmax with a temperature, written stably, and the negative log-probability of one label:
/// with p = softmax(z/T), ∂zⱼ = (pⱼ − δⱼₗ)/T and ∂T = −Σⱼ (pⱼ − δⱼₗ)·zⱼ/T².
#[differentiate]
fn tempered_nll(logits: &[f64], temp: f64, label: usize) -> f64 {
    let scaled: Vec<f64> = logits.iter().map(|z| z / temp).collect();
    let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum_exp: f64 = scaled.iter().map(|s| (s - max).exp()).sum();
    let log_z = max + sum_exp.ln();
    log_z - scaled[label]
}

#[test]
fn tempered_softmax_nll() {
    let z = [0.3, 1.4, -0.6, 0.9];
    let t = 0.7;
    let (v, (gz, gt)) = tempered_nll_grad(&z, t, 2);
    close("value", v, tempered_nll(&z, t, 2), TOL);
    let e: Vec<f64> = z.iter().map(|v| (v / t).exp()).collect();
    let s: f64 = e.iter().sum();
    let mut wt = 0.0;
    for j in 0..4 {
        let d = e[j] / s - if j == 2 { 1.0 } else { 0.0 };
        close("∂z", gz[j], d / t, 1e-12);
        wt -= d * z[j] / (t * t);
    }
    close("∂T", gt, wt, 1e-12);
    fd_vec("∂z", |z| tempered_nll(z, t, 2), &z, &gz);
    fd("∂T", |t| tempered_nll(&z, t, 2), t, gt);
}

/// KL(softmax(a) ‖ softmax(b)) = Σ pᵢ (ln pᵢ − ln qᵢ) with both log-softmaxes written out:
/// ∂bⱼ = qⱼ − pⱼ.
#[differentiate]
fn kl_logits(a: &[f64], b: &[f64]) -> f64 {
    #[differentiate]
    fn log_softmax(x: &[f64]) -> Vec<f64> {
        let m = x.iter().cloned().fold(f64::MIN, f64::max);
        let lse = m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        x.iter().map(|v| v - lse).collect()
    }
    let la = log_softmax(a);
    let lb = log_softmax(b);
    la.iter().zip(&lb).map(|(x, y)| x.exp() * (x - y)).sum()
}

#[test]
fn kl_between_categoricals() {
    let a = [0.2, -0.4, 1.1, 0.5];
    let b = [0.9, 0.1, -0.3, 0.2];
    let (v, (ga, gb)) = kl_logits_grad(&a, &b);
    close("value", v, kl_logits(&a, &b), TOL);
    let p = softmax_of(&a);
    let q = softmax_of(&b);
    let want: Vec<f64> = q.iter().zip(&p).map(|(q, p)| q - p).collect();
    close_all("∂b", &gb, &want);
    fd_vec("∂a", |a| kl_logits(a, &b), &a, &ga);
    fd_vec("∂b", |b| kl_logits(&a, b), &b, &gb);
}

fn softmax_of(x: &[f64]) -> Vec<f64> {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

/// KL(N(μ₁, σ₁²) ‖ N(μ₂, σ₂²)) = ln(σ₂/σ₁) + (σ₁² + (μ₁ − μ₂)²)/(2σ₂²) − ½, returned from a
/// helper as a tuple with the squared distance: ∂μ₁ = (μ₁ − μ₂)/σ₂², ∂σ₁ = −1/σ₁ + σ₁/σ₂²,
/// ∂σ₂ = 1/σ₂ − (σ₁² + (μ₁ − μ₂)²)/σ₂³.
#[differentiate]
fn gauss_kl(mu1: f64, s1: f64, mu2: f64, s2: f64) -> f64 {
    let (kl, _d2) = kl_and_dist(mu1, s1, mu2, s2);
    kl
}

#[differentiate]
fn kl_and_dist(mu1: f64, s1: f64, mu2: f64, s2: f64) -> (f64, f64) {
    let d2 = (mu1 - mu2).powi(2);
    let kl = (s2 / s1).ln() + (s1 * s1 + d2) / (2.0 * s2 * s2) - 0.5;
    (kl, d2)
}

#[test]
fn gaussian_kl_through_a_tuple_helper() {
    let p = vec![0.3, 0.8, -0.2, 1.3];
    let (v, g) = gauss_kl_grad(p[0], p[1], p[2], p[3]);
    close("value", v, gauss_kl(p[0], p[1], p[2], p[3]), TOL);
    let (m1, s1, m2, s2) = (p[0], p[1], p[2], p[3]);
    close("∂μ₁", g.0, (m1 - m2) / (s2 * s2), 1e-12);
    close("∂σ₁", g.1, -1.0 / s1 + s1 / (s2 * s2), 1e-12);
    close("∂μ₂", g.2, -(m1 - m2) / (s2 * s2), 1e-12);
    close(
        "∂σ₂",
        g.3,
        1.0 / s2 - (s1 * s1 + (m1 - m2).powi(2)) / s2.powi(3),
        1e-12,
    );
    let r = gradcheck(
        |p: &Vec<f64>| gauss_kl(p[0], p[1], p[2], p[3]),
        &p,
        &vec![g.0, g.1, g.2, g.3],
    );
    assert!(r.passed(), "{r}");
}

/// Tukey's biweight loss with `if`/`else` on |r|: ρ(r) = c²/6·(1 − (1 − (r/c)²)³) for
/// |r| ≤ c, c²/6 beyond; ψ(r) = r(1 − (r/c)²)² inside, 0 outside: ∂predᵢ = ψ(predᵢ − yᵢ).
#[differentiate]
fn tukey(pred: &[f64], y: &[f64], c: f64) -> f64 {
    let mut loss = 0.0;
    for i in 0..pred.len() {
        let r = pred[i] - y[i];
        loss += if r.abs() <= c {
            let u = 1.0 - (r / c).powi(2);
            c * c / 6.0 * (1.0 - u * u * u)
        } else {
            c * c / 6.0
        };
    }
    loss
}

#[test]
fn tukey_biweight() {
    let pred = [0.3, 1.5, -0.2, 2.9, 0.6];
    let y = [0.1, 0.9, 0.4, 0.2, 0.5];
    let c = 1.2;
    let (v, (gp, _, _)) = tukey_grad(&pred, &y, c);
    close("value", v, tukey(&pred, &y, c), TOL);
    let want: Vec<f64> = pred
        .iter()
        .zip(&y)
        .map(|(p, y)| {
            let r = p - y;
            if r.abs() <= c {
                r * (1.0 - (r / c).powi(2)).powi(2)
            } else {
                0.0
            }
        })
        .collect();
    close_all("∂pred", &gp, &want);
    fd_vec("tukey", |p| tukey(p, &y, c), &pred, &gp);
}

/// Weighted least squares with the design as rows of a fixed-size array:
/// L = Σ wᵢ (yᵢ − βᵀxᵢ)², ∂β = −2 Σ wᵢ rᵢ xᵢ.
#[differentiate(wrt(beta))]
fn wls(beta: &[f64], rows: &[[f64; 3]], y: &[f64], w: &[f64]) -> f64 {
    let mut total = 0.0;
    for (i, row) in rows.iter().enumerate() {
        let pred: f64 = row.iter().zip(beta).map(|(x, b)| x * b).sum();
        let r = y[i] - pred;
        total += w[i] * r * r;
    }
    total
}

#[test]
fn weighted_least_squares_over_array_rows() {
    let rows = [
        [1.0, 0.3, -0.2],
        [1.0, -0.5, 0.8],
        [1.0, 1.2, 0.1],
        [1.0, 0.7, -0.9],
    ];
    let y = [0.4, -0.3, 1.1, 0.2];
    let w = [1.0, 0.5, 2.0, 0.8];
    let beta = [0.1, 0.6, -0.4];
    let (v, gb) = wls_grad(&beta, &rows, &y, &w);
    close("value", v, wls(&beta, &rows, &y, &w), TOL);
    let mut want = [0.0; 3];
    for i in 0..4 {
        let r = y[i] - (0..3).map(|j| rows[i][j] * beta[j]).sum::<f64>();
        for j in 0..3 {
            want[j] -= 2.0 * w[i] * r * rows[i][j];
        }
    }
    close_all("∂β", &gb, &want);
    fd_vec("wls", |b| wls(b, &rows, &y, &w), &beta, &gb);
}

/// Ridge regression on ndarray: L = ‖Xw − y‖²/n + λ‖w‖²; ∂w = 2Xᵀr/n + 2λw, ∂λ = ‖w‖².
#[differentiate(wrt(w, lambda))]
fn ridge(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>, lambda: f64) -> f64 {
    let n = x.nrows() as f64;
    let r = x.dot(w) - y;
    r.dot(&r) / n + lambda * w.dot(w)
}

#[test]
fn ridge_objective() {
    let x = matrix(6, 3, 1.0);
    let y = vector(6, 2.0);
    let w = vector(3, 3.0);
    let lambda = 0.3;
    let (v, (gw, gl)) = ridge_grad(&w, &x, &y, lambda);
    close("value", v, ridge(&w, &x, &y, lambda), TOL);
    let r = x.dot(&w) - &y;
    let want = x.t().dot(&r) * (2.0 / 6.0) + &w * (2.0 * lambda);
    close_all("∂w", gw.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂λ", gl, w.dot(&w), 1e-12);
    fd_array("ridge", |w| ridge(w, &x, &y, lambda), &w, &gw);
}

/// Lasso: ½Σ(yᵢ − wᵀxᵢ)² + λΣ|wⱼ| with the design flat in row-major order and the penalty an
/// iterator chain: ∂w = −Σ rᵢ xᵢ + λ·sign(w).
#[differentiate(wrt(w))]
fn lasso(w: &[f64], x: &[f64], y: &[f64], lambda: f64) -> f64 {
    let d = w.len();
    let fit: f64 = x
        .chunks(d)
        .zip(y)
        .map(|(row, &yi)| {
            let r = yi - row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>();
            0.5 * r * r
        })
        .sum();
    fit + lambda * w.iter().map(|v| v.abs()).sum::<f64>()
}

#[test]
fn lasso_with_chunks() {
    let x = data(12, 1.0);
    let y = [0.5, -0.2, 0.9, 0.1];
    let w = [0.4, -0.3, 0.2];
    let lambda = 0.25;
    let (v, gw) = lasso_grad(&w, &x, &y, lambda);
    close("value", v, lasso(&w, &x, &y, lambda), TOL);
    let mut want: Vec<f64> = w.iter().map(|v| lambda * v.signum()).collect();
    for i in 0..4 {
        let r = y[i] - (0..3).map(|j| x[3 * i + j] * w[j]).sum::<f64>();
        for j in 0..3 {
            want[j] -= r * x[3 * i + j];
        }
    }
    close_all("∂w", &gw, &want);
    fd_vec("lasso", |w| lasso(w, &x, &y, lambda), &w, &gw);
}

/// Gaussian mixture negative log-likelihood, each point's log-sum-exp over components written
/// stably: with γᵢₖ the responsibilities, ∂μₖ = −Σᵢ γᵢₖ (xᵢ − μₖ)/σₖ².
#[differentiate]
fn gmm_nll(means: &[f64], log_sds: &[f64], logits: &[f64], xs: &[f64]) -> f64 {
    let k = means.len();
    let lmax = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let log_norm = lmax + logits.iter().map(|l| (l - lmax).exp()).sum::<f64>().ln();
    let mut nll = 0.0;
    for &x in xs {
        let mut terms = Vec::with_capacity(k);
        for j in 0..k {
            let s = log_sds[j].exp();
            let z = (x - means[j]) / s;
            terms.push(logits[j] - log_norm - 0.5 * z * z - log_sds[j] - 0.5 * (2.0 * PI).ln());
        }
        let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        nll -= m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
    }
    nll
}

#[test]
fn gaussian_mixture_nll() {
    let means = [-0.4, 0.9];
    let log_sds = [-0.3, 0.1];
    let logits = [0.2, -0.1];
    let (v, (gm, gs, gl, gx)) = gmm_nll_grad(&means, &log_sds, &logits, &XS);
    close("value", v, gmm_nll(&means, &log_sds, &logits, &XS), TOL);
    let pw = softmax_of(&logits);
    let mut want = [0.0; 2];
    for &x in &XS {
        let dens: Vec<f64> = (0..2)
            .map(|j| {
                let s = f64::exp(log_sds[j]);
                pw[j] * (-0.5 * ((x - means[j]) / s).powi(2)).exp() / s
            })
            .collect();
        let tot: f64 = dens.iter().sum();
        for j in 0..2 {
            let s2 = f64::exp(2.0 * log_sds[j]);
            want[j] -= dens[j] / tot * (x - means[j]) / s2;
        }
    }
    close_all("∂μ", &gm, &want);
    fd_vec("∂μ", |m| gmm_nll(m, &log_sds, &logits, &XS), &means, &gm);
    fd_vec(
        "∂log σ",
        |s| gmm_nll(&means, s, &logits, &XS),
        &log_sds,
        &gs,
    );
    fd_vec(
        "∂logits",
        |l| gmm_nll(&means, &log_sds, l, &XS),
        &logits,
        &gl,
    );
    fd_vec("∂x", |x| gmm_nll(&means, &log_sds, &logits, x), &XS, &gx);
}

/// Leave-one-out log-likelihood of a Gaussian kernel density estimate, the kernel a closure:
/// fd only (the bandwidth's derivative is a ratio of sums).
#[differentiate(wrt(h))]
fn loo_kde(h: f64, xs: &[f64]) -> f64 {
    let n = xs.len();
    let kernel = |u: f64| (-0.5 * u * u).exp() / (2.0 * PI).sqrt();
    let mut ll = 0.0;
    for i in 0..n {
        let mut dens = 0.0;
        for j in 0..n {
            if i == j {
                continue;
            }
            dens += kernel((xs[i] - xs[j]) / h) / h;
        }
        ll += (dens / (n - 1) as f64).ln();
    }
    ll
}

#[test]
fn leave_one_out_kde_bandwidth() {
    let h = 0.45;
    let (v, g) = loo_kde_grad(h, &XS);
    close("value", v, loo_kde(h, &XS), TOL);
    // ∂/∂h of K(d/h)/h = K(d/h)·(d²/h² − 1)/h
    let mut want = 0.0;
    for i in 0..XS.len() {
        let (mut dens, mut ddens) = (0.0, 0.0);
        for j in 0..XS.len() {
            if i != j {
                let u = (XS[i] - XS[j]) / h;
                let k = (-0.5 * u * u).exp() / (2.0 * PI).sqrt() / h;
                dens += k;
                ddens += k * (u * u - 1.0) / h;
            }
        }
        want += ddens / dens;
    }
    close("∂h", g, want, 1e-12);
    fd("kde", |h| loo_kde(h, &XS), h, g);
}

// ---------------------------------------------------------------------------------------------
// Signal processing.
// ---------------------------------------------------------------------------------------------

/// Valid 1-D cross-correlation through `windows`, returned as a `Vec`.
#[differentiate]
fn correlate(x: &[f64], k: &[f64]) -> Vec<f64> {
    x.windows(k.len())
        .map(|w| w.iter().zip(k).map(|(a, b)| a * b).sum())
        .collect()
}

/// Output energy of the correlation: yᵢ = Σⱼ kⱼ xᵢ₊ⱼ, L = Σ yᵢ²; ∂kⱼ = 2Σᵢ yᵢ xᵢ₊ⱼ,
/// ∂xₘ = 2Σⱼ y₍ₘ₋ⱼ₎ kⱼ.
#[differentiate]
fn conv_energy(x: &[f64], k: &[f64]) -> f64 {
    let y = correlate(x, k);
    y.iter().map(|v| v * v).sum()
}

#[test]
fn convolution_through_windows() {
    let x = data(9, 0.5);
    let k = [0.25, -0.5, 0.75];
    let (v, (gx, gk)) = conv_energy_grad(&x, &k);
    close("value", v, conv_energy(&x, &k), TOL);
    let y: Vec<f64> = (0..7)
        .map(|i| (0..3).map(|j| k[j] * x[i + j]).sum())
        .collect();
    let mut wk = [0.0; 3];
    let mut wx = vec![0.0; 9];
    for i in 0..7 {
        for j in 0..3 {
            wk[j] += 2.0 * y[i] * x[i + j];
            wx[i + j] += 2.0 * y[i] * k[j];
        }
    }
    close_all("∂k", &gk, &wk);
    close_all("∂x", &gx, &wx);
    fd_vec("∂k", |k| conv_energy(&x, k), &k, &gk);
}

/// A causal FIR filter with zero initial conditions, yₙ = Σₖ bₖ xₙ₋ₖ (n − k ≥ 0), fitted to a
/// target: L = Σ (yₙ − tₙ)²; ∂bₖ = 2Σₙ eₙ xₙ₋ₖ.
#[differentiate(wrt(b))]
fn fir_fit(b: &[f64], x: &[f64], target: &[f64]) -> f64 {
    let mut loss = 0.0;
    for n in 0..x.len() {
        let mut y = 0.0;
        for k in 0..b.len() {
            if n >= k {
                y += b[k] * x[n - k];
            }
        }
        let e = y - target[n];
        loss += e * e;
    }
    loss
}

#[test]
fn fir_filter_fit() {
    let x = data(10, 1.5);
    let t = data(10, 7.0);
    let b = [0.5, 0.3, -0.2, 0.1];
    let (v, gb) = fir_fit_grad(&b, &x, &t);
    close("value", v, fir_fit(&b, &x, &t), TOL);
    let mut want = [0.0; 4];
    for n in 0..10 {
        let y: f64 = (0..4).filter(|&k| n >= k).map(|k| b[k] * x[n - k]).sum();
        for k in 0..4 {
            if n >= k {
                want[k] += 2.0 * (y - t[n]) * x[n - k];
            }
        }
    }
    close_all("∂b", &gb, &want);
    fd_vec("fir", |b| fir_fit(b, &x, &t), &b, &gb);
}

/// A one-pole IIR low-pass, yₙ = a·yₙ₋₁ + (1 − a)·xₙ with y₋₁ = 0, the outputs pushed to a
/// `Vec` and summed: ∂xₘ = (1 − a)Σ_{n≥m} a^{n−m} = 1 − a^{N−m}.
#[differentiate]
fn one_pole(a: f64, x: &[f64]) -> f64 {
    let mut out = Vec::with_capacity(x.len());
    let mut prev = 0.0;
    for &v in x {
        prev = a * prev + (1.0 - a) * v;
        out.push(prev);
    }
    out.iter().sum()
}

#[test]
fn iir_low_pass() {
    let x = data(8, 2.0);
    let a = 0.6;
    let (v, (ga, gx)) = one_pole_grad(a, &x);
    close("value", v, one_pole(a, &x), TOL);
    let want: Vec<f64> = (0..8).map(|m: i32| 1.0 - a.powi(8 - m)).collect();
    close_all("∂x", &gx, &want);
    fd("∂a", |a| one_pole(a, &x), a, ga);
}

/// A biquad (direct form I) with state in tuples, the squared output summed: fd only.
#[differentiate(wrt(b0, a1))]
fn biquad(b0: f64, a1: f64, x: &[f64]) -> f64 {
    let (b1, b2, a2) = (0.2, 0.1, -0.15);
    let (mut x1, mut x2) = (0.0, 0.0);
    let (mut y1, mut y2) = (0.0, 0.0);
    let mut energy = 0.0;
    for &xn in x.iter() {
        let yn = b0 * xn + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        (x2, x1) = (x1, xn);
        (y2, y1) = (y1, yn);
        energy += yn * yn;
    }
    energy
}

#[test]
fn biquad_with_tuple_state() {
    let x = data(12, 0.3);
    let (b0, a1) = (0.7, -0.4);
    let (v, g) = biquad_grad(b0, a1, &x);
    close("value", v, biquad(b0, a1, &x), TOL);
    // ∂b0 by the sensitivity recursion: s_n = x_n − a1 s_{n−1} − a2 s_{n−2}
    let (mut s1, mut s2, mut want) = (0.0, 0.0, 0.0);
    let (mut y1, mut y2, mut x1, mut x2) = (0.0, 0.0, 0.0, 0.0);
    for &xn in &x {
        let yn = b0 * xn + 0.2 * x1 + 0.1 * x2 - a1 * y1 + 0.15 * y2;
        let sn = xn - a1 * s1 + 0.15 * s2;
        want += 2.0 * yn * sn;
        (x2, x1, y2, y1, s2, s1) = (x1, xn, y1, yn, s1, sn);
    }
    close("∂b0", g.0, want, 1e-12);
    fd2("biquad", |b, a| biquad(b, a, &x), (b0, a1), g);
}

/// Residual of a centred 3-point moving average through `windows(3)`:
/// L = Σᵢ (mᵢ − xᵢ₊₁)², mᵢ = (xᵢ + xᵢ₊₁ + xᵢ₊₂)/3: fd and the analytic sum.
#[differentiate]
fn moving_average_residual(x: &[f64]) -> f64 {
    const K: usize = 3;
    x.windows(K)
        .map(|w| {
            let mean = w.iter().sum::<f64>() / K as f64;
            (mean - w[K / 2]).powi(2)
        })
        .sum()
}

#[test]
fn moving_average_through_windows() {
    let x = data(9, 3.0);
    let (v, g) = moving_average_residual_grad(&x);
    close("value", v, moving_average_residual(&x), TOL);
    // eᵢ = (xᵢ − 2xᵢ₊₁ + xᵢ₊₂)/3, ∂ = 2eᵢ·(1, −2, 1)/3
    let mut want = vec![0.0; 9];
    for i in 0..7 {
        let e = (x[i] - 2.0 * x[i + 1] + x[i + 2]) / 3.0;
        want[i] += 2.0 * e / 3.0;
        want[i + 1] -= 4.0 * e / 3.0;
        want[i + 2] += 2.0 * e / 3.0;
    }
    close_all("∂x", &g, &want);
    fd_vec("moving average", moving_average_residual, &x, &g);
}

/// Lag-k autocorrelation, r = Σ (xᵢ − m)(xᵢ₊ₖ − m) / Σ (xᵢ − m)²: fd only.
#[differentiate]
fn autocorrelation(x: &[f64], lag: usize) -> f64 {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let var: f64 = centred.iter().map(|c| c * c).sum();
    let cov: f64 = centred
        .iter()
        .zip(centred.iter().skip(lag))
        .map(|(a, b)| a * b)
        .sum();
    cov / var
}

#[test]
fn lagged_autocorrelation() {
    let x = data(10, 4.0);
    let (v, g) = autocorrelation_grad(&x, 2);
    close("value", v, autocorrelation(&x, 2), TOL);
    // shifting every sample by a constant leaves r unchanged: Σ ∂xᵢ = 0
    close("Σ∂x", g.iter().sum::<f64>(), 0.0, 1e-12);
    fd_vec("autocorrelation", |x| autocorrelation(x, 2), &x, &g);
}

/// Total-variation denoising: Σ|xᵢ₊₁ − xᵢ| + ½λΣ(xᵢ − yᵢ)²;
/// ∂xᵢ = sign(xᵢ − xᵢ₋₁) − sign(xᵢ₊₁ − xᵢ) + λ(xᵢ − yᵢ).
#[differentiate(wrt(x))]
fn tv_denoise(x: &[f64], y: &[f64], lambda: f64) -> f64 {
    let tv: f64 = x
        .iter()
        .zip(x.iter().skip(1))
        .map(|(a, b)| (b - a).abs())
        .sum();
    let fid: f64 = x.iter().zip(y).map(|(a, b)| (a - b).powi(2)).sum();
    tv + 0.5 * lambda * fid
}

#[test]
fn total_variation_denoising() {
    let x = data(8, 5.0);
    let y = data(8, 6.0);
    let lambda = 2.0;
    let (v, g) = tv_denoise_grad(&x, &y, lambda);
    close("value", v, tv_denoise(&x, &y, lambda), TOL);
    let mut want: Vec<f64> = (0..8).map(|i| lambda * (x[i] - y[i])).collect();
    for i in 0..7 {
        let s = (x[i + 1] - x[i]).signum();
        want[i + 1] += s;
        want[i] -= s;
    }
    close_all("∂x", &g, &want);
    fd_vec("tv", |x| tv_denoise(x, &y, lambda), &x, &g);
}

/// Energy of block means through `chunks(3)` with a short last block:
/// L = Σ_c m_c², ∂xᵢ = 2m_c/|c|.
#[differentiate]
fn block_mean_energy(x: &[f64]) -> f64 {
    x.chunks(3)
        .map(|c| {
            let m = c.iter().sum::<f64>() / c.len() as f64;
            m * m
        })
        .sum()
}

#[test]
fn block_means_through_chunks() {
    let x = data(8, 8.0);
    let (v, g) = block_mean_energy_grad(&x);
    close("value", v, block_mean_energy(&x), TOL);
    let mut want = vec![0.0; 8];
    for (c, block) in x.chunks(3).enumerate() {
        let m = block.iter().sum::<f64>() / block.len() as f64;
        for j in 0..block.len() {
            want[3 * c + j] = 2.0 * m / block.len() as f64;
        }
    }
    close_all("∂x", &g, &want);
    fd_vec("chunks", block_mean_energy, &x, &g);
}

/// A triple product of three sequences through nested `zip`: Σ aᵢbᵢcᵢ,
/// ∂aᵢ = bᵢcᵢ, ∂bᵢ = aᵢcᵢ, ∂cᵢ = aᵢbᵢ.
#[differentiate]
fn triple(a: &[f64], b: &[f64], c: &[f64]) -> f64 {
    a.iter()
        .zip(b.iter())
        .zip(c.iter())
        .map(|((x, y), z)| x * y * z)
        .sum()
}

#[test]
fn zip_of_three_sequences() {
    let (a, b, c) = (data(5, 1.0), data(5, 2.0), data(5, 3.0));
    let (v, (ga, gb, gc)) = triple_grad(&a, &b, &c);
    close("value", v, triple(&a, &b, &c), TOL);
    let prod = |p: &[f64], q: &[f64]| -> Vec<f64> { p.iter().zip(q).map(|(x, y)| x * y).collect() };
    close_all("∂a", &ga, &prod(&b, &c));
    close_all("∂b", &gb, &prod(&a, &c));
    close_all("∂c", &gc, &prod(&a, &b));
}

/// Spectral power at one frequency by a direct DFT sum: P(ω) = |Σ xₙ e^{−iωn}|²;
/// ∂xₙ = 2(Re·cos ωn − Im·sin ωn), with Im = −Σ xₙ sin ωn; ∂ω by fd.
#[differentiate]
fn dft_power(x: &[f64], omega: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        let phase = omega * n as f64;
        re += v * phase.cos();
        im -= v * phase.sin();
    }
    re * re + im * im
}

#[test]
fn spectral_power_by_direct_dft() {
    let x = data(8, 9.0);
    let w = 0.9;
    let (v, (gx, gw)) = dft_power_grad(&x, w);
    close("value", v, dft_power(&x, w), TOL);
    let re: f64 = (0..8).map(|n| x[n] * (w * n as f64).cos()).sum();
    let im: f64 = -(0..8).map(|n| x[n] * (w * n as f64).sin()).sum::<f64>();
    let want: Vec<f64> = (0..8)
        .map(|n| 2.0 * (re * (w * n as f64).cos() - im * (w * n as f64).sin()))
        .collect();
    close_all("∂x", &gx, &want);
    fd("∂ω", |w| dft_power(&x, w), w, gw);
}

// ---------------------------------------------------------------------------------------------
// Simulation.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Body {
    x: f64,
    v: f64,
}

impl Body {
    /// Force of a spring of stiffness k towards the origin plus linear drag c.
    #[differentiate]
    fn force(&self, k: f64, c: f64) -> f64 {
        -k * self.x - c * self.v
    }

    #[differentiate]
    fn kinetic(&self) -> f64 {
        0.5 * self.v * self.v
    }
}

/// Leapfrog (kick-drift-kick) of a particle in the double well V(x) = x⁴/4 − a·x²/2, the force
/// a closure called twice per step: fd, and energy conservation of the value.
#[differentiate]
fn leapfrog_well(a: f64, x0: f64) -> f64 {
    let force = |x: f64| -x * x * x + a * x;
    let dt = 0.02;
    let (mut x, mut v) = (x0, 0.0);
    for _ in 0..100 {
        v += 0.5 * dt * force(x);
        x += dt * v;
        v += 0.5 * dt * force(x);
    }
    x
}

#[test]
fn leapfrog_in_a_double_well() {
    let (a, x0) = (1.0, 0.4);
    let (v, g) = leapfrog_well_grad(a, x0);
    close("value", v, leapfrog_well(a, x0), TOL);
    fd2("leapfrog", leapfrog_well, (a, x0), g);
}

/// Spring forces written into a scratch buffer by a helper, symplectic Euler on a chain
/// of masses with fixed ends: fd only.
#[differentiate]
fn chain_forces(x: &[f64], k: f64) -> Vec<f64> {
    let n = x.len();
    let mut f = vec![0.0; n];
    for i in 0..n {
        let left = if i == 0 { 0.0 } else { x[i - 1] };
        let right = if i + 1 == n { 0.0 } else { x[i + 1] };
        f[i] = k * (left - 2.0 * x[i] + right);
    }
    f
}

#[differentiate]
fn spring_chain(k: f64, x0: &[f64]) -> f64 {
    let dt = 0.05;
    let mut x = x0.to_vec();
    let mut v = vec![0.0; x.len()];
    for _step in 0..40 {
        let f = chain_forces(&x, k);
        for i in 0..x.len() {
            v[i] += dt * f[i];
            x[i] += dt * v[i];
        }
    }
    x.iter().zip(&v).map(|(p, q)| p * p + q * q).sum()
}

#[test]
fn spring_chain_with_a_force_helper() {
    let x0 = [0.3, -0.2, 0.5, 0.1];
    let k = 1.5;
    let (v, (gk, gx)) = spring_chain_grad(k, &x0);
    close("value", v, spring_chain(k, &x0), TOL);
    close(
        "quadratic in x0",
        x0.iter().zip(&gx).map(|(a, b)| a * b).sum(),
        2.0 * v,
        1e-12,
    );
    fd("k", |k| spring_chain(k, &x0), k, gk);
    fd_vec("x0", |x| spring_chain(k, x), &x0, &gx);
}

/// A pendulum θ'' = −(g/L)·sin θ by semi-implicit Euler in `while t < t_end`, the angle at
/// the end: fd only (small-angle check: θ ≈ θ₀ cos(√(g/L)·t)).
#[differentiate(wrt(length, theta0))]
fn pendulum(length: f64, theta0: f64, t_end: f64) -> f64 {
    const G: f64 = 9.81;
    let dt = 0.001;
    let mut t = 0.0;
    let mut theta = theta0;
    let mut omega = 0.0;
    while t < t_end {
        omega -= G / length * theta.sin() * dt;
        theta += omega * dt;
        t += dt;
    }
    theta
}

#[test]
fn pendulum_with_while_t_less_than_end() {
    let (l, th) = (1.2, 0.05);
    let (v, g) = pendulum_grad(l, th, 0.5);
    close("value", v, pendulum(l, th, 0.5), TOL);
    let w = (9.81 / l).sqrt();
    close("small angle", v, th * (w * 0.5).cos(), 2e-3);
    close("∂θ₀ ≈ cos ωt", g.1, (w * 0.5).cos(), 2e-2);
    fd2("pendulum", |l, th| pendulum(l, th, 0.5), (l, th), g);
}

/// Explicit 1-D heat equation with fixed zero ends and a scratch buffer swapped each step by
/// `std::mem::swap`: u ↦ A u is linear, so Σ u0ᵢ ∂u0ᵢ = 2L for L = Σ u_T²; the rest by fd.
#[differentiate]
fn heat_1d(alpha: f64, u0: &[f64]) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..25 {
        for i in 1..n - 1 {
            next[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        }
        next[0] = 0.0;
        next[n - 1] = 0.0;
        std::mem::swap(&mut u, &mut next);
    }
    u.iter().map(|v| v * v).sum()
}

#[test]
fn heat_equation_with_swapped_buffers() {
    let u0 = [0.0, 0.4, 0.9, 0.7, 0.2, 0.5, 0.0];
    let alpha = 0.3;
    let (v, (ga, gu)) = heat_1d_grad(alpha, &u0);
    close("value", v, heat_1d(alpha, &u0), TOL);
    close(
        "quadratic",
        u0.iter().zip(&gu).map(|(a, b)| a * b).sum(),
        2.0 * v,
        1e-12,
    );
    fd("α", |a| heat_1d(a, &u0), alpha, ga);
    fd_vec("u0", |u| heat_1d(alpha, u), &u0, &gu);
}

/// Cellular smoothing on a ring: each step every cell becomes a sigmoid of the weighted sum of
/// itself and its neighbours, read from a copy of the previous state: fd only.
#[differentiate]
fn ring_automaton(w_self: f64, w_side: f64, cells: &[f64]) -> f64 {
    let n = cells.len();
    let mut state = cells.to_vec();
    for _ in 0..6 {
        let prev = state.clone();
        for i in 0..n {
            let left = prev[(i + n - 1) % n];
            let right = prev[(i + 1) % n];
            let z = w_self * prev[i] + w_side * (left + right) - 0.5;
            state[i] = 1.0 / (1.0 + (-z).exp());
        }
    }
    state.iter().sum::<f64>() / n as f64
}

#[test]
fn cellular_smoothing_on_a_ring() {
    let cells = [0.9, 0.1, 0.4, 0.8, 0.3];
    let (ws, wn) = (1.3, 0.6);
    let (v, (gs, gn, gc)) = ring_automaton_grad(ws, wn, &cells);
    close("value", v, ring_automaton(ws, wn, &cells), TOL);
    fd2(
        "weights",
        |a, b| ring_automaton(a, b, &cells),
        (ws, wn),
        (gs, gn),
    );
    fd_vec("cells", |c| ring_automaton(ws, wn, c), &cells, &gc);
}

#[derive(Clone, Debug, Differentiable)]
struct Potential {
    depth: f64,
    width: f64,
}

impl Potential {
    /// A Gaussian well, V(x) = −D·exp(−x²/w²).
    #[differentiate]
    fn value(&self, x: f64) -> f64 {
        -self.depth * (-(x * x) / (self.width * self.width)).exp()
    }

    /// −V′(x).
    #[differentiate]
    fn force(&self, x: f64) -> f64 {
        -2.0 * self.depth * x / (self.width * self.width)
            * (-(x * x) / (self.width * self.width)).exp()
    }
}

/// A particle launched into a Gaussian well, velocity Verlet, the total energy at the end
/// (conserved to O(dt²)) plus the final position: fd, and ∂ of the energy ≈ ∂ of the
/// starting energy ½v₀² + V(x₀).
#[differentiate(wrt(pot, v0))]
fn particle_in_well(pot: &Potential, x0: f64, v0: f64) -> f64 {
    let dt = 0.01;
    let mut x = x0;
    let mut v = v0;
    let mut a = pot.force(x);
    for _ in 0..200 {
        x += v * dt + 0.5 * a * dt * dt;
        let a_new = pot.force(x);
        v += 0.5 * (a + a_new) * dt;
        a = a_new;
    }
    0.5 * v * v + pot.value(x)
}

#[test]
fn particle_in_a_potential_by_velocity_verlet() {
    let pot = Potential {
        depth: 1.5,
        width: 0.8,
    };
    let (x0, v0) = (-1.2, 0.9);
    let (v, (gp, gv)) = particle_in_well_grad(&pot, x0, v0);
    close("value", v, particle_in_well(&pot, x0, v0), TOL);
    close("energy conserved", v, 0.5 * v0 * v0 + pot.value(x0), 1e-3);
    close("∂v0 ≈ v0", gv, v0, 1e-2);
    fd("v0", |v0| particle_in_well(&pot, x0, v0), v0, gv);
    let r = gradcheck(|p: &Potential| particle_in_well(p, x0, v0), &pot, &gp);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Small networks with ndarray.
// ---------------------------------------------------------------------------------------------

const EPS: f64 = 1e-5;

/// Layer norm of a vector with a gain and a bias, then a fixed readout: fd, and Σ ∂x = 0
/// (the normalisation removes the mean).
#[differentiate(wrt(x, gamma, beta))]
fn layer_norm_readout(
    x: &Array1<f64>,
    gamma: &Array1<f64>,
    beta: &Array1<f64>,
    w: &Array1<f64>,
) -> f64 {
    let mean = x.mean().unwrap();
    let var = x.mapv(|v| (v - mean).powi(2)).mean().unwrap();
    let xhat = (x - mean) / (var + EPS).sqrt();
    let y = &xhat * gamma + beta;
    y.dot(w)
}

#[test]
fn layer_norm_on_a_vector() {
    let x = vector(5, 1.0);
    let gamma = vector(5, 2.0) + 1.0;
    let beta = vector(5, 3.0);
    let w = vector(5, 4.0);
    let (v, (gx, gg, gb)) = layer_norm_readout_grad(&x, &gamma, &beta, &w);
    close("value", v, layer_norm_readout(&x, &gamma, &beta, &w), TOL);
    close_all("∂β = w", gb.as_slice().unwrap(), w.as_slice().unwrap());
    close("Σ∂x", gx.sum(), 0.0, 1e-12);
    fd_array("x", |x| layer_norm_readout(x, &gamma, &beta, &w), &x, &gx);
    fd_array("γ", |g| layer_norm_readout(&x, g, &beta, &w), &gamma, &gg);
}

/// Scaled dot-product attention over small matrices with the row softmax written out:
/// A = softmax(QKᵀ/√d), out = A·V, the loss Σ out ⊙ T: fd only.
#[differentiate(wrt(q, k, v))]
fn attention(q: &Array2<f64>, k: &Array2<f64>, v: &Array2<f64>, target: &Array2<f64>) -> f64 {
    let d = q.ncols() as f64;
    let scores = q.dot(&k.t()) / d.sqrt();
    let e = scores.mapv(f64::exp);
    let z = e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let a = &e / &z;
    let out = a.dot(v);
    (&out * target).sum()
}

#[test]
fn softmax_attention() {
    let q = matrix(3, 4, 1.0);
    let k = matrix(5, 4, 2.0);
    let v = matrix(5, 2, 3.0);
    let t = matrix(3, 2, 4.0);
    let (val, (gq, gk, gv)) = attention_grad(&q, &k, &v, &t);
    close("value", val, attention(&q, &k, &v, &t), TOL);
    fd_array("q", |q| attention(q, &k, &v, &t), &q, &gq);
    fd_array("k", |k| attention(&q, k, &v, &t), &k, &gk);
    fd_array("v", |v| attention(&q, &k, v, &t), &v, &gv);
}

/// The same attention with the row maximum taken row by row.
#[differentiate(wrt(q))]
fn attention_rowmax(q: &Array2<f64>, k: &Array2<f64>, v: &Array2<f64>) -> f64 {
    let scores = q.dot(&k.t());
    let mut out = 0.0;
    for (i, row) in scores.rows().into_iter().enumerate() {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e = row.mapv(|s| (s - m).exp());
        let p = &e / e.sum();
        out += p.dot(&v.column(i % v.ncols()));
    }
    out
}

#[test]
fn attention_with_row_max() {
    let q = matrix(3, 4, 5.0);
    let k = matrix(5, 4, 6.0);
    let v = matrix(5, 2, 7.0);
    let (val, gq) = attention_rowmax_grad(&q, &k, &v);
    close("value", val, attention_rowmax(&q, &k, &v), TOL);
    fd_array("q", |q| attention_rowmax(q, &k, &v), &q, &gq);
}

#[derive(Clone, Debug, Differentiable)]
struct Rnn {
    w: Array2<f64>,
    u: Array2<f64>,
    b: Array1<f64>,
}

impl Rnn {
    #[differentiate]
    fn step(&self, h: &Array1<f64>, x: &Array1<f64>) -> Array1<f64> {
        (self.w.dot(h) + self.u.dot(x) + &self.b).mapv(f64::tanh)
    }

    /// An Elman RNN over the rows of a sequence, the last state's sum of squares: fd.
    #[differentiate(wrt(self))]
    fn run(&self, xs: &Array2<f64>) -> f64 {
        let mut h = Array1::zeros(self.b.len());
        for x in xs.rows() {
            h = self.step(&h, &x.to_owned());
        }
        h.dot(&h)
    }
}

#[test]
fn elman_rnn_over_rows() {
    let rnn = Rnn {
        w: matrix(3, 3, 1.0) * 0.5,
        u: matrix(3, 2, 2.0),
        b: vector(3, 3.0),
    };
    let xs = matrix(4, 2, 4.0);
    let (v, g) = rnn.run_grad(&xs);
    close("value", v, rnn.run(&xs), TOL);
    let r = gradcheck(|p: &Rnn| p.run(&xs), &rnn, &g);
    assert!(r.passed(), "{r}");
}

#[derive(Clone, Debug, Differentiable)]
struct Gru {
    wz: Array2<f64>,
    uz: Array2<f64>,
    wr: Array2<f64>,
    ur: Array2<f64>,
    wn: Array2<f64>,
    un: Array2<f64>,
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// A GRU cell unrolled over a token sequence, the gates as closures over arrays:
/// z = σ(W_z x + U_z h), r = σ(W_r x + U_r h), n = tanh(W_n x + U_n (r ⊙ h)),
/// h′ = (1 − z) ⊙ n + z ⊙ h; fd only.
#[differentiate(wrt(p))]
fn gru_loss(p: &Gru, xs: &[Array1<f64>], target: &Array1<f64>) -> f64 {
    let sig = |a: Array1<f64>| a.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let mut h: Array1<f64> = Array1::zeros(target.len());
    for x in xs {
        let z = sig(p.wz.dot(x) + p.uz.dot(&h));
        let r = sig(p.wr.dot(x) + p.ur.dot(&h));
        let n = (p.wn.dot(x) + p.un.dot(&(&r * &h))).mapv(f64::tanh);
        h = (1.0 - &z) * &n + &z * &h;
    }
    let d = &h - target;
    d.dot(&d)
}

#[test]
fn gru_cell_over_a_sequence() {
    let p = Gru {
        wz: matrix(3, 2, 1.0),
        uz: matrix(3, 3, 2.0),
        wr: matrix(3, 2, 3.0),
        ur: matrix(3, 3, 4.0),
        wn: matrix(3, 2, 5.0),
        un: matrix(3, 3, 6.0),
    };
    let xs: Vec<Array1<f64>> = (0..4).map(|i| vector(2, 10.0 + i as f64)).collect();
    let target = vector(3, 20.0);
    let (v, g) = gru_loss_grad(&p, &xs, &target);
    close("value", v, gru_loss(&p, &xs, &target), TOL);
    assert!(sigmoid(0.0) == 0.5);
    let r = gradcheck(|p: &Gru| gru_loss(p, &xs, &target), &p, &g);
    assert!(r.passed(), "{r}");
}

/// Batch norm written by hand on a batch × features matrix, then a weighted sum of squares:
/// fd, and Σ over the batch of ∂x is 0 in each column.
#[differentiate(wrt(x))]
fn batch_norm_by_hand(x: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let mean = x.mean_axis(Axis(0)).unwrap();
    let centred = x - &mean;
    let var = centred.mapv(|v| v * v).mean_axis(Axis(0)).unwrap();
    let y = &centred / &(var + 1e-5).mapv(f64::sqrt);
    (&y * &y * w).sum()
}

#[test]
fn batch_norm_written_out() {
    let x = matrix(5, 3, 1.0);
    let w = matrix(5, 3, 2.0);
    let (v, g) = batch_norm_by_hand_grad(&x, &w);
    close("value", v, batch_norm_by_hand(&x, &w), TOL);
    for s in g.sum_axis(Axis(0)) {
        close("column sum", s, 0.0, 1e-10);
    }
    fd_array("bn", |x| batch_norm_by_hand(x, &w), &x, &g);
}

/// Mean cross-entropy of logits against labels given as `&[usize]`, each row's
/// log-sum-exp with its maximum: ∂logitsᵢⱼ = (softmaxᵢⱼ − δⱼ,ₗᵢ)/n.
#[differentiate]
fn cross_entropy_by_rows(logits: &Array2<f64>, labels: &[usize]) -> f64 {
    let n = logits.nrows();
    let mut total = 0.0;
    for (row, &label) in logits.rows().into_iter().zip(labels) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.mapv(|v| (v - m).exp()).sum().ln();
        total += lse - row[label];
    }
    total / n as f64
}

#[test]
fn cross_entropy_with_usize_labels() {
    let logits = matrix(4, 3, 3.0);
    let labels = [2usize, 0, 1, 1];
    let (v, g) = cross_entropy_by_rows_grad(&logits, &labels);
    close("value", v, cross_entropy_by_rows(&logits, &labels), TOL);
    for i in 0..4 {
        let row: Vec<f64> = logits.row(i).to_vec();
        let p = softmax_of(&row);
        for j in 0..3 {
            let want = (p[j] - if j == labels[i] { 1.0 } else { 0.0 }) / 4.0;
            close("∂logits", g[[i, j]], want, 1e-12);
        }
    }
    fd_array("xent", |l| cross_entropy_by_rows(l, &labels), &logits, &g);
}

/// Mean-pooled embeddings of a token sequence dotted with a weight vector:
/// ∂E[t] = count(t)·w/n (rows of unused tokens zero), ∂w = mean of the rows.
#[differentiate(wrt(emb, w))]
fn bag_of_embeddings(emb: &Array2<f64>, w: &Array1<f64>, tokens: &[usize]) -> f64 {
    let mut h = Array1::zeros(emb.ncols());
    for &t in tokens {
        h = h + &emb.row(t);
    }
    let h = h / tokens.len() as f64;
    h.dot(w).tanh()
}

#[test]
fn embeddings_indexed_by_token_ids() {
    let emb = matrix(6, 3, 1.0);
    let w = vector(3, 2.0);
    let tokens = [4usize, 1, 4, 0, 2];
    let (v, (ge, gw)) = bag_of_embeddings_grad(&emb, &w, &tokens);
    close("value", v, bag_of_embeddings(&emb, &w, &tokens), TOL);
    let mut h = Array1::<f64>::zeros(3);
    for &t in &tokens {
        h += &emb.row(t);
    }
    h /= 5.0;
    let dt = 1.0 - h.dot(&w).tanh().powi(2);
    for t in 0..6 {
        let count = tokens.iter().filter(|&&s| s == t).count() as f64;
        for j in 0..3 {
            close("∂E", ge[[t, j]], dt * count * w[j] / 5.0, 1e-12);
        }
    }
    for j in 0..3 {
        close("∂w", gw[j], dt * h[j], 1e-12);
    }
    fd_array("emb", |e| bag_of_embeddings(e, &w, &tokens), &emb, &ge);
}

// ---------------------------------------------------------------------------------------------
// Numerical methods inside objectives.
// ---------------------------------------------------------------------------------------------

/// The real root of x³ + a·x − b by Newton's method from x = 1, then its square. At the
/// converged root, implicitly, ∂x/∂a = −x/(3x² + a), ∂x/∂b = 1/(3x² + a).
#[differentiate]
fn cubic_root_sq(a: f64, b: f64) -> f64 {
    let mut x = 1.0;
    for _ in 0..30 {
        let f = x * x * x + a * x - b;
        let df = 3.0 * x * x + a;
        x = x - f / df;
    }
    x * x
}

#[test]
fn newton_steps_inside_the_objective() {
    let (a, b) = (1.5, 2.3);
    let (v, g) = cubic_root_sq_grad(a, b);
    close("value", v, cubic_root_sq(a, b), TOL);
    let x = v.sqrt();
    close("root", x * x * x + a * x, b, 1e-12);
    let d = 3.0 * x * x + a;
    close2("gradient", g, (-2.0 * x * x / d, 2.0 * x / d));
    fd2("newton", cubic_root_sq, (a, b), g);
}

/// Bisection for the root of x − c·cos x on [0, 2] with a fixed iteration count, polished
/// by one Newton step so the result depends smoothly on c: ∂x/∂c = cos x / (1 + c·sin x).
#[differentiate]
fn kepler_like(c: f64) -> f64 {
    let f = |x: f64| x - c * x.cos();
    let (mut lo, mut hi) = (0.0, 2.0);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let x = 0.5 * (lo + hi);
    x - f(x) / (1.0 + c * x.sin())
}

#[test]
fn bisection_then_newton_polish() {
    let c = 0.8;
    let (v, g) = kepler_like_grad(c);
    close("value", v, kepler_like(c), TOL);
    close("root", v - c * v.cos(), 0.0, 1e-10);
    close("∂c", g, v.cos() / (1.0 + c * v.sin()), 1e-8);
    fd("bisection", kepler_like, c, g);
}

/// Piecewise-linear interpolation with the interval found by `position` over `windows(2)`:
/// between knots xᵢ ≤ t < xᵢ₊₁, ∂yᵢ = 1 − s, ∂yᵢ₊₁ = s, ∂t = (yᵢ₊₁ − yᵢ)/(xᵢ₊₁ − xᵢ).
#[differentiate(wrt(ys, t))]
fn interp(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = xs.windows(2).position(|w| t < w[1]).unwrap_or(xs.len() - 2);
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] * (1.0 - s) + ys[i + 1] * s
}

/// The same with a `partition_point` search, summed at several query points.
#[differentiate(wrt(ys))]
fn interp_sum(xs: &[f64], ys: &[f64], ts: &[f64]) -> f64 {
    let mut total = 0.0;
    for &t in ts {
        let j = xs.partition_point(|&x| x <= t).clamp(1, xs.len() - 1);
        let s = (t - xs[j - 1]) / (xs[j] - xs[j - 1]);
        total += ys[j - 1] + s * (ys[j] - ys[j - 1]);
    }
    total
}

#[test]
fn piecewise_linear_interpolation() {
    let xs = [0.0, 0.5, 1.25, 2.0, 3.0];
    let ys = [1.0, 0.2, -0.4, 0.9, 1.5];
    let t = 1.6;
    let (v, (gy, gt)) = interp_grad(&xs, &ys, t);
    close("value", v, interp(&xs, &ys, t), TOL);
    let s = (t - 1.25) / 0.75;
    close_all("∂y", &gy, &[0.0, 0.0, 1.0 - s, s, 0.0]);
    close("∂t", gt, (0.9 + 0.4) / 0.75, 1e-12);
    fd("t", |t| interp(&xs, &ys, t), t, gt);

    let ts = [0.1, 0.7, 1.6, 2.5, 2.9];
    let (v, gy) = interp_sum_grad(&xs, &ys, &ts);
    close("value", v, interp_sum(&xs, &ys, &ts), TOL);
    fd_vec("ys", |y| interp_sum(&xs, y, &ts), &ys, &gy);
}

/// A polynomial by Horner's rule, `iter().rev().fold`: ∂cᵢ = tⁱ, ∂t = p′(t).
#[differentiate]
fn horner(coeffs: &[f64], t: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * t + c)
}

#[test]
fn horner_by_rev_fold() {
    let c = [0.5, -1.0, 0.25, 2.0, -0.75];
    let t = 0.8;
    let (v, (gc, gt)) = horner_grad(&c, t);
    close("value", v, horner(&c, t), TOL);
    let want: Vec<f64> = (0..5).map(|i| t.powi(i)).collect();
    close_all("∂c", &gc, &want);
    let dp: f64 = (1..5).map(|i| i as f64 * c[i] * t.powi(i as i32 - 1)).sum();
    close("∂t", gt, dp, 1e-12);
}

/// Composite Simpson's rule for ∫₀¹ e^{a·t}/(1 + t) dt with the integrand a closure called
/// at every node; the rule is linear, so ∂a is Simpson of t·e^{a·t}/(1 + t).
#[differentiate]
fn simpson_integral(a: f64) -> f64 {
    let f = |t: f64| (a * t).exp() / (1.0 + t);
    let n = 20;
    let h = 1.0 / n as f64;
    let mut s = f(0.0) + f(1.0);
    for i in 1..n {
        let t = i as f64 * h;
        s += if i % 2 == 1 { 4.0 * f(t) } else { 2.0 * f(t) };
    }
    s * h / 3.0
}

fn simpson(f: impl Fn(f64) -> f64, n: usize) -> f64 {
    let h = 1.0 / n as f64;
    let mut s = f(0.0) + f(1.0);
    for i in 1..n {
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(i as f64 * h);
    }
    s * h / 3.0
}

#[test]
fn simpson_with_a_closure() {
    let a = 0.7;
    let (v, g) = simpson_integral_grad(a);
    close("value", v, simpson_integral(a), TOL);
    close(
        "∂a",
        g,
        simpson(|t| t * (a * t).exp() / (1.0 + t), 20),
        1e-12,
    );
    fd("simpson", simpson_integral, a, g);
}

/// Trapezoid rule of sin(w·t)/(1 + t²) on [0, 2] through `windows(2)` over the sample
/// points: ∂w is the trapezoid rule of t·cos(w·t)/(1 + t²).
#[differentiate]
fn trapezoid(w: f64) -> f64 {
    let g = |t: f64| (w * t).sin() / (1.0 + t * t);
    let ts: Vec<f64> = (0..=16).map(|i| 2.0 * i as f64 / 16.0).collect();
    ts.windows(2)
        .map(|p| 0.5 * (p[1] - p[0]) * (g(p[0]) + g(p[1])))
        .sum()
}

#[test]
fn trapezoid_rule_over_windows() {
    let w = 1.3;
    let (v, g) = trapezoid_grad(w);
    close("value", v, trapezoid(w), TOL);
    let dg = |t: f64| t * (w * t).cos() / (1.0 + t * t);
    let want: f64 = (0..16)
        .map(|i| {
            let (a, b) = (2.0 * i as f64 / 16.0, 2.0 * (i + 1) as f64 / 16.0);
            0.5 * (b - a) * (dg(a) + dg(b))
        })
        .sum();
    close("∂w", g, want, 1e-12);
}

/// Fixed-point iteration for x = cos(a·x) with a tolerance, returning early when converged:
/// implicitly ∂x/∂a = −x·sin(ax)/(1 + a·sin(ax)).
#[differentiate]
fn cos_fixed(a: f64) -> f64 {
    let mut x = 0.5;
    for _ in 0..200 {
        let next = (a * x).cos();
        if (next - x).abs() < 1e-14 {
            return next;
        }
        x = next;
    }
    x
}

#[test]
fn fixed_point_with_tolerance_and_return() {
    let a = 0.9;
    let (v, g) = cos_fixed_grad(a);
    close("value", v, cos_fixed(a), TOL);
    let s = (a * v).sin();
    close("∂a", g, -v * s / (1.0 + a * s), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Rust idioms.
// ---------------------------------------------------------------------------------------------

/// RMS norm generic over the float type: √(Σx²/n + ε); ∂xᵢ = xᵢ/(n·r).
#[differentiate]
fn rms<T: Float>(x: &[T], eps: T) -> T {
    let n = T::from(x.len()).unwrap();
    let ss = x.iter().fold(T::zero(), |acc, &v| acc + v * v);
    (ss / n + eps).sqrt()
}

#[test]
fn rms_generic_over_f32_and_f64() {
    let x = data(6, 1.0);
    let (r, (g, _)) = rms_grad(&x, 1e-6);
    close("value", r, rms(&x, 1e-6), TOL);
    let want: Vec<f64> = x.iter().map(|v| v / (6.0 * r)).collect();
    close_all("∂x", &g, &want);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (r32, (g32, _)) = rms_grad(&x32, 1e-6f32);
    assert!((r32 as f64 - r).abs() < 1e-5);
    for (a, b) in g32.iter().zip(&g) {
        assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Gaussian {
    mu: f64,
    log_sigma: f64,
}

impl Gaussian {
    #[differentiate]
    fn log_pdf(&self, x: f64) -> f64 {
        let z = (x - self.mu) / self.log_sigma.exp();
        -0.5 * z * z - self.log_sigma - 0.5 * (2.0 * PI).ln()
    }

    /// −Σ log p(xᵢ), each term the method above: ∂μ = −Σ zᵢ/σ, ∂log σ = Σ (1 − zᵢ²).
    #[differentiate(wrt(self))]
    fn nll(&self, xs: &[f64]) -> f64 {
        -xs.iter().map(|&x| self.log_pdf(x)).sum::<f64>()
    }
}

#[test]
fn impl_block_methods_calling_each_other() {
    let g = Gaussian {
        mu: 0.35,
        log_sigma: -0.15,
    };
    let (v, d) = g.nll_grad(&XS);
    close("value", v, g.nll(&XS), TOL);
    let s = f64::exp(-0.15);
    let z: Vec<f64> = XS.iter().map(|x| (x - 0.35) / s).collect();
    close("∂μ", d.mu, -z.iter().sum::<f64>() / s, 1e-12);
    close(
        "∂log σ",
        d.log_sigma,
        z.iter().map(|z| 1.0 - z * z).sum(),
        1e-12,
    );
}

/// A log ratio with guard clauses returning early: 0 for a non-positive denominator,
/// ln(a/b) otherwise, clipped at ±2 by `clamp`: ∂a = 1/a, ∂b = −1/b inside.
#[differentiate]
fn guarded_log_ratio(a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        return 0.0;
    }
    if a <= 0.0 {
        return -2.0;
    }
    let r = (a / b).ln();
    r.clamp(-2.0, 2.0)
}

#[test]
fn guard_clauses_with_early_return() {
    let (v, g) = guarded_log_ratio_grad(1.3, 0.4);
    close("value", v, guarded_log_ratio(1.3, 0.4), TOL);
    close2("inside", g, (1.0 / 1.3, -1.0 / 0.4));
    let (_, g) = guarded_log_ratio_grad(1.3, -0.4);
    close2("b ≤ 0", g, (0.0, 0.0));
    let (_, g) = guarded_log_ratio_grad(9.0, 0.1);
    close2("clamped", g, (0.0, 0.0));
}

#[derive(Clone, Copy, Debug)]
enum Activation {
    Relu,
    Tanh,
    Softplus,
}

/// An activation chosen by an enum of data, applied to w·x + b: fd per variant.
#[differentiate(wrt(w, b))]
fn neuron(act: Activation, w: f64, b: f64, x: f64) -> f64 {
    let z = w * x + b;
    match act {
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        Activation::Softplus => (1.0 + z.exp()).ln(),
    }
}

#[test]
fn match_on_an_enum_of_data() {
    let (w, b, x) = (0.8, 0.1, 0.9);
    let z = w * x + b;
    let d = [1.0, 1.0 - z.tanh().powi(2), 1.0 / (1.0 + (-z).exp())];
    for (act, dz) in [Activation::Relu, Activation::Tanh, Activation::Softplus]
        .into_iter()
        .zip(d)
    {
        let (v, g) = neuron_grad(act, w, b, x);
        close("value", v, neuron(act, w, b, x), TOL);
        close2("∂(w, b)", g, (dz * x, dz));
    }
}

/// A loss with an optional L2 penalty taken apart by `if let`: ∂w = 2(w·x − y)x + 2λw.
#[differentiate(wrt(w))]
fn maybe_regularised(w: &[f64], x: &[f64], y: f64, l2: Option<f64>) -> f64 {
    let pred: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum();
    let mut loss = (pred - y).powi(2);
    if let Some(lambda) = l2 {
        loss += lambda * w.iter().map(|v| v * v).sum::<f64>();
    }
    loss
}

#[test]
fn optional_penalty_by_if_let() {
    let w = [0.3, -0.7, 0.5];
    let x = [1.0, 0.4, -0.6];
    let e = w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() - 0.2;
    for l2 in [None, Some(0.4)] {
        let (v, g) = maybe_regularised_grad(&w, &x, 0.2, l2);
        close("value", v, maybe_regularised(&w, &x, 0.2, l2), TOL);
        let lam = l2.unwrap_or(0.0);
        let want: Vec<f64> = (0..3).map(|i| 2.0 * e * x[i] + 2.0 * lam * w[i]).collect();
        close_all("∂w", &g, &want);
    }
}

/// Normalisation by a helper returning a new `Vec`, then a weighted sum:
/// yᵢ = xᵢ/Σx, L = Σ wᵢ yᵢ; ∂xᵢ = (wᵢ − L)/Σx.
#[differentiate]
fn normalised(x: &[f64]) -> Vec<f64> {
    let total: f64 = x.iter().sum();
    let mut out = vec![0.0; x.len()];
    for (o, v) in out.iter_mut().zip(x) {
        *o = v / total;
    }
    out
}

#[differentiate(wrt(x))]
fn weighted_share(x: &[f64], w: &[f64]) -> f64 {
    let shares = normalised(x);
    shares.iter().zip(w).map(|(s, w)| s * w).sum()
}

#[test]
fn shares_through_a_helper() {
    let x = [0.5, 1.5, 0.8, 1.2];
    let w = [0.3, -0.2, 0.9, 0.4];
    let (v, g) = weighted_share_grad(&x, &w);
    close("value", v, weighted_share(&x, &w), TOL);
    let s: f64 = x.iter().sum();
    let want: Vec<f64> = w.iter().map(|w| (w - v) / s).collect();
    close_all("∂x", &g, &want);
}

/// Mean and variance from one helper returning a tuple, the z-score of the last sample, with
/// shadowing: fd only.
#[differentiate]
fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[differentiate]
fn last_zscore(x: &[f64]) -> f64 {
    let (mean, var) = mean_var(x);
    let sd = var.sqrt();
    let last = *x.last().unwrap();
    let last = (last - mean) / sd;
    last
}

#[test]
fn tuple_from_a_helper_and_shadowing() {
    let x = data(6, 2.5);
    let (v, g) = last_zscore_grad(&x);
    close("value", v, last_zscore(&x), TOL);
    close("Σ∂x = 0", g.iter().sum::<f64>(), 0.0, 1e-12);
    fd_vec("zscore", last_zscore, &x, &g);
}

/// A closure stored in a local and called for three different arguments, with a captured
/// constant: f(t) = a·t² + sin t, L = f(x) + f(2x) − f(y); ∂a = x² + 4x² − y².
#[differentiate]
fn closure_reused(a: f64, x: f64, y: f64) -> f64 {
    let f = |t: f64| a * t * t + t.sin();
    f(x) + f(2.0 * x) - f(y)
}

#[test]
fn closure_called_several_times() {
    let (a, x, y) = (0.7, 0.4, -1.1);
    let (v, g) = closure_reused_grad(a, x, y);
    close("value", v, closure_reused(a, x, y), TOL);
    close("∂a", g.0, 5.0 * x * x - y * y, 1e-12);
    close(
        "∂x",
        g.1,
        2.0 * a * x + x.cos() + 2.0 * (4.0 * a * x + (2.0 * x).cos()),
        1e-12,
    );
    close("∂y", g.2, -(2.0 * a * y + y.cos()), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Forms these programs found rejected, followed now: the user's methods on the items of
// `iter_mut()` over a `Vec` of structs, and the `Option` of `max_by` (and its kin) taken apart
// by `match`, `if let` or `unwrap_or`.
// ---------------------------------------------------------------------------------------------

/// Explicit Euler over a `Vec` of structs built from the starting positions, each body's force
/// a method called on the item of `iter_mut()`, then the total kinetic energy. The map is
/// linear in x0, so the energy is a quadratic form: Σ x0ᵢ ∂x0ᵢ = 2E; the rest by fd.
#[differentiate]
fn damped_bodies(k: f64, c: f64, x0: &[f64]) -> f64 {
    let dt = 0.05;
    let mut bodies: Vec<Body> = x0.iter().map(|&x| Body { x, v: 0.0 }).collect();
    for _ in 0..30 {
        for b in bodies.iter_mut() {
            let f = b.force(k, c);
            b.x += dt * b.v;
            b.v += dt * f;
        }
    }
    bodies.iter().map(|b| b.kinetic()).sum()
}

#[test]
fn euler_over_a_vec_of_structs() {
    let x0 = [0.5, -0.3, 1.1];
    let (k, c) = (2.0, 0.3);
    let (v, (gk, gc, gx)) = damped_bodies_grad(k, c, &x0);
    close("value", v, damped_bodies(k, c, &x0), TOL);
    let dot: f64 = x0.iter().zip(&gx).map(|(a, b)| a * b).sum();
    close("quadratic in x0", dot, 2.0 * v, 1e-12);
    fd2("k, c", |k, c| damped_bodies(k, c, &x0), (k, c), (gk, gc));
    fd_vec("x0", |x| damped_bodies(k, c, x), &x0, &gx);
}

/// One kick of each body by its own force, over the items of `iter_mut()`, `&mut bodies` with
/// `enumerate` and `for_each`, on a `Vec` made by `vec![..]` and on a parameter taken by value:
/// with no drag the force is −k·xᵢ, and the three kicks of weights (i + 1), 1 and 1 from rest
/// give vᵢ = −k·xᵢ·(i + 3) (the gradient below).
#[differentiate]
fn kicks(k: f64, x0: &[f64]) -> f64 {
    let mut bodies = vec![Body { x: 0.0, v: 0.0 }; x0.len()];
    for (b, &x) in bodies.iter_mut().zip(x0) {
        b.x = x;
    }
    for (i, b) in bodies.iter_mut().enumerate() {
        b.v += b.force(k, 0.0) * (i + 1) as f64;
    }
    for b in &mut bodies {
        b.v += b.force(k, 0.0);
    }
    bodies.iter_mut().for_each(|b| b.v += b.force(k, 0.0));
    bodies.iter().map(|b| b.v * b.v).sum()
}

/// The same kick on a `Vec` of structs taken by value: ∂xᵢ = 2vᵢ·(−k), ∂vᵢ = 2vᵢ,
/// ∂k = 2Σ vᵢ·(−xᵢ) with vᵢ = v⁰ᵢ − k·xᵢ.
#[differentiate]
fn kick_owned(k: f64, mut bodies: Vec<Body>) -> f64 {
    for b in bodies.iter_mut() {
        b.v += b.force(k, 0.0);
    }
    bodies.iter().map(|b| b.v * b.v).sum()
}

#[test]
fn methods_on_iter_mut_items() {
    let x0 = [0.5, -0.3];
    let k = 2.0;
    let (v, (gk, gx)) = kicks_grad(k, &x0);
    // vᵢ = −k·xᵢ·(i + 3): Σ vᵢ² = k²Σ xᵢ²(i + 3)², ∂k = 2kΣ xᵢ²(i + 3)², ∂xᵢ = 2k²xᵢ(i + 3)²
    let w = |i: usize| ((i + 3) * (i + 3)) as f64;
    close("value", v, kicks(k, &x0), TOL);
    close("value", v, k * k * (0.25 * w(0) + 0.09 * w(1)), 1e-12);
    close("∂k", gk, 2.0 * k * (0.25 * w(0) + 0.09 * w(1)), 1e-12);
    close_all(
        "∂x",
        &gx,
        &[2.0 * k * k * 0.5 * w(0), 2.0 * k * k * -0.3 * w(1)],
    );

    let bodies = vec![Body { x: 0.5, v: 0.2 }, Body { x: -0.3, v: 0.1 }];
    let (v, (gk, gb)) = kick_owned_grad(k, bodies.clone());
    close("value", v, kick_owned(k, bodies.clone()), TOL);
    let mut want_k = 0.0;
    for (b, g) in bodies.iter().zip(&gb) {
        let vi = b.v - k * b.x;
        close("∂x", g.x, -2.0 * k * vi, 1e-12);
        close("∂v", g.v, 2.0 * vi, 1e-12);
        want_k -= 2.0 * vi * b.x;
    }
    close("∂k", gk, want_k, 1e-12);
}

/// A margin loss on the best wrong class, the `Option` of `max_by` kept in a variable and
/// taken apart by `match`: max(0, 1 + s_best − s_label); ∂s_best = 1, ∂s_label = −1 when the
/// margin is violated, 0 everywhere with one class.
#[differentiate]
fn multiclass_hinge(scores: &[f64], label: usize) -> f64 {
    let best = scores
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != label)
        .map(|(_, &s)| s)
        .max_by(|a, b| a.total_cmp(b));
    match best {
        Some(s) => (1.0 + s - scores[label]).max(0.0),
        None => 0.0,
    }
}

/// The square of the largest element by `if let Some(&m) = x.iter().max_by(..)`: ∂ = 2m at
/// the largest, −1 for an empty slice.
#[differentiate]
fn largest_sq(x: &[f64]) -> f64 {
    if let Some(&m) = x.iter().max_by(|a, b| a.partial_cmp(b).unwrap()) {
        m * m
    } else {
        -1.0
    }
}

/// Twice the smallest element above a threshold, or the threshold itself, by
/// `min_by(..).unwrap_or(t)`: ∂ = 2 at that element, or ∂t = 2.
#[differentiate]
fn smallest_above(x: &[f64], t: f64) -> f64 {
    let lo = x
        .iter()
        .copied()
        .filter(|&v| v > t)
        .min_by(|a, b| a.total_cmp(b))
        .unwrap_or(t);
    2.0 * lo
}

/// Σ sin xᵢ by `reduce` in a `match`: ∂xᵢ = cos xᵢ.
#[differentiate]
fn sin_sum(x: &[f64]) -> f64 {
    match x.iter().map(|v| v.sin()).reduce(|a, b| a + b) {
        Some(s) => s,
        None => 0.0,
    }
}

#[test]
fn option_of_the_best_item() {
    let s = [0.4, 1.2, 0.9, -0.3];
    let (v, g) = multiclass_hinge_grad(&s, 2);
    close("value", v, multiclass_hinge(&s, 2), TOL);
    close_all("∂s", &g, &[0.0, 1.0, -1.0, 0.0]);
    fd_vec("hinge", |s| multiclass_hinge(s, 2), &s, &g);
    let (v, g) = multiclass_hinge_grad(&[0.5], 0);
    close("one class", v, 0.0, TOL);
    close_all("one class", &g, &[0.0]);

    let (v, g) = largest_sq_grad(&s);
    close("value", v, largest_sq(&s), TOL);
    close_all("∂x", &g, &[0.0, 2.4, 0.0, 0.0]);
    let (v, g) = largest_sq_grad(&[]);
    close("empty", v, -1.0, TOL);
    assert!(g.is_empty());

    let (v, (g, gt)) = smallest_above_grad(&s, 0.5);
    close("value", v, smallest_above(&s, 0.5), TOL);
    close_all("∂x", &g, &[0.0, 0.0, 2.0, 0.0]);
    close("∂t", gt, 0.0, TOL);
    let (v, (g, gt)) = smallest_above_grad(&s, 1.5);
    close("value", v, 3.0, TOL);
    close_all("∂x", &g, &[0.0; 4]);
    close("∂t", gt, 2.0, TOL);

    let (v, g) = sin_sum_grad(&s);
    close("value", v, sin_sum(&s), TOL);
    let want: Vec<f64> = s.iter().map(|v| v.cos()).collect();
    close_all("∂x", &g, &want);
}

/// Distance between two vectors with `std::iter::zip`: ‖a − b‖; ∂a = (a − b)/‖a − b‖ = −∂b.
#[differentiate]
fn zip_distance(a: &[f64], b: &[f64]) -> f64 {
    std::iter::zip(a, b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// `std::iter::zip` over a range slice, a `Vec` and a mapped chain, and over `&mut buf`:
/// L = Σᵢ aᵢ₊₁bᵢ + 2Σ aᵢbᵢ + Σ i·aᵢ².
#[differentiate]
fn zip_forms(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, &y) in std::iter::zip(&a[1..], b) {
        s += x * y;
    }
    let v = a.to_vec();
    s += core::iter::zip(&v, b.iter().map(|t| t * 2.0))
        .map(|(p, q)| p * q)
        .sum::<f64>();
    let mut buf = vec![0.0; a.len()];
    for (o, x) in std::iter::zip(&mut buf, a) {
        *o = x * x;
    }
    s + std::iter::zip(0..a.len(), &buf)
        .map(|(i, v)| i as f64 * v)
        .sum::<f64>()
}

#[test]
fn std_iter_zip() {
    let (a, b) = ([1.0, 2.0, -0.5], [0.5, 0.5, 1.5]);
    let (v, (ga, gb)) = zip_distance_grad(&a, &b);
    close("value", v, zip_distance(&a, &b), TOL);
    let want: Vec<f64> = a.iter().zip(&b).map(|(x, y)| (x - y) / v).collect();
    close_all("∂a", &ga, &want);
    let neg: Vec<f64> = want.iter().map(|w| -w).collect();
    close_all("∂b", &gb, &neg);

    let (a, b) = ([1.0, 2.0, 3.0], [0.5, 0.25, 4.0]);
    let (v, (ga, gb)) = zip_forms_grad(&a, &b);
    close("value", v, zip_forms(&a, &b), TOL);
    // ∂aᵢ = bᵢ₋₁ + 2bᵢ + 2i·aᵢ, ∂bᵢ = aᵢ₊₁ + 2aᵢ
    close_all("∂a", &ga, &[1.0, 0.5 + 0.5 + 4.0, 0.25 + 8.0 + 12.0]);
    close_all("∂b", &gb, &[2.0 + 2.0, 3.0 + 4.0, 6.0]);
}

// ---------------------------------------------------------------------------------------------
// More idioms: methods taking `self` by value, tuple accumulators, `Option` parameters, local
// matrices written element by element, `s![..]`, closures returning tuples, generic `impl`s,
// integer labels, mixed precision, local arrays, adaptive last steps, `loop` with `break`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
struct Osc {
    x: f64,
    v: f64,
}

impl Osc {
    #[differentiate]
    fn step(self, k: f64, dt: f64) -> Osc {
        Osc {
            x: self.x + dt * self.v,
            v: self.v - dt * k * self.x,
        }
    }
}

/// Ten explicit Euler steps by a method taking `self` by value, `s = s.step(k, dt)`: linear
/// in x0, so ∂x0 = x/x0; ∂k by fd.
#[differentiate]
fn osc_position(k: f64, x0: f64) -> f64 {
    let mut s = Osc { x: x0, v: 0.0 };
    for _ in 0..10 {
        s = s.step(k, 0.1);
    }
    s.x
}

#[test]
fn method_by_value_in_a_loop() {
    let (k, x0) = (1.0, 0.5);
    let (v, g) = osc_position_grad(k, x0);
    close("value", v, osc_position(k, x0), TOL);
    close("∂x0", g.1, v / x0, 1e-12);
    fd2("osc", osc_position, (k, x0), g);
}

/// Σ cᵢ xⁱ by a fold with a tuple accumulator (sum, power): ∂cᵢ = xⁱ, ∂x = Σ i·cᵢ·xⁱ⁻¹.
#[differentiate]
fn power_series(c: &[f64], x: f64) -> f64 {
    let (acc, _) = c
        .iter()
        .fold((0.0, 1.0), |(acc, pw), &ci| (acc + ci * pw, pw * x));
    acc
}

#[test]
fn fold_with_a_tuple_accumulator() {
    let c = [1.0, 2.0, 3.0, -0.5];
    let x = 0.6;
    let (v, (gc, gx)) = power_series_grad(&c, x);
    close("value", v, power_series(&c, x), TOL);
    let want: Vec<f64> = (0..4).map(|i| x.powi(i)).collect();
    close_all("∂c", &gc, &want);
    let dx: f64 = (1..4).map(|i| i as f64 * c[i] * x.powi(i as i32 - 1)).sum();
    close("∂x", gx, dx, 1e-12);
}

/// Squared residuals with optional per-sample weights, `Option<&[f64]>` matched:
/// ∂rᵢ = 2wᵢrᵢ (wᵢ = 1 without weights).
#[differentiate(wrt(r))]
fn maybe_weighted(r: &[f64], weights: Option<&[f64]>) -> f64 {
    match weights {
        Some(w) => r.iter().zip(w).map(|(a, b)| a * a * b).sum(),
        None => r.iter().map(|a| a * a).sum(),
    }
}

#[test]
fn optional_weights_slice() {
    let r = [1.0, -2.0, 0.5];
    let w = [0.5, 2.0, 1.5];
    let (v, g) = maybe_weighted_grad(&r, Some(&w));
    close("value", v, maybe_weighted(&r, Some(&w)), TOL);
    close_all("∂r", &g, &[1.0, -8.0, 1.5]);
    let (_, g) = maybe_weighted_grad(&r, None);
    close_all("∂r", &g, &[2.0, -4.0, 1.0]);
}

/// The sum of a Gaussian kernel matrix Kᵢⱼ = exp(−(xᵢ − xⱼ)²) written element by element into
/// a local `Array2::zeros`: ∂xᵢ = Σⱼ −4(xᵢ − xⱼ)Kᵢⱼ.
#[differentiate]
fn kernel_sum(x: &Array1<f64>) -> f64 {
    let n = x.len();
    let mut k = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            k[[i, j]] = (-(x[i] - x[j]).powi(2)).exp();
        }
    }
    k.sum()
}

#[test]
fn kernel_matrix_written_by_element() {
    let x = Array1::from(vec![0.1, 0.5, 0.2, -0.4]);
    let (v, g) = kernel_sum_grad(&x);
    close("value", v, kernel_sum(&x), TOL);
    for i in 0..4 {
        let want: f64 = (0..4)
            .map(|j| {
                let d = x[i] - x[j];
                -4.0 * d * (-d * d).exp()
            })
            .sum();
        close("∂x", g[i], want, 1e-12);
    }
    fd_array("kernel", kernel_sum, &x, &g);
}

/// Squared first differences through `s![1..]` and `s![..-1]`: ∂xᵢ = 2(dᵢ₋₁ − dᵢ).
#[differentiate]
fn roughness(x: &Array1<f64>) -> f64 {
    let d = &x.slice(ndarray::s![1..]) - &x.slice(ndarray::s![..-1]);
    d.mapv(|v| v * v).sum()
}

#[test]
fn differences_by_slices() {
    let x = Array1::from(vec![0.1, 0.5, 0.2, 0.9]);
    let (v, g) = roughness_grad(&x);
    close("value", v, roughness(&x), TOL);
    // d = (0.4, −0.3, 0.7)
    close_all(
        "∂x",
        g.as_slice().unwrap(),
        &[-0.8, 2.0 * (0.4 + 0.3), 2.0 * (-0.3 - 0.7), 1.4],
    );
    fd_array("roughness", roughness, &x, &g);
}

/// A closure returning a tuple and one called inside another expression:
/// a²(cos²b + 2 sin²b) = a²(1 + sin²b); ∂a = 2a(1 + sin²b), ∂b = a²·sin 2b.
#[differentiate]
fn polar_energy(a: f64, b: f64) -> f64 {
    let sq = |t: f64| t * t;
    let polar = |r: f64, th: f64| (r * th.cos(), r * th.sin());
    let (x, y) = polar(a, b);
    sq(x) + 2.0 * sq(y)
}

#[test]
fn closures_returning_tuples() {
    let (a, b) = (1.2, 0.3);
    let (v, g) = polar_energy_grad(a, b);
    close("value", v, polar_energy(a, b), TOL);
    close2(
        "gradient",
        g,
        (2.0 * a * (1.0 + b.sin().powi(2)), a * a * (2.0 * b).sin()),
    );
}

#[derive(Clone, Debug, Differentiable)]
struct Line<T> {
    w: T,
    b: T,
}

impl<T: Float> Line<T> {
    /// Σ (w·x + b − y)² in a generic `impl`: ∂w = 2Σ eᵢxᵢ, ∂b = 2Σ eᵢ.
    #[differentiate(wrt(self))]
    fn sse(&self, xs: &[T], ys: &[T]) -> T
    where
        T: Float,
    {
        let mut l = T::zero();
        for (&x, &y) in xs.iter().zip(ys) {
            let e = self.w * x + self.b - y;
            l = l + e * e;
        }
        l
    }
}

#[test]
fn generic_impl_method() {
    let line = Line { w: 0.5, b: 0.1 };
    let (xs, ys) = ([1.0, 2.0, -1.0], [0.3, 0.4, -0.2]);
    let (v, g) = line.sse_grad(&xs, &ys);
    close("value", v, line.sse(&xs, &ys), TOL);
    let e: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 0.5 * x + 0.1 - y).collect();
    close(
        "∂w",
        g.w,
        2.0 * e.iter().zip(&xs).map(|(e, x)| e * x).sum::<f64>(),
        1e-12,
    );
    close("∂b", g.b, 2.0 * e.iter().sum::<f64>(), 1e-12);
    let line32 = Line { w: 0.5f32, b: 0.1 };
    let (_, g32) = line32.sse_grad(&[1.0, 2.0, -1.0], &[0.3, 0.4, -0.2]);
    assert!((g32.w as f64 - g.w).abs() < 1e-5 && (g32.b as f64 - g.b).abs() < 1e-5);
}

/// Logits picked by labels stored as `i32` and cast: ∂logitsⱼ = how often j is a label.
#[differentiate]
fn picked(logits: &[f64], labels: &[i32]) -> f64 {
    let mut s = 0.0;
    for &l in labels {
        s += logits[l as usize];
    }
    s
}

/// A softmax entry at the first positive input, found by `position`, with
/// `collect::<Vec<_>>()`: fd only.
#[differentiate]
fn first_positive_share(x: &[f64], t: f64) -> f64 {
    let e = x.iter().map(|v| (v * t).exp()).collect::<Vec<_>>();
    let i = x.iter().position(|&v| v > 0.0).unwrap_or(0);
    e[i] / e.iter().sum::<f64>()
}

/// f32 weights cast up to f64 inside: tanh(Σ wᵢxᵢ); ∂wᵢ = (1 − tanh²)·xᵢ, in f32.
#[differentiate]
fn mixed_precision(w: &[f32], x: &[f64]) -> f64 {
    let mut acc = 0.0f64;
    for (a, b) in w.iter().zip(x) {
        acc += (*a as f64) * b;
    }
    acc.tanh()
}

/// A local fixed-size buffer written through `iter_mut().zip(..)`: ‖x‖; ∂x = x/‖x‖.
#[differentiate]
fn norm_via_buffer(x: &[f64]) -> f64 {
    let mut buf = [0.0; 4];
    for (b, v) in buf.iter_mut().zip(x) {
        *b = v * v;
    }
    buf.iter().sum::<f64>().sqrt()
}

#[test]
fn labels_positions_casts_and_buffers() {
    let (v, g) = picked_grad(&[1.0, 2.0, 3.0], &[2, 0, 2]);
    close("value", v, 7.0, TOL);
    close_all("∂logits", &g, &[1.0, 0.0, 2.0]);

    let x = [-1.0, 2.0, 3.0];
    let (v, (gx, gt)) = first_positive_share_grad(&x, 0.5);
    close("value", v, first_positive_share(&x, 0.5), TOL);
    fd_vec("∂x", |x| first_positive_share(x, 0.5), &x, &gx);
    fd("∂t", |t| first_positive_share(&x, t), 0.5, gt);

    let (v, (gw, gx)) = mixed_precision_grad(&[0.5, 0.25], &[1.0, 2.0]);
    close("value", v, 1f64.tanh(), TOL);
    let d = 1.0 - v * v;
    assert!((gw[0] as f64 - d).abs() < 1e-6 && (gw[1] as f64 - 2.0 * d).abs() < 1e-6);
    close_all("∂x", &gx, &[0.5 * d, 0.25 * d]);

    let (v, g) = norm_via_buffer_grad(&[3.0, 4.0]);
    close("value", v, 5.0, TOL);
    close_all("∂x", &g, &[0.6, 0.8]);
}

/// Euler steps of y′ = −k·y with the last step cut to reach t_end exactly
/// (`f64::min(dt, t_end − t)`): y = (1 − k·dt)⁵(1 − k·h) with h = t_end − 0.5;
/// ∂k = −y(5dt/(1 − k·dt) + h/(1 − k·h)), ∂t_end = −k·(1 − k·dt)⁵.
#[differentiate]
fn decay_to(k: f64, t_end: f64) -> f64 {
    let mut t = 0.0;
    let mut y = 1.0;
    let dt = 0.1;
    while t < t_end {
        let h = f64::min(dt, t_end - t);
        y -= h * k * y;
        t += h;
    }
    y
}

/// Heron's square root in a `loop` with `break` and an iteration cap: ∂a = 1/(2√a).
#[differentiate]
fn heron(a: f64) -> f64 {
    let mut x = 1.0;
    let mut n = 0;
    loop {
        let nx = 0.5 * (x + a / x);
        n += 1;
        if (nx - x).abs() < 1e-12 || n > 50 {
            x = nx;
            break;
        }
        x = nx;
    }
    x
}

#[test]
fn adaptive_last_step_and_loop_break() {
    let (k, te) = (0.7, 0.55);
    let (v, g) = decay_to_grad(k, te);
    close("value", v, decay_to(k, te), TOL);
    // t after five steps of 0.1 is 0.5 up to rounding
    let h = te - (0..5).fold(0.0, |t, _| t + 0.1);
    let q: f64 = 1.0 - k * 0.1;
    close("∂k", g.0, -v * (0.5 / q + h / (1.0 - k * h)), 1e-12);
    close("∂t_end", g.1, -k * q.powi(5), 1e-12);

    let (v, g) = heron_grad(2.0);
    close("value", v, 2f64.sqrt(), 1e-15);
    close("∂a", g, 0.5 / 2f64.sqrt(), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// ndarray idioms: 1-D iteration, axis sums and columns, `Array1::from_iter` and
// `collect::<Array1<f64>>()` (rejected before), `nn::log_softmax` read by label, broadcasting
// a view, a sample standard deviation written out.
// ---------------------------------------------------------------------------------------------

/// Σ aᵢbᵢ over the iterators of two `Array1`: ∂a = b, ∂b = a.
#[differentiate]
fn array_iter_dot(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum::<f64>()
}

/// ‖column sums‖² + Σ column 1 + Σ exp(column 0):
/// ∂xᵢⱼ = 2·sⱼ + [j = 1] + [j = 0]·exp(xᵢ₀), with sⱼ the column sums.
#[differentiate]
fn column_stats(x: &Array2<f64>) -> f64 {
    let m = x.sum_axis(Axis(0)).mapv(|v| v * v);
    m.sum() + x.column(1).sum() + x.slice(ndarray::s![.., 0]).mapv(f64::exp).sum()
}

/// Σ sin xᵢ through `collect::<Array1<f64>>()` plus ‖(i·xᵢ)‖² through `Array1::from_iter`:
/// ∂xᵢ = cos xᵢ + 2i²xᵢ.
#[differentiate]
fn arrays_from_chains(x: &Array1<f64>) -> f64 {
    let y = x.iter().map(|v| v.sin()).collect::<Array1<f64>>();
    let z: Array1<f64> = Array1::from_iter((0..x.len()).map(|i| x[i] * i as f64));
    y.sum() + z.dot(&z)
}

/// Mean negative log-likelihood of `nn::log_softmax(x·W)` read at each row's label:
/// ∂W = xᵀ(softmax − onehot)/n.
#[differentiate(wrt(w))]
fn log_softmax_by_label(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let logits = x.dot(w);
    let lp = autodiff::nn::log_softmax(&logits);
    let mut s = 0.0;
    for (i, &l) in labels.iter().enumerate() {
        s -= lp[[i, l]];
    }
    s / labels.len() as f64
}

/// Σ |(x + b) − x| with b broadcast as a row view: ∂b = nrows·sign(b), ∂x = 0.
#[differentiate]
fn broadcast_view(x: &Array2<f64>, b: &Array1<f64>) -> f64 {
    let y = x + &b.view().insert_axis(Axis(0));
    (&y - x).mapv(f64::abs).sum()
}

/// The sample standard deviation written out: ∂xᵢ = (xᵢ − m)/((n − 1)·sd).
#[differentiate]
fn sample_sd(x: &Array1<f64>) -> f64 {
    let n = x.len() as f64;
    let mean = x.sum() / n;
    let var = x.mapv(|v| (v - mean).powi(2)).sum() / (n - 1.0);
    var.sqrt()
}

#[test]
fn ndarray_idioms() {
    let a = vector(4, 1.0);
    let b = vector(4, 2.0);
    let (v, (ga, gb)) = array_iter_dot_grad(&a, &b);
    close("value", v, a.dot(&b), TOL);
    close_all("∂a", ga.as_slice().unwrap(), b.as_slice().unwrap());
    close_all("∂b", gb.as_slice().unwrap(), a.as_slice().unwrap());

    let x = matrix(3, 3, 3.0);
    let (v, g) = column_stats_grad(&x);
    close("value", v, column_stats(&x), TOL);
    let sums = x.sum_axis(Axis(0));
    for i in 0..3 {
        for j in 0..3 {
            let want = 2.0 * sums[j]
                + if j == 1 { 1.0 } else { 0.0 }
                + if j == 0 { x[[i, 0]].exp() } else { 0.0 };
            close("∂x", g[[i, j]], want, 1e-12);
        }
    }

    let x = vector(4, 4.0);
    let (v, g) = arrays_from_chains_grad(&x);
    close("value", v, arrays_from_chains(&x), TOL);
    for i in 0..4 {
        let fi = i as f64;
        close("∂x", g[i], x[i].cos() + 2.0 * fi * fi * x[i], 1e-12);
    }

    let w = matrix(3, 4, 5.0);
    let xs = matrix(5, 3, 6.0);
    let labels = [3usize, 0, 1, 1, 2];
    let (v, g) = log_softmax_by_label_grad(&w, &xs, &labels);
    close("value", v, log_softmax_by_label(&w, &xs, &labels), TOL);
    let logits = xs.dot(&w);
    let mut d = Array2::<f64>::zeros((5, 4));
    for i in 0..5 {
        let p = softmax_of(&logits.row(i).to_vec());
        for j in 0..4 {
            d[[i, j]] = (p[j] - if j == labels[i] { 1.0 } else { 0.0 }) / 5.0;
        }
    }
    let want = xs.t().dot(&d);
    for (a, b) in g.iter().zip(want.iter()) {
        close("∂W", *a, *b, 1e-12);
    }

    let x = matrix(3, 4, 7.0);
    let b = vector(4, 8.0);
    let (v, (gx, gb)) = broadcast_view_grad(&x, &b);
    close("value", v, broadcast_view(&x, &b), TOL);
    assert!(gx.iter().all(|&g| g.abs() < 1e-12));
    let want: Vec<f64> = b.iter().map(|v| 3.0 * v.signum()).collect();
    close_all("∂b", gb.as_slice().unwrap(), &want);

    let x = vector(5, 9.0);
    let (sd, g) = sample_sd_grad(&x);
    close("value", sd, x.std(1.0), 1e-12);
    let m = x.mean().unwrap();
    for i in 0..5 {
        close("∂x", g[i], (x[i] - m) / (4.0 * sd), 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Iterator orders: `rev` over chunks with a short last chunk, `step_by` after `rev`,
// `enumerate` after `skip`, `chunks_exact` beside `chunks`, `take` past the end, each against
// central differences of the plain function.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn chunk_orders(x: &[f64]) -> f64 {
    let a: f64 = x
        .chunks(3)
        .rev()
        .enumerate()
        .map(|(i, c)| (i + 1) as f64 * c.iter().sum::<f64>())
        .sum();
    let b: f64 = x
        .windows(2)
        .rev()
        .step_by(2)
        .enumerate()
        .map(|(i, w)| (i as f64 + 1.0) * w[0] * w[1])
        .sum();
    let c: f64 = x
        .chunks(3)
        .skip(1)
        .rev()
        .map(|c| c[0] * c.len() as f64)
        .sum();
    a + b + c
}

#[differentiate]
fn skip_rev_orders(x: &[f64], y: &[f64]) -> f64 {
    let a: f64 = x
        .iter()
        .skip(2)
        .enumerate()
        .map(|(i, v)| i as f64 * v)
        .sum();
    let b: f64 = x
        .iter()
        .rev()
        .skip(1)
        .step_by(2)
        .take(2)
        .enumerate()
        .map(|(i, v)| (i as f64 + 2.0) * v * v)
        .sum();
    let c: f64 = x
        .iter()
        .step_by(2)
        .rev()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0) * v)
        .sum();
    let d: f64 = x
        .chunks_exact(3)
        .zip(y.chunks(2))
        .map(|(c, d)| c[2] * d[d.len() - 1])
        .sum();
    let e: f64 = x
        .iter()
        .take(100)
        .zip(y.iter().rev())
        .map(|(p, q)| p * q * q)
        .sum();
    let mut f = 0.0;
    for (i, w) in x.windows(3).enumerate().skip(1).step_by(2) {
        f += i as f64 * (w[0] - w[2]).powi(2);
    }
    a + b + c + d + e + f
}

#[test]
fn iterator_orders() {
    let x = data(8, 0.4);
    let y = data(5, 1.8);
    let (v, g) = chunk_orders_grad(&x);
    close("value", v, chunk_orders(&x), TOL);
    fd_vec("chunk orders", chunk_orders, &x, &g);
    // the first sum alone: chunks [0..3], [3..6], [6..8] weighted 3, 2, 1 after `rev`
    let (_, gx) = chunk_orders_grad(&[0.0; 8]);
    close("weight of the last chunk", gx[7], 1.0, TOL);
    let (v, (gx, gy)) = skip_rev_orders_grad(&x, &y);
    close("value", v, skip_rev_orders(&x, &y), TOL);
    fd_vec("∂x", |x| skip_rev_orders(x, &y), &x, &gx);
    fd_vec("∂y", |y| skip_rev_orders(&x, y), &y, &gy);
}

// ---------------------------------------------------------------------------------------------
// A model struct with a `Vec` field and methods; comparisons and float tests as data.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Logistic {
    w: Vec<f64>,
    b: f64,
}

#[differentiate]
fn sigmoid_d(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Logistic {
    #[differentiate]
    fn predict(&self, x: &[f64]) -> f64 {
        let z: f64 = self.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + self.b;
        sigmoid_d(z)
    }

    /// Mean binary cross-entropy with an `assert_eq!`, an early return for no data and the
    /// prediction clamped away from 0 and 1: ∂w = Σ (pᵢ − yᵢ)xᵢ/n, ∂b = Σ (pᵢ − yᵢ)/n.
    #[differentiate(wrt(self))]
    fn bce(&self, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        assert_eq!(xs.len(), ys.len());
        let n = xs.len();
        if n == 0 {
            return 0.0;
        }
        let mut l = 0.0;
        for (x, &y) in xs.iter().zip(ys) {
            let p = self.predict(x).clamp(1e-12, 1.0 - 1e-12);
            l -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
        }
        l / n as f64
    }
}

#[test]
fn model_with_a_vec_field() {
    let m = Logistic {
        w: vec![0.3, -0.2],
        b: 0.1,
    };
    let xs = vec![vec![1.0, 2.0], vec![-0.5, 0.3], vec![0.7, -1.1]];
    let ys = [1.0, 0.0, 1.0];
    let (v, g) = m.bce_grad(&xs, &ys);
    close("value", v, m.bce(&xs, &ys), TOL);
    let (mut gw, mut gb) = (vec![0.0; 2], 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let p = m.predict(x);
        gb += (p - y) / 3.0;
        for j in 0..2 {
            gw[j] += (p - y) * x[j] / 3.0;
        }
    }
    close_all("∂w", &g.w, &gw);
    close("∂b", g.b, gb, 1e-12);
    let (v, _) = m.bce_grad(&[], &[]);
    close("no data", v, 0.0, TOL);
}

/// A `match` on `partial_cmp` and `is_finite` tests on a differentiated value, both as data:
/// r = y − x below, 2(x − y) above; L = r².
#[differentiate]
fn ordered_gap(x: f64, y: f64) -> f64 {
    let r = match x.partial_cmp(&y) {
        Some(std::cmp::Ordering::Less) => y - x,
        Some(std::cmp::Ordering::Greater) => (x - y) * 2.0,
        _ => 0.0,
    };
    if r.is_finite() && !r.is_nan() {
        r * r
    } else {
        0.0
    }
}

/// Leaky ReLU sum, generic, with constants through `T::from` and `T::epsilon()`:
/// ∂xᵢ = ½ (or ½α below 0), ∂α = ½Σ_{xᵢ<0} xᵢ.
#[differentiate]
fn leaky_half<T: Float>(x: &[T], alpha: T) -> T {
    let half = T::from(0.5).unwrap();
    let mut s = T::zero();
    for &v in x {
        s = s + if v > T::zero() { v } else { alpha * v };
    }
    half * s + T::epsilon() * T::zero()
}

/// Range of the squares of the first `N` inputs in a `const`-sized buffer, with `min`/`max`
/// over a slice of it: ∂ = 2x at the largest square, −2x at the smallest.
#[differentiate]
fn square_range(x: &[f64]) -> f64 {
    const N: usize = 3;
    let mut buf = [0.0; N];
    for i in 0..N.min(x.len()) {
        buf[i] = x[i].powi(2);
    }
    let (mut lo, mut hi) = (buf[0], buf[0]);
    for &b in &buf[1..] {
        lo = lo.min(b);
        hi = hi.max(b);
    }
    hi - lo
}

#[test]
fn comparisons_generic_constants_and_buffers() {
    let (v, g) = ordered_gap_grad(0.3, 0.5);
    close("value", v, 0.04, 1e-15);
    close2("below", g, (-0.4, 0.4));
    let (_, g) = ordered_gap_grad(0.7, 0.5);
    close2("above", g, (1.6, -1.6));

    let (v, (g, ga)) = leaky_half_grad(&[1.0f64, -2.0, 3.0], 0.1);
    close("value", v, 1.9, 1e-15);
    close_all("∂x", &g, &[0.5, 0.05, 0.5]);
    close("∂α", ga, -1.0, TOL);
    let (v32, (g32, _)) = leaky_half_grad(&[1.0f32, -2.0, 3.0], 0.1);
    assert!((v32 - 1.9).abs() < 1e-6 && (g32[1] - 0.05).abs() < 1e-7);

    let (v, g) = square_range_grad(&[0.5, -2.0, 1.0, 9.0]);
    close("value", v, 3.75, TOL);
    close_all("∂x", &g, &[-1.0, -4.0, 0.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Regions of ndarray arrays: `s![i..i + k.len()]` with the length of a differentiated kernel
// (rejected before: the `s!` macro was taken for code reading a differentiated value), max
// pooling over a view's iterator, and a signal on `Array1::linspace` data.
// ---------------------------------------------------------------------------------------------

/// Energy of a valid correlation with windows sliced by `s!`: yᵢ = Σⱼ kⱼxᵢ₊ⱼ, L = Σ yᵢ²;
/// ∂kⱼ = 2Σᵢ yᵢxᵢ₊ⱼ, ∂xₘ = 2Σⱼ yₘ₋ⱼkⱼ.
#[differentiate]
fn sliced_correlation(x: &Array1<f64>, k: &Array1<f64>) -> f64 {
    let n = x.len() - k.len() + 1;
    let mut out = 0.0;
    for i in 0..n {
        let y = x.slice(ndarray::s![i..i + k.len()]).dot(k);
        out += y * y;
    }
    out
}

/// Max pooling over pairs, the maximum of each view by `iter().cloned().fold(.., f64::max)`:
/// ∂ = 1 at each pair's larger element.
#[differentiate]
fn max_pool_pairs(x: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for i in (0..x.len() - 1).step_by(2) {
        let w = x.slice(ndarray::s![i..i + 2]);
        s += w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    }
    s
}

/// Σ sin(w·tᵢ) over `n` points of `Array1::linspace(0, 1, n)`: ∂w = Σ tᵢ cos(w·tᵢ).
#[differentiate]
fn sampled_sine(w: f64, n: usize) -> f64 {
    let t = Array1::linspace(0.0, 1.0, n);
    t.mapv(|v| (w * v).sin()).sum()
}

#[test]
fn regions_pooling_and_linspace() {
    let x = vector(7, 1.0);
    let k = vector(3, 2.0);
    let (v, (gx, gk)) = sliced_correlation_grad(&x, &k);
    close("value", v, sliced_correlation(&x, &k), TOL);
    let y: Vec<f64> = (0..5)
        .map(|i| (0..3).map(|j| k[j] * x[i + j]).sum())
        .collect();
    for j in 0..3 {
        let want: f64 = (0..5).map(|i| 2.0 * y[i] * x[i + j]).sum();
        close("∂k", gk[j], want, 1e-12);
    }
    fd_array("∂x", |x| sliced_correlation(x, &k), &x, &gx);

    let x = Array1::from(vec![0.1, 0.5, -0.3, 0.8, 0.2]);
    let (v, g) = max_pool_pairs_grad(&x);
    close("value", v, 1.3, 1e-15);
    close_all("∂x", g.as_slice().unwrap(), &[0.0, 1.0, 0.0, 1.0, 0.0]);

    let (v, g) = sampled_sine_grad(0.7, 5);
    close("value", v, sampled_sine(0.7, 5), TOL);
    let want: f64 = (0..5)
        .map(|i| {
            let t = i as f64 / 4.0;
            t * (0.7 * t).cos()
        })
        .sum();
    close("∂w", g, want, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Forward mode of the forms followed now: each `_jvp` against central differences along random
// directions and against its `_vjp` (the dot-product test).
// ---------------------------------------------------------------------------------------------

#[test]
fn forward_mode_of_the_new_forms() {
    let s = vec![0.4, 1.2, 0.9, -0.3];
    forward("multiclass_hinge").check(
        &s,
        |x| multiclass_hinge(x, 2),
        |x, v| multiclass_hinge_jvp(x, 2, v),
        |x, w| {
            let (y, pb) = multiclass_hinge_vjp(x, 2);
            (y, pb(w))
        },
    );
    forward("largest_sq").check(
        &s,
        |x| largest_sq(x),
        |x, v| largest_sq_jvp(x, v),
        |x, w| {
            let (y, pb) = largest_sq_vjp(x);
            (y, pb(w))
        },
    );
    forward("sin_sum").check(
        &s,
        |x| sin_sum(x),
        |x, v| sin_sum_jvp(x, v),
        |x, w| {
            let (y, pb) = sin_sum_vjp(x);
            (y, pb(w))
        },
    );
    let ab = (vec![1.0, 2.0, -0.5], vec![0.5, 0.5, 1.5]);
    forward("zip_forms").check(
        &ab,
        |p| zip_forms(&p.0, &p.1),
        |p, v| zip_forms_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, w| {
            let (y, pb) = zip_forms_vjp(&p.0, &p.1);
            (y, pb(w))
        },
    );
    let x0 = vec![0.5, -0.3, 1.1];
    forward("damped_bodies").check(
        &(1.7, x0),
        |p| damped_bodies(p.0, 0.3, &p.1),
        |p, v| damped_bodies_jvp(p.0, 0.3, &p.1, v.0, 0.0, &v.1),
        |p, w| {
            let (y, pb) = damped_bodies_vjp(p.0, 0.3, &p.1);
            let (gk, _, gx) = pb(w);
            (y, (gk, gx))
        },
    );
    let x = vector(4, 4.0);
    forward("arrays_from_chains").check(
        &x,
        |x| arrays_from_chains(x),
        |x, v| arrays_from_chains_jvp(x, v),
        |x, w| {
            let (y, pb) = arrays_from_chains_vjp(x);
            (y, pb(w))
        },
    );
    let xk = (vector(7, 1.0), vector(3, 2.0));
    forward("sliced_correlation").check(
        &xk,
        |p| sliced_correlation(&p.0, &p.1),
        |p, v| sliced_correlation_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, w| {
            let (y, pb) = sliced_correlation_vjp(&p.0, &p.1);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Control flow as data drives it: an enum of commands with `return` and `continue` in a
// `match`, a work list popped until empty, the best iterate kept by a comparison.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Cmd {
    Stop,
    Skip,
    Add,
}

/// Σ xᵢ² over `Add` commands until a `Stop`, which doubles what was gathered:
/// ∂xᵢ = 2xᵢ·(2 if a `Stop` follows) for each `Add` before it.
#[differentiate(wrt(x))]
fn run_commands(x: &[f64], cmds: &[Cmd]) -> f64 {
    let mut s = 0.0;
    for (i, c) in cmds.iter().enumerate() {
        match c {
            Cmd::Stop => return s * 2.0,
            Cmd::Skip => continue,
            Cmd::Add => s += x[i] * x[i],
        }
    }
    s
}

/// A work list: values above 1 are split into halves and quarters, the rest summed squared.
#[differentiate]
fn split_until_small(x: &[f64]) -> f64 {
    let mut stack = x.to_vec();
    let mut total = 0.0;
    while let Some(v) = stack.pop() {
        if v > 1.0 {
            stack.push(v * 0.5);
            stack.push(v * 0.25);
        } else {
            total += v * v;
        }
    }
    total
}

/// Damped steps towards moving targets, keeping the best iterate (a `Vec` replaced in a
/// branch) and its error: fd.
#[differentiate]
fn best_iterate(x0: &[f64], step: f64) -> f64 {
    let mut x = x0.to_vec();
    let mut best = f64::INFINITY;
    let mut best_x = x.clone();
    for k in 0..5 {
        for v in x.iter_mut() {
            *v -= step * (*v - 0.3 * k as f64);
        }
        let e: f64 = x.iter().map(|v| (v - 0.5).powi(2)).sum();
        if e < best {
            best = e;
            best_x = x.clone();
        }
    }
    best_x.iter().sum::<f64>() + best
}

#[test]
fn control_flow_driven_by_data() {
    let x = [0.5, 1.5, 0.7, 3.0];
    let cmds = [Cmd::Add, Cmd::Skip, Cmd::Add, Cmd::Stop];
    let (v, g) = run_commands_grad(&x, &cmds);
    close("value", v, 2.0 * (0.25 + 0.49), 1e-15);
    close_all("∂x", &g, &[2.0, 0.0, 2.8, 0.0]);
    let (_, g) = run_commands_grad(&x, &[Cmd::Add, Cmd::Add]);
    close_all("no stop", &g, &[1.0, 3.0, 0.0, 0.0]);

    let (v, g) = split_until_small_grad(&x);
    close("value", v, split_until_small(&x), TOL);
    // 1.5 → 0.75² + 0.375²; 3 → 1.5 (→ 0.75, 0.375) and 0.75: each piece c·x adds 2c²x
    close_all(
        "∂x",
        &g,
        &[
            1.0,
            2.0 * (0.25 + 0.0625) * 1.5,
            1.4,
            2.0 * (0.0625 + 0.015625 + 0.0625) * 3.0,
        ],
    );
    fd_vec("work list", split_until_small, &x, &g);

    let (v, (gx, gs)) = best_iterate_grad(&x, 0.3);
    close("value", v, best_iterate(&x, 0.3), TOL);
    fd_vec("∂x0", |x| best_iterate(x, 0.3), &x, &gx);
    fd("∂step", |s| best_iterate(&x, s), 0.3, gs);
}

/// An `Array1` parameter copied into a `Vec` by `to_vec()` (a type mismatch inside the
/// generated code before: the `Vec`'s adjoint was given as the array's), extended with a
/// second array and made an array again: c = (a, b), L = Σ c² + c₀c₃;
/// ∂a = 2a + (c₃, 0), ∂b = 2b + (0, c₀).
#[differentiate]
fn joined(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let mut v = a.to_vec();
    v.extend(b.iter());
    let c = Array1::from(v);
    c.dot(&c) + c[0] * c[3]
}

#[test]
fn to_vec_of_an_array_parameter() {
    let a = Array1::from(vec![1.0, 2.0]);
    let b = Array1::from(vec![3.0, 4.0]);
    let (v, (ga, gb)) = joined_grad(&a, &b);
    close("value", v, 34.0, TOL);
    close_all("∂a", ga.as_slice().unwrap(), &[6.0, 4.0]);
    close_all("∂b", gb.as_slice().unwrap(), &[6.0, 9.0]);
    forward("joined").check(
        &(a, b),
        |p| joined(&p.0, &p.1),
        |p, v| joined_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, w| {
            let (y, pb) = joined_vjp(&p.0, &p.1);
            (y, pb(w))
        },
    );
}
