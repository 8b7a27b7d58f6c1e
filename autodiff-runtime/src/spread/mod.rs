//! Matching a callee's derivatives to the arguments of a call, by type.
//!
//! Inside a differentiated function, a call `g(a, b, c)` is differentiated through `g_vjp`,
//! whose pullback returns one gradient per *differentiable* parameter of `g` (the bare gradient
//! when there is one, a tuple when there are several), or through `g_jvp`, which takes one
//! tangent per differentiable parameter after `g`'s own parameters. Which parameters those are
//! is decided by their types (the default rule of `#[differentiate]`: anything that implements
//! [`Primal`]), and only rustc knows the types of the arguments. So the generated code asks
//! rustc: for each argument it builds a [`Yes`] or [`No`] marker by autoref specialization on
//! `Primal` ([`Probe`]), and then
//!
//! - [`spread`] distributes a pullback's gradient over the arguments, with `()` for the others;
//! - [`call_jvp`] calls a forward rule with the arguments followed by one tangent per `Yes`.
//!
//! A callee whose derivatives do not fit (one declared with `wrt(..)` that leaves out a float
//! parameter) is a compile error at the call, never a misattributed gradient.
//!
//! Both work on type-level lists, so the number of impls grows with the number of
//! arguments a call may have (up to 16), not with the `2ⁿ` ways of marking them.

#[macro_use]
mod list;
mod forward;
mod reverse;

pub use forward::{NoTan, Tan, call_jvp, no_tan, tan};
pub use reverse::spread;

use crate::differentiable::Primal;
use list::Nil;

/// The argument is differentiable (its type implements [`Primal`]).
#[derive(Clone, Copy, Debug)]
pub struct Yes;
/// The argument is not differentiable.
#[derive(Clone, Copy, Debug)]
pub struct No;

/// A probe of an argument's type.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Chosen first, when the argument's type implements [`Primal`].
pub trait ProbeYes {
    /// The marker.
    fn marker(&self) -> Yes {
        Yes
    }
}
impl<T: Primal + ?Sized> ProbeYes for Probe<'_, T> {}

/// Chosen otherwise, through one more auto-reference.
pub trait ProbeNo {
    /// The marker.
    fn marker(&self) -> No {
        No
    }
}
impl<T: ?Sized> ProbeNo for &Probe<'_, T> {}

/// The markers of a call's arguments, a flat tuple of [`Yes`] and [`No`], as a list.
#[diagnostic::on_unimplemented(
    message = "a differentiated call can have at most 16 arguments",
    label = "this call has more than 16 arguments",
    note = "pass related arguments together, as a tuple, an array or a struct that \
            `#[derive(Differentiable, Clone)]`"
)]
pub trait Markers {
    /// `Cons<M0, Cons<M1, …, Nil>>`.
    type List;
}

#[diagnostic::do_not_recommend]
impl Markers for () {
    type List = Nil;
}

macro_rules! impl_markers {
    ($($T:ident $v:ident)*) => {
        #[diagnostic::do_not_recommend]
        impl<$($T: Marker),*> Markers for ($($T,)*) {
            type List = list_ty!($($T)*);
        }
    };
}
for_each_arg_count!(impl_markers);

/// [`Yes`] or [`No`].
pub trait Marker {}
impl Marker for Yes {}
impl Marker for No {}
