//! Projection onto a box, for constrained problems `min f(x) subject to lo ≤ xᵢ ≤ hi`.
//!
//! Projected gradient methods take an unconstrained step and then map the result back to the
//! nearest feasible point. For a box that map is clipping each coordinate, and it is the nearest
//! point under any diagonally weighted norm too — so clipping is also the weighted projection
//! `Π_{F,√V̂}` that Reddi, Kale & Kumar (2018) use for Adam and AMSGrad.

use super::Optimizer;
use crate::{Differentiable, Real};

/// The box `[lo, hi]ⁿ`: the same bounds for every scalar of the parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxProjection {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound, `≥ lo`.
    pub hi: f64,
}

impl BoxProjection {
    /// The box `[lo, hi]ⁿ`.
    ///
    /// # Panics
    ///
    /// If `lo > hi` or either bound is NaN.
    #[track_caller]
    pub fn new(lo: f64, hi: f64) -> Self {
        let b = Self { lo, hi };
        b.validate();
        b
    }

    #[track_caller]
    fn validate(&self) {
        assert!(
            self.lo <= self.hi,
            "BoxProjection: needs lo ≤ hi (and neither NaN), got lo = {}, hi = {}",
            self.lo,
            self.hi
        );
    }

    /// Clips every scalar of `params` to `[lo, hi]`: the Euclidean projection onto the box.
    /// NaNs stay NaN.
    ///
    /// ```
    /// use autodiff_runtime::optim::BoxProjection;
    ///
    /// let mut x = vec![-3.0, 0.25, 7.0];
    /// BoxProjection::new(-1.0, 1.0).project(&mut x);
    /// assert_eq!(x, vec![-1.0, 0.25, 1.0]);
    /// ```
    pub fn project<P: Differentiable>(&self, params: &mut P) {
        // `zip_leaves_mut` is the only mutable walk over the leaves; it needs a partner of the
        // same shape, so this allocates one zero-filled copy (`Projected` reuses the gradient).
        let partner = params.zero_like();
        self.project_with(params, &partner);
    }

    /// Clips `params`, walking the leaves beside `partner`, any value shaped like them.
    fn project_with<P: Differentiable>(&self, params: &mut P, partner: &P) {
        self.validate();
        let lo = P::Scalar::of_f64(self.lo);
        let hi = P::Scalar::of_f64(self.hi);
        params.zip_leaves_mut(partner, &mut |x, _| {
            for x in x {
                if *x < lo {
                    *x = lo;
                } else if *x > hi {
                    *x = hi;
                }
            }
        });
    }

    /// `true` if every scalar of `params` lies in `[lo, hi]`.
    pub fn contains<P: Differentiable>(&self, params: &P) -> bool {
        let mut inside = true;
        params.visit_leaves(&mut |x| {
            inside &= x
                .iter()
                .all(|&x| x.as_f64() >= self.lo && x.as_f64() <= self.hi);
        });
        inside
    }
}

/// An optimizer followed by a projection onto a box: projected (stochastic) gradient descent in
/// general, and the `x_{t+1} = Π_F(x_t − …)` of the online-learning analyses of Adam.
///
/// ```text
/// x_{t+1} = clip(inner_update(x_t, g_t), lo, hi)
/// ```
///
/// ```
/// use autodiff_runtime::optim::{BoxProjection, Optimizer, Projected, Sgd, SgdConfig};
///
/// // min (x − 3)² over x ∈ [−1, 1]: the answer is the boundary point 1.
/// let mut x = 0.0;
/// let mut opt = Projected::new(
///     Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }),
///     BoxProjection::new(-1.0, 1.0),
/// );
/// for _ in 0..100 {
///     let g = 2.0 * (x - 3.0);
///     opt.step(&mut x, &g);
/// }
/// assert_eq!(x, 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct Projected<O> {
    inner: O,
    projection: BoxProjection,
}

impl<O> Projected<O> {
    /// Wraps `inner` so that every step ends with `projection`.
    pub fn new(inner: O, projection: BoxProjection) -> Self {
        projection.validate();
        Self { inner, projection }
    }

    /// The wrapped optimizer.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The wrapped optimizer, e.g. to change its configuration between steps.
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.inner
    }

    /// The box.
    pub fn projection(&self) -> &BoxProjection {
        &self.projection
    }

    /// Unwraps the optimizer.
    pub fn into_inner(self) -> O {
        self.inner
    }
}

impl<P: Differentiable, O: Optimizer<P>> Optimizer<P> for Projected<O> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.inner.step(params, grads);
        self.projection.project_with(params, grads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Adam, AdamConfig};

    #[test]
    fn project_clips_every_leaf() {
        let mut p = (
            vec![-2.0, 0.5],
            ndarray::arr2(&[[3.0, -0.1], [1.0, -1.5]]),
            9.0,
        );
        let b = BoxProjection::new(-1.0, 1.0);
        assert!(!b.contains(&p));
        b.project(&mut p);
        assert_eq!(p.0, vec![-1.0, 0.5]);
        assert_eq!(p.1, ndarray::arr2(&[[1.0, -0.1], [1.0, -1.0]]));
        assert_eq!(p.2, 1.0);
        assert!(b.contains(&p));
    }

    #[test]
    fn projection_keeps_nan_visible() {
        let mut x = vec![f64::NAN, 2.0];
        BoxProjection::new(0.0, 1.0).project(&mut x);
        assert!(x[0].is_nan());
        assert_eq!(x[1], 1.0);
    }

    #[test]
    fn projected_step_is_inner_step_then_clip() {
        // Adam's first step moves each coordinate by −α·sign(g) (up to ε): from (0.95, 0)
        // with g = (−1, 1) and α = 0.1 that is (1.05, −0.1), clipped to (1, −0.1).
        let mut x = vec![0.95, 0.0];
        let mut opt = Projected::new(
            Adam::new(AdamConfig {
                lr: 0.1,
                ..Default::default()
            }),
            BoxProjection::new(-1.0, 1.0),
        );
        opt.step(&mut x, &vec![-1.0, 1.0]);
        assert_eq!(x[0], 1.0);
        assert!((x[1] + 0.1).abs() < 1e-8, "{}", x[1]);
        assert_eq!(opt.inner().steps(), 1);
    }

    #[test]
    #[should_panic(expected = "BoxProjection: needs lo ≤ hi")]
    fn inverted_box_is_rejected() {
        let _ = BoxProjection::new(1.0, -1.0);
    }
}
