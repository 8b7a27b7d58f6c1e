//! Forward mode (`f_jvp`) of every float method `#[differentiate]` supports and of every scalar
//! construct of straight-line code: operators, literals, constants, casts, `f32`, bindings.
//!
//! Each function is checked at several points along seeded random directions `v` (see
//! `common::forward`): the tangent against central differences of the function along `v`, against
//! the pullback of `f_vjp` by the dot-product test `⟨J v, w⟩ = ⟨v, Jᵀ w⟩`, and against the analytic
//! directional derivative `f'(x)·v` (stated next to each case); the value `f_jvp` returns is the
//! function's, bit for bit.
//!
//! Tolerances: f64 analytic `TOL = 1e-12` (absolute up to 1, relative above); f32 analytic
//! `F32_TOL = 64·ε_f32`, against the exact derivative in f64 at the same f32 point (the argument
//! of `tests/scalar_rules.rs`); finite differences with `autodiff::check`'s defaults for the
//! coarser scalar type. Points stay farther than the step from every kink and domain boundary,
//! except the kinks themselves, where the tangent is compared with the documented convention and
//! with the pullback only.

// Forms the macro must accept and clippy would rewrite: `as f64` on an f64 and on a literal,
// `a = a - x`, `let b; b = ..`, `.max(1).min(4)` on an integer.
#![allow(
    clippy::unnecessary_cast,
    clippy::assign_op_pattern,
    clippy::needless_late_init,
    clippy::manual_clamp
)]

use autodiff::check::{DotReport, Tolerance};
use autodiff::differentiate;

mod common;
use common::*;

const F32_TOL: f64 = 64.0 * f32::EPSILON as f64;

/// Each tangent of an f32 function is `df(x)·v` (the derivative in f64 at the same point).
#[track_caller]
fn tangents_are32(what: &str, pairs: &[(f32, f32)], df: f64) {
    for &(v, jv) in pairs {
        close(
            &format!("{what}, v = {v}"),
            jv as f64,
            df * v as f64,
            F32_TOL,
        );
    }
}

type Grad3 = (f64, f64, f64);

/// Each tangent of a function of three scalars is `⟨∇f, v⟩`.
#[track_caller]
fn tangents_are3(what: &str, pairs: &[(Grad3, f64)], grad: Grad3, tol: f64) {
    for &(v, jv) in pairs {
        close(
            &format!("{what}, v = {v:?}"),
            jv,
            grad.0 * v.0 + grad.1 * v.1 + grad.2 * v.2,
            tol,
        );
    }
}

/// One module per unary method: `x.m()` and `f64::m(y)` side by side in one function with a
/// tuple result, in f64 and in f32, with the analytic derivative, checked at the given points.
macro_rules! unary_rule {
    ($m:ident, |$x:ident| $derivative:expr, [$($p:expr),* $(,)?]) => {
        mod $m {
            use super::*;

            #[differentiate]
            pub fn both(x: f64, y: f64) -> (f64, f64) {
                (x.$m(), f64::$m(y))
            }

            #[differentiate]
            pub fn both32(x: f32, y: f32) -> (f32, f32) {
                (x.$m(), f32::$m(y))
            }

            /// The analytic derivative.
            fn derivative($x: f64) -> f64 {
                $derivative
            }

            #[test]
            fn rule() {
                for x in [$($p),*] {
                    // The tangent of (f(x), f(y)) along (vx, vy) is (f'(x)·vx, f'(y)·vy).
                    let what = format!("{} at {x}", stringify!($m));
                    let df = derivative(x);
                    for ((vx, vy), (tx, ty)) in forward(&what).two((x, x), both, both_jvp, both_vjp) {
                        close(&format!("{what}, method"), tx, df * vx, TOL);
                        close(&format!("{what}, path"), ty, df * vy, TOL);
                    }
                    let x32 = x as f32;
                    let df32 = derivative(x32 as f64);
                    let what = format!("{what} (f32)");
                    for ((vx, vy), (tx, ty)) in
                        forward(&what).two((x32, x32), both32, both32_jvp, both32_vjp)
                    {
                        close(&format!("{what}, method"), tx as f64, df32 * vx as f64, F32_TOL);
                        close(&format!("{what}, path"), ty as f64, df32 * vy as f64, F32_TOL);
                    }
                }
            }
        }
    };
}

unary_methods!(unary_rule);

#[test]
fn abs_at_its_kink_has_tangent_zero() {
    // The convention: d|x|/dx at 0 is 0 (the minimum-norm Clarke gradient), in forward mode as
    // in reverse mode: the tangent is 0 along every direction.
    for x in [0.0, -0.0] {
        let pairs =
            forward("abs at 0")
                .at_kink()
                .two((x, x), abs::both, abs::both_jvp, abs::both_vjp);
        assert!(pairs.iter().all(|&(_, t)| t == (0.0, 0.0)), "{pairs:?}");
        let pairs = forward("abs at 0, f32").at_kink().two(
            (x as f32, x as f32),
            abs::both32,
            abs::both32_jvp,
            abs::both32_vjp,
        );
        assert!(pairs.iter().all(|&(_, t)| t == (0.0, 0.0)), "{pairs:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rules with more than one operand: one module per method, with the method and path forms in
// f64 and the method in f32.
// ---------------------------------------------------------------------------------------------

macro_rules! binary_fns {
    ($($m:ident),*) => {$(
        mod $m {
            use autodiff::differentiate;

            #[differentiate]
            pub fn method(x: f64, a: f64) -> f64 {
                x.$m(a)
            }

            #[differentiate]
            pub fn path(x: f64, a: f64) -> f64 {
                f64::$m(x, a)
            }

            #[differentiate]
            pub fn method32(x: f32, a: f32) -> f32 {
                x.$m(a)
            }
        }
    )*};
}

binary_fns!(log, powf, atan2, hypot, max, min);

/// The checks of `forward` for the three forms of a binary method at every point, and each
/// tangent is `⟨∇f, v⟩` with `gradient` the analytic gradient (in f32 to `F32_TOL`, from the
/// exact gradient at the same f32 point).
macro_rules! binary_rule {
    ($m:ident, $gradient:expr, $points:expr) => {{
        let gradient: fn(f64, f64) -> Grad2 = $gradient;
        for (a, b) in $points {
            let what = |s: &str| format!("{} ({s}) at ({a}, {b})", stringify!($m));
            let g = gradient(a, b);
            let pairs =
                forward(what("method")).two((a, b), $m::method, $m::method_jvp, $m::method_vjp);
            tangents_are2(&what("method"), &pairs, g, TOL);
            let pairs = forward(what("path")).two((a, b), $m::path, $m::path_jvp, $m::path_vjp);
            tangents_are2(&what("path"), &pairs, g, TOL);
            let (a32, b32) = (a as f32, b as f32);
            let g32 = gradient(a32 as f64, b32 as f64);
            let pairs = forward(what("f32")).two(
                (a32, b32),
                $m::method32,
                $m::method32_jvp,
                $m::method32_vjp,
            );
            for ((va, vb), jv) in pairs {
                let expected = g32.0 * va as f64 + g32.1 * vb as f64;
                close(&what("f32"), jv as f64, expected, F32_TOL);
            }
        }
    }};
}

#[differentiate]
fn log_base3(x: f64) -> f64 {
    x.log(3.0)
}

#[differentiate]
fn powf_const_base(x: f64) -> f64 {
    2.0f64.powf(x)
}

#[test]
fn log_powf_atan2_hypot() {
    // log_b x = ln x / ln b: ∂x = 1/(x·ln b), ∂b = −ln x/(b·ln² b).
    binary_rule!(
        log,
        |x, b| (1.0 / (x * b.ln()), -x.ln() / (b * b.ln() * b.ln())),
        [(2.0, 3.0), (0.5, 10.0), (7.0, 0.5), (1.0, 2.0)]
    );
    // ∂/∂x xᵖ = p·xᵖ⁻¹, ∂/∂p xᵖ = xᵖ·ln x.
    binary_rule!(
        powf,
        |x, p| (p * x.powf(p - 1.0), x.powf(p) * x.ln()),
        [(2.0, 0.5), (0.7, -1.3), (3.0, 2.0), (1.5, 0.0)]
    );
    // θ = atan2(y, x): ∂y = x/(x² + y²), ∂x = −y/(x² + y²).
    binary_rule!(
        atan2,
        |y, x| (x / (x * x + y * y), -y / (x * x + y * y)),
        [(1.0, 2.0), (-1.0, -0.5), (0.3, -2.0), (-4.0, 0.1)]
    );
    // h = √(x² + a²): ∂x = x/h, ∂a = a/h.
    binary_rule!(
        hypot,
        |x, a| (x / x.hypot(a), a / x.hypot(a)),
        [(3.0, 4.0), (-1.0, 0.5), (0.1, 2.0), (-2.0, -2.0)]
    );
    // Constant second operands: d/dx log₃ x = 1/(x·ln 3), d/dx 2ˣ = 2ˣ·ln 2.
    for x in [0.3, 1.0, 9.0] {
        let pairs = forward("log base 3").one(x, log_base3, log_base3_jvp, log_base3_vjp);
        tangents_are("log base 3", &pairs, 1.0 / (x * 3f64.ln()), TOL);
        let pairs =
            forward("2^x").one(x, powf_const_base, powf_const_base_jvp, powf_const_base_vjp);
        tangents_are("2^x", &pairs, 2f64.powf(x) * 2f64.ln(), TOL);
    }
    // The origin: hypot's and atan2's partials are 0 by convention, so is every tangent.
    assert_eq!(hypot::method_jvp(0.0, 0.0, 0.3, -0.7), (0.0, 0.0));
    assert_eq!(atan2::method_jvp(0.0, 0.0, 0.3, -0.7), (0.0, 0.0));
}

#[test]
fn max_and_min() {
    // Away from ties: the larger (smaller) argument's tangent.
    let points = [(1.0, 2.0), (3.0, -1.0)];
    binary_rule!(
        max,
        |x, a| if x > a { (1.0, 0.0) } else { (0.0, 1.0) },
        points
    );
    binary_rule!(
        min,
        |x, a| if x < a { (1.0, 0.0) } else { (0.0, 1.0) },
        points
    );
    for t in [2.0, -0.5] {
        // A tie: each argument gets half (the documented convention), so the tangent is the
        // mean of the two tangents, in forward mode as in reverse mode.
        let pairs =
            forward("max tie")
                .at_kink()
                .two((t, t), max::method, max::method_jvp, max::method_vjp);
        tangents_are2("max tie", &pairs, (0.5, 0.5), 0.0);
        let pairs =
            forward("min tie")
                .at_kink()
                .two((t, t), min::method, min::method_jvp, min::method_vjp);
        tangents_are2("min tie", &pairs, (0.5, 0.5), 0.0);
    }
}

/// `powi` with a literal, a negative literal (path form) and a variable exponent, in one
/// function with a tuple result.
#[differentiate]
fn powis(x: f64, y: f64, n: i32) -> (f64, f64, f64) {
    (x.powi(3), f64::powi(y, -2), x.powi(n))
}

/// In f32: xⁿ + x².
#[differentiate]
fn powi32(x: f32, n: i32) -> f32 {
    x.powi(n) + x.powi(2)
}

#[test]
fn powi() {
    for (x, y) in [(-1.5, 0.5), (0.5, 2.0), (2.0, -1.5)] {
        for n in [-3, 0, 1, 2, 5] {
            // d/dx xⁿ = n·xⁿ⁻¹: the tangent is (3x²·vx, −2y⁻³·vy, n·xⁿ⁻¹·vx).
            let what = format!("powi n = {n} at ({x}, {y})");
            let pairs = forward(&what).two(
                (x, y),
                |x, y| powis(x, y, n),
                |x, y, dx, dy| powis_jvp(x, y, n, dx, dy),
                |x, y| powis_vjp(x, y, n),
            );
            for ((vx, vy), (t3, t2, tn)) in pairs {
                close(&what, t3, 3.0 * x * x * vx, TOL);
                close(&what, t2, -2.0 / (y * y * y) * vy, TOL);
                close(&what, tn, n as f64 * x.powi(n - 1) * vx, TOL);
            }
            let x32 = x as f32;
            let pairs = forward(format!("{what} (f32)")).one(
                x32,
                |x| powi32(x, n),
                |x, dx| powi32_jvp(x, n, dx),
                |x| powi32_vjp(x, n),
            );
            let xd = x32 as f64;
            tangents_are32("powi f32", &pairs, n as f64 * xd.powi(n - 1) + 2.0 * xd);
        }
    }
    // n = 0 at x = 0: the derivative of the constant 1 is 0.
    assert_eq!(
        powis_jvp(0.0, 1.0, 0, 1.0, 0.0),
        ((0.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    );
}

macro_rules! ternary_fns {
    ($($m:ident),*) => {$(
        mod $m {
            use autodiff::differentiate;

            #[differentiate]
            pub fn method(x: f64, a: f64, b: f64) -> f64 {
                x.$m(a, b)
            }

            #[differentiate]
            pub fn path(x: f64, a: f64, b: f64) -> f64 {
                f64::$m(x, a, b)
            }

            #[differentiate]
            pub fn method32(x: f32, a: f32, b: f32) -> f32 {
                x.$m(a, b)
            }
        }
    )*};
}

ternary_fns!(mul_add, clamp);

/// The checks of `forward` (without differences at kinks) for the three forms of a ternary
/// method at every point, and each f64 tangent is `⟨∇f, v⟩`.
macro_rules! ternary_rule {
    ($m:ident, $cases:expr, $kink:expr) => {{
        for (x, g) in $cases {
            let what = |s: &str| format!("{} ({s}) at {x:?}", stringify!($m));
            let check = |s: &str| {
                let c = forward(what(s));
                if $kink { c.at_kink() } else { c }
            };
            let pairs = check("method").three(x, $m::method, $m::method_jvp, $m::method_vjp);
            tangents_are3(&what("method"), &pairs, g, TOL);
            let pairs = check("path").three(x, $m::path, $m::path_jvp, $m::path_vjp);
            tangents_are3(&what("path"), &pairs, g, TOL);
            let x32 = (x.0 as f32, x.1 as f32, x.2 as f32);
            check("f32").three(x32, $m::method32, $m::method32_jvp, $m::method32_vjp);
        }
    }};
}

#[test]
fn mul_add_and_clamp() {
    // x·a + b: ∇ = (a, x, 1).
    ternary_rule!(
        mul_add,
        [(2.0, 3.0, 4.0), (-0.5, 1.5, -2.0), (0.0, 0.0, 0.0)]
            .map(|(x, a, b)| ((x, a, b), (a, x, 1.0))),
        false
    );
    // clamp(x, lo, hi): (1, 0, 0) inside, (0, 1, 0) below, (0, 0, 1) above.
    ternary_rule!(
        clamp,
        [
            ((0.5, -1.0, 1.0), (1.0, 0.0, 0.0)),
            ((-2.0, -1.0, 1.0), (0.0, 1.0, 0.0)),
            ((3.0, -1.0, 1.0), (0.0, 0.0, 1.0)),
        ],
        false
    );
    // At a bound, x and the bound share: (½, ½, 0) at x = lo, (½, 0, ½) at x = hi.
    ternary_rule!(
        clamp,
        [
            ((-1.0, -1.0, 1.0), (0.5, 0.5, 0.0)),
            ((1.0, -1.0, 1.0), (0.5, 0.0, 0.5)),
        ],
        true
    );
}

// ---------------------------------------------------------------------------------------------
// Scalar constructs: casts, constants, literals, operators, bindings.
// ---------------------------------------------------------------------------------------------

/// Widening inside: f = w·sin w with w = x as f64.
#[differentiate]
fn widen(x: f32) -> f64 {
    let w = x as f64;
    w.sin() * w
}

/// Narrowing inside: f = eⁿ + n with n = (x/2) as f32.
#[differentiate]
fn narrow(x: f64) -> f32 {
    let n = (x * 0.5) as f32;
    n.exp() + n
}

/// f = (x + y²)·x with the sum in f32.
#[differentiate]
fn mixed_precision(x: f64, y: f32) -> f64 {
    (x as f32 + y * y) as f64 * x
}

#[differentiate]
fn cast_to_same_type(x: f64) -> f64 {
    (x as f64).powi(2) as f64
}

#[test]
fn as_casts_between_f32_and_f64() {
    for x in [-1.5f32, 0.25, 2.0] {
        // d/dx w·sin w = sin w + w·cos w: an f64 tangent of an f32 input.
        let w = x as f64;
        let pairs = forward("widen").one(x, widen, widen_jvp, widen_vjp);
        for (v, jv) in pairs {
            close("widen", jv, (w.sin() + w * w.cos()) * v as f64, F32_TOL);
        }
    }
    for x in [-1.5, 0.25, 2.0] {
        // d/dx (e^{x/2} + x/2) = (e^{x/2} + 1)/2, an f32 tangent, up to f32 rounding.
        let pairs = forward("narrow").one(x, narrow, narrow_jvp, narrow_vjp);
        for (v, jv) in pairs {
            close(
                "narrow",
                jv as f64,
                ((0.5 * x).exp() + 1.0) * 0.5 * v,
                F32_TOL,
            );
        }
    }
    for (x, y) in [(1.5, -0.5f32), (-2.0, 3.0)] {
        // f = x² + x·y²: df = (2x + y²)·dx + 2xy·dy. The parameters have different scalar types,
        // so each direction is checked on its own.
        let yd = y as f64;
        let (value, d) = mixed_precision_jvp(x, y, 0.5, -0.25);
        assert_eq!(value, mixed_precision(x, y));
        close(
            "mixed",
            d,
            (2.0 * x + yd * yd) * 0.5 - 0.5 * x * yd,
            F32_TOL,
        );
        // Computed partly in f32: the f32 tolerances apply to the f64 parameter too.
        forward("mixed, along x")
            .with(
                Tolerance::default_for::<f32>(),
                DotReport::default_rtol::<f32>(),
            )
            .check(
                &x,
                |x| mixed_precision(*x, y),
                |x, dx| mixed_precision_jvp(*x, y, *dx, 0.0),
                |x, w| {
                    let (v, pullback) = mixed_precision_vjp(*x, y);
                    (v, pullback(w).0)
                },
            );
        forward("mixed, along y").check(
            &y,
            |y| mixed_precision(x, *y),
            |y, dy| mixed_precision_jvp(x, *y, 0.0, *dy),
            |y, w| {
                let (v, pullback) = mixed_precision_vjp(x, *y);
                (v, pullback(w).1)
            },
        );
    }
    // d/dx x² = 2x
    assert_eq!(cast_to_same_type_jvp(0.3, 1.0), (0.09, 0.6));
    let pairs = forward("cast to same type").one(
        0.3,
        cast_to_same_type,
        cast_to_same_type_jvp,
        cast_to_same_type_vjp,
    );
    tangents_are("cast to same type", &pairs, 0.6, TOL);
}

const SHIFT: f64 = 0.75;

#[differentiate]
fn with_consts(x: f64) -> f64 {
    std::f64::consts::LN_2 * x * x - SHIFT * x + core::f64::consts::SQRT_2
}

#[differentiate]
fn consts32(r: f32) -> f32 {
    std::f32::consts::TAU * r + std::f32::consts::E * r * r
}

#[differentiate]
fn literals(x: f64, n: u8) -> f64 {
    let k = 3 as f64;
    k * x * x + 2.5e-1 * x * n as f64 + 7_f64 + (n + 1) as f64 * 1e1 * x
}

#[test]
fn constants_and_literals() {
    for x in [-1.0, 0.5, 3.0] {
        // d/dx (ln 2·x² − 0.75x + √2) = 2 ln 2·x − 0.75
        let pairs = forward("consts").one(x, with_consts, with_consts_jvp, with_consts_vjp);
        tangents_are(
            "consts",
            &pairs,
            2.0 * std::f64::consts::LN_2 * x - SHIFT,
            TOL,
        );
        // d/dr (τr + e·r²) = τ + 2e·r
        let r = x as f32;
        let pairs = forward("consts f32").one(r, consts32, consts32_jvp, consts32_vjp);
        let expected = std::f64::consts::TAU + 2.0 * std::f64::consts::E * r as f64;
        tangents_are32("consts f32", &pairs, expected);
    }
    for (x, n) in [(0.5, 0u8), (-1.5, 1), (2.0, 7)] {
        // d/dx (3x² + 0.25·n·x + 7 + 10(n + 1)·x) = 6x + 0.25n + 10(n + 1)
        let pairs = forward("literals").one(
            x,
            |x| literals(x, n),
            |x, dx| literals_jvp(x, n, dx),
            |x| literals_vjp(x, n),
        );
        let expected = 6.0 * x + 0.25 * n as f64 + 10.0 * (n + 1) as f64;
        tangents_are("literals", &pairs, expected, TOL);
    }
}

/// f = (x − y)·x + sin y + 2x, written with every kind of negation.
#[differentiate]
fn negations(x: f64, y: f64) -> f64 {
    -(x - y) * -x + -(-y).sin() - -(x * 2.0)
}

/// f = u/w with u = x − y(x + 1), w = y − 2.
#[differentiate]
fn nested_parentheses(x: f64, y: f64) -> f64 {
    (x - (y * (x + 1.0))) / ((y) - (2.0))
}

/// f = (xy − x² + 1)/x = y − x + 1/x, through every compound assignment.
#[differentiate]
fn compound_ops(x: f64, y: f64) -> f64 {
    let mut s = y;
    s *= x;
    s -= x * x;
    s += 1.0;
    s /= x;
    s
}

#[test]
fn operators() {
    for (x, y) in [(0.5, 3.0), (-1.5, 0.25), (2.0, -3.0)] {
        // ∇ = (2x − y + 2, −x + cos y)
        let pairs = forward("negations").two((x, y), negations, negations_jvp, negations_vjp);
        tangents_are2("negations", &pairs, (2.0 * x - y + 2.0, -x + y.cos()), TOL);

        // ∇ = ((1 − y)/w, (−(x + 1)·w − u)/w²)
        let (u, w) = (x - y * (x + 1.0), y - 2.0);
        let g = ((1.0 - y) / w, (-(x + 1.0) * w - u) / (w * w));
        let pairs = forward("parentheses").two(
            (x, y),
            nested_parentheses,
            nested_parentheses_jvp,
            nested_parentheses_vjp,
        );
        tangents_are2("parentheses", &pairs, g, TOL);

        // ∇ = (−1 − 1/x², 1)
        let pairs =
            forward("compound").two((x, y), compound_ops, compound_ops_jvp, compound_ops_vjp);
        tangents_are2("compound", &pairs, (-1.0 - 1.0 / (x * x), 1.0), TOL);
    }
}

/// f = 3·ln((x + 1)²) = 6·ln(x + 1), through shadowed bindings.
#[differentiate]
fn shadow(x: f64) -> f64 {
    let x = x + 1.0;
    let y = x * x;
    let x = y.ln();
    x * 3.0
}

/// f = (eˣ − x)² + x, through reassignments and a deferred `let`.
#[differentiate]
fn reassign(x: f64) -> f64 {
    let mut a = x.exp();
    a = a - x;
    let b;
    b = a * a;
    let mut c: f64 = b;
    c = c + x;
    c
}

/// f = b·a with a = x + y, b = a·x − y (from a block expression); unused bindings beside.
#[differentiate]
fn lets(x: f64, y: f64) -> f64 {
    let a: f64 = x + y;
    let b = {
        let t = a * x;
        t - y
    };
    let _ = x.sin();
    let _ignored: f64 = y.cos();
    b * a
}

/// f = x² + (y − x)·2k, with `mut` parameters reassigned.
#[differentiate]
fn mut_params(mut x: f64, mut y: f64, mut k: i32) -> f64 {
    y -= x;
    x = x * x;
    k *= 2;
    x + y * k as f64
}

#[test]
fn bindings() {
    for x in [-0.5, 0.3, 2.0] {
        let pairs = forward("shadow").one(x, shadow, shadow_jvp, shadow_vjp);
        tangents_are("shadow", &pairs, 6.0 / (x + 1.0), TOL);
        // f' = 2(eˣ − x)(eˣ − 1) + 1
        let pairs = forward("reassign").one(x, reassign, reassign_jvp, reassign_vjp);
        let e = x.exp();
        tangents_are("reassign", &pairs, 2.0 * (e - x) * (e - 1.0) + 1.0, TOL);
    }
    for (x, y) in [(0.5, 2.0), (-0.5, 0.25), (2.0, -3.0)] {
        // ∂x = (2x + y)·a + b, ∂y = (x − 1)·a + b
        let (a, b) = (x + y, (x + y) * x - y);
        let pairs = forward("lets").two((x, y), lets, lets_jvp, lets_vjp);
        tangents_are2(
            "lets",
            &pairs,
            ((2.0 * x + y) * a + b, (x - 1.0) * a + b),
            TOL,
        );
        for k in [0, 3] {
            // ∇ = (2x − 2k, 2k)
            let pairs = forward("mut parameters").two(
                (x, y),
                |x, y| mut_params(x, y, k),
                |x, y, dx, dy| mut_params_jvp(x, y, k, dx, dy),
                |x, y| mut_params_vjp(x, y, k),
            );
            let k = k as f64;
            tangents_are2("mut parameters", &pairs, (2.0 * x - 2.0 * k, 2.0 * k), TOL);
        }
    }
}

/// f = x³ + 2/x − x: operands used twice by one operation, `max` of a value with itself.
#[differentiate]
fn operand_twice(x: f64) -> f64 {
    x * x * x + (x + x) / (x * x) - x.max(x)
}

/// Long method chains beside operators.
#[differentiate]
fn chains(x: f64) -> f64 {
    x.exp().ln_1p().sqrt() * x.cos().powi(2) - (x * x).sin().abs()
}

/// Integer methods named like float ones, on inactive integers, beside float ones.
#[differentiate]
fn inactive_integer_methods(x: f64, n: i64, k: usize) -> f64 {
    let m = n.abs().max(1).min(4);
    let p = k.saturating_sub(2).pow(2);
    let q = i64::signum(n);
    x * m as f64 + (p as f64) * x * x + q as f64 * x.sin() + f64::from(k as u32) * x
}

/// A discrete value computed from an active one as a loop bound and a condition.
#[differentiate]
fn discrete(x: f64) -> f64 {
    let k = (x * 2.0).round() as i32;
    let big = x.abs() > 1.0;
    let mut s = x;
    for _ in 0..k.abs() {
        s = s * 0.5 + x;
    }
    if big { s * s } else { s }
}

#[test]
fn corner_cases() {
    for x in [-2.0, 0.5, 3.0] {
        // f' = 3x² − 2/x² − 1 (the tie of max(x, x) gives ½ + ½)
        let pairs =
            forward("operand twice").one(x, operand_twice, operand_twice_jvp, operand_twice_vjp);
        tangents_are(
            "operand twice",
            &pairs,
            3.0 * x * x - 2.0 / (x * x) - 1.0,
            TOL,
        );
        // No closed form written out: differences, the pullback and the value.
        forward("chains").one(x, chains, chains_jvp, chains_vjp);
    }
    for (n, k) in [(-7i64, 0usize), (2, 3), (0, 9)] {
        for x in [0.5f64, 2.0] {
            // f' = m + 2p·x + q·cos x + k
            let m = n.abs().clamp(1, 4) as f64;
            let p = (k.saturating_sub(2) * k.saturating_sub(2)) as f64;
            let expected = m + 2.0 * p * x + n.signum() as f64 * x.cos() + k as f64;
            let pairs = forward("integer methods").one(
                x,
                |x| inactive_integer_methods(x, n, k),
                |x, dx| inactive_integer_methods_jvp(x, n, k, dx),
                |x| inactive_integer_methods_vjp(x, n, k),
            );
            tangents_are("integer methods", &pairs, expected, TOL);
        }
    }
    for x in [-2.3f64, -0.6, 0.1, 0.9, 1.6] {
        // The chain rule carried forward by hand: s' ← s'/2 + 1, then (s²)' = 2s·s' if |x| > 1.
        let (mut s, mut ds) = (x, 1.0);
        for _ in 0..((x * 2.0).round() as i32).abs() {
            (s, ds) = (s * 0.5 + x, ds * 0.5 + 1.0);
        }
        let expected = if x.abs() > 1.0 { 2.0 * s * ds } else { ds };
        let pairs = forward("discrete").one(x, discrete, discrete_jvp, discrete_vjp);
        tangents_are(&format!("discrete at {x}"), &pairs, expected, TOL);
    }
}

/// f32 through a `while` loop and a branch.
#[differentiate]
fn f32_loop(x: f32, n: u32) -> f32 {
    let mut s = x;
    let mut i = 0;
    while i < n {
        if s > 2.0 {
            s = s.ln() + x;
        } else {
            s = s * x + 0.5;
        }
        i += 1;
    }
    s
}

#[test]
fn f32_through_loops_and_branches() {
    for x in [0.5f32, 1.5, 2.5] {
        for n in [0u32, 1, 6] {
            // The chain rule carried forward by hand, in f64 from the same f32 point.
            let xd = x as f64;
            let (mut s, mut ds) = (xd, 1.0f64);
            for _ in 0..n {
                if s > 2.0 {
                    (s, ds) = (s.ln() + xd, ds / s + 1.0);
                } else {
                    (s, ds) = (s * xd + 0.5, ds * xd + s);
                }
            }
            let pairs = forward("f32 loop").one(
                x,
                |x| f32_loop(x, n),
                |x, dx| f32_loop_jvp(x, n, dx),
                |x| f32_loop_vjp(x, n),
            );
            tangents_are32(&format!("f32 loop n = {n} x = {x}"), &pairs, ds);
        }
    }
}
