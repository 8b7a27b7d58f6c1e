//! Assertions shared by the numerical tests: analytic values to a relative tolerance, and
//! gradients against central finite differences through `autodiff::check`.

#![allow(dead_code)] // each test file uses the helpers it needs

use autodiff::check::gradcheck;
use ndarray::Array2;

/// The tolerance for derivatives that are exact up to rounding (f64).
pub const TOL: f64 = 1e-12;

/// A gradient with respect to two scalars.
pub type Grad2 = (f64, f64);

/// `|actual − expected| <= tol·max(1, |expected|)`, with context in the message.
#[track_caller]
pub fn close(what: &str, actual: f64, expected: f64, tol: f64) {
    let ok = actual == expected || (actual - expected).abs() <= tol * expected.abs().max(1.0);
    assert!(
        ok,
        "{what}: got {actual:e}, expected {expected:e}, difference {:e} (tol {tol:e})",
        (actual - expected).abs()
    );
}

/// Both entries of a two-scalar gradient, to [`TOL`].
#[track_caller]
pub fn close2(what: &str, actual: Grad2, expected: Grad2) {
    close(&format!("{what}, ∂0"), actual.0, expected.0, TOL);
    close(&format!("{what}, ∂1"), actual.1, expected.1, TOL);
}

/// Finite-difference check of a gradient of a function of one f64.
#[track_caller]
pub fn fd(what: &str, f: impl Fn(f64) -> f64, x: f64, d: f64) {
    let r = gradcheck(|x: &f64| f(*x), &x, &d);
    assert!(r.passed(), "{what} at {x}: {r}");
}

/// Finite-difference check of a gradient of a function of two f64s.
#[track_caller]
pub fn fd2(what: &str, f: impl Fn(f64, f64) -> f64, x: Grad2, d: Grad2) {
    let r = gradcheck(|p: &Grad2| f(p.0, p.1), &x, &d);
    assert!(r.passed(), "{what} at {x:?}: {r}");
}

/// Finite-difference check of a gradient of a function of one f32.
#[track_caller]
pub fn fd32(what: &str, f: impl Fn(f32) -> f32, x: f32, d: f32) {
    let r = gradcheck(|x: &f32| f(*x), &x, &d);
    assert!(r.passed(), "{what} at {x}: {r}");
}

/// A deterministic matrix with entries in [−1, 1) (a linear congruential generator).
pub fn seeded(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut s = seed;
    Array2::from_shape_fn((rows, cols), |_| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}
