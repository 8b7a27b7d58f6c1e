//! The vector-space view of parameters and gradients.
//!
//! Reverse mode needs three things of every value it differentiates: a zero of the same shape to
//! start an adjoint from, a way to add two adjoints, and (for optimizers and gradient checking) a
//! way to reach every scalar inside. [`Differentiable`] supplies them for owned values, whose
//! gradient has the value's own type. [`Primal`] maps what a function may *take* (references,
//! slices) to that owned gradient type: the gradient of `&[f64]` is a `Vec<f64>`.

use ndarray::{Array, Dimension};

/// The floating-point scalars the runtime works in: `f32` and `f64`.
///
/// It is also the one bound a generic differentiated function needs: `#[differentiate]` on
/// `fn f<T: num_traits::Float>(x: T) -> T` generates `f_grad<T: Float>(x: T) where T: Real`, and
/// `Real` implies every rule the generated code calls on `T` (its supertraits [`ArithRules`],
/// [`NegRule`], [`FloatRules`], [`FloatArgRules`], [`HasShape`] and [`Primal`]). A generic caller
/// of `f_grad` names the same bound (an example of the `autodiff` crate, which this one cannot
/// depend on to run it; `tests/generics.rs` there runs the same code):
///
/// ```ignore
/// use autodiff::{Real, differentiate};
///
/// #[differentiate]
/// fn square<T: Real>(x: T) -> T {
///     x * x
/// }
///
/// fn slope_at<T: Real>(x: T) -> T {
///     square_grad(x).1
/// }
/// assert_eq!(slope_at(3.0_f32), 6.0);
/// ```
///
/// Its methods take `&self`, so that where a type parameter is bounded by both `Real` and
/// `num_traits::Float`, `x.sqrt()` and `x.abs()` are `Float`'s (same result) rather than
/// ambiguous.
///
/// [`ArithRules`]: crate::rules::ArithRules
/// [`NegRule`]: crate::rules::NegRule
/// [`FloatRules`]: crate::rules::FloatRules
/// [`FloatArgRules`]: crate::rules::FloatArgRules
/// [`HasShape`]: crate::rules::HasShape
pub trait Real:
    Copy
    + PartialOrd
    + core::fmt::Debug
    + core::fmt::Display
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
    + core::ops::AddAssign
    + core::ops::SubAssign
    + core::ops::MulAssign
    + core::ops::DivAssign
    + Default
    + 'static
    + crate::rules::ArithRules<Self, Output = Self>
    + crate::rules::NegRule
    + crate::rules::FloatRules
    + crate::rules::FloatArgRules<Self>
    + crate::rules::HasShape<Dims = ()>
    + ZerosOfShape<Tangent = Self>
    + Primal<Tangent = Self>
    + ndarray::LinalgScalar
    + crate::elementwise::ElemResult
    + crate::elementwise::CapturedScalar
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// Converts from `f64` (rounding for `f32`).
    fn of_f64(x: f64) -> Self;
    /// Converts to `f64` (exact for both).
    fn as_f64(self) -> f64;
    /// Square root.
    fn sqrt(&self) -> Self;
    /// Absolute value.
    fn abs(&self) -> Self;
    /// `true` unless NaN or infinite.
    fn is_finite(&self) -> bool;
}

/// Asserts at compile time that a container's element type has a zero without a shape
/// (`$holds` is its [`Differentiable::SHAPELESS_ZERO`] or a [`ZerosOfShape::FROM_SHAPE`]). Each
/// function the generated code calls asserts it in its own body, so that the error names the
/// instantiation at the user's code. The elements of a container whose length changes:
/// `clear`, `truncate`, `resize`, `fill` and an element popped and never read have adjoints
/// that make zero elements from the length alone.
macro_rules! assert_shapeless_zero {
    ($holds:expr) => {
        const {
            assert!(
                $holds,
                "a container whose length changes holds elements whose zero needs a shape \
                 (`Vec`s, ndarray arrays, or parameter structs with such fields): `clear`, \
                 `truncate`, `resize`, `fill` and an element popped and never read have \
                 adjoints that make zero elements from the length alone; keep the container's \
                 length fixed and write its elements by index"
            )
        }
    };
}
pub(crate) use assert_shapeless_zero;

macro_rules! impl_real {
    ($($t:ty),*) => {$(
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn of_f64(x: f64) -> Self { x as $t }
            #[inline(always)]
            fn as_f64(self) -> f64 { self as f64 }
            #[inline(always)]
            fn sqrt(&self) -> Self { <$t>::sqrt(*self) }
            #[inline(always)]
            fn abs(&self) -> Self { <$t>::abs(*self) }
            #[inline(always)]
            fn is_finite(&self) -> bool { <$t>::is_finite(*self) }
        }
    )*};
}
impl_real!(f32, f64);

/// The callback of [`Differentiable::zip_leaves_mut`]: a leaf of `self` beside the matching leaf
/// of the other value.
pub type LeafZip<'a, S> = dyn FnMut(&mut [S], &[S]) + 'a;

/// An owned value that gradients can be taken with respect to; its gradient has the same type.
///
/// Implemented for `f32`, `f64`, `Vec<T>` and `[T; N]` of any differentiable `T`, tuples, ndarray `Array<T, D>`, and by
/// `#[derive(Differentiable)]` for parameter structs. Every implementation has one scalar type
/// (`Self::Scalar`) and visits its leaves — flat runs of scalars — in one fixed order, which
/// optimizers rely on to keep per-leaf state.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not differentiable",
    label = "not a float, float array or parameter struct",
    note = "gradients exist for `f32`, `f64`, ndarray arrays, tuples, `Vec`s and arrays of \
            differentiable values, and structs that `#[derive(Differentiable, Clone)]`; a field \
            of a parameter struct that holds data of another type (an enum of settings) is \
            marked `#[differentiable(data)]`; pass other data as its own argument"
)]
pub trait Differentiable: Clone {
    /// The scalar type of every leaf.
    type Scalar: Real;

    /// A zero of the same shape.
    fn zero_like(&self) -> Self;

    /// Whether a zero of this type exists without a value to take its shape from
    /// ([`shapeless_zero`](Differentiable::shapeless_zero)): floats, fixed-size arrays of them,
    /// and tuples and parameter structs of those. Not `Vec`s and ndarray arrays, whose zero has
    /// a length. A `Vec` of such elements has a zero of any length: the adjoint of a `Vec` of
    /// parameter structs a loop rebuilds or resizes.
    const SHAPELESS_ZERO: bool = false;

    /// The zero that needs no shape, where [`SHAPELESS_ZERO`](Differentiable::SHAPELESS_ZERO)
    /// holds.
    fn shapeless_zero() -> Self
    where
        Self: Sized,
    {
        panic!(
            "`{}` has no zero without a value to take its shape from",
            core::any::type_name::<Self>()
        )
    }

    /// `self += other`. Shapes must agree; a mismatch panics with both shapes in the message.
    fn add_assign(&mut self, other: &Self);

    /// `self *= s`.
    fn scale(&mut self, s: Self::Scalar);

    /// The inner product `Σ selfᵢ·otherᵢ` over every scalar. (Named `inner`, not `dot`, so
    /// that it never shadows ndarray's matrix product where this trait is in scope.)
    fn inner(&self, other: &Self) -> Self::Scalar;

    /// Number of scalars.
    fn num_scalars(&self) -> usize;

    /// Calls `f` on every leaf, in order.
    fn visit_leaves(&self, f: &mut dyn FnMut(&[Self::Scalar]));

    /// Calls `f` on every leaf of `self` beside the matching leaf of `other`, in order.
    /// `other` must have the same shape as `self`.
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut LeafZip<'_, Self::Scalar>);

    /// Calls `f` on the leaves of every element of `items` (a `Vec`'s or an array's elements),
    /// in order: each element's leaves in turn. Scalars override it to make a run of scalars
    /// one leaf, so that an optimizer keeps one piece of state per `Vec<f64>`, not one per
    /// number; other implementations keep this default.
    fn visit_run_leaves(items: &[Self], f: &mut dyn FnMut(&[Self::Scalar]))
    where
        Self: Sized,
    {
        for item in items {
            item.visit_leaves(f);
        }
    }

    /// [`visit_run_leaves`](Differentiable::visit_run_leaves) beside the matching elements of
    /// `other` (of the same length), as [`zip_leaves_mut`](Differentiable::zip_leaves_mut)
    /// pairs leaves.
    fn zip_run_leaves_mut(items: &mut [Self], other: &[Self], f: &mut LeafZip<'_, Self::Scalar>)
    where
        Self: Sized,
    {
        for (a, b) in items.iter_mut().zip(other) {
            a.zip_leaves_mut(b, f);
        }
    }
}

impl<T: Real> Differentiable for T {
    type Scalar = T;
    const SHAPELESS_ZERO: bool = true;
    #[inline(always)]
    fn shapeless_zero() -> Self {
        T::ZERO
    }
    #[inline(always)]
    fn zero_like(&self) -> Self {
        T::ZERO
    }
    #[inline(always)]
    fn add_assign(&mut self, other: &Self) {
        *self += *other;
    }
    #[inline(always)]
    fn scale(&mut self, s: T) {
        *self *= s;
    }
    #[inline(always)]
    fn inner(&self, other: &Self) -> T {
        *self * *other
    }
    fn num_scalars(&self) -> usize {
        1
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[T])) {
        f(core::slice::from_ref(self));
    }
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut LeafZip<'_, T>) {
        f(core::slice::from_mut(self), core::slice::from_ref(other));
    }
    /// A run of scalars is one leaf.
    fn visit_run_leaves(items: &[T], f: &mut dyn FnMut(&[T])) {
        f(items);
    }
    /// A run of scalars is one leaf.
    fn zip_run_leaves_mut(items: &mut [T], other: &[T], f: &mut LeafZip<'_, T>) {
        f(items, other);
    }
}

fn check_len(what: &str, a: usize, b: usize) {
    assert!(a == b, "{what}: length mismatch, {a} vs {b} scalars");
}

/// A `Vec` of differentiable values (of floats, of layers) is differentiable elementwise; its
/// gradient is a `Vec` of the elements' gradients, of the same length.
impl<T: Differentiable> Differentiable for Vec<T> {
    type Scalar = T::Scalar;
    fn zero_like(&self) -> Self {
        self.iter().map(Differentiable::zero_like).collect()
    }
    fn add_assign(&mut self, other: &Self) {
        check_len("Vec add_assign", self.len(), other.len());
        for (a, b) in self.iter_mut().zip(other) {
            a.add_assign(b);
        }
    }
    fn scale(&mut self, s: T::Scalar) {
        for a in self.iter_mut() {
            a.scale(s);
        }
    }
    fn inner(&self, other: &Self) -> T::Scalar {
        check_len("Vec dot", self.len(), other.len());
        self.iter()
            .zip(other)
            .fold(T::Scalar::ZERO, |acc, (a, b)| acc + a.inner(b))
    }
    fn num_scalars(&self) -> usize {
        self.iter().map(Differentiable::num_scalars).sum()
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[T::Scalar])) {
        T::visit_run_leaves(self, f);
    }
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut LeafZip<'_, T::Scalar>) {
        check_len("Vec zip_leaves_mut", self.len(), other.len());
        T::zip_run_leaves_mut(self, other, f);
    }
}

/// An array of differentiable values, elementwise like `Vec`.
impl<T: Differentiable, const N: usize> Differentiable for [T; N] {
    type Scalar = T::Scalar;
    const SHAPELESS_ZERO: bool = T::SHAPELESS_ZERO;
    fn shapeless_zero() -> Self {
        core::array::from_fn(|_| T::shapeless_zero())
    }
    fn zero_like(&self) -> Self {
        self.each_ref().map(Differentiable::zero_like)
    }
    fn add_assign(&mut self, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            a.add_assign(b);
        }
    }
    fn scale(&mut self, s: T::Scalar) {
        for a in self.iter_mut() {
            a.scale(s);
        }
    }
    fn inner(&self, other: &Self) -> T::Scalar {
        self.iter()
            .zip(other)
            .fold(T::Scalar::ZERO, |acc, (a, b)| acc + a.inner(b))
    }
    fn num_scalars(&self) -> usize {
        self.iter().map(Differentiable::num_scalars).sum()
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[T::Scalar])) {
        T::visit_run_leaves(self, f);
    }
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut LeafZip<'_, T::Scalar>) {
        T::zip_run_leaves_mut(self, other, f);
    }
}

impl<T: Real, D: Dimension> Differentiable for Array<T, D> {
    type Scalar = T;
    fn zero_like(&self) -> Self {
        Array::from_elem(self.raw_dim(), T::ZERO)
    }
    fn add_assign(&mut self, other: &Self) {
        assert!(
            self.shape() == other.shape(),
            "Array add_assign: shape mismatch, {:?} vs {:?}",
            self.shape(),
            other.shape()
        );
        *self += other;
    }
    fn scale(&mut self, s: T) {
        self.mapv_inplace(|a| a * s);
    }
    fn inner(&self, other: &Self) -> T {
        assert!(
            self.shape() == other.shape(),
            "Array dot: shape mismatch, {:?} vs {:?}",
            self.shape(),
            other.shape()
        );
        ndarray::Zip::from(self)
            .and(other)
            .fold(T::ZERO, |acc, a, b| acc + *a * *b)
    }
    fn num_scalars(&self) -> usize {
        self.len()
    }
    fn visit_leaves(&self, f: &mut dyn FnMut(&[T])) {
        match self.as_slice() {
            Some(s) => f(s),
            None => f(&self.iter().copied().collect::<Vec<T>>()),
        }
    }
    fn zip_leaves_mut(&mut self, other: &Self, f: &mut LeafZip<'_, T>) {
        assert!(
            self.shape() == other.shape(),
            "Array zip_leaves_mut: shape mismatch, {:?} vs {:?}",
            self.shape(),
            other.shape()
        );
        // Leaves are visited in logical (row-major) order so that a parameter and its gradient
        // line up whatever their memory layouts.
        let other_std = other.as_standard_layout();
        let other_slice = other_std.as_slice().expect("standard layout is contiguous");
        if let Some(s) = self.as_slice_mut() {
            f(s, other_slice);
        } else {
            let mut tmp: Vec<T> = self.iter().copied().collect();
            f(&mut tmp, other_slice);
            for (a, b) in self.iter_mut().zip(tmp) {
                *a = b;
            }
        }
    }
}

macro_rules! impl_tuple {
    ($($name:ident $idx:tt),+) => {
        impl<S: Real, $($name: Differentiable<Scalar = S>),+> Differentiable for ($($name,)+) {
            type Scalar = S;
            const SHAPELESS_ZERO: bool = true $(&& $name::SHAPELESS_ZERO)+;
            fn shapeless_zero() -> Self { ($($name::shapeless_zero(),)+) }
            fn zero_like(&self) -> Self { ($(self.$idx.zero_like(),)+) }
            fn add_assign(&mut self, other: &Self) { $(self.$idx.add_assign(&other.$idx);)+ }
            fn scale(&mut self, s: S) { $(self.$idx.scale(s);)+ }
            fn inner(&self, other: &Self) -> S { S::ZERO $(+ self.$idx.inner(&other.$idx))+ }
            fn num_scalars(&self) -> usize { 0 $(+ self.$idx.num_scalars())+ }
            fn visit_leaves(&self, f: &mut dyn FnMut(&[S])) { $(self.$idx.visit_leaves(f);)+ }
            fn zip_leaves_mut(&mut self, other: &Self, f: &mut LeafZip<'_, S>) {
                $(self.$idx.zip_leaves_mut(&other.$idx, f);)+
            }
        }
    };
}
/// Tuples have the shapes of their elements, and the zero gradient made of their zeros: a tuple
/// result carried out of a loop by an early `return` keeps only its shape for the backward pass.
macro_rules! impl_tuple_shape {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: crate::rules::HasShape),+> crate::rules::HasShape for ($($name,)+) {
            type Dims = ($($name::Dims,)+);
            fn dims(&self) -> Self::Dims {
                ($(self.$idx.dims(),)+)
            }
        }
        impl<$($name: ZerosOfShape),+> ZerosOfShape for ($($name,)+) {
            type Tangent = ($($name::Tangent,)+);
            const FROM_SHAPE: bool = true $(&& $name::FROM_SHAPE)+;
            fn zeros(dims: &Self::Dims) -> Self::Tangent {
                ($($name::zeros(&dims.$idx),)+)
            }
            fn zeros_like(dims: &Self::Dims, like: &Self::Tangent) -> Self::Tangent {
                ($($name::zeros_like(&dims.$idx, &like.$idx),)+)
            }
        }
    };
}
/// Applies a tuple macro to tuples of one to twelve elements (as many as `std` implements its
/// traits for).
macro_rules! for_tuples {
    ($m:ident) => {
        $m!(A 0);
        $m!(A 0, B 1);
        $m!(A 0, B 1, C 2);
        $m!(A 0, B 1, C 2, D 3);
        $m!(A 0, B 1, C 2, D 3, E 4);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
        $m!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
    };
}
for_tuples!(impl_tuple_shape);
for_tuples!(impl_tuple);

/// Every scalar of `x`, in leaf order (the order of [`Differentiable::visit_leaves`]): the
/// coordinates of `x` as a vector of `Rⁿ`, `n = x.num_scalars()`.
///
/// With [`from_flat`], the two sides of one isomorphism between a structured value (a scalar, a
/// tuple, a parameter struct of arrays) and the flat vector that gradient checks, Jacobians and
/// optimizers index: `from_flat(x, &to_flat(x)) == x`. ndarray arrays contribute their elements
/// in logical (row-major) order, whatever their memory layout.
///
/// ```
/// use autodiff_runtime::{from_flat, to_flat};
/// use ndarray::array;
///
/// let x = (1.5, array![[1.0, 2.0], [3.0, 4.0]], vec![5.0]);
/// assert_eq!(to_flat(&x), [1.5, 1.0, 2.0, 3.0, 4.0, 5.0]);
/// let y = from_flat(&x, &[0.0, -1.0, -2.0, -3.0, -4.0, -5.0]);
/// assert_eq!(y.1, array![[-1.0, -2.0], [-3.0, -4.0]]);
/// assert_eq!(from_flat(&x, &to_flat(&x)), x);
/// ```
pub fn to_flat<P: Differentiable>(x: &P) -> Vec<P::Scalar> {
    let mut out = Vec::with_capacity(x.num_scalars());
    x.visit_leaves(&mut |leaf| out.extend_from_slice(leaf));
    out
}

/// A value shaped like `like` whose scalars, in leaf order, are `values`: the inverse of
/// [`to_flat`].
///
/// # Panics
///
/// If `values` does not have `like.num_scalars()` entries.
pub fn from_flat<P: Differentiable>(like: &P, values: &[P::Scalar]) -> P {
    assert!(
        values.len() == like.num_scalars(),
        "from_flat: {} values for a value of {} scalars",
        values.len(),
        like.num_scalars()
    );
    let mut out = like.zero_like();
    let mut start = 0;
    out.zip_leaves_mut(like, &mut |leaf, _| {
        leaf.copy_from_slice(&values[start..start + leaf.len()]);
        start += leaf.len();
    });
    out
}

/// Calls `update` on the `i`-th scalar of `x` (in leaf order); `shape` is any value shaped like
/// `x` (the walk over leaves pairs them). Returns the scalar's new value.
///
/// # Panics
///
/// If `i >= x.num_scalars()`.
pub(crate) fn update_scalar<P: Differentiable>(
    x: &mut P,
    shape: &P,
    i: usize,
    update: impl FnOnce(&mut P::Scalar),
) -> P::Scalar {
    let mut start = 0;
    let mut update = Some(update);
    let mut value = None;
    x.zip_leaves_mut(shape, &mut |leaf, _| {
        if (start..start + leaf.len()).contains(&i) {
            let s = &mut leaf[i - start];
            if let Some(update) = update.take() {
                update(s);
            }
            value = Some(*s);
        }
        start += leaf.len();
    });
    match value {
        Some(v) => v,
        None => panic!("scalar {i} of a value of {start} scalars"),
    }
}

/// What a differentiated function may take as an active argument, and the owned type its
/// gradient has.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be differentiated",
    label = "no gradient type for this",
    note = "derive `Differentiable` (and `Clone`) for a struct of parameters, or leave this \
            parameter out of `#[differentiate(wrt(..))]`"
)]
pub trait Primal {
    /// The gradient's type: the owned form of `Self`.
    type Tangent: Differentiable;
    /// A zero gradient shaped like `self`.
    fn zero_tangent(&self) -> Self::Tangent;
}

/// Owned differentiable types are their own gradient type.
#[macro_export]
#[doc(hidden)]
macro_rules! __primal_is_owned {
    ($(impl[$($g:tt)*] $t:ty;)*) => {$(
        impl<$($g)*> $crate::Primal for $t {
            type Tangent = Self;
            #[inline(always)]
            fn zero_tangent(&self) -> Self {
                $crate::Differentiable::zero_like(self)
            }
        }
    )*};
}

__primal_is_owned! {
    impl[] f32;
    impl[] f64;
    impl[T: Differentiable] Vec<T>;
    impl[T: Differentiable, const N: usize] [T; N];
    impl[T: Real, D: Dimension] Array<T, D>;
}

/// A tuple of differentiable values is its own gradient type, for every arity that
/// [`Differentiable`] has (a helper's tuple result that a caller destructures, `let (n, sx, sy,
/// sxx, sxy) = stats(x, y);`, and a tuple parameter).
macro_rules! impl_tuple_primal {
    ($($name:ident $idx:tt),+) => {
        __primal_is_owned! {
            impl[S: Real, $($name: Differentiable<Scalar = S>),+] ($($name,)+);
        }
    };
}
for_tuples!(impl_tuple_primal);

/// A reference has the gradient of what it refers to.
impl<T: Primal + ?Sized> Primal for &T {
    type Tangent = T::Tangent;
    #[inline(always)]
    fn zero_tangent(&self) -> T::Tangent {
        (**self).zero_tangent()
    }
}

/// A place borrowed mutably (a `&mut` buffer parameter): the gradient of its contents on entry.
impl<T: Primal + ?Sized> Primal for &mut T {
    type Tangent = T::Tangent;
    #[inline(always)]
    fn zero_tangent(&self) -> T::Tangent {
        (**self).zero_tangent()
    }
}

/// A slice's gradient is an owned `Vec`: of floats, or of parameter structs (`bodies: &[Body]`).
impl<T: Differentiable> Primal for [T] {
    type Tangent = Vec<T>;
    fn zero_tangent(&self) -> Vec<T> {
        self.iter().map(Differentiable::zero_like).collect()
    }
}

/// Adjoints that element reads `x[i]` scatter into.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is indexed (`x[i]`) in a differentiated function, which follows the \
               element reads of slices, `Vec`s, arrays and ndarray arrays, not a type's own `Index`",
    label = "an element read of a value of type `{Self}`",
    note = "read the element through the field that holds it (`v.0[i]`, `v.data[i]`), or write a \
            `#[differentiate]` method that returns it (`fn get(&self, i: usize) -> f64`) and call \
            `v.get(i)`"
)]
pub trait IndexAdjoint<I> {
    /// The element type.
    type Elem;
    /// `self[i] += g`.
    fn add_at(&mut self, i: I, g: Self::Elem);
    /// Returns `self[i]` and sets it to zero.
    fn take_at(&mut self, i: I) -> Self::Elem;
    /// Returns a copy of `self[i]`.
    fn read_at(&self, i: I) -> Self::Elem;
}

/// `x[i]` of a `Vec` of floats or of layers: the element's adjoint is added in place.
impl<T: Differentiable> IndexAdjoint<usize> for Vec<T> {
    type Elem = T;
    #[inline(always)]
    fn add_at(&mut self, i: usize, g: T) {
        self[i].add_assign(&g);
    }
    #[inline(always)]
    fn take_at(&mut self, i: usize) -> T {
        let zero = self[i].zero_like();
        core::mem::replace(&mut self[i], zero)
    }
    #[inline(always)]
    fn read_at(&self, i: usize) -> T {
        self[i].clone()
    }
}

/// `x[i]` of an array, as for `Vec`.
impl<T: Differentiable, const N: usize> IndexAdjoint<usize> for [T; N] {
    type Elem = T;
    #[inline(always)]
    fn add_at(&mut self, i: usize, g: T) {
        self[i].add_assign(&g);
    }
    #[inline(always)]
    fn take_at(&mut self, i: usize) -> T {
        let zero = self[i].zero_like();
        core::mem::replace(&mut self[i], zero)
    }
    #[inline(always)]
    fn read_at(&self, i: usize) -> T {
        self[i].clone()
    }
}

/// `x[i][j]` of a `Vec` of rows (`Vec<Vec<f64>>`, `Vec<[f64; 3]>`): the element's adjoint is
/// added in place in row `i`, without an adjoint of the row.
impl<R: Differentiable + IndexAdjoint<J>, J> IndexAdjoint<(usize, J)> for Vec<R> {
    type Elem = R::Elem;
    #[inline(always)]
    fn add_at(&mut self, (i, j): (usize, J), g: R::Elem) {
        self[i].add_at(j, g);
    }
    #[inline(always)]
    fn take_at(&mut self, (i, j): (usize, J)) -> R::Elem {
        self[i].take_at(j)
    }
    #[inline(always)]
    fn read_at(&self, (i, j): (usize, J)) -> R::Elem {
        self[i].read_at(j)
    }
}

/// `x[i][j]` of an array of rows, as for `Vec`.
impl<R: Differentiable + IndexAdjoint<J>, J, const N: usize> IndexAdjoint<(usize, J)> for [R; N] {
    type Elem = R::Elem;
    #[inline(always)]
    fn add_at(&mut self, (i, j): (usize, J), g: R::Elem) {
        self[i].add_at(j, g);
    }
    #[inline(always)]
    fn take_at(&mut self, (i, j): (usize, J)) -> R::Elem {
        self[i].take_at(j)
    }
    #[inline(always)]
    fn read_at(&self, (i, j): (usize, J)) -> R::Elem {
        self[i].read_at(j)
    }
}

/// An element's index in a container's adjoint and the shape the element had before a write
/// replaced it: taking the element's adjoint (the written value's) leaves a zero of that
/// shape, the adjoint of the element the write replaced, where the value written may have
/// had another shape (a row of another length).
pub struct AtShape<I, S: crate::rules::HasShape + ?Sized> {
    /// The element's index.
    pub index: I,
    /// The shape of the element before the write.
    pub dims: S::Dims,
    /// The type of the element before the write.
    pub of: core::marker::PhantomData<fn(&S)>,
}

impl<I: Copy, S: crate::rules::HasShape + ?Sized> Clone for AtShape<I, S>
where
    S::Dims: Copy,
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: Copy, S: crate::rules::HasShape + ?Sized> Copy for AtShape<I, S> where S::Dims: Copy {}

/// `x[i] = v` of a `Vec` of rows: `v̄ = x̄[i]`, leaving zeros of the old row's shape.
impl<T: Differentiable, S> IndexAdjoint<AtShape<usize, S>> for Vec<T>
where
    S: ZerosOfShape<Tangent = T> + ?Sized,
    S::Dims: Copy,
{
    type Elem = T;
    #[inline(always)]
    fn add_at(&mut self, at: AtShape<usize, S>, g: T) {
        self[at.index].add_assign(&g);
    }
    #[inline(always)]
    fn take_at(&mut self, at: AtShape<usize, S>) -> T {
        assert_shapeless_zero!(S::FROM_SHAPE);
        core::mem::replace(&mut self[at.index], S::zeros(&at.dims))
    }
    #[inline(always)]
    fn read_at(&self, at: AtShape<usize, S>) -> T {
        self[at.index].clone()
    }
}

/// The same for an array of rows.
impl<T: Differentiable, S, const N: usize> IndexAdjoint<AtShape<usize, S>> for [T; N]
where
    S: ZerosOfShape<Tangent = T> + ?Sized,
    S::Dims: Copy,
{
    type Elem = T;
    #[inline(always)]
    fn add_at(&mut self, at: AtShape<usize, S>, g: T) {
        self[at.index].add_assign(&g);
    }
    #[inline(always)]
    fn take_at(&mut self, at: AtShape<usize, S>) -> T {
        assert_shapeless_zero!(S::FROM_SHAPE);
        core::mem::replace(&mut self[at.index], S::zeros(&at.dims))
    }
    #[inline(always)]
    fn read_at(&self, at: AtShape<usize, S>) -> T {
        self[at.index].clone()
    }
}

/// Types whose zero gradient can be made from their shape alone: for array versions that a
/// later element write has consumed.
pub trait ZerosOfShape: crate::rules::HasShape {
    /// The gradient type.
    type Tangent;
    /// Whether [`zeros`](ZerosOfShape::zeros) exists for this type: not for a `Vec` whose
    /// elements' zero needs a shape of its own, which the length does not give. Each function
    /// the generated code calls asserts it, so that the error points at the user's code.
    const FROM_SHAPE: bool = true;
    /// A zero gradient of this shape.
    fn zeros(dims: &Self::Dims) -> Self::Tangent;
    /// A zero of the shape `dims`, given `like`, the adjoint of a value that may have that
    /// shape: the carried adjoint of a loop that rebuilds what it carries. Where this type has
    /// no zero from its shape alone (a `Vec` of rows), the zero of `like`, whose length must
    /// be `dims` (the loop keeps the length, as a grid rotated by `prev = cur; cur = next;`
    /// does); a panic that says so otherwise.
    fn zeros_like(dims: &Self::Dims, like: &Self::Tangent) -> Self::Tangent {
        let _ = like;
        Self::zeros(dims)
    }
}

/// The shape of a struct with `#[derive(Differentiable)]`: a zero of it, which keeps the
/// lengths of its container fields. A struct carried through a loop beside a container the loop
/// changes, or out of it by an early `return`, keeps only this for the backward pass. (Shared,
/// so that the shape is `Clone` without asking the struct to be: a struct without `Clone` gets
/// the one error that says so.)
pub struct StructShape<T>(pub std::sync::Arc<T>);

impl<T> Clone for StructShape<T> {
    fn clone(&self) -> Self {
        StructShape(std::sync::Arc::clone(&self.0))
    }
}

impl<T> core::fmt::Debug for StructShape<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StructShape(..)")
    }
}

/// A place borrowed mutably (a `&mut` parameter) has the zero gradient of what it refers to.
impl<T: ZerosOfShape + ?Sized> ZerosOfShape for &mut T {
    type Tangent = T::Tangent;
    const FROM_SHAPE: bool = T::FROM_SHAPE;
    fn zeros(dims: &Self::Dims) -> Self::Tangent {
        T::zeros(dims)
    }
    fn zeros_like(dims: &Self::Dims, like: &Self::Tangent) -> Self::Tangent {
        T::zeros_like(dims, like)
    }
}

/// The shape of a `Vec` is its length, whatever its elements: floats, or parameter structs
/// (`Vec<Particle>` built with `push`), whose mutations need only the length. A zero of that
/// shape ([`ZerosOfShape`]) exists where the elements have a zero without a shape
/// ([`Differentiable::SHAPELESS_ZERO`]): floats, arrays of floats, and parameter structs of
/// those.
impl<T> crate::rules::HasShape for Vec<T> {
    type Dims = usize;
    #[inline(always)]
    fn dims(&self) -> usize {
        self.len()
    }
}

/// `len` zeros of `T` made without a shape ([`Differentiable::shapeless_zero`]), which `T` has,
/// as the caller asserted with [`assert_shapeless_zero`].
#[inline]
pub(crate) fn shapeless_zeros<T: Differentiable>(len: usize) -> Vec<T> {
    vec![T::shapeless_zero(); len]
}

/// `len` zero elements: from the elements' type where it has a zero without a shape, else the
/// zero of `like`, the adjoint of a `Vec` of that length (see [`ZerosOfShape::zeros_like`]).
fn zeros_of_length_like<T: Differentiable>(len: usize, like: &[T]) -> Vec<T> {
    if T::SHAPELESS_ZERO {
        return shapeless_zeros(len);
    }
    assert_eq!(
        like.len(),
        len,
        "a loop changes the length of a `Vec` of `{}` it carries, and the adjoint makes zero \
         elements from the length alone, which these elements do not have (their zero needs a \
         shape); keep the `Vec`'s length fixed and write its elements by index",
        core::any::type_name::<T>()
    );
    like.iter().map(Differentiable::zero_like).collect()
}

impl<T: Differentiable> ZerosOfShape for Vec<T> {
    type Tangent = Vec<T>;
    const FROM_SHAPE: bool = T::SHAPELESS_ZERO;
    fn zeros(len: &usize) -> Vec<T> {
        shapeless_zeros(*len)
    }
    fn zeros_like(len: &usize, like: &Vec<T>) -> Vec<T> {
        zeros_of_length_like(*len, like)
    }
}

impl<T> crate::rules::HasShape for [T] {
    type Dims = usize;
    #[inline(always)]
    fn dims(&self) -> usize {
        self.len()
    }
}

impl<T: Differentiable> ZerosOfShape for [T] {
    type Tangent = Vec<T>;
    const FROM_SHAPE: bool = T::SHAPELESS_ZERO;
    fn zeros(len: &usize) -> Vec<T> {
        shapeless_zeros(*len)
    }
    fn zeros_like(len: &usize, like: &Vec<T>) -> Vec<T> {
        zeros_of_length_like(*len, like)
    }
}

impl<T, const N: usize> crate::rules::HasShape for [T; N] {
    type Dims = ();
    #[inline(always)]
    fn dims(&self) {}
}

impl<T: Differentiable, const N: usize> ZerosOfShape for [T; N] {
    type Tangent = [T; N];
    const FROM_SHAPE: bool = T::SHAPELESS_ZERO;
    fn zeros(_: &()) -> [T; N] {
        core::array::from_fn(|_| T::shapeless_zero())
    }
    fn zeros_like(_: &(), like: &[T; N]) -> [T; N] {
        like.zero_like()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves of `v`, each as its own `Vec`.
    fn leaves<P: Differentiable>(v: &P) -> Vec<Vec<P::Scalar>> {
        let mut out = Vec::new();
        v.visit_leaves(&mut |l| out.push(l.to_vec()));
        out
    }

    #[test]
    fn a_run_of_scalars_is_one_leaf_and_a_run_of_values_their_leaves_in_turn() {
        assert_eq!(leaves(&vec![1.0, 2.0, 3.0]), [vec![1.0, 2.0, 3.0]]);
        assert_eq!(leaves(&[1.0f32, 2.0]), [vec![1.0f32, 2.0]]);
        let nested = vec![(1.0, vec![2.0, 3.0]), (4.0, vec![5.0, 6.0])];
        assert_eq!(
            leaves(&nested),
            [vec![1.0], vec![2.0, 3.0], vec![4.0], vec![5.0, 6.0]]
        );
        assert_eq!(nested.num_scalars(), 6);
        assert_eq!(to_flat(&nested), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let back = from_flat(&nested, &[-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]);
        assert_eq!(back, [(-1.0, vec![-2.0, -3.0]), (-4.0, vec![-5.0, -6.0])]);
    }

    #[test]
    fn vecs_and_arrays_of_values_add_scale_and_take_inner_products_elementwise() {
        let mut a = [vec![1.0, 2.0], vec![3.0, 4.0]];
        let b = [vec![0.5, -1.0], vec![2.0, 0.0]];
        // ⟨a, b⟩ = 1·0.5 + 2·(−1) + 3·2 + 4·0 = 4.5.
        assert_eq!(a.inner(&b), 4.5);
        a.add_assign(&b);
        assert_eq!(a, [vec![1.5, 1.0], vec![5.0, 4.0]]);
        a.scale(2.0);
        assert_eq!(a, [vec![3.0, 2.0], vec![10.0, 8.0]]);
        assert_eq!(a.zero_like(), [vec![0.0; 2], vec![0.0; 2]]);
        let mut v = vec![(1.0, 2.0)];
        v.add_at(0, (0.5, 0.25));
        assert_eq!(v.take_at(0), (1.5, 2.25));
        assert_eq!(v, [(0.0, 0.0)]);
    }
}
