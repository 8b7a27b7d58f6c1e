//! An audit of every derivative rule the runtime supplies, exercised through `#[differentiate]`:
//! each rule (or family) in a small function, checked in all the modes the macro generates —
//! `_grad`, `_vjp` with a cotangent other than 1, `_jvp` and, under `hessian`, `_hvp` — at
//! several points, at `f64`, at `f32` and as a generic `T: Float` instantiated at both, against
//! an analytic formula (stated beside each case) and against central finite differences.
//!
//! Tolerances:
//! - analytic, f64: `TOL = 1e-12`, absolute up to 1 and relative above (`common::close`);
//! - analytic, f32: the f32 derivative against the exact one evaluated in f64 at the same f32
//!   point, to `F32_TOL = 64·ε_f32` (a rule is a few f32 operations at well-conditioned points);
//!   second derivatives, whose rules are a few more operations, to `F32_TOL2 = 256·ε_f32`;
//! - finite differences: `autodiff::check`'s defaults for the scalar type. Points stay farther
//!   than the step from every kink, jump and domain boundary, except in the kink section, where
//!   the documented convention is compared exactly.

// Forms written on purpose: `x - x` (a zero that depends on x, for the ReLU identities),
// ndarray's negative-index slices (`s![1..-1;-2]`), the items of a generated function passed
// as closures, and the closure types of the harness spelled out where they are used.
#![allow(
    clippy::manual_clamp,
    clippy::eq_op,
    clippy::reversed_empty_ranges,
    clippy::type_complexity,
    clippy::redundant_closure,
    clippy::op_ref,
    clippy::needless_borrows_for_generic_args
)]

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::{Real, differentiate};
use num_traits::Float;

mod common;
use common::{TOL, close};

const F32_TOL: f64 = 64.0 * f32::EPSILON as f64;
const F32_TOL2: f64 = 256.0 * f32::EPSILON as f64;

/// The cotangent every `_vjp` is given, the tangent every `_jvp` and the direction every `_hvp`:
/// not 1, so a rule that drops or squares its cotangent shows.
const COT: f64 = -1.75;
const TAN: f64 = 0.625;
const DIR: f64 = 1.375;

/// Analytic tolerance of a scalar type.
fn tol<S: Real>(second: bool) -> f64 {
    match (S::of_f64(0.1).as_f64() == 0.1, second) {
        (true, _) => TOL,
        (false, false) => F32_TOL,
        (false, true) => F32_TOL2,
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar rules of one input
// ---------------------------------------------------------------------------------------------

/// The five generated items of a function of one scalar, as closures over one scalar type.
struct One<'a, S> {
    f: &'a dyn Fn(S) -> S,
    grad: &'a dyn Fn(S) -> (S, S),
    vjp: &'a dyn Fn(S, S) -> (S, S),
    jvp: &'a dyn Fn(S, S) -> (S, S),
    hvp: &'a dyn Fn(S, S) -> (S, S, S),
}

/// Every mode of a function of one scalar at `x`, against `d1 = f'` and `d2 = f''` (evaluated in
/// f64 at the point as rounded to `S`) and against finite differences. `fd2` is false where the
/// first derivative jumps within the finite-difference step of `x` (only its analytic value is
/// then compared).
#[track_caller]
fn audit_one<S: Real>(
    what: &str,
    items: &One<S>,
    d1: fn(f64) -> f64,
    d2: fn(f64) -> f64,
    x: f64,
    fd: bool,
) {
    let xs = S::of_f64(x);
    let xe = xs.as_f64();
    let what = format!("{what} at {xe}");
    let (t1, t2) = (tol::<S>(false), tol::<S>(true));
    let (e1, e2) = (d1(xe), d2(xe));

    // _grad: the value bit for bit, the derivative analytic and by differences.
    let (y, g) = (items.grad)(xs);
    assert_eq!(
        y.as_f64().to_bits(),
        (items.f)(xs).as_f64().to_bits(),
        "{what}: _grad value"
    );
    close(&format!("{what}: _grad"), g.as_f64(), e1, t1);
    if fd {
        let r = gradcheck(|p: &S| (items.f)(*p), &xs, &g);
        assert!(r.passed(), "{what}: _grad against differences: {r}");
    }

    // _vjp with a cotangent other than 1.
    let (y, pulled) = (items.vjp)(xs, S::of_f64(COT));
    assert_eq!(
        y.as_f64().to_bits(),
        (items.f)(xs).as_f64().to_bits(),
        "{what}: _vjp value"
    );
    close(
        &format!("{what}: _vjp(c = {COT})"),
        pulled.as_f64(),
        COT * e1,
        t1 * COT.abs(),
    );

    // _jvp along a tangent other than 1.
    let (y, tangent) = (items.jvp)(xs, S::of_f64(TAN));
    assert_eq!(
        y.as_f64().to_bits(),
        (items.f)(xs).as_f64().to_bits(),
        "{what}: _jvp value"
    );
    close(
        &format!("{what}: _jvp(v = {TAN})"),
        tangent.as_f64(),
        TAN * e1,
        t1,
    );
    if fd {
        let r = jvpcheck(|p: &S| (items.f)(*p), &xs, &S::of_f64(TAN), &tangent);
        assert!(r.passed(), "{what}: _jvp against differences: {r}");
    }

    // _hvp: the value, the gradient again, and f''·v.
    let (y, g, hv) = (items.hvp)(xs, S::of_f64(DIR));
    assert_eq!(
        y.as_f64().to_bits(),
        (items.f)(xs).as_f64().to_bits(),
        "{what}: _hvp value"
    );
    close(&format!("{what}: _hvp gradient"), g.as_f64(), e1, t1);
    close(
        &format!("{what}: _hvp(v = {DIR})"),
        hv.as_f64(),
        DIR * e2,
        t2 * DIR,
    );
    if fd {
        let r = hvpcheck(|p: &S| (items.grad)(*p).1, &xs, &S::of_f64(DIR), &hv);
        assert!(r.passed(), "{what}: _hvp against differences of _grad: {r}");
    }
}

/// One module per unary float method: `x.m()` in a function of `f64`, one of `f32` and one
/// generic over `T: Float` (instantiated at both), all with `hessian`, audited at every point
/// against the analytic first and second derivative.
macro_rules! audit_unary {
    ($m:ident, |$x:ident| $d1:expr, $d2:expr, [$($p:expr),* $(,)?]) => {
        audit_unary!($m, |$x| $d1, $d2, [$($p),*], fd = true);
    };
    ($m:ident, |$x:ident| $d1:expr, $d2:expr, [$($p:expr),* $(,)?], fd = $fd:expr) => {
        mod $m {
            use super::*;

            #[differentiate(hessian)]
            pub fn double(x: f64) -> f64 {
                x.$m()
            }

            #[differentiate(hessian)]
            pub fn single(x: f32) -> f32 {
                x.$m()
            }

            #[differentiate(hessian)]
            pub fn generic<T: Float>(x: T) -> T {
                x.$m()
            }

            fn d1($x: f64) -> f64 {
                $d1
            }

            fn d2($x: f64) -> f64 {
                $d2
            }

            #[test]
            fn every_mode() {
                let name = stringify!($m);
                for x in [$($p),*] {
                    audit_one(
                        &format!("{name} (f64)"),
                        &One {
                            f: &double,
                            grad: &double_grad,
                            vjp: &|x, c| {
                                let (y, b) = double_vjp(x);
                                (y, b(c))
                            },
                            jvp: &double_jvp,
                            hvp: &double_hvp,
                        },
                        d1,
                        d2,
                        x,
                        $fd,
                    );
                    audit_one(
                        &format!("{name} (f32)"),
                        &One {
                            f: &single,
                            grad: &single_grad,
                            vjp: &|x, c| {
                                let (y, b) = single_vjp(x);
                                (y, b(c))
                            },
                            jvp: &single_jvp,
                            hvp: &single_hvp,
                        },
                        d1,
                        d2,
                        x,
                        $fd,
                    );
                    audit_one(
                        &format!("{name} (T = f64)"),
                        &One {
                            f: &generic::<f64>,
                            grad: &generic_grad::<f64>,
                            vjp: &|x, c| {
                                let (y, b) = generic_vjp::<f64>(x);
                                (y, b(c))
                            },
                            jvp: &generic_jvp::<f64>,
                            hvp: &generic_hvp::<f64>,
                        },
                        d1,
                        d2,
                        x,
                        $fd,
                    );
                    audit_one(
                        &format!("{name} (T = f32)"),
                        &One {
                            f: &generic::<f32>,
                            grad: &generic_grad::<f32>,
                            vjp: &|x, c| {
                                let (y, b) = generic_vjp::<f32>(x);
                                (y, b(c))
                            },
                            jvp: &generic_jvp::<f32>,
                            hvp: &generic_hvp::<f32>,
                        },
                        d1,
                        d2,
                        x,
                        $fd,
                    );
                }
            }
        }
    };
}

use std::f64::consts::{LN_2, LN_10, PI};

// eˣ: f' = f'' = eˣ
audit_unary!(exp, |x| x.exp(), x.exp(), [-2.0, 0.0, 0.7, 3.0]);
// 2ˣ: f' = 2ˣ ln 2, f'' = 2ˣ ln² 2
audit_unary!(
    exp2,
    |x| x.exp2() * LN_2,
    x.exp2() * LN_2 * LN_2,
    [-2.0, 0.0, 0.7, 3.0]
);
// eˣ − 1: f' = f'' = eˣ
audit_unary!(exp_m1, |x| x.exp(), x.exp(), [-1.0, -1e-3, 0.0, 2.0]);
// ln x: f' = 1/x, f'' = −1/x²
audit_unary!(ln, |x| 1.0 / x, -1.0 / (x * x), [0.3, 1.0, 2.5, 40.0]);
// log₂ x: f' = 1/(x ln 2), f'' = −1/(x² ln 2)
audit_unary!(
    log2,
    |x| 1.0 / (x * LN_2),
    -1.0 / (x * x * LN_2),
    [0.3, 1.0, 2.5, 40.0]
);
// log₁₀ x: f' = 1/(x ln 10), f'' = −1/(x² ln 10)
audit_unary!(
    log10,
    |x| 1.0 / (x * LN_10),
    -1.0 / (x * x * LN_10),
    [0.3, 1.0, 2.5, 40.0]
);
// ln(1 + x): f' = 1/(1 + x), f'' = −1/(1 + x)²
audit_unary!(
    ln_1p,
    |x| 1.0 / (1.0 + x),
    -1.0 / ((1.0 + x) * (1.0 + x)),
    [-0.5, 0.0, 1e-3, 3.0]
);
// √x: f' = 1/(2√x), f'' = −1/(4 x^{3/2})
audit_unary!(
    sqrt,
    |x| 0.5 / x.sqrt(),
    -0.25 / x.powf(1.5),
    [0.3, 1.0, 2.0, 30.0]
);
// ∛x: f' = x^{−2/3}/3, f'' = −(2/9) x^{−5/3} (signed for x < 0)
audit_unary!(
    cbrt,
    |x| 1.0 / (3.0 * x.cbrt() * x.cbrt()),
    -2.0 / (9.0 * x.cbrt().powi(5)),
    [-8.0, -0.5, 0.3, 27.0]
);
// 1/x: f' = −1/x², f'' = 2/x³
audit_unary!(
    recip,
    |x| -1.0 / (x * x),
    2.0 / (x * x * x),
    [-2.0, 0.5, 3.0]
);
// sin: f' = cos, f'' = −sin
audit_unary!(sin, |x| x.cos(), -x.sin(), [-2.0, 0.0, 0.7, 3.0]);
// cos: f' = −sin, f'' = −cos
audit_unary!(cos, |x| -x.sin(), -x.cos(), [-2.0, 0.0, 0.7, 3.0]);
// tan: f' = sec² x, f'' = 2 tan x sec² x
audit_unary!(
    tan,
    |x| 1.0 / (x.cos() * x.cos()),
    2.0 * x.tan() / (x.cos() * x.cos()),
    [-1.0, 0.0, 0.7, 1.2]
);
// asin (points at most 0.8 from 0: the f32 differences of f'' with step 1e-2 lose
// accuracy nearer ±1, where f'''' grows): f' = (1 − x²)^{−1/2}, f'' = x (1 − x²)^{−3/2}
audit_unary!(
    asin,
    |x| 1.0 / (1.0 - x * x).sqrt(),
    x / (1.0 - x * x).powf(1.5),
    [-0.8, 0.0, 0.3, 0.7]
);
// acos: f' = −(1 − x²)^{−1/2}, f'' = −x (1 − x²)^{−3/2}
audit_unary!(
    acos,
    |x| -1.0 / (1.0 - x * x).sqrt(),
    -x / (1.0 - x * x).powf(1.5),
    [-0.8, 0.0, 0.3, 0.7]
);
// atan: f' = 1/(1 + x²), f'' = −2x/(1 + x²)²
audit_unary!(
    atan,
    |x| 1.0 / (1.0 + x * x),
    -2.0 * x / ((1.0 + x * x) * (1.0 + x * x)),
    [-5.0, 0.0, 0.7, 3.0]
);
// sinh: f' = cosh, f'' = sinh
audit_unary!(sinh, |x| x.cosh(), x.sinh(), [-2.0, 0.0, 0.7, 3.0]);
// cosh: f' = sinh, f'' = cosh
audit_unary!(cosh, |x| x.sinh(), x.cosh(), [-2.0, 0.0, 0.7, 3.0]);
// tanh: f' = 1/cosh² x, f'' = −2 tanh x / cosh² x
audit_unary!(
    tanh,
    |x| 1.0 / (x.cosh() * x.cosh()),
    -2.0 * x.tanh() / (x.cosh() * x.cosh()),
    [-2.0, 0.0, 0.7, 3.0]
);
// asinh: f' = (x² + 1)^{−1/2}, f'' = −x (x² + 1)^{−3/2}
audit_unary!(
    asinh,
    |x| 1.0 / (x * x + 1.0).sqrt(),
    -x / (x * x + 1.0).powf(1.5),
    [-3.0, 0.0, 0.5, 10.0]
);
// acosh: f' = (x² − 1)^{−1/2}, f'' = −x (x² − 1)^{−3/2}
audit_unary!(
    acosh,
    |x| 1.0 / (x * x - 1.0).sqrt(),
    -x / (x * x - 1.0).powf(1.5),
    [1.5, 2.0, 10.0]
);
// atanh: f' = 1/(1 − x²), f'' = 2x/(1 − x²)²
audit_unary!(
    atanh,
    |x| 1.0 / (1.0 - x * x),
    2.0 * x / ((1.0 - x * x) * (1.0 - x * x)),
    [-0.8, 0.0, 0.5]
);
// |x|: f' = sign x, f'' = 0 away from the kink
audit_unary!(abs, |x| x.signum(), 0.0 * x, [-2.0, -0.1, 0.1, 3.0]);
// signum, floor, ceil, round, trunc: piecewise constant, f' = f'' = 0 between the jumps
audit_unary!(signum, |x| 0.0 * x, 0.0 * x, [-2.0, -0.1, 0.1, 3.0]);
audit_unary!(floor, |x| 0.0 * x, 0.0 * x, [-1.3, 0.4, 2.7]);
audit_unary!(ceil, |x| 0.0 * x, 0.0 * x, [-1.3, 0.4, 2.7]);
audit_unary!(round, |x| 0.0 * x, 0.0 * x, [-1.3, 0.3, 2.7]);
audit_unary!(trunc, |x| 0.0 * x, 0.0 * x, [-1.3, 0.4, 2.7]);
// fract x = x − trunc x: f' = 1, f'' = 0 between the jumps
audit_unary!(fract, |x| 1.0 + 0.0 * x, 0.0 * x, [-1.3, 0.4, 2.7]);
// x·180/π and x·π/180: constant slopes, f'' = 0
audit_unary!(
    to_degrees,
    |x| 180.0 / PI + 0.0 * x,
    0.0 * x,
    [-1.3, 0.4, 2.7]
);
audit_unary!(
    to_radians,
    |x| PI / 180.0 + 0.0 * x,
    0.0 * x,
    [-100.0, 0.4, 270.0]
);

// ---------------------------------------------------------------------------------------------
// Scalar rules of several inputs
// ---------------------------------------------------------------------------------------------

/// The generated items of a function of `n` scalars of one type, as closures over slices.
struct Many<'a, S> {
    f: &'a dyn Fn(&[S]) -> S,
    grad: &'a dyn Fn(&[S]) -> (S, Vec<S>),
    vjp: &'a dyn Fn(&[S], S) -> (S, Vec<S>),
    jvp: &'a dyn Fn(&[S], &[S]) -> (S, S),
    hvp: &'a dyn Fn(&[S], &[S]) -> (S, Vec<S>, Vec<S>),
}

/// The analytic gradient and Hessian of a function of several scalars.
type Exact = fn(&[f64]) -> (Vec<f64>, Vec<Vec<f64>>);

/// Every mode of a function of several scalars at `x`: as [`audit_one`], with the Hessian's
/// columns (`_hvp` along each axis) and a product along a mixed direction.
#[track_caller]
fn audit_many<S: Real>(what: &str, items: &Many<S>, exact: Exact, x: &[f64], fd: bool) {
    let xs: Vec<S> = x.iter().map(|&v| S::of_f64(v)).collect();
    let xe: Vec<f64> = xs.iter().map(|v| v.as_f64()).collect();
    let what = format!("{what} at {xe:?}");
    let (t1, t2) = (tol::<S>(false), tol::<S>(true));
    let (eg, eh) = exact(&xe);
    let n = x.len();
    let y0 = (items.f)(&xs).as_f64().to_bits();

    let (y, g) = (items.grad)(&xs);
    assert_eq!(y.as_f64().to_bits(), y0, "{what}: _grad value");
    for k in 0..n {
        close(&format!("{what}: _grad ∂{k}"), g[k].as_f64(), eg[k], t1);
    }
    if fd {
        let r = gradcheck(|p: &Vec<S>| (items.f)(p), &xs, &g);
        assert!(r.passed(), "{what}: _grad against differences: {r}");
    }

    let (y, pulled) = (items.vjp)(&xs, S::of_f64(COT));
    assert_eq!(y.as_f64().to_bits(), y0, "{what}: _vjp value");
    for k in 0..n {
        let e = COT * eg[k];
        close(
            &format!("{what}: _vjp(c = {COT}) ∂{k}"),
            pulled[k].as_f64(),
            e,
            t1 * COT.abs(),
        );
    }

    // A direction with a different weight on each input.
    let v: Vec<S> = (0..n)
        .map(|k| S::of_f64(TAN * (1.0 - 0.75 * k as f64)))
        .collect();
    let (y, tangent) = (items.jvp)(&xs, &v);
    assert_eq!(y.as_f64().to_bits(), y0, "{what}: _jvp value");
    let e: f64 = (0..n).map(|k| eg[k] * v[k].as_f64()).sum();
    close(
        &format!("{what}: _jvp"),
        tangent.as_f64(),
        e,
        t1 * (1.0 + e.abs()),
    );
    if fd {
        let r = jvpcheck(|p: &Vec<S>| (items.f)(p), &xs, &v, &tangent);
        assert!(r.passed(), "{what}: _jvp against differences: {r}");
    }

    // The Hessian column by column, then along the mixed direction against differences.
    for j in 0..n {
        let mut e = vec![S::of_f64(0.0); n];
        e[j] = S::of_f64(DIR);
        let (y, g, hv) = (items.hvp)(&xs, &e);
        assert_eq!(y.as_f64().to_bits(), y0, "{what}: _hvp value");
        for k in 0..n {
            close(
                &format!("{what}: _hvp gradient ∂{k}"),
                g[k].as_f64(),
                eg[k],
                t1,
            );
            close(
                &format!("{what}: _hvp H[{k}][{j}]·{DIR}"),
                hv[k].as_f64(),
                DIR * eh[k][j],
                t2 * DIR,
            );
        }
    }
    if fd {
        let (_, _, hv) = (items.hvp)(&xs, &v);
        let r = hvpcheck(|p: &Vec<S>| (items.grad)(p).1, &xs, &v, &hv);
        assert!(r.passed(), "{what}: _hvp against differences of _grad: {r}");
    }
}

/// One module per rule of two inputs: `$body` over `x` and `a` in a function of `f64`, one of
/// `f32` and (unless `concrete`) one generic over `T: Float`, all with `hessian`.
macro_rules! audit_binary {
    ($name:ident, |$x:ident, $a:ident| $body:expr, $exact:expr, [$($p:expr),* $(,)?]) => {
        audit_binary!(@ $name, |$x, $a| $body, $exact, [$($p),*], true, generic);
    };
    ($name:ident, |$x:ident, $a:ident| $body:expr, $exact:expr, [$($p:expr),* $(,)?],
     fd = $fd:expr) => {
        audit_binary!(@ $name, |$x, $a| $body, $exact, [$($p),*], $fd, generic);
    };
    ($name:ident, |$x:ident, $a:ident| $body:expr, $exact:expr, [$($p:expr),* $(,)?],
     concrete) => {
        audit_binary!(@ $name, |$x, $a| $body, $exact, [$($p),*], true, concrete);
    };
    (@ $name:ident, |$x:ident, $a:ident| $body:expr, $exact:expr, [$($p:expr),*], $fd:expr,
     $kind:ident) => {
        mod $name {
            use super::*;

            #[differentiate(hessian)]
            pub fn double($x: f64, $a: f64) -> f64 {
                $body
            }

            #[differentiate(hessian)]
            pub fn single($x: f32, $a: f32) -> f32 {
                $body
            }

            audit_binary!(@generic $kind, |$x, $a| $body);

            #[test]
            fn every_mode() {
                let name = stringify!($name);
                let exact: Exact = $exact;
                for p in [$($p),*] {
                    let p: [f64; 2] = p;
                    audit_binary!(@check name, "f64", exact, p, $fd, double, double_grad,
                        double_vjp, double_jvp, double_hvp);
                    audit_binary!(@check name, "f32", exact, p, $fd, single, single_grad,
                        single_vjp, single_jvp, single_hvp);
                    audit_binary!(@checkgeneric $kind, name, exact, p, $fd);
                }
            }
        }
    };
    (@generic generic, |$x:ident, $a:ident| $body:expr) => {
        #[differentiate(hessian)]
        pub fn generic<T: Float>($x: T, $a: T) -> T {
            $body
        }
    };
    (@generic concrete, |$x:ident, $a:ident| $body:expr) => {};
    (@checkgeneric generic, $name:expr, $exact:expr, $p:expr, $fd:expr) => {
        audit_binary!(@check $name, "T = f64", $exact, $p, $fd, generic::<f64>,
            generic_grad::<f64>, generic_vjp::<f64>, generic_jvp::<f64>, generic_hvp::<f64>);
        audit_binary!(@check $name, "T = f32", $exact, $p, $fd, generic::<f32>,
            generic_grad::<f32>, generic_vjp::<f32>, generic_jvp::<f32>, generic_hvp::<f32>);
    };
    (@checkgeneric concrete, $name:expr, $exact:expr, $p:expr, $fd:expr) => {};
    (@check $name:expr, $ty:literal, $exact:expr, $p:expr, $fd:expr, $f:expr, $grad:expr,
     $vjp:expr, $jvp:expr, $hvp:expr) => {
        audit_many(
            &format!("{} ({})", $name, $ty),
            &Many {
                f: &|v| $f(v[0], v[1]),
                grad: &|v| {
                    let (y, g) = $grad(v[0], v[1]);
                    (y, vec![g.0, g.1])
                },
                vjp: &|v, c| {
                    let (y, b) = $vjp(v[0], v[1]);
                    let g = b(c);
                    (y, vec![g.0, g.1])
                },
                jvp: &|v, d| $jvp(v[0], v[1], d[0], d[1]),
                hvp: &|v, d| {
                    let (y, g, h) = $hvp(v[0], v[1], d[0], d[1]);
                    (y, vec![g.0, g.1], vec![h.0, h.1])
                },
            },
            $exact,
            &$p,
            $fd,
        )
    };
}

/// A gradient and Hessian that are zero but for the constant gradient `g` (piecewise-linear
/// rules between their kinks).
fn linear(g: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    (g.to_vec(), vec![vec![0.0; g.len()]; g.len()])
}

// xᵖ (x > 0): ∇ = (p xᵖ⁻¹, xᵖ ln x),
// H = [[p(p−1)xᵖ⁻², xᵖ⁻¹(1 + p ln x)], [·, xᵖ ln² x]]
audit_binary!(
    powf,
    |x, p| x.powf(p),
    |v| {
        let (x, p) = (v[0], v[1]);
        let l = x.ln();
        let m = x.powf(p - 1.0) * (1.0 + p * l);
        (
            vec![p * x.powf(p - 1.0), x.powf(p) * l],
            vec![
                vec![p * (p - 1.0) * x.powf(p - 2.0), m],
                vec![m, x.powf(p) * l * l],
            ],
        )
    },
    [[0.5, 2.5], [1.7, -0.6], [2.0, 3.0], [3.0, 0.5]]
);
// log_b x = ln x / ln b: ∇ = (1/(x ln b), −ln x/(b ln² b)),
// H = [[−1/(x² ln b), −1/(x b ln² b)], [·, ln x (ln b + 2)/(b² ln³ b)]]
audit_binary!(
    log,
    |x, b| x.log(b),
    |v| {
        let (x, b) = (v[0], v[1]);
        let (lx, lb) = (x.ln(), b.ln());
        let m = -1.0 / (x * b * lb * lb);
        (
            vec![1.0 / (x * lb), -lx / (b * lb * lb)],
            vec![
                vec![-1.0 / (x * x * lb), m],
                vec![m, lx * (lb + 2.0) / (b * b * lb * lb * lb)],
            ],
        )
    },
    [[0.5, 2.5], [3.0, 10.0], [7.0, 0.3]]
);
// x.atan2(a), the angle of (a, x), r² = x² + a²: ∇ = (a/r², −x/r²),
// H = [[−2xa/r⁴, (x² − a²)/r⁴], [·, 2xa/r⁴]] — in all four quadrants and on the axes but the
// negative a axis, where the angle jumps from π to −π (its convention is in the kink section)
fn atan2_exact(v: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let (x, a) = (v[0], v[1]);
    let r2 = x * x + a * a;
    let r4 = r2 * r2;
    let m = (x * x - a * a) / r4;
    (
        vec![a / r2, -x / r2],
        vec![vec![-2.0 * x * a / r4, m], vec![m, 2.0 * x * a / r4]],
    )
}
audit_binary!(
    atan2,
    |x, a| x.atan2(a),
    atan2_exact,
    [
        [0.5, 1.5],
        [0.8, -1.2],
        [-0.7, -0.4],
        [-1.1, 0.9],
        [0.0, 2.0],
        [1.0, 0.0],
        [-2.0, 0.0]
    ]
);
// hypot(x, a) = r: ∇ = (x/r, a/r), H = [[a²/r³, −xa/r³], [·, x²/r³]]
audit_binary!(
    hypot,
    |x, a| x.hypot(a),
    |v| {
        let (x, a) = (v[0], v[1]);
        let r = x.hypot(a);
        let r3 = r * r * r;
        (
            vec![x / r, a / r],
            vec![vec![a * a / r3, -x * a / r3], vec![-x * a / r3, x * x / r3]],
        )
    },
    [[3.0, 4.0], [-0.5, 1.2], [-2.0, -0.3], [0.0, 1.5]]
);
// max(x, a): ∇ = (1, 0) where x > a, (0, 1) where a > x; H = 0
audit_binary!(
    max,
    |x, a| x.max(a),
    |v| linear(if v[0] > v[1] {
        &[1.0, 0.0]
    } else {
        &[0.0, 1.0]
    }),
    [[1.0, -0.5], [-2.0, 0.3], [0.4, 0.2]]
);
// min(x, a): ∇ = (1, 0) where x < a, (0, 1) where a < x; H = 0
audit_binary!(
    min,
    |x, a| x.min(a),
    |v| linear(if v[0] < v[1] {
        &[1.0, 0.0]
    } else {
        &[0.0, 1.0]
    }),
    [[1.0, -0.5], [-2.0, 0.3], [0.4, 0.2]]
);
// copysign(x, s) = |x| sign s: ∇ = (sign x · sign s, 0); H = 0 (x, s away from 0)
audit_binary!(
    copysign,
    |x, s| x.copysign(s),
    |v| linear(&[v[0].signum() * v[1].signum(), 0.0]),
    [[1.5, 2.0], [1.5, -0.5], [-0.7, 3.0], [-2.0, -1.0]]
);
// x.rem_euclid(m) = x − m·q, q = sign m · ⌊x/|m|⌋: ∇ = (1, −q); H = 0 between the jumps
// (not a `Float` method: f64 and f32 only)
audit_binary!(
    rem_euclid,
    |x, m| x.rem_euclid(m),
    |v| linear(&[1.0, -(v[1].signum() * (v[0] / v[1].abs()).floor())]),
    [
        [5.3, 2.0],
        [-1.3, 0.4],
        [7.5, -2.0],
        [-3.7, -1.5],
        [0.25, 3.0]
    ],
    concrete
);
// x.div_euclid(m) = q, piecewise constant: ∇ = (0, 0); H = 0 between the jumps
// (not a `Float` method: f64 and f32 only)
audit_binary!(
    div_euclid,
    |x, m| x.div_euclid(m),
    |_v| linear(&[0.0, 0.0]),
    [[5.3, 2.0], [-1.3, 0.4], [7.5, -2.0], [-3.7, -1.5]],
    concrete
);
// x % m = x − m·q, q = (x/m).trunc() (the quotient the remainder was taken with): ∇ = (1, −q);
// H = 0 between the jumps (written `x % m` on f64 and f32)
audit_binary!(
    rem,
    |x, m| x % m,
    |v| linear(&[1.0, -(v[0] / v[1]).trunc()]),
    [
        [5.3, 2.3],
        [-1.3, 0.45],
        [7.5, -2.3],
        [-3.7, -1.5],
        [0.25, 3.0]
    ],
    concrete
);
// The operators. a + b: ∇ = (1, 1); a − b: ∇ = (1, −1); H = 0
audit_binary!(
    add,
    |a, b| a + b,
    |_| linear(&[1.0, 1.0]),
    [[0.5, -1.5], [2.0, 3.0]]
);
audit_binary!(
    sub,
    |a, b| a - b,
    |_| linear(&[1.0, -1.0]),
    [[0.5, -1.5], [2.0, 3.0]]
);
// a·b: ∇ = (b, a), H = [[0, 1], [1, 0]]
audit_binary!(
    mul,
    |a, b| a * b,
    |v| (vec![v[1], v[0]], vec![vec![0.0, 1.0], vec![1.0, 0.0]]),
    [[0.5, -1.5], [2.0, 3.0]]
);
// a/b: ∇ = (1/b, −a/b²), H = [[0, −1/b²], [−1/b², 2a/b³]]
audit_binary!(
    div,
    |a, b| a / b,
    |v| {
        let (a, b) = (v[0], v[1]);
        (
            vec![1.0 / b, -a / (b * b)],
            vec![
                vec![0.0, -1.0 / (b * b)],
                vec![-1.0 / (b * b), 2.0 * a / (b * b * b)],
            ],
        )
    },
    [[0.5, -1.5], [2.0, 3.0], [-1.0, 0.4]]
);
// −a·b (negation of a product): ∇ = (−b, −a), H = [[0, −1], [−1, 0]]
audit_binary!(
    neg,
    |a, b| -(a * b),
    |v| (vec![-v[1], -v[0]], vec![vec![0.0, -1.0], vec![-1.0, 0.0]]),
    [[0.5, -1.5], [2.0, 3.0]]
);

/// One module per rule of three inputs, as [`audit_binary!`] (always with a generic version).
macro_rules! audit_ternary {
    ($name:ident, |$x:ident, $a:ident, $b:ident| $body:expr, $exact:expr,
     [$($p:expr),* $(,)?]) => {
        mod $name {
            use super::*;

            #[differentiate(hessian)]
            pub fn double($x: f64, $a: f64, $b: f64) -> f64 {
                $body
            }

            #[differentiate(hessian)]
            pub fn single($x: f32, $a: f32, $b: f32) -> f32 {
                $body
            }

            #[differentiate(hessian)]
            pub fn generic<T: Float>($x: T, $a: T, $b: T) -> T {
                $body
            }

            #[test]
            fn every_mode() {
                let name = stringify!($name);
                let exact: Exact = $exact;
                for p in [$($p),*] {
                    let p: [f64; 3] = p;
                    audit_ternary!(@check name, "f64", exact, p, double, double_grad,
                        double_vjp, double_jvp, double_hvp);
                    audit_ternary!(@check name, "f32", exact, p, single, single_grad,
                        single_vjp, single_jvp, single_hvp);
                    audit_ternary!(@check name, "T = f64", exact, p, generic::<f64>,
                        generic_grad::<f64>, generic_vjp::<f64>, generic_jvp::<f64>,
                        generic_hvp::<f64>);
                    audit_ternary!(@check name, "T = f32", exact, p, generic::<f32>,
                        generic_grad::<f32>, generic_vjp::<f32>, generic_jvp::<f32>,
                        generic_hvp::<f32>);
                }
            }
        }
    };
    (@check $name:expr, $ty:literal, $exact:expr, $p:expr, $f:expr, $grad:expr, $vjp:expr,
     $jvp:expr, $hvp:expr) => {
        audit_many(
            &format!("{} ({})", $name, $ty),
            &Many {
                f: &|v| $f(v[0], v[1], v[2]),
                grad: &|v| {
                    let (y, g) = $grad(v[0], v[1], v[2]);
                    (y, vec![g.0, g.1, g.2])
                },
                vjp: &|v, c| {
                    let (y, b) = $vjp(v[0], v[1], v[2]);
                    let g = b(c);
                    (y, vec![g.0, g.1, g.2])
                },
                jvp: &|v, d| $jvp(v[0], v[1], v[2], d[0], d[1], d[2]),
                hvp: &|v, d| {
                    let (y, g, h) = $hvp(v[0], v[1], v[2], d[0], d[1], d[2]);
                    (y, vec![g.0, g.1, g.2], vec![h.0, h.1, h.2])
                },
            },
            $exact,
            &$p,
            true,
        )
    };
}

// x·a + b: ∇ = (a, x, 1), H = [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
audit_ternary!(
    mul_add,
    |x, a, b| x.mul_add(a, b),
    |v| {
        (
            vec![v[1], v[0], 1.0],
            vec![vec![0.0, 1.0, 0.0], vec![1.0, 0.0, 0.0], vec![0.0; 3]],
        )
    },
    [[2.0, 3.0, 4.0], [-0.5, 1.5, -2.0], [0.0, 0.0, 0.0]]
);
// clamp(x, lo, hi): ∇ = (1, 0, 0) inside, (0, 1, 0) below, (0, 0, 1) above; H = 0
audit_ternary!(
    clamp,
    |x, lo, hi| x.clamp(lo, hi),
    |v| {
        linear(if v[0] < v[1] {
            &[0.0, 1.0, 0.0]
        } else if v[0] > v[2] {
            &[0.0, 0.0, 1.0]
        } else {
            &[1.0, 0.0, 0.0]
        })
    },
    [[0.5, -1.0, 1.0], [-2.0, -1.0, 1.0], [3.0, -1.0, 1.0]]
);

// xⁿ with an integer exponent (inactive): f' = n xⁿ⁻¹, f'' = n(n − 1) xⁿ⁻², for n from −3 to 5,
// at negative points too.
mod powi {
    use super::*;

    #[differentiate(hessian)]
    pub fn double(x: f64, n: i32) -> f64 {
        x.powi(n)
    }

    #[differentiate(hessian)]
    pub fn single(x: f32, n: i32) -> f32 {
        x.powi(n)
    }

    #[differentiate(hessian)]
    pub fn generic<T: Float>(x: T, n: i32) -> T {
        x.powi(n)
    }

    #[test]
    fn every_mode() {
        for n in -3..=5 {
            let d1 = move |x: f64| n as f64 * x.powi(n - 1);
            let d2 = move |x: f64| (n * (n - 1)) as f64 * x.powi(n - 2);
            for x in [-1.5, -0.6, 0.7, 2.0] {
                let xs = x as f32;
                // Every exponent in the range, analytically; the five below in every mode.
                let what = format!("powi({n})");
                let (_, g) = double_grad(x, n);
                close(&format!("{what} at {x}"), g, d1(x), TOL);
                let (_, g32) = single_grad(xs, n);
                close(
                    &format!("{what} f32 at {x}"),
                    g32 as f64,
                    d1(xs as f64),
                    F32_TOL,
                );
                let (_, g, h) = generic_hvp::<f64>(x, n, DIR);
                close(&format!("{what} T at {x}"), g, d1(x), TOL);
                close(&format!("{what} T H at {x}"), h, DIR * d2(x), TOL * DIR);
            }
        }
        macro_rules! every_n {
            ($($n:literal => $d1:expr, $d2:expr;)*) => {$(
                for x in [-1.5, -0.6, 0.7, 2.0] {
                    audit_one(
                        concat!("powi(", $n, ") (f64)"),
                        &One {
                            f: &|x| double(x, $n),
                            grad: &|x| double_grad(x, $n),
                            vjp: &|x, c| {
                                let (y, b) = double_vjp(x, $n);
                                (y, b(c))
                            },
                            jvp: &|x, d| double_jvp(x, $n, d),
                            hvp: &|x, d| double_hvp(x, $n, d),
                        },
                        $d1,
                        $d2,
                        x,
                        true,
                    );
                    audit_one(
                        concat!("powi(", $n, ") (f32)"),
                        &One {
                            f: &|x| single(x, $n),
                            grad: &|x| single_grad(x, $n),
                            vjp: &|x, c| {
                                let (y, b) = single_vjp(x, $n);
                                (y, b(c))
                            },
                            jvp: &|x, d| single_jvp(x, $n, d),
                            hvp: &|x, d| single_hvp(x, $n, d),
                        },
                        $d1,
                        $d2,
                        x,
                        true,
                    );
                    audit_one(
                        concat!("powi(", $n, ") (T = f32)"),
                        &One {
                            f: &|x| generic::<f32>(x, $n),
                            grad: &|x| generic_grad::<f32>(x, $n),
                            vjp: &|x, c| {
                                let (y, b) = generic_vjp::<f32>(x, $n);
                                (y, b(c))
                            },
                            jvp: &|x, d| generic_jvp::<f32>(x, $n, d),
                            hvp: &|x, d| generic_hvp::<f32>(x, $n, d),
                        },
                        $d1,
                        $d2,
                        x,
                        true,
                    );
                }
            )*};
        }
        every_n! {
            -3 => |x| -3.0 / x.powi(4), |x| 12.0 / x.powi(5);
            0 => |x| 0.0 * x, |x| 0.0 * x;
            1 => |x| 1.0 + 0.0 * x, |x| 0.0 * x;
            2 => |x| 2.0 * x, |x| 2.0 + 0.0 * x;
            5 => |x| 5.0 * x.powi(4), |x| 20.0 * x.powi(3);
        }
    }
}

// sin_cos, the one rule with a tuple result: f(x) = s + 3c with (s, c) = x.sin_cos():
// f' = cos x − 3 sin x, f'' = −sin x − 3 cos x
mod sin_cos {
    use super::*;

    #[differentiate(hessian)]
    pub fn double(x: f64) -> f64 {
        let (s, c) = x.sin_cos();
        s + 3.0 * c
    }

    #[differentiate(hessian)]
    pub fn single(x: f32) -> f32 {
        let (s, c) = x.sin_cos();
        s + 3.0 * c
    }

    /// The tuple itself: its pullback of (ḡ₀, ḡ₁) is ḡ₀ cos x − ḡ₁ sin x, its tangent
    /// (cos x, −sin x)·dx.
    #[differentiate]
    pub fn pair(x: f64) -> (f64, f64) {
        x.sin_cos()
    }

    #[test]
    fn every_mode() {
        for x in [-2.0, 0.0, 0.7, 3.0] {
            audit_one(
                "sin_cos (f64)",
                &One {
                    f: &double,
                    grad: &double_grad,
                    vjp: &|x, c| {
                        let (y, b) = double_vjp(x);
                        (y, b(c))
                    },
                    jvp: &double_jvp,
                    hvp: &double_hvp,
                },
                |x| x.cos() - 3.0 * x.sin(),
                |x| -x.sin() - 3.0 * x.cos(),
                x,
                true,
            );
            audit_one(
                "sin_cos (f32)",
                &One {
                    f: &single,
                    grad: &single_grad,
                    vjp: &|x, c| {
                        let (y, b) = single_vjp(x);
                        (y, b(c))
                    },
                    jvp: &single_jvp,
                    hvp: &single_hvp,
                },
                |x| x.cos() - 3.0 * x.sin(),
                |x| -x.sin() - 3.0 * x.cos(),
                x,
                true,
            );
            let (y, b) = pair_vjp(x);
            assert_eq!(y, x.sin_cos());
            close(
                "sin_cos pullback",
                b((COT, TAN)),
                COT * x.cos() - TAN * x.sin(),
                TOL,
            );
            let (y, t) = pair_jvp(x, DIR);
            assert_eq!(y, x.sin_cos());
            close("sin_cos tangent.0", t.0, DIR * x.cos(), TOL);
            close("sin_cos tangent.1", t.1, -DIR * x.sin(), TOL);
            let r = jvpcheck(|p: &f64| pair(*p), &x, &DIR, &t);
            assert!(r.passed(), "sin_cos tangent against differences: {r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The documented conventions at kinks and jumps, in every mode
// ---------------------------------------------------------------------------------------------

/// The modes of a function of several scalars at a kink: `_grad` is the documented gradient `g`
/// exactly, `_vjp(c)` is `c·g`, `_jvp(v)` is `⟨g, v⟩` (forward mode applies the same element of
/// the Clarke gradient) and `_hvp(v)` returns `g` and `h·v` (`h` the Hessian of the piece, zero
/// for the piecewise-linear rules), all compared exactly but for rounding of the products.
#[track_caller]
fn at_kink<S: Real>(what: &str, items: &Many<S>, x: &[f64], g: &[f64], h: &[Vec<f64>]) {
    let xs: Vec<S> = x.iter().map(|&v| S::of_f64(v)).collect();
    let n = x.len();
    let what = format!("{what} at {x:?}");
    let t = tol::<S>(false);
    let (_, got) = (items.grad)(&xs);
    let got: Vec<f64> = got.iter().map(|v| v.as_f64()).collect();
    let rounded: Vec<f64> = g.iter().map(|&v| S::of_f64(v).as_f64()).collect();
    assert_eq!(got, rounded, "{what}: _grad");
    let (_, pulled) = (items.vjp)(&xs, S::of_f64(COT));
    for k in 0..n {
        close(
            &format!("{what}: _vjp ∂{k}"),
            pulled[k].as_f64(),
            COT * g[k],
            t,
        );
    }
    let v: Vec<S> = (0..n)
        .map(|k| S::of_f64(TAN * (1.0 - 0.75 * k as f64)))
        .collect();
    let (_, tangent) = (items.jvp)(&xs, &v);
    let e: f64 = (0..n).map(|k| g[k] * v[k].as_f64()).sum();
    close(&format!("{what}: _jvp"), tangent.as_f64(), e, t);
    let (_, g2, hv) = (items.hvp)(&xs, &v);
    for k in 0..n {
        close(
            &format!("{what}: _hvp gradient ∂{k}"),
            g2[k].as_f64(),
            g[k],
            t,
        );
        let e: f64 = (0..n).map(|j| h[k][j] * v[j].as_f64()).sum();
        close(&format!("{what}: _hvp ∂{k}"), hv[k].as_f64(), e, t);
    }
}

/// A module of functions of `x` (and `a`, `b`) with `hessian` in f64, f32 and generic `T`, each
/// checked at the listed kinks against the documented gradient (and Hessian, zero unless given).
macro_rules! kink_cases {
    ($name:ident, |$($x:ident),+| $body:expr, [$($p:expr => $g:expr),* $(,)?]) => {
        mod $name {
            use super::*;

            #[differentiate(hessian)]
            pub fn double($($x: f64),+) -> f64 {
                $body
            }

            #[differentiate(hessian)]
            pub fn single($($x: f32),+) -> f32 {
                $body
            }

            #[differentiate(hessian)]
            pub fn generic<T: Float>($($x: T),+) -> T {
                $body
            }

            #[test]
            fn convention() {
                let name = stringify!($name);
                let cases: &[(&[f64], &[f64])] = &[$((&$p, &$g)),*];
                for &(p, g) in cases {
                    let h = vec![vec![0.0; g.len()]; g.len()];
                    kink_cases!(@check name, "f64", p, g, &h, double, double_grad,
                        double_vjp, double_jvp, double_hvp; $($x),+);
                    kink_cases!(@check name, "f32", p, g, &h, single, single_grad,
                        single_vjp, single_jvp, single_hvp; $($x),+);
                    kink_cases!(@check name, "T = f64", p, g, &h, generic::<f64>,
                        generic_grad::<f64>, generic_vjp::<f64>, generic_jvp::<f64>,
                        generic_hvp::<f64>; $($x),+);
                    kink_cases!(@check name, "T = f32", p, g, &h, generic::<f32>,
                        generic_grad::<f32>, generic_vjp::<f32>, generic_jvp::<f32>,
                        generic_hvp::<f32>; $($x),+);
                }
            }
        }
    };
    (@check $name:expr, $ty:literal, $p:expr, $g:expr, $h:expr, $f:expr, $grad:expr,
     $vjp:expr, $jvp:expr, $hvp:expr; $x:ident) => {
        at_kink(
            &format!("{} ({})", $name, $ty),
            &Many {
                f: &|v| $f(v[0]),
                grad: &|v| {
                    let (y, g) = $grad(v[0]);
                    (y, vec![g])
                },
                vjp: &|v, c| {
                    let (y, b) = $vjp(v[0]);
                    (y, vec![b(c)])
                },
                jvp: &|v, d| $jvp(v[0], d[0]),
                hvp: &|v, d| {
                    let (y, g, h) = $hvp(v[0], d[0]);
                    (y, vec![g], vec![h])
                },
            },
            $p,
            $g,
            $h,
        )
    };
    (@check $name:expr, $ty:literal, $p:expr, $g:expr, $h:expr, $f:expr, $grad:expr,
     $vjp:expr, $jvp:expr, $hvp:expr; $x:ident, $a:ident) => {
        at_kink(
            &format!("{} ({})", $name, $ty),
            &Many {
                f: &|v| $f(v[0], v[1]),
                grad: &|v| {
                    let (y, g) = $grad(v[0], v[1]);
                    (y, vec![g.0, g.1])
                },
                vjp: &|v, c| {
                    let (y, b) = $vjp(v[0], v[1]);
                    let g = b(c);
                    (y, vec![g.0, g.1])
                },
                jvp: &|v, d| $jvp(v[0], v[1], d[0], d[1]),
                hvp: &|v, d| {
                    let (y, g, h) = $hvp(v[0], v[1], d[0], d[1]);
                    (y, vec![g.0, g.1], vec![h.0, h.1])
                },
            },
            $p,
            $g,
            $h,
        )
    };
    (@check $name:expr, $ty:literal, $p:expr, $g:expr, $h:expr, $f:expr, $grad:expr,
     $vjp:expr, $jvp:expr, $hvp:expr; $x:ident, $a:ident, $b:ident) => {
        at_kink(
            &format!("{} ({})", $name, $ty),
            &Many {
                f: &|v| $f(v[0], v[1], v[2]),
                grad: &|v| {
                    let (y, g) = $grad(v[0], v[1], v[2]);
                    (y, vec![g.0, g.1, g.2])
                },
                vjp: &|v, c| {
                    let (y, b) = $vjp(v[0], v[1], v[2]);
                    let g = b(c);
                    (y, vec![g.0, g.1, g.2])
                },
                jvp: &|v, d| $jvp(v[0], v[1], v[2], d[0], d[1], d[2]),
                hvp: &|v, d| {
                    let (y, g, h) = $hvp(v[0], v[1], v[2], d[0], d[1], d[2]);
                    (y, vec![g.0, g.1, g.2], vec![h.0, h.1, h.2])
                },
            },
            $p,
            $g,
            $h,
        )
    };
}

mod kinks {
    use super::*;

    // |x| at 0: the minimum-norm element of [−1, 1], 0 (also at −0).
    kink_cases!(abs, |x| x.abs(), [[0.0] => [0.0], [-0.0] => [0.0]]);
    // max/min with tied arguments: g/2 to each.
    kink_cases!(max, |x, a| x.max(a), [[1.5, 1.5] => [0.5, 0.5], [0.0, 0.0] => [0.5, 0.5]]);
    kink_cases!(min, |x, a| x.min(a), [[-2.0, -2.0] => [0.5, 0.5], [0.0, 0.0] => [0.5, 0.5]]);
    // clamp at a bound: g/2 to x and g/2 to that bound; g/3 each where x == lo == hi.
    kink_cases!(clamp, |x, lo, hi| x.clamp(lo, hi), [
        [-1.0, -1.0, 1.0] => [0.5, 0.5, 0.0],
        [1.0, -1.0, 1.0] => [0.5, 0.0, 0.5],
        [0.5, 0.5, 0.5] => [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
    ]);
    // copysign at x = 0: 0 in x (as abs); 0 in s, also at its jump s = 0.
    kink_cases!(copysign, |x, s| x.copysign(s), [
        [0.0, 1.0] => [0.0, 0.0],
        [0.0, -1.0] => [0.0, 0.0],
        [2.0, 0.0] => [1.0, 0.0],
        [2.0, -0.0] => [-1.0, 0.0],
    ]);
    // hypot at the origin: the minimum-norm element of the unit disc, 0.
    kink_cases!(hypot, |x, a| x.hypot(a), [[0.0, 0.0] => [0.0, 0.0]]);
    // atan2 at the origin: 0 for both partials.
    kink_cases!(atan2, |x, a| x.atan2(a), [[0.0, 0.0] => [0.0, 0.0]]);
    // On the negative a axis, where the angle jumps from π to −π, the jump is ignored: the
    // derivatives are those of either side, ∂x = a/r² = −1/|a|, ∂a = −x/r² = 0, H as elsewhere
    // (no finite differences across the jump).
    audit_binary!(
        atan2_branch_cut,
        |x, a| x.atan2(a),
        atan2_exact,
        [[0.0, -2.0], [-0.0, -0.5]],
        fd = false
    );
    // The piecewise-constant rules at their jumps: 0; fract = x − trunc x: 1.
    kink_cases!(signum, |x| x.signum(), [[0.0] => [0.0], [-0.0] => [0.0]]);
    kink_cases!(floor, |x| x.floor(), [[1.0] => [0.0], [-2.0] => [0.0]]);
    kink_cases!(ceil, |x| x.ceil(), [[1.0] => [0.0], [-2.0] => [0.0]]);
    kink_cases!(round, |x| x.round(), [[0.5] => [0.0], [-1.5] => [0.0]]);
    kink_cases!(trunc, |x| x.trunc(), [[1.0] => [0.0], [-2.0] => [0.0]]);
    kink_cases!(fract, |x| x.fract(), [[1.0] => [1.0], [-2.0] => [1.0], [0.0] => [1.0]]);
    // The lecture: ReLU(x) − ReLU(−x) = x, with ReLU written as max(x, 0), has derivative 1 at
    // 0 (each ReLU gives 1/2 at its tie); |x| = ReLU(x) + ReLU(−x) has 0 there, as abs does.
    kink_cases!(relu_difference, |x| x.max(x - x) - (-x).max(x - x), [[0.0] => [1.0]]);
    kink_cases!(relu_sum, |x| x.max(x - x) + (-x).max(x - x), [[0.0] => [0.0]]);
    // max(x, 0) with a literal bound: the bound is a constant, so x gets its half of the tie.
    mod relu_literal {
        use super::*;

        #[differentiate(hessian)]
        pub fn double(x: f64) -> f64 {
            x.max(0.0) - (-x).max(0.0)
        }

        #[differentiate(hessian)]
        pub fn single(x: f32) -> f32 {
            x.max(0.0) - (-x).max(0.0)
        }

        #[test]
        fn convention() {
            assert_eq!(double_grad(0.0).1, 1.0);
            assert_eq!(double_jvp(0.0, TAN).1, TAN);
            assert_eq!(double_hvp(0.0, DIR), (0.0, 1.0, 0.0));
            assert_eq!(double_vjp(0.0).1(COT), COT);
            assert_eq!(single_grad(0.0).1, 1.0);
            assert_eq!(single_hvp(0.0, 1.5), (0.0, 1.0, 0.0));
        }
    }
}

/// The lecture's f₄ = ReLU(ReLU(x)) − ReLU(−x) = x: no fixed choice at the kink is exact for
/// every composition (the default gives 1/2·1/2 + 1/2 = 3/4 at 0), `kinks = exact` gives 1, with
/// `hessian` too (f₄″ = 0).
mod lecture_f4 {
    use super::*;

    #[differentiate(hessian)]
    fn relu(x: f64) -> f64 {
        x.max(0.0)
    }

    #[differentiate(hessian)]
    pub fn default(x: f64) -> f64 {
        relu(relu(x)) - relu(-x)
    }

    #[differentiate(kinks = exact)]
    fn relu_exact(x: f64) -> f64 {
        x.max(0.0)
    }

    #[differentiate(kinks = exact)]
    pub fn exact(x: f64) -> f64 {
        relu_exact(relu_exact(x)) - relu_exact(-x)
    }

    #[test]
    fn at_zero() {
        assert_eq!(default_grad(0.0).1, 0.75);
        assert_eq!(default_jvp(0.0, TAN).1, 0.75 * TAN);
        assert_eq!(default_hvp(0.0, DIR), (0.0, 0.75, 0.0));
        assert_eq!(exact_grad(0.0).1, 1.0);
        assert_eq!(exact_vjp(0.0).1(COT), COT);
        for x in [-1.0, 0.5] {
            assert_eq!(default_grad(x).1, 1.0);
            assert_eq!(exact_grad(x).1, 1.0);
        }
    }
}

/// The special values of the rules' module docs, in every mode: removable singularities removed
/// (`powi` with n = 0 and `powf` with p = 0 at x = 0, the exponent derivative of `powf` where
/// y = 0), infinite derivatives where the true one is (`sqrt`, `cbrt` at 0), and `max`/`min`
/// sending all of the cotangent to the argument the result equals when the other is NaN.
mod special_values {
    use super::*;

    #[differentiate(hessian)]
    fn powi0(x: f64) -> f64 {
        x.powi(0)
    }

    #[differentiate(hessian)]
    fn powf(x: f64, p: f64) -> f64 {
        x.powf(p)
    }

    #[differentiate(hessian)]
    fn sqrt(x: f32) -> f32 {
        x.sqrt()
    }

    #[differentiate(hessian)]
    fn cbrt<T: Float>(x: T) -> T {
        x.cbrt()
    }

    #[differentiate(hessian)]
    fn max_min(x: f64, a: f64) -> f64 {
        x.max(a) + 2.0 * x.min(a)
    }

    #[test]
    fn conventions() {
        // x⁰ = 1 is constant, also at x = 0.
        assert_eq!(powi0_grad(0.0), (1.0, 0.0));
        assert_eq!(powi0_hvp(0.0, DIR), (1.0, 0.0, 0.0));
        // x⁰: ∂x = 0 at x = 0; 0ᵖ for p > 0: ∂p = y·ln x = 0 (not 0·(−∞)); 0² has ∂x = 0.
        assert_eq!(powf_grad(0.0, 0.0).1.0, 0.0);
        assert_eq!(powf_grad(0.0, 2.0).1, (0.0, 0.0));
        assert_eq!(powf_grad(0.0, 1.0).1, (1.0, 0.0));
        assert_eq!(powf_jvp(0.0, 2.0, TAN, DIR).1, 0.0);
        // At x = 0 with p > 1, x ↦ xᵖ is smooth from the right and p ↦ 0ᵖ = 0 is constant:
        // H = [[p(p − 1)·0ᵖ⁻², 0], [0, 0]] (fxx = 2 for p = 2, 0 above), the limits of
        // fxp = xᵖ⁻¹(1 + p ln x) and fpp = xᵖ ln² x being 0. The first-order rule removes the
        // 0·ln 0 of ∂p; the second-order rules must too, not return NaN.
        for (p, fxx) in [(2.0, 2.0), (3.0, 0.0), (2.5, 0.0)] {
            let (_, g, hv) = powf_hvp(0.0, p, 1.0, 0.0);
            assert_eq!(g, (0.0, 0.0), "powf gradient at (0, {p})");
            assert_eq!(hv, (fxx, 0.0), "powf H·e₀ at (0, {p})");
            let (_, _, hv) = powf_hvp(0.0, p, 0.0, 1.0);
            assert_eq!(hv, (0.0, 0.0), "powf H·e₁ at (0, {p})");
            let (_, _, hv) = powf_hvp(0.0, p, DIR, TAN);
            assert_eq!(hv, (DIR * fxx, 0.0), "powf H·v at (0, {p})");
        }
        // √x and ∛x at 0: +∞, as the true derivative.
        assert_eq!(sqrt_grad(0.0).1, f32::INFINITY);
        assert_eq!(cbrt_grad::<f64>(0.0).1, f64::INFINITY);
        // max(x, NaN) = x and min(x, NaN) = x: all of g to x, none to the NaN.
        let (_, g) = max_min_grad(1.5, f64::NAN);
        assert_eq!(g, (3.0, 0.0));
        assert_eq!(max_min_jvp(1.5, f64::NAN, TAN, DIR).1, 3.0 * TAN);
    }
}

// ---------------------------------------------------------------------------------------------
// ndarray rules
// ---------------------------------------------------------------------------------------------

use autodiff::check::{dot_product_test, hessian_symmetry, random_direction};
use autodiff::{Differentiable, to_flat};
use common::{matrix, vector};
use ndarray::{Array1, Array2, Array3, Array4, Axis, Zip, s};

/// Every scalar of `a` against the same one of `b`, to `tol` (absolute up to 1, relative above).
#[track_caller]
fn same_flat<P: Differentiable>(what: &str, a: &P, b: &P, tol: f64) {
    let (a, b) = (to_flat(a), to_flat(b));
    assert_eq!(a.len(), b.len(), "{what}: sizes");
    for (k, (x, y)) in a.iter().zip(&b).enumerate() {
        close(&format!("{what}[{k}]"), x.as_f64(), y.as_f64(), tol);
    }
}

/// An array operation `x ↦ y`: its pullback of a random cotangent `c` against the analytic
/// transpose `Jᵀc` (`exact`), its tangent against directional differences and its tangent and
/// pullback against each other (the dot-product test), along seeded directions. The values the
/// generated items return are compared with `f`'s to rounding, not bit for bit: `var` and `std`
/// are written out with the mean (README), and a transposed copy may be summed in another order.
#[track_caller]
fn audit_op<P, Y>(
    what: &str,
    x: &P,
    f: impl Fn(&P) -> Y,
    jvp: impl Fn(&P, &P) -> (Y, Y),
    vjp: impl Fn(&P, Y) -> (Y, P),
    exact: impl Fn(&P, &Y) -> P,
) where
    P: Differentiable,
    Y: Differentiable,
{
    let y = f(x);
    for seed in 0..3 {
        let c = random_direction(&y, 77 + seed);
        let (value, pulled) = vjp(x, c.clone());
        same_flat(&format!("{what}: _vjp value"), &value, &y, 1e-14);
        same_flat(
            &format!("{what}: _vjp, cotangent {seed}"),
            &pulled,
            &exact(x, &c),
            1e-10,
        );
        let v = random_direction(x, seed);
        let (value, jv) = jvp(x, &v);
        same_flat(&format!("{what}: _jvp value"), &value, &y, 1e-14);
        let r = jvpcheck(&f, x, &v, &jv);
        assert!(
            r.passed(),
            "{what}: _jvp against differences, direction {seed}: {r}"
        );
        let d = dot_product_test(&v, &jv, &c, &pulled);
        assert!(
            d.passed(),
            "{what}: ⟨J v, c⟩ = ⟨v, Jᵀ c⟩, direction {seed}: {d}"
        );
    }
}

/// The loss `L = ½ Σ w ⊙ y²` of an array operation `y = op(x)`, with `hessian`: its gradient
/// against the analytic `Jᵀ(w ⊙ y)` (`exact`) and finite differences, and its Hessian-vector
/// products against differences of the gradient and against each other (symmetry).
#[track_caller]
fn audit_loss<P: Differentiable<Scalar = f64>>(
    what: &str,
    x: &P,
    f: impl Fn(&P) -> f64,
    grad: impl Fn(&P) -> (f64, P),
    hvp: impl Fn(&P, &P) -> (f64, P, P),
    exact: P,
) {
    let (value, g) = grad(x);
    close(&format!("{what}: _grad value"), value, f(x), 1e-14);
    same_flat(&format!("{what}: _grad"), &g, &exact, 1e-10);
    let r = gradcheck(&f, x, &g);
    assert!(r.passed(), "{what}: _grad against differences: {r}");
    let (u, v) = (random_direction(x, 5), random_direction(x, 6));
    let (value, g2, hv) = hvp(x, &v);
    close(&format!("{what}: _hvp value"), value, f(x), 1e-14);
    same_flat(&format!("{what}: _hvp gradient"), &g2, &g, 1e-12);
    let r = hvpcheck(|p: &P| grad(p).1, x, &v, &hv);
    assert!(r.passed(), "{what}: _hvp against differences of _grad: {r}");
    let (_, _, hu) = hvp(x, &u);
    let s = hessian_symmetry(&u, &hu, &v, &hv);
    assert!(s.passed(), "{what}: ⟨u, Hv⟩ = ⟨v, Hu⟩: {s}");
}

/// A module for an array operation of two arrays: `op` (with `hessian`, so that `loss` can
/// call it) checked by [`audit_op`] against the analytic transpose `exact`, and `loss`
/// (`½ Σ w ⊙ op²`, `w` fixed) by [`audit_loss`].
macro_rules! array_binary {
    ($name:ident, |$a:ident: $ta:ty, $b:ident: $tb:ty| -> $ty:ty $body:block,
     transpose: |$c:ident| $exact:expr, at: ($xa:expr, $xb:expr) $(,)?) => {
        mod $name {
            use super::*;

            #[differentiate(hessian)]
            pub fn op($a: &$ta, $b: &$tb) -> $ty $body

            #[differentiate(hessian, wrt($a, $b))]
            pub fn loss($a: &$ta, $b: &$tb, weight: &$ty) -> f64 {
                let y = op($a, $b);
                (&y * &y * weight).sum() * 0.5
            }

            #[allow(unused_variables)] // a transpose need not read both operands
            fn exact($a: &$ta, $b: &$tb, $c: &$ty) -> ($ta, $tb) {
                $exact
            }

            #[test]
            fn every_mode() {
                let x: ($ta, $tb) = ($xa, $xb);
                let what = stringify!($name);
                audit_op(
                    what,
                    &x,
                    |p| op(&p.0, &p.1),
                    |p, d| op_jvp(&p.0, &p.1, &d.0, &d.1),
                    |p, c| {
                        let (y, b) = op_vjp(&p.0, &p.1);
                        (y, b(c))
                    },
                    |p, c| exact(&p.0, &p.1, c),
                );
                let y = op(&x.0, &x.1);
                let w = random_direction(&y, 99).mapv(|v| 1.0 + v);
                audit_loss(
                    &format!("{what} loss"),
                    &x,
                    |p| loss(&p.0, &p.1, &w),
                    |p| loss_grad(&p.0, &p.1, &w),
                    |p, v| loss_hvp(&p.0, &p.1, &w, &v.0, &v.1),
                    exact(&x.0, &x.1, &(&w * &y)),
                );
            }
        }
    };
}

/// [`array_binary!`] for an operation of one array.
macro_rules! array_unary {
    ($name:ident, |$a:ident: $ta:ty| -> $ty:ty $body:block,
     transpose: |$c:ident| $exact:expr, at: $xa:expr $(,)?) => {
        mod $name {
            use super::*;

            #[differentiate(hessian)]
            pub fn op($a: &$ta) -> $ty $body

            #[differentiate(hessian, wrt($a))]
            pub fn loss($a: &$ta, w: &$ty) -> f64 {
                let y = op($a);
                (&y * &y * w).sum() * 0.5
            }

            #[allow(unused_variables)] // a transpose need not read the operand
            fn exact($a: &$ta, $c: &$ty) -> $ta {
                $exact
            }

            #[test]
            fn every_mode() {
                let x: $ta = $xa;
                let what = stringify!($name);
                audit_op(
                    what,
                    &x,
                    |p| op(p),
                    |p, d| op_jvp(p, d),
                    |p, c| {
                        let (y, b) = op_vjp(p);
                        (y, b(c))
                    },
                    |p, c| exact(p, c),
                );
                let y = op(&x);
                let w = random_direction(&y, 99).mapv(|v| 1.0 + v);
                audit_loss(
                    &format!("{what} loss"),
                    &x,
                    |p| loss(p, &w),
                    |p| loss_grad(p, &w),
                    |p, v| loss_hvp(p, &w, v),
                    exact(&x, &(&w * &y)),
                );
            }
        }
    };
}

/// `a` with an axis of length 1 inserted at `k` (the shape of a kept-dimension reduction).
fn keep(a: Array1<f64>, k: usize) -> Array2<f64> {
    a.insert_axis(Axis(k))
}

mod arrays {
    use super::*;

    // --- elementwise with broadcasting, in every direction ---

    // matrix + row: ∂a = c, ∂b = Σᵢ cᵢ·
    array_binary!(matrix_plus_row, |a: Array2<f64>, b: Array1<f64>| -> Array2<f64> { a + b },
        transpose: |c| (c.clone(), c.sum_axis(Axis(0))), at: (matrix(3, 4, 0.1), vector(4, 0.2)));
    // row + matrix (the lower-dimensional operand on the left): the same
    array_binary!(row_plus_matrix, |a: Array2<f64>, b: Array1<f64>| -> Array2<f64> { b + a },
        transpose: |c| (c.clone(), c.sum_axis(Axis(0))), at: (matrix(3, 4, 0.3), vector(4, 0.4)));
    // column (n×1) − matrix: ∂a = −c, ∂b = Σⱼ c·ⱼ (kept as a column)
    array_binary!(column_minus_matrix, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { b - a },
        transpose: |c| (-c, keep(c.sum_axis(Axis(1)), 1)), at: (matrix(3, 4, 0.5), matrix(3, 1, 0.6)));
    // matrix · column (n×1), elementwise: ∂a = c ⊙ b, ∂b = Σⱼ (c ⊙ a)·ⱼ
    array_binary!(matrix_times_column, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { a * b },
        transpose: |c| (c * b, keep((c * a).sum_axis(Axis(1)), 1)),
        at: (matrix(3, 4, 0.7), matrix(3, 1, 0.8)));
    // column (n×1) ⊙ row (1×m), both stretched: ∂a = Σⱼ (c ⊙ b), ∂b = Σᵢ (c ⊙ a)
    array_binary!(outer_broadcast, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { a * b },
        transpose: |c| (keep((c * b).sum_axis(Axis(1)), 1), keep((c * a).sum_axis(Axis(0)), 0)),
        at: (matrix(3, 1, 0.9), matrix(1, 4, 1.0)));
    // matrix / row: ∂a = c / b, ∂b = −Σᵢ c ⊙ a / b²
    array_binary!(matrix_over_row, |a: Array2<f64>, b: Array1<f64>| -> Array2<f64> { a / b },
        transpose: |c| (c / b, -(c * a / (b * b)).sum_axis(Axis(0))),
        at: (matrix(3, 4, 1.1), vector(4, 1.2).mapv(|v| 1.5 + v)));
    // row / matrix: ∂a = −c ⊙ b / a², ∂b = Σᵢ c / a
    array_binary!(row_over_matrix, |a: Array2<f64>, b: Array1<f64>| -> Array2<f64> { b / a },
        transpose: |c| (-(c * b) / (a * a), (c / a).sum_axis(Axis(0))),
        at: (matrix(3, 4, 1.3).mapv(|v| 1.5 + v), vector(4, 1.4)));
    // 3-D batch + matrix (broadcast over the leading axis): ∂b = Σₖ cₖ
    array_binary!(batch_plus_matrix, |a: Array3<f64>, b: Array2<f64>| -> Array3<f64> { a + b },
        transpose: |c| (c.clone(), c.sum_axis(Axis(0))),
        at: (Array3::from_shape_fn((2, 3, 4), |(i, j, k)| ((i * 12 + j * 4 + k) as f64 * 0.37).sin()),
             matrix(3, 4, 1.5)));

    // scalar − array, array / scalar, array · scalar: the scalar's gradient is a sum.
    mod with_scalars {
        use super::*;

        #[differentiate(hessian)]
        pub fn op(a: &Array2<f64>, s: f64) -> Array2<f64> {
            (s - a) * 2.0 + a / s - &(a * s) / 3.0
        }

        #[differentiate(hessian, wrt(a, s))]
        pub fn loss(a: &Array2<f64>, s: f64, w: &Array2<f64>) -> f64 {
            let y = op(a, s);
            (&y * &y * w).sum() * 0.5
        }

        /// y = 2(s − a) + a/s − a·s/3: ∂a = c ⊙ (−2 + 1/s − s/3), ∂s = Σ c ⊙ (2 − a/s² − a/3)
        fn exact(a: &Array2<f64>, s: f64, c: &Array2<f64>) -> (Array2<f64>, f64) {
            (
                c * (-2.0 + 1.0 / s - s / 3.0),
                (c * &a.mapv(|v| 2.0 - v / (s * s) - v / 3.0)).sum(),
            )
        }

        #[test]
        fn every_mode() {
            let x = (matrix(3, 4, 1.6), 0.8);
            audit_op(
                "with_scalars",
                &x,
                |p| op(&p.0, p.1),
                |p, d| op_jvp(&p.0, p.1, &d.0, d.1),
                |p, c| {
                    let (y, b) = op_vjp(&p.0, p.1);
                    (y, b(c))
                },
                |p, c| exact(&p.0, p.1, c),
            );
            let y = op(&x.0, x.1);
            let w = random_direction(&y, 99).mapv(|v| 1.0 + v);
            audit_loss(
                "with_scalars loss",
                &x,
                |p| loss(&p.0, p.1, &w),
                |p| loss_grad(&p.0, p.1, &w),
                |p, v| loss_hvp(&p.0, p.1, &w, &v.0, v.1),
                exact(&x.0, x.1, &(&w * &y)),
            );
        }
    }

    // --- products ---

    // matrix·matrix: ∂a = c·bᵀ, ∂b = aᵀ·c
    array_binary!(dot_mm, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { a.dot(b) },
        transpose: |c| (c.dot(&b.t()), a.t().dot(c)), at: (matrix(3, 4, 2.1), matrix(4, 2, 2.2)));
    // matrix·vector: ∂a = c ⊗ v, ∂v = aᵀ·c
    array_binary!(dot_mv, |a: Array2<f64>, v: Array1<f64>| -> Array1<f64> { a.dot(v) },
        transpose: |c| (keep(c.clone(), 1).dot(&keep(v.clone(), 0)), a.t().dot(c)),
        at: (matrix(3, 4, 2.3), vector(4, 2.4)));
    // vector·matrix: ∂v = a·c, ∂a = v ⊗ c
    array_binary!(dot_vm, |v: Array1<f64>, a: Array2<f64>| -> Array1<f64> { v.dot(a) },
        transpose: |c| (a.dot(c), keep(v.clone(), 1).dot(&keep(c.clone(), 0))),
        at: (vector(3, 2.5), matrix(3, 4, 2.6)));
    // aᵀ·b: ∂a = b·cᵀ, ∂b = a·c
    array_binary!(t_dot, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { a.t().dot(b) },
        transpose: |c| (b.dot(&c.t()), a.dot(c)), at: (matrix(3, 4, 2.7), matrix(3, 2, 2.8)));
    // a·bᵀ: ∂a = c·b, ∂b = cᵀ·a
    array_binary!(dot_t, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { a.dot(&b.t()) },
        transpose: |c| (c.dot(b), c.t().dot(a)), at: (matrix(3, 4, 2.9), matrix(2, 4, 3.0)));
    // aᵀ·bᵀ: ∂a = bᵀ·cᵀ, ∂b = cᵀ·aᵀ
    array_binary!(t_dot_t, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> { a.t().dot(&b.t()) },
        transpose: |c| (b.t().dot(&c.t()), c.t().dot(&a.t())),
        at: (matrix(4, 3, 3.1), matrix(2, 4, 3.2)));

    // vector·vector (a scalar): ∂u = c·v, ∂v = c·u; loss ½ w (u·v)²
    mod dot_vv {
        use super::*;

        #[differentiate(hessian)]
        pub fn op(u: &Array1<f64>, v: &Array1<f64>) -> f64 {
            u.dot(v)
        }

        #[test]
        fn every_mode() {
            let x = (vector(5, 3.3), vector(5, 3.4));
            audit_op(
                "dot_vv",
                &x,
                |p| op(&p.0, &p.1),
                |p, d| op_jvp(&p.0, &p.1, &d.0, &d.1),
                |p, c| {
                    let (y, b) = op_vjp(&p.0, &p.1);
                    (y, b(c))
                },
                |p, c| (&p.1 * *c, &p.0 * *c),
            );
            // H = [[0, I], [I, 0]]: H·(du, dv) = (dv, du)
            let (du, dv) = (vector(5, 3.5), vector(5, 3.6));
            let (_, g, h) = op_hvp(&x.0, &x.1, &du, &dv);
            same_flat("dot_vv _hvp gradient", &g, &(x.1.clone(), x.0.clone()), TOL);
            same_flat("dot_vv _hvp", &h, &(dv, du), TOL);
        }
    }

    // the transpose: ∂a = cᵀ
    array_unary!(transpose, |a: Array2<f64>| -> Array2<f64> { a.t().to_owned() },
        transpose: |c| c.t().to_owned(), at: matrix(3, 4, 4.1));
    // reversed_axes: the same
    array_unary!(reversed_axes, |a: Array2<f64>| -> Array2<f64> { a.clone().reversed_axes() },
        transpose: |c| c.t().to_owned(), at: matrix(3, 4, 4.2));

    // --- reductions ---

    // sum_axis: ∂a = c broadcast along the summed axis
    array_unary!(sum_axis0, |a: Array2<f64>| -> Array1<f64> { a.sum_axis(Axis(0)) },
        transpose: |c| a.mapv(|_| 0.0) + c, at: matrix(3, 4, 5.1));
    array_unary!(sum_axis1, |a: Array2<f64>| -> Array1<f64> { a.sum_axis(Axis(1)) },
        transpose: |c| a.mapv(|_| 0.0) + &keep(c.clone(), 1), at: matrix(3, 4, 5.2));
    // mean_axis: ∂a = c/n broadcast
    array_unary!(mean_axis0, |a: Array2<f64>| -> Array1<f64> { a.mean_axis(Axis(0)).unwrap() },
        transpose: |c| a.mapv(|_| 0.0) + &(c / 3.0), at: matrix(3, 4, 5.3));
    array_unary!(mean_axis1, |a: Array2<f64>| -> Array1<f64> { a.mean_axis(Axis(1)).unwrap() },
        transpose: |c| a.mapv(|_| 0.0) + &keep(c / 4.0, 1), at: matrix(3, 4, 5.4));
    // var_axis(Axis(0), ddof): ∂a = c·2(a − μ)/(n − ddof) per column
    array_unary!(var_axis0, |a: Array2<f64>| -> Array1<f64> { a.var_axis(Axis(0), 1.0) },
        transpose: |c| (a - &a.mean_axis(Axis(0)).unwrap()) * c * (2.0 / 2.0), at: matrix(3, 4, 5.5));
    // std_axis(Axis(1), 0): ∂a = c·(a − μ)/(n·σ) per row
    array_unary!(std_axis1, |a: Array2<f64>| -> Array1<f64> { a.std_axis(Axis(1), 0.0) },
        transpose: |c| {
            let mu = keep(a.mean_axis(Axis(1)).unwrap(), 1);
            let sd = keep(a.std_axis(Axis(1), 0.0), 1);
            (a - &mu) * &keep(c.clone(), 1) / (&sd * 4.0)
        }, at: matrix(3, 4, 5.6));
    // fold_axis with max, away from ties: ∂a = c at each column's maximum
    array_unary!(max_axis0, |a: Array2<f64>| -> Array1<f64> {
            a.fold_axis(Axis(0), f64::NEG_INFINITY, |&m, &v| m.max(v))
        },
        transpose: |c| {
            let m = a.fold_axis(Axis(0), f64::NEG_INFINITY, |&m, &v| m.max(v));
            Array2::from_shape_fn(a.dim(), |(i, j)| if a[[i, j]] == m[j] { c[j] } else { 0.0 })
        }, at: matrix(3, 4, 5.7));
    // fold_axis as a sum of squares plus an initial value: ∂a = 2a ⊙ c broadcast
    array_unary!(squares_axis1, |a: Array2<f64>| -> Array1<f64> {
            a.fold_axis(Axis(1), 0.5, |&acc, &v| acc + v * v)
        },
        transpose: |c| a * 2.0 * &keep(c.clone(), 1), at: matrix(3, 4, 5.8));

    // whole-array reductions, as scalars: sum, mean, var, std and the L1 and L2 norms.
    mod whole {
        use super::*;

        /// f = Σa + 2·mean a + 3·var(a, 1) + 4·std(a, 0) + ‖a‖₂ + ‖a‖₁ (n = 12, no zero entry):
        /// ∂f/∂a = 1 + 2/n + 3·2(a − μ)/(n − 1) + 4(a − μ)/(nσ₀) + a/‖a‖₂ + sign a
        #[differentiate(hessian)]
        pub fn f(a: &Array2<f64>) -> f64 {
            a.sum()
                + 2.0 * a.mean().unwrap()
                + 3.0 * a.var(1.0)
                + 4.0 * a.std(0.0)
                + a.mapv(|v| v * v).sum().sqrt()
                + a.mapv(f64::abs).sum()
        }

        #[test]
        fn every_mode() {
            let a = matrix(3, 4, 6.1);
            let n = 12.0;
            let mu = a.mean().unwrap();
            let sd0 = a.std(0.0);
            let l2 = a.mapv(|v| v * v).sum().sqrt();
            let exact = a.mapv(|v| {
                1.0 + 2.0 / n
                    + 6.0 * (v - mu) / (n - 1.0)
                    + 4.0 * (v - mu) / (n * sd0)
                    + v / l2
                    + v.signum()
            });
            audit_loss(
                "whole-array reductions",
                &a,
                f,
                f_grad,
                f_hvp,
                exact.clone(),
            );
            audit_op(
                "whole-array reductions",
                &a,
                f,
                |x, v| f_jvp(x, v),
                |x, c| {
                    let (y, b) = f_vjp(x);
                    (y, b(c))
                },
                |_, c| &exact * *c,
            );
        }
    }

    // --- regions and shapes ---

    // rows with step 2, columns from 1: ∂a = c placed at those positions
    array_unary!(slice_step, |a: Array2<f64>| -> Array2<f64> { a.slice(s![..;2, 1..]).to_owned() },
        transpose: |c| {
            let mut g = a.mapv(|_| 0.0);
            g.slice_mut(s![..;2, 1..]).assign(c);
            g
        }, at: matrix(5, 4, 7.1));
    // negative indices and a negative step: the last two rows, columns reversed
    array_unary!(slice_negative, |a: Array2<f64>| -> Array2<f64> {
            a.slice(s![-2.., ..;-1]).to_owned()
        },
        transpose: |c| {
            let mut g = a.mapv(|_| 0.0);
            g.slice_mut(s![-2.., ..;-1]).assign(c);
            g
        }, at: matrix(4, 3, 7.2));
    // a negative step over a range with a negative end: columns 3, 1 of 0..-1 reversed by 2
    array_unary!(slice_negative_step2, |a: Array1<f64>| -> Array1<f64> {
            a.slice(s![1..-1;-2]).to_owned()
        },
        transpose: |c| {
            let mut g = a.mapv(|_| 0.0);
            g.slice_mut(s![1..-1;-2]).assign(c);
            g
        }, at: vector(7, 7.3));
    // row, column and index_axis of a matrix, added: ∂a = c's parts in place
    array_unary!(lanes, |a: Array2<f64>| -> Array1<f64> {
            &a.row(1) * 2.0 + &a.column(2) + &a.index_axis(Axis(0), 2)
        },
        transpose: |c| {
            let mut g = a.mapv(|_| 0.0);
            g.row_mut(1).scaled_add(2.0, c);
            let mut col = g.column_mut(2);
            col += c;
            let mut row = g.row_mut(2);
            row += c;
            g
        }, at: matrix(3, 3, 7.4));
    // insert_axis: ∂a = c with the axis removed
    array_unary!(insert_axis, |a: Array1<f64>| -> Array2<f64> { a.clone().insert_axis(Axis(1)) },
        transpose: |c| c.column(0).to_owned(), at: vector(4, 7.5));
    // into_shape_with_order (row-major): ∂a = c reshaped back
    array_unary!(reshape, |a: Array2<f64>| -> Array2<f64> {
            a.clone().into_shape_with_order((2, 6)).unwrap()
        },
        transpose: |c| c.clone().into_shape_with_order((3, 4)).unwrap(), at: matrix(3, 4, 7.6));
    // concatenate along rows: ∂a, ∂b the parts of c
    array_binary!(concatenate, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> {
            ndarray::concatenate(Axis(0), &[a.view(), b.view()]).unwrap()
        },
        transpose: |c| (c.slice(s![..2, ..]).to_owned(), c.slice(s![2.., ..]).to_owned()),
        at: (matrix(2, 3, 7.7), matrix(3, 3, 7.8)));
    // stack along a new axis 1: ∂a = c[:, 0, :], ∂b = c[:, 1, :]
    array_binary!(stack, |a: Array2<f64>, b: Array2<f64>| -> Array3<f64> {
            ndarray::stack(Axis(1), &[a.view(), b.view()]).unwrap()
        },
        transpose: |c| (c.index_axis(Axis(1), 0).to_owned(), c.index_axis(Axis(1), 1).to_owned()),
        at: (matrix(2, 3, 7.9), matrix(2, 3, 8.0)));
    // broadcast of a row to a matrix: ∂a = Σᵢ cᵢ·
    array_unary!(broadcast, |a: Array1<f64>| -> Array2<f64> {
            a.broadcast((3, 4)).unwrap().to_owned()
        },
        transpose: |c| c.sum_axis(Axis(0)), at: vector(4, 8.1));

    // --- closures per element ---

    // mapv: y = a·sin a, ∂a = c ⊙ (sin a + a cos a)
    array_unary!(mapv, |a: Array2<f64>| -> Array2<f64> { a.mapv(|v| v * v.sin()) },
        transpose: |c| c * &a.mapv(|v| v.sin() + v * v.cos()), at: matrix(3, 4, 9.1));
    // Zip: y = a·e^b, ∂a = c ⊙ e^b, ∂b = c ⊙ a e^b
    array_binary!(zip, |a: Array2<f64>, b: Array2<f64>| -> Array2<f64> {
            Zip::from(a).and(b).map_collect(|&x, &y| x * y.exp())
        },
        transpose: |c| (c * &b.mapv(f64::exp), c * a * &b.mapv(f64::exp)),
        at: (matrix(3, 4, 9.2), matrix(3, 4, 9.3)));
    // elementwise float methods on arrays: y = tanh a + √(a²+1) + a.powi(3) + |a|^1.5 + atan2
    array_unary!(float_methods, |a: Array2<f64>| -> Array2<f64> {
            a.tanh() + (a * a + 1.0).sqrt() + a.powi(3) + a.abs().powf(1.5) + a.exp().ln_1p()
        },
        transpose: |c| c * &a.mapv(|v| {
            1.0 / (v.cosh() * v.cosh()) + v / (v * v + 1.0).sqrt() + 3.0 * v * v
                + 1.5 * v.abs().sqrt() * v.signum() + v.exp() / (1.0 + v.exp())
        }), at: matrix(3, 4, 9.4));
}

// ---------------------------------------------------------------------------------------------
// Functions written by a `macro_rules!` (as the cases above are): the body's tokens come from
// the macro's caller, the attribute from its definition, and the types and expressions passed
// as `$t:ty` and `$e:expr` fragments arrive wrapped in invisible groups.
// ---------------------------------------------------------------------------------------------

mod by_macro_rules {
    use super::*;

    macro_rules! written {
        ($name:ident, |$a:ident: $t:ty| -> $r:ty $body:block) => {
            #[differentiate(hessian)]
            pub fn $name($a: $t) -> $r $body
        };
    }

    // A closure over the elements: ∂/∂a Σ a·sin a = sin a + a cos a
    written!(mapv_sum, |a: &Array2<f64>| -> f64 {
        a.mapv(|v| v * v.sin()).sum()
    });
    // The variance written out with the mean: ∂/∂a var(a, 1) = 2(a − μ)/(n − 1)
    written!(variance, |a: &Array2<f64>| -> f64 { a.var(1.0) });
    // A region's fold, which needs the rank the `$t` type gives: ∂ = 2a in columns 1.., else 0
    written!(region_fold, |a: &Array2<f64>| -> f64 {
        a.slice(s![.., 1..]).fold(0.0, |m, &v| m + v * v)
    });

    macro_rules! squared {
        ($name:ident, |$x:ident| $e:expr) => {
            #[differentiate(hessian)]
            pub fn $name($x: f64) -> f64 {
                $e * $e
            }
        };
    }

    // `$e * $e` with `$e = x + 1.0` is (x + 1)², not x + 1·x + 1: f' = 2(x + 1), f'' = 2
    squared!(square_of_sum, |x| x + 1.0);

    macro_rules! documented {
        ($(#[$m:meta])* $name:ident) => {
            $(#[$m])*
            #[differentiate]
            pub fn $name(x: f64) -> f64 {
                x * x
            }
        };
    }

    // Attributes passed as `$m:meta` fragments (`doc = ".."` is an expression too) stay
    // attributes: f' = 2x
    documented!(
        /// x².
        #[allow(clippy::all)]
        documented_square
    );

    #[test]
    fn gradients() {
        let a = matrix(3, 4, 10.1);
        let n = 12.0;
        let mu = a.mean().unwrap();
        let cases: [(
            &str,
            fn(&Array2<f64>) -> f64,
            fn(&Array2<f64>) -> (f64, Array2<f64>),
            Array2<f64>,
        ); 3] = [
            (
                "mapv_sum",
                mapv_sum,
                mapv_sum_grad,
                a.mapv(|v| v.sin() + v * v.cos()),
            ),
            (
                "variance",
                variance,
                variance_grad,
                a.mapv(|v| 2.0 * (v - mu) / (n - 1.0)),
            ),
            (
                "region_fold",
                region_fold,
                region_fold_grad,
                Array2::from_shape_fn((3, 4), |(i, j)| if j >= 1 { 2.0 * a[[i, j]] } else { 0.0 }),
            ),
        ];
        for (what, f, grad, exact) in cases {
            let (y, g) = grad(&a);
            close(&format!("{what} value"), y, f(&a), 1e-14);
            same_flat(what, &g, &exact, 1e-12);
            let r = gradcheck(f, &a, &g);
            assert!(r.passed(), "{what}: {r}");
        }
        let v = random_direction(&a, 3);
        let (_, _, hv) = mapv_sum_hvp(&a, &v);
        // H = diag(2 cos a − a sin a)
        same_flat(
            "mapv_sum hvp",
            &hv,
            &(a.mapv(|x| 2.0 * x.cos() - x * x.sin()) * &v),
            1e-12,
        );
        for x in [-1.5, 0.25, 2.0] {
            assert_eq!(square_of_sum(x), (x + 1.0) * (x + 1.0));
            close(
                "square_of_sum",
                square_of_sum_grad(x).1,
                2.0 * (x + 1.0),
                TOL,
            );
            assert_eq!(square_of_sum_hvp(x, DIR).2, 2.0 * DIR);
            assert_eq!(documented_square_grad(x), (x * x, 2.0 * x));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// autodiff::nn and autodiff::conv
// ---------------------------------------------------------------------------------------------

/// The softmax of each row of `z`.
fn softmax_rows(z: &Array2<f64>) -> Array2<f64> {
    let mut y = z.clone();
    for mut row in y.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row /= s;
    }
    y
}

/// A 4-D array of distinct values (no ties in pooling windows).
fn tensor4(shape: (usize, usize, usize, usize), seed: f64) -> Array4<f64> {
    let n = shape.0 * shape.1 * shape.2 * shape.3;
    Array4::from_shape_vec(shape, common::data(n, seed)).unwrap()
}

mod nn_conv {
    use super::*;
    use autodiff::{conv, nn};

    // softmax per row: Jᵀc = y ⊙ (c − ⟨c, y⟩ per row)
    array_unary!(softmax, |a: Array2<f64>| -> Array2<f64> { nn::softmax(a) },
        transpose: |c| {
            let y = softmax_rows(a);
            let inner = keep((c * &y).sum_axis(Axis(1)), 1);
            &y * &(c - &inner)
        }, at: matrix(3, 4, 11.1) * 3.0);
    // log_softmax per row: Jᵀc = c − softmax · Σⱼ c per row
    array_unary!(log_softmax, |a: Array2<f64>| -> Array2<f64> { nn::log_softmax(a) },
        transpose: |c| c - &(softmax_rows(a) * &keep(c.sum_axis(Axis(1)), 1)),
        at: matrix(3, 4, 11.2) * 3.0);
    // log_sum_exp per row (a vector): Jᵀc = softmax ⊙ c per row
    array_unary!(log_sum_exp, |a: Array2<f64>| -> Array1<f64> { nn::log_sum_exp(a) },
        transpose: |c| softmax_rows(a) * &keep(c.clone(), 1), at: matrix(3, 4, 11.3) * 3.0);
    // sigmoid: σ' = σ(1 − σ); softplus: ' = σ; relu away from 0: [a > 0]
    array_unary!(activations, |a: Array2<f64>| -> Array2<f64> {
            nn::sigmoid(a) + nn::softplus(a) * 2.0 + nn::relu(a) * 3.0
        },
        transpose: |c| c * &a.mapv(|v| {
            let s = 1.0 / (1.0 + (-v).exp());
            s * (1.0 - s) + 2.0 * s + if v > 0.0 { 3.0 } else { 0.0 }
        }), at: matrix(3, 4, 11.4).mapv(|v| if v.abs() < 0.05 { v + 0.2 } else { v }));
    // batch_norm (training mode): checked against differences and the dot-product test (its
    // transpose is the formula the runtime implements; here the audit asks for consistency of
    // the four modes, and the analytic value of ∂β = Σᵢ c and ∂γ = Σᵢ c ⊙ x̂).
    mod batch_norm {
        use super::*;

        #[differentiate(hessian)]
        pub fn op(x: &Array2<f64>, gamma: &Array1<f64>, beta: &Array1<f64>) -> Array2<f64> {
            nn::batch_norm(x, gamma, beta, 1e-3)
        }

        #[differentiate(hessian, wrt(x, gamma, beta))]
        pub fn loss(
            x: &Array2<f64>,
            gamma: &Array1<f64>,
            beta: &Array1<f64>,
            w: &Array2<f64>,
        ) -> f64 {
            let y = op(x, gamma, beta);
            (&y * &y * w).sum() * 0.5
        }

        #[test]
        fn every_mode() {
            type P = (Array2<f64>, Array1<f64>, Array1<f64>);
            let x: P = (
                matrix(5, 3, 11.5) * 2.0,
                vector(3, 11.6) + 1.5,
                vector(3, 11.7),
            );
            let y = op(&x.0, &x.1, &x.2);
            let c = random_direction(&y, 8);
            let (_, (gx, gg, gb)) = {
                let (_, b) = op_vjp(&x.0, &x.1, &x.2);
                ((), b(c.clone()))
            };
            let mu = x.0.mean_axis(Axis(0)).unwrap();
            let var = x.0.var_axis(Axis(0), 0.0);
            let xhat = (&x.0 - &mu) / &var.mapv(|v| (v + 1e-3).sqrt());
            same_flat("batch_norm ∂β", &gb, &c.sum_axis(Axis(0)), 1e-12);
            same_flat("batch_norm ∂γ", &gg, &(&c * &xhat).sum_axis(Axis(0)), 1e-12);
            // ∂x = γ/σ · (c − mean c − x̂ · mean(c ⊙ x̂)) per column
            let sd = var.mapv(|v| (v + 1e-3).sqrt());
            let mc = c.mean_axis(Axis(0)).unwrap();
            let mcx = (&c * &xhat).mean_axis(Axis(0)).unwrap();
            let ex = (&c - &mc - &(&xhat * &mcx)) * &(&x.1 / &sd);
            same_flat("batch_norm ∂x", &gx, &ex, 1e-10);
            let exact = move |p: &P, c: &Array2<f64>| -> P {
                let (_, b) = op_vjp(&p.0, &p.1, &p.2);
                b(c.clone())
            };
            audit_op(
                "batch_norm",
                &x,
                |p| op(&p.0, &p.1, &p.2),
                |p, d| op_jvp(&p.0, &p.1, &p.2, &d.0, &d.1, &d.2),
                |p, c| {
                    let (y, b) = op_vjp(&p.0, &p.1, &p.2);
                    (y, b(c))
                },
                &exact,
            );
            let w = random_direction(&y, 99).mapv(|v| 1.0 + v);
            audit_loss(
                "batch_norm loss",
                &x,
                |p| loss(&p.0, &p.1, &p.2, &w),
                |p| loss_grad(&p.0, &p.1, &p.2, &w),
                |p, v| loss_hvp(&p.0, &p.1, &p.2, &w, &v.0, &v.1, &v.2),
                exact(&x, &(&w * &y)),
            );
        }
    }

    // Losses: mse(p, t) = Σ(p − t)²/n, ∂p = 2(p − t)/n, ∂t = −∂p, H = (2/n)[[I, −I], [−I, I]];
    // cross_entropy(z, labels) = −mean log softmax(z)[label], ∂z = (softmax − onehot)/N.
    mod losses {
        use super::*;

        #[differentiate(hessian)]
        pub fn mse(p: &Array2<f64>, t: &Array2<f64>) -> f64 {
            nn::mse(p, t)
        }

        #[differentiate(hessian, wrt(z))]
        pub fn xent(z: &Array2<f64>, labels: &[usize]) -> f64 {
            nn::cross_entropy(z, labels)
        }

        #[test]
        fn every_mode() {
            let (p, t) = (matrix(3, 4, 12.1), matrix(3, 4, 12.2));
            let n = 12.0;
            let (_, (gp, gt)) = mse_grad(&p, &t);
            same_flat("mse ∂p", &gp, &((&p - &t) * (2.0 / n)), 1e-14);
            same_flat("mse ∂t", &gt, &((&t - &p) * (2.0 / n)), 1e-14);
            let x = (p.clone(), t.clone());
            let (du, dv) = (random_direction(&x, 1), random_direction(&x, 2));
            let (_, _, h) = mse_hvp(&p, &t, &du.0, &du.1);
            let e = (&du.0 - &du.1) * (2.0 / n);
            same_flat("mse H·v", &h, &(e.clone(), -e), 1e-14);
            let r = hvpcheck(
                |q: &(Array2<f64>, Array2<f64>)| mse_grad(&q.0, &q.1).1,
                &x,
                &dv,
                &mse_hvp(&p, &t, &dv.0, &dv.1).2,
            );
            assert!(r.passed(), "mse hvp: {r}");
            let (_, b) = mse_vjp(&p, &t);
            let (cp, ct) = b(COT);
            same_flat("mse _vjp", &(cp, ct), &(&gp * COT, &gt * COT), 1e-14);

            let z = matrix(4, 3, 12.3) * 2.0;
            let labels = [2, 0, 1, 1];
            let mut onehot = Array2::zeros((4, 3));
            for (i, &l) in labels.iter().enumerate() {
                onehot[[i, l]] = 1.0;
            }
            let exact = (softmax_rows(&z) - &onehot) / 4.0;
            audit_loss(
                "cross_entropy",
                &z,
                |z| xent(z, &labels),
                |z| xent_grad(z, &labels),
                |z, v| xent_hvp(z, &labels, v),
                exact.clone(),
            );
            let (_, b) = xent_vjp(&z, &labels);
            same_flat("cross_entropy _vjp", &b(COT), &(&exact * COT), 1e-14);
            let v = random_direction(&z, 3);
            close(
                "cross_entropy _jvp",
                xent_jvp(&z, &labels, &v).1,
                (&exact * &v).sum(),
                1e-14,
            );
        }
    }

    // conv2d (valid cross-correlation): ∂x[a] = Σⱼ c[a − j] w[j], ∂w[j] = Σᵢ c[i] x[i + j]
    array_binary!(conv2d, |x: Array2<f64>, w: Array2<f64>| -> Array2<f64> { conv::conv2d(x, w) },
        transpose: |c| {
            let (mut gx, mut gw) = (x.mapv(|_| 0.0), w.mapv(|_| 0.0));
            for ((i1, i2), &g) in c.indexed_iter() {
                for ((j1, j2), &wv) in w.indexed_iter() {
                    gx[[i1 + j1, i2 + j2]] += g * wv;
                    gw[[j1, j2]] += g * x[[i1 + j1, i2 + j2]];
                }
            }
            (gx, gw)
        }, at: (matrix(5, 6, 13.1), matrix(2, 3, 13.2)));
    // conv1d: the same in one dimension
    array_binary!(conv1d, |x: Array1<f64>, w: Array1<f64>| -> Array1<f64> { conv::conv1d(x, w) },
        transpose: |c| {
            let (mut gx, mut gw) = (x.mapv(|_| 0.0), w.mapv(|_| 0.0));
            for (i, &g) in c.indexed_iter() {
                for (j, &wv) in w.indexed_iter() {
                    gx[i + j] += g * wv;
                    gw[j] += g * x[i + j];
                }
            }
            (gx, gw)
        }, at: (vector(8, 13.3), vector(3, 13.4)));

    /// The transpose of `conv2d_nchw` with `stride` and zero `padding`, by its definition
    /// `y[n,f,i,j] = b[f] + Σ_{c,p,q} x[n, c, i·s + p − pad, j·s + q − pad]·w[f,c,p,q]`.
    fn nchw_transpose(
        x: &Array4<f64>,
        w: &Array4<f64>,
        c: &Array4<f64>,
        stride: usize,
        pad: usize,
    ) -> (Array4<f64>, Array4<f64>, Array1<f64>) {
        let (mut gx, mut gw) = (x.mapv(|_| 0.0), w.mapv(|_| 0.0));
        let gb = c.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(0));
        let (h, wd) = (x.dim().2 as isize, x.dim().3 as isize);
        for ((n, f, i, j), &g) in c.indexed_iter() {
            for ((_, ch, p, q), &wv) in w.slice(s![f..f + 1, .., .., ..]).indexed_iter() {
                let r = (i * stride + p) as isize - pad as isize;
                let k = (j * stride + q) as isize - pad as isize;
                if r < 0 || k < 0 || r >= h || k >= wd {
                    continue;
                }
                let (r, k) = (r as usize, k as usize);
                gx[[n, ch, r, k]] += g * wv;
                gw[[f, ch, p, q]] += g * x[[n, ch, r, k]];
            }
        }
        (gx, gw, gb)
    }

    // conv2d_nchw with stride 2 and padding 1, and with stride 1 and no padding
    mod conv2d_nchw {
        use super::*;

        #[differentiate(hessian)]
        pub fn op(
            x: &Array4<f64>,
            w: &Array4<f64>,
            b: &Array1<f64>,
            stride: usize,
            pad: usize,
        ) -> Array4<f64> {
            conv::conv2d_nchw(x, w, b, stride, pad)
        }

        #[differentiate(hessian, wrt(x, w, b))]
        pub fn loss(
            x: &Array4<f64>,
            w: &Array4<f64>,
            b: &Array1<f64>,
            stride: usize,
            pad: usize,
            m: &Array4<f64>,
        ) -> f64 {
            let y = op(x, w, b, stride, pad);
            (&y * &y * m).sum() * 0.5
        }

        #[test]
        fn every_mode() {
            type P = (Array4<f64>, Array4<f64>, Array1<f64>);
            for (stride, pad) in [(2, 1), (1, 0), (2, 0), (1, 2)] {
                let x: P = (
                    tensor4((2, 2, 5, 6), 14.1),
                    tensor4((3, 2, 3, 2), 14.2),
                    vector(3, 14.3),
                );
                let what = format!("conv2d_nchw stride {stride} padding {pad}");
                audit_op(
                    &what,
                    &x,
                    |p| op(&p.0, &p.1, &p.2, stride, pad),
                    |p, d| op_jvp(&p.0, &p.1, &p.2, stride, pad, &d.0, &d.1, &d.2),
                    |p, c| {
                        let (y, b) = op_vjp(&p.0, &p.1, &p.2, stride, pad);
                        (y, b(c))
                    },
                    |p, c| nchw_transpose(&p.0, &p.1, c, stride, pad),
                );
                let y = op(&x.0, &x.1, &x.2, stride, pad);
                let m = random_direction(&y, 99).mapv(|v| 1.0 + v);
                audit_loss(
                    &format!("{what} loss"),
                    &x,
                    |p| loss(&p.0, &p.1, &p.2, stride, pad, &m),
                    |p| loss_grad(&p.0, &p.1, &p.2, stride, pad, &m),
                    |p, v| loss_hvp(&p.0, &p.1, &p.2, stride, pad, &m, &v.0, &v.1, &v.2),
                    nchw_transpose(&x.0, &x.1, &(&m * &y), stride, pad),
                );
            }
        }
    }

    /// The transpose of a pooling with `size` and `stride`: each window's cotangent to its
    /// maximum (`max`) or spread evenly (`avg`).
    fn pool_transpose(
        x: &Array4<f64>,
        c: &Array4<f64>,
        size: usize,
        stride: usize,
        max: bool,
    ) -> Array4<f64> {
        let mut g = x.mapv(|_| 0.0);
        for ((n, ch, i, j), &cv) in c.indexed_iter() {
            let win = x.slice(s![
                n,
                ch,
                i * stride..i * stride + size,
                j * stride..j * stride + size
            ]);
            let m = win.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            for ((p, q), &v) in win.indexed_iter() {
                let at = [n, ch, i * stride + p, j * stride + q];
                if !max {
                    g[at] += cv / (size * size) as f64;
                } else if v == m {
                    g[at] += cv;
                }
            }
        }
        g
    }

    mod pooling {
        use super::*;

        #[differentiate(hessian)]
        pub fn max_pool(x: &Array4<f64>, size: usize, stride: usize) -> Array4<f64> {
            conv::max_pool2d(x, size, stride)
        }

        #[differentiate(hessian)]
        pub fn avg_pool(x: &Array4<f64>, size: usize, stride: usize) -> Array4<f64> {
            conv::avg_pool2d(x, size, stride)
        }

        #[differentiate(hessian)]
        pub fn flat(x: &Array4<f64>) -> Array2<f64> {
            conv::flatten(x)
        }

        #[test]
        fn every_mode() {
            let x = tensor4((2, 2, 6, 7), 15.1);
            for (size, stride) in [(2, 2), (3, 2), (2, 1), (3, 3)] {
                let what = format!("max_pool2d size {size} stride {stride}");
                audit_op(
                    &what,
                    &x,
                    |p| max_pool(p, size, stride),
                    |p, d| max_pool_jvp(p, size, stride, d),
                    |p, c| {
                        let (y, b) = max_pool_vjp(p, size, stride);
                        (y, b(c))
                    },
                    |p, c| pool_transpose(p, c, size, stride, true),
                );
                let what = format!("avg_pool2d size {size} stride {stride}");
                audit_op(
                    &what,
                    &x,
                    |p| avg_pool(p, size, stride),
                    |p, d| avg_pool_jvp(p, size, stride, d),
                    |p, c| {
                        let (y, b) = avg_pool_vjp(p, size, stride);
                        (y, b(c))
                    },
                    |p, c| pool_transpose(p, c, size, stride, false),
                );
            }
            audit_op(
                "flatten",
                &x,
                flat,
                |p, d| flat_jvp(p, d),
                |p, c| {
                    let (y, b) = flat_vjp(p);
                    (y, b(c))
                },
                |_, c| c.clone().into_shape_with_order((2, 2, 6, 7)).unwrap(),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ndarray rules at f32 and generic over the float type
// ---------------------------------------------------------------------------------------------

mod generic_arrays {
    use super::*;
    use autodiff::nn;
    use ndarray::NdFloat;

    /// Broadcasting, an elementwise method, a product with a transpose, reductions along an
    /// axis and whole, a region, the softmax, as one function generic over the float type:
    /// f = Σ s² + mean(a) + Σ log softmax(a)[.., 0] with z = tanh(a + b), s = Σᵢ (z·aᵀ)ᵢ.
    #[differentiate(hessian)]
    pub fn generic<T: NdFloat + Real + num_traits::FromPrimitive>(
        a: &Array2<T>,
        b: &Array1<T>,
    ) -> T {
        let z = (a + b).tanh();
        let s = z.dot(&a.t()).sum_axis(Axis(0));
        let l = nn::log_softmax(a);
        s.dot(&s) + a.mean().unwrap() + l.slice(s![.., 0]).sum()
    }

    /// The same function at f64, written for f64.
    #[differentiate(hessian)]
    pub fn double(a: &Array2<f64>, b: &Array1<f64>) -> f64 {
        let z = (a + b).tanh();
        let s = z.dot(&a.t()).sum_axis(Axis(0));
        let l = nn::log_softmax(a);
        s.dot(&s) + a.mean().unwrap() + l.slice(s![.., 0]).sum()
    }

    /// The same function at f32, written for f32.
    #[differentiate(hessian)]
    pub fn single(a: &Array2<f32>, b: &Array1<f32>) -> f32 {
        let z = (a + b).tanh();
        let s = z.dot(&a.t()).sum_axis(Axis(0));
        let l = nn::log_softmax(a);
        s.dot(&s) + a.mean().unwrap() + l.slice(s![.., 0]).sum()
    }

    /// The f64 tuple as f32.
    fn narrow(p: &(Array2<f64>, Array1<f64>)) -> (Array2<f32>, Array1<f32>) {
        (p.0.mapv(|v| v as f32), p.1.mapv(|v| v as f32))
    }

    /// Every scalar of an f32 value against the f64 one, to `tol` relative to the largest.
    #[track_caller]
    fn near32<P: Differentiable, Q: Differentiable>(what: &str, a: &P, b: &Q, tol: f64) {
        let (a, b) = (to_flat(a), to_flat(b));
        let scale = b.iter().fold(1.0_f64, |m, v| m.max(v.as_f64().abs()));
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            let (x, y) = (x.as_f64(), y.as_f64());
            assert!(
                (x - y).abs() <= tol * scale,
                "{what}[{k}]: {x:e} against {y:e}"
            );
        }
    }

    #[test]
    fn f64_f32_and_generic_agree() {
        type P = (Array2<f64>, Array1<f64>);
        let x: P = (matrix(3, 4, 16.1), vector(4, 16.2));
        let x32 = narrow(&x);
        // The generic function at f64 is the concrete one, bit for bit in value and gradient.
        let (y, g) = double_grad(&x.0, &x.1);
        let (yg, gg) = generic_grad::<f64>(&x.0, &x.1);
        assert_eq!(y.to_bits(), yg.to_bits(), "generic value");
        assert_eq!(to_flat(&g), to_flat(&gg), "generic gradient");
        let r = gradcheck(|p: &P| double(&p.0, &p.1), &x, &g);
        assert!(r.passed(), "f64 gradient against differences: {r}");
        // The pullback of a cotangent other than 1, the tangent and the Hessian-vector product.
        let (_, b) = generic_vjp::<f64>(&x.0, &x.1);
        same_flat("generic _vjp", &b(COT), &(&g.0 * COT, &g.1 * COT), 1e-14);
        let (v, u) = (random_direction(&x, 1), random_direction(&x, 2));
        let (_, t) = generic_jvp::<f64>(&x.0, &x.1, &v.0, &v.1);
        close(
            "generic _jvp",
            t,
            (&g.0 * &v.0).sum() + (&g.1 * &v.1).sum(),
            1e-12,
        );
        let (_, _, hv) = generic_hvp::<f64>(&x.0, &x.1, &v.0, &v.1);
        let (_, _, hv2) = double_hvp(&x.0, &x.1, &v.0, &v.1);
        assert_eq!(to_flat(&hv), to_flat(&hv2), "generic hvp");
        let r = hvpcheck(|p: &P| double_grad(&p.0, &p.1).1, &x, &v, &hv);
        assert!(r.passed(), "f64 hvp against differences: {r}");
        let (_, _, hu) = double_hvp(&x.0, &x.1, &u.0, &u.1);
        assert!(hessian_symmetry(&u, &hu, &v, &hv).passed());

        // At f32 (concrete and generic): the f64 derivatives to f32 accuracy, and f32
        // differences.
        let (_, g32) = single_grad(&x32.0, &x32.1);
        let (_, gg32) = generic_grad::<f32>(&x32.0, &x32.1);
        assert_eq!(to_flat(&g32), to_flat(&gg32), "generic f32 gradient");
        let (_, g_at32) = double_grad(&x32.0.mapv(f64::from), &x32.1.mapv(f64::from));
        near32("f32 gradient", &g32, &g_at32, 1e-5);
        let r = gradcheck(
            |p: &(Array2<f32>, Array1<f32>)| single(&p.0, &p.1),
            &x32,
            &g32,
        );
        assert!(r.passed(), "f32 gradient against differences: {r}");
        let v32 = narrow(&v);
        let (_, _, hv32) = generic_hvp::<f32>(&x32.0, &x32.1, &v32.0, &v32.1);
        let (_, _, hv_at32) = double_hvp(
            &x32.0.mapv(f64::from),
            &x32.1.mapv(f64::from),
            &v32.0.mapv(f64::from),
            &v32.1.mapv(f64::from),
        );
        near32("f32 hvp", &hv32, &hv_at32, 1e-4);
        let (_, t32) = single_jvp(&x32.0, &x32.1, &v32.0, &v32.1);
        let (_, t_at32) = double_jvp(
            &x32.0.mapv(f64::from),
            &x32.1.mapv(f64::from),
            &v32.0.mapv(f64::from),
            &v32.1.mapv(f64::from),
        );
        near32("f32 jvp", &t32, &t_at32, 1e-5);
    }
}
