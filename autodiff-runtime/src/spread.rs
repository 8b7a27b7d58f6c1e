//! Matching a callee's gradient to the arguments of a call, by type.
//!
//! Inside a differentiated function, a call `g(a, b, c)` is differentiated through `g_vjp`,
//! whose pullback returns one gradient per *differentiable* parameter of `g`: the bare gradient
//! when there is one, a tuple when there are several. Which parameters those are is decided by
//! their types (the default rule of `#[differentiate]`: anything that implements [`Primal`]),
//! and only rustc knows the types of the arguments. So the generated code asks rustc: for each
//! argument it builds a [`Yes`] or [`No`] marker by autoref specialization on `Primal`, and
//! [`spread`] distributes the gradient over the arguments, with `()` for the others. A callee
//! whose gradient does not fit (one declared with `wrt(..)` that leaves out a float parameter)
//! is a compile error here, never a misattributed gradient.
//!
//! The impls are generated for calls of up to 6 arguments.

use crate::differentiable::Primal;

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

/// Distributes a pullback's gradient over a call's arguments.
#[diagnostic::on_unimplemented(
    message = "the gradient of this call does not match its differentiable arguments",
    note = "a function called from differentiated code must return a gradient for every argument \
            of a differentiable type, in order (no `wrt(..)` that leaves one out)"
)]
pub trait Spread<G> {
    /// One entry per argument: its gradient, or `()`.
    type Out;
    /// Distributes `g`.
    fn spread(self, g: G) -> Self::Out;
}

/// Distributes the gradient `g` of a call over its arguments, as the markers say.
#[inline(always)]
pub fn spread<S: Spread<G>, G>(markers: S, g: G) -> S::Out {
    markers.spread(g)
}

impl<G0> Spread<G0> for (Yes,) {
    type Out = (G0,);
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        (g,)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, Yes) {
    type Out = (G0, G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, g1)
    }
}

impl<G0> Spread<G0> for (Yes, No) {
    type Out = (G0, ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        (g, ())
    }
}

impl<G0> Spread<G0> for (No, Yes) {
    type Out = ((), G0);
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), g)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, Yes) {
    type Out = (G0, G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, Yes, No) {
    type Out = (G0, G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, Yes) {
    type Out = (G0, (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), g1)
    }
}

impl<G0> Spread<G0> for (Yes, No, No) {
    type Out = (G0, (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        (g, (), ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, Yes) {
    type Out = ((), G0, G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, g1)
    }
}

impl<G0> Spread<G0> for (No, Yes, No) {
    type Out = ((), G0, ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), g, ())
    }
}

impl<G0> Spread<G0> for (No, No, Yes) {
    type Out = ((), (), G0);
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), g)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, Yes, Yes) {
    type Out = (G0, G1, G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, Yes, No) {
    type Out = (G0, G1, G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, No, Yes) {
    type Out = (G0, G1, (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, Yes, No, No) {
    type Out = (G0, G1, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, g1, (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, Yes, Yes) {
    type Out = (G0, (), G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, Yes, No) {
    type Out = (G0, (), G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, No, Yes) {
    type Out = (G0, (), (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), (), g1)
    }
}

impl<G0> Spread<G0> for (Yes, No, No, No) {
    type Out = (G0, (), (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        (g, (), (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, Yes, Yes) {
    type Out = ((), G0, G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, Yes, No) {
    type Out = ((), G0, G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, No, Yes) {
    type Out = ((), G0, (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, (), g1)
    }
}

impl<G0> Spread<G0> for (No, Yes, No, No) {
    type Out = ((), G0, (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), g, (), ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, Yes, Yes) {
    type Out = ((), (), G0, G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), g0, g1)
    }
}

impl<G0> Spread<G0> for (No, No, Yes, No) {
    type Out = ((), (), G0, ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), g, ())
    }
}

impl<G0> Spread<G0> for (No, No, No, Yes) {
    type Out = ((), (), (), G0);
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), (), g)
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (Yes, Yes, Yes, Yes, Yes) {
    type Out = (G0, G1, G2, G3, G4);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        (g0, g1, g2, g3, g4)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, Yes, Yes, No) {
    type Out = (G0, G1, G2, G3, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, g2, g3, ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, Yes, No, Yes) {
    type Out = (G0, G1, G2, (), G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, g2, (), g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, Yes, No, No) {
    type Out = (G0, G1, G2, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, g2, (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, No, Yes, Yes) {
    type Out = (G0, G1, (), G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, (), g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, No, Yes, No) {
    type Out = (G0, G1, (), G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, (), g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, No, No, Yes) {
    type Out = (G0, G1, (), (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, (), (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, Yes, No, No, No) {
    type Out = (G0, G1, (), (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, g1, (), (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, No, Yes, Yes, Yes) {
    type Out = (G0, (), G1, G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, (), g1, g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, Yes, Yes, No) {
    type Out = (G0, (), G1, G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), g1, g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, Yes, No, Yes) {
    type Out = (G0, (), G1, (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), g1, (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, Yes, No, No) {
    type Out = (G0, (), G1, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), g1, (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, No, Yes, Yes) {
    type Out = (G0, (), (), G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), (), g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, No, Yes, No) {
    type Out = (G0, (), (), G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), (), g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, No, No, Yes) {
    type Out = (G0, (), (), (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), (), (), g1)
    }
}

impl<G0> Spread<G0> for (Yes, No, No, No, No) {
    type Out = (G0, (), (), (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        (g, (), (), (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (No, Yes, Yes, Yes, Yes) {
    type Out = ((), G0, G1, G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        ((), g0, g1, g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, Yes, Yes, No) {
    type Out = ((), G0, G1, G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, g1, g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, Yes, No, Yes) {
    type Out = ((), G0, G1, (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, g1, (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, Yes, No, No) {
    type Out = ((), G0, G1, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, g1, (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, No, Yes, Yes) {
    type Out = ((), G0, (), G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, (), g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, No, Yes, No) {
    type Out = ((), G0, (), G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, (), g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, No, No, Yes) {
    type Out = ((), G0, (), (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, (), (), g1)
    }
}

impl<G0> Spread<G0> for (No, Yes, No, No, No) {
    type Out = ((), G0, (), (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), g, (), (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, No, Yes, Yes, Yes) {
    type Out = ((), (), G0, G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), (), g0, g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, Yes, Yes, No) {
    type Out = ((), (), G0, G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), g0, g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, Yes, No, Yes) {
    type Out = ((), (), G0, (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), g0, (), g1)
    }
}

impl<G0> Spread<G0> for (No, No, Yes, No, No) {
    type Out = ((), (), G0, (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), g, (), ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, No, Yes, Yes) {
    type Out = ((), (), (), G0, G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), (), g0, g1)
    }
}

impl<G0> Spread<G0> for (No, No, No, Yes, No) {
    type Out = ((), (), (), G0, ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), (), g, ())
    }
}

impl<G0> Spread<G0> for (No, No, No, No, Yes) {
    type Out = ((), (), (), (), G0);
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), (), (), g)
    }
}

impl<G0, G1, G2, G3, G4, G5> Spread<(G0, G1, G2, G3, G4, G5)> for (Yes, Yes, Yes, Yes, Yes, Yes) {
    type Out = (G0, G1, G2, G3, G4, G5);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4, g5): (G0, G1, G2, G3, G4, G5)) -> Self::Out {
        (g0, g1, g2, g3, g4, g5)
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (Yes, Yes, Yes, Yes, Yes, No) {
    type Out = (G0, G1, G2, G3, G4, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        (g0, g1, g2, g3, g4, ())
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (Yes, Yes, Yes, Yes, No, Yes) {
    type Out = (G0, G1, G2, G3, (), G4);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        (g0, g1, g2, g3, (), g4)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, Yes, Yes, No, No) {
    type Out = (G0, G1, G2, G3, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, g2, g3, (), ())
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (Yes, Yes, Yes, No, Yes, Yes) {
    type Out = (G0, G1, G2, (), G3, G4);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        (g0, g1, g2, (), g3, g4)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, Yes, No, Yes, No) {
    type Out = (G0, G1, G2, (), G3, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, g2, (), g3, ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, Yes, No, No, Yes) {
    type Out = (G0, G1, G2, (), (), G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, g2, (), (), g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, Yes, No, No, No) {
    type Out = (G0, G1, G2, (), (), ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, g2, (), (), ())
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (Yes, Yes, No, Yes, Yes, Yes) {
    type Out = (G0, G1, (), G2, G3, G4);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        (g0, g1, (), g2, g3, g4)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, No, Yes, Yes, No) {
    type Out = (G0, G1, (), G2, G3, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, (), g2, g3, ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, No, Yes, No, Yes) {
    type Out = (G0, G1, (), G2, (), G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, (), g2, (), g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, No, Yes, No, No) {
    type Out = (G0, G1, (), G2, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, (), g2, (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, Yes, No, No, Yes, Yes) {
    type Out = (G0, G1, (), (), G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, g1, (), (), g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, No, No, Yes, No) {
    type Out = (G0, G1, (), (), G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, (), (), g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, Yes, No, No, No, Yes) {
    type Out = (G0, G1, (), (), (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, g1, (), (), (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, Yes, No, No, No, No) {
    type Out = (G0, G1, (), (), (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, g1, (), (), (), ())
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (Yes, No, Yes, Yes, Yes, Yes) {
    type Out = (G0, (), G1, G2, G3, G4);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        (g0, (), g1, g2, g3, g4)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, No, Yes, Yes, Yes, No) {
    type Out = (G0, (), G1, G2, G3, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, (), g1, g2, g3, ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, No, Yes, Yes, No, Yes) {
    type Out = (G0, (), G1, G2, (), G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, (), g1, g2, (), g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, Yes, Yes, No, No) {
    type Out = (G0, (), G1, G2, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), g1, g2, (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, No, Yes, No, Yes, Yes) {
    type Out = (G0, (), G1, (), G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, (), g1, (), g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, Yes, No, Yes, No) {
    type Out = (G0, (), G1, (), G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), g1, (), g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, Yes, No, No, Yes) {
    type Out = (G0, (), G1, (), (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), g1, (), (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, Yes, No, No, No) {
    type Out = (G0, (), G1, (), (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), g1, (), (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (Yes, No, No, Yes, Yes, Yes) {
    type Out = (G0, (), (), G1, G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        (g0, (), (), g1, g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, No, Yes, Yes, No) {
    type Out = (G0, (), (), G1, G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), (), g1, g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, No, Yes, No, Yes) {
    type Out = (G0, (), (), G1, (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), (), g1, (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, No, Yes, No, No) {
    type Out = (G0, (), (), G1, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), (), g1, (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (Yes, No, No, No, Yes, Yes) {
    type Out = (G0, (), (), (), G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        (g0, (), (), (), g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, No, No, Yes, No) {
    type Out = (G0, (), (), (), G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), (), (), g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (Yes, No, No, No, No, Yes) {
    type Out = (G0, (), (), (), (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        (g0, (), (), (), (), g1)
    }
}

impl<G0> Spread<G0> for (Yes, No, No, No, No, No) {
    type Out = (G0, (), (), (), (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        (g, (), (), (), (), ())
    }
}

impl<G0, G1, G2, G3, G4> Spread<(G0, G1, G2, G3, G4)> for (No, Yes, Yes, Yes, Yes, Yes) {
    type Out = ((), G0, G1, G2, G3, G4);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3, g4): (G0, G1, G2, G3, G4)) -> Self::Out {
        ((), g0, g1, g2, g3, g4)
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (No, Yes, Yes, Yes, Yes, No) {
    type Out = ((), G0, G1, G2, G3, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        ((), g0, g1, g2, g3, ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (No, Yes, Yes, Yes, No, Yes) {
    type Out = ((), G0, G1, G2, (), G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        ((), g0, g1, g2, (), g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, Yes, Yes, No, No) {
    type Out = ((), G0, G1, G2, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, g1, g2, (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (No, Yes, Yes, No, Yes, Yes) {
    type Out = ((), G0, G1, (), G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        ((), g0, g1, (), g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, Yes, No, Yes, No) {
    type Out = ((), G0, G1, (), G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, g1, (), g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, Yes, No, No, Yes) {
    type Out = ((), G0, G1, (), (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, g1, (), (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, Yes, No, No, No) {
    type Out = ((), G0, G1, (), (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, g1, (), (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (No, Yes, No, Yes, Yes, Yes) {
    type Out = ((), G0, (), G1, G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        ((), g0, (), g1, g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, No, Yes, Yes, No) {
    type Out = ((), G0, (), G1, G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, (), g1, g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, No, Yes, No, Yes) {
    type Out = ((), G0, (), G1, (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, (), g1, (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, No, Yes, No, No) {
    type Out = ((), G0, (), G1, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, (), g1, (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, Yes, No, No, Yes, Yes) {
    type Out = ((), G0, (), (), G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), g0, (), (), g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, No, No, Yes, No) {
    type Out = ((), G0, (), (), G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, (), (), g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, Yes, No, No, No, Yes) {
    type Out = ((), G0, (), (), (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), g0, (), (), (), g1)
    }
}

impl<G0> Spread<G0> for (No, Yes, No, No, No, No) {
    type Out = ((), G0, (), (), (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), g, (), (), (), ())
    }
}

impl<G0, G1, G2, G3> Spread<(G0, G1, G2, G3)> for (No, No, Yes, Yes, Yes, Yes) {
    type Out = ((), (), G0, G1, G2, G3);
    #[inline(always)]
    fn spread(self, (g0, g1, g2, g3): (G0, G1, G2, G3)) -> Self::Out {
        ((), (), g0, g1, g2, g3)
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, No, Yes, Yes, Yes, No) {
    type Out = ((), (), G0, G1, G2, ());
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), (), g0, g1, g2, ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, No, Yes, Yes, No, Yes) {
    type Out = ((), (), G0, G1, (), G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), (), g0, g1, (), g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, Yes, Yes, No, No) {
    type Out = ((), (), G0, G1, (), ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), g0, g1, (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, No, Yes, No, Yes, Yes) {
    type Out = ((), (), G0, (), G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), (), g0, (), g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, Yes, No, Yes, No) {
    type Out = ((), (), G0, (), G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), g0, (), g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, Yes, No, No, Yes) {
    type Out = ((), (), G0, (), (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), g0, (), (), g1)
    }
}

impl<G0> Spread<G0> for (No, No, Yes, No, No, No) {
    type Out = ((), (), G0, (), (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), g, (), (), ())
    }
}

impl<G0, G1, G2> Spread<(G0, G1, G2)> for (No, No, No, Yes, Yes, Yes) {
    type Out = ((), (), (), G0, G1, G2);
    #[inline(always)]
    fn spread(self, (g0, g1, g2): (G0, G1, G2)) -> Self::Out {
        ((), (), (), g0, g1, g2)
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, No, Yes, Yes, No) {
    type Out = ((), (), (), G0, G1, ());
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), (), g0, g1, ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, No, Yes, No, Yes) {
    type Out = ((), (), (), G0, (), G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), (), g0, (), g1)
    }
}

impl<G0> Spread<G0> for (No, No, No, Yes, No, No) {
    type Out = ((), (), (), G0, (), ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), (), g, (), ())
    }
}

impl<G0, G1> Spread<(G0, G1)> for (No, No, No, No, Yes, Yes) {
    type Out = ((), (), (), (), G0, G1);
    #[inline(always)]
    fn spread(self, (g0, g1): (G0, G1)) -> Self::Out {
        ((), (), (), (), g0, g1)
    }
}

impl<G0> Spread<G0> for (No, No, No, No, Yes, No) {
    type Out = ((), (), (), (), G0, ());
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), (), (), g, ())
    }
}

impl<G0> Spread<G0> for (No, No, No, No, No, Yes) {
    type Out = ((), (), (), (), (), G0);
    #[inline(always)]
    fn spread(self, g: G0) -> Self::Out {
        ((), (), (), (), (), g)
    }
}

/// Never a gradient: a second impl beside each tuple one, so that rustc reports a gradient that
/// does not fit with the message of [`Spread`] instead of inferring the tuple shape.
#[doc(hidden)]
pub enum NotAGradient {}

impl Spread<NotAGradient> for (Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, Yes, No, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, Yes, No, No, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, Yes, No, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (Yes, No, No, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, Yes, No, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, Yes, No, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, Yes, No, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, No, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, Yes, No, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, No, Yes, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, No, Yes, Yes, No) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, No, Yes, No, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}

impl Spread<NotAGradient> for (No, No, No, No, Yes, Yes) {
    type Out = ();
    fn spread(self, g: NotAGradient) -> Self::Out {
        match g {}
    }
}
