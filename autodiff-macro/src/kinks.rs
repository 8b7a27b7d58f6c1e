//! Exact derivatives at kinks, `#[differentiate(kinks = exact)]`: the procedure of Kakade and
//! Lee (NeurIPS 2018) as passes over the IR.
//!
//! By default a derivative rule at a kink returns one fixed element of the Clarke gradient, and
//! no fixed choice is right for every composition (`relu(relu(x)) − relu(−x)` is the identity,
//! yet the tie rule gives it the derivative ¾ at 0). The exact mode instead fixes a direction
//! `v`, carries the derivative along `v` beside every value, and at each kink takes the piece
//! that the program enters when its input moves along `v`. Reverse mode, run through the chosen
//! pieces, then gives a gradient `g` with `⟨g, v⟩ = f′(x; v)` (the one-sided directional
//! derivative), an element of the Clarke subdifferential for the programs the paper qualifies.
//!
//! It is made of the passes that exist, in order:
//!
//! 1. forward mode in its exact variant ([`crate::forward::jvp_exact`]) turns the primal
//!    function into one that computes the tangents along the direction beside the values and
//!    whose every kink is a branch that the tangents decide (`max(a, b)` becomes
//!    `if kinks::max_takes_second(a, b, ȧ, ḃ) { b } else { a }`); that function, as it is, is
//!    the exact `_jvp`;
//! 2. [`prepare`] makes from it the function that `_grad` and `_vjp` differentiate (the tangent
//!    of the result dropped, the tangents nothing decides with removed) and the one `_vjp_along`
//!    differentiates (the tangent of the result kept, for callers in exact mode), and marks the
//!    tangents inactive: they are constants of the pieces, never differentiated;
//! 3. reverse mode runs on those as on any function: the branches are differentiated through
//!    the pieces taken, which is the point.
//!
//! The direction of `_grad` and `_vjp` is the runtime's `kinks::direction(&x, k)` for the `k`-th
//! differentiated parameter `x`, made in the generated body ([`direction_prelude`]). A call
//! `g(..)` on differentiated values goes through `g_vjp_along(args.., tangents..)`, which a
//! callee in exact mode generates (and the runtime's `nn` and `conv` functions have), so the
//! direction reaches the callee's kinks too.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::activity::{self, Activity};
use crate::codegen::{Append, names};
use crate::forward;
use crate::ir::*;
use crate::scalars::Types;

/// A function in exact mode, prepared for the generated items.
pub struct Prepared {
    /// Value and tangent along the tangent parameters, kinks decided by them: `_jvp`.
    pub jvp: (Func, Types),
    /// The value along the direction's decisions, for `_grad` and `_vjp`: its tangent
    /// parameters are the direction, which [`direction_prelude`] makes.
    pub grad: (Func, Types, Activity),
    /// Value and tangent, for `_vjp_along`: reverse mode differentiates the value (the first of
    /// the returned pair).
    pub along: (Func, Types, Activity),
}

/// Builds the three functions of exact mode from the primal `f`.
pub fn prepare(
    f: &Func,
    act: &Activity,
    tys: &Types,
    pv: TokenStream,
) -> Result<Prepared, Vec<syn::Error>> {
    let maps: Vec<syn::Error> = f
        .insts
        .iter()
        .filter(|i| match &i.kind {
            InstKind::Call { path, args } => {
                f.elem_map(path).is_some() && args.iter().any(|a| act.active[a.index()])
            }
            _ => false,
        })
        .map(|i| {
            syn::Error::new(
                i.span,
                "`kinks = exact` does not support closures mapped over array elements yet \
                 (`mapv`, `map`, `Zip`); use `nn::relu` and the other `nn` functions on arrays, or \
                 a loop over the elements",
            )
        })
        .collect();
    if !maps.is_empty() {
        return Err(maps);
    }
    let closures: Vec<syn::Error> = f
        .insts
        .iter()
        .filter(|i| match &i.kind {
            InstKind::Opaque {
                tokens,
                uses,
                mac: None,
            } => uses.iter().any(|&(_, v)| act.varied[v.index()]) && has_closure(tokens),
            _ => false,
        })
        .map(|i| {
            syn::Error::new(
                i.span,
                "`kinks = exact` decides ties in the comparisons written in `if`, `while` and \
                 `match` guards, not in a closure that code run as written calls on \
                 differentiated values (a comparator of `max_by` or `sort_by`, a predicate of \
                 `filter`, `position` or `any`): at a tie the closure's plain result would pick the \
                 piece, whatever the direction. Write the search as a loop (`if x[i] > best { \
                 best = x[i]; }`), or differentiate this function without `kinks = exact`",
            )
        })
        .collect();
    if !closures.is_empty() {
        return Err(closures);
    }
    let n_primal = f.values.len();
    let mut fe = f.clone();
    let mut te = tys.clone();
    // The values that decide a comparison get tangents even where the result does not read
    // them (see `activity::analyze_deciding`).
    let deciding = activity::analyze_deciding(f);
    let active: Vec<bool> = act
        .active
        .iter()
        .zip(&deciding.active)
        .map(|(&a, &d)| a || d)
        .collect();
    let exact = forward::jvp_exact(&mut fe, &active, &mut te, pv);
    if !exact.errors.is_empty() {
        return Err(exact.errors);
    }
    let is_tangent = |v: Value| v.index() >= n_primal && !exact.primal.contains(&v);
    prune_tangents(&mut fe, &is_tangent);

    let body = fe.body();
    let Term::Return(pair) = fe.block(body).term else {
        unreachable!("forward mode returns the value and its tangent")
    };
    let value = match fe.value(pair).def {
        ValueDef::Result(i, 0) => match &fe.inst(i).kind {
            InstKind::Tuple(vs) => vs[0],
            _ => unreachable!("forward mode returns a pair"),
        },
        _ => unreachable!("forward mode returns a pair"),
    };

    let mut fg = fe.clone();
    fg.block_mut(body).term = Term::Return(value);
    prune_tangents(&mut fg, &is_tangent);
    if plain_smooth_calls(&mut fg) {
        prune_tangents(&mut fg, &is_tangent);
    }
    let ag = inactive_tangents(&fg, &is_tangent, None);

    let mut fa = fe.clone();
    if plain_smooth_calls(&mut fa) {
        prune_tangents(&mut fa, &is_tangent);
    }
    let aa = inactive_tangents(&fa, &is_tangent, Some(pair));
    Ok(Prepared {
        jvp: (fe, te.clone()),
        grad: (fg, te.clone(), ag),
        along: (fa, te, aa),
    })
}

/// `kinks = exact` (at `at`) on a function generic over its float type (`T: Float`, `T: Real`,
/// read as the generated items read it): the runtime decides the kinks of `f32` and `f64`, and
/// the pieces exact mode writes are float literals of those. Not supported yet: an error at
/// the type parameter.
pub fn generic_floats(generics: &syn::Generics, at: proc_macro2::Span) -> Vec<syn::Error> {
    let read = crate::signature::Generics::read(generics);
    read.floats()
        .take(1)
        .map(|t| {
            let mut e = syn::Error::new(
                t.span(),
                format!(
                    "`kinks = exact` supports `f64` and `f32`, and this function is generic \
                     over its float type `{t}`: write it for `f64` (or `f32`), or leave out \
                     `kinks = exact` for the default rules at kinks"
                ),
            );
            e.combine(syn::Error::new(at, "exact mode asked for here"));
            e
        })
        .collect()
}

/// Whether the code run as written, `tokens`, holds a closure that decides by an order: a
/// comparison `<`, `<=`, `>`, `>=`, or a call of `partial_cmp`, `total_cmp`, `cmp`, `max`,
/// `min`, `clamp`, `abs` or `signum` (a comparator, a predicate on a threshold).
/// Comparisons written as methods, rewritten as the operators exact mode decides along the
/// direction (their values are the same for every `PartialOrd`): `a.lt(&b)` as `a < b` (also
/// `le`, `gt`, `ge`); `a.partial_cmp(&b)` and `a.total_cmp(&b)` as `Less` where `a < b`,
/// `Greater` where `a > b`, and the method's own result otherwise; `x.is_sign_negative()` as
/// `x < 0.0`, or a zero that does not move up and has the sign bit (`is_sign_positive` its
/// negation). As methods their plain results decided the piece at a tie, whatever the
/// direction. Closures are left as written: a comparison there is an error of its own.
pub fn desugar_comparison_methods(block: &mut syn::Block) {
    use syn::Expr;
    use syn::visit_mut::VisitMut;
    struct Rewrite;
    /// The value the argument `&b` of a comparison method refers to.
    fn referent(a: &Expr) -> Expr {
        match a {
            Expr::Reference(r) if r.mutability.is_none() => (*r.expr).clone(),
            Expr::Paren(p) => referent(&p.expr),
            a => syn::parse_quote!(*(#a)),
        }
    }
    impl VisitMut for Rewrite {
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            let Expr::MethodCall(mc) = e else { return };
            if mc.turbofish.is_some() {
                return;
            }
            let recv = &mc.receiver;
            let span = mc.method.span();
            let name = mc.method.to_string();
            let new: Expr = match (name.as_str(), mc.args.len()) {
                ("lt" | "le" | "gt" | "ge", 1) => {
                    let b = referent(&mc.args[0]);
                    match name.as_str() {
                        "lt" => syn::parse_quote_spanned!(span=> ((#recv) < (#b))),
                        "le" => syn::parse_quote_spanned!(span=> ((#recv) <= (#b))),
                        "gt" => syn::parse_quote_spanned!(span=> ((#recv) > (#b))),
                        _ => syn::parse_quote_spanned!(span=> ((#recv) >= (#b))),
                    }
                }
                ("partial_cmp" | "total_cmp", 1) => {
                    let b = referent(&mc.args[0]);
                    let method = &mc.method;
                    let (less, greater) = if name == "partial_cmp" {
                        (
                            quote!(::core::option::Option::Some(::core::cmp::Ordering::Less)),
                            quote!(::core::option::Option::Some(::core::cmp::Ordering::Greater)),
                        )
                    } else {
                        (
                            quote!(::core::cmp::Ordering::Less),
                            quote!(::core::cmp::Ordering::Greater),
                        )
                    };
                    syn::parse_quote_spanned! {span=> {
                        let __ad_cmp_a = #recv;
                        let __ad_cmp_b = #b;
                        if __ad_cmp_a < __ad_cmp_b {
                            #less
                        } else if __ad_cmp_a > __ad_cmp_b {
                            #greater
                        } else {
                            __ad_cmp_a.#method(&__ad_cmp_b)
                        }
                    }}
                }
                ("is_sign_negative" | "is_sign_positive", 0) => {
                    let negative: Expr = syn::parse_quote_spanned! {span=> {
                        let __ad_sign_x = #recv;
                        __ad_sign_x < 0.0
                            || (__ad_sign_x == 0.0
                                && !(__ad_sign_x > 0.0)
                                && __ad_sign_x.is_sign_negative())
                    }};
                    if name == "is_sign_negative" {
                        negative
                    } else {
                        syn::parse_quote_spanned!(span=> (!#negative))
                    }
                }
                _ => return,
            };
            *e = new;
        }
    }
    Rewrite.visit_block_mut(block);
}

fn has_closure(tokens: &TokenStream) -> bool {
    use syn::visit::Visit;
    struct Order(bool);
    impl<'a> Visit<'a> for Order {
        fn visit_bin_op(&mut self, op: &'a syn::BinOp) {
            if matches!(
                op,
                syn::BinOp::Lt(_) | syn::BinOp::Le(_) | syn::BinOp::Gt(_) | syn::BinOp::Ge(_)
            ) {
                self.0 = true;
            }
        }
        fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
            if matches!(
                m.method.to_string().as_str(),
                "partial_cmp" | "total_cmp" | "cmp" | "max" | "min" | "clamp" | "abs" | "signum"
            ) {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_path(&mut self, p: &'a syn::Path) {
            // `f64::max` given as the function (`fold(f64::NEG_INFINITY, f64::max)`).
            if p.segments.last().is_some_and(|s| {
                matches!(s.ident.to_string().as_str(), "max" | "min" | "total_cmp")
            }) {
                self.0 = true;
            }
            syn::visit::visit_path(self, p);
        }
    }
    struct Find(bool);
    impl<'a> Visit<'a> for Find {
        fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
            let mut order = Order(false);
            order.visit_expr(&c.body);
            self.0 |= order.0;
        }
    }
    let Ok(block) = syn::parse2::<syn::Block>(quote!({ #tokens })) else {
        return false;
    };
    let mut find = Find(false);
    find.visit_block(&block);
    find.0
}

/// The functions of the runtime's `nn` and `conv` modules that are smooth (their `_vjp_along`
/// is their `_jvp` and `_vjp` together, `smooth_along!` in the runtime's `nn/along.rs` and
/// `conv/along.rs`): the direction decides nothing inside them. A function missing here is
/// only slower: its arguments' tangents are computed for its `_vjp_along`.
const SMOOTH_RUNTIME_FUNCTIONS: &[&str] = &[
    "sigmoid",
    "softplus",
    "softmax",
    "log_softmax",
    "log_sum_exp",
    "mse",
    "cross_entropy",
    "batch_norm",
    "conv2d",
    "conv1d",
    "conv2d_nchw",
    "conv2d_nchw_no_bias",
    "flatten",
    "unflatten",
    "avg_pool2d",
    "concatenate",
    "stack",
];

/// Whether `path` names a smooth function of the runtime (see [`SMOOTH_RUNTIME_FUNCTIONS`]),
/// whose `_jvp` is exact.
pub fn is_smooth_runtime_function(path: &syn::Path) -> bool {
    crate::joint::is_runtime_function(path)
        && path
            .segments
            .last()
            .is_some_and(|s| SMOOTH_RUNTIME_FUNCTIONS.contains(&s.ident.to_string().as_str()))
}

/// Calls of smooth runtime functions whose result's tangent nothing reads become plain calls
/// (differentiated through `g_vjp`), so that their arguments' tangents are not computed: the
/// loss at the end of a network decides no kink. Whether any changed.
fn plain_smooth_calls(f: &mut Func) -> bool {
    let used = used_values(f);
    let mut changed = false;
    for n in 0..f.insts.len() {
        let inst = &f.insts[n];
        let InstKind::CallJvp { path, args, .. } = &inst.kind else {
            continue;
        };
        if inst.results.len() != 2
            || used.contains(&inst.results[1])
            || !is_smooth_runtime_function(path)
        {
            continue;
        }
        let (path, args) = (path.clone(), args.clone());
        f.insts[n].kind = InstKind::Call { path, args };
        f.insts[n].results.truncate(1);
        changed = true;
    }
    changed
}

/// The values some instruction or terminator of `f` reads.
fn used_values(f: &Func) -> HashSet<Value> {
    let mut used: HashSet<Value> = HashSet::new();
    for b in f.blocks_within(f.body()) {
        used.extend(f.term_operands(b));
        for &i in &f.block(b).insts {
            f.inst(i).kind.each_operand(&mut |v| {
                used.insert(*v);
            });
        }
    }
    used
}

/// `kinks = exact` with checkpointed loops (by the `checkpoint` option, at `option`, or by
/// `#[checkpoint]` on a loop): not supported yet.
pub fn checkpointed(f: &Func, option: Option<(usize, proc_macro2::Span)>) -> Vec<syn::Error> {
    let msg = "`kinks = exact` does not support checkpointed loops yet; differentiate this \
               function without one of them";
    if let Some((_, at)) = option {
        return vec![syn::Error::new(at, msg)];
    }
    f.insts
        .iter()
        .filter(|i| {
            matches!(
                i.kind,
                InstKind::Loop {
                    checkpoint: Some(_),
                    ..
                }
            )
        })
        .map(|i| syn::Error::new(i.span, msg))
        .collect()
}

/// Activity analysis of `f` with the tangents inactive (stop-gradient), except `keep`.
fn inactive_tangents(
    f: &Func,
    is_tangent: &dyn Fn(Value) -> bool,
    keep: Option<Value>,
) -> Activity {
    let mut a = activity::analyze(f);
    for k in 0..a.active.len() {
        let v = Value(k as u32);
        if is_tangent(v) && Some(v) != keep {
            a.active[k] = false;
        }
    }
    a
}

/// The statements before the body of `_grad` and `_vjp` that make the direction: the tangent
/// parameter of the `k`-th differentiated parameter `x` is the runtime's
/// `kinks::direction(&x, k)` (by reference where `x` is taken by reference, as `_jvp` takes it).
pub fn direction_prelude(f: &Func, pv: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let used = used_values(f);
    for (k, &(p, t)) in f.tangent_params.iter().enumerate() {
        let Some(param) = f.params.iter().find(|q| q.value == p) else {
            continue;
        };
        let x = &param.ident;
        let d = names::tangent_param(f, k, p);
        if !used.contains(&t) {
            // No kink reads this direction: the body binds it and reads nothing of it.
            out.append(quote! { let #d = (); });
            continue;
        }
        let owned = format_ident!("__ad_direction{}", k);
        out.append(quote! { let #owned = #pv::kinks::direction(&#x, #k); });
        if matches!(param.ty, syn::Type::Reference(_)) {
            out.append(quote! { let #d = &#owned; });
        } else {
            out.append(quote! { let #d = #owned; });
        }
    }
    out
}

/// Removes the tangent computations that nothing decides with and nothing returns: tangent
/// instructions whose results no kept instruction reads, and the tangents `if`s, `match`es and
/// loops carry for them. Liveness is found to a fixed point (a loop-carried tangent may feed only
/// itself).
fn prune_tangents(f: &mut Func, is_tangent: &dyn Fn(Value) -> bool) {
    let blocks = f.blocks_within(f.body());
    let removable = |f: &Func, i: Inst| -> bool {
        let inst = f.inst(i);
        !inst.results.is_empty()
            && inst.results.iter().all(|&r| is_tangent(r))
            && !matches!(
                inst.kind,
                InstKind::If { .. } | InstKind::Match { .. } | InstKind::Loop { .. }
            )
    };
    let mut live: HashSet<Value> = HashSet::new();
    loop {
        let before = live.len();
        for &b in &blocks {
            for &v in &term_roots(f, b) {
                live.insert(v);
            }
            for &i in &f.block(b).insts {
                let inst = f.inst(i);
                match &inst.kind {
                    InstKind::If { cond, .. } => {
                        live.insert(*cond);
                        branch_live(f, i, is_tangent, &mut live);
                    }
                    InstKind::Match { scrutinee, arms } => {
                        live.insert(*scrutinee);
                        for a in arms {
                            live.extend(a.guard_uses.iter().map(|(_, v)| *v));
                        }
                        branch_live(f, i, is_tangent, &mut live);
                    }
                    InstKind::Loop {
                        kind, init, body, ..
                    } => {
                        if let LoopKind::Range { start, end, .. } = kind {
                            live.insert(*start);
                            live.insert(*end);
                        }
                        let params = &f.block(*body).params;
                        let carried = &params[params.len() - init.len()..];
                        let vals = carried_out(f, *body);
                        for k in 0..init.len() {
                            let slot_live = !is_tangent(carried[k])
                                || live.contains(&carried[k])
                                || inst.results.get(k).is_some_and(|r| live.contains(r));
                            if slot_live {
                                live.insert(carried[k]);
                                live.insert(init[k]);
                                if let Some(&v) = vals.get(k) {
                                    live.insert(v);
                                }
                                if let Some(&r) = inst.results.get(k) {
                                    live.insert(r);
                                }
                            }
                        }
                    }
                    _ => {
                        if !removable(f, i) || inst.results.iter().any(|r| live.contains(r)) {
                            inst.kind.each_operand(&mut |v| {
                                live.insert(*v);
                            });
                        }
                    }
                }
            }
        }
        if live.len() == before {
            break;
        }
    }
    // Remove what is dead.
    for &b in &blocks {
        let insts = f.block(b).insts.clone();
        let kept: Vec<Inst> = insts
            .into_iter()
            .filter(|&i| !removable(f, i) || f.inst(i).results.iter().any(|r| live.contains(r)))
            .collect();
        f.block_mut(b).insts = kept.clone();
        for i in kept {
            let dead = |v: &Value| is_tangent(*v) && !live.contains(v);
            match f.inst(i).kind.clone() {
                InstKind::If { .. } | InstKind::Match { .. } => {
                    let drop: Vec<bool> = f.inst(i).results.iter().map(dead).collect();
                    if !drop.iter().any(|&d| d) {
                        continue;
                    }
                    for arm in f.inst_blocks(i) {
                        if let Term::Yield(vals) = &mut f.blocks[arm.index()].term {
                            *vals = keep_unmarked(vals, &drop);
                        }
                    }
                    set_results(f, i, &drop);
                }
                InstKind::Loop { init, body, .. } => {
                    let params = f.block(body).params.clone();
                    let first = params.len() - init.len();
                    let drop: Vec<bool> = params[first..].iter().map(dead).collect();
                    if !drop.iter().any(|&d| d) {
                        continue;
                    }
                    if let InstKind::Loop { init, .. } = &mut f.insts[i.index()].kind {
                        *init = keep_unmarked(init, &drop);
                    }
                    let mut pdrop = vec![false; first];
                    pdrop.extend(&drop);
                    let new_params = keep_unmarked(&params, &pdrop);
                    for (n, &p) in new_params.iter().enumerate() {
                        f.values[p.index()].def = ValueDef::BlockParam(body, n);
                    }
                    f.block_mut(body).params = new_params;
                    match &mut f.blocks[body.index()].term {
                        Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => {
                            *vals = keep_unmarked(vals, &drop);
                        }
                        _ => {}
                    }
                    let n_results = f.inst(i).results.len();
                    set_results(f, i, &drop[..n_results.min(drop.len())]);
                }
                _ => {}
            }
        }
    }
}

/// The values a block's terminator reads that are kept whatever happens: what is returned and
/// whether a loop iteration breaks.
fn term_roots(f: &Func, b: Block) -> Vec<Value> {
    match &f.block(b).term {
        Term::Return(v) => vec![*v],
        Term::Next { brk, .. } => vec![*brk],
        Term::Branch { cond, .. } => vec![*cond],
        Term::Switch { scrutinee, .. } => vec![*scrutinee],
        _ => vec![],
    }
}

/// What a loop body carries on to the next iteration (or out of the loop).
fn carried_out(f: &Func, body: Block) -> Vec<Value> {
    match &f.block(body).term {
        Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => vals.clone(),
        _ => vec![],
    }
}

/// An `if`/`match`: the yields of its live (or primal) results are live.
fn branch_live(f: &Func, i: Inst, is_tangent: &dyn Fn(Value) -> bool, live: &mut HashSet<Value>) {
    let results = f.inst(i).results.clone();
    for arm in f.inst_blocks(i) {
        if let Term::Yield(vals) = &f.block(arm).term {
            for (k, &v) in vals.iter().enumerate() {
                if results
                    .get(k)
                    .is_some_and(|&r| !is_tangent(r) || live.contains(&r))
                {
                    live.insert(v);
                }
            }
        }
    }
}

/// The values of `vals` whose mark in `drop` is not set.
fn keep_unmarked(vals: &[Value], drop: &[bool]) -> Vec<Value> {
    vals.iter()
        .enumerate()
        .filter(|(k, _)| !drop.get(*k).copied().unwrap_or(false))
        .map(|(_, &v)| v)
        .collect()
}

/// Instruction `i` keeps the results not marked in `drop`, renumbered.
fn set_results(f: &mut Func, i: Inst, drop: &[bool]) {
    let results = keep_unmarked(&f.inst(i).results, drop);
    for (n, &r) in results.iter().enumerate() {
        f.values[r.index()].def = ValueDef::Result(i, n);
    }
    f.insts[i.index()].results = results;
}
