//! ndarray programs written as ML engineers write them after reading the README, round four:
//! layer and batch norm by hand, attention with causal and padding masks, a GRU cell, 1-D
//! convolutions by slicing, polynomial features, soft k-means, PCA reconstruction, Gram
//! matrices, `f32` models, generic `A: Float` helpers over views, `mapv` closures capturing
//! parameters, `slice_mut(..).assign(..)`, `concatenate`/`stack`, `insert_axis`, `t()` and
//! `reversed_axes`, `sum_axis` followed by broadcasting, `fold_axis`, `indexed_iter`, `Zip` of
//! three producers, the matrices of a 3-D array through `outer_iter()`, and the arrays a
//! helper returns, iterated.
//!
//! Each gradient is checked against its analytic form (stated beside the function or computed
//! by hand in the test) and against central finite differences through `autodiff::check`; each
//! value against the plain function's.

#![allow(
    clippy::needless_range_loop,
    clippy::op_ref,
    clippy::ptr_arg,
    clippy::let_and_return,
    clippy::type_complexity,
    clippy::too_many_arguments,
    clippy::excessive_precision
)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, random_direction};
use autodiff::differentiate;
use ndarray::{Array1, Array2, Array3, ArrayView1, Axis, Zip, array, s};

mod common;
use common::*;

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

// ---------------------------------------------------------------------------------------------
// The matrices of a 3-D array through `outer_iter()`.
// ---------------------------------------------------------------------------------------------

/// Σ_b (⟨T_b, W⟩)² over the matrices `T_b` of a 3-D batch: ∇W = 2 Σ_b ⟨T_b, W⟩ T_b,
/// ∇T_b = 2 ⟨T_b, W⟩ W.
#[differentiate]
fn slab_scores(t: &Array3<f64>, w: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for m in t.outer_iter() {
        s += (&m * w).sum().powi(2);
    }
    s
}

#[test]
fn outer_iter_of_a_3d_array() {
    let t = Array3::from_shape_vec((3, 2, 2), data(12, 0.4)).unwrap();
    let w = matrix(2, 2, 1.3);
    let (v, (gt, gw)) = slab_scores_grad(&t, &w);
    assert_eq!(v, slab_scores(&t, &w));
    let mut want_w = Array2::<f64>::zeros((2, 2));
    let mut want_t = Array3::<f64>::zeros((3, 2, 2));
    for b in 0..3 {
        let tb = t.index_axis(Axis(0), b);
        let p = (&tb * &w).sum();
        want_w = want_w + &tb * (2.0 * p);
        want_t.index_axis_mut(Axis(0), b).assign(&(&w * (2.0 * p)));
    }
    same("∇W", &gw, &want_w, 1e-13);
    same("∇T", &gt, &want_t, 1e-13);
    fd_array("∇W", |w| slab_scores(&t, w), &w, &gw);
    fd_array("∇T", |t| slab_scores(t, &w), &t, &gt);
}

/// A batch of sequences `(B, T, D)`: each sequence's matrix through `outer_iter().enumerate()`
/// in a chain, mean-pooled and scored: f = Σ_b y_b · tanh(mean_t(X_b) · w).
#[differentiate(wrt(w))]
fn pooled_sequences(x: &Array3<f64>, w: &Array1<f64>, y: &[f64]) -> f64 {
    x.outer_iter()
        .enumerate()
        .map(|(b, seq)| y[b] * seq.mean_axis(Axis(0)).unwrap().dot(w).tanh())
        .sum::<f64>()
}

#[test]
fn outer_iter_of_a_3d_array_in_a_chain() {
    let x = Array3::from_shape_vec((2, 3, 4), data(24, 0.2)).unwrap();
    let w = vector(4, 0.9);
    let y = [1.5, -0.5];
    let (v, g) = pooled_sequences_grad(&x, &w, &y);
    assert_eq!(v, pooled_sequences(&x, &w, &y));
    // ∇w = Σ_b y_b (1 − tanh²(m_b · w)) m_b, m_b the mean over time of sequence b.
    let mut want = Array1::<f64>::zeros(4);
    for b in 0..2 {
        let m = x.index_axis(Axis(0), b).mean_axis(Axis(0)).unwrap();
        want = want + &m * (y[b] * (1.0 - m.dot(&w).tanh().powi(2)));
    }
    same("∇w", &g, &want, 1e-13);
    fd_array("∇w", |w| pooled_sequences(&x, w, &y), &w, &g);
}

/// Channels of an image stack through `axis_iter(Axis(0))` in a chain (a 3-D array):
/// f = Σ_c ‖X_c‖_F² · a_c; ∇X_c = 2 a_c X_c.
#[differentiate]
fn channel_energy(x: &Array3<f64>, a: &Array1<f64>) -> f64 {
    x.axis_iter(Axis(0))
        .zip(a.iter())
        .map(|(ch, &ac)| ch.mapv(|v| v * v).sum() * ac)
        .sum()
}

#[test]
fn axis_iter_of_a_3d_array_in_a_chain() {
    let x = Array3::from_shape_vec((3, 2, 2), data(12, 0.7)).unwrap();
    let a = vector(3, 0.3);
    let (v, (gx, ga)) = channel_energy_grad(&x, &a);
    assert_eq!(v, channel_energy(&x, &a));
    let want_x = Array3::from_shape_fn((3, 2, 2), |(c, i, j)| 2.0 * a[c] * x[[c, i, j]]);
    same("∇X", &gx, &want_x, 1e-14);
    let want_a = Array1::from_shape_fn(3, |c| x.index_axis(Axis(0), c).mapv(|v| v * v).sum());
    same("∇a", &ga, &want_a, 1e-14);
    fd_array("∇X", |x| channel_energy(x, &a), &x, &gx);
    fd_array("∇a", |a| channel_energy(&x, a), &a, &ga);
}

// ---------------------------------------------------------------------------------------------
// Arrays returned by a helper or a method, then iterated.
// ---------------------------------------------------------------------------------------------

/// A differentiated helper that returns a matrix.
#[differentiate]
fn affine(x: &Array2<f64>, w: &Array2<f64>) -> Array2<f64> {
    x.dot(w).mapv(f64::tanh)
}

/// The matrix `affine` returned, its elements iterated: f = Σ h_ij², h = tanh(XW);
/// ∇W = Xᵀ(2h(1 − h²)). The macro does not see the type of what `affine` returns: the
/// variable is declared with it (without, the error says to do so or to write `flatten`).
#[differentiate(wrt(w))]
fn iterate_returned_matrix(x: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let h: Array2<f64> = affine(x, w);
    h.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn helper_result_iterated() {
    let x = matrix(4, 3, 0.5);
    let w = matrix(3, 2, 1.9);
    let (v, g) = iterate_returned_matrix_grad(&x, &w);
    assert_eq!(v, iterate_returned_matrix(&x, &w));
    let h = x.dot(&w).mapv(f64::tanh);
    let want = x.t().dot(&h.mapv(|v| 2.0 * v * (1.0 - v * v)));
    same("∇W", &g, &want, 1e-13);
    fd_array("∇W", |w| iterate_returned_matrix(&x, w), &w, &g);
}

#[derive(Clone, autodiff::Differentiable)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

impl Dense {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        (x.dot(&self.w) + &self.b).mapv(|v| v.max(0.0))
    }
}

/// A layer's method whose output is iterated in a `for` loop: f = Σ relu(XW + b)_ij³,
/// through `flatten()` (the other way the error about iterating a returned matrix names).
#[differentiate(wrt(layer))]
fn iterate_method_output(layer: &Dense, x: &Array2<f64>) -> f64 {
    let h = layer.forward(x);
    let mut s = 0.0;
    for v in h.flatten().iter() {
        s += v * v * v;
    }
    s
}

#[test]
fn method_result_iterated() {
    let x = matrix(5, 3, 0.1);
    let layer = Dense {
        w: matrix(3, 4, 0.8),
        b: vector(4, 2.2),
    };
    let (v, g) = iterate_method_output_grad(&layer, &x);
    assert_eq!(v, iterate_method_output(&layer, &x));
    // ∂/∂z = 3 h² where z > 0: ∇W = Xᵀ(3h²), ∇b = Σ_rows 3h².
    let h = (x.dot(&layer.w) + &layer.b).mapv(|v| v.max(0.0));
    let dz = h.mapv(|v| 3.0 * v * v);
    same("∇W", &g.w, &x.t().dot(&dz), 1e-13);
    same("∇b", &g.b, &dz.sum_axis(Axis(0)), 1e-13);
    gradcheck(|l: &Dense| iterate_method_output(l, &x), &layer, &g).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// Arrays typed by a later use.
// ---------------------------------------------------------------------------------------------

/// `let mut acc = Array1::zeros(n);` with elements written in a loop: f = Σ_i acc_i², acc_i =
/// Σ_j x_ij w_j; ∇w = 2 Xᵀ acc.
#[differentiate(wrt(w))]
fn zeros_filled_by_index(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut acc = Array1::zeros(x.nrows());
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            acc[i] += x[[i, j]] * w[j];
        }
    }
    acc.dot(&acc)
}

#[test]
fn untyped_zeros_written_by_index() {
    let x = matrix(4, 3, 0.8);
    let w = vector(3, 0.1);
    let (v, g) = zeros_filled_by_index_grad(&x, &w);
    assert_eq!(v, zeros_filled_by_index(&x, &w));
    same("∇w", &g, &(x.t().dot(&x.dot(&w)) * 2.0), 1e-13);
    fd_array("∇w", |w| zeros_filled_by_index(&x, w), &w, &g);
}

/// `let mut a = Array1::zeros(9);` replaced in a loop (`pred = pred + ..`): f = Σ pred_i², pred
/// = Σ_k w_k t^k on a grid; ∇w_k = 2 Σ_i pred_i t_i^k.
#[differentiate]
fn zeros_replaced_in_loop(w: &Array1<f64>) -> f64 {
    let t = Array1::linspace(-1.0, 1.0, 9);
    let mut pred = Array1::zeros(9);
    for k in 0..w.len() {
        pred = pred + t.mapv(|v: f64| v.powi(k as i32)) * w[k];
    }
    pred.mapv(|p: f64| p * p).sum()
}

#[test]
fn untyped_zeros_replaced() {
    let w = array![0.3, -0.7, 0.2];
    let (v, g) = zeros_replaced_in_loop_grad(&w);
    assert_eq!(v, zeros_replaced_in_loop(&w));
    let t = Array1::linspace(-1.0, 1.0, 9);
    let pred = t.mapv(|x| w[0] + w[1] * x + w[2] * x * x);
    let want = Array1::from_shape_fn(3, |k| 2.0 * (&pred * &t.mapv(|x| x.powi(k as i32))).sum());
    same("∇w", &g, &want, 1e-13);
    fd_array("∇w", zeros_replaced_in_loop, &w, &g);
}

/// `let mut h = Array2::zeros((n, m));` with rows assigned: f = Σ tanh(row_i · W)², rows
/// written by `h.row_mut(i).assign(..)`.
#[differentiate(wrt(w))]
fn zeros_rows_assigned(x: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let mut h = Array2::zeros((x.nrows(), w.ncols()));
    for i in 0..x.nrows() {
        h.slice_mut(s![i, ..])
            .assign(&x.row(i).dot(w).mapv(f64::tanh));
    }
    h.mapv(|v: f64| v * v).sum()
}

#[test]
fn untyped_zeros_matrix_rows_assigned() {
    let x = matrix(3, 2, 0.4);
    let w = matrix(2, 3, 1.0);
    let (v, g) = zeros_rows_assigned_grad(&x, &w);
    assert_eq!(v, zeros_rows_assigned(&x, &w));
    let h = x.dot(&w).mapv(f64::tanh);
    same(
        "∇W",
        &g,
        &x.t().dot(&h.mapv(|v| 2.0 * v * (1.0 - v * v))),
        1e-13,
    );
    fd_array("∇W", |w| zeros_rows_assigned(&x, w), &w, &g);
}

/// `let mut acc = Array1::zeros(d);` accumulating rows from `outer_iter()`: acc = Σ_i x_i ⊙ w,
/// f = ‖acc‖²; ∇w = 2 acc ⊙ Σ_i x_i.
#[differentiate(wrt(w))]
fn zeros_accumulated_rows(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut acc = Array1::zeros(x.ncols());
    for row in x.outer_iter() {
        acc = acc + &row * w;
    }
    acc.dot(&acc)
}

#[test]
fn untyped_zeros_accumulating_rows() {
    let x = matrix(4, 3, 0.6);
    let w = vector(3, 1.2);
    let (v, g) = zeros_accumulated_rows_grad(&x, &w);
    assert_eq!(v, zeros_accumulated_rows(&x, &w));
    let colsum = x.sum_axis(Axis(0));
    same("∇w", &g, &(&colsum * &w * &colsum * 2.0), 1e-13);
    fd_array("∇w", |w| zeros_accumulated_rows(&x, w), &w, &g);
}

/// `let mut k = Array2::zeros((n, n));` filled element by element: a kernel matrix
/// K_ij = exp(−‖x_i − x_j‖²), f = Σ K_ij a_i a_j; ∇a = 2Ka.
#[differentiate(wrt(a))]
fn zeros_grid_by_elements(x: &Array2<f64>, a: &Array1<f64>) -> f64 {
    let n = x.nrows();
    let mut k = Array2::zeros((n, n));
    for i in 0..n {
        for j in 0..n {
            let d = &x.row(i) - &x.row(j);
            k[[i, j]] = (-d.dot(&d)).exp();
        }
    }
    a.dot(&k.dot(a))
}

#[test]
fn untyped_zeros_grid() {
    let x = matrix(4, 2, 0.3);
    let a = vector(4, 0.8);
    let (v, g) = zeros_grid_by_elements_grad(&x, &a);
    assert_eq!(v, zeros_grid_by_elements(&x, &a));
    let k = Array2::from_shape_fn((4, 4), |(i, j)| {
        let d = &x.row(i) - &x.row(j);
        (-d.dot(&d)).exp()
    });
    same("∇a", &g, &(k.dot(&a) * 2.0), 1e-13);
    fd_array("∇a", |a| zeros_grid_by_elements(&x, a), &a, &g);
}

// ---------------------------------------------------------------------------------------------
// Normalization layers by hand.
// ---------------------------------------------------------------------------------------------

/// RMS norm of each row by hand, a gain, then a score: y = g ⊙ x / √(mean(x²) + ε), f = Σ y ⊙ c.
#[differentiate(wrt(x, gain))]
fn rms_norm(x: &Array2<f64>, gain: &Array1<f64>, c: &Array2<f64>) -> f64 {
    let d = x.ncols() as f64;
    let ms = x.mapv(|v| v * v).sum_axis(Axis(1)) / d;
    let inv = ms.mapv(|m| 1.0 / (m + 1e-6).sqrt());
    let y = x * &inv.insert_axis(Axis(1)) * gain;
    (&y * c).sum()
}

#[test]
fn rms_norm_by_hand() {
    let x = matrix(3, 4, 0.2);
    let gain = vector(4, 1.5);
    let c = matrix(3, 4, 2.6);
    let (v, (gx, gg)) = rms_norm_grad(&x, &gain, &c);
    assert_eq!(v, rms_norm(&x, &gain, &c));
    // Row r = 1/√(mean x² + ε): ∇g = Σ_rows x r ⊙ c; with u = c ⊙ g,
    // ∇x = r u − x r³ (u · x)/d.
    let mut want_x = Array2::<f64>::zeros((3, 4));
    let mut want_g = Array1::<f64>::zeros(4);
    for i in 0..3 {
        let xi = x.row(i);
        let r = 1.0 / (xi.dot(&xi) / 4.0 + 1e-6).sqrt();
        let u = &c.row(i) * &gain;
        want_g = want_g + &xi * &c.row(i) * r;
        let row = &u * r - &xi * (r.powi(3) * u.dot(&xi) / 4.0);
        want_x.row_mut(i).assign(&row);
    }
    same("∇x", &gx, &want_x, 1e-12);
    same("∇g", &gg, &want_g, 1e-13);
    fd_array("∇x", |x| rms_norm(x, &gain, &c), &x, &gx);
    fd_array("∇g", |g| rms_norm(&x, g, &c), &gain, &gg);
}

/// Layer norm by hand with the row means from `sum_axis(Axis(1))` broadcast back as a column,
/// then a residual connection and a squared error: f = ‖x + LN(x) ⊙ γ − t‖².
#[differentiate(wrt(x, gamma))]
fn prenorm_residual(x: &Array2<f64>, gamma: &Array1<f64>, t: &Array2<f64>) -> f64 {
    let d = x.ncols() as f64;
    let mu = x.sum_axis(Axis(1)) / d;
    let xc = x - &mu.insert_axis(Axis(1));
    let var = (&xc * &xc).sum_axis(Axis(1)) / d;
    let xhat = &xc / &var.mapv(|v| (v + 1e-5).sqrt()).insert_axis(Axis(1));
    let r = x + &(&xhat * gamma) - t;
    (&r * &r).sum()
}

#[test]
fn layer_norm_residual() {
    let x = matrix(3, 4, 0.9);
    let gamma = vector(4, 0.4);
    let t = matrix(3, 4, 1.7);
    let (v, (gx, gg)) = prenorm_residual_grad(&x, &gamma, &t);
    assert_eq!(v, prenorm_residual(&x, &gamma, &t));
    // c = 2r; ∇γ = Σ_rows c ⊙ x̂; ∇x = c + (1/σ)(u − mean(u) − x̂ mean(u ⊙ x̂)), u = c ⊙ γ.
    let mut want_x = Array2::<f64>::zeros((3, 4));
    let mut want_g = Array1::<f64>::zeros(4);
    for i in 0..3 {
        let xi = x.row(i);
        let mu = xi.mean().unwrap();
        let xc = xi.mapv(|v| v - mu);
        let sigma = (xc.dot(&xc) / 4.0 + 1e-5).sqrt();
        let xhat = &xc / sigma;
        let c = (&xi + &(&xhat * &gamma) - &t.row(i)) * 2.0;
        want_g = want_g + &c * &xhat;
        let u = &c * &gamma;
        let (mu_u, mu_ux) = (u.mean().unwrap(), (&u * &xhat).mean().unwrap());
        let row = &c + &((&u - mu_u - &xhat * mu_ux) / sigma);
        want_x.row_mut(i).assign(&row);
    }
    same("∇x", &gx, &want_x, 1e-11);
    same("∇γ", &gg, &want_g, 1e-12);
    fd_array("∇x", |x| prenorm_residual(x, &gamma, &t), &x, &gx);
    fd_array("∇γ", |g| prenorm_residual(&x, g, &t), &gamma, &gg);
}

/// Batch norm by hand over the batch axis, the statistics through `fold_axis` sums, then a
/// shift and a mean squared error: f = Σ (γ ⊙ x̂ + β − t)² / n.
#[differentiate(wrt(x, gamma, beta))]
fn batch_norm_fold(
    x: &Array2<f64>,
    gamma: &Array1<f64>,
    beta: &Array1<f64>,
    t: &Array2<f64>,
) -> f64 {
    let n = x.nrows() as f64;
    let mu = x.fold_axis(Axis(0), 0.0, |acc, &v| acc + v) / n;
    let xc = x - &mu;
    let var = xc.fold_axis(Axis(0), 0.0, |acc, &v| acc + v * v) / n;
    let xhat = &xc / &var.mapv(|v| (v + 1e-5).sqrt());
    let r = &xhat * gamma + beta - t;
    r.mapv(|e| e * e).sum() / n
}

#[test]
fn batch_norm_with_fold_axis() {
    let x = matrix(5, 3, 0.15);
    let gamma = vector(3, 0.7);
    let beta = vector(3, 2.0);
    let t = matrix(5, 3, 3.3);
    let (v, (gx, gg, gb)) = batch_norm_fold_grad(&x, &gamma, &beta, &t);
    assert_eq!(v, batch_norm_fold(&x, &gamma, &beta, &t));
    // Per column, c = 2r/n: ∇β = Σ c, ∇γ = Σ c x̂, ∇x = (u − mean(u) − x̂ mean(u x̂))/σ, u = cγ.
    let mut want_x = Array2::<f64>::zeros((5, 3));
    let mut want_g = Array1::<f64>::zeros(3);
    let mut want_b = Array1::<f64>::zeros(3);
    for j in 0..3 {
        let col = x.column(j);
        let mu = col.mean().unwrap();
        let xc = col.mapv(|v| v - mu);
        let sigma = (xc.dot(&xc) / 5.0 + 1e-5).sqrt();
        let xhat = &xc / sigma;
        let c = (&xhat * gamma[j] + beta[j] - &t.column(j)) * (2.0 / 5.0);
        want_b[j] = c.sum();
        want_g[j] = c.dot(&xhat);
        let u = &c * gamma[j];
        let (mu_u, mu_ux) = (u.mean().unwrap(), (&u * &xhat).mean().unwrap());
        want_x
            .column_mut(j)
            .assign(&((&u - mu_u - &xhat * mu_ux) / sigma));
    }
    same("∇x", &gx, &want_x, 1e-11);
    same("∇γ", &gg, &want_g, 1e-12);
    same("∇β", &gb, &want_b, 1e-12);
    fd_array("∇x", |x| batch_norm_fold(x, &gamma, &beta, &t), &x, &gx);
    fd_array("∇γ", |g| batch_norm_fold(&x, g, &beta, &t), &gamma, &gg);
}

// ---------------------------------------------------------------------------------------------
// Attention with masks.
// ---------------------------------------------------------------------------------------------

/// The attention of the test: P = softmax(mask(QKᵀ/√d)), and its backward pass by hand for
/// f = Σ (P V) ⊙ C: dP = C Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), ∇Q = dS K/√d, ∇K = dSᵀ Q/√d,
/// ∇V = Pᵀ C.
fn attention_backward(
    q: &Array2<f64>,
    k: &Array2<f64>,
    v: &Array2<f64>,
    c: &Array2<f64>,
    masked: impl Fn(usize, usize) -> bool,
) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
    let sq = (q.ncols() as f64).sqrt();
    let mut s = q.dot(&k.t()) / sq;
    for ((i, j), x) in s.indexed_iter_mut() {
        if masked(i, j) {
            *x = f64::NEG_INFINITY;
        }
    }
    let m = s.fold_axis(Axis(1), f64::NEG_INFINITY, |&a, &b| a.max(b));
    let e = (&s - &m.insert_axis(Axis(1))).mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let dp = c.dot(&v.t());
    let rs = (&dp * &p).sum_axis(Axis(1)).insert_axis(Axis(1));
    let ds = &p * &(&dp - &rs);
    (ds.dot(k) / sq, ds.t().dot(q) / sq, p.t().dot(c))
}

/// Causal self-attention: scores above the diagonal overwritten by a large negative number in
/// a loop (`s[[i, j]] = -1e9`), softmax with the max trick through `fold_axis`.
#[differentiate(wrt(q, k, v))]
fn causal_attention(q: &Array2<f64>, k: &Array2<f64>, v: &Array2<f64>, c: &Array2<f64>) -> f64 {
    let (n, d) = q.dim();
    let mut s = q.dot(&k.t()) / (d as f64).sqrt();
    for i in 0..n {
        for j in (i + 1)..n {
            s[[i, j]] = -1e9;
        }
    }
    let m = s.fold_axis(Axis(1), f64::NEG_INFINITY, |&a, &b| a.max(b));
    let e = (&s - &m.insert_axis(Axis(1))).mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    (p.dot(v) * c).sum()
}

#[test]
fn causal_masked_attention() {
    let q = matrix(4, 3, 0.1);
    let k = matrix(4, 3, 1.1);
    let v = matrix(4, 2, 2.1);
    let c = matrix(4, 2, 3.1);
    let (val, (gq, gk, gv)) = causal_attention_grad(&q, &k, &v, &c);
    assert_eq!(val, causal_attention(&q, &k, &v, &c));
    let (wq, wk, wv) = attention_backward(&q, &k, &v, &c, |i, j| j > i);
    same("∇Q", &gq, &wq, 1e-12);
    same("∇K", &gk, &wk, 1e-12);
    same("∇V", &gv, &wv, 1e-12);
    fd_array("∇Q", |q| causal_attention(q, &k, &v, &c), &q, &gq);
    fd_array("∇K", |k| causal_attention(&q, k, &v, &c), &k, &gk);
    fd_array("∇V", |v| causal_attention(&q, &k, v, &c), &v, &gv);
}

/// Attention over padded keys: an additive bias row from a `&[bool]` key mask built with
/// `from_shape_fn`, broadcast over the queries.
#[differentiate(wrt(q, k, v))]
fn padded_attention(
    q: &Array2<f64>,
    k: &Array2<f64>,
    v: &Array2<f64>,
    c: &Array2<f64>,
    keep: &[bool],
) -> f64 {
    let d = q.ncols() as f64;
    let bias = Array1::from_shape_fn(k.nrows(), |j| if keep[j] { 0.0 } else { -1e9 });
    let s = q.dot(&k.t()) / d.sqrt() + &bias;
    let e = s.mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    (p.dot(v) * c).sum()
}

#[test]
fn padding_masked_attention() {
    let q = matrix(3, 2, 0.5);
    let k = matrix(4, 2, 1.5);
    let v = matrix(4, 3, 2.5);
    let c = matrix(3, 3, 3.5);
    let keep = [true, true, false, true];
    let (val, (gq, gk, gv)) = padded_attention_grad(&q, &k, &v, &c, &keep);
    assert_eq!(val, padded_attention(&q, &k, &v, &c, &keep));
    let (wq, wk, wv) = attention_backward(&q, &k, &v, &c, |_, j| !keep[j]);
    same("∇Q", &gq, &wq, 1e-12);
    same("∇K", &gk, &wk, 1e-12);
    same("∇V", &gv, &wv, 1e-12);
    fd_array("∇Q", |q| padded_attention(q, &k, &v, &c, &keep), &q, &gq);
    fd_array("∇K", |k| padded_attention(&q, k, &v, &c, &keep), &k, &gk);
    fd_array("∇V", |v| padded_attention(&q, &k, v, &c, &keep), &v, &gv);
}

/// Two heads: the columns of Q, K, V sliced per head (`s![.., h * dh..(h + 1) * dh]`), each
/// head's output joined by `concatenate` along the columns.
#[differentiate(wrt(q, k, v))]
fn two_head_attention(q: &Array2<f64>, k: &Array2<f64>, v: &Array2<f64>, c: &Array2<f64>) -> f64 {
    let dh = q.ncols() / 2;
    let head = |h: usize| {
        let qh = q.slice(s![.., h * dh..(h + 1) * dh]);
        let kh = k.slice(s![.., h * dh..(h + 1) * dh]);
        let vh = v.slice(s![.., h * dh..(h + 1) * dh]);
        let e = (qh.dot(&kh.t()) / (dh as f64).sqrt()).mapv(f64::exp);
        let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
        p.dot(&vh)
    };
    let (o0, o1) = (head(0), head(1));
    let out = ndarray::concatenate(Axis(1), &[o0.view(), o1.view()]).unwrap();
    (&out * c).sum()
}

#[test]
fn two_heads_sliced_and_concatenated() {
    let q = matrix(3, 4, 0.3);
    let k = matrix(3, 4, 1.3);
    let v = matrix(3, 4, 2.3);
    let c = matrix(3, 4, 3.3);
    let (val, (gq, gk, gv)) = two_head_attention_grad(&q, &k, &v, &c);
    assert_eq!(val, two_head_attention(&q, &k, &v, &c));
    let (mut wq, mut wk, mut wv) = (q.clone(), k.clone(), v.clone());
    for h in 0..2 {
        let cols = s![.., h * 2..(h + 1) * 2];
        let (a, b, d) = attention_backward(
            &q.slice(cols).to_owned(),
            &k.slice(cols).to_owned(),
            &v.slice(cols).to_owned(),
            &c.slice(cols).to_owned(),
            |_, _| false,
        );
        wq.slice_mut(cols).assign(&a);
        wk.slice_mut(cols).assign(&b);
        wv.slice_mut(cols).assign(&d);
    }
    same("∇Q", &gq, &wq, 1e-12);
    same("∇K", &gk, &wk, 1e-12);
    same("∇V", &gv, &wv, 1e-12);
    fd_array("∇Q", |q| two_head_attention(q, &k, &v, &c), &q, &gq);
    fd_array("∇K", |k| two_head_attention(&q, k, &v, &c), &k, &gk);
    fd_array("∇V", |v| two_head_attention(&q, &k, v, &c), &v, &gv);
}

// ---------------------------------------------------------------------------------------------
// A GRU cell.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, autodiff::Differentiable)]
struct GruCell {
    wz: Array2<f64>,
    uz: Array2<f64>,
    wr: Array2<f64>,
    ur: Array2<f64>,
    wn: Array2<f64>,
    un: Array2<f64>,
}

/// One step of a GRU with a reset gate: z = σ(Wz x + Uz h), r = σ(Wr x + Ur h),
/// n = tanh(Wn x + r ⊙ (Un h)), h' = (1 − z) ⊙ n + z ⊙ h.
#[differentiate]
fn gru_step(p: &GruCell, x: &ArrayView1<'_, f64>, h: &Array1<f64>) -> Array1<f64> {
    let z = (p.wz.dot(x) + p.uz.dot(h)).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let r = (p.wr.dot(x) + p.ur.dot(h)).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let n = (p.wn.dot(x) + &r * &p.un.dot(h)).mapv(f64::tanh);
    (1.0 - &z) * &n + &z * h
}

/// A GRU over the rows of a sequence, the last state scored: f = ‖h_T‖².
#[differentiate(wrt(p, h0))]
fn gru_sequence(p: &GruCell, xs: &Array2<f64>, h0: &Array1<f64>) -> f64 {
    let mut h = h0.clone();
    for x in xs.outer_iter() {
        h = gru_step(p, &x, &h);
    }
    h.dot(&h)
}

fn outer(a: &Array1<f64>, b: &ArrayView1<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j])
}

/// One GRU step's backward pass by hand: the parameters' gradients added into `acc`, the
/// state's returned.
fn gru_step_backward(
    p: &GruCell,
    x: &ArrayView1<'_, f64>,
    h: &Array1<f64>,
    ghn: &Array1<f64>,
    acc: &mut GruCell,
) -> Array1<f64> {
    let z = (p.wz.dot(x) + p.uz.dot(h)).mapv(sigmoid);
    let r = (p.wr.dot(x) + p.ur.dot(h)).mapv(sigmoid);
    let unh = p.un.dot(h);
    let n = (p.wn.dot(x) + &r * &unh).mapv(f64::tanh);
    let gn = ghn * &z.mapv(|v| 1.0 - v);
    let gz = ghn * &(h - &n);
    let gan = &gn * &n.mapv(|v| 1.0 - v * v);
    let gr = &gan * &unh;
    let gunh = &gan * &r;
    let gaz = &gz * &z.mapv(|v| v * (1.0 - v));
    let gar = &gr * &r.mapv(|v| v * (1.0 - v));
    let hv = h.view();
    acc.wz = &acc.wz + &outer(&gaz, x);
    acc.uz = &acc.uz + &outer(&gaz, &hv);
    acc.wr = &acc.wr + &outer(&gar, x);
    acc.ur = &acc.ur + &outer(&gar, &hv);
    acc.wn = &acc.wn + &outer(&gan, x);
    acc.un = &acc.un + &outer(&gunh, &hv);
    ghn * &z + p.uz.t().dot(&gaz) + p.ur.t().dot(&gar) + p.un.t().dot(&gunh)
}

#[test]
fn gru_cell_over_a_sequence() {
    let (hd, xd) = (3, 2);
    let p = GruCell {
        wz: matrix(hd, xd, 0.1),
        uz: matrix(hd, hd, 1.1),
        wr: matrix(hd, xd, 2.1),
        ur: matrix(hd, hd, 3.1),
        wn: matrix(hd, xd, 4.1),
        un: matrix(hd, hd, 5.1),
    };
    let xs = matrix(4, xd, 6.1);
    let h0 = vector(hd, 7.1);
    let (v, (gp, gh0)) = gru_sequence_grad(&p, &xs, &h0);
    assert_eq!(v, gru_sequence(&p, &xs, &h0));
    // Backpropagation through time by hand.
    let mut hs = vec![h0.clone()];
    for t in 0..4 {
        let x = xs.row(t);
        let h = &hs[t];
        let z = (p.wz.dot(&x) + p.uz.dot(h)).mapv(sigmoid);
        let r = (p.wr.dot(&x) + p.ur.dot(h)).mapv(sigmoid);
        let n = (p.wn.dot(&x) + &r * &p.un.dot(h)).mapv(f64::tanh);
        hs.push(z.mapv(|v| 1.0 - v) * &n + &z * h);
    }
    let zero = |m: &Array2<f64>| Array2::<f64>::zeros(m.dim());
    let mut acc = GruCell {
        wz: zero(&p.wz),
        uz: zero(&p.uz),
        wr: zero(&p.wr),
        ur: zero(&p.ur),
        wn: zero(&p.wn),
        un: zero(&p.un),
    };
    let mut gh = &hs[4] * 2.0;
    for t in (0..4).rev() {
        gh = gru_step_backward(&p, &xs.row(t), &hs[t], &gh, &mut acc);
    }
    same("∇h0", &gh0, &gh, 1e-12);
    same("∇Wz", &gp.wz, &acc.wz, 1e-12);
    same("∇Uz", &gp.uz, &acc.uz, 1e-12);
    same("∇Wr", &gp.wr, &acc.wr, 1e-12);
    same("∇Ur", &gp.ur, &acc.ur, 1e-12);
    same("∇Wn", &gp.wn, &acc.wn, 1e-12);
    same("∇Un", &gp.un, &acc.un, 1e-12);
    gradcheck(
        |q: &(GruCell, Array1<f64>)| gru_sequence(&q.0, &xs, &q.1),
        &(p.clone(), h0.clone()),
        &(gp, gh0),
    )
    .assert_ok();
}

// ---------------------------------------------------------------------------------------------
// 1-D convolutions by slicing.
// ---------------------------------------------------------------------------------------------

/// A dilated convolution, each window a strided slice `s![i..i + 2(k − 1) + 1; 2]`, then a
/// mean squared error: y_i = Σ_j x[i + 2j] w_j + b; ∇w_j = (2/n) Σ_i r_i x[i + 2j], ∇b =
/// (2/n) Σ r_i, ∇x_m = (2/n) Σ_{i + 2j = m} r_i w_j.
#[differentiate(wrt(x, w, b))]
fn dilated_conv(x: &Array1<f64>, w: &Array1<f64>, b: f64, t: &Array1<f64>) -> f64 {
    let k = w.len();
    let span = 2 * (k - 1) + 1;
    let n = x.len() - span + 1;
    let mut y = Array1::<f64>::zeros(n);
    for i in 0..n {
        y[i] = x.slice(s![i..i + span;2]).dot(w) + b;
    }
    let r = &y - t;
    r.dot(&r) / n as f64
}

#[test]
fn dilated_conv_by_strided_slices() {
    let x = vector(9, 0.2);
    let w = vector(3, 1.2);
    let b = 0.3;
    let t = vector(5, 2.2);
    let (v, (gx, gw, gb)) = dilated_conv_grad(&x, &w, b, &t);
    assert_eq!(v, dilated_conv(&x, &w, b, &t));
    let r = Array1::from_shape_fn(5, |i| {
        (0..3).map(|j| x[i + 2 * j] * w[j]).sum::<f64>() + b - t[i]
    });
    let want_w = Array1::from_shape_fn(3, |j| {
        2.0 / 5.0 * (0..5).map(|i| r[i] * x[i + 2 * j]).sum::<f64>()
    });
    let mut want_x = Array1::<f64>::zeros(9);
    for i in 0..5 {
        for j in 0..3 {
            want_x[i + 2 * j] += 2.0 / 5.0 * r[i] * w[j];
        }
    }
    same("∇x", &gx, &want_x, 1e-13);
    same("∇w", &gw, &want_w, 1e-13);
    close("∂b", gb, 2.0 / 5.0 * r.sum(), 1e-13);
    let p = (x.clone(), w.clone(), b);
    gradcheck(
        |p: &(Array1<f64>, Array1<f64>, f64)| dilated_conv(&p.0, &p.1, p.2, &t),
        &p,
        &(gx, gw, gb),
    )
    .assert_ok();
}

/// A multi-channel convolution: input `(C, L)`, filters `(O, C, K)`, each output
/// y[o, i] = Σ_c x[c, i..i+K] · w[o, c, ..], through `tanh`, f = Σ tanh(y)².
#[differentiate(wrt(w))]
fn channel_conv(x: &Array2<f64>, w: &Array3<f64>) -> f64 {
    let (o, c, k) = w.dim();
    let n = x.ncols() - k + 1;
    let mut y = Array2::<f64>::zeros((o, n));
    for oo in 0..o {
        for i in 0..n {
            let mut acc = 0.0;
            for cc in 0..c {
                acc += x.slice(s![cc, i..i + k]).dot(&w.slice(s![oo, cc, ..]));
            }
            y[[oo, i]] = acc;
        }
    }
    y.mapv(|v| v.tanh().powi(2)).sum()
}

#[test]
fn multi_channel_conv_by_slices() {
    let x = matrix(2, 6, 0.4);
    let w = Array3::from_shape_vec((3, 2, 3), data(18, 1.4)).unwrap();
    let (v, g) = channel_conv_grad(&x, &w);
    assert_eq!(v, channel_conv(&x, &w));
    // g_y = 2 tanh(y)(1 − tanh² y); ∇w[o, c, j] = Σ_i g_y[o, i] x[c, i + j].
    let y = Array2::from_shape_fn((3, 4), |(o, i)| {
        (0..2)
            .map(|c| (0..3).map(|j| x[[c, i + j]] * w[[o, c, j]]).sum::<f64>())
            .sum::<f64>()
    });
    let gy = y.mapv(|v| 2.0 * v.tanh() * (1.0 - v.tanh().powi(2)));
    let want = Array3::from_shape_fn((3, 2, 3), |(o, c, j)| {
        (0..4).map(|i| gy[[o, i]] * x[[c, i + j]]).sum::<f64>()
    });
    same("∇w", &g, &want, 1e-13);
    fd_array("∇w", |w| channel_conv(&x, w), &w, &g);
}

/// Max pooling over windows of two by slicing, each window's maximum through `fold`:
/// f = Σ_i m_i², m_i = max(x[2i], x[2i + 1]); ∇x = 2 m_i at each window's maximum.
#[differentiate]
fn max_pool_pairs(x: &Array1<f64>) -> f64 {
    let n = x.len() / 2;
    let mut s = 0.0;
    for i in 0..n {
        let m = x
            .slice(s![2 * i..2 * i + 2])
            .fold(f64::NEG_INFINITY, |a, &v| a.max(v));
        s += m * m;
    }
    s
}

#[test]
fn max_pool_by_slices_and_fold() {
    let x = vector(8, 0.9);
    let (v, g) = max_pool_pairs_grad(&x);
    assert_eq!(v, max_pool_pairs(&x));
    let mut want = Array1::<f64>::zeros(8);
    for i in 0..4 {
        let k = if x[2 * i + 1] > x[2 * i] {
            2 * i + 1
        } else {
            2 * i
        };
        want[k] = 2.0 * x[k];
    }
    same("∇x", &g, &want, 1e-14);
    fd_array("∇x", max_pool_pairs, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// Polynomial features, `stack` and `concatenate`.
// ---------------------------------------------------------------------------------------------

/// Cubic features stacked as columns (`stack(Axis(1), ..)`), ridge regression, second order:
/// f = ‖Φw − y‖²/n + λ‖w‖²; ∇ = (2/n)Φᵀr + 2λw, H = (2/n)ΦᵀΦ + 2λI.
#[differentiate(wrt(w), hessian)]
fn cubic_ridge(w: &Array1<f64>, x: &Array1<f64>, y: &Array1<f64>, lam: f64) -> f64 {
    let x2 = x.mapv(|v| v * v);
    let x3 = &x2 * x;
    let phi = ndarray::stack(Axis(1), &[x.view(), x2.view(), x3.view()]).unwrap();
    let r = phi.dot(w) - y;
    r.dot(&r) / x.len() as f64 + lam * w.dot(w)
}

#[test]
fn stacked_polynomial_features_hessian() {
    let x = vector(6, 0.5);
    let y = vector(6, 1.5);
    let w = vector(3, 2.5);
    let lam = 0.1;
    let (v, g) = cubic_ridge_grad(&w, &x, &y, lam);
    assert_eq!(v, cubic_ridge(&w, &x, &y, lam));
    let phi = Array2::from_shape_fn((6, 3), |(i, k)| x[i].powi(k as i32 + 1));
    let r = phi.dot(&w) - &y;
    same(
        "∇w",
        &g,
        &(phi.t().dot(&r) * (2.0 / 6.0) + &w * (2.0 * lam)),
        1e-13,
    );
    fd_array("∇w", |w| cubic_ridge(w, &x, &y, lam), &w, &g);
    let dir = random_direction(&w, 3);
    let (_, dy) = cubic_ridge_jvp(&w, &x, &y, lam, &dir);
    close("jvp", dy, g.dot(&dir), 1e-13);
    let (_, _, hv) = cubic_ridge_hvp(&w, &x, &y, lam, &dir);
    let want_hv = phi.t().dot(&phi.dot(&dir)) * (2.0 / 6.0) + &dir * (2.0 * lam);
    same("H·v", &hv, &want_hv, 1e-13);
    hvpcheck(
        |w: &Array1<f64>| cubic_ridge_grad(w, &x, &y, lam).1,
        &w,
        &dir,
        &hv,
    )
    .assert_ok();
}

/// Quadratic features of two inputs joined by `concatenate(Axis(1), ..)`: [1, x, x², x₀x₁],
/// logistic loss with labels ±1: f = Σ ln(1 + exp(−y Φw))/n; ∇w = −Φᵀ(y σ(−yΦw))/n.
#[differentiate(wrt(w))]
fn quadratic_logistic(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let n = x.nrows();
    let ones = Array2::<f64>::ones((n, 1));
    let sq = x.mapv(|v| v * v);
    let cross = (&x.column(0) * &x.column(1)).insert_axis(Axis(1));
    let phi =
        ndarray::concatenate(Axis(1), &[ones.view(), x.view(), sq.view(), cross.view()]).unwrap();
    let z = phi.dot(w);
    (&z * y).mapv(|m| (1.0 + (-m).exp()).ln()).sum() / n as f64
}

#[test]
fn concatenated_quadratic_features() {
    let x = matrix(5, 2, 0.7);
    let y = array![1.0, -1.0, -1.0, 1.0, 1.0];
    let w = vector(6, 1.7);
    let (v, g) = quadratic_logistic_grad(&w, &x, &y);
    assert_eq!(v, quadratic_logistic(&w, &x, &y));
    let phi = Array2::from_shape_fn((5, 6), |(i, k)| match k {
        0 => 1.0,
        1 | 2 => x[[i, k - 1]],
        3 | 4 => x[[i, k - 3]].powi(2),
        _ => x[[i, 0]] * x[[i, 1]],
    });
    let m = phi.dot(&w) * &y;
    let c = Array1::from_shape_fn(5, |i| -y[i] * sigmoid(-m[i]) / 5.0);
    same("∇w", &g, &phi.t().dot(&c), 1e-13);
    fd_array("∇w", |w| quadratic_logistic(w, &x, &y), &w, &g);
}

/// Two rows joined by `stack(Axis(0), ..)` into a matrix, then a bilinear form:
/// f = Σ (M ⊙ A), M = [a; b] (2 × n); ∇a = A row 0, ∇b = A row 1.
#[differentiate(wrt(a, b))]
fn stacked_rows(a: &Array1<f64>, b: &Array1<f64>, w: &Array2<f64>) -> f64 {
    let m = ndarray::stack(Axis(0), &[a.view(), b.view()]).unwrap();
    let h = m.dot(w).mapv(f64::sin);
    h.sum()
}

#[test]
fn stack_rows_then_dense() {
    let a = vector(3, 0.1);
    let b = vector(3, 0.9);
    let w = matrix(3, 2, 1.9);
    let (v, (ga, gb)) = stacked_rows_grad(&a, &b, &w);
    assert_eq!(v, stacked_rows(&a, &b, &w));
    // ∇a = W cos(aW), ∇b = W cos(bW).
    same("∇a", &ga, &w.dot(&w.t().dot(&a).mapv(f64::cos)), 1e-13);
    same("∇b", &gb, &w.dot(&w.t().dot(&b).mapv(f64::cos)), 1e-13);
    fd_array("∇a", |a| stacked_rows(a, &b, &w), &a, &ga);
    fd_array("∇b", |b| stacked_rows(&a, b, &w), &b, &gb);
}

// ---------------------------------------------------------------------------------------------
// Clustering, PCA, Gram matrices, kernels.
// ---------------------------------------------------------------------------------------------

/// Soft k-means: squared distances to the centres, soft assignments r = softmax(−β d) by rows
/// (`mapv` capturing the parameter β), f = Σ r ⊙ d.
#[differentiate(wrt(c, beta))]
fn soft_kmeans(x: &Array2<f64>, c: &Array2<f64>, beta: f64) -> f64 {
    let (n, k) = (x.nrows(), c.nrows());
    let mut d = Array2::<f64>::zeros((n, k));
    for i in 0..n {
        for j in 0..k {
            let diff = &x.row(i) - &c.row(j);
            d[[i, j]] = diff.dot(&diff);
        }
    }
    let e = d.mapv(|v| (-beta * v).exp());
    let r = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    (&r * &d).sum()
}

#[test]
fn soft_kmeans_assignments() {
    let x = matrix(5, 2, 0.35);
    let c = matrix(3, 2, 1.35);
    let beta = 1.3;
    let (v, (gc, gb)) = soft_kmeans_grad(&x, &c, beta);
    assert_eq!(v, soft_kmeans(&x, &c, beta));
    // ∂f/∂d_ij = r_ij (1 − β(d_ij − D_i)), D_i = Σ_j r_ij d_ij; ∇c_j = Σ_i ∂f/∂d_ij · 2(c_j − x_i);
    // ∂f/∂β = Σ_i (D_i² − Σ_j r_ij d_ij²).
    let d = Array2::from_shape_fn((5, 3), |(i, j)| {
        let diff = &x.row(i) - &c.row(j);
        diff.dot(&diff)
    });
    let e = d.mapv(|v| (-beta * v).exp());
    let r = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let dbar = (&r * &d).sum_axis(Axis(1));
    let gd = Array2::from_shape_fn((5, 3), |(i, j)| {
        r[[i, j]] * (1.0 - beta * (d[[i, j]] - dbar[i]))
    });
    let mut want_c = Array2::<f64>::zeros((3, 2));
    for j in 0..3 {
        for i in 0..5 {
            let row = (&c.row(j) - &x.row(i)) * (2.0 * gd[[i, j]]);
            want_c.row_mut(j).zip_mut_with(&row, |a, b| *a += b);
        }
    }
    let want_b = dbar.mapv(|v| v * v).sum() - (&r * &d * &d).sum();
    same("∇c", &gc, &want_c, 1e-12);
    close("∂β", gb, want_b, 1e-12);
    gradcheck(
        |p: &(Array2<f64>, f64)| soft_kmeans(&x, &p.0, p.1),
        &(c.clone(), beta),
        &(gc, gb),
    )
    .assert_ok();
}

/// PCA reconstruction loss through `t()`: f = ‖X − XWWᵀ‖²/n; with R the residual,
/// ∇W = −(2/n)(XᵀRW + RᵀXW).
#[differentiate(wrt(w))]
fn pca_reconstruction(x: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let recon = x.dot(w).dot(&w.t());
    let r = x - &recon;
    (&r * &r).sum() / x.nrows() as f64
}

#[test]
fn pca_reconstruction_loss() {
    let x = matrix(6, 4, 0.45);
    let w = matrix(4, 2, 1.45);
    let (v, g) = pca_reconstruction_grad(&x, &w);
    assert_eq!(v, pca_reconstruction(&x, &w));
    let r = &x - &x.dot(&w).dot(&w.t());
    let want = (x.t().dot(&r).dot(&w) + r.t().dot(&x).dot(&w)) * (-2.0 / 6.0);
    same("∇W", &g, &want, 1e-13);
    fd_array("∇W", |w| pca_reconstruction(&x, w), &w, &g);
}

/// PCA with an orthogonality penalty, the transpose a `reversed_axes()` copy and the identity
/// `Array2::eye`: f = ‖X − X W Wᵀ‖² + μ‖WᵀW − I‖²; the penalty adds 4μ W (WᵀW − I).
#[differentiate(wrt(w))]
fn pca_orthogonal(x: &Array2<f64>, w: &Array2<f64>, mu: f64) -> f64 {
    let wt = w.clone().reversed_axes();
    let r = x - &x.dot(w).dot(&wt);
    let k = w.ncols();
    let o = wt.dot(w) - Array2::<f64>::eye(k);
    (&r * &r).sum() + mu * (&o * &o).sum()
}

#[test]
fn pca_with_orthogonality_penalty() {
    let x = matrix(5, 3, 0.65);
    let w = matrix(3, 2, 1.65);
    let mu = 0.7;
    let (v, g) = pca_orthogonal_grad(&x, &w, mu);
    assert_eq!(v, pca_orthogonal(&x, &w, mu));
    let r = &x - &x.dot(&w).dot(&w.t());
    let o = w.t().dot(&w) - Array2::<f64>::eye(2);
    let want = (x.t().dot(&r).dot(&w) + r.t().dot(&x).dot(&w)) * -2.0 + w.dot(&o) * (4.0 * mu);
    same("∇W", &g, &want, 1e-12);
    fd_array("∇W", |w| pca_orthogonal(&x, w, mu), &w, &g);
}

/// The energy of a Gram matrix, second order: f = ‖XXᵀ‖²; ∇X = 4GX,
/// H·V = 4(VXᵀ + XVᵀ)X + 4GV.
#[differentiate(hessian)]
fn gram_energy(x: &Array2<f64>) -> f64 {
    let g = x.dot(&x.t());
    (&g * &g).sum()
}

#[test]
fn gram_matrix_hessian() {
    let x = matrix(3, 2, 0.85);
    let (v, g) = gram_energy_grad(&x);
    assert_eq!(v, gram_energy(&x));
    let gm = x.dot(&x.t());
    same("∇X", &g, &(gm.dot(&x) * 4.0), 1e-13);
    fd_array("∇X", gram_energy, &x, &g);
    let dir = random_direction(&x, 4);
    let (_, dy) = gram_energy_jvp(&x, &dir);
    close("jvp", dy, (&g * &dir).sum(), 1e-12);
    let (_, _, hv) = gram_energy_hvp(&x, &dir);
    let want = (dir.dot(&x.t()) + x.dot(&dir.t())).dot(&x) * 4.0 + gm.dot(&dir) * 4.0;
    same("H·v", &hv, &want, 1e-12);
    hvpcheck(|x: &Array2<f64>| gram_energy_grad(x).1, &x, &dir, &hv).assert_ok();
}

/// A style loss between Gram matrices of features: G = FᵀF/m, f = ‖G − T‖²;
/// ∇F = (2/m) F (E + Eᵀ), E = G − T.
#[differentiate(wrt(f))]
fn style_loss(f: &Array2<f64>, t: &Array2<f64>) -> f64 {
    let m = f.nrows() as f64;
    let g = f.t().dot(f) / m;
    let e = &g - t;
    (&e * &e).sum()
}

#[test]
fn gram_style_loss() {
    let f = matrix(6, 3, 0.25);
    let t = matrix(3, 3, 1.25);
    let (v, g) = style_loss_grad(&f, &t);
    assert_eq!(v, style_loss(&f, &t));
    let e = f.t().dot(&f) / 6.0 - &t;
    same("∇F", &g, &(f.dot(&(&e + &e.t())) * (2.0 / 6.0)), 1e-13);
    fd_array("∇F", |f| style_loss(f, &t), &f, &g);
}

/// An RBF kernel from pairwise differences by `insert_axis` broadcasting into a 3-D array:
/// K_ij = exp(−γ‖x_i − x_j‖²), f = αᵀKα; ∇x_i = −4γ Σ_j α_iα_j K_ij (x_i − x_j),
/// ∂f/∂γ = −Σ α_iα_j K_ij ‖x_i − x_j‖².
#[differentiate(wrt(x, gamma))]
fn rbf_quadratic(x: &Array2<f64>, gamma: f64, alpha: &Array1<f64>) -> f64 {
    let diff = &x.view().insert_axis(Axis(1)) - &x.view().insert_axis(Axis(0));
    let sq = (&diff * &diff).sum_axis(Axis(2));
    let k = sq.mapv(|d| (-gamma * d).exp());
    alpha.dot(&k.dot(alpha))
}

#[test]
fn rbf_kernel_by_broadcasting() {
    let x = matrix(4, 2, 0.55);
    let alpha = vector(4, 1.55);
    let gamma = 0.8;
    let (v, (gx, gg)) = rbf_quadratic_grad(&x, gamma, &alpha);
    assert_eq!(v, rbf_quadratic(&x, gamma, &alpha));
    let mut want_x = Array2::<f64>::zeros((4, 2));
    let mut want_g = 0.0;
    for i in 0..4 {
        for j in 0..4 {
            let d = &x.row(i) - &x.row(j);
            let sq = d.dot(&d);
            let kij = (-gamma * sq).exp();
            want_g -= alpha[i] * alpha[j] * kij * sq;
            let row = &d * (-4.0 * gamma * alpha[i] * alpha[j] * kij);
            want_x.row_mut(i).zip_mut_with(&row, |a, b| *a += b);
        }
    }
    same("∇x", &gx, &want_x, 1e-13);
    close("∂γ", gg, want_g, 1e-13);
    gradcheck(
        |p: &(Array2<f64>, f64)| rbf_quadratic(&p.0, p.1, &alpha),
        &(x.clone(), gamma),
        &(gx, gg),
    )
    .assert_ok();
}

/// An outer product by `insert_axis` and `dot`, second order: f = Σ (abᵀ ⊙ M) = aᵀMb;
/// ∇a = Mb, ∇b = Mᵀa, H·(u, v) = (Mv, Mᵀu).
#[differentiate(wrt(a, b), hessian)]
fn outer_by_insert_axis(a: &Array1<f64>, b: &Array1<f64>, m: &Array2<f64>) -> f64 {
    let o = a
        .view()
        .insert_axis(Axis(1))
        .dot(&b.view().insert_axis(Axis(0)));
    (&o * m).sum()
}

#[test]
fn outer_product_hessian() {
    let a = vector(3, 0.15);
    let b = vector(2, 1.15);
    let m = matrix(3, 2, 2.15);
    let (v, (ga, gb)) = outer_by_insert_axis_grad(&a, &b, &m);
    assert_eq!(v, outer_by_insert_axis(&a, &b, &m));
    same("∇a", &ga, &m.dot(&b), 1e-14);
    same("∇b", &gb, &m.t().dot(&a), 1e-14);
    fd_array("∇a", |a| outer_by_insert_axis(a, &b, &m), &a, &ga);
    let pt = (a.clone(), b.clone());
    let dir = random_direction(&pt, 6);
    let (_, dy) = outer_by_insert_axis_jvp(&a, &b, &m, &dir.0, &dir.1);
    close("jvp", dy, ga.dot(&dir.0) + gb.dot(&dir.1), 1e-13);
    let (_, _, (hva, hvb)) = outer_by_insert_axis_hvp(&a, &b, &m, &dir.0, &dir.1);
    same("H·v a", &hva, &m.dot(&dir.1), 1e-13);
    same("H·v b", &hvb, &m.t().dot(&dir.0), 1e-13);
    let grad = |p: &(Array1<f64>, Array1<f64>)| outer_by_insert_axis_grad(&p.0, &p.1, &m).1;
    hvpcheck(grad, &pt, &dir, &(hva, hvb)).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// `sum_axis` followed by broadcasting, `fold_axis`, `indexed_iter`, `Zip`.
// ---------------------------------------------------------------------------------------------

/// Cross-entropy with soft labels, the normalizer a row sum broadcast back as a column:
/// P = E / rowsum(E), E = exp(Z), f = −Σ Y ⊙ ln P; ∇Z = P rowsum(Y) − Y.
#[differentiate(wrt(z))]
fn soft_label_xent(z: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let e = z.mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    -(y * &p.mapv(f64::ln)).sum()
}

#[test]
fn soft_labels_by_row_sums() {
    let z = matrix(3, 4, 0.12);
    let y = matrix(3, 4, 1.12).mapv(|v| v.abs());
    let (v, g) = soft_label_xent_grad(&z, &y);
    assert_eq!(v, soft_label_xent(&z, &y));
    let e = z.mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let want = &p * &y.sum_axis(Axis(1)).insert_axis(Axis(1)) - &y;
    same("∇Z", &g, &want, 1e-13);
    fd_array("∇Z", |z| soft_label_xent(z, &y), &z, &g);
}

/// The column covariance after centring by the broadcast column means: C = XcᵀXc/(n − 1),
/// f = ‖C‖²; ∇Xc = 4 Xc C/(n − 1), ∇X = ∇Xc minus its column means.
#[differentiate]
fn covariance_energy(x: &Array2<f64>) -> f64 {
    let n = x.nrows() as f64;
    let xc = x - &x.mean_axis(Axis(0)).unwrap();
    let c = xc.t().dot(&xc) / (n - 1.0);
    (&c * &c).sum()
}

#[test]
fn covariance_of_centred_columns() {
    let x = matrix(5, 3, 0.32);
    let (v, g) = covariance_energy_grad(&x);
    assert_eq!(v, covariance_energy(&x));
    let xc = &x - &x.mean_axis(Axis(0)).unwrap();
    let c = xc.t().dot(&xc) / 4.0;
    let gxc = xc.dot(&c) * (4.0 / 4.0);
    let want = &gxc - &gxc.mean_axis(Axis(0)).unwrap();
    same("∇X", &g, &want, 1e-13);
    fd_array("∇X", covariance_energy, &x, &g);
}

/// Column norms by `fold_axis` with a sum of squares and a starting value: n_j = √(ε + Σ_i
/// x_ij²), f = Σ_j n_j w_j; ∇x_ij = w_j x_ij / n_j.
#[differentiate(wrt(x))]
fn column_norms_fold(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let sq = x.fold_axis(Axis(0), 1e-3, |acc, &v| acc + v * v);
    sq.mapv(f64::sqrt).dot(w)
}

#[test]
fn fold_axis_sum_of_squares() {
    let x = matrix(4, 3, 0.52);
    let w = vector(3, 1.52);
    let (v, g) = column_norms_fold_grad(&x, &w);
    assert_eq!(v, column_norms_fold(&x, &w));
    let norms = x
        .mapv(|v| v * v)
        .sum_axis(Axis(0))
        .mapv(|s| (s + 1e-3).sqrt());
    let want = Array2::from_shape_fn((4, 3), |(i, j)| w[j] * x[[i, j]] / norms[j]);
    same("∇x", &g, &want, 1e-13);
    fd_array("∇x", |x| column_norms_fold(x, &w), &x, &g);
}

/// Row sums by `fold_axis(Axis(1), 0.0, |&a, &b| a + b.exp())`, a log-sum-exp per row:
/// f = Σ_i ln Σ_j exp(x_ij); ∇ = softmax by rows.
#[differentiate]
fn row_lse_fold(x: &Array2<f64>) -> f64 {
    let s = x.fold_axis(Axis(1), 0.0, |&a, &b| b.exp() + a);
    s.mapv(f64::ln).sum()
}

#[test]
fn fold_axis_exp_sum() {
    let x = matrix(3, 4, 0.72);
    let (v, g) = row_lse_fold_grad(&x);
    assert_eq!(v, row_lse_fold(&x));
    let e = x.mapv(f64::exp);
    same(
        "∇x",
        &g,
        &(&e / &e.sum_axis(Axis(1)).insert_axis(Axis(1))),
        1e-13,
    );
    fd_array("∇x", row_lse_fold, &x, &g);
}

/// A position-weighted penalty over a matrix through `indexed_iter()`:
/// f = Σ_ij (i + 1)(j + 2) a_ij²; ∇ = 2(i + 1)(j + 2) a.
#[differentiate]
fn position_weighted(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for ((i, j), &v) in a.indexed_iter() {
        s += ((i + 1) * (j + 2)) as f64 * v * v;
    }
    s
}

#[test]
fn matrix_indexed_iter() {
    let a = matrix(3, 4, 0.92);
    let (v, g) = position_weighted_grad(&a);
    assert_eq!(v, position_weighted(&a));
    let want = Array2::from_shape_fn((3, 4), |(i, j)| {
        2.0 * ((i + 1) * (j + 2)) as f64 * a[[i, j]]
    });
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", position_weighted, &a, &g);
}

/// A banded penalty through `indexed_iter()` with `continue` off the band and the element by
/// value: f = Σ_{|i − j| ≤ 1} sin(a_ij) w_{i−j+1}; ∂/∂a_ij = cos(a_ij) w_{i−j+1} on the band.
#[differentiate(wrt(a))]
fn banded(a: &Array2<f64>, w: &[f64]) -> f64 {
    let mut s = 0.0;
    for ((i, j), v) in a.indexed_iter() {
        if i.abs_diff(j) > 1 {
            continue;
        }
        s += v.sin() * w[i + 1 - j];
    }
    s
}

#[test]
fn matrix_indexed_iter_with_continue() {
    let a = matrix(4, 4, 1.92);
    let w = [0.5, -1.0, 2.0];
    let (v, g) = banded_grad(&a, &w);
    assert_eq!(v, banded(&a, &w));
    let want = Array2::from_shape_fn((4, 4), |(i, j)| {
        if i.abs_diff(j) > 1 {
            0.0
        } else {
            a[[i, j]].cos() * w[i + 1 - j]
        }
    });
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", |a| banded(a, &w), &a, &g);
}

/// A 3-D array through `indexed_iter()`: f = Σ_{b,i,j} (b + 1) t_bij³ / (i + j + 1).
#[differentiate]
fn tensor_indexed(t: &Array3<f64>) -> f64 {
    let mut s = 0.0;
    for ((b, i, j), &v) in t.indexed_iter() {
        s += (b + 1) as f64 * v * v * v / (i + j + 1) as f64;
    }
    s
}

#[test]
fn tensor3_indexed_iter() {
    let t = Array3::from_shape_vec((2, 3, 2), data(12, 2.92)).unwrap();
    let (v, g) = tensor_indexed_grad(&t);
    assert_eq!(v, tensor_indexed(&t));
    let want = Array3::from_shape_fn((2, 3, 2), |(b, i, j)| {
        3.0 * (b + 1) as f64 * t[[b, i, j]].powi(2) / (i + j + 1) as f64
    });
    same("∇t", &g, &want, 1e-14);
    fd_array("∇t", tensor_indexed, &t, &g);
}

/// `Zip` of three producers into a new array: a gated blend g ⊙ a + (1 − g) ⊙ b, g = σ(z),
/// scored by Σ of squares; ∇a = 2 m g, ∇b = 2 m (1 − g), ∇z = 2 m (a − b) g (1 − g).
#[differentiate]
fn zip_three_blend(a: &Array2<f64>, b: &Array2<f64>, z: &Array2<f64>) -> f64 {
    let m = Zip::from(a).and(b).and(z).map_collect(|&x, &y, &s| {
        let g = 1.0 / (1.0 + (-s).exp());
        g * x + (1.0 - g) * y
    });
    m.mapv(|v| v * v).sum()
}

#[test]
fn zip_of_three_producers() {
    let a = matrix(2, 3, 0.13);
    let b = matrix(2, 3, 1.13);
    let z = matrix(2, 3, 2.13);
    let (v, (ga, gb, gz)) = zip_three_blend_grad(&a, &b, &z);
    assert_eq!(v, zip_three_blend(&a, &b, &z));
    let g = z.mapv(sigmoid);
    let m = &g * &a + &g.mapv(|v| 1.0 - v) * &b;
    same("∇a", &ga, &(&m * &g * 2.0), 1e-14);
    same("∇b", &gb, &(&m * &g.mapv(|v| 1.0 - v) * 2.0), 1e-14);
    same(
        "∇z",
        &gz,
        &(&m * &(&a - &b) * &g.mapv(|v| v * (1.0 - v)) * 2.0),
        1e-14,
    );
    fd_array("∇a", |a| zip_three_blend(a, &b, &z), &a, &ga);
    fd_array("∇z", |z| zip_three_blend(&a, &b, z), &z, &gz);
}

/// `Zip` of three vectors with a weight captured from the parameters, second order:
/// f = Σ_i w (x_i y_i + c_i)²; ∇x = 2w(xy + c) y, ∂w = Σ (xy + c)².
#[differentiate(wrt(x, w), hessian)]
fn zip_three_weighted(x: &Array1<f64>, y: &Array1<f64>, c: &Array1<f64>, w: f64) -> f64 {
    let r = Zip::from(x)
        .and(y)
        .and(c)
        .map_collect(|&a, &b, &k| a * b + k);
    r.mapv(|v| w * v * v).sum()
}

#[test]
fn zip_three_hessian() {
    let x = vector(4, 0.33);
    let y = vector(4, 1.33);
    let c = vector(4, 2.33);
    let w = 0.6;
    let (v, (gx, gw)) = zip_three_weighted_grad(&x, &y, &c, w);
    assert_eq!(v, zip_three_weighted(&x, &y, &c, w));
    let r = &x * &y + &c;
    same("∇x", &gx, &(&r * &y * (2.0 * w)), 1e-14);
    close("∂w", gw, r.dot(&r), 1e-14);
    let pt = (x.clone(), w);
    let dir = random_direction(&pt, 8);
    let (_, dy) = zip_three_weighted_jvp(&x, &y, &c, w, &dir.0, dir.1);
    close("jvp", dy, gx.dot(&dir.0) + gw * dir.1, 1e-13);
    let (_, _, (hx, hw)) = zip_three_weighted_hvp(&x, &y, &c, w, &dir.0, dir.1);
    // H = [[2w diag(y²), 2 r y], [2 (r y)ᵀ, 0]].
    let want_hx = &y * &y * &dir.0 * (2.0 * w) + &(&r * &y) * (2.0 * dir.1);
    same("H·v x", &hx, &want_hx, 1e-13);
    close("H·v w", hw, 2.0 * (&r * &y).dot(&dir.0), 1e-13);
    let grad = |p: &(Array1<f64>, f64)| zip_three_weighted_grad(&p.0, &y, &c, p.1).1;
    hvpcheck(grad, &pt, &dir, &(hx, hw)).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// `mapv` closures capturing parameters, `slice_mut(..).assign(..)`.
// ---------------------------------------------------------------------------------------------

/// A scaled, shifted activation whose closure captures two differentiated scalars, second
/// order: f = Σ tanh(a x_i + b); ∂a = Σ (1 − t²) x, ∂b = Σ (1 − t²).
#[differentiate(wrt(a, b), hessian)]
fn captured_affine_tanh(x: &Array1<f64>, a: f64, b: f64) -> f64 {
    x.mapv(|v| (a * v + b).tanh()).sum()
}

#[test]
fn mapv_capturing_scalars_hessian() {
    let x = vector(5, 0.44);
    let (a, b) = (0.8, -0.3);
    let (v, (ga, gb)) = captured_affine_tanh_grad(&x, a, b);
    assert_eq!(v, captured_affine_tanh(&x, a, b));
    let t = x.mapv(|v| (a * v + b).tanh());
    let s = t.mapv(|t| 1.0 - t * t);
    close("∂a", ga, (&s * &x).sum(), 1e-14);
    close("∂b", gb, s.sum(), 1e-14);
    fd2("∇", |a, b| captured_affine_tanh(&x, a, b), (a, b), (ga, gb));
    let (da, db) = (0.7, -0.4);
    let (_, dy) = captured_affine_tanh_jvp(&x, a, b, da, db);
    close("jvp", dy, ga * da + gb * db, 1e-13);
    let (_, _, (ha, hb)) = captured_affine_tanh_hvp(&x, a, b, da, db);
    // ∂²/∂u² tanh u = −2t(1 − t²), u = a x + b: H = Σ −2ts [[x², x], [x, 1]].
    let k = (&t * &s) * -2.0;
    close(
        "H·v a",
        ha,
        (&k * &x * &x).sum() * da + (&k * &x).sum() * db,
        1e-12,
    );
    close("H·v b", hb, (&k * &x).sum() * da + k.sum() * db, 1e-12);
}

/// A closure capturing an element of a parameter vector and a local: a Huber loss whose
/// threshold δ = exp(θ₀) is learned, f = Σ huber_δ(p_i − y_i).
#[differentiate(wrt(p, theta))]
fn learned_huber(p: &Array1<f64>, y: &Array1<f64>, theta: &Array1<f64>) -> f64 {
    let delta = theta[0].exp();
    let r = p - y;
    r.mapv(|e| {
        if e.abs() <= delta {
            0.5 * e * e
        } else {
            delta * (e.abs() - 0.5 * delta)
        }
    })
    .sum()
}

#[test]
fn mapv_capturing_a_learned_threshold() {
    let p = array![0.1, 2.5, -1.7, 0.4];
    let y = array![0.0, 0.3, 0.2, 0.9];
    let theta = array![0.0];
    let (v, (gp, gt)) = learned_huber_grad(&p, &y, &theta);
    assert_eq!(v, learned_huber(&p, &y, &theta));
    // δ = 1: ∂/∂p = e inside, δ sign(e) outside; ∂/∂δ = |e| − δ outside, ∂δ/∂θ₀ = δ.
    let r = &p - &y;
    same(
        "∇p",
        &gp,
        &r.mapv(|e| if e.abs() <= 1.0 { e } else { e.signum() }),
        1e-14,
    );
    let want_t = r
        .iter()
        .map(|e| if e.abs() <= 1.0 { 0.0 } else { e.abs() - 1.0 })
        .sum::<f64>();
    close("∂θ₀", gt[0], want_t, 1e-14);
    fd_array("∇p", |p| learned_huber(p, &y, &theta), &p, &gp);
    fd_array("∇θ", |t| learned_huber(&p, &y, t), &theta, &gt);
}

/// Sinusoidal features written into the two halves of a buffer with
/// `slice_mut(s![.., ..d]).assign(..)`, then a linear readout: f = Σ [sin(XW), cos(XW)] ⊙ C.
#[differentiate(wrt(w))]
fn sin_cos_features(x: &Array2<f64>, w: &Array2<f64>, c: &Array2<f64>) -> f64 {
    let h = x.dot(w);
    let d = h.ncols();
    let mut out = Array2::<f64>::zeros((h.nrows(), 2 * d));
    out.slice_mut(s![.., ..d]).assign(&h.mapv(f64::sin));
    out.slice_mut(s![.., d..]).assign(&h.mapv(f64::cos));
    (&out * c).sum()
}

#[test]
fn slice_mut_assigned_halves() {
    let x = matrix(3, 2, 0.54);
    let w = matrix(2, 2, 1.54);
    let c = matrix(3, 4, 2.54);
    let (v, g) = sin_cos_features_grad(&x, &w, &c);
    assert_eq!(v, sin_cos_features(&x, &w, &c));
    // ∂f/∂H = C₁ ⊙ cos H − C₂ ⊙ sin H; ∇W = Xᵀ ∂f/∂H.
    let h = x.dot(&w);
    let gh = &c.slice(s![.., ..2]) * &h.mapv(f64::cos) - &c.slice(s![.., 2..]) * &h.mapv(f64::sin);
    same("∇W", &g, &x.t().dot(&gh), 1e-13);
    fd_array("∇W", |w| sin_cos_features(&x, w, &c), &w, &g);
}

/// Every other column of a buffer written through a stepped `slice_mut(s![.., ..;2])`, the
/// rest left zero: f = Σ (B ⊙ B) with B[:, 2k] = tanh(A[:, k]).
#[differentiate]
fn strided_columns(a: &Array2<f64>) -> f64 {
    let (n, m) = a.dim();
    let mut b = Array2::<f64>::zeros((n, 2 * m));
    b.slice_mut(s![.., ..;2]).assign(&a.mapv(f64::tanh));
    (&b * &b).sum()
}

#[test]
fn stepped_slice_mut() {
    let a = matrix(2, 3, 0.74);
    let (v, g) = strided_columns_grad(&a);
    assert_eq!(v, strided_columns(&a));
    same(
        "∇a",
        &g,
        &a.mapv(|v| 2.0 * v.tanh() * (1.0 - v.tanh().powi(2))),
        1e-14,
    );
    fd_array("∇a", strided_columns, &a, &g);
}

// ---------------------------------------------------------------------------------------------
// `f32` and generic helpers over views.
// ---------------------------------------------------------------------------------------------

/// An `f32` two-layer network with an MSE: h = tanh(XW₁), out = hW₂.
#[differentiate(wrt(w1, w2))]
fn mlp_f32(w1: &Array2<f32>, w2: &Array2<f32>, x: &Array2<f32>, y: &Array2<f32>) -> f32 {
    let h = x.dot(w1).mapv(f32::tanh);
    let r = h.dot(w2) - y;
    (&r * &r).sum() / y.len() as f32
}

#[test]
fn f32_two_layer_network() {
    let f = |m: Array2<f64>| m.mapv(|v| v as f32);
    let (x, y) = (f(matrix(4, 3, 0.15)), f(matrix(4, 2, 1.15)));
    let (w1, w2) = (f(matrix(3, 3, 2.15)), f(matrix(3, 2, 3.15)));
    let (v, (g1, g2)) = mlp_f32_grad(&w1, &w2, &x, &y);
    assert_eq!(v, mlp_f32(&w1, &w2, &x, &y));
    // ∂/∂out = 2r/N; ∇W₂ = hᵀ ∂out; ∇W₁ = Xᵀ((∂out W₂ᵀ) ⊙ (1 − h²)).
    let h = x.dot(&w1).mapv(f32::tanh);
    let gout = (h.dot(&w2) - &y) * (2.0 / 8.0);
    let want2 = h.t().dot(&gout);
    let want1 = x.t().dot(&(gout.dot(&w2.t()) * h.mapv(|v| 1.0 - v * v)));
    for (a, b) in g1
        .iter()
        .zip(want1.iter())
        .chain(g2.iter().zip(want2.iter()))
    {
        close("∇W", *a as f64, *b as f64, 1e-5);
    }
    gradcheck(
        |p: &(Array2<f32>, Array2<f32>)| mlp_f32(&p.0, &p.1, &x, &y),
        &(w1.clone(), w2.clone()),
        &(g1, g2),
    )
    .assert_ok();
}

/// `f32` attention scores with a row softmax and a weighted readout.
#[differentiate(wrt(q))]
fn attention_f32(q: &Array2<f32>, k: &Array2<f32>, c: &Array2<f32>) -> f32 {
    let s = q.dot(&k.t()) / (q.ncols() as f32).sqrt();
    let e = s.mapv(f32::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    (&p * c).sum()
}

#[test]
fn f32_attention_scores() {
    let f = |m: Array2<f64>| m.mapv(|v| v as f32);
    let (q, k, c) = (
        f(matrix(3, 2, 0.25)),
        f(matrix(4, 2, 1.25)),
        f(matrix(3, 4, 2.25)),
    );
    let (v, g) = attention_f32_grad(&q, &k, &c);
    assert_eq!(v, attention_f32(&q, &k, &c));
    // dS = P ⊙ (C − rowsum(C ⊙ P)); ∇Q = dS K/√d.
    let s = q.dot(&k.t()) / 2f32.sqrt();
    let e = s.mapv(f32::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let ds = &p * &(&c - &(&c * &p).sum_axis(Axis(1)).insert_axis(Axis(1)));
    let want = ds.dot(&k) / 2f32.sqrt();
    for (a, b) in g.iter().zip(want.iter()) {
        close("∇Q", *a as f64, *b as f64, 1e-5);
    }
    gradcheck(|q: &Array2<f32>| attention_f32(q, &k, &c), &q, &g).assert_ok();
}

/// A generic weighted squared norm over views, `A: Float`: Σ w_i x_i².
#[differentiate]
fn weighted_sq<A: num_traits::Float + 'static>(x: ArrayView1<'_, A>, w: ArrayView1<'_, A>) -> A {
    let mut s = A::zero();
    for i in 0..x.len() {
        s = s + w[i] * x[i] * x[i];
    }
    s
}

/// The generic helper called on the rows of an `f64` matrix: f = Σ_i Σ_j w_j x_ij².
#[differentiate]
fn rows_weighted_sq(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        s += weighted_sq(x.row(i), w.view());
    }
    s
}

/// The same helper from an `f32` function.
#[differentiate(wrt(x))]
fn weighted_sq_f32(x: &Array1<f32>, w: &Array1<f32>) -> f32 {
    weighted_sq(x.view(), w.view()).sqrt()
}

#[test]
fn generic_helper_over_views() {
    let x = matrix(3, 4, 0.35);
    let w = vector(4, 1.35);
    let (v, (gx, gw)) = rows_weighted_sq_grad(&x, &w);
    assert_eq!(v, rows_weighted_sq(&x, &w));
    same("∇x", &gx, &(&x * &w * 2.0), 1e-14);
    same("∇w", &gw, &x.mapv(|v| v * v).sum_axis(Axis(0)), 1e-14);
    fd_array("∇x", |x| rows_weighted_sq(x, &w), &x, &gx);
    fd_array("∇w", |w| rows_weighted_sq(&x, w), &w, &gw);
    let (x32, w32) = (
        vector(4, 2.35).mapv(|v| v as f32),
        w.mapv(|v| v.abs() as f32),
    );
    let (v32, g32) = weighted_sq_f32_grad(&x32, &w32);
    assert_eq!(v32, weighted_sq_f32(&x32, &w32));
    // ∇x = w ⊙ x / √(Σ w x²).
    for k in 0..4 {
        close(
            "∇x f32",
            g32[k] as f64,
            (w32[k] * x32[k] / v32) as f64,
            1e-5,
        );
    }
    gradcheck(|x: &Array1<f32>| weighted_sq_f32(x, &w32), &x32, &g32).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// Losses over rows, quadratic forms.
// ---------------------------------------------------------------------------------------------

/// A triplet margin loss over rows: f = Σ_i relu(‖a_i − p_i‖² − ‖a_i − n_i‖² + m).
#[differentiate(wrt(a, p, n))]
fn triplet_loss(a: &Array2<f64>, p: &Array2<f64>, n: &Array2<f64>, margin: f64) -> f64 {
    let dp = (a - p).mapv(|v| v * v).sum_axis(Axis(1));
    let dn = (a - n).mapv(|v| v * v).sum_axis(Axis(1));
    (&dp - &dn + margin).mapv(|v| v.max(0.0)).sum()
}

#[test]
fn triplet_margin_over_rows() {
    let a = matrix(4, 3, 0.55);
    let p = matrix(4, 3, 1.55);
    let n = matrix(4, 3, 2.55);
    let (v, (ga, gp, gn)) = triplet_loss_grad(&a, &p, &n, 0.5);
    assert_eq!(v, triplet_loss(&a, &p, &n, 0.5));
    // Active rows: ∇a = 2(n − p), ∇p = 2(p − a), ∇n = 2(a − n); zero elsewhere.
    let dp = (&a - &p).mapv(|v| v * v).sum_axis(Axis(1));
    let dn = (&a - &n).mapv(|v| v * v).sum_axis(Axis(1));
    let on = (&dp - &dn + 0.5)
        .mapv(|v| if v > 0.0 { 1.0 } else { 0.0 })
        .insert_axis(Axis(1));
    same("∇a", &ga, &((&n - &p) * &on * 2.0), 1e-14);
    same("∇p", &gp, &((&p - &a) * &on * 2.0), 1e-14);
    same("∇n", &gn, &((&a - &n) * &on * 2.0), 1e-14);
    fd_array("∇a", |a| triplet_loss(a, &p, &n, 0.5), &a, &ga);
}

/// Cosine similarities of the rows of two matrices, the norms from `sum_axis(Axis(1))`
/// broadcast as columns: f = Σ_i ⟨â_i, b̂_i⟩ weights; checked by rows.
#[differentiate(wrt(a))]
fn cosine_rows(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let na = a.mapv(|v| v * v).sum_axis(Axis(1)).mapv(f64::sqrt);
    let nb = b.mapv(|v| v * v).sum_axis(Axis(1)).mapv(f64::sqrt);
    let ah = a / &na.insert_axis(Axis(1));
    let bh = b / &nb.insert_axis(Axis(1));
    (&ah * &bh).sum()
}

#[test]
fn cosine_similarity_of_rows() {
    let a = matrix(3, 4, 0.65);
    let b = matrix(3, 4, 1.65);
    let (v, g) = cosine_rows_grad(&a, &b);
    assert_eq!(v, cosine_rows(&a, &b));
    // ∇a_i = (b̂_i − cos_i â_i)/‖a_i‖.
    let mut want = Array2::<f64>::zeros((3, 4));
    for i in 0..3 {
        let (ai, bi) = (a.row(i), b.row(i));
        let (na, nb) = (ai.dot(&ai).sqrt(), bi.dot(&bi).sqrt());
        let cos = ai.dot(&bi) / (na * nb);
        want.row_mut(i)
            .assign(&((&bi / nb - &ai * (cos / na)) / na));
    }
    same("∇a", &g, &want, 1e-13);
    fd_array("∇a", |a| cosine_rows(a, &b), &a, &g);
}

/// A Mahalanobis distance with a factor, second order: f = (x − μ)ᵀ LLᵀ (x − μ);
/// ∇x = 2LLᵀ(x − μ), H = 2LLᵀ.
#[differentiate(wrt(x), hessian)]
fn mahalanobis(x: &Array1<f64>, mu: &Array1<f64>, l: &Array2<f64>) -> f64 {
    let d = x - mu;
    let z = l.t().dot(&d);
    z.dot(&z)
}

#[test]
fn mahalanobis_hessian() {
    let x = vector(3, 0.75);
    let mu = vector(3, 1.75);
    let l = matrix(3, 3, 2.75);
    let (v, g) = mahalanobis_grad(&x, &mu, &l);
    assert_eq!(v, mahalanobis(&x, &mu, &l));
    let a = l.dot(&l.t());
    same("∇x", &g, &(a.dot(&(&x - &mu)) * 2.0), 1e-13);
    fd_array("∇x", |x| mahalanobis(x, &mu, &l), &x, &g);
    let dir = random_direction(&x, 10);
    let (_, dy) = mahalanobis_jvp(&x, &mu, &l, &dir);
    close("jvp", dy, g.dot(&dir), 1e-13);
    let (_, _, hv) = mahalanobis_hvp(&x, &mu, &l, &dir);
    same("H·v", &hv, &(a.dot(&dir) * 2.0), 1e-13);
    hvpcheck(
        |x: &Array1<f64>| mahalanobis_grad(x, &mu, &l).1,
        &x,
        &dir,
        &hv,
    )
    .assert_ok();
}

/// The entropy of each row's softmax, summed: f = −Σ_i Σ_j p_ij ln p_ij;
/// ∇z_ij = −p_ij (ln p_ij + H_i), H_i the row's entropy.
#[differentiate]
fn softmax_entropy(z: &Array2<f64>) -> f64 {
    let m = z.fold_axis(Axis(1), f64::NEG_INFINITY, |&a, &b| a.max(b));
    let e = (z - &m.insert_axis(Axis(1))).mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    -(&p * &p.mapv(f64::ln)).sum()
}

#[test]
fn entropy_of_row_softmax() {
    let z = matrix(3, 4, 0.85);
    let (v, g) = softmax_entropy_grad(&z);
    assert_eq!(v, softmax_entropy(&z));
    let e = z.mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let h = -(&p * &p.mapv(f64::ln)).sum_axis(Axis(1));
    let want = -(&p * &(p.mapv(f64::ln) + &h.insert_axis(Axis(1))));
    same("∇z", &g, &want, 1e-13);
    fd_array("∇z", softmax_entropy, &z, &g);
}

/// A batched matrix product over a 3-D array by `outer_iter()` and a shared weight:
/// f = Σ_b ‖X_b W‖²; ∇W = 2 Σ_b X_bᵀ X_b W.
#[differentiate(wrt(w))]
fn batched_matmul(x: &Array3<f64>, w: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for xb in x.outer_iter() {
        let y = xb.dot(w);
        s += (&y * &y).sum();
    }
    s
}

#[test]
fn batched_matmul_over_outer_iter() {
    let x = Array3::from_shape_vec((3, 2, 3), data(18, 0.95)).unwrap();
    let w = matrix(3, 2, 1.95);
    let (v, g) = batched_matmul_grad(&x, &w);
    assert_eq!(v, batched_matmul(&x, &w));
    let mut want = Array2::<f64>::zeros((3, 2));
    for b in 0..3 {
        let xb = x.index_axis(Axis(0), b);
        want = want + xb.t().dot(&xb.dot(&w)) * 2.0;
    }
    same("∇W", &g, &want, 1e-13);
    fd_array("∇W", |w| batched_matmul(&x, w), &w, &g);
}

/// The rows of a matrix a helper returned, through `outer_iter()`: f = Σ_i max(0, h_i · v)²,
/// h = tanh(XW).
#[differentiate(wrt(w, v))]
fn rows_of_returned(x: &Array2<f64>, w: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let h = affine(x, w);
    let mut s = 0.0;
    for row in h.outer_iter() {
        s += row.dot(v).max(0.0).powi(2);
    }
    s
}

#[test]
fn outer_iter_of_a_returned_matrix() {
    let x = matrix(4, 2, 0.16);
    let w = matrix(2, 3, 1.16);
    let v = vector(3, 2.16);
    let (val, (gw, gv)) = rows_of_returned_grad(&x, &w, &v);
    assert_eq!(val, rows_of_returned(&x, &w, &v));
    // s_i = max(0, h_i · v): ∇v = Σ 2 s_i h_i; ∂/∂H_i = 2 s_i v; ∇W = Xᵀ(∂H ⊙ (1 − h²)).
    let h = x.dot(&w).mapv(f64::tanh);
    let s = h.dot(&v).mapv(|p| p.max(0.0));
    same("∇v", &gv, &(h.t().dot(&s) * 2.0), 1e-13);
    let gh = Array2::from_shape_fn((4, 3), |(i, j)| {
        2.0 * s[i] * v[j] * (1.0 - h[[i, j]].powi(2))
    });
    same("∇W", &gw, &x.t().dot(&gh), 1e-13);
    fd_array("∇W", |w| rows_of_returned(&x, w, &v), &w, &gw);
}

// ---------------------------------------------------------------------------------------------
// Lanes zipped with the lanes of another array, and lanes of a parameter's field.
// ---------------------------------------------------------------------------------------------

/// Inputs and targets walked together, `x.outer_iter().zip(y.outer_iter())`:
/// f = Σ_i ‖x_i W − y_i‖²; ∇W = 2 Xᵀ(XW − Y).
#[differentiate(wrt(w))]
fn paired_rows(w: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let mut t = 0.0;
    for (xr, yr) in x.outer_iter().zip(y.outer_iter()) {
        t += (&xr.dot(w) - &yr).mapv(|e| e * e).sum();
    }
    t
}

/// The same with `rows()` on both sides, enumerated, and the targets' rows one shorter (the
/// loop stops with the shorter): f = Σ_{i<3} (i + 1)‖x_i W − y_i‖².
#[differentiate(wrt(w))]
fn paired_rows_enumerated(w: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let mut t = 0.0;
    for (i, (xr, yr)) in x.rows().into_iter().zip(y.rows()).enumerate() {
        t += (i + 1) as f64 * (&xr.dot(w) - &yr).mapv(|e| e * e).sum();
    }
    t
}

/// Minibatches of inputs and targets: `axis_chunks_iter` on both sides, the targets a vector;
/// f = Σ_batches ‖rowsum(X_b W) − y_b‖² = ‖rowsum(XW) − y‖².
#[differentiate(wrt(w))]
fn paired_minibatches(w: &Array2<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for (xb, yb) in x
        .axis_chunks_iter(Axis(0), 2)
        .zip(y.axis_chunks_iter(Axis(0), 2))
    {
        t += (&xb.dot(w).sum_axis(Axis(1)) - &yb).mapv(|e| e * e).sum();
    }
    t
}

/// Two differentiated locals' rows zipped in a chain: f = Σ_i ⟨(XWᵀ)_i, (YWᵀ)_i⟩.
#[differentiate(wrt(w))]
fn paired_local_rows(w: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = x.dot(&w.t());
    let g = y.dot(&w.t());
    h.axis_iter(Axis(0))
        .zip(g.axis_iter(Axis(0)))
        .map(|(a, b)| a.dot(&b))
        .sum::<f64>()
}

#[derive(Clone, autodiff::Differentiable)]
struct Neurons {
    w: Array2<f64>,
    b: Array1<f64>,
}

/// Each neuron's row of a parameter's field, in a loop and in a chain:
/// f = Σ_j tanh(w_j · x + b_j) + Σ_j (w_j · x)².
#[differentiate(wrt(p))]
fn neuron_rows(p: &Neurons, x: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for (row, &b) in p.w.rows().into_iter().zip(p.b.iter()) {
        t += (row.dot(x) + b).tanh();
    }
    t + p.w.outer_iter().map(|r| r.dot(x).powi(2)).sum::<f64>()
}

#[test]
fn lanes_zipped_with_lanes() {
    let w = matrix(3, 2, 0.35);
    let x = matrix(5, 3, 1.35);
    let y = matrix(5, 2, 2.35);
    let r = x.dot(&w) - &y;
    let (v, g) = paired_rows_grad(&w, &x, &y);
    assert_eq!(v, paired_rows(&w, &x, &y));
    same("∇W", &g, &(x.t().dot(&r) * 2.0), 1e-13);
    fd_array("∇W", |w| paired_rows(w, &x, &y), &w, &g);

    let y4 = y.slice(s![..4, ..]).to_owned();
    let (v, g) = paired_rows_enumerated_grad(&w, &x, &y4);
    assert_eq!(v, paired_rows_enumerated(&w, &x, &y4));
    let mut want = Array2::<f64>::zeros((3, 2));
    for i in 0..4 {
        let ri = &x.row(i).dot(&w) - &y4.row(i);
        let xi = x.row(i).to_owned().insert_axis(Axis(1));
        want = want + xi.dot(&ri.insert_axis(Axis(0))) * (2.0 * (i + 1) as f64);
    }
    same("∇W", &g, &want, 1e-13);
    fd_array("∇W", |w| paired_rows_enumerated(w, &x, &y4), &w, &g);

    let t = vector(5, 3.35);
    let (v, g) = paired_minibatches_grad(&w, &x, &t);
    assert!((v - paired_minibatches(&w, &x, &t)).abs() <= 1e-14 * v.abs());
    let e = x.dot(&w).sum_axis(Axis(1)) - &t;
    let want = x
        .t()
        .dot(&e)
        .insert_axis(Axis(1))
        .dot(&Array2::<f64>::ones((1, 2)))
        * 2.0;
    same("∇W", &g, &want, 1e-13);
    fd_array("∇W", |w| paired_minibatches(w, &x, &t), &w, &g);

    let wl = matrix(2, 3, 4.35);
    let (v, g) = paired_local_rows_grad(&wl, &x, &x.mapv(|v| v * 0.5 + 0.1));
    assert_eq!(v, paired_local_rows(&wl, &x, &x.mapv(|v| v * 0.5 + 0.1)));
    fd_array(
        "∇W",
        |w| paired_local_rows(w, &x, &x.mapv(|v| v * 0.5 + 0.1)),
        &wl,
        &g,
    );

    let p = Neurons {
        w: matrix(3, 2, 5.35),
        b: vector(3, 6.35),
    };
    let xv = vector(2, 7.35);
    let (v, g) = neuron_rows_grad(&p, &xv);
    assert_eq!(v, neuron_rows(&p, &xv));
    let z = p.w.dot(&xv);
    let a = (&z + &p.b).mapv(|v| 1.0 - v.tanh().powi(2));
    let gw = (&a + &(&z * 2.0))
        .insert_axis(Axis(1))
        .dot(&xv.clone().insert_axis(Axis(0)));
    same("∇w", &g.w, &gw, 1e-13);
    same("∇b", &g.b, &a, 1e-13);
    gradcheck(|p: &Neurons| neuron_rows(p, &xv), &p, &g).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// Windows and chunks of token ids read in `row(..)` and `s![..]`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, autodiff::Differentiable)]
struct Bigram {
    emb: Array2<f64>,
    out: Array2<f64>,
}

/// A bigram language model over `tok.windows(2)`: f = Σ_t lse(O e_{w0}) − (O e_{w0})_{w1}.
#[differentiate(wrt(p))]
fn bigram_nll(p: &Bigram, tok: &[usize]) -> f64 {
    let mut l = 0.0;
    for w in tok.windows(2) {
        let logits = p.out.dot(&p.emb.row(w[0]));
        l += logits.mapv(f64::exp).sum().ln() - logits[w[1]];
    }
    l
}

/// The same pairs as chunks, read through `column` and `s![..]`: f = Σ ⟨E_{:, c0 mod 2},
/// O_{:, c1 mod 2}⟩ Σ_j O_{c1, j} + ‖E[c0..c0 + 2, ..]‖².
#[differentiate(wrt(p))]
fn chunk_regions(p: &Bigram, pairs: &[usize]) -> f64 {
    let mut l = 0.0;
    for c in pairs.chunks(2) {
        l += p.emb.column(c[0] % 2).dot(&p.out.column(c[1] % 2)) * p.out.slice(s![c[1], ..]).sum();
        l += p.emb.slice(s![c[0]..c[0] + 2, ..]).mapv(|v| v * v).sum();
    }
    l
}

/// `mapv` given a qualified path, `<f64>::exp`, as code a `macro_rules!` writes over a type:
/// f = Σ exp(XW).
#[differentiate(wrt(w))]
fn qualified_path_map(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    x.dot(w).mapv(<f64>::exp).sum()
}

#[test]
fn windows_in_regions() {
    let p = Bigram {
        emb: matrix(4, 2, 0.55),
        out: matrix(4, 2, 1.55),
    };
    let tok = [0usize, 2, 1, 3, 3, 0];
    let (v, g) = bigram_nll_grad(&p, &tok);
    assert_eq!(v, bigram_nll(&p, &tok));
    // ∂/∂logits = softmax − onehot(w1); ∇O += that ⊗ e_{w0}, ∇e_{w0} += Oᵀ that.
    let mut want = Bigram {
        emb: Array2::zeros((4, 2)),
        out: Array2::zeros((4, 2)),
    };
    for w in tok.windows(2) {
        let e = p.emb.row(w[0]).to_owned();
        let z = p.out.dot(&e);
        let mut d = z.mapv(f64::exp) / z.mapv(f64::exp).sum();
        d[w[1]] -= 1.0;
        want.out = &want.out + &d.clone().insert_axis(Axis(1)).dot(&e.insert_axis(Axis(0)));
        let ge = p.out.t().dot(&d);
        let mut row = want.emb.row_mut(w[0]);
        row += &ge;
    }
    same("∇E", &g.emb, &want.emb, 1e-13);
    same("∇O", &g.out, &want.out, 1e-13);
    gradcheck(|p: &Bigram| bigram_nll(p, &tok), &p, &g).assert_ok();

    let pairs = [0usize, 1, 2, 3, 1, 0];
    let (v, g) = chunk_regions_grad(&p, &pairs);
    assert_eq!(v, chunk_regions(&p, &pairs));
    gradcheck(|p: &Bigram| chunk_regions(p, &pairs), &p, &g).assert_ok();

    let w = matrix(3, 2, 2.55);
    let x = matrix(4, 3, 3.55);
    let (v, g) = qualified_path_map_grad(&w, &x);
    assert_eq!(v, qualified_path_map(&w, &x));
    same("∇W", &g, &x.t().dot(&x.dot(&w).mapv(f64::exp)), 1e-13);
}
