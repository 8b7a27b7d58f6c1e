//! The linear primitives: `dot` for every pair of shapes and storages, transposes, reductions;
//! shapes, views and element reads; calls the way generated code makes them.

use ndarray::{
    Array1, Array2, Array3, ArrayD, ArrayView, Axis, Ix1, Ix2, Ix3, IxDyn, ShapeBuilder, array,
};

use super::{ADJOINT, Lcg, wsum};
use crate::check::{assert_close, gradcheck};
use crate::differentiable::Differentiable;
use crate::differentiable::{IndexAdjoint, Primal, ZerosOfShape};
use crate::rules::{DotRules, ShapeOf, TensorRules};

/// Checks `dot` between `a` and `b` (any storage): vjps by finite differences over owned
/// copies, the jvp against the vjps. `w` is a cotangent of the output.
macro_rules! check_dot {
    ($rng:expr, $a:expr, $b:expr, $wsum:expr) => {{
        let rng: &mut Lcg = $rng;
        let (a, b) = ($a, $b);
        let y = DotRules::dot(&a, &b);
        let w = rng.like(&y);
        let grad = (
            DotRules::dot_vjp_0(&ShapeOf::of(&a), &b, &w),
            DotRules::dot_vjp_1(&a, &ShapeOf::of(&b), &w),
        );
        assert_eq!(grad.0.shape(), a.shape());
        assert_eq!(grad.1.shape(), b.shape());
        let x = (a.to_owned(), b.to_owned());
        gradcheck(|p| $wsum(&DotRules::dot(&p.0, &p.1), &w), &x, &grad).assert_ok();
        let d = rng.like(&x);
        let tangent = DotRules::dot_jvp(&a, &b, &y, &d.0, &d.1);
        assert_close($wsum(&tangent, &w), d.inner(&grad), ADJOINT);
    }};
}

/// `⟨y, w⟩` for the scalar result of vector·vector.
fn wsum0(y: &f64, w: &f64) -> f64 {
    y * w
}

#[test]
fn dot_all_shape_pairs() {
    // Ȳ = G: Ā = G·Bᵀ, B̄ = Aᵀ·G (matrix·matrix); Ā = g⊗x, x̄ = Aᵀg (matrix·vector);
    // ā = g·b, b̄ = g·a (vector·vector); x̄ = B·g, B̄ = x⊗g (vector·matrix).
    let mut rng = Lcg(13);
    for _ in 0..3 {
        let (m, k, n) = (rng.len(1, 5), rng.len(1, 5), rng.len(1, 5));
        let a = rng.array(Ix2(m, k), -1.0, 1.0);
        let b = rng.array(Ix2(k, n), -1.0, 1.0);
        let x = rng.array(Ix1(k), -1.0, 1.0);
        let v = rng.array(Ix1(k), -1.0, 1.0);
        check_dot!(&mut rng, a.clone(), b.clone(), wsum);
        check_dot!(&mut rng, a.clone(), x.clone(), wsum);
        check_dot!(&mut rng, x.clone(), v.clone(), wsum0);
        check_dot!(&mut rng, x.clone(), b.clone(), wsum);
    }
}

#[test]
fn dot_of_views() {
    let mut rng = Lcg(14);
    let (m, k, n) = (4, 3, 5);
    let a0 = rng.array(Ix2(k, m), -1.0, 1.0); // a = a0ᵀ, m×k
    let b0 = rng.array(Ix2(n, k), -1.0, 1.0); // b = b0ᵀ, k×n
    let x = rng.array(Ix1(k), -1.0, 1.0);
    // Transposed views as either operand, and both.
    check_dot!(&mut rng, a0.t(), b0.t(), wsum);
    check_dot!(&mut rng, a0.t(), x.view(), wsum);
    check_dot!(&mut rng, x.view(), b0.t(), wsum);
    check_dot!(&mut rng, a0.t(), b0.t().to_owned(), wsum);
    // A column slice (strided view) as the right operand.
    let c = rng.array(Ix2(k, 2 * n), -1.0, 1.0);
    check_dot!(&mut rng, a0.t(), c.slice(ndarray::s![.., ..;2]), wsum);

    // The gradient of the owned a0 through y = a0ᵀ·b: t_vjp of the view's gradient.
    let b = b0.t().to_owned();
    let y = a0.t().dot(&b);
    let w = rng.like(&y);
    let g_view = DotRules::dot_vjp_0(&ShapeOf::of(&a0.t()), &b, &w);
    let g_a0 = TensorRules::t_vjp(&ShapeOf::of(&a0), &g_view);
    assert_eq!(g_a0.shape(), a0.shape());
    assert!(g_a0.is_standard_layout());
    gradcheck(|a0| wsum(&a0.t().dot(&b), &w), &a0, &g_a0).assert_ok();
}

#[test]
#[should_panic]
fn dot_checks_shapes() {
    // A cotangent that does not fit the operands: 2×4 · (3×5)ᵀ.
    let a = Array2::<f64>::zeros((2, 3));
    let b = Array2::<f64>::zeros((3, 5));
    let g = Array2::<f64>::zeros((2, 4));
    let _ = DotRules::dot_vjp_0(&ShapeOf::of(&a), &b, &g);
}

// ---- transpose and reductions ------------------------------------------------------------

#[test]
fn transpose() {
    // y = xᵀ ⇒ x̄ = ḡᵀ (all axes reversed)
    let mut rng = Lcg(15);
    let x = rng.array(Ix2(3, 5), -1.0, 1.0);
    let w = rng.like(&x.t().to_owned());
    let grad = TensorRules::t_vjp(&ShapeOf::of(&x), &w);
    gradcheck(|x| wsum(&x.t().to_owned(), &w), &x, &grad).assert_ok();
    let x3 = rng.array(Ix3(2, 3, 4), -1.0, 1.0);
    let w3 = rng.like(&x3.t().to_owned());
    let grad3 = TensorRules::t_vjp(&ShapeOf::of(&x3), &w3);
    assert_eq!(grad3.shape(), &[2, 3, 4]);
    gradcheck(|x| wsum(&x.t().to_owned(), &w3), &x3, &grad3).assert_ok();
    let dx = rng.like(&x3);
    let tangent = TensorRules::t_jvp(&ShapeOf::of(&x3), &dx);
    assert_close(wsum(&tangent, &w3), wsum(&dx, &grad3), ADJOINT);
}

#[test]
fn sum_and_mean() {
    // Σ x: x̄ = g; mean x: x̄ = g/n
    let mut rng = Lcg(16);
    for _ in 0..3 {
        let shape = Ix3(rng.len(1, 3), rng.len(1, 4), rng.len(1, 4));
        let x = rng.array(shape, -1.0, 1.0);
        let s = ShapeOf::of(&x);
        let g = rng.uniform(-2.0, 2.0);
        let grad = TensorRules::sum_vjp(&s, &g);
        gradcheck(|x: &Array3<f64>| g * x.sum(), &x, &grad).assert_ok();
        let dx = rng.like(&x);
        assert_close(g * TensorRules::sum_jvp(&s, &dx), wsum(&dx, &grad), ADJOINT);
        let grad = TensorRules::mean_vjp(&s, &g);
        gradcheck(|x: &Array3<f64>| g * x.mean().unwrap(), &x, &grad).assert_ok();
        assert_close(
            g * TensorRules::mean_jvp(&s, &dx),
            wsum(&dx, &grad),
            ADJOINT,
        );
    }
}

#[test]
fn sum_axis_and_mean_axis() {
    // y = Σₖ x[.., k, ..]: x̄ = g broadcast along the axis; mean: divided by its length.
    let mut rng = Lcg(17);
    let x = rng.array(Ix3(2, 3, 4), -1.0, 1.0);
    let s = ShapeOf::of(&x);
    for axis in (0..3).map(Axis) {
        let w = rng.like(&x.sum_axis(axis));
        let grad = TensorRules::sum_axis_vjp_0(&s, &axis, &w);
        assert_eq!(grad.shape(), x.shape());
        gradcheck(|x| wsum(&x.sum_axis(axis), &w), &x, &grad).assert_ok();
        let dx = rng.like(&x);
        let tangent = TensorRules::sum_axis_jvp(&s, &axis, &dx);
        assert_close(wsum(&tangent, &w), wsum(&dx, &grad), ADJOINT);

        let grad = TensorRules::mean_axis_vjp_0(&s, &axis, &w);
        gradcheck(|x| wsum(&x.mean_axis(axis).unwrap(), &w), &x, &grad).assert_ok();
        let tangent = TensorRules::mean_axis_jvp(&s, &axis, &dx);
        assert_close(wsum(&tangent, &w), wsum(&dx, &grad), ADJOINT);
    }
    // 2-D and dynamic dimensions; a view as `Self`.
    let m = rng.array(Ix2(3, 4), -1.0, 1.0);
    let w = rng.like(&m.sum_axis(Axis(0)));
    let grad = TensorRules::sum_axis_vjp_0(&ShapeOf::of(&m.view()), &Axis(0), &w);
    gradcheck(|m| wsum(&m.sum_axis(Axis(0)), &w), &m, &grad).assert_ok();
    let d = rng.array(IxDyn(&[2, 3, 2]), -1.0, 1.0);
    let w = rng.like(&d.mean_axis(Axis(1)).unwrap());
    let grad = TensorRules::mean_axis_vjp_0(&ShapeOf::of(&d), &Axis(1), &w);
    gradcheck(|d| wsum(&d.mean_axis(Axis(1)).unwrap(), &w), &d, &grad).assert_ok();
}

#[test]
fn select_adds_each_pick_back() {
    // y = x.select(axis, ids): x̄'s subview at i is Σ of ȳ's subviews at the positions k with
    // ids[k] = i (the repeated index 2 gets two), zero at the index never picked (1).
    let mut rng = Lcg(23);
    let x = rng.array(Ix3(3, 4, 2), -1.0, 1.0);
    let s = ShapeOf::of(&x);
    for axis in (0..2).map(Axis) {
        let ids = vec![2usize, 0, 2];
        let w = rng.like(&x.select(axis, &ids));
        let grad = TensorRules::select_vjp_0(&s, &axis, &ids, &w);
        assert_eq!(grad.shape(), x.shape());
        assert!(grad.index_axis(axis, 1).iter().all(|&g| g == 0.0));
        gradcheck(|x| wsum(&x.select(axis, &ids), &w), &x, &grad).assert_ok();
        // The indices as generated code passes them: a reference to a slice, an array.
        let by_slice = TensorRules::select_vjp_0(&s, &axis, &&ids[..], &w);
        let by_array = TensorRules::select_vjp_0(&s, &axis, &[2usize, 0, 2], &w);
        assert_eq!(by_slice, grad);
        assert_eq!(by_array, grad);
    }
}

// ---- shapes, views, element reads --------------------------------------------------------

#[test]
fn shapes_views_and_element_reads() {
    let x = Array2::<f64>::ones((2, 3).f());
    assert_eq!(ShapeOf::of(&x).dims, Ix2(2, 3));
    assert_eq!(ShapeOf::of(&x.t()).dims, Ix2(3, 2));
    let v = x.view();
    assert_eq!(Primal::zero_tangent(&v), Array2::<f64>::zeros((2, 3)));
    assert_eq!(Primal::zero_tangent(&&v), Array2::<f64>::zeros((2, 3)));
    assert_eq!(
        <ArrayView<'_, f64, Ix2> as ZerosOfShape>::zeros(&Ix2(2, 3)),
        Array2::<f64>::zeros((2, 3))
    );

    // x̄[i] += ȳ for every index form ndarray accepts.
    let mut adj = Array2::<f64>::zeros((2, 3));
    adj.add_at([1, 2], 1.5);
    adj.add_at((1, 2), 1.0);
    adj.add_at(Ix2(0, 1), -2.0);
    assert_eq!(adj, array![[0.0, -2.0, 0.0], [0.0, 0.0, 2.5]]);
    assert_eq!(adj.take_at([1, 2]), 2.5);
    assert_eq!(adj[[1, 2]], 0.0);
    let mut adj1 = Array1::<f64>::zeros(3);
    adj1.add_at(2, 4.0);
    assert_eq!(adj1, array![0.0, 0.0, 4.0]);
    let mut adjd = ArrayD::<f64>::zeros(IxDyn(&[2, 2]));
    adjd.add_at([1, 0], 3.0);
    adjd.add_at(IxDyn(&[1, 0]), 1.0);
    assert_eq!(adjd[[1, 0]], 4.0);
}

#[test]
fn called_the_way_generated_code_calls_them() {
    // Through the traits at their `__private` paths, `Self` inferred from the arguments,
    // also with an untyped literal beside an array.
    use crate::__private as p;
    let a = array![[1.0, 2.0], [3.0, 4.0]];
    let w: &Array2<f64> = &a;
    assert_eq!(p::ArithRules::add(w, &1.0), array![[2.0, 3.0], [4.0, 5.0]]);
    assert_eq!(p::ArithRules::mul(&2.0, w), &a * 2.0);
    let g = Array2::<f64>::ones((2, 2));
    assert_eq!(p::ArithRules::mul_vjp_0(&p::shape_of(&2.0), w, &g), 10.0);
    let y = p::NegRule::neg(w);
    assert_eq!(p::NegRule::neg_vjp(&y), a);
    let e = a.exp();
    assert_eq!(p::FloatRules::exp_vjp(&g, &e, &g), e);
    let wt = p::DotRules::dot_vjp_0(&p::shape_of(&a.t()), w, &g);
    let gw = p::TensorRules::t_vjp(&p::shape_of(w), &wt);
    assert_eq!(gw, array![[3.0, 3.0], [7.0, 7.0]]);
    assert_eq!(p::TensorRules::sum_vjp(&p::shape_of(w), &1.0), g);
    let mut adj = p::zero_like(w);
    p::acc_index(&mut adj, &[0, 1], 1.0);
    p::acc(&mut adj, p::TensorRules::mean_vjp(&p::shape_of(w), &4.0));
    assert_eq!(adj, array![[1.0, 2.0], [1.0, 1.0]]);
}
