//! Rules of the ndarray primitives: elementwise arithmetic with NumPy broadcasting, negation, the
//! elementwise float methods, `dot`, `.t()`, and the reductions `sum`, `mean`, `sum_axis`,
//! `mean_axis`.
//!
//! The rules follow the [contract of the rules module](super): arguments by reference in the
//! order inputs, primal output, cotangent; an operand the rule only needs the shape of is passed
//! as a [`ShapeOf`](super::ShapeOf) (whose `dims` is the array's `raw_dim()`).
//!
//! - **Gradients are owned** `Array`s of the operand's shape, also for views (the gradient of an
//!   `ArrayView<f64, Ix2>` is an `Array2<f64>`), in standard (row-major) layout unless a rule
//!   says otherwise.
//! - **Broadcasting**: `a op b` broadcasts both operands to a common shape by NumPy's rules
//!   (leading axes added, length-1 axes stretched), so the cotangent of each operand is the
//!   output cotangent summed over the axes broadcasting added or stretched. Every such reduction
//!   to an array goes through the one helper [`unbroadcast`]; a scalar operand (broadcast to every
//!   element) gets the plain sum.
//! - **Cost**: each rule allocates its result and nothing else, except where a broadcast operand
//!   needs the elementwise product materialized before [`unbroadcast`] reduces it. Elementwise
//!   work runs through [`Zip`](ndarray::Zip), matrix products through ndarray's `dot` (matrixmultiply): the
//!   backward pass of a matmul is two matmuls, and transposes are strided views (`.t()`).
//! - **Elementwise float methods** apply the scalar rule of the same name to every element, so
//!   arrays follow exactly the scalar conventions at kinks, jumps and domain edges.
//! - **Where the rules come from**: the arithmetic and float-method rules are written from the
//!   primitive table of `autodiff-macro` (each primitive's derivative stated once, as its
//!   forms), the same text for array–array, array–scalar and scalar–array operands; the rules of
//!   the linear primitives (`dot`, `.t()`, the reductions and views) are written here by hand.
//!
//! The module is split by concern: `shape` (shapes, zero gradients, element reads and
//! broadcasting), `arith`, `float`, `dot` and `reduce` (reductions, transposes and views).
//!
//! ```
//! use autodiff_runtime::rules::{ArithRules, DotRules, ShapeOf, TensorRules};
//! use ndarray::{Array1, Array2, array};
//!
//! // y = (x·W + b).sum(), with the bias b broadcast over the rows of x·W.
//! let x: Array2<f64> = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
//! let w: Array2<f64> = array![[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]];
//! let b: Array1<f64> = array![0.1, 0.2, 0.3];
//! let xw = x.dot(&w);
//! let z = ArithRules::add(&xw, &b);
//! // Backward: ȳ = 1.
//! let z_bar = TensorRules::sum_vjp(&ShapeOf::of(&z), &1.0);
//! let b_bar = ArithRules::add_vjp_1(&ShapeOf::of(&xw), &ShapeOf::of(&b), &z_bar);
//! assert_eq!(b_bar, array![3.0, 3.0, 3.0]); // summed over the 3 rows
//! let xw_bar = ArithRules::add_vjp_0(&ShapeOf::of(&xw), &ShapeOf::of(&b), &z_bar);
//! let w_bar = DotRules::dot_vjp_1(&x, &ShapeOf::of(&w), &xw_bar); // xᵀ·ḡ
//! assert_eq!(w_bar, array![[9.0, 9.0, 9.0], [12.0, 12.0, 12.0]]);
//! ```

mod arith;
mod dot;
pub mod extremum;
mod float;
pub mod join;
mod reduce;
pub mod region;
mod shape;

pub use super::float::FloatArgRules;
pub use dot::DotRules;
pub use reduce::TensorRules;
pub use shape::unbroadcast;

#[cfg(test)]
mod tests;
