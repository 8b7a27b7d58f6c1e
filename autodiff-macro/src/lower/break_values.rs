//! `loop` as an expression: the value a `break` carries out of it.
//!
//! `let r = loop { .. if done { break s * 2.0; } .. };` (also `x = loop { .. };` and a loop
//! that is a block's value) is rewritten before lowering into a variable the loop assigns,
//!
//! ```text
//! let mut __ad_break_value_0 = Default::default();
//! loop { .. if done { __ad_break_value_0 = s * 2.0; break; } .. }
//! let r = __ad_break_value_0;
//! ```
//!
//! which the loop lowering follows like any variable a loop assigns: its first value is a
//! constant, so only what a `break` stores there carries a derivative. The type comes from the
//! `let`'s annotation where there is one and from the assignments otherwise.
//!
//! A loop inside an expression (`2.0 * loop { .. }`, `f(x, loop { .. })`, `y += c * loop {
//! .. }`) is bound first the same way, before the statement, where the statement evaluates it
//! in any case (not inside an `if`, a `match`, a closure, `&&` or `||`) and what the statement
//! evaluates before it has no effect the loop could see or change: literals, variables the
//! loop does not assign, and operators, fields, indices, casts, float methods and function
//! calls of them.

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

/// The statements with every loop whose value is used rewritten as above; `made` numbers the
/// hidden variables.
pub(super) fn break_values(stmts: Vec<Stmt>, made: &mut usize) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(stmts.len());
    let last = stmts.len().saturating_sub(1);
    for (k, stmt) in stmts.into_iter().enumerate() {
        match stmt {
            Stmt::Local(mut local) => {
                let found = local
                    .init
                    .as_mut()
                    .filter(|i| i.diverge.is_none())
                    .and_then(|i| {
                        let ty = match &local.pat {
                            syn::Pat::Type(pt) => Some((*pt.ty).clone()),
                            _ => None,
                        };
                        take_loop(&mut i.expr, made).map(|(tmp, lp)| (tmp, lp, ty))
                    });
                match found {
                    Some((tmp, lp, ty)) => {
                        out.push(declare(&tmp, ty.as_ref(), span_of(&lp)));
                        out.push(Stmt::Expr(lp, Some(Default::default())));
                        out.push(Stmt::Local(local));
                    }
                    None => out.push(Stmt::Local(local)),
                }
            }
            Stmt::Expr(Expr::Assign(mut a), semi) => match take_loop(&mut a.right, made) {
                Some((tmp, lp)) => {
                    out.push(declare(&tmp, None, span_of(&lp)));
                    out.push(Stmt::Expr(lp, Some(Default::default())));
                    out.push(Stmt::Expr(Expr::Assign(a), semi));
                }
                None => out.push(Stmt::Expr(Expr::Assign(a), semi)),
            },
            Stmt::Expr(mut e, None) if k == last => match take_loop(&mut e, made) {
                Some((tmp, lp)) => {
                    out.push(declare(&tmp, None, span_of(&lp)));
                    out.push(Stmt::Expr(lp, Some(Default::default())));
                    out.push(Stmt::Expr(e, None));
                }
                None => out.push(Stmt::Expr(e, None)),
            },
            s => out.push(s),
        }
        // A loop inside the statement's expression.
        if let Some(last) = out.last_mut() {
            let mut hoisted = Vec::new();
            match last {
                Stmt::Local(local) => {
                    if let Some(init) = local.init.as_mut().filter(|i| i.diverge.is_none()) {
                        hoist_loops(&mut init.expr, made, &mut hoisted);
                    }
                }
                Stmt::Expr(e, _) => hoist_loops(e, made, &mut hoisted),
                _ => {}
            }
            if !hoisted.is_empty() {
                let stmt = out.pop().expect("the statement just pushed");
                out.extend(hoisted);
                out.push(stmt);
            }
        }
    }
    out
}

/// Binds each loop with a value inside `e` that [`nested_loop`] finds to a hidden variable,
/// its declaration and the loop pushed to `out` in the order the statement evaluates them.
fn hoist_loops(e: &mut Expr, made: &mut usize, out: &mut Vec<Stmt>) {
    // `x = loop { .. }`, `return loop { .. }`: the loop is the operand.
    let e = match e {
        Expr::Assign(a) => &mut *a.right,
        Expr::Return(r) => match r.expr.as_deref_mut() {
            Some(x) => x,
            None => return,
        },
        e => e,
    };
    // [`nested_loop`] copies each operand it passes (what is evaluated before a loop), which
    // is quadratic in a sum of thousands of terms: it looks only where there is a loop.
    if !has_loop(e) {
        return;
    }
    loop {
        let mut before = Vec::new();
        let Some((tmp, lp)) = nested_loop(e, &mut before, made) else {
            return;
        };
        out.push(declare(&tmp, None, span_of(&lp)));
        out.push(Stmt::Expr(lp, Some(Default::default())));
    }
}

/// Whether `e` contains a `loop` anywhere.
fn has_loop(e: &Expr) -> bool {
    struct Finds(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finds {
        fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {
            self.0 = true;
        }
    }
    let mut finds = Finds(false);
    syn::visit::Visit::visit_expr(&mut finds, e);
    finds.0
}

/// The first loop with a value that `e` evaluates in any case, taken out as [`take_loop`] does,
/// where what is evaluated before it (`before`, collected on the way) is free of effects the
/// loop could see or change.
fn nested_loop(
    e: &mut Expr,
    before: &mut Vec<Expr>,
    made: &mut usize,
) -> Option<(syn::Ident, Expr)> {
    use syn::BinOp as B;
    if let Expr::Loop(lp) = e {
        if !independent(before, lp) {
            return None;
        }
        return take_loop(e, made);
    }
    // Each operand in the order Rust evaluates them.
    let operands: Vec<&mut Expr> = match e {
        Expr::Paren(p) => vec![&mut *p.expr],
        Expr::Group(g) => vec![&mut *g.expr],
        Expr::Binary(b) if matches!(b.op, B::And(_) | B::Or(_)) => return None,
        Expr::Binary(b) => vec![&mut *b.left, &mut *b.right],
        Expr::Unary(u) => vec![&mut *u.expr],
        Expr::Cast(c) => vec![&mut *c.expr],
        Expr::Reference(r) => vec![&mut *r.expr],
        Expr::Field(f) => vec![&mut *f.base],
        Expr::Index(ix) => vec![&mut *ix.expr, &mut *ix.index],
        Expr::Call(c) => c.args.iter_mut().collect(),
        Expr::MethodCall(mc) => std::iter::once(&mut *mc.receiver)
            .chain(mc.args.iter_mut())
            .collect(),
        Expr::Tuple(t) => t.elems.iter_mut().collect(),
        Expr::Array(a) => a.elems.iter_mut().collect(),
        _ => return None,
    };
    for op in operands {
        if let Some(found) = nested_loop(op, before, made) {
            return Some(found);
        }
        before.push(op.clone());
    }
    None
}

/// Whether the loop may run before the expressions `before` without changing what they
/// compute, and they before it: they call nothing, and the loop assigns none of the variables
/// they name.
fn independent(before: &[Expr], lp: &syn::ExprLoop) -> bool {
    fn pure(e: &Expr) -> bool {
        match e {
            Expr::Lit(_) | Expr::Path(_) => true,
            Expr::Paren(p) => pure(&p.expr),
            Expr::Group(g) => pure(&g.expr),
            Expr::Binary(b) => !super::is_compound_assign(&b.op) && pure(&b.left) && pure(&b.right),
            Expr::Unary(u) => pure(&u.expr),
            Expr::Cast(c) => pure(&c.expr),
            Expr::Reference(r) => r.mutability.is_none() && pure(&r.expr),
            Expr::Field(f) => pure(&f.base),
            Expr::Index(ix) => pure(&ix.expr) && pure(&ix.index),
            Expr::Tuple(t) => t.elems.iter().all(pure),
            // A function given such values (no `&mut`): it cannot see the loop's variables.
            Expr::Call(c) => matches!(&*c.func, Expr::Path(_)) && c.args.iter().all(pure),
            // A float method (`x.sin()`) or a shape query (`v.len()`).
            Expr::MethodCall(mc) => {
                let name = mc.method.to_string();
                (crate::prim::PrimId::method(&name).is_some() || super::is_shape_query(&name))
                    && pure(&mc.receiver)
                    && mc.args.iter().all(pure)
            }
            _ => false,
        }
    }
    use syn::visit::Visit;
    if !before.iter().all(pure) {
        return false;
    }
    let mut written = super::syntax::AssignedNames::default();
    written.visit_expr_loop(lp);
    let mut named = super::syntax::AssignedNames::default();
    for e in before {
        named.visit_expr(e);
    }
    !named.1.iter().any(|n| written.0.contains(n))
}

/// `let mut tmp: ty = Default::default();`
/// The span is the loop's: where its value's type has no `Default` (a struct of the user's
/// without `#[derive(Default)]`), rustc's error points at the loop.
fn declare(tmp: &syn::Ident, ty: Option<&syn::Type>, span: proc_macro2::Span) -> Stmt {
    let init: Expr = syn::parse_quote_spanned! {span=> ::core::default::Default::default() };
    match ty {
        Some(ty) => syn::parse_quote! { let mut #tmp: #ty = #init; },
        None => syn::parse_quote! { let mut #tmp = #init; },
    }
}

fn span_of(lp: &Expr) -> proc_macro2::Span {
    match lp {
        Expr::Loop(l) => l.loop_token.span,
        e => syn::spanned::Spanned::span(e),
    }
}

/// Where `e` is a `loop` (in parentheses or not) with a `break` carrying a value: the loop
/// with those breaks assigning a new hidden variable, and `e` replaced by that variable.
fn take_loop(e: &mut Expr, made: &mut usize) -> Option<(syn::Ident, Expr)> {
    let lp = match e {
        Expr::Paren(p) => match &mut *p.expr {
            Expr::Loop(lp) => lp,
            _ => return None,
        },
        Expr::Loop(lp) => lp,
        _ => return None,
    };
    let tmp = quote::format_ident!("__ad_break_value_{}", *made);
    let mut breaks = Breaks {
        tmp: &tmp,
        label: lp.label.as_ref().map(|l| l.name.ident.to_string()),
        depth: 0,
        found: false,
    };
    breaks.visit_block_mut(&mut lp.body);
    if !breaks.found {
        return None;
    }
    *made += 1;
    let lp = Expr::Loop(lp.clone());
    *e = syn::parse_quote!(#tmp);
    Some((tmp, lp))
}

/// Rewrites `break v` of one loop (`depth` 0, or its label from a loop inside it) into
/// `{ tmp = v; break }`; closures and items inside are left alone.
struct Breaks<'a> {
    tmp: &'a syn::Ident,
    label: Option<String>,
    depth: usize,
    found: bool,
}

impl VisitMut for Breaks<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.depth += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.depth -= 1;
            }
            Expr::Break(br) if br.expr.is_some() => {
                let ours = match &br.label {
                    Some(l) => self.label.as_deref() == Some(&*l.ident.to_string()),
                    None => self.depth == 0,
                };
                if let Some(v) = br.expr.as_mut() {
                    self.visit_expr_mut(v);
                }
                if ours {
                    self.found = true;
                    let tmp = self.tmp;
                    let v = br.expr.take();
                    let label = &br.label;
                    *e = syn::parse_quote_spanned! {br.break_token.span=>
                        { #tmp = #v; break #label; }
                    };
                }
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    /// A `break v;` statement is two statements, `tmp = v; break;`, not a block.
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        let tmp = self.tmp;
        let ours = |b: &syn::ExprBlock| {
            b.label.is_none()
                && b.block.stmts.len() == 2
                && matches!(&b.block.stmts[0], Stmt::Expr(Expr::Assign(a), _)
                    if matches!(&*a.left, Expr::Path(p) if p.path.is_ident(tmp)))
        };
        if block
            .stmts
            .iter()
            .any(|s| matches!(s, Stmt::Expr(Expr::Block(b), _) if ours(b)))
        {
            let mut out = Vec::with_capacity(block.stmts.len() + 1);
            for s in std::mem::take(&mut block.stmts) {
                match s {
                    Stmt::Expr(Expr::Block(b), _) if ours(&b) => out.extend(b.block.stmts),
                    s => out.push(s),
                }
            }
            block.stmts = out;
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
