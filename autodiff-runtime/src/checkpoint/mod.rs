//! Checkpointing schedules for reverse-mode loops: reverse an `n`-iteration loop while keeping
//! only a few copies of its state.
//!
//! Reverse mode keeps one record per loop iteration, and for a long time-stepping loop that is
//! the memory that runs out first. Checkpointing keeps the *loop state* — the loop-carried
//! values — before a few iterations only, and during the backward sweep recomputes the states in
//! between, segment by segment, from the nearest snapshot. A [`Checkpointer`] is the schedule:
//! a small state machine that knows nothing of the state but that it can be cloned, and that the
//! code `#[differentiate]` generates for a checkpointed loop drives with a `match`, the loop body
//! inlined in its arms.
//!
//! # Schedules
//!
//! - [`Checkpointer::binomial`]`(n, s)`, for a trip count known at loop entry (`for i in a..b`):
//!   Griewank's binomial checkpointing, the schedule of Revolve (Griewank & Walther, "Algorithm
//!   799: revolve", ACM TOMS 26(1), 2000). It runs the body plainly the least possible number of
//!   times for `s` snapshots, [`optimal_forward_steps`]`(n, s)`, and no iteration more than
//!   [`repetitions`]`(n, s)` times: 6 for 10⁶ iterations and 32 snapshots.
//! - [`Checkpointer::online`]`(s)`, for a trip count found as the loop runs (`while`, `loop`
//!   with `break`, a `for` that may `break`); see [below](#the-online-schedule).
//!
//! `s` counts snapshots *besides the initial state*, which is always kept: at most `s + 1` states
//! are held ([`Stats::peak_snapshots`]), plus the current one in the generated code. `s = 0`
//! recomputes every state from the initial one (`n(n + 1)/2` plain steps); `s ≥ n − 1` stores
//! every state and recomputes nothing (`n` steps).
//!
//! # Protocol
//!
//! Forward sweep (in `f_vjp`): run the loop body plainly, without recording; before iteration
//! `k` (counted from 0) ask [`wants`](Checkpointer::wants)`(k)` and [`store`](Checkpointer::store)
//! a clone of the state if so — [`offer`](Checkpointer::offer)`(k, || state.clone())` does both.
//! After the loop, [`finish`](Checkpointer::finish)`(n)` with the number of iterations run.
//!
//! Backward sweep (in the pullback): ask [`next_action`](Checkpointer::next_action) and carry the
//! [`Action`] out, until [`Action::Done`]:
//!
//! - `Restore { at, state }`: the current state becomes `state`, the state before iteration
//!   `at`. It is moved out of the checkpointer on its last use and cloned otherwise.
//! - `Advance { from, to }`: run iterations `from..to` plainly, asking `wants`/`store` before each
//!   one exactly as in the forward sweep (the schedule takes new snapshots while advancing).
//! - `Reverse { at }`: the current state is the one before iteration `at`: run iteration `at`
//!   with recording, then its backward pass, taking the adjoints of the carried values from after
//!   iteration `at` to before it. Iterations are reversed in the order `n − 1, n − 2, …, 0`, each
//!   once.
//!
//! The forward sweep and `Advance` share one loop, so the generated code prints it once. For
//! `x ← sin(a·x) + c`, with the gradient with respect to the initial `x` and to `a`:
//!
//! ```
//! use autodiff_runtime::checkpoint::{Action, Checkpointer};
//!
//! let (a, c, x0, n) = (1.3_f64, 0.5, 0.2_f64, 1000);
//! let step = |x: f64| (a * x).sin() + c;
//!
//! // Forward sweep: n known at entry, so the binomial schedule with 8 snapshots.
//! let mut cp = Checkpointer::binomial(n, 8);
//! let mut x = x0;
//! for k in 0..n {
//!     cp.offer(k, || x);
//!     x = step(x);
//! }
//! cp.finish(n);
//! let y = x;
//!
//! // Backward sweep, seeded with ȳ = 1. One iteration x' = sin(a·x) + c has the partials
//! // ∂x'/∂x = a·cos(a·x) and ∂x'/∂a = x·cos(a·x).
//! let (mut x_bar, mut a_bar) = (1.0, 0.0);
//! let mut x = f64::NAN; // the current state
//! loop {
//!     match cp.next_action() {
//!         Action::Restore { state, .. } => x = state,
//!         Action::Advance { from, to } => {
//!             for k in from..to {
//!                 cp.offer(k, || x);
//!                 x = step(x);
//!             }
//!         }
//!         Action::Reverse { .. } => {
//!             let cos = (a * x).cos(); // the record of this iteration
//!             a_bar += x_bar * x * cos;
//!             x_bar *= a * cos;
//!         }
//!         Action::Done => break,
//!     }
//! }
//!
//! // The same gradient from a tape of all n states.
//! let mut tape = vec![x0];
//! for k in 0..n {
//!     tape.push(step(tape[k]));
//! }
//! assert_eq!(tape[n], y);
//! let (mut x_ref, mut a_ref) = (1.0, 0.0);
//! for k in (0..n).rev() {
//!     let cos = (a * tape[k]).cos();
//!     a_ref += x_ref * tape[k] * cos;
//!     x_ref *= a * cos;
//! }
//! assert!((x_bar - x_ref).abs() <= 1e-12 * x_ref.abs().max(1.0));
//! assert!((a_bar - a_ref).abs() <= 1e-12 * a_ref.abs().max(1.0));
//!
//! // The optimum: 4004 plain runs of the body, no iteration more than 5 times, 9 states held.
//! use autodiff_runtime::checkpoint::{optimal_forward_steps, repetitions};
//! let stats = cp.stats();
//! assert_eq!(stats.forward_steps, optimal_forward_steps(n, 8));
//! assert_eq!((stats.forward_steps, repetitions(n, 8)), (4004, 5));
//! assert!(stats.peak_snapshots <= 8 + 1);
//! ```
//!
//! # Conventions and the optimum
//!
//! Griewank's `β(c, r) = C(c + r, c)` ([`beta`]) is the most steps `c` checkpoints reverse when
//! no step is advanced more than `r` times, and `t(l, c) = r·l − β(c + 1, r − 1)` with
//! `β(c, r − 1) < l ≤ β(c, r)` the least number of advances ([`revolve_advances`]). Revolve
//! counts the initial state among the `c` checkpoints and never advances the last step: its
//! forward sweep stops before it and records it. Here the forward sweep must run all `n`
//! iterations (it computes the function's value before anything is reversed), so a loop is
//! Revolve's problem with `c = s + 1` checkpoints and `l = n + 1` steps, the extra one standing for
//! the turn from the forward to the backward sweep:
//! `optimal_forward_steps(n, s) = t(n + 1, s + 1)`, and the binomial schedule stores before
//! iteration `k` exactly when Revolve's placement rule would for that problem. Among the
//! time-optimal schedules that rule stores the fewest snapshots (checked by exhaustive search for
//! ranges up to 300 steps). The difference to `t(n, s + 1)` is
//! the slope `r`: a handful of steps.
//!
//! For example, 32 snapshots and 10⁶ iterations take `r = 6` repetitions
//! (`β(33, 5) = 501 942 < 10⁶ + 1 ≤ β(33, 6) = 3 262 623`) and 5 424 249 plain steps, 5.42 per
//! iteration including the forward sweep; Revolve's own count with 32 checkpoints for 10⁶ steps
//! is `t(10⁶, 32) = 5 498 058`, the "about 5.5" usually quoted (also `r = 6`).
//!
//! # The online schedule
//!
//! Without the trip count, the forward sweep keeps its snapshots on a grid that coarsens one
//! snapshot at a time: the first `s + 1` states are kept; from then on a new snapshot is taken
//! every `2d` iterations in place of the earliest one at an odd multiple of `d`, and `d` (a power
//! of two, 1 at first) doubles when none is left. Whenever the loop stops, all slots are in use
//! and neighbouring snapshots are `d` or `2d` apart. After [`finish`](Checkpointer::finish) the
//! schedule knows `n` and chooses which snapshots to keep: the kept segments are reversed last to
//! first, each with the binomial schedule and the checkpoints not held by earlier snapshots, and a
//! small dynamic program finds the subset with the least recomputation (keeping every snapshot
//! leaves the last segments too few checkpoints, keeping too few makes them long). Coarsening
//! one snapshot at a time rather than halving the grid when full keeps every slot in use: a
//! halved grid leaves half of them empty just when the loop may end.
//!
//! The alternatives considered: a fixed period (every `n/s`-th state) needs `n`; Stumm and
//! Walther's online checkpointing (SIAM J. Sci. Comput. 32(2), 2010) is optimal for trip counts
//! up to a bound that grows with the number of snapshots, and needs more bookkeeping to stay
//! close to optimal past it; dynamic checkpointing with levels (Wang, Moin & Iaccarino 2009)
//! minimises the repetition number but is harder to bound in total work. The grid is simple, has no failure mode, and its cost is
//! bounded:
//!
//! - **At most `optimal_forward_steps(n, s) + n` plain steps**, so at most twice the optimum.
//!   Proof: keeping only the initial state is one of the subsets searched, and it costs the
//!   forward sweep's `n` plus `t(n, s + 1) ≤ t(n + 1, s + 1)` (t grows with `l`).
//! - **Exactly the optimum when `n ≤ s + 1`**: the grid has not thinned, every iteration has a
//!   snapshot, and the sweep costs `n`.
//!
//! Measured against the offline optimum (plain steps online / offline, the forward sweep
//! included; `cargo test -p autodiff-runtime --release --lib online_report -- --nocapture`):
//!
//! | `n` | `s = 1` | `s = 2` | `s = 3` | `s = 8` | `s = 32` |
//! |---|---|---|---|---|---|
//! | 7 | 1.000 | 1.091 | 1.000 | 1.000 | 1.000 |
//! | 64 | 1.126 | 1.125 | 1.064 | 1.062 | 1.000 |
//! | 1000 | 1.033 | 1.081 | 1.034 | 1.025 | 1.009 |
//! | 10⁵ | 1.003 | 1.016 | 1.021 | 1.014 | 1.008 |
//! | 10⁶ | 1.001 | 1.007 | 1.019 | 1.009 | 1.005 |
//!
//! Over every `n ≤ 1500` and 20 trip counts per decade up to 10⁶, the worst ratios are 1.175
//! (`s = 1`, `n = 29`), 1.154 (`s = 2`, `n = 8`), 1.100 (`s = 3`), 1.103 (`s = 8`) and 1.078
//! (`s = 32`, `n = 594`): the excess is largest for short loops, where a few steps weigh much,
//! and shrinks as `n` grows, far inside the proven factor 2.

mod binomial;
mod online;
mod schedule;
#[cfg(test)]
mod tests;

pub use binomial::{
    beta, optimal_forward_steps, repetitions, revolve_advances, revolve_repetitions,
};
pub use schedule::{Action, Checkpointer, Stats};

use std::cell::Cell;

thread_local! {
    static LAST_STATS: Cell<Option<Stats>> = const { Cell::new(None) };
}

/// The [`Stats`] of the last backward sweep of a checkpointed loop (`#[checkpoint(..)]`,
/// `#[differentiate(checkpoint(..))]`) that finished on this thread, if any: how many times the
/// loop body ran plainly (the forward sweep's `n` included) and how many snapshots were held.
///
/// With nested checkpointed loops, the last sweep to finish is the outer loop's.
///
/// For a `_grad` of a loop of `n` iterations with `s` snapshots, `forward_steps` is
/// [`optimal_forward_steps`]`(n, s)` under the binomial schedule (a `for` loop over a range
/// without `break`) and at most `optimal_forward_steps(n, s) + n` under the online one.
pub fn last_stats() -> Option<Stats> {
    LAST_STATS.with(Cell::get)
}

pub(crate) fn set_last_stats(stats: Stats) {
    LAST_STATS.with(|c| c.set(Some(stats)));
}
