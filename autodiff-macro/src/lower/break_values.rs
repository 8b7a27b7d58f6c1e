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
    }
    out
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
