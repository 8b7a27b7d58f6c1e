//! The float-method rules of `f32` in single precision, and the conventions at kinks, jumps and
//! domain edges (rules module docs, "Nonsmooth points" and "Special values and domains").

use crate::check::{Tolerance, assert_close, gradcheck, gradcheck_with};
use crate::rules::testing::*;
use crate::rules::{ArithRules, FloatRules, ShapeOf};

// ---- f32 ---------------------------------------------------------------------------------

/// Checks an f32 unary rule against finite differences in single precision and, in double
/// precision, against `formula`.
#[track_caller]
fn unary_f32(
    primal: fn(f32) -> f32,
    (vjp, jvp): (UnaryF32, UnaryF32),
    formula: fn(f64) -> f64,
    at: &[f32],
) {
    for &x in at {
        let y = primal(x);
        let d = vjp(&x, &y, &1.0);
        // Single-precision rounding of x, y and the rule: a few ulps of f32.
        assert_close(f64::from(d), formula(f64::from(x)), 1e-6);
        gradcheck(|x: &f32| primal(*x), &x, &d).assert_ok();
        assert_eq!(jvp(&x, &y, &1.0), d);
    }
}

#[test]
fn f32_rules() {
    let tanh = rules1_f32(f32::tanh_vjp, f32::tanh_jvp);
    unary_f32(
        f32::tanh,
        tanh,
        |x| 1.0 / (x.cosh() * x.cosh()),
        &[-1.5, 0.2, 2.0],
    );
    unary_f32(
        f32::exp,
        rules1_f32(f32::exp_vjp, f32::exp_jvp),
        f64::exp,
        &[-1.3, 0.4, 2.1],
    );
    let sqrt = rules1_f32(f32::sqrt_vjp, f32::sqrt_jvp);
    unary_f32(f32::sqrt, sqrt, |x| 0.5 / x.sqrt(), &[0.25, 2.0, 9.0]);
    let exp2 = rules1_f32(f32::exp2_vjp, f32::exp2_jvp);
    unary_f32(
        f32::exp2,
        exp2,
        |x| 2f64.powf(x) * 2f64.ln(),
        &[-1.3, 0.4, 2.1],
    );

    // Binary: a/b and x.powf(p) on a tuple, in single precision.
    let (a, b) = (1.5_f32, -2.5_f32);
    let y = a / b;
    let d = (
        f32::div_vjp_0(&ShapeOf::of(&a), &b, &1.0),
        f32::div_vjp_1(&ShapeOf::of(&a), &b, &y, &1.0),
    );
    assert_close(f64::from(d.1), -1.5 / 6.25, 1e-6);
    gradcheck(|p: &(f32, f32)| p.0 / p.1, &(a, b), &d).assert_ok();
    assert_eq!(f32::div_jvp(&a, &b, &y, &0.0, &1.0), d.1);

    // A tuple result in single precision: (sin x, cos x).
    let x = 0.8_f32;
    let x64 = f64::from(x);
    let d = f32::sin_cos_vjp(&x, &x.sin_cos(), &(1.0, -1.0));
    assert_close(f64::from(d), x64.cos() + x64.sin(), 1e-6);
    let (s, c) = f32::sin_cos_jvp(&x, &x.sin_cos(), &1.0);
    assert_close(f64::from(s), x64.cos(), 1e-6);
    assert_close(f64::from(c), -x64.sin(), 1e-6);

    let (x, p) = (2.0_f32, 1.5_f32);
    let y = x.powf(p);
    let d = (
        f32::powf_vjp_0(&x, &p, &y, &1.0),
        f32::powf_vjp_1(&x, &p, &y, &1.0),
    );
    assert_close(f64::from(d.0), 1.5 * 2f64.sqrt(), 1e-6);
    assert_close(f64::from(d.1), 2f64.powf(1.5) * 2f64.ln(), 1e-6);
    gradcheck(|q: &(f32, f32)| q.0.powf(q.1), &(x, p), &d).assert_ok();
}

#[test]
fn f32_defaults_are_single_precision() {
    // The f32 checks above ran with these: a step suited to single precision.
    assert_eq!(
        Tolerance::default_for::<f32>(),
        Tolerance {
            step: 1e-2,
            rtol: 1e-2,
            atol: 1e-3
        }
    );
}

// ---- conventions at kinks, jumps and domain edges ----------------------------------------

#[test]
fn abs_at_zero_is_zero() {
    for x in [0.0_f64, -0.0] {
        assert_eq!(f64::abs_vjp(&x, &0.0, &1.0), 0.0);
        assert_eq!(f64::abs_jvp(&x, &0.0, &1.0), 0.0);
    }
    assert_eq!(f32::abs_vjp(&0.0, &0.0, &1.0), 0.0);
}

#[test]
fn max_tie_splits_evenly() {
    let (x, g) = (1.5_f64, 2.0);
    assert_eq!(f64::max_vjp_0(&x, &x, &x, &g), 1.0);
    assert_eq!(f64::max_vjp_1(&x, &x, &x, &g), 1.0);
    assert_eq!(f64::max_jvp(&x, &x, &x, &1.0, &3.0), 2.0);
    // Signed zeros are equal: a tie.
    assert_eq!(f64::max_vjp_0(&-0.0, &0.0, &0.0, &g), 1.0);
    assert_eq!(f32::max_vjp_1(&-2.0, &-2.0, &-2.0, &1.0), 0.5);
}

#[test]
fn min_tie_splits_evenly() {
    let (x, g) = (-0.25_f64, 3.0);
    assert_eq!(f64::min_vjp_0(&x, &x, &x, &g), 1.5);
    assert_eq!(f64::min_vjp_1(&x, &x, &x, &g), 1.5);
    assert_eq!(f64::min_jvp(&x, &x, &x, &1.0, &-3.0), -1.0);
}

#[test]
fn max_and_min_follow_the_nan_the_primal_ignores() {
    let nan = f64::NAN;
    // 2.0.max(NaN) == 2.0: all of g goes to the number.
    assert_eq!(f64::max_vjp_0(&2.0, &nan, &2.0, &1.0), 1.0);
    assert_eq!(f64::max_vjp_1(&2.0, &nan, &2.0, &1.0), 0.0);
    assert_eq!(f64::min_vjp_0(&nan, &2.0, &2.0, &1.0), 0.0);
    assert_eq!(f64::min_vjp_1(&nan, &2.0, &2.0, &1.0), 1.0);
}

#[test]
fn clamp_at_a_bound_splits_evenly() {
    let g = 2.0_f64;
    let vjps = |x: f64, lo: f64, hi: f64| {
        let y = x.clamp(lo, hi);
        (
            f64::clamp_vjp_0(&x, &lo, &hi, &y, &g),
            f64::clamp_vjp_1(&x, &lo, &hi, &y, &g),
            f64::clamp_vjp_2(&x, &lo, &hi, &y, &g),
        )
    };
    assert_eq!(vjps(-1.0, -1.0, 2.0), (1.0, 1.0, 0.0)); // x at lo
    assert_eq!(vjps(2.0, -1.0, 2.0), (1.0, 0.0, 1.0)); // x at hi
    assert_eq!(vjps(-3.0, 0.5, 0.5), (0.0, 1.0, 1.0)); // lo == hi, x below: a min tie
    let third = vjps(0.5, 0.5, 0.5); // all three equal
    assert_close(third.0, g / 3.0, 1e-15);
    assert_eq!(third.0, third.1);
    assert_eq!(third.1, third.2);
    // jvp at lo: the mean of dx and dlo.
    assert_eq!(
        f64::clamp_jvp(&-1.0, &-1.0, &2.0, &-1.0, &1.0, &3.0, &5.0),
        2.0
    );
}

#[test]
fn powi_zero_exponent_is_constant() {
    for x in [0.0_f64, -0.0, 2.0] {
        assert_eq!(f64::powi_vjp(&x, &0, &1.0, &1.0), 0.0);
        assert_eq!(f64::powi_jvp(&x, &0, &1.0, &1.0), 0.0);
    }
    assert_eq!(f32::powi_vjp(&0.0, &0, &1.0, &1.0), 0.0);
    // Other small exponents at 0 follow the formula n·xⁿ⁻¹.
    assert_eq!(f64::powi_vjp(&0.0, &1, &0.0, &1.0), 1.0);
    assert_eq!(f64::powi_vjp(&0.0, &2, &0.0, &1.0), 0.0);
    assert_eq!(
        f64::powi_vjp(&0.0, &-1, &f64::INFINITY, &1.0),
        f64::NEG_INFINITY
    );
}

#[test]
fn powi_most_negative_exponent_does_not_overflow() {
    // d/dx x^n at x = 1 is n, also for n = i32::MIN where n − 1 overflows.
    let n = i32::MIN;
    assert_eq!(f64::powi_vjp(&1.0, &n, &1.0, &1.0), f64::from(n));
}

#[test]
fn powf_at_zero() {
    let y = |p: f64| 0.0_f64.powf(p);
    // Exponent: y·ln x is 0, not 0·(−∞) = NaN, wherever y == 0.
    for p in [0.5, 1.0, 2.5] {
        assert_eq!(f64::powf_vjp_1(&0.0, &p, &y(p), &1.0), 0.0);
    }
    // Base: p·xᵖ⁻¹ as computed.
    assert_eq!(f64::powf_vjp_0(&0.0, &2.5, &0.0, &1.0), 0.0);
    assert_eq!(f64::powf_vjp_0(&0.0, &1.0, &0.0, &1.0), 1.0);
    assert_eq!(f64::powf_vjp_0(&0.0, &0.5, &0.0, &1.0), f64::INFINITY);
    // p = 0: x⁰ = 1 is constant, also at 0 (where the formula gives 0·∞).
    assert_eq!(f64::powf_vjp_0(&0.0, &0.0, &1.0, &1.0), 0.0);
    // At p = 0 the exponent derivative is y·ln x = 1·ln 0 = −∞, as the math says.
    assert_eq!(f64::powf_vjp_1(&0.0, &0.0, &1.0, &1.0), f64::NEG_INFINITY);
    assert_eq!(f64::powf_jvp(&0.0, &2.5, &0.0, &1.0, &1.0), 0.0);
}

#[test]
fn powf_tangents_at_zero() {
    // At x = 0 with p > 1, H = [[p(p − 1)·0ᵖ⁻², 0], [0, 0]]: fxp = xᵖ⁻¹(1 + p ln x) and
    // fpp = xᵖ ln² x tend to 0, and the tangents of both reverse rules are those limits, not
    // the 0·ln 0 = NaN of the formulas (the tangent of y = xᵖ there is 0 along any direction).
    for (p, fxx) in [(2.0, 2.0), (3.0, 0.0), (2.5, 0.0)] {
        let (x, y, g) = (0.0, 0.0, 1.0);
        // d(∂x) = fxx·dx + fxp·dp, for (dx, dp) = (1, 0) and (0, 1).
        assert_eq!(f64::powf_vjp_0_jvp(&x, &p, &y, &g, &1.0, &0.0, &0.0), fxx);
        assert_eq!(f64::powf_vjp_0_jvp(&x, &p, &y, &g, &0.0, &1.0, &0.0), 0.0);
        // d(∂p) = fpx·dx + fpp·dp, dy = 0.
        assert_eq!(
            f64::powf_vjp_1_jvp(&x, &p, &y, &g, &1.0, &0.0, &0.0, &0.0),
            0.0
        );
        assert_eq!(
            f64::powf_vjp_1_jvp(&x, &p, &y, &g, &0.0, &1.0, &0.0, &0.0),
            0.0
        );
        assert_eq!(
            f32::powf_vjp_1_jvp(&0.0, &(p as f32), &0.0, &1.0, &1.0, &1.0, &0.0, &0.0),
            0.0
        );
    }
    // At p = 1 the mixed derivative 1 + ln x is −∞ (one-sided): kept infinite, through the
    // non-zero tangent dy = dx of y = x.
    assert_eq!(
        f64::powf_vjp_1_jvp(&0.0, &1.0, &0.0, &1.0, &1.0, &0.0, &1.0, &0.0),
        f64::NEG_INFINITY
    );
}

#[test]
fn powf_exponent_derivative_is_nan_below_zero() {
    // (−2)³ = −8 is finite, but x^p has no derivative in p at x < 0.
    let y = (-2.0_f64).powf(3.0);
    assert_eq!(y, -8.0);
    assert!(f64::powf_vjp_1(&-2.0, &3.0, &y, &1.0).is_nan());
    // The base derivative is still p·xᵖ⁻¹ = 12.
    assert_eq!(f64::powf_vjp_0(&-2.0, &3.0, &y, &1.0), 12.0);
}

#[test]
fn infinite_derivatives() {
    // sqrt, cbrt at 0; asin at 1; acosh at 1; atanh at 1: the true derivative is +∞.
    let inf = f64::INFINITY;
    assert_eq!(f64::sqrt_vjp(&0.0, &0.0, &1.0), inf);
    assert_eq!(f64::cbrt_vjp(&0.0, &0.0, &1.0), inf);
    assert_eq!(f64::asin_vjp(&1.0, &1f64.asin(), &1.0), inf);
    assert_eq!(f64::acos_vjp(&1.0, &0.0, &1.0), -inf);
    assert_eq!(f64::acosh_vjp(&1.0, &0.0, &1.0), inf);
    assert_eq!(f64::atanh_vjp(&1.0, &inf, &1.0), inf);
    // Outside the domain, NaN like the primal.
    assert!(f64::asin_vjp(&1.5, &1.5f64.asin(), &1.0).is_nan());
    assert!(f64::acosh_vjp(&0.5, &0.5f64.acosh(), &1.0).is_nan());
}

#[test]
fn hypot_at_origin_is_zero() {
    assert_eq!(f64::hypot_vjp_0(&0.0, &0.0, &0.0, &1.0), 0.0);
    assert_eq!(f64::hypot_vjp_1(&0.0, &0.0, &0.0, &1.0), 0.0);
    assert_eq!(f64::hypot_jvp(&0.0, &0.0, &0.0, &1.0, &1.0), 0.0);
}

#[test]
fn atan2_at_origin_is_zero() {
    assert_eq!(f64::atan2_vjp_0(&0.0, &0.0, &0.0, &1.0), 0.0);
    assert_eq!(f64::atan2_vjp_1(&0.0, &0.0, &0.0, &1.0), 0.0);
    assert_eq!(f64::atan2_jvp(&0.0, &0.0, &0.0, &1.0, &1.0), 0.0);
}

#[test]
fn jumps_are_ignored() {
    // At the jumps themselves the rules still return 0.
    assert_eq!(f64::signum_vjp(&0.0, &1.0, &1.0), 0.0);
    assert_eq!(f64::floor_vjp(&1.0, &1.0, &1.0), 0.0);
    assert_eq!(f64::ceil_vjp(&1.0, &1.0, &1.0), 0.0);
    assert_eq!(f64::round_vjp(&0.5, &1.0, &1.0), 0.0);
    assert_eq!(f64::trunc_vjp(&-1.0, &-1.0, &1.0), 0.0);
    assert_eq!(f64::fract_vjp(&2.0, &0.0, &1.0), 1.0);
    // x.rem_euclid(m) at a jump (x a multiple of m): ∂/∂x = 1, ∂/∂m = −x.div_euclid(m).
    let (x, m) = (4.0_f64, 2.0);
    let y = x.rem_euclid(m);
    assert_eq!(y, 0.0);
    assert_eq!(f64::rem_euclid_vjp_0(&x, &m, &y, &1.0), 1.0);
    assert_eq!(f64::rem_euclid_vjp_1(&x, &m, &y, &1.0), -2.0);
    // x.copysign(s) where s changes sign: ∂/∂s = 0, the jump ignored.
    assert_eq!(f64::copysign_vjp_1(&1.5, &0.0, &1.5, &1.0), 0.0);
    assert_eq!(f64::copysign_vjp_1(&1.5, &-0.0, &-1.5, &1.0), 0.0);
}

#[test]
fn copysign_at_zero_and_signed_zeros() {
    // At x = ±0, |x|·sign s has a kink: 0, as for abs.
    for x in [0.0_f64, -0.0] {
        assert_eq!(f64::copysign_vjp_0(&x, &1.0, &0.0, &1.0), 0.0);
        assert_eq!(f64::copysign_jvp(&x, &-1.0, &-0.0, &1.0, &1.0), 0.0);
    }
    // The sign *bit* of s counts: s = −0.0 makes y = −|x|, so ∂/∂x = −1 for x > 0.
    let (x, s) = (2.0_f64, -0.0);
    let y = x.copysign(s);
    assert_eq!(y, -2.0);
    let d = f64::copysign_vjp_0(&x, &s, &y, &1.0);
    assert_eq!(d, -1.0);
    gradcheck(|x: &f64| x.copysign(s), &x, &d).assert_ok();
    assert_eq!(f32::copysign_vjp_0(&-3.0, &2.0, &3.0, &1.0), -1.0);
}

#[test]
fn nan_inputs_propagate() {
    // Outside the selecting rules a NaN input gives a NaN derivative, as the formula does.
    let nan = f64::NAN;
    assert!(f64::abs_vjp(&nan, &nan, &1.0).is_nan());
    assert!(f64::copysign_vjp_0(&nan, &1.0, &nan, &1.0).is_nan());
    assert!(f64::sin_vjp(&nan, &nan, &1.0).is_nan());
    assert!(f32::abs_jvp(&f32::NAN, &f32::NAN, &1.0).is_nan());
}

#[test]
fn gradcheck_with_a_tighter_tolerance_still_passes_smooth_rules() {
    // The rules are exact up to rounding, so a tighter-than-default check passes too.
    let tight = Tolerance {
        step: 1e-5,
        rtol: 1e-8,
        atol: 1e-10,
    };
    let x = 0.7_f64;
    let d = f64::tanh_vjp(&x, &x.tanh(), &1.0);
    assert!(gradcheck_with(|x: &f64| x.tanh(), &x, &d, tight).passed());
}
