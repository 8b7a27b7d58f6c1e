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

use crate::differentiable::Real;

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
fn check_cotangent(what: &str, cotangent: &[usize], value: &[usize]) {
    assert!(
        cotangent == value,
        "{what}: the cotangent has shape {cotangent:?}, but the value has shape {value:?}"
    );
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
mod tests {
    use ndarray::{Array, Array1, Array2, Array3, ShapeBuilder, array};
    use rand_distr::{Distribution, StandardNormal};

    use super::*;
    use crate::check::{assert_close, gradcheck};
    use crate::differentiable::Differentiable;
    use crate::init::seeded_rng;

    /// Standard normal entries, reproducibly.
    fn randn<Sh: ShapeBuilder>(shape: Sh, seed: u64) -> Array<f64, Sh::Dim> {
        let mut rng = seeded_rng(seed);
        Array::from_shape_simple_fn(shape, || StandardNormal.sample(&mut rng))
    }

    fn randn_f32<Sh: ShapeBuilder>(shape: Sh, seed: u64) -> Array<f32, Sh::Dim> {
        randn(shape, seed).mapv(|v| v as f32)
    }

    /// Checks `grad`, a pullback's answer to the cotangent `w`, against central finite
    /// differences of `x ↦ ⟨f(x), w⟩`: every output component is weighted, so every entry of the
    /// Jacobian takes part.
    #[track_caller]
    fn check_pullback<P, Y>(f: impl Fn(&P) -> Y, x: &P, w: &Y, grad: &P)
    where
        P: Differentiable,
        Y: Differentiable<Scalar = P::Scalar>,
    {
        let report = gradcheck(|x: &P| f(x).inner(w), x, grad);
        assert!(report.passed(), "{report:#}");
    }

    #[track_caller]
    fn assert_all_close<D: Dimension>(actual: &Array<f64, D>, expected: &Array<f64, D>, tol: f64) {
        assert_eq!(actual.shape(), expected.shape());
        for (a, e) in actual.iter().zip(expected) {
            assert_close(*a, *e, tol);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Elementwise
    // -----------------------------------------------------------------------------------------

    #[test]
    fn relu_pullback_matches_finite_differences() {
        let x = randn((5, 3), 1);
        // Finite differences must not straddle the kink.
        assert!(x.iter().all(|v| v.abs() > 1e-3));
        let w = randn((5, 3), 2);
        let (y, pullback) = relu_vjp(&x);
        assert_eq!(y, relu(&x));
        assert_eq!(y, x.mapv(|v| v.max(0.0)));
        let grad = pullback(w.clone());
        // relu'(x) = [x > 0]
        assert_eq!(
            grad,
            Zip::from(&x)
                .and(&w)
                .map_collect(|&x, &w| if x > 0.0 { w } else { 0.0 })
        );
        check_pullback(relu, &x, &w, &grad);

        let x3 = randn((2, 3, 4), 3);
        let w3 = randn((2, 3, 4), 4);
        let (_, pullback) = relu_vjp(&x3);
        check_pullback(relu, &x3, &w3, &pullback(w3.clone()));
    }

    #[test]
    fn relu_at_zero_has_derivative_zero() {
        // The minimum-norm element of the Clarke gradient [0, 1].
        let (y, pullback) = relu_vjp(&0.0_f64);
        assert_eq!(y, 0.0);
        assert_eq!(pullback(1.0), 0.0);
        let (y, pullback) = relu_vjp(&-0.0_f32);
        assert!(y == 0.0 && y.is_sign_positive());
        assert_eq!(pullback(1.0), 0.0);
        let (y, pullback) = relu_vjp(&array![-1.0, 0.0, 2.0]);
        assert_eq!(y, array![0.0, 0.0, 2.0]);
        assert_eq!(pullback(array![3.0, 3.0, 3.0]), array![0.0, 0.0, 3.0]);
        // Inactive units get exactly 0, even from an infinite cotangent.
        let (_, pullback) = relu_vjp(&-1.0_f64);
        assert_eq!(pullback(f64::INFINITY), 0.0);
    }

    #[test]
    fn relu_propagates_nan() {
        let (y, pullback) = relu_vjp(&f64::NAN);
        assert!(y.is_nan());
        assert_eq!(pullback(2.0), 2.0);
    }

    #[test]
    fn scalar_elementwise_functions_match_finite_differences() {
        for x in [-3.0_f64, -0.4, 0.7, 2.5] {
            let (y, pullback) = relu_vjp(&x);
            assert_eq!(y, relu(&x));
            check_pullback(|x: &f64| relu(x), &x, &1.5, &pullback(1.5));
            let (y, pullback) = sigmoid_vjp(&x);
            assert_eq!(y, sigmoid(&x));
            check_pullback(|x: &f64| sigmoid(x), &x, &1.5, &pullback(1.5));
            let (y, pullback) = softplus_vjp(&x);
            assert_eq!(y, softplus(&x));
            check_pullback(|x: &f64| softplus(x), &x, &1.5, &pullback(1.5));
        }
        // f32, with the f32 defaults of gradcheck.
        for x in [-2.0_f32, 0.5, 1.5] {
            let (_, pullback) = sigmoid_vjp(&x);
            check_pullback(|x: &f32| sigmoid(x), &x, &1.0, &pullback(1.0));
            let (_, pullback) = softplus_vjp(&x);
            check_pullback(|x: &f32| softplus(x), &x, &1.0, &pullback(1.0));
        }
    }

    #[test]
    fn sigmoid_pullback_matches_finite_differences() {
        let x = randn((5, 3), 5);
        let w = randn((5, 3), 6);
        let (y, pullback) = sigmoid_vjp(&x);
        assert_eq!(y, sigmoid(&x));
        assert_all_close(&y, &x.mapv(|v| 1.0 / (1.0 + (-v).exp())), 1e-15);
        let grad = pullback(w.clone());
        // σ' = σ(1 − σ)
        assert_all_close(&grad, &(&w * &y.mapv(|s| s * (1.0 - s))), 1e-15);
        check_pullback(sigmoid, &x, &w, &grad);
    }

    #[test]
    fn sigmoid_spot_values_and_stability() {
        assert_eq!(sigmoid(&0.0_f64), 0.5);
        let (_, pullback) = sigmoid_vjp(&0.0_f64);
        assert_eq!(pullback(1.0), 0.25);
        assert_eq!(sigmoid(&1000.0_f64), 1.0);
        assert_eq!(sigmoid(&-1000.0_f64), 0.0);
        assert_eq!(sigmoid(&f64::INFINITY), 1.0);
        assert_eq!(sigmoid(&f64::NEG_INFINITY), 0.0);
        let (_, pullback) = sigmoid_vjp(&1000.0_f64);
        assert_eq!(pullback(1.0), 0.0);
        // σ(−x) = 1 − σ(x), and the tails keep their relative accuracy.
        for x in [0.3_f64, 2.0, 7.5] {
            assert_close(sigmoid(&-x), 1.0 - sigmoid(&x), 1e-15);
        }
        let (_, pullback) = sigmoid_vjp(&40.0_f64);
        let d = pullback(1.0);
        assert!((d / (-40.0_f64).exp() - 1.0).abs() < 1e-12, "{d:e}");
        assert!((sigmoid(&-40.0_f64) / (-40.0_f64).exp() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn softplus_pullback_matches_finite_differences() {
        let x = randn((5, 3), 7);
        let w = randn((5, 3), 8);
        let (y, pullback) = softplus_vjp(&x);
        assert_eq!(y, softplus(&x));
        assert_all_close(&y, &x.mapv(|v| v.exp().ln_1p()), 1e-15);
        let grad = pullback(w.clone());
        // softplus' = σ
        assert_all_close(&grad, &(&w * &sigmoid(&x)), 1e-15);
        check_pullback(softplus, &x, &w, &grad);
    }

    #[test]
    fn softplus_spot_values_and_stability() {
        assert_close(softplus(&0.0_f64), 2f64.ln(), 1e-16);
        let (_, pullback) = softplus_vjp(&0.0_f64);
        assert_eq!(pullback(1.0), 0.5);
        assert_eq!(softplus(&1000.0_f64), 1000.0);
        assert_eq!(softplus(&-1000.0_f64), 0.0);
        assert_eq!(softplus(&f64::INFINITY), f64::INFINITY);
        assert_eq!(softplus(&f64::NEG_INFINITY), 0.0);
        let (_, pullback) = softplus_vjp(&1000.0_f64);
        assert_eq!(pullback(2.0), 2.0);
        // ln(1 + e⁻⁴⁰) ≈ e⁻⁴⁰, to full relative accuracy.
        assert!((softplus(&-40.0_f64) / (-40.0_f64).exp() - 1.0).abs() < 1e-12);
        assert!(softplus(&-3.0_f32).is_finite());
    }

    #[test]
    #[should_panic(
        expected = "relu_vjp: the cotangent has shape [2, 3], but the value has shape [3, 2]"
    )]
    fn elementwise_pullback_rejects_a_misshapen_cotangent() {
        let (_, pullback) = relu_vjp(&Array2::<f64>::ones((3, 2)));
        pullback(Array2::ones((2, 3)));
    }

    // -----------------------------------------------------------------------------------------
    // Softmax family
    // -----------------------------------------------------------------------------------------

    #[test]
    fn softmax_pullback_matches_finite_differences() {
        let z = randn((5, 3), 11);
        let w = randn((5, 3), 12);
        let (y, pullback) = softmax_vjp(&z);
        assert_eq!(y, softmax(&z));
        check_pullback(softmax, &z, &w, &pullback(w.clone()));

        let z1 = randn(4, 13);
        let w1 = randn(4, 14);
        let (_, pullback) = softmax_vjp(&z1);
        check_pullback(softmax, &z1, &w1, &pullback(w1.clone()));

        let z3 = randn((2, 3, 4), 15);
        let w3 = randn((2, 3, 4), 16);
        let (_, pullback) = softmax_vjp(&z3);
        check_pullback(softmax, &z3, &w3, &pullback(w3.clone()));
    }

    #[test]
    fn softmax_rows_are_distributions() {
        let z = randn((5, 3), 17) * 4.0;
        let y = softmax(&z);
        for row in y.rows() {
            assert_close(row.sum(), 1.0, 1e-15);
            assert!(row.iter().all(|&p| p > 0.0));
        }
        // Row-wise: each row is the softmax of that row alone.
        assert_all_close(&y.row(2).to_owned(), &softmax(&z.row(2)), 1e-15);
        // Invariant to a shift of a row.
        assert_all_close(&softmax(&(&z + 100.0)), &y, 1e-14);
        // exp(zₖ)/Σ exp(zⱼ) where that does not overflow.
        let e = z.mapv(f64::exp);
        let expected = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
        assert_all_close(&y, &expected, 1e-15);
    }

    #[test]
    fn softmax_is_stable() {
        let y = softmax(&array![1000.0, 0.0]);
        assert!(y.iter().all(|v| v.is_finite()), "{y}");
        assert_eq!(y, array![1.0, 0.0]);
        assert_eq!(softmax(&array![-1000.0, -1000.0]), array![0.5, 0.5]);
        let (_, pullback) = softmax_vjp(&array![[1000.0, 1000.0, 0.0]]);
        let g = pullback(array![[1.0, -1.0, 0.5]]);
        assert!(g.iter().all(|v| v.is_finite()), "{g}");
        // y = [½, ½, 0]: ∂z = y ⊙ (g − ⟨g, y⟩) = [½, −½, 0]
        assert_eq!(g, array![[0.5, -0.5, 0.0]]);
        assert!(
            softmax(&array![1000.0_f32, 0.0])
                .iter()
                .all(|v| v.is_finite())
        );
    }

    #[test]
    fn softmax_handles_non_standard_layouts() {
        // A transposed view and a column-major array: lanes are along the logical last axis.
        let z = randn((3, 5), 18);
        let zt = z.t();
        let w = randn((5, 3), 19);
        let (y, pullback) = softmax_vjp(&zt);
        assert_all_close(&y, &softmax(&zt.to_owned()), 1e-15);
        let grad = pullback(w.clone());
        let mut fortran = Array2::<f64>::zeros((5, 3).f());
        fortran.assign(&zt);
        check_pullback(softmax, &fortran, &w, &grad);
        let (_, pullback) = log_softmax_vjp(&fortran);
        check_pullback(log_softmax, &fortran, &w, &pullback(w.clone()));
    }

    #[test]
    fn log_softmax_pullback_matches_finite_differences() {
        let z = randn((5, 3), 21);
        let w = randn((5, 3), 22);
        let (y, pullback) = log_softmax_vjp(&z);
        assert_eq!(y, log_softmax(&z));
        check_pullback(log_softmax, &z, &w, &pullback(w.clone()));

        let z1 = randn(4, 23);
        let w1 = randn(4, 24);
        let (_, pullback) = log_softmax_vjp(&z1);
        check_pullback(log_softmax, &z1, &w1, &pullback(w1.clone()));
    }

    #[test]
    fn log_softmax_spot_values_and_stability() {
        let z = randn((5, 3), 25);
        assert_all_close(&log_softmax(&z), &softmax(&z).mapv(f64::ln), 1e-14);
        for row in log_softmax(&z).rows() {
            assert_close(row.mapv(f64::exp).sum(), 1.0, 1e-15);
        }
        // Finite where the softmax underflows: ln softmax([1000, 0]) = [0, −1000].
        assert_eq!(log_softmax(&array![1000.0, 0.0]), array![0.0, -1000.0]);
        let (y, pullback) = log_softmax_vjp(&array![[1000.0, 0.0]]);
        assert_eq!(y, array![[0.0, -1000.0]]);
        // ∂z = g − softmax·Σg = [1, 1] − [1, 0]·2 = [−1, 1]
        assert_eq!(pullback(array![[1.0, 1.0]]), array![[-1.0, 1.0]]);
    }

    #[test]
    fn log_sum_exp_pullback_matches_finite_differences() {
        // Vector → scalar.
        let z = randn(4, 31);
        let (y, pullback) = log_sum_exp_vjp(&z);
        assert_eq!(y, log_sum_exp(&z));
        assert_close(y, z.mapv(f64::exp).sum().ln(), 1e-15);
        let grad = pullback(-0.7);
        // ∂lse/∂z = softmax(z)
        assert_all_close(&grad, &(softmax(&z) * -0.7), 1e-15);
        check_pullback(log_sum_exp, &z, &-0.7, &grad);

        // Matrix → one value per row.
        let z = randn((5, 3), 32);
        let w = randn(5, 33);
        let (y, pullback) = log_sum_exp_vjp(&z);
        assert_eq!(y, log_sum_exp(&z));
        assert_all_close(&y, &z.mapv(f64::exp).sum_axis(Axis(1)).mapv(f64::ln), 1e-15);
        check_pullback(log_sum_exp, &z, &w, &pullback(w.clone()));

        // 3-D → matrix.
        let z: Array3<f64> = randn((2, 3, 4), 34);
        let w = randn((2, 3), 35);
        let (_, pullback) = log_sum_exp_vjp(&z);
        check_pullback(log_sum_exp, &z, &w, &pullback(w.clone()));
    }

    #[test]
    fn log_sum_exp_spot_values_and_stability() {
        // ln(1 + 2) = ln 3
        assert_close(log_sum_exp(&array![0.0, 2f64.ln()]), 3f64.ln(), 1e-15);
        assert_eq!(log_sum_exp(&array![1000.0, 1000.0]), 1000.0 + 2f64.ln());
        assert_eq!(log_sum_exp(&array![-1000.0, -1000.0]), -1000.0 + 2f64.ln());
        assert_eq!(
            log_sum_exp(&array![f64::NEG_INFINITY, f64::NEG_INFINITY]),
            f64::NEG_INFINITY
        );
        assert_eq!(log_sum_exp(&Array1::<f64>::zeros(0)), f64::NEG_INFINITY);
        assert_eq!(log_sum_exp(&array![f64::INFINITY, 0.0]), f64::INFINITY);
        assert!(log_sum_exp(&array![f64::NAN, 0.0]).is_nan());
        assert_eq!(log_sum_exp(&array![[3.0], [-2.0]]), array![3.0, -2.0]);
        let (_, pullback) = log_sum_exp_vjp(&array![1000.0, 1000.0]);
        assert_eq!(pullback(2.0), array![1.0, 1.0]);
    }

    #[test]
    #[should_panic(
        expected = "log_sum_exp_vjp: the cotangent has shape [4], but the value has shape [5]"
    )]
    fn log_sum_exp_pullback_rejects_a_misshapen_cotangent() {
        let (_, pullback) = log_sum_exp_vjp(&Array2::<f64>::zeros((5, 3)));
        pullback(Array1::zeros(4));
    }

    #[test]
    #[should_panic(expected = "softmax: works along the last axis, but the array is 0-dimensional")]
    fn softmax_rejects_a_0_dimensional_array() {
        softmax(&ndarray::arr0(1.0));
    }

    #[test]
    fn softmax_family_in_single_precision() {
        // f32 instances, checked with gradcheck's f32 defaults.
        let z = randn_f32((5, 3), 41);
        let w = randn_f32((5, 3), 42);
        let (_, pullback) = softmax_vjp(&z);
        check_pullback(softmax, &z, &w, &pullback(w.clone()));
        let (_, pullback) = log_softmax_vjp(&z);
        check_pullback(log_softmax, &z, &w, &pullback(w.clone()));
        let labels = [0, 2, 1, 1, 0];
        let (_, pullback) = cross_entropy_vjp(&z, &labels);
        check_pullback(|z| cross_entropy(z, &labels), &z, &1.0, &pullback(1.0));
    }

    // -----------------------------------------------------------------------------------------
    // Losses
    // -----------------------------------------------------------------------------------------

    #[test]
    fn mse_pullback_matches_finite_differences() {
        let p = randn((5, 3), 51);
        let t = randn((5, 3), 52);
        let (value, pullback) = mse_vjp(&p, &t);
        assert_eq!(value, mse(&p, &t));
        assert_close(value, (&p - &t).mapv(|d| d * d).mean().unwrap(), 1e-15);
        let g = 1.7;
        let grad = pullback(g);
        // ∂p = 2g(p − t)/n, ∂t = −∂p
        assert_all_close(&grad.0, &((&p - &t) * (2.0 * g / 15.0)), 1e-15);
        assert_eq!(grad.1, -&grad.0);
        check_pullback(
            |(p, t): &(Array2<f64>, Array2<f64>)| mse(p, t),
            &(p, t),
            &g,
            &grad,
        );
    }

    #[test]
    fn mse_spot_values() {
        assert_eq!(mse(&array![1.0, 2.0], &array![1.0, 4.0]), 2.0);
        assert_eq!(mse(&array![[3.0]], &array![[3.0]]), 0.0);
        assert!(mse(&Array1::<f64>::zeros(0), &Array1::zeros(0)).is_nan());
    }

    #[test]
    #[should_panic(expected = "mse: shape mismatch, prediction [2, 3] vs target [3, 2]")]
    fn mse_rejects_different_shapes() {
        mse(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((3, 2)));
    }

    #[test]
    fn cross_entropy_pullback_matches_finite_differences() {
        let z = randn((5, 3), 61);
        let labels = [2, 0, 1, 1, 2];
        let (value, pullback) = cross_entropy_vjp(&z, &labels);
        assert_eq!(value, cross_entropy(&z, &labels));
        // −mean of the picked log-probabilities.
        let ls = log_softmax(&z);
        let picked: f64 = labels.iter().enumerate().map(|(i, &l)| ls[[i, l]]).sum();
        assert_close(value, -picked / 5.0, 1e-15);
        let g = -0.6;
        let grad = pullback(g);
        // ∂z = g(softmax − onehot)/N
        let mut expected = softmax(&z);
        for (i, &l) in labels.iter().enumerate() {
            expected[[i, l]] -= 1.0;
        }
        assert_all_close(&grad, &(expected * (g / 5.0)), 1e-15);
        for row in grad.rows() {
            assert_close(row.sum(), 0.0, 1e-15);
        }
        check_pullback(|z| cross_entropy(z, &labels), &z, &g, &grad);
    }

    #[test]
    fn cross_entropy_spot_values_and_stability() {
        // Uniform logits: ln C whatever the labels.
        assert_close(
            cross_entropy(&Array2::<f64>::zeros((4, 3)), &[0, 1, 2, 0]),
            3f64.ln(),
            1e-15,
        );
        // Huge logits stay finite: a confident right answer costs ~0, a wrong one 1000.
        let logits = array![[1000.0, 0.0], [0.0, 1000.0]];
        assert_eq!(cross_entropy(&logits, &[0, 1]), 0.0);
        assert_eq!(cross_entropy(&logits, &[1, 1]), 500.0);
        let (value, pullback) = cross_entropy_vjp(&logits, &[1, 1]);
        assert_eq!(value, 500.0);
        assert_eq!(pullback(1.0), array![[0.5, -0.5], [0.0, 0.0]]);
        assert!(cross_entropy(&Array2::<f64>::zeros((0, 3)), &[]).is_nan());
    }

    #[test]
    #[should_panic(expected = "cross_entropy: label 3 at row 1 is out of range for 3 classes")]
    fn cross_entropy_rejects_a_label_out_of_range() {
        cross_entropy(&Array2::<f64>::zeros((2, 3)), &[0, 3]);
    }

    #[test]
    #[should_panic(expected = "cross_entropy_vjp: 3 labels for 2 rows of logits")]
    fn cross_entropy_rejects_a_wrong_number_of_labels() {
        let _ = cross_entropy_vjp(&Array2::<f64>::zeros((2, 3)), &[0, 1, 2]);
    }

    // -----------------------------------------------------------------------------------------
    // Batch normalization
    // -----------------------------------------------------------------------------------------

    type BatchNormArgs = (Array2<f64>, Array1<f64>, Array1<f64>, f64);

    fn batch_norm_of(args: &BatchNormArgs) -> Array2<f64> {
        batch_norm(&args.0, &args.1, &args.2, args.3)
    }

    #[test]
    fn batch_norm_pullback_matches_finite_differences() {
        for (seed, eps) in [(71, 0.3), (81, 1e-5)] {
            let x = randn((5, 3), seed) * 2.0 + 1.0;
            let args = (x, randn(3, seed + 1), randn(3, seed + 2), eps);
            let w = randn((5, 3), seed + 3);
            let (y, pullback) = batch_norm_vjp(&args.0, &args.1, &args.2, args.3);
            assert_eq!(y, batch_norm_of(&args));
            let grad = pullback(w.clone());
            check_pullback(batch_norm_of, &args, &w, &grad);
        }
    }

    #[test]
    fn batch_norm_standardizes_columns() {
        let x = randn((6, 3), 91) * 3.0 + 5.0;
        let gamma = array![1.0, 2.0, -0.5];
        let beta = array![0.0, 1.0, -3.0];
        let eps = 1e-3;
        let y = batch_norm(&x, &gamma, &beta, eps);
        let var = x.var_axis(Axis(0), 0.0);
        for j in 0..3 {
            let col = y.column(j);
            // Mean β, variance γ²·σ²/(σ² + ε) (biased).
            assert_close(col.mean().unwrap(), beta[j], 1e-14);
            let expected = gamma[j] * gamma[j] * var[j] / (var[j] + eps);
            assert_close(col.var(0.0), expected, 1e-13);
        }
        // With γ = 1, β = 0 and ε = 0: exactly the standardized columns.
        let z = batch_norm(&x, &Array1::ones(3), &Array1::zeros(3), 0.0);
        let expected = (&x - &x.mean_axis(Axis(0)).unwrap()) / &var.mapv(f64::sqrt);
        assert_all_close(&z, &expected, 1e-14);
    }

    #[test]
    fn batch_norm_gradient_properties() {
        // With ε = 0, y is invariant to shifting or scaling a column of x, so ∂x is orthogonal
        // to both directions: each column of ∂x sums to 0 and is orthogonal to that column of x.
        let x = randn((5, 3), 95);
        let w = randn((5, 3), 96);
        let (_, pullback) = batch_norm_vjp(&x, &array![1.5, -1.0, 0.5], &Array1::zeros(3), 0.0);
        let (dx, dgamma, dbeta, _) = pullback(w.clone());
        assert_all_close(&dbeta, &w.sum_axis(Axis(0)), 1e-15);
        let x_hat = batch_norm(&x, &Array1::ones(3), &Array1::zeros(3), 0.0);
        assert_all_close(&dgamma, &(&w * &x_hat).sum_axis(Axis(0)), 1e-14);
        for j in 0..3 {
            assert_close(dx.column(j).sum(), 0.0, 1e-13);
            assert_close(dx.column(j).dot(&x.column(j)), 0.0, 1e-12);
        }
        // A single row standardizes to 0 and passes only β's gradient through.
        let (y, pullback) = batch_norm_vjp(
            &array![[4.0, -1.0]],
            &array![2.0, 3.0],
            &array![0.5, 0.25],
            1e-5,
        );
        assert_eq!(y, array![[0.5, 0.25]]);
        let (dx, dgamma, dbeta, deps) = pullback(array![[1.0, 2.0]]);
        assert_eq!(
            (dx, dgamma, dbeta, deps),
            (array![[0.0, 0.0]], array![0.0, 0.0], array![1.0, 2.0], 0.0)
        );
    }

    #[test]
    #[should_panic(
        expected = "batch_norm: gamma and beta need one entry per column of x (3), got 2 and 3"
    )]
    fn batch_norm_rejects_a_wrong_gamma() {
        batch_norm(
            &Array2::<f64>::zeros((4, 3)),
            &Array1::ones(2),
            &Array1::zeros(3),
            1e-5,
        );
    }

    #[test]
    #[should_panic(expected = "batch_norm_vjp: needs a batch of at least one row, got 0")]
    fn batch_norm_rejects_an_empty_batch() {
        let _ = batch_norm_vjp(
            &Array2::<f64>::zeros((0, 3)),
            &Array1::ones(3),
            &Array1::zeros(3),
            1e-5,
        );
    }

    // -----------------------------------------------------------------------------------------
    // Pullbacks own what they read
    // -----------------------------------------------------------------------------------------

    #[test]
    fn pullbacks_outlive_their_arguments() {
        // As in generated code: the arguments are locals of a function that returns the
        // pullbacks. This compiles only because no pullback borrows its arguments.
        #[allow(clippy::type_complexity)]
        fn make() -> Vec<Box<dyn FnOnce() -> f64>> {
            let z = randn((4, 3), 101);
            let t = randn((4, 3), 102);
            let v = randn(3, 103);
            let s = 0.5_f64;
            let labels = vec![0, 1, 2, 0];
            let (_, relu_pb) = relu_vjp(&z);
            let (_, sigmoid_pb) = sigmoid_vjp(&z);
            let (_, softplus_pb) = softplus_vjp(&s);
            let (_, softmax_pb) = softmax_vjp(&z);
            let (_, log_softmax_pb) = log_softmax_vjp(&z);
            let (_, lse_pb) = log_sum_exp_vjp(&v);
            let (_, lse2_pb) = log_sum_exp_vjp(&z);
            let (_, mse_pb) = mse_vjp(&z, &t);
            let (_, ce_pb) = cross_entropy_vjp(&z, &labels);
            let (_, bn_pb) = batch_norm_vjp(&z, &v, &v, 1e-5);
            drop((z, t, v, labels));
            let ones = || Array2::<f64>::ones((4, 3));
            vec![
                Box::new(move || relu_pb(ones()).sum()),
                Box::new(move || sigmoid_pb(ones()).sum()),
                Box::new(move || softplus_pb(1.0)),
                Box::new(move || softmax_pb(ones()).sum()),
                Box::new(move || log_softmax_pb(ones()).sum()),
                Box::new(move || lse_pb(1.0).sum()),
                Box::new(move || lse2_pb(Array1::ones(4)).sum()),
                Box::new(move || mse_pb(1.0).0.sum()),
                Box::new(move || ce_pb(1.0).sum()),
                Box::new(move || bn_pb(ones()).1.sum()),
            ]
        }
        for pullback in make() {
            assert!(pullback().is_finite());
        }
    }
}
