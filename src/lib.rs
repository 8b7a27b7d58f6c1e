//! # autodiff
//!
//! Compile-time, source-transforming reverse-mode automatic differentiation.
//!
//! `#[differentiate]` on a plain Rust function generates, beside it, `<name>_grad` (value and
//! gradient) and `<name>_vjp` (value and pullback). The generated code is ordinary Rust: no tape,
//! no boxed nodes, no wrapper number types. [`differentiate`] documents the contract and the Rust
//! it reads (iterator chains, closures, vectors built by `push`, …).
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

/// Differentiates a function at compile time: generates `<name>_grad` and `<name>_vjp` beside it.
///
/// # The contract
///
/// For `#[differentiate] fn name(params) -> R`, the function stays as written and two items
/// are generated with the same visibility:
///
/// - `name_grad(params) -> (R, G)`: the value and the gradient, when `R` is `f32` or `f64`;
/// - `name_vjp(params) -> (R, impl FnOnce(R) -> G)`: the value and the pullback, for any `R`
///   (tuples, arrays); the pullback maps a cotangent of the result to the gradient;
/// - `name_jvp(params, tangents) -> (R, R)`: forward mode, the value and its derivative in the
///   direction of the tangents (one per active parameter, after the parameters; by reference
///   for a parameter taken by reference).
///
/// `G` has one entry per *active* parameter, in order (the bare gradient when there is one):
/// every parameter except those of integer, `bool`, `char` and string types (and references,
/// slices, arrays, `Vec`s and `Option`s of them). A gradient has the parameter's owned type:
/// `f64` → `f64`, `&[f64]` and `Vec<f64>` → `Vec<f64>`, `[f64; N]` → `[f64; N]`,
/// `&Array2<f64>` → `Array2<f64>`, a `#[derive(Differentiable)]` struct → the same struct.
///
/// A call `g(..)` on differentiated values inside the function goes through `g_vjp`: give `g`
/// `#[differentiate]` too, or write `g_vjp` by hand — a hand-written `g_vjp` with that
/// signature is a custom derivative (the [`nn`] functions are written that way).
///
/// # Generic functions
///
/// A type parameter bounded by a float trait — `num_traits::Float`, `num_traits::real::Real`,
/// `FloatCore`, ndarray's `NdFloat` or [`Real`], with or without other bounds, in the parameter
/// list or a `where` clause — is a float type like `f64`: for `T`, `&[T]`, `Vec<T>`, `[T; N]`,
/// `Array<T, D>` and parameter structs generic over their float type. ndarray code may be
/// generic over the dimension (`D: Dimension`), any function over lifetimes and consts
/// (`[f64; N]`). The generated items keep the function's generics and bounds and add
/// `T: autodiff::Real`, one bound that implies every derivative rule the generated code calls on
/// `T`; `f32` and `f64` implement it, and a generic caller names it too:
///
/// ```
/// use autodiff::differentiate;
/// use num_traits::Float;
///
/// /// f(x, y) = x·sin y, ∇f = (sin y, x·cos y).
/// #[differentiate]
/// fn f<T: Float>(x: T, y: T) -> T {
///     x * y.sin()
/// }
///
/// // Generated: fn f_grad<T: Float>(x: T, y: T) -> (T, (T, T)) where T: autodiff::Real
/// fn gradient<T: Float + autodiff::Real>(x: T, y: T) -> (T, T) {
///     f_grad(x, y).1
/// }
///
/// assert_eq!(gradient(2.0_f64, 0.0), (0.0, 2.0));
/// assert_eq!(gradient(2.0_f32, 0.0), (0.0, 2.0));
/// assert_eq!(f_grad::<f64>(1.0, 0.0).1, (0.0, 1.0));
/// ```
///
/// Calls between generic differentiated functions (`g(x)`, `g::<T>(x)`) and between generic and
/// concrete ones are differentiated like any call. A generic function's arithmetic goes through
/// the runtime's rule traits, which inline at `f64` to the code of the same function written
/// for `f64`. A type parameter without a float bound may type only parameters left out with
/// `wrt(..)` or an array's dimension; a differentiated parameter or a result of its type is a
/// compile error that says so.
///
/// # Options
///
/// - `wrt(a, b)`: differentiate with respect to these parameters only;
/// - `crate = path`: where the generated code finds this crate when the dependency is renamed
///   (`ad = { package = "autodiff", .. }` in `Cargo.toml` → `#[differentiate(crate = ad)]`) or
///   re-exported (`crate = mylib::autodiff`);
/// - `hessian`: also generate `name_hvp` (Hessian-vector products) and `name_vjp_jvp`;
/// - `checkpoint(snapshots = n)`: checkpoint every loop that has something to reverse and is
///   not inside another such loop (see *Checkpointing long loops* below);
/// - `kinks = exact`: derivatives at nonsmooth points that are exact along a fixed direction
///   instead of a fixed convention (see *Exact derivatives at kinks* below);
/// - `dump`: print the SSA form, the passes' results and the generated code while compiling.
///
/// # The Rust it reads
///
/// Plain Rust: `let` (with patterns of tuples, and `let x;` or `let (a, b);` assigned later in
/// the arms of an `if` or `match`), arithmetic, the float methods (`exp`, `ln`, `sin`, `powi`,
/// `max`, …), `if`/`match`, `for`/`while`/`loop` with `break`, `continue` and early `return`,
/// tuples, slices, `Vec`s and arrays read by index, ndarray arrays with their operators and
/// methods (`dot`, `t`, `sum`, `mean`, …), calls, and macros for output (`println!`, `assert!`).
///
/// - **Iterator chains** over slices, `Vec`s, arrays, ranges and windows become index loops:
///   sources `x.iter()`, `x.into_iter()`, `&x`, `a..b`, `x.windows(k)`, `x.chunks(k)`; adapters
///   `zip`, `map`, `enumerate`, `rev`, `skip`, `take`, `step_by`, `filter`, `copied`, `cloned`;
///   consumers `sum` (also `sum::<f64>()`), `product`, `fold`, `reduce`, `count`, `for_each`,
///   `collect` into a `Vec`, `max_by`/`min_by`/`max_by_key`/`min_by_key` followed by
///   `.unwrap()`, and `for` loops (`for (a, b) in x.iter().zip(y)`, `for w in x.windows(2)`).
/// - **Closures** are expanded where they are called, in the scope they were written in:
///   bound to a local and called (`let f = |v: f64| v * w; f(a) + f(b)`), given to adapters,
///   capturing by reference or by value, changing captured variables, taking patterns
///   (`|(x, y)|`, `|&x|`). A closure that escapes (returned, stored, passed to another function)
///   is an error.
/// - **Building vectors**: `Vec::new()` and `Vec::with_capacity(n)` with `push` and
///   `extend(chain)`, `vec![0.0; n]`, `vec![x; n]`, `vec![a, b, c]`, array literals
///   `[a, b, c]`.
/// - **Containers that change** (variables declared `mut`, `mut` array parameters, `&mut`
///   parameters): element writes `h[i] = ..`; the mutations `pop`, `insert`, `remove`,
///   `swap_remove`, `split_off`, `clear`, `truncate`, `resize`, `extend_from_slice` of `Vec`s,
///   `swap`, `reverse`, `rotate_left`, `rotate_right`, `fill`, `copy_from_slice`,
///   `clone_from_slice` of `Vec`s, arrays and slices, `fill`, `swap`, `assign`, `invert_axis`,
///   `swap_axes`, `reverse_axes` and compound assignment (`c += &b`, `*c *= x`) of ndarray
///   arrays; writes through the items of `for e in v.iter_mut()` and `for e in &mut v`
///   (`*e *= 3.0`) and through `*v.last_mut().unwrap()`; element reads `*v.first().unwrap()`,
///   `v.last().copied().unwrap()`, `*v.get(i).unwrap()`. Another method that may change such
///   a container holding differentiated values is a compile error.
/// - **Containers whose length changes** (`clear`, `truncate`, `resize`, `fill`, an element
///   popped and never read, a `Vec` a loop rebuilds or shortens): their adjoints make zero
///   elements from the length alone. Floats, arrays of floats and parameter structs of those
///   (`Vec<Particle>` with `Particle { x: f64, v: [f64; 3] }`) have such a zero; a struct with an
///   ndarray or `Vec` field does not, and such a program fails to build (`cargo build`, not
///   `cargo check`: the check runs when the generated code is instantiated):
///
///   ```compile_fail,E0080
///   use autodiff::{Differentiable, differentiate};
///   use ndarray::Array1;
///
///   #[derive(Clone, Differentiable)]
///   struct Layer {
///       w: Array1<f64>,
///       b: f64,
///   }
///
///   #[differentiate]
///   fn layer(x: f64, k: f64) -> Layer {
///       Layer { w: Array1::from_elem(2, x * k), b: x }
///   }
///
///   #[differentiate]
///   fn f(x: f64) -> f64 {
///       let mut ls = Vec::new();
///       for i in 0..4 {
///           ls.push(layer(x, i as f64));
///       }
///       ls.truncate(2); // the zero of a `Layer` needs the length of `w`
///       ls.iter().map(|l| l.w.sum() * l.b).sum()
///   }
///
///   let _ = f_grad(1.0);
///   ```
/// - Shape queries (`len`, `is_empty`, `nrows`, `ncols`, `shape`, `dim`, `raw_dim`) and
///   `Option`s of discrete values (`k.unwrap_or(1)`) run as written.
///
/// Anything the macro cannot differentiate is a compile error at the construct, saying what is
/// supported instead — never a silently wrong gradient. All errors of a function are reported
/// together, and placeholder `_grad`/`_vjp` items keep the rest of the crate compiling.
///
/// # Checkpointing long loops
///
/// Reverse mode keeps a record per loop iteration for the backward pass: a million time steps
/// keep a million records. (A *reduction loop* keeps none: a top-level `for` loop without a loop
/// inside that only adds a float term to one accumulator per iteration — `loss += ..` over data
/// points, or `.map(..).sum()` — runs each iteration's pullback right after the iteration.)
/// A checkpointed loop keeps instead at most `n + 1` copies of its
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
/// What it costs: the body runs more than once (side effects such as `println!` in it repeat),
/// and each snapshot is a clone of the loop's state. A loop that uses a `&mut` parameter, or that
/// changes a variable from outside the loop in place through a method (`rng.sample()`), cannot
/// be checkpointed, nor can `hessian` differentiate a checkpointed loop yet: these are compile
/// errors.
///
/// # Exact derivatives at kinks
///
/// At a kink (`max` with tied arguments, `abs` at 0, `relu` at 0, a branch `if x > 0.0` at
/// `x = 0`) a rule returns one fixed element of the generalized gradient (see [`rules`]), and no
/// fixed choice is right for every composition: `relu(relu(x)) − relu(−x)` is `x`, yet with
/// `relu′(0) = ½` its derivative at 0 comes out `¾`. With `#[differentiate(kinks = exact)]`,
/// `name_grad` and `name_vjp` carry the derivative along a fixed direction `v` beside every
/// value ([`kinks::direction`], seeded, one component per scalar of each differentiated
/// parameter) and at every kink take the smooth piece that `x + t·v` lies on for small `t > 0`;
/// reverse mode then runs through those pieces (Kakade and Lee, 2018). The gradient `g`
/// satisfies `⟨g, v⟩ = f′(x; v)`, the one-sided directional derivative, and is the gradient of
/// the piece entered: a limit of nearby gradients, so an element of the Clarke gradient.
///
/// It decides `max`, `min`, `abs`, `clamp`, `copysign`, `signum`, `hypot` and `sqrt` of a sum
/// of squares at the origin, comparisons `<`, `<=`, `>`, `>=` of differentiated values in `if`,
/// `while` and match guards (equality tests keep their plain result), and the runtime's
/// `nn::relu` and `conv::max_pool2d` (ties for a window's maximum). A branch taken at a tie
/// evaluates the arm the direction enters. `name_jvp` decides the kinks along its own tangents,
/// and a further item `name_vjp_along(params, tangents) -> (value, f′(x; tangents), pullback)`
/// decides them along a caller's direction: a call `g(..)` in a function of this mode goes
/// through `g_vjp_along` (give `g` this mode too), so the direction reaches the callee's kinks.
/// Not yet with `hessian` or checkpointed loops (compile errors). The cost: one tangent per
/// value, computed beside it in the forward pass.
///
/// ```
/// use autodiff::differentiate;
///
/// #[differentiate(kinks = exact)]
/// fn relu(x: f64) -> f64 {
///     x.max(0.0)
/// }
///
/// /// The identity, written with ReLUs.
/// #[differentiate(kinks = exact)]
/// fn f4(x: f64) -> f64 {
///     relu(relu(x)) - relu(-x)
/// }
///
/// assert_eq!(f4_grad(0.0), (0.0, 1.0));
/// for v in [1.0, -1.0] {
///     let (y, dy, pullback) = f4_vjp_along(0.0, v);
///     assert_eq!((y, dy, pullback(1.0)), (0.0, v, 1.0));
/// }
/// ```
///
/// # Examples
///
/// ```
/// use autodiff::differentiate;
///
/// /// Mean squared error of a line through the points (xᵢ, yᵢ).
/// #[differentiate(wrt(a, b))]
/// fn loss(a: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
///     let n = x.len() as f64;
///     x.iter()
///         .zip(y)
///         .map(|(xi, yi)| (a * xi + b - yi).powi(2))
///         .sum::<f64>()
///         / n
/// }
///
/// let (x, y) = ([0.0, 1.0, 2.0], [1.0, 3.0, 5.0]);
/// let (l, (da, db)) = loss_grad(2.0, 1.0, &x, &y);
/// assert_eq!((l, da, db), (0.0, 0.0, 0.0)); // y = 2x + 1 fits exactly
/// let (_, (da, db)) = loss_grad(0.0, 0.0, &x, &y);
/// // ∂L/∂a = (2/n) Σ (a xᵢ + b − yᵢ) xᵢ, ∂L/∂b = (2/n) Σ (a xᵢ + b − yᵢ)
/// assert!((da - 2.0 / 3.0 * -13.0).abs() < 1e-12);
/// assert!((db - 2.0 / 3.0 * -9.0).abs() < 1e-12);
/// ```
///
/// Closures, vectors built by `push`, and declarations assigned in branches:
///
/// ```
/// use autodiff::differentiate;
///
/// #[differentiate]
/// fn f(x: &[f64], w: f64) -> f64 {
///     let act = |z: f64| if z > 0.0 { z } else { 0.1 * z };
///     let mut h = Vec::with_capacity(x.len());
///     for &v in x {
///         h.push(act(v * w));
///     }
///     let scale;
///     if h.len() > 2 {
///         scale = 2.0;
///     } else {
///         scale = 1.0;
///     }
///     scale * h.iter().sum::<f64>()
/// }
///
/// let (v, (dx, dw)) = f_grad(&[1.0, -2.0, 3.0], 0.5);
/// assert_eq!(v, 2.0 * (0.5 - 0.1 + 1.5));
/// assert_eq!(dx, vec![1.0, 0.1, 1.0]); // 2·w, 2·0.1·w, 2·w
/// assert_eq!(dw, 2.0 * (1.0 + 0.1 * -2.0 + 3.0));
///
/// // Forward mode: the derivative in the direction (dx, dw) = ((1, 0, 0), 0) is ∂f/∂x₀.
/// let (_, t) = f_jvp(&[1.0, -2.0, 3.0], 0.5, &vec![1.0, 0.0, 0.0], 0.0);
/// assert_eq!(t, 1.0);
/// ```
///
/// A long loop, checkpointed:
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
pub use autodiff_macro::differentiate;
pub use autodiff_runtime::parallel;
pub use autodiff_runtime::{
    Data, Differentiable, Primal, Real, check, checkpoint, conv, data, from_flat, init, jacobian,
    kinks, nn, optim, rules, stacks, to_flat,
};

/// Support for generated code. Not part of the public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::__private::*;
}
