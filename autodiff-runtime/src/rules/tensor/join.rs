//! Rules of `ndarray::concatenate` and `ndarray::stack`: arrays joined along an axis.
//!
//! `#[differentiate]` writes `ndarray::concatenate(Axis(k), &[a.view(), b.view()]).unwrap()`
//! (also `stack`, the macros `concatenate!` and `stack!`, and `.expect(..)`) as a call of the
//! function of the same name in the module [`join2`] (`join3`, … up to [`join8`], one per
//! number of pieces), whose parameters are the axis and one view per piece. The call is
//! differentiated like any other, through the module's `_vjp`, `_jvp`, `_vjp_jvp` and
//! `_vjp_along`, so the gradient of each piece reaches the array it views.
//!
//! Both joins are linear and take every piece as it is:
//!
//! - `y = concatenate(axis, [x₀, …])`: each `x̄ₖ` is the slice of `ȳ` along `axis` where `xₖ`
//!   went (`ȳ.slice_axis(axis, offₖ..offₖ + lenₖ)`), and `ẏ` the concatenation of the `ẋₖ`;
//! - `y = stack(axis, [x₀, …])`: each `x̄ₖ` is the subview `ȳ.index_axis(axis, k)`, and `ẏ` the
//!   stack of the `ẋₖ`.
//!
//! The pullbacks keep the pieces' lengths along the axis, not the pieces. Gradients are owned
//! arrays in standard layout.
//!
//! ```
//! use autodiff_runtime::__private::join2;
//! use ndarray::{Axis, array};
//!
//! let (a, b) = (array![1.0, 2.0], array![3.0]);
//! let (y, pullback) = join2::concatenate_vjp(Axis(0), a.view(), b.view());
//! assert_eq!(y, array![1.0, 2.0, 3.0]);
//! assert_eq!(pullback(array![10.0, 20.0, 30.0]), (array![10.0, 20.0], array![30.0]));
//! ```

use ndarray::{Array, ArrayView, Axis, Dimension, RemoveAxis, Slice};

use crate::differentiable::Real;

/// `ndarray::concatenate`, which panics where ndarray returns an error (the pieces' shapes
/// differ off the axis, or there are none), as the `.unwrap()` the user wrote after it.
#[track_caller]
pub fn concatenate_views<T: Clone, D: RemoveAxis>(
    what: &str,
    axis: Axis,
    pieces: &[ArrayView<'_, T, D>],
) -> Array<T, D> {
    match ndarray::concatenate(axis, pieces) {
        Ok(y) => y,
        Err(e) => panic!("{what}: {e} (shapes {:?})", shapes(pieces)),
    }
}

/// `ndarray::stack`, which panics where ndarray returns an error (the pieces' shapes differ, or
/// there are none), as the `.unwrap()` the user wrote after it.
#[track_caller]
pub fn stack_views<T: Clone, D: Dimension>(
    what: &str,
    axis: Axis,
    pieces: &[ArrayView<'_, T, D>],
) -> Array<T, D::Larger>
where
    D::Larger: RemoveAxis,
{
    match ndarray::stack(axis, pieces) {
        Ok(y) => y,
        Err(e) => panic!("{what}: {e} (shapes {:?})", shapes(pieces)),
    }
}

fn shapes<T, D: Dimension>(pieces: &[ArrayView<'_, T, D>]) -> Vec<Vec<usize>> {
    pieces.iter().map(|p| p.shape().to_vec()).collect()
}

/// The gradient of the `k`-th piece of a concatenation from the cotangent `g` of its result:
/// the slice of `g` along `axis` from `offset`, `len` long.
///
/// # Panics
///
/// If `g` is too short along `axis` (a cotangent not shaped like the result).
#[track_caller]
pub fn concatenate_piece<T: Real, D: Dimension>(
    g: &Array<T, D>,
    axis: Axis,
    offset: usize,
    len: usize,
) -> Array<T, D> {
    let end = offset + len;
    assert!(
        end <= g.len_of(axis),
        "concatenate_vjp: a cotangent of length {} along axis {} for pieces of {end}",
        g.len_of(axis),
        axis.index()
    );
    g.slice_axis(axis, Slice::from(offset..end)).to_owned()
}

/// The gradient of the `k`-th piece of a stack from the cotangent `g` of its result: the
/// subview of `g` at `k` along `axis`, of the piece's dimension.
///
/// # Panics
///
/// If `g` has no index `k` along `axis` (a cotangent not shaped like the result).
#[track_caller]
pub fn stack_piece<T: Real, D: Dimension>(
    g: &Array<T, D::Larger>,
    axis: Axis,
    k: usize,
) -> Array<T, D>
where
    D::Larger: RemoveAxis,
{
    assert!(
        k < g.len_of(axis),
        "stack_vjp: a cotangent of length {} along axis {} for {} pieces or more",
        g.len_of(axis),
        axis.index(),
        k + 1
    );
    g.index_axis(axis, k)
        .to_owned()
        .into_dimensionality::<D>()
        .expect("a subview of a stack has the pieces' dimension")
}

/// The type `$t` once per `$x`: a tuple type with one entry per piece.
macro_rules! per_piece {
    ($x:ident, $t:ty) => {
        $t
    };
}

/// The module `$m` of joins of `($x: $dx)` pieces (their parameters and tangents).
macro_rules! joins {
    ($($m:ident: $n:literal ($($x:ident $dx:ident $k:literal),*);)*) => {$(
        #[doc = concat!("`concatenate` and `stack` of ", $n, " pieces (see [the module](self)).")]
        // Of one piece, the gradient alone, `(Array<T, D>)`, not a tuple; of eight, nine
        // parameters (seventeen with the tangents).
        #[allow(unused_parens, clippy::too_many_arguments)]
        pub mod $m {
            use super::*;

            /// The concatenation of the pieces along `axis`, of any element type (the join of
            /// data, integers too, is this call).
            ///
            /// # Panics
            ///
            /// As `ndarray::concatenate(..).unwrap()`.
            #[track_caller]
            pub fn concatenate<T: Clone, D: RemoveAxis>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>),*
            ) -> Array<T, D> {
                concatenate_views("concatenate", axis, &[$($x),*])
            }

            /// [`concatenate`] and its pullback, which slices the cotangent back into the
            /// pieces.
            ///
            /// # Panics
            ///
            /// As [`concatenate`]; the pullback if the cotangent is not shaped like the value.
            #[track_caller]
            #[allow(clippy::type_complexity)]
            pub fn concatenate_vjp<T: Real, D: RemoveAxis>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>),*
            ) -> (
                Array<T, D>,
                impl FnOnce(Array<T, D>) -> ($(per_piece!($x, Array<T, D>)),*) + use<T, D>,
            ) {
                let split = concatenate_split(axis, $(&$x),*);
                (concatenate_views("concatenate", axis, &[$($x),*]), split)
            }

            /// The pullback of [`concatenate`]: the cotangent sliced along `axis` into pieces
            /// as long as the pieces.
            fn concatenate_split<T: Real, D: RemoveAxis>(
                axis: Axis,
                $($x: &ArrayView<'_, T, D>),*
            ) -> impl Fn(Array<T, D>) -> ($(per_piece!($x, Array<T, D>)),*) + use<T, D> {
                let lens = [$($x.len_of(axis)),*];
                let mut starts = lens;
                let mut end = 0;
                for s in &mut starts {
                    (*s, end) = (end, end + *s);
                }
                move |g: Array<T, D>| ($(concatenate_piece(&g, axis, starts[$k], lens[$k])),*)
            }

            /// [`concatenate`] and its tangent, the concatenation of the pieces' tangents.
            ///
            /// # Panics
            ///
            /// As [`concatenate`], also where a tangent is not shaped like its piece.
            #[track_caller]
            pub fn concatenate_jvp<T: Real, D: RemoveAxis>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>,)*
                $($dx: &Array<T, D>),*
            ) -> (Array<T, D>, Array<T, D>) {
                $(check_tangent("concatenate_jvp", &$x, $dx);)*
                (
                    concatenate_views("concatenate", axis, &[$($x),*]),
                    concatenate_views("concatenate_jvp", axis, &[$($dx.view()),*]),
                )
            }

            /// [`concatenate_jvp`] and the pullback of a Hessian-vector product: the join is
            /// linear, so the cotangent and its tangent are sliced the same way.
            ///
            /// # Panics
            ///
            /// As [`concatenate_jvp`]; the pullback as [`concatenate_vjp`]'s.
            #[track_caller]
            #[allow(clippy::type_complexity)]
            pub fn concatenate_vjp_jvp<T: Real, D: RemoveAxis>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>,)*
                $($dx: &Array<T, D>),*
            ) -> (
                Array<T, D>,
                Array<T, D>,
                impl FnOnce(Array<T, D>, Array<T, D>) -> (
                    ($(per_piece!($x, Array<T, D>)),*),
                    ($(per_piece!($x, Array<T, D>)),*),
                ) + use<T, D>,
            ) {
                let split = concatenate_split(axis, $(&$x),*);
                let (y, dy) = concatenate_jvp(axis, $($x,)* $($dx),*);
                (y, dy, move |g, dg| (split(g), split(dg)))
            }

            /// [`concatenate`] in exact mode at kinks: linear, so its value, its tangent and
            /// its pullback are [`concatenate_jvp`]'s and [`concatenate_vjp`]'s.
            ///
            /// # Panics
            ///
            /// As [`concatenate_jvp`]; the pullback as [`concatenate_vjp`]'s.
            #[track_caller]
            #[allow(clippy::type_complexity)]
            pub fn concatenate_vjp_along<T: Real, D: RemoveAxis>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>,)*
                $($dx: &Array<T, D>),*
            ) -> (
                Array<T, D>,
                Array<T, D>,
                impl FnOnce(Array<T, D>) -> ($(per_piece!($x, Array<T, D>)),*) + use<T, D>,
            ) {
                let split = concatenate_split(axis, $(&$x),*);
                let (y, dy) = concatenate_jvp(axis, $($x,)* $($dx),*);
                (y, dy, split)
            }

            /// The stack of the pieces along a new axis `axis`, of any element type.
            ///
            /// # Panics
            ///
            /// As `ndarray::stack(..).unwrap()`.
            #[track_caller]
            pub fn stack<T: Clone, D: Dimension>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>),*
            ) -> Array<T, D::Larger>
            where
                D::Larger: RemoveAxis,
            {
                stack_views("stack", axis, &[$($x),*])
            }

            /// [`stack`] and its pullback, which takes the cotangent apart along `axis`.
            ///
            /// # Panics
            ///
            /// As [`stack`]; the pullback if the cotangent is not shaped like the value.
            #[track_caller]
            #[allow(clippy::type_complexity)]
            pub fn stack_vjp<T: Real, D: Dimension>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>),*
            ) -> (
                Array<T, D::Larger>,
                impl FnOnce(Array<T, D::Larger>) -> ($(per_piece!($x, Array<T, D>)),*) + use<T, D>,
            )
            where
                D::Larger: RemoveAxis,
            {
                (stack_views("stack", axis, &[$($x),*]), stack_split::<T, D>(axis))
            }

            /// The pullback of [`stack`]: the cotangent taken apart along `axis`.
            fn stack_split<T: Real, D: Dimension>(
                axis: Axis,
            ) -> impl Fn(Array<T, D::Larger>) -> ($(per_piece!($x, Array<T, D>)),*) + use<T, D>
            where
                D::Larger: RemoveAxis,
            {
                move |g: Array<T, D::Larger>| ($(stack_piece::<T, D>(&g, axis, $k)),*)
            }

            /// [`stack`] and its tangent, the stack of the pieces' tangents.
            ///
            /// # Panics
            ///
            /// As [`stack`], also where a tangent is not shaped like its piece.
            #[track_caller]
            pub fn stack_jvp<T: Real, D: Dimension>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>,)*
                $($dx: &Array<T, D>),*
            ) -> (Array<T, D::Larger>, Array<T, D::Larger>)
            where
                D::Larger: RemoveAxis,
            {
                $(check_tangent("stack_jvp", &$x, $dx);)*
                (
                    stack_views("stack", axis, &[$($x),*]),
                    stack_views("stack_jvp", axis, &[$($dx.view()),*]),
                )
            }

            /// [`stack_jvp`] and the pullback of a Hessian-vector product: the stack is
            /// linear, so the cotangent and its tangent are taken apart the same way.
            ///
            /// # Panics
            ///
            /// As [`stack_jvp`]; the pullback as [`stack_vjp`]'s.
            #[track_caller]
            #[allow(clippy::type_complexity)]
            pub fn stack_vjp_jvp<T: Real, D: Dimension>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>,)*
                $($dx: &Array<T, D>),*
            ) -> (
                Array<T, D::Larger>,
                Array<T, D::Larger>,
                impl FnOnce(Array<T, D::Larger>, Array<T, D::Larger>) -> (
                    ($(per_piece!($x, Array<T, D>)),*),
                    ($(per_piece!($x, Array<T, D>)),*),
                ) + use<T, D>,
            )
            where
                D::Larger: RemoveAxis,
            {
                let split = stack_split::<T, D>(axis);
                let (y, dy) = stack_jvp(axis, $($x,)* $($dx),*);
                (y, dy, move |g, dg| (split(g), split(dg)))
            }

            /// [`stack`] in exact mode at kinks: linear, so its value, its tangent and its
            /// pullback are [`stack_jvp`]'s and [`stack_vjp`]'s.
            ///
            /// # Panics
            ///
            /// As [`stack_jvp`]; the pullback as [`stack_vjp`]'s.
            #[track_caller]
            #[allow(clippy::type_complexity)]
            pub fn stack_vjp_along<T: Real, D: Dimension>(
                axis: Axis,
                $($x: ArrayView<'_, T, D>,)*
                $($dx: &Array<T, D>),*
            ) -> (
                Array<T, D::Larger>,
                Array<T, D::Larger>,
                impl FnOnce(Array<T, D::Larger>) -> ($(per_piece!($x, Array<T, D>)),*) + use<T, D>,
            )
            where
                D::Larger: RemoveAxis,
            {
                let (y, dy) = stack_jvp(axis, $($x,)* $($dx),*);
                (y, dy, stack_split::<T, D>(axis))
            }
        }
    )*};
}

/// A tangent shaped like its piece.
#[track_caller]
fn check_tangent<T: Real, D: Dimension>(what: &str, x: &ArrayView<'_, T, D>, dx: &Array<T, D>) {
    assert!(
        x.shape() == dx.shape(),
        "{what}: a tangent of shape {:?} for a piece of shape {:?}",
        dx.shape(),
        x.shape()
    );
}

joins! {
    join1: 1 (x0 dx0 0);
    join2: 2 (x0 dx0 0, x1 dx1 1);
    join3: 3 (x0 dx0 0, x1 dx1 1, x2 dx2 2);
    join4: 4 (x0 dx0 0, x1 dx1 1, x2 dx2 2, x3 dx3 3);
    join5: 5 (x0 dx0 0, x1 dx1 1, x2 dx2 2, x3 dx3 3, x4 dx4 4);
    join6: 6 (x0 dx0 0, x1 dx1 1, x2 dx2 2, x3 dx3 3, x4 dx4 4, x5 dx5 5);
    join7: 7 (x0 dx0 0, x1 dx1 1, x2 dx2 2, x3 dx3 3, x4 dx4 4, x5 dx5 5, x6 dx6 6);
    join8: 8 (x0 dx0 0, x1 dx1 1, x2 dx2 2, x3 dx3 3, x4 dx4 4, x5 dx5 5, x6 dx6 6, x7 dx7 7);
}
