//! Rules of the ndarray primitives: elementwise arithmetic with NumPy broadcasting, negation, the
//! elementwise float methods, `dot`, `.t()`, and the reductions `sum`, `mean`, `sum_axis`,
//! `mean_axis`.
//!
//! The rules follow the [contract of the rules module](super): arguments by reference in the
//! order inputs, primal output, cotangent; an operand the rule only needs the shape of is passed
//! as a [`ShapeOf`] (whose `dims` is the array's `raw_dim()`).
//!
//! - **Gradients are owned** `Array`s of the operand's shape, also for views (the gradient of an
//!   `ArrayView<f64, Ix2>` is an `Array2<f64>`), in standard (row-major) layout unless a rule
//!   says otherwise.
//! - **Broadcasting**: `a op b` broadcasts both operands to a common shape by NumPy's rules
//!   (leading axes added, length-1 axes stretched), so the cotangent of each operand is the
//!   output cotangent summed over the axes broadcasting added or stretched. Every such reduction
//!   to an array goes through the one helper [`unbroadcast`]; a scalar operand (broadcast to every
//!   element) gets the plain sum.
//! - **Cost**: each rule allocates its result and nothing else, except where a broadcast operand
//!   needs the elementwise product materialized before [`unbroadcast`] reduces it. Elementwise
//!   work runs through [`Zip`], matrix products through ndarray's `dot` (matrixmultiply): the
//!   backward pass of a matmul is two matmuls, and transposes are strided views (`.t()`).
//! - **Elementwise float methods** apply the scalar rule of the same name to every element, so
//!   arrays follow exactly the scalar conventions at kinks, jumps and domain edges.
//!
//! ```
//! use autodiff_runtime::rules::{ArithRules, DotRules, ShapeOf, TensorRules};
//! use ndarray::{Array1, Array2, array};
//!
//! // y = (x·W + b).sum(), with the bias b broadcast over the rows of x·W.
//! let x: Array2<f64> = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
//! let w: Array2<f64> = array![[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]];
//! let b: Array1<f64> = array![0.1, 0.2, 0.3];
//! let xw = x.dot(&w);
//! let z = ArithRules::add(&xw, &b);
//! // Backward: ȳ = 1.
//! let z_bar = TensorRules::sum_vjp(&ShapeOf::of(&z), &1.0);
//! let b_bar = ArithRules::add_vjp_1(&ShapeOf::of(&xw), &ShapeOf::of(&b), &z_bar);
//! assert_eq!(b_bar, array![3.0, 3.0, 3.0]); // summed over the 3 rows
//! let xw_bar = ArithRules::add_vjp_0(&ShapeOf::of(&xw), &ShapeOf::of(&b), &z_bar);
//! let w_bar = DotRules::dot_vjp_1(&x, &ShapeOf::of(&w), &xw_bar); // xᵀ·ḡ
//! assert_eq!(w_bar, array![[9.0, 9.0, 9.0], [12.0, 12.0, 12.0]]);
//! ```

use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{
    Array, Array1, Array2, ArrayBase, ArrayView, ArrayViewMut, Axis, CowArray, Data, DimMax,
    Dimension, Ix1, Ix2, IxDyn, LinalgScalar, NdIndex, RemoveAxis, Zip,
};

use super::scalar::{ArithRules, FloatRules, HasShape, NegRule, ShapeOf};
use crate::differentiable::{IndexAdjoint, Primal, Real, ZerosOfShape};

// ---- shapes, views and element reads ---------------------------------------------------------

/// The shape of an array is its dimension (`raw_dim()`), for any storage.
impl<S: Data, D: Dimension> HasShape for ArrayBase<S, D> {
    type Dims = D;
    #[inline]
    fn dims(&self) -> D {
        self.raw_dim()
    }
}

/// Borrowed and copy-on-write arrays have the gradient of the owned array of the same shape.
/// (Owned `Array<T, D>` is its own gradient type; see [`crate::differentiable`].)
macro_rules! primal_as_owned_array {
    ($($t:ty),*) => {$(
        impl<'a, T: Real, D: Dimension> Primal for $t {
            type Tangent = Array<T, D>;
            #[inline]
            fn zero_tangent(&self) -> Array<T, D> {
                Array::from_elem(self.raw_dim(), T::ZERO)
            }
        }
    )*};
}
primal_as_owned_array!(
    ArrayView<'a, T, D>,
    ArrayViewMut<'a, T, D>,
    CowArray<'a, T, D>
);

/// Backward rule of an element read `y = x[i]` for any index ndarray accepts (`[i, j]`, `(i, j)`,
/// `i` for 1-D, `IxDyn`, …): `x̄[i] += ȳ`.
impl<T: Real, D: Dimension, I: NdIndex<D>> IndexAdjoint<I> for Array<T, D> {
    type Elem = T;
    #[inline]
    #[track_caller]
    fn add_at(&mut self, i: I, g: T) {
        self[i] += g;
    }
    /// Returns `x̄[i]` and sets it to zero.
    #[inline]
    #[track_caller]
    fn take_at(&mut self, i: I) -> T {
        core::mem::replace(&mut self[i], T::ZERO)
    }
}

/// A zero gradient from an array's shape alone: an owned array of zeros.
impl<T: Real, S: Data<Elem = T>, D: Dimension> ZerosOfShape for ArrayBase<S, D> {
    type Tangent = Array<T, D>;
    #[inline]
    fn zeros(dims: &D) -> Array<T, D> {
        Array::from_elem(dims.clone(), T::ZERO)
    }
}

// ---- broadcasting ----------------------------------------------------------------------------

/// Reduces a cotangent `g` of a broadcast result to the shape `to` of an operand that was
/// broadcast to `g`'s shape: sums over the leading axes broadcasting added and over the axes
/// where `to` has length 1 and `g` does not (keeping them, with length 1).
///
/// This is the transpose of broadcasting: if `b = broadcast(a, shape)` then
/// `⟨broadcast(a), g⟩ = ⟨a, unbroadcast(g, a.shape)⟩`. When the shapes are equal it is a copy.
///
/// ```
/// use autodiff_runtime::rules::tensor::unbroadcast;
/// use ndarray::{Ix1, Ix2, array};
///
/// let g = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// assert_eq!(unbroadcast(&g, &Ix1(3)), array![5.0, 7.0, 9.0]); // leading axis added
/// assert_eq!(unbroadcast(&g, &Ix2(2, 1)), array![[6.0], [15.0]]); // length-1 axis stretched
/// ```
///
/// # Panics
///
/// If `to` cannot be broadcast to `g`'s shape.
#[track_caller]
pub fn unbroadcast<T, S, E, D>(g: &ArrayBase<S, E>, to: &D) -> Array<T, D>
where
    T: Real + LinalgScalar,
    S: Data<Elem = T>,
    E: Dimension,
    D: Dimension,
{
    let from = g.shape();
    let target = to.slice();
    let compatible = target.len() <= from.len()
        && target
            .iter()
            .zip(&from[from.len() - target.len()..])
            .all(|(&t, &f)| t == f || t == 1);
    assert!(
        compatible,
        "unbroadcast: a cotangent of shape {from:?} cannot be reduced to shape {target:?}"
    );
    if from == target {
        return into_dim(g.to_owned());
    }
    let lead = from.len() - target.len();
    let mut acc: Option<Array<T, IxDyn>> = None;
    if lead > 0 {
        // Sum the added leading axes, in one pass when they can be merged into one axis.
        let view = g.view().into_dyn();
        let merged_len: usize = from[..lead].iter().product();
        let mut merged_shape = Vec::with_capacity(target.len() + 1);
        merged_shape.push(merged_len);
        merged_shape.extend_from_slice(&from[lead..]);
        acc = Some(
            match view.view().into_shape_with_order(IxDyn(&merged_shape)) {
                Ok(merged) => merged.sum_axis(Axis(0)),
                Err(_) => {
                    let mut r = view.sum_axis(Axis(0));
                    for _ in 1..lead {
                        r = r.sum_axis(Axis(0));
                    }
                    r
                }
            },
        );
    }
    for (i, &t) in target.iter().enumerate() {
        if t == 1 && from[lead + i] != 1 {
            let next = match &acc {
                Some(a) => a.sum_axis(Axis(i)),
                None => g.view().into_dyn().sum_axis(Axis(i)),
            };
            acc = Some(next.insert_axis(Axis(i)));
        }
    }
    match acc {
        Some(a) => into_dim(a),
        // Equal shapes returned early; any difference is a reduction.
        None => unreachable!("unbroadcast: shapes {from:?} and {target:?} differ"),
    }
}

/// [`unbroadcast`] of an owned temporary: moved, not copied, when it already has the shape.
#[inline]
#[track_caller]
fn unbroadcast_owned<T, E, D>(g: Array<T, E>, to: &D) -> Array<T, D>
where
    T: Real + LinalgScalar,
    E: Dimension,
    D: Dimension,
{
    if g.shape() == to.slice() {
        into_dim(g)
    } else {
        unbroadcast(&g, to)
    }
}

/// Converts the dimension type of an array whose number of axes is right (no copy).
#[inline]
#[track_caller]
fn into_dim<T, E: Dimension, D: Dimension>(a: Array<T, E>) -> Array<T, D> {
    match a.into_dimensionality::<D>() {
        Ok(a) => a,
        Err(e) => panic!("autodiff: array of the wrong dimensionality: {e}"),
    }
}

/// `x` broadcast to the shape `to` (a view, no copy).
#[inline]
#[track_caller]
fn bcast<'a, T, S, D, E>(x: &'a ArrayBase<S, D>, to: &E) -> ArrayView<'a, T, E>
where
    S: Data<Elem = T>,
    D: Dimension,
    E: Dimension,
{
    match x.broadcast(to.clone()) {
        Some(v) => v,
        None => panic!(
            "autodiff: an operand of shape {:?} does not broadcast to the result shape {:?}",
            x.shape(),
            to.slice()
        ),
    }
}

/// Panics unless the arrays of one elementwise rule have one shape.
#[inline]
#[track_caller]
fn same_shape<D: Dimension>(rule: &str, shapes: &[&D]) {
    let first = shapes[0];
    for s in &shapes[1..] {
        assert!(
            s.slice() == first.slice(),
            "{rule}: elementwise operands of different shapes, {:?} vs {:?}",
            first.slice(),
            s.slice()
        );
    }
}

// ---- arithmetic ------------------------------------------------------------------------------

/// `ArithRules` for `Array op Array` (co-broadcast), `Array op scalar` and `scalar op Array`, one
/// concrete scalar type at a time (generic impls would overlap the scalar impls).
macro_rules! tensor_arith {
    ($($t:ident)*) => {$(
        /// Elementwise `a op b` between arrays, broadcast to their common shape `y` by NumPy's
        /// rules; each cotangent is reduced to its operand's shape by [`unbroadcast`].
        impl<D1, D2> ArithRules<Array<$t, D2>> for Array<$t, D1>
        where
            D1: Dimension + DimMax<D2>,
            D2: Dimension,
        {
            type Output = Array<$t, <D1 as DimMax<D2>>::Output>;

            /// `a + b` (ndarray's `&a + &b`).
            #[inline]
            fn add(a: &Self, b: &Array<$t, D2>) -> Self::Output {
                a + b
            }
            /// `a − b`.
            #[inline]
            fn sub(a: &Self, b: &Array<$t, D2>) -> Self::Output {
                a - b
            }
            /// `a ⊙ b`.
            #[inline]
            fn mul(a: &Self, b: &Array<$t, D2>) -> Self::Output {
                a * b
            }
            /// `a ⊘ b`.
            #[inline]
            fn div(a: &Self, b: &Array<$t, D2>) -> Self::Output {
                a / b
            }

            /// `∂(a + b)/∂a = 1`: `ā = unbroadcast(g, shape a)`.
            #[inline]
            fn add_vjp_0(a: &ShapeOf<Self>, _b: &ShapeOf<Array<$t, D2>>, g: &Self::Output) -> Self {
                unbroadcast(g, &a.dims)
            }
            /// `∂(a + b)/∂b = 1`: `b̄ = unbroadcast(g, shape b)`.
            #[inline]
            fn add_vjp_1(
                _a: &ShapeOf<Self>,
                b: &ShapeOf<Array<$t, D2>>,
                g: &Self::Output,
            ) -> Array<$t, D2> {
                unbroadcast(g, &b.dims)
            }
            /// Tangent of `a + b`: `da + db` (broadcast).
            #[inline]
            fn add_jvp(
                _a: &Self,
                _b: &Array<$t, D2>,
                _y: &Self::Output,
                da: &Self,
                db: &Array<$t, D2>,
            ) -> Self::Output {
                da + db
            }

            /// `∂(a − b)/∂a = 1`: `ā = unbroadcast(g, shape a)`.
            #[inline]
            fn sub_vjp_0(a: &ShapeOf<Self>, _b: &ShapeOf<Array<$t, D2>>, g: &Self::Output) -> Self {
                unbroadcast(g, &a.dims)
            }
            /// `∂(a − b)/∂b = −1`: `b̄ = −unbroadcast(g, shape b)`.
            #[inline]
            fn sub_vjp_1(
                _a: &ShapeOf<Self>,
                b: &ShapeOf<Array<$t, D2>>,
                g: &Self::Output,
            ) -> Array<$t, D2> {
                -unbroadcast(g, &b.dims)
            }
            /// Tangent of `a − b`: `da − db` (broadcast).
            #[inline]
            fn sub_jvp(
                _a: &Self,
                _b: &Array<$t, D2>,
                _y: &Self::Output,
                da: &Self,
                db: &Array<$t, D2>,
            ) -> Self::Output {
                da - db
            }

            /// `∂(a ⊙ b)/∂a = b`: `ā = unbroadcast(g ⊙ b, shape a)`.
            #[inline]
            fn mul_vjp_0(a: &ShapeOf<Self>, b: &Array<$t, D2>, g: &Self::Output) -> Self {
                let gb = Zip::from(g)
                    .and(bcast(b, &g.raw_dim()))
                    .map_collect(|&g, &b| g * b);
                unbroadcast_owned(gb, &a.dims)
            }
            /// `∂(a ⊙ b)/∂b = a`: `b̄ = unbroadcast(g ⊙ a, shape b)`.
            #[inline]
            fn mul_vjp_1(a: &Self, b: &ShapeOf<Array<$t, D2>>, g: &Self::Output) -> Array<$t, D2> {
                let ga = Zip::from(g)
                    .and(bcast(a, &g.raw_dim()))
                    .map_collect(|&g, &a| g * a);
                unbroadcast_owned(ga, &b.dims)
            }
            /// Tangent of `a ⊙ b`: `da ⊙ b + a ⊙ db` (broadcast).
            #[inline]
            fn mul_jvp(
                a: &Self,
                b: &Array<$t, D2>,
                y: &Self::Output,
                da: &Self,
                db: &Array<$t, D2>,
            ) -> Self::Output {
                let shape = y.raw_dim();
                Zip::from(bcast(da, &shape))
                    .and(bcast(b, &shape))
                    .and(bcast(a, &shape))
                    .and(bcast(db, &shape))
                    .map_collect(|&da, &b, &a, &db| da * b + a * db)
            }

            /// `∂(a ⊘ b)/∂a = 1/b`: `ā = unbroadcast(g ⊘ b, shape a)`.
            #[inline]
            fn div_vjp_0(a: &ShapeOf<Self>, b: &Array<$t, D2>, g: &Self::Output) -> Self {
                let gb = Zip::from(g)
                    .and(bcast(b, &g.raw_dim()))
                    .map_collect(|&g, &b| g / b);
                unbroadcast_owned(gb, &a.dims)
            }
            /// `∂(a ⊘ b)/∂b = −a/b² = −y/b`: `b̄ = unbroadcast(−g ⊙ y ⊘ b, shape b)`.
            #[inline]
            fn div_vjp_1(
                _a: &ShapeOf<Self>,
                b: &Array<$t, D2>,
                y: &Self::Output,
                g: &Self::Output,
            ) -> Array<$t, D2> {
                same_shape("div_vjp_1", &[&y.raw_dim(), &g.raw_dim()]);
                let gyb = Zip::from(g)
                    .and(y)
                    .and(bcast(b, &g.raw_dim()))
                    .map_collect(|&g, &y, &b| -g * y / b);
                unbroadcast_owned(gyb, &b.raw_dim())
            }
            /// Tangent of `a ⊘ b`: `(da − y ⊙ db) ⊘ b` (broadcast).
            #[inline]
            fn div_jvp(
                _a: &Self,
                b: &Array<$t, D2>,
                y: &Self::Output,
                da: &Self,
                db: &Array<$t, D2>,
            ) -> Self::Output {
                let shape = y.raw_dim();
                Zip::from(bcast(da, &shape))
                    .and(y)
                    .and(bcast(db, &shape))
                    .and(bcast(b, &shape))
                    .map_collect(|&da, &y, &db, &b| (da - y * db) / b)
            }
        }

        /// Elementwise `a op s` with a scalar `s` broadcast to every element of `a`; the scalar's
        /// cotangent is the sum over all elements.
        impl<D: Dimension> ArithRules<$t> for Array<$t, D> {
            type Output = Array<$t, D>;

            /// `a + s`.
            #[inline]
            fn add(a: &Self, s: &$t) -> Self {
                a.mapv(|a| a + *s)
            }
            /// `a − s`.
            #[inline]
            fn sub(a: &Self, s: &$t) -> Self {
                a.mapv(|a| a - *s)
            }
            /// `a·s`.
            #[inline]
            fn mul(a: &Self, s: &$t) -> Self {
                a.mapv(|a| a * *s)
            }
            /// `a/s`.
            #[inline]
            fn div(a: &Self, s: &$t) -> Self {
                a.mapv(|a| a / *s)
            }

            /// `∂(a + s)/∂a = 1`: `ā = g`.
            #[inline]
            fn add_vjp_0(_a: &ShapeOf<Self>, _s: &ShapeOf<$t>, g: &Self) -> Self {
                g.to_owned()
            }
            /// `∂(a + s)/∂s = 1` at every element: `s̄ = Σ g`.
            #[inline]
            fn add_vjp_1(_a: &ShapeOf<Self>, _s: &ShapeOf<$t>, g: &Self) -> $t {
                g.sum()
            }
            /// Tangent of `a + s`: `da + ds`.
            #[inline]
            fn add_jvp(_a: &Self, _s: &$t, _y: &Self, da: &Self, ds: &$t) -> Self {
                da.mapv(|da| da + *ds)
            }

            /// `∂(a − s)/∂a = 1`: `ā = g`.
            #[inline]
            fn sub_vjp_0(_a: &ShapeOf<Self>, _s: &ShapeOf<$t>, g: &Self) -> Self {
                g.to_owned()
            }
            /// `∂(a − s)/∂s = −1` at every element: `s̄ = −Σ g`.
            #[inline]
            fn sub_vjp_1(_a: &ShapeOf<Self>, _s: &ShapeOf<$t>, g: &Self) -> $t {
                -g.sum()
            }
            /// Tangent of `a − s`: `da − ds`.
            #[inline]
            fn sub_jvp(_a: &Self, _s: &$t, _y: &Self, da: &Self, ds: &$t) -> Self {
                da.mapv(|da| da - *ds)
            }

            /// `∂(a·s)/∂a = s`: `ā = g·s`.
            #[inline]
            fn mul_vjp_0(_a: &ShapeOf<Self>, s: &$t, g: &Self) -> Self {
                g.mapv(|g| g * *s)
            }
            /// `∂(a·s)/∂s = a`: `s̄ = Σ g ⊙ a`.
            #[inline]
            fn mul_vjp_1(a: &Self, _s: &ShapeOf<$t>, g: &Self) -> $t {
                same_shape("mul_vjp_1", &[&g.raw_dim(), &a.raw_dim()]);
                Zip::from(g).and(a).fold(0.0, |acc, &g, &a| acc + g * a)
            }
            /// Tangent of `a·s`: `da·s + a·ds`.
            #[inline]
            fn mul_jvp(a: &Self, s: &$t, _y: &Self, da: &Self, ds: &$t) -> Self {
                same_shape("mul_jvp", &[&a.raw_dim(), &da.raw_dim()]);
                Zip::from(da).and(a).map_collect(|&da, &a| da * *s + a * *ds)
            }

            /// `∂(a/s)/∂a = 1/s`: `ā = g/s`.
            #[inline]
            fn div_vjp_0(_a: &ShapeOf<Self>, s: &$t, g: &Self) -> Self {
                g.mapv(|g| g / *s)
            }
            /// `∂(a/s)/∂s = −a/s² = −y/s`: `s̄ = Σ −g ⊙ y / s`.
            #[inline]
            fn div_vjp_1(_a: &ShapeOf<Self>, s: &$t, y: &Self, g: &Self) -> $t {
                same_shape("div_vjp_1", &[&g.raw_dim(), &y.raw_dim()]);
                Zip::from(g).and(y).fold(0.0, |acc, &g, &y| acc + -g * y / *s)
            }
            /// Tangent of `a/s`: `(da − y·ds)/s`.
            #[inline]
            fn div_jvp(_a: &Self, s: &$t, y: &Self, da: &Self, ds: &$t) -> Self {
                same_shape("div_jvp", &[&y.raw_dim(), &da.raw_dim()]);
                Zip::from(da).and(y).map_collect(|&da, &y| (da - y * *ds) / *s)
            }
        }

        /// Elementwise `s op b` with a scalar `s` broadcast to every element of `b`; the scalar's
        /// cotangent is the sum over all elements.
        impl<D: Dimension> ArithRules<Array<$t, D>> for $t {
            type Output = Array<$t, D>;

            /// `s + b`.
            #[inline]
            fn add(s: &$t, b: &Array<$t, D>) -> Array<$t, D> {
                b.mapv(|b| *s + b)
            }
            /// `s − b`.
            #[inline]
            fn sub(s: &$t, b: &Array<$t, D>) -> Array<$t, D> {
                b.mapv(|b| *s - b)
            }
            /// `s·b`.
            #[inline]
            fn mul(s: &$t, b: &Array<$t, D>) -> Array<$t, D> {
                b.mapv(|b| *s * b)
            }
            /// `s/b`.
            #[inline]
            fn div(s: &$t, b: &Array<$t, D>) -> Array<$t, D> {
                b.mapv(|b| *s / b)
            }

            /// `∂(s + b)/∂s = 1` at every element: `s̄ = Σ g`.
            #[inline]
            fn add_vjp_0(_s: &ShapeOf<$t>, _b: &ShapeOf<Array<$t, D>>, g: &Array<$t, D>) -> $t {
                g.sum()
            }
            /// `∂(s + b)/∂b = 1`: `b̄ = g`.
            #[inline]
            fn add_vjp_1(
                _s: &ShapeOf<$t>,
                _b: &ShapeOf<Array<$t, D>>,
                g: &Array<$t, D>,
            ) -> Array<$t, D> {
                g.to_owned()
            }
            /// Tangent of `s + b`: `ds + db`.
            #[inline]
            fn add_jvp(
                _s: &$t,
                _b: &Array<$t, D>,
                _y: &Array<$t, D>,
                ds: &$t,
                db: &Array<$t, D>,
            ) -> Array<$t, D> {
                db.mapv(|db| *ds + db)
            }

            /// `∂(s − b)/∂s = 1` at every element: `s̄ = Σ g`.
            #[inline]
            fn sub_vjp_0(_s: &ShapeOf<$t>, _b: &ShapeOf<Array<$t, D>>, g: &Array<$t, D>) -> $t {
                g.sum()
            }
            /// `∂(s − b)/∂b = −1`: `b̄ = −g`.
            #[inline]
            fn sub_vjp_1(
                _s: &ShapeOf<$t>,
                _b: &ShapeOf<Array<$t, D>>,
                g: &Array<$t, D>,
            ) -> Array<$t, D> {
                g.mapv(|g| -g)
            }
            /// Tangent of `s − b`: `ds − db`.
            #[inline]
            fn sub_jvp(
                _s: &$t,
                _b: &Array<$t, D>,
                _y: &Array<$t, D>,
                ds: &$t,
                db: &Array<$t, D>,
            ) -> Array<$t, D> {
                db.mapv(|db| *ds - db)
            }

            /// `∂(s·b)/∂s = b`: `s̄ = Σ g ⊙ b`.
            #[inline]
            fn mul_vjp_0(_s: &ShapeOf<$t>, b: &Array<$t, D>, g: &Array<$t, D>) -> $t {
                same_shape("mul_vjp_0", &[&g.raw_dim(), &b.raw_dim()]);
                Zip::from(g).and(b).fold(0.0, |acc, &g, &b| acc + g * b)
            }
            /// `∂(s·b)/∂b = s`: `b̄ = g·s`.
            #[inline]
            fn mul_vjp_1(s: &$t, _b: &ShapeOf<Array<$t, D>>, g: &Array<$t, D>) -> Array<$t, D> {
                g.mapv(|g| g * *s)
            }
            /// Tangent of `s·b`: `ds·b + s·db`.
            #[inline]
            fn mul_jvp(
                s: &$t,
                b: &Array<$t, D>,
                _y: &Array<$t, D>,
                ds: &$t,
                db: &Array<$t, D>,
            ) -> Array<$t, D> {
                same_shape("mul_jvp", &[&b.raw_dim(), &db.raw_dim()]);
                Zip::from(b).and(db).map_collect(|&b, &db| *ds * b + *s * db)
            }

            /// `∂(s/b)/∂s = 1/b`: `s̄ = Σ g ⊘ b`.
            #[inline]
            fn div_vjp_0(_s: &ShapeOf<$t>, b: &Array<$t, D>, g: &Array<$t, D>) -> $t {
                same_shape("div_vjp_0", &[&g.raw_dim(), &b.raw_dim()]);
                Zip::from(g).and(b).fold(0.0, |acc, &g, &b| acc + g / b)
            }
            /// `∂(s/b)/∂b = −s/b² = −y/b`: `b̄ = −g ⊙ y ⊘ b`.
            #[inline]
            fn div_vjp_1(
                _s: &ShapeOf<$t>,
                b: &Array<$t, D>,
                y: &Array<$t, D>,
                g: &Array<$t, D>,
            ) -> Array<$t, D> {
                same_shape("div_vjp_1", &[&g.raw_dim(), &y.raw_dim(), &b.raw_dim()]);
                Zip::from(g).and(y).and(b).map_collect(|&g, &y, &b| -g * y / b)
            }
            /// Tangent of `s/b`: `(ds − y ⊙ db) ⊘ b`.
            #[inline]
            fn div_jvp(
                _s: &$t,
                b: &Array<$t, D>,
                y: &Array<$t, D>,
                ds: &$t,
                db: &Array<$t, D>,
            ) -> Array<$t, D> {
                same_shape("div_jvp", &[&y.raw_dim(), &db.raw_dim(), &b.raw_dim()]);
                Zip::from(y).and(db).and(b).map_collect(|&y, &db, &b| (*ds - y * db) / b)
            }
        }
    )*};
}

tensor_arith!(f32 f64);

/// Elementwise negation.
impl<T: Real, D: Dimension> NegRule for Array<T, D> {
    /// `−x`.
    #[inline]
    fn neg(x: &Self) -> Self {
        x.mapv(|x| -x)
    }
    /// `d(−x)/dx = −1`: `x̄ = −g`.
    #[inline]
    fn neg_vjp(g: &Self) -> Self {
        g.mapv(|g| -g)
    }
    /// Tangent of `−x`: `−dx`.
    #[inline]
    fn neg_jvp(_x: &Self, _y: &Self, dx: &Self) -> Self {
        dx.mapv(|dx| -dx)
    }
}

// ---- elementwise float methods ---------------------------------------------------------------

/// The operands of one elementwise rule, which must have one shape.
type Operands<'a, T, D, const N: usize> = [&'a Array<T, D>; N];

/// Panics unless the operands of an elementwise rule have one shape.
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

/// `f` applied elementwise to arrays of one shape.
#[inline]
#[track_caller]
fn map3<T: Copy, D: Dimension>(
    rule: &str,
    arrays: Operands<'_, T, D, 3>,
    f: impl Fn(&T, &T, &T) -> T,
) -> Array<T, D> {
    check_operands(rule, &arrays);
    let [x, y, g] = arrays;
    Zip::from(x).and(y).and(g).map_collect(f)
}

/// `f` applied elementwise to arrays of one shape.
#[inline]
#[track_caller]
fn map4<T: Copy, D: Dimension>(
    rule: &str,
    arrays: Operands<'_, T, D, 4>,
    f: impl Fn(&T, &T, &T, &T) -> T,
) -> Array<T, D> {
    check_operands(rule, &arrays);
    let [x, a, y, g] = arrays;
    Zip::from(x).and(a).and(y).and(g).map_collect(f)
}

/// `f` applied elementwise to arrays of one shape.
#[inline]
#[track_caller]
fn map5<T: Copy, D: Dimension>(
    rule: &str,
    arrays: Operands<'_, T, D, 5>,
    f: impl Fn(&T, &T, &T, &T, &T) -> T,
) -> Array<T, D> {
    check_operands(rule, &arrays);
    let [x, a, b, y, g] = arrays;
    Zip::from(x).and(a).and(b).and(y).and(g).map_collect(f)
}

/// The callback of [`map7`].
type Fn7<T> = fn(&T, &T, &T, &T, &T, &T, &T) -> T;

/// `f` applied elementwise to seven arrays of one shape (more than [`Zip`] takes), in logical
/// (row-major) order; the result has standard layout.
#[track_caller]
fn map7<T: Copy, D: Dimension>(
    rule: &str,
    arrays: Operands<'_, T, D, 7>,
    f: Fn7<T>,
) -> Array<T, D> {
    check_operands(rule, &arrays);
    let [x, a, b, y, dx, da, db] = arrays;
    let values: Vec<T> = x
        .iter()
        .zip(a)
        .zip(b)
        .zip(y)
        .zip(dx)
        .zip(da)
        .zip(db)
        .map(|((((((x, a), b), y), dx), da), db)| f(x, a, b, y, dx, da, db))
        .collect();
    match Array::from_shape_vec(x.raw_dim(), values) {
        Ok(out) => out,
        Err(e) => unreachable!("{rule}: one value per element: {e}"),
    }
}

/// Implements unary elementwise rule pairs by the scalar rules of the same names.
macro_rules! elementwise_unary {
    ($($vjp:ident, $jvp:ident;)*) => {$(
        #[inline]
        fn $vjp(x: &Self, y: &Self, g: &Self) -> Self {
            map3(stringify!($vjp), [x, y, g], T::$vjp)
        }
        #[inline]
        fn $jvp(x: &Self, y: &Self, dx: &Self) -> Self {
            map3(stringify!($jvp), [x, y, dx], T::$jvp)
        }
    )*};
}

/// Implements the rules of a two-input elementwise method by the scalar rules of the same names.
macro_rules! elementwise_binary {
    ($($vjp0:ident, $vjp1:ident, $jvp:ident;)*) => {$(
        #[inline]
        fn $vjp0(x: &Self, a: &Self, y: &Self, g: &Self) -> Self {
            map4(stringify!($vjp0), [x, a, y, g], T::$vjp0)
        }
        #[inline]
        fn $vjp1(x: &Self, a: &Self, y: &Self, g: &Self) -> Self {
            map4(stringify!($vjp1), [x, a, y, g], T::$vjp1)
        }
        #[inline]
        fn $jvp(x: &Self, a: &Self, y: &Self, dx: &Self, da: &Self) -> Self {
            map5(stringify!($jvp), [x, a, y, dx, da], T::$jvp)
        }
    )*};
}

/// Implements the rules of a three-input elementwise method by the scalar rules of the same
/// names.
macro_rules! elementwise_ternary {
    ($($vjp0:ident, $vjp1:ident, $vjp2:ident, $jvp:ident;)*) => {$(
        #[inline]
        fn $vjp0(x: &Self, a: &Self, b: &Self, y: &Self, g: &Self) -> Self {
            map5(stringify!($vjp0), [x, a, b, y, g], T::$vjp0)
        }
        #[inline]
        fn $vjp1(x: &Self, a: &Self, b: &Self, y: &Self, g: &Self) -> Self {
            map5(stringify!($vjp1), [x, a, b, y, g], T::$vjp1)
        }
        #[inline]
        fn $vjp2(x: &Self, a: &Self, b: &Self, y: &Self, g: &Self) -> Self {
            map5(stringify!($vjp2), [x, a, b, y, g], T::$vjp2)
        }
        #[inline]
        fn $jvp(
            x: &Self,
            a: &Self,
            b: &Self,
            y: &Self,
            dx: &Self,
            da: &Self,
            db: &Self,
        ) -> Self {
            map7(stringify!($jvp), [x, a, b, y, dx, da, db], T::$jvp)
        }
    )*};
}

/// Every float method elementwise: each rule applies the scalar rule of the same name (whose doc
/// comment gives the math, e.g. `d/dx tanh x = 1 − y²`) to every element, so the conventions at
/// kinks, jumps and domain edges are the scalar ones. All arrays of one call have one shape
/// (the operands, the output and the cotangent); a mismatch panics with both shapes.
///
/// ndarray's own array methods (`a.exp()`, `a.powi(n)`, …) are the unary ones and `powi`; its
/// `powf`, `log`, `hypot` and `clamp` take *scalar* arguments, whose rules are in
/// [`FloatArgRules`]. The two-array forms here (`powf_vjp_0(x, p, ..)` with an array `p`, and
/// `atan2`, `max`, `min`, `mul_add`, which ndarray does not offer on arrays) serve elementwise
/// code such as `Zip` closures written against `FloatRules`.
impl<T: FloatRules + Real, D: Dimension> FloatRules for Array<T, D> {
    elementwise_unary! {
        exp_vjp, exp_jvp;
        exp2_vjp, exp2_jvp;
        exp_m1_vjp, exp_m1_jvp;
        ln_vjp, ln_jvp;
        log2_vjp, log2_jvp;
        log10_vjp, log10_jvp;
        ln_1p_vjp, ln_1p_jvp;
        sqrt_vjp, sqrt_jvp;
        cbrt_vjp, cbrt_jvp;
        recip_vjp, recip_jvp;
        sin_vjp, sin_jvp;
        cos_vjp, cos_jvp;
        tan_vjp, tan_jvp;
        asin_vjp, asin_jvp;
        acos_vjp, acos_jvp;
        atan_vjp, atan_jvp;
        sinh_vjp, sinh_jvp;
        cosh_vjp, cosh_jvp;
        tanh_vjp, tanh_jvp;
        asinh_vjp, asinh_jvp;
        acosh_vjp, acosh_jvp;
        atanh_vjp, atanh_jvp;
        abs_vjp, abs_jvp;
        signum_vjp, signum_jvp;
        floor_vjp, floor_jvp;
        ceil_vjp, ceil_jvp;
        round_vjp, round_jvp;
        trunc_vjp, trunc_jvp;
        fract_vjp, fract_jvp;
        to_degrees_vjp, to_degrees_jvp;
        to_radians_vjp, to_radians_jvp;
    }

    /// `d/dx xⁿ = n·xⁿ⁻¹` elementwise (`0` for `n = 0`).
    #[inline]
    fn powi_vjp(x: &Self, n: &i32, y: &Self, g: &Self) -> Self {
        map3("powi_vjp", [x, y, g], |x, y, g| T::powi_vjp(x, n, y, g))
    }
    /// Tangent of `xⁿ`: `n·xⁿ⁻¹·dx` elementwise.
    #[inline]
    fn powi_jvp(x: &Self, n: &i32, y: &Self, dx: &Self) -> Self {
        map3("powi_jvp", [x, y, dx], |x, y, dx| T::powi_jvp(x, n, y, dx))
    }

    elementwise_binary! {
        log_vjp_0, log_vjp_1, log_jvp;
        powf_vjp_0, powf_vjp_1, powf_jvp;
        atan2_vjp_0, atan2_vjp_1, atan2_jvp;
        hypot_vjp_0, hypot_vjp_1, hypot_jvp;
        max_vjp_0, max_vjp_1, max_jvp;
        min_vjp_0, min_vjp_1, min_jvp;
    }

    elementwise_ternary! {
        mul_add_vjp_0, mul_add_vjp_1, mul_add_vjp_2, mul_add_jvp;
        clamp_vjp_0, clamp_vjp_1, clamp_vjp_2, clamp_jvp;
    }
}

/// Rules of the float methods with float arguments whose type `A` may differ from the receiver's:
/// ndarray's elementwise `a.powf(p)`, `a.log(b)`, `a.hypot(h)` and `a.clamp(lo, hi)` take
/// *scalar* arguments (`A` = the element type), while `f32`/`f64` take their own type
/// (`A = Self`, where these rules are [`FloatRules`]'s).
///
/// The receiver's rules (`_vjp_0`, `_jvp`) are elementwise; an argument's cotangent is the sum,
/// over every element, of the scalar rule's cotangent (the argument is broadcast to every
/// element). Argument order and math are [`FloatRules`]'s; each rule here applies the scalar rule
/// of the same name. Unlike the unary rules, every argument is read with its own type, so a
/// caller cannot pass the cotangent in place of an argument a rule does not read.
pub trait FloatArgRules<A>: Sized {
    /// `x.powf(p) = xᵖ`; `∂/∂x = p·xᵖ⁻¹` (`0` for `p = 0`).
    fn powf_vjp_0(x: &Self, p: &A, y: &Self, g: &Self) -> Self;
    /// `x.powf(p)`; `∂/∂p = y·ln x` (`0` where `y == 0`), summed over the elements.
    fn powf_vjp_1(x: &Self, p: &A, y: &Self, g: &Self) -> A;
    /// Tangent of `x.powf(p)`: `p·xᵖ⁻¹·dx + y·ln x·dp`.
    fn powf_jvp(x: &Self, p: &A, y: &Self, dx: &Self, dp: &A) -> Self;

    /// `x.log(b) = ln x / ln b`; `∂/∂x = 1/(x·ln b)`.
    fn log_vjp_0(x: &Self, b: &A, y: &Self, g: &Self) -> Self;
    /// `x.log(b)`; `∂/∂b = −y/(b·ln b)`, summed over the elements.
    fn log_vjp_1(x: &Self, b: &A, y: &Self, g: &Self) -> A;
    /// Tangent of `x.log(b)`: `dx/(x·ln b) − db·y/(b·ln b)`.
    fn log_jvp(x: &Self, b: &A, y: &Self, dx: &Self, db: &A) -> Self;

    /// `x.hypot(a) = √(x² + a²) = y`; `∂/∂x = x/y` (`0` at the origin).
    fn hypot_vjp_0(x: &Self, a: &A, y: &Self, g: &Self) -> Self;
    /// `x.hypot(a)`; `∂/∂a = a/y` (`0` at the origin), summed over the elements.
    fn hypot_vjp_1(x: &Self, a: &A, y: &Self, g: &Self) -> A;
    /// Tangent of `x.hypot(a)`: `(x·dx + a·da)/y`.
    fn hypot_jvp(x: &Self, a: &A, y: &Self, dx: &Self, da: &A) -> Self;

    /// `x.clamp(lo, hi)`; `∂/∂x = 1` strictly inside, a share of `g` at a bound (the arguments
    /// equal to the output share it equally).
    fn clamp_vjp_0(x: &Self, lo: &A, hi: &A, y: &Self, g: &Self) -> Self;
    /// `x.clamp(lo, hi)`; `∂/∂lo = 1` where `x < lo`, a share at a tie, summed over the elements.
    fn clamp_vjp_1(x: &Self, lo: &A, hi: &A, y: &Self, g: &Self) -> A;
    /// `x.clamp(lo, hi)`; `∂/∂hi = 1` where `x > hi`, a share at a tie, summed over the elements.
    fn clamp_vjp_2(x: &Self, lo: &A, hi: &A, y: &Self, g: &Self) -> A;
    /// Tangent of `x.clamp(lo, hi)`: the mean of the tangents of the arguments equal to the
    /// output.
    fn clamp_jvp(x: &Self, lo: &A, hi: &A, y: &Self, dx: &Self, dlo: &A, dhi: &A) -> Self;
}

/// Scalars: [`FloatRules`]' rules, unchanged.
macro_rules! scalar_arg_rules {
    ($($t:ident)*) => {$(
        impl FloatArgRules<$t> for $t {
            #[inline(always)]
            fn powf_vjp_0(x: &$t, p: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::powf_vjp_0(x, p, y, g)
            }
            #[inline(always)]
            fn powf_vjp_1(x: &$t, p: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::powf_vjp_1(x, p, y, g)
            }
            #[inline(always)]
            fn powf_jvp(x: &$t, p: &$t, y: &$t, dx: &$t, dp: &$t) -> $t {
                <$t as FloatRules>::powf_jvp(x, p, y, dx, dp)
            }
            #[inline(always)]
            fn log_vjp_0(x: &$t, b: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::log_vjp_0(x, b, y, g)
            }
            #[inline(always)]
            fn log_vjp_1(x: &$t, b: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::log_vjp_1(x, b, y, g)
            }
            #[inline(always)]
            fn log_jvp(x: &$t, b: &$t, y: &$t, dx: &$t, db: &$t) -> $t {
                <$t as FloatRules>::log_jvp(x, b, y, dx, db)
            }
            #[inline(always)]
            fn hypot_vjp_0(x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::hypot_vjp_0(x, a, y, g)
            }
            #[inline(always)]
            fn hypot_vjp_1(x: &$t, a: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::hypot_vjp_1(x, a, y, g)
            }
            #[inline(always)]
            fn hypot_jvp(x: &$t, a: &$t, y: &$t, dx: &$t, da: &$t) -> $t {
                <$t as FloatRules>::hypot_jvp(x, a, y, dx, da)
            }
            #[inline(always)]
            fn clamp_vjp_0(x: &$t, lo: &$t, hi: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::clamp_vjp_0(x, lo, hi, y, g)
            }
            #[inline(always)]
            fn clamp_vjp_1(x: &$t, lo: &$t, hi: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::clamp_vjp_1(x, lo, hi, y, g)
            }
            #[inline(always)]
            fn clamp_vjp_2(x: &$t, lo: &$t, hi: &$t, y: &$t, g: &$t) -> $t {
                <$t as FloatRules>::clamp_vjp_2(x, lo, hi, y, g)
            }
            #[inline(always)]
            fn clamp_jvp(
                x: &$t,
                lo: &$t,
                hi: &$t,
                y: &$t,
                dx: &$t,
                dlo: &$t,
                dhi: &$t,
            ) -> $t {
                <$t as FloatRules>::clamp_jvp(x, lo, hi, y, dx, dlo, dhi)
            }
        }
    )*};
}
scalar_arg_rules!(f32 f64);

/// `Σ f(x, y, g)` over the elements of arrays of one shape.
#[inline]
#[track_caller]
fn sum3<T: Real, D: Dimension>(
    rule: &str,
    arrays: Operands<'_, T, D, 3>,
    f: impl Fn(&T, &T, &T) -> T,
) -> T {
    check_operands(rule, &arrays);
    let [x, y, g] = arrays;
    Zip::from(x)
        .and(y)
        .and(g)
        .fold(T::ZERO, |acc, x, y, g| acc + f(x, y, g))
}

/// ndarray's elementwise methods with scalar arguments: `a.powf(p)`, `a.log(b)`, `a.hypot(h)`,
/// `a.clamp(lo, hi)`.
impl<T: FloatRules + Real, D: Dimension> FloatArgRules<T> for Array<T, D> {
    #[inline]
    fn powf_vjp_0(x: &Self, p: &T, y: &Self, g: &Self) -> Self {
        map3("powf_vjp_0", [x, y, g], |x, y, g| T::powf_vjp_0(x, p, y, g))
    }
    #[inline]
    fn powf_vjp_1(x: &Self, p: &T, y: &Self, g: &Self) -> T {
        sum3("powf_vjp_1", [x, y, g], |x, y, g| T::powf_vjp_1(x, p, y, g))
    }
    #[inline]
    fn powf_jvp(x: &Self, p: &T, y: &Self, dx: &Self, dp: &T) -> Self {
        map3("powf_jvp", [x, y, dx], |x, y, dx| {
            T::powf_jvp(x, p, y, dx, dp)
        })
    }

    #[inline]
    fn log_vjp_0(x: &Self, b: &T, y: &Self, g: &Self) -> Self {
        map3("log_vjp_0", [x, y, g], |x, y, g| T::log_vjp_0(x, b, y, g))
    }
    #[inline]
    fn log_vjp_1(x: &Self, b: &T, y: &Self, g: &Self) -> T {
        sum3("log_vjp_1", [x, y, g], |x, y, g| T::log_vjp_1(x, b, y, g))
    }
    #[inline]
    fn log_jvp(x: &Self, b: &T, y: &Self, dx: &Self, db: &T) -> Self {
        map3("log_jvp", [x, y, dx], |x, y, dx| {
            T::log_jvp(x, b, y, dx, db)
        })
    }

    #[inline]
    fn hypot_vjp_0(x: &Self, a: &T, y: &Self, g: &Self) -> Self {
        map3("hypot_vjp_0", [x, y, g], |x, y, g| {
            T::hypot_vjp_0(x, a, y, g)
        })
    }
    #[inline]
    fn hypot_vjp_1(x: &Self, a: &T, y: &Self, g: &Self) -> T {
        sum3("hypot_vjp_1", [x, y, g], |x, y, g| {
            T::hypot_vjp_1(x, a, y, g)
        })
    }
    #[inline]
    fn hypot_jvp(x: &Self, a: &T, y: &Self, dx: &Self, da: &T) -> Self {
        map3("hypot_jvp", [x, y, dx], |x, y, dx| {
            T::hypot_jvp(x, a, y, dx, da)
        })
    }

    #[inline]
    fn clamp_vjp_0(x: &Self, lo: &T, hi: &T, y: &Self, g: &Self) -> Self {
        map3("clamp_vjp_0", [x, y, g], |x, y, g| {
            T::clamp_vjp_0(x, lo, hi, y, g)
        })
    }
    #[inline]
    fn clamp_vjp_1(x: &Self, lo: &T, hi: &T, y: &Self, g: &Self) -> T {
        sum3("clamp_vjp_1", [x, y, g], |x, y, g| {
            T::clamp_vjp_1(x, lo, hi, y, g)
        })
    }
    #[inline]
    fn clamp_vjp_2(x: &Self, lo: &T, hi: &T, y: &Self, g: &Self) -> T {
        sum3("clamp_vjp_2", [x, y, g], |x, y, g| {
            T::clamp_vjp_2(x, lo, hi, y, g)
        })
    }
    #[inline]
    fn clamp_jvp(x: &Self, lo: &T, hi: &T, y: &Self, dx: &Self, dlo: &T, dhi: &T) -> Self {
        map3("clamp_jvp", [x, y, dx], |x, y, dx| {
            T::clamp_jvp(x, lo, hi, y, dx, dlo, dhi)
        })
    }
}

// ---- matrix products -------------------------------------------------------------------------

/// Rules of ndarray's `a.dot(&b)`: matrix·matrix, matrix·vector, vector·vector (a scalar) and
/// vector·matrix, for operands of any storage (owned arrays, views such as `w.t()`). The
/// cotangents are owned arrays (`Grad0` of `a`, `Grad1` of `b`); every product is ndarray's
/// `dot` (matrixmultiply) on strided views, so the backward pass of a matmul is two matmuls.
pub trait DotRules<Rhs: HasShape>: HasShape + Sized {
    /// The type of `a.dot(&b)`.
    type Output;
    /// The cotangent (and tangent) type of `a`: the owned array of its shape.
    type Grad0;
    /// The cotangent (and tangent) type of `b`.
    type Grad1;

    /// `a·b`.
    fn dot(a: &Self, b: &Rhs) -> Self::Output;
    /// The cotangent of `a` (math per impl).
    fn dot_vjp_0(a: &ShapeOf<Self>, b: &Rhs, g: &Self::Output) -> Self::Grad0;
    /// The cotangent of `b` (math per impl).
    fn dot_vjp_1(a: &Self, b: &ShapeOf<Rhs>, g: &Self::Output) -> Self::Grad1;
    /// Tangent of `a·b`: `da·b + a·db`.
    fn dot_jvp(
        a: &Self,
        b: &Rhs,
        y: &Self::Output,
        da: &Self::Grad0,
        db: &Self::Grad1,
    ) -> Self::Output;
}

/// Matrix·matrix `Y = A·B` (`m×k · k×n`).
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix2>> for ArrayBase<S1, Ix2>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = Array2<T>;
    type Grad0 = Array2<T>;
    type Grad1 = Array2<T>;

    /// `A·B`.
    #[inline]
    fn dot(a: &Self, b: &ArrayBase<S2, Ix2>) -> Array2<T> {
        a.dot(b)
    }
    /// `Ā = G·Bᵀ` (`m×n · n×k`).
    #[inline]
    fn dot_vjp_0(_a: &ShapeOf<Self>, b: &ArrayBase<S2, Ix2>, g: &Array2<T>) -> Array2<T> {
        g.dot(&b.t())
    }
    /// `B̄ = Aᵀ·G` (`k×m · m×n`).
    #[inline]
    fn dot_vjp_1(a: &Self, _b: &ShapeOf<ArrayBase<S2, Ix2>>, g: &Array2<T>) -> Array2<T> {
        a.t().dot(g)
    }
    /// `dY = dA·B + A·dB`.
    #[inline]
    fn dot_jvp(
        a: &Self,
        b: &ArrayBase<S2, Ix2>,
        _y: &Array2<T>,
        da: &Array2<T>,
        db: &Array2<T>,
    ) -> Array2<T> {
        let mut dy = da.dot(b);
        general_mat_mul(T::ONE, a, db, T::ONE, &mut dy);
        dy
    }
}

/// Matrix·vector `y = A·x` (`m×k · k`).
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix1>> for ArrayBase<S1, Ix2>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = Array1<T>;
    type Grad0 = Array2<T>;
    type Grad1 = Array1<T>;

    /// `A·x`.
    #[inline]
    fn dot(a: &Self, x: &ArrayBase<S2, Ix1>) -> Array1<T> {
        a.dot(x)
    }
    /// `Ā = g ⊗ x = g·xᵀ` (`m×1 · 1×k`, an outer product).
    #[inline]
    fn dot_vjp_0(_a: &ShapeOf<Self>, x: &ArrayBase<S2, Ix1>, g: &Array1<T>) -> Array2<T> {
        outer(g, x)
    }
    /// `x̄ = Aᵀ·g`.
    #[inline]
    fn dot_vjp_1(a: &Self, _x: &ShapeOf<ArrayBase<S2, Ix1>>, g: &Array1<T>) -> Array1<T> {
        a.t().dot(g)
    }
    /// `dy = dA·x + A·dx`.
    #[inline]
    fn dot_jvp(
        a: &Self,
        x: &ArrayBase<S2, Ix1>,
        _y: &Array1<T>,
        da: &Array2<T>,
        dx: &Array1<T>,
    ) -> Array1<T> {
        let mut dy = da.dot(x);
        general_mat_vec_mul(T::ONE, a, dx, T::ONE, &mut dy);
        dy
    }
}

/// Vector·vector (inner product) `y = a·b = Σ aᵢbᵢ`, a scalar.
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix1>> for ArrayBase<S1, Ix1>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = T;
    type Grad0 = Array1<T>;
    type Grad1 = Array1<T>;

    /// `a·b`.
    #[inline]
    fn dot(a: &Self, b: &ArrayBase<S2, Ix1>) -> T {
        a.dot(b)
    }
    /// `ā = g·b`.
    #[inline]
    fn dot_vjp_0(_a: &ShapeOf<Self>, b: &ArrayBase<S2, Ix1>, g: &T) -> Array1<T> {
        b.mapv(|b| *g * b)
    }
    /// `b̄ = g·a`.
    #[inline]
    fn dot_vjp_1(a: &Self, _b: &ShapeOf<ArrayBase<S2, Ix1>>, g: &T) -> Array1<T> {
        a.mapv(|a| *g * a)
    }
    /// `dy = da·b + a·db`.
    #[inline]
    fn dot_jvp(a: &Self, b: &ArrayBase<S2, Ix1>, _y: &T, da: &Array1<T>, db: &Array1<T>) -> T {
        da.dot(b) + a.dot(db)
    }
}

/// Vector·matrix `y = xᵀ·B` (`k · k×n`).
impl<T, S1, S2> DotRules<ArrayBase<S2, Ix2>> for ArrayBase<S1, Ix1>
where
    T: Real + LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    type Output = Array1<T>;
    type Grad0 = Array1<T>;
    type Grad1 = Array2<T>;

    /// `xᵀ·B`.
    #[inline]
    fn dot(x: &Self, b: &ArrayBase<S2, Ix2>) -> Array1<T> {
        x.dot(b)
    }
    /// `x̄ = B·g`.
    #[inline]
    fn dot_vjp_0(_x: &ShapeOf<Self>, b: &ArrayBase<S2, Ix2>, g: &Array1<T>) -> Array1<T> {
        b.dot(g)
    }
    /// `B̄ = x ⊗ g = x·gᵀ` (`k×1 · 1×n`, an outer product).
    #[inline]
    fn dot_vjp_1(x: &Self, _b: &ShapeOf<ArrayBase<S2, Ix2>>, g: &Array1<T>) -> Array2<T> {
        outer(x, g)
    }
    /// `dy = dxᵀ·B + xᵀ·dB`.
    #[inline]
    fn dot_jvp(
        x: &Self,
        b: &ArrayBase<S2, Ix2>,
        _y: &Array1<T>,
        dx: &Array1<T>,
        db: &Array2<T>,
    ) -> Array1<T> {
        let mut dy = dx.dot(b);
        general_mat_vec_mul(T::ONE, &db.t(), x, T::ONE, &mut dy);
        dy
    }
}

/// The outer product `u ⊗ v = u·vᵀ`, as a rank-1 matrix product.
#[inline]
fn outer<T, S1, S2>(u: &ArrayBase<S1, Ix1>, v: &ArrayBase<S2, Ix1>) -> Array2<T>
where
    T: LinalgScalar,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
{
    let column = u.view().insert_axis(Axis(1));
    let row = v.view().insert_axis(Axis(0));
    column.dot(&row)
}

// ---- transpose and reductions ----------------------------------------------------------------

/// Rules of ndarray's `x.t()`, `x.sum()`, `x.mean()`, `x.sum_axis(axis)` and
/// `x.mean_axis(axis)` (the latter returns an `Option`; the rules are of its `Some` value), for
/// arrays of any storage (`Self = ArrayBase<S, D>`). Cotangents and tangents are owned arrays.
///
/// These primitives are linear, so their jvps need only the shape of `x` (the argument that fixes
/// `Self`) and the tangent: `(x, [axis,] dx)`.
pub trait TensorRules: HasShape {
    /// The element type.
    type Elem;
    /// The dimension type `D`.
    type Dim: Dimension;

    /// `y = xᵀ` (all axes reversed) ⇒ `x̄ = ḡᵀ` (the axes of `g` reversed back), standard layout.
    fn t_vjp(x: &ShapeOf<Self>, g: &Array<Self::Elem, Self::Dim>) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `xᵀ`: `dxᵀ`, standard layout.
    fn t_jvp(x: &ShapeOf<Self>, dx: &Array<Self::Elem, Self::Dim>) -> Array<Self::Elem, Self::Dim>;

    /// `y = Σᵢ xᵢ` ⇒ `∂y/∂xᵢ = 1`: `x̄ = g` at every element.
    fn sum_vjp(x: &ShapeOf<Self>, g: &Self::Elem) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `Σ x`: `Σ dx`.
    fn sum_jvp(x: &ShapeOf<Self>, dx: &Array<Self::Elem, Self::Dim>) -> Self::Elem;

    /// `y = (1/n) Σᵢ xᵢ` ⇒ `∂y/∂xᵢ = 1/n`: `x̄ = g/n` at every element.
    fn mean_vjp(x: &ShapeOf<Self>, g: &Self::Elem) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of the mean: `(Σ dx)/n`.
    fn mean_jvp(x: &ShapeOf<Self>, dx: &Array<Self::Elem, Self::Dim>) -> Self::Elem;

    /// `y[.., ..] = Σₖ x[.., k, ..]` along `axis` ⇒ `x̄[.., k, ..] = g[.., ..]` for every `k`
    /// (`g` broadcast back along the removed axis).
    fn sum_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Smaller>,
    ) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `x.sum_axis(axis)`: `dx.sum_axis(axis)`.
    fn sum_axis_jvp(
        x: &ShapeOf<Self>,
        axis: &Axis,
        dx: &Array<Self::Elem, Self::Dim>,
    ) -> Array<Self::Elem, <Self::Dim as Dimension>::Smaller>
    where
        Self::Dim: RemoveAxis;

    /// `y[.., ..] = (1/n) Σₖ x[.., k, ..]` along `axis` (of length `n`) ⇒
    /// `x̄[.., k, ..] = g[.., ..]/n` for every `k`.
    fn mean_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Smaller>,
    ) -> Array<Self::Elem, Self::Dim>;
    /// Tangent of `x.mean_axis(axis)`: `dx.sum_axis(axis)/n`.
    fn mean_axis_jvp(
        x: &ShapeOf<Self>,
        axis: &Axis,
        dx: &Array<Self::Elem, Self::Dim>,
    ) -> Array<Self::Elem, <Self::Dim as Dimension>::Smaller>
    where
        Self::Dim: RemoveAxis;

    /// `y = x.slice(info)` reads a region of `x`: `x̄` is zero except on that region, where it is
    /// `ȳ`.
    fn slice_vjp_0<I: ndarray::SliceArg<Self::Dim>>(
        x: &ShapeOf<Self>,
        info: &I,
        g: &Array<Self::Elem, I::OutDim>,
    ) -> Array<Self::Elem, Self::Dim>;

    /// `y = x.into_shape_with_order(shape)` (row-major) keeps the elements in their logical
    /// order: `x̄` is `ȳ` reshaped back.
    fn into_shape_with_order_vjp_0<E: Dimension, Sh>(
        x: &ShapeOf<Self>,
        shape: &Sh,
        g: &Array<Self::Elem, E>,
    ) -> Array<Self::Elem, Self::Dim>;

    /// `y = x.insert_axis(axis)` adds an axis of length 1: `x̄` is `ȳ` with it removed (the
    /// same elements, in the same order).
    fn insert_axis_vjp_0(
        x: &ShapeOf<Self>,
        axis: &Axis,
        g: &Array<Self::Elem, <Self::Dim as Dimension>::Larger>,
    ) -> Array<Self::Elem, Self::Dim>;
}

/// The cotangent of a reduction along `axis` broadcast back over that axis, `f` applied to each
/// element: the shared body of `sum_axis_vjp_0` and `mean_axis_vjp_0`.
#[inline]
#[track_caller]
fn spread_axis<T: Copy, D: Dimension>(
    x: &D,
    axis: Axis,
    g: &Array<T, D::Smaller>,
    f: impl Fn(T) -> T,
) -> Array<T, D> {
    assert!(
        axis.index() < x.ndim(),
        "sum_axis/mean_axis vjp: axis {} out of bounds for shape {:?}",
        axis.index(),
        x.slice()
    );
    let restored = g.view().insert_axis(axis).into_dyn();
    bcast(&restored, x).mapv(f)
}

/// `n` as the element type.
#[inline]
fn count<T: Real>(n: usize) -> T {
    T::from_f64(n as f64)
}

impl<T, S, D> TensorRules for ArrayBase<S, D>
where
    T: Real + LinalgScalar,
    S: Data<Elem = T>,
    D: Dimension,
{
    type Elem = T;
    type Dim = D;

    #[inline]
    fn t_vjp(_x: &ShapeOf<Self>, g: &Array<T, D>) -> Array<T, D> {
        g.t().as_standard_layout().into_owned()
    }
    #[inline]
    fn t_jvp(_x: &ShapeOf<Self>, dx: &Array<T, D>) -> Array<T, D> {
        dx.t().as_standard_layout().into_owned()
    }

    #[inline]
    fn sum_vjp(x: &ShapeOf<Self>, g: &T) -> Array<T, D> {
        Array::from_elem(x.dims.clone(), *g)
    }
    #[inline]
    fn sum_jvp(_x: &ShapeOf<Self>, dx: &Array<T, D>) -> T {
        dx.sum()
    }

    #[inline]
    fn mean_vjp(x: &ShapeOf<Self>, g: &T) -> Array<T, D> {
        Array::from_elem(x.dims.clone(), *g / count::<T>(x.dims.size()))
    }
    #[inline]
    fn mean_jvp(x: &ShapeOf<Self>, dx: &Array<T, D>) -> T {
        dx.sum() / count::<T>(x.dims.size())
    }

    #[inline]
    fn sum_axis_vjp_0(x: &ShapeOf<Self>, axis: &Axis, g: &Array<T, D::Smaller>) -> Array<T, D> {
        spread_axis(&x.dims, *axis, g, |g| g)
    }
    #[inline]
    fn sum_axis_jvp(x: &ShapeOf<Self>, axis: &Axis, dx: &Array<T, D>) -> Array<T, D::Smaller>
    where
        D: RemoveAxis,
    {
        same_shape("sum_axis_jvp", &[&x.dims, &dx.raw_dim()]);
        dx.sum_axis(*axis)
    }

    #[inline]
    fn mean_axis_vjp_0(x: &ShapeOf<Self>, axis: &Axis, g: &Array<T, D::Smaller>) -> Array<T, D> {
        let n = count::<T>(x.dims[axis.index()]);
        spread_axis(&x.dims, *axis, g, |g| g / n)
    }
    #[inline]
    fn slice_vjp_0<I: ndarray::SliceArg<D>>(
        x: &ShapeOf<Self>,
        info: &I,
        g: &Array<T, I::OutDim>,
    ) -> Array<T, D> {
        let mut dx = Array::from_elem(x.dims.clone(), T::ZERO);
        dx.slice_mut(info).assign(g);
        dx
    }
    #[inline]
    fn into_shape_with_order_vjp_0<E: Dimension, Sh>(
        x: &ShapeOf<Self>,
        _shape: &Sh,
        g: &Array<T, E>,
    ) -> Array<T, D> {
        g.as_standard_layout()
            .into_owned()
            .into_shape_with_order(x.dims.clone())
            .unwrap_or_else(|e| {
                panic!(
                    "into_shape_with_order_vjp_0: cotangent does not fit {:?}: {e}",
                    x.dims
                )
            })
    }
    #[inline]
    fn insert_axis_vjp_0(x: &ShapeOf<Self>, axis: &Axis, g: &Array<T, D::Larger>) -> Array<T, D> {
        assert!(
            g.len_of(*axis) == 1,
            "insert_axis_vjp_0: the cotangent has length {} along axis {}, expected 1",
            g.len_of(*axis),
            axis.index()
        );
        g.as_standard_layout()
            .into_owned()
            .into_shape_with_order(x.dims.clone())
            .unwrap_or_else(|e| {
                panic!(
                    "insert_axis_vjp_0: cotangent does not fit {:?}: {e}",
                    x.dims
                )
            })
    }
    #[inline]
    fn mean_axis_jvp(x: &ShapeOf<Self>, axis: &Axis, dx: &Array<T, D>) -> Array<T, D::Smaller>
    where
        D: RemoveAxis,
    {
        same_shape("mean_axis_jvp", &[&x.dims, &dx.raw_dim()]);
        let n = count::<T>(x.dims[axis.index()]);
        dx.sum_axis(*axis).mapv_into(|s| s / n)
    }
}

#[cfg(test)]
mod tests {
    //! Every rule against central finite differences of `x ↦ ⟨f(x), w⟩` for fixed random weights
    //! `w` (whose gradient is the vjp with cotangent `w`), on random shapes; every jvp against its
    //! vjp through `⟨jvp(dx), w⟩ = ⟨dx, vjp(w)⟩`; `unbroadcast` against a brute-force sum.

    use ndarray::{Array0, Array3, ArrayD, Ix0, Ix3, ShapeBuilder, array};

    use super::*;
    use crate::check::{assert_close, gradcheck};
    use crate::differentiable::Differentiable;

    /// `⟨jvp(dx), w⟩` vs `⟨dx, vjp(w)⟩`: equal up to rounding.
    const ADJOINT: f64 = 1e-12;

    /// A small seeded linear congruential generator (Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Uniform in `[lo, hi)`.
        fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.next()
        }
        /// A length in `lo..=hi`.
        fn len(&mut self, lo: usize, hi: usize) -> usize {
            lo + (self.next() * (hi - lo + 1) as f64) as usize
        }
        /// An array of shape `shape`, entries uniform in `[lo, hi)`.
        fn array<D: Dimension>(&mut self, shape: D, lo: f64, hi: f64) -> Array<f64, D> {
            Array::from_shape_simple_fn(shape, || self.uniform(lo, hi))
        }
        /// A random value shaped like `x`, entries uniform in `[-1, 1)`.
        fn like<P: Differentiable>(&mut self, x: &P) -> P {
            let mut out = x.zero_like();
            out.zip_leaves_mut(x, &mut |leaf, _| {
                for v in leaf {
                    *v = P::Scalar::from_f64(self.uniform(-1.0, 1.0));
                }
            });
            out
        }
    }

    /// `⟨y, w⟩`.
    fn wsum<T: Real, D: Dimension>(y: &Array<T, D>, w: &Array<T, D>) -> T {
        y.inner(w)
    }

    // ---- unbroadcast -------------------------------------------------------------------------

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
            assert_close(wsum(&jvp, &w).to_f64(), dx.inner(&grad).to_f64(), ADJOINT);

            let y = ArithRules::sub(&a, &b);
            let grad = (
                ArithRules::sub_vjp_0(&sa, &sb, &w),
                ArithRules::sub_vjp_1(&sa, &sb, &w),
            );
            gradcheck(|p| wsum(&ArithRules::sub(&p.0, &p.1), &w), &x, &grad).assert_ok();
            let jvp = ArithRules::sub_jvp(&a, &b, &y, &dx.0, &dx.1);
            assert_close(wsum(&jvp, &w).to_f64(), dx.inner(&grad).to_f64(), ADJOINT);

            let y = ArithRules::mul(&a, &b);
            let grad = (
                ArithRules::mul_vjp_0(&sa, &b, &w),
                ArithRules::mul_vjp_1(&a, &sb, &w),
            );
            gradcheck(|p| wsum(&ArithRules::mul(&p.0, &p.1), &w), &x, &grad).assert_ok();
            let jvp = ArithRules::mul_jvp(&a, &b, &y, &dx.0, &dx.1);
            assert_close(wsum(&jvp, &w).to_f64(), dx.inner(&grad).to_f64(), ADJOINT);

            let y = ArithRules::div(&a, &b);
            let grad = (
                ArithRules::div_vjp_0(&sa, &b, &w),
                ArithRules::div_vjp_1(&sa, &b, &y, &w),
            );
            gradcheck(|p| wsum(&ArithRules::div(&p.0, &p.1), &w), &x, &grad).assert_ok();
            let jvp = ArithRules::div_jvp(&a, &b, &y, &dx.0, &dx.1);
            assert_close(wsum(&jvp, &w).to_f64(), dx.inner(&grad).to_f64(), ADJOINT);
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

    // ---- float methods -----------------------------------------------------------------------

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
        // ∂ atan2(x, a) = (a, −x)/(x² + a²), ∂ hypot = (x, a)/hypot, max/min: 1 to the winner.
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

    // ---- dot ---------------------------------------------------------------------------------

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
}
