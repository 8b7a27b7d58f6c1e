//! # autodiff
//!
//! Compile-time, source-transforming reverse-mode automatic differentiation.
//!
//! `#[differentiate]` on a plain Rust function generates, beside it, `<name>_grad` (value and
//! gradient) and `<name>_vjp` (value and pullback). The generated code is ordinary Rust: no tape,
//! no boxed nodes, no wrapper number types. See the README for the supported subset of Rust.
//!
//! ```
//! use autodiff::differentiate;
//!
//! #[differentiate]
//! fn f(x: f64) -> f64 {
//!     10.0 * (1.0 + (-2.0 * x).exp()).ln()
//! }
//!
//! let (y, dy) = f_grad(0.5);
//! let e = (-1.0f64).exp();
//! assert!((y - 10.0 * (1.0 + e).ln()).abs() < 1e-12);
//! assert!((dy - (-20.0 * e / (1.0 + e))).abs() < 1e-12);
//! ```

pub use autodiff_macro::Differentiable;
pub use autodiff_macro::differentiate;
pub use autodiff_runtime::parallel;
pub use autodiff_runtime::{
    Differentiable, Primal, Real, check, checkpoint, conv, data, init, nn, optim, rules,
};

/// Support for generated code. Not part of the public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::__private::*;
}
