//! The largest or smallest element along an axis written as a fold, `x.fold_axis(axis, init,
//! |&a, &b| a.max(b))` (`min`, `f64::max(*a, *b)`, the operands in either order): the runtime's
//! `extremum::max_axis(x.view(), axis, init)` (`min_axis`), differentiated like any call (see
//! the runtime's `rules::tensor::extremum`). Another closure is the call as written, an error
//! where it reads a differentiated array.

use super::*;

/// The name a closure parameter binds: `a`, `&a`, `a: &f64`, `&a: &f64`.
fn bound(p: &Pat) -> Option<&syn::Ident> {
    match p {
        Pat::Ident(i) if i.subpat.is_none() => Some(&i.ident),
        Pat::Reference(r) => bound(&r.pat),
        Pat::Type(t) => bound(&t.pat),
        _ => None,
    }
}

/// The variable `e` reads, through `*` and parentheses.
fn read(e: &Expr) -> Option<&syn::Ident> {
    match chain::strip(e) {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => read(&u.expr),
        _ => None,
    }
}

/// Whether `e` is `max` (`largest`) or `min` of the closure's two parameters `a` and `b`:
/// `a.max(b)` or `T::max(a, b)`, in either order. `Some(largest)`.
fn extremum_of(e: &Expr, a: &syn::Ident, b: &syn::Ident) -> Option<bool> {
    let (name, x, y) = match chain::strip(e) {
        Expr::Block(blk) if blk.block.stmts.len() == 1 => {
            let Stmt::Expr(inner, None) = &blk.block.stmts[0] else {
                return None;
            };
            return extremum_of(inner, a, b);
        }
        Expr::MethodCall(mc) if mc.args.len() == 1 => {
            (mc.method.clone(), &*mc.receiver, &mc.args[0])
        }
        Expr::Call(c) if c.args.len() == 2 => {
            let Expr::Path(f) = &*c.func else { return None };
            (
                f.path.segments.last()?.ident.clone(),
                &c.args[0],
                &c.args[1],
            )
        }
        _ => None?,
    };
    let (x, y) = (read(x)?, read(y)?);
    let operands = (x == a && y == b) || (x == b && y == a);
    match name.to_string().as_str() {
        "max" if operands => Some(true),
        "min" if operands => Some(false),
        _ => None,
    }
}

impl Lowering {
    /// `x.fold_axis(axis, init, |&a, &b| a.max(b))` (`min`) as the runtime's extremum along the
    /// axis: `None` for any other call.
    pub(super) fn fold_extremum(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
    ) -> Option<Option<Value>> {
        if mc.method != "fold_axis" || mc.args.len() != 3 || mc.turbofish.is_some() {
            return None;
        }
        let Expr::Closure(c) = chain::strip(&mc.args[2]) else {
            return None;
        };
        let [p, q] = &c.inputs.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let largest = extremum_of(&c.body, bound(p)?, bound(q)?)?;
        let (krate, x, axis, init) = (&self.krate, &mc.receiver, &mc.args[0], &mc.args[1]);
        let span = mc.method.span();
        let func = syn::Ident::new(if largest { "max_axis" } else { "min_axis" }, span);
        let e: Expr = syn::parse_quote_spanned! {span=>
            #krate::__private::extremum::#func((#x).view(), #axis, #init)
        };
        Some(self.expr(b, &e, true))
    }
}
