//! Calls between differentiated functions, hand-written custom derivatives (`g_vjp`), calls with
//! inactive arguments and of functions on inactive values, tuples (values, destructuring,
//! returns with a tuple cotangent), `wrt(..)`, and macros as inactive side effects.
//!
//! Every derivative is checked against the analytic derivative (in a comment) and against
//! central finite differences through `autodiff::check`.

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Calls of calls: outer → middle → inner, all differentiated.
// ---------------------------------------------------------------------------------------------

/// h(u) = 2·sin u
#[differentiate]
fn inner(u: f64) -> f64 {
    u.sin() * 2.0
}

/// g(x, y) = h(xy) + y
#[differentiate]
fn middle(x: f64, y: f64) -> f64 {
    inner(x * y) + y
}

/// f(x, y) = g(x, y)·h(y) = (2 sin(xy) + y)·2 sin y
#[differentiate]
fn outer(x: f64, y: f64) -> f64 {
    middle(x, y) * inner(y)
}

#[test]
fn calls_of_calls() {
    for (x, y) in [(0.5, 1.5), (-1.2, 0.3), (2.0, -0.7)] {
        // h' = 2 cos u
        let (v, d) = inner_grad(x);
        assert_eq!(v, inner(x));
        close("inner", d, 2.0 * x.cos(), TOL);
        fd("inner", inner, x, d);

        // ∂g/∂x = 2y·cos(xy), ∂g/∂y = 2x·cos(xy) + 1
        let (v, d) = middle_grad(x, y);
        assert_eq!(v, middle(x, y));
        let c = (x * y).cos();
        close2("middle", d, (2.0 * y * c, 2.0 * x * c + 1.0));
        fd2("middle", middle, (x, y), d);

        // f = g·h(y): ∂f/∂x = g_x·h(y), ∂f/∂y = g_y·h(y) + g·h'(y)
        let (g, hy, dhy) = (middle(x, y), 2.0 * y.sin(), 2.0 * y.cos());
        let expected = (2.0 * y * c * hy, (2.0 * x * c + 1.0) * hy + g * dhy);
        let (v, d) = outer_grad(x, y);
        assert_eq!(v, outer(x, y));
        close2("outer", d, expected);
        fd2("outer", outer, (x, y), d);
    }
}

#[differentiate]
fn square(x: f64) -> f64 {
    x * x
}

/// Nested calls in one expression, and one function called several times.
#[differentiate]
fn nested_calls(x: f64) -> f64 {
    square(square(x)) + square(x + 1.0) + square(2.0 * x)
}

/// A call inside a loop (pullbacks stored per iteration) and inside a branch.
#[differentiate]
fn calls_in_control_flow(x: f64, n: usize) -> f64 {
    let mut s = x;
    for _ in 0..n {
        s = inner(s) + x;
    }
    if s > 0.0 { square(s) } else { middle(s, x) }
}

#[test]
fn nested_and_repeated_calls() {
    for x in [-1.5, 0.3, 1.1] {
        // x⁴ + (x + 1)² + 4x² → 4x³ + 2(x + 1) + 8x
        let (v, d) = nested_calls_grad(x);
        assert_eq!(v, nested_calls(x));
        close(
            "nested calls",
            d,
            4.0 * x * x * x + 2.0 * (x + 1.0) + 8.0 * x,
            TOL,
        );
        fd("nested calls", nested_calls, x, d);

        for n in [0usize, 1, 4] {
            // Forward chain rule: s' = 1; s ← 2 sin s + x: s' ← 2 cos(s)·s' + 1;
            // then s > 0: s² → 2s·s'; else middle(s, x) = 2 sin(sx) + x →
            // 2 cos(sx)·(s'·x + s) + 1.
            let (mut s, mut ds) = (x, 1.0);
            for _ in 0..n {
                ds = 2.0 * s.cos() * ds + 1.0;
                s = 2.0 * s.sin() + x;
            }
            let expected = if s > 0.0 {
                2.0 * s * ds
            } else {
                2.0 * (s * x).cos() * (ds * x + s) + 1.0
            };
            let (v, d) = calls_in_control_flow_grad(x, n);
            assert_eq!(v, calls_in_control_flow(x, n));
            close(
                &format!("calls in control flow n = {n} x = {x}"),
                d,
                expected,
                TOL,
            );
            fd(
                "calls in control flow",
                |x| calls_in_control_flow(x, n),
                x,
                d,
            );
        }
    }
}

/// A differentiated function in another module, called by path (through `geometry::norm_vjp`,
/// which keeps the function's `pub` visibility).
mod geometry {
    use autodiff::differentiate;

    #[differentiate]
    pub fn norm(x: f64, y: f64) -> f64 {
        (x * x + y * y).sqrt()
    }
}

#[differentiate]
fn call_by_path(x: f64) -> f64 {
    geometry::norm(x, 2.0 * x) + self::square(x)
}

#[test]
fn calls_by_path() {
    for x in [0.5, -2.0] {
        // √5·|x| + x² → √5·sign x + 2x
        let (v, d) = call_by_path_grad(x);
        assert_eq!(v, call_by_path(x));
        close("call by path", d, 5f64.sqrt() * x.signum() + 2.0 * x, TOL);
        fd("call by path", call_by_path, x, d);
    }
    // ∇√(x² + y²) = (x, y)/r
    let (_, d) = geometry::norm_grad(3.0, 4.0);
    close2("norm", d, (0.6, 0.8));
}

// ---------------------------------------------------------------------------------------------
// Custom derivatives: a plain function with a hand-written `_vjp`.
// ---------------------------------------------------------------------------------------------

/// A plain function (no `#[differentiate]`): tanh.
fn softclip(x: f64) -> f64 {
    x.tanh()
}

/// A deliberately wrong custom rule: the pullback returns 42·g, so a test can tell that this rule,
/// not some derivative of `softclip`'s body, is what the caller uses.
fn softclip_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (softclip(x), move |g: f64| 42.0 * g)
}

/// The matching custom forward rule: tangent 42·dx.
fn softclip_jvp(x: f64, dx: f64) -> (f64, f64) {
    (softclip(x), 42.0 * dx)
}

#[differentiate]
fn uses_softclip(x: f64) -> f64 {
    3.0 * softclip(x * 2.0) + x
}

/// A correct custom rule, for a function whose body the macro could not differentiate: a
/// numerically stable softplus ln(1 + eˣ) with derivative σ(x) = 1/(1 + e⁻ˣ), computed with an
/// iterator (unsupported in differentiated code).
fn softplus(x: f64) -> f64 {
    [0.0, x].iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v)) + (-x.abs()).exp().ln_1p()
}

fn softplus_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    let y = softplus(x);
    (y, move |g: f64| g / (1.0 + (-x).exp()))
}

fn softplus_jvp(x: f64, dx: f64) -> (f64, f64) {
    (softplus(x), dx / (1.0 + (-x).exp()))
}

#[differentiate]
fn uses_softplus(x: f64, y: f64) -> f64 {
    softplus(x * y) * y
}

#[test]
fn custom_derivatives_are_used() {
    for x in [-1.0, 0.0, 0.5] {
        // With the custom rule softclip' := 42: d/dx [3·softclip(2x) + x] = 3·42·2 + 1 = 253.
        let (v, d) = uses_softclip_grad(x);
        assert_eq!(v, uses_softclip(x));
        // Forward mode uses the custom forward rule the same way.
        assert_eq!(uses_softclip_jvp(x, 1.0), (v, d));
        assert_eq!(d, 253.0);
        // The true derivative is 6(1 − tanh²(2x)) + 1: finite differences see it, not the rule.
        let report = gradcheck(|x: &f64| uses_softclip(*x), &x, &d);
        assert!(!report.passed(), "{report}");
        close(
            "true softclip",
            report.entries[0].numeric,
            6.0 / (2.0 * x).cosh().powi(2) + 1.0,
            1e-8,
        );
    }
    for (x, y) in [(0.5f64, 2.0f64), (-1.0, 0.7), (3.0, -0.2)] {
        // f = softplus(xy)·y: ∂x = σ(xy)·y², ∂y = σ(xy)·xy + softplus(xy)
        let s = 1.0 / (1.0 + (-x * y).exp());
        let expected = (s * y * y, s * x * y + softplus(x * y));
        let (v, d) = uses_softplus_grad(x, y);
        assert_eq!(v, uses_softplus(x, y));
        close2("softplus", d, expected);
        fd2("softplus", uses_softplus, (x, y), d);
    }
}

// ---------------------------------------------------------------------------------------------
// Inactive arguments and functions on inactive values
// ---------------------------------------------------------------------------------------------

/// x·n + xⁿ: `n` is inactive (integer), passed through.
#[differentiate]
fn scale_n(x: f64, n: usize) -> f64 {
    x * n as f64 + x.powi(n as i32)
}

/// A plain function of inactive values only.
fn weight(k: usize) -> f64 {
    1.0 / (k as f64 + 1.0)
}

/// A plain function of a float that is never active here (a literal is passed).
fn table(c: f64) -> f64 {
    c * c + 1.0
}

/// Passes its inactive `n` on to `scale_n` and calls plain functions on inactive values.
#[differentiate]
fn inactive_args(x: f64, n: usize, label: &str, flag: bool, c: char) -> f64 {
    let w = weight(n) * table(0.5);
    let bonus = if flag && c == 'y' {
        label.len() as f64
    } else {
        0.0
    };
    scale_n(x, n) * w + scale_n(x * x, n + 1) + bonus * x
}

#[test]
fn inactive_arguments_pass_through() {
    for x in [-0.8, 0.6, 1.4] {
        for n in [0usize, 1, 3] {
            // d/dx (nx + xⁿ) = n + n·xⁿ⁻¹
            let nf = n as f64;
            let dscale = |x: f64, n: f64| n + if n == 0.0 { 0.0 } else { n * x.powf(n - 1.0) };
            let (v, d) = scale_n_grad(x, n);
            assert_eq!(v, scale_n(x, n));
            close("scale_n", d, dscale(x, nf), TOL);
            fd("scale_n", |x| scale_n(x, n), x, d);

            for (label, flag, c) in [("four", true, 'y'), ("four", false, 'y'), ("ab", true, 'n')] {
                // f = scale_n(x, n)·w + scale_n(x², n + 1) + b·x,
                // f' = scale_n'(x, n)·w + scale_n'(x², n + 1)·2x + b
                let w = weight(n) * table(0.5);
                let b = if flag && c == 'y' {
                    label.len() as f64
                } else {
                    0.0
                };
                let expected = dscale(x, nf) * w + dscale(x * x, nf + 1.0) * 2.0 * x + b;
                let (v, d) = inactive_args_grad(x, n, label, flag, c);
                assert_eq!(v, inactive_args(x, n, label, flag, c));
                close(
                    &format!("inactive args n = {n} {label} {flag} {c}"),
                    d,
                    expected,
                    TOL,
                );
                fd(
                    "inactive args",
                    |x| inactive_args(x, n, label, flag, c),
                    x,
                    d,
                );
            }
        }
    }
}

/// Calls a two-parameter differentiated function with a constant in the second slot: the
/// callee's pullback still returns both partials; the constant's is dropped.
#[differentiate]
fn call_with_constant(x: f64) -> f64 {
    middle(x, 2.0) + middle(1.5, x)
}

#[test]
fn calls_with_constant_float_arguments() {
    for x in [-0.4, 0.9] {
        // middle(x, 2) = 2 sin 2x + 2 → 4 cos 2x; middle(1.5, x) = 2 sin 1.5x + x → 3 cos 1.5x + 1
        let (v, d) = call_with_constant_grad(x);
        assert_eq!(v, call_with_constant(x));
        close(
            "call with constant",
            d,
            4.0 * (2.0 * x).cos() + 3.0 * (1.5 * x).cos() + 1.0,
            TOL,
        );
        fd("call with constant", call_with_constant, x, d);
    }
}

// ---------------------------------------------------------------------------------------------
// Tuples
// ---------------------------------------------------------------------------------------------

/// (r cos t, r sin t)
#[differentiate]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

/// ((x + y, x·y), x − y): a nested tuple result.
#[differentiate]
fn nested_tuple(x: f64, y: f64) -> ((f64, f64), f64) {
    let s = (x + y, x * y);
    (s, x - y)
}

#[test]
fn tuple_returning_functions_take_a_tuple_cotangent() {
    for (r, t) in [(2.0, 0.3), (0.5, -2.0)] {
        let (v, pullback) = polar_vjp(r, t);
        assert_eq!(v, polar(r, t));
        for (gx, gy) in [(1.0, 0.0), (0.0, 1.0), (0.7, -1.3)] {
            // With ȳ = (gx, gy): r̄ = gx cos t + gy sin t, t̄ = −gx·r sin t + gy·r cos t.
            let (_, pullback_again) = polar_vjp(r, t);
            let d = pullback_again((gx, gy));
            let expected = (
                gx * t.cos() + gy * t.sin(),
                -gx * r * t.sin() + gy * r * t.cos(),
            );
            close2("polar vjp", d, expected);
            fd2(
                "polar vjp",
                |r, t| {
                    let (x, y) = polar(r, t);
                    gx * x + gy * y
                },
                (r, t),
                d,
            );
        }
        drop(pullback);
    }
    for (x, y) in [(1.0, 2.0), (-0.5, 3.0)] {
        // ȳ = ((a, b), c): x̄ = a + b·y + c, ȳ = a + b·x − c
        let (v, pullback) = nested_tuple_vjp(x, y);
        assert_eq!(v, nested_tuple(x, y));
        let ((a, b), c) = ((0.5, -2.0), 3.0);
        let d = pullback(((a, b), c));
        close2("nested tuple vjp", d, (a + b * y + c, a + b * x - c));
        fd2(
            "nested tuple vjp",
            |x, y| {
                let ((p, q), s) = nested_tuple(x, y);
                a * p + b * q + c * s
            },
            (x, y),
            d,
        );
    }
}

/// Destructuring a call's tuple result, a tuple expression, nested patterns, `_`, and `.0`.
#[differentiate]
fn destructuring(r: f64, t: f64) -> f64 {
    let (x, y) = polar(r, t);
    let (a, b) = (x * y, x + y);
    let ((p, _), q) = ((a, b), b * 2.0);
    let pair = (p, q);
    let first = polar(r, 0.5 * t).0;
    pair.0 + pair.1 * first
}

#[test]
fn tuples_and_destructuring() {
    for (r, t) in [(2.0f64, 0.3f64), (0.5, -2.0), (1.3, 1.0)] {
        // x = r cos t, y = r sin t; f = xy + 2(x + y)·r cos(t/2)
        //   = ½r² sin 2t + 2r²(cos t + sin t)·cos(t/2)
        // ∂r = r sin 2t + 4r(cos t + sin t) cos(t/2)
        // ∂t = r² cos 2t + 2r²[(−sin t + cos t) cos(t/2) − ½(cos t + sin t) sin(t/2)]
        let (c, s, ch, sh) = (t.cos(), t.sin(), (t / 2.0).cos(), (t / 2.0).sin());
        let expected = (
            r * (2.0 * t).sin() + 4.0 * r * (c + s) * ch,
            r * r * (2.0 * t).cos() + 2.0 * r * r * ((c - s) * ch - 0.5 * (c + s) * sh),
        );
        let (v, d) = destructuring_grad(r, t);
        assert_eq!(v, destructuring(r, t));
        close2("destructuring", d, expected);
        fd2("destructuring", destructuring, (r, t), d);
    }
}

/// The sufficient statistics of a simple regression, (n, Σx, Σy, Σx², Σxy): a five-element tuple
/// result that a caller destructures.
#[differentiate]
fn sufficient_stats(xs: &[f64], ys: &[f64]) -> (f64, f64, f64, f64, f64) {
    let mut s = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys) {
        s = (s.0 + 1.0, s.1 + x, s.2 + y, s.3 + x * x, s.4 + x * y);
    }
    s
}

/// The least-squares slope from the statistics: (n Σxy − Σx Σy) / (n Σx² − (Σx)²).
#[differentiate]
fn ls_slope(xs: &[f64], ys: &[f64]) -> f64 {
    let (n, sx, sy, sxx, sxy) = sufficient_stats(xs, ys);
    (n * sxy - sx * sy) / (n * sxx - sx * sx)
}

/// A six-element tuple parameter, differentiated: its gradient is a tuple of the same shape.
#[differentiate]
fn six_weights(w: (f64, f64, f64, f64, f64, f64), x: f64) -> f64 {
    let (a, b, c, d, e, f) = w;
    a + b * x + c * x * x + (d * x).sin() + e * f
}

#[test]
fn five_and_six_element_tuples_are_differentiated() {
    let xs = [0.3, -1.2, 2.0, 0.7, -0.4];
    let ys = [1.1, -0.5, 2.5, 0.2, 0.9];
    // The slope's gradient with respect to y_i is (x_i − x̄) / Σ(x_j − x̄)².
    let mean = xs.iter().sum::<f64>() / 5.0;
    let sxx: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
    let (v, (gx, gy)) = ls_slope_grad(&xs, &ys);
    assert_eq!(v, ls_slope(&xs, &ys));
    let expected: Vec<f64> = xs.iter().map(|x| (x - mean) / sxx).collect();
    close_all("slope d/dy", &gy, &expected);
    fd_vec("slope d/dx", |x| ls_slope(x, &ys), &xs, &gx);
    fd_vec("slope d/dy", |y| ls_slope(&xs, y), &ys, &gy);
    let (_, pullback) = ls_slope_vjp(&xs, &ys);
    let (gx3, _) = pullback(3.0);
    close_all(
        "slope vjp",
        &gx3,
        &gx.iter().map(|g| 3.0 * g).collect::<Vec<_>>(),
    );

    let w = (0.5, -1.0, 0.25, 2.0, 1.5, -0.3);
    let x = 0.8;
    let (v, (gw, gx)) = six_weights_grad(w, x);
    assert_eq!(v, six_weights(w, x));
    // ∂w = (1, x, x², x cos(dx), f, e), ∂x = b + 2cx + d cos(dx)
    let (c, d) = ((w.3 * x).cos(), w.3);
    let got = [gw.0, gw.1, gw.2, gw.3, gw.4, gw.5];
    close_all("six weights", &got, &[1.0, x, x * x, x * c, w.5, w.4]);
    close("six weights d/dx", gx, w.1 + 2.0 * w.2 * x + d * c, TOL);
}

// ---------------------------------------------------------------------------------------------
// wrt(..)
// ---------------------------------------------------------------------------------------------

/// f = x·y·z + sin y, differentiated with respect to y only: the gradient is bare.
#[differentiate(wrt(y))]
fn only_y(x: f64, y: f64, z: f64) -> f64 {
    x * y * z + y.sin()
}

/// The same function with `wrt(z, x)`: the gradient is (∂x, ∂z), in declaration order.
#[differentiate(wrt(z, x))]
fn z_and_x(x: f64, y: f64, z: f64) -> f64 {
    x * y * z + y.sin()
}

#[test]
fn wrt_chooses_and_orders_by_declaration() {
    for (x, y, z) in [(1.0, 2.0, 3.0), (-0.5, 0.7, 4.0)] {
        // ∂x = yz, ∂y = xz + cos y, ∂z = xy
        let (v, d) = only_y_grad(x, y, z);
        assert_eq!(v, only_y(x, y, z));
        close("wrt(y)", d, x * z + y.cos(), TOL);
        fd("wrt(y)", |y| only_y(x, y, z), y, d);

        let (v, d) = z_and_x_grad(x, y, z);
        assert_eq!(v, z_and_x(x, y, z));
        close2("wrt(z, x)", d, (y * z, x * y));
        fd2("wrt(z, x)", |x, z| z_and_x(x, y, z), (x, z), d);

        // The pullback has the same shape, scaled by the cotangent.
        let (_, pullback) = z_and_x_vjp(x, y, z);
        let (dx, dz) = pullback(-2.0);
        close2("wrt(z, x) vjp", (dx, dz), (-2.0 * y * z, -2.0 * x * y));
    }
}

// ---------------------------------------------------------------------------------------------
// Macros as inactive side effects
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn with_macros(x: f64, n: usize) -> f64 {
    let y = x * x;
    println!("with_macros: x = {x}, y = {y}, n = {n}");
    assert!(y >= 0.0, "a square is never negative");
    assert_ne!(y, -1.0);
    debug_assert!(x.is_finite());
    // A macro producing a value is fine on inactive values (on active ones it is rejected).
    let message = format!("{n:03}");
    assert!(!message.is_empty());
    eprintln!("with_macros: done");
    y * x + n as f64
}

#[test]
fn macros_run_as_side_effects() {
    for x in [-1.5, 0.5] {
        // x³ + n → 3x²
        let (v, d) = with_macros_grad(x, 2);
        assert_eq!(v, with_macros(x, 2));
        close("with macros", d, 3.0 * x * x, TOL);
        fd("with macros", |x| with_macros(x, 2), x, d);
    }
}

// ---------------------------------------------------------------------------------------------
// Corner cases of calls and tuples
// ---------------------------------------------------------------------------------------------

/// Call arguments that are `if` expressions and blocks; a call whose result only feeds a
/// condition; a call whose result is discarded.
#[differentiate]
fn call_corner_cases(x: f64) -> f64 {
    let _ = inner(x);
    let a = square(if x > 0.0 { x } else { -2.0 * x });
    let b = inner({
        let t = x + 1.0;
        t * 0.5
    });
    if square(x) > 1.0 { a + b } else { a - b }
}

#[test]
fn call_arguments_and_results_in_corner_positions() {
    for x in [-1.5f64, -0.5, 0.5, 2.0] {
        // a = x² (x > 0) or 4x²: a' = 2x or 8x; b = 2 sin((x + 1)/2): b' = cos((x + 1)/2);
        // f = a ± b with + when x² > 1.
        let da = if x > 0.0 { 2.0 * x } else { 8.0 * x };
        let db = ((x + 1.0) * 0.5).cos();
        let expected = if x * x > 1.0 { da + db } else { da - db };
        let (v, d) = call_corner_cases_grad(x);
        assert_eq!(v, call_corner_cases(x));
        close(&format!("call corner cases x = {x}"), d, expected, TOL);
        fd("call corner cases", call_corner_cases, x, d);
    }
}

/// Early return of a tuple, from a function whose `_vjp` takes a tuple cotangent.
#[differentiate]
fn sorted_pair(x: f64, y: f64) -> (f64, f64) {
    if x > y {
        return (y, x * 2.0);
    }
    (x, y * 2.0)
}

#[test]
fn early_return_of_a_tuple() {
    for (x, y) in [(1.0, 3.0), (3.0, 1.0)] {
        // x ≤ y: (x, 2y) → with ȳ = (a, b): (a, 2b); x > y: (y, 2x) → (2b, a)
        let (a, b) = (0.5, -1.5);
        let (v, pullback) = sorted_pair_vjp(x, y);
        assert_eq!(v, sorted_pair(x, y));
        let d = pullback((a, b));
        let expected = if x > y { (2.0 * b, a) } else { (a, 2.0 * b) };
        close2("sorted pair", d, expected);
        fd2(
            "sorted pair",
            |x, y| {
                let (p, q) = sorted_pair(x, y);
                a * p + b * q
            },
            (x, y),
            d,
        );
    }
}

// Constant arguments of every kind: the callee's gradient is matched to the arguments by their
// types, so a constant path, a `const` item or a plain function's result is still recognised as
// a float argument of the callee (the gradient for it is dropped).
const HALF: f64 = 0.5;

fn quarter(k: usize) -> f64 {
    k as f64 * 0.25
}

#[differentiate]
fn scaled(x: f64, y: f64) -> f64 {
    x * y + y
}

#[differentiate]
fn with_constant_arguments(x: f64) -> f64 {
    scaled(x, std::f64::consts::PI)
        + scaled(x, HALF)
        + scaled(x, quarter(2))
        + scaled(x, f64::EPSILON)
}

#[test]
fn constant_arguments_of_every_kind() {
    // d/dx = π + 0.5 + 0.5 + ε
    let x = 1.3;
    let (value, d) = with_constant_arguments_grad(x);
    assert_eq!(value, with_constant_arguments(x));
    let expected = std::f64::consts::PI + HALF + quarter(2) + f64::EPSILON;
    assert!((d - expected).abs() < 1e-12, "{d} vs {expected}");
    autodiff::check::assert_gradient(|x: &f64| with_constant_arguments(*x), &x, &d);
}

/// Functions declared by a `macro_rules` macro, with the result type and the body (calls in a
/// loop included) given where the macro is used: the generated code's own names resolve in the
/// macro's hygiene, whatever the user's tokens carry.
macro_rules! declared {
    ($name:ident($x:ident, $n:ident) -> $r:tt $body:tt) => {
        #[differentiate]
        fn $name($x: f64, $n: usize) -> $r $body
    };
}

declared!(declared_by_a_macro(x, n) -> f64 {
    let mut s = x;
    for _ in 0..n {
        s = square(s) * 0.5 + x;
    }
    s
});

#[test]
fn functions_declared_by_a_macro() {
    for n in [0usize, 1, 3] {
        // s ← s²/2 + x: s' ← s·s' + 1, from s = x, s' = 1.
        let (mut s, mut ds) = (0.7, 1.0);
        for _ in 0..n {
            ds = s * ds + 1.0;
            s = s * s * 0.5 + 0.7;
        }
        let (v, d) = declared_by_a_macro_grad(0.7, n);
        assert_eq!(v, s);
        close("declared by a macro", d, ds, TOL);
        fd("declared by a macro", |x| declared_by_a_macro(x, n), 0.7, d);
    }
}

#[differentiate]
fn squares_into(x: &[f64], out: &mut [f64]) {
    for i in 0..x.len() {
        out[i] = x[i] * x[i];
    }
}

/// A function of a slice declared by a macro, with the forms whose checks the macro writes
/// with names of its own: iterating a buffer a `&mut` helper filled, and a count cast to a
/// float. Those names took the user's tokens' span and did not resolve in the `macro_rules`
/// expansion (rustc's E0425 on `__ad_a`, `__ad_x` in the generated code).
macro_rules! declared_over {
    ($name:ident($x:ident) -> $r:tt $body:tt) => {
        #[differentiate]
        fn $name($x: &[f64]) -> $r $body
    };
}

declared_over!(filled_by_a_helper(x) -> f64 {
    let mut out = vec![0.0; x.len()];
    squares_into(x, &mut out);
    out.iter().sum::<f64>() * out.len() as f64
});

#[test]
fn functions_declared_by_a_macro_with_the_macros_own_checks() {
    let x = [1.2, 0.4, -0.7];
    let (v, g) = filled_by_a_helper_grad(&x);
    // f = n·Σ x²: ∂x = 2n·x.
    close("value", v, 3.0 * x.iter().map(|a| a * a).sum::<f64>(), TOL);
    close_all("gradient", &g, &x.map(|a| 6.0 * a));
}

/// Fields of tuples and tuple structs of arrays behind a reference (`p.0.dot(&p.1)` of `p: &(Array1<f64>,
/// Array1<f64>)`, `m.0` of a tuple parameter struct, `let (w, b) = p;`): they were moved out of
/// the borrow, rustc's E0507 inside the generated code. They are copied.
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Affine(ndarray::Array1<f64>, f64);

#[differentiate]
fn affine_loss(m: &Affine, x: &ndarray::Array1<f64>) -> f64 {
    x.dot(&m.0) + m.1
}

#[differentiate]
fn pair_product(p: &(ndarray::Array1<f64>, ndarray::Array1<f64>)) -> f64 {
    let (a, b) = p;
    p.0.dot(&p.1) + a.sum() * b.sum()
}

#[test]
fn fields_of_tuples_of_arrays_behind_references() {
    use ndarray::array;
    let m = Affine(array![1.0, 2.0], 0.5);
    let x = array![3.0, 4.0];
    let (v, g) = affine_loss_grad(&m, &x);
    assert_eq!(v, affine_loss(&m, &x));
    assert_eq!((g.0.0, g.0.1, g.1), (x.clone(), 1.0, m.0.clone()));
    let p = (array![1.0, 2.0], array![3.0, 4.0]);
    let (v, g) = pair_product_grad(&p);
    assert_eq!(v, pair_product(&p));
    // ∂a = b + Σb·1, ∂b = a + Σa·1.
    assert_eq!(g, (&p.1 + 7.0, &p.0 + 3.0));
}

/// Raw identifiers as names (`r#in`, `r#type`: a quantity named by a keyword): the macro
/// panicked ("`dr#in_3` is not a valid identifier") making the tangent's name.
#[differentiate(hessian)]
fn raw_names(r#in: f64, k: f64) -> f64 {
    let mut r#type = 0.0;
    for i in 0..3 {
        r#type += r#in * k * i as f64;
    }
    r#type * r#in
}

#[test]
fn raw_identifiers_as_names() {
    // 3·in²·k: ∂in = 6·in·k, ∂k = 3·in².
    let (v, (a, b)) = raw_names_grad(2.0, 3.0);
    assert_eq!((v, a, b), (raw_names(2.0, 3.0), 36.0, 12.0));
    assert_eq!(raw_names_jvp(2.0, 3.0, 1.0, 0.0), (36.0, 36.0));
    let (_, _, hv) = raw_names_hvp(2.0, 3.0, 1.0, 0.0);
    // H·e₁ = (6k, 6·in).
    assert_eq!(hv, (18.0, 12.0));
}

// ---------------------------------------------------------------------------------------------
// Plain helpers returning an integer from a differentiated argument: the cell a query falls in,
// a count below a threshold. The result is data (its derivative is zero); the call runs as
// written, whether the source declares the integer (`let i: usize = ..`) or only uses it as one
// (an index, a loop bound). The macro cannot see the helper's signature, and asked for its
// derivative (`locate_vjp`, `locate_jvp`).
// ---------------------------------------------------------------------------------------------

fn locate(xs: &[f64], t: f64) -> usize {
    xs.partition_point(|&x| x <= t).clamp(1, xs.len() - 1) - 1
}

fn count_below(xs: &[f64], t: f64) -> usize {
    xs.iter().filter(|&&x| x < t).count()
}

struct Knots {
    xs: Vec<f64>,
}

impl Knots {
    fn locate(&self, t: f64) -> usize {
        locate(&self.xs, t)
    }
}

/// Linear interpolation: ys[i] + (ys[i+1] − ys[i])·(t − x_i)/(x_{i+1} − x_i).
#[differentiate(wrt(ys, t))]
fn interp(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = locate(xs, t);
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

#[differentiate(wrt(ys, t))]
fn interp_declared(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i: usize = locate(xs, t);
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

#[differentiate(wrt(ys, t))]
fn interp_method(k: &Knots, ys: &[f64], t: f64) -> f64 {
    let i = k.locate(t);
    let s = (t - k.xs[i]) / (k.xs[i + 1] - k.xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

/// Σ_{k < n(t)} x_k·t with n(t) the number of x below t.
#[differentiate]
fn partial_sum(xs: &[f64], t: f64) -> f64 {
    let n = count_below(xs, t);
    let mut s = 0.0;
    for k in 0..n {
        s += xs[k] * t;
    }
    s
}

#[test]
fn integer_results_of_plain_helpers() {
    let xs = [0.0, 1.0, 3.0];
    let ys = [0.0, 2.0, 3.0];
    // t = 2 in the second cell: value 2 + 1·(1/2), slope (3 − 2)/2, weights 1/2 and 1/2.
    let expect = (2.5, (vec![0.0, 0.5, 0.5], 0.5));
    assert_eq!(interp_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_declared_grad(&xs, &ys, 2.0), expect);
    let k = Knots { xs: xs.to_vec() };
    assert_eq!(interp_method_grad(&k, &ys, 2.0), expect);
    let (_, dv) = interp_jvp(&xs, &ys, 2.0, &vec![1.0, 1.0, 1.0], 2.0);
    assert_eq!(dv, 0.5 + 0.5 + 2.0 * 0.5);
    // t = 2: x_0 and x_1 are below; value (0 + 1)·2, ∂/∂t = 1, ∂/∂x = (2, 2, 0).
    let (v, (gx, gt)) = partial_sum_grad(&xs, 2.0);
    assert_eq!((v, gt), (2.0, 1.0));
    assert_eq!(gx, vec![2.0, 2.0, 0.0]);
    let (_, dv) = partial_sum_jvp(&xs, 2.0, &vec![1.0, 0.0, 0.0], 1.0);
    assert_eq!(dv, 2.0 + 1.0);
}

// The integers of a plain helper reached through a tuple it returns (a pattern, or `.0` of the
// call) or the `Option` it returns, each name used as an index: the call is data as above. Every form asked for the helper's
// derivative (rustc's "cannot find function `bracket_vjp`" in the generated code), and
// `if let Some(i)` (later `let Some(i) = .. else`) of the helper was an error that said to
// return a float.

/// The ends of the cell `t` falls in.
fn bracket(xs: &[f64], t: f64) -> (usize, usize) {
    let i = locate(xs, t);
    (i, i + 1)
}

/// The cell `t` falls in, if any.
fn find_cell(xs: &[f64], t: f64) -> Option<usize> {
    xs.windows(2).position(|w| w[0] <= t && t < w[1])
}

/// The position of the smallest element and that element.
fn argmin(xs: &[f64]) -> (usize, f64) {
    let mut best = (0, xs[0]);
    for (i, &x) in xs.iter().enumerate() {
        if x < best.1 {
            best = (i, x);
        }
    }
    best
}

#[differentiate(wrt(ys, t))]
fn interp_bracket(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let (lo, hi) = bracket(xs, t);
    let s = (t - xs[lo]) / (xs[hi] - xs[lo]);
    ys[lo] + (ys[hi] - ys[lo]) * s
}

/// The helper's tuple kept whole, its integers read where they are used.
#[differentiate(wrt(ys, t))]
fn interp_seg(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let seg = bracket(xs, t);
    let s = (t - xs[seg.0]) / (xs[seg.1] - xs[seg.0]);
    ys[seg.0] + (ys[seg.1] - ys[seg.0]) * s
}

#[differentiate(wrt(ys, t))]
fn interp_unwrap_or(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = find_cell(xs, t).unwrap_or(xs.len() - 2);
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

#[differentiate(wrt(ys, t))]
fn interp_declared_unwrap(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i: usize = find_cell(xs, t).expect("t inside the knots");
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

#[differentiate(wrt(ys, t))]
fn interp_if_let(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    if let Some(i) = find_cell(xs, t) {
        let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
        ys[i] + (ys[i + 1] - ys[i]) * s
    } else {
        ys[ys.len() - 1]
    }
}

#[differentiate(wrt(ys, t))]
fn interp_match(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    match find_cell(xs, t) {
        Some(i) => {
            let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
            ys[i] + (ys[i + 1] - ys[i]) * s
        }
        None => ys[0] * t,
    }
}

/// `if let` written as `let .. else`, which leaves where `t` is outside the knots (it was the
/// error that said to return a float, where the `if let` was followed).
#[differentiate(wrt(ys, t))]
fn interp_let_else(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let Some(i) = find_cell(xs, t) else {
        return ys[ys.len() - 1];
    };
    let s = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] + (ys[i + 1] - ys[i]) * s
}

/// The interpolant summed at `t`, `t + ½` and `t + 1`, the points outside the knots skipped by
/// a `let .. else { continue }`.
#[differentiate(wrt(ys, t))]
fn interp_let_else_continue(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let mut total = 0.0;
    for k in 0..3 {
        let u = t + 0.5 * k as f64;
        let Some(i) = find_cell(xs, u) else { continue };
        let s = (u - xs[i]) / (xs[i + 1] - xs[i]);
        total += ys[i] + (ys[i + 1] - ys[i]) * s;
    }
    total
}

/// The smallest x times `s`, plus the x after it (cyclically).
#[differentiate]
fn after_min(xs: &[f64], s: f64) -> f64 {
    let (i, _) = argmin(xs);
    xs[i] * s + xs[(i + 1) % xs.len()]
}

#[differentiate]
fn after_min_declared(xs: &[f64], s: f64) -> f64 {
    let (i, _): (usize, f64) = argmin(xs);
    xs[i] * s + xs[(i + 1) % xs.len()]
}

#[differentiate]
fn after_min_field(xs: &[f64], s: f64) -> f64 {
    let i = argmin(xs).0;
    xs[i] * s + xs[(i + 1) % xs.len()]
}

#[differentiate]
fn after_min_field_declared(xs: &[f64], s: f64) -> f64 {
    let i: usize = argmin(xs).0;
    xs[i] * s + xs[(i + 1) % xs.len()]
}

#[differentiate]
fn after_min_kept(xs: &[f64], s: f64) -> f64 {
    let best = argmin(xs);
    xs[best.0] * s + xs[(best.0 + 1) % xs.len()]
}

#[test]
fn integers_of_plain_helpers_in_tuples_and_options() {
    let xs = [0.0, 1.0, 3.0];
    let ys = [0.0, 2.0, 3.0];
    // t = 2 in the second cell: value 2 + 1·(1/2), slope (3 − 2)/2, weights 1/2 and 1/2.
    let expect = (2.5, (vec![0.0, 0.5, 0.5], 0.5));
    assert_eq!(interp_bracket_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_seg_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_unwrap_or_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_declared_unwrap_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_if_let_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_match_grad(&xs, &ys, 2.0), expect);
    assert_eq!(interp_let_else_grad(&xs, &ys, 2.0), expect);
    assert_eq!(
        interp_let_else_grad(&xs, &ys, 4.0),
        (3.0, (vec![0.0, 0.0, 1.0], 0.0))
    );
    // At 2 and 2.5 (3 is outside): 2.5 + 2.75, weights ½ + ¼ and ½ + ¾, slope ½ twice.
    assert_eq!(
        interp_let_else_continue_grad(&xs, &ys, 2.0),
        (5.25, (vec![0.0, 0.75, 1.25], 1.0))
    );
    // Outside the knots: `if let` takes the last y (slope 0), the `match` y_0·t.
    assert_eq!(
        interp_if_let_grad(&xs, &ys, 4.0),
        (3.0, (vec![0.0, 0.0, 1.0], 0.0))
    );
    assert_eq!(
        interp_match_grad(&xs, &ys, 4.0),
        (0.0, (vec![4.0, 0.0, 0.0], 0.0))
    );
    let (_, dv) = interp_match_jvp(&xs, &ys, 2.0, &vec![1.0, 1.0, 1.0], 2.0);
    assert_eq!(dv, 0.5 + 0.5 + 2.0 * 0.5);
    // At several points, against central differences, with a pullback seeded by 3.
    macro_rules! against_differences {
        ($name:literal, $f:ident, $grad:ident, $vjp:ident) => {
            for &(t, y1) in &[(0.37, 1.3), (1.71, -0.4), (2.93, 0.8)] {
                let ys = [0.2, y1, -0.7];
                let (v, (gy, gt)) = $grad(&xs, &ys, t);
                assert!((v - $f(&xs, &ys, t)).abs() < 1e-12, "{}: value {v}", $name);
                let h = 1e-6;
                let fd_t = ($f(&xs, &ys, t + h) - $f(&xs, &ys, t - h)) / (2.0 * h);
                assert!((gt - fd_t).abs() < 1e-6, "{}: ∂t {gt} vs {fd_t}", $name);
                for k in 0..3 {
                    let (mut p, mut m) = (ys, ys);
                    p[k] += h;
                    m[k] -= h;
                    let fd = ($f(&xs, &p, t) - $f(&xs, &m, t)) / (2.0 * h);
                    assert!(
                        (gy[k] - fd).abs() < 1e-6,
                        "{}: ∂y{k} {} vs {fd}",
                        $name,
                        gy[k]
                    );
                }
                let (_, pullback) = $vjp(&xs, &ys, t);
                let (gy3, gt3) = pullback(3.0);
                assert!((gt3 - 3.0 * gt).abs() < 1e-12, "{}: ∂t seeded by 3", $name);
                for k in 0..3 {
                    assert!(
                        (gy3[k] - 3.0 * gy[k]).abs() < 1e-12,
                        "{}: ∂y{k} seeded",
                        $name
                    );
                }
            }
        };
    }
    against_differences!(
        "bracket",
        interp_bracket,
        interp_bracket_grad,
        interp_bracket_vjp
    );
    against_differences!("seg", interp_seg, interp_seg_grad, interp_seg_vjp);
    against_differences!(
        "unwrap_or",
        interp_unwrap_or,
        interp_unwrap_or_grad,
        interp_unwrap_or_vjp
    );
    against_differences!(
        "if let",
        interp_if_let,
        interp_if_let_grad,
        interp_if_let_vjp
    );
    against_differences!("match", interp_match, interp_match_grad, interp_match_vjp);
    against_differences!(
        "let else",
        interp_let_else,
        interp_let_else_grad,
        interp_let_else_vjp
    );
    against_differences!(
        "let else, continue",
        interp_let_else_continue,
        interp_let_else_continue_grad,
        interp_let_else_continue_vjp
    );
    // min at x_1 = −1: value −1·s + x_2, ∂s = −1, ∂x = (0, s, 1).
    let zs = [0.5, -1.0, 2.0];
    let expect = (-1.5 + 2.0, (vec![0.0, 1.5, 1.0], -1.0));
    assert_eq!(after_min_grad(&zs, 1.5), expect);
    assert_eq!(after_min_declared_grad(&zs, 1.5), expect);
    assert_eq!(after_min_field_grad(&zs, 1.5), expect);
    assert_eq!(after_min_kept_grad(&zs, 1.5), expect);
    assert_eq!(after_min_field_declared_grad(&zs, 1.5), expect);
    // min last: wraps around to x_0.
    assert_eq!(
        after_min_grad(&[0.5, 2.0, -1.0], 2.0),
        (-2.0 + 0.5, (vec![1.0, 0.0, 2.0], -1.0))
    );
}

// ---------------------------------------------------------------------------------------------
// The same integers under a name the function binds elsewhere too: a loop counter (`for k in
// 0..n`), a closure's parameter (`|(i, &v)|`), the same name in the other branch. Each binding
// is a variable of its own, and the one a plain helper gives is data where it is itself read as
// an integer (with the name bound more than once, the call asked for the helper's derivative,
// rustc's "cannot find value `nearest_jvp`"). A float under a name another binding uses as an
// index stays differentiated.
// ---------------------------------------------------------------------------------------------

/// The position of the center nearest to `x` (the first of tied ones).
fn nearest(cs: &[f64], x: f64) -> usize {
    let mut best = 0;
    for k in 1..cs.len() {
        if (cs[k] - x).abs() < (cs[best] - x).abs() {
            best = k;
        }
    }
    best
}

/// The position of the largest element (the first of tied ones).
fn top(xs: &[f64]) -> usize {
    let mut best = 0;
    for i in 1..xs.len() {
        if xs[i] > xs[best] {
            best = i;
        }
    }
    best
}

/// Σₓ (c_{k(x)} − x)² + ½ Σₖ cₖ², `k` also the counter of the second loop.
#[allow(clippy::needless_range_loop)] // the counter `k` is the point
#[differentiate]
fn quantization(cs: &[f64], xs: &[f64]) -> f64 {
    let mut d = 0.0;
    for &x in xs {
        let k = nearest(cs, x);
        d += (cs[k] - x) * (cs[k] - x);
    }
    for k in 0..cs.len() {
        d += 0.5 * cs[k] * cs[k];
    }
    d
}

/// The largest of wᵢ + s·i times its w, `i` also the closure's parameter.
#[differentiate]
fn best_shifted(w: &[f64], s: f64) -> f64 {
    let z: Vec<f64> = w
        .iter()
        .enumerate()
        .map(|(i, &v)| v + s * i as f64)
        .collect();
    let i = top(&z);
    z[i] * w[i]
}

/// The x nearest to `s` times `s`, or the largest x plus `s`: a `let i` in each branch.
#[differentiate]
fn either_end(xs: &[f64], s: f64, low: bool) -> f64 {
    if low {
        let i = nearest(xs, s);
        xs[i] * s
    } else {
        let i = top(xs);
        xs[i] + s
    }
}

/// The mean of the xs, a differentiated helper's float.
#[differentiate]
fn mean_of(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Σ xₖ² times the mean: `k` an index in the loop, a float after it.
#[allow(clippy::needless_range_loop)] // the counter `k` is the point
#[differentiate]
fn squares_times_mean(xs: &[f64]) -> f64 {
    let mut t = 0.0;
    for k in 0..xs.len() {
        t += xs[k] * xs[k];
    }
    let k = mean_of(xs);
    t * k
}

#[test]
fn integers_of_plain_helpers_under_names_bound_again() {
    // Centers 0 and 1; 0.2 goes to the first, 0.9 and 0.6 to the second:
    // 0.04 + 0.01 + 0.16 + ½; ∂c = (2(0 − 0.2) + 0, 2(0.1 + 0.4) + 1), ∂x = −2(c_k − x).
    let (cs, xs) = ([0.0, 1.0], [0.2, 0.9, 0.6]);
    let (v, (gc, gx)) = quantization_grad(&cs, &xs);
    assert_eq!(v, quantization(&cs, &xs));
    close("quantization", v, 0.71, TOL);
    close_all("quantization: ∂c", &gc, &[-0.4, 2.0]);
    close_all("quantization: ∂x", &gx, &[0.4, -0.2, -0.8]);
    let (_, pullback) = quantization_vjp(&cs, &xs);
    let (gc2, gx2) = pullback(-2.0);
    close_all("quantization: ∂c seeded", &gc2, &[0.8, -4.0]);
    close_all("quantization: ∂x seeded", &gx2, &[-0.8, 0.4, 1.6]);
    let p = (vec![0.1, 0.7, 1.3], vec![-0.3, 0.45, 0.8, 1.9]);
    let (_, g) = quantization_grad(&p.0, &p.1);
    let r = gradcheck(|p: &(Vec<f64>, Vec<f64>)| quantization(&p.0, &p.1), &p, &g);
    assert!(r.passed(), "{r}");

    // z = (1, 3.5, 3): i = 1, z₁·w₁ = 3.5·3; ∂w₁ = w₁ + z₁, ∂s = w₁.
    let w = [1.0, 3.0, 2.0];
    assert_eq!(
        best_shifted_grad(&w, 0.5),
        (10.5, (vec![0.0, 6.5, 0.0], 3.0))
    );

    // 1.0 is nearest to 0.9; the largest is 2.0.
    let xs = [0.5, 2.0, 1.0];
    assert_eq!(
        either_end_grad(&xs, 0.9, true),
        (0.9, (vec![0.0, 0.0, 0.9], 1.0))
    );
    assert_eq!(
        either_end_grad(&xs, 0.9, false),
        (2.9, (vec![0.0, 1.0, 0.0], 1.0))
    );

    // t = 5, mean 1.5: ∂xⱼ = 2xⱼ·1.5 + 5/2.
    assert_eq!(squares_times_mean_grad(&[1.0, 2.0]), (7.5, vec![5.5, 8.5]));
}

// ---------------------------------------------------------------------------------------------
// Recursion: a function that calls itself. Its `_vjp` makes each inner call's pullback in its
// own pullback (calling `_vjp` again), since a kept one would make the pullback's type contain
// itself; `_grad` keeps the inner call's pullback.
// ---------------------------------------------------------------------------------------------

/// xⁿ by recursion: n·xⁿ⁻¹.
#[differentiate]
fn power(x: f64, n: u32) -> f64 {
    if n == 0 { 1.0 } else { x * power(x, n - 1) }
}

/// Horner's rule by recursion on the rest of the coefficients: c₀ + x·(c₁ + x·(..)).
#[differentiate]
fn horner_rec(c: &[f64], x: f64) -> f64 {
    if c.is_empty() {
        0.0
    } else {
        c[0] + x * horner_rec(&c[1..], x)
    }
}

/// `wrt` on a function that calls the recursion (the recursion itself takes none).
#[differentiate(wrt(x))]
fn horner_rec_in_x(c: &[f64], x: f64) -> f64 {
    horner_rec(c, x)
}

/// Divide and conquer: a tree of depth log₂ n, each level combining its halves nonlinearly.
#[differentiate(hessian)]
fn halves(c: &[f64], x: f64) -> f64 {
    if c.len() == 1 {
        return (c[0] * x).sin();
    }
    let m = c.len() / 2;
    let a = halves(&c[..m], x);
    let b = halves(&c[m..], x * 0.9);
    a * b + a.tanh()
}

/// The recursion inside a loop: 2^depth leaves.
#[differentiate]
fn branching(x: f64, y: f64, depth: usize) -> f64 {
    if depth == 0 {
        return (x * y).exp() * y;
    }
    let mut s = 0.0;
    for k in 0..2 {
        s += branching(x * 0.5 + k as f64 * 0.1, y.cos(), depth - 1) * (k as f64 + 1.0);
    }
    s + x
}

/// In exact mode at kinks, `max` at the leaves.
#[differentiate(kinks = exact)]
fn branching_max(x: f64, y: f64, depth: usize) -> f64 {
    if depth == 0 {
        return x.max(y) * y;
    }
    let mut s = 0.0;
    for k in 0..2 {
        s += branching_max(x * 0.5 + k as f64 * 0.1, y.cos(), depth - 1) * (k as f64 + 1.0);
    }
    s + x
}

struct Series;

#[differentiate]
impl Series {
    /// Through `Self::`, on the rest of a slice taken apart by `split_first`.
    fn eval_from(c: &[f64], x: f64) -> f64 {
        match c.split_first() {
            None => 0.0,
            Some((&h, rest)) => h + x * Self::eval_from(rest, x),
        }
    }
}

#[derive(autodiff::Differentiable, Clone)]
struct Chain {
    w: f64,
    b: f64,
}

#[differentiate]
impl Chain {
    /// A method calling itself on `self`: w·(w·(..(x_d·w + b)..) + x₁) + x₀ with x_{k+1} = sin x_k.
    fn eval(&self, x: f64, depth: usize) -> f64 {
        if depth == 0 {
            x * self.w + self.b
        } else {
            self.eval(x.sin(), depth - 1) * self.w + x
        }
    }
}

/// Generic: sin(x)ⁿ by recursion.
#[differentiate]
fn sin_power<T: num_traits::Float>(x: T, n: usize) -> T {
    if n == 0 {
        T::one()
    } else {
        x.sin() * sin_power(x, n - 1)
    }
}

#[test]
fn recursive_functions() {
    for n in 0..5 {
        for x in [0.7, -1.3] {
            let (y, g) = power_grad(x, n);
            assert_eq!(y.to_bits(), power(x, n).to_bits());
            close("recursion", g, n as f64 * x.powi(n as i32 - 1), 1e-12);
            assert!(gradcheck(|v: &f64| power(*v, n), &x, &g).passed());
        }
    }
    let c = vec![0.5, -0.3, 0.2, 0.7, 1.1];
    for x in [0.3, -0.8, 1.2] {
        // Horner: ∂/∂cᵢ = xⁱ, ∂/∂x = Σ i·cᵢ·xⁱ⁻¹.
        let (y, (gc, gx)) = horner_rec_grad(&c, x);
        assert_eq!(y.to_bits(), horner_rec(&c, x).to_bits());
        for (i, g) in gc.iter().enumerate() {
            close("recursion", *g, x.powi(i as i32), 1e-12);
        }
        let dx: f64 = (1..c.len())
            .map(|i| i as f64 * c[i] * x.powi(i as i32 - 1))
            .sum();
        close("recursion", gx, dx, 1e-12);
        let (y2, gx2) = horner_rec_in_x_grad(&c, x);
        assert_eq!(y2.to_bits(), y.to_bits());
        close("recursion", gx2, dx, 1e-12);
        let (_, pb) = horner_rec_vjp(&c, x);
        let (gc2, gx2) = pb(-2.5);
        close("recursion", gx2, -2.5 * gx, 1e-12);
        for (a, b) in gc2.iter().zip(&gc) {
            close("recursion", *a, -2.5 * b, 1e-12);
        }

        let (y, g) = halves_grad(&c, x);
        assert_eq!(y.to_bits(), halves(&c, x).to_bits());
        let r = gradcheck(|p: &(Vec<f64>, f64)| halves(&p.0, p.1), &(c.clone(), x), &g);
        assert!(r.passed(), "{r}");
        let (_, pb) = halves_vjp(&c, x);
        let (gc2, gx2) = pb(3.0);
        close("recursion", gx2, 3.0 * g.1, 1e-12);
        for (a, b) in gc2.iter().zip(&g.0) {
            close("recursion", *a, 3.0 * b, 1e-12);
        }
        // Forward mode along x, and the Hessian-vector product against differences of `_grad`.
        let dc = vec![0.0; c.len()];
        let (yj, t) = halves_jvp(&c, x, &dc, 1.0);
        assert_eq!(yj.to_bits(), y.to_bits());
        close("recursion", t, g.1, 1e-10);
        let (_, (_, gxh), (hc, hx)) = halves_hvp(&c, x, &dc, 1.0);
        close("recursion", gxh, g.1, 1e-10);
        let h = 1e-5;
        let ((_, (gcp, gp)), (_, (gcm, gm))) = (halves_grad(&c, x + h), halves_grad(&c, x - h));
        close("recursion", hx, (gp - gm) / (2.0 * h), 1e-6);
        for i in 0..c.len() {
            close("recursion", hc[i], (gcp[i] - gcm[i]) / (2.0 * h), 1e-6);
        }
    }
    for depth in 0..4 {
        for (x, y) in [(0.3, 0.7), (0.9, -0.2)] {
            let (v, g) = branching_grad(x, y, depth);
            assert_eq!(v.to_bits(), branching(x, y, depth).to_bits());
            let r = gradcheck(|p: &(f64, f64)| branching(p.0, p.1, depth), &(x, y), &g);
            assert!(r.passed(), "depth {depth}: {r}");
            let (v, g) = branching_max_grad(x, y, depth);
            assert_eq!(v.to_bits(), branching_max(x, y, depth).to_bits());
            let r = gradcheck(|p: &(f64, f64)| branching_max(p.0, p.1, depth), &(x, y), &g);
            assert!(r.passed(), "depth {depth}: {r}");
        }
    }
    for depth in 0..4 {
        let t = Chain { w: 0.8, b: 0.3 };
        let (y, (gt, gx)) = t.eval_grad(0.6, depth);
        assert_eq!(y.to_bits(), t.eval(0.6, depth).to_bits());
        let r = gradcheck(
            |p: &(f64, f64, f64)| Chain { w: p.0, b: p.1 }.eval(p.2, depth),
            &(0.8, 0.3, 0.6),
            &(gt.w, gt.b, gx),
        );
        assert!(r.passed(), "depth {depth}: {r}");
        let (y, g) = sin_power_grad(0.6f64, depth);
        assert_eq!(y.to_bits(), sin_power(0.6f64, depth).to_bits());
        let n = depth as f64;
        close(
            "recursion",
            g,
            n * 0.6f64.sin().powf(n - 1.0) * 0.6f64.cos(),
            1e-12,
        );
    }
    let c = [0.5, -0.3, 0.2];
    let (y, (gc, gx)) = Series::eval_from_grad(&c, 0.7);
    assert_eq!(y.to_bits(), Series::eval_from(&c, 0.7).to_bits());
    assert_eq!(gc, vec![1.0, 0.7, 0.7 * 0.7]);
    close("recursion", gx, -0.3 + 2.0 * 0.2 * 0.7, 1e-12);
}

/// The sums a quadratic fit needs, seven of them in one tuple: n, Σx, Σy, Σx², Σxy, Σy², Σx²y.
#[differentiate(hessian)]
#[allow(clippy::type_complexity)]
fn seven_sums(x: &[f64], y: &[f64]) -> (f64, f64, f64, f64, f64, f64, f64) {
    let (mut n, mut sx, mut sy, mut sxx, mut sxy, mut syy, mut sxxy) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..x.len() {
        n += 1.0;
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
        syy += y[i] * y[i];
        sxxy += x[i] * x[i] * y[i];
    }
    (n, sx, sy, sxx, sxy, syy, sxxy)
}

/// The squared least-squares slope plus small multiples of Σy² and Σx²y, through the tuple
/// taken apart: checked against central differences, and by hand at one coordinate below.
#[differentiate(wrt(x), hessian)]
fn slope_penalty(x: &[f64], y: &[f64]) -> f64 {
    let (n, sx, sy, sxx, sxy, syy, sxxy) = seven_sums(x, y);
    let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    slope * slope + 0.01 * syy + 0.001 * sxxy
}

/// A tuple of eight floats as a parameter: ∂/∂t = (t₁, t₀, t₃, t₂, 1, 1, 1, 2t₇).
#[differentiate]
#[allow(clippy::type_complexity)]
fn eight_parts(t: (f64, f64, f64, f64, f64, f64, f64, f64)) -> f64 {
    t.0 * t.1 + t.2 * t.3 + t.4 + t.5 + t.6 + t.7 * t.7
}

#[test]
fn tuples_of_more_than_six_floats() {
    let x = [0.1, 0.5, 0.9, 1.4];
    let y = [1.0, 2.1, 2.9, 4.2];
    let (v, g) = slope_penalty_grad(&x, &y);
    assert_eq!(v, slope_penalty(&x, &y));
    let r = gradcheck(|p: &Vec<f64>| slope_penalty(p, &y), &x.to_vec(), &g);
    assert!(r.passed(), "{r}");
    // Only the 0.001·Σx²y term and the slope depend on x; the slope's part at x₀ by hand:
    // s = (n·Sxy − Sx·Sy)/(n·Sxx − Sx²), ∂s/∂x₀ = (n·y₀ − Sy)/D − s·(2n·x₀ − 2Sx)/D.
    let n = x.len() as f64;
    let (sx, sy) = (x.iter().sum::<f64>(), y.iter().sum::<f64>());
    let sxx: f64 = x.iter().map(|v| v * v).sum();
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let d = n * sxx - sx * sx;
    let s = (n * sxy - sx * sy) / d;
    let ds = (n * y[0] - sy) / d - s * (2.0 * n * x[0] - 2.0 * sx) / d;
    close("∂x₀", g[0], 2.0 * s * ds + 0.001 * 2.0 * x[0] * y[0], 1e-9);
    // The Hessian along e₀ against the difference of gradients.
    let h = 1e-6;
    let (mut a, mut b) = (x, x);
    a[0] += h;
    b[0] -= h;
    let (_, ga) = slope_penalty_grad(&a, &y);
    let (_, gb) = slope_penalty_grad(&b, &y);
    let (_, _, hv) = slope_penalty_hvp(&x, &y, &vec![1.0, 0.0, 0.0, 0.0]);
    for k in 0..4 {
        close("H·e₀", hv[k], (ga[k] - gb[k]) / (2.0 * h), 1e-5);
    }

    let t = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0);
    let (v, g) = eight_parts_grad(t);
    assert_eq!(v, eight_parts(t));
    assert_eq!(g, (2.0, 1.0, 4.0, 3.0, 1.0, 1.0, 1.0, 16.0));
}
