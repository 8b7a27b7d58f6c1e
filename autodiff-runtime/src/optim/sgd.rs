//! Plain (stochastic) gradient descent: the baseline every other optimizer modifies.

use super::{LeafState, Optimizer, Schedule, cast, check_lr};
use crate::{Differentiable, Real};

/// Hyper-parameters of [`Sgd`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Base step size `α` (default `0.01`, as Keras' `SGD`).
    pub lr: f64,
    /// Step-size schedule: step `t` uses `α_t = α · schedule.factor(t)` (default
    /// [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            schedule: Schedule::Constant,
        }
    }
}

impl SgdConfig {
    #[track_caller]
    fn validate(&self) {
        check_lr("Sgd", self.lr, &self.schedule);
    }
}

/// Stochastic gradient descent with a step-size schedule.
///
/// With `g_t` the gradient passed to step `t = 0, 1, …`:
///
/// ```text
/// α_t     = lr · schedule.factor(t)
/// x_{t+1} = x_t − α_t · g_t
/// ```
///
/// It keeps no state besides the step count, but like every optimizer it belongs to the leaf
/// structure of the parameters of its first step.
///
/// ```
/// use autodiff_runtime::optim::{Optimizer, Schedule, Sgd, SgdConfig};
///
/// // f(x) = ½x², gradient x.
/// let mut x = 1.0_f64;
/// let mut opt = Sgd::new(SgdConfig { lr: 0.5, schedule: Schedule::InverseTime { decay: 1.0 } });
/// let g = x;
/// opt.step(&mut x, &g); // α₀ = 0.5:  x = 1 − 0.5·1 = 0.5
/// let g = x;
/// opt.step(&mut x, &g); // α₁ = 0.25: x = 0.5 − 0.25·0.5 = 0.375
/// assert_eq!(x, 0.375);
/// ```
#[derive(Debug, Clone)]
pub struct Sgd<S: Real = f64> {
    config: SgdConfig,
    t: u64,
    state: LeafState<S, 0>,
}

optimizer_common!(Sgd, SgdConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for Sgd<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let a: S = cast(self.step_size());
        self.state.update("Sgd", params, grads, |x, g, _| {
            for (x, &g) in x.iter_mut().zip(g) {
                *x -= a * g;
            }
        });
        self.t += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Gradient of f(x) = ½ xᵀAx − bᵀx with A = [[3, 1], [1, 2]], b = (1, −1).
    fn grad(x: &[f64; 2]) -> [f64; 2] {
        [3.0 * x[0] + x[1] - 1.0, x[0] + 2.0 * x[1] + 1.0]
    }

    #[test]
    fn first_three_updates_match_the_update_equations() {
        // x_{t+1} = x_t − α_t ∇f(x_t), α_t = α/(1 + k t), with α = 0.1, k = 0.5.
        let (alpha, k) = (0.1, 0.5);
        let mut expected = [0.5, -0.25];
        let mut x = expected;
        let mut opt = Sgd::new(SgdConfig {
            lr: alpha,
            schedule: Schedule::InverseTime { decay: k },
        });
        for t in 0..3 {
            let a_t = alpha / (1.0 + k * t as f64);
            let g = grad(&expected);
            expected = [expected[0] - a_t * g[0], expected[1] - a_t * g[1]];
            let g = grad(&x);
            opt.step(&mut x, &g);
            assert_relative_eq!(x[0], expected[0], max_relative = 1e-14);
            assert_relative_eq!(x[1], expected[1], max_relative = 1e-14);
        }
        assert_eq!(opt.steps(), 3);
    }

    #[test]
    fn step_decay_schedule_is_applied() {
        // f(x) = x, gradient 1: x_{t+1} = x_t − α γ^⌊t/2⌋.
        let mut x = 0.0;
        let mut opt = Sgd::new(SgdConfig {
            lr: 1.0,
            schedule: Schedule::Step {
                every: 2,
                gamma: 0.5,
            },
        });
        let mut expected = 0.0;
        for t in 0..6 {
            expected -= 0.5f64.powi(t / 2);
            opt.step(&mut x, &1.0);
            assert_eq!(x, expected);
        }
    }

    #[test]
    fn works_in_f32_on_ndarray_and_tuples() {
        let mut p = (ndarray::arr1(&[1.0f32, 2.0]), 3.0f32);
        let g = (ndarray::arr1(&[1.0f32, -1.0]), 2.0f32);
        let mut opt = Sgd::new(SgdConfig {
            lr: 0.5,
            ..Default::default()
        });
        opt.step(&mut p, &g);
        assert_eq!(p.0, ndarray::arr1(&[0.5f32, 2.5]));
        assert_eq!(p.1, 2.0);
    }

    #[test]
    #[should_panic(expected = "Sgd::step: the parameters' leaf structure changed")]
    fn changing_structure_panics() {
        let mut opt = Sgd::default();
        let mut x = vec![1.0, 2.0];
        opt.step(&mut x, &vec![0.0, 0.0]);
        let mut y = vec![1.0, 2.0, 3.0];
        opt.step(&mut y, &vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn reset_allows_a_new_structure() {
        let mut opt = Sgd::new(SgdConfig {
            lr: 1.0,
            ..Default::default()
        });
        let mut x = vec![1.0, 2.0];
        opt.step(&mut x, &vec![1.0, 1.0]);
        opt.reset();
        assert_eq!(opt.steps(), 0);
        let mut y = vec![1.0, 2.0, 3.0];
        opt.step(&mut y, &vec![1.0, 1.0, 1.0]);
        assert_eq!(y, vec![0.0, 1.0, 2.0]);
    }

    #[test]
    #[should_panic(expected = "Sgd: `lr` must be finite and ≥ 0, got -1")]
    fn negative_lr_is_rejected() {
        let _ = Sgd::<f64>::new(SgdConfig {
            lr: -1.0,
            ..Default::default()
        });
    }
}
