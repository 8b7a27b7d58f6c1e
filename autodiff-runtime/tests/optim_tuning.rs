//! Step-size selection (the Bottou trick) and babysitting (the divergence monitor) on real runs.

use autodiff_runtime::optim::{
    Divergence, DivergenceMonitor, Optimizer, Sgd, SgdConfig, TrialOutcome, bottou_trick,
};

/// One least-squares example: fᵢ(w) = ½ (aᵢᵀw − bᵢ)².
#[derive(Debug, Clone, Copy)]
struct Example {
    a: [f64; 2],
    b: f64,
}

/// `n` examples with aᵢ of length rᵢ ∈ [0.5, 1.5] in direction θᵢ, and bᵢ = aᵢᵀ(2, −1) plus a
/// deterministic perturbation of size ≤ 0.1.
fn examples(n: usize, offset: usize) -> Vec<Example> {
    (offset..offset + n)
        .map(|i| {
            let t = i as f64;
            let r = 1.0 + 0.5 * (0.77 * t).sin();
            let theta = 2.4 * t;
            let a = [r * theta.cos(), r * theta.sin()];
            let b = 2.0 * a[0] - a[1] + 0.1 * (3.1 * t).cos();
            Example { a, b }
        })
        .collect()
}

fn loss_grad(w: &[f64; 2], e: &Example) -> (f64, [f64; 2]) {
    let r = e.a[0] * w[0] + e.a[1] * w[1] - e.b;
    (0.5 * r * r, [r * e.a[0], r * e.a[1]])
}

fn mean_loss(w: &[f64; 2], data: &[Example]) -> f64 {
    data.iter().map(|e| loss_grad(w, e).0).sum::<f64>() / data.len() as f64
}

fn sgd(lr: f64) -> Sgd {
    Sgd::new(SgdConfig {
        lr,
        ..Default::default()
    })
}

#[test]
fn bottou_trick_picks_a_sensible_step_on_a_quadratic() {
    // Per-example SGD on fᵢ multiplies the residual of example i by (1 − lr·‖aᵢ‖²): it is stable
    // on every example when lr < 2/max‖aᵢ‖² (≥ 2/2.25 ≈ 0.89), and needlessly slow when lr is
    // far below 1/mean‖aᵢ‖² ≈ 1.
    let subsample = examples(50, 0);
    let max_sq = subsample
        .iter()
        .map(|e| e.a[0] * e.a[0] + e.a[1] * e.a[1])
        .fold(0.0, f64::max);
    let candidates = [10.0, 3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 0.003];
    let passes = 3;
    let search = bottou_trick(&[0.0; 2], &subsample, &candidates, passes, sgd, loss_grad);

    assert_eq!(search.trials.len(), candidates.len());
    for (trial, &lr) in search.trials.iter().zip(&candidates) {
        assert_eq!(trial.lr, lr);
    }
    // Steps far above the stable range blow up and are stopped.
    for trial in &search.trials[..2] {
        assert!(
            matches!(trial.outcome, TrialOutcome::Diverged(_)),
            "lr = {} should diverge: {:?}",
            trial.lr,
            trial.outcome
        );
    }
    let best = search.best_trial().expect("some step size works");
    assert!(
        best.lr < 2.0 / max_sq && best.lr >= 0.1,
        "picked lr = {} (stable below {})",
        best.lr,
        2.0 / max_sq
    );
    assert_eq!(best.outcome, TrialOutcome::Improved);
    assert_eq!(best.losses.len(), passes + 1);
    assert!(best.final_loss() < best.losses[0]);
    // Its final loss is the lowest of all the candidates that ran to the end.
    for t in &search.trials {
        if t.outcome == TrialOutcome::Improved {
            assert!(best.final_loss() <= t.final_loss());
        }
    }
    // The tiniest step makes far less progress in the same passes.
    let tiny = search.trials.last().unwrap();
    assert!(tiny.final_loss() > 10.0 * best.final_loss());

    // The point of the trick: the step picked on 50 examples works on the full set of 2000.
    let full = examples(2000, 0);
    let train = |lr: f64| {
        let mut w = [0.0; 2];
        let mut opt = sgd(lr);
        for e in &full {
            let (_, g) = loss_grad(&w, e);
            opt.step(&mut w, &g);
        }
        mean_loss(&w, &full)
    };
    let picked = train(best.lr);
    // The residual noise has mean square ≈ 0.1²/2, so the best achievable mean loss is ≈ 0.0025.
    assert!(
        picked < 0.01,
        "full-set loss with the picked step: {picked}"
    );
    assert!(
        picked < train(best.lr / 30.0),
        "a much smaller step does worse"
    );
}

#[test]
fn monitor_stops_a_diverging_run_and_lets_a_converging_one_go() {
    // Full-batch gradient descent on the mean loss; its curvature is about mean‖aᵢ‖²/2 ≈ 0.56,
    // so lr = 5 is far beyond the stable 2/L ≈ 3.5 and lr = 0.5 is safe.
    let data = examples(100, 7);
    let run = |lr: f64| -> (Result<(), Divergence>, usize) {
        let mut w = [0.0; 2];
        let mut opt = sgd(lr);
        let mut monitor = DivergenceMonitor::default();
        for k in 0..300 {
            let mut g = [0.0; 2];
            for e in &data {
                let (_, ge) = loss_grad(&w, e);
                g[0] += ge[0] / data.len() as f64;
                g[1] += ge[1] / data.len() as f64;
            }
            if let Err(d) = monitor.observe(mean_loss(&w, &data)) {
                return (Err(d), k);
            }
            opt.step(&mut w, &g);
        }
        (Ok(()), 300)
    };

    let (healthy, steps) = run(0.5);
    assert_eq!(healthy, Ok(()));
    assert_eq!(steps, 300);

    let (diverged, at) = run(5.0);
    assert!(
        matches!(diverged, Err(Divergence::Growing { .. })),
        "{diverged:?}"
    );
    // Caught while the loss is still finite, long before it overflows.
    assert!(at < 50, "caught at step {at}");
}

#[test]
fn monitor_reports_a_nan_loss() {
    // f(x) = x ln x, defined for x > 0, f'(x) = ln x + 1. From x = 1 a step of 4 lands at
    // x = −3, where the loss is NaN.
    let mut x = 1.0_f64;
    let mut opt = sgd(4.0);
    let mut monitor = DivergenceMonitor::default();
    let mut reports = Vec::new();
    for _ in 0..3 {
        reports.push(monitor.observe(x * x.ln()));
        let g = x.ln() + 1.0;
        opt.step(&mut x, &g);
    }
    assert_eq!(reports[0], Ok(()));
    assert!(
        matches!(reports[1], Err(Divergence::NonFinite { step: 1, loss }) if loss.is_nan()),
        "{reports:?}"
    );
    assert!(reports[1].unwrap_err().to_string().contains("NaN"));
}
