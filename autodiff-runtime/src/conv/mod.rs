//! Convolutions and pooling, each with its reverse-mode, forward-mode and second-order rules: the
//! lecture's 2D convolution
//! [`conv2d`] and its 1D form [`conv1d`]; batched, multi-channel convolution of `N×C×H×W`
//! tensors with stride and zero padding, [`conv2d_nchw`] (the lecture's "3D convolution" across
//! the channels, for every filter and every image); [`max_pool2d`] and [`avg_pool2d`]; and
//! [`flatten`]/[`unflatten`] between convolutional and dense layers.
//!
//! These are primitives, rather than code for `#[differentiate]` to take apart, because a
//! convolution written as loops of scalar products would be differentiated scalar by scalar:
//! here both passes are lowered to matrix products instead (`im2col` and ndarray's GEMM, see
//! below), which is what makes a CNN trainable in reasonable time.
//!
//! # The lecture's convolution
//!
//! For an image `x` and a filter `w`, the lecture defines
//!
//! ```text
//! z[i₁, i₂] = Σⱼ₁ Σⱼ₂ w[j₁, j₂] · x[i₁ + j₁, i₂ + j₂]
//! ```
//!
//! each output pixel the dot product of the filter with the image region under it. Signal
//! processing calls this a *cross-correlation*: the textbook convolution `Σⱼ w[j]·x[i − j]`
//! flips the filter first. Deep-learning libraries (PyTorch's `conv2d`, TensorFlow's `conv2d`)
//! compute the cross-correlation, as here; to get the flipped one, reverse both axes of `w`
//! (`w.slice(s![..;-1, ..;-1])`). For learned filters the difference does not matter: the flip
//! is absorbed into what is learned.
//!
//! Like the lecture's example, the functions here index the filter from `0` rather than from
//! `−m`, so the output is the "valid" part, where the filter fits inside the (padded) image:
//! an `H×W` image and a `kh×kw` filter give `(H − kh + 1)×(W − kw + 1)` outputs.
//!
//! ```
//! use autodiff_runtime::conv;
//! use ndarray::array;
//!
//! // The lecture's example.
//! let x = array![
//!     [1.0, 1.0, 1.0, 0.0, 0.0],
//!     [0.0, 1.0, 1.0, 1.0, 0.0],
//!     [0.0, 0.0, 1.0, 1.0, 1.0],
//!     [0.0, 0.0, 1.0, 1.0, 0.0],
//!     [0.0, 1.0, 1.0, 0.0, 0.0],
//! ];
//! let w = array![[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]];
//! assert_eq!(conv::conv2d(&x, &w), array![[4.0, 3.0, 4.0], [2.0, 4.0, 3.0], [2.0, 3.0, 4.0]]);
//! ```
//!
//! # Contract
//!
//! The same as [`crate::nn`]'s: every function `f` has an `f_vjp` that takes the same arguments
//! and returns `(f(..), pullback)`, which is what `#[differentiate]` calls for `conv::f(..)` on
//! active values.
//!
//! - **Arguments** are taken by reference; hyper-parameters (`stride`, `padding`, pooling
//!   `size`, shapes) are `usize`, so they are never differentiable.
//! - **The pullback** is `impl FnOnce(cotangent) -> gradient`, the cotangent shaped like the
//!   value; the gradient is bare for one array argument ([`max_pool2d`], [`flatten`]) and a tuple
//!   in argument order for several: `(∂x, ∂w)` for [`conv2d`], `(∂x, ∂w, ∂b)` for
//!   [`conv2d_nchw`].
//! - **The pullback owns what it reads** and does not borrow the arguments: a convolution's keeps
//!   a copy of `w` and the `im2col` matrices of `x`, built once by the forward pass (a copy of `x`
//!   instead, from which it rebuilds them image by image, where they would take more than
//!   32 MiB), max
//!   pooling's the positions of the maxima, the others only shapes.
//! - **Panics** at the call on bad shapes, with the function's name and the shapes in the
//!   message: channels of `x` and `w` that differ, a filter larger than the (padded) input, an
//!   empty filter, stride 0, a bias without one entry per filter, a pooling window larger than
//!   the input; the pullback, on a cotangent not shaped like the value.
//!
//! The scalar type is `f32` or `f64` ([`NdReal`]); inputs may have any memory layout (views,
//! transposes), which is copied to row-major order where needed.
//!
//! # Forward mode and second order
//!
//! As in [`crate::nn`], every function `f` also has `f_jvp`, which takes `f`'s arguments and
//! then one tangent per array argument (`dx`, `dw`, `db`: references to arrays of the
//! arguments' shapes) and returns the value and its tangent, and `f_vjp_jvp`, which also
//! returns a pullback `(ḡ, ḡ̇) ↦ (gradient, its tangent)` for Hessian-vector products, the
//! gradient exactly as `f_vjp`'s pullback returns it. The functions here are linear in each
//! argument: pooling, [`flatten`] and [`unflatten`] are linear (so each is its own forward
//! rule and the gradient's tangent is the pullback of `ḡ̇`), the convolutions bilinear in
//! `(x, w)` (so `ż = conv(ẋ, w) + conv(x, ẇ) (+ ḃ)`, and each gradient's tangent is the pullback
//! with one tangent substituted at a time), max pooling piecewise linear.
//!
//! | function                | reverse                     | forward                     | forward over reverse            |
//! |-------------------------|-----------------------------|-----------------------------|---------------------------------|
//! | [`conv2d`]              | [`conv2d_vjp`]              | [`conv2d_jvp`]              | [`conv2d_vjp_jvp`]              |
//! | [`conv1d`]              | [`conv1d_vjp`]              | [`conv1d_jvp`]              | [`conv1d_vjp_jvp`]              |
//! | [`conv2d_nchw`]         | [`conv2d_nchw_vjp`]         | [`conv2d_nchw_jvp`]         | [`conv2d_nchw_vjp_jvp`]         |
//! | [`conv2d_nchw_no_bias`] | [`conv2d_nchw_no_bias_vjp`] | [`conv2d_nchw_no_bias_jvp`] | [`conv2d_nchw_no_bias_vjp_jvp`] |
//! | [`max_pool2d`]          | [`max_pool2d_vjp`]          | [`max_pool2d_jvp`]          | [`max_pool2d_vjp_jvp`]          |
//! | [`avg_pool2d`]          | [`avg_pool2d_vjp`]          | [`avg_pool2d_jvp`]          | [`avg_pool2d_vjp_jvp`]          |
//! | [`flatten`]             | [`flatten_vjp`]             | [`flatten_jvp`]             | [`flatten_vjp_jvp`]             |
//! | [`unflatten`]           | [`unflatten_vjp`]           | [`unflatten_jvp`]           | [`unflatten_vjp_jvp`]           |
//!
//! Max pooling's forward rule gives a window with tied maxima the mean of their tangents, the
//! transpose of the pullback's equal split, so forward and reverse mode agree at ties as well.
//!
//! ```
//! use autodiff_runtime::conv;
//! use ndarray::array;
//!
//! // conv1d is bilinear: with ẋ = x and ẇ = w, ż = 2z.
//! let (x, w) = (array![1.0, 2.0, 3.0, 4.0], array![1.0, -1.0]);
//! let (z, dz, pullback) = conv::conv1d_vjp_jvp(&x, &w, &x, &w);
//! assert_eq!(dz, &z * 2.0);
//! // Along (ẋ, ẇ) = (x, w), each gradient is linear in the other argument, so its tangent is
//! // itself (for ḡ̇ = 0).
//! let ((dx, dw), (dx_dot, dw_dot)) = pullback(array![1.0, 0.0, 0.0], array![0.0, 0.0, 0.0]);
//! assert_eq!((dx_dot, dw_dot), (dx, dw));
//! ```
//!
//! # Batched convolution as matrix products
//!
//! [`conv2d_nchw`] convolves `N` images of `C` channels with `K` filters of `C×kh×kw`, with
//! stride `s` and `p` pixels of zero padding on every side:
//!
//! ```text
//! z[n, k, o₁, o₂] = b[k] + Σ_c Σⱼ₁ Σⱼ₂ w[k, c, j₁, j₂] · x̃[n, c, o₁·s + j₁, o₂·s + j₂]
//! ```
//!
//! with `x̃` the padded input, giving `Ho = ⌊(H + 2p − kh)/s⌋ + 1` rows (and `Wo` likewise). The
//! lecture notes that a convolution is a linear map `z = Wx` with a sparse `W` whose nonzeros
//! are the filter values, repeated. It is computed image by image as one dense matrix product
//! instead: `im2col` copies every receptive field of image `n` into a column of a
//! `(C·kh·kw) × (Ho·Wo)` matrix, and then, with the filters read as a `K × (C·kh·kw)` matrix,
//!
//! ```text
//! Zₙ  = W · cols(Xₙ) + b                the forward pass
//! ∂W  = Σₙ Gₙ · cols(Xₙ)ᵀ               the filter gradient
//! ∂Xₙ = col2im(Wᵀ · Gₙ)                 the input gradient: col2im, the transpose of im2col,
//!                                       adds each column back where it was read from
//! ∂b  = Σₙ Σ_{o₁,o₂} Gₙ                 the bias gradient
//! ```
//!
//! with `G` the cotangent of `z`. The products run in matrixmultiply's blocked, vectorized GEMM
//! (through ndarray's `general_mat_mul`); `im2col` and `col2im` copy contiguous row segments.
//! The backward pass is two products of the forward pass's size, so it costs about twice the
//! forward pass (`cargo bench --bench conv` prints the ratio).

mod along;
mod bilinear;
mod lowering;
mod nchw;
mod pool;
mod reshapes;
mod single;

use ndarray::{
    Array, Array1, Array2, Array4, ArrayBase, CowArray, Data, Dimension, IntoDimension, Ix1, Ix2,
    Ix4,
};

pub use self::along::*;
pub use self::nchw::*;
pub use self::pool::{
    avg_pool2d, avg_pool2d_jvp, avg_pool2d_vjp, avg_pool2d_vjp_jvp, max_pool2d, max_pool2d_jvp,
    max_pool2d_vjp, max_pool2d_vjp_along, max_pool2d_vjp_jvp,
};
pub use self::reshapes::*;
pub use self::single::*;
pub use crate::nn::NdReal;
use crate::nn::checks::{check_cotangent, check_tangent};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The shape of a 4-D array as an array.
fn dims4<S: Data>(x: &ArrayBase<S, Ix4>) -> [usize; 4] {
    let (n, c, h, w) = x.dim();
    [n, c, h, w]
}

/// `a` in row-major order: borrowed if it already is, copied otherwise.
fn standard<S, T, D>(a: &ArrayBase<S, D>) -> CowArray<'_, T, D>
where
    S: Data<Elem = T>,
    T: Clone,
    D: Dimension,
{
    a.as_standard_layout()
}

/// The elements of a row-major array.
fn slice<T, S, D>(a: &ArrayBase<S, D>) -> &[T]
where
    S: Data<Elem = T>,
    D: Dimension,
{
    a.as_slice()
        .expect("an array in standard layout is contiguous")
}

/// A row-major buffer as an array of this shape.
fn from_vec<T, Sh: IntoDimension>(shape: Sh, v: Vec<T>) -> Array<T, Sh::Dim> {
    Array::from_shape_vec(shape.into_dimension(), v).expect("buffer length matches the shape")
}

/// A row-major reshape of an owned array, copying only if it is not in standard layout.
fn reshape<T: Clone, D: Dimension, Sh: IntoDimension>(
    a: Array<T, D>,
    shape: Sh,
) -> Array<T, Sh::Dim> {
    let a = if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    };
    a.into_shape_with_order(shape.into_dimension())
        .expect("sizes checked")
}

#[cfg(test)]
mod tests;
