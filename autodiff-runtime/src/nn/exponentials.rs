//! `softmax` and `log_softmax` along the last axis, and the lane kernels the whole softmax
//! family (these two, `log_sum_exp`, `cross_entropy`) shares: the shift by a lane's maximum
//! that keeps the exponentials finite, a lane's softmax, and the softmax Jacobian-vector
//! product.

use ndarray::{Array, ArrayBase, ArrayView1, ArrayViewMut1, Axis, Data, Dimension, Zip};

use super::NdReal;
use super::checks::{check_cotangent, check_tangent};
use crate::differentiable::Real;

/// The softmax along the last axis: for each lane `z` (a row of an `N×C` matrix of logits, or
/// the whole of a vector), `softmax(z)ₖ = exp(zₖ − m) / Σⱼ exp(zⱼ − m)` with `m = maxⱼ zⱼ`,
/// which equals `exp(zₖ)/Σⱼ exp(zⱼ)` but never overflows: `softmax([1000, 0]) = [1, e⁻¹⁰⁰⁰]`.
///
/// Derivative (per lane, `y = softmax(z)`): `∂yₖ/∂zⱼ = yₖ(δₖⱼ − yⱼ)`, so the cotangent `g` pulls
/// back to `y ⊙ (g − ⟨g, y⟩)`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::softmax(&array![[0.0, 2f64.ln()], [1000.0, 1000.0]]);
/// assert!((y[[0, 0]] - 1.0 / 3.0).abs() < 1e-15 && (y[[0, 1]] - 2.0 / 3.0).abs() < 1e-15);
/// assert_eq!(y.row(1), array![0.5, 0.5]);
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional.
pub fn softmax<S, T, D>(z: &ArrayBase<S, D>) -> Array<T, D>
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    softmax_lanes("softmax", z).0
}

/// [`softmax`] and its pullback `g ↦ y ⊙ (g − ⟨g, y⟩)` per lane, computed in `g`'s buffer. The
/// pullback keeps a copy of `y`.
///
/// # Panics
///
/// If `z` is 0-dimensional; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value and its pullback, spelled out
pub fn softmax_vjp<S, T, D>(
    z: &ArrayBase<S, D>,
) -> (
    Array<T, D>,
    impl FnOnce(Array<T, D>) -> Array<T, D> + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let y = softmax_lanes("softmax_vjp", z).0;
    let saved = y.clone();
    let pullback = move |g: Array<T, D>| {
        check_cotangent("softmax_vjp", g.shape(), saved.shape());
        softmax_jacobian("softmax_vjp", g, &saved)
    };
    (y, pullback)
}

/// [`softmax`] and its tangent `ẏ = y ⊙ (ż − ⟨ż, y⟩)` per lane for the tangent `dz` of `z`:
/// the Jacobian `diag(y) − y·yᵀ` is symmetric, so this is the pullback of [`softmax_vjp`]
/// applied to `ż`, computed in a copy of `dz`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // A shift of every logit of a lane does not change its softmax.
/// let (_, dy) = nn::softmax_jvp(&array![[0.5, -1.0, 2.0]], &array![[3.0, 3.0, 3.0]]);
/// assert!(dy.iter().all(|d: &f64| d.abs() < 1e-15));
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`.
pub fn softmax_jvp<S, T, D>(z: &ArrayBase<S, D>, dz: &Array<T, D>) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    softmax_with_tangent("softmax_jvp", z, dz)
}

/// [`softmax`], its tangent as [`softmax_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (z̄, z̄̇)` of a
/// Hessian-vector product. Per lane, with `y = softmax(z)`, `ẏ` its tangent,
/// `a = ⟨ȳ, y⟩`, `b = ⟨ȳ̇, y⟩` and `c = ⟨ȳ, ẏ⟩`:
///
/// ```text
/// z̄ = y ⊙ (ȳ − a)                                  as in softmax_vjp
/// z̄̇ = y ⊙ (ȳ̇ − b) + ẏ ⊙ (ȳ − a) − c·y             its tangent, by the product rule
/// ```
///
/// The first term of `z̄̇` is the Jacobian applied to `ȳ̇`, the others the change of the
/// Jacobian along `ż`. The pullback keeps copies of `y` and `ẏ`, and computes `z̄` and `z̄̇` in
/// the buffers of `ȳ` and `ȳ̇`, one pass per lane after the three inner products.
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`; the pullback, if a cotangent is not
/// shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn softmax_vjp_jvp<S, T, D>(
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (
    Array<T, D>,
    Array<T, D>,
    impl FnOnce(Array<T, D>, Array<T, D>) -> (Array<T, D>, Array<T, D>) + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let what = "softmax_vjp_jvp";
    let (y, dy) = softmax_with_tangent(what, z, dz);
    let (saved, saved_dot) = (y.clone(), dy.clone());
    let pullback = move |mut g: Array<T, D>, mut g_dot: Array<T, D>| {
        check_cotangent(what, g.shape(), saved.shape());
        check_cotangent(what, g_dot.shape(), saved.shape());
        let axis = last_axis(what, g.ndim());
        Zip::from(g.lanes_mut(axis))
            .and(g_dot.lanes_mut(axis))
            .and(saved.lanes(axis))
            .and(saved_dot.lanes(axis))
            .for_each(|mut g, mut g_dot, y, y_dot| {
                let (a, b, c) = Zip::from(&g).and(&g_dot).and(&y).and(&y_dot).fold(
                    (T::ZERO, T::ZERO, T::ZERO),
                    |(a, b, c), &g, &g_dot, &y, &y_dot| (a + g * y, b + g_dot * y, c + g * y_dot),
                );
                Zip::from(&mut g)
                    .and(&mut g_dot)
                    .and(&y)
                    .and(&y_dot)
                    .for_each(|g, g_dot, &y, &y_dot| {
                        let centred = *g - a;
                        *g_dot = (y * (*g_dot - b) + y_dot * centred) - c * y;
                        *g = y * centred;
                    });
            });
        (g, g_dot)
    };
    (y, dy, pullback)
}

/// The softmax of `z` and its tangent along `dz`, for [`softmax_jvp`] and [`softmax_vjp_jvp`].
fn softmax_with_tangent<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let y = softmax_lanes(what, z).0;
    check_tangent(what, "z", dz.shape(), z.shape());
    let dy = softmax_jacobian(what, dz.to_owned(), &y);
    (y, dy)
}

/// `v ↦ y ⊙ (v − ⟨v, y⟩)` per lane, in `v`'s buffer: the Jacobian `diag(y) − y·yᵀ` of the
/// softmax at `z` (with `y = softmax(z)`) applied to `v`. It is symmetric, so this is both the
/// softmax's tangent map and its pullback.
pub(super) fn softmax_jacobian<T: NdReal, D: Dimension>(
    what: &str,
    mut v: Array<T, D>,
    y: &Array<T, D>,
) -> Array<T, D> {
    let axis = last_axis(what, v.ndim());
    Zip::from(v.lanes_mut(axis))
        .and(y.lanes(axis))
        .for_each(|mut v, y| {
            let inner = lane_inner(v.view(), y);
            Zip::from(&mut v)
                .and(&y)
                .for_each(|v, &y| *v = y * (*v - inner));
        });
    v
}

/// The log-softmax along the last axis: for each lane `z`, `log_softmax(z)ₖ = zₖ − lse(z)` with
/// `lse(z) = ln Σⱼ exp(zⱼ)` ([`log_sum_exp`](super::log_sum_exp)), evaluated as
/// `(zₖ − m) − ln Σⱼ exp(zⱼ − m)` with `m = maxⱼ zⱼ`: finite even where the softmax underflows
/// (`log_softmax([1000, 0]) = [0, −1000]`).
///
/// Derivative (per lane): `∂yₖ/∂zⱼ = δₖⱼ − softmax(z)ⱼ`, so the cotangent `g` pulls back to
/// `g − softmax(z)·Σₖ gₖ`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::log_softmax(&array![1000.0, 0.0]), array![0.0, -1000.0]);
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional.
pub fn log_softmax<S, T, D>(z: &ArrayBase<S, D>) -> Array<T, D>
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis("log_softmax", z.ndim());
    let mut y = z.to_owned();
    Zip::from(y.lanes_mut(axis)).for_each(|mut lane| {
        let (m, ln_s) = shift_and_log_sum(lane.view());
        lane.mapv_inplace(|v| (v - m) - ln_s);
    });
    y
}

/// [`log_softmax`] and its pullback `g ↦ g − softmax(z)·Σₖ gₖ` per lane, computed in `g`'s
/// buffer. The pullback keeps `softmax(z)`, computed in the forward pass from the same
/// exponentials as the value.
///
/// # Panics
///
/// If `z` is 0-dimensional; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value and its pullback, spelled out
pub fn log_softmax_vjp<S, T, D>(
    z: &ArrayBase<S, D>,
) -> (
    Array<T, D>,
    impl FnOnce(Array<T, D>) -> Array<T, D> + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis("log_softmax_vjp", z.ndim());
    let (y, p) = log_softmax_and_softmax("log_softmax_vjp", z);
    let pullback = move |mut g: Array<T, D>| {
        check_cotangent("log_softmax_vjp", g.shape(), p.shape());
        Zip::from(g.lanes_mut(axis))
            .and(p.lanes(axis))
            .for_each(|mut g, p| {
                let total = g.sum();
                Zip::from(&mut g).and(&p).for_each(|g, &p| *g -= p * total);
            });
        g
    };
    (y, pullback)
}

/// [`log_softmax`] and its tangent `ẏ = ż − ⟨softmax(z), ż⟩` per lane for the tangent `dz` of
/// `z` (the transpose of [`log_softmax_vjp`]'s pullback), computed in a copy of `dz`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Uniform logits: ẏ = ż − mean(ż).
/// let (_, dy) = nn::log_softmax_jvp(&array![0.0, 0.0], &array![1.0, 3.0]);
/// assert_eq!(dy, array![-1.0, 1.0]);
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`.
pub fn log_softmax_jvp<S, T, D>(z: &ArrayBase<S, D>, dz: &Array<T, D>) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let (y, dy, _) = log_softmax_with_tangent("log_softmax_jvp", z, dz);
    (y, dy)
}

/// [`log_softmax`], its tangent as [`log_softmax_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (z̄, z̄̇)` of
/// a Hessian-vector product. Per lane, with `p = softmax(z)` and its tangent
/// `ṗ = p ⊙ (ż − ⟨p, ż⟩) = p ⊙ ẏ`:
///
/// ```text
/// z̄ = ȳ − p·Σₖ ȳₖ                        as in log_softmax_vjp
/// z̄̇ = ȳ̇ − p·Σₖ ȳ̇ₖ − ṗ·Σₖ ȳₖ              its tangent
/// ```
///
/// The pullback keeps `p` and `ṗ` and computes `z̄` and `z̄̇` in the buffers of `ȳ` and `ȳ̇`.
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`; the pullback, if a cotangent is not
/// shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn log_softmax_vjp_jvp<S, T, D>(
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (
    Array<T, D>,
    Array<T, D>,
    impl FnOnce(Array<T, D>, Array<T, D>) -> (Array<T, D>, Array<T, D>) + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let what = "log_softmax_vjp_jvp";
    let axis = last_axis(what, z.ndim());
    let (y, dy, p) = log_softmax_with_tangent(what, z, dz);
    let p_dot = Zip::from(&p).and(&dy).map_collect(|&p, &dy| p * dy);
    let pullback = move |mut g: Array<T, D>, mut g_dot: Array<T, D>| {
        check_cotangent(what, g.shape(), p.shape());
        check_cotangent(what, g_dot.shape(), p.shape());
        Zip::from(g.lanes_mut(axis))
            .and(g_dot.lanes_mut(axis))
            .and(p.lanes(axis))
            .and(p_dot.lanes(axis))
            .for_each(|mut g, mut g_dot, p, p_dot| {
                let (total, total_dot) = (g.sum(), g_dot.sum());
                Zip::from(&mut g)
                    .and(&mut g_dot)
                    .and(&p)
                    .and(&p_dot)
                    .for_each(|g, g_dot, &p, &p_dot| {
                        *g_dot = (*g_dot - p * total_dot) - p_dot * total;
                        *g -= p * total;
                    });
            });
        (g, g_dot)
    };
    (y, dy, pullback)
}

/// The log-softmax of `z` and the softmax, both from the same exponentials.
fn log_softmax_and_softmax<S, T, D>(what: &str, z: &ArrayBase<S, D>) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis(what, z.ndim());
    let (p, stats) = softmax_lanes(what, z);
    let mut y = z.to_owned();
    Zip::from(y.lanes_mut(axis))
        .and(&stats)
        .for_each(|mut lane, &(m, ln_s)| lane.mapv_inplace(|v| (v - m) - ln_s));
    (y, p)
}

/// The log-softmax of `z`, its tangent along `dz`, and the softmax, for [`log_softmax_jvp`] and
/// [`log_softmax_vjp_jvp`].
#[allow(clippy::type_complexity)] // three arrays
fn log_softmax_with_tangent<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (Array<T, D>, Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let (y, p) = log_softmax_and_softmax(what, z);
    check_tangent(what, "z", dz.shape(), z.shape());
    let axis = last_axis(what, z.ndim());
    let mut dy = dz.to_owned();
    Zip::from(dy.lanes_mut(axis))
        .and(p.lanes(axis))
        .for_each(|mut dy, p| {
            let inner = lane_inner(dy.view(), p);
            dy.mapv_inplace(|v| v - inner);
        });
    (y, dy, p)
}

/// The shift `m` (the lane's maximum, or `0` if that is infinite or the lane is empty or all
/// NaN) and `ln Σⱼ exp(zⱼ − m)`, so that `lse(z) = m + ln Σ`.
#[inline]
pub(super) fn shift_and_log_sum<T: NdReal>(lane: ArrayView1<'_, T>) -> (T, T) {
    let m = shift_of(lane);
    let s = lane.fold(T::ZERO, |s, &v| s + (v - m).exp());
    (m, s.ln())
}

#[inline]
fn shift_of<T: NdReal>(lane: ArrayView1<'_, T>) -> T {
    let max = lane.fold(T::neg_infinity(), |m, &v| if v > m { v } else { m });
    if Real::is_finite(&max) { max } else { T::ZERO }
}

/// `⟨a, b⟩` of two lanes, summed in order.
#[inline]
pub(super) fn lane_inner<T: NdReal>(a: ArrayView1<'_, T>, b: ArrayView1<'_, T>) -> T {
    Zip::from(&a).and(&b).fold(T::ZERO, |s, &a, &b| s + a * b)
}

/// `lse(z)` of one lane.
#[inline]
pub(super) fn lse_lane<T: NdReal>(lane: ArrayView1<'_, T>) -> T {
    let (m, ln_s) = shift_and_log_sum(lane);
    m + ln_s
}

/// Overwrites a lane with its softmax; returns `(m, ln Σⱼ exp(zⱼ − m))`, so that
/// `lse(z) = m + ln Σ`.
#[inline]
fn softmax_lane<T: NdReal>(mut lane: ArrayViewMut1<'_, T>) -> (T, T) {
    let m = shift_of(lane.view());
    lane.mapv_inplace(|v| (v - m).exp());
    let s = lane.sum();
    lane.mapv_inplace(|e| e / s);
    (m, s.ln())
}

/// The softmax of every lane along the last axis, and each lane's `(m, ln Σ)`.
#[allow(clippy::type_complexity)] // an array and its per-lane statistics
pub(super) fn softmax_lanes<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
) -> (Array<T, D>, Array<(T, T), D::Smaller>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis(what, z.ndim());
    let mut p = z.to_owned();
    let stats = Zip::from(p.lanes_mut(axis)).map_collect(softmax_lane);
    (p, stats)
}

#[track_caller]
pub(super) fn last_axis(what: &str, ndim: usize) -> Axis {
    assert!(
        ndim > 0,
        "{what}: works along the last axis, but the array is 0-dimensional"
    );
    Axis(ndim - 1)
}
