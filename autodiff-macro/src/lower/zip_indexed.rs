//! ndarray's `Zip::indexed(&mut out).and(&a).for_each(|(i, j), o, &x| *o = ..)` (and the
//! `azip!((index (i, j), o in &mut out, &x in &a) ..)` that expands to it) as the nested index
//! loops it stands for,
//!
//! ```text
//! for i in 0..out.shape()[0] {
//!     for j in 0..out.shape()[1] {
//!         let x = a[[i, j]];
//!         out[[i, j]] = ..;
//!     }
//! }
//! ```
//!
//! whose element reads and writes the lowering follows as any loop's. `Zip` visits the elements
//! in an order of its choosing; the closure cannot reach the arrays it is lent except through
//! its element (the borrow checker sees to that), so no element's value depends on another's
//! and the loops' row-major order computes the same values.

use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

/// A producer: the variable whose elements it lends, whether it lends them `&mut`, and for a
/// shared producer that is not a variable (`&a.row(0)`, `x.t()`), the expression bound to
/// that variable before the loops.
struct Producer {
    array: syn::Ident,
    mutable: bool,
    bound: Option<Expr>,
}

/// `&mut v`, `&mut *v`, `&v`, `&*v` or `v` of a variable `v`; or any other expression read
/// through a shared reference, bound to `__ad_zip_producer{k}`.
fn producer(e: &Expr, k: usize) -> Option<Producer> {
    let (inner, mutable) = match e {
        Expr::Reference(r) => (&*r.expr, r.mutability.is_some()),
        Expr::Paren(p) => return producer(&p.expr, k),
        e => (e, false),
    };
    let variable = match inner {
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &*u.expr,
        e => e,
    };
    if let Expr::Path(p) = variable {
        if p.attrs.is_empty() && p.qself.is_none() {
            if let Some(array) = p.path.get_ident() {
                return Some(Producer {
                    array: array.clone(),
                    mutable,
                    bound: None,
                });
            }
        }
    }
    // A region lent `&mut` (`out.row_mut(0)`, `u.slice_mut(..)`) is not a variable to write.
    let lends_mut =
        |e: &Expr| matches!(e, Expr::MethodCall(m) if m.method.to_string().ends_with("_mut"));
    if mutable || lends_mut(inner) {
        return None;
    }
    Some(Producer {
        array: quote::format_ident!(
            "__ad_zip_producer{k}",
            span = syn::spanned::Spanned::span(e)
        ),
        mutable: false,
        bound: Some(inner.clone()),
    })
}

/// `Zip::indexed(first)` by any path ending so: `first`.
fn indexed_from(c: &syn::ExprCall) -> Option<&Expr> {
    let Expr::Path(p) = &*c.func else {
        return None;
    };
    let mut segs = p.path.segments.iter().rev();
    let (Some(from), Some(zip)) = (segs.next(), segs.next()) else {
        return None;
    };
    (c.args.len() == 1 && from.ident == "indexed" && zip.ident == "Zip").then(|| &c.args[0])
}

/// A closure parameter without its type annotation.
fn untyped(p: &Pat) -> &Pat {
    match p {
        Pat::Type(t) => untyped(&t.pat),
        Pat::Paren(p) => untyped(&p.pat),
        p => p,
    }
}

/// A plain binding `x` (not `ref x`, `mut x` or `x @ ..`).
fn plain_ident(p: &Pat) -> Option<&syn::Ident> {
    match untyped(p) {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.mutability.is_none() && pi.subpat.is_none() => {
            Some(&pi.ident)
        }
        _ => None,
    }
}

/// Whether `e` names the variable `x`.
fn is_var(e: &Expr, x: &syn::Ident) -> bool {
    match e {
        Expr::Path(p) => p.qself.is_none() && p.path.is_ident(x),
        Expr::Paren(p) => is_var(&p.expr, x),
        _ => false,
    }
}

/// Replaces, in a closure's body, the uses of an element binding `x` (a `&f64` or `&mut f64`)
/// that mean its element, `*x` and `x` as a method's receiver or an arithmetic operand, by the
/// element itself, `a[[i, j]]`.
struct Substitute<'a> {
    x: &'a syn::Ident,
    element: &'a Expr,
}

impl VisitMut for Substitute<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Unary(u) = e {
            if matches!(u.op, syn::UnOp::Deref(_)) && is_var(&u.expr, self.x) {
                *e = self.element.clone();
                return;
            }
        }
        match e {
            Expr::MethodCall(mc) if is_var(&mc.receiver, self.x) => {
                *mc.receiver = self.element.clone();
            }
            Expr::Binary(b) if !is_assignment(&b.op) => {
                for side in [&mut b.left, &mut b.right] {
                    if is_var(side, self.x) {
                        **side = self.element.clone();
                    }
                }
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

fn is_assignment(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// Whether code of a closure's body leaves the closure, which it would no longer do once it is
/// a loop's body: by `?`, or by `return` (only a `return` with a value where `bare` returns are
/// made the loop's `continue`, [`ReturnsAsJumps`]), outside closures of its own.
pub(super) struct Leaves {
    pub(super) bare_returns_stay: bool,
    closures: usize,
    pub(super) found: bool,
}

impl Leaves {
    pub(super) fn new(bare_returns_stay: bool) -> Self {
        Leaves {
            bare_returns_stay,
            closures: 0,
            found: false,
        }
    }
}

impl<'ast> Visit<'ast> for Leaves {
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        self.found |= self.closures == 0 && (r.expr.is_some() || !self.bare_returns_stay);
        syn::visit::visit_expr_return(self, r);
    }
    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        self.found |= self.closures == 0;
        syn::visit::visit_expr_try(self, t);
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.closures += 1;
        syn::visit::visit_expr_closure(self, c);
        self.closures -= 1;
    }
}

/// Whether `body` still names one of `x` (a use the substitution does not cover, or a binding
/// that shadows it), or leaves the closure ([`Leaves`]).
fn names_or_leaves(body: &Expr, x: &[&syn::Ident]) -> bool {
    struct Names<'a>(&'a [&'a syn::Ident], bool);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_ident(&mut self, i: &'ast syn::Ident) {
            self.1 |= self.0.contains(&i);
        }
    }
    let mut names = Names(x, false);
    names.visit_expr(body);
    let mut leaves = Leaves::new(true);
    leaves.visit_expr(body);
    names.1 || leaves.found
}

/// `Zip::indexed(p0).and(p1)…for_each(|index, e0, e1, ..| body)` (a statement, or a block's
/// last expression) of variables, with the index a binding `i` (one dimension) or a tuple of
/// bindings `(i, j, ..)` (one per dimension), as the nested loops over the indices of `p0`
/// whose body binds each element read by value (`&x`) and names each element lent by
/// reference (`o`, `x`) as the array's element itself (`*o = ..` → `out[[i, j]] = ..`,
/// `o.tanh()`, `*x * 2.0`). `None` for anything else (a producer that is not a variable, an
/// index bound whole in more than one dimension, an element lent by reference and used
/// otherwise than so, a `return` in the closure): the `Zip`'s own error stands.
pub(super) fn zip_indexed(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), semi) = stmt else {
        return None;
    };
    if mc.method != "for_each" || mc.args.len() != 1 {
        return None;
    }
    let mut rest = Vec::new();
    let mut e = &*mc.receiver;
    let first = loop {
        match e {
            Expr::MethodCall(m) if m.method == "and" && m.args.len() == 1 => {
                rest.push(&m.args[0]);
                e = &m.receiver;
            }
            Expr::Call(c) => break indexed_from(c)?,
            Expr::Paren(p) => e = &p.expr,
            _ => return None,
        }
    };
    rest.reverse();
    let producers: Vec<Producer> = std::iter::once(first)
        .chain(rest)
        .enumerate()
        .map(|(k, e)| producer(e, k))
        .collect::<Option<_>>()?;
    let Expr::Closure(cl) = &mc.args[0] else {
        return None;
    };
    if cl.inputs.len() != producers.len() + 1 {
        return None;
    }
    let span = super::span::method_span(mc);
    // The index: `i`, or `(i, j, ..)` with `_` for an index the body does not read.
    let index: Vec<syn::Ident> = match untyped(&cl.inputs[0]) {
        Pat::Tuple(t) if !t.elems.is_empty() => t
            .elems
            .iter()
            .enumerate()
            .map(|(k, p)| match untyped(p) {
                Pat::Wild(_) => Some(quote::format_ident!("__ad_zip_index{k}", span = span)),
                p => plain_ident(p).cloned(),
            })
            .collect::<Option<_>>()?,
        p => vec![plain_ident(p)?.clone()],
    };
    let mut body = (*cl.body).clone();
    let mut lets: Vec<Stmt> = Vec::new();
    let mut by_reference: Vec<&syn::Ident> = Vec::new();
    for (pat, prod) in cl.inputs.iter().skip(1).zip(&producers) {
        let array = &prod.array;
        let element: Expr = if index.len() == 1 {
            let i = &index[0];
            syn::parse_quote_spanned!(span=> #array[#i])
        } else {
            syn::parse_quote_spanned!(span=> #array[[#(#index),*]])
        };
        match untyped(pat) {
            // `&x` of a shared producer: the element's value.
            Pat::Reference(r) if !prod.mutable && r.mutability.is_none() => {
                let inner = untyped(&r.pat);
                lets.push(syn::parse_quote_spanned!(span=> let #inner = #element;));
            }
            Pat::Wild(_) => {}
            p => {
                let x = plain_ident(p)?;
                Substitute {
                    x,
                    element: &element,
                }
                .visit_expr_mut(&mut body);
                by_reference.push(x);
            }
        }
    }
    // A one-dimensional index read as a tuple (`idx.0`) is an index of more dimensions.
    if index.len() == 1 && reads_field_of(&body, &index[0]) {
        return None;
    }
    if names_or_leaves(&body, &by_reference) {
        return None;
    }
    // A `return;` ends the element's iteration as it ended the closure's call.
    let each = syn::Lifetime::new("'__ad_zip_each", span);
    let mut returns = ReturnsAsJumps::new(|r: &syn::ExprReturn| {
        let span = r.return_token.span;
        r.expr
            .is_none()
            .then(|| syn::parse_quote_spanned!(span=> continue #each))
    });
    returns.visit_expr_mut(&mut body);
    let shape_of = &producers[0].array;
    let mut looped = quote::quote_spanned! {span=>
        #(#lets)*
        #body;
    };
    for (k, i) in index.iter().enumerate().rev() {
        let label =
            (returns.found && k + 1 == index.len()).then(|| quote::quote_spanned!(span=> #each:));
        let bound: Expr = if index.len() == 1 {
            syn::parse_quote_spanned!(span=> #shape_of.len())
        } else {
            syn::parse_quote_spanned!(span=> #shape_of.shape()[#k])
        };
        looped = quote::quote_spanned! {span=>
            #label for #i in 0..#bound { #looped }
        };
    }
    let bindings = producers.iter().filter_map(|p| {
        let array = &p.array;
        let e = p.bound.as_ref()?;
        Some(quote::quote_spanned!(span=> let #array = #e;))
    });
    let looped = if producers.iter().any(|p| p.bound.is_some()) {
        quote::quote_spanned!(span=> { #(#bindings)* #looped })
    } else {
        looped
    };
    let looped: Expr = syn::parse2(looped).ok()?;
    Some(Stmt::Expr(looped, *semi))
}

/// The `return`s of a closure's body (outside closures of its own) as the jumps of the loop
/// that the closure becomes: `jump` gives what stands for one (`continue 'label` for a
/// `return;` of `Zip::indexed`'s closure), or `None` to leave it; `found` is whether any was
/// replaced (the loop then needs its label).
pub(super) struct ReturnsAsJumps<F> {
    jump: F,
    closures: usize,
    pub(super) found: bool,
}

impl<F: FnMut(&syn::ExprReturn) -> Option<Expr>> ReturnsAsJumps<F> {
    pub(super) fn new(jump: F) -> Self {
        ReturnsAsJumps {
            jump,
            closures: 0,
            found: false,
        }
    }
}

impl<F: FnMut(&syn::ExprReturn) -> Option<Expr>> VisitMut for ReturnsAsJumps<F> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(_) => {
                self.closures += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.closures -= 1;
            }
            Expr::Return(r) if self.closures == 0 => match (self.jump)(r) {
                Some(j) => {
                    *e = j;
                    self.found = true;
                }
                None => syn::visit_mut::visit_expr_mut(self, e),
            },
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}

/// Whether `body` reads a field of `i` (`i.0`).
fn reads_field_of(body: &Expr, i: &syn::Ident) -> bool {
    struct Fields<'a>(&'a syn::Ident, bool);
    impl<'ast> Visit<'ast> for Fields<'_> {
        fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
            self.1 |= is_var(&f.base, self.0);
            syn::visit::visit_expr_field(self, f);
        }
    }
    let mut f = Fields(i, false);
    f.visit_expr(body);
    f.1
}
