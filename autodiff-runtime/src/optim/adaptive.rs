//! Optimizers with a step size per coordinate: AdaGrad, RMSprop, Adam, AMSGrad and AdamW.
//!
//! Each scales the step of coordinate `i` by a running estimate of the size of its gradients, so
//! that rarely-moving and often-moving coordinates both make progress. All products, squares,
//! square roots and divisions below are per coordinate; `t` in the bias corrections `1 − β^t`
//! counts steps from `1`.

use super::{LeafState, Optimizer, Schedule, cast, check_beta, check_eps, check_hyper, check_lr};
use crate::{Differentiable, Real};

/// Hyper-parameters of [`AdaGrad`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaGradConfig {
    /// Base step size `α` (default `0.01`, as PyTorch's `Adagrad`).
    pub lr: f64,
    /// `ε` added to the denominator (default `1e-10`, as PyTorch's `Adagrad`).
    pub eps: f64,
    /// Step-size schedule (default [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for AdaGradConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            eps: 1e-10,
            schedule: Schedule::Constant,
        }
    }
}

impl AdaGradConfig {
    #[track_caller]
    fn validate(&self) {
        check_lr("AdaGrad", self.lr, &self.schedule);
        check_eps("AdaGrad", "eps", self.eps);
    }
}

/// AdaGrad (Duchi, Hazan & Singer, 2011), diagonal version.
///
/// With `G_0 = 0`:
///
/// ```text
/// G_t     = G_{t−1} + g_t²
/// x_{t+1} = x_t − α_t g_t / (√G_t + ε)
/// ```
///
/// Step sizes only shrink, which suits convex problems and sparse features.
#[derive(Debug, Clone)]
pub struct AdaGrad<S: Real = f64> {
    config: AdaGradConfig,
    t: u64,
    state: LeafState<S, 1>,
}

optimizer_common!(AdaGrad, AdaGradConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for AdaGrad<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let a: S = cast(self.step_size());
        let eps: S = cast(self.config.eps);
        self.state.update("AdaGrad", params, grads, |x, g, [acc]| {
            for ((x, &g), acc) in x.iter_mut().zip(g).zip(acc.iter_mut()) {
                *acc += g * g;
                *x -= a * g / (acc.sqrt() + eps);
            }
        });
        self.t += 1;
    }
}

/// Hyper-parameters of [`RmsProp`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// Base step size `α` (default `0.001`, as Keras' `RMSprop`).
    pub lr: f64,
    /// Decay `ρ ∈ [0, 1)` of the running mean of squared gradients (default `0.9`, as in
    /// Tieleman & Hinton's lecture and Keras).
    pub rho: f64,
    /// `ε` added to the denominator (default `1e-8`).
    pub eps: f64,
    /// Step-size schedule (default [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            rho: 0.9,
            eps: 1e-8,
            schedule: Schedule::Constant,
        }
    }
}

impl RmsPropConfig {
    #[track_caller]
    fn validate(&self) {
        check_lr("RmsProp", self.lr, &self.schedule);
        check_beta("RmsProp", "rho", self.rho);
        check_eps("RmsProp", "eps", self.eps);
    }
}

/// RMSprop (Tieleman & Hinton, 2012, Coursera lecture 6.5).
///
/// With `E_0 = 0`:
///
/// ```text
/// E_t     = ρ E_{t−1} + (1 − ρ) g_t²
/// x_{t+1} = x_t − α_t g_t / (√E_t + ε)
/// ```
///
/// AdaGrad with a forgetting running mean instead of a sum, so steps can grow again.
#[derive(Debug, Clone)]
pub struct RmsProp<S: Real = f64> {
    config: RmsPropConfig,
    t: u64,
    state: LeafState<S, 1>,
}

optimizer_common!(RmsProp, RmsPropConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for RmsProp<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let a: S = cast(self.step_size());
        let rho: S = cast(self.config.rho);
        let one_minus_rho: S = cast(1.0 - self.config.rho);
        let eps: S = cast(self.config.eps);
        self.state.update("RmsProp", params, grads, |x, g, [ms]| {
            for ((x, &g), ms) in x.iter_mut().zip(g).zip(ms.iter_mut()) {
                *ms = rho * *ms + one_minus_rho * g * g;
                *x -= a * g / (ms.sqrt() + eps);
            }
        });
        self.t += 1;
    }
}

/// Hyper-parameters of [`Adam`], with the defaults of Kingma & Ba (2015).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Base step size `α` (default `0.001`).
    pub lr: f64,
    /// Decay `β₁ ∈ [0, 1)` of the first-moment estimate (default `0.9`).
    pub beta1: f64,
    /// Decay `β₂ ∈ [0, 1)` of the second-moment estimate (default `0.999`).
    pub beta2: f64,
    /// `ε` added to the denominator (default `1e-8`).
    pub eps: f64,
    /// Step-size schedule (default [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            schedule: Schedule::Constant,
        }
    }
}

impl AdamConfig {
    #[track_caller]
    fn validate(&self) {
        check_moments(
            "Adam",
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            &self.schedule,
        );
    }
}

#[track_caller]
fn check_moments(who: &str, lr: f64, beta1: f64, beta2: f64, eps: f64, schedule: &Schedule) {
    check_lr(who, lr, schedule);
    check_beta(who, "beta1", beta1);
    check_beta(who, "beta2", beta2);
    check_eps(who, "eps", eps);
}

/// `1 − β^t` for the bias corrections, `t ≥ 1`.
fn bias_correction(beta: f64, t: u64) -> f64 {
    1.0 - beta.powf(t as f64)
}

/// Adam (Kingma & Ba, 2015, Algorithm 1).
///
/// With `m_0 = v_0 = 0` and `t = 1, 2, …`:
///
/// ```text
/// m_t = β₁ m_{t−1} + (1 − β₁) g_t
/// v_t = β₂ v_{t−1} + (1 − β₂) g_t²
/// m̂_t = m_t / (1 − β₁^t)
/// v̂_t = v_t / (1 − β₂^t)
/// x_t = x_{t−1} − α_t m̂_t / (√v̂_t + ε)
/// ```
///
/// Momentum (`m`) plus RMSprop-style scaling (`v`), both bias-corrected for their zero start.
/// Adam can fail to converge even on convex problems — see [`AmsGrad`] and the Reddi, Kale &
/// Kumar (2018) counterexample in this crate's tests.
#[derive(Debug, Clone)]
pub struct Adam<S: Real = f64> {
    config: AdamConfig,
    t: u64,
    state: LeafState<S, 2>,
}

optimizer_common!(Adam, AdamConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for Adam<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let c = &self.config;
        let a: S = cast(self.step_size());
        let (b1, b2): (S, S) = (cast(c.beta1), cast(c.beta2));
        let (one_minus_b1, one_minus_b2): (S, S) = (cast(1.0 - c.beta1), cast(1.0 - c.beta2));
        let inv_bc1: S = cast(1.0 / bias_correction(c.beta1, self.t + 1));
        let inv_bc2: S = cast(1.0 / bias_correction(c.beta2, self.t + 1));
        let eps: S = cast(c.eps);
        self.state.update("Adam", params, grads, |x, g, [m, v]| {
            for (((x, &g), m), v) in x.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                let m_hat = *m * inv_bc1;
                let v_hat = *v * inv_bc2;
                *x -= a * (m_hat / (v_hat.sqrt() + eps));
            }
        });
        self.t += 1;
    }
}

/// Hyper-parameters of [`AmsGrad`] (the defaults are Adam's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmsGradConfig {
    /// Base step size `α` (default `0.001`).
    pub lr: f64,
    /// Decay `β₁ ∈ [0, 1)` of the first-moment estimate (default `0.9`).
    pub beta1: f64,
    /// Decay `β₂ ∈ [0, 1)` of the second-moment estimate (default `0.999`).
    pub beta2: f64,
    /// `ε` added to the denominator (default `1e-8`).
    pub eps: f64,
    /// Step-size schedule (default [`Schedule::Constant`]).
    pub schedule: Schedule,
}

impl Default for AmsGradConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            schedule: Schedule::Constant,
        }
    }
}

impl AmsGradConfig {
    #[track_caller]
    fn validate(&self) {
        check_moments(
            "AmsGrad",
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            &self.schedule,
        );
    }
}

/// AMSGrad (Reddi, Kale & Kumar, 2018, Algorithm 2), with Adam's bias corrections as in the
/// `amsgrad` option of PyTorch's and Keras' Adam.
///
/// With `m_0 = v_0 = v̂max_0 = 0` and `t = 1, 2, …`:
///
/// ```text
/// m_t    = β₁ m_{t−1} + (1 − β₁) g_t
/// v_t    = β₂ v_{t−1} + (1 − β₂) g_t²
/// vmax_t = max(vmax_{t−1}, v_t)
/// x_t    = x_{t−1} − α_t (m_t / (1 − β₁^t)) / (√(vmax_t / (1 − β₂^t)) + ε)
/// ```
///
/// The running maximum keeps every coordinate's effective step size from growing, which is what
/// Adam lacks: a rare large gradient is remembered instead of being forgotten at rate `β₂`.
/// (The paper's Algorithm 2 has no bias corrections and no `ε`; both only matter in the first
/// steps and keep the first step of size `α`, as Adam's.)
#[derive(Debug, Clone)]
pub struct AmsGrad<S: Real = f64> {
    config: AmsGradConfig,
    t: u64,
    state: LeafState<S, 3>,
}

optimizer_common!(AmsGrad, AmsGradConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for AmsGrad<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let c = &self.config;
        let a: S = cast(self.step_size());
        let (b1, b2): (S, S) = (cast(c.beta1), cast(c.beta2));
        let (one_minus_b1, one_minus_b2): (S, S) = (cast(1.0 - c.beta1), cast(1.0 - c.beta2));
        let inv_bc1: S = cast(1.0 / bias_correction(c.beta1, self.t + 1));
        let inv_bc2: S = cast(1.0 / bias_correction(c.beta2, self.t + 1));
        let eps: S = cast(c.eps);
        self.state
            .update("AmsGrad", params, grads, |x, g, [m, v, vmax]| {
                for ((((x, &g), m), v), vmax) in x
                    .iter_mut()
                    .zip(g)
                    .zip(m.iter_mut())
                    .zip(v.iter_mut())
                    .zip(vmax.iter_mut())
                {
                    *m = b1 * *m + one_minus_b1 * g;
                    *v = b2 * *v + one_minus_b2 * g * g;
                    if *v > *vmax {
                        *vmax = *v;
                    }
                    let m_hat = *m * inv_bc1;
                    let v_hat = *vmax * inv_bc2;
                    *x -= a * (m_hat / (v_hat.sqrt() + eps));
                }
            });
        self.t += 1;
    }
}

/// Hyper-parameters of [`AdamW`] (Adam's defaults plus PyTorch's `weight_decay = 0.01`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// Base step size `α` (default `0.001`).
    pub lr: f64,
    /// Decay `β₁ ∈ [0, 1)` of the first-moment estimate (default `0.9`).
    pub beta1: f64,
    /// Decay `β₂ ∈ [0, 1)` of the second-moment estimate (default `0.999`).
    pub beta2: f64,
    /// `ε` added to the denominator (default `1e-8`).
    pub eps: f64,
    /// Decoupled weight decay `λ ≥ 0` (default `0.01`, as PyTorch's `AdamW`).
    pub weight_decay: f64,
    /// Step-size schedule (default [`Schedule::Constant`]); it scales the decay too.
    pub schedule: Schedule,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            schedule: Schedule::Constant,
        }
    }
}

impl AdamWConfig {
    #[track_caller]
    fn validate(&self) {
        check_moments(
            "AdamW",
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            &self.schedule,
        );
        check_hyper(
            self.weight_decay.is_finite() && self.weight_decay >= 0.0,
            "AdamW",
            "weight_decay",
            "finite and ≥ 0",
            self.weight_decay,
        );
    }
}

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019, Algorithm 2).
///
/// With `m`, `v`, `m̂`, `v̂` as in [`Adam`]:
///
/// ```text
/// x_t = x_{t−1} − α_t (m̂_t / (√v̂_t + ε) + λ x_{t−1})
/// ```
///
/// The decay `λ x` shrinks the weights directly instead of being added to the gradient (where
/// Adam's scaling would weaken it for coordinates with large gradients). The decay is scaled by
/// the step size `α_t`, as in PyTorch's and Keras' `AdamW`; the paper writes
/// `η_t (α m̂/(√v̂ + ε) + λ' x)` with a schedule multiplier `η_t`, so its `λ'` is our `α·λ`.
#[derive(Debug, Clone)]
pub struct AdamW<S: Real = f64> {
    config: AdamWConfig,
    t: u64,
    state: LeafState<S, 2>,
}

optimizer_common!(AdamW, AdamWConfig);

impl<S: Real, P: Differentiable<Scalar = S>> Optimizer<P> for AdamW<S> {
    fn step(&mut self, params: &mut P, grads: &P) {
        self.config.validate();
        let c = &self.config;
        let a: S = cast(self.step_size());
        let (b1, b2): (S, S) = (cast(c.beta1), cast(c.beta2));
        let (one_minus_b1, one_minus_b2): (S, S) = (cast(1.0 - c.beta1), cast(1.0 - c.beta2));
        let inv_bc1: S = cast(1.0 / bias_correction(c.beta1, self.t + 1));
        let inv_bc2: S = cast(1.0 / bias_correction(c.beta2, self.t + 1));
        let eps: S = cast(c.eps);
        let lambda: S = cast(c.weight_decay);
        self.state.update("AdamW", params, grads, |x, g, [m, v]| {
            for (((x, &g), m), v) in x.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                let m_hat = *m * inv_bc1;
                let v_hat = *v * inv_bc2;
                *x -= a * (m_hat / (v_hat.sqrt() + eps) + lambda * *x);
            }
        });
        self.t += 1;
    }
}

#[cfg(test)]
mod tests {
    //! Each optimizer's first three steps against its published equations, written out per
    //! coordinate in plain `f64` arithmetic on f(x) = ½ xᵀAx − bᵀx, A = [[3, 1], [1, 2]],
    //! b = (1, −1), from x_0 = (0.5, −0.25).
    use super::*;
    use approx::assert_relative_eq;

    fn grad(x: &[f64; 2]) -> [f64; 2] {
        [3.0 * x[0] + x[1] - 1.0, x[0] + 2.0 * x[1] + 1.0]
    }

    const X0: [f64; 2] = [0.5, -0.25];

    /// Runs `opt` for three steps beside `reference`, which maps (x_{t−1}, t) to x_t with t from
    /// 1, and compares after each step.
    fn compare(
        mut opt: impl Optimizer<[f64; 2]>,
        mut reference: impl FnMut(&[f64; 2], i32) -> [f64; 2],
    ) {
        let mut x = X0;
        let mut expected = X0;
        for t in 1..=3 {
            expected = reference(&expected, t);
            let g = grad(&x);
            opt.step(&mut x, &g);
            for i in 0..2 {
                assert_relative_eq!(x[i], expected[i], max_relative = 1e-13);
            }
        }
    }

    #[test]
    fn adagrad_first_three_updates() {
        // G_t = G_{t−1} + g_t²; x_t = x_{t−1} − α g_t / (√G_t + ε)   (Duchi et al. 2011)
        let (alpha, eps) = (0.1, 1e-10);
        let mut big_g = [0.0; 2];
        compare(
            AdaGrad::new(AdaGradConfig {
                lr: alpha,
                eps,
                ..Default::default()
            }),
            |x, _| {
                let g = grad(x);
                let mut out = *x;
                for i in 0..2 {
                    big_g[i] += g[i] * g[i];
                    out[i] = x[i] - alpha * g[i] / (big_g[i].sqrt() + eps);
                }
                out
            },
        );
    }

    #[test]
    fn rmsprop_first_three_updates() {
        // E_t = ρ E_{t−1} + (1 − ρ) g_t²; x_t = x_{t−1} − α g_t / (√E_t + ε)   (Tieleman & Hinton)
        let (alpha, rho, eps) = (0.01, 0.9, 1e-8);
        let mut e = [0.0; 2];
        compare(
            RmsProp::new(RmsPropConfig {
                lr: alpha,
                rho,
                eps,
                ..Default::default()
            }),
            |x, _| {
                let g = grad(x);
                let mut out = *x;
                for i in 0..2 {
                    e[i] = rho * e[i] + (1.0 - rho) * g[i] * g[i];
                    out[i] = x[i] - alpha * g[i] / (e[i].sqrt() + eps);
                }
                out
            },
        );
    }

    #[test]
    fn adam_first_three_updates() {
        // Kingma & Ba (2015), Algorithm 1:
        // m_t = β₁m + (1−β₁)g; v_t = β₂v + (1−β₂)g²; m̂ = m/(1−β₁ᵗ); v̂ = v/(1−β₂ᵗ);
        // x_t = x_{t−1} − α m̂/(√v̂ + ε)
        let (alpha, b1, b2, eps) = (0.1, 0.9, 0.999, 1e-8);
        let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
        compare(
            Adam::new(AdamConfig {
                lr: alpha,
                ..Default::default()
            }),
            |x, t| {
                let g = grad(x);
                let mut out = *x;
                for i in 0..2 {
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    let m_hat = m[i] / (1.0 - b1.powi(t));
                    let v_hat = v[i] / (1.0 - b2.powi(t));
                    out[i] = x[i] - alpha * m_hat / (v_hat.sqrt() + eps);
                }
                out
            },
        );
    }

    #[test]
    fn adam_first_step_has_size_alpha() {
        // m̂_1 = g_1 and v̂_1 = g_1², so x_1 = x_0 − α·sign(g_1) up to ε.
        let mut x = [0.0, 0.0];
        let mut opt = Adam::new(AdamConfig {
            lr: 0.1,
            ..Default::default()
        });
        opt.step(&mut x, &[4.0, -0.5]);
        assert_relative_eq!(x[0], -0.1, max_relative = 1e-8);
        assert_relative_eq!(x[1], 0.1, max_relative = 1e-7);
    }

    #[test]
    fn amsgrad_first_three_updates() {
        // Reddi et al. (2018), Algorithm 2, with Adam's bias corrections:
        // m_t = β₁m + (1−β₁)g; v_t = β₂v + (1−β₂)g²; vmax_t = max(vmax_{t−1}, v_t);
        // x_t = x_{t−1} − α (m_t/(1−β₁ᵗ)) / (√(vmax_t/(1−β₂ᵗ)) + ε)
        // β₂ = 0.5 so that v_t falls below vmax within three steps and the max matters.
        let (alpha, b1, b2, eps) = (0.2, 0.9, 0.5, 1e-8);
        let (mut m, mut v, mut vmax) = ([0.0; 2], [0.0; 2], [0.0f64; 2]);
        let mut max_mattered = false;
        compare(
            AmsGrad::new(AmsGradConfig {
                lr: alpha,
                beta1: b1,
                beta2: b2,
                eps,
                ..Default::default()
            }),
            |x, t| {
                let g = grad(x);
                let mut out = *x;
                for i in 0..2 {
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    max_mattered |= v[i] < vmax[i];
                    vmax[i] = vmax[i].max(v[i]);
                    let m_hat = m[i] / (1.0 - b1.powi(t));
                    let v_hat = vmax[i] / (1.0 - b2.powi(t));
                    out[i] = x[i] - alpha * m_hat / (v_hat.sqrt() + eps);
                }
                out
            },
        );
        assert!(
            max_mattered,
            "the test problem never exercised the running max"
        );
    }

    #[test]
    fn adamw_first_three_updates() {
        // Loshchilov & Hutter (2019), Algorithm 2, decay scaled by the step size:
        // m, v, m̂, v̂ as Adam; x_t = x_{t−1} − α (m̂/(√v̂ + ε) + λ x_{t−1})
        let (alpha, b1, b2, eps, lambda) = (0.1, 0.9, 0.999, 1e-8, 0.3);
        let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
        compare(
            AdamW::new(AdamWConfig {
                lr: alpha,
                weight_decay: lambda,
                ..Default::default()
            }),
            |x, t| {
                let g = grad(x);
                let mut out = *x;
                for i in 0..2 {
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    let m_hat = m[i] / (1.0 - b1.powi(t));
                    let v_hat = v[i] / (1.0 - b2.powi(t));
                    out[i] = x[i] - alpha * (m_hat / (v_hat.sqrt() + eps) + lambda * x[i]);
                }
                out
            },
        );
    }

    #[test]
    fn adamw_without_decay_is_adam() {
        let mut a = [0.5, -0.25];
        let mut b = a;
        let mut adam = Adam::new(AdamConfig {
            lr: 0.05,
            ..Default::default()
        });
        let mut adamw = AdamW::new(AdamWConfig {
            lr: 0.05,
            weight_decay: 0.0,
            ..Default::default()
        });
        for _ in 0..10 {
            let g = grad(&a);
            adam.step(&mut a, &g);
            let g = grad(&b);
            adamw.step(&mut b, &g);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn adam_state_is_per_leaf_across_a_tuple() {
        // A tuple of two leaves behaves as two independent Adams on each leaf.
        let mut pair = (vec![1.0, -2.0], [3.0]);
        let mut first = vec![1.0, -2.0];
        let mut second = [3.0];
        let mut joint = Adam::new(AdamConfig {
            lr: 0.1,
            ..Default::default()
        });
        let mut a1 = Adam::new(AdamConfig {
            lr: 0.1,
            ..Default::default()
        });
        let mut a2 = Adam::new(AdamConfig {
            lr: 0.1,
            ..Default::default()
        });
        for _ in 0..5 {
            // gradient of ½‖p‖²: p itself
            let g = pair.clone();
            joint.step(&mut pair, &g);
            let g1 = first.clone();
            a1.step(&mut first, &g1);
            let g2 = second;
            a2.step(&mut second, &g2);
        }
        assert_eq!(pair.0, first);
        assert_eq!(pair.1, second);
    }

    #[test]
    fn f32_parameters_are_supported() {
        let mut x = ndarray::arr2(&[[1.0f32, -1.0], [0.5, 2.0]]);
        let mut opt = Adam::<f32>::new(AdamConfig {
            lr: 0.1,
            ..Default::default()
        });
        for _ in 0..500 {
            let g = x.clone();
            opt.step(&mut x, &g);
        }
        assert!(x.iter().all(|v| v.abs() < 1e-2), "{x}");
    }

    #[test]
    #[should_panic(
        expected = "Adam::step: the parameters' leaf structure changed since the first step: leaf 1 now has 3 scalars, had 2"
    )]
    fn adam_panics_when_a_leaf_changes_length() {
        let mut opt = Adam::default();
        let mut p = (vec![1.0], vec![1.0, 2.0]);
        let g = p.clone();
        opt.step(&mut p, &g);
        let mut q = (vec![1.0], vec![1.0, 2.0, 3.0]);
        let g = q.clone();
        opt.step(&mut q, &g);
    }

    #[test]
    fn structure_change_leaves_the_parameters_untouched() {
        let mut opt = AdaGrad::default();
        let mut p = (vec![1.0], vec![1.0, 2.0]);
        let g = p.clone();
        opt.step(&mut p, &g);
        let mut q = (vec![1.0], vec![1.0, 2.0, 3.0]);
        let before = q.clone();
        let g = q.clone();
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| opt.step(&mut q, &g)));
        assert!(caught.is_err());
        assert_eq!(q, before);
    }

    #[test]
    #[should_panic(expected = "AmsGrad: `beta2` must be in [0, 1), got 1")]
    fn beta2_of_one_is_rejected() {
        let _ = AmsGrad::<f64>::new(AmsGradConfig {
            beta2: 1.0,
            ..Default::default()
        });
    }
}
