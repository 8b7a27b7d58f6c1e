//! [`spread`]: a pullback's gradient, distributed over a call's arguments.
//!
//! The markers `(M0, …, Mn-1)` become a list; [`Yeses`] keeps its `Yes`; [`GradientsFor`] reads
//! the gradient as that many gradients (bare for one, a tuple for several) into a list;
//! [`Distribute`] walks the markers, giving each `Yes` the head of the list and each `No` a `()`;
//! the result is flattened back into a tuple.

use super::list::{Cons, List, Nil};
use super::{Markers, No, Yes};

/// The [`Yes`] of a list of markers.
pub trait Yeses {
    /// A list of as many `Yes` as the markers have.
    type List: List;
}
impl Yeses for Nil {
    type List = Nil;
}
impl<T: Yeses> Yeses for Cons<Yes, T>
where
    Cons<Yes, T::List>: List,
{
    type List = Cons<Yes, T::List>;
}
impl<T: Yeses> Yeses for Cons<No, T> {
    type List = T::List;
}

/// A pullback's result read as one gradient per `Yes` of `Y` (a flat tuple of [`Yes`]): `()`
/// for none, the bare gradient for one, a tuple for several.
#[diagnostic::on_unimplemented(
    message = "the gradient of this call does not match its differentiable arguments",
    label = "the callee's pullback returns `{Self}`, not one gradient per differentiable argument",
    note = "a function called from differentiated code must return a gradient for every argument \
            of a differentiable type, in order (no `wrt(..)` that leaves one out); functions \
            that call each other with data there see each other's `wrt(..)` in a module that \
            carries the attribute (`#[differentiate] mod model {{ .. }}`), and methods in an \
            `impl` block that carries it"
)]
pub trait GradientsFor<Y> {
    /// The gradients as a list.
    type List;
    /// Splits the gradients into a list.
    fn into_list(self) -> Self::List;
}

#[diagnostic::do_not_recommend]
impl GradientsFor<()> for () {
    type List = Nil;
    #[inline(always)]
    fn into_list(self) -> Nil {
        Nil
    }
}

impl<G> GradientsFor<(Yes,)> for G {
    type List = Cons<G, Nil>;
    #[inline(always)]
    fn into_list(self) -> Self::List {
        Cons(self, Nil)
    }
}

/// `Yes`, once per binding it is given.
macro_rules! yes {
    ($T:ident) => {
        Yes
    };
}

macro_rules! impl_gradients_for {
    ($T:ident $v:ident) => {};
    ($($T:ident $v:ident)*) => {
        #[diagnostic::do_not_recommend]
        impl<$($T),*> GradientsFor<($(yes!($T),)*)> for ($($T,)*) {
            type List = list_ty!($($T)*);
            #[inline(always)]
            fn into_list(self) -> Self::List {
                List::from_tuple(self)
            }
        }
    };
}
for_each_arg_count!(impl_gradients_for);

/// Gives each [`Yes`] of a list of markers the next gradient of `GL`, and each [`No`] a `()`.
pub trait Distribute<GL> {
    /// One entry per marker.
    type Out: List;
    /// Distributes `g`.
    fn distribute(g: GL) -> Self::Out;
}

impl Distribute<Nil> for Nil {
    type Out = Nil;
    #[inline(always)]
    fn distribute(Nil: Nil) -> Nil {
        Nil
    }
}

impl<G, GT, T: Distribute<GT>> Distribute<Cons<G, GT>> for Cons<Yes, T>
where
    Cons<G, T::Out>: List,
{
    type Out = Cons<G, T::Out>;
    #[inline(always)]
    fn distribute(Cons(g, gt): Cons<G, GT>) -> Self::Out {
        Cons(g, T::distribute(gt))
    }
}

impl<GL, T: Distribute<GL>> Distribute<GL> for Cons<No, T>
where
    Cons<(), T::Out>: List,
{
    type Out = Cons<(), T::Out>;
    #[inline(always)]
    fn distribute(g: GL) -> Self::Out {
        Cons((), T::distribute(g))
    }
}

/// The flat tuple of the `Yes` of markers `M`: `(Yes, Yes)` for `(Yes, No, Yes)`.
type YesTuple<M> = <<<M as Markers>::List as Yeses>::List as List>::Tuple;

/// The gradient `G` distributed over markers `M`: one entry per argument, its gradient or `()`.
pub type Spread<M, G> = <<<M as Markers>::List as Distribute<
    <G as GradientsFor<YesTuple<M>>>::List,
>>::Out as List>::Tuple;

/// Distributes the gradient `g` of a call over its arguments, as the markers say: one entry per
/// argument, its gradient or `()`.
#[inline(always)]
pub fn spread<M, G>(markers: M, g: G) -> Spread<M, G>
where
    M: Markers<List: Yeses + Distribute<G::List>>,
    G: GradientsFor<YesTuple<M>>,
{
    let _ = markers;
    M::List::distribute(g.into_list()).into_tuple()
}
