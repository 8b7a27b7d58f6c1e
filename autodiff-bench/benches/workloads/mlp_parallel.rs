//! Workload 4b: the training step of workload 4 (64 → 128⁴ → 10) at batch 256, with a
//! data-parallel gradient beside the single-threaded one.
//!
//! [`Method::Ours`] is the generated `_grad` on the whole batch, on the calling thread: what a
//! training loop does without `autodiff::parallel`. [`Method::Parallel`] is
//! `parallel::mean(&Shards::per_thread(), ..)` around the same `_grad`: one shard of rows per
//! thread, copied out of the batch, differentiated in parallel and added. The report prints
//! their ratio, the speedup, on a line of its own below the table, with what says whether the
//! threads had the cores to themselves: the CPU time the process's threads ran, and the time
//! they waited runnable for a core, per second of the two runners' batches ([`cpu_note`]).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use autodiff::parallel::{self, Shards};

use super::mlp::{Mlp, case, flat, mlp_hand, mlp_loss_grad, problem};
use super::{Case, Method, RTOL_EXACT, Runner, assert_close, runner};

/// The batch: four times workload 4's, so that each of a few threads has a batch of 64 or more.
const BATCH: usize = 256;

/// Value and gradient of the batch, one shard per thread.
fn sharded(p: &Mlp, x: &ndarray::Array2<f64>, labels: &[usize]) -> (f64, Mlp) {
    parallel::mean(&Shards::per_thread(), (x, labels), |(x, labels)| {
        mlp_loss_grad(p, &x, labels)
    })
}

pub fn cases() -> Vec<Case> {
    let mut case = case(BATCH);
    let (p, x, labels) = problem(BATCH);
    let (yh, gh) = mlp_hand(&p, &x, &labels);
    let (yp, gp) = sharded(&p, &x, &labels);
    assert_close(&case.name, "value (parallel)", &[yp], &[yh], RTOL_EXACT);
    assert_close(&case.name, "parallel", &flat(&gp), &flat(&gh), RTOL_EXACT);
    let serial = case
        .runner(Method::Ours)
        .expect("the MLP case times our gradient");
    *serial = observed(std::mem::replace(serial, runner(|| ())), &SERIAL);
    let par = runner(move || sharded(black_box(&p), black_box(&x), black_box(&labels)));
    case.runners
        .push((Method::Parallel, observed(par, &PARALLEL)));
    vec![case]
}

/// Nanoseconds of wall time of a runner's batches, and of the time the process's threads ran
/// and waited runnable for a core meanwhile.
struct Usage {
    wall: AtomicU64,
    run: AtomicU64,
    wait: AtomicU64,
}

static SERIAL: Usage = Usage::new();
static PARALLEL: Usage = Usage::new();

impl Usage {
    const fn new() -> Self {
        Usage {
            wall: AtomicU64::new(0),
            run: AtomicU64::new(0),
            wait: AtomicU64::new(0),
        }
    }

    /// (CPU time, time waiting for a core) per second of wall time; `None` without data.
    fn per_wall(&self) -> Option<(f64, f64)> {
        let wall = self.wall.load(Relaxed) as f64;
        (wall > 0.0).then(|| {
            (
                self.run.load(Relaxed) as f64 / wall,
                self.wait.load(Relaxed) as f64 / wall,
            )
        })
    }
}

/// The time all threads of this process have run and waited runnable, in nanoseconds, from
/// Linux's `/proc/self/task/*/schedstat`; `None` elsewhere.
fn scheduled() -> Option<(u64, u64)> {
    let mut total = (0, 0);
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(text) = std::fs::read_to_string(task.ok()?.path().join("schedstat")) else {
            continue; // a thread that has exited since the listing
        };
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
        total.0 += fields.next()??;
        total.1 += fields.next()??;
    }
    Some(total)
}

/// `inner`, with its batches' wall, run and wait times added to `usage`.
fn observed(mut inner: Runner, usage: &'static Usage) -> Runner {
    Box::new(move |iters| {
        let before = scheduled();
        let elapsed: Duration = inner(iters);
        if let (Some(a), Some(b)) = (before, scheduled()) {
            usage.wall.fetch_add(elapsed.as_nanos() as u64, Relaxed);
            usage.run.fetch_add(b.0.saturating_sub(a.0), Relaxed);
            usage.wait.fetch_add(b.1.saturating_sub(a.1), Relaxed);
        }
        elapsed
    })
}

/// What the report prints under the speedup: the cores the two runners had. A parallel run
/// that had `t` cores to itself shows CPU time near `t` per second and little waiting; CPU
/// time well below `t` with waiting means other processes held the cores, and CPU time near
/// `t` without the speedup means the shards slowed each other (memory, caches, allocation).
pub fn cpu_note() -> Option<String> {
    let (s, p) = (SERIAL.per_wall()?, PARALLEL.per_wall()?);
    Some(format!(
        "  per second of wall time, this process's threads ran {:.2} s on 1 thread and {:.2} s \
         in parallel, and waited runnable for a core {:.2} s and {:.2} s (Linux schedstat; \
         rayon's idle workers spin briefly, which counts as running)",
        s.0, p.0, s.1, p.1
    ))
}
