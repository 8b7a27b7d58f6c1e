//! The lecture's examples (`shared/seed/cpsc440-autodiff-lecture.txt`) in forward mode.
//!
//! The lecture's bonus slide on forward mode: "given a function, [it] writes code to compute a
//! directional derivative", and getting the gradient that way "need[s] to use it once per
//! partial derivative". So each example's `f_jvp` is checked as a directional derivative (against
//! its analytic value `⟨∇f, v⟩`, central differences along `v`, and `f_vjp` by the dot-product
//! test; see `common::forward`), and one forward pass per input scalar must rebuild the gradient
//! that `f_grad` computes in one reverse pass.
//!
//! The "Failure of AD on ReLUs" identities f₁ = f₂ = f₃ = f₄ = x are checked at 0 with both of
//! the runtime's conventions: `x.max(0.0)` shares a tie (ReLU'(0) = ½, right for f₂ and f₃, ¾
//! for f₄) and `nn::relu` takes ReLU'(0) = 0 (the answers the lecture quotes from TensorFlow and
//! PyTorch: 0 for f₂, 10 for f₃). Forward mode must give the same numbers as reverse mode.

use autodiff::check::{assert_close, jvpcheck};
use autodiff::{Differentiable, differentiate, nn};
use ndarray::{Array1, Array2, array};

mod common;
use common::*;

/// The lecture's f(x) = 10·log(1 + exp(−2x)), a chain of five compositions.
#[differentiate]
fn chain_of_five(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

/// The lecture's computation graph with two inputs, g(x₁, x₂) = sin x₁ + x₁·x₂.
#[differentiate]
fn graph_of_two(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

#[test]
fn directional_derivatives_of_the_lecture_functions() {
    for x in [-5.0f64, -1.0, -1e-3, 0.0, 0.5, 2.5, 10.0] {
        // f'(x) = −20·e^{−2x}/(1 + e^{−2x})
        let e = (-2.0 * x).exp();
        let pairs = forward(format!("chain of five at {x}")).one(
            x,
            chain_of_five,
            chain_of_five_jvp,
            chain_of_five_vjp,
        );
        tangents_are("chain of five", &pairs, -20.0 * e / (1.0 + e), TOL);
    }
    // At 0 every step is exact: d(−2x) = −2, e⁰ = 1, ln'(2) = ½: f'(0) = 10·(−2)/2 = −10.
    assert_eq!(chain_of_five_jvp(0.0, 1.0), (10.0 * 2f64.ln(), -10.0));

    for (x1, x2) in [(1.0f64, 2.0f64), (0.0, 0.0), (-2.0, 3.0), (3.5, -0.25)] {
        // ⟨∇g, v⟩ = (cos x₁ + x₂)·v₁ + x₁·v₂
        let pairs = forward(format!("graph of two at ({x1}, {x2})")).two(
            (x1, x2),
            graph_of_two,
            graph_of_two_jvp,
            graph_of_two_vjp,
        );
        tangents_are2("graph of two", &pairs, (x1.cos() + x2, x1), TOL);
        // One forward pass per partial derivative gives the gradient.
        let by_forward = (
            graph_of_two_jvp(x1, x2, 1.0, 0.0).1,
            graph_of_two_jvp(x1, x2, 0.0, 1.0).1,
        );
        let (_, by_reverse) = graph_of_two_grad(x1, x2);
        close2("graph of two, gradient", by_forward, by_reverse);
    }
}

/// The lecture's residual block, a² = relu(W²·relu(W¹·a⁰)) + a⁰, and the loss ‖a²‖².
#[differentiate(wrt(w1, w2))]
fn residual_block(a0: &Array1<f64>, w1: &Array2<f64>, w2: &Array2<f64>) -> f64 {
    let a1 = nn::relu(&w1.dot(a0));
    let a2 = nn::relu(&w2.dot(&a1)) + a0;
    a2.dot(&a2)
}

/// `x` with its `i`-th scalar (in leaf order) set to 1 and the others to 0.
fn unit<P: Differentiable<Scalar = f64>>(x: &P, i: usize) -> P {
    let mut e = x.zero_like();
    let mut start = 0;
    e.zip_leaves_mut(&x.zero_like(), &mut |leaf, _| {
        if (start..start + leaf.len()).contains(&i) {
            leaf[i - start] = 1.0;
        }
        start += leaf.len();
    });
    e
}

#[test]
fn the_gradient_takes_one_forward_pass_per_partial_derivative() {
    let a0 = array![0.5, -1.0, 2.0];
    let w = (
        array![[0.3, -0.2, 0.5], [0.4, 0.1, -0.6], [-0.3, 0.8, 0.2]],
        array![[1.0, 0.5, -0.4], [-0.7, 0.2, 0.3], [0.6, -0.1, 0.9]],
    );
    forward("residual block").check(
        &w,
        |w| residual_block(&a0, &w.0, &w.1),
        |w, v| residual_block_jvp(&a0, &w.0, &w.1, &v.0, &v.1),
        |w, g| {
            let (value, pullback) = residual_block_vjp(&a0, &w.0, &w.1);
            (value, pullback(g))
        },
    );
    let (_, gradient) = residual_block_grad(&a0, &w.0, &w.1);
    let mut reverse = Vec::new();
    gradient.visit_leaves(&mut |leaf| reverse.extend_from_slice(leaf));
    assert_eq!(reverse.len(), 18);
    for (i, g) in reverse.iter().enumerate() {
        let e = unit(&w, i);
        let (_, partial) = residual_block_jvp(&a0, &w.0, &w.1, &e.0, &e.1);
        close(&format!("∂/∂w, scalar {i}"), partial, *g, TOL);
    }
}

/// The lecture's f₁ … f₄, all equal to x, with ReLU written as `max(x, 0)`.
#[differentiate]
fn identities_by_max(x: f64) -> (f64, f64, f64, f64) {
    let f1 = x;
    let f2 = x.max(0.0) - (-x).max(0.0);
    let f3 = 10.0 * f1 - 9.0 * f2;
    let f4 = x.max(0.0).max(0.0) - (-x).max(0.0);
    (f1, f2, f3, f4)
}

/// ReLU as `nn::relu` of a scalar.
#[differentiate]
fn relu_nn(x: f64) -> f64 {
    nn::relu(&x)
}

/// The same identities through `nn::relu`.
#[differentiate]
fn identities_by_nn(x: f64) -> (f64, f64, f64, f64) {
    let f1 = x;
    let f2 = relu_nn(x) - relu_nn(-x);
    let f3 = 10.0 * f1 - 9.0 * f2;
    let f4 = relu_nn(relu_nn(x)) - relu_nn(-x);
    (f1, f2, f3, f4)
}

type Identities = (f64, f64, f64, f64);

/// Each tangent is the direction times the given derivatives of f₁ … f₄ (to `TOL`: f₃ = 10f₁ −
/// 9f₂ rounds).
#[track_caller]
fn tangents_are4(what: &str, pairs: &[(f64, Identities)], d: Identities) {
    for &(v, t) in pairs {
        let what = format!("{what}, v = {v}");
        close(&format!("{what}, f₁"), t.0, d.0 * v, TOL);
        close(&format!("{what}, f₂"), t.1, d.1 * v, TOL);
        close(&format!("{what}, f₃"), t.2, d.2 * v, TOL);
        close(&format!("{what}, f₄"), t.3, d.3 * v, TOL);
    }
}

/// The identities written one way: every fₖ' = 1 away from 0; at 0 the tangents are
/// `at_zero` (the convention's), as in reverse mode (the dot-product test), and differences,
/// which see the true derivative 1, flag exactly the entries `wrong`.
#[track_caller]
fn identities<B: FnOnce(Identities) -> f64>(
    name: &str,
    f: fn(f64) -> Identities,
    jvp: fn(f64, f64) -> (Identities, Identities),
    vjp: fn(f64) -> (Identities, B),
    at_zero: Identities,
    wrong: &[usize],
) {
    for x in [-2.0, -0.5, 0.25, 3.0] {
        let pairs = forward(format!("{name} at {x}")).one(x, f, jvp, vjp);
        tangents_are4(name, &pairs, (1.0, 1.0, 1.0, 1.0));
    }
    let pairs = forward(format!("{name} at 0"))
        .at_kink()
        .one(0.0, f, jvp, vjp);
    tangents_are4(&format!("{name} at 0"), &pairs, at_zero);
    let (_, t) = jvp(0.0, 1.0);
    let report = jvpcheck(|x: &f64| f(*x), &0.0, &1.0, &t);
    assert_eq!(
        report.failures().map(|e| e.index).collect::<Vec<_>>(),
        wrong
    );
    for e in &report.entries {
        assert_close(e.numeric, 1.0, 1e-8);
    }
}

#[test]
fn relu_identities_in_forward_mode() {
    // ReLU'(0) = ½ by the tie rule: f₂' = ½ + ½ = 1, f₃' = 10 − 9 = 1, f₄' = ½·½ + ½ = ¾.
    identities(
        "identities by max",
        identities_by_max,
        identities_by_max_jvp,
        identities_by_max_vjp,
        (1.0, 1.0, 1.0, 0.75),
        &[3],
    );
    // nn::relu'(0) = 0: f₂' = 0, f₃' = 10, f₄' = 0, the lecture's TensorFlow/PyTorch numbers.
    identities(
        "identities by nn",
        identities_by_nn,
        identities_by_nn_jvp,
        identities_by_nn_vjp,
        (1.0, 0.0, 10.0, 0.0),
        &[1, 2, 3],
    );
}
