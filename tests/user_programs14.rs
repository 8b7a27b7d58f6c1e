//! Model code organised in structs over ndarray, as engineers who train models write it:
//! parameter structs deriving `Differentiable` with `Array1`/`Array2`/`f64` fields, `impl`
//! blocks with `forward` and `loss` methods, layers in a `Vec` folded over or looped over,
//! residual blocks, layer and batch norm by hand with `mean_axis`/`var_axis`, attention by hand,
//! embeddings gathered by row, recurrent cells stepped over a sequence, mixture-density, VAE,
//! triplet, contrastive, focal and label-smoothed losses, count and survival GLMs, a Gaussian
//! process likelihood through a hand-written Cholesky, matrix factorisation, ListNet, a
//! physics-informed residual, `f32` models, and the runtime's optimizers training them.
//!
//! Each gradient is checked against its analytic form (stated beside the test, or a backward
//! pass written by hand in the test) and against central finite differences through
//! `autodiff::check`; each value against the plain function's. Where a model is trained, the
//! loss must go down and the gradient at the start must pass the finite-difference check.
//! Where `hessian` applies, `_hvp` is checked against central differences of the gradient and
//! `_jvp` against directional differences and the pullback.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::redundant_closure,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::op_ref,
    clippy::too_many_arguments
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::optim::{Adam, AdamConfig, Optimizer};
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, ArrayView1, Axis};

mod common;
use common::*;

/// A gradient of any differentiable value against central finite differences.
#[track_caller]
fn fd_model<P: Differentiable<Scalar = f64>>(what: &str, f: impl Fn(&P) -> f64, p: &P, g: &P) {
    let r = gradcheck(|q: &P| f(q), p, g);
    assert!(r.passed(), "{what}: {r}");
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Each element of a matrix's rows, softmaxed (plain, for the analytic checks).
fn softmax_rows(s: &Array2<f64>) -> Array2<f64> {
    let mut a = s.clone();
    for mut r in a.rows_mut() {
        let m = r.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        r.mapv_inplace(|v| (v - m).exp());
        let z = r.sum();
        r /= z;
    }
    a
}

// ---------------------------------------------------------------------------------------------
// A tower of dense layers in a `Vec`, folded over by `iter().fold(..)`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

#[differentiate]
impl Dense {
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        (x.dot(&self.w) + &self.b).mapv(f64::tanh)
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Tower {
    layers: Vec<Dense>,
    head: Array1<f64>,
}

impl Tower {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array1<f64> {
        let h = self.layers.iter().fold(x.clone(), |h, l| l.forward(&h));
        h.dot(&self.head)
    }

    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let r = self.forward(x) - y;
        r.dot(&r) / y.len() as f64
    }
}

/// The tower's gradient by hand: dout = 2(out − y)/n, dhead = h_Lᵀ dout, dh_L = dout headᵀ,
/// and per layer backwards dz = dh ⊙ (1 − h²), dW = h_inᵀ dz, db = Σ_rows dz, dh_in = dz Wᵀ.
fn tower_backward(t: &Tower, x: &Array2<f64>, y: &Array1<f64>) -> Tower {
    let mut hs = vec![x.clone()];
    for l in &t.layers {
        let h = (hs.last().unwrap().dot(&l.w) + &l.b).mapv(f64::tanh);
        hs.push(h);
    }
    let out = hs.last().unwrap().dot(&t.head);
    let dout = (&out - y) * (2.0 / y.len() as f64);
    let dhead = hs.last().unwrap().t().dot(&dout);
    let mut dh = dout
        .clone()
        .insert_axis(Axis(1))
        .dot(&t.head.clone().insert_axis(Axis(0)));
    let mut layers = Vec::new();
    for (k, l) in t.layers.iter().enumerate().rev() {
        let dz = &dh * &hs[k + 1].mapv(|h| 1.0 - h * h);
        layers.push(Dense {
            w: hs[k].t().dot(&dz),
            b: dz.sum_axis(Axis(0)),
        });
        dh = dz.dot(&l.w.t());
    }
    layers.reverse();
    Tower {
        layers,
        head: dhead,
    }
}

fn same_tower(a: &Tower, b: &Tower) {
    for (k, (la, lb)) in a.layers.iter().zip(&b.layers).enumerate() {
        same(&format!("layer {k} w"), &la.w, &lb.w, 1e-12);
        same(&format!("layer {k} b"), &la.b, &lb.b, 1e-12);
    }
    same("head", &a.head, &b.head, 1e-12);
}

#[test]
fn tower_of_dense_layers_folded_and_trained_by_adam() {
    let x = matrix(8, 3, 0.2);
    let y = x.column(0).mapv(|v| (2.0 * v).sin()) + &x.column(2);
    let mut t = Tower {
        layers: vec![
            Dense {
                w: matrix(3, 4, 1.1) * 0.8,
                b: vector(4, 2.3) * 0.1,
            },
            Dense {
                w: matrix(4, 4, 3.7) * 0.6,
                b: vector(4, 4.1) * 0.1,
            },
        ],
        head: vector(4, 5.9),
    };
    let (v, g) = t.loss_grad(&x, &y);
    close("value", v, t.loss(&x, &y), TOL);
    same_tower(&g, &tower_backward(&t, &x, &y));
    fd_model("tower", |p: &Tower| p.loss(&x, &y), &t, &g);
    let start = v;
    let mut adam = Adam::new(AdamConfig {
        lr: 0.03,
        ..Default::default()
    });
    for _ in 0..200 {
        let (_, g) = t.loss_grad(&x, &y);
        adam.step(&mut t, &g);
    }
    let end = t.loss(&x, &y);
    assert!(
        end < 0.3 * start,
        "Adam did not fit the tower: {start} → {end}"
    );
}

/// The same tower reached through a range of its layers and through an accessor called on at
/// once: `for l in &self.layers[..n - 1]` then `self.layers.last().unwrap().forward(&h)`, and
/// `self.layers.first().unwrap()` then `self.layers[1..].iter()`, as one writes a network whose
/// last layer is treated apart. Both were the error "no derivative rule for method `forward`".
impl Tower {
    #[differentiate(wrt(self))]
    fn loss_last_apart(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let n = self.layers.len();
        let mut h = x.clone();
        for l in &self.layers[..n - 1] {
            h = l.forward(&h);
        }
        let r = self.layers.last().unwrap().forward(&h).dot(&self.head) - y;
        r.dot(&r) / y.len() as f64
    }

    #[differentiate(wrt(self))]
    fn loss_first_apart(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let mut h = self.layers.first().expect("a layer").forward(x);
        for l in self.layers[1..].iter() {
            h = l.forward(&h);
        }
        let r = h.dot(&self.head) - y;
        r.dot(&r) / y.len() as f64
    }
}

/// The same tower taken apart by `split_last` / `split_first` (the idiomatic way to treat one
/// layer apart), and through a range bound to a local and a range of that: each was the error
/// "no derivative rule for method `forward`".
impl Tower {
    #[differentiate(wrt(self))]
    fn loss_split_last(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let (last, hidden) = self.layers.split_last().unwrap();
        let mut h = x.clone();
        for l in hidden {
            h = l.forward(&h);
        }
        let r = last.forward(&h).dot(&self.head) - y;
        r.dot(&r) / y.len() as f64
    }

    #[differentiate(wrt(self))]
    fn loss_split_first(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let (first, rest) = self.layers.split_first().expect("a layer");
        let mut h = first.forward(x);
        let n = rest.len();
        let middle = &rest[..n];
        for l in middle.iter() {
            h = l.forward(&h);
        }
        let r = h.dot(&self.head) - y;
        r.dot(&r) / y.len() as f64
    }
}

/// A slice of layers taken apart by `split_first`, the rest bound to a local range.
#[differentiate(wrt(layers))]
fn layers_split(layers: &[Dense], head: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let (first, rest) = layers.split_first().unwrap();
    let mut h = first.forward(x);
    let tail = &rest[0..];
    for l in tail {
        h = l.forward(&h);
    }
    let r = h.dot(head) - y;
    r.dot(&r) / y.len() as f64
}

#[test]
fn tower_layers_through_a_range_and_an_accessor() {
    let x = matrix(6, 3, 0.4);
    let y = x.column(1).mapv(|v| v.cos()) - &x.column(0);
    let t = Tower {
        layers: vec![
            Dense {
                w: matrix(3, 4, 6.1) * 0.8,
                b: vector(4, 6.3) * 0.1,
            },
            Dense {
                w: matrix(4, 4, 6.7) * 0.6,
                b: vector(4, 7.1) * 0.1,
            },
            Dense {
                w: matrix(4, 3, 7.3) * 0.6,
                b: vector(3, 7.9) * 0.1,
            },
        ],
        head: vector(3, 8.3),
    };
    let expected = tower_backward(&t, &x, &y);
    let (v, g) = t.loss_last_apart_grad(&x, &y);
    close("value, last apart", v, t.loss(&x, &y), TOL);
    same_tower(&g, &expected);
    fd_model("last apart", |p: &Tower| p.loss_last_apart(&x, &y), &t, &g);
    let (v, g) = t.loss_first_apart_grad(&x, &y);
    close("value, first apart", v, t.loss(&x, &y), TOL);
    same_tower(&g, &expected);
    fd_model(
        "first apart",
        |p: &Tower| p.loss_first_apart(&x, &y),
        &t,
        &g,
    );
    let (v, g) = t.loss_split_last_grad(&x, &y);
    close("value, split_last", v, t.loss(&x, &y), TOL);
    same_tower(&g, &expected);
    let (v, g) = t.loss_split_first_grad(&x, &y);
    close("value, split_first", v, t.loss(&x, &y), TOL);
    same_tower(&g, &expected);
    fd_model(
        "split_first",
        |p: &Tower| p.loss_split_first(&x, &y),
        &t,
        &g,
    );
    let (v, gl) = layers_split_grad(&t.layers, &t.head, &x, &y);
    close("value, slice split", v, t.loss(&x, &y), TOL);
    for (k, (a, b)) in gl.iter().zip(&expected.layers).enumerate() {
        same(&format!("layer {k} w, slice split"), &a.w, &b.w, 1e-10);
        same(&format!("layer {k} b, slice split"), &a.b, &b.b, 1e-10);
    }
    let (_, pullback) = t.loss_last_apart_vjp(&x, &y);
    let g3 = pullback(-3.0);
    same(
        "pullback of -3, last layer w",
        &g3.layers[2].w,
        &(&expected.layers[2].w * -3.0),
        1e-12,
    );
}

// ---------------------------------------------------------------------------------------------
// Residual blocks in a `for` loop over `&self.blocks`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct ResBlock {
    w1: Array2<f64>,
    w2: Array2<f64>,
}

#[differentiate]
impl ResBlock {
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        let inner = x.dot(&self.w1).mapv(f64::tanh).dot(&self.w2);
        x + &inner
    }
}

#[derive(Clone, Debug, Differentiable)]
struct ResNet {
    blocks: Vec<ResBlock>,
    out: Array2<f64>,
}

#[differentiate]
impl ResNet {
    fn loss(&self, x: &Array2<f64>, t: &Array2<f64>) -> f64 {
        let mut h = x.clone();
        for b in &self.blocks {
            h = b.forward(&h);
        }
        let d = h.dot(&self.out) - t;
        0.5 * (&d * &d).sum()
    }
}

/// dy = y − t, dout = hᵀ dy, dh = dy outᵀ; per block backwards with a = tanh(h_in W1):
/// dW2 = aᵀ dh, du = (dh W2ᵀ) ⊙ (1 − a²), dW1 = h_inᵀ du, dh_in = dh + du W1ᵀ.
fn resnet_backward(n: &ResNet, x: &Array2<f64>, t: &Array2<f64>) -> (ResNet, Array2<f64>) {
    let mut hs = vec![x.clone()];
    let mut acts = Vec::new();
    for b in &n.blocks {
        let h = hs.last().unwrap();
        let a = h.dot(&b.w1).mapv(f64::tanh);
        let next = h + &a.dot(&b.w2);
        acts.push(a);
        hs.push(next);
    }
    let dy = hs.last().unwrap().dot(&n.out) - t;
    let dout = hs.last().unwrap().t().dot(&dy);
    let mut dh = dy.dot(&n.out.t());
    let mut blocks = Vec::new();
    for k in (0..n.blocks.len()).rev() {
        let b = &n.blocks[k];
        let a = &acts[k];
        let dw2 = a.t().dot(&dh);
        let du = dh.dot(&b.w2.t()) * a.mapv(|v| 1.0 - v * v);
        let dw1 = hs[k].t().dot(&du);
        dh = &dh + &du.dot(&b.w1.t());
        blocks.push(ResBlock { w1: dw1, w2: dw2 });
    }
    blocks.reverse();
    (ResNet { blocks, out: dout }, dh)
}

#[test]
fn residual_blocks_looped_over_a_vec_field() {
    let x = matrix(5, 3, 0.7);
    let t = matrix(5, 2, 1.9);
    let net = ResNet {
        blocks: vec![
            ResBlock {
                w1: matrix(3, 4, 2.1) * 0.7,
                w2: matrix(4, 3, 3.3) * 0.5,
            },
            ResBlock {
                w1: matrix(3, 2, 4.4) * 0.9,
                w2: matrix(2, 3, 5.2) * 0.4,
            },
        ],
        out: matrix(3, 2, 6.6),
    };
    let (v, (g, gx, gt)) = net.loss_grad(&x, &t);
    close("value", v, net.loss(&x, &t), TOL);
    let (want, want_x) = resnet_backward(&net, &x, &t);
    for k in 0..2 {
        same("w1", &g.blocks[k].w1, &want.blocks[k].w1, 1e-12);
        same("w2", &g.blocks[k].w2, &want.blocks[k].w2, 1e-12);
    }
    same("out", &g.out, &want.out, 1e-12);
    same("∂x", &gx, &want_x, 1e-12);
    // ∂t = −(y − t)
    let y_minus_t = {
        let mut h = x.clone();
        for b in &net.blocks {
            h = &h + &h.dot(&b.w1).mapv(f64::tanh).dot(&b.w2);
        }
        h.dot(&net.out) - &t
    };
    same("∂t", &gt, &(-y_minus_t), 1e-12);
    fd_model("resnet", |p: &ResNet| p.loss(&x, &t), &net, &g);
    fd_array("resnet ∂x", |x| net.loss(x, &t), &x, &gx);
}

// ---------------------------------------------------------------------------------------------
// Layer norm by hand: `mean_axis` and `var_axis` over the features, `insert_axis` to broadcast.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct LayerNorm {
    gamma: Array1<f64>,
    beta: Array1<f64>,
}

impl LayerNorm {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        let mu = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
        let var = x.var_axis(Axis(1), 0.0).insert_axis(Axis(1));
        let xhat = (x - &mu) / &var.mapv(|v| (v + 1e-5).sqrt());
        &xhat * &self.gamma + &self.beta
    }
}

/// ⟨LN(x), C⟩ for a probe matrix C.
#[differentiate(wrt(ln, x))]
fn layer_norm_probe(ln: &LayerNorm, x: &Array2<f64>, c: &Array2<f64>) -> f64 {
    (ln.forward(x) * c).sum()
}

/// Layer norm's backward pass by hand, for an upstream gradient `dy`: dγ = Σ_rows dy ⊙ x̂,
/// dβ = Σ_rows dy, and per row with g = dy ⊙ γ:
/// dx = (g − mean(g) − x̂·mean(g ⊙ x̂)) / √(σ² + ε).
fn layer_norm_backward(
    ln: &LayerNorm,
    x: &Array2<f64>,
    dy: &Array2<f64>,
) -> (LayerNorm, Array2<f64>) {
    let d = x.ncols() as f64;
    let mut dx = Array2::zeros(x.raw_dim());
    let mut xhat = Array2::zeros(x.raw_dim());
    for i in 0..x.nrows() {
        let r = x.row(i);
        let mu = r.sum() / d;
        let var = r.mapv(|v| (v - mu) * (v - mu)).sum() / d;
        let s = (var + 1e-5).sqrt();
        let xh = r.mapv(|v| (v - mu) / s);
        let g = &dy.row(i) * &ln.gamma;
        let mg = g.sum() / d;
        let mgx = (&g * &xh).sum() / d;
        for j in 0..x.ncols() {
            dx[[i, j]] = (g[j] - mg - xh[j] * mgx) / s;
        }
        xhat.row_mut(i).assign(&xh);
    }
    (
        LayerNorm {
            gamma: (dy * &xhat).sum_axis(Axis(0)),
            beta: dy.sum_axis(Axis(0)),
        },
        dx,
    )
}

#[test]
fn layer_norm_by_hand_with_mean_and_var_axis() {
    let x = matrix(4, 5, 0.3) * 2.0 + 0.5;
    let c = matrix(4, 5, 7.7);
    let ln = LayerNorm {
        gamma: vector(5, 1.4) + 1.0,
        beta: vector(5, 2.8),
    };
    let (v, (gl, gx)) = layer_norm_probe_grad(&ln, &x, &c);
    close("value", v, layer_norm_probe(&ln, &x, &c), TOL);
    let (wl, wx) = layer_norm_backward(&ln, &x, &c);
    same("γ", &gl.gamma, &wl.gamma, 1e-12);
    same("β", &gl.beta, &wl.beta, 1e-12);
    same("∂x", &gx, &wx, 1e-10);
    fd_model("ln", |p: &LayerNorm| layer_norm_probe(p, &x, &c), &ln, &gl);
    fd_array("ln ∂x", |x| layer_norm_probe(&ln, x, &c), &x, &gx);
}

// ---------------------------------------------------------------------------------------------
// Self-attention by hand: `q.dot(&k.t())`, a softmax per row with its max subtracted.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct SelfAttention {
    wq: Array2<f64>,
    wk: Array2<f64>,
    wv: Array2<f64>,
}

impl SelfAttention {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        let q = x.dot(&self.wq);
        let k = x.dot(&self.wk);
        let v = x.dot(&self.wv);
        let d = q.ncols() as f64;
        let s = q.dot(&k.t()) / d.sqrt();
        let m = s.map_axis(Axis(1), |r| r.fold(f64::NEG_INFINITY, |a, &b| a.max(b)));
        let e = (&s - &m.insert_axis(Axis(1))).mapv(f64::exp);
        let a = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
        a.dot(&v)
    }

    #[differentiate(wrt(self))]
    fn probe(&self, x: &Array2<f64>, c: &Array2<f64>) -> f64 {
        (self.forward(x) * c).sum()
    }
}

/// Attention's backward pass by hand for upstream `dout`: with A = softmax(QKᵀ/√d),
/// dV = Aᵀ dout, dA = dout Vᵀ, dS = A ⊙ (dA − rowsum(dA ⊙ A)) / √d, dQ = dS K, dK = dSᵀ Q,
/// and each projection's gradient is xᵀ of its own.
fn attention_backward(p: &SelfAttention, x: &Array2<f64>, dout: &Array2<f64>) -> SelfAttention {
    let (q, k, v) = (x.dot(&p.wq), x.dot(&p.wk), x.dot(&p.wv));
    let sd = (q.ncols() as f64).sqrt();
    let a = softmax_rows(&(q.dot(&k.t()) / sd));
    let dv = a.t().dot(dout);
    let da = dout.dot(&v.t());
    let rs = (&da * &a).sum_axis(Axis(1)).insert_axis(Axis(1));
    let ds = &a * &(&da - &rs) / sd;
    SelfAttention {
        wq: x.t().dot(&ds.dot(&k)),
        wk: x.t().dot(&ds.t().dot(&q)),
        wv: x.t().dot(&dv),
    }
}

#[test]
fn self_attention_by_hand_with_row_softmax() {
    let x = matrix(5, 4, 0.9);
    let c = matrix(5, 3, 8.1);
    let p = SelfAttention {
        wq: matrix(4, 3, 1.7),
        wk: matrix(4, 3, 2.9),
        wv: matrix(4, 3, 4.3),
    };
    let (v, g) = p.probe_grad(&x, &c);
    close("value", v, p.probe(&x, &c), TOL);
    let want = attention_backward(&p, &x, &c);
    same("wq", &g.wq, &want.wq, 1e-11);
    same("wk", &g.wk, &want.wk, 1e-11);
    same("wv", &g.wv, &want.wv, 1e-11);
    fd_model("attention", |q: &SelfAttention| q.probe(&x, &c), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A bag of embeddings gathered by row (`self.emb.row(tok)`), a logistic head.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct BagOfEmbeddings {
    emb: Array2<f64>,
    w: Array1<f64>,
    b: f64,
}

#[differentiate(wrt(self))]
impl BagOfEmbeddings {
    fn logit(&self, toks: &[usize]) -> f64 {
        let mut h = Array1::zeros(self.emb.ncols());
        for &t in toks {
            h = h + &self.emb.row(t);
        }
        h = h / toks.len() as f64;
        h.dot(&self.w) + self.b
    }

    fn loss(&self, docs: &[Vec<usize>], labels: &[f64]) -> f64 {
        let n = docs.len() as f64;
        docs.iter()
            .zip(labels)
            .map(|(d, &y)| {
                let z = self.logit(d);
                (1.0 + z.exp()).ln() - y * z
            })
            .sum::<f64>()
            / n
    }
}

#[test]
fn bag_of_embeddings_gathered_by_row() {
    let m = BagOfEmbeddings {
        emb: matrix(6, 3, 0.4),
        w: vector(3, 1.6),
        b: 0.2,
    };
    let docs = vec![vec![0, 2, 2, 5], vec![1, 3], vec![4, 0, 1], vec![5]];
    let labels = [1.0, 0.0, 1.0, 0.0];
    let (v, g) = m.loss_grad(&docs, &labels);
    close("value", v, m.loss(&docs, &labels), TOL);
    // dz = (σ(z) − y)/n; dw = Σ dz·h, db = Σ dz, d emb[t] += dz·w/len per occurrence of t
    let mut want = BagOfEmbeddings {
        emb: Array2::zeros((6, 3)),
        w: Array1::zeros(3),
        b: 0.0,
    };
    for (d, &y) in docs.iter().zip(&labels) {
        let mut h = Array1::<f64>::zeros(3);
        for &t in d {
            h += &m.emb.row(t);
        }
        h /= d.len() as f64;
        let z = h.dot(&m.w) + m.b;
        let dz = (sigmoid(z) - y) / docs.len() as f64;
        want.w = &want.w + &(&h * dz);
        want.b += dz;
        for &t in d {
            let add = &m.w * (dz / d.len() as f64);
            let mut r = want.emb.row_mut(t);
            r += &add;
        }
    }
    same("emb", &g.emb, &want.emb, 1e-12);
    same("w", &g.w, &want.w, 1e-12);
    close("b", g.b, want.b, TOL);
    fd_model("bag", |p: &BagOfEmbeddings| p.loss(&docs, &labels), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// An Elman RNN cell stepped over the rows of a sequence.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Elman {
    wx: Array2<f64>,
    wh: Array2<f64>,
    b: Array1<f64>,
    v: Array1<f64>,
}

impl Elman {
    #[differentiate]
    fn step(&self, x: ArrayView1<'_, f64>, h: &Array1<f64>) -> Array1<f64> {
        (x.dot(&self.wx) + h.dot(&self.wh) + &self.b).mapv(f64::tanh)
    }

    #[differentiate(wrt(self))]
    fn loss(&self, xs: &Array2<f64>, y: f64) -> f64 {
        let mut h = Array1::zeros(self.wh.nrows());
        for t in 0..xs.nrows() {
            h = self.step(xs.row(t), &h);
        }
        let e = h.dot(&self.v) - y;
        0.5 * e * e
    }
}

/// Backpropagation through time: dh_T = e·v, and per step backwards dz = dh ⊙ (1 − h_t²),
/// dWx += x_tᵀ dz, dWh += h_{t−1}ᵀ dz, db += dz, dh_{t−1} = dz Whᵀ.
fn elman_backward(p: &Elman, xs: &Array2<f64>, y: f64) -> Elman {
    let n = p.wh.nrows();
    let mut hs = vec![Array1::<f64>::zeros(n)];
    for t in 0..xs.nrows() {
        let h = (xs.row(t).dot(&p.wx) + hs[t].dot(&p.wh) + &p.b).mapv(f64::tanh);
        hs.push(h);
    }
    let e = hs.last().unwrap().dot(&p.v) - y;
    let mut g = Elman {
        wx: Array2::zeros(p.wx.raw_dim()),
        wh: Array2::zeros(p.wh.raw_dim()),
        b: Array1::zeros(n),
        v: hs.last().unwrap() * e,
    };
    let mut dh = &p.v * e;
    for t in (0..xs.nrows()).rev() {
        let dz = &dh * &hs[t + 1].mapv(|h| 1.0 - h * h);
        let outer = |a: ArrayView1<'_, f64>, b: &Array1<f64>| {
            a.to_owned()
                .insert_axis(Axis(1))
                .dot(&b.clone().insert_axis(Axis(0)))
        };
        g.wx = &g.wx + &outer(xs.row(t), &dz);
        g.wh = &g.wh + &outer(hs[t].view(), &dz);
        g.b = &g.b + &dz;
        dh = p.wh.dot(&dz);
    }
    g
}

#[test]
fn elman_cell_stepped_over_a_sequence() {
    let xs = matrix(6, 2, 0.5);
    let p = Elman {
        wx: matrix(2, 3, 1.2),
        wh: matrix(3, 3, 2.4) * 0.8,
        b: vector(3, 3.6) * 0.2,
        v: vector(3, 4.8),
    };
    let y = 0.7;
    let (v, g) = p.loss_grad(&xs, y);
    close("value", v, p.loss(&xs, y), TOL);
    let want = elman_backward(&p, &xs, y);
    same("wx", &g.wx, &want.wx, 1e-12);
    same("wh", &g.wh, &want.wh, 1e-12);
    same("b", &g.b, &want.b, 1e-12);
    same("v", &g.v, &want.v, 1e-12);
    fd_model("elman", |q: &Elman| q.loss(&xs, y), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A mixture density network's negative log-likelihood, scalar loops over indexed elements.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Mdn {
    w_pi: Array2<f64>,
    w_mu: Array2<f64>,
    w_ls: Array2<f64>,
}

impl Mdn {
    #[differentiate(wrt(self))]
    fn nll(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let logits = x.dot(&self.w_pi);
        let mu = x.dot(&self.w_mu);
        let ls = x.dot(&self.w_ls);
        let k = logits.ncols();
        let mut total = 0.0;
        for i in 0..x.nrows() {
            let m = logits.row(i).fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let lse = logits.row(i).mapv(|z| (z - m).exp()).sum().ln() + m;
            let mut terms = Vec::with_capacity(k);
            for j in 0..k {
                let z = (y[i] - mu[[i, j]]) / ls[[i, j]].exp();
                let log_n = -0.5 * z * z - ls[[i, j]] - 0.5 * (2.0 * std::f64::consts::PI).ln();
                terms.push(logits[[i, j]] - lse + log_n);
            }
            let tm = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let l = terms.iter().map(|t| (t - tm).exp()).sum::<f64>().ln() + tm;
            total -= l;
        }
        total / x.nrows() as f64
    }
}

#[test]
fn mixture_density_network_nll() {
    let x = matrix(6, 3, 0.6);
    let y = vector(6, 9.1) * 1.5;
    let p = Mdn {
        w_pi: matrix(3, 3, 1.3),
        w_mu: matrix(3, 3, 2.6),
        w_ls: matrix(3, 3, 3.9) * 0.5,
    };
    let (v, g) = p.nll_grad(&x, &y);
    close("value", v, p.nll(&x, &y), TOL);
    // with π = softmax(logits), r = the posterior responsibilities of the components, over n:
    // ∂logit_ik = (π_ik − r_ik)/n, ∂μ_ik = −r_ik (y_i − μ_ik)/σ²/n,
    // ∂ls_ik = −r_ik ((y_i − μ_ik)²/σ² − 1)/n, and each W's gradient is xᵀ of its own
    let logits = x.dot(&p.w_pi);
    let mu = x.dot(&p.w_mu);
    let ls = x.dot(&p.w_ls);
    let pi = softmax_rows(&logits);
    let n = x.nrows() as f64;
    let (mut dl, mut dm, mut ds) = (
        Array2::<f64>::zeros((6, 3)),
        Array2::<f64>::zeros((6, 3)),
        Array2::<f64>::zeros((6, 3)),
    );
    for i in 0..6 {
        let dens: Vec<f64> = (0..3)
            .map(|j| {
                let s = ls[[i, j]].exp();
                let z = (y[i] - mu[[i, j]]) / s;
                pi[[i, j]] * (-0.5 * z * z).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
            })
            .collect();
        let tot: f64 = dens.iter().sum();
        for j in 0..3 {
            let r = dens[j] / tot;
            let s2 = (2.0 * ls[[i, j]]).exp();
            let e = y[i] - mu[[i, j]];
            dl[[i, j]] = (pi[[i, j]] - r) / n;
            dm[[i, j]] = -r * e / s2 / n;
            ds[[i, j]] = -r * (e * e / s2 - 1.0) / n;
        }
    }
    same("w_pi", &g.w_pi, &x.t().dot(&dl), 1e-12);
    same("w_mu", &g.w_mu, &x.t().dot(&dm), 1e-12);
    same("w_ls", &g.w_ls, &x.t().dot(&ds), 1e-12);
    fd_model("mdn", |q: &Mdn| q.nll(&x, &y), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A VAE's loss with the reparameterisation noise given as data.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Vae {
    enc_mu: Array2<f64>,
    enc_lv: Array2<f64>,
    dec: Array2<f64>,
}

#[differentiate]
impl Vae {
    fn loss(&self, x: &Array2<f64>, eps: &Array2<f64>) -> f64 {
        let mu = x.dot(&self.enc_mu);
        let lv = x.dot(&self.enc_lv);
        let z = &mu + &(lv.mapv(|l| (0.5 * l).exp()) * eps);
        let recon = z.dot(&self.dec);
        let rec = 0.5 * (&recon - x).mapv(|d| d * d).sum();
        let kl = -0.5 * (1.0 + &lv - &mu.mapv(|m| m * m) - lv.mapv(f64::exp)).sum();
        (rec + kl) / x.nrows() as f64
    }
}

#[test]
fn vae_loss_with_reparameterisation_noise_as_data() {
    let x = matrix(5, 4, 0.8);
    let eps = matrix(5, 2, 5.5);
    let p = Vae {
        enc_mu: matrix(4, 2, 1.1),
        enc_lv: matrix(4, 2, 2.2) * 0.5,
        dec: matrix(2, 4, 3.3),
    };
    let (v, (g, gx, geps)) = p.loss_grad(&x, &eps);
    close("value", v, p.loss(&x, &eps), TOL);
    // per n: dr = x̂ − x, ddec = zᵀ dr, dz = dr decᵀ, dμ = dz + μ,
    // dlv = dz ⊙ ½e^{lv/2} ⊙ ε − ½(1 − e^{lv}), dWμ = xᵀ dμ, dWlv = xᵀ dlv,
    // dε = dz ⊙ e^{lv/2}, dx = −dr + dμ Wμᵀ + dlv Wlvᵀ
    let n = 5.0;
    let mu = x.dot(&p.enc_mu);
    let lv = x.dot(&p.enc_lv);
    let sd = lv.mapv(|l| (0.5 * l).exp());
    let z = &mu + &(&sd * &eps);
    let dr = (z.dot(&p.dec) - &x) / n;
    let dz = dr.dot(&p.dec.t());
    let dmu = &dz + &(&mu / n);
    let dlv = &dz * &sd * &eps * 0.5 - (1.0 - lv.mapv(f64::exp)) * (0.5 / n);
    same("dec", &g.dec, &z.t().dot(&dr), 1e-12);
    same("enc_mu", &g.enc_mu, &x.t().dot(&dmu), 1e-12);
    same("enc_lv", &g.enc_lv, &x.t().dot(&dlv), 1e-12);
    same("∂ε", &geps, &(&dz * &sd), 1e-12);
    let want_x = -&dr + &dmu.dot(&p.enc_mu.t()) + &dlv.dot(&p.enc_lv.t());
    same("∂x", &gx, &want_x, 1e-12);
    fd_model("vae", |q: &Vae| q.loss(&x, &eps), &p, &g);
    fd_array("vae ∂x", |x| p.loss(x, &eps), &x, &gx);
}

// ---------------------------------------------------------------------------------------------
// Focal loss on a logistic model: scalar loops over `.iter()` of an array beside array ops.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct LogReg {
    w: Array1<f64>,
    b: f64,
}

#[differentiate(wrt(self))]
impl LogReg {
    fn focal(&self, x: &Array2<f64>, y: &[f64], alpha: f64) -> f64 {
        let z = x.dot(&self.w) + self.b;
        let mut total = 0.0;
        for (zi, &yi) in z.iter().zip(y) {
            let p = 1.0 / (1.0 + (-zi).exp());
            total += if yi > 0.5 {
                -alpha * (1.0 - p).powi(2) * p.ln()
            } else {
                -(1.0 - alpha) * p.powi(2) * (1.0 - p).ln()
            };
        }
        total / y.len() as f64
    }
}

#[test]
fn focal_loss_scalar_loop_over_array_iter() {
    let x = matrix(8, 3, 1.5);
    let y = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    let m = LogReg {
        w: vector(3, 2.5),
        b: -0.1,
    };
    let alpha = 0.25;
    let (v, g) = m.focal_grad(&x, &y, alpha);
    close("value", v, m.focal(&x, &y, alpha), TOL);
    // y = 1: d/dz = α[2(1−p)p ln p − (1−p)²]·(1−p)·… written through p' = p(1−p):
    //   d/dp [−α(1−p)² ln p] = α[2(1−p) ln p − (1−p)²/p];
    // y = 0: d/dp [−(1−α)p² ln(1−p)] = −(1−α)[2p ln(1−p) − p²/(1−p)]; dz = d/dp · p(1−p)/n
    let z = x.dot(&m.w) + m.b;
    let mut dz = Array1::<f64>::zeros(8);
    for i in 0..8 {
        let p = sigmoid(z[i]);
        let dp = if y[i] > 0.5 {
            alpha * (2.0 * (1.0 - p) * p.ln() - (1.0 - p).powi(2) / p)
        } else {
            -(1.0 - alpha) * (2.0 * p * (1.0 - p).ln() - p * p / (1.0 - p))
        };
        dz[i] = dp * p * (1.0 - p) / 8.0;
    }
    same("w", &g.w, &x.t().dot(&dz), 1e-12);
    close("b", g.b, dz.sum(), TOL);
    fd_model("focal", |q: &LogReg| q.focal(&x, &y, alpha), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A Poisson GLM as a struct with `hessian`: the Hessian is Xᵀ diag(μ) X.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct PoissonGlm {
    beta: Array1<f64>,
    b0: f64,
}

#[differentiate(hessian, wrt(self))]
impl PoissonGlm {
    fn nll(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let eta = x.dot(&self.beta) + self.b0;
        (eta.mapv(f64::exp) - y * &eta).sum() + 0.05 * self.beta.dot(&self.beta)
    }
}

#[test]
fn poisson_glm_struct_with_hessian() {
    let x = matrix(9, 3, 2.0) * 0.7;
    let y = Array1::from(vec![1.0, 0.0, 3.0, 2.0, 0.0, 1.0, 4.0, 1.0, 2.0]);
    let m = PoissonGlm {
        beta: vector(3, 3.0) * 0.3,
        b0: 0.2,
    };
    let (v, g) = m.nll_grad(&x, &y);
    close("value", v, m.nll(&x, &y), TOL);
    // ∇β = Xᵀ(μ − y) + 0.1β, ∇b0 = Σ(μ − y)
    let mu = (x.dot(&m.beta) + m.b0).mapv(f64::exp);
    let r = &mu - &y;
    same("β", &g.beta, &(x.t().dot(&r) + &m.beta * 0.1), 1e-12);
    close("b0", g.b0, r.sum(), TOL);
    fd_model("poisson", |q: &PoissonGlm| q.nll(&x, &y), &m, &g);
    // H·v: [Xᵀ diag(μ)(X vβ + v0) + 0.1 vβ, Σ μ(X vβ + v0)]
    let dir = PoissonGlm {
        beta: vector(3, 6.0),
        b0: -0.4,
    };
    let (v2, g2, hv) = m.nll_hvp(&x, &y, &dir);
    close("hvp value", v2, v, TOL);
    same("hvp gradient", &g2.beta, &g.beta, 1e-12);
    let xv = (x.dot(&dir.beta) + dir.b0) * &mu;
    same(
        "H·v β",
        &hv.beta,
        &(x.t().dot(&xv) + &dir.beta * 0.1),
        1e-12,
    );
    close("H·v b0", hv.b0, xv.sum(), 1e-12);
    let (v3, jv) = m.nll_jvp(&x, &y, &dir);
    close("jvp value", v3, v, TOL);
    close("J·v", jv, g.beta.dot(&dir.beta) + g.b0 * dir.b0, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Cox partial likelihood: data sorted by time, latest first, risk sums accumulated in a loop.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Cox {
    beta: Array1<f64>,
}

#[differentiate(wrt(self))]
impl Cox {
    /// Rows sorted by time, latest first: the risk set of row i is rows 0..=i.
    fn neg_partial_ll(&self, x: &Array2<f64>, event: &[bool]) -> f64 {
        let eta = x.dot(&self.beta);
        let mut risk = 0.0;
        let mut ll = 0.0;
        for (i, e) in eta.iter().enumerate() {
            risk += e.exp();
            if event[i] {
                ll += e - risk.ln();
            }
        }
        -ll
    }
}

#[test]
fn cox_partial_likelihood_with_running_risk_sum() {
    let x = matrix(7, 3, 4.2);
    let event = [true, false, true, true, false, true, true];
    let m = Cox {
        beta: vector(3, 0.9),
    };
    let (v, g) = m.neg_partial_ll_grad(&x, &event);
    close("value", v, m.neg_partial_ll(&x, &event), TOL);
    // ∂η_j = −δ_j + Σ_{i ≥ j, δ_i} e^{η_j}/S_i with S_i = Σ_{k ≤ i} e^{η_k}; ∇β = Xᵀ ∂η
    let eta = x.dot(&m.beta);
    let s: Vec<f64> = (0..7)
        .map(|i| (0..=i).map(|k| eta[k].exp()).sum())
        .collect();
    let deta = Array1::from_shape_fn(7, |j| {
        let mut d = if event[j] { -1.0 } else { 0.0 };
        for i in j..7 {
            if event[i] {
                d += eta[j].exp() / s[i];
            }
        }
        d
    });
    same("β", &g.beta, &x.t().dot(&deta), 1e-12);
    fd_model("cox", |q: &Cox| q.neg_partial_ll(&x, &event), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// Temperature scaling of a classifier's logits: one scalar parameter, `hessian`.
// ---------------------------------------------------------------------------------------------

#[differentiate(hessian, wrt(t))]
fn temperature_nll(t: f64, logits: &Array2<f64>, labels: &[usize]) -> f64 {
    let mut total = 0.0;
    for (row, &y) in logits.outer_iter().zip(labels) {
        let scaled = row.mapv(|z| z / t);
        let lse = scaled.mapv(f64::exp).sum().ln();
        total += lse - scaled[y];
    }
    total / labels.len() as f64
}

#[test]
fn temperature_scaling_with_hessian() {
    let logits = matrix(6, 4, 3.1) * 3.0;
    let labels = [0, 3, 1, 1, 2, 0];
    let t = 1.7;
    let (v, g) = temperature_nll_grad(t, &logits, &labels);
    close("value", v, temperature_nll(t, &logits, &labels), TOL);
    // per row: d/dT [lse(z/T) − z_y/T] = (z_y − E_p[z])/T², d² = −2(z_y − E_p z)/T³ + Var_p(z)/T⁴
    let (mut d1, mut d2) = (0.0, 0.0);
    for (i, &y) in labels.iter().enumerate() {
        let z = logits.row(i);
        let e = z.mapv(|v| (v / t).exp());
        let p = &e / e.sum();
        let ez = (&p * &z).sum();
        let ez2 = (&p * &z * &z).sum();
        d1 += (z[y] - ez) / (t * t);
        d2 += -2.0 * (z[y] - ez) / t.powi(3) + (ez2 - ez * ez) / t.powi(4);
    }
    close("∂T", g, d1 / 6.0, 1e-12);
    fd(
        "temperature",
        |t| temperature_nll(t, &logits, &labels),
        t,
        g,
    );
    let (_, g2, hv) = temperature_nll_hvp(t, &logits, &labels, 1.0);
    close("hvp gradient", g2, g, TOL);
    close("∂²T", hv, d2 / 6.0, 1e-10);
    fd(
        "hessian",
        |t| temperature_nll_grad(t, &logits, &labels).1,
        t,
        hv,
    );
    let pairs = forward("temperature").one(
        t,
        |t| temperature_nll(t, &logits, &labels),
        |t, dt| temperature_nll_jvp(t, &logits, &labels, dt),
        |t| temperature_nll_vjp(t, &logits, &labels),
    );
    tangents_are("J·v", &pairs, g, 1e-12);
}

/// The outer product `a ⊗ b` as a matrix (plain, for the analytic checks).
fn outer(a: &Array1<f64>, b: &Array1<f64>) -> Array2<f64> {
    a.clone()
        .insert_axis(Axis(1))
        .dot(&b.clone().insert_axis(Axis(0)))
}

// ---------------------------------------------------------------------------------------------
// Batch norm by hand over the batch axis, after a dense layer, inside a `forward` method.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct BnDense {
    w: Array2<f64>,
    gamma: Array1<f64>,
    beta: Array1<f64>,
}

impl BnDense {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        let z = x.dot(&self.w);
        let mean = z.mean_axis(Axis(0)).unwrap();
        let var = z.var_axis(Axis(0), 0.0);
        let zhat = (&z - &mean) / &(var + 1e-5).mapv(f64::sqrt);
        (&zhat * &self.gamma + &self.beta).mapv(f64::tanh)
    }

    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array2<f64>, t: &Array2<f64>) -> f64 {
        let d = self.forward(x) - t;
        d.mapv(|v| v * v).mean().unwrap()
    }
}

#[test]
fn batch_norm_by_hand_over_the_batch_axis() {
    let x = matrix(6, 3, 2.7);
    let t = matrix(6, 4, 3.4) * 0.5;
    let p = BnDense {
        w: matrix(3, 4, 4.6),
        gamma: vector(4, 5.1) * 0.5 + 1.0,
        beta: vector(4, 6.2) * 0.3,
    };
    let (v, g) = p.loss_grad(&x, &t);
    close("value", v, p.loss(&x, &t), TOL);
    // dy = 2(y − t)/(n·m), da = dy ⊙ (1 − y²); dγ = Σ_rows da ⊙ ẑ, dβ = Σ_rows da; with
    // g = da ⊙ γ, per column dz = (g − mean(g) − ẑ·mean(g ⊙ ẑ))/σ; dW = xᵀ dz
    let z = x.dot(&p.w);
    let n = 6.0;
    let mean = z.sum_axis(Axis(0)) / n;
    let var = z.mapv(|v| v * v).sum_axis(Axis(0)) / n - &mean * &mean;
    let sd = (var + 1e-5).mapv(f64::sqrt);
    let zhat = (&z - &mean) / &sd;
    let y = (&zhat * &p.gamma + &p.beta).mapv(f64::tanh);
    let dy = (&y - &t) * (2.0 / 24.0);
    let da = &dy * &y.mapv(|v| 1.0 - v * v);
    let gg = &da * &p.gamma;
    let mg = gg.sum_axis(Axis(0)) / n;
    let mgz = (&gg * &zhat).sum_axis(Axis(0)) / n;
    let dz = (&gg - &mg - &zhat * &mgz) / &sd;
    same("γ", &g.gamma, &(&da * &zhat).sum_axis(Axis(0)), 1e-12);
    same("β", &g.beta, &da.sum_axis(Axis(0)), 1e-12);
    same("w", &g.w, &x.t().dot(&dz), 1e-10);
    fd_model("batch norm", |q: &BnDense| q.loss(&x, &t), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// InfoNCE between two views of a batch: the row of logits bound to a local and folded.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Projector {
    w: Array2<f64>,
}

#[differentiate(wrt(self))]
impl Projector {
    fn info_nce(&self, xa: &Array2<f64>, xb: &Array2<f64>, tau: f64) -> f64 {
        let za = xa.dot(&self.w);
        let zb = xb.dot(&self.w);
        let logits = za.dot(&zb.t()) / tau;
        let n = logits.nrows();
        let mut loss = 0.0;
        for i in 0..n {
            let row = logits.row(i);
            let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let lse = m + row.mapv(|v| (v - m).exp()).sum().ln();
            loss += lse - logits[[i, i]];
        }
        loss / n as f64
    }
}

#[test]
fn info_nce_with_a_bound_row_folded() {
    let xa = matrix(5, 4, 0.15);
    let xb = &xa + &(matrix(5, 4, 9.9) * 0.2);
    let p = Projector {
        w: matrix(4, 3, 1.25),
    };
    let tau = 0.5;
    let (v, g) = p.info_nce_grad(&xa, &xb, tau);
    close("value", v, p.info_nce(&xa, &xb, tau), TOL);
    // dL = (softmax(L) − I)/(n·τ) on the scaled logits; dza = dL zb, dzb = dLᵀ za,
    // dW = xaᵀ dza + xbᵀ dzb
    let (za, zb) = (xa.dot(&p.w), xb.dot(&p.w));
    let dl = (softmax_rows(&(za.dot(&zb.t()) / tau)) - Array2::<f64>::eye(5)) / (5.0 * tau);
    let want = xa.t().dot(&dl.dot(&zb)) + xb.t().dot(&dl.t().dot(&za));
    same("w", &g.w, &want, 1e-12);
    fd_model(
        "info nce",
        |q: &Projector| q.info_nce(&xa, &xb, tau),
        &p,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// A triplet loss (soft margin) over rows embedded by a method taking a row view.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Embedder {
    w: Array2<f64>,
    b: Array1<f64>,
}

impl Embedder {
    #[differentiate]
    fn embed(&self, x: ArrayView1<'_, f64>) -> Array1<f64> {
        x.dot(&self.w) + &self.b
    }

    #[differentiate(wrt(self))]
    fn triplet(&self, x: &Array2<f64>, triplets: &[(usize, usize, usize)], margin: f64) -> f64 {
        let mut total = 0.0;
        for &(a, p, n) in triplets {
            let ea = self.embed(x.row(a));
            let ep = self.embed(x.row(p));
            let en = self.embed(x.row(n));
            let dap = (&ea - &ep).mapv(|v| v * v).sum();
            let dan = (&ea - &en).mapv(|v| v * v).sum();
            total += (1.0 + (dap - dan + margin).exp()).ln();
        }
        total / triplets.len() as f64
    }
}

#[test]
fn soft_margin_triplet_loss_over_embedded_rows() {
    let x = matrix(6, 4, 3.3);
    let triplets = [(0, 1, 2), (3, 4, 5), (1, 0, 5), (2, 3, 0)];
    let p = Embedder {
        w: matrix(4, 3, 0.35),
        b: vector(3, 7.2),
    };
    let (v, g) = p.triplet_grad(&x, &triplets, 0.3);
    close("value", v, p.triplet(&x, &triplets, 0.3), TOL);
    // s = σ(d_ap − d_an + m)/N; ∂e_a = 2s(e_n − e_p), ∂e_p = −2s(e_a − e_p),
    // ∂e_n = 2s(e_a − e_n); dW = Σ x_rowᵀ ∂e, and db = Σ ∂e = 0 (a shift moves all three)
    let e = x.dot(&p.w) + &p.b;
    let mut dw = Array2::<f64>::zeros((4, 3));
    for &(a, pp, n) in &triplets {
        let (ea, ep, en) = (
            e.row(a).to_owned(),
            e.row(pp).to_owned(),
            e.row(n).to_owned(),
        );
        let dap = (&ea - &ep).mapv(|v| v * v).sum();
        let dan = (&ea - &en).mapv(|v| v * v).sum();
        let s = sigmoid(dap - dan + 0.3) / 4.0;
        dw = dw + outer(&x.row(a).to_owned(), &((&en - &ep) * (2.0 * s)));
        dw = dw + outer(&x.row(pp).to_owned(), &((&ea - &ep) * (-2.0 * s)));
        dw = dw + outer(&x.row(n).to_owned(), &((&ea - &en) * (2.0 * s)));
    }
    same("w", &g.w, &dw, 1e-12);
    same("b", &g.b, &Array1::zeros(3), 1e-12);
    fd_model(
        "triplet",
        |q: &Embedder| q.triplet(&x, &triplets, 0.3),
        &p,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Label smoothing: a scalar double loop over `outer_iter().enumerate()` and `iter().enumerate()`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct SoftmaxReg {
    w: Array2<f64>,
    b: Array1<f64>,
}

#[differentiate(wrt(self))]
impl SoftmaxReg {
    fn smoothed_ce(&self, x: &Array2<f64>, labels: &[usize], eps: f64) -> f64 {
        let logits = x.dot(&self.w) + &self.b;
        let k = logits.ncols() as f64;
        let mut total = 0.0;
        for (i, row) in logits.outer_iter().enumerate() {
            let lse = row.mapv(f64::exp).sum().ln();
            for (j, &z) in row.iter().enumerate() {
                let q = if j == labels[i] {
                    1.0 - eps + eps / k
                } else {
                    eps / k
                };
                total -= q * (z - lse);
            }
        }
        total / x.nrows() as f64
    }
}

#[test]
fn label_smoothed_cross_entropy_by_double_loop() {
    let x = matrix(7, 3, 5.8);
    let labels = [0, 2, 1, 3, 3, 0, 2];
    let p = SoftmaxReg {
        w: matrix(3, 4, 6.4),
        b: vector(4, 0.05),
    };
    let (v, g) = p.smoothed_ce_grad(&x, &labels, 0.1);
    close("value", v, p.smoothed_ce(&x, &labels, 0.1), TOL);
    // dlogits = (softmax − q)/n with q = (1 − ε)·onehot + ε/K; dW = xᵀ dlogits, db = Σ_rows
    let mut q = Array2::from_elem((7, 4), 0.1 / 4.0);
    for (i, &l) in labels.iter().enumerate() {
        q[[i, l]] += 0.9;
    }
    let dl = (softmax_rows(&(x.dot(&p.w) + &p.b)) - q) / 7.0;
    same("w", &g.w, &x.t().dot(&dl), 1e-12);
    same("b", &g.b, &dl.sum_axis(Axis(0)), 1e-12);
    fd_model(
        "smoothing",
        |q: &SoftmaxReg| q.smoothed_ce(&x, &labels, 0.1),
        &p,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// A negative binomial GLM: counts as `u32`, the log-gamma ratio as a loop over the count.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct NegBin {
    beta: Array1<f64>,
    log_r: f64,
}

#[differentiate(wrt(self))]
impl NegBin {
    fn nll(&self, x: &Array2<f64>, y: &[u32]) -> f64 {
        let r = self.log_r.exp();
        let eta = x.dot(&self.beta);
        let mut ll = 0.0;
        for (i, &e) in eta.iter().enumerate() {
            let mu = e.exp();
            let yi = y[i];
            for j in 0..yi {
                ll += (j as f64 + r).ln();
            }
            ll += r * (r / (r + mu)).ln() + yi as f64 * (mu / (r + mu)).ln();
        }
        -ll
    }
}

#[test]
fn negative_binomial_glm_with_count_loops() {
    let x = matrix(8, 3, 7.3);
    let y = [0u32, 3, 1, 5, 2, 0, 7, 1];
    let m = NegBin {
        beta: vector(3, 8.4) * 0.5,
        log_r: 0.4,
    };
    let (v, g) = m.nll_grad(&x, &y);
    close("value", v, m.nll(&x, &y), TOL);
    // ∂ℓ/∂η = r(y − μ)/(r + μ); ∂ℓ/∂r = Σ_{j<y} 1/(j + r) + ln(r/(r + μ)) + (μ − y)/(r + μ);
    // the loss is −ℓ, and ∂log r = r·∂r
    let r = m.log_r.exp();
    let eta = x.dot(&m.beta);
    let mut deta = Array1::<f64>::zeros(8);
    let mut dr = 0.0;
    for i in 0..8 {
        let mu = eta[i].exp();
        let yi = y[i] as f64;
        deta[i] = -r * (yi - mu) / (r + mu);
        let harmonic: f64 = (0..y[i]).map(|j| 1.0 / (j as f64 + r)).sum();
        dr -= harmonic + (r / (r + mu)).ln() + (mu - yi) / (r + mu);
    }
    same("β", &g.beta, &x.t().dot(&deta), 1e-12);
    close("log r", g.log_r, r * dr, 1e-12);
    fd_model("negbin", |q: &NegBin| q.nll(&x, &y), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A Gaussian process's negative log marginal likelihood through a hand-written Cholesky.
// ---------------------------------------------------------------------------------------------

#[differentiate(hessian, wrt(log_ell, log_sf, log_sn))]
fn gp_nlml(log_ell: f64, log_sf: f64, log_sn: f64, x: &[f64], y: &Array1<f64>) -> f64 {
    let n = x.len();
    let ell = log_ell.exp();
    let sf2 = (2.0 * log_sf).exp();
    let sn2 = (2.0 * log_sn).exp();
    let mut k = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            let d = (x[i] - x[j]) / ell;
            k[[i, j]] = sf2 * (-0.5 * d * d).exp() + if i == j { sn2 } else { 0.0 };
        }
    }
    let mut l = Array2::zeros((n, n));
    for j in 0..n {
        let mut s = k[[j, j]];
        for p in 0..j {
            s -= l[[j, p]] * l[[j, p]];
        }
        l[[j, j]] = s.sqrt();
        for i in (j + 1)..n {
            let mut s = k[[i, j]];
            for p in 0..j {
                s -= l[[i, p]] * l[[j, p]];
            }
            l[[i, j]] = s / l[[j, j]];
        }
    }
    let mut a = Array1::zeros(n);
    for i in 0..n {
        let mut s = y[i];
        for p in 0..i {
            s -= l[[i, p]] * a[p];
        }
        a[i] = s / l[[i, i]];
    }
    let logdet: f64 = (0..n).map(|i| l[[i, i]].ln()).sum();
    0.5 * a.dot(&a) + logdet + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// The inverse of a small symmetric positive definite matrix by Gauss–Jordan elimination.
fn inverse(a: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows();
    let mut m = a.clone();
    let mut inv = Array2::<f64>::eye(n);
    for c in 0..n {
        let p = m[[c, c]];
        for j in 0..n {
            m[[c, j]] /= p;
            inv[[c, j]] /= p;
        }
        for r in 0..n {
            if r != c {
                let f = m[[r, c]];
                for j in 0..n {
                    m[[r, j]] -= f * m[[c, j]];
                    inv[[r, j]] -= f * inv[[c, j]];
                }
            }
        }
    }
    inv
}

#[test]
fn gaussian_process_marginal_likelihood_through_cholesky() {
    let x = [-1.2, -0.5, 0.1, 0.4, 1.3, 2.0];
    let y = Array1::from(vec![0.3, -0.2, 0.5, 0.9, 0.1, -0.6]);
    let th = (-0.2, 0.1, -1.0);
    let (v, g) = gp_nlml_grad(th.0, th.1, th.2, &x, &y);
    close("value", v, gp_nlml(th.0, th.1, th.2, &x, &y), TOL);
    // ∂θ = ½ tr(K⁻¹ ∂K) − ½ αᵀ ∂K α with α = K⁻¹y; ∂K/∂log ℓ = sf²e^{−d²/2} d²,
    // ∂K/∂log sf = 2 sf²e^{−d²/2}, ∂K/∂log sn = 2 sn² I
    let (ell, sf2, sn2) = (th.0.exp(), (2.0 * th.1).exp(), (2.0 * th.2).exp());
    let kern = |i: usize, j: usize| {
        let d = (x[i] - x[j]) / ell;
        (sf2 * (-0.5 * d * d).exp(), d * d)
    };
    let k = Array2::from_shape_fn((6, 6), |(i, j)| {
        kern(i, j).0 + if i == j { sn2 } else { 0.0 }
    });
    let kinv = inverse(&k);
    let alpha = kinv.dot(&y);
    let dk_ell = Array2::from_shape_fn((6, 6), |(i, j)| kern(i, j).0 * kern(i, j).1);
    let dk_sf = Array2::from_shape_fn((6, 6), |(i, j)| 2.0 * kern(i, j).0);
    let dk_sn = Array2::<f64>::eye(6) * (2.0 * sn2);
    let part = |dk: &Array2<f64>| 0.5 * (&kinv * dk).sum() - 0.5 * alpha.dot(&dk.dot(&alpha));
    close("∂log ℓ", g.0, part(&dk_ell), 1e-10);
    close("∂log sf", g.1, part(&dk_sf), 1e-10);
    close("∂log sn", g.2, part(&dk_sn), 1e-10);
    fd3("gp", |a, b, c| gp_nlml(a, b, c, &x, &y), th, g);
    // H·v against central differences of the gradient along v
    let dir = (0.6, -0.3, 0.8);
    let (_, g2, hv) = gp_nlml_hvp(th.0, th.1, th.2, &x, &y, dir.0, dir.1, dir.2);
    close("hvp gradient", g2.0, g.0, TOL);
    let h = 1e-5;
    let gp = gp_nlml_grad(th.0 + h * dir.0, th.1 + h * dir.1, th.2 + h * dir.2, &x, &y).1;
    let gm = gp_nlml_grad(th.0 - h * dir.0, th.1 - h * dir.1, th.2 - h * dir.2, &x, &y).1;
    close("(H·v)₀", hv.0, (gp.0 - gm.0) / (2.0 * h), 1e-6);
    close("(H·v)₁", hv.1, (gp.1 - gm.1) / (2.0 * h), 1e-6);
    close("(H·v)₂", hv.2, (gp.2 - gm.2) / (2.0 * h), 1e-6);
    forward("gp").three(
        th,
        |a, b, c| gp_nlml(a, b, c, &x, &y),
        |a, b, c, da, db, dc| gp_nlml_jvp(a, b, c, &x, &y, da, db, dc),
        |a, b, c| gp_nlml_vjp(a, b, c, &x, &y),
    );
}

// ---------------------------------------------------------------------------------------------
// Matrix factorisation for ratings, a `predict` method reading rows, trained by Adam.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Factorisation {
    u: Array2<f64>,
    v: Array2<f64>,
    bu: Array1<f64>,
    bv: Array1<f64>,
    mu: f64,
}

#[differentiate(wrt(self))]
impl Factorisation {
    fn predict(&self, i: usize, j: usize) -> f64 {
        self.mu + self.bu[i] + self.bv[j] + self.u.row(i).dot(&self.v.row(j))
    }

    fn loss(&self, ratings: &[(usize, usize, f64)], lam: f64) -> f64 {
        let mut sse = 0.0;
        for &(i, j, r) in ratings {
            let e = self.predict(i, j) - r;
            sse += e * e;
        }
        sse / ratings.len() as f64 + lam * ((&self.u * &self.u).sum() + (&self.v * &self.v).sum())
    }
}

#[test]
fn matrix_factorisation_for_ratings_trained_by_adam() {
    let ratings = vec![
        (0, 0, 4.0),
        (0, 2, 1.0),
        (1, 0, 5.0),
        (1, 1, 2.0),
        (2, 1, 4.5),
        (2, 3, 3.0),
        (3, 0, 1.5),
        (3, 2, 4.0),
        (3, 3, 2.5),
        (4, 1, 3.5),
    ];
    let mut m = Factorisation {
        u: matrix(5, 2, 1.7) * 0.3,
        v: matrix(4, 2, 2.9) * 0.3,
        bu: Array1::zeros(5),
        bv: Array1::zeros(4),
        mu: 3.0,
    };
    let lam = 0.01;
    let (v, g) = m.loss_grad(&ratings, lam);
    close("value", v, m.loss(&ratings, lam), TOL);
    // e = prediction − r over N: ∂u_i += 2e v_j/N, ∂v_j += 2e u_i/N, ∂bu_i, ∂bv_j, ∂μ += 2e/N;
    // plus 2λU and 2λV
    let mut want = Factorisation {
        u: &m.u * (2.0 * lam),
        v: &m.v * (2.0 * lam),
        bu: Array1::zeros(5),
        bv: Array1::zeros(4),
        mu: 0.0,
    };
    for &(i, j, r) in &ratings {
        let e = 2.0 * (m.predict(i, j) - r) / 10.0;
        let (ui, vj) = (m.u.row(i).to_owned(), m.v.row(j).to_owned());
        let mut wu = want.u.row_mut(i);
        wu += &(&vj * e);
        let mut wv = want.v.row_mut(j);
        wv += &(&ui * e);
        want.bu[i] += e;
        want.bv[j] += e;
        want.mu += e;
    }
    same("u", &g.u, &want.u, 1e-12);
    same("v", &g.v, &want.v, 1e-12);
    same("bu", &g.bu, &want.bu, 1e-12);
    same("bv", &g.bv, &want.bv, 1e-12);
    close("μ", g.mu, want.mu, TOL);
    fd_model(
        "factorisation",
        |q: &Factorisation| q.loss(&ratings, lam),
        &m,
        &g,
    );
    let start = v;
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..300 {
        let (_, g) = m.loss_grad(&ratings, lam);
        adam.step(&mut m, &g);
    }
    let end = m.loss(&ratings, lam);
    assert!(
        end < 0.1 * start,
        "Adam did not fit the ratings: {start} → {end}"
    );
}

// ---------------------------------------------------------------------------------------------
// ListNet over queries held as a slice of feature matrices zipped with their relevances.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Scorer {
    w: Array1<f64>,
}

#[differentiate(wrt(self))]
impl Scorer {
    fn listnet(&self, queries: &[Array2<f64>], rels: &[Array1<f64>]) -> f64 {
        let mut total = 0.0;
        for (x, rel) in queries.iter().zip(rels) {
            let s = x.dot(&self.w);
            let target = rel.mapv(f64::exp);
            let target = &target / target.sum();
            let lse = s.mapv(f64::exp).sum().ln();
            total -= (&target * &(s - lse)).sum();
        }
        total
    }
}

#[test]
fn listnet_over_a_slice_of_query_matrices() {
    let queries = vec![matrix(4, 3, 1.0), matrix(3, 3, 2.0), matrix(5, 3, 3.0)];
    let rels = vec![
        Array1::from(vec![2.0, 0.0, 1.0, 0.0]),
        Array1::from(vec![0.0, 1.0, 3.0]),
        Array1::from(vec![1.0, 1.0, 0.0, 2.0, 0.0]),
    ];
    let p = Scorer { w: vector(3, 4.0) };
    let (v, g) = p.listnet_grad(&queries, &rels);
    close("value", v, p.listnet(&queries, &rels), TOL);
    // per query: ds = softmax(s) − softmax(rel), dw = Xᵀ ds
    let mut want = Array1::<f64>::zeros(3);
    for (x, rel) in queries.iter().zip(&rels) {
        let s = x.dot(&p.w).insert_axis(Axis(0));
        let t = rel.clone().insert_axis(Axis(0));
        let ds = softmax_rows(&s) - softmax_rows(&t);
        want = want + x.t().dot(&ds.row(0));
    }
    same("w", &g.w, &want, 1e-12);
    fd_model("listnet", |q: &Scorer| q.listnet(&queries, &rels), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A physics-informed loss: u'' + u = 0 with u(0) = 0, u'(0) = 1, for a one-hidden-layer
// network whose derivatives in x are written out by hand in its methods.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Pinn {
    a: Array1<f64>,
    w: Array1<f64>,
    b: Array1<f64>,
}

#[differentiate]
impl Pinn {
    #[differentiate]
    fn u(&self, x: f64) -> f64 {
        let t = (&self.w * x + &self.b).mapv(f64::tanh);
        self.a.dot(&t)
    }

    #[differentiate]
    fn du(&self, x: f64) -> f64 {
        let t = (&self.w * x + &self.b).mapv(f64::tanh);
        (&self.a * &self.w * &t.mapv(|t| 1.0 - t * t)).sum()
    }

    #[differentiate]
    fn d2u(&self, x: f64) -> f64 {
        let t = (&self.w * x + &self.b).mapv(f64::tanh);
        (&self.a * &self.w * &self.w * &t.mapv(|t| -2.0 * t * (1.0 - t * t))).sum()
    }

    #[differentiate(wrt(self))]
    fn loss(&self, xs: &[f64]) -> f64 {
        let mut r2 = 0.0;
        for &x in xs {
            let r = self.d2u(x) + self.u(x);
            r2 += r * r;
        }
        let bc0 = self.u(0.0);
        let bc1 = self.du(0.0) - 1.0;
        r2 / xs.len() as f64 + bc0 * bc0 + bc1 * bc1
    }
}

#[test]
fn physics_informed_residual_of_an_oscillator() {
    let p = Pinn {
        a: vector(4, 1.1),
        w: vector(4, 2.2) + 0.5,
        b: vector(4, 3.3) * 0.5,
    };
    let xs = [0.0, 0.4, 0.8, 1.2, 1.6, 2.0];
    let (v, g) = p.loss_grad(&xs);
    close("value", v, p.loss(&xs), TOL);
    // with t = tanh(wx + b), t' = 1 − t², t'' = −2t t', t''' = t'(6t² − 2):
    // r = Σ a(t + w²t''): ∂a = t + w²t'', ∂b = a(t' + w²t'''), ∂w = a(x t' + 2w t'' + w²x t''');
    // u: ∂a = t, ∂b = a t', ∂w = a x t'; u' = Σ a w t': ∂a = w t', ∂b = a w t'', ∂w = a t' + a w x t''
    let parts = |x: f64| {
        let t = (&p.w * x + &p.b).mapv(f64::tanh);
        let t1 = t.mapv(|t| 1.0 - t * t);
        let t2 = -2.0 * &t * &t1;
        let t3 = &t1 * &t.mapv(|t| 6.0 * t * t - 2.0);
        (t, t1, t2, t3)
    };
    let mut want = Pinn {
        a: Array1::zeros(4),
        w: Array1::zeros(4),
        b: Array1::zeros(4),
    };
    let w2 = &p.w * &p.w;
    for &x in &xs {
        let (t, t1, t2, t3) = parts(x);
        let r = p.d2u(x) + p.u(x);
        let c = 2.0 * r / xs.len() as f64;
        want.a = &want.a + &((&t + &(&w2 * &t2)) * c);
        want.b = &want.b + &(&p.a * &(&t1 + &(&w2 * &t3)) * c);
        want.w = &want.w + &(&p.a * &(&t1 * x + &(&p.w * &t2 * 2.0) + &(&w2 * &t3 * x)) * c);
    }
    let (t, t1, t2, _) = parts(0.0);
    let (c0, c1) = (2.0 * p.u(0.0), 2.0 * (p.du(0.0) - 1.0));
    want.a = &want.a + &(&t * c0) + &(&p.w * &t1 * c1);
    want.b = &want.b + &(&p.a * &t1 * c0) + &(&p.a * &p.w * &t2 * c1);
    want.w = &want.w + &(&p.a * &t1 * c1);
    same("a", &g.a, &want.a, 1e-12);
    same("w", &g.w, &want.w, 1e-12);
    same("b", &g.b, &want.b, 1e-12);
    fd_model("pinn", |q: &Pinn| q.loss(&xs), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// An `f32` logistic model over an `Array2<f32>`, trained by `Adam<f32>`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Logit32 {
    w: Array1<f32>,
    b: f32,
}

#[differentiate(wrt(self))]
impl Logit32 {
    fn bce(&self, x: &Array2<f32>, y: &Array1<f32>) -> f32 {
        let z = x.dot(&self.w) + self.b;
        let p = z.mapv(|v| 1.0 / (1.0 + (-v).exp()));
        let l = y * &p.mapv(f32::ln) + (1.0 - y) * &p.mapv(|q| (1.0 - q).ln());
        -l.mean().unwrap()
    }
}

#[test]
fn f32_logistic_model_trained_by_adam() {
    let x = matrix(10, 2, 0.45).mapv(|v| v as f32);
    let y = x.map_axis(
        Axis(1),
        |r| if r[0] - 0.5 * r[1] > 0.0 { 1.0f32 } else { 0.0 },
    );
    let mut m = Logit32 {
        w: Array1::from(vec![-0.3f32, 0.2]),
        b: 0.1,
    };
    let (v, g) = m.bce_grad(&x, &y);
    assert_eq!(v, m.bce(&x, &y));
    // dz = (σ(z) − y)/n: dw = Xᵀ dz, db = Σ dz (computed in f64 from the f32 data)
    let (x64, y64) = (x.mapv(|v| v as f64), y.mapv(|v| v as f64));
    let z = x64.dot(&m.w.mapv(|v| v as f64)) + m.b as f64;
    let dz = (z.mapv(sigmoid) - &y64) / 10.0;
    let dw = x64.t().dot(&dz);
    for k in 0..2 {
        close(&format!("w[{k}]"), g.w[k] as f64, dw[k], 1e-5);
    }
    close("b", g.b as f64, dz.sum(), 1e-5);
    let r = gradcheck(|q: &Logit32| q.bce(&x, &y), &m, &g);
    assert!(r.passed(), "f32 logistic: {r}");
    let start = v;
    let mut adam: Adam<f32> = Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    });
    for _ in 0..200 {
        let (_, g) = m.bce_grad(&x, &y);
        adam.step(&mut m, &g);
    }
    let end = m.bce(&x, &y);
    assert!(end < 0.5 * start, "f32 Adam did not fit: {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// A per-output weighted MSE over `indexed_iter()` of a forward pass's result.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Linear {
    w: Array2<f64>,
    b: Array1<f64>,
}

impl Linear {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.w) + &self.b
    }

    #[differentiate(wrt(self))]
    fn weighted_mse(&self, x: &Array2<f64>, y: &Array2<f64>, col_w: &[f64]) -> f64 {
        let pred: Array2<f64> = self.forward(x);
        let mut s = 0.0;
        for ((i, j), &p) in pred.indexed_iter() {
            s += col_w[j] * (p - y[[i, j]]).powi(2);
        }
        s / pred.len() as f64
    }

    /// Knowledge distillation at temperature `t`: T²·KL(teacher ‖ student), the student's log
    /// softmax by broadcasting its log-sum-exp back over the rows.
    #[differentiate(wrt(self))]
    fn distill(&self, x: &Array2<f64>, teacher: &Array2<f64>, t: f64) -> f64 {
        let s = self.forward(x) / t;
        let lse = s.mapv(f64::exp).sum_axis(Axis(1)).mapv(f64::ln);
        let log_ps = &s - &lse.insert_axis(Axis(1));
        let te = (teacher / t).mapv(f64::exp);
        let pt = &te / &te.sum_axis(Axis(1)).insert_axis(Axis(1));
        (&pt * &(pt.mapv(f64::ln) - log_ps)).sum() * t * t / x.nrows() as f64
    }
}

#[test]
fn weighted_mse_over_indexed_iter() {
    let x = matrix(6, 3, 1.9);
    let y = matrix(6, 2, 2.8);
    let col_w = [0.3, 1.7];
    let p = Linear {
        w: matrix(3, 2, 3.7),
        b: vector(2, 4.6),
    };
    let (v, g) = p.weighted_mse_grad(&x, &y, &col_w);
    close("value", v, p.weighted_mse(&x, &y, &col_w), TOL);
    // dpred_ij = 2 c_j (p_ij − y_ij)/N; dW = xᵀ dpred, db = Σ_rows dpred
    let mut dp = p.forward(&x) - &y;
    for mut r in dp.rows_mut() {
        r[0] *= 2.0 * col_w[0] / 12.0;
        r[1] *= 2.0 * col_w[1] / 12.0;
    }
    same("w", &g.w, &x.t().dot(&dp), 1e-12);
    same("b", &g.b, &dp.sum_axis(Axis(0)), 1e-12);
    fd_model(
        "weighted mse",
        |q: &Linear| q.weighted_mse(&x, &y, &col_w),
        &p,
        &g,
    );
}

#[test]
fn distillation_at_a_temperature() {
    let x = matrix(5, 3, 5.5);
    let teacher = matrix(5, 4, 6.6) * 3.0;
    let p = Linear {
        w: matrix(3, 4, 7.7),
        b: vector(4, 8.8),
    };
    let t = 2.5;
    let (v, g) = p.distill_grad(&x, &teacher, t);
    close("value", v, p.distill(&x, &teacher, t), TOL);
    // d/dlogits = T·(softmax(s/T) − softmax(teacher/T))/n
    let dl = (softmax_rows(&(p.forward(&x) / t)) - softmax_rows(&(&teacher / t))) * (t / 5.0);
    same("w", &g.w, &x.t().dot(&dl), 1e-12);
    same("b", &g.b, &dl.sum_axis(Axis(0)), 1e-12);
    fd_model("distill", |q: &Linear| q.distill(&x, &teacher, t), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A minimal gated unit stepped over `outer_iter().enumerate()`, a loss at every step.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Mgu {
    wf: Array2<f64>,
    uf: Array2<f64>,
    bf: Array1<f64>,
    wh: Array2<f64>,
    uh: Array2<f64>,
    bh: Array1<f64>,
    v: Array1<f64>,
}

impl Mgu {
    #[differentiate]
    fn step(&self, x: ArrayView1<'_, f64>, h: &Array1<f64>) -> Array1<f64> {
        let f = (x.dot(&self.wf) + h.dot(&self.uf) + &self.bf).mapv(|z| 1.0 / (1.0 + (-z).exp()));
        let cand = (x.dot(&self.wh) + (&f * h).dot(&self.uh) + &self.bh).mapv(f64::tanh);
        (1.0 - &f) * h + &f * &cand
    }

    #[differentiate(wrt(self))]
    fn loss(&self, xs: &Array2<f64>, ys: &[f64]) -> f64 {
        let mut h = Array1::zeros(self.bf.len());
        let mut total = 0.0;
        for (t, x) in xs.outer_iter().enumerate() {
            h = self.step(x, &h);
            let e = h.dot(&self.v) - ys[t];
            total += e * e;
        }
        total
    }
}

/// The MGU's backward pass through time, as derived beside the test.
fn mgu_backward(p: &Mgu, xs: &Array2<f64>, ys: &[f64]) -> Mgu {
    let n = p.bf.len();
    let mut hs = vec![Array1::<f64>::zeros(n)];
    let mut fs = Vec::new();
    let mut cs = Vec::new();
    for t in 0..xs.nrows() {
        let (x, h) = (xs.row(t), &hs[t]);
        let f = (x.dot(&p.wf) + h.dot(&p.uf) + &p.bf).mapv(sigmoid);
        let c = (x.dot(&p.wh) + (&f * h).dot(&p.uh) + &p.bh).mapv(f64::tanh);
        let next = (1.0 - &f) * h + &f * &c;
        fs.push(f);
        cs.push(c);
        hs.push(next);
    }
    let z2 = |a: &Array2<f64>| Array2::<f64>::zeros(a.raw_dim());
    let mut g = Mgu {
        wf: z2(&p.wf),
        uf: z2(&p.uf),
        bf: Array1::zeros(n),
        wh: z2(&p.wh),
        uh: z2(&p.uh),
        bh: Array1::zeros(n),
        v: Array1::zeros(n),
    };
    let mut dh_next = Array1::<f64>::zeros(n);
    for t in (0..xs.nrows()).rev() {
        let e = hs[t + 1].dot(&p.v) - ys[t];
        g.v = &g.v + &(&hs[t + 1] * (2.0 * e));
        let dh_out = &dh_next + &(&p.v * (2.0 * e));
        let (x, h, f, c) = (xs.row(t).to_owned(), &hs[t], &fs[t], &cs[t]);
        let mut df = &dh_out * &(c - h);
        let dc = &dh_out * f;
        let mut dh = &dh_out * &(1.0 - f);
        let dzc = &dc * &c.mapv(|v| 1.0 - v * v);
        g.wh = &g.wh + &outer(&x, &dzc);
        g.uh = &g.uh + &outer(&(f * h), &dzc);
        g.bh = &g.bh + &dzc;
        let dfh = p.uh.dot(&dzc);
        df = &df + &(&dfh * h);
        dh = &dh + &(&dfh * f);
        let dzf = &df * &f.mapv(|v| v * (1.0 - v));
        g.wf = &g.wf + &outer(&x, &dzf);
        g.uf = &g.uf + &outer(h, &dzf);
        g.bf = &g.bf + &dzf;
        dh = &dh + &p.uf.dot(&dzf);
        dh_next = dh;
    }
    g
}

#[test]
fn minimal_gated_unit_over_outer_iter_enumerate() {
    // per step with h' = (1 − f)h + f c: df = dh'(c − h), dc = dh' f, dh = dh'(1 − f);
    // dz_c = dc(1 − c²) into Wh (x), Uh (f⊙h), bh, and back through f⊙h; dz_f = df f(1 − f)
    // into Wf (x), Uf (h), bf, dh += Uf dz_f; each step's loss adds 2e·v to dh' and 2e·h' to dv
    let xs = matrix(5, 2, 0.33);
    let ys = [0.2, -0.1, 0.4, 0.0, 0.3];
    let p = Mgu {
        wf: matrix(2, 3, 1.01),
        uf: matrix(3, 3, 2.02),
        bf: vector(3, 3.03),
        wh: matrix(2, 3, 4.04),
        uh: matrix(3, 3, 5.05),
        bh: vector(3, 6.06) * 0.2,
        v: vector(3, 7.07),
    };
    let (v, g) = p.loss_grad(&xs, &ys);
    close("value", v, p.loss(&xs, &ys), TOL);
    let want = mgu_backward(&p, &xs, &ys);
    same("wf", &g.wf, &want.wf, 1e-12);
    same("uf", &g.uf, &want.uf, 1e-12);
    same("bf", &g.bf, &want.bf, 1e-12);
    same("wh", &g.wh, &want.wh, 1e-12);
    same("uh", &g.uh, &want.uh, 1e-12);
    same("bh", &g.bh, &want.bh, 1e-12);
    same("v", &g.v, &want.v, 1e-12);
    fd_model("mgu", |q: &Mgu| q.loss(&xs, &ys), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// Skip-gram with negative sampling: input and output embeddings read by row.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct SkipGram {
    inp: Array2<f64>,
    out: Array2<f64>,
}

#[differentiate(wrt(self))]
impl SkipGram {
    fn loss(&self, pairs: &[(usize, usize)], negs: &[Vec<usize>]) -> f64 {
        let mut total = 0.0;
        for (k, &(c, o)) in pairs.iter().enumerate() {
            let u = self.inp.row(c);
            let pos = u.dot(&self.out.row(o));
            total += (1.0 + (-pos).exp()).ln();
            for &n in &negs[k] {
                let neg = u.dot(&self.out.row(n));
                total += (1.0 + neg.exp()).ln();
            }
        }
        total
    }
}

#[test]
fn skip_gram_with_negative_sampling() {
    let m = SkipGram {
        inp: matrix(6, 3, 0.61),
        out: matrix(6, 3, 1.62),
    };
    let pairs = [(0, 1), (2, 3), (4, 5), (1, 0)];
    let negs = vec![vec![3, 4], vec![0], vec![1, 2, 3], vec![5]];
    let (v, g) = m.loss_grad(&pairs, &negs);
    close("value", v, m.loss(&pairs, &negs), TOL);
    // ∂pos = −σ(−pos), ∂neg = σ(neg); ∂inp_c += ∂·out_o, ∂out_o += ∂·inp_c for each term
    let mut want = SkipGram {
        inp: Array2::zeros((6, 3)),
        out: Array2::zeros((6, 3)),
    };
    for (k, &(c, o)) in pairs.iter().enumerate() {
        let u = m.inp.row(c).to_owned();
        let mut terms = vec![(o, -sigmoid(-u.dot(&m.out.row(o))))];
        for &n in &negs[k] {
            terms.push((n, sigmoid(u.dot(&m.out.row(n)))));
        }
        for (j, d) in terms {
            let oj = m.out.row(j).to_owned();
            let mut a = want.inp.row_mut(c);
            a += &(&oj * d);
            let mut b = want.out.row_mut(j);
            b += &(&u * d);
        }
    }
    same("inp", &g.inp, &want.inp, 1e-12);
    same("out", &g.out, &want.out, 1e-12);
    fd_model("skip-gram", |q: &SkipGram| q.loss(&pairs, &negs), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A policy-gradient loss with an entropy bonus over `rows().into_iter().enumerate()`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Policy {
    w: Array2<f64>,
}

#[differentiate(wrt(self))]
impl Policy {
    fn pg_loss(&self, states: &Array2<f64>, actions: &[usize], adv: &[f64], beta: f64) -> f64 {
        let logits = states.dot(&self.w);
        let mut total = 0.0;
        for (i, row) in logits.rows().into_iter().enumerate() {
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e = row.mapv(|z| (z - m).exp());
            let z = e.sum();
            let logp = row.mapv(|v| v - m - z.ln());
            let p = e / z;
            let entropy = -(&p * &logp).sum();
            total += -adv[i] * logp[actions[i]] - beta * entropy;
        }
        total / actions.len() as f64
    }
}

#[test]
fn policy_gradient_with_entropy_bonus() {
    let states = matrix(6, 3, 2.35);
    let actions = [0, 2, 1, 1, 0, 2];
    let adv = [1.0, -0.5, 0.3, 2.0, -1.2, 0.7];
    let p = Policy {
        w: matrix(3, 3, 3.45),
    };
    let beta = 0.05;
    let (v, g) = p.pg_loss_grad(&states, &actions, &adv, beta);
    close("value", v, p.pg_loss(&states, &actions, &adv, beta), TOL);
    // per row with H = −Σ p log p: dz_j = [−A(δ_ja − p_j) + β p_j(log p_j + H)]/n; dW = Sᵀ dz
    let pr = softmax_rows(&states.dot(&p.w));
    let mut dz = Array2::<f64>::zeros((6, 3));
    for i in 0..6 {
        let h: f64 = -(0..3).map(|j| pr[[i, j]] * pr[[i, j]].ln()).sum::<f64>();
        for j in 0..3 {
            let delta = if j == actions[i] { 1.0 } else { 0.0 };
            dz[[i, j]] =
                (-adv[i] * (delta - pr[[i, j]]) + beta * pr[[i, j]] * (pr[[i, j]].ln() + h)) / 6.0;
        }
    }
    same("w", &g.w, &states.t().dot(&dz), 1e-12);
    fd_model(
        "policy",
        |q: &Policy| q.pg_loss(&states, &actions, &adv, beta),
        &p,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// A mixture of experts: a softmax gate weighting dense experts by `column(e).insert_axis(..)`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Moe {
    gate: Array2<f64>,
    experts: Vec<Dense>,
}

impl Moe {
    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        let g = x.dot(&self.gate).mapv(f64::exp);
        let g = &g / &g.sum_axis(Axis(1)).insert_axis(Axis(1));
        let mut out: Array2<f64> = Array2::zeros(y.raw_dim());
        for (e, ex) in self.experts.iter().enumerate() {
            let ge = g.column(e).insert_axis(Axis(1));
            out = out + &(ex.forward(x) * &ge);
        }
        let d = out - y;
        0.5 * (&d * &d).sum()
    }
}

#[test]
fn mixture_of_experts_with_softmax_gate() {
    let x = matrix(6, 3, 4.15);
    let y = matrix(6, 2, 5.25);
    let m = Moe {
        gate: matrix(3, 2, 6.35),
        experts: vec![
            Dense {
                w: matrix(3, 2, 7.45),
                b: vector(2, 8.55),
            },
            Dense {
                w: matrix(3, 2, 9.65),
                b: vector(2, 10.75),
            },
        ],
    };
    let (v, g) = m.loss_grad(&x, &y);
    close("value", v, m.loss(&x, &y), TOL);
    // out = Σ_e g_e ⊙ h_e; d = out − y; ∂h_e = d ⊙ g_e (row-wise), ∂g_e = Σ_cols d ⊙ h_e;
    // gate logits: dz = g ⊙ (∂g − Σ_e ∂g_e g_e); expert: dz_e = ∂h_e ⊙ (1 − h_e²)
    let gt = softmax_rows(&x.dot(&m.gate));
    let hs: Vec<Array2<f64>> = m.experts.iter().map(|e| e.forward(&x)).collect();
    let mut out = Array2::<f64>::zeros((6, 2));
    for e in 0..2 {
        out = out + &hs[e] * &gt.column(e).insert_axis(Axis(1));
    }
    let d = out - &y;
    let mut dg = Array2::<f64>::zeros((6, 2));
    for e in 0..2 {
        dg.column_mut(e).assign(&(&d * &hs[e]).sum_axis(Axis(1)));
    }
    let rs = (&dg * &gt).sum_axis(Axis(1)).insert_axis(Axis(1));
    let dz = &gt * &(&dg - &rs);
    same("gate", &g.gate, &x.t().dot(&dz), 1e-12);
    for e in 0..2 {
        let dh = &d * &gt.column(e).insert_axis(Axis(1));
        let dze = &dh * &hs[e].mapv(|v| 1.0 - v * v);
        same("expert w", &g.experts[e].w, &x.t().dot(&dze), 1e-12);
        same("expert b", &g.experts[e].b, &dze.sum_axis(Axis(0)), 1e-12);
    }
    fd_model("moe", |q: &Moe| q.loss(&x, &y), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// Ordinal regression with cut points: branches on the class read the neighbouring cuts.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Ordinal {
    w: Array1<f64>,
    cuts: Array1<f64>,
}

#[differentiate(wrt(self))]
impl Ordinal {
    fn nll(&self, x: &Array2<f64>, y: &[usize]) -> f64 {
        let eta = x.dot(&self.w);
        let k = self.cuts.len();
        let mut total = 0.0;
        for (i, &yi) in y.iter().enumerate() {
            let upper = if yi < k {
                1.0 / (1.0 + (-(self.cuts[yi] - eta[i])).exp())
            } else {
                1.0
            };
            let lower = if yi > 0 {
                1.0 / (1.0 + (-(self.cuts[yi - 1] - eta[i])).exp())
            } else {
                0.0
            };
            total -= (upper - lower).ln();
        }
        total
    }
}

#[test]
fn ordinal_regression_with_cut_points() {
    let x = matrix(8, 2, 11.5);
    let y = [0, 1, 2, 3, 1, 2, 0, 3];
    let m = Ordinal {
        w: vector(2, 12.5),
        cuts: Array1::from(vec![-1.0, 0.1, 1.2]),
    };
    let (v, g) = m.nll_grad(&x, &y);
    close("value", v, m.nll(&x, &y), TOL);
    // P = σ(c_y − η) − σ(c_{y−1} − η) with σ(+∞) = 1, σ(−∞) = 0, σ' = σ(1 − σ):
    // ∂η = (σ'_U − σ'_L)/P, ∂c_y = −σ'_U/P, ∂c_{y−1} = σ'_L/P
    let eta = x.dot(&m.w);
    let mut deta = Array1::<f64>::zeros(8);
    let mut dc = Array1::<f64>::zeros(3);
    for i in 0..8 {
        let yi = y[i];
        let (u, su) = if yi < 3 {
            let s = sigmoid(m.cuts[yi] - eta[i]);
            (s, s * (1.0 - s))
        } else {
            (1.0, 0.0)
        };
        let (l, sl) = if yi > 0 {
            let s = sigmoid(m.cuts[yi - 1] - eta[i]);
            (s, s * (1.0 - s))
        } else {
            (0.0, 0.0)
        };
        let p = u - l;
        deta[i] = (su - sl) / p;
        if yi < 3 {
            dc[yi] -= su / p;
        }
        if yi > 0 {
            dc[yi - 1] += sl / p;
        }
    }
    same("w", &g.w, &x.t().dot(&deta), 1e-12);
    same("cuts", &g.cuts, &dc, 1e-12);
    fd_model("ordinal", |q: &Ordinal| q.nll(&x, &y), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// Risky idioms, one small model each.
// ---------------------------------------------------------------------------------------------

/// A minibatch gathered by `select(Axis(0), &idx)` before the forward pass.
#[differentiate(wrt(p))]
fn minibatch_mse(p: &Linear, x: &Array2<f64>, y: &Array2<f64>, idx: &[usize]) -> f64 {
    let xb = x.select(Axis(0), idx);
    let yb = y.select(Axis(0), idx);
    let d = p.forward(&xb) - &yb;
    (&d * &d).sum() / idx.len() as f64
}

#[test]
fn minibatch_selected_by_rows() {
    let x = matrix(8, 3, 13.1);
    let y = matrix(8, 2, 14.2);
    let p = Linear {
        w: matrix(3, 2, 15.3),
        b: vector(2, 16.4),
    };
    let idx = [6, 1, 3, 1];
    let (v, g) = minibatch_mse_grad(&p, &x, &y, &idx);
    close("value", v, minibatch_mse(&p, &x, &y, &idx), TOL);
    // over the gathered rows (with repeats): dpred = 2(pred − y)/B, dW = X_bᵀ dpred
    let xb = x.select(Axis(0), &idx);
    let dp = (p.forward(&xb) - y.select(Axis(0), &idx)) * (2.0 / 4.0);
    same("w", &g.w, &xb.t().dot(&dp), 1e-12);
    same("b", &g.b, &dp.sum_axis(Axis(0)), 1e-12);
    fd_model(
        "minibatch",
        |q: &Linear| minibatch_mse(q, &x, &y, &idx),
        &p,
        &g,
    );
}

/// A hidden layer activated by `iter().map(..).collect::<Array1<f64>>()`, then a readout.
#[differentiate(wrt(w, v))]
fn collected_activation(w: &Array2<f64>, v: &Array1<f64>, x: &Array1<f64>) -> f64 {
    let z = x.dot(w);
    let h: Array1<f64> = z.iter().map(|&t| (1.0 + t.exp()).ln()).collect();
    h.dot(v)
}

#[test]
fn activation_collected_into_an_array() {
    let x = vector(3, 17.5);
    let w = matrix(3, 4, 18.6);
    let v = vector(4, 19.7);
    let (val, (gw, gv)) = collected_activation_grad(&w, &v, &x);
    close("value", val, collected_activation(&w, &v, &x), TOL);
    // h = softplus(xW): ∂v = h, ∂W = x ⊗ (v ⊙ σ(xW))
    let z = x.dot(&w);
    same("∂v", &gv, &z.mapv(|t| (1.0 + t.exp()).ln()), 1e-12);
    same("∂W", &gw, &outer(&x, &(&v * &z.mapv(sigmoid))), 1e-12);
    fd_array("∂W", |w| collected_activation(w, &v, &x), &w, &gw);
}

/// A tied-weight autoencoder: decode with the transpose of the encoder's weights.
#[derive(Clone, Debug, Differentiable)]
struct TiedAe {
    w: Array2<f64>,
    b_enc: Array1<f64>,
    b_dec: Array1<f64>,
}

#[differentiate(wrt(self))]
impl TiedAe {
    fn loss(&self, x: &Array2<f64>) -> f64 {
        let h = (x.dot(&self.w) + &self.b_enc).mapv(f64::tanh);
        let r = h.dot(&self.w.t()) + &self.b_dec;
        (&r - x).mapv(|d| d * d).sum() / x.nrows() as f64
    }
}

#[test]
fn tied_weight_autoencoder() {
    let x = matrix(6, 4, 20.8);
    let p = TiedAe {
        w: matrix(4, 2, 21.9),
        b_enc: vector(2, 22.1),
        b_dec: vector(4, 23.2),
    };
    let (v, g) = p.loss_grad(&x);
    close("value", v, p.loss(&x), TOL);
    // dr = 2(r − x)/n; dW = drᵀ h (decoder) + xᵀ dz (encoder), dz = (dr W) ⊙ (1 − h²)
    let h = (x.dot(&p.w) + &p.b_enc).mapv(f64::tanh);
    let dr = (h.dot(&p.w.t()) + &p.b_dec - &x) * (2.0 / 6.0);
    let dz = dr.dot(&p.w) * h.mapv(|v| 1.0 - v * v);
    same("w", &g.w, &(dr.t().dot(&h) + x.t().dot(&dz)), 1e-12);
    same("b_enc", &g.b_enc, &dz.sum_axis(Axis(0)), 1e-12);
    same("b_dec", &g.b_dec, &dr.sum_axis(Axis(0)), 1e-12);
    fd_model("tied", |q: &TiedAe| q.loss(&x), &p, &g);
}

/// Weight decay summed over the layers by `iter().map(..).sum()`, a decoder looped in
/// reverse with `iter().rev()`, and the last layer read by `last().unwrap()`.
#[derive(Clone, Debug, Differentiable)]
struct Stack {
    layers: Vec<Dense>,
}

impl Stack {
    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array2<f64>, t: &Array2<f64>, lam: f64) -> f64 {
        let mut h = x.clone();
        for l in self.layers.iter().rev() {
            h = l.forward(&h);
        }
        let last = self.layers.last().unwrap();
        let d = h - t;
        let decay: f64 = self.layers.iter().map(|l| (&l.w * &l.w).sum()).sum();
        (&d * &d).sum() + lam * decay + last.b.sum()
    }
}

#[test]
fn layers_in_reverse_with_decay_summed_over_them() {
    let x = matrix(5, 2, 24.3);
    let t = matrix(5, 3, 25.4) * 0.5;
    let s = Stack {
        layers: vec![
            Dense {
                w: matrix(4, 3, 26.5),
                b: vector(3, 27.6),
            },
            Dense {
                w: matrix(2, 4, 28.7),
                b: vector(4, 29.8),
            },
        ],
    };
    let lam = 0.03;
    let (v, g) = s.loss_grad(&x, &t, lam);
    close("value", v, s.loss(&x, &t, lam), TOL);
    // layers applied 1 then 0: h1 = tanh(xW₁ + b₁), y = tanh(h1 W₀ + b₀); dy = 2(y − t);
    // dz0 = dy(1 − y²), dW₀ = h1ᵀdz0 + 2λW₀, db₀ = Σ dz0; dz1 = (dz0 W₀ᵀ)(1 − h1²),
    // dW₁ = xᵀdz1 + 2λW₁, db₁ = Σ dz1 + 1 (the last layer's bias summed)
    let (l0, l1) = (&s.layers[0], &s.layers[1]);
    let h1 = l1.forward(&x);
    let y = l0.forward(&h1);
    let dz0 = (&y - &t) * 2.0 * y.mapv(|v| 1.0 - v * v);
    let dz1 = dz0.dot(&l0.w.t()) * h1.mapv(|v| 1.0 - v * v);
    same(
        "W₀",
        &g.layers[0].w,
        &(h1.t().dot(&dz0) + &l0.w * (2.0 * lam)),
        1e-12,
    );
    same("b₀", &g.layers[0].b, &dz0.sum_axis(Axis(0)), 1e-12);
    same(
        "W₁",
        &g.layers[1].w,
        &(x.t().dot(&dz1) + &l1.w * (2.0 * lam)),
        1e-12,
    );
    same("b₁", &g.layers[1].b, &(dz1.sum_axis(Axis(0)) + 1.0), 1e-12);
    fd_model("stack", |q: &Stack| q.loss(&x, &t, lam), &s, &g);
}

/// A method returning the three projections as a tuple, destructured by the caller; a causal
/// mask built by `from_shape_fn` and added to the scores.
#[derive(Clone, Debug, Differentiable)]
struct CausalHead {
    wq: Array2<f64>,
    wk: Array2<f64>,
    wv: Array2<f64>,
}

impl CausalHead {
    #[differentiate]
    fn qkv(&self, x: &Array2<f64>) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
        (x.dot(&self.wq), x.dot(&self.wk), x.dot(&self.wv))
    }

    #[differentiate(wrt(self))]
    fn probe(&self, x: &Array2<f64>, c: &Array2<f64>) -> f64 {
        let (q, k, v) = self.qkv(x);
        let n = x.nrows();
        let mask = Array2::from_shape_fn((n, n), |(i, j)| if j > i { -1e9 } else { 0.0 });
        let s = q.dot(&k.t()) / (q.ncols() as f64).sqrt() + &mask;
        let e = s.mapv(f64::exp);
        let a = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
        (a.dot(&v) * c).sum()
    }
}

#[test]
fn causal_head_with_tuple_projections_and_additive_mask() {
    let x = matrix(4, 3, 30.9) * 0.8;
    let c = matrix(4, 2, 31.1);
    let p = CausalHead {
        wq: matrix(3, 2, 32.2),
        wk: matrix(3, 2, 33.3),
        wv: matrix(3, 2, 34.4),
    };
    let (v, g) = p.probe_grad(&x, &c);
    close("value", v, p.probe(&x, &c), TOL);
    // the attention backward pass with A masked (the masked entries are 0 and stay so)
    let (q, k, vv) = (x.dot(&p.wq), x.dot(&p.wk), x.dot(&p.wv));
    let sd = 2f64.sqrt();
    let mut s = q.dot(&k.t()) / sd;
    for i in 0..4 {
        for j in (i + 1)..4 {
            s[[i, j]] = -1e9;
        }
    }
    let a = softmax_rows(&s);
    let da = c.dot(&vv.t());
    let rs = (&da * &a).sum_axis(Axis(1)).insert_axis(Axis(1));
    let ds = &a * &(&da - &rs) / sd;
    same("wq", &g.wq, &x.t().dot(&ds.dot(&k)), 1e-11);
    same("wk", &g.wk, &x.t().dot(&ds.t().dot(&q)), 1e-11);
    same("wv", &g.wv, &x.t().dot(&a.t().dot(&c)), 1e-11);
    fd_model("causal", |h: &CausalHead| h.probe(&x, &c), &p, &g);
}

/// Optional sample weights: `if let Some(w) = weights` over an `Option<&Array1<f64>>`.
#[differentiate(wrt(m))]
fn weighted_logloss(
    m: &LogReg,
    x: &Array2<f64>,
    y: &Array1<f64>,
    weights: Option<&Array1<f64>>,
) -> f64 {
    let p = (x.dot(&m.w) + m.b).mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let l =
        -(y * &p.mapv(|q| q.max(1e-12).ln()) + (1.0 - y) * &p.mapv(|q| (1.0 - q).max(1e-12).ln()));
    if let Some(w) = weights {
        (&l * w).sum() / w.sum()
    } else {
        l.mean().unwrap()
    }
}

#[test]
fn logloss_with_optional_sample_weights() {
    let x = matrix(6, 2, 35.5);
    let y = Array1::from(vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    let sw = Array1::from(vec![1.0, 2.0, 0.5, 1.0, 3.0, 1.5]);
    let m = LogReg {
        w: vector(2, 36.6),
        b: 0.3,
    };
    for weights in [None, Some(&sw)] {
        let (v, g) = weighted_logloss_grad(&m, &x, &y, weights);
        close("value", v, weighted_logloss(&m, &x, &y, weights), TOL);
        // dz = w_i(p − y)/Σw (w = 1 without weights)
        let ones = Array1::<f64>::ones(6);
        let w = weights.unwrap_or(&ones);
        let p = (x.dot(&m.w) + m.b).mapv(sigmoid);
        let dz = (&p - &y) * w / w.sum();
        same("w", &g.w, &x.t().dot(&dz), 1e-12);
        close("b", g.b, dz.sum(), TOL);
        fd_model(
            "weighted",
            |q: &LogReg| weighted_logloss(q, &x, &y, weights),
            &m,
            &g,
        );
    }
}

/// A layer constructed by `new` inside the loss and used at once (weights shared with a
/// parameter struct, a bias made from a scalar).
impl Dense {
    #[differentiate]
    fn new(w: Array2<f64>, b: Array1<f64>) -> Self {
        Dense { w, b }
    }
}

#[differentiate(wrt(w, shift))]
fn built_layer(w: &Array2<f64>, shift: f64, x: &Array2<f64>) -> f64 {
    let layer = Dense::new(w.clone(), Array1::from_elem(w.ncols(), shift));
    layer.forward(x).sum()
}

#[test]
fn layer_built_by_new_inside_the_loss() {
    let x = matrix(4, 3, 37.7);
    let w = matrix(3, 2, 38.8);
    let (v, (gw, gs)) = built_layer_grad(&w, 0.2, &x);
    close("value", v, built_layer(&w, 0.2, &x), TOL);
    // dz = 1 − tanh²(xW + s): dW = xᵀ dz, ds = Σ dz
    let dz = (x.dot(&w) + 0.2).mapv(|z| 1.0 - z.tanh().powi(2));
    same("∂W", &gw, &x.t().dot(&dz), 1e-12);
    close("∂shift", gs, dz.sum(), 1e-12);
    fd_array("∂W", |w| built_layer(w, 0.2, &x), &w, &gw);
    fd("∂shift", |s| built_layer(&w, s, &x), 0.2, gs);
}

/// Sparse features: `(index, value)` pairs per example read against a weight vector.
#[differentiate(wrt(w, b))]
fn sparse_logistic(w: &Array1<f64>, b: f64, rows: &[Vec<(usize, f64)>], y: &[f64]) -> f64 {
    let mut total = 0.0;
    for (row, &t) in rows.iter().zip(y) {
        let mut z = b;
        for &(j, v) in row {
            z += w[j] * v;
        }
        total += (1.0 + z.exp()).ln() - t * z;
    }
    total
}

#[test]
fn sparse_feature_logistic_regression() {
    let rows = vec![
        vec![(0, 1.0), (3, 0.5)],
        vec![(1, 2.0)],
        vec![(0, -1.0), (2, 1.5), (4, 0.3)],
        vec![(4, 1.0), (1, -0.5)],
    ];
    let y = [1.0, 0.0, 1.0, 0.0];
    let w = vector(5, 39.9);
    let (v, (gw, gb)) = sparse_logistic_grad(&w, 0.1, &rows, &y);
    close("value", v, sparse_logistic(&w, 0.1, &rows, &y), TOL);
    // dz = σ(z) − y; ∂w_j += dz·v for each (j, v), ∂b = Σ dz
    let mut ew = Array1::<f64>::zeros(5);
    let mut eb = 0.0;
    for (row, &t) in rows.iter().zip(&y) {
        let z = 0.1 + row.iter().map(|&(j, v)| w[j] * v).sum::<f64>();
        let dz = sigmoid(z) - t;
        for &(j, v) in row {
            ew[j] += dz * v;
        }
        eb += dz;
    }
    same("∂w", &gw, &ew, 1e-12);
    close("∂b", gb, eb, TOL);
    fd_array("∂w", |w| sparse_logistic(w, 0.1, &rows, &y), &w, &gw);
}

/// `scaled_add` and `+=` on a local array: momentum-like accumulation of rows.
#[differentiate(wrt(w))]
fn decayed_sum(w: &Array1<f64>, xs: &Array2<f64>, decay: f64) -> f64 {
    let mut acc = Array1::zeros(xs.ncols());
    for x in xs.outer_iter() {
        acc *= decay;
        acc.scaled_add(w.dot(&x), &x);
    }
    acc.mapv(|a| a * a).sum()
}

#[test]
fn decayed_accumulation_with_scaled_add() {
    let xs = matrix(4, 3, 40.1);
    let w = vector(3, 41.2);
    let decay = 0.8;
    let (v, g) = decayed_sum_grad(&w, &xs, decay);
    close("value", v, decayed_sum(&w, &xs, decay), TOL);
    // acc = Σ_t d^{T−1−t} (w·x_t) x_t; f = |acc|²: ∂w = Σ_t d^{T−1−t} (2 acc·x_t) x_t
    let mut acc = Array1::<f64>::zeros(3);
    for t in 0..4 {
        acc = acc * decay + &xs.row(t) * w.dot(&xs.row(t));
    }
    let mut want = Array1::<f64>::zeros(3);
    for t in 0..4 {
        let d = decay.powi(3 - t as i32);
        want = want + &xs.row(t) * (d * 2.0 * acc.dot(&xs.row(t)));
    }
    same("∂w", &g, &want, 1e-12);
    fd_array("∂w", |w| decayed_sum(w, &xs, decay), &w, &g);
}

/// A struct generic over the float type, its method called from an `f64` and an `f32` loss.
#[derive(Clone, Debug, Differentiable)]
struct Affine<F> {
    w: Array2<F>,
    b: Array1<F>,
}

impl<F: ndarray::NdFloat> Affine<F> {
    #[differentiate]
    fn energy(&self, x: &Array2<F>) -> F
    where
        F: ndarray::NdFloat,
    {
        let z = x.dot(&self.w) + &self.b;
        z.mapv(|v| v * v).sum()
    }
}

#[test]
fn generic_affine_energy_in_f64_and_f32() {
    let x = matrix(3, 2, 42.3);
    let p = Affine {
        w: matrix(2, 2, 43.4),
        b: vector(2, 44.5),
    };
    let (v, (g, gx)) = p.energy_grad(&x);
    close("value", v, p.energy(&x), TOL);
    // z = xW + b: ∂W = 2xᵀz, ∂b = 2Σ z, ∂x = 2zWᵀ
    let z = x.dot(&p.w) + &p.b;
    same("∂W", &g.w, &(x.t().dot(&z) * 2.0), 1e-12);
    same("∂b", &g.b, &(z.sum_axis(Axis(0)) * 2.0), 1e-12);
    same("∂x", &gx, &(z.dot(&p.w.t()) * 2.0), 1e-12);
    fd_model("affine", |q: &Affine<f64>| q.energy(&x), &p, &g);
    let p32 = Affine {
        w: p.w.mapv(|v| v as f32),
        b: p.b.mapv(|v| v as f32),
    };
    let x32 = x.mapv(|v| v as f32);
    let (v32, (g32, _)) = p32.energy_grad(&x32);
    close("f32 value", v32 as f64, v, 1e-5);
    for (a, b) in g32.w.iter().zip(g.w.iter()) {
        close("f32 ∂W", *a as f64, *b, 1e-4);
    }
}

/// A matrix filled from a differentiated scalar by `Array2::from_elem`, a prior mean in a
/// Gaussian-process-style residual.
#[differentiate(wrt(m0, w))]
fn prior_mean_residual(m0: f64, w: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let prior = Array2::from_elem(y.raw_dim(), m0);
    let r = y - &(prior + w);
    (&r * &r).sum()
}

#[test]
fn matrix_filled_from_a_differentiated_scalar() {
    let y = matrix(3, 4, 45.6);
    let w = matrix(3, 4, 46.7) * 0.5;
    let (v, (gm, gw)) = prior_mean_residual_grad(0.3, &w, &y);
    close("value", v, prior_mean_residual(0.3, &w, &y), TOL);
    // r = y − m0 − w: ∂m0 = −2Σr, ∂w = −2r
    let r = &y - &w - 0.3;
    close("∂m0", gm, -2.0 * r.sum(), 1e-12);
    same("∂w", &gw, &(&r * -2.0), 1e-12);
    fd("∂m0", |m| prior_mean_residual(m, &w, &y), 0.3, gm);
}

/// An optional scale passed as `Option<&f64>`, matched: ∂l = s² without it 1.
#[differentiate(wrt(l))]
fn optionally_scaled(l: &Array1<f64>, scale: Option<&f64>) -> f64 {
    match scale {
        Some(s) => l.sum() * s * s,
        None => l.sum(),
    }
}

#[test]
fn optional_scale_by_reference() {
    let l = vector(3, 47.8);
    let (v, g) = optionally_scaled_grad(&l, Some(&1.5));
    close("value", v, optionally_scaled(&l, Some(&1.5)), TOL);
    same("∂l", &g, &Array1::from_elem(3, 2.25), 1e-12);
    let (_, g) = optionally_scaled_grad(&l, None);
    same("∂l", &g, &Array1::from_elem(3, 1.0), 1e-12);
    fd_array(
        "∂l",
        |l| optionally_scaled(l, Some(&1.5)),
        &l,
        &g.mapv(|_| 2.25),
    );
}

// ---------------------------------------------------------------------------------------------
// A tiny language model: embeddings gathered by row, an RNN whose states are kept in a `Vec`,
// logits through the tied embedding matrix `h.dot(&self.emb.t())`, `nn::log_softmax`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct TinyLm {
    emb: Array2<f64>,
    wh: Array2<f64>,
}

impl TinyLm {
    #[differentiate(wrt(self))]
    fn nll(&self, toks: &[usize]) -> f64 {
        let d = self.emb.ncols();
        let mut h: Array1<f64> = Array1::zeros(d);
        let mut states = Vec::new();
        for &t in &toks[..toks.len() - 1] {
            h = (&self.emb.row(t) + &h.dot(&self.wh)).mapv(f64::tanh);
            states.push(h.clone());
        }
        let mut total = 0.0;
        for (k, s) in states.iter().enumerate() {
            let logits = s.dot(&self.emb.t());
            let lp = autodiff::nn::log_softmax(&logits);
            total -= lp[toks[k + 1]];
        }
        total / states.len() as f64
    }
}

#[test]
fn tiny_language_model_with_tied_embeddings() {
    let m = TinyLm {
        emb: matrix(5, 3, 48.9),
        wh: matrix(3, 3, 49.1) * 0.7,
    };
    let toks = [0, 3, 1, 4, 2, 2];
    let (v, g) = m.nll_grad(&toks);
    close("value", v, m.nll(&toks), TOL);
    // per step k (n steps): dlogits = (softmax − e_{y})/n; ∂emb += dlogitsᵀ ⊗ h_k (the tied
    // readout), dh_k += emb dlogits; backwards through time: dz = dh ⊙ (1 − h²),
    // ∂emb[t] += dz, ∂Wh += h_{k−1} ⊗ dz, dh_{k−1} += Wh dz
    let n = toks.len() - 1;
    let mut hs = vec![Array1::<f64>::zeros(3)];
    for k in 0..n {
        let h = (&m.emb.row(toks[k]) + &hs[k].dot(&m.wh)).mapv(f64::tanh);
        hs.push(h);
    }
    let mut gemb = Array2::<f64>::zeros((5, 3));
    let mut gwh = Array2::<f64>::zeros((3, 3));
    let mut dhs: Vec<Array1<f64>> = vec![Array1::zeros(3); n + 1];
    for k in 0..n {
        let h = &hs[k + 1];
        let logits = h.dot(&m.emb.t()).insert_axis(Axis(0));
        let mut dl = softmax_rows(&logits).row(0).to_owned();
        dl[toks[k + 1]] -= 1.0;
        dl /= n as f64;
        gemb = gemb + outer(&dl, h);
        dhs[k + 1] = &dhs[k + 1] + &m.emb.t().dot(&dl);
    }
    let mut carry = Array1::<f64>::zeros(3);
    for k in (0..n).rev() {
        let dh = &dhs[k + 1] + &carry;
        let dz = &dh * &hs[k + 1].mapv(|v| 1.0 - v * v);
        let mut r = gemb.row_mut(toks[k]);
        r += &dz;
        gwh = gwh + outer(&hs[k], &dz);
        carry = m.wh.dot(&dz);
    }
    same("emb", &g.emb, &gemb, 1e-12);
    same("wh", &g.wh, &gwh, 1e-12);
    fd_model("tiny lm", |q: &TinyLm| q.nll(&toks), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// `hessian` on a model method whose parameter struct holds a `Vec` of layers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Ridge2 {
    layers: Vec<Dense>,
}

impl Dense {
    #[differentiate(hessian)]
    fn out(&self, x: &Array2<f64>) -> Array2<f64> {
        (x.dot(&self.w) + &self.b).mapv(f64::tanh)
    }
}

impl Ridge2 {
    #[differentiate(hessian, wrt(self))]
    fn loss(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.out(&h);
        }
        let r = h.sum_axis(Axis(1)) - y;
        r.dot(&r) + 0.1 * self.layers.iter().map(|l| (&l.w * &l.w).sum()).sum::<f64>()
    }
}

#[test]
fn hessian_vector_product_of_a_layered_model() {
    let x = matrix(5, 2, 50.2);
    let y = vector(5, 51.3);
    let m = Ridge2 {
        layers: vec![
            Dense {
                w: matrix(2, 3, 52.4),
                b: vector(3, 53.5),
            },
            Dense {
                w: matrix(3, 2, 54.6),
                b: vector(2, 55.7),
            },
        ],
    };
    let (v, g) = m.loss_grad(&x, &y);
    close("value", v, m.loss(&x, &y), TOL);
    // the tower's backward pass: dout = 2r (broadcast to both outputs), per layer backwards
    // dz = dh ⊙ (1 − h²), dW = h_inᵀ dz + 0.2W, db = Σ dz, dh_in = dz Wᵀ
    let h1 = m.layers[0].out(&x);
    let h2 = m.layers[1].out(&h1);
    let r = h2.sum_axis(Axis(1)) - &y;
    let dh2 = (r * 2.0).insert_axis(Axis(1)).dot(&Array2::ones((1, 2)));
    let dz2 = &dh2 * &h2.mapv(|v| 1.0 - v * v);
    let dz1 = dz2.dot(&m.layers[1].w.t()) * h1.mapv(|v| 1.0 - v * v);
    same(
        "W₂",
        &g.layers[1].w,
        &(h1.t().dot(&dz2) + &m.layers[1].w * 0.2),
        1e-12,
    );
    same("b₂", &g.layers[1].b, &dz2.sum_axis(Axis(0)), 1e-12);
    same(
        "W₁",
        &g.layers[0].w,
        &(x.t().dot(&dz1) + &m.layers[0].w * 0.2),
        1e-12,
    );
    same("b₁", &g.layers[0].b, &dz1.sum_axis(Axis(0)), 1e-12);
    fd_model("layered", |q: &Ridge2| q.loss(&x, &y), &m, &g);
    // H·v against central differences of the gradient along v, and J·v = ⟨∇f, v⟩
    let dir = autodiff::check::random_direction(&m, 7);
    let (v2, g2, hv) = m.loss_hvp(&x, &y, &dir);
    close("hvp value", v2, v, TOL);
    same("hvp gradient", &g2.layers[0].w, &g.layers[0].w, 1e-12);
    let r = autodiff::check::hvpcheck(|q: &Ridge2| q.loss_grad(&x, &y).1, &m, &dir, &hv);
    assert!(r.passed(), "layered H·v: {r}");
    let (_, jv) = m.loss_jvp(&x, &y, &dir);
    let mut want = 0.0;
    for (gl, dl) in g.layers.iter().zip(&dir.layers) {
        want += (&gl.w * &dl.w).sum() + gl.b.dot(&dl.b);
    }
    close("J·v", jv, want, 1e-10);
}

// ---------------------------------------------------------------------------------------------
// A zero-inflated Poisson model: two linear predictors, branches on the count.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Zip {
    beta: Array1<f64>,
    gamma: Array1<f64>,
}

#[differentiate(wrt(self))]
impl Zip {
    fn nll(&self, x: &Array2<f64>, y: &[u32]) -> f64 {
        let eta = x.dot(&self.beta);
        let zeta = x.dot(&self.gamma);
        let mut ll = 0.0;
        for i in 0..y.len() {
            let pi = 1.0 / (1.0 + (-zeta[i]).exp());
            let mu = eta[i].exp();
            ll += if y[i] == 0 {
                (pi + (1.0 - pi) * (-mu).exp()).ln()
            } else {
                (1.0 - pi).ln() - mu + y[i] as f64 * eta[i]
            };
        }
        -ll
    }
}

#[test]
fn zero_inflated_poisson() {
    let x = matrix(8, 2, 56.8);
    let y = [0u32, 2, 0, 1, 0, 4, 3, 0];
    let m = Zip {
        beta: vector(2, 57.9),
        gamma: vector(2, 58.1),
    };
    let (v, g) = m.nll_grad(&x, &y);
    close("value", v, m.nll(&x, &y), TOL);
    // y = 0, with P = π + (1 − π)e^{−μ}: ∂ζ = −π(1 − π)(1 − e^{−μ})/P, ∂η = (1 − π)e^{−μ}μ/P;
    // y > 0: ∂ζ = π, ∂η = μ − y
    let eta = x.dot(&m.beta);
    let zeta = x.dot(&m.gamma);
    let (mut de, mut dz) = (Array1::<f64>::zeros(8), Array1::<f64>::zeros(8));
    for i in 0..8 {
        let pi = sigmoid(zeta[i]);
        let mu = eta[i].exp();
        if y[i] == 0 {
            let p = pi + (1.0 - pi) * (-mu).exp();
            dz[i] = -pi * (1.0 - pi) * (1.0 - (-mu).exp()) / p;
            de[i] = (1.0 - pi) * (-mu).exp() * mu / p;
        } else {
            dz[i] = pi;
            de[i] = mu - y[i] as f64;
        }
    }
    same("β", &g.beta, &x.t().dot(&de), 1e-12);
    same("γ", &g.gamma, &x.t().dot(&dz), 1e-12);
    fd_model("zip", |q: &Zip| q.nll(&x, &y), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A Weibull accelerated-failure-time model with censoring: scalar shape beside a vector.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct WeibullAft {
    beta: Array1<f64>,
    log_k: f64,
}

#[differentiate(wrt(self))]
impl WeibullAft {
    fn nll(&self, x: &Array2<f64>, t: &[f64], observed: &[bool]) -> f64 {
        let k = self.log_k.exp();
        let scale = x.dot(&self.beta).mapv(f64::exp);
        let mut ll = 0.0;
        for (i, &lam) in scale.iter().enumerate() {
            let z = t[i] / lam;
            if observed[i] {
                ll += k.ln() - lam.ln() + (k - 1.0) * z.ln();
            }
            ll -= z.powf(k);
        }
        -ll
    }
}

#[test]
fn weibull_aft_with_censoring() {
    let x = matrix(7, 2, 59.2);
    let t = [0.8, 1.5, 0.3, 2.2, 1.1, 0.6, 1.9];
    let observed = [true, false, true, true, false, true, false];
    let m = WeibullAft {
        beta: vector(2, 60.3) * 0.5,
        log_k: 0.3,
    };
    let (v, g) = m.nll_grad(&x, &t, &observed);
    close("value", v, m.nll(&x, &t, &observed), TOL);
    // with λ = e^{xβ}, z = t/λ, ℓ = δ(ln k − ln λ + (k − 1) ln z) − z^k:
    // ∂ℓ/∂(xβ) = −δk + k z^k, ∂ℓ/∂k = δ(1/k + ln z) − z^k ln z; the loss is −ℓ, ∂log k = k·∂k
    let k = m.log_k.exp();
    let lam = x.dot(&m.beta).mapv(f64::exp);
    let mut de = Array1::<f64>::zeros(7);
    let mut dk = 0.0;
    for i in 0..7 {
        let z = t[i] / lam[i];
        let d = if observed[i] { 1.0 } else { 0.0 };
        de[i] = -(-d * k + k * z.powf(k));
        dk -= d * (1.0 / k + z.ln()) - z.powf(k) * z.ln();
    }
    same("β", &g.beta, &x.t().dot(&de), 1e-12);
    close("log k", g.log_k, k * dk, 1e-12);
    fd_model("weibull", |q: &WeibullAft| q.nll(&x, &t, &observed), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A GRU-style update gate with `Array1::ones(n) - &z`, and rows written by `rows_mut()`-free
// `assign` into a local state matrix.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct GatedLeak {
    wz: Array2<f64>,
    wc: Array2<f64>,
}

impl GatedLeak {
    #[differentiate(wrt(self))]
    fn loss(&self, xs: &Array2<f64>, target: &Array2<f64>) -> f64 {
        let n = self.wz.ncols();
        let mut h = Array1::zeros(n);
        let mut hist = Array2::zeros((xs.nrows(), n));
        for t in 0..xs.nrows() {
            let x = xs.row(t);
            let z = x.dot(&self.wz).mapv(|v| 1.0 / (1.0 + (-v).exp()));
            let c = x.dot(&self.wc).mapv(f64::tanh);
            h = (Array1::ones(n) - &z) * &h + &z * &c;
            hist.row_mut(t).assign(&h);
        }
        let d = hist - target;
        (&d * &d).sum()
    }
}

#[test]
fn gated_leak_with_ones_minus_gate_and_row_assign() {
    let xs = matrix(4, 2, 61.4);
    let target = matrix(4, 3, 62.5) * 0.5;
    let m = GatedLeak {
        wz: matrix(2, 3, 63.6),
        wc: matrix(2, 3, 64.7),
    };
    let (v, g) = m.loss_grad(&xs, &target);
    close("value", v, m.loss(&xs, &target), TOL);
    // h_t = (1 − z)h_{t−1} + z c; each step's dh = 2(h_t − target_t) + carry;
    // dz = dh(c − h_{t−1}), dc = dh z, carry = dh(1 − z); ∂Wz += x ⊗ dz z(1 − z),
    // ∂Wc += x ⊗ dc(1 − c²)
    let mut hs = vec![Array1::<f64>::zeros(3)];
    let mut zs = Vec::new();
    let mut cs = Vec::new();
    for t in 0..4 {
        let x = xs.row(t);
        let z = x.dot(&m.wz).mapv(sigmoid);
        let c = x.dot(&m.wc).mapv(f64::tanh);
        let h = (1.0 - &z) * &hs[t] + &z * &c;
        zs.push(z);
        cs.push(c);
        hs.push(h);
    }
    let (mut gz, mut gc) = (Array2::<f64>::zeros((2, 3)), Array2::<f64>::zeros((2, 3)));
    let mut carry = Array1::<f64>::zeros(3);
    for t in (0..4).rev() {
        let dh = (&hs[t + 1] - &target.row(t)) * 2.0 + &carry;
        let dz = &dh * &(&cs[t] - &hs[t]);
        let dc = &dh * &zs[t];
        carry = &dh * &(1.0 - &zs[t]);
        let x = xs.row(t).to_owned();
        gz = gz + outer(&x, &(&dz * &zs[t].mapv(|v| v * (1.0 - v))));
        gc = gc + outer(&x, &(&dc * &cs[t].mapv(|v| 1.0 - v * v)));
    }
    same("wz", &g.wz, &gz, 1e-12);
    same("wc", &g.wc, &gc, 1e-12);
    fd_model("gated leak", |q: &GatedLeak| q.loss(&xs, &target), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// Weights and biases in two parallel `Vec`s zipped, the parameter struct destructured.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct ParallelMlp {
    ws: Vec<Array2<f64>>,
    bs: Vec<Array1<f64>>,
}

impl ParallelMlp {
    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        let Self { ws, bs } = self;
        let act = |z: Array2<f64>| z.mapv(f64::tanh);
        let mut h = x.clone();
        for (w, b) in ws.iter().zip(bs) {
            h = act(h.dot(w) + b);
        }
        let d = h - y;
        (&d * &d).sum() / 2.0
    }
}

#[test]
fn parallel_weight_and_bias_vecs_zipped() {
    let x = matrix(5, 2, 65.8);
    let y = matrix(5, 2, 66.9) * 0.5;
    let m = ParallelMlp {
        ws: vec![matrix(2, 3, 67.1), matrix(3, 2, 68.2)],
        bs: vec![vector(3, 69.3), vector(2, 70.4)],
    };
    let (v, g) = m.loss_grad(&x, &y);
    close("value", v, m.loss(&x, &y), TOL);
    // the tower's backward pass with dout = h − y
    let h1 = (x.dot(&m.ws[0]) + &m.bs[0]).mapv(f64::tanh);
    let h2 = (h1.dot(&m.ws[1]) + &m.bs[1]).mapv(f64::tanh);
    let dz2 = (&h2 - &y) * h2.mapv(|v| 1.0 - v * v);
    let dz1 = dz2.dot(&m.ws[1].t()) * h1.mapv(|v| 1.0 - v * v);
    same("W₂", &g.ws[1], &h1.t().dot(&dz2), 1e-12);
    same("b₂", &g.bs[1], &dz2.sum_axis(Axis(0)), 1e-12);
    same("W₁", &g.ws[0], &x.t().dot(&dz1), 1e-12);
    same("b₁", &g.bs[0], &dz1.sum_axis(Axis(0)), 1e-12);
    fd_model("parallel", |q: &ParallelMlp| q.loss(&x, &y), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// A row max by `fold_axis`, log-sum-exp by hand, and `Zip` over two arrays.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(w))]
fn fold_axis_cross_entropy(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let z = x.dot(w);
    let m = z.fold_axis(Axis(1), f64::NEG_INFINITY, |&a, &b| a.max(b));
    let lse = (&z - &m.clone().insert_axis(Axis(1)))
        .mapv(f64::exp)
        .sum_axis(Axis(1))
        .mapv(f64::ln)
        + &m;
    let picked = Array1::from_shape_fn(labels.len(), |i| z[[i, labels[i]]]);
    ndarray::Zip::from(&lse)
        .and(&picked)
        .map_collect(|&l, &p| l - p)
        .mean()
        .unwrap()
}

#[test]
fn cross_entropy_with_fold_axis_and_zip() {
    let x = matrix(6, 3, 71.5);
    let w = matrix(3, 4, 72.6) * 2.0;
    let labels = [1, 0, 3, 2, 2, 1];
    let (v, g) = fold_axis_cross_entropy_grad(&w, &x, &labels);
    close("value", v, fold_axis_cross_entropy(&w, &x, &labels), TOL);
    // dz = (softmax(z) − onehot)/n, dW = xᵀ dz
    let mut dz = softmax_rows(&x.dot(&w));
    for (i, &l) in labels.iter().enumerate() {
        dz[[i, l]] -= 1.0;
    }
    dz /= 6.0;
    same("∂W", &g, &x.t().dot(&dz), 1e-12);
    fd_array("∂W", |w| fold_axis_cross_entropy(w, &x, &labels), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// Features concatenated by the `concatenate!` macro before a linear head.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(w))]
fn concatenated_features(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let sq = x.mapv(|v| v * v);
    let feats = ndarray::concatenate![Axis(1), x.view(), sq.view()];
    let r = feats.dot(w) - y;
    r.dot(&r)
}

#[test]
fn features_joined_by_the_concatenate_macro() {
    let x = matrix(5, 2, 73.7);
    let y = vector(5, 74.8);
    let w = vector(4, 75.9);
    let (v, g) = concatenated_features_grad(&w, &x, &y);
    close("value", v, concatenated_features(&w, &x, &y), TOL);
    // F = [x, x²]: ∂w = 2Fᵀ(Fw − y)
    let f = ndarray::concatenate![Axis(1), x.view(), x.mapv(|v| v * v).view()];
    same("∂w", &g, &(f.t().dot(&(f.dot(&w) - &y)) * 2.0), 1e-12);
    fd_array("∂w", |w| concatenated_features(w, &x, &y), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// A loss averaged per minibatch over `axis_chunks_iter(Axis(0), k)`, the last batch shorter.
// ---------------------------------------------------------------------------------------------

#[differentiate(wrt(p))]
fn chunked_loss(p: &Linear, x: &Array2<f64>, y: &Array2<f64>, batch: usize) -> f64 {
    let mut total = 0.0;
    for (k, xb) in x.axis_chunks_iter(Axis(0), batch).enumerate() {
        let yb = y.slice(ndarray::s![k * batch..k * batch + xb.nrows(), ..]);
        let d = p.forward(&xb.to_owned()) - &yb;
        total += (&d * &d).sum() / xb.nrows() as f64;
    }
    total
}

#[test]
fn loss_over_minibatches_by_axis_chunks_iter() {
    let x = matrix(7, 3, 76.1);
    let y = matrix(7, 2, 77.2);
    let p = Linear {
        w: matrix(3, 2, 78.3),
        b: vector(2, 79.4),
    };
    let (v, g) = chunked_loss_grad(&p, &x, &y, 3);
    close("value", v, chunked_loss(&p, &x, &y, 3), TOL);
    // batches of rows 0..3, 3..6, 6..7, each with dpred = 2(pred − y)/n_b: ∂W = Σ X_bᵀ dpred_b
    let (mut gw, mut gb) = (Array2::<f64>::zeros((3, 2)), Array1::<f64>::zeros(2));
    for (lo, hi) in [(0, 3), (3, 6), (6, 7)] {
        let xb = x.slice(ndarray::s![lo..hi, ..]).to_owned();
        let dp = (p.forward(&xb) - y.slice(ndarray::s![lo..hi, ..])) * (2.0 / (hi - lo) as f64);
        gw = gw + xb.t().dot(&dp);
        gb = gb + dp.sum_axis(Axis(0));
    }
    same("w", &g.w, &gw, 1e-12);
    same("b", &g.b, &gb, 1e-12);
    fd_model("chunks", |q: &Linear| chunked_loss(q, &x, &y, 3), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A 1-D convolution layer whose window reads `self` inside the `s![..]` macro.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Conv1d {
    k: Array1<f64>,
    bias: f64,
}

impl Conv1d {
    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array1<f64>, t: &Array1<f64>) -> f64 {
        let n = x.len() - self.k.len() + 1;
        let mut out = Array1::zeros(n);
        for i in 0..n {
            out[i] = x.slice(ndarray::s![i..i + self.k.len()]).dot(&self.k) + self.bias;
        }
        let d = &out - t;
        d.dot(&d)
    }
}

#[test]
fn conv1d_window_reading_self_in_the_slice_macro() {
    let c = Conv1d {
        k: vector(3, 80.5),
        bias: 0.1,
    };
    let x = vector(8, 81.6);
    let t = vector(6, 82.7);
    let (v, g) = c.loss_grad(&x, &t);
    close("value", v, c.loss(&x, &t), TOL);
    // out_i = Σ_j k_j x_{i+j} + b, d = out − t: ∂k_j = 2Σ_i d_i x_{i+j}, ∂b = 2Σ d_i
    let d = Array1::from_shape_fn(6, |i| {
        (0..3).map(|j| c.k[j] * x[i + j]).sum::<f64>() + c.bias - t[i]
    });
    let want = Array1::from_shape_fn(3, |j| 2.0 * (0..6).map(|i| d[i] * x[i + j]).sum::<f64>());
    same("k", &g.k, &want, 1e-12);
    close("bias", g.bias, 2.0 * d.sum(), 1e-12);
    fd_model("conv1d", |q: &Conv1d| q.loss(&x, &t), &c, &g);
}

// ---------------------------------------------------------------------------------------------
// `Zip::from(..).and(..).fold(..)` for a squared error, and `self` in `assert!`/`println!`.
// ---------------------------------------------------------------------------------------------

impl Linear {
    #[differentiate(wrt(self))]
    fn zip_fold_sse(&self, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
        assert_eq!(
            x.ncols(),
            self.w.nrows(),
            "{} features for {:?}",
            x.ncols(),
            self.w.shape()
        );
        let z = x.dot(&self.w) + &self.b;
        if z.len() > 1_000_000 {
            println!("large output {:?} of {:?}", z.shape(), self.w.shape());
        }
        ndarray::Zip::from(&z)
            .and(y)
            .fold(0.0, |acc, &p, &t| acc + (p - t) * (p - t))
    }
}

#[test]
fn squared_error_by_zip_fold_with_self_in_asserts() {
    let x = matrix(5, 3, 83.8);
    let y = matrix(5, 2, 84.9);
    let p = Linear {
        w: matrix(3, 2, 85.1),
        b: vector(2, 86.2),
    };
    let (v, g) = p.zip_fold_sse_grad(&x, &y);
    close("value", v, p.zip_fold_sse(&x, &y), TOL);
    // dz = 2(z − y): ∂W = xᵀ dz, ∂b = Σ_rows dz
    let dz = (p.forward(&x) - &y) * 2.0;
    same("w", &g.w, &x.t().dot(&dz), 1e-12);
    same("b", &g.b, &dz.sum_axis(Axis(0)), 1e-12);
    fd_model("zip fold", |q: &Linear| q.zip_fold_sse(&x, &y), &p, &g);
}
