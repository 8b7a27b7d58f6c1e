//! The checkpointer: a state machine that tells a loop's forward sweep where to keep snapshots and
//! then drives the backward sweep action by action.

use super::binomial::split;
use super::online::{Grid, choose_kept};

/// What the backward sweep does next; see the [module documentation](super) for the protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<S> {
    /// Make `state`, the loop state before iteration `at`, the current state.
    ///
    /// The state is moved out of the checkpointer when this is the snapshot's last use (the next
    /// action is `Reverse { at }`) and cloned otherwise.
    Restore {
        /// The iteration the state comes before.
        at: usize,
        /// The snapshot (moved or cloned).
        state: S,
    },
    /// Run iterations `from..to` plainly (without recording) from the current state, which is
    /// the state before `from`. Before each iteration `k` ask [`Checkpointer::wants`]`(k)` and,
    /// if it says so, [`store`](Checkpointer::store) a copy of the state, exactly as in the
    /// forward sweep. Afterwards the current state is the one before `to`.
    Advance {
        /// The first iteration to run.
        from: usize,
        /// One past the last iteration to run.
        to: usize,
    },
    /// The current state is the state before iteration `at`: run iteration `at` with
    /// recording, then its backward pass, taking the adjoints of the loop-carried values from
    /// after iteration `at` to before it. Iterations are reversed in the order `n − 1, …, 0`.
    Reverse {
        /// The iteration to reverse.
        at: usize,
    },
    /// Every iteration has been reversed.
    Done,
}

/// What a [`Checkpointer`] has done so far: the figures to compare with
/// [`optimal_forward_steps`](super::optimal_forward_steps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// The trip count `n`, known after [`finish`](Checkpointer::finish).
    pub iterations: usize,
    /// Plain runs of the loop body: the forward sweep's `n` plus every iteration of every
    /// [`Action::Advance`] handed out.
    pub forward_steps: u64,
    /// Iterations reversed (run with recording and pulled back) so far; `n` when done.
    pub reversed: usize,
    /// Snapshots stored, the initial state's included: one clone of the state each.
    pub stores: u64,
    /// [`Action::Restore`]s that cloned their snapshot; the others moved it out.
    pub restore_clones: u64,
    /// The most snapshots held at once, the initial state's included: at most `s + 1`. The
    /// generated code holds one more state, the current one.
    pub peak_snapshots: usize,
}

/// Where the forward sweep keeps snapshots.
#[derive(Clone, Debug)]
enum Placement {
    /// Revolve's positions for a trip count known at loop entry.
    Binomial,
    /// A self-thinning grid for an unknown trip count.
    Online(Grid),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Forward,
    Backward,
}

/// A checkpointing schedule for the reverse sweep of one loop: it keeps the loop state `S` (its
/// loop-carried values) before a few iterations and tells the backward sweep what to restore,
/// recompute and reverse. It knows nothing of `S` but that it can be cloned.
///
/// [`binomial`](Self::binomial) is the offline schedule for a trip count known at loop entry,
/// [`online`](Self::online) the one for loops that find their length as they run. The protocol is
/// the same for both; see the [module documentation](super) for it and an example.
#[derive(Clone, Debug)]
pub struct Checkpointer<S> {
    /// Slots for snapshots, the initial state's included: `s + 1`.
    slots: usize,
    /// The snapshots, by increasing iteration.
    snaps: Vec<(usize, S)>,
    placement: Placement,
    phase: Phase,
    /// The binomial plan: the next iteration before which a snapshot is wanted, if any.
    next_store: Option<usize>,
    /// The end of the range the binomial plan splits: `n + 1` in the forward sweep (the extra
    /// step is the turn to the backward sweep), the first reversed iteration in the backward one.
    plan_end: usize,
    /// Backward sweep: iterations `fine..n` are reversed.
    fine: usize,
    /// Backward sweep: the iteration the generated code's current state comes before, if it is
    /// still useful (after a `Reverse` it is not).
    live: Option<usize>,
    stats: Stats,
}

impl<S> Checkpointer<S> {
    /// The offline binomial schedule for a loop of `n` iterations with `snapshots` snapshots
    /// besides the initial state. The forward sweep stores the snapshots an optimal (Revolve)
    /// schedule stores, and the whole reversal runs the body exactly
    /// [`optimal_forward_steps`](super::optimal_forward_steps)`(n, snapshots)` times plainly.
    ///
    /// `n` only steers where snapshots go: if the loop ends up running another number of
    /// iterations (a `break`), [`finish`](Self::finish) is told the true count and the reversal
    /// is still right, only no longer optimal. `snapshots = 0` recomputes every state from the
    /// initial one; `snapshots ≥ n − 1` stores every state and recomputes nothing.
    pub fn binomial(n: usize, snapshots: usize) -> Self {
        Checkpointer::new(snapshots, Placement::Binomial, Some(0), n.saturating_add(1))
    }

    /// The online schedule for a loop whose trip count is unknown until it ends (`while`, `loop`
    /// with `break`, a `for` that may break), keeping at most `snapshots` snapshots besides the
    /// initial state. See the module documentation for the scheme and its cost: never more
    /// than `n` plain steps above the binomial schedule's optimum, and equal to it when
    /// `n ≤ snapshots + 1`.
    pub fn online(snapshots: usize) -> Self {
        Checkpointer::new(snapshots, Placement::Online(Grid::new()), None, 0)
    }

    fn new(snapshots: usize, placement: Placement, next_store: Option<usize>, end: usize) -> Self {
        Checkpointer {
            slots: snapshots.saturating_add(1),
            snaps: Vec::new(),
            placement,
            phase: Phase::Forward,
            next_store,
            plan_end: end,
            fine: 0,
            live: None,
            stats: Stats::default(),
        }
    }

    /// Whether the schedule wants a snapshot of the state before iteration `k`. Ask before every
    /// iteration of the forward sweep and of every [`Action::Advance`]; it is always `true`
    /// for `k = 0` in the forward sweep (the initial state is always kept). Asking does not
    /// change anything; declining to store only costs recomputation.
    pub fn wants(&self, k: usize) -> bool {
        match (&self.placement, self.phase) {
            (Placement::Online(grid), Phase::Forward) => {
                grid.wants(k, self.snaps.len(), self.slots)
            }
            _ => self.next_store == Some(k),
        }
    }

    /// Keeps `state`, the state before iteration `k`, as a snapshot.
    ///
    /// # Panics
    ///
    /// If [`wants`](Self::wants)`(k)` is false: the schedule's memory bound rests on storing
    /// only where it asked.
    pub fn store(&mut self, k: usize, state: S) {
        assert!(
            self.wants(k),
            "checkpoint: a snapshot before iteration {k} was stored but not asked for"
        );
        match (&mut self.placement, self.phase) {
            (Placement::Online(grid), Phase::Forward) => {
                grid.store(&mut self.snaps, k, state, self.slots)
            }
            _ => self.snaps.push((k, state)),
        }
        self.stats.stores += 1;
        self.stats.peak_snapshots = self.stats.peak_snapshots.max(self.snaps.len());
        self.next_store = self.plan_after(k);
    }

    /// [`store`](Self::store)s the state `state()` makes if [`wants`](Self::wants)`(k)`: the
    /// closure (typically `|| state.clone()`) only runs when a snapshot is taken.
    #[inline]
    pub fn offer(&mut self, k: usize, state: impl FnOnce() -> S) {
        if self.wants(k) {
            self.store(k, state());
        }
    }

    /// Ends the forward sweep: the loop ran `n` iterations. Snapshots of states after the last
    /// iteration (from asking once more before a loop test that failed) are dropped; the online
    /// schedule also drops the snapshots its backward sweep would not use.
    ///
    /// # Panics
    ///
    /// If called twice.
    pub fn finish(&mut self, n: usize) {
        assert!(
            self.phase == Phase::Forward,
            "checkpoint: `finish` called twice"
        );
        self.snaps.retain(|&(p, _)| p < n);
        if let Placement::Online(_) = self.placement {
            let positions: Vec<usize> = self.snaps.iter().map(|&(p, _)| p).collect();
            let (keep, _) = choose_kept(&positions, n, self.slots);
            let mut flags = keep.into_iter();
            self.snaps.retain(|_| flags.next().unwrap_or(false));
        }
        self.phase = Phase::Backward;
        self.next_store = None;
        self.fine = n;
        self.live = None;
        self.stats.iterations = n;
        self.stats.forward_steps += n as u64;
    }

    /// What the schedule has done so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The iterations the held snapshots come before, in increasing order.
    #[cfg(test)]
    pub(super) fn snapshot_positions(&self) -> Vec<usize> {
        self.snaps.iter().map(|&(p, _)| p).collect()
    }

    /// The binomial plan's next snapshot after one was stored at `p` (the newest one): split the
    /// range `[p, plan_end)` with the checkpoints left; no snapshot when the right part would be
    /// a single iteration, which is reversed from the current state at once.
    fn plan_after(&self, p: usize) -> Option<usize> {
        if matches!(self.placement, Placement::Online(_)) && self.phase == Phase::Forward {
            return None;
        }
        let steps = self.plan_end.checked_sub(p)?;
        if steps < 2 {
            return None;
        }
        // The snapshots below p are held until their own ranges are reversed; p and the free
        // slots serve the range.
        let checkpoints = self.slots - (self.snaps.len() - 1);
        let j = split(steps as u64, checkpoints as u64) as usize;
        (steps - j >= 2).then_some(p + j)
    }
}

impl<S: Clone> Checkpointer<S> {
    /// The next action of the backward sweep. Call until it returns [`Action::Done`], carrying
    /// out each action before asking for the next.
    ///
    /// # Panics
    ///
    /// Before [`finish`](Self::finish), and if the initial state was not stored (it is always
    /// asked for).
    pub fn next_action(&mut self) -> Action<S> {
        assert!(
            self.phase == Phase::Backward,
            "checkpoint: the backward sweep starts after `finish`"
        );
        if self.fine == 0 {
            return Action::Done;
        }
        let last = self.fine - 1;
        match self.live {
            Some(at) if at == last => {
                self.fine = last;
                self.live = None;
                self.next_store = None;
                self.stats.reversed += 1;
                Action::Reverse { at }
            }
            Some(from) => {
                self.live = Some(last);
                self.stats.forward_steps += (last - from) as u64;
                Action::Advance { from, to: last }
            }
            None => {
                let Some(&(at, _)) = self.snaps.last() else {
                    panic!(
                        "checkpoint: no snapshot before iteration {last}; the initial state \
                         must be stored (`wants(0)` is true)"
                    )
                };
                self.live = Some(at);
                self.plan_end = self.fine;
                let state = if at == last {
                    // Reversed next and never needed again.
                    self.next_store = None;
                    self.snaps.pop().map(|(_, s)| s)
                } else {
                    self.next_store = self.plan_after(at);
                    self.stats.restore_clones += 1;
                    self.snaps.last().map(|(_, s)| s.clone())
                };
                let state = state.expect("the snapshot was just found");
                Action::Restore { at, state }
            }
        }
    }
}
