//! What the tests of [`crate::nn`] and [`crate::conv`] share: seeded random inputs and the
//! checks every derivative rule there goes through.

use ndarray::{Array, Dimension, ShapeBuilder};
use rand_distr::{Distribution, StandardNormal};

use crate::check::{Tolerance, assert_close, gradcheck};
use crate::differentiable::{Differentiable, Real};
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

// ---------------------------------------------------------------------------------------------
// Forward mode and second order
// ---------------------------------------------------------------------------------------------

/// Whether `S` is single precision.
fn single<S: Real>() -> bool {
    S::of_f64(1.0 + 2f64.powi(-30)).as_f64() == 1.0
}

/// The relative accuracy of identities of inner products that hold up to rounding (the
/// dot-product test, the symmetry of a Hessian): `1e-12` in `f64`, `1e-5` in `f32`, some
/// thousands of units in the last place, for sums of some dozens of products.
fn rounding<S: Real>() -> f64 {
    if single::<S>() { 1e-5 } else { 1e-12 }
}

/// The relative accuracy of a value computed by two rules in different orders (a sum taken in
/// another order, say): `1e-14` in `f64`, `1e-6` in `f32`, some tens of units in the last place.
fn value_rounding<S: Real>() -> f64 {
    if single::<S>() { 1e-6 } else { 1e-14 }
}

/// A value shaped like `x` with standard normal entries, reproducibly.
pub(crate) fn randn_like<P: Differentiable>(x: &P, seed: u64) -> P {
    let mut rng = seeded_rng(seed);
    let mut out = x.zero_like();
    out.zip_leaves_mut(x, &mut |leaf, _| {
        for v in leaf {
            let r: f64 = StandardNormal.sample(&mut rng);
            *v = P::Scalar::of_f64(r);
        }
    });
    out
}

/// Every scalar of `x`, in leaf order.
pub(crate) fn leaves<P: Differentiable>(x: &P) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.num_scalars());
    x.visit_leaves(&mut |leaf| out.extend(leaf.iter().map(|v| v.as_f64())));
    out
}

/// `x + h·v`.
fn moved<P: Differentiable>(x: &P, v: &P, h: P::Scalar) -> P {
    let mut step = v.clone();
    step.scale(h);
    let mut out = x.clone();
    out.add_assign(&step);
    out
}

/// `(a − b) / 2h`, the central difference of two evaluations `h` either side.
fn central<Y: Differentiable>(a: Y, b: &Y, h: Y::Scalar) -> Y {
    let mut out = b.clone();
    out.scale(-Y::Scalar::ONE);
    out.add_assign(&a);
    out.scale(Y::Scalar::ONE / (h + h));
    out
}

/// `√⟨a, a⟩`.
fn norm<P: Differentiable>(a: &P) -> f64 {
    a.inner(a).as_f64().sqrt()
}

/// Panics unless `analytic` and `numeric` agree entry by entry within `tolerance`, with a list
/// of the entries that do not.
#[track_caller]
pub(crate) fn assert_agree<Y: Differentiable>(
    what: &str,
    analytic: &Y,
    numeric: &Y,
    tolerance: Tolerance,
) {
    let (a, n) = (leaves(analytic), leaves(numeric));
    assert_eq!(a.len(), n.len(), "{what}: different numbers of scalars");
    let bad: Vec<String> = a
        .iter()
        .zip(&n)
        .enumerate()
        .filter(|&(_, (&a, &n))| !tolerance.allows(a, n))
        .map(|(i, (a, n))| format!("  [{i}] {a:e} vs {n:e}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} of {} entries differ beyond {tolerance:?}:\n{}",
        bad.len(),
        a.len(),
        bad.join("\n")
    );
}

/// Panics unless `a` and `b` hold the same scalars, bit for bit.
#[track_caller]
pub(crate) fn assert_identical<Y: Differentiable>(what: &str, a: &Y, b: &Y) {
    let (a, b) = (leaves(a), leaves(b));
    let same = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
    assert!(same, "{what}: not identical\n  {a:?}\n  {b:?}");
}

/// Panics unless `lhs` and `rhs`, two inner products that are equal in exact arithmetic, agree
/// to rounding relative to `scale`, a bound on the sums of the absolute values of their terms.
#[track_caller]
fn assert_same_inner<S: Real>(what: &str, lhs: S, rhs: S, scale: f64) {
    let (lhs, rhs) = (lhs.as_f64(), rhs.as_f64());
    let bound = rounding::<S>() * scale;
    assert!(
        (lhs - rhs).abs() <= bound,
        "{what}: {lhs:e} vs {rhs:e}, |difference| {:e} > {bound:e}",
        (lhs - rhs).abs()
    );
}

/// Checks the rules of a function `f` of one argument `P` (a tuple of its differentiable
/// arguments where it has several) at `x`, for random directions drawn from `seed`:
///
/// - `jvp(x, v) = (f(x), J·v)`: the value equals `f(x)` to rounding, and `J·v` matches the
///   central difference `(f(x + hv) − f(x − hv)) / 2h`;
/// - `vjp(x, w) = (f(x), Jᵀw)`, through the dot-product test `⟨J·v, w⟩ = ⟨v, Jᵀw⟩`;
/// - `vjp_jvp(x, v, w, u) = (y, ẏ, x̄, x̄̇)`: `y`, `ẏ` and `x̄` are bit for bit those of `jvp` and
///   `vjp`, and `x̄̇` matches the central difference of the pullback along `(v, u)`,
///   `(vjp(x + hv, w + hu) − vjp(x − hv, w − hu)) / 2h`.
///
/// The step and tolerances of the finite differences are [`Tolerance::default_for`] `P`'s
/// scalar type.
#[track_caller]
pub(crate) fn check_rules<P, Y>(
    x: &P,
    seed: u64,
    f: impl Fn(&P) -> Y,
    jvp: impl Fn(&P, &P) -> (Y, Y),
    vjp: impl Fn(&P, Y) -> (Y, P),
    vjp_jvp: impl Fn(&P, &P, Y, Y) -> (Y, Y, P, P),
) where
    P: Differentiable,
    Y: Differentiable<Scalar = P::Scalar>,
{
    let tolerance = Tolerance::default_for::<P::Scalar>();
    let h = P::Scalar::of_f64(tolerance.step);
    let v = randn_like(x, seed);
    let (y, y_dot) = jvp(x, &v);
    let value = Tolerance {
        step: 0.0,
        rtol: value_rounding::<P::Scalar>(),
        atol: value_rounding::<P::Scalar>(),
    };
    assert_agree("jvp: the value", &y, &f(x), value);
    let numeric = central(f(&moved(x, &v, h)), &f(&moved(x, &v, -h)), h);
    assert_agree("jvp: the tangent", &y_dot, &numeric, tolerance);

    let w = randn_like(&y, seed + 1);
    let (_, x_bar) = vjp(x, w.clone());
    assert_same_inner(
        "⟨J·v, w⟩ = ⟨v, Jᵀw⟩",
        y_dot.inner(&w),
        v.inner(&x_bar),
        norm(&y_dot) * norm(&w) + norm(&v) * norm(&x_bar),
    );

    let u = randn_like(&y, seed + 2);
    let (y2, y_dot2, x_bar2, x_bar_dot) = vjp_jvp(x, &v, w.clone(), u.clone());
    assert_identical("vjp_jvp: the value", &y2, &y);
    assert_identical("vjp_jvp: the tangent", &y_dot2, &y_dot);
    assert_identical("vjp_jvp: the gradient", &x_bar2, &x_bar);
    let plus = vjp(&moved(x, &v, h), moved(&w, &u, h)).1;
    let minus = vjp(&moved(x, &v, -h), moved(&w, &u, -h)).1;
    let numeric = central(plus, &minus, h);
    assert_agree(
        "vjp_jvp: the gradient's tangent",
        &x_bar_dot,
        &numeric,
        tolerance,
    );
}

/// Checks that the Hessian of a scalar function, applied by its `vjp_jvp` (the gradient's
/// tangent for the cotangent `1` with tangent `0`), is symmetric: `⟨u, H·v⟩ = ⟨v, H·u⟩` for
/// random `u`, `v` drawn from `seed`.
#[track_caller]
pub(crate) fn check_hessian_symmetric<P: Differentiable>(
    x: &P,
    seed: u64,
    vjp_jvp: impl Fn(&P, &P, P::Scalar, P::Scalar) -> (P::Scalar, P::Scalar, P, P),
) {
    let (u, v) = (randn_like(x, seed), randn_like(x, seed + 1));
    let hv = vjp_jvp(x, &v, P::Scalar::ONE, P::Scalar::ZERO).3;
    let hu = vjp_jvp(x, &u, P::Scalar::ONE, P::Scalar::ZERO).3;
    assert!(norm(&hv) > 0.0, "the Hessian vanishes along v");
    assert_same_inner(
        "⟨u, H·v⟩ = ⟨v, H·u⟩",
        u.inner(&hv),
        v.inner(&hu),
        norm(&u) * norm(&hv) + norm(&v) * norm(&hu),
    );
}

/// [`check_rules`] for a function `$f` whose differentiable argument is its first, at `$x`, with
/// extra arguments `$extra` after it (`labels`, a stride): the four rules named
/// `$f`, `$jvp`, `$vjp`, `$vjp_jvp`, called as `#[differentiate]` calls them.
macro_rules! check_unary {
    ($x:expr, $seed:expr, $f:ident, $jvp:ident, $vjp:ident, $vjp_jvp:ident $(, $extra:expr)*) => {
        $crate::nn::testing::check_rules(
            $x,
            $seed,
            |x| $f(x $(, $extra)*),
            |x, dx| $jvp(x $(, $extra)*, dx),
            |x, g| {
                let (y, pullback) = $vjp(x $(, $extra)*);
                (y, pullback(g))
            },
            |x, dx, g, g_dot| {
                let (y, y_dot, pullback) = $vjp_jvp(x $(, $extra)*, dx);
                let (x_bar, x_bar_dot) = pullback(g, g_dot);
                (y, y_dot, x_bar, x_bar_dot)
            },
        )
    };
}
pub(crate) use check_unary;
