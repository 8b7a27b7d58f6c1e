//! The float methods `#[differentiate]` knows derivative rules for, and methods known to return
//! discrete values. The rules themselves live in the runtime (`autodiff_runtime::rules`).

/// How a known method's rules are named and which operands they differentiate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MethodRule {
    /// The runtime trait that holds the rules (`FloatRules`, `DotRules`, `TensorRules`).
    pub trait_name: &'static str,
    /// Arguments after the receiver.
    pub n_args: usize,
    /// `true`: every operand is differentiable and rule `i` is `m_vjp_i`. `false`: only the
    /// receiver is, through `m_vjp` (or `m_vjp_0` when `indexed`).
    pub all_operands: bool,
    /// The receiver's rule is `m_vjp_0` even though it is the only one.
    pub indexed: bool,
    /// The result is a float (not a tensor or other value).
    pub float_result: bool,
}

impl MethodRule {
    /// The rule of operand `k`.
    pub fn rule_name(&self, method: &str, k: usize) -> String {
        if self.all_operands || self.indexed {
            format!("{method}_vjp_{k}")
        } else {
            format!("{method}_vjp")
        }
    }
}

/// A method with derivative rules: the float methods of `f32`/`f64` (also elementwise on
/// ndarray arrays) and ndarray's `dot`, `t`, `sum`, `mean`, `sum_axis`, `mean_axis`.
pub fn known_method(name: &str) -> Option<MethodRule> {
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
    let rule = |trait_name, n_args, all_operands, indexed, float_result| MethodRule {
        trait_name,
        n_args,
        all_operands,
        indexed,
        float_result,
    };
    Some(if UNARY.contains(&name) {
        rule("FloatRules", 0, false, false, true)
    } else if name == "powi" {
        rule("FloatRules", 1, false, false, true)
    } else if matches!(name, "powf" | "log" | "hypot") {
        // The argument may be a scalar while the receiver is an array.
        rule("FloatArgRules", 1, true, false, true)
    } else if name == "clamp" {
        rule("FloatArgRules", 2, true, false, true)
    } else if BINARY.contains(&name) {
        rule("FloatRules", 1, true, false, true)
    } else if TERNARY.contains(&name) {
        rule("FloatRules", 2, true, false, true)
    } else {
        match name {
            "dot" => rule("DotRules", 1, true, false, false),
            "t" | "sum" | "mean" => rule("TensorRules", 0, false, false, false),
            "sum_axis" | "mean_axis" | "slice" | "insert_axis" | "into_shape_with_order" => {
                rule("TensorRules", 1, false, true, false)
            }
            _ => return None,
        }
    })
}

/// Methods whose result is their receiver, value for value (`clone` copies, `view` borrows):
/// the cotangent passes straight through.
pub fn is_identity_method(name: &str) -> bool {
    matches!(name, "view" | "clone" | "to_owned" | "to_vec")
}

/// Methods that return a cheap view of their receiver: the backward pass recomputes them
/// rather than keeping a borrow.
pub fn is_view_method(name: &str) -> bool {
    matches!(name, "t" | "view" | "slice" | "insert_axis")
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

/// The methods with derivative rules, for the message about one without.
pub fn known_list() -> &'static str {
    "dot, t, sum, mean, sum_axis, mean_axis, slice, insert_axis, into_shape_with_order, view, \
     exp, exp2, exp_m1, ln, log, log2, log10, ln_1p, sqrt, cbrt, recip, powi, powf, sin, cos, tan, \
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
    /// a type witness. Only in `&Self` positions, whose type is the cotangent's.
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
        "powf_vjp_1" | "hypot_vjp_0" => &[V(0), V(1), V(2)],
        "hypot_vjp_1" => &[W, V(1), V(2)],
        // Three operands (x, a, b), result y.
        "mul_add_vjp_0" => &[W, V(1), W, W],
        "mul_add_vjp_1" => &[V(0), W, W, W],
        "mul_add_vjp_2" => &[W, W, W, W],
        // ndarray: (a, b, y) for dot, (x, y) or (x, axis, y) for the others.
        "dot_vjp_0" => &[S(0), V(1)],
        "dot_vjp_1" => &[V(0), S(1)],
        "t_vjp" | "sum_vjp" | "mean_vjp" => &[S(0)],
        "sum_axis_vjp_0"
        | "mean_axis_vjp_0"
        | "slice_vjp_0"
        | "insert_axis_vjp_0"
        | "into_shape_with_order_vjp_0" => &[S(0), V(1)],
        _ => return None,
    })
}

/// Macros that only print, format or check what they read (they cannot store a value where a
/// derivative would need to follow it): a differentiated value may flow into them.
pub fn is_output_macro(name: &str) -> bool {
    matches!(
        name,
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "format"
            | "format_args"
            | "write"
            | "writeln"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "panic"
            | "unreachable"
            | "todo"
            | "unimplemented"
            | "dbg"
            | "matches"
    )
}
