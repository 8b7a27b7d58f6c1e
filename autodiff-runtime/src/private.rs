//! The interface between `#[differentiate]`'s generated code and the runtime.
//!
//! Generated code names these items by absolute path (`::autodiff::__private::…`), never the
//! public API, so the public API can evolve independently. Everything here is `#[inline]`: the
//! point of source transformation is that rustc sees straight through it.

pub use crate::differentiable::{Differentiable, Primal, Real, StructShape, ZerosOfShape};
pub use crate::rules::{
    ArithRules, DotRules, FloatArgRules, FloatRules, HasShape, NegRule, ShapeOf, TensorRules, d,
};
/// ndarray's `Axis`, for the lanes the macro reads (`a.outer_iter()` is `a.axis_iter(Axis(0))`).
pub use ndarray::Axis;
/// ndarray's `Zip`, for `a.zip_mut_with(&b, f)`, which the macro writes as the `Zip` it stands
/// for.
pub use ndarray::Zip;
/// ndarray's `s!`, for the regions the macro spells (`a.row(i)` is `a.slice(s![i, ..])`)
/// without asking the user's crate to name it. (The macro alone: re-exporting the crate would
/// make rustc name ndarray's types by this path in the user's diagnostics.)
pub use ndarray::s;

/// `ndarray::concatenate` and `stack` of 1 to 8 pieces, what `#[differentiate]` writes them as.
pub use crate::rules::tensor::join::{join1, join2, join3, join4, join5, join6, join7, join8};

/// A region of an array overwritten (`a.row_mut(i).assign(&v)`), what `#[differentiate]` writes
/// it as.
pub use crate::rules::tensor::region;

/// The largest and smallest elements along an axis (`x.fold_axis(axis, init, |&a, &b|
/// a.max(b))`), what `#[differentiate]` writes such a fold as.
pub use crate::rules::tensor::extremum;

/// A matrix, whose lanes `for mut r in m.rows_mut()` (`columns_mut`, `outer_iter_mut`,
/// `axis_iter_mut`) goes over and `#[differentiate]` writes as its rows or columns copied and
/// assigned back.
#[diagnostic::on_unimplemented(
    message = "a loop over the lanes of `{Self}` by mutable reference is followed on a matrix \
               (`Array2`)",
    label = "not a matrix",
    note = "for an array of more axes, loop over the indices and assign each part, \
            `a.slice_mut(s![i, .., ..]).assign(&new)`"
)]
pub trait MatrixLanes {}
impl<S: ndarray::RawData> MatrixLanes for ndarray::ArrayBase<S, ndarray::Ix2> {}
impl<T: MatrixLanes + ?Sized> MatrixLanes for &T {}
impl<T: MatrixLanes + ?Sized> MatrixLanes for &mut T {}

/// The check, at a loop over a matrix's lanes by mutable reference, that it is one.
#[inline(always)]
pub fn lanes_of_matrix<M: MatrixLanes + ?Sized>(_: &M) {}

/// The length along `axis` of a window's shape or step as ndarray takes it (`(3, 3)`, `[3, 3]`,
/// `k.dim()`): `for w in u.windows(k.dim())` of a matrix is the loop over the windows'
/// positions `#[differentiate]` writes it as.
#[inline(always)]
pub fn shape_part<E: ndarray::IntoDimension>(shape: E, axis: usize) -> usize {
    use ndarray::Dimension;
    shape.into_dimension().slice()[axis]
}

/// ndarray's owned array types, which the gradient of a view parameter
/// (`b: ArrayView1<'_, f64>`) is named by in the generated signatures, whether or not the user's
/// crate imports them.
pub mod arrays {
    pub use ndarray::{
        Array, Array0, Array1, Array2, Array3, Array4, Array5, Array6, ArrayD, ShapeBuilder,
    };
}

/// A zero gradient shaped like `x`: the start of an adjoint that receives contributions from
/// more than one place.
#[inline(always)]
pub fn zero_like<T: Primal + ?Sized>(x: &T) -> T::Tangent {
    x.zero_tangent()
}

/// What a parameter of a type of the user's own, differentiated because `wrt(..)` does not
/// leave it out, must be: called at the parameter's type, so that an enum of settings or a
/// struct without `#[derive(Differentiable)]` is an error there that says what to write.
#[inline(always)]
pub fn active_parameter<T: ActiveParameter + ?Sized>() {}

/// A type a differentiated parameter may have: one with a gradient type.
#[diagnostic::on_unimplemented(
    message = "this parameter is differentiated, but `{Self}` has no gradient type",
    label = "a parameter of a type of your own is differentiated unless `wrt(..)` leaves it out",
    note = "name the parameters to differentiate, `#[differentiate(wrt(x, w))]`, leaving this \
            one out (an enum of settings, a configuration), or derive `Differentiable` (and \
            `Clone`) for a struct of parameters"
)]
pub trait ActiveParameter {}

impl<T: Primal + ?Sized> ActiveParameter for T {}

/// A type a differentiated function returns from inside a loop: the value is carried out of
/// the loop in a variable that starts from `Default::default()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is returned from inside a loop, which needs `{Self}: Default` in a \
               differentiated function",
    label = "a `return` inside this loop",
    note = "the returned value is carried out of the loop in a variable that starts from \
            `Default::default()`: derive `Default` on the type (`#[derive(Clone, Default, \
            Differentiable)]`), or keep the value in a variable declared before the loop, leave \
            the loop with `break` and return the variable after it"
)]
pub trait ReturnedFromLoop: Default {}

impl<T: Default> ReturnedFromLoop for T {}

/// The value a `return` inside a loop is carried in before the loop sets it.
#[inline(always)]
pub fn returned_from_loop<T: ReturnedFromLoop>() -> T {
    T::default()
}

/// `adjoint += contribution`.
#[inline(always)]
pub fn acc<T: Differentiable>(adjoint: &mut T, contribution: T) {
    adjoint.add_assign(&contribution);
}

/// What a field's adjoint is given: its gradient, or `()` where the value read from the field
/// went into a call's argument of a type without gradients (`n_in: l.n_in` of a `usize` field,
/// copied into a struct literal), which the call's gradient gives `()`: nothing to add.
pub trait FieldContribution<T> {
    /// `adjoint += self`.
    fn add_to(self, adjoint: &mut T);
}

impl<T: Differentiable> FieldContribution<T> for T {
    #[inline(always)]
    fn add_to(self, adjoint: &mut T) {
        adjoint.add_assign(&self);
    }
}

impl<T> FieldContribution<T> for () {
    #[inline(always)]
    fn add_to(self, _: &mut T) {}
}

/// `adjoint.field += contribution`, `contribution` a gradient of the field or `()` (see
/// [`FieldContribution`]).
#[inline(always)]
pub fn acc_field<T, C: FieldContribution<T>>(adjoint: &mut T, contribution: C) {
    contribution.add_to(adjoint);
}

/// A result type `*_grad` can seed with `1`: a scalar.
#[diagnostic::on_unimplemented(
    message = "`_grad` needs a scalar (`f32` or `f64`) result, found `{Self}`",
    label = "not a scalar",
    note = "use the generated `_vjp` function and pass a cotangent of the result's type"
)]
pub trait ScalarOutput: Sized {
    /// The seed `1` of the backward pass.
    fn one() -> Self;
}

/// `f32`, `f64`, and a type parameter bounded by [`Real`].
impl<T: Real> ScalarOutput for T {
    #[inline(always)]
    fn one() -> Self {
        T::ONE
    }
}

/// The seed of `*_grad`, typed by the primal result it seeds.
#[inline(always)]
pub fn seed<T: ScalarOutput>(_primal: &T) -> T {
    T::one()
}

/// A literal with the type of the value it replaces: `t = 2.0` after `let mut t = g(x)` is
/// written `typed_like(&t_1, 2.0)` where the generated code cannot name `t`'s type (rustc
/// infers it from `g`), so that a method called on it (`t.sqrt()`) has a receiver of a known
/// type. `_like` is only read for its type.
#[inline(always)]
pub fn typed_like<T>(_like: &T, value: T) -> T {
    value
}

/// `n` as a float of the type rustc infers at the call: the macro writes a count beside a
/// differentiated value as `typed_like(&x, count_as(i))` (`Array1::linspace(a, b, n)` is `a +
/// step · i`), a constant of `x`'s type, where it cannot name that type.
#[inline(always)]
pub fn count_as<T: Real>(n: usize) -> T {
    T::of_f64(n as f64)
}

/// The gradient a callee returned for an array lent to it, as the array's gradient: a callee
/// that takes a slice (`&[f64]`) returns a `Vec`, one that takes the array returns the array.
#[inline(always)]
pub fn grad_as<A: ?Sized + GradOfLent<G>, G>(_like: &A, g: G) -> A::Grad {
    A::convert(g)
}

/// A witness of a value's type, of no size: what the forward pass keeps for the pullback where
/// the pullback converts a gradient by the value's type ([`grad_as`], [`grad_as_field`]) and
/// reads nothing else of the value, so that the value itself is not kept.
pub struct TypeOf<A: ?Sized>(std::marker::PhantomData<fn() -> *const A>);

impl<A: ?Sized> Clone for TypeOf<A> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: ?Sized> Copy for TypeOf<A> {}

/// The witness of `_v`'s type.
#[inline(always)]
pub fn type_of<A: ?Sized>(_v: &A) -> TypeOf<A> {
    TypeOf(std::marker::PhantomData)
}

impl<A: ?Sized> TypeOf<A> {
    /// [`grad_as`] by the witnessed type.
    #[inline(always)]
    pub fn grad_as<G>(self, g: G) -> A::Grad
    where
        A: GradOfLent<G>,
    {
        A::convert(g)
    }

    /// [`grad_as_field`] by the witnessed type.
    #[inline(always)]
    pub fn grad_as_field<G>(self, g: G) -> A::Grad
    where
        A: GradOfField<G>,
    {
        A::convert(g)
    }
}

/// What [`grad_as`] converts: the gradient type `G` a callee returned for a lent `Self`.
#[diagnostic::on_unimplemented(
    message = "the gradient a call returned for `{Self}` has the type `{G}`",
    label = "an array lent to a function must get back a gradient of its own length"
)]
pub trait GradOfLent<G> {
    /// `Self`'s gradient type.
    type Grad;
    /// `g` as `Self`'s gradient.
    fn convert(g: G) -> Self::Grad;
}

impl<T, const N: usize> GradOfLent<Vec<T>> for [T; N] {
    type Grad = [T; N];
    #[inline]
    fn convert(g: Vec<T>) -> [T; N] {
        let n = g.len();
        g.try_into().unwrap_or_else(|_| {
            panic!("a callee returned a gradient of {n} elements for an array of {N}")
        })
    }
}

impl<T, const N: usize> GradOfLent<[T; N]> for [T; N] {
    type Grad = [T; N];
    #[inline(always)]
    fn convert(g: [T; N]) -> [T; N] {
        g
    }
}

/// `a.to_vec()` of a one-dimensional ndarray array: the `Vec`'s adjoint as the array's.
impl<S: ndarray::Data> GradOfLent<Vec<S::Elem>> for ndarray::ArrayBase<S, ndarray::Ix1> {
    type Grad = ndarray::Array1<S::Elem>;
    #[inline]
    fn convert(g: Vec<S::Elem>) -> ndarray::Array1<S::Elem> {
        ndarray::Array1::from(g)
    }
}

/// `v.to_vec()` of a `Vec` or slice the macro did not know for one: the adjoint as it is.
impl<T> GradOfLent<Vec<T>> for Vec<T> {
    type Grad = Vec<T>;
    #[inline(always)]
    fn convert(g: Vec<T>) -> Vec<T> {
        g
    }
}

impl<T> GradOfLent<Vec<T>> for [T] {
    type Grad = Vec<T>;
    #[inline(always)]
    fn convert(g: Vec<T>) -> Vec<T> {
        g
    }
}

impl<A: ?Sized + GradOfLent<G>, G> GradOfLent<G> for &A {
    type Grad = A::Grad;
    #[inline(always)]
    fn convert(g: G) -> A::Grad {
        A::convert(g)
    }
}

/// The gradient a callee returned for a field lent to it (`dot(&p.w, x)`), as the field's
/// gradient: a callee that takes a slice returns a `Vec`, which a field declared as an array
/// (`w: [f64; 3]`) gets as an array; a callee that takes the field's own type returns that.
/// The macro does not know the field's type, `_like` (the field, by reference) names it.
#[inline(always)]
pub fn grad_as_field<A: GradOfField<G>, G>(_like: &A, g: G) -> A::Grad {
    A::convert(g)
}

/// What [`grad_as_field`] converts: the gradient type `G` a callee returned for a lent field of
/// type `Self`.
#[diagnostic::on_unimplemented(
    message = "the gradient a call returned for a field of type `{Self}` has the type `{G}`",
    label = "a field lent to a function must get back a gradient of its own type or, for an \
             array lent as a slice, of its own length",
    note = "a field of a type of your own that holds no derivative (an enum marked \
            `#[differentiable(data)]`), given a method or lent to a function, is declared data \
            with `impl autodiff::Data for {Self} {{}}`"
)]
pub trait GradOfField<G> {
    /// `Self`'s gradient type.
    type Grad;
    /// `g` as `Self`'s gradient.
    fn convert(g: G) -> Self::Grad;
}

impl<T: Differentiable> GradOfField<T> for T {
    type Grad = T;
    #[inline(always)]
    fn convert(g: T) -> T {
        g
    }
}

impl<T, const N: usize> GradOfField<Vec<T>> for [T; N] {
    type Grad = [T; N];
    #[inline]
    fn convert(g: Vec<T>) -> [T; N] {
        <[T; N] as GradOfLent<Vec<T>>>::convert(g)
    }
}

/// `v.to_vec()` of a one-dimensional ndarray array a call returned (whose type the macro does
/// not see): the `Vec`'s adjoint as the array's, as [`GradOfLent`] takes it.
impl<S: ndarray::Data> GradOfField<Vec<S::Elem>> for ndarray::ArrayBase<S, ndarray::Ix1> {
    type Grad = ndarray::Array1<S::Elem>;
    #[inline]
    fn convert(g: Vec<S::Elem>) -> ndarray::Array1<S::Elem> {
        ndarray::Array1::from(g)
    }
}

/// A field of data lent to a function (`gather(&s.w, &s.idx)` of `idx: Vec<usize>`): the call's
/// gradient has no entry for it (`()`), nor has the field's adjoint anything to add.
impl<T: DataField + ?Sized> GradOfField<()> for T {
    type Grad = ();
    #[inline(always)]
    fn convert(_: ()) {}
}

/// Calls macro `$m` with Rust's integer types (and any types given after it): the one list
/// of them that `DataField`, `CastSource` and `Integer` are implemented for.
macro_rules! with_integer_types {
    ($m:ident $(, $extra:ty)*) => {
        $m!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize $(, $extra)*);
    };
}

/// The types of a parameter struct's fields of data, as `#[derive(Differentiable)]` takes them:
/// integers, `bool`s, `char`s, strings, and `Vec`s, arrays, slices, tuples, `Option`s, `Box`es,
/// `Rc`s, `Arc`s, `Cow`s and ndarray arrays of them, and types of the user's declared data. What such a field is assigned (`s.n_in = 3`, `Dense { n_in:
/// l.n_in - 1, ..m }`, `s.idx = vec![1, 0]`) has no gradient, and the field holds no part of the
/// struct's; lent to a function, the field takes the `()` the call's gradient has for it.
///
/// Public as `autodiff::Data`: a type of your own that holds no derivative (an enum choosing an
/// activation, a setting) kept in a parameter struct's field marked `#[differentiable(data)]`
/// is declared data with `impl autodiff::Data for Act {}`, which lets differentiated code call
/// its methods on the field (`self.act.apply(z)`) and lend the field to functions. Matching the
/// field (`match self.act { Act::Soft(beta) => .. }`) needs only the field's mark.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is taken for a field's data, but is not an integer, `bool`, `char`, \
               string, or a `Vec`, array, tuple or `Option` of them",
    label = "a field's data",
    note = "a field of a differentiated struct assigned a value computed from integers takes an \
            integer, `bool`, `char` or string",
    note = "a type of your own that holds no derivative (an enum) is declared data with `impl \
            autodiff::Data for {Self} {{}}`"
)]
pub trait DataField {}

/// `DataField` for each scalar type of data.
macro_rules! data_field_scalars {
    ($($t:ty),*) => {$(impl DataField for $t {})*};
}
with_integer_types!(data_field_scalars, bool, char, str, String);
impl<T: DataField> DataField for Vec<T> {}
impl<T: DataField> DataField for [T] {}
impl<T: DataField, const N: usize> DataField for [T; N] {}
impl<T: DataField> DataField for Option<T> {}
impl<T: DataField + ?Sized> DataField for Box<T> {}
impl<T: DataField + ?Sized> DataField for std::rc::Rc<T> {}
impl<T: DataField + ?Sized> DataField for std::sync::Arc<T> {}
impl<T: DataField + ToOwned + ?Sized> DataField for std::borrow::Cow<'_, T> {}
impl<T: DataField + ?Sized> DataField for &T {}
impl<S: ndarray::RawData, D> DataField for ndarray::ArrayBase<S, D> where S::Elem: DataField {}

/// `DataField` for tuples whose elements all are.
macro_rules! data_field_tuples {
    ($(($($T:ident),+)),*) => {$(impl<$($T: DataField),+> DataField for ($($T,)+) {})*};
}
data_field_tuples!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F)
);

/// The receiver of a method of the user's struct written as a method call (`p.scaled(k)`), as
/// the method's generated function takes it: `&p` for a method taking `&self`, a copy of `p`
/// for one taking `self` (the call moved `p`, so nothing reads it after). rustc infers which
/// from the function's first parameter.
#[inline(always)]
pub fn receiver<'a, T, R: Receiver<'a, T>>(t: &'a T) -> R {
    R::receiver(t)
}

/// The result of a method named like a shape query (`len`, `nrows`, `shape`, `is_empty`, ..),
/// which the derivative takes for a constant: a length, a count, a flag or a shape. A float is
/// not one, and the error this bound gives says so, rather than a zero derivative through a
/// struct's own `len` (a vector's length).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is the result of a method named like a shape query (`len`, `nrows`, \
               `shape`, `capacity`, `is_empty`, ..), which the derivative takes for a constant",
    label = "a method of this name is taken for a length or a shape here",
    note = "on a value the macro does not see to be a struct of yours, `len` and the like are \
            taken for a container's; if this is your struct's own method with a float result, \
            call it through the type (`V2::len(&v)`) or rename it (`norm`, `length`)"
)]
pub trait ShapeQueryResult {}

/// `impl $tr for` each type, for a trait without items.
macro_rules! marker_impls {
    ($tr:ident: $($t:ty),*) => {$(impl $tr for $t {})*};
}
marker_impls!(
    ShapeQueryResult:
    usize,
    u8,
    u16,
    u32,
    u64,
    isize,
    i8,
    i16,
    i32,
    i64,
    bool,
    &[usize],
    &[isize],
    (usize, usize),
    (usize, usize, usize),
    (usize, usize, usize, usize)
);

/// The result of a method of the user's struct cast to a float (`m.n_layers() as f64`): a
/// count, which runs as written.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is the result of a method of yours cast to a float, which the derivative \
               takes for a count (an integer)",
    label = "a method whose result is cast is run as written, without a derivative",
    note = "a method with a float result is differentiated where it is not cast: bind the \
            result to a local first and cast that (`let s: f64 = v.size(); s as f32`), or drop \
            the `as`"
)]
pub trait CountResult {}

marker_impls!(CountResult: usize, u8, u16, u32, u64, u128, isize, i8, i16, i32, i64, i128);

/// `n`, checked to be an integer ([`CountResult`]).
#[inline(always)]
pub fn count_result<Q: CountResult>(n: Q) -> Q {
    n
}

/// `q`, a shape query's result, checked to be a length, a flag or a shape
/// ([`ShapeQueryResult`]).
#[inline(always)]
pub fn shape_query<Q: ShapeQueryResult>(q: Q) -> Q {
    q
}

/// What [`receiver`] makes of `&T`: the reference itself, or a copy. Anything else is a method
/// taking `&mut self` called for its value, or one taking `self` of a type without `Clone`.
#[diagnostic::on_unimplemented(
    message = "a method of `{T}` called in a differentiated function cannot take its receiver as \
               `{Self}`",
    label = "a method of `{T}` is called on this value",
    note = "a method taking `&mut self` is followed where it returns nothing (`s.step(dt);`); one \
            that returns a value takes `mut self` and returns the new state with the value \
            instead, `fn sample(mut self) -> (Self, f64)`, called as `let (next, y) = \
            s.sample(); s = next;`",
    note = "a method taking `self` is given a copy of the receiver: `{T}` must implement `Clone`"
)]
pub trait Receiver<'a, T> {
    /// `t` as the receiver.
    fn receiver(t: &'a T) -> Self;
}

impl<'a, T> Receiver<'a, T> for &'a T {
    #[inline(always)]
    fn receiver(t: &'a T) -> Self {
        t
    }
}

impl<T: Clone> Receiver<'_, T> for T {
    #[inline(always)]
    fn receiver(t: &T) -> Self {
        t.clone()
    }
}

/// The tangent of an array lent to a callee, as the callee's tangent type: a `Vec` for a callee
/// that takes a slice, the array for one that takes the array (rustc infers which from the
/// callee's forward rule).
#[inline(always)]
pub fn lent_tangent<A: TangentForLent<T>, T>(d: A) -> T {
    d.convert()
}

/// What [`lent_tangent`] converts an array's tangent `Self` into.
pub trait TangentForLent<T> {
    /// `self` as `T`.
    fn convert(self) -> T;
}

impl<T, const N: usize> TangentForLent<Vec<T>> for [T; N] {
    #[inline]
    fn convert(self) -> Vec<T> {
        self.into()
    }
}

/// A tangent of the callee's own type (an array lent to a callee that takes the array, a `Vec`
/// the macro took for an array it may be, a field of any type lent to a callee that takes
/// it): as it is.
impl<T> TangentForLent<T> for T {
    #[inline(always)]
    fn convert(self) -> T {
        self
    }
}

/// The source of a differentiated `as` cast: a float, whose cotangent is the float's, or an
/// integer of a type the macro does not see (`p.n as f64` of a parameter struct's `n: usize`,
/// `1.0 / g.deg[u] as f64`), which has no derivative: its cotangent is `()`, which the field it
/// was read from takes as nothing, and its tangent is zero, whatever the tangent of the data it
/// was read from holds (a data field's tangent is a copy of the data).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cast with `as` is differentiated here as a float",
    label = "read as a differentiated value, which `{Self}` cannot be",
    note = "an integer read from a differentiated value (a parameter struct's `n_in: usize`) is \
            data where the macro sees its type: bind it to a local of a declared type first \
            (`let n: usize = l.n_in;`, then `n as f64`), or use it as an index or a loop bound"
)]
pub trait CastSource {
    /// The cotangent the source receives.
    type Cot;
    /// The cotangent `g` of the cast's result, converted back to the source.
    fn cot<T: Real>(g: &T) -> Self::Cot;
    /// The tangent `dx` of the source as an `f64`, for the cast of the tangent.
    fn tangent_f64(dx: &Self) -> f64;
}

impl<S: Real> CastSource for S {
    type Cot = S;
    #[inline(always)]
    fn cot<T: Real>(g: &T) -> S {
        S::of_f64(g.as_f64())
    }
    #[inline(always)]
    fn tangent_f64(dx: &S) -> f64 {
        dx.as_f64()
    }
}

/// `CastSource` for the integer types: no derivative.
macro_rules! integer_cast_sources {
    ($($t:ty),*) => {$(
        impl CastSource for $t {
            type Cot = ();
            #[inline(always)]
            fn cot<T: Real>(_: &T) {}
            #[inline(always)]
            fn tangent_f64(_: &$t) -> f64 {
                0.0
            }
        }
    )*};
}
with_integer_types!(integer_cast_sources);

/// Backward rule of an `as` cast to a float: the cotangent converted back to the source type
/// (nothing for an integer source).
#[inline(always)]
pub fn cast_vjp<S: CastSource, T: Real>(_x: &S, g: &T) -> S::Cot {
    S::cot(g)
}

/// The positions of `v`'s elements in the order `v.sort_unstable_by(..)` leaves them in, where
/// `cmp(i, j)` compares the elements at positions `i` and `j`: `v.sort_unstable_by(f)` is then
/// `v[k] = old[order[k]]`. An unstable sort may put elements that compare equal in any order,
/// so sorting the positions themselves (`usize`s) could order the ties of distinct elements
/// (`sort_unstable_by_key(|a| (a * 2.0) as i64)`) otherwise than the sort of the elements the
/// function runs as written, and the derivative would be of another result. The standard
/// library's unstable sort takes its path through its code from the length, the results of the
/// comparisons and the element type's size, alignment and kind (`Copy`, interior mutability),
/// not from the values: the positions are sorted here in slots of the element type's layout,
/// `MaybeUninit<T>`, which the same sort moves exactly as it moves the elements, each slot
/// holding its position in its first bytes. An element type narrower than a `u32` (none of
/// the floats or rows the macro sorts) has its positions sorted as `usize`s.
pub fn unstable_sort_order<T>(
    v: &[T],
    mut cmp: impl FnMut(&usize, &usize) -> core::cmp::Ordering,
) -> Vec<usize> {
    use core::mem::{MaybeUninit, size_of};
    let n = v.len();
    let wide = size_of::<T>() >= size_of::<usize>();
    if !wide && (size_of::<T>() < size_of::<u32>() || n > u32::MAX as usize) {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by(cmp);
        return order;
    }
    let slot = |k: usize| {
        let mut s = MaybeUninit::<T>::uninit();
        // SAFETY: the slot has room for a `usize` where `wide`, for a `u32` otherwise (both
        // checked above); the writes are unaligned, so `T`'s alignment does not matter.
        unsafe {
            if wide {
                s.as_mut_ptr().cast::<usize>().write_unaligned(k);
            } else {
                s.as_mut_ptr().cast::<u32>().write_unaligned(k as u32);
            }
        }
        s
    };
    // SAFETY: every slot was made by `slot`, and the sort moves slots whole, so the bytes read
    // are the ones written there.
    let at = |s: &MaybeUninit<T>| unsafe {
        if wide {
            s.as_ptr().cast::<usize>().read_unaligned()
        } else {
            s.as_ptr().cast::<u32>().read_unaligned() as usize
        }
    };
    let mut slots: Vec<MaybeUninit<T>> = (0..n).map(slot).collect();
    slots.sort_unstable_by(|a, b| cmp(&at(a), &at(b)));
    slots.iter().map(at).collect()
}

/// Moves a per-iteration record off a loop's stack in the backward pass. The forward pass pushed
/// exactly as many records as the backward pass pops, so an empty stack is a bug in the generator.
#[inline(always)]
pub fn pop<T>(stack: &mut Vec<T>) -> T {
    match stack.pop() {
        Some(t) => t,
        None => {
            unreachable!("autodiff: backward pass popped more records than the forward pass pushed")
        }
    }
}

/// Copies the elements of an array of floats that the backward pass reads into `buffer`, the
/// one buffer of that array for every iteration of its loop, and returns where they are: the
/// loop's stack keeps that instead of a copy of the array, which would allocate once per
/// iteration. `records` is how many more records the loop's stack has room for (it is reserved
/// for the whole nest of loops when their trip counts are known): the buffer grows once, for
/// that many arrays of this length.
#[inline(always)]
pub fn push_elems<E: Copy, A: AsRef<[E]> + ?Sized>(
    buffer: &mut Vec<E>,
    a: &A,
    records: usize,
) -> (usize, usize) {
    let elems = a.as_ref();
    let at = buffer.len();
    if buffer.capacity() - at < elems.len() {
        buffer.reserve(elems.len().saturating_mul(records.max(1)));
    }
    buffer.extend_from_slice(elems);
    (at, elems.len())
}

/// The elements [`push_elems`] copied, where it said they are.
#[inline(always)]
pub fn elems_at<E>(buffer: &[E], (at, len): (usize, usize)) -> &[E] {
    &buffer[at..at + len]
}

/// Moves an adjoint out, leaving a zero of the same shape: the carried adjoints of a loop at the
/// start of each backward iteration.
#[inline(always)]
pub fn take<T: Differentiable>(adjoint: &mut T) -> T {
    let zero = adjoint.zero_like();
    core::mem::replace(adjoint, zero)
}

/// Moves an adjoint out, leaving a zero of the given shape: the carried adjoint of a loop whose
/// body changes the length of what it carries.
#[inline(always)]
pub fn take_to<S: crate::differentiable::ZerosOfShape + ?Sized>(
    adjoint: &mut S::Tangent,
    shape: &ShapeOf<S>,
) -> S::Tangent {
    let zero = S::zeros_like(&shape.dims, adjoint);
    core::mem::replace(adjoint, zero)
}

/// Backward rule of an element read `y = x[i]`: `x̄[i] += ȳ`.
#[inline(always)]
pub fn acc_index<A: crate::differentiable::IndexAdjoint<I>, I: Copy>(
    adjoint: &mut A,
    i: &I,
    g: A::Elem,
) {
    adjoint.add_at(*i, g);
}

/// `adjoint[i] += contribution` of an element of a parameter struct's field read by element
/// (`s̄.w[i] += ḡ`), `contribution` the element's adjoint, or `()` where the element is data lent
/// to a call whose gradient has no entry for it (a row of `adj: Vec<Vec<usize>>`): nothing to
/// add.
#[inline(always)]
pub fn acc_field_index<A, I: Copy, C: IndexContribution<A, I>>(
    adjoint: &mut A,
    i: &I,
    contribution: C,
) {
    contribution.add_at(adjoint, *i);
}

/// What [`acc_field_index`] adds: an element's adjoint, or `()` for data.
pub trait IndexContribution<A, I> {
    /// `adjoint[i] += self`.
    fn add_at(self, adjoint: &mut A, i: I);
}

impl<A, I, T> IndexContribution<A, I> for T
where
    A: crate::differentiable::IndexAdjoint<I, Elem = T>,
    T: Differentiable,
{
    #[inline(always)]
    fn add_at(self, adjoint: &mut A, i: I) {
        adjoint.add_at(i, self);
    }
}

impl<A, I> IndexContribution<A, I> for () {
    #[inline(always)]
    fn add_at(self, _: &mut A, _: I) {}
}

/// The shape of `x`, saved where a rule needs only that.
#[inline(always)]
pub fn shape_of<T: HasShape + ?Sized>(x: &T) -> ShapeOf<T> {
    ShapeOf::of(x)
}

/// Backward rule of an element write `y = x; y[i] = v`: moves `ȳ[i]` out (it is `v̄`), leaving
/// zero, so that the rest of `ȳ` is `x̄`.
#[inline(always)]
pub fn take_index<A, I>(adjoint: &mut A, i: &I) -> A::Elem
where
    A: crate::differentiable::IndexAdjoint<I>,
    I: Copy,
{
    adjoint.take_at(*i)
}

/// A copy of `adjoint[i]`: an element's adjoint read by the contribution of a write that adds
/// to the element (`a[i] += e`), which leaves that adjoint where it is.
#[inline(always)]
pub fn read_index<A, I>(adjoint: &A, i: &I) -> A::Elem
where
    A: crate::differentiable::IndexAdjoint<I>,
    I: Copy,
{
    adjoint.read_at(*i)
}

/// A zero adjoint of the given shape.
#[inline(always)]
pub fn zeros_of_shape<T: crate::differentiable::ZerosOfShape + ?Sized>(
    shape: &ShapeOf<T>,
) -> T::Tangent {
    crate::differentiable::assert_shapeless_zero!(T::FROM_SHAPE);
    T::zeros(&shape.dims)
}

pub use crate::elementwise::{
    Captured, CapturedCopy, CapturedRef, DataElems, captured_partial, elem_one, elem_zero, elems,
    map_jvp, map_plain, map_vjp, map_vjp_jvp,
};
pub use crate::kinks;
pub use crate::place;
pub use crate::spread::{
    No, NoTan, Probe, ProbeNo, ProbeYes, Tan, Yes, call_jvp, no_tan, spread, tan,
};

/// The value `Iterator::sum` starts from, as the standard library's does: `-0.0` for floats (the
/// identity of IEEE addition, so that a sum of nothing is `-0.0`), `0` for integers. Generated
/// code calls it where the type of a sum is not known when the macro runs (a type parameter).
#[diagnostic::on_unimplemented(
    message = "`sum()` of `{Self}` items in a differentiated function",
    label = "a sum the macro follows adds floats",
    note = "a sum of structs goes through your `impl Sum`, which the macro does not see: write it \
            as a `fold` from your zero with your `#[differentiate]` operator, \
            `.fold(V2 {{ x: 0.0, y: 0.0 }}, |acc, v| acc + v)`"
)]
pub trait SumStart {
    /// The start of a sum.
    fn sum_start() -> Self;
}

impl<T: Real> SumStart for T {
    #[inline(always)]
    fn sum_start() -> T {
        T::of_f64(-0.0)
    }
}

/// `impl $tr for` each integer type, `$f()` returning `$v`.
macro_rules! integer_start {
    ($tr:ident $f:ident $v:literal) => {
        integer_start!($tr $f $v; u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);
    };
    ($tr:ident $f:ident $v:literal; $($t:ty)*) => {$(
        impl $tr for $t {
            #[inline(always)]
            fn $f() -> $t {
                $v
            }
        }
    )*};
}
integer_start!(SumStart sum_start 0);

/// The start of a `sum()` lowered to a loop (see [`SumStart`]).
#[inline(always)]
pub fn sum_start<T: SumStart>() -> T {
    T::sum_start()
}

/// The value `Iterator::product` starts from: `1.0` for floats, `1` for integers. Generated code
/// calls it where the type of a product is not known when the macro runs.
pub trait ProductStart {
    /// The start of a product.
    fn product_start() -> Self;
}

impl<T: Real> ProductStart for T {
    #[inline(always)]
    fn product_start() -> T {
        T::of_f64(1.0)
    }
}

integer_start!(ProductStart product_start 1);

/// The start of a `product()` lowered to a loop (see [`ProductStart`]).
#[inline(always)]
pub fn product_start<T: ProductStart>() -> T {
    T::product_start()
}

/// Reserves room on a loop's stack for the records of a whole nest of `for` loops (the product
/// of their trip counts, known when the outermost starts), so that the inner loops never grow
/// it again. Nests that may leave early can record far fewer than the product, so the up-front
/// reservation stops at 64 MiB; the inner loops still reserve their own trip count on entry,
/// which costs one comparison when the room is already there.
#[inline]
pub fn reserve_nest<T>(stack: &mut Vec<T>, records: usize) {
    const LIMIT_BYTES: usize = 64 << 20;
    let cap = LIMIT_BYTES / core::mem::size_of::<T>().max(1);
    stack.reserve(records.min(cap));
}

/// Pushes a loop iteration's record onto a stack whose capacity the loop reserved on entry (a
/// `for` loop over a range reserves its trip count). Unlike `Vec::push`, the fast path has no
/// call that could reallocate, so the stack's pointer and length stay in registers and the
/// values being recorded are not forced through memory.
#[inline(always)]
pub fn push_reserved<T>(stack: &mut Vec<T>, record: T) {
    let len = stack.len();
    if len < stack.capacity() {
        // SAFETY: `len < capacity`, so slot `len` is allocated and uninitialised; writing it
        // and then growing the length by one keeps every element initialised.
        unsafe {
            stack.as_mut_ptr().add(len).write(record);
            stack.set_len(len + 1);
        }
    } else {
        reserve_broken()
    }
}

#[cold]
#[inline(never)]
fn reserve_broken() -> ! {
    panic!("autodiff: a loop recorded more iterations than it reserved room for")
}

// ---- checkpointed loops (see `crate::checkpoint`) -------------------------------------------

pub use crate::checkpoint::{Action, Checkpointer};

/// The checkpointer of a `for` loop over `range`: the binomial schedule for its trip count.
#[inline]
pub fn checkpointer_binomial<I: Iterator, S>(range: &I, snapshots: usize) -> Checkpointer<S> {
    Checkpointer::binomial(range.size_hint().0, snapshots)
}

/// The loop index of iteration `k` (counted from 0) of a `for` loop over `range`: ranges and
/// their reversals find it in constant time.
#[inline]
pub fn range_nth<I: Iterator>(mut range: I, k: usize) -> I::Item {
    match range.nth(k) {
        Some(i) => i,
        None => unreachable!("autodiff: a checkpointed loop has no iteration {k}"),
    }
}

/// The current state of a checkpointed loop's backward sweep, moved out: an
/// [`Action::Restore`] set it, and every [`Action::Advance`] or [`Action::Reverse`] follows one
/// or an `Advance`.
#[inline]
pub fn checkpoint_state<S>(current: &mut Option<S>) -> S {
    match current.take() {
        Some(s) => s,
        None => unreachable!("autodiff: a checkpointed loop's backward sweep has no state"),
    }
}

/// Ends the forward sweep of a checkpointed loop that ran `n` iterations; the checkpointer goes
/// to the backward sweep.
#[inline]
pub fn checkpoint_finish<S>(mut cp: Checkpointer<S>, n: usize) -> Checkpointer<S> {
    cp.finish(n);
    cp
}

/// Makes a finished backward sweep's figures available to [`crate::checkpoint::last_stats`].
#[inline]
pub fn checkpoint_done<S>(cp: &Checkpointer<S>) {
    crate::checkpoint::set_last_stats(cp.stats());
}

/// The type `M` of field `H` of a struct, `H` the key of the field's name.
///
/// `self.layer.forward(x)` in a `#[differentiate]` method is the call
/// `FieldTy::<Self, H, _>::forward(&self.layer, x)`: a path, so that the generated code can call
/// `forward_vjp` and `forward_jvp` on the field's type, which the macro, seeing only the method,
/// cannot name; rustc infers `M` from the one impl with key `H`. `#[derive(Differentiable)]`
/// implements it for every field. `M` is a parameter, not only the associated type, so that the
/// impl is no more visible than the field's type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say the types of its fields to `#[differentiate]`",
    label = "a method called on a field of this struct",
    note = "derive `Differentiable` on the struct, or call the method through the field's type: \
            `Layer::forward(&self.layer, x)`"
)]
pub trait Field<const H: u64, M: ?Sized> {
    /// The field's type, `M`.
    type Ty: ?Sized;
}

/// The zero of a field marked `#[differentiable(data)]` in a struct's zeros, gradients and
/// tangents: a zero where the field's type has one (running statistics, `Array1<f64>`, read as
/// constants: their tangent is zero), else a copy of the value (an enum choosing the
/// activation). `(&&DataZero(&self.f)).zero_or_copy()`, [`ZeroOfData`] found first where it
/// applies.
pub struct DataZero<'a, T>(pub &'a T);

/// A marked data field of a type with a zero (see [`DataZero`]).
pub trait ZeroOfData<T> {
    /// The zero shaped like the field.
    fn zero_or_copy(&self) -> T;
}

impl<T: Differentiable> ZeroOfData<T> for &DataZero<'_, T> {
    #[inline(always)]
    fn zero_or_copy(&self) -> T {
        self.0.zero_like()
    }
}

/// A marked data field of another type (see [`DataZero`]).
pub trait CopyOfData<T> {
    /// A copy of the field.
    fn zero_or_copy(&self) -> T;
}

impl<T: Clone> CopyOfData<T> for &&DataZero<'_, T> {
    #[inline(always)]
    fn zero_or_copy(&self) -> T {
        self.0.clone()
    }
}

/// The type of field `H` of `S` (see [`Field`]).
pub type FieldTy<S, const H: u64, M> = <S as Field<H, M>>::Ty;

/// The element type of a container indexed by a position: `self.layers[i].forward(x)` is the
/// call `Elem::<FieldTy<Self, H, _>>::forward(&self.layers[i], x)`.
pub type Elem<C> = <C as core::ops::Index<usize>>::Output;

/// Every type, as itself.
pub trait Itself {
    /// `Self`.
    type Ty;
}

impl<T> Itself for T {
    type Ty = T;
}

/// `T`, spelled so that rustc does not take the function returning it for a constructor of `T`
/// to suggest: the struct literal's function that `#[derive(Differentiable)]` writes returns
/// `Same<Self>`, and an error about another associated function of the struct (a method without
/// `_vjp`) does not point to it.
pub type Same<T> = <T as Itself>::Ty;

/// A field of a struct that a `#[differentiate]` function assigns (`s.x = ..`, `s.v[i] += ..`
/// on a local `s`): the assignment is the function [`set_field`] of the struct and the new
/// value, whose derivatives move the field's part of the struct's adjoint to the value.
/// `#[derive(Differentiable)]` implements it for every field, `H` the key of the field's name
/// (as for [`Field`]); `M` is a parameter so that the impl is no more visible than the field's
/// type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has a field assigned in a `#[differentiate]` function, but does not \
               derive `Differentiable`",
    label = "a field of this struct is assigned with a differentiated value involved",
    note = "derive `Differentiable` (and `Clone`) on the struct, or keep the field's value in a \
            local variable"
)]
pub trait SetField<const H: u64, M> {
    /// The field.
    fn field_mut(&mut self) -> &mut M;
}

/// The key of a field's name, as `#[derive(Differentiable)]` and `#[differentiate]` compute it
/// (FNV-1a of the name's bytes): the `H` of [`Field`] and [`SetField`].
pub const fn field_key(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h = (h ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

/// The fields of a tuple by position, assigned as `t.0 = v` (`pts[i].0 *= w`, `p.1 = ..` of
/// `for p in pts.iter_mut()`): field `k` has the key of the name `k`.
macro_rules! tuple_set_fields {
    ($all:tt $($name:ident $idx:tt),+) => {
        $(tuple_set_field!($all $name $idx);)+
    };
}
macro_rules! tuple_set_field {
    ([$($all:ident),+] $name:ident $idx:tt) => {
        // Not offered in the error for a struct without the derive.
        #[diagnostic::do_not_recommend]
        impl<$($all),+> SetField<{ field_key(stringify!($idx)) }, $name> for ($($all,)+) {
            #[inline(always)]
            fn field_mut(&mut self) -> &mut $name {
                &mut self.$idx
            }
        }
    };
}
tuple_set_fields!([A] A 0);
tuple_set_fields!([A, B] A 0, B 1);
tuple_set_fields!([A, B, C] A 0, B 1, C 2);
tuple_set_fields!([A, B, C, D] A 0, B 1, C 2, D 3);
tuple_set_fields!([A, B, C, D, E] A 0, B 1, C 2, D 3, E 4);
tuple_set_fields!([A, B, C, D, E, F] A 0, B 1, C 2, D 3, E 4, F 5);
tuple_set_fields!([A, B, C, D, E, F, G] A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_set_fields!([A, B, C, D, E, F, G, H] A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_set_fields!([A, B, C, D, E, F, G, H, I] A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_set_fields!([A, B, C, D, E, F, G, H, I, J] A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_set_fields!([A, B, C, D, E, F, G, H, I, J, K] A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_set_fields!([A, B, C, D, E, F, G, H, I, J, K, L] A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// `s.field = v`, as a function: the struct with field `H` replaced.
#[inline]
pub fn set_field<const H: u64, S: SetField<H, M>, M>(mut s: S, v: M) -> S {
    *s.field_mut() = v;
    s
}

/// The adjoint of [`set_field`]: the struct's adjoint with the field's part moved out, which is
/// the value's adjoint; what the field held before is overwritten, so its adjoint is `zero`, a
/// zero shaped like it (a `Vec` field may have had another length: `s.v.push(x)`).
#[inline]
fn set_field_pullback<const H: u64, S: SetField<H, M>, M: Differentiable>(
    mut g: S,
    zero: M,
) -> (S, M) {
    let gv = core::mem::replace(g.field_mut(), zero);
    (g, gv)
}

/// A zero shaped like the field of `s` that [`set_field`] overwrites.
#[inline]
fn old_zero<const H: u64, S: SetField<H, M>, M: Differentiable>(s: &mut S) -> M {
    s.field_mut().zero_like()
}

/// [`set_field`] with its pullback.
#[inline]
#[allow(clippy::type_complexity)]
pub fn set_field_vjp<const H: u64, S: SetField<H, M>, M: Differentiable>(
    mut s: S,
    v: M,
) -> (S, impl FnOnce(S) -> (S, M)) {
    let zero = old_zero(&mut s);
    (set_field(s, v), move |g| {
        set_field_pullback::<H, S, M>(g, zero)
    })
}

/// [`set_field`] with its tangent: the tangent with the value's tangent in the field.
#[inline]
pub fn set_field_jvp<const H: u64, S: SetField<H, M>, M>(s: S, v: M, ds: S, dv: M) -> (S, S) {
    (set_field(s, v), set_field(ds, dv))
}

/// [`set_field`] with its tangent and pullback (exact derivatives at kinks).
#[inline]
#[allow(clippy::type_complexity)]
pub fn set_field_vjp_along<const H: u64, S: SetField<H, M>, M: Differentiable>(
    s: S,
    v: M,
    ds: S,
    dv: M,
) -> (S, S, impl FnOnce(S) -> (S, M)) {
    let (y, pullback) = set_field_vjp::<H, S, M>(s, v);
    (y, set_field(ds, dv), pullback)
}

/// [`set_field`] with its tangent, and its pullback with the pullback's tangent (Hessians).
#[inline]
#[allow(clippy::type_complexity)]
pub fn set_field_vjp_jvp<const H: u64, S: SetField<H, M>, M: Differentiable>(
    mut s: S,
    v: M,
    ds: S,
    dv: M,
) -> (S, S, impl FnOnce(S, S) -> ((S, M), (S, M))) {
    let zero = old_zero(&mut s);
    let dzero = zero.clone();
    (set_field(s, v), set_field(ds, dv), move |g: S, dg: S| {
        (
            set_field_pullback::<H, S, M>(g, zero),
            set_field_pullback::<H, S, M>(dg, dzero),
        )
    })
}

/// An operand of arithmetic with an integer literal (`l.n_in - 1`), which the generated code
/// runs as integer arithmetic, without derivatives.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is combined with an integer literal in a differentiated function, which \
               is taken for integer arithmetic",
    label = "taken for an integer",
    note = "arithmetic with an integer literal (`n - 1`, `2 * k`) is run as integer arithmetic; \
            an operator of your own struct with an integer (`impl Mul<i32> for V`) is followed \
            where its left operand is known to be the struct (a parameter of its type, a \
            variable first bound to one); on a field, call it through its type, `V::mul(b.v, 2)`"
)]
pub trait Integer {}

macro_rules! integers {
    ($($t:ty),*) => { $(impl Integer for $t {})* };
}
with_integer_types!(integers);
impl<T: Integer + ?Sized> Integer for &T {}
impl<T: Integer + ?Sized> Integer for &mut T {}

/// `x`, checked to be an integer (see [`Integer`]).
#[inline(always)]
pub fn integer<T: Integer>(x: T) -> T {
    x
}

/// `s.field = v` of a field of data (`v` an integer, a `bool`, ..): the struct with the field
/// replaced, as [`set_field`].
#[inline]
pub fn set_data_field<const H: u64, S: SetField<H, M>, M: DataField>(s: S, v: M) -> S {
    set_field(s, v)
}

/// [`set_data_field`] with its pullback: the struct's adjoint is the base's (the field of data
/// holds none of it), and `v` has no gradient.
#[inline]
pub fn set_data_field_vjp<const H: u64, S: SetField<H, M>, M: DataField>(
    s: S,
    v: M,
) -> (S, impl FnOnce(S) -> S) {
    (set_field(s, v), |g| g)
}

/// [`set_data_field`] with its tangent: the base's tangent with the value in the field, as a
/// data field's tangent holds its value (see `#[derive(Differentiable)]`).
#[inline]
pub fn set_data_field_jvp<const H: u64, S: SetField<H, M>, M: DataField + Clone>(
    s: S,
    v: M,
    ds: S,
) -> (S, S) {
    (set_field(s, v.clone()), set_field(ds, v))
}

/// [`set_data_field`] with its tangent and pullback (exact derivatives at kinks).
#[inline]
#[allow(clippy::type_complexity)]
pub fn set_data_field_vjp_along<const H: u64, S: SetField<H, M>, M: DataField + Clone>(
    s: S,
    v: M,
    ds: S,
) -> (S, S, impl FnOnce(S) -> S) {
    let (y, dy) = set_data_field_jvp::<H, S, M>(s, v, ds);
    (y, dy, |g| g)
}

/// [`set_data_field`] with its tangent, and its pullback with the pullback's tangent (Hessians).
#[inline]
#[allow(clippy::type_complexity)]
pub fn set_data_field_vjp_jvp<const H: u64, S: SetField<H, M>, M: DataField + Clone>(
    s: S,
    v: M,
    ds: S,
) -> (S, S, impl FnOnce(S, S) -> (S, S)) {
    let (y, dy) = set_data_field_jvp::<H, S, M>(s, v, ds);
    (y, dy, |g, dg| (g, dg))
}

/// What a struct literal of a type without `#[derive(Differentiable)]` needs in a
/// `#[differentiate]` function, said by the bound of the stand-ins for the literal's functions
/// that the generated code declares beside the call (a local trait implemented for every type,
/// found only where the struct has no functions of its own from the derive): implemented by no
/// type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is built from differentiated values in a `#[differentiate]` function, \
               but does not derive `Differentiable`",
    label = "a struct literal holding a differentiated value",
    note = "derive `Differentiable` (and `Clone`) on the struct, or keep its fields as local \
            variables"
)]
pub trait DerivesDifferentiable {}

/// What calling the `_grad` of a function whose result type is named like a float alias
/// (`-> Real`) needs: that the name is `f64` or `f32`, whose `one` is the seed. The `_grad` is
/// bound by `for<'a> &'a (): GradOfScalarResult<R>`, which rustc checks where it is called, not
/// where it is defined: a struct so named (`Value`) is this error at the call, as is any call
/// of the stand-in `_grad` of another result (see [`NoGrad`]).
#[diagnostic::on_unimplemented(
    message = "`_grad` is generated for a function whose result type is written `f64` or `f32` \
               (or a float type parameter), which this function's is not",
    label = "this function has no `_grad`: its result type is not written as a float",
    note = "the macro reads the result type as written and cannot see through a type alias \
            (`type R64 = f64;`) unless it is named like one (`Real`, `Float`, `Scalar`, ..): \
            for a scalar result write `-> f64`; for any other result call `_vjp` and give its \
            pullback the result's cotangent"
)]
pub trait GradOfScalarResult<R> {
    /// The seed of the result's gradient, `1`.
    fn one() -> R;
}

#[diagnostic::do_not_recommend]
impl GradOfScalarResult<f64> for &() {
    fn one() -> f64 {
        1.0
    }
}

#[diagnostic::do_not_recommend]
impl GradOfScalarResult<f32> for &() {
    fn one() -> f32 {
        1.0
    }
}

/// The result type in the bound of the stand-in `_grad` of a function whose result type is
/// written otherwise (a tuple, a struct, a `Vec`, an alias the macro does not take for a
/// float): `for<'a> &'a (): GradOfScalarResult<NoGrad<R>>`, met by no type, so that calling it
/// is that trait's error, never code that runs.
pub struct NoGrad<R>(core::marker::PhantomData<R>);

/// What calling the `_grad` of a function that writes through a `&mut` float parameter
/// (`*state = a * *state + v` of `state: &mut f64`) and returns a value needs, and no type
/// meets: such a function is followed where a differentiated function calls it, through its
/// by-value copies, but the function as written has no `_grad` of its own. Its stand-in
/// `_grad`, bound by `for<'a> &'a (): GradOfWrittenThrough`, makes the call this error, which
/// says what to write, instead of rustc's "cannot find function". Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "this function writes through a `&mut` float parameter, which its own `_grad` \
               cannot follow",
    label = "this function has no `_grad`: it writes through a `&mut` float parameter",
    note = "to differentiate it alone, leave the `&mut` parameter out of `wrt(..)` \
            (`#[differentiate(wrt(a, x))]` beside `state: &mut f64`): it is then data, written \
            as the function writes it, what the function reads back of it carrying its \
            derivative, and the function has a `_grad`; as it is, the function is followed where \
            a differentiated function calls it with `&mut` of a `mut` variable"
)]
pub trait GradOfWrittenThrough {}

/// What a differentiated function calling a method that takes `&mut self` and other `&mut`
/// parameters (`opt.update(&mut w, &g)`) on something other than a `mut` local variable (an
/// element, `opts[k].update(..)`, or a field, `self.opt.update(..)`) needs of it: a by-value
/// copy returning the buffers alone, which such a method does not have (its new state would be
/// lost). On a `mut` local the call is followed through the method's copy taking the struct as
/// a `&mut` parameter; in place of the other it has stand-ins bound by `for<'a> &'a ():
/// MutSelfWithBuffers`, so that the call is this error, not rustc's "no associated item named
/// `__ad_mut_update`". Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "this method takes `&mut self` and other `&mut` parameters, which a differentiated \
               function follows on a `mut` local variable only",
    label = "a method writing into `self` and into another `&mut` argument, called on something \
             other than a `mut` local variable",
    note = "copy the struct into a `mut` local, call the method on it and write it back (`let mut \
            opt = opts[k].clone(); opt.update(&mut w, &g); opts[k] = opt;`), which is followed"
)]
pub trait MutSelfWithBuffers {}

/// What a differentiated function lending `&mut` a value to a function needs of it: that the
/// function follows what it writes there. One whose `wrt(..)` leaves out every `&mut` parameter
/// of a type other than floats (a workspace struct, `ws: &mut Ws`) takes them as data and has
/// no by-value copies; in place of the copies' pullbacks (`__ad_mut_f_vjp`, `__ad_mutv_f_vjp`)
/// it has stand-ins bound by `for<'a> &'a (): WritesFollowed`, so that a differentiated
/// caller's call is this error, not rustc's "cannot find function `__ad_mutv_f_vjp`".
/// Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "this function's `wrt(..)` leaves out its `&mut` parameters, so a differentiated \
               function cannot follow what it writes into them",
    label = "a differentiated function lends a value `&mut` to this function, declared with a \
             `wrt(..)` that leaves its `&mut` parameters out",
    note = "what it writes there may depend on the differentiated values: pass the floats it \
            writes in a buffer of floats (`&mut Vec<f64>`, `&mut [f64]`) and give the function \
            the default activity (`#[differentiate]` without `wrt`), so that its writes are \
            followed; for a state that carries no derivative (a random generator, `rng: &mut \
            Lcg`), draw what the function needs in the caller (`let u = rng.next();`) and pass \
            that, or call it where no differentiated value reaches it"
)]
pub trait WritesFollowed {}

/// What a function called from a `#[differentiate(hessian)]` function needs: its second
/// derivatives. A `#[differentiate]` function without `hessian` has, in place of its
/// `_vjp_jvp`, a stand-in whose bound `for<'a> &'a (): DifferentiatedWithHessian` no type
/// meets: called from a caller's second order, it is this error at the call, never code that
/// runs. Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "a `#[differentiate(hessian)]` function calls a function differentiated without \
               `hessian`",
    label = "this call needs the second derivatives of the function it calls",
    note = "add `hessian` to the called function's attribute: `#[differentiate(hessian)]` (on \
            its impl block, where the attribute is there)"
)]
pub trait DifferentiatedWithHessian {}

/// What calling `f_hvp` needs: `#[differentiate(hessian)]` on `f`. A function differentiated
/// without it has, in place of its `_hvp`, a stand-in whose bound
/// `for<'a> &'a (): HvpWithHessian` no type meets, so that the call is this error, not rustc's
/// "cannot find function" with its suggestion to call `_jvp`. Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "`_hvp` is generated for a function marked `#[differentiate(hessian)]`",
    label = "this function is differentiated without `hessian`, and has no `_hvp`",
    note = "write `#[differentiate(hessian)]` on the function (with its other options: \
            `#[differentiate(wrt(x), hessian)]`), and on the functions it calls"
)]
pub trait HvpWithHessian {}

/// What a differentiated function calling `f_grad` on differentiated values needs: the
/// derivative of a gradient, a second derivative, which `#[differentiate(hessian)]` on `f`
/// generates (`f_grad_vjp` and `f_grad_jvp`, through `f_hvp`). Without it, a stand-in whose
/// bound `for<'a> &'a (): GradCalledWithHessian` no type meets is in their place, so that the
/// call is this error, not rustc's "cannot find function `f_grad_vjp`". Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "a differentiated function calls a generated `_grad` on differentiated values, \
               whose function is differentiated without `hessian`",
    label = "the derivative of this gradient is a second derivative of the function it is of",
    note = "write `#[differentiate(hessian)]` on that function (with its other options: \
            `#[differentiate(wrt(w), hessian)]`), whose `_grad` is then followed through its \
            `_hvp`; or write the gradient out as code in the caller or in a helper with \
            `#[differentiate]` of its own"
)]
pub trait GradCalledWithHessian {}

/// What a derivative of a generated item that is itself a second or third derivative would
/// need: `f_jvp` or `f_hvp` called on differentiated values inside a differentiated function
/// (or `f_grad` inside a `hessian` function's second order), whose derivatives are not
/// generated. A stand-in whose bound `for<'a> &'a (): NestedDerivativeWrittenOut` no type
/// meets is in their place. Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "a differentiated function calls a generated `_jvp` or `_hvp` (or, in a \
               `hessian` function, `_grad`) on differentiated values: its derivative is not \
               generated",
    label = "the derivative of this call would be a derivative of a derivative the macro does \
             not generate",
    note = "write the inner derivative out as code in a helper with `#[differentiate]` of its \
            own (`fn u_x(x: f64, th: &[f64]) -> f64` of the closed form, or a central \
            difference of `u`), which is followed; a first derivative's `_grad` of a function \
            with `hessian` is followed in a function without `hessian`"
)]
pub trait NestedDerivativeWrittenOut {}

/// What a `#[differentiate(kinks = exact)]` function calling a generated `_grad`, `_jvp` or
/// `_hvp` on differentiated values would need: that item's one-sided derivatives at kinks,
/// which are not generated. A stand-in whose bound `for<'a> &'a ():
/// NestedDerivativeAtKinks` no type meets is in their place. Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "a `kinks = exact` function calls a generated `_grad`, `_jvp` or `_hvp` on \
               differentiated values: its derivative in exact mode is not generated",
    label = "exact mode would need the one-sided derivative of this derivative",
    note = "call it from a function without `kinks = exact` (a `hessian` function's `_grad` is \
            followed there), or write the inner derivative out as code in the function or in \
            a helper with `#[differentiate(kinks = exact)]` of its own"
)]
pub trait NestedDerivativeAtKinks {}

/// What calling `f_hvp` needs besides `hessian`: a result that is a float, whose Hessian the
/// product is of. A `hessian` function with another result (a `Vec`, a tuple, a struct) has, in
/// place of its `_hvp`, a stand-in whose bound `for<'a> &'a (): HvpOfScalarResult` no type
/// meets. Implemented by no type.
#[diagnostic::on_unimplemented(
    message = "`_hvp` is generated for a function whose result is a float",
    label = "this function's result is not written as a float, and it has no Hessian",
    note = "the second order of a function with another result is its `_vjp_jvp`: the \
            pullback of its tangent along a direction; or write a function returning the \
            float whose Hessian you want"
)]
pub trait HvpOfScalarResult {}

/// `v.flatten()` of a view by value, borrowing what the view borrows (not the view itself): the
/// elements in row-major order, without a copy where the view is in standard layout.
pub fn flatten_view<'a, T: Clone, D: ndarray::Dimension>(
    v: ndarray::ArrayView<'a, T, D>,
) -> ndarray::CowArray<'a, T, ndarray::Ix1> {
    let n = v.len();
    if v.is_standard_layout() {
        if let Ok(flat) = v.into_shape_with_order(n) {
            return flat.into();
        }
        unreachable!("a view in standard layout has a row-major shape of its length");
    }
    ndarray::Array1::from_iter(v.iter().cloned()).into()
}

/// `v.broadcast(shape).unwrap()` of a view by value: a copy of the broadcast view (ndarray's
/// `broadcast` borrows the view it is called on, which is a temporary here).
#[track_caller]
pub fn broadcast_view<T: Clone, D: ndarray::Dimension, E: ndarray::IntoDimension>(
    v: ndarray::ArrayView<'_, T, D>,
    shape: E,
) -> ndarray::Array<T, E::Dim> {
    match v.broadcast(shape) {
        Some(b) => b.to_owned(),
        None => panic!(
            "broadcast: an array of shape {:?} does not broadcast to the shape given",
            v.shape()
        ),
    }
}

/// `n` as the float type of `like` (a count in a formula written out for a generic float).
#[inline]
pub fn count_like<T: Real>(_like: &T, n: usize) -> T {
    T::of_f64(n as f64)
}

/// What the generated code iterates as a vector, by index: a field of a parameter iterated
/// (`p.w1.iter()`) is checked to be one, as the macro does not see its type.
#[diagnostic::on_unimplemented(
    message = "the elements of `{Self}` are iterated here as a vector's, by one index",
    label = "the macro does not see this field's type, and takes it for a vector",
    note = "for an array of more than one dimension, iterate its elements in row-major order \
            through `flatten`, which is followed: `p.w.flatten().iter()` for `p.w.iter()`; or \
            put the structs and the function in a module marked `#[differentiate]`, where the \
            macro sees the field's type"
)]
pub trait IteratedAsVector {}
impl<T> IteratedAsVector for [T] {}
impl<T> IteratedAsVector for Vec<T> {}
impl<T, const N: usize> IteratedAsVector for [T; N] {}
impl<T> IteratedAsVector for std::collections::VecDeque<T> {}
impl<T: IteratedAsVector + ?Sized> IteratedAsVector for &T {}
impl<T: IteratedAsVector + ?Sized> IteratedAsVector for &mut T {}
impl<T: IteratedAsVector + ?Sized> IteratedAsVector for Box<T> {}
impl<T: IteratedAsVector + ?Sized> IteratedAsVector for std::rc::Rc<T> {}
impl<T: IteratedAsVector + ?Sized> IteratedAsVector for std::sync::Arc<T> {}
impl<T: IteratedAsVector + ToOwned + ?Sized> IteratedAsVector for std::borrow::Cow<'_, T> {}
impl<S: ndarray::RawData> IteratedAsVector for ndarray::ArrayBase<S, ndarray::Ix1> {}

/// Checks at compile time that `x` is iterated as a vector ([`IteratedAsVector`]).
#[inline(always)]
pub fn iterated_as_vector<T: IteratedAsVector + ?Sized>(_x: &T) {}

/// [`IteratedAsVector`] of what a function or method returned (`let h = layer(x);` then
/// `h.iter()`), whose number of axes the macro does not see either.
#[diagnostic::on_unimplemented(
    message = "the elements of `{Self}` are iterated here as a vector's, by one index",
    label = "the macro does not see the type of what this function returned, and takes it for a vector",
    note = "for an array of more than one dimension, iterate its elements in row-major order \
            through `flatten`, which is followed (`h.flatten().iter()` for `h.iter()`), or \
            declare the variable with its type (`let h: Array2<f64> = layer(x);`); an iterator \
            a function returns (`-> impl Iterator`) is collected into a `Vec` first, `let ps: \
            Vec<(usize, usize)> = pairs(n).collect();`"
)]
pub trait ResultIteratedAsVector {}
impl<T> ResultIteratedAsVector for [T] {}
impl<T> ResultIteratedAsVector for Vec<T> {}
impl<T, const N: usize> ResultIteratedAsVector for [T; N] {}
impl<T> ResultIteratedAsVector for std::collections::VecDeque<T> {}
impl<T: ResultIteratedAsVector + ?Sized> ResultIteratedAsVector for &T {}
impl<T: ResultIteratedAsVector + ?Sized> ResultIteratedAsVector for &mut T {}
impl<T: ResultIteratedAsVector + ?Sized> ResultIteratedAsVector for Box<T> {}
impl<T: ResultIteratedAsVector + ?Sized> ResultIteratedAsVector for std::rc::Rc<T> {}
impl<T: ResultIteratedAsVector + ?Sized> ResultIteratedAsVector for std::sync::Arc<T> {}
impl<T: ResultIteratedAsVector + ToOwned + ?Sized> ResultIteratedAsVector
    for std::borrow::Cow<'_, T>
{
}
impl<S: ndarray::RawData> ResultIteratedAsVector for ndarray::ArrayBase<S, ndarray::Ix1> {}

/// Checks at compile time that `x` is iterated as a vector ([`ResultIteratedAsVector`]).
#[inline(always)]
pub fn result_iterated_as_vector<T: ResultIteratedAsVector + ?Sized>(_x: &T) {}

/// A value a pattern bound through a reference: `c` in `Mode::Damp(c) => x * c` of `match m`
/// with `m: &Mode` is a `&f64`. Generated code reads it as [`bound_payload!`]: the value itself
/// where its type is `Copy` ([`BoundCopy`], a float), the reference otherwise ([`BoundRef`]),
/// chosen by method resolution, which tries `&Bound` before `&&Bound`.
pub struct Bound<'a, T>(pub &'a T);

/// [`Bound`] of a `Copy` value: the value.
pub trait BoundCopy<T> {
    /// The value.
    fn payload(&self) -> T;
}

impl<T: Copy> BoundCopy<T> for Bound<'_, T> {
    #[inline(always)]
    fn payload(&self) -> T {
        *self.0
    }
}

/// [`Bound`] of any other value: the reference.
pub trait BoundRef<'a, T> {
    /// The reference.
    fn payload(&self) -> &'a T;
}

impl<'a, T> BoundRef<'a, T> for &Bound<'a, T> {
    #[inline(always)]
    fn payload(&self) -> &'a T {
        self.0
    }
}

/// `bound_payload!(c)`: the value of `c: &T` where `T` is `Copy`, `c` itself otherwise (see
/// [`Bound`]).
#[doc(hidden)]
#[macro_export]
macro_rules! __ad_bound_payload {
    ($c:ident) => {{
        #[allow(unused_imports)]
        use $crate::__private::{BoundCopy as _, BoundRef as _};
        (&$crate::__private::Bound($c)).payload()
    }};
}
pub use crate::__ad_bound_payload as bound_payload;
