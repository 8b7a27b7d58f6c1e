//! What the forward-mode and second-order rules of every convolution share. A convolution is
//! bilinear in the input and the filters, so its tangent is `conv(ẋ, w) + conv(x, ẇ)` and its
//! gradient's tangent the pullback applied with one argument swapped for its tangent; here
//! once, on the lowering's row-major buffers, for the 1D, 2D and batched convolutions alike.

use ndarray::{Array, Array1, ArrayBase, ArrayView1, Data, Dimension};

use super::lowering::{self, Geometry};
use super::{NdReal, check_cotangent, check_tangent, from_vec, slice, standard};

/// A convolution's arguments `(x, w, b)` (`b` with its tangent, for a convolution with a bias).
type ConvArgs<'a, S1, S2, T, Dx, Dw> = (
    &'a ArrayBase<S1, Dx>,
    &'a ArrayBase<S2, Dw>,
    Option<(ArrayView1<'a, T>, &'a Array1<T>)>,
);

/// The tangents `(ẋ, ẇ)` of a convolution's input and filters.
type ConvTangents<'a, T, Dx, Dw> = (&'a Array<T, Dx>, &'a Array<T, Dw>);

/// A convolution's value and tangent as row-major buffers, after checking that the tangents are
/// shaped like their arguments: the forward-mode rule of every convolution here.
#[track_caller]
pub(super) fn value_and_tangent<S1, S2, T, Dx, Dw>(
    what: &str,
    g: &Geometry,
    (x, w, bias): ConvArgs<'_, S1, S2, T, Dx, Dw>,
    (dx, dw): ConvTangents<'_, T, Dx, Dw>,
) -> (Vec<T>, Vec<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
    Dx: Dimension,
    Dw: Dimension,
{
    check_tangent(what, "x", dx.shape(), x.shape());
    check_tangent(what, "w", dw.shape(), w.shape());
    if let Some((b, db)) = bias {
        check_tangent(what, "b", db.shape(), b.shape());
    }
    let bias = bias.map(|(b, db)| (standard(&b).into_owned(), standard(db)));
    lowering::forward_tangent(
        g,
        (
            slice(&standard(x)),
            slice(&standard(w)),
            bias.as_ref().map(|(b, _)| slice(b)),
        ),
        (
            slice(&standard(dx)),
            slice(&standard(dw)),
            bias.as_ref().map(|(_, db)| slice(db)),
        ),
    )
}

/// What the pullback of a convolution's `_vjp_jvp` keeps: its geometry and row-major copies of
/// the input, the filters and their tangents.
pub(super) struct Kept<T, Dx, Dw> {
    g: Geometry,
    x: Array<T, Dx>,
    w: Array<T, Dw>,
    dx: Array<T, Dx>,
    dw: Array<T, Dw>,
}

impl<T: NdReal, Dx: Dimension, Dw: Dimension> Kept<T, Dx, Dw> {
    /// Copies of `x`, `w` and their tangents, after checking the tangents' shapes.
    #[track_caller]
    pub(super) fn new<S1, S2>(
        what: &str,
        g: Geometry,
        (x, w): (&ArrayBase<S1, Dx>, &ArrayBase<S2, Dw>),
        (dx, dw): ConvTangents<'_, T, Dx, Dw>,
    ) -> Self
    where
        S1: Data<Elem = T>,
        S2: Data<Elem = T>,
    {
        check_tangent(what, "x", dx.shape(), x.shape());
        check_tangent(what, "w", dw.shape(), w.shape());
        Kept {
            g,
            x: standard(x).into_owned(),
            w: standard(w).into_owned(),
            dx: standard(dx).into_owned(),
            dw: standard(dw).into_owned(),
        }
    }

    /// The value and tangent, row-major, for the bias and its tangent if there is one.
    pub(super) fn value_and_tangent(&self, bias: Option<(&[T], &[T])>) -> (Vec<T>, Vec<T>) {
        lowering::forward_tangent(
            &self.g,
            (slice(&self.x), slice(&self.w), bias.map(|(b, _)| b)),
            (slice(&self.dx), slice(&self.dw), bias.map(|(_, db)| db)),
        )
    }

    /// The gradients `(∂x, ∂w, ∂b)` for the cotangent `gz` and their tangents for its tangent
    /// `gz_dot`; `∂b` and its tangent are empty unless `want_bias`.
    #[allow(clippy::type_complexity)] // two gradient tuples
    #[track_caller]
    pub(super) fn pullback<Dz: Dimension>(
        &self,
        what: &str,
        gz: Array<T, Dz>,
        gz_dot: Array<T, Dz>,
        want_bias: bool,
    ) -> (
        (Array<T, Dx>, Array<T, Dw>, Array1<T>),
        (Array<T, Dx>, Array<T, Dw>, Array1<T>),
    ) {
        let shape = &self.output_shape();
        check_cotangent(what, gz.shape(), shape);
        check_cotangent(what, gz_dot.shape(), shape);
        let (gradients, tangents) = lowering::backward_tangent(
            &self.g,
            (slice(&self.x), slice(&self.w)),
            (slice(&self.dx), slice(&self.dw)),
            (slice(&standard(&gz)), slice(&standard(&gz_dot))),
            want_bias,
        );
        (self.arrays(gradients), self.arrays(tangents))
    }

    /// The pullback `(g, ġ) ↦ ((∂x, ∂w), (∂ẋ, ∂ẇ))` of a convolution without a bias.
    #[allow(clippy::type_complexity)] // two gradient pairs
    pub(super) fn into_unbiased_pullback<Dz: Dimension>(
        self,
        what: &'static str,
    ) -> impl FnOnce(
        Array<T, Dz>,
        Array<T, Dz>,
    ) -> ((Array<T, Dx>, Array<T, Dw>), (Array<T, Dx>, Array<T, Dw>)) {
        move |gz, gz_dot| {
            let ((dx, dw, _), (dx_dot, dw_dot, _)) = self.pullback(what, gz, gz_dot, false);
            ((dx, dw), (dx_dot, dw_dot))
        }
    }

    /// The shape of the value: `[N, K, Ho, Wo]` for a batched convolution, `[Ho, Wo]` for
    /// [`conv2d`](super::conv2d), `[Wo]` for [`conv1d`](super::conv1d) (the output's dimension
    /// is the input's).
    fn output_shape(&self) -> Vec<usize> {
        let full = self.g.output_shape();
        full[4 - self.x.ndim()..].to_vec()
    }

    /// Row-major buffers as arrays shaped like `x`, `w` and the bias.
    fn arrays(&self, [dx, dw, db]: [Vec<T>; 3]) -> (Array<T, Dx>, Array<T, Dw>, Array1<T>) {
        (
            from_vec(self.x.raw_dim(), dx),
            from_vec(self.w.raw_dim(), dw),
            Array1::from_vec(db),
        )
    }
}
