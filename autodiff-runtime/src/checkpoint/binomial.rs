//! The arithmetic of binomial checkpointing: Griewank's `β(c, r)`, the minimal number of forward
//! steps, and the rule that places the next checkpoint of an optimal (Revolve) schedule.
//!
//! Two conventions meet here. Griewank and Walther count `c` *checkpoints* including the one that
//! holds the initial state, and `l` *steps* of which the last one is never run plainly: the forward
//! sweep stops before it and runs it with recording. [`revolve_advances`] and
//! [`revolve_repetitions`] use that convention. A [`Checkpointer`](super::Checkpointer) counts `s`
//! *snapshots* besides the always kept initial state and runs all `n` iterations plainly in the
//! forward sweep (the loop's value is needed before anything is reversed). That is Revolve's
//! problem with `c = s + 1` and `l = n + 1`: a last, free "iteration" `n` stands for the turn from
//! the forward to the backward sweep. [`optimal_forward_steps`] and [`repetitions`] use the loop
//! convention.

/// Griewank's `β(c, r) = C(c + r, c)`: the most steps that `c` checkpoints reverse when no step
/// runs plainly more than `r` times (Revolve's convention: the initial state occupies one of the
/// `c` checkpoints). Saturates at `u64::MAX`.
///
/// `β(c, r) = β(c, r − 1) + β(c − 1, r)`: the first checkpoint after the start splits the range
/// into a left part, which is swept once more and then reversed with all `c` checkpoints and
/// `r − 1` further repetitions, and a right part, reversed with `c − 1` checkpoints and `r`.
///
/// ```
/// use autodiff_runtime::checkpoint::beta;
///
/// assert_eq!(beta(1, 4), 5); // one checkpoint: recompute from the start every time
/// assert_eq!(beta(32, 6), 2_760_681);
/// ```
pub fn beta(checkpoints: u64, repetitions: u64) -> u64 {
    let k = u128::from(checkpoints.min(repetitions));
    let top = u128::from(checkpoints) + u128::from(repetitions);
    let mut b: u128 = 1;
    for i in 1..=k {
        // Now b = C(top − k + i − 1, i − 1); afterwards b = C(top − k + i, i), which only grows
        // with i, so a value past the cap stays past it.
        b = match b.checked_mul(top - k + i) {
            Some(p) => p / i,
            None => return u64::MAX,
        };
        if b > u128::from(u64::MAX) {
            return u64::MAX;
        }
    }
    b as u64
}

/// `β(c, r)` for arguments that may be negative in the split rule's formulas, where the count is
/// zero: no checkpoints below none, no repetitions below none.
fn beta_signed(checkpoints: i64, repetitions: i64) -> u64 {
    if checkpoints < 0 || repetitions < 0 {
        0
    } else {
        beta(checkpoints as u64, repetitions as u64)
    }
}

/// The repetition number of Revolve: the least `r` with `steps ≤ β(c, r)`, the most times any
/// step runs plainly when `c` checkpoints (the initial state's included) reverse `steps` steps
/// optimally. `u64::MAX` when `c = 0` and `steps ≥ 2` (impossible without a checkpoint).
///
/// ```
/// use autodiff_runtime::checkpoint::revolve_repetitions;
///
/// assert_eq!(revolve_repetitions(1_000_000, 32), 6); // β(32, 5) = 435 897 < 10⁶ ≤ β(32, 6)
/// ```
pub fn revolve_repetitions(steps: u64, checkpoints: u64) -> u64 {
    if steps <= 1 {
        return 0;
    }
    if checkpoints == 0 {
        return u64::MAX;
    }
    // β(c, r) grows in r: double until it covers, then bisect. β(1, r) = r + 1 ≥ steps at
    // r = steps − 1, so the search ends.
    let (mut lo, mut hi) = (0u64, 1u64);
    while beta(checkpoints, hi) < steps {
        lo = hi;
        hi = hi.saturating_mul(2);
    }
    // Invariant: β(c, lo) < steps ≤ β(c, hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if beta(checkpoints, mid) < steps {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Griewank's minimal number of plain forward steps ("advances") that reverse `steps` steps with
/// `checkpoints` checkpoints, in Revolve's convention (the initial state occupies a checkpoint,
/// the last step is not advanced):
///
/// `t(l, c) = r·l − β(c + 1, r − 1)`, with `r` the [repetition number](revolve_repetitions),
/// `β(c, r − 1) < l ≤ β(c, r)`.
///
/// On each range `β(c, r − 1) < l ≤ β(c, r)` the cost grows by `r` per step, and the pieces meet
/// (`t` is convex and piecewise linear in `l`). `u64::MAX` when `c = 0` and `steps ≥ 2`.
///
/// ```
/// use autodiff_runtime::checkpoint::revolve_advances;
///
/// assert_eq!(revolve_advances(5, 1), 4 + 3 + 2 + 1); // one checkpoint: restart every time
/// assert_eq!(revolve_advances(1_000_000, 32), 5_498_058); // ≈ 5.5 advances per step
/// ```
pub fn revolve_advances(steps: u64, checkpoints: u64) -> u64 {
    let r = revolve_repetitions(steps, checkpoints);
    if r == 0 || r == u64::MAX {
        return r;
    }
    advances_with(steps, checkpoints, r, beta(checkpoints, r - 1))
}

/// `t(l, c) = r·l − β(c + 1, r − 1)` given `r ≥ 1` and `β(c, r − 1)`, using
/// `β(c + 1, r − 1) = β(c, r − 1)·(c + r)/(c + 1)`. Saturates at `u64::MAX`.
fn advances_with(steps: u64, checkpoints: u64, r: u64, beta_below: u64) -> u64 {
    let (l, c, r) = (u128::from(steps), u128::from(checkpoints), u128::from(r));
    let next = u128::from(beta_below) * (c + r) / (c + 1);
    u64::try_from(r * l - next).unwrap_or(u64::MAX)
}

/// The least number of plain runs of the loop body — the forward sweep's `n` plus all
/// recomputation — with which a loop of `n` iterations is reversed when `s` snapshots are kept
/// besides the initial state: Griewank's [`revolve_advances`]`(n + 1, s + 1)` (see the
/// [module documentation](super#conventions-and-the-optimum) for the `+ 1`s). The binomial
/// [`Checkpointer`](super::Checkpointer) attains it.
///
/// ```
/// use autodiff_runtime::checkpoint::optimal_forward_steps;
///
/// assert_eq!(optimal_forward_steps(10, 9), 10); // a snapshot before every iteration
/// assert_eq!(optimal_forward_steps(4, 0), 4 + 3 + 2 + 1); // restart from the initial state
/// ```
pub fn optimal_forward_steps(n: usize, snapshots: usize) -> u64 {
    revolve_advances(
        (n as u64).saturating_add(1),
        (snapshots as u64).saturating_add(1),
    )
}

/// The most times an optimal schedule runs any iteration plainly (the forward sweep included)
/// when `s` snapshots reverse `n` iterations: the least `r` with `n + 1 ≤ β(s + 1, r)`.
/// So `r` repetitions reverse at most `β(s + 1, r) − 1` iterations.
///
/// ```
/// use autodiff_runtime::checkpoint::repetitions;
///
/// assert_eq!(repetitions(1_000_000, 32), 6);
/// assert_eq!(repetitions(7, 7), 1); // everything stored: each iteration runs once
/// ```
pub fn repetitions(n: usize, snapshots: usize) -> u64 {
    revolve_repetitions(
        (n as u64).saturating_add(1),
        (snapshots as u64).saturating_add(1),
    )
}

/// Where an optimal schedule reversing `steps ≥ 2` steps with `checkpoints ≥ 1` checkpoints (the
/// one at the start included) puts its next checkpoint: the returned `j` is its distance from the
/// start, `1 ≤ j ≤ steps − 1`. With one checkpoint there is nothing to store and `j = steps − 1`:
/// advance to the last step and reverse it.
///
/// # Which `j`
///
/// The cost of a split is `j + t(j, c) + t(l − j, c − 1)`: advance `j` steps, reverse the right
/// part with one checkpoint fewer, then the left part with all of them. With `r` the repetition
/// number of `(l, c)`, the slopes of `t` show that the optimal `j` are exactly those with
///
/// `max(β(c, r − 2), l − β(c − 1, r)) ≤ j ≤ min(β(c, r − 1), l − β(c − 1, r − 1))`,
///
/// where the left part is reversed with `r − 1` repetitions and the right part with `r`, and the
/// total is `r·l − β(c + 1, r − 1)` by Pascal's rule. Among them this function takes the one of
/// Revolve (Griewank & Walther, ACM TOMS 26(1), 2000), which also stores the fewest snapshots of
/// all time-optimal schedules (the tests check both properties by exhaustive search, the second
/// for ranges up to 300 steps and 8 checkpoints):
///
/// - `l ≤ β(c, r − 1) + β(c − 2, r − 1)`: `j = β(c, r − 2)`, the smallest left part;
/// - `l ≥ β(c, r) − β(c − 3, r)`: `j = β(c, r − 1)`, the largest left part;
/// - otherwise `j = l − β(c − 1, r − 1) − β(c − 2, r − 1)`.
pub(crate) fn split(steps: u64, checkpoints: u64) -> u64 {
    debug_assert!(steps >= 2 && checkpoints >= 1);
    if checkpoints == 1 {
        return steps - 1;
    }
    // More checkpoints than steps change nothing (r = 1, a snapshot before every step), and the
    // formulas below need c to fit an i64.
    let checkpoints = checkpoints.min(steps);
    let r = revolve_repetitions(steps, checkpoints) as i64;
    let (c, l) = (checkpoints as i64, steps);
    let j = if l <= beta_signed(c, r - 1).saturating_add(beta_signed(c - 2, r - 1)) {
        beta_signed(c, r - 2)
    } else if l >= beta_signed(c, r).saturating_sub(beta_signed(c - 3, r)) {
        beta_signed(c, r - 1)
    } else {
        l - beta_signed(c - 1, r - 1) - beta_signed(c - 2, r - 1)
    };
    // β(c, −1) = 0 when every step gets a checkpoint (r = 1): the next step is the place.
    j.max(1)
}

/// The bounds of the optimal first splits derived in [`split`]'s documentation, for tests.
#[cfg(test)]
pub(crate) fn optimal_split_range(steps: u64, checkpoints: u64) -> (u64, u64) {
    let checkpoints = checkpoints.min(steps);
    let r = revolve_repetitions(steps, checkpoints) as i64;
    let c = checkpoints as i64;
    let lo = beta_signed(c, r - 2).max(steps.saturating_sub(beta_signed(c - 1, r)));
    let hi = beta_signed(c, r - 1).min(steps - beta_signed(c - 1, r - 1));
    (lo.max(1), hi)
}

/// `t(l, c)` for one `c` and many `l ≤ cover`, from a table of `β(c, r)`: the online schedule's
/// choice of snapshots to keep evaluates it `O(s³)` times.
pub(crate) struct AdvanceCosts {
    checkpoints: u64,
    /// `β(c, r)` for `r = 0, 1, …`, up to the first value `≥ cover`; empty for `c ≤ 1`, where
    /// `t(l, 1) = l(l − 1)/2` needs no table.
    betas: Vec<u64>,
}

impl AdvanceCosts {
    /// A table for `checkpoints` checkpoints and ranges of at most `cover` steps.
    pub(crate) fn new(checkpoints: u64, cover: u64) -> Self {
        // Checkpoints beyond the longest range change no cost (a snapshot before every step).
        let checkpoints = checkpoints.min(cover.max(2));
        let mut betas = Vec::new();
        if checkpoints >= 2 {
            // β(c, r) = β(c, r − 1)·(c + r)/r, exact in integers.
            let mut b: u64 = 1;
            betas.push(b);
            let mut r: u64 = 0;
            while b < cover {
                r += 1;
                let next = u128::from(b) * u128::from(checkpoints + r) / u128::from(r);
                b = u64::try_from(next).unwrap_or(u64::MAX);
                betas.push(b);
            }
        }
        AdvanceCosts { checkpoints, betas }
    }

    /// `t(steps, c)`, equal to [`revolve_advances`]`(steps, c)` for `steps ≤ cover`.
    pub(crate) fn advances(&self, steps: u64) -> u64 {
        if steps <= 1 {
            return 0;
        }
        match self.checkpoints {
            0 => u64::MAX,
            1 => advances_with(steps, 1, steps - 1, steps - 1),
            c => {
                let r = self.betas.partition_point(|&b| b < steps) as u64;
                advances_with(steps, c, r, self.betas[r as usize - 1])
            }
        }
    }
}
