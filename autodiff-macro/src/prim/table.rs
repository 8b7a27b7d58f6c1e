//! The primitive table: everything the macro knows about an operation it differentiates.
//!
//! One entry per primitive. Recognition (which method names are primitives, how many arguments
//! they take, what kind of value they return), the checks and their lists of supported methods,
//! the reverse rule, the forward rule and what each rule reads all come from here — in the code
//! `#[differentiate]` writes and in the runtime's rule traits, which `rulegen` writes from these
//! entries. Adding a primitive is adding an entry (and its tests): `CONTRIBUTING.md` at the
//! repository root has the recipe.
//!
//! # Forms
//!
//! An elementwise primitive `y = p(x0, x1, ..)` gives, per operand, its **form**: the cotangent
//! contribution to that operand as an expression linear in the cotangent `g` (`g * x.cos()` for
//! `sin`). The reverse rule of operand `k` is its form (reduced to the operand's shape when
//! arrays broadcast); the forward rule is the sum of the forms with `g` replaced by the operand
//! tangents (`dy = dx * x.cos()`), so the two can never disagree. Forms are Rust expressions over
//! the operand names, the result `y` and `g` (`g.0`, `g.1`, … for a tuple result); they may call
//! other primitives (`x.cos()`) and the runtime's derivative helpers (`d::pick2(x, a, y, g)`:
//! documented in `autodiff::__private::d`). An empty form means the operand is not
//! differentiable (the `i32` exponent of `powi`); a form `0` means its derivative is zero
//! everywhere. A float method's runtime rule reads exactly what its form names.
//!
//! Primitives whose derivative is not elementwise (`dot`, `t`, `sum`, …) name runtime rules
//! instead: `rule` gives the trait that holds `<name>_vjp[_k]` / `<name>_jvp`, and `reads` says
//! which primal values each reverse rule takes.

use super::{Arg, Flags, PrimDef, Syntax};

use Arg::{Shape as S, Value as V};

const UNARY: Syntax = Syntax::Method { args: 0 };
const BINARY: Syntax = Syntax::Method { args: 1 };
const TERNARY: Syntax = Syntax::Method { args: 2 };

const FLOAT: Flags = Flags::FLOAT_RESULT;

macro_rules! unary {
    ($($name:literal => $form:literal, $math:literal;)*) => {
        &[$(PrimDef {
            name: $name,
            syntax: UNARY,
            operands: &["x"],
            forms: &[$form],
            rule: "FloatRules",
            reads: None,
            flags: FLOAT,
            math: $math,
        },)*]
    };
}

/// The float methods of `f32` and `f64` with one float input (also elementwise on ndarray
/// arrays, through the runtime's `FloatRules`).
pub const UNARY_METHODS: &[PrimDef] = unary! {
    "exp" => "g * y",
        "d/dx eˣ = eˣ = y; +∞ where eˣ overflows, where a zero cotangent gives NaN (unguarded \
         on the hot path, unlike the other rules with infinite slopes: the guard cost the \
         lecture's 10·ln(1 + e⁻²ˣ) gradient a third more time; guarded where the value is read \
         only in branches, and its tangent where its argument is a product, which may be \
         −∞ with an infinite tangent, and in the runtime's forward rule)";
    "exp2" => "d::times_along(g, y * 0.6931471805599453)",
        "d/dx 2ˣ = 2ˣ·ln 2 = y·ln 2 (a zero tangent or cotangent gives 0 where it overflows)";
    "exp_m1" => "d::times_along(g, y + 1.0)",
        "d/dx (eˣ − 1) = eˣ = y + 1 (a zero tangent or cotangent gives 0 where it overflows)";
    "ln" => "d::over_along(g, x)",
        "d/dx ln x = 1/x; +∞ at x = 0, where a zero tangent or cotangent gives 0 (a clamped \
         log, `p.ln().max(-100.0)`, at p = 0), not 0·∞";
    "log2" => "d::over_along(g, x * 0.6931471805599453)",
        "d/dx log₂ x = 1/(x·ln 2) (a zero tangent or cotangent gives 0 at x = 0)";
    "log10" => "d::over_along(g, x * 2.302585092994046)",
        "d/dx log₁₀ x = 1/(x·ln 10) (a zero tangent or cotangent gives 0 at x = 0)";
    "ln_1p" => "d::over_along(g, 1.0 + x)",
        "d/dx ln(1 + x) = 1/(1 + x) (a zero tangent or cotangent gives 0 at x = −1)";
    "sqrt" => "d::over_along(g, 2.0 * y)",
        "d/dx √x = 1/(2√x) = 1/(2y); +∞ at x = 0, where a zero tangent or cotangent gives 0 \
         (√ of a constant 0 is a constant), not 0·∞";
    "cbrt" => "d::over_along(g, 3.0 * (y * y))",
        "d/dx ∛x = 1/(3·x^(2/3)) = 1/(3y²); +∞ at x = 0, where a zero tangent or cotangent \
         gives 0, not 0·∞";
    "recip" => "d::times_along(g, -(y * y))",
        "d/dx 1/x = −1/x² = −y² (a zero tangent or cotangent gives 0 at x = 0)";
    "sin" => "g * x.cos()", "d/dx sin x = cos x";
    "cos" => "g * -x.sin()", "d/dx cos x = −sin x";
    "tan" => "g * (1.0 + y * y)", "d/dx tan x = 1 + tan² x = 1 + y²";
    "asin" => "d::over_along(g, ((1.0 - x) * (1.0 + x)).sqrt())",
        "d/dx asin x = 1/√(1 − x²), with 1 − x² factored as (1 − x)(1 + x) for accuracy near \
         ±1, where it is +∞ and a zero tangent or cotangent gives 0, not 0·∞";
    "acos" => "-d::over_along(g, ((1.0 - x) * (1.0 + x)).sqrt())",
        "d/dx acos x = −1/√(1 − x²), with 1 − x² factored as (1 − x)(1 + x); −∞ at ±1, where a \
         zero tangent or cotangent gives 0";
    "atan" => "g / (1.0 + x * x)", "d/dx atan x = 1/(1 + x²)";
    "sinh" => "d::times_along(g, x.cosh())",
        "d/dx sinh x = cosh x (a zero tangent or cotangent gives 0 where it overflows)";
    "cosh" => "d::times_along(g, x.sinh())",
        "d/dx cosh x = sinh x (a zero tangent or cotangent gives 0 where it overflows)";
    "tanh" => "g * (1.0 - y * y)", "d/dx tanh x = 1 − tanh² x = 1 − y²";
    "asinh" => "g / x.hypot(1.0)",
        "d/dx asinh x = 1/√(x² + 1), as 1/hypot(x, 1): no overflow for large x";
    "acosh" => "d::over_along(g, (x - 1.0).sqrt() * (x + 1.0).sqrt())",
        "d/dx acosh x = 1/√(x² − 1), as 1/(√(x − 1)·√(x + 1)): accurate near 1, no overflow \
         for large x; +∞ at x = 1 (where a zero tangent or cotangent gives 0), NaN below";
    "atanh" => "d::over_along(g, (1.0 - x) * (1.0 + x))",
        "d/dx atanh x = 1/(1 − x²), as 1/((1 − x)(1 + x)); +∞ at ±1, where a zero tangent or \
         cotangent gives 0";
    "abs" => "g * d::abs_d(x)",
        "d/dx |x| = sign x for x ≠ 0, and 0 at the kink x = 0 (the minimum-norm element of the \
         Clarke gradient [−1, 1])";
    "signum" => "0",
        "0: signum is piecewise constant; its jump at 0 is not differentiable and is ignored";
    "floor" => "0", "0: floor is piecewise constant; its jumps at the integers are ignored";
    "ceil" => "0", "0: ceil is piecewise constant; its jumps at the integers are ignored";
    "round" => "0", "0: round is piecewise constant; its jumps at the half-integers are ignored";
    "trunc" => "0",
        "0: trunc is piecewise constant; its jumps at the non-zero integers are ignored";
    "fract" => "g", "d/dx fract x = d/dx (x − trunc x) = 1 (the jumps of trunc are ignored)";
    "to_degrees" => "g.to_degrees()",
        "d/dx (180/π)·x = 180/π: the cotangent is converted as the primal is, with its rounding";
    "to_radians" => "g.to_radians()",
        "d/dx (π/180)·x = π/180: the cotangent is converted as the primal is, with its rounding";
};

/// Float methods with more than one input, and `powi` (whose `i32` exponent is not
/// differentiable).
pub const OTHER_METHODS: &[PrimDef] = &[
    method(
        "powi",
        BINARY,
        &["x", "n"],
        &["d::times_along(g, d::powi_d(x, n, y))", ""],
        "FloatRules",
        FLOAT,
        "d/dx xⁿ = n·xⁿ⁻¹, and exactly 0 for n = 0 (x⁰ = 1 is constant, also at x = 0); for \
         n = i32::MIN, where n − 1 overflows, xⁿ⁻¹ = y/x",
    ),
    method(
        "powf",
        BINARY,
        &["x", "p"],
        &[
            "d::times_along(g, d::powf_dx(x, p))",
            "d::times_along(g, d::powf_dp(x, y))",
        ],
        "FloatArgRules",
        FLOAT,
        "∂/∂x xᵖ = p·xᵖ⁻¹ (as computed: +∞ at x = 0 for p < 1, where a zero tangent or \
         cotangent gives 0), exactly 0 for p = 0 (x⁰ = 1 is constant, also at x = 0); ∂/∂p xᵖ = xᵖ·ln x = y·ln x, exactly 0 where y = 0 (at x = 0, \
         where 0·ln 0 would be NaN), NaN for x < 0 (where ln x is)",
    ),
    method(
        "log",
        BINARY,
        &["x", "b"],
        &["d::over_along(g, x * b.ln())", "-g * y / (b * b.ln())"],
        "FloatArgRules",
        FLOAT,
        "log_b x = ln x/ln b: ∂/∂x = 1/(x·ln b), ∂/∂b = −ln x/(b·ln² b) = −y/(b·ln b)",
    ),
    method(
        "atan2",
        BINARY,
        &["x", "a"],
        &["g * d::atan2_d0(x, a)", "g * d::atan2_d1(x, a)"],
        "FloatRules",
        FLOAT,
        "x.atan2(a) is the angle of the point (a, x): ∂/∂x = a/(x² + a²), ∂/∂a = −x/(x² + a²), \
         computed as (a/h)/h and −(x/h)/h with h = hypot(x, a) (no overflow or underflow of the \
         squares); both 0 at the origin, where atan2 is discontinuous",
    ),
    method(
        "hypot",
        BINARY,
        &["x", "a"],
        &["g * d::hypot_d(x, y)", "g * d::hypot_d(a, y)"],
        "FloatArgRules",
        FLOAT,
        "y = √(x² + a²): ∂/∂x = x/y, ∂/∂a = a/y; both 0 at the origin (the kink of the \
         Euclidean norm: the minimum-norm element of the unit disc)",
    ),
    method(
        "max",
        BINARY,
        &["x", "a"],
        &["d::pick2(x, a, y, g)", "d::pick2(a, x, y, g)"],
        "FloatRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::KINK.0),
        "the argument equal to the result gets g: ∂/∂x = 1 where x is the maximum, 0 where a \
         is; at a tie x == a each gets g/2; x.max(NaN) == x gets all of g",
    ),
    method(
        "min",
        BINARY,
        &["x", "a"],
        &["d::pick2(x, a, y, g)", "d::pick2(a, x, y, g)"],
        "FloatRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::KINK.0),
        "the argument equal to the result gets g: ∂/∂x = 1 where x is the minimum, 0 where a \
         is; at a tie x == a each gets g/2; x.min(NaN) == x gets all of g",
    ),
    method(
        "mul_add",
        TERNARY,
        &["x", "a", "b"],
        &["g * a", "g * x", "g"],
        "FloatRules",
        FLOAT,
        "x·a + b: ∂/∂x = a, ∂/∂a = x, ∂/∂b = 1 (the forward rule is unfused: a fused \
         multiply-add is a slow library call on targets without FMA)",
    ),
    method(
        "clamp",
        TERNARY,
        &["x", "lo", "hi"],
        &[
            "d::pick3(x, lo, hi, y, g)",
            "d::pick3(lo, x, hi, y, g)",
            "d::pick3(hi, x, lo, y, g)",
        ],
        "FloatArgRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::KINK.0),
        "lo below lo, hi above hi, x between: ∂/∂x = 1 strictly inside, ∂/∂lo = 1 below, \
         ∂/∂hi = 1 above; the arguments equal to the result share g equally (g/2 to x and the \
         bound it touches, g/3 each when x == lo == hi)",
    ),
    method(
        "copysign",
        BINARY,
        &["x", "s"],
        &["g * d::copysign_d(x, s)", "0"],
        "FloatRules",
        FLOAT,
        "|x| with the sign of s: ∂/∂x = 1 where x and s have the same sign bit, −1 where they \
         differ, 0 at the kink x = 0 (as for abs); ∂/∂s = 0 (piecewise constant in s: its jump \
         at s = 0 is ignored)",
    ),
    method(
        "rem_euclid",
        BINARY,
        &["x", "m"],
        &["g", "g * d::rem_euclid_dm(x, m)"],
        "FloatRules",
        FLOAT,
        "x − m·q with q = x.div_euclid(m) (⌊x/m⌋ for m > 0): ∂/∂x = 1, ∂/∂m = −q; the jumps \
         where x crosses a multiple of m are ignored (as for fract)",
    ),
    method(
        "div_euclid",
        BINARY,
        &["x", "m"],
        &["0", "0"],
        "FloatRules",
        FLOAT,
        "0 in x and in m: the quotient q of x = m·q + x.rem_euclid(m) is piecewise constant; its \
         jumps where x crosses a multiple of m are ignored (as for floor)",
    ),
    method(
        "rem",
        BINARY,
        &["x", "m"],
        &["g", "g * d::rem_dm(x, m)"],
        "FloatArgRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::REMAINDER.0),
        "x % m = x − m·q with q = (x/m).trunc(), the remainder with the sign of x: ∂/∂x = 1, \
         ∂/∂m = −q; the jumps where x crosses a multiple of m are ignored (as for rem_euclid)",
    ),
];

/// Float methods that return a tuple of floats. A form reads the components `g.0`, `g.1`, … of
/// the tuple cotangent; the forward rule gives one tangent per component.
pub const TUPLE_METHODS: &[PrimDef] = &[method(
    "sin_cos",
    UNARY,
    &["x"],
    &["g.0 * x.cos() - g.1 * x.sin()"],
    "FloatRules",
    Flags::NONE,
    "(sin x, cos x): x̄ = ḡ.0·cos x − ḡ.1·sin x; the tangent is (cos x·dx, −sin x·dx)",
)];

/// The arithmetic operators and negation. Their reverse rules on values of unknown type are the
/// runtime's `ArithRules`/`NegRule`, which reduce broadcast cotangents to the operand shapes.
pub const OPERATORS: &[PrimDef] = &[
    operator(
        "add",
        Syntax::Binary,
        &["a", "b"],
        &["g", "g"],
        "ArithRules",
        Some(&[&[S(0), S(1)], &[S(0), S(1)]]),
        "∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1",
    ),
    operator(
        "sub",
        Syntax::Binary,
        &["a", "b"],
        &["g", "-g"],
        "ArithRules",
        Some(&[&[S(0), S(1)], &[S(0), S(1)]]),
        "∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1",
    ),
    operator(
        "mul",
        Syntax::Binary,
        &["a", "b"],
        &["g * b", "g * a"],
        "ArithRules",
        Some(&[&[S(0), V(1)], &[V(0), S(1)]]),
        "∂(a·b)/∂a = b, ∂(a·b)/∂b = a",
    ),
    operator(
        "div",
        Syntax::Binary,
        &["a", "b"],
        &["g / b", "-d::times_along(g, y) / b"],
        "ArithRules",
        Some(&[&[S(0), V(1)], &[S(0), V(1), V(2)]]),
        "∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b² = −y/b; a zero tangent or cotangent gives 0 where \
         the quotient is infinite (a DP table's `f64::INFINITY` boundary divided by a \
         temperature and read by `exp`, whose cotangent there is exactly 0: `0·∞` was NaN in \
         the temperature's gradient, and in every `_jvp` through the quotient, where a divisor \
         with no tangent has the tangent 0)",
    ),
    operator(
        "neg",
        Syntax::Neg,
        &["x"],
        &["-g"],
        "NegRule",
        Some(&[&[]]),
        "d(−x)/dx = −1",
    ),
];

/// A float method with forms.
const fn method(
    name: &'static str,
    syntax: Syntax,
    operands: &'static [&'static str],
    forms: &'static [&'static str],
    rule: &'static str,
    flags: Flags,
    math: &'static str,
) -> PrimDef {
    PrimDef {
        name,
        syntax,
        operands,
        forms,
        rule,
        reads: None,
        flags,
        math,
    }
}

/// An operator: its runtime rules read what `reads` says.
const fn operator(
    name: &'static str,
    syntax: Syntax,
    operands: &'static [&'static str],
    forms: &'static [&'static str],
    rule: &'static str,
    reads: Option<&'static [&'static [Arg]]>,
    math: &'static str,
) -> PrimDef {
    PrimDef {
        name,
        syntax,
        operands,
        forms,
        rule,
        reads,
        flags: Flags::NONE,
        math,
    }
}

/// ndarray methods with derivative rules in the runtime (`DotRules`, `TensorRules`): linear in
/// each differentiable operand, so their forward rule is the operation itself.
pub const TENSOR_METHODS: &[PrimDef] = &[
    PrimDef {
        name: "dot",
        syntax: BINARY,
        operands: &["a", "b"],
        forms: &["", ""],
        rule: "DotRules",
        reads: Some(&[&[S(0), V(1)], &[V(0), S(1)]]),
        flags: Flags::ALL_OPERANDS,
        math: "matrix product: ā = ḡ·bᵀ, b̄ = aᵀ·ḡ",
    },
    tensor("t", UNARY, Flags::VIEW, "transpose: x̄ = ḡᵀ"),
    tensor("sum", UNARY, Flags::NONE, "x̄ = ḡ broadcast to x's shape"),
    tensor(
        "mean",
        UNARY,
        Flags::UNWRAP,
        "x̄ = ḡ/n broadcast to x's shape",
    ),
    tensor(
        "sum_axis",
        BINARY,
        Flags::INDEXED,
        "x̄ = ḡ broadcast along the summed axis",
    ),
    tensor(
        "mean_axis",
        BINARY,
        Flags(Flags::INDEXED.0 | Flags::UNWRAP.0),
        "x̄ = ḡ/n broadcast along the averaged axis",
    ),
    tensor(
        "slice",
        BINARY,
        Flags(Flags::INDEXED.0 | Flags::VIEW.0),
        "x̄ = ḡ placed in the sliced positions, zero elsewhere",
    ),
    tensor(
        "insert_axis",
        BINARY,
        Flags(Flags::INDEXED.0 | Flags::VIEW.0),
        "x̄ = ḡ with the inserted axis removed",
    ),
    tensor(
        "into_shape_with_order",
        BINARY,
        Flags(Flags::INDEXED.0 | Flags::UNWRAP.0),
        "x̄ = ḡ reshaped back to x's shape",
    ),
    PrimDef {
        name: "index_axis",
        syntax: TERNARY,
        operands: &["x", "axis", "index"],
        forms: &["", "", ""],
        rule: "TensorRules",
        reads: Some(&[&[S(0), V(1), V(2)]]),
        flags: Flags(Flags::INDEXED.0 | Flags::VIEW.0),
        math: "x̄ = ḡ placed at the index along the axis, zero elsewhere",
    },
    PrimDef {
        name: "select",
        syntax: TERNARY,
        operands: &["x", "axis", "indices"],
        forms: &["", "", ""],
        rule: "TensorRules",
        reads: Some(&[&[S(0), V(1), V(2)]]),
        flags: Flags::INDEXED,
        math: "x̄ = ḡ's subviews added at the indices along the axis (a repeated index gets each)",
    },
    PrimDef {
        name: "broadcast",
        syntax: BINARY,
        operands: &["x", "shape"],
        forms: &["", ""],
        rule: "TensorRules",
        reads: Some(&[&[S(0), V(1)]]),
        flags: Flags(Flags::INDEXED.0 | Flags::VIEW.0 | Flags::UNWRAP.0),
        math: "x̄ = ḡ summed over the axes broadcasting stretched",
    },
    tensor(
        "flatten",
        UNARY,
        Flags::VIEW,
        "x̄ = ḡ reshaped back to x's shape (the elements in row-major order)",
    ),
];

/// A method of `TensorRules`, linear in its receiver: its reverse rule reads the receiver's
/// shape (and the method's argument, an axis or a shape, when it has one).
const fn tensor(name: &'static str, syntax: Syntax, flags: Flags, math: &'static str) -> PrimDef {
    let (operands, forms, reads): (&[&str], &[&str], &[&[Arg]]) = match syntax {
        Syntax::Method { args: 0 } => (&["x"], &[""], &[&[S(0)]]),
        _ => (&["x", "arg"], &["", ""], &[&[S(0), V(1)]]),
    };
    PrimDef {
        name,
        syntax,
        operands,
        forms,
        rule: "TensorRules",
        reads: Some(reads),
        flags,
        math,
    }
}

/// Methods whose result is their receiver, value for value (`clone` copies, `view` borrows):
/// the cotangent passes straight through.
pub const IDENTITY_METHODS: &[PrimDef] = &[
    identity("view", Flags::VIEW),
    identity("clone", Flags::NONE),
    identity("to_owned", Flags::NONE),
    identity("to_vec", Flags::NONE),
];

const fn identity(name: &'static str, extra: Flags) -> PrimDef {
    PrimDef {
        name,
        syntax: UNARY,
        operands: &["x"],
        forms: &["g"],
        rule: "",
        reads: Some(&[&[]]),
        flags: Flags(Flags::IDENTITY.0 | extra.0),
        math: "the value itself: x̄ = ḡ",
    }
}

/// Methods whose result is never differentiable (counts, predicates), whatever the receiver.
pub const DISCRETE_METHODS: &[&str] = &[
    "len",
    "is_empty",
    "is_some",
    "is_none",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_sign_positive",
    "is_sign_negative",
    "total_cmp",
    "partial_cmp",
    "to_bits",
    // Positions (`Result<usize, usize>`, `usize`), whatever the elements compared.
    "binary_search",
    "binary_search_by",
    "binary_search_by_key",
    "partition_point",
];

/// Macros that only print, format or check what they read (they cannot store a value where a
/// derivative would need to follow it): a differentiated value may flow into them.
pub const OUTPUT_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "write",
    "writeln",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "panic",
    "unreachable",
    "todo",
    "unimplemented",
    "dbg",
    "matches",
];

/// The operands of float methods that are not floats of the receiver's type, with their types.
/// Their forms are empty: they are not differentiable.
pub const OPERAND_TYPES: &[(&str, usize, &str)] = &[("powi", 1, "i32")];

/// The derivative helpers of the forms that are constant between their jumps or kinks (the
/// signs of `abs` and `copysign`, the quotient of `rem_euclid`): their own derivative is zero
/// wherever they have one, so a rule that multiplies the cotangent by one of them has the
/// cotangent's tangent times the same factor as its tangent. The other helpers state their partials as forms (`HELPER_PARTIALS` in
/// [`forms`](super::forms)); a helper in neither list cannot be differentiated.
pub const LOCALLY_CONSTANT_HELPERS: &[&str] = &["abs_d", "copysign_d", "rem_euclid_dm", "rem_dm"];
