//! The benchmark workloads, shared by the criterion bench (`benches/gradients.rs`) and the
//! ratio report (`benches/report.rs`).
//!
//! Every workload is one module with one `cases()` function. A [`Case`] is one workload at one
//! size: it holds a runner per [`Method`] (the function alone, our generated `_grad`, a
//! hand-written gradient, central finite differences, the `easy-ml` tape, and where measured our
//! `_jvp` and `_hvp` along one direction), and it has already checked, before anything is timed,
//! that every gradient agrees with the hand-written one (every tangent with the hand-written
//! gradient along its direction, every Hessian-vector product with central differences of the
//! hand-written gradient), so no wrong derivative is ever benchmarked. A workload whose generated gradient cannot be written yet
//! (arrays land later) simply leaves [`Method::Ours`] out; the report prints `-` for it.

#![allow(dead_code)]

pub mod alloc;
pub mod checkpoint;
pub mod cnn;
pub mod generic;
pub mod gmm;
pub mod gmm_ref;
pub mod lecture;
pub mod loops;
pub mod lstm;
pub mod mlp;
pub mod mlp_parallel;
pub mod straight;
pub mod straight_gen;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// What a runner computes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    /// The plain function, value only.
    Function,
    /// Our generated `<f>_grad`.
    Ours,
    /// A carefully hand-written value-and-gradient.
    Hand,
    /// Central finite differences: 2 evaluations per active scalar (plus one for the value).
    FiniteDiff,
    /// Reverse mode with the `easy-ml` crate's runtime tape (`WengertList` of `Record`s).
    Tape,
    /// Our generated `<f>_jvp` along one direction: value and directional derivative.
    Jvp,
    /// Our generated `<f>_hvp` along one direction: value, gradient and Hessian-vector product.
    Hvp,
    /// Our generated `<f>_grad` of the function compiled with `#[differentiate(kinks = exact)]`:
    /// the derivative along the seeded direction carried beside every value, kinks decided by it.
    Exact,
    /// Our `<f>_grad` on shards of the batch, one per thread of rayon's pool
    /// (`autodiff::parallel`).
    Parallel,
}

impl Method {
    pub const ALL: [Method; 9] = [
        Method::Function,
        Method::Ours,
        Method::Hand,
        Method::FiniteDiff,
        Method::Tape,
        Method::Jvp,
        Method::Hvp,
        Method::Exact,
        Method::Parallel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Function => "function",
            Method::Ours => "ours",
            Method::Hand => "hand",
            Method::FiniteDiff => "finite-diff",
            Method::Tape => "tape",
            Method::Jvp => "jvp",
            Method::Hvp => "hvp",
            Method::Exact => "exact-kinks",
            Method::Parallel => "parallel",
        }
    }
}

/// Runs its workload `iters` times and returns the elapsed time (criterion's `iter_custom`
/// contract). The closure is monomorphised inside, so the only dynamic call is one per batch.
pub type Runner = Box<dyn FnMut(u64) -> Duration>;

/// A [`Runner`] for `f`: results go through `black_box`, so nothing is optimised away.
pub fn runner<R, F: FnMut() -> R + 'static>(mut f: F) -> Runner {
    Box::new(move |iters| {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        t.elapsed()
    })
}

/// What our forward pass keeps for the backward pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stored {
    /// `size_of_val` of the pullback closure returned by `<f>_vjp`.
    pub closure: usize,
    /// Heap bytes the `<f>_vjp` call left allocated (loop stacks). Counted by the allocator in
    /// [`alloc`], so only where that allocator is installed (the report), else 0.
    pub heap: usize,
}

impl Stored {
    pub fn total(self) -> usize {
        self.closure + self.heap
    }
}

/// One workload at one size, ready to time.
pub struct Case {
    /// Workload and size, e.g. `logistic n=1000`.
    pub name: String,
    /// Number of active scalars (the gradient's length).
    pub params: usize,
    /// Floating-point operations of one function evaluation, where counted.
    pub ops: Option<usize>,
    pub runners: Vec<(Method, Runner)>,
    /// Full finite differences / what the [`Method::FiniteDiff`] runner does: 1 when it does
    /// every coordinate, `(2p + 1)/(2m + 1)` when it does only `m` of the `p` (the report
    /// scales its time by this and marks the ratio `~`).
    pub fd_scale: f64,
    /// Measures what our forward pass stores (calls `<f>_vjp` once).
    pub stored: Option<Box<dyn Fn() -> Stored>>,
}

impl Case {
    pub fn runner(&mut self, m: Method) -> Option<&mut Runner> {
        self.runners
            .iter_mut()
            .find(|(k, _)| *k == m)
            .map(|(_, r)| r)
    }
}

/// Asserts that `got` agrees with `reference` (the hand-written gradient) to relative `rtol`:
/// `|got_i − ref_i| ≤ rtol · max(|ref_i|, 1e-3 · ‖ref‖∞)`. The floor keeps a component that is
/// tiny only because of cancellation from demanding more digits than the others have.
#[track_caller]
pub fn assert_close(case: &str, what: &str, got: &[f64], reference: &[f64], rtol: f64) {
    assert_eq!(
        got.len(),
        reference.len(),
        "{case}: {what}: gradient length"
    );
    let scale = reference.iter().fold(0.0f64, |m, r| m.max(r.abs()));
    for (i, (g, r)) in got.iter().zip(reference).enumerate() {
        let tol = rtol * r.abs().max(1e-3 * scale);
        assert!(
            (g - r).abs() <= tol && g.is_finite(),
            "{case}: {what} disagrees with the hand-written gradient at component {i}: \
             {g:e} vs {r:e} (tolerance {tol:e})"
        );
    }
}

/// Tolerance of the exact gradients (ours, tape) against the hand-written one.
pub const RTOL_EXACT: f64 = 1e-9;
/// Tolerance of central finite differences, whose truncation and rounding errors are ~1e-8.
pub const RTOL_FD: f64 = 1e-5;

/// The step of central differences at `x`: ∛ε scaled by the magnitude of `x`.
#[inline(always)]
pub fn fd_step(x: f64) -> f64 {
    6e-6 * x.abs().max(1.0)
}

/// Value and central-difference gradient of `f` at `x`: `2N + 1` evaluations of `f`.
#[inline(always)]
pub fn central_fd<const N: usize>(f: impl Fn([f64; N]) -> f64, x: [f64; N]) -> (f64, [f64; N]) {
    let y = f(x);
    let mut g = [0.0; N];
    for i in 0..N {
        let h = fd_step(x[i]);
        let mut xp = x;
        xp[i] += h;
        let mut xm = x;
        xm[i] -= h;
        g[i] = (f(xp) - f(xm)) / (2.0 * h);
    }
    (y, g)
}

/// Like [`central_fd`], for a parameter vector of any length and in the coordinates `coords`
/// only (the others stay 0): `2·coords.len() + 1` evaluations of `f`, on one buffer perturbed in
/// place.
pub fn central_fd_coords(
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    coords: &[usize],
) -> (f64, Vec<f64>) {
    let y = f(x);
    let mut p = x.to_vec();
    let mut g = vec![0.0; x.len()];
    for &i in coords {
        let h = fd_step(x[i]);
        p[i] = x[i] + h;
        let fp = f(&p);
        p[i] = x[i] - h;
        let fm = f(&p);
        p[i] = x[i];
        g[i] = (fp - fm) / (2.0 * h);
    }
    (y, g)
}

/// The finite-difference runners of the larger workloads do every coordinate up to this many
/// parameters.
pub const FD_FULL_MAX: usize = 64;
/// Above [`FD_FULL_MAX`], they do this many evenly spaced ones (and the report scales the time).
pub const FD_SUBSET: usize = 16;

/// The coordinates the finite-difference runner of a workload with `p` parameters does: all of
/// them up to [`FD_FULL_MAX`], else [`FD_SUBSET`] evenly spaced ones, the first and last included.
pub fn fd_coordinates(p: usize) -> Vec<usize> {
    if p <= FD_FULL_MAX {
        (0..p).collect()
    } else {
        (0..FD_SUBSET)
            .map(|j| j * (p - 1) / (FD_SUBSET - 1))
            .collect()
    }
}

/// A value and a gradient flattened to one vector.
pub type Flat = (f64, Vec<f64>);

/// The checks of a workload that has all five methods, before anything is timed: the values of
/// ours, of the tape and of the function (as finite differences evaluated it) and the gradients
/// of ours and of the tape agree with the hand-written ones to [`RTOL_EXACT`], and finite
/// differences, computed in the coordinates `coords`, to [`RTOL_FD`].
#[track_caller]
pub fn check_gradients(
    case: &str,
    hand: &Flat,
    ours: &Flat,
    tape: &Flat,
    fd: &Flat,
    coords: &[usize],
) {
    assert_close(case, "value (ours)", &[ours.0], &[hand.0], RTOL_EXACT);
    assert_close(case, "value (tape)", &[tape.0], &[hand.0], RTOL_EXACT);
    assert_close(case, "value (function)", &[fd.0], &[hand.0], RTOL_EXACT);
    assert_close(case, "ours", &ours.1, &hand.1, RTOL_EXACT);
    assert_close(case, "tape", &tape.1, &hand.1, RTOL_EXACT);
    let pick = |g: &[f64]| coords.iter().map(|&i| g[i]).collect::<Vec<_>>();
    assert_close(
        case,
        "finite differences",
        &pick(&fd.1),
        &pick(&hand.1),
        RTOL_FD,
    );
}

/// Checks a forward-mode tangent against the hand-written gradient: `⟨∇f, v⟩` to [`RTOL_EXACT`]
/// (relative to `Σ |∂ᵢf·vᵢ|`, the size of the terms, which bounds the rounding of the sum).
#[track_caller]
pub fn check_tangent(case: &str, tangent: f64, gradient: &[f64], v: &[f64]) {
    let exact: f64 = gradient.iter().zip(v).map(|(g, v)| g * v).sum();
    let size: f64 = gradient.iter().zip(v).map(|(g, v)| (g * v).abs()).sum();
    assert!(
        (tangent - exact).abs() <= RTOL_EXACT * size,
        "{case}: the tangent {tangent:e} is not ⟨∇f, v⟩ = {exact:e}"
    );
}

/// Checks a Hessian-vector product `hv` along `v` against the central difference of the
/// hand-written gradient `grad` along `v`, `(∇f(x + h·v) − ∇f(x − h·v))/2h`, to [`RTOL_FD`].
#[track_caller]
pub fn check_hvp(case: &str, grad: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64], hv: &[f64]) {
    let h = 1e-6;
    let shifted = |s: f64| -> Vec<f64> { x.iter().zip(v).map(|(x, v)| x + s * h * v).collect() };
    let (plus, minus) = (grad(&shifted(1.0)), grad(&shifted(-1.0)));
    let fd: Vec<f64> = plus
        .iter()
        .zip(&minus)
        .map(|(p, m)| (p - m) / (2.0 * h))
        .collect();
    assert_close(case, "Hessian-vector product", hv, &fd, RTOL_FD);
}

/// A small deterministic generator (SplitMix64) for the benchmark data: no dependency, same data
/// on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Every case of every workload, in report order.
pub fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(lecture::cases());
    cases.extend(straight::cases());
    cases.extend(loops::cases());
    cases.extend(generic::cases());
    cases.extend(gmm::cases());
    cases.extend(gmm_ref::cases());
    cases.extend(lstm::cases());
    cases.extend(mlp::cases());
    cases.extend(mlp_parallel::cases());
    cases.extend(cnn::cases());
    cases
}
