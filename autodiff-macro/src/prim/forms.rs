//! A primitive's form written out as IR: what reverse mode does for a cotangent contribution
//! and forward mode for a tangent, on plain floats.

use quote::ToTokens;

use super::PrimId;
use crate::ir::{BinOp, InstKind, Value};
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

/// The form of operand `k` of `p` with its names bound (`x`, `a`, … to the operands, `y` to the
/// result, `g` to the cotangent or tangent it is linear in); `None` where operand `k` has no
/// form or its form is zero.
pub fn bound(
    p: PrimId,
    k: usize,
    ops: &[Value],
    y: Value,
    g: Value,
) -> Option<(syn::Expr, Vec<(&'static str, Value)>)> {
    let form = p.form(k)?;
    if is_zero(&form) {
        return None;
    }
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
