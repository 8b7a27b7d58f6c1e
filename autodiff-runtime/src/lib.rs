//! Runtime support for `autodiff`: derivative rules, the [`Differentiable`] trait, gradient
//! checking, dense Jacobians and Hessians, and training utilities.
//!
//! Users depend on the `autodiff` facade crate, which re-exports everything here; the code that
//! `#[differentiate]` generates reaches this crate only through `autodiff::__private`.

pub mod check;
pub mod checkpoint;
pub mod conv;
pub mod data;
pub mod differentiable;
pub mod elementwise;
pub mod init;
pub mod jacobian;
pub mod kinks;
pub mod nn;
pub mod optim;
pub mod parallel;
pub mod rules;
pub mod stacks;
#[doc(hidden)]
pub mod __private {
    pub use crate::private::*;
    pub use crate::stacks::Stack;
}
#[doc(hidden)]
pub mod place;
mod private;
mod spread;

pub use differentiable::{Differentiable, Primal, Real, from_flat, to_flat};
pub use private::DataField as Data;
