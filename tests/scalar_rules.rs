//! Every float method `#[differentiate]` supports, and every scalar construct of straight-line
//! code, checked through the macro against the analytic derivative (stated next to each case) and
//! against central finite differences (`autodiff::check`).
//!
//! Tolerances:
//! - f64 analytic: `TOL = 1e-12`, absolute up to 1 and relative above (`assert_close`'s rule).
//! - f32 analytic: the f32 gradient is compared with the exact derivative evaluated in f64 at the
//!   same (f32) point. A rule is a few f32 operations, each rounding by at most ε/2, and the
//!   points are chosen where the derivative's formula is well-conditioned (condition ≤ ~10), so
//!   `F32_TOL = 64·ε_f32 ≈ 7.6e-6` bounds the error with margin.
//! - finite differences: `autodiff::check`'s defaults for the scalar type (f64: step 1e-6,
//!   rtol 1e-6, atol 1e-8; f32: step 1e-2, rtol 1e-2, atol 1e-3). Points stay farther than the
//!   step from every kink and domain boundary, except where a case says otherwise.

// The functions below deliberately use forms the macro must accept and clippy would rewrite:
// `x as f64` on an f64, `2 as f64`, `a = a + x`, `let b; b = ..`, `x / x`, `x - x`,
// `n.min(3).max(-3)` on integers, a `let` returned at once.
#![allow(
    clippy::unnecessary_cast,
    clippy::let_and_return,
    clippy::assign_op_pattern,
    clippy::needless_late_init,
    clippy::eq_op,
    clippy::manual_clamp
)]

use autodiff::check::{Tolerance, gradcheck, gradcheck_with};
use autodiff::differentiate;

mod common;
use common::*;

const F32_TOL: f64 = 64.0 * f32::EPSILON as f64;

type F64Fn = fn(f64) -> f64;
type F64Grad = fn(f64) -> (f64, f64);
type F32Fn = fn(f32) -> f32;
type F32Grad = fn(f32) -> (f32, f32);

/// Checks the f64 variants (method and path syntax) and the f32 variants of a unary rule at
/// every point: the value equals the original function's, the gradient equals `df`, and finite
/// differences agree.
#[track_caller]
fn check_unary(
    name: &str,
    f64s: [(&str, F64Fn, F64Grad); 2],
    f32s: [(&str, F32Fn, F32Grad); 2],
    df: F64Fn,
    xs: &[f64],
) {
    for &x in xs {
        for (syntax, f, f_grad) in f64s {
            let what = format!("{name} ({syntax}, f64) at {x}");
            let (y, d) = f_grad(x);
            assert_eq!(y.to_bits(), f(x).to_bits(), "{what}: value");
            close(&what, d, df(x), TOL);
            fd(&what, f, x, d);
        }
        let x32 = x as f32;
        for (syntax, f, f_grad) in f32s {
            let what = format!("{name} ({syntax}, f32) at {x32}");
            let (y, d) = f_grad(x32);
            assert_eq!(y.to_bits(), f(x32).to_bits(), "{what}: value");
            close(&what, d as f64, df(x32 as f64), F32_TOL);
            fd32(&what, f, x32, d);
        }
    }
}

/// One module per unary method: the method as `x.m()` and as `f64::m(x)`, in f64 and f32, with
/// the analytic derivative and a test at the given points.
macro_rules! unary_rule {
    ($m:ident, |$x:ident| $derivative:expr, [$($p:expr),* $(,)?]) => {
        mod $m {
            use super::*;

            #[differentiate]
            pub fn method(x: f64) -> f64 {
                x.$m()
            }

            #[differentiate]
            pub fn path(x: f64) -> f64 {
                f64::$m(x)
            }

            #[differentiate]
            pub fn method32(x: f32) -> f32 {
                x.$m()
            }

            #[differentiate]
            pub fn path32(x: f32) -> f32 {
                f32::$m(x)
            }

            /// The analytic derivative.
            fn derivative($x: f64) -> f64 {
                $derivative
            }

            #[test]
            fn rule() {
                check_unary(
                    stringify!($m),
                    [("method", method, method_grad), ("path", path, path_grad)],
                    [("method", method32, method32_grad), ("path", path32, path32_grad)],
                    derivative,
                    &[$($p),*],
                );
            }
        }
    };
}

// d/dx eˣ = eˣ
unary_rule!(exp, |x| x.exp(), [-2.0, 0.0, 0.7, 3.0]);
// d/dx 2ˣ = 2ˣ·ln 2
unary_rule!(
    exp2,
    |x| x.exp2() * std::f64::consts::LN_2,
    [-2.0, 0.0, 0.7, 3.0]
);
// d/dx (eˣ − 1) = eˣ
unary_rule!(exp_m1, |x| x.exp(), [-1.0, -1e-3, 0.0, 1e-3, 2.0]);
// d/dx ln x = 1/x
unary_rule!(ln, |x| 1.0 / x, [0.1, 1.0, 2.5, 100.0]);
// d/dx log₂ x = 1/(x·ln 2)
unary_rule!(
    log2,
    |x| 1.0 / (x * std::f64::consts::LN_2),
    [0.1, 1.0, 2.5, 100.0]
);
// d/dx log₁₀ x = 1/(x·ln 10)
unary_rule!(
    log10,
    |x| 1.0 / (x * std::f64::consts::LN_10),
    [0.1, 1.0, 2.5, 100.0]
);
// d/dx ln(1 + x) = 1/(1 + x)
unary_rule!(ln_1p, |x| 1.0 / (1.0 + x), [-0.5, 0.0, 1e-3, 3.0]);
// d/dx √x = 1/(2√x)
unary_rule!(sqrt, |x| 0.5 / x.sqrt(), [0.04, 1.0, 2.0, 100.0]);
// d/dx ∛x = 1/(3·∛x²)
unary_rule!(
    cbrt,
    |x| 1.0 / (3.0 * x.cbrt() * x.cbrt()),
    [-8.0, -0.5, 0.3, 27.0]
);
// d/dx 1/x = −1/x²
unary_rule!(recip, |x| -1.0 / (x * x), [-2.0, 0.5, 3.0]);
// d/dx sin x = cos x
unary_rule!(sin, |x| x.cos(), [-2.0, 0.0, 0.7, 3.0]);
// d/dx cos x = −sin x
unary_rule!(cos, |x| -x.sin(), [-2.0, 0.0, 0.7, 3.0]);
// d/dx tan x = 1/cos² x
unary_rule!(tan, |x| 1.0 / (x.cos() * x.cos()), [-1.0, 0.0, 0.7, 1.2]);
// d/dx asin x = 1/√(1 − x²)
unary_rule!(asin, |x| 1.0 / (1.0 - x * x).sqrt(), [-0.9, 0.0, 0.3, 0.8]);
// d/dx acos x = −1/√(1 − x²)
unary_rule!(acos, |x| -1.0 / (1.0 - x * x).sqrt(), [-0.9, 0.0, 0.3, 0.8]);
// d/dx atan x = 1/(1 + x²)
unary_rule!(atan, |x| 1.0 / (1.0 + x * x), [-5.0, 0.0, 0.7, 3.0]);
// d/dx sinh x = cosh x
unary_rule!(sinh, |x| x.cosh(), [-2.0, 0.0, 0.7, 3.0]);
// d/dx cosh x = sinh x
unary_rule!(cosh, |x| x.sinh(), [-2.0, 0.0, 0.7, 3.0]);
// d/dx tanh x = 1 − tanh² x = 1/cosh² x
unary_rule!(tanh, |x| 1.0 / (x.cosh() * x.cosh()), [-2.0, 0.0, 0.7, 3.0]);
// d/dx asinh x = 1/√(x² + 1)
unary_rule!(
    asinh,
    |x| 1.0 / (x * x + 1.0).sqrt(),
    [-3.0, 0.0, 0.5, 10.0]
);
// d/dx acosh x = 1/√(x² − 1)
unary_rule!(acosh, |x| 1.0 / (x * x - 1.0).sqrt(), [1.1, 2.0, 10.0]);
// d/dx atanh x = 1/(1 − x²)
unary_rule!(atanh, |x| 1.0 / (1.0 - x * x), [-0.9, 0.0, 0.5]);
// d/dx |x| = sign x (x ≠ 0; the kink is tested below)
unary_rule!(abs, |x| x.signum(), [-2.0, -0.1, 0.1, 3.0]);
// d/dx signum x = 0 (piecewise constant)
unary_rule!(signum, |x| 0.0 * x, [-2.0, -0.1, 0.1, 3.0]);
// floor, ceil, round, trunc: piecewise constant, derivative 0 (points away from the jumps)
unary_rule!(floor, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
unary_rule!(ceil, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
unary_rule!(round, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
unary_rule!(trunc, |x| 0.0 * x, [-1.3, 0.4, 2.7]);
// d/dx fract x = d/dx (x − trunc x) = 1
unary_rule!(fract, |x| 1.0 + 0.0 * x, [-1.3, 0.4, 2.7]);
// d/dx (x·180/π) = 180/π
unary_rule!(
    to_degrees,
    |x| 180.0 / std::f64::consts::PI + 0.0 * x,
    [-1.3, 0.4, 2.7]
);
// d/dx (x·π/180) = π/180
unary_rule!(
    to_radians,
    |x| std::f64::consts::PI / 180.0 + 0.0 * x,
    [-100.0, 0.4, 270.0]
);

#[test]
fn abs_at_its_kink_is_zero() {
    // Convention (rules module, "Nonsmooth points"): the minimum-norm element of the Clarke
    // gradient [−1, 1] of |x| at 0 is 0. Central differences at 0 give (h − h)/2h = 0 too.
    for x in [0.0, -0.0] {
        assert_eq!(abs::method_grad(x).1, 0.0);
        assert_eq!(abs::path_grad(x).1, 0.0);
        assert_eq!(abs::method32_grad(x as f32).1, 0.0);
        fd("abs", abs::method, x, 0.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Rules with more than one operand. Helpers for two and three f64 operands.
// ---------------------------------------------------------------------------------------------

type Grad3 = (f64, f64, f64);
type F32Grad3Fn = fn(f32, f32, f32) -> (f32, (f32, f32, f32));

#[track_caller]
fn check_binary(
    what: &str,
    f: fn(f64, f64) -> f64,
    f_grad: fn(f64, f64) -> (f64, Grad2),
    df: fn(f64, f64) -> Grad2,
    points: &[Grad2],
) {
    for &(a, b) in points {
        let what = format!("{what} at ({a}, {b})");
        let (y, (da, db)) = f_grad(a, b);
        assert_eq!(y.to_bits(), f(a, b).to_bits(), "{what}: value");
        let (ea, eb) = df(a, b);
        close(&format!("{what}, ∂0"), da, ea, TOL);
        close(&format!("{what}, ∂1"), db, eb, TOL);
        let r = gradcheck(|p: &Grad2| f(p.0, p.1), &(a, b), &(da, db));
        assert!(r.passed(), "{what}: {r}");
    }
}

#[track_caller]
fn check_binary32(
    what: &str,
    f: fn(f32, f32) -> f32,
    f_grad: fn(f32, f32) -> (f32, (f32, f32)),
    df: fn(f64, f64) -> Grad2,
    points: &[Grad2],
) {
    for &(a, b) in points {
        let (a, b) = (a as f32, b as f32);
        let what = format!("{what} (f32) at ({a}, {b})");
        let (y, (da, db)) = f_grad(a, b);
        assert_eq!(y.to_bits(), f(a, b).to_bits(), "{what}: value");
        let (ea, eb) = df(a as f64, b as f64);
        close(&format!("{what}, ∂0"), da as f64, ea, F32_TOL);
        close(&format!("{what}, ∂1"), db as f64, eb, F32_TOL);
        let r = gradcheck(|p: &(f32, f32)| f(p.0, p.1), &(a, b), &(da, db));
        assert!(r.passed(), "{what}: {r}");
    }
}

#[track_caller]
fn check_ternary(
    what: &str,
    f: fn(f64, f64, f64) -> f64,
    f_grad: fn(f64, f64, f64) -> (f64, Grad3),
    df: fn(f64, f64, f64) -> Grad3,
    points: &[Grad3],
) {
    for &(a, b, c) in points {
        let what = format!("{what} at ({a}, {b}, {c})");
        let (y, (da, db, dc)) = f_grad(a, b, c);
        assert_eq!(y.to_bits(), f(a, b, c).to_bits(), "{what}: value");
        let (ea, eb, ec) = df(a, b, c);
        close(&format!("{what}, ∂0"), da, ea, TOL);
        close(&format!("{what}, ∂1"), db, eb, TOL);
        close(&format!("{what}, ∂2"), dc, ec, TOL);
        let r = gradcheck(|p: &Grad3| f(p.0, p.1, p.2), &(a, b, c), &(da, db, dc));
        assert!(r.passed(), "{what}: {r}");
    }
}

#[track_caller]
fn check_ternary32(
    what: &str,
    f: fn(f32, f32, f32) -> f32,
    f_grad: F32Grad3Fn,
    df: fn(f64, f64, f64) -> Grad3,
    points: &[Grad3],
) {
    for &(a, b, c) in points {
        let (a, b, c) = (a as f32, b as f32, c as f32);
        let what = format!("{what} (f32) at ({a}, {b}, {c})");
        let (y, (da, db, dc)) = f_grad(a, b, c);
        assert_eq!(y.to_bits(), f(a, b, c).to_bits(), "{what}: value");
        let (ea, eb, ec) = df(a as f64, b as f64, c as f64);
        close(&format!("{what}, ∂0"), da as f64, ea, F32_TOL);
        close(&format!("{what}, ∂1"), db as f64, eb, F32_TOL);
        close(&format!("{what}, ∂2"), dc as f64, ec, F32_TOL);
        let r = gradcheck(
            |p: &(f32, f32, f32)| f(p.0, p.1, p.2),
            &(a, b, c),
            &(da, db, dc),
        );
        assert!(r.passed(), "{what}: {r}");
    }
}

// --- log(x, b) ---

#[differentiate]
fn log_method(x: f64, b: f64) -> f64 {
    x.log(b)
}

#[differentiate]
fn log_path(x: f64, b: f64) -> f64 {
    f64::log(x, b)
}

#[differentiate]
fn log_method32(x: f32, b: f32) -> f32 {
    x.log(b)
}

#[differentiate]
fn log_base3(x: f64) -> f64 {
    x.log(3.0)
}

/// log_b x = ln x / ln b: ∂x = 1/(x·ln b), ∂b = −ln x/(b·ln² b).
fn log_gradient(x: f64, b: f64) -> Grad2 {
    let lb = b.ln();
    (1.0 / (x * lb), -x.ln() / (b * lb * lb))
}

#[test]
fn log_rule() {
    let points = [(2.0, 3.0), (0.5, 10.0), (7.0, 0.5), (1.0, 2.0)];
    check_binary(
        "log (method)",
        log_method,
        log_method_grad,
        log_gradient,
        &points,
    );
    check_binary("log (path)", log_path, log_path_grad, log_gradient, &points);
    check_binary32(
        "log",
        log_method32,
        log_method32_grad,
        log_gradient,
        &points,
    );
    for x in [0.3, 1.0, 9.0] {
        // d/dx log₃ x = 1/(x·ln 3)
        let d = log_base3_grad(x).1;
        close("log base 3", d, 1.0 / (x * 3f64.ln()), TOL);
        fd("log base 3", log_base3, x, d);
    }
}

// --- powi ---

#[differentiate]
fn powi_3(x: f64) -> f64 {
    x.powi(3)
}

#[differentiate]
fn powi_minus_2(x: f64) -> f64 {
    x.powi(-2)
}

#[differentiate]
fn powi_0(x: f64) -> f64 {
    x.powi(0)
}

#[differentiate]
fn powi_1(x: f64) -> f64 {
    x.powi(1)
}

#[differentiate]
fn powi_path(x: f64) -> f64 {
    f64::powi(x, 3)
}

#[differentiate]
fn powi_n(x: f64, n: i32) -> f64 {
    x.powi(n)
}

#[differentiate]
fn powi_3_f32(x: f32) -> f32 {
    x.powi(3)
}

#[test]
fn powi_rule() {
    for x in [-1.5, 0.5, 2.0] {
        // d/dx xⁿ = n·xⁿ⁻¹
        let d = powi_3_grad(x).1;
        close("powi 3", d, 3.0 * x * x, TOL);
        fd("powi 3", powi_3, x, d);
        let d = powi_path_grad(x).1;
        close("powi 3 (path)", d, 3.0 * x * x, TOL);
        fd("powi 3 (path)", powi_path, x, d);
        let d = powi_minus_2_grad(x).1;
        close("powi -2", d, -2.0 / (x * x * x), TOL);
        fd("powi -2", powi_minus_2, x, d);
        let d = powi_0_grad(x).1;
        assert_eq!(d, 0.0);
        fd("powi 0", powi_0, x, d);
        let d = powi_1_grad(x).1;
        assert_eq!(d, 1.0);
        fd("powi 1", powi_1, x, d);
        for n in [-3, 0, 1, 2, 5] {
            let (y, d) = powi_n_grad(x, n);
            assert_eq!(y, x.powi(n));
            close("powi n", d, n as f64 * x.powi(n - 1), TOL);
            fd("powi n", |x| powi_n(x, n), x, d);
        }
        let x32 = x as f32;
        let d = powi_3_f32_grad(x32).1;
        close("powi 3 f32", d as f64, 3.0 * (x32 as f64).powi(2), F32_TOL);
        fd32("powi 3 f32", powi_3_f32, x32, d);
    }
    // n = 0 at x = 0: the derivative of the constant 1 is 0 (the rules' removable singularity).
    assert_eq!(powi_0_grad(0.0), (1.0, 0.0));
    assert_eq!(powi_n_grad(0.0, 0), (1.0, 0.0));
}

// --- powf ---

#[differentiate]
fn powf_method(x: f64, p: f64) -> f64 {
    x.powf(p)
}

#[differentiate]
fn powf_path(x: f64, p: f64) -> f64 {
    f64::powf(x, p)
}

#[differentiate]
fn powf_method32(x: f32, p: f32) -> f32 {
    x.powf(p)
}

#[differentiate]
fn powf_const_exponent(x: f64) -> f64 {
    x.powf(2.5)
}

#[differentiate]
fn powf_const_base(x: f64) -> f64 {
    2.0f64.powf(x)
}

/// ∂/∂x xᵖ = p·xᵖ⁻¹, ∂/∂p xᵖ = xᵖ·ln x.
fn powf_gradient(x: f64, p: f64) -> Grad2 {
    (p * x.powf(p - 1.0), x.powf(p) * x.ln())
}

#[test]
fn powf_rule() {
    let points = [(2.0, 0.5), (0.7, -1.3), (3.0, 2.0), (1.5, 0.0)];
    check_binary(
        "powf (method)",
        powf_method,
        powf_method_grad,
        powf_gradient,
        &points,
    );
    check_binary(
        "powf (path)",
        powf_path,
        powf_path_grad,
        powf_gradient,
        &points,
    );
    check_binary32(
        "powf",
        powf_method32,
        powf_method32_grad,
        powf_gradient,
        &points,
    );
    for x in [0.3, 1.0, 4.0] {
        // d/dx x^2.5 = 2.5·x^1.5
        let d = powf_const_exponent_grad(x).1;
        close("x^2.5", d, 2.5 * x.powf(1.5), TOL);
        fd("x^2.5", powf_const_exponent, x, d);
        // d/dx 2ˣ = 2ˣ·ln 2
        let d = powf_const_base_grad(x).1;
        close("2^x", d, 2f64.powf(x) * 2f64.ln(), TOL);
        fd("2^x", powf_const_base, x, d);
    }
}

// --- atan2, hypot, max, min ---

#[differentiate]
fn atan2_method(y: f64, x: f64) -> f64 {
    y.atan2(x)
}

#[differentiate]
fn atan2_path(y: f64, x: f64) -> f64 {
    f64::atan2(y, x)
}

#[differentiate]
fn atan2_method32(y: f32, x: f32) -> f32 {
    y.atan2(x)
}

/// θ = atan2(y, x): ∂y = x/(x² + y²), ∂x = −y/(x² + y²).
fn atan2_gradient(y: f64, x: f64) -> Grad2 {
    let r2 = x * x + y * y;
    (x / r2, -y / r2)
}

#[test]
fn atan2_rule() {
    let points = [(1.0, 2.0), (-1.0, -0.5), (0.3, -2.0), (-4.0, 0.1)];
    check_binary(
        "atan2 (method)",
        atan2_method,
        atan2_method_grad,
        atan2_gradient,
        &points,
    );
    check_binary(
        "atan2 (path)",
        atan2_path,
        atan2_path_grad,
        atan2_gradient,
        &points,
    );
    check_binary32(
        "atan2",
        atan2_method32,
        atan2_method32_grad,
        atan2_gradient,
        &points,
    );
}

#[differentiate]
fn hypot_method(x: f64, a: f64) -> f64 {
    x.hypot(a)
}

#[differentiate]
fn hypot_path(x: f64, a: f64) -> f64 {
    f64::hypot(x, a)
}

#[differentiate]
fn hypot_method32(x: f32, a: f32) -> f32 {
    x.hypot(a)
}

/// h = √(x² + a²): ∂x = x/h, ∂a = a/h.
fn hypot_gradient(x: f64, a: f64) -> Grad2 {
    let h = (x * x + a * a).sqrt();
    (x / h, a / h)
}

#[test]
fn hypot_rule() {
    let points = [(3.0, 4.0), (-1.0, 0.5), (0.1, 2.0), (-2.0, -2.0)];
    check_binary(
        "hypot (method)",
        hypot_method,
        hypot_method_grad,
        hypot_gradient,
        &points,
    );
    check_binary(
        "hypot (path)",
        hypot_path,
        hypot_path_grad,
        hypot_gradient,
        &points,
    );
    check_binary32(
        "hypot",
        hypot_method32,
        hypot_method32_grad,
        hypot_gradient,
        &points,
    );
    // The origin is the kink of the Euclidean norm: by convention both partials are 0.
    assert_eq!(hypot_method_grad(0.0, 0.0), (0.0, (0.0, 0.0)));
}

#[differentiate]
fn max_method(x: f64, a: f64) -> f64 {
    x.max(a)
}

#[differentiate]
fn max_path(x: f64, a: f64) -> f64 {
    f64::max(x, a)
}

#[differentiate]
fn max_method32(x: f32, a: f32) -> f32 {
    x.max(a)
}

#[differentiate]
fn min_method(x: f64, a: f64) -> f64 {
    x.min(a)
}

#[differentiate]
fn min_path(x: f64, a: f64) -> f64 {
    f64::min(x, a)
}

#[differentiate]
fn min_method32(x: f32, a: f32) -> f32 {
    x.min(a)
}

/// max(x, a): (1, 0) if x > a, (0, 1) if x < a, (½, ½) at a tie (the documented convention; the
/// central difference at a tie is ((x + h) − x)/2h = ½ too, for either argument).
fn max_gradient(x: f64, a: f64) -> Grad2 {
    if x > a {
        (1.0, 0.0)
    } else if x < a {
        (0.0, 1.0)
    } else {
        (0.5, 0.5)
    }
}

/// min(x, a): (1, 0) if x < a, (0, 1) if x > a, (½, ½) at a tie.
fn min_gradient(x: f64, a: f64) -> Grad2 {
    let (p, q) = max_gradient(x, a);
    (q, p)
}

#[test]
fn max_min_rules() {
    let points = [(1.0, 2.0), (3.0, -1.0), (2.0, 2.0), (-0.5, -0.5)];
    check_binary(
        "max (method)",
        max_method,
        max_method_grad,
        max_gradient,
        &points,
    );
    check_binary("max (path)", max_path, max_path_grad, max_gradient, &points);
    check_binary32(
        "max",
        max_method32,
        max_method32_grad,
        max_gradient,
        &points,
    );
    check_binary(
        "min (method)",
        min_method,
        min_method_grad,
        min_gradient,
        &points,
    );
    check_binary("min (path)", min_path, min_path_grad, min_gradient, &points);
    check_binary32(
        "min",
        min_method32,
        min_method32_grad,
        min_gradient,
        &points,
    );
}

// --- mul_add, clamp ---

#[differentiate]
fn mul_add_method(x: f64, a: f64, b: f64) -> f64 {
    x.mul_add(a, b)
}

#[differentiate]
fn mul_add_path(x: f64, a: f64, b: f64) -> f64 {
    f64::mul_add(x, a, b)
}

#[differentiate]
fn mul_add_method32(x: f32, a: f32, b: f32) -> f32 {
    x.mul_add(a, b)
}

/// x·a + b: ∇ = (a, x, 1).
fn mul_add_gradient(x: f64, a: f64, _b: f64) -> Grad3 {
    (a, x, 1.0)
}

#[test]
fn mul_add_rule() {
    let points = [(2.0, 3.0, 4.0), (-0.5, 1.5, -2.0), (0.0, 0.0, 0.0)];
    check_ternary(
        "mul_add (method)",
        mul_add_method,
        mul_add_method_grad,
        mul_add_gradient,
        &points,
    );
    check_ternary(
        "mul_add (path)",
        mul_add_path,
        mul_add_path_grad,
        mul_add_gradient,
        &points,
    );
    check_ternary32(
        "mul_add",
        mul_add_method32,
        mul_add_method32_grad,
        mul_add_gradient,
        &points,
    );
}

#[differentiate]
fn clamp_method(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi)
}

#[differentiate]
fn clamp_path(x: f64, lo: f64, hi: f64) -> f64 {
    f64::clamp(x, lo, hi)
}

#[differentiate]
fn clamp_method32(x: f32, lo: f32, hi: f32) -> f32 {
    x.clamp(lo, hi)
}

#[differentiate]
fn clamp_unit(x: f64) -> f64 {
    x.clamp(-1.0, 1.0)
}

/// clamp(x, lo, hi): (1, 0, 0) inside, (0, 1, 0) below, (0, 0, 1) above; at a tie with a bound
/// the two equal arguments share: (½, ½, 0) at x = lo, (½, 0, ½) at x = hi. Central differences
/// at a tie give ½ as for max/min.
fn clamp_gradient(x: f64, lo: f64, hi: f64) -> Grad3 {
    if x == lo {
        (0.5, 0.5, 0.0)
    } else if x == hi {
        (0.5, 0.0, 0.5)
    } else if x < lo {
        (0.0, 1.0, 0.0)
    } else if x > hi {
        (0.0, 0.0, 1.0)
    } else {
        (1.0, 0.0, 0.0)
    }
}

#[test]
fn clamp_rule() {
    let points = [
        (0.5, -1.0, 1.0),
        (-2.0, -1.0, 1.0),
        (3.0, -1.0, 1.0),
        (-1.0, -1.0, 1.0),
        (1.0, -1.0, 1.0),
    ];
    check_ternary(
        "clamp (method)",
        clamp_method,
        clamp_method_grad,
        clamp_gradient,
        &points,
    );
    check_ternary(
        "clamp (path)",
        clamp_path,
        clamp_path_grad,
        clamp_gradient,
        &points,
    );
    check_ternary32(
        "clamp",
        clamp_method32,
        clamp_method32_grad,
        clamp_gradient,
        &points,
    );
    for x in [-3.0, -0.5, 0.0, 0.7, 2.0] {
        // d/dx clamp(x, −1, 1) = 1 inside, 0 outside.
        let d = clamp_unit_grad(x).1;
        assert_eq!(d, if x.abs() < 1.0 { 1.0 } else { 0.0 });
        fd("clamp(-1, 1)", clamp_unit, x, d);
    }
}

// --- copysign, rem_euclid ---

#[differentiate]
fn copysign_method(x: f64, s: f64) -> f64 {
    x.copysign(s)
}

#[differentiate]
fn copysign_path(x: f64, s: f64) -> f64 {
    f64::copysign(x, s)
}

#[differentiate]
fn copysign_method32(x: f32, s: f32) -> f32 {
    x.copysign(s)
}

/// |x| with the sign of s: ∂x = sign x · sign s, ∂s = 0 (away from x = 0 and s = 0).
fn copysign_gradient(x: f64, s: f64) -> Grad2 {
    (x.signum() * s.signum(), 0.0)
}

#[test]
fn copysign_rule() {
    // |s| ≥ 0.5: the f32 finite-difference step (1e-2) stays clear of the jump at s = 0.
    let points = [(1.5, 2.0), (1.5, -0.5), (-0.7, 3.0), (-2.0, -1.0)];
    check_binary(
        "copysign (method)",
        copysign_method,
        copysign_method_grad,
        copysign_gradient,
        &points,
    );
    check_binary(
        "copysign (path)",
        copysign_path,
        copysign_path_grad,
        copysign_gradient,
        &points,
    );
    check_binary32(
        "copysign",
        copysign_method32,
        copysign_method32_grad,
        copysign_gradient,
        &points,
    );
    // Convention at the kink x = 0 of |x|·sign s: 0, as for abs; central differences agree.
    for x in [0.0, -0.0] {
        assert_eq!(copysign_method_grad(x, 1.0).1, (0.0, 0.0));
        assert_eq!(copysign_method32_grad(x as f32, -1.0).1, (0.0, 0.0));
        fd("copysign(·, 1)", |x| x.copysign(1.0), x, 0.0);
    }
}

#[differentiate]
fn rem_euclid_method(x: f64, m: f64) -> f64 {
    x.rem_euclid(m)
}

#[differentiate]
fn rem_euclid_path(x: f64, m: f64) -> f64 {
    f64::rem_euclid(x, m)
}

#[differentiate]
fn rem_euclid_method32(x: f32, m: f32) -> f32 {
    x.rem_euclid(m)
}

/// r = x − m·q with q = sign m · ⌊x/|m|⌋ (so that 0 ≤ r < |m|): ∂x = 1, ∂m = −q.
fn rem_euclid_gradient(x: f64, m: f64) -> Grad2 {
    (1.0, -(m.signum() * (x / m.abs()).floor()))
}

#[test]
fn rem_euclid_rule() {
    // x/m at least 0.08 from an integer: the f32 finite-difference step stays between jumps.
    let points = [
        (5.3, 2.0),
        (-1.3, 0.4),
        (7.5, -2.0),
        (-3.7, -1.5),
        (0.25, 3.0),
    ];
    check_binary(
        "rem_euclid (method)",
        rem_euclid_method,
        rem_euclid_method_grad,
        rem_euclid_gradient,
        &points,
    );
    check_binary(
        "rem_euclid (path)",
        rem_euclid_path,
        rem_euclid_path_grad,
        rem_euclid_gradient,
        &points,
    );
    check_binary32(
        "rem_euclid",
        rem_euclid_method32,
        rem_euclid_method32_grad,
        rem_euclid_gradient,
        &points,
    );
    // Convention at a jump (x a multiple of m): ignored, as for fract: ∂x = 1, ∂m = −x/m.
    assert_eq!(rem_euclid_method_grad(4.0, 2.0), (0.0, (1.0, -2.0)));
}

// --- sin_cos: a primitive with a tuple result ---

#[differentiate]
fn sin_cos_mix(x: f64) -> f64 {
    let (s, c) = x.sin_cos();
    2.0 * s - 3.0 * c
}

#[differentiate]
fn sin_cos_mix32(x: f32) -> f32 {
    let (s, c) = x.sin_cos();
    2.0 * s - 3.0 * c
}

#[differentiate]
fn sin_cos_component(x: f64) -> f64 {
    x.sin_cos().1 * x
}

#[differentiate]
fn sin_cos_pair(x: f64) -> (f64, f64) {
    x.sin_cos()
}

#[test]
fn sin_cos_rule() {
    for x in [-2.0, -0.4, 0.3, 1.7] {
        // d/dx (2 sin x − 3 cos x) = 2 cos x + 3 sin x
        let (y, d) = sin_cos_mix_grad(x);
        assert_eq!(y.to_bits(), sin_cos_mix(x).to_bits());
        close("sin_cos mix", d, 2.0 * x.cos() + 3.0 * x.sin(), TOL);
        fd("sin_cos mix", sin_cos_mix, x, d);
        let x32 = x as f32;
        let (_, d32) = sin_cos_mix32_grad(x32);
        let x64 = f64::from(x32);
        close(
            "sin_cos mix (f32)",
            f64::from(d32),
            2.0 * x64.cos() + 3.0 * x64.sin(),
            F32_TOL,
        );
        fd32("sin_cos mix (f32)", sin_cos_mix32, x32, d32);
        // d/dx (x cos x) = cos x − x sin x, reading one component of the tuple.
        let (_, d) = sin_cos_component_grad(x);
        close("sin_cos component", d, x.cos() - x * x.sin(), TOL);
        fd("sin_cos component", sin_cos_component, x, d);
        // The pullback of the tuple itself: (a, b) ↦ a cos x − b sin x.
        let (y, pullback) = sin_cos_pair_vjp(x);
        assert_eq!(y, x.sin_cos());
        let (a, b) = (0.7, -1.3);
        let g = pullback((a, b));
        close("sin_cos pullback", g, a * x.cos() - b * x.sin(), TOL);
        fd(
            "sin_cos pullback",
            |x: f64| {
                let (s, c) = x.sin_cos();
                a * s + b * c
            },
            x,
            g,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar constructs: casts, constants, literals, operators, bindings.
// ---------------------------------------------------------------------------------------------

/// The f32 finite-difference tolerance, for functions computed (partly) in f32 whose argument
/// is f64: the function itself is only f32-accurate, so the f64 defaults do not apply.
fn f32_tolerance() -> Tolerance {
    Tolerance::default_for::<f32>()
}

#[differentiate]
fn widen(x: f32) -> f64 {
    let w = x as f64;
    w * w * w
}

#[differentiate]
fn narrow(x: f64) -> f32 {
    let n = x as f32;
    n * n
}

#[differentiate]
fn mixed_precision(x: f64, y: f32) -> f64 {
    ((x as f32) * y) as f64 + x * (y as f64)
}

#[differentiate]
fn cast_to_same_type(x: f64) -> f64 {
    (x as f64) * 2.0
}

#[test]
fn as_casts_between_f32_and_f64() {
    for x in [-1.5f32, 0.25, 2.0] {
        // d/dx (x as f64)³ = 3x², returned as f32.
        let (y, d) = widen_grad(x);
        assert_eq!(y, widen(x));
        close("widen", d as f64, 3.0 * (x as f64).powi(2), F32_TOL);
        fd32("widen", |x| widen(x) as f32, x, d);
    }
    for x in [-1.5, 0.25, 2.0] {
        // d/dx (x as f32)² = 2x, up to f32 rounding of x.
        let (y, d) = narrow_grad(x);
        assert_eq!(y, narrow(x));
        close("narrow", d, 2.0 * x, F32_TOL);
        let r = gradcheck_with(|x: &f64| narrow(*x) as f64, &x, &d, f32_tolerance());
        assert!(r.passed(), "narrow: {r}");
    }
    for (x, y) in [(1.5, -0.5f32), (-2.0, 3.0)] {
        // f = xy (in f32) + xy (in f64): ∂x = 2y, ∂y = 2x.
        let (v, (dx, dy)) = mixed_precision_grad(x, y);
        assert_eq!(v, mixed_precision(x, y));
        close("mixed ∂x", dx, 2.0 * y as f64, F32_TOL);
        close("mixed ∂y", dy as f64, 2.0 * x, F32_TOL);
        let r = gradcheck_with(|x: &f64| mixed_precision(*x, y), &x, &dx, f32_tolerance());
        assert!(r.passed(), "mixed ∂x: {r}");
        let r = gradcheck(|y: &f32| mixed_precision(x, *y) as f32, &y, &dy);
        assert!(r.passed(), "mixed ∂y: {r}");
    }
    // d/dx 2·(x as f64) = 2
    assert_eq!(cast_to_same_type_grad(0.3), (0.6, 2.0));
    fd("cast to same type", cast_to_same_type, 0.3, 2.0);
}

#[differentiate]
fn circle_area(r: f64) -> f64 {
    std::f64::consts::PI * r * r
}

const SCALE: f64 = 2.5;

#[differentiate]
fn with_consts(x: f64) -> f64 {
    core::f64::consts::E * x + SCALE * x * x - std::f64::consts::FRAC_PI_2
}

#[differentiate]
fn circle_area32(r: f32) -> f32 {
    std::f32::consts::PI * r * r
}

#[test]
fn constants() {
    for r in [0.0, 0.5, 3.0] {
        // d/dr πr² = 2πr
        let (y, d) = circle_area_grad(r);
        assert_eq!(y, circle_area(r));
        close("πr²", d, 2.0 * std::f64::consts::PI * r, TOL);
        fd("πr²", circle_area, r, d);
        // d/dx (e·x + 2.5x² − π/2) = e + 5x
        let (y, d) = with_consts_grad(r);
        assert_eq!(y, with_consts(r));
        close("consts", d, std::f64::consts::E + 5.0 * r, TOL);
        fd("consts", with_consts, r, d);
        let r32 = r as f32;
        let d = circle_area32_grad(r32).1;
        close("πr² f32", d as f64, 2.0 * std::f64::consts::PI * r, F32_TOL);
        fd32("πr² f32", circle_area32, r32, d);
    }
}

#[differentiate]
fn literals(x: f64, n: i32) -> f64 {
    let two = 2 as f64;
    two * x + (n as f64) * x * x + (n * 3) as f64 + 1e-3 * x + 0.5_f64 * x + 3f64
}

#[test]
fn literals_and_integer_casts() {
    for (x, n) in [(0.5, 0), (-1.5, 1), (2.0, 7)] {
        // d/dx (2x + n·x² + 3n + 0.001x + 0.5x + 3) = 2 + 2n·x + 0.001 + 0.5
        let (y, d) = literals_grad(x, n);
        assert_eq!(y, literals(x, n));
        close("literals", d, 2.0 + 2.0 * n as f64 * x + 1e-3 + 0.5, TOL);
        fd("literals", |x| literals(x, n), x, d);
    }
}

#[differentiate]
fn unary_minus(x: f64, y: f64) -> f64 {
    -x + -(x * y) - -y + (-x).exp() - -x.sin()
}

#[differentiate]
fn parentheses(x: f64, y: f64) -> f64 {
    ((x + y) * (x - y)) / ((x * y) + (1.0))
}

#[test]
fn unary_minus_and_parentheses() {
    for (x, y) in [(0.5, 2.0), (-1.5, 0.25), (2.0, -3.0)] {
        // f = −x − xy + y + e^{−x} + sin x:
        // ∂x = −1 − y − e^{−x} + cos x, ∂y = −x + 1.
        let (v, (dx, dy)) = unary_minus_grad(x, y);
        assert_eq!(v, unary_minus(x, y));
        close("unary minus ∂x", dx, -1.0 - y - (-x).exp() + x.cos(), TOL);
        close("unary minus ∂y", dy, -x + 1.0, TOL);
        let r = gradcheck(|p: &Grad2| unary_minus(p.0, p.1), &(x, y), &(dx, dy));
        assert!(r.passed(), "unary minus: {r}");

        // f = (x² − y²)/(xy + 1) = u/w:
        // ∂x = (2x·w − u·y)/w², ∂y = (−2y·w − u·x)/w².
        let (v, (dx, dy)) = parentheses_grad(x, y);
        assert_eq!(v, parentheses(x, y));
        let (u, w) = (x * x - y * y, x * y + 1.0);
        close("parentheses ∂x", dx, (2.0 * x * w - u * y) / (w * w), TOL);
        close("parentheses ∂y", dy, (-2.0 * y * w - u * x) / (w * w), TOL);
        let r = gradcheck(|p: &Grad2| parentheses(p.0, p.1), &(x, y), &(dx, dy));
        assert!(r.passed(), "parentheses: {r}");
    }
}

#[differentiate]
fn compound_assignment(x: f64, y: f64) -> f64 {
    let mut s = x;
    s += y * x; // x + xy
    s -= y; // x + xy − y
    s *= x; // x² + x²y − xy
    s /= y; // x²/y + x² − x
    s
}

#[test]
fn compound_assignment_operators() {
    for (x, y) in [(0.5, 2.0), (-1.5, 0.25), (2.0, -3.0)] {
        // f = x²/y + x² − x: ∂x = 2x/y + 2x − 1, ∂y = −x²/y².
        let (v, (dx, dy)) = compound_assignment_grad(x, y);
        assert_eq!(v, compound_assignment(x, y));
        close("compound ∂x", dx, 2.0 * x / y + 2.0 * x - 1.0, TOL);
        close("compound ∂y", dy, -x * x / (y * y), TOL);
        let r = gradcheck(
            |p: &Grad2| compound_assignment(p.0, p.1),
            &(x, y),
            &(dx, dy),
        );
        assert!(r.passed(), "compound: {r}");
    }
}

#[differentiate]
fn shadowing(x: f64) -> f64 {
    let x = x * 2.0;
    let x = x.sin();
    let y = x;
    let x = y * x;
    x
}

#[differentiate]
fn reassignment(x: f64) -> f64 {
    let mut a = x;
    a = a * a;
    a = a + x;
    let b;
    b = a * 3.0;
    let mut c: f64 = b;
    c = c - x.exp();
    c
}

#[differentiate]
fn typed_and_untyped_lets(x: f64, y: f64) -> f64 {
    let a: f64 = x * y;
    let b = a + 1.0;
    let c: f64 = {
        let t = b * b;
        t + x
    };
    let _ = y.exp();
    let _unused: f64 = x.ln_1p();
    c
}

#[differentiate]
fn mut_parameters(mut x: f64, mut y: f64, mut n: u32) -> f64 {
    x *= y;
    y = y + 1.0;
    n += 1;
    x = x + y * n as f64;
    x
}

#[test]
fn bindings() {
    for x in [-1.5, 0.3, 2.0] {
        // f = sin²(2x): f' = 4·sin(2x)·cos(2x)
        let (v, d) = shadowing_grad(x);
        assert_eq!(v, shadowing(x));
        close("shadowing", d, 4.0 * (2.0 * x).sin() * (2.0 * x).cos(), TOL);
        fd("shadowing", shadowing, x, d);

        // f = 3(x² + x) − eˣ: f' = 6x + 3 − eˣ
        let (v, d) = reassignment_grad(x);
        assert_eq!(v, reassignment(x));
        close("reassignment", d, 6.0 * x + 3.0 - x.exp(), TOL);
        fd("reassignment", reassignment, x, d);
    }
    for (x, y) in [(0.5, 2.0), (-1.5, 0.25), (2.0, -3.0)] {
        // f = (xy + 1)² + x: ∂x = 2(xy + 1)·y + 1, ∂y = 2(xy + 1)·x
        let (v, (dx, dy)) = typed_and_untyped_lets_grad(x, y);
        assert_eq!(v, typed_and_untyped_lets(x, y));
        close("lets ∂x", dx, 2.0 * (x * y + 1.0) * y + 1.0, TOL);
        close("lets ∂y", dy, 2.0 * (x * y + 1.0) * x, TOL);
        let r = gradcheck(
            |p: &Grad2| typed_and_untyped_lets(p.0, p.1),
            &(x, y),
            &(dx, dy),
        );
        assert!(r.passed(), "lets: {r}");

        for n in [0u32, 4] {
            // f = xy + (y + 1)(n + 1): ∂x = y, ∂y = x + n + 1
            let (v, (dx, dy)) = mut_parameters_grad(x, y, n);
            assert_eq!(v, mut_parameters(x, y, n));
            close("mut params ∂x", dx, y, TOL);
            close("mut params ∂y", dy, x + n as f64 + 1.0, TOL);
            let r = gradcheck(|p: &Grad2| mut_parameters(p.0, p.1, n), &(x, y), &(dx, dy));
            assert!(r.passed(), "mut params: {r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Corner cases: repeated operands, method chains, integer methods beside float ones,
// associated constants, discrete values computed from active ones.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn same_operand_twice(x: f64) -> f64 {
    x * x + x / x + (x - x) + x + x + x
}

#[test]
fn an_operand_used_twice_by_one_operation() {
    for x in [-2.0, 0.5, 3.0] {
        // x² + 1 + 0 + 3x → 2x + 3 (x/x and x − x contribute exactly 0)
        let (v, d) = same_operand_twice_grad(x);
        assert_eq!(v, same_operand_twice(x));
        close("same operand", d, 2.0 * x + 3.0, TOL);
        fd("same operand", same_operand_twice, x, d);
    }
}

#[differentiate]
fn method_chains(x: f64) -> f64 {
    x.sin().cos().exp() + -x.powi(2) + (x * 0.5).tanh().abs().sqrt()
}

#[test]
fn chained_methods_and_precedence() {
    for x in [0.3f64, 1.7, 2.5] {
        // e^{cos sin x}·(−sin sin x)·cos x − 2x + (1 − tanh²(x/2))/2 / (2√tanh(x/2))
        // (−x.powi(2) is −(x²); tanh(x/2) > 0 at these points)
        let t = (x * 0.5).tanh();
        let expected = (x.sin().cos()).exp() * -(x.sin().sin()) * x.cos() - 2.0 * x
            + (1.0 - t * t) * 0.5 / (2.0 * t.sqrt());
        let (v, d) = method_chains_grad(x);
        assert_eq!(v, method_chains(x));
        close("method chains", d, expected, TOL);
        fd("method chains", method_chains, x, d);
    }
}

/// Integer methods named like float ones (`min`, `max`, `abs`, `pow`), on inactive integers, as
/// methods and paths, beside the float ones; `f64::from` on an inactive integer; associated
/// constants.
#[differentiate]
fn integer_methods(x: f64, n: i32, k: u32) -> f64 {
    let m = n.min(3).max(-3).abs();
    let p = usize::min(k as usize, 4);
    let q = i32::pow(2, k % 4);
    let w = f64::from(k) + (n as f64).max(1.0);
    x.max(f64::EPSILON) * m as f64 + x * x * p as f64 + x * q as f64 + w * x - f64::MIN_POSITIVE * x
}

#[test]
fn integer_methods_are_inactive() {
    for (n, k) in [(-7i32, 0u32), (2, 3), (5, 9)] {
        for x in [0.5f64, 2.0] {
            // f = x·m + p·x² + q·x + w·x − ε_min·x (x > ε): f' = m + 2px + q + w − ε_min
            let m = n.clamp(-3, 3).abs() as f64;
            let p = (k as f64).min(4.0);
            let q = 2f64.powi((k % 4) as i32);
            let w = k as f64 + (n as f64).max(1.0);
            let expected = m + 2.0 * p * x + q + w - f64::MIN_POSITIVE;
            let (v, d) = integer_methods_grad(x, n, k);
            assert_eq!(v, integer_methods(x, n, k));
            close(
                &format!("integer methods n = {n} k = {k}"),
                d,
                expected,
                TOL,
            );
            fd("integer methods", |x| integer_methods(x, n, k), x, d);
        }
    }
}

/// A discrete value computed from an active one (`as usize`, `floor`, a comparison) used as a
/// loop bound, an integer and a condition.
#[differentiate]
fn discrete_from_active(x: f64) -> f64 {
    let n = x.abs().floor() as usize;
    let positive = x > 0.0;
    let mut s = x;
    for _ in 0..n {
        s = s * x;
    }
    let bits = (n & 1) << 1;
    if positive { s + bits as f64 } else { -s }
}

#[test]
fn discrete_values_computed_from_active_ones() {
    for x in [-2.5f64, -0.5, 0.5, 1.5, 3.2] {
        // s = x^{⌊|x|⌋ + 1}: f' = ±(⌊|x|⌋ + 1)·x^{⌊|x|⌋}
        let n = x.abs().floor() as i32;
        let ds = (n + 1) as f64 * x.powi(n);
        let expected = if x > 0.0 { ds } else { -ds };
        let (v, d) = discrete_from_active_grad(x);
        assert_eq!(v, discrete_from_active(x));
        close(&format!("discrete from active x = {x}"), d, expected, TOL);
        fd("discrete from active", discrete_from_active, x, d);
    }
}

/// f32 through a loop and a branch.
#[differentiate]
fn f32_control_flow(x: f32, n: u32) -> f32 {
    let mut s = 1.0f32;
    for i in 0..n {
        if s < 4.0 {
            s = s * x + i as f32;
        } else {
            s = s.sqrt();
        }
    }
    s
}

#[test]
fn f32_through_loops_and_branches() {
    for x in [0.5f32, 1.5, 2.5] {
        for n in [0u32, 1, 6] {
            // Forward chain rule by hand, in f64 from the same f32 point.
            let xd = x as f64;
            let (mut s, mut ds) = (1.0f64, 0.0f64);
            for i in 0..n {
                if s < 4.0 {
                    (s, ds) = (s * xd + i as f64, ds * xd + s);
                } else {
                    (s, ds) = (s.sqrt(), ds / (2.0 * s.sqrt()));
                }
            }
            let (v, d) = f32_control_flow_grad(x, n);
            assert_eq!(v, f32_control_flow(x, n));
            close(
                &format!("f32 control flow n = {n} x = {x}"),
                d as f64,
                ds,
                F32_TOL,
            );
            fd32("f32 control flow", |x| f32_control_flow(x, n), x, d);
        }
    }
}

/// Squares written as products of a value with itself: a plain one, one of a difference whose
/// adjoint arrives negated, one summed over a loop, and one in f32.
#[differentiate(hessian)]
fn squared_times(x: f64, y: f64) -> f64 {
    let s = x * x;
    s * y
}

#[differentiate(wrt(a, b), hessian)]
fn squared_residuals(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let u = a * xs[i];
        let q = b * ys[i] - u * u;
        s += q * q;
    }
    s
}

#[differentiate]
fn squared_f32(x: f32) -> f32 {
    let t = x - 0.25;
    t * t * 3.0
}

#[test]
fn squares_of_a_value_with_itself() {
    // d(x²y)/dx = 2xy, d/dy = x²: bit for bit, since doubling is exact.
    for (x, y) in [(1.5, -0.75), (-2.25, 3.0), (0.0, 2.0), (1e-3, 1e5)] {
        let (v, (gx, gy)) = squared_times_grad(x, y);
        assert_eq!(v.to_bits(), squared_times(x, y).to_bits());
        assert_eq!(gx.to_bits(), ((x + x) * y).to_bits(), "∂x at {x}, {y}");
        assert_eq!(gy.to_bits(), (x * x).to_bits(), "∂y at {x}, {y}");
        let (_, dv) = squared_times_jvp(x, y, 0.5, -1.25);
        close(
            "squared_times tangent",
            dv,
            0.5 * 2.0 * x * y - 1.25 * x * x,
            TOL,
        );
        // Hessian [[2y, 2x], [2x, 0]].
        let (_, _, (hx, hy)) = squared_times_hvp(x, y, 0.5, -1.25);
        close(
            "squared_times H·v x",
            hx,
            2.0 * y * 0.5 + 2.0 * x * -1.25,
            TOL,
        );
        close("squared_times H·v y", hy, 2.0 * x * 0.5, TOL);
    }

    // s = Σ qᵢ², qᵢ = b·yᵢ − a²xᵢ²: ∂a = Σ 2qᵢ·(−2a·xᵢ²), ∂b = Σ 2qᵢ·yᵢ.
    let xs = data(7, 0.3);
    let ys = data(7, 1.1);
    for (a, b) in [(0.8, 1.3), (-1.7, 0.4)] {
        let (v, (ga, gb)) = squared_residuals_grad(a, b, &xs, &ys);
        assert_eq!(v.to_bits(), squared_residuals(a, b, &xs, &ys).to_bits());
        let (mut ea, mut eb) = (0.0, 0.0);
        for (x, y) in xs.iter().zip(&ys) {
            let q = b * y - a * a * x * x;
            ea += 2.0 * q * (-2.0 * a * x * x);
            eb += 2.0 * q * y;
        }
        close2("squared_residuals", (ga, gb), (ea, eb));
        fd2(
            "squared_residuals",
            |a, b| squared_residuals(a, b, &xs, &ys),
            (a, b),
            (ga, gb),
        );
        let (_, dv) = squared_residuals_jvp(a, b, &xs, &ys, 1.0, -0.5);
        close("squared_residuals tangent", dv, ea - 0.5 * eb, 1e-10);
        let grad = |p: &[f64]| {
            let (_, (ga, gb)) = squared_residuals_grad(p[0], p[1], &xs, &ys);
            vec![ga, gb]
        };
        let (_, _, (ha, hb)) = squared_residuals_hvp(a, b, &xs, &ys, 1.0, -0.5);
        hvp_against_fd("squared_residuals", grad, &[a, b], &[1.0, -0.5], &[ha, hb]);
    }

    // d(3(x − ¼)²)/dx = 6(x − ¼).
    for x in [-1.5f32, 0.25, 0.75, 2.0] {
        let (v, d) = squared_f32_grad(x);
        assert_eq!(v.to_bits(), squared_f32(x).to_bits());
        close("squared_f32", d as f64, 6.0 * (x as f64 - 0.25), F32_TOL);
        fd32("squared_f32", squared_f32, x, d);
    }
}

/// Float methods without a float result called through the type's path: `sin_cos` and
/// `total_cmp` are the methods of their first argument.
#[differentiate]
fn sin_cos_by_path(x: f64) -> f64 {
    let (s, c) = f64::sin_cos(x);
    s * c + x * (f64::total_cmp(&x, &1.0) as i32 as f64)
}

#[differentiate]
fn sin_cos_by_generic_path<T: num_traits::Float>(x: T) -> T {
    let (s, c) = T::sin_cos(x);
    s * c
}

#[test]
fn float_methods_called_through_their_paths() {
    // d/dx sin x cos x = cos 2x; the comparison's sign is piecewise constant.
    for x in [0.3, 2.0] {
        let (y, d) = sin_cos_by_path_grad(x);
        assert_eq!(y, sin_cos_by_path(x));
        let sign = if x > 1.0 { 1.0 } else { -1.0 };
        assert!((d - ((2.0 * x).cos() + sign)).abs() < 1e-12, "{x}: {d}");
    }
    let (_, d) = sin_cos_by_generic_path_grad(0.3f64);
    assert!((d - 0.6f64.cos()).abs() < 1e-12);
}

/// A float method through a qualified path is the method through the type's path:
/// `<f64>::exp(y)` is `f64::exp(y)`, `<f64 as Float>::sqrt(x)` is `f64::sqrt(x)`, and so for a
/// float type parameter.
#[differentiate]
fn qualified_paths(x: f64, y: f64) -> f64 {
    <f64>::exp(y) * <f64 as num_traits::Float>::sqrt(x)
        + <f64 as num_traits::real::Real>::sin(x * y)
}

#[differentiate]
fn qualified_generic_path<T: num_traits::Float>(x: T, y: T) -> T {
    <T as num_traits::Float>::ln(x) * <T>::cos(y)
}

#[test]
fn float_methods_called_through_qualified_paths() {
    // ∂x = eʸ/(2√x) + y cos(xy), ∂y = eʸ√x + x cos(xy); ∂x ln x cos y = cos y / x,
    // ∂y = −ln x sin y.
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..6 {
        let (x, y) = (0.2 + 2.0 * next(), -1.5 + 3.0 * next());
        let (v, (dx, dy)) = qualified_paths_grad(x, y);
        assert_eq!(v.to_bits(), qualified_paths(x, y).to_bits());
        let c = (x * y).cos();
        close("qualified ∂x", dx, y.exp() / (2.0 * x.sqrt()) + y * c, TOL);
        close("qualified ∂y", dy, y.exp() * x.sqrt() + x * c, TOL);
        fd2("qualified", qualified_paths, (x, y), (dx, dy));
        let (w, pullback) = qualified_paths_vjp(x, y);
        assert_eq!(w.to_bits(), v.to_bits());
        let (sx, sy) = pullback(-1.75);
        close("qualified vjp ∂x", sx, -1.75 * dx, TOL);
        close("qualified vjp ∂y", sy, -1.75 * dy, TOL);
        forward("qualified").two(
            (x, y),
            |x, y| qualified_paths(x, y),
            qualified_paths_jvp,
            qualified_paths_vjp,
        );

        let (v, (dx, dy)) = qualified_generic_path_grad(x, y);
        assert_eq!(v.to_bits(), qualified_generic_path(x, y).to_bits());
        close("generic ∂x", dx, y.cos() / x, TOL);
        close("generic ∂y", dy, -x.ln() * y.sin(), TOL);
        fd2("generic", qualified_generic_path::<f64>, (x, y), (dx, dy));
        let (_, pullback) = qualified_generic_path_vjp(x, y);
        let (sx, sy) = pullback(2.5);
        close("generic vjp ∂x", sx, 2.5 * dx, TOL);
        close("generic vjp ∂y", sy, 2.5 * dy, TOL);
    }
}
