//! Elementwise arithmetic on arrays — `a + b`, `a - b`, `a * b`, `a / b` between arrays (with
//! NumPy broadcasting), between an array and a scalar either way round — and negation.
//!
//! The rules are written from the primitive table: the reverse rule of an operand evaluates its
//! form elementwise over the operands broadcast to the result's shape and reduces the result to
//! that operand's shape; the forward rule evaluates the forms' sum the same way, and the tangent
//! of a reverse rule (for second derivatives) its derived expression, reduced as the rule
//! is. [`Side`] is
//! what differs between an array operand and a scalar one, so the three operand combinations
//! share one text.

use ndarray::{Array, ArrayBase, ArrayView, Data, DimMax, Dimension, Zip};

use super::shape::{bcast, unbroadcast, unbroadcast_owned};
use crate::differentiable::Real;
use crate::rules::{ArithRules, HasShape, NegRule, ShapeOf, d};

/// One operand of an elementwise operator: an array, broadcast to the result's shape, or a
/// scalar, standing for every element.
trait Side<T>: HasShape + Sized {
    /// The operand as ndarray's operators take it: an array by reference, a scalar by value.
    type Arg<'a>
    where
        Self: 'a;

    /// See [`Side::Arg`].
    fn arg(&self) -> Self::Arg<'_>;

    /// The operand broadcast to `shape`, a view (no copy).
    fn spread<E: Dimension>(&self, shape: &E) -> ArrayView<'_, T, E>;

    /// The cotangent of an operand of shape `dims` from the cotangent `g` of the result it was
    /// broadcast to: `g` summed over the broadcast axes, all of them for a scalar.
    fn reduce<S: Data<Elem = T>, E: Dimension>(g: &ArrayBase<S, E>, dims: &Self::Dims) -> Self;

    /// [`Side::reduce`] of an owned temporary, moved where it already has the operand's shape.
    fn reduce_owned<E: Dimension>(g: Array<T, E>, dims: &Self::Dims) -> Self;
}

impl<T: Real, D: Dimension> Side<T> for Array<T, D> {
    type Arg<'a>
        = &'a Array<T, D>
    where
        Self: 'a;

    #[inline]
    fn arg(&self) -> &Array<T, D> {
        self
    }

    #[inline]
    #[track_caller]
    fn spread<E: Dimension>(&self, shape: &E) -> ArrayView<'_, T, E> {
        bcast(self, shape)
    }

    #[inline]
    #[track_caller]
    fn reduce<S: Data<Elem = T>, E: Dimension>(g: &ArrayBase<S, E>, dims: &D) -> Self {
        unbroadcast(g, dims)
    }

    #[inline]
    #[track_caller]
    fn reduce_owned<E: Dimension>(g: Array<T, E>, dims: &D) -> Self {
        unbroadcast_owned(g, dims)
    }
}

/// A scalar operand: it stands for every element.
impl<T: Real> Side<T> for T {
    type Arg<'a> = Elementwise<T>;

    #[inline]
    fn arg(&self) -> Elementwise<T> {
        Elementwise(*self)
    }

    #[inline]
    fn spread<E: Dimension>(&self, shape: &E) -> ArrayView<'_, T, E> {
        // Every element reads the one scalar: all strides are zero.
        let strides = E::zeros(shape.ndim());
        match ArrayView::from_shape(
            ndarray::ShapeBuilder::strides(shape.clone(), strides),
            core::slice::from_ref(self),
        ) {
            Ok(v) => v,
            Err(e) => unreachable!("a scalar spreads to any shape: {e}"),
        }
    }

    #[inline]
    fn reduce<S: Data<Elem = T>, E: Dimension>(g: &ArrayBase<S, E>, _dims: &()) -> T {
        g.sum()
    }

    #[inline]
    fn reduce_owned<E: Dimension>(g: Array<T, E>, _dims: &()) -> T {
        g.sum()
    }
}

/// A scalar operand of an elementwise operator with an array: ndarray's operators take a scalar
/// of a concrete type (`f64 * &a`), this one a scalar of any [`Real`] type, so that the rules
/// are one generic impl (which serves generic element types too).
#[derive(Clone, Copy)]
struct Elementwise<T>(T);

macro_rules! elementwise_ops {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        /// `s op b`: the scalar with every element of `b`.
        impl<T: Real, S: Data<Elem = T>, D: Dimension> core::ops::$tr<&ArrayBase<S, D>>
            for Elementwise<T>
        {
            type Output = Array<T, D>;
            #[inline]
            fn $m(self, b: &ArrayBase<S, D>) -> Array<T, D> {
                b.mapv(|e| self.0 $op e)
            }
        }

        /// `a op s`: every element of `a` with the scalar.
        impl<T: Real, S: Data<Elem = T>, D: Dimension> core::ops::$tr<Elementwise<T>>
            for &ArrayBase<S, D>
        {
            type Output = Array<T, D>;
            #[inline]
            fn $m(self, s: Elementwise<T>) -> Array<T, D> {
                self.mapv(|e| e $op s.0)
            }
        }
    )*};
}
elementwise_ops!(Add add +, Sub sub -, Mul mul *, Div div /);

/// The cotangent `g` of a result reduced to the shape of operand `to`.
#[inline]
#[track_caller]
fn reduce<T, S: Side<T>, E: Dimension>(g: &Array<T, E>, to: &ShapeOf<S>) -> S {
    S::reduce(g, &to.dims)
}

/// [`reduce`] of an owned temporary.
#[inline]
#[track_caller]
fn reduce_owned<T, S: Side<T>, E: Dimension>(g: Array<T, E>, to: &ShapeOf<S>) -> S {
    S::reduce_owned(g, &to.dims)
}

/// `f` at each position of views of one shape, in logical order: an array of that shape. For the
/// rules over more arrays than `Zip` maps at once (five).
#[inline]
#[track_caller]
fn map_broadcast<T: Copy, E: Dimension, const N: usize>(
    views: [ArrayView<'_, T, E>; N],
    f: impl Fn([T; N]) -> T,
) -> Array<T, E> {
    let shape = views[0].raw_dim();
    for v in &views[1..] {
        assert!(
            v.raw_dim() == shape,
            "elementwise operands of different shapes, {:?} vs {:?}",
            shape.slice(),
            v.shape()
        );
    }
    let mut elems = views.each_ref().map(|v| v.iter());
    let out: Vec<T> = (0..shape.size())
        .map(|_| {
            f(core::array::from_fn(|k| match elems[k].next() {
                Some(&x) => x,
                None => unreachable!("views of one shape have one length"),
            }))
        })
        .collect();
    match Array::from_shape_vec(shape, out) {
        Ok(a) => a,
        Err(e) => unreachable!("one value per element: {e}"),
    }
}

/// Elementwise `a op b` between arrays, broadcast to their common shape `y` by NumPy's rules;
/// each cotangent is reduced to its operand's shape by [`unbroadcast`].
impl<T: Real, D1, D2> ArithRules<Array<T, D2>> for Array<T, D1>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    type Output = Array<T, <D1 as DimMax<D2>>::Output>;
    autodiff_macro::__rules!(broadcast ArithRules<Array<T, D2>>);
}

/// Elementwise `a op s` with a scalar `s` broadcast to every element of `a`; the scalar's
/// cotangent is the sum over all elements.
impl<T: Real, D: Dimension> ArithRules<T> for Array<T, D> {
    type Output = Array<T, D>;
    autodiff_macro::__rules!(broadcast ArithRules<T>);
}

/// Elementwise `s op b` with a scalar `s` broadcast to every element of `b`; the scalar's
/// cotangent is the sum over all elements.
impl<T: Real, D: Dimension> ArithRules<Array<T, D>> for T {
    type Output = Array<T, D>;
    autodiff_macro::__rules!(broadcast ArithRules<Array<T, D>>);
}

/// Elementwise negation.
impl<T: Real, D: Dimension> NegRule for Array<T, D> {
    autodiff_macro::__rules!(broadcast NegRule);
}
