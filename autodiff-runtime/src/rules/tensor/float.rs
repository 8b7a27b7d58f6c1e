//! The float methods elementwise on arrays: every rule applies the scalar rule of the same name
//! to every element, so arrays follow the scalar conventions at kinks, jumps and domain edges
//! exactly. The rules are written from the primitive table (see `autodiff-macro`'s `rulegen`):
//! a rule over up to six arrays is one `Zip`, after [`check_operands`]; the helpers below serve
//! rules over more arrays and the cotangents of scalar arguments.

use ndarray::{Array, Dimension, Zip};

use crate::differentiable::Real;
use crate::rules::{FloatArgRules, FloatRules};

/// Panics unless the arrays of an elementwise rule have one shape.
#[inline]
#[track_caller]
fn check_operands<T, D: Dimension>(rule: &str, arrays: &[&Array<T, D>]) {
    let first = arrays[0].shape();
    for a in &arrays[1..] {
        assert!(
            a.shape() == first,
            "{rule}: elementwise operands of different shapes, {first:?} vs {:?}",
            a.shape()
        );
    }
}

/// Calls `f` with the elements at each position of arrays of one shape, in logical (row-major)
/// order, and hands each position's array of elements to `each`.
#[inline]
#[track_caller]
fn for_elems<T: Copy, D: Dimension, const N: usize>(
    rule: &str,
    arrays: [&Array<T, D>; N],
    mut each: impl FnMut([T; N]),
) {
    check_operands(rule, &arrays);
    // Arrays in standard layout are read in place; others are copied to it once.
    let views = arrays.map(|a| a.as_standard_layout());
    let n = arrays[0].len();
    let slices: [&[T]; N] = core::array::from_fn(|k| match views[k].as_slice() {
        Some(s) => &s[..n],
        None => unreachable!("{rule}: an array in standard layout is one slice"),
    });
    // One index into N slices of length n: the bounds checks fold away.
    #[allow(clippy::needless_range_loop)]
    for i in 0..n {
        each(core::array::from_fn(|k| slices[k][i]));
    }
}

/// `f` applied to the elements at each position of arrays of one shape: an array of that shape,
/// in standard layout. A shape mismatch panics with both shapes. For more arrays than `Zip`
/// takes (six), which the rules of one to six arrays use.
#[inline]
#[track_caller]
fn map_elems<T: Copy, D: Dimension, const N: usize>(
    rule: &str,
    arrays: [&Array<T, D>; N],
    f: impl Fn([T; N]) -> T,
) -> Array<T, D> {
    let shape = arrays[0].raw_dim();
    let mut out = Vec::with_capacity(shape.size());
    for_elems(rule, arrays, |e| out.push(f(e)));
    match Array::from_shape_vec(shape, out) {
        Ok(a) => a,
        Err(e) => unreachable!("{rule}: one value per element: {e}"),
    }
}

/// `Σ f` over the positions of arrays of one shape: the cotangent of an argument shared by every
/// element.
#[inline]
#[track_caller]
fn sum_elems<T: Real, D: Dimension, const N: usize>(
    rule: &str,
    arrays: [&Array<T, D>; N],
    f: impl Fn([T; N]) -> T,
) -> T {
    let mut acc = T::ZERO;
    for_elems(rule, arrays, |e| acc += f(e));
    acc
}

/// Every float method elementwise, each rule through the scalar rule of the same name (whose doc
/// comment gives the math). All arrays of one call have one shape (the operands, the output and
/// the cotangent); a mismatch panics with both shapes.
///
/// ndarray's own array methods (`a.exp()`, `a.powi(n)`, …) are the unary ones and `powi`; its
/// `powf`, `log`, `hypot` and `clamp` take *scalar* arguments, whose rules are in
/// [`FloatArgRules`]. The two-array forms here (`powf_vjp_0(x, p, ..)` with an array `p`, and
/// `atan2`, `max`, `min`, `mul_add`, `copysign`, `rem_euclid`, `sin_cos`, which ndarray does not
/// offer on arrays) serve elementwise code such as `Zip` closures written against `FloatRules`.
impl<T: FloatRules + Real, D: Dimension> FloatRules for Array<T, D> {
    autodiff_macro::__rules!(elementwise FloatRules over T);
}

/// ndarray's elementwise methods with scalar arguments: `a.powf(p)`, `a.log(b)`, `a.hypot(h)`,
/// `a.clamp(lo, hi)`. The receiver's rules are elementwise; an argument's cotangent is the sum
/// over the elements of the scalar rule's.
impl<T: FloatRules + Real, D: Dimension> FloatArgRules<T> for Array<T, D> {
    autodiff_macro::__rules!(elementwise FloatArgRules<T> over T);
}
