//! Labeled loops: `break 'outer` and `continue 'outer` from a loop inside the labeled one.
//!
//! Before lowering, a labeled loop loses its label. A jump to it from inside another loop sets
//! a flag declared at the top of the labeled loop's body and leaves the loop it is in; after
//! each loop between the jump and the labeled loop, the flag is checked:
//!
//! ```text
//! 'rows: for i in 0..n {            for i in 0..n {
//!     for j in 0..m {                   let mut __ad_continue_0 = false;
//!         if j > i {                    for j in 0..m {
//!             continue 'rows;              if j > i { __ad_continue_0 = true; break; }
//!         }                                s += x[i] * x[j];
//!         s += x[i] * x[j];             }
//!     }                                 if __ad_continue_0 { continue; }
//! }                                 }
//! ```
//!
//! so the derivative sees plain loops, `break`, `continue` and a boolean the loops carry, which
//! it already follows. A jump whose way out cannot be checked this way (the loop it leaves is a
//! value inside an expression, `let v = loop { .. break 'outer; .. }`), or a `break 'outer v`
//! with a value from an inner loop, leaves the loop labeled, and the lowering's error stands.

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

/// Rewrites `e` as above if it is a labeled `for`, `while` or `loop`; `made` numbers the flags.
pub(super) fn unlabel(e: &mut Expr, made: &mut usize) {
    let (label, body) = match e {
        Expr::ForLoop(l) => (&mut l.label, &mut l.body),
        Expr::While(l) => (&mut l.label, &mut l.body),
        Expr::Loop(l) => (&mut l.label, &mut l.body),
        _ => return,
    };
    let Some(name) = label.as_ref().map(|l| l.name.ident.clone()) else {
        return;
    };
    let n = *made;
    let mut jumps = Jumps {
        label: &name,
        exit: quote::format_ident!("__ad_exit_{}", n),
        next: quote::format_ident!("__ad_continue_{}", n),
        levels: Vec::new(),
        after: None,
        used: Needs::default(),
        ok: true,
    };
    let mut new_body = body.clone();
    jumps.visit_block_mut(&mut new_body);
    if !jumps.ok {
        return;
    }
    let mut flags: Vec<Stmt> = Vec::new();
    for (used, flag) in [
        (jumps.used.exit, &jumps.exit),
        (jumps.used.next, &jumps.next),
    ] {
        if used {
            flags.push(syn::parse_quote! { let mut #flag = false; });
        }
    }
    if !flags.is_empty() {
        *made += 1;
    }
    flags.append(&mut new_body.stmts);
    new_body.stmts = flags;
    *body = new_body;
    *label = None;
}

/// Which flags the loops on a jump's way out check.
#[derive(Clone, Copy, Default)]
struct Needs {
    exit: bool,
    next: bool,
}

impl Needs {
    fn any(self) -> bool {
        self.exit || self.next
    }
    fn merge(&mut self, o: Needs) {
        self.exit |= o.exit;
        self.next |= o.next;
    }
}

struct Jumps<'a> {
    label: &'a syn::Ident,
    exit: syn::Ident,
    next: syn::Ident,
    /// One entry per loop between the labeled loop and the current point, innermost last:
    /// the flags a jump inside it sets.
    levels: Vec<Needs>,
    /// What the loop just visited leaves for the statement after it to check.
    after: Option<Needs>,
    used: Needs,
    ok: bool,
}

impl Jumps<'_> {
    fn ours(&self, l: &Option<syn::Lifetime>) -> bool {
        l.as_ref().is_some_and(|l| l.ident == *self.label)
    }

    /// A jump to the labeled loop, of the kind `exit` says: at its own level the label goes;
    /// from inside another loop it sets its flag and leaves that loop.
    fn jump(&mut self, e: &mut Expr, exit: bool, span: proc_macro2::Span) {
        let Some(level) = self.levels.last_mut() else {
            *e = if exit {
                syn::parse_quote_spanned!(span=> break)
            } else {
                syn::parse_quote_spanned!(span=> continue)
            };
            return;
        };
        let need = Needs { exit, next: !exit };
        level.merge(need);
        self.used.merge(need);
        let flag = if exit { &self.exit } else { &self.next };
        *e = syn::parse_quote_spanned! {span=> { #flag = true; break; } };
    }

    /// After a loop on a jump's way out: at the labeled loop's own level, `break` or
    /// `continue` as the jump said; deeper, leave the loop around this one too.
    fn checks(&self, needs: Needs) -> Vec<Stmt> {
        let (exit, next) = (&self.exit, &self.next);
        let mut out = Vec::new();
        if self.levels.is_empty() {
            if needs.exit {
                out.push(syn::parse_quote! { if #exit { break; } });
            }
            if needs.next {
                out.push(syn::parse_quote! { if #next { continue; } });
            }
        } else {
            let cond: Expr = match (needs.exit, needs.next) {
                (true, true) => syn::parse_quote!(#exit || #next),
                (true, false) => syn::parse_quote!(#exit),
                _ => syn::parse_quote!(#next),
            };
            out.push(syn::parse_quote! { if #cond { break; } });
        }
        out
    }
}

impl VisitMut for Jumps<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            // A loop inside with the same label shadows it: the jumps inside are its own.
            Expr::ForLoop(syn::ExprForLoop { label: Some(l), .. })
            | Expr::While(syn::ExprWhile { label: Some(l), .. })
            | Expr::Loop(syn::ExprLoop { label: Some(l), .. })
                if l.name.ident == *self.label => {}
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.levels.push(Needs::default());
                syn::visit_mut::visit_expr_mut(self, e);
                let needs = self.levels.pop().unwrap_or_default();
                if let Some(outer) = self.levels.last_mut() {
                    outer.merge(needs);
                }
                if needs.any() {
                    // Only a loop written as a statement has a place after it for the check.
                    match self.after {
                        None => self.after = Some(needs),
                        Some(_) => self.ok = false,
                    }
                }
            }
            Expr::Break(br) if self.ours(&br.label) => {
                if br.expr.is_some() && !self.levels.is_empty() {
                    self.ok = false;
                    return;
                }
                if let Some(v) = br.expr.as_mut() {
                    self.visit_expr_mut(v);
                    br.label = None;
                    return;
                }
                let span = br.break_token.span;
                self.jump(e, true, span);
            }
            Expr::Continue(c) if self.ours(&c.label) => {
                let span = c.continue_token.span;
                self.jump(e, false, span);
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let mut out = Vec::with_capacity(block.stmts.len());
        let last = block.stmts.len().saturating_sub(1);
        for (k, mut s) in std::mem::take(&mut block.stmts).into_iter().enumerate() {
            let before = self.after.take();
            self.visit_stmt_mut(&mut s);
            let needs = self.after.take();
            self.after = before;
            let Some(needs) = needs else {
                out.push(s);
                continue;
            };
            match s {
                // A `for` or `while` is a unit statement; a `loop` at the end of a block may
                // be the block's value.
                Stmt::Expr(e @ (Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_)), semi)
                    if semi.is_some() || k != last || !matches!(e, Expr::Loop(_)) =>
                {
                    out.push(Stmt::Expr(e, Some(Default::default())));
                    out.extend(self.checks(needs));
                }
                s => {
                    self.ok = false;
                    out.push(s);
                }
            }
        }
        // `{ flag = true; break; }` as a statement is its two statements.
        let flat = out
            .iter()
            .any(|s| matches!(s, Stmt::Expr(Expr::Block(b), _) if self.is_jump(b)));
        if flat {
            let mut stmts = Vec::with_capacity(out.len() + 1);
            for s in out {
                match s {
                    Stmt::Expr(Expr::Block(b), _) if self.is_jump(&b) => {
                        stmts.extend(b.block.stmts)
                    }
                    s => stmts.push(s),
                }
            }
            out = stmts;
        }
        block.stmts = out;
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

impl Jumps<'_> {
    fn is_jump(&self, b: &syn::ExprBlock) -> bool {
        b.label.is_none()
            && b.block.stmts.len() == 2
            && matches!(&b.block.stmts[0], Stmt::Expr(Expr::Assign(a), _)
                if matches!(&*a.left, Expr::Path(p)
                    if p.path.is_ident(&self.exit) || p.path.is_ident(&self.next)))
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    fn unlabeled(src: &str) -> String {
        let mut e: syn::Expr = syn::parse_str(src).expect("an expression");
        super::unlabel(&mut e, &mut 0);
        e.to_token_stream().to_string()
    }

    #[test]
    fn jumps_out_of_inner_loops_set_and_check_a_flag() {
        let out = unlabeled(
            "'a: for i in 0..n { for j in 0..m { if j > i { continue 'a; } s += 1.0; } }",
        );
        assert!(!out.contains("'a"), "{out}");
        assert!(out.contains("let mut __ad_continue_0 = false"), "{out}");
        assert!(out.contains("__ad_continue_0 = true ; break ;"), "{out}");
        assert!(out.contains("if __ad_continue_0 { continue ; }"), "{out}");
    }

    #[test]
    fn a_shadowing_inner_label_keeps_its_own_jumps() {
        let out =
            unlabeled("'a: for i in 0..n { 'a: for j in 0..m { if j > i { continue 'a; } } }");
        // The outer loop loses its label; the inner one, and the jump to it, keep theirs.
        assert!(out.starts_with("for i"), "{out}");
        assert!(out.contains("'a : for j"), "{out}");
        assert!(out.contains("continue 'a"), "{out}");
        assert!(!out.contains("__ad_continue"), "{out}");
    }
}
