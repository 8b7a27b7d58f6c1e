//! Momentum methods: heavy-ball (Polyak) and Nesterov's accelerated gradient.
//!
//! Both keep one velocity buffer per leaf. Plain gradient descent zig-zags across narrow valleys;
//! adding a fraction of the previous step damps the zig-zag and speeds travel along the valley.

use super::{LeafState, Optimizer, Schedule, cast, check_beta, check_lr};
use crate::{Differentiable, Real};

/// Hyper-parameters of [`Momentum`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentumConfig {
    /// Base step size `α` (default `0.01`).
    pub lr: f64,
    /// Momentum `β ∈ [0, 1)` (default `0.9`, the common choice since Sutskever et al. 2013).
    pub momentum: f64,
    /// Step-size schedule (default [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for MomentumConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            momentum: 0.9,
            schedule: Schedule::Constant,
        }
    }
}

impl MomentumConfig {
    #[track_caller]
    fn validate(&self) {
        check_lr("Momentum", self.lr, &self.schedule);
        check_beta("Momentum", "momentum", self.momentum);
    }
}

/// Gradient descent with heavy-ball momentum (Polyak, 1964).
///
/// With `g_t` the gradient at the parameters `x_t`, velocity `v_0 = 0` and
/// `α_t = lr · schedule.factor(t)`:
///
/// ```text
/// v_{t+1} = β v_t − α_t g_t
/// x_{t+1} = x_t + v_{t+1}
/// ```
///
/// which for a constant step size is Polyak's
/// `x_{t+1} = x_t − α ∇f(x_t) + β (x_t − x_{t−1})`.
#[derive(Debug, Clone)]
pub struct Momentum<S: Real = f64> {
    config: MomentumConfig,
    t: u64,
    state: LeafState<S, 1>,
}

optimizer_common!(Momentum, MomentumConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for Momentum<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let a: S = cast(self.step_size());
        let beta: S = cast(self.config.momentum);
        self.state.update("Momentum", params, grads, |x, g, [v]| {
            for ((x, &g), v) in x.iter_mut().zip(g).zip(v.iter_mut()) {
                *v = beta * *v - a * g;
                *x += *v;
            }
        });
        self.t += 1;
    }
}

/// Hyper-parameters of [`Nesterov`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NesterovConfig {
    /// Base step size `α` (default `0.01`).
    pub lr: f64,
    /// Momentum `β ∈ [0, 1)` (default `0.9`).
    pub momentum: f64,
    /// Step-size schedule (default [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for NesterovConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            momentum: 0.9,
            schedule: Schedule::Constant,
        }
    }
}

impl NesterovConfig {
    #[track_caller]
    fn validate(&self) {
        check_lr("Nesterov", self.lr, &self.schedule);
        check_beta("Nesterov", "momentum", self.momentum);
    }
}

/// Nesterov's accelerated gradient (Nesterov, 1983), with momentum as in Sutskever et al. (2013).
///
/// Nesterov's method evaluates the gradient at a look-ahead point `y_t`, not at the iterate
/// `x_t`:
///
/// ```text
/// x_{t+1} = y_t − α_t ∇f(y_t)
/// y_{t+1} = x_{t+1} + β (x_{t+1} − x_t)          (y_0 = x_0)
/// ```
///
/// Since [`step`](Optimizer::step) only sees the gradient at the parameters it holds, the
/// parameters hold the look-ahead point `y_t`, and with the velocity `v_t = x_t − x_{t−1}`
/// (`v_0 = 0`) and `g_t = ∇f(y_t)` the update is
///
/// ```text
/// v_{t+1} = β v_t − α_t g_t
/// y_{t+1} = y_t + β v_{t+1} − α_t g_t
/// ```
///
/// (the form of Bengio et al. 2013 and of PyTorch's `nesterov=True`). The two sequences meet at
/// the minimum; stopping early leaves the parameters at `y_t`, which is the point whose loss the
/// caller evaluated last.
#[derive(Debug, Clone)]
pub struct Nesterov<S: Real = f64> {
    config: NesterovConfig,
    t: u64,
    state: LeafState<S, 1>,
}

optimizer_common!(Nesterov, NesterovConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for Nesterov<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let a: S = cast(self.step_size());
        let beta: S = cast(self.config.momentum);
        self.state.update("Nesterov", params, grads, |y, g, [v]| {
            for ((y, &g), v) in y.iter_mut().zip(g).zip(v.iter_mut()) {
                *v = beta * *v - a * g;
                *y += beta * *v - a * g;
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
    fn heavy_ball_first_three_updates_match_polyak() {
        // Polyak (1964): x_{t+1} = x_t − α ∇f(x_t) + β (x_t − x_{t−1}), with x_{−1} = x_0.
        let (alpha, beta) = (0.1, 0.8);
        let (mut prev, mut cur) = ([0.5, -0.25], [0.5, -0.25]);
        let mut x = cur;
        let mut opt = Momentum::new(MomentumConfig {
            lr: alpha,
            momentum: beta,
            ..Default::default()
        });
        for _ in 0..3 {
            let g = grad(&cur);
            let next = [
                cur[0] - alpha * g[0] + beta * (cur[0] - prev[0]),
                cur[1] - alpha * g[1] + beta * (cur[1] - prev[1]),
            ];
            (prev, cur) = (cur, next);
            let g = grad(&x);
            opt.step(&mut x, &g);
            assert_relative_eq!(x[0], cur[0], max_relative = 1e-13);
            assert_relative_eq!(x[1], cur[1], max_relative = 1e-13);
        }
    }

    #[test]
    fn nesterov_first_three_updates_match_the_two_sequence_form() {
        // Nesterov (1983): x_{t+1} = y_t − α ∇f(y_t); y_{t+1} = x_{t+1} + β (x_{t+1} − x_t),
        // y_0 = x_0. The optimizer's parameters are the y_t.
        let (alpha, beta) = (0.1, 0.8);
        let mut xs = [0.5, -0.25];
        let mut ys = xs;
        let mut p = ys;
        let mut opt = Nesterov::new(NesterovConfig {
            lr: alpha,
            momentum: beta,
            ..Default::default()
        });
        for _ in 0..3 {
            let g = grad(&ys);
            let x_next = [ys[0] - alpha * g[0], ys[1] - alpha * g[1]];
            ys = [
                x_next[0] + beta * (x_next[0] - xs[0]),
                x_next[1] + beta * (x_next[1] - xs[1]),
            ];
            xs = x_next;
            let g = grad(&p);
            opt.step(&mut p, &g);
            assert_relative_eq!(p[0], ys[0], max_relative = 1e-13);
            assert_relative_eq!(p[1], ys[1], max_relative = 1e-13);
        }
    }

    #[test]
    fn zero_momentum_is_plain_gradient_descent() {
        let mut a = [0.5, -0.25];
        let mut b = a;
        let mut c = a;
        let cfg = (0.1, 0.0);
        let mut hb = Momentum::new(MomentumConfig {
            lr: cfg.0,
            momentum: cfg.1,
            ..Default::default()
        });
        let mut nag = Nesterov::new(NesterovConfig {
            lr: cfg.0,
            momentum: cfg.1,
            ..Default::default()
        });
        for _ in 0..5 {
            let g = grad(&c);
            c = [c[0] - cfg.0 * g[0], c[1] - cfg.0 * g[1]];
            let g = grad(&a);
            hb.step(&mut a, &g);
            let g = grad(&b);
            nag.step(&mut b, &g);
        }
        assert_eq!(a, c);
        assert_eq!(b, c);
    }

    #[test]
    #[should_panic(expected = "Momentum: `momentum` must be in [0, 1), got 1")]
    fn momentum_of_one_is_rejected() {
        let _ = Momentum::<f64>::new(MomentumConfig {
            momentum: 1.0,
            ..Default::default()
        });
    }
}
