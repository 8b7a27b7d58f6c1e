//! Type-level lists, and the tuples they stand for.
//!
//! A call's arguments, its markers, its gradients and a callee's parameters arrive as tuples of
//! every length. Recursion over a tuple needs one impl per length *and* per content, which grows
//! as `2ⁿ` with `Yes`/`No` contents; over a cons list it needs one impl per case of the head.
//! So the flat tuples are converted to [`Cons`] lists (one impl per length), processed
//! recursively, and converted back.

/// The empty list.
#[derive(Clone, Copy, Debug)]
pub struct Nil;

/// A list with head `H` and tail `T`.
#[derive(Clone, Copy, Debug)]
pub struct Cons<H, T>(pub H, pub T);

/// A list that converts to and from the flat tuple of its elements.
pub trait List: Sized {
    /// The flat tuple `(A0, A1, …)` of the elements.
    type Tuple: Tuple<List = Self>;
    /// The elements as a flat tuple.
    fn into_tuple(self) -> Self::Tuple;
    /// The list of a flat tuple's elements.
    fn from_tuple(t: Self::Tuple) -> Self;
}

/// A flat tuple, the form of a [`List`] that diagnostics show.
pub trait Tuple {
    /// `Cons<A0, Cons<A1, …, Nil>>`.
    type List: List<Tuple = Self>;
}

/// The list type of the given element types: `list_ty!(A B)` is `Cons<A, Cons<B, Nil>>`.
macro_rules! list_ty {
    () => { $crate::spread::list::Nil };
    ($h:ident $($t:ident)*) => { $crate::spread::list::Cons<$h, list_ty!($($t)*)> };
}

/// The list value or pattern of the given bindings: `list_val!(a b)` is `Cons(a, Cons(b, Nil))`.
macro_rules! list_val {
    () => { $crate::spread::list::Nil };
    ($h:ident $($t:ident)*) => { $crate::spread::list::Cons($h, list_val!($($t)*)) };
}

/// Invokes `$m!` once per length `1..=N` with the first `N` of the given `Type binding` pairs.
macro_rules! for_each_len {
    ($m:ident [$($done:tt)*] []) => {};
    ($m:ident [$($done:tt)*] [$T:ident $v:ident $($rest:tt)*]) => {
        $m!($($done)* $T $v);
        for_each_len!($m [$($done)* $T $v] [$($rest)*]);
    };
}

/// Invokes `$m!` once per length `1..=16` (the arguments of a call, see [`super::Markers`]),
/// with `Type binding` pairs.
macro_rules! for_each_arg_count {
    ($m:ident) => {
        for_each_len!($m [] [
            A0 a0 A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7
            A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14 A15 a15
        ]);
    };
}

/// Invokes `$m!` once per length `1..=32` (the parameters of a forward rule: a call's arguments
/// and their tangents), with `Type binding` pairs.
macro_rules! for_each_param_count {
    ($m:ident) => {
        for_each_len!($m [] [
            A0 a0 A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7
            A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14 A15 a15
            A16 a16 A17 a17 A18 a18 A19 a19 A20 a20 A21 a21 A22 a22 A23 a23
            A24 a24 A25 a25 A26 a26 A27 a27 A28 a28 A29 a29 A30 a30 A31 a31
        ]);
    };
}

impl Tuple for () {
    type List = Nil;
}

impl List for Nil {
    type Tuple = ();
    #[inline(always)]
    fn into_tuple(self) {}
    #[inline(always)]
    fn from_tuple((): ()) -> Self {
        Nil
    }
}

macro_rules! impl_list {
    ($($T:ident $v:ident)*) => {
        impl<$($T),*> Tuple for ($($T,)*) {
            type List = list_ty!($($T)*);
        }

        impl<$($T),*> List for list_ty!($($T)*) {
            type Tuple = ($($T,)*);
            #[inline(always)]
            fn into_tuple(self) -> Self::Tuple {
                let list_val!($($v)*) = self;
                ($($v,)*)
            }
            #[inline(always)]
            fn from_tuple(($($v,)*): Self::Tuple) -> Self {
                list_val!($($v)*)
            }
        }
    };
}
for_each_arg_count!(impl_list);
