//! Forward mode against reverse mode, measured: the lecture's point that forward-mode automatic
//! differentiation "has high cost if you want the gradient" (one pass per partial derivative)
//! while reverse mode gives the whole gradient in one pass — and the other way round for a
//! function with one input and many outputs.
//!
//! Three families of functions, each written once with `#[differentiate]`, whose dense
//! Jacobians `autodiff::jacobian` builds both ways:
//!
//! - `Rⁿ → R`, a chain energy `E(x) = Σ ln(1 + (xᵢ₊₁ − xᵢ)²) + 0.1·Σ xᵢ²`: forward mode takes
//!   `n` tangents (`energy_jvp`), reverse mode one pullback (`energy_vjp`);
//! - `R → Rᵐ`, a damped oscillation sampled at `m` points, `yᵢ = e^{−t·sᵢ}·sin(5t·sᵢ)`: forward
//!   mode takes one tangent, reverse mode `m` pullbacks;
//! - `Rⁿ → Rᵐ` with `n = 100` and `m` from 25 to 400, a layer `y = tanh(A·x)`: `n` tangents
//!   against `m` pullbacks, each a matrix-vector product, so the measured crossover can be set
//!   beside the rule `jacobian::jacobian` uses (forward mode when `n ≤ m`), which counts passes
//!   and leaves out that a pullback costs more than a tangent.
//!
//! The first two run at `n, m` = 10, 100, 1,000, 10,000 and 100,000. Each cell is the mean of
//! repeated runs (at least 200 ms in all, or one run when a single run takes longer); the two
//! Jacobians are checked to agree before they are timed. The wrong mode costs `n` or `m` passes
//! of a function whose own cost grows with `n` or `m`: its time grows quadratically, and a cell
//! whose predicted time (the previous size's × 100) exceeds [`BUDGET_S`] seconds is skipped
//! and marked so (at 100,000: about 30 s and 400 s on a 2-core machine).
//!
//! A tangent can cost less than the function itself: the Jacobian keeps only the tangent, and
//! once `energy_jvp` is inlined LLVM drops the `ln` calls that only the value needed
//! (`d ln u = du/u`).
//!
//! Run with `cargo run --release --example modes`.

// The differentiated functions index in loops: that is the subset `#[differentiate]` reads.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;
use std::time::Instant;

use autodiff::{differentiate, jacobian};
use ndarray::{Array1, Array2};

/// The most one cell may be predicted to take, in seconds, before it is skipped.
const BUDGET_S: f64 = 10.0;
/// Repeat a cell until this much time has passed.
const MIN_TOTAL_S: f64 = 0.2;

/// `Rⁿ → R`: `E(x) = Σᵢ ln(1 + (xᵢ₊₁ − xᵢ)²) + 0.1·Σᵢ xᵢ²`.
#[differentiate]
fn energy(x: &[f64]) -> f64 {
    let n = x.len();
    let mut e = 0.0;
    for i in 0..n - 1 {
        let d = x[i + 1] - x[i];
        e += (1.0 + d * d).ln();
    }
    for i in 0..n {
        e += 0.1 * x[i] * x[i];
    }
    e
}

/// `R → Rᵐ`: `yᵢ = e^{−t·sᵢ}·sin(5t·sᵢ)` at `sᵢ = i/m`.
#[differentiate(wrt(t))]
fn oscillation(t: f64, m: usize) -> Vec<f64> {
    let mut y = vec![0.0; m];
    for i in 0..m {
        let s = i as f64 / m as f64;
        y[i] = (-t * s).exp() * (5.0 * t * s).sin();
    }
    y
}

/// `Rⁿ → Rᵐ`: `y = tanh(A·x)`, `A` an `m×n` matrix (inactive).
#[differentiate(wrt(x))]
fn layer(x: &Array1<f64>, a: &Array2<f64>) -> Array1<f64> {
    a.dot(x).tanh()
}

/// Seconds per run of `f`: the mean over repeated runs taking at least [`MIN_TOTAL_S`] in all
/// (one run if that one takes longer).
fn seconds<R>(mut f: impl FnMut() -> R) -> f64 {
    let start = Instant::now();
    black_box(f());
    let once = start.elapsed().as_secs_f64();
    if once >= MIN_TOTAL_S {
        return once;
    }
    let reps = ((MIN_TOTAL_S / once.max(1e-9)).ceil() as usize).max(1);
    let start = Instant::now();
    for _ in 0..reps {
        black_box(f());
    }
    start.elapsed().as_secs_f64() / reps as f64
}

fn fmt_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.0} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// The largest entrywise difference of two Jacobians, relative to the largest entry.
fn discrepancy(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = a.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// One row of a table: the size, the time of `f`, of the Jacobian by forward and by reverse
/// mode (`None`: skipped), their ratio, and the mode the picker takes.
struct Row {
    size: usize,
    f: f64,
    forward: Option<f64>,
    reverse: Option<f64>,
    picked: jacobian::Mode,
}

/// Times the cells of one size, skipping a mode whose time predicted from `previous` (the
/// last measured time of the mode at the size before, times `growth`) exceeds the budget.
/// Once a size is skipped, the larger ones are too.
#[derive(Default)]
struct Skipper {
    previous: Option<f64>,
    skipping: bool,
}

impl Skipper {
    fn time(&mut self, growth: f64, run: impl FnMut() -> Array2<f64>) -> Option<f64> {
        self.skipping |= self.previous.is_some_and(|p| p * growth > BUDGET_S);
        if self.skipping {
            return None;
        }
        let t = seconds(run);
        self.previous = Some(t);
        Some(t)
    }
}

fn print_table(title: &str, size: &str, rows: &[Row]) {
    println!("{title}");
    println!(
        "| {size:>6} | {:>10} | {:>12} | {:>12} | {:>16} | {:>7} |",
        "f", "forward", "reverse", "forward/reverse", "picked"
    );
    println!(
        "|{}:|{}:|{}:|{}:|{}:|{}:|",
        "-".repeat(7),
        "-".repeat(11),
        "-".repeat(13),
        "-".repeat(13),
        "-".repeat(17),
        "-".repeat(8)
    );
    for r in rows {
        let cell = |t: Option<f64>| t.map_or("skipped".to_string(), fmt_time);
        let ratio = match (r.forward, r.reverse) {
            (Some(a), Some(b)) => format!("{:.2}", a / b),
            _ => "-".into(),
        };
        println!(
            "| {:>6} | {:>10} | {:>12} | {:>12} | {:>16} | {:>7} |",
            r.size,
            fmt_time(r.f),
            cell(r.forward),
            cell(r.reverse),
            ratio,
            format!("{:?}", r.picked).to_lowercase()
        );
    }
    println!();
}

/// The Jacobian of the chain energy, `Rⁿ → R`, at `n` sizes.
fn many_inputs(sizes: &[usize]) -> Vec<Row> {
    let (mut fwd, mut rev) = (Skipper::default(), Skipper::default());
    let mut rows = Vec::new();
    for &n in sizes {
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let j_rev = jacobian::reverse(|x| energy_vjp(x), &x);
        if n <= 1000 {
            let j_fwd = jacobian::forward(|x, dx| energy_jvp(x, dx), &x);
            let d = discrepancy(&j_fwd, &j_rev);
            assert!(d < 1e-12, "forward and reverse differ by {d:e}");
        }
        let growth = 100.0;
        rows.push(Row {
            size: n,
            f: seconds(|| energy(black_box(&x))),
            forward: fwd.time(growth, || {
                jacobian::forward(|x, dx| energy_jvp(x, dx), black_box(&x))
            }),
            reverse: rev.time(growth, || {
                jacobian::reverse(|x| energy_vjp(x), black_box(&x))
            }),
            picked: jacobian::Mode::for_shape(n, 1),
        });
    }
    rows
}

/// The Jacobian of the sampled oscillation, `R → Rᵐ`, at `m` sizes.
fn many_outputs(sizes: &[usize]) -> Vec<Row> {
    let (mut fwd, mut rev) = (Skipper::default(), Skipper::default());
    let mut rows = Vec::new();
    let t = 0.8;
    for &m in sizes {
        let j_fwd = jacobian::forward(|t, dt| oscillation_jvp(*t, m, *dt), &t);
        if m <= 1000 {
            let j_rev = jacobian::reverse(|t| oscillation_vjp(*t, m), &t);
            let d = discrepancy(&j_fwd, &j_rev);
            assert!(d < 1e-12, "forward and reverse differ by {d:e}");
        }
        let growth = 100.0;
        rows.push(Row {
            size: m,
            f: seconds(|| oscillation(black_box(t), m)),
            forward: fwd.time(growth, || {
                jacobian::forward(|t, dt| oscillation_jvp(*t, m, *dt), black_box(&t))
            }),
            reverse: rev.time(growth, || {
                jacobian::reverse(|t| oscillation_vjp(*t, m), black_box(&t))
            }),
            picked: jacobian::Mode::for_shape(1, m),
        });
    }
    rows
}

/// The Jacobian of `tanh(A·x)`, `R¹⁰⁰ → Rᵐ`, at `m` sizes.
fn square(n: usize, sizes: &[usize]) -> Vec<Row> {
    let mut rows = Vec::new();
    let x = Array1::from_shape_fn(n, |i| (i as f64 * 0.61).cos());
    for &m in sizes {
        let a = Array2::from_shape_fn((m, n), |(i, j)| {
            ((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5
        }) / (n as f64).sqrt();
        let j_fwd = jacobian::forward(|x, dx| layer_jvp(x, &a, dx), &x);
        let j_rev = jacobian::reverse(|x| layer_vjp(x, &a), &x);
        let d = discrepancy(&j_fwd, &j_rev);
        assert!(d < 1e-12, "forward and reverse differ by {d:e}");
        rows.push(Row {
            size: m,
            f: seconds(|| layer(black_box(&x), &a)),
            forward: Some(seconds(|| {
                jacobian::forward(|x, dx| layer_jvp(x, &a, dx), black_box(&x))
            })),
            reverse: Some(seconds(|| {
                jacobian::reverse(|x| layer_vjp(x, &a), black_box(&x))
            })),
            picked: jacobian::Mode::for_shape(n, m),
        });
    }
    rows
}

fn main() {
    let sizes = [10, 100, 1_000, 10_000, 100_000];
    println!(
        "Dense Jacobians by forward mode (one f_jvp per input) and reverse mode (one f_vjp per \
         output); times per Jacobian.\n"
    );
    let wide = many_inputs(&sizes);
    print_table("R^n -> R: chain energy, n inputs", "n", &wide);
    let tall = many_outputs(&sizes);
    print_table("R -> R^m: sampled oscillation, m outputs", "m", &tall);

    let n = 100;
    let shapes = [25, 50, 75, 100, 150, 200, 400];
    let mixed = square(n, &shapes);
    print_table(
        &format!("R^{n} -> R^m: tanh(A x), {n} inputs, m outputs"),
        "m",
        &mixed,
    );

    for (rows, what) in [(&wide, "the energy at n"), (&tall, "the oscillation at m")] {
        for r in rows.iter() {
            for (mode, t) in [("forward", r.forward), ("reverse", r.reverse)] {
                if t.is_none() {
                    println!(
                        "skipped: {mode} mode of {what} = {}, predicted over {BUDGET_S} s",
                        r.size
                    );
                }
            }
        }
    }
    // The crossover: the smallest m at which forward mode (n passes) is no slower than reverse
    // mode (m passes).
    match mixed
        .iter()
        .find(|r| r.forward.zip(r.reverse).is_some_and(|(f, b)| f <= b))
    {
        Some(r) => println!(
            "crossover for n = {n}: forward mode is faster from m = {} on; the picker switches at \
             m = n = {n}",
            r.size
        ),
        None => println!("crossover for n = {n}: forward mode is never faster up to m = 400"),
    }
    // One pass of each mode over one evaluation of f, at m = n: where the crossover lies.
    if let Some(r) = mixed.iter().find(|r| r.size == n) {
        if let (Some(fw), Some(rv)) = (r.forward, r.reverse) {
            let (c_f, c_r) = (fw / (n as f64 * r.f), rv / (r.size as f64 * r.f));
            println!(
                "at m = n = {n}, one tangent costs {c_f:.1} evaluations of f and one pullback \
                 {c_r:.1}: the modes break even near m = n·{c_f:.1}/{c_r:.1} = {:.0}",
                n as f64 * c_f / c_r
            );
        }
    }
}
