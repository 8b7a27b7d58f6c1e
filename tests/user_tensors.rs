//! Tensor programs written the way they are written for training models with ndarray: linear,
//! logistic and softmax regression, MLPs and autoencoders in parameter structs, attention
//! scores, recurrent cells over sequences, convolutions, with `autodiff::nn`, `autodiff::conv`
//! and the optimizers. Every gradient is checked against central finite differences, and
//! against the analytic formula where one is short.

use autodiff::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use autodiff::{Differentiable, check, conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4, Axis, Zip, array, s};

/// Four examples with three features, no two of them orthogonal to the weights below (so no
/// pre-activation sits at a kink), and binary targets.
fn data() -> (Array2<f64>, Array1<f64>) {
    let x = array![
        [0.5, -1.0, 2.0],
        [1.5, 0.2, -0.3],
        [-0.7, 0.4, 0.15],
        [0.3, 0.35, -1.2]
    ];
    let y = array![1.0, 0.0, 1.0, 0.0];
    (x, y)
}

fn w32() -> Array2<f64> {
    array![[0.1, -0.2], [0.3, 0.4], [-0.5, 0.2]]
}

fn close(a: &Array1<f64>, b: &Array1<f64>, tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a} != {b}");
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions.

/// Logistic regression with the sigmoid written as a closure and the log-likelihood as array
/// arithmetic with the scalar `1.0 - y`.
#[differentiate(wrt(w, b))]
fn logistic(w: &Array1<f64>, b: f64, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let z = x.dot(w) + b;
    let p = z.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let ll = y * &p.mapv(f64::ln) + (1.0 - y) * &p.mapv(|v| (1.0 - v).ln());
    -ll.mean().unwrap()
}

#[test]
fn logistic_regression_matches_xt_p_minus_y() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let (l, (gw, gb)) = logistic_grad(&w, 0.1, &x, &y);
    assert_eq!(l, logistic(&w, 0.1, &x, &y));
    let p = (x.dot(&w) + 0.1).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    close(&gw, &(x.t().dot(&(&p - &y)) / 4.0), 1e-12);
    assert!((gb - (&p - &y).mean().unwrap()).abs() < 1e-12);
    check::assert_gradient(|w: &Array1<f64>| logistic(w, 0.1, &x, &y), &w, &gw);
}

/// The same loss as a chain over the elements of two arrays, trained by SGD on the tuple of
/// parameters.
#[differentiate(wrt(w, b))]
fn bce_chain(w: &Array1<f64>, b: f64, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let probs = (x.dot(w) + b).mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let n = y.len() as f64;
    -probs
        .iter()
        .zip(y.iter())
        .map(|(p, t)| t * p.ln() + (1.0 - t) * (1.0 - p).ln())
        .sum::<f64>()
        / n
}

#[test]
fn binary_cross_entropy_as_an_iterator_chain_trains() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let (l, (gw, gb)) = bce_chain_grad(&w, 0.1, &x, &y);
    let (l2, (gw2, gb2)) = logistic_grad(&w, 0.1, &x, &y);
    assert!((l - l2).abs() < 1e-12 && (gb - gb2).abs() < 1e-12);
    close(&gw, &gw2, 1e-12);
    let mut params = (w.clone(), 0.1);
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.5,
        ..Default::default()
    });
    for _ in 0..20 {
        let (_, g) = bce_chain_grad(&params.0, params.1, &x, &y);
        sgd.step(&mut params, &g);
    }
    assert!(bce_chain(&params.0, params.1, &x, &y) < 0.9 * l);
}

/// Least squares with an L2 penalty: ∇w = 2/n·Xᵀr + 2λw, ∂b = 2/n·Σr.
#[differentiate(wrt(w, b))]
fn ridge(w: &Array1<f64>, b: f64, x: &Array2<f64>, y: &Array1<f64>, lambda: f64) -> f64 {
    let r = &(x.dot(w) + b) - y;
    let n = y.len() as f64;
    r.mapv(|v| v * v).sum() / n + lambda * w.dot(w)
}

#[test]
fn ridge_regression_matches_normal_equations() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let (_, (gw, gb)) = ridge_grad(&w, 0.1, &x, &y, 0.5);
    let r = x.dot(&w) + 0.1 - &y;
    close(&gw, &(x.t().dot(&r) * 0.5 + &w * 1.0), 1e-12);
    assert!((gb - r.sum() * 0.5).abs() < 1e-12);
}

/// Softmax regression with the softmax written out: exp, row sums broadcast back as a column.
#[differentiate(wrt(w, b))]
fn softmax_regression(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let e = (x.dot(w) + b).exp();
    let denom = e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let p = &e / &denom;
    -(y * &p.ln()).sum() / x.nrows() as f64
}

/// The same with `nn::softmax` and the labels' probabilities read by index.
#[differentiate(wrt(w))]
fn softmax_indexed(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let p = nn::softmax(&x.dot(w));
    let mut loss = 0.0;
    for i in 0..labels.len() {
        loss -= p[[i, labels[i]]].ln();
    }
    loss / labels.len() as f64
}

#[differentiate(wrt(w))]
fn softmax_nn(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    nn::cross_entropy(&x.dot(w), labels)
}

#[test]
fn softmax_regression_three_ways() {
    let (x, _) = data();
    let labels = [0usize, 1, 1, 0];
    let onehot = array![[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]];
    let (w, b) = (w32(), Array1::zeros(2));
    let (l1, (g1, gb)) = softmax_regression_grad(&w, &b, &x, &onehot);
    let (l2, g2) = softmax_indexed_grad(&w, &x, &labels);
    let (l3, g3) = softmax_nn_grad(&w, &x, &labels);
    // ∇W = Xᵀ(P − Y)/n.
    let p = nn::softmax(&x.dot(&w));
    let want = x.t().dot(&(&p - &onehot)) / 4.0;
    for g in [&g1, &g2, &g3] {
        assert!((g - &want).iter().all(|d| d.abs() < 1e-12), "{g} != {want}");
    }
    assert!((l1 - l2).abs() < 1e-12 && (l2 - l3).abs() < 1e-12);
    close(&gb, &((&p - &onehot).sum_axis(Axis(0)) / 4.0), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Networks in parameter structs.

#[derive(Clone, Differentiable)]
struct Linear {
    w: Array2<f64>,
    b: Array1<f64>,
}

#[derive(Clone, Differentiable)]
struct Mlp {
    l1: Linear,
    l2: Linear,
}

#[differentiate(wrt(m))]
fn mlp_loss(m: &Mlp, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = (x.dot(&m.l1.w) + &m.l1.b).mapv(f64::tanh);
    let out = h.dot(&m.l2.w) + &m.l2.b;
    let diff = out - y;
    (&diff * &diff).mean().unwrap()
}

fn mlp() -> Mlp {
    Mlp {
        l1: Linear {
            w: w32(),
            b: array![0.1, -0.1],
        },
        l2: Linear {
            w: array![[0.7], [-0.3]],
            b: array![0.05],
        },
    }
}

#[test]
fn nested_parameter_struct_mlp_trains_with_adam() {
    let (x, _) = data();
    let y = array![[1.0], [0.0], [1.0], [0.5]];
    let mut m = mlp();
    let (l0, g) = mlp_loss_grad(&m, &x, &y);
    check::assert_gradient(|m: &Mlp| mlp_loss(m, &x, &y), &m, &g);
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..100 {
        let (_, g) = mlp_loss_grad(&m, &x, &y);
        adam.step(&mut m, &g);
    }
    assert!(mlp_loss(&m, &x, &y) < 0.5 * l0);
}

/// Layers as a `Vec` of structs with a differentiated `forward` method, a scalar field.
#[derive(Clone, Differentiable)]
struct Net {
    layers: Vec<Linear>,
    head: Array1<f64>,
    alpha: f64,
}

impl Linear {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        (x.dot(&self.w) + &self.b).mapv(f64::tanh)
    }
}

#[differentiate(wrt(net))]
fn net_loss(net: &Net, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut h = x.to_owned();
    for l in &net.layers {
        h = l.forward(&h);
    }
    let err = h.dot(&net.head) - y;
    err.mapv(|e| e * e).mean().unwrap() + net.alpha * net.head.mapv(|v| v.powi(2)).sum()
}

#[test]
fn layers_in_a_vec_field() {
    let (x, y) = data();
    let net = Net {
        layers: vec![
            Linear {
                w: w32(),
                b: array![0.1, -0.1],
            },
            Linear {
                w: array![[0.7, -0.3], [0.2, 0.5]],
                b: array![0.05, 0.0],
            },
        ],
        head: array![0.4, -0.6],
        alpha: 0.1,
    };
    let (_, g) = net_loss_grad(&net, &x, &y);
    check::assert_gradient(|n: &Net| net_loss(n, &x, &y), &net, &g);
    // ∂α = ‖head‖².
    assert!((g.alpha - net.head.dot(&net.head)).abs() < 1e-12);
}

/// Weight matrices as a slice parameter.
#[differentiate(wrt(ws))]
fn deep(ws: &[Array2<f64>], x: &Array2<f64>) -> f64 {
    let mut h = x.clone();
    for w in ws {
        h = h.dot(w).mapv(f64::tanh);
    }
    h.sum()
}

#[test]
fn slice_of_weight_matrices() {
    let (x, _) = data();
    let ws = vec![w32(), array![[0.7, -0.3], [0.2, 0.5]]];
    let (_, g) = deep_grad(&ws, &x);
    check::assert_gradient(|ws: &Vec<Array2<f64>>| deep(ws, &x), &ws, &g);
}

/// An autoencoder with tied weights (`w.t()` decodes) and `nn::sigmoid` codes.
#[differentiate(wrt(w, b_enc, b_dec))]
fn autoencoder(w: &Array2<f64>, b_enc: &Array1<f64>, b_dec: &Array1<f64>, x: &Array2<f64>) -> f64 {
    let code = nn::sigmoid(&(x.dot(w) + b_enc));
    let recon = code.dot(&w.t()) + b_dec;
    (&recon - x).powi(2).sum() / (2.0 * x.nrows() as f64)
}

#[test]
fn tied_weight_autoencoder() {
    let (x, _) = data();
    let (w, be, bd) = (w32(), array![0.1, -0.1], array![0.0, 0.1, -0.2]);
    let (_, (gw, gbe, gbd)) = autoencoder_grad(&w, &be, &bd, &x);
    check::assert_gradient(|w: &Array2<f64>| autoencoder(w, &be, &bd, &x), &w, &gw);
    check::assert_gradient(|b: &Array1<f64>| autoencoder(&w, b, &bd, &x), &be, &gbe);
    // ∂b_dec = Σ rows of the residual / n.
    let code = nn::sigmoid(&(x.dot(&w) + &be));
    let r = code.dot(&w.t()) + &bd - &x;
    close(&gbd, &(r.sum_axis(Axis(0)) / 4.0), 1e-12);
}

/// A method with `hessian` on a model struct that calls another differentiated method, and an
/// L1 penalty through `mapv(f64::abs)`.
#[derive(Clone, Differentiable)]
struct Model {
    w: Array2<f64>,
    b: Array1<f64>,
    v: Array1<f64>,
    c: f64,
}

impl Model {
    #[differentiate(hessian)]
    fn predict(&self, x: &Array2<f64>) -> Array1<f64> {
        let h = (x.dot(&self.w) + &self.b).mapv(|v| v.max(0.0));
        h.dot(&self.v) + self.c
    }

    #[differentiate(hessian, wrt(self))]
    fn loss(&self, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
        let r = &self.predict(x) - y;
        r.dot(&r) / y.len() as f64 + 0.01 * self.w.mapv(f64::abs).sum()
    }
}

#[test]
fn model_methods_gradient_and_hessian_vector_product() {
    let (x, y) = data();
    let m = Model {
        w: w32(),
        b: array![0.1, -0.1],
        v: array![0.7, -0.3],
        c: 0.05,
    };
    let (_, g) = m.loss_grad(&x, &y);
    check::assert_gradient(|m: &Model| m.loss(&x, &y), &m, &g);
    let dir = Model {
        w: array![[1.0, 0.0], [0.5, -0.5], [0.2, 0.1]],
        b: array![0.3, 0.1],
        v: array![-0.2, 0.4],
        c: 1.0,
    };
    let (_, _, hv) = m.loss_hvp(&x, &y, &dir);
    check::hvpcheck(|m: &Model| m.loss_grad(&x, &y).1, &m, &dir, &hv).assert_ok();
    // ∂c = 2·mean(r).
    let r = m.predict(&x) - &y;
    assert!((g.c - 2.0 * r.mean().unwrap()).abs() < 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Attention, normalization, sequences.

/// A self-attention score: softmax(QKᵀ/√d)·X, summed per column and squared.
#[differentiate(wrt(wq, wk))]
fn attention(wq: &Array2<f64>, wk: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let q = x.dot(wq);
    let k = x.dot(wk);
    let d = q.ncols() as f64;
    let attn = nn::softmax(&(q.dot(&k.t()) / d.sqrt()));
    attn.dot(x).sum_axis(Axis(0)).mapv(|v| v * v).sum()
}

#[test]
fn attention_scores() {
    let (x, _) = data();
    let (wq, wk) = (w32(), array![[0.2, 0.1], [-0.3, 0.4], [0.5, 0.25]]);
    let (_, (gq, gk)) = attention_grad(&wq, &wk, &x);
    check::assert_gradient(|w: &Array2<f64>| attention(w, &wk, &x), &wq, &gq);
    check::assert_gradient(|w: &Array2<f64>| attention(&wq, w, &x), &wk, &gk);
}

/// Layer normalization written out: row means and variances broadcast back as columns.
#[differentiate(wrt(g, b))]
fn layer_norm(g: &Array1<f64>, b: &Array1<f64>, x: &Array2<f64>) -> f64 {
    let mu = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    let xc = x - &mu;
    let var = xc
        .mapv(|v| v * v)
        .mean_axis(Axis(1))
        .unwrap()
        .insert_axis(Axis(1));
    let xn = &xc / &(var + 1e-5).mapv(f64::sqrt);
    (xn * g + b).mapv(f64::sin).sum()
}

/// Standardization of the input itself (the gradient flows through the mean and the spread).
#[differentiate]
fn standardized_cubes(x: &Array2<f64>) -> f64 {
    let (n, _) = x.dim();
    let mu = x.mean_axis(Axis(0)).unwrap();
    let xc = x - &mu;
    let sd = (xc.mapv(|v| v * v).sum_axis(Axis(0)) / n as f64).mapv(f64::sqrt);
    (xc / &sd).mapv(|v| v.powi(3)).sum()
}

#[test]
fn normalizations() {
    let (x, _) = data();
    let (g, b) = (array![1.0, 0.5, -0.3], array![0.1, 0.2, 0.0]);
    let (_, (gg, gb)) = layer_norm_grad(&g, &b, &x);
    check::assert_gradient(|g: &Array1<f64>| layer_norm(g, &b, &x), &g, &gg);
    check::assert_gradient(|b: &Array1<f64>| layer_norm(&g, b, &x), &b, &gb);
    let (_, gx) = standardized_cubes_grad(&x);
    check::assert_gradient(standardized_cubes, &x, &gx);
}

#[derive(Clone, Differentiable)]
struct Cell {
    wx: Array2<f64>,
    wh: Array2<f64>,
    b: Array1<f64>,
}

#[derive(Clone, Differentiable)]
struct Seq {
    cell: Cell,
    out: Array1<f64>,
}

/// An Elman RNN over a slice of input vectors with a loss at every step.
#[differentiate(wrt(p))]
fn rnn_loss(p: &Seq, xs: &[Array1<f64>], ys: &[f64]) -> f64 {
    let mut h = Array1::<f64>::zeros(p.cell.b.len());
    let mut loss = 0.0;
    for t in 0..xs.len() {
        let pre = p.cell.wx.dot(&xs[t]) + p.cell.wh.dot(&h) + &p.cell.b;
        h = pre.mapv(|v| v.tanh());
        loss += (h.dot(&p.out) - ys[t]).powi(2);
    }
    loss / xs.len() as f64
}

/// The same recurrence as a `fold` over the sequence, the loss on the last state only.
#[differentiate(wrt(wx, wh))]
fn rnn_fold(wx: &Array2<f64>, wh: &Array2<f64>, xs: &[Array1<f64>]) -> f64 {
    let h0 = Array1::zeros(wx.nrows());
    let h = xs
        .iter()
        .fold(h0, |h, x| (wx.dot(x) + wh.dot(&h)).mapv(f64::tanh));
    h.sum()
}

fn seq() -> Seq {
    Seq {
        cell: Cell {
            wx: array![[0.1, -0.2], [0.3, 0.4], [-0.5, 0.2]],
            wh: array![[0.1, 0.2, 0.0], [-0.1, 0.3, 0.2], [0.05, 0.0, -0.2]],
            b: array![0.1, -0.1, 0.0],
        },
        out: array![0.5, -0.4, 0.3],
    }
}

#[test]
fn recurrent_networks_over_sequences() {
    let p = seq();
    let xs = vec![array![1.0, 0.5], array![-0.3, 0.2], array![0.7, -1.0]];
    let ys = [0.1, -0.2, 0.3];
    let (_, g) = rnn_loss_grad(&p, &xs, &ys);
    check::assert_gradient(|p: &Seq| rnn_loss(p, &xs, &ys), &p, &g);
    let (wx, wh) = (&p.cell.wx, &p.cell.wh);
    let (_, (gx, gh)) = rnn_fold_grad(wx, wh, &xs);
    check::assert_gradient(|w: &Array2<f64>| rnn_fold(w, wh, &xs), wx, &gx);
    check::assert_gradient(|w: &Array2<f64>| rnn_fold(wx, w, &xs), wh, &gh);
}

#[derive(Clone, Differentiable)]
struct Gru {
    wz: Array2<f64>,
    uz: Array2<f64>,
    wh: Array2<f64>,
    uh: Array2<f64>,
}

/// A GRU-like cell over the rows of a sequence matrix (`xs.row(t)`), gates from `nn::sigmoid`,
/// `1.0 - &z` and products of borrowed arrays.
#[differentiate(wrt(p))]
fn gru_loss(p: &Gru, xs: &Array2<f64>) -> f64 {
    let mut h = Array1::zeros(p.wz.nrows());
    for t in 0..xs.nrows() {
        let x = xs.row(t);
        let z = nn::sigmoid(&(p.wz.dot(&x) + p.uz.dot(&h)));
        let cand = (p.wh.dot(&x) + p.uh.dot(&h)).mapv(f64::tanh);
        h = (1.0 - &z) * &h + &z * &cand;
    }
    h.mapv(|v| v * v).sum()
}

#[test]
fn gated_cell_over_rows() {
    let (xs, _) = data();
    let p = Gru {
        wz: array![[0.1, -0.2, 0.3], [0.3, 0.4, -0.1]],
        uz: array![[0.2, -0.1], [0.05, 0.3]],
        wh: array![[0.5, 0.1, -0.3], [-0.2, 0.2, 0.6]],
        uh: array![[0.1, 0.4], [-0.3, 0.2]],
    };
    let (_, g) = gru_loss_grad(&p, &xs);
    check::assert_gradient(|p: &Gru| gru_loss(p, &xs), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// Convolutions.

#[derive(Clone, Differentiable)]
struct Cnn {
    k: Array4<f64>,
    kb: Array1<f64>,
    w: Array2<f64>,
    b: Array1<f64>,
}

#[differentiate(wrt(p))]
fn cnn_loss(p: &Cnn, x: &Array4<f64>, labels: &[usize]) -> f64 {
    let z = conv::conv2d_nchw(x, &p.k, &p.kb, 1, 1);
    let pooled = conv::max_pool2d(&nn::relu(&z), 2, 2);
    let logits = conv::flatten(&pooled).dot(&p.w) + &p.b;
    nn::cross_entropy(&logits, labels)
}

#[test]
fn conv_relu_pool_dense() {
    let x = Array4::from_shape_fn((2, 1, 4, 4), |(n, _, i, j)| {
        ((n * 16 + i * 4 + j) as f64 * 0.37).sin()
    });
    let p = Cnn {
        k: Array4::from_shape_fn((2, 1, 3, 3), |(o, _, i, j)| {
            ((o * 9 + i * 3 + j) as f64 * 0.71).cos() * 0.5
        }),
        kb: array![0.1, -0.05],
        w: Array2::from_shape_fn((8, 3), |(i, j)| ((i * 3 + j) as f64 * 0.3).sin() * 0.3),
        b: array![0.0, 0.1, -0.1],
    };
    let labels = [0usize, 2];
    let (_, g) = cnn_loss_grad(&p, &x, &labels);
    check::assert_gradient(|p: &Cnn| cnn_loss(p, &x, &labels), &p, &g);
}

#[derive(Clone, Differentiable)]
struct Filters {
    k: Array2<f64>,
    k4: Array4<f64>,
}

/// An array-valued function of a parameter struct, through its pullback.
#[differentiate(wrt(p))]
fn conv_features(p: &Filters, img: &Array2<f64>, batch: &Array4<f64>) -> Array2<f64> {
    let a = conv::conv2d(img, &p.k).mapv(f64::tanh);
    let z = conv::conv2d_nchw_no_bias(batch, &p.k4, 1, 0);
    let f = conv::flatten(&conv::avg_pool2d(&z, 2, 2));
    a + f.sum()
}

#[test]
fn pullback_of_array_valued_convolutions() {
    let img = Array2::from_shape_fn((4, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin());
    let batch = Array4::from_shape_fn((1, 2, 5, 5), |(_, c, i, j)| {
        ((c * 25 + i * 5 + j) as f64 * 0.29).cos()
    });
    let p = Filters {
        k: array![[0.1, -0.2], [0.3, 0.25]],
        k4: Array4::from_shape_fn((2, 2, 2, 2), |(o, c, i, j)| {
            ((o * 8 + c * 4 + i * 2 + j) as f64 * 0.5).sin() * 0.3
        }),
    };
    let (y, pullback) = conv_features_vjp(&p, &img, &batch);
    let ct = y.mapv(f64::cos);
    let g = pullback(ct.clone());
    check::assert_gradient(
        |p: &Filters| (conv_features(p, &img, &batch) * &ct).sum(),
        &p,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Array operations as written.

/// Owned and borrowed operands on either side, scalars on either side, unary minus.
#[differentiate]
fn operands(a: &Array1<f64>, b: Array1<f64>) -> f64 {
    let c = 2.0 * a;
    let d = 3.0 * &b;
    let e = a - &b;
    let f = b.clone() - a;
    let g = &c * &d;
    let h = c.clone() * d.clone();
    let k = c - d;
    let m = e / 2.0 + f * 0.5;
    let n = 1.0 / &(a.mapv(|v| v * v) + 1.0);
    (g.sum() + h.sum() + k.sum() + m.sum()) * 0.5 + (2.0 * b).sum() + n.sum() - (-a).sum()
}

#[test]
fn owned_and_borrowed_operands() {
    let (a, b) = (array![0.1, -0.2, 0.3], array![1.0, 2.0, -1.0]);
    let (_, (ga, gb)) = operands_grad(&a, b.clone());
    // By hand: ½(g + h + k + m) = ½(12aᵢbᵢ + 2aᵢ − 3bᵢ + 0), then 2b, 1/(1+a²) and −(−a).
    let want_a = &b * 6.0 + 1.0 + a.mapv(|v| -2.0 * v / (1.0 + v * v).powi(2)) + 1.0;
    let want_b = &a * 6.0 - 1.5 + 2.0;
    close(&ga, &want_a, 1e-12);
    close(&gb, &want_b, 1e-12);
}

/// Reductions and shapes: `dim`, `shape`, `len`, `mean_axis`, `from_elem`, `zeros`, `eye`,
/// `ones`, compound assignment, a loop over columns, region reads.
#[differentiate(wrt(w))]
fn shapes_and_regions(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let mut h = x.dot(w);
    h += &Array1::ones(w.ncols());
    h *= 0.5;
    h -= &x.slice(s![.., 0..2]);
    let mut acc = 0.0;
    for j in 0..h.ncols() {
        acc += h.column(j).mapv(|v| v * v).sum();
    }
    let ones = Array1::from_elem(x.shape()[1], 1.0);
    let mu = x.dot(w).mean_axis(Axis(0)).unwrap();
    let z = Array1::<f64>::zeros(h.dim().1) + mu;
    acc + w.slice(s![0..2, ..]).dot(&Array2::eye(2)).sum() + w.t().dot(&ones).dot(&z)
        - w.len() as f64
}

#[test]
fn shapes_regions_and_compound_assignment() {
    let (x, _) = data();
    let w = w32();
    let (_, g) = shapes_and_regions_grad(&w, &x);
    check::assert_gradient(|w: &Array2<f64>| shapes_and_regions(w, &x), &w, &g);
}

/// Per-row loss with the rows read by `x.row(i)`, a hinge through `max`, an L2 penalty as a
/// chain over the weights.
#[differentiate(wrt(w))]
fn hinge(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut loss = 0.0;
    for i in 0..x.nrows() {
        let margin = 1.0 - (2.0 * y[i] - 1.0) * x.row(i).dot(w);
        loss += margin.max(0.0);
    }
    loss + 0.5 * w.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn hinge_loss_over_rows() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let (_, g) = hinge_grad(&w, &x, &y);
    // Every margin of this data is positive: ∇ = −Σ sᵢxᵢ + w with sᵢ = 2yᵢ − 1.
    let s = y.mapv(|t| 2.0 * t - 1.0);
    close(&g, &(&w - &x.t().dot(&s)), 1e-12);
}

/// `Zip::map_collect`, strided and negative-index regions, a `.t().to_owned()` copy,
/// `mapv_into`, and an owned array parameter.
#[differentiate]
fn zipped_and_owned(a: Array2<f64>, v: &Array1<f64>) -> f64 {
    let b = a.t().to_owned().mapv_into(|x| x * 2.0);
    let c = Zip::from(v).and(v).map_collect(|&x, &y| x * y.exp());
    let even = v.slice(s![..;2]);
    let last = v.slice(s![-1..]);
    a.dot(&b).sum() + c.sum() + even.sum() * last.sum()
}

#[test]
fn zip_strides_and_owned_arrays() {
    let (x, _) = data();
    let v = array![0.1, -0.2, 0.3, 0.7];
    let (_, (ga, gv)) = zipped_and_owned_grad(x.clone(), &v);
    check::assert_gradient(|a: &Array2<f64>| zipped_and_owned(a.clone(), &v), &x, &ga);
    check::assert_gradient(|v: &Array1<f64>| zipped_and_owned(x.clone(), v), &v, &gv);
}

/// Single precision with `nn` functions.
#[differentiate(wrt(w, b))]
fn f32_classifier(w: &Array2<f32>, b: &Array1<f32>, x: &Array2<f32>, labels: &[usize]) -> f32 {
    let z = nn::sigmoid(&(x.dot(w) + b));
    nn::cross_entropy(&z, labels) + 0.001 * (w * w).sum() + 0.01 * w.mapv(|v| v.abs()).sum()
}

#[test]
fn single_precision_classifier() {
    let x = array![[0.5f32, -1.0], [1.5, 0.2], [-0.7, 0.4]];
    let w = array![[0.1f32, -0.2, 0.3], [0.3, 0.4, -0.1]];
    let b = array![0.1f32, 0.0, -0.1];
    let labels = [0usize, 2, 1];
    let (_, (gw, gb)) = f32_classifier_grad(&w, &b, &x, &labels);
    check::assert_gradient(
        |w: &Array2<f32>| f32_classifier(w, &b, &x, &labels),
        &w,
        &gw,
    );
    check::assert_gradient(
        |b: &Array1<f32>| f32_classifier(&w, b, &x, &labels),
        &b,
        &gb,
    );
}

/// An array-valued layer through `_jvp` and `_vjp`.
#[differentiate]
fn layer(w: &Array2<f64>, x: &Array2<f64>) -> Array2<f64> {
    x.dot(w).mapv(f64::tanh)
}

#[test]
fn array_valued_layer_tangent_and_pullback() {
    let (x, _) = data();
    let w = w32();
    let v = array![[1.0, 0.0], [0.5, -0.5], [0.2, 0.1]];
    let dx = x.mapv(|e| 0.1 * e);
    let (y, dy) = layer_jvp(&w, &x, &v, &dx);
    assert_eq!(y, layer(&w, &x));
    let both = (w.clone(), x.clone());
    check::jvpcheck(
        |p: &(Array2<f64>, Array2<f64>)| layer(&p.0, &p.1),
        &both,
        &(v, dx),
        &dy,
    )
    .assert_ok();
    let (_, pullback) = layer_vjp(&w, &x);
    let (gw, gx) = pullback(Array2::ones((4, 2)));
    check::assert_gradient(|w: &Array2<f64>| layer(w, &x).sum(), &w, &gw);
    check::assert_gradient(|x: &Array2<f64>| layer(&w, x).sum(), &x, &gx);
}

/// L2-regularized logistic regression with `hessian`: H·v against differences of gradients.
#[differentiate(hessian, wrt(w))]
fn logistic_l2(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let z = x.dot(w);
    (nn::softplus(&z) - y * &z).mean().unwrap() + 0.5 * 0.01 * w.dot(w)
}

#[test]
fn logistic_hessian_vector_product() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let v = array![1.0, 0.5, -0.5];
    let (_, g, hv) = logistic_l2_hvp(&w, &x, &y, &v);
    check::assert_gradient(|w: &Array1<f64>| logistic_l2(w, &x, &y), &w, &g);
    // H = XᵀSX/n + λI with S = diag(p(1−p)).
    let p = nn::sigmoid(&x.dot(&w));
    let s = p.mapv(|q| q * (1.0 - q));
    let want = x.t().dot(&(&s * &x.dot(&v))) / 4.0 + &v * 0.01;
    close(&hv, &want, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Reproducers of what failed to compile.

/// A closure over the elements of a generic array (`T: Float`), capturing a differentiated
/// scalar: its per-element pullback needs `T` to be an element type, which `autodiff::Real`
/// now implies (it was implemented for `f32` and `f64` only, a rustc error in the generated
/// code for any `T`).
#[differentiate(hessian)]
fn generic_map<T: num_traits::Float + 'static>(a: &Array1<T>, s: T) -> T {
    let b = a.mapv(|v| (v * s).tanh() + v.powi(2) * s);
    b.sum() + a.mapv(T::exp).sum()
}

#[derive(Clone, Differentiable)]
struct GenericLinear<T> {
    w: Array2<T>,
    b: Array1<T>,
}

#[differentiate(wrt(p))]
fn generic_layer<T: num_traits::Float + ndarray::ScalarOperand + 'static>(
    p: &GenericLinear<T>,
    x: &Array2<T>,
) -> T {
    (x.dot(&p.w) + &p.b).mapv(|v| v.tanh()).sum()
}

#[test]
fn closures_over_generic_arrays() {
    let a = array![0.3, -0.5, 0.8];
    let (_, (ga, gs)) = generic_map_grad(&a, 0.7);
    // ∂aᵢ = s·sech²(s·aᵢ) + 2aᵢs + e^{aᵢ}; ∂s = Σ aᵢ·sech²(s·aᵢ) + aᵢ².
    let sech2 = |z: f64| 1.0 - z.tanh().powi(2);
    close(
        &ga,
        &a.mapv(|v| 0.7 * sech2(0.7 * v) + 1.4 * v + v.exp()),
        1e-12,
    );
    assert!((gs - a.mapv(|v| v * sech2(0.7 * v) + v * v).sum()).abs() < 1e-12);
    let a32 = a.mapv(|v| v as f32);
    let (_, (ga32, _)) = generic_map_grad(&a32, 0.7f32);
    check::assert_gradient(|a: &Array1<f32>| generic_map(a, 0.7f32), &a32, &ga32);
    let v = (array![1.0, 0.5, -0.5], 0.3);
    let (_, _, hv) = generic_map_hvp(&a, 0.7, &v.0, v.1);
    let at = (a.clone(), 0.7);
    check::hvpcheck(
        |p: &(Array1<f64>, f64)| generic_map_grad(&p.0, p.1).1,
        &at,
        &v,
        &hv,
    )
    .assert_ok();
    let (_, t) = generic_map_jvp(&a, 0.7, &v.0, v.1);
    check::jvpcheck(|p: &(Array1<f64>, f64)| generic_map(&p.0, p.1), &at, &v, &t).assert_ok();

    let (x, _) = data();
    let p = GenericLinear {
        w: w32(),
        b: array![0.1, -0.1],
    };
    let (_, g) = generic_layer_grad(&p, &x);
    check::assert_gradient(|p: &GenericLinear<f64>| generic_layer(p, &x), &p, &g);
    // ∂b = Σ rows of sech²(XW + b).
    let z = x.dot(&p.w) + &p.b;
    close(
        &g.b,
        &z.mapv(|v| 1.0 - v.tanh().powi(2)).sum_axis(Axis(0)),
        1e-12,
    );
}

/// The rows of a matrix zipped with the targets (`x.outer_iter().zip(y.iter())`,
/// `x.rows().into_iter().zip(y).enumerate()`), and its columns zipped with an active vector:
/// the loops over lanes took `enumerate` only, and `zip` was an error.
#[differentiate(wrt(w))]
fn rows_zipped(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut loss = 0.0;
    for (row, &t) in x.outer_iter().zip(y.iter()) {
        loss += (row.dot(w) - t).powi(2);
    }
    for (i, (row, t)) in x.rows().into_iter().zip(y).enumerate() {
        loss += (row.dot(w) * t).sin() * i as f64;
    }
    loss
}

#[differentiate]
fn columns_zipped(x: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let mut total = 0.0;
    for (col, &t) in x.columns().into_iter().zip(v.iter()) {
        total += col.mapv(|e| e * t).sum() * t;
    }
    total
}

#[test]
fn lanes_zipped_with_another_sequence() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let (_, g) = rows_zipped_grad(&w, &x, &y);
    check::assert_gradient(|w: &Array1<f64>| rows_zipped(w, &x, &y), &w, &g);
    // The first loop alone is least squares: 2Xᵀ(Xw − y); the second adds i·cos(xᵢ·w·yᵢ)·yᵢ·xᵢ.
    let r = x.dot(&w) - &y;
    let mut want = x.t().dot(&r) * 2.0;
    for i in 0..4 {
        let s = (x.row(i).dot(&w) * y[i]).cos() * y[i] * i as f64;
        want = want + &x.row(i) * s;
    }
    close(&g, &want, 1e-12);
    let v = array![0.3, -0.7, 1.1];
    let (_, (gx, gv)) = columns_zipped_grad(&x, &v);
    // Σⱼ vⱼ² Σᵢ xᵢⱼ: ∂xᵢⱼ = vⱼ², ∂vⱼ = 2vⱼ Σᵢ xᵢⱼ.
    for j in 0..3 {
        close(
            &gx.column(j).to_owned(),
            &Array1::from_elem(4, v[j] * v[j]),
            1e-12,
        );
    }
    close(&gv, &(&v * &x.sum_axis(Axis(0)) * 2.0), 1e-12);
}

/// `a.row(0)` and `a.column(1)` with an integer literal, followed by a method on the view (`dot`,
/// then `powi` on the product): the generated code read them as `s![0, ..]`, whose dimension
/// rustc infers from the literal's type only at the end, too late for the method (E0034
/// "multiple `dot` found", E0282 "type annotations needed").
#[differentiate(wrt(w))]
fn literal_lanes(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let first = x.row(0).dot(&w.column(0)).powi(2);
    let d = x.row(1).dot(&w.column(1));
    first + d.powi(2) + w.column(1).dot(&w.column(0)).sin()
}

#[test]
fn rows_and_columns_at_literal_indices() {
    let (x, _) = data();
    let w = w32();
    let (_, g) = literal_lanes_grad(&w, &x);
    check::assert_gradient(|w: &Array2<f64>| literal_lanes(w, &x), &w, &g);
    // ∂W₀₀ = 2(x₀·W₋₀)·x₀₀ + cos(W₋₁·W₋₀)·W₀₁.
    let a = x.row(0).dot(&w.column(0));
    let c = w.column(1).dot(&w.column(0)).cos();
    let want00 = 2.0 * a * x[[0, 0]] + c * w[[0, 1]];
    assert!((g[[0, 0]] - want00).abs() < 1e-12);
}

/// A differentiated helper returning a tuple of arrays, destructured by the caller
/// (`let (h, s) = heads(w, x);`), at the top, in a loop and through `.0`: the pullback made the
/// tuple's zero adjoint from the tuple itself, whose fields the destructuring had moved out
/// (E0382 "use of partially moved value" in the generated code); it is now made from the
/// tuple's shape, taken before. A tuple parameter taken apart is the same case.
#[differentiate]
fn heads(w: &Array2<f64>, x: &Array2<f64>) -> (Array2<f64>, Array1<f64>) {
    let h = x.dot(w).mapv(f64::tanh);
    let s = h.sum_axis(Axis(1));
    (h, s)
}

#[differentiate(wrt(w))]
fn destructured_heads(w: &Array2<f64>, x: &Array2<f64>, n: usize) -> f64 {
    let (h, s) = heads(w, x);
    let mut total = (h * 2.0).sum() + s.mapv(|v| v * v).sum();
    for _ in 0..n {
        let (h, s) = heads(w, x);
        total += (&h * &h).sum() * s.sum();
    }
    let both = heads(w, x);
    let h = both.0;
    total + h.dot(&h.t()).sum()
}

#[differentiate]
fn tuple_parameter(p: (Array1<f64>, f64)) -> f64 {
    let (a, s) = p;
    a.mapv(|v| v * v).sum() * s
}

#[test]
fn tuples_of_arrays_taken_apart() {
    let (x, _) = data();
    let w = w32();
    let (_, g) = destructured_heads_grad(&w, &x, 2);
    check::assert_gradient(|w: &Array2<f64>| destructured_heads(w, &x, 2), &w, &g);
    let p = (array![1.0, -2.0], 0.5);
    let (_, (ga, gs)) = tuple_parameter_grad(p.clone());
    close(&ga, &(&p.0 * 2.0 * p.1), 1e-15);
    assert_eq!(gs, 5.0);
}

// ---------------------------------------------------------------------------------------------
// More of what training code does.

#[derive(Clone, Copy)]
enum Activation {
    Relu,
    Tanh,
}

/// Array-valued `match` arms on a configuration enum, an early return on an inactive
/// condition, `clamp` in a closure, and products of transposes.
#[differentiate(wrt(w, v))]
fn configurable(w: &Array2<f64>, v: &Array1<f64>, x: &Array2<f64>, act: Activation) -> f64 {
    let z = x.dot(w);
    let h = match act {
        Activation::Relu => nn::relu(&z),
        Activation::Tanh => z.mapv(f64::tanh),
    };
    if x.nrows() == 0 {
        return 0.0;
    }
    let out = h.dot(v);
    out.mapv(|o| o.clamp(-0.5, 0.5)).sum() + w.t().dot(&x.t()).sum_axis(Axis(0)).mean().unwrap()
}

#[test]
fn configured_activations() {
    let (x, _) = data();
    let (w, v) = (w32(), array![0.7, -0.3]);
    for act in [Activation::Relu, Activation::Tanh] {
        let (_, (gw, gv)) = configurable_grad(&w, &v, &x, act);
        check::assert_gradient(|w: &Array2<f64>| configurable(w, &v, &x, act), &w, &gw);
        check::assert_gradient(|v: &Array1<f64>| configurable(&w, v, &x, act), &v, &gv);
    }
}

#[differentiate]
fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// A softmax temperature and a learned exponent as differentiated scalars, a differentiated
/// scalar function mapped over an array, columns of `nn` results.
#[differentiate(wrt(w, temp, p))]
fn temperatures(w: &Array2<f64>, temp: f64, p: f64, x: &Array2<f64>) -> f64 {
    let logits = x.dot(w);
    let soft = nn::softmax(&(&logits / temp));
    let lp = nn::log_softmax(&logits);
    let q = logits.mapv(sigmoid);
    let r = logits.mapv(|v| v.abs().powf(p));
    soft.slice(s![.., 0]).sum() + lp.slice(s![.., 1]).sum() + q.sum() + r.sum()
}

#[test]
fn temperature_and_exponent() {
    let (x, _) = data();
    let w = w32();
    let (_, (gw, gt, gp)) = temperatures_grad(&w, 2.0, 1.5, &x);
    check::assert_gradient(|w: &Array2<f64>| temperatures(w, 2.0, 1.5, &x), &w, &gw);
    check::assert_gradient(|t: &f64| temperatures(&w, *t, 1.5, &x), &2.0, &gt);
    check::assert_gradient(|p: &f64| temperatures(&w, 2.0, *p, &x), &1.5, &gp);
}

/// Meta-learning: three unrolled gradient steps on a copy of the weights (`w -= &(lr * &g)`),
/// differentiated with respect to the initial weights and the step size.
#[differentiate(wrt(w0, lr))]
fn unrolled_descent(w0: &Array1<f64>, lr: f64, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut w = w0.clone();
    for _ in 0..3 {
        let r = x.dot(&w) - y;
        let g = x.t().dot(&r) * (2.0 / y.len() as f64);
        w -= &(lr * &g);
    }
    let r = x.dot(&w) - y;
    r.dot(&r)
}

#[test]
fn unrolled_gradient_steps() {
    let (x, y) = data();
    let w = array![0.1, -0.2, 0.3];
    let (_, (gw, gl)) = unrolled_descent_grad(&w, 0.1, &x, &y);
    check::assert_gradient(|w: &Array1<f64>| unrolled_descent(w, 0.1, &x, &y), &w, &gw);
    check::assert_gradient(|l: &f64| unrolled_descent(&w, *l, &x, &y), &0.1, &gl);
}

/// A batch of sequences: one matrix per time step, the state a matrix.
#[differentiate(wrt(wx, wh))]
fn batched_rnn(wx: &Array2<f64>, wh: &Array2<f64>, xs: &[Array2<f64>]) -> f64 {
    let mut h = Array2::zeros((xs[0].nrows(), wh.nrows()));
    for x in xs.iter() {
        h = (x.dot(wx) + h.dot(wh)).mapv(f64::tanh);
    }
    h.mean().unwrap()
}

#[test]
fn batched_recurrence() {
    let (x, _) = data();
    let (wx, wh) = (w32(), array![[0.2, -0.1], [0.05, 0.3]]);
    let xs = vec![x.clone(), x.mapv(|v| v * 0.5 - 0.1)];
    let (_, (g1, g2)) = batched_rnn_grad(&wx, &wh, &xs);
    check::assert_gradient(|w: &Array2<f64>| batched_rnn(w, &wh, &xs), &wx, &g1);
    check::assert_gradient(|w: &Array2<f64>| batched_rnn(&wx, w, &xs), &wh, &g2);
}

/// A parameter struct's tangent (`_jvp`), and its gradient sharded over threads.
#[differentiate(wrt(p))]
fn struct_loss(p: &Linear, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let z = (x.dot(&p.w) + &p.b).mapv(f64::tanh).sum_axis(Axis(1));
    (z - y).mapv(|r| r * r).mean().unwrap()
}

#[test]
fn struct_tangent_and_sharded_gradient() {
    let (x, y) = data();
    let p = Linear {
        w: w32(),
        b: array![0.1, -0.1],
    };
    let d = Linear {
        w: array![[1.0, 0.0], [0.5, -0.5], [0.2, 0.1]],
        b: array![0.3, 0.1],
    };
    let (_, t) = struct_loss_jvp(&p, &x, &y, &d);
    check::jvpcheck(|p: &Linear| struct_loss(p, &x, &y), &p, &d, &t).assert_ok();
    let (v, g) = struct_loss_grad(&p, &x, &y);
    check::assert_gradient(|p: &Linear| struct_loss(p, &x, &y), &p, &g);
    let (vp, gp): (f64, Linear) =
        autodiff::parallel::mean(&autodiff::parallel::Shards::even(2), (&x, &y), |(x, y)| {
            struct_loss_grad(&p, &x, &y)
        });
    assert!((v - vp).abs() < 1e-12);
    assert!((g.w - gp.w).iter().all(|e| e.abs() < 1e-12));
}

/// Hidden states kept in a local `Vec` built with `push` and read afterwards:
/// `f = Σ h₁ + 2·Σ h₂`, `hₜ = tanh(W·xₜ + hₜ₋₁)`, checked against central differences in `W`.
#[differentiate(wrt(w))]
fn kept_states(w: &Array2<f64>, xs: &[Array1<f64>]) -> f64 {
    let mut h = Array1::zeros(w.nrows());
    let mut hs = Vec::new();
    for x in xs {
        h = (w.dot(x) + &h).mapv(f64::tanh);
        hs.push(h.clone());
    }
    hs[0].sum() + 2.0 * hs[1].sum()
}

#[test]
fn hidden_states_kept_in_a_vec_built_with_push() {
    let w = array![[0.3, -0.2], [0.5, 0.1]];
    let xs = vec![array![1.0, 0.5], array![-0.3, 0.7]];
    let (v, g) = kept_states_grad(&w, &xs);
    assert_eq!(v, kept_states(&w, &xs));
    let h = 1e-6;
    for i in 0..2 {
        for j in 0..2 {
            let (mut wp, mut wm) = (w.clone(), w.clone());
            wp[[i, j]] += h;
            wm[[i, j]] -= h;
            let fd = (kept_states(&wp, &xs) - kept_states(&wm, &xs)) / (2.0 * h);
            assert!(
                (fd - g[[i, j]]).abs() < 1e-7,
                "∂W[{i},{j}]: {fd} vs {}",
                g[[i, j]]
            );
        }
    }
}

/// Activations made by a call and lent to the next call, at the top level, in a loop and in a
/// branch of it: the pullback converts the gradient each call returns for its lent argument by
/// the argument's type, and keeps no activation for that (a witness of the type instead, on the
/// loop's stack and in the branch's record too).
#[differentiate(wrt(w))]
fn stacked_activations(w: &Array2<f64>, x: &Array1<f64>, layers: usize) -> f64 {
    let a = nn::sigmoid(&w.dot(x));
    let mut h = nn::softmax(&a);
    let mut s = 0.0;
    for l in 0..layers {
        let z = nn::softplus(&(w.dot(&h) - 0.3));
        let p = if l % 2 == 0 {
            let q = nn::sigmoid(&z);
            nn::log_softmax(&q)
        } else {
            nn::softmax(&z)
        };
        s += p[l % 3] + nn::log_sum_exp(&z);
        h = nn::sigmoid(&z);
    }
    s + h.sum()
}

#[test]
fn activations_lent_to_calls_get_gradients_of_their_type() {
    let w = array![[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [-0.5, 0.2, 0.25]];
    let x = array![0.7, -1.1, 0.4];
    let (y, gw) = stacked_activations_grad(&w, &x, 3);
    assert_eq!(y, stacked_activations(&w, &x, 3));
    check::assert_gradient(|w: &Array2<f64>| stacked_activations(w, &x, 3), &w, &gw);
}
