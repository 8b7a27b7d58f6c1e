//! [`call_jvp`]: a forward rule called with a call's arguments and their tangents.
//!
//! A forward rule `g_jvp` takes `g`'s parameters, then one tangent per differentiable parameter,
//! in order: `&G` for a parameter taken by reference, `G` for one taken by value, where `G` is
//! the parameter's owned gradient type (a slice parameter's `&Vec<T>` may be taken as `&[T]`,
//! a view parameter's array as a view). The generated code knows neither `g`'s arity nor its
//! parameter types, only the call's markers and, per argument, a tangent or none, in a tuple of
//! [`Slot`]s that it owns:
//!
//! ```ignore
//! let mut tangents = (tan(da), no_tan(), tan(dc));
//! let (y, dy) = call_jvp(g_jvp, markers, (a, b, c), &mut tangents);
//! ```
//!
//! rustc reads the parameter list of `g_jvp` ([`Params`]), splits it after the call's arguments
//! ([`SplitAt`]), so the arguments are coerced to `g`'s parameter types as in a direct call, and
//! [`Tangents`] builds the rest from the slots: a tangent, or a zero shaped like its argument
//! for a differentiable argument without one, moved when the parameter is taken by value and
//! borrowed from the slot when it is taken by reference. The slots live in the caller, so a
//! result that borrows its tangents (the pullback of a forward-over-reverse rule) may outlive
//! the call.

use super::list::{Cons, List, Nil, Tuple};
use super::{Markers, No, Yes};
use crate::differentiable::Primal;

/// A tangent, or room for one.
///
/// An `Option` would do, but its tag may live in a niche of the tangent (the capacity of a
/// `Vec`), which the optimizer cannot follow from where the slot is filled to where it is read;
/// an explicit tag it can, so the check of a filled slot folds away.
#[repr(u8)]
pub enum Content<D> {
    /// A tangent.
    Full(D),
    /// No tangent, or one already moved out.
    Empty,
}

impl<D> Content<D> {
    /// Moves the tangent out, or returns `zero()`.
    #[inline(always)]
    fn take_or(&mut self, zero: impl FnOnce() -> D) -> D {
        match core::mem::replace(self, Content::Empty) {
            Content::Full(d) => d,
            Content::Empty => zero(),
        }
    }

    /// Borrows the tangent, putting `zero()` in first if there is none.
    #[inline(always)]
    fn get_or_insert(&mut self, zero: impl FnOnce() -> D) -> &D {
        if let Content::Empty = self {
            *self = Content::Full(zero());
        }
        match self {
            Content::Full(d) => d,
            Content::Empty => unreachable!("autodiff: a tangent slot was just filled"),
        }
    }
}

/// The slot of an argument's tangent, in the tuple that [`call_jvp`] borrows.
pub trait Slot {
    /// The tangent's type.
    type Tangent;
    /// The tangent, until it is moved out; room for a zero tangent otherwise.
    fn slot(&mut self) -> &mut Content<Self::Tangent>;
}

/// The tangent of an argument that is active in the caller.
pub struct Tan<D>(Content<D>);

/// No tangent: the argument is inactive in the caller. A zero tangent is made here if the callee
/// takes one; its type is then inferred from the callee.
pub struct NoTan<D>(Content<D>);

/// The slot of a tangent `d`.
#[inline(always)]
pub fn tan<D>(d: D) -> Tan<D> {
    Tan(Content::Full(d))
}

/// The slot of an argument without a tangent.
#[inline(always)]
pub fn no_tan<D>() -> NoTan<D> {
    NoTan(Content::Empty)
}

impl<D> Slot for Tan<D> {
    type Tangent = D;
    #[inline(always)]
    fn slot(&mut self) -> &mut Content<D> {
        &mut self.0
    }
}

impl<D> Slot for NoTan<D> {
    type Tangent = D;
    #[inline(always)]
    fn slot(&mut self) -> &mut Content<D> {
        &mut self.0
    }
}

/// The slot of a non-differentiable argument. A tangent there (the caller never has one) stays in
/// its slot and is dropped with it; the type of an empty slot there is fixed to `NoTan<()>`,
/// since nothing else would infer it.
pub trait Unused {}
impl<D> Unused for Tan<D> {}
impl Unused for NoTan<()> {}

/// A tangent parameter of a forward rule that a tangent of type `D` is passed as: `D` itself
/// (moved out of its slot) or `&D` (borrowed from it), or for a `Vec<T>`, `&[T]`, and for an
/// ndarray array, its view. The impls do not overlap, as `&D` is never `D`, `&[T]` is not `&D`
/// of a sized `D` and a view is neither an array nor a reference, so rustc picks one from the
/// rule's parameter type.
pub trait TangentParam<'s, D>: Sized {
    /// The tangent in `slot`, or `zero()` if it is empty.
    fn pass(slot: &'s mut Content<D>, zero: impl FnOnce() -> D) -> Self;
}

impl<'s, D> TangentParam<'s, D> for &'s D {
    #[inline(always)]
    fn pass(slot: &'s mut Content<D>, zero: impl FnOnce() -> D) -> Self {
        slot.get_or_insert(zero)
    }
}

/// A slice parameter's tangent taken as the slice it lends (`fn sumsq_jvp(x: &[f64], dx: &[f64])`,
/// as Rust code takes a `Vec` it does not own): the `Vec` tangent borrowed as a slice. No other
/// impl gives `&[T]` for a `Vec<T>` tangent (`&D` is `&Vec<T>`).
impl<'s, T> TangentParam<'s, Vec<T>> for &'s [T] {
    #[inline(always)]
    fn pass(slot: &'s mut Content<Vec<T>>, zero: impl FnOnce() -> Vec<T>) -> Self {
        slot.get_or_insert(zero).as_slice()
    }
}

/// A view parameter's tangent taken as a view (`fn ssq_jvp(x: ArrayView1<f64>, dx:
/// ArrayView1<f64>)`): the owned array tangent viewed.
impl<'s, A, D: ndarray::Dimension> TangentParam<'s, ndarray::Array<A, D>>
    for ndarray::ArrayView<'s, A, D>
{
    #[inline(always)]
    fn pass(
        slot: &'s mut Content<ndarray::Array<A, D>>,
        zero: impl FnOnce() -> ndarray::Array<A, D>,
    ) -> Self {
        slot.get_or_insert(zero).view()
    }
}

impl<D> TangentParam<'_, D> for D {
    #[inline(always)]
    fn pass(slot: &mut Content<D>, zero: impl FnOnce() -> D) -> Self {
        slot.take_or(zero)
    }
}

/// A function of the parameter list `PL` (a [`Cons`] list). rustc infers `PL` from a function
/// item, as only one length fits.
#[diagnostic::on_unimplemented(
    message = "a forward rule can have at most 32 parameters (16 arguments and their tangents)",
    label = "not a function of at most 32 parameters"
)]
pub trait Params<PL> {
    /// The result.
    type Output;
    /// Calls the function.
    fn call(self, params: PL) -> Self::Output;
}

macro_rules! impl_params {
    ($($T:ident $v:ident)*) => {
        #[diagnostic::do_not_recommend]
        impl<F: FnOnce($($T),*) -> R, R, $($T),*> Params<list_ty!($($T)*)> for F {
            type Output = R;
            #[inline(always)]
            fn call(self, list_val!($($v)*): list_ty!($($T)*)) -> R {
                self($($v),*)
            }
        }
    };
}
for_each_param_count!(impl_params);

/// A parameter list split after as many parameters as the list `ML` has markers.
#[diagnostic::on_unimplemented(
    message = "this forward rule takes fewer parameters than the call has arguments",
    label = "the call's arguments do not fit",
    note = "a forward rule `g_jvp` takes `g`'s parameters, then one tangent per parameter of a \
            differentiable type"
)]
pub trait SplitAt<ML> {
    /// The first parameters, one per marker.
    type Prefix: List;
    /// The other parameters.
    type Rest;
    /// The whole list again.
    fn join(prefix: Self::Prefix, rest: Self::Rest) -> Self;
}

impl<PL> SplitAt<Nil> for PL {
    type Prefix = Nil;
    type Rest = PL;
    #[inline(always)]
    fn join(Nil: Nil, rest: PL) -> PL {
        rest
    }
}

#[diagnostic::do_not_recommend]
impl<X, XT: SplitAt<MT>, M, MT> SplitAt<Cons<M, MT>> for Cons<X, XT>
where
    Cons<X, XT::Prefix>: List,
{
    type Prefix = Cons<X, XT::Prefix>;
    type Rest = XT::Rest;
    #[inline(always)]
    fn join(Cons(x, prefix): Self::Prefix, rest: XT::Rest) -> Self {
        Cons(x, XT::join(prefix, rest))
    }
}

/// Tangent parameters `TL` of a forward rule, made from a call's markers (`Self`), its arguments
/// `PL` and their slots `SL` (all [`Cons`] lists).
pub trait Tangents<'s, PL, SL, TL> {
    /// The tangent parameters.
    fn tangents(args: &PL, slots: SL) -> TL;
}

impl Tangents<'_, Nil, Nil, Nil> for Nil {
    #[inline(always)]
    fn tangents(_: &Nil, Nil: Nil) -> Nil {
        Nil
    }
}

#[diagnostic::do_not_recommend]
impl<'s, MT, X, PT, S, ST, TX, TT> Tangents<'s, Cons<X, PT>, Cons<&'s mut S, ST>, Cons<TX, TT>>
    for Cons<Yes, MT>
where
    X: Primal<Tangent: 's>,
    S: Slot<Tangent = X::Tangent>,
    TX: TangentParam<'s, X::Tangent>,
    MT: Tangents<'s, PT, ST, TT>,
{
    #[inline(always)]
    fn tangents(Cons(x, pt): &Cons<X, PT>, Cons(s, st): Cons<&'s mut S, ST>) -> Cons<TX, TT> {
        Cons(
            TX::pass(s.slot(), || x.zero_tangent()),
            MT::tangents(pt, st),
        )
    }
}

#[diagnostic::do_not_recommend]
impl<'s, MT, X, PT, S, ST, TL> Tangents<'s, Cons<X, PT>, Cons<&'s mut S, ST>, TL> for Cons<No, MT>
where
    S: Unused,
    MT: Tangents<'s, PT, ST, TL>,
{
    #[inline(always)]
    fn tangents(Cons(_, pt): &Cons<X, PT>, Cons(_, st): Cons<&'s mut S, ST>) -> TL {
        MT::tangents(pt, st)
    }
}

/// A tuple of [`Slot`]s, borrowed as a list of borrowed slots.
pub trait Slots<'s> {
    /// `Cons<&'s mut S0, Cons<&'s mut S1, …, Nil>>`.
    type List;
    /// Borrows each slot.
    fn slots(&'s mut self) -> Self::List;
}

impl Slots<'_> for () {
    type List = Nil;
    #[inline(always)]
    fn slots(&mut self) -> Nil {
        Nil
    }
}

/// The list type of borrowed slots: `slots_ty!('s; A B)` is
/// `Cons<&'s mut A, Cons<&'s mut B, Nil>>`.
macro_rules! slots_ty {
    ($s:lifetime;) => { Nil };
    ($s:lifetime; $h:ident $($t:ident)*) => { Cons<&$s mut $h, slots_ty!($s; $($t)*)> };
}

macro_rules! impl_slots {
    ($($T:ident $v:ident)*) => {
        impl<'s, $($T: 's),*> Slots<'s> for ($($T,)*) {
            type List = slots_ty!('s; $($T)*);
            #[inline(always)]
            fn slots(&'s mut self) -> Self::List {
                let ($($v,)*) = self;
                list_val!($($v)*)
            }
        }
    };
}
for_each_arg_count!(impl_slots);

/// The tangent parameters of a forward rule (`Self`, a flat tuple) that fit a call's arguments
/// `A` with markers `M` and tangent slots `S`: [`Tangents`] on flat tuples, which diagnostics show.
#[diagnostic::on_unimplemented(
    message = "the tangents of this forward rule do not match the call's differentiable arguments",
    label = "the forward rule takes the tangents `{Self}`",
    note = "a forward rule `g_jvp` takes `g`'s parameters, then one tangent per parameter of a \
            differentiable type, in order: `&G` for a parameter taken by reference, `G` for one \
            taken by value, where `G` is the parameter's gradient type (`&[T]` for a slice \
            parameter `&[T]` too, and a view for a view parameter; no `wrt(..)` that leaves \
            one out)"
)]
pub trait TangentsOf<'s, A: Tuple, M, S>: Tuple {
    /// The tangent parameters.
    fn tangents(args: &A::List, slots: &'s mut S) -> Self::List;
}

#[diagnostic::do_not_recommend]
impl<'s, T, A, M, S> TangentsOf<'s, A, M, S> for T
where
    T: Tuple,
    A: Tuple,
    M: Markers<List: Tangents<'s, A::List, S::List, T::List>>,
    S: Slots<'s>,
{
    #[inline(always)]
    fn tangents(args: &A::List, slots: &'s mut S) -> T::List {
        M::List::tangents(args, slots.slots())
    }
}

/// The parameters of `PL` that take a call's arguments, with markers `M`, as a flat tuple.
pub type Args<PL, M> = <<PL as SplitAt<<M as Markers>::List>>::Prefix as List>::Tuple;

/// The parameters of `PL` after a call's arguments, with markers `M`, as a flat tuple.
pub type TangentParams<PL, M> = <<PL as SplitAt<<M as Markers>::List>>::Rest as List>::Tuple;

/// Calls the forward rule `f` with a call's arguments `args` and, after them, one tangent per
/// [`Yes`] of `markers`, taken from `slots` (one per argument, made by [`tan`] and [`no_tan`]).
///
/// The tangent of a `Yes` argument without one is a zero shaped like the argument
/// ([`Primal::zero_tangent`]). The tangent of a `No` argument is not passed. The result is
/// whatever `f` returns: `(y, dy)` for a `g_jvp`, `(y, dy, pullback)` for a `g_vjp_jvp`.
#[inline(always)]
pub fn call_jvp<'s, F, M, PL, S>(f: F, markers: M, args: Args<PL, M>, slots: &'s mut S) -> F::Output
where
    F: Params<PL>,
    M: Markers,
    PL: SplitAt<M::List, Rest: List>,
    TangentParams<PL, M>: TangentsOf<'s, Args<PL, M>, M, S>,
{
    let _ = markers;
    let args = PL::Prefix::from_tuple(args);
    let tangents = TangentParams::<PL, M>::tangents(&args, slots);
    f.call(PL::join(args, tangents))
}
