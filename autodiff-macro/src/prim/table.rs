//! The primitive table: everything the macro knows about an operation it differentiates.
//!
//! One entry per primitive. Recognition (which method names are primitives, how many arguments
//! they take, what kind of value they return), the checks and their lists of supported methods,
//! the reverse rule, the forward rule and what each rule reads all come from here. Adding a
//! primitive is adding an entry (and its tests); see the crate docs for the recipe.
//!
//! # Forms
//!
//! An elementwise primitive `y = p(x0, x1, ..)` gives, per operand, its **form**: the cotangent
//! contribution to that operand as an expression linear in the cotangent `g` (`g * x.cos()` for
//! `sin`). The reverse rule of operand `k` is its form (reduced to the operand's shape when
//! arrays broadcast); the forward rule is the sum of the forms with `g` replaced by the operand
//! tangents (`dy = dx * x.cos()`), so the two can never disagree. Forms are Rust expressions over
//! the operand names, the result `y` and `g`; they may call other primitives (`x.cos()`) and the
//! runtime's derivative helpers (`d::share2(x, a, y)`: documented in
//! `autodiff::__private::d`). An empty form means the operand is not differentiable (the `i32`
//! exponent of `powi`); a form `0` means its derivative is zero everywhere.
//!
//! Primitives whose derivative is not elementwise (`dot`, `t`, `sum`, …) name runtime rules
//! instead: `rule` gives the trait that holds `<name>_vjp[_k]` / `<name>_jvp`, and `reads` says
//! which primal values each reverse rule takes.

use super::{Arg, Flags, PrimDef, Syntax};

use Arg::{Shape as S, Value as V, Witness as W};

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
    "exp" => "g * y", "d/dx eˣ = eˣ = y";
    "exp2" => "g * (y * 0.6931471805599453)", "d/dx 2ˣ = 2ˣ·ln 2";
    "exp_m1" => "g * (y + 1.0)", "d/dx (eˣ − 1) = eˣ = y + 1";
    "ln" => "g / x", "d/dx ln x = 1/x";
    "log2" => "g / (x * 0.6931471805599453)", "d/dx log₂ x = 1/(x·ln 2)";
    "log10" => "g / (x * 2.302585092994046)", "d/dx log₁₀ x = 1/(x·ln 10)";
    "ln_1p" => "g / (1.0 + x)", "d/dx ln(1 + x) = 1/(1 + x)";
    "sqrt" => "g / (2.0 * y)", "d/dx √x = 1/(2√x) = 1/(2y)";
    "cbrt" => "g / (3.0 * (y * y))", "d/dx ∛x = 1/(3y²)";
    "recip" => "g * -(y * y)", "d/dx 1/x = −1/x² = −y²";
    "sin" => "g * x.cos()", "d/dx sin x = cos x";
    "cos" => "g * -x.sin()", "d/dx cos x = −sin x";
    "tan" => "g * (1.0 + y * y)", "d/dx tan x = 1 + tan² x";
    "asin" => "g / ((1.0 - x) * (1.0 + x)).sqrt()", "d/dx asin x = 1/√(1 − x²)";
    "acos" => "-g / ((1.0 - x) * (1.0 + x)).sqrt()", "d/dx acos x = −1/√(1 − x²)";
    "atan" => "g / (1.0 + x * x)", "d/dx atan x = 1/(1 + x²)";
    "sinh" => "g * x.cosh()", "d/dx sinh x = cosh x";
    "cosh" => "g * x.sinh()", "d/dx cosh x = sinh x";
    "tanh" => "g * (1.0 - y * y)", "d/dx tanh x = 1 − tanh² x";
    "asinh" => "g / x.hypot(1.0)", "d/dx asinh x = 1/√(x² + 1)";
    "acosh" => "g / ((x - 1.0).sqrt() * (x + 1.0).sqrt())", "d/dx acosh x = 1/√(x² − 1)";
    "atanh" => "g / ((1.0 - x) * (1.0 + x))", "d/dx atanh x = 1/(1 − x²)";
    "abs" => "g * d::abs_d(x)", "d/dx |x| = sign x, 0 at 0";
    "signum" => "0", "piecewise constant: 0";
    "floor" => "0", "piecewise constant: 0";
    "ceil" => "0", "piecewise constant: 0";
    "round" => "0", "piecewise constant: 0";
    "trunc" => "0", "piecewise constant: 0";
    "fract" => "g", "d/dx (x − trunc x) = 1";
    "to_degrees" => "g * 57.29577951308232", "d/dx (180/π)·x = 180/π";
    "to_radians" => "g * 0.017453292519943295", "d/dx (π/180)·x = π/180";
};

/// Float methods with more than one input, and `powi` (whose `i32` exponent is not
/// differentiable).
pub const OTHER_METHODS: &[PrimDef] = &[
    method(
        "powi",
        BINARY,
        &["x", "n"],
        &["g * d::powi_d(x, n, y)", ""],
        "FloatRules",
        FLOAT,
        "d/dx xⁿ = n·xⁿ⁻¹ (0 for n = 0)",
    ),
    method(
        "powf",
        BINARY,
        &["x", "p"],
        &["g * d::powf_dx(x, p)", "g * d::powf_dp(x, y)"],
        "FloatArgRules",
        FLOAT,
        "∂/∂x xᵖ = p·xᵖ⁻¹ (0 for p = 0), ∂/∂p xᵖ = xᵖ·ln x (0 where xᵖ = 0)",
    ),
    method(
        "log",
        BINARY,
        &["x", "b"],
        &["g / (x * b.ln())", "-g * y / (b * b.ln())"],
        "FloatArgRules",
        FLOAT,
        "∂/∂x log_b x = 1/(x·ln b), ∂/∂b log_b x = −log_b x/(b·ln b)",
    ),
    method(
        "atan2",
        BINARY,
        &["x", "a"],
        &["g * d::atan2_d0(x, a)", "g * d::atan2_d1(x, a)"],
        "FloatRules",
        FLOAT,
        "∂/∂x atan2(x, a) = a/(x² + a²), ∂/∂a = −x/(x² + a²) (0 at the origin)",
    ),
    method(
        "hypot",
        BINARY,
        &["x", "a"],
        &["g * d::hypot_d(x, y)", "g * d::hypot_d(a, y)"],
        "FloatArgRules",
        FLOAT,
        "∂/∂x √(x² + a²) = x/y, ∂/∂a = a/y (0 at the origin)",
    ),
    method(
        "max",
        BINARY,
        &["x", "a"],
        &["g * d::share2(x, a, y)", "g * d::share2(a, x, y)"],
        "FloatRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::KINK.0),
        "the argument equal to the result gets g; at a tie each gets g/2",
    ),
    method(
        "min",
        BINARY,
        &["x", "a"],
        &["g * d::share2(x, a, y)", "g * d::share2(a, x, y)"],
        "FloatRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::KINK.0),
        "the argument equal to the result gets g; at a tie each gets g/2",
    ),
    method(
        "mul_add",
        TERNARY,
        &["x", "a", "b"],
        &["g * a", "g * x", "g"],
        "FloatRules",
        FLOAT,
        "x·a + b: ∂/∂x = a, ∂/∂a = x, ∂/∂b = 1",
    ),
    method(
        "clamp",
        TERNARY,
        &["x", "lo", "hi"],
        &[
            "g * d::share3(x, lo, hi, y)",
            "g * d::share3(lo, x, hi, y)",
            "g * d::share3(hi, x, lo, y)",
        ],
        "FloatArgRules",
        Flags(Flags::FLOAT_RESULT.0 | Flags::KINK.0),
        "the arguments equal to the result share g equally",
    ),
];

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
        &["g / b", "-g * y / b"],
        "ArithRules",
        Some(&[&[S(0), V(1)], &[S(0), V(1), V(2)]]),
        "∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b² = −y/b",
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
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_sign_positive",
    "is_sign_negative",
    "total_cmp",
    "partial_cmp",
    "to_bits",
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

/// What each reverse rule of the runtime's float-method traits reads, for the calls emitted on
/// values whose type the macro does not know (arrays). Keyed by `(method, operand)`; rules not
/// listed take every operand and the result.
pub const FLOAT_RULE_READS: &[(&str, usize, &[Arg])] = &[
    ("signum", 0, &[W, W]),
    ("floor", 0, &[W, W]),
    ("ceil", 0, &[W, W]),
    ("round", 0, &[W, W]),
    ("trunc", 0, &[W, W]),
    ("fract", 0, &[W, W]),
    ("to_degrees", 0, &[W, W]),
    ("to_radians", 0, &[W, W]),
    ("exp", 0, &[W, V(1)]),
    ("exp2", 0, &[W, V(1)]),
    ("exp_m1", 0, &[W, V(1)]),
    ("sqrt", 0, &[W, V(1)]),
    ("cbrt", 0, &[W, V(1)]),
    ("recip", 0, &[W, V(1)]),
    ("tan", 0, &[W, V(1)]),
    ("tanh", 0, &[W, V(1)]),
    ("ln", 0, &[V(0), W]),
    ("log2", 0, &[V(0), W]),
    ("log10", 0, &[V(0), W]),
    ("ln_1p", 0, &[V(0), W]),
    ("sin", 0, &[V(0), W]),
    ("cos", 0, &[V(0), W]),
    ("asin", 0, &[V(0), W]),
    ("acos", 0, &[V(0), W]),
    ("atan", 0, &[V(0), W]),
    ("sinh", 0, &[V(0), W]),
    ("cosh", 0, &[V(0), W]),
    ("asinh", 0, &[V(0), W]),
    ("acosh", 0, &[V(0), W]),
    ("atanh", 0, &[V(0), W]),
    ("abs", 0, &[V(0), W]),
    ("log", 0, &[V(0), V(1), W]),
    ("log", 1, &[W, V(1), V(2)]),
    ("atan2", 0, &[V(0), V(1), W]),
    ("atan2", 1, &[V(0), V(1), W]),
    ("powf", 0, &[V(0), V(1), W]),
    ("powf", 1, &[V(0), V(1), V(2)]),
    ("hypot", 0, &[V(0), V(1), V(2)]),
    ("hypot", 1, &[W, V(1), V(2)]),
    ("mul_add", 0, &[W, V(1), W, W]),
    ("mul_add", 1, &[V(0), W, W, W]),
    ("mul_add", 2, &[W, W, W, W]),
];
