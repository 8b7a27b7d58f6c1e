//! Tests of the checkpointing schedules: the binomial arithmetic against exhaustive search, the
//! action protocol driven exactly as generated code drives it (every iteration reversed once, in
//! order, from the true state), forward-step counts against Griewank's optimum, the online
//! schedule's proven bound, and gradients of a damped pendulum through both schedules against a
//! tape of all states and against finite differences.

use std::collections::{HashMap, VecDeque};

use super::binomial::{AdvanceCosts, optimal_split_range, split};
use super::online::choose_kept;
use super::*;
use crate::check::{assert_close, assert_gradient};

// ---------------------------------------------------------------------------------------------
// The driver: the loop generated code emits, with the protocol's invariants asserted.
// ---------------------------------------------------------------------------------------------

/// Runs `n` iterations of `step` forward and then backward through `cp`, as the code generated
/// for a checkpointed loop does: `offer` before every plain iteration, `finish`, then one arm per
/// action. `reverse(at, state)` is the recorded iteration with its backward pass. `seen(at,
/// state)` sees every state the schedule claims is the one before iteration `at` (restored and
/// about to be reversed). Returns the forward sweep's final state.
///
/// Asserts the protocol: `Advance` starts where the current state is, `Reverse { at }` comes for
/// `at = n − 1, …, 0` in order with the current state before `at`, and at most `3n + 1` actions
/// (a `Restore`, an `Advance` and a `Reverse` per iteration, then `Done`).
fn drive<S: Clone>(
    cp: &mut Checkpointer<S>,
    x0: S,
    n: usize,
    mut step: impl FnMut(usize, &S) -> S,
    mut reverse: impl FnMut(usize, &S),
    mut seen: impl FnMut(usize, &S),
) -> S {
    let mut x = x0;
    for k in 0..n {
        cp.offer(k, || x.clone());
        x = step(k, &x);
    }
    cp.finish(n);
    let y = x.clone();

    let mut expected = n;
    let mut live: Option<usize> = None;
    let mut actions = 0usize;
    loop {
        actions += 1;
        assert!(actions <= 3 * n + 1, "more than 3n + 1 actions for n = {n}");
        match cp.next_action() {
            Action::Restore { at, state } => {
                assert!(
                    at < expected,
                    "restored {at}, but {expected}.. are reversed"
                );
                seen(at, &state);
                x = state;
                live = Some(at);
            }
            Action::Advance { from, to } => {
                assert_eq!(live, Some(from), "advance from {from} without that state");
                assert!(
                    from < to && to < expected,
                    "advance {from}..{to}, reversing {expected}"
                );
                for k in from..to {
                    cp.offer(k, || x.clone());
                    x = step(k, &x);
                }
                live = Some(to);
            }
            Action::Reverse { at } => {
                assert!(
                    expected > 0 && at == expected - 1,
                    "reversed {at}, expected {expected}-1"
                );
                assert_eq!(live, Some(at), "reversed {at} without the state before it");
                seen(at, &x);
                reverse(at, &x);
                expected = at;
                live = None;
            }
            Action::Done => break,
        }
    }
    assert_eq!(expected, 0, "done before iteration 0 was reversed");
    assert!(matches!(cp.next_action(), Action::Done), "done stays done");
    y
}

/// What a run of the position-counting loop saw.
struct Counted {
    stats: Stats,
    /// How often each iteration ran plainly.
    runs: Vec<u32>,
}

/// Drives `cp` over `n` iterations whose state is the iteration count itself (`k ↦ k + 1`), so
/// every state can be checked exactly, and counts how often each iteration runs plainly.
fn count(mut cp: Checkpointer<usize>, n: usize) -> Counted {
    let mut runs = vec![0u32; n];
    let mut reversed = Vec::new();
    let y = drive(
        &mut cp,
        0,
        n,
        |k, &x| {
            assert_eq!(x, k, "iteration {k} ran from the state before {x}");
            runs[k] += 1;
            x + 1
        },
        |at, _| reversed.push(at),
        |at, &x| assert_eq!(x, at, "the state claimed before {at} is the one before {x}"),
    );
    assert_eq!(y, n);
    assert_eq!(reversed, (0..n).rev().collect::<Vec<_>>());
    let stats = cp.stats();
    assert_eq!(stats.iterations, n);
    assert_eq!(stats.reversed, n);
    assert_eq!(
        stats.forward_steps,
        runs.iter().map(|&r| u64::from(r)).sum::<u64>(),
        "forward_steps counts the plain runs"
    );
    Counted { stats, runs }
}

// ---------------------------------------------------------------------------------------------
// Binomial arithmetic
// ---------------------------------------------------------------------------------------------

#[test]
fn beta_is_the_binomial_coefficient() {
    // β(c, r) = (c + r)! / (c! r!), from Pascal's triangle built by addition.
    let mut pascal = vec![vec![1u64; 1]];
    for row in 1..=60usize {
        let prev = &pascal[row - 1];
        let mut next = vec![1u64; row + 1];
        for k in 1..row {
            next[k] = prev[k - 1] + prev[k];
        }
        pascal.push(next);
    }
    for c in 0..=30u64 {
        for r in 0..=30u64 {
            assert_eq!(
                beta(c, r),
                pascal[(c + r) as usize][c as usize],
                "β({c}, {r})"
            );
        }
    }
    // Saturation instead of overflow.
    assert_eq!(beta(200, 200), u64::MAX);
    assert_eq!(beta(u64::MAX, 3), u64::MAX);
    assert_eq!(beta(u64::MAX, 0), 1);
}

#[test]
fn repetition_number_brackets_the_length() {
    for c in 1..=12u64 {
        for steps in 2..=3000u64 {
            let r = revolve_repetitions(steps, c);
            assert!(
                beta(c, r - 1) < steps && steps <= beta(c, r),
                "l = {steps}, c = {c}"
            );
        }
    }
    assert_eq!(revolve_repetitions(0, 0), 0);
    assert_eq!(revolve_repetitions(1, 0), 0);
    assert_eq!(revolve_repetitions(2, 0), u64::MAX);
    assert_eq!(revolve_advances(2, 0), u64::MAX);
}

/// The least advances reversing `steps` steps with `c` checkpoints, by trying every first
/// checkpoint position `j` (Griewank's recursion, without the closed form): advance `j` steps,
/// store, reverse the right part with one checkpoint fewer, then the left part. A right part of
/// one step is reversed from the current state and needs no checkpoint.
fn recursive_minimum(steps: usize, c: usize, memo: &mut HashMap<(usize, usize), u64>) -> u64 {
    if steps <= 1 {
        return 0;
    }
    if c == 0 {
        return u64::MAX;
    }
    if let Some(&t) = memo.get(&(steps, c)) {
        return t;
    }
    let mut best = u64::MAX;
    for j in 1..steps {
        let right = if steps - j == 1 {
            0
        } else {
            recursive_minimum(steps - j, c - 1, memo)
        };
        let left = recursive_minimum(j, c, memo);
        best = best.min((j as u64).saturating_add(right).saturating_add(left));
    }
    memo.insert((steps, c), best);
    best
}

#[test]
fn griewank_formula_is_the_recursive_minimum() {
    let mut memo = HashMap::new();
    for c in 1..=6 {
        for steps in 0..=150 {
            assert_eq!(
                revolve_advances(steps as u64, c as u64),
                recursive_minimum(steps, c, &mut memo),
                "t({steps}, {c})"
            );
        }
    }
    // One checkpoint: restart from the beginning for every step, (l − 1) + … + 1.
    assert_eq!(revolve_advances(1000, 1), 999 * 1000 / 2);
}

/// The least plain runs of the body reversing a loop of `n` iterations with `slots` snapshot
/// slots, by exhaustive search over everything the protocol allows: the forward sweep runs
/// `0..n` keeping any set of at most `slots` snapshots; then, at no cost, restore any snapshot,
/// store the current state in a free slot, drop a snapshot, or reverse iteration `fine − 1` if
/// the current state is the one before it; and at cost 1 advance the current state.
fn exhaustive_minimum(n: usize, slots: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    // State: (snapshot set as a bit mask over 0..n, current state's iteration or n for none,
    // first reversed iteration). 0-1 breadth-first search from every set the forward sweep can
    // leave (any set of at most `slots` iterations).
    let none = n;
    let mut dist: HashMap<(u32, usize, usize), u64> = HashMap::new();
    let mut queue = VecDeque::new();
    for mask in 0u32..(1 << n) {
        if (mask.count_ones() as usize) <= slots {
            dist.insert((mask, none, n), 0);
            queue.push_back((mask, none, n));
        }
    }
    while let Some(node) = queue.pop_front() {
        let (mask, live, fine) = node;
        let d = dist[&node];
        if fine == 0 {
            return n as u64 + d;
        }
        let mut moves: Vec<((u32, usize, usize), u64)> = Vec::new();
        for q in 0..n {
            if mask & (1 << q) != 0 {
                if q < fine {
                    moves.push(((mask, q, fine), 0)); // restore
                }
                moves.push(((mask & !(1 << q), live, fine), 0)); // drop
            }
        }
        if live != none {
            if live == fine - 1 {
                moves.push(((mask, none, fine - 1), 0)); // reverse
            } else {
                moves.push(((mask, live + 1, fine), 1)); // advance
            }
            if mask & (1 << live) == 0 && (mask.count_ones() as usize) < slots {
                moves.push(((mask | (1 << live), live, fine), 0)); // store
            }
        }
        for (next, cost) in moves {
            let nd = d + cost;
            if dist.get(&next).is_none_or(|&old| nd < old) {
                dist.insert(next, nd);
                if cost == 0 {
                    queue.push_front(next);
                } else {
                    queue.push_back(next);
                }
            }
        }
    }
    unreachable!("iteration 0 can always be reversed from a snapshot of the initial state")
}

#[test]
fn loop_optimum_is_the_exhaustive_minimum() {
    // Checks the modelling step from Revolve's convention to loops: optimal_forward_steps(n, s)
    // = t(n + 1, s + 1), against every schedule the protocol allows.
    for n in 0..=7 {
        for s in 0..=4 {
            assert_eq!(
                optimal_forward_steps(n, s),
                exhaustive_minimum(n, s + 1),
                "n = {n}, s = {s}"
            );
        }
    }
}

#[test]
fn optimal_splits_are_the_derived_range() {
    // Every j in the derived range attains t(l, c), and no j outside it does.
    let mut memo = HashMap::new();
    for c in 2..=6u64 {
        for l in 2..=120u64 {
            let best = revolve_advances(l, c);
            let (lo, hi) = optimal_split_range(l, c);
            for j in 1..l {
                let right = if l - j == 1 {
                    0
                } else {
                    recursive_minimum((l - j) as usize, (c - 1) as usize, &mut memo)
                };
                let cost = j + right + revolve_advances(j, c);
                assert_eq!(
                    cost == best,
                    (lo..=hi).contains(&j),
                    "l = {l}, c = {c}, j = {j}"
                );
            }
        }
    }
}

#[test]
fn split_rule_stays_in_the_optimal_range() {
    for c in 2..=40u64 {
        for l in 2..=2000u64 {
            let (lo, hi) = optimal_split_range(l, c);
            let j = split(l, c);
            assert!(
                lo <= j && j <= hi,
                "l = {l}, c = {c}: {j} not in {lo}..={hi}"
            );
        }
    }
    // And for long ranges, spread over many scales.
    let mut l = 2001u64;
    while l < 1 << 40 {
        for c in [2u64, 3, 5, 9, 17, 33, 65] {
            let (lo, hi) = optimal_split_range(l, c);
            let j = split(l, c);
            assert!(
                lo <= j && j <= hi,
                "l = {l}, c = {c}: {j} not in {lo}..={hi}"
            );
        }
        l = l * 3 / 2 + 7;
    }
}

/// Snapshots a schedule stores reversing `l` steps with `c` checkpoints when it splits with
/// `choose` (the first checkpoint, at the start, not counted).
fn stores_with(l: u64, c: u64, choose: &impl Fn(u64, u64) -> u64) -> u64 {
    if l <= 1 || c <= 1 {
        return 0;
    }
    let j = choose(l, c);
    let right = if l - j >= 2 {
        1 + stores_with(l - j, c - 1, choose)
    } else {
        0
    };
    right + stores_with(j, c, choose)
}

fn fewest_stores(l: u64, c: u64, memo: &mut HashMap<(u64, u64), u64>) -> u64 {
    if l <= 1 || c <= 1 {
        return 0;
    }
    if let Some(&s) = memo.get(&(l, c)) {
        return s;
    }
    let (lo, hi) = optimal_split_range(l, c);
    let best = (lo..=hi)
        .map(|j| {
            let right = if l - j >= 2 {
                1 + fewest_stores(l - j, c - 1, memo)
            } else {
                0
            };
            right + fewest_stores(j, c, memo)
        })
        .min()
        .unwrap_or(0);
    memo.insert((l, c), best);
    best
}

#[test]
fn split_rule_stores_the_fewest_snapshots_of_all_optimal_schedules() {
    let mut memo = HashMap::new();
    for c in 2..=8u64 {
        for l in 2..=300u64 {
            assert_eq!(
                stores_with(l, c, &split),
                fewest_stores(l, c, &mut memo),
                "l = {l}, c = {c}"
            );
        }
    }
    // Not every optimal rule does: always the largest left part stores more here.
    let largest = |l, c| optimal_split_range(l, c).1;
    assert!(stores_with(1001, 9, &largest) > stores_with(1001, 9, &split));
}

#[test]
fn more_checkpoints_than_steps_store_before_every_step() {
    for l in 2..=50u64 {
        for c in [l - 1, l, l + 1, 1 << 40, u64::MAX] {
            assert_eq!(split(l, c), 1, "l = {l}, c = {c}");
            assert_eq!(revolve_advances(l, c), l - 1, "l = {l}, c = {c}");
        }
    }
    // A checkpointer with unbounded snapshots keeps them all and recomputes nothing.
    for cp in [
        Checkpointer::binomial(300, usize::MAX),
        Checkpointer::online(usize::MAX),
    ] {
        let c = count(cp, 300);
        assert_eq!((c.stats.forward_steps, c.stats.peak_snapshots), (300, 300));
    }
}

#[test]
fn cost_table_matches_the_formula() {
    for c in (0..=10u64).chain([100, 4999, 5000, 5001, u64::MAX]) {
        let table = AdvanceCosts::new(c, 5000);
        for l in 0..=5000u64 {
            assert_eq!(table.advances(l), revolve_advances(l, c), "t({l}, {c})");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The schedules, counted
// ---------------------------------------------------------------------------------------------

const COUNT_NS: [usize; 15] = [0, 1, 2, 3, 4, 5, 7, 8, 13, 31, 64, 100, 257, 1000, 4099];
const COUNT_SS: [usize; 12] = [0, 1, 2, 3, 4, 5, 7, 8, 16, 32, 100, 5000];

#[test]
fn binomial_schedule_attains_the_optimum() {
    for n in COUNT_NS {
        for s in COUNT_SS {
            if s == 0 && n > 1000 {
                continue; // n²/2 steps; n = 1000 already covers s = 0
            }
            let Counted { stats, runs } = count(Checkpointer::binomial(n, s), n);
            assert_eq!(
                stats.forward_steps,
                optimal_forward_steps(n, s),
                "n = {n}, s = {s}"
            );
            assert!(stats.peak_snapshots <= s + 1, "n = {n}, s = {s}");
            // No iteration runs plainly more than r times, and some run exactly r times.
            let most = runs.iter().copied().max().unwrap_or(0);
            assert_eq!(u64::from(most), repetitions(n, s), "n = {n}, s = {s}");
        }
    }
}

#[test]
fn binomial_schedule_edge_cases() {
    // n = 0: nothing stored, nothing to do.
    let c = count(Checkpointer::binomial(0, 3), 0);
    assert_eq!((c.stats.forward_steps, c.stats.stores), (0, 0));

    // s ≥ n − 1: a snapshot before every iteration, each moved out when restored: no
    // recomputation and no clone on the backward sweep.
    for n in 1..=20 {
        for s in [n - 1, n, n + 5] {
            let c = count(Checkpointer::binomial(n, s), n);
            assert_eq!(c.stats.forward_steps, n as u64);
            assert_eq!(c.stats.stores, n as u64);
            assert_eq!(c.stats.peak_snapshots, n);
            assert_eq!(c.stats.restore_clones, 0);
        }
    }

    // s = 0: the initial state alone, recomputed from for every iteration but the first, whose
    // restore takes it: n − 1 clones and n(n + 1)/2 plain steps.
    for n in 1..=30 {
        let c = count(Checkpointer::binomial(n, 0), n);
        assert_eq!(c.stats.forward_steps, (n * (n + 1) / 2) as u64);
        assert_eq!(c.stats.peak_snapshots, 1);
        assert_eq!(c.stats.restore_clones, (n - 1) as u64);
    }
}

#[test]
fn binomial_schedule_survives_a_different_trip_count() {
    // Declared n, but the loop breaks early or runs longer: the reversal stays right (the
    // driver checks every state), only not optimal.
    for (declared, actual) in [(100, 37), (100, 0), (100, 1), (10, 64), (0, 5)] {
        for s in [0, 2, 8] {
            let c = count(Checkpointer::binomial(declared, s), actual);
            assert!(c.stats.peak_snapshots <= s + 1);
        }
    }
}

#[test]
fn a_snapshot_after_the_last_iteration_is_dropped() {
    // Code that asks before testing the loop condition also asks before iteration n.
    let mut cp = Checkpointer::online(4);
    for k in 0..=3 {
        cp.offer(k, || k);
    }
    cp.finish(3);
    assert_eq!(
        cp.next_action(),
        Action::Restore { at: 2, state: 2 },
        "the snapshot before the missing iteration 3 is gone"
    );
}

#[test]
fn online_schedule_is_within_its_bound() {
    for n in COUNT_NS {
        for s in COUNT_SS {
            if s == 0 && n > 1000 {
                continue;
            }
            let Counted { stats, .. } = count(Checkpointer::online(s), n);
            let optimum = optimal_forward_steps(n, s);
            assert!(
                stats.forward_steps >= optimum,
                "n = {n}, s = {s}: below the optimum"
            );
            // Proven in the module documentation: keeping only the initial state is one of the
            // choices, and it costs n + t(n, s + 1) ≤ n + t(n + 1, s + 1).
            assert!(
                stats.forward_steps <= optimum + n as u64,
                "n = {n}, s = {s}: {} > {optimum} + {n}",
                stats.forward_steps
            );
            if n <= s + 1 {
                assert_eq!(stats.forward_steps, optimum, "n = {n}, s = {s}");
            }
            assert!(stats.peak_snapshots <= s + 1, "n = {n}, s = {s}");
        }
    }
}

#[test]
fn online_grid_is_full_and_even() {
    for s in [1usize, 2, 3, 4, 7, 8, 32] {
        let slots = s + 1;
        let mut cp = Checkpointer::online(s);
        for k in 0..5000 {
            cp.offer(k, || k);
            let held = cp.snapshot_positions();
            // Every slot in use as soon as there are enough iterations.
            assert_eq!(held.len(), slots.min(k + 1), "s = {s}, k = {k}");
            if s == 0 {
                continue;
            }
            // On multiples of a power-of-two d, neighbours d or 2d apart, the last one less
            // than 2d before the current iteration.
            let gaps: Vec<usize> = held.windows(2).map(|w| w[1] - w[0]).collect();
            let d = gaps.iter().copied().min().unwrap_or(1);
            assert!(d.is_power_of_two() && held.iter().all(|&p| p % d == 0));
            assert!(
                gaps.iter().all(|&g| g == d || g == 2 * d),
                "s = {s}, k = {k}: {held:?}"
            );
            assert!(
                k - held[held.len() - 1] < 2 * d,
                "s = {s}, k = {k}: {held:?}"
            );
        }
    }
}

#[test]
fn online_schedule_costs_what_its_choice_predicts() {
    for n in [9usize, 64, 1000, 4099] {
        for s in [1usize, 2, 3, 8, 32, 100] {
            let mut cp = Checkpointer::online(s);
            for k in 0..n {
                cp.offer(k, || k);
            }
            let (_, predicted) = choose_kept(&cp.snapshot_positions(), n, s + 1);
            let c = count(Checkpointer::online(s), n);
            assert_eq!(
                c.stats.forward_steps,
                n as u64 + predicted,
                "n = {n}, s = {s}"
            );
        }
    }
}

#[test]
fn while_loop_with_unknown_trip_count() {
    // x ← x/2 + 1 until within 1e-9 of its fixed point 2, from x = 1000: the count is found by
    // running. The state is (iteration, x); the reversal must hand back every state exactly.
    let step = |x: f64| x / 2.0 + 1.0;
    let mut cp = Checkpointer::online(3);
    let mut states = vec![1000.0f64];
    let mut x = 1000.0f64;
    let mut k = 0;
    while (x - 2.0).abs() > 1e-9 {
        cp.offer(k, || x);
        x = step(x);
        states.push(x);
        k += 1;
    }
    cp.finish(k);
    assert!(k > 10);
    let mut expected = k;
    let mut cur = f64::NAN;
    loop {
        match cp.next_action() {
            Action::Restore { at, state } => {
                assert_eq!(state.to_bits(), states[at].to_bits());
                cur = state;
            }
            Action::Advance { from, to } => {
                for j in from..to {
                    cp.offer(j, || cur);
                    cur = step(cur);
                }
            }
            Action::Reverse { at } => {
                assert_eq!(at + 1, expected);
                assert_eq!(cur.to_bits(), states[at].to_bits());
                expected = at;
            }
            Action::Done => break,
        }
    }
    assert_eq!(expected, 0);
    assert!(cp.stats().forward_steps <= optimal_forward_steps(k, 3) + k as u64);
}

#[test]
#[should_panic(expected = "not asked for")]
fn storing_unasked_panics() {
    let mut cp = Checkpointer::binomial(100, 2);
    cp.store(0, 0.0);
    cp.store(1, 1.0);
}

#[test]
#[should_panic(expected = "after `finish`")]
fn backward_before_finish_panics() {
    let mut cp = Checkpointer::<f64>::online(2);
    cp.next_action();
}

#[test]
#[should_panic(expected = "called twice")]
fn finishing_twice_panics() {
    let mut cp = Checkpointer::<f64>::online(2);
    cp.finish(0);
    cp.finish(0);
}

#[test]
#[should_panic(expected = "initial state must be stored")]
fn skipping_the_initial_state_panics() {
    let mut cp = Checkpointer::<f64>::binomial(3, 2);
    cp.finish(3);
    cp.next_action();
}

/// 10⁶ iterations with 32 snapshots, counted with a trivial state (quick in debug builds too).
#[test]
fn a_million_iterations_with_32_snapshots() {
    let (n, s) = (1_000_000usize, 32usize);
    // Griewank: with c = 33 checkpoints the repetition number of l = n + 1 steps is 6, because
    // β(33, 5) = C(38, 5) < n + 1 ≤ β(33, 6) = C(39, 6).
    let l = n as u64 + 1;
    assert!(beta(33, 5) < l && l <= beta(33, 6));
    assert_eq!(repetitions(n, s), 6);

    let Counted { stats, runs } = count(Checkpointer::binomial(n, s), n);
    assert_eq!(stats.forward_steps, optimal_forward_steps(n, s));
    assert!(stats.peak_snapshots <= s + 1);
    // Measured on the schedule: some iterations run 6 times, none more, and the average lies
    // between 5 and 6, as t = 6(n + 1) − β(34, 5) says.
    assert_eq!(runs.iter().copied().max(), Some(6));
    let per_iteration = stats.forward_steps as f64 / n as f64;
    assert!(
        5.0 < per_iteration && per_iteration < 6.0,
        "{per_iteration}"
    );
    assert_eq!(
        stats.forward_steps,
        6 * (n as u64 + 1) - beta(34, 5),
        "t(l, c) = r·l − β(c + 1, r − 1)"
    );
    // Revolve's own figure (32 checkpoints, the initial state among them, 10⁶ steps, the last
    // not advanced) is the "about 5.5 forward steps per step": 6·10⁶ − β(33, 5).
    let revolve = revolve_advances(n as u64, 32);
    assert_eq!(revolve, 6 * n as u64 - beta(33, 5));
    assert!((5.45..5.55).contains(&(revolve as f64 / n as f64)));

    let online = count(Checkpointer::online(s), n).stats;
    assert!(online.forward_steps <= stats.forward_steps + n as u64);
    assert!(online.peak_snapshots <= s + 1);
}

/// Prints the online / offline table of the module documentation and the worst ratio over a
/// scan of trip counts (run in release with `--nocapture`), asserting the proven bound
/// throughout. The table drives the schedules; the scan predicts the online cost from the grid
/// and the subset choice, which `online_schedule_costs_what_its_choice_predicts` checks.
#[test]
fn online_report() {
    let release = !cfg!(debug_assertions);
    let ns: &[usize] = if release {
        &[7, 64, 1000, 100_000, 1_000_000]
    } else {
        &[7, 64, 1000]
    };
    let ss = [1usize, 2, 3, 8, 32];
    println!("| n | {} |", ss.map(|s| format!("s = {s}")).join(" | "));
    for &n in ns {
        let mut row = Vec::new();
        for s in ss {
            let online = count(Checkpointer::online(s), n).stats.forward_steps;
            let optimum = optimal_forward_steps(n, s);
            assert!(optimum <= online && online <= optimum + n as u64);
            row.push(format!("{:.3}", online as f64 / optimum as f64));
        }
        println!("| {n} | {} |", row.join(" | "));
    }

    // Every n up to `dense`, then 20 per decade up to `top`.
    let (dense, top) = if release {
        (1500, 1_000_000)
    } else {
        (300, 3000)
    };
    let mut sampled: Vec<usize> = (1..=dense).collect();
    sampled.extend((64..=120).map(|e| 10f64.powf(e as f64 / 20.0) as usize));
    sampled.retain(|&n| n <= top);
    for s in ss {
        let mut cp = Checkpointer::online(s);
        let mut worst = (1.0f64, 0usize);
        let mut next = sampled.iter().peekable();
        for k in 0..top {
            cp.offer(k, || ());
            let n = k + 1;
            if next.peek() != Some(&&n) {
                continue;
            }
            next.next();
            let (_, recomputed) = choose_kept(&cp.snapshot_positions(), n, s + 1);
            let online = n as u64 + recomputed;
            let optimum = optimal_forward_steps(n, s);
            assert!(
                optimum <= online && online <= optimum + n as u64,
                "n = {n}, s = {s}"
            );
            let ratio = online as f64 / optimum as f64;
            if ratio > worst.0 {
                worst = (ratio, n);
            }
        }
        println!(
            "s = {s}: worst online / optimum {:.3} at n = {} (n ≤ {dense}, and 20 per decade to {top})",
            worst.0, worst.1
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Gradients through the schedules: a damped pendulum stepped by explicit Euler
// ---------------------------------------------------------------------------------------------

/// The pendulum `ẍ = −k·sin x − γ·ẋ` with parameters `[k, γ]`, stepped by explicit Euler with
/// step `H`: the state `[x, v]` becomes
///
/// `x' = x + H·v`, `v' = v + H·(−k·sin x − γ·v)`.
const H: f64 = 0.01;

fn pendulum_step(p: &[f64; 2], s: &[f64; 2]) -> [f64; 2] {
    let [x, v] = *s;
    [x + H * v, v + H * (-p[0] * x.sin() - p[1] * v)]
}

/// Pulls the cotangent `[x̄', v̄']` of one step's output back to its input `s`, adding the
/// parameters' share to `p_bar`. From the partials of the step:
///
/// `∂x'/∂x = 1`, `∂x'/∂v = H`, `∂v'/∂x = −H·k·cos x`, `∂v'/∂v = 1 − H·γ`,
/// `∂v'/∂k = −H·sin x`, `∂v'/∂γ = −H·v`,
///
/// so `x̄ = x̄' − H·k·cos x·v̄'`, `v̄ = H·x̄' + (1 − H·γ)·v̄'`, `k̄ += −H·sin x·v̄'`,
/// `γ̄ += −H·v·v̄'`.
fn pendulum_step_vjp(p: &[f64; 2], s: &[f64; 2], bar: [f64; 2], p_bar: &mut [f64; 2]) -> [f64; 2] {
    let [x, v] = *s;
    // The record of the step: what its backward pass reads.
    let (sin, cos) = x.sin_cos();
    p_bar[0] += -H * sin * bar[1];
    p_bar[1] += -H * v * bar[1];
    [
        bar[0] - H * p[0] * cos * bar[1],
        H * bar[0] + (1.0 - H * p[1]) * bar[1],
    ]
}

const X0: [f64; 2] = [1.2, -0.3];
const PARAMS: [f64; 2] = [9.81, 0.35];
const SEED: [f64; 2] = [1.0, 0.5];

/// The reference: all `n + 1` states on a tape, then the backward pass over it. Returns the
/// states, and the gradient of `⟨SEED, final state⟩` with respect to the initial state and the
/// parameters.
fn tape_gradient(x0: [f64; 2], p: [f64; 2], n: usize) -> (Vec<[f64; 2]>, [f64; 2], [f64; 2]) {
    let mut tape = Vec::with_capacity(n + 1);
    tape.push(x0);
    for k in 0..n {
        let next = pendulum_step(&p, &tape[k]);
        tape.push(next);
    }
    let mut bar = SEED;
    let mut p_bar = [0.0; 2];
    for k in (0..n).rev() {
        bar = pendulum_step_vjp(&p, &tape[k], bar, &mut p_bar);
    }
    (tape, bar, p_bar)
}

/// The same gradient through `cp`, driven as generated code drives it; checks bitwise that
/// every state the schedule hands back is the true one.
fn checkpointed_gradient(
    mut cp: Checkpointer<[f64; 2]>,
    tape: &[[f64; 2]],
    n: usize,
) -> ([f64; 2], [f64; 2], [f64; 2], Stats) {
    let p = PARAMS;
    let mut bar = SEED;
    let mut p_bar = [0.0; 2];
    let bits = |s: &[f64; 2]| s.map(f64::to_bits);
    let y = drive(
        &mut cp,
        tape[0],
        n,
        |_, s| pendulum_step(&p, s),
        |_, s| bar = pendulum_step_vjp(&p, s, bar, &mut p_bar),
        |at, s| assert_eq!(bits(s), bits(&tape[at]), "state before {at}"),
    );
    (y, bar, p_bar, cp.stats())
}

#[test]
fn pendulum_tape_gradient_matches_finite_differences() {
    // The hand-written step vjp, composed over 64 steps, against central differences of
    // z = [x₀, v₀, k, γ] ↦ ⟨SEED, x_n(z)⟩.
    let n = 64;
    let f = |z: &[f64; 4]| {
        let (tape, _, _) = tape_gradient([z[0], z[1]], [z[2], z[3]], n);
        SEED[0] * tape[n][0] + SEED[1] * tape[n][1]
    };
    let (_, bar, p_bar) = tape_gradient(X0, PARAMS, n);
    let z = [X0[0], X0[1], PARAMS[0], PARAMS[1]];
    assert_gradient(f, &z, &[bar[0], bar[1], p_bar[0], p_bar[1]]);
}

/// Both schedules against the tape for one `(n, s)`.
fn check_pendulum(n: usize, s: usize) {
    let (tape, bar, p_bar) = tape_gradient(X0, PARAMS, n);
    let schedules = [
        ("binomial", Checkpointer::binomial(n, s)),
        ("online", Checkpointer::online(s)),
    ];
    for (name, cp) in schedules {
        let (y, got_bar, got_p_bar, stats) = checkpointed_gradient(cp, &tape, n);
        assert_eq!(y.map(f64::to_bits), tape[n].map(f64::to_bits));
        for (got, want) in got_bar
            .iter()
            .chain(&got_p_bar)
            .zip(bar.iter().chain(&p_bar))
        {
            assert_close(*got, *want, 1e-12);
        }
        let optimum = optimal_forward_steps(n, s);
        match name {
            "binomial" => assert_eq!(stats.forward_steps, optimum, "{name} n = {n}, s = {s}"),
            _ => assert!(
                stats.forward_steps <= optimum + n as u64,
                "{name} n = {n}, s = {s}"
            ),
        }
        assert!(stats.peak_snapshots <= s + 1, "{name} n = {n}, s = {s}");
    }
}

#[test]
fn pendulum_gradients_through_both_schedules() {
    for n in [0usize, 1, 2, 3, 7, 64, 1000, 100_000] {
        for s in [0usize, 1, 2, 3, 8, 32] {
            if s == 0 && n == 100_000 {
                continue; // n(n + 1)/2 = 5·10⁹ steps; s = 0 is covered up to n = 1000
            }
            check_pendulum(n, s);
        }
    }
}

/// The full 10⁶-iteration, 32-snapshot gradient; about 6·10⁶ pendulum steps.
#[test]
#[cfg_attr(debug_assertions, ignore = "release only: run with --release")]
fn pendulum_gradient_a_million_iterations() {
    check_pendulum(1_000_000, 32);
}
