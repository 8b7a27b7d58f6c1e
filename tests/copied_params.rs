//! `&mut` parameters left out of `wrt` that hold a scalar, a fixed-size array or a struct used
//! by its fields, and that the function reads as well as writes: a random generator's state
//! advanced in the loop that uses it, a counter the function tests, the best loss so far, a
//! momentum buffer in an array, a workspace of buffers, statistics written and read back. Each
//! is followed as a local copy written back at every exit (`lower::copied`): the gradient is
//! the one of the function with what the caller passed in held fixed, and the caller's
//! variable ends where the plain function leaves it, after `_grad`, `_vjp`, `_jvp` and `_hvp`
//! alike.
//!
//! Each gradient is checked against central finite differences (each evaluation from the same
//! starting state) and, where it has one, its analytic form; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::differentiate;

mod common;
use common::*;

const A: u64 = 6364136223846793005;
const C: u64 = 1442695040888963407;

/// A Monte Carlo estimate of E[sin(θ·u)], u uniform on [0, 1), with the generator advanced
/// inline: f = (1/n) Σ sin(θ·uₖ), ∂θ = (1/n) Σ uₖ·cos(θ·uₖ).
#[differentiate(wrt(theta), hessian)]
fn monte_carlo(theta: f64, seed: &mut u64, n: usize) -> f64 {
    let mut acc = 0.0;
    for _ in 0..n {
        *seed = seed.wrapping_mul(A).wrapping_add(C);
        let u = (*seed >> 11) as f64 / (1u64 << 53) as f64;
        acc += (theta * u).sin();
    }
    acc / n as f64
}

fn uniforms(mut seed: u64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_mul(A).wrapping_add(C);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

#[test]
fn a_generator_advanced_in_the_loop_is_followed_and_left_where_the_function_leaves_it() {
    let (theta, n) = (0.7, 25);
    let us = uniforms(42, n);
    let expected: f64 = us.iter().map(|u| u * (theta * u).cos()).sum::<f64>() / n as f64;
    let mut after_plain = 42u64;
    let value = monte_carlo(theta, &mut after_plain, n);

    let mut seed = 42u64;
    let (v, g) = monte_carlo_grad(theta, &mut seed, n);
    close("value", v, value, TOL);
    close("∂θ", g, expected, TOL);
    assert_eq!(seed, after_plain, "the generator's state after _grad");
    fd("∂θ", |t| monte_carlo(t, &mut 42u64, n), theta, g);

    let mut seed = 42u64;
    let (v, pullback) = monte_carlo_vjp(theta, &mut seed, n);
    assert_eq!(seed, after_plain, "the generator's state after _vjp");
    close("vjp value", v, value, TOL);
    close("vjp, seed 2.5", pullback(2.5), 2.5 * expected, TOL);

    let mut seed = 42u64;
    let (v, dv) = monte_carlo_jvp(theta, &mut seed, n, -1.5);
    assert_eq!(seed, after_plain, "the generator's state after _jvp");
    close("jvp value", v, value, TOL);
    close("jvp tangent", dv, -1.5 * expected, TOL);

    // ∂²θ = −(1/n) Σ uₖ²·sin(θ·uₖ).
    let second: f64 = -us.iter().map(|u| u * u * (theta * u).sin()).sum::<f64>() / n as f64;
    let mut seed = 42u64;
    let (_, g, hv) = monte_carlo_hvp(theta, &mut seed, n, 2.0);
    assert_eq!(seed, after_plain, "the generator's state after _hvp");
    close("hvp gradient", g, expected, TOL);
    close("hvp", hv, 2.0 * second, TOL);
}

/// A counter the function tests: the third call on is linear. f = w·w before, w after.
#[differentiate(wrt(w))]
fn counted(w: f64, n: &mut usize) -> f64 {
    *n += 1;
    if *n > 3 { w } else { w * w }
}

#[test]
fn a_counter_read_after_it_is_advanced_picks_the_branch_the_plain_function_takes() {
    let mut n = 0;
    for call in 1..=5 {
        let (v, g) = counted_grad(1.5, &mut n);
        assert_eq!(n, call, "calls counted");
        if call > 3 {
            close2("linear", (v, g), (1.5, 1.0));
        } else {
            close2("square", (v, g), (2.25, 3.0));
        }
    }
}

/// The best loss so far, replaced by a smaller one: the result reads the copy, which holds the
/// new loss (with its derivative) when it was smaller. f = 2·min(b, ℓ) + ℓ, ℓ = (w − 1)².
#[differentiate(wrt(w))]
fn tracked(w: f64, best: &mut f64) -> f64 {
    let loss = (w - 1.0) * (w - 1.0);
    if loss < *best {
        *best = loss;
    }
    *best * 2.0 + loss
}

#[test]
fn the_best_value_so_far_carries_the_derivative_of_the_value_that_replaced_it() {
    // ℓ(3) = 4 < 10: f = 3ℓ, ∂w = 6(w − 1) = 12, and best becomes 4.
    let mut best = 10.0;
    let (v, g) = tracked_grad(3.0, &mut best);
    close2("replaced", (v, g), (12.0, 12.0));
    assert_eq!(best, 4.0);
    fd("replaced", |w| tracked(w, &mut 10.0), 3.0, g);
    // ℓ(3) = 4 > 1: f = 2 + ℓ, ∂w = 2(w − 1) = 4, and best stays 1.
    let mut best = 1.0;
    let (v, g) = tracked_grad(3.0, &mut best);
    close2("kept", (v, g), (6.0, 4.0));
    assert_eq!(best, 1.0);
    fd("kept", |w| tracked(w, &mut 1.0), 3.0, g);
}

/// A budget of evaluations spent by an early `return`: the copy is written back there too.
#[differentiate(wrt(x))]
fn budgeted(x: &[f64], evals: &mut u32, budget: u32) -> f64 {
    *evals += 1;
    if *evals > budget {
        return x[0] * 0.0;
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i] * f64::from(*evals);
    }
    s
}

#[test]
fn an_early_return_writes_the_copy_back() {
    let x = data(4, 0.3);
    let mut evals = 0;
    let (v, g) = budgeted_grad(&x, &mut evals, 1);
    assert_eq!(evals, 1);
    let expected: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    close("value", v, x.iter().map(|v| v * v).sum(), TOL);
    close_all("∂x", &g, &expected);
    let (v, g) = budgeted_grad(&x, &mut evals, 1);
    assert_eq!(evals, 2, "counted on the early return");
    close2("spent", (v, g[0]), (0.0, 0.0));
}

/// Momentum in a fixed-size array, updated and read: m ← 0.9·m + w·x, s ← s + m·w, f = m·s.
#[differentiate(wrt(w))]
fn momentum(w: f64, xs: &[f64], state: &mut [f64; 2]) -> f64 {
    for &x in xs {
        state[0] = 0.9 * state[0] + w * x;
        state[1] += state[0] * w;
    }
    println!("momentum {:?}", *state);
    state[0] * state[1]
}

#[test]
fn an_array_state_is_followed_and_left_as_the_plain_function_leaves_it() {
    let xs = data(5, 1.1);
    let start = [0.3, -0.2];
    let mut after_plain = start;
    let value = momentum(0.8, &xs, &mut after_plain);
    let mut state = start;
    let (v, g) = momentum_grad(0.8, &xs, &mut state);
    assert_eq!(state, after_plain);
    close("value", v, value, TOL);
    fd("∂w", |w| momentum(w, &xs, &mut start.clone()), 0.8, g);
}

/// The generator under a checkpointed loop, which the backward pass runs again from its
/// snapshots: the copy is a local of the loop's, so the rerun draws the same numbers.
#[differentiate(wrt(theta))]
fn checkpointed_walk(theta: f64, seed: &mut u64, n: usize) -> f64 {
    let mut x = theta;
    #[checkpoint(snapshots = 3)]
    for _ in 0..n {
        *seed = seed.wrapping_mul(A).wrapping_add(C);
        let u = (*seed >> 11) as f64 / (1u64 << 53) as f64;
        x = x * (1.0 - 0.1 * u) + 0.05 * (x * u).sin();
    }
    x
}

#[test]
fn a_checkpointed_loop_draws_the_same_numbers_again() {
    let mut after_plain = 7u64;
    let value = checkpointed_walk(0.4, &mut after_plain, 30);
    let mut seed = 7u64;
    let (v, g) = checkpointed_walk_grad(0.4, &mut seed, 30);
    assert_eq!(seed, after_plain);
    close("value", v, value, TOL);
    fd("∂θ", |t| checkpointed_walk(t, &mut 7u64, 30), 0.4, g);
}

/// A workspace of buffers reused from call to call, used by its fields: cleared, filled with
/// squares, summed. f = k·√(Σ xᵢ²) with k the count of calls so far; ∂xᵢ = k·xᵢ/√(Σ x²).
#[derive(Default)]
struct Workspace {
    squares: Vec<f64>,
    calls: usize,
    scale: f64,
}

#[differentiate(wrt(x), hessian)]
fn norm_with_workspace(x: &[f64], ws: &mut Workspace) -> f64 {
    ws.calls += 1;
    ws.squares.clear();
    for i in 0..x.len() {
        ws.squares.push(x[i] * x[i]);
    }
    ws.scale = ws.squares.iter().sum::<f64>().sqrt();
    println!("call {} of the workspace, norm {}", ws.calls, ws.scale);
    ws.scale * ws.calls as f64
}

#[test]
fn a_workspace_struct_is_followed_by_its_fields_and_left_as_the_plain_function_leaves_it() {
    let x = data(5, 0.7);
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut ws = Workspace::default();
    let (v, g) = norm_with_workspace_grad(&x, &mut ws);
    close("value", v, norm, TOL);
    let expected: Vec<f64> = x.iter().map(|v| v / norm).collect();
    close_all("∂x", &g, &expected);
    fd_vec(
        "∂x",
        |z| norm_with_workspace(z, &mut Workspace::default()),
        &x,
        &g,
    );
    assert_eq!(ws.calls, 1);
    close_all(
        "squares",
        &ws.squares,
        &x.iter().map(|v| v * v).collect::<Vec<_>>(),
    );
    close("scale", ws.scale, norm, TOL);

    // The second call counts 2, through the pullback too.
    let (v, pullback) = norm_with_workspace_vjp(&x, &mut ws);
    assert_eq!(ws.calls, 2);
    close("second value", v, 2.0 * norm, TOL);
    let twice: Vec<f64> = expected.iter().map(|g| 2.0 * 1.5 * g).collect();
    close_all("vjp, seed 1.5", &pullback(1.5), &twice);

    let dir = data(5, 2.3);
    let (v, dv) = norm_with_workspace_jvp(&x, &mut ws, &dir);
    assert_eq!(ws.calls, 3);
    close("third value", v, 3.0 * norm, TOL);
    let along: f64 = expected.iter().zip(&dir).map(|(g, d)| 3.0 * g * d).sum();
    close("jvp", dv, along, TOL);

    let (_, g, hv) = norm_with_workspace_hvp(&x, &mut ws, &dir);
    assert_eq!(ws.calls, 4);
    close_all(
        "hvp gradient",
        &g,
        &expected.iter().map(|g| 4.0 * g).collect::<Vec<_>>(),
    );
    let grad_at = |z: &[f64]| {
        let mut w = Workspace {
            calls: 3,
            ..Workspace::default()
        };
        norm_with_workspace_grad(z, &mut w).1
    };
    hvp_against_fd("hvp", grad_at, &x, &dir, &hv);
}

/// Statistics written and read back: the last loss, stored and doubled. f = 2w², ∂w = 4w.
#[derive(Default)]
struct Stats {
    last: f64,
    best: f64,
}

#[differentiate(wrt(w))]
fn doubled_last(w: f64, stats: &mut Stats) -> f64 {
    stats.last = w * w;
    if stats.last < stats.best {
        stats.best = stats.last;
    }
    stats.last * 2.0 + stats.best
}

#[test]
fn a_field_written_then_read_carries_its_derivative() {
    let mut stats = Stats {
        last: 0.0,
        best: 100.0,
    };
    let (v, g) = doubled_last_grad(3.0, &mut stats);
    // best = last = w²: f = 3w², ∂w = 6w.
    close2("replaced", (v, g), (27.0, 18.0));
    assert_eq!((stats.last, stats.best), (9.0, 9.0));
    // best stays 9 at w = 4: f = 2w² + 9, ∂w = 4w.
    let (v, g) = doubled_last_grad(4.0, &mut stats);
    close2("kept", (v, g), (41.0, 16.0));
    assert_eq!((stats.last, stats.best), (16.0, 9.0));
    fd(
        "kept",
        |w| {
            doubled_last(
                w,
                &mut Stats {
                    last: 0.0,
                    best: 9.0,
                },
            )
        },
        4.0,
        g,
    );
}

/// The generator's state logged through a format string that names it, `format!("{seed};")`:
/// the generated functions log the copy they advance, as the plain function logs `*seed`.
/// (The name inside the string was no token of the macro's, and the copy did not replace it:
/// `_grad` logged the caller's starting state three times.) f = Σ sin(θ·uₖ), ∂θ = Σ
/// uₖ·cos(θ·uₖ).
#[differentiate(wrt(theta))]
fn logged_draws(theta: f64, seed: &mut u64, log: &mut String) -> f64 {
    let mut acc = 0.0;
    for _ in 0..3 {
        *seed = seed.wrapping_mul(A).wrapping_add(C);
        let u = (*seed >> 11) as f64 / (1u64 << 53) as f64;
        log.push_str(&format!("{seed} {u:.3};"));
        acc += (theta * u).sin();
    }
    acc
}

#[test]
fn a_copied_parameter_named_in_a_format_string_is_the_copy() {
    let (mut s0, mut log0) = (7u64, String::new());
    let v0 = logged_draws(0.8, &mut s0, &mut log0);
    let (mut s1, mut log1) = (7u64, String::new());
    let (v, g) = logged_draws_grad(0.8, &mut s1, &mut log1);
    assert_eq!(v, v0);
    assert_eq!((s1, &log1), (s0, &log0));
    let (mut s, mut us) = (7u64, Vec::new());
    for _ in 0..3 {
        s = s.wrapping_mul(A).wrapping_add(C);
        us.push((s >> 11) as f64 / (1u64 << 53) as f64);
    }
    close("∂θ", g, us.iter().map(|u| u * (0.8 * u).cos()).sum(), 1e-12);
    fd(
        "logged_draws",
        |t| logged_draws(t, &mut 7u64, &mut String::new()),
        0.8,
        g,
    );
}
