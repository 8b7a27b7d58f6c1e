//! Identities between inner products that tie two derivatives to each other: the dot-product
//! test of forward against reverse mode, and the symmetry of Hessian-vector products.
//!
//! Unlike finite differences, these involve no step and no truncation error: both sides are the
//! same number computed two ways, so they agree to rounding, and a rule that is wrong by any
//! amount larger than rounding shows. They do not show an error that forward and reverse mode
//! share (a wrong partial used by both); the checks against differences do.

use core::fmt;

use super::is_single;
use crate::differentiable::to_flat;
use crate::differentiable::{Differentiable, Real};

/// The result of an inner-product identity check: the two sides and how far apart they are.
///
/// The check passes when `|lhs − rhs| <= rtol·scale`, where `scale` is the larger of the sums of
/// the absolute values of the products on each side (`Σ |aᵢ·bᵢ|`): the size of the terms, which
/// bounds the rounding error of the sums even where they cancel. Equal sides (also equal
/// infinities) pass; NaN never does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DotReport {
    /// The check: `"dot-product test"` or `"Hessian symmetry"`.
    pub test: &'static str,
    /// How the two sides are written, for messages: `["⟨J v, w⟩", "⟨v, Jᵀ w⟩"]`.
    pub sides: [&'static str; 2],
    /// The left side.
    pub lhs: f64,
    /// The right side.
    pub rhs: f64,
    /// `max(Σ |aᵢ·bᵢ|)` over the two sides.
    pub scale: f64,
    /// `|lhs − rhs|`; `0` when they are equal (also equal infinities).
    pub abs_error: f64,
    /// `abs_error / scale`; `0` when the sides are equal, `+∞` when they differ and `scale` is 0.
    pub rel_error: f64,
    /// The relative tolerance.
    pub rtol: f64,
}

impl DotReport {
    /// The default relative tolerance for scalar type `S`: `1e-10` for `f64`, `1e-4` for `f32`
    /// (about `5·10⁵·ε` and `8·10²·ε`). Both sides are rounded sums of rounded derivatives, so
    /// they differ by a small multiple of `ε·scale` times the conditioning of the computation;
    /// the defaults leave room for that while a wrong rule, off by a relative amount of order
    /// one, fails.
    pub fn default_rtol<S: Real>() -> f64 {
        if is_single::<S>() { 1e-4 } else { 1e-10 }
    }

    /// `true` when the two sides agree within `rtol`.
    pub fn passed(&self) -> bool {
        self.lhs == self.rhs || self.abs_error <= self.rtol * self.scale
    }

    /// Panics with both sides and their difference unless the check passed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.passed() {
            panic!("{self}");
        }
    }
}

impl fmt::Display for DotReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        write!(
            f,
            "{} {verdict}: {} = {:.12e}, {} = {:.12e}, |difference| {:.3e} = {:.3e} of the terms' \
             size {:.3e} (rtol {:e})",
            self.test,
            self.sides[0],
            self.lhs,
            self.sides[1],
            self.rhs,
            self.abs_error,
            self.rel_error,
            self.scale,
            self.rtol
        )
    }
}

/// The dot-product test of a forward-mode and a reverse-mode derivative of the same function
/// (JAX's `check_grads` runs it): for `f: P → Y` with Jacobian `J` at `x`, a tangent `J·v` and a
/// pullback `Jᵀ·w` must satisfy
///
/// ```text
/// ⟨J v, w⟩ = ⟨v, Jᵀ w⟩        for every v ∈ P, w ∈ Y
/// ```
///
/// since `Jᵀ` is the transpose of `J`. Given `v`, the tangent `jv = J·v` (from `f_jvp(x, v)`),
/// `w` and the pullback's result `vjp_w = Jᵀ·w` (from `f_vjp(x)`, called with `w`), this
/// compares the two sides with [`DotReport::default_rtol`] of the coarser scalar type. Run it
/// with random `v` and `w` ([`random_direction`](super::random_direction)): a pullback that is
/// not the transpose of the tangent map fails for almost every pair.
///
/// ```
/// use autodiff_runtime::check::{dot_product_test, random_direction};
///
/// // f(x) = (x₀·x₁, sin x₀): J = [[x₁, x₀], [cos x₀, 0]].
/// let x = [0.5f64, 2.0];
/// let (v, w) = (random_direction(&x, 1), random_direction(&(0.0, 0.0), 2));
/// let jv = (x[1] * v[0] + x[0] * v[1], x[0].cos() * v[0]);
/// let vjp_w = [x[1] * w.0 + x[0].cos() * w.1, x[0] * w.0];
/// dot_product_test(&v, &jv, &w, &vjp_w).assert_ok();
///
/// // A pullback that forgets the second output fails.
/// let wrong = [x[1] * w.0, x[0] * w.0];
/// assert!(!dot_product_test(&v, &jv, &w, &wrong).passed());
/// ```
///
/// # Panics
///
/// If `v` and `vjp_w`, or `jv` and `w`, have different numbers of scalars.
pub fn dot_product_test<P, Y>(v: &P, jv: &Y, w: &Y, vjp_w: &P) -> DotReport
where
    P: Differentiable,
    Y: Differentiable,
{
    let rtol = DotReport::default_rtol::<P::Scalar>().max(DotReport::default_rtol::<Y::Scalar>());
    dot_product_test_with(v, jv, w, vjp_w, rtol)
}

/// [`dot_product_test`] with an explicit relative tolerance.
///
/// # Panics
///
/// As [`dot_product_test`].
pub fn dot_product_test_with<P, Y>(v: &P, jv: &Y, w: &Y, vjp_w: &P, rtol: f64) -> DotReport
where
    P: Differentiable,
    Y: Differentiable,
{
    report(
        "dot-product test",
        ["⟨J v, w⟩", "⟨v, Jᵀ w⟩"],
        inner(jv, w),
        inner(v, vjp_w),
        rtol,
    )
}

/// The symmetry of the Hessian `H` of a scalar function at `x`, through two Hessian-vector
/// products:
///
/// ```text
/// ⟨u, H v⟩ = ⟨v, H u⟩        for every u, v
/// ```
///
/// (`H` is symmetric where `f` is twice continuously differentiable). Given `u`, `hu = H·u`, `v`
/// and `hv = H·v`, compares the two sides with [`DotReport::default_rtol`] of `P::Scalar`. A
/// product that is not of a symmetric matrix — a second-order rule that drops or doubles a
/// cross term — fails for almost every random pair.
///
/// ```
/// use autodiff_runtime::check::{hessian_symmetry, random_direction};
///
/// // f(x) = x₀²·x₁: H = [[2x₁, 2x₀], [2x₀, 0]].
/// let x = [1.5, -0.5];
/// let hvp = |d: &[f64; 2]| [2.0 * x[1] * d[0] + 2.0 * x[0] * d[1], 2.0 * x[0] * d[0]];
/// let (u, v) = (random_direction(&x, 1), random_direction(&x, 2));
/// hessian_symmetry(&u, &hvp(&u), &v, &hvp(&v)).assert_ok();
///
/// // Dropping the cross term of the second row breaks the symmetry.
/// let lopsided = |d: &[f64; 2]| [2.0 * x[1] * d[0] + 2.0 * x[0] * d[1], 0.0];
/// assert!(!hessian_symmetry(&u, &lopsided(&u), &v, &lopsided(&v)).passed());
/// ```
///
/// # Panics
///
/// If the four values do not have the same number of scalars.
pub fn hessian_symmetry<P: Differentiable>(u: &P, hu: &P, v: &P, hv: &P) -> DotReport {
    hessian_symmetry_with(u, hu, v, hv, DotReport::default_rtol::<P::Scalar>())
}

/// [`hessian_symmetry`] with an explicit relative tolerance.
///
/// # Panics
///
/// As [`hessian_symmetry`].
pub fn hessian_symmetry_with<P: Differentiable>(
    u: &P,
    hu: &P,
    v: &P,
    hv: &P,
    rtol: f64,
) -> DotReport {
    report(
        "Hessian symmetry",
        ["⟨u, H v⟩", "⟨v, H u⟩"],
        inner(u, hv),
        inner(v, hu),
        rtol,
    )
}

/// `(Σ aᵢ·bᵢ, Σ |aᵢ·bᵢ|)` in f64, over the scalars in leaf order.
fn inner<A: Differentiable>(a: &A, b: &A) -> (f64, f64) {
    assert!(
        a.num_scalars() == b.num_scalars(),
        "inner product of values with {} and {} scalars",
        a.num_scalars(),
        b.num_scalars()
    );
    to_flat(a)
        .iter()
        .zip(to_flat(b))
        .fold((0.0, 0.0), |(sum, size), (x, y)| {
            let p = x.as_f64() * y.as_f64();
            (sum + p, size + p.abs())
        })
}

fn report(
    test: &'static str,
    sides: [&'static str; 2],
    (lhs, lhs_size): (f64, f64),
    (rhs, rhs_size): (f64, f64),
    rtol: f64,
) -> DotReport {
    let abs_error = if lhs == rhs { 0.0 } else { (lhs - rhs).abs() };
    let scale = lhs_size.max(rhs_size);
    let rel_error = if abs_error == 0.0 {
        0.0
    } else if scale == 0.0 {
        f64::INFINITY
    } else {
        abs_error / scale
    };
    DotReport {
        test,
        sides,
        lhs,
        rhs,
        scale,
        abs_error,
        rel_error,
        rtol,
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2, array};

    use super::*;
    use crate::check::{assert_close, random_direction};

    /// A non-symmetric matrix: f(x) = A·x has J = A and Jᵀ = Aᵀ; using A as its own transpose is
    /// the mistake the test must catch.
    fn a() -> Array2<f64> {
        array![[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]
    }

    #[test]
    fn dot_product_test_of_a_linear_map() {
        let x = Array1::<f64>::zeros(3);
        let y = Array1::<f64>::zeros(2);
        for seed in 0..5 {
            let v = random_direction(&x, seed);
            let w = random_direction(&y, seed + 100);
            let jv = a().dot(&v);
            let report = dot_product_test(&v, &jv, &w, &a().t().dot(&w));
            assert!(report.passed(), "{report}");
            assert!(report.rel_error < 1e-15, "{report}");
            assert_eq!(report.rtol, 1e-10);
            assert_close(report.lhs, jv.dot(&w), 1e-15);
            // The wrong transpose: the first two rows of A·(w, 0) instead of Aᵀ·w.
            let wrong = a().slice(ndarray::s![.., 0..2]).dot(&w);
            let wrong = array![wrong[0], wrong[1], 0.0];
            let report = dot_product_test(&v, &jv, &w, &wrong);
            assert!(!report.passed(), "{report}");
            assert!(report.to_string().starts_with("dot-product test FAILED"));
        }
    }

    #[test]
    fn tuples_and_mixed_scalar_types() {
        // f(s, u) = s·u (u ∈ f32³ widened): J·(ds, du) = ds·u + s·du, Jᵀ·w = (⟨u, w⟩, s·w).
        let (s, u) = (1.5f32, vec![0.5f32, -1.0, 2.0]);
        let v = random_direction(&(s, u.clone()), 9);
        let w: Vec<f64> = random_direction(&vec![0.0; 3], 10);
        let jv: Vec<f64> = (0..3).map(|i| (v.0 * u[i] + s * v.1[i]) as f64).collect();
        let vjp_w = (
            (0..3).map(|i| u[i] * w[i] as f32).sum::<f32>(),
            w.iter().map(|&wi| s * wi as f32).collect::<Vec<f32>>(),
        );
        let report = dot_product_test(&v, &jv, &w, &vjp_w);
        assert_eq!(report.rtol, 1e-4, "the coarser type is f32");
        assert!(report.passed(), "{report}");
        let mut wrong = vjp_w.clone();
        wrong.0 *= 2.0;
        assert!(!dot_product_test(&v, &jv, &w, &wrong).passed());
    }

    #[test]
    fn scale_and_edge_cases() {
        // A difference of 1e-12 between sides whose terms have size 1e-12 fails ...
        let r = dot_product_test_with(&1.0, &1e-12, &1.0, &0.0, 1e-10);
        assert_eq!((r.lhs, r.rhs), (1e-12, 0.0));
        assert_eq!(r.scale, 1e-12);
        assert!(!r.passed(), "{r}");
        // ... and passes where ⟨(1, −1), (1, 1)⟩ = 0 cancels terms of size 2: 1e-12 ≤ 1e-10·2.
        let r = dot_product_test(&vec![1.0, -1.0], &1.0, &1e-12, &vec![1.0, 1.0]);
        assert_eq!((r.lhs, r.rhs, r.scale), (1e-12, 0.0, 2.0));
        assert!(r.passed(), "{r}");
        // Zero against zero passes; zero against anything else fails.
        assert!(dot_product_test(&0.0, &0.0, &0.0, &0.0).passed());
        let r = dot_product_test(&0.0, &1.0, &1.0, &0.0);
        assert_eq!((r.scale, r.rel_error), (1.0, 1.0));
        assert!(!r.passed());
        // NaN never passes.
        let r = dot_product_test(&1.0, &f64::NAN, &1.0, &1.0);
        assert!(!r.passed(), "{r}");
    }

    #[test]
    #[should_panic(expected = "dot-product test FAILED: ⟨J v, w⟩ = 2")]
    fn assert_ok_panics_with_both_sides() {
        dot_product_test(&1.0, &2.0, &1.0, &1.0).assert_ok();
    }

    #[test]
    #[should_panic(expected = "inner product of values with 2 and 3 scalars")]
    fn sizes_must_match() {
        dot_product_test(&vec![1.0, 2.0], &1.0, &1.0, &vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn hessian_symmetry_passes_for_symmetric_and_fails_otherwise() {
        // H = BᵀB + diag(1, 2, 3) is symmetric; B is not.
        let b = array![[1.0, 2.0, 0.0], [0.5, -1.0, 3.0], [0.0, 1.0, 1.0]];
        let h = b.t().dot(&b) + Array2::from_diag(&array![1.0, 2.0, 3.0]);
        let x = Array1::<f64>::zeros(3);
        for seed in 0..5 {
            let (u, v) = (random_direction(&x, seed), random_direction(&x, seed + 50));
            let r = hessian_symmetry(&u, &h.dot(&u), &v, &h.dot(&v));
            assert!(r.passed(), "{r}");
            assert_eq!(r.test, "Hessian symmetry");
            let r = hessian_symmetry(&u, &b.dot(&u), &v, &b.dot(&v));
            assert!(!r.passed(), "{r}");
            assert!(r.to_string().contains("⟨u, H v⟩"));
        }
    }
}
