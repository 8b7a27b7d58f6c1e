//! Derivative rules: one reverse (vjp) and one forward (jvp) rule per primitive.
//!
//! `#[differentiate]` lowers a function to primitives (`a * b`, `x.exp()`, `x.max(a)`, …) and, for
//! each one, emits a call to its rule here. Rules dispatch through traits ([`ArithRules`],
//! [`NegRule`], [`FloatRules`]) so that the same emitted code serves `f32`, `f64` and arrays:
//! the macro never guesses a type, rustc picks the implementation.
//!
//! The rules of the operators and float methods are not written here by hand: each primitive's
//! derivative is stated once, in the primitive table of `autodiff-macro`, as one *form* per input
//! (its cotangent as an expression linear in the cotangent `g`), and the hidden macro
//! `autodiff_macro::__rules!` writes the traits and their impls for `f32`, `f64` and arrays from
//! it (see [`FloatRules`]). The linear tensor primitives ([`DotRules`], [`TensorRules`]) are
//! written by hand. `CONTRIBUTING.md` says how to add a primitive.
//!
//! ```
//! use autodiff_runtime::rules::{ArithRules, FloatRules, ShapeOf};
//!
//! // d/dx tanh x = 1 − tanh² x, computed from the primal output y = tanh x.
//! let (x, g) = (0.5_f64, 1.0);
//! let y = x.tanh();
//! assert_eq!(FloatRules::tanh_vjp(&x, &y, &g), 1.0 - y * y);
//! // Forward mode: the tangent of y for a tangent dx of x.
//! assert_eq!(FloatRules::tanh_jvp(&x, &y, &2.0), 2.0 * (1.0 - y * y));
//! // a / b: the cotangent of b is −g·y/b; the rule reads only the shape of `a`.
//! let (a, b) = (3.0_f64, 4.0);
//! assert_eq!(ArithRules::div_vjp_1(&ShapeOf::of(&a), &b, &(a / b), &g), -0.1875);
//! // Second order: the tangent of tanh's reverse rule x̄ = g·(1 − y²) along dy and dg is
//! // dg·(1 − y²) − 2·g·y·dy.
//! let (dy, dg) = (0.3, -0.5);
//! let t = FloatRules::tanh_vjp_jvp(&x, &y, &g, &dy, &dg);
//! assert!((t - (dg * (1.0 - y * y) - 2.0 * g * y * dy)).abs() < 1e-15);
//! ```
//!
//! # Contract
//!
//! - **Arguments** are references, in the order: the primitive's inputs (receiver or left operand
//!   first, then the others in call order), the primal output `y`, then the cotangent `g` of `y`
//!   (vjp) or the tangents of the inputs in input order (jvp). Extra non-differentiable inputs
//!   (the `i32` exponent of `powi`) stay in their input position.
//! - **Exactly what it reads**: a rule of an operator takes only the primal values it reads; where
//!   it needs just an operand's shape (to reduce a broadcast cotangent back to it) it takes a
//!   [`ShapeOf`] that operand, zero-sized for scalars. The generated forward pass saves exactly
//!   those. The float methods keep the full signature (every input, then `y`); the macro passes
//!   the cotangent in place of an argument such a rule does not read, where the types agree. Each
//!   rule's docs say what it reads: what its form names.
//! - **Return**: a reverse rule `<op>_vjp_<i>` returns the cotangent of input `i` (0 = receiver or
//!   left operand); a primitive with a single differentiable input has just `<op>_vjp`. A forward
//!   rule `<op>_jvp` returns the tangent of the output. Each reverse rule returns the
//!   contribution of one use; the generated code accumulates contributions.
//! - **Calls** name the trait, not the type: `::autodiff::__private::FloatRules::exp_vjp(&x, &y, &g)`,
//!   so `Self` is inferred from the arguments.
//! - **Reuse of `y`**: rules read the primal output where that saves work (`exp_vjp = g·y`,
//!   `sqrt_vjp = g/(2y)`, `tanh_vjp = g·(1 − y²)`), so callers must pass the true primal output.
//! - **Cost**: every rule is `#[inline(always)]` and allocation-free; after inlining, the
//!   backward pass is the arithmetic a person would write by hand.
//! - For scalars, a jvp and the matching vjp compute the same partial derivatives, so
//!   `op_jvp(.., dx = 1, other tangents 0) == op_vjp_i(.., g = 1)` bit for bit.
//! - **Tuple results** (`x.sin_cos()`): `y` and `g` are tuples, and the forward rule returns a
//!   tuple of tangents.
//!
//! # Tangents of the reverse rules (second order)
//!
//! Every reverse rule `R` of the float methods and the operators has a tangent `R_jvp`
//! (`exp_vjp_jvp`, `div_vjp_1_jvp`, `powf_vjp_0_jvp`), which `#[differentiate(hessian)]` calls
//! on arrays where a rule is not multilinear (forward mode over reverse mode): for
//! `r = R(args.., g)`, `R_jvp(args.., g, dargs.., dg)` is the derivative of `r` along the
//! tangents `dargs` of its value arguments and `dg` of the cotangent.
//!
//! - **Arguments**: the reverse rule's, in its order, then the tangents of the arguments it
//!   takes as values, in the same order, then `dg`. A shape ([`ShapeOf`]), an argument the rule
//!   does not read (where the caller may pass the cotangent) and an integer operand (the
//!   exponent of `powi`) have no tangent. Each rule's docs name its tangents and the expression
//!   it computes.
//! - **`y` is an argument of its own**: its tangent `dy` is the caller's (the forward rule's
//!   tangent of the result), not recomputed from the inputs' tangents.
//! - **Return**: the tangent of the reverse rule's result, of the same type: reduced to the
//!   operand's shape where the operator broadcast, the sum over the elements for a scalar
//!   argument of an array method ([`FloatArgRules`]); elementwise through the scalar tangent on
//!   arrays.
//! - **From the forms**: each tangent is its reverse rule's form differentiated by the chain
//!   rule, in `autodiff-macro` (a method the form calls is differentiated through its own form,
//!   a derivative helper of [`d`] through its stated partials, the ones the macro uses on plain
//!   floats), so it cannot drift from the reverse rule.
//! - **Kinks and jumps**: a factor of the cotangent that is constant between kinks or jumps —
//!   the shares of `max`, `min` and `clamp`, the signs of `abs` and `copysign`, the quotient of
//!   `rem_euclid` — has derivative zero, so the tangent applies the same element of the Clarke
//!   gradient to `dg` that the reverse rule applies to `g` (`max` with a tie: `dg/2` to each
//!   argument), and the piecewise-constant rules (`floor`, …) have tangent zero.
//! - **Removable singularities** keep the first-order conventions: a term whose factor is zero
//!   by construction is not computed (no `0·∞`); `powi`'s second derivative is exactly `0` for
//!   `n = 0` and `n = 1`; `powf`'s partial `p·xᵖ⁻¹` stays exactly `0` for `p = 0` (its derivative
//!   in `x` is `p·(p − 1)·xᵖ⁻² = 0` there), and the exponent partial `y·ln x` has derivative
//!   `y/x` in `x` and `ln x` in `y`, `0` where `x = 0`; the helpers of `hypot` and `atan2` have
//!   zero derivatives at the origin, as they are zero there.
//!
//! # Nonsmooth points
//!
//! At a kink, where a function is continuous but not differentiable, a rule returns the
//! **minimum-norm element of the Clarke generalized gradient** (the convex hull of the limits of
//! nearby gradients). This is a valid subgradient for convex and concave pieces alike, it is
//! symmetric, and it never favours one argument over another:
//!
//! - `abs` at `0`: the Clarke gradient is `[−1, 1]`, so the derivative is `0`; likewise
//!   `x.copysign(s)` (`|x|` with the sign of `s`) at `x = 0`;
//! - `max`/`min` with tied arguments: `g/2` to each;
//! - `clamp(x, lo, hi)` exactly at a bound: `g/2` to `x` and `g/2` to that bound. In general, the
//!   arguments equal to the output share `g` equally (all three when `x == lo == hi`);
//! - `hypot` at the origin: the Clarke gradient is the unit disc, so both partials are `0`.
//!
//! Functions with **jumps** — `signum`, `floor`, `ceil`, `round`, `trunc` — are piecewise
//! constant. At a jump they are not differentiable, not even in Clarke's sense (they are not
//! continuous); their rules return `0` everywhere, jumps included, i.e. the gradient ignores the
//! jump. `fract = x − trunc x` has derivative `1` everywhere by the same convention, and so has
//! `x.rem_euclid(m) = x − m·q` in `x`, with `−q` in `m` (`q = x.div_euclid(m)`, `⌊x/m⌋` for
//! `m > 0`), its jumps where `x` crosses a multiple of `m` included. `x.copysign(s)` jumps where
//! `s` changes sign: its derivative in `s` is `0`. `atan2` at the origin (where it is
//! discontinuous) likewise returns `0` for both partials.
//!
//! In forward mode the same gradient element is applied to the tangent (`max` with a tie returns
//! `(dx + da)/2`), so jvp and vjp stay transposes of each other. This is not the directional
//! derivative. `#[differentiate(kinks = exact)]` computes that instead, and a gradient exact
//! along a fixed direction (see [`crate::kinks`]).
//!
//! # Special values and domains
//!
//! - Rules evaluate the derivative's formula as written, with IEEE arithmetic. Where the true
//!   derivative is infinite the rule returns infinity: `sqrt`, `cbrt` at `0`, `asin`/`acos` at
//!   `±1`, `acosh` at `1`, `atanh` at `±1`, `ln` at `0`. A zero cotangent times an infinite
//!   derivative is NaN (`0·∞`), as in IEEE arithmetic.
//! - Removable singularities of a formula are removed where the primal is finite: `powi` with
//!   `n = 0` and `powf` with `p = 0` have derivative `0` (also at `x = 0`, where `0·x⁻¹` would be
//!   NaN); the exponent derivative of `powf`, `y·ln x`, is `0` when `y == 0` (at `x = 0`, where
//!   `0·ln 0` would be NaN).
//! - Outside a primal's domain the primal is already NaN and the rule is not meaningful: it
//!   returns NaN (`asin` at `|x| > 1`, `acosh` at `x < 1`) or whatever the formula gives (`ln` at
//!   `x < 0`: `1/x`). The exponent derivative of `powf` at `x < 0` is NaN (it needs `ln x`) even
//!   for integer `p`, where the primal is finite: `xᵖ` has no derivative in `p` there.
//! - NaN inputs propagate through the formulas, except in the rules that select: the
//!   piecewise-constant rules return `0`, and `max`, `min` and `clamp` send the cotangent only to
//!   the arguments equal to the output, so a NaN the primal ignores gets `0`
//!   (`x.max(NaN) == x`: all of `g` goes to `x`).

mod float;
mod scalar;
pub mod tensor;

pub use float::{FloatArgRules, FloatRules};
pub use scalar::{ArithRules, HasShape, NegRule, ShapeOf, d};
pub use tensor::{DotRules, TensorRules};

#[cfg(test)]
mod tangents;
#[cfg(test)]
mod testing;
