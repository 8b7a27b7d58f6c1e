//! The rules of exact mode at kinks (`#[differentiate(kinks = exact)]`, see [`crate::kinks`]):
//! `f_vjp_along(args.., tangents..) -> (f(..), ẏ, pullback)`, what a function in that mode
//! calls for `f`. The tangents (one per differentiable parameter, as for `f_jvp`) give the
//! direction; `relu` takes at its kink the piece that direction enters, and the pullback sends
//! the cotangent through that piece. The other functions are smooth.

use ndarray::{Array, Array1, Array2, ArrayBase, Data, Dimension, Ix1, Ix2};

use super::*;
use crate::kinks::smooth_along;

/// [`relu`] in exact mode at kinks: the value, the one-sided directional derivative
/// `ẏ = relu′(x; ẋ)` along the tangent `dx`, and the pullback through the piece that `ẋ`
/// enters. Elementwise, the piece is the identity where `x > 0` (or NaN), or `x = 0` and
/// `ẋ > 0`; zero elsewhere, also where `x = 0` and `ẋ = 0` (as [`relu_vjp`]). So `ẏ = max(ẋ, 0)`
/// at the kink, and `ȳ ↦ relu′·ȳ` with `relu′ ∈ {0, 1}` the chosen piece's slope, exactly `0`
/// where it is the zero piece. The value is [`relu`]'s, bit for bit.
///
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (y, dy, pullback) = nn::relu_vjp_along(&array![0.0, 0.0, 2.0], &array![1.0, -1.0, -1.0]);
/// assert_eq!((y, dy), (array![0.0, 0.0, 2.0], array![1.0, 0.0, -1.0]));
/// assert_eq!(pullback(array![5.0, 5.0, 5.0]), array![5.0, 0.0, 5.0]);
/// ```
///
/// # Panics
///
/// If `dx` is not shaped like `x`; the pullback, if the cotangent is not shaped like the value.
#[allow(clippy::type_complexity)] // the value, its tangent and the pullback, spelled out
pub fn relu_vjp_along<X: Elementwise>(
    x: &X,
    dx: &X::Output,
) -> (
    X::Output,
    X::Output,
    impl FnOnce(X::Output) -> X::Output + use<X>,
) {
    let [y, dy, d] = x.map_with_tangent("relu_vjp_along", dx, |x, t| {
        // `plain` is 1 where `x > 0` or NaN.
        let (y, plain) = relu_and_derivative(x);
        let zero = <X::Elem as Real>::ZERO;
        let d = if plain > zero || (x == zero && t > zero) {
            <X::Elem as Real>::ONE
        } else {
            zero
        };
        [y, relu_select(t, d), d]
    });
    (y, dy, move |g| {
        X::zip_with("relu_vjp_along", g, &d, relu_select)
    })
}

smooth_along! {
    sigmoid_vjp_along = sigmoid_jvp + sigmoid_vjp of "sigmoid";
    <X: Elementwise> (x: &X) (dx: &X::Output) -> X::Output,
    |X::Output| -> X::Output, use<X>;

    softplus_vjp_along = softplus_jvp + softplus_vjp of "softplus";
    <X: Elementwise> (x: &X) (dx: &X::Output) -> X::Output,
    |X::Output| -> X::Output, use<X>;

    softmax_vjp_along = softmax_jvp + softmax_vjp of "softmax";
    <S, T, D> (z: &ArrayBase<S, D>) (dz: &Array<T, D>) -> Array<T, D>,
    |Array<T, D>| -> Array<T, D>, use<S, T, D>
    where S: Data<Elem = T>, T: NdReal, D: Dimension;

    log_softmax_vjp_along = log_softmax_jvp + log_softmax_vjp of "log_softmax";
    <S, T, D> (z: &ArrayBase<S, D>) (dz: &Array<T, D>) -> Array<T, D>,
    |Array<T, D>| -> Array<T, D>, use<S, T, D>
    where S: Data<Elem = T>, T: NdReal, D: Dimension;

    log_sum_exp_vjp_along = log_sum_exp_jvp + log_sum_exp_vjp of "log_sum_exp";
    <Z: LogSumExp> (z: &Z) (dz: &Z::Grad) -> Z::Output,
    |Z::Output| -> Z::Grad, use<Z>;

    mse_vjp_along = mse_jvp + mse_vjp of "mse";
    <S1, S2, T, D> (prediction: &ArrayBase<S1, D>, target: &ArrayBase<S2, D>)
    (dprediction: &Array<T, D>, dtarget: &Array<T, D>) -> T,
    |T| -> (Array<T, D>, Array<T, D>), use<S1, S2, T, D>
    where S1: Data<Elem = T>, S2: Data<Elem = T>, T: NdReal, D: Dimension;

    cross_entropy_vjp_along = cross_entropy_jvp + cross_entropy_vjp of "cross_entropy";
    <S, T> (logits: &ArrayBase<S, Ix2>, labels: &[usize]) (dlogits: &Array2<T>) -> T,
    |T| -> Array2<T>, use<S, T>
    where S: Data<Elem = T>, T: NdReal;

    batch_norm_vjp_along = batch_norm_jvp + batch_norm_vjp of "batch_norm";
    <S1, S2, S3, T>
    (x: &ArrayBase<S1, Ix2>, gamma: &ArrayBase<S2, Ix1>, beta: &ArrayBase<S3, Ix1>, eps: T)
    (dx: &Array2<T>, dgamma: &Array1<T>, dbeta: &Array1<T>, deps: T) -> Array2<T>,
    |Array2<T>| -> (Array2<T>, Array1<T>, Array1<T>, T), use<S1, S2, S3, T>
    where S1: Data<Elem = T>, S2: Data<Elem = T>, S3: Data<Elem = T>, T: NdReal;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn relu_takes_the_piece_the_tangent_enters() {
        // At 0: ẋ > 0 enters the identity, ẋ < 0 and ẋ = 0 the zero piece.
        let x = array![0.0, 0.0, 0.0, -1.0, 3.0, f64::NAN];
        let dx = array![2.0, -2.0, 0.0, 5.0, -5.0, 1.0];
        let (y, dy, pullback) = relu_vjp_along(&x, &dx);
        assert_eq!(y.slice(ndarray::s![..5]), array![0.0, 0.0, 0.0, 0.0, 3.0]);
        assert!(y[5].is_nan());
        // ẏ = relu′(x; ẋ): max(ẋ, 0) at the kink, the slope times ẋ elsewhere.
        assert_eq!(dy.slice(ndarray::s![..5]), array![2.0, 0.0, 0.0, 0.0, -5.0]);
        let g = pullback(array![1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(g, array![1.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
        // The value is relu's, bit for bit (relu(−0) = +0).
        let (y, _, _) = relu_vjp_along(&-0.0_f64, &1.0);
        assert_eq!(y.to_bits(), relu(&-0.0_f64).to_bits());
    }

    #[test]
    fn smooth_functions_are_their_forward_and_reverse_rules() {
        let z = array![[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]];
        let dz = array![[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]];
        let (y, dy, pullback) = softmax_vjp_along(&z, &dz);
        let (y2, dy2) = softmax_jvp(&z, &dz);
        let (_, pullback2) = softmax_vjp(&z);
        assert_eq!((y, dy), (y2, dy2));
        assert_eq!(pullback(dz.clone()), pullback2(dz));
    }
}
