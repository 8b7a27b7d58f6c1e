//! Criterion benches of every workload and method: `cargo bench --bench gradients`.
//!
//! One group per case (workload and size), one benchmark per method (`function`, `ours`,
//! `hand`, `finite-diff`, `tape`); every gradient is checked against the hand-written one before
//! anything is timed. For the ratios in one table, run `cargo bench --bench report`. Cases whose
//! slowest method takes over a millisecond per call use criterion's flat sampling with 10
//! samples, so the whole bench stays within a few minutes.

#[path = "workloads/mod.rs"]
mod workloads;

use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

fn gradients(c: &mut Criterion) {
    for mut case in workloads::all_cases() {
        let slowest = case.runners.iter_mut().map(|(_, r)| r(1)).max();
        let slow = slowest.is_some_and(|t| t > Duration::from_millis(1));
        let mut group = c.benchmark_group(case.name.clone());
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        if slow {
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
        } else {
            group.sample_size(30);
        }
        for (method, run) in case.runners.iter_mut() {
            group.bench_function(method.name(), |b| b.iter_custom(&mut *run));
        }
        group.finish();
    }
}

criterion_group!(benches, gradients);
criterion_main!(benches);
