//! `concatenate` and `stack` (`rules::tensor::join`), for one to three pieces (the modules of
//! every arity are one macro): the value against ndarray's, the pullback against central
//! differences of `x ↦ ⟨y(x), w⟩` and the pieces' slices of `w`, the tangent against the
//! pullback (`⟨ẏ, w⟩ = ⟨ẋ, x̄⟩`), the rules of second order and of exact mode against the
//! first-order ones, and the shape errors.

use ndarray::{Array, Array1, Array2, Axis, Dimension, Ix1, Ix2, s};

use super::{ADJOINT, Lcg};
use crate::check::{assert_close, gradcheck};
use crate::differentiable::Differentiable;
use crate::rules::tensor::join::{join1, join2, join3};

/// The rules of one join of the pieces `x` (a tuple of owned copies, or one array): `f` the
/// join, `vjp` its value and the pullback of a cotangent, `jvp` its value and tangent,
/// `vjp_jvp` its value, tangent and the pullback of a cotangent and its tangent, `along` its
/// value, tangent and pullback in exact mode. Returns the gradient of `⟨y, w⟩` for a random `w`.
#[allow(clippy::type_complexity)] // the rules' shapes, spelled out
fn check_join<P, D>(
    rng: &mut Lcg,
    x: &P,
    f: impl Fn(&P) -> Array<f64, D>,
    vjp: impl Fn(&P, Array<f64, D>) -> (Array<f64, D>, P),
    jvp: impl Fn(&P, &P) -> (Array<f64, D>, Array<f64, D>),
    vjp_jvp: impl Fn(&P, &P, Array<f64, D>, Array<f64, D>) -> (Array<f64, D>, Array<f64, D>, (P, P)),
    along: impl Fn(&P, &P, Array<f64, D>) -> (Array<f64, D>, Array<f64, D>, P),
) -> (Array<f64, D>, P)
where
    P: Differentiable<Scalar = f64> + PartialEq + core::fmt::Debug,
    D: Dimension,
{
    let y = f(x);
    let w = rng.like(&y);
    let (value, grad) = vjp(x, w.clone());
    assert_eq!(value, y);
    gradcheck(|p: &P| f(p).inner(&w), x, &grad).assert_ok();
    let d = rng.like(x);
    let (value, dy) = jvp(x, &d);
    assert_eq!(value, y);
    assert_close(dy.inner(&w), d.inner(&grad), ADJOINT);
    // Linear: the second-order pullback slices the cotangent's tangent as the cotangent.
    let dw = rng.like(&y);
    let (value, dy2, (g, dg)) = vjp_jvp(x, &d, w.clone(), dw.clone());
    assert_eq!((value, &dy2, &g), (y.clone(), &dy, &grad));
    assert_eq!(dg, vjp(x, dw).1);
    let (value, dy3, g) = along(x, &d, w);
    assert_eq!((value, &dy3, &g), (y.clone(), &dy, &grad));
    (y, grad)
}

/// [`check_join`] of the join `$f` (`concatenate` or `stack`) of module `$m` along `$ax`, of
/// the pieces `$x.0`, `$x.1`, … (the indices `$k`).
macro_rules! check_rules {
    ($rng:expr, $x:expr, $ax:expr, $m:ident::concatenate, ($($k:tt),*)) => {
        check_rules!(@ $rng, $x, $ax, $m, concatenate concatenate_vjp concatenate_jvp
            concatenate_vjp_jvp concatenate_vjp_along, ($($k),*))
    };
    ($rng:expr, $x:expr, $ax:expr, $m:ident::stack, ($($k:tt),*)) => {
        check_rules!(@ $rng, $x, $ax, $m, stack stack_vjp stack_jvp stack_vjp_jvp stack_vjp_along,
            ($($k),*))
    };
    (@ $rng:expr, $x:expr, $ax:expr, $m:ident,
        $f:ident $vjp:ident $jvp:ident $vjp_jvp:ident $along:ident, ($($k:tt),*)) => {
        check_join(
            $rng,
            $x,
            |p| $m::$f($ax, $(p.$k.view()),*),
            |p, w| {
                let (y, pb) = $m::$vjp($ax, $(p.$k.view()),*);
                (y, pb(w))
            },
            |p, d| $m::$jvp($ax, $(p.$k.view(),)* $(&d.$k),*),
            |p, d, w, dw| {
                let (y, dy, pb) = $m::$vjp_jvp($ax, $(p.$k.view(),)* $(&d.$k),*);
                (y, dy, pb(w, dw))
            },
            |p, d, w| {
                let (y, dy, pb) = $m::$along($ax, $(p.$k.view(),)* $(&d.$k),*);
                (y, dy, pb(w))
            },
        )
    };
}

#[test]
fn concatenate_matrices_along_each_axis() {
    let mut rng = Lcg(11);
    for (axis, other) in [(0, Ix2(4, 3)), (1, Ix2(2, 1))] {
        let x = (rng.array(Ix2(2, 3), -1.0, 1.0), rng.array(other, -1.0, 1.0));
        let ax = Axis(axis);
        let (y, grad) = check_rules!(&mut rng, &x, ax, join2::concatenate, (0, 1));
        assert_eq!(
            y,
            ndarray::concatenate(ax, &[x.0.view(), x.1.view()]).unwrap()
        );
        // Each piece's gradient has its shape, in standard layout.
        assert_eq!(grad.0.shape(), x.0.shape());
        assert_eq!(grad.1.shape(), x.1.shape());
        assert!(grad.0.is_standard_layout() && grad.1.is_standard_layout());
    }
}

#[test]
fn concatenate_three_vectors_and_one() {
    let mut rng = Lcg(5);
    let x = (
        rng.array(Ix1(2), -1.0, 1.0),
        rng.array(Ix1(0), -1.0, 1.0),
        rng.array(Ix1(3), -1.0, 1.0),
    );
    let ax = Axis(0);
    let (y, pb) = join3::concatenate_vjp(ax, x.0.view(), x.1.view(), x.2.view());
    // The gradients of x₀, x₁ (empty) and x₂ are the slices 0..2, 2..2 and 2..5 of ȳ.
    let w = rng.like(&y);
    let g = pb(w.clone());
    assert_eq!(g.0, w.slice(s![..2]));
    assert_eq!(g.1.len(), 0);
    assert_eq!(g.2, w.slice(s![2..]));
    check_rules!(&mut rng, &x, ax, join3::concatenate, (0, 1, 2));
    // One piece: its gradient alone, the cotangent itself.
    let a = rng.array(Ix1(4), -1.0, 1.0);
    let (y, pb) = join1::concatenate_vjp(ax, a.view());
    assert_eq!(y, a);
    let g: Array1<f64> = pb(y.clone());
    assert_eq!(g, a);
}

#[test]
fn stack_vectors_along_each_axis() {
    let mut rng = Lcg(23);
    for axis in 0..2 {
        let x = (
            rng.array(Ix1(3), -1.0, 1.0),
            rng.array(Ix1(3), -1.0, 1.0),
            rng.array(Ix1(3), -1.0, 1.0),
        );
        let ax = Axis(axis);
        let (y, grad) = check_rules!(&mut rng, &x, ax, join3::stack, (0, 1, 2));
        assert_eq!(
            y,
            ndarray::stack(ax, &[x.0.view(), x.1.view(), x.2.view()]).unwrap()
        );
        assert!(grad.1.is_standard_layout());
    }
}

#[test]
fn stack_matrices_along_a_new_last_axis() {
    let mut rng = Lcg(31);
    let x = (
        rng.array(Ix2(2, 3), -1.0, 1.0),
        rng.array(Ix2(2, 3), -1.0, 1.0),
    );
    let ax = Axis(2);
    let (y, pb) = join2::stack_vjp(ax, x.0.view(), x.1.view());
    assert_eq!(y.shape(), &[2, 3, 2]);
    // x̄ₖ = ȳ[.., .., k].
    let w = rng.like(&y);
    let (g0, g1): (Array2<f64>, Array2<f64>) = pb(w.clone());
    assert_eq!(g0, w.slice(s![.., .., 0]));
    assert_eq!(g1, w.slice(s![.., .., 1]));
    check_rules!(&mut rng, &x, ax, join2::stack, (0, 1));
    // One piece: a new axis of length 1, and back.
    let (y, pb) = join1::stack_vjp(Axis(0), x.0.view());
    assert_eq!(y, x.0.clone().insert_axis(Axis(0)));
    let g: Array2<f64> = pb(y);
    assert_eq!(g, x.0);
}

#[test]
#[should_panic(expected = "concatenate: ")]
fn concatenate_of_mismatched_pieces_panics_as_unwrap() {
    let (a, b) = (Array2::<f64>::zeros((2, 3)), Array2::<f64>::zeros((2, 4)));
    join2::concatenate(Axis(0), a.view(), b.view());
}

#[test]
#[should_panic(expected = "stack: ")]
fn stack_of_mismatched_pieces_panics_as_unwrap() {
    let (a, b) = (Array1::<f64>::zeros(2), Array1::<f64>::zeros(3));
    join2::stack(Axis(0), a.view(), b.view());
}

#[test]
#[should_panic(expected = "concatenate_jvp: a tangent of shape [3]")]
fn a_tangent_not_shaped_like_its_piece_panics() {
    let (a, b) = (Array1::<f64>::zeros(2), Array1::<f64>::zeros(2));
    join2::concatenate_jvp(
        Axis(0),
        a.view(),
        b.view(),
        &Array1::zeros(3),
        &Array1::zeros(2),
    );
}
