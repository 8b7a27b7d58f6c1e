//! A newcomer's first programs: losses over `Vec<f64>` data with `iter().zip().map().sum()`,
//! models deriving `Differentiable` with `#[differentiate]` on the `impl` block and trained by
//! `autodiff::optim`, `f32` code, helpers calling helpers, activations chosen by an enum or
//! kept in closures, `Option` data, `const` hyper-parameters, early returns, `while` loops
//! with a tolerance, `ndarray` code (`dot`, `mapv`, `sum_axis`, broadcasting) and the pullback
//! of a tuple result.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Where `hessian` applies, `_hvp` is checked against central differences of the
//! gradient and `_jvp` against directional differences and the pullback.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::redundant_closure,
    clippy::unnecessary_fold,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::op_ref
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis, array};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Mean squared error of a line over `Vec<f64>` data, with `iter().zip().map().sum()`.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(w, b))]
fn line_mse(w: f64, b: f64, xs: &Vec<f64>, ys: &Vec<f64>) -> f64 {
    let n = xs.len() as f64;
    xs.iter()
        .zip(ys.iter())
        .map(|(x, y)| (w * x + b - y).powi(2))
        .sum::<f64>()
        / n
}

#[test]
fn line_mse_over_vec_data() {
    let xs = data(7, 1.0);
    let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x - 0.5 + 0.1 * x * x).collect();
    let (w, b) = (0.7, 0.2);
    let (v, (gw, gb)) = line_mse_grad(w, b, &xs, &ys);
    close("value", v, line_mse(w, b, &xs, &ys), TOL);
    // ∂w = 2/n Σ r x, ∂b = 2/n Σ r, r = w x + b − y.
    let n = xs.len() as f64;
    let ew: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| 2.0 * (w * x + b - y) * x)
        .sum::<f64>()
        / n;
    let eb: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| 2.0 * (w * x + b - y))
        .sum::<f64>()
        / n;
    close2("grad", (gw, gb), (ew, eb));
    fd2(
        "line mse",
        |w, b| line_mse(w, b, &xs, &ys),
        (w, b),
        (gw, gb),
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A model struct with `#[differentiate]` on its impl block, trained by Adam.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Quadratic {
    a: f64,
    b: f64,
    c: f64,
}

impl Quadratic {
    #[differentiate]
    fn predict(&self, x: f64) -> f64 {
        self.a * x * x + self.b * x + self.c
    }

    #[differentiate(wrt(self))]
    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut total = 0.0;
        for (x, y) in xs.iter().zip(ys) {
            let r = self.predict(*x) - y;
            total += r * r;
        }
        total / xs.len() as f64
    }
}

#[test]
fn quadratic_model_trained_by_adam() {
    use autodiff::optim::{Adam, AdamConfig, Optimizer};
    let xs = data(9, 2.0);
    let ys: Vec<f64> = xs.iter().map(|x| 1.5 * x * x - 0.3 * x + 0.25).collect();
    let mut m = Quadratic {
        a: 0.1,
        b: 0.2,
        c: -0.1,
    };
    let (v, g) = m.loss_grad(&xs, &ys);
    close("value", v, m.loss(&xs, &ys), TOL);
    // r = a x² + b x + c − y: ∂a = 2/n Σ r x², ∂b = 2/n Σ r x, ∂c = 2/n Σ r.
    let n = xs.len() as f64;
    let (mut ea, mut eb, mut ec) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let r = 2.0 * (m.a * x * x + m.b * x + m.c - y) / n;
        ea += r * x * x;
        eb += r * x;
        ec += r;
    }
    close("∂a", g.a, ea, 1e-12);
    close("∂b", g.b, eb, 1e-12);
    close("∂c", g.c, ec, 1e-12);
    fd_any("quadratic", |q: &Quadratic| q.loss(&xs, &ys), &m, &g);
    let start = v;
    let mut opt = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..200 {
        let (_, g) = m.loss_grad(&xs, &ys);
        opt.step(&mut m, &g);
    }
    let end = m.loss(&xs, &ys);
    assert!(end < 0.1 * start, "adam did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// 3. f32 code: logistic log-loss of one example.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn logloss32(z: f32) -> f32 {
    let p = 1.0 / (1.0 + (-z).exp());
    -(0.75f32 * p.ln() + 0.25 * (1.0 - p).ln())
}

#[test]
fn logloss_in_f32() {
    for &z in &[-1.5f32, 0.3, 2.0] {
        let (v, g) = logloss32_grad(z);
        assert_eq!(v.to_bits(), logloss32(z).to_bits());
        // d/dz = p − 0.75.
        let p = 1.0 / (1.0 + (-(z as f64)).exp());
        close("d/dz", g as f64, p - 0.75, 1e-6);
        fd32("logloss32", logloss32, z, g);
    }
}

#[differentiate]
fn dot32(w: &[f32], x: &[f32]) -> f32 {
    w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>().tanh()
}

#[test]
fn dot_tanh_in_f32() {
    let w = vec![0.2f32, -0.4, 0.1];
    let x = vec![1.0f32, 0.5, -2.0];
    let (v, (gw, gx)) = dot32_grad(&w, &x);
    assert_eq!(v.to_bits(), dot32(&w, &x).to_bits());
    // ∂w_i = (1 − t²) x_i, ∂x_i = (1 − t²) w_i, t = tanh(w·x).
    let s: f64 = w.iter().zip(&x).map(|(a, b)| *a as f64 * *b as f64).sum();
    let d = 1.0 - s.tanh().powi(2);
    for i in 0..3 {
        close("∂w", gw[i] as f64, d * x[i] as f64, 1e-6);
        close("∂x", gx[i] as f64, d * w[i] as f64, 1e-6);
    }
    let r = gradcheck(|p: &Vec<f32>| dot32(p, &x), &w, &gw);
    assert!(r.passed(), "dot32 ∂w: {r}");
}

// ---------------------------------------------------------------------------------------------
// 4. Helpers calling helpers.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn sq(x: f64) -> f64 {
    x * x
}

#[differentiate]
fn norm2(v: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in v {
        s += sq(*x);
    }
    s.sqrt()
}

#[differentiate]
fn ridge(w: &[f64], lambda: f64) -> f64 {
    lambda * sq(norm2(w)) + norm2(w)
}

#[test]
fn helpers_calling_helpers() {
    let w = vec![0.3, -1.2, 0.8];
    let lam = 0.4;
    let (v, (gw, gl)) = ridge_grad(&w, lam);
    close("value", v, ridge(&w, lam), TOL);
    // f = λ|w|² + |w|: ∂w = 2λ w + w/|w|, ∂λ = |w|².
    let n = w.iter().map(|x| x * x).sum::<f64>().sqrt();
    let ew: Vec<f64> = w.iter().map(|x| 2.0 * lam * x + x / n).collect();
    close_all("∂w", &gw, &ew);
    close("∂λ", gl, n * n, 1e-12);
    fd_vec("ridge", |p| ridge(p, lam), &w, &gw);
}

// ---------------------------------------------------------------------------------------------
// 5. `match` on an enum of activation kinds.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Activation {
    Relu,
    Tanh,
    Sigmoid,
    Softplus,
}

#[differentiate(wrt(x))]
fn activate(x: f64, kind: Activation) -> f64 {
    match kind {
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Softplus => (1.0 + x.exp()).ln(),
    }
}

#[differentiate(wrt(w, b, x))]
fn neuron(w: f64, b: f64, x: f64, kind: Activation) -> f64 {
    let z = w * x + b;
    activate(z, kind)
}

#[test]
fn activation_chosen_by_enum() {
    let (w, b, x) = (0.8, -0.1, 0.9);
    for kind in [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softplus,
    ] {
        let (v, (gw, gb, gx)) = neuron_grad(w, b, x, kind);
        close("value", v, neuron(w, b, x, kind), TOL);
        // ∂w = a'(z) x, ∂b = a'(z), ∂x = a'(z) w.
        let z: f64 = w * x + b;
        let s = 1.0 / (1.0 + (-z).exp());
        let da = match kind {
            Activation::Relu => 1.0,
            Activation::Tanh => 1.0 - z.tanh().powi(2),
            Activation::Sigmoid => s * (1.0 - s),
            Activation::Softplus => s,
        };
        close("∂w", gw, da * x, 1e-12);
        close("∂b", gb, da, 1e-12);
        close("∂x", gx, da * w, 1e-12);
        fd3(
            &format!("{kind:?}"),
            |w, b, x| neuron(w, b, x, kind),
            (w, b, x),
            (gw, gb, gx),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. `Option` data parameters: sample weights that may be absent, a regulariser that may be off.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(mu))]
fn weighted_sse(mu: f64, xs: &[f64], weights: Option<&[f64]>, reg: Option<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let w = match weights {
            Some(ws) => ws[i],
            None => 1.0,
        };
        total += w * (xs[i] - mu).powi(2);
    }
    if let Some(l) = reg {
        total += l * mu * mu;
    }
    total
}

#[test]
fn option_data_parameters() {
    let xs = data(5, 3.0);
    let ws = vec![1.0, 0.5, 2.0, 0.25, 1.5];
    let mu = 0.2;
    for (weights, reg) in [
        (None, None),
        (Some(&ws[..]), None),
        (None, Some(0.3)),
        (Some(&ws[..]), Some(0.3)),
    ] {
        let (v, g) = weighted_sse_grad(mu, &xs, weights, reg);
        close("value", v, weighted_sse(mu, &xs, weights, reg), TOL);
        // ∂μ = −2 Σ w_i (x_i − μ) + 2 λ μ.
        let mut e = 0.0;
        for i in 0..xs.len() {
            e -= 2.0 * weights.map_or(1.0, |w| w[i]) * (xs[i] - mu);
        }
        e += 2.0 * reg.unwrap_or(0.0) * mu;
        close("∂μ", g, e, 1e-12);
        fd(
            "weighted sse",
            |m| weighted_sse(m, &xs, weights, reg),
            mu,
            g,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. `const` hyper-parameters at module level and in the body; early return.
// ---------------------------------------------------------------------------------------------

const DELTA: f64 = 0.5;

#[differentiate]
fn huber(r: f64) -> f64 {
    if r.abs() <= DELTA {
        return 0.5 * r * r;
    }
    DELTA * (r.abs() - 0.5 * DELTA)
}

#[differentiate(wrt(m))]
fn huber_fit(m: f64, xs: &[f64]) -> f64 {
    const SCALE: f64 = 2.0;
    xs.iter().map(|x| huber(SCALE * (x - m))).sum()
}

#[test]
fn huber_with_consts_and_early_return() {
    let xs = vec![0.1, 0.5, -0.3, 1.4, -2.0];
    let m = 0.05;
    let (v, g) = huber_fit_grad(m, &xs);
    close("value", v, huber_fit(m, &xs), TOL);
    // ∂m = Σ −2 ψ(2(x − m)), ψ(r) = r for |r| ≤ δ, δ sign r otherwise.
    let e: f64 = xs
        .iter()
        .map(|x| {
            let r = 2.0 * (x - m);
            -2.0 * if r.abs() <= DELTA {
                r
            } else {
                DELTA * r.signum()
            }
        })
        .sum();
    close("∂m", g, e, 1e-12);
    fd("huber fit", |m| huber_fit(m, &xs), m, g);
}

// ---------------------------------------------------------------------------------------------
// 8. `while` with a tolerance: a Taylor series summed until its term is small.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn exp_series(x: f64) -> f64 {
    let mut term = 1.0f64;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term.abs() > 1e-16 {
        term = term * x / k;
        sum += term;
        k += 1.0;
    }
    sum
}

#[test]
fn while_loop_with_tolerance() {
    for &x in &[-0.7, 0.4, 1.3] {
        let (v, g) = exp_series_grad(x);
        close("value", v, exp_series(x), TOL);
        // d/dx Σ x^k/k! (truncated once the term is below 1e-16) = eˣ up to the truncation.
        close("d/dx", g, x.exp(), 1e-13);
        fd("exp series", exp_series, x, g);
    }
}

/// Newton's iteration for √a until the step is small, then a loss on the root.
#[differentiate]
fn newton_sqrt_loss(a: f64) -> f64 {
    let mut x = a.max(1.0);
    let mut step = 1.0f64;
    let mut it = 0;
    while step.abs() > 1e-14 && it < 100 {
        let next = 0.5 * (x + a / x);
        step = next - x;
        x = next;
        it += 1;
    }
    (x - 1.0).powi(2)
}

#[test]
fn newton_iteration_in_while() {
    let a = 2.3;
    let (v, g) = newton_sqrt_loss_grad(a);
    close("value", v, newton_sqrt_loss(a), TOL);
    // f = (√a − 1)², f' = (√a − 1)/√a at convergence.
    close("d/da", g, (a.sqrt() - 1.0) / a.sqrt(), 1e-10);
    fd("newton sqrt", newton_sqrt_loss, a, g);
}

// ---------------------------------------------------------------------------------------------
// 9. ndarray: least squares with `dot` and `mapv`; a layer with broadcasting and `sum_axis`.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(w))]
fn lstsq(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let r = x.dot(w) - y;
    r.mapv(|e| e * e).sum() / y.len() as f64
}

#[test]
fn ndarray_least_squares() {
    let x = matrix(6, 3, 1.0);
    let y = vector(6, 2.0);
    let w = vector(3, 3.0);
    let (v, g) = lstsq_grad(&w, &x, &y);
    close("value", v, lstsq(&w, &x, &y), TOL);
    // ∇w = 2/n Xᵀ (X w − y).
    let e = x.t().dot(&(x.dot(&w) - &y)) * (2.0 / 6.0);
    same("∇w", &g, &e, 1e-12);
    fd_array("lstsq", |p| lstsq(p, &x, &y), &w, &g);
}

#[differentiate(wrt(w, b))]
fn tanh_layer(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>) -> f64 {
    let z = x.dot(w) + b;
    let h = z.mapv(|v| v.tanh());
    let col = h.sum_axis(Axis(0));
    col.mapv(|c| c * c).sum()
}

#[test]
fn ndarray_layer_with_broadcast_and_sum_axis() {
    let x = matrix(4, 3, 1.5);
    let w = matrix(3, 2, 2.5);
    let b = vector(2, 0.5);
    let (v, (gw, gb)) = tanh_layer_grad(&w, &b, &x);
    close("value", v, tanh_layer(&w, &b, &x), TOL);
    // f = Σ_j c_j², c_j = Σ_i tanh(z_ij): ∂z_ij = 2 c_j (1 − h_ij²); ∇W = Xᵀ ∂Z, ∇b = Σ_i ∂Z.
    let h = (x.dot(&w) + &b).mapv(f64::tanh);
    let c = h.sum_axis(Axis(0));
    let dz = (1.0 - &h * &h) * (&c * 2.0);
    same("∇W", &gw, &x.t().dot(&dz), 1e-12);
    same("∇b", &gb, &dz.sum_axis(Axis(0)), 1e-12);
    fd_array("layer ∇W", |p| tanh_layer(p, &b, &x), &w, &gw);
    fd_array("layer ∇b", |p| tanh_layer(&w, p, &x), &b, &gb);
}

// ---------------------------------------------------------------------------------------------
// 10. Closures for activations, one capturing a parameter.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn closure_net(a: f64, w: &[f64], x: &[f64]) -> f64 {
    let leaky = |z: f64| if z > 0.0 { z } else { a * z };
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let mut out = 0.0;
    for i in 0..w.len() {
        out += sigmoid(leaky(w[i] * x[i]));
    }
    out
}

#[test]
fn closures_as_activations() {
    let a = 0.1;
    let w = vec![0.5, -0.8, 1.2];
    let x = vec![1.0, 0.6, -0.4];
    let (v, (ga, gw, gx)) = closure_net_grad(a, &w, &x);
    close("value", v, closure_net(a, &w, &x), TOL);
    // u = w x, l = u or a u, s = σ(l): ∂a = Σ_{u<0} s(1−s) u, ∂w = s(1−s) l'(u) x.
    let (mut ea, mut ew, mut ex) = (0.0, vec![0.0; 3], vec![0.0; 3]);
    for i in 0..3 {
        let u: f64 = w[i] * x[i];
        let l = if u > 0.0 { u } else { a * u };
        let s = 1.0 / (1.0 + (-l).exp());
        let ds = s * (1.0 - s);
        let dl = if u > 0.0 { 1.0 } else { a };
        if u <= 0.0 {
            ea += ds * u;
        }
        ew[i] = ds * dl * x[i];
        ex[i] = ds * dl * w[i];
    }
    close("∂a", ga, ea, 1e-12);
    close_all("∂w", &gw, &ew);
    close_all("∂x", &gx, &ex);
    fd("closure net ∂a", |a| closure_net(a, &w, &x), a, ga);
    fd_vec2(
        "closure net ∂w ∂x",
        |w, x| closure_net(a, w, x),
        &w,
        &x,
        &gw,
        &gx,
    );
}

// ---------------------------------------------------------------------------------------------
// 11. `_vjp` of a tuple result.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn polar_to_cartesian(r: f64, theta: f64) -> (f64, f64) {
    (r * theta.cos(), r * theta.sin())
}

#[test]
fn pullback_of_a_tuple_result() {
    let (r, t) = (1.7, 0.6);
    let (y, pb) = polar_to_cartesian_vjp(r, t);
    assert_eq!(y, polar_to_cartesian(r, t));
    let (wx, wy) = (0.3, -1.1);
    let (gr, gt) = pb((wx, wy));
    // Jᵀ w: ∂r = wx cos θ + wy sin θ, ∂θ = −wx r sin θ + wy r cos θ.
    close2(
        "Jᵀw",
        (gr, gt),
        (
            wx * t.cos() + wy * t.sin(),
            -wx * r * t.sin() + wy * r * t.cos(),
        ),
    );
    fd2(
        "⟨w, polar⟩",
        |r, t| {
            let (x, y) = polar_to_cartesian(r, t);
            wx * x + wy * y
        },
        (r, t),
        (gr, gt),
    );
}

// ---------------------------------------------------------------------------------------------
// 12. A Gaussian's negative log-likelihood as a `&self` method; hessian of Rosenbrock.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Gaussian {
    mu: f64,
    log_sigma: f64,
}

impl Gaussian {
    #[differentiate(wrt(self))]
    fn nll(&self, xs: &[f64]) -> f64 {
        let sigma = self.log_sigma.exp();
        let mut total = 0.0;
        for x in xs {
            let z = (x - self.mu) / sigma;
            total += 0.5 * z * z + self.log_sigma;
        }
        total
    }
}

#[test]
fn gaussian_nll_method() {
    let xs = data(8, 4.0);
    let g0 = Gaussian {
        mu: 0.1,
        log_sigma: -0.3,
    };
    let (v, g) = g0.nll_grad(&xs);
    close("value", v, g0.nll(&xs), TOL);
    // ∂μ = −Σ (x−μ)/σ², ∂log σ = Σ (1 − (x−μ)²/σ²).
    let s2 = (2.0 * g0.log_sigma).exp();
    let emu: f64 = xs.iter().map(|x| -(x - g0.mu) / s2).sum();
    let els: f64 = xs.iter().map(|x| 1.0 - (x - g0.mu).powi(2) / s2).sum();
    close("∂μ", g.mu, emu, 1e-12);
    close("∂log σ", g.log_sigma, els, 1e-12);
    fd_any("gaussian", |q: &Gaussian| q.nll(&xs), &g0, &g);
}

#[differentiate(hessian)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    const A: f64 = 1.0;
    const B: f64 = 100.0;
    (A - x).powi(2) + B * (y - x * x).powi(2)
}

#[test]
fn rosenbrock_hessian() {
    let (x, y) = (-0.5, 0.8);
    let (v, (gx, gy)) = rosenbrock_grad(x, y);
    close("value", v, rosenbrock(x, y), TOL);
    // ∂x = −2(1−x) − 400 x (y − x²), ∂y = 200 (y − x²).
    close2(
        "grad",
        (gx, gy),
        (
            -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
            200.0 * (y - x * x),
        ),
    );
    fd2("rosenbrock", rosenbrock, (x, y), (gx, gy));
    // H = [[2 − 400 y + 1200 x², −400 x], [−400 x, 200]].
    let (dx, dy) = (0.3, -0.7);
    let (_, _, (hx, hy)) = rosenbrock_hvp(x, y, dx, dy);
    close(
        "(Hv)x",
        hx,
        (2.0 - 400.0 * y + 1200.0 * x * x) * dx - 400.0 * x * dy,
        1e-12,
    );
    close("(Hv)y", hy, -400.0 * x * dx + 200.0 * dy, 1e-12);
    for p in [(x, y), (1.2, 1.1)] {
        forward("rosenbrock").two(p, rosenbrock, rosenbrock_jvp, rosenbrock_vjp);
    }
}

// ---------------------------------------------------------------------------------------------
// 13. A small MLP over ndarray as a struct, trained by SGD.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array1<f64>,
    b2: f64,
}

impl Mlp {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array1<f64> {
        let h = (x.dot(&self.w1) + &self.b1).mapv(|v| v.tanh());
        h.dot(&self.w2) + self.b2
    }

    #[differentiate(wrt(self))]
    fn mse(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let p = self.forward(x);
        let r = p - y;
        r.mapv(|e| e * e).mean().unwrap()
    }
}

#[test]
fn ndarray_mlp_trained_by_sgd() {
    use autodiff::optim::{Optimizer, Sgd, SgdConfig};
    let x = matrix(10, 2, 0.3);
    let y: Array1<f64> = x.map_axis(Axis(1), |r| (r[0] - 0.5 * r[1]).sin());
    let mut m = Mlp {
        w1: matrix(2, 4, 1.1) * 0.5,
        b1: vector(4, 2.2) * 0.1,
        w2: vector(4, 3.3) * 0.5,
        b2: 0.05,
    };
    let (v, g) = m.mse_grad(&x, &y);
    close("value", v, m.mse(&x, &y), TOL);
    // h = tanh(X W1 + b1), p = h w2 + b2, r = p − y: ∂b2 = 2/n Σ r, ∂w2 = 2/n hᵀ r,
    // ∂Z = (2/n r w2ᵀ) ∘ (1 − h²), ∂W1 = Xᵀ ∂Z, ∂b1 = Σ_rows ∂Z.
    let n = 10.0;
    let h = (x.dot(&m.w1) + &m.b1).mapv(f64::tanh);
    let r = h.dot(&m.w2) + m.b2 - &y;
    let dr = &r * (2.0 / n);
    close("∂b2", g.b2, dr.sum(), 1e-12);
    same("∂w2", &g.w2, &h.t().dot(&dr), 1e-12);
    let outer = dr
        .view()
        .insert_axis(Axis(1))
        .dot(&m.w2.view().insert_axis(Axis(0)));
    let dz = outer * (1.0 - &h * &h);
    same("∂W1", &g.w1, &x.t().dot(&dz), 1e-12);
    same("∂b1", &g.b1, &dz.sum_axis(Axis(0)), 1e-12);
    fd_any("mlp", |q: &Mlp| q.mse(&x, &y), &m, &g);
    let start = v;
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.2,
        ..Default::default()
    });
    for _ in 0..100 {
        let (_, g) = m.mse_grad(&x, &y);
        opt.step(&mut m, &g);
    }
    let end = m.mse(&x, &y);
    assert!(end < 0.5 * start, "sgd did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// 14. Log-sum-exp with a max shift by `fold`; softmax cross-entropy with a `usize` label.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn softmax_xent(logits: &[f64], label: usize) -> f64 {
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + logits.iter().map(|z| (z - m).exp()).sum::<f64>().ln();
    lse - logits[label]
}

#[test]
fn softmax_cross_entropy() {
    let z = vec![0.2, 1.5, -0.7, 0.9];
    let (v, g) = softmax_xent_grad(&z, 2);
    close("value", v, softmax_xent(&z, 2), TOL);
    // ∂z = softmax(z) − e_label.
    let s: f64 = z.iter().map(|v| v.exp()).sum();
    let e: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, v)| v.exp() / s - if i == 2 { 1.0 } else { 0.0 })
        .collect();
    close_all("∂z", &g, &e);
    fd_vec("xent", |p| softmax_xent(p, 2), &z, &g);
}

// ---------------------------------------------------------------------------------------------
// 15. Horner's rule over coefficients, both wrt the point and the coefficients.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn horner(coeffs: &[f64], x: f64) -> f64 {
    let mut acc = 0.0;
    for c in coeffs.iter().rev() {
        acc = acc * x + c;
    }
    acc
}

#[test]
fn horner_polynomial() {
    let c = vec![1.0, -2.0, 0.5, 3.0];
    let x = 0.7;
    let (v, (gc, gx)) = horner_grad(&c, x);
    close("value", v, horner(&c, x), TOL);
    // p = Σ c_k x^k: ∂c_k = x^k, ∂x = Σ k c_k x^{k−1}.
    let ec: Vec<f64> = (0..4).map(|k| x.powi(k)).collect();
    close_all("∂c", &gc, &ec);
    let ex: f64 = (1..4).map(|k| k as f64 * c[k] * x.powi(k as i32 - 1)).sum();
    close("∂x", gx, ex, 1e-12);
    fd_vec("horner ∂c", |p| horner(p, x), &c, &gc);
    fd("horner ∂x", |x| horner(&c, x), x, gx);
}

// ---------------------------------------------------------------------------------------------
// 16. A `Vec` built by pushes, then a `match` on an index and a mean.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn pushed_features(x: f64) -> f64 {
    let mut feats = Vec::new();
    for k in 0..5 {
        let f = match k % 3 {
            0 => x.powi(k + 1),
            1 => (x * k as f64).sin(),
            _ => (-x * x).exp(),
        };
        feats.push(f);
    }
    feats.iter().sum::<f64>() / feats.len() as f64
}

#[test]
fn features_pushed_into_a_vec() {
    let x = 0.6;
    let (v, g) = pushed_features_grad(x);
    close("value", v, pushed_features(x), TOL);
    // k = 0: x, 1: sin x, 2: e^{−x²}, 3: x⁴, 4: sin 4x; derivative averaged over 5.
    let e =
        (1.0 + x.cos() - 2.0 * x * (-x * x).exp() + 4.0 * x.powi(3) + 4.0 * (4.0 * x).cos()) / 5.0;
    close("d/dx", g, e, 1e-12);
    fd("pushed features", pushed_features, x, g);
}

// ---------------------------------------------------------------------------------------------
// 17. A generic helper over `F: Float`, called from an `f64` loss.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn smooth_abs<F: num_traits::Float>(x: F, eps: F) -> F {
    (x * x + eps).sqrt()
}

#[differentiate(wrt(m))]
fn l1ish(m: f64, xs: &[f64]) -> f64 {
    xs.iter().map(|x| smooth_abs(x - m, 1e-3)).sum()
}

#[test]
fn generic_helper_from_concrete_loss() {
    let xs = data(6, 5.0);
    let m = 0.15;
    let (v, g) = l1ish_grad(m, &xs);
    close("value", v, l1ish(m, &xs), TOL);
    // ∂m = −Σ (x − m)/√((x − m)² + ε).
    let e: f64 = xs
        .iter()
        .map(|x| -(x - m) / ((x - m).powi(2) + 1e-3).sqrt())
        .sum();
    close("∂m", g, e, 1e-12);
    fd("l1ish", |m| l1ish(m, &xs), m, g);
}

// ---------------------------------------------------------------------------------------------
// 18. Two outputs' pullback from a vector-valued function over a slice.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn mean_and_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

#[test]
fn mean_and_variance_pullback() {
    let xs = data(5, 6.0);
    let ((m, v), pb) = mean_and_var_vjp(&xs);
    assert_eq!((m, v), mean_and_var(&xs));
    let (wm, wv) = (0.7, -1.3);
    let g = pb((wm, wv));
    // ∂mean/∂x_i = 1/n, ∂var/∂x_i = 2 (x_i − mean)/n.
    let e: Vec<f64> = xs
        .iter()
        .map(|x| wm / 5.0 + wv * 2.0 * (x - m) / 5.0)
        .collect();
    close_all("Jᵀw", &g, &e);
    fd_vec(
        "⟨w, (mean, var)⟩",
        |p| {
            let (a, b) = mean_and_var(p);
            wm * a + wv * b
        },
        &xs,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// 19. ndarray `array!` literals inside, `sum_axis` of the other axis, and `mean_axis`.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(a))]
fn row_norm_loss(a: &Array2<f64>) -> f64 {
    let scale = array![1.0, 2.0, 0.5];
    let s = a * &scale;
    let rows = s.mapv(|v| v * v).sum_axis(Axis(1));
    rows.mapv(|r| (r + 1.0).ln()).sum()
}

#[test]
fn ndarray_row_norms() {
    let a = matrix(3, 3, 7.0);
    let (v, g) = row_norm_loss_grad(&a);
    close("value", v, row_norm_loss(&a), TOL);
    // f = Σ_i ln(1 + Σ_j (a_ij s_j)²): ∂a_ij = 2 a_ij s_j² / (1 + r_i).
    let s = [1.0, 2.0, 0.5];
    let mut e = Array2::zeros((3, 3));
    for i in 0..3 {
        let r: f64 = (0..3).map(|j| (a[[i, j]] * s[j]).powi(2)).sum();
        for j in 0..3 {
            e[[i, j]] = 2.0 * a[[i, j]] * s[j] * s[j] / (1.0 + r);
        }
    }
    same("∇a", &g, &e, 1e-12);
    fd_array("row norms", row_norm_loss, &a, &g);
}

// ---------------------------------------------------------------------------------------------
// 20. Early return inside a `for` loop: the first time a running sum crosses a threshold.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(x))]
fn first_crossing(x: f64, steps: &[f64]) -> f64 {
    let mut pos = 0.0;
    for s in steps {
        pos += x * s;
        if pos > 1.0 {
            return pos * pos;
        }
    }
    pos
}

#[test]
fn early_return_in_a_loop() {
    let steps = vec![0.3, 0.5, 0.4, 0.2];
    for &x in &[0.5, 1.2] {
        let (v, g) = first_crossing_grad(x, &steps);
        close("value", v, first_crossing(x, &steps), TOL);
        // Crossing after k steps with S = Σ_{≤k} s: f = (x S)², f' = 2 x S²; else f = x S, f' = S.
        let mut cum = 0.0;
        let mut e = steps.iter().sum::<f64>();
        for s in &steps {
            cum += s;
            if x * cum > 1.0 {
                e = 2.0 * x * cum * cum;
                break;
            }
        }
        close("d/dx", g, e, 1e-12);
        fd("first crossing", |x| first_crossing(x, &steps), x, g);
    }
}

// ---------------------------------------------------------------------------------------------
// 21. A method taking other parameters by value and calling a free helper and a closure.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Spring {
    k: f64,
    rest: f64,
}

#[differentiate]
fn half_sq(d: f64) -> f64 {
    0.5 * d * d
}

#[differentiate]
impl Spring {
    fn energy(&self, x: f64) -> f64 {
        self.k * half_sq(x - self.rest)
    }

    fn chain_energy(&self, xs: &[f64]) -> f64 {
        let gap = |i: usize| xs[i + 1] - xs[i];
        let mut e = 0.0;
        for i in 0..xs.len() - 1 {
            e += self.energy(gap(i));
        }
        e
    }
}

#[test]
fn spring_chain_methods() {
    let s = Spring { k: 3.0, rest: 0.4 };
    let xs = vec![0.0, 0.5, 0.7, 1.4];
    let (v, (gs, gx)) = s.chain_energy_grad(&xs);
    close("value", v, s.chain_energy(&xs), TOL);
    // e = Σ k/2 (d_i − r)², d_i = x_{i+1} − x_i: ∂k = Σ (d−r)²/2, ∂r = −k Σ (d − r),
    // ∂x_i = k (d_{i−1} − r) − k (d_i − r).
    let d: Vec<f64> = (0..3).map(|i| xs[i + 1] - xs[i] - s.rest).collect();
    close("∂k", gs.k, d.iter().map(|v| 0.5 * v * v).sum(), 1e-12);
    close("∂rest", gs.rest, -s.k * d.iter().sum::<f64>(), 1e-12);
    let mut ex = vec![0.0; 4];
    for i in 0..3 {
        ex[i + 1] += s.k * d[i];
        ex[i] -= s.k * d[i];
    }
    close_all("∂x", &gx, &ex);
    fd_any("spring ∂s", |q: &Spring| q.chain_energy(&xs), &s, &gs);
    fd_vec("spring ∂x", |p| s.chain_energy(p), &xs, &gx);
}

// ---------------------------------------------------------------------------------------------
// 22. An `f32` model struct trained by momentum.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Line32 {
    w: f32,
    b: f32,
}

#[differentiate(wrt(self))]
impl Line32 {
    fn loss(&self, xs: &[f32], ys: &[f32]) -> f32 {
        let n = xs.len() as f32;
        xs.iter()
            .zip(ys)
            .map(|(x, y)| {
                let r = self.w * x + self.b - y;
                r * r
            })
            .sum::<f32>()
            / n
    }
}

#[test]
fn f32_line_trained_by_momentum() {
    use autodiff::optim::{Momentum, MomentumConfig, Optimizer};
    let xs: Vec<f32> = data(8, 8.0).iter().map(|v| *v as f32).collect();
    let ys: Vec<f32> = xs.iter().map(|x| 3.0 * x - 1.0).collect();
    let mut m = Line32 { w: 0.5, b: 0.0 };
    let (v, g) = m.loss_grad(&xs, &ys);
    assert_eq!(v.to_bits(), m.loss(&xs, &ys).to_bits());
    // ∂w = 2/n Σ r x, ∂b = 2/n Σ r.
    let (mut ew, mut eb) = (0.0f64, 0.0f64);
    for (x, y) in xs.iter().zip(&ys) {
        let r = 2.0 * (m.w as f64 * *x as f64 + m.b as f64 - *y as f64) / 8.0;
        ew += r * *x as f64;
        eb += r;
    }
    close("∂w", g.w as f64, ew, 1e-5);
    close("∂b", g.b as f64, eb, 1e-5);
    let r = gradcheck(|q: &Line32| q.loss(&xs, &ys), &m, &g);
    assert!(r.passed(), "line32: {r}");
    let mut opt = Momentum::new(MomentumConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..100 {
        let (_, g) = m.loss_grad(&xs, &ys);
        opt.step(&mut m, &g);
    }
    let end = m.loss(&xs, &ys);
    assert!(end < 0.1 * v, "momentum did not fit: {v} → {end}");
}

// ---------------------------------------------------------------------------------------------
// 23. Hessian of a sum over a slice: a log-barrier.
// ---------------------------------------------------------------------------------------------

#[differentiate(hessian)]
fn log_barrier(x: &[f64]) -> f64 {
    let mut f = 0.0;
    for xi in x {
        f += xi * xi - (1.0 - xi * xi).ln();
    }
    f
}

#[test]
fn log_barrier_hessian() {
    let x = vec![0.1, -0.4, 0.6];
    let (v, g) = log_barrier_grad(&x);
    close("value", v, log_barrier(&x), TOL);
    // ∂x_i = 2 x_i + 2 x_i/(1 − x_i²); H diagonal: 2 + 2 (1 + x_i²)/(1 − x_i²)².
    let e: Vec<f64> = x
        .iter()
        .map(|a| 2.0 * a + 2.0 * a / (1.0 - a * a))
        .collect();
    close_all("∂x", &g, &e);
    fd_vec("barrier", log_barrier, &x, &g);
    let d = vec![0.5, 1.0, -0.25];
    let (_, _, hv) = log_barrier_hvp(&x, &d);
    let eh: Vec<f64> = x
        .iter()
        .zip(&d)
        .map(|(a, di)| (2.0 + 2.0 * (1.0 + a * a) / (1.0 - a * a).powi(2)) * di)
        .collect();
    for i in 0..3 {
        close("H·v", hv[i], eh[i], 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Adaptive Simpson quadrature with an explicit stack of intervals, each popped and taken apart
// in the `while let` (`Some((lo, hi, tol))`, `Some([lo, hi])`): the pattern was an error (a
// part of a differentiated value bound by a pattern) that said to write `.pop().unwrap()`.
// ---------------------------------------------------------------------------------------------

/// ∫₀ᵇ t·sin(kt) dt by adaptive Simpson: sin(kb)/k² − b·cos(kb)/k, to the tolerance.
#[differentiate]
fn adaptive_simpson(k: f64, b: f64) -> f64 {
    let f = |t: f64| (k * t).sin() * t;
    let simpson = |lo: f64, hi: f64| (hi - lo) / 6.0 * (f(lo) + 4.0 * f(0.5 * (lo + hi)) + f(hi));
    let mut stack: Vec<(f64, f64, f64)> = vec![(0.0, b, 1e-9)];
    let mut total = 0.0;
    while let Some((lo, hi, tol)) = stack.pop() {
        let mid = 0.5 * (lo + hi);
        let whole = simpson(lo, hi);
        let parts = simpson(lo, mid) + simpson(mid, hi);
        if (whole - parts).abs() < 15.0 * tol {
            total += parts + (parts - whole) / 15.0;
        } else {
            stack.push((lo, mid, tol / 2.0));
            stack.push((mid, hi, tol / 2.0));
        }
    }
    total
}

/// The same bisection on a stack of `[lo, hi]` arrays, with a fixed depth kept beside:
/// the trapezoid rule on 8 equal pieces of [0, b] for ∫ e^{kt} dt.
#[differentiate]
fn bisected_trapezoid(k: f64, b: f64) -> f64 {
    let mut stack = vec![[0.0, b]];
    let mut depth = vec![0];
    let mut total = 0.0;
    while let Some([lo, hi]) = stack.pop() {
        let d = depth.pop().unwrap();
        if d < 3 {
            let mid = 0.5 * (lo + hi);
            stack.push([lo, mid]);
            stack.push([mid, hi]);
            depth.push(d + 1);
            depth.push(d + 1);
        } else {
            total += 0.5 * (hi - lo) * ((k * lo).exp() + (k * hi).exp());
        }
    }
    total
}

#[test]
fn quadrature_on_a_stack_of_intervals() {
    for (k, b) in [(1.3, 2.1), (0.7, 1.4), (2.2, 0.9)] {
        let (v, (gk, gb)) = adaptive_simpson_grad(k, b);
        close("value", v, adaptive_simpson(k, b), TOL);
        let exact = (k * b).sin() / (k * k) - b * (k * b).cos() / k;
        close("∫ t sin kt", v, exact, 1e-8);
        // ∂b = b·sin(kb); ∂k = b·cos(kb)/k² − 2 sin(kb)/k³ + b·cos(kb)/k² + b² sin(kb)/k.
        let (s, c) = (k * b).sin_cos();
        close("∂b", gb, b * s, 1e-6);
        let ek = 2.0 * b * c / (k * k) - 2.0 * s / (k * k * k) + b * b * s / k;
        close("∂k", gk, ek, 1e-6);
        fd2("adaptive", adaptive_simpson, (k, b), (gk, gb));
        let (_, pullback) = adaptive_simpson_vjp(k, b);
        let (gk3, gb3) = pullback(3.0);
        close("∂k seeded", gk3, 3.0 * gk, TOL);
        close("∂b seeded", gb3, 3.0 * gb, TOL);

        let (v, (gk, gb)) = bisected_trapezoid_grad(k, b);
        close("value", v, bisected_trapezoid(k, b), TOL);
        // Σ over the 8 pieces of h/2·(e^{k·t_i} + e^{k·t_{i+1}}), h = b/8, t_i = i·h.
        let h = b / 8.0;
        let (mut ek, mut eb) = (0.0, 0.0);
        for i in 0..8 {
            let (t0, t1) = (i as f64 * h, (i + 1) as f64 * h);
            let (e0, e1) = ((k * t0).exp(), (k * t1).exp());
            ek += 0.5 * h * (t0 * e0 + t1 * e1);
            eb += (e0 + e1) / 16.0 + 0.5 * h * (k * e0 * t0 / b + k * e1 * t1 / b);
        }
        close("trapezoid ∂k", gk, ek, 1e-10);
        close("trapezoid ∂b", gb, eb, 1e-10);
        fd2("bisected", bisected_trapezoid, (k, b), (gk, gb));
    }
}
