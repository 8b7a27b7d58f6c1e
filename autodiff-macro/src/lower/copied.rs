//! `&mut` parameters left out of `wrt` that hold a scalar or a fixed-size array of scalars and
//! that the function reads as well as writes: a random generator's state (`seed: &mut u64`,
//! advanced with `*seed = seed.wrapping_mul(..)` and read with `(*seed >> 11) as f64`), a
//! counter the function tests (`*evals += 1; if *evals > 100 { .. }`), the best value so far
//! (`best: &mut f64`).
//!
//! Such a parameter is followed as a local copy: the body starts with `let mut
//! __ad_copy_seed = *seed;`, reads and writes the copy wherever it named `*seed` (or `seed`
//! as a method's receiver or an indexed array), and writes the copy back at every exit
//! (`*seed = __ad_copy_seed;` before the value is returned, at the end and at each `return`).
//! What the caller passes in is data, since the parameter is left out of `wrt`, and the copy
//! is an ordinary local from there on: a float written into it carries its derivative to
//! what reads it later. The write-back is a record for the caller (`lower::sinks`), run as
//! written in the forward pass of each generated function, so the caller sees the same value
//! after `f_grad` as after `f`.
//!
//! The rewrite applies only where every mention of the parameter is one of those forms, not in
//! a closure, and never shadowed; anything else is left to the errors that say what to write.
//! A `return` inside a loop is an error of its own (the write-back would be a write inside the
//! loop, which the records for the caller cannot be). A
//! parameter the body only writes (`*evals += 1;` and nothing else) stays a record for the
//! caller as it was.

use super::*;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

const PREFIX: &str = "__ad_copy_";

/// Whether `name` is the local copy of a parameter (see the module docs).
pub(super) fn is_copy(name: &str) -> bool {
    name.starts_with(PREFIX)
}

/// Whether `ty` is `&mut T` with `T` a scalar (a float, an integer, `bool`, `char`) or a
/// fixed-size array of them: a `Copy` value that a `let` copies whole.
fn copied_type(ty: &syn::Type) -> bool {
    fn scalar_or_array(t: &syn::Type) -> bool {
        match t {
            syn::Type::Array(a) => scalar_or_array(&a.elem),
            syn::Type::Paren(p) => scalar_or_array(&p.elem),
            t if crate::types::is_float_type(t) => true,
            syn::Type::Path(p) if p.qself.is_none() => p
                .path
                .get_ident()
                .is_some_and(|i| crate::types::is_primitive_scalar(&i.to_string())),
            _ => false,
        }
    }
    matches!(ty, syn::Type::Reference(r) if r.mutability.is_some() && scalar_or_array(&r.elem))
}

/// Rewrites `block` so that each `&mut` parameter left out of `wrt` described in the module
/// docs is a local copy written back at every exit; `sinks` are the parameters the body only
/// writes, left as they are. The errors are for parameters that would be copied but for a
/// `return` inside a loop.
pub(super) fn copy_in_out(
    block: &mut syn::Block,
    params: &[Param],
    sinks: &[String],
) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let mut names: Vec<syn::Ident> = Vec::new();
    for p in params {
        if !p.inactive_mut_ref() || !copied_type(&p.ty) || sinks.iter().any(|s| p.ident == s) {
            continue;
        }
        let mut scan = Uses {
            name: &p.ident,
            uses: 0,
            other: false,
            loops: 0,
            return_in_loop: None,
        };
        scan.visit_block(block);
        if scan.uses == 0 || scan.other {
            continue;
        }
        if let Some(at) = scan.return_in_loop {
            let n = &p.ident;
            errors.push(syn::Error::new(
                at,
                format!(
                    "`{n}` is a `&mut` parameter left out of `wrt` that the function reads and \
                     writes: it is followed as a local copy, written back into `*{n}` where the \
                     function returns, which cannot be done inside a loop; leave the loop with \
                     `break` (`let r = loop {{ .. break value; }};`, or a flag) and return after \
                     it"
                ),
            ));
        }
        // Copied all the same (its `return`s inside loops left as they are), so that the error
        // above is the only one.
        names.push(p.ident.clone());
    }
    if names.is_empty() {
        return errors;
    }
    let pairs: Vec<(syn::Ident, syn::Ident)> = names
        .iter()
        .map(|n| {
            (
                n.clone(),
                syn::Ident::new(&format!("{PREFIX}{n}"), n.span()),
            )
        })
        .collect();
    let mut rename = Rename { pairs: &pairs };
    rename.visit_block_mut(block);
    let write_back: Vec<Stmt> = pairs
        .iter()
        .map(|(p, c)| syn::parse_quote_spanned!(p.span()=> *#p = #c;))
        .collect();
    let mut returns = Returns {
        write_back: &write_back,
        loops: 0,
    };
    returns.visit_block_mut(block);
    // The value, computed before the copies are written back.
    if let Some(Stmt::Expr(tail, None)) = block.stmts.last().cloned() {
        block.stmts.pop();
        block
            .stmts
            .push(syn::parse_quote!(let __ad_copy_out = #tail;));
        block.stmts.extend(write_back.iter().cloned());
        block
            .stmts
            .push(Stmt::Expr(syn::parse_quote!(__ad_copy_out), None));
    } else if !block.stmts.last().is_some_and(|s| match s {
        Stmt::Expr(e, _) => control::diverges(e),
        _ => false,
    }) {
        block.stmts.extend(write_back.iter().cloned());
    }
    let copy_ins: Vec<Stmt> = pairs
        .iter()
        .map(|(p, c)| syn::parse_quote_spanned!(p.span()=> let mut #c = *#p;))
        .collect();
    block.stmts.splice(0..0, copy_ins);
    errors
}

/// How a body mentions parameter `name`: in forms the copy serves (`*name`, `name.m(..)`,
/// `name[i]`, inside a macro), and whether it does anything else with it.
struct Uses<'a> {
    name: &'a syn::Ident,
    uses: usize,
    other: bool,
    loops: usize,
    /// The first `return` inside a loop.
    return_in_loop: Option<Span>,
}

impl Uses<'_> {
    fn names(&self, e: &Expr) -> bool {
        matches!(chain::strip(e), Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name))
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && self.names(&u.expr) => {
                self.uses += 1;
            }
            Expr::MethodCall(mc) if self.names(&mc.receiver) => {
                self.uses += 1;
                for a in &mc.args {
                    self.visit_expr(a);
                }
            }
            Expr::Index(ix) if self.names(&ix.expr) => {
                self.uses += 1;
                self.visit_expr(&ix.index);
            }
            Expr::Closure(c) => {
                let mut inner = Uses {
                    name: self.name,
                    uses: 0,
                    other: false,
                    loops: 0,
                    return_in_loop: None,
                };
                inner.visit_expr(&c.body);
                self.other |= inner.uses > 0 || inner.other;
            }
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.loops += 1;
                syn::visit::visit_expr(self, e);
                self.loops -= 1;
            }
            Expr::Return(r) if self.loops > 0 => {
                self.return_in_loop.get_or_insert(r.return_token.span);
                syn::visit::visit_expr(self, e);
            }
            _ => syn::visit::visit_expr(self, e),
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if mentions(m.tokens.clone(), self.name) {
            self.uses += 1;
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.other |= p.is_ident(self.name);
        syn::visit::visit_path(self, p);
    }

    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.other |= p.ident == *self.name;
        syn::visit::visit_pat_ident(self, p);
    }
}

fn mentions(ts: proc_macro2::TokenStream, name: &syn::Ident) -> bool {
    ts.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *name,
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), name),
        _ => false,
    })
}

/// Names the copy where the body named the parameter: `*p` and `p` become the copy, and inside
/// a macro `p` becomes `(&copy)`, which a `*` dereferences and `{}` prints as it printed `p`.
struct Rename<'a> {
    pairs: &'a [(syn::Ident, syn::Ident)],
}

impl Rename<'_> {
    fn copy_of(&self, e: &Expr) -> Option<&syn::Ident> {
        match chain::strip(e) {
            Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?;
                self.pairs.iter().find(|(n, _)| n == id).map(|(_, c)| c)
            }
            _ => None,
        }
    }

    fn tokens(&self, ts: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        use proc_macro2::{Delimiter, Group, TokenTree};
        ts.into_iter()
            .flat_map(|t| -> Vec<TokenTree> {
                match t {
                    TokenTree::Ident(i) => match self.pairs.iter().find(|(n, _)| *n == i) {
                        Some((_, c)) => {
                            let inner = quote::quote_spanned!(i.span()=> &#c);
                            let mut g = Group::new(Delimiter::Parenthesis, inner);
                            g.set_span(i.span());
                            vec![TokenTree::Group(g)]
                        }
                        None => vec![TokenTree::Ident(i)],
                    },
                    TokenTree::Group(g) => {
                        let mut n = Group::new(g.delimiter(), self.tokens(g.stream()));
                        n.set_span(g.span());
                        vec![TokenTree::Group(n)]
                    }
                    t => vec![t],
                }
            })
            .collect()
    }
}

impl VisitMut for Rename<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Unary(u) = e
            && matches!(u.op, syn::UnOp::Deref(_))
            && let Some(c) = self.copy_of(&u.expr)
        {
            *e = syn::parse_quote_spanned!(c.span()=> #c);
            return;
        }
        if let Some(c) = self.copy_of(e) {
            *e = syn::parse_quote_spanned!(c.span()=> #c);
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = self.tokens(m.tokens.clone());
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `return e` becomes `return { let out = e; *p = copy; .. out }`, outside loops (inside one it
/// is an error, see [`copy_in_out`]).
struct Returns<'a> {
    write_back: &'a [Stmt],
    loops: usize,
}

impl VisitMut for Returns<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(_) => {}
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.loops += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.loops -= 1;
            }
            Expr::Return(r) if self.loops == 0 => {
                let wb = self.write_back;
                let value = match r.expr.take() {
                    Some(v) => *v,
                    None => syn::parse_quote!(()),
                };
                *e = syn::parse_quote_spanned!(r.return_token.span=> return {
                    let __ad_copy_out = #value;
                    #(#wb)*
                    __ad_copy_out
                });
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
