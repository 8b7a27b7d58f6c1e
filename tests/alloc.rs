//! Straight-line code allocates nothing: the gradient of a function without loops runs entirely
//! in registers and on the stack (no tape, no boxed closures). Proven with a counting global
//! allocator; a loop function (whose forward pass stores values on `Vec` stacks) shows that the
//! counter is live.
//!
//! Loop stacks give their memory to a per-thread pool when dropped (`autodiff::stacks`), for
//! the next call: the counts below empty the pool first, so every call allocates as a first one
//! does, except where a test is about the pool.
//!
//! Allocations are counted per thread (a `const`-initialised thread-local `Cell`, which needs no
//! allocation of its own), so the test harness's other threads cannot disturb a measurement.
//!
//! The derivatives are also checked, analytically (chain rule in comments / by hand) and against
//! central finite differences through `autodiff::check`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use autodiff::check::{assert_close, assert_gradient};
use autodiff::differentiate;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn record_allocation() {
    // `try_with`: during thread teardown the slot may be gone; such allocations are not ours.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// touches only a thread-local `Cell<usize>`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record_allocation();
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record_allocation();
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record_allocation();
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the number of allocations (and reallocations) it made on
/// this thread.
/// Counts the allocations `f` makes on this thread, with the pool of loop-stack memory emptied
/// first: every stack is allocated as on a first call.
fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    autodiff::stacks::release_buffers();
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    let after = ALLOCATIONS.with(Cell::get);
    (r, after - before)
}

const TOL: f64 = 1e-12;

// ---------------------------------------------------------------------------------------------
// The functions
// ---------------------------------------------------------------------------------------------

/// The lecture's f(x) = 10·log(1 + exp(−2x)).
#[differentiate]
fn lecture_f(x: f64) -> f64 {
    10.0 * (1.0 + (-2.0 * x).exp()).ln()
}

/// The lecture's f(x₁, x₂) = sin(x₁) + x₁·x₂.
#[differentiate]
fn lecture_g(x1: f64, x2: f64) -> f64 {
    x1.sin() + x1 * x2
}

/// Straight-line code with about thirty operations and an `if`/`else` on an active value.
#[differentiate]
fn many_ops(x: f64, y: f64) -> f64 {
    let a = x * y + 1.0;
    let b = a.sin() * x.exp();
    let c = (b * b + 1.0).sqrt();
    let d = if c > 1.5 { c.ln() * y } else { c.tanh() - x };
    let e = d.powi(3) + x.atan2(y) - y.hypot(x);
    let f = e.max(y) * (x - y).abs() + x / (1.0 + y * y);
    let g = f.mul_add(y, a).clamp(-10.0, 10.0);
    g * 0.5 + d.cosh() - (-x).exp_m1()
}

/// The directional derivative of `many_ops` along (dx, dy), by the chain rule line by line
/// (valid away from ties of `max`, the kink of `abs` and the bounds of `clamp`).
fn many_ops_tangent(x: f64, y: f64, dx: f64, dy: f64) -> f64 {
    let a = x * y + 1.0;
    let da = dx * y + x * dy;
    let b = a.sin() * x.exp();
    let db = a.cos() * da * x.exp() + a.sin() * x.exp() * dx;
    let c = (b * b + 1.0).sqrt();
    let dc = b * db / c;
    let (d, dd) = if c > 1.5 {
        (c.ln() * y, dc / c * y + c.ln() * dy)
    } else {
        let t = c.tanh();
        (t - x, (1.0 - t * t) * dc - dx)
    };
    let r2 = x * x + y * y;
    let e = d.powi(3) + x.atan2(y) - y.hypot(x);
    let de = 3.0 * d * d * dd + (y * dx - x * dy) / r2 - (y * dy + x * dx) / r2.sqrt();
    let (m, dm) = if e > y { (e, de) } else { (y, dy) };
    let (s, ds) = ((x - y).abs(), (x - y).signum() * (dx - dy));
    let w = 1.0 + y * y;
    let dq = dx / w - x * 2.0 * y * dy / (w * w);
    let f = m * s + x / w;
    let df = dm * s + m * ds + dq;
    let h = f.mul_add(y, a);
    let dh = df * y + f * dy + da;
    let dg = if h.abs() < 10.0 { dh } else { 0.0 };
    // d/dx [−(e^{−x} − 1)] = e^{−x}
    0.5 * dg + d.sinh() * dd + (-x).exp() * dx
}

/// Calls of differentiated functions in straight-line code: the pullbacks are closures kept on
/// the stack.
#[differentiate]
fn calls_only(x: f64, y: f64) -> f64 {
    lecture_f(x) * lecture_g(x, y) + lecture_g(y, 0.5)
}

/// A loop: the forward pass stores each `s` on a stack for the backward pass.
#[differentiate]
fn with_loop(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    for _ in 0..n {
        s = s * x + 1.0;
    }
    s
}

/// A reduction loop over data: each iteration's pullback runs right after it, so nothing is
/// kept per data point.
#[differentiate(wrt(a, b))]
fn squared_error(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        s += r * r;
    }
    s
}

/// [`squared_error`] over any `Float` type, its sum started at `T::zero()`: still a reduction.
#[differentiate(wrt(a, b))]
fn squared_error_t<T: num_traits::Float>(a: T, b: T, xs: &[T], ys: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        s = s + r * r;
    }
    s
}

/// A nest of two `for` loops whose bounds are known before the outer one starts: the stack of
/// the inner loop's records is reserved once, for all n·m of them.
#[differentiate]
fn rectangular_nest(x: &[f64], n: usize, m: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..m {
            s += (x[i] * x[j]).sin();
        }
    }
    s
}

/// The same nest leaving both loops early: fewer records than reserved.
#[differentiate]
fn nest_with_exits(x: &[f64], n: usize, m: usize, stop: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..m {
            if s > stop {
                break;
            }
            s += (x[i] * x[j]).sin();
        }
        if s > 2.0 * stop {
            return s * x[0];
        }
    }
    s
}

/// A state array carried through a nest of loops, each element written from the previous one
/// or, in the first step, from the input, through a branch: the shape of a recurrent cell.
/// The backward pass moves the state's adjoint from one iteration to the next (the element
/// read in the branch adds to it); it never builds a zeroed copy of it.
#[differentiate]
fn recurrent_state(x: &[f64], steps: usize) -> f64 {
    let m = x.len();
    let mut s = x.to_vec();
    for t in 0..steps {
        for i in 1..m {
            let input = if t == 0 { x[i - 1] } else { s[i - 1] };
            s[i] = (s[i] * 0.5 + input).tanh();
        }
    }
    s[m - 1]
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

#[test]
fn counter_is_live() {
    let (v, n) = count_allocations(|| black_box(vec![1.0f64; 8]));
    assert_eq!(v.len(), 8);
    assert_eq!(n, 1);
}

#[test]
fn straight_line_gradients_allocate_nothing() {
    for x in [-1.0, 0.0, 0.5, 3.0] {
        let ((y, dy), n) = count_allocations(|| lecture_f_grad(black_box(x)));
        assert_eq!(n, 0, "lecture_f_grad({x}) allocated {n} times");
        // f'(x) = −20·e^{−2x}/(1 + e^{−2x})
        let e = (-2.0 * x).exp();
        assert_eq!(y, lecture_f(x));
        assert_close(dy, -20.0 * e / (1.0 + e), TOL);
        assert_gradient(|x: &f64| lecture_f(*x), &x, &dy);
    }

    let ((y, (d1, d2)), n) = count_allocations(|| lecture_g_grad(black_box(1.0), black_box(2.0)));
    assert_eq!(n, 0, "lecture_g_grad allocated {n} times");
    // ∇(sin x₁ + x₁x₂) = (cos x₁ + x₂, x₁) = (cos 1 + 2, 1)
    assert_eq!(y, lecture_g(1.0, 2.0));
    assert_close(d1, 1.0f64.cos() + 2.0, TOL);
    assert_close(d2, 1.0, TOL);
    assert_gradient(|p: &(f64, f64)| lecture_g(p.0, p.1), &(1.0, 2.0), &(d1, d2));

    // The vjp and its pullback, called separately, allocate nothing either.
    let ((d1, d2), n) = count_allocations(|| {
        let (_, pullback) = lecture_g_vjp(black_box(1.0), black_box(2.0));
        pullback(black_box(2.0))
    });
    assert_eq!(n, 0, "lecture_g_vjp + pullback allocated {n} times");
    assert_close(d1, 2.0 * (1.0f64.cos() + 2.0), TOL);
    assert_close(d2, 2.0, TOL);
}

#[test]
fn thirty_operations_with_a_branch_allocate_nothing() {
    // (1, 0.5): c > 1.5 (first arm); (−1, 0.5): c ≤ 1.5 (second arm). Both points keep away
    // from the ties of `max`, the kink of `abs` and the bounds of `clamp`.
    for (x, y) in [(1.0, 0.5), (-1.0, 0.5), (0.3, -0.8)] {
        let ((v, (dx, dy)), n) = count_allocations(|| many_ops_grad(black_box(x), black_box(y)));
        assert_eq!(n, 0, "many_ops_grad({x}, {y}) allocated {n} times");
        assert_eq!(v, many_ops(x, y));
        assert_close(dx, many_ops_tangent(x, y, 1.0, 0.0), TOL);
        assert_close(dy, many_ops_tangent(x, y, 0.0, 1.0), TOL);
        assert_gradient(|p: &(f64, f64)| many_ops(p.0, p.1), &(x, y), &(dx, dy));
    }
}

#[test]
fn straight_line_calls_allocate_nothing() {
    for (x, y) in [(0.5, 2.0), (-1.0, 0.3)] {
        let ((v, (dx, dy)), n) = count_allocations(|| calls_only_grad(black_box(x), black_box(y)));
        assert_eq!(n, 0, "calls_only_grad({x}, {y}) allocated {n} times");
        assert_eq!(v, calls_only(x, y));
        // f = F(x)·G(x, y) + G(y, ½) with F' = −20e^{−2x}/(1 + e^{−2x}), ∇G = (cos a + b, a):
        // ∂x = F'·G(x, y) + F·(cos x + y), ∂y = F·x + cos y + ½
        let e = (-2.0 * x).exp();
        let df = -20.0 * e / (1.0 + e);
        assert_close(dx, df * lecture_g(x, y) + lecture_f(x) * (x.cos() + y), TOL);
        assert_close(dy, lecture_f(x) * x + y.cos() + 0.5, TOL);
        assert_gradient(|p: &(f64, f64)| calls_only(p.0, p.1), &(x, y), &(dx, dy));
    }
}

#[test]
fn a_reduction_over_data_allocates_nothing() {
    let xs: Vec<f64> = (0..10_000).map(|i| (i as f64 * 0.37).sin()).collect();
    let ys: Vec<f64> = (0..10_000).map(|i| (i as f64 * 0.11).cos()).collect();
    let (a, b) = (0.8, -0.3);
    let ((v, g), n) =
        count_allocations(|| squared_error_grad(black_box(a), black_box(b), &xs, &ys));
    assert_eq!(
        n, 0,
        "a reduction loop should keep no record per data point"
    );
    assert_eq!(v, squared_error(a, b, &xs, &ys));
    // ∂/∂a = Σ 2rᵢ·xᵢ, ∂/∂b = Σ 2rᵢ with rᵢ = a·xᵢ + b − yᵢ.
    let (mut da, mut db) = (0.0, 0.0);
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        da += 2.0 * r * xs[i];
        db += 2.0 * r;
    }
    assert_close(g.0, da, 1e-10);
    assert_close(g.1, db, 1e-10);
    assert_gradient(
        |p: &(f64, f64)| squared_error(p.0, p.1, &xs, &ys),
        &(a, b),
        &g,
    );
    // The same loop in generic code.
    let ((vt, gt), n) =
        count_allocations(|| squared_error_t_grad(black_box(a), black_box(b), &xs, &ys));
    assert_eq!(
        n, 0,
        "a generic reduction loop should keep no record either"
    );
    assert_eq!(vt, squared_error_t(a, b, &xs, &ys));
    assert_close(gt.0, da, 1e-10);
    assert_close(gt.1, db, 1e-10);
}

#[test]
fn a_loop_allocates_its_stack() {
    let x = 0.5;
    // s = Σ_{j≤n} x^j (from s ← s·x + 1 with s₀ = 1): s' = Σ_{j≤n} j·x^{j−1}.
    let ((v, d), n) = count_allocations(|| with_loop_grad(black_box(x), black_box(10)));
    assert!(
        n > 0,
        "a loop with 10 iterations should store its values on a heap stack"
    );
    assert_eq!(v, with_loop(x, 10));
    let expected: f64 = (1..=10).map(|j| j as f64 * x.powi(j - 1)).sum();
    assert_close(d, expected, TOL);
    assert_gradient(|x: &f64| with_loop(*x, 10), &x, &d);
}

#[test]
fn a_second_call_takes_its_stacks_memory_from_the_pool() {
    let x: Vec<f64> = (0..64).map(|i| 0.1 + 0.013 * i as f64).collect();
    let ((v1, d1), first) = count_allocations(|| rectangular_nest_grad(black_box(&x), 64, 8));
    // The first call's stack went back to this thread's pool when it was dropped.
    assert!(
        autodiff::stacks::kept_bytes() >= 64 * 8 * 8,
        "the stack was not kept"
    );
    let before = ALLOCATIONS.with(Cell::get);
    let (v2, d2) = rectangular_nest_grad(black_box(&x), 64, 8);
    let second = ALLOCATIONS.with(Cell::get) - before;
    assert!(
        second < first,
        "the second call allocated {second} times, the first {first}"
    );
    // The reused memory changes nothing in the results.
    assert_eq!(v1.to_bits(), v2.to_bits());
    assert!(d1.iter().zip(&d2).all(|(a, b)| a.to_bits() == b.to_bits()));
    // A smaller call at the same site fits in the kept block; a larger one grows it.
    let (_, small) = rectangular_nest_grad(black_box(&x), 2, 8);
    let (_, big) = rectangular_nest_grad(black_box(&x), 64, 64);
    assert_gradient(|x: &Vec<f64>| rectangular_nest(x, 2, 8), &x, &small);
    assert_gradient(|x: &Vec<f64>| rectangular_nest(x, 64, 64), &x, &big);
    autodiff::stacks::release_buffers();
    assert_eq!(autodiff::stacks::kept_bytes(), 0);
}

#[test]
fn a_rectangular_nest_reserves_its_records_once() {
    let x: Vec<f64> = (0..64).map(|i| 0.1 + 0.013 * i as f64).collect();
    // ∂/∂x_k Σ_{i<n, j<m} sin(x_i x_j) = Σ_j cos(x_k x_j) x_j [k < n] + Σ_i cos(x_i x_k) x_i [k < m]
    let expected = |n: usize, m: usize| -> Vec<f64> {
        (0..x.len())
            .map(|k| {
                let a: f64 = if k < n {
                    (0..m).map(|j| (x[k] * x[j]).cos() * x[j]).sum()
                } else {
                    0.0
                };
                let b: f64 = if k < m {
                    (0..n).map(|i| (x[i] * x[k]).cos() * x[i]).sum()
                } else {
                    0.0
                };
                a + b
            })
            .collect()
    };
    let ((_, small), few) = count_allocations(|| rectangular_nest_grad(black_box(&x), 2, 8));
    let ((v, big), many) = count_allocations(|| rectangular_nest_grad(black_box(&x), 64, 8));
    // The outer trip count multiplies the records by 32 but not the allocations: the stack is
    // sized once when the nest starts, instead of regrowing as each inner loop reserves its own.
    assert_eq!(
        few, many,
        "2×8 records took {few} allocations and 64×8 took {many}"
    );
    assert_eq!(v, rectangular_nest(&x, 64, 8));
    for (d, e) in small.iter().zip(expected(2, 8)) {
        assert_close(*d, e, TOL);
    }
    for (d, e) in big.iter().zip(expected(64, 8)) {
        assert_close(*d, e, TOL);
    }
    assert_gradient(|x: &Vec<f64>| rectangular_nest(x, 64, 8), &x, &big);
}

#[test]
fn a_nest_that_leaves_early_records_fewer_than_it_reserved() {
    let x: Vec<f64> = (0..12).map(|i| 0.2 + 0.05 * i as f64).collect();
    // Thresholds that stop the nest in the inner loop, in the outer loop, by the early return,
    // and not at all.
    for stop in [0.3, 1.0, 2.5, 100.0] {
        let (v, (d, _)) = nest_with_exits_grad(&x, 12, 12, stop);
        assert_eq!(v, nest_with_exits(&x, 12, 12, stop));
        assert_gradient(|x: &Vec<f64>| nest_with_exits(x, 12, 12, stop), &x, &d);
    }
}

#[test]
fn a_carried_state_adjoint_is_moved_not_rebuilt() {
    let x: Vec<f64> = (0..32).map(|i| 0.3 - 0.02 * i as f64).collect();
    let ((_, _), few) = count_allocations(|| recurrent_state_grad(black_box(&x), 2));
    let ((v, d), many) = count_allocations(|| recurrent_state_grad(black_box(&x), 40));
    // Twenty times the iterations, the same allocations: the stack is reserved once, and no
    // iteration of the backward pass allocates a zeroed adjoint of the 32-element state.
    assert_eq!(
        few, many,
        "2 steps took {few} allocations and 40 took {many}"
    );
    assert_eq!(v, recurrent_state(&x, 40));
    assert_gradient(|x: &Vec<f64>| recurrent_state(x, 40), &x, &d);
    let (_, d2) = recurrent_state_grad(&x, 2);
    assert_gradient(|x: &Vec<f64>| recurrent_state(x, 2), &x, &d2);
}

/// `s ← s·x_i + sin(t·x_i)` from `s = 0`, generic over the float type: `∂s/∂t` follows
/// `ṡ ← ṡ·x_i + cos(t·x_i)·x_i` from `ṡ = 0`. Its loop's stack holds `f32` records in one
/// instantiation and `f64` ones in the other.
#[differentiate(wrt(t))]
#[allow(clippy::needless_range_loop)] // written as users write it
fn generic_sum<T: num_traits::Float>(t: T, xs: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..xs.len() {
        s = s * xs[i] + (t * xs[i]).sin();
    }
    s
}

fn generic_sum_dt<T: num_traits::Float>(t: T, xs: &[T]) -> T {
    let mut ds = T::zero();
    for &x in xs {
        ds = ds * x + (t * x).cos() * x;
    }
    ds
}

#[test]
fn a_generic_functions_stack_changes_record_type_between_calls() {
    // Both instantiations make their stack at the same place in the generated code: the block
    // one leaves in the pool has the other's record layout, and must not be taken as its own.
    let xs64: Vec<f64> = (0..300).map(|i| 0.9 - 0.005 * i as f64).collect();
    let xs32: Vec<f32> = xs64.iter().map(|&x| x as f32).collect();
    autodiff::stacks::release_buffers();
    for round in 0..3 {
        let (v, d) = generic_sum_grad(0.7f64, &xs64);
        assert!(autodiff::stacks::kept_bytes() > 0, "no stack was kept");
        assert_eq!(v, generic_sum(0.7f64, &xs64), "round {round}");
        assert_close(d, generic_sum_dt(0.7f64, &xs64), 1e-12);
        let (v, d) = generic_sum_grad(0.7f32, &xs32);
        assert_eq!(v, generic_sum(0.7f32, &xs32), "round {round}");
        let want = generic_sum_dt(0.7f32, &xs32);
        assert!((d - want).abs() <= 1e-4 * want.abs(), "{d} vs {want}");
    }
}

#[derive(Clone, Debug, autodiff::Differentiable)]
struct Gather {
    w: Vec<f64>,
    rows: Vec<[f64; 2]>,
    idx: Vec<usize>,
}

/// `L = Σ_t s·w[idx_t]·rows[idx_t][1]`, a gather through the index field, as message passing
/// over a graph's edges reads node weights.
#[differentiate]
fn gathered(g: &Gather, s: f64) -> f64 {
    let mut acc = 0.0;
    for &i in &g.idx {
        acc += s * g.w[i] * g.rows[i][1];
    }
    acc
}

#[test]
fn a_gather_through_a_field_adds_into_the_fields_gradient() {
    let make = |n: usize| Gather {
        w: (0..n).map(|i| 0.1 + 0.01 * i as f64).collect(),
        rows: (0..n).map(|i| [0.0, 1.0 - 0.02 * i as f64]).collect(),
        idx: (0..n).map(|t| (t * 7) % n).collect(),
    };
    let (small, large) = (make(8), make(512));
    let ((_, _), few) = count_allocations(|| gathered_grad(black_box(&small), 1.5));
    let ((v, (g, gs)), many) = count_allocations(|| gathered_grad(black_box(&large), 1.5));
    // 64 times the reads, not 64 times the allocations: each read's adjoint goes into the
    // field's gradient, where it made a zero field per read and added it.
    assert!(
        many <= few + 2,
        "8 reads took {few} allocations and 512 took {many}"
    );
    assert_eq!(v, gathered(&large, 1.5));
    // ∂L/∂w_i = s·rows[i][1]·#{t: idx_t = i}, ∂L/∂rows[i][1] = s·w_i·#{t: idx_t = i} (each i
    // once: 7 is prime to 512), ∂L/∂s = Σ_i w_i·rows[i][1].
    for i in 0..512 {
        assert_close(g.w[i], 1.5 * large.rows[i][1], TOL);
        assert_close(g.rows[i][1], 1.5 * large.w[i], TOL);
        assert_eq!(g.rows[i][0], 0.0);
    }
    let want: f64 = (0..512).map(|i| large.w[i] * large.rows[i][1]).sum();
    assert_close(gs, want, TOL);
    assert_gradient(
        |p: &(Gather, f64)| gathered(&p.0, p.1),
        &(small.clone(), 1.5),
        &gathered_grad(&small, 1.5).1,
    );
}
