//! Lowering: from a `syn` function to the SSA [`Func`].
//!
//! # The accepted subset of Rust
//!
//! - parameters `x: T` and `mut x: T` (no patterns, no generics, no `self`); a return type;
//! - `let` with or without a type, `let (a, b) = ..` (nested tuples too), `let _ = ..`, `let x;`
//!   assigned later; shadowing; `=`, `+=`, `-=`, `*=`, `/=` on variables;
//! - literals, constant paths (`std::f64::consts::PI`, `MY_CONST`), `as` casts, `+ - * /`,
//!   unary `-`, parentheses, tuples and `.0`, blocks as expressions, `&x`;
//! - comparisons, `!`, `&&`, `||` and bit operations (their results are discrete);
//! - the float methods listed in [`crate::methods`], as methods or as `f64::exp(x)`;
//! - `if`/`else if`/`else` and `match` (arms with guards), as statements or expressions;
//! - `for i in a..b` / `a..=b` / `(a..b).rev()`, loops over slices, `while`, `loop`, `break`,
//!   `continue`, and `return` anywhere (inside loops it becomes a loop-carried value and flag;
//!   the return type must implement `Default` for that);
//! - calls: with an active argument, `g(..)` is differentiated through `g_vjp(..)`; otherwise it
//!   is called as written; macros (`println!`, `assert!`) run as written, never differentiated.
//!
//! Anything else is a spanned error that says what to write instead. Errors are collected; the
//! lowering keeps going after one so that every problem of a function is reported at once.
//!
//! Divergence: when an `if` or `match` contains `return`, `break` or `continue`, the statements
//! after it are lowered into each of its arms that falls through, so every block ends in exactly
//! one terminator (see [`crate::ir::Term::Branch`]).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat, Stmt};

use crate::ir::*;
use crate::prim::places::MutId;
use crate::prim::{self, Flags, PrimId};

/// One variable binding in scope.
#[derive(Clone)]
struct Binding {
    name: String,
    /// `None` for `let x;` before its first assignment.
    value: Option<Value>,
    /// An element bound by `for v in x.iter()`: a reference in Rust, a value here, so `*v` is
    /// `v`.
    element: bool,
    /// Declared `mut` (or a `&mut` parameter): methods called on it may change it.
    mutable: bool,
}

/// How a statement sequence ends when control falls off its end.
enum Finish {
    /// The function's body: return the tail value.
    Return,
    /// A loop body: next iteration.
    Continue,
    /// An `if`/`match` arm: yield the current values of these slots, then the tail if wanted.
    Yield { slots: Vec<usize>, want_value: bool },
}

/// The rest of an enclosing statement list, to be lowered after a diverging `if`/`match` arm.
struct Cont<'a> {
    stmts: &'a [Stmt],
    /// `let <pat> = <diverging if>;`: the arm's value is bound to `pat`.
    bind: Option<&'a Pat>,
    /// The statement was the enclosing list's tail expression: pass its value through.
    tail_through: bool,
    scope_len: usize,
}

/// A loop's body block, the slots of the variables it carries, their values before it, and the
/// environment to restore after it.
struct LoopHeader {
    body: Block,
    slots: Vec<usize>,
    init: Vec<Value>,
    saved: Vec<Binding>,
}

struct LoopCtx {
    slots: Vec<usize>,
}

pub struct Lowering {
    pub f: Func,
    pub errors: Vec<syn::Error>,
    /// Placeholders for expressions that had errors: uses of them report nothing more.
    poisoned: Vec<Value>,
    env: Vec<Binding>,
    loops: Vec<LoopCtx>,
    /// The declared return type, for the variable a `return` inside a loop leaves its value in.
    ret: Option<syn::Type>,
}

/// The variables that carry a `return` out of loops: its value and whether it happened.
const RET_VALUE: &str = "__ad_ret";
const RET_FLAG: &str = "__ad_returned";

/// The name the generated code gives parameter `n` when the source has a pattern (`_`).
pub fn unnamed_param(n: usize) -> syn::Ident {
    syn::Ident::new(&format!("__ad_arg{n}"), Span::call_site())
}

/// Lowers `item`; `active[i]` says whether parameter `i` is differentiated.
pub fn lower(item: &syn::ItemFn, active: &[bool]) -> Lowering {
    let mut lw = Lowering {
        f: Func::default(),
        errors: Vec::new(),
        poisoned: Vec::new(),
        env: Vec::new(),
        loops: Vec::new(),
        ret: match &item.sig.output {
            syn::ReturnType::Type(_, t) => Some((**t).clone()),
            syn::ReturnType::Default => None,
        },
    };
    let body = lw.f.new_block();
    lw.f.body = Some(body);
    for (n, arg) in item.sig.inputs.iter().enumerate() {
        let (ident, ty, mut_pat) = match arg {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                Pat::Ident(pi) => (pi.ident.clone(), (*pt.ty).clone(), pi.mutability.is_some()),
                _ => (unnamed_param(n), (*pt.ty).clone(), false),
            },
            syn::FnArg::Receiver(r) => match crate::types::receiver_type(r) {
                Ok(ty) => (syn::Ident::new("self", r.self_token.span), ty, false),
                Err(()) => continue,
            },
        };
        let mutable = mut_pat || matches!(&ty, syn::Type::Reference(r) if r.mutability.is_some());
        let kind = if crate::types::is_inactive_type(&ty) {
            Kind::Discrete
        } else if crate::types::is_float_type(&ty) {
            Kind::Float
        } else {
            Kind::Unknown
        };
        let name = ident.to_string();
        let v = lw.f.new_value(Some(name.clone()), ValueDef::Param(n), kind);
        lw.f.params.push(Param {
            ident: ident.clone(),
            ty,
            active: active.get(n).copied().unwrap_or(false),
            value: v,
        });
        if mutable {
            lw.f.mutable_names.insert(name.clone());
        }
        lw.env.push(Binding {
            name,
            value: Some(v),
            element: false,
            mutable,
        });
    }
    lw.seq(
        body,
        &item.block.stmts,
        &[],
        &Finish::Return,
        item.block.span(),
    );
    lw
}

impl Lowering {
    fn err(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(syn::Error::new(span, msg.into()));
    }

    /// An error underlining the whole of `node`, not just its first token.
    fn err_at(&mut self, node: &dyn ToTokens, msg: impl Into<String>) {
        self.errors.push(syn::Error::new_spanned(node, msg.into()));
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.env.iter().rposition(|b| b.name == name)
    }

    fn bind(&mut self, name: String, v: Option<Value>) {
        self.bind_mut(name, v, false);
    }

    fn bind_mut(&mut self, name: String, v: Option<Value>, mutable: bool) {
        if mutable {
            self.f.mutable_names.insert(name.clone());
        }
        if let Some(v) = v {
            if self.f.values[v.index()].name.is_none() {
                self.f.values[v.index()].name = Some(name.clone());
            }
        }
        self.env.push(Binding {
            name,
            value: v,
            element: false,
            mutable,
        });
    }

    fn kind(&self, v: Value) -> Kind {
        self.f.value(v).kind
    }

    /// An instruction with one result.
    fn inst1(&mut self, b: Block, kind: InstKind, rk: Kind, span: Span) -> Value {
        let i = self.f.push_inst(b, kind, 1, rk, span);
        self.f.inst(i).results[0]
    }

    fn current(&mut self, slots: &[usize], span: Span) -> Vec<Value> {
        let mut out = Vec::new();
        for &s in slots {
            match self.env[s].value {
                Some(v) => out.push(v),
                None => {
                    let name = self.env[s].name.clone();
                    self.err(
                        span,
                        format!(
                            "`{name}` may be unassigned here: give it a value where it is declared \
                             (`let {name} = 0.0;`)"
                        ),
                    );
                    let v = self.inst1(
                        self.f.body(),
                        InstKind::Const(quote!(0.0)),
                        Kind::Unknown,
                        span,
                    );
                    out.push(v);
                }
            }
        }
        out
    }

    /// Slots of variables in scope that `node` may assign to.
    fn assigned_slots(&self, node: impl FnOnce(&mut AssignedNames)) -> Vec<usize> {
        let mut names = AssignedNames(Vec::new());
        node(&mut names);
        let mut slots = Vec::new();
        for n in names.0 {
            if let Some(s) = self.lookup(&n) {
                if !slots.contains(&s) {
                    slots.push(s);
                }
            }
        }
        slots
    }

    // ---------------------------------------------------------------- statement sequences

    /// Lowers `stmts` into block `b`, then the continuations, then `finish`.
    fn seq(&mut self, b: Block, stmts: &[Stmt], conts: &[Cont], finish: &Finish, span: Span) {
        let scope = self.env.len();
        let mut tail: Option<Value> = None;
        let mut tail_span = span;
        let want_tail = wants_tail(conts, finish);
        for (i, stmt) in stmts.iter().enumerate() {
            let is_last = i + 1 == stmts.len();
            let rest = &stmts[i + 1..];
            match stmt {
                Stmt::Expr(e, semi) => {
                    let is_tail = is_last && semi.is_none();
                    if let Some(()) = self.try_jump(b, e) {
                        return;
                    }
                    if matches!(e, Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_))
                        && contains_return(e)
                    {
                        self.loop_with_return(b, e, rest, conts, finish);
                        self.env.truncate(scope);
                        return;
                    }
                    if matches!(e, Expr::If(_) | Expr::Match(_)) && diverges(e) {
                        let mut all: Vec<Cont> = conts.iter().map(Cont::clone_ref).collect();
                        all.push(Cont {
                            stmts: rest,
                            bind: None,
                            tail_through: is_tail,
                            scope_len: self.env.len(),
                        });
                        self.diverging(b, e, &all, finish);
                        self.env.truncate(scope);
                        return;
                    }
                    let v = self.expr(b, e, is_tail && want_tail);
                    if is_tail {
                        tail = v;
                        tail_span = e.span();
                    }
                }
                Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        if let Some((else_tok, _)) = &init.diverge {
                            self.err(
                                else_tok.span,
                                "`let ... else` is not supported in differentiated functions; \
                                 use `match`",
                            );
                            continue;
                        }
                        let e = &*init.expr;
                        if matches!(e, Expr::If(_) | Expr::Match(_)) && diverges(e) {
                            let mut all: Vec<Cont> = conts.iter().map(Cont::clone_ref).collect();
                            all.push(Cont {
                                stmts: rest,
                                bind: Some(&local.pat),
                                tail_through: false,
                                scope_len: self.env.len(),
                            });
                            self.diverging(b, e, &all, finish);
                            self.env.truncate(scope);
                            return;
                        }
                        let v = self.expr(b, e, true);
                        self.bind_pat(b, &local.pat, v, e.span());
                    } else {
                        self.declare_uninit(&local.pat);
                    }
                }
                Stmt::Macro(m) => {
                    self.opaque_macro(b, &m.mac, false, m.span());
                }
                Stmt::Item(item) => {
                    self.err_at(
                        &item,
                        format!(
                            "`{}` items inside a differentiated function are not supported; move \
                             the item out of the function",
                            item_kind(item)
                        ),
                    );
                }
            }
        }
        self.env.truncate(scope);
        self.finish_with(b, tail, tail_span, conts, finish);
    }

    /// Applies the continuations, innermost first, then `finish`.
    fn finish_with(
        &mut self,
        b: Block,
        tail: Option<Value>,
        span: Span,
        conts: &[Cont],
        finish: &Finish,
    ) {
        if let Some((last, outer)) = conts.split_last() {
            self.env.truncate(last.scope_len);
            if let Some(pat) = last.bind {
                self.bind_pat(b, pat, tail, span);
            }
            if last.stmts.is_empty() && last.tail_through {
                self.finish_with(b, tail, span, outer, finish);
                return;
            }
            // The bound variables stay in scope for the rest: `seq` truncates to its own start.
            self.seq(b, last.stmts, outer, finish, span);
            return;
        }
        let term = match finish {
            Finish::Return => match tail {
                Some(v) => Term::Return(v),
                None => {
                    self.err(
                        span,
                        "a differentiated function must end with the value it returns",
                    );
                    return;
                }
            },
            Finish::Continue => {
                let slots = self
                    .loops
                    .last()
                    .map(|l| l.slots.clone())
                    .unwrap_or_default();
                Term::Continue(self.current(&slots, span))
            }
            Finish::Yield { slots, want_value } => {
                let mut vals = self.current(slots, span);
                if *want_value {
                    match tail {
                        Some(v) => vals.push(v),
                        None => {
                            self.err(span, "this branch has no value, but its result is used");
                            return;
                        }
                    }
                }
                Term::Yield(vals)
            }
        };
        self.f.block_mut(b).term = term;
    }

    /// `return`, `break` and `continue` as statements. Returns `Some` if `e` was one.
    fn try_jump(&mut self, b: Block, e: &Expr) -> Option<()> {
        match e {
            Expr::Return(r) if !self.loops.is_empty() => {
                // Inside a loop: keep the value and raise the flag, then leave the loop; after
                // each enclosing loop the flag sends control on out (see `loop_with_return`).
                let v = match &r.expr {
                    Some(x) => self.expr(b, x, true),
                    None => None,
                };
                let Some(v) = v else {
                    self.err_at(&r, "`return` needs a value here");
                    return Some(());
                };
                let (Some(value), Some(flag)) = (self.lookup(RET_VALUE), self.lookup(RET_FLAG))
                else {
                    self.err_at(
                        &r,
                        "`return` here is not supported; `break` and return after the loop",
                    );
                    return Some(());
                };
                self.env[value].value = Some(v);
                let t = self.inst1(b, InstKind::Const(quote!(true)), Kind::Discrete, r.span());
                self.env[flag].value = Some(t);
                let slots = self
                    .loops
                    .last()
                    .map(|l| l.slots.clone())
                    .unwrap_or_default();
                let vals = self.current(&slots, r.span());
                self.f.block_mut(b).term = Term::Break(vals);
                Some(())
            }
            Expr::Return(r) => {
                let v = match &r.expr {
                    Some(x) => self.expr(b, x, true),
                    None => None,
                };
                match v {
                    Some(v) => self.f.block_mut(b).term = Term::Return(v),
                    None => self.err_at(&r, "`return` needs a value here"),
                }
                Some(())
            }
            Expr::Break(br) => {
                if let Some(l) = &br.label {
                    self.err_at(
                        &l,
                        "labeled `break` is not supported; restructure with a flag variable",
                    );
                    return Some(());
                }
                if let Some(x) = &br.expr {
                    self.err_at(
                        &x,
                        "`break` with a value is not supported; assign the value to a variable \
                         declared before the loop, then `break`",
                    );
                    return Some(());
                }
                match self.loops.last() {
                    Some(l) => {
                        let slots = l.slots.clone();
                        let vals = self.current(&slots, br.span());
                        self.f.block_mut(b).term = Term::Break(vals);
                    }
                    None => self.err_at(&br, "`break` outside a loop"),
                }
                Some(())
            }
            Expr::Continue(c) => {
                if let Some(l) = &c.label {
                    self.err_at(
                        &l,
                        "labeled `continue` is not supported; restructure with a flag variable",
                    );
                    return Some(());
                }
                match self.loops.last() {
                    Some(l) => {
                        let slots = l.slots.clone();
                        let vals = self.current(&slots, c.span());
                        self.f.block_mut(b).term = Term::Continue(vals);
                    }
                    None => self.err_at(&c, "`continue` outside a loop"),
                }
                Some(())
            }
            _ => None,
        }
    }

    /// A loop with a `return` inside: the returned value and a flag are variables the loop
    /// carries; after it, a branch on the flag returns (or, inside another loop, leaves that
    /// one too), and the rest of the statements run in its other arm.
    fn loop_with_return(
        &mut self,
        b: Block,
        e: &Expr,
        rest: &[Stmt],
        conts: &[Cont],
        finish: &Finish,
    ) {
        let span = e.span();
        if self.lookup(RET_VALUE).is_none() {
            let Some(ret) = self.ret.clone() else {
                self.err_at(e, "a differentiated function must return a value");
                return;
            };
            let d = self.inst1(
                b,
                InstKind::Const(quote!(::core::default::Default::default())),
                Kind::Unknown,
                span,
            );
            let kind = if crate::types::is_float_type(&ret) {
                Kind::Float
            } else {
                Kind::Unknown
            };
            let v = self.inst1(b, InstKind::Ascribe { value: d, ty: ret }, kind, span);
            self.bind(RET_VALUE.into(), Some(v));
            let f = self.inst1(b, InstKind::Const(quote!(false)), Kind::Discrete, span);
            self.bind(RET_FLAG.into(), Some(f));
        }
        self.expr(b, e, false);
        let (Some(value), Some(flag)) = (self.lookup(RET_VALUE), self.lookup(RET_FLAG)) else {
            return;
        };
        let (Some(ret_value), Some(cond)) = (self.env[value].value, self.env[flag].value) else {
            return;
        };
        let then = self.f.new_block();
        let els = self.f.new_block();
        self.f.block_mut(then).term = match self.loops.last() {
            Some(l) => {
                let slots = l.slots.clone();
                Term::Break(self.current(&slots, span))
            }
            None => Term::Return(ret_value),
        };
        if matches!(e, Expr::Loop(l) if !breaks_itself(&l.body)) {
            // `loop { .. return .. }` without a `break` only leaves by returning: nothing
            // after it runs.
            let term = self.f.block(then).term.clone();
            self.f.block_mut(els).term = term;
        } else {
            let saved = self.env.clone();
            self.seq(els, rest, conts, finish, span);
            self.env = saved;
        }
        self.f.block_mut(b).term = Term::Branch { cond, then, els };
    }

    /// An `if`/`match` that contains a jump: a [`Term::Branch`]/[`Term::Switch`] whose arms
    /// continue with `conts`.
    fn diverging(&mut self, b: Block, e: &Expr, conts: &[Cont], finish: &Finish) {
        match e {
            Expr::If(ei) => {
                let Some(cond) = self.expr(b, &ei.cond, true) else {
                    return;
                };
                let then = self.f.new_block();
                let els = self.f.new_block();
                let saved = self.env.clone();
                self.seq(
                    then,
                    &ei.then_branch.stmts,
                    conts,
                    finish,
                    ei.then_branch.span(),
                );
                self.env = saved.clone();
                match &ei.else_branch {
                    Some((_, else_expr)) => self.seq(
                        els,
                        std::slice::from_ref(&Stmt::Expr((**else_expr).clone(), None)),
                        conts,
                        finish,
                        else_expr.span(),
                    ),
                    None => self.seq(els, &[], conts, finish, ei.span()),
                }
                self.env = saved;
                self.f.block_mut(b).term = Term::Branch { cond, then, els };
            }
            Expr::Match(em) => {
                let Some(scrutinee) = self.expr(b, &em.expr, true) else {
                    return;
                };
                let saved = self.env.clone();
                let mut arms = Vec::new();
                for arm in &em.arms {
                    self.env = saved.clone();
                    let head = self.match_arm_head(arm);
                    let body = arm_body_stmts(&arm.body);
                    self.seq(head.block, &body, conts, finish, arm.body.span());
                    arms.push(head);
                }
                self.env = saved;
                self.f.block_mut(b).term = Term::Switch { scrutinee, arms };
            }
            _ => unreachable!("only `if` and `match` diverge structurally"),
        }
    }

    /// Creates an arm block, binds the pattern's names as its parameters and lowers the guard.
    fn match_arm_head(&mut self, arm: &syn::Arm) -> MatchArm {
        let block = self.f.new_block();
        let (pat, guard) = match &arm.pat {
            Pat::Guard(g) => ((*g.pat).clone(), Some(&*g.guard)),
            p => (p.clone(), None),
        };
        let (guard_tokens, guard_uses) = match guard {
            Some(g) => {
                let t = g.to_token_stream();
                let uses = self.free_uses(&t);
                (Some(t), uses)
            }
            None => (None, Vec::new()),
        };
        let mut bindings = Vec::new();
        collect_pat_bindings(&pat, &mut bindings);
        for id in &bindings {
            let v = self
                .f
                .add_block_param(block, Some(id.to_string()), Kind::Discrete);
            self.bind(id.to_string(), Some(v));
        }
        MatchArm {
            pat,
            guard: guard_tokens,
            guard_uses,
            bindings,
            block,
        }
    }

    // ---------------------------------------------------------------- bindings

    fn declare_uninit(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                self.bind_mut(pi.ident.to_string(), None, pi.mutability.is_some());
            }
            Pat::Type(pt) => self.declare_uninit(&pt.pat),
            _ => self.err_at(
                &pat,
                "this pattern is not supported in `let`; use a name or a tuple of names",
            ),
        }
    }

    fn bind_pat(&mut self, b: Block, pat: &Pat, v: Option<Value>, span: Span) {
        match pat {
            Pat::Ident(pi) => {
                if pi.by_ref.is_some() || pi.subpat.is_some() {
                    self.err_at(&pat, "`ref` and `@` patterns are not supported here");
                    return;
                }
                if v.is_none() {
                    self.err(span, "this expression has no value to bind");
                }
                self.bind_mut(pi.ident.to_string(), v, pi.mutability.is_some());
            }
            Pat::Type(pt) => {
                let v = v.map(|v| {
                    let kind = if crate::types::is_inactive_type(&pt.ty) {
                        Kind::Discrete
                    } else if crate::types::is_float_type(&pt.ty) {
                        Kind::Float
                    } else {
                        self.kind(v)
                    };
                    self.inst1(
                        b,
                        InstKind::Ascribe {
                            value: v,
                            ty: (*pt.ty).clone(),
                        },
                        kind,
                        pt.span(),
                    )
                });
                self.bind_pat(b, &pt.pat, v, span);
            }
            Pat::Tuple(pt) => {
                let Some(v) = v else {
                    self.err(span, "this expression has no value to destructure");
                    return;
                };
                for (n, p) in pt.elems.iter().enumerate() {
                    let field = self.field(b, v, n as u32, p.span());
                    self.bind_pat(b, p, Some(field), span);
                }
            }
            Pat::Paren(pp) => self.bind_pat(b, &pp.pat, v, span),
            Pat::Wild(_) => {}
            _ => self.err_at(
                &pat,
                "this pattern is not supported in `let`; use a name, `_`, or a tuple of them",
            ),
        }
    }

    /// `v.n`, looking through tuples built in this function.
    fn field(&mut self, b: Block, v: Value, n: u32, span: Span) -> Value {
        if let ValueDef::Result(i, 0) = self.f.value(v).def {
            if let InstKind::Tuple(elems) = &self.f.inst(i).kind {
                if let Some(&e) = elems.get(n as usize) {
                    return e;
                }
            }
        }
        let k = self.kind(v);
        self.inst1(b, InstKind::Field(v, n), k, span)
    }

    /// `base[index] = value` on a local array variable.
    fn assign_index(&mut self, b: Block, ix: &syn::ExprIndex, v: Option<Value>) {
        let Expr::Path(p) = &*ix.expr else {
            self.err_at(
                &ix.expr,
                "only elements of local array variables can be assigned (`h[i] = ..`)",
            );
            return;
        };
        let Some(base) = self.expr(b, &ix.expr, true) else {
            return;
        };
        let Some(index) = self.expr(b, &ix.index, true) else {
            return;
        };
        let Some(value) = v else { return };
        if let ValueDef::Param(_) = self.f.value(base).def {
            let mutable = p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .is_some_and(|slot| self.env[slot].mutable);
            if !mutable {
                self.err_at(
                    &ix,
                    "assigning to an element of a parameter needs the parameter declared `mut` \
                     (or taken as `&mut`); or copy it into a local array first \
                     (`let mut h = x.to_vec();`)",
                );
                return;
            }
        }
        let kind = self.kind(base).join(self.kind(value));
        let r = self.inst1(
            b,
            InstKind::IndexSet { base, index, value },
            kind,
            ix.span(),
        );
        self.assign(&Expr::Path(p.clone()), Some(r));
    }

    fn assign(&mut self, target: &Expr, v: Option<Value>) {
        let name = match target {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let Some(name) = name else {
            let what = match target {
                Expr::Index(_) => {
                    "assignment to an element (`h[i] = ..`) is not supported yet; build the \
                     value with scalar variables"
                }
                Expr::Unary(_) => {
                    "writing through a reference (`*r = ..`) is not supported; return the new \
                     value instead"
                }
                Expr::Field(_) => "assignment to a field is not supported; use a variable",
                _ => "only variables can be assigned to in a differentiated function",
            };
            self.err_at(&target, what);
            return;
        };
        match self.lookup(&name) {
            Some(slot) => {
                if let Some(v) = v {
                    if self.f.values[v.index()].name.is_none() {
                        self.f.values[v.index()].name = Some(name.clone());
                    }
                }
                self.env[slot].value = v;
            }
            None => self.err_at(
                &target,
                format!("cannot assign to `{name}`: it is not a local variable or parameter"),
            ),
        }
    }

    // ---------------------------------------------------------------- expressions

    /// Lowers `e` into block `b`. Returns its value, or `None` for `()`. After an error in `e`
    /// it returns a placeholder value, so that the error does not cascade into "no value" or
    /// "unassigned" errors further on (no code is generated once there is an error).
    fn expr(&mut self, b: Block, e: &Expr, want: bool) -> Option<Value> {
        let before = self.errors.len();
        let v = self.expr_inner(b, e, want);
        if v.is_none() && want && self.errors.len() > before {
            let p = self.inst1(b, InstKind::Const(quote!(())), Kind::Unknown, e.span());
            self.poisoned.push(p);
            return Some(p);
        }
        v
    }

    fn expr_inner(&mut self, b: Block, e: &Expr, want: bool) -> Option<Value> {
        let span = e.span();
        match e {
            Expr::Lit(l) => {
                let kind = match &l.lit {
                    syn::Lit::Float(_) => Kind::Float,
                    syn::Lit::Int(i) => match i.suffix() {
                        "f32" | "f64" => Kind::Float,
                        _ => Kind::Discrete,
                    },
                    _ => Kind::Discrete,
                };
                Some(self.inst1(b, InstKind::Const(l.to_token_stream()), kind, span))
            }
            Expr::Path(p) => {
                if p.qself.is_none() {
                    if let Some(id) = p.path.get_ident() {
                        if let Some(slot) = self.lookup(&id.to_string()) {
                            return match self.env[slot].value {
                                Some(v) => Some(v),
                                None => {
                                    self.err_at(
                                        e,
                                        format!(
                                            "`{id}` is read before it is assigned; give it a value \
                                             where it is declared"
                                        ),
                                    );
                                    None
                                }
                            };
                        }
                    }
                }
                Some(self.inst1(b, InstKind::Const(p.to_token_stream()), Kind::Unknown, span))
            }
            Expr::Paren(p) => self.expr(b, &p.expr, want),
            Expr::Group(g) => self.expr(b, &g.expr, want),
            Expr::Unary(u) => match u.op {
                syn::UnOp::Neg(_) => {
                    let a = self.expr(b, &u.expr, true)?;
                    let k = self.kind(a);
                    Some(self.inst1(b, InstKind::Neg(a), k, span))
                }
                syn::UnOp::Not(_) => {
                    self.opaque(b, e.to_token_stream(), Kind::Discrete, true, span)
                }
                _ => {
                    if let Expr::Path(p) = &*u.expr {
                        if let Some(slot) =
                            p.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
                        {
                            if self.env[slot].element {
                                return self.env[slot].value;
                            }
                            if self.env[slot]
                                .value
                                .is_some_and(|v| self.poisoned.contains(&v))
                            {
                                return None;
                            }
                        }
                    }
                    self.err_at(
                        e,
                        "dereferencing (`*x`) is supported only for the elements of a `for` loop \
                         over a slice; pass the value itself",
                    );
                    None
                }
            },
            Expr::Binary(bin) => self.binary(b, bin),
            Expr::Assign(a) => {
                let v = self.expr(b, &a.right, true);
                match &*a.left {
                    Expr::Index(ix) => self.assign_index(b, ix, v),
                    left => self.assign(left, v),
                }
                None
            }
            Expr::MethodCall(mc) => self.method_call(b, mc),
            Expr::Call(c) => self.call(b, c),
            Expr::Cast(c) => {
                let v = self.expr(b, &c.expr, true)?;
                let kind = if crate::types::is_float_type(&c.ty) {
                    Kind::Float
                } else if crate::types::is_inactive_type(&c.ty) {
                    Kind::Discrete
                } else {
                    Kind::Unknown
                };
                Some(self.inst1(
                    b,
                    InstKind::Cast {
                        value: v,
                        ty: (*c.ty).clone(),
                    },
                    kind,
                    span,
                ))
            }
            Expr::Tuple(t) => {
                if t.elems.is_empty() {
                    return None;
                }
                let mut vals = Vec::new();
                let mut kind = Kind::Discrete;
                for el in &t.elems {
                    let v = self.expr(b, el, true)?;
                    kind = kind.join(self.kind(v));
                    vals.push(v);
                }
                Some(self.inst1(b, InstKind::Tuple(vals), kind, span))
            }
            Expr::Field(fe) => match &fe.member {
                syn::Member::Unnamed(idx) => {
                    let v = self.expr(b, &fe.base, true)?;
                    Some(self.field(b, v, idx.index, span))
                }
                syn::Member::Named(_) => {
                    // A field read by value: a copy of what the reference points to.
                    let r = self.field_ref(b, fe)?;
                    let k = self.kind(r);
                    Some(self.inst1(b, InstKind::Deref(r), k, span))
                }
            },
            Expr::Index(ix) => {
                let base = self.place_expr(b, &ix.expr)?;
                let idx = self.expr(b, &ix.index, true)?;
                let kind = if self.kind(base) == Kind::Discrete {
                    Kind::Discrete
                } else {
                    Kind::Unknown
                };
                Some(self.inst1(b, InstKind::Index(base, idx), kind, span))
            }
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    self.err(
                        m.span,
                        "`&mut` is not supported in differentiated functions; pass values and \
                         return results instead",
                    );
                    return None;
                }
                if let Expr::Field(fe) = &*r.expr {
                    if matches!(fe.member, syn::Member::Named(_)) {
                        return self.field_ref(b, fe);
                    }
                }
                let v = self.expr(b, &r.expr, true)?;
                let k = self.kind(v);
                Some(self.inst1(b, InstKind::Ref(v), k, span))
            }
            Expr::Macro(m) => self.opaque_macro(b, &m.mac, want, span),
            Expr::Block(bl) => {
                if let Some(l) = &bl.label {
                    self.err_at(&l, "labeled blocks are not supported");
                    return None;
                }
                if diverges_block(&bl.block) {
                    self.err_at(
                        e,
                        "`return`, `break` or `continue` inside a block expression is not \
                         supported; move it into an `if` statement",
                    );
                    return None;
                }
                self.inline_block(b, &bl.block.stmts, want)
            }
            Expr::If(_) | Expr::Match(_) if diverges(e) => {
                self.err_at(
                    e,
                    "an `if` or `match` with `return`, `break` or `continue` must be a statement \
                     or a `let` initializer; bind its value first (`let v = if .. ;`)",
                );
                None
            }
            Expr::If(ei) => self.if_expr(b, ei, want),
            Expr::Match(em) => self.match_expr(b, em, want),
            Expr::ForLoop(fl) => {
                let first = self.f.insts.len();
                self.for_loop(b, fl);
                self.loop_checkpoint(b, first, &fl.attrs);
                None
            }
            Expr::While(w) => {
                let first = self.f.insts.len();
                self.while_loop(b, w);
                self.loop_checkpoint(b, first, &w.attrs);
                None
            }
            Expr::Loop(l) => {
                let first = self.f.insts.len();
                self.loop_loop(b, l);
                self.loop_checkpoint(b, first, &l.attrs);
                None
            }
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => {
                self.err_at(
                    e,
                    "`return`, `break` and `continue` are supported as statements, not inside \
                     expressions; use an `if` statement",
                );
                None
            }
            Expr::Closure(_) => {
                self.err_at(
                    e,
                    "closures are not supported in differentiated functions; write the closure \
                     body as a `#[differentiate]` function and call it",
                );
                None
            }
            Expr::Unsafe(_) => {
                self.err_at(
                    e,
                    "`unsafe` blocks are not supported in differentiated functions; call a safe \
                     function that wraps them (with its own `_vjp`)",
                );
                None
            }
            Expr::Async(_) | Expr::Await(_) => {
                self.err_at(
                    e,
                    "`async` code is not supported in differentiated functions; compute the value before calling and pass it in",
                );
                None
            }
            Expr::Let(_) => {
                self.err_at(e, "`if let` is not supported; use `match`");
                None
            }
            Expr::Range(_) => {
                self.err_at(
                    e,
                    "ranges are supported only as the iterator of a `for` loop",
                );
                None
            }
            Expr::Try(_) => {
                self.err_at(
                    e,
                    "the `?` operator is not supported in differentiated functions; handle the error before calling, or `match` on the value",
                );
                None
            }
            Expr::Array(_) | Expr::Repeat(_) => {
                // Built as written (`[0.0; 4]`, the index `[i, j]`); its elements are not
                // differentiated, so fill a local array element by element instead.
                self.opaque(b, e.to_token_stream(), Kind::Unknown, want, span)
            }
            Expr::Struct(_) => {
                self.err_at(
                    e,
                    "struct literals are not supported in differentiated functions; build the struct outside and pass it as a parameter",
                );
                None
            }
            _ => {
                self.err_at(
                    e,
                    "this expression is not supported in differentiated functions",
                );
                None
            }
        }
    }

    fn inline_block(&mut self, b: Block, stmts: &[Stmt], want: bool) -> Option<Value> {
        let scope = self.env.len();
        let mut tail = None;
        for (i, stmt) in stmts.iter().enumerate() {
            let is_last = i + 1 == stmts.len();
            match stmt {
                Stmt::Expr(e, semi) => {
                    let is_tail = is_last && semi.is_none();
                    let v = self.expr(b, e, is_tail && want);
                    if is_tail {
                        tail = v;
                    }
                }
                Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        if let Some((else_tok, _)) = &init.diverge {
                            self.err(
                                else_tok.span,
                                "`let ... else` is not supported; use `match`",
                            );
                            continue;
                        }
                        let v = self.expr(b, &init.expr, true);
                        self.bind_pat(b, &local.pat, v, init.expr.span());
                    } else {
                        self.declare_uninit(&local.pat);
                    }
                }
                Stmt::Macro(m) => {
                    self.opaque_macro(b, &m.mac, false, m.span());
                }
                Stmt::Item(item) => self.err_at(
                    &item,
                    format!(
                        "`{}` items inside a differentiated function are not supported; move the \
                         item out of the function",
                        item_kind(item)
                    ),
                ),
            }
        }
        self.env.truncate(scope);
        tail
    }

    fn binary(&mut self, b: Block, bin: &syn::ExprBinary) -> Option<Value> {
        use syn::BinOp as B;
        let span = bin.span();
        let arith = |op: &B| match op {
            B::Add(_) | B::AddAssign(_) => Some(BinOp::Add),
            B::Sub(_) | B::SubAssign(_) => Some(BinOp::Sub),
            B::Mul(_) | B::MulAssign(_) => Some(BinOp::Mul),
            B::Div(_) | B::DivAssign(_) => Some(BinOp::Div),
            B::Rem(_) | B::RemAssign(_) => Some(BinOp::Rem),
            _ => None,
        };
        let compound = matches!(
            bin.op,
            B::AddAssign(_) | B::SubAssign(_) | B::MulAssign(_) | B::DivAssign(_) | B::RemAssign(_)
        );
        match arith(&bin.op) {
            Some(op) => {
                let l = self.expr(b, &bin.left, true);
                let r = self.expr(b, &bin.right, true);
                let (l, r) = (l?, r?);
                let k = self.kind(l).join(self.kind(r));
                let v = self.inst1(b, InstKind::Binary(op, l, r), k, span);
                if compound {
                    match &*bin.left {
                        Expr::Index(ix) => self.assign_index(b, ix, Some(v)),
                        left => self.assign(left, Some(v)),
                    }
                    None
                } else {
                    Some(v)
                }
            }
            None if matches!(
                bin.op,
                B::BitAndAssign(_)
                    | B::BitOrAssign(_)
                    | B::BitXorAssign(_)
                    | B::ShlAssign(_)
                    | B::ShrAssign(_)
            ) =>
            {
                self.err(
                    span,
                    "compound bit operations are not supported; write `x = x & y`",
                );
                None
            }
            None => self.opaque(b, bin.to_token_stream(), Kind::Discrete, true, span),
        }
    }

    fn method_call(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Value> {
        let span = mc.span();
        if let Some(t) = &mc.turbofish {
            self.err_at(
                &t,
                "method calls with turbofish (`::<..>`) are not supported; annotate the variable instead (`let s: f64 = ..`)",
            );
            return None;
        }
        let name = mc.method.to_string();
        // `x.mean().unwrap()`: ndarray's means return `Option`s.
        if name == "unwrap" || name == "expect" {
            if let Expr::MethodCall(inner) = &*mc.receiver {
                if let Some(m) = MutId::find(&inner.method.to_string()) {
                    if m.def().option && inner.turbofish.is_none() {
                        return self.mutation(b, inner, m, true);
                    }
                }
                if (inner.method == "mean"
                    || inner.method == "mean_axis"
                    || inner.method == "into_shape_with_order")
                    && inner.turbofish.is_none()
                {
                    let recv = self.place_expr(b, &inner.receiver)?;
                    let mut args = Vec::new();
                    for a in &inner.args {
                        args.push(self.expr(b, a, true)?);
                    }
                    let root = self.mutable_root(&inner.receiver);
                    return self.method(b, inner.method.clone(), recv, args, true, root, span);
                }
            }
        }
        if name == "sum" && mc.args.is_empty() {
            if let Expr::MethodCall(inner) = &*mc.receiver {
                if inner.method == "iter" && inner.args.is_empty() {
                    let base = self.place_expr(b, &inner.receiver)?;
                    return Some(self.sum_elements(b, base, span));
                }
            }
        }
        if let Some(m) = MutId::find(&name) {
            if self.mutable_root(&mc.receiver).is_some() {
                return self.mutation(b, mc, m, false);
            }
        }
        let recv = self.place_expr(b, &mc.receiver)?;
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(self.expr(b, a, true)?);
        }
        let root = self.mutable_root(&mc.receiver);
        self.method(b, mc.method.clone(), recv, args, false, root, span)
    }

    /// `v.push(x)` and the other mutations of [`crate::prim::places`] on a variable declared
    /// `mut` or a `&mut` parameter: a new version of `v`.
    fn mutation(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        m: MutId,
        unwrap: bool,
    ) -> Option<Value> {
        let span = mc.span();
        let def = m.def();
        let target = match &*mc.receiver {
            Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => p.path.clone(),
            other => {
                self.err_at(
                    other,
                    format!(
                        "`.{}(..)` is followed by the derivative only on a variable (`v.{}(..)` \
                         with `let mut v` or a `&mut` parameter `v`); bind the container to a \
                         variable first",
                        def.name, def.name
                    ),
                );
                return None;
            }
        };
        if mc.args.len() != def.args {
            self.err_at(
                &mc.method,
                format!(
                    "`{}` takes {} argument(s) here, found {}",
                    def.name,
                    def.args,
                    mc.args.len()
                ),
            );
            return None;
        }
        let base = self.expr(b, &mc.receiver, true)?;
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(self.expr(b, a, true)?);
        }
        let mut kind = self.kind(base);
        for (k, &a) in args.iter().enumerate() {
            if def.diff[k] {
                kind = kind.join(self.kind(a));
            }
        }
        let n = 1 + usize::from(def.returns);
        let i = self.f.push_inst(
            b,
            InstKind::Mutate {
                m,
                base,
                args,
                unwrap,
            },
            n,
            kind,
            mc.method.span(),
        );
        let results = self.f.inst(i).results.clone();
        self.assign(
            &Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path: target,
            }),
            Some(results[0]),
        );
        let _ = span;
        results.get(1).copied()
    }

    #[allow(clippy::too_many_arguments)]
    fn method(
        &mut self,
        b: Block,
        name: syn::Ident,
        recv: Value,
        args: Vec<Value>,
        unwrap: bool,
        recv_mut: Option<syn::Ident>,
        span: Span,
    ) -> Option<Value> {
        let s = name.to_string();
        if let Some(prim) = PrimId::method(&s) {
            if prim.n_args() != args.len() {
                self.err_at(
                    &name,
                    format!(
                        "`{s}` takes {} argument(s) here, found {}",
                        prim.n_args(),
                        args.len()
                    ),
                );
                return None;
            }
            let kind = match self.kind(recv) {
                Kind::Discrete => Kind::Discrete,
                _ if prim.has(Flags::FLOAT_RESULT) => Kind::Float,
                k if prim.has(Flags::IDENTITY) => k,
                _ => Kind::Unknown,
            };
            let mut all = vec![recv];
            all.extend(args);
            // Spanned at the method's name: what diagnostics about it underline.
            return Some(self.inst1(
                b,
                InstKind::Prim {
                    prim,
                    args: all,
                    unwrap,
                },
                kind,
                name.span(),
            ));
        }
        let kind = if prim::is_discrete_method(&s) {
            Kind::Discrete
        } else {
            Kind::Unknown
        };
        Some(self.inst1(
            b,
            InstKind::Method {
                name,
                recv,
                args,
                unwrap,
                recv_mut,
            },
            kind,
            span,
        ))
    }

    /// The variable a method receiver is rooted in (`v` in `v.push(..)`, `s.buf.push(..)`,
    /// `v[i].push(..)`, `v.iter_mut().next()`), if it is declared `mut` or is a `&mut`
    /// parameter: a method called there may change it.
    fn mutable_root(&self, e: &Expr) -> Option<syn::Ident> {
        match e {
            Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?;
                let slot = self.lookup(&id.to_string())?;
                self.env[slot].mutable.then(|| id.clone())
            }
            Expr::Paren(p) => self.mutable_root(&p.expr),
            Expr::Group(g) => self.mutable_root(&g.expr),
            Expr::Field(f) => self.mutable_root(&f.base),
            Expr::Index(ix) => self.mutable_root(&ix.expr),
            Expr::MethodCall(mc) => self.mutable_root(&mc.receiver),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.mutable_root(&u.expr),
            _ => None,
        }
    }

    /// An expression in a place that can borrow (`&e`, a method receiver, a field base, an
    /// indexed value): a field of a parameter struct stays a reference there.
    fn place_expr(&mut self, b: Block, e: &Expr) -> Option<Value> {
        match e {
            Expr::Field(fe) if matches!(fe.member, syn::Member::Named(_)) => self.field_ref(b, fe),
            Expr::Paren(p) => self.place_expr(b, &p.expr),
            _ => self.expr(b, e, true),
        }
    }

    /// `base.name` as a reference to the field.
    fn field_ref(&mut self, b: Block, fe: &syn::ExprField) -> Option<Value> {
        let syn::Member::Named(name) = &fe.member else {
            return self.expr(b, &Expr::Field(fe.clone()), true);
        };
        let base = self.place_expr(b, &fe.base)?;
        let kind = self.kind(base);
        Some(self.inst1(b, InstKind::FieldRef(base, name.clone()), kind, fe.span()))
    }

    fn call(&mut self, b: Block, c: &syn::ExprCall) -> Option<Value> {
        let span = c.span();
        let Expr::Path(fp) = &*c.func else {
            self.err_at(
                &c.func,
                "only calls of named functions (`g(x)`, `module::g(x)`) are supported",
            );
            return None;
        };
        if fp.qself.is_some() {
            self.err_at(
                &c.func,
                "qualified paths (`<T as Trait>::f`) are not supported; call the function by its plain path (`module::f(x)`)",
            );
            return None;
        }
        let mut args = Vec::new();
        for a in &c.args {
            args.push(self.expr(b, a, true)?);
        }
        // `f64::exp(x)` is `x.exp()`.
        let segs: Vec<String> = fp
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if segs.len() == 2 && (segs[0] == "f64" || segs[0] == "f32") {
            let m = &fp.path.segments[1].ident;
            if PrimId::method(&segs[1]).is_some_and(|p| p.has(Flags::FLOAT_RESULT)) {
                if args.is_empty() {
                    self.err(
                        span,
                        format!("`{}::{m}` needs its receiver argument", segs[0]),
                    );
                    return None;
                }
                let recv = args.remove(0);
                return self.method(b, m.clone(), recv, args, false, None, span);
            }
        }
        if let Some(local) = fp.path.get_ident() {
            if let Some(slot) = self.lookup(&local.to_string()) {
                if self.env[slot]
                    .value
                    .is_some_and(|v| self.poisoned.contains(&v))
                {
                    return None;
                }
                self.err_at(
                    &local,
                    format!("`{local}` is a variable; calling a variable is not supported: call a named function (with `#[differentiate]` or its own `_vjp`)"),
                );
                return None;
            }
        }
        Some(self.inst1(
            b,
            InstKind::Call {
                path: fp.path.clone(),
                args,
            },
            Kind::Unknown,
            span,
        ))
    }

    /// Tokens run as written, with the variables they name bound to their current values.
    fn opaque(
        &mut self,
        b: Block,
        tokens: TokenStream,
        kind: Kind,
        want: bool,
        span: Span,
    ) -> Option<Value> {
        self.opaque_inst(b, tokens, None, kind, want, span)
    }

    /// A macro call, run as written.
    fn opaque_macro(&mut self, b: Block, m: &syn::Macro, want: bool, span: Span) -> Option<Value> {
        let name = m.path.segments.last().map(|s| s.ident.to_string());
        self.opaque_inst(b, m.to_token_stream(), name, Kind::Unknown, want, span)
    }

    fn opaque_inst(
        &mut self,
        b: Block,
        tokens: TokenStream,
        mac: Option<String>,
        kind: Kind,
        want: bool,
        span: Span,
    ) -> Option<Value> {
        let uses = self.free_uses(&tokens);
        let i = self.f.push_inst(
            b,
            InstKind::Opaque { tokens, uses, mac },
            usize::from(want),
            kind,
            span,
        );
        self.f.inst(i).results.first().copied()
    }

    /// Variables in scope named in `tokens`, with their current values.
    fn free_uses(&mut self, tokens: &TokenStream) -> Vec<(syn::Ident, Value)> {
        let mut idents = Vec::new();
        collect_idents(tokens.clone(), &mut idents);
        let mut out: Vec<(syn::Ident, Value)> = Vec::new();
        for id in idents {
            let s = id.to_string();
            if out.iter().any(|(o, _)| *o == s) {
                continue;
            }
            if let Some(slot) = self.lookup(&s) {
                if let Some(v) = self.env[slot].value {
                    out.push((syn::Ident::new(&s, id.span()), v));
                }
            }
        }
        out
    }

    fn if_expr(&mut self, b: Block, ei: &syn::ExprIf, want: bool) -> Option<Value> {
        let cond = self.expr(b, &ei.cond, true)?;
        let slots = self.assigned_slots(|v| {
            v.visit_block(&ei.then_branch);
            if let Some((_, e)) = &ei.else_branch {
                v.visit_expr(e);
            }
        });
        if want && ei.else_branch.is_none() {
            self.err_at(&ei, "an `if` used as a value needs an `else` branch");
            return None;
        }
        let finish = Finish::Yield {
            slots: slots.clone(),
            want_value: want,
        };
        let then = self.f.new_block();
        let els = self.f.new_block();
        let saved = self.env.clone();
        self.seq(
            then,
            &ei.then_branch.stmts,
            &[],
            &finish,
            ei.then_branch.span(),
        );
        self.env = saved.clone();
        match &ei.else_branch {
            Some((_, e)) => self.seq(
                els,
                std::slice::from_ref(&Stmt::Expr((**e).clone(), None)),
                &[],
                &finish,
                e.span(),
            ),
            None => self.seq(els, &[], &[], &finish, ei.span()),
        }
        self.env = saved;
        let n = slots.len() + usize::from(want);
        let i = self.f.push_inst(
            b,
            InstKind::If { cond, then, els },
            n,
            Kind::Unknown,
            ei.span(),
        );
        self.merge_results(i, &slots, want, &[then, els])
    }

    /// After an `if`/`match` instruction: its results become the variables' new values.
    fn merge_results(
        &mut self,
        i: Inst,
        slots: &[usize],
        want: bool,
        arms: &[Block],
    ) -> Option<Value> {
        let results = self.f.inst(i).results.clone();
        for (n, &r) in results.iter().enumerate() {
            // A result is as differentiable as what its arms yield.
            let mut kind: Option<Kind> = None;
            for &arm in arms {
                if let Term::Yield(vals) = &self.f.block(arm).term {
                    if let Some(&v) = vals.get(n) {
                        let k = self.kind(v);
                        kind = Some(match kind {
                            None => k,
                            Some(prev) if prev == k => k,
                            Some(prev) => prev.join(k),
                        });
                    }
                }
            }
            self.f.values[r.index()].kind = kind.unwrap_or(Kind::Unknown);
            if let Some(&slot) = slots.get(n) {
                self.f.values[r.index()].name = Some(self.env[slot].name.clone());
                self.env[slot].value = Some(r);
            }
        }
        if want { results.last().copied() } else { None }
    }

    fn match_expr(&mut self, b: Block, em: &syn::ExprMatch, want: bool) -> Option<Value> {
        let scrutinee = self.expr(b, &em.expr, true)?;
        let slots = self.assigned_slots(|v| {
            for arm in &em.arms {
                v.visit_expr(&arm.body);
            }
        });
        let finish = Finish::Yield {
            slots: slots.clone(),
            want_value: want,
        };
        let saved = self.env.clone();
        let mut arms = Vec::new();
        for arm in &em.arms {
            self.env = saved.clone();
            let head = self.match_arm_head(arm);
            let body = arm_body_stmts(&arm.body);
            self.seq(head.block, &body, &[], &finish, arm.body.span());
            arms.push(head);
        }
        self.env = saved;
        let blocks: Vec<Block> = arms.iter().map(|a| a.block).collect();
        let n = slots.len() + usize::from(want);
        let i = self.f.push_inst(
            b,
            InstKind::Match { scrutinee, arms },
            n,
            Kind::Unknown,
            em.span(),
        );
        self.merge_results(i, &slots, want, &blocks)
    }

    /// `#[checkpoint(snapshots = n)]` on the loop just lowered into `b` (as its first loop
    /// instruction numbered `first` or later): recorded on the loop instruction for reverse mode.
    fn loop_checkpoint(&mut self, b: Block, first: usize, attrs: &[syn::Attribute]) {
        for attr in attrs.iter().filter(|a| a.path().is_ident("checkpoint")) {
            let n = match crate::options::checkpoint_attr(attr) {
                Ok(n) => n,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            let lp = self.f.block(b).insts.iter().copied().find(|&i| {
                i.index() >= first && matches!(self.f.inst(i).kind, InstKind::Loop { .. })
            });
            if let Some(i) = lp {
                if let InstKind::Loop { checkpoint, .. } = &mut self.f.insts[i.index()].kind {
                    if checkpoint.replace(n).is_some() {
                        self.err_at(attr, "`#[checkpoint]` given twice on this loop");
                    }
                }
            }
        }
    }

    /// Sets up a loop body block whose parameters carry the variables the loop assigns.
    fn loop_header(&mut self, body_syn: &syn::Block) -> LoopHeader {
        let slots = self.assigned_slots(|v| v.visit_block(body_syn));
        let init = self.current(&slots, body_syn.span());
        let body = self.f.new_block();
        LoopHeader {
            body,
            slots,
            init,
            saved: self.env.clone(),
        }
    }

    fn bind_carried(&mut self, body: Block, slots: &[usize], init: &[Value]) {
        for (&slot, &v) in slots.iter().zip(init) {
            let kind = self.kind(v);
            let name = self.env[slot].name.clone();
            let p = self.f.add_block_param(body, Some(name), kind);
            self.env[slot].value = Some(p);
        }
    }

    fn finish_loop(&mut self, b: Block, kind: LoopKind, h: LoopHeader, span: Span) {
        let LoopHeader {
            body,
            slots,
            init,
            saved,
        } = h;
        let slots = &slots[..];
        self.env = saved;
        let i = self.f.push_inst(
            b,
            InstKind::Loop {
                kind,
                init,
                body,
                checkpoint: None,
            },
            slots.len(),
            Kind::Unknown,
            span,
        );
        let results = self.f.inst(i).results.clone();
        let params = self.f.block(body).params.clone();
        let carried = &params[params.len() - slots.len()..];
        for ((&slot, &r), &p) in slots.iter().zip(&results).zip(carried) {
            let kind = self.kind(p);
            self.f.values[r.index()].kind = kind;
            self.f.values[r.index()].name = Some(self.env[slot].name.clone());
            self.env[slot].value = Some(r);
        }
    }

    fn for_loop(&mut self, b: Block, fl: &syn::ExprForLoop) {
        let span = fl.span();
        if let Some(l) = &fl.label {
            self.err_at(&l, "labeled loops (`'label: for ..`) are not supported; use a flag variable and `break` from the inner loop");
            return;
        }
        if let Some((base, enumerate)) = parse_slice_iter(&fl.expr) {
            self.slice_loop(b, fl, base, enumerate);
            return;
        }
        let Some((start, end, inclusive, rev)) = parse_range(&fl.expr) else {
            self.err_at(
                &fl.expr,
                "`for` loops must iterate over a range (`a..b`, `a..=b`, `(a..b).rev()`) or a \
                 slice (`x`, `x.iter()`, `x.iter().enumerate()`); other iterators are not \
                 supported: index with a range instead",
            );
            return;
        };
        let index_name = match &*fl.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                Some(pi.ident.to_string())
            }
            Pat::Wild(_) => None,
            p => {
                self.err_at(&p, "the loop variable must be a name or `_`");
                return;
            }
        };
        let Some(start) = self.expr(b, start, true) else {
            return;
        };
        let Some(end) = self.expr(b, end, true) else {
            return;
        };
        let h = self.loop_header(&fl.body);
        let (body, slots, init) = (h.body, h.slots.clone(), h.init.clone());
        let idx = self
            .f
            .add_block_param(body, index_name.clone(), Kind::Discrete);
        self.bind_carried(body, &slots, &init);
        if let Some(n) = index_name {
            self.bind(n, Some(idx));
        }
        self.loops.push(LoopCtx {
            slots: slots.clone(),
        });
        self.seq(body, &fl.body.stmts, &[], &Finish::Continue, fl.body.span());
        self.loops.pop();
        let kind = LoopKind::Range {
            start,
            end,
            inclusive,
            rev,
        };
        self.finish_loop(b, kind, h, span);
    }

    /// `for v in x`, `for &v in x.iter()`, `for (i, v) in x.iter().enumerate()`: a loop over
    /// `0..x.len()` whose body starts with `v = x[i]`.
    fn slice_loop(&mut self, b: Block, fl: &syn::ExprForLoop, base: &Expr, enumerate: bool) {
        let span = fl.span();
        let (index_pat, elem_pat) = if enumerate {
            match &*fl.pat {
                Pat::Tuple(t) if t.elems.len() == 2 => (Some(&t.elems[0]), &t.elems[1]),
                p => {
                    self.err_at(&p, "`enumerate()` yields pairs: write `for (i, v) in ..`");
                    return;
                }
            }
        } else {
            (None, &*fl.pat)
        };
        let name_of = |p: &Pat| -> Result<Option<String>, Span> {
            match p {
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    Ok(Some(pi.ident.to_string()))
                }
                Pat::Reference(r) => match &*r.pat {
                    Pat::Ident(pi) if pi.subpat.is_none() => Ok(Some(pi.ident.to_string())),
                    other => Err(other.span()),
                },
                Pat::Wild(_) => Ok(None),
                other => Err(other.span()),
            }
        };
        let (index_name, elem_name) = match (index_pat.map(name_of).transpose(), name_of(elem_pat))
        {
            (Ok(i), Ok(e)) => (i.flatten(), e),
            (Err(sp), _) | (_, Err(sp)) => {
                self.err(sp, "the loop variables must be names, `&name` or `_`");
                return;
            }
        };
        let Some(base) = self.place_expr(b, base) else {
            return;
        };
        let start = self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span);
        let len = syn::Ident::new("len", span);
        let Some(end) = self.method(b, len, base, Vec::new(), false, None, span) else {
            return;
        };
        let h = self.loop_header(&fl.body);
        let (body, slots, init) = (h.body, h.slots.clone(), h.init.clone());
        let idx = self
            .f
            .add_block_param(body, index_name.clone(), Kind::Discrete);
        self.bind_carried(body, &slots, &init);
        if let Some(n) = index_name {
            self.bind(n, Some(idx));
        }
        let kind = match self.kind(base) {
            Kind::Discrete => Kind::Discrete,
            _ => Kind::Unknown,
        };
        let elem = self.inst1(body, InstKind::Index(base, idx), kind, span);
        if let Some(n) = elem_name {
            self.bind(n, Some(elem));
            if let Some(last) = self.env.last_mut() {
                last.element = true;
            }
        }
        self.loops.push(LoopCtx {
            slots: slots.clone(),
        });
        self.seq(body, &fl.body.stmts, &[], &Finish::Continue, fl.body.span());
        self.loops.pop();
        let kind = LoopKind::Range {
            start,
            end,
            inclusive: false,
            rev: false,
        };
        self.finish_loop(b, kind, h, span);
    }

    /// `x.iter().sum()`: a loop adding the elements.
    fn sum_elements(&mut self, b: Block, base: Value, span: Span) -> Value {
        let zero = self.inst1(
            b,
            InstKind::Const(quote!(::core::default::Default::default())),
            Kind::Unknown,
            span,
        );
        let start = self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span);
        let len = syn::Ident::new("len", span);
        let end = self.inst1(
            b,
            InstKind::Method {
                name: len,
                recv: base,
                args: Vec::new(),
                unwrap: false,
                recv_mut: None,
            },
            Kind::Discrete,
            span,
        );
        let body = self.f.new_block();
        let idx = self.f.add_block_param(body, None, Kind::Discrete);
        let kind = self.kind(base);
        let acc = self.f.add_block_param(body, Some("sum".into()), kind);
        let elem = self.inst1(body, InstKind::Index(base, idx), kind, span);
        let next = self.inst1(body, InstKind::Binary(BinOp::Add, acc, elem), kind, span);
        self.f.values[next.index()].name = Some("sum".into());
        self.f.block_mut(body).term = Term::Continue(vec![next]);
        let kind_loop = LoopKind::Range {
            start,
            end,
            inclusive: false,
            rev: false,
        };
        let i = self.f.push_inst(
            b,
            InstKind::Loop {
                kind: kind_loop,
                init: vec![zero],
                body,
                checkpoint: None,
            },
            1,
            kind,
            span,
        );
        let r = self.f.inst(i).results[0];
        self.f.values[r.index()].name = Some("sum".into());
        r
    }

    fn while_loop(&mut self, b: Block, w: &syn::ExprWhile) {
        let span = w.span();
        if let Some(l) = &w.label {
            self.err_at(&l, "labeled loops (`'label: for ..`) are not supported; use a flag variable and `break` from the inner loop");
            return;
        }
        if let Expr::Let(_) = &*w.cond {
            self.err_at(
                &w.cond,
                "`while let` is not supported; use `loop` with `match`",
            );
            return;
        }
        let h = self.loop_header(&w.body);
        let (body, slots, init) = (h.body, h.slots.clone(), h.init.clone());
        let mut cond_slots = self.assigned_slots(|v| v.visit_expr(&w.cond));
        cond_slots.retain(|s| !slots.contains(s));
        if !cond_slots.is_empty() {
            self.err_at(
                &w.cond,
                "a `while` condition must not assign variables; assign before the loop and at the end of its body",
            );
        }
        self.bind_carried(body, &slots, &init);
        self.loops.push(LoopCtx {
            slots: slots.clone(),
        });
        if let Some(cond) = self.expr(body, &w.cond, true) {
            let then = self.f.new_block();
            let els = self.f.new_block();
            let params = self.current(&slots, span);
            self.f.block_mut(els).term = Term::Break(params);
            let env = self.env.clone();
            self.seq(then, &w.body.stmts, &[], &Finish::Continue, w.body.span());
            self.env = env;
            self.f.block_mut(body).term = Term::Branch { cond, then, els };
        }
        self.loops.pop();
        self.finish_loop(b, LoopKind::Infinite, h, span);
    }

    fn loop_loop(&mut self, b: Block, l: &syn::ExprLoop) {
        let span = l.span();
        if let Some(lb) = &l.label {
            self.err_at(&lb, "labeled loops (`'label: for ..`) are not supported; use a flag variable and `break` from the inner loop");
            return;
        }
        if !contains_break(&l.body) {
            self.err(
                l.loop_token.span,
                "this `loop` has no `break`: a differentiated function must terminate",
            );
            return;
        }
        let h = self.loop_header(&l.body);
        let (body, slots, init) = (h.body, h.slots.clone(), h.init.clone());
        self.bind_carried(body, &slots, &init);
        self.loops.push(LoopCtx {
            slots: slots.clone(),
        });
        self.seq(body, &l.body.stmts, &[], &Finish::Continue, l.body.span());
        self.loops.pop();
        self.finish_loop(b, LoopKind::Infinite, h, span);
    }
}

/// Whether the value of a statement list's tail expression is used.
fn wants_tail(conts: &[Cont], finish: &Finish) -> bool {
    match conts.split_last() {
        None => match finish {
            Finish::Return => true,
            Finish::Continue => false,
            Finish::Yield { want_value, .. } => *want_value,
        },
        Some((last, outer)) => {
            if last.bind.is_some() {
                true
            } else if last.stmts.is_empty() && last.tail_through {
                wants_tail(outer, finish)
            } else {
                false
            }
        }
    }
}

impl Cont<'_> {
    fn clone_ref(&self) -> Self {
        Cont {
            stmts: self.stmts,
            bind: self.bind,
            tail_through: self.tail_through,
            scope_len: self.scope_len,
        }
    }
}

/// The keyword of an item, for messages.
fn item_kind(item: &syn::Item) -> &'static str {
    match item {
        syn::Item::Const(_) => "const",
        syn::Item::Fn(_) => "fn",
        syn::Item::Static(_) => "static",
        syn::Item::Struct(_) => "struct",
        syn::Item::Enum(_) => "enum",
        syn::Item::Impl(_) => "impl",
        syn::Item::Use(_) => "use",
        syn::Item::Mod(_) => "mod",
        syn::Item::Trait(_) => "trait",
        syn::Item::Type(_) => "type",
        syn::Item::Macro(_) => "macro_rules!",
        _ => "nested",
    }
}

/// A match arm's body as statements.
fn arm_body_stmts(body: &Expr) -> Vec<Stmt> {
    match body {
        Expr::Block(bl) if bl.label.is_none() => bl.block.stmts.clone(),
        e => vec![Stmt::Expr(e.clone(), None)],
    }
}

/// `x`, `x.iter()`, `x.iter().enumerate()`: (x, enumerate).
fn parse_slice_iter(e: &Expr) -> Option<(&Expr, bool)> {
    match e {
        Expr::Paren(p) => parse_slice_iter(&p.expr),
        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => Some((e, false)),
        Expr::Field(f) if matches!(f.member, syn::Member::Named(_)) => Some((e, false)),
        Expr::Reference(r) if r.mutability.is_none() => parse_slice_iter(&r.expr),
        Expr::MethodCall(mc) if mc.args.is_empty() && mc.method == "iter" => {
            Some((&*mc.receiver, false))
        }
        Expr::MethodCall(mc) if mc.args.is_empty() && mc.method == "enumerate" => {
            match &*mc.receiver {
                Expr::MethodCall(inner) if inner.args.is_empty() && inner.method == "iter" => {
                    Some((&*inner.receiver, true))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `a..b`, `a..=b`, `(a..b).rev()`: (start, end, inclusive, rev).
fn parse_range(e: &Expr) -> Option<(&Expr, &Expr, bool, bool)> {
    match e {
        Expr::Paren(p) => parse_range(&p.expr),
        Expr::Group(g) => parse_range(&g.expr),
        Expr::Range(r) => {
            let start = r.start.as_deref()?;
            let end = r.end.as_deref()?;
            Some((
                start,
                end,
                matches!(r.limits, syn::RangeLimits::Closed(_)),
                false,
            ))
        }
        Expr::MethodCall(mc) if mc.method == "rev" && mc.args.is_empty() => {
            let (s, e, inc, rev) = parse_range(&mc.receiver)?;
            Some((s, e, inc, !rev))
        }
        _ => None,
    }
}

fn collect_idents(tokens: TokenStream, out: &mut Vec<syn::Ident>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => out.push(i),
            TokenTree::Group(g) => collect_idents(g.stream(), out),
            TokenTree::Literal(l) => {
                // Inline format arguments: `println!("{x}")`.
                let s = l.to_string();
                if s.starts_with('"') {
                    let mut rest = s.as_str();
                    while let Some(open) = rest.find('{') {
                        rest = &rest[open + 1..];
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() && !name.chars().next().unwrap_or('0').is_numeric() {
                            out.push(syn::Ident::new(&name, l.span()));
                        }
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

fn collect_pat_bindings(p: &Pat, out: &mut Vec<syn::Ident>) {
    match p {
        Pat::Ident(pi) => {
            // A lone capitalised name is a unit variant or constant, not a binding.
            let s = pi.ident.to_string();
            let is_const_like =
                pi.subpat.is_none() && s.chars().next().is_some_and(|c| c.is_uppercase());
            if !is_const_like {
                out.push(pi.ident.clone());
            }
            if let Some((_, sub)) = &pi.subpat {
                collect_pat_bindings(sub, out);
            }
        }
        Pat::Or(po) => {
            if let Some(first) = po.cases.first() {
                collect_pat_bindings(first, out);
            }
        }
        Pat::Paren(pp) => collect_pat_bindings(&pp.pat, out),
        Pat::Reference(pr) => collect_pat_bindings(&pr.pat, out),
        Pat::Slice(ps) => ps.elems.iter().for_each(|e| collect_pat_bindings(e, out)),
        Pat::Struct(ps) => ps
            .fields
            .iter()
            .for_each(|f| collect_pat_bindings(&f.pat, out)),
        Pat::Tuple(pt) => pt.elems.iter().for_each(|e| collect_pat_bindings(e, out)),
        Pat::TupleStruct(pt) => pt.elems.iter().for_each(|e| collect_pat_bindings(e, out)),
        Pat::Type(pt) => collect_pat_bindings(&pt.pat, out),
        _ => {}
    }
}

/// Names assigned (`x = ..`, `x += ..`) anywhere inside a node.
pub struct AssignedNames(Vec<String>);

impl<'ast> Visit<'ast> for AssignedNames {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        let target = match &*a.left {
            Expr::Index(ix) => &*ix.expr,
            t => t,
        };
        if let Expr::Path(p) = target {
            if let Some(id) = p.path.get_ident() {
                self.0.push(id.to_string());
            }
        }
        syn::visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        use syn::BinOp as B;
        if matches!(
            b.op,
            B::AddAssign(_) | B::SubAssign(_) | B::MulAssign(_) | B::DivAssign(_) | B::RemAssign(_)
        ) {
            let target = match &*b.left {
                Expr::Index(ix) => &*ix.expr,
                t => t,
            };
            if let Expr::Path(p) = target {
                if let Some(id) = p.path.get_ident() {
                    self.0.push(id.to_string());
                }
            }
        }
        syn::visit::visit_expr_binary(self, b);
    }
    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        // `v.push(x)`: a new version of `v`.
        if MutId::find(&mc.method.to_string()).is_some() {
            if let Expr::Path(p) = &*mc.receiver {
                if let Some(id) = p.path.get_ident() {
                    self.0.push(id.to_string());
                }
            }
        }
        syn::visit::visit_expr_method_call(self, mc);
    }
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        // Inside a loop, `return` sets the loop-carried return value and flag.
        self.0.push(RET_VALUE.into());
        self.0.push(RET_FLAG.into());
        syn::visit::visit_expr_return(self, r);
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Finds jumps in a piece of code: `return`s, and `break`/`continue`s that leave it (not
/// those of a loop inside it). Closures and nested items are not looked into.
struct Jumps {
    depth: usize,
    returns: bool,
    /// A `break` or `continue` that leaves.
    leaves: bool,
    /// A `break` that leaves.
    breaks: bool,
}

impl Jumps {
    fn in_expr(e: &Expr) -> Self {
        let mut j = Jumps {
            depth: 0,
            returns: false,
            leaves: false,
            breaks: false,
        };
        j.visit_expr(e);
        j
    }

    fn in_block(b: &syn::Block) -> Self {
        let mut j = Jumps {
            depth: 0,
            returns: false,
            leaves: false,
            breaks: false,
        };
        j.visit_block(b);
        j
    }
}

impl<'ast> Visit<'ast> for Jumps {
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        self.returns = true;
        syn::visit::visit_expr_return(self, r);
    }
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if self.depth == 0 {
            self.leaves = true;
            self.breaks = true;
        }
        syn::visit::visit_expr_break(self, b);
    }
    fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
        if self.depth == 0 {
            self.leaves = true;
        }
    }
    fn visit_expr_for_loop(&mut self, l: &'ast syn::ExprForLoop) {
        self.visit_expr(&l.expr);
        self.depth += 1;
        self.visit_block(&l.body);
        self.depth -= 1;
    }
    fn visit_expr_while(&mut self, l: &'ast syn::ExprWhile) {
        self.visit_expr(&l.cond);
        self.depth += 1;
        self.visit_block(&l.body);
        self.depth -= 1;
    }
    fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
        self.depth += 1;
        self.visit_block(&l.body);
        self.depth -= 1;
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether `e` contains a `return`, or a `break`/`continue` that leaves `e`.
pub fn diverges(e: &Expr) -> bool {
    let j = Jumps::in_expr(e);
    j.returns || j.leaves
}

fn diverges_block(b: &syn::Block) -> bool {
    let j = Jumps::in_block(b);
    j.returns || j.leaves
}

/// Whether a loop body can leave the loop: a `break` of its own or a `return`.
fn contains_break(b: &syn::Block) -> bool {
    diverges_block(b)
}

/// Whether a loop body has a `break` of its own (not one of a nested loop).
fn breaks_itself(body: &syn::Block) -> bool {
    Jumps::in_block(body).breaks
}

/// Whether a loop contains a `return`.
fn contains_return(e: &Expr) -> bool {
    Jumps::in_expr(e).returns
}
