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
//!   copies of `x` and `w` (not the `im2col` matrix, which it rebuilds image by image), max
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
mod lowering;
mod pool;

use ndarray::{
    Array, Array1, Array2, Array4, ArrayBase, ArrayView1, CowArray, Data, Dimension, IntoDimension,
    Ix1, Ix2, Ix4,
};

pub use self::along::*;
use self::lowering::Geometry;
pub use self::pool::{
    avg_pool2d, avg_pool2d_jvp, avg_pool2d_vjp, avg_pool2d_vjp_jvp, max_pool2d, max_pool2d_jvp,
    max_pool2d_vjp, max_pool2d_vjp_along, max_pool2d_vjp_jvp,
};
pub use crate::nn::NdReal;
use crate::nn::checks::{check_cotangent, check_tangent};

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// The hyper-parameters of a convolution, stride and zero padding, with the output size they
/// give. The convolution functions take them as two `usize` arguments, so that
/// `#[differentiate]` sees them as not differentiable: pass `cfg.stride, cfg.padding`.
///
/// ```
/// use autodiff_runtime::conv::Conv2dConfig;
///
/// assert_eq!(Conv2dConfig::default(), Conv2dConfig { stride: 1, padding: 0 });
/// // A 3×3 filter with padding 1 keeps the size; stride 2 halves it.
/// assert_eq!(Conv2dConfig::new(1, 1).output_size((28, 28), (3, 3)), (28, 28));
/// assert_eq!(Conv2dConfig::new(2, 1).output_size((28, 28), (3, 3)), (14, 14));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dConfig {
    /// The step between filter positions, at least 1.
    pub stride: usize,
    /// Rows and columns of zeros added on each side of the input.
    pub padding: usize,
}

impl Default for Conv2dConfig {
    /// Stride 1, no padding: the lecture's "valid" convolution.
    fn default() -> Self {
        Conv2dConfig {
            stride: 1,
            padding: 0,
        }
    }
}

impl Conv2dConfig {
    /// A configuration with this stride and padding.
    pub const fn new(stride: usize, padding: usize) -> Self {
        Conv2dConfig { stride, padding }
    }

    /// The output height and width of a convolution of an `input = (H, W)` image with a
    /// `filter = (kh, kw)` filter: `(⌊(H + 2p − kh)/s⌋ + 1, ⌊(W + 2p − kw)/s⌋ + 1)`.
    ///
    /// # Panics
    ///
    /// As [`conv2d_nchw`]: if the stride is 0, or the filter is empty or larger than the padded
    /// input.
    #[track_caller]
    pub fn output_size(&self, input: (usize, usize), filter: (usize, usize)) -> (usize, usize) {
        let g = Geometry::new(
            "Conv2dConfig::output_size",
            [1, 1, input.0, input.1],
            [1, 1, filter.0, filter.1],
            self.stride,
            self.padding,
        );
        (g.ho, g.wo)
    }
}

// ---------------------------------------------------------------------------------------------
// The lecture's 2D and 1D convolutions
// ---------------------------------------------------------------------------------------------

/// The lecture's 2D convolution of an `H×W` image `x` with a `kh×kw` filter `w`:
/// `z[i₁, i₂] = Σⱼ₁ Σⱼ₂ w[j₁, j₂]·x[i₁ + j₁, i₂ + j₂]`, an `(H − kh + 1)×(W − kw + 1)` image
/// (the "valid" positions, where the filter lies inside the image).
///
/// This is the cross-correlation that deep-learning libraries call convolution: the filter is
/// **not** flipped. The convolution of signal processing and of most textbooks,
/// `z[i] = Σⱼ w[j]·x[i − j]`, reverses the filter; the two agree for filters symmetric under a
/// half-turn (like the lecture's example filter) and differ otherwise. To compute the flipped
/// one, pass `w.slice(s![..;-1, ..;-1])`. See the [module docs](self).
///
/// Derivatives, for a cotangent `g` of `z`:
///
/// ```text
/// ∂w[j₁, j₂] = Σᵢ₁ Σᵢ₂ g[i₁, i₂]·x[i₁ + j₁, i₂ + j₂]      the cross-correlation of x with g
/// ∂x[a₁, a₂] = Σⱼ₁ Σⱼ₂ g[a₁ − j₁, a₂ − j₂]·w[j₁, j₂]     the "full" flipped convolution of g
///                                                         with w (g is 0 outside its range)
/// ```
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::array;
///
/// // A horizontal difference filter: not symmetric, so the orientation shows.
/// let x = array![[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]];
/// assert_eq!(conv::conv2d(&x, &array![[-1.0, 1.0]]), array![[1.0, 2.0], [3.0, 6.0]]);
/// ```
///
/// # Panics
///
/// If `w` is empty or larger than `x` in either dimension.
pub fn conv2d<S1, S2, T>(x: &ArrayBase<S1, Ix2>, w: &ArrayBase<S2, Ix2>) -> Array2<T>
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let g = plain_geometry("conv2d", x.dim(), w.dim());
    let z = lowering::forward(&g, slice(&standard(x)), slice(&standard(w)), None);
    from_vec((g.ho, g.wo), z)
}

/// [`conv2d`] and its pullback `g ↦ (∂x, ∂w)` by the formulas there, computed as matrix products
/// (see the [module docs](self)). The pullback keeps copies of `x` and `w`.
///
/// # Panics
///
/// As [`conv2d`]; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn conv2d_vjp<S1, S2, T>(
    x: &ArrayBase<S1, Ix2>,
    w: &ArrayBase<S2, Ix2>,
) -> (
    Array2<T>,
    impl FnOnce(Array2<T>) -> (Array2<T>, Array2<T>) + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let g = plain_geometry("conv2d_vjp", x.dim(), w.dim());
    let (xs, ws) = (standard(x).into_owned(), standard(w).into_owned());
    let z = from_vec(
        (g.ho, g.wo),
        lowering::forward(&g, slice(&xs), slice(&ws), None),
    );
    let pullback = move |gz: Array2<T>| {
        check_cotangent("conv2d_vjp", gz.shape(), &[g.ho, g.wo]);
        let [dx, dw, _] =
            lowering::backward(&g, slice(&xs), slice(&ws), slice(&standard(&gz)), false);
        (from_vec(xs.raw_dim(), dx), from_vec(ws.raw_dim(), dw))
    };
    (z, pullback)
}

/// [`conv2d`] and its tangent for the tangents `dx` and `dw`. The convolution is bilinear, so
///
/// ```text
/// ż = conv2d(ẋ, w) + conv2d(x, ẇ)
/// ```
///
/// computed as matrix products that share the `im2col` of `x` between the value and the `ẇ`
/// term.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::array;
///
/// let (x, w) = (array![[1.0, 2.0, 4.0]], array![[-1.0, 1.0]]);
/// let (z, dz) = conv::conv2d_jvp(&x, &w, &array![[0.0, 0.0, 1.0]], &array![[1.0, 0.0]]);
/// assert_eq!(z, array![[1.0, 2.0]]);
/// // conv2d(ẋ, w) = [0, 1], conv2d(x, ẇ) = [1, 2].
/// assert_eq!(dz, array![[1.0, 3.0]]);
/// ```
///
/// # Panics
///
/// As [`conv2d`], and if a tangent is not shaped like its argument.
pub fn conv2d_jvp<S1, S2, T>(
    x: &ArrayBase<S1, Ix2>,
    w: &ArrayBase<S2, Ix2>,
    dx: &Array2<T>,
    dw: &Array2<T>,
) -> (Array2<T>, Array2<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_jvp";
    let g = plain_geometry(what, x.dim(), w.dim());
    let (z, z_dot) = value_and_tangent(what, &g, (x, w, None), (dx, dw));
    (from_vec((g.ho, g.wo), z), from_vec((g.ho, g.wo), z_dot))
}

/// [`conv2d`], its tangent as [`conv2d_jvp`], and the pullback
/// `(g, ġ) ↦ ((∂x, ∂w), (∂ẋ, ∂ẇ))` of a Hessian-vector product: the gradients of
/// [`conv2d_vjp`] and their tangents. Each gradient is bilinear in the cotangent and one
/// argument, so, with `⋆` the cross-correlation and `convᵀ_w` the transpose of `x ↦ conv2d(x, w)`
/// (the full flipped convolution of [`conv2d`]'s docs):
///
/// ```text
/// ∂x = convᵀ_w(g)       ∂ẋ = convᵀ_w(ġ) + convᵀ_ẇ(g)
/// ∂w = x ⋆ g            ∂ẇ = x ⋆ ġ + ẋ ⋆ g
/// ```
///
/// The pullback keeps copies of `x`, `w` and their tangents, and builds each `im2col` of `x`
/// once for a gradient and its tangent.
///
/// # Panics
///
/// As [`conv2d_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn conv2d_vjp_jvp<S1, S2, T>(
    x: &ArrayBase<S1, Ix2>,
    w: &ArrayBase<S2, Ix2>,
    dx: &Array2<T>,
    dw: &Array2<T>,
) -> (
    Array2<T>,
    Array2<T>,
    impl FnOnce(Array2<T>, Array2<T>) -> ((Array2<T>, Array2<T>), (Array2<T>, Array2<T>))
    + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_vjp_jvp";
    let g = plain_geometry(what, x.dim(), w.dim());
    let kept = Kept::new(what, g, (x, w), (dx, dw));
    let (z, z_dot) = kept.value_and_tangent(None);
    let pullback = kept.into_unbiased_pullback(what);
    (
        from_vec((g.ho, g.wo), z),
        from_vec((g.ho, g.wo), z_dot),
        pullback,
    )
}

/// The lecture's 1D convolution of a signal `x` of length `L` with a filter `w` of length `k`:
/// `z[i] = Σⱼ w[j]·x[i + j]`, of length `L − k + 1`. As for [`conv2d`], the filter is not
/// flipped (the lecture's "formal convolution definition" contrasts this with the textbook
/// `Σⱼ w[j]·x[i − j]`).
///
/// Derivatives, for a cotangent `g` of `z`: `∂w[j] = Σᵢ g[i]·x[i + j]` and
/// `∂x[a] = Σⱼ g[a − j]·w[j]` (`g` is 0 outside its range).
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::array;
///
/// // A moving sum of three.
/// let z = conv::conv1d(&array![1.0, 2.0, 3.0, 4.0, 5.0], &array![1.0, 1.0, 1.0]);
/// assert_eq!(z, array![6.0, 9.0, 12.0]);
/// ```
///
/// # Panics
///
/// If `w` is empty or longer than `x`.
pub fn conv1d<S1, S2, T>(x: &ArrayBase<S1, Ix1>, w: &ArrayBase<S2, Ix1>) -> Array1<T>
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let g = signal_geometry("conv1d", x.len(), w.len());
    let z = lowering::forward(&g, slice(&standard(x)), slice(&standard(w)), None);
    Array1::from_vec(z)
}

/// [`conv1d`] and its pullback `g ↦ (∂x, ∂w)` by the formulas there. The pullback keeps copies of
/// `x` and `w`.
///
/// # Panics
///
/// As [`conv1d`]; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn conv1d_vjp<S1, S2, T>(
    x: &ArrayBase<S1, Ix1>,
    w: &ArrayBase<S2, Ix1>,
) -> (
    Array1<T>,
    impl FnOnce(Array1<T>) -> (Array1<T>, Array1<T>) + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let g = signal_geometry("conv1d_vjp", x.len(), w.len());
    let (xs, ws) = (x.to_vec(), w.to_vec());
    let z = Array1::from_vec(lowering::forward(&g, &xs, &ws, None));
    let pullback = move |gz: Array1<T>| {
        check_cotangent("conv1d_vjp", gz.shape(), &[g.wo]);
        let [dx, dw, _] = lowering::backward(&g, &xs, &ws, slice(&standard(&gz)), false);
        (Array1::from_vec(dx), Array1::from_vec(dw))
    };
    (z, pullback)
}

/// [`conv1d`] and its tangent `ż = conv1d(ẋ, w) + conv1d(x, ẇ)` for the tangents `dx` and `dw`,
/// as for [`conv2d_jvp`].
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::array;
///
/// let (x, w) = (array![1.0, 2.0, 3.0], array![1.0, 1.0]);
/// let (z, dz) = conv::conv1d_jvp(&x, &w, &array![1.0, 0.0, 0.0], &array![0.0, 1.0]);
/// assert_eq!((z, dz), (array![3.0, 5.0], array![3.0, 3.0]));
/// ```
///
/// # Panics
///
/// As [`conv1d`], and if a tangent is not shaped like its argument.
pub fn conv1d_jvp<S1, S2, T>(
    x: &ArrayBase<S1, Ix1>,
    w: &ArrayBase<S2, Ix1>,
    dx: &Array1<T>,
    dw: &Array1<T>,
) -> (Array1<T>, Array1<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv1d_jvp";
    let g = signal_geometry(what, x.len(), w.len());
    let (z, z_dot) = value_and_tangent(what, &g, (x, w, None), (dx, dw));
    (Array1::from_vec(z), Array1::from_vec(z_dot))
}

/// [`conv1d`], its tangent as [`conv1d_jvp`], and the pullback
/// `(g, ġ) ↦ ((∂x, ∂w), (∂ẋ, ∂ẇ))` of a Hessian-vector product: the gradients of
/// [`conv1d_vjp`] and their tangents, `∂ẋ = convᵀ_w(ġ) + convᵀ_ẇ(g)` and `∂ẇ = x ⋆ ġ + ẋ ⋆ g`
/// as for [`conv2d_vjp_jvp`]. The pullback keeps copies of `x`, `w` and their tangents.
///
/// # Panics
///
/// As [`conv1d_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn conv1d_vjp_jvp<S1, S2, T>(
    x: &ArrayBase<S1, Ix1>,
    w: &ArrayBase<S2, Ix1>,
    dx: &Array1<T>,
    dw: &Array1<T>,
) -> (
    Array1<T>,
    Array1<T>,
    impl FnOnce(Array1<T>, Array1<T>) -> ((Array1<T>, Array1<T>), (Array1<T>, Array1<T>))
    + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv1d_vjp_jvp";
    let g = signal_geometry(what, x.len(), w.len());
    let kept = Kept::new(what, g, (x, w), (dx, dw));
    let (z, z_dot) = kept.value_and_tangent(None);
    let pullback = kept.into_unbiased_pullback(what);
    (Array1::from_vec(z), Array1::from_vec(z_dot), pullback)
}

/// The geometry of [`conv2d`] as a batch of one image and one filter, checked with messages in
/// the function's own 2D terms.
#[track_caller]
fn plain_geometry(what: &str, x: (usize, usize), w: (usize, usize)) -> Geometry {
    let ((h, wd), (kh, kw)) = (x, w);
    assert!(
        kh >= 1 && kw >= 1,
        "{what}: the filter must not be empty, got {kh}×{kw}"
    );
    assert!(
        kh <= h && kw <= wd,
        "{what}: the {kh}×{kw} filter is larger than the {h}×{wd} input"
    );
    Geometry::new(what, [1, 1, h, wd], [1, 1, kh, kw], 1, 0)
}

/// The geometry of [`conv1d`]: a `1×L` image and a `1×k` filter.
#[track_caller]
fn signal_geometry(what: &str, len: usize, taps: usize) -> Geometry {
    assert!(taps >= 1, "{what}: the filter must not be empty");
    assert!(
        taps <= len,
        "{what}: the filter (length {taps}) is longer than the input (length {len})"
    );
    Geometry::new(what, [1, 1, 1, len], [1, 1, 1, taps], 1, 0)
}

// ---------------------------------------------------------------------------------------------
// Batched, multi-channel convolution
// ---------------------------------------------------------------------------------------------

/// Batched, multi-channel 2D convolution with bias, stride and zero padding: the input `x` is
/// `N×C×H×W` (`N` images of `C` channels), the filters `w` are `K×C×kh×kw`, the bias `b` has `K`
/// entries, and the output is `N×K×Ho×Wo` with
///
/// ```text
/// z[n, k, o₁, o₂] = b[k] + Σ_c Σⱼ₁ Σⱼ₂ w[k, c, j₁, j₂] · x̃[n, c, o₁·s + j₁, o₂·s + j₂]
/// Ho = ⌊(H + 2p − kh)/s⌋ + 1,   Wo = ⌊(W + 2p − kw)/s⌋ + 1
/// ```
///
/// where `x̃` is `x` with `padding = p` rows and columns of zeros on every side and `s` the
/// stride. Each filter is the lecture's "3D convolution", a weighted dot product across all three
/// dimensions of an image region (height, width and channels); like [`conv2d`], the filter is
/// not flipped. [`Conv2dConfig::output_size`] computes `(Ho, Wo)`.
///
/// Derivatives, for a cotangent `G` of `z` (see the [module docs](self) for their matrix form):
///
/// ```text
/// ∂b[k]             = Σ_{n,o₁,o₂} G[n, k, o₁, o₂]
/// ∂w[k, c, j₁, j₂]  = Σ_{n,o₁,o₂} G[n, k, o₁, o₂] · x̃[n, c, o₁·s + j₁, o₂·s + j₂]
/// ∂x̃[n, c, a₁, a₂] = Σ_k Σ_{(o,j): o·s + j = a} G[n, k, o₁, o₂] · w[k, c, j₁, j₂]
/// ```
///
/// and `∂x` is `∂x̃` without the padding.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::{Array1, Array4};
///
/// // 2 images of 3 channels, 8×8; 4 filters of 3×3, stride 2, padding 1.
/// let x = Array4::from_elem((2, 3, 8, 8), 1.0);
/// let w = Array4::from_elem((4, 3, 3, 3), 0.5);
/// let b = Array1::from_elem(4, 0.25);
/// let (z, pullback) = conv::conv2d_nchw_vjp(&x, &w, &b, 2, 1);
/// assert_eq!(z.dim(), (2, 4, 4, 4));
/// // An interior output sees 3·3·3 ones: 27·0.5 + 0.25; the corner only 3·2·2.
/// assert_eq!(z[[0, 0, 1, 1]], 13.75);
/// assert_eq!(z[[0, 0, 0, 0]], 6.25);
/// let (dx, dw, db) = pullback(Array4::ones(z.raw_dim()));
/// assert_eq!((dx.dim(), dw.dim()), (x.dim(), w.dim()));
/// assert_eq!(db, Array1::from_elem(4, 32.0)); // N·Ho·Wo
/// ```
///
/// # Panics
///
/// If `stride` is 0, `x` and `w` have different channel counts, the filters are empty or larger
/// than the padded input, or `b` does not have one entry per filter.
pub fn conv2d_nchw<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    b: &ArrayBase<S3, Ix1>,
    stride: usize,
    padding: usize,
) -> Array4<T>
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    check_bias(what, b.view(), &g, w.shape());
    let z = lowering::forward(
        &g,
        slice(&standard(x)),
        slice(&standard(w)),
        Some(slice(&standard(b))),
    );
    from_vec(g.output_shape(), z)
}

/// [`conv2d_nchw`] and its pullback `G ↦ (∂x, ∂w, ∂b)` by the formulas there, computed as matrix
/// products (see the [module docs](self)). The pullback keeps copies of `x` and `w`.
///
/// # Panics
///
/// As [`conv2d_nchw`]; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn conv2d_nchw_vjp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    b: &ArrayBase<S3, Ix1>,
    stride: usize,
    padding: usize,
) -> (
    Array4<T>,
    impl FnOnce(Array4<T>) -> (Array4<T>, Array4<T>, Array1<T>) + use<S1, S2, S3, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw_vjp";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    check_bias(what, b.view(), &g, w.shape());
    let (xs, ws) = (standard(x).into_owned(), standard(w).into_owned());
    let z = lowering::forward(&g, slice(&xs), slice(&ws), Some(slice(&standard(b))));
    let pullback = move |gz: Array4<T>| {
        check_cotangent(what, gz.shape(), &g.output_shape());
        let [dx, dw, db] =
            lowering::backward(&g, slice(&xs), slice(&ws), slice(&standard(&gz)), true);
        (
            from_vec(xs.raw_dim(), dx),
            from_vec(ws.raw_dim(), dw),
            Array1::from_vec(db),
        )
    };
    (from_vec(g.output_shape(), z), pullback)
}

/// [`conv2d_nchw`] and its tangent for the tangents `dx`, `dw` and `db`. The convolution is
/// bilinear in `(x, w)` and affine in `b`, so
///
/// ```text
/// ż[n, k, o₁, o₂] = ḃ[k] + Σ_c Σⱼ₁ Σⱼ₂ (ẇ[k, c, j₁, j₂]·x̃[..] + w[k, c, j₁, j₂]·x̃̇[..])
/// ```
///
/// that is `Żₙ = Ẇ·cols(Xₙ) + W·cols(Ẋₙ) + ḃ` image by image (see the [module docs](self)),
/// with `cols(Xₙ)` built once for the value and the `Ẇ` term.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::{Array1, Array4};
///
/// let x = Array4::from_elem((1, 1, 3, 3), 1.0);
/// let w = Array4::from_elem((1, 1, 2, 2), 0.5);
/// let b = Array1::from_elem(1, 0.25);
/// // Doubling x and w together quadruples the sums: ż = 2·(sum) + 2·(sum) = 4·2.
/// let (z, dz) = conv::conv2d_nchw_jvp(&x, &w, &b, 1, 0, &x, &w, &Array1::zeros(1));
/// assert_eq!(z[[0, 0, 0, 0]], 2.25);
/// assert_eq!(dz[[0, 0, 0, 0]], 4.0);
/// ```
///
/// # Panics
///
/// As [`conv2d_nchw`], and if a tangent is not shaped like its argument.
#[allow(clippy::too_many_arguments)] // the arguments of conv2d_nchw and the three tangents
pub fn conv2d_nchw_jvp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    b: &ArrayBase<S3, Ix1>,
    stride: usize,
    padding: usize,
    dx: &Array4<T>,
    dw: &Array4<T>,
    db: &Array1<T>,
) -> (Array4<T>, Array4<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw_jvp";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    check_bias(what, b.view(), &g, w.shape());
    let bias = Some((b.view(), db));
    let (z, z_dot) = value_and_tangent(what, &g, (x, w, bias), (dx, dw));
    (
        from_vec(g.output_shape(), z),
        from_vec(g.output_shape(), z_dot),
    )
}

/// [`conv2d_nchw`], its tangent as [`conv2d_nchw_jvp`], and the pullback
/// `(G, Ġ) ↦ ((∂x, ∂w, ∂b), (∂ẋ, ∂ẇ, ∂ḃ))` of a Hessian-vector product: the gradients of
/// [`conv2d_nchw_vjp`] and their tangents. Each gradient is bilinear in the cotangent and one of
/// `(x, w)` (and `b` enters no gradient), so, image by image in the matrix form of the
/// [module docs](self),
///
/// ```text
/// ∂Ẇ  = Σₙ Ġₙ · cols(Xₙ)ᵀ + Gₙ · cols(Ẋₙ)ᵀ
/// ∂Ẋₙ = col2im(Wᵀ · Ġₙ + Ẇᵀ · Gₙ)
/// ∂ḃ  = Σₙ Σ_{o₁,o₂} Ġₙ
/// ```
///
/// The pullback keeps copies of `x`, `w` and their tangents, and builds each `im2col` of `x`
/// once for a gradient and its tangent.
///
/// # Panics
///
/// As [`conv2d_nchw_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::too_many_arguments)] // the arguments of conv2d_nchw and the three tangents
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn conv2d_nchw_vjp_jvp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    b: &ArrayBase<S3, Ix1>,
    stride: usize,
    padding: usize,
    dx: &Array4<T>,
    dw: &Array4<T>,
    db: &Array1<T>,
) -> (
    Array4<T>,
    Array4<T>,
    impl FnOnce(
        Array4<T>,
        Array4<T>,
    ) -> (
        (Array4<T>, Array4<T>, Array1<T>),
        (Array4<T>, Array4<T>, Array1<T>),
    ) + use<S1, S2, S3, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw_vjp_jvp";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    check_bias(what, b.view(), &g, w.shape());
    check_tangent(what, "b", db.shape(), b.shape());
    let kept = Kept::new(what, g, (x, w), (dx, dw));
    let (b, db) = (standard(b), standard(db));
    let (z, z_dot) = kept.value_and_tangent(Some((slice(&b), slice(&db))));
    let pullback = move |gz: Array4<T>, gz_dot: Array4<T>| kept.pullback(what, gz, gz_dot, true);
    (
        from_vec(g.output_shape(), z),
        from_vec(g.output_shape(), z_dot),
        pullback,
    )
}

/// [`conv2d_nchw`] without a bias: `z[n, k, o₁, o₂] = Σ_c Σⱼ₁ Σⱼ₂ w[k, c, j₁, j₂]·x̃[..]`, for a
/// convolution followed by a normalization that would cancel the bias anyway.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::{Array1, Array4};
///
/// let x = Array4::from_shape_fn((1, 2, 4, 5), |(_, c, i, j)| (c + i * j) as f64);
/// let w = Array4::from_shape_fn((3, 2, 2, 2), |(k, c, i, j)| (k + c) as f64 - (i + j) as f64);
/// assert_eq!(
///     conv::conv2d_nchw_no_bias(&x, &w, 1, 1),
///     conv::conv2d_nchw(&x, &w, &Array1::zeros(3), 1, 1),
/// );
/// ```
///
/// # Panics
///
/// As [`conv2d_nchw`].
pub fn conv2d_nchw_no_bias<S1, S2, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    stride: usize,
    padding: usize,
) -> Array4<T>
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let g = Geometry::new("conv2d_nchw_no_bias", dims4(x), dims4(w), stride, padding);
    let z = lowering::forward(&g, slice(&standard(x)), slice(&standard(w)), None);
    from_vec(g.output_shape(), z)
}

/// [`conv2d_nchw_no_bias`] and its pullback `G ↦ (∂x, ∂w)`, as for [`conv2d_nchw_vjp`].
///
/// # Panics
///
/// As [`conv2d_nchw`]; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn conv2d_nchw_no_bias_vjp<S1, S2, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    stride: usize,
    padding: usize,
) -> (
    Array4<T>,
    impl FnOnce(Array4<T>) -> (Array4<T>, Array4<T>) + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw_no_bias_vjp";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    let (xs, ws) = (standard(x).into_owned(), standard(w).into_owned());
    let z = lowering::forward(&g, slice(&xs), slice(&ws), None);
    let pullback = move |gz: Array4<T>| {
        check_cotangent(what, gz.shape(), &g.output_shape());
        let [dx, dw, _] =
            lowering::backward(&g, slice(&xs), slice(&ws), slice(&standard(&gz)), false);
        (from_vec(xs.raw_dim(), dx), from_vec(ws.raw_dim(), dw))
    };
    (from_vec(g.output_shape(), z), pullback)
}

/// [`conv2d_nchw_no_bias`] and its tangent for the tangents `dx` and `dw`: as
/// [`conv2d_nchw_jvp`] without the bias, `Żₙ = Ẇ·cols(Xₙ) + W·cols(Ẋₙ)`.
///
/// # Panics
///
/// As [`conv2d_nchw`], and if a tangent is not shaped like its argument.
pub fn conv2d_nchw_no_bias_jvp<S1, S2, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    stride: usize,
    padding: usize,
    dx: &Array4<T>,
    dw: &Array4<T>,
) -> (Array4<T>, Array4<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw_no_bias_jvp";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    let (z, z_dot) = value_and_tangent(what, &g, (x, w, None), (dx, dw));
    (
        from_vec(g.output_shape(), z),
        from_vec(g.output_shape(), z_dot),
    )
}

/// [`conv2d_nchw_no_bias`], its tangent as [`conv2d_nchw_no_bias_jvp`], and the pullback
/// `(G, Ġ) ↦ ((∂x, ∂w), (∂ẋ, ∂ẇ))` of a Hessian-vector product, as for
/// [`conv2d_nchw_vjp_jvp`] without the bias.
///
/// # Panics
///
/// As [`conv2d_nchw_no_bias_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn conv2d_nchw_no_bias_vjp_jvp<S1, S2, T>(
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    stride: usize,
    padding: usize,
    dx: &Array4<T>,
    dw: &Array4<T>,
) -> (
    Array4<T>,
    Array4<T>,
    impl FnOnce(Array4<T>, Array4<T>) -> ((Array4<T>, Array4<T>), (Array4<T>, Array4<T>))
    + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let what = "conv2d_nchw_no_bias_vjp_jvp";
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    let kept = Kept::new(what, g, (x, w), (dx, dw));
    let (z, z_dot) = kept.value_and_tangent(None);
    let pullback = kept.into_unbiased_pullback(what);
    (
        from_vec(g.output_shape(), z),
        from_vec(g.output_shape(), z_dot),
        pullback,
    )
}

#[track_caller]
fn check_bias<T>(what: &str, b: ArrayView1<'_, T>, g: &Geometry, w: &[usize]) {
    assert!(
        b.len() == g.k,
        "{what}: the bias has {} entries but there are {} filters (w {w:?} is K×C×kh×kw)",
        b.len(),
        g.k
    );
}

// ---------------------------------------------------------------------------------------------
// Forward mode and second order, shared by the convolutions
// ---------------------------------------------------------------------------------------------

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
fn value_and_tangent<S1, S2, T, Dx, Dw>(
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
struct Kept<T, Dx, Dw> {
    g: Geometry,
    x: Array<T, Dx>,
    w: Array<T, Dw>,
    dx: Array<T, Dx>,
    dw: Array<T, Dw>,
}

impl<T: NdReal, Dx: Dimension, Dw: Dimension> Kept<T, Dx, Dw> {
    /// Copies of `x`, `w` and their tangents, after checking the tangents' shapes.
    #[track_caller]
    fn new<S1, S2>(
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
    fn value_and_tangent(&self, bias: Option<(&[T], &[T])>) -> (Vec<T>, Vec<T>) {
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
    fn pullback<Dz: Dimension>(
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
    fn into_unbiased_pullback<Dz: Dimension>(
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
    /// [`conv2d`], `[Wo]` for [`conv1d`] (the output's dimension is the input's).
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

// ---------------------------------------------------------------------------------------------
// Between convolutional and dense layers
// ---------------------------------------------------------------------------------------------

/// Flattens each image of an `N×C×H×W` tensor into a row: an `N × (C·H·W)` matrix whose row `n`
/// is image `n` in row-major (channel, row, column) order, ready for a dense layer
/// (`flatten(&h).dot(&w)`). Its derivative is the inverse reshape.
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::{Array4, array};
///
/// let x = Array4::from_shape_vec((2, 1, 1, 3), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// assert_eq!(conv::flatten(&x), array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// ```
pub fn flatten<S, T>(x: &ArrayBase<S, Ix4>) -> Array2<T>
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let [n, c, h, w] = dims4(x);
    reshape(standard(x).into_owned(), (n, c * h * w))
}

/// [`flatten`] and its pullback, which reshapes the `N × (C·H·W)` cotangent back to `N×C×H×W`.
/// The pullback keeps only the shape.
///
/// # Panics
///
/// The pullback panics if the cotangent is not shaped like the value.
pub fn flatten_vjp<S, T>(
    x: &ArrayBase<S, Ix4>,
) -> (Array2<T>, impl FnOnce(Array2<T>) -> Array4<T> + use<S, T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let shape = dims4(x);
    let pullback = move |g: Array2<T>| unflatten_cotangent("flatten_vjp", shape, g);
    (flatten(x), pullback)
}

/// [`flatten`] and its tangent, `flatten(dx)`: flattening is linear, so it is its own forward
/// rule.
///
/// # Panics
///
/// If `dx` is not shaped like `x`.
pub fn flatten_jvp<S, T>(x: &ArrayBase<S, Ix4>, dx: &Array4<T>) -> (Array2<T>, Array2<T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    check_tangent("flatten_jvp", "x", dx.shape(), x.shape());
    (flatten(x), flatten(dx))
}

/// [`flatten`], its tangent as [`flatten_jvp`], and the pullback `(g, ġ) ↦ (∂x, ∂ẋ)` of a
/// Hessian-vector product: flattening is linear, so its gradient does not depend on `x` and
/// `∂ẋ` is the cotangent's tangent reshaped back, as `∂x` is the cotangent.
///
/// # Panics
///
/// If `dx` is not shaped like `x`; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn flatten_vjp_jvp<S, T>(
    x: &ArrayBase<S, Ix4>,
    dx: &Array4<T>,
) -> (
    Array2<T>,
    Array2<T>,
    impl FnOnce(Array2<T>, Array2<T>) -> (Array4<T>, Array4<T>) + use<S, T>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "flatten_vjp_jvp";
    check_tangent(what, "x", dx.shape(), x.shape());
    let shape = dims4(x);
    let pullback = move |g, g_dot| {
        (
            unflatten_cotangent(what, shape, g),
            unflatten_cotangent(what, shape, g_dot),
        )
    };
    (flatten(x), flatten(dx), pullback)
}

/// A cotangent of [`flatten`]'s value reshaped to the input's `shape`, after checking its shape.
#[track_caller]
fn unflatten_cotangent<T: NdReal>(what: &str, shape: [usize; 4], g: Array2<T>) -> Array4<T> {
    let [n, c, h, w] = shape;
    check_cotangent(what, g.shape(), &[n, c * h * w]);
    reshape(g, (n, c, h, w))
}

/// The inverse of [`flatten`]: each row of an `N × (C·H·W)` matrix becomes a `C×H×W` image,
/// giving an `N×C×H×W` tensor (for a dense layer that feeds a convolution). Its derivative is
/// [`flatten`].
///
/// ```
/// use autodiff_runtime::conv;
/// use ndarray::array;
///
/// let x = array![[1.0, 2.0, 3.0, 4.0]];
/// let y = conv::unflatten(&x, 1, 2, 2);
/// assert_eq!(y.dim(), (1, 1, 2, 2));
/// assert_eq!(y[[0, 0, 1, 0]], 3.0);
/// assert_eq!(conv::flatten(&y), x);
/// ```
///
/// # Panics
///
/// If `x` does not have `channels·height·width` columns.
pub fn unflatten<S, T>(
    x: &ArrayBase<S, Ix2>,
    channels: usize,
    height: usize,
    width: usize,
) -> Array4<T>
where
    S: Data<Elem = T>,
    T: NdReal,
{
    unflatten_checked("unflatten", x, channels, height, width)
}

/// [`unflatten`] and its pullback, which flattens the `N×C×H×W` cotangent back to
/// `N × (C·H·W)`. The pullback keeps only the shape.
///
/// # Panics
///
/// As [`unflatten`]; the pullback, if the cotangent is not shaped like the value.
pub fn unflatten_vjp<S, T>(
    x: &ArrayBase<S, Ix2>,
    channels: usize,
    height: usize,
    width: usize,
) -> (Array4<T>, impl FnOnce(Array4<T>) -> Array2<T> + use<S, T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let y = unflatten_checked("unflatten_vjp", x, channels, height, width);
    let shape = dims4(&y);
    (y, move |g| flatten_cotangent("unflatten_vjp", shape, g))
}

/// [`unflatten`] and its tangent, `unflatten(dx, ..)`: the reshape is linear, so it is its own
/// forward rule.
///
/// # Panics
///
/// As [`unflatten`], and if `dx` is not shaped like `x`.
pub fn unflatten_jvp<S, T>(
    x: &ArrayBase<S, Ix2>,
    channels: usize,
    height: usize,
    width: usize,
    dx: &Array2<T>,
) -> (Array4<T>, Array4<T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "unflatten_jvp";
    let y = unflatten_checked(what, x, channels, height, width);
    check_tangent(what, "x", dx.shape(), x.shape());
    (y, unflatten_checked(what, dx, channels, height, width))
}

/// [`unflatten`], its tangent as [`unflatten_jvp`], and the pullback `(g, ġ) ↦ (∂x, ∂ẋ)` of a
/// Hessian-vector product: the reshape is linear, so `∂ẋ` is the cotangent's tangent flattened,
/// as `∂x` is the cotangent.
///
/// # Panics
///
/// As [`unflatten_jvp`]; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn unflatten_vjp_jvp<S, T>(
    x: &ArrayBase<S, Ix2>,
    channels: usize,
    height: usize,
    width: usize,
    dx: &Array2<T>,
) -> (
    Array4<T>,
    Array4<T>,
    impl FnOnce(Array4<T>, Array4<T>) -> (Array2<T>, Array2<T>) + use<S, T>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "unflatten_vjp_jvp";
    let (y, dy) = unflatten_jvp(x, channels, height, width, dx);
    let shape = dims4(&y);
    let pullback = move |g, g_dot| {
        (
            flatten_cotangent(what, shape, g),
            flatten_cotangent(what, shape, g_dot),
        )
    };
    (y, dy, pullback)
}

/// A cotangent of [`unflatten`]'s value, of `shape`, flattened back to `N × (C·H·W)` after
/// checking its shape.
#[track_caller]
fn flatten_cotangent<T: NdReal>(what: &str, shape: [usize; 4], g: Array4<T>) -> Array2<T> {
    check_cotangent(what, g.shape(), &shape);
    reshape(g, (shape[0], shape[1] * shape[2] * shape[3]))
}

#[track_caller]
fn unflatten_checked<S, T>(
    what: &str,
    x: &ArrayBase<S, Ix2>,
    channels: usize,
    height: usize,
    width: usize,
) -> Array4<T>
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let (n, cols) = x.dim();
    assert!(
        cols == channels * height * width,
        "{what}: x has {cols} columns, but channels·height·width = {channels}·{height}·{width} \
         = {} (x [{n}, {cols}])",
        channels * height * width
    );
    reshape(standard(x).into_owned(), (n, channels, height, width))
}

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
