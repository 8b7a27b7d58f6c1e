//! The derivative rules of elementwise maps: a scalar function applied to every element of one
//! or more arrays of one shape, as ndarray's `a.mapv(|v| ..)` and
//! `Zip::from(&a).and(&b).map_collect(|&x, &y| ..)` apply it.
//!
//! `#[differentiate]` lowers such a closure as a function of its own and calls these rules with
//! a closure that computes, for one element, what the rule needs of that function: its value and
//! partial derivatives ([`map_vjp`]), its value and tangent ([`map_jvp`]), or all of them with
//! the Hessian-vector product ([`map_vjp_jvp`]). They can be called by hand the same way.
//!
//! # Contract
//!
//! For `yᵢ = f(x¹ᵢ, …, xᴷᵢ, w)`, the `K` arrays `xᵏ` of one shape and captured scalars `w`:
//!
//! - **Arrays** are passed as views of one shape ([`elems`] makes them): elements are visited in
//!   logical (row-major) order, whatever the memory layout, and results are standard-layout
//!   arrays of that shape. Arrays of different shapes panic, naming both shapes.
//! - **Partial derivatives** are returned by the element closure as `[T; KA]` for the `KA`
//!   arrays that are differentiated and a tuple `P` ([`Partials`]) for the captured scalars that
//!   are: `(∂f/∂xᵏ)ₖ` and `(∂f/∂wⱼ)ⱼ` at that element.
//! - **Gradients**: `x̄ᵏ = ȳ ⊙ ∂f/∂xᵏ`, an owned array per differentiated array, and
//!   `w̄ⱼ = Σᵢ ȳᵢ·∂f/∂wⱼ(xᵢ)`, a scalar per differentiated capture. The cotangent `ȳ` must have the
//!   value's shape.
//! - **Pullbacks** are values ([`ElemPullback`], [`ElemPullbackJvp`]) that own the partial
//!   derivatives they keep, one entry per element, and borrow nothing: they outlive the arrays
//!   and the closure.
//!
//! # Example
//!
//! ```
//! use autodiff_runtime::elementwise::{elems, map_vjp};
//! use ndarray::array;
//!
//! // y = tanh(x), dy/dx = 1 − tanh² x, for each element.
//! let x = array![0.0, 1.0];
//! let (y, pullback) = map_vjp([elems(&x)], |[v]: [f64; 1]| {
//!     let t = v.tanh();
//!     (t, [1.0 - t * t], ())
//! });
//! assert_eq!(y, x.mapv(f64::tanh));
//! let ([dx], ()) = pullback.apply(array![1.0, 2.0]);
//! assert_eq!(dx, array![1.0, 2.0 * (1.0 - 1f64.tanh().powi(2))]);
//! ```

use ndarray::{Array, ArrayBase, ArrayView, Data, Dimension};

use crate::differentiable::Real;

/// An ndarray array whose elements a differentiated closure maps: what [`elems`] takes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an ndarray array: a closure over its elements cannot be \
               differentiated",
    label = "the elements of this value are mapped by a differentiated closure",
    note = "`#[differentiate]` differentiates `.mapv(..)`, `.map(..)` and \
            `Zip::from(..).and(..).map_collect(..)` closures over ndarray arrays; for a \
            fixed-size array `[T; N]`, write `xs.map(f)` as `std::array::from_fn(|i| f(xs[i]))` \
            (with the array's type on the `let`), and for a slice or a `Vec`, \
            `xs.iter().map(..).collect::<Vec<_>>()`"
)]
pub trait ElemArray {
    /// The element type.
    type Elem: Copy;
    /// The dimension.
    type Dim: Dimension;
    /// A view of the array.
    fn elem_view(&self) -> ArrayView<'_, Self::Elem, Self::Dim>;
}

impl<S, D> ElemArray for ArrayBase<S, D>
where
    S: Data,
    S::Elem: Copy,
    D: Dimension,
{
    type Elem = S::Elem;
    type Dim = D;
    #[inline]
    fn elem_view(&self) -> ArrayView<'_, S::Elem, D> {
        self.view()
    }
}

impl<A: ElemArray + ?Sized> ElemArray for &A {
    type Elem = A::Elem;
    type Dim = A::Dim;
    #[inline]
    fn elem_view(&self) -> ArrayView<'_, A::Elem, A::Dim> {
        (**self).elem_view()
    }
}

/// A view of an array, as the rules of this module take it.
#[inline]
pub fn elems<A: ElemArray + ?Sized>(a: &A) -> ArrayView<'_, A::Elem, A::Dim> {
    a.elem_view()
}

/// The partial derivatives of an element with respect to the captured scalars: a tuple of
/// floats (`()` when none is differentiated), summed over the elements by the pullbacks.
pub trait Partials: Copy {
    /// All zero.
    fn zero() -> Self;
    /// `self += g·p`, `g` converted to each entry's type.
    fn add_scaled<G: Real>(&mut self, g: G, p: Self);
}

impl Partials for () {
    #[inline(always)]
    fn zero() -> Self {}
    #[inline(always)]
    fn add_scaled<G: Real>(&mut self, _g: G, _p: Self) {}
}

/// One entry of [`Partials`]: a float, or `()` for a captured value that holds no derivative
/// (a field of data read through a differentiated struct, `l.act` of an activation enum
/// marked `#[differentiable(data)]`, whose "gradient" a call gives as `()`).
pub trait PartialEntry: Copy {
    /// Zero.
    fn zero_entry() -> Self;
    /// `self += g·p`.
    fn add_scaled_entry<G: Real>(&mut self, g: G, p: Self);
}

impl<C: Real> PartialEntry for C {
    #[inline(always)]
    fn zero_entry() -> Self {
        C::ZERO
    }
    #[inline(always)]
    fn add_scaled_entry<G: Real>(&mut self, g: G, p: Self) {
        *self += convert::<G, C>(g) * p;
    }
}

impl PartialEntry for () {
    #[inline(always)]
    fn zero_entry() -> Self {}
    #[inline(always)]
    fn add_scaled_entry<G: Real>(&mut self, _g: G, _p: Self) {}
}

macro_rules! impl_partials {
    ($($C:ident $i:tt),+) => {
        impl<$($C: PartialEntry),+> Partials for ($($C,)+) {
            #[inline(always)]
            fn zero() -> Self {
                ($($C::zero_entry(),)+)
            }
            #[inline(always)]
            fn add_scaled<Gs: Real>(&mut self, g: Gs, p: Self) {
                $( self.$i.add_scaled_entry(g, p.$i); )+
            }
        }
    };
}
impl_partials!(A 0);
impl_partials!(A 0, B 1);
impl_partials!(A 0, B 1, C 2);
impl_partials!(A 0, B 1, C 2, E 3);
impl_partials!(A 0, B 1, C 2, E 3, F 4);
impl_partials!(A 0, B 1, C 2, E 3, F 4, G 5);
impl_partials!(A 0, B 1, C 2, E 3, F 4, G 5, H 6);
impl_partials!(A 0, B 1, C 2, E 3, F 4, G 5, H 6, I 7);

/// `x` as another float type (the identity for one type).
#[inline(always)]
fn convert<A: Real, B: Real>(x: A) -> B {
    B::of_f64(x.as_f64())
}

/// The elements of `K` arrays of one shape, `K` at a time, in logical order: straight from
/// their buffers where all are in standard layout.
enum Cursor<'a, T, D, const K: usize> {
    Slices([&'a [T]; K], usize),
    Iters([ndarray::iter::Iter<'a, T, D>; K]),
}

impl<'a, T: Copy, D: Dimension, const K: usize> Cursor<'a, T, D, K> {
    fn new(xs: &'a [ArrayView<'a, T, D>; K]) -> Self {
        let slices = xs.each_ref().map(|x| x.as_slice());
        if slices.iter().all(Option::is_some) {
            Cursor::Slices(slices.map(|s| s.unwrap_or_default()), 0)
        } else {
            Cursor::Iters(xs.each_ref().map(|x| x.iter()))
        }
    }

    /// The next elements; called once per element of the arrays.
    #[inline(always)]
    fn next(&mut self) -> [T; K] {
        match self {
            Cursor::Slices(s, i) => {
                let at = *i;
                *i += 1;
                core::array::from_fn(|k| s[k][at])
            }
            Cursor::Iters(its) => its.each_mut().map(|it| match it.next() {
                Some(&x) => x,
                None => unreachable!("arrays of one shape have as many elements"),
            }),
        }
    }
}

/// The elements of an array of data (`bool`s, integers) zipped with the differentiated arrays of
/// a map (`Zip::from(&h).and(&mask)`), handed out one at a time in logical order, as the maps
/// visit the other arrays' elements: the element closure reads the next one on each call.
pub struct DataElems<T> {
    elems: Vec<T>,
    at: core::cell::Cell<usize>,
}

impl<T: Copy> DataElems<T> {
    /// The elements of `x`, which must have the shape `like` of the map's other arrays.
    ///
    /// # Panics
    ///
    /// If the shapes differ.
    #[track_caller]
    pub fn new<D: Dimension>(x: ArrayView<'_, T, D>, like: &[usize]) -> Self {
        assert!(
            x.shape() == like,
            "a map over arrays: the arrays have shapes {like:?} and {:?}; the elements of arrays \
             of one shape are mapped together",
            x.shape()
        );
        DataElems {
            elems: x.iter().copied().collect(),
            at: core::cell::Cell::new(0),
        }
    }

    /// The next element; called once per element of the map.
    #[inline(always)]
    pub fn next(&self) -> T {
        let at = self.at.get();
        self.at.set(at + 1);
        self.elems[at]
    }
}

/// Panics unless every array has the shape of the first.
#[track_caller]
fn check_shapes<T, D: Dimension, const K: usize>(what: &str, xs: &[ArrayView<'_, T, D>; K]) {
    for x in &xs[1..] {
        assert!(
            x.shape() == xs[0].shape(),
            "{what}: the arrays have shapes {:?} and {:?}; the elements of arrays of one shape \
             are mapped together",
            xs[0].shape(),
            x.shape()
        );
    }
}

/// Panics unless every tangent has the arrays' shape.
#[track_caller]
fn check_tangents<T, D: Dimension, const K: usize, const KT: usize>(
    what: &str,
    xs: &[ArrayView<'_, T, D>; K],
    dxs: &[ArrayView<'_, T, D>; KT],
) {
    for d in dxs {
        assert!(
            d.shape() == xs[0].shape(),
            "{what}: a tangent has shape {:?}, but the arrays have shape {:?}",
            d.shape(),
            xs[0].shape()
        );
    }
}

/// An array of the arrays' shape from its elements in logical order.
fn shaped<T, U, D: Dimension>(like: &ArrayView<'_, T, D>, v: Vec<U>) -> Array<U, D> {
    match Array::from_shape_vec(like.raw_dim(), v) {
        Ok(a) => a,
        Err(_) => unreachable!("one value per element"),
    }
}

/// `f` applied to the elements of the arrays (`yᵢ = f(x¹ᵢ, …, xᴷᵢ)`): the value of a map
/// that is not differentiated.
///
/// # Panics
///
/// If the arrays have different shapes.
#[track_caller]
pub fn map_plain<T, U, D, F, const K: usize>(xs: [ArrayView<'_, T, D>; K], f: F) -> Array<U, D>
where
    T: Copy,
    D: Dimension,
    F: Fn([T; K]) -> U,
{
    check_shapes("map_plain", &xs);
    let n = xs[0].len();
    let mut c = Cursor::new(&xs);
    let y: Vec<U> = (0..n).map(|_| f(c.next())).collect();
    shaped(&xs[0], y)
}

/// The value of a map and its pullback. `f` returns, for one element, the value `y`, the
/// partial derivatives with respect to the `KA` differentiated arrays and those with respect to
/// the differentiated captured scalars (a [`Partials`] tuple); the pullback keeps them.
///
/// # Panics
///
/// If the arrays have different shapes.
#[track_caller]
pub fn map_vjp<T, U, D, P, F, const K: usize, const KA: usize>(
    xs: [ArrayView<'_, T, D>; K],
    f: F,
) -> (Array<U, D>, ElemPullback<T, U, D, P, KA>)
where
    T: Real,
    U: Real,
    D: Dimension,
    P: Partials,
    F: Fn([T; K]) -> (U, [T; KA], P),
{
    check_shapes("map_vjp", &xs);
    let n = xs[0].len();
    let mut y = Vec::with_capacity(n);
    let mut parts = Vec::with_capacity(n);
    let mut c = Cursor::new(&xs);
    for _ in 0..n {
        let (v, a, p) = f(c.next());
        y.push(v);
        parts.push((a, p));
    }
    let pullback = ElemPullback {
        dim: xs[0].raw_dim(),
        parts,
        value: core::marker::PhantomData,
    };
    (shaped(&xs[0], y), pullback)
}

/// The pullback of [`map_vjp`]: the partial derivatives of every element.
pub struct ElemPullback<T, U, D, P, const KA: usize> {
    dim: D,
    parts: Vec<([T; KA], P)>,
    value: core::marker::PhantomData<U>,
}

impl<T: Real, U: Real, D: Dimension, P: Partials, const KA: usize> ElemPullback<T, U, D, P, KA> {
    /// The gradients for the cotangent `g`: `ḡ ⊙ ∂f/∂xᵏ` for each differentiated array, and
    /// `Σᵢ gᵢ·∂f/∂wⱼ` for each differentiated captured scalar.
    ///
    /// # Panics
    ///
    /// If `g` does not have the value's shape.
    #[track_caller]
    pub fn apply(self, g: Array<U, D>) -> ([Array<T, D>; KA], P) {
        check_cotangent("map_vjp", g.shape(), self.dim.slice());
        let n = self.parts.len();
        let mut out: [Vec<T>; KA] = core::array::from_fn(|_| Vec::with_capacity(n));
        let mut sums = P::zero();
        let mut each = |gi: U, (a, p): &([T; KA], P)| {
            let gt: T = convert(gi);
            for (o, &d) in out.iter_mut().zip(a) {
                o.push(gt * d);
            }
            sums.add_scaled(gi, *p);
        };
        match g.as_slice() {
            Some(gs) => gs.iter().zip(&self.parts).for_each(|(&gi, p)| each(gi, p)),
            None => g.iter().zip(&self.parts).for_each(|(&gi, p)| each(gi, p)),
        }
        let dim = self.dim;
        (
            out.map(|v| match Array::from_shape_vec(dim.clone(), v) {
                Ok(a) => a,
                Err(_) => unreachable!("one gradient per element"),
            }),
            sums,
        )
    }
}

/// The value of a map and its tangent `ẏᵢ = Σₖ ∂f/∂xᵏ·ẋᵏᵢ + Σⱼ ∂f/∂wⱼ·ẇⱼ`: `f` returns, for
/// one element and the tangents of the `KT` arrays that have one, the value and its tangent
/// (the captured tangents `ẇ` are its own).
///
/// # Panics
///
/// If the arrays or the tangents have different shapes.
#[track_caller]
pub fn map_jvp<T, U, D, F, const K: usize, const KT: usize>(
    xs: [ArrayView<'_, T, D>; K],
    dxs: [ArrayView<'_, T, D>; KT],
    f: F,
) -> (Array<U, D>, Array<U, D>)
where
    T: Copy,
    D: Dimension,
    F: Fn([T; K], [T; KT]) -> (U, U),
{
    check_shapes("map_jvp", &xs);
    check_tangents("map_jvp", &xs, &dxs);
    let n = xs[0].len();
    let (mut y, mut dy) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut c, mut dc) = (Cursor::new(&xs), Cursor::new(&dxs));
    for _ in 0..n {
        let (v, d) = f(c.next(), dc.next());
        y.push(v);
        dy.push(d);
    }
    (shaped(&xs[0], y), shaped(&xs[0], dy))
}

/// What [`map_vjp_jvp`]'s element closure returns: the value, its tangent, the partial
/// derivatives (arrays, captures) and the Hessian-vector product in the same layout.
pub type ElemSecondOrder<T, U, P, const KA: usize> = (U, U, [T; KA], P, [T; KA], P);

/// What [`map_vjp_jvp`] returns: the mapped array, its tangent and the pullback.
pub type MapJvp<T, U, D, P, const KA: usize> =
    (Array<U, D>, Array<U, D>, ElemPullbackJvp<T, U, D, P, KA>);

/// Forward over reverse: the value of a map, its tangent, and a pullback that also gives the
/// tangent of the gradient. `f` returns, for one element and the tangents of the `KT` arrays
/// that have one, the value `y`, its tangent `ẏ`, the gradient of the element function and its
/// Hessian-vector product `H·v` along the direction `v = (ẋ, ẇ)` (the captured tangents are its
/// own), each split into arrays and captures as for [`map_vjp`].
///
/// # Panics
///
/// If the arrays or the tangents have different shapes.
#[track_caller]
pub fn map_vjp_jvp<T, U, D, P, F, const K: usize, const KT: usize, const KA: usize>(
    xs: [ArrayView<'_, T, D>; K],
    dxs: [ArrayView<'_, T, D>; KT],
    f: F,
) -> MapJvp<T, U, D, P, KA>
where
    T: Real,
    U: Real,
    D: Dimension,
    P: Partials,
    F: Fn([T; K], [T; KT]) -> ElemSecondOrder<T, U, P, KA>,
{
    check_shapes("map_vjp_jvp", &xs);
    check_tangents("map_vjp_jvp", &xs, &dxs);
    let n = xs[0].len();
    let (mut y, mut dy) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut parts = Vec::with_capacity(n);
    let (mut c, mut dc) = (Cursor::new(&xs), Cursor::new(&dxs));
    for _ in 0..n {
        let (v, d, ga, gc, ha, hc) = f(c.next(), dc.next());
        y.push(v);
        dy.push(d);
        parts.push((ga, gc, ha, hc));
    }
    let pullback = ElemPullbackJvp {
        dim: xs[0].raw_dim(),
        parts,
        value: core::marker::PhantomData,
    };
    (shaped(&xs[0], y), shaped(&xs[0], dy), pullback)
}

/// The pullback of [`map_vjp_jvp`]: per element, the gradient of the element function and its
/// Hessian-vector product.
#[allow(clippy::type_complexity)] // the four parts of an element, spelled out
pub struct ElemPullbackJvp<T, U, D, P, const KA: usize> {
    dim: D,
    parts: Vec<([T; KA], P, [T; KA], P)>,
    value: core::marker::PhantomData<U>,
}

/// Gradients of a map: one array per differentiated array, the sums of the captures.
pub type ElemGrads<T, D, P, const KA: usize> = ([Array<T, D>; KA], P);

impl<T: Real, U: Real, D: Dimension, P: Partials, const KA: usize> ElemPullbackJvp<T, U, D, P, KA> {
    /// The gradients for the cotangent `g` (as [`ElemPullback::apply`]) and their tangents for
    /// its tangent `ġ`: `x̄̇ = ġ ⊙ ∂f/∂x + g ⊙ (H·v)ₓ` and `w̄̇ = Σᵢ ġᵢ·∂f/∂w + gᵢ·(H·v)_w`.
    ///
    /// # Panics
    ///
    /// If `g` or `ġ` does not have the value's shape.
    #[track_caller]
    pub fn apply(
        self,
        g: Array<U, D>,
        g_dot: Array<U, D>,
    ) -> (ElemGrads<T, D, P, KA>, ElemGrads<T, D, P, KA>) {
        check_cotangent("map_vjp_jvp", g.shape(), self.dim.slice());
        check_cotangent("map_vjp_jvp", g_dot.shape(), self.dim.slice());
        let n = self.parts.len();
        let mut out: [Vec<T>; KA] = core::array::from_fn(|_| Vec::with_capacity(n));
        let mut dout: [Vec<T>; KA] = core::array::from_fn(|_| Vec::with_capacity(n));
        let (mut sums, mut dsums) = (P::zero(), P::zero());
        for ((&gi, &dgi), (ga, gc, ha, hc)) in g.iter().zip(g_dot.iter()).zip(&self.parts) {
            let (gt, dgt): (T, T) = (convert(gi), convert(dgi));
            for k in 0..KA {
                out[k].push(gt * ga[k]);
                dout[k].push(dgt * ga[k] + gt * ha[k]);
            }
            sums.add_scaled(gi, *gc);
            dsums.add_scaled(dgi, *gc);
            dsums.add_scaled(gi, *hc);
        }
        let dim = self.dim;
        let shape = |v: Vec<T>| match Array::from_shape_vec(dim.clone(), v) {
            Ok(a) => a,
            Err(_) => unreachable!("one gradient per element"),
        };
        ((out.map(shape), sums), (dout.map(shape), dsums))
    }
}

#[track_caller]
fn check_cotangent(what: &str, cotangent: &[usize], value: &[usize]) {
    crate::nn::checks::check_cotangent(what, cotangent, value);
}

/// The partial derivative of an element with respect to a captured value, which must be a
/// float: what the generated code passes each such derivative through, for its message.
#[inline(always)]
pub fn captured_partial<C: CapturedScalar>(c: C) -> C {
    c
}

/// A captured value whose partial derivatives a map sums: a float.
#[diagnostic::on_unimplemented(
    message = "a differentiated value captured by a closure over array elements must be a \
               float (`f32` or `f64`), found `{Self}`",
    label = "the closure reads a differentiated value of this type",
    note = "compute the value outside the closure as a float (`let s = b.sum();`), or write \
            the computation with array operations (`&a * &b`, `&a * w`)"
)]
pub trait CapturedScalar {}
impl CapturedScalar for f32 {}
impl CapturedScalar for f64 {}
/// A captured field of data (an enum marked `#[differentiable(data)]`, read through a
/// differentiated struct): no partial derivative, and `()` as its gradient.
impl CapturedScalar for () {}

/// The result of a differentiated closure over array elements: a float.
#[diagnostic::on_unimplemented(
    message = "a closure over array elements must return a float (`f32` or `f64`) to be \
               differentiated, found `{Self}`",
    label = "this closure's result",
    note = "map each result separately (`a.mapv(|v| v.sin())`, `a.mapv(|v| v.cos())`)"
)]
pub trait ElemResult: Sized {
    /// `1`.
    const ELEM_ONE: Self;
    /// `0`.
    const ELEM_ZERO: Self;
}
impl ElemResult for f32 {
    const ELEM_ONE: Self = 1.0;
    const ELEM_ZERO: Self = 0.0;
}
impl ElemResult for f64 {
    const ELEM_ONE: Self = 1.0;
    const ELEM_ZERO: Self = 0.0;
}

/// The seed `1` of an element's gradient, typed by the element's value.
#[inline(always)]
pub fn elem_one<Y: ElemResult>(_y: &Y) -> Y {
    Y::ELEM_ONE
}

/// The tangent `0` of that seed.
#[inline(always)]
pub fn elem_zero<Y: ElemResult>(_y: &Y) -> Y {
    Y::ELEM_ZERO
}

/// A value a closure over array elements captures, read inside the closure: by copy where its
/// type is `Copy` ([`CapturedCopy`]), by reference otherwise ([`CapturedRef`]). The generated
/// code calls `(&Captured(&value)).get()`, which picks the first that applies.
pub struct Captured<'a, T: ?Sized>(pub &'a T);

/// [`Captured`] of a `Copy` value: a copy.
pub trait CapturedCopy<T> {
    /// The value.
    fn get(&self) -> T;
}

impl<T: Copy> CapturedCopy<T> for Captured<'_, T> {
    #[inline(always)]
    fn get(&self) -> T {
        *self.0
    }
}

/// [`Captured`] of any other value: the reference.
pub trait CapturedRef<'a, T: ?Sized> {
    /// The reference.
    fn get(&self) -> &'a T;
}

impl<'a, T: ?Sized> CapturedRef<'a, T> for &Captured<'a, T> {
    #[inline(always)]
    fn get(&self) -> &'a T {
        self.0
    }
}

#[cfg(test)]
mod tests;
