//! `src.scan((x, 0usize), |st, i| { st.0 = ..; st.1 += i; Some(..) })`, a `scan` whose state
//! is a tuple, as the loop it stands for, run before the statement that holds it:
//!
//! ```text
//! let mut __ad_scan_state0 = (x, 0usize);
//! let mut __ad_scan0 = Vec::new();
//! for i in src { __ad_scan_state0.0 = ..; __ad_scan_state0.1 += i; __ad_scan0.push(..); }
//! .. __ad_scan0.into_iter() ..
//! ```
//!
//! The state is then a local tuple, whose fields the lowering carries each in a slot of its
//! own (a count beside a float is an integer there), where the `scan` stage carries the state
//! as one value whose fields are all taken for floats. Only a statement's own expression is
//! searched (not a closure, a block, a branch or a `while` condition, which may not run), so
//! the loop runs once, where the statement would have run the `scan`.
//!
//! A closure that leaves early is rewritten so too, whatever its state: `return None` ends the
//! `scan` at that item (`break` of the loop, labeled), `return Some(v)` yields `v` (pushed, then
//! `continue` of the loop), as `scan` does with the closure's `None` and `Some`.

use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

/// Rewrites every `scan` with a tuple state in `block` (and the blocks inside it).
pub(super) fn scan_tuple_states(block: &mut syn::Block) {
    struct Blocks(usize);
    impl VisitMut for Blocks {
        fn visit_block_mut(&mut self, b: &mut syn::Block) {
            syn::visit_mut::visit_block_mut(self, b);
            let mut out = Vec::with_capacity(b.stmts.len());
            for mut s in std::mem::take(&mut b.stmts) {
                let mut found = Vec::new();
                match &mut s {
                    Stmt::Local(l) => {
                        if let Some(init) = &mut l.init {
                            if init.diverge.is_none() {
                                hoist(&mut init.expr, &mut found, &mut self.0);
                            }
                        }
                    }
                    Stmt::Expr(e, _) => hoist(e, &mut found, &mut self.0),
                    _ => {}
                }
                out.extend(found);
                out.push(s);
            }
            b.stmts = out;
        }
    }
    Blocks(0).visit_block_mut(block);
}

/// Replaces the `scan`s with a tuple state in `e` (in the parts of it that run once, whenever
/// `e` does) by their items, `__ad_scan{k}.into_iter()`, and pushes the statements that compute
/// those items to `out`.
fn hoist(e: &mut Expr, out: &mut Vec<Stmt>, made: &mut usize) {
    match e {
        Expr::MethodCall(mc) => {
            hoist(&mut mc.receiver, out, made);
            for a in &mut mc.args {
                hoist(a, out, made);
            }
            if let Some((stmts, items)) = scan_loop(mc, *made) {
                *made += 1;
                out.extend(stmts);
                *e = items;
            }
        }
        Expr::Binary(b) => {
            hoist(&mut b.left, out, made);
            // The right operand of `&&` and `||` may not run.
            if !matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) {
                hoist(&mut b.right, out, made);
            }
        }
        Expr::Unary(u) => hoist(&mut u.expr, out, made),
        Expr::Paren(p) => hoist(&mut p.expr, out, made),
        Expr::Cast(c) => hoist(&mut c.expr, out, made),
        Expr::Reference(r) => hoist(&mut r.expr, out, made),
        Expr::Field(f) => hoist(&mut f.base, out, made),
        Expr::Call(c) => {
            for a in &mut c.args {
                hoist(a, out, made);
            }
        }
        Expr::Tuple(t) => {
            for a in &mut t.elems {
                hoist(a, out, made);
            }
        }
        Expr::Array(t) => {
            for a in &mut t.elems {
                hoist(a, out, made);
            }
        }
        Expr::Assign(a) => hoist(&mut a.right, out, made),
        _ => {}
    }
}

/// Of `src.scan(init, |st, pat| { stmts; Some(item) })` with `init` a tuple: the statements
/// that run the loop and the expression for its items. `None` for another call or closure (the
/// `scan` stage follows it, or says what it does not follow).
fn scan_loop(mc: &syn::ExprMethodCall, made: usize) -> Option<(Vec<Stmt>, Expr)> {
    if mc.method != "scan" || mc.args.len() != 2 {
        return None;
    }
    let init = &mc.args[0];
    // A state of one value is the `scan` stage's, unless the closure leaves early.
    let tuple = matches!(strip(init), Expr::Tuple(t) if t.elems.len() >= 2);
    let Expr::Closure(cl) = strip(&mc.args[1]) else {
        return None;
    };
    if cl.inputs.len() != 2 {
        return None;
    }
    let st = match untyped(&cl.inputs[0]) {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
        _ => return None,
    };
    let pat = untyped(&cl.inputs[1]).clone();
    let (stmts, tail): (Vec<Stmt>, &Expr) = match strip(&cl.body) {
        Expr::Block(b) if b.label.is_none() => match b.block.stmts.split_last()? {
            (Stmt::Expr(e, None), before) => (before.to_vec(), e),
            _ => return None,
        },
        e => (Vec::new(), e),
    };
    let Expr::Call(some) = strip(tail) else {
        return None;
    };
    if !matches!(strip(&some.func), Expr::Path(p) if p.path.is_ident("Some"))
        || some.args.len() != 1
    {
        return None;
    }
    let span = mc.method.span();
    let state = quote::format_ident!("__ad_scan_state{made}", span = span);
    let items = quote::format_ident!("__ad_scan{made}", span = span);
    let mut item = some.args[0].clone();
    let mut stmts = stmts;
    // The closure's own `return None` ends the `scan` (`break` of the loop) and its `return
    // Some(v)` yields `v` (pushed, then `continue` of the loop), wherever they are in the body.
    let label = syn::Lifetime::new(&format!("'__ad_scan_each{made}"), span);
    let mut returns = super::zip_indexed::ReturnsAsJumps::new(|r: &syn::ExprReturn| {
        let span = r.return_token.span;
        match r.expr.as_deref().map(strip) {
            Some(Expr::Path(p)) if p.path.is_ident("None") => {
                Some(syn::parse_quote_spanned!(span=> break #label))
            }
            Some(Expr::Call(c))
                if c.args.len() == 1
                    && matches!(strip(&c.func), Expr::Path(p) if p.path.is_ident("Some")) =>
            {
                let v = &c.args[0];
                Some(syn::parse_quote_spanned!(span=> {
                    #items.push(#v);
                    continue #label
                }))
            }
            _ => None,
        }
    });
    for s in &mut stmts {
        returns.visit_stmt_mut(s);
    }
    let labeled = returns.found;
    if !tuple && !labeled {
        return None;
    }
    // The closure's other `return`s, `?` or a binding of the state's name: left to the stage.
    let mut leaves = super::zip_indexed::Leaves::new(false);
    let mut binds = Binds(&st, false);
    for s in &stmts {
        leaves.visit_stmt(s);
        binds.visit_stmt(s);
    }
    leaves.visit_expr(&item);
    binds.visit_expr(&item);
    binds.visit_pat(&pat);
    if leaves.found || binds.1 {
        return None;
    }
    let mut rename = Rename {
        st: &st,
        state: &state,
    };
    for s in &mut stmts {
        rename.visit_stmt_mut(s);
    }
    rename.visit_expr_mut(&mut item);
    let src = &mc.receiver;
    let label = labeled.then(|| quote::quote_spanned!(span=> #label:));
    let hoisted: Vec<Stmt> = vec![
        syn::parse_quote_spanned!(span=> let mut #state = #init;),
        syn::parse_quote_spanned!(span=> let mut #items = ::std::vec::Vec::new();),
        Stmt::Expr(
            syn::parse_quote_spanned! {span=>
                #label for #pat in #src {
                    #(#stmts)*
                    #items.push(#item);
                }
            },
            None,
        ),
    ];
    Some((
        hoisted,
        syn::parse_quote_spanned!(span=> #items.into_iter()),
    ))
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

fn untyped(p: &Pat) -> &Pat {
    match p {
        Pat::Type(t) => untyped(&t.pat),
        Pat::Paren(p) => untyped(&p.pat),
        p => p,
    }
}

/// Whether code binds a name again (a pattern naming it).
struct Binds<'a>(&'a syn::Ident, bool);

impl<'ast> Visit<'ast> for Binds<'_> {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.1 |= p.ident == *self.0;
        syn::visit::visit_pat_ident(self, p);
    }
}

/// `*st` and `st` as the state variable.
struct Rename<'a> {
    st: &'a syn::Ident,
    state: &'a syn::Ident,
}

impl VisitMut for Rename<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Unary(u) = e {
            if matches!(u.op, syn::UnOp::Deref(_))
                && matches!(strip(&u.expr), Expr::Path(p) if p.path.is_ident(self.st))
            {
                let state = self.state;
                *e = syn::parse_quote!(#state);
                return;
            }
        }
        if let Expr::Path(p) = e {
            if p.qself.is_none() && p.path.is_ident(self.st) {
                let state = self.state;
                *e = syn::parse_quote!(#state);
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}
