//! The losses `mse` and `cross_entropy`, each a scalar of a batch, with their rules and the
//! checks of their arguments (matching shapes, labels in range).

use ndarray::{Array, Array2, ArrayBase, Data, Dimension, Ix2, Zip};

use super::checks::check_tangent;
use super::exponentials::{lane_inner, shift_and_log_sum, softmax_jacobian, softmax_lanes};
use super::{NdReal, count};

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
/// [`log_sum_exp`](super::log_sum_exp) of a row, evaluated stably. `N = 0` gives `NaN`.
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
