//! Every float-method rule of `f64` against an independent formula of its derivative (stated in
//! each test), against central finite differences of the primal, and jvp against vjp; the rules
//! of `f32` and the conventions at kinks, jumps and domain edges are in [`edges`].

use crate::check::{assert_close, gradcheck};
use crate::rules::FloatRules;
use crate::rules::testing::*;

mod edges;

// ---- exponentials and logarithms ---------------------------------------------------------

#[test]
fn exp() {
    // d/dx eˣ = eˣ
    unary(
        f64::exp,
        f64::exp_vjp,
        f64::exp_jvp,
        f64::exp,
        &[-1.3, 0.4, 2.1],
    );
}

#[test]
fn exp2() {
    // d/dx 2ˣ = 2ˣ·ln 2
    let f = |x: f64| 2f64.powf(x) * 2f64.ln();
    unary(
        f64::exp2,
        f64::exp2_vjp,
        f64::exp2_jvp,
        f,
        &[-1.3, 0.4, 2.1],
    );
}

#[test]
fn exp_m1() {
    // d/dx (eˣ − 1) = eˣ
    unary(
        f64::exp_m1,
        f64::exp_m1_vjp,
        f64::exp_m1_jvp,
        f64::exp,
        &[-0.7, 1e-3, 1.2],
    );
}

#[test]
fn ln() {
    // d/dx ln x = 1/x
    unary(
        f64::ln,
        f64::ln_vjp,
        f64::ln_jvp,
        |x| 1.0 / x,
        &[0.3, 1.7, 12.0],
    );
}

#[test]
fn log2() {
    // d/dx log₂ x = 1/(x ln 2)
    let f = |x: f64| 1.0 / (x * 2f64.ln());
    unary(
        f64::log2,
        f64::log2_vjp,
        f64::log2_jvp,
        f,
        &[0.3, 1.7, 12.0],
    );
}

#[test]
fn log10() {
    // d/dx log₁₀ x = 1/(x ln 10)
    let f = |x: f64| 1.0 / (x * 10f64.ln());
    unary(
        f64::log10,
        f64::log10_vjp,
        f64::log10_jvp,
        f,
        &[0.3, 1.7, 12.0],
    );
}

#[test]
fn ln_1p() {
    // d/dx ln(1 + x) = 1/(1 + x)
    let f = |x: f64| 1.0 / (1.0 + x);
    unary(
        f64::ln_1p,
        f64::ln_1p_vjp,
        f64::ln_1p_jvp,
        f,
        &[-0.5, 0.2, 3.0],
    );
}

// ---- powers and roots --------------------------------------------------------------------

#[test]
fn sqrt() {
    // d/dx √x = 1/(2√x) = x^(−1/2)/2
    let f = |x: f64| 0.5 * x.powf(-0.5);
    unary(
        f64::sqrt,
        f64::sqrt_vjp,
        f64::sqrt_jvp,
        f,
        &[0.25, 2.0, 9.0],
    );
}

#[test]
fn cbrt() {
    // d/dx ∛x = |x|^(−2/3)/3 (even in x)
    let f = |x: f64| x.abs().powf(-2.0 / 3.0) / 3.0;
    unary(
        f64::cbrt,
        f64::cbrt_vjp,
        f64::cbrt_jvp,
        f,
        &[-8.0, 0.5, 3.0],
    );
}

#[test]
fn recip() {
    // d/dx 1/x = −1/x²
    let f = |x: f64| -1.0 / (x * x);
    unary(
        f64::recip,
        f64::recip_vjp,
        f64::recip_jvp,
        f,
        &[-2.0, 0.5, 3.0],
    );
}

#[test]
fn powi() {
    // d/dx xⁿ = n·xⁿ⁻¹
    for n in [-3, -1, 1, 2, 3, 5] {
        for x in [-1.5_f64, 0.7, 2.0] {
            let y = x.powi(n);
            let d = f64::powi_vjp(&x, &n, &y, &1.0);
            assert_close(d, f64::from(n) * x.powf(f64::from(n - 1)), FORMULA);
            gradcheck(|x: &f64| x.powi(n), &x, &d).assert_ok();
            assert_eq!(f64::powi_jvp(&x, &n, &y, &1.0), d);
            assert_eq!(f64::powi_jvp(&x, &n, &y, &G), f64::powi_vjp(&x, &n, &y, &G));
            assert_close(f64::powi_vjp(&x, &n, &y, &G), G * d, FORMULA);
        }
    }
}

#[test]
fn powf() {
    // ∂/∂x xᵖ = p·xᵖ⁻¹, ∂/∂p xᵖ = xᵖ·ln x
    let rules = rules2(f64::powf_vjp_0, f64::powf_vjp_1, f64::powf_jvp);
    let f = |x: f64, p: f64| (p * x.powf(p - 1.0), x.powf(p) * x.ln());
    binary(f64::powf, rules, f, &[(0.5, 1.5), (2.0, -0.7), (3.0, 2.2)]);
}

#[test]
fn log() {
    // x.log(b) = ln x / ln b: ∂/∂x = 1/(x ln b), ∂/∂b = −ln x/(b ln² b)
    let rules = rules2(f64::log_vjp_0, f64::log_vjp_1, f64::log_jvp);
    let f = |x: f64, b: f64| (1.0 / (x * b.ln()), -x.ln() / (b * b.ln() * b.ln()));
    binary(f64::log, rules, f, &[(0.5, 2.0), (3.0, 10.0), (3.0, 0.5)]);
}

// ---- trigonometric and hyperbolic --------------------------------------------------------

#[test]
fn sin() {
    // d/dx sin x = cos x
    unary(
        f64::sin,
        f64::sin_vjp,
        f64::sin_jvp,
        f64::cos,
        &[-1.1, 0.3, 1.2],
    );
}

#[test]
fn cos() {
    // d/dx cos x = −sin x
    unary(
        f64::cos,
        f64::cos_vjp,
        f64::cos_jvp,
        |x| -x.sin(),
        &[-1.1, 0.3, 1.2],
    );
}

#[test]
fn tan() {
    // d/dx tan x = 1/cos² x
    let f = |x: f64| 1.0 / (x.cos() * x.cos());
    unary(f64::tan, f64::tan_vjp, f64::tan_jvp, f, &[-1.1, 0.3, 1.2]);
}

#[test]
fn asin() {
    // d/dx asin x = 1/√(1 − x²)
    let f = |x: f64| 1.0 / (1.0 - x * x).sqrt();
    unary(
        f64::asin,
        f64::asin_vjp,
        f64::asin_jvp,
        f,
        &[-0.6, 0.1, 0.9],
    );
}

#[test]
fn acos() {
    // d/dx acos x = −1/√(1 − x²)
    let f = |x: f64| -1.0 / (1.0 - x * x).sqrt();
    unary(
        f64::acos,
        f64::acos_vjp,
        f64::acos_jvp,
        f,
        &[-0.6, 0.1, 0.9],
    );
}

#[test]
fn atan() {
    // d/dx atan x = 1/(1 + x²)
    let f = |x: f64| 1.0 / (1.0 + x * x);
    unary(
        f64::atan,
        f64::atan_vjp,
        f64::atan_jvp,
        f,
        &[-2.0, 0.5, 3.0],
    );
}

#[test]
fn atan2() {
    // x.atan2(a) = angle of (a, x): ∂/∂x = a/(x² + a²), ∂/∂a = −x/(x² + a²)
    let rules = rules2(f64::atan2_vjp_0, f64::atan2_vjp_1, f64::atan2_jvp);
    let f = |x: f64, a: f64| (a / (x * x + a * a), -x / (x * x + a * a));
    binary(
        f64::atan2,
        rules,
        f,
        &[(0.3, 1.2), (-1.0, -0.5), (2.0, -3.0)],
    );
}

#[test]
fn atan2_does_not_underflow() {
    // At (1e-200, 1e-200), x² + a² underflows to 0; the derivative is a/(x² + a²) = 0.5e200.
    let (x, a) = (1e-200_f64, 1e-200);
    let y = x.atan2(a);
    assert_close(f64::atan2_vjp_0(&x, &a, &y, &1.0), 0.5e200, FORMULA);
    assert_close(f64::atan2_vjp_1(&x, &a, &y, &1.0), -0.5e200, FORMULA);
}

#[test]
fn sinh() {
    // d/dx sinh x = cosh x
    unary(
        f64::sinh,
        f64::sinh_vjp,
        f64::sinh_jvp,
        f64::cosh,
        &[-1.5, 0.2, 2.0],
    );
}

#[test]
fn cosh() {
    // d/dx cosh x = sinh x
    unary(
        f64::cosh,
        f64::cosh_vjp,
        f64::cosh_jvp,
        f64::sinh,
        &[-1.5, 0.2, 2.0],
    );
}

#[test]
fn tanh() {
    // d/dx tanh x = 1/cosh² x
    let f = |x: f64| 1.0 / (x.cosh() * x.cosh());
    unary(
        f64::tanh,
        f64::tanh_vjp,
        f64::tanh_jvp,
        f,
        &[-1.5, 0.2, 2.0],
    );
}

#[test]
fn asinh() {
    // d/dx asinh x = 1/√(x² + 1)
    let f = |x: f64| 1.0 / (x * x + 1.0).sqrt();
    unary(
        f64::asinh,
        f64::asinh_vjp,
        f64::asinh_jvp,
        f,
        &[-3.0, 0.4, 10.0],
    );
}

#[test]
fn acosh() {
    // d/dx acosh x = 1/√(x² − 1)
    let f = |x: f64| 1.0 / (x * x - 1.0).sqrt();
    unary(
        f64::acosh,
        f64::acosh_vjp,
        f64::acosh_jvp,
        f,
        &[1.2, 2.5, 10.0],
    );
}

#[test]
fn atanh() {
    // d/dx atanh x = 1/(1 − x²)
    let f = |x: f64| 1.0 / (1.0 - x * x);
    unary(
        f64::atanh,
        f64::atanh_vjp,
        f64::atanh_jvp,
        f,
        &[-0.7, 0.1, 0.9],
    );
}

#[test]
fn hypot() {
    // √(x² + a²): ∂/∂x = x/√(x² + a²), ∂/∂a = a/√(x² + a²)
    let rules = rules2(f64::hypot_vjp_0, f64::hypot_vjp_1, f64::hypot_jvp);
    let f = |x: f64, a: f64| (x / (x * x + a * a).sqrt(), a / (x * x + a * a).sqrt());
    binary(
        f64::hypot,
        rules,
        f,
        &[(3.0, 4.0), (-1.0, 0.5), (0.2, -2.0)],
    );
}

// ---- piecewise functions away from their kinks and jumps ---------------------------------

#[test]
fn abs() {
    // d/dx |x| = x/|x| for x ≠ 0
    unary(
        f64::abs,
        f64::abs_vjp,
        f64::abs_jvp,
        |x| x / x.abs(),
        &[-1.5, 2.0],
    );
}

#[test]
fn piecewise_constant() {
    // signum, floor, ceil, round, trunc: derivative 0 between jumps
    let at = &[-1.3, 0.4, 2.7];
    unary(f64::signum, f64::signum_vjp, f64::signum_jvp, |_| 0.0, at);
    unary(f64::floor, f64::floor_vjp, f64::floor_jvp, |_| 0.0, at);
    unary(f64::ceil, f64::ceil_vjp, f64::ceil_jvp, |_| 0.0, at);
    unary(f64::round, f64::round_vjp, f64::round_jvp, |_| 0.0, at);
    unary(f64::trunc, f64::trunc_vjp, f64::trunc_jvp, |_| 0.0, at);
}

#[test]
fn fract() {
    // d/dx (x − trunc x) = 1 between jumps
    unary(
        f64::fract,
        f64::fract_vjp,
        f64::fract_jvp,
        |_| 1.0,
        &[-1.3, 0.4, 2.7],
    );
}

#[test]
fn degrees_and_radians() {
    // d/dx (180/π)x = 180/π, d/dx (π/180)x = π/180
    use core::f64::consts::PI;
    let at = &[-2.0, 0.5, 30.0];
    let (deg, rad) = (f64::to_degrees_vjp, f64::to_radians_vjp);
    unary(
        f64::to_degrees,
        deg,
        f64::to_degrees_jvp,
        |_| 180.0 / PI,
        at,
    );
    unary(
        f64::to_radians,
        rad,
        f64::to_radians_jvp,
        |_| PI / 180.0,
        at,
    );
}

#[test]
fn max_and_min() {
    // ∂ max(x, a) = (1, 0) when x > a, (0, 1) when x < a; min the other way round
    let max = rules2(f64::max_vjp_0, f64::max_vjp_1, f64::max_jvp);
    let min = rules2(f64::min_vjp_0, f64::min_vjp_1, f64::min_jvp);
    let at = &[(1.0, 2.0), (3.0, -1.0)];
    binary(
        f64::max,
        max,
        |x, a| if x > a { (1.0, 0.0) } else { (0.0, 1.0) },
        at,
    );
    binary(
        f64::min,
        min,
        |x, a| if x < a { (1.0, 0.0) } else { (0.0, 1.0) },
        at,
    );
}

#[test]
fn mul_add() {
    // ∂(x·a + b) = (a, x, 1)
    let rules = rules3(
        f64::mul_add_vjp_0,
        f64::mul_add_vjp_1,
        f64::mul_add_vjp_2,
        f64::mul_add_jvp,
    );
    let at = &[(1.5, -2.0, 0.3), (-0.4, 0.9, 5.0)];
    ternary(f64::mul_add, rules, |x, a, _| (a, x, 1.0), at);
}

#[test]
fn clamp() {
    // ∂ clamp(x, lo, hi) = (1, 0, 0) inside, (0, 1, 0) below, (0, 0, 1) above
    let rules = rules3(
        f64::clamp_vjp_0,
        f64::clamp_vjp_1,
        f64::clamp_vjp_2,
        f64::clamp_jvp,
    );
    let f = |x: f64, lo: f64, hi: f64| {
        if x < lo {
            (0.0, 1.0, 0.0)
        } else if x > hi {
            (0.0, 0.0, 1.0)
        } else {
            (1.0, 0.0, 0.0)
        }
    };
    let at = &[(0.5, -1.0, 2.0), (-3.0, -1.0, 2.0), (5.0, -1.0, 2.0)];
    ternary(f64::clamp, rules, f, at);
}

// ---- sign, Euclidean remainder, a tuple result --------------------------------------------------

#[test]
fn copysign() {
    // |x| with the sign of s: ∂/∂x = sign x · sign s, ∂/∂s = 0 (away from x = 0 and s = 0)
    let rules = rules2(f64::copysign_vjp_0, f64::copysign_vjp_1, f64::copysign_jvp);
    let f = |x: f64, s: f64| (x.signum() * s.signum(), 0.0);
    let at = &[(1.5, 2.0), (1.5, -0.5), (-0.7, 3.0), (-2.0, -1.0)];
    binary(f64::copysign, rules, f, at);
}

#[test]
fn div_euclid() {
    // the quotient q of x = m·q + x.rem_euclid(m) is piecewise constant: ∂/∂x = ∂/∂m = 0
    let rules = rules2(
        f64::div_euclid_vjp_0,
        f64::div_euclid_vjp_1,
        f64::div_euclid_jvp,
    );
    let f = |_: f64, _: f64| (0.0, 0.0);
    let at = &[(5.3, 2.0), (-1.3, 0.4), (7.5, -2.0), (-3.7, -1.5)];
    binary(f64::div_euclid, rules, f, at);
}

#[test]
fn rem_euclid() {
    // x − m·q with q = sign m · ⌊x/|m|⌋: ∂/∂x = 1, ∂/∂m = −q (away from the jumps)
    let rules = rules2(
        f64::rem_euclid_vjp_0,
        f64::rem_euclid_vjp_1,
        f64::rem_euclid_jvp,
    );
    let f = |x: f64, m: f64| (1.0, -(m.signum() * (x / m.abs()).floor()));
    let at = &[
        (5.3, 2.0),
        (-1.3, 0.4),
        (7.5, -2.0),
        (-3.7, -1.5),
        (0.25, 3.0),
    ];
    binary(f64::rem_euclid, rules, f, at);
}

#[test]
fn sin_cos() {
    // (sin x, cos x): x̄ = ḡ.0·cos x − ḡ.1·sin x; tangent (cos x·dx, −sin x·dx)
    for x in [-2.0_f64, 0.3, 1.7] {
        let y = x.sin_cos();
        for g in [(1.0, 0.0), (0.0, 1.0), (G, 0.4)] {
            let d = f64::sin_cos_vjp(&x, &y, &g);
            assert_close(d, g.0 * x.cos() - g.1 * x.sin(), FORMULA);
            // The gradient of x ↦ ⟨(sin x, cos x), g⟩.
            let inner = |x: &f64| {
                let (s, c) = x.sin_cos();
                g.0 * s + g.1 * c
            };
            gradcheck(inner, &x, &d).assert_ok();
        }
        let t = f64::sin_cos_jvp(&x, &y, &G);
        assert_close(t.0, G * x.cos(), FORMULA);
        assert_close(t.1, -G * x.sin(), FORMULA);
        // Transposes of each other: the tangent for dx = 1 is the cotangent of each component.
        let t = f64::sin_cos_jvp(&x, &y, &1.0);
        assert_eq!(t.0, f64::sin_cos_vjp(&x, &y, &(1.0, 0.0)));
        assert_eq!(t.1, f64::sin_cos_vjp(&x, &y, &(0.0, 1.0)));
    }
}
