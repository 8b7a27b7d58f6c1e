//! [`flatten`] and [`unflatten`], between convolutional and dense layers: each image of an
//! `N×C×H×W` tensor as a row of a matrix, and back. Linear, so each rule is a reshape of the
//! cotangent or tangent.

use ndarray::{Array2, Array4, ArrayBase, Data, Ix2, Ix4};

use super::{NdReal, check_cotangent, check_tangent, dims4, reshape, standard};

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
