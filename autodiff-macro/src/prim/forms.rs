//! A primitive's form written out as IR: what reverse mode does for a cotangent contribution
//! and forward mode for a tangent, on plain floats.

use quote::ToTokens;

use std::collections::HashSet;

use super::PrimId;
use crate::ir::{BinOp, Func, InstKind, Value, ValueDef};
use crate::scalars::{FloatTy, Ty};

/// Emits `e` (a form of the table) through `emit`, with the names of `env` bound to values, all
/// of float type `t`; returns the value of the whole expression.
pub fn instantiate(
    e: &syn::Expr,
    env: &[(&str, Value)],
    t: FloatTy,
    emit: &mut dyn FnMut(InstKind, Ty) -> Value,
) -> Value {
    let ty = Ty::Float(t);
    match e {
        syn::Expr::Path(p) => {
            let name = p
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, v)| v)
                .unwrap_or_else(|| panic!("autodiff: a form names `{name}`, not an operand"))
        }
        syn::Expr::Lit(l) => emit(InstKind::Const(l.to_token_stream()), ty),
        syn::Expr::Paren(p) => instantiate(&p.expr, env, t, emit),
        syn::Expr::Unary(u) => {
            let a = instantiate(&u.expr, env, t, emit);
            emit(InstKind::Neg(a), ty)
        }
        syn::Expr::Binary(b) => {
            let l = instantiate(&b.left, env, t, emit);
            let r = instantiate(&b.right, env, t, emit);
            let op = match b.op {
                syn::BinOp::Add(_) => BinOp::Add,
                syn::BinOp::Sub(_) => BinOp::Sub,
                syn::BinOp::Mul(_) => BinOp::Mul,
                syn::BinOp::Div(_) => BinOp::Div,
                _ => panic!("autodiff: unsupported operator in a form"),
            };
            emit(InstKind::Binary(op, l, r), ty)
        }
        syn::Expr::MethodCall(mc) => {
            let recv = instantiate(&mc.receiver, env, t, emit);
            let mut args = vec![recv];
            for a in &mc.args {
                args.push(instantiate(a, env, t, emit));
            }
            let name = mc.method.to_string();
            let prim = PrimId::method(&name)
                .unwrap_or_else(|| panic!("autodiff: a form calls `{name}`, not a primitive"));
            emit(
                InstKind::Prim {
                    prim,
                    args,
                    unwrap: false,
                },
                ty,
            )
        }
        syn::Expr::Call(c) => {
            let name = match &*c.func {
                syn::Expr::Path(p) => p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default(),
                _ => panic!("autodiff: a form calls something other than a helper"),
            };
            let args = c
                .args
                .iter()
                .map(|a| instantiate(a, env, t, emit))
                .collect();
            emit(InstKind::Helper { name, args }, ty)
        }
        _ => panic!("autodiff: unsupported expression in a form"),
    }
}

/// Whether a form is the literal `0` (a derivative that is zero everywhere).
pub fn is_zero(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Lit(l) if l.to_token_stream().to_string() == "0")
}

/// The operand of a square `x * x`, the product of a value with itself.
///
/// Its derivative goes through [`doubled`] instead of the product's two forms: `g * (x + x)`
/// where they give `g * x` twice (in reverse mode two contributions, in forward mode a sum of
/// two products). The value is the same rounding for rounding (doubling is exact), but `x + x`
/// does not wait for `g`, so the chain through `g` is one multiplication long, as in a
/// hand-written `2·x·g`.
pub fn squared(p: PrimId, ops: &[Value]) -> Option<Value> {
    match ops {
        [a, b] if a == b && PrimId::binary(BinOp::Mul) == Some(p) => Some(*a),
        _ => None,
    }
}

/// `g * (x + x)` on plain floats of type `t`: the derivative of [`squared`]'s `x * x` along `g`.
pub fn doubled(
    x: Value,
    g: Value,
    t: FloatTy,
    emit: &mut dyn FnMut(InstKind, Ty) -> Value,
) -> Value {
    let twice = emit(InstKind::Binary(BinOp::Add, x, x), Ty::Float(t));
    emit(InstKind::Binary(BinOp::Mul, g, twice), Ty::Float(t))
}

/// Float methods whose cotangent is exactly 0 where their argument is infinite (their
/// derivative tends to 0 there and is computed as such: `g·y` of `exp` at −∞, `g·(1 − y²)` of
/// `tanh` at ±∞), and whose tangent is too (`y·dx`).
pub const SATURATING: &[&str] = &["exp", "exp2", "exp_m1", "tanh", "atan", "recip"];

/// In a function that names an infinity (see [`names_infinity`]), the products whose value
/// reaches a method in [`SATURATING`] through sums, differences and negations, and the results
/// of those methods: where the product is infinite (an inverse temperature times an infinite
/// table entry, `((v - mx) * inv_tau).exp()`), the method's derivative there is 0. The
/// product's tangent `da·b + a·db` with a zero `db` must then not be `∞·0`, nor the method's
/// `f'(x)·dx` with `f'(x) = 0` and an infinite `dx`: their forward rules test for it (see
/// `forward`, [`saturated`]). Elsewhere the tests would cost the hot path of every such
/// product (`(-y * z).exp()` of a logistic loss). One walk back from the methods' arguments.
pub fn saturated_products(f: &Func) -> HashSet<Value> {
    let mut out = HashSet::new();
    if !names_infinity(f) {
        return out;
    }
    let mut todo: Vec<Value> = Vec::new();
    for i in &f.insts {
        if let InstKind::Prim { prim, args, .. } = &i.kind
            && SATURATING.contains(&prim.name())
        {
            out.extend(i.results.first().copied());
            todo.extend(args.first().copied());
        }
    }
    let mut seen = HashSet::new();
    while let Some(v) = todo.pop() {
        if !seen.insert(v) {
            continue;
        }
        let ValueDef::Result(i, 0) = f.value(v).def else {
            continue;
        };
        match f.inst(i).kind {
            InstKind::Binary(BinOp::Mul, ..) => {
                out.insert(v);
            }
            InstKind::Binary(BinOp::Add | BinOp::Sub, a, b) => todo.extend([a, b]),
            InstKind::Neg(a) => todo.push(a),
            _ => {}
        }
    }
    out
}

/// Whether `f` names `f64::INFINITY` or `NEG_INFINITY` (of any float type) in its code, or
/// tests a value for one (`is_finite`, `is_infinite`): the tables whose entries are infinite
/// (soft-DTW's boundary, an alignment's) start from one, and a function that tests its data
/// for infinities (`if costs[i].is_finite() { .. }`, a forbidden pair's cost given by the
/// caller) expects them where its temperature divides them.
pub fn names_infinity(f: &Func) -> bool {
    fn names(id: &proc_macro2::Ident) -> bool {
        id == "INFINITY" || id == "NEG_INFINITY" || id == "is_finite" || id == "is_infinite"
    }
    fn infinite(t: &proc_macro2::TokenStream) -> bool {
        t.clone().into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(id) => names(&id),
            proc_macro2::TokenTree::Group(g) => infinite(&g.stream()),
            _ => false,
        })
    }
    f.insts.iter().any(|i| match &i.kind {
        InstKind::Const(t) => infinite(t),
        InstKind::Opaque { tokens, .. } => infinite(tokens),
        InstKind::Method { name, .. } => names(name),
        _ => false,
    })
}

/// Whether `v` is a constant written in the function (`2.0`, `-2.0`): a product by one needs
/// no test for `0·∞` in the other factor's rule.
pub fn is_constant(f: &Func, v: Value) -> bool {
    match f.value(v).def {
        crate::ir::ValueDef::Result(i, 0) => match f.inst(i).kind {
            InstKind::Const(_) => true,
            InstKind::Neg(x) => is_constant(f, x),
            _ => false,
        },
        _ => false,
    }
}

/// The tangent of a method in [`SATURATING`] as `d::times_along(f'(x), g)`: exactly 0 where
/// its derivative is, also along an infinite tangent. `None` for another primitive.
pub fn saturated(p: PrimId) -> Option<syn::Expr> {
    let src = match p.name() {
        "exp" => "d::times_along(y, g)",
        "exp2" => "d::times_along(y * 0.6931471805599453, g)",
        "exp_m1" => "d::times_along(y + 1.0, g)",
        "tanh" => "d::times_along(1.0 - y * y, g)",
        "atan" => "d::times_along(1.0 / (1.0 + x * x), g)",
        "recip" => "d::times_along(-(y * y), g)",
        _ => return None,
    };
    Some(syn::parse_str(src).expect("autodiff: a saturated form parses"))
}

/// The form of operand `k` of a product or quotient whose cotangent may be exactly 0 where a
/// partial is infinite (see `reverse::read_in_branches`): a zero cotangent gives 0, where
/// `0·∞` would be NaN. `None` for other primitives.
fn guarded(p: PrimId, k: usize) -> Option<syn::Expr> {
    let src = match (p.name(), k) {
        ("mul", 0) => "d::times_along(g, b)",
        ("mul", 1) => "d::times_along(g, a)",
        ("div", 0) => "d::over_along(g, b)",
        ("div", 1) => "-d::over_along(d::times_along(g, y), b)",
        _ => return None,
    };
    Some(syn::parse_str(src).expect("autodiff: a guarded form parses"))
}

/// Whether a form gives 0 for a zero cotangent by itself: a call of a helper that tests for
/// it (`d::over_along`, `d::times_along`, …) or picks a share of it (`d::pick2`), or its
/// negation.
fn keeps_zero(form: &syn::Expr) -> bool {
    match form {
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => keeps_zero(&u.expr),
        syn::Expr::Paren(p) => keeps_zero(&p.expr),
        syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p)
        if p.path.segments.last().is_some_and(|s| {
            let name = s.ident.to_string();
            name.ends_with("_along") || name.starts_with("pick")
        })),
        _ => false,
    }
}

/// The form of operand `k` of `p` with its names bound (`x`, `a`, … to the operands, `y` to the
/// result, `g` to the cotangent or tangent it is linear in); `None` where operand `k` has no
/// form or its form is zero. With `guard`, a product's or quotient's form is [`guarded`], and
/// any other form `e` is `d::zero_along(g, e)`. A form `given` replaces the table's (see
/// [`saturated`]).
pub fn bound(
    p: PrimId,
    k: usize,
    ops: &[Value],
    y: Value,
    g: Value,
    guard: bool,
    given: Option<syn::Expr>,
) -> Option<(syn::Expr, Vec<(&'static str, Value)>)> {
    let form = given
        .or_else(|| guarded(p, k).filter(|_| guard))
        .or_else(|| p.form(k))?;
    if is_zero(&form) {
        return None;
    }
    // Any other rule of such a value: its form times a zero cotangent is 0 wherever the
    // form is NaN only through `0·∞` (`a.mul_add(x.ln(), 1.0)` at `x = 0`).
    let form = match guard && guarded(p, k).is_none() && !keeps_zero(&form) {
        true => syn::parse_quote!(d::zero_along(g, #form)),
        false => form,
    };
    let mut env: Vec<(&'static str, Value)> = p
        .def()
        .operands
        .iter()
        .copied()
        .zip(ops.iter().copied())
        .collect();
    env.push(("y", y));
    env.push(("g", g));
    Some((form, env))
}

/// The derivative helpers' own partial derivatives, as forms (for second derivatives: the
/// tangent of a pullback that uses them): `(helper, its argument names, per argument the form,
/// or "" for an argument it is constant in)`.
const HELPER_PARTIALS: &[(&str, &[&str], &[&str])] = &[
    // t/d, 0 where t = 0 (the derivative along a tangent `t` of a rule infinite at a point).
    (
        "over_along",
        &["t", "d"],
        &[
            "d::over_along(g, d)",
            "-(d::over_along(g * d::over_along(t, d), d))",
        ],
    ),
    // p, 0 where p is NaN and t = 0: constant in the cotangent `t` (it only selects), the
    // same selection of the tangent of `p`.
    ("zero_along", &["t", "p"], &["", "d::zero_along(t, g)"]),
    // t·d, 0 where t = 0.
    (
        "times_along",
        &["t", "d"],
        &["d::times_along(g, d)", "d::times_along(t, g)"],
    ),
    // c times the share of `max`/`min` that `v` gets: constant in the arguments (between
    // ties), linear in the cotangent `c`.
    (
        "pick2",
        &["v", "o", "y", "c"],
        &["", "", "", "d::pick2(v, o, y, g)"],
    ),
    // The same for `clamp`.
    (
        "pick3",
        &["v", "o1", "o2", "y", "c"],
        &["", "", "", "", "d::pick3(v, o1, o2, y, g)"],
    ),
    // x/y, 0 at y = 0.
    (
        "hypot_d",
        &["x", "y"],
        &[
            "g * d::hypot_d(1.0, y)",
            "-(g * d::hypot_d(d::hypot_d(x, y), y))",
        ],
    ),
    // a/s with s = x² + a², 0 at the origin.
    (
        "atan2_d0",
        &["x", "a"],
        &[
            "-(g * 2.0 * x * d::atan2_d0(x, a) * d::hypot_d(1.0, x * x + a * a))",
            "g * (1.0 - 2.0 * a * d::atan2_d0(x, a)) * d::hypot_d(1.0, x * x + a * a)",
        ],
    ),
    // −x/s.
    (
        "atan2_d1",
        &["x", "a"],
        &[
            "g * (2.0 * x * x * d::hypot_d(1.0, x * x + a * a) - 1.0) * d::hypot_d(1.0, x * x + a * a)",
            "g * 2.0 * a * x * d::hypot_d(1.0, x * x + a * a) * d::hypot_d(1.0, x * x + a * a)",
        ],
    ),
    // p·xᵖ⁻¹, constant 0 at p = 0 (where p·(p − 1)·xᵖ⁻² would be 0·∞ at x = 0).
    (
        "powf_dx",
        &["x", "p"],
        &[
            "d::times_along(g * p, d::powf_dx(x, p - 1.0))",
            "d::times_along(g, d::powf_dxdp(x, p))",
        ],
    ),
    // y·ln x with y = xᵖ: at x = 0 (y = 0, p > 1) both partials' terms are 0, not 0·ln 0.
    (
        "powf_dp",
        &["x", "y"],
        &["g * d::hypot_d(y, x)", "d::ln_along(g, x)"],
    ),
    // n·xⁿ⁻¹ (y is read only where n − 1 overflows).
    (
        "powi_d",
        &["x", "n", "y"],
        &["g * d::powi_d2(x, n)", "", ""],
    ),
];

/// The partial of derivative helper `name` in its argument `k`, with its names bound (`g` to
/// the argument's tangent); `None` where it is constant in that argument.
pub fn helper_partial(
    name: &str,
    k: usize,
    args: &[Value],
    g: Value,
) -> Option<(syn::Expr, Vec<(&'static str, Value)>)> {
    let (_, names, partials) = HELPER_PARTIALS.iter().find(|(n, _, _)| *n == name)?;
    let src = partials.get(k).filter(|f| !f.is_empty())?;
    let form: syn::Expr = syn::parse_str(src).unwrap_or_else(|e| {
        panic!("autodiff: the partial `{src}` of `{name}` does not parse: {e}")
    });
    let mut env: Vec<(&'static str, Value)> =
        names.iter().copied().zip(args.iter().copied()).collect();
    env.push(("g", g));
    Some((form, env))
}
