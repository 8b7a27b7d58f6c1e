//! Numerical methods inside differentiated functions: series summed until they stop changing,
//! iterations that leave from inside a block, and the other forms of solvers, integrators and
//! quadrature rules written with plain loops.
//!
//! A block statement holding a `break`, `continue` or `return` (`{ let t = ..; if t > c {
//! break; } s += t; }` in a loop) was rejected with "`return`, `break` or `continue` inside a
//! block expression is followed where the block is a `let`'s value that declares nothing", an
//! error that did not fit: there was no `let`. So was `if let Some(p) = prev { if (s -
//! p).abs() < tol { break; } }` of a local `Option<f64>`, which the macro rewrites into such a
//! block, and a `let`'s block value that declares a variable (`let y = { let t = ..; if t > c
//! { return x; } t * 2.0 };`). They are now followed, the block's names in a scope of their
//! own.
//!
//! `if let Some(p) = prev && (s - p).abs() < tol { break; }`, the same test as a chain (Rust
//! 2024), was "this use reads it as a whole `Option` (passed on, copied or compared)", which
//! it does not: a chain whose `let` takes the local `Option<f64>` apart is now the `if let`
//! holding an `if` of the tests after it (those before it tested first, the `else` in both).
//! So are `while let Some(c) = cur && c > tol` and `let Some(p) = prev else { continue };`,
//! which were rejected the same way. A `match` of such a local with guards (`match best {
//! Some(b) if b <= c => {} _ => best = Some(c) }`, the best-so-far idiom) was an error that
//! asked for arms without guards; it is now the `if` chain the arms stand for, tried in their
//! order. One such local assigned another (`prev2 = prev;`, the iterate before the last) was
//! an error that said it read the `Option` whole; it is now the copy of its flag and float.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Where `hessian` applies, `_hvp` is checked against central differences of the
//! gradient, and `_jvp` against the gradient.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Blocks that may leave, as statements and as a `let`'s value.
// ---------------------------------------------------------------------------------------------

/// The exponential series summed until the partial sum stops changing, the previous sum kept
/// in an `Option<f64>`: `f(x) = eˣ`, `f'(x) = eˣ`.
#[differentiate]
fn exp_series(x: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut sum = 0.0;
    let mut term = 1.0;
    let mut k = 0;
    loop {
        sum += term;
        k += 1;
        term *= x / k as f64;
        if let Some(p) = prev {
            if (sum - p).abs() < 1e-16 * sum.abs() {
                break;
            }
        }
        prev = Some(sum);
        if k > 100 {
            break;
        }
    }
    sum
}

#[test]
fn series_until_it_stops_changing() {
    for &x in &[-0.8, 0.3, 1.7] {
        let (v, g) = exp_series_grad(x);
        close("value", v, exp_series(x), 0.0);
        close("eˣ", v, f64::exp(x), 1e-14);
        close("d/dx = eˣ", g, f64::exp(x), 1e-13);
        fd("exp_series", exp_series, x, g);
        let (_, t) = exp_series_jvp(x, 1.0);
        close("jvp", t, g, TOL);
    }
}

/// `Σ_{i : x·i ≤ 3} (x·i)²` over `i = 0..10`, the loop left from inside a block statement:
/// `f = x²·Σ i²`, `f' = 2x·Σ i²`, `f'' = 2·Σ i²` (the sum over the `i` reached).
#[differentiate(hessian)]
fn block_break(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..10 {
        {
            let t = x * i as f64;
            if t > 3.0 {
                break;
            }
            s += t * t;
        }
    }
    s
}

/// `Σ sin(x·i)` over `i` not divisible by 3, the sum scaled by 1.01 after each such `i` (a
/// `continue` inside a block statement skips the term and the scaling):
/// `f' = Σ_{3 ∤ i} i·cos(x·i)·1.01^(n_i)`, `n_i` the count of `j` in `i..10` with `3 ∤ j`.
#[differentiate]
fn block_continue(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..10 {
        {
            let t = x * i as f64;
            if i % 3 == 0 {
                continue;
            }
            s += t.sin();
        }
        s *= 1.01;
    }
    s
}

/// A block statement with a `return` outside a loop and inside one: `(2x)²` where it exceeds
/// 10, else `2x + 1`; and `x·1.5^k` for the first `k` where it exceeds 10 (the name `t`
/// declared again inside the block is the block's own).
#[differentiate]
fn block_return(x: f64) -> f64 {
    let t = x * 2.0;
    {
        let t = t * t;
        if t > 10.0 {
            return t;
        }
    }
    t + 1.0
}

#[differentiate]
fn block_return_in_loop(x: f64) -> f64 {
    let mut s = x;
    for _ in 0..20 {
        {
            let u = s * 1.5;
            if u > 10.0 {
                return u;
            }
            s = u;
        }
    }
    s
}

/// A `let`'s block value that declares a variable and may leave: `y = 6x` where `3x ≤ 100`,
/// `f = y·x = 6x²`, `f' = 12x`; in a loop, `Σ (x·i)²` over `i ≠ 1` while `x·i ≤ 2`.
#[differentiate]
fn let_block(x: f64) -> f64 {
    let y = {
        let t = x * 3.0;
        if t > 100.0 {
            return x;
        }
        t * 2.0
    };
    y * x
}

#[differentiate]
fn let_block_in_loop(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..8 {
        let y = {
            let t = x * i as f64;
            if t > 2.0 {
                break;
            }
            if i == 1 {
                continue;
            }
            t * t
        };
        s += y;
    }
    s
}

#[test]
fn blocks_that_leave() {
    // x = 0.45: x·i ≤ 3 for i ≤ 6, Σ i² = 91.
    let x = 0.45;
    let (v, g) = block_break_grad(x);
    close("value", v, block_break(x), 0.0);
    close("x²·91", v, x * x * 91.0, TOL);
    close("2x·91", g, 2.0 * x * 91.0, TOL);
    fd("block_break", block_break, x, g);
    let (_, g2, hv) = block_break_hvp(x, 1.0);
    close("hvp's gradient", g2, g, TOL);
    close("2·91", hv, 182.0, TOL);

    let x = 0.5;
    let (v, g) = block_continue_grad(x);
    close("value", v, block_continue(x), 0.0);
    let want: f64 = (0..10)
        .filter(|i| i % 3 != 0)
        .map(|i| {
            let n_i = (i..10).filter(|j| j % 3 != 0).count() as i32;
            i as f64 * (x * i as f64).cos() * 1.01f64.powi(n_i)
        })
        .sum();
    close("Σ i·cos(x·i)·1.01^(n_i)", g, want, TOL);
    fd("block_continue", block_continue, x, g);
    let (_, t) = block_continue_jvp(x, 1.0);
    close("jvp", t, g, TOL);

    for &(x, want) in &[(0.5, 2.0), (2.5, 8.0 * 2.5)] {
        let (v, g) = block_return_grad(x);
        close("value", v, block_return(x), 0.0);
        close("d/dx", g, want, TOL);
        fd("block_return", block_return, x, g);
    }

    // 0.5·1.5^k > 10 first at k = 8: f = 1.5⁸·x.
    let (v, g) = block_return_in_loop_grad(0.5);
    close("value", v, block_return_in_loop(0.5), 0.0);
    close("1.5⁸", g, 1.5f64.powi(8), TOL);
    fd("block_return_in_loop", block_return_in_loop, 0.5, g);

    let (v, g) = let_block_grad(0.5);
    close("value", v, let_block(0.5), 0.0);
    close("12x", g, 6.0, TOL);
    fd("let_block", let_block, 0.5, g);

    // x = 0.45: x·i ≤ 2 for i ≤ 4; i = 1 skipped: f = x²·(4 + 9 + 16), f' = 2x·29.
    let (v, g) = let_block_in_loop_grad(0.45);
    close("value", v, let_block_in_loop(0.45), 0.0);
    close("2x·29", g, 2.0 * 0.45 * 29.0, TOL);
    fd("let_block_in_loop", let_block_in_loop, 0.45, g);
    let (_, t) = let_block_in_loop_jvp(0.45, 1.0);
    close("jvp", t, g, TOL);
}

// ---------------------------------------------------------------------------------------------
// 2. A chain of tests that takes a local `Option<f64>` apart.
// ---------------------------------------------------------------------------------------------

/// [`exp_series`] with the test as a chain: `f = eˣ`, `f' = eˣ`.
#[differentiate]
fn exp_series_chain(x: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut sum = 0.0;
    let mut term = 1.0;
    for k in 1..200 {
        sum += term;
        term *= x / k as f64;
        if let Some(p) = prev
            && (sum - p).abs() < 1e-16 * sum.abs()
        {
            break;
        }
        prev = Some(sum);
    }
    sum
}

/// With `w = v·t` of each element: where `i` is even, a previous `w` exists and `w > p`, add
/// `w·p`; else where `w > 1`, add `w`; else subtract `w/2`. At `x` below and `t = 0.93` the
/// branches taken are, by `i`: subtract, subtract, add `w·p`, add, add, add, subtract,
/// subtract, so `f = t²·x₁x₂ + t·(x₃ + x₄ + x₅) − t·(x₀ + x₁ + x₆ + x₇)/2` and `f' = 2t·x₁x₂ +
/// (x₃ + x₄ + x₅) − (x₀ + x₁ + x₆ + x₇)/2`.
#[differentiate]
fn chain_with_else(x: &[f64], t: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for (i, &v) in x.iter().enumerate() {
        let w = v * t;
        if i % 2 == 0
            && let Some(p) = prev
            && w > p
        {
            s += w * p;
        } else if w > 1.0 {
            s += w;
        } else {
            s -= 0.5 * w;
        }
        prev = Some(w);
    }
    s
}

/// `take()` in a chain with a second `let`: each `w = v·t` is kept, and the next element adds
/// `p·w` where the kept `p` exceeds `x[0]` (the kept value is taken either way). At `x` below
/// and `t = 0.93`: pairs (1.5, 0.7), (2.0, 1.9), (3.0, 0.2) add, `f = t²·(1.05 + 3.8 + 0.6)`,
/// `f' = 2t·5.45`; `∂f/∂x = t²·(0, 0.7, 1.5, 1.9, 2.0, 0.2, 3.0, 0)`.
#[differentiate]
fn chain_take(x: &[f64], t: f64) -> f64 {
    let mut pending: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = v * t;
        if let Some(p) = pending.take()
            && let Some(&first) = x.first()
            && p > first
        {
            s += p * w;
            continue;
        }
        pending = Some(w);
    }
    s
}

/// The pattern binding the variable's name again: `Σ sin(xᵢt)·sin(xᵢ₊₁t)` over the `i` where
/// the first factor is the smaller.
#[differentiate]
fn chain_rebinds(x: &[f64], t: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = (v * t).sin();
        if let Some(prev) = prev
            && prev < w
        {
            s += prev * w;
        }
        prev = Some(w);
    }
    s
}

#[test]
fn option_taken_apart_in_a_chain() {
    for &x in &[-0.8, 0.3, 1.7] {
        let (v, g) = exp_series_chain_grad(x);
        close("value", v, exp_series_chain(x), 0.0);
        close("eˣ", v, f64::exp(x), 1e-14);
        close("d/dx = eˣ", g, f64::exp(x), 1e-13);
    }

    let y = vec![0.5, 0.6, 0.7, 2.0, 1.9, 3.0, 0.2, 0.9];
    let t = 0.93;
    let (v, (gy, gt)) = chain_with_else_grad(&y, t);
    close("value", v, chain_with_else(&y, t), 0.0);
    let want = 2.0 * t * y[1] * y[2] + (y[3] + y[4] + y[5]) - 0.5 * (y[0] + y[1] + y[6] + y[7]);
    close("d/dt", gt, want, TOL);
    fd("chain_with_else", |t| chain_with_else(&y, t), t, gt);
    fd_vec("chain_with_else, x", |p| chain_with_else(p, t), &y, &gy);
    let (_, dt) = chain_with_else_jvp(&y, t, &vec![0.0; 8], 1.0);
    close("jvp", dt, gt, TOL);

    let x = vec![0.5, 1.5, 0.7, 2.0, 1.9, 3.0, 0.2, 0.9];

    let (v, (gx, gt)) = chain_take_grad(&x, t);
    close("value", v, chain_take(&x, t), 0.0);
    close("f", v, t * t * 5.45, TOL);
    close("d/dt", gt, 2.0 * t * 5.45, TOL);
    let want = [0.0, 0.7, 1.5, 1.9, 2.0, 0.2, 3.0, 0.0];
    for k in 0..8 {
        close("d/dx", gx[k], t * t * want[k], TOL);
    }

    let (v, (gx, gt)) = chain_rebinds_grad(&x, t);
    close("value", v, chain_rebinds(&x, t), 0.0);
    fd("chain_rebinds", |t| chain_rebinds(&x, t), t, gt);
    fd_vec("chain_rebinds, x", |p| chain_rebinds(p, t), &x, &gx);
}

/// `let Some(p) = prev else { .. };` of a local `Option<f64>`: `Σ wᵢ₋₁·wᵢ` over consecutive
/// `w = v·t`, the chain restarted after a `w > 10` (none at `x` below): `f = t²·Σ xᵢ₋₁xᵢ`.
#[differentiate]
fn let_else_option(x: &[f64], t: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = v * t;
        if w > 10.0 {
            prev = None;
        }
        let Some(p) = prev else {
            prev = Some(w);
            continue;
        };
        s += p * w;
        prev = Some(w);
    }
    s
}

/// The same with `take()`: the pairs `(x₀, x₁)`, `(x₂, x₃)`, ..: `f = t²·Σ x₂ₖx₂ₖ₊₁`.
#[differentiate]
fn let_else_take(x: &[f64], t: f64) -> f64 {
    let mut pending: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = v * t;
        let Some(p) = pending.take() else {
            pending = Some(w);
            continue;
        };
        s += p * w;
    }
    s
}

/// `while let Some(c) = cur && c > 0.01`: `Σ t/2ᵏ` over the terms above 0.01; at `t = 0.9`,
/// `k = 0..=6`, `f = t·127/64`, `f' = 127/64`.
#[differentiate]
fn while_let_chain(t: f64) -> f64 {
    let mut cur: Option<f64> = Some(t);
    let mut s = 0.0;
    while let Some(c) = cur
        && c > 0.01
    {
        s += c;
        cur = Some(c * 0.5);
    }
    s
}

#[test]
fn option_let_else_and_while_chain() {
    let x = vec![0.5, 1.5, 0.7, 2.0, 1.9];
    let t = 0.9;
    let pairs: f64 = x.windows(2).map(|w| w[0] * w[1]).sum();
    let (v, (gx, gt)) = let_else_option_grad(&x, t);
    close("value", v, let_else_option(&x, t), 0.0);
    close("t²·Σ xᵢ₋₁xᵢ", v, t * t * pairs, TOL);
    close("d/dt", gt, 2.0 * t * pairs, TOL);
    fd_vec("let_else_option, x", |p| let_else_option(p, t), &x, &gx);

    let halves = x[0] * x[1] + x[2] * x[3];
    let (v, (gx, gt)) = let_else_take_grad(&x, t);
    close("value", v, let_else_take(&x, t), 0.0);
    close("d/dt", gt, 2.0 * t * halves, TOL);
    let want = [x[1], x[0], x[3], x[2], 0.0];
    for k in 0..5 {
        close("d/dx", gx[k], t * t * want[k], TOL);
    }

    let (v, g) = while_let_chain_grad(0.9);
    close("value", v, while_let_chain(0.9), 0.0);
    close("f", v, 0.9 * 127.0 / 64.0, TOL);
    close("f'", g, 127.0 / 64.0, TOL);
    let (_, d) = while_let_chain_jvp(0.9, 1.0);
    close("jvp", d, g, TOL);
}

/// The best-so-far idiom with a guard: the least `(v − t)² + v/10` over the elements; at `x`
/// below and `t = 1` it is at `v = 0.7`: `∂/∂v = 2(v − t) + 0.1`, `∂/∂t = −2(v − t)`.
#[differentiate]
fn best_by_guard(x: &[f64], t: f64) -> f64 {
    let mut best: Option<f64> = None;
    for &v in x {
        let c = (v - t).powi(2) + 0.1 * v;
        match best {
            Some(b) if b <= c => {}
            _ => best = Some(c),
        }
    }
    best.unwrap_or(0.0)
}

/// A `match` with guards as a value, every kind of arm: a damped running sum `s`, with the
/// previous term `p`: where `p > 1`, `s + p·w`; other `Some(p)`, `s + w − p`; `None` where
/// `w > 2`, `s + w²`; else `s + w`.
#[differentiate]
fn guarded_value(x: &[f64], t: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = v * t;
        s = match prev {
            Some(p) if p > 1.0 => s + p * w,
            Some(p) => s + w - p,
            None if w > 2.0 => s + w * w,
            None => s + w,
        };
        prev = if w > 1.8 { None } else { Some(w) };
    }
    s
}

#[test]
fn option_match_with_guards() {
    let x = vec![0.5, 1.5, 0.7];
    let (v, (gx, gt)) = best_by_guard_grad(&x, 1.0);
    close("value", v, best_by_guard(&x, 1.0), 0.0);
    close("f", v, 0.09 + 0.07, TOL);
    close("∂/∂t", gt, 0.6, TOL);
    close("∂/∂x₂", gx[2], -0.5, TOL);
    close("∂/∂x₀", gx[0], 0.0, 0.0);

    let y = vec![0.5, 1.5, 0.7, 2.0, 1.9, 3.0, 0.2, 0.9];
    for &t in &[0.93, 1.1] {
        let (v, (gy, gt)) = guarded_value_grad(&y, t);
        close("value", v, guarded_value(&y, t), 0.0);
        fd("guarded_value", |t| guarded_value(&y, t), t, gt);
        fd_vec("guarded_value, x", |p| guarded_value(p, t), &y, &gy);
        let (_, d) = guarded_value_jvp(&y, t, &vec![0.0; 8], 1.0);
        close("jvp", d, gt, TOL);
    }
}

/// `match pending.take()` with a guard: pairs of `w = v·t`, each adding `p − w` where the kept
/// `p` exceeds `w`, else `p·w`. At `x` below: pairs (1.5, 0.5), (0.7, 2.0), (3.0, 1.9): `f =
/// t·(1.5 − 0.5) + t²·1.4 + t·(3.0 − 1.9)`, `f' = 2.1 + 2.8t`.
#[differentiate]
fn guarded_take(x: &[f64], t: f64) -> f64 {
    let mut pending: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = v * t;
        s += match pending.take() {
            Some(p) if p > w => p - w,
            Some(p) => p * w,
            None => {
                pending = Some(w);
                0.0
            }
        };
    }
    s
}

#[test]
fn option_take_match_with_guards() {
    let x = vec![1.5, 0.5, 0.7, 2.0, 3.0, 1.9, 0.2];
    let t = 0.9;
    let (v, (gx, gt)) = guarded_take_grad(&x, t);
    close("value", v, guarded_take(&x, t), 0.0);
    close("f", v, t * 2.1 + t * t * 1.4, TOL);
    close("f'", gt, 2.1 + 2.8 * t, TOL);
    fd_vec("guarded_take, x", |p| guarded_take(p, t), &x, &gx);
}

/// The fixed point of `x = cos(a·x)` by iteration accelerated with Aitken's Δ², the two
/// previous iterates kept in `Option`s, one assigned the other: `x'(a) = −x·sin(a·x) / (1 +
/// a·sin(a·x))` (the implicit derivative at the fixed point).
#[differentiate]
fn aitken<T: num_traits::Float>(a: T) -> T {
    let mut x = T::from(0.5).unwrap();
    let mut prev: Option<T> = None;
    let mut prev2: Option<T> = None;
    for _ in 0..60 {
        let next = (a * x).cos();
        if let Some(p) = prev
            && let Some(q) = prev2
        {
            let den = next - T::from(2.0).unwrap() * p + q;
            if den.abs() > T::from(1e-12).unwrap() {
                x = next - (next - p) * (next - p) / den;
                prev = None;
                prev2 = None;
                continue;
            }
        }
        prev2 = prev;
        prev = Some(next);
        x = next;
    }
    x
}

#[test]
fn option_assigned_another() {
    let a = 0.9f64;
    let (x, g) = aitken_grad(a);
    close("value", x, aitken(a), 0.0);
    close("x = cos(a·x)", x, (a * x).cos(), 1e-14);
    let s = (a * x).sin();
    close("x'(a)", g, -x * s / (1.0 + a * s), 1e-10);
    fd("aitken", aitken, a, g);
    let (x32, g32) = aitken_grad(0.9f32);
    close("f32 value", x32 as f64, x, 1e-6);
    close("f32 x'(a)", g32 as f64, g, 1e-5);
}

/// The form the error for an `Option` of a tuple asks for: the best index and its cost in
/// variables of their own. `f = (x_b − t)² + x_b` at the best `b`: `∂/∂x_b = 2(x_b − t) + 1`,
/// `∂/∂t = −2(x_b − t)`.
#[differentiate]
fn best_index_and_cost(x: &[f64], t: f64) -> f64 {
    let mut best_i = 0;
    let mut best: Option<f64> = None;
    for (i, &v) in x.iter().enumerate() {
        let c = (v - t).powi(2);
        if best.map_or(true, |b| c < b) {
            best = Some(c);
            best_i = i;
        }
    }
    best.unwrap_or(0.0) + x[best_i]
}

#[test]
fn best_index_beside_an_option() {
    let x = vec![0.5, 1.5, 0.7];
    let (v, (gx, gt)) = best_index_and_cost_grad(&x, 0.9);
    close("value", v, best_index_and_cost(&x, 0.9), 0.0);
    close("f", v, 0.04 + 0.7, TOL);
    close("∂/∂x₂", gx[2], 2.0 * (0.7 - 0.9) + 1.0, TOL);
    close("∂/∂x₀", gx[0], 0.0, 0.0);
    close("∂/∂t", gt, -2.0 * (0.7 - 0.9), TOL);
}

// ---------------------------------------------------------------------------------------------
// `if let Some(p) = prev.replace(w)`: each item paired with the one before it, a local
// `Option<f64>` replaced (it was rejected as a use that is not followed).
// ---------------------------------------------------------------------------------------------

/// Σ over consecutive pairs of (xᵢ·t)(xᵢ₋₁·t), and 0.1·x₀·t for the first item, which has no
/// pair: ∂/∂t = 2t·Σ xᵢxᵢ₋₁ + 0.1·x₀, ∂/∂xᵢ = t²(xᵢ₋₁ + xᵢ₊₁) (+ 0.1t for i = 0).
#[differentiate(hessian)]
fn consecutive_products(x: &[f64], t: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        let w = v * t;
        if let Some(p) = prev.replace(w) {
            s += p * w;
        } else {
            s += 0.1 * w;
        }
    }
    // The statement form: the last item's value replaced, read no more.
    prev.replace(0.0);
    s
}

#[test]
fn option_replaced_pairs_each_item_with_the_one_before() {
    let x = [0.5, -1.0, 2.0, 0.25];
    let t = 1.5;
    let (v, (gx, gt)) = consecutive_products_grad(&x, t);
    assert_eq!(v, consecutive_products(&x, t));
    let pairs: f64 = x.windows(2).map(|w| w[0] * w[1]).sum();
    close("value", v, pairs * t * t + 0.1 * x[0] * t, 1e-12);
    close("∂t", gt, 2.0 * t * pairs + 0.1 * x[0], 1e-12);
    let want: Vec<f64> = (0..x.len())
        .map(|i| {
            let before = if i > 0 { x[i - 1] } else { 0.0 };
            let after = if i + 1 < x.len() { x[i + 1] } else { 0.0 };
            t * t * (before + after) + if i == 0 { 0.1 * t } else { 0.0 }
        })
        .collect();
    close_all("∂x", &gx, &want);
    // ∂²/∂t² = 2·Σ xᵢxᵢ₋₁, along the direction (0, 1).
    let (_, _, (_, ht)) = consecutive_products_hvp(&x, t, &vec![0.0; 4], 1.0);
    close("∂²t", ht, 2.0 * pairs, 1e-12);
}
