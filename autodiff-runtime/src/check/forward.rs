//! Checks of forward-mode derivatives against directional finite differences.
//!
//! A forward-mode tangent `J(x)·v` is the derivative of `t ↦ f(x + t·v)` at `t = 0`, so one
//! central difference of `f` along `v` checks it, whatever the shape of `f`'s result: two
//! evaluations of `f` per direction, where a gradient check costs two per input scalar. A
//! Hessian-vector product `H(x)·v` is the tangent of the gradient function, so the same
//! difference of a gradient checks it.

use super::{Report, Tolerance, compare};
use crate::differentiable::{Differentiable, Real};
use crate::differentiable::{from_flat, to_flat};

/// The central difference of `f` at `x` along the direction `v`, in the shape of `f`'s result:
///
/// ```text
/// (f(x + h·v) − f(x − h·v)) / 2h  =  J(x)·v + O(h²)
/// ```
///
/// where `J(x)` is the Jacobian of `f` at `x` (for a scalar `f`, `J(x)·v = ⟨∇f(x), v⟩`). `f`
/// may return any [`Differentiable`] value: a scalar, a tuple, a `Vec`, an ndarray array; its
/// scalar type may differ from the argument's.
///
/// The points `x ± h·v` are rounded to `P::Scalar`; the denominator is the width actually
/// stepped along `v`, `⟨x₊ − x₋, v⟩ / ⟨v, v⟩`, so rounding of the points does not bias the
/// quotient (for `v = eᵢ` this is [`finite_difference`](super::finite_difference)'s rule, and the
/// two agree exactly). The step is not normalized: the points move by `h·‖v‖`. A zero `v` gives
/// a zero difference.
///
/// ```
/// use autodiff_runtime::check::directional_difference;
///
/// // f(r, θ) = (r cos θ, r sin θ): J·(dr, dθ) = (dr cos θ − r dθ sin θ, dr sin θ + r dθ cos θ).
/// let polar = |p: &(f64, f64)| (p.0 * p.1.cos(), p.0 * p.1.sin());
/// let (x, v) = ((2.0, 0.5), (0.3, -1.0));
/// let d = directional_difference(polar, &x, &v, 1e-6);
/// let exact = (
///     v.0 * x.1.cos() - x.0 * v.1 * x.1.sin(),
///     v.0 * x.1.sin() + x.0 * v.1 * x.1.cos(),
/// );
/// assert!((d.0 - exact.0).abs() < 1e-8 && (d.1 - exact.1).abs() < 1e-8);
/// ```
///
/// # Panics
///
/// If `v` is not shaped like `x`, or `f` returns results of different sizes at the two points.
pub fn directional_difference<P, Y, F>(mut f: F, x: &P, v: &P, step: P::Scalar) -> Y
where
    P: Differentiable,
    Y: Differentiable,
    F: FnMut(&P) -> Y,
{
    difference_along(&mut f, x, v, step)
}

/// [`directional_difference`] of a function called through a `dyn` reference, compiled once
/// per pair of types rather than for every closure (see [`super::finite_difference`]).
fn difference_along<P: Differentiable, Y: Differentiable>(
    f: &mut dyn FnMut(&P) -> Y,
    x: &P,
    v: &P,
    step: P::Scalar,
) -> Y {
    assert!(
        v.num_scalars() == x.num_scalars(),
        "directional_difference: the direction has {} scalars but x has {}",
        v.num_scalars(),
        x.num_scalars()
    );
    let mut plus = x.clone();
    let mut minus = x.clone();
    plus.zip_leaves_mut(v, &mut |p, d| {
        for (a, &b) in p.iter_mut().zip(d) {
            *a += step * b;
        }
    });
    minus.zip_leaves_mut(v, &mut |m, d| {
        for (a, &b) in m.iter_mut().zip(d) {
            *a -= step * b;
        }
    });
    // The width stepped along v: ⟨x₊ − x₋, v⟩ / ⟨v, v⟩ (2h before rounding).
    let (mut along, mut norm2) = (0.0, 0.0);
    for ((p, m), d) in to_flat(&plus).iter().zip(to_flat(&minus)).zip(to_flat(v)) {
        let d = d.as_f64();
        along += (p.as_f64() - m.as_f64()) * d;
        norm2 += d * d;
    }
    let width = if norm2 == 0.0 { 0.0 } else { along / norm2 };
    let at_plus = f(&plus);
    let at_minus = f(&minus);
    assert!(
        at_plus.num_scalars() == at_minus.num_scalars(),
        "directional_difference: f returned {} scalars at x + h·v but {} at x − h·v",
        at_plus.num_scalars(),
        at_minus.num_scalars()
    );
    let quotients: Vec<Y::Scalar> = to_flat(&at_plus)
        .iter()
        .zip(to_flat(&at_minus))
        .map(|(&p, m)| {
            if width == 0.0 {
                Y::Scalar::ZERO
            } else {
                Y::Scalar::of_f64((p.as_f64() - m.as_f64()) / width)
            }
        })
        .collect();
    from_flat(&at_plus, &quotients)
}

/// Checks a forward-mode tangent `J(x)·v` (what `f_jvp(x, v)` returns beside the value) against
/// the [`directional_difference`] of `f` at `x` along `v`, entry by entry, with the default step
/// and tolerances of the coarser of `P::Scalar` and `Y::Scalar` ([`Tolerance::default_for`]).
///
/// The report's entries are the scalars of the tangent, in leaf order.
///
/// ```
/// use autodiff_runtime::check::{jvpcheck, random_direction};
///
/// // f(v) = (Σ vᵢ², v₀·v₁): J·d = (2 Σ vᵢ dᵢ, d₀ v₁ + v₀ d₁).
/// let f = |v: &Vec<f64>| (v.iter().map(|a| a * a).sum::<f64>(), v[0] * v[1]);
/// let x = vec![0.5, -1.5, 2.0];
/// let d = random_direction(&x, 7);
/// let tangent = (
///     2.0 * (0..3).map(|i| x[i] * d[i]).sum::<f64>(),
///     d[0] * x[1] + x[0] * d[1],
/// );
/// jvpcheck(f, &x, &d, &tangent).assert_ok();
///
/// // A tangent with a wrong second entry fails there.
/// let report = jvpcheck(f, &x, &d, &(tangent.0, d[0] * x[1]));
/// assert_eq!(report.failures().map(|e| e.index).collect::<Vec<_>>(), [1]);
/// ```
///
/// # Panics
///
/// If `v` is not shaped like `x`, or `tangent` does not have as many scalars as `f(x)`.
pub fn jvpcheck<P, Y, F>(f: F, x: &P, v: &P, tangent: &Y) -> Report
where
    P: Differentiable,
    Y: Differentiable,
    F: FnMut(&P) -> Y,
{
    let tolerance =
        Tolerance::default_for::<P::Scalar>().coarser(Tolerance::default_for::<Y::Scalar>());
    jvpcheck_with(f, x, v, tangent, tolerance)
}

/// [`jvpcheck`] with an explicit step and tolerances.
///
/// # Panics
///
/// As [`jvpcheck`].
pub fn jvpcheck_with<P, Y, F>(mut f: F, x: &P, v: &P, tangent: &Y, tolerance: Tolerance) -> Report
where
    P: Differentiable,
    Y: Differentiable,
    F: FnMut(&P) -> Y,
{
    along("jvpcheck", &mut f, x, v, tangent, tolerance)
}

/// Checks a Hessian-vector product `H(x)·v` of a scalar function against the
/// [`directional_difference`] of its gradient function `grad` at `x` along `v`:
///
/// ```text
/// (∇f(x + h·v) − ∇f(x − h·v)) / 2h  =  H(x)·v + O(h²)
/// ```
///
/// with the default step and tolerances of `P::Scalar`. `grad` is any gradient of `f` (a
/// hand-written one, or `|x| f_grad(x).1`); the check is as good as `grad` is, so check `grad`
/// first ([`gradcheck`](super::gradcheck)). [`hessian_symmetry`](super::hessian_symmetry) checks
/// two products against each other without differences.
///
/// ```
/// use autodiff_runtime::check::{hvpcheck, random_direction};
///
/// // f(x) = x₀²·x₁ + x₁³: ∇f = (2x₀x₁, x₀² + 3x₁²), H = [[2x₁, 2x₀], [2x₀, 6x₁]].
/// let grad = |x: &[f64; 2]| [2.0 * x[0] * x[1], x[0] * x[0] + 3.0 * x[1] * x[1]];
/// let x = [0.7, -1.2];
/// let v = random_direction(&x, 1);
/// let hv = [
///     2.0 * x[1] * v[0] + 2.0 * x[0] * v[1],
///     2.0 * x[0] * v[0] + 6.0 * x[1] * v[1],
/// ];
/// hvpcheck(grad, &x, &v, &hv).assert_ok();
/// ```
///
/// # Panics
///
/// If `v` or `hv` is not shaped like `x`.
pub fn hvpcheck<P, G>(grad: G, x: &P, v: &P, hv: &P) -> Report
where
    P: Differentiable,
    G: FnMut(&P) -> P,
{
    hvpcheck_with(grad, x, v, hv, Tolerance::default_for::<P::Scalar>())
}

/// [`hvpcheck`] with an explicit step and tolerances.
///
/// # Panics
///
/// As [`hvpcheck`].
pub fn hvpcheck_with<P, G>(mut grad: G, x: &P, v: &P, hv: &P, tolerance: Tolerance) -> Report
where
    P: Differentiable,
    G: FnMut(&P) -> P,
{
    along("hvpcheck", &mut grad, x, v, hv, tolerance)
}

/// The report of `check`: `derivative` against the directional difference of `f` along `v`.
fn along<P: Differentiable, Y: Differentiable>(
    check: &'static str,
    f: &mut dyn FnMut(&P) -> Y,
    x: &P,
    v: &P,
    derivative: &Y,
    tolerance: Tolerance,
) -> Report {
    let numeric = difference_along(f, x, v, P::Scalar::of_f64(tolerance.step));
    assert!(
        derivative.num_scalars() == numeric.num_scalars(),
        "{check}: the derivative under test has {} scalars but f(x) has {}",
        derivative.num_scalars(),
        numeric.num_scalars()
    );
    compare(check, &to_flat(derivative), &to_flat(&numeric), tolerance)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;
    use crate::check::{assert_close, finite_difference, random_direction};

    /// A linear map's difference is exact up to rounding: f(x) = A·x, J·v = A·v.
    #[test]
    fn directional_difference_of_a_linear_map_is_the_map() {
        let a = array![[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]];
        let x = array![0.3, -0.7, 1.1];
        let v = array![1.0, 2.0, -0.5];
        let d = directional_difference(|x: &ndarray::Array1<f64>| a.dot(x), &x, &v, 1e-6);
        for (got, expected) in d.iter().zip(a.dot(&v).iter()) {
            assert_close(*got, *expected, 1e-9);
        }
    }

    #[test]
    fn along_a_coordinate_it_is_the_partial_difference_exactly() {
        // The same points and the same denominator as `finite_difference`: identical bits.
        let f = |x: &Vec<f64>| x[0].sin() * x[1] + x[2].exp() / x[1];
        let x = vec![0.4, 1.7, -0.3];
        let partials = finite_difference(f, &x, 1e-6);
        for i in 0..3 {
            let mut e = vec![0.0; 3];
            e[i] = 1.0;
            let d: f64 = directional_difference(f, &x, &e, 1e-6);
            assert_eq!(d.to_bits(), partials[i].to_bits(), "coordinate {i}");
        }
    }

    #[test]
    fn directional_difference_keeps_the_result_shape() {
        // f(A) = (A ∘ A, Σ A): J·V = (2 A ∘ V, Σ V).
        let a = array![[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]];
        let v = random_direction(&a, 3);
        let (da, ds) = directional_difference(|a: &Array2<f64>| (a * a, a.sum()), &a, &v, 1e-6);
        assert_eq!(da.shape(), &[2, 3]);
        for ((d, x), w) in da.iter().zip(&a).zip(&v) {
            assert_close(*d, 2.0 * x * w, 1e-8);
        }
        assert_close(ds, v.sum(), 1e-8);
    }

    #[test]
    fn a_zero_direction_gives_zero() {
        let d: (f64, f64) = directional_difference(
            |x: &(f64, f64)| (x.0.exp(), x.0 * x.1),
            &(1.0, 2.0),
            &(0.0, 0.0),
            1e-6,
        );
        assert_eq!(d, (0.0, 0.0));
    }

    /// f(x, y) = (x·y, sin x, [x², y²]) and its tangent along (dx, dy).
    fn f3(p: &(f64, f64)) -> (f64, f64, [f64; 2]) {
        (p.0 * p.1, p.0.sin(), [p.0 * p.0, p.1 * p.1])
    }

    fn f3_tangent(p: &(f64, f64), d: &(f64, f64)) -> (f64, f64, [f64; 2]) {
        (
            d.0 * p.1 + p.0 * d.1,
            d.0 * p.0.cos(),
            [2.0 * p.0 * d.0, 2.0 * p.1 * d.1],
        )
    }

    #[test]
    fn jvpcheck_passes_and_fails_entry_by_entry() {
        let x = (0.8, -1.3);
        for seed in 0..4 {
            let v = random_direction(&x, seed);
            let report = jvpcheck(f3, &x, &v, &f3_tangent(&x, &v));
            assert!(report.passed(), "{report:#}");
            assert_eq!(report.check, "jvpcheck");
            assert_eq!(report.entries.len(), 4);
            assert!(report.to_string().starts_with("jvpcheck passed: 4 scalars"));

            // Leaf order of the result: x·y, sin x, then the array: index 3 is y².
            let mut wrong = f3_tangent(&x, &v);
            wrong.2[1] *= 1.001;
            let report = jvpcheck(f3, &x, &v, &wrong);
            assert_eq!(report.failures().map(|e| e.index).collect::<Vec<_>>(), [3]);
            assert!(
                report
                    .to_string()
                    .starts_with("jvpcheck FAILED: 1 of 4 scalars")
            );
        }
    }

    #[test]
    fn jvpcheck_uses_the_coarser_scalar_type() {
        // An f32 result of an f64 argument is f32-accurate: the f32 step and tolerances apply.
        let f = |x: &f64| (x * x) as f32;
        let report = jvpcheck(f, &1.5, &1.0, &3.0f32);
        assert!(report.passed(), "{report:#}");
        assert_eq!(report.tolerance, Tolerance::default_for::<f32>());
        // The f64 defaults would fail it: (f32 rounding ~1e-7) / (step 1e-6) is not small.
        let tight = jvpcheck_with(f, &1.5, &1.0, &3.0f32, Tolerance::default_for::<f64>());
        assert!(!tight.passed(), "{tight:#}");
        // Both scalar types f32: the f32 defaults.
        let g = |v: &Vec<f32>| v[0] * v[1];
        let report = jvpcheck(g, &vec![2.0f32, 3.0], &vec![1.0, -1.0], &1.0f32);
        assert!(report.passed(), "{report:#}");
        assert!(!jvpcheck(g, &vec![2.0f32, 3.0], &vec![1.0, -1.0], &1.1f32).passed());
    }

    #[test]
    #[should_panic(expected = "jvpcheck: the derivative under test has 1 scalars but f(x) has 3")]
    fn a_tangent_of_the_wrong_size_panics() {
        jvpcheck(
            |v: &Vec<f64>| v.clone(),
            &vec![1.0; 3],
            &vec![1.0; 3],
            &vec![1.0],
        );
    }

    #[test]
    #[should_panic(expected = "the direction has 2 scalars but x has 3")]
    fn a_direction_of_the_wrong_size_panics() {
        jvpcheck(|v: &Vec<f64>| v[0], &vec![1.0; 3], &vec![1.0; 2], &1.0);
    }

    /// f(x) = Σᵢ xᵢ²·xᵢ₊₁ (cyclic): ∂ᵢf = 2xᵢxᵢ₊₁ + xᵢ₋₁², and H·v, whose row i is
    /// `2xᵢ₊₁vᵢ + 2xᵢvᵢ₊₁ + 2xᵢ₋₁vᵢ₋₁`.
    #[allow(clippy::ptr_arg)] // the argument type of a function checked at a `Vec<f64>`
    fn cyclic_grad(x: &Vec<f64>) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|i| 2.0 * x[i] * x[(i + 1) % n] + x[(i + n - 1) % n].powi(2))
            .collect()
    }

    fn cyclic_hvp(x: &[f64], v: &[f64]) -> Vec<f64> {
        let n = x.len();
        (0..n)
            .map(|i| {
                let (next, prev) = ((i + 1) % n, (i + n - 1) % n);
                2.0 * x[next] * v[i] + 2.0 * x[i] * v[next] + 2.0 * x[prev] * v[prev]
            })
            .collect()
    }

    #[test]
    fn hvpcheck_passes_and_fails() {
        let x = vec![0.3, -1.1, 0.8, 2.0];
        for seed in 10..13 {
            let v = random_direction(&x, seed);
            let report = hvpcheck(cyclic_grad, &x, &v, &cyclic_hvp(&x, &v));
            assert!(report.passed(), "{report:#}");
            assert_eq!(report.check, "hvpcheck");
            let mut wrong = cyclic_hvp(&x, &v);
            wrong[2] += 1e-3;
            let report = hvpcheck(cyclic_grad, &x, &v, &wrong);
            assert_eq!(report.failures().map(|e| e.index).collect::<Vec<_>>(), [2]);
            assert!(report.to_string().starts_with("hvpcheck FAILED"));
        }
    }

    #[test]
    fn hvpcheck_on_a_parameter_tuple() {
        // f(a, B) = a·Σ B², ∇ = (Σ B², 2aB), H·(da, dB) = (2⟨B, dB⟩, 2·da·B + 2a·dB).
        let grad = |p: &(f64, Array2<f64>)| (p.1.mapv(|b| b * b).sum(), &p.1 * (2.0 * p.0));
        let x = (1.5, array![[0.5, -1.0], [2.0, 0.25]]);
        let v = random_direction(&x, 5);
        let hv = (
            2.0 * (&x.1 * &v.1).sum(),
            &x.1 * (2.0 * v.0) + &v.1 * (2.0 * x.0),
        );
        hvpcheck(grad, &x, &v, &hv).assert_ok();
        let mut wrong = hv.clone();
        wrong.0 += 1e-3;
        assert_eq!(
            hvpcheck(grad, &x, &v, &wrong)
                .failures()
                .map(|e| e.index)
                .collect::<Vec<_>>(),
            [0]
        );
    }
}
