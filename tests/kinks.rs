//! Exact derivatives at kinks, `#[differentiate(kinks = exact)]`, against the default mode.
//!
//! The guarantee under test: at a nonsmooth point `x`, `_grad`/`_vjp` (and `_vjp_along` with a
//! caller's direction `v`) return a gradient `g` with `⟨g, v⟩ = f′(x; v)`, the one-sided
//! directional derivative, and `g` is the gradient of the smooth piece that `x + t·v` lies on
//! for small `t > 0`, a limit of nearby gradients (so an element of the Clarke gradient).
//!
//! Each function is written once and compiled in both modes (`exact` and `default` below). The
//! checks are exact statements for piecewise-linear functions:
//!
//! - `f′(x; v)` is measured by the one-sided difference `(f(x + h·v) − f(x))/h`, exact up to
//!   rounding once `h` is below the distance to the next kink (every function here has its
//!   kinks at least `1` apart, in integer arithmetic, and `h·|v| ≤ 2e-5`);
//! - the gradient of the piece entered is the default mode's gradient at `x + h·v`, a
//!   differentiable point of that piece (no kink argument stays at its kink along `v` unless it
//!   does not depend on `x`, where every choice gives the same gradient).

use autodiff::kinks::direction;
use autodiff::{conv, differentiate, nn};
use ndarray::{Array1, Array2, Array4, array};

/// The step of the one-sided differences.
const H: f64 = 1e-5;

/// One-sided differences of a function of slope at most 100 and value at most 1e3: rounding
/// of `f` (≤ 1e3·2⁻⁵²) divided by `H` is below 3e-8.
const FD_TOL: f64 = 1e-7;

/// Analytic comparisons, exact up to a few roundings.
const TOL: f64 = 1e-12;

#[track_caller]
fn close(what: &str, actual: f64, expected: f64, tol: f64) {
    let ok = actual == expected || (actual - expected).abs() <= tol * expected.abs().max(1.0);
    assert!(
        ok,
        "{what}: got {actual:e}, expected {expected:e} (tol {tol:e})"
    );
}

#[track_caller]
fn close_all(what: &str, actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (k, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        close(&format!("{what}[{k}]"), a, e, tol);
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `x + h·v`.
fn step(x: &[f64], v: &[f64], h: f64) -> Vec<f64> {
    x.iter().zip(v).map(|(x, v)| x + h * v).collect()
}

/// The one-sided directional derivative `f′(x; v) ≈ (f(x + H·v) − f(x))/H`.
fn one_sided(f: impl Fn(&[f64]) -> f64, x: &[f64], v: &[f64]) -> f64 {
    (f(&step(x, v, H)) - f(x)) / H
}

/// A reproducible stream of pseudo-random numbers (a 64-bit LCG, top bits).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// An integer in `lo..=hi`, as a float (exact).
    fn int(&mut self, lo: i64, hi: i64) -> f64 {
        (lo + (self.next() % (hi - lo + 1) as u64) as i64) as f64
    }
    /// A uniform float in `[-1, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() as f64 / (1u64 << 31) as f64) - 1.0
    }
    /// A direction: components of both signs, away from 0.
    fn direction(&mut self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let u = self.unit();
                if u < 0.0 { u - 0.1 } else { u + 0.1 }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The lecture ("Failure of AD on ReLUs"): four ways to write the identity.
// ---------------------------------------------------------------------------------------------

/// f₁ = x, f₂ = ReLU(x) − ReLU(−x), f₃ = 10·f₁ − 9·f₂, f₄ = ReLU(ReLU(x)) − ReLU(−x): all the
/// identity, so f′(x) = 1 everywhere, 0 included. Also f₅ = 10·f₁ − 10·f₄ = 0, f₅′ = 0. ReLU is
/// written as `max(x, 0)` (a call of `relu`) and as `nn::relu` (the `_nn` forms).
macro_rules! relu_identities {
    ($($mode:tt)*) => {
        /// ReLU(x) = max{x, 0}.
        #[differentiate($($mode)*)]
        pub fn relu(x: f64) -> f64 {
            x.max(0.0)
        }

        #[differentiate($($mode)*)]
        pub fn f1(x: f64) -> f64 {
            x
        }

        #[differentiate($($mode)*)]
        pub fn f2(x: f64) -> f64 {
            relu(x) - relu(-x)
        }

        #[differentiate($($mode)*)]
        pub fn f3(x: f64) -> f64 {
            10.0 * f1(x) - 9.0 * f2(x)
        }

        #[differentiate($($mode)*)]
        pub fn f4(x: f64) -> f64 {
            relu(relu(x)) - relu(-x)
        }

        #[differentiate($($mode)*)]
        pub fn f5(x: f64) -> f64 {
            10.0 * f1(x) - 10.0 * f4(x)
        }

        #[differentiate($($mode)*)]
        pub fn f2_nn(x: f64) -> f64 {
            nn::relu(&x) - nn::relu(&(-x))
        }

        #[differentiate($($mode)*)]
        pub fn f3_nn(x: f64) -> f64 {
            10.0 * f1(x) - 9.0 * f2_nn(x)
        }

        #[differentiate($($mode)*)]
        pub fn f4_nn(x: f64) -> f64 {
            nn::relu(&nn::relu(&x)) - nn::relu(&(-x))
        }
    };
}

mod exact {
    use super::*;
    relu_identities!(kinks = exact);
}

mod default {
    use super::*;
    relu_identities!();
}

/// `(y, ẏ, x̄)` of a function of one scalar through `_vjp_along`, the cotangent 1.
macro_rules! along1 {
    ($f:path) => {
        |x: f64, v: f64| {
            let (y, dy, pullback) = $f(x, v);
            (y, dy, pullback(1.0))
        }
    };
}

#[test]
fn failure_of_ad_on_relus_lecture_identities_exact_at_zero_along_both_signs() {
    // (name, _vjp_along as (y, ẏ, x̄), _grad, _jvp, f′(0))
    type Along = Box<dyn Fn(f64, f64) -> (f64, f64, f64)>;
    type Case = (&'static str, Along, fn(f64) -> (f64, f64), f64);
    let cases: Vec<Case> = vec![
        (
            "f1",
            Box::new(along1!(exact::f1_vjp_along)),
            exact::f1_grad,
            1.0,
        ),
        (
            "f2",
            Box::new(along1!(exact::f2_vjp_along)),
            exact::f2_grad,
            1.0,
        ),
        (
            "f3",
            Box::new(along1!(exact::f3_vjp_along)),
            exact::f3_grad,
            1.0,
        ),
        (
            "f4",
            Box::new(along1!(exact::f4_vjp_along)),
            exact::f4_grad,
            1.0,
        ),
        (
            "f5",
            Box::new(along1!(exact::f5_vjp_along)),
            exact::f5_grad,
            0.0,
        ),
        (
            "f2_nn",
            Box::new(along1!(exact::f2_nn_vjp_along)),
            exact::f2_nn_grad,
            1.0,
        ),
        (
            "f3_nn",
            Box::new(along1!(exact::f3_nn_vjp_along)),
            exact::f3_nn_grad,
            1.0,
        ),
        (
            "f4_nn",
            Box::new(along1!(exact::f4_nn_vjp_along)),
            exact::f4_nn_grad,
            1.0,
        ),
    ];
    for (name, along, grad, slope) in &cases {
        // The pieces are linear with integer coefficients: everything is exact.
        for v in [1.0, -1.0, 0.25, -3.5, 2f64.powi(-1000), -(2f64.powi(-1000))] {
            let (y, dy, g) = along(0.0, v);
            assert_eq!(y, 0.0, "{name}(0)");
            assert_eq!(dy, slope * v, "{name}′(0; {v})");
            assert_eq!(g, *slope, "{name}: the gradient along {v}");
        }
        assert_eq!(grad(0.0), (0.0, *slope), "{name}_grad(0)");
        // Away from the kink, the ordinary derivative.
        for x in [-2.0, -0.5, 0.5, 3.0] {
            assert_eq!(grad(x).1, *slope, "{name}′({x})");
        }
    }
    assert_eq!(exact::f4_jvp(0.0, -2.0), (0.0, -2.0));
    assert_eq!(exact::f4_nn_jvp(0.0, 2.0), (0.0, 2.0));
}

/// f₄ in `f32`: ReLU(ReLU(x)) − ReLU(−x) = x.
#[differentiate(kinks = exact)]
fn f4_f32(x: f32) -> f32 {
    x.max(0.0).max(0.0) - (-x).max(0.0)
}

#[test]
fn failure_of_ad_on_relus_in_f32() {
    assert_eq!(f4_f32_grad(0.0), (0.0, 1.0));
    for v in [1.0, -1.0] {
        let (_, dy, pullback) = f4_f32_vjp_along(0.0, v);
        assert_eq!((dy, pullback(1.0)), (v, 1.0));
    }
}

#[test]
fn failure_of_ad_on_relus_default_mode_gives_the_documented_wrong_values() {
    // max(x, 0) with the tie rule of `max` (½ to each argument, so ReLU′(0) = ½):
    // f₂′(0) = ½ + ½ = 1 and f₃′(0) = 10 − 9 = 1 come out right, f₄′(0) = ½·½ + ½ = ¾ (the
    // lecture: only ReLU′(0) = (√5 − 1)/2 would fix f₄) and f₅′(0) = 10 − 10·¾ = 2.5.
    assert_eq!(default::f1_grad(0.0).1, 1.0);
    assert_eq!(default::f2_grad(0.0).1, 1.0);
    assert_eq!(default::f3_grad(0.0).1, 1.0);
    assert_eq!(default::f4_grad(0.0).1, 0.75);
    assert_eq!(default::f5_grad(0.0).1, 2.5);
    // nn::relu with ReLU′(0) = 0, as TensorFlow and PyTorch: the lecture's f₂′(0) = 0,
    // f₃′(0) = 10, and f₄′(0) = 0.
    assert_eq!(default::f2_nn_grad(0.0).1, 0.0);
    assert_eq!(default::f3_nn_grad(0.0).1, 10.0);
    assert_eq!(default::f4_nn_grad(0.0).1, 0.0);
    // Forward mode applies the same convention: ½ẋ, not the directional derivative ẋ.
    assert_eq!(default::f2_jvp(0.0, 1.0).1, 1.0);
    assert_eq!(default::f4_jvp(0.0, 1.0).1, 0.75);
}

// ---------------------------------------------------------------------------------------------
// Every kind of kink, on functions of two scalars.
// ---------------------------------------------------------------------------------------------

macro_rules! scalar_kinks {
    ($($mode:tt)*) => {
        /// max(x, y) + 2·min(x, y) − |x − y|: ties at x = y.
        #[differentiate($($mode)*)]
        pub fn max_min_abs(x: f64, y: f64) -> f64 {
            x.max(y) + 2.0 * x.min(y) - (x - y).abs()
        }

        /// The callee `max2` in the same mode: max(x, y) − min(x, y)·3 through calls.
        #[differentiate($($mode)*)]
        pub fn max2(a: f64, b: f64) -> f64 {
            a.max(b)
        }

        #[differentiate($($mode)*)]
        pub fn through_calls(x: f64, y: f64) -> f64 {
            max2(x, y) + 3.0 * max2(-x, -y) + max2(max2(x, 0.0), y)
        }

        /// clamp(x, y − 1, y + 1) + 2·clamp(x, −1, 1): kinks at x = y ± 1 and x = ±1.
        #[differentiate($($mode)*)]
        pub fn clamps(x: f64, y: f64) -> f64 {
            x.clamp(y - 1.0, y + 1.0) + 2.0 * x.clamp(-1.0, 1.0)
        }

        /// hypot(x, y) + √(x² + y²) + 3·√(x·x): Euclidean norms, kinks at the origin.
        #[differentiate($($mode)*)]
        pub fn norms(x: f64, y: f64) -> f64 {
            x.hypot(y) + (x * x + y.powi(2)).sqrt() + 3.0 * (x * x).sqrt()
        }

        /// |x| as x·signum(x), and x.copysign(y) (|x| with the sign of y).
        #[differentiate($($mode)*)]
        pub fn signs(x: f64, y: f64) -> f64 {
            x * x.signum() + 2.0 * x.copysign(y + 1.0)
        }

        /// Branches on active conditions: a kink at x = y and at x = 0.
        #[differentiate($($mode)*)]
        pub fn branches(x: f64, y: f64) -> f64 {
            let a = if x > y { x - y } else { 2.0 * (y - x) };
            let b = if x <= 0.0 { -3.0 * x } else { x };
            a + b
        }

        /// Match guards on active values: |x| with different slopes, selected by guards.
        #[differentiate($($mode)*)]
        pub fn guards(x: f64, y: f64, k: usize) -> f64 {
            match k {
                0 if x >= y => 3.0 * (x - y),
                0 => y - x,
                _ if x < 0.0 => -x,
                _ => 5.0 * x,
            }
        }

        /// A `while` condition on an active value: subtracting 1 while above 1, with weights
        /// 1, 3, 9, … per stretch, continuous with kinks at the integers ≥ 1.
        #[differentiate($($mode)*)]
        pub fn stretches(x: f64, y: f64) -> f64 {
            let mut t = x + y;
            let mut s = 0.0;
            let mut w = 1.0;
            while t > 1.0 {
                t -= 1.0;
                s += w;
                w *= 3.0;
            }
            s + w * t
        }
    };
}

mod exact2 {
    use super::*;
    scalar_kinks!(kinks = exact);
}

mod default2 {
    use super::*;
    scalar_kinks!();
}

/// `_vjp_along` of a function of a slice at `(x, v)`: the value, `ẏ` and the gradient.
type Along<'a> = dyn Fn(&[f64], &[f64]) -> (f64, f64, Vec<f64>) + 'a;

/// Checks the guarantee for a function `f` of a slice at `x` along `v`: `_vjp_along` gives the
/// value `f(x)`, `ẏ = f′(x; v)` (one-sided differences), and a gradient `g` with `⟨g, v⟩ = ẏ`
/// that is, for a `generic` direction (one that moves every kink's argument that depends on
/// `x`), the gradient of the piece `x + t·v` enters (`default_grad` at `x + H·v`). Returns
/// whether the default mode's gradient at `x` also has `⟨g, v⟩ = f′(x; v)`.
#[track_caller]
fn check_along(
    what: &str,
    f: &dyn Fn(&[f64]) -> f64,
    along: &Along<'_>,
    default_grad: &dyn Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    v: &[f64],
    generic: bool,
) -> bool {
    let what = format!("{what} at {x:?} along {v:?}");
    let (y, dy, g) = along(x, v);
    // The value of the arm taken: `f(x)`, up to the sign of a zero where a branch at a tie takes
    // the other arm (`-x` rather than `5·x` at `x = 0`).
    assert_eq!(y, f(x), "{what}: value");
    let fd = one_sided(f, x, v);
    close(&format!("{what}: ẏ = f′(x; v)"), dy, fd, FD_TOL);
    close(
        &format!("{what}: ⟨g, v⟩ = f′(x; v)"),
        dot(&g, v),
        fd,
        FD_TOL,
    );
    if generic {
        close_all(
            &format!("{what}: g is the gradient of the piece entered"),
            &g,
            &default_grad(&step(x, v, H)),
            1e-9,
        );
    }
    let d = default_grad(x);
    (dot(&d, v) - fd).abs() <= FD_TOL * fd.abs().max(1.0)
}

/// The checks of [`check_along`] for a function of two scalars, at `x` along `v` and along the
/// seeded direction of `_grad`, whose gradient must be `_vjp_along`'s along it.
macro_rules! check2 {
    ($name:ident, $along:ident, $grad:ident, $x:expr, $vs:expr) => {{
        let f = |p: &[f64]| default2::$name(p[0], p[1]);
        let along = |p: &[f64], v: &[f64]| {
            let (y, dy, pullback) = exact2::$along(p[0], p[1], v[0], v[1]);
            let g = pullback(1.0);
            (y, dy, vec![g.0, g.1])
        };
        let dgrad = |p: &[f64]| {
            let g = default2::$grad(p[0], p[1]).1;
            vec![g.0, g.1]
        };
        let x: [f64; 2] = $x;
        let mut default_right = 0;
        let vs: Vec<[f64; 2]> = $vs;
        for v in &vs {
            default_right +=
                check_along(stringify!($name), &f, &along, &dgrad, &x, v, true) as usize;
        }
        for v in &degenerate() {
            check_along(stringify!($name), &f, &along, &dgrad, &x, v, false);
        }
        // `_grad` takes the seeded direction.
        let seeded = [direction(&x[0], 0), direction(&x[1], 1)];
        let (y, g) = exact2::$grad(x[0], x[1]);
        let (y2, _, g2) = along(&x, &seeded);
        assert_eq!(
            (y, vec![g.0, g.1]),
            (y2, g2),
            "{}: _grad takes the seeded direction",
            stringify!($name)
        );
        check_along(stringify!($name), &f, &along, &dgrad, &x, &seeded, true);
        (default_right, vs.len())
    }};
}

/// Directions around the compass, both signs of each component and ties of components.
fn compass() -> Vec<[f64; 2]> {
    vec![
        [1.0, 0.5],
        [-1.0, 0.5],
        [1.0, -0.5],
        [-1.0, -0.5],
        [0.5, 1.0],
        [-0.5, 1.0],
        [0.5, -1.0],
        [-0.5, -1.0],
        [0.75, 1.5],
        [-2.0, -1.25],
    ]
}

/// Directions along which a kink's argument may not move (a zero component, equal components):
/// the piece is not decided by them, only the directional derivative is checked.
fn degenerate() -> Vec<[f64; 2]> {
    vec![
        [0.3, 0.0],
        [0.0, -0.7],
        [1.0, 1.0],
        [-0.5, -0.5],
        [0.0, 0.0],
    ]
}

#[test]
fn max_min_abs_at_ties() {
    // At x = y: max + 2·min − |x − y| moves as ẋ + ẏ + 2·min(ẋ, ẏ) − |ẋ − ẏ|... checked by
    // differences; the default mode's ½/½ and abs′(0) = 0 are right only where ẋ = ẏ.
    let (right, n) = check2!(
        max_min_abs,
        max_min_abs_vjp_along,
        max_min_abs_grad,
        [0.0, 0.0],
        compass()
    );
    assert!(right < n, "the default mode is wrong along some direction");
    check2!(
        max_min_abs,
        max_min_abs_vjp_along,
        max_min_abs_grad,
        [2.0, 2.0],
        compass()
    );
    check2!(
        max_min_abs,
        max_min_abs_vjp_along,
        max_min_abs_grad,
        [1.0, -1.0],
        compass()
    );
}

#[test]
fn calls_pass_the_direction_on() {
    // max2(x, y) + 3·max2(−x, −y) + max2(max2(x, 0), y) at the origin: three nested ties.
    let (right, n) = check2!(
        through_calls,
        through_calls_vjp_along,
        through_calls_grad,
        [0.0, 0.0],
        compass()
    );
    assert!(right < n);
    check2!(
        through_calls,
        through_calls_vjp_along,
        through_calls_grad,
        [0.0, -1.0],
        compass()
    );
    check2!(
        through_calls,
        through_calls_vjp_along,
        through_calls_grad,
        [1.0, 1.0],
        compass()
    );
}

#[test]
fn clamp_at_its_bounds() {
    check2!(clamps, clamps_vjp_along, clamps_grad, [1.0, 0.0], compass());
    check2!(
        clamps,
        clamps_vjp_along,
        clamps_grad,
        [-1.0, 0.0],
        compass()
    );
    check2!(clamps, clamps_vjp_along, clamps_grad, [1.0, 2.0], compass());
    let (right, n) = check2!(clamps, clamps_vjp_along, clamps_grad, [1.0, 0.0], compass());
    assert!(right < n);
}

#[test]
fn norms_at_the_origin() {
    // ‖·‖ at 0 along v is ‖v‖; the gradient of the piece entered is v/‖v‖ (per norm), which the
    // default mode's 0 (the minimum-norm element) is not.
    let (right, n) = check2!(norms, norms_vjp_along, norms_grad, [0.0, 0.0], compass());
    assert_eq!(right, 0);
    assert_eq!(n, compass().len());
    // d/dx of hypot + √(x² + y²) + 3|x| along (1, 0): 1 + 1 + 3 at the origin.
    let (_, dy, pullback) = exact2::norms_vjp_along(0.0, 0.0, 1.0, 0.0);
    assert_eq!(dy, 5.0);
    assert_eq!(pullback(1.0), (5.0, 0.0));
    // Along (3, −4): ‖v‖ = 5 twice, plus 3·3; g = 2·(0.6, −0.8) + (3, 0).
    let (_, dy, pullback) = exact2::norms_vjp_along(0.0, 0.0, 3.0, -4.0);
    assert_eq!(dy, 19.0);
    let g = pullback(1.0);
    close("∂x", g.0, 4.2, TOL);
    close("∂y", g.1, -1.6, TOL);
    // At (0, 2) only |x| has its kink (the norms are smooth, not linear, there): the gradient is
    // (0, 1) + (0, 1) + (3·sign(ẋ), 0).
    for v in compass() {
        let (_, _, pullback) = exact2::norms_vjp_along(0.0, 2.0, v[0], v[1]);
        let g = pullback(1.0);
        close("∂x", g.0, 3.0 * v[0].signum(), TOL);
        close("∂y", g.1, 2.0, TOL);
    }
}

#[test]
fn signum_and_copysign_at_zero() {
    check2!(signs, signs_vjp_along, signs_grad, [0.0, 1.0], compass());
    check2!(signs, signs_vjp_along, signs_grad, [0.0, -3.0], compass());
    let (right, n) = check2!(signs, signs_vjp_along, signs_grad, [0.0, 1.0], compass());
    assert!(right < n);
}

/// The identity as |t| with the sign of t, composed with a negation: f(x) = −x.
#[differentiate(kinks = exact)]
fn signed_abs(t: f64) -> f64 {
    t.abs().copysign(t)
}

#[differentiate(kinks = exact)]
fn negated_signed_abs(x: f64) -> f64 {
    signed_abs(0.0 - x)
}

#[differentiate(kinks = exact)]
fn copysign2(x: f64, y: f64) -> f64 {
    x.copysign(y)
}

/// `x.copysign(s)` at `s = ±0`: the sign `s` takes along its tangent, not the sign bit of the
/// zero (which gave f′(0) = +1 for f(x) = g(0 − x), g the identity written as
/// `t.abs().copysign(t)`, and the piece `+x` for `x.copysign(y)` at `y = 0` moving down).
#[test]
fn copysign_of_a_zero_takes_the_sign_it_moves_to() {
    assert_eq!(signed_abs_grad(0.0), (0.0, 1.0));
    let (y, g) = negated_signed_abs_grad(0.0);
    assert_eq!((y, g), (0.0, -1.0));
    for v in [1.0, -1.0] {
        let (y, dy, pullback) = negated_signed_abs_vjp_along(0.0, v);
        assert_eq!((y, dy, pullback(1.0)), (0.0, -v, -1.0), "along {v}");
    }
    // At (0, 0): the piece |x|·sign(ẏ) (|x|·sign bit where ẏ = 0), |x| the piece ẋ enters.
    for (dx, dy) in [(0.5, -1.0), (0.5, 1.0), (-0.5, -1.0), (0.5, 0.0)] {
        let (y, d, pullback) = copysign2_vjp_along(0.0, 0.0, dx, dy);
        let sign = if dy == 0.0 { 1.0 } else { f64::signum(dy) };
        let one_sided = one_sided(|p| copysign2(p[0], p[1]), &[0.0, 0.0], &[dx, dy]);
        assert_eq!(y, 0.0);
        close("ẏ", d, sign * dx.abs(), TOL);
        close("one-sided", d, one_sided, TOL);
        assert_eq!(
            pullback(1.0),
            (sign * dx.signum(), 0.0),
            "along ({dx}, {dy})"
        );
    }
    // At (2, 0) moving down the function jumps to −2: the value is the function's, 2, and the
    // derivatives those of the piece entered, −x.
    let (y, d, pullback) = copysign2_vjp_along(2.0, 0.0, 0.5, -1.0);
    assert_eq!((y, d, pullback(1.0)), (2.0, -0.5, (-1.0, 0.0)));
}

/// ReLU with its comparison written as a method: `partial_cmp`, `lt`, `total_cmp`, the sign.
#[differentiate(kinks = exact)]
fn relu_partial_cmp(x: f64) -> f64 {
    match x.partial_cmp(&0.0) {
        Some(std::cmp::Ordering::Less) => 0.0,
        _ => x,
    }
}

#[differentiate(kinks = exact)]
fn relu_lt(x: f64) -> f64 {
    if x.lt(&0.0) { 0.0 } else { x }
}

#[differentiate(kinks = exact)]
fn relu_total_cmp(x: f64) -> f64 {
    if x.total_cmp(&0.0).is_lt() { 0.0 } else { x }
}

#[differentiate(kinks = exact)]
fn relu_sign(x: f64) -> f64 {
    if x.is_sign_negative() { 0.0 } else { x }
}

/// The lecture's f₂ = ReLU(x) − ReLU(−x), the identity, with each ReLU.
#[differentiate(kinks = exact)]
fn identities_by_methods(x: f64) -> f64 {
    relu_partial_cmp(x) - relu_partial_cmp(-x) + relu_lt(x) - relu_lt(-x) + relu_total_cmp(x)
        - relu_total_cmp(-x)
        + relu_sign(x)
        - relu_sign(-x)
}

/// Comparisons written as methods decide at a tie along the direction, as `<` does: their
/// plain results decided it before (f₂′(0) = 2 with `partial_cmp` or `lt`, where it is 1).
#[test]
fn comparison_methods_at_ties() {
    assert_eq!(identities_by_methods_grad(0.0), (0.0, 4.0));
    for v in [1.0, -1.0, 0.25] {
        let (y, dy, pullback) = identities_by_methods_vjp_along(0.0, v);
        assert_eq!((y, dy, pullback(1.0)), (0.0, 4.0 * v, 4.0), "along {v}");
    }
    for x in [-1.5, 2.0] {
        assert_eq!(identities_by_methods_grad(x), (4.0 * x, 4.0));
    }
    // The plain functions are unchanged, the sign of zeros included.
    assert_eq!(relu_sign(-0.0), 0.0);
    assert_eq!(relu_partial_cmp(f64::NAN).is_nan(), true);
}

/// Linear interpolation whose cell is `floor(t)`, or `t as usize`: at a knot the cell the
/// direction enters. `stairs` sums roundings: piecewise constant, each chosen along it.
#[differentiate(kinks = exact)]
fn interp_floor(ys: &[f64], t: f64) -> f64 {
    let i = (t.floor() as usize).min(ys.len() - 2);
    let s = t - i as f64;
    ys[i] + (ys[i + 1] - ys[i]) * s
}

#[differentiate(kinks = exact)]
fn interp_cast(ys: &[f64], t: f64) -> f64 {
    let i = (t as usize).min(ys.len() - 2);
    let s = t - i as f64;
    ys[i] + (ys[i + 1] - ys[i]) * s
}

#[differentiate(kinks = exact)]
fn stairs(t: f64) -> f64 {
    t.floor() * 3.0 + t.ceil() + t.round() * t + t.trunc() * t * t
}

/// `floor`, `ceil`, `round`, `trunc` and `as` casts to integers round to the integer of the
/// piece the direction enters: their plain results chose the cell right of a knot whatever
/// the direction (the slope 1 of the right cell moving left, where it is 2).
#[test]
fn roundings_take_the_integer_entered() {
    let ys = [0.0, 2.0, 3.0, 7.0];
    let zero = vec![0.0; 4];
    for v in [1.0, -1.0, 0.5] {
        // Left of 1 the slope is 2 (weights of ys[0], ys[1]: 0, 1), right of it 1 (1, 0 of
        // ys[1], ys[2]).
        let (slope, gy) = if v > 0.0 {
            (1.0, vec![0.0, 1.0, 0.0, 0.0])
        } else {
            (2.0, vec![0.0, 1.0, 0.0, 0.0])
        };
        let (y, d, pullback) = interp_floor_vjp_along(&ys, 1.0, &zero, v);
        assert_eq!((y, d), (2.0, slope * v), "along {v}");
        assert_eq!(pullback(1.0), (gy.clone(), slope), "along {v}");
        let (y, d, pullback) = interp_cast_vjp_along(&ys, 1.0, &zero, v);
        assert_eq!((y, d), (2.0, slope * v), "cast along {v}");
        assert_eq!(pullback(1.0), (gy, slope), "cast along {v}");
        let f = |p: &[f64]| interp_floor(&ys, p[0]);
        close("one-sided", slope * v, one_sided(f, &[1.0], &[v]), 1e-6);
        // At 2.5: round is 3 moving up, 2 moving down; trunc, floor and ceil are continuous.
        let (y, d, pullback) = stairs_vjp_along(2.5, v);
        let r = if v > 0.0 { 3.0 } else { 2.0 };
        assert_eq!(y, stairs(2.5));
        close("ẏ", d, (r + 2.0 * 2.0 * 2.5) * v, TOL);
        close("gradient", pullback(1.0), r + 2.0 * 2.0 * 2.5, TOL);
        // At 2: floor and trunc are 1 moving down, 2 moving up; ceil 2 and 3.
        let (y, d, _) = stairs_vjp_along(2.0, v);
        let (fl, ro) = if v > 0.0 { (2.0, 2.0) } else { (1.0, 2.0) };
        assert_eq!(y, stairs(2.0));
        close("ẏ at 2", d, (ro + 2.0 * fl * 2.0) * v, TOL);
    }
    let (y, g) = interp_cast_grad(&ys, 2.5);
    assert_eq!((y, g.1), (5.0, 4.0));
}

#[differentiate(kinks = exact)]
fn squared(v: f64) -> f64 {
    v * v
}

/// p = x², then p where p > 1, else 1 + (p − 1)/2: at x = 1 the slope is 2 moving up, 1 moving
/// down.
#[differentiate(kinks = exact)]
fn soft_clip_of_call(x: f64) -> f64 {
    let p = squared(x);
    if p > 1.0 { p } else { 1.0 + 0.5 * (p - 1.0) }
}

/// The larger of the last two, or their mean: a tie at x₀ = x₁.
#[differentiate(kinks = exact)]
fn popped_max(x: &[f64]) -> f64 {
    let mut st = x.to_vec();
    let a = st.pop().unwrap();
    let b = st.pop().unwrap();
    if b > a { b } else { 0.5 * (a + b) }
}

/// Comparisons of values the lowering compares through a reference (a call's result, an
/// element taken out of a `Vec` by `pop`): the tangent of the value decides the tie. It went
/// unread, and the plain comparison chose the piece whatever the direction.
#[test]
fn comparisons_of_call_results_and_popped_elements() {
    for (v, slope) in [(1.0, 2.0), (-1.0, 1.0)] {
        let (y, d, pullback) = soft_clip_of_call_vjp_along(1.0, v);
        assert_eq!((y, d, pullback(1.0)), (1.0, slope * v, slope), "along {v}");
    }
    // Moving x₀ up, b = x₀ wins: gradient (1, 0); moving it down, the mean: (½, ½).
    let (_, d, pullback) = popped_max_vjp_along(&[1.0, 1.0], &vec![1.0, 0.0]);
    assert_eq!((d, pullback(1.0)), (1.0, vec![1.0, 0.0]));
    let (_, d, pullback) = popped_max_vjp_along(&[1.0, 1.0], &vec![-1.0, 0.0]);
    assert_eq!((d, pullback(1.0)), (-0.5, vec![0.5, 0.5]));
}

#[derive(Clone, autodiff::Differentiable)]
struct Interval {
    lo: f64,
    hi: f64,
}

/// `kinks = exact` on the methods of an `impl` without the attribute: the items recall the
/// method (through `Self`) or a copy of the associated function where a tie departs from the
/// plain comparison (rustc's "cannot find function `dist`" in the generated code before).
impl Interval {
    #[differentiate(kinks = exact)]
    fn dist(&self, x: f64) -> f64 {
        if x < self.lo {
            self.lo - x + 1.0
        } else {
            (x - self.hi).max(0.0)
        }
    }

    #[differentiate(kinks = exact)]
    fn step(x: f64) -> f64 {
        if x < 1.0 { x } else { x + 10.0 }
    }
}

#[test]
fn exact_methods_of_impls_without_the_attribute() {
    let b = Interval { lo: 0.0, hi: 1.0 };
    let (y, (g, gx)) = b.dist_grad(2.0);
    assert_eq!((y, g.lo, g.hi, gx), (1.0, 0.0, -1.0, 1.0));
    // At 0 moving down: the piece lo − x + 1 (slope −1), the value the function's, 0.
    let still = Interval { lo: 0.0, hi: 0.0 };
    let (y, d, pullback) = b.dist_vjp_along(0.0, &still, -1.0);
    let (g, gx) = pullback(1.0);
    assert_eq!((y, d, g.lo, gx), (0.0, 1.0, 1.0, -1.0));
    let (y, d, pullback) = Interval::step_vjp_along(1.0, -1.0);
    assert_eq!((y, d, pullback(1.0)), (11.0, -1.0, 1.0));
}

#[test]
fn branches_take_the_arm_the_direction_enters() {
    // At x = y = 0: both conditions tie. `if x > y` takes its then-arm where ẋ > ẏ, `x <= 0`
    // its then-arm where ẋ ≤ 0.
    let (right, n) = check2!(
        branches,
        branches_vjp_along,
        branches_grad,
        [0.0, 0.0],
        compass()
    );
    assert!(right < n);
    check2!(
        branches,
        branches_vjp_along,
        branches_grad,
        [1.0, 1.0],
        compass()
    );
    check2!(
        branches,
        branches_vjp_along,
        branches_grad,
        [0.0, 2.0],
        compass()
    );
    // f = 2(y − x) − 3x on the piece ẋ < ẏ, ẋ < 0: g = (−5, 2).
    let (_, _, pullback) = exact2::branches_vjp_along(0.0, 0.0, -1.0, 1.0);
    assert_eq!(pullback(1.0), (-5.0, 2.0));
}

// Comparisons whose operands the result does not read: a variable only the condition reads,
// an expression, an element read apart from the arm's. Exact mode gave them no tangent, so at a
// tie they kept the plain comparison's result and the derivative was that of the other piece
// (`s_idx_grad(&[0.0])` was `[0.0]`, not `[1.0]`): silently wrong.
macro_rules! deciding_kinks {
    ($($mode:tt)*) => {
        /// `a` decides and nothing reads it after: 3x where x > y, else y.
        #[differentiate($($mode)*)]
        pub fn cond_only(x: f64, y: f64) -> f64 {
            let a = x - y;
            if a > 0.0 { 3.0 * x } else { y }
        }

        /// An expression compared in place: x + y where 2x ≥ y, else −x.
        #[differentiate($($mode)*)]
        pub fn cond_expr(x: f64, y: f64) -> f64 {
            if x * 2.0 >= y { x + y } else { -x }
        }

        /// A guard on a variable only the guard reads: 2y where x < y, else x.
        #[differentiate($($mode)*)]
        pub fn guard_only(x: f64, y: f64) -> f64 {
            let d = x - y;
            match 1 {
                1 if d < 0.0 => 2.0 * y,
                _ => x,
            }
        }

        /// The mean of relu over the finite elements, counted by a predicate without an order.
        #[differentiate($($mode)*)]
        pub fn finite_mean(x: &[f64]) -> f64 {
            let n = x.iter().filter(|v| v.is_finite()).count();
            x.iter().map(|v| v.max(0.0)).sum::<f64>() / n as f64
        }

        /// The element compared is read again in the arm: relu of x₀.
        #[differentiate($($mode)*)]
        pub fn relu_of_element(x: &[f64]) -> f64 {
            if x[0] > 0.0 { x[0] } else { 0.0 }
        }
    };
}

mod exact_d {
    use super::*;
    deciding_kinks!(kinks = exact);
}

mod default_d {
    use super::*;
    deciding_kinks!();
}

#[test]
fn comparisons_whose_operands_the_result_does_not_read() {
    macro_rules! check_d {
        ($name:ident, $along:ident, $grad:ident) => {{
            let f = |p: &[f64]| default_d::$name(p[0], p[1]);
            let along = |p: &[f64], v: &[f64]| {
                let (y, dy, pullback) = exact_d::$along(p[0], p[1], v[0], v[1]);
                let g = pullback(1.0);
                (y, dy, vec![g.0, g.1])
            };
            let dgrad = |p: &[f64]| {
                let g = default_d::$grad(p[0], p[1]).1;
                vec![g.0, g.1]
            };
            let mut right = 0;
            for v in compass() {
                right += check_along(stringify!($name), &f, &along, &dgrad, &[0.0, 0.0], &v, true)
                    as usize;
            }
            for v in degenerate() {
                check_along(
                    stringify!($name),
                    &f,
                    &along,
                    &dgrad,
                    &[0.0, 0.0],
                    &v,
                    false,
                );
            }
            // The default mode takes one piece whatever the direction.
            assert!(right < compass().len(), "{}", stringify!($name));
        }};
    }
    check_d!(cond_only, cond_only_vjp_along, cond_only_grad);
    check_d!(cond_expr, cond_expr_vjp_along, cond_expr_grad);
    check_d!(guard_only, guard_only_vjp_along, guard_only_grad);
    // relu(x₀) at 0: the right piece along +1, the left along −1, by `_jvp` and by `_grad`
    // (whose seeded direction at 0 is positive).
    assert_eq!(exact_d::relu_of_element_jvp(&[0.0], &vec![1.0]), (0.0, 1.0));
    assert_eq!(
        exact_d::relu_of_element_jvp(&[0.0], &vec![-1.0]),
        (0.0, 0.0)
    );
    assert!(direction(&[0.0][..], 0)[0] > 0.0);
    assert_eq!(exact_d::relu_of_element_grad(&[0.0]), (0.0, vec![1.0]));
    assert_eq!(default_d::relu_of_element_grad(&[0.0]), (0.0, vec![0.0]));
    // A predicate that decides by no order (`is_finite`) is no kink: it runs as written.
    let (v, d) = exact_d::finite_mean_jvp(&[0.0, 1.0], &vec![1.0, 0.0]);
    assert_eq!((v, d), (0.5, 0.5));
    assert_eq!(
        exact_d::finite_mean_jvp(&[0.0, 1.0], &vec![-1.0, 0.0]).1,
        0.0
    );
}

#[test]
fn match_guards_on_active_values() {
    for k in [0, 1] {
        let f = |p: &[f64]| default2::guards(p[0], p[1], k);
        let along = |p: &[f64], v: &[f64]| {
            let (y, dy, pullback) = exact2::guards_vjp_along(p[0], p[1], k, v[0], v[1]);
            let g = pullback(1.0);
            (y, dy, vec![g.0, g.1])
        };
        let dgrad = |p: &[f64]| {
            let g = default2::guards_grad(p[0], p[1], k).1;
            vec![g.0, g.1]
        };
        let mut right = 0;
        for v in compass() {
            right += check_along("guards", &f, &along, &dgrad, &[0.0, 0.0], &v, true) as usize;
        }
        for v in degenerate() {
            check_along("guards", &f, &along, &dgrad, &[0.0, 0.0], &v, false);
        }
        assert!(right < compass().len(), "k = {k}");
    }
}

#[test]
fn while_conditions_on_active_values() {
    // t = x + y = 1 and 2 exactly: the loop stops or runs once more depending on ẋ + ẏ.
    check2!(
        stretches,
        stretches_vjp_along,
        stretches_grad,
        [0.5, 0.5],
        compass()
    );
    let (right, n) = check2!(
        stretches,
        stretches_vjp_along,
        stretches_grad,
        [1.0, 1.0],
        compass()
    );
    assert!(right < n);
    // Along (1, 0) from t = 1: the next stretch, slope 3; along (−1, 0) this one, slope 1.
    assert_eq!(exact2::stretches_vjp_along(1.0, 0.0, 1.0, 0.0).1, 3.0);
    assert_eq!(exact2::stretches_vjp_along(1.0, 0.0, -1.0, 0.0).1, -1.0);
}

// ---------------------------------------------------------------------------------------------
// Tensors: nn::relu on arrays with zeros, max pooling with ties.
// ---------------------------------------------------------------------------------------------

macro_rules! tensor_kinks {
    ($($mode:tt)*) => {
        /// Σ (relu(relu(x)) − relu(−x)) = Σ x: the gradient is all ones.
        #[differentiate(wrt(x) $($mode)*)]
        pub fn identity_sum(x: &Array1<f64>) -> f64 {
            (nn::relu(&nn::relu(x)) - nn::relu(&(-x))).sum()
        }

        /// Σ max_pool2d(relu(x) − 0.5·relu(−x), 2×2, stride 1) · weights.
        #[differentiate(wrt(x) $($mode)*)]
        pub fn pooled(x: &Array4<f64>, w: &Array4<f64>) -> f64 {
            let a = nn::relu(x) - nn::relu(&(-x)) * 0.5;
            (conv::max_pool2d(&a, 2, 1) * w).sum()
        }

        /// A two-layer perceptron with a linear read-out: w₃·relu(W₂·relu(W₁·x + b₁) + b₂).
        #[differentiate(wrt(x) $($mode)*)]
        pub fn mlp(
            x: &Array1<f64>,
            w1: &Array2<f64>,
            b1: &Array1<f64>,
            w2: &Array2<f64>,
            b2: &Array1<f64>,
            w3: &Array1<f64>,
        ) -> f64 {
            let h1 = nn::relu(&(w1.dot(x) + b1));
            let h2 = nn::relu(&(w2.dot(&h1) + b2));
            w3.dot(&h2)
        }
    };
}

mod exact_t {
    use super::*;
    tensor_kinks!(, kinks = exact);
}

mod default_t {
    use super::*;
    tensor_kinks!();
}

#[test]
fn relu_on_arrays_with_zeros_is_the_identity() {
    let x = array![0.0, 1.0, 0.0, -2.0, -0.0, 0.0];
    let (y, g) = exact_t::identity_sum_grad(&x);
    assert_eq!(y, -1.0);
    assert_eq!(g, Array1::<f64>::ones(6));
    let mut rng = Rng(7);
    for _ in 0..8 {
        let v = Array1::from(rng.direction(6));
        let (_, dy, pullback) = exact_t::identity_sum_vjp_along(&x, &v);
        close("ẏ = Σ v", dy, v.sum(), TOL);
        assert_eq!(pullback(1.0), Array1::<f64>::ones(6));
    }
    // The default mode (relu′(0) = 0) loses the zeros: 0 + 0 where the slope is 1.
    assert_eq!(
        default_t::identity_sum_grad(&x).1,
        array![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    );
}

/// Flattens an array (row-major) and back, for the slice checks.
fn flat4(a: &Array4<f64>) -> Vec<f64> {
    a.iter().copied().collect()
}

fn shaped4(v: &[f64], like: &Array4<f64>) -> Array4<f64> {
    Array4::from_shape_vec(like.raw_dim(), v.to_vec()).expect("same size")
}

#[test]
fn max_pooling_with_ties() {
    // One window, all four tied at 3: the maximum follows the element whose tangent is largest.
    let x = Array4::from_elem((1, 1, 2, 2), 3.0);
    let w = Array4::from_elem((1, 1, 1, 1), 1.0);
    let v = Array4::from_shape_vec((1, 1, 2, 2), vec![0.5, -1.0, 2.0, 1.5]).unwrap();
    let (y, dy, pullback) = exact_t::pooled_vjp_along(&x, &w, &v);
    assert_eq!((y, dy), (3.0, 2.0));
    assert_eq!(flat4(&pullback(1.0)), vec![0.0, 0.0, 1.0, 0.0]);
    // The default mode shares the cotangent among the tied elements or picks a fixed one;
    // along v only the one with tangent 2 is right.
    let d = default_t::pooled_grad(&x, &w).1;
    assert_ne!(flat4(&d), vec![0.0, 0.0, 1.0, 0.0]);

    // Overlapping 2×2 windows (stride 1) over a 3×3 input of zeros and ties, relu's kink at
    // every zero, many directions.
    let x = Array4::from_shape_vec(
        (1, 1, 3, 3),
        vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0],
    )
    .unwrap();
    let w = Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, -2.0, 3.0, 0.5]).unwrap();
    let f = |p: &[f64]| default_t::pooled(&shaped4(p, &x), &w);
    let along = |p: &[f64], v: &[f64]| {
        let (p, v) = (shaped4(p, &x), shaped4(v, &x));
        let (y, dy, pullback) = exact_t::pooled_vjp_along(&p, &w, &v);
        (y, dy, flat4(&pullback(1.0)))
    };
    let dgrad = |p: &[f64]| flat4(&default_t::pooled_grad(&shaped4(p, &x), &w).1);
    let mut rng = Rng(11);
    let mut right = 0;
    let n = 32;
    for _ in 0..n {
        let v = rng.direction(9);
        right += check_along("pooled", &f, &along, &dgrad, &flat4(&x), &v, true) as usize;
    }
    let seeded = flat4(&direction(&x, 0));
    let (_, g) = exact_t::pooled_grad(&x, &w);
    assert_eq!(flat4(&g), along(&flat4(&x), &seeded).2);
    check_along("pooled", &f, &along, &dgrad, &flat4(&x), &seeded, true);
    assert!(right < n, "the default mode is wrong along some direction");
}

// ---------------------------------------------------------------------------------------------
// Property test: random piecewise-linear networks, at their kinks.
// ---------------------------------------------------------------------------------------------

macro_rules! scalar_networks {
    ($($mode:tt)*) => {
        /// A two-layer piecewise-linear network of the input `x`, its weights fixed: hidden units
        /// hⱼ = actⱼ(Σᵢ W₁[j, i]·xᵢ + b₁[j]) with the activation `kinds[j]` (ReLU by `max`,
        /// `abs`, leaky ReLU by a branch, `clamp` to [−1, 1]), then for each pair of units their
        /// max and min, weighted, then z = b + Σ …, and the output max(z, 0) + ½·min(z, 0).
        #[differentiate(wrt(x) $($mode)*)]
        pub fn scalar_net(
            x: &[f64],
            w1: &[f64],
            b1: &[f64],
            kinds: &[usize],
            w2: &[f64],
            b: f64,
        ) -> f64 {
            let n = x.len();
            let m = b1.len();
            let mut h = Vec::with_capacity(m);
            for j in 0..m {
                let mut s = b1[j];
                for i in 0..n {
                    s += w1[j * n + i] * x[i];
                }
                let a = match kinds[j] {
                    0 => s.max(0.0),
                    1 => s.abs(),
                    2 => {
                        if s > 0.0 {
                            s
                        } else {
                            0.25 * s
                        }
                    }
                    _ => s.clamp(-1.0, 1.0),
                };
                h.push(a);
            }
            let mut z = b;
            for j in 0..m / 2 {
                z += w2[2 * j] * h[2 * j].max(h[2 * j + 1]) + w2[2 * j + 1] * h[2 * j].min(h[2 * j + 1]);
            }
            z.max(0.0) + 0.5 * z.min(0.0)
        }
    };
}

mod exact_n {
    use super::*;
    scalar_networks!(, kinks = exact);
}

mod default_n {
    use super::*;
    scalar_networks!();
}

/// A random network of [`scalar_net`](exact_n::scalar_net)'s form with `n` inputs and `m`
/// hidden units at an integer input, with its biases set so that most units sit at a kink of
/// their activation, most pairs tie, and the output sits at its kink: every value is an integer,
/// so the zeros and ties are exact.
struct Network {
    x: Vec<f64>,
    w1: Vec<f64>,
    b1: Vec<f64>,
    kinds: Vec<usize>,
    w2: Vec<f64>,
    b: f64,
}

impl Network {
    fn random(rng: &mut Rng, n: usize, m: usize) -> Network {
        let x: Vec<f64> = (0..n).map(|_| rng.int(-2, 2)).collect();
        let w1: Vec<f64> = (0..n * m).map(|_| rng.int(-2, 2)).collect();
        let kinds: Vec<usize> = (0..m).map(|_| rng.next() as usize % 4).collect();
        let w2: Vec<f64> = (0..m).map(|_| rng.int(-3, 3)).collect();
        // The activation's kink for each kind: 0, or ±1 for clamp.
        let kink = |k: usize, rng: &mut Rng| match k {
            3 => {
                if rng.next() % 2 == 0 {
                    1.0
                } else {
                    -1.0
                }
            }
            _ => 0.0,
        };
        let mut pre = vec![0.0; m];
        for j in 0..m {
            pre[j] = match rng.next() % 4 {
                // At its kink.
                0 | 1 => kink(kinds[j], rng),
                // Tied with its pair's first unit (same kind: the activations tie).
                2 if j % 2 == 1 && kinds[j] == kinds[j - 1] => pre[j - 1],
                _ => rng.int(-3, 3),
            };
        }
        let b1: Vec<f64> = (0..m)
            .map(|j| pre[j] - dot(&w1[j * n..(j + 1) * n], &x))
            .collect();
        let mut net = Network {
            x,
            w1,
            b1,
            kinds,
            w2,
            b: 0.0,
        };
        // The output at its kink: z = 0. With b = 0 the output is max(z₀, 0) + ½·min(z₀, 0).
        let out = default_n::scalar_net(&net.x, &net.w1, &net.b1, &net.kinds, &net.w2, 0.0);
        net.b = if out >= 0.0 { -out } else { -2.0 * out };
        net
    }

    fn f(&self, x: &[f64]) -> f64 {
        default_n::scalar_net(x, &self.w1, &self.b1, &self.kinds, &self.w2, self.b)
    }
}

#[test]
fn random_piecewise_linear_networks_at_their_kinks() {
    let mut rng = Rng(0x6b696e6b73);
    let (cases, directions) = (200, 4);
    let (mut checked, mut default_wrong) = (0, 0);
    for case in 0..cases {
        let net = Network::random(&mut rng, 3, 6);
        assert_eq!(
            net.f(&net.x),
            0.0,
            "case {case}: the output sits at its kink"
        );
        let f = |p: &[f64]| net.f(p);
        let along = |p: &[f64], v: &[f64]| {
            let (y, dy, pullback) = exact_n::scalar_net_vjp_along(
                p,
                &net.w1,
                &net.b1,
                &net.kinds,
                &net.w2,
                net.b,
                &v.to_vec(),
            );
            (y, dy, pullback(1.0))
        };
        let dgrad = |p: &[f64]| {
            default_n::scalar_net_grad(p, &net.w1, &net.b1, &net.kinds, &net.w2, net.b).1
        };
        let mut vs: Vec<Vec<f64>> = (0..directions).map(|_| rng.direction(3)).collect();
        vs.push(direction(&net.x[..], 0));
        for v in &vs {
            let right = check_along(&format!("case {case}"), &f, &along, &dgrad, &net.x, v, true);
            checked += 1;
            default_wrong += usize::from(!right);
        }
        // `_grad` takes the seeded direction: its gradient is `_vjp_along`'s along it.
        let (_, g) = exact_n::scalar_net_grad(&net.x, &net.w1, &net.b1, &net.kinds, &net.w2, net.b);
        assert_eq!(g, along(&net.x, &vs[directions]).2, "case {case}");
    }
    println!(
        "random networks at their kinks: exact mode right in {checked} of {checked}, default \
         mode wrong in {default_wrong}"
    );
    // Every exact check passed (check_along asserts); the default mode fails a fair share.
    assert!(default_wrong * 10 > checked, "{default_wrong} of {checked}");
}

/// [`mlp`](exact_t::mlp) at an integer input with zeros in both layers.
#[test]
fn random_perceptrons_at_their_kinks() {
    let mut rng = Rng(440);
    let (n, m1, m2) = (4, 6, 5);
    let (mut checked, mut default_wrong) = (0, 0);
    for case in 0..100 {
        let x = Array1::from_shape_fn(n, |_| rng.int(-2, 2));
        let w1 = Array2::from_shape_fn((m1, n), |_| rng.int(-2, 2));
        let w2 = Array2::from_shape_fn((m2, m1), |_| rng.int(-2, 2));
        let w3 = Array1::from_shape_fn(m2, |_| rng.int(-3, 3));
        // Half of the units of each layer at relu's kink, the others at ±1, ±2.
        let target = |rng: &mut Rng| {
            if rng.next() % 2 == 0 {
                0.0
            } else {
                rng.int(-2, 2)
            }
        };
        let t1 = Array1::from_shape_fn(m1, |_| target(&mut rng));
        let b1 = &t1 - &w1.dot(&x);
        let h1 = t1.mapv(|t: f64| t.max(0.0));
        let t2 = Array1::from_shape_fn(m2, |_| target(&mut rng));
        let b2 = &t2 - &w2.dot(&h1);
        let f = |p: &[f64]| default_t::mlp(&Array1::from(p.to_vec()), &w1, &b1, &w2, &b2, &w3);
        let along = |p: &[f64], v: &[f64]| {
            let (p, v) = (Array1::from(p.to_vec()), Array1::from(v.to_vec()));
            let (y, dy, pullback) = exact_t::mlp_vjp_along(&p, &w1, &b1, &w2, &b2, &w3, &v);
            (y, dy, pullback(1.0).to_vec())
        };
        let dgrad = |p: &[f64]| {
            let g = default_t::mlp_grad(&Array1::from(p.to_vec()), &w1, &b1, &w2, &b2, &w3).1;
            g.to_vec()
        };
        let (_, g) = exact_t::mlp_grad(&x, &w1, &b1, &w2, &b2, &w3);
        let x = x.to_vec();
        let mut vs: Vec<Vec<f64>> = (0..4).map(|_| rng.direction(n)).collect();
        vs.push(direction(&x[..], 0));
        // `_grad` takes the seeded direction.
        assert_eq!(g.to_vec(), along(&x, &vs[4]).2, "case {case}");
        for v in &vs {
            let right = check_along(&format!("case {case}"), &f, &along, &dgrad, &x, v, true);
            checked += 1;
            default_wrong += usize::from(!right);
        }
    }
    println!(
        "random perceptrons at their kinks: exact mode right in {checked} of {checked}, \
         default mode wrong in {default_wrong}"
    );
    assert!(default_wrong * 10 > checked, "{default_wrong} of {checked}");
}

/// Σ relu(xᵢ), a callee that borrows its argument.
#[differentiate(kinks = exact)]
fn relu_sum(x: &[f64]) -> f64 {
    x.iter().map(|v| v.max(0.0)).sum()
}

/// Σ relu(xᵢ) − Σ relu(−xᵢ) = Σ xᵢ: a call whose pullback would borrow `x`, so `_vjp` calls the
/// callee again in its pullback (through `relu_sum_vjp_along`, with the same direction).
#[differentiate(kinks = exact)]
fn borrowing_calls(x: &[f64]) -> f64 {
    let neg: Vec<f64> = x.iter().map(|v| -v).collect();
    relu_sum(x) - relu_sum(&neg)
}

#[test]
fn calls_that_borrow_pass_the_direction_on() {
    let x = [0.0, 2.0, 0.0, -1.0];
    assert_eq!(borrowing_calls_grad(&x), (1.0, vec![1.0; 4]));
    let (y, pullback) = borrowing_calls_vjp(&x);
    assert_eq!((y, pullback(2.0)), (1.0, vec![2.0; 4]));
    let v = vec![-1.0, 0.5, 1.0, -0.25];
    let (_, dy, pullback) = borrowing_calls_vjp_along(&x, &v);
    assert_eq!((dy, pullback(1.0)), (v.iter().sum(), vec![1.0; 4]));
}

/// relu(w·x) of one row: a callee given a row of a `&[Vec<f64>]`.
#[differentiate(kinks = exact)]
fn relu_dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s.max(0.0)
}

/// Σₖ relu(w·xₖ) + relu(w·x₀): each call lends a row of `xs`, whose borrow the call's pullback
/// would keep, so the pullback makes it again with the direction passed on. The closure
/// `_vjp_along` and `_vjp` return once read the caller's direction there (rustc's "explicit
/// lifetime required in the type of `dw`" and "cannot return reference to temporary value").
#[differentiate(kinks = exact, wrt(w))]
fn relu_rows(w: &[f64], xs: &[Vec<f64>]) -> f64 {
    let mut t = 0.0;
    for x in xs {
        t += relu_dot(w, x);
    }
    t + relu_dot(w, &xs[0])
}

#[test]
fn calls_made_again_in_the_pullback_keep_their_own_direction() {
    let xs = vec![vec![2.0, 2.0], vec![1.0, -0.5], vec![-1.0, 0.5]];
    // Away from ties: w·xₖ = 0.4, 1.4, -1.4, so the gradient is x₀ + x₁ + x₀.
    let w = [1.0, -0.8];
    let (y, g) = relu_rows_grad(&w, &xs);
    assert_eq!(y, relu_rows(&w, &xs));
    assert!((y - 2.2).abs() < 1e-12, "{y}");
    assert_eq!(g, vec![5.0, 3.5]);
    let (y2, pullback) = relu_rows_vjp(&w, &xs);
    assert_eq!((y2, pullback(2.0)), (y, vec![10.0, 7.0]));
    // At the tie w·x₀ = 0: the piece the direction enters decides x₀'s terms.
    let w = [1.0, -1.0];
    let (y, dy, pullback) = relu_rows_vjp_along(&w, &xs, &vec![1.0, 0.0]);
    assert_eq!((y, dy, pullback(1.0)), (1.5, 5.0, vec![5.0, 3.5]));
    let (y, dy, pullback) = relu_rows_vjp_along(&w, &xs, &vec![-1.0, 0.0]);
    assert_eq!((y, dy, pullback(1.0)), (1.5, -1.0, vec![1.0, -0.5]));
}

/// Discontinuities at a tie: a step, a `while` loop whose exit test ties (`0.25 → 1.0`, and
/// `1.0 < 1.0` is false), a sum of steps, `signum` at zero, and a method of an `impl` block.
/// Along a direction that enters the other piece, exact mode went on along that piece and
/// returned its value (1 for `unit_step(1)`, 2.5 for `doubling(0.25)`, 58 for the sum, silently).
/// The items now return the function's value as written, with the entered piece's
/// derivatives.
#[differentiate(kinks = exact)]
fn unit_step(x: f64) -> f64 {
    if x < 1.0 { x } else { x + 10.0 }
}

#[differentiate(kinks = exact)]
fn doubling(x0: f64) -> f64 {
    let mut x = x0;
    while x < 1.0 {
        x = x * 2.0 + 0.5;
    }
    x
}

#[differentiate(kinks = exact)]
fn steps(p: &[f64]) -> f64 {
    let mut s = 0.0;
    for &x in p {
        s += if x < 1.0 { x } else { x + 10.0 };
    }
    s
}

#[differentiate(kinks = exact)]
fn twice_sign(x: f64) -> f64 {
    x.signum() * 2.0 + x
}

struct Threshold {
    at: f64,
}

#[differentiate(kinks = exact, wrt(x))]
impl Threshold {
    fn jump(&self, x: f64) -> f64 {
        if x >= self.at { x * 3.0 } else { x - 5.0 }
    }
}

#[test]
fn values_at_discontinuities_are_the_functions() {
    // The entered piece's derivative, the plain function's value.
    assert_eq!(unit_step_jvp(1.0, -1.0), (11.0, -1.0));
    assert_eq!(unit_step_jvp(1.0, 1.0), (11.0, 1.0));
    let (v, t) = doubling_jvp(0.25, -1.0);
    assert_eq!(v, doubling(0.25));
    // Along −1 the loop runs a second time: x ↦ 2(2x + 0.5) + 0.5, slope 4.
    assert_eq!(t, -4.0);
    let p = [1.0; 8];
    let (v, g) = steps_grad(&p);
    assert_eq!(v, steps(&p));
    assert!(g.iter().all(|&d| d == 1.0), "{g:?}");
    let (v, pb) = steps_vjp(&p);
    assert_eq!((v, pb(2.0)), (steps(&p), vec![2.0; 8]));
    let (v, t, _) = steps_vjp_along(&p, &vec![-1.0; 8]);
    assert_eq!((v, t), (steps(&p), -8.0));
    assert_eq!(twice_sign_jvp(0.0, -1.0), (twice_sign(0.0), -1.0));
    assert_eq!(twice_sign_grad(0.0), (twice_sign(0.0), 1.0));
    let th = Threshold { at: 2.0 };
    assert_eq!(th.jump_jvp(2.0, -1.0), (6.0, -1.0));
    assert_eq!(th.jump_jvp(2.0, 1.0), (6.0, 3.0));
}

/// A helper writing into a `&mut Vec` in exact mode: its by-value copy takes the buffer by
/// value, so the call for the value at a departure (above) cannot pass it again. A first
/// version of that call did (rustc's E0382 inside the generated code); it is made only where
/// every parameter can be passed again.
#[differentiate(kinks = exact)]
fn clip_into(v: &mut Vec<f64>, c: f64) {
    for e in v.iter_mut() {
        *e = e.clamp(-c, c);
    }
}

#[differentiate(kinks = exact)]
fn clipped_total(p: &[f64]) -> f64 {
    let mut v = p.to_vec();
    clip_into(&mut v, 0.6);
    v.iter().sum()
}

#[test]
fn buffer_helpers_in_exact_mode() {
    let (v, g) = clipped_total_grad(&[0.5, 0.7]);
    assert_eq!((v, g), (clipped_total(&[0.5, 0.7]), vec![1.0, 0.0]));
}

/// Data the branch reads that is not differentiated (an integer through a helper, a macro on an
/// integer, a predicate without an order) runs as written; the comparison of differentiated
/// values is written in the function, here as a method. A branch decided by a helper, a data
/// method, a path call (`f64::gt(&a, &b)`) or a macro on differentiated values is a compile
/// error in this mode (`tests/ui/kinks_exact_bool_helper.rs`,
/// `kinks_exact_macro_decision.rs`): their plain result chose the piece at a tie, silently.
fn small(k: usize) -> bool {
    k < 3
}

/// 2a + [b] + [a] where a > b, a + b + [b] + [a] elsewhere, the brackets taken when k says so.
#[differentiate(kinks = exact)]
fn written_out(a: f64, b: f64, k: usize) -> f64 {
    let mut s = if a.gt(&b) { 2.0 * a } else { a + b };
    if small(k) && a.is_finite() {
        s += b;
    }
    if matches!(k, 0 | 1) {
        s += a;
    }
    s
}

/// Branches on positions (`get`, `first`, `is_some` of them): relu of the element found.
#[differentiate(kinks = exact)]
fn found_relu(x: &[f64], i: usize) -> f64 {
    let mut s = 0.0;
    if x.get(i + 1).is_some() {
        s += x[i + 1];
    }
    if let Some(&v) = x.get(i) {
        s += v.max(0.0);
    }
    if let Some(v) = x.first() {
        s += *v;
    }
    s
}

#[test]
fn branches_on_data_run_as_written() {
    // x₁ + relu(x₀) + x₀ at x₀ = 0: slope (2, 1) moving x₀ up, (1, 1) moving it down.
    for (v, g) in [(1.0, vec![2.0, 1.0]), (-1.0, vec![1.0, 1.0])] {
        let (y, dy, pullback) = found_relu_vjp_along(&[0.0, 3.0], 0, &vec![v, 0.5]);
        assert_eq!(
            (y, dy, pullback(1.0)),
            (3.0, g[0] * v + 0.5, g),
            "along {v}"
        );
    }
    assert_eq!(found_relu_jvp(&[0.0], 5, &vec![1.0]), (0.0, 1.0));
    // At a = b = 1, k = 1: 3a + b along ȧ > ḃ (gradient (3, 1)), 2a + 2b along ȧ < ḃ.
    for (v, g) in [((1.0, 0.0), (3.0, 1.0)), ((-1.0, 0.0), (2.0, 2.0))] {
        let (y, dy, pullback) = written_out_vjp_along(1.0, 1.0, 1, v.0, v.1);
        assert_eq!((y, dy, pullback(1.0)), (4.0, g.0 * v.0, g), "along {v:?}");
        assert_eq!(written_out_jvp(1.0, 1.0, 1, v.0, v.1), (4.0, g.0 * v.0));
        close(
            "one-sided",
            g.0 * v.0,
            one_sided(|p| written_out(p[0], p[1], 1), &[1.0, 1.0], &[v.0, v.1]),
            FD_TOL,
        );
    }
    // k = 5: 2a or a + b only.
    let (y, g) = written_out_grad(1.0, 1.0, 5);
    let seeded = direction(&1.0, 0) > direction(&1.0, 1);
    assert_eq!((y, g), (2.0, if seeded { (2.0, 0.0) } else { (1.0, 1.0) }));
}

// Euclidean norms written as `sqrt` of a sum of squares in the forms the kink at the origin
// was not recognised in: squares of a field read twice, positive constant weights, zero
// terms, a sum accumulated from `0.0` in straight-line code, `mul_add`. At the origin `_grad`
// was NaN and the tangent 0 (the one-sided derivative along v is √(Σ wᵢvᵢ²)), silently.

#[derive(Clone, Copy, Debug, autodiff::Differentiable)]
struct P2 {
    x: f64,
    y: f64,
}

#[differentiate(kinks = exact)]
impl P2 {
    /// ‖(x, y)‖ of the fields.
    fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

/// √(x² + 2y²) of a pair's fields, a weight and a zero term.
#[differentiate(kinks = exact)]
fn pair_norm(p: (f64, f64)) -> f64 {
    (p.0 * p.0 + 2.0 * (p.1 * p.1) + 0.0).sqrt()
}

/// √(4x² + 9y²), the weights written on either side.
#[differentiate(kinks = exact)]
fn weighted_norm(x: f64, y: f64) -> f64 {
    (x * x * 4.0 + 9.0 * y * y).sqrt()
}

/// √(x² + y²/4), accumulated from zero.
#[differentiate(kinks = exact)]
fn accumulated_norm(x: f64, y: f64) -> f64 {
    let mut s = 0.0;
    s += x * x;
    s += y.powi(2) / 4.0;
    s.sqrt()
}

/// √(x² + y²) through `mul_add`.
#[differentiate(kinks = exact)]
fn mul_add_norm(x: f64, y: f64) -> f64 {
    x.mul_add(x, y * y).sqrt()
}

/// Checks `√(w₀x² + w₁y²)` at the origin along `v`: value 0, `ẏ = √(w₀v₀² + w₁v₁²)`, the
/// gradient `(w₀v₀, w₁v₁)/ẏ` of the piece entered (the norm's gradient at `t·v`), and the
/// one-sided difference; `along` gives the value, `ẏ` and the gradient.
#[track_caller]
fn check_weighted_norm(
    what: &str,
    w: [f64; 2],
    f: &dyn Fn(f64, f64) -> f64,
    along: &dyn Fn([f64; 2]) -> (f64, f64, [f64; 2]),
    v: [f64; 2],
) {
    let n = (w[0] * v[0] * v[0] + w[1] * v[1] * v[1]).sqrt();
    let (y, dy, g) = along(v);
    assert_eq!(y, 0.0, "{what} along {v:?}");
    close(&format!("{what} along {v:?}: ẏ"), dy, n, TOL);
    close(
        &format!("{what} along {v:?}: ∂x"),
        g[0],
        w[0] * v[0] / n,
        TOL,
    );
    close(
        &format!("{what} along {v:?}: ∂y"),
        g[1],
        w[1] * v[1] / n,
        TOL,
    );
    let fd = one_sided(|p| f(p[0], p[1]), &[0.0, 0.0], &v);
    close(&format!("{what} along {v:?}: one-sided"), dy, fd, FD_TOL);
}

#[test]
fn norms_of_fields_weights_and_accumulations_at_the_origin() {
    type Along2 = dyn Fn([f64; 2]) -> (f64, f64, [f64; 2]);
    type Case<'a> = (&'a str, [f64; 2], &'a dyn Fn(f64, f64) -> f64, &'a Along2);
    let o = P2 { x: 0.0, y: 0.0 };
    let field: &Along2 = &move |v| {
        let (y, dy, pullback) = o.norm_vjp_along(&P2 { x: v[0], y: v[1] });
        let g = pullback(1.0);
        (y, dy, [g.x, g.y])
    };
    let pair: &Along2 = &|v| {
        let (y, dy, pullback) = pair_norm_vjp_along((0.0, 0.0), (v[0], v[1]));
        let g = pullback(1.0);
        (y, dy, [g.0, g.1])
    };
    macro_rules! two {
        ($along:ident) => {
            &|v: [f64; 2]| {
                let (y, dy, pullback) = $along(0.0, 0.0, v[0], v[1]);
                let g = pullback(1.0);
                (y, dy, [g.0, g.1])
            }
        };
    }
    let cases: [Case; 5] = [
        ("field norm", [1.0, 1.0], &|x, y| P2 { x, y }.norm(), field),
        ("pair norm", [1.0, 2.0], &|x, y| pair_norm((x, y)), pair),
        (
            "weighted norm",
            [4.0, 9.0],
            &weighted_norm,
            two!(weighted_norm_vjp_along),
        ),
        (
            "accumulated norm",
            [1.0, 0.25],
            &accumulated_norm,
            two!(accumulated_norm_vjp_along),
        ),
        (
            "mul_add norm",
            [1.0, 1.0],
            &mul_add_norm,
            two!(mul_add_norm_vjp_along),
        ),
    ];
    for (what, w, f, along) in cases {
        for v in compass().into_iter().chain([[0.3, 0.0], [0.0, -0.7]]) {
            check_weighted_norm(what, w, f, along, v);
        }
    }
    // `_jvp` gives the same tangent, and `_grad` the gradient along its seeded direction.
    let v = [1.0, -0.5];
    let (y, dy) = o.norm_jvp(&P2 { x: v[0], y: v[1] });
    assert_eq!((y, dy), (0.0, field(v).1));
    assert_eq!(pair_norm_jvp((0.0, 0.0), (v[0], v[1])), (0.0, pair(v).1));
    assert_eq!(weighted_norm_jvp(0.0, 0.0, v[0], v[1]), (0.0, 2.5));
    let (_, dy) = accumulated_norm_jvp(0.0, 0.0, v[0], v[1]);
    close("accumulated ẏ", dy, 1.0625_f64.sqrt(), TOL);
    let (_, dy) = mul_add_norm_jvp(0.0, 0.0, v[0], v[1]);
    close("mul_add ẏ", dy, 1.25_f64.sqrt(), TOL);
    let seeded = |p: usize| direction(&0.0, p);
    let (y, g) = weighted_norm_grad(0.0, 0.0);
    let (_, _, ga) = two!(weighted_norm_vjp_along)([seeded(0), seeded(1)]);
    assert_eq!((y, [g.0, g.1]), (0.0, ga));
    assert!(
        g.0.is_finite() && g.1.is_finite() && g != (0.0, 0.0),
        "{g:?}"
    );
    let (y, g) = o.norm_grad();
    let d = direction(&o, 0);
    let (_, _, ga) = field([d.x, d.y]);
    assert_eq!((y, [g.x, g.y]), (0.0, ga));
    let (y, g) = pair_norm_grad((0.0, 0.0));
    let d = direction(&(0.0, 0.0), 0);
    assert_eq!((y, [g.0, g.1]), (0.0, pair([d.0, d.1]).2));
    for (name, g) in [
        ("accumulated", accumulated_norm_grad(0.0, 0.0).1),
        ("mul_add", mul_add_norm_grad(0.0, 0.0).1),
    ] {
        assert!(
            g.0.is_finite() && g.1.is_finite() && g != (0.0, 0.0),
            "{name}: {g:?}"
        );
    }
    // Away from the origin, the norm as written: at (3, 4), ∇√(4x² + 9y²) = (4x, 9y)/‖·‖.
    let n = (36.0f64 + 144.0).sqrt();
    let (y, g) = weighted_norm_grad(3.0, 4.0);
    close("value", y, n, TOL);
    close("∂x", g.0, 12.0 / n, TOL);
    close("∂y", g.1, 36.0 / n, TOL);
}

/// A step whose value reads a call counter behind a `&Cell`: 2x + n where x > 1, x + 10 + n
/// elsewhere, n the number of calls so far. Where a tie was decided against the plain
/// comparison, the items called the function again for its value: the counter moved twice and
/// the value was the second call's (13 at x = 1 along +1, neither piece's), silently. A
/// parameter with interior mutability is not passed again: the value is the entered piece's,
/// as for `&mut`, and the function runs once.
#[differentiate(kinks = exact, wrt(x))]
fn counted_step(x: f64, calls: &std::cell::Cell<u32>) -> f64 {
    calls.set(calls.get() + 1);
    let n = calls.get() as f64;
    if x > 1.0 { 2.0 * x + n } else { x + 10.0 + n }
}

#[test]
fn interior_mutability_is_not_called_again() {
    use std::cell::Cell;
    // Along +1 the piece 2x + 1 (value 3, slope 2); along −1 the plain one, x + 11 (12, 1).
    for (v, y, slope) in [(1.0, 3.0, 2.0), (-1.0, 12.0, 1.0)] {
        let c = Cell::new(0);
        assert_eq!(counted_step_jvp(1.0, &c, v), (y, slope * v), "along {v}");
        assert_eq!(c.get(), 1, "calls of _jvp along {v}");
        let c = Cell::new(0);
        let (yy, dy, pullback) = counted_step_vjp_along(1.0, &c, v);
        assert_eq!((yy, dy, pullback(1.0)), (y, slope * v, slope), "along {v}");
        assert_eq!(c.get(), 1, "calls of _vjp_along along {v}");
    }
    let c = Cell::new(0);
    let (y, g) = counted_step_grad(1.0, &c);
    let up = direction(&1.0, 0) > 0.0;
    assert_eq!((y, g), if up { (3.0, 2.0) } else { (12.0, 1.0) });
    assert_eq!(c.get(), 1);
    let c = Cell::new(0);
    let (y, pullback) = counted_step_vjp(1.0, &c);
    assert_eq!((y, pullback(1.0)), (y, g));
    assert_eq!(c.get(), 1);
}
