//! Random-program differential testing of `#[differentiate]`.
//!
//! [`generate::generate`] writes, from a seed, a few functions in the documented subset of the macro
//! (scalars, arithmetic and float methods, control flow, containers, calls, tuples, casts) that
//! compile as plain Rust and whose values and gradients are finite at a generated point.
//! [`program::Case::module`] turns them into a module whose `check()` compares the generated
//! `_grad` and `_jvp` with the plain function ([`harness::check`]): the value bit for bit, the
//! gradient against central finite differences, the tangent against the gradient.
//!
//! The CI test (`tests/random_programs.rs` and `random_programs_odd.rs`) compiles and checks a
//! fixed set of cases; the `autodiff-random` binary ([`driver`]) generates thousands, compiles
//! them in a scratch crate and classifies what fails. See the crate's README.

pub mod driver;
pub mod generate;
pub mod harness;
pub mod program;
pub mod rng;

pub use generate::{Config, generate};
pub use program::Case;
