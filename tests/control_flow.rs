//! Control flow through `#[differentiate]`: `if`/`else if`/`else`, `match`, `for` over ranges,
//! `while`, `loop`, `break`, `continue`, early `return`, each with every path taken. Every
//! derivative is checked against the analytic derivative (in a comment; for iterated maps, the
//! chain rule carried forward by hand in the test) and against central finite differences through
//! `autodiff::check`.

// The functions below deliberately use forms the macro must accept and clippy would rewrite:
// `s = s * x`, an `if` nested in a `match` arm, `!(x < a)` on an active comparison.
#![allow(
    clippy::assign_op_pattern,
    clippy::collapsible_match,
    clippy::neg_cmp_op_on_partial_ord
)]

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

/// A point and the analytic gradient there.
type Case = (Grad2, fn(f64, f64) -> Grad2);

// ---------------------------------------------------------------------------------------------
// if / else if / else
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn if_statement(x: f64, y: f64) -> f64 {
    let mut r = x * y;
    if x > y {
        r = r * x;
    } else if x < 0.0 {
        r = r + y;
    } else {
        r = r - x.sin();
    }
    r
}

#[test]
fn if_else_if_else_as_statement() {
    // x > y:          r = x²y        ∇ = (2xy, x²)
    // x ≤ y, x < 0:   r = xy + y     ∇ = (y, x + 1)
    // otherwise:      r = xy − sin x ∇ = (y − cos x, x)
    let cases: [Case; 3] = [
        ((3.0, 2.0), |x, y| (2.0 * x * y, x * x)),
        ((-1.0, 0.5), |x, y| (y, x + 1.0)),
        ((0.5, 2.0), |x, y| (y - x.cos(), x)),
    ];
    for ((x, y), gradient) in cases {
        let (v, d) = if_statement_grad(x, y);
        assert_eq!(v, if_statement(x, y));
        close2("if statement", d, gradient(x, y));
        fd2("if statement", if_statement, (x, y), d);
    }
}

#[differentiate]
fn if_without_else(x: f64) -> f64 {
    let mut r = x;
    if x < 1.0 {
        r = r * r * r;
    }
    r * 2.0
}

#[test]
fn if_without_else_both_ways() {
    // x < 1: 2x³ → 6x²; otherwise 2x → 2.
    for x in [-2.0, 0.5, 3.0] {
        let d = if_without_else_grad(x).1;
        close(
            "if without else",
            d,
            if x < 1.0 { 6.0 * x * x } else { 2.0 },
            TOL,
        );
        fd("if without else", if_without_else, x, d);
    }
}

#[differentiate]
fn if_expression(x: f64) -> f64 {
    let z = if x.sin() > 0.5 {
        x * x
    } else if x < -5.0 {
        -x
    } else {
        x.exp()
    };
    z * 2.0
}

#[test]
fn if_else_if_else_as_expression_on_an_active_condition() {
    // sin x > ½: 2x² → 4x; x < −5: −2x → −2; otherwise 2eˣ → 2eˣ.
    for (x, expected) in [(1.0, 4.0), (-6.0, -2.0), (0.2, 2.0 * 0.2f64.exp())] {
        let (v, d) = if_expression_grad(x);
        assert_eq!(v, if_expression(x));
        close("if expression", d, expected, TOL);
        fd("if expression", if_expression, x, d);
    }
}

#[differentiate]
fn if_tail(x: f64, flag: bool, n: usize) -> f64 {
    if flag && n > 2 {
        x.sin() * n as f64
    } else if !flag || n == 0 {
        x.cos()
    } else {
        x
    }
}

#[test]
fn if_as_tail_expression_on_inactive_conditions() {
    for (flag, n) in [(true, 3), (false, 5), (true, 0), (true, 1)] {
        for x in [-1.0f64, 0.5] {
            // flag ∧ n > 2: n·cos x; ¬flag ∨ n = 0: −sin x; otherwise 1.
            let expected = if flag && n > 2 {
                n as f64 * x.cos()
            } else if !flag || n == 0 {
                -x.sin()
            } else {
                1.0
            };
            let (v, d) = if_tail_grad(x, flag, n);
            assert_eq!(v, if_tail(x, flag, n));
            close("if tail", d, expected, TOL);
            fd("if tail", |x| if_tail(x, flag, n), x, d);
        }
    }
}

#[differentiate]
fn if_both_active_branches_of_two_variables(x: f64, y: f64) -> f64 {
    let (a, b) = if x * y > 1.0 || y < -1.0 {
        (x + y, x * y)
    } else {
        (x - y, 2.0 * x)
    };
    a * b
}

#[test]
fn if_yielding_several_values() {
    // xy > 1 or y < −1: (x + y)·xy = x²y + xy² → (2xy + y², x² + 2xy)
    // otherwise:        (x − y)·2x = 2x² − 2xy  → (4x − 2y, −2x)
    for (x, y) in [(2.0, 3.0), (0.5, -2.0), (0.5, 0.5), (-1.0, 0.25)] {
        let expected = if x * y > 1.0 || y < -1.0 {
            (2.0 * x * y + y * y, x * x + 2.0 * x * y)
        } else {
            (4.0 * x - 2.0 * y, -2.0 * x)
        };
        let (v, d) = if_both_active_branches_of_two_variables_grad(x, y);
        assert_eq!(v, if_both_active_branches_of_two_variables(x, y));
        close2("if with tuple value", d, expected);
        fd2(
            "if with tuple value",
            if_both_active_branches_of_two_variables,
            (x, y),
            d,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// match on inactive integers
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn match_expression(x: f64, k: i32) -> f64 {
    let z = match k {
        0 => x,
        1 | 2 => x * x,
        n if n < 0 => (-x).exp() * n as f64,
        n if n > 10 => x.sin(),
        _ => 3.0 * x,
    };
    z + x
}

#[differentiate]
fn match_statement(x: f64, k: u8) -> f64 {
    let mut s = x;
    match k {
        0 => {
            s = s * x;
        }
        7 => s = s.sqrt(),
        _ => {}
    }
    s
}

#[differentiate]
fn match_tail(x: f64, k: usize) -> f64 {
    match k % 3 {
        0 => x.powi(3),
        1 => {
            let t = x * 2.0;
            t * t
        }
        _ => 1.0,
    }
}

#[test]
fn match_on_inactive_integers() {
    let x = 0.7;
    // z + x with z: 0 → x (2); 1|2 → x² (2x + 1); n < 0 → n·e^{−x} (−n·e^{−x} + 1);
    // n > 10 → sin x (cos x + 1); _ → 3x (4).
    let cases: [(i32, f64); 7] = [
        (0, 2.0),
        (1, 2.0 * x + 1.0),
        (2, 2.0 * x + 1.0),
        (-3, 3.0 * (-x).exp() + 1.0),
        (11, x.cos() + 1.0),
        (5, 4.0),
        (10, 4.0),
    ];
    for (k, expected) in cases {
        let (v, d) = match_expression_grad(x, k);
        assert_eq!(v, match_expression(x, k));
        close(&format!("match expression k = {k}"), d, expected, TOL);
        fd("match expression", |x| match_expression(x, k), x, d);
    }
    // 0 → x² (2x); 7 → √x (1/(2√x)); _ → x (1).
    for (k, expected) in [(0u8, 2.0 * x), (7, 0.5 / x.sqrt()), (3, 1.0)] {
        let (v, d) = match_statement_grad(x, k);
        assert_eq!(v, match_statement(x, k));
        close(&format!("match statement k = {k}"), d, expected, TOL);
        fd("match statement", |x| match_statement(x, k), x, d);
    }
    // k mod 3: 0 → x³ (3x²); 1 → 4x² (8x); 2 → 1 (0).
    for (k, expected) in [(3usize, 3.0 * x * x), (4, 8.0 * x), (5, 0.0)] {
        let (v, d) = match_tail_grad(x, k);
        assert_eq!(v, match_tail(x, k));
        close(&format!("match tail k = {k}"), d, expected, TOL);
        fd("match tail", |x| match_tail(x, k), x, d);
    }
}

// ---------------------------------------------------------------------------------------------
// for loops over ranges
// ---------------------------------------------------------------------------------------------

/// s ← s·x + (i + 1) for i = 0..n, from s = 0: s = Σᵢ (i + 1)·x^{n−1−i}.
#[differentiate]
fn horner_forward(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        s = s * x + (i + 1) as f64;
    }
    s
}

/// The same recurrence in reverse order: s = Σᵢ (i + 1)·xⁱ.
#[differentiate]
fn horner_reverse(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in (0..n).rev() {
        s = s * x + (i + 1) as f64;
    }
    s
}

/// Σ_{k=a}^{b} x^k.
#[differentiate]
fn inclusive_sum(x: f64, a: i32, b: i32) -> f64 {
    let mut s = 0.0;
    for k in a..=b {
        s += x.powi(k);
    }
    s
}

/// d/dx Σᵢ cᵢ·x^{eᵢ} = Σᵢ cᵢ·eᵢ·x^{eᵢ−1}, for coefficient/exponent pairs.
fn poly_derivative(x: f64, terms: impl Iterator<Item = (f64, i32)>) -> f64 {
    terms
        .map(|(c, e)| {
            if e == 0 {
                0.0
            } else {
                c * e as f64 * x.powi(e - 1)
            }
        })
        .sum()
}

#[test]
fn for_over_ranges_with_0_1_and_many_iterations() {
    for x in [-1.3, 0.5, 1.1] {
        for n in [0usize, 1, 2, 7] {
            // forward: d/dx Σᵢ (i + 1)·x^{n−1−i}
            let (v, d) = horner_forward_grad(x, n);
            assert_eq!(v, horner_forward(x, n));
            let expected = poly_derivative(x, (0..n).map(|i| ((i + 1) as f64, (n - 1 - i) as i32)));
            close(&format!("horner forward n = {n}"), d, expected, TOL);
            fd("horner forward", |x| horner_forward(x, n), x, d);

            // reverse: d/dx Σᵢ (i + 1)·xⁱ
            let (v, d) = horner_reverse_grad(x, n);
            assert_eq!(v, horner_reverse(x, n));
            let expected = poly_derivative(x, (0..n).map(|i| ((i + 1) as f64, i as i32)));
            close(&format!("horner reverse n = {n}"), d, expected, TOL);
            fd("horner reverse", |x| horner_reverse(x, n), x, d);
        }
        // a..=b: 0 iterations (a > b), 1 (a = b), many.
        for (a, b) in [(3, 2), (2, 2), (-2, 4), (0, 0)] {
            let (v, d) = inclusive_sum_grad(x, a, b);
            assert_eq!(v, inclusive_sum(x, a, b));
            let expected = poly_derivative(x, (a..=b).map(|k| (1.0, k)));
            close(&format!("inclusive {a}..={b}"), d, expected, TOL);
            fd("inclusive", |x| inclusive_sum(x, a, b), x, d);
        }
    }
    // 0 iterations: the output is a constant, the gradient 0.
    assert_eq!(horner_forward_grad(2.0, 0), (0.0, 0.0));
    assert_eq!(inclusive_sum_grad(2.0, 5, 4), (0.0, 0.0));
}

/// acc ← acc·x + y, n·m times (nested loops), from acc = 1:
/// acc = x^K + y·Σ_{j<K} x^j with K = n·m.
#[differentiate]
fn nested_rectangular(x: f64, y: f64, n: usize, m: usize) -> f64 {
    let mut acc = 1.0;
    for _i in 0..n {
        for _j in 0..m {
            acc = acc * x + y;
        }
    }
    acc
}

/// x multiplied in i more times on each pass i < n (p = x^{n(n−1)/2} at the end), plus a term
/// i·p per outer pass.
#[differentiate]
fn nested_triangular(x: f64, n: usize) -> f64 {
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

#[test]
fn nested_loops() {
    for (x, y) in [(0.9, 0.5), (-1.2, 2.0)] {
        for (n, m) in [(0, 3), (3, 0), (1, 1), (2, 3), (4, 4)] {
            let k = (n * m) as i32;
            // ∂x = K·x^{K−1} + y·Σ_{j<K} j·x^{j−1}, ∂y = Σ_{j<K} x^j
            let dx = poly_derivative(x, std::iter::once((1.0, k)))
                + y * poly_derivative(x, (0..k).map(|j| (1.0, j)));
            let dy: f64 = (0..k).map(|j| x.powi(j)).sum();
            let (v, d) = nested_rectangular_grad(x, y, n, m);
            assert_eq!(v, nested_rectangular(x, y, n, m));
            close2(&format!("nested {n}×{m}"), d, (dx, dy));
            fd2("nested", |x, y| nested_rectangular(x, y, n, m), (x, y), d);
        }
        for n in [0usize, 1, 2, 5] {
            // After pass i, p = x^{1+2+…+i} = x^{i(i+1)/2}:
            // s + p = Σ_{i<n} i·x^{i(i+1)/2} + x^{n(n−1)/2}
            let tri = |i: usize| (i * i.saturating_sub(1) / 2) as i32;
            let expected = poly_derivative(
                x,
                (0..n)
                    .map(|i| (i as f64, tri(i + 1)))
                    .chain(std::iter::once((1.0, tri(n)))),
            );
            let (v, d) = nested_triangular_grad(x, n);
            assert_eq!(v, nested_triangular(x, n));
            close(&format!("triangular n = {n}"), d, expected, TOL);
            fd("triangular", |x| nested_triangular(x, n), x, d);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// while, loop, break, continue
// ---------------------------------------------------------------------------------------------

/// s ← s·x while s < 100, from s = y: s = y·x^K, K the first count with y·x^K ≥ 100.
#[differentiate]
fn while_active_condition(x: f64, y: f64) -> f64 {
    let mut s = y;
    while s < 100.0 {
        s = s * x;
    }
    s
}

/// s ← sin s + x, n times, counted by hand.
#[differentiate]
fn while_counter(x: f64, n: u32) -> f64 {
    let mut s = x;
    let mut k = 0;
    while k < n {
        s = s.sin() + x;
        k += 1;
    }
    s
}

/// The derivative of `while_counter` by the chain rule carried forward:
/// s₀ = x, s₀' = 1; s_{k+1} = sin s_k + x, s_{k+1}' = cos(s_k)·s_k' + 1.
fn while_counter_derivative(x: f64, n: u32) -> f64 {
    let (mut s, mut ds) = (x, 1.0);
    for _ in 0..n {
        ds = s.cos() * ds + 1.0;
        s = s.sin() + x;
    }
    ds
}

#[test]
fn while_loops() {
    for (x, y) in [(1.5f64, 1.0), (3.0, 2.0), (1.1, 99.0), (2.0, 150.0)] {
        // K iterations: ∂x = K·y·x^{K−1}, ∂y = x^K (K = 0 when y ≥ 100).
        let mut k = 0;
        while y * x.powi(k) < 100.0 {
            k += 1;
        }
        let expected = (k as f64 * y * x.powi(k - 1), x.powi(k));
        let (v, d) = while_active_condition_grad(x, y);
        assert_eq!(v, while_active_condition(x, y));
        close2(&format!("while (K = {k})"), d, expected);
        fd2("while", while_active_condition, (x, y), d);
    }
    for x in [-0.7, 0.4, 2.0] {
        for n in [0u32, 1, 2, 25] {
            let (v, d) = while_counter_grad(x, n);
            assert_eq!(v, while_counter(x, n));
            close(
                &format!("while counter n = {n}"),
                d,
                while_counter_derivative(x, n),
                TOL,
            );
            fd("while counter", |x| while_counter(x, n), x, d);
        }
    }
}

/// s ← 1.5·s + x until s > limit or 50 steps; `break` at the top of the body.
#[differentiate]
fn loop_break_at_top(x: f64, limit: f64) -> f64 {
    let mut s = x;
    let mut k = 0;
    loop {
        if s > limit || k >= 50 {
            break;
        }
        s = 1.5 * s + x;
        k += 1;
    }
    s
}

/// `break` in the middle of the body: the statements after it do not run on the last pass.
#[differentiate]
fn loop_break_in_middle(x: f64, n: usize) -> f64 {
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

/// `let r = loop { .. break v; .. };`: the value of the pass that leaves, `x·s` for the `s`
/// of the first pass past the limit, or `s + 1` after 50 passes.
#[differentiate]
fn loop_value_bound(x: f64, limit: f64) -> f64 {
    let mut s = x;
    let mut k = 0;
    let r = loop {
        s = 1.5 * s + x;
        k += 1;
        if s > limit {
            break x * s;
        }
        if k == 50 {
            break s + 1.0;
        }
    };
    r * 2.0
}

/// The loop as the function's value, a `break` in a `match` arm, and a tuple carried out.
#[differentiate]
fn loop_value_tail(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    let mut i = 0;
    let (a, b) = loop {
        s = s * x;
        i += 1;
        if i > n {
            break (s, s * s);
        }
    };
    let mut t = a;
    loop {
        t = t * 0.5 + b;
        match i {
            0 => {}
            _ => break t.sin(),
        }
    }
}

#[test]
fn loop_with_a_value_leaves_with_its_break() {
    for (x, limit) in [(1.0, 0.5), (1.0, 10.0), (0.1, 1e3), (-1.0, 5.0)] {
        // As in `loop_with_break`: s' ← 1.5s' + 1 each pass; the value is 2x·s (∂x = 2s + 2x·s')
        // when the limit is passed, else 2(s + 1) (∂x = 2s'); ∂limit = 0.
        let (mut s, mut ds, mut k) = (x, 1.0, 0);
        let expected = loop {
            s = 1.5 * s + x;
            ds = 1.5 * ds + 1.0;
            k += 1;
            if s > limit {
                break 2.0 * s + 2.0 * x * ds;
            }
            if k == 50 {
                break 2.0 * ds;
            }
        };
        let (v, d) = loop_value_bound_grad(x, limit);
        assert_eq!(v, loop_value_bound(x, limit));
        close2(&format!("loop value ({k} passes)"), d, (expected, 0.0));
        fd2("loop value", loop_value_bound, (x, limit), d);
    }
    for x in [-0.8f64, 0.6, 1.3] {
        for n in [0usize, 1, 3] {
            // a = x^{n+1}, b = a², t = a/2 + b, value sin(t): ∂x = cos(t)·(½ + 2a)·(n+1)·xⁿ.
            let p = n as i32 + 1;
            let a = x.powi(p);
            let t = a * 0.5 + a * a;
            let expected = t.cos() * (0.5 + 2.0 * a) * p as f64 * x.powi(p - 1);
            let (v, d) = loop_value_tail_grad(x, n);
            assert_eq!(v, loop_value_tail(x, n));
            close(&format!("loop value tail n = {n}"), d, expected, TOL);
            fd("loop value tail", |x| loop_value_tail(x, n), x, d);
        }
    }
}

#[test]
fn loop_with_break() {
    for (x, limit) in [(1.0, 0.5), (1.0, 10.0), (0.1, 1e3), (-1.0, 5.0)] {
        // Forward-mode chain rule: s₀ = x, s' = 1 (∂x), 0 (∂limit); s ← 1.5s + x: s' ← 1.5s' + 1.
        // The limit only selects the iteration count: ∂limit = 0.
        let (mut s, mut ds, mut k) = (x, 1.0, 0);
        while !(s > limit || k >= 50) {
            s = 1.5 * s + x;
            ds = 1.5 * ds + 1.0;
            k += 1;
        }
        let (v, d) = loop_break_at_top_grad(x, limit);
        assert_eq!(v, loop_break_at_top(x, limit));
        close2(&format!("loop break top ({k} passes)"), d, (ds, 0.0));
        fd2("loop break top", loop_break_at_top, (x, limit), d);
    }
    for x in [-0.8, 0.6, 1.3] {
        for n in [0usize, 1, 4] {
            // s = x^{n+1} + x^n + … + x: ds = Σ_{j=1}^{n+1} j·x^{j−1}
            let expected = poly_derivative(x, (1..=(n as i32 + 1)).map(|j| (1.0, j)));
            let (v, d) = loop_break_in_middle_grad(x, n);
            assert_eq!(v, loop_break_in_middle(x, n));
            close(&format!("loop break middle n = {n}"), d, expected, TOL);
            fd("loop break middle", |x| loop_break_in_middle(x, n), x, d);
        }
    }
}

/// Σ over even i < n of x^i, skipping odd i with `continue`.
#[differentiate]
fn for_continue(x: f64, n: i32) -> f64 {
    let mut s = 0.0;
    for i in 0..n {
        if i % 2 == 1 {
            continue;
        }
        s += x.powi(i);
    }
    s
}

/// `continue` in a `while` loop, and on an active condition: adds x·k only when s stays < 4.
#[differentiate]
fn while_continue(x: f64, n: u32) -> f64 {
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

/// `continue` inside a `loop`, ended by `break`.
#[differentiate]
fn loop_continue(x: f64) -> f64 {
    let mut s = x;
    let mut k = 0;
    loop {
        k += 1;
        if k > 6 {
            break;
        }
        if k % 3 == 0 {
            continue;
        }
        s = s * x;
    }
    s
}

#[test]
fn continue_statements() {
    for x in [-1.1, 0.5, 1.7] {
        for n in [0, 1, 2, 7] {
            // d/dx Σ_{even i<n} xⁱ
            let expected = poly_derivative(x, (0..n).filter(|i| i % 2 == 0).map(|i| (1.0, i)));
            let (v, d) = for_continue_grad(x, n);
            assert_eq!(v, for_continue(x, n));
            close(&format!("for continue n = {n}"), d, expected, TOL);
            fd("for continue", |x| for_continue(x, n), x, d);
        }
        // k = 1..=6 except 3 and 6: s = x·x⁴ = x⁵ → 5x⁴
        let (v, d) = loop_continue_grad(x);
        assert_eq!(v, loop_continue(x));
        close("loop continue", d, 5.0 * x.powi(4), TOL);
        fd("loop continue", loop_continue, x, d);
    }
    for x in [0.3, 0.45, 0.9] {
        for n in [0u32, 1, 3, 10] {
            // ∂x = Σ of the k that were added (each term x·k contributes k).
            let (mut s, mut ds) = (0.0, 0.0);
            for k in 1..=n {
                if s + x * k as f64 >= 4.0 {
                    continue;
                }
                s += x * k as f64;
                ds += k as f64;
            }
            let (v, d) = while_continue_grad(x, n);
            assert_eq!(v, while_continue(x, n));
            close(&format!("while continue n = {n}"), d, ds, TOL);
            fd("while continue", |x| while_continue(x, n), x, d);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Early return
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn early_return(x: f64, y: f64) -> f64 {
    let a = x * y;
    if x > 0.0 {
        if y > 0.0 {
            return a.sqrt();
        }
        if y < -1.0 {
            return a * a;
        }
    } else if x < -2.0 {
        return -a;
    }
    let b = a + x;
    b * y
}

#[test]
fn early_return_from_nested_ifs() {
    // x > 0, y > 0:      √(xy)        ∇ = (y, x)/(2√(xy))
    // x > 0, y < −1:     x²y²         ∇ = (2xy², 2x²y)
    // x > 0, −1 ≤ y ≤ 0: (xy + x)·y   ∇ = (y² + y, 2xy + x)
    // x < −2:            −xy          ∇ = (−y, −x)
    // −2 ≤ x ≤ 0:        (xy + x)·y   ∇ = (y² + y, 2xy + x)
    let cases: [Case; 5] = [
        ((2.0, 3.0), |x, y| {
            let r = (x * y).sqrt();
            (y / (2.0 * r), x / (2.0 * r))
        }),
        ((1.5, -2.0), |x, y| (2.0 * x * y * y, 2.0 * x * x * y)),
        ((1.5, -0.5), |x, y| (y * y + y, 2.0 * x * y + x)),
        ((-3.0, 0.7), |x, y| (-y, -x)),
        ((-1.0, 0.7), |x, y| (y * y + y, 2.0 * x * y + x)),
    ];
    for ((x, y), gradient) in cases {
        let (v, d) = early_return_grad(x, y);
        assert_eq!(v, early_return(x, y));
        close2(&format!("early return at ({x}, {y})"), d, gradient(x, y));
        fd2("early return", early_return, (x, y), d);
    }
}

#[differentiate]
fn early_return_in_match(x: f64, k: u32) -> f64 {
    let y = x * 3.0;
    match k {
        0 => return y.exp(),
        1 => {
            if x > 0.0 {
                return y * y;
            }
        }
        _ => {}
    }
    y + x
}

#[test]
fn early_return_from_a_match_arm() {
    for x in [-0.5f64, 0.5] {
        // k = 0: e^{3x} → 3e^{3x}; k = 1, x > 0: 9x² → 18x; otherwise 4x → 4.
        for k in [0u32, 1, 2] {
            let expected = match k {
                0 => 3.0 * (3.0 * x).exp(),
                1 if x > 0.0 => 18.0 * x,
                _ => 4.0,
            };
            let (v, d) = early_return_in_match_grad(x, k);
            assert_eq!(v, early_return_in_match(x, k));
            close(
                &format!("return in match k = {k} x = {x}"),
                d,
                expected,
                TOL,
            );
            fd("return in match", |x| early_return_in_match(x, k), x, d);
        }
    }
}

/// A `let`'s block value with an `if` that returns, and one with a `continue` inside a loop:
/// the block's statements run before the `let`.
#[differentiate]
fn return_in_a_let_block(x: f64, y: f64) -> f64 {
    let mut acc = 0.0;
    for k in 0..4 {
        let t = {
            acc += x * k as f64;
            if k == 2 {
                continue;
            }
            acc * y
        };
        acc += t.sin();
    }
    let z = {
        if x < 0.0 {
            return x * y + acc;
        }
        x * 2.0
    };
    z * y + acc
}

#[test]
fn return_and_continue_in_a_let_block() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut negative = 0;
    for _ in 0..8 {
        let (x, y) = (-1.5 + 3.0 * next(), -1.5 + 3.0 * next());
        negative += usize::from(x < 0.0);
        let (v, d) = return_in_a_let_block_grad(x, y);
        assert_eq!(v.to_bits(), return_in_a_let_block(x, y).to_bits());
        fd2("return in a let block", return_in_a_let_block, (x, y), d);
        let (w, pullback) = return_in_a_let_block_vjp(x, y);
        assert_eq!(w.to_bits(), v.to_bits());
        let (sx, sy) = pullback(-0.75);
        close("vjp ∂x", sx, -0.75 * d.0, TOL);
        close("vjp ∂y", sy, -0.75 * d.1, TOL);
        forward("return in a let block").two(
            (x, y),
            |x, y| return_in_a_let_block(x, y),
            return_in_a_let_block_jvp,
            return_in_a_let_block_vjp,
        );
    }
    assert!(negative > 0 && negative < 8, "both ways taken");
}

// ---------------------------------------------------------------------------------------------
// Several loop-carried values; loops whose result is unused; branches inside loops
// ---------------------------------------------------------------------------------------------

/// Rotates (a, b) n times by θ; returns a + 2b of the result.
#[differentiate]
fn rotate(a: f64, b: f64, theta: f64, n: usize) -> f64 {
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

#[test]
fn several_loop_carried_values() {
    for n in [0usize, 1, 3, 10] {
        for (a, b, theta) in [(1.0, 0.0, 0.3), (0.5, -2.0, 1.1)] {
            // Rotation by φ = nθ: u = a cos φ − b sin φ, v = a sin φ + b cos φ;
            // f = u + 2v: ∂a = cos φ + 2 sin φ, ∂b = −sin φ + 2 cos φ,
            // ∂θ = n·(−a sin φ − b cos φ + 2(a cos φ − b sin φ)).
            let phi = n as f64 * theta;
            let (c, s) = (phi.cos(), phi.sin());
            let expected = (
                c + 2.0 * s,
                -s + 2.0 * c,
                n as f64 * (-a * s - b * c + 2.0 * (a * c - b * s)),
            );
            let (v, (da, db, dt)) = rotate_grad(a, b, theta, n);
            assert_eq!(v, rotate(a, b, theta, n));
            // Repeated rotation accumulates a few ulps per step: still well inside 1e-12.
            close("rotate ∂a", da, expected.0, TOL);
            close("rotate ∂b", db, expected.1, TOL);
            close("rotate ∂θ", dt, expected.2, TOL);
            let r = gradcheck(
                |p: &(f64, f64, f64)| rotate(p.0, p.1, p.2, n),
                &(a, b, theta),
                &(da, db, dt),
            );
            assert!(r.passed(), "rotate n = {n}: {r}");
        }
    }
}

/// Fibonacci-like recurrence with two carried values and an active seed.
#[differentiate]
fn fibonacci_like(x: f64, n: usize) -> f64 {
    let mut p = 1.0;
    let mut q = x;
    for _ in 0..n {
        let r = p + q * x;
        p = q;
        q = r;
    }
    q
}

#[test]
fn fibonacci_like_recurrence() {
    for x in [-0.6, 0.5, 1.2] {
        for n in [0usize, 1, 2, 12] {
            // Forward-mode chain rule: p' = 0, q' = 1; r' = p' + q'·x + q.
            let (mut p, mut q, mut dp, mut dq) = (1.0, x, 0.0, 1.0);
            for _ in 0..n {
                let (r, dr) = (p + q * x, dp + dq * x + q);
                (p, dp) = (q, dq);
                (q, dq) = (r, dr);
            }
            let (v, d) = fibonacci_like_grad(x, n);
            assert_eq!(v, fibonacci_like(x, n));
            assert_eq!(v, q);
            close(&format!("fibonacci n = {n}"), d, dq, TOL);
            fd("fibonacci", |x| fibonacci_like(x, n), x, d);
        }
    }
}

#[differentiate]
fn unused_loop_result(x: f64, n: usize) -> f64 {
    let mut u = 0.0;
    for i in 0..n {
        u += x * i as f64;
        u = u.sin();
    }
    let _ = u;
    x.exp()
}

#[test]
fn loop_whose_result_is_unused() {
    for n in [0usize, 1, 5] {
        // d/dx eˣ = eˣ, whatever the loop did.
        let (v, d) = unused_loop_result_grad(0.4, n);
        assert_eq!(v, unused_loop_result(0.4, n));
        close("unused loop", d, 0.4f64.exp(), TOL);
        fd("unused loop", |x| unused_loop_result(x, n), 0.4, d);
    }
}

/// A branch on an active value inside a loop: which arm ran is recorded per iteration.
#[differentiate]
fn branch_in_loop(x: f64, n: usize) -> f64 {
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

#[test]
fn branches_inside_loops() {
    for x in [0.1f64, 0.4, 2.0, 7.0] {
        for n in [0usize, 1, 2, 9] {
            // Chain rule forward: √s → s'/(2√s); 3s + x → 3s' + 1.
            let (mut s, mut ds) = (x, 1.0);
            for _ in 0..n {
                if s > 1.0 {
                    s = s.sqrt();
                    ds = ds / (2.0 * s);
                } else {
                    s = s * 3.0 + x;
                    ds = 3.0 * ds + 1.0;
                }
            }
            let (v, d) = branch_in_loop_grad(x, n);
            assert_eq!(v, branch_in_loop(x, n));
            close(&format!("branch in loop n = {n} x = {x}"), d, ds, TOL);
            fd("branch in loop", |x| branch_in_loop(x, n), x, d);
        }
    }
}

/// A `for` loop whose bound is an inactive expression, and an early exit with `break` from it.
#[differentiate]
fn for_with_break(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    for i in 0..2 * n + 1 {
        if i >= 3 {
            break;
        }
        s = s * (x + i as f64);
    }
    s
}

#[test]
fn for_with_break_statement() {
    let x = 0.7;
    // n = 0: one pass, s = x → 1.
    // n ≥ 1: three passes, s = x(x + 1)(x + 2) = x³ + 3x² + 2x → 3x² + 6x + 2.
    for (n, expected) in [
        (0usize, 1.0),
        (1, 3.0 * x * x + 6.0 * x + 2.0),
        (5, 3.0 * x * x + 6.0 * x + 2.0),
    ] {
        let (v, d) = for_with_break_grad(x, n);
        assert_eq!(v, for_with_break(x, n));
        close(&format!("for with break n = {n}"), d, expected, TOL);
        fd("for with break", |x| for_with_break(x, n), x, d);
    }
}

// ---------------------------------------------------------------------------------------------
// Scoping and data-flow corner cases around control flow
// ---------------------------------------------------------------------------------------------

/// An inner block and an `if` arm shadow `y` and `x`; the outer bindings are used afterwards.
#[differentiate]
fn shadowing_in_inner_scopes(x: f64) -> f64 {
    let y = x * 2.0;
    let mut s = 0.0;
    {
        let y = y * 3.0;
        s = s + y;
    }
    if x > 0.0 {
        let x = x * x;
        s = s + x;
    }
    s + y * x
}

#[test]
fn shadowing_inside_blocks_and_arms() {
    for x in [-1.5f64, 0.5, 2.0] {
        // s = 6x (+ x² if x > 0); result s + 2x² → 6 + 4x (+ 2x if x > 0)
        let expected = 6.0 + 4.0 * x + if x > 0.0 { 2.0 * x } else { 0.0 };
        let (v, d) = shadowing_in_inner_scopes_grad(x);
        assert_eq!(v, shadowing_in_inner_scopes(x));
        close("shadowing in scopes", d, expected, TOL);
        fd("shadowing in scopes", shadowing_in_inner_scopes, x, d);
    }
}

/// `let b;` initialised in each arm; a variable assigned in only one arm.
#[differentiate]
fn deferred_init_in_branches(x: f64, y: f64) -> f64 {
    let b;
    let mut c = y;
    if x > y {
        b = x * y;
        c = c * x;
    } else {
        b = x + y;
    }
    b * c
}

#[test]
fn deferred_initialisation_in_branches() {
    for (x, y) in [(2.0f64, 1.0f64), (-1.0, 0.5)] {
        // x > y: x²y² → (2xy², 2x²y); else (x + y)y → (y, x + 2y)
        let expected = if x > y {
            (2.0 * x * y * y, 2.0 * x * x * y)
        } else {
            (y, x + 2.0 * y)
        };
        let (v, d) = deferred_init_in_branches_grad(x, y);
        assert_eq!(v, deferred_init_in_branches(x, y));
        close2("deferred init", d, expected);
        fd2("deferred init", deferred_init_in_branches, (x, y), d);
    }
}

/// The output does not depend on x (only a comparison reads it): the gradient is 0.
#[differentiate]
fn step(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { -1.0 }
}

/// A parameter that is never read.
#[differentiate]
fn constant(x: f64) -> f64 {
    let _ = x;
    3.0
}

#[test]
fn outputs_independent_of_the_input() {
    for x in [-1.0, 2.0] {
        // d/dx step = 0 away from 0; d/dx 3 = 0
        assert_eq!(step_grad(x), (step(x), 0.0));
        fd("step", step, x, 0.0);
        assert_eq!(constant_grad(x), (3.0, 0.0));
        fd("constant", constant, x, 0.0);
    }
}

/// A loop-carried value overwritten by a constant on some iterations, and a value that exists
/// only inside the loop body, assigned to an outer variable (`last`).
#[differentiate]
fn reset_in_loop(x: f64, n: usize) -> f64 {
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

#[test]
fn values_reset_inside_loops() {
    for x in [0.7f64, -1.3] {
        for n in [0usize, 1, 2, 3, 4, 8] {
            // Forward chain rule by hand.
            let (mut s, mut ds, mut last, mut dlast) = (x, 1.0, 0.0, 0.0);
            for i in 0..n {
                let (t, dt) = (s * x, ds * x + s);
                if i % 3 == 2 {
                    (s, ds) = (1.0, 0.0);
                } else {
                    (s, ds) = (t, dt);
                }
                (last, dlast) = (t + i as f64, dt);
            }
            let (v, d) = reset_in_loop_grad(x, n);
            assert_eq!(v, reset_in_loop(x, n));
            assert_eq!(v, s + last);
            close(&format!("reset in loop n = {n}"), d, ds + dlast, TOL);
            fd("reset in loop", |x| reset_in_loop(x, n), x, d);
        }
    }
}

/// A tuple carried through a loop, swapped each iteration.
#[differentiate]
fn tuple_carried(x: f64, y: f64, n: usize) -> f64 {
    let mut p = (x, y);
    for _ in 0..n {
        p = (p.1, p.0 * x);
    }
    p.0 + 3.0 * p.1
}

#[test]
fn tuple_carried_through_a_loop() {
    for (x, y) in [(0.5f64, 2.0f64), (-1.5, 0.25)] {
        for n in [0usize, 1, 2, 5] {
            // Forward chain rule by hand, for both seeds.
            let run = |dx: f64, dy: f64| {
                let (mut a, mut b, mut da, mut db) = (x, y, dx, dy);
                for _ in 0..n {
                    (a, b, da, db) = (b, a * x, db, da * x + a * dx);
                }
                da + 3.0 * db
            };
            let (v, d) = tuple_carried_grad(x, y, n);
            assert_eq!(v, tuple_carried(x, y, n));
            close2(
                &format!("tuple carried n = {n}"),
                d,
                (run(1.0, 0.0), run(0.0, 1.0)),
            );
            fd2("tuple carried", |x, y| tuple_carried(x, y, n), (x, y), d);
        }
    }
}

/// `break` and `continue` in an inner loop only; the outer loop runs on.
#[differentiate]
fn inner_break_continue(x: f64, n: usize) -> f64 {
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

#[test]
fn break_and_continue_in_an_inner_loop() {
    for x in [0.8f64, -1.1] {
        for n in [0usize, 1, 3, 6] {
            // Pass i multiplies x in for j = 0..=i except j = 1: x^{i + 1 − [i ≥ 1]}.
            let expected = poly_derivative(
                x,
                (0..n).map(|i| (1.0, (i + 1 - usize::from(i >= 1)) as i32)),
            );
            let (v, d) = inner_break_continue_grad(x, n);
            assert_eq!(v, inner_break_continue(x, n));
            close(&format!("inner break n = {n}"), d, expected, TOL);
            fd("inner break", |x| inner_break_continue(x, n), x, d);
        }
    }
}

/// Several early returns one after another, each followed by more code.
#[differentiate]
fn many_early_returns(x: f64) -> f64 {
    let a = x * 2.0;
    if x < -3.0 {
        return a;
    }
    let b = a * x;
    if x < -1.0 {
        return b;
    }
    let c = b + x.sin();
    if x < 0.0 {
        return c * 2.0;
    }
    let d = c * c;
    if x < 1.0 {
        return d;
    }
    let e = d + a;
    if x < 2.0 {
        return e.sqrt();
    }
    e * 3.0
}

#[test]
fn several_sequential_early_returns() {
    for x in [-4.0f64, -2.0, -0.5, 0.5, 1.5, 3.0] {
        // a = 2x, b = 2x², c = 2x² + sin x, d = c², e = c² + 2x
        let (c, dc) = (2.0 * x * x + x.sin(), 4.0 * x + x.cos());
        let (e, de) = (c * c + 2.0 * x, 2.0 * c * dc + 2.0);
        let expected = if x < -3.0 {
            2.0
        } else if x < -1.0 {
            4.0 * x
        } else if x < 0.0 {
            2.0 * dc
        } else if x < 1.0 {
            2.0 * c * dc
        } else if x < 2.0 {
            de / (2.0 * e.sqrt())
        } else {
            3.0 * de
        };
        let (v, d) = many_early_returns_grad(x);
        assert_eq!(v, many_early_returns(x));
        close(&format!("early returns x = {x}"), d, expected, TOL);
        fd("early returns", many_early_returns, x, d);
    }
}

/// A long `else if` chain on active comparisons combined with `&&`/`||`.
#[differentiate]
fn else_if_chain(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * y
    } else if x > 0.0 || y > 2.0 {
        x - y
    } else if x * y > 1.0 {
        (x * y).ln()
    } else if !(x < -5.0) {
        x.exp() + y
    } else {
        y * y
    }
}

#[test]
fn else_if_chains_on_active_conditions() {
    let cases: [(Grad2, Grad2); 5] = [
        ((2.0, 3.0), (3.0, 2.0)),                 // xy → (y, x)
        ((1.0, -1.0), (1.0, -1.0)),               // x − y
        ((-2.0, -1.0), (1.0 / -2.0, 1.0 / -1.0)), // ln(xy) → (1/x, 1/y)
        ((-1.0, -0.5), ((-1.0f64).exp(), 1.0)),   // eˣ + y
        ((-6.0, 0.1), (0.0, 0.2)),                // y² → (0, 2y)
    ];
    for ((x, y), expected) in cases {
        let (v, d) = else_if_chain_grad(x, y);
        assert_eq!(v, else_if_chain(x, y));
        close2(&format!("else-if chain at ({x}, {y})"), d, expected);
        fd2("else-if chain", else_if_chain, (x, y), d);
    }
}

// ---------------------------------------------------------------------------------------------
// Nesting: loops in branches, branches and matches in loops, loops in value positions
// ---------------------------------------------------------------------------------------------

/// Loops inside `if` arms used as a value, a loop in a block expression, a `while` containing a
/// `for`, and a `match` containing a loop and `continue`.
#[differentiate]
fn nested_constructs(x: f64, n: usize) -> f64 {
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

#[test]
fn loops_and_branches_nested_in_each_other() {
    for x in [-0.7f64, 0.6, 1.3] {
        for n in [0usize, 1, 4] {
            // z = x⁴ → 4x³.
            // w: x > 0: u ← u·x + i from 1, n times (forward chain rule below);
            //    x ≤ 0: x/2ⁿ → 2⁻ⁿ.
            // s: k = 2, j = 1 only: s = x³ → 3x².
            let dw = if x > 0.0 {
                let (mut u, mut du) = (1.0, 0.0);
                for i in 0..n {
                    (u, du) = (u * x + i as f64, du * x + u);
                }
                du
            } else {
                0.5f64.powi(n as i32)
            };
            let expected = 4.0 * x.powi(3) + dw + 3.0 * x * x;
            let (v, d) = nested_constructs_grad(x, n);
            assert_eq!(v, nested_constructs(x, n));
            close(
                &format!("nested constructs n = {n} x = {x}"),
                d,
                expected,
                TOL,
            );
            fd("nested constructs", |x| nested_constructs(x, n), x, d);
        }
    }
}

/// A loop variable and loop-body bindings that shadow outer names.
#[differentiate]
fn shadowing_in_loops(x: f64, n: usize) -> f64 {
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

#[test]
fn shadowing_inside_loops() {
    for x in [-1.0f64, 0.5] {
        for n in [0usize, 1, 5] {
            // s = Σ_{i<n} 2x·i = x·n(n − 1); the outer i = 3x; t = x: f' = n(n − 1) + 3 + 1
            let expected = (n * n.saturating_sub(1)) as f64 + 4.0;
            let (v, d) = shadowing_in_loops_grad(x, n);
            assert_eq!(v, shadowing_in_loops(x, n));
            close(&format!("shadowing in loops n = {n}"), d, expected, TOL);
            fd("shadowing in loops", |x| shadowing_in_loops(x, n), x, d);
        }
    }
}

/// Compound assignments with active right-hand sides inside a loop, and an `if` without `else`.
#[differentiate]
fn compound_in_loop(x: f64, y: f64, n: usize) -> f64 {
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

#[test]
fn compound_assignments_in_loops() {
    for (x, y) in [(1.2f64, 0.8f64), (-0.5, 2.0)] {
        for n in [0usize, 1, 2, 5] {
            let run = |dx: f64, dy: f64| {
                let (mut s, mut ds) = (1.0, 0.0);
                for i in 0..n {
                    (s, ds) = (s * x, ds * x + s * dx);
                    (s, ds) = (s + y, ds + dy);
                    if i % 2 == 0 {
                        (s, ds) = (s / y, (ds * y - s * dy) / (y * y));
                    }
                    (s, ds) = (s - x, ds - dx);
                }
                ds
            };
            let (v, d) = compound_in_loop_grad(x, y, n);
            assert_eq!(v, compound_in_loop(x, y, n));
            close2(
                &format!("compound in loop n = {n}"),
                d,
                (run(1.0, 0.0), run(0.0, 1.0)),
            );
            fd2(
                "compound in loop",
                |x, y| compound_in_loop(x, y, n),
                (x, y),
                d,
            );
        }
    }
}

/// A long loop: (1 + x/n)ⁿ → eˣ, with derivative (1 + x/n)ⁿ⁻¹.
#[differentiate]
fn compound_interest(x: f64, n: usize) -> f64 {
    let mut s = 1.0;
    let r = 1.0 + x / n as f64;
    for _ in 0..n {
        s = s * r;
    }
    s
}

#[test]
fn a_long_loop() {
    let n = 100_000;
    for x in [-1.0f64, 0.5, 2.0] {
        // d/dx (1 + x/n)ⁿ = (1 + x/n)ⁿ⁻¹. Reverse accumulation over 10⁵ products rounds
        // differently from powi: allow n·ε relative error (≈ 2.2e-11).
        let expected = (1.0 + x / n as f64).powi(n as i32 - 1);
        let (v, d) = compound_interest_grad(x, n);
        assert_eq!(v, compound_interest(x, n));
        close("compound interest", d, expected, n as f64 * f64::EPSILON);
        fd("compound interest", |x| compound_interest(x, n), x, d);
    }
}

/// Early returns before and after loops: the statements after a diverging `if` (a loop among
/// them) continue in the arm that falls through.
#[differentiate]
fn returns_around_loops(x: f64, n: usize) -> f64 {
    if x < -1.0 {
        return x * 4.0;
    }
    let mut s = x;
    for _ in 0..n {
        s *= x;
    }
    if s > 1.0 {
        return s.ln();
    }
    let mut t = s;
    let mut k = 0;
    while k < n {
        t = t + s * x;
        k += 1;
    }
    t * 2.0
}

#[test]
fn early_returns_before_and_after_loops() {
    for x in [-2.0f64, -0.5, 0.5, 1.5] {
        for n in [0usize, 1, 3] {
            // x < −1: 4x → 4. Otherwise s = x^{n+1}; s > 1: ln s → (n + 1)/x;
            // else t = s + n·s·x = x^{n+1} + n·x^{n+2}, f = 2t → 2(n + 1)xⁿ + 2n(n + 2)x^{n+1}.
            let m = n as i32;
            let s = x.powi(m + 1);
            let expected = if x < -1.0 {
                4.0
            } else if s > 1.0 {
                (m + 1) as f64 / x
            } else {
                2.0 * (m + 1) as f64 * x.powi(m) + 2.0 * (m * (m + 2)) as f64 * x.powi(m + 1)
            };
            let (v, d) = returns_around_loops_grad(x, n);
            assert_eq!(v, returns_around_loops(x, n));
            close(
                &format!("returns around loops n = {n} x = {x}"),
                d,
                expected,
                TOL,
            );
            fd("returns around loops", |x| returns_around_loops(x, n), x, d);
        }
    }
}

/// The products of pairs below the diagonal, row by row: `continue 'rows` leaves a row at the
/// first pair whose product is small, `break 'outer` stops at the first large one, from two
/// loops down.
#[differentiate(hessian)]
fn pairs_with_labels(x: &[f64]) -> f64 {
    let mut s = 0.0;
    'outer: for i in 0..x.len() {
        'rows: for j in 0..i {
            let mut k = 0;
            while k < 2 {
                let p = x[i] * x[j];
                if p.abs() < 0.05 {
                    continue 'rows;
                }
                if p > 1.5 {
                    break 'outer;
                }
                s += p * x[k];
                k += 1;
            }
        }
        s = s * 0.5 + x[i];
    }
    s
}

#[test]
fn labeled_loops_leave_the_loop_they_name() {
    for x in [
        vec![0.7f64, -1.3, 2.1, 0.4],
        vec![0.3, 0.02, -0.8, 1.1, 0.6],
        vec![1.4, 1.2, 0.5],
        vec![],
    ] {
        // The same walk with the derivative carried forward: ∂s for s ← s + x_i x_j x_k is
        // x_j x_k e_i + x_i x_k e_j + x_i x_j e_k; s ← s/2 + x_i halves it and adds e_i.
        let n = x.len();
        let (mut s, mut ds) = (0.0, vec![0.0; n]);
        'outer: for i in 0..n {
            for j in 0..i {
                for k in 0..2 {
                    let p = x[i] * x[j];
                    if p.abs() < 0.05 {
                        break;
                    }
                    if p > 1.5 {
                        break 'outer;
                    }
                    s += p * x[k];
                    ds[i] += x[j] * x[k];
                    ds[j] += x[i] * x[k];
                    ds[k] += p;
                }
            }
            s = s * 0.5 + x[i];
            ds.iter_mut().for_each(|d| *d *= 0.5);
            ds[i] += 1.0;
        }
        let (v, g) = pairs_with_labels_grad(&x);
        assert_eq!(v, pairs_with_labels(&x));
        assert_eq!(v, s);
        close_all("labeled loops", &g, &ds);
        fd_vec("labeled loops", pairs_with_labels, &x, &g);
        if n == 0 {
            continue;
        }
        forward("labeled loops").check(
            &x,
            |x| pairs_with_labels(x),
            |x, v| pairs_with_labels_jvp(x, v),
            |x, w| {
                let (y, back) = pairs_with_labels_vjp(x);
                (y, back(w))
            },
        );
        let v = autodiff::check::random_direction(&x, 7);
        let (y, grad, hv) = pairs_with_labels_hvp(&x, &v);
        assert_eq!((y, &grad), (s, &g));
        let r = autodiff::check::hvpcheck(|x: &Vec<f64>| pairs_with_labels_grad(x).1, &x, &v, &hv);
        assert!(r.passed(), "labeled loops: {r}");
    }
}

/// Match guards that read a loop's element through its reference (`*x > c`): Σ of c where
/// xᵢ > c, xᵢ² where xᵢ ≤ c, |xᵢ| without a cap.
#[differentiate]
fn capped_squares(xs: &[f64], cap: Option<f64>) -> f64 {
    let mut s = 0.0;
    for x in xs {
        s += match cap {
            Some(c) if *x > c => c,
            Some(_) => *x * *x,
            None => x.abs(),
        };
    }
    s
}

/// A guard on an integer scrutinee reading the element: Σ w·xᵢ (xᵢ > ½), w²·xᵢ (0 < xᵢ ≤ ½),
/// −xᵢ otherwise.
#[differentiate]
fn guarded_by_element(xs: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        let k = if *x > 0.0 { 1 } else { 2 };
        s += match k {
            1 if *x > 0.5 => w * x,
            1 => w * w * x,
            _ => -x,
        };
    }
    s
}

#[test]
fn match_guards_read_elements_through_their_references() {
    let xs = [0.3, -1.2, 0.8, 0.45];
    let (v, g) = capped_squares_grad(&xs, Some(0.5));
    assert_eq!(v, capped_squares(&xs, Some(0.5)));
    close_all("capped", &g, &[0.6, -2.4, 0.0, 0.9]);
    let (_, g) = capped_squares_grad(&xs, None);
    close_all("uncapped", &g, &[1.0, -1.0, 1.0, 1.0]);
    let w = 0.7;
    let (v, (g, dw)) = guarded_by_element_grad(&xs, w);
    assert_eq!(v, guarded_by_element(&xs, w));
    close_all("∂x", &g, &[w * w, -1.0, w, w * w]);
    close("∂w", dw, 2.0 * w * 0.3 + 0.8 + 2.0 * w * 0.45, 1e-12);
}

/// A fee by tiers, a labeled block's value left early by `break 'fee`: √(10 + r·n) below 10⁵,
/// √(200 + r·n/2) above.
#[differentiate(hessian)]
fn tiered_fee(notional: f64, rate: f64) -> f64 {
    let fee = 'fee: {
        if notional < 1e5 {
            break 'fee 10.0 + rate * notional;
        }
        200.0 + 0.5 * rate * notional
    };
    fee.sqrt()
}

/// Per element, a labeled block left from a loop inside it (`break 'pick` with the value out
/// of the `for`), from an `if` after it, or by its end; the function's value is a labeled block
/// too: Σ cᵢ where cᵢ = xᵢ·t·k for the first k < 3 with xᵢ·k > t, else e^xᵢ for xᵢ < 0, else
/// sin xᵢ; the sum s if s > 10, else s·t.
#[differentiate]
fn picked_by_blocks(xs: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for x in xs {
        let c = 'pick: {
            for k in 0..3 {
                if *x * k as f64 > t {
                    break 'pick *x * t * k as f64;
                }
            }
            if *x < 0.0 {
                break 'pick x.exp();
            }
            x.sin()
        };
        s += c;
    }
    'tail: {
        if s > 10.0 {
            break 'tail s;
        }
        s * t
    }
}

/// A labeled block of `()`, an early way out of a scan: s = t·Σ xᵢ up to the first xᵢ > t,
/// doubled when there is none; then s + t·sin s, the last a block without a `break`.
#[differentiate]
fn scan_until(xs: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    'scan: {
        for x in xs {
            if *x > t {
                break 'scan;
            }
            s += x * t;
        }
        s *= 2.0
    }
    #[allow(unused_labels)]
    let y = 'v: { s.sin() * t };
    s + y
}

#[test]
fn labeled_blocks_are_loops_left_by_break() {
    let xs = [0.3, 0.5, 2.0, 0.4];
    for t in [1.0, 3.0] {
        let (v, (g, dt)) = scan_until_grad(&xs, t);
        assert_eq!(v, scan_until(&xs, t));
        let stop = xs.iter().position(|x| *x > t).unwrap_or(xs.len());
        let k = if stop < xs.len() { 1.0 } else { 2.0 };
        let sum: f64 = xs[..stop].iter().sum();
        let s = k * t * sum;
        close("value", v, s + t * s.sin(), 1e-12);
        let outer = 1.0 + t * s.cos();
        let want: Vec<f64> = (0..xs.len())
            .map(|i| if i < stop { outer * k * t } else { 0.0 })
            .collect();
        close_all("∂x", &g, &want);
        close("∂t", dt, outer * k * sum + s.sin(), 1e-12);
    }
    for (n, r) in [(2e4, 0.013), (3e5, 0.002)] {
        let (v, (dn, dr)) = tiered_fee_grad(n, r);
        assert_eq!(v, tiered_fee(n, r));
        let (a, k) = if n < 1e5 { (10.0, 1.0) } else { (200.0, 0.5) };
        let f = (a + k * r * n).sqrt();
        close("∂n", dn, k * r / (2.0 * f), 1e-12);
        close("∂r", dr, k * n / (2.0 * f), 1e-12);
        // ∂²/∂r² = −(k·n)²/(4 f³), along (0, 1).
        let (_, _, (hn, hr)) = tiered_fee_hvp(n, r, 0.0, 1.0);
        close("∂²r", hr, -(k * n).powi(2) / (4.0 * f.powi(3)), 1e-10);
        close(
            "∂n∂r",
            hn,
            k / (2.0 * f) - k * r * k * n / (4.0 * f.powi(3)),
            1e-10,
        );
    }
    let small = [0.3, -1.2, 0.8, 0.07];
    // The last sums past 10, so the function's own block leaves by its `break`.
    for (xs, t) in [
        (small, 0.1),
        (small, 0.5),
        (small, 2.0),
        ([6.0, -0.5, 5.0, 0.3], 2.0),
    ] {
        let (v, (g, dt)) = picked_by_blocks_grad(&xs, t);
        assert_eq!(v, picked_by_blocks(&xs, t));
        // The same choices by hand.
        let (mut s, mut ds, mut dst) = (0.0, [0.0; 4], 0.0);
        for (i, &x) in xs.iter().enumerate() {
            match (0..3).find(|&k| x * k as f64 > t) {
                Some(k) => {
                    s += x * t * k as f64;
                    ds[i] = t * k as f64;
                    dst += x * k as f64;
                }
                None if x < 0.0 => {
                    s += x.exp();
                    ds[i] = x.exp();
                }
                None => {
                    s += x.sin();
                    ds[i] = x.cos();
                }
            }
        }
        let (want, scale) = if s > 10.0 { (s, 1.0) } else { (s * t, t) };
        assert_eq!(s > 10.0, xs[0] > 1.0);
        close("value", v, want, 1e-12);
        let want_g: Vec<f64> = ds.iter().map(|d| d * scale).collect();
        close_all("∂x", &g, &want_g);
        let want_t = if s > 10.0 { dst } else { dst * t + s };
        close("∂t", dt, want_t, 1e-12);
        fd_vec("labeled blocks", |x| picked_by_blocks(x, t), &xs, &g);
    }
}

/// `'search: loop` left from a `for` inside it, with the value a `break` carries out of two
/// loops as the function's value: s = x₀·Π(1 + x_j/10) over at most two passes over x, up to the first x_j with
/// x_j·s > 2; the value is 2s.
#[differentiate]
fn labeled_search<T: num_traits::Float>(x: &[T]) -> T {
    let mut s = x[0];
    let tenth = T::from(0.1).unwrap();
    let mut passes = 0;
    'search: loop {
        for &v in x.iter() {
            if v * s > T::from(2.0).unwrap() {
                break 'search s + s;
            }
            s = s * (T::one() + v * tenth);
        }
        passes += 1;
        if passes == 2 {
            break s + s;
        }
    }
}

#[test]
fn a_labeled_loop_with_a_value() {
    for x in [vec![0.7f64, 1.3, 2.1, 0.4], vec![0.5, 0.2, -0.3]] {
        let (mut s, mut ds) = (x[0], vec![0.0; x.len()]);
        ds[0] = 1.0;
        'walk: for _ in 0..2 {
            for (j, &v) in x.iter().enumerate() {
                if v * s > 2.0 {
                    break 'walk;
                }
                // s ← s(1 + v/10): ∂s ← ∂s(1 + v/10) + (s/10) e_j
                ds.iter_mut().for_each(|d| *d *= 1.0 + v * 0.1);
                ds[j] += s * 0.1;
                s *= 1.0 + v * 0.1;
            }
        }
        let expected: Vec<f64> = ds.iter().map(|d| 2.0 * d).collect();
        let (v, g) = labeled_search_grad(&x);
        assert_eq!(v, labeled_search(&x));
        close_all("labeled search", &g, &expected);
        fd_vec("labeled search", labeled_search, &x, &g);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let (v32, g32) = labeled_search_grad(&x32);
        assert_eq!(v32, labeled_search(&x32));
        for (a, b) in g32.iter().zip(&g) {
            assert!(
                (*a as f64 - b).abs() < 1e-4 * (1.0 + b.abs()),
                "f32: {a} vs {b}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `&&` and `||` whose right operand changes variables: a closure that records what it looked
// at, a block that accumulates. The right operand runs only where the left does not decide;
// its changes were dropped (the value was 4 where it is 2).
// ---------------------------------------------------------------------------------------------

/// s = Σ_{x > 0.4} x + Σ_{x > 0.4} x (the closure sees the elements above 0.4 only).
#[differentiate]
fn recorded_hits(x: &[f64]) -> f64 {
    let mut seen = 0.0;
    let mut check = |v: f64| {
        seen += v;
        v > 0.0
    };
    let mut s = 0.0;
    for &v in x {
        if v > 0.4 && check(v) {
            s += v;
        }
    }
    s + seen
}

/// acc sums the elements up to 0.8 (`||` short-circuits above), s those above 0.8 or met once
/// acc passed 1.
#[differentiate]
fn accumulated_or(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    let mut s = 0.0;
    for &v in x {
        if v > 0.8 || {
            acc += v;
            acc > 1.0
        } {
            s += v;
        }
    }
    s * 2.0 + acc
}

#[test]
fn short_circuits_that_change_variables() {
    let x = [0.3, 0.5, 0.9, 0.2, -0.4, 0.6];
    let (y, g) = recorded_hits_grad(&x);
    assert_eq!(y, recorded_hits(&x));
    close("value", y, 2.0 * (0.5 + 0.9 + 0.6), 1e-15);
    assert_eq!(g, vec![0.0, 2.0, 2.0, 0.0, 0.0, 2.0]);
    // acc: 0.3, 0.8, (0.9 skips), 1.05, 0.65, 1.25: s = 0.9 + 0.25 + 0.6.
    let x = [0.3, 0.5, 0.9, 0.25, -0.4, 0.6];
    let (y, g) = accumulated_or_grad(&x);
    assert_eq!(y, accumulated_or(&x));
    close("value", y, 2.0 * (0.9 + 0.25 + 0.6) + 1.25, 1e-12);
    assert_eq!(g, vec![1.0, 1.0, 2.0, 3.0, 1.0, 3.0]);
    let r = gradcheck(|p: &Vec<f64>| accumulated_or(p), &x.to_vec(), &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A `loop` as a match arm's value without braces (`0 => loop { break x * 2.0; },`): rejected
// ("`break` with a value is followed where ..."), though the same arm in braces was followed.
// ---------------------------------------------------------------------------------------------

/// y = 2x (m = 0, by a loop), x² + 1 (m = 1, by a loop that runs twice) or x; then y·x.
#[allow(clippy::never_loop)] // the form under test
#[differentiate]
fn loop_arms(x: f64, m: usize) -> f64 {
    let y = match m {
        0 => loop {
            break x * 2.0;
        },
        1 => {
            let mut k = 0;
            loop {
                k += 1;
                if k == 2 {
                    break x * x + 1.0;
                }
            }
        }
        _ => x,
    };
    y * x
}

#[test]
fn loops_as_match_arm_values() {
    let x = 1.5;
    assert_eq!(loop_arms_grad(x, 0), (2.0 * x * x, 4.0 * x));
    assert_eq!(loop_arms_grad(x, 1), ((x * x + 1.0) * x, 3.0 * x * x + 1.0));
    assert_eq!(loop_arms_grad(x, 2), (x * x, 2.0 * x));
}

// ---------------------------------------------------------------------------------------------
// An inner `loop` that ends the outer loop's body without `;` (as rustfmt leaves it) and leaves
// both with `break 'outer`: rejected as "a loop that is a value", though the same with `;` was
// followed. Gradient descent on a·x² − x with a halving line search.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn line_search_descent(a: f64, x0: f64) -> f64 {
    let mut x = x0;
    'outer: for _ in 0..20 {
        let g = 2.0 * a * x - 1.0;
        let mut t = 1.0;
        loop {
            let xn = x - t * g;
            if a * xn * xn - xn <= a * x * x - x - 0.3 * t * g * g {
                x = xn;
                break;
            }
            t *= 0.5;
            if t < 1e-8 {
                break 'outer;
            }
        }
    }
    x
}

#[test]
fn labeled_breaks_from_tail_loops() {
    let (a, x0) = (0.8, 3.0);
    let (y, (ga, gx)) = line_search_descent_grad(a, x0);
    assert_eq!(y, line_search_descent(a, x0));
    // It converges to the minimiser 1/(2a): ∂/∂a = −1/(2a²), and x₀ is forgotten. (Differences
    // of the function see the line search's jumps, not this.)
    close("minimiser", y, 1.0 / (2.0 * a), 1e-9);
    close("∂/∂a", ga, -1.0 / (2.0 * a * a), 1e-6);
    assert!(gx.abs() < 1e-9, "{gx}");
}
