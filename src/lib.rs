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
//!
//! Every differentiated function also gets `<name>_jvp` (forward mode: value and directional
//! derivative), and with `#[differentiate(hessian)]` `<name>_hvp` (value, gradient and
//! Hessian-vector product). [`jacobian`] assembles dense Jacobians and Hessians from them:
//!
//! ```
//! use autodiff::{differentiate, jacobian};
//!
//! /// Products of neighbours, Rⁿ → Rⁿ⁻¹: yᵢ = xᵢ·xᵢ₊₁.
//! #[differentiate]
//! fn neighbours(x: &[f64]) -> Vec<f64> {
//!     let m = x.len() - 1;
//!     let mut y = vec![0.0; m];
//!     for i in 0..m {
//!         y[i] = x[i] * x[i + 1];
//!     }
//!     y
//! }
//!
//! /// f(x) = x₀²·x₁ + x₁³, H = [[2x₁, 2x₀], [2x₀, 6x₁]].
//! #[differentiate(hessian)]
//! fn f(x: &[f64]) -> f64 {
//!     x[0] * x[0] * x[1] + x[1] * x[1] * x[1]
//! }
//!
//! let x = vec![1.0, 2.0, 3.0];
//! let by_columns = jacobian::forward(|x, dx| neighbours_jvp(x, dx), &x); // 3 tangents
//! let by_rows = jacobian::reverse(|x| neighbours_vjp(x), &x); // 2 pullbacks
//! assert_eq!(by_columns, ndarray::array![[2.0, 1.0, 0.0], [0.0, 3.0, 2.0]]);
//! assert_eq!(by_rows, by_columns);
//!
//! let h = jacobian::hessian(|x, v| f_hvp(x, v), &vec![1.0, 2.0]); // 2 Hessian-vector products
//! assert_eq!(h, ndarray::array![[4.0, 2.0], [2.0, 12.0]]);
//! ```

pub use autodiff_macro::Differentiable;
pub use autodiff_macro::differentiate;
pub use autodiff_runtime::{
    Differentiable, Primal, Real, check, checkpoint, conv, data, from_flat, init, jacobian, nn,
    optim, rules, to_flat,
};

/// Support for generated code. Not part of the public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::__private::*;
}
