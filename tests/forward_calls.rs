//! Forward mode (`f_jvp`) through calls and structured values: calls between differentiated
//! functions (nested, repeated, in loops and branches, by path), hand-written custom rules (a
//! `g_jvp` beside `g_vjp` is what callers' forward mode uses), inactive and constant arguments,
//! tuples (values, destructuring, tuple results, an early return of a tuple), `wrt(..)`, macros
//! as side effects, methods on `&self` and `self`, associated functions, and parameter structs
//! (a hand-written `Differentiable` and `#[derive(Differentiable)]`, nested).
//!
//! Each function is checked along seeded random directions (see `common::forward`): the tangent
//! against central differences along the direction, against `f_vjp` by the dot-product test, the
//! value against the function's, bit for bit, and against the analytic directional derivative
//! where it is stated in a comment.

use autodiff::check::{dot_product_test, jvpcheck, random_direction};
use autodiff::{Differentiable, Primal, differentiate, nn};
use ndarray::{Array1, array};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Calls of differentiated functions
// ---------------------------------------------------------------------------------------------

/// ℓ(u) = 3·tanh u
#[differentiate]
fn leaf(u: f64) -> f64 {
    u.tanh() * 3.0
}

/// m(x, y) = ℓ(x − y)·y + x
#[differentiate]
fn mid(x: f64, y: f64) -> f64 {
    leaf(x - y) * y + x
}

/// t(x, y) = m(x, y)·ℓ(xy)
#[differentiate]
fn top(x: f64, y: f64) -> f64 {
    mid(x, y) * leaf(x * y)
}

#[differentiate]
fn cube(x: f64) -> f64 {
    x * x * x
}

/// Nested and repeated calls: (x³ − 1)³ + 0.1·(2x)³.
#[differentiate]
fn compose(x: f64) -> f64 {
    cube(cube(x) - 1.0) + cube(2.0 * x) * 0.1
}

/// Calls inside a loop and in the arms of a branch.
#[differentiate]
fn calls_in_flow(x: f64, n: usize) -> f64 {
    let mut s = x;
    for _ in 0..n {
        s = leaf(s) - x * 0.5;
    }
    if s < 0.0 { cube(s) } else { mid(x, s) }
}

/// Functions in another module, called by path.
mod shapes {
    use autodiff::differentiate;

    /// w·h + w²
    #[differentiate]
    pub fn area(w: f64, h: f64) -> f64 {
        w * h + w * w
    }
}

#[differentiate]
fn by_path(x: f64) -> f64 {
    shapes::area(x, x.exp()) - self::cube(x)
}

#[test]
fn calls_of_differentiated_functions() {
    let dleaf = |u: f64| 3.0 / u.cosh().powi(2);
    for (x, y) in [(0.5, 1.5), (-1.2, 0.3), (2.0, -0.7)] {
        // ∂m = (ℓ'(x − y)·y + 1, −ℓ'(x − y)·y + ℓ(x − y))
        let d = dleaf(x - y);
        let gm = (d * y + 1.0, -d * y + leaf(x - y));
        let pairs = forward("mid").two((x, y), mid, mid_jvp, mid_vjp);
        tangents_are2("mid", &pairs, gm, TOL);
        // ∂t = ∂m·ℓ(xy) + m·ℓ'(xy)·(y, x)
        let (m, l, dl) = (mid(x, y), leaf(x * y), dleaf(x * y));
        let gt = (gm.0 * l + m * dl * y, gm.1 * l + m * dl * x);
        let pairs = forward("top").two((x, y), top, top_jvp, top_vjp);
        tangents_are2("top", &pairs, gt, TOL);
    }
    for x in [-0.8f64, 0.4, 1.3] {
        // 3(x³ − 1)²·3x² + 0.1·24x²
        let df = 9.0 * (x * x * x - 1.0).powi(2) * x * x + 2.4 * x * x;
        let pairs = forward("compose").one(x, compose, compose_jvp, compose_vjp);
        tangents_are("compose", &pairs, df, TOL);
        // w = x, h = eˣ: d/dx (x·eˣ + x² − x³) = eˣ(1 + x) + 2x − 3x²
        let df = x.exp() * (1.0 + x) + 2.0 * x - 3.0 * x * x;
        let pairs = forward("by path").one(x, by_path, by_path_jvp, by_path_vjp);
        tangents_are("by path", &pairs, df, TOL);
        for n in [0usize, 1, 4] {
            forward(format!("calls in flow n = {n}")).one(
                x,
                |x| calls_in_flow(x, n),
                |x, dx| calls_in_flow_jvp(x, n, dx),
                |x| calls_in_flow_vjp(x, n),
            );
        }
    }
}

/// Arguments passed as references to computed scalars: the tangent of `&(-x)` is the tangent of
/// a value that has no name of its own in the generated code.
/// r(x) = relu(−x) + relu(2x) + relu(sin x) + relu(y) with y = x − 3.
#[differentiate]
fn by_computed_reference(x: f64) -> f64 {
    let y = x - 3.0;
    nn::relu(&(-x)) + nn::relu(&(x * 2.0)) + nn::relu(&x.sin()) + nn::relu(&y) + cube(x)
}

#[test]
fn calls_with_references_to_computed_scalars() {
    for x in [-2.5f64, -0.4, 0.7, 4.0] {
        let step = |t: f64| if t > 0.0 { 1.0 } else { 0.0 };
        let df =
            -step(-x) + 2.0 * step(2.0 * x) + x.cos() * step(x.sin()) + step(x - 3.0) + 3.0 * x * x;
        let pairs = forward("by computed reference").one(
            x,
            by_computed_reference,
            by_computed_reference_jvp,
            by_computed_reference_vjp,
        );
        tangents_are("by computed reference", &pairs, df, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Custom rules: plain functions with hand-written `_vjp` and `_jvp`
// ---------------------------------------------------------------------------------------------

/// A plain function: tanh.
fn clipped(x: f64) -> f64 {
    x.tanh()
}

/// A deliberately wrong rule, the same in both modes (derivative 7): callers must use it, so
/// their tangents disagree with differences of the function but agree with their pullbacks.
fn clipped_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (clipped(x), move |g: f64| 7.0 * g)
}

fn clipped_jvp(x: f64, dx: f64) -> (f64, f64) {
    (clipped(x), 7.0 * dx)
}

#[differentiate]
fn uses_clipped(x: f64) -> f64 {
    clipped(x * 3.0) * 2.0 + x
}

/// A correct rule for a body the macro cannot differentiate (an iterator fold):
/// ln(1 + eˣ), with derivative σ(x) = 1/(1 + e⁻ˣ).
fn log1pexp(x: f64) -> f64 {
    [x, 0.0].iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v)) + (-x.abs()).exp().ln_1p()
}

fn log1pexp_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (log1pexp(x), move |g: f64| g / (1.0 + (-x).exp()))
}

fn log1pexp_jvp(x: f64, dx: f64) -> (f64, f64) {
    (log1pexp(x), dx / (1.0 + (-x).exp()))
}

#[differentiate]
fn uses_log1pexp(x: f64, y: f64) -> f64 {
    log1pexp(x - y * y) * x
}

/// A rule whose two modes disagree (forward 2, reverse 3): what the dot-product test catches.
fn lopsided(x: f64) -> f64 {
    x
}

fn lopsided_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    (x, |g: f64| 3.0 * g)
}

fn lopsided_jvp(x: f64, dx: f64) -> (f64, f64) {
    (x, 2.0 * dx)
}

#[differentiate]
fn uses_lopsided(x: f64, y: f64) -> f64 {
    lopsided(x) * y
}

#[test]
fn custom_rules_are_used_in_forward_mode() {
    for x in [-1.0, 0.0, 0.5] {
        // With the rule clipped' := 7: d/dx [2·clipped(3x) + x] = 2·7·3 + 1 = 43.
        let (value, t) = uses_clipped_jvp(x, 1.0);
        assert_eq!((value, t), (uses_clipped(x), 43.0));
        // Forward and reverse mode use the same rule: the dot-product test passes ...
        let pairs = forward("uses clipped").at_kink().one(
            x,
            uses_clipped,
            uses_clipped_jvp,
            uses_clipped_vjp,
        );
        tangents_are("uses clipped", &pairs, 43.0, TOL);
        // ... and differences of the function see the true derivative 6(1 − tanh²(3x)) + 1.
        let report = jvpcheck(|x: &f64| uses_clipped(*x), &x, &1.0, &t);
        assert!(!report.passed(), "{report}");
        close(
            "true derivative",
            report.entries[0].numeric,
            6.0 / (3.0 * x).cosh().powi(2) + 1.0,
            1e-8,
        );
    }
    for (x, y) in [(0.5f64, 2.0f64), (-1.0, 0.7), (3.0, -0.2)] {
        // f = L(x − y²)·x: ∇ = (σ(u)·x + L(u), −2y·σ(u)·x) with u = x − y².
        let u = x - y * y;
        let s = 1.0 / (1.0 + (-u).exp());
        let g = (s * x + log1pexp(u), -2.0 * y * s * x);
        let pairs =
            forward("log1pexp").two((x, y), uses_log1pexp, uses_log1pexp_jvp, uses_log1pexp_vjp);
        tangents_are2("log1pexp", &pairs, g, TOL);
    }
    // Rules whose modes disagree fail the dot-product test: ⟨J v, w⟩ = 2·v₀·y·w, while
    // ⟨v, Jᵀ w⟩ = 3·v₀·y·w (+ the same x·v₁·w on both sides).
    let (x, y) = (0.5, 1.5);
    let v = random_direction(&(x, y), 1);
    let w = 0.75;
    let (_, jv) = uses_lopsided_jvp(x, y, v.0, v.1);
    let vjp_w = uses_lopsided_vjp(x, y).1(w);
    let report = dot_product_test(&v, &jv, &w, &vjp_w);
    assert!(!report.passed(), "{report}");
    close("⟨J v, w⟩", report.lhs, (2.0 * v.0 * y + x * v.1) * w, TOL);
    close("⟨v, Jᵀ w⟩", report.rhs, (3.0 * v.0 * y + x * v.1) * w, TOL);
}

// ---------------------------------------------------------------------------------------------
// Inactive and constant arguments
// ---------------------------------------------------------------------------------------------

/// xᵏ + k·x: `k` is inactive, passed through.
#[differentiate]
fn power_sum(x: f64, k: usize) -> f64 {
    x.powi(k as i32) + k as f64 * x
}

/// A plain function of inactive values.
fn plain_weight(k: usize) -> f64 {
    2.0 / (k as f64 + 2.0)
}

/// Inactive arguments of every kind, passed on and used in conditions.
#[differentiate]
fn with_inactive(x: f64, k: usize, tag: &str, on: bool, c: char) -> f64 {
    let w = plain_weight(k);
    let extra = if on && c == 'x' {
        tag.len() as f64
    } else {
        1.0
    };
    power_sum(x, k) * w + power_sum(x * 2.0, k + 1) * extra
}

const HALF_PI: f64 = std::f64::consts::FRAC_PI_2;

/// Constant float arguments of every kind in the slot of a differentiated parameter.
#[differentiate]
fn with_constants(x: f64) -> f64 {
    mid(x, 1.5) + mid(std::f64::consts::E, x) + mid(x, HALF_PI) + mid(x, plain_weight(3))
}

#[test]
fn inactive_and_constant_arguments() {
    // d/dx (xᵏ + kx) = k·xᵏ⁻¹ + k
    let dpower = |x: f64, k: usize| {
        let k = k as f64;
        (if k == 0.0 { 0.0 } else { k * x.powf(k - 1.0) }) + k
    };
    for x in [-0.8f64, 0.6, 1.4] {
        for k in [0usize, 1, 3] {
            for (tag, on, c) in [("four", true, 'x'), ("four", false, 'x'), ("ab", true, 'y')] {
                let extra = if on && c == 'x' { 4.0 } else { 1.0 };
                let df = dpower(x, k) * plain_weight(k) + dpower(2.0 * x, k + 1) * 2.0 * extra;
                let pairs = forward(format!("with inactive {k} {tag} {on} {c}")).one(
                    x,
                    |x| with_inactive(x, k, tag, on, c),
                    |x, dx| with_inactive_jvp(x, k, tag, on, c, dx),
                    |x| with_inactive_vjp(x, k, tag, on, c),
                );
                tangents_are("with inactive", &pairs, df, TOL);
            }
        }
        // ∂m/∂x at (x, c) for each constant c, plus ∂m/∂y at (e, x).
        let dm = |x: f64, y: f64| {
            (
                3.0 / (x - y).cosh().powi(2) * y + 1.0,
                -3.0 / (x - y).cosh().powi(2) * y + leaf(x - y),
            )
        };
        let e = std::f64::consts::E;
        let df = dm(x, 1.5).0 + dm(e, x).1 + dm(x, HALF_PI).0 + dm(x, plain_weight(3)).0;
        let pairs = forward("with constants").one(
            x,
            with_constants,
            with_constants_jvp,
            with_constants_vjp,
        );
        tangents_are("with constants", &pairs, df, TOL);
    }
}

/// Seven arguments of mixed kinds (scalars, a slice, an array, integers), each float one
/// weighted differently so that a tangent passed to the wrong argument changes the result.
#[differentiate]
fn mixed_args(a: f64, xs: &[f64], k: usize, u: &Array1<f64>, b: f64, idx: &[usize], c: f64) -> f64 {
    let mut s = a + b * 2.0 + c.sin() * 3.0;
    for (i, v) in xs.iter().enumerate() {
        s += v * v * (i + 4) as f64;
    }
    s * (k + idx.len()) as f64 + u.dot(u) * a
}

/// Calls of [`mixed_args`] with computed, constant and passed-through arguments.
#[differentiate]
fn calls_mixed(x: f64, v: &[f64], u: &Array1<f64>, idx: &[usize]) -> f64 {
    mixed_args(x * 2.0, v, 3, u, x.sin(), idx, 1.5) + mixed_args(0.5, v, 1, u, x, idx, x * x)
}

#[test]
fn calls_with_many_mixed_arguments() {
    let idx = [2usize, 0];
    for x in [-0.6, 1.1] {
        forward(format!("calls mixed at {x}")).check(
            &(x, vec![0.5, -1.5, 2.0], array![0.3, -0.7]),
            |p| calls_mixed(p.0, &p.1, &p.2, &idx),
            |p, v| calls_mixed_jvp(p.0, &p.1, &p.2, &idx, v.0, &v.1, &v.2),
            |p, w| {
                let (value, pullback) = calls_mixed_vjp(p.0, &p.1, &p.2, &idx);
                (value, pullback(w))
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Tuples
// ---------------------------------------------------------------------------------------------

/// Cartesian to polar: (r, θ) = (√(x² + y²), atan2(y, x)).
#[differentiate]
fn to_polar(x: f64, y: f64) -> (f64, f64) {
    (x.hypot(y), y.atan2(x))
}

/// A nested tuple result.
#[differentiate]
fn nested_out(x: f64, y: f64) -> ((f64, f64), f64) {
    let inner = (x * y, y.exp());
    (inner, x / y)
}

/// Destructuring a call's tuple result and tuple expressions, `_`, `.0` of a call.
#[differentiate]
fn unpack(x: f64, y: f64) -> f64 {
    let (r, t) = to_polar(x, y);
    let ((a, _), b) = ((r * t, r), t.sin());
    let pair = (a, b);
    pair.0 * pair.1 + to_polar(y, x).0
}

/// An early return of a tuple.
#[differentiate]
fn ordered(x: f64, y: f64) -> (f64, f64) {
    if x < y {
        return (y - x, x * y);
    }
    (x - y, x + y)
}

#[test]
fn tuple_values_and_results() {
    for (x, y) in [(3.0f64, 4.0f64), (-1.0, 0.5), (0.3, -2.0)] {
        // d(r, θ) = ((x dx + y dy)/r, (x dy − y dx)/r²)
        let r = x.hypot(y);
        let pairs = forward("to polar").two((x, y), to_polar, to_polar_jvp, to_polar_vjp);
        for ((dx, dy), (dr, dt)) in pairs {
            close("to polar r", dr, (x * dx + y * dy) / r, TOL);
            close("to polar θ", dt, (x * dy - y * dx) / (r * r), TOL);
        }
        // d((xy, eʸ), x/y) = ((y dx + x dy, eʸ dy), dx/y − x dy/y²)
        let pairs = forward("nested out").two((x, y), nested_out, nested_out_jvp, nested_out_vjp);
        for ((dx, dy), ((t0, t1), t2)) in pairs {
            close("nested out", t0, y * dx + x * dy, TOL);
            close("nested out", t1, y.exp() * dy, TOL);
            close("nested out", t2, dx / y - x * dy / (y * y), TOL);
        }
        forward("unpack").two((x, y), unpack, unpack_jvp, unpack_vjp);
        // x < y: (y − x, xy); otherwise (x − y, x + y).
        let pairs = forward("ordered").two((x, y), ordered, ordered_jvp, ordered_vjp);
        for ((dx, dy), (t0, t1)) in pairs {
            let expected = if x < y {
                (dy - dx, y * dx + x * dy)
            } else {
                (dx - dy, dx + dy)
            };
            close("ordered", t0, expected.0, TOL);
            close("ordered", t1, expected.1, TOL);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// wrt(..), macros, calls in corner positions
// ---------------------------------------------------------------------------------------------

/// f = a·b² + c·cos b, differentiated with respect to b only: one tangent.
#[differentiate(wrt(b))]
fn only_b(a: f64, b: f64, c: f64) -> f64 {
    a * b * b + c * b.cos()
}

/// The same function with `wrt(c, a)`: tangents for a then c, in declaration order.
#[differentiate(wrt(c, a))]
fn c_then_a(a: f64, b: f64, c: f64) -> f64 {
    a * b * b + c * b.cos()
}

/// Macros run as written, as side effects on inactive values.
#[differentiate]
fn noisy(x: f64, n: usize) -> f64 {
    let y = x.exp();
    println!("noisy: x = {x}, y = {y}, n = {n}");
    assert!(y > 0.0, "an exponential is positive");
    debug_assert!(x.is_finite());
    let label = format!("{n:02}");
    assert_eq!(label.len(), 2);
    y * x - n as f64
}

/// Call arguments that are `if` expressions and blocks; a call whose result only feeds a
/// condition; a call whose result is discarded.
#[differentiate]
fn odd_calls(x: f64) -> f64 {
    let _ = cube(x);
    let a = leaf(if x > 0.0 { x } else { x * x });
    let b = cube({
        let t = x - 1.0;
        t * 0.5
    });
    if leaf(x) > 0.5 { a * b } else { a - b }
}

#[test]
fn wrt_macros_and_corner_positions() {
    for (a, b, c) in [(1.0, 2.0, 3.0), (-0.5, 0.7, 4.0)] {
        // ∂a = b², ∂b = 2ab − c·sin b, ∂c = cos b
        let pairs = forward("wrt(b)").one(
            b,
            |b| only_b(a, b, c),
            |b, db| only_b_jvp(a, b, c, db),
            |b| only_b_vjp(a, b, c),
        );
        tangents_are("wrt(b)", &pairs, 2.0 * a * b - c * b.sin(), TOL);
        let pairs = forward("wrt(c, a)").two(
            (a, c),
            |a, c| c_then_a(a, b, c),
            |a, c, da, dc| c_then_a_jvp(a, b, c, da, dc),
            |a, c| c_then_a_vjp(a, b, c),
        );
        tangents_are2("wrt(c, a)", &pairs, (b * b, b.cos()), TOL);
    }
    for x in [-1.5f64, -0.5, 0.3, 2.0] {
        // d/dx (x·eˣ − n) = eˣ(1 + x)
        let pairs = forward("noisy").one(
            x,
            |x| noisy(x, 4),
            |x, dx| noisy_jvp(x, 4, dx),
            |x| noisy_vjp(x, 4),
        );
        tangents_are("noisy", &pairs, x.exp() * (1.0 + x), TOL);
        // a = ℓ(x) or ℓ(x²), b = ((x − 1)/2)³; a·b where ℓ(x) > ½, else a − b.
        let dl = |u: f64| 3.0 / u.cosh().powi(2);
        let (a, da) = if x > 0.0 {
            (leaf(x), dl(x))
        } else {
            (leaf(x * x), dl(x * x) * 2.0 * x)
        };
        let (b, db) = (((x - 1.0) * 0.5).powi(3), 1.5 * ((x - 1.0) * 0.5).powi(2));
        let df = if leaf(x) > 0.5 {
            da * b + a * db
        } else {
            da - db
        };
        let pairs = forward("odd calls").one(x, odd_calls, odd_calls_jvp, odd_calls_vjp);
        tangents_are(&format!("odd calls x = {x}"), &pairs, df, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Methods, associated functions, parameter structs
// ---------------------------------------------------------------------------------------------

/// An affine map with methods on `&self` and `self`, and associated functions.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Affine {
    a: f64,
    b: f64,
}

impl Affine {
    /// (a·x + b − y)²: tangents for `self` (an `Affine`), x and y.
    #[differentiate]
    fn residual(&self, x: f64, y: f64) -> f64 {
        let r = self.a * x + self.b - y;
        r * r
    }

    /// a·x + b, with respect to x only.
    #[differentiate(wrt(x))]
    fn eval(&self, x: f64) -> f64 {
        self.a * x + self.b
    }

    /// e^{a·s}·b, taking `self` by value.
    #[differentiate]
    fn grown(self, s: f64) -> f64 {
        (self.a * s).exp() * self.b
    }

    #[differentiate]
    fn square(x: f64) -> f64 {
        x * x
    }

    /// x² − y²·x through `Self::square`.
    #[differentiate]
    fn saddle(x: f64, y: f64) -> f64 {
        Self::square(x) - Self::square(y) * x
    }
}

#[test]
fn methods_and_associated_functions() {
    let p = Affine { a: 2.0, b: -0.5 };
    for (x, y) in [(3.0, 5.0), (-1.0, 0.25)] {
        // r = ax + b − y: ∂(a, b) = 2r(x, 1), ∂x = 2ra, ∂y = −2r.
        let r = p.a * x + p.b - y;
        let pairs = forward("residual").check(
            &(p.clone(), x, y),
            |q| q.0.residual(q.1, q.2),
            |q, v| q.0.residual_jvp(q.1, q.2, &v.0, v.1, v.2),
            |q, w| {
                let (value, pullback) = q.0.residual_vjp(q.1, q.2);
                (value, pullback(w))
            },
        );
        for ((dp, dx, dy), t) in pairs {
            let expected = 2.0 * r * (x * dp.a + dp.b) + 2.0 * r * p.a * dx - 2.0 * r * dy;
            close("residual", t, expected, TOL);
        }
        let pairs = forward("eval").one(
            x,
            |x| p.eval(x),
            |x, dx| p.eval_jvp(x, dx),
            |x| p.eval_vjp(x),
        );
        tangents_are("eval", &pairs, p.a, TOL);
        // d(e^{as}·b) = e^{as}·(b·s·da + db + a·b·ds)
        let s = 0.3 * x;
        let pairs = forward("grown").check(
            &(p.clone(), s),
            |q| q.0.clone().grown(q.1),
            |q, v| q.0.clone().grown_jvp(q.1, v.0.clone(), v.1),
            |q, w| {
                let (value, pullback) = q.0.clone().grown_vjp(q.1);
                (value, pullback(w))
            },
        );
        for ((dp, ds), t) in pairs {
            let e = (p.a * s).exp();
            close(
                "grown",
                t,
                e * (p.b * s * dp.a + dp.b + p.a * p.b * ds),
                TOL,
            );
        }
        // ∇(x² − y²x) = (2x − y², −2xy)
        let pairs = forward("saddle").two(
            (x, y),
            Affine::saddle,
            Affine::saddle_jvp,
            Affine::saddle_vjp,
        );
        tangents_are2("saddle", &pairs, (2.0 * x - y * y, -2.0 * x * y), TOL);
    }
}

/// A parameter struct with a hand-written `Differentiable` and `Primal`.
#[derive(Clone, Debug, PartialEq)]
struct Pair {
    u: f64,
    v: f64,
}

impl Differentiable for Pair {
    type Scalar = f64;
    fn zero_like(&self) -> Self {
        Pair { u: 0.0, v: 0.0 }
    }
    fn add_assign(&mut self, o: &Self) {
        self.u += o.u;
        self.v += o.v;
    }
    fn scale(&mut self, s: f64) {
        self.u *= s;
        self.v *= s;
    }
    fn inner(&self, o: &Self) -> f64 {
        self.u * o.u + self.v * o.v
    }
    fn num_scalars(&self) -> usize {
        2
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[f64])) {
        f(&[self.u, self.v]);
    }
    fn zip_leaves_mut(
        &mut self,
        o: &Self,
        f: &mut autodiff_runtime::differentiable::LeafZip<'_, f64>,
    ) {
        let mut leaf = [self.u, self.v];
        f(&mut leaf, &[o.u, o.v]);
        [self.u, self.v] = leaf;
    }
}

impl Primal for Pair {
    type Tangent = Pair;
    fn zero_tangent(&self) -> Pair {
        self.zero_like()
    }
}

/// y² + u with y = u·sin x + v.
#[differentiate]
fn pair_energy(p: &Pair, x: f64) -> f64 {
    let y = p.u * x.sin() + p.v;
    y * y + p.u
}

/// Nested derived parameter structs.
#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Inner {
    k: f64,
    m: f64,
}

#[derive(Clone, Debug, PartialEq, Differentiable)]
struct Outer {
    inner: Inner,
    scale: f64,
}

/// k·x² + m·s + eˢ·x, reading nested fields.
#[differentiate]
fn nested_fields(p: &Outer, x: f64) -> f64 {
    p.inner.k * x * x + p.inner.m * p.scale + p.scale.exp() * x
}

#[test]
fn parameter_structs() {
    let p = Pair { u: 2.0, v: 1.0 };
    for x in [0.4f64, -1.1] {
        // y = u sin x + v: dy = sin x·du + dv + u cos x·dx; df = 2y·dy + du.
        let y = p.u * x.sin() + p.v;
        let pairs = forward("pair energy").check(
            &(p.clone(), x),
            |q| pair_energy(&q.0, q.1),
            |q, v| pair_energy_jvp(&q.0, q.1, &v.0, v.1),
            |q, w| {
                let (value, pullback) = pair_energy_vjp(&q.0, q.1);
                (value, pullback(w))
            },
        );
        for ((dp, dx), t) in pairs {
            let dy = x.sin() * dp.u + dp.v + p.u * x.cos() * dx;
            close("pair energy", t, 2.0 * y * dy + dp.u, TOL);
        }
    }
    let q = Outer {
        inner: Inner { k: 0.5, m: -2.0 },
        scale: 0.3,
    };
    for x in [0.4, -1.1] {
        let pairs = forward("nested fields").check(
            &(q.clone(), x),
            |r| nested_fields(&r.0, r.1),
            |r, v| nested_fields_jvp(&r.0, r.1, &v.0, v.1),
            |r, w| {
                let (value, pullback) = nested_fields_vjp(&r.0, r.1);
                (value, pullback(w))
            },
        );
        for ((dq, dx), t) in pairs {
            // x²·dk + s·dm + (m + eˢx)·ds + (2kx + eˢ)·dx
            let es = q.scale.exp();
            let expected = x * x * dq.inner.k
                + q.scale * dq.inner.m
                + (q.inner.m + es * x) * dq.scale
                + (2.0 * q.inner.k * x + es) * dx;
            close("nested fields", t, expected, TOL);
        }
    }
}
