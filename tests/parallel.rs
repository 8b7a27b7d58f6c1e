//! `autodiff::parallel`: minibatch gradients of generated `_grad` functions computed shard by
//! shard on rayon's threads equal the single call on the whole batch up to rounding, for shards
//! of unequal sizes, one shard, more shards than threads or than examples (empty shards), and
//! for the batch types training uses (ndarray rows with a label slice, 4-d image batches, a
//! `Range` of example numbers over any indexable data).

// The loss over a slice indexes it in a range loop on purpose: that is the form it tests.
#![allow(clippy::needless_range_loop)]

use std::sync::atomic::{AtomicUsize, Ordering};

use autodiff::parallel::{self, Shards};
use autodiff::{Differentiable, check, conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4};

/// Relative agreement of the sharded and single-call results: a handful of units in the last
/// place, from adding the examples' terms in another order (and scaling by `n_k/n`).
const ROUNDING: f64 = 1e-12;

/// Every scalar of `p`, in leaf order.
fn flat<P: Differentiable<Scalar = f64>>(p: &P) -> Vec<f64> {
    let mut out = Vec::new();
    p.visit_leaves(&mut |leaf| out.extend_from_slice(leaf));
    out
}

/// `got` and `want` agree to [`ROUNDING`] relative to the largest entry of `want`.
#[track_caller]
fn agree<P: Differentiable<Scalar = f64>>(what: &str, got: &P, want: &P) {
    let (got, want) = (flat(got), flat(want));
    assert_eq!(got.len(), want.len(), "{what}: number of scalars");
    let scale = want.iter().fold(0.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= ROUNDING * scale,
            "{what}: scalar {i}: {g:e} vs {w:e} (scale {scale:e})"
        );
    }
}

/// The shardings every test runs, for a batch of `n ≥ 4` examples: one shard; two; three of
/// unequal sizes (`n` not a multiple of 3 in the tests); sixteen, more than the machine's
/// threads and, for a batch of fewer than 16, more than its examples (the last ones empty);
/// and explicit boundaries with a one-example shard, an empty shard in the middle and an empty
/// first one.
fn shardings(n: usize) -> Vec<Shards> {
    vec![
        Shards::even(1),
        Shards::even(2),
        Shards::even(3),
        Shards::even(16),
        Shards::per_thread(),
        Shards::at([0, 1, n / 2, n / 2, n]),
        Shards::at([0, 0, n - 1, n]),
    ]
}

/// A two-layer network as a parameter struct.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    v: Array2<f64>,
    c: Array1<f64>,
}

/// The mean cross-entropy over the batch's rows: `(1/n) Σᵢ ℓᵢ`.
#[differentiate(wrt(p))]
fn mlp_loss(p: &Mlp, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let h = nn::relu(&(x.dot(&p.w1) + &p.b1));
    nn::cross_entropy(&(h.dot(&p.v) + &p.c), labels)
}

fn mlp(inputs: usize, hidden: usize, classes: usize) -> Mlp {
    let wave = |k: usize, s: f64| ((k as f64) * 0.73 + s).sin() * 0.5;
    Mlp {
        w1: Array2::from_shape_fn((inputs, hidden), |(i, j)| wave(i * hidden + j, 0.1)),
        b1: Array1::from_shape_fn(hidden, |j| wave(j, 1.0) * 0.1),
        v: Array2::from_shape_fn((hidden, classes), |(i, j)| wave(i * classes + j, 2.0)),
        c: Array1::from_shape_fn(classes, |j| wave(j, 3.0) * 0.1),
    }
}

#[test]
fn mean_of_an_mlp_loss_over_ndarray_rows_equals_the_single_call() {
    let (n, inputs, classes) = (23, 5, 4);
    let p = mlp(inputs, 8, classes);
    let x = Array2::from_shape_fn((n, inputs), |(i, j)| ((i * inputs + j) as f64 * 0.31).cos());
    let labels: Vec<usize> = (0..n).map(|i| (i * 3 + 1) % classes).collect();
    let single = mlp_loss_grad(&p, &x, &labels);
    for shards in shardings(n) {
        let (value, grad) = parallel::mean(&shards, (&x, &labels[..]), |(x, labels)| {
            mlp_loss_grad(&p, &x, labels)
        });
        agree(&format!("{shards:?}: value"), &value, &single.0);
        agree(&format!("{shards:?}: gradient"), &grad, &single.1);
    }
    // One shard is the single call on a copy of the same rows: the same result to the bit.
    let one = parallel::mean(&Shards::even(1), (&x, &labels), |(x, labels)| {
        mlp_loss_grad(&p, &x, labels)
    });
    assert_eq!(one, single);
    // And the sharded gradient is the loss's gradient: central finite differences agree.
    let (_, grad) = parallel::mean(&Shards::at([0, 2, 9, 23]), (&x, &labels), |(x, l)| {
        mlp_loss_grad(&p, &x, l)
    });
    check::assert_gradient(|q: &Mlp| mlp_loss(q, &x, &labels), &p, &grad);
}

/// `L(w, b) = Σᵢ (w·xᵢ + b − yᵢ)²`, a sum over the examples, with
/// `∂L/∂w = Σᵢ 2rᵢxᵢ` and `∂L/∂b = Σᵢ 2rᵢ`, `rᵢ = w·xᵢ + b − yᵢ`.
#[differentiate(wrt(w, b))]
fn squares(w: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = w * xs[i] + b - ys[i];
        total += r * r;
    }
    total
}

#[test]
fn sum_of_a_sum_loss_over_slices_matches_the_analytic_gradient() {
    let n = 41;
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / 10.0 - 2.0).collect();
    let ys: Vec<f64> = xs.iter().map(|x| (1.3 * x).sin()).collect();
    let (w, b) = (0.7, -0.2);
    let r: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| w * x + b - y).collect();
    let value: f64 = r.iter().map(|r| r * r).sum();
    let dw: f64 = r.iter().zip(&xs).map(|(r, x)| 2.0 * r * x).sum();
    let db: f64 = r.iter().map(|r| 2.0 * r).sum();
    for shards in shardings(n) {
        let (v, (gw, gb)) =
            parallel::sum(&shards, (&xs, &ys), |(xs, ys)| squares_grad(w, b, xs, ys));
        agree(&format!("{shards:?}: value"), &v, &value);
        agree(&format!("{shards:?}: ∂w"), &gw, &dw);
        agree(&format!("{shards:?}: ∂b"), &gb, &db);
    }
}

/// An example that is not a row of an array: a measured point.
struct Example {
    x: f64,
    y: f64,
}

/// The mean squared error `(1/n) Σᵢ (w·xᵢ − yᵢ)²`.
#[differentiate(wrt(w))]
fn mean_squares(w: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = w * xs[i] - ys[i];
        total += r * r;
    }
    total / xs.len() as f64
}

#[test]
fn a_range_of_example_numbers_shards_any_indexable_data() {
    let examples: Vec<Example> = (0..30)
        .map(|i| Example {
            x: i as f64 * 0.1,
            y: (i as f64 * 0.1).exp().ln_1p(),
        })
        .collect();
    let value_grad = |e: &[Example]| {
        let xs: Vec<f64> = e.iter().map(|e| e.x).collect();
        let ys: Vec<f64> = e.iter().map(|e| e.y).collect();
        mean_squares_grad(0.4, &xs, &ys)
    };
    let single = value_grad(&examples);
    for shards in shardings(examples.len()) {
        let got = parallel::mean(&shards, 0..examples.len(), |rows| {
            value_grad(&examples[rows])
        });
        agree(&format!("{shards:?}"), &got, &single);
    }
    // A sub-range of a larger collection: the shards are ranges inside it.
    let got = parallel::mean(&Shards::even(4), 10..30, |rows| {
        assert!(rows.start >= 10 && rows.end <= 30, "{rows:?}");
        value_grad(&examples[rows])
    });
    agree("examples 10..30", &got, &value_grad(&examples[10..30]));
}

/// A small convolutional network on `N×1×6×6` images.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Cnn {
    filters: Array4<f64>,
    bias: Array1<f64>,
    dense: Array2<f64>,
}

#[differentiate]
fn cnn_logits(p: &Cnn, x: &Array4<f64>) -> Array2<f64> {
    let h = nn::relu(&conv::conv2d_nchw(x, &p.filters, &p.bias, 1, 0));
    conv::flatten(&conv::max_pool2d(&h, 2, 2)).dot(&p.dense)
}

/// The mean cross-entropy of the network's logits.
#[differentiate(wrt(p))]
fn cnn_loss(p: &Cnn, x: &Array4<f64>, labels: &[usize]) -> f64 {
    nn::cross_entropy(&cnn_logits(p, x), labels)
}

#[test]
fn mean_of_a_cnn_loss_over_image_batches_equals_the_single_call() {
    let n = 11;
    let p = Cnn {
        filters: Array4::from_shape_fn((3, 1, 3, 3), |(o, _, i, j)| {
            ((o * 9 + i * 3 + j) as f64 * 0.57).sin() * 0.4
        }),
        bias: Array1::from(vec![0.05, -0.02, 0.1]),
        dense: Array2::from_shape_fn((12, 5), |(i, j)| ((i * 5 + j) as f64 * 0.29).cos() * 0.3),
    };
    let x = Array4::from_shape_fn((n, 1, 6, 6), |(k, _, i, j)| {
        ((k * 36 + i * 6 + j) as f64 * 0.13).sin()
    });
    let labels: Vec<usize> = (0..n).map(|k| (k * 2) % 5).collect();
    let single = cnn_loss_grad(&p, &x, &labels);
    for shards in shardings(n) {
        let got = parallel::mean(&shards, (&x, &labels), |(x, labels)| {
            cnn_loss_grad(&p, &x, labels)
        });
        agree(&format!("{shards:?}"), &got, &single);
    }
}

#[test]
fn empty_shards_are_skipped_and_an_empty_batch_is_one_call() {
    let xs: Vec<f64> = vec![0.5, -1.0, 2.0];
    let ys: Vec<f64> = vec![1.0, 0.0, 1.5];
    let calls = AtomicUsize::new(0);
    let counted = |(xs, ys): (&[f64], &[f64])| {
        calls.fetch_add(1, Ordering::Relaxed);
        squares_grad(0.3, 0.1, xs, ys)
    };
    // Sixteen shards of three examples: three shards of one example each, thirteen empty ones.
    let got = parallel::sum(&Shards::even(16), (&xs, &ys), |batch| {
        assert_eq!(batch.0.len(), 1, "an empty shard reached the function");
        counted(batch)
    });
    assert_eq!(calls.swap(0, Ordering::Relaxed), 3);
    agree(
        "16 shards of 3 examples",
        &got,
        &squares_grad(0.3, 0.1, &xs, &ys),
    );

    // An empty batch: the function runs once, on it, as the single call would; a sum over no
    // examples is 0 with a zero gradient.
    let none: &[f64] = &[];
    let got = parallel::sum(&Shards::even(4), (none, none), counted);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(got, (0.0, (0.0, 0.0)));
}

/// The mean squared error in `f32`.
#[differentiate(wrt(w))]
fn mse32(w: &Array1<f32>, x: &Array2<f32>, y: &Array1<f32>) -> f32 {
    let r = x.dot(w) - y;
    (&r * &r).mean().unwrap()
}

#[test]
fn single_precision_losses_shard_too() {
    let n = 50;
    let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * 3 + j) as f32 * 0.21).sin());
    let y = Array1::from_shape_fn(n, |i| (i as f32 * 0.05).cos());
    let w = Array1::from(vec![0.3f32, -0.7, 1.1]);
    let (v1, g1) = mse32_grad(&w, &x, &y);
    let (v, g) = parallel::mean(&Shards::at([0, 7, 33, 50]), (&x, &y), |(x, y)| {
        mse32_grad(&w, &x, &y)
    });
    // f32 rounding: ε = 1.2e-7, a few dozen terms.
    let tol = 1e-5 * v1.abs().max(1.0);
    assert!((v - v1).abs() <= tol, "{v} vs {v1}");
    for (a, b) in g.iter().zip(&g1) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }
}

/// A shard's loss over the examples of a range parameter, `for i in r` (and `r.clone()` of an
/// inclusive one by reference): the loop over the parameter was lowered as a loop over the
/// elements of a slice, rustc's E0608 inside the generated code. The parameter is now the range
/// of its bounds wherever it is used as a value.
#[differentiate(wrt(w))]
fn shard_loss(w: f64, ys: &[f64], r: std::ops::Range<usize>) -> f64 {
    let mut s = 0.0;
    for i in r {
        s += (w - ys[i]).powi(2);
    }
    s
}

#[differentiate(wrt(w))]
fn shard_loss_inclusive(w: f64, ys: &[f64], r: &std::ops::RangeInclusive<usize>) -> f64 {
    let mut s = 0.0;
    for i in r.clone() {
        s += (w - ys[i]).powi(2);
    }
    s
}

/// A range parameter as a slice index and reversed (`x[r.clone()]`, `r.clone().rev()`), and its
/// bounds read as written.
#[differentiate(wrt(x))]
fn segment_energy(x: &[f64], r: std::ops::Range<usize>) -> f64 {
    x[r.clone()].iter().map(|v| v * v).sum()
}

#[differentiate(wrt(x))]
fn segment_backwards(x: &[f64], r: &std::ops::Range<usize>) -> f64 {
    let mut s = 0.0;
    for i in r.clone().rev() {
        s = s * 0.5 + x[i];
    }
    s + r.len() as f64 + (r.end - r.start) as f64
}

#[test]
fn loops_over_range_parameters() {
    let x = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(
        segment_energy_grad(&x, 1..3),
        (13.0, vec![0.0, 4.0, 6.0, 0.0])
    );
    let (v, g) = segment_backwards_grad(&x, &(1..3));
    assert_eq!(v, segment_backwards(&x, &(1..3)));
    // x₂ first, then halved and x₁ added.
    assert_eq!(g, vec![0.0, 1.0, 0.5, 0.0]);
    let ys = [1.0, 2.0, 3.0, 4.0];
    let want = 2.0 * ((0.5 - 2.0) + (0.5 - 3.0));
    assert_eq!(
        shard_loss_grad(0.5, &ys, 1..3),
        (shard_loss(0.5, &ys, 1..3), want)
    );
    let r = 1..=2;
    let (v, g) = shard_loss_inclusive_grad(0.5, &ys, &r);
    assert_eq!((v, g), (shard_loss_inclusive(0.5, &ys, &r), want));
}
