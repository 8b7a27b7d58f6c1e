//! `log_sum_exp` along the last axis and the [`LogSumExp`] trait that maps an array to the
//! shape it reduces to (a vector to a scalar, a matrix to a vector, ...). Apart from softmax
//! because of that trait, whose per-dimension implementations are most of this file; the lane
//! kernels it uses are in `exponentials`.

use ndarray::{Array, Array1, ArrayBase, Axis, Data, Dimension, Ix1, Ix2, Ix3, Zip, arr0};

use super::checks::{check_cotangent, check_tangent};
use super::exponentials::{lane_inner, last_axis, lse_lane, softmax_jacobian, softmax_lanes};
use super::{NdReal, sealed};

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
