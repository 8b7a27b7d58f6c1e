//! Training logistic regression with the public API only: standardize the features, step Adam,
//! babysit the loss. Self-contained on purpose (no shared helpers), so that it can be switched to
//! a `#[differentiate]`d loss: put `#[differentiate(wrt(w))]` on `loss`, delete the hand-written
//! `loss_grad` below, and the generated `loss_grad(w, xs, ys) -> (f64, Vec<f64>)` takes its place.

use autodiff_runtime::data::Standardizer;
use autodiff_runtime::optim::{Adam, AdamConfig, DivergenceMonitor, Optimizer};
use ndarray::Array2;

const D: usize = 3; // weights: bias + 2 features
const LAMBDA: f64 = 0.1;

/// f(w) = (1/n) Σᵢ log(1 + exp(−yᵢ (w₀ + w₁ xᵢ₁ + w₂ xᵢ₂))) + (λ/2)‖w‖², with `xs` the n × 2
/// feature matrix in row-major order and yᵢ ∈ {−1, 1}.
fn loss(w: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let n = ys.len();
    let mut total = 0.0;
    for i in 0..n {
        let z = w[0] + w[1] * xs[2 * i] + w[2] * xs[2 * i + 1];
        total += (1.0 + (-ys[i] * z).exp()).ln();
    }
    let reg = 0.5 * LAMBDA * (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
    total / n as f64 + reg
}

/// Hand-written gradient: ∂f/∂w = −(1/n) Σᵢ yᵢ σ(−yᵢ zᵢ) (1, xᵢ₁, xᵢ₂) + λ w.
fn loss_grad(w: &[f64], xs: &[f64], ys: &[f64]) -> (f64, Vec<f64>) {
    let n = ys.len();
    let mut g = vec![0.0; D];
    for i in 0..n {
        let row = [1.0, xs[2 * i], xs[2 * i + 1]];
        let z = w[0] + w[1] * row[1] + w[2] * row[2];
        let s = 1.0 / (1.0 + (ys[i] * z).exp());
        for j in 0..D {
            g[j] -= ys[i] * s * row[j] / n as f64;
        }
    }
    for j in 0..D {
        g[j] += LAMBDA * w[j];
    }
    (loss(w, xs, ys), g)
}

#[test]
fn adam_trains_logistic_regression_on_standardized_features() {
    // Two features on wildly different scales (≈ 10³ and ≈ 10⁻³); the label depends on both,
    // with a deterministic "noise" term so the classes overlap.
    let n = 300;
    let raw = Array2::from_shape_fn((n, 2), |(i, j)| {
        let t = i as f64;
        if j == 0 {
            1000.0 + 400.0 * (0.61 * t).sin()
        } else {
            0.002 * (1.7 * t + 0.3).cos()
        }
    });
    let ys: Vec<f64> = (0..n)
        .map(|i| {
            let z =
                (raw[[i, 0]] - 1000.0) / 400.0 - raw[[i, 1]] / 0.002 + 0.3 * (5.1 * i as f64).sin();
            if z > 0.0 { 1.0 } else { -1.0 }
        })
        .collect();

    let (scaler, xs) = Standardizer::fit_transform(&raw).expect("no constant columns");
    let xs = xs.as_slice().expect("standard layout").to_vec();

    // The hand-written gradient agrees with central differences of `loss` (h = 1e-5; the
    // truncation error is O(h²·f''') ≈ 1e-10, the rounding error ≈ ε·f/h ≈ 1e-11).
    let probe = [0.3, -0.7, 1.1];
    let (_, g) = loss_grad(&probe, &xs, &ys);
    for j in 0..D {
        let (mut up, mut down) = (probe, probe);
        up[j] += 1e-5;
        down[j] -= 1e-5;
        let fd = (loss(&up, &xs, &ys) - loss(&down, &xs, &ys)) / 2e-5;
        assert!((g[j] - fd).abs() < 1e-8, "∂f/∂w{j}: {} vs {fd}", g[j]);
    }

    // The training loop.
    let mut w = vec![0.0; D];
    let mut opt = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut monitor = DivergenceMonitor::default();
    for _ in 0..3000 {
        let (l, g) = loss_grad(&w, &xs, &ys);
        monitor.observe(l).expect("training diverged");
        opt.step(&mut w, &g);
    }

    // f is λ-strongly convex: ‖∇f(w)‖ ≤ 1e-6 puts w within 1e-5 of the minimiser.
    let (_, g) = loss_grad(&w, &xs, &ys);
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(gnorm <= 1e-6, "‖∇f(w)‖ = {gnorm:e}, w = {w:?}");

    // The label rule is z = x̃₁ − x̃₂ + noise in roughly standardized units, so the fitted
    // weights on the two standardized features have opposite signs, and the classifier gets
    // most training labels right.
    assert!(w[1] > 0.0 && w[2] < 0.0, "w = {w:?}");
    let correct = (0..n)
        .filter(|&i| {
            let z = w[0] + w[1] * xs[2 * i] + w[2] * xs[2 * i + 1];
            z * ys[i] > 0.0
        })
        .count();
    assert!(correct * 10 >= n * 9, "{correct} of {n} correct");

    // A new point goes through the same standardization.
    let x_new = scaler
        .transform(&ndarray::array![[1300.0, -0.0015]])
        .expect("two columns");
    let z = w[0] + w[1] * x_new[[0, 0]] + w[2] * x_new[[0, 1]];
    assert!(
        z > 0.0,
        "a point far on the positive side is classified positive: z = {z}"
    );
}
