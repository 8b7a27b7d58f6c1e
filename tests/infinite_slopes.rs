//! Rules whose derivative is infinite at a point — `asin` and `acos` at ±1, `acosh` at 1,
//! `powf` with an exponent below 1 at 0 — applied to a constant sitting at that point beside
//! differentiated values (`[1.0, x / 2]` mapped through `asin`). The constant's tangent is 0,
//! and so is the tangent of its image: `_jvp` and `_hvp` are finite (they were 0·∞ = NaN). At
//! the point itself a non-zero tangent keeps the true infinite derivative.

use autodiff::differentiate;

mod common;
use common::*;

/// asin 1 + asin(x/2): f' = ½/√(1 − x²/4).
#[differentiate(hessian)]
fn asin_with_constant(x: f64) -> f64 {
    let ys = [1.0, x * 0.5];
    ys.iter().map(|y| y.asin()).sum::<f64>()
}

/// acos 1 + acos(−1) + acos(x/2): f' = −½/√(1 − x²/4).
#[differentiate(hessian)]
fn acos_with_constants(x: f64) -> f64 {
    let ys = [1.0, -1.0, x * 0.5];
    ys.iter().map(|y| y.acos()).sum::<f64>()
}

/// acosh 1 + acosh(1 + x²): f' = 2x/√((1 + x²)² − 1).
#[differentiate(hessian)]
fn acosh_with_constant(x: f64) -> f64 {
    let ys = [1.0, 1.0 + x * x];
    ys.iter().map(|y| y.acosh()).sum::<f64>()
}

/// 0^0.3 + (x²)^0.3: f' = 0.6·x^(−0.4)·sign… for x > 0, 0.6·x^(−0.4).
#[differentiate(hessian)]
fn powf_with_constant(x: f64) -> f64 {
    let ys = vec![0.0, x * x];
    ys.iter().map(|y| y.powf(0.3)).sum::<f64>()
}

/// asin x itself, at x = 1.
#[differentiate(hessian)]
fn arcsine(x: f64) -> f64 {
    x.asin()
}

fn check(
    what: &str,
    x: f64,
    f: fn(f64) -> f64,
    grad: fn(f64) -> (f64, f64),
    jvp: fn(f64, f64) -> (f64, f64),
    hvp: fn(f64, f64) -> (f64, f64, f64),
    d1: f64,
) {
    let (v, g) = grad(x);
    assert_eq!(v, f(x), "{what}: value");
    close(&format!("{what}: f'"), g, d1, 1e-12);
    fd(&format!("{what}: f'"), f, x, g);
    let (_, t) = jvp(x, 0.7);
    close(&format!("{what}: jvp"), t, 0.7 * d1, 1e-12);
    let (_, gh, hv) = hvp(x, 0.7);
    close(&format!("{what}: hvp's gradient"), gh, d1, 1e-12);
    // The second derivative by central differences of the gradient.
    let h = 1e-5;
    let d2 = (grad(x + h).1 - grad(x - h).1) / (2.0 * h);
    close(&format!("{what}: hvp"), hv, 0.7 * d2, 1e-6);
}

#[test]
fn a_constant_at_an_infinite_slope_has_a_zero_tangent() {
    let x: f64 = 0.6;
    let s = (1.0 - x * x / 4.0).sqrt();
    check(
        "asin",
        x,
        asin_with_constant,
        asin_with_constant_grad,
        asin_with_constant_jvp,
        asin_with_constant_hvp,
        0.5 / s,
    );
    check(
        "acos",
        x,
        acos_with_constants,
        acos_with_constants_grad,
        acos_with_constants_jvp,
        acos_with_constants_hvp,
        -0.5 / s,
    );
    let u = 1.0 + x * x;
    check(
        "acosh",
        x,
        acosh_with_constant,
        acosh_with_constant_grad,
        acosh_with_constant_jvp,
        acosh_with_constant_hvp,
        2.0 * x / (u * u - 1.0).sqrt(),
    );
    check(
        "powf",
        x,
        powf_with_constant,
        powf_with_constant_grad,
        powf_with_constant_jvp,
        powf_with_constant_hvp,
        0.6 * x.powf(-0.4),
    );
}

#[test]
fn at_the_point_itself_a_non_zero_tangent_is_infinite() {
    assert_eq!(arcsine_grad(1.0).1, f64::INFINITY, "d/dx asin x at 1");
    assert_eq!(arcsine_jvp(1.0, 1.0).1, f64::INFINITY, "along 1");
    assert_eq!(arcsine_jvp(1.0, 0.0).1, 0.0, "along 0");
    assert_eq!(
        arcsine_grad(0.5).1,
        1.0 / 0.75f64.sqrt(),
        "d/dx asin x at ½"
    );
}
