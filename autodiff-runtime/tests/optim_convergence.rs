//! Every optimizer converges on a strongly convex quadratic and on L2-regularised logistic
//! regression (gradient written by hand here; `optim_logistic_public_api.rs` is the version meant
//! to switch to a `#[differentiate]`d loss).
//!
//! Tolerances, fixed by what each method is known to do, not by what a run happened to give:
//!
//! - `1e-6` for every method that converges to the minimiser itself with the step sizes below:
//!   SGD, heavy ball, Nesterov, AdaGrad (its accumulated G_t has a finite limit, so its steps
//!   stop shrinking), Adam and AMSGrad (on these deterministic problems √v̂ shrinks with the
//!   gradient), and RMSprop with a step-decay schedule (with a constant step RMSprop ends in a
//!   limit cycle of size O(α) around the minimiser, so the schedule halves α every 500 steps).
//! - `1e-5` for AdamW: the decoupled decay −αλx is balanced by Adam's normalised step only on
//!   average, which leaves an O(α) limit cycle too; with α halved every 1000 steps the last
//!   period runs at α = 0.01·2⁻⁹ ≈ 2·10⁻⁵. Its limit as α → 0 is still the minimiser of f: with
//!   ‖x‖∞ far below 1/λ = 100, the box constraint that AdamW implicitly imposes (Xie & Li, 2024)
//!   is inactive.

use autodiff_runtime::optim::{
    AdaGrad, AdaGradConfig, Adam, AdamConfig, AdamW, AdamWConfig, AmsGrad, AmsGradConfig, Momentum,
    MomentumConfig, Nesterov, NesterovConfig, Optimizer, RmsProp, RmsPropConfig, Schedule, Sgd,
    SgdConfig,
};

type Opt = Box<dyn Optimizer<[f64; 3]>>;

const STEPS: usize = 10_000;

/// The optimizers under test with their tolerances; `lr_scale` multiplies the step sizes of
/// the non-adaptive methods (SGD, heavy ball, Nesterov), whose stable range depends on the
/// problem's curvature, unlike the adaptive ones.
fn optimizers(lr_scale: f64) -> Vec<(&'static str, Opt, f64)> {
    vec![
        (
            "Sgd",
            Box::new(Sgd::new(SgdConfig {
                lr: 0.3 * lr_scale,
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "Momentum",
            Box::new(Momentum::new(MomentumConfig {
                lr: 0.1 * lr_scale,
                momentum: 0.5,
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "Nesterov",
            Box::new(Nesterov::new(NesterovConfig {
                lr: 0.1 * lr_scale,
                momentum: 0.5,
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "AdaGrad",
            Box::new(AdaGrad::new(AdaGradConfig {
                lr: 0.5,
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "RmsProp",
            Box::new(RmsProp::new(RmsPropConfig {
                lr: 0.01,
                schedule: Schedule::Step {
                    every: 500,
                    gamma: 0.5,
                },
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "Adam",
            Box::new(Adam::new(AdamConfig {
                lr: 0.05,
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "AmsGrad",
            Box::new(AmsGrad::new(AmsGradConfig {
                lr: 0.05,
                ..Default::default()
            })),
            1e-6,
        ),
        (
            "AdamW",
            Box::new(AdamW::new(AdamWConfig {
                lr: 0.01,
                beta2: 0.9,
                weight_decay: 0.01,
                schedule: Schedule::Step {
                    every: 1000,
                    gamma: 0.5,
                },
                ..Default::default()
            })),
            1e-5,
        ),
    ]
}

// f(x) = ½ (x − x*)ᵀ A (x − x*), A symmetric positive definite (leading minors 4, 11, 10), so f
// is strongly convex with its unique minimiser x*.
const A: [[f64; 3]; 3] = [[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]];
const X_STAR: [f64; 3] = [1.0, -2.0, 0.5];

fn quadratic_grad(x: &[f64; 3]) -> [f64; 3] {
    let d = [x[0] - X_STAR[0], x[1] - X_STAR[1], x[2] - X_STAR[2]];
    [0, 1, 2].map(|i| A[i][0] * d[0] + A[i][1] * d[1] + A[i][2] * d[2])
}

#[test]
fn every_optimizer_converges_on_a_strongly_convex_quadratic() {
    // ‖x_T − x*‖∞ ≤ tol after 10 000 steps from x_0 = 0.
    for (name, mut opt, tol) in optimizers(1.0) {
        let mut x = [0.0; 3];
        for _ in 0..STEPS {
            let g = quadratic_grad(&x);
            opt.step(&mut x, &g);
        }
        let err = (0..3).map(|i| (x[i] - X_STAR[i]).abs()).fold(0.0, f64::max);
        assert!(
            err <= tol,
            "{name}: ‖x − x*‖∞ = {err:e} > {tol:e}, x = {x:?}"
        );
    }
}

// Logistic regression on 200 deterministic examples with features (1, 2 sin(0.37 i),
// 1.5 cos(1.3 i + 0.5)) and labels y_i = sign(0.5 + 1.5 x₁ − 2 x₂ + 1.2 sin(2.9 i)) ∈ {−1, 1}
// (the sine term is label noise, so the classes overlap):
//
//   f(w) = (1/n) Σ log(1 + exp(−y_i wᵀx_i)) + (λ/2)‖w‖²,   λ = 0.1
//   ∇f(w) = −(1/n) Σ y_i σ(−y_i wᵀx_i) x_i + λ w
//
// f is λ-strongly convex, so ‖w − w*‖ ≤ ‖∇f(w)‖/λ: the criterion ‖∇f(w_T)‖ ≤ tol puts w_T within
// 10·tol of the minimiser.
const N: usize = 200;
const LAMBDA: f64 = 0.1;

fn dataset() -> Vec<([f64; 3], f64)> {
    (0..N)
        .map(|i| {
            let t = i as f64;
            let x = [1.0, 2.0 * (0.37 * t).sin(), 1.5 * (1.3 * t + 0.5).cos()];
            let z = 0.5 + 1.5 * x[1] - 2.0 * x[2] + 1.2 * (2.9 * t).sin();
            (x, if z > 0.0 { 1.0 } else { -1.0 })
        })
        .collect()
}

fn logistic_loss_grad(w: &[f64; 3], data: &[([f64; 3], f64)]) -> (f64, [f64; 3]) {
    let n = data.len() as f64;
    let mut loss = 0.0;
    let mut g = [0.0; 3];
    for (x, y) in data {
        let margin = y * (w[0] * x[0] + w[1] * x[1] + w[2] * x[2]);
        loss += (-margin).exp().ln_1p();
        let s = 1.0 / (1.0 + margin.exp()); // σ(−margin)
        for j in 0..3 {
            g[j] -= y * s * x[j];
        }
    }
    let reg = 0.5 * LAMBDA * (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
    (loss / n + reg, [0, 1, 2].map(|j| g[j] / n + LAMBDA * w[j]))
}

fn norm(g: &[f64; 3]) -> f64 {
    (g[0] * g[0] + g[1] * g[1] + g[2] * g[2]).sqrt()
}

#[test]
fn every_optimizer_converges_on_regularised_logistic_regression() {
    let data = dataset();
    let positives = data.iter().filter(|(_, y)| *y > 0.0).count();
    assert!(
        (50..150).contains(&positives),
        "both classes are well represented: {positives} positives"
    );
    let (loss0, _) = logistic_loss_grad(&[0.0; 3], &data);
    // f has curvature at most L = ¼·λ_max((1/n)Σ x xᵀ) + λ ≤ ¼·(1/n)Σ‖x‖² + λ < 1.5, so the
    // non-adaptive methods can take 3× the steps they take on the quadratic (whose curvature is
    // at most 5, the largest Gershgorin row sum of A): SGD's 0.9 < 2/L, heavy ball's
    // 0.3 < 2(1 + β)/L.
    let trace = data
        .iter()
        .map(|(x, _)| x.iter().map(|v| v * v).sum::<f64>())
        .sum::<f64>()
        / N as f64;
    assert!(0.25 * trace + LAMBDA < 1.5, "curvature bound {trace}");
    for (name, mut opt, tol) in optimizers(3.0) {
        let mut w = [0.0; 3];
        for _ in 0..STEPS {
            let (_, g) = logistic_loss_grad(&w, &data);
            opt.step(&mut w, &g);
        }
        let (loss, g) = logistic_loss_grad(&w, &data);
        assert!(
            norm(&g) <= tol,
            "{name}: ‖∇f(w)‖ = {:e} > {tol:e}, w = {w:?}",
            norm(&g)
        );
        assert!(
            loss < loss0,
            "{name}: loss {loss} not below the start {loss0}"
        );
    }
}
