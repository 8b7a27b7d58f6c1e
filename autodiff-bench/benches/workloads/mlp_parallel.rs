//! Workload 4b: the training step of workload 4 (64 → 128⁴ → 10) at batch 256, with a
//! data-parallel gradient beside the single-threaded one.
//!
//! [`Method::Ours`] is the generated `_grad` on the whole batch, on the calling thread: what a
//! training loop does without `autodiff::parallel`. [`Method::Parallel`] is
//! `parallel::mean(&Shards::per_thread(), ..)` around the same `_grad`: one shard of rows per
//! thread, copied out of the batch, differentiated in parallel and added. The report prints
//! their ratio, the speedup, on a line of its own below the table.

use std::hint::black_box;

use autodiff::parallel::{self, Shards};

use super::mlp::{Mlp, case, flat, mlp_hand, mlp_loss_grad, problem};
use super::{Case, Method, RTOL_EXACT, assert_close, runner};

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
    case.runners.push((
        Method::Parallel,
        runner(move || sharded(black_box(&p), black_box(&x), black_box(&labels))),
    ));
    vec![case]
}
