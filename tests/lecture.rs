//! The worked examples of the CPSC 440 automatic-differentiation lecture
//! (`shared/seed/cpsc440-autodiff-lecture.txt`), differentiated by `#[differentiate]`.
//!
//! Every derivative is checked twice: against the analytic derivative (stated in a comment) to
//! 1e-12 (relative above 1, see `autodiff::check::assert_close`), and against central finite
//! differences through `autodiff::check`.

use autodiff::check::{assert_close, assert_gradient, gradcheck};
use autodiff::differentiate;

/// Analytic comparisons in f64: exact up to a few roundings.
const TOL: f64 = 1e-12;

// ---------------------------------------------------------------------------------------------
// Single input: f(x) = 10·log(1 + exp(−2x)), the composition f₅∘f₄∘f₃∘f₂∘f₁ of the lecture.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn softplus_loss(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

/// f'(x) = 10 · 1/(1 + e^{−2x}) · e^{−2x} · (−2) = −20·e^{−2x}/(1 + e^{−2x}).
fn softplus_loss_derivative(x: f64) -> f64 {
    let e = (-2.0 * x).exp();
    -20.0 * e / (1.0 + e)
}

#[test]
fn lecture_single_input_at_several_points() {
    for x in [-5.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.5, 10.0] {
        let (y, dy) = softplus_loss_grad(x);
        assert_eq!(y, softplus_loss(x), "value at x = {x}");
        assert_close(dy, softplus_loss_derivative(x), TOL);
        assert_gradient(|x: &f64| softplus_loss(*x), &x, &dy);
    }
}

#[test]
fn lecture_single_input_known_values() {
    // At x = 0: f'(0) = −20·1/2 = −10 exactly.
    assert_eq!(softplus_loss_grad(0.0).1, -10.0);
    // At x = 0.5 (the example): −20·e^{−1}/(1 + e^{−1}).
    let e = (-1.0f64).exp();
    let (y, dy) = softplus_loss_grad(0.5);
    assert_close(y, 10.0 * (1.0 + e).ln(), TOL);
    assert_close(dy, -20.0 * e / (1.0 + e), TOL);
}

#[test]
fn lecture_single_input_vjp_scales_with_the_cotangent() {
    for (x, g) in [(0.5, 1.0), (0.5, 2.0), (-1.0, -3.5), (2.0, 0.0)] {
        let (y, pullback) = softplus_loss_vjp(x);
        assert_eq!(y, softplus_loss(x));
        // x̄ = ȳ · f'(x)
        assert_close(pullback(g), g * softplus_loss_derivative(x), TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Multiple inputs: Wikipedia's computation graph f(x₁, x₂) = sin(x₁) + x₁·x₂.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn sin_plus_product(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

/// ∇f = (cos x₁ + x₂, x₁).
fn sin_plus_product_gradient(x1: f64, x2: f64) -> (f64, f64) {
    (x1.cos() + x2, x1)
}

fn sin_plus_product_at(p: &(f64, f64)) -> f64 {
    sin_plus_product(p.0, p.1)
}

#[test]
fn lecture_two_inputs_at_1_2() {
    let (y, (d1, d2)) = sin_plus_product_grad(1.0, 2.0);
    // f(1, 2) = sin 1 + 2; ∇f(1, 2) = (cos 1 + 2, 1).
    assert_close(y, 1.0f64.sin() + 2.0, TOL);
    assert_close(d1, 1.0f64.cos() + 2.0, TOL);
    assert_close(d2, 1.0, TOL);
    assert_gradient(sin_plus_product_at, &(1.0, 2.0), &(d1, d2));
}

#[test]
fn lecture_two_inputs_at_several_points() {
    for (x1, x2) in [(0.0, 0.0), (-2.0, 3.0), (3.5, -0.25), (1e-3, 1e3)] {
        let (y, (d1, d2)) = sin_plus_product_grad(x1, x2);
        assert_eq!(y, sin_plus_product(x1, x2));
        let (a1, a2) = sin_plus_product_gradient(x1, x2);
        assert_close(d1, a1, TOL);
        assert_close(d2, a2, TOL);
        assert_gradient(sin_plus_product_at, &(x1, x2), &(d1, d2));
    }
}

#[test]
fn lecture_two_inputs_vjp() {
    // With cotangent 1 the pullback is the gradient.
    let (y, pullback) = sin_plus_product_vjp(1.0, 2.0);
    assert_close(y, 1.0f64.sin() + 2.0, TOL);
    let (d1, d2) = pullback(1.0);
    assert_close(d1, 1.0f64.cos() + 2.0, TOL);
    assert_close(d2, 1.0, TOL);

    // With cotangent 2 the gradient doubles: (2·(cos 1 + 2), 2).
    let (_, pullback) = sin_plus_product_vjp(1.0, 2.0);
    let (e1, e2) = pullback(2.0);
    assert_close(e1, 2.0 * (1.0f64.cos() + 2.0), TOL);
    assert_close(e2, 2.0, TOL);
    // Doubling is exact in binary floating point.
    assert_eq!((e1, e2), (2.0 * d1, 2.0 * d2));
    assert_gradient(
        |p: &(f64, f64)| 2.0 * sin_plus_product_at(p),
        &(1.0, 2.0),
        &(e1, e2),
    );
}

// ---------------------------------------------------------------------------------------------
// "Failure of AD on ReLUs": f₁(x) = x, f₂(x) = ReLU(x) − ReLU(−x), f₃(x) = 10f₁(x) − 9f₂(x),
// all equal to x, so f₁' = f₂' = f₃' = 1 everywhere, 0 included.
//
// Our documented convention at kinks (autodiff-runtime/src/rules/mod.rs, "Nonsmooth points") is
// the minimum-norm element of the Clarke generalized gradient: `x.max(a)` with `x == a` sends
// g/2 to each argument. So ReLU'(0) = 1/2 for `x.max(0.0)`, which the lecture's footnote notes
// happens to give the right answer for f₂ and f₃, but not for f₄(x) = ReLU(ReLU(x)) − ReLU(−x).
// Exact derivatives at kinks are a later feature; these tests pin down what the convention gives.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn relu(x: f64) -> f64 {
    x.max(0.0)
}

#[differentiate]
fn f1(x: f64) -> f64 {
    x
}

/// ReLU(x) − ReLU(−x), through calls of `relu` (hence `relu_vjp`).
#[differentiate]
fn f2(x: f64) -> f64 {
    relu(x) - relu(-x)
}

/// The same function with `max` written inline.
#[differentiate]
fn f2_inline(x: f64) -> f64 {
    x.max(0.0) - (-x).max(0.0)
}

#[differentiate]
fn f3(x: f64) -> f64 {
    10.0 * f1(x) - 9.0 * f2(x)
}

#[differentiate]
fn f4(x: f64) -> f64 {
    relu(relu(x)) - relu(-x)
}

#[test]
fn relu_derivative_away_from_zero() {
    // ReLU'(x) = 1 for x > 0, 0 for x < 0.
    for x in [-3.0, -1e-6, 1e-6, 0.5, 7.0] {
        let (y, d) = relu_grad(x);
        assert_eq!(y, x.max(0.0));
        assert_eq!(d, if x > 0.0 { 1.0 } else { 0.0 });
        if x.abs() > 1e-3 {
            assert_gradient(|x: &f64| relu(*x), &x, &d);
        }
    }
}

/// A name, a function and its `_grad`.
type Case = (&'static str, fn(f64) -> f64, fn(f64) -> (f64, f64));

#[test]
fn relu_identities_away_from_zero() {
    // f₁ = f₂ = f₃ = f₄ = x, so every derivative is 1 at x ≠ 0.
    for x in [-2.0, -0.5, 0.25, 3.0] {
        let cases: [Case; 5] = [
            ("f1", f1, f1_grad),
            ("f2", f2, f2_grad),
            ("f2_inline", f2_inline, f2_inline_grad),
            ("f3", f3, f3_grad),
            ("f4", f4, f4_grad),
        ];
        for (name, f, f_grad) in cases {
            let (y, d) = f_grad(x);
            assert_close(y, x, TOL);
            assert_eq!(y, f(x), "{name}({x})");
            assert_eq!(d, 1.0, "{name}'({x})");
            assert_gradient(|x: &f64| f(*x), &x, &d);
        }
    }
}

#[test]
fn relu_identities_at_zero_with_the_tie_convention() {
    // ReLU at its kink: max(0, 0) is a tie, so ReLU'(0) = 1/2 (g/2 to x, g/2 to the constant).
    assert_eq!(relu_grad(0.0), (0.0, 0.5));

    // f₁'(0) = 1.
    assert_eq!(f1_grad(0.0), (0.0, 1.0));

    // f₂'(0) = ReLU'(0)·1 − ReLU'(−0)·(−1) = 1/2 + 1/2 = 1. (−0.0 == 0.0, so `(-x).max(0.0)` is a
    // tie as well.) Correct, by the footnote's coincidence.
    assert_eq!(f2_grad(0.0).1, 1.0);
    assert_eq!(f2_inline_grad(0.0).1, 1.0);

    // f₃'(0) = 10·f₁'(0) − 9·f₂'(0) = 10 − 9 = 1. Correct too.
    assert_eq!(f3_grad(0.0).1, 1.0);

    // f₂ and f₃ are x everywhere, so finite differences at 0 agree.
    assert_gradient(|x: &f64| f2(*x), &0.0, &f2_grad(0.0).1);
    assert_gradient(|x: &f64| f3(*x), &0.0, &f3_grad(0.0).1);

    // f₄'(0) = ReLU'(ReLU(0))·ReLU'(0) − ReLU'(−0)·(−1) = 1/2·1/2 + 1/2 = 3/4, not the true 1:
    // no fixed choice of ReLU'(0) is right for every composition (the lecture's footnote). This
    // is the documented limitation of the convention: finite differences disagree.
    let (y, d4) = f4_grad(0.0);
    assert_eq!(y, 0.0);
    assert_eq!(d4, 0.75);
    let report = gradcheck(|x: &f64| f4(*x), &0.0, &d4);
    assert!(!report.passed(), "{report}");
    assert_close(report.entries[0].numeric, 1.0, 1e-8);
}
