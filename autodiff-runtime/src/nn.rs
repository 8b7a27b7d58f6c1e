//! Neural-network building blocks, each with its reverse-mode rule: the activations `relu`,
//! `sigmoid` and `softplus`; the normalized exponentials `softmax`, `log_softmax` and
//! `log_sum_exp`; the losses `mse` and `cross_entropy`; and training-mode `batch_norm`, the
//! lecture's "adaptive standardizing within layers".
//!
//! These exist as primitives, rather than as code for `#[differentiate]` to take apart, because
//! their derivatives are better written by hand: the softmax family must subtract the maximum to
//! stay finite, and each backward pass here is one fused loop over the data that reuses the
//! cotangent's buffer, where element-by-element differentiation would build many temporaries.
//!
//! # Contract
//!
//! Every function `f` has an `f_vjp` that takes the same arguments and returns
//! `(f(..), pullback)`, the convention `#[differentiate]` uses for every call: inside a
//! differentiated function, `nn::relu(&z)` on an active `z` is differentiated through
//! `nn::relu_vjp(&z)`, exactly like a hand-written custom derivative.
//!
//! - **Arguments** are taken by reference, like ndarray's own methods: `nn::relu(&z)`,
//!   `nn::cross_entropy(&logits, &labels)`. Scalars too: `nn::relu(&x)` for `x: f64`.
//! - **Differentiable parameters** are exactly the float-typed ones (`f32`/`f64` scalars and
//!   ndarray arrays of them); the others (`labels: &[usize]`) never have a gradient. This is how
//!   the macro matches a callee's parameters to the arguments it differentiates.
//! - **The pullback** is `impl FnOnce(cotangent) -> gradient`. The cotangent has the value's
//!   (owned) type; the gradient is bare when the function has one differentiable parameter and a
//!   tuple in parameter order when it has several (`mse`, `batch_norm`). The gradient of an
//!   `&ArrayBase<S, D>` argument is an owned `Array<T, D>` of the same shape.
//! - **The pullback owns what it reads**: it does not borrow the arguments (its type captures
//!   only the element type, the dimension and the storage type, `use<..>`), so a differentiated
//!   function may pass a local array, `nn::relu(&z1)`, and still return a pullback that outlives
//!   it. (An `ArrayView` argument's storage type names the view's lifetime, so there the pullback
//!   does keep that lifetime.) What it keeps is at most one array of the value's size (the
//!   derivative, the softmax probabilities or the standardized input) plus per-row or per-column
//!   statistics; the backward pass overwrites the cotangent in place where shapes allow.
//! - **Panics** on shape mismatches, with the function and both shapes in the message: a
//!   cotangent that is not shaped like the value, `mse` arguments of different shapes, `labels`
//!   of the wrong length or out of range, `gamma`/`beta` not matching the columns of `x`.
//!
//! The scalar type is `f32` or `f64` ([`NdReal`]). Elementwise functions work on scalars and on
//! arrays of any dimension (the [`Elementwise`] trait); the softmax family works along the last
//! axis of an array of any dimension (one row of an `N×C` matrix of logits is one distribution).
//!
//! # Nonsmooth points
//!
//! `relu(x) = max(x, 0)` has the Clarke generalized gradient `[0, 1]` at `0`; following the
//! runtime's convention (see [`crate::rules`], "Nonsmooth points") its rule returns the
//! minimum-norm element, `relu'(0) = 0`. Everything else here is smooth.
//!
//! # Example
//!
//! ```
//! use autodiff_runtime::nn;
//! use ndarray::array;
//!
//! let z = array![[1.0, -2.0], [0.0, 3.0]];
//! let (y, pullback) = nn::relu_vjp(&z);
//! assert_eq!(y, array![[1.0, 0.0], [0.0, 3.0]]);
//! // relu'(z) is 1 where z > 0 and 0 elsewhere, at 0 included.
//! assert_eq!(pullback(array![[5.0, 5.0], [5.0, 5.0]]), array![[5.0, 0.0], [0.0, 5.0]]);
//!
//! // Cross-entropy of uniform logits is ln C; its gradient is (softmax − onehot)/N.
//! let logits = array![[0.0, 0.0], [0.0, 0.0]];
//! let (loss, pullback) = nn::cross_entropy_vjp(&logits, &[0, 1]);
//! assert!((loss - 2f64.ln()).abs() < 1e-15);
//! assert_eq!(pullback(1.0), array![[-0.25, 0.25], [0.25, -0.25]]);
//! ```

use ndarray::{
    Array, Array1, Array2, ArrayBase, ArrayView1, ArrayViewMut1, Axis, Data, Dimension, Ix1, Ix2,
    Ix3, NdFloat, Zip,
};

use self::checks::check_cotangent;
use crate::differentiable::Real;

pub(crate) mod checks;
#[cfg(test)]
pub(crate) mod testing;

/// The scalar types of this module: [`Real`] (`f32`, `f64`) with ndarray's [`NdFloat`]
/// arithmetic and float functions.
pub trait NdReal: Real + NdFloat {}

impl<T: Real + NdFloat> NdReal for T {}

mod sealed {
    pub trait Sealed {}
}

// ---------------------------------------------------------------------------------------------
// Elementwise functions
// ---------------------------------------------------------------------------------------------

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
}

/// The rectified linear unit, elementwise: `relu(x) = max(x, 0)`.
///
/// Derivative: `relu'(x) = 1` for `x > 0`, `0` for `x < 0`, and `0` at the kink `x = 0` (the
/// minimum-norm element of the Clarke gradient `[0, 1]`; see the [module docs](self)). NaN
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
    let pullback = move |g| {
        X::zip_with("relu_vjp", g, &d, |g, d| {
            if d > <X::Elem as Real>::ZERO {
                g
            } else {
                <X::Elem as Real>::ZERO
            }
        })
    };
    (y, pullback)
}

#[inline(always)]
fn relu_and_derivative<T: NdReal>(x: T) -> (T, T) {
    if x > T::ZERO || x.is_nan() {
        (x, T::ONE)
    } else {
        (T::ZERO, T::ZERO)
    }
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

/// `(σ(x), σ'(x))` from `e = exp(−|x|)`.
#[inline(always)]
fn sigmoid_and_derivative<T: NdReal>(x: T) -> (T, T) {
    let e = (-Real::abs(x)).exp();
    let denom = T::ONE + e;
    let s = if x >= T::ZERO {
        T::ONE / denom
    } else {
        e / denom
    };
    (s, e / (denom * denom))
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

/// `(softplus(x), σ(x))` from `e = exp(−|x|)`.
#[inline(always)]
fn softplus_and_derivative<T: NdReal>(x: T) -> (T, T) {
    let e = (-Real::abs(x)).exp();
    let positive = x >= T::ZERO;
    let y = e.ln_1p() + if positive { x } else { T::ZERO };
    let s = if positive {
        T::ONE / (T::ONE + e)
    } else {
        e / (T::ONE + e)
    };
    (y, s)
}

// ---------------------------------------------------------------------------------------------
// The softmax family, along the last axis
// ---------------------------------------------------------------------------------------------

/// The softmax along the last axis: for each lane `z` (a row of an `N×C` matrix of logits, or
/// the whole of a vector), `softmax(z)ₖ = exp(zₖ − m) / Σⱼ exp(zⱼ − m)` with `m = maxⱼ zⱼ`,
/// which equals `exp(zₖ)/Σⱼ exp(zⱼ)` but never overflows: `softmax([1000, 0]) = [1, e⁻¹⁰⁰⁰]`.
///
/// Derivative (per lane, `y = softmax(z)`): `∂yₖ/∂zⱼ = yₖ(δₖⱼ − yⱼ)`, so the cotangent `g` pulls
/// back to `y ⊙ (g − ⟨g, y⟩)`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::softmax(&array![[0.0, 2f64.ln()], [1000.0, 1000.0]]);
/// assert!((y[[0, 0]] - 1.0 / 3.0).abs() < 1e-15 && (y[[0, 1]] - 2.0 / 3.0).abs() < 1e-15);
/// assert_eq!(y.row(1), array![0.5, 0.5]);
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional.
pub fn softmax<S, T, D>(z: &ArrayBase<S, D>) -> Array<T, D>
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    softmax_lanes("softmax", z).0
}

/// [`softmax`] and its pullback `g ↦ y ⊙ (g − ⟨g, y⟩)` per lane, computed in `g`'s buffer. The
/// pullback keeps a copy of `y`.
///
/// # Panics
///
/// If `z` is 0-dimensional; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value and its pullback, spelled out
pub fn softmax_vjp<S, T, D>(
    z: &ArrayBase<S, D>,
) -> (
    Array<T, D>,
    impl FnOnce(Array<T, D>) -> Array<T, D> + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let y = softmax_lanes("softmax_vjp", z).0;
    let saved = y.clone();
    let pullback = move |mut g: Array<T, D>| {
        check_cotangent("softmax_vjp", g.shape(), saved.shape());
        let axis = last_axis("softmax_vjp", g.ndim());
        Zip::from(g.lanes_mut(axis))
            .and(saved.lanes(axis))
            .for_each(|mut g, y| {
                let inner = Zip::from(&g).and(&y).fold(T::ZERO, |s, &g, &y| s + g * y);
                Zip::from(&mut g)
                    .and(&y)
                    .for_each(|g, &y| *g = y * (*g - inner));
            });
        g
    };
    (y, pullback)
}

/// The log-softmax along the last axis: for each lane `z`, `log_softmax(z)ₖ = zₖ − lse(z)` with
/// `lse(z) = ln Σⱼ exp(zⱼ)` ([`log_sum_exp`]), evaluated as `(zₖ − m) − ln Σⱼ exp(zⱼ − m)` with
/// `m = maxⱼ zⱼ`: finite even where the softmax underflows (`log_softmax([1000, 0]) =
/// [0, −1000]`).
///
/// Derivative (per lane): `∂yₖ/∂zⱼ = δₖⱼ − softmax(z)ⱼ`, so the cotangent `g` pulls back to
/// `g − softmax(z)·Σₖ gₖ`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::log_softmax(&array![1000.0, 0.0]), array![0.0, -1000.0]);
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional.
pub fn log_softmax<S, T, D>(z: &ArrayBase<S, D>) -> Array<T, D>
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis("log_softmax", z.ndim());
    let mut y = z.to_owned();
    Zip::from(y.lanes_mut(axis)).for_each(|mut lane| {
        let (m, ln_s) = shift_and_log_sum(lane.view());
        lane.mapv_inplace(|v| (v - m) - ln_s);
    });
    y
}

/// [`log_softmax`] and its pullback `g ↦ g − softmax(z)·Σₖ gₖ` per lane, computed in `g`'s
/// buffer. The pullback keeps `softmax(z)`, computed in the forward pass from the same
/// exponentials as the value.
///
/// # Panics
///
/// If `z` is 0-dimensional; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value and its pullback, spelled out
pub fn log_softmax_vjp<S, T, D>(
    z: &ArrayBase<S, D>,
) -> (
    Array<T, D>,
    impl FnOnce(Array<T, D>) -> Array<T, D> + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis("log_softmax_vjp", z.ndim());
    let (p, stats) = softmax_lanes("log_softmax_vjp", z);
    let mut y = z.to_owned();
    Zip::from(y.lanes_mut(axis))
        .and(&stats)
        .for_each(|mut lane, &(m, ln_s)| lane.mapv_inplace(|v| (v - m) - ln_s));
    let pullback = move |mut g: Array<T, D>| {
        check_cotangent("log_softmax_vjp", g.shape(), p.shape());
        Zip::from(g.lanes_mut(axis))
            .and(p.lanes(axis))
            .for_each(|mut g, p| {
                let total = g.sum();
                Zip::from(&mut g).and(&p).for_each(|g, &p| *g -= p * total);
            });
        g
    };
    (y, pullback)
}

/// What [`log_sum_exp`] reduces: an array whose last axis it sums over. A vector gives a scalar,
/// an `N×C` matrix a vector of `N` (one per row), a 3-D array a matrix. Sealed: implemented here
/// for ndarray arrays of 1 to 3 dimensions.
pub trait LogSumExp: sealed::Sealed {
    /// The scalar type.
    type Elem: NdReal;
    /// The result and its cotangent: `T` for a vector, an owned array with the last axis
    /// removed otherwise.
    type Output;
    /// The gradient: an owned array shaped like `self`.
    type Grad;

    /// `lse` of every lane along the last axis.
    fn lse(&self) -> Self::Output;

    /// `lse` of every lane along the last axis, and the softmax of every lane (shaped like
    /// `self`).
    fn lse_and_softmax(&self) -> (Self::Output, Self::Grad);

    /// Each lane of `p` times the matching element of `g`, in `p`'s buffer.
    ///
    /// # Panics
    ///
    /// If `g` is not shaped like `p` without its last axis.
    fn scale_lanes(p: Self::Grad, g: Self::Output) -> Self::Grad;
}

impl<S, T> LogSumExp for ArrayBase<S, Ix1>
where
    S: Data<Elem = T>,
    T: NdReal,
{
    type Elem = T;
    type Output = T;
    type Grad = Array1<T>;

    fn lse(&self) -> T {
        lse_lane(self.view())
    }

    fn lse_and_softmax(&self) -> (T, Array1<T>) {
        let (p, stats) = softmax_lanes("log_sum_exp", self);
        let (m, ln_s) = stats.into_scalar();
        (m + ln_s, p)
    }

    fn scale_lanes(mut p: Array1<T>, g: T) -> Array1<T> {
        p.mapv_inplace(|p| p * g);
        p
    }
}

macro_rules! impl_log_sum_exp {
    ($($dim:ty => $smaller:ty),*) => {$(
        impl<S, T> LogSumExp for ArrayBase<S, $dim>
        where
            S: Data<Elem = T>,
            T: NdReal,
        {
            type Elem = T;
            type Output = Array<T, $smaller>;
            type Grad = Array<T, $dim>;

            fn lse(&self) -> Array<T, $smaller> {
                let axis = Axis(self.ndim() - 1);
                Zip::from(self.lanes(axis)).map_collect(lse_lane)
            }

            fn lse_and_softmax(&self) -> (Array<T, $smaller>, Array<T, $dim>) {
                let (p, stats) = softmax_lanes("log_sum_exp", self);
                (stats.mapv(|(m, ln_s)| m + ln_s), p)
            }

            fn scale_lanes(mut p: Array<T, $dim>, g: Array<T, $smaller>) -> Array<T, $dim> {
                let axis = Axis(p.ndim() - 1);
                check_cotangent(
                    "log_sum_exp_vjp",
                    g.shape(),
                    &p.shape()[..axis.index()],
                );
                Zip::from(p.lanes_mut(axis))
                    .and(&g)
                    .for_each(|mut lane, &g| lane.mapv_inplace(|p| p * g));
                p
            }
        }
    )*};
}
impl_log_sum_exp!(Ix2 => Ix1, Ix3 => Ix2);

/// Log-sum-exp along the last axis: for each lane `z`, `lse(z) = ln Σⱼ exp(zⱼ)`, evaluated as
/// `m + ln Σⱼ exp(zⱼ − m)` with `m = maxⱼ zⱼ`, which never overflows
/// (`lse([1000, 1000]) = 1000 + ln 2`). A vector gives a scalar, an `N×C` matrix one value per
/// row. An empty lane, or one of only `−∞`, gives `−∞`.
///
/// Derivative (per lane): `∂lse/∂zⱼ = softmax(z)ⱼ`, so the cotangent `g` (one per lane) pulls
/// back to `g·softmax(z)`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // ln(e⁰ + e^{ln 2}) = ln 3
/// assert!((nn::log_sum_exp(&array![0.0, 2f64.ln()]) - 3f64.ln()).abs() < 1e-15);
/// assert_eq!(nn::log_sum_exp(&array![[1.0], [2.0]]), array![1.0, 2.0]);
/// ```
pub fn log_sum_exp<Z: LogSumExp>(z: &Z) -> Z::Output {
    z.lse()
}

/// [`log_sum_exp`] and its pullback `g ↦ g·softmax(z)` per lane, computed in the buffer of the
/// softmax, which the pullback keeps (computed in the forward pass from the same exponentials as
/// the value).
///
/// # Panics
///
/// The pullback panics if the cotangent is not shaped like the value.
pub fn log_sum_exp_vjp<Z: LogSumExp>(
    z: &Z,
) -> (Z::Output, impl FnOnce(Z::Output) -> Z::Grad + use<Z>) {
    let (y, p) = z.lse_and_softmax();
    (y, move |g| Z::scale_lanes(p, g))
}

// ---------------------------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------------------------

/// The mean squared error: `mse(p, t) = (1/n) Σᵢ (pᵢ − tᵢ)²` over all `n` elements of the
/// prediction `p` and the target `t` (`NaN` if they are empty).
///
/// Derivatives: `∂mse/∂pᵢ = 2(pᵢ − tᵢ)/n` and `∂mse/∂tᵢ = −2(pᵢ − tᵢ)/n`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::mse(&array![1.0, 2.0], &array![1.0, 4.0]), 2.0);
/// ```
///
/// # Panics
///
/// If `prediction` and `target` have different shapes.
pub fn mse<S1, S2, T, D>(prediction: &ArrayBase<S1, D>, target: &ArrayBase<S2, D>) -> T
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    check_same_shape("mse", prediction.shape(), target.shape());
    let sum = Zip::from(prediction)
        .and(target)
        .fold(T::ZERO, |s, &p, &t| s + (p - t) * (p - t));
    sum / count(prediction.len())
}

/// [`mse`] and its pullback `g ↦ (2g(p − t)/n, −2g(p − t)/n)`: the gradients of the prediction
/// and the target, in that order. The pullback keeps `p − t`.
///
/// # Panics
///
/// If `prediction` and `target` have different shapes.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn mse_vjp<S1, S2, T, D>(
    prediction: &ArrayBase<S1, D>,
    target: &ArrayBase<S2, D>,
) -> (
    T,
    impl FnOnce(T) -> (Array<T, D>, Array<T, D>) + use<S1, S2, T, D>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    check_same_shape("mse_vjp", prediction.shape(), target.shape());
    let n = count(prediction.len());
    let mut diff = Zip::from(prediction)
        .and(target)
        .map_collect(|&p, &t| p - t);
    let value = diff.fold(T::ZERO, |s, &d| s + d * d) / n;
    let pullback = move |g: T| {
        let c = (g + g) / n;
        diff.mapv_inplace(|d| c * d);
        let d_target = diff.mapv(|d| -d);
        (diff, d_target)
    };
    (value, pullback)
}

/// The cross-entropy of `N×C` logits against class labels, averaged over the `N` rows:
/// `L = (1/N) Σᵢ −log softmax(zᵢ)[yᵢ] = (1/N) Σᵢ (lse(zᵢ) − zᵢ,yᵢ)` with `lse` the
/// [`log_sum_exp`] of a row, evaluated stably. `N = 0` gives `NaN`.
///
/// Derivative: `∂L/∂zᵢⱼ = (softmax(zᵢ)ⱼ − [j = yᵢ]) / N`. The labels are not differentiable.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Confident and right: a small loss. Confident and wrong: a large one.
/// let logits = array![[10.0_f64, 0.0], [0.0, 10.0]];
/// assert!(nn::cross_entropy(&logits, &[0, 1]) < 1e-4);
/// assert!((nn::cross_entropy(&logits, &[1, 0]) - 10.0).abs() < 1e-4);
/// ```
///
/// # Panics
///
/// If `labels` does not have one label per row, or a label is not below `C`.
pub fn cross_entropy<S, T>(logits: &ArrayBase<S, Ix2>, labels: &[usize]) -> T
where
    S: Data<Elem = T>,
    T: NdReal,
{
    check_labels("cross_entropy", logits, labels);
    let mut sum = T::ZERO;
    for (row, &label) in logits.rows().into_iter().zip(labels) {
        let (m, ln_s) = shift_and_log_sum(row);
        sum += (m - row[label]) + ln_s;
    }
    sum / count(labels.len())
}

/// [`cross_entropy`] and its pullback `g ↦ g·(softmax(z) − onehot(y))/N`, the gradient of the
/// logits only. The pullback keeps `softmax(z) − onehot(y)` (computed in the forward pass from the
/// same exponentials as the value) and scales it in place: it does not keep `labels`.
///
/// # Panics
///
/// If `labels` does not have one label per row, or a label is not below `C`.
pub fn cross_entropy_vjp<S, T>(
    logits: &ArrayBase<S, Ix2>,
    labels: &[usize],
) -> (T, impl FnOnce(T) -> Array2<T> + use<S, T>)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    check_labels("cross_entropy_vjp", logits, labels);
    let n = count(labels.len());
    let (mut p, stats) = softmax_lanes("cross_entropy_vjp", logits);
    let mut sum = T::ZERO;
    for (((mut p_row, z_row), &(m, ln_s)), &label) in p
        .rows_mut()
        .into_iter()
        .zip(logits.rows())
        .zip(&stats)
        .zip(labels)
    {
        sum += (m - z_row[label]) + ln_s;
        p_row[label] -= T::ONE;
    }
    let pullback = move |g: T| {
        let c = g / n;
        p.mapv_inplace(|d| c * d);
        p
    };
    (sum / n, pullback)
}

// ---------------------------------------------------------------------------------------------
// Batch normalization
// ---------------------------------------------------------------------------------------------

/// Batch normalization in training mode (Ioffe & Szegedy, 2015), the lecture's "adaptive
/// standardizing within layers": each column (feature) `j` of the `N×C` batch `x` is
/// standardized with the batch's own statistics, then scaled and shifted by learned `γⱼ`, `βⱼ`:
///
/// ```text
/// μⱼ  = (1/N) Σᵢ xᵢⱼ                       batch mean
/// σ²ⱼ = (1/N) Σᵢ (xᵢⱼ − μⱼ)²               biased batch variance
/// x̂ᵢⱼ = (xᵢⱼ − μⱼ) / √(σ²ⱼ + ε)
/// yᵢⱼ = γⱼ·x̂ᵢⱼ + βⱼ
/// ```
///
/// Derivatives, for a cotangent `G = ∂L/∂y` (the compact form, in which the paths through `μ`
/// and `σ²` are already summed):
///
/// ```text
/// ∂L/∂βⱼ  = Σᵢ Gᵢⱼ
/// ∂L/∂γⱼ  = Σᵢ Gᵢⱼ·x̂ᵢⱼ
/// ∂L/∂xᵢⱼ = γⱼ / (N·√(σ²ⱼ + ε)) · (N·Gᵢⱼ − ∂L/∂βⱼ − x̂ᵢⱼ·∂L/∂γⱼ)
/// ∂L/∂ε   = −½ Σⱼ γⱼ·∂L/∂γⱼ / (σ²ⱼ + ε)
/// ```
///
/// `eps` is a float parameter like the others, so it has a derivative too (the last line); it
/// must be positive for a column of equal values to standardize to `0` rather than `NaN`.
/// No running statistics are kept: for inference, standardize with stored ones by hand.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0, 10.0], [3.0, 10.0]];
/// let y = nn::batch_norm(&x, &array![2.0, 1.0], &array![0.5, 0.0], 0.0);
/// // Column 0: μ = 2, σ² = 1, x̂ = [−1, 1]; y = 2x̂ + 0.5.
/// assert_eq!(y.column(0), array![-1.5, 2.5]);
/// ```
///
/// # Panics
///
/// If `x` has no rows, or `gamma` or `beta` does not have one entry per column of `x`.
pub fn batch_norm<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
) -> Array2<T>
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let (mu, r) = batch_statistics("batch_norm", x, gamma, beta, eps);
    Zip::from(x)
        .and_broadcast(&mu)
        .and_broadcast(&r)
        .and_broadcast(gamma)
        .and_broadcast(beta)
        .map_collect(|&x, &m, &r, &g, &b| g * ((x - m) * r) + b)
}

/// [`batch_norm`] and its pullback `G ↦ (∂L/∂x, ∂L/∂γ, ∂L/∂β, ∂L/∂ε)` by the formulas there.
/// The pullback keeps `x̂` and the per-column statistics, and computes `∂L/∂x` in `G`'s buffer.
///
/// # Panics
///
/// If `x` has no rows, or `gamma` or `beta` does not have one entry per column of `x`; the
/// pullback, if the cotangent is not shaped like `x`.
#[allow(clippy::type_complexity)] // the pullback's gradient tuple, spelled out
pub fn batch_norm_vjp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
) -> (
    Array2<T>,
    impl FnOnce(Array2<T>) -> (Array2<T>, Array1<T>, Array1<T>, T) + use<S1, S2, S3, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let (mu, r) = batch_statistics("batch_norm_vjp", x, gamma, beta, eps);
    let x_hat = Zip::from(x)
        .and_broadcast(&mu)
        .and_broadcast(&r)
        .map_collect(|&x, &m, &r| (x - m) * r);
    let y = Zip::from(&x_hat)
        .and_broadcast(gamma)
        .and_broadcast(beta)
        .map_collect(|&h, &g, &b| g * h + b);
    let gamma = gamma.to_owned();
    let pullback = move |mut g: Array2<T>| {
        check_cotangent("batch_norm_vjp", g.shape(), x_hat.shape());
        let c = x_hat.ncols();
        let n = count(x_hat.nrows());
        let mut d_beta = Array1::zeros(c);
        let mut d_gamma = Array1::zeros(c);
        for (g_row, h_row) in g.rows().into_iter().zip(x_hat.rows()) {
            Zip::from(&mut d_beta)
                .and(&mut d_gamma)
                .and(&g_row)
                .and(&h_row)
                .for_each(|db, dg, &g, &h| {
                    *db += g;
                    *dg += g * h;
                });
        }
        // ∂x = a·(G − b − x̂·c) with a = γ/√(σ² + ε), b = ∂β/N, c = ∂γ/N, per column.
        let a = Zip::from(&gamma).and(&r).map_collect(|&g, &r| g * r);
        let b = d_beta.mapv(|db| db / n);
        let cc = d_gamma.mapv(|dg| dg / n);
        Zip::from(&mut g)
            .and(&x_hat)
            .and_broadcast(&a)
            .and_broadcast(&b)
            .and_broadcast(&cc)
            .for_each(|g, &h, &a, &b, &c| *g = a * ((*g - b) - h * c));
        // ∂ε = −½ Σⱼ γⱼ·∂γⱼ·rⱼ², with rⱼ = 1/√(σ²ⱼ + ε).
        let half = <T as Real>::from_f64(0.5);
        let d_eps = -half
            * Zip::from(&gamma)
                .and(&d_gamma)
                .and(&r)
                .fold(T::ZERO, |s, &g, &dg, &r| s + g * dg * (r * r));
        (g, d_gamma, d_beta, d_eps)
    };
    (y, pullback)
}

/// The per-column mean `μ` and inverse standard deviation `r = 1/√(σ² + ε)` of `x`, after
/// checking the shapes.
fn batch_statistics<S1, S2, S3, T>(
    what: &str,
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
) -> (Array1<T>, Array1<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let (rows, cols) = x.dim();
    assert!(rows > 0, "{what}: needs a batch of at least one row, got 0");
    assert!(
        gamma.len() == cols && beta.len() == cols,
        "{what}: gamma and beta need one entry per column of x ({cols}), got {} and {}",
        gamma.len(),
        beta.len()
    );
    let n = count(rows);
    let mut mu = x.sum_axis(Axis(0));
    mu.mapv_inplace(|s| s / n);
    let mut var = Array1::<T>::zeros(cols);
    for row in x.rows() {
        Zip::from(&mut var)
            .and(&row)
            .and(&mu)
            .for_each(|v, &x, &m| *v += (x - m) * (x - m));
    }
    let r = var.mapv(|v| T::ONE / Real::sqrt(v / n + eps));
    (mu, r)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The shift `m` (the lane's maximum, or `0` if that is infinite or the lane is empty or all
/// NaN) and `ln Σⱼ exp(zⱼ − m)`, so that `lse(z) = m + ln Σ`.
#[inline]
fn shift_and_log_sum<T: NdReal>(lane: ArrayView1<'_, T>) -> (T, T) {
    let m = shift_of(lane);
    let s = lane.fold(T::ZERO, |s, &v| s + (v - m).exp());
    (m, s.ln())
}

#[inline]
fn shift_of<T: NdReal>(lane: ArrayView1<'_, T>) -> T {
    let max = lane.fold(T::neg_infinity(), |m, &v| if v > m { v } else { m });
    if Real::is_finite(max) { max } else { T::ZERO }
}

/// `lse(z)` of one lane.
#[inline]
fn lse_lane<T: NdReal>(lane: ArrayView1<'_, T>) -> T {
    let (m, ln_s) = shift_and_log_sum(lane);
    m + ln_s
}

/// Overwrites a lane with its softmax; returns `(m, ln Σⱼ exp(zⱼ − m))`, so that
/// `lse(z) = m + ln Σ`.
#[inline]
fn softmax_lane<T: NdReal>(mut lane: ArrayViewMut1<'_, T>) -> (T, T) {
    let m = shift_of(lane.view());
    lane.mapv_inplace(|v| (v - m).exp());
    let s = lane.sum();
    lane.mapv_inplace(|e| e / s);
    (m, s.ln())
}

/// The softmax of every lane along the last axis, and each lane's `(m, ln Σ)`.
#[allow(clippy::type_complexity)] // an array and its per-lane statistics
fn softmax_lanes<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
) -> (Array<T, D>, Array<(T, T), D::Smaller>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis(what, z.ndim());
    let mut p = z.to_owned();
    let stats = Zip::from(p.lanes_mut(axis)).map_collect(softmax_lane);
    (p, stats)
}

#[track_caller]
fn last_axis(what: &str, ndim: usize) -> Axis {
    assert!(
        ndim > 0,
        "{what}: works along the last axis, but the array is 0-dimensional"
    );
    Axis(ndim - 1)
}

#[track_caller]
fn check_same_shape(what: &str, prediction: &[usize], target: &[usize]) {
    assert!(
        prediction == target,
        "{what}: shape mismatch, prediction {prediction:?} vs target {target:?}"
    );
}

#[track_caller]
fn check_labels<S: Data>(what: &str, logits: &ArrayBase<S, Ix2>, labels: &[usize]) {
    let (rows, classes) = logits.dim();
    assert!(
        labels.len() == rows,
        "{what}: {} labels for {rows} rows of logits (one label per row needed)",
        labels.len()
    );
    if let Some((row, &label)) = labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
        panic!("{what}: label {label} at row {row} is out of range for {classes} classes");
    }
}

/// `n` as a scalar.
#[inline]
fn count<T: Real>(n: usize) -> T {
    T::from_f64(n as f64)
}

#[cfg(test)]
mod tests;
