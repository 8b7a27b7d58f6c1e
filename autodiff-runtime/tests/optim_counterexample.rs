//! Adam fails on a one-dimensional convex problem; AMSGrad does not.
//!
//! Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018), Theorem 1: the
//! online problem on F = [−1, 1] with linear losses
//!
//! ```text
//! f_t(x) = C·x   if t mod 3 = 1
//!          −x    otherwise                     (t = 1, 2, …)
//! ```
//!
//! has regret minimised by x = −1 (each period of three steps has total loss (C − 2)·x), yet
//! Adam with β₁ = 0, β₂ = 1/(1 + C²) and α_t = α/√t, α < √(1 − β₂), is driven to x = +1, the
//! worst point: the large gradient C comes once per period and is forgotten by the second-moment
//! estimate before it comes again, so the two small gradients −1 get relatively larger steps.
//! AMSGrad's running maximum of the second moment remembers C and goes to −1.
//!
//! We use the theorem's setting with C = 3 (the theorem needs C > 2), β₁ = 0,
//! β₂ = 1/(1 + C²) = 0.1, α = 0.5 < √0.9 ≈ 0.95, α_t = α/√t (`Schedule::InverseSqrt`), and the
//! projection onto [−1, 1] after every step. Our Adam bias-corrects v and adds ε = 1e-8 to the
//! denominator, which the theorem's Adam does not: with β₂ = 0.1 the correction 1/(1 − 0.1^t) is
//! within 1% of 1 from t = 3 on, and ε is negligible against √v ≥ 0.9, so neither changes the
//! dynamics. The paper starts from x₁ = 1 without loss of generality; we start in the middle,
//! x₁ = 0, so that both methods have to travel to the end they settle at.

use autodiff_runtime::optim::{
    Adam, AdamConfig, AmsGrad, AmsGradConfig, BoxProjection, Optimizer, Projected, Schedule,
};

const C: f64 = 3.0;
const STEPS: u64 = 30_000;

/// ∇f_t for the 1-based step `t`.
fn gradient(t: u64) -> f64 {
    if t % 3 == 1 { C } else { -1.0 }
}

/// Runs `opt` on the online problem from x₁ = 0 and returns every iterate x₂ … x_{T+1}.
fn run(mut opt: impl Optimizer<f64>) -> Vec<f64> {
    let mut x = 0.0;
    (1..=STEPS)
        .map(|t| {
            opt.step(&mut x, &gradient(t));
            x
        })
        .collect()
}

fn beta2() -> f64 {
    1.0 / (1.0 + C * C)
}

#[test]
fn adam_goes_to_the_wrong_end_and_amsgrad_to_the_optimum() {
    let box_ = BoxProjection::new(-1.0, 1.0);
    let adam = Projected::new(
        Adam::new(AdamConfig {
            lr: 0.5,
            beta1: 0.0,
            beta2: beta2(),
            schedule: Schedule::InverseSqrt,
            ..Default::default()
        }),
        box_,
    );
    let amsgrad = Projected::new(
        AmsGrad::new(AmsGradConfig {
            lr: 0.5,
            beta1: 0.0,
            beta2: beta2(),
            schedule: Schedule::InverseSqrt,
            ..Default::default()
        }),
        box_,
    );
    let xs_adam = run(adam);
    let xs_ams = run(amsgrad);

    // Every iterate of the last tenth of the run, whatever its phase in the period of three.
    // There one step moves x by at most α_t·|g_t|/√v_t ≤ α_t/√(1 − β₂) = 0.5/√27000/√0.9
    // ≈ 0.0032, because v_t ≥ (1 − β₂)·g_t².
    let tail = (STEPS as usize * 9) / 10;
    let adam_min = xs_adam[tail..]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let ams_max = xs_ams[tail..]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        adam_min > 0.95,
        "Adam should sit near +1 (the worst point); its iterates went down to {adam_min}"
    );
    assert!(
        ams_max < -0.95,
        "AMSGrad should sit near −1 (the optimum); its iterates went up to {ams_max}"
    );

    // The consequence the theorem is about: average regret against x* = −1 stays bounded away
    // from 0 for Adam and vanishes for AMSGrad. Over a period, Σ f_t(x_t) − Σ f_t(−1)
    // = C·(x_a + 1) − (x_b + 1) − (x_c + 1).
    let regret = |xs: &[f64]| -> f64 {
        // xs[k] is x_{k+2}; the loss at step t is charged at x_t, with x_1 = 0.
        let x_at = |t: u64| if t == 1 { 0.0 } else { xs[t as usize - 2] };
        let total: f64 = (1..=STEPS).map(|t| gradient(t) * (x_at(t) + 1.0)).sum();
        total / STEPS as f64
    };
    let (r_adam, r_ams) = (regret(&xs_adam), regret(&xs_ams));
    // At x = +1 every period costs (C − 2)·2 = 2 over three steps: average regret → 2/3.
    assert!(r_adam > 0.6, "Adam's average regret {r_adam}");
    assert!(r_ams < 0.01, "AMSGrad's average regret {r_ams}");
}

#[test]
fn adam_solves_the_problem_without_the_rare_large_gradient() {
    // Control: with every gradient equal to +1 the optimum is still −1 and nothing is
    // forgotten, so Adam gets there too — the failure above is due to the rare large gradient.
    let mk_adam = || {
        Projected::new(
            Adam::new(AdamConfig {
                lr: 0.5,
                beta1: 0.0,
                beta2: beta2(),
                schedule: Schedule::InverseSqrt,
                ..Default::default()
            }),
            BoxProjection::new(-1.0, 1.0),
        )
    };
    let mut opt = mk_adam();
    let mut x = 0.0;
    for _ in 0..1000 {
        opt.step(&mut x, &1.0);
    }
    assert_eq!(x, -1.0);
}
