//! The float methods elementwise: by finite differences, bitwise against the scalar rules, jvps
//! against vjps; the methods with scalar arguments; shape checks.

use ndarray::{Array1, Array2, Ix2, Ix3, Zip, array};

use super::{ADJOINT, Lcg, wsum};
use crate::check::{assert_close, gradcheck};
use crate::differentiable::Differentiable;
use crate::rules::{FloatArgRules, FloatRules};

type Unary = fn(&Array2<f64>, &Array2<f64>, &Array2<f64>) -> Array2<f64>;

/// `(name, primal, vjp, jvp, domain)` of a unary method.
macro_rules! unary_case {
    ($m:ident, $vjp:ident, $jvp:ident, $lo:expr, $hi:expr) => {
        (
            stringify!($m),
            f64::$m as fn(f64) -> f64,
            <Array2<f64> as FloatRules>::$vjp as Unary,
            <Array2<f64> as FloatRules>::$jvp as Unary,
            <f64 as FloatRules>::$vjp as fn(&f64, &f64, &f64) -> f64,
            ($lo, $hi),
        )
    };
}

#[test]
fn unary_methods_elementwise() {
    // Each derivative is the scalar rule's (whose tests state the analytic formulas);
    // here: against finite differences elementwise, bitwise equal to the scalar rule, and
    // jvp(dx) == vjp(g = dx).
    let cases = [
        unary_case!(exp, exp_vjp, exp_jvp, -1.0, 1.0),
        unary_case!(exp2, exp2_vjp, exp2_jvp, -1.0, 1.0),
        unary_case!(exp_m1, exp_m1_vjp, exp_m1_jvp, -1.0, 1.0),
        unary_case!(ln, ln_vjp, ln_jvp, 0.3, 3.0),
        unary_case!(log2, log2_vjp, log2_jvp, 0.3, 3.0),
        unary_case!(log10, log10_vjp, log10_jvp, 0.3, 3.0),
        unary_case!(ln_1p, ln_1p_vjp, ln_1p_jvp, -0.5, 2.0),
        unary_case!(sqrt, sqrt_vjp, sqrt_jvp, 0.3, 3.0),
        unary_case!(cbrt, cbrt_vjp, cbrt_jvp, 0.3, 3.0),
        unary_case!(recip, recip_vjp, recip_jvp, 0.5, 2.0),
        unary_case!(sin, sin_vjp, sin_jvp, -2.0, 2.0),
        unary_case!(cos, cos_vjp, cos_jvp, -2.0, 2.0),
        unary_case!(tan, tan_vjp, tan_jvp, -1.0, 1.0),
        unary_case!(asin, asin_vjp, asin_jvp, -0.8, 0.8),
        unary_case!(acos, acos_vjp, acos_jvp, -0.8, 0.8),
        unary_case!(atan, atan_vjp, atan_jvp, -2.0, 2.0),
        unary_case!(sinh, sinh_vjp, sinh_jvp, -1.5, 1.5),
        unary_case!(cosh, cosh_vjp, cosh_jvp, -1.5, 1.5),
        unary_case!(tanh, tanh_vjp, tanh_jvp, -1.5, 1.5),
        unary_case!(asinh, asinh_vjp, asinh_jvp, -2.0, 2.0),
        unary_case!(acosh, acosh_vjp, acosh_jvp, 1.2, 3.0),
        unary_case!(atanh, atanh_vjp, atanh_jvp, -0.8, 0.8),
        unary_case!(abs, abs_vjp, abs_jvp, -2.0, 2.0),
        unary_case!(signum, signum_vjp, signum_jvp, -2.0, 2.0),
        unary_case!(floor, floor_vjp, floor_jvp, -2.0, 2.0),
        unary_case!(ceil, ceil_vjp, ceil_jvp, -2.0, 2.0),
        unary_case!(round, round_vjp, round_jvp, -2.0, 2.0),
        unary_case!(trunc, trunc_vjp, trunc_jvp, -2.0, 2.0),
        unary_case!(fract, fract_vjp, fract_jvp, -2.0, 2.0),
        unary_case!(to_degrees, to_degrees_vjp, to_degrees_jvp, -2.0, 2.0),
        unary_case!(to_radians, to_radians_vjp, to_radians_jvp, -2.0, 2.0),
    ];
    let mut rng = Lcg(7);
    for (name, f, vjp, jvp, scalar_vjp, (lo, hi)) in cases {
        let shape = Ix2(rng.len(1, 4), rng.len(1, 4));
        let x = rng.array(shape, lo, hi);
        let y = x.mapv(f);
        let w = rng.like(&x);
        let grad = vjp(&x, &y, &w);
        let report = gradcheck(|x| wsum(&x.mapv(f), &w), &x, &grad);
        assert!(report.passed(), "{name}: {report}");
        for ((x, y), (w, d)) in x.iter().zip(&y).zip(w.iter().zip(&grad)) {
            assert_eq!(*d, scalar_vjp(x, y, w), "{name} at {x}");
        }
        assert_eq!(jvp(&x, &y, &w), grad, "{name}: jvp != vjp");
    }
}

#[test]
fn unary_methods_match_ndarray() {
    // ndarray's own array methods are the primals these rules differentiate.
    let x = array![[0.5, 1.5], [2.0, 0.25]];
    assert_eq!(x.exp(), x.mapv(f64::exp));
    assert_eq!(x.tanh(), x.mapv(f64::tanh));
    assert_eq!(x.powi(3), x.mapv(|v| v.powi(3)));
    assert_eq!(x.powf(1.5), x.mapv(|v| v.powf(1.5)));
    assert_eq!(x.clamp(0.4, 1.8), x.mapv(|v| v.clamp(0.4, 1.8)));
}

#[test]
fn powi_elementwise() {
    // d/dx xⁿ = n·xⁿ⁻¹
    let mut rng = Lcg(8);
    for n in [-2, 0, 1, 3] {
        let x = rng.array(Ix3(2, 2, 3), 0.5, 2.0);
        let y = x.powi(n);
        let w = rng.like(&x);
        let grad = FloatRules::powi_vjp(&x, &n, &y, &w);
        let expected = Zip::from(&x)
            .and(&w)
            .map_collect(|&x, &w| w * f64::from(n) * x.powi(n - 1));
        for (a, b) in grad.iter().zip(&expected) {
            assert_close(*a, *b, 1e-14);
        }
        gradcheck(|x| wsum(&x.powi(n), &w), &x, &grad).assert_ok();
        assert_eq!(FloatRules::powi_jvp(&x, &n, &y, &w), grad);
    }
}

type BinaryPrimal = fn(f64, f64) -> f64;
type Binary = fn(&Array2<f64>, &Array2<f64>, &Array2<f64>, &Array2<f64>) -> Array2<f64>;
type BinaryJvp =
    fn(&Array2<f64>, &Array2<f64>, &Array2<f64>, &Array2<f64>, &Array2<f64>) -> Array2<f64>;

/// `(name, primal, vjp_0, vjp_1, jvp, domain of x, domain of a)` of a two-input method.
macro_rules! binary_case {
    ($m:ident, $v0:ident, $v1:ident, $jvp:ident, $dx:expr, $da:expr) => {
        (
            stringify!($m),
            f64::$m as BinaryPrimal,
            <Array2<f64> as FloatRules>::$v0 as Binary,
            <Array2<f64> as FloatRules>::$v1 as Binary,
            <Array2<f64> as FloatRules>::$jvp as BinaryJvp,
            $dx,
            $da,
        )
    };
}

#[test]
fn binary_methods_elementwise() {
    // ∂ log_b x = (1/(x ln b), −ln x/(b ln² b)), ∂ xᵖ = (p·xᵖ⁻¹, xᵖ ln x),
    // ∂ atan2(x, a) = (a, −x)/(x² + a²), ∂ hypot = (x, a)/hypot, max/min: 1 to the winner,
    // ∂ copysign(x, s) = (sign x · sign s, 0), ∂ rem_euclid(x, m) = (1, −x.div_euclid(m)).
    let cases = [
        binary_case!(log, log_vjp_0, log_vjp_1, log_jvp, (0.3, 3.0), (1.5, 4.0)),
        binary_case!(
            powf,
            powf_vjp_0,
            powf_vjp_1,
            powf_jvp,
            (0.3, 2.0),
            (-1.5, 2.5)
        ),
        binary_case!(
            atan2,
            atan2_vjp_0,
            atan2_vjp_1,
            atan2_jvp,
            (-2.0, 2.0),
            (0.2, 2.0)
        ),
        binary_case!(
            hypot,
            hypot_vjp_0,
            hypot_vjp_1,
            hypot_jvp,
            (-2.0, 2.0),
            (-2.0, 2.0)
        ),
        binary_case!(max, max_vjp_0, max_vjp_1, max_jvp, (-2.0, 2.0), (-2.0, 2.0)),
        binary_case!(min, min_vjp_0, min_vjp_1, min_jvp, (-2.0, 2.0), (-2.0, 2.0)),
        // Signs differ: ∂/∂x = −1; away from x = 0 and s = 0.
        binary_case!(
            copysign,
            copysign_vjp_0,
            copysign_vjp_1,
            copysign_jvp,
            (-2.0, -0.3),
            (0.2, 2.0)
        ),
        // x/m in (−0.9, −0.05): the quotient is −1, no jump nearby.
        binary_case!(
            rem_euclid,
            rem_euclid_vjp_0,
            rem_euclid_vjp_1,
            rem_euclid_jvp,
            (-0.9, -0.1),
            (1.0, 2.0)
        ),
    ];
    let mut rng = Lcg(9);
    for (name, f, vjp_0, vjp_1, jvp, (xl, xh), (al, ah)) in cases {
        let shape = Ix2(rng.len(1, 4), rng.len(1, 4));
        let x = rng.array(shape, xl, xh);
        let a = rng.array(shape, al, ah);
        let y = Zip::from(&x).and(&a).map_collect(|&x, &a| f(x, a));
        let w = rng.like(&x);
        let grad = (vjp_0(&x, &a, &y, &w), vjp_1(&x, &a, &y, &w));
        let primal = |p: &(Array2<f64>, Array2<f64>)| {
            wsum(&Zip::from(&p.0).and(&p.1).map_collect(|&x, &a| f(x, a)), &w)
        };
        let report = gradcheck(primal, &(x.clone(), a.clone()), &grad);
        assert!(report.passed(), "{name}: {report}");
        let d = rng.like(&(x.clone(), a.clone()));
        let tangent = jvp(&x, &a, &y, &d.0, &d.1);
        assert_close(wsum(&tangent, &w), d.inner(&grad), ADJOINT);
    }
}

#[test]
fn tuple_results_elementwise() {
    // (sin x, cos x) = y elementwise: x̄ = ḡ.0 ⊙ cos x − ḡ.1 ⊙ sin x, each element the scalar
    // rule's; the tangent is (cos x ⊙ dx, −sin x ⊙ dx).
    let mut rng = Lcg(18);
    let x = rng.array(Ix2(3, 4), -2.0, 2.0);
    let y = (x.mapv(f64::sin), x.mapv(f64::cos));
    let w = (rng.like(&x), rng.like(&x));
    let grad = FloatRules::sin_cos_vjp(&x, &y, &w);
    for (((x, y0), y1), (w0, (w1, d))) in x
        .iter()
        .zip(&y.0)
        .zip(&y.1)
        .zip(w.0.iter().zip(w.1.iter().zip(&grad)))
    {
        assert_eq!(*d, f64::sin_cos_vjp(x, &(*y0, *y1), &(*w0, *w1)));
    }
    let primal = |x: &Array2<f64>| wsum(&x.mapv(f64::sin), &w.0) + wsum(&x.mapv(f64::cos), &w.1);
    gradcheck(primal, &x, &grad).assert_ok();
    let dx = rng.like(&x);
    let tangent = FloatRules::sin_cos_jvp(&x, &y, &dx);
    assert_close(
        wsum(&tangent.0, &w.0) + wsum(&tangent.1, &w.1),
        wsum(&dx, &grad),
        ADJOINT,
    );
}

#[test]
fn ternary_methods_elementwise() {
    // ∂(x·a + b) = (a, x, 1); ∂ clamp(x, lo, hi) = 1 to the argument equal to the output.
    let mut rng = Lcg(10);
    let shape = Ix2(3, 4);
    let x = rng.array(shape, -2.0, 2.0);
    let a = rng.array(shape, -1.0, -0.2);
    let b = rng.array(shape, 0.2, 1.0);
    let w = rng.like(&x);
    let d = rng.like(&(x.clone(), a.clone(), b.clone()));
    type Args = (Array2<f64>, Array2<f64>, Array2<f64>);

    let zip3 = |p: &Args, f: fn(f64, f64, f64) -> f64| {
        Zip::from(&p.0)
            .and(&p.1)
            .and(&p.2)
            .map_collect(|&x, &a, &b| f(x, a, b))
    };
    let args = (x.clone(), a.clone(), b.clone());
    for (name, f) in [
        ("mul_add", f64::mul_add as fn(f64, f64, f64) -> f64),
        ("clamp", f64::clamp),
    ] {
        let y = zip3(&args, f);
        let (grad, tangent) = if name == "mul_add" {
            (
                (
                    FloatRules::mul_add_vjp_0(&x, &a, &b, &y, &w),
                    FloatRules::mul_add_vjp_1(&x, &a, &b, &y, &w),
                    FloatRules::mul_add_vjp_2(&x, &a, &b, &y, &w),
                ),
                FloatRules::mul_add_jvp(&x, &a, &b, &y, &d.0, &d.1, &d.2),
            )
        } else {
            (
                (
                    FloatRules::clamp_vjp_0(&x, &a, &b, &y, &w),
                    FloatRules::clamp_vjp_1(&x, &a, &b, &y, &w),
                    FloatRules::clamp_vjp_2(&x, &a, &b, &y, &w),
                ),
                FloatRules::clamp_jvp(&x, &a, &b, &y, &d.0, &d.1, &d.2),
            )
        };
        let report = gradcheck(|p: &Args| wsum(&zip3(p, f), &w), &args, &grad);
        assert!(report.passed(), "{name}: {report}");
        assert_close(wsum(&tangent, &w), d.inner(&grad), ADJOINT);
    }
}

#[test]
fn elementwise_ties_split_like_scalars() {
    // max/min ties: g/2 each; abs at 0: 0; clamp at a bound: g/2 to x and the bound.
    let x = array![1.0, -0.5, 2.0];
    let g = array![2.0, 4.0, 6.0];
    let half = array![1.0, 2.0, 3.0];
    assert_eq!(FloatRules::max_vjp_0(&x, &x, &x, &g), half);
    assert_eq!(FloatRules::min_vjp_1(&x, &x, &x, &g), half);
    let zeros = Array1::<f64>::zeros(3);
    assert_eq!(FloatRules::abs_vjp(&zeros, &zeros, &g), zeros);
    let y = x.clamp(-0.5, 1.0);
    assert_eq!(
        FloatArgRules::clamp_vjp_0(&x, &-0.5, &1.0, &y, &g),
        array![1.0, 2.0, 0.0]
    );
    assert_eq!(FloatArgRules::clamp_vjp_1(&x, &-0.5, &1.0, &y, &g), 2.0);
    assert_eq!(FloatArgRules::clamp_vjp_2(&x, &-0.5, &1.0, &y, &g), 7.0);
}

#[test]
#[should_panic(expected = "exp_vjp: elementwise operands of different shapes")]
fn elementwise_rules_check_shapes() {
    let x = Array1::<f64>::zeros(3);
    let g = Array1::<f64>::zeros(4);
    let _ = FloatRules::exp_vjp(&x, &x, &g);
}

#[test]
fn methods_with_scalar_arguments() {
    // ndarray's a.powf(p), a.log(b), a.hypot(h), a.clamp(lo, hi): the scalar argument's
    // cotangent sums over the elements.
    let mut rng = Lcg(11);
    let x = rng.array(Ix2(3, 4), 0.3, 2.0);
    let w = rng.like(&x);
    type Args = (Array2<f64>, f64);
    type Args3 = (Array2<f64>, f64, f64);

    let p = 1.7;
    let y = x.powf(p);
    let grad = (
        FloatArgRules::powf_vjp_0(&x, &p, &y, &w),
        FloatArgRules::powf_vjp_1(&x, &p, &y, &w),
    );
    gradcheck(|q: &Args| wsum(&q.0.powf(q.1), &w), &(x.clone(), p), &grad).assert_ok();
    let d = rng.like(&(x.clone(), p));
    let tangent = FloatArgRules::powf_jvp(&x, &p, &y, &d.0, &d.1);
    assert_close(wsum(&tangent, &w), d.inner(&grad), ADJOINT);

    let b = 3.0;
    let y = x.log(b);
    let grad = (
        FloatArgRules::log_vjp_0(&x, &b, &y, &w),
        FloatArgRules::log_vjp_1(&x, &b, &y, &w),
    );
    gradcheck(|q: &Args| wsum(&q.0.log(q.1), &w), &(x.clone(), b), &grad).assert_ok();
    let tangent = FloatArgRules::log_jvp(&x, &b, &y, &d.0, &d.1);
    assert_close(wsum(&tangent, &w), d.inner(&grad), ADJOINT);

    let h = -0.8;
    let y = x.hypot(h);
    let grad = (
        FloatArgRules::hypot_vjp_0(&x, &h, &y, &w),
        FloatArgRules::hypot_vjp_1(&x, &h, &y, &w),
    );
    gradcheck(|q: &Args| wsum(&q.0.hypot(q.1), &w), &(x.clone(), h), &grad).assert_ok();
    let tangent = FloatArgRules::hypot_jvp(&x, &h, &y, &d.0, &d.1);
    assert_close(wsum(&tangent, &w), d.inner(&grad), ADJOINT);

    let (lo, hi) = (0.7, 1.4);
    let y = x.clamp(lo, hi);
    let grad = (
        FloatArgRules::clamp_vjp_0(&x, &lo, &hi, &y, &w),
        FloatArgRules::clamp_vjp_1(&x, &lo, &hi, &y, &w),
        FloatArgRules::clamp_vjp_2(&x, &lo, &hi, &y, &w),
    );
    let args = (x.clone(), lo, hi);
    gradcheck(|q: &Args3| wsum(&q.0.clamp(q.1, q.2), &w), &args, &grad).assert_ok();
    let d = rng.like(&args);
    let tangent = FloatArgRules::clamp_jvp(&x, &lo, &hi, &y, &d.0, &d.1, &d.2);
    assert_close(wsum(&tangent, &w), d.inner(&grad), ADJOINT);
}

#[test]
fn scalar_argument_rules_of_scalars_are_float_rules() {
    let (x, p) = (1.3_f64, 0.6);
    let y = x.powf(p);
    assert_eq!(
        FloatArgRules::powf_vjp_1(&x, &p, &y, &1.0),
        FloatRules::powf_vjp_1(&x, &p, &y, &1.0)
    );
    let y = x.clamp(0.0, 1.3);
    assert_eq!(
        FloatArgRules::clamp_vjp_2(&x, &0.0, &1.3, &y, &2.0),
        FloatRules::clamp_vjp_2(&x, &0.0, &1.3, &y, &2.0)
    );
    let (x, h) = (3.0_f32, 4.0_f32);
    assert_eq!(FloatArgRules::hypot_vjp_0(&x, &h, &5.0, &1.0), 0.6_f32);
}

#[test]
fn float_methods_in_single_precision() {
    let mut rng = Lcg(12);
    let x = rng.array(Ix2(2, 3), -1.0, 1.0).mapv(|v| v as f32);
    let w = rng.like(&x);
    let y = x.tanh();
    let grad = FloatRules::tanh_vjp(&x, &y, &w);
    gradcheck(|x| wsum(&x.tanh(), &w), &x, &grad).assert_ok();
}
