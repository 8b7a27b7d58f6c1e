//! The elementwise activations `relu`, `sigmoid` and `softplus`, with the [`Elementwise`] trait
//! that lets each take a scalar or an array of any dimension. They live together because they
//! share that trait and its scalar kernels (a value and its derivatives from one evaluation).

use ndarray::{Array, ArrayBase, Data, Dimension, Zip};

use super::checks::{check_cotangent, check_tangent};
use super::{NdReal, sealed};
use crate::differentiable::Real;

/// What the elementwise functions ([`relu`], [`sigmoid`], [`softplus`]) apply to: a scalar
/// (`f32`, `f64`) or an ndarray array of any dimension. Sealed: implemented here for exactly
/// those.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::relu(&-2.0_f64), 0.0);
/// assert_eq!(nn::relu(&-2.0_f32), 0.0);
/// assert_eq!(nn::relu(&array![-2.0, 3.0]), array![0.0, 3.0]);
/// ```
pub trait Elementwise: sealed::Sealed {
    /// The scalar type.
    type Elem: NdReal;
    /// The type of the result, of the cotangent and of the gradient: `Self` for a scalar, an
    /// owned `Array<T, D>` for an array.
    type Output;

    /// `f` applied to every element.
    fn map_elems(&self, f: impl Fn(Self::Elem) -> Self::Elem) -> Self::Output;

    /// `f` applied to every element, which returns a pair (a value and a derivative): the values
    /// and the derivatives, each shaped like `self`.
    fn map_elems2(
        &self,
        f: impl Fn(Self::Elem) -> (Self::Elem, Self::Elem),
    ) -> (Self::Output, Self::Output);

    /// `gᵢ ← f(gᵢ, sᵢ)` for every element, in `g`'s own buffer. `what` names the caller in the
    /// panic message.
    ///
    /// # Panics
    ///
    /// If `g` is not shaped like `saved`.
    fn zip_with(
        what: &str,
        g: Self::Output,
        saved: &Self::Output,
        f: impl Fn(Self::Elem, Self::Elem) -> Self::Elem,
    ) -> Self::Output;

    /// `f` applied to every element beside the matching element of `t`, a tangent of `self`;
    /// `f` returns `N` values, which make `N` results shaped like `self` (a value, its tangent
    /// and what a pullback keeps). `what` names the caller in the panic message.
    ///
    /// # Panics
    ///
    /// If `t` is not shaped like `self`.
    fn map_with_tangent<const N: usize>(
        &self,
        what: &str,
        t: &Self::Output,
        f: impl Fn(Self::Elem, Self::Elem) -> [Self::Elem; N],
    ) -> [Self::Output; N];

    /// `(gᵢ, ġᵢ) ← f(gᵢ, ġᵢ, aᵢ, bᵢ)` for every element, in the buffers of `g` and `ġ`: a
    /// cotangent and its tangent, turned into a gradient and its tangent from two saved arrays.
    /// `what` names the caller in the panic message.
    ///
    /// # Panics
    ///
    /// If `g` or `ġ` is not shaped like `a`.
    #[allow(clippy::type_complexity)] // a gradient and its tangent, spelled out
    fn zip2_with(
        what: &str,
        g: Self::Output,
        g_dot: Self::Output,
        a: &Self::Output,
        b: &Self::Output,
        f: impl Fn(Self::Elem, Self::Elem, Self::Elem, Self::Elem) -> (Self::Elem, Self::Elem),
    ) -> (Self::Output, Self::Output);
}

macro_rules! impl_elementwise_scalar {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}

        impl Elementwise for $t {
            type Elem = $t;
            type Output = $t;
            #[inline]
            fn map_elems(&self, f: impl Fn($t) -> $t) -> $t {
                f(*self)
            }
            #[inline]
            fn map_elems2(&self, f: impl Fn($t) -> ($t, $t)) -> ($t, $t) {
                f(*self)
            }
            #[inline]
            fn zip_with(_what: &str, g: $t, saved: &$t, f: impl Fn($t, $t) -> $t) -> $t {
                f(g, *saved)
            }
            #[inline]
            fn map_with_tangent<const N: usize>(
                &self,
                _what: &str,
                t: &$t,
                f: impl Fn($t, $t) -> [$t; N],
            ) -> [$t; N] {
                f(*self, *t)
            }
            #[inline]
            fn zip2_with(
                _what: &str,
                g: $t,
                g_dot: $t,
                a: &$t,
                b: &$t,
                f: impl Fn($t, $t, $t, $t) -> ($t, $t),
            ) -> ($t, $t) {
                f(g, g_dot, *a, *b)
            }
        }
    )*};
}
impl_elementwise_scalar!(f32, f64);

impl<S, T, D> sealed::Sealed for ArrayBase<S, D>
where
    S: Data<Elem = T>,
    D: Dimension,
{
}

impl<S, T, D> Elementwise for ArrayBase<S, D>
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    type Elem = T;
    type Output = Array<T, D>;

    fn map_elems(&self, f: impl Fn(T) -> T) -> Array<T, D> {
        self.mapv(f)
    }

    fn map_elems2(&self, f: impl Fn(T) -> (T, T)) -> (Array<T, D>, Array<T, D>) {
        let mut d = Array::zeros(self.raw_dim());
        let y = Zip::from(&mut d).and(self).map_collect(|d, &x| {
            let (y, dy) = f(x);
            *d = dy;
            y
        });
        (y, d)
    }

    fn zip_with(
        what: &str,
        mut g: Array<T, D>,
        saved: &Array<T, D>,
        f: impl Fn(T, T) -> T,
    ) -> Array<T, D> {
        check_cotangent(what, g.shape(), saved.shape());
        Zip::from(&mut g).and(saved).for_each(|g, &s| *g = f(*g, s));
        g
    }

    fn map_with_tangent<const N: usize>(
        &self,
        what: &str,
        t: &Array<T, D>,
        f: impl Fn(T, T) -> [T; N],
    ) -> [Array<T, D>; N] {
        check_tangent(what, "x", t.shape(), self.shape());
        // Both in logical order, into row-major buffers.
        let out: [Vec<T>; N] = if let (Some(xs), Some(ts)) = (self.as_slice(), t.as_slice()) {
            // Both row-major: the slices, without the iterators' index arithmetic.
            let mut out: [Vec<T>; N] = core::array::from_fn(|_| vec![T::ZERO; xs.len()]);
            for (i, (&x, &t)) in xs.iter().zip(ts).enumerate() {
                for (buf, v) in out.iter_mut().zip(f(x, t)) {
                    buf[i] = v;
                }
            }
            out
        } else {
            let mut out: [Vec<T>; N] = core::array::from_fn(|_| Vec::with_capacity(self.len()));
            for (&x, &t) in self.iter().zip(t) {
                for (out, v) in out.iter_mut().zip(f(x, t)) {
                    out.push(v);
                }
            }
            out
        };
        out.map(|v| Array::from_shape_vec(self.raw_dim(), v).expect("one value per element"))
    }

    fn zip2_with(
        what: &str,
        mut g: Array<T, D>,
        mut g_dot: Array<T, D>,
        a: &Array<T, D>,
        b: &Array<T, D>,
        f: impl Fn(T, T, T, T) -> (T, T),
    ) -> (Array<T, D>, Array<T, D>) {
        check_cotangent(what, g.shape(), a.shape());
        check_cotangent(what, g_dot.shape(), a.shape());
        Zip::from(&mut g)
            .and(&mut g_dot)
            .and(a)
            .and(b)
            .for_each(|g, g_dot, &a, &b| (*g, *g_dot) = f(*g, *g_dot, a, b));
        (g, g_dot)
    }
}

/// The rectified linear unit, elementwise: `relu(x) = max(x, 0)`.
///
/// Derivative: `relu'(x) = 1` for `x > 0`, `0` for `x < 0`, and `0` at the kink `x = 0` (the
/// minimum-norm element of the Clarke gradient `[0, 1]`; see the [module docs](super)). NaN
/// propagates: `relu(NaN) = NaN`, and, as for the runtime's other selecting rules, the cotangent
/// goes to the argument the output equals, so its derivative there is `1`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::relu(&array![-1.0, 0.0, 2.5]), array![0.0, 0.0, 2.5]);
/// assert_eq!(nn::relu(&1.5_f64), 1.5);
/// ```
pub fn relu<X: Elementwise>(x: &X) -> X::Output {
    x.map_elems(|v| relu_and_derivative(v).0)
}

/// [`relu`] and its pullback `g ↦ g ⊙ relu'(x)`. The pullback keeps one array of `x`'s shape
/// (the derivative) and selects rather than multiplies: where `x ≤ 0` the gradient is exactly
/// `0`, whatever the cotangent.
///
/// # Panics
///
/// The pullback panics if the cotangent is not shaped like the value.
pub fn relu_vjp<X: Elementwise>(
    x: &X,
) -> (X::Output, impl FnOnce(X::Output) -> X::Output + use<X>) {
    let (y, d) = x.map_elems2(relu_and_derivative);
    (y, move |g| X::zip_with("relu_vjp", g, &d, relu_select))
}

/// [`relu`] and its tangent `ẏ = relu'(x)·ẋ` for the tangent `dx` of `x`, which selects as
/// [`relu_vjp`] does: `ẏ = ẋ` where `x > 0` (or NaN) and exactly `0` elsewhere, at the kink
/// `x = 0` included. This is the transpose of the pullback (the same element `0` of the Clarke
/// gradient `[0, 1]`), not the directional derivative, which is `max(ẋ, 0)` at `0`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (y, dy) = nn::relu_jvp(&array![-1.0, 0.0, 2.0], &array![3.0, 3.0, 3.0]);
/// assert_eq!((y, dy), (array![0.0, 0.0, 2.0], array![0.0, 0.0, 3.0]));
/// ```
///
/// # Panics
///
/// If `dx` is not shaped like `x`.
pub fn relu_jvp<X: Elementwise>(x: &X, dx: &X::Output) -> (X::Output, X::Output) {
    let [y, dy] = x.map_with_tangent("relu_jvp", dx, |x, t| {
        let (y, d) = relu_and_derivative(x);
        [y, relu_select(t, d)]
    });
    (y, dy)
}

/// [`relu`], its tangent as [`relu_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (x̄, x̄̇)` of a
/// Hessian-vector product. relu is piecewise linear: away from the kink its second derivative is
/// `0`, so the gradient `x̄ = relu'(x)·ȳ` changes only through `ȳ`, and
/// `x̄̇ = relu'(x)·ȳ̇`, selected as in [`relu_vjp`] (exactly `0` where `x ≤ 0`, whatever the
/// cotangents). The pullback keeps one array of `x`'s shape (the derivative).
///
/// # Panics
///
/// If `dx` is not shaped like `x`; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn relu_vjp_jvp<X: Elementwise>(
    x: &X,
    dx: &X::Output,
) -> (
    X::Output,
    X::Output,
    impl FnOnce(X::Output, X::Output) -> (X::Output, X::Output) + use<X>,
) {
    let [y, dy, d] = x.map_with_tangent("relu_vjp_jvp", dx, |x, t| {
        let (y, d) = relu_and_derivative(x);
        [y, relu_select(t, d), d]
    });
    let pullback = move |g, g_dot| {
        let g = X::zip_with("relu_vjp_jvp", g, &d, relu_select);
        (g, X::zip_with("relu_vjp_jvp", g_dot, &d, relu_select))
    };
    (y, dy, pullback)
}

#[inline(always)]
pub(super) fn relu_and_derivative<T: NdReal>(x: T) -> (T, T) {
    if x > T::ZERO || x.is_nan() {
        (x, T::ONE)
    } else {
        (T::ZERO, T::ZERO)
    }
}

/// `relu'(x)·g` from `d = relu'(x)`, selecting: exactly `0` where `d = 0`, even for an infinite
/// or NaN `g`.
#[inline(always)]
pub(super) fn relu_select<T: NdReal>(g: T, d: T) -> T {
    if d > T::ZERO { g } else { T::ZERO }
}

/// The logistic sigmoid, elementwise: `σ(x) = 1 / (1 + e⁻ˣ)`.
///
/// Derivative: `σ'(x) = σ(x)·(1 − σ(x)) = e^{−|x|} / (1 + e^{−|x|})²`. Both are evaluated through
/// `e^{−|x|}`, which never overflows: `σ(x) = 1/(1 + e^{−|x|})` for `x ≥ 0` and
/// `e^{−|x|}/(1 + e^{−|x|})` for `x < 0`, so `σ(±1000)` is `1` and `0`, and the derivative keeps
/// full relative accuracy in the tails (`σ'(40) ≈ 4.2e-18`, not `0`).
///
/// ```
/// use autodiff_runtime::nn;
///
/// assert_eq!(nn::sigmoid(&0.0_f64), 0.5);
/// assert_eq!(nn::sigmoid(&-1000.0_f64), 0.0);
/// ```
pub fn sigmoid<X: Elementwise>(x: &X) -> X::Output {
    x.map_elems(|v| sigmoid_and_derivative(v).0)
}

/// [`sigmoid`] and its pullback `g ↦ g ⊙ σ'(x)`. The pullback keeps one array of `x`'s shape
/// (the derivative, computed in the forward pass from the same exponential as the value).
///
/// # Panics
///
/// The pullback panics if the cotangent is not shaped like the value.
pub fn sigmoid_vjp<X: Elementwise>(
    x: &X,
) -> (X::Output, impl FnOnce(X::Output) -> X::Output + use<X>) {
    let (y, d) = x.map_elems2(sigmoid_and_derivative);
    (y, move |g| X::zip_with("sigmoid_vjp", g, &d, |g, d| g * d))
}

/// [`sigmoid`] and its tangent `ẏ = σ'(x)·ẋ` for the tangent `dx` of `x`.
///
/// ```
/// use autodiff_runtime::nn;
///
/// // σ'(0) = ¼
/// assert_eq!(nn::sigmoid_jvp(&0.0_f64, &2.0), (0.5, 0.5));
/// ```
///
/// # Panics
///
/// If `dx` is not shaped like `x`.
pub fn sigmoid_jvp<X: Elementwise>(x: &X, dx: &X::Output) -> (X::Output, X::Output) {
    let [y, dy] = x.map_with_tangent("sigmoid_jvp", dx, |x, t| {
        with_tangent(sigmoid_and_derivative(x), t)
    });
    (y, dy)
}

/// [`sigmoid`], its tangent as [`sigmoid_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (x̄, x̄̇)` of a
/// Hessian-vector product: `x̄ = σ'(x)·ȳ` as in [`sigmoid_vjp`] and its tangent
/// `x̄̇ = σ'(x)·ȳ̇ + σ''(x)·ẋ·ȳ`, with
///
/// ```text
/// σ''(x) = σ'(x)·(1 − 2σ(x)) = −σ'(x)·tanh(x/2)
/// ```
///
/// evaluated in the second form, which keeps full relative accuracy in the tails and near `0`.
/// The pullback keeps two arrays of `x`'s shape (`σ'(x)` and `σ''(x)·ẋ`).
///
/// # Panics
///
/// If `dx` is not shaped like `x`; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn sigmoid_vjp_jvp<X: Elementwise>(
    x: &X,
    dx: &X::Output,
) -> (
    X::Output,
    X::Output,
    impl FnOnce(X::Output, X::Output) -> (X::Output, X::Output) + use<X>,
) {
    smooth_vjp_jvp("sigmoid_vjp_jvp", x, dx, sigmoid_derivatives)
}

/// `e^{−|x|}`, `σ(x)` and `σ'(x)`, all from the one exponential `e`: `σ(x) = 1/(1 + e)` for
/// `x ≥ 0` and `e/(1 + e)` otherwise, `σ'(x) = e/(1 + e)²`.
#[inline(always)]
fn logistic<T: NdReal>(x: T) -> (T, T, T) {
    let e = (-Real::abs(&x)).exp();
    let denom = T::ONE + e;
    let s = if x >= T::ZERO {
        T::ONE / denom
    } else {
        e / denom
    };
    (e, s, e / (denom * denom))
}

/// `(σ(x), σ'(x))`.
#[inline(always)]
fn sigmoid_and_derivative<T: NdReal>(x: T) -> (T, T) {
    let (_, s, d) = logistic(x);
    (s, d)
}

/// `(σ(x), σ'(x), σ''(x))`, with `σ''(x) = −σ'(x)·tanh(x/2)`.
#[inline(always)]
fn sigmoid_derivatives<T: NdReal>(x: T) -> (T, T, T) {
    let (_, s, d) = logistic(x);
    (s, d, -d * (x * <T as Real>::of_f64(0.5)).tanh())
}

/// `[f(x), f'(x)·t]` from `(f(x), f'(x))`: a value and its tangent.
#[inline(always)]
fn with_tangent<T: NdReal>((y, d): (T, T), t: T) -> [T; 2] {
    [y, d * t]
}

/// The `_vjp_jvp` of a smooth elementwise function `f` from its `derivatives`
/// `x ↦ (f(x), f'(x), f''(x))`: the value, its tangent `f'(x)·ẋ`, and the pullback
/// `(ȳ, ȳ̇) ↦ (f'(x)·ȳ, f'(x)·ȳ̇ + f''(x)·ẋ·ȳ)`, which keeps `f'(x)` and `f''(x)·ẋ`. `what`
/// names the caller in panic messages.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
#[inline]
fn smooth_vjp_jvp<X: Elementwise>(
    what: &'static str,
    x: &X,
    dx: &X::Output,
    derivatives: fn(X::Elem) -> (X::Elem, X::Elem, X::Elem),
) -> (
    X::Output,
    X::Output,
    impl FnOnce(X::Output, X::Output) -> (X::Output, X::Output) + use<X>,
) {
    let [y, dy, d, c] = x.map_with_tangent(what, dx, |x, t| {
        let (y, d, dd) = derivatives(x);
        [y, d * t, d, dd * t]
    });
    let pullback = move |g, g_dot| {
        X::zip2_with(what, g, g_dot, &d, &c, |g, g_dot, d, c| {
            (g * d, g_dot * d + g * c)
        })
    };
    (y, dy, pullback)
}

/// Softplus, a smooth relu, elementwise: `softplus(x) = ln(1 + eˣ)`, evaluated as
/// `ln1p(e^{−|x|}) + max(x, 0)`, which neither overflows for large `x` (`softplus(1000) = 1000`)
/// nor loses the small values for very negative `x` (`softplus(−40) ≈ 4.2e-18`).
///
/// Derivative: `softplus'(x) = σ(x)`, the [`sigmoid`], computed from the same `e^{−|x|}`.
///
/// ```
/// use autodiff_runtime::nn;
///
/// assert!((nn::softplus(&0.0_f64) - 2f64.ln()).abs() < 1e-16);
/// assert_eq!(nn::softplus(&1000.0_f64), 1000.0);
/// ```
pub fn softplus<X: Elementwise>(x: &X) -> X::Output {
    x.map_elems(|v| softplus_and_derivative(v).0)
}

/// [`softplus`] and its pullback `g ↦ g ⊙ σ(x)`. The pullback keeps one array of `x`'s shape
/// (the derivative, computed in the forward pass from the same exponential as the value).
///
/// # Panics
///
/// The pullback panics if the cotangent is not shaped like the value.
pub fn softplus_vjp<X: Elementwise>(
    x: &X,
) -> (X::Output, impl FnOnce(X::Output) -> X::Output + use<X>) {
    let (y, d) = x.map_elems2(softplus_and_derivative);
    (y, move |g| X::zip_with("softplus_vjp", g, &d, |g, d| g * d))
}

/// [`softplus`] and its tangent `ẏ = σ(x)·ẋ` for the tangent `dx` of `x`.
///
/// ```
/// use autodiff_runtime::nn;
///
/// let (y, dy) = nn::softplus_jvp(&0.0_f64, &2.0);
/// assert_eq!((y, dy), (2f64.ln(), 1.0));
/// ```
///
/// # Panics
///
/// If `dx` is not shaped like `x`.
pub fn softplus_jvp<X: Elementwise>(x: &X, dx: &X::Output) -> (X::Output, X::Output) {
    let [y, dy] = x.map_with_tangent("softplus_jvp", dx, |x, t| {
        with_tangent(softplus_and_derivative(x), t)
    });
    (y, dy)
}

/// [`softplus`], its tangent as [`softplus_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (x̄, x̄̇)` of a
/// Hessian-vector product: `x̄ = σ(x)·ȳ` as in [`softplus_vjp`] and its tangent
/// `x̄̇ = σ(x)·ȳ̇ + σ'(x)·ẋ·ȳ`, since `softplus'' = σ' = e^{−|x|}/(1 + e^{−|x|})²` (see
/// [`sigmoid`]). The pullback keeps two arrays of `x`'s shape (`σ(x)` and `σ'(x)·ẋ`).
///
/// # Panics
///
/// If `dx` is not shaped like `x`; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn softplus_vjp_jvp<X: Elementwise>(
    x: &X,
    dx: &X::Output,
) -> (
    X::Output,
    X::Output,
    impl FnOnce(X::Output, X::Output) -> (X::Output, X::Output) + use<X>,
) {
    smooth_vjp_jvp("softplus_vjp_jvp", x, dx, softplus_derivatives)
}

/// `(softplus(x), σ(x))`: `softplus(x) = ln1p(e^{−|x|}) + max(x, 0)` from the exponential of
/// [`logistic`].
#[inline(always)]
fn softplus_and_derivative<T: NdReal>(x: T) -> (T, T) {
    let (y, s, _) = softplus_derivatives(x);
    (y, s)
}

/// `(softplus(x), σ(x), σ'(x))`.
#[inline(always)]
fn softplus_derivatives<T: NdReal>(x: T) -> (T, T, T) {
    let (e, s, d) = logistic(x);
    let y = e.ln_1p() + if x >= T::ZERO { x } else { T::ZERO };
    (y, s, d)
}
