//! `&mut` parameters left out of `wrt` that the function reads as well as writes: one holding a
//! scalar, a fixed-size array of scalars or a slice or `Vec` of floats (forces scattered beside
//! an energy, `f[tri[a]] += d`, written back by `f.clone_from_slice(&copy)`) — a random
//! generator's state (`seed: &mut u64`,
//! advanced with `*seed = seed.wrapping_mul(..)` and read with `(*seed >> 11) as f64`), a
//! counter the function tests (`*evals += 1; if *evals > 100 { .. }`), the best value so far
//! (`best: &mut f64`) — and a struct the function uses by its fields, a workspace of buffers
//! reused from call to call (`ws.buf.clear(); ws.buf.push(x * x); ws.buf.iter().sum()`).
//!
//! Such a parameter is followed as a local copy (one per field the body names, for a struct):
//! the body starts with `let mut __ad_copy_seed = *seed;` (`let mut __ad_copy_ws__buf =
//! ws.buf.clone();`), reads and writes the copy wherever it named `*seed` (or `seed` as a
//! method's receiver or an indexed array; `ws.buf`), and writes the copy back at every exit
//! (`*seed = __ad_copy_seed;`, `ws.buf = __ad_copy_ws__buf;` before the value is returned, at
//! the end and at each `return`).
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
fn scalar_type(ty: &syn::Type) -> bool {
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

/// Whether `ty` is `&mut S` with `S` a struct of the user's (`types::struct_path`): not a
/// scalar, a float alias, a container or ndarray's array, whose own forms are followed or
/// reported elsewhere.
fn struct_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Reference(r)
        if r.mutability.is_some() && crate::types::struct_path(&r.elem).is_some())
}

/// A place the body names that a local copy stands for: `*param`, or `param.field`.
struct Copied {
    param: syn::Ident,
    field: Option<syn::Member>,
    local: syn::Ident,
    /// The parameter lends a slice (`f: &mut [f64]`, `&mut [[f64; 2]]`): its copy is a `Vec`,
    /// written back element by element, as a slice cannot be assigned whole.
    slice: bool,
}

impl Copied {
    fn new(param: &syn::Ident, field: Option<&syn::Member>, slice: bool) -> Self {
        let name = match field {
            None => format!("{PREFIX}{param}"),
            Some(syn::Member::Named(f)) => format!("{PREFIX}{param}__{f}"),
            Some(syn::Member::Unnamed(i)) => format!("{PREFIX}{param}__{}", i.index),
        };
        Copied {
            param: param.clone(),
            field: field.cloned(),
            local: syn::Ident::new(&name, param.span()),
            slice,
        }
    }

    /// `let mut copy = *param;`, `let mut copy = param.field.clone();`.
    fn copy_in(&self) -> Stmt {
        let (p, c) = (&self.param, &self.local);
        match &self.field {
            None => syn::parse_quote_spanned!(p.span()=> let mut #c = *#p;),
            Some(f) => syn::parse_quote_spanned!(p.span()=> let mut #c = #p.#f.clone();),
        }
    }

    /// `*param = copy;`, `param.field = copy;`; `param.clone_from_slice(&copy);` of a slice.
    fn write_back(&self) -> Stmt {
        let (p, c) = (&self.param, &self.local);
        match &self.field {
            None if self.slice => syn::parse_quote_spanned!(p.span()=> #p.clone_from_slice(&#c);),
            None => syn::parse_quote_spanned!(p.span()=> *#p = #c;),
            Some(f) => syn::parse_quote_spanned!(p.span()=> #p.#f = #c;),
        }
    }
}

/// Rewrites `block` so that each `&mut` parameter left out of `wrt` described in the module
/// docs is followed as local copies written back at every exit; `sinks` are the parameters the
/// body only writes, left as they are. The errors are for parameters that would be copied but
/// for a `return` inside a loop.
pub(super) fn copy_in_out(
    block: &mut syn::Block,
    params: &[Param],
    sinks: &[String],
) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let mut copies: Vec<Copied> = Vec::new();
    for p in params {
        let by_field = struct_type(&p.ty);
        if !p.inactive_mut_ref()
            || !(by_field || scalar_type(&p.ty))
            || sinks.iter().any(|s| p.ident == s)
        {
            continue;
        }
        let mut scan = Uses {
            name: &p.ident,
            by_field,
            fields: Vec::new(),
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
            let place = if by_field {
                format!("`{n}.<field>`")
            } else {
                format!("`*{n}`")
            };
            errors.push(syn::Error::new(
                at,
                format!(
                    "`{n}` is a `&mut` parameter left out of `wrt` that the function reads and \
                     writes: it is followed as a local copy, written back into {place} where \
                     the function returns, which cannot be done inside a loop; leave the loop \
                     with `break` (`let r = loop {{ .. break value; }};`, or a flag) and return \
                     after it"
                ),
            ));
        }
        // Copied all the same (its `return`s inside loops left as they are), so that the error
        // above is the only one.
        if by_field {
            copies.extend(
                scan.fields
                    .iter()
                    .map(|f| Copied::new(&p.ident, Some(f), false)),
            );
        } else {
            let slice =
                matches!(&p.ty, syn::Type::Reference(r) if matches!(&*r.elem, syn::Type::Slice(_)));
            copies.push(Copied::new(&p.ident, None, slice));
        }
    }
    if copies.is_empty() {
        return errors;
    }
    let mut rename = Rename { copies: &copies };
    rename.visit_block_mut(block);
    let write_back: Vec<Stmt> = copies.iter().map(Copied::write_back).collect();
    let mut returns = Returns {
        write_back: &write_back,
        loops: 0,
    };
    returns.visit_block_mut(block);
    // The value, computed before the copies are written back, under a name no copy has (a
    // parameter named `out` has the copy `__ad_copy_out`, which the value's name shadowed: the
    // caller's `out` was given the function's result).
    if let Some(Stmt::Expr(tail, None)) = block.stmts.last().cloned() {
        block.stmts.pop();
        block
            .stmts
            .push(syn::parse_quote!(let __ad_copied_result = #tail;));
        block.stmts.extend(write_back.iter().cloned());
        block
            .stmts
            .push(Stmt::Expr(syn::parse_quote!(__ad_copied_result), None));
    } else if !block.stmts.last().is_some_and(|s| match s {
        Stmt::Expr(e, _) => control::diverges(e),
        _ => false,
    }) {
        block.stmts.extend(write_back.iter().cloned());
    }
    block.stmts.splice(0..0, copies.iter().map(Copied::copy_in));
    errors
}

/// How a body mentions parameter `name`: in forms a copy serves — `*name`, `name.m(..)`,
/// `name[i]` for a scalar or an array; `name.field` for a struct (`by_field`), whose fields
/// are collected; either inside a macro — and whether it does anything else with it.
struct Uses<'a> {
    name: &'a syn::Ident,
    by_field: bool,
    fields: Vec<syn::Member>,
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

    fn field(&mut self, m: &syn::Member) {
        self.uses += 1;
        if !self.fields.contains(m) {
            self.fields.push(m.clone());
        }
    }

    /// The mentions inside a macro's tokens: `name.field` for a struct, anything for a scalar.
    fn tokens(&mut self, ts: proc_macro2::TokenStream) {
        use proc_macro2::TokenTree;
        let tokens: Vec<TokenTree> = ts.into_iter().collect();
        for (k, t) in tokens.iter().enumerate() {
            match t {
                TokenTree::Ident(i) if i == self.name => {
                    if !self.by_field {
                        self.uses += 1;
                        continue;
                    }
                    match (tokens.get(k + 1), tokens.get(k + 2)) {
                        (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(f)))
                            if dot.as_char() == '.' =>
                        {
                            self.field(&syn::Member::Named(f.clone()))
                        }
                        _ => self.other = true,
                    }
                }
                TokenTree::Group(g) => self.tokens(g.stream()),
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Field(f) if self.by_field && self.names(&f.base) => self.field(&f.member),
            Expr::Unary(u)
                if !self.by_field && matches!(u.op, syn::UnOp::Deref(_)) && self.names(&u.expr) =>
            {
                self.uses += 1;
            }
            Expr::MethodCall(mc) if !self.by_field && self.names(&mc.receiver) => {
                self.uses += 1;
                for a in &mc.args {
                    self.visit_expr(a);
                }
            }
            Expr::Index(ix) if !self.by_field && self.names(&ix.expr) => {
                self.uses += 1;
                self.visit_expr(&ix.index);
            }
            Expr::Closure(c) => {
                let mut inner = Uses {
                    name: self.name,
                    by_field: self.by_field,
                    fields: Vec::new(),
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
        self.tokens(m.tokens.clone());
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

/// Names the copy where the body named its place: `*p`, `p` and `p.field` become the copy, and
/// inside a macro `p` (`p.field`) becomes `(&copy)`, which a `*` dereferences and `{}` prints
/// as it printed what it stands for.
struct Rename<'a> {
    copies: &'a [Copied],
}

impl Rename<'_> {
    fn param(e: &Expr) -> Option<&syn::Ident> {
        match chain::strip(e) {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
            _ => None,
        }
    }

    fn copy_of(&self, param: &syn::Ident, field: Option<&syn::Member>) -> Option<&syn::Ident> {
        self.copies
            .iter()
            .find(|c| c.param == *param && c.field.as_ref() == field)
            .map(|c| &c.local)
    }

    fn tokens(&self, ts: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        use proc_macro2::{Delimiter, Group, TokenTree};
        let borrowed = |c: &syn::Ident, span: Span| {
            let mut g = Group::new(Delimiter::Parenthesis, quote::quote_spanned!(span=> &#c));
            g.set_span(span);
            TokenTree::Group(g)
        };
        let tokens: Vec<TokenTree> = ts.into_iter().collect();
        let mut out = Vec::with_capacity(tokens.len());
        let mut k = 0;
        while k < tokens.len() {
            match &tokens[k] {
                TokenTree::Ident(i) => {
                    let field = match (tokens.get(k + 1), tokens.get(k + 2)) {
                        (Some(TokenTree::Punct(dot)), Some(TokenTree::Ident(f)))
                            if dot.as_char() == '.' =>
                        {
                            self.copy_of(i, Some(&syn::Member::Named(f.clone())))
                        }
                        _ => None,
                    };
                    if let Some(c) = field {
                        out.push(borrowed(c, i.span()));
                        k += 3;
                        continue;
                    }
                    match self.copy_of(i, None) {
                        Some(c) => out.push(borrowed(c, i.span())),
                        None => out.push(tokens[k].clone()),
                    }
                }
                TokenTree::Group(g) => {
                    let mut n = Group::new(g.delimiter(), self.tokens(g.stream()));
                    n.set_span(g.span());
                    out.push(TokenTree::Group(n));
                }
                t => out.push(t.clone()),
            }
            k += 1;
        }
        out.into_iter().collect()
    }
}

impl VisitMut for Rename<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let copy = match &*e {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                Self::param(&u.expr).and_then(|p| self.copy_of(p, None))
            }
            Expr::Field(f) => Self::param(&f.base).and_then(|p| self.copy_of(p, Some(&f.member))),
            other => Self::param(other).and_then(|p| self.copy_of(p, None)),
        };
        if let Some(c) = copy.cloned() {
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
                    let __ad_copied_result = #value;
                    #(#wb)*
                    __ad_copied_result
                });
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
