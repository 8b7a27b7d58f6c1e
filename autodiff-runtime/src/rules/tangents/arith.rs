//! The tangents of the operators' reverse rules, on scalars, on arrays of one shape, on arrays
//! that broadcast, and on arrays beside scalars: each reduced to its operand's shape as the
//! reverse rule is.

use ndarray::{Array1, Array2, Ix1, Ix2};

use super::{along, assert_tangent};
use crate::differentiable::Differentiable;
use crate::rules::testing::Lcg;
use crate::rules::{ArithRules, HasShape, NegRule, ShapeOf};

/// Every binary operator's rule tangents at `(a, b)`, along random directions of `b`, `y`, `g`
/// and `a` (where a rule takes them).
fn check<A, B>(rng: &mut Lcg, a: A, b: B)
where
    A: ArithRules<B> + Differentiable,
    B: HasShape + Differentiable<Scalar = A::Scalar>,
    A::Output: Differentiable<Scalar = A::Scalar>,
{
    let (sa, sb) = (ShapeOf::of(&a), ShapeOf::of(&b));
    let y = <A as ArithRules<B>>::div(&a, &b);
    let (da, db) = (rng.like(&a), rng.like(&b));
    let (g, dg, dy) = (rng.like(&y), rng.like(&y), rng.like(&y));
    let g_at = |s| along(&g, &dg, s);
    // ā = reduce(g), b̄ = ±reduce(g): the tangents are ±reduce(dg).
    assert_tangent(
        "add_vjp_0_jvp",
        |s| A::add_vjp_0(&sa, &sb, &g_at(s)),
        &A::add_vjp_0_jvp(&sa, &sb, &g, &dg),
    );
    assert_tangent(
        "add_vjp_1_jvp",
        |s| A::add_vjp_1(&sa, &sb, &g_at(s)),
        &A::add_vjp_1_jvp(&sa, &sb, &g, &dg),
    );
    assert_tangent(
        "sub_vjp_0_jvp",
        |s| A::sub_vjp_0(&sa, &sb, &g_at(s)),
        &A::sub_vjp_0_jvp(&sa, &sb, &g, &dg),
    );
    assert_tangent(
        "sub_vjp_1_jvp",
        |s| A::sub_vjp_1(&sa, &sb, &g_at(s)),
        &A::sub_vjp_1_jvp(&sa, &sb, &g, &dg),
    );
    // ā = reduce(g·b): the tangent is reduce(dg·b + g·db); likewise for b̄.
    assert_tangent(
        "mul_vjp_0_jvp",
        |s| A::mul_vjp_0(&sa, &along(&b, &db, s), &g_at(s)),
        &A::mul_vjp_0_jvp(&sa, &b, &g, &db, &dg),
    );
    assert_tangent(
        "mul_vjp_1_jvp",
        |s| A::mul_vjp_1(&along(&a, &da, s), &sb, &g_at(s)),
        &A::mul_vjp_1_jvp(&a, &sb, &g, &da, &dg),
    );
    // ā = reduce(g/b): the tangent is reduce((dg − g/b·db)/b).
    assert_tangent(
        "div_vjp_0_jvp",
        |s| A::div_vjp_0(&sa, &along(&b, &db, s), &g_at(s)),
        &A::div_vjp_0_jvp(&sa, &b, &g, &db, &dg),
    );
    // b̄ = reduce(−g·y/b), with y varied on its own.
    assert_tangent(
        "div_vjp_1_jvp",
        |s| A::div_vjp_1(&sa, &along(&b, &db, s), &along(&y, &dy, s), &g_at(s)),
        &A::div_vjp_1_jvp(&sa, &b, &y, &g, &db, &dy, &dg),
    );
}

/// Divisors away from zero, of either sign.
fn divisor<D: ndarray::Dimension>(rng: &mut Lcg, shape: D) -> ndarray::Array<f64, D> {
    rng.array(shape, 0.5, 2.0)
        .mapv_into(|v| if v > 1.25 { v } else { -v })
}

#[test]
fn on_scalars() {
    let mut rng = Lcg(41);
    check(&mut rng, 1.3_f64, 0.7_f64);
    check(&mut rng, -0.4_f64, -1.6_f64);
    check(&mut rng, 1.3_f32, -0.8_f32);
}

#[test]
fn on_arrays_of_one_shape() {
    let mut rng = Lcg(42);
    let a: Array2<f64> = rng.array(Ix2(3, 4), -1.0, 1.0);
    let b = divisor(&mut rng, Ix2(3, 4));
    check(&mut rng, a, b);
}

#[test]
fn on_arrays_that_broadcast() {
    let mut rng = Lcg(43);
    // A row broadcast down the rows, either side.
    let a: Array2<f64> = rng.array(Ix2(3, 4), -1.0, 1.0);
    let b: Array1<f64> = divisor(&mut rng, Ix1(4));
    check(&mut rng, a, b);
    let a: Array1<f64> = rng.array(Ix1(4), -1.0, 1.0);
    let b: Array2<f64> = divisor(&mut rng, Ix2(3, 4));
    check(&mut rng, a, b);
    // A column and a row, both stretched.
    let a: Array2<f64> = rng.array(Ix2(3, 1), -1.0, 1.0);
    let b: Array2<f64> = divisor(&mut rng, Ix2(1, 4));
    check(&mut rng, a, b);
}

#[test]
fn on_arrays_beside_scalars() {
    let mut rng = Lcg(44);
    let a: Array2<f64> = rng.array(Ix2(2, 3), -1.0, 1.0);
    check(&mut rng, a, -0.9_f64);
    let b = divisor(&mut rng, Ix2(2, 3));
    check(&mut rng, 0.6_f64, b);
}

#[test]
fn negation() {
    // x̄ = −g: the tangent is −dg.
    let mut rng = Lcg(45);
    let (g, dg) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
    assert_tangent(
        "neg_vjp_jvp",
        |s| f64::neg_vjp(&(g + s * dg)),
        &f64::neg_vjp_jvp(&g, &dg),
    );
    let (g, dg) = (g as f32, dg as f32);
    assert_tangent(
        "neg_vjp_jvp",
        |s| f32::neg_vjp(&(g + s * dg)),
        &f32::neg_vjp_jvp(&g, &dg),
    );
    let g: Array2<f64> = rng.array(Ix2(2, 3), -1.0, 1.0);
    let dg = rng.like(&g);
    assert_tangent(
        "neg_vjp_jvp",
        |s| <Array2<f64> as NegRule>::neg_vjp(&along(&g, &dg, s)),
        &<Array2<f64> as NegRule>::neg_vjp_jvp(&g, &dg),
    );
}
