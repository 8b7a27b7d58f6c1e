//! ndarray programs written as ML engineers write them after reading the README: hand-written
//! layers (dense with a broadcast bias, layer and RMS norm over an axis, softmax and
//! log-softmax with the max trick, single-head attention, GRU and RNN cells over `Array1`,
//! 1-D convolution by slices, embeddings looked up by index, dropout masks as data), losses
//! (cross-entropy with integer labels, MSE, Huber, KL divergence, cosine similarity, triplet,
//! weighted), ndarray idioms (`mapv`, `map`, `fold_axis` maxima, `Zip`, `enumerate`, `assign`,
//! `scaled_add`, `concatenate!`, `stack!`, `diag`, `f32`, generic `A: NdFloat`), and parameter
//! structs trained by the runtime's optimizers.
//!
//! Each gradient is checked against central finite differences through `autodiff::check`, and
//! against its analytic form (stated beside the function) where that is short; each value
//! against the plain function's.

#![allow(
    clippy::needless_range_loop,
    clippy::op_ref,
    clippy::ptr_arg,
    clippy::let_and_return,
    clippy::type_complexity,
    clippy::too_many_arguments,
    clippy::manual_memcpy,
    clippy::excessive_precision
)] // written as users write them

use autodiff::check::{assert_gradient, gradcheck};
use autodiff::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use autodiff::{Differentiable, differentiate, nn};
use ndarray::{Array1, Array2, ArrayView1, Axis, Zip, array, s};

mod common;
use common::*;

/// `steps` Adam steps of size `lr` on `p` from the gradients `grad` gives; the loss before the
/// first step and after the last.
fn train_adam<S, P>(p: &mut P, lr: f64, steps: usize, grad: impl Fn(&P) -> (S, P)) -> (S, S)
where
    S: autodiff::Real,
    P: Differentiable<Scalar = S>,
{
    let mut adam = Adam::<S>::new(AdamConfig {
        lr,
        ..Default::default()
    });
    let first = grad(p).0;
    for _ in 0..steps {
        let (_, g) = grad(p);
        adam.step(p, &g);
    }
    (first, grad(p).0)
}

// ---------------------------------------------------------------------------------------------
// Layers.
// ---------------------------------------------------------------------------------------------

/// A dense layer with a broadcast bias and a ReLU, then MSE against targets:
/// ∇W = Xᵀ(2/N·R ⊙ 1[Z>0]), ∇b = Σ rows of the same.
#[differentiate(wrt(w, b))]
fn dense_mse(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let z = x.dot(w) + b;
    let h = z.mapv(|v| v.max(0.0));
    let r = &h - y;
    (&r * &r).mean().unwrap()
}

#[test]
fn dense_layer_with_broadcast_bias() {
    let x = matrix(5, 3, 0.3);
    let y = matrix(5, 4, 1.1);
    let w = matrix(3, 4, 2.7);
    let b = vector(4, 0.9);
    let (l, (gw, gb)) = dense_mse_grad(&w, &b, &x, &y);
    assert_eq!(l, dense_mse(&w, &b, &x, &y));
    let z = x.dot(&w) + &b;
    let mask = z.mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
    let d = (z.mapv(|v| v.max(0.0)) - &y) * 2.0 / 20.0 * &mask;
    same("∇W", &gw, &x.t().dot(&d), 1e-12);
    same("∇b", &gb, &d.sum_axis(Axis(0)), 1e-12);
    fd_array("∇W", |w| dense_mse(w, &b, &x, &y), &w, &gw);
    fd_array("∇b", |b| dense_mse(&w, b, &x, &y), &b, &gb);
}

/// Layer norm over the features of each row, the variance written by hand, with a learned gain
/// and shift, then a weighted sum (the targets' inner product).
#[differentiate(wrt(x, gamma, beta))]
fn layer_norm(x: &Array2<f64>, gamma: &Array1<f64>, beta: &Array1<f64>, t: &Array2<f64>) -> f64 {
    let mean = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    let centered = x - &mean;
    let var = (&centered * &centered)
        .mean_axis(Axis(1))
        .unwrap()
        .insert_axis(Axis(1));
    let xhat = &centered / &var.mapv(|v| (v + 1e-5).sqrt());
    let y = &xhat * gamma + beta;
    (&y * t).sum()
}

#[test]
fn layer_norm_over_features() {
    let x = matrix(3, 5, 0.4);
    let t = matrix(3, 5, 1.7);
    let g = vector(5, 2.2);
    let be = vector(5, 0.6);
    let (l, (gx, gg, gbe)) = layer_norm_grad(&x, &g, &be, &t);
    assert_eq!(l, layer_norm(&x, &g, &be, &t));
    // ∂/∂β = Σ rows of t; ∂/∂γ = Σ rows of x̂ ⊙ t.
    same("∇β", &gbe, &t.sum_axis(Axis(0)), 1e-12);
    fd_array("∇x", |x| layer_norm(x, &g, &be, &t), &x, &gx);
    fd_array("∇γ", |g| layer_norm(&x, g, &be, &t), &g, &gg);
    // A row's gradient sums to zero: the output is invariant to shifting the row.
    for row in gx.rows() {
        assert!(row.sum().abs() < 1e-10, "{row}");
    }
}

/// RMS norm: x / √(mean(x²) + ε) · g, per row, then a squared error.
#[differentiate(wrt(x, g))]
fn rms_norm(x: &Array2<f64>, g: &Array1<f64>, t: &Array2<f64>) -> f64 {
    let ms = x.mapv(|v| v * v).mean_axis(Axis(1)).unwrap();
    let rms = ms.mapv(|m| (m + 1e-6).sqrt()).insert_axis(Axis(1));
    let y = x / &rms * g;
    let d = &y - t;
    0.5 * d.mapv(|v| v * v).sum()
}

#[test]
fn rms_norm_over_features() {
    let x = matrix(4, 3, 0.8);
    let t = matrix(4, 3, 0.1);
    let g = vector(3, 1.3);
    let (l, (gx, gg)) = rms_norm_grad(&x, &g, &t);
    assert_eq!(l, rms_norm(&x, &g, &t));
    fd_array("∇x", |x| rms_norm(x, &g, &t), &x, &gx);
    fd_array("∇g", |g| rms_norm(&x, g, &t), &g, &gg);
}

/// Softmax over rows with the max trick (the row maxima by an iterator fold over each row; with
/// `fold_axis`, below), then the expected
/// value of a score table: Σᵢⱼ pᵢⱼ sᵢⱼ.
#[differentiate(wrt(z))]
fn softmax_expectation(z: &Array2<f64>, scores: &Array2<f64>) -> f64 {
    let mut m = Array1::<f64>::zeros(z.nrows());
    for i in 0..z.nrows() {
        m[i] = z.row(i).iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    }
    let e = (z - &m.insert_axis(Axis(1))).mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    (&p * scores).sum()
}

#[test]
fn softmax_by_hand_with_row_maxima() {
    let z = matrix(3, 4, 0.5) * 3.0;
    let sc = matrix(3, 4, 2.5);
    let (l, g) = softmax_expectation_grad(&z, &sc);
    assert_eq!(l, softmax_expectation(&z, &sc));
    // ∂/∂zᵢⱼ = pᵢⱼ (sᵢⱼ − Σₖ pᵢₖ sᵢₖ).
    let p = nn::softmax(&z);
    let ev = (&p * &sc).sum_axis(Axis(1)).insert_axis(Axis(1));
    same("∇z", &g, &(&p * &(&sc - &ev)), 1e-12);
    fd_array("∇z", |z| softmax_expectation(z, &sc), &z, &g);
}

/// Log-softmax with the max trick, each row's maximum taken by an iterator fold, and
/// cross-entropy with integer labels read as `logp[[i, labels[i]]]`.
#[differentiate(wrt(w))]
fn log_softmax_ce(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let z = x.dot(w);
    let n = z.nrows();
    let mut loss = 0.0;
    for i in 0..n {
        let row = z.row(i);
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.mapv(|v| (v - m).exp()).sum().ln();
        loss -= row[labels[i]] - lse;
    }
    loss / n as f64
}

#[test]
fn log_softmax_cross_entropy_with_labels() {
    let x = matrix(6, 3, 0.2);
    let w = matrix(3, 4, 1.9);
    let labels = [0usize, 3, 1, 2, 2, 0];
    let (l, g) = log_softmax_ce_grad(&w, &x, &labels);
    assert_eq!(l, log_softmax_ce(&w, &x, &labels));
    // Same loss and gradient as nn::cross_entropy: Xᵀ(P − Y)/N.
    close("loss", l, nn::cross_entropy(&x.dot(&w), &labels), 1e-12);
    let mut y = Array2::<f64>::zeros((6, 4));
    for (i, &c) in labels.iter().enumerate() {
        y[[i, c]] = 1.0;
    }
    let want = x.t().dot(&(nn::softmax(&x.dot(&w)) - &y)) / 6.0;
    same("∇W", &g, &want, 1e-12);
    fd_array("∇W", |w| log_softmax_ce(w, &x, &labels), &w, &g);
}

/// Single-head attention: softmax(QKᵀ/√d) V with Q, K, V projections of X, squared output.
#[differentiate(wrt(wq, wk, wv))]
fn attention(wq: &Array2<f64>, wk: &Array2<f64>, wv: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let q = x.dot(wq);
    let k = x.dot(wk);
    let v = x.dot(wv);
    let d = q.ncols() as f64;
    let scores = q.dot(&k.t()) / d.sqrt();
    let mut m = Array1::<f64>::zeros(scores.nrows());
    for (i, row) in scores.rows().into_iter().enumerate() {
        m[i] = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    }
    let e = (&scores - &m.insert_axis(Axis(1))).mapv(f64::exp);
    let att = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let out = att.dot(&v);
    out.mapv(|o| o * o).sum()
}

#[test]
fn single_head_attention() {
    let x = matrix(4, 3, 0.7);
    let (wq, wk, wv) = (matrix(3, 2, 1.1), matrix(3, 2, 1.6), matrix(3, 2, 0.2));
    let (l, (gq, gk, gv)) = attention_grad(&wq, &wk, &wv, &x);
    assert_eq!(l, attention(&wq, &wk, &wv, &x));
    fd_array("∇Wq", |w| attention(w, &wk, &wv, &x), &wq, &gq);
    fd_array("∇Wk", |w| attention(&wq, w, &wv, &x), &wk, &gk);
    fd_array("∇Wv", |w| attention(&wq, &wk, w, &x), &wv, &gv);
}

#[derive(Clone, Differentiable)]
struct GruCell {
    wz: Array2<f64>,
    uz: Array2<f64>,
    wr: Array2<f64>,
    ur: Array2<f64>,
    wh: Array2<f64>,
    uh: Array2<f64>,
    bz: Array1<f64>,
}

#[differentiate]
fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

impl GruCell {
    #[differentiate]
    fn step(&self, x: &Array1<f64>, h: &Array1<f64>) -> Array1<f64> {
        let z = (self.wz.dot(x) + self.uz.dot(h) + &self.bz).mapv(sigmoid);
        let r = (self.wr.dot(x) + self.ur.dot(h)).mapv(sigmoid);
        let cand = (self.wh.dot(x) + self.uh.dot(&(&r * h))).mapv(f64::tanh);
        (1.0 - &z) * h + &z * &cand
    }
}

/// A GRU over a sequence of `Array1` inputs, loss on the final state.
#[differentiate(wrt(cell))]
fn gru_sequence(cell: &GruCell, xs: &[Array1<f64>], target: &Array1<f64>) -> f64 {
    let mut h = Array1::zeros(target.len());
    for x in xs {
        h = cell.step(x, &h);
    }
    let d = &h - target;
    d.dot(&d)
}

fn gru() -> GruCell {
    GruCell {
        wz: matrix(3, 2, 0.1),
        uz: matrix(3, 3, 0.2),
        wr: matrix(3, 2, 0.3),
        ur: matrix(3, 3, 0.4),
        wh: matrix(3, 2, 0.5),
        uh: matrix(3, 3, 0.6),
        bz: vector(3, 0.7),
    }
}

#[test]
fn gru_cell_over_a_sequence() {
    let xs: Vec<Array1<f64>> = (0..4).map(|k| vector(2, k as f64 * 0.37)).collect();
    let target = array![0.2, -0.1, 0.4];
    let cell = gru();
    let (l, g) = gru_sequence_grad(&cell, &xs, &target);
    assert_eq!(l, gru_sequence(&cell, &xs, &target));
    assert_gradient(|c: &GruCell| gru_sequence(c, &xs, &target), &cell, &g);
}

/// An Elman RNN with the hidden state updated in place by `assign`, inputs as matrix rows.
#[differentiate(wrt(wx, wh, b))]
fn rnn_assign(wx: &Array2<f64>, wh: &Array2<f64>, b: &Array1<f64>, xs: &Array2<f64>) -> f64 {
    let mut h = Array1::<f64>::zeros(wh.nrows());
    let mut total = 0.0;
    for t in 0..xs.nrows() {
        let pre = wx.dot(&xs.row(t)) + wh.dot(&h) + b;
        h.assign(&pre.mapv(f64::tanh));
        total += h.sum();
    }
    total
}

#[test]
fn rnn_state_updated_with_assign() {
    let xs = matrix(5, 2, 0.9);
    let (wx, wh, b) = (matrix(3, 2, 1.2), matrix(3, 3, 0.3) * 0.5, vector(3, 0.1));
    let (l, (gx, gh, gb)) = rnn_assign_grad(&wx, &wh, &b, &xs);
    assert_eq!(l, rnn_assign(&wx, &wh, &b, &xs));
    fd_array("∇Wx", |w| rnn_assign(w, &wh, &b, &xs), &wx, &gx);
    fd_array("∇Wh", |w| rnn_assign(&wx, w, &b, &xs), &wh, &gh);
    fd_array("∇b", |v| rnn_assign(&wx, &wh, v, &xs), &b, &gb);
}

/// A valid 1-D convolution written with slices: yᵢ = Σₖ x[i+k] wₖ + b, then ½‖y‖².
#[differentiate(wrt(w, b))]
fn conv1d_slices(w: &Array1<f64>, b: f64, x: &Array1<f64>) -> f64 {
    let k = w.len();
    let n = x.len() - k + 1;
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        y[i] = x.slice(s![i..i + k]).dot(w) + b;
    }
    0.5 * y.dot(&y)
}

#[test]
fn conv1d_by_slices() {
    let x = vector(8, 0.5);
    let w = array![0.3, -0.2, 0.5];
    let (l, (gw, gb)) = conv1d_slices_grad(&w, 0.1, &x);
    assert_eq!(l, conv1d_slices(&w, 0.1, &x));
    // ∂/∂wₖ = Σᵢ yᵢ x[i+k], ∂/∂b = Σᵢ yᵢ.
    let y: Array1<f64> = (0..6)
        .map(|i| x.slice(s![i..i + 3]).dot(&w) + 0.1)
        .collect();
    for kk in 0..3 {
        close("∂wₖ", gw[kk], y.dot(&x.slice(s![kk..kk + 6])), 1e-12);
    }
    close("∂b", gb, y.sum(), 1e-12);
    fd_array("∇w", |w| conv1d_slices(w, 0.1, &x), &w, &gw);
}

/// Embeddings looked up by index (`emb.row(ids[i])`), averaged, then a linear score with a
/// logistic loss.
#[differentiate(wrt(emb, v))]
fn bag_of_embeddings(emb: &Array2<f64>, v: &Array1<f64>, ids: &[usize], y: f64) -> f64 {
    let mut acc = Array1::<f64>::zeros(emb.ncols());
    for i in 0..ids.len() {
        acc += &emb.row(ids[i]);
    }
    let avg = acc / ids.len() as f64;
    let s = avg.dot(v);
    (1.0 + (-y * s).exp()).ln()
}

#[test]
fn embeddings_by_index() {
    let emb = matrix(5, 3, 0.4);
    let v = vector(3, 1.4);
    let ids = [1usize, 3, 1, 4];
    let (l, (ge, gv)) = bag_of_embeddings_grad(&emb, &v, &ids, 1.0);
    assert_eq!(l, bag_of_embeddings(&emb, &v, &ids, 1.0));
    // Rows never looked up get no gradient; row 1, looked up twice, twice row 3's.
    assert!(ge.row(0).iter().all(|&g| g == 0.0) && ge.row(2).iter().all(|&g| g == 0.0));
    same(
        "row 1",
        &ge.row(1).to_owned(),
        &(ge.row(3).to_owned() * 2.0),
        1e-14,
    );
    fd_array("∇E", |e| bag_of_embeddings(e, &v, &ids, 1.0), &emb, &ge);
    fd_array("∇v", |v| bag_of_embeddings(&emb, v, &ids, 1.0), &v, &gv);
}

/// Dropout with a fixed mask as data, inverted scaling 1/(1−p).
#[differentiate(wrt(w))]
fn dropout_mlp(w: &Array2<f64>, x: &Array2<f64>, mask: &Array2<f64>, p: f64) -> f64 {
    let h = x.dot(w).mapv(f64::tanh);
    let dropped = &h * mask / (1.0 - p);
    dropped.sum()
}

#[test]
fn dropout_mask_as_data() {
    let x = matrix(4, 3, 0.6);
    let w = matrix(3, 2, 0.9);
    let mask = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]];
    let (l, g) = dropout_mlp_grad(&w, &x, &mask, 0.5);
    assert_eq!(l, dropout_mlp(&w, &x, &mask, 0.5));
    // ∇W = Xᵀ (mask ⊙ (1 − tanh²) / (1 − p)).
    let h = x.dot(&w).mapv(f64::tanh);
    let want = x.t().dot(&(&mask * &h.mapv(|t| 1.0 - t * t) * 2.0));
    same("∇W", &g, &want, 1e-12);
    fd_array("∇W", |w| dropout_mlp(w, &x, &mask, 0.5), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// Losses.
// ---------------------------------------------------------------------------------------------

/// Cross-entropy with integer labels through `nn::log_softmax`, the label's entry picked out.
#[differentiate(wrt(w, b))]
fn ce_log_softmax(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>, y: &[usize]) -> f64 {
    let logp = nn::log_softmax(&(x.dot(w) + b));
    let mut nll = 0.0;
    for (i, &c) in y.iter().enumerate() {
        nll -= logp[[i, c]];
    }
    nll / y.len() as f64
}

#[test]
fn cross_entropy_integer_labels() {
    let x = matrix(5, 3, 1.3);
    let (w, b) = (matrix(3, 3, 0.2), vector(3, 0.5));
    let y = [2usize, 0, 1, 1, 2];
    let (l, (gw, gb)) = ce_log_softmax_grad(&w, &b, &x, &y);
    assert_eq!(l, ce_log_softmax(&w, &b, &x, &y));
    // ∂/∂b = Σ rows of (P − Y)/N.
    let mut d = nn::softmax(&(x.dot(&w) + &b));
    for (i, &c) in y.iter().enumerate() {
        d[[i, c]] -= 1.0;
    }
    same("∇b", &gb, &(d.sum_axis(Axis(0)) / 5.0), 1e-12);
    fd_array("∇W", |w| ce_log_softmax(w, &b, &x, &y), &w, &gw);
}

/// Huber loss through `mapv` with a branch on |r| and the threshold captured.
#[differentiate(wrt(w))]
fn huber(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>, delta: f64) -> f64 {
    let r = x.dot(w) - y;
    r.mapv(|e| {
        if e.abs() <= delta {
            0.5 * e * e
        } else {
            delta * (e.abs() - 0.5 * delta)
        }
    })
    .mean()
    .unwrap()
}

#[test]
fn huber_loss() {
    let x = matrix(6, 2, 0.1) * 2.0;
    let y = vector(6, 0.8);
    let w = array![0.7, -0.4];
    let (l, g) = huber_grad(&w, &x, &y, 0.3);
    assert_eq!(l, huber(&w, &x, &y, 0.3));
    // ∇w = Xᵀ clamp(r, −δ, δ) / N.
    let r = (x.dot(&w) - &y).mapv(|e| e.clamp(-0.3, 0.3));
    same("∇w", &g, &(x.t().dot(&r) / 6.0), 1e-12);
    fd_array("∇w", |w| huber(w, &x, &y, 0.3), &w, &g);
}

/// KL(p ‖ softmax(z)) with p a data distribution: Σ p (ln p − ln q).
#[differentiate(wrt(z))]
fn kl_to_softmax(p: &Array1<f64>, z: &Array1<f64>) -> f64 {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + z.mapv(|v| (v - m).exp()).sum().ln();
    let logq = z - lse;
    (p * &(p.mapv(f64::ln) - &logq)).sum()
}

#[test]
fn kl_divergence_to_a_softmax() {
    let p = array![0.1, 0.4, 0.3, 0.2];
    let z = array![0.5, -1.0, 2.0, 0.3];
    let (l, g) = kl_to_softmax_grad(&p, &z);
    assert_eq!(l, kl_to_softmax(&p, &z));
    // ∂/∂z = softmax(z) − p.
    let e = z.mapv(f64::exp);
    same("∇z", &g, &(&e / e.sum() - &p), 1e-12);
    fd_array("∇z", |z| kl_to_softmax(&p, z), &z, &g);
}

/// Cosine similarity, the norms written by hand two ways.
#[differentiate]
fn cosine(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let na = a.dot(a).sqrt();
    let nb = b.mapv(|v| v * v).sum().sqrt();
    a.dot(b) / (na * nb)
}

#[test]
fn cosine_similarity() {
    let a = array![1.0, 2.0, -0.5];
    let b = array![0.3, -1.0, 2.0];
    let (c, (ga, gb)) = cosine_grad(&a, &b);
    assert_eq!(c, cosine(&a, &b));
    // ∂c/∂a = b/(|a||b|) − c·a/|a|².
    let (na, nb) = (a.dot(&a).sqrt(), b.dot(&b).sqrt());
    same("∇a", &ga, &(&b / (na * nb) - &a * (c / (na * na))), 1e-12);
    same("∇b", &gb, &(&a / (na * nb) - &b * (c / (nb * nb))), 1e-12);
    fd_array("∇a", |a| cosine(a, &b), &a, &ga);
}

/// A triplet loss over rows of an embedding table: max(0, ‖a−p‖² − ‖a−n‖² + margin) summed over
/// triplets of indices.
#[differentiate(wrt(emb))]
fn triplet(emb: &Array2<f64>, triplets: &[[usize; 3]], margin: f64) -> f64 {
    let mut total = 0.0;
    for t in triplets {
        let a = emb.row(t[0]);
        let dp = &a - &emb.row(t[1]);
        let dn = &a - &emb.row(t[2]);
        total += (dp.dot(&dp) - dn.dot(&dn) + margin).max(0.0);
    }
    total
}

#[test]
fn triplet_loss() {
    let emb = matrix(4, 3, 0.35);
    let triplets = [[0usize, 1, 2], [3, 2, 0], [1, 0, 3]];
    let (l, g) = triplet_grad(&emb, &triplets, 0.5);
    assert_eq!(l, triplet(&emb, &triplets, 0.5));
    fd_array("∇E", |e| triplet(e, &triplets, 0.5), &emb, &g);
    // An active triplet (a, p, n) adds 2(n − p) to a, −2(a − p) to p, 2(a − n) to n.
    let mut want = Array2::<f64>::zeros((4, 3));
    for t in &triplets {
        let (a, p, n) = (emb.row(t[0]), emb.row(t[1]), emb.row(t[2]));
        let dp = &a - &p;
        let dn = &a - &n;
        if dp.dot(&dp) - dn.dot(&dn) + 0.5 > 0.0 {
            let mut r = want.row_mut(t[0]);
            r += &((&n - &p) * 2.0);
            let mut r = want.row_mut(t[1]);
            r -= &(&dp * 2.0);
            let mut r = want.row_mut(t[2]);
            r += &(&dn * 2.0);
        }
    }
    same("∇E", &g, &want, 1e-12);
}

/// The contrastive loss of pairs: y d² + (1 − y) max(0, m − d)², d the Euclidean distance.
#[differentiate(wrt(a, b))]
fn contrastive(a: &Array2<f64>, b: &Array2<f64>, same_class: &Array1<f64>, m: f64) -> f64 {
    let diff = a - b;
    let d = diff.mapv(|v| v * v).sum_axis(Axis(1)).mapv(f64::sqrt);
    let pos = same_class * &d.mapv(|v| v * v);
    let neg = (1.0 - same_class) * &d.mapv(|v| (m - v).max(0.0).powi(2));
    (pos + neg).sum() / 2.0
}

#[test]
fn contrastive_loss() {
    let a = matrix(4, 2, 0.2);
    let b = matrix(4, 2, 1.5);
    let y = array![1.0, 0.0, 0.0, 1.0];
    let (l, (ga, gb)) = contrastive_grad(&a, &b, &y, 1.5);
    assert_eq!(l, contrastive(&a, &b, &y, 1.5));
    // The loss depends on a − b only.
    same("∇a = −∇b", &ga, &(-&gb), 1e-14);
    fd_array("∇a", |a| contrastive(a, &b, &y, 1.5), &a, &ga);
}

/// A weighted MSE with a data weight array, normalized by the weights' sum.
#[differentiate(wrt(pred))]
fn weighted_mse(pred: &Array1<f64>, y: &Array1<f64>, weights: &Array1<f64>) -> f64 {
    let r = pred - y;
    (weights * &r * &r).sum() / weights.sum()
}

#[test]
fn weighted_mse_loss() {
    let pred = vector(5, 0.3);
    let y = vector(5, 2.3);
    let wts = array![1.0, 0.5, 2.0, 0.0, 1.5];
    let (l, g) = weighted_mse_grad(&pred, &y, &wts);
    assert_eq!(l, weighted_mse(&pred, &y, &wts));
    // ∂/∂pred = 2 w r / Σw.
    same("∇pred", &g, &(&wts * &(&pred - &y) * 2.0 / 5.0), 1e-12);
    fd_array("∇pred", |p| weighted_mse(p, &y, &wts), &pred, &g);
}

/// Binary cross-entropy with logits, per element through `Zip::map_collect`, weighted by a
/// class weight per example.
#[differentiate(wrt(w))]
fn bce_logits_zip(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>, cw: &Array1<f64>) -> f64 {
    let z = x.dot(w);
    let l = Zip::from(&z)
        .and(y)
        .map_collect(|&zi, &yi| zi.max(0.0) - zi * yi + (1.0 + (-zi.abs()).exp()).ln());
    (&l * cw).mean().unwrap()
}

#[test]
fn bce_with_logits_by_zip() {
    let x = matrix(5, 3, 0.9);
    let y = array![1.0, 0.0, 0.0, 1.0, 1.0];
    let cw = array![1.0, 2.0, 2.0, 1.0, 1.0];
    let w = array![0.4, -0.3, 0.8];
    let (l, g) = bce_logits_zip_grad(&w, &x, &y, &cw);
    assert_eq!(l, bce_logits_zip(&w, &x, &y, &cw));
    // ∇w = Xᵀ(cw ⊙ (σ(z) − y))/N.
    let p = x.dot(&w).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    same("∇w", &g, &(x.t().dot(&(&cw * &(&p - &y))) / 5.0), 1e-12);
    fd_array("∇w", |w| bce_logits_zip(w, &x, &y, &cw), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// ndarray idioms.
// ---------------------------------------------------------------------------------------------

/// An elementwise product written into a buffer through the items of `iter_mut().zip(..)`
/// (`Zip::from(&mut out).and(a).and(b).for_each(..)` is an error that says to write a loop).
#[differentiate]
fn zip_for_each(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let mut out = Array1::<f64>::zeros(a.len());
    for (o, (&x, &y)) in out.iter_mut().zip(a.iter().zip(b.iter())) {
        *o = x * y;
    }
    out.sum()
}

#[test]
fn zip_for_each_into_a_buffer() {
    let a = vector(4, 0.1);
    let b = vector(4, 0.2);
    let (v, (ga, gb)) = zip_for_each_grad(&a, &b);
    assert_eq!(v, zip_for_each(&a, &b));
    same("∇a", &ga, &b, 0.0);
    same("∇b", &gb, &a, 0.0);
}

/// The elements of a vector with their positions, `iter().enumerate()`: Σᵢ (i + 1) aᵢ².
#[differentiate]
fn indexed_weights(a: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for (i, &v) in a.iter().enumerate() {
        s += (i + 1) as f64 * v * v;
    }
    s
}

/// The same through `indexed_iter()`, once the error "`for` loops here iterate over ranges, …".
#[differentiate]
fn indexed_weights_iter(a: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for (i, &v) in a.indexed_iter() {
        s += (i + 1) as f64 * v * v;
    }
    s
}

#[test]
fn enumerated_vector() {
    let a = vector(5, 0.6);
    let (v, g) = indexed_weights_grad(&a);
    assert_eq!(v, indexed_weights(&a));
    // ∂/∂aᵢ = 2(i + 1)aᵢ.
    let want = Array1::from_shape_fn(5, |i| 2.0 * (i + 1) as f64 * a[i]);
    same("∇a", &g, &want, 1e-14);
    let (v2, g2) = indexed_weights_iter_grad(&a);
    assert_eq!(v2, indexed_weights_iter(&a));
    same("∇a by indexed_iter", &g2, &want, 1e-14);
}

/// `iter().zip` of two arrays into a chain: Σ aᵢ bᵢ³.
#[differentiate]
fn zipped_chain(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y.powi(3)).sum()
}

#[test]
fn iter_zip_chain() {
    let a = vector(4, 0.4);
    let b = vector(4, 1.4);
    let (v, (ga, gb)) = zipped_chain_grad(&a, &b);
    assert_eq!(v, zipped_chain(&a, &b));
    same("∇a", &ga, &b.mapv(|y| y.powi(3)), 1e-14);
    same("∇b", &gb, &(&a * &b.mapv(|y| 3.0 * y * y)), 1e-14);
}

/// An outer product by `insert_axis` on both sides, contracted with a matrix.
#[differentiate]
fn outer_contract(u: &Array1<f64>, v: &Array1<f64>, m: &Array2<f64>) -> f64 {
    let o = &u.view().insert_axis(Axis(1)) * &v.view().insert_axis(Axis(0));
    (&o * m).sum()
}

#[test]
fn outer_product_by_insert_axis() {
    let (u, v, m) = (vector(3, 0.1), vector(4, 0.9), matrix(3, 4, 1.7));
    let (val, (gu, gv, gm)) = outer_contract_grad(&u, &v, &m);
    assert_eq!(val, outer_contract(&u, &v, &m));
    // uᵀ M v: ∇u = M v, ∇v = Mᵀ u, ∇M = u vᵀ.
    close("value", val, u.dot(&m.dot(&v)), 1e-12);
    same("∇u", &gu, &m.dot(&v), 1e-12);
    same("∇v", &gv, &m.t().dot(&u), 1e-12);
    fd_array("∇M", |m| outer_contract(&u, &v, m), &m, &gm);
}

/// A bilinear form as a chain of products, 1-D · 2-D · 1-D.
#[differentiate]
fn bilinear(u: &Array1<f64>, m: &Array2<f64>, v: &Array1<f64>) -> f64 {
    u.dot(m).dot(v)
}

#[test]
fn bilinear_chain_of_dots() {
    let (u, m, v) = (vector(3, 0.3), matrix(3, 2, 0.5), vector(2, 0.7));
    let (val, (gu, gm, gv)) = bilinear_grad(&u, &m, &v);
    assert_eq!(val, bilinear(&u, &m, &v));
    same("∇u", &gu, &m.dot(&v), 1e-12);
    same("∇v", &gv, &u.dot(&m), 1e-12);
    fd_array("∇M", |m| bilinear(&u, m, &v), &m, &gm);
}

/// Columns and a region: Σⱼ ‖column j of A[1.., ..]‖² · cⱼ.
#[differentiate(wrt(a))]
fn weighted_columns(a: &Array2<f64>, c: &Array1<f64>) -> f64 {
    let sub = a.slice(s![1.., ..]);
    let mut total = 0.0;
    for j in 0..sub.ncols() {
        let col = sub.column(j);
        total += c[j] * col.dot(&col);
    }
    total
}

#[test]
fn columns_of_a_region() {
    let a = matrix(4, 3, 0.25);
    let c = array![1.0, 2.0, 0.5];
    let (v, g) = weighted_columns_grad(&a, &c);
    assert_eq!(v, weighted_columns(&a, &c));
    // ∂/∂aᵢⱼ = 2cⱼaᵢⱼ for i ≥ 1, 0 for the first row.
    let mut want = &a * &c * 2.0;
    want.row_mut(0).fill(0.0);
    same("∇A", &g, &want, 1e-14);
}

/// Buffers changed in place: `fill`, `assign`, `+=`, `*=`, `scaled_add`.
#[differentiate]
fn in_place_updates(a: &Array1<f64>, b: &Array1<f64>, k: f64) -> f64 {
    let mut acc = Array1::<f64>::zeros(a.len());
    acc.fill(1.0);
    acc += a;
    acc *= b;
    acc.scaled_add(k, a);
    let mut out = Array1::<f64>::zeros(a.len());
    out.assign(&acc);
    out *= k;
    out.sum()
}

#[test]
fn fill_assign_compound_and_scaled_add() {
    let (a, b) = (vector(4, 0.2), vector(4, 0.8));
    let (v, (ga, gb, gk)) = in_place_updates_grad(&a, &b, 1.5);
    assert_eq!(v, in_place_updates(&a, &b, 1.5));
    // Σ k((1 + a) b + k a): ∇a = k(b + k), ∇b = k(1 + a), ∂k = Σ (1 + a)b + 2k a.
    same("∇a", &ga, &((&b + 1.5) * 1.5), 1e-14);
    same("∇b", &gb, &((&a + 1.0) * 1.5), 1e-14);
    close("∂k", gk, ((&a + 1.0) * &b).sum() + 3.0 * a.sum(), 1e-12);
}

/// A matrix built from zeros by element writes, `from_elem`, and `from_shape_vec` of a pushed
/// `Vec`.
#[differentiate]
fn built_matrices(x: &Array1<f64>) -> f64 {
    let n = x.len();
    let mut m = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            m[[i, j]] = x[i] * x[j];
        }
    }
    let bias = Array2::from_elem((n, n), 0.5);
    let mut v = Vec::new();
    for i in 0..n {
        v.push(x[i].sin());
        v.push(x[i].cos());
    }
    let p = Array2::from_shape_vec((n, 2), v).unwrap();
    (&m + &bias).sum() + p.column(0).dot(&p.column(1))
}

#[test]
fn matrices_built_by_writes_and_from_shape_vec() {
    let x = vector(3, 0.5);
    let (v, g) = built_matrices_grad(&x);
    assert_eq!(v, built_matrices(&x));
    // (Σx)² + 4.5 + Σ sin cos: ∂/∂xᵢ = 2Σx + cos 2xᵢ.
    let want = x.mapv(|xi| 2.0 * x.sum() + (2.0 * xi).cos());
    same("∇x", &g, &want, 1e-12);
}

/// Features joined by `concatenate!` and `stack!`: [x, x²] along columns, two pooled rows
/// stacked.
#[differentiate(wrt(w))]
fn joined_features(w: &Array1<f64>, x: &Array2<f64>) -> f64 {
    let sq = x.mapv(|v| v * v);
    let feats = ndarray::concatenate![Axis(1), x.view(), sq.view()];
    let z = feats.dot(w);
    let pooled = ndarray::stack![Axis(0), z.view(), z.mapv(f64::tanh).view()];
    pooled.sum_axis(Axis(1)).mapv(|v| v * v).sum()
}

#[test]
fn concatenate_and_stack_macros() {
    let x = matrix(3, 2, 0.45);
    let w = vector(4, 1.2);
    let (v, g) = joined_features_grad(&w, &x);
    assert_eq!(v, joined_features(&w, &x));
    fd_array("∇w", |w| joined_features(w, &x), &w, &g);
}

/// A flat parameter vector reshaped into a matrix, two ways (`theta.to_shape(..)` is an error
/// that names these).
#[differentiate(wrt(theta))]
fn reshaped(theta: &Array1<f64>, x: &Array2<f64>) -> f64 {
    let w = theta.clone().into_shape_with_order((3, 2)).unwrap();
    let v = theta.view().into_shape_with_order((2, 3)).unwrap();
    x.dot(&w).sum() + v.sum_axis(Axis(0)).mapv(|s| s * s).sum()
}

#[test]
fn reshape_a_flat_parameter_vector() {
    let theta = vector(6, 0.15);
    let x = matrix(4, 3, 0.75);
    let (v, g) = reshaped_grad(&theta, &x);
    assert_eq!(v, reshaped(&theta, &x));
    fd_array("∇θ", |t| reshaped(t, &x), &theta, &g);
}

/// tr(AᵀB A) through `diag()`, and an identity added by `Array2::eye`.
#[differentiate(wrt(a))]
fn trace_form(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let m = a.t().dot(b).dot(a) + Array2::<f64>::eye(a.ncols());
    m.diag().sum()
}

#[test]
fn trace_through_diag() {
    let a = matrix(3, 2, 0.65);
    let b = matrix(3, 3, 1.05);
    let (v, g) = trace_form_grad(&a, &b);
    assert_eq!(v, trace_form(&a, &b));
    // ∇A tr(AᵀBA) = (B + Bᵀ)A.
    same("∇A", &g, &(&b + &b.t()).dot(&a), 1e-12);
}

/// The Frobenius norm by hand, with `mapv` and `sqrt`, as a penalty: ∇ = λ A/‖A‖.
#[differentiate(wrt(a))]
fn frobenius_penalty(a: &Array2<f64>, lambda: f64) -> f64 {
    let norm = a.mapv(|v| v.powi(2)).sum().sqrt();
    lambda * norm
}

#[test]
fn frobenius_norm_by_hand() {
    let a = matrix(2, 3, 0.95);
    let (v, g) = frobenius_penalty_grad(&a, 0.3);
    assert_eq!(v, frobenius_penalty(&a, 0.3));
    let n = (&a * &a).sum().sqrt();
    same("∇A", &g, &(&a * (0.3 / n)), 1e-14);
}

/// A dense layer in `f32`, tanh through `mapv_into`.
#[differentiate(wrt(w, b))]
fn dense_f32(w: &Array2<f32>, b: &Array1<f32>, x: &Array2<f32>, y: &Array2<f32>) -> f32 {
    let h = (x.dot(w) + b).mapv_into(|v| v.tanh());
    let d = &h - y;
    d.mapv(|e| e * e).sum() / x.nrows() as f32
}

#[test]
fn dense_layer_in_single_precision() {
    let x = matrix(4, 3, 0.3).mapv(|v| v as f32);
    let y = matrix(4, 2, 0.4).mapv(|v| v as f32);
    let w = matrix(3, 2, 0.5).mapv(|v| v as f32);
    let b = vector(2, 0.6).mapv(|v| v as f32);
    let (l, (gw, gb)) = dense_f32_grad(&w, &b, &x, &y);
    assert_eq!(l, dense_f32(&w, &b, &x, &y));
    gradcheck(|w: &Array2<f32>| dense_f32(w, &b, &x, &y), &w, &gw).assert_ok();
    gradcheck(|b: &Array1<f32>| dense_f32(&w, b, &x, &y), &b, &gb).assert_ok();
}

/// A generic MSE of a linear model over `A: NdFloat`.
#[differentiate(wrt(w))]
fn generic_mse<A: ndarray::NdFloat>(w: &Array1<A>, x: &Array2<A>, y: &Array1<A>) -> A {
    let r = x.dot(w) - y;
    let n = A::from(y.len()).unwrap();
    r.mapv(|e| e * e).sum() / n
}

#[test]
fn generic_over_ndfloat() {
    let x = matrix(5, 2, 0.55);
    let y = vector(5, 0.85);
    let w = array![0.3, -0.6];
    let (l, g) = generic_mse_grad(&w, &x, &y);
    assert_eq!(l, generic_mse(&w, &x, &y));
    // ∇w = 2Xᵀr/N.
    same("∇w", &g, &(x.t().dot(&(x.dot(&w) - &y)) * 2.0 / 5.0), 1e-12);
    let (x32, y32, w32) = (
        x.mapv(|v| v as f32),
        y.mapv(|v| v as f32),
        w.mapv(|v| v as f32),
    );
    let (_, g32) = generic_mse_grad(&w32, &x32, &y32);
    gradcheck(|w: &Array1<f32>| generic_mse(w, &x32, &y32), &w32, &g32).assert_ok();
}

/// Rows of an output matrix written by `row_mut(i).assign(..)`, a region by
/// `slice_mut(s![..]).assign(..)` (a row broadcast over two rows) and a column by
/// `column_mut(j).assign(..)`: each was the error "`.assign(..)` is followed by the derivative
/// only on a variable".
#[differentiate(wrt(w))]
fn rows_assigned(w: &Array2<f64>, xs: &Array2<f64>) -> f64 {
    let mut out = Array2::<f64>::zeros((xs.nrows(), w.nrows()));
    for i in 0..xs.nrows() {
        let h = w.dot(&xs.row(i)).mapv(f64::tanh);
        out.row_mut(i).assign(&h);
    }
    let mut tail = Array2::<f64>::zeros((3, w.nrows()));
    tail.slice_mut(s![0..2, ..]).assign(&out.row(0));
    tail.slice_mut(s![2, ..]).assign(&out.sum_axis(Axis(0)));
    let scaled = &tail.column(1) * 3.0;
    tail.column_mut(0).assign(&scaled);
    out.mapv(|v| v * v).sum() + tail.mapv(|v| v * v).sum()
}

#[test]
fn rows_written_by_row_mut_assign() {
    let w = matrix(2, 3, 0.35);
    let xs = matrix(4, 3, 1.25);
    let (v, g) = rows_assigned_grad(&w, &xs);
    assert_eq!(v, rows_assigned(&w, &xs));
    fd_array("∇W", |w| rows_assigned(w, &xs), &w, &g);
}

/// Regions overwritten in a copy of the input, second order: Σ a³ with row 1 of `a` replaced
/// by `v`, and column 0 by 2·v[..n]. ∂/∂x is 3x² outside the overwritten entries, 0 on them.
#[differentiate(hessian)]
fn overwritten_cubes(x: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let mut a = x.clone();
    a.row_mut(1).assign(v);
    let head = v.slice(s![..x.nrows()]).mapv(|t| 2.0 * t);
    a.column_mut(0).assign(&head);
    a.mapv(|t| t.powi(3)).sum()
}

/// A helper that writes a row into its caller's `&mut` buffer (`out.row_mut(i).assign(h)` on a
/// `&mut` parameter), called on the rows of a layer's output.
#[differentiate]
fn put_row(out: &mut Array2<f64>, i: usize, h: &Array1<f64>) {
    out.row_mut(i).assign(h);
}

#[differentiate(wrt(w))]
fn rows_through_a_helper(w: &Array2<f64>, xs: &Array2<f64>) -> f64 {
    let mut out = Array2::<f64>::zeros((xs.nrows(), w.nrows()));
    for i in 0..xs.nrows() {
        let h = w.dot(&xs.row(i)).mapv(f64::sin);
        put_row(&mut out, i, &h);
    }
    out.mapv(|t| t * t).sum()
}

#[test]
fn regions_overwritten_forward_and_second_order() {
    let x = matrix(3, 4, 0.31);
    let v = vector(4, 0.41);
    let (val, (gx, gv)) = overwritten_cubes_grad(&x, &v);
    assert_eq!(val, overwritten_cubes(&x, &v));
    let mut want = x.mapv(|t| 3.0 * t * t);
    want.row_mut(1).fill(0.0);
    want.column_mut(0).fill(0.0);
    same("∇x", &gx, &want, 1e-14);
    // Column 0 is 2v₀, 2v₁, 2v₂ (entry [1, 0] overwritten there); row 1 keeps v₁, v₂, v₃.
    let wv = array![
        24.0 * v[0] * v[0],
        3.0 * v[1] * v[1] + 24.0 * v[1] * v[1],
        3.0 * v[2] * v[2] + 24.0 * v[2] * v[2],
        3.0 * v[3] * v[3]
    ];
    same("∇v", &gv, &wv, 1e-13);
    let p = (x.clone(), v.clone());
    let f = |p: &(Array2<f64>, Array1<f64>)| overwritten_cubes(&p.0, &p.1);
    gradcheck(f, &p, &(gx.clone(), gv.clone())).assert_ok();
    let dir = autodiff::check::random_direction(&p, 7);
    let (_, dy) = overwritten_cubes_jvp(&x, &v, &dir.0, &dir.1);
    close("jvp", dy, (&gx * &dir.0).sum() + gv.dot(&dir.1), 1e-12);
    let (_, _, hv) = overwritten_cubes_hvp(&x, &v, &dir.0, &dir.1);
    let grad = |p: &(Array2<f64>, Array1<f64>)| overwritten_cubes_grad(&p.0, &p.1).1;
    autodiff::check::hvpcheck(grad, &p, &dir, &hv).assert_ok();

    let w = matrix(2, 3, 0.51);
    let xs = matrix(4, 3, 0.61);
    let (val, g) = rows_through_a_helper_grad(&w, &xs);
    assert_eq!(val, rows_through_a_helper(&w, &xs));
    // Σᵢ ‖sin(W xᵢ)‖²: ∇W = Σᵢ (sin 2(W xᵢ)) xᵢᵀ.
    let mut wg = Array2::<f64>::zeros((2, 3));
    for i in 0..4 {
        let z = w.dot(&xs.row(i)).mapv(|t| (2.0 * t).sin());
        wg += &(&z.view().insert_axis(Axis(1)) * &xs.row(i).insert_axis(Axis(0)));
    }
    same("∇W", &g, &wg, 1e-12);
}

/// Batch normalization by hand over `Axis(0)`: centering by the batch mean broadcast as a row,
/// the variance over the batch, `mapv_inplace` for the activation.
#[differentiate(wrt(x, gamma))]
fn batch_norm_by_hand(x: &Array2<f64>, gamma: &Array1<f64>, t: &Array2<f64>) -> f64 {
    let mu = x.mean_axis(Axis(0)).unwrap();
    let xc = x - &mu.insert_axis(Axis(0));
    let var = xc.mapv(|v| v * v).mean_axis(Axis(0)).unwrap();
    let mut y = &xc / &var.mapv(|v| (v + 1e-5).sqrt()) * gamma;
    y.mapv_inplace(|v| v.tanh());
    (&y * t).sum()
}

#[test]
fn batch_norm_written_out() {
    let x = matrix(5, 3, 0.05);
    let g = vector(3, 1.55);
    let t = matrix(5, 3, 2.05);
    let (v, (gx, gg)) = batch_norm_by_hand_grad(&x, &g, &t);
    assert_eq!(v, batch_norm_by_hand(&x, &g, &t));
    fd_array("∇x", |x| batch_norm_by_hand(x, &g, &t), &x, &gx);
    fd_array("∇γ", |g| batch_norm_by_hand(&x, g, &t), &g, &gg);
    // Each column of ∇x sums to zero (shifting a feature over the batch changes nothing).
    for c in gx.columns() {
        assert!(c.sum().abs() < 1e-10, "{c}");
    }
}

/// A score function over views, called on rows of two matrices.
#[differentiate]
fn score(w: ArrayView1<'_, f64>, x: ArrayView1<'_, f64>) -> f64 {
    let s = w.dot(&x);
    s / (1.0 + s.abs())
}

#[differentiate(wrt(w))]
fn sum_of_scores(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        total += score(w.row(i % w.nrows()), x.row(i));
    }
    total
}

#[test]
fn view_helpers_on_rows() {
    let w = matrix(2, 3, 0.15);
    let x = matrix(5, 3, 0.95);
    let (v, g) = sum_of_scores_grad(&w, &x);
    assert_eq!(v, sum_of_scores(&w, &x));
    // d/ds s/(1+|s|) = 1/(1+|s|)².
    let mut want = Array2::<f64>::zeros((2, 3));
    for i in 0..5 {
        let s = w.row(i % 2).dot(&x.row(i));
        let mut r = want.row_mut(i % 2);
        r.scaled_add(1.0 / (1.0 + s.abs()).powi(2), &x.row(i));
    }
    same("∇W", &g, &want, 1e-12);
}

/// A layer as a helper returning an array, applied twice with `to_owned` and `clone` copies.
#[differentiate]
fn tanh_layer(w: &Array2<f64>, h: &Array2<f64>) -> Array2<f64> {
    h.dot(w).mapv(f64::tanh)
}

#[differentiate(wrt(w1, w2))]
fn two_layers(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let h1 = tanh_layer(w1, x);
    let skip = h1.to_owned();
    let h2 = tanh_layer(w2, &h1.clone());
    (&h2 + &skip).mapv(|v| v * v).sum()
}

#[test]
fn helper_layers_with_copies() {
    let x = matrix(3, 2, 0.85);
    let (w1, w2) = (matrix(2, 2, 0.25), matrix(2, 2, 1.45));
    let (v, (g1, g2)) = two_layers_grad(&w1, &w2, &x);
    assert_eq!(v, two_layers(&w1, &w2, &x));
    fd_array("∇W1", |w| two_layers(w, &w2, &x), &w1, &g1);
    fd_array("∇W2", |w| two_layers(&w1, w, &x), &w2, &g2);
}

/// `nn::relu`, `nn::softplus`, `nn::mse` together, and `sum_axis(Axis(0)).mean()`.
#[differentiate(wrt(w))]
fn nn_functions(w: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = nn::relu(&x.dot(w));
    let s = nn::softplus(&h);
    nn::mse(&s, y) + s.sum_axis(Axis(0)).mean().unwrap()
}

#[test]
fn nn_relu_softplus_mse() {
    let x = matrix(4, 3, 0.65);
    let y = matrix(4, 2, 0.35);
    let w = matrix(3, 2, 1.15);
    let (v, g) = nn_functions_grad(&w, &x, &y);
    assert_eq!(v, nn_functions(&w, &x, &y));
    fd_array("∇W", |w| nn_functions(w, &x, &y), &w, &g);
}

/// `map(|&v| ..)` with a branch, a transpose in a product, `x.dot(&w.t())`.
#[differentiate(wrt(w))]
fn leaky_transposed(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let z = x.dot(&w.t());
    let a = z.map(|&v| if v > 0.0 { v } else { 0.1 * v });
    a.t().dot(&a).sum()
}

#[test]
fn leaky_relu_by_map_and_transposes() {
    let x = matrix(4, 3, 0.15);
    let w = matrix(2, 3, 0.45);
    let (v, g) = leaky_transposed_grad(&w, &x);
    assert_eq!(v, leaky_transposed(&w, &x));
    fd_array("∇W", |w| leaky_transposed(w, &x), &w, &g);
}

// ---------------------------------------------------------------------------------------------
// More layers and losses.
// ---------------------------------------------------------------------------------------------

/// An LSTM cell with the four gates cut out of one pre-activation vector by slices.
#[differentiate(wrt(w, u, b))]
fn lstm(w: &Array2<f64>, u: &Array2<f64>, b: &Array1<f64>, xs: &Array2<f64>) -> f64 {
    let n = u.ncols();
    let mut h = Array1::<f64>::zeros(n);
    let mut c = Array1::<f64>::zeros(n);
    for t in 0..xs.nrows() {
        let g = w.dot(&xs.row(t)) + u.dot(&h) + b;
        let i = g.slice(s![0..n]).mapv(sigmoid);
        let f = g.slice(s![n..2 * n]).mapv(sigmoid);
        let o = g.slice(s![2 * n..3 * n]).mapv(sigmoid);
        let cand = g.slice(s![3 * n..]).mapv(f64::tanh);
        c = &f * &c + &i * &cand;
        h = &o * &c.mapv(f64::tanh);
    }
    h.sum()
}

#[test]
fn lstm_gates_by_slices() {
    let xs = matrix(4, 2, 0.12);
    let (w, u, b) = (matrix(8, 2, 0.22), matrix(8, 2, 0.32), vector(8, 0.42));
    let (v, (gw, gu, gb)) = lstm_grad(&w, &u, &b, &xs);
    assert_eq!(v, lstm(&w, &u, &b, &xs));
    fd_array("∇W", |w| lstm(w, &u, &b, &xs), &w, &gw);
    fd_array("∇U", |u| lstm(&w, u, &b, &xs), &u, &gu);
    fd_array("∇b", |b| lstm(&w, &u, b, &xs), &b, &gb);
}

/// Causal self-attention: a mask of −∞-like entries added as data before the softmax.
#[differentiate(wrt(x))]
fn causal_attention(x: &Array2<f64>, mask: &Array2<f64>) -> f64 {
    let scores = x.dot(&x.t()) / (x.ncols() as f64).sqrt() + mask;
    let e = scores.mapv(f64::exp);
    let att = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    att.dot(x).mapv(|v| v.powi(2)).sum()
}

#[test]
fn causal_masked_attention() {
    let x = matrix(4, 3, 0.62);
    let mask = Array2::from_shape_fn((4, 4), |(i, j)| if j > i { -1e9 } else { 0.0 });
    let (v, g) = causal_attention_grad(&x, &mask);
    assert_eq!(v, causal_attention(&x, &mask));
    fd_array("∇x", |x| causal_attention(x, &mask), &x, &g);
    // The first row attends to itself only: ‖x₀‖² through the value, and its last entry…
    // the last row of x is never attended to by earlier rows, so only its own output uses it.
}

/// Gaussian negative log-likelihood with a predicted mean and log-variance per example.
#[differentiate(wrt(wm, wv))]
fn gaussian_nll(wm: &Array1<f64>, wv: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mu = x.dot(wm);
    let logvar = x.dot(wv);
    let r = y - &mu;
    (0.5 * (&logvar + &(&r * &r / logvar.mapv(f64::exp))))
        .mean()
        .unwrap()
}

#[test]
fn heteroscedastic_gaussian_nll() {
    let x = matrix(6, 2, 0.72);
    let y = vector(6, 0.82);
    let (wm, wv) = (array![0.2, 0.4], array![-0.3, 0.1]);
    let (v, (gm, gv)) = gaussian_nll_grad(&wm, &wv, &x, &y);
    assert_eq!(v, gaussian_nll(&wm, &wv, &x, &y));
    // ∂/∂μ = −r/σ², ∂/∂logσ² = ½(1 − r²/σ²), each /N and through X.
    let mu = x.dot(&wm);
    let s2 = x.dot(&wv).mapv(f64::exp);
    let r = &y - &mu;
    same("∇wm", &gm, &(x.t().dot(&(-&r / &s2)) / 6.0), 1e-12);
    same(
        "∇wv",
        &gv,
        &(x.t().dot(&((1.0 - &r * &r / &s2) * 0.5)) / 6.0),
        1e-12,
    );
}

/// Cross-entropy with label smoothing: targets (1 − ε) one-hot + ε/C, built as data inside.
#[differentiate(wrt(z))]
fn label_smoothing(z: &Array2<f64>, labels: &[usize], eps: f64) -> f64 {
    let (n, c) = z.dim();
    let mut t = Array2::from_elem((n, c), eps / c as f64);
    for (i, &l) in labels.iter().enumerate() {
        t[[i, l]] += 1.0 - eps;
    }
    let logp = nn::log_softmax(z);
    -(&t * &logp).sum() / n as f64
}

#[test]
fn cross_entropy_with_label_smoothing() {
    let z = matrix(3, 4, 0.92);
    let labels = [1usize, 3, 0];
    let (v, g) = label_smoothing_grad(&z, &labels, 0.1);
    assert_eq!(v, label_smoothing(&z, &labels, 0.1));
    // ∂/∂z = (softmax(z) − t)/N.
    let mut t = Array2::from_elem((3, 4), 0.025);
    for (i, &l) in labels.iter().enumerate() {
        t[[i, l]] += 0.9;
    }
    same("∇z", &g, &((nn::softmax(&z) - &t) / 3.0), 1e-12);
}

/// InfoNCE over row-normalized embeddings: similarities `xn·ynᵀ/τ`, positives on the diagonal.
#[differentiate(wrt(x, y, tau))]
fn info_nce(x: &Array2<f64>, y: &Array2<f64>, tau: f64) -> f64 {
    let nx = x.mapv(|v| v * v).sum_axis(Axis(1)).mapv(f64::sqrt);
    let ny = y.mapv(|v| v * v).sum_axis(Axis(1)).mapv(f64::sqrt);
    let xn = x / &nx.insert_axis(Axis(1));
    let yn = y / &ny.insert_axis(Axis(1));
    let sim = xn.dot(&yn.t()) / tau;
    let logp = nn::log_softmax(&sim);
    -logp.diag().sum() / x.nrows() as f64
}

#[test]
fn info_nce_contrastive_loss() {
    let x = matrix(3, 4, 0.13);
    let y = matrix(3, 4, 0.23);
    let (v, (gx, gy, gt)) = info_nce_grad(&x, &y, 0.5);
    assert_eq!(v, info_nce(&x, &y, 0.5));
    fd_array("∇x", |x| info_nce(x, &y, 0.5), &x, &gx);
    fd_array("∇y", |y| info_nce(&x, y, 0.5), &y, &gy);
    fd("∂τ", |t| info_nce(&x, &y, t), 0.5, gt);
    // Scaling a row of x leaves the loss unchanged: ⟨∇xᵢ, xᵢ⟩ = 0.
    for i in 0..3 {
        assert!(gx.row(i).dot(&x.row(i)).abs() < 1e-12);
    }
}

/// Skip-gram with negative sampling: log σ(u_c·v_o) + Σ log σ(−u_c·v_k).
#[differentiate(wrt(ein, eout))]
fn skipgram(
    ein: &Array2<f64>,
    eout: &Array2<f64>,
    pairs: &[(usize, usize)],
    negs: &[usize],
) -> f64 {
    let mut loss = 0.0;
    for &(c, o) in pairs {
        let u = ein.row(c);
        loss -= sigmoid(u.dot(&eout.row(o))).ln();
        for &k in negs {
            loss -= sigmoid(-u.dot(&eout.row(k))).ln();
        }
    }
    loss
}

#[test]
fn skipgram_negative_sampling() {
    let ein = matrix(5, 3, 0.33);
    let eout = matrix(5, 3, 0.43);
    let pairs = [(0usize, 1usize), (2, 3), (4, 1)];
    let negs = [2usize, 4];
    let (v, (gi, go)) = skipgram_grad(&ein, &eout, &pairs, &negs);
    assert_eq!(v, skipgram(&ein, &eout, &pairs, &negs));
    fd_array("∇Ein", |e| skipgram(e, &eout, &pairs, &negs), &ein, &gi);
    fd_array("∇Eout", |e| skipgram(&ein, e, &pairs, &negs), &eout, &go);
    // Row 1 of Ein is never a center word.
    assert!(gi.row(1).iter().all(|&g| g == 0.0));
}

/// Max-over-time pooling of convolution features, each column's maximum by a fold.
#[differentiate(wrt(w))]
fn max_over_time(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let h = x.dot(w).mapv(f64::tanh);
    let mut pooled = Array1::<f64>::zeros(h.ncols());
    for j in 0..h.ncols() {
        pooled[j] = h
            .column(j)
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
    }
    pooled.dot(&pooled)
}

#[test]
fn max_pooling_over_time() {
    let x = matrix(5, 3, 0.53);
    let w = matrix(3, 2, 0.63);
    let (v, g) = max_over_time_grad(&w, &x);
    assert_eq!(v, max_over_time(&w, &x));
    // ∂/∂wₖⱼ = 2 mⱼ (1 − mⱼ²) x[i*, k], i* the row of column j's maximum mⱼ.
    let h = x.dot(&w).mapv(f64::tanh);
    let mut want = Array2::<f64>::zeros((3, 2));
    for j in 0..2 {
        let (i, &m) = h
            .column(j)
            .indexed_iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        for k in 0..3 {
            want[[k, j]] = 2.0 * m * (1.0 - m * m) * x[[i, k]];
        }
    }
    same("∇W", &g, &want, 1e-12);
}

/// Mean pooling over a padded batch with a length mask as data.
#[differentiate(wrt(emb))]
fn masked_mean_pool(emb: &Array2<f64>, tokens: &Array2<usize>, mask: &Array2<f64>) -> f64 {
    let (b, t) = mask.dim();
    let mut total = 0.0;
    for i in 0..b {
        let mut acc = Array1::<f64>::zeros(emb.ncols());
        for j in 0..t {
            acc.scaled_add(mask[[i, j]], &emb.row(tokens[[i, j]]));
        }
        let pooled = acc / mask.row(i).sum();
        total += pooled.mapv(|v| v * v).sum();
    }
    total
}

#[test]
fn mean_pooling_with_a_padding_mask() {
    let emb = matrix(4, 2, 0.73);
    let tokens = array![[1usize, 2, 0], [3, 0, 0]];
    let mask = array![[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]];
    let (v, g) = masked_mean_pool_grad(&emb, &tokens, &mask);
    assert_eq!(v, masked_mean_pool(&emb, &tokens, &mask));
    // Token 0 appears only as padding: no gradient.
    assert!(g.row(0).iter().all(|&x| x == 0.0));
    // Sentence 2 is token 3 alone: ∂/∂e₃ = 2e₃.
    same(
        "∇e₃",
        &g.row(3).to_owned(),
        &(emb.row(3).to_owned() * 2.0),
        1e-14,
    );
    fd_array("∇E", |e| masked_mean_pool(e, &tokens, &mask), &emb, &g);
}

/// Gumbel-softmax with the noise as data and a learned temperature.
#[differentiate(wrt(logits, temp))]
fn gumbel_softmax(
    logits: &Array1<f64>,
    temp: f64,
    gumbel: &Array1<f64>,
    values: &Array1<f64>,
) -> f64 {
    let y = (logits + gumbel) / temp;
    let e = y.mapv(f64::exp);
    let p = &e / e.sum();
    p.dot(values)
}

#[test]
fn gumbel_softmax_relaxation() {
    let logits = array![0.5, -0.2, 1.1];
    let g = array![0.3, -0.7, 0.05];
    let vals = array![1.0, 3.0, -2.0];
    let (v, (gl, gt)) = gumbel_softmax_grad(&logits, 0.7, &g, &vals);
    assert_eq!(v, gumbel_softmax(&logits, 0.7, &g, &vals));
    // Adding a constant to every logit changes nothing: Σ ∇logits = 0.
    assert!(gl.sum().abs() < 1e-12);
    fd_array(
        "∇logits",
        |l| gumbel_softmax(l, 0.7, &g, &vals),
        &logits,
        &gl,
    );
    fd("∂τ", |t| gumbel_softmax(&logits, t, &g, &vals), 0.7, gt);
}

/// The rows' scores collected into an `Array1` by a chain, and a sum by `fold` over rows.
#[differentiate(wrt(w))]
fn rows_collected(w: &Array1<f64>, x: &Array2<f64>) -> f64 {
    let s: Array1<f64> = x.rows().into_iter().map(|r| r.dot(w).tanh()).collect();
    let t = x
        .rows()
        .into_iter()
        .fold(0.0, |acc, r| acc + r.dot(w).powi(2));
    s.dot(&s) + t
}

#[test]
fn row_scores_collected_and_folded() {
    let x = matrix(4, 3, 0.83);
    let w = vector(3, 0.93);
    let (v, g) = rows_collected_grad(&w, &x);
    assert_eq!(v, rows_collected(&w, &x));
    // ∂/∂w = Σᵢ (2 tanh sᵢ (1 − tanh² sᵢ) + 2sᵢ) xᵢ.
    let sc = x.dot(&w);
    let k = sc.mapv(|s| 2.0 * s.tanh() * (1.0 - s.tanh().powi(2)) + 2.0 * s);
    same("∇w", &g, &x.t().dot(&k), 1e-12);
}

/// Unrolled inner gradient descent on a quadratic, the learning rate meta-learned: the inner
/// gradient written by hand, `w = &w - &(g * lr)` in a loop.
#[differentiate(wrt(lr, w0))]
fn unrolled_sgd(lr: f64, w0: &Array1<f64>, a: &Array2<f64>, b: &Array1<f64>, steps: usize) -> f64 {
    let mut w = w0.clone();
    for _ in 0..steps {
        let g = a.t().dot(&(a.dot(&w) - b));
        w = &w - &(g * lr);
    }
    let r = a.dot(&w) - b;
    0.5 * r.dot(&r)
}

#[test]
fn meta_learned_step_size() {
    let a = matrix(4, 2, 0.14);
    let b = vector(4, 0.24);
    let w0 = array![0.5, -0.5];
    let (v, (glr, gw0)) = unrolled_sgd_grad(0.1, &w0, &a, &b, 5);
    assert_eq!(v, unrolled_sgd(0.1, &w0, &a, &b, 5));
    fd("∂lr", |lr| unrolled_sgd(lr, &w0, &a, &b, 5), 0.1, glr);
    fd_array("∇w0", |w| unrolled_sgd(0.1, w, &a, &b, 5), &w0, &gw0);
    // With zero steps the loss is ½‖Aw₀ − b‖², and its gradient Aᵀ(Aw₀ − b).
    let (_, (g0, gw)) = unrolled_sgd_grad(0.1, &w0, &a, &b, 0);
    assert_eq!(g0, 0.0);
    same("∇w0", &gw, &a.t().dot(&(a.dot(&w0) - &b)), 1e-14);
}

// ---------------------------------------------------------------------------------------------
// Parameter structs trained by the runtime's optimizers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array2<f64>,
    b2: Array1<f64>,
}

impl Mlp {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        let h = (x.dot(&self.w1) + &self.b1).mapv(|v| v.max(0.0));
        h.dot(&self.w2) + &self.b2
    }

    /// Cross-entropy with integer labels plus an L2 penalty on the weights.
    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array2<f64>, labels: &[usize], l2: f64) -> f64 {
        let logits = self.forward(x);
        let penalty = (&self.w1 * &self.w1).sum() + (&self.w2 * &self.w2).sum();
        nn::cross_entropy(&logits, labels) + l2 * penalty
    }
}

fn blobs() -> (Array2<f64>, Vec<usize>) {
    let x = array![
        [1.0, 0.9],
        [0.8, 1.2],
        [1.1, 1.0],
        [-1.0, -0.8],
        [-0.9, -1.1],
        [-1.2, -1.0],
        [1.0, -1.0],
        [0.9, -1.2],
        [1.1, -0.8]
    ];
    (x, vec![0, 0, 0, 1, 1, 1, 2, 2, 2])
}

#[test]
fn mlp_methods_trained_with_adam() {
    let (x, labels) = blobs();
    let mut m = Mlp {
        w1: matrix(2, 5, 0.17) * 0.8,
        b1: Array1::from_elem(5, 0.1),
        w2: matrix(5, 3, 0.27) * 0.8,
        b2: Array1::zeros(3),
    };
    let (l0, g) = m.loss_grad(&x, &labels, 1e-3);
    assert_eq!(l0, m.loss(&x, &labels, 1e-3));
    assert_gradient(|p: &Mlp| p.loss(&x, &labels, 1e-3), &m, &g);
    // ∂/∂b2 = Σ rows of (softmax − onehot)/N.
    let mut d = nn::softmax(&m.forward(&x));
    for (i, &c) in labels.iter().enumerate() {
        d[[i, c]] -= 1.0;
    }
    same("∇b2", &g.b2, &(d.sum_axis(Axis(0)) / 9.0), 1e-12);
    let (_, l1) = train_adam(&mut m, 0.05, 150, |m: &Mlp| m.loss_grad(&x, &labels, 1e-3));
    assert!(l1 < 0.2 * l0, "{l0} → {l1}");
    let pred = m.forward(&x);
    for (i, &c) in labels.iter().enumerate() {
        let best = (0..3)
            .max_by(|&a, &b| pred[[i, a]].total_cmp(&pred[[i, b]]))
            .unwrap();
        assert_eq!(best, c, "example {i}");
    }
}

#[derive(Clone, Differentiable)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

impl Dense {
    #[differentiate]
    fn apply(&self, h: &Array2<f64>) -> Array2<f64> {
        (h.dot(&self.w) + &self.b).mapv(f64::tanh)
    }
}

#[derive(Clone, Differentiable)]
struct ResNet {
    blocks: Vec<Dense>,
    head: Array1<f64>,
}

/// Residual blocks from a `Vec` field, each with a learned layer norm gain, MSE at the end.
#[differentiate(wrt(net))]
fn resnet_loss(net: &ResNet, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut h = x.clone();
    for blk in &net.blocks {
        let mu = h.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
        let c = &h - &mu;
        let sd = c
            .mapv(|v| v * v)
            .mean_axis(Axis(1))
            .unwrap()
            .mapv(|v| (v + 1e-5).sqrt());
        let normed = &c / &sd.insert_axis(Axis(1));
        h = &h + &blk.apply(&normed);
    }
    let pred = h.dot(&net.head);
    let r = &pred - y;
    r.dot(&r) / y.len() as f64
}

#[test]
fn residual_blocks_trained_with_sgd() {
    let x = matrix(6, 3, 0.19);
    let y = x.column(0).mapv(|v| 2.0 * v) - x.column(2).to_owned();
    let mut net = ResNet {
        blocks: vec![
            Dense {
                w: matrix(3, 3, 0.29) * 0.5,
                b: vector(3, 0.39) * 0.1,
            },
            Dense {
                w: matrix(3, 3, 0.49) * 0.5,
                b: vector(3, 0.59) * 0.1,
            },
        ],
        head: vector(3, 0.69),
    };
    let (l0, g) = resnet_loss_grad(&net, &x, &y);
    assert_eq!(l0, resnet_loss(&net, &x, &y));
    assert_gradient(|n: &ResNet| resnet_loss(n, &x, &y), &net, &g);
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..200 {
        let (_, g) = resnet_loss_grad(&net, &x, &y);
        sgd.step(&mut net, &g);
    }
    let l1 = resnet_loss(&net, &x, &y);
    assert!(l1 < 0.5 * l0, "{l0} → {l1}");
}

#[derive(Clone, Differentiable)]
struct TextClassifier {
    emb: Array2<f64>,
    attn: Array1<f64>,
    out: Array2<f64>,
}

impl TextClassifier {
    /// Attention pooling over the token embeddings of one sentence.
    #[differentiate]
    fn encode(&self, tokens: &[usize]) -> Array1<f64> {
        let mut rows = Array2::<f64>::zeros((tokens.len(), self.emb.ncols()));
        for (t, &id) in tokens.iter().enumerate() {
            rows.row_mut(t).assign(&self.emb.row(id));
        }
        let scores = rows.dot(&self.attn);
        let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e = scores.mapv(|s| (s - m).exp());
        let a = &e / e.sum();
        a.dot(&rows)
    }
}

#[differentiate(wrt(model))]
fn text_loss(model: &TextClassifier, sentences: &[Vec<usize>], labels: &[usize]) -> f64 {
    let mut total = 0.0;
    for (s, &c) in sentences.iter().zip(labels.iter()) {
        let z = model.encode(s).dot(&model.out);
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + z.mapv(|v| (v - m).exp()).sum().ln();
        total += lse - z[c];
    }
    total / labels.len() as f64
}

#[test]
fn attention_pooled_text_classifier_trains() {
    let sentences = vec![
        vec![0usize, 1, 2],
        vec![3, 4],
        vec![0, 2],
        vec![4, 3, 3],
        vec![1, 1],
    ];
    let labels = [0usize, 1, 0, 1, 0];
    let mut model = TextClassifier {
        emb: matrix(5, 3, 0.21),
        attn: vector(3, 0.31),
        out: matrix(3, 2, 0.41),
    };
    let (l0, g) = text_loss_grad(&model, &sentences, &labels);
    assert_eq!(l0, text_loss(&model, &sentences, &labels));
    assert_gradient(
        |m: &TextClassifier| text_loss(m, &sentences, &labels),
        &model,
        &g,
    );
    let (_, l1) = train_adam(&mut model, 0.05, 100, |m| {
        text_loss_grad(m, &sentences, &labels)
    });
    assert!(l1 < 0.3 * l0, "{l0} → {l1}");
}

#[derive(Clone, Differentiable)]
struct Linear32 {
    w: Array2<f32>,
    b: Array1<f32>,
}

/// Softmax regression in `f32` with the log-softmax by hand, trained by Adam over `f32`.
#[differentiate(wrt(p))]
fn softmax_regression_f32(p: &Linear32, x: &Array2<f32>, labels: &[usize]) -> f32 {
    let z = x.dot(&p.w) + &p.b;
    let mut total = 0.0f32;
    for i in 0..z.nrows() {
        let row = z.row(i);
        let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let lse = m + row.mapv(|v| (v - m).exp()).sum().ln();
        total += lse - row[labels[i]];
    }
    total / z.nrows() as f32
}

#[test]
fn single_precision_struct_trained_with_adam() {
    let (x, labels) = blobs();
    let x = x.mapv(|v| v as f32);
    let mut p = Linear32 {
        w: matrix(2, 3, 0.11).mapv(|v| v as f32),
        b: Array1::zeros(3),
    };
    let (l0, g) = softmax_regression_f32_grad(&p, &x, &labels);
    assert_eq!(l0, softmax_regression_f32(&p, &x, &labels));
    gradcheck(
        |q: &Linear32| softmax_regression_f32(q, &x, &labels),
        &p,
        &g,
    )
    .assert_ok();
    let (_, l1) = train_adam(&mut p, 0.1, 100, |q| {
        softmax_regression_f32_grad(q, &x, &labels)
    });
    assert!(l1 < 0.3 * l0, "{l0} → {l1}");
}

#[derive(Clone, Differentiable)]
struct Vae {
    enc: Array2<f64>,
    mu: Array2<f64>,
    logvar: Array2<f64>,
    dec: Array2<f64>,
}

/// A VAE's negative ELBO with the reparametrization noise as data: reconstruction MSE plus the
/// closed-form KL of N(μ, σ²) to N(0, 1), −½ Σ (1 + log σ² − μ² − σ²).
#[differentiate(wrt(v))]
fn neg_elbo(v: &Vae, x: &Array2<f64>, eps: &Array2<f64>) -> f64 {
    let h = x.dot(&v.enc).mapv(f64::tanh);
    let mu = h.dot(&v.mu);
    let logvar = h.dot(&v.logvar);
    let z = &mu + &(&logvar.mapv(|l| (0.5 * l).exp()) * eps);
    let recon = z.dot(&v.dec);
    let mse = (&recon - x).mapv(|e| e * e).sum();
    let kl = -0.5 * (1.0 + &logvar - &mu.mapv(|m| m * m) - logvar.mapv(f64::exp)).sum();
    (mse + kl) / x.nrows() as f64
}

#[test]
fn vae_negative_elbo_trains() {
    let x = matrix(6, 4, 0.16);
    let eps = matrix(6, 2, 0.26) * 0.5;
    let mut v = Vae {
        enc: matrix(4, 3, 0.36) * 0.5,
        mu: matrix(3, 2, 0.46) * 0.5,
        logvar: matrix(3, 2, 0.56) * 0.1,
        dec: matrix(2, 4, 0.66) * 0.5,
    };
    let (l0, g) = neg_elbo_grad(&v, &x, &eps);
    assert_eq!(l0, neg_elbo(&v, &x, &eps));
    assert_gradient(|p: &Vae| neg_elbo(p, &x, &eps), &v, &g);
    let (_, l1) = train_adam(&mut v, 0.02, 100, |p| neg_elbo_grad(p, &x, &eps));
    assert!(l1 < 0.7 * l0, "{l0} → {l1}");
}

// ---------------------------------------------------------------------------------------------
// Views, strides, in-place updates carried by loops, and three dimensions.
// ---------------------------------------------------------------------------------------------

/// Stepped and reversed regions, transposes of regions, products of views.
#[differentiate(wrt(a))]
fn strided_views(a: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let even = a.slice(s![..;2, ..]);
    let rev = a.slice(s![..;-1, 1..]);
    let p = even.t().dot(&even);
    let q = rev.dot(&v.slice(s![1..]));
    p.sum() + q.mapv(|t| t * t).sum() + a.slice(s![.., ..;-1]).column(0).sum()
}

#[test]
fn stepped_and_reversed_regions() {
    let a = matrix(5, 3, 0.18);
    let v = vector(3, 0.28);
    let (val, g) = strided_views_grad(&a, &v);
    assert_eq!(val, strided_views(&a, &v));
    fd_array("∇A", |a| strided_views(a, &v), &a, &g);
}

/// Momentum written by hand inside the objective: a velocity array carried by the loop and
/// changed in place by `*=` and `+=`, the parameter by `scaled_add`.
#[differentiate(wrt(w0, beta))]
fn heavy_ball(w0: &Array1<f64>, beta: f64, a: &Array2<f64>, steps: usize) -> f64 {
    let mut w = w0.clone();
    let mut vel = Array1::<f64>::zeros(w.len());
    for _ in 0..steps {
        let g = a.t().dot(&a.dot(&w)) + &w * 0.1;
        vel *= beta;
        vel += &g;
        w.scaled_add(-0.05, &vel);
    }
    w.dot(&w)
}

#[test]
fn momentum_carried_by_a_loop() {
    let a = matrix(3, 2, 0.38);
    let w0 = array![1.0, -0.5];
    let (val, (gw, gb)) = heavy_ball_grad(&w0, 0.9, &a, 6);
    assert_eq!(val, heavy_ball(&w0, 0.9, &a, 6));
    fd_array("∇w0", |w| heavy_ball(w, 0.9, &a, 6), &w0, &gw);
    fd("∂β", |b| heavy_ball(&w0, b, &a, 6), 0.9, gb);
}

/// A batch of sequences as a 3-D array: per-step projections by `slice(s![.., t, ..])`, sums
/// over two axes in turn.
#[differentiate(wrt(w))]
fn batch_of_sequences(w: &Array2<f64>, x: &ndarray::Array3<f64>) -> f64 {
    let (_, steps, _) = x.dim();
    let mut total = 0.0;
    for t in 0..steps {
        let xt = x.slice(s![.., t, ..]);
        let h = xt.dot(w).mapv(f64::tanh);
        total += h.sum_axis(Axis(1)).mapv(|s| s * s).sum() * (t + 1) as f64;
    }
    let pooled = x.sum_axis(Axis(1)).sum_axis(Axis(0));
    total + pooled.dot(&w.column(0))
}

#[test]
fn three_dimensional_batch() {
    let x = ndarray::Array3::from_shape_vec((2, 3, 4), data(24, 0.48)).unwrap();
    let w = matrix(4, 2, 0.58);
    let (val, g) = batch_of_sequences_grad(&w, &x);
    assert_eq!(val, batch_of_sequences(&w, &x));
    fd_array("∇W", |w| batch_of_sequences(w, &x), &w, &g);
}

/// `mapv_into` on a copy of a parameter and `mapv_inplace` on a local, then the parameter read
/// again: the copies must not change it.
#[differentiate]
fn copies_then_in_place(a: &Array1<f64>) -> f64 {
    let b = a.clone().mapv_into(|v| v * v);
    let mut c = a.to_owned();
    c.mapv_inplace(f64::sin);
    c *= &b;
    (&c + a).sum() + a.sum()
}

#[test]
fn in_place_maps_on_copies() {
    let a = vector(4, 0.68);
    let (val, g) = copies_then_in_place_grad(&a);
    assert_eq!(val, copies_then_in_place(&a));
    // Σ sin(aᵢ) aᵢ² + 2Σ aᵢ: ∂/∂aᵢ = cos(aᵢ) aᵢ² + 2 sin(aᵢ) aᵢ + 2.
    let want = a.mapv(|x| x.cos() * x * x + 2.0 * x.sin() * x + 2.0);
    same("∇a", &g, &want, 1e-14);
}

/// A broadcast row subtracted with `insert_axis(Axis(0))`, a column divided with `Axis(1)`, and
/// a scalar broadcast by `assign` of a 0-d array view.
#[differentiate]
fn broadcasts(x: &Array2<f64>, r: &Array1<f64>, c: &Array1<f64>) -> f64 {
    let y = (x - &r.view().insert_axis(Axis(0))) / &c.view().insert_axis(Axis(1));
    let mut z = Array2::<f64>::zeros(x.raw_dim());
    z.assign(r);
    (&y * &y).sum() + (&z * x).sum()
}

#[test]
fn broadcasting_rows_and_columns() {
    let x = matrix(3, 2, 0.78);
    let r = vector(2, 0.88);
    let c = vector(3, 0.98).mapv(|v| v + 2.0);
    let (val, (gx, gr, gc)) = broadcasts_grad(&x, &r, &c);
    assert_eq!(val, broadcasts(&x, &r, &c));
    let p = (x.clone(), r.clone(), c.clone());
    let f = |p: &(Array2<f64>, Array1<f64>, Array1<f64>)| broadcasts(&p.0, &p.1, &p.2);
    gradcheck(f, &p, &(gx, gr, gc)).assert_ok();
}

/// A generic layer norm over `A: NdFloat`, second order (`hessian`).
#[differentiate(hessian)]
fn generic_norm<A: ndarray::NdFloat>(x: &Array1<A>, g: &Array1<A>) -> A {
    let n = A::from(x.len()).unwrap();
    let mu = x.sum() / n;
    let c = x.mapv(|v| v - mu);
    let var = c.dot(&c) / n;
    let y = &c / (var + A::from(1e-5).unwrap()).sqrt() * g;
    y.mapv(|v| v.powi(3)).sum()
}

#[test]
fn generic_norm_hessian_vector_product() {
    let x = array![0.3, -1.2, 0.8, 2.0];
    let g = array![1.0, 0.5, -0.7, 1.3];
    let (val, (gx, gg)) = generic_norm_grad(&x, &g);
    assert_eq!(val, generic_norm(&x, &g));
    let p = (x.clone(), g.clone());
    let f = |p: &(Array1<f64>, Array1<f64>)| generic_norm(&p.0, &p.1);
    gradcheck(f, &p, &(gx, gg)).assert_ok();
    let dir = autodiff::check::random_direction(&p, 3);
    let (_, _, hv) = generic_norm_hvp(&x, &g, &dir.0, &dir.1);
    let grad = |p: &(Array1<f64>, Array1<f64>)| generic_norm_grad(&p.0, &p.1).1;
    autodiff::check::hvpcheck(grad, &p, &dir, &hv).assert_ok();
}

/// Attention over a batch with the value projection written into a 3-D buffer by
/// `slice_mut(s![b, .., ..]).assign(..)`.
#[differentiate(wrt(wv))]
fn batched_values(wv: &Array2<f64>, x: &ndarray::Array3<f64>) -> f64 {
    let (nb, nt, _) = x.dim();
    let mut v = ndarray::Array3::<f64>::zeros((nb, nt, wv.ncols()));
    for b in 0..nb {
        let proj = x.slice(s![b, .., ..]).dot(wv);
        v.slice_mut(s![b, .., ..]).assign(&proj);
    }
    v.mapv(|t| t.tanh()).sum()
}

#[test]
fn three_dimensional_buffer_written_by_slice_mut() {
    let x = ndarray::Array3::from_shape_vec((2, 3, 2), data(12, 0.11)).unwrap();
    let wv = matrix(2, 3, 0.21);
    let (val, g) = batched_values_grad(&wv, &x);
    assert_eq!(val, batched_values(&wv, &x));
    fd_array("∇Wv", |w| batched_values(w, &x), &wv, &g);
}

// ---------------------------------------------------------------------------------------------
// Row maxima and minima by `fold_axis`: each was the error "`.fold_axis(..)` with a closure
// reads a differentiated value".
// ---------------------------------------------------------------------------------------------

/// Log-softmax with the max trick written with `fold_axis`, cross-entropy with labels.
#[differentiate(wrt(z))]
fn log_softmax_fold_axis(z: &Array2<f64>, labels: &[usize]) -> f64 {
    let m = z.fold_axis(Axis(1), f64::NEG_INFINITY, |&a, &b| a.max(b));
    let shifted = z - &m.insert_axis(Axis(1));
    let lse = shifted.mapv(f64::exp).sum_axis(Axis(1)).mapv(f64::ln);
    let mut nll = 0.0;
    for (i, &c) in labels.iter().enumerate() {
        nll += lse[i] - shifted[[i, c]];
    }
    nll / labels.len() as f64
}

/// Min-max scaling of each feature with `fold_axis` over the batch (`min` with the operands
/// the other way round, `max` through `f64::max`), then a weighted sum.
#[differentiate(hessian)]
fn min_max_scaled(x: &Array2<f64>, t: &Array2<f64>) -> f64 {
    let lo = x.fold_axis(Axis(0), f64::INFINITY, |a, &b| b.min(*a));
    let hi = x.fold_axis(Axis(0), f64::NEG_INFINITY, |&a, &b| f64::max(a, b));
    let y = (x - &lo) / &(&hi - &lo);
    (&y * &y * t).sum()
}

/// A max with a finite initial value, `fold_axis(Axis(1), 0.0, ..)`: a ReLU of each row's
/// maximum; and the same in exact mode at kinks.
#[differentiate]
fn relu_of_row_max(x: &Array2<f64>) -> f64 {
    let m = x.fold_axis(Axis(1), 0.0f64, |&a, &b| a.max(b));
    m.mapv(|v| v * v).sum()
}

#[differentiate(kinks = exact)]
fn relu_of_row_max_exact(x: &Array2<f64>) -> f64 {
    let m = x.fold_axis(Axis(1), 0.0f64, |&a, &b| a.max(b));
    m.sum()
}

/// The max trick in a generic softmax over `T: Float`, the maxima of `f32` rows.
#[differentiate]
fn generic_softmax_max<T: num_traits::Float + 'static>(z: &Array2<T>) -> T {
    let m = z.fold_axis(Axis(1), T::neg_infinity(), |&a, &b| a.max(b));
    let e = (z - &m.insert_axis(Axis(1))).mapv(|v| v.exp());
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    p.mapv(|v| v * v).sum()
}

#[test]
fn row_extrema_by_fold_axis() {
    let z = matrix(3, 4, 0.47).mapv(|v| v as f32);
    let (v, g) = generic_softmax_max_grad(&z);
    assert_eq!(v, generic_softmax_max(&z));
    gradcheck(|z: &Array2<f32>| generic_softmax_max(z), &z, &g).assert_ok();

    let z = matrix(4, 3, 0.17) * 3.0;
    let labels = [2usize, 0, 1, 1];
    let (l, g) = log_softmax_fold_axis_grad(&z, &labels);
    assert_eq!(l, log_softmax_fold_axis(&z, &labels));
    // The shift cancels: the gradient is nn::cross_entropy's, (softmax − onehot)/N.
    close("loss", l, nn::cross_entropy(&z, &labels), 1e-12);
    let mut want = nn::softmax(&z);
    for (i, &c) in labels.iter().enumerate() {
        want[[i, c]] -= 1.0;
    }
    same("∇z", &g, &(want / 4.0), 1e-12);

    let x = matrix(4, 2, 0.27);
    let t = matrix(4, 2, 0.37);
    let (v, (gx, gt)) = min_max_scaled_grad(&x, &t);
    assert_eq!(v, min_max_scaled(&x, &t));
    fd_array("∇x", |x| min_max_scaled(x, &t), &x, &gx);
    fd_array("∇t", |t| min_max_scaled(&x, t), &t, &gt);
    let p = (x.clone(), t.clone());
    let dir = autodiff::check::random_direction(&p, 5);
    let (_, dy) = min_max_scaled_jvp(&x, &t, &dir.0, &dir.1);
    close(
        "jvp",
        dy,
        (&gx * &dir.0).sum() + (&gt * &dir.1).sum(),
        1e-12,
    );
    let (_, _, hv) = min_max_scaled_hvp(&x, &t, &dir.0, &dir.1);
    let grad = |p: &(Array2<f64>, Array2<f64>)| min_max_scaled_grad(&p.0, &p.1).1;
    autodiff::check::hvpcheck(grad, &p, &dir, &hv).assert_ok();

    // Row 0's maximum is 0.7, row 1's elements are all negative (the initial 0 wins), row 2
    // ties at 0.4: ∂/∂x is 2m at the maximum, nothing in row 1, split between the ties.
    let x = array![[0.7, -0.2, 0.1], [-0.5, -0.1, -0.3], [0.4, 0.4, -1.0]];
    let (v, g) = relu_of_row_max_grad(&x);
    assert_eq!(v, relu_of_row_max(&x));
    let want = array![[1.4, 0.0, 0.0], [0.0, 0.0, 0.0], [0.4, 0.4, 0.0]];
    same("∇x", &g, &want, 1e-15);
    // Exact mode: the tied maxima of row 2 take the cotangent as the plain rule does (a
    // direction chooses between them only in the directional derivative).
    let (_, ge) = relu_of_row_max_exact_grad(&x);
    assert_eq!(ge[[0, 0]], 1.0);
    assert_eq!(ge.row(1).sum(), 0.0);
    close("row 2", ge.row(2).sum(), 1.0, 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Aliasing: one array on both sides of an operation, and updates that read what they write.
// ---------------------------------------------------------------------------------------------

/// ‖A − Aᵀ‖² + tr(A A) + a buffer updated from itself (`b.assign(&(&b * 2.0))`, `b += &b.t()`)
/// and a region overwritten from another region of the same array.
#[differentiate]
fn self_referencing(a: &Array2<f64>) -> f64 {
    let skew = a - &a.t();
    let sq = a.dot(a);
    let mut b = a.clone();
    let doubled = &b * 2.0;
    b.assign(&doubled);
    let bt = b.t().to_owned();
    b += &bt;
    let first = b.row(0).to_owned();
    b.row_mut(1).assign(&first);
    (&skew * &skew).sum() + sq.diag().sum() + b.mapv(|v| v * v).sum()
}

#[test]
fn arrays_on_both_sides() {
    let a = matrix(3, 3, 0.57);
    let (v, g) = self_referencing_grad(&a);
    assert_eq!(v, self_referencing(&a));
    fd_array("∇A", self_referencing, &a, &g);
}

/// A vector normalized in place in a loop: `v /= norm`, `v.mapv_inplace`, power iteration.
#[differentiate]
fn power_iteration(m: &Array2<f64>, v0: &Array1<f64>) -> f64 {
    let mut v = v0.clone();
    for _ in 0..8 {
        v = m.dot(&v);
        let n = v.dot(&v).sqrt();
        v /= n;
    }
    v.dot(&m.dot(&v))
}

#[test]
fn power_iteration_rayleigh_quotient() {
    let m = array![[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]];
    let v0 = array![1.0, 0.5, -0.2];
    let (val, (gm, gv)) = power_iteration_grad(&m, &v0);
    assert_eq!(val, power_iteration(&m, &v0));
    fd_array("∇M", |m| power_iteration(m, &v0), &m, &gm);
    fd_array("∇v0", |v| power_iteration(&m, v), &v0, &gv);
}

// ---------------------------------------------------------------------------------------------
// The runtime's layers beside hand-written ones, data-dependent choices, early stopping.
// ---------------------------------------------------------------------------------------------

/// `conv::conv1d` against the convolution by slices above, and `nn::batch_norm` against the
/// one written out.
#[differentiate(wrt(w, x))]
fn runtime_layers(w: &Array1<f64>, x: &Array1<f64>, xb: &Array2<f64>, gamma: &Array1<f64>) -> f64 {
    let y = autodiff::conv::conv1d(x, w);
    let bn = nn::batch_norm(xb, gamma, &Array1::zeros(gamma.len()), 1e-5);
    0.5 * y.dot(&y) + bn.mapv(f64::tanh).sum() * x[0]
}

#[differentiate(wrt(w, x))]
fn hand_layers(w: &Array1<f64>, x: &Array1<f64>, xb: &Array2<f64>, gamma: &Array1<f64>) -> f64 {
    let k = w.len();
    let n = x.len() - k + 1;
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        y[i] = x.slice(s![i..i + k]).dot(w);
    }
    let mu = xb.mean_axis(Axis(0)).unwrap();
    let c = xb - &mu.view().insert_axis(Axis(0));
    let var = c.mapv(|v| v * v).mean_axis(Axis(0)).unwrap();
    let bn = &c / &var.mapv(|v| (v + 1e-5).sqrt()) * gamma;
    0.5 * y.dot(&y) + bn.mapv(f64::tanh).sum() * x[0]
}

#[test]
fn runtime_layers_match_hand_written_ones() {
    let w = array![0.3, -0.2, 0.5];
    let x = vector(7, 0.19);
    let xb = matrix(5, 2, 0.29);
    let gamma = array![1.2, 0.7];
    let (v1, (gw1, gx1)) = runtime_layers_grad(&w, &x, &xb, &gamma);
    let (v2, (gw2, gx2)) = hand_layers_grad(&w, &x, &xb, &gamma);
    assert_eq!(v1, runtime_layers(&w, &x, &xb, &gamma));
    assert_eq!(v2, hand_layers(&w, &x, &xb, &gamma));
    close("value", v1, v2, 1e-12);
    same("∇w", &gw1, &gw2, 1e-12);
    same("∇x", &gx1, &gx2, 1e-12);
    fd_array("∇w", |w| hand_layers(w, &x, &xb, &gamma), &w, &gw2);
}

/// Hard negative mining: the index of the most similar wrong class found as data
/// (`enumerate().max_by(..)`), then a margin loss on the scores it picks.
#[differentiate(wrt(w))]
fn hard_negative(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize], margin: f64) -> f64 {
    let s = x.dot(w);
    let mut total = 0.0;
    for i in 0..labels.len() {
        let row = s.row(i);
        let (j, _) = row
            .iter()
            .enumerate()
            .filter(|(c, _)| *c != labels[i])
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        total += (margin + row[j] - row[labels[i]]).max(0.0);
    }
    total
}

#[test]
fn hard_negative_margin_loss() {
    let x = matrix(4, 3, 0.39);
    let w = matrix(3, 4, 0.49);
    let labels = [1usize, 0, 3, 2];
    let (v, g) = hard_negative_grad(&w, &x, &labels, 0.5);
    assert_eq!(v, hard_negative(&w, &x, &labels, 0.5));
    fd_array("∇W", |w| hard_negative(w, &x, &labels, 0.5), &w, &g);
}

/// Gradient descent inside the objective that stops early when the step gets small, on a
/// covariance matrix `XᵀX/n` built from the data: the pullback recomputes the quotient from
/// the product, which the forward pass's `/` moved (rustc's E0382 "use of moved value" in the
/// generated code, for any operator of inactive arrays whose operand the pullback reads).
#[differentiate(wrt(reg))]
fn ridge_path(reg: f64, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let n = x.nrows() as f64;
    let cov = x.t().dot(x) / n + &(Array2::<f64>::eye(x.ncols()) * reg);
    let xty = x.t().dot(y) / n;
    let mut w = Array1::<f64>::zeros(x.ncols());
    for _ in 0..200 {
        let step = (&cov.dot(&w) - &xty) * 0.5;
        w = &w - &step;
        if step.dot(&step) < 1e-20 {
            break;
        }
    }
    let r = x.dot(&w) - y;
    r.dot(&r) / n
}

#[test]
fn ridge_solution_by_descent_with_early_stop() {
    let x = matrix(6, 2, 0.59);
    let y = vector(6, 0.69);
    let (v, g) = ridge_path_grad(0.3, &x, &y);
    assert_eq!(v, ridge_path(0.3, &x, &y));
    fd("∂reg", |r| ridge_path(r, &x, &y), 0.3, g);
}

/// The rows of two matrices read in step (`a.rows().into_iter().zip(b.rows())` is an error that
/// says what `zip` takes: the rows are read by index), a column copied (`x.column(0)
/// .to_owned()`) and a view dotted.
#[differentiate(wrt(a, b))]
fn zipped_rows(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let mut total = 0.0;
    for i in 0..a.nrows() {
        total += a.row(i).dot(&b.row(i)).powi(2);
    }
    let c0 = a.column(0).to_owned();
    let bv = b.view();
    total + c0.dot(&bv.column(1))
}

#[test]
fn rows_of_two_matrices_zipped() {
    let a = matrix(3, 2, 0.79);
    let b = matrix(3, 2, 0.89);
    let (v, (ga, gb)) = zipped_rows_grad(&a, &b);
    assert_eq!(v, zipped_rows(&a, &b));
    fd_array("∇a", |a| zipped_rows(a, &b), &a, &ga);
    fd_array("∇b", |b| zipped_rows(&a, b), &b, &gb);
}
