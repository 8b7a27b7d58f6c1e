//! Methods taking `&mut self`: `#[differentiate]` on `fn step(&mut self, dt: f64)` keeps the
//! method as written and differentiates a copy that takes `self` by value and returns it,
//!
//! ```text
//! fn __ad_mut_step(mut self, dt: f64) -> Self { body; self }
//! ```
//!
//! with every `return;` of the body (outside closures) made `return self;`. A differentiated
//! function that calls `s.step(dt);` on a `mut` variable of the struct's type calls
//! `s = State::__ad_mut_step(s, dt)` instead (`lower::calls::mut_self_call`): the new state is a
//! new version of `s`, and the derivative follows it as it follows any method taking `self`.

use quote::format_ident;
use syn::visit_mut::VisitMut;

/// The by-value copy of a method taking `&mut self` and returning nothing (see the module
/// docs); `None` for any other function (one taking `&mut self` and returning a value is
/// reported by `Signature::read`).
pub fn by_value(f: &syn::ItemFn) -> Option<Result<syn::ItemFn, syn::Error>> {
    let mut_self = matches!(
        f.sig.inputs.first(),
        Some(syn::FnArg::Receiver(r)) if crate::types::receiver_type(r).is_err()
    );
    let unit = match &f.sig.output {
        syn::ReturnType::Default => true,
        syn::ReturnType::Type(_, t) => matches!(&**t, syn::Type::Tuple(tt) if tt.elems.is_empty()),
    };
    if !mut_self || !unit {
        return None;
    }
    let mut g = f.clone();
    g.sig.ident = format_ident!("__ad_mut_{}", f.sig.ident, span = f.sig.ident.span());
    g.sig.inputs[0] = syn::parse_quote_spanned!(f.sig.ident.span()=> mut self);
    g.sig.output = syn::parse_quote!(-> Self);
    g.attrs.retain(|a| a.path().is_ident("allow"));
    g.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    let mut body = (*f.block).clone();
    let mut returns = ReturnSelf {
        loops: 0,
        in_loop: None,
    };
    returns.visit_block_mut(&mut body);
    if let Some(at) = returns.in_loop {
        return Some(Err(syn::Error::new(
            at,
            "a `return` inside a loop of a differentiated method taking `&mut self` is not \
             supported: leave the loop with `break` and skip what follows with an `if` (or \
             return from outside the loop)",
        )));
    }
    if let Some(syn::Stmt::Expr(_, semi @ None)) = body.stmts.last_mut() {
        *semi = Some(Default::default());
    }
    body.stmts
        .push(syn::Stmt::Expr(syn::parse_quote!(self), None));
    g.block = Box::new(body);
    Some(Ok(g))
}

/// `return;` → `return self;`, outside closures and nested items; the first `return` inside a
/// loop, which the by-value copy cannot give `self` from (it is carried by the loop).
struct ReturnSelf {
    loops: usize,
    in_loop: Option<proc_macro2::Span>,
}

impl VisitMut for ReturnSelf {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            syn::Expr::Closure(_) => {}
            syn::Expr::Return(r) => {
                if self.loops > 0 && self.in_loop.is_none() {
                    self.in_loop = Some(syn::spanned::Spanned::span(&r.return_token));
                }
                if r.expr.is_none() {
                    r.expr = Some(Box::new(syn::parse_quote!(self)));
                }
            }
            syn::Expr::ForLoop(_) | syn::Expr::While(_) | syn::Expr::Loop(_) => {
                self.loops += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.loops -= 1;
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
