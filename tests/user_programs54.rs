//! Model code written with Rust's abstractions: an activation `enum` matched in a neuron, a loss
//! `enum` with an `eval` method, `Option` settings (`if let Some(l2) = cfg.weight_decay`,
//! `unwrap_or`, `map_or`), a network of layers in a module marked `#[differentiate]` whose
//! activation is an enum field kept as data, a trait implemented by two kernels called on each
//! concrete type, functions and structs generic over `T: num_traits::Float` called at `f32`
//! and `f64`, const generics, closures capturing parameters and a closure kept in a generic
//! field, parameter structs with `Add`, `Mul<f64>` and builder methods returning `Self`, and
//! layers of several types kept in a `Vec` of an enum (the form the error for a slice of trait
//! objects, `tests/ui/trait_objects_in_a_slice.rs`, asks for), and conversions between
//! parameter structs through a differentiated `From` impl (`P2::from(p)`, and `let c: P2 =
//! p.into();`, which was rustc's "no function `into_vjp` for `Polar`").
//!
//! With them, the forms that an item taken one by one out of an iterator was written in before
//! it was an error (`let mut it = x.iter().peekable(); while let Some(a) = it.next() { .. it.peek()
//! .. }`, `if let Some(c) = x.chunks(2).next() { c[0] * c[1] }`, which gave a gradient of zero;
//! `tests/ui/iterator_pulled_by_next.rs` and `tests/ui/bound_from_chain_item.rs`), written as
//! the errors say: by index, and over `windows(2)`.
//!
//! Each gradient is checked against its closed form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's, and some `_jvp` and `_hvp` against finite differences.

#![allow(clippy::needless_range_loop, clippy::type_complexity)] // written as users write them

mod common;
use autodiff::{Differentiable, differentiate};
use common::*;
use num_traits::Float;

// ---------------------------------------------------------------------------------------------
// The forms the new errors ask for.
// ---------------------------------------------------------------------------------------------

/// `Σ x[i]·x[i+1]`, each item with the one after it, read by index (the peekable loop's
/// rewrite): `∂/∂x[k] = x[k−1] + x[k+1]` (the missing neighbour at the ends is 0).
#[differentiate]
fn neighbours(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let a = x[i];
        if i + 1 < x.len() {
            let b = x[i + 1];
            s += a * b;
        }
    }
    s
}

/// The same over `windows(2)`.
#[differentiate]
fn neighbours_windows(x: &[f64]) -> f64 {
    x.windows(2).map(|w| w[0] * w[1]).sum()
}

fn neighbours_plain(x: &[f64]) -> f64 {
    (0..x.len() - 1).map(|i| x[i] * x[i + 1]).sum()
}

#[test]
fn neighbours_by_index_and_by_windows() {
    let x = data(6, 0.3);
    let expect: Vec<f64> = (0..6)
        .map(|k| {
            let before = if k > 0 { x[k - 1] } else { 0.0 };
            let after = if k + 1 < 6 { x[k + 1] } else { 0.0 };
            before + after
        })
        .collect();
    for (v, g) in [neighbours_grad(&x), neighbours_windows_grad(&x)] {
        close("value", v, neighbours_plain(&x), TOL);
        close_all("gradient", &g, &expect);
        fd_vec("gradient", neighbours_plain, &x, &g);
    }
}

/// The first pair's product read by index after a test of the length (the rewrite of `if let
/// Some(c) = x.chunks(2).next()`): `∂/∂x[0] = x[1]`, `∂/∂x[1] = x[0]`, the rest 0.
#[differentiate]
fn first_pair(x: &[f64]) -> f64 {
    if x.len() >= 2 { x[0] * x[1] } else { 0.0 }
}

#[test]
fn first_pair_by_index() {
    let x = data(5, 1.1);
    let (v, g) = first_pair_grad(&x);
    close("value", v, x[0] * x[1], TOL);
    close_all("gradient", &g, &[x[1], x[0], 0.0, 0.0, 0.0]);
    fd_vec("gradient", |x| x[0] * x[1], &x, &g);
}

// ---------------------------------------------------------------------------------------------
// Enums and `Option` settings.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
pub enum Activation {
    Relu,
    LeakyRelu(f64),
    Tanh,
    Sigmoid,
}

fn activate(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Relu => z.max(0.0),
        Activation::LeakyRelu(a) => {
            if z > 0.0 {
                z
            } else {
                a * z
            }
        }
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
    }
}

/// `act(w·x)`: `∂/∂w = act'(z)·x`, `∂/∂x = act'(z)·w`.
#[differentiate(wrt(w, x))]
fn neuron(act: Activation, w: &[f64], x: &[f64]) -> f64 {
    let z: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum();
    match act {
        Activation::Relu => z.max(0.0),
        Activation::LeakyRelu(a) => {
            if z > 0.0 {
                z
            } else {
                a * z
            }
        }
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
    }
}

#[test]
fn neuron_of_each_activation() {
    let x = [0.3, -0.7, 1.1];
    for act in [
        Activation::Relu,
        Activation::LeakyRelu(0.1),
        Activation::Tanh,
        Activation::Sigmoid,
    ] {
        for w in [[0.5, 0.2, 0.4], [-0.5, 0.2, -0.4]] {
            let z: f64 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
            let d = match act {
                Activation::Relu => f64::from(u8::from(z > 0.0)),
                Activation::LeakyRelu(a) => {
                    if z > 0.0 {
                        1.0
                    } else {
                        a
                    }
                }
                Activation::Tanh => 1.0 - z.tanh().powi(2),
                Activation::Sigmoid => {
                    let s = 1.0 / (1.0 + (-z).exp());
                    s * (1.0 - s)
                }
            };
            let (v, (gw, gx)) = neuron_grad(act, &w, &x);
            close("value", v, activate(act, z), TOL);
            let ew: Vec<f64> = x.iter().map(|xi| d * xi).collect();
            let ex: Vec<f64> = w.iter().map(|wi| d * wi).collect();
            close_all("∂w", &gw, &ew);
            close_all("∂x", &gx, &ex);
            fd_vec(
                "∂w",
                |w| activate(act, w.iter().zip(&x).map(|(a, b)| a * b).sum()),
                &w,
                &gw,
            );
        }
    }
}

pub enum Loss {
    Mse,
    Huber { delta: f64 },
    Quantile(f64),
}

impl Loss {
    fn eval_plain(&self, r: f64) -> f64 {
        match self {
            Loss::Mse => 0.5 * r * r,
            Loss::Huber { delta } => {
                if r.abs() <= *delta {
                    0.5 * r * r
                } else {
                    delta * (r.abs() - 0.5 * delta)
                }
            }
            Loss::Quantile(q) => {
                if r >= 0.0 {
                    q * r
                } else {
                    (q - 1.0) * r
                }
            }
        }
    }
    /// ψ(r) = ∂loss/∂r: `r`; `r` inside the band and `δ·sign r` outside; `q` or `q − 1`.
    fn psi(&self, r: f64) -> f64 {
        match self {
            Loss::Mse => r,
            Loss::Huber { delta } => r.clamp(-delta, *delta),
            Loss::Quantile(q) => {
                if r >= 0.0 {
                    *q
                } else {
                    q - 1.0
                }
            }
        }
    }
}

#[differentiate(wrt(r))]
impl Loss {
    fn eval(&self, r: f64) -> f64 {
        match self {
            Loss::Mse => 0.5 * r * r,
            Loss::Huber { delta } => {
                if r.abs() <= *delta {
                    0.5 * r * r
                } else {
                    delta * (r.abs() - 0.5 * delta)
                }
            }
            Loss::Quantile(q) => {
                if r >= 0.0 {
                    q * r
                } else {
                    (q - 1.0) * r
                }
            }
        }
    }
}

/// The mean loss of `w·x − y`: `∂/∂w = (1/n) Σ ψ(w·x − y)·x`.
#[differentiate(wrt(w))]
fn fit_loss(loss: &Loss, w: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        s += loss.eval(w * x - y);
    }
    s / xs.len() as f64
}

#[test]
fn loss_enum_method() {
    let xs = [0.5, 1.0, 2.0, -1.0];
    let ys = [0.2, 1.5, 3.0, -2.0];
    for loss in [Loss::Mse, Loss::Huber { delta: 0.5 }, Loss::Quantile(0.3)] {
        for w in [0.7, 1.3] {
            let plain = |w: f64| {
                xs.iter()
                    .zip(&ys)
                    .map(|(x, y)| loss.eval_plain(w * x - y))
                    .sum::<f64>()
                    / 4.0
            };
            let expect = xs
                .iter()
                .zip(&ys)
                .map(|(x, y)| loss.psi(w * x - y) * x)
                .sum::<f64>()
                / 4.0;
            let (v, g) = fit_loss_grad(&loss, w, &xs, &ys);
            close("value", v, plain(w), TOL);
            close("gradient", g, expect, TOL);
            fd("gradient", plain, w, g);
        }
    }
}

#[derive(Clone, Copy)]
pub struct Settings {
    pub weight_decay: Option<f64>,
    pub scale: Option<f64>,
}

/// `(s·w·x − y)² + λ|w|²`, `s` and `λ` settings that may be off: `∂/∂w = 2(s·w·x − y)·s·x +
/// 2λw`.
#[differentiate(wrt(w))]
fn regularised(cfg: Settings, w: &[f64], x: &[f64], y: f64) -> f64 {
    let pred: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() * cfg.scale.unwrap_or(1.0);
    let r = pred - y;
    let mut l = r * r;
    if let Some(l2) = cfg.weight_decay {
        l += l2 * w.iter().map(|v| v * v).sum::<f64>();
    }
    l
}

/// `exp(x/t) + λx²` with `t` and `λ` read by `map_or`: `exp(x/t)/t + 2λx`.
#[differentiate(wrt(x))]
fn penalised(x: f64, l2: Option<f64>, temp: Option<f64>) -> f64 {
    let t = temp.map_or(1.0, |t| t);
    (x / t).exp() + l2.map_or(0.0, |l| l * x * x)
}

#[test]
fn option_settings() {
    let (x, w, y) = ([0.3, -0.7, 1.1], [0.5, 0.2, 0.4], 1.0);
    for cfg in [
        Settings {
            weight_decay: None,
            scale: None,
        },
        Settings {
            weight_decay: Some(0.1),
            scale: Some(2.0),
        },
    ] {
        let (s, lam) = (cfg.scale.unwrap_or(1.0), cfg.weight_decay.unwrap_or(0.0));
        let plain = |w: &[f64]| {
            let r = s * w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() - y;
            r * r + lam * w.iter().map(|v| v * v).sum::<f64>()
        };
        let r = s * w.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() - y;
        let expect: Vec<f64> = (0..3)
            .map(|i| 2.0 * r * s * x[i] + 2.0 * lam * w[i])
            .collect();
        let (v, g) = regularised_grad(cfg, &w, &x, y);
        close("value", v, plain(&w), TOL);
        close_all("gradient", &g, &expect);
        fd_vec("gradient", plain, &w, &g);
    }
    for (l2, t) in [(None, None), (Some(0.5), Some(2.0))] {
        let (lam, tt) = (l2.unwrap_or(0.0), t.unwrap_or(1.0));
        let x = 0.7;
        let (v, g) = penalised_grad(x, l2, t);
        close("value", v, (x / tt).exp() + lam * x * x, TOL);
        close("gradient", g, (x / tt).exp() / tt + 2.0 * lam * x, TOL);
        fd("gradient", |x| (x / tt).exp() + lam * x * x, x, g);
    }
}

// ---------------------------------------------------------------------------------------------
// A module of layers whose activation is an enum field kept as data.
// ---------------------------------------------------------------------------------------------

#[differentiate]
mod model {
    use autodiff::{Differentiable, differentiate};

    #[derive(Clone, Copy)]
    pub enum Act {
        Relu,
        Tanh,
        Softplus,
    }

    #[derive(Clone, Differentiable)]
    pub struct Dense {
        pub w: Vec<f64>,
        pub b: f64,
        #[differentiable(data)]
        pub act: Act,
    }

    #[differentiate]
    impl Dense {
        pub fn forward(&self, x: &[f64]) -> f64 {
            let z = self.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + self.b;
            match self.act {
                Act::Relu => z.max(0.0),
                Act::Tanh => z.tanh(),
                Act::Softplus => (1.0 + z.exp()).ln(),
            }
        }
    }

    #[derive(Clone, Differentiable)]
    pub struct Net {
        pub l1: Dense,
        pub l2: Dense,
        pub l3: Dense,
    }

    #[differentiate]
    impl Net {
        pub fn forward(&self, x: &[f64]) -> f64 {
            let h = [self.l1.forward(x), self.l2.forward(x)];
            self.l3.forward(&h)
        }
        pub fn loss(&self, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
            xs.iter()
                .zip(ys)
                .map(|(x, y)| {
                    let r = self.forward(x) - y;
                    r * r
                })
                .sum::<f64>()
                / ys.len() as f64
        }
    }

    #[differentiate(wrt(net))]
    pub fn objective(net: &Net, xs: &[Vec<f64>], ys: &[f64], l2: Option<f64>) -> f64 {
        let mut l = net.loss(xs, ys);
        if let Some(c) = l2 {
            l += c * net.l1.w.iter().map(|v| v * v).sum::<f64>();
        }
        l
    }
}

fn dense_plain(d: &model::Dense, x: &[f64]) -> (f64, f64) {
    let z = d.w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + d.b;
    match d.act {
        model::Act::Relu => (z.max(0.0), f64::from(u8::from(z > 0.0))),
        model::Act::Tanh => (z.tanh(), 1.0 - z.tanh().powi(2)),
        model::Act::Softplus => ((1.0 + z.exp()).ln(), 1.0 / (1.0 + (-z).exp())),
    }
}

fn net_flat(n: &model::Net) -> Vec<f64> {
    let mut v = Vec::new();
    for d in [&n.l1, &n.l2, &n.l3] {
        v.extend(&d.w);
        v.push(d.b);
    }
    v
}

fn net_from(n: &model::Net, p: &[f64]) -> model::Net {
    let mut n = n.clone();
    let mut k = 0;
    for d in [&mut n.l1, &mut n.l2, &mut n.l3] {
        for w in d.w.iter_mut() {
            *w = p[k];
            k += 1;
        }
        d.b = p[k];
        k += 1;
    }
    n
}

/// Backpropagation by hand: with `h_j = act_j(z_j)`, `out = act_3(u·h + c)`, the mean of `(out
/// − y)²`: `∂/∂c = mean 2r·act_3'`, `∂/∂u_j = mean 2r·act_3'·h_j`, `∂/∂b_j = mean
/// 2r·act_3'·u_j·act_j'`, plus `2λw₁` on the first layer's weights.
#[test]
fn module_net_with_enum_activations() {
    use model::{Act, Dense, Net};
    let net = Net {
        l1: Dense {
            w: vec![0.3, -0.2],
            b: 0.1,
            act: Act::Tanh,
        },
        l2: Dense {
            w: vec![0.5, 0.4],
            b: -0.1,
            act: Act::Softplus,
        },
        l3: Dense {
            w: vec![0.7, -0.6],
            b: 0.05,
            act: Act::Relu,
        },
    };
    let xs = vec![vec![0.5, 1.0], vec![-1.0, 0.3], vec![0.2, -0.7]];
    let ys = vec![0.3, -0.1, 0.5];
    let plain = |n: &Net, l2: Option<f64>| {
        let mut l = 0.0;
        for (x, y) in xs.iter().zip(&ys) {
            let h = [dense_plain(&n.l1, x).0, dense_plain(&n.l2, x).0];
            l += (dense_plain(&n.l3, &h).0 - y).powi(2);
        }
        l / 3.0 + l2.map_or(0.0, |c| c * n.l1.w.iter().map(|v| v * v).sum::<f64>())
    };
    for l2 in [None, Some(0.1)] {
        let (v, g) = model::objective_grad(&net, &xs, &ys, l2);
        close("value", v, plain(&net, l2), TOL);
        let (mut gc, mut gb1) = (0.0, 0.0);
        for (x, y) in xs.iter().zip(&ys) {
            let (h1, d1) = dense_plain(&net.l1, x);
            let (h2, _) = dense_plain(&net.l2, x);
            let (out, d3) = dense_plain(&net.l3, &[h1, h2]);
            let r = out - y;
            gc += 2.0 * r * d3 / 3.0;
            gb1 += 2.0 * r * d3 * net.l3.w[0] * d1 / 3.0;
        }
        close("∂c", g.l3.b, gc, TOL);
        close("∂b₁", g.l1.b, gb1, TOL);
        fd_vec(
            "gradient",
            |p| plain(&net_from(&net, p), l2),
            &net_flat(&net),
            &net_flat(&g),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A trait implemented by two kernels, called on each concrete type.
// ---------------------------------------------------------------------------------------------

pub trait Kernel {
    fn k(&self, a: &[f64], b: &[f64]) -> f64;
}

#[derive(Clone, Differentiable)]
pub struct Rbf {
    pub ls: f64,
    pub var: f64,
}

#[derive(Clone, Differentiable)]
pub struct Lin {
    pub c: f64,
}

#[differentiate]
impl Kernel for Rbf {
    fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
        self.var * (-0.5 * d2 / (self.ls * self.ls)).exp()
    }
}

#[differentiate]
impl Kernel for Lin {
    fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - self.c) * (y - self.c))
            .sum()
    }
}

#[differentiate(wrt(k))]
fn gram_sum(k: &Rbf, xs: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for a in xs {
        for b in xs {
            s += k.k(a, b);
        }
    }
    s
}

#[differentiate(wrt(k))]
fn gram_sum_lin(k: &Lin, xs: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for a in xs {
        for b in xs {
            s += k.k(a, b);
        }
    }
    s
}

fn gram_plain<K: Kernel>(k: &K, xs: &[Vec<f64>]) -> f64 {
    xs.iter()
        .map(|a| xs.iter().map(|b| k.k(a, b)).sum::<f64>())
        .sum()
}

/// RBF: `∂/∂var = Σ e^{−d²/2ℓ²}`, `∂/∂ℓ = Σ var·e^{−d²/2ℓ²}·d²/ℓ³`; linear: `∂/∂c = Σ −(a −
/// c) − (b − c)` over the pairs' coordinates.
#[test]
fn kernels_called_on_their_types() {
    let xs = vec![vec![0.1, 0.2], vec![-0.5, 0.3], vec![1.0, -1.0]];
    let k = Rbf { ls: 0.7, var: 1.3 };
    let (v, g) = gram_sum_grad(&k, &xs);
    close("value", v, gram_plain(&k, &xs), TOL);
    let (mut gvar, mut gls) = (0.0, 0.0);
    for a in &xs {
        for b in &xs {
            let d2: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
            let e = (-0.5 * d2 / (k.ls * k.ls)).exp();
            gvar += e;
            gls += k.var * e * d2 / k.ls.powi(3);
        }
    }
    close("∂var", g.var, gvar, TOL);
    close("∂ℓ", g.ls, gls, TOL);
    fd2(
        "gradient",
        |ls, var| gram_plain(&Rbf { ls, var }, &xs),
        (k.ls, k.var),
        (g.ls, g.var),
    );
    let l = Lin { c: 0.2 };
    let (v, g) = gram_sum_lin_grad(&l, &xs);
    close("value", v, gram_plain(&l, &xs), TOL);
    let mut gc = 0.0;
    for a in &xs {
        for b in &xs {
            gc += a
                .iter()
                .zip(b)
                .map(|(x, y)| -(x - l.c) - (y - l.c))
                .sum::<f64>();
        }
    }
    close("∂c", g.c, gc, TOL);
    fd("gradient", |c| gram_plain(&Lin { c }, &xs), l.c, g.c);
}

// ---------------------------------------------------------------------------------------------
// Generics over a float type, const generics.
// ---------------------------------------------------------------------------------------------

/// `log Σ e^{x_i}`: the gradient is the softmax.
#[differentiate]
fn logsumexp<T: Float>(x: &[T]) -> T {
    let m = x.iter().copied().fold(T::neg_infinity(), T::max);
    let s = x
        .iter()
        .map(|&v| (v - m).exp())
        .fold(T::zero(), |a, b| a + b);
    m + s.ln()
}

#[test]
fn generic_logsumexp_at_f64_and_f32() {
    let x = vec![0.3, -1.2, 0.8, 0.1];
    let s: f64 = x.iter().map(|v| v.exp()).sum();
    let softmax: Vec<f64> = x.iter().map(|v| v.exp() / s).collect();
    let (v, g) = logsumexp_grad(&x);
    close("value", v, s.ln(), TOL);
    close_all("gradient", &g, &softmax);
    fd_vec(
        "gradient",
        |x| x.iter().map(|v| v.exp()).sum::<f64>().ln(),
        &x,
        &g,
    );
    let xf: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (vf, gf) = logsumexp_grad(&xf);
    close("value f32", f64::from(vf), s.ln(), 1e-6);
    for (a, e) in gf.iter().zip(&softmax) {
        close("gradient f32", f64::from(*a), *e, 1e-6);
    }
}

#[derive(Clone, Differentiable)]
pub struct Mlp<T> {
    pub w1: Vec<Vec<T>>,
    pub b1: Vec<T>,
    pub w2: Vec<T>,
    pub b2: T,
}

#[differentiate]
impl<T: Float> Mlp<T> {
    fn forward(&self, x: &[T]) -> T {
        let mut out = self.b2;
        for (row, (&b, &v)) in self.w1.iter().zip(self.b1.iter().zip(self.w2.iter())) {
            let z = row.iter().zip(x).fold(b, |a, (&w, &xi)| a + w * xi);
            out = out + v * z.tanh();
        }
        out
    }
}

#[differentiate(wrt(m))]
fn mlp_loss<T: Float>(m: &Mlp<T>, xs: &[Vec<T>], ys: &[T]) -> T {
    let mut l = T::zero();
    for (x, &y) in xs.iter().zip(ys) {
        let r = m.forward(x) - y;
        l = l + r * r;
    }
    l / T::from(ys.len()).unwrap()
}

fn mlp_plain(m: &Mlp<f64>, x: &[f64]) -> f64 {
    let mut o = m.b2;
    for j in 0..m.b1.len() {
        let z: f64 = m.w1[j].iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + m.b1[j];
        o += m.w2[j] * z.tanh();
    }
    o
}

fn mlp_flat(m: &Mlp<f64>) -> Vec<f64> {
    let mut v: Vec<f64> = m.w1.iter().flatten().copied().collect();
    v.extend(&m.b1);
    v.extend(&m.w2);
    v.push(m.b2);
    v
}

fn mlp_from(m: &Mlp<f64>, p: &[f64]) -> Mlp<f64> {
    let mut m = m.clone();
    let mut k = 0;
    for r in m.w1.iter_mut() {
        for w in r.iter_mut() {
            *w = p[k];
            k += 1;
        }
    }
    for b in m.b1.iter_mut().chain(m.w2.iter_mut()) {
        *b = p[k];
        k += 1;
    }
    m.b2 = p[k];
    m
}

/// `∂/∂b2 = mean 2r`, `∂/∂w2_j = mean 2r·tanh z_j`, at `f64` and at `f32`.
#[test]
fn generic_mlp_at_f64_and_f32() {
    let m = Mlp {
        w1: vec![vec![0.3, -0.2], vec![0.5, 0.1], vec![-0.4, 0.6]],
        b1: vec![0.1, -0.1, 0.0],
        w2: vec![0.7, -0.5, 0.3],
        b2: 0.05,
    };
    let xs = vec![vec![0.5, 1.0], vec![-1.0, 0.3]];
    let ys = vec![0.3, -0.1];
    let loss = |m: &Mlp<f64>| {
        xs.iter()
            .zip(&ys)
            .map(|(x, y)| (mlp_plain(m, x) - y).powi(2))
            .sum::<f64>()
            / 2.0
    };
    let (v, g) = mlp_loss_grad(&m, &xs, &ys);
    close("value", v, loss(&m), TOL);
    let mut gb2 = 0.0;
    let mut gw2 = [0.0; 3];
    for (x, y) in xs.iter().zip(&ys) {
        let r = mlp_plain(&m, x) - y;
        gb2 += r;
        for j in 0..3 {
            let z: f64 = m.w1[j].iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + m.b1[j];
            gw2[j] += r * z.tanh();
        }
    }
    close("∂b2", g.b2, gb2, TOL);
    close_all("∂w2", &g.w2, &gw2);
    fd_vec(
        "gradient",
        |p| loss(&mlp_from(&m, p)),
        &mlp_flat(&m),
        &mlp_flat(&g),
    );
    let to32 = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let mf = Mlp {
        w1: m.w1.iter().map(|r| to32(r)).collect(),
        b1: to32(&m.b1),
        w2: to32(&m.w2),
        b2: m.b2 as f32,
    };
    let xsf: Vec<Vec<f32>> = xs.iter().map(|r| to32(r)).collect();
    let (vf, gf) = mlp_loss_grad(&mf, &xsf, &to32(&ys));
    close("value f32", f64::from(vf), v, 1e-5);
    close("∂b2 f32", f64::from(gf.b2), gb2, 1e-5);
}

/// `Σ a_i b_i` over `[T; N]`: `∂/∂a = b`, `∂/∂b = a`, and the tangent `Σ da_i b_i + a_i db_i`.
#[differentiate]
fn dot_n<T: Float, const N: usize>(a: [T; N], b: [T; N]) -> T {
    let mut s = T::zero();
    for i in 0..N {
        s = s + a[i] * b[i];
    }
    s
}

#[test]
fn const_generic_dot() {
    let (a, b) = ([1.0f32, 2.0, 3.0], [0.5f32, -1.0, 2.0]);
    let (v, (ga, gb)) = dot_n_grad(a, b);
    assert_eq!(v, 4.5);
    assert_eq!((ga, gb), (b, a));
    let (a, b) = ([0.3, -0.7], [1.1, 0.4]);
    let (v, t) = dot_n_jvp(a, b, [1.0, 0.5], [-0.2, 1.0]);
    close("value", v, 0.3 * 1.1 - 0.7 * 0.4, TOL);
    close("tangent", t, 1.1 + 0.5 * 0.4 - 0.2 * 0.3 - 0.7, TOL);
    let r = autodiff::check::gradcheck(
        |p: &(f64, f64)| p.0 * b[0] + p.1 * b[1],
        &(a[0], a[1]),
        &(dot_n_grad(a, b).1.0[0], dot_n_grad(a, b).1.0[1]),
    );
    assert!(r.passed(), "{r}");
}

/// Rosenbrock over windows, generic: the Hessian-vector product against central differences of
/// the gradient, and `jvp = g·d`.
#[differentiate(hessian)]
fn rosen<T: Float>(x: &[T]) -> T {
    let (one, hundred) = (T::one(), T::from(100.0).unwrap());
    x.windows(2).fold(T::zero(), |a, w| {
        a + hundred * (w[1] - w[0] * w[0]).powi(2) + (one - w[0]).powi(2)
    })
}

#[test]
fn generic_rosenbrock_hvp_and_jvp() {
    let x = vec![0.5, -0.3, 0.8];
    let dir = vec![1.0, 0.5, -0.2];
    let plain = |x: &[f64]| {
        x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum::<f64>()
    };
    let (v, g, hv) = rosen_hvp(&x, &dir);
    close("value", v, plain(&x), TOL);
    // ∂/∂x₀ = −400x₀(x₁ − x₀²) − 2(1 − x₀), ∂/∂x₂ = 200(x₂ − x₁²).
    close(
        "∂x₀",
        g[0],
        -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]),
        TOL,
    );
    close("∂x₂", g[2], 200.0 * (x[2] - x[1] * x[1]), TOL);
    fd_vec("gradient", plain, &x, &g);
    let h = 1e-6;
    let at = |s: f64| -> Vec<f64> { x.iter().zip(&dir).map(|(a, d)| a + s * d).collect() };
    let (gp, gm) = (rosen_grad(&at(h)).1, rosen_grad(&at(-h)).1);
    for i in 0..3 {
        close("Hv", hv[i], (gp[i] - gm[i]) / (2.0 * h), 1e-6);
    }
    let (_, t) = rosen_jvp(&x, &dir);
    close(
        "tangent",
        t,
        g.iter().zip(&dir).map(|(a, b)| a * b).sum(),
        TOL,
    );
}

// ---------------------------------------------------------------------------------------------
// Closures.
// ---------------------------------------------------------------------------------------------

/// `t·log Σ e^{x_i/t}` through a `move` closure and a closure of a slice: `∂/∂x_i =
/// softmax(x/t)_i`.
#[differentiate]
fn smooth_max(xs: &[f64], temp: f64) -> f64 {
    let scale = move |v: f64| v / temp;
    let lse = |vs: &[f64]| {
        let m = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + vs.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
    };
    let scaled: Vec<f64> = xs.iter().map(|&v| scale(v)).collect();
    temp * lse(&scaled)
}

#[test]
fn closures_move_and_of_slices() {
    let xs = vec![0.3, 1.2, -0.4];
    let plain = |xs: &[f64], t: f64| t * xs.iter().map(|v| (v / t).exp()).sum::<f64>().ln();
    let (v, (gx, gt)) = smooth_max_grad(&xs, 0.5);
    close("value", v, plain(&xs, 0.5), TOL);
    let s: f64 = xs.iter().map(|v| (v / 0.5).exp()).sum();
    let softmax: Vec<f64> = xs.iter().map(|v| (v / 0.5).exp() / s).collect();
    close_all("∂x", &gx, &softmax);
    fd("∂t", |t| plain(&xs, t), 0.5, gt);
}

pub struct Trainer<F: Fn(usize) -> f64> {
    pub lr: F,
    pub steps: usize,
}

/// Gradient descent on `(w − 3)²` with a schedule kept in a generic closure field, then `w²`:
/// each step multiplies `w − 3` by `1 − 2η_k`, so `∂/∂w₀ = 2w·Π(1 − 2η_k)`.
#[differentiate(wrt(w0))]
fn train<F: Fn(usize) -> f64>(t: &Trainer<F>, w0: f64) -> f64 {
    let mut w = w0;
    for k in 0..t.steps {
        w -= (t.lr)(k) * 2.0 * (w - 3.0);
    }
    w * w
}

#[test]
fn schedule_in_a_closure_field() {
    let t = Trainer {
        lr: |k: usize| 0.1 / (1.0 + k as f64),
        steps: 5,
    };
    let plain = |w0: f64| {
        let mut w = w0;
        for k in 0..5 {
            w -= 0.1 / (1.0 + k as f64) * 2.0 * (w - 3.0);
        }
        w
    };
    let (v, g) = train_grad(&t, 0.5);
    let w = plain(0.5);
    close("value", v, w * w, TOL);
    let prod: f64 = (0..5).map(|k| 1.0 - 0.2 / (1.0 + k as f64)).product();
    close("gradient", g, 2.0 * w * prod, TOL);
    fd("gradient", |w0| plain(w0).powi(2), 0.5, g);
}

// ---------------------------------------------------------------------------------------------
// Parameter structs with operators and builders.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct P2 {
    pub a: f64,
    pub b: f64,
}

#[differentiate]
impl std::ops::Add for P2 {
    type Output = P2;
    fn add(self, o: P2) -> P2 {
        P2 {
            a: self.a + o.a,
            b: self.b + o.b,
        }
    }
}

#[differentiate]
impl std::ops::Mul<f64> for P2 {
    type Output = P2;
    fn mul(self, k: f64) -> P2 {
        P2 {
            a: self.a * k,
            b: self.b * k,
        }
    }
}

#[differentiate]
impl P2 {
    fn scaled(self, s: f64) -> Self {
        P2 {
            a: self.a * s,
            b: self.b * s,
        }
    }
    fn eval(&self, x: f64) -> f64 {
        self.a * x + self.b * x * x
    }
}

/// The average of two models, `m = (p + q)/2`, and `m.eval(x) + 0.1·(2m).eval(x) = 1.2(a x + b
/// x²)` of the average: `∂/∂p.a = ∂/∂q.a = 0.6x`, `∂/∂p.b = 0.6x²`, `∂/∂x = 1.2(a + 2bx)`.
#[differentiate]
fn averaged(p: P2, q: P2, x: f64) -> f64 {
    let m = (p + q) * 0.5;
    let n = m.scaled(2.0);
    m.eval(x) + 0.1 * n.eval(x)
}

#[test]
fn averaged_models() {
    let (p, q, x) = (P2 { a: 0.5, b: -0.2 }, P2 { a: 1.5, b: 0.4 }, 0.7);
    let plain = |pa: f64, pb: f64, x: f64| {
        let (a, b) = (0.5 * (pa + q.a), 0.5 * (pb + q.b));
        1.2 * (a * x + b * x * x)
    };
    let (v, (gp, gq, gx)) = averaged_grad(p, q, x);
    close("value", v, plain(p.a, p.b, x), TOL);
    close("∂p.a", gp.a, 0.6 * x, TOL);
    close("∂p.b", gp.b, 0.6 * x * x, TOL);
    close("∂q.a", gq.a, 0.6 * x, TOL);
    let (a, b) = (0.5 * (p.a + q.a), 0.5 * (p.b + q.b));
    close("∂x", gx, 1.2 * (a + 2.0 * b * x), TOL);
    fd2("∂p", |pa, pb| plain(pa, pb, x), (p.a, p.b), (gp.a, gp.b));
}

// ---------------------------------------------------------------------------------------------
// Layers of several types in one container: an enum holding each type's struct (the form the
// error for a slice of trait objects asks for).
// ---------------------------------------------------------------------------------------------

pub trait Layer {
    fn forward(&self, x: &[f64]) -> Vec<f64>;
}

#[derive(Clone, Differentiable)]
pub struct Scale {
    pub k: f64,
}

#[derive(Clone, Differentiable)]
pub struct Shift {
    pub c: f64,
}

#[differentiate]
impl Layer for Scale {
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| v * self.k).collect()
    }
}

#[differentiate]
impl Layer for Shift {
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| (v + self.c).tanh()).collect()
    }
}

pub enum AnyLayer {
    Scale(Scale),
    Shift(Shift),
}

#[differentiate(wrt(x))]
fn run_layers(layers: &[AnyLayer], x: &[f64]) -> f64 {
    let mut h = x.to_vec();
    for l in layers {
        h = match l {
            AnyLayer::Scale(s) => Scale::forward(s, &h),
            AnyLayer::Shift(s) => Shift::forward(s, &h),
        };
    }
    h.iter().sum()
}

/// `Σ_i k₂·tanh(k₁x_i + c)`: `∂/∂x_i = k₂·k₁·(1 − tanh²(k₁x_i + c))`.
#[test]
fn layers_of_several_types_in_an_enum() {
    let layers = vec![
        AnyLayer::Scale(Scale { k: 2.0 }),
        AnyLayer::Shift(Shift { c: 0.3 }),
        AnyLayer::Scale(Scale { k: -0.5 }),
    ];
    let x = vec![0.2, -0.4];
    let plain = |x: &[f64]| x.iter().map(|v| -0.5 * (2.0 * v + 0.3).tanh()).sum::<f64>();
    let (v, g) = run_layers_grad(&layers, &x);
    close("value", v, plain(&x), TOL);
    let expect: Vec<f64> = x
        .iter()
        .map(|v| -0.5 * 2.0 * (1.0 - (2.0 * v + 0.3).tanh().powi(2)))
        .collect();
    close_all("gradient", &g, &expect);
    fd_vec("gradient", plain, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// Conversions between parameter structs through `From`, by the type's path and by `into()`
// with the type declared.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Polar {
    pub r: f64,
    pub th: f64,
}

#[differentiate]
impl From<Polar> for P2 {
    fn from(p: Polar) -> P2 {
        P2 {
            a: p.r * p.th.cos(),
            b: p.r * p.th.sin(),
        }
    }
}

/// `a·b = r² cos θ sin θ = r² sin 2θ / 2`: `∂/∂r = r sin 2θ`, `∂/∂θ = r² cos 2θ`.
#[differentiate]
fn area_from(p: Polar) -> f64 {
    let c = P2::from(p);
    c.a * c.b
}

/// `a + b = r (cos θ + sin θ)`: `∂/∂r = cos θ + sin θ`, `∂/∂θ = r (cos θ − sin θ)`.
#[differentiate]
fn sum_into(p: Polar) -> f64 {
    let c: P2 = p.into();
    c.a + c.b
}

#[test]
fn conversions_between_parameter_structs() {
    let p = Polar { r: 1.3, th: 0.4 };
    let (v, g) = area_from_grad(p);
    close("value", v, p.r * p.r * (2.0 * p.th).sin() / 2.0, TOL);
    close("∂r", g.r, p.r * (2.0 * p.th).sin(), TOL);
    close("∂θ", g.th, p.r * p.r * (2.0 * p.th).cos(), TOL);
    fd2(
        "gradient",
        |r, th| r * r * (2.0 * th).sin() / 2.0,
        (p.r, p.th),
        (g.r, g.th),
    );
    let (v, g) = sum_into_grad(p);
    close("value", v, p.r * (p.th.cos() + p.th.sin()), TOL);
    close("∂r", g.r, p.th.cos() + p.th.sin(), TOL);
    close("∂θ", g.th, p.r * (p.th.cos() - p.th.sin()), TOL);
    fd2(
        "gradient",
        |r, th| r * (th.cos() + th.sin()),
        (p.r, p.th),
        (g.r, g.th),
    );
}
