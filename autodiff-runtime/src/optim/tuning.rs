//! Choosing and watching the step size: the Bottou trick and "babysitting" a run.
//!
//! The lecture's step-size advice for SGD is empirical: watch the loss and stop a run that blows
//! up ("babysitting"), and pick the step size by trying several on a small subsample first
//! (Bottou, "Stochastic Gradient Descent Tricks", 2012). [`DivergenceMonitor`] is the first,
//! [`bottou_trick`] the second; the trick uses the monitor to stop hopeless candidates early.

use std::collections::VecDeque;
use std::fmt;

use super::Optimizer;
use crate::{Differentiable, Real};

/// Why a run was judged to diverge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Divergence {
    /// The loss was NaN or ±∞.
    NonFinite {
        /// Index of the observation (0-based).
        step: usize,
        /// The loss observed.
        loss: f64,
    },
    /// The loss grew by more than the monitor's factor over the smallest loss in its window.
    Growing {
        /// Index of the observation that grew (0-based).
        step: usize,
        /// The loss observed.
        loss: f64,
        /// Index of the smallest loss in the window.
        reference_step: usize,
        /// The smallest loss in the window.
        reference: f64,
    },
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Divergence::NonFinite { step, loss } => {
                write!(f, "the loss became {loss} at step {step}")
            }
            Divergence::Growing {
                step,
                loss,
                reference_step,
                reference,
            } => write!(
                f,
                "the loss grew from {reference} at step {reference_step} to {loss} at step {step}"
            ),
        }
    }
}

impl std::error::Error for Divergence {}

/// Watches a run's losses and reports divergence — the lecture's "babysitting".
///
/// Feed it one loss per step (or per epoch) with [`observe`](Self::observe). It reports
///
/// - [`Divergence::NonFinite`] for a NaN or infinite loss, and
/// - [`Divergence::Growing`] when a loss exceeds the smallest of the previous `window` finite
///   losses, `ref`, by more than the factor: `loss − ref > (factor − 1)·|ref|`, which for a
///   positive `ref` reads `loss > factor · ref`.
///
/// It never panics on a loss; it returns `Err`, so a training loop can use `?`. A loss that was
/// reported is still remembered, so a run that stays bad keeps being reported. Per-minibatch
/// losses are noisy: choose the factor above their noise, or feed the monitor epoch means.
///
/// ```
/// use autodiff_runtime::optim::{Divergence, DivergenceMonitor};
///
/// let mut monitor = DivergenceMonitor::new(3, 2.0);
/// assert!(monitor.observe(1.0).is_ok());
/// assert!(monitor.observe(0.8).is_ok());
/// assert!(monitor.observe(1.5).is_ok()); // below 2 × 0.8
/// assert!(matches!(monitor.observe(1.7), Err(Divergence::Growing { reference_step: 1, .. })));
/// assert!(matches!(monitor.observe(f64::NAN), Err(Divergence::NonFinite { step: 4, .. })));
/// ```
#[derive(Debug, Clone)]
pub struct DivergenceMonitor {
    window: usize,
    factor: f64,
    recent: VecDeque<(usize, f64)>,
    step: usize,
}

impl Default for DivergenceMonitor {
    /// `window = 10`, `factor = 10`: a tenfold rise within ten observations, far above ordinary
    /// noise and far below what a diverging run (whose loss grows geometrically) shows.
    fn default() -> Self {
        Self::new(10, 10.0)
    }
}

impl DivergenceMonitor {
    /// A monitor that compares each loss with the smallest of the previous `window` losses and
    /// reports growth by more than `factor`. `window = 0` checks finiteness only.
    ///
    /// # Panics
    ///
    /// If `factor` is NaN or below `1` (a factor below 1 would report decreasing runs).
    #[track_caller]
    pub fn new(window: usize, factor: f64) -> Self {
        assert!(
            factor >= 1.0,
            "DivergenceMonitor: `factor` must be ≥ 1, got {factor}"
        );
        Self {
            window,
            factor,
            recent: VecDeque::with_capacity(window),
            step: 0,
        }
    }

    /// Records the next loss and reports whether the run has diverged.
    pub fn observe(&mut self, loss: impl Into<f64>) -> Result<(), Divergence> {
        let loss = loss.into();
        let step = self.step;
        self.step += 1;
        if !loss.is_finite() {
            return Err(Divergence::NonFinite { step, loss });
        }
        let reference = self
            .recent
            .iter()
            .copied()
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if self.window > 0 {
            if self.recent.len() == self.window {
                self.recent.pop_front();
            }
            self.recent.push_back((step, loss));
        }
        match reference {
            Some((reference_step, reference))
                if loss - reference > (self.factor - 1.0) * reference.abs() =>
            {
                Err(Divergence::Growing {
                    step,
                    loss,
                    reference_step,
                    reference,
                })
            }
            _ => Ok(()),
        }
    }

    /// Observes every loss of a recorded run in order and returns the first report.
    pub fn scan<L: Into<f64>>(
        &mut self,
        losses: impl IntoIterator<Item = L>,
    ) -> Result<(), Divergence> {
        losses.into_iter().try_for_each(|l| self.observe(l))
    }

    /// The number of losses observed so far.
    pub fn steps(&self) -> usize {
        self.step
    }
}

/// How one candidate step size of [`bottou_trick`] fared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrialOutcome {
    /// Every pass ran and the subsample loss ended below where it started.
    Improved,
    /// Every pass ran, but the subsample loss did not end below where it started.
    NoProgress,
    /// Stopped early: a loss was NaN or infinite, or the subsample loss grew tenfold (as judged
    /// by [`DivergenceMonitor::default`] on the per-pass losses).
    Diverged(Divergence),
}

/// The mean of `loss_grad(params, e).0` over `examples`, or the index and value of the first
/// non-finite loss.
fn mean_loss<P: Differentiable, E>(
    params: &P,
    examples: &[E],
    loss_grad: &mut impl FnMut(&P, &E) -> (P::Scalar, P),
) -> Result<f64, (usize, f64)> {
    let mut sum = 0.0;
    for (i, e) in examples.iter().enumerate() {
        let l = loss_grad(params, e).0.as_f64();
        if !l.is_finite() {
            return Err((i, l));
        }
        sum += l;
    }
    Ok(sum / examples.len() as f64)
}

/// One candidate step size tried by [`bottou_trick`].
#[derive(Debug, Clone, PartialEq)]
pub struct StepSizeTrial {
    /// The step size passed to the optimizer factory.
    pub lr: f64,
    /// The mean loss over the subsample before the first pass, then after each pass (fewer
    /// than `passes + 1` entries if the trial diverged).
    pub losses: Vec<f64>,
    /// How the trial ended.
    pub outcome: TrialOutcome,
}

impl StepSizeTrial {
    /// The last mean subsample loss recorded.
    pub fn final_loss(&self) -> f64 {
        *self
            .losses
            .last()
            .expect("a trial records its initial loss")
    }
}

/// The result of [`bottou_trick`]: every trial, and which one won.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSizeSearch {
    /// One trial per candidate, in the order given.
    pub trials: Vec<StepSizeTrial>,
    /// Index into `trials` of the best one: the [`TrialOutcome::Improved`] trial with the
    /// lowest final loss (the earliest on ties); `None` if no candidate improved the loss.
    pub best: Option<usize>,
}

impl StepSizeSearch {
    /// The best step size, if any candidate improved the loss.
    pub fn best_lr(&self) -> Option<f64> {
        self.best_trial().map(|t| t.lr)
    }

    /// The best trial, with the losses it saw.
    pub fn best_trial(&self) -> Option<&StepSizeTrial> {
        self.best.map(|i| &self.trials[i])
    }
}

/// The Bottou trick: try each candidate step size for a few passes over a small subsample and
/// keep the one that lowers the loss most (Bottou, "Stochastic Gradient Descent Tricks", 2012,
/// §5.2: "use a small sample to determine the learning rate").
///
/// For each candidate `lr`, starting from a copy of `init` with a fresh optimizer
/// `make_optimizer(lr)`:
///
/// 1. record the mean loss over `subsample`;
/// 2. `passes` times: step once per example, in the order given (shuffle the subsample
///    beforehand if its order is not random), with the gradient `loss_grad(&params, example).1`,
///    then record the mean loss over `subsample`.
///
/// A trial stops early ([`TrialOutcome::Diverged`]) when a loss is NaN or infinite or when the
/// per-pass mean loss grows tenfold. The winner is the trial whose final mean loss is lowest
/// among those that ended below their starting loss. Then run the full training with the winner
/// (Bottou: the best rate on the subsample is usually a good rate on the full set).
///
/// `loss_grad(params, example)` returns the example's loss and its gradient, the shape of a
/// `#[differentiate]`d function's `_grad` output. An "example" can be a minibatch: pass a slice
/// of minibatches. Loss evaluations reuse `loss_grad` and discard its gradient; the subsample is
/// meant to be small.
///
/// # Panics
///
/// If `subsample` or `candidates` is empty, or `passes == 0`.
///
/// ```
/// use autodiff_runtime::optim::{Sgd, SgdConfig, bottou_trick};
///
/// // f_i(w) = ½(w − y_i)²: each example pulls w toward its target.
/// let targets = [1.0, 2.0, 3.0, 2.5, 1.5];
/// let search = bottou_trick(
///     &0.0_f64,
///     &targets,
///     &[3.0, 0.3, 0.03, 0.003],
///     3,
///     |lr| Sgd::new(SgdConfig { lr, ..Default::default() }),
///     |w, y| (0.5 * (w - y) * (w - y), w - y),
/// );
/// assert_eq!(search.best_lr(), Some(0.3));
/// ```
pub fn bottou_trick<P, E, O>(
    init: &P,
    subsample: &[E],
    candidates: &[f64],
    passes: usize,
    mut make_optimizer: impl FnMut(f64) -> O,
    mut loss_grad: impl FnMut(&P, &E) -> (P::Scalar, P),
) -> StepSizeSearch
where
    P: Differentiable,
    O: Optimizer<P>,
{
    assert!(
        !subsample.is_empty(),
        "bottou_trick: the subsample is empty"
    );
    assert!(
        !candidates.is_empty(),
        "bottou_trick: no candidate step sizes"
    );
    assert!(passes > 0, "bottou_trick: `passes` must be at least 1");

    let mut trials = Vec::with_capacity(candidates.len());
    for &lr in candidates {
        let mut params = init.clone();
        let mut opt = make_optimizer(lr);
        let mut monitor = DivergenceMonitor::default();
        let mut losses = Vec::with_capacity(passes + 1);
        let mut outcome = None;
        // Observation k of the monitor is the mean loss after k passes; a non-finite loss met
        // inside a pass is reported at the observation that pass would have produced.
        'passes: for pass in 0..=passes {
            if pass > 0 {
                for e in subsample {
                    let (l, g) = loss_grad(&params, e);
                    if !l.is_finite() {
                        outcome = Some(TrialOutcome::Diverged(Divergence::NonFinite {
                            step: pass,
                            loss: l.as_f64(),
                        }));
                        break 'passes;
                    }
                    opt.step(&mut params, &g);
                }
            }
            let mean = match mean_loss(&params, subsample, &mut loss_grad) {
                Ok(m) => m,
                Err((_, l)) => {
                    outcome = Some(TrialOutcome::Diverged(Divergence::NonFinite {
                        step: pass,
                        loss: l,
                    }));
                    break;
                }
            };
            losses.push(mean);
            if let Err(d) = monitor.observe(mean) {
                outcome = Some(TrialOutcome::Diverged(d));
                break;
            }
        }
        let outcome = match outcome {
            Some(o) => o,
            None if losses[losses.len() - 1] < losses[0] => TrialOutcome::Improved,
            None => TrialOutcome::NoProgress,
        };
        if losses.is_empty() {
            // The initial loss itself was not finite: record it so every trial has one.
            if let TrialOutcome::Diverged(Divergence::NonFinite { loss, .. }) = outcome {
                losses.push(loss);
            }
        }
        trials.push(StepSizeTrial {
            lr,
            losses,
            outcome,
        });
    }

    let best = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.outcome == TrialOutcome::Improved)
        .min_by(|(_, a), (_, b)| a.final_loss().total_cmp(&b.final_loss()))
        .map(|(i, _)| i);
    StepSizeSearch { trials, best }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_flags_nan_and_infinity() {
        let mut m = DivergenceMonitor::default();
        assert_eq!(m.observe(3.0), Ok(()));
        assert!(matches!(
            m.observe(f64::NAN),
            Err(Divergence::NonFinite { step: 1, loss }) if loss.is_nan()
        ));
        assert_eq!(
            m.observe(f64::INFINITY),
            Err(Divergence::NonFinite {
                step: 2,
                loss: f64::INFINITY
            })
        );
        assert_eq!(m.steps(), 3);
    }

    #[test]
    fn monitor_flags_growth_within_the_window_only() {
        // window 2, factor 2: the reference is the smaller of the two previous losses. 2.1 is
        // more than twice the first loss, but 1.0 has left the window by then.
        let mut m = DivergenceMonitor::new(2, 2.0);
        assert_eq!(m.scan([1.0, 1.5, 1.9, 2.1]), Ok(()));
        // reference min(1.9, 2.1) = 1.9, and 4.5 > 2 × 1.9.
        assert_eq!(
            m.observe(4.5),
            Err(Divergence::Growing {
                step: 4,
                loss: 4.5,
                reference_step: 2,
                reference: 1.9,
            })
        );
    }

    #[test]
    fn default_monitor_catches_geometric_growth_quickly() {
        // A diverging run: the loss grows 1.5× per step from 1. 1.5⁶ ≈ 11.4 > 10.
        let mut m = DivergenceMonitor::default();
        let first_report = (0..100)
            .map(|k| 1.5f64.powi(k))
            .position(|l| m.observe(l).is_err());
        assert_eq!(first_report, Some(6));
    }

    #[test]
    fn monitor_does_not_flag_a_decreasing_run() {
        let mut m = DivergenceMonitor::new(5, 1.5);
        // A noisy but decreasing run: 1/(k+1) with ±10% wiggles.
        let losses = (0..200).map(|k| (1.0 + 0.1 * (k as f64).sin()) / (k as f64 + 1.0));
        assert_eq!(m.scan(losses), Ok(()));
    }

    #[test]
    fn monitor_handles_negative_losses() {
        // ref = −2, factor 2: flagged when loss − (−2) > 2, i.e. loss > 0.
        let mut m = DivergenceMonitor::new(3, 2.0);
        assert_eq!(m.scan([-1.0, -2.0, -0.5, 0.0]), Ok(()));
        assert!(matches!(
            m.observe(0.1),
            Err(Divergence::Growing {
                reference: -2.0,
                ..
            })
        ));
    }

    #[test]
    fn window_zero_checks_finiteness_only() {
        let mut m = DivergenceMonitor::new(0, 1.0);
        assert_eq!(m.scan([1.0, 1e9, 1e300]), Ok(()));
        assert!(m.observe(f64::NEG_INFINITY).is_err());
    }

    #[test]
    fn divergence_messages_say_what_happened() {
        let nan = Divergence::NonFinite {
            step: 4,
            loss: f64::NAN,
        };
        assert_eq!(nan.to_string(), "the loss became NaN at step 4");
        let grow = Divergence::Growing {
            step: 9,
            loss: 8.0,
            reference_step: 3,
            reference: 0.5,
        };
        assert_eq!(
            grow.to_string(),
            "the loss grew from 0.5 at step 3 to 8 at step 9"
        );
    }
}
