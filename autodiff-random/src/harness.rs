//! The checks every generated case runs, called from its `check()` function: the generated
//! derivatives of the entry function `f` at the generated point `x` against the plain function.
//!
//! - `f_grad(x)` returns `f(x)` bit for bit, and leaves a `&mut Vec` argument as `f` does;
//! - every coordinate of the gradient agrees with a central finite difference of `f`
//!   ([`gradcheck_with`]);
//! - along seeded random directions `v`, `f_jvp(x, v)` returns `f(x)` bit for bit and a tangent
//!   `J·v` with `⟨J·v, 1⟩ = ⟨v, ∇f⟩` (the dot-product test of forward against reverse mode,
//!   [`dot_product_test_with`]).

use core::fmt;

use autodiff::check::{
    DotReport, Report, Tolerance, dot_product_test_with, gradcheck_with, hvpcheck_with,
    random_direction,
};
use autodiff::{Differentiable, Real};

/// The absolute difference of the dot-product test that `f32` cases accept whatever the
/// relative one (see [`check`]).
pub const F32_DOT_ATOL: f64 = 1e-6;

/// The absolute difference of the dot-product test that `f64` cases accept whatever the
/// relative one: a derivative that is exactly zero (`g(x) - g(x)`) comes out of reverse mode as
/// the rounding of its terms' cancellation (1.6e-18 from terms of size 1), where the relative
/// difference to forward mode's exact 0 is 1. The generated values and derivatives are of
/// size 1 to a few tens, so a real error is far above this.
pub const F64_DOT_ATOL: f64 = 1e-14;

/// The precision the checks expect of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Computed in `f64` throughout: `f64`'s finite-difference step and tolerances.
    Double,
    /// Computed in `f32`, or in `f64` with values rounded to `f32` on the way: `f32`'s step and
    /// tolerances, since the rounding to `f32` is what limits how well a difference quotient
    /// approximates the derivative.
    Single,
}

/// How a case failed its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// `f_grad` or `f_jvp` returned a value other than `f`'s.
    Value,
    /// `f_grad` or `f_jvp` left a `&mut` argument other than `f` does.
    Effect,
    /// `f` itself is not finite at the point: the generator's fault, not the macro's.
    NonFiniteValue,
    /// `f` itself panics at the point (an integer overflow in a loop the generator left
    /// unbounded): the generator's fault, not the macro's.
    PlainPanics,
    /// A gradient coordinate disagrees with the finite difference (or is not finite).
    Gradient,
    /// The plain function jumps within a step of the point (a `trunc` of a value that
    /// cancels to an integer, `x += s - x`): the central differences of the failing
    /// coordinates grow tenfold at a tenth of the step, as a jump's do and a derivative's do
    /// not. The generator's fault, not the macro's.
    Jump,
    /// The forward-mode tangent disagrees with the gradient (the dot-product test).
    Tangent,
    /// `f_hvp`'s gradient differs from `f_grad`'s, or its Hessian-vector product from the
    /// central difference of the gradient.
    Hvp,
}

impl FailureKind {
    /// A short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Value => "value differs from the plain function",
            FailureKind::Effect => "&mut argument left differently",
            FailureKind::NonFiniteValue => "plain function not finite (generator)",
            FailureKind::PlainPanics => "plain function panics (generator)",
            FailureKind::Gradient => "wrong gradient (finite differences)",
            FailureKind::Jump => "plain function jumps at the point (generator)",
            FailureKind::Tangent => "wrong tangent (dot-product test)",
            FailureKind::Hvp => "wrong Hessian-vector product (differences of the gradient)",
        }
    }
}

/// A failed check: what failed and the numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// What failed.
    pub kind: FailureKind,
    /// The report of the check.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.detail)
    }
}

/// Random directions per case for the dot-product test.
pub const DIRECTIONS: u64 = 2;

/// Runs the checks of the module docs on the plain function `f`, its `grad` and `jvp`, as
/// functions of the packed differentiated parameters `P`, at `x`. Each function also returns
/// the final contents of a `&mut` argument (`E = ()` where there is none). `seed` chooses the
/// directions.
pub fn check<P, E>(
    x: &P,
    precision: Precision,
    seed: u64,
    f: impl Fn(&P) -> (P::Scalar, E),
    grad: impl Fn(&P) -> (P::Scalar, P, E),
    jvp: impl Fn(&P, &P) -> (P::Scalar, P::Scalar, E),
) -> Result<(), Failure>
where
    P: Differentiable,
    E: PartialEq + fmt::Debug,
{
    check_dyn(x, precision, seed, &f, &grad, &jvp)
}

/// The plain function, the gradient and the forward mode as [`check_dyn`] calls them.
type Plain<'a, P, E> = &'a dyn Fn(&P) -> (<P as Differentiable>::Scalar, E);
type Gradient<'a, P, E> = &'a dyn Fn(&P) -> (<P as Differentiable>::Scalar, P, E);
type Tangent<'a, P, E> = &'a dyn Fn(
    &P,
    &P,
) -> (
    <P as Differentiable>::Scalar,
    <P as Differentiable>::Scalar,
    E,
);

/// [`check`] of functions called through `dyn` references: compiled once per type of the
/// parameters and of the effect, not again for each generated program's functions.
fn check_dyn<P, E>(
    x: &P,
    precision: Precision,
    seed: u64,
    f: Plain<'_, P, E>,
    grad: Gradient<'_, P, E>,
    jvp: Tangent<'_, P, E>,
) -> Result<(), Failure>
where
    P: Differentiable,
    E: PartialEq + fmt::Debug,
{
    let fail = |kind, detail: String| Err(Failure { kind, detail });
    let (y, effect) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(x))) {
        Ok(r) => r,
        Err(_) => return fail(FailureKind::PlainPanics, "f(x) panics".to_string()),
    };
    if !y.is_finite() {
        return fail(FailureKind::NonFiniteValue, format!("f(x) = {y:?}"));
    }
    let (yg, g, effect_g) = grad(x);
    if yg.as_f64().to_bits() != y.as_f64().to_bits() {
        return fail(
            FailureKind::Value,
            format!("f_grad(x).0 = {yg:?}, f(x) = {y:?}"),
        );
    }
    if effect_g != effect {
        return fail(
            FailureKind::Effect,
            format!("after f_grad: {effect_g:?}, after f: {effect:?}"),
        );
    }
    let (tolerance, rtol) = match precision {
        Precision::Double => (
            Tolerance::default_for::<f64>(),
            DotReport::default_rtol::<f64>(),
        ),
        Precision::Single => (
            Tolerance::default_for::<f32>(),
            DotReport::default_rtol::<f32>(),
        ),
    };
    let mut report = gradcheck_with(|p: &P| f(p).0, x, &g, tolerance);
    if !report.passed() && precision == Precision::Single {
        // `f32`'s wide step is what the rounding to `f32` needs where it affects the result,
        // but a coordinate the rounding does not touch may curve too fast for it (a
        // `to_degrees` multiplies the curvature by 57³): `f64`'s step decides there.
        // Between the two, a tenth of `f32`'s step with its tolerances: a coordinate that
        // curves fast near a maximum of `sin` (sin⁴(x²·cosh x) at 0.996 has a central
        // difference 1.3% off at the step 1e-2) while the rounding to `f32` still matters;
        // and a hundredth, for a coordinate that oscillates through a `to_degrees`
        // (sin(50^sin(cos(deg(w(x)) + x))) at 0.926: 51.9 at the step 1e-2, 13.2 at 1e-3,
        // 12.61 at 1e-4 and in `f64`).
        let finer = |k: f64| Tolerance {
            step: tolerance.step / k,
            ..tolerance
        };
        for t in [finer(10.0), finer(100.0), Tolerance::default_for::<f64>()] {
            let fine = gradcheck_with(|p: &P| f(p).0, x, &g, t);
            if fine.passed() {
                report = fine;
                break;
            }
        }
    }
    // In `f64`, a coordinate that curves fast (a `to_degrees` chain: exp(−atanh(0.8·tanh t)) of
    // degrees has a central difference 1.2e-6 off at the step 1e-6) gets a second look through
    // Richardson extrapolation, whose error shrinks as h⁴ instead of h².
    let truncation =
        !report.passed() && precision == Precision::Double && richardson_agrees(f, x, &report);
    if !report.passed() && !truncation {
        // A jump of the plain function within a step of the point: the failing coordinates'
        // differences are large and grow tenfold at a tenth of the step. In `f32`, where the
        // report is at `f32`'s wide step, also at `f64`'s: a jump of 0.1 is a difference of 5 at
        // the step 1e-2 (no larger than a derivative may be), of 5·10⁴ at 1e-6.
        let jumps_at = |coarse: &Report| {
            let finer = Tolerance {
                step: coarse.tolerance.step / 10.0,
                ..coarse.tolerance
            };
            let fine = gradcheck_with(|p: &P| f(p).0, x, &g, finer);
            coarse
                .entries
                .iter()
                .zip(&fine.entries)
                .filter(|(e, _)| !e.ok)
                .all(|(e, f)| {
                    e.numeric.abs() > 100.0 * e.analytic.abs().max(1.0)
                        && f.numeric.abs() > 5.0 * e.numeric.abs()
                })
        };
        let jumps = jumps_at(&report)
            || (precision == Precision::Single && {
                let at_f64 = Tolerance::default_for::<f64>();
                let r = gradcheck_with(|p: &P| f(p).0, x, &g, at_f64);
                !r.passed() && jumps_at(&r)
            });
        let kind = if jumps {
            FailureKind::Jump
        } else {
            FailureKind::Gradient
        };
        return fail(kind, format!("{report}"));
    }
    for d in 0..DIRECTIONS {
        let v = random_direction(x, seed.wrapping_add(d));
        let (yj, t, effect_j) = jvp(x, &v);
        if yj.as_f64().to_bits() != y.as_f64().to_bits() {
            return fail(
                FailureKind::Value,
                format!("f_jvp(x, v).0 = {yj:?}, f(x) = {y:?}"),
            );
        }
        if effect_j != effect {
            return fail(
                FailureKind::Effect,
                format!("after f_jvp: {effect_j:?}, after f: {effect:?}"),
            );
        }
        // f has one output: ⟨J·v, w⟩ with w = 1 against ⟨v, Jᵀ·1⟩ = ⟨v, ∇f⟩.
        let report = dot_product_test_with(&v, &t, &P::Scalar::ONE, &g, rtol);
        // In `f32`, a derivative far below the terms it is computed from (2e-12 from factors
        // of 1e-7) keeps few correct digits, and forward and reverse mode round differently;
        // a difference below `F32_DOT_ATOL` is rounding, a thousand times finer than what the
        // finite differences check of each coordinate.
        let atol = match precision {
            Precision::Single => F32_DOT_ATOL,
            Precision::Double => F64_DOT_ATOL,
        };
        let rounding = report.abs_error <= atol;
        if !report.passed() && !rounding {
            return fail(FailureKind::Tangent, format!("{report}"));
        }
    }
    Ok(())
}

/// Whether every coordinate `report` failed agrees with the Richardson extrapolation
/// `(4·D(h/2) − D(h)) / 3` of central differences `D` at the steps `h = 10⁻⁵` and `h/2`, to
/// `report`'s tolerances. The extrapolation cancels the difference's h² term of truncation, so
/// that a coordinate whose third derivative is large is judged by its gradient and not by the
/// difference quotient's error; a wrong gradient stays as far from it as from the quotient.
fn richardson_agrees<P, E>(f: Plain<'_, P, E>, x: &P, report: &Report) -> bool
where
    P: Differentiable,
{
    let at = |step: f64| {
        let t = Tolerance {
            step,
            ..report.tolerance
        };
        // Only the differences are read: `x` stands in for the gradient.
        gradcheck_with(|p: &P| f(p).0, x, x, t).entries
    };
    let (coarse, fine) = (at(1e-5), at(5e-6));
    report.failures().all(|e| {
        let extrapolated = (4.0 * fine[e.index].numeric - coarse[e.index].numeric) / 3.0;
        report.tolerance.allows(e.analytic, extrapolated)
    })
}

/// For a case declared `#[differentiate(hessian)]` (in `f64`), after [`check`]: along seeded
/// random directions `v`, `f_hvp(x, v)` returns `f(x)` bit for bit, `f_grad`'s gradient (to
/// rounding: forward over reverse computes it in another order) and a Hessian-vector product
/// that agrees with the central difference of `f_grad` along `v` ([`hvpcheck_with`]).
pub fn check_hvp<P, E>(
    x: &P,
    seed: u64,
    f: impl Fn(&P) -> (P::Scalar, E),
    grad: impl Fn(&P) -> (P::Scalar, P, E),
    hvp: impl Fn(&P, &P) -> (P::Scalar, P, P),
) -> Result<(), Failure>
where
    P: Differentiable,
    E: PartialEq + fmt::Debug,
{
    let fail = |kind, detail: String| Err(Failure { kind, detail });
    let (y, _) = f(x);
    let tolerance = Tolerance::default_for::<f64>();
    for d in 0..DIRECTIONS {
        let v = random_direction(x, seed.wrapping_add(100 + d));
        let (yh, gh, hv) = hvp(x, &v);
        if yh.as_f64().to_bits() != y.as_f64().to_bits() {
            return fail(
                FailureKind::Value,
                format!("f_hvp(x, v).0 = {yh:?}, f(x) = {y:?}"),
            );
        }
        let same = gradcheck_with(|p: &P| f(p).0, x, &gh, tolerance);
        if !same.passed() {
            return fail(FailureKind::Hvp, format!("the gradient of f_hvp: {same}"));
        }
        let report = hvpcheck_with(|p: &P| grad(p).1, x, &v, &hv, tolerance);
        if !report.passed()
            && !truncated(&report, |t| hvpcheck_with(|p: &P| grad(p).1, x, &v, &hv, t))
        {
            return fail(FailureKind::Hvp, format!("{report}"));
        }
    }
    Ok(())
}

/// Whether a failed directional-difference check failed by the difference's own truncation
/// error: at a tenth of the step the check passes, and every entry that failed is at least
/// fifty times closer, as an `O(h²)` error is (a hundredfold). A gradient whose third
/// derivative is large (a product of 1.4·10⁵ whose difference was 1.3·10⁻⁶ off at the step
/// 10⁻⁶, 1.3·10⁻⁴ off at 10⁻⁵, 1.3·10⁻² at 10⁻⁴) fails at the default step although the product
/// is right; a wrong product's error does not shrink with the step.
fn truncated(report: &Report, at: impl Fn(Tolerance) -> Report) -> bool {
    let finer = at(Tolerance {
        step: report.tolerance.step / 10.0,
        ..report.tolerance
    });
    finer.passed()
        && report
            .entries
            .iter()
            .zip(&finer.entries)
            .filter(|(e, _)| !e.ok)
            .all(|(e, f)| {
                let coarse = (e.analytic - e.numeric).abs();
                let fine = (f.analytic - f.numeric).abs();
                fine <= coarse / 50.0
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x, y) = x²·y: ∇f = (2xy, x²), J·v = 2xy·v₀ + x²·v₁.
    fn f(p: &(f64, f64)) -> f64 {
        p.0 * p.0 * p.1
    }

    fn grad(p: &(f64, f64)) -> (f64, f64) {
        (2.0 * p.0 * p.1, p.0 * p.0)
    }

    fn jvp(p: &(f64, f64), v: &(f64, f64)) -> f64 {
        2.0 * p.0 * p.1 * v.0 + p.0 * p.0 * v.1
    }

    fn run(
        g: impl Fn(&(f64, f64)) -> (f64, f64),
        t: impl Fn(&(f64, f64), &(f64, f64)) -> f64,
    ) -> Result<(), Failure> {
        check(
            &(0.7, -1.3),
            Precision::Double,
            5,
            |p| (f(p), ()),
            |p| (f(p), g(p), ()),
            |p, v| (f(p), t(p, v), ()),
        )
    }

    #[test]
    fn correct_derivatives_pass() {
        assert_eq!(run(grad, jvp), Ok(()));
    }

    #[test]
    fn a_wrong_gradient_fails() {
        let wrong = |p: &(f64, f64)| (2.0 * p.0 * p.1, 2.0 * p.0);
        let e = run(wrong, jvp).unwrap_err();
        assert_eq!(e.kind, FailureKind::Gradient, "{e}");
    }

    #[test]
    fn a_wrong_tangent_fails() {
        let wrong = |p: &(f64, f64), v: &(f64, f64)| 2.0 * p.0 * p.1 * v.0;
        let e = run(grad, wrong).unwrap_err();
        assert_eq!(e.kind, FailureKind::Tangent, "{e}");
    }

    /// f(x) = 1e-7·x² in `f32`: f'(x) = 2e-7·x. A tangent off by 1e-9 (rounding of a
    /// derivative that small) passes in `f32`, in `f64` it does not; one off by 1e-4 fails.
    #[test]
    fn f32_rounding_of_a_tiny_derivative_passes() {
        let f = |p: &f32| 1e-7 * p * p;
        let d = |p: &f32| 2e-7 * p;
        let run = |off: f32, precision| {
            check(
                &0.8f32,
                precision,
                3,
                |p| (f(p), ()),
                |p| (f(p), d(p), ()),
                |p, v| (f(p), d(p) * v + off, ()),
            )
        };
        assert_eq!(run(1e-9, Precision::Single), Ok(()));
        let e = run(1e-9, Precision::Double).unwrap_err();
        assert_eq!(e.kind, FailureKind::Tangent, "{e}");
        let e = run(1e-4, Precision::Single).unwrap_err();
        assert_eq!(e.kind, FailureKind::Tangent, "{e}");
    }

    /// f(x) = sin(50^sin(cos(deg(w) + x))), w = ln(1 + x²)/(1 + ln²(1 + x²)), in `f32` at
    /// 0.926: f'(x) = cos(p)·p·ln 50·cos(c)·(-sin(u))·(57.2958·w' + 1), with
    /// p = 50^sin(c), c = cos(u), u = deg(w) + x, w' = (1 - z²)/(1 + z²)²·2x/(1 + x²), z =
    /// ln(1 + x²): 12.61 (what the step 1e-4 finds; 1e-2 gives 51.9, 1e-3 13.2). It passes, twice
    /// it fails.
    #[test]
    fn f32_derivative_through_to_degrees_passes() {
        fn f(x: f32) -> f32 {
            let z = (x * x).ln_1p();
            let w = z / (1.0 + z * z);
            let c = (w.to_degrees() + x).cos();
            (50f32.powf(c.sin())).sin()
        }
        let xd = 0.926f64;
        let z = (xd * xd).ln_1p();
        let w = z / (1.0 + z * z);
        let dw = (1.0 - z * z) / ((1.0 + z * z) * (1.0 + z * z)) * 2.0 * xd / (1.0 + xd * xd);
        let u = w.to_degrees() + xd;
        let c = u.cos();
        let p = 50f64.powf(c.sin());
        let d = (p.cos() * p * 50f64.ln() * c.cos() * -u.sin() * (dw.to_degrees() + 1.0)) as f32;
        assert!((d - 12.61).abs() < 0.01, "{d}");
        let run = |d: f32| {
            check(
                &0.926f32,
                Precision::Single,
                3,
                |p| (f(*p), ()),
                |p| (f(*p), d, ()),
                |p, v| (f(*p), d * v, ()),
            )
        };
        assert_eq!(run(d), Ok(()));
        let e = run(2.0 * d).unwrap_err();
        assert_eq!(e.kind, FailureKind::Gradient, "{e}");
    }

    /// f(x) = x² - x² = 0: reverse mode may leave the rounding of the cancellation (1.6e-18)
    /// where forward mode has exactly 0; that passes, a gradient off by 1e-12 fails.
    #[test]
    fn f64_rounding_of_a_zero_derivative_passes() {
        let run = |off: f64| {
            check(
                &0.8f64,
                Precision::Double,
                3,
                |p| (p * p - p * p, ()),
                |p| (p * p - p * p, off, ()),
                |p, _| (p * p - p * p, 0.0, ()),
            )
        };
        assert_eq!(run(-1.6e-18), Ok(()));
        let e = run(1e-12).unwrap_err();
        assert_eq!(e.kind, FailureKind::Tangent, "{e}");
    }

    /// f(x) = cos(trunc(x)) at x = 1 (a value that cancels to an integer): the derivative is
    /// 0 on either side, the central difference of the jump (cos 1 − 1)/2h. Classed as a jump
    /// of the plain function; a wrong derivative of a smooth function (2x for x²) is not.
    #[test]
    fn a_jump_at_the_point_is_told_from_a_wrong_gradient() {
        let run = |f: fn(f64) -> f64, d: f64| {
            check(
                &1.0f64,
                Precision::Double,
                3,
                |p| (f(*p), ()),
                |p| (f(*p), d, ()),
                |p, v| (f(*p), d * v, ()),
            )
        };
        let e = run(|x| x.trunc().cos(), 0.0).unwrap_err();
        assert_eq!(e.kind, FailureKind::Jump, "{e}");
        let e = run(|x| 1e3 * x * x, 1e5).unwrap_err();
        assert_eq!(e.kind, FailureKind::Gradient, "{e}");
    }

    /// f(x) = a·x⁴ + x at x = 0 with a = 10⁴: ∇f = 4a·x³ + 1, H·v = 12a·x²·v = 0, while the
    /// central difference of the gradient is 4a·h²·v, 4·10⁻⁸·v at the step 10⁻⁶: the product is
    /// right and the difference's truncation error fails the check, a hundredfold smaller at a
    /// tenth of the step. A product off by 10⁻⁶·v is still wrong at every step.
    #[test]
    fn a_truncation_error_of_the_difference_is_told_from_a_wrong_product() {
        let a = 1e4;
        let f = move |p: &f64| (a * p.powi(4) + p, ());
        let grad = move |p: &f64| (f(p).0, 4.0 * a * p.powi(3) + 1.0, ());
        let run = |off: f64| {
            check_hvp(&0.0f64, 7, f, grad, move |p: &f64, v: &f64| {
                (f(p).0, grad(p).1, 12.0 * a * p * p * v + off * v)
            })
        };
        assert_eq!(run(0.0), Ok(()));
        let e = run(1e-6).unwrap_err();
        assert_eq!(e.kind, FailureKind::Hvp, "{e}");
        // At the default step alone, the right product fails.
        let v = random_direction(&0.0f64, 107);
        let r = hvpcheck_with(
            |p: &f64| grad(p).1,
            &0.0,
            &v,
            &0.0,
            Tolerance::default_for::<f64>(),
        );
        assert!(!r.passed(), "{r}");
    }

    /// f(x) = sin(3000·x) at x = 0.3: the central difference at the step 10⁻⁶ is off by
    /// (3000·h)²/6 = 1.5·10⁻⁶ relative, over the tolerance of 10⁻⁶, so the right gradient
    /// passes only through the Richardson extrapolation; a gradient off by 10⁻⁵ relative still
    /// fails as a wrong gradient.
    #[test]
    fn a_truncation_error_of_the_difference_is_told_from_a_wrong_gradient() {
        let k = 3000.0;
        let run = |scale: f64| {
            check(
                &0.3f64,
                Precision::Double,
                5,
                |p| ((k * p).sin(), ()),
                |p| ((k * p).sin(), scale * k * (k * p).cos(), ()),
                |p, v| ((k * p).sin(), scale * k * (k * p).cos() * v, ()),
            )
        };
        assert_eq!(run(1.0), Ok(()));
        let e = run(1.0 + 1e-5).unwrap_err();
        assert_eq!(e.kind, FailureKind::Gradient, "{e}");
        // At the default step alone, the right gradient fails.
        let r = gradcheck_with(
            |p: &f64| (k * p).sin(),
            &0.3,
            &(k * (k * 0.3f64).cos()),
            Tolerance::default_for::<f64>(),
        );
        assert!(!r.passed(), "{r}");
    }

    /// f(x) = 0.1·trunc(2x) in `f32` at x = 0.5, the point of a jump of 0.1: its central
    /// difference is 5 at `f32`'s step 1e-2, as a derivative may be, and 5·10⁴ at `f64`'s step,
    /// where it is told for a jump; a wrong derivative of a smooth function at that size (0.1
    /// for 0.3·x²'s 0.3) is not.
    #[test]
    fn a_small_jump_in_f32_is_told_from_a_wrong_gradient() {
        let run = |f: fn(f32) -> f32, d: f32| {
            check(
                &0.5f32,
                Precision::Single,
                3,
                |p| (f(*p), ()),
                |p| (f(*p), d, ()),
                |p, v| (f(*p), d * v, ()),
            )
        };
        let e = run(|x| 0.1 * (2.0 * x).trunc(), 0.0).unwrap_err();
        assert_eq!(e.kind, FailureKind::Jump, "{e}");
        let e = run(|x| 0.3 * x * x, 0.1).unwrap_err();
        assert_eq!(e.kind, FailureKind::Gradient, "{e}");
    }

    #[test]
    fn a_different_value_or_effect_fails() {
        let x = 0.5;
        let e = check(
            &x,
            Precision::Double,
            1,
            |p: &f64| (p.sin(), ()),
            |p| (p.sin() + 1e-16, p.cos(), ()),
            |p, v| (p.sin(), p.cos() * v, ()),
        )
        .unwrap_err();
        assert_eq!(e.kind, FailureKind::Value, "{e}");
        let e = check(
            &x,
            Precision::Double,
            1,
            |p: &f64| (p.sin(), vec![*p]),
            |p| (p.sin(), p.cos(), vec![]),
            |p, v| (p.sin(), p.cos() * v, vec![*p]),
        )
        .unwrap_err();
        assert_eq!(e.kind, FailureKind::Effect, "{e}");
    }
}
