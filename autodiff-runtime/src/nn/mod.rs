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

use ndarray::NdFloat;

pub use self::activations::*;
pub use self::along::*;
pub use self::exponentials::*;
pub use self::losses::*;
pub use self::normalization::*;
pub use self::reductions::*;
use crate::differentiable::Real;

mod activations;
mod along;
pub(crate) mod checks;
mod exponentials;
mod losses;
mod normalization;
mod reductions;
#[cfg(test)]
pub(crate) mod testing;

/// The scalar types of this module: [`Real`] (`f32`, `f64`) with ndarray's [`NdFloat`]
/// arithmetic and float functions.
pub trait NdReal: Real + NdFloat {}

impl<T: Real + NdFloat> NdReal for T {}

mod sealed {
    pub trait Sealed {}
}

/// `n` as a scalar.
#[inline]
fn count<T: Real>(n: usize) -> T {
    T::of_f64(n as f64)
}

#[cfg(test)]
mod tests;
