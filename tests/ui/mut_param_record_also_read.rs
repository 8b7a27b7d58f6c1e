// A `&mut` parameter left out of `wrt` that the function writes into (records for the caller:
// a counter, statistics, a log) and also reads: what it reads could be a value written there,
// which carries no derivative. Each is an error that says to pass what is read separately
// (a scalar, an array or a struct used by its fields, read and written, is followed as a copy,
// `tests/copied_params.rs`, except in the case below).
use autodiff::differentiate;

#[derive(Default)]
pub struct Stats {
    pub calls: usize,
    pub last: f64,
}

// A counter read and written is followed as a local copy written back at every exit
// (`tests/copied_params.rs`), but not where a `return` inside a loop would have to write it back.
#[differentiate(wrt(w))]
fn counted_in_loop(w: f64, n: &mut usize) -> f64 {
    for k in 0..3 {
        *n += 1;
        if *n > 3 {
            return w * k as f64;
        }
    }
    w * w
}

pub struct Log {
    pub seen: Vec<f64>,
}

impl Log {
    pub fn record(&mut self, x: f64) {
        self.seen.push(x);
    }
    pub fn last(&self) -> f64 {
        self.seen[self.seen.len() - 1]
    }
}

#[differentiate(wrt(w))]
fn logged(w: f64, log: &mut Log) -> f64 {
    log.record(w * 3.0);
    log.last() * w
}

// Written into by a checkpointed loop, which the backward pass runs again.
#[differentiate(wrt(w))]
fn relaxed(w: f64, steps: usize, stats: &mut Stats) -> f64 {
    let mut x = w;
    #[checkpoint(snapshots = 2)]
    for _ in 0..steps {
        x = x * 0.9 + 0.1;
        stats.calls += 1;
    }
    x
}

// Read inside a macro of the user's, which the macro cannot look into: the same error, from the
// check of the lowered function, with the read beside it.
macro_rules! calls_of {
    ($s:expr) => {
        $s.calls
    };
}

#[differentiate(wrt(w))]
fn scaled_by_calls(w: f64, stats: &mut Stats) -> f64 {
    stats.calls += 1;
    w * calls_of!(stats) as f64
}

fn main() {}
