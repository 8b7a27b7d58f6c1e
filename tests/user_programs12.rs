//! Struct-heavy model code as Rust engineers write it: `struct Model { layers: Vec<Layer> }`
//! with `impl` blocks whose methods call each other (`forward`, `loss`, `predict`), parameter
//! structs nested two deep, builder-style configurations, traits implemented by several
//! structs, enums selecting activations and losses, `impl Default`, `const` hyperparameters,
//! `Vec`s of parameter structs iterated with `iter().map()`, methods returning tuples, `f32`
//! models, models generic over `F: Float`, and the runtime's optimizers training a few steps —
//! in domains the earlier rounds left out: crop yields, credit scoring, battery fade, vibration
//! monitoring, thermistor calibration, review sentiment, sensor fusion, call-centre arrivals,
//! learning curves, wind-turbine power curves, and more.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Where a model is trained, the loss must go down and the gradient at the start
//! must pass the finite-difference check.

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
    clippy::single_match,
    clippy::new_without_default
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::optim::{Adam, AdamConfig, Optimizer};
use autodiff::{Differentiable, differentiate};
use num_traits::Float;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// A crop-yield regressor: `Model { layers: Vec<Layer> }` with an activation chosen by an enum.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    Tanh,
    Identity,
}

#[derive(Clone, Debug, Differentiable)]
struct Layer {
    w: Vec<Vec<f64>>,
    b: Vec<f64>,
}

#[differentiate]
impl Layer {
    fn affine(&self, x: &[f64]) -> Vec<f64> {
        self.w
            .iter()
            .zip(&self.b)
            .map(|(row, b)| row.iter().zip(x).map(|(w, v)| w * v).sum::<f64>() + b)
            .collect()
    }
}

#[derive(Clone, Debug, Differentiable)]
struct CropModel {
    layers: Vec<Layer>,
}

fn activate(z: f64, act: Act) -> f64 {
    match act {
        Act::Tanh => z.tanh(),
        Act::Identity => z,
    }
}

#[differentiate]
fn activate_d(z: f64, tanh: bool) -> f64 {
    if tanh { z.tanh() } else { z }
}

#[differentiate]
impl CropModel {
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        let n = self.layers.len();
        for (i, layer) in self.layers.iter().enumerate() {
            let z = layer.affine(&h);
            let last = i + 1 == n;
            h = z.iter().map(|&v| activate_d(v, !last)).collect();
        }
        h
    }

    fn predict(&self, x: &[f64]) -> f64 {
        self.forward(x)[0]
    }

    fn loss(&self, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        let mut total = 0.0;
        for (x, y) in xs.iter().zip(ys) {
            let r = self.predict(x) - y;
            total += r * r;
        }
        total / xs.len() as f64
    }
}

fn crop_data() -> (Vec<Vec<f64>>, Vec<f64>) {
    // rainfall (standardized), temperature (standardized) → yield (t/ha, centred)
    let xs = vec![
        vec![0.3, -0.5],
        vec![-1.1, 0.4],
        vec![0.8, 0.9],
        vec![-0.2, -1.3],
        vec![1.4, 0.1],
    ];
    let ys = vec![0.4, -0.9, 0.2, -0.1, 1.0];
    (xs, ys)
}

fn crop_model() -> CropModel {
    CropModel {
        layers: vec![
            Layer {
                w: vec![vec![0.5, -0.3], vec![0.2, 0.7], vec![-0.6, 0.1]],
                b: vec![0.1, -0.2, 0.05],
            },
            Layer {
                w: vec![vec![0.8, -0.4, 0.3]],
                b: vec![0.02],
            },
        ],
    }
}

#[test]
fn crop_yield_mlp_of_layers_with_methods_calling_each_other() {
    let (xs, ys) = crop_data();
    let m = crop_model();
    let (v, (g, _, _)) = CropModel::loss_grad(&m, &xs, &ys);
    close("value", v, m.loss(&xs, &ys), TOL);
    // Backprop: hidden a = tanh(W₁x + b₁), ŷ = W₂a + b₂, L = mean (ŷ − y)²;
    // ∂b₂ = Σ 2r/n, ∂W₂ = Σ 2r/n · aᵀ, δ = W₂ᵀ(2r/n) ⊙ (1 − a²), ∂W₁ = Σ δ xᵀ, ∂b₁ = Σ δ.
    let n = xs.len() as f64;
    let (l1, l2) = (&m.layers[0], &m.layers[1]);
    let mut ew1 = vec![vec![0.0; 2]; 3];
    let mut eb1 = vec![0.0; 3];
    let mut ew2 = vec![0.0; 3];
    let mut eb2 = 0.0;
    for (x, y) in xs.iter().zip(&ys) {
        let a: Vec<f64> = (0..3)
            .map(|i| activate(l1.w[i][0] * x[0] + l1.w[i][1] * x[1] + l1.b[i], Act::Tanh))
            .collect();
        let yhat = activate(
            (0..3).map(|i| l2.w[0][i] * a[i]).sum::<f64>() + l2.b[0],
            Act::Identity,
        );
        let r = 2.0 * (yhat - y) / n;
        eb2 += r;
        for i in 0..3 {
            ew2[i] += r * a[i];
            let d = r * l2.w[0][i] * (1.0 - a[i] * a[i]);
            eb1[i] += d;
            ew1[i][0] += d * x[0];
            ew1[i][1] += d * x[1];
        }
    }
    for i in 0..3 {
        close_all("∂W₁", &g.layers[0].w[i], &ew1[i]);
    }
    close_all("∂b₁", &g.layers[0].b, &eb1);
    close_all("∂W₂", &g.layers[1].w[0], &ew2);
    close("∂b₂", g.layers[1].b[0], eb2, TOL);
    fd_any("crop model", |p: &CropModel| p.loss(&xs, &ys), &m, &g);
}

#[test]
fn crop_yield_mlp_trained_by_adam() {
    let (xs, ys) = crop_data();
    let mut m = crop_model();
    let start = m.loss(&xs, &ys);
    let (_, (g0, _, _)) = CropModel::loss_grad(&m, &xs, &ys);
    fd_any(
        "crop model at the start",
        |p: &CropModel| p.loss(&xs, &ys),
        &m,
        &g0,
    );
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..60 {
        let (_, (g, _, _)) = CropModel::loss_grad(&m, &xs, &ys);
        adam.step(&mut m, &g);
    }
    let end = m.loss(&xs, &ys);
    assert!(end < 0.5 * start, "Adam did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Credit scoring: a logistic model with a builder-style configuration and `const` penalties.
// ---------------------------------------------------------------------------------------------

const L2_PENALTY: f64 = 1e-2;

#[derive(Clone, Debug)]
struct TrainConfig {
    l2: f64,
    pos_weight: f64,
    clip: f64,
}

impl TrainConfig {
    fn new() -> Self {
        TrainConfig {
            l2: L2_PENALTY,
            pos_weight: 1.0,
            clip: 30.0,
        }
    }
    fn l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }
    fn pos_weight(mut self, w: f64) -> Self {
        self.pos_weight = w;
        self
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Scorecard {
    weights: Vec<f64>,
    bias: f64,
}

#[differentiate]
impl Scorecard {
    fn logit(&self, x: &[f64]) -> f64 {
        self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>() + self.bias
    }

    fn prob(&self, x: &[f64]) -> f64 {
        1.0 / (1.0 + (-self.logit(x)).exp())
    }

    fn penalty(&self) -> f64 {
        self.weights.iter().map(|w| w * w).sum::<f64>()
    }
}

#[differentiate(wrt(card))]
fn credit_loss(card: &Scorecard, cfg: &TrainConfig, xs: &[Vec<f64>], defaulted: &[bool]) -> f64 {
    let mut nll = 0.0;
    for (x, &d) in xs.iter().zip(defaulted) {
        let z = card.logit(x).clamp(-cfg.clip, cfg.clip);
        // log(1 + e^{−z}) for a default (y = 1), log(1 + e^{z}) otherwise
        if d {
            nll += cfg.pos_weight * (1.0 + (-z).exp()).ln();
        } else {
            nll += (1.0 + z.exp()).ln();
        }
    }
    nll / xs.len() as f64 + 0.5 * cfg.l2 * card.penalty()
}

#[test]
fn credit_scorecard_with_a_builder_configuration() {
    let xs = vec![
        vec![0.2, 1.0, -0.4],
        vec![-0.7, 0.3, 0.9],
        vec![1.2, -0.8, 0.1],
        vec![0.4, 0.6, -1.1],
    ];
    let d = vec![true, false, true, false];
    let cfg = TrainConfig::new().l2(0.05).pos_weight(2.5);
    let card = Scorecard {
        weights: vec![0.3, -0.2, 0.5],
        bias: -0.1,
    };
    let (v, g) = credit_loss_grad(&card, &cfg, &xs, &d);
    close("value", v, credit_loss(&card, &cfg, &xs, &d), TOL);
    // ∂z: −w₊σ(−z) for a default, σ(z) otherwise; ∂w = Σ ∂z·x/n + λw, ∂b = Σ ∂z/n.
    let n = xs.len() as f64;
    let mut ew: Vec<f64> = card.weights.iter().map(|w| cfg.l2 * w).collect();
    let mut eb = 0.0;
    for (x, &di) in xs.iter().zip(&d) {
        let z = card.logit(x);
        let s = 1.0 / (1.0 + (-z).exp());
        let dz = if di { -cfg.pos_weight * (1.0 - s) } else { s } / n;
        eb += dz;
        for j in 0..3 {
            ew[j] += dz * x[j];
        }
    }
    close_all("∂w", &g.weights, &ew);
    close("∂b", g.bias, eb, TOL);
    fd_any(
        "credit",
        |c: &Scorecard| credit_loss(c, &cfg, &xs, &d),
        &card,
        &g,
    );
    let p = card.prob(&xs[0]);
    assert!(p > 0.0 && p < 1.0);
}

// ---------------------------------------------------------------------------------------------
// Battery capacity fade: heteroscedastic regression, a method returning (mean, log variance).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct FadeHead {
    slope: f64,
    intercept: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct FadeModel {
    mean: FadeHead,
    log_var: FadeHead,
}

#[differentiate]
impl FadeHead {
    fn at(&self, cycles: f64) -> f64 {
        self.intercept + self.slope * cycles
    }
}

#[differentiate]
impl FadeModel {
    fn predict(&self, cycles: f64) -> (f64, f64) {
        (self.mean.at(cycles), self.log_var.at(cycles))
    }

    /// Gaussian negative log-likelihood ½[(y − μ)² e^{−s} + s] per point.
    fn nll(&self, cycles: &[f64], capacity: &[f64]) -> f64 {
        let mut total = 0.0;
        for i in 0..cycles.len() {
            let (mu, s) = self.predict(cycles[i]);
            total += 0.5 * ((capacity[i] - mu).powi(2) * (-s).exp() + s);
        }
        total
    }
}

#[test]
fn battery_fade_heteroscedastic_model_returning_a_tuple() {
    let cycles = vec![0.1, 0.4, 0.8, 1.2, 1.6];
    let cap = vec![0.99, 0.95, 0.90, 0.86, 0.79];
    let m = FadeModel {
        mean: FadeHead {
            slope: -0.1,
            intercept: 1.0,
        },
        log_var: FadeHead {
            slope: 0.5,
            intercept: -4.0,
        },
    };
    let (v, (g, _, _)) = FadeModel::nll_grad(&m, &cycles, &cap);
    close("value", v, m.nll(&cycles, &cap), TOL);
    // r = y − μ, s = a + b t: ∂μ = −r e^{−s}, ∂s = ½(1 − r² e^{−s}); chain through μ = c + d t.
    let (mut e_ms, mut e_mi, mut e_vs, mut e_vi) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..5 {
        let t = cycles[i];
        let mu = m.mean.intercept + m.mean.slope * t;
        let s = m.log_var.intercept + m.log_var.slope * t;
        let r = cap[i] - mu;
        let dmu = -r * (-s).exp();
        let ds = 0.5 * (1.0 - r * r * (-s).exp());
        e_ms += dmu * t;
        e_mi += dmu;
        e_vs += ds * t;
        e_vi += ds;
    }
    close("∂mean.slope", g.mean.slope, e_ms, 1e-10);
    close("∂mean.intercept", g.mean.intercept, e_mi, 1e-10);
    close("∂log_var.slope", g.log_var.slope, e_vs, 1e-10);
    close("∂log_var.intercept", g.log_var.intercept, e_vi, 1e-10);
    fd_any("fade", |p: &FadeModel| p.nll(&cycles, &cap), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A vibration anomaly score in `f32`: a linear autoencoder with a one-unit bottleneck.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Bottleneck32 {
    enc: Vec<f32>,
    dec: Vec<f32>,
}

#[differentiate]
impl Bottleneck32 {
    fn code(&self, x: &[f32]) -> f32 {
        self.enc.iter().zip(x).map(|(e, v)| e * v).sum()
    }

    fn reconstruct(&self, x: &[f32]) -> Vec<f32> {
        let c = self.code(x);
        self.dec.iter().map(|d| d * c).collect()
    }

    fn score(&self, x: &[f32]) -> f32 {
        let r = self.reconstruct(x);
        r.iter().zip(x).map(|(a, b)| (a - b) * (a - b)).sum::<f32>()
    }
}

#[test]
fn vibration_anomaly_score_in_f32() {
    let m = Bottleneck32 {
        enc: vec![0.5, 0.4, -0.3],
        dec: vec![0.6, 0.2, -0.5],
    };
    let x = vec![1.0f32, 0.5, -0.8];
    let (v, (g, _)) = Bottleneck32::score_grad(&m, &x);
    assert_eq!(v.to_bits(), m.score(&x).to_bits());
    // c = e·x, r = d c − x: ∂d = 2 r c, ∂e = 2 (d·r) x.
    let c: f32 = (0..3).map(|i| m.enc[i] * x[i]).sum();
    let r: Vec<f32> = (0..3).map(|i| m.dec[i] * c - x[i]).collect();
    let dr: f32 = (0..3).map(|i| m.dec[i] * r[i]).sum();
    for i in 0..3 {
        close("∂dec", g.dec[i] as f64, (2.0 * r[i] * c) as f64, 1e-5);
        close("∂enc", g.enc[i] as f64, (2.0 * dr * x[i]) as f64, 1e-5);
    }
    let r = gradcheck(|p: &Bottleneck32| p.score(&x), &m, &g);
    assert!(r.passed(), "vibration f32: {r}");
}

// ---------------------------------------------------------------------------------------------
// Thermistor calibration generic over `F: Float`: the Steinhart–Hart equation.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct SteinhartHart<F: Float> {
    a: F,
    b: F,
    c: F,
}

#[differentiate]
impl<F: Float> SteinhartHart<F> {
    /// 1/T = a + b ln R + c (ln R)³
    fn inv_temp(&self, resistance: F) -> F
    where
        F: Float,
    {
        let l = resistance.ln();
        self.a + self.b * l + self.c * l * l * l
    }

    fn misfit(&self, rs: &[F], inv_ts: &[F]) -> F
    where
        F: Float,
    {
        rs.iter()
            .zip(inv_ts)
            .map(|(&r, &t)| (self.inv_temp(r) - t).powi(2))
            .fold(F::zero(), |a, b| a + b)
    }
}

#[test]
fn thermistor_calibration_generic_over_the_float_type() {
    let rs = vec![2.5, 5.0, 10.0, 20.0];
    let ts = vec![1.9, 1.6, 1.35, 1.1];
    let p = SteinhartHart {
        a: 1.0,
        b: 0.2,
        c: 0.01,
    };
    let (v, (g, _, _)) = SteinhartHart::misfit_grad(&p, &rs, &ts);
    close("value", v, p.misfit(&rs, &ts), TOL);
    // e = a + b l + c l³ − t: ∂a = Σ2e, ∂b = Σ2e l, ∂c = Σ2e l³.
    let (mut ea, mut eb, mut ec) = (0.0, 0.0, 0.0);
    for (r, t) in rs.iter().zip(&ts) {
        let l: f64 = r.ln();
        let e = p.a + p.b * l + p.c * l.powi(3) - t;
        ea += 2.0 * e;
        eb += 2.0 * e * l;
        ec += 2.0 * e * l.powi(3);
    }
    close("∂a", g.a, ea, TOL);
    close("∂b", g.b, eb, TOL);
    close("∂c", g.c, ec, TOL);
    fd_any(
        "steinhart",
        |q: &SteinhartHart<f64>| q.misfit(&rs, &ts),
        &p,
        &g,
    );
    // and the same model over f32
    let p32 = SteinhartHart {
        a: 1.0f32,
        b: 0.2,
        c: 0.01,
    };
    let rs32: Vec<f32> = rs.iter().map(|&r| r as f32).collect();
    let ts32: Vec<f32> = ts.iter().map(|&t| t as f32).collect();
    let (_, (g32, _, _)) = SteinhartHart::misfit_grad(&p32, &rs32, &ts32);
    close("∂a f32", g32.a as f64, ea, 1e-4);
    close("∂c f32", g32.c as f64, ec, 1e-4);
}

// ---------------------------------------------------------------------------------------------
// Review sentiment: parameter structs nested two deep (model → encoder/head → linear).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Linear {
    w: Vec<f64>,
    b: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Encoder {
    units: Vec<Linear>,
}

#[derive(Clone, Debug, Differentiable)]
struct Head {
    out: Linear,
}

#[derive(Clone, Debug, Differentiable)]
struct Sentiment {
    encoder: Encoder,
    head: Head,
}

#[differentiate]
impl Linear {
    fn apply(&self, x: &[f64]) -> f64 {
        self.w.iter().zip(x).map(|(w, v)| w * v).sum::<f64>() + self.b
    }
}

#[differentiate]
impl Encoder {
    fn encode(&self, x: &[f64]) -> Vec<f64> {
        self.units.iter().map(|u| u.apply(x).max(0.0)).collect()
    }
}

#[differentiate]
impl Sentiment {
    fn logit(&self, bag: &[f64]) -> f64 {
        let h = self.encoder.encode(bag);
        self.head.out.apply(&h)
    }

    fn loss(&self, bags: &[Vec<f64>], positive: &[bool]) -> f64 {
        let mut total = 0.0;
        for (bag, &p) in bags.iter().zip(positive) {
            let z = self.logit(bag);
            let y = if p { 1.0 } else { 0.0 };
            // binary cross-entropy with logits: softplus(z) − y z
            total += z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z;
        }
        total / bags.len() as f64
    }
}

fn sentiment_model() -> Sentiment {
    Sentiment {
        encoder: Encoder {
            units: vec![
                Linear {
                    w: vec![0.4, -0.2, 0.3, 0.1],
                    b: 0.1,
                },
                Linear {
                    w: vec![-0.3, 0.5, 0.2, -0.4],
                    b: 0.2,
                },
            ],
        },
        head: Head {
            out: Linear {
                w: vec![0.7, -0.6],
                b: 0.05,
            },
        },
    }
}

#[test]
fn review_sentiment_with_structs_nested_two_deep() {
    // word counts of "great", "awful", "price", "broke"
    let bags = vec![
        vec![2.0, 0.0, 1.0, 0.0],
        vec![0.0, 1.0, 0.0, 2.0],
        vec![1.0, 1.0, 1.0, 0.0],
    ];
    let pos = vec![true, false, true];
    let m = sentiment_model();
    let (v, (g, _)) = Sentiment::loss_grad(&m, &bags, &pos);
    close("value", v, m.loss(&bags, &pos), TOL);
    // dz = (σ(z) − y)/n; ∂out.w = dz h, ∂out.b = dz; unit k active (pre > 0):
    // ∂units[k].w = dz vₖ bag, ∂units[k].b = dz vₖ.
    let n = bags.len() as f64;
    let mut eu = vec![vec![0.0; 4]; 2];
    let mut eub = vec![0.0; 2];
    let mut eo = vec![0.0; 2];
    let mut eob = 0.0;
    for (bag, &p) in bags.iter().zip(&pos) {
        let pre: Vec<f64> = m.encoder.units.iter().map(|u| u.apply(bag)).collect();
        let h: Vec<f64> = pre.iter().map(|v| v.max(0.0)).collect();
        let z = m.head.out.apply(&h);
        let dz = (1.0 / (1.0 + (-z).exp()) - if p { 1.0 } else { 0.0 }) / n;
        eob += dz;
        for k in 0..2 {
            eo[k] += dz * h[k];
            if pre[k] > 0.0 {
                let d = dz * m.head.out.w[k];
                eub[k] += d;
                for j in 0..4 {
                    eu[k][j] += d * bag[j];
                }
            }
        }
    }
    for k in 0..2 {
        close_all("∂units.w", &g.encoder.units[k].w, &eu[k]);
        close("∂units.b", g.encoder.units[k].b, eub[k], TOL);
    }
    close_all("∂out.w", &g.head.out.w, &eo);
    close("∂out.b", g.head.out.b, eob, TOL);
    fd_any("sentiment", |q: &Sentiment| q.loss(&bags, &pos), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// Sensor fusion: a `Vec` of calibration structs iterated with `iter().map()`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Sensor {
    bias: f64,
    log_scale: f64,
    log_noise: f64,
}

#[differentiate]
impl Sensor {
    fn corrected(&self, raw: f64) -> f64 {
        (raw - self.bias) * self.log_scale.exp()
    }

    fn precision(&self) -> f64 {
        (-2.0 * self.log_noise).exp()
    }
}

/// Precision-weighted fusion of the corrected readings, against a reference value, with a
/// penalty keeping the noise levels near 0.1 (log 0.1).
#[differentiate(wrt(sensors))]
fn fusion_loss(sensors: &[Sensor], raw: &[f64], reference: f64) -> f64 {
    let num: f64 = sensors
        .iter()
        .zip(raw)
        .map(|(s, &r)| s.precision() * s.corrected(r))
        .sum();
    let den: f64 = sensors.iter().map(|s| s.precision()).sum();
    let fused = num / den;
    let prior: f64 = sensors
        .iter()
        .map(|s| (s.log_noise - 0.1f64.ln()).powi(2))
        .sum();
    (fused - reference).powi(2) + 0.01 * prior
}

#[test]
fn sensor_fusion_over_a_vec_of_calibrations() {
    let sensors = vec![
        Sensor {
            bias: 0.1,
            log_scale: 0.05,
            log_noise: -2.0,
        },
        Sensor {
            bias: -0.2,
            log_scale: -0.1,
            log_noise: -1.5,
        },
        Sensor {
            bias: 0.0,
            log_scale: 0.2,
            log_noise: -2.5,
        },
    ];
    let raw = vec![20.3, 19.8, 20.6];
    let reference = 20.0;
    let (v, g) = fusion_loss_grad(&sensors, &raw, reference);
    close("value", v, fusion_loss(&sensors, &raw, reference), TOL);
    // f = Σ pᵢcᵢ / Σ pᵢ, e = 2(f − ref): ∂biasᵢ = −e pᵢ sᵢ/P, ∂log_scaleᵢ = e pᵢ cᵢ/P,
    // ∂log_noiseᵢ = e (cᵢ − f)(−2pᵢ)/P + 0.02 (log_noiseᵢ − ln 0.1).
    let p: Vec<f64> = sensors.iter().map(|s| (-2.0 * s.log_noise).exp()).collect();
    let c: Vec<f64> = sensors
        .iter()
        .zip(&raw)
        .map(|(s, r)| (r - s.bias) * s.log_scale.exp())
        .collect();
    let pt: f64 = p.iter().sum();
    let f = (0..3).map(|i| p[i] * c[i]).sum::<f64>() / pt;
    let e = 2.0 * (f - reference);
    for i in 0..3 {
        let s = &sensors[i];
        close(
            "∂bias",
            g[i].bias,
            -e * p[i] * s.log_scale.exp() / pt,
            1e-10,
        );
        close("∂log_scale", g[i].log_scale, e * p[i] * c[i] / pt, 1e-10);
        let en = e * (c[i] - f) * (-2.0 * p[i]) / pt + 0.02 * (s.log_noise - 0.1f64.ln());
        close("∂log_noise", g[i].log_noise, en, 1e-10);
    }
    let r = gradcheck(
        |s: &Vec<Sensor>| fusion_loss(s, &raw, reference),
        &sensors,
        &g,
    );
    assert!(r.passed(), "fusion: {r}");
}

// ---------------------------------------------------------------------------------------------
// Robust losses behind a trait, implemented by several structs and used through generics.
// ---------------------------------------------------------------------------------------------

trait RobustLoss {
    fn rho(&self, r: f64) -> f64;
}

#[derive(Clone, Debug, Differentiable)]
struct Huber {
    delta: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Cauchy {
    c: f64,
}

#[differentiate]
impl RobustLoss for Huber {
    fn rho(&self, r: f64) -> f64 {
        let a = r.abs();
        if a <= self.delta {
            0.5 * r * r
        } else {
            self.delta * (a - 0.5 * self.delta)
        }
    }
}

#[differentiate]
impl RobustLoss for Cauchy {
    fn rho(&self, r: f64) -> f64 {
        0.5 * self.c * self.c * (1.0 + (r / self.c).powi(2)).ln()
    }
}

/// Traffic-count residuals under a robust loss: one function per loss type (a generic
/// `fn traffic_total<L: RobustLoss>(loss: &L, ..)` is an error that says so, see
/// `tests/ui/users13_trait_bound_method.rs`).
#[differentiate(wrt(rate))]
fn traffic_total(loss: &Huber, rate: &[f64], counts: &[f64]) -> f64 {
    rate.iter()
        .zip(counts)
        .map(|(&r, &c)| loss.rho(c - r))
        .sum()
}

#[differentiate(wrt(rate))]
fn traffic_total_cauchy(loss: &Cauchy, rate: &[f64], counts: &[f64]) -> f64 {
    rate.iter()
        .zip(counts)
        .map(|(&r, &c)| loss.rho(c - r))
        .sum()
}

#[test]
fn traffic_counts_under_robust_losses_of_a_trait() {
    let rate = vec![10.0, 12.5, 9.0, 14.0];
    let counts = vec![11.2, 12.0, 4.0, 13.9];
    let h = Huber { delta: 1.5 };
    let (v, g) = traffic_total_grad(&h, &rate, &counts);
    close("value", v, traffic_total(&h, &rate, &counts), TOL);
    // ρ'(e) = e inside, δ·sign(e) outside; ∂rateᵢ = −ρ'(cᵢ − rateᵢ).
    let e: Vec<f64> = rate
        .iter()
        .zip(&counts)
        .map(|(r, c)| {
            let e = c - r;
            -(if e.abs() <= 1.5 { e } else { 1.5 * e.signum() })
        })
        .collect();
    close_all("∂rate (Huber)", &g, &e);
    fd_vec("huber", |r| traffic_total(&h, r, &counts), &rate, &g);
    let c = Cauchy { c: 2.0 };
    let (_, g) = traffic_total_cauchy_grad(&c, &rate, &counts);
    // ρ'(e) = e / (1 + (e/c)²)
    let e: Vec<f64> = rate
        .iter()
        .zip(&counts)
        .map(|(r, cnt)| {
            let e = cnt - r;
            -e / (1.0 + (e / 2.0).powi(2))
        })
        .collect();
    close_all("∂rate (Cauchy)", &g, &e);
    fd_vec(
        "cauchy",
        |r| traffic_total_cauchy(&c, r, &counts),
        &rate,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// An activation chosen by an enum, passed to the layer's method and stored in the model.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Activation {
    Relu,
    Tanh,
    Softplus,
}

#[derive(Clone, Debug, Differentiable)]
struct Dense {
    w: Vec<Vec<f64>>,
    b: Vec<f64>,
}

#[differentiate(wrt(self, x))]
impl Dense {
    fn forward(&self, x: &[f64], act: Activation) -> Vec<f64> {
        self.w
            .iter()
            .zip(&self.b)
            .map(|(row, b)| {
                let z = row.iter().zip(x).map(|(w, v)| w * v).sum::<f64>() + b;
                match act {
                    Activation::Relu => z.max(0.0),
                    Activation::Tanh => z.tanh(),
                    Activation::Softplus => z.exp().ln_1p(),
                }
            })
            .collect()
    }
}

/// Wine acidity from three lab measurements, hidden activation chosen by the caller.
#[differentiate(wrt(layer, head))]
fn wine_loss(layer: &Dense, head: &Dense, act: Activation, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let h = layer.forward(x, act);
        let out = head.forward(&h, Activation::Softplus);
        total += (out[0] - y).powi(2);
    }
    total
}

#[test]
fn wine_acidity_with_an_activation_enum() {
    let layer = Dense {
        w: vec![vec![0.3, -0.2, 0.5], vec![-0.4, 0.6, 0.1]],
        b: vec![0.05, -0.1],
    };
    let head = Dense {
        w: vec![vec![0.7, -0.5]],
        b: vec![0.2],
    };
    let xs = vec![
        vec![1.0, 0.5, -0.3],
        vec![0.2, -0.8, 0.9],
        vec![-0.6, 0.4, 0.7],
    ];
    let ys = vec![0.9, 0.4, 1.3];
    for act in [Activation::Tanh, Activation::Softplus, Activation::Relu] {
        let (v, (gl, gh)) = wine_loss_grad(&layer, &head, act, &xs, &ys);
        close("value", v, wine_loss(&layer, &head, act, &xs, &ys), TOL);
        // out = softplus(u·h + c): ∂c = Σ 2(out − y)σ(z₂), ∂u = ∂c·h, through the activation
        // f'(z₁): tanh 1 − tanh², softplus σ, relu [z > 0].
        let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
        let mut ew = vec![vec![0.0; 3]; 2];
        let mut eb = vec![0.0; 2];
        let mut eu = vec![0.0; 2];
        let mut ec = 0.0;
        for (x, y) in xs.iter().zip(&ys) {
            let z1: Vec<f64> = (0..2)
                .map(|i| (0..3).map(|j| layer.w[i][j] * x[j]).sum::<f64>() + layer.b[i])
                .collect();
            let (h, dh): (Vec<f64>, Vec<f64>) = z1
                .iter()
                .map(|&z| match act {
                    Activation::Tanh => (z.tanh(), 1.0 - z.tanh().powi(2)),
                    Activation::Softplus => (z.exp().ln_1p(), sig(z)),
                    Activation::Relu => (z.max(0.0), if z > 0.0 { 1.0 } else { 0.0 }),
                })
                .unzip();
            let z2 = head.w[0][0] * h[0] + head.w[0][1] * h[1] + head.b[0];
            let d2 = 2.0 * (z2.exp().ln_1p() - y) * sig(z2);
            ec += d2;
            for i in 0..2 {
                eu[i] += d2 * h[i];
                let d1 = d2 * head.w[0][i] * dh[i];
                eb[i] += d1;
                for j in 0..3 {
                    ew[i][j] += d1 * x[j];
                }
            }
        }
        for i in 0..2 {
            close_all("∂layer.w", &gl.w[i], &ew[i]);
        }
        close_all("∂layer.b", &gl.b, &eb);
        close_all("∂head.w", &gh.w[0], &eu);
        close("∂head.b", gh.b[0], ec, TOL);
        let r = gradcheck(
            |p: &(Dense, Dense)| wine_loss(&p.0, &p.1, act, &xs, &ys),
            &(layer.clone(), head.clone()),
            &(gl, gh),
        );
        assert!(r.passed(), "wine {act:?}: {r}");
    }
}

// ---------------------------------------------------------------------------------------------
// A wind-turbine power curve with `hessian` on the methods of a parameter struct.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct PowerCurve {
    rated: f64,
    steepness: f64,
    midpoint: f64,
}

impl Default for PowerCurve {
    fn default() -> Self {
        PowerCurve {
            rated: 2.0,
            steepness: 0.8,
            midpoint: 9.0,
        }
    }
}

#[differentiate(hessian)]
impl PowerCurve {
    /// P(v) = P_r / (1 + e^{−k(v − v₀)})
    fn power(&self, wind: f64) -> f64 {
        self.rated / (1.0 + (-self.steepness * (wind - self.midpoint)).exp())
    }

    fn sse(&self, winds: &[f64], output: &[f64]) -> f64 {
        let mut s = 0.0;
        for (w, p) in winds.iter().zip(output) {
            s += (self.power(*w) - p).powi(2);
        }
        s
    }
}

#[test]
fn wind_turbine_power_curve_with_hessian_vector_products() {
    let winds = vec![4.0, 7.0, 9.5, 12.0, 15.0];
    let out = vec![0.05, 0.5, 1.1, 1.8, 2.05];
    let pc = PowerCurve::default();
    let (v, (g, _, _)) = PowerCurve::sse_grad(&pc, &winds, &out);
    close("value", v, pc.sse(&winds, &out), TOL);
    // σ = 1/(1 + e^{−k(v − v₀)}), e = P_r σ − p: ∂P_r = Σ 2eσ, ∂k = Σ 2e P_r σ(1 − σ)(v − v₀),
    // ∂v₀ = −Σ 2e P_r σ(1 − σ) k.
    let (mut er, mut ek, mut em) = (0.0, 0.0, 0.0);
    for (w, p) in winds.iter().zip(&out) {
        let s = 1.0 / (1.0 + (-pc.steepness * (w - pc.midpoint)).exp());
        let e = 2.0 * (pc.rated * s - p);
        er += e * s;
        ek += e * pc.rated * s * (1.0 - s) * (w - pc.midpoint);
        em -= e * pc.rated * s * (1.0 - s) * pc.steepness;
    }
    close("∂rated", g.rated, er, 1e-10);
    close("∂steepness", g.steepness, ek, 1e-10);
    close("∂midpoint", g.midpoint, em, 1e-10);
    fd_any("power curve", |q: &PowerCurve| q.sse(&winds, &out), &pc, &g);
    // H·v against central differences of the gradient along v (the data held fixed).
    let dir = PowerCurve {
        rated: 0.3,
        steepness: -0.2,
        midpoint: 0.5,
    };
    let zw = vec![0.0; winds.len()];
    let (hv_value, _, (hv, _, _)) = PowerCurve::sse_hvp(&pc, &winds, &out, &dir, &zw, &zw);
    close("hvp value", hv_value, v, TOL);
    let grad_at = |q: &PowerCurve| PowerCurve::sse_grad(q, &winds, &out).1.0;
    let h = 1e-5;
    let shift = |s: f64| PowerCurve {
        rated: pc.rated + s * dir.rated,
        steepness: pc.steepness + s * dir.steepness,
        midpoint: pc.midpoint + s * dir.midpoint,
    };
    let (gp, gm) = (grad_at(&shift(h)), grad_at(&shift(-h)));
    close(
        "(H·v).rated",
        hv.rated,
        (gp.rated - gm.rated) / (2.0 * h),
        1e-6,
    );
    close(
        "(H·v).steepness",
        hv.steepness,
        (gp.steepness - gm.steepness) / (2.0 * h),
        1e-6,
    );
    close(
        "(H·v).midpoint",
        hv.midpoint,
        (gp.midpoint - gm.midpoint) / (2.0 * h),
        1e-6,
    );
    // the tangent of the power along the direction, against a central difference
    let (pv, dp) = PowerCurve::power_jvp(&pc, 10.0, &dir, 0.0);
    close("jvp value", pv, pc.power(10.0), TOL);
    let e = (shift(h).power(10.0) - shift(-h).power(10.0)) / (2.0 * h);
    close("jvp", dp, e, 1e-7);
}

// ---------------------------------------------------------------------------------------------
// A learning curve err(n) = a·n^{−b} + c: `Default` start, trained by momentum.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct LearningCurve {
    log_a: f64,
    b: f64,
    c: f64,
}

impl Default for LearningCurve {
    fn default() -> Self {
        LearningCurve {
            log_a: 0.0,
            b: 0.3,
            c: 0.05,
        }
    }
}

impl LearningCurve {
    #[differentiate]
    fn error_at(&self, n: f64) -> f64 {
        self.log_a.exp() * n.powf(-self.b) + self.c
    }

    #[differentiate(wrt(self))]
    fn fit(&self, sizes: &[f64], errors: &[f64]) -> f64 {
        sizes
            .iter()
            .zip(errors)
            .map(|(&n, &e)| (self.error_at(n) - e).powi(2))
            .sum::<f64>()
            / sizes.len() as f64
    }
}

#[test]
fn learning_curve_power_law_trained_by_momentum() {
    use autodiff::optim::{Momentum, MomentumConfig};
    let sizes = vec![100.0, 300.0, 1000.0, 3000.0, 10000.0];
    let errs = vec![0.42, 0.31, 0.22, 0.17, 0.13];
    let mut lc = LearningCurve::default();
    let (v, g) = lc.fit_grad(&sizes, &errs);
    close("value", v, lc.fit(&sizes, &errs), TOL);
    // r = a n^{−b} + c − e: ∂log_a = Σ 2r a n^{−b}/N, ∂b = −Σ 2r a n^{−b} ln n/N, ∂c = Σ 2r/N.
    let (mut ea, mut eb, mut ec) = (0.0, 0.0, 0.0);
    for (n, e) in sizes.iter().zip(&errs) {
        let t = lc.log_a.exp() * n.powf(-lc.b);
        let r = 2.0 * (t + lc.c - e) / 5.0;
        ea += r * t;
        eb -= r * t * n.ln();
        ec += r;
    }
    close("∂log_a", g.log_a, ea, 1e-10);
    close("∂b", g.b, eb, 1e-10);
    close("∂c", g.c, ec, 1e-10);
    fd_any(
        "learning curve",
        |q: &LearningCurve| q.fit(&sizes, &errs),
        &lc,
        &g,
    );
    let start = v;
    let mut opt = Momentum::new(MomentumConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..30 {
        let (_, g) = lc.fit_grad(&sizes, &errs);
        opt.step(&mut lc, &g);
    }
    let end = lc.fit(&sizes, &errs);
    assert!(end < 0.5 * start, "momentum did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Solar irradiance forecast: an MLP generic over `F: Float`, `Vec` of generic layers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct GDense<F: Float> {
    w: Vec<Vec<F>>,
    b: Vec<F>,
}

#[derive(Clone, Debug, Differentiable)]
struct GMlp<F: Float> {
    layers: Vec<GDense<F>>,
}

#[differentiate]
impl<F: Float> GDense<F> {
    fn apply(&self, x: &[F], squash: bool) -> Vec<F>
    where
        F: Float,
    {
        let mut out = Vec::new();
        for (row, &b) in self.w.iter().zip(&self.b) {
            let mut z = b;
            for (&w, &v) in row.iter().zip(x) {
                z = z + w * v;
            }
            out.push(if squash { z.tanh() } else { z });
        }
        out
    }
}

#[differentiate]
impl<F: Float> GMlp<F> {
    fn forward(&self, x: &[F]) -> F
    where
        F: Float,
    {
        let n = self.layers.len();
        let mut h = x.to_vec();
        for i in 0..n {
            h = self.layers[i].apply(&h, i + 1 < n);
        }
        h[0]
    }

    fn mse(&self, xs: &[Vec<F>], ys: &[F]) -> F
    where
        F: Float,
    {
        let mut s = F::zero();
        for (x, &y) in xs.iter().zip(ys) {
            let e = self.forward(x) - y;
            s = s + e * e;
        }
        s / F::from(xs.len()).unwrap()
    }
}

fn solar_model<F: Float>() -> GMlp<F> {
    let c = |v: f64| F::from(v).unwrap();
    GMlp {
        layers: vec![
            GDense {
                w: vec![vec![c(0.6), c(-0.3)], vec![c(-0.2), c(0.8)]],
                b: vec![c(0.0), c(0.1)],
            },
            GDense {
                w: vec![vec![c(0.9), c(-0.7)]],
                b: vec![c(0.3)],
            },
        ],
    }
}

#[test]
fn solar_irradiance_mlp_generic_over_the_float_type() {
    // cloud cover, hour angle (both scaled) → irradiance (scaled)
    let xs = vec![
        vec![0.1, -0.5],
        vec![0.8, 0.0],
        vec![0.3, 0.6],
        vec![0.9, -0.9],
    ];
    let ys = vec![0.7, 0.2, 0.6, 0.1];
    let m: GMlp<f64> = solar_model();
    let (v, (g, _, _)) = GMlp::mse_grad(&m, &xs, &ys);
    close("value", v, m.mse(&xs, &ys), TOL);
    // a = tanh(W₁x + b₁), ŷ = u·a + c, e = 2(ŷ − y)/n: ∂c = Σe, ∂u = Σ e a,
    // δ = e u ⊙ (1 − a²): ∂W₁ = Σ δ xᵀ, ∂b₁ = Σ δ.
    let (l1, l2) = (&m.layers[0], &m.layers[1]);
    let mut ew = vec![vec![0.0; 2]; 2];
    let (mut eb, mut eu, mut ec) = (vec![0.0; 2], vec![0.0; 2], 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let a: Vec<f64> = (0..2)
            .map(|i| (l1.w[i][0] * x[0] + l1.w[i][1] * x[1] + l1.b[i]).tanh())
            .collect();
        let e = 2.0 * (l2.w[0][0] * a[0] + l2.w[0][1] * a[1] + l2.b[0] - y) / 4.0;
        ec += e;
        for i in 0..2 {
            eu[i] += e * a[i];
            let d = e * l2.w[0][i] * (1.0 - a[i] * a[i]);
            eb[i] += d;
            ew[i][0] += d * x[0];
            ew[i][1] += d * x[1];
        }
    }
    for i in 0..2 {
        close_all("∂W₁", &g.layers[0].w[i], &ew[i]);
    }
    close_all("∂b₁", &g.layers[0].b, &eb);
    close_all("∂u", &g.layers[1].w[0], &eu);
    close("∂c", g.layers[1].b[0], ec, TOL);
    fd_any("solar f64", |q: &GMlp<f64>| q.mse(&xs, &ys), &m, &g);
    // the same model in f32, trained by Adam: the loss goes down
    let xs32: Vec<Vec<f32>> = xs
        .iter()
        .map(|x| x.iter().map(|&v| v as f32).collect())
        .collect();
    let ys32: Vec<f32> = ys.iter().map(|&v| v as f32).collect();
    let mut m32: GMlp<f32> = solar_model();
    let (_, (g32, _, _)) = GMlp::mse_grad(&m32, &xs32, &ys32);
    close("∂c f32", g32.layers[1].b[0] as f64, ec, 1e-5);
    let r = gradcheck(|q: &GMlp<f32>| q.mse(&xs32, &ys32), &m32, &g32);
    assert!(r.passed(), "solar f32: {r}");
    let start = m32.mse(&xs32, &ys32);
    let mut adam: Adam<f32> = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..40 {
        let (_, (g, _, _)) = GMlp::mse_grad(&m32, &xs32, &ys32);
        adam.step(&mut m32, &g);
    }
    let end = m32.mse(&xs32, &ys32);
    assert!(end < 0.5 * start, "f32 Adam did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Triage calibration: temperature scaling through a builder-style method on the model.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Triage {
    w: Vec<Vec<f64>>,
    temperature: f64,
}

#[differentiate]
impl Triage {
    fn with_temperature(self, t: f64) -> Self {
        Triage {
            temperature: t,
            ..self
        }
    }

    fn logits(&self, x: &[f64]) -> Vec<f64> {
        self.w
            .iter()
            .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() / self.temperature)
            .collect()
    }

    fn nll(&self, x: &[f64], label: usize) -> f64 {
        let z = self.logits(x);
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        lse - z[label]
    }
}

/// The validation NLL at a temperature: the weights fixed (left out by `wrt`), only `t` is
/// fitted, through a builder method on a copy of the model.
#[differentiate(wrt(t))]
fn calibration_nll(model: &Triage, t: f64, xs: &[Vec<f64>], labels: &[usize]) -> f64 {
    let m = model.clone().with_temperature(t);
    let mut s = 0.0;
    for (x, &l) in xs.iter().zip(labels) {
        s += m.nll(x, l);
    }
    s / xs.len() as f64
}

/// The same with the copy kept in a local first.
#[differentiate(wrt(t))]
fn calibration_nll_local(model: &Triage, t: f64, xs: &[Vec<f64>], labels: &[usize]) -> f64 {
    let base = model.clone();
    let m = base.with_temperature(t);
    xs.iter()
        .zip(labels)
        .map(|(x, &l)| m.nll(x, l))
        .sum::<f64>()
        / xs.len() as f64
}

#[test]
fn triage_temperature_scaling_through_a_builder_method() {
    let model = Triage {
        w: vec![vec![1.5, -0.5], vec![-0.8, 1.2], vec![0.3, 0.9]],
        temperature: 1.0,
    };
    let xs = vec![
        vec![1.0, 0.2],
        vec![0.1, 1.4],
        vec![0.7, 0.9],
        vec![-0.4, 0.5],
    ];
    let labels = vec![0, 1, 2, 1];
    let t = 1.7;
    let (v, g) = calibration_nll_grad(&model, t, &xs, &labels);
    close("value", v, calibration_nll(&model, t, &xs, &labels), TOL);
    // zₖ = sₖ/t: ∂t = Σ (p·s − s_label)(−1/t²)/n, p = softmax(z)
    let mut e = 0.0;
    for (x, &l) in xs.iter().zip(&labels) {
        let s: Vec<f64> = model.w.iter().map(|r| r[0] * x[0] + r[1] * x[1]).collect();
        let ex: Vec<f64> = s.iter().map(|v| (v / t).exp()).collect();
        let tot: f64 = ex.iter().sum();
        let ps: f64 = (0..3).map(|k| ex[k] / tot * s[k]).sum();
        e += (ps - s[l]) * (-1.0 / (t * t)) / 4.0;
    }
    close("∂t", g, e, 1e-10);
    fd(
        "calibration",
        |t| calibration_nll(&model, t, &xs, &labels),
        t,
        g,
    );
    let (v2, g2) = calibration_nll_local_grad(&model, t, &xs, &labels);
    close("value (local copy)", v2, v, TOL);
    close("∂t (local copy)", g2, e, 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Retail demand: an enum selecting the deviance, matched inside the model's method.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Objective {
    Squared,
    Poisson,
    Gamma,
}

#[derive(Clone, Debug, Differentiable)]
struct DemandModel {
    log_base: f64,
    price_elasticity: f64,
    promo_lift: f64,
}

impl DemandModel {
    #[differentiate]
    fn rate(&self, log_price: f64, promo: f64) -> f64 {
        (self.log_base + self.price_elasticity * log_price + self.promo_lift * promo).exp()
    }

    /// The enum is data: left out with `wrt` (an enum has no gradient type).
    #[differentiate(wrt(self))]
    fn deviance(&self, obj: Objective, log_price: &[f64], promo: &[f64], sold: &[f64]) -> f64 {
        let mut d = 0.0;
        for i in 0..sold.len() {
            let mu = self.rate(log_price[i], promo[i]);
            let y = sold[i];
            d += match obj {
                Objective::Squared => (y - mu).powi(2),
                Objective::Poisson => 2.0 * (mu - y - y * (mu / y).ln()),
                Objective::Gamma => 2.0 * ((y - mu) / mu - (y / mu).ln()),
            };
        }
        d
    }
}

#[test]
fn retail_demand_with_an_objective_enum() {
    let lp = vec![0.0, 0.1, -0.2, 0.3, 0.05];
    let promo = vec![0.0, 1.0, 0.0, 1.0, 0.0];
    let sold = vec![20.0, 26.0, 25.0, 19.0, 18.0];
    let m = DemandModel {
        log_base: 3.0,
        price_elasticity: -1.2,
        promo_lift: 0.2,
    };
    for obj in [Objective::Squared, Objective::Poisson, Objective::Gamma] {
        let (v, g) = m.deviance_grad(obj, &lp, &promo, &sold);
        close("value", v, m.deviance(obj, &lp, &promo, &sold), TOL);
        // ∂d/∂μ: squared −2(y − μ), Poisson 2(1 − y/μ), Gamma 2(1/μ − y/μ²); ∂μ/∂θ = μ·feature.
        let mut e = [0.0; 3];
        for i in 0..5 {
            let mu = (m.log_base + m.price_elasticity * lp[i] + m.promo_lift * promo[i]).exp();
            let y = sold[i];
            let dmu = match obj {
                Objective::Squared => -2.0 * (y - mu),
                Objective::Poisson => 2.0 * (1.0 - y / mu),
                Objective::Gamma => 2.0 * (1.0 / mu - y / (mu * mu)),
            };
            e[0] += dmu * mu;
            e[1] += dmu * mu * lp[i];
            e[2] += dmu * mu * promo[i];
        }
        close("∂log_base", g.log_base, e[0], 1e-10);
        close("∂elasticity", g.price_elasticity, e[1], 1e-10);
        close("∂promo", g.promo_lift, e[2], 1e-10);
        fd_any(
            &format!("demand {obj:?}"),
            |q: &DemandModel| q.deviance(obj, &lp, &promo, &sold),
            &m,
            &g,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Heating load: residual blocks folded over `self.blocks.iter()`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct ResBlock {
    a: f64,
    b: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct ResNet {
    blocks: Vec<ResBlock>,
    readout: f64,
}

#[differentiate(hessian)]
impl ResBlock {
    /// h + a·tanh(b·h)
    fn apply(&self, h: f64) -> f64 {
        h + self.a * (self.b * h).tanh()
    }
}

#[differentiate(hessian)]
impl ResNet {
    fn predict(&self, outdoor: f64) -> f64 {
        let h = self.blocks.iter().fold(outdoor, |h, blk| blk.apply(h));
        self.readout * h
    }

    fn loss(&self, outdoor: &[f64], load: &[f64]) -> f64 {
        outdoor
            .iter()
            .zip(load)
            .map(|(&t, &y)| (self.predict(t) - y).powi(2))
            .sum()
    }
}

#[test]
fn heating_load_residual_blocks_folded_over_a_vec() {
    let net = ResNet {
        blocks: vec![
            ResBlock { a: 0.5, b: 0.8 },
            ResBlock { a: -0.3, b: 1.1 },
            ResBlock { a: 0.2, b: -0.6 },
        ],
        readout: 1.3,
    };
    let outdoor = vec![-1.0, -0.3, 0.4, 1.2];
    let load = vec![1.8, 0.9, -0.2, -1.1];
    let (v, (g, _, _)) = ResNet::loss_grad(&net, &outdoor, &load);
    close("value", v, net.loss(&outdoor, &load), TOL);
    // Forward hₖ₊₁ = hₖ + aₖ tanh(bₖhₖ); back: λ = 2r·readout, ∂aₖ += λ tanh(bₖhₖ),
    // ∂bₖ += λ aₖ(1 − tanh²)hₖ, λ ← λ(1 + aₖbₖ(1 − tanh²)); ∂readout = Σ 2r h₃.
    let mut ea = [0.0; 3];
    let mut eb = [0.0; 3];
    let mut er = 0.0;
    for (&t, &y) in outdoor.iter().zip(&load) {
        let mut hs = vec![t];
        for blk in &net.blocks {
            let h = *hs.last().unwrap();
            hs.push(h + blk.a * (blk.b * h).tanh());
        }
        let r = 2.0 * (net.readout * hs[3] - y);
        er += r * hs[3];
        let mut lam = r * net.readout;
        for k in (0..3).rev() {
            let (a, b, h) = (net.blocks[k].a, net.blocks[k].b, hs[k]);
            let th = (b * h).tanh();
            ea[k] += lam * th;
            eb[k] += lam * a * (1.0 - th * th) * h;
            lam *= 1.0 + a * b * (1.0 - th * th);
        }
    }
    for k in 0..3 {
        close("∂a", g.blocks[k].a, ea[k], 1e-10);
        close("∂b", g.blocks[k].b, eb[k], 1e-10);
    }
    close("∂readout", g.readout, er, 1e-10);
    fd_any("resnet", |q: &ResNet| q.loss(&outdoor, &load), &net, &g);
    // H·v against central differences of the gradient
    let dir = ResNet {
        blocks: vec![
            ResBlock { a: 0.2, b: -0.1 },
            ResBlock { a: 0.4, b: 0.3 },
            ResBlock { a: -0.5, b: 0.1 },
        ],
        readout: 0.7,
    };
    let z = vec![0.0; 4];
    let (hv_value, _, (hv, _, _)) = ResNet::loss_hvp(&net, &outdoor, &load, &dir, &z, &z);
    close("hvp value", hv_value, v, TOL);
    let h = 1e-5;
    let shifted = |s: f64| ResNet {
        blocks: (0..3)
            .map(|k| ResBlock {
                a: net.blocks[k].a + s * dir.blocks[k].a,
                b: net.blocks[k].b + s * dir.blocks[k].b,
            })
            .collect(),
        readout: net.readout + s * dir.readout,
    };
    let gp = ResNet::loss_grad(&shifted(h), &outdoor, &load).1.0;
    let gm = ResNet::loss_grad(&shifted(-h), &outdoor, &load).1.0;
    for k in 0..3 {
        let e = (gp.blocks[k].a - gm.blocks[k].a) / (2.0 * h);
        close("(H·v).a", hv.blocks[k].a, e, 1e-6);
        let e = (gp.blocks[k].b - gm.blocks[k].b) / (2.0 * h);
        close("(H·v).b", hv.blocks[k].b, e, 1e-6);
    }
    close(
        "(H·v).readout",
        hv.readout,
        (gp.readout - gm.readout) / (2.0 * h),
        1e-6,
    );
}

// ---------------------------------------------------------------------------------------------
// Domain adaptation: a model shifted by its own method, then scored on rows taken by
// reference (`for x in xs.iter()`, `iter().map(|x| ..)`).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Probe {
    w: Vec<f64>,
    offset: f64,
}

#[differentiate]
impl Probe {
    fn shifted(&self, delta: f64) -> Probe {
        Probe {
            w: self.w.clone(),
            offset: self.offset + delta,
        }
    }

    fn score(&self, x: &[f64]) -> f64 {
        (self.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + self.offset).tanh()
    }
}

/// Σ (score_adapted(x) − y)², the model shifted by `delta` on the target domain.
#[differentiate(wrt(probe, delta))]
fn adapted_loss(probe: &Probe, delta: f64, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let adapted = probe.shifted(delta);
    let mut s = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        s += (adapted.score(x) - y).powi(2);
    }
    s
}

#[differentiate(wrt(probe, delta))]
fn adapted_loss_by_map(probe: &Probe, delta: f64, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let adapted = probe.shifted(delta);
    xs.iter()
        .zip(ys)
        .map(|(x, y)| (adapted.score(x) - y).powi(2))
        .sum()
}

#[test]
fn domain_adaptation_of_a_model_shifted_by_its_own_method() {
    let probe = Probe {
        w: vec![0.4, -0.7],
        offset: 0.1,
    };
    let xs = vec![vec![1.0, 0.3], vec![-0.5, 0.8], vec![0.2, -1.1]];
    let ys = vec![0.5, -0.6, 0.9];
    let delta = 0.25;
    let (v, (gp, gd)) = adapted_loss_grad(&probe, delta, &xs, &ys);
    close("value", v, adapted_loss(&probe, delta, &xs, &ys), TOL);
    // s = tanh(w·x + b + δ), e = 2(s − y)(1 − s²): ∂w = Σ e x, ∂b = ∂δ = Σ e.
    let mut ew = vec![0.0; 2];
    let mut eb = 0.0;
    for (x, y) in xs.iter().zip(&ys) {
        let s = (probe.w[0] * x[0] + probe.w[1] * x[1] + probe.offset + delta).tanh();
        let e = 2.0 * (s - y) * (1.0 - s * s);
        eb += e;
        ew[0] += e * x[0];
        ew[1] += e * x[1];
    }
    close_all("∂w", &gp.w, &ew);
    close("∂offset", gp.offset, eb, TOL);
    close("∂delta", gd, eb, TOL);
    let r = gradcheck(
        |p: &(Probe, f64)| adapted_loss(&p.0, p.1, &xs, &ys),
        &(probe.clone(), delta),
        &(gp.clone(), gd),
    );
    assert!(r.passed(), "adaptation: {r}");
    let (v2, (gp2, gd2)) = adapted_loss_by_map_grad(&probe, delta, &xs, &ys);
    close("value by map", v2, v, TOL);
    close_all("∂w by map", &gp2.w, &ew);
    close("∂delta by map", gd2, eb, TOL);
}

// ---------------------------------------------------------------------------------------------
// Pharmacokinetics: a one-compartment oral-dose model whose method returns its rates as a
// tuple; `hessian` on the impl.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct PkModel {
    log_ka: f64,
    log_ke: f64,
    log_v: f64,
}

#[differentiate(hessian)]
impl PkModel {
    fn rates(&self) -> (f64, f64, f64) {
        (self.log_ka.exp(), self.log_ke.exp(), self.log_v.exp())
    }

    /// C(t) = D ka / (V (ka − ke)) (e^{−ke t} − e^{−ka t})
    fn concentration(&self, t: f64, dose: f64) -> f64 {
        let (ka, ke, v) = self.rates();
        dose * ka / (v * (ka - ke)) * ((-ke * t).exp() - (-ka * t).exp())
    }

    fn log_misfit(&self, times: &[f64], conc: &[f64], dose: f64) -> f64 {
        let mut s = 0.0;
        for i in 0..times.len() {
            let r = self.concentration(times[i], dose).ln() - conc[i].ln();
            s += r * r;
        }
        s
    }
}

#[test]
fn pharmacokinetics_with_rates_returned_as_a_tuple() {
    let times = vec![0.5, 1.0, 2.0, 4.0, 8.0];
    let conc = vec![3.1, 4.6, 5.0, 3.6, 1.5];
    let dose = 100.0;
    let m = PkModel {
        log_ka: 0.2,
        log_ke: -1.5,
        log_v: 2.8,
    };
    let (v, (g, _, _, _)) = m.log_misfit_grad(&times, &conc, dose);
    close("value", v, m.log_misfit(&times, &conc, dose), TOL);
    // ln C = ln D + ln ka − ln V − ln(ka − ke) + ln(e^{−ke t} − e^{−ka t}); with u = e^{−ke t},
    // w = e^{−ka t}: ∂ln C/∂ln ka = 1 − ka/(ka − ke) + ka t w/(u − w),
    // ∂ln C/∂ln ke = ke/(ka − ke) − ke t u/(u − w), ∂ln C/∂ln V = −1.
    let (ka, ke) = (m.log_ka.exp(), m.log_ke.exp());
    let mut e = [0.0; 3];
    for (t, c) in times.iter().zip(&conc) {
        let (u, w) = ((-ke * t).exp(), (-ka * t).exp());
        let r = 2.0 * (m.concentration(*t, dose).ln() - c.ln());
        e[0] += r * (1.0 - ka / (ka - ke) + ka * t * w / (u - w));
        e[1] += r * (ke / (ka - ke) - ke * t * u / (u - w));
        e[2] -= r;
    }
    close("∂log_ka", g.log_ka, e[0], 1e-9);
    close("∂log_ke", g.log_ke, e[1], 1e-9);
    close("∂log_v", g.log_v, e[2], 1e-9);
    fd_any(
        "pk",
        |q: &PkModel| q.log_misfit(&times, &conc, dose),
        &m,
        &g,
    );
    // H·v by central differences of the gradient
    let dir = PkModel {
        log_ka: 0.1,
        log_ke: -0.3,
        log_v: 0.2,
    };
    let z = vec![0.0; 5];
    let (_, _, (hv, _, _, _)) = m.log_misfit_hvp(&times, &conc, dose, &dir, &z, &z, 0.0);
    let h = 1e-5;
    let at = |s: f64| PkModel {
        log_ka: m.log_ka + s * dir.log_ka,
        log_ke: m.log_ke + s * dir.log_ke,
        log_v: m.log_v + s * dir.log_v,
    };
    let gp = at(h).log_misfit_grad(&times, &conc, dose).1.0;
    let gm = at(-h).log_misfit_grad(&times, &conc, dose).1.0;
    close(
        "(H·v).log_ka",
        hv.log_ka,
        (gp.log_ka - gm.log_ka) / (2.0 * h),
        1e-6,
    );
    close(
        "(H·v).log_ke",
        hv.log_ke,
        (gp.log_ke - gm.log_ke) / (2.0 * h),
        1e-6,
    );
    close(
        "(H·v).log_v",
        hv.log_v,
        (gp.log_v - gm.log_v) / (2.0 * h),
        1e-6,
    );
    // the tangent of the concentration at t = 2 along the direction
    let (cv, dc) = m.concentration_jvp(2.0, dose, &dir, 0.0, 0.0);
    close("jvp value", cv, m.concentration(2.0, dose), TOL);
    let fdc = (at(h).concentration(2.0, dose) - at(-h).concentration(2.0, dose)) / (2.0 * h);
    close("jvp", dc, fdc, 1e-7);
}

// ---------------------------------------------------------------------------------------------
// Air quality: `Model::new(sizes)` building `Vec<Layer>` with `Default`, `const` penalties,
// trained by RMSprop.
// ---------------------------------------------------------------------------------------------

const WEIGHT_DECAY: f64 = 1e-3;
const HUBER_DELTA: f64 = 0.5;

#[derive(Clone, Debug, Default, Differentiable)]
struct AqLayer {
    w: Vec<Vec<f64>>,
    b: Vec<f64>,
}

#[derive(Clone, Debug, Differentiable)]
struct AqModel {
    layers: Vec<AqLayer>,
}

impl AqModel {
    /// A deterministic start for layer sizes `[2, 3, 1]`.
    fn new(sizes: &[usize]) -> Self {
        let mut layers = Vec::new();
        for k in 0..sizes.len() - 1 {
            let mut l = AqLayer::default();
            for i in 0..sizes[k + 1] {
                let row: Vec<f64> = (0..sizes[k])
                    .map(|j| (0.37 * (i * 3 + j + k * 7) as f64).sin() * 0.8)
                    .collect();
                l.w.push(row);
                l.b.push(0.05 * i as f64);
            }
            layers.push(l);
        }
        AqModel { layers }
    }
}

#[differentiate]
impl AqLayer {
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        self.w
            .iter()
            .zip(&self.b)
            .map(|(r, b)| r.iter().zip(x).map(|(w, v)| w * v).sum::<f64>() + b)
            .collect()
    }

    fn decay(&self) -> f64 {
        self.w
            .iter()
            .map(|r| r.iter().map(|w| w * w).sum::<f64>())
            .sum::<f64>()
    }
}

#[differentiate]
fn huber(r: f64) -> f64 {
    if r.abs() <= HUBER_DELTA {
        0.5 * r * r
    } else {
        HUBER_DELTA * (r.abs() - 0.5 * HUBER_DELTA)
    }
}

#[differentiate(wrt(model))]
fn aq_loss(model: &AqModel, xs: &[Vec<f64>], pm25: &[f64]) -> f64 {
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(pm25) {
        let h: Vec<f64> = model.layers[0]
            .forward(x)
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        let out = model.layers[1].forward(&h);
        total += huber(out[0] - y);
    }
    let reg: f64 = model.layers.iter().map(|l| l.decay()).sum();
    total / xs.len() as f64 + WEIGHT_DECAY * reg
}

#[test]
fn air_quality_model_built_by_new_trained_by_rmsprop() {
    use autodiff::optim::{RmsProp, RmsPropConfig};
    // wind speed, humidity (standardized) → PM2.5 (standardized)
    let xs = vec![
        vec![0.5, -0.2],
        vec![-1.0, 0.7],
        vec![1.2, 1.0],
        vec![-0.3, -0.9],
        vec![0.1, 0.4],
    ];
    let ys = vec![-0.4, 1.1, -0.2, 0.3, 0.6];
    let mut m = AqModel::new(&[2, 3, 1]);
    let (v, g) = aq_loss_grad(&m, &xs, &ys);
    close("value", v, aq_loss(&m, &xs, &ys), TOL);
    // out = u·relu(W x + b) + c, ρ' = clamp(r, −δ, δ): ∂c = Σ ρ'/n, ∂u = Σ ρ' h/n + 2λu,
    // ∂W = Σ ρ' uᵢ[zᵢ > 0] xᵀ/n + 2λW, ∂b = Σ ρ' uᵢ[zᵢ > 0]/n.
    let (l1, l2) = (&m.layers[0], &m.layers[1]);
    let n = 5.0;
    let mut ew: Vec<Vec<f64>> =
        l1.w.iter()
            .map(|r| r.iter().map(|w| 2.0 * WEIGHT_DECAY * w).collect())
            .collect();
    let mut eb = vec![0.0; 3];
    let mut eu: Vec<f64> = l2.w[0].iter().map(|w| 2.0 * WEIGHT_DECAY * w).collect();
    let mut ec = 0.0;
    for (x, y) in xs.iter().zip(&ys) {
        let z: Vec<f64> = (0..3)
            .map(|i| l1.w[i][0] * x[0] + l1.w[i][1] * x[1] + l1.b[i])
            .collect();
        let h: Vec<f64> = z.iter().map(|v| v.max(0.0)).collect();
        let out = (0..3).map(|i| l2.w[0][i] * h[i]).sum::<f64>() + l2.b[0];
        let d = (out - y).clamp(-HUBER_DELTA, HUBER_DELTA) / n;
        ec += d;
        for i in 0..3 {
            eu[i] += d * h[i];
            if z[i] > 0.0 {
                let di = d * l2.w[0][i];
                eb[i] += di;
                ew[i][0] += di * x[0];
                ew[i][1] += di * x[1];
            }
        }
    }
    for i in 0..3 {
        close_all("∂W", &g.layers[0].w[i], &ew[i]);
    }
    close_all("∂b", &g.layers[0].b, &eb);
    close_all("∂u", &g.layers[1].w[0], &eu);
    close("∂c", g.layers[1].b[0], ec, TOL);
    fd_any("air quality", |q: &AqModel| aq_loss(q, &xs, &ys), &m, &g);
    let start = v;
    let mut opt = RmsProp::new(RmsPropConfig {
        lr: 0.02,
        ..Default::default()
    });
    for _ in 0..50 {
        let (_, g) = aq_loss_grad(&m, &xs, &ys);
        opt.step(&mut m, &g);
    }
    let end = aq_loss(&m, &xs, &ys);
    assert!(end < 0.7 * start, "RMSprop did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Soil moisture by kernel ridge: a `Kernel` trait implemented by two structs, each model
// a concrete type.
// ---------------------------------------------------------------------------------------------

trait Kernel {
    fn eval(&self, a: f64, b: f64) -> f64;
}

#[derive(Clone, Debug, Differentiable)]
struct Rbf {
    log_len: f64,
    log_amp: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Periodic {
    log_len: f64,
    period: f64,
}

#[differentiate]
impl Kernel for Rbf {
    fn eval(&self, a: f64, b: f64) -> f64 {
        let l = self.log_len.exp();
        self.log_amp.exp() * (-(a - b).powi(2) / (2.0 * l * l)).exp()
    }
}

#[differentiate]
impl Kernel for Periodic {
    fn eval(&self, a: f64, b: f64) -> f64 {
        let l = self.log_len.exp();
        let s = (std::f64::consts::PI * (a - b).abs() / self.period).sin();
        (-2.0 * s * s / (l * l)).exp()
    }
}

/// Leave-nothing-out fit of a kernel smoother: ŷᵢ = Σⱼ k(tᵢ, tⱼ) yⱼ / Σⱼ k(tᵢ, tⱼ).
#[differentiate(wrt(k))]
fn smoother_loss(k: &Rbf, days: &[f64], moisture: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..days.len() {
        let mut num = 0.0;
        let mut den = 0.0;
        for j in 0..days.len() {
            if j != i {
                let kij = k.eval(days[i], days[j]);
                num += kij * moisture[j];
                den += kij;
            }
        }
        s += (num / den - moisture[i]).powi(2);
    }
    s
}

#[differentiate(wrt(k))]
fn smoother_loss_periodic(k: &Periodic, days: &[f64], moisture: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..days.len() {
        let mut num = 0.0;
        let mut den = 0.0;
        for j in 0..days.len() {
            if j != i {
                let kij = k.eval(days[i], days[j]);
                num += kij * moisture[j];
                den += kij;
            }
        }
        s += (num / den - moisture[i]).powi(2);
    }
    s
}

#[test]
fn soil_moisture_kernel_smoothers_of_a_kernel_trait() {
    let days = vec![0.0, 1.0, 2.5, 3.0, 4.5, 6.0];
    let moist = vec![0.30, 0.28, 0.22, 0.25, 0.31, 0.27];
    let k = Rbf {
        log_len: 0.3,
        log_amp: 0.1,
    };
    let (v, g) = smoother_loss_grad(&k, &days, &moist);
    close("value", v, smoother_loss(&k, &days, &moist), TOL);
    // The amplitude cancels in num/den: ∂log_amp = 0. For the length, with
    // ∂kᵢⱼ/∂log_len = kᵢⱼ dᵢⱼ²/l²: ∂ŷᵢ = Σⱼ ∂kᵢⱼ (yⱼ − ŷᵢ)/denᵢ.
    let l = k.log_len.exp();
    let mut el = 0.0;
    for i in 0..6 {
        let (mut num, mut den, mut dnum, mut dden) = (0.0, 0.0, 0.0, 0.0);
        for j in 0..6 {
            if j != i {
                let d2: f64 = (days[i] - days[j]).powi(2);
                let kij = k.log_amp.exp() * (-d2 / (2.0 * l * l)).exp();
                num += kij * moist[j];
                den += kij;
                dnum += kij * d2 / (l * l) * moist[j];
                dden += kij * d2 / (l * l);
            }
        }
        let yh = num / den;
        el += 2.0 * (yh - moist[i]) * (dnum - yh * dden) / den;
    }
    close("∂log_len", g.log_len, el, 1e-9);
    close("∂log_amp", g.log_amp, 0.0, 1e-12);
    fd_any(
        "rbf smoother",
        |q: &Rbf| smoother_loss(q, &days, &moist),
        &k,
        &g,
    );
    let p = Periodic {
        log_len: 0.2,
        period: 3.7,
    };
    let (v, g) = smoother_loss_periodic_grad(&p, &days, &moist);
    close("value", v, smoother_loss_periodic(&p, &days, &moist), TOL);
    // k = e^{−2s²/l²}, s = sin(π|d|/P), c = cos(π|d|/P): ∂k/∂log_len = 4ks²/l²,
    // ∂k/∂P = 4ksc π|d|/(l²P²); ∂ŷᵢ = Σⱼ ∂kᵢⱼ (yⱼ − ŷᵢ)/denᵢ as above.
    let l = p.log_len.exp();
    let (mut el, mut ep) = (0.0, 0.0);
    for i in 0..6 {
        let (mut num, mut den) = (0.0, 0.0);
        let mut parts = Vec::new();
        for j in 0..6 {
            if j != i {
                let d = (days[i] - days[j]).abs();
                let a = std::f64::consts::PI * d / p.period;
                let (sn, cs) = (a.sin(), a.cos());
                let kij = (-2.0 * sn * sn / (l * l)).exp();
                num += kij * moist[j];
                den += kij;
                let dl = 4.0 * kij * sn * sn / (l * l);
                let dp = 4.0 * kij * sn * cs * a / (l * l * p.period);
                parts.push((j, dl, dp));
            }
        }
        let yh = num / den;
        let r = 2.0 * (yh - moist[i]) / den;
        for (j, dl, dp) in parts {
            el += r * dl * (moist[j] - yh);
            ep += r * dp * (moist[j] - yh);
        }
    }
    close("∂log_len (periodic)", g.log_len, el, 1e-9);
    close("∂period", g.period, ep, 1e-9);
    fd_any(
        "periodic smoother",
        |q: &Periodic| smoother_loss_periodic(q, &days, &moist),
        &p,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Reservoir operations: a `Vec` of structs whose method returns (release, spill).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Reservoir {
    capacity: f64,
    release_frac: f64,
}

#[differentiate]
impl Reservoir {
    /// Release a fraction of the storage; what exceeds the capacity spills smoothly
    /// (softplus of the excess).
    fn operate(&self, storage: f64) -> (f64, f64) {
        let release = self.release_frac * storage;
        let spill = (storage - release - self.capacity).exp().ln_1p();
        (release, spill)
    }
}

/// A cascade: each reservoir's release and spill flow into the next; the loss asks for a
/// target outflow at the end and penalises spills.
#[differentiate(wrt(cascade))]
fn cascade_loss(cascade: &[Reservoir], inflow: f64, target: f64) -> f64 {
    let mut flow = inflow;
    let mut spilled = 0.0;
    for r in cascade.iter() {
        let (rel, sp) = r.operate(flow);
        flow = rel + sp;
        spilled += sp;
    }
    (flow - target).powi(2) + 0.1 * spilled
}

#[test]
fn reservoir_cascade_over_a_vec_with_tuple_results() {
    let cascade = vec![
        Reservoir {
            capacity: 3.0,
            release_frac: 0.6,
        },
        Reservoir {
            capacity: 2.0,
            release_frac: 0.8,
        },
    ];
    let (inflow, target) = (6.0, 3.2);
    let (v, g) = cascade_loss_grad(&cascade, inflow, target);
    close("value", v, cascade_loss(&cascade, inflow, target), TOL);
    // Stage k: out = f s + softplus(s − f s − C), σ = σ(s − f s − C):
    // ∂out/∂s = f + σ(1 − f), ∂out/∂f = s − σ s, ∂out/∂C = −σ; spill's the same with σ only.
    // Backward from L = (out₂ − T)² + 0.1 (sp₁ + sp₂).
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (c1, f1, c2, f2) = (3.0, 0.6, 2.0, 0.8);
    let s1 = inflow;
    let z1 = s1 - f1 * s1 - c1;
    let s2 = f1 * s1 + z1.exp().ln_1p();
    let z2 = s2 - f2 * s2 - c2;
    let out = f2 * s2 + z2.exp().ln_1p();
    let (q1, q2) = (sig(z1), sig(z2));
    let lo = 2.0 * (out - target);
    // stage 2
    let ef2 = lo * (s2 - q2 * s2) + 0.1 * (-q2 * s2);
    let ec2 = lo * (-q2) + 0.1 * (-q2);
    let ls2 = lo * (f2 + q2 * (1.0 - f2)) + 0.1 * q2 * (1.0 - f2);
    // stage 1: its out is s₂
    let ef1 = ls2 * (s1 - q1 * s1) + 0.1 * (-q1 * s1);
    let ec1 = ls2 * (-q1) + 0.1 * (-q1);
    close("∂release_frac₂", g[1].release_frac, ef2, 1e-10);
    close("∂capacity₂", g[1].capacity, ec2, 1e-10);
    close("∂release_frac₁", g[0].release_frac, ef1, 1e-10);
    close("∂capacity₁", g[0].capacity, ec1, 1e-10);
    let r = gradcheck(
        |c: &Vec<Reservoir>| cascade_loss(c, inflow, target),
        &cascade,
        &g,
    );
    assert!(r.passed(), "cascade: {r}");
}

// ---------------------------------------------------------------------------------------------
// Keystroke dynamics in `f32`: a logistic model trained by Nesterov momentum.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Keystroke {
    w: [f32; 3],
    b: f32,
}

#[differentiate]
impl Keystroke {
    fn logit(&self, x: &[f32; 3]) -> f32 {
        self.w[0] * x[0] + self.w[1] * x[1] + self.w[2] * x[2] + self.b
    }

    fn nll(&self, xs: &[[f32; 3]], genuine: &[bool]) -> f32 {
        let mut s = 0.0f32;
        for (x, &g) in xs.iter().zip(genuine) {
            let z = self.logit(x);
            let m = if g { -z } else { z };
            s += m.max(0.0) + (-m.abs()).exp().ln_1p();
        }
        s / xs.len() as f32
    }
}

#[test]
fn keystroke_dynamics_in_f32_trained_by_nesterov() {
    use autodiff::optim::{Nesterov, NesterovConfig};
    // hold time, flight time, pressure (scaled)
    let xs = vec![
        [0.2f32, -0.4, 0.9],
        [-0.6, 0.8, -0.2],
        [0.5, -0.1, 0.4],
        [-0.3, 0.6, -0.7],
    ];
    let genuine = vec![true, false, true, false];
    let mut m = Keystroke {
        w: [0.1, 0.1, -0.1],
        b: 0.0,
    };
    let (v, (g, _)) = m.nll_grad(&xs, &genuine);
    assert_eq!(v.to_bits(), m.nll(&xs, &genuine).to_bits());
    // softplus(∓z): ∂z = (σ(z) − y)/n; ∂w = Σ ∂z x, ∂b = Σ ∂z
    let mut ew = [0.0f64; 3];
    let mut eb = 0.0f64;
    for (x, &is_gen) in xs.iter().zip(&genuine) {
        let z = (0..3).map(|j| (m.w[j] * x[j]) as f64).sum::<f64>() + m.b as f64;
        let d = (1.0 / (1.0 + (-z).exp()) - if is_gen { 1.0 } else { 0.0 }) / 4.0;
        eb += d;
        for j in 0..3 {
            ew[j] += d * x[j] as f64;
        }
    }
    for j in 0..3 {
        close("∂w", g.w[j] as f64, ew[j], 1e-5);
    }
    close("∂b", g.b as f64, eb, 1e-5);
    let r = gradcheck(|q: &Keystroke| q.nll(&xs, &genuine), &m, &g);
    assert!(r.passed(), "keystroke f32: {r}");
    let start = v;
    let mut opt: Nesterov<f32> = Nesterov::new(NesterovConfig {
        lr: 0.5,
        ..Default::default()
    });
    for _ in 0..30 {
        let (_, (g, _)) = m.nll_grad(&xs, &genuine);
        opt.step(&mut m, &g);
    }
    let end = m.nll(&xs, &genuine);
    assert!(end < 0.5 * start, "Nesterov did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Yeast growth: a logistic curve generic over `F: Float`, with `hessian`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Growth<F: Float> {
    log_k: F,
    log_r: F,
    t_mid: F,
}

#[differentiate(hessian)]
impl<F: Float> Growth<F> {
    /// OD(t) = K / (1 + e^{−r (t − t_mid)})
    fn density(&self, t: F) -> F
    where
        F: Float,
    {
        self.log_k.exp() / (F::one() + (-self.log_r.exp() * (t - self.t_mid)).exp())
    }

    fn sse(&self, ts: &[F], od: &[F]) -> F
    where
        F: Float,
    {
        let mut s = F::zero();
        for (&t, &y) in ts.iter().zip(od) {
            let e = self.density(t) - y;
            s = s + e * e;
        }
        s
    }
}

#[test]
fn yeast_growth_generic_over_the_float_type_with_hessian() {
    let ts = vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0];
    let od = vec![0.05, 0.15, 0.55, 1.1, 1.45, 1.55];
    let m = Growth {
        log_k: 0.4,
        log_r: -0.3,
        t_mid: 5.0,
    };
    let (v, (g, _, _)) = m.sse_grad(&ts, &od);
    close("value", v, m.sse(&ts, &od), TOL);
    // σ = 1/(1 + e^{−r(t − m)}), OD = Kσ, e = 2(OD − y): ∂log_k = Σ e OD,
    // ∂log_r = Σ e K σ(1 − σ) r (t − m), ∂t_mid = −Σ e K σ(1 − σ) r.
    let (k, r) = (m.log_k.exp(), m.log_r.exp());
    let mut e = [0.0; 3];
    for (t, y) in ts.iter().zip(&od) {
        let s = 1.0 / (1.0 + (-r * (t - m.t_mid)).exp());
        let d = 2.0 * (k * s - y);
        e[0] += d * k * s;
        e[1] += d * k * s * (1.0 - s) * r * (t - m.t_mid);
        e[2] -= d * k * s * (1.0 - s) * r;
    }
    close("∂log_k", g.log_k, e[0], 1e-10);
    close("∂log_r", g.log_r, e[1], 1e-10);
    close("∂t_mid", g.t_mid, e[2], 1e-10);
    fd_any("growth", |q: &Growth<f64>| q.sse(&ts, &od), &m, &g);
    let dir = Growth {
        log_k: 0.2,
        log_r: 0.1,
        t_mid: -0.4,
    };
    let z = vec![0.0; 6];
    let (_, _, (hv, _, _)) = m.sse_hvp(&ts, &od, &dir, &z, &z);
    let h = 1e-5;
    let at = |s: f64| Growth {
        log_k: m.log_k + s * dir.log_k,
        log_r: m.log_r + s * dir.log_r,
        t_mid: m.t_mid + s * dir.t_mid,
    };
    let gp = at(h).sse_grad(&ts, &od).1.0;
    let gm = at(-h).sse_grad(&ts, &od).1.0;
    close(
        "(H·v).log_k",
        hv.log_k,
        (gp.log_k - gm.log_k) / (2.0 * h),
        1e-6,
    );
    close(
        "(H·v).log_r",
        hv.log_r,
        (gp.log_r - gm.log_r) / (2.0 * h),
        1e-6,
    );
    close(
        "(H·v).t_mid",
        hv.t_mid,
        (gp.t_mid - gm.t_mid) / (2.0 * h),
        1e-6,
    );
}

// ---------------------------------------------------------------------------------------------
// Camera white balance: a struct with an array field, and a config enum read through a
// reference parameter's field.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Tone {
    Linear,
    Gamma,
}

struct BalanceConfig {
    tone: Tone,
    target_gray: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct WhiteBalance {
    gains: [f64; 3],
    gamma: f64,
}

#[differentiate(wrt(wb))]
fn balance_loss(wb: &WhiteBalance, cfg: &BalanceConfig, patches: &[[f64; 3]]) -> f64 {
    let mut s = 0.0;
    for p in patches {
        for c in 0..3 {
            let v = wb.gains[c] * p[c];
            let out = match cfg.tone {
                Tone::Linear => v,
                Tone::Gamma => v.powf(1.0 / wb.gamma),
            };
            s += (out - cfg.target_gray).powi(2);
        }
    }
    s
}

#[test]
fn camera_white_balance_with_an_array_field_and_a_config_enum() {
    let patches = vec![[0.42, 0.5, 0.61], [0.38, 0.47, 0.55]];
    let wb = WhiteBalance {
        gains: [1.1, 1.0, 0.85],
        gamma: 2.2,
    };
    for tone in [Tone::Linear, Tone::Gamma] {
        let cfg = BalanceConfig {
            tone,
            target_gray: 0.5,
        };
        let (v, g) = balance_loss_grad(&wb, &cfg, &patches);
        close("value", v, balance_loss(&wb, &cfg, &patches), TOL);
        // out = (g p)^{1/γ}: ∂g = 2(out − t) out/(γ g), ∂γ = −2(out − t) out ln(g p)/γ²;
        // linear: ∂g = 2(g p − t) p, ∂γ = 0.
        let mut eg = [0.0; 3];
        let mut egam = 0.0;
        for p in &patches {
            for c in 0..3 {
                let v = wb.gains[c] * p[c];
                match tone {
                    Tone::Linear => eg[c] += 2.0 * (v - 0.5) * p[c],
                    Tone::Gamma => {
                        let out = v.powf(1.0 / wb.gamma);
                        eg[c] += 2.0 * (out - 0.5) * out / (wb.gamma * wb.gains[c]);
                        egam -= 2.0 * (out - 0.5) * out * v.ln() / (wb.gamma * wb.gamma);
                    }
                }
            }
        }
        close_all("∂gains", &g.gains, &eg);
        close("∂gamma", g.gamma, egam, TOL);
        fd_any(
            &format!("white balance {tone:?}"),
            |q: &WhiteBalance| balance_loss(q, &cfg, &patches),
            &wb,
            &g,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A thermostat's PI controller, tuned through a simulated room: the controller's state
// is a struct whose step takes `self` and returns the new state with the control signal.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct PiController {
    kp: f64,
    ki: f64,
    integral: f64,
}

#[differentiate(hessian)]
impl PiController {
    fn control(self, err: f64, dt: f64) -> (PiController, f64) {
        let integral = self.integral + err * dt;
        let u = self.kp * err + self.ki * integral;
        (
            PiController {
                kp: self.kp,
                ki: self.ki,
                integral,
            },
            u,
        )
    }
}

const SETPOINT: f64 = 20.0;
const STEPS: usize = 25;

#[differentiate(hessian)]
fn thermostat_cost(kp: f64, ki: f64) -> f64 {
    let mut ctl = PiController {
        kp,
        ki,
        integral: 0.0,
    };
    let mut temp = 15.0;
    let mut cost = 0.0;
    for _ in 0..STEPS {
        let err = SETPOINT - temp;
        let (next, u) = ctl.control(err, 0.1);
        ctl = next;
        temp += 0.1 * (u - 0.2 * (temp - 10.0));
        cost += err * err * 0.1;
    }
    cost
}

#[test]
fn thermostat_pi_controller_tuned_through_a_simulation() {
    let (kp, ki) = (0.8, 0.3);
    let (v, (gkp, gki)) = thermostat_cost_grad(kp, ki);
    close("value", v, thermostat_cost(kp, ki), TOL);
    // Forward sensitivities of the linear recursion: eₙ = 20 − Tₙ, Iₙ₊₁ = Iₙ + 0.1eₙ,
    // Tₙ₊₁ = Tₙ + 0.1(kp eₙ + ki Iₙ₊₁ − 0.2(Tₙ − 10)); ∂eₙ = −∂Tₙ, and ∂cost = Σ 0.2 eₙ ∂eₙ.
    let (mut t, mut i) = (15.0, 0.0);
    let (mut dt_kp, mut dt_ki, mut di_kp, mut di_ki) = (0.0, 0.0, 0.0, 0.0);
    let (mut e_kp, mut e_ki) = (0.0, 0.0);
    for _ in 0..STEPS {
        let e = SETPOINT - t;
        let (de_kp, de_ki) = (-dt_kp, -dt_ki);
        e_kp += 0.2 * e * de_kp;
        e_ki += 0.2 * e * de_ki;
        let i1 = i + 0.1 * e;
        let (di1_kp, di1_ki) = (di_kp + 0.1 * de_kp, di_ki + 0.1 * de_ki);
        let u = kp * e + ki * i1;
        let du_kp = e + kp * de_kp + ki * di1_kp;
        let du_ki = kp * de_ki + i1 + ki * di1_ki;
        let t1 = t + 0.1 * (u - 0.2 * (t - 10.0));
        dt_kp = dt_kp + 0.1 * (du_kp - 0.2 * dt_kp);
        dt_ki = dt_ki + 0.1 * (du_ki - 0.2 * dt_ki);
        (t, i, di_kp, di_ki) = (t1, i1, di1_kp, di1_ki);
    }
    close("∂kp", gkp, e_kp, 1e-10);
    close("∂ki", gki, e_ki, 1e-10);
    fd2("thermostat", thermostat_cost, (kp, ki), (gkp, gki));
    let (_, _, hv) = thermostat_cost_hvp(kp, ki, 1.0, -0.5);
    let h = 1e-5;
    let gp = thermostat_cost_grad(kp + h, ki - 0.5 * h).1;
    let gm = thermostat_cost_grad(kp - h, ki + 0.5 * h).1;
    close("(H·v)₀", hv.0, (gp.0 - gm.0) / (2.0 * h), 1e-6);
    close("(H·v)₁", hv.1, (gp.1 - gm.1) / (2.0 * h), 1e-6);
}

// ---------------------------------------------------------------------------------------------
// A transformer-ish block stack: structs nested two deep inside a `Vec`, methods on the
// fields of the loop variable, the last layer taken by `last().unwrap()`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Gate {
    u: Vec<f64>,
    c: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Block {
    gate: Gate,
    mix: Vec<f64>,
}

#[derive(Clone, Debug, Differentiable)]
struct Stack {
    blocks: Vec<Block>,
}

#[differentiate]
impl Gate {
    fn open(&self, x: &[f64]) -> f64 {
        let z = self.u.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + self.c;
        1.0 / (1.0 + (-z).exp())
    }
}

#[differentiate]
impl Block {
    /// x + g(x)·(mix ⊙ x)
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        let g = self.gate.open(x);
        x.iter()
            .zip(&self.mix)
            .map(|(v, m)| v + g * m * v)
            .collect()
    }
}

#[differentiate]
impl Stack {
    fn run(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        for blk in &self.blocks {
            h = blk.apply(&h);
        }
        h
    }

    /// The output's energy, plus the last block's gate at the output (a confidence term).
    fn objective(&self, x: &[f64]) -> f64 {
        let h = self.run(x);
        let last = self.blocks.last().unwrap();
        h.iter().map(|v| v * v).sum::<f64>() + last.gate.open(&h)
    }
}

#[test]
fn gated_block_stack_nested_two_deep_in_a_vec() {
    let st = Stack {
        blocks: vec![
            Block {
                gate: Gate {
                    u: vec![0.3, -0.5],
                    c: 0.1,
                },
                mix: vec![0.4, -0.2],
            },
            Block {
                gate: Gate {
                    u: vec![-0.2, 0.6],
                    c: -0.3,
                },
                mix: vec![-0.1, 0.5],
            },
        ],
    };
    let x = vec![0.9, -0.4];
    let (v, (g, gx)) = st.objective_grad(&x);
    close("value", v, st.objective(&x), TOL);
    // Backward by hand: block k with gate gₖ = σ(uₖ·hₖ + cₖ): hₖ₊₁ = hₖ ⊙ (1 + gₖ mixₖ);
    // λ̄ = ∂L/∂hₖ₊₁: ∂mixₖ = λ̄ ⊙ gₖ hₖ, ∂gₖ = Σ λ̄ mixₖ hₖ, ∂zₖ = ∂gₖ gₖ(1 − gₖ),
    // ∂uₖ = ∂zₖ hₖ, ∂cₖ = ∂zₖ, ∂hₖ = λ̄ ⊙ (1 + gₖ mixₖ) + ∂zₖ uₖ.
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let open = |gt: &Gate, h: &[f64]| sig(gt.u[0] * h[0] + gt.u[1] * h[1] + gt.c);
    let mut hs = vec![x.clone()];
    for b in &st.blocks {
        let h = hs.last().unwrap().clone();
        let gk = open(&b.gate, &h);
        hs.push((0..2).map(|i| h[i] * (1.0 + gk * b.mix[i])).collect());
    }
    let out = &hs[2];
    let last = &st.blocks[1].gate;
    let go = open(last, out);
    // the confidence term's own gradients
    let dzo = go * (1.0 - go);
    let eu1: Vec<f64> = (0..2).map(|i| dzo * out[i]).collect();
    let ec1 = dzo;
    let mut lam: Vec<f64> = (0..2).map(|i| 2.0 * out[i] + dzo * last.u[i]).collect();
    let mut emix = vec![vec![0.0; 2]; 2];
    let mut eu = vec![vec![0.0; 2]; 2];
    let mut ec = [0.0; 2];
    for k in (0..2).rev() {
        let b = &st.blocks[k];
        let h = &hs[k];
        let gk = open(&b.gate, h);
        let dg: f64 = (0..2).map(|i| lam[i] * b.mix[i] * h[i]).sum();
        let dz = dg * gk * (1.0 - gk);
        for i in 0..2 {
            emix[k][i] = lam[i] * gk * h[i];
            eu[k][i] = dz * h[i];
        }
        ec[k] = dz;
        lam = (0..2)
            .map(|i| lam[i] * (1.0 + gk * b.mix[i]) + dz * b.gate.u[i])
            .collect();
    }
    for i in 0..2 {
        eu[1][i] += eu1[i];
    }
    ec[1] += ec1;
    for k in 0..2 {
        close_all("∂mix", &g.blocks[k].mix, &emix[k]);
        close_all("∂gate.u", &g.blocks[k].gate.u, &eu[k]);
        close("∂gate.c", g.blocks[k].gate.c, ec[k], TOL);
    }
    close_all("∂x", &gx, &lam);
    fd_any("stack", |q: &Stack| q.objective(&x), &st, &g);
    fd_vec("stack ∂x", |x| st.objective(x), &x, &gx);
}

// ---------------------------------------------------------------------------------------------
// Signature verification: a contrastive loss whose margin comes from a data builder run
// inside the differentiated function.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Margin {
    value: f64,
}

impl Default for Margin {
    fn default() -> Self {
        Margin { value: 0.5 }
    }
}

impl Margin {
    fn scaled(self, k: f64) -> Self {
        Margin {
            value: self.value * k,
        }
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Siamese {
    proj: Vec<Vec<f64>>,
}

#[differentiate]
impl Siamese {
    fn embed(&self, x: &[f64]) -> Vec<f64> {
        self.proj
            .iter()
            .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>())
            .collect()
    }

    fn dist2(&self, a: &[f64], b: &[f64]) -> f64 {
        let ea = self.embed(a);
        let eb = self.embed(b);
        ea.iter().zip(&eb).map(|(p, q)| (p - q) * (p - q)).sum()
    }
}

#[differentiate(wrt(net))]
fn contrastive(net: &Siamese, pairs: &[(Vec<f64>, Vec<f64>)], same: &[bool]) -> f64 {
    let margin = Margin::default().scaled(2.0);
    let mut s = 0.0;
    for (k, (a, b)) in pairs.iter().enumerate() {
        let d2 = net.dist2(a, b);
        if same[k] {
            s += d2;
        } else {
            s += (margin.value - d2).max(0.0).powi(2);
        }
    }
    s
}

#[test]
fn signature_verification_with_a_margin_from_a_data_builder() {
    let net = Siamese {
        proj: vec![vec![0.5, -0.3, 0.2], vec![0.1, 0.4, -0.6]],
    };
    let pairs = vec![
        (vec![1.0, 0.2, -0.1], vec![0.9, 0.3, 0.0]),
        (vec![0.4, -0.8, 0.5], vec![-0.6, 0.7, 0.2]),
        (vec![0.3, 0.3, 0.3], vec![0.2, 0.1, 0.6]),
    ];
    let same = vec![true, false, false];
    let (v, g) = contrastive_grad(&net, &pairs, &same);
    close("value", v, contrastive(&net, &pairs, &same), TOL);
    // d² = ‖P(a − b)‖², ∂P = 2 P(a − b)(a − b)ᵀ ·c with c = 1 for a same pair and
    // c = −2 max(m − d², 0) otherwise (m = 1).
    let mut e = vec![vec![0.0; 3]; 2];
    for ((a, b), &sm) in pairs.iter().zip(&same) {
        let d: Vec<f64> = (0..3).map(|j| a[j] - b[j]).collect();
        let pd: Vec<f64> = (0..2)
            .map(|i| (0..3).map(|j| net.proj[i][j] * d[j]).sum())
            .collect();
        let d2: f64 = pd.iter().map(|v| v * v).sum();
        let c = if sm { 1.0 } else { -2.0 * (1.0 - d2).max(0.0) };
        for i in 0..2 {
            for j in 0..3 {
                e[i][j] += c * 2.0 * pd[i] * d[j];
            }
        }
    }
    for i in 0..2 {
        close_all("∂proj", &g.proj[i], &e[i]);
    }
    fd_any(
        "siamese",
        |q: &Siamese| contrastive(q, &pairs, &same),
        &net,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Beehive scales: a `Vec` of calibration structs trained by AdaGrad.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct HiveScale {
    offset: f64,
    drift: f64,
}

#[differentiate]
impl HiveScale {
    fn corrected(&self, raw: f64, day: f64) -> f64 {
        raw - self.offset - self.drift * day
    }
}

/// Each scale's corrected readings against a reference weighing on the same days.
#[differentiate(wrt(scales))]
fn hive_loss(scales: &[HiveScale], raw: &[Vec<f64>], days: &[f64], reference: &[f64]) -> f64 {
    scales
        .iter()
        .zip(raw)
        .map(|(s, r)| {
            r.iter()
                .zip(days)
                .zip(reference)
                .map(|((&x, &d), &y)| (s.corrected(x, d) - y).powi(2))
                .sum::<f64>()
        })
        .sum()
}

#[test]
fn beehive_scales_over_a_vec_trained_by_adagrad() {
    use autodiff::optim::{AdaGrad, AdaGradConfig};
    let days = vec![0.0, 1.0, 2.0, 3.0];
    let reference = vec![30.0, 30.4, 30.9, 31.2];
    let raw = vec![vec![31.0, 31.5, 32.1, 32.5], vec![29.2, 29.5, 29.9, 30.1]];
    let mut scales = vec![
        HiveScale {
            offset: 0.0,
            drift: 0.0,
        },
        HiveScale {
            offset: 0.0,
            drift: 0.0,
        },
    ];
    let (v, g) = hive_loss_grad(&scales, &raw, &days, &reference);
    close("value", v, hive_loss(&scales, &raw, &days, &reference), TOL);
    // r = x − o − δd − y: ∂o = −Σ 2r, ∂δ = −Σ 2r d, per scale.
    for k in 0..2 {
        let (mut eo, mut ed) = (0.0, 0.0);
        for j in 0..4 {
            let r = raw[k][j] - scales[k].offset - scales[k].drift * days[j] - reference[j];
            eo -= 2.0 * r;
            ed -= 2.0 * r * days[j];
        }
        close("∂offset", g[k].offset, eo, TOL);
        close("∂drift", g[k].drift, ed, TOL);
    }
    let r = gradcheck(
        |s: &Vec<HiveScale>| hive_loss(s, &raw, &days, &reference),
        &scales,
        &g,
    );
    assert!(r.passed(), "hive: {r}");
    let start = v;
    let mut opt = AdaGrad::new(AdaGradConfig {
        lr: 0.3,
        ..Default::default()
    });
    for _ in 0..40 {
        let (_, g) = hive_loss_grad(&scales, &raw, &days, &reference);
        opt.step(&mut scales, &g);
    }
    let end = hive_loss(&scales, &raw, &days, &reference);
    assert!(end < 0.2 * start, "AdaGrad did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Bike-share demand: seasonal components nested in the model, a method returning the two
// components as a tuple, trained by AdamW.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Seasonal {
    amp: f64,
    phase: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct BikeDemand {
    base: f64,
    yearly: Seasonal,
    weekly: Seasonal,
}

#[differentiate]
impl Seasonal {
    fn at(&self, t: f64, period: f64) -> f64 {
        self.amp * (2.0 * std::f64::consts::PI * t / period + self.phase).sin()
    }
}

#[differentiate]
impl BikeDemand {
    fn components(&self, t: f64) -> (f64, f64) {
        (self.yearly.at(t, 365.0), self.weekly.at(t, 7.0))
    }

    fn log_rate(&self, t: f64) -> f64 {
        let (y, w) = self.components(t);
        self.base + y + w
    }

    /// Poisson negative log-likelihood (up to constants).
    fn nll(&self, days: &[f64], rides: &[f64]) -> f64 {
        days.iter()
            .zip(rides)
            .map(|(&t, &n)| {
                let lr = self.log_rate(t);
                lr.exp() - n * lr
            })
            .sum()
    }
}

#[test]
fn bike_share_demand_with_nested_seasonal_components_trained_by_adamw() {
    use autodiff::optim::{AdamW, AdamWConfig};
    let days = vec![0.0, 3.0, 40.0, 95.0, 180.0, 250.0, 320.0];
    let rides = vec![12.0, 15.0, 18.0, 30.0, 41.0, 25.0, 11.0];
    let mut m = BikeDemand {
        base: 2.5,
        yearly: Seasonal {
            amp: 0.3,
            phase: -1.0,
        },
        weekly: Seasonal {
            amp: 0.05,
            phase: 0.0,
        },
    };
    let (v, (g, _, _)) = m.nll_grad(&days, &rides);
    close("value", v, m.nll(&days, &rides), TOL);
    // λ = e^{ℓ}, ℓ = base + A sin(ωt + φ) + a sin(νt + ψ): ∂ℓ = λ − n;
    // ∂A = Σ ∂ℓ sin(ωt + φ), ∂φ = Σ ∂ℓ A cos(ωt + φ), likewise for the weekly terms.
    let tau = 2.0 * std::f64::consts::PI;
    let mut e = [0.0; 5];
    for (&t, &n) in days.iter().zip(&rides) {
        let (ay, aw) = (
            tau * t / 365.0 + m.yearly.phase,
            tau * t / 7.0 + m.weekly.phase,
        );
        let l = m.base + m.yearly.amp * ay.sin() + m.weekly.amp * aw.sin();
        let d = l.exp() - n;
        e[0] += d;
        e[1] += d * ay.sin();
        e[2] += d * m.yearly.amp * ay.cos();
        e[3] += d * aw.sin();
        e[4] += d * m.weekly.amp * aw.cos();
    }
    close("∂base", g.base, e[0], 1e-10);
    close("∂yearly.amp", g.yearly.amp, e[1], 1e-10);
    close("∂yearly.phase", g.yearly.phase, e[2], 1e-10);
    close("∂weekly.amp", g.weekly.amp, e[3], 1e-10);
    close("∂weekly.phase", g.weekly.phase, e[4], 1e-10);
    fd_any("bike demand", |q: &BikeDemand| q.nll(&days, &rides), &m, &g);
    let start = v;
    let mut opt = AdamW::new(AdamWConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..60 {
        let (_, (g, _, _)) = m.nll_grad(&days, &rides);
        opt.step(&mut m, &g);
    }
    let end = m.nll(&days, &rides);
    assert!(end < start, "AdamW did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// Delivery ETA bands: a method returning (median, log spread) destructured inside a closure,
// with a pinball loss for the 10% and 90% quantiles.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct EtaModel {
    w: Vec<f64>,
    b: f64,
    s_w: f64,
    s_b: f64,
}

#[differentiate]
fn pinball(r: f64, q: f64) -> f64 {
    if r >= 0.0 { q * r } else { (q - 1.0) * r }
}

#[differentiate]
impl EtaModel {
    fn band(&self, x: &[f64]) -> (f64, f64) {
        let med = self.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + self.b;
        let log_spread = self.s_w * x[0] + self.s_b;
        (med, log_spread)
    }

    fn loss(&self, xs: &[Vec<f64>], minutes: &[f64]) -> f64 {
        xs.iter()
            .zip(minutes)
            .map(|(x, &y)| {
                let (med, ls) = self.band(x);
                let spread = ls.exp();
                pinball(y - (med - spread), 0.1) + pinball(y - (med + spread), 0.9)
            })
            .sum()
    }
}

#[test]
fn delivery_eta_bands_from_a_tuple_destructured_in_a_closure() {
    let m = EtaModel {
        w: vec![3.0, 1.5],
        b: 10.0,
        s_w: 0.2,
        s_b: 1.0,
    };
    // distance (km), stops → minutes
    let xs = vec![
        vec![2.0, 1.0],
        vec![5.0, 3.0],
        vec![1.0, 0.0],
        vec![3.5, 2.0],
    ];
    let ys = vec![19.0, 33.0, 16.5, 23.0];
    let (v, (g, _, _)) = m.loss_grad(&xs, &ys);
    close("value", v, m.loss(&xs, &ys), TOL);
    // ρ_q'(r) = q for r ≥ 0, q − 1 below; lo = med − s, hi = med + s, s = e^{ls}:
    // ∂med = −ρ'(y − lo) − ρ'(y − hi), ∂s = ρ'(y − lo) − ρ'(y − hi), ∂ls = s ∂s.
    let dp = |r: f64, q: f64| if r >= 0.0 { q } else { q - 1.0 };
    let (mut ew, mut eb, mut esw, mut esb) = (vec![0.0; 2], 0.0, 0.0, 0.0);
    for (x, &y) in xs.iter().zip(&ys) {
        let med = m.w[0] * x[0] + m.w[1] * x[1] + m.b;
        let s = (m.s_w * x[0] + m.s_b).exp();
        let dmed = -dp(y - (med - s), 0.1) - dp(y - (med + s), 0.9);
        let dls = s * (dp(y - (med - s), 0.1) - dp(y - (med + s), 0.9));
        ew[0] += dmed * x[0];
        ew[1] += dmed * x[1];
        eb += dmed;
        esw += dls * x[0];
        esb += dls;
    }
    close_all("∂w", &g.w, &ew);
    close("∂b", g.b, eb, TOL);
    close("∂s_w", g.s_w, esw, TOL);
    close("∂s_b", g.s_b, esb, TOL);
    fd_any("eta", |q: &EtaModel| q.loss(&xs, &ys), &m, &g);
}
