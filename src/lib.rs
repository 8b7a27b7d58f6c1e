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

/// Differentiates a function at compile time: generates `<name>_grad` and `<name>_vjp` beside it
/// (and `<name>_jvp`, forward mode); the README states the contract and the Rust it reads.
///
/// # Options
///
/// - `wrt(a, b)`: differentiate with respect to these parameters only;
/// - `hessian`: also generate `name_hvp` (Hessian-vector products) and `name_vjp_jvp`;
/// - `checkpoint(snapshots = n)`: checkpoint every loop that has something to reverse and is
///   not inside another such loop (below);
/// - `dump`: print the SSA form, the passes' results and the generated code while compiling.
///
/// # Checkpointing long loops
///
/// Reverse mode keeps a record per loop iteration for the backward pass: a million time steps
/// keep a million records. A checkpointed loop keeps instead at most `n + 1` copies of its
/// state — the variables the loop assigns — and runs stretches of the loop again during the
/// backward pass, on the schedule of [`checkpoint::Checkpointer`]: for a `for` loop over a range
/// without `break`, Revolve's binomial schedule, which recomputes the least possible
/// ([`checkpoint::optimal_forward_steps`]: 5.4 runs of the body per iteration for 10⁶
/// iterations and 32 snapshots); for `while`, `loop` and `for` with `break`, the online schedule
/// (within one extra run per iteration of that optimum). Gradients are the same as without
/// checkpointing.
///
/// `#[checkpoint(snapshots = n)]` on a loop checkpoints that loop; the function's
/// `checkpoint(snapshots = n)` option every outermost loop with backward work. Loops nested in a
/// checkpointed loop record as usual, within one iteration of it, unless they are checkpointed
/// themselves. [`checkpoint::last_stats`] tells how much the last backward sweep recomputed.
///
/// ```
/// use autodiff::differentiate;
///
/// /// A damped oscillator x'' = −x − c·x', integrated with explicit Euler steps of size h.
/// #[differentiate(wrt(c))]
/// fn final_position(c: f64, h: f64, steps: usize) -> f64 {
///     let (mut x, mut v) = (1.0, 0.0);
///     #[checkpoint(snapshots = 16)]
///     for _ in 0..steps {
///         let a = -x - c * v;
///         x += h * v;
///         v += h * a;
///     }
///     x
/// }
///
/// let (x, dc) = final_position_grad(0.3, 1e-3, 100_000);
/// let stats = autodiff::checkpoint::last_stats().unwrap();
/// assert_eq!(stats.iterations, 100_000);
/// assert!(stats.peak_snapshots <= 17);
/// // Central differences agree.
/// let e = 1e-6;
/// let fd = (final_position(0.3 + e, 1e-3, 100_000) - final_position(0.3 - e, 1e-3, 100_000)) / (2.0 * e);
/// assert!((dc - fd).abs() < 1e-6 * fd.abs().max(1.0), "{dc} vs {fd}");
/// # let _ = x;
/// ```
///
/// What it costs: the body runs more than once (side effects such as `println!` in it repeat),
/// and each snapshot is a clone of the loop's state. A loop that uses a `&mut` parameter, or that
/// changes a variable from outside the loop in place through a method (`rng.sample()`), cannot
/// be checkpointed, nor can `hessian` differentiate a checkpointed loop yet: these are compile
/// errors.
pub use autodiff_macro::differentiate;
pub use autodiff_runtime::{
    Differentiable, Primal, Real, check, checkpoint, conv, data, init, nn, optim, rules,
};

/// Support for generated code. Not part of the public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::__private::*;
}
