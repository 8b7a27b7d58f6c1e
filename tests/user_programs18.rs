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
