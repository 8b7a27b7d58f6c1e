//! Derivative checking: compares derivatives with finite differences of the function, in the
//! manner of PyTorch's `gradcheck` and JAX's `check_grads`.
//!
//! Every derivative rule and every construct the macro supports is tested this way, and users can
//! check their own custom rules (a hand-written `f_vjp` or `f_jvp`) the same way. Functions take
//! any [`Differentiable`] value — a scalar, `Vec`, array, tuple, ndarray `Array` or a derived
//! parameter struct.
//!
//! | what is checked | against | function |
//! |---|---|---|
//! | a gradient `∇f(x)` (scalar `f`) | central differences `(f(x + h·eᵢ) − f(x − h·eᵢ))/2h`, one per scalar of `x` | [`gradcheck`] |
//! | a forward-mode tangent `J(x)·v` (any `f`) | the directional difference `(f(x + h·v) − f(x − h·v))/2h` | [`jvpcheck`] |
//! | a pullback `wᵀ·J(x)` | the tangent: `⟨J v, w⟩ = ⟨v, Jᵀ w⟩` (the dot-product test) | [`dot_product_test`] |
//! | a Hessian-vector product `H(x)·v` | the directional difference of the gradient | [`hvpcheck`] |
//! | two Hessian-vector products | symmetry: `⟨u, H v⟩ = ⟨v, H u⟩` | [`hessian_symmetry`] |
//!
//! [`random_direction`] makes the seeded random directions `v`, `w` these checks are run with.
//!
//! ```
//! use autodiff_runtime::check::{assert_gradient, gradcheck};
//!
//! // f(x) = x₀² + x₀·sin x₁, with ∇f = (2x₀ + sin x₁, x₀·cos x₁).
//! let f = |x: &Vec<f64>| x[0] * x[0] + x[0] * x[1].sin();
//! let x: Vec<f64> = vec![1.5, 0.3];
//! let gradient = vec![2.0 * x[0] + x[1].sin(), x[0] * x[1].cos()];
//! assert_gradient(f, &x, &gradient);
//!
//! // A wrong gradient fails, and the report says where.
//! let report = gradcheck(f, &x, &vec![2.0 * x[0], x[0] * x[1].cos()]);
//! assert!(!report.passed());
//! assert_eq!(report.entries.iter().filter(|e| !e.ok).count(), 1);
//! assert!(!report.entries[0].ok);
//! println!("{report}");
//! ```
//!
//! # Accuracy
//!
//! A central difference with step `h` has truncation error `h²·f‴/6` and rounding error about
//! `ε·|f|/h` (`ε` the machine epsilon), so the default step and tolerances depend on the scalar
//! type (see [`Tolerance::default_for`]). The step is absolute: choose one suited to the scale of
//! `x` with [`gradcheck_with`] when the inputs are far from unit scale. Checking an `f32`
//! function in `f32` is coarse; where possible, check the `f64` instance of a generic function.

mod forward;
mod inner;
mod random;

pub use forward::{directional_difference, hvpcheck, hvpcheck_with, jvpcheck, jvpcheck_with};
pub use inner::{
    DotReport, dot_product_test, dot_product_test_with, hessian_symmetry, hessian_symmetry_with,
};
pub use random::random_direction;

use core::fmt;

use crate::differentiable::{Differentiable, Real, from_flat, to_flat, update_scalar};

/// Step and tolerances of a gradient check.
///
/// An entry passes when `|analytic − numeric| <= atol + rtol·max(|analytic|, |numeric|)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Finite-difference step `h`, absolute: `f` is evaluated at `xᵢ ± h`.
    pub step: f64,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
}

impl Tolerance {
    /// The defaults for scalar type `S`.
    ///
    /// | `S`   | `step` | `rtol` | `atol` |
    /// |-------|--------|--------|--------|
    /// | `f64` | 1e-6   | 1e-6   | 1e-8   |
    /// | `f32` | 1e-2   | 1e-2   | 1e-3   |
    ///
    /// The steps are within a factor of ten of the step `ε^(1/3)` that balances truncation and
    /// rounding error in a central difference (`6e-6` for `f64`, `5e-3` for `f32`); at unit
    /// scale both errors then stay well inside the tolerances.
    pub fn default_for<S: Real>() -> Self {
        if is_single::<S>() {
            Tolerance {
                step: 1e-2,
                rtol: 1e-2,
                atol: 1e-3,
            }
        } else {
            Tolerance {
                step: 1e-6,
                rtol: 1e-6,
                atol: 1e-8,
            }
        }
    }

    /// The looser of two tolerances, field by field: for a check whose input and output have
    /// different scalar types (an `f64` function of `f32` inputs, or one computed in `f32`), where
    /// the coarser type sets both the step and the tolerances.
    ///
    /// ```
    /// use autodiff_runtime::check::Tolerance;
    ///
    /// let mixed = Tolerance::default_for::<f64>().coarser(Tolerance::default_for::<f32>());
    /// assert_eq!(mixed, Tolerance::default_for::<f32>());
    /// ```
    pub fn coarser(self, other: Tolerance) -> Tolerance {
        Tolerance {
            step: self.step.max(other.step),
            rtol: self.rtol.max(other.rtol),
            atol: self.atol.max(other.atol),
        }
    }

    /// Whether `analytic` and `numeric` agree within this tolerance. Equal values (also equal
    /// infinities) agree; NaN never does.
    pub fn allows(&self, analytic: f64, numeric: f64) -> bool {
        analytic == numeric
            || (analytic - numeric).abs()
                <= self.atol + self.rtol * analytic.abs().max(numeric.abs())
    }
}

/// One scalar of a check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// Position of the scalar in leaf order (the order of [`Differentiable::visit_leaves`]) of
    /// the value under test: the gradient for [`gradcheck`], the tangent for [`jvpcheck`], the
    /// Hessian-vector product for [`hvpcheck`].
    pub index: usize,
    /// The derivative under test.
    pub analytic: f64,
    /// The central finite difference.
    pub numeric: f64,
    /// `|analytic − numeric|`; `0` when they are equal (also equal infinities).
    pub abs_error: f64,
    /// `|analytic − numeric| / max(|analytic|, |numeric|)`; `0` when they are equal, `+∞` when
    /// exactly one is infinite.
    pub rel_error: f64,
    /// Whether this entry is within tolerance.
    pub ok: bool,
}

/// The result of a check against finite differences: one [`Entry`] per scalar of the derivative
/// under test.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The check that made this report: `"gradcheck"`, `"jvpcheck"` or `"hvpcheck"`.
    pub check: &'static str,
    /// One entry per scalar of the derivative under test, in leaf order.
    pub entries: Vec<Entry>,
    /// The largest `abs_error` (NaN if any is NaN).
    pub max_abs_error: f64,
    /// The largest `rel_error` (NaN if any is NaN).
    pub max_rel_error: f64,
    /// The step and tolerances used.
    pub tolerance: Tolerance,
}

impl Report {
    /// `true` when every entry is within tolerance.
    pub fn passed(&self) -> bool {
        self.entries.iter().all(|e| e.ok)
    }

    /// The entries out of tolerance.
    pub fn failures(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.ok)
    }

    /// Panics with a table of the failing entries unless the check passed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.passed() {
            panic!("{self}");
        }
    }
}

/// At most this many rows are printed by `Display` (without the `#` flag).
const MAX_ROWS: usize = 20;

impl fmt::Display for Report {
    /// A summary line, then a table of the failing entries (with `{:#}`, of every entry).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Tolerance { step, rtol, atol } = self.tolerance;
        let failed = self.failures().count();
        let n = self.entries.len();
        if failed == 0 {
            write!(f, "{} passed: {n} scalars", self.check)?;
        } else {
            write!(
                f,
                "{} FAILED: {failed} of {n} scalars out of tolerance",
                self.check
            )?;
        }
        writeln!(
            f,
            "; max abs error {:.3e}, max rel error {:.3e} (step {step:e}, rtol {rtol:e}, atol {atol:e})",
            self.max_abs_error, self.max_rel_error
        )?;
        let rows: Vec<&Entry> = if f.alternate() {
            self.entries.iter().collect()
        } else {
            self.failures().take(MAX_ROWS).collect()
        };
        if rows.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "{:>7}  {:>16}  {:>16}  {:>10}  {:>10}  ok",
            "index", "analytic", "numeric", "abs error", "rel error"
        )?;
        for e in &rows {
            writeln!(
                f,
                "{:>7}  {:>16.9e}  {:>16.9e}  {:>10.3e}  {:>10.3e}  {}",
                e.index,
                e.analytic,
                e.numeric,
                e.abs_error,
                e.rel_error,
                if e.ok { "yes" } else { "NO" }
            )?;
        }
        if !f.alternate() && failed > rows.len() {
            writeln!(f, "... and {} more failing entries", failed - rows.len())?;
        }
        Ok(())
    }
}

/// Central finite differences of `f` at `x`: for each scalar `xᵢ`, in leaf order,
/// `(f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h`, returned in the shape of `x`.
///
/// The denominator is the distance between the two evaluation points as actually rounded, so
/// rounding of `xᵢ ± h` does not bias the quotient.
///
/// ```
/// use autodiff_runtime::check::finite_difference;
///
/// let d = finite_difference(|x: &[f64; 2]| x[0] * x[1], &[3.0, 4.0], 1e-6);
/// assert!((d[0] - 4.0).abs() < 1e-8 && (d[1] - 3.0).abs() < 1e-8);
/// ```
pub fn finite_difference<P, F>(mut f: F, x: &P, step: P::Scalar) -> P
where
    P: Differentiable,
    F: FnMut(&P) -> P::Scalar,
{
    differences(&mut f, x, step)
}

/// [`finite_difference`] of a function called through a `dyn` reference: the checks are
/// compiled once per parameter type, not again for every closure a test passes (each its own
/// type), which in a crate of many checked functions was a fifth of its generated code.
fn differences<P: Differentiable>(f: &mut dyn FnMut(&P) -> P::Scalar, x: &P, step: P::Scalar) -> P {
    let n = x.num_scalars();
    let mut quotients = Vec::with_capacity(n);
    for i in 0..n {
        let (plus, at_plus) = perturbed(x, i, step);
        let (minus, at_minus) = perturbed(x, i, -step);
        quotients.push((f(&plus) - f(&minus)) / (at_plus - at_minus));
    }
    from_flat(x, &quotients)
}

/// Checks `gradient` against central finite differences of `f` at `x`, with the default step and
/// tolerances of `P::Scalar` ([`Tolerance::default_for`]).
///
/// # Panics
///
/// If `gradient` does not have as many scalars as `x`.
pub fn gradcheck<P, F>(f: F, x: &P, gradient: &P) -> Report
where
    P: Differentiable,
    F: FnMut(&P) -> P::Scalar,
{
    gradcheck_with(f, x, gradient, Tolerance::default_for::<P::Scalar>())
}

/// [`gradcheck`] with an explicit step and tolerances.
///
/// # Panics
///
/// If `gradient` does not have as many scalars as `x`.
pub fn gradcheck_with<P, F>(mut f: F, x: &P, gradient: &P, tolerance: Tolerance) -> Report
where
    P: Differentiable,
    F: FnMut(&P) -> P::Scalar,
{
    gradcheck_dyn(&mut f, x, gradient, tolerance)
}

/// [`gradcheck_with`] of a function called through a `dyn` reference (see [`differences`]).
fn gradcheck_dyn<P: Differentiable>(
    f: &mut dyn FnMut(&P) -> P::Scalar,
    x: &P,
    gradient: &P,
    tolerance: Tolerance,
) -> Report {
    assert!(
        gradient.num_scalars() == x.num_scalars(),
        "gradcheck: the gradient has {} scalars but x has {}",
        gradient.num_scalars(),
        x.num_scalars()
    );
    let numeric = to_flat(&differences(f, x, P::Scalar::of_f64(tolerance.step)));
    compare("gradcheck", &to_flat(gradient), &numeric, tolerance)
}

/// The report of a check of `analytic` against `numeric`, entry by entry.
fn compare<S: Real, T: Real>(
    check: &'static str,
    analytic: &[S],
    numeric: &[T],
    tolerance: Tolerance,
) -> Report {
    let entries: Vec<Entry> = analytic
        .iter()
        .zip(numeric)
        .enumerate()
        .map(|(index, (&a, &n))| {
            let (analytic, numeric) = (a.as_f64(), n.as_f64());
            // Equal values (also equal infinities) have no error.
            let abs_error = if analytic == numeric {
                0.0
            } else {
                (analytic - numeric).abs()
            };
            let rel_error = if abs_error == 0.0 || abs_error.is_infinite() {
                abs_error
            } else {
                abs_error / analytic.abs().max(numeric.abs())
            };
            let ok = tolerance.allows(analytic, numeric);
            Entry {
                index,
                analytic,
                numeric,
                abs_error,
                rel_error,
                ok,
            }
        })
        .collect();
    let max_abs_error = nan_max(entries.iter().map(|e| e.abs_error));
    let max_rel_error = nan_max(entries.iter().map(|e| e.rel_error));
    Report {
        check,
        entries,
        max_abs_error,
        max_rel_error,
        tolerance,
    }
}

/// Panics with a table of the failing entries unless `gradient` passes [`gradcheck`].
///
/// ```
/// use autodiff_runtime::check::assert_gradient;
///
/// // d/dx x³ = 3x².
/// assert_gradient(|x: &f64| x * x * x, &2.0, &12.0);
/// ```
#[track_caller]
pub fn assert_gradient<P, F>(f: F, x: &P, gradient: &P)
where
    P: Differentiable,
    F: FnMut(&P) -> P::Scalar,
{
    gradcheck(f, x, gradient).assert_ok();
}

/// Panics unless `|actual − expected| <= tol·max(1, |expected|)`: an absolute tolerance for
/// values up to 1 in magnitude, a relative one above. Equal values (also equal infinities) pass;
/// NaN never does.
///
/// ```
/// use autodiff_runtime::check::assert_close;
///
/// assert_close(0.1 + 0.2, 0.3, 1e-15);
/// assert_close(f64::INFINITY, f64::INFINITY, 0.0);
/// ```
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tol: f64) {
    let diff = (actual - expected).abs();
    let bound = tol * expected.abs().max(1.0);
    if !(actual == expected || diff <= bound) {
        panic!(
            "assert_close failed: actual {actual:e}, expected {expected:e}, \
             |difference| {diff:e} > {bound:e} (tol {tol:e} × max(1, |expected|))"
        );
    }
}

/// A copy of `x` with its `i`-th scalar (in leaf order) increased by `h`, and that scalar's new
/// value.
fn perturbed<P: Differentiable>(x: &P, i: usize, h: P::Scalar) -> (P, P::Scalar) {
    let mut p = x.clone();
    let value = update_scalar(&mut p, x, i, |s| *s += h);
    (p, value)
}

/// Whether `S` is single precision: it cannot represent 1 + 2⁻³⁰; double can.
fn is_single<S: Real>() -> bool {
    S::of_f64(1.0 + 2f64.powi(-30)).as_f64() == 1.0
}

/// The maximum, NaN if any element is NaN (`f64::max` would skip it), `0` if empty.
fn nan_max(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, |m, v| if v.is_nan() || v > m { v } else { m })
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2, ShapeBuilder, array};

    use super::*;

    /// f(v) = Σᵢ vᵢ²·sin vᵢ₊₁ (cyclic), whose gradient is written out below.
    #[allow(clippy::ptr_arg)] // the argument type of a function checked at a `Vec<f64>`
    fn f_vec(v: &Vec<f64>) -> f64 {
        let n = v.len();
        (0..n).map(|i| v[i] * v[i] * v[(i + 1) % n].sin()).sum()
    }

    /// ∂f/∂vᵢ = 2vᵢ·sin vᵢ₊₁ + vᵢ₋₁²·cos vᵢ.
    fn grad_vec(v: &[f64]) -> Vec<f64> {
        let n = v.len();
        (0..n)
            .map(|i| {
                let prev = v[(i + n - 1) % n];
                2.0 * v[i] * v[(i + 1) % n].sin() + prev * prev * v[i].cos()
            })
            .collect()
    }

    #[test]
    fn finite_difference_matches_analytic_gradient() {
        let x = vec![0.3, -1.2, 2.0, 0.7];
        let numeric = finite_difference(f_vec, &x, 1e-6);
        for (n, a) in numeric.iter().zip(grad_vec(&x)) {
            assert_close(*n, a, 1e-8);
        }
    }

    #[test]
    fn finite_difference_keeps_the_shape() {
        // f(A) = Σ Aᵢⱼ³: ∇f = 3A², shaped like A.
        let a = array![[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]];
        let numeric = finite_difference(|a: &Array2<f64>| a.mapv(|v| v * v * v).sum(), &a, 1e-5);
        assert_eq!(numeric.shape(), &[2, 3]);
        for (n, v) in numeric.iter().zip(&a) {
            assert_close(*n, 3.0 * v * v, 1e-8);
        }
    }

    #[test]
    fn passes_on_a_correct_vec_gradient() {
        let x = vec![0.3, -1.2, 2.0, 0.7];
        let report = gradcheck(f_vec, &x, &grad_vec(&x));
        assert!(report.passed(), "{report:#}");
        assert_eq!(report.entries.len(), 4);
        assert!(report.max_abs_error < 1e-8, "{report:#}");
        assert_eq!(report.tolerance, Tolerance::default_for::<f64>());
        assert_gradient(f_vec, &x, &grad_vec(&x));
    }

    #[test]
    fn fails_on_a_wrong_vec_gradient() {
        let x = vec![0.3, -1.2, 2.0, 0.7];
        let mut wrong = grad_vec(&x);
        wrong[2] *= 1.01;
        let report = gradcheck(f_vec, &x, &wrong);
        assert!(!report.passed());
        let failing: Vec<usize> = report.failures().map(|e| e.index).collect();
        assert_eq!(failing, [2]);
        let e = report.entries[2];
        assert_close(e.rel_error, 0.01 / 1.01, 1e-6);
        assert_eq!(report.max_abs_error, e.abs_error);
        assert_eq!(report.max_rel_error, e.rel_error);
    }

    #[test]
    #[should_panic(expected = "gradcheck FAILED: 1 of 4 scalars out of tolerance")]
    fn assert_ok_panics_on_a_wrong_gradient() {
        let x = vec![0.3, -1.2, 2.0, 0.7];
        let mut wrong = grad_vec(&x);
        wrong[0] = -wrong[0];
        gradcheck(f_vec, &x, &wrong).assert_ok();
    }

    #[test]
    #[should_panic(expected = "gradcheck FAILED")]
    fn assert_gradient_panics_on_a_wrong_gradient() {
        // d/dx x³ = 3x², not 2x².
        assert_gradient(|x: &f64| x * x * x, &2.0, &8.0);
    }

    /// f((s, v, [a, b])) = s·Σv + a·b·s², with ∇ = (Σv + 2abs, [s; n], [b·s², a·s²]).
    fn f_tuple(p: &(f64, Vec<f64>, [f64; 2])) -> f64 {
        let (s, v, [a, b]) = p;
        s * v.iter().sum::<f64>() + a * b * s * s
    }

    #[test]
    fn passes_and_fails_on_tuples() {
        let x = (1.5, vec![0.5, -2.0, 1.0], [0.3, 4.0]);
        let (s, [a, b]) = (x.0, x.2);
        let grad = (-0.5 + 2.0 * a * b * s, vec![s; 3], [b * s * s, a * s * s]);
        assert_gradient(f_tuple, &x, &grad);

        // Leaf order: s, then v, then the array: index 5 is ∂/∂b.
        let mut wrong = grad.clone();
        wrong.2[1] += 0.1;
        let report = gradcheck(f_tuple, &x, &wrong);
        assert!(!report.passed());
        assert_eq!(report.failures().map(|e| e.index).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn passes_and_fails_on_arrays() {
        // f(A) = Σᵢⱼ tanh(Aᵢⱼ)·j, ∂f/∂Aᵢⱼ = (1 − tanh² Aᵢⱼ)·j.
        let f = |a: &Array2<f64>| {
            a.indexed_iter()
                .map(|((_, j), v)| v.tanh() * j as f64)
                .sum::<f64>()
        };
        let grad_of = |a: &Array2<f64>| {
            Array2::from_shape_fn(a.raw_dim(), |(i, j)| {
                (1.0 - a[[i, j]].tanh().powi(2)) * j as f64
            })
        };
        let a = array![[0.1, -0.5, 2.0], [1.0, 0.3, -1.5]];
        assert_gradient(f, &a, &grad_of(&a));

        // A column-major array: leaves are compared in logical order whatever the layout.
        let mut fortran = Array2::<f64>::zeros((2, 3).f());
        fortran.assign(&a);
        assert!(fortran.as_slice().is_none() && fortran.as_slice_memory_order().is_some());
        assert_gradient(f, &fortran, &grad_of(&a));
        assert_gradient(f, &a, &grad_of(&fortran));

        // Entry indices are logical (row-major): [0, 1] is entry 1 of both layouts, although it
        // is at memory offset 2 of the column-major one.
        let mut wrong = grad_of(&a);
        wrong[[0, 1]] = 0.0;
        for x in [&a, &fortran] {
            let report = gradcheck(f, x, &wrong);
            assert!(!report.passed());
            assert_eq!(report.failures().map(|e| e.index).collect::<Vec<_>>(), [1]);
        }
    }

    #[test]
    fn passes_in_single_precision() {
        // f(v) = Σ exp(vᵢ)·vᵢ, ∂f/∂vᵢ = exp(vᵢ)·(1 + vᵢ), in f32 with the f32 defaults.
        let x: Array1<f32> = array![-0.5, 0.25, 1.5];
        let f = |v: &Array1<f32>| v.mapv(|a| a.exp() * a).sum();
        let grad = x.mapv(|a| a.exp() * (1.0 + a));
        assert_gradient(f, &x, &grad);
        assert!(!gradcheck(f, &x, &(grad * 1.05)).passed());
    }

    #[test]
    fn nan_never_passes() {
        let report = gradcheck(|x: &f64| x * x, &1.0, &f64::NAN);
        assert!(!report.passed());
        assert!(report.max_abs_error.is_nan());
        assert!(report.max_rel_error.is_nan());
    }

    #[test]
    fn tolerance_rule() {
        let tol = Tolerance {
            step: 1e-6,
            rtol: 1e-3,
            atol: 1e-6,
        };
        // atol + rtol·max = 1e-6 + 1e-3·1000 = 1.000001
        assert!(tol.allows(1000.0, 1001.0));
        assert!(!tol.allows(1000.0, 1001.1));
        assert!(tol.allows(0.0, 1e-6));
        assert!(!tol.allows(0.0, 2e-6));
        assert!(tol.allows(f64::INFINITY, f64::INFINITY));
        assert!(!tol.allows(f64::NAN, f64::NAN));
        assert_eq!(
            Tolerance::default_for::<f64>(),
            Tolerance {
                step: 1e-6,
                rtol: 1e-6,
                atol: 1e-8
            }
        );
    }

    #[test]
    fn gradcheck_with_uses_the_given_tolerance() {
        // f(x) = x³ at 2 with the gradient 12.0001: too far for the defaults, within rtol 1e-4.
        let loose = Tolerance {
            step: 1e-6,
            rtol: 1e-4,
            atol: 0.0,
        };
        let report = gradcheck_with(|x: &f64| x * x * x, &2.0, &12.0001, loose);
        assert!(report.passed(), "{report}");
        assert_eq!(report.tolerance, loose);
        assert!(!gradcheck(|x: &f64| x * x * x, &2.0, &12.0001).passed());
    }

    #[test]
    #[should_panic(expected = "the gradient has 2 scalars but x has 3")]
    fn gradient_of_the_wrong_size_panics() {
        gradcheck(|v: &Vec<f64>| v.iter().sum(), &vec![1.0; 3], &vec![1.0; 2]);
    }

    #[test]
    fn display_shows_a_table_of_failures() {
        let x = vec![0.3, -1.2, 2.0, 0.7];
        let mut wrong = grad_vec(&x);
        wrong[1] = 10.0;
        let report = gradcheck(f_vec, &x, &wrong);
        let text = report.to_string();
        assert!(
            text.starts_with("gradcheck FAILED: 1 of 4 scalars"),
            "{text}"
        );
        assert!(text.contains("index") && text.contains("analytic") && text.contains("numeric"));
        assert!(text.contains("1.000000000e1"), "{text}");
        // One header line, one summary line, one failing row.
        assert_eq!(text.lines().count(), 3, "{text}");
        // `{:#}` lists every entry.
        assert_eq!(format!("{report:#}").lines().count(), 6);

        let passed = gradcheck(f_vec, &x, &grad_vec(&x)).to_string();
        assert!(
            passed.starts_with("gradcheck passed: 4 scalars"),
            "{passed}"
        );
        assert_eq!(passed.lines().count(), 1);
    }

    #[test]
    fn display_truncates_long_tables() {
        let x = vec![1.0; 30];
        let report = gradcheck(|v: &Vec<f64>| v.iter().sum(), &x, &vec![2.0; 30]);
        let text = report.to_string();
        assert!(text.contains("... and 10 more failing entries"), "{text}");
        assert_eq!(text.lines().count(), 2 + MAX_ROWS + 1);
    }

    #[test]
    fn assert_close_accepts_within_tolerance() {
        assert_close(1.0 + 1e-13, 1.0, 1e-12);
        assert_close(1e6 + 1e-7, 1e6, 1e-12); // relative above 1
        assert_close(1e-20, 0.0, 1e-12); // absolute below 1
        assert_close(f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0);
    }

    #[test]
    #[should_panic(expected = "assert_close failed: actual 1.001e0, expected 1e0")]
    fn assert_close_panics_outside_tolerance() {
        assert_close(1.001, 1.0, 1e-6);
    }

    #[test]
    #[should_panic(expected = "assert_close failed")]
    fn assert_close_rejects_nan() {
        assert_close(f64::NAN, f64::NAN, 1.0);
    }
}
