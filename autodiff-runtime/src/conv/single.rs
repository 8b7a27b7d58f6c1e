//! The lecture's convolutions: [`conv2d`] of one image with one filter, and its 1D form
//! [`conv1d`] of a signal. Both are the batched convolution's lowering with one image, one
//! channel and one filter; kept apart from it because their shapes and arguments are the
//! lecture's, not a layer's.

use ndarray::{Array1, Array2, ArrayBase, Data, Ix1, Ix2};

use super::bilinear::{Kept, value_and_tangent};
use super::lowering::{self, Geometry};
use super::{NdReal, check_cotangent, from_vec, slice, standard};

/// The lecture's 2D convolution of an `H×W` image `x` with a `kh×kw` filter `w`:
/// `z[i₁, i₂] = Σⱼ₁ Σⱼ₂ w[j₁, j₂]·x[i₁ + j₁, i₂ + j₂]`, an `(H − kh + 1)×(W − kw + 1)` image
/// (the "valid" positions, where the filter lies inside the image).
///
/// This is the cross-correlation that deep-learning libraries call convolution: the filter is
/// **not** flipped. The convolution of signal processing and of most textbooks,
/// `z[i] = Σⱼ w[j]·x[i − j]`, reverses the filter; the two agree for filters symmetric under a
/// half-turn (like the lecture's example filter) and differ otherwise. To compute the flipped
/// one, pass `w.slice(s![..;-1, ..;-1])`. See the [module docs](super).
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
/// (see the [module docs](super)). The pullback keeps a copy of `w` and the receptive fields of
/// `x` (a copy of `x` instead where they would take more than 32 MiB).
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
    let ws = standard(w).into_owned();
    let (z, kept) = lowering::forward_keeping(&g, slice(&standard(x)), slice(&ws), None);
    let z = from_vec((g.ho, g.wo), z);
    let x_dim = x.raw_dim();
    let pullback = move |gz: Array2<T>| {
        check_cotangent("conv2d_vjp", gz.shape(), &[g.ho, g.wo]);
        let [dx, dw, _] =
            lowering::backward(&g, &kept, slice(&ws), slice(&standard(&gz)), false, true);
        (from_vec(x_dim, dx), from_vec(ws.raw_dim(), dw))
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

/// [`conv1d`] and its pullback `g ↦ (∂x, ∂w)` by the formulas there. The pullback keeps a copy of
/// `w` and the windows of `x` (a copy of `x` instead where they would take more than 32 MiB).
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
    let ws = w.to_vec();
    let (z, kept) = lowering::forward_keeping(&g, slice(&standard(x)), &ws, None);
    let z = Array1::from_vec(z);
    let pullback = move |gz: Array1<T>| {
        check_cotangent("conv1d_vjp", gz.shape(), &[g.wo]);
        let [dx, dw, _] = lowering::backward(&g, &kept, &ws, slice(&standard(&gz)), false, true);
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
