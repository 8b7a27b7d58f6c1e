//! What the tests of [`crate::nn`] and [`crate::conv`] share: seeded random inputs and the
//! checks every derivative rule there goes through.

use ndarray::{Array, Dimension, ShapeBuilder};
use rand_distr::{Distribution, StandardNormal};

use crate::check::{assert_close, gradcheck};
use crate::differentiable::Differentiable;
use crate::init::seeded_rng;

/// Standard normal entries, reproducibly.
pub(crate) fn randn<Sh: ShapeBuilder>(shape: Sh, seed: u64) -> Array<f64, Sh::Dim> {
    let mut rng = seeded_rng(seed);
    Array::from_shape_simple_fn(shape, || StandardNormal.sample(&mut rng))
}

/// [`randn`] rounded to `f32`.
pub(crate) fn randn_f32<Sh: ShapeBuilder>(shape: Sh, seed: u64) -> Array<f32, Sh::Dim> {
    randn(shape, seed).mapv(|v| v as f32)
}

/// Checks `grad`, a pullback's answer to the cotangent `w`, against central finite differences
/// of `x ↦ ⟨f(x), w⟩`: every output component is weighted, so every entry of the Jacobian takes
/// part.
#[track_caller]
pub(crate) fn check_pullback<P, Y>(f: impl Fn(&P) -> Y, x: &P, w: &Y, grad: &P)
where
    P: Differentiable,
    Y: Differentiable<Scalar = P::Scalar>,
{
    let report = gradcheck(|x: &P| f(x).inner(w), x, grad);
    assert!(report.passed(), "{report:#}");
}

/// [`assert_close`] element by element, after comparing the shapes.
#[track_caller]
pub(crate) fn assert_all_close<D: Dimension>(
    actual: &Array<f64, D>,
    expected: &Array<f64, D>,
    tol: f64,
) {
    assert_eq!(actual.shape(), expected.shape());
    for (a, e) in actual.iter().zip(expected) {
        assert_close(*a, *e, tol);
    }
}
