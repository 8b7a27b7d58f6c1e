//! Step-size schedules: how the step size of every optimizer changes with the step count.
//!
//! Kept apart from the optimizers because every one of them takes one: the step size used by step
//! `t` (counted from `0`) is `α_t = lr · factor(t)`.

/// A step-size schedule: the factor `factor(t)` by which step `t` (counted from `0`) multiplies the
/// configured `lr`, so that step `t` uses `α_t = lr · factor(t)`.
///
/// ```
/// use autodiff_runtime::optim::Schedule;
///
/// assert_eq!(Schedule::Constant.factor(7), 1.0);
/// assert_eq!(Schedule::InverseTime { decay: 0.5 }.factor(2), 0.5); // 1 / (1 + 0.5·2)
/// assert_eq!(Schedule::Step { every: 10, gamma: 0.1 }.factor(25), 0.1 * 0.1);
/// assert_eq!(Schedule::InverseSqrt.factor(3), 0.5); // 1 / √4
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Schedule {
    /// `factor(t) = 1`: a constant step size `α_t = α`.
    #[default]
    Constant,
    /// `factor(t) = 1 / (1 + k·t)`: the `α/(1 + kt)` decay of stochastic approximation, whose
    /// step sizes sum to infinity while their squares do not (the Robbins–Monro conditions).
    InverseTime {
        /// The decay rate `k ≥ 0`.
        decay: f64,
    },
    /// `factor(t) = γ^⌊t/n⌋`: multiply the step size by `γ` every `n` steps.
    Step {
        /// The period `n ≥ 1`, in steps.
        every: u64,
        /// The factor `γ ∈ (0, 1]` applied once per period.
        gamma: f64,
    },
    /// `factor(t) = 1/√(t + 1)`: the `α_t = α/√t` (1-based `t`) of online convex optimization,
    /// used in the convergence theory of AdaGrad, Adam and AMSGrad.
    InverseSqrt,
}

impl Schedule {
    /// The factor multiplying `lr` at step `t` (`t = 0` for the first step).
    pub fn factor(&self, t: u64) -> f64 {
        match *self {
            Schedule::Constant => 1.0,
            Schedule::InverseTime { decay } => 1.0 / (1.0 + decay * t as f64),
            Schedule::Step { every, gamma } => {
                // ⌊t/n⌋ can exceed i32::MAX only after 2³¹ periods; saturate rather than wrap.
                let periods = i32::try_from(t / every.max(1)).unwrap_or(i32::MAX);
                gamma.powi(periods)
            }
            Schedule::InverseSqrt => 1.0 / ((t as f64) + 1.0).sqrt(),
        }
    }

    /// Panics with a message naming `who` if the schedule's parameters are out of range.
    #[track_caller]
    pub(crate) fn validate(&self, who: &str) {
        match *self {
            Schedule::Constant | Schedule::InverseSqrt => {}
            Schedule::InverseTime { decay } => assert!(
                decay.is_finite() && decay >= 0.0,
                "{who}: `Schedule::InverseTime` needs a finite `decay` ≥ 0, got {decay}"
            ),
            Schedule::Step { every, gamma } => {
                assert!(
                    every >= 1,
                    "{who}: `Schedule::Step` needs `every` ≥ 1, got 0"
                );
                assert!(
                    gamma > 0.0 && gamma <= 1.0,
                    "{who}: `Schedule::Step` needs `gamma` in (0, 1], got {gamma}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_follow_their_formulas() {
        for t in 0..50u64 {
            let tf = t as f64;
            assert_eq!(Schedule::Constant.factor(t), 1.0);
            assert_eq!(
                Schedule::InverseTime { decay: 0.1 }.factor(t),
                1.0 / (1.0 + 0.1 * tf)
            );
            assert_eq!(
                Schedule::Step {
                    every: 7,
                    gamma: 0.5
                }
                .factor(t),
                0.5f64.powi((t / 7) as i32)
            );
            assert_eq!(Schedule::InverseSqrt.factor(t), 1.0 / (tf + 1.0).sqrt());
        }
    }

    #[test]
    fn step_decay_changes_only_at_period_boundaries() {
        let s = Schedule::Step {
            every: 3,
            gamma: 0.1,
        };
        let f: Vec<f64> = (0..7).map(|t| s.factor(t)).collect();
        assert_eq!(f[0], 1.0);
        assert_eq!(f[2], 1.0);
        assert_eq!(f[3], 0.1);
        assert_eq!(f[5], 0.1);
        assert_eq!(f[6], 0.1f64.powi(2));
    }

    #[test]
    #[should_panic(expected = "`Schedule::Step` needs `every` ≥ 1")]
    fn step_with_zero_period_is_rejected() {
        Schedule::Step {
            every: 0,
            gamma: 0.5,
        }
        .validate("Sgd");
    }

    #[test]
    #[should_panic(expected = "`Schedule::InverseTime` needs a finite `decay` ≥ 0")]
    fn negative_decay_is_rejected() {
        Schedule::InverseTime { decay: -1.0 }.validate("Sgd");
    }
}
