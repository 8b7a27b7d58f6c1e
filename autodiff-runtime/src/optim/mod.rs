//! Optimizers and step-size tools: what turns a `loss_grad` function into a trained model.
//!
//! The lecture lists the tricks that make deep networks trainable; this module holds the ones
//! that act on parameters and step sizes:
//!
//! | optimizer | family | file |
//! | --- | --- | --- |
//! | [`Sgd`] with a step-size [`Schedule`] | plain stochastic gradient | `sgd.rs` |
//! | [`Momentum`] (heavy ball), [`Nesterov`] | momentum | `momentum.rs` |
//! | [`AdaGrad`], [`RmsProp`], [`Adam`], [`AmsGrad`], [`AdamW`] | per-coordinate step sizes | `adaptive.rs` |
//! | [`Projected`] with a [`BoxProjection`] | constraints `lo ≤ xᵢ ≤ hi` | `project.rs` |
//!
//! and, in `tuning.rs`, the step-size helpers: the Bottou trick ([`bottou_trick`]: try several
//! step sizes on a small subsample, keep the best) and the lecture's "babysitting"
//! ([`DivergenceMonitor`]: report a loss that turns NaN or grows).
//!
//! # One trait, any parameter type
//!
//! Every optimizer implements [`Optimizer<P>`] for every [`Differentiable`] `P` — a scalar, a
//! `Vec<f64>`, an `Array2<f32>`, a tuple of arrays, a `#[derive(Differentiable)]` struct — because
//! it only ever walks the parameters' *leaves* (flat runs of scalars) beside the gradient's, in the
//! fixed order of [`Differentiable::zip_leaves_mut`]. Hyper-parameters are `f64` in the config
//! structs and are converted to the parameters' scalar type at each step.
//!
//! Optimizer state (velocities, moment estimates) is kept per leaf. It is created lazily, zeroed,
//! on the first [`step`](Optimizer::step), shaped like the parameters passed then; from then on the
//! optimizer belongs to that leaf structure, and a later step with a different number of leaves or
//! a leaf of a different length panics with a message saying so. Call `reset()` to forget the
//! state (and the step count) and start over.
//!
//! The step count `t` (`0` before the first step) drives the [`Schedule`] that every config
//! carries: the step size used by step `t` is `α_t = lr · schedule.factor(t)`.
//!
//! # A training loop
//!
//! ```
//! use autodiff_runtime::optim::{Adam, AdamConfig, Optimizer};
//!
//! // Least squares for y = 2x + 1 on four points; loss_grad returns (loss, gradient), as a
//! // `#[differentiate]`d function's `_grad` does.
//! let data = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)];
//! let loss_grad = |w: &[f64; 2]| {
//!     let (mut loss, mut g) = (0.0, [0.0; 2]);
//!     for &(x, y) in &data {
//!         let r = w[0] * x + w[1] - y;
//!         loss += 0.5 * r * r;
//!         g[0] += r * x;
//!         g[1] += r;
//!     }
//!     (loss, g)
//! };
//!
//! let mut w = [0.0, 0.0];
//! let mut opt = Adam::new(AdamConfig { lr: 0.05, ..Default::default() });
//! for _ in 0..3000 {
//!     let (_loss, g) = loss_grad(&w);
//!     opt.step(&mut w, &g);
//! }
//! assert!((w[0] - 2.0).abs() < 1e-3 && (w[1] - 1.0).abs() < 1e-3);
//! ```

use crate::{Differentiable, Real};

/// A first-order optimizer: updates parameters in place from their gradient.
///
/// `grads` must have the same shape as `params` (it is the gradient of the loss with respect to
/// them, as `*_grad` returns it). Implementations keep their state per leaf, created on the first
/// step; see the [module documentation](self).
pub trait Optimizer<P: Differentiable> {
    /// Takes one step: `params ← update(params, grads, state)`.
    fn step(&mut self, params: &mut P, grads: &P);
}

impl<P: Differentiable, O: Optimizer<P> + ?Sized> Optimizer<P> for &mut O {
    fn step(&mut self, params: &mut P, grads: &P) {
        (**self).step(params, grads);
    }
}

impl<P: Differentiable, O: Optimizer<P> + ?Sized> Optimizer<P> for Box<O> {
    fn step(&mut self, params: &mut P, grads: &P) {
        (**self).step(params, grads);
    }
}

/// One leaf's state: its length and `K` buffers of that length.
#[derive(Debug, Clone)]
struct Leaf<S, const K: usize> {
    len: usize,
    bufs: [Vec<S>; K],
}

/// Per-leaf optimizer state with `K` buffers per leaf, created on the first step and checked
/// against the leaf structure on every later one.
#[derive(Debug, Clone)]
pub(crate) struct LeafState<S, const K: usize> {
    leaves: Option<Vec<Leaf<S, K>>>,
}

impl<S: Real, const K: usize> LeafState<S, K> {
    pub(crate) fn new() -> Self {
        Self { leaves: None }
    }

    /// Forgets every leaf: the next step starts from zeroed state again.
    pub(crate) fn reset(&mut self) {
        self.leaves = None;
    }

    /// Calls `f(param_leaf, grad_leaf, buffers)` on every leaf, in order, after checking (or, on
    /// the first call, recording) the leaf structure. `who` names the optimizer in panics.
    ///
    /// The structure is checked on `grads` before anything is written, so a mismatched call
    /// panics without having changed `params`.
    pub(crate) fn update<P: Differentiable<Scalar = S>>(
        &mut self,
        who: &str,
        params: &mut P,
        grads: &P,
        mut f: impl FnMut(&mut [S], &[S], &mut [Vec<S>; K]),
    ) {
        match &mut self.leaves {
            None => {
                let mut leaves = Vec::new();
                grads.visit_leaves(&mut |g| {
                    leaves.push(Leaf {
                        len: g.len(),
                        bufs: core::array::from_fn(|_| vec![S::ZERO; g.len()]),
                    });
                });
                self.leaves = Some(leaves);
            }
            Some(leaves) => {
                let mut i = 0;
                grads.visit_leaves(&mut |g| {
                    match leaves.get(i) {
                        None => panic!(
                            "{who}::step: the parameters' leaf structure changed since the first \
                             step: now more than {n} leaves (an optimizer's state belongs to one \
                             parameter shape; call `reset()` or use a new optimizer)",
                            n = leaves.len()
                        ),
                        Some(leaf) if leaf.len != g.len() => panic!(
                            "{who}::step: the parameters' leaf structure changed since the first \
                             step: leaf {i} now has {now} scalars, had {was} (an optimizer's state \
                             belongs to one parameter shape; call `reset()` or use a new optimizer)",
                            now = g.len(),
                            was = leaf.len
                        ),
                        Some(_) => {}
                    }
                    i += 1;
                });
                assert!(
                    i == leaves.len(),
                    "{who}::step: the parameters' leaf structure changed since the first step: \
                     now {i} leaves, had {n} (an optimizer's state belongs to one parameter \
                     shape; call `reset()` or use a new optimizer)",
                    n = leaves.len()
                );
            }
        }
        let leaves = self.leaves.as_mut().expect("state was created above");
        let mut i = 0;
        params.zip_leaves_mut(grads, &mut |p, g| {
            assert!(
                p.len() == g.len(),
                "{who}::step: parameter leaf {i} has {} scalars but its gradient has {}",
                p.len(),
                g.len()
            );
            let leaf = &mut leaves[i];
            assert!(
                leaf.len == p.len(),
                "{who}::step: parameter leaf {i} has {} scalars, its state has {}",
                p.len(),
                leaf.len
            );
            f(p, g, &mut leaf.bufs);
            i += 1;
        });
    }
}

/// Converts an `f64` hyper-parameter to the parameters' scalar type.
#[inline]
fn cast<S: Real>(x: f64) -> S {
    S::of_f64(x)
}

/// Panics with `"{who}: {field} must be {what}, got {value}"` unless `ok`.
#[track_caller]
fn check_hyper(ok: bool, who: &str, field: &str, what: &str, value: f64) {
    assert!(ok, "{who}: `{field}` must be {what}, got {value}");
}

/// Checks the fields every config has: a finite `lr ≥ 0` and a valid schedule.
#[track_caller]
fn check_lr(who: &str, lr: f64, schedule: &Schedule) {
    check_hyper(lr.is_finite() && lr >= 0.0, who, "lr", "finite and ≥ 0", lr);
    schedule.validate(who);
}

/// Checks a decay rate `β ∈ [0, 1)`.
#[track_caller]
fn check_beta(who: &str, field: &str, beta: f64) {
    check_hyper((0.0..1.0).contains(&beta), who, field, "in [0, 1)", beta);
}

/// Checks `ε ≥ 0` (finite).
#[track_caller]
fn check_eps(who: &str, field: &str, eps: f64) {
    check_hyper(
        eps.is_finite() && eps >= 0.0,
        who,
        field,
        "finite and ≥ 0",
        eps,
    );
}

/// The items every optimizer has beside its update rule: `new` (validating its config),
/// `Default`, config access, the step count and `reset`.
macro_rules! optimizer_common {
    ($name:ident, $config:ident) => {
        impl<S: $crate::Real> $name<S> {
            /// Creates the optimizer from its config; state is created on the first step.
            ///
            /// # Panics
            ///
            /// If a hyper-parameter is out of range (the message names it).
            #[track_caller]
            pub fn new(config: $config) -> Self {
                config.validate();
                Self {
                    config,
                    t: 0,
                    state: $crate::optim::LeafState::new(),
                }
            }

            /// The hyper-parameters.
            pub fn config(&self) -> &$config {
                &self.config
            }

            /// The hyper-parameters, to change between steps (e.g. to lower `lr` when the loss
            /// stalls). They are checked again at the next step.
            pub fn config_mut(&mut self) -> &mut $config {
                &mut self.config
            }

            /// The number of steps taken so far: the `t` of the next step's schedule factor.
            pub fn steps(&self) -> u64 {
                self.t
            }

            /// Forgets the per-leaf state and the step count: the next step is a first step again,
            /// on parameters of any shape.
            pub fn reset(&mut self) {
                self.t = 0;
                self.state.reset();
            }

            /// `α_t = lr · schedule.factor(t)` for the coming step.
            fn step_size(&self) -> f64 {
                self.config.lr * self.config.schedule.factor(self.t)
            }
        }

        impl<S: $crate::Real> Default for $name<S> {
            fn default() -> Self {
                Self::new($config::default())
            }
        }
    };
}

mod adaptive;
mod momentum;
mod project;
mod schedule;
mod sgd;
mod tuning;

pub use adaptive::{
    AdaGrad, AdaGradConfig, Adam, AdamConfig, AdamW, AdamWConfig, AmsGrad, AmsGradConfig, RmsProp,
    RmsPropConfig,
};
pub use momentum::{Momentum, MomentumConfig, Nesterov, NesterovConfig};
pub use project::{BoxProjection, Projected};
pub use schedule::Schedule;
pub use sgd::{Sgd, SgdConfig};
pub use tuning::{
    Divergence, DivergenceMonitor, StepSizeSearch, StepSizeTrial, TrialOutcome, bottou_trick,
};
