//! Shapes of arrays and what follows from them: the shape a rule saves in place of an array
//! ([`HasShape`]), zero gradients of a shape, the adjoint of an element read, and broadcasting —
//! an operand stretched to a result's shape, and its cotangent reduced back ([`unbroadcast`]).

use ndarray::{
    Array, ArrayBase, ArrayView, ArrayViewMut, Axis, CowArray, Data, Dimension, IxDyn,
    LinalgScalar, NdIndex,
};

use crate::differentiable::{IndexAdjoint, Primal, Real, ZerosOfShape};
use crate::rules::HasShape;

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
    /// Returns `x̄[i]`.
    #[inline]
    #[track_caller]
    fn read_at(&self, i: I) -> T {
        self[i]
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
pub(super) fn unbroadcast_owned<T, E, D>(g: Array<T, E>, to: &D) -> Array<T, D>
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
pub(super) fn into_dim<T, E: Dimension, D: Dimension>(a: Array<T, E>) -> Array<T, D> {
    match a.into_dimensionality::<D>() {
        Ok(a) => a,
        Err(e) => panic!("autodiff: array of the wrong dimensionality: {e}"),
    }
}

/// `x` broadcast to the shape `to` (a view, no copy).
#[inline]
#[track_caller]
pub(super) fn bcast<'a, T, S, D, E>(x: &'a ArrayBase<S, D>, to: &E) -> ArrayView<'a, T, E>
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
pub(super) fn same_shape<D: Dimension>(rule: &str, shapes: &[&D]) {
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
