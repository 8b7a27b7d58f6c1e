//! Rules of the float methods (`x.exp()`, `x.powf(p)`, `x.mul_add(a, b)`, …), written from the
//! primitive table of `autodiff-macro`.
//!
//! Each float method's derivative is stated once, in its table entry, as one *form* per input:
//! the cotangent of that input as an expression linear in the cotangent `g` of the result
//! (`g * x.cos()` for `sin`). `#[differentiate]` writes the forms out inline on plain floats;
//! the hidden macro `autodiff_macro::__rules!` writes the same forms out here, as the traits'
//! declarations (documented with the math and the form) and their impls for `f32` and `f64`,
//! and elementwise for arrays in [`tensor`](super::tensor). The reverse rule of an input is its
//! form; the forward rule is the sum of the forms with `g` replaced by the inputs' tangents, so
//! the two are transposes of each other by construction. `CONTRIBUTING.md` says how to add a
//! method.

// The forms call the derivative helpers as `d::name(..)`.
use super::scalar::d;

/// Rules of the float methods: `x.exp()`, `x.powf(p)`, `x.mul_add(a, b)`, `x.sin_cos()`, …
///
/// A method `m` with one float input has `m_vjp(x, y, g)` and `m_jvp(x, y, dx)`; with more float
/// inputs (`x.m(a)`, `x.m(a, b)`), `m_vjp_0`, `m_vjp_1`, … return the cotangent of the receiver,
/// then of each argument, and `m_jvp(x, a, .., y, dx, da, ..)` takes one tangent per input. An
/// input without a derivative (the `i32` exponent of `powi`) keeps its place and has no rule or
/// tangent. A method returning a tuple (`sin_cos`) has a tuple result `y` and cotangent `g`, and
/// its forward rule returns a tuple of tangents. Each reverse rule documents the math and the
/// expression it computes. Each reverse rule `R` also has its tangent `R_jvp`, for second
/// derivatives (see the [module docs](super) for its arguments and conventions).
#[diagnostic::on_unimplemented(
    message = "this float method is called on `{Self}`, which is not a float or an array of floats",
    label = "the receiver must be `f64`, `f32` or an ndarray array of them",
    note = "if `{Self}` is a struct of yours with a method of this name (`abs`, `exp` of a complex \
            number), call it through its type, `{Self}::abs(&z)`: on what a method, `*` or `/` \
            returned, a float method's name is taken for the float rule, as that value may be a \
            float"
)]
pub trait FloatRules: Sized {
    autodiff_macro::__rules!(declare FloatRules);
}

/// Rules of the float methods with float arguments whose type `A` may differ from the receiver's:
/// ndarray's elementwise `a.powf(p)`, `a.log(b)`, `a.hypot(h)` and `a.clamp(lo, hi)` take
/// *scalar* arguments (`A` = the element type), while `f32`/`f64` take their own type
/// (`A = Self`, where these rules are [`FloatRules`]'s).
///
/// The receiver's rules (`_vjp_0`, `_jvp`) are elementwise; an argument's cotangent is the sum,
/// over every element, of the scalar rule's cotangent (the argument is broadcast to every
/// element). Argument order and math are [`FloatRules`]'s. Every argument is read with its own
/// type, so a caller cannot pass the cotangent in place of an argument the rule does not read;
/// only the receiver may be such a witness.
#[diagnostic::on_unimplemented(
    message = "this float method of `{Self}` cannot take an argument of type `{A}`",
    label = "the argument must be a float of the receiver's type (or its element type)",
    note = "convert the argument with `as f64` (or `as f32`)"
)]
pub trait FloatArgRules<A>: Sized {
    autodiff_macro::__rules!(declare FloatArgRules<A>);
}

impl FloatRules for f32 {
    autodiff_macro::__rules!(forms FloatRules);
}

impl FloatRules for f64 {
    autodiff_macro::__rules!(forms FloatRules);
}

/// Scalars: [`FloatRules`]' rules.
impl FloatArgRules<f32> for f32 {
    autodiff_macro::__rules!(forms FloatArgRules<Self>);
}

/// Scalars: [`FloatRules`]' rules.
impl FloatArgRules<f64> for f64 {
    autodiff_macro::__rules!(forms FloatArgRules<Self>);
}

#[cfg(test)]
mod tests;
