//! The rules of the largest and smallest element along an axis: `x.fold_axis(axis, init, |&a,
//! &b| a.max(b))` (the row maxima of the max trick in a softmax) and its `min` twin.
//!
//! `#[differentiate]` writes such a fold as `extremum::max_axis(x.view(), axis, init)`
//! (`min_axis`), a call differentiated like any other through the module's `_vjp`, `_jvp`,
//! `_vjp_jvp` and `_vjp_along`. Each lane's result is one of its elements or `init`, so the
//! function is linear near `x` where that candidate is unique: the cotangent goes to it. Where
//! several candidates tie, it is split equally among them, the minimum-norm element of the
//! Clarke generalized gradient as for `max` and `min` of two scalars; in exact mode at kinks
//! (`_vjp_along`) among those the direction moves furthest (the directional derivative of a
//! maximum is the largest directional derivative of the tied candidates).
//!
//! ```
//! use autodiff_runtime::__private::extremum;
//! use ndarray::{Axis, array};
//!
//! let x = array![[1.0, 3.0, 2.0], [5.0, 4.0, 5.0]];
//! let (y, pullback) = extremum::max_axis_vjp(x.view(), Axis(1), f64::NEG_INFINITY);
//! assert_eq!(y, array![3.0, 5.0]);
//! let (x_bar, init_bar) = pullback(array![1.0, 2.0]);
//! assert_eq!((x_bar, init_bar), (array![[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]], 0.0));
//! ```

use ndarray::{Array, ArrayView, Axis, RemoveAxis, Zip};

use crate::differentiable::Real;

/// `a.max(b)` (`a.min(b)` where `largest` is false) of floats: the other operand where one is
/// NaN, as `f64::max` does.
fn pick<T: Real>(largest: bool, a: T, b: T) -> T {
    #[allow(clippy::eq_op)] // NaN is the value not equal to itself
    let a_nan = a != a;
    if a_nan || (largest && b > a) || (!largest && b < a) {
        b
    } else {
        a
    }
}

/// The extremum of each lane along `axis` and of `init`, with the weights of the candidates in
/// it: `1/k` for each of the `k` candidates equal to it (of those, the ones the direction `dir`
/// moves furthest, where given), 0 for the others.
fn weighted<T: Real, D: RemoveAxis>(
    x: &ArrayView<'_, T, D>,
    axis: Axis,
    init: T,
    largest: bool,
    dir: Option<(&Array<T, D>, T)>,
) -> (Array<T, D::Smaller>, Weights<T, D>) {
    let mut w = Array::<T, D>::zeros(x.raw_dim());
    let smaller = x.raw_dim().remove_axis(axis);
    let mut y = Array::<T, D::Smaller>::zeros(smaller.clone());
    let mut w_init = Array::<T, D::Smaller>::zeros(smaller);
    let zero_dir;
    let (dir, d_init) = match dir {
        Some((d, d_init)) => (d.view(), d_init),
        None => {
            zero_dir = Array::<T, D>::zeros(x.raw_dim());
            (zero_dir.view(), T::ZERO)
        }
    };
    Zip::from(x.lanes(axis))
        .and(dir.lanes(axis))
        .and(w.lanes_mut(axis))
        .and(&mut y)
        .and(&mut w_init)
        .for_each(|lx, ld, mut lw, y, wi| {
            let m = lx.iter().fold(init, |a, &b| pick(largest, a, b));
            *y = m;
            // The candidates: `init`, then the lane's elements, each with its direction.
            let candidates = || {
                std::iter::once((init, d_init)).chain(lx.iter().copied().zip(ld.iter().copied()))
            };
            let Some(best) = candidates()
                .filter(|&(v, _)| v == m)
                .map(|(_, d)| d)
                .reduce(|a, b| pick(largest, a, b))
            else {
                return;
            };
            let tied = |(v, d): (T, T)| v == m && d == best;
            let k = candidates().filter(|&c| tied(c)).count();
            let share = T::ONE / T::of_f64(k as f64);
            if tied((init, d_init)) {
                *wi = share;
            }
            for ((&v, &d), e) in lx.iter().zip(ld).zip(lw.iter_mut()) {
                if tied((v, d)) {
                    *e = share;
                }
            }
        });
    let weights = Weights {
        x: w,
        init: w_init,
        axis,
    };
    (y, weights)
}

/// The weights of the elements and of the initial value in each lane's extremum.
struct Weights<T, D: RemoveAxis> {
    x: Array<T, D>,
    init: Array<T, D::Smaller>,
    axis: Axis,
}

impl<T: Real, D: RemoveAxis> Weights<T, D> {
    /// The cotangent of the extrema spread to the elements and to the initial value.
    fn spread(&self, g: &Array<T, D::Smaller>) -> (Array<T, D>, T) {
        let mut out = self.x.clone();
        Zip::from(out.lanes_mut(self.axis))
            .and(g)
            .for_each(|mut lane, &gi| lane.mapv_inplace(|v| v * gi));
        (out, (&self.init * g).sum())
    }

    /// The tangent of the extrema: each lane's weighted sum of the tangents.
    #[track_caller]
    fn along(&self, dx: &Array<T, D>, d_init: T) -> Array<T, D::Smaller> {
        assert!(
            self.x.shape() == dx.shape(),
            "extremum jvp: a tangent of shape {:?} for an argument of shape {:?}",
            dx.shape(),
            self.x.shape()
        );
        let mut dy = (&self.x * dx).sum_axis(self.axis);
        dy.zip_mut_with(&self.init, |t, &w| *t += w * d_init);
        dy
    }
}

/// The extrema, their tangent and the weights: the tangent averaged over tied candidates, or
/// (`exact`) taken from those the direction moves furthest.
#[track_caller]
#[allow(clippy::type_complexity)]
fn with_tangent<T: Real, D: RemoveAxis>(
    x: &ArrayView<'_, T, D>,
    axis: Axis,
    init: T,
    largest: bool,
    (dx, d_init): (&Array<T, D>, T),
    exact: bool,
) -> (Array<T, D::Smaller>, Array<T, D::Smaller>, Weights<T, D>) {
    let (y, w) = weighted(x, axis, init, largest, exact.then_some((dx, d_init)));
    let dy = w.along(dx, d_init);
    (y, dy, w)
}

/// The module's functions for one extremum: the largest candidate where `$largest`.
macro_rules! extremum {
    ($name:ident, $vjp:ident, $jvp:ident, $vjp_jvp:ident, $vjp_along:ident, $largest:literal, $what:literal, $pick:literal) => {
        #[doc = concat!("The ", $what, " of `init` and the elements of each lane of `x` along \
                         `axis`: `x.fold_axis(axis, init, |&a, &b| a.", $pick, "(b))`.")]
        pub fn $name<T: Real, D: RemoveAxis>(x: ArrayView<'_, T, D>, axis: Axis, init: T) -> Array<T, D::Smaller> {
            weighted(&x, axis, init, $largest, None).0
        }

        #[doc = concat!("[`", stringify!($name), "`] and its pullback, which gives each lane's \
                         cotangent to its ", $what, " element or to `init` (split among ties).")]
        #[allow(clippy::type_complexity)]
        pub fn $vjp<T: Real, D: RemoveAxis>(
            x: ArrayView<'_, T, D>,
            axis: Axis,
            init: T,
        ) -> (Array<T, D::Smaller>, impl FnOnce(Array<T, D::Smaller>) -> (Array<T, D>, T) + use<T, D>) {
            let (y, w) = weighted(&x, axis, init, $largest, None);
            (y, move |g| w.spread(&g))
        }

        #[doc = concat!("[`", stringify!($name), "`] and its tangent, that of each lane's ", $what, " \
                         (averaged over ties).")]
        ///
        /// # Panics
        ///
        /// Where the tangent is not shaped like `x`.
        #[track_caller]
        pub fn $jvp<T: Real, D: RemoveAxis>(
            x: ArrayView<'_, T, D>,
            axis: Axis,
            init: T,
            dx: &Array<T, D>,
            d_init: T,
        ) -> (Array<T, D::Smaller>, Array<T, D::Smaller>) {
            let (y, dy, _) = with_tangent(&x, axis, init, $largest, (dx, d_init), false);
            (y, dy)
        }

        #[doc = concat!("[`", stringify!($jvp), "`] and the pullback of a Hessian-vector product: \
                         the function is linear near `x`, so the cotangent and its tangent are \
                         spread the same way.")]
        ///
        /// # Panics
        ///
        /// As the tangent's.
        #[track_caller]
        #[allow(clippy::type_complexity)]
        pub fn $vjp_jvp<T: Real, D: RemoveAxis>(
            x: ArrayView<'_, T, D>,
            axis: Axis,
            init: T,
            dx: &Array<T, D>,
            d_init: T,
        ) -> (
            Array<T, D::Smaller>,
            Array<T, D::Smaller>,
            impl FnOnce(Array<T, D::Smaller>, Array<T, D::Smaller>) -> ((Array<T, D>, T), (Array<T, D>, T))
            + use<T, D>,
        ) {
            let (y, dy, w) = with_tangent(&x, axis, init, $largest, (dx, d_init), false);
            (y, dy, move |g, dg| (w.spread(&g), w.spread(&dg)))
        }

        #[doc = concat!("[`", stringify!($name), "`] in exact mode at kinks: among tied candidates, \
                         those the direction moves furthest take the cotangent, and the tangent \
                         is theirs.")]
        ///
        /// # Panics
        ///
        /// As the tangent's.
        #[track_caller]
        #[allow(clippy::type_complexity)]
        pub fn $vjp_along<T: Real, D: RemoveAxis>(
            x: ArrayView<'_, T, D>,
            axis: Axis,
            init: T,
            dx: &Array<T, D>,
            d_init: T,
        ) -> (
            Array<T, D::Smaller>,
            Array<T, D::Smaller>,
            impl FnOnce(Array<T, D::Smaller>) -> (Array<T, D>, T) + use<T, D>,
        ) {
            let (y, dy, w) = with_tangent(&x, axis, init, $largest, (dx, d_init), true);
            (y, dy, move |g| w.spread(&g))
        }
    };
}

extremum!(
    max_axis,
    max_axis_vjp,
    max_axis_jvp,
    max_axis_vjp_jvp,
    max_axis_vjp_along,
    true,
    "largest",
    "max"
);
extremum!(
    min_axis,
    min_axis_vjp,
    min_axis_jvp,
    min_axis_vjp_jvp,
    min_axis_vjp_along,
    false,
    "smallest",
    "min"
);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ties_share_the_cotangent_and_the_direction_breaks_them() {
        let x = array![[2.0, 2.0, 1.0], [0.0, -1.0, -1.0]];
        let (y, pb) = min_axis_vjp(x.view(), Axis(1), f64::INFINITY);
        assert_eq!(y, array![1.0, -1.0]);
        assert_eq!(
            pb(array![1.0, 4.0]),
            (array![[0.0, 0.0, 1.0], [0.0, 2.0, 2.0]], 0.0)
        );
        let (y, pb) = max_axis_vjp(x.view(), Axis(0), f64::NEG_INFINITY);
        assert_eq!(y, array![2.0, 2.0, 1.0]);
        let rows = array![[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]];
        assert_eq!(pb(array![1.0, 1.0, 1.0]), (rows, 0.0));
        // The initial value takes part: it wins row 1 and ties row 0's maxima.
        let (y, pb) = max_axis_vjp(x.view(), Axis(1), 2.0);
        assert_eq!(y, array![2.0, 2.0]);
        let third = 1.0 / 3.0;
        let (x_bar, init_bar) = pb(array![1.0, 1.0]);
        assert_eq!(x_bar, array![[third, third, 0.0], [0.0, 0.0, 0.0]]);
        assert_eq!(init_bar, 1.0 + third);
        // Along a direction that raises the first of the tied maxima of row 0: it alone moves.
        let dx = array![[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]];
        let (_, dy, pb) = max_axis_vjp_along(x.view(), Axis(1), f64::NEG_INFINITY, &dx, 0.0);
        assert_eq!(dy, array![1.0, 0.0]);
        assert_eq!(
            pb(array![1.0, 1.0]).0,
            array![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
        );
        let (_, dy) = max_axis_jvp(x.view(), Axis(1), f64::NEG_INFINITY, &dx, 0.0);
        assert_eq!(dy, array![0.75, 0.0]);
        // An empty lane gives the initial value.
        let e = Array::<f64, _>::zeros((2, 0));
        assert_eq!(max_axis(e.view(), Axis(1), -3.0), array![-3.0, -3.0]);
    }
}
