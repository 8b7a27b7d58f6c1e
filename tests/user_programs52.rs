//! Differentiating through optimisation: hypergradients of unrolled training runs whose
//! optimiser keeps its state in a struct with a `&mut self` step that also writes the
//! parameters it is lent (`opt.step(&mut w, &g)`: Adam, momentum with an ndarray velocity, SGD
//! with weight decay whose step calls another such method), a layer's `&self` method writing
//! into a buffer called on a `mut` local and on a plain one, an element of a container of
//! optimiser states copied into a local and written back, and an ensemble of parameter structs
//! trained through `iter_mut()` whose inner gradient is lent each item as `&*m`, and a flat weight
//! matrix's rows updated through `chunks_mut` zipped with the input. With them, the
//! classic closed forms of the field: one gradient step on a quadratic (`∂L/∂lr`, and its
//! second derivative through `_hvp`), ridge regression's validation loss against its penalty,
//! and MAML's meta-gradient through an inner loop per task.
//!
//! Each gradient is checked against its analytic form where one is short (stated beside the
//! test) and against central finite differences of the whole unrolled run through
//! `autodiff::check`; each value against the plain function's, and some `_jvp` and `_hvp`
//! against finite differences.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::too_many_arguments,
    clippy::type_complexity
)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::Array1;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Optimiser state in a struct whose `&mut self` step writes the parameters it is lent.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
pub struct Adam {
    pub m: Vec<f64>,
    pub v: Vec<f64>,
    pub lr: f64,
    #[differentiable(data)]
    pub t: i32,
}

#[differentiate(hessian)]
impl Adam {
    fn step(&mut self, w: &mut [f64], g: &[f64]) {
        self.t += 1;
        let (b1, b2) = (0.9, 0.99);
        for i in 0..w.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g[i] * g[i];
            let mh = self.m[i] / (1.0 - f64::powi(b1, self.t));
            let vh = self.v[i] / (1.0 - f64::powi(b2, self.t));
            w[i] -= self.lr * mh / (vh.sqrt() + 1e-8);
        }
    }
}

/// Adam on `Σ (w − c)² + w⁴/4` per coordinate, then a validation loss `Σ (w − c/2)²` plus the
/// first moment's first entry (the state is read after the run too).
#[differentiate(hessian)]
fn adam_run(lr: f64, w0: &[f64], c: &[f64], steps: usize) -> f64 {
    let mut w = w0.to_vec();
    let mut opt = Adam {
        m: vec![0.0; w.len()],
        v: vec![0.0; w.len()],
        lr,
        t: 0,
    };
    for _ in 0..steps {
        let g: Vec<f64> = w
            .iter()
            .zip(c)
            .map(|(a, b)| 2.0 * (a - b) + a.powi(3))
            .collect();
        opt.step(&mut w, &g);
    }
    w.iter()
        .zip(c)
        .map(|(a, b)| (a - 0.5 * b).powi(2))
        .sum::<f64>()
        + opt.m[0]
}

/// The same run with the state in local `Vec`s, as a reference.
fn adam_plain(lr: f64, w0: &[f64], c: &[f64], steps: usize) -> f64 {
    let mut w = w0.to_vec();
    let (mut m, mut v) = (vec![0.0; w.len()], vec![0.0; w.len()]);
    for t in 1..=steps {
        let g: Vec<f64> = w
            .iter()
            .zip(c)
            .map(|(a, b)| 2.0 * (a - b) + a.powi(3))
            .collect();
        for i in 0..w.len() {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.99 * v[i] + 0.01 * g[i] * g[i];
            let mh = m[i] / (1.0 - 0.9f64.powi(t as i32));
            let vh = v[i] / (1.0 - 0.99f64.powi(t as i32));
            w[i] -= lr * mh / (vh.sqrt() + 1e-8);
        }
    }
    w.iter()
        .zip(c)
        .map(|(a, b)| (a - 0.5 * b).powi(2))
        .sum::<f64>()
        + m[0]
}

#[test]
fn adam_state_struct_stepping_lent_parameters() {
    let w0 = data(3, 0.1);
    let c = data(3, 4.0);
    let (v, (glr, gw, gc)) = adam_run_grad(0.05, &w0, &c, 4);
    close("value", v, adam_plain(0.05, &w0, &c, 4), 1e-12);
    close("value", v, adam_run(0.05, &w0, &c, 4), 1e-12);
    fd("∂/∂lr", |l| adam_plain(l, &w0, &c, 4), 0.05, glr);
    fd_vec("∂/∂w0", |w| adam_plain(0.05, w, &c, 4), &w0, &gw);
    fd_vec("∂/∂c", |x| adam_plain(0.05, &w0, x, 4), &c, &gc);

    // One step from zero moments: m̂ = g, v̂ = g², so w1 = w0 − lr·g/(|g| + ε) and, with
    // L = Σ (w1 − c/2)² + 0.1·g₀, ∂L/∂lr = −Σ 2(w1 − c/2)·g/(|g| + ε).
    let (_, (glr1, _, _)) = adam_run_grad(0.05, &w0, &c, 1);
    let g: Vec<f64> = w0
        .iter()
        .zip(&c)
        .map(|(a, b)| 2.0 * (a - b) + a.powi(3))
        .collect();
    let expected: f64 = (0..3)
        .map(|i| {
            let s = g[i] / (g[i].abs() + 1e-8);
            let w1 = w0[i] - 0.05 * s;
            -2.0 * (w1 - 0.5 * c[i]) * s
        })
        .sum();
    close("∂/∂lr, one step", glr1, expected, 1e-9);

    let dw = vec![0.2, -0.1, 0.3];
    let dc = vec![0.0; 3];
    let (y, dy) = adam_run_jvp(0.05, &w0, &c, 4, 1.0, &dw, &dc);
    close("_jvp value", y, v, 1e-12);
    let along = glr + gw.iter().zip(&dw).map(|(a, b)| a * b).sum::<f64>();
    close("_jvp", dy, along, 1e-10);
    let (_, _, hv) = adam_run_hvp(0.05, &w0, &c, 4, 0.0, &dw, &dc);
    hvp_against_fd(
        "_hvp",
        |q| adam_run_grad(0.05, q, &c, 4).1.1,
        &w0,
        &dw,
        &hv.1,
    );
}

#[derive(Clone, Differentiable)]
pub struct Momentum {
    pub v: Vec<f64>,
    pub beta: f64,
}

#[differentiate]
impl Momentum {
    fn update(&mut self, w: &mut Vec<f64>, g: &[f64], lr: f64) {
        for i in 0..w.len() {
            self.v[i] = self.beta * self.v[i] + g[i];
            w[i] -= lr * self.v[i];
        }
    }
}

/// Heavy-ball momentum on `Σ a·(w − c)²/2`, validation loss `Σ w²`.
#[differentiate]
fn momentum_run(lr: f64, beta: f64, w0: &[f64], a: &[f64], c: &[f64], steps: usize) -> f64 {
    let mut w = w0.to_vec();
    let mut opt = Momentum {
        v: vec![0.0; w.len()],
        beta,
    };
    for _ in 0..steps {
        let g: Vec<f64> = w
            .iter()
            .zip(a)
            .zip(c)
            .map(|((wi, ai), ci)| ai * (wi - ci))
            .collect();
        opt.update(&mut w, &g, lr);
    }
    w.iter().map(|x| x * x).sum()
}

#[test]
fn momentum_state_struct_hypergradients() {
    let w0 = vec![0.8, -0.3, 0.5];
    let a = vec![1.0, 2.0, 0.5];
    let c = vec![0.1, 0.4, -0.2];
    let (v, (glr, gb, gw, ga, gc)) = momentum_run_grad(0.2, 0.7, &w0, &a, &c, 5);
    close("value", v, momentum_run(0.2, 0.7, &w0, &a, &c, 5), 1e-12);
    fd2(
        "∂/∂(lr, β)",
        |l, b| momentum_run(l, b, &w0, &a, &c, 5),
        (0.2, 0.7),
        (glr, gb),
    );
    fd_vec("∂/∂w0", |q| momentum_run(0.2, 0.7, q, &a, &c, 5), &w0, &gw);
    fd_vec("∂/∂a", |q| momentum_run(0.2, 0.7, &w0, q, &c, 5), &a, &ga);
    fd_vec("∂/∂c", |q| momentum_run(0.2, 0.7, &w0, &a, q, 5), &c, &gc);

    // Two steps: w1 = w0 − lr·g0, w2 = w1 − lr·(β·g0 + a(w1 − c)) with g0 = a(w0 − c); so
    // ∂w2/∂β = −lr·g0 and ∂L/∂β = Σ 2·w2·(−lr·g0).
    let (_, (_, gb2, _, _, _)) = momentum_run_grad(0.2, 0.7, &w0, &a, &c, 2);
    let expected: f64 = (0..3)
        .map(|i| {
            let g0 = a[i] * (w0[i] - c[i]);
            let w1 = w0[i] - 0.2 * g0;
            let w2 = w1 - 0.2 * (0.7 * g0 + a[i] * (w1 - c[i]));
            2.0 * w2 * (-0.2 * g0)
        })
        .sum();
    close("∂/∂β, two steps", gb2, expected, 1e-12);
}

/// An element of a container of optimiser states, copied into a `mut` local, stepped and
/// written back (stepped in place, `opts[k].update(..)`, is an error that says to write this).
#[differentiate]
fn alternating_states(lr: f64, beta: f64, w0: &[f64]) -> f64 {
    let mut w = w0.to_vec();
    let mut opts = vec![
        Momentum {
            v: vec![0.0; w.len()],
            beta
        };
        2
    ];
    for k in 0..4 {
        let g: Vec<f64> = w.iter().map(|x| x.sinh()).collect();
        let mut opt = opts[k % 2].clone();
        opt.update(&mut w, &g, lr);
        opts[k % 2] = opt;
    }
    w.iter().map(|x| x * x).sum::<f64>() + opts[1].v[0]
}

#[test]
fn optimiser_state_copied_out_of_a_container() {
    let w0 = vec![0.3, 0.7];
    let (v, (glr, gb, gw)) = alternating_states_grad(0.1, 0.9, &w0);
    close("value", v, alternating_states(0.1, 0.9, &w0), 1e-12);
    fd2(
        "∂/∂(lr, β)",
        |a, b| alternating_states(a, b, &w0),
        (0.1, 0.9),
        (glr, gb),
    );
    fd_vec("∂/∂w0", |q| alternating_states(0.1, 0.9, q), &w0, &gw);
}

#[derive(Clone, Differentiable)]
pub struct Sgd {
    pub lr: f64,
    pub wd: f64,
}

#[differentiate]
impl Sgd {
    fn decay(&mut self, w: &mut [f64]) {
        for x in w.iter_mut() {
            *x *= 1.0 - self.lr * self.wd;
        }
        self.lr *= 0.9;
    }
    fn step(&mut self, w: &mut [f64], g: &[f64]) {
        self.decay(w);
        for (x, gi) in w.iter_mut().zip(g) {
            *x -= self.lr * gi;
        }
    }
}

/// SGD with weight decay and a decaying step size kept in the optimiser, whose step calls its
/// decay on the buffer it was lent.
#[differentiate]
fn sgd_run(lr: f64, wd: f64, w0: &[f64]) -> f64 {
    let mut w = w0.to_vec();
    let mut s = Sgd { lr, wd };
    for _ in 0..3 {
        let g: Vec<f64> = w.iter().map(|x| x.powi(3) - x).collect();
        s.step(&mut w, &g);
    }
    w.iter().map(|x| x * x).sum::<f64>() + s.lr
}

#[test]
fn sgd_step_calling_another_stepping_method() {
    let w0 = vec![0.3, 0.7, -0.5];
    let (v, (glr, gwd, gw)) = sgd_run_grad(0.2, 0.1, &w0);
    close("value", v, sgd_run(0.2, 0.1, &w0), 1e-12);
    fd2(
        "∂/∂(lr, wd)",
        |a, b| sgd_run(a, b, &w0),
        (0.2, 0.1),
        (glr, gwd),
    );
    fd_vec("∂/∂w0", |q| sgd_run(0.2, 0.1, q), &w0, &gw);
    // At w = 0 every gradient is zero and w stays 0: the loss is the step size after three
    // decays, lr·0.9³, and ∂L/∂lr = 0.9³.
    let (_, (glr0, _, _)) = sgd_run_grad(0.2, 0.1, &[0.0, 0.0, 0.0]);
    close("∂/∂lr at w = 0", glr0, 0.9f64.powi(3), 1e-12);
}

#[derive(Clone, Differentiable)]
pub struct NdMomentum {
    pub vel: Array1<f64>,
    pub beta: f64,
}

#[differentiate(wrt(self, w, g, lr))]
impl NdMomentum {
    fn update(&mut self, w: &mut Array1<f64>, g: &Array1<f64>, lr: f64) {
        self.vel = &self.vel * self.beta + g;
        *w -= &(&self.vel * lr);
    }
}

#[differentiate]
fn nd_momentum_run(lr: f64, beta: f64, w0: &Array1<f64>, steps: usize) -> f64 {
    let mut w = w0.clone();
    let mut opt = NdMomentum {
        vel: Array1::zeros(w.len()),
        beta,
    };
    for _ in 0..steps {
        let g = w.mapv(|x| x.sin() + x);
        opt.update(&mut w, &g, lr);
    }
    w.dot(&w)
}

#[test]
fn ndarray_momentum_state_struct() {
    let w0 = vector(3, 1.0);
    let (v, (glr, gb, gw)) = nd_momentum_run_grad(0.1, 0.8, &w0, 4);
    close("value", v, nd_momentum_run(0.1, 0.8, &w0, 4), 1e-12);
    fd2(
        "∂/∂(lr, β)",
        |a, b| nd_momentum_run(a, b, &w0, 4),
        (0.1, 0.8),
        (glr, gb),
    );
    fd_any(
        "∂/∂w0",
        |q: &Array1<f64>| nd_momentum_run(0.1, 0.8, q, 4),
        &w0,
        &gw,
    );
    // One step: w1 = w0 − lr·(sin w0 + w0), ∂(w1·w1)/∂lr = −2·w1·(sin w0 + w0).
    let (_, (glr1, _, _)) = nd_momentum_run_grad(0.1, 0.8, &w0, 1);
    let expected: f64 = w0
        .iter()
        .map(|&x| {
            let g = x.sin() + x;
            -2.0 * (x - 0.1 * g) * g
        })
        .sum();
    close("∂/∂lr, one step", glr1, expected, 1e-12);
}

#[derive(Clone, Differentiable)]
pub struct HeavyBall {
    pub v: [f64; 3],
    pub beta: f64,
}

#[differentiate]
impl HeavyBall {
    fn step(&mut self, w: &mut [f64], g: &[f64], lr: f64) {
        for i in 0..w.len() {
            self.v[i] = self.beta * self.v[i] + g[i];
            w[i] -= lr * self.v[i];
        }
    }
}

/// The parameters a fixed-size array lent to the step's `&mut [f64]`.
#[differentiate]
fn heavy_ball_array(lr: f64, beta: f64, w0: [f64; 3]) -> f64 {
    let mut w = w0;
    let mut opt = HeavyBall { v: [0.0; 3], beta };
    for _ in 0..3 {
        let g = [w[0].sin(), w[1] * w[1], w[2] - w[0]];
        opt.step(&mut w, &g, lr);
    }
    w[0] * w[1] + w[2] + opt.v[2]
}

#[test]
fn state_struct_stepping_a_fixed_size_array() {
    let w0 = [0.3, -0.4, 0.6];
    let (v, (glr, gb, gw)) = heavy_ball_array_grad(0.2, 0.5, w0);
    close("value", v, heavy_ball_array(0.2, 0.5, w0), 1e-12);
    fd2(
        "∂/∂(lr, β)",
        |a, b| heavy_ball_array(a, b, w0),
        (0.2, 0.5),
        (glr, gb),
    );
    fd_any(
        "∂/∂w0",
        |q: &[f64; 3]| heavy_ball_array(0.2, 0.5, *q),
        &w0,
        &gw,
    );
    // One step: v = g(w0), w1 = w0 − lr·g(w0), L = w1₀·w1₁ + w1₂ + g₂(w0), so
    // ∂L/∂β = 0 and ∂L/∂lr = −(g₀·w1₁ + w1₀·g₁ + g₂).
    let (_, (glr1, gb1, _)) = heavy_ball_one_grad(0.2, 0.5, w0);
    let g = [w0[0].sin(), w0[1] * w0[1], w0[2] - w0[0]];
    let w1: Vec<f64> = (0..3).map(|i| w0[i] - 0.2 * g[i]).collect();
    close(
        "∂/∂lr, one step",
        glr1,
        -(g[0] * w1[1] + w1[0] * g[1] + g[2]),
        1e-12,
    );
    close("∂/∂β, one step", gb1, 0.0, 1e-12);
}

#[differentiate]
fn heavy_ball_one(lr: f64, beta: f64, w0: [f64; 3]) -> f64 {
    let mut w = w0;
    let mut opt = HeavyBall { v: [0.0; 3], beta };
    let g = [w[0].sin(), w[1] * w[1], w[2] - w[0]];
    opt.step(&mut w, &g, lr);
    w[0] * w[1] + w[2] + opt.v[2]
}

// ---------------------------------------------------------------------------------------------
// A `&self` method writing into a buffer, on a `mut` local and on a plain one.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
pub struct Layer {
    pub w: Vec<f64>,
    pub b: f64,
}

#[differentiate]
impl Layer {
    fn apply_into(&self, x: &[f64], out: &mut Vec<f64>) {
        for (o, xi) in out.iter_mut().zip(x) {
            *o = (self.w[0] * xi + self.b).tanh() + self.w[1] * *o;
        }
    }
}

#[differentiate]
fn layer_calls(l0: &Layer, x: &[f64]) -> f64 {
    let mut l = l0.clone();
    let mut h = x.to_vec();
    l.apply_into(x, &mut h);
    l.b += 0.5 * h[0];
    l.apply_into(x, &mut h);
    let k = l0.clone();
    k.apply_into(&h.clone(), &mut h);
    l0.apply_into(x, &mut h);
    h.iter().sum::<f64>() + l.b
}

#[test]
fn reading_method_lent_a_buffer_on_mut_and_plain_locals() {
    let l0 = Layer {
        w: vec![0.7, 0.3],
        b: 0.1,
    };
    let x = data(3, 1.0);
    let (v, (gl, gx)) = layer_calls_grad(&l0, &x);
    close("value", v, layer_calls(&l0, &x), 1e-12);
    fd_any("∂/∂l0", |q: &Layer| layer_calls(q, &x), &l0, &gl);
    fd_vec("∂/∂x", |q| layer_calls(&l0, q), &x, &gx);
    // One call on zeros: h = tanh(w₀·x + b) + w₁·0, so ∂Σh/∂b = Σ (1 − tanh²(w₀x + b)).
    let (_, (g1, _)) = one_layer_grad(&l0, &x);
    let expected: f64 = x
        .iter()
        .map(|&xi| 1.0 - (0.7 * xi + 0.1).tanh().powi(2))
        .sum();
    close("∂/∂b, one call", g1.b, expected, 1e-12);
}

#[differentiate]
fn one_layer(l0: &Layer, x: &[f64]) -> f64 {
    let mut l = l0.clone();
    let mut h = vec![0.0; x.len()];
    l.apply_into(x, &mut h);
    l.b *= 1.0;
    h.iter().sum()
}

// ---------------------------------------------------------------------------------------------
// An ensemble trained through `iter_mut()`, the inner gradient lent each item as `&*m`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable, Debug)]
pub struct Affine {
    pub w: Vec<f64>,
    pub b: f64,
}

#[differentiate]
impl Affine {
    fn forward(&self, x: &[f64]) -> f64 {
        (self.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + self.b).tanh()
    }
    fn step(&mut self, g: &Affine, lr: f64) {
        for (w, gw) in self.w.iter_mut().zip(&g.w) {
            *w -= lr * gw;
        }
        self.b -= lr * g.b;
    }
}

/// The gradient of `(forward(x) − y)²` written out.
#[differentiate]
fn affine_grad(m: &Affine, x: &[f64], y: f64) -> Affine {
    let a = m.forward(x);
    let d = 2.0 * (a - y) * (1.0 - a * a);
    Affine {
        w: x.iter().map(|xi| d * xi).collect(),
        b: d,
    }
}

#[differentiate(wrt(ms, lr))]
fn ensemble(ms: &[Affine], lr: f64, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let mut models = ms.to_vec();
    for m in models.iter_mut() {
        for (x, &y) in xs.iter().zip(ys) {
            let g = affine_grad(&*m, x, y);
            m.step(&g, lr);
        }
    }
    let mut l = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let avg: f64 = models.iter().map(|m| m.forward(x)).sum::<f64>() / models.len() as f64;
        l += (avg - y).powi(2);
    }
    l
}

#[test]
fn ensemble_trained_through_iter_mut() {
    let ms: Vec<Affine> = (0..2)
        .map(|k| Affine {
            w: data(2, k as f64),
            b: 0.1 * k as f64,
        })
        .collect();
    let xs: Vec<Vec<f64>> = (0..3).map(|i| data(2, 20.0 + i as f64)).collect();
    let ys = data(3, 7.0);
    let (v, (gm, glr)) = ensemble_grad(&ms, 0.2, &xs, &ys);
    close("value", v, ensemble(&ms, 0.2, &xs, &ys), 1e-12);
    fd("∂/∂lr", |a| ensemble(&ms, a, &xs, &ys), 0.2, glr);
    fd_any(
        "∂/∂ms",
        |q: &Vec<Affine>| ensemble(q, 0.2, &xs, &ys),
        &ms,
        &gm,
    );
    // With lr = 0 the models stay put: ∂L/∂lr = Σₘ Σᵢ ∂L/∂mₘ · (−Σⱼ ∇ℓⱼ(mₘ)) along the
    // sequential steps, which at lr = 0 is −Σₘ ⟨∂L/∂mₘ, Σⱼ ∇ℓⱼ(mₘ)⟩.
    let (_, (gm0, glr0)) = ensemble_grad(&ms, 0.0, &xs, &ys);
    let mut expected = 0.0;
    for (m, gmm) in ms.iter().zip(&gm0) {
        for (x, &y) in xs.iter().zip(&ys) {
            let g = affine_grad(m, x, y);
            expected -= gmm.w.iter().zip(&g.w).map(|(a, b)| a * b).sum::<f64>() + gmm.b * g.b;
        }
    }
    close("∂/∂lr at lr = 0", glr0, expected, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// A layer's rows, kept flat, updated through `chunks_mut` against the input they multiply.
// ---------------------------------------------------------------------------------------------

/// Rows of a flat `k × d` weight matrix trained by gradient descent on `Σ (w_k·x − t_k)²/2`,
/// each row's update zipped with the input (`row.iter_mut().zip(x)`).
#[differentiate]
fn rows_zipped(w0: &[f64], lr: f64, x: &[f64], t: &[f64], steps: usize) -> f64 {
    let d = x.len();
    let mut w = w0.to_vec();
    for _ in 0..steps {
        let out: Vec<f64> = w
            .chunks(d)
            .map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        for (k, row) in w.chunks_mut(d).enumerate() {
            let r = out[k] - t[k];
            for (a, xi) in row.iter_mut().zip(x) {
                *a -= lr * r * xi;
            }
        }
    }
    w.iter().map(|v| v * v).sum()
}

#[test]
fn chunk_rows_updated_against_the_input() {
    let w0 = data(6, 1.0);
    let x = data(3, 2.0);
    let t = vec![0.5, -0.3];
    let (v, (gw, glr, gx, gt)) = rows_zipped_grad(&w0, 0.4, &x, &t, 3);
    close("value", v, rows_zipped(&w0, 0.4, &x, &t, 3), 1e-12);
    fd("∂/∂lr", |l| rows_zipped(&w0, l, &x, &t, 3), 0.4, glr);
    fd_vec("∂/∂w0", |q| rows_zipped(q, 0.4, &x, &t, 3), &w0, &gw);
    fd_vec("∂/∂x", |q| rows_zipped(&w0, 0.4, q, &t, 3), &x, &gx);
    fd_vec("∂/∂t", |q| rows_zipped(&w0, 0.4, &x, q, 3), &t, &gt);
    // One step: w1_k = w0_k − lr·r_k·x with r_k = w0_k·x − t_k, so ∂Σw1²/∂lr = −2·Σ_k r_k·(w1_k·x).
    let (_, (_, glr1, _, _)) = rows_zipped_grad(&w0, 0.4, &x, &t, 1);
    let mut expected = 0.0;
    for k in 0..2 {
        let row = &w0[3 * k..3 * k + 3];
        let r: f64 = row.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() - t[k];
        let w1x: f64 = row.iter().zip(&x).map(|(a, b)| (a - 0.4 * r * b) * b).sum();
        expected -= 2.0 * r * w1x;
    }
    close("∂/∂lr, one step", glr1, expected, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Closed forms: one step on a quadratic, ridge's penalty, MAML.
// ---------------------------------------------------------------------------------------------

/// One gradient step on `a(w − w*)²/2`, loss `w1²`: `w1 = w0 − lr·a(w0 − w*)`.
#[differentiate(hessian)]
fn one_step(lr: f64, w0: f64, a: f64, ws: f64) -> f64 {
    let g = a * (w0 - ws);
    let mut w = w0;
    w -= lr * g;
    w * w
}

#[test]
fn one_gradient_step_on_a_quadratic() {
    let (lr, w0, a, ws) = (0.1, 2.0, 3.0, 0.5);
    let (v, (glr, gw0, ga, gws)) = one_step_grad(lr, w0, a, ws);
    let w1 = w0 - lr * a * (w0 - ws);
    close("value", v, w1 * w1, 1e-12);
    // ∂L/∂lr = −2·w1·a(w0 − w*), ∂L/∂w0 = 2·w1·(1 − lr·a), ∂L/∂a = −2·w1·lr(w0 − w*),
    // ∂L/∂w* = 2·w1·lr·a; ∂²L/∂lr² = 2·(a(w0 − w*))².
    close("∂/∂lr", glr, -2.0 * w1 * a * (w0 - ws), 1e-12);
    close("∂/∂w0", gw0, 2.0 * w1 * (1.0 - lr * a), 1e-12);
    close("∂/∂a", ga, -2.0 * w1 * lr * (w0 - ws), 1e-12);
    close("∂/∂w*", gws, 2.0 * w1 * lr * a, 1e-12);
    fd("∂/∂lr", |l| one_step(l, w0, a, ws), lr, glr);
    let (_, _, hv) = one_step_hvp(lr, w0, a, ws, 1.0, 0.0, 0.0, 0.0);
    close("∂²/∂lr²", hv.0, 2.0 * (a * (w0 - ws)).powi(2), 1e-12);
}

/// Ridge regression solved through a hand-written Cholesky factorisation of `XᵀX + λI`, its
/// validation loss a function of `λ`.
#[differentiate]
fn cholesky_solve(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    x
}

#[differentiate]
fn ridge_validation(lam: f64, xs: &[Vec<f64>], ys: &[f64], xv: &[Vec<f64>], yv: &[f64]) -> f64 {
    let d = xs[0].len();
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    for (x, &y) in xs.iter().zip(ys) {
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] += x[i] * x[j];
            }
            b[i] += x[i] * y;
        }
    }
    for i in 0..d {
        a[i * d + i] += lam;
    }
    let w = cholesky_solve(&a, &b, d);
    xv.iter()
        .zip(yv)
        .map(|(x, y)| (x.iter().zip(&w).map(|(p, q)| p * q).sum::<f64>() - y).powi(2))
        .sum()
}

#[test]
fn ridge_penalty_hypergradient() {
    let xs: Vec<Vec<f64>> = (0..6).map(|i| data(3, i as f64)).collect();
    let ys = data(6, 9.0);
    let xv: Vec<Vec<f64>> = (0..4).map(|i| data(3, 20.0 + i as f64)).collect();
    let yv = data(4, 3.0);
    let (v, (gl, gxs, gys, _, _)) = ridge_validation_grad(0.5, &xs, &ys, &xv, &yv);
    close("value", v, ridge_validation(0.5, &xs, &ys, &xv, &yv), 1e-12);
    fd("∂/∂λ", |l| ridge_validation(l, &xs, &ys, &xv, &yv), 0.5, gl);
    fd_any(
        "∂/∂xs",
        |x: &Vec<Vec<f64>>| ridge_validation(0.5, x, &ys, &xv, &yv),
        &xs,
        &gxs,
    );
    fd_vec(
        "∂/∂ys",
        |y| ridge_validation(0.5, &xs, y, &xv, &yv),
        &ys,
        &gys,
    );
    // One feature: w = Σxy/(Σx² + λ), ∂w/∂λ = −w/(Σx² + λ), ∂L/∂λ = Σ 2(x_v·w − y_v)·x_v·∂w/∂λ.
    let x1 = vec![vec![1.0], vec![2.0]];
    let y1 = vec![1.0, 3.0];
    let (_, (g1, ..)) = ridge_validation_grad(0.7, &x1, &y1, &[vec![1.5]], &[2.0]);
    let w = 7.0 / 5.7;
    close(
        "∂/∂λ, one feature",
        g1,
        2.0 * (1.5 * w - 2.0) * 1.5 * (-w / 5.7),
        1e-12,
    );
}

pub struct Task {
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub xq: Vec<f64>,
    pub yq: Vec<f64>,
}

/// MAML on a line `w₀x + w₁`: per task, `inner` gradient steps of size `α` on its support set
/// from the shared `θ`, the meta-loss the adapted line's squared error on its query set.
#[differentiate(wrt(theta, alpha))]
fn maml(theta: &[f64], alpha: f64, tasks: &[Task], inner: usize) -> f64 {
    let mut meta = 0.0;
    for task in tasks {
        let mut w = theta.to_vec();
        for _ in 0..inner {
            let mut g = vec![0.0; 2];
            for (x, y) in task.xs.iter().zip(&task.ys) {
                let r = w[0] * x + w[1] - y;
                g[0] += r * x;
                g[1] += r;
            }
            for (wi, gi) in w.iter_mut().zip(&g) {
                *wi -= alpha * gi;
            }
        }
        for (x, y) in task.xq.iter().zip(&task.yq) {
            let r = w[0] * x + w[1] - y;
            meta += 0.5 * r * r;
        }
    }
    meta / tasks.len() as f64
}

#[test]
fn maml_meta_gradient() {
    let tasks: Vec<Task> = (0..3)
        .map(|k| Task {
            xs: data(4, k as f64),
            ys: data(4, 10.0 + k as f64),
            xq: data(3, 5.0 + k as f64),
            yq: data(3, 7.0 * k as f64),
        })
        .collect();
    let theta = vec![0.3, -0.2];
    let (v, (gt, ga)) = maml_grad(&theta, 0.2, &tasks, 3);
    close("value", v, maml(&theta, 0.2, &tasks, 3), 1e-12);
    fd_vec("∂/∂θ", |t| maml(t, 0.2, &tasks, 3), &theta, &gt);
    fd("∂/∂α", |a| maml(&theta, a, &tasks, 3), 0.2, ga);
    // With α = 0 the lines are not adapted: ∂L/∂θ is the query sets' least-squares gradient,
    // (1/T)·Σ_tasks Σ_q r·(x, 1).
    let (_, (gt0, _)) = maml_grad(&theta, 0.0, &tasks, 3);
    let (mut e0, mut e1) = (0.0, 0.0);
    for t in &tasks {
        for (x, y) in t.xq.iter().zip(&t.yq) {
            let r = theta[0] * x + theta[1] - y;
            e0 += r * x / 3.0;
            e1 += r / 3.0;
        }
    }
    close_all("∂/∂θ at α = 0", &gt0, &[e0, e1]);
}
