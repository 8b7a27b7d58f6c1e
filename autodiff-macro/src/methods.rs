//! The float methods `#[differentiate]` knows derivative rules for, and methods known to return
//! discrete values. The rules themselves live in the runtime (`autodiff_runtime::rules`).

/// How a known float method's rule is called.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    /// `x.m()`: `m_vjp(&x, &y, &g)`.
    Unary,
    /// `x.powi(n)` with an integer `n`: `powi_vjp(&x, &n, &y, &g)`, only `x` has a derivative.
    IntPower,
    /// `x.m(a)` / `x.m(a, b)`: `m_vjp_i(&x, &a, [&b,] &y, &g)` for operand `i` (0 is `x`).
    Multi,
}

/// A known float method: its name, number of arguments after the receiver, and rule shape.
pub fn float_method(name: &str) -> Option<(usize, Shape)> {
    const UNARY: &[&str] = &[
        "exp",
        "exp2",
        "exp_m1",
        "ln",
        "log2",
        "log10",
        "ln_1p",
        "sqrt",
        "cbrt",
        "recip",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "acosh",
        "atanh",
        "abs",
        "signum",
        "floor",
        "ceil",
        "round",
        "trunc",
        "fract",
        "to_degrees",
        "to_radians",
    ];
    const BINARY: &[&str] = &["log", "powf", "atan2", "hypot", "max", "min"];
    const TERNARY: &[&str] = &["mul_add", "clamp"];
    if UNARY.contains(&name) {
        Some((0, Shape::Unary))
    } else if name == "powi" {
        Some((1, Shape::IntPower))
    } else if BINARY.contains(&name) {
        Some((1, Shape::Multi))
    } else if TERNARY.contains(&name) {
        Some((2, Shape::Multi))
    } else {
        None
    }
}

/// Methods whose result is never differentiable (counts, predicates), whatever the receiver.
pub fn is_discrete_method(name: &str) -> bool {
    matches!(
        name,
        "len"
            | "is_empty"
            | "is_nan"
            | "is_finite"
            | "is_infinite"
            | "is_normal"
            | "is_sign_positive"
            | "is_sign_negative"
            | "total_cmp"
            | "partial_cmp"
            | "to_bits"
    )
}

/// All known float method names, for "did you mean" style hints.
pub fn known_list() -> &'static str {
    "exp, exp2, exp_m1, ln, log, log2, log10, ln_1p, sqrt, cbrt, recip, powi, powf, sin, cos, tan, \
     asin, acos, atan, atan2, sinh, cosh, tanh, asinh, acosh, atanh, hypot, abs, signum, max, min, \
     mul_add, clamp, floor, ceil, round, trunc, fract, to_degrees, to_radians"
}

/// One primal argument of a rule call, before the cotangent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arg {
    /// The value at this position of (operands…, result): saved by the forward pass.
    Value(usize),
    /// Only the shape of that value (`ShapeOf`, zero-sized for scalars).
    Shape(usize),
    /// An argument the rule does not read, of the cotangent's type: the cotangent is passed as
    /// a type witness. Only for rules whose arguments all have one type (the unary methods).
    Witness,
}

/// The primal arguments of a rule, for rules that do not take every operand and the result.
/// The forward pass keeps exactly what these name.
pub fn rule_args(rule: &str) -> Option<&'static [Arg]> {
    use Arg::{Shape as S, Value as V, Witness as W};
    Some(match rule {
        // Binary arithmetic, operands (a, b), result y.
        "add_vjp_0" | "add_vjp_1" | "sub_vjp_0" | "sub_vjp_1" => &[S(0), S(1)],
        "mul_vjp_0" | "div_vjp_0" => &[S(0), V(1)],
        "mul_vjp_1" => &[V(0), S(1)],
        "div_vjp_1" => &[S(0), V(1), V(2)],
        "neg_vjp" => &[],
        // Unary methods (x, y).
        "signum_vjp" | "floor_vjp" | "ceil_vjp" | "round_vjp" | "trunc_vjp" | "fract_vjp"
        | "to_degrees_vjp" | "to_radians_vjp" => &[W, W],
        "exp_vjp" | "exp2_vjp" | "exp_m1_vjp" | "sqrt_vjp" | "cbrt_vjp" | "recip_vjp"
        | "tan_vjp" | "tanh_vjp" => &[W, V(1)],
        "ln_vjp" | "log2_vjp" | "log10_vjp" | "ln_1p_vjp" | "sin_vjp" | "cos_vjp" | "asin_vjp"
        | "acos_vjp" | "atan_vjp" | "sinh_vjp" | "cosh_vjp" | "asinh_vjp" | "acosh_vjp"
        | "atanh_vjp" | "abs_vjp" => &[V(0), W],
        // Two operands (x, a), result y.
        "log_vjp_0" | "atan2_vjp_0" | "atan2_vjp_1" | "powf_vjp_0" => &[V(0), V(1), W],
        "log_vjp_1" => &[W, V(1), V(2)],
        "powf_vjp_1" | "hypot_vjp_0" => &[V(0), W, V(2)],
        "hypot_vjp_1" => &[W, V(1), V(2)],
        // Three operands (x, a, b), result y.
        "mul_add_vjp_0" => &[W, V(1), W, W],
        "mul_add_vjp_1" => &[V(0), W, W, W],
        "mul_add_vjp_2" => &[W, W, W, W],
        _ => return None,
    })
}
