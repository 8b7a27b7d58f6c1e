//! The tangent of every reverse rule of the float methods, on `f64`, `f32` and arrays
//! (`FloatRules`), and with scalar arguments beside an array receiver (`FloatArgRules`).
//!
//! Each case names the reverse rule, its tangent and the rule's arguments, marking with
//! `: d<name>` those the tangent takes a tangent of: the values the rule reads (its docs say
//! which), and `g`.

use ndarray::Array1;

use super::{ArgPoint, along, assert_tangent, each_arg_type, each_type, prim, unary};
use crate::differentiable::Differentiable;
use crate::rules::testing::Lcg;
use crate::rules::{FloatArgRules, FloatRules};

/// The pattern binding a direction: `_` for an argument without a tangent.
macro_rules! tangent_pat {
    () => {
        _
    };
    ($d:ident) => {
        $d
    };
}

macro_rules! has_tangent {
    () => {
        false
    };
    ($d:ident) => {
        true
    };
}

/// Checks the tangent `$jvp` of the `FloatRules` reverse rule `$vjp` of primitive `$p`.
macro_rules! rule {
    ($p:expr, $vjp:ident, $jvp:ident, ($($a:ident $(: $d:ident)?),*)) => {{
        fn check<P: FloatRules + Differentiable>(args: &[P], dirs: &[P]) {
            let at = |s: P::Scalar| {
                let moved: Vec<P> = args.iter().zip(dirs).map(|(a, t)| along(a, t, s)).collect();
                let [$($a),*] = &moved[..] else {
                    unreachable!("one value per argument")
                };
                <P as FloatRules>::$vjp($($a),*)
            };
            let [$($a),*] = args else {
                unreachable!("one value per argument")
            };
            let [$(tangent_pat!($($d)?)),*] = dirs else {
                unreachable!("one direction per argument")
            };
            let tangent = <P as FloatRules>::$jvp($($a,)* $($($d,)?)*);
            assert_tangent(stringify!($jvp), at, &tangent);
        }
        each_type(
            &$p,
            &[$(has_tangent!($($d)?)),*],
            line!().into(),
            check::<f64>,
            check::<f32>,
            check::<Array1<f64>>,
        );
    }};
}

/// Checks the tangent `$jvp` of the `FloatArgRules` reverse rule `$vjp` of primitive `$p`, whose
/// arguments are the receiver, the scalars, `y` and `g`.
macro_rules! arg_rule {
    (
        $p:expr, $vjp:ident, $jvp:ident,
        ($x:ident $(: $dx:ident)?; $($s:ident $(: $ds:ident)?),*; $y:ident $(: $dy:ident)?; g: dg)
    ) => {{
        fn check<P, A>(args: &ArgPoint<P, A>, dirs: &ArgPoint<P, A>)
        where
            P: FloatArgRules<A> + Differentiable,
            A: Differentiable<Scalar = P::Scalar>,
        {
            let at = |s: P::Scalar| {
                let m = args.along(dirs, s);
                let [$($s),*] = &m.scalars[..] else {
                    unreachable!("one value per argument")
                };
                <P as FloatArgRules<A>>::$vjp(&m.x, $($s,)* &m.y, &m.g)
            };
            let ArgPoint { x: $x, scalars, y: $y, g } = args;
            let [$($s),*] = &scalars[..] else {
                unreachable!("one value per argument")
            };
            let ArgPoint {
                x: tangent_pat!($($dx)?),
                scalars: dscalars,
                y: tangent_pat!($($dy)?),
                g: dg,
            } = dirs;
            let [$(tangent_pat!($($ds)?)),*] = &dscalars[..] else {
                unreachable!("one direction per argument")
            };
            let tangent = <P as FloatArgRules<A>>::$jvp(
                $x, $($s,)* $y, g, $($dx,)? $($($ds,)?)* $($dy,)? dg
            );
            assert_tangent(stringify!($jvp), at, &tangent);
        }
        each_arg_type(
            &$p,
            &[has_tangent!($($dx)?), $(has_tangent!($($ds)?),)* has_tangent!($($dy)?), true],
            line!().into(),
            check::<f64, f64>,
            check::<Array1<f64>, f64>,
        );
    }};
}

#[test]
fn exponentials_and_logarithms() {
    let exp = unary(f64::exp, -1.0, 1.0);
    rule!(exp, exp_vjp, exp_vjp_jvp, (x, y: dy, g: dg));
    let exp2 = unary(f64::exp2, -1.0, 1.0);
    rule!(exp2, exp2_vjp, exp2_vjp_jvp, (x, y: dy, g: dg));
    let exp_m1 = unary(f64::exp_m1, -1.0, 1.0);
    rule!(exp_m1, exp_m1_vjp, exp_m1_vjp_jvp, (x, y: dy, g: dg));
    let ln = unary(f64::ln, 0.3, 3.0);
    rule!(ln, ln_vjp, ln_vjp_jvp, (x: dx, y, g: dg));
    let log2 = unary(f64::log2, 0.3, 3.0);
    rule!(log2, log2_vjp, log2_vjp_jvp, (x: dx, y, g: dg));
    let log10 = unary(f64::log10, 0.3, 3.0);
    rule!(log10, log10_vjp, log10_vjp_jvp, (x: dx, y, g: dg));
    let ln_1p = unary(f64::ln_1p, -0.5, 2.0);
    rule!(ln_1p, ln_1p_vjp, ln_1p_vjp_jvp, (x: dx, y, g: dg));
}

#[test]
fn powers_and_roots() {
    let sqrt = unary(f64::sqrt, 0.3, 3.0);
    rule!(sqrt, sqrt_vjp, sqrt_vjp_jvp, (x, y: dy, g: dg));
    let cbrt = unary(f64::cbrt, 0.3, 3.0);
    rule!(cbrt, cbrt_vjp, cbrt_vjp_jvp, (x, y: dy, g: dg));
    let recip = unary(f64::recip, 0.3, 3.0);
    rule!(recip, recip_vjp, recip_vjp_jvp, (x, y: dy, g: dg));
    let powf = prim(|o| o[0].powf(o[1]), &[(0.3, 2.0), (-1.5, 2.5)]);
    rule!(powf, powf_vjp_0, powf_vjp_0_jvp, (x: dx, p: dp, y, g: dg));
    rule!(powf, powf_vjp_1, powf_vjp_1_jvp, (x: dx, p: dp, y: dy, g: dg));
    arg_rule!(powf, powf_vjp_0, powf_vjp_0_jvp, (x: dx; p: dp; y; g: dg));
    arg_rule!(powf, powf_vjp_1, powf_vjp_1_jvp, (x: dx; p: dp; y: dy; g: dg));
    let log = prim(|o| o[0].log(o[1]), &[(0.3, 3.0), (1.5, 4.0)]);
    rule!(log, log_vjp_0, log_vjp_0_jvp, (x: dx, b: db, y, g: dg));
    rule!(log, log_vjp_1, log_vjp_1_jvp, (x, b: db, y: dy, g: dg));
    arg_rule!(log, log_vjp_0, log_vjp_0_jvp, (x: dx; b: db; y; g: dg));
    arg_rule!(log, log_vjp_1, log_vjp_1_jvp, (x; b: db; y: dy; g: dg));
}

#[test]
fn powi_has_no_tangent_of_its_exponent() {
    // The `i32` exponent is neither varied nor given a tangent. d/dx (g·n·xⁿ⁻¹) = g·n(n−1)xⁿ⁻²,
    // which the finite differences check; n = 0 and n = 1 have a zero second derivative.
    let mut rng = Lcg(31);
    for n in [-3, -1, 0, 1, 2, 5] {
        for _ in 0..4 {
            let x = rng.uniform(0.3, 2.0);
            let (y, g) = (x.powi(n), rng.uniform(-1.5, 1.5));
            let (dx, dy, dg) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0), 0.4);
            let at = |s: f64| f64::powi_vjp(&(x + s * dx), &n, &(y + s * dy), &(g + s * dg));
            let tangent = f64::powi_vjp_jvp(&x, &n, &y, &g, &dx, &dy, &dg);
            assert_tangent("powi_vjp_jvp", at, &tangent);
            let (x1, y1, g1) = (
                Array1::from(vec![x, 1.3]),
                Array1::from(vec![y, 1.3f64.powi(n)]),
                Array1::from(vec![g, -0.2]),
            );
            let (dx1, dy1, dg1) = (
                Array1::from(vec![dx, 0.7]),
                Array1::from(vec![dy, -0.1]),
                Array1::from(vec![dg, 0.9]),
            );
            let at = |s: f64| {
                <Array1<f64> as FloatRules>::powi_vjp(
                    &along(&x1, &dx1, s),
                    &n,
                    &along(&y1, &dy1, s),
                    &along(&g1, &dg1, s),
                )
            };
            let tangent =
                <Array1<f64> as FloatRules>::powi_vjp_jvp(&x1, &n, &y1, &g1, &dx1, &dy1, &dg1);
            assert_tangent("powi_vjp_jvp on arrays", at, &tangent);
        }
    }
}

#[test]
fn trigonometric() {
    let sin = unary(f64::sin, -1.2, 1.2);
    rule!(sin, sin_vjp, sin_vjp_jvp, (x: dx, y, g: dg));
    let cos = unary(f64::cos, -1.2, 1.2);
    rule!(cos, cos_vjp, cos_vjp_jvp, (x: dx, y, g: dg));
    let tan = unary(f64::tan, -1.2, 1.2);
    rule!(tan, tan_vjp, tan_vjp_jvp, (x, y: dy, g: dg));
    let asin = unary(f64::asin, -0.8, 0.8);
    rule!(asin, asin_vjp, asin_vjp_jvp, (x: dx, y, g: dg));
    let acos = unary(f64::acos, -0.8, 0.8);
    rule!(acos, acos_vjp, acos_vjp_jvp, (x: dx, y, g: dg));
    let atan = unary(f64::atan, -2.0, 2.0);
    rule!(atan, atan_vjp, atan_vjp_jvp, (x: dx, y, g: dg));
    let atan2 = prim(|o| o[0].atan2(o[1]), &[(-2.0, 2.0), (-2.0, 2.0)]);
    rule!(atan2, atan2_vjp_0, atan2_vjp_0_jvp, (x: dx, a: da, y, g: dg));
    rule!(atan2, atan2_vjp_1, atan2_vjp_1_jvp, (x: dx, a: da, y, g: dg));
    let hypot = prim(|o| o[0].hypot(o[1]), &[(-2.0, 2.0), (-2.0, 2.0)]);
    rule!(hypot, hypot_vjp_0, hypot_vjp_0_jvp, (x: dx, a: da, y: dy, g: dg));
    rule!(hypot, hypot_vjp_1, hypot_vjp_1_jvp, (x, a: da, y: dy, g: dg));
    arg_rule!(hypot, hypot_vjp_0, hypot_vjp_0_jvp, (x: dx; a: da; y: dy; g: dg));
    arg_rule!(hypot, hypot_vjp_1, hypot_vjp_1_jvp, (x; a: da; y: dy; g: dg));
    let to_degrees = unary(f64::to_degrees, -2.0, 2.0);
    rule!(to_degrees, to_degrees_vjp, to_degrees_vjp_jvp, (x, y, g: dg));
    let to_radians = unary(f64::to_radians, -2.0, 2.0);
    rule!(to_radians, to_radians_vjp, to_radians_vjp_jvp, (x, y, g: dg));
}

#[test]
fn sin_cos_has_a_tuple_cotangent() {
    // x̄ = ḡ.0·cos x − ḡ.1·sin x; its tangent is dḡ.0·cos x − dḡ.1·sin x
    // − (ḡ.0·sin x + ḡ.1·cos x)·dx, checked by finite differences.
    let mut rng = Lcg(32);
    for _ in 0..4 {
        let x = rng.uniform(-2.0, 2.0);
        let y = x.sin_cos();
        let g = (rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5));
        let (dx, dg) = (rng.uniform(-1.0, 1.0), (rng.uniform(-1.0, 1.0), 0.3));
        let at = |s: f64| f64::sin_cos_vjp(&(x + s * dx), &y, &(g.0 + s * dg.0, g.1 + s * dg.1));
        let tangent = f64::sin_cos_vjp_jvp(&x, &y, &g, &dx, &dg);
        assert_tangent("sin_cos_vjp_jvp", at, &tangent);
        let expected = dg.0 * x.cos() - dg.1 * x.sin() - (g.0 * x.sin() + g.1 * x.cos()) * dx;
        crate::check::assert_close(tangent, expected, 1e-14);
    }
}

#[test]
fn hyperbolic() {
    let sinh = unary(f64::sinh, -2.0, 2.0);
    rule!(sinh, sinh_vjp, sinh_vjp_jvp, (x: dx, y, g: dg));
    let cosh = unary(f64::cosh, -2.0, 2.0);
    rule!(cosh, cosh_vjp, cosh_vjp_jvp, (x: dx, y, g: dg));
    let tanh = unary(f64::tanh, -2.0, 2.0);
    rule!(tanh, tanh_vjp, tanh_vjp_jvp, (x, y: dy, g: dg));
    let asinh = unary(f64::asinh, -2.0, 2.0);
    rule!(asinh, asinh_vjp, asinh_vjp_jvp, (x: dx, y, g: dg));
    let acosh = unary(f64::acosh, 1.2, 3.0);
    rule!(acosh, acosh_vjp, acosh_vjp_jvp, (x: dx, y, g: dg));
    let atanh = unary(f64::atanh, -0.8, 0.8);
    rule!(atanh, atanh_vjp, atanh_vjp_jvp, (x: dx, y, g: dg));
}

#[test]
fn products() {
    let mul_add = prim(|o| o[0].mul_add(o[1], o[2]), &[(-2.0, 2.0); 3]);
    rule!(mul_add, mul_add_vjp_0, mul_add_vjp_0_jvp, (x, a: da, b, y, g: dg));
    rule!(mul_add, mul_add_vjp_1, mul_add_vjp_1_jvp, (x: dx, a, b, y, g: dg));
    rule!(mul_add, mul_add_vjp_2, mul_add_vjp_2_jvp, (x, a, b, y, g: dg));
}

#[test]
fn kinks_and_jumps_away_from_them() {
    // Away from its kinks and jumps a rule's factor of g is locally constant: the tangent is
    // that factor times dg, which the finite differences confirm.
    let abs = unary(f64::abs, -1.5, 1.5);
    rule!(abs, abs_vjp, abs_vjp_jvp, (x: dx, y, g: dg));
    let signum = unary(f64::signum, -2.5, 2.5);
    rule!(signum, signum_vjp, signum_vjp_jvp, (x, y, g: dg));
    let floor = unary(f64::floor, -2.5, 2.5);
    rule!(floor, floor_vjp, floor_vjp_jvp, (x, y, g: dg));
    let ceil = unary(f64::ceil, -2.5, 2.5);
    rule!(ceil, ceil_vjp, ceil_vjp_jvp, (x, y, g: dg));
    let round = unary(f64::round, -2.5, 2.5);
    rule!(round, round_vjp, round_vjp_jvp, (x, y, g: dg));
    let trunc = unary(f64::trunc, -2.5, 2.5);
    rule!(trunc, trunc_vjp, trunc_vjp_jvp, (x, y, g: dg));
    let fract = unary(f64::fract, -2.5, 2.5);
    rule!(fract, fract_vjp, fract_vjp_jvp, (x, y, g: dg));
    let copysign = prim(|o| o[0].copysign(o[1]), &[(-1.5, 1.5), (-1.5, 1.5)]);
    rule!(copysign, copysign_vjp_0, copysign_vjp_0_jvp, (x: dx, s: ds, y, g: dg));
    rule!(copysign, copysign_vjp_1, copysign_vjp_1_jvp, (x, s, y, g: dg));
    let rem_euclid = prim(|o| o[0].rem_euclid(o[1]), &[(-3.0, 3.0), (0.7, 1.3)]);
    rule!(rem_euclid, rem_euclid_vjp_0, rem_euclid_vjp_0_jvp, (x, m, y, g: dg));
    rule!(rem_euclid, rem_euclid_vjp_1, rem_euclid_vjp_1_jvp, (x: dx, m: dm, y, g: dg));
    let div_euclid = prim(|o| o[0].div_euclid(o[1]), &[(-3.0, 3.0), (0.7, 1.3)]);
    rule!(div_euclid, div_euclid_vjp_0, div_euclid_vjp_0_jvp, (x, m, y, g: dg));
    rule!(div_euclid, div_euclid_vjp_1, div_euclid_vjp_1_jvp, (x, m, y, g: dg));
    let rem = prim(|o| o[0] % o[1], &[(-3.0, 3.0), (0.7, 1.3)]);
    rule!(rem, rem_vjp_0, rem_vjp_0_jvp, (x, m: dm, y, g: dg));
    rule!(rem, rem_vjp_1, rem_vjp_1_jvp, (x: dx, m: dm, y, g: dg));
    arg_rule!(rem, rem_vjp_0, rem_vjp_0_jvp, (x; m: dm; y; g: dg));
    arg_rule!(rem, rem_vjp_1, rem_vjp_1_jvp, (x: dx; m: dm; y; g: dg));
}

#[test]
fn selections_away_from_ties() {
    // y follows the selected argument, so the shares stay constant along the direction.
    let max = prim(|o| o[0].max(o[1]), &[(-1.0, 1.0), (-1.0, 1.0)])
        .tied(|o, d| if o[0] > o[1] { d[0] } else { d[1] });
    rule!(max, max_vjp_0, max_vjp_0_jvp, (x: dx, a: da, y: dy, g: dg));
    rule!(max, max_vjp_1, max_vjp_1_jvp, (x: dx, a: da, y: dy, g: dg));
    let min = prim(|o| o[0].min(o[1]), &[(-1.0, 1.0), (-1.0, 1.0)])
        .tied(|o, d| if o[0] < o[1] { d[0] } else { d[1] });
    rule!(min, min_vjp_0, min_vjp_0_jvp, (x: dx, a: da, y: dy, g: dg));
    rule!(min, min_vjp_1, min_vjp_1_jvp, (x: dx, a: da, y: dy, g: dg));
    let clamp = prim(
        |o| o[0].clamp(o[1], o[2]),
        &[(-2.0, 2.0), (-1.0, -0.5), (0.5, 1.0)],
    )
    .tied(|o, d| {
        if o[0] < o[1] {
            d[1]
        } else if o[0] > o[2] {
            d[2]
        } else {
            d[0]
        }
    });
    rule!(clamp, clamp_vjp_0, clamp_vjp_0_jvp, (x: dx, lo: dlo, hi: dhi, y: dy, g: dg));
    rule!(clamp, clamp_vjp_1, clamp_vjp_1_jvp, (x: dx, lo: dlo, hi: dhi, y: dy, g: dg));
    rule!(clamp, clamp_vjp_2, clamp_vjp_2_jvp, (x: dx, lo: dlo, hi: dhi, y: dy, g: dg));
    arg_rule!(clamp, clamp_vjp_0, clamp_vjp_0_jvp, (x: dx; lo: dlo, hi: dhi; y: dy; g: dg));
    arg_rule!(clamp, clamp_vjp_1, clamp_vjp_1_jvp, (x: dx; lo: dlo, hi: dhi; y: dy; g: dg));
    arg_rule!(clamp, clamp_vjp_2, clamp_vjp_2_jvp, (x: dx; lo: dlo, hi: dhi; y: dy; g: dg));
}
