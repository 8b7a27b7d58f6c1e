//! The operator rules of `f32` and `f64` against an independent formula of each derivative
//! (stated in each test), central finite differences of the primal, and jvp against vjp.

use super::*;
use crate::rules::FloatRules;
use crate::rules::testing::*;

#[test]
fn called_the_way_generated_code_calls_them() {
    // Through the trait, `Self` inferred from the arguments, even from an untyped literal
    // beside a typed operand.
    let x = 3.0_f64;
    let y = 2.0 * x;
    let _ = y;
    assert_eq!(ArithRules::mul_vjp_1(&2.0, &ShapeOf::of(&x), &1.0), 2.0);
    assert_eq!(
        ArithRules::mul_vjp_0(&ShapeOf::of(&2.0_f32), &3.0, &1.0),
        3.0_f32
    );
    assert_eq!(ArithRules::add(&2.0, &x), 5.0);
    assert_eq!(FloatRules::exp_vjp(&0.0_f32, &1.0, &2.0), 2.0_f32);
    assert_eq!(NegRule::neg_vjp(&1.0_f64), -1.0);
    assert_eq!(NegRule::neg(&x), -3.0);
    assert_eq!(FloatRules::powi_vjp(&x, &2, &9.0, &1.0), 6.0);
}

// ---- arithmetic and negation -------------------------------------------------------------

const ARITH_POINTS: &[(f64, f64)] = &[(1.5, -2.5), (0.3, 4.0), (-3.0, 0.25)];

#[test]
fn add() {
    // ∂(a + b) = (1, 1)
    let rules = rules2(
        |a, b, _, g| f64::add_vjp_0(&ShapeOf::of(a), &ShapeOf::of(b), g),
        |a, b, _, g| f64::add_vjp_1(&ShapeOf::of(a), &ShapeOf::of(b), g),
        f64::add_jvp,
    );
    binary(|a, b| a + b, rules, |_, _| (1.0, 1.0), ARITH_POINTS);
}

#[test]
fn sub() {
    // ∂(a − b) = (1, −1)
    let rules = rules2(
        |a, b, _, g| f64::sub_vjp_0(&ShapeOf::of(a), &ShapeOf::of(b), g),
        |a, b, _, g| f64::sub_vjp_1(&ShapeOf::of(a), &ShapeOf::of(b), g),
        f64::sub_jvp,
    );
    binary(|a, b| a - b, rules, |_, _| (1.0, -1.0), ARITH_POINTS);
}

#[test]
fn mul() {
    // ∂(a·b) = (b, a)
    let rules = rules2(
        |a, b, _, g| f64::mul_vjp_0(&ShapeOf::of(a), b, g),
        |a, b, _, g| f64::mul_vjp_1(a, &ShapeOf::of(b), g),
        f64::mul_jvp,
    );
    binary(|a, b| a * b, rules, |a, b| (b, a), ARITH_POINTS);
}

#[test]
fn div() {
    // ∂(a/b) = (1/b, −a/b²)
    let rules = rules2(
        |a, b, _, g| f64::div_vjp_0(&ShapeOf::of(a), b, g),
        |a, b, y, g| f64::div_vjp_1(&ShapeOf::of(a), b, y, g),
        f64::div_jvp,
    );
    binary(
        |a, b| a / b,
        rules,
        |a, b| (1.0 / b, -a / (b * b)),
        ARITH_POINTS,
    );
}

#[test]
fn neg() {
    // d(−x)/dx = −1
    unary(
        |x| -x,
        |_, _, g| f64::neg_vjp(g),
        f64::neg_jvp,
        |_| -1.0,
        &[-1.5, 0.0, 2.0],
    );
}
