//! Checkpointed loops give the gradients recorded loops give.
//!
//! Every loop shape the other test files exercise is declared here once more, five times over
//! (the [`variants!`] macro): recorded (`plain`), and checkpointed through
//! `#[differentiate(checkpoint(snapshots = s))]` with 0, 1, 2 and 32 snapshots (`s0`, `s1`, `s2`,
//! `s32`). Each checkpointed gradient must agree with the recorded one to 1e-12 (the recorded
//! ones are checked against analytic derivatives in the files the functions come from; the
//! checkpointed pullback runs the same arithmetic, so they usually agree exactly) and with
//! central finite differences, at trip counts 0, 1, 2, 3, 7 and 100 where the trip count is a
//! parameter. The last sections put `#[checkpoint(..)]` on single loops (nested loops, nested
//! checkpointing) and check the schedule's figures through `autodiff::checkpoint::last_stats`.

// The functions are those of the other test files, in the forms they test (`s = s * x`,
// indexing inside range loops).
#![allow(clippy::assign_op_pattern, clippy::needless_range_loop)]

use autodiff::checkpoint::{last_stats, optimal_forward_steps};
use autodiff::{Differentiable, check, differentiate, nn};
use ndarray::{Array1, Array2};

mod common;
use common::*;

/// The trip counts every loop whose count is a parameter runs with.
const TRIPS: [usize; 6] = [0, 1, 2, 3, 7, 100];

/// Declares a function five times in a module of its name: `plain` (recorded) and `s0`, `s1`,
/// `s2`, `s32` (checkpointed with that many snapshots). `[opts]` are further options of
/// `#[differentiate]`, each followed by a comma. (The parameters and the result type pass through
/// as plain tokens: a `$t:ty` fragment would reach `#[differentiate]` wrapped in an invisible
/// group, which it does not look through.)
macro_rules! variants {
    ($(#[$doc:meta])* [$($opt:tt)*] fn $name:ident($($params:tt)*) -> $r:tt $body:tt) => {
        $(#[$doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[differentiate($($opt)*)]
            pub fn plain($($params)*) -> $r $body
            #[differentiate($($opt)* checkpoint(snapshots = 0))]
            pub fn s0($($params)*) -> $r $body
            #[differentiate($($opt)* checkpoint(snapshots = 1))]
            pub fn s1($($params)*) -> $r $body
            #[differentiate($($opt)* checkpoint(snapshots = 2))]
            pub fn s2($($params)*) -> $r $body
            #[differentiate($($opt)* checkpoint(snapshots = 32))]
            pub fn s32($($params)*) -> $r $body
        }
    };
}

/// Every scalar of a gradient, in leaf order.
fn leaves<G: Differentiable<Scalar = f64>>(g: &G) -> Vec<f64> {
    let mut out = Vec::new();
    g.visit_leaves(&mut |l| out.extend_from_slice(l));
    out
}

/// The checkpointed results agree with the recorded one: the same value, gradients to 1e-12.
#[track_caller]
fn agree<G: Differentiable<Scalar = f64>>(what: &str, recorded: &(f64, G), ck: &[(f64, G)]) {
    let expected = leaves(&recorded.1);
    for (k, (v, g)) in ck.iter().enumerate() {
        let s = [0, 1, 2, 32][k];
        assert_eq!(*v, recorded.0, "{what}, {s} snapshots: value");
        let got = leaves(g);
        assert_eq!(got.len(), expected.len());
        for (j, (&a, &e)) in got.iter().zip(&expected).enumerate() {
            close(&format!("{what}, {s} snapshots, ∂{j}"), a, e, TOL);
        }
    }
}

/// `name::plain_grad(args)` beside the four checkpointed `_grad`s, checked to agree; the
/// recorded gradient.
macro_rules! grads {
    ($name:ident ($($a:expr),* $(,)?)) => {{
        let recorded = $name::plain_grad($($a),*);
        let ck = [
            $name::s0_grad($($a),*),
            $name::s1_grad($($a),*),
            $name::s2_grad($($a),*),
            $name::s32_grad($($a),*),
        ];
        agree(
            &format!("{}{:?}", stringify!($name), ($($a,)*)),
            &recorded,
            &ck,
        );
        recorded.1
    }};
}

// ---------------------------------------------------------------------------------------------
// `for` over ranges (control_flow.rs)
// ---------------------------------------------------------------------------------------------

variants! {
    /// s ← s·x + (i + 1): s = Σᵢ (i + 1)·x^{n−1−i}.
    [] fn horner_forward(x: f64, n: usize) -> f64 {
        let mut s = 0.0;
        for i in 0..n {
            s = s * x + (i + 1) as f64;
        }
        s
    }
}

variants! {
    /// The same recurrence over the reversed range: s = Σᵢ (i + 1)·xⁱ.
    [] fn horner_reverse(x: f64, n: usize) -> f64 {
        let mut s = 0.0;
        for i in (0..n).rev() {
            s = s * x + (i + 1) as f64;
        }
        s
    }
}

variants! {
    /// Σ_{k=a}^{b} x^k over an inclusive range of signed integers.
    [] fn inclusive_sum(x: f64, a: i32, b: i32) -> f64 {
        let mut s = 0.0;
        for k in a..=b {
            s += x.powi(k);
        }
        s
    }
}

#[test]
fn for_over_ranges() {
    for x in [-0.9, 0.5, 1.01] {
        for n in TRIPS {
            let d = grads!(horner_forward(x, n));
            // d/dx Σᵢ (i + 1)·x^{n−1−i} = Σᵢ (i + 1)(n − 1 − i)·x^{n−2−i}.
            let analytic: f64 = (0..n)
                .filter(|&i| i + 1 < n)
                .map(|i| ((i + 1) * (n - 1 - i)) as f64 * x.powi((n - 2 - i) as i32))
                .sum();
            close("horner analytic", d, analytic, TOL);
            // Forward mode ignores checkpointing: the same tangent.
            assert_eq!(
                horner_forward::s2_jvp(x, n, 1.0),
                horner_forward::plain_jvp(x, n, 1.0)
            );
            fd("horner", |x| horner_forward::s1(x, n), x, d);
            // d/dx Σᵢ (i + 1)·xⁱ = Σᵢ i(i + 1)·x^{i−1}.
            let d = grads!(horner_reverse(x, n));
            let analytic: f64 = (1..n)
                .map(|i| (i * (i + 1)) as f64 * x.powi(i as i32 - 1))
                .sum();
            close("horner reverse analytic", d, analytic, TOL);
            fd("horner reverse", |x| horner_reverse::s2(x, n), x, d);
        }
        for (a, b) in [(3, 2), (2, 2), (-2, 4), (0, 6), (-50, 49)] {
            let d = grads!(inclusive_sum(x, a, b));
            fd("inclusive sum", |x| inclusive_sum::s1(x, a, b), x, d);
        }
    }
}

variants! {
    /// acc ← acc·x + y, n·m times in nested loops: the outer loop is checkpointed, the inner
    /// one records inside each outer iteration.
    [] fn nested_rectangular(x: f64, y: f64, n: usize, m: usize) -> f64 {
        let mut acc = 1.0;
        for _i in 0..n {
            for _j in 0..m {
                acc = acc * x + y;
            }
        }
        acc
    }
}

variants! {
    /// A triangular nest: the inner loop's trip count depends on the outer index.
    [] fn nested_triangular(x: f64, n: usize) -> f64 {
        let mut p = 1.0;
        let mut s = 0.0;
        for i in 0..n {
            for _j in 0..i {
                p *= x;
            }
            s += p * i as f64;
        }
        s + p
    }
}

#[test]
fn nested_loops() {
    for (x, y) in [(0.9, 0.5), (-0.97, 2.0)] {
        for n in TRIPS {
            for m in [0, 1, 3] {
                let d = grads!(nested_rectangular(x, y, n, m));
                fd2(
                    "nested rectangular",
                    |x, y| nested_rectangular::s1(x, y, n, m),
                    (x, y),
                    d,
                );
            }
        }
    }
    for x in [0.999, -0.99] {
        for n in TRIPS {
            let d = grads!(nested_triangular(x, n));
            fd("nested triangular", |x| nested_triangular::s2(x, n), x, d);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// while, loop, break, continue (control_flow.rs): the online schedule
// ---------------------------------------------------------------------------------------------

variants! {
    /// s ← s·x while s < 100, from s = y: the trip count follows from the active values.
    [] fn while_active_condition(x: f64, y: f64) -> f64 {
        let mut s = y;
        while s < 100.0 {
            s = s * x;
        }
        s
    }
}

variants! {
    /// s ← sin s + x, n times, counted by hand.
    [] fn while_counter(x: f64, n: u32) -> f64 {
        let mut s = x;
        let mut k = 0;
        while k < n {
            s = s.sin() + x;
            k += 1;
        }
        s
    }
}

variants! {
    /// `break` at the top of a `loop`.
    [] fn loop_break_at_top(x: f64, limit: f64) -> f64 {
        let mut s = x;
        let mut k = 0;
        loop {
            if s > limit || k >= 150 {
                break;
            }
            s = 1.01 * s + x;
            k += 1;
        }
        s
    }
}

variants! {
    /// `break` in the middle of the body: the statements after it do not run on the last pass.
    [] fn loop_break_in_middle(x: f64, n: usize) -> f64 {
        let mut s = 1.0;
        let mut i = 0;
        loop {
            s = s * x;
            if i == n {
                break;
            }
            s = s + 1.0;
            i += 1;
        }
        s
    }
}

variants! {
    /// Σ over even i < n of x^i, skipping odd i with `continue`.
    [] fn for_continue(x: f64, n: i32) -> f64 {
        let mut s = 0.0;
        for i in 0..n {
            if i % 2 == 1 {
                continue;
            }
            s += x.powi(i);
        }
        s
    }
}

variants! {
    /// `continue` in a `while` loop, on an active condition.
    [] fn while_continue(x: f64, n: u32) -> f64 {
        let mut s = 0.0;
        let mut k = 0;
        while k < n {
            k += 1;
            if s + x * k as f64 >= 4.0 {
                continue;
            }
            s += x * k as f64;
        }
        s
    }
}

variants! {
    /// `continue` inside a `loop` ended by `break`.
    [] fn loop_continue(x: f64, n: usize) -> f64 {
        let mut s = x;
        let mut k = 0;
        loop {
            k += 1;
            if k > n {
                break;
            }
            if k % 3 == 0 {
                continue;
            }
            s = s * x + 0.25;
        }
        s
    }
}

variants! {
    /// A `for` loop left early with `break`: the online schedule.
    [] fn for_with_break(x: f64, n: usize, stop: usize) -> f64 {
        let mut s = 1.0;
        for i in 0..n {
            if i >= stop {
                break;
            }
            s = s * (x + 0.01 * i as f64);
        }
        s
    }
}

#[test]
fn while_loop_break_continue() {
    for (x, y) in [
        (1.5, 1.0),
        (3.0, 2.0),
        (1.1, 99.0),
        (2.0, 150.0),
        (1.05, 0.8),
    ] {
        let d = grads!(while_active_condition(x, y));
        fd2(
            "while active condition",
            while_active_condition::s1,
            (x, y),
            d,
        );
    }
    for x in [-0.7, 0.4, 2.0] {
        for n in TRIPS {
            let d = grads!(while_counter(x, n as u32));
            fd("while counter", |x| while_counter::s1(x, n as u32), x, d);
            let d = grads!(loop_break_in_middle(0.9 * x.signum(), n));
            fd(
                "break in the middle",
                |x| loop_break_in_middle::s2(x, n),
                0.9 * x.signum(),
                d,
            );
            let d = grads!(for_continue(x.min(1.0), n as i32));
            fd(
                "for continue",
                |x| for_continue::s1(x, n as i32),
                x.min(1.0),
                d,
            );
            let d = grads!(while_continue(x * 0.03, n as u32));
            fd(
                "while continue",
                |x| while_continue::s2(x, n as u32),
                x * 0.03,
                d,
            );
            let d = grads!(loop_continue(x.min(0.95), n));
            fd("loop continue", |x| loop_continue::s1(x, n), x.min(0.95), d);
            for stop in [0, 1, 3, 50, 200] {
                let d = grads!(for_with_break(x, n, stop));
                fd("for with break", |x| for_with_break::s1(x, n, stop), x, d);
            }
        }
    }
    for (x, limit) in [
        (1.0, 0.5),
        (1.0, 10.0),
        (0.1, 1e3),
        (-1.0, 5.0),
        (0.05, 2.0),
    ] {
        let d = grads!(loop_break_at_top(x, limit));
        fd2("break at the top", loop_break_at_top::s1, (x, limit), d);
    }
}

// ---------------------------------------------------------------------------------------------
// Several carried values, tuples, branches and resets inside loops (control_flow.rs)
// ---------------------------------------------------------------------------------------------

variants! {
    /// Rotates (a, b) n times by θ: two carried values and two captured ones.
    [] fn rotate(a: f64, b: f64, theta: f64, n: usize) -> f64 {
        let c = theta.cos();
        let s = theta.sin();
        let mut u = a;
        let mut v = b;
        for _ in 0..n {
            let t = u * c - v * s;
            v = u * s + v * c;
            u = t;
        }
        u + 2.0 * v
    }
}

variants! {
    /// A Fibonacci-like recurrence with an active seed.
    [] fn fibonacci_like(x: f64, n: usize) -> f64 {
        let mut p = 1.0;
        let mut q = x;
        for _ in 0..n {
            let r = p * 0.5 + q * x;
            p = q;
            q = r;
        }
        q
    }
}

variants! {
    /// A loop whose result is unused.
    [] fn unused_loop_result(x: f64, n: usize) -> f64 {
        let mut u = 0.0;
        for i in 0..n {
            u += x * i as f64;
            u = u.sin();
        }
        let _ = u;
        x.exp()
    }
}

variants! {
    /// A branch on an active value inside the loop.
    [] fn branch_in_loop(x: f64, n: usize) -> f64 {
        let mut s = x;
        for _ in 0..n {
            if s > 1.0 {
                s = s.sqrt();
            } else {
                s = s * 3.0 + x;
            }
        }
        s
    }
}

variants! {
    /// Values reset in some iterations, and a value carried only for after the loop.
    [] fn reset_in_loop(x: f64, n: usize) -> f64 {
        let mut s = x;
        let mut last = 0.0;
        for i in 0..n {
            let t = s * x;
            if i % 3 == 2 {
                s = 1.0;
            } else {
                s = t;
            }
            last = t + i as f64;
        }
        s + last
    }
}

variants! {
    /// A tuple carried through the loop, swapped each iteration.
    [] fn tuple_carried(x: f64, y: f64, n: usize) -> f64 {
        let mut p = (x, y);
        for _ in 0..n {
            p = (p.1, p.0 * x);
        }
        p.0 + 3.0 * p.1
    }
}

variants! {
    /// `break` and `continue` in an inner loop only.
    [] fn inner_break_continue(x: f64, n: usize) -> f64 {
        let mut s = 0.0;
        for i in 0..n {
            let mut t = 1.0;
            for j in 0..10 {
                if j == 1 {
                    continue;
                }
                if j > i {
                    break;
                }
                t = t * x;
            }
            s = s + t;
        }
        s
    }
}

variants! {
    /// Loops in `if` arms used as values, a `while` containing a `for`, a `match` inside.
    [] fn nested_constructs(x: f64, n: usize) -> f64 {
        let z = {
            let mut t = x;
            for _ in 0..3 {
                t *= x;
            }
            t
        };
        let w = if x > 0.0 {
            let mut u = 1.0;
            for i in 0..n {
                u = u * x + i as f64;
            }
            u
        } else {
            let mut u = x;
            let mut k = 0;
            while k < n {
                u = u * 0.5;
                k += 1;
            }
            u
        };
        let mut s = 0.0;
        let mut k = 0;
        while k < 3 {
            for j in 0..k {
                match j {
                    0 => continue,
                    1 => {
                        let mut v = x;
                        for _ in 0..2 {
                            v = v * x;
                        }
                        s += v;
                    }
                    _ => s -= x,
                }
            }
            k += 1;
        }
        z + w + s
    }
}

variants! {
    /// Loop bindings that shadow outer names.
    [] fn shadowing_in_loops(x: f64, n: usize) -> f64 {
        let i = x * 3.0;
        let mut s = 0.0;
        let mut t = 0.0;
        for i in 0..n {
            let x = x * 2.0;
            let s2 = s + x * i as f64;
            s = s2;
            let t = t + 1.0;
            let _ = t;
        }
        t += x;
        s + i + t
    }
}

variants! {
    /// Compound assignments with active right-hand sides, an `if` without `else`.
    [] fn compound_in_loop(x: f64, y: f64, n: usize) -> f64 {
        let mut s = 1.0;
        for i in 0..n {
            s *= x;
            s += y;
            if i % 2 == 0 {
                s /= y;
            }
            s -= x;
        }
        s
    }
}

#[test]
fn carried_values_branches_and_resets() {
    for n in TRIPS {
        for (a, b, theta) in [(1.0, 0.0, 0.3), (0.5, -2.0, 1.1)] {
            let d = grads!(rotate(a, b, theta, n));
            let r = check::gradcheck(
                |p: &(f64, f64, f64)| rotate::s1(p.0, p.1, p.2, n),
                &(a, b, theta),
                &d,
            );
            assert!(r.passed(), "rotate n = {n}: {r}");
        }
        for x in [-0.6, 0.5, 0.45] {
            let d = grads!(fibonacci_like(x, n));
            fd("fibonacci", |x| fibonacci_like::s1(x, n), x, d);
            let d = grads!(unused_loop_result(x, n));
            // d/dx eˣ = eˣ, whatever the loop did.
            close("unused loop", d, x.exp(), TOL);
            let d = grads!(reset_in_loop(x, n));
            fd("reset in loop", |x| reset_in_loop::s2(x, n), x, d);
            let d = grads!(inner_break_continue(x, n));
            fd("inner break", |x| inner_break_continue::s1(x, n), x, d);
            let d = grads!(nested_constructs(x, n.min(20)));
            fd(
                "nested constructs",
                |x| nested_constructs::s1(x, n.min(20)),
                x,
                d,
            );
            let d = grads!(shadowing_in_loops(x, n));
            // s = Σ_{i<n} 2x·i, the outer i = 3x, t = x: n(n − 1) + 4.
            close("shadowing", d, (n * n.saturating_sub(1)) as f64 + 4.0, TOL);
        }
        for x in [0.1, 0.4, 2.0, 7.0] {
            let d = grads!(branch_in_loop(x, n));
            fd("branch in loop", |x| branch_in_loop::s1(x, n), x, d);
        }
        for (x, y) in [(0.5f64, 2.0), (-1.5, 0.25)] {
            let d = grads!(tuple_carried(x.max(-1.0), y, n));
            fd2(
                "tuple carried",
                |x, y| tuple_carried::s2(x, y, n),
                (x.max(-1.0), y),
                d,
            );
        }
        for (x, y) in [(1.2, 0.8), (-0.5, 2.0)] {
            let d = grads!(compound_in_loop(x, y, n.min(7)));
            fd2(
                "compound",
                |x, y| compound_in_loop::s1(x, y, n.min(7)),
                (x, y),
                d,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `return` inside loops (return_in_loops.rs)
// ---------------------------------------------------------------------------------------------

variants! {
    /// The first partial sum of x·k² above `limit`, or twice the full sum.
    [wrt(x),] fn first_partial_sum_above(x: f64, limit: f64, n: usize) -> f64 {
        let mut s = 0.0;
        for k in 1..=n {
            s += x * (k * k) as f64;
            if s > limit {
                return s;
            }
        }
        s * 2.0
    }
}

variants! {
    /// Returns from the inner of two loops.
    [wrt(x),] fn nested_search(x: f64, n: usize) -> f64 {
        let mut acc = 1.0;
        for i in 0..n {
            for j in 0..n {
                acc = acc * x + (i + j) as f64;
                if acc > 1000.0 {
                    return acc.sqrt();
                }
            }
        }
        acc
    }
}

variants! {
    /// `while` and `loop` with `return`, and code after the loop.
    [] fn halve_until_small(x: f64) -> f64 {
        let mut y = x;
        let mut steps = 0;
        while steps < 50 {
            if y.abs() < 1.0 {
                return y * 3.0;
            }
            y *= 0.5;
            steps += 1;
        }
        loop {
            steps += 1;
            if steps > 60 {
                return y + 1.0;
            }
        }
    }
}

#[test]
fn return_inside_loops() {
    for n in TRIPS {
        for (x, limit) in [(1.0, 10.0), (0.1, 1000.0), (0.3, 1e9)] {
            let d = grads!(first_partial_sum_above(x, limit, n));
            fd(
                "first partial sum",
                |x| first_partial_sum_above::s1(x, limit, n),
                x,
                d,
            );
        }
        for x in [0.5, 0.9, 1.5] {
            let d = grads!(nested_search(x, n.min(30)));
            fd("nested search", |x| nested_search::s2(x, n.min(30)), x, d);
        }
    }
    for x in [10.0, 0.5, -300.0] {
        let d = grads!(halve_until_small(x));
        fd("halve", halve_until_small::s1, x, d);
    }
    // Never small within 50 halvings: the `loop` returns y + 1 with y = x / 2⁵⁰.
    let d = grads!(halve_until_small(1e20));
    assert_eq!(d, 1.0 / 2f64.powi(50));
}

// ---------------------------------------------------------------------------------------------
// Slices, element writes and container mutations inside the body (slices.rs, places.rs)
// ---------------------------------------------------------------------------------------------

variants! {
    /// Loops over slices: by value, by reference, enumerated, and a sum.
    [] fn iters(x: &[f64], w: f64) -> f64 {
        let mut s = 0.0;
        for v in x {
            s += *v * w;
        }
        for &v in x.iter() {
            s += v * v;
        }
        for (i, v) in x.iter().enumerate() {
            s += (i as f64) * v;
        }
        let t: f64 = x.iter().sum();
        s * t
    }
}

variants! {
    /// A local array written element by element inside loops, one of which reads earlier
    /// elements: the array is carried state, copied into each snapshot.
    [] fn local_writes(x: &[f64], w: f64) -> f64 {
        let n = x.len();
        let mut h = vec![0.0; n];
        for i in 0..n {
            h[i] = x[i] * w;
        }
        for i in 1..n {
            h[i] += h[i - 1] * h[i] * 0.1;
        }
        let mut s = 0.0;
        for i in 0..n {
            s += h[i] * h[i];
        }
        if n > 0 {
            h[0] = 100.0;
            s += h[0];
        }
        s
    }
}

variants! {
    /// A vector built by `push` in a loop: the state's length changes every iteration.
    [] fn built(x: &[f64], w: f64) -> f64 {
        let mut v = Vec::new();
        for i in 0..x.len() {
            v.push(w * x[i] * x[i]);
        }
        let mut s = 0.0;
        for i in 0..v.len() {
            s += v[i] * (i + 1) as f64;
        }
        s
    }
}

variants! {
    /// Mutations of a local vector in every iteration: push, swap, pop, insert, remove.
    [] fn shuffled(x: &[f64], a: f64, n: usize) -> f64 {
        let mut v = x.to_vec();
        for k in 0..n {
            let m = v.len();
            v.push(v[k % m] * a);
            v.swap(0, m);
            let last = v.pop().unwrap();
            v.insert(1, last + 0.5);
            let first = v.remove(0);
            v[m - 1] += first * 0.25;
        }
        let mut s = 0.0;
        for i in 0..v.len() {
            s += v[i] * (i + 1) as f64;
        }
        s
    }
}

variants! {
    /// A `&mut` workspace buffer, copied into a local for the loops and back after the first, as
    /// the error for a checkpointed loop that uses one suggests (places.rs has it in place):
    /// buf'[i] = buf[i] + x[i]·w, then Σ buf'[i]²: ∂/∂x[i] = 2·buf'[i]·w,
    /// ∂/∂w = Σ 2·buf'[i]·x[i], ∂/∂buf[i] = 2·buf'[i].
    [] fn workspace_copied(x: &[f64], w: f64, buf: &mut [f64]) -> f64 {
        let mut b = buf.to_vec();
        for i in 0..x.len() {
            b[i] += x[i] * w;
        }
        buf.copy_from_slice(&b);
        let mut s = 0.0;
        for i in 0..b.len() {
            s += b[i] * b[i];
        }
        s
    }
}

#[test]
fn slices_element_writes_and_mutations() {
    let base = [0.5, -1.0, 2.0, 0.3, -0.7, 1.1, 0.9];
    for len in [0, 1, 2, 3, 7] {
        let x = base[..len].to_vec();
        let w = 0.7;
        let d = grads!(iters(&x, w));
        let r = check::gradcheck(
            |p: &(Vec<f64>, f64)| iters::s1(&p.0, p.1),
            &(x.clone(), w),
            &d,
        );
        assert!(r.passed(), "iters, {len} elements: {r}");
        let d = grads!(local_writes(&x, w));
        let r = check::gradcheck(
            |p: &(Vec<f64>, f64)| local_writes::s1(&p.0, p.1),
            &(x.clone(), w),
            &d,
        );
        assert!(r.passed(), "local writes, {len} elements: {r}");
        let d = grads!(built(&x, w));
        // ∂/∂x[i] = 2w·x[i]·(i+1), ∂/∂w = Σ x[i]²·(i+1).
        for i in 0..len {
            close("built ∂x", d.0[i], 2.0 * w * x[i] * (i + 1) as f64, TOL);
        }
        let dw: f64 = (0..len).map(|i| x[i] * x[i] * (i + 1) as f64).sum();
        close("built ∂w", d.1, dw, TOL);
        let init: Vec<f64> = (0..len).map(|i| 0.1 * i as f64 - 0.2).collect();
        let after: Vec<f64> = (0..len).map(|i| init[i] + x[i] * w).collect();
        let (dx, dw, dbuf) = grads!(workspace_copied(&x, w, &mut init.clone()));
        for i in 0..len {
            close("workspace ∂x", dx[i], 2.0 * after[i] * w, TOL);
            close("workspace ∂buf", dbuf[i], 2.0 * after[i], TOL);
        }
        let dw_expected: f64 = (0..len).map(|i| 2.0 * after[i] * x[i]).sum();
        close("workspace ∂w", dw, dw_expected, TOL);
        let mut buf = init.clone();
        workspace_copied::s1(&x, w, &mut buf);
        assert_eq!(buf, after);
        if len > 0 {
            for n in TRIPS {
                let d = grads!(shuffled(&x, 0.9, n));
                let r = check::gradcheck(
                    |p: &(Vec<f64>, f64)| shuffled::s1(&p.0, p.1, n),
                    &(x.clone(), 0.9),
                    &d,
                );
                assert!(r.passed(), "shuffled, {len} elements, n = {n}: {r}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calls and `nn` functions inside the body (calls_tuples.rs, tensors.rs)
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn inner(u: f64) -> f64 {
    u.sin() * 2.0
}

#[differentiate]
fn middle(x: f64, y: f64) -> f64 {
    inner(x * y) + y
}

variants! {
    /// Calls in the loop: each iteration's pullback comes from `inner_vjp`.
    [] fn calls_in_loop(x: f64, n: usize) -> f64 {
        let mut s = x;
        for _ in 0..n {
            s = inner(s) * 0.5 + middle(x, s) * 0.1;
        }
        s
    }
}

variants! {
    /// A layer applied in a loop through `nn::relu`, on arrays: the state is an array.
    [wrt(w, b),] fn repeated_layer(
        w: &Array2<f64>,
        b: &Array1<f64>,
        x: &Array2<f64>,
        depth: usize,
    ) -> f64 {
        let mut h = x.to_owned();
        for _ in 0..depth {
            h = nn::relu(&(h.dot(w) + b)) * 0.5 + &h;
        }
        h.sum()
    }
}

#[test]
fn calls_and_nn_inside_loops() {
    for n in TRIPS {
        for x in [-1.5, 0.3, 1.1] {
            let d = grads!(calls_in_loop(x, n));
            fd("calls in loop", |x| calls_in_loop::s1(x, n), x, d);
        }
    }
    let x = seeded(3, 4, 51);
    let (w, b) = (
        seeded(4, 4, 52) * 0.3,
        Array1::from_vec(vec![0.1, -0.2, 0.05, 0.0]),
    );
    for depth in [0, 1, 2, 3, 7] {
        let (gw, gb) = grads!(repeated_layer(&w, &b, &x, depth));
        check::assert_gradient(
            |w: &Array2<f64>| repeated_layer::s1(w, &b, &x, depth),
            &w,
            &gw,
        );
        check::assert_gradient(
            |b: &Array1<f64>| repeated_layer::s2(&w, b, &x, depth),
            &b,
            &gb,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `#[checkpoint(..)]` on single loops: nested loops, nested checkpointing, `while`
// ---------------------------------------------------------------------------------------------

/// Two nested loops, with `#[checkpoint(..)]` where the brackets say: acc ← acc/2 + t·x + i/100
/// with t the result of the inner recurrence t ← sin(t·x) + j/10 from t = acc.
macro_rules! nest {
    ($name:ident, [$($outer:tt)*], [$($inner:tt)*]) => {
        #[differentiate]
        fn $name(x: f64, n: usize, m: usize) -> f64 {
            let mut acc = 1.0;
            $($outer)*
            for i in 0..n {
                let mut t = acc;
                $($inner)*
                for j in 0..m {
                    t = (t * x).sin() + j as f64 * 0.1;
                }
                acc = acc * 0.5 + t * x + i as f64 * 0.01;
            }
            acc
        }
    };
}

nest!(nest_recorded, [], []);
nest!(nest_outer, [#[checkpoint(snapshots = 2)]], []);
nest!(nest_inner, [], [#[checkpoint(snapshots = 1)]]);
nest!(nest_both, [#[checkpoint(snapshots = 3)]], [#[checkpoint(snapshots = 0)]]);

#[test]
fn checkpoint_attribute_on_nested_loops() {
    for x in [-0.8, 0.3, 1.2] {
        for n in TRIPS {
            for m in [0, 1, 2, 7] {
                let recorded = nest_recorded_grad(x, n, m);
                for (what, got) in [
                    ("outer", nest_outer_grad(x, n, m)),
                    ("inner", nest_inner_grad(x, n, m)),
                    ("both", nest_both_grad(x, n, m)),
                ] {
                    let what = format!("{what} checkpointed, n = {n}, m = {m}");
                    assert_eq!(got.0, recorded.0, "{what}: value");
                    close(&what, got.1, recorded.1, TOL);
                }
                fd("nested", |x| nest_both(x, n, m), x, recorded.1);
            }
        }
    }
}

/// Babylonian square root: x ← (x + c/x)/2 until |x² − c| ≤ 1e-12, a `while` loop whose trip
/// count depends on `c` and the start. At convergence d√c/dc = 1/(2√c).
macro_rules! babylonian {
    ($name:ident, [$($attr:tt)*]) => {
        #[differentiate(wrt(c))]
        fn $name(c: f64, x0: f64) -> f64 {
            let mut x = x0;
            let mut k = 0;
            $($attr)*
            while (x * x - c).abs() > 1e-12 && k < 100 {
                x = 0.5 * (x + c / x);
                k += 1;
            }
            x
        }
    };
}

babylonian!(sqrt_recorded, []);
babylonian!(sqrt_checkpointed, [#[checkpoint(snapshots = 2)]]);

#[test]
fn checkpoint_attribute_on_a_while_loop() {
    for (c, x0) in [(2.0, 1.0), (9.0, 1.0), (1e6, 1.0), (0.25, 0.25)] {
        let (v, d) = sqrt_checkpointed_grad(c, x0);
        let (vr, dr) = sqrt_recorded_grad(c, x0);
        assert_eq!(v, vr);
        close("babylonian", d, dr, TOL);
        // Newton's iteration converges quadratically, and so does its derivative.
        close("babylonian analytic", d, 0.5 / c.sqrt(), 1e-9);
    }
}

// ---------------------------------------------------------------------------------------------
// The schedule's figures, through `autodiff::checkpoint::last_stats`
// ---------------------------------------------------------------------------------------------

#[test]
fn binomial_schedule_recomputes_the_optimal_number_of_steps() {
    for n in TRIPS {
        for (s, grad) in [
            (0, horner_forward::s0_grad as fn(f64, usize) -> (f64, f64)),
            (1, horner_forward::s1_grad),
            (2, horner_forward::s2_grad),
            (32, horner_forward::s32_grad),
        ] {
            grad(0.5, n);
            let st = last_stats().expect("a sweep ran");
            assert_eq!(st.iterations, n);
            assert_eq!(st.reversed, n);
            assert_eq!(
                st.forward_steps,
                optimal_forward_steps(n, s),
                "n = {n}, s = {s}"
            );
            assert!(st.peak_snapshots <= s + 1, "n = {n}, s = {s}: {st:?}");
        }
    }
}

#[test]
fn online_schedule_stays_within_its_bound() {
    for n in TRIPS {
        // A `while` body runs once more than the loop iterates: the last run tests and leaves.
        while_counter::s2_grad(0.4, n as u32);
        let st = last_stats().expect("a sweep ran");
        assert_eq!(st.iterations, n + 1);
        assert_eq!(st.reversed, n + 1);
        let optimal = optimal_forward_steps(n + 1, 2);
        assert!(st.forward_steps >= optimal, "n = {n}: {st:?}");
        assert!(
            st.forward_steps <= optimal + (n + 1) as u64,
            "n = {n}: {st:?}"
        );
        assert!(st.peak_snapshots <= 3, "n = {n}: {st:?}");
    }
}

/// Two pullbacks of the same checkpointed function alive at once, applied in any order: each has
/// its own checkpointer and snapshots.
#[test]
fn pullbacks_are_independent() {
    let (y1, pb1) = rotate::s1_vjp(1.0, 0.5, 0.3, 50);
    let (y2, pb2) = rotate::s1_vjp(-0.5, 2.0, 1.1, 7);
    let (r2, r1) = (
        rotate::plain_grad(-0.5, 2.0, 1.1, 7),
        rotate::plain_grad(1.0, 0.5, 0.3, 50),
    );
    assert_eq!((y1, y2), (r1.0, r2.0));
    let g2 = pb2(1.0);
    let g1 = pb1(1.0);
    assert_eq!(leaves(&g1), leaves(&r1.1));
    assert_eq!(leaves(&g2), leaves(&r2.1));
}
