//! Fitting the damping of a pendulum to a long simulation, with and without checkpointing.
//!
//! A pendulum θ'' = −(g/L)·sin θ − c·θ', released at θ₀ = 1 rad, is integrated with the classical
//! Runge–Kutta method (RK4) for `steps` steps of h = 1 ms; the model's output is the logarithm of
//! its energy at the end, E = ½θ'² + (g/L)(1 − cos θ) (per unit mass and squared length). The damping `c` is fitted by gradient
//! descent so that the final log-energy matches the one a reference run with c = 0.05 produced.
//!
//! The gradient comes from `#[differentiate]` twice: recorded, where the forward pass keeps a
//! record of every step for the backward pass (memory grows with the number of steps), and with
//! `#[checkpoint(snapshots = 32)]` on the loop, where it keeps 33 copies of the state (θ, θ') and
//! recomputes the steps in between during the backward pass. Both fits take the same steps; the
//! example prints what each gradient kept and how long it took, then takes a checkpointed
//! gradient of ten times as many steps, where the recorded one would keep over a gigabyte.
//!
//! Run with `cargo run --release --example pendulum`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use autodiff::checkpoint::{last_stats, optimal_forward_steps};
use autodiff::differentiate;

/// g/L of a 1 m pendulum.
const G_OVER_L: f64 = 9.81;
/// The integration step, seconds.
const H: f64 = 1e-3;

/// Declares the simulation with `$attr` on its time-stepping loop.
macro_rules! pendulum {
    ($(#[$doc:meta])* $name:ident, [$($attr:tt)*]) => {
        $(#[$doc])*
        #[differentiate(wrt(c))]
        fn $name(c: f64, steps: usize) -> f64 {
            let (mut th, mut om): (f64, f64) = (1.0, 0.0);
            $($attr)*
            for _ in 0..steps {
                let (k1t, k1o) = (om, -G_OVER_L * th.sin() - c * om);
                let (t2, o2) = (th + 0.5 * H * k1t, om + 0.5 * H * k1o);
                let (k2t, k2o) = (o2, -G_OVER_L * t2.sin() - c * o2);
                let (t3, o3) = (th + 0.5 * H * k2t, om + 0.5 * H * k2o);
                let (k3t, k3o) = (o3, -G_OVER_L * t3.sin() - c * o3);
                let (t4, o4) = (th + H * k3t, om + H * k3o);
                let (k4t, k4o) = (o4, -G_OVER_L * t4.sin() - c * o4);
                th += H / 6.0 * (k1t + 2.0 * k2t + 2.0 * k3t + k4t);
                om += H / 6.0 * (k1o + 2.0 * k2o + 2.0 * k3o + k4o);
            }
            // 1 − cos θ = 2 sin²(θ/2), without the cancellation once the swing is small.
            let s = (0.5 * th).sin();
            (0.5 * om * om + 2.0 * G_OVER_L * s * s).ln()
        }
    };
}

pendulum!(
    /// The final log-energy; the forward pass records every step.
    log_energy,
    []
);
pendulum!(
    /// The same, with the loop checkpointed: 32 snapshots besides the initial state.
    log_energy_checkpointed,
    [#[checkpoint(snapshots = 32)]]
);

/// Counts the heap bytes alive, to measure what a forward pass keeps for its backward pass.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments; counting only adds to
// an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Relaxed);
        LIVE.fetch_add(new_size, Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The bytes a forward pass keeps for its backward pass: the pullback closure `_vjp` returns and
/// the heap it holds.
fn kept<P>(vjp: impl FnOnce() -> (f64, P)) -> usize {
    let before = LIVE.load(Relaxed);
    let (_, pullback) = vjp();
    let heap = LIVE.load(Relaxed) - before;
    heap + std::mem::size_of_val(&pullback)
}

fn bytes(b: usize) -> String {
    match b {
        b if b < 10_000 => format!("{b} B"),
        b if b < 10_000_000 => format!("{:.1} KB", b as f64 / 1e3),
        b => format!("{:.1} MB", b as f64 / 1e6),
    }
}

/// Gradient descent on `(log_energy(c) − target)²` from `c = 0.1`: the iterates `(c, loss)` and
/// the seconds spent in gradients.
fn fit(grad: fn(f64, usize) -> (f64, f64), steps: usize, target: f64) -> (Vec<(f64, f64)>, f64) {
    let mut c = 0.1;
    let (mut iterates, mut seconds) = (Vec::new(), 0.0);
    // The log-energy falls about linearly in c (by c·T over T seconds): a step of
    // 1/(2·(d log E/dc)²) at the start makes gradient descent converge in a few iterations.
    let mut rate = None;
    for _ in 0..6 {
        let t = Instant::now();
        let (y, dy) = grad(c, steps);
        seconds += t.elapsed().as_secs_f64();
        let (loss, dloss) = ((y - target).powi(2), 2.0 * (y - target) * dy);
        iterates.push((c, loss));
        let rate = *rate.get_or_insert(0.5 / (dy * dy));
        c -= rate * dloss;
    }
    (iterates, seconds)
}

fn main() {
    let steps = 200_000;
    let target = log_energy(0.05, steps);
    println!(
        "a pendulum over {steps} RK4 steps ({} s simulated); fitting c to the final \
         log-energy of c = 0.05, {target:.4}\n",
        steps as f64 * H
    );

    let (recorded, t_rec) = fit(log_energy_grad, steps, target);
    let (checkpointed, t_ck) = fit(log_energy_checkpointed_grad, steps, target);
    assert_eq!(
        recorded, checkpointed,
        "both gradients are the same, so are the fits"
    );
    for (it, (c, loss)) in checkpointed.iter().enumerate() {
        println!("iteration {it}: c = {c:.8}, loss = {loss:.3e}");
    }
    let stats = last_stats().expect("a checkpointed sweep ran");
    let kept_rec = kept(|| log_energy_vjp(0.05, steps));
    let kept_ck = kept(|| log_energy_checkpointed_vjp(0.05, steps));
    println!("\n| {steps} steps | kept by the forward pass | time of the 6 gradients |");
    println!("|---|---:|---:|");
    println!("| recorded | {} | {:.0} ms |", bytes(kept_rec), t_rec * 1e3);
    println!(
        "| checkpointed, 32 snapshots | {} | {:.0} ms |",
        bytes(kept_ck),
        t_ck * 1e3
    );
    println!(
        "\nrecorded/checkpointed memory: {:.0}×; checkpointed/recorded time: {:.2}× (the body \
         ran {} times plainly, {:.2} per step: the optimum for 32 snapshots is {})",
        kept_rec as f64 / kept_ck as f64,
        t_ck / t_rec,
        stats.forward_steps,
        stats.forward_steps as f64 / steps as f64,
        optimal_forward_steps(steps, 32)
    );

    let long = 5_000_000;
    let t = Instant::now();
    let (_, dy) = log_energy_checkpointed_grad(0.05, long);
    let seconds = t.elapsed().as_secs_f64();
    let per_step = kept_rec as f64 / steps as f64;
    println!(
        "\n{long} steps, checkpointed: d log E/dc = {dy:.3} in {seconds:.2} s, keeping {}; \
         recorded, it would keep about {}",
        bytes(kept(|| log_energy_checkpointed_vjp(0.05, long))),
        bytes((per_step * long as f64) as usize)
    );
}
