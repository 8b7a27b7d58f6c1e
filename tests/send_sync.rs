//! Gradients and pullbacks cross threads: a `_grad` result is `Send`, and so is the pullback of
//! every `_vjp` whose captured values are, since the pullback is an `impl FnOnce` whose auto
//! traits follow what it captures. A data-parallel minibatch gradient (`autodiff::parallel`)
//! relies on both.
//!
//! The assertions are checked by the compiler (`assert_send` is generic over `T: Send`); each
//! test then also runs a pullback on another thread and compares it with the `_grad` result on
//! this one, which must agree exactly: the same code runs on the same values.

// The functions index slices inside range loops on purpose: loop stacks are what they test.
#![allow(clippy::needless_range_loop)]

use autodiff::{Differentiable, conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4, array};

/// Compiles only for `Send` values.
fn assert_send<T: Send>(_: &T) {}

/// Compiles only for `Sync` values.
fn assert_sync<T: Sync>(_: &T) {}

/// Runs `pullback(seed)` on a thread of its own and returns what it gives.
fn on_other_thread<C: Send, G: Send>(pullback: impl FnOnce(C) -> G + Send, seed: C) -> G {
    std::thread::scope(|s| {
        s.spawn(move || pullback(seed))
            .join()
            .expect("pullback panicked")
    })
}

/// The pullback of a `_vjp` result is `Send` (the bound on `vjp.1`), and so is the gradient of
/// the matching `_grad` result; both give the same value, and the pullback, seeded with `1` on
/// another thread, gives that same gradient.
#[track_caller]
fn pullback_moves<Y, S, G>(vjp: (Y, impl FnOnce(S) -> G + Send), grad: (Y, G), one: S)
where
    Y: PartialEq + std::fmt::Debug,
    S: Send,
    G: Send + PartialEq + std::fmt::Debug,
{
    let (y, pullback) = vjp;
    let (y_grad, g) = grad;
    assert_send(&g);
    assert_eq!(y, y_grad);
    assert_eq!(on_other_thread(pullback, one), g);
}

/// A scalar function: one rule per operation, nothing on the heap.
#[differentiate]
fn scalar(x: f64, y: f64) -> f64 {
    (x * y).sin() + (-x).exp() * y
}

/// A slice function with a loop and a branch: the forward pass keeps a loop stack of branch
/// records.
#[differentiate]
fn slice_loop(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        if x[i] > 0.0 {
            s += (w * x[i]).tanh();
        } else {
            s += w * x[i] * x[i];
        }
    }
    s
}

/// A fixed-size array function that calls a differentiated function (whose pullback it keeps).
#[differentiate]
fn array_call(a: [f64; 3]) -> f64 {
    scalar(a[0], a[1]) * a[2]
}

/// ndarray with `nn` rules: a one-hidden-layer network and its mean cross-entropy.
#[differentiate]
fn tensor_loss(w: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let h = nn::relu(&(x.dot(w) + b));
    nn::cross_entropy(&nn::softmax(&h), labels) + nn::log_sum_exp(&h.sum_axis(ndarray::Axis(1)))
}

/// A parameter struct.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Params {
    filters: Array4<f64>,
    bias: Array1<f64>,
    v: Array2<f64>,
    scale: f64,
}

/// A convolution, a pool and a dense layer on a parameter struct, with a tensor result:
/// `_vjp` only.
#[differentiate]
fn cnn_logits(p: &Params, x: &Array4<f64>) -> Array2<f64> {
    let h = nn::sigmoid(&conv::conv2d_nchw(x, &p.filters, &p.bias, 1, 0));
    let h = conv::max_pool2d(&h, 2, 2);
    conv::flatten(&h).dot(&p.v) * p.scale
}

/// The mean squared error of `cnn_logits` against `y`.
#[differentiate(wrt(p))]
fn cnn_loss(p: &Params, x: &Array4<f64>, y: &Array2<f64>) -> f64 {
    nn::mse(&cnn_logits(p, x), y)
}

fn params() -> Params {
    Params {
        filters: Array4::from_shape_fn((2, 1, 3, 3), |(o, _, i, j)| {
            0.1 * (o as f64 + 1.0) * (i as f64 - j as f64 + 0.5)
        }),
        bias: array![0.1, -0.2],
        v: Array2::from_shape_fn((8, 3), |(i, j)| 0.05 * (i as f64 - 2.0 * j as f64)),
        scale: 1.5,
    }
}

fn images() -> Array4<f64> {
    Array4::from_shape_fn((2, 1, 6, 6), |(n, _, i, j)| {
        ((n * 36 + i * 6 + j) as f64 * 0.37).sin()
    })
}

#[test]
fn scalar_pullbacks_are_send() {
    pullback_moves(scalar_vjp(0.3, -1.2), scalar_grad(0.3, -1.2), 1.0);
}

#[test]
fn slice_and_array_pullbacks_are_send() {
    let x = vec![0.5, -1.0, 2.0, -0.25];
    pullback_moves(slice_loop_vjp(&x, 0.7), slice_loop_grad(&x, 0.7), 1.0);
    let a = [0.4, 1.1, -2.0];
    pullback_moves(array_call_vjp(a), array_call_grad(a), 1.0);
}

#[test]
fn tensor_pullbacks_are_send() {
    let w = Array2::from_shape_fn((3, 4), |(i, j)| 0.3 * (i as f64) - 0.2 * (j as f64) + 0.1);
    let b = array![0.1, -0.1, 0.2, 0.0];
    let x = array![[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [0.0, 0.7, 0.1]];
    let labels = [1usize, 3, 0];
    let grad = tensor_loss_grad(&w, &b, &x, &labels);
    assert_sync(&grad.1);
    pullback_moves(tensor_loss_vjp(&w, &b, &x, &labels), grad, 1.0);
}

#[test]
fn parameter_struct_pullbacks_are_send() {
    let (p, x) = (params(), images());
    // A tensor-valued result: the pullback takes a cotangent of the logits' shape.
    let (logits, pb) = cnn_logits_vjp(&p, &x);
    assert_send(&pb);
    let seed = logits.mapv(|z| 2.0 * z);
    let (gp, gx) = on_other_thread(pb, seed.clone());
    let (_, pb_here) = cnn_logits_vjp(&p, &x);
    let (gp_here, gx_here) = pb_here(seed);
    assert_eq!(gp, gp_here);
    assert_eq!(gx, gx_here);

    let y = Array2::from_shape_fn((2, 3), |(i, j)| (i + j) as f64 * 0.1);
    let grad = cnn_loss_grad(&p, &x, &y);
    assert_sync(&grad.1);
    pullback_moves(cnn_loss_vjp(&p, &x, &y), grad, 1.0);
}

/// The `_grad` functions themselves, not only their results, can be called from many threads
/// at once on shared inputs.
#[test]
fn grads_run_concurrently_on_shared_inputs() {
    let (p, x) = (params(), images());
    let y = Array2::from_shape_fn((2, 3), |(i, j)| (i as f64 - j as f64) * 0.2);
    let reference = cnn_loss_grad(&p, &x, &y);
    let results: Vec<(f64, Params)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| cnn_loss_grad(&p, &x, &y)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("gradient panicked"))
            .collect()
    });
    for r in results {
        assert_eq!(r, reference);
    }
}

/// A function in `f32`: the same rules, another scalar.
#[differentiate]
fn single(x: &[f32], w: f32) -> f32 {
    let mut s = 0.0f32;
    for v in x {
        s += (w * *v).sin();
    }
    s
}

#[test]
fn f32_pullbacks_are_send() {
    let x = vec![0.5f32, -1.0, 2.0];
    pullback_moves(single_vjp(&x, 0.3), single_grad(&x, 0.3), 1.0f32);
}

/// The runtime's own state that pullbacks or training loops keep: a loop-checkpointing schedule
/// (its snapshots are the loop state), and the optimizers' per-leaf state.
#[test]
fn runtime_state_is_send_and_sync() {
    use autodiff::checkpoint::Checkpointer;
    use autodiff::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};

    let schedule: Checkpointer<Vec<f64>> = Checkpointer::binomial(10, 2);
    assert_send(&schedule);
    assert_sync(&schedule);

    let mut p = (params(), 0.5f64);
    let g = (params(), -1.0f64);
    let mut adam = Adam::new(AdamConfig::default());
    adam.step(&mut p, &g);
    assert_send(&adam);
    assert_sync(&adam);
    let sgd: Sgd = Sgd::new(SgdConfig::default());
    assert_send(&sgd);
    // The state moves to another thread and keeps stepping there: the same step as here.
    let (mut p_there, mut p_here) = (p.clone(), p);
    let mut adam_here = adam.clone();
    std::thread::scope(|s| {
        s.spawn(|| adam.step(&mut p_there, &g));
    });
    adam_here.step(&mut p_here, &g);
    assert_eq!(p_there, p_here);
}
