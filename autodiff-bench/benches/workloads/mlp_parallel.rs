//! Workload 4b: the training step of workload 4 (64 → 128⁴ → 10) at batch 256, with a
//! data-parallel gradient beside the single-threaded one.
//!
//! [`Method::Ours`] is the generated `_grad` on the whole batch, on the calling thread: what a
//! training loop does without `autodiff::parallel`. [`Method::Parallel`] is
//! `parallel::mean(&Shards::per_thread(), ..)` around the same `_grad`: one shard of rows per
//! thread, copied out of the batch, differentiated in parallel and added. The report prints
//! their ratio, the speedup, on a line of its own below the table, and under it
//! ([`cpu_note`]) what tells a machine without free cores from shards that slow each other:
//!
//! - per second of the two runners' batches, the CPU time all threads of the process ran and
//!   the time they waited runnable for a core (Linux's schedstat; rayon's idle workers spin
//!   briefly before they sleep, which counts as running);
//! - the thread CPU time of the work (`CLOCK_THREAD_CPUTIME_ID`): the whole batch's gradient
//!   on one thread, and in parallel each shard's, in all and the longest per step. The whole
//!   batch's time over the longest shard's is the speedup the step reaches when each shard has
//!   a core to itself; shards that slowed each other (memory bandwidth, shared cache,
//!   allocation) would show as shards adding up to more than the whole batch;
//! - the thread CPU time per shard on the calling thread (`parallel` evaluates the first shard
//!   there) and on the pool's threads: a pool thread woken for the step runs on a core whose
//!   caches hold little of the previous step's data, and its shard costs more.
//!
//! Both runners do one untimed step before each timed batch, as the previous step of a
//! training loop: it wakes rayon's workers, which the other runners' batches in between let
//! fall asleep.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use autodiff::parallel::{self, Shards};

use super::mlp::{Mlp, case, flat, mlp_hand, mlp_loss_grad, problem};
use super::{Case, Method, RTOL_EXACT, Runner, assert_close, runner};

/// The batch: four times workload 4's, so that each of a few threads has a batch of 64 or more.
const BATCH: usize = 256;

/// Value and gradient of the batch, one shard per thread; each shard's thread CPU time is
/// added to [`PARALLEL`].
fn sharded(p: &Mlp, x: &ndarray::Array2<f64>, labels: &[usize]) -> (f64, Mlp) {
    LONGEST_SHARD.store(0, Relaxed);
    let caller = std::thread::current().id();
    let r = parallel::mean(&Shards::per_thread(), (x, labels), |(x, labels)| {
        let start = thread_cpu_ns();
        let r = mlp_loss_grad(p, &x, labels);
        if let (Some(a), Some(b)) = (start, thread_cpu_ns()) {
            PARALLEL.work.fetch_add(b - a, Relaxed);
            LONGEST_SHARD.fetch_max(b - a, Relaxed);
            let (work, shards) = if std::thread::current().id() == caller {
                (&ON_CALLER.0, &ON_CALLER.1)
            } else {
                (&ON_POOL.0, &ON_POOL.1)
            };
            work.fetch_add(b - a, Relaxed);
            shards.fetch_add(1, Relaxed);
        }
        r
    });
    PARALLEL
        .longest
        .fetch_add(LONGEST_SHARD.load(Relaxed), Relaxed);
    PARALLEL.steps.fetch_add(1, Relaxed);
    r
}

/// The thread CPU time of the longest shard of the current step.
static LONGEST_SHARD: AtomicU64 = AtomicU64::new(0);

/// Thread CPU time and number of the shards evaluated on the calling thread, and on the
/// pool's threads (`parallel` gives the calling thread the first shard).
static ON_CALLER: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));
static ON_POOL: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));

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
    *serial = observed(std::mem::replace(serial, runner(|| ())), &SERIAL, true);
    let par = runner(move || sharded(black_box(&p), black_box(&x), black_box(&labels)));
    case.runners
        .push((Method::Parallel, observed(par, &PARALLEL, false)));
    vec![case]
}

/// What the runners' batches used, in nanoseconds: wall time and, meanwhile, the time the
/// process's threads ran and waited runnable; and per step, the thread CPU time of the work.
struct Usage {
    wall: AtomicU64,
    run: AtomicU64,
    wait: AtomicU64,
    /// Steps whose work is counted in `work` and `longest`.
    steps: AtomicU64,
    /// Thread CPU time of the gradients: on one thread, or over all shards.
    work: AtomicU64,
    /// Thread CPU time of the longest shard of each step (the whole step on one thread).
    longest: AtomicU64,
}

static SERIAL: Usage = Usage::new();
static PARALLEL: Usage = Usage::new();

impl Usage {
    const fn new() -> Self {
        Usage {
            wall: AtomicU64::new(0),
            run: AtomicU64::new(0),
            wait: AtomicU64::new(0),
            steps: AtomicU64::new(0),
            work: AtomicU64::new(0),
            longest: AtomicU64::new(0),
        }
    }

    /// `field` per unit of `per` (0 without data).
    fn ratio(field: &AtomicU64, per: &AtomicU64) -> f64 {
        field.load(Relaxed) as f64 / per.load(Relaxed).max(1) as f64
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

/// The CPU time the calling thread has used, in nanoseconds (`clock_gettime` with
/// `CLOCK_THREAD_CPUTIME_ID`, exact where schedstat is updated only at scheduler ticks);
/// `None` off Linux.
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> Option<u64> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec (two 64-bit fields on 64-bit Linux).
    let ok = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
    ok.then(|| t.sec as u64 * 1_000_000_000 + t.nsec as u64)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

/// `inner`, after one untimed step, with its batch's wall, run and wait times added to
/// `usage`, and with `on_this_thread`, the thread CPU time of its steps (the parallel runner
/// counts its shards' itself).
fn observed(mut inner: Runner, usage: &'static Usage, on_this_thread: bool) -> Runner {
    Box::new(move |iters| {
        inner(1);
        let (before, cpu) = (scheduled(), thread_cpu_ns());
        let elapsed: Duration = inner(iters);
        if let (Some(a), Some(b)) = (before, scheduled()) {
            usage.wall.fetch_add(elapsed.as_nanos() as u64, Relaxed);
            usage.run.fetch_add(b.0.saturating_sub(a.0), Relaxed);
            usage.wait.fetch_add(b.1.saturating_sub(a.1), Relaxed);
        }
        if let (true, Some(a), Some(b)) = (on_this_thread, cpu, thread_cpu_ns()) {
            usage.steps.fetch_add(iters, Relaxed);
            usage.work.fetch_add(b - a, Relaxed);
            usage.longest.fetch_add(b - a, Relaxed);
        }
        elapsed
    })
}

/// The lines the report prints under the speedup (see the module documentation); `None`
/// before any batch has run.
pub fn cpu_note() -> Option<String> {
    let (s, p) = (&SERIAL, &PARALLEL);
    if s.wall.load(Relaxed) == 0 || p.wall.load(Relaxed) == 0 {
        return None;
    }
    let ms = |field: &AtomicU64, u: &Usage| Usage::ratio(field, &u.steps) * 1e-6;
    let per_shard = |(work, shards): &(AtomicU64, AtomicU64)| Usage::ratio(work, shards) * 1e-6;
    Some(format!(
        "  per second of wall time, the process's threads ran {:.2} s on 1 thread and {:.2} s \
         in parallel, and waited runnable for a core {:.2} s and {:.2} s\n  thread CPU time per \
         step: {:.2} ms on 1 thread; in parallel {:.2} ms over the shards, the longest {:.2} \
         ms, so a free core per shard would give a speedup of {:.2}\n  thread CPU time per \
         shard: {:.2} ms on the calling thread, {:.2} ms on the pool's threads",
        Usage::ratio(&s.run, &s.wall),
        Usage::ratio(&p.run, &p.wall),
        Usage::ratio(&s.wait, &s.wall),
        Usage::ratio(&p.wait, &p.wall),
        ms(&s.work, s),
        ms(&p.work, p),
        ms(&p.longest, p),
        ms(&s.work, s) / ms(&p.longest, p),
        per_shard(&ON_CALLER),
        per_shard(&ON_POOL),
    ))
}
