//! Forward mode (`f_jvp`) through control flow: `if`/`else if`/`else` as statements, values and
//! tails, on active and inactive conditions; `match` with or-patterns, ranges and guards; `for`
//! over ranges (`a..b`, `a..=b`, `.rev()`), nested loops; `while`, `loop`, `break`, `continue`;
//! early `return`, also from inside loops; loop-carried tuples; tuple results.
//!
//! Each function is checked at points where every path is taken, along seeded random directions
//! (see `common::forward`): the tangent against central differences along the direction and
//! against the pullback of `f_vjp` by the dot-product test, the value against the function's, bit
//! for bit; and, where the derivative is easy to write, against the analytic directional
//! derivative (the chain rule carried forward by hand in the test, or a formula in a comment).
//! Points stay farther than the finite-difference step from every switch of a branch or a trip
//! count.

// Forms the functions test: `s = s * x` beside `s *= x`, an `if` inside a `match` arm.
#![allow(clippy::assign_op_pattern, clippy::collapsible_match)]

use autodiff::check::{DotReport, Tolerance};
use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// if / else if / else
// ---------------------------------------------------------------------------------------------

/// An `if`/`else if`/`else` statement, an `if` without `else`, then an `if` expression, all on
/// active conditions.
#[differentiate]
fn branches(x: f64, y: f64) -> f64 {
    let mut r = x + y;
    if x * y > 1.0 {
        r = r * x;
    } else if y < 0.0 {
        r -= y.exp();
    } else {
        r = r.sin();
    }
    if x < 0.5 {
        r *= 2.0;
    }
    let z = if r > 0.0 {
        r.sqrt()
    } else if r < -3.0 {
        -r
    } else {
        r * r
    };
    z + x
}

/// The chain rule of [`branches`] carried forward by hand along (dx, dy).
fn branches_tangent(x: f64, y: f64, dx: f64, dy: f64) -> f64 {
    let (mut r, mut dr) = (x + y, dx + dy);
    if x * y > 1.0 {
        (r, dr) = (r * x, dr * x + r * dx);
    } else if y < 0.0 {
        (r, dr) = (r - y.exp(), dr - y.exp() * dy);
    } else {
        (r, dr) = (r.sin(), r.cos() * dr);
    }
    if x < 0.5 {
        (r, dr) = (2.0 * r, 2.0 * dr);
    }
    let dz = if r > 0.0 {
        dr / (2.0 * r.sqrt())
    } else if r < -3.0 {
        -dr
    } else {
        2.0 * r * dr
    };
    dz + dx
}

#[test]
fn if_else_if_else() {
    // Every path of the statement, with and without the `if` without `else`, and every arm of
    // the expression.
    for (x, y) in [
        (2.0, 3.0),
        (0.2, 6.0),
        (0.3, -4.0),
        (1.0, -0.5),
        (-2.0, -3.0),
        (0.2, 0.4),
        (0.8, 0.3),
    ] {
        let what = format!("branches at ({x}, {y})");
        for ((dx, dy), t) in forward(&what).two((x, y), branches, branches_jvp, branches_vjp) {
            close(&what, t, branches_tangent(x, y, dx, dy), TOL);
        }
    }
}

/// An `if` tail on inactive conditions.
#[differentiate]
fn tail_on_flags(x: f64, flag: bool, n: usize) -> f64 {
    if flag || n == 3 {
        x.exp() * n as f64
    } else if n > 5 {
        -x
    } else {
        x.powi(2)
    }
}

#[test]
fn if_tail_on_inactive_conditions() {
    for (flag, n) in [(true, 0), (false, 3), (false, 6), (false, 1)] {
        for x in [-0.7f64, 1.2] {
            // flag ∨ n = 3: n·eˣ; n > 5: −1; otherwise 2x.
            let df = if flag || n == 3 {
                n as f64 * x.exp()
            } else if n > 5 {
                -1.0
            } else {
                2.0 * x
            };
            let pairs = forward(format!("tail on flags {flag} {n}")).one(
                x,
                |x| tail_on_flags(x, flag, n),
                |x, dx| tail_on_flags_jvp(x, flag, n, dx),
                |x| tail_on_flags_vjp(x, flag, n),
            );
            tangents_are("tail on flags", &pairs, df, TOL);
        }
    }
}

/// An `if` yielding a tuple, destructured, and a tuple result.
#[differentiate]
fn pair_from_if(x: f64, y: f64) -> (f64, f64) {
    let (a, b) = if x > y {
        (x * y, x - y)
    } else {
        (y.sin(), x * 3.0)
    };
    (a + b, a * b)
}

#[test]
fn if_yielding_a_tuple_into_a_tuple_result() {
    for (x, y) in [(2.0, 0.5), (-1.0, 1.5)] {
        // x > y: (a, b) = (xy, x − y); otherwise (sin y, 3x); result (a + b, ab).
        let what = format!("pair from if at ({x}, {y})");
        let pairs = forward(&what).two((x, y), pair_from_if, pair_from_if_jvp, pair_from_if_vjp);
        for ((dx, dy), (t0, t1)) in pairs {
            let (a, b, da, db) = if x > y {
                (x * y, x - y, dx * y + x * dy, dx - dy)
            } else {
                (y.sin(), 3.0 * x, y.cos() * dy, 3.0 * dx)
            };
            close(&what, t0, da + db, TOL);
            close(&what, t1, da * b + a * db, TOL);
        }
    }
}

/// Deferred initialisation in both branches, a value changed in one only.
#[differentiate]
fn deferred(x: f64, y: f64) -> f64 {
    let b;
    let mut c = x;
    if y > x {
        b = y / x;
        c = c * c;
    } else {
        b = y - x;
    }
    b * c
}

/// Outputs that do not depend on the input: a step and a constant.
#[differentiate]
fn step_and_constant(x: f64) -> (f64, f64) {
    let s = if x > 0.0 { 2.0 } else { -2.0 };
    let _ = x;
    (s, 7.0)
}

#[test]
fn deferred_initialisation_and_constant_outputs() {
    for (x, y) in [(0.5, 2.0), (2.0, -1.0)] {
        // y > x: y·x → (y, x); else (y − x)·x → (y − 2x, x)
        let g = if y > x { (y, x) } else { (y - 2.0 * x, x) };
        let pairs = forward("deferred").two((x, y), deferred, deferred_jvp, deferred_vjp);
        tangents_are2("deferred", &pairs, g, TOL);
    }
    for x in [-1.0, 3.0] {
        let pairs = forward("step").one(
            x,
            step_and_constant,
            step_and_constant_jvp,
            step_and_constant_vjp,
        );
        assert!(pairs.iter().all(|(_, t)| *t == (0.0, 0.0)), "{pairs:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// match on inactive integers
// ---------------------------------------------------------------------------------------------

/// `match` as an expression (or-patterns, guards binding the value), as a statement, and as a
/// tail in [`match_tail`].
#[differentiate]
fn matches(x: f64, k: i64) -> f64 {
    let z = match k {
        0 | 1 => x * x,
        -1 => x.exp(),
        m if m < -1 => x / m as f64,
        m if m % 2 == 0 => x.cos() * m as f64,
        _ => 2.0 * x,
    };
    let mut s = z;
    match k.rem_euclid(3) {
        0 => {
            s = s * x;
        }
        1 => s = s + x,
        _ => {}
    }
    s
}

#[differentiate]
fn match_tail(x: f64, k: u8) -> f64 {
    match k {
        0 => x.ln(),
        1..=3 => {
            let t = x + 1.0;
            t.sqrt()
        }
        _ => 5.0,
    }
}

#[test]
fn match_on_inactive_integers() {
    for x in [0.6f64, 1.7] {
        for k in [0i64, 1, -1, -4, 4, 7] {
            // z and z': 0|1 → x², 2x; −1 → eˣ; m < −1 → x/m, 1/m; even m → m·cos x, −m·sin x;
            // otherwise 2x, 2. Then s = z·x (k ≡ 0 mod 3), z + x (≡ 1), z (≡ 2).
            let (z, dz) = match k {
                0 | 1 => (x * x, 2.0 * x),
                -1 => (x.exp(), x.exp()),
                m if m < -1 => (x / m as f64, 1.0 / m as f64),
                m if m % 2 == 0 => (x.cos() * m as f64, -x.sin() * m as f64),
                _ => (2.0 * x, 2.0),
            };
            let df = match k.rem_euclid(3) {
                0 => dz * x + z,
                1 => dz + 1.0,
                _ => dz,
            };
            let pairs = forward(format!("matches k = {k}")).one(
                x,
                |x| matches(x, k),
                |x, dx| matches_jvp(x, k, dx),
                |x| matches_vjp(x, k),
            );
            tangents_are(&format!("matches k = {k} x = {x}"), &pairs, df, TOL);
        }
        for (k, df) in [(0u8, 1.0 / x), (2, 0.5 / (x + 1.0).sqrt()), (9, 0.0)] {
            let pairs = forward(format!("match tail k = {k}")).one(
                x,
                |x| match_tail(x, k),
                |x, dx| match_tail_jvp(x, k, dx),
                |x| match_tail_vjp(x, k),
            );
            tangents_are("match tail", &pairs, df, TOL);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// for loops over ranges, nested loops
// ---------------------------------------------------------------------------------------------

/// Three range loops: forward, reversed, inclusive from 1.
#[differentiate]
fn ranges(x: f64, n: usize) -> f64 {
    let mut a = 1.0;
    for i in 0..n {
        a = a * x + i as f64;
    }
    let mut b = 0.0;
    for i in (0..n).rev() {
        b = b * x - (i * i) as f64;
    }
    let mut c = 0.0;
    for k in 1..=n {
        c += x.powi(k as i32) / k as f64;
    }
    a + b * c
}

/// [`ranges`] and its derivative, by the chain rule carried forward.
fn ranges_by_hand(x: f64, n: usize) -> (f64, f64) {
    let (mut a, mut da) = (1.0, 0.0);
    for i in 0..n {
        (a, da) = (a * x + i as f64, da * x + a);
    }
    let (mut b, mut db) = (0.0, 0.0);
    for i in (0..n).rev() {
        (b, db) = (b * x - (i * i) as f64, db * x + b);
    }
    let (mut c, mut dc) = (0.0, 0.0);
    for k in 1..=n {
        c += x.powi(k as i32) / k as f64;
        dc += x.powi(k as i32 - 1);
    }
    (a + b * c, da + db * c + b * dc)
}

/// A rectangular and a triangular loop nest.
#[differentiate]
fn nests(x: f64, y: f64, n: usize, m: usize) -> f64 {
    let mut acc = y;
    for i in 0..n {
        for j in 0..m {
            acc = acc * x + (i * j) as f64 * y;
        }
    }
    let mut p = 1.0;
    for i in 0..n {
        for _ in 0..=i {
            p *= x;
        }
        acc += p;
    }
    acc
}

#[test]
fn for_over_ranges_and_nested_loops() {
    for x in [-1.2, 0.4, 1.1] {
        for n in [0usize, 1, 2, 6] {
            let (value, df) = ranges_by_hand(x, n);
            close("ranges value", ranges(x, n), value, TOL);
            let pairs = forward(format!("ranges n = {n}")).one(
                x,
                |x| ranges(x, n),
                |x, dx| ranges_jvp(x, n, dx),
                |x| ranges_vjp(x, n),
            );
            tangents_are(&format!("ranges n = {n} x = {x}"), &pairs, df, TOL);
        }
    }
    for (x, y) in [(0.9, 0.5), (-1.1, 2.0)] {
        for (n, m) in [(0, 3), (3, 0), (1, 1), (3, 4)] {
            forward(format!("nests {n}×{m}")).two(
                (x, y),
                |x, y| nests(x, y, n, m),
                |x, y, dx, dy| nests_jvp(x, y, n, m, dx, dy),
                |x, y| nests_vjp(x, y, n, m),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// while, loop, break, continue
// ---------------------------------------------------------------------------------------------

/// A `while` on an active condition, then one counted by hand.
#[differentiate]
fn whiles(x: f64, y: f64) -> f64 {
    let mut s = y;
    while s.abs() < 50.0 {
        s = s * x + 1.0;
    }
    let mut k = 0u32;
    let mut t = x;
    while k < 4 {
        t = t.sin() + y;
        k += 1;
    }
    s + t
}

/// `loop` with `break` at the top of the body (on an active condition), and in the middle.
#[differentiate]
fn loops_with_break(x: f64, limit: f64, n: usize) -> f64 {
    let mut s = x;
    let mut k = 0;
    loop {
        if s > limit || k >= 40 {
            break;
        }
        s = s * 1.25 + x * x;
        k += 1;
    }
    let mut t = x;
    let mut passes = n;
    loop {
        t = t.cos() * x;
        if passes == 0 {
            break;
        }
        t -= 0.5;
        passes -= 1;
    }
    s + t
}

/// `continue` in a `for`, a `while` (on an active condition) and a `loop`.
#[differentiate]
fn continues(x: f64, n: i32) -> f64 {
    let mut s = x;
    for i in 0..n {
        let odd = i % 2 == 1;
        if odd && s > 1.0 {
            continue;
        }
        s = s * x + 0.5;
    }
    let mut k = 0;
    let mut t = 0.0;
    while k < n {
        k += 1;
        if t + x * k as f64 > 3.0 {
            continue;
        }
        t += x * k as f64;
    }
    let mut u = x;
    let mut j = 0;
    loop {
        j += 2;
        if j % 3 == 0 {
            continue;
        }
        u = u * x + 1.0;
        if j >= 10 {
            break;
        }
    }
    s + t + u
}

/// `break` out of a `for`, and `break`/`continue` in an inner loop.
#[differentiate]
fn inner_breaks(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    for i in 0..n + 5 {
        s *= x + i as f64;
        if s.abs() > 10.0 {
            break;
        }
    }
    let mut total = 0.0;
    for i in 0..n {
        let mut t = x;
        for j in 0..8 {
            if j == 2 {
                continue;
            }
            if j > i + 1 {
                break;
            }
            t = t * x + 0.25;
        }
        total += t;
    }
    s + total
}

#[test]
fn while_loop_break_continue() {
    for (x, y) in [(1.5, 1.0), (-2.0, 3.0), (1.1, 60.0), (3.0, -2.0)] {
        forward(format!("whiles at ({x}, {y})")).two((x, y), whiles, whiles_jvp, whiles_vjp);
    }
    for (x, limit) in [(1.0, 0.5), (1.0, 12.0), (0.1, 1e3), (-1.0, 5.0)] {
        for n in [0usize, 1, 4] {
            // ∂/∂limit = 0: the limit only selects the trip count.
            let what = format!("loops with break at ({x}, {limit}) n = {n}");
            let pairs = forward(&what).two(
                (x, limit),
                |x, l| loops_with_break(x, l, n),
                |x, l, dx, dl| loops_with_break_jvp(x, l, n, dx, dl),
                |x, l| loops_with_break_vjp(x, l, n),
            );
            let (_, dx_only) = loops_with_break_jvp(x, limit, n, 1.0, 0.0);
            tangents_are2(&what, &pairs, (dx_only, 0.0), TOL);
        }
    }
    for x in [-1.1, 0.35, 0.7, 1.6] {
        for n in [0, 1, 2, 7] {
            forward(format!("continues n = {n} x = {x}")).one(
                x,
                |x| continues(x, n),
                |x, dx| continues_jvp(x, n, dx),
                |x| continues_vjp(x, n),
            );
        }
        for n in [0usize, 1, 2, 5] {
            forward(format!("inner breaks n = {n} x = {x}")).one(
                x,
                |x| inner_breaks(x, n),
                |x, dx| inner_breaks_jvp(x, n, dx),
                |x| inner_breaks_vjp(x, n),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Early return
// ---------------------------------------------------------------------------------------------

/// Returns from nested `if`s and from a `match` arm, and a fall-through.
#[differentiate]
fn early(x: f64, y: f64, k: u32) -> f64 {
    let a = x - y;
    if a > 1.0 {
        if y > 0.0 {
            return a.ln();
        }
        if k == 0 {
            return a * y;
        }
    } else if x < -2.0 {
        return -a * a;
    }
    match k {
        1 => return (a * 2.0).exp(),
        2 => {
            if y < 0.0 {
                return y * y;
            }
        }
        _ => {}
    }
    a * x + y
}

/// Several returns one after the other.
#[differentiate]
fn sequential_returns(x: f64) -> f64 {
    let a = x * x + 1.0;
    if a > 5.0 {
        return a.ln();
    }
    let b = a * x.cos();
    if x < -0.5 {
        return -b;
    }
    let c = b + x;
    if c < 1.0 {
        return c * c * 0.5;
    }
    c.powi(3) - a
}

#[test]
fn early_returns() {
    for (x, y) in [
        (3.0, 0.5),
        (3.0, -1.0),
        (-3.0, 0.5),
        (0.5, 1.0),
        (0.5, -1.5),
    ] {
        for k in [0u32, 1, 2, 3] {
            forward(format!("early at ({x}, {y}) k = {k}")).two(
                (x, y),
                |x, y| early(x, y, k),
                |x, y, dx, dy| early_jvp(x, y, k, dx, dy),
                |x, y| early_vjp(x, y, k),
            );
        }
    }
    for x in [-3.0f64, -1.0, -0.3, 0.2, 1.5] {
        // a = x² + 1, b = a·cos x, c = b + x: ln a; −b; c²/2; c³ − a.
        let (a, da) = (x * x + 1.0, 2.0 * x);
        let (b, db) = (a * x.cos(), da * x.cos() - a * x.sin());
        let (c, dc) = (b + x, db + 1.0);
        let df = if a > 5.0 {
            da / a
        } else if x < -0.5 {
            -db
        } else if c < 1.0 {
            c * dc
        } else {
            3.0 * c * c * dc - da
        };
        let pairs = forward("sequential returns").one(
            x,
            sequential_returns,
            sequential_returns_jvp,
            sequential_returns_vjp,
        );
        tangents_are(&format!("sequential returns x = {x}"), &pairs, df, TOL);
    }
}

/// The first partial sum of x·k (k = 1, 2, ..) above `limit`, returned from inside the loop.
#[differentiate(wrt(x))]
fn first_above(x: f64, limit: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for k in 1..=n {
        s += x * k as f64;
        if s > limit {
            return s.sqrt();
        }
    }
    s * 3.0
}

/// A return from an inner loop, through the outer one.
#[differentiate(wrt(x))]
fn search(x: f64, n: usize) -> f64 {
    let mut acc = x;
    for i in 0..n {
        for j in 0..n {
            acc = acc * x - (i + j) as f64 * 0.1;
            if acc.abs() > 20.0 {
                return (acc * acc).ln();
            }
        }
    }
    acc
}

/// Returns from a `while` and from a `loop`.
#[differentiate]
fn shrink(x: f64) -> f64 {
    let mut y = x;
    let mut steps = 0;
    while steps < 30 {
        if y.abs() < 0.5 {
            return y.exp();
        }
        y /= 3.0;
        steps += 1;
    }
    loop {
        steps += 1;
        if steps > 35 {
            return y * 7.0;
        }
    }
}

/// Returns before a loop, between two loops, and after them.
#[differentiate]
fn returns_around_loops(x: f64, n: usize) -> f64 {
    if x > 3.0 {
        return x.sqrt();
    }
    let mut s = x;
    for _ in 0..n {
        s = s * x + 0.5;
    }
    if s < -1.0 {
        return -s;
    }
    let mut k = 0;
    while k < n {
        s += x;
        k += 1;
    }
    s * s
}

#[test]
fn returns_inside_loops() {
    for (x, limit) in [(1.0, 4.0), (0.1, 50.0), (2.0, 0.5)] {
        // Returning at k: d/dx √(x·k(k+1)/2) = k(k+1)/4 / √s; never: 3·Σk.
        let n = 6;
        let mut s = 0.0;
        let mut df = 3.0 * (n * (n + 1) / 2) as f64;
        for k in 1..=n {
            s += x * k as f64;
            if s > limit {
                df = (k * (k + 1)) as f64 / 4.0 / s.sqrt();
                break;
            }
        }
        let pairs = forward(format!("first above {limit}")).one(
            x,
            |x| first_above(x, limit, n),
            |x, dx| first_above_jvp(x, limit, n, dx),
            |x| first_above_vjp(x, limit, n),
        );
        tangents_are("first above", &pairs, df, TOL);
    }
    for x in [1.4, 2.1, 0.9, -1.7] {
        forward(format!("search x = {x}")).one(
            x,
            |x| search(x, 5),
            |x, dx| search_jvp(x, 5, dx),
            |x| search_vjp(x, 5),
        );
    }
    // 5 → 5/3 → 5/9 → 5/27 < 0.5: e^{x/27} → e^{x/27}/27. Never small within 30 divisions
    // (x = 10¹⁵, with a step of 10³ at that scale): 7x/3³⁰ → 7/3³⁰.
    let pairs = forward("shrink").one(5.0, shrink, shrink_jvp, shrink_vjp);
    tangents_are("shrink", &pairs, (5.0f64 / 27.0).exp() / 27.0, TOL);
    let large = Tolerance {
        step: 1e3,
        ..Tolerance::default_for::<f64>()
    };
    let pairs = forward("shrink, never small")
        .with(large, DotReport::default_rtol::<f64>())
        .one(1e15, shrink, shrink_jvp, shrink_vjp);
    tangents_are("shrink, never small", &pairs, 7.0 / 3f64.powi(30), TOL);
    for x in [4.0, -1.5, 0.5, 1.2] {
        for n in [0usize, 1, 3] {
            forward(format!("returns around loops x = {x} n = {n}")).one(
                x,
                |x| returns_around_loops(x, n),
                |x, dx| returns_around_loops_jvp(x, n, dx),
                |x| returns_around_loops_vjp(x, n),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loop-carried values: several, tuples, resets, unused results, branches and scopes inside
// ---------------------------------------------------------------------------------------------

/// Rotation and scaling of (a, b) n times: two carried values, a tuple result.
#[differentiate]
fn spiral(a: f64, b: f64, theta: f64, n: usize) -> (f64, f64) {
    let c = theta.cos() * 0.9;
    let s = theta.sin() * 0.9;
    let mut u = a;
    let mut v = b;
    for _ in 0..n {
        let t = u * c - v * s;
        v = u * s + v * c;
        u = t;
    }
    (u, v)
}

/// A tuple carried through a loop, a value reset on some iterations, a result left unused.
#[differentiate]
fn carried(x: f64, y: f64, n: usize) -> f64 {
    let mut p = (x, y);
    let mut unused = 0.0;
    let mut last = 0.0;
    for i in 0..n {
        p = (p.1 * x, p.0 + y);
        if i % 3 == 1 {
            p = (0.5, p.1);
        }
        unused += p.0.sin();
        last = p.0 * p.1;
    }
    let _ = unused;
    p.0 + 2.0 * p.1 + last
}

/// Branches, shadowing and compound assignments inside a loop, a block expression before it.
#[differentiate]
fn busy_loop(x: f64, y: f64, n: usize) -> f64 {
    let z = {
        let mut t = x;
        for _ in 0..2 {
            t *= y;
        }
        t
    };
    let mut s = z;
    for i in 0..n {
        let x = x * 0.5;
        if s > 1.0 {
            s = s.sqrt() + x;
        } else {
            s = s * 3.0 - x;
        }
        s /= 1.0 + y * y;
        if i % 2 == 0 {
            s -= x;
        }
    }
    s + x
}

/// (1 + x/n)ⁿ: a long loop.
#[differentiate]
fn compound_interest(x: f64, n: usize) -> f64 {
    let r = 1.0 + x / n as f64;
    let mut s = 1.0;
    for _ in 0..n {
        s *= r;
    }
    s
}

#[test]
fn loop_carried_values() {
    for n in [0usize, 1, 4] {
        for (a, b, theta) in [(1.0, 0.0, 0.3), (0.5, -2.0, 1.1)] {
            // Rotation by φ = nθ scaled by ρ = 0.9ⁿ: (u, v) = ρ·R(φ)·(a, b), so
            // d(u, v) = ρ·R(φ)·(da, db) + n·dθ·ρ·R(φ + π/2)·(a, b).
            let what = format!("spiral n = {n}");
            let pairs = forward(&what).three(
                (a, b, theta),
                |a, b, t| spiral(a, b, t, n),
                |a, b, t, da, db, dt| spiral_jvp(a, b, t, n, da, db, dt),
                |a, b, t| spiral_vjp(a, b, t, n),
            );
            let (phi, rho) = (n as f64 * theta, 0.9f64.powi(n as i32));
            let (c, s) = (phi.cos(), phi.sin());
            for ((da, db, dt), (du, dv)) in pairs {
                let k = n as f64 * dt;
                close(
                    &what,
                    du,
                    rho * (c * da - s * db + k * (-s * a - c * b)),
                    TOL,
                );
                close(
                    &what,
                    dv,
                    rho * (s * da + c * db + k * (c * a - s * b)),
                    TOL,
                );
            }
        }
    }
    for (x, y) in [(0.5, 2.0), (-1.5, 0.25)] {
        for n in [0usize, 1, 2, 5] {
            forward(format!("carried n = {n}")).two(
                (x, y),
                |x, y| carried(x, y, n),
                |x, y, dx, dy| carried_jvp(x, y, n, dx, dy),
                |x, y| carried_vjp(x, y, n),
            );
            forward(format!("busy loop n = {n}")).two(
                (x, y),
                |x, y| busy_loop(x, y, n),
                |x, y, dx, dy| busy_loop_jvp(x, y, n, dx, dy),
                |x, y| busy_loop_vjp(x, y, n),
            );
        }
    }
    let n = 100_000;
    for x in [-1.0f64, 2.0] {
        // d/dx (1 + x/n)ⁿ = (1 + x/n)ⁿ⁻¹, to n·ε: the product rounds 10⁵ times. The difference
        // steps r = 1 + x/n by h·v/n, which 1 + … rounds to a multiple of ε: with h = 10⁻⁶ that
        // is a relative error of ~10⁻⁵ in the step; h = 10⁻³ makes it ~10⁻⁸, and the truncation
        // error h²·f‴/6 stays below 10⁻⁷.
        let step = Tolerance {
            step: 1e-3,
            ..Tolerance::default_for::<f64>()
        };
        let pairs = forward("compound interest")
            .with(step, DotReport::default_rtol::<f64>())
            .one(
                x,
                |x| compound_interest(x, n),
                |x, dx| compound_interest_jvp(x, n, dx),
                |x| compound_interest_vjp(x, n),
            );
        let df = (1.0 + x / n as f64).powi(n as i32 - 1);
        tangents_are("compound interest", &pairs, df, n as f64 * f64::EPSILON);
    }
}
