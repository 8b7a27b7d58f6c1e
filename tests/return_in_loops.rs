//! `return` inside loops: the value leaves every enclosing loop and the function, and the
//! gradient flows from the iteration that returned.

use autodiff::{check, differentiate};

mod common;
use common::{TOL, close};

/// The first partial sum of x·k² (k = 1, 2, ...) that exceeds `limit`, or the full sum.
/// d/dx: the sum of k² up to the returning term, Σ k² (analytic below).
#[differentiate(wrt(x))]
fn first_partial_sum_above(x: f64, limit: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for k in 1..=n {
        s += x * (k * k) as f64;
        if s > limit {
            return s;
        }
    }
    s * 2.0
}

/// Nested loops: returns from the inner one, through the outer one.
#[differentiate(wrt(x))]
fn nested_search(x: f64, n: usize) -> f64 {
    let mut acc = 1.0;
    for i in 0..n {
        for j in 0..n {
            acc = acc * x + (i + j) as f64;
            if acc > 100.0 {
                return acc.sqrt();
            }
        }
    }
    acc
}

/// `while` and `loop` with `return`, and code after the loop that runs when nothing returned.
#[differentiate]
fn halve_until_small(x: f64) -> f64 {
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

#[test]
fn return_from_a_for_loop() {
    // x = 1, limit 10: partial sums 1, 5, 14 -> returns at k = 3 with s = 14 x; d/dx = 14.
    let (v, d) = first_partial_sum_above_grad(1.0, 10.0, 5);
    assert_eq!(v, 14.0);
    assert_eq!(d, 14.0);
    // limit never reached: 2 · x · Σ_{k=1}^{5} k² = 110 x; d/dx = 110.
    let (v, d) = first_partial_sum_above_grad(0.1, 1000.0, 5);
    assert!((v - 11.0).abs() < 1e-12);
    assert!((d - 110.0).abs() < 1e-12);
    check::assert_gradient(
        |x: &f64| first_partial_sum_above(*x, 10.0, 5),
        &1.3,
        &first_partial_sum_above_grad(1.3, 10.0, 5).1,
    );
}

#[test]
fn return_from_nested_loops() {
    for x in [1.5, 2.0, 0.9] {
        let (v, d) = nested_search_grad(x, 6);
        assert_eq!(v, nested_search(x, 6));
        check::assert_gradient(|x: &f64| nested_search(*x, 6), &x, &d);
    }
}

#[test]
fn return_from_while_and_loop() {
    // 10 -> 5 -> 2.5 -> 1.25 -> 0.625: returns 3 · x / 16; d/dx = 3/16.
    let (v, d) = halve_until_small_grad(10.0);
    assert_eq!(v, halve_until_small(10.0));
    assert_eq!(v, 3.0 * 10.0 / 16.0);
    assert_eq!(d, 3.0 / 16.0);
    // Never small within 50 halvings: the `loop` returns y + 1 with y = x / 2⁵⁰.
    let x = 1e20;
    let (v, d) = halve_until_small_grad(x);
    assert_eq!(v, x / 2f64.powi(50) + 1.0);
    assert_eq!(d, 1.0 / 2f64.powi(50));
}

/// A tuple returned from a `while` inside a `for`, through a call: the tuple is carried out of
/// both loops. Returns (x², sin x) once x·i > 1, else (x, 2x).
// The `while` leaves in its first iteration on purpose: the form the case was found in.
#[allow(clippy::never_loop, clippy::while_immutable_condition)]
#[differentiate]
fn early_pair(x: f64, n: usize) -> (f64, f64) {
    for i in 0..n {
        let k = 0;
        while k < 3 && x * (i as f64) > 1.0 {
            return (square(x), x.sin());
        }
    }
    (x, 2.0 * x)
}

/// x².
#[differentiate]
fn square(x: f64) -> f64 {
    x * x
}

/// a·b of the pair: x²·sin x after the early return, 2x² otherwise.
#[differentiate]
fn pair_product(x: f64, n: usize) -> f64 {
    let (a, b) = early_pair(x, n);
    a * b
}

#[test]
fn tuple_returned_from_nested_loops() {
    for (x, n) in [(0.7, 3), (0.7, 1), (0.3, 2), (1.5, 0)] {
        let (v, d) = pair_product_grad(x, n);
        assert_eq!(v, pair_product(x, n));
        let early = (0..n).any(|i| x * i as f64 > 1.0);
        // d(x² sin x) = 2x sin x + x² cos x; d(2x²) = 4x.
        let expected = if early {
            2.0 * x * x.sin() + x * x * x.cos()
        } else {
            4.0 * x
        };
        close("d/dx", d, expected, TOL);
        let r = check::gradcheck(|x: &f64| pair_product(*x, n), &x, &d);
        assert!(r.passed(), "{r}");
        // Each coordinate of the tuple through its vjp.
        let (pair, pullback) = early_pair_vjp(x, n);
        assert_eq!(pair, early_pair(x, n));
        let da = pullback((1.0, 0.0));
        let db = early_pair_vjp(x, n).1((0.0, 1.0));
        let (ea, eb) = if early {
            (2.0 * x, x.cos())
        } else {
            (1.0, 2.0)
        };
        close("∂a/∂x", da, ea, TOL);
        close("∂b/∂x", db, eb, TOL);
    }
}
