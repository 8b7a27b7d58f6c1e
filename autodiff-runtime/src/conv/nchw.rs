//! Batched, multi-channel convolution of `N×C×H×W` tensors with stride and zero padding, with
//! and without a bias, and [`Conv2dConfig`], the stride and padding of a convolutional layer.

use ndarray::{Array1, Array4, ArrayBase, ArrayView1, Data, Ix1, Ix4};

use super::bilinear::{Kept, value_and_tangent};
use super::lowering::{self, Geometry};
use super::{NdReal, check_cotangent, check_tangent, dims4, from_vec, slice, standard};

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
/// dimensions of an image region (height, width and channels); like
/// [`conv2d`](super::conv2d), the filter is not flipped. [`Conv2dConfig::output_size`] computes
/// `(Ho, Wo)`.
///
/// Derivatives, for a cotangent `G` of `z` (see the [module docs](super) for their matrix form):
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
/// products (see the [module docs](super)). The pullback keeps a copy of `w`, and the receptive
/// fields of `x` (its `im2col` matrices) or, when they would take more than 32 MiB, a copy of `x`.
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
    vjp_core(
        "conv2d_nchw_vjp",
        x,
        w,
        Some(b.view()),
        stride,
        padding,
        true,
    )
}

/// [`conv2d_nchw_vjp`] for an input whose gradient is not wanted (the images of a first
/// layer): the pullback's `∂x` is an empty array, and it skips the product `Wmᵀ·G` and
/// `col2im` that would compute it. `#[differentiate]` calls it where `x` is not
/// differentiated, and drops that `∂x`.
///
/// # Panics
///
/// As [`conv2d_nchw_vjp`].
#[doc(hidden)]
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn conv2d_nchw_vjp_without_input<S1, S2, S3, T>(
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
    vjp_core(
        "conv2d_nchw_vjp",
        x,
        w,
        Some(b.view()),
        stride,
        padding,
        false,
    )
}

/// [`conv2d_nchw`] and its tangent for the tangents `dx`, `dw` and `db`. The convolution is
/// bilinear in `(x, w)` and affine in `b`, so
///
/// ```text
/// ż[n, k, o₁, o₂] = ḃ[k] + Σ_c Σⱼ₁ Σⱼ₂ (ẇ[k, c, j₁, j₂]·x̃[..] + w[k, c, j₁, j₂]·x̃̇[..])
/// ```
///
/// that is `Żₙ = Ẇ·cols(Xₙ) + W·cols(Ẋₙ) + ḃ` image by image (see the [module docs](super)),
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
/// [module docs](super),
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
    let (z, pullback) = vjp_core("conv2d_nchw_no_bias_vjp", x, w, None, stride, padding, true);
    (z, move |gz| {
        let (dx, dw, _) = pullback(gz);
        (dx, dw)
    })
}

/// [`conv2d_nchw_no_bias_vjp`] for an input whose gradient is not wanted: the pullback's
/// `∂x` is an empty array (see [`conv2d_nchw_vjp_without_input`]).
///
/// # Panics
///
/// As [`conv2d_nchw_no_bias_vjp`].
#[doc(hidden)]
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn conv2d_nchw_no_bias_vjp_without_input<S1, S2, T>(
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
    let (z, pullback) = vjp_core(
        "conv2d_nchw_no_bias_vjp",
        x,
        w,
        None,
        stride,
        padding,
        false,
    );
    (z, move |gz| {
        let (dx, dw, _) = pullback(gz);
        (dx, dw)
    })
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

/// The value of [`conv2d_nchw`] (without a bias where `b` is `None`) and its pullback `G ↦ (∂x,
/// ∂w, ∂b)`, with `∂b` empty without a bias, and `∂x` an empty array unless `want_input`.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
fn vjp_core<S1, S2, T>(
    what: &'static str,
    x: &ArrayBase<S1, Ix4>,
    w: &ArrayBase<S2, Ix4>,
    b: Option<ArrayView1<'_, T>>,
    stride: usize,
    padding: usize,
    want_input: bool,
) -> (
    Array4<T>,
    impl FnOnce(Array4<T>) -> (Array4<T>, Array4<T>, Array1<T>) + use<S1, S2, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
{
    let g = Geometry::new(what, dims4(x), dims4(w), stride, padding);
    if let Some(b) = &b {
        check_bias(what, b.view(), &g, w.shape());
    }
    let ws = standard(w).into_owned();
    let bias = b.map(|b| standard(&b).into_owned());
    let (z, kept) = lowering::forward_keeping(
        &g,
        slice(&standard(x)),
        slice(&ws),
        bias.as_ref().map(|b| slice(b)),
    );
    let (x_dim, want_bias) = (x.raw_dim(), bias.is_some());
    let pullback = move |gz: Array4<T>| {
        check_cotangent(what, gz.shape(), &g.output_shape());
        let gz = standard(&gz);
        let [dx, dw, db] =
            lowering::backward(&g, &kept, slice(&ws), slice(&gz), want_bias, want_input);
        let dx = if want_input {
            from_vec(x_dim, dx)
        } else {
            Array4::zeros((0, 0, 0, 0))
        };
        (dx, from_vec(ws.raw_dim(), dw), Array1::from_vec(db))
    };
    (from_vec(g.output_shape(), z), pullback)
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
