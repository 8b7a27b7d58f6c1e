//! `unbroadcast` against a brute-force sum; the arithmetic rules between arrays, broadcast
//! arrays and scalars by finite differences, their jvps against their vjps.

use ndarray::{Array, Array0, Array1, Array2, ArrayD, Dimension, Ix0, Ix1, Ix2, Ix3, IxDyn, array};

use super::{ADJOINT, Lcg, wsum};
use crate::check::{assert_close, gradcheck};
use crate::differentiable::{Differentiable, Real};
use crate::rules::tensor::unbroadcast;
use crate::rules::{ArithRules, NegRule, ShapeOf};

/// The sum of `g` over the axes broadcasting added or stretched, element by element.
fn unbroadcast_reference(g: &ArrayD<f64>, to: &[usize]) -> ArrayD<f64> {
    let lead = g.ndim() - to.len();
    let mut out = ArrayD::zeros(IxDyn(to));
    for (index, &v) in g.indexed_iter() {
        let target: Vec<usize> = (0..to.len())
            .map(|i| if to[i] == 1 { 0 } else { index[lead + i] })
            .collect();
        out[IxDyn(&target)] += v;
    }
    out
}

#[test]
fn unbroadcast_sums_added_and_stretched_axes() {
    let mut rng = Lcg(1);
    let cases: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[4]),
        (&[3, 4], &[3, 1]),
        (&[3, 4], &[1, 4]),
        (&[3, 4], &[1, 1]),
        (&[3, 4], &[]),
        (&[2, 3, 4], &[3, 4]),
        (&[2, 3, 4], &[3, 1]),
        (&[2, 3, 4], &[4]),
        (&[2, 3, 4], &[2, 1, 4]),
        (&[5, 2, 3, 4], &[1, 4]),
        (&[2, 3, 4], &[2, 3, 4]),
        (&[2, 0, 4], &[1, 4]),
        (&[2, 3], &[2, 1]),
    ];
    for &(from, to) in cases {
        let g = rng.array(IxDyn(from), -1.0, 1.0);
        let expected = unbroadcast_reference(&g, to);
        let got = unbroadcast(&g, &IxDyn(to));
        assert_eq!(got.shape(), to);
        for (a, b) in got.iter().zip(&expected) {
            assert_close(*a, *b, 1e-14);
        }
        // Non-contiguous cotangents (reversed axes) reduce the same way.
        let g_f = g.t().as_standard_layout().into_owned();
        let g_rev = g_f.t();
        assert_eq!(g_rev, g);
        let got_rev = unbroadcast(&g_rev, &IxDyn(to));
        for (a, b) in got_rev.iter().zip(&expected) {
            assert_close(*a, *b, 1e-14);
        }
    }
    // Fixed dimension types, as the rules call it.
    let g = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    assert_eq!(unbroadcast(&g, &Ix1(3)), array![5.0, 7.0, 9.0]);
    assert_eq!(unbroadcast(&g, &Ix2(2, 1)), array![[6.0], [15.0]]);
    assert_eq!(unbroadcast(&g, &Ix0()), Array0::from_elem((), 21.0));
    assert_eq!(unbroadcast(&g, &Ix2(2, 3)), g);
}

#[test]
#[should_panic(expected = "cannot be reduced to shape [3]")]
fn unbroadcast_rejects_incompatible_shapes() {
    let g = Array2::<f64>::zeros((2, 4));
    let _ = unbroadcast(&g, &Ix1(3));
}

// ---- arithmetic --------------------------------------------------------------------------

/// Checks the four operators between `a` and `b` (arrays or scalars): vjps by finite
/// differences, jvps against the vjps. `b` must stay away from zero.
macro_rules! check_arith {
    ($rng:expr, $a:expr, $b:expr) => {{
        let rng: &mut Lcg = $rng;
        let (a, b) = ($a, $b);
        let (sa, sb) = (ShapeOf::of(&a), ShapeOf::of(&b));
        let x = (a.clone(), b.clone());
        let dx = rng.like(&x);

        let y = ArithRules::add(&a, &b);
        let w = rng.like(&y);
        let grad = (
            ArithRules::add_vjp_0(&sa, &sb, &w),
            ArithRules::add_vjp_1(&sa, &sb, &w),
        );
        gradcheck(|p| wsum(&ArithRules::add(&p.0, &p.1), &w), &x, &grad).assert_ok();
        let jvp = ArithRules::add_jvp(&a, &b, &y, &dx.0, &dx.1);
        assert_close(wsum(&jvp, &w).as_f64(), dx.inner(&grad).as_f64(), ADJOINT);

        let y = ArithRules::sub(&a, &b);
        let grad = (
            ArithRules::sub_vjp_0(&sa, &sb, &w),
            ArithRules::sub_vjp_1(&sa, &sb, &w),
        );
        gradcheck(|p| wsum(&ArithRules::sub(&p.0, &p.1), &w), &x, &grad).assert_ok();
        let jvp = ArithRules::sub_jvp(&a, &b, &y, &dx.0, &dx.1);
        assert_close(wsum(&jvp, &w).as_f64(), dx.inner(&grad).as_f64(), ADJOINT);

        let y = ArithRules::mul(&a, &b);
        let grad = (
            ArithRules::mul_vjp_0(&sa, &b, &w),
            ArithRules::mul_vjp_1(&a, &sb, &w),
        );
        gradcheck(|p| wsum(&ArithRules::mul(&p.0, &p.1), &w), &x, &grad).assert_ok();
        let jvp = ArithRules::mul_jvp(&a, &b, &y, &dx.0, &dx.1);
        assert_close(wsum(&jvp, &w).as_f64(), dx.inner(&grad).as_f64(), ADJOINT);

        let y = ArithRules::div(&a, &b);
        let grad = (
            ArithRules::div_vjp_0(&sa, &b, &w),
            ArithRules::div_vjp_1(&sa, &b, &y, &w),
        );
        gradcheck(|p| wsum(&ArithRules::div(&p.0, &p.1), &w), &x, &grad).assert_ok();
        let jvp = ArithRules::div_jvp(&a, &b, &y, &dx.0, &dx.1);
        assert_close(wsum(&jvp, &w).as_f64(), dx.inner(&grad).as_f64(), ADJOINT);
    }};
}

/// A divisor: magnitude in `[0.5, 2)`, random sign.
fn divisor<D: Dimension>(rng: &mut Lcg, shape: D) -> Array<f64, D> {
    rng.array(shape, 0.5, 2.0)
        .mapv_into(|v| if v < 1.25 { v } else { -v + 0.75 })
}

#[test]
fn arithmetic_same_shape() {
    let mut rng = Lcg(2);
    for _ in 0..3 {
        let (m, n) = (rng.len(1, 5), rng.len(1, 5));
        let a = rng.array(Ix2(m, n), -2.0, 2.0);
        let b = divisor(&mut rng, Ix2(m, n));
        check_arith!(&mut rng, a, b);
    }
}

#[test]
fn arithmetic_broadcasts() {
    let mut rng = Lcg(3);
    for _ in 0..3 {
        let (k, m, n) = (rng.len(2, 4), rng.len(2, 5), rng.len(2, 5));
        // (m, n) op (n): a leading axis added to b.
        let (a, b) = (rng.array(Ix2(m, n), -2.0, 2.0), divisor(&mut rng, Ix1(n)));
        check_arith!(&mut rng, a, b);
        // (n) op (m, n): a leading axis added to a.
        let (a, b) = (rng.array(Ix1(n), -2.0, 2.0), divisor(&mut rng, Ix2(m, n)));
        check_arith!(&mut rng, a, b);
        // (m, n) op (m, 1): a length-1 axis stretched.
        let (a, b) = (
            rng.array(Ix2(m, n), -2.0, 2.0),
            divisor(&mut rng, Ix2(m, 1)),
        );
        check_arith!(&mut rng, a, b);
        // (m, 1) op (1, n): both stretched.
        let (a, b) = (
            rng.array(Ix2(m, 1), -2.0, 2.0),
            divisor(&mut rng, Ix2(1, n)),
        );
        check_arith!(&mut rng, a, b);
        // (k, m, n) op (m, n) and (m, n) op (k, m, n).
        let (a, b) = (
            rng.array(Ix3(k, m, n), -2.0, 2.0),
            divisor(&mut rng, Ix2(m, n)),
        );
        check_arith!(&mut rng, a, b);
        let (a, b) = (
            rng.array(Ix2(m, n), -2.0, 2.0),
            divisor(&mut rng, Ix3(k, m, n)),
        );
        check_arith!(&mut rng, a, b);
        // (k, m, n) op (m, 1): added and stretched.
        let (a, b) = (
            rng.array(Ix3(k, m, n), -2.0, 2.0),
            divisor(&mut rng, Ix2(m, 1)),
        );
        check_arith!(&mut rng, a, b);
        // Dynamic dimensions: (k, 1, n) op (m, 1).
        let a = rng.array(IxDyn(&[k, 1, n]), -2.0, 2.0);
        let b = divisor(&mut rng, IxDyn(&[m, 1]));
        check_arith!(&mut rng, a, b);
    }
}

#[test]
fn arithmetic_with_scalars() {
    let mut rng = Lcg(4);
    for _ in 0..3 {
        let (m, n) = (rng.len(1, 5), rng.len(1, 5));
        // array op scalar
        let a = rng.array(Ix2(m, n), -2.0, 2.0);
        check_arith!(&mut rng, a, -1.3_f64);
        let a = rng.array(Ix3(2, m, n), -2.0, 2.0);
        check_arith!(&mut rng, a, 0.7_f64);
        // scalar op array
        let b = divisor(&mut rng, Ix2(m, n));
        check_arith!(&mut rng, 1.7_f64, b);
        let b = divisor(&mut rng, Ix1(n));
        check_arith!(&mut rng, -0.4_f64, b);
    }
}

#[test]
fn arithmetic_in_single_precision() {
    let mut rng = Lcg(5);
    let a = rng.array(Ix2(3, 4), -2.0, 2.0).mapv(|v| v as f32);
    let b = divisor(&mut rng, Ix1(4)).mapv(|v| v as f32);
    let sa = ShapeOf::of(&a);
    let y = ArithRules::div(&a, &b);
    let w = rng.like(&y);
    let grad = (
        ArithRules::div_vjp_0(&sa, &b, &w),
        ArithRules::div_vjp_1(&sa, &b, &y, &w),
    );
    let x = (a.clone(), b.clone());
    gradcheck(|p| wsum(&ArithRules::div(&p.0, &p.1), &w), &x, &grad).assert_ok();
    let y = ArithRules::mul(&2.5_f32, &a);
    let grad = (
        ArithRules::mul_vjp_0(&ShapeOf::of(&2.5_f32), &a, &y),
        ArithRules::mul_vjp_1(&2.5_f32, &sa, &y),
    );
    let x = (2.5_f32, a.clone());
    gradcheck(|p| wsum(&ArithRules::mul(&p.0, &p.1), &y), &x, &grad).assert_ok();
}

#[test]
fn broadcast_cotangents_have_operand_shapes() {
    let a = Array2::<f64>::ones((3, 4));
    let b = Array1::<f64>::ones(4);
    let c = Array2::<f64>::ones((3, 1));
    let g = Array2::<f64>::ones((3, 4));
    let gb = ArithRules::add_vjp_1(&ShapeOf::of(&a), &ShapeOf::of(&b), &g);
    assert_eq!(gb, array![3.0, 3.0, 3.0, 3.0]);
    let gc = ArithRules::mul_vjp_1(&a, &ShapeOf::of(&c), &g);
    assert_eq!(gc, array![[4.0], [4.0], [4.0]]);
    let ga = ArithRules::sub_vjp_1(&ShapeOf::of(&2.0), &ShapeOf::of(&a), &g);
    assert_eq!(ga, -&g);
    assert_eq!(
        ArithRules::add_vjp_1(&ShapeOf::of(&a), &ShapeOf::of(&2.0), &g),
        12.0
    );
}

#[test]
fn neg() {
    // d(−x)/dx = −1
    let mut rng = Lcg(6);
    let x = rng.array(Ix3(2, 3, 4), -1.0, 1.0);
    let w = rng.like(&x);
    let grad = NegRule::neg_vjp(&w);
    assert_eq!(NegRule::neg(&x), -&x);
    gradcheck(|x| wsum(&NegRule::neg(x), &w), &x, &grad).assert_ok();
    let y = NegRule::neg(&x);
    assert_eq!(NegRule::neg_jvp(&x, &y, &w), grad);
}
