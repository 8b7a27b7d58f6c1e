//! The ratio report: `cargo bench --bench report`.
//!
//! Runs every workload of `workloads/` interleaved and prints one table of ratios. Every runner of
//! every case is first calibrated to a batch of about `--sample-ms` milliseconds; then each round
//! times one batch of every runner of every case, in an order rotated from round to round. A
//! ratio is the median over rounds of the ratio of two batches of the same round, so the drift of
//! a shared, noisy machine (other compiles, frequency changes) cancels out of it: absolute times
//! drift, ratios hold. A second table gives forward mode (`_jvp`) and Hessian-vector products
//! (`_hvp`) over the function, for the cases that time them, and a third the gradient in exact
//! mode at kinks (`#[differentiate(kinks = exact)]`) over the function and over the default
//! gradient.
//!
//! A second table is the checkpointing workload (`workloads/checkpoint.rs`): what the forward
//! pass keeps and the gradient's time with 8, 32 and 128 snapshots, as ratios to the recorded
//! gradient timed in the same rounds.
//!
//! Options (after `--`): `--rounds N` (default 31), `--sample-ms M` (default 4),
//! `--filter TEXT` (only cases whose name contains TEXT; `checkpointing` for the second table
//! alone). Run without `--bench` (as `cargo test --benches` does), it only builds the cases,
//! which checks every gradient, and times nothing.

#[path = "workloads/mod.rs"]
mod workloads;

use std::time::{Duration, Instant};

use workloads::{Case, Method, Stored};

#[global_allocator]
static ALLOC: workloads::alloc::Counting = workloads::alloc::Counting;

struct Options {
    /// `cargo bench` passes `--bench`; without it, check the gradients and stop.
    bench: bool,
    rounds: usize,
    sample: Duration,
    filter: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        bench: false,
        rounds: 31,
        sample: Duration::from_millis(4),
        filter: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => {
                o.rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rounds N")
            }
            "--sample-ms" => {
                o.sample = Duration::from_millis(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .expect("--sample-ms M"),
                )
            }
            "--filter" => o.filter = args.next(),
            "--bench" => o.bench = true,
            _ => {}
        }
    }
    o
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Iterations per batch so that one batch takes about `target` (at least one iteration).
fn calibrate(run: &mut workloads::Runner, target: Duration) -> u64 {
    let mut iters = 1u64;
    loop {
        let t = run(iters);
        if t >= target || iters >= 1 << 30 {
            // Scale to the target from the last measurement.
            let per = t.as_secs_f64() / iters as f64;
            return ((target.as_secs_f64() / per.max(1e-12)) as u64).max(1);
        }
        iters = if t < target / 100 {
            iters * 10
        } else {
            iters * 2
        };
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn fmt_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.1} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

fn fmt_bytes(s: Stored) -> String {
    let human = |b: usize| {
        if b < 10_000 {
            format!("{b} B")
        } else if b < 10_000_000 {
            format!("{:.1} KB", b as f64 / 1e3)
        } else {
            format!("{:.1} MB", b as f64 / 1e6)
        }
    };
    if s.heap == 0 {
        human(s.closure)
    } else {
        format!("{} (+{} heap)", human(s.total()), human(s.heap))
    }
}

/// `value` formatted, with `!` when it misses the target (`ok(value)` false).
fn ratio(value: Option<f64>, ok: impl Fn(f64) -> bool) -> String {
    match value {
        None => "-".into(),
        Some(v) if v.is_nan() => "-".into(),
        Some(v) => {
            let s = if v >= 100.0 {
                format!("{v:.0}")
            } else if v >= 10.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.2}")
            };
            if ok(v) { s } else { format!("{s} !") }
        }
    }
}

/// Prints a markdown table: the columns in `left` left-aligned, the others right-aligned.
fn print_table(header: &[&str], left: &[usize], rows: Vec<Vec<String>>) {
    let widths: Vec<usize> = (0..header.len())
        .map(|j| {
            rows.iter()
                .map(|r| r[j].chars().count())
                .chain([header[j].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let cells: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let pad = widths[j] - c.chars().count();
                if left.contains(&j) {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        format!("| {} |", cells.join(" | "))
    };
    println!();
    println!("{}", line(header.iter().map(|s| s.to_string()).collect()));
    println!(
        "|{}|",
        widths
            .iter()
            .enumerate()
            .map(|(j, w)| if left.contains(&j) {
                format!(":{}", "-".repeat(w + 1))
            } else {
                format!("{}:", "-".repeat(w + 1))
            })
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        println!("{}", line(r));
    }
}

fn main() {
    let opts = options();
    let load_before = loadavg();
    let started = Instant::now();
    // Building the cases checks every gradient against the hand-written one (assert!).
    let mut cases: Vec<Case> = workloads::all_cases()
        .into_iter()
        .filter(|c| {
            opts.filter
                .as_ref()
                .is_none_or(|f| c.name.contains(f.as_str()))
        })
        .collect();
    eprintln!(
        "report: {} cases, gradients verified (ours and tape to {:e}, finite differences to {:e} \
         relative)",
        cases.len(),
        workloads::RTOL_EXACT,
        workloads::RTOL_FD
    );

    let show_sweeps = opts
        .filter
        .as_ref()
        .is_none_or(|f| workloads::checkpoint::NAME.contains(f.as_str()));
    if !opts.bench {
        // The checkpointing workload's checks, at a size a debug build runs quickly.
        if show_sweeps {
            workloads::checkpoint::sweep(10_000);
        }
        eprintln!("report: not timing (run `cargo bench --bench report` for the table)");
        return;
    }

    if cases.is_empty() {
        // `--filter` kept only the checkpointing workload.
        if show_sweeps {
            checkpoint_table(&opts);
        }
        return;
    }

    // Calibration (doubles as warm-up).
    eprintln!("report: calibrating");
    let mut iters: Vec<Vec<u64>> = Vec::new();
    for case in &mut cases {
        iters.push(
            case.runners
                .iter_mut()
                .map(|(_, r)| calibrate(r, opts.sample))
                .collect(),
        );
    }

    // Interleaved rounds: times[case][runner][round], seconds per iteration.
    let mut times: Vec<Vec<Vec<f64>>> = cases
        .iter()
        .map(|c| vec![Vec::with_capacity(opts.rounds); c.runners.len()])
        .collect();
    eprintln!("report: {} interleaved rounds", opts.rounds);
    for round in 0..opts.rounds {
        for (ci, case) in cases.iter_mut().enumerate() {
            let n = case.runners.len();
            for k in 0..n {
                let ri = (k + round) % n;
                let it = iters[ci][ri];
                let t = (case.runners[ri].1)(it);
                times[ci][ri].push(t.as_secs_f64() / it as f64);
            }
        }
    }

    // Per-round ratios, then their median.
    let pos = |case: &Case, m: Method| case.runners.iter().position(|(k, _)| *k == m);
    let paired = |ci: usize, num: Option<usize>, den: Option<usize>| -> Option<f64> {
        let (num, den) = (num?, den?);
        let mut r: Vec<f64> = times[ci][num]
            .iter()
            .zip(&times[ci][den])
            .map(|(a, b)| a / b)
            .collect();
        Some(median(&mut r))
    };

    let header = [
        "workload",
        "n",
        "function",
        "grad/f",
        "hand/f",
        "ours/hand",
        "tape/ours",
        "FD/ours",
        "stored by forward pass",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        let f = pos(case, Method::Function);
        let ours = pos(case, Method::Ours);
        let hand = pos(case, Method::Hand);
        let fd = pos(case, Method::FiniteDiff);
        let tape = pos(case, Method::Tape);
        let f_time = f.map(|i| median(&mut times[ci][i].clone()));
        rows.push(vec![
            case.name.clone(),
            case.params.to_string(),
            f_time.map_or("-".into(), fmt_time),
            ratio(paired(ci, ours, f), |v| v <= 3.0),
            ratio(paired(ci, hand, f), |_| true),
            ratio(paired(ci, ours, hand), |v| v <= 1.2),
            ratio(paired(ci, tape, ours), |v| v >= 10.0),
            {
                let r = ratio(paired(ci, fd, ours).map(|v| v * case.fd_scale), |_| true);
                if case.fd_scale != 1.0 && r != "-" {
                    format!("~{r}")
                } else {
                    r
                }
            },
            case.stored.as_ref().map_or("-".into(), |s| fmt_bytes(s())),
        ]);
    }

    print_table(&header, &[0, header.len() - 1], rows);
    println!();
    println!(
        "n: active scalars. function: median time of one evaluation (absolute times drift on a \
         shared machine; ratios hold)."
    );
    println!(
        "grad/f: our generated `_grad` / the function (target <= 3). hand/f: the hand-written \
         gradient / the function."
    );
    println!(
        "ours/hand: target <= 1.2. tape/ours: easy-ml's runtime tape / ours (target >= 10). \
         FD/ours: central finite differences (2n+1 evaluations) / ours; `~`: timed on a subset \
         of coordinates and scaled to all n."
    );
    println!(
        "stored: size_of_val of the pullback closure of `_vjp`, plus heap it keeps (loop \
         stacks). `!` marks a missed target."
    );

    // Forward mode and second order, on the cases that time them.
    let header = ["workload", "n", "jvp/f", "hvp/f", "hvp/grad"];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        let jvp = pos(case, Method::Jvp);
        let hvp = pos(case, Method::Hvp);
        if jvp.is_none() && hvp.is_none() {
            continue;
        }
        let f = pos(case, Method::Function);
        let ours = pos(case, Method::Ours);
        rows.push(vec![
            case.name.clone(),
            case.params.to_string(),
            ratio(paired(ci, jvp, f), |v| v <= 2.0),
            ratio(paired(ci, hvp, f), |v| v <= 6.0),
            ratio(paired(ci, hvp, ours), |_| true),
        ]);
    }
    print_side_table(
        &header,
        rows,
        "jvp/f: our generated `_jvp` (value and tangent along one direction) / the function \
         (target <= 2). hvp/f: our `_hvp` (value, gradient and Hessian-vector product, \
         `#[differentiate(hessian)]`) / the function (target <= 6). hvp/grad: `_hvp` / `_grad`.",
    );
    // Exact mode at kinks, on the cases that time it.
    let header = ["workload", "n", "exact/f", "exact/grad"];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        let Some(exact) = pos(case, Method::Exact) else {
            continue;
        };
        let f = pos(case, Method::Function);
        let ours = pos(case, Method::Ours);
        rows.push(vec![
            case.name.clone(),
            case.params.to_string(),
            ratio(paired(ci, Some(exact), f), |_| true),
            ratio(paired(ci, Some(exact), ours), |v| v <= 2.0),
        ]);
    }
    print_side_table(
        &header,
        rows,
        "exact/f: our `_grad` with `#[differentiate(kinks = exact)]` (kinks decided along a \
         seeded direction whose tangent the forward pass carries) / the function. exact/grad: \
         that / our default `_grad` (target <= 2).",
    );
    let threads = autodiff::parallel::threads();
    for (ci, case) in cases.iter().enumerate() {
        let (ours, par) = (pos(case, Method::Ours), pos(case, Method::Parallel));
        let (Some(speedup), Some(o), Some(p)) = (paired(ci, ours, par), ours, par) else {
            continue;
        };
        let t = |i: usize| fmt_time(median(&mut times[ci][i].clone()));
        println!(
            "data-parallel gradient, {}: ours {} on 1 thread, {} on {threads} threads \
             (`autodiff::parallel::mean`, one shard per thread; {} cores available): speedup \
             {} (target >= {:.2})",
            case.name,
            t(o),
            t(p),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            ratio(Some(speedup), |v| v >= 0.85 * threads as f64),
            0.85 * threads as f64
        );
        if let Some(note) = workloads::mlp_parallel::cpu_note() {
            println!("{note}");
        }
    }
    println!(
        "ratios: median over {} interleaved rounds of per-round ratios; batches of ~{} ms; \
         load average {} at start, {} at end; {:.0} s in all.",
        opts.rounds,
        opts.sample.as_millis(),
        load_before,
        loadavg(),
        started.elapsed().as_secs_f64()
    );
    if show_sweeps {
        checkpoint_table(&opts);
    }
}

/// A table of the cases that time some methods, with its note; nothing without such cases.
fn print_side_table(header: &[&str], rows: Vec<Vec<String>>, note: &str) {
    if rows.is_empty() {
        return;
    }
    println!();
    print_table(header, &[0], rows);
    println!();
    println!("{note}");
}

/// The checkpointing workload: what the forward pass keeps and the gradient's time, as ratios to
/// the recorded (unbounded) gradient measured in the same rounds, and the plain runs of the loop
/// body the schedule made beside the optimum.
fn checkpoint_table(opts: &Options) {
    let load_before = loadavg();
    let started = Instant::now();
    let steps = 1_000_000;
    eprintln!("report: checkpointing, {steps} steps");
    let mut sweep = workloads::checkpoint::sweep(steps);
    let rows = &mut sweep.rows;
    let iters: Vec<u64> = rows
        .iter_mut()
        .map(|r| calibrate(&mut r.runner, opts.sample))
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(opts.rounds); rows.len()];
    for round in 0..opts.rounds {
        for k in 0..rows.len() {
            let ri = (k + round) % rows.len();
            let t = (rows[ri].runner)(iters[ri]);
            times[ri].push(t.as_secs_f64() / iters[ri] as f64);
        }
    }
    let base_kept = rows[0].kept.total() as f64;
    let header = [
        sweep.name.as_str(),
        "snapshots",
        "kept by forward pass",
        "recorded/kept",
        "gradient",
        "time/recorded",
        "plain runs of the body",
        "optimum",
        "per step",
    ];
    let mut table: Vec<Vec<String>> = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let mut per_round: Vec<f64> = times[k].iter().zip(&times[0]).map(|(a, b)| a / b).collect();
        let time_ratio = median(&mut per_round);
        let kept_ratio = base_kept / r.kept.total() as f64;
        table.push(vec![
            r.schedule.to_string(),
            r.snapshots.map_or("-".into(), |s| s.to_string()),
            fmt_bytes(r.kept),
            if k == 0 {
                "1".into()
            } else {
                ratio(Some(kept_ratio), |v| v >= 1000.0)
            },
            fmt_time(median(&mut times[k].clone())),
            if k == 0 {
                "1".into()
            } else {
                ratio(Some(time_ratio), |v| v <= 4.0)
            },
            r.steps.map_or("-".into(), |(m, _)| m.to_string()),
            r.steps.map_or("-".into(), |(_, o)| o.to_string()),
            r.steps.map_or("-".into(), |(m, _)| {
                format!("{:.2}", m as f64 / steps as f64)
            }),
        ]);
    }
    print_table(&header, &[0], table);
    println!();
    println!(
        "kept: size_of_val of the pullback closure of `_vjp` plus the heap it keeps (the \
         recorded one: a record per step; a checkpointed one: its snapshots). recorded/kept: \
         target >= 1000. time/recorded: the gradient's time over the recorded gradient's, \
         median of per-round ratios (target <= 4 at 32 snapshots). plain runs of the body: \
         `autodiff::checkpoint::last_stats().forward_steps` after one gradient, the forward \
         sweep's {steps} included; optimum: `optimal_forward_steps(iterations, snapshots)` (the \
         `while` loop runs its body once more, to test and leave). `!` marks a missed target."
    );
    println!(
        "{} interleaved rounds; load average {} at start, {} at end; {:.0} s.",
        opts.rounds,
        load_before,
        loadavg(),
        started.elapsed().as_secs_f64()
    );
}
