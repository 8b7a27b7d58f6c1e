//! Neural-network building blocks, each with its reverse-mode, forward-mode and second-order
//! rules: the activations `relu`,
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
//!   cotangent that is not shaped like the value, a tangent not shaped like its argument, `mse`
//!   arguments of different shapes, `labels` of the wrong length or out of range,
//!   `gamma`/`beta` not matching the columns of `x`.
//!
//! The scalar type is `f32` or `f64` ([`NdReal`]). Elementwise functions work on scalars and on
//! arrays of any dimension (the [`Elementwise`] trait); the softmax family works along the last
//! axis of an array of any dimension (one row of an `N×C` matrix of logits is one distribution).
//!
//! # Forward mode and second order
//!
//! Beside `f_vjp`, every function has two more rules, which take `f`'s arguments followed by
//! one tangent per differentiable parameter, in parameter order:
//!
//! - **`f_jvp(args.., tangents..) -> (f(..), ẏ)`**, forward mode: the value and its tangent
//!   `ẏ = J·ẋ`, of the value's type. The tangent of a parameter taken by reference is a
//!   reference to its gradient's type (`dz: &Array<T, D>` for `z: &ArrayBase<S, D>`,
//!   `dx: &X::Output` for an elementwise `x: &X`); that of one taken by value (`eps`) has its
//!   type. `#[differentiate]`'s forward mode calls it like a hand-written custom forward rule.
//! - **`f_vjp_jvp(args.., tangents..) -> (f(..), ẏ, pullback)`**, forward over reverse, for
//!   Hessian-vector products: the pullback takes the cotangent `ȳ` and its tangent `ȳ̇` and
//!   returns `(x̄, x̄̇)`, the gradient exactly as `f_vjp`'s pullback returns it (bare or a tuple)
//!   and its tangent `x̄̇ = J(x)ᵀ·ȳ̇ + (∂/∂x [J(x)ᵀ·ȳ])·ẋ`. For a scalar `f`, `ȳ = 1` and
//!   `ȳ̇ = 0` give `x̄̇ = H·ẋ`. The pullback owns what it reads, as `f_vjp`'s does.
//!
//! | function          | reverse               | forward               | forward over reverse      |
//! |-------------------|-----------------------|-----------------------|---------------------------|
//! | [`relu`]          | [`relu_vjp`]          | [`relu_jvp`]          | [`relu_vjp_jvp`]          |
//! | [`sigmoid`]       | [`sigmoid_vjp`]       | [`sigmoid_jvp`]       | [`sigmoid_vjp_jvp`]       |
//! | [`softplus`]      | [`softplus_vjp`]      | [`softplus_jvp`]      | [`softplus_vjp_jvp`]      |
//! | [`softmax`]       | [`softmax_vjp`]       | [`softmax_jvp`]       | [`softmax_vjp_jvp`]       |
//! | [`log_softmax`]   | [`log_softmax_vjp`]   | [`log_softmax_jvp`]   | [`log_softmax_vjp_jvp`]   |
//! | [`log_sum_exp`]   | [`log_sum_exp_vjp`]   | [`log_sum_exp_jvp`]   | [`log_sum_exp_vjp_jvp`]   |
//! | [`mse`]           | [`mse_vjp`]           | [`mse_jvp`]           | [`mse_vjp_jvp`]           |
//! | [`cross_entropy`] | [`cross_entropy_vjp`] | [`cross_entropy_jvp`] | [`cross_entropy_vjp_jvp`] |
//! | [`batch_norm`]    | [`batch_norm_vjp`]    | [`batch_norm_jvp`]    | [`batch_norm_vjp_jvp`]    |
//!
//! Each pair is consistent: `f_jvp` is the transpose of `f_vjp`'s pullback
//! (`⟨J·v, w⟩ = ⟨v, Jᵀ·w⟩`), and `f_vjp_jvp` returns the very value, tangent and gradient of
//! `f_jvp` and `f_vjp`, computed the same way.
//!
//! ```
//! use autodiff_runtime::nn;
//! use ndarray::array;
//!
//! // The Hessian of log-sum-exp is diag(p) − p·pᵀ with p = softmax(z); at z = 0 over two
//! // entries, p = [½, ½] and H = [[¼, −¼], [−¼, ¼]].
//! let (_, _, pullback) = nn::log_sum_exp_vjp_jvp(&array![0.0, 0.0], &array![1.0, 0.0]);
//! let (gradient, hessian_times_v) = pullback(1.0, 0.0);
//! assert_eq!(gradient, array![0.5, 0.5]);
//! assert_eq!(hessian_times_v, array![0.25, -0.25]);
//! ```
//!
//! # Nonsmooth points
//!
//! `relu(x) = max(x, 0)` has the Clarke generalized gradient `[0, 1]` at `0`; following the
//! runtime's convention (see [`crate::rules`], "Nonsmooth points") its rule returns the
//! minimum-norm element, `relu'(0) = 0`. Its forward rule applies the same element to the
//! tangent (`ẏ = 0` at `0`), so the two stay transposes of each other there, and its
//! second-order rule takes relu'' to be `0`, as it is everywhere but the kink. Everything else
//! here is smooth.
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
    Ix3, NdFloat, Zip, arr0,
};

pub use self::along::*;
use self::checks::{check_cotangent, check_tangent};
use crate::differentiable::Real;

mod along;
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
fn relu_and_derivative<T: NdReal>(x: T) -> (T, T) {
    if x > T::ZERO || x.is_nan() {
        (x, T::ONE)
    } else {
        (T::ZERO, T::ZERO)
    }
}

/// `relu'(x)·g` from `d = relu'(x)`, selecting: exactly `0` where `d = 0`, even for an infinite
/// or NaN `g`.
#[inline(always)]
fn relu_select<T: NdReal>(g: T, d: T) -> T {
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
    (s, d, -d * (x * <T as Real>::from_f64(0.5)).tanh())
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
    let pullback = move |g: Array<T, D>| {
        check_cotangent("softmax_vjp", g.shape(), saved.shape());
        softmax_jacobian("softmax_vjp", g, &saved)
    };
    (y, pullback)
}

/// [`softmax`] and its tangent `ẏ = y ⊙ (ż − ⟨ż, y⟩)` per lane for the tangent `dz` of `z`:
/// the Jacobian `diag(y) − y·yᵀ` is symmetric, so this is the pullback of [`softmax_vjp`]
/// applied to `ż`, computed in a copy of `dz`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // A shift of every logit of a lane does not change its softmax.
/// let (_, dy) = nn::softmax_jvp(&array![[0.5, -1.0, 2.0]], &array![[3.0, 3.0, 3.0]]);
/// assert!(dy.iter().all(|d: &f64| d.abs() < 1e-15));
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`.
pub fn softmax_jvp<S, T, D>(z: &ArrayBase<S, D>, dz: &Array<T, D>) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    softmax_with_tangent("softmax_jvp", z, dz)
}

/// [`softmax`], its tangent as [`softmax_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (z̄, z̄̇)` of a
/// Hessian-vector product. Per lane, with `y = softmax(z)`, `ẏ` its tangent,
/// `a = ⟨ȳ, y⟩`, `b = ⟨ȳ̇, y⟩` and `c = ⟨ȳ, ẏ⟩`:
///
/// ```text
/// z̄ = y ⊙ (ȳ − a)                                  as in softmax_vjp
/// z̄̇ = y ⊙ (ȳ̇ − b) + ẏ ⊙ (ȳ − a) − c·y             its tangent, by the product rule
/// ```
///
/// The first term of `z̄̇` is the Jacobian applied to `ȳ̇`, the others the change of the
/// Jacobian along `ż`. The pullback keeps copies of `y` and `ẏ`, and computes `z̄` and `z̄̇` in
/// the buffers of `ȳ` and `ȳ̇`, one pass per lane after the three inner products.
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`; the pullback, if a cotangent is not
/// shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn softmax_vjp_jvp<S, T, D>(
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (
    Array<T, D>,
    Array<T, D>,
    impl FnOnce(Array<T, D>, Array<T, D>) -> (Array<T, D>, Array<T, D>) + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let what = "softmax_vjp_jvp";
    let (y, dy) = softmax_with_tangent(what, z, dz);
    let (saved, saved_dot) = (y.clone(), dy.clone());
    let pullback = move |mut g: Array<T, D>, mut g_dot: Array<T, D>| {
        check_cotangent(what, g.shape(), saved.shape());
        check_cotangent(what, g_dot.shape(), saved.shape());
        let axis = last_axis(what, g.ndim());
        Zip::from(g.lanes_mut(axis))
            .and(g_dot.lanes_mut(axis))
            .and(saved.lanes(axis))
            .and(saved_dot.lanes(axis))
            .for_each(|mut g, mut g_dot, y, y_dot| {
                let (a, b, c) = Zip::from(&g).and(&g_dot).and(&y).and(&y_dot).fold(
                    (T::ZERO, T::ZERO, T::ZERO),
                    |(a, b, c), &g, &g_dot, &y, &y_dot| (a + g * y, b + g_dot * y, c + g * y_dot),
                );
                Zip::from(&mut g)
                    .and(&mut g_dot)
                    .and(&y)
                    .and(&y_dot)
                    .for_each(|g, g_dot, &y, &y_dot| {
                        let centred = *g - a;
                        *g_dot = (y * (*g_dot - b) + y_dot * centred) - c * y;
                        *g = y * centred;
                    });
            });
        (g, g_dot)
    };
    (y, dy, pullback)
}

/// The softmax of `z` and its tangent along `dz`, for [`softmax_jvp`] and [`softmax_vjp_jvp`].
fn softmax_with_tangent<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let y = softmax_lanes(what, z).0;
    check_tangent(what, "z", dz.shape(), z.shape());
    let dy = softmax_jacobian(what, dz.to_owned(), &y);
    (y, dy)
}

/// `v ↦ y ⊙ (v − ⟨v, y⟩)` per lane, in `v`'s buffer: the Jacobian `diag(y) − y·yᵀ` of the
/// softmax at `z` (with `y = softmax(z)`) applied to `v`. It is symmetric, so this is both the
/// softmax's tangent map and its pullback.
fn softmax_jacobian<T: NdReal, D: Dimension>(
    what: &str,
    mut v: Array<T, D>,
    y: &Array<T, D>,
) -> Array<T, D> {
    let axis = last_axis(what, v.ndim());
    Zip::from(v.lanes_mut(axis))
        .and(y.lanes(axis))
        .for_each(|mut v, y| {
            let inner = lane_inner(v.view(), y);
            Zip::from(&mut v)
                .and(&y)
                .for_each(|v, &y| *v = y * (*v - inner));
        });
    v
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
    let (y, p) = log_softmax_and_softmax("log_softmax_vjp", z);
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

/// [`log_softmax`] and its tangent `ẏ = ż − ⟨softmax(z), ż⟩` per lane for the tangent `dz` of
/// `z` (the transpose of [`log_softmax_vjp`]'s pullback), computed in a copy of `dz`.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Uniform logits: ẏ = ż − mean(ż).
/// let (_, dy) = nn::log_softmax_jvp(&array![0.0, 0.0], &array![1.0, 3.0]);
/// assert_eq!(dy, array![-1.0, 1.0]);
/// ```
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`.
pub fn log_softmax_jvp<S, T, D>(z: &ArrayBase<S, D>, dz: &Array<T, D>) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let (y, dy, _) = log_softmax_with_tangent("log_softmax_jvp", z, dz);
    (y, dy)
}

/// [`log_softmax`], its tangent as [`log_softmax_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (z̄, z̄̇)` of
/// a Hessian-vector product. Per lane, with `p = softmax(z)` and its tangent
/// `ṗ = p ⊙ (ż − ⟨p, ż⟩) = p ⊙ ẏ`:
///
/// ```text
/// z̄ = ȳ − p·Σₖ ȳₖ                        as in log_softmax_vjp
/// z̄̇ = ȳ̇ − p·Σₖ ȳ̇ₖ − ṗ·Σₖ ȳₖ              its tangent
/// ```
///
/// The pullback keeps `p` and `ṗ` and computes `z̄` and `z̄̇` in the buffers of `ȳ` and `ȳ̇`.
///
/// # Panics
///
/// If `z` is 0-dimensional or `dz` is not shaped like `z`; the pullback, if a cotangent is not
/// shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn log_softmax_vjp_jvp<S, T, D>(
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (
    Array<T, D>,
    Array<T, D>,
    impl FnOnce(Array<T, D>, Array<T, D>) -> (Array<T, D>, Array<T, D>) + use<S, T, D>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let what = "log_softmax_vjp_jvp";
    let axis = last_axis(what, z.ndim());
    let (y, dy, p) = log_softmax_with_tangent(what, z, dz);
    let p_dot = Zip::from(&p).and(&dy).map_collect(|&p, &dy| p * dy);
    let pullback = move |mut g: Array<T, D>, mut g_dot: Array<T, D>| {
        check_cotangent(what, g.shape(), p.shape());
        check_cotangent(what, g_dot.shape(), p.shape());
        Zip::from(g.lanes_mut(axis))
            .and(g_dot.lanes_mut(axis))
            .and(p.lanes(axis))
            .and(p_dot.lanes(axis))
            .for_each(|mut g, mut g_dot, p, p_dot| {
                let (total, total_dot) = (g.sum(), g_dot.sum());
                Zip::from(&mut g)
                    .and(&mut g_dot)
                    .and(&p)
                    .and(&p_dot)
                    .for_each(|g, g_dot, &p, &p_dot| {
                        *g_dot = (*g_dot - p * total_dot) - p_dot * total;
                        *g -= p * total;
                    });
            });
        (g, g_dot)
    };
    (y, dy, pullback)
}

/// The log-softmax of `z` and the softmax, both from the same exponentials.
fn log_softmax_and_softmax<S, T, D>(what: &str, z: &ArrayBase<S, D>) -> (Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let axis = last_axis(what, z.ndim());
    let (p, stats) = softmax_lanes(what, z);
    let mut y = z.to_owned();
    Zip::from(y.lanes_mut(axis))
        .and(&stats)
        .for_each(|mut lane, &(m, ln_s)| lane.mapv_inplace(|v| (v - m) - ln_s));
    (y, p)
}

/// The log-softmax of `z`, its tangent along `dz`, and the softmax, for [`log_softmax_jvp`] and
/// [`log_softmax_vjp_jvp`].
#[allow(clippy::type_complexity)] // three arrays
fn log_softmax_with_tangent<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
) -> (Array<T, D>, Array<T, D>, Array<T, D>)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let (y, p) = log_softmax_and_softmax(what, z);
    check_tangent(what, "z", dz.shape(), z.shape());
    let axis = last_axis(what, z.ndim());
    let mut dy = dz.to_owned();
    Zip::from(dy.lanes_mut(axis))
        .and(p.lanes(axis))
        .for_each(|mut dy, p| {
            let inner = lane_inner(dy.view(), p);
            dy.mapv_inplace(|v| v - inner);
        });
    (y, dy, p)
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

    /// `lse` of every lane along the last axis, its tangent `⟨softmax(z), ż⟩` per lane for the
    /// tangent `dz`, and, when `keep`, the softmax `p` of every lane and its tangent
    /// `ṗ = p ⊙ (ż − ⟨p, ż⟩)` (both shaped like `self`). `what` names the caller in the panic
    /// message.
    ///
    /// # Panics
    ///
    /// If `dz` is not shaped like `self`.
    #[allow(clippy::type_complexity)] // the value, its tangent, and the softmax and its tangent
    fn lse_with_tangent(
        &self,
        what: &str,
        dz: &Self::Grad,
        keep: bool,
    ) -> (Self::Output, Self::Output, Option<(Self::Grad, Self::Grad)>);

    /// `(x̄, x̄̇) = (g·p, ġ·p + g·ṗ)`, lane by lane with the matching elements `g` and `ġ`, in the
    /// buffers of `p` and `ṗ`. `what` names the caller in the panic message.
    ///
    /// # Panics
    ///
    /// If `g` or `ġ` is not shaped like `p` without its last axis.
    fn scale_lanes_with_tangent(
        what: &str,
        p: Self::Grad,
        p_dot: Self::Grad,
        g: Self::Output,
        g_dot: Self::Output,
    ) -> (Self::Grad, Self::Grad);
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

    fn lse_with_tangent(
        &self,
        what: &str,
        dz: &Array1<T>,
        keep: bool,
    ) -> (T, T, Option<(Array1<T>, Array1<T>)>) {
        let (y, dy, kept) = lse_lanes_with_tangent(what, self, dz, keep);
        (y.into_scalar(), dy.into_scalar(), kept)
    }

    fn scale_lanes_with_tangent(
        what: &str,
        p: Array1<T>,
        p_dot: Array1<T>,
        g: T,
        g_dot: T,
    ) -> (Array1<T>, Array1<T>) {
        scale_lanes_with_tangent(what, p, p_dot, arr0(g), arr0(g_dot))
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

            fn lse_with_tangent(
                &self,
                what: &str,
                dz: &Array<T, $dim>,
                keep: bool,
            ) -> (
                Array<T, $smaller>,
                Array<T, $smaller>,
                Option<(Array<T, $dim>, Array<T, $dim>)>,
            ) {
                lse_lanes_with_tangent(what, self, dz, keep)
            }

            fn scale_lanes_with_tangent(
                what: &str,
                p: Array<T, $dim>,
                p_dot: Array<T, $dim>,
                g: Array<T, $smaller>,
                g_dot: Array<T, $smaller>,
            ) -> (Array<T, $dim>, Array<T, $dim>) {
                scale_lanes_with_tangent(what, p, p_dot, g, g_dot)
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

/// [`log_sum_exp`] and its tangent `ẏ = ⟨softmax(z), ż⟩` per lane for the tangent `dz` of `z`
/// (an array shaped like `z`).
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Equal logits: ẏ is the mean of ż.
/// let (y, dy) = nn::log_sum_exp_jvp(&array![0.0, 0.0], &array![1.0, 3.0]);
/// assert_eq!((y, dy), (2f64.ln(), 2.0));
/// ```
///
/// # Panics
///
/// If `dz` is not shaped like `z`.
pub fn log_sum_exp_jvp<Z: LogSumExp>(z: &Z, dz: &Z::Grad) -> (Z::Output, Z::Output) {
    let (y, dy, _) = z.lse_with_tangent("log_sum_exp_jvp", dz, false);
    (y, dy)
}

/// [`log_sum_exp`], its tangent as [`log_sum_exp_jvp`], and the pullback `(ȳ, ȳ̇) ↦ (z̄, z̄̇)` of
/// a Hessian-vector product. Per lane, with `p = softmax(z)` and its tangent
/// `ṗ = p ⊙ (ż − ⟨p, ż⟩)`:
///
/// ```text
/// z̄ = ȳ·p                     as in log_sum_exp_vjp
/// z̄̇ = ȳ̇·p + ȳ·ṗ               its tangent; for ȳ = 1, ȳ̇ = 0 it is the Hessian-vector
///                             product (diag(p) − p·pᵀ)·ż
/// ```
///
/// The pullback keeps `p` and `ṗ` and computes `z̄` and `z̄̇` in their buffers.
///
/// # Panics
///
/// If `dz` is not shaped like `z`; the pullback, if a cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn log_sum_exp_vjp_jvp<Z: LogSumExp>(
    z: &Z,
    dz: &Z::Grad,
) -> (
    Z::Output,
    Z::Output,
    impl FnOnce(Z::Output, Z::Output) -> (Z::Grad, Z::Grad) + use<Z>,
) {
    let what = "log_sum_exp_vjp_jvp";
    let (y, dy, kept) = z.lse_with_tangent(what, dz, true);
    let (p, p_dot) = kept.expect("kept when asked");
    let pullback = move |g, g_dot| Z::scale_lanes_with_tangent(what, p, p_dot, g, g_dot);
    (y, dy, pullback)
}

/// The lane-by-lane work of [`LogSumExp::lse_with_tangent`]: `lse` and its tangent for every
/// lane, and, when `keep`, the softmax and its tangent.
#[allow(clippy::type_complexity)] // the value, its tangent, and the softmax and its tangent
fn lse_lanes_with_tangent<S, T, D>(
    what: &str,
    z: &ArrayBase<S, D>,
    dz: &Array<T, D>,
    keep: bool,
) -> (
    Array<T, D::Smaller>,
    Array<T, D::Smaller>,
    Option<(Array<T, D>, Array<T, D>)>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let (p, stats) = softmax_lanes(what, z);
    check_tangent(what, "z", dz.shape(), z.shape());
    let axis = last_axis(what, z.ndim());
    let y = stats.mapv(|(m, ln_s)| m + ln_s);
    let dy = Zip::from(p.lanes(axis))
        .and(dz.lanes(axis))
        .map_collect(|p, dz| lane_inner(p, dz));
    let kept = keep.then(|| {
        let p_dot = softmax_jacobian(what, dz.to_owned(), &p);
        (p, p_dot)
    });
    (y, dy, kept)
}

/// The lane-by-lane work of [`LogSumExp::scale_lanes_with_tangent`].
#[track_caller]
fn scale_lanes_with_tangent<T: NdReal, D: Dimension>(
    what: &str,
    mut p: Array<T, D>,
    mut p_dot: Array<T, D>,
    g: Array<T, D::Smaller>,
    g_dot: Array<T, D::Smaller>,
) -> (Array<T, D>, Array<T, D>) {
    let axis = last_axis(what, p.ndim());
    check_cotangent(what, g.shape(), &p.shape()[..axis.index()]);
    check_cotangent(what, g_dot.shape(), &p.shape()[..axis.index()]);
    Zip::from(p.lanes_mut(axis))
        .and(p_dot.lanes_mut(axis))
        .and(&g)
        .and(&g_dot)
        .for_each(|mut p, mut p_dot, &g, &g_dot| {
            Zip::from(&mut p).and(&mut p_dot).for_each(|p, p_dot| {
                *p_dot = *p * g_dot + *p_dot * g;
                *p *= g;
            });
        });
    (p, p_dot)
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

/// [`mse`] and its tangent `ṁ = (2/n) Σᵢ (pᵢ − tᵢ)(ṗᵢ − ṫᵢ)` for the tangents `dprediction` and
/// `dtarget`, in one pass over the four arrays, without allocating.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (p, t) = (array![1.0, 2.0], array![1.0, 4.0]);
/// // Moving the prediction towards the target: (2/2)·(0·1 + (−2)·1) = −2.
/// assert_eq!(nn::mse_jvp(&p, &t, &array![1.0, 1.0], &array![0.0, 0.0]), (2.0, -2.0));
/// ```
///
/// # Panics
///
/// If `prediction` and `target` have different shapes, or a tangent is not shaped like them.
pub fn mse_jvp<S1, S2, T, D>(
    prediction: &ArrayBase<S1, D>,
    target: &ArrayBase<S2, D>,
    dprediction: &Array<T, D>,
    dtarget: &Array<T, D>,
) -> (T, T)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let what = "mse_jvp";
    check_mse_tangents(what, prediction, target, dprediction, dtarget);
    let (sum, sum_dot) = Zip::from(prediction)
        .and(target)
        .and(dprediction)
        .and(dtarget)
        .fold((T::ZERO, T::ZERO), |(s, s_dot), &p, &t, &dp, &dt| {
            let d = p - t;
            (s + d * d, s_dot + d * (dp - dt))
        });
    let n = count(prediction.len());
    (sum / n, (sum_dot + sum_dot) / n)
}

/// [`mse`], its tangent as [`mse_jvp`], and the pullback `(ȳ, ȳ̇) ↦ ((p̄, t̄), (p̄̇, t̄̇))` of a
/// Hessian-vector product. With `d = p − t` and `ḋ = ṗ − ṫ`:
///
/// ```text
/// p̄ = 2ȳ·d/n,   t̄ = −p̄                 as in mse_vjp
/// p̄̇ = (2ȳ̇·d + 2ȳ·ḋ)/n,   t̄̇ = −p̄̇       their tangents
/// ```
///
/// The Hessian is `(2/n)·[[I, −I], [−I, I]]`, constant. The pullback keeps `d` and `ḋ` and
/// computes `p̄` and `p̄̇` in their buffers.
///
/// # Panics
///
/// If `prediction` and `target` have different shapes, or a tangent is not shaped like them.
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn mse_vjp_jvp<S1, S2, T, D>(
    prediction: &ArrayBase<S1, D>,
    target: &ArrayBase<S2, D>,
    dprediction: &Array<T, D>,
    dtarget: &Array<T, D>,
) -> (
    T,
    T,
    impl FnOnce(T, T) -> ((Array<T, D>, Array<T, D>), (Array<T, D>, Array<T, D>)) + use<S1, S2, T, D>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    T: NdReal,
    D: Dimension,
{
    let what = "mse_vjp_jvp";
    check_mse_tangents(what, prediction, target, dprediction, dtarget);
    let n = count(prediction.len());
    let mut diff = Zip::from(prediction)
        .and(target)
        .map_collect(|&p, &t| p - t);
    let mut diff_dot = Zip::from(dprediction)
        .and(dtarget)
        .map_collect(|&dp, &dt| dp - dt);
    let (sum, sum_dot) = Zip::from(&diff)
        .and(&diff_dot)
        .fold((T::ZERO, T::ZERO), |(s, s_dot), &d, &d_dot| {
            (s + d * d, s_dot + d * d_dot)
        });
    let pullback = move |g: T, g_dot: T| {
        let (c, c_dot) = ((g + g) / n, (g_dot + g_dot) / n);
        Zip::from(&mut diff)
            .and(&mut diff_dot)
            .for_each(|d, d_dot| {
                *d_dot = c_dot * *d + c * *d_dot;
                *d = c * *d;
            });
        let d_target = diff.mapv(|d| -d);
        let d_target_dot = diff_dot.mapv(|d| -d);
        ((diff, d_target), (diff_dot, d_target_dot))
    };
    (sum / n, (sum_dot + sum_dot) / n, pullback)
}

/// The shape checks of [`mse_jvp`] and [`mse_vjp_jvp`].
#[track_caller]
fn check_mse_tangents<S1, S2, T, D>(
    what: &str,
    prediction: &ArrayBase<S1, D>,
    target: &ArrayBase<S2, D>,
    dprediction: &Array<T, D>,
    dtarget: &Array<T, D>,
) where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D: Dimension,
{
    check_same_shape(what, prediction.shape(), target.shape());
    check_tangent(what, "prediction", dprediction.shape(), prediction.shape());
    check_tangent(what, "target", dtarget.shape(), target.shape());
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
    let n = count(labels.len());
    let (mut p, sum) = cross_entropy_softmax("cross_entropy_vjp", logits, labels);
    subtract_one_hot(&mut p, labels);
    let pullback = move |g: T| {
        let c = g / n;
        p.mapv_inplace(|d| c * d);
        p
    };
    (sum / n, pullback)
}

/// [`cross_entropy`] and its tangent `L̇ = (1/N) Σᵢ (⟨softmax(zᵢ), żᵢ⟩ − żᵢ,yᵢ)` for the tangent
/// `dlogits` of the logits (the labels have none): `⟨softmax(z) − onehot(y), ż⟩/N`, the
/// transpose of [`cross_entropy_vjp`]'s pullback.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Uniform logits over two classes: L̇ = (½(1 + 3) − 3)/1 = −1.
/// let (_, dl) = nn::cross_entropy_jvp(&array![[0.0, 0.0]], &[1], &array![[1.0, 3.0]]);
/// assert_eq!(dl, -1.0);
/// ```
///
/// # Panics
///
/// If `labels` does not have one label per row, a label is not below `C`, or `dlogits` is not
/// shaped like `logits`.
pub fn cross_entropy_jvp<S, T>(
    logits: &ArrayBase<S, Ix2>,
    labels: &[usize],
    dlogits: &Array2<T>,
) -> (T, T)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "cross_entropy_jvp";
    let (p, sum) = cross_entropy_softmax(what, logits, labels);
    check_tangent(what, "logits", dlogits.shape(), logits.shape());
    let n = count(labels.len());
    (sum / n, cross_entropy_tangent(&p, dlogits, labels) / n)
}

/// [`cross_entropy`], its tangent as [`cross_entropy_jvp`], and the pullback
/// `(ȳ, ȳ̇) ↦ (z̄, z̄̇)` of a Hessian-vector product. With `P = softmax(z)` row by row, its
/// tangent `Ṗ = P ⊙ (Ż − ⟨P, Ż⟩)` (per row) and `Y` the one-hot labels:
///
/// ```text
/// z̄ = ȳ·(P − Y)/N                   as in cross_entropy_vjp
/// z̄̇ = (ȳ̇·(P − Y) + ȳ·Ṗ)/N           its tangent
/// ```
///
/// The Hessian is block diagonal, `(diag(pᵢ) − pᵢ·pᵢᵀ)/N` for row `i`. The pullback keeps
/// `P − Y` and `Ṗ` and computes `z̄` and `z̄̇` in their buffers.
///
/// # Panics
///
/// If `labels` does not have one label per row, a label is not below `C`, or `dlogits` is not
/// shaped like `logits`.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn cross_entropy_vjp_jvp<S, T>(
    logits: &ArrayBase<S, Ix2>,
    labels: &[usize],
    dlogits: &Array2<T>,
) -> (
    T,
    T,
    impl FnOnce(T, T) -> (Array2<T>, Array2<T>) + use<S, T>,
)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    let what = "cross_entropy_vjp_jvp";
    let (mut p, sum) = cross_entropy_softmax(what, logits, labels);
    check_tangent(what, "logits", dlogits.shape(), logits.shape());
    let n = count(labels.len());
    let sum_dot = cross_entropy_tangent(&p, dlogits, labels);
    let mut p_dot = softmax_jacobian(what, dlogits.to_owned(), &p);
    subtract_one_hot(&mut p, labels);
    let pullback = move |g: T, g_dot: T| {
        let (c, c_dot) = (g / n, g_dot / n);
        Zip::from(&mut p).and(&mut p_dot).for_each(|d, p_dot| {
            *p_dot = c_dot * *d + c * *p_dot;
            *d = c * *d;
        });
        (p, p_dot)
    };
    (sum / n, sum_dot / n, pullback)
}

/// The softmax of every row of the logits and the summed loss `Σᵢ (lse(zᵢ) − zᵢ,yᵢ)`, from the
/// same exponentials, after checking the labels.
fn cross_entropy_softmax<S, T>(
    what: &str,
    logits: &ArrayBase<S, Ix2>,
    labels: &[usize],
) -> (Array2<T>, T)
where
    S: Data<Elem = T>,
    T: NdReal,
{
    check_labels(what, logits, labels);
    let (p, stats) = softmax_lanes(what, logits);
    let mut sum = T::ZERO;
    for ((z_row, &(m, ln_s)), &label) in logits.rows().into_iter().zip(&stats).zip(labels) {
        sum += (m - z_row[label]) + ln_s;
    }
    (p, sum)
}

/// `Σᵢ (⟨pᵢ, żᵢ⟩ − żᵢ,yᵢ)`: the tangent of the summed loss, from the softmax `p` of the rows.
fn cross_entropy_tangent<T: NdReal>(p: &Array2<T>, dlogits: &Array2<T>, labels: &[usize]) -> T {
    p.rows()
        .into_iter()
        .zip(dlogits.rows())
        .zip(labels)
        .fold(T::ZERO, |s, ((p, dz), &label)| {
            s + (lane_inner(p, dz) - dz[label])
        })
}

/// `p ← p − onehot(labels)`, row by row.
fn subtract_one_hot<T: NdReal>(p: &mut Array2<T>, labels: &[usize]) {
    for (mut row, &label) in p.rows_mut().into_iter().zip(labels) {
        row[label] -= T::ONE;
    }
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

/// [`batch_norm`] and its tangent for the tangents `dx`, `dgamma`, `dbeta` and `deps` of its
/// four arguments. Column by column (index `j` left out), with `r = 1/√(σ² + ε)` and the
/// tangent of the variance `σ̇² = (2/N) Σᵢ (xᵢ − μ)·ẋᵢ = (2/(N·r)) Σᵢ x̂ᵢ·ẋᵢ`:
///
/// ```text
/// μ̇  = (1/N) Σᵢ ẋᵢ
/// ρ  = ṙ/r = −½ r²·(σ̇² + ε̇) = −r·(1/N) Σᵢ x̂ᵢ·ẋᵢ − ½ r²·ε̇
/// x̂̇ᵢ = r·(ẋᵢ − μ̇) + x̂ᵢ·ρ
/// ẏᵢ = γ̇·x̂ᵢ + γ·x̂̇ᵢ + β̇
/// ```
///
/// Two passes over the batch after the statistics (the sums `Σᵢ ẋᵢ` and `Σᵢ x̂ᵢ·ẋᵢ`, then `y` and
/// `ẏ`), with `x̂` recomputed rather than stored.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // Shifting a column of x does not change y; shifting β shifts it.
/// let x = array![[1.0, 10.0], [3.0, 12.0]];
/// let (g, b) = (array![2.0, 1.0], array![0.5, 0.0]);
/// let dx = array![[1.0, 0.0], [1.0, 0.0]];
/// let (_, dy) = nn::batch_norm_jvp(&x, &g, &b, 1e-5, &dx, &array![0.0, 0.0], &array![0.0, 3.0], 0.0);
/// assert_eq!(dy, array![[0.0, 3.0], [0.0, 3.0]]);
/// ```
///
/// # Panics
///
/// As [`batch_norm`], and if a tangent is not shaped like its argument.
#[allow(clippy::too_many_arguments)] // batch_norm's four arguments and their four tangents
pub fn batch_norm_jvp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
    dx: &Array2<T>,
    dgamma: &Array1<T>,
    dbeta: &Array1<T>,
    deps: T,
) -> (Array2<T>, Array2<T>)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "batch_norm_jvp";
    let columns = BatchColumn::of(what, (x, gamma, beta, eps), (dx, dgamma, dbeta, deps));
    let mut y = Array2::zeros(x.raw_dim());
    let mut dy = Array2::zeros(x.raw_dim());
    Zip::from(&mut y)
        .and(&mut dy)
        .and(x)
        .and(dx)
        .and_broadcast(&columns)
        .for_each(|y, dy, &x, &dx, column| {
            let (h, h_dot) = column.standardize(x, dx);
            (*y, *dy) = column.affine(h, h_dot);
        });
    (y, dy)
}

/// [`batch_norm`], its tangent as [`batch_norm_jvp`], and the pullback
/// `(G, Ġ) ↦ ((x̄, γ̄, β̄, ε̄), (x̄̇, γ̄̇, β̄̇, ε̄̇))` of a Hessian-vector product. Column by column,
/// with `A = Σᵢ Gᵢ`, `B = Σᵢ Gᵢ·x̂ᵢ`, `a = γ·r` and `ρ`, `x̂̇` as in [`batch_norm_jvp`], the
/// gradient of [`batch_norm_vjp`] and its tangent are
///
/// ```text
/// β̄  = A                              β̄̇  = Ȧ = Σᵢ Ġᵢ
/// γ̄  = B                              γ̄̇  = Ḃ = Σᵢ (Ġᵢ·x̂ᵢ + Gᵢ·x̂̇ᵢ)
/// x̄ᵢ = a·(Gᵢ − A/N − x̂ᵢ·B/N)          x̄̇ᵢ = ȧ·(Gᵢ − A/N − x̂ᵢ·B/N)
///                                           + a·(Ġᵢ − Ȧ/N − x̂̇ᵢ·B/N − x̂ᵢ·Ḃ/N),
///                                      ȧ = γ̇·r + γ·ṙ = (γ̇ + γ·ρ)·r
/// ε̄  = −½ Σⱼ γ·B·r²                   ε̄̇  = −½ Σⱼ r²·(γ̇·B + 2γ·ρ·B + γ·Ḃ)
/// ```
///
/// (β enters `y` linearly, so it appears in no second derivative.) The pullback keeps `x̂`, `x̂̇`
/// and the per-column statistics; it sums `A`, `B`, `Ȧ`, `Ḃ` in one pass and writes `x̄` and
/// `x̄̇` into the buffers of `G` and `Ġ` in a second.
///
/// # Panics
///
/// As [`batch_norm`], and if a tangent is not shaped like its argument; the pullback, if a
/// cotangent is not shaped like `x`.
#[allow(clippy::too_many_arguments)] // batch_norm's four arguments and their four tangents
#[allow(clippy::type_complexity)] // the pullback's gradient tuples, spelled out
pub fn batch_norm_vjp_jvp<S1, S2, S3, T>(
    x: &ArrayBase<S1, Ix2>,
    gamma: &ArrayBase<S2, Ix1>,
    beta: &ArrayBase<S3, Ix1>,
    eps: T,
    dx: &Array2<T>,
    dgamma: &Array1<T>,
    dbeta: &Array1<T>,
    deps: T,
) -> (
    Array2<T>,
    Array2<T>,
    impl FnOnce(
        Array2<T>,
        Array2<T>,
    ) -> (
        (Array2<T>, Array1<T>, Array1<T>, T),
        (Array2<T>, Array1<T>, Array1<T>, T),
    ) + use<S1, S2, S3, T>,
)
where
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    S3: Data<Elem = T>,
    T: NdReal,
{
    let what = "batch_norm_vjp_jvp";
    let columns = BatchColumn::of(what, (x, gamma, beta, eps), (dx, dgamma, dbeta, deps));
    let mut x_hat = Array2::zeros(x.raw_dim());
    let mut x_hat_dot = Array2::zeros(x.raw_dim());
    Zip::from(&mut x_hat)
        .and(&mut x_hat_dot)
        .and(x)
        .and(dx)
        .and_broadcast(&columns)
        .for_each(|h, h_dot, &x, &dx, column| (*h, *h_dot) = column.standardize(x, dx));
    let mut y = Array2::zeros(x.raw_dim());
    let mut dy = Array2::zeros(x.raw_dim());
    Zip::from(&mut y)
        .and(&mut dy)
        .and(&x_hat)
        .and(&x_hat_dot)
        .and_broadcast(&columns)
        .for_each(|y, dy, &h, &h_dot, column| (*y, *dy) = column.affine(h, h_dot));
    let pullback = move |mut g: Array2<T>, mut g_dot: Array2<T>| {
        check_cotangent(what, g.shape(), x_hat.shape());
        check_cotangent(what, g_dot.shape(), x_hat.shape());
        let n = count(x_hat.nrows());
        // [A, B, Ȧ, Ḃ] per column, summed row after row as in batch_norm_vjp.
        let mut sums = Array1::from_elem(x_hat.ncols(), [T::ZERO; 4]);
        for (((g, g_dot), h), h_dot) in g
            .rows()
            .into_iter()
            .zip(g_dot.rows())
            .zip(x_hat.rows())
            .zip(x_hat_dot.rows())
        {
            Zip::from(&mut sums)
                .and(&g)
                .and(&g_dot)
                .and(&h)
                .and(&h_dot)
                .for_each(|[a, b, a_dot, b_dot], &g, &g_dot, &h, &h_dot| {
                    *a += g;
                    *b += g * h;
                    *a_dot += g_dot;
                    *b_dot += g_dot * h + g * h_dot;
                });
        }
        // [a, A/N, B/N, ȧ, Ȧ/N, Ḃ/N] per column.
        let coefficients =
            Zip::from(&columns)
                .and(&sums)
                .map_collect(|column, &[a, b, a_dot, b_dot]| {
                    let scale = column.gamma * column.r;
                    let scale_dot = (column.gamma_dot + column.gamma * column.rho) * column.r;
                    [scale, a / n, b / n, scale_dot, a_dot / n, b_dot / n]
                });
        Zip::from(&mut g)
            .and(&mut g_dot)
            .and(&x_hat)
            .and(&x_hat_dot)
            .and_broadcast(&coefficients)
            .for_each(|g, g_dot, &h, &h_dot, &[a, b, c, a_dot, b_dot, c_dot]| {
                let centred = (*g - b) - h * c;
                *g_dot = a_dot * centred + a * (((*g_dot - b_dot) - h_dot * c) - h * c_dot);
                *g = a * centred;
            });
        let (d_eps, d_eps_dot) = Zip::from(&columns).and(&sums).fold(
            (T::ZERO, T::ZERO),
            |(s, s_dot), column, &[_, b, _, b_dot]| {
                let (gamma, r2) = (column.gamma, column.r * column.r);
                let two = T::ONE + T::ONE;
                let change = (column.gamma_dot * b + two * gamma * column.rho * b) + gamma * b_dot;
                (s + gamma * b * r2, s_dot + r2 * change)
            },
        );
        let half = <T as Real>::from_f64(0.5);
        let pick = |k: usize| sums.mapv(|s| s[k]);
        (
            (g, pick(1), pick(0), -half * d_eps),
            (g_dot, pick(3), pick(2), -half * d_eps_dot),
        )
    };
    (y, dy, pullback)
}

/// The per-column quantities of batch normalization's forward mode: the statistics, their
/// tangents (as in [`batch_norm_jvp`]) and the parameters with their tangents.
#[derive(Clone, Copy, Debug)]
struct BatchColumn<T> {
    mu: T,
    r: T,
    mu_dot: T,
    /// `ṙ/r`.
    rho: T,
    gamma: T,
    gamma_dot: T,
    beta: T,
    beta_dot: T,
}

/// batch_norm's arguments `(x, γ, β, ε)`.
type BatchArgs<'a, S1, S2, S3, T> = (
    &'a ArrayBase<S1, Ix2>,
    &'a ArrayBase<S2, Ix1>,
    &'a ArrayBase<S3, Ix1>,
    T,
);

/// The tangents of batch_norm's arguments `(ẋ, γ̇, β̇, ε̇)`.
type BatchTangents<'a, T> = (&'a Array2<T>, &'a Array1<T>, &'a Array1<T>, T);

impl<T: NdReal> BatchColumn<T> {
    /// Every column's quantities, after checking the shapes: the statistics as in
    /// [`batch_norm`], then one pass over the batch for `Σᵢ ẋᵢ` and `Σᵢ x̂ᵢ·ẋᵢ`.
    fn of<S1, S2, S3>(
        what: &str,
        (x, gamma, beta, eps): BatchArgs<'_, S1, S2, S3, T>,
        (dx, dgamma, dbeta, deps): BatchTangents<'_, T>,
    ) -> Array1<Self>
    where
        S1: Data<Elem = T>,
        S2: Data<Elem = T>,
        S3: Data<Elem = T>,
    {
        let (mu, r) = batch_statistics(what, x, gamma, beta, eps);
        check_tangent(what, "x", dx.shape(), x.shape());
        check_tangent(what, "gamma", dgamma.shape(), gamma.shape());
        check_tangent(what, "beta", dbeta.shape(), beta.shape());
        let mut sums = Array1::from_elem(x.ncols(), (T::ZERO, T::ZERO));
        for (x, dx) in x.rows().into_iter().zip(dx.rows()) {
            Zip::from(&mut sums)
                .and(&x)
                .and(&dx)
                .and(&mu)
                .and(&r)
                .for_each(|(s, s_h), &x, &dx, &m, &r| {
                    *s += dx;
                    *s_h += ((x - m) * r) * dx;
                });
        }
        let n = count(x.nrows());
        let half = <T as Real>::from_f64(0.5);
        Array1::from_shape_fn(x.ncols(), |j| {
            let (s, s_h) = sums[j];
            let r = r[j];
            BatchColumn {
                mu: mu[j],
                r,
                mu_dot: s / n,
                rho: -(r * (s_h / n)) - half * (r * r) * deps,
                gamma: gamma[j],
                gamma_dot: dgamma[j],
                beta: beta[j],
                beta_dot: dbeta[j],
            }
        })
    }

    /// `(x̂, x̂̇)` of one element `x` with tangent `ẋ`.
    #[inline(always)]
    fn standardize(&self, x: T, dx: T) -> (T, T) {
        let h = (x - self.mu) * self.r;
        (h, self.r * (dx - self.mu_dot) + h * self.rho)
    }

    /// `(y, ẏ) = (γ·x̂ + β, γ̇·x̂ + γ·x̂̇ + β̇)`.
    #[inline(always)]
    fn affine(&self, h: T, h_dot: T) -> (T, T) {
        (
            self.gamma * h + self.beta,
            (self.gamma_dot * h + self.gamma * h_dot) + self.beta_dot,
        )
    }
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
    let r = var.mapv(|v| T::ONE / Real::sqrt(&(v / n + eps)));
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
    if Real::is_finite(&max) { max } else { T::ZERO }
}

/// `⟨a, b⟩` of two lanes, summed in order.
#[inline]
fn lane_inner<T: NdReal>(a: ArrayView1<'_, T>, b: ArrayView1<'_, T>) -> T {
    Zip::from(&a).and(&b).fold(T::ZERO, |s, &a, &b| s + a * b)
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
