//! The rule of a region of an array overwritten: `a.row_mut(i).assign(&v)`,
//! `a.column_mut(j).assign(&v)` and `a.slice_mut(s![..]).assign(&v)`.
//!
//! `#[differentiate]` writes such a statement on a variable `a` as `a = region::assign(a.view(),
//! s![i, ..], v.view())` (the region of `row_mut(i)` is `s![i, ..]`, of `column_mut(j)`
//! `s![.., j]`), a call differentiated like any other through the module's `_vjp`, `_jvp`,
//! `_vjp_jvp` and `_vjp_along`. The function is linear in `a` and `v`:
//!
//! - `y = a` with the region replaced by `v` broadcast to the region's shape;
//! - `ā = ȳ` with the region zeroed (those elements of `a` were overwritten), and `v̄` the region
//!   of `ȳ` summed over the axes `v` is broadcast along (see [`unbroadcast`]);
//! - `ẏ = ȧ` with the region replaced by `v̇`.
//!
//! The pullback keeps the region and `v`'s shape, not the arrays.
//!
//! ```
//! use autodiff_runtime::__private::region;
//! use ndarray::{array, s};
//!
//! let (a, v) = (array![[1.0, 2.0], [3.0, 4.0]], array![5.0, 6.0]);
//! let (y, pullback) = region::assign_vjp(a.view(), s![1, ..], v.view());
//! assert_eq!(y, array![[1.0, 2.0], [5.0, 6.0]]);
//! let (a_bar, v_bar) = pullback(array![[1.0, 2.0], [3.0, 4.0]]);
//! assert_eq!((a_bar, v_bar), (array![[1.0, 2.0], [0.0, 0.0]], array![3.0, 4.0]));
//! ```

use ndarray::{Array, ArrayView, Dimension, LinalgScalar, SliceArg};

use super::unbroadcast;
use crate::differentiable::Real;

/// `a` with the region `info` replaced by `v` broadcast to its shape: what
/// `a.slice_mut(info).assign(&v)` leaves in `a`, of any element type.
///
/// # Panics
///
/// As `slice_mut` and `assign`: a region out of bounds, or `v` not broadcastable to it.
#[track_caller]
pub fn assign<T: Clone, D: Dimension, I: SliceArg<D>, E: Dimension>(
    a: ArrayView<'_, T, D>,
    info: I,
    v: ArrayView<'_, T, E>,
) -> Array<T, D> {
    let mut y = a.to_owned();
    y.slice_mut(info).assign(&v);
    y
}

/// The pullback of [`assign`]: `ȳ` with the region zeroed for `a`, and the region of `ȳ`
/// reduced to `v`'s shape for `v`.
#[allow(clippy::type_complexity)]
fn split<T, D, I, E>(info: I, v_dim: E) -> impl Fn(Array<T, D>) -> (Array<T, D>, Array<T, E>)
where
    T: Real + LinalgScalar,
    D: Dimension,
    I: SliceArg<D> + Copy,
    E: Dimension,
{
    move |mut g: Array<T, D>| {
        let v_bar = unbroadcast(&g.slice(info), &v_dim);
        g.slice_mut(info).fill(T::ZERO);
        (g, v_bar)
    }
}

/// [`assign`] and its pullback.
///
/// # Panics
///
/// As [`assign`]; the pullback if the cotangent is not shaped like the value.
#[track_caller]
#[allow(clippy::type_complexity)]
pub fn assign_vjp<T, D, I, E>(
    a: ArrayView<'_, T, D>,
    info: I,
    v: ArrayView<'_, T, E>,
) -> (
    Array<T, D>,
    impl FnOnce(Array<T, D>) -> (Array<T, D>, Array<T, E>) + use<T, D, I, E>,
)
where
    T: Real + LinalgScalar,
    D: Dimension,
    I: SliceArg<D> + Copy,
    E: Dimension,
{
    let pb = split(info, v.raw_dim());
    (assign(a, info, v), pb)
}

/// [`assign`] and its tangent: `ȧ` with the region replaced by `v̇`.
///
/// # Panics
///
/// As [`assign`], also where a tangent is not shaped like its argument.
#[track_caller]
pub fn assign_jvp<T, D, I, E>(
    a: ArrayView<'_, T, D>,
    info: I,
    v: ArrayView<'_, T, E>,
    da: &Array<T, D>,
    dv: &Array<T, E>,
) -> (Array<T, D>, Array<T, D>)
where
    T: Real,
    D: Dimension,
    I: SliceArg<D> + Copy,
    E: Dimension,
{
    assert!(
        a.shape() == da.shape() && v.shape() == dv.shape(),
        "region::assign_jvp: tangents of shapes {:?}, {:?} for arguments of shapes {:?}, {:?}",
        da.shape(),
        dv.shape(),
        a.shape(),
        v.shape()
    );
    (assign(a, info, v), assign(da.view(), info, dv.view()))
}

/// [`assign_jvp`] and the pullback of a Hessian-vector product: the function is linear, so the
/// cotangent and its tangent are split the same way.
///
/// # Panics
///
/// As [`assign_jvp`]; the pullback as [`assign_vjp`]'s.
#[track_caller]
#[allow(clippy::type_complexity)]
pub fn assign_vjp_jvp<T, D, I, E>(
    a: ArrayView<'_, T, D>,
    info: I,
    v: ArrayView<'_, T, E>,
    da: &Array<T, D>,
    dv: &Array<T, E>,
) -> (
    Array<T, D>,
    Array<T, D>,
    impl FnOnce(Array<T, D>, Array<T, D>) -> ((Array<T, D>, Array<T, E>), (Array<T, D>, Array<T, E>))
    + use<T, D, I, E>,
)
where
    T: Real + LinalgScalar,
    D: Dimension,
    I: SliceArg<D> + Copy,
    E: Dimension,
{
    let pb = split(info, v.raw_dim());
    let (y, dy) = assign_jvp(a, info, v, da, dv);
    (y, dy, move |g, dg| (pb(g), pb(dg)))
}

/// [`assign`] in exact mode at kinks: linear, so its value, its tangent and its pullback are
/// [`assign_jvp`]'s and [`assign_vjp`]'s.
///
/// # Panics
///
/// As [`assign_jvp`]; the pullback as [`assign_vjp`]'s.
#[track_caller]
#[allow(clippy::type_complexity)]
pub fn assign_vjp_along<T, D, I, E>(
    a: ArrayView<'_, T, D>,
    info: I,
    v: ArrayView<'_, T, E>,
    da: &Array<T, D>,
    dv: &Array<T, E>,
) -> (
    Array<T, D>,
    Array<T, D>,
    impl FnOnce(Array<T, D>) -> (Array<T, D>, Array<T, E>) + use<T, D, I, E>,
)
where
    T: Real + LinalgScalar,
    D: Dimension,
    I: SliceArg<D> + Copy,
    E: Dimension,
{
    let pb = split(info, v.raw_dim());
    let (y, dy) = assign_jvp(a, info, v, da, dv);
    (y, dy, pb)
}
