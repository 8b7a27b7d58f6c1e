//! Workload 6: checkpointing, bounded memory for a long loop.
//!
//! A Van der Pol oscillator `x'' = μ(1 − x²)x' − x`, integrated with the classical Runge–Kutta
//! method (RK4) for 10⁶ steps of `h = 10⁻³`, and the cost `∫ x² dt` accumulated on the way; the
//! gradient is with respect to `μ` and the initial state. The same function is differentiated
//! five ways: recorded (the forward pass keeps a record of every step: the unbounded baseline),
//! checkpointed with 8, 32 and 128 snapshots (a `for` loop: the binomial schedule), and with 32
//! snapshots as a counted `while` loop (the online schedule, which does not know the trip count).
//!
//! Each row's value and gradient are checked against the recorded ones (to
//! [`RTOL_EXACT`](super::RTOL_EXACT); the checkpointed pullback runs the same arithmetic) and the
//! recorded gradient against central differences, before anything is timed. A row also reports
//! what the forward pass keeps (the pullback closure and the heap it holds) and how many times
//! the schedule ran the body plainly (`autodiff::checkpoint::last_stats`), beside the optimum
//! for that many snapshots (`optimal_forward_steps`).

use std::mem::size_of_val;

use autodiff::checkpoint::{last_stats, optimal_forward_steps};
use autodiff::differentiate;

use super::alloc::heap_kept_by;
use super::{RTOL_EXACT, RTOL_FD, Runner, Stored, assert_close, central_fd, runner};

/// Declares the oscillator's cost with `$attr` on its time-stepping loop.
macro_rules! van_der_pol {
    ($(#[$doc:meta])* $name:ident, [$($attr:tt)*]) => {
        $(#[$doc])*
        #[differentiate(wrt(mu, x0, v0))]
        pub fn $name(mu: f64, x0: f64, v0: f64, h: f64, steps: usize) -> f64 {
            let (mut x, mut v) = (x0, v0);
            let mut cost = 0.0;
            $($attr)*
            for _ in 0..steps {
                let (k1x, k1v) = (v, mu * (1.0 - x * x) * v - x);
                let (x2, v2) = (x + 0.5 * h * k1x, v + 0.5 * h * k1v);
                let (k2x, k2v) = (v2, mu * (1.0 - x2 * x2) * v2 - x2);
                let (x3, v3) = (x + 0.5 * h * k2x, v + 0.5 * h * k2v);
                let (k3x, k3v) = (v3, mu * (1.0 - x3 * x3) * v3 - x3);
                let (x4, v4) = (x + h * k3x, v + h * k3v);
                let (k4x, k4v) = (v4, mu * (1.0 - x4 * x4) * v4 - x4);
                x += h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x);
                v += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
                cost += h * x * x;
            }
            cost
        }
    };
}

van_der_pol!(
    /// Recorded: one record per step.
    vdp_recorded,
    []
);
van_der_pol!(vdp_s8, [#[checkpoint(snapshots = 8)]]);
van_der_pol!(vdp_s32, [#[checkpoint(snapshots = 32)]]);
van_der_pol!(vdp_s128, [#[checkpoint(snapshots = 128)]]);

/// The same steps counted by a `while` loop: the online schedule.
#[differentiate(wrt(mu, x0, v0))]
pub fn vdp_online32(mu: f64, x0: f64, v0: f64, h: f64, steps: usize) -> f64 {
    let (mut x, mut v) = (x0, v0);
    let mut cost = 0.0;
    let mut k = 0;
    #[checkpoint(snapshots = 32)]
    while k < steps {
        let (k1x, k1v) = (v, mu * (1.0 - x * x) * v - x);
        let (x2, v2) = (x + 0.5 * h * k1x, v + 0.5 * h * k1v);
        let (k2x, k2v) = (v2, mu * (1.0 - x2 * x2) * v2 - x2);
        let (x3, v3) = (x + 0.5 * h * k2x, v + 0.5 * h * k2v);
        let (k3x, k3v) = (v3, mu * (1.0 - x3 * x3) * v3 - x3);
        let (x4, v4) = (x + h * k3x, v + h * k3v);
        let (k4x, k4v) = (v4, mu * (1.0 - x4 * x4) * v4 - x4);
        x += h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x);
        v += h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v);
        cost += h * x * x;
        k += 1;
    }
    cost
}

/// The workload's name, which `--filter` matches.
pub const NAME: &str = "checkpointing: Van der Pol RK4";

type Grad = fn(f64, f64, f64, f64, usize) -> (f64, (f64, f64, f64));

/// One way of differentiating the oscillator.
pub struct Row {
    /// `recorded`, `binomial`, `online`.
    pub schedule: &'static str,
    pub snapshots: Option<usize>,
    /// Times `_grad`.
    pub runner: Runner,
    /// What the forward pass keeps for the backward pass.
    pub kept: Stored,
    /// Plain runs of the loop body in one gradient (the forward sweep included), and the
    /// optimum for that many snapshots.
    pub steps: Option<(u64, u64)>,
}

/// The workload at one size; `rows[0]` is the recorded baseline.
pub struct Sweep {
    pub name: String,
    pub rows: Vec<Row>,
}

/// The oscillator at `steps` steps (10⁶ in the report).
pub fn sweep(steps: usize) -> Sweep {
    let (mu, x0, v0, h) = (1.5, 1.0, 0.0, 1e-3);
    let p = [mu, x0, v0];
    let flat = |(y, (a, b, c)): (f64, (f64, f64, f64))| (y, vec![a, b, c]);
    let name = format!("{NAME}, {steps} steps");
    let recorded = flat(vdp_recorded_grad(mu, x0, v0, h, steps));
    let fd = central_fd(|q| vdp_recorded(q[0], q[1], q[2], h, steps), p);
    assert_close(
        &name,
        "value (function)",
        &[fd.0],
        &[recorded.0],
        RTOL_EXACT,
    );
    assert_close(&name, "finite differences", &fd.1, &recorded.1, RTOL_FD);
    let ways: [(&str, Option<usize>, Grad); 5] = [
        ("recorded", None, vdp_recorded_grad),
        ("binomial", Some(8), vdp_s8_grad),
        ("binomial", Some(32), vdp_s32_grad),
        ("binomial", Some(128), vdp_s128_grad),
        ("online", Some(32), vdp_online32_grad),
    ];
    let kept = [
        kept_by(|| vdp_recorded_vjp(mu, x0, v0, h, steps)),
        kept_by(|| vdp_s8_vjp(mu, x0, v0, h, steps)),
        kept_by(|| vdp_s32_vjp(mu, x0, v0, h, steps)),
        kept_by(|| vdp_s128_vjp(mu, x0, v0, h, steps)),
        kept_by(|| vdp_online32_vjp(mu, x0, v0, h, steps)),
    ];
    let mut rows = Vec::new();
    for ((schedule, snapshots, grad), kept) in ways.into_iter().zip(kept) {
        let got = flat(grad(mu, x0, v0, h, steps));
        let what = format!("{schedule} {snapshots:?}");
        assert_close(
            &name,
            &format!("value ({what})"),
            &[got.0],
            &[recorded.0],
            RTOL_EXACT,
        );
        assert_close(&name, &what, &got.1, &recorded.1, RTOL_EXACT);
        let steps_run = snapshots.map(|s| {
            let st = last_stats().expect("a checkpointed sweep ran");
            (st.forward_steps, optimal_forward_steps(st.iterations, s))
        });
        rows.push(Row {
            schedule,
            snapshots,
            runner: runner(move || grad(mu, x0, v0, h, steps)),
            kept,
            steps: steps_run,
        });
    }
    Sweep { name, rows }
}

/// What the forward pass of `vjp` keeps: the size of the pullback and the heap it holds.
fn kept_by<P>(vjp: impl FnOnce() -> (f64, P)) -> Stored {
    let ((_, pullback), heap) = heap_kept_by(vjp);
    Stored {
        closure: size_of_val(&pullback),
        heap,
    }
}
