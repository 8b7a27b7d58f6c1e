//! Rules of the linear primitives that move or sum elements: the transpose `.t()`, the
//! reductions `sum`, `mean`, `sum_axis`, `mean_axis`, the views `slice`, `insert_axis`,
//! `into_shape_with_order` and `flatten`, and the gather `select`. Each reverse rule puts the cotangent back where the elements came
//! from.

use ndarray::{
    Array, ArrayBase, Axis, Data, Dimension, Ix1, LinalgScalar, Order, RemoveAxis, ShapeArg,
};

use super::shape::{bcast, same_shape};
use crate::differentiable::Real;
use crate::rules::{HasShape, ShapeOf};

/// Rules of ndarray's `x.t()`, `x.sum()`, `x.mean()`, `x.sum_axis(axis)` and
/// `x.mean_axis(axis)` (the latter returns an `Option`; the rules are of its `Some` value), for
/// arrays of any storage (`Self = ArrayBase<S, D>`). Cotangents and tangents are owned arrays.
///
/// These primitives are linear, so their jvps need only the shape of `x` (the argument that fixes
/// `Self`) and the tangent: `(x, [axis,] dx)`.
#[diagnostic::on_unimplemented(
    message = "this array method is called on `{Self}`, which is not an ndarray array of floats",
    label = "the receiver must be an ndarray array of `f64` or `f32`",
    note = "a method of your own struct named like an array method (`sum`, `mean`, `t`) is \
            followed on a parameter, on `self` and on a local built by a literal or declared with \
            the type, not on a field (`self.vel.sum()`), as the macro does not see a field's \
            type; there and on another value, call it through its type: `{Self}::sum(&self.vel)`"
)]
pub trait TensorRules: HasShape {
    /// The element type.
    type Elem;
    /// The dimension type `D`.
    type Dim: Dimension;

    /// `y = xᵀ` (all axes reversed) ⇒ `x̄ = ḡᵀ` (the axes of `g` reversed back), standard layout.
    fn t_vjp(x: &ShapeOf<Self>, g: &Array<Self::Elem, Self::Dim>) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `xᵀ`: `dxᵀ`, standard layout.
    fn t_jvp(x: &ShapeOf<Self>, dx: &Array<Self::Elem, Self::Dim>) -> Array<Self::Elem, Self::Dim>;

    /// `y = Σᵢ xᵢ` ⇒ `∂y/∂xᵢ = 1`: `x̄ = g` at every element.
    fn sum_vjp(x: &ShapeOf<Self>, g: &Self::Elem) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `Σ x`: `Σ dx`.
    fn sum_jvp(x: &ShapeOf<Self>, dx: &Array<Self::Elem, Self::Dim>) -> Self::Elem;

    /// `y = (1/n) Σᵢ xᵢ` ⇒ `∂y/∂xᵢ = 1/n`: `x̄ = g/n` at every element.
    fn mean_vjp(x: &ShapeOf<Self>, g: &Self::Elem) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of the mean: `(Σ dx)/n`.
    fn mean_jvp(x: &ShapeOf<Self>, dx: &Array<Self::Elem, Self::Dim>) -> Self::Elem;

    /// `y[.., ..] = Σₖ x[.., k, ..]` along `axis` ⇒ `x̄[.., k, ..] = g[.., ..]` for every `k`
    /// (`g` broadcast back along the removed axis).
    fn sum_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Smaller>,
    ) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `x.sum_axis(axis)`: `dx.sum_axis(axis)`.
    fn sum_axis_jvp(
        x: &ShapeOf<Self>,
        axis: &Axis,
        dx: &Array<Self::Elem, Self::Dim>,
    ) -> Array<Self::Elem, <Self::Dim as Dimension>::Smaller>
    where
        Self::Dim: RemoveAxis;

    /// `y[.., ..] = (1/n) Σₖ x[.., k, ..]` along `axis` (of length `n`) ⇒
    /// `x̄[.., k, ..] = g[.., ..]/n` for every `k`.
    fn mean_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Smaller>,
    ) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `x.mean_axis(axis)`: `dx.sum_axis(axis)/n`.
    fn mean_axis_jvp(
        x: &ShapeOf<Self>,
        axis: &Axis,
        dx: &Array<Self::Elem, Self::Dim>,
    ) -> Array<Self::Elem, <Self::Dim as Dimension>::Smaller>
    where
        Self::Dim: RemoveAxis;

    /// `y = x.slice(info)` reads a region of `x`: `x̄` is zero except on that region, where it is
    /// `ȳ`.
    fn slice_vjp_0<I: ndarray::SliceArg<Self::Dim>>(
        x: &ShapeOf<Self>,
        info: &I,
        g: &Array<Self::Elem, I::OutDim>,
    ) -> Array<Self::Elem, Self::Dim>;

    /// `y = x.into_shape_with_order(shape)` keeps the elements in their logical order, row-major
    /// or, with `(shape, Order::ColumnMajor)`, column-major: `x̄` is `ȳ` reshaped back in the
    /// same order.
    fn into_shape_with_order_vjp_0<E: Dimension, Sh: ShapeArg + Clone>(
        x: &ShapeOf<Self>,
        shape: &Sh,
        g: &Array<Self::Elem, E>,
    ) -> Array<Self::Elem, Self::Dim>;

    /// `y = x.insert_axis(axis)` adds an axis of length 1: `x̄` is `ȳ` with it removed (the
    /// same elements, in the same order).
    fn insert_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Larger>,
    ) -> Array<Self::Elem, Self::Dim>;

    /// `y = x.flatten()` lists the elements in their logical (row-major) order, what
    /// `x.iter()` visits: `x̄` is `ȳ` reshaped back.
    fn flatten_vjp(x: &ShapeOf<Self>, g: &Array<Self::Elem, Ix1>) -> Array<Self::Elem, Self::Dim>;

    /// `y = x.index_axis(axis, i)` reads the subview at `i` along `axis`: `x̄` is zero except
    /// there, where it is `ȳ`.
    fn index_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        index: &usize,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Smaller>,
    ) -> Array<Self::Elem, Self::Dim>
    where
        Self::Dim: RemoveAxis;

    /// `y = x.select(axis, indices)` gathers the subviews at `indices` along `axis` (an
    /// embedding lookup, a minibatch of rows): `x̄`'s subview at `i` is the sum of `ȳ`'s
    /// subviews at the positions `k` with `indices[k] = i`, zero where no index is `i`.
    fn select_vjp_0<I: AsRef<[usize]> + ?Sized>(
        x: &ShapeOf<Self>,
        axis: &Axis,
        indices: &I,
        g: &Array<Self::Elem, Self::Dim>,
    ) -> Array<Self::Elem, Self::Dim>
    where
        Self::Dim: RemoveAxis;

    /// `y = x.broadcast(shape).unwrap()` repeats `x` along the axes broadcasting adds or
    /// stretches: `x̄` is `ȳ` summed over them ([`super::unbroadcast`]).
    fn broadcast_vjp_0<E: Dimension, Sh>(
        x: &ShapeOf<Self>,
        shape: &Sh,
        g: &Array<Self::Elem, E>,
    ) -> Array<Self::Elem, Self::Dim>;
}

/// The cotangent of a reduction along `axis` broadcast back over that axis, `f` applied to each
/// element: the shared body of `sum_axis_vjp_0` and `mean_axis_vjp_0`.
#[inline]
#[track_caller]
fn spread_axis<T: Copy, D: Dimension>(
    x: &D,
    axis: Axis,
    g: &Array<T, D::Smaller>,
    f: impl Fn(T) -> T,
) -> Array<T, D> {
    assert!(
        axis.index() < x.ndim(),
        "sum_axis/mean_axis vjp: axis {} out of bounds for shape {:?}",
        axis.index(),
        x.slice()
    );
    let restored = g.view().insert_axis(axis).into_dyn();
    bcast(&restored, x).mapv(f)
}

/// A cotangent `g` with the elements of `x` in row-major order, reshaped back to `x`'s shape:
/// the reverse rule of the reshapes (`into_shape_with_order`, `insert_axis`, `flatten`).
#[inline]
#[track_caller]
fn reshaped_back<T: Clone, E: Dimension, D: Dimension>(
    rule: &str,
    g: &Array<T, E>,
    x: &D,
) -> Array<T, D> {
    g.as_standard_layout()
        .into_owned()
        .into_shape_with_order(x.clone())
        .unwrap_or_else(|e| panic!("{rule}: cotangent does not fit {:?}: {e}", x))
}

/// `n` as the element type.
#[inline]
fn count<T: Real>(n: usize) -> T {
    T::of_f64(n as f64)
}

impl<T, S, D> TensorRules for ArrayBase<S, D>
where
    T: Real + LinalgScalar,
    S: Data<Elem = T>,
    D: Dimension,
{
    type Elem = T;
    type Dim = D;

    #[inline]
    fn t_vjp(_x: &ShapeOf<Self>, g: &Array<T, D>) -> Array<T, D> {
        g.t().as_standard_layout().into_owned()
    }
    #[inline]
    fn t_jvp(_x: &ShapeOf<Self>, dx: &Array<T, D>) -> Array<T, D> {
        dx.t().as_standard_layout().into_owned()
    }

    #[inline]
    fn sum_vjp(x: &ShapeOf<Self>, g: &T) -> Array<T, D> {
        Array::from_elem(x.dims.clone(), *g)
    }
    #[inline]
    fn sum_jvp(_x: &ShapeOf<Self>, dx: &Array<T, D>) -> T {
        dx.sum()
    }

    #[inline]
    fn mean_vjp(x: &ShapeOf<Self>, g: &T) -> Array<T, D> {
        Array::from_elem(x.dims.clone(), *g / count::<T>(x.dims.size()))
    }
    #[inline]
    fn mean_jvp(x: &ShapeOf<Self>, dx: &Array<T, D>) -> T {
        dx.sum() / count::<T>(x.dims.size())
    }

    #[inline]
    fn sum_axis_vjp_0(x: &ShapeOf<Self>, axis: &Axis, g: &Array<T, D::Smaller>) -> Array<T, D> {
        spread_axis(&x.dims, *axis, g, |g| g)
    }
    #[inline]
    fn sum_axis_jvp(x: &ShapeOf<Self>, axis: &Axis, dx: &Array<T, D>) -> Array<T, D::Smaller>
    where
        D: RemoveAxis,
    {
        same_shape("sum_axis_jvp", &[&x.dims, &dx.raw_dim()]);
        dx.sum_axis(*axis)
    }

    #[inline]
    fn mean_axis_vjp_0(x: &ShapeOf<Self>, axis: &Axis, g: &Array<T, D::Smaller>) -> Array<T, D> {
        let n = count::<T>(x.dims[axis.index()]);
        spread_axis(&x.dims, *axis, g, |g| g / n)
    }
    #[inline]
    fn slice_vjp_0<I: ndarray::SliceArg<D>>(
        x: &ShapeOf<Self>,
        info: &I,
        g: &Array<T, I::OutDim>,
    ) -> Array<T, D> {
        let mut dx = Array::from_elem(x.dims.clone(), T::ZERO);
        dx.slice_mut(info).assign(g);
        dx
    }
    #[inline]
    fn into_shape_with_order_vjp_0<E: Dimension, Sh: ShapeArg + Clone>(
        x: &ShapeOf<Self>,
        shape: &Sh,
        g: &Array<T, E>,
    ) -> Array<T, D> {
        let rule = "into_shape_with_order_vjp_0";
        match shape.clone().into_shape_and_order().1 {
            None | Some(Order::RowMajor) => reshaped_back(rule, g, &x.dims),
            // The elements were read in another order (column-major): they go back in it.
            Some(order) => g
                .to_shape((x.dims.clone(), order))
                .unwrap_or_else(|e| panic!("{rule}: cotangent does not fit {:?}: {e}", x.dims))
                .into_owned(),
        }
    }
    #[inline]
    fn index_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        index: &usize,
        g: &Array<T, D::Smaller>,
    ) -> Array<T, D>
    where
        D: RemoveAxis,
    {
        let mut dx = Array::from_elem(x.dims.clone(), T::ZERO);
        dx.index_axis_mut(*axis, *index).assign(g);
        dx
    }
    #[inline]
    fn select_vjp_0<I: AsRef<[usize]> + ?Sized>(
        x: &ShapeOf<Self>,
        axis: &Axis,
        indices: &I,
        g: &Array<T, D>,
    ) -> Array<T, D>
    where
        D: RemoveAxis,
    {
        let indices = indices.as_ref();
        assert!(
            g.len_of(*axis) == indices.len(),
            "select_vjp_0: the cotangent has length {} along axis {}, the indices {}",
            g.len_of(*axis),
            axis.index(),
            indices.len()
        );
        let mut dx = Array::from_elem(x.dims.clone(), T::ZERO);
        for (k, &i) in indices.iter().enumerate() {
            let mut row = dx.index_axis_mut(*axis, i);
            row += &g.index_axis(*axis, k);
        }
        dx
    }
    #[inline]
    fn broadcast_vjp_0<E: Dimension, Sh>(
        x: &ShapeOf<Self>,
        _shape: &Sh,
        g: &Array<T, E>,
    ) -> Array<T, D> {
        super::unbroadcast(g, &x.dims)
    }
    #[inline]
    fn flatten_vjp(x: &ShapeOf<Self>, g: &Array<T, Ix1>) -> Array<T, D> {
        assert!(
            g.len() == x.dims.size(),
            "flatten_vjp: the cotangent has {} elements, the array {:?}",
            g.len(),
            x.dims.slice()
        );
        reshaped_back("flatten_vjp", g, &x.dims)
    }
    #[inline]
    fn insert_axis_vjp_0(x: &ShapeOf<Self>, axis: &Axis, g: &Array<T, D::Larger>) -> Array<T, D> {
        assert!(
            g.len_of(*axis) == 1,
            "insert_axis_vjp_0: the cotangent has length {} along axis {}, expected 1",
            g.len_of(*axis),
            axis.index()
        );
        reshaped_back("insert_axis_vjp_0", g, &x.dims)
    }
    #[inline]
    fn mean_axis_jvp(x: &ShapeOf<Self>, axis: &Axis, dx: &Array<T, D>) -> Array<T, D::Smaller>
    where
        D: RemoveAxis,
    {
        same_shape("mean_axis_jvp", &[&x.dims, &dx.raw_dim()]);
        let n = count::<T>(x.dims[axis.index()]);
        dx.sum_axis(*axis).mapv_into(|s| s / n)
    }
}
