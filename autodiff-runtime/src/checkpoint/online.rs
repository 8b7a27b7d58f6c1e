//! The online schedule's two decisions: which iterations to keep a snapshot of while the trip
//! count is unknown (a grid that thins itself when full), and, once the loop has ended, which of
//! those snapshots the backward sweep should keep (the subset with the least recomputation).

use super::binomial::{AdvanceCosts, revolve_advances};

/// Snapshots on a grid that coarsens one snapshot at a time. Until the slots are full, the state
/// before every iteration is kept (stride `d = 1`). When full, a new snapshot is taken every `2d`
/// iterations, each time in place of the earliest snapshot at an odd multiple of `d`; once none is
/// left the snapshots are `0, 2d, 4d, …` and `d` doubles. So, whatever the loop's eventual length,
/// every slot is in use, the snapshots lie on multiples of `d`, neighbours are `d` or `2d` apart,
/// and the last one is less than `2d` before the current iteration: the segments between
/// snapshots differ in length by a factor of two at most.
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    stride: usize,
    /// Snapshots held at odd multiples of `stride`: the ones still to be replaced.
    odd: usize,
}

impl Grid {
    pub(crate) fn new() -> Self {
        Grid { stride: 1, odd: 0 }
    }

    /// Whether the state before iteration `k` goes on the grid, given `held` snapshots out of
    /// `slots` (the initial state's included). With one slot only the initial state is kept.
    pub(crate) fn wants(&self, k: usize, held: usize, slots: usize) -> bool {
        if k == 0 {
            return true;
        }
        if slots <= 1 {
            return false;
        }
        let every = if held < slots {
            self.stride
        } else {
            2 * self.stride
        };
        k % every == 0
    }

    /// Adds the snapshot `state` before iteration `k`, which [`wants`](Self::wants) asked for,
    /// to `snaps` (increasing positions, at most `slots`), replacing one when full.
    pub(crate) fn store<S>(
        &mut self,
        snaps: &mut Vec<(usize, S)>,
        k: usize,
        state: S,
        slots: usize,
    ) {
        let coarse = 2 * self.stride;
        if snaps.len() >= slots {
            if let Some(i) = snaps.iter().position(|&(p, _)| p % coarse != 0) {
                snaps.remove(i);
                self.odd -= 1;
            }
        }
        if k % coarse != 0 {
            self.odd += 1;
        }
        snaps.push((k, state));
        if self.odd == 0 && snaps.len() >= slots && slots >= 2 {
            // All on multiples of 2d, hence 0, 2d, 4d, …: coarsen.
            self.stride = coarse;
            let coarser = 2 * coarse;
            self.odd = snaps.iter().filter(|&&(p, _)| p % coarser != 0).count();
        }
    }
}

/// The most candidate snapshots the subset search considers: the search costs `O(q³)` cost
/// evaluations for `q` candidates. With more snapshots than this (more than 64 slots), the
/// search runs over every second (fourth, …) one, as the grid would thin them, and its answer is
/// compared with keeping them all.
const MAX_CANDIDATES: usize = 64;

/// Chooses which of the snapshots at `positions` (increasing, the first the initial state's) to
/// keep for the backward sweep over `n` iterations with `slots` slots, and returns a flag per
/// position with the predicted number of recomputed steps.
///
/// The backward sweep reverses the kept segments `[a_i, a_{i+1})` from the last to the first;
/// when segment `i` is reversed, `i` kept snapshots lie before it, so it has `slots − i`
/// checkpoints (its own included) and costs `t(a_{i+1} − a_i, slots − i)` advances
/// ([`revolve_advances`](super::revolve_advances)). Dropping a snapshot merges two segments but
/// leaves one more checkpoint to every later segment, so keeping all of them is not always best:
/// a dynamic program over (candidate, number kept before it) finds the cheapest subset.
/// Keeping only the initial state is one of the subsets, which is what bounds the online
/// schedule's cost (see the module documentation).
pub(crate) fn choose_kept(positions: &[usize], n: usize, slots: usize) -> (Vec<bool>, u64) {
    let q = positions.len();
    let mut keep = vec![false; q];
    if q == 0 {
        return (keep, 0);
    }
    // Candidates: every `every`-th snapshot, so that at most MAX_CANDIDATES remain.
    let mut every = 1;
    while q.div_ceil(every) > MAX_CANDIDATES {
        every *= 2;
    }
    let candidates: Vec<usize> = (0..q).step_by(every).collect();
    let m = candidates.len();
    let at = |i: usize| -> u64 {
        if i == m {
            n as u64
        } else {
            positions[candidates[i]] as u64
        }
    };

    // cost[i][t]: least advances reversing [at(i), n) when candidate i is kept with t kept
    // before it; next[i][t]: the next kept candidate (m for the end). t ≤ i < m ≤ slots.
    let mut cost = vec![vec![u64::MAX; m]; m];
    let mut next = vec![vec![m; m]; m];
    for t in (0..m).rev() {
        let table = AdvanceCosts::new((slots - t) as u64, n as u64);
        for i in t..m {
            for j in i + 1..=m {
                let rest = if j == m { 0 } else { cost[j][t + 1] };
                let here = table.advances(at(j) - at(i)).saturating_add(rest);
                if here < cost[i][t] {
                    cost[i][t] = here;
                    next[i][t] = j;
                }
            }
        }
    }
    // With thinned candidates, keeping every snapshot is a subset the search did not see.
    if every > 1 {
        let all = keep_all_cost(positions, n, slots);
        if all <= cost[0][0] {
            return (vec![true; q], all);
        }
    }
    let (mut i, mut t) = (0, 0);
    while i < m {
        keep[candidates[i]] = true;
        i = next[i][t];
        t += 1;
    }
    (keep, cost[0][0])
}

/// The recomputation when every snapshot at `positions` is kept.
fn keep_all_cost(positions: &[usize], n: usize, slots: usize) -> u64 {
    let ends = positions.iter().skip(1).chain(core::iter::once(&n));
    positions
        .iter()
        .zip(ends)
        .enumerate()
        .map(|(i, (&a, &b))| revolve_advances((b - a) as u64, (slots - i) as u64))
        .fold(0u64, u64::saturating_add)
}
