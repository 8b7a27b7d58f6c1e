//! The loops of iterator chains and what consumes them: a `for` body, `sum`, `product`,
//! `count`, `fold`, `for_each`, `collect` into a `Vec`, and the `Option`s of `max_by`, `min_by`,
//! `max_by_key`, `min_by_key`, `max`, `min` (written with `.unwrap()`).

use super::chain::{ADAPTERS, CONSUMERS, Chain, Source, is_vec_type, parse_chain};
use super::iter::{Prepared, Src, Stage};
use super::*;

impl Lowering {
    /// Runs the adapters from the first filter on, then `consume`, which ends the block.
    pub(super) fn run_rest(
        &mut self,
        b: Block,
        rest: &[Stage],
        item: Item,
        scope: usize,
        span: Span,
        consume: &mut dyn FnMut(&mut Self, Block, Item),
    ) {
        match rest.split_first() {
            None => consume(self, b, item),
            Some((Stage::Map(f), tail)) => {
                if let Some(x) = self.apply_fun(b, f, vec![item], scope) {
                    self.run_rest(b, tail, x, scope, span, consume);
                } else {
                    self.continue_loop(b, span);
                }
            }
            Some((Stage::Copied, tail)) => {
                self.run_rest(b, tail, item.deref(), scope, span, consume)
            }
            Some((Stage::Filter(p), tail)) => {
                let Some(cond) = self.predicate(b, p, &item, span) else {
                    return;
                };
                let els = self.f.new_block();
                self.continue_loop(els, span);
                self.then_rest(b, cond, els, tail, item, scope, span, consume);
            }
            Some((stage @ (Stage::TakeWhile(p, flag) | Stage::SkipWhile(p, flag)), tail)) => {
                let take = matches!(stage, Stage::TakeWhile(..));
                let Some(cond) = self.predicate(b, p, &item, span) else {
                    return;
                };
                let Some(before) = self.env[*flag].value else {
                    return;
                };
                // `take_while`: still taking, no item rejected before (in an earlier loop of a
                // `chain` or `flat_map` either) and this one kept; `skip_while`: done skipping,
                // an item kept before or this one.
                let tokens = if take {
                    quote!(__ad_f && __ad_c)
                } else {
                    quote!(__ad_f || !__ad_c)
                };
                let now = self.int_op(b, tokens, &[("__ad_f", before), ("__ad_c", cond)], span);
                self.env[*flag].value = Some(now);
                let els = self.f.new_block();
                if take {
                    self.break_loop(els, span);
                } else {
                    self.continue_loop(els, span);
                }
                self.then_rest(b, now, els, tail, item, scope, span, consume);
            }
            Some((Stage::Scan(f, state), tail)) => {
                let Some(acc) = self.env[*state].value else {
                    return;
                };
                let r = self.apply_fun(b, f, vec![Item::val(acc), item], scope);
                let Some(r) = r.and_then(|r| self.item_value(b, r, false, span)) else {
                    self.continue_loop(b, span);
                    return;
                };
                let next = self.field(b, r, 0, span);
                let out = self.field(b, r, 1, span);
                self.env[*state].value = Some(next);
                self.run_rest(b, tail, Item::val(out), scope, span, consume);
            }
            Some((Stage::FlatMap(f), tail)) => {
                self.flat_map(b, *f, tail, item, scope, span, consume)
            }
            Some((Stage::Counted(count), tail)) => {
                let Some(k) = self.count_on(b, *count, span) else {
                    return;
                };
                let item = Item::Tuple {
                    elems: vec![Item::val(k), item],
                    refs: 0,
                };
                self.run_rest(b, tail, item, scope, span, consume);
            }
            Some((stage @ (Stage::SkipN(n, count) | Stage::TakeN(n, count)), tail)) => {
                // `skip(n)`: the items from the n-th on; `take(n)`: those before, then leave.
                let skip = matches!(stage, Stage::SkipN(..));
                let Some((_, below)) = self.count_below(b, *count, *n, span) else {
                    return;
                };
                let els = self.f.new_block();
                let cond = if skip {
                    self.continue_loop(els, span);
                    self.int_op(b, quote!(!__ad_c), &[("__ad_c", below)], span)
                } else {
                    self.break_loop(els, span);
                    below
                };
                self.then_rest(b, cond, els, tail, item, scope, span, consume);
            }
            Some((Stage::StepN(n, count), tail)) => {
                // `step_by(n)`: the items whose count is a multiple of n (the first one kept).
                let Some(k) = self.count_on(b, *count, span) else {
                    return;
                };
                let cond = self.int_op(
                    b,
                    quote!(__ad_k % __ad_n == 0),
                    &[("__ad_k", k), ("__ad_n", *n)],
                    span,
                );
                let els = self.f.new_block();
                self.continue_loop(els, span);
                self.then_rest(b, cond, els, tail, item, scope, span, consume);
            }
            Some((Stage::ZipAt(other, count, first), tail)) => {
                let Some((k, more)) = self.count_below(b, *count, other.len(), span) else {
                    return;
                };
                let els = self.f.new_block();
                self.break_loop(els, span);
                let then = self.f.new_block();
                let saved = self.env.clone();
                match self.item_at(then, other, other.stages.len(), k, scope, span) {
                    Some(y) => {
                        let elems = if *first { vec![y, item] } else { vec![item, y] };
                        let pair = Item::Tuple { elems, refs: 0 };
                        self.run_rest(then, tail, pair, scope, span, consume);
                    }
                    None => self.continue_loop(then, span),
                }
                self.env = saved;
                self.f.block_mut(b).term = Term::Branch {
                    cond: more,
                    then,
                    els,
                };
            }
            Some(_) => unreachable!("the stages read by position come before"),
        }
    }

    /// `p(&item)`, run as written (a discrete result). On `None` (an error reported), the block
    /// is ended.
    fn predicate(&mut self, b: Block, p: &Expr, item: &Item, span: Span) -> Option<Value> {
        let cond = self.run_as_written(
            b,
            p,
            std::slice::from_ref(item),
            false,
            None,
            quote!(),
            span,
        );
        if cond.is_none() {
            self.continue_loop(b, span);
        }
        cond
    }

    /// Ends `b` in a branch on `cond`: the rest of the stages and the consumer in its `then`
    /// arm, `els` (ended already) in the other.
    #[allow(clippy::too_many_arguments)]
    fn then_rest(
        &mut self,
        b: Block,
        cond: Value,
        els: Block,
        rest: &[Stage],
        item: Item,
        scope: usize,
        span: Span,
        consume: &mut dyn FnMut(&mut Self, Block, Item),
    ) {
        let then = self.f.new_block();
        let saved = self.env.clone();
        self.run_rest(then, rest, item, scope, span, consume);
        self.env = saved;
        self.f.block_mut(b).term = Term::Branch { cond, then, els };
    }

    /// The counter in `count`, which counts on.
    fn count_on(&mut self, b: Block, count: usize, span: Span) -> Option<Value> {
        let k = self.env[count].value?;
        let one = self.inst1(b, InstKind::Const(quote!(1usize)), Kind::Discrete, span);
        self.env[count].value = Some(self.int_bin(b, BinOp::Add, k, one, span));
        Some(k)
    }

    /// The counter in `count` and whether it is below `limit`; it counts on past the limit too
    /// (a stage that stops there leaves the loop, one that starts there looks no more).
    fn count_below(
        &mut self,
        b: Block,
        count: usize,
        limit: Value,
        span: Span,
    ) -> Option<(Value, Value)> {
        let k = self.count_on(b, count, span)?;
        let below = self.int_op(
            b,
            quote!(__ad_k < __ad_n),
            &[("__ad_k", k), ("__ad_n", limit)],
            span,
        );
        Some((k, below))
    }

    /// `flat_map(|v| chain)` (`f`; `None` for `flatten()`) on `item`: a loop over the chain,
    /// nested in the body, whose items go on through `rest` to the consumer.
    #[allow(clippy::too_many_arguments)]
    fn flat_map(
        &mut self,
        b: Block,
        f: Option<&Expr>,
        rest: &[Stage],
        item: Item,
        scope: usize,
        span: Span,
        consume: &mut dyn FnMut(&mut Self, Block, Item),
    ) {
        let flatten: Expr = syn::parse_quote_spanned!(span=> |__ad_inner| __ad_inner);
        let Some((cl, c)) = chain::flat_map_closure(f.unwrap_or(&flatten)) else {
            unreachable!("a chain with another `flat_map` is not parsed as one");
        };
        let mark = self.env.len();
        self.bind_item(b, &cl.inputs[0], item, span);
        let inner_scope = self.env.len();
        let Some(p) = self.prepare(b, &c, true, span) else {
            self.env.truncate(mark);
            self.continue_loop(b, span);
            return;
        };
        let slots = self
            .loops
            .last()
            .map(|l| l.slots.clone())
            .unwrap_or_default();
        let fns = c.fns();
        self.chain_loop(b, &p, slots, inner_scope, &fns, span, &mut |s, blk, it| {
            s.run_rest(blk, rest, it, scope, span, consume)
        });
        self.env.truncate(mark);
        self.continue_loop(b, span);
    }

    /// Ends a loop body block: leave the loop with the carried variables' current values.
    pub(super) fn break_loop(&mut self, b: Block, span: Span) {
        let vals = self.loop_values(span);
        self.f.block_mut(b).term = Term::Break(vals);
    }

    /// Ends a loop body block: next iteration with the carried variables' current values.
    pub(super) fn continue_loop(&mut self, b: Block, span: Span) {
        let vals = self.loop_values(span);
        self.f.block_mut(b).term = Term::Continue(vals);
    }

    /// The current values of the variables the innermost loop carries.
    fn loop_values(&mut self, span: Span) -> Vec<Value> {
        let slots = self
            .loops
            .last()
            .map(|l| l.slots.clone())
            .unwrap_or_default();
        self.current(&slots, span)
    }

    /// The loop of a chain: `consume` is called in the body with each item the filters keep;
    /// `slots` are the variables the consumer assigns. Closures of the chain are expanded in
    /// the first `scope` bindings.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn chain_loop(
        &mut self,
        b: Block,
        p: &Prepared,
        mut slots: Vec<usize>,
        scope: usize,
        fns: &[&Expr],
        span: Span,
        consume: &mut dyn FnMut(&mut Self, Block, Item),
    ) {
        // Containers written through the items, and variables the chain's closures assign (an
        // `FnMut` closure counting), are carried too.
        for s in p.cell_slots() {
            if !slots.contains(&s) {
                slots.push(s);
            }
        }
        for s in self.assigned_slots(|v| {
            // A closure's body, or the local closure a name refers to.
            for f in fns {
                v.visit_expr(f);
            }
        }) {
            if s < scope && !slots.contains(&s) {
                slots.push(s);
            }
        }
        // And what the closures assign (`x.iter().for_each(|&v| acc = acc + P::new(v, v))`)
        // is no longer data only.
        self.clear_data_assigned(|v| {
            for f in fns {
                v.visit_expr(f);
            }
        });
        if let Src::Chain(parts) = &p.src {
            for part in parts {
                self.chain_loop(
                    b,
                    part,
                    slots.clone(),
                    scope,
                    fns,
                    span,
                    &mut |s, blk, item| s.run_rest(blk, &p.rest, item, scope, span, consume),
                );
            }
            return;
        }
        let (h, idx) = self.begin_counted_loop(slots, span);
        let body = h.body;
        let kind = match &p.direct {
            Some(k) => {
                self.run_rest(body, &p.rest, Item::val(idx), scope, span, consume);
                k.clone()
            }
            None => {
                match self.item_at(body, p, p.stages.len(), idx, scope, span) {
                    Some(item) => self.run_rest(body, &p.rest, item, scope, span, consume),
                    None => self.continue_loop(body, span),
                }
                let start = self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span);
                LoopKind::Range {
                    start,
                    end: p.len(),
                    inclusive: false,
                    rev: false,
                }
            }
        };
        self.end_counted_loop(b, kind, h, span);
    }

    /// `for pat in chain { body }`.
    pub(super) fn chain_for(&mut self, b: Block, fl: &syn::ExprForLoop, c: &Chain) {
        let span = fl.span();
        if let Source::Windows { expr, size, how } = &c.source {
            if how.ends_with("_mut") {
                self.chunks_mut_for(b, fl, c, expr, size, *how == "chunks_exact_mut");
                return;
            }
        }
        let scope = self.env.len();
        let Some(p) = self.prepare(b, c, true, span) else {
            return;
        };
        if p.loops() > 1 {
            let mut leaving = super::loops::Leaving::new(false);
            leaving.visit_block(&fl.body);
            if let Some(jump) = leaving.first {
                self.err_at(
                    &jump,
                    "`break` or `return` in a `for` loop over a `chain`, `flat_map` or \
                     `flatten` is not supported in a differentiated function (its items come \
                     from loops run one after another); stop with `take_while(..)` in the \
                     chain, or write the loops out with a flag",
                );
                return;
            }
        }
        let slots = self.assigned_slots(|v| v.visit_block(&fl.body));
        // A local built from data only that the body assigns a differentiated value holds one
        // from the first iteration on (see `Binding::data`), as in a loop over a range.
        self.clear_data_assigned(|v| v.visit_block(&fl.body));
        let fns = c.fns();
        self.chain_loop(b, &p, slots, scope, &fns, span, &mut |s, blk, item| {
            s.bind_item(blk, &fl.pat, item, span);
            s.seq(blk, &fl.body.stmts, &[], &Finish::Continue, fl.body.span());
        });
    }

    /// `for c in v.chunks_mut(k) { body }` (also `chunks_exact_mut`, and `.enumerate()` with
    /// `for (i, c) in ..`): an index loop over the chunks whose body reads and writes
    /// `v[start + j]` where it reads and writes `c[j]`, and whose `c.len()` is the chunk's length.
    fn chunks_mut_for(
        &mut self,
        b: Block,
        fl: &syn::ExprForLoop,
        c: &Chain,
        container: &Expr,
        size: &Expr,
        exact: bool,
    ) {
        const FORM: &str = "`chunks_mut` is followed as `for c in v.chunks_mut(k) { .. }` (or \
            `for (i, c) in v.chunks_mut(k).enumerate()`) over a variable `v` (`let mut v` or a \
            `&mut` parameter), with the chunk used as `c[j]` and `c.len()` (also `let s = &mut \
            c[j];`, and its items `for s in c.iter_mut()` read as `*s`, also zipped, `for (s, x) \
            in c.iter_mut().zip(xs)`); else write an index loop over `v`";
        let enumerate = match c.adapters.as_slice() {
            [] => false,
            [("enumerate", _)] => true,
            _ => {
                self.err_at(&fl.expr, FORM);
                return;
            }
        };
        let (index, chunk) = match (&*fl.pat, enumerate) {
            (Pat::Ident(pi), false) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                (None, &pi.ident)
            }
            (Pat::Tuple(t), true) if t.elems.len() == 2 => match &t.elems[1] {
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    (Some(&t.elems[0]), &pi.ident)
                }
                _ => {
                    self.err_at(&fl.pat, FORM);
                    return;
                }
            },
            _ => {
                self.err_at(&fl.pat, FORM);
                return;
            }
        };
        let Expr::Path(v) = chain::strip(container) else {
            self.err_at(container, FORM);
            return;
        };
        if v.path.get_ident().is_none() {
            self.err_at(container, FORM);
            return;
        }
        let mut body = fl.body.clone();
        syn::visit_mut::VisitMut::visit_block_mut(&mut ChunkItems { chunk, made: 0 }, &mut body);
        let mut into = IntoContainer {
            chunk,
            container: v,
            stray: None,
        };
        syn::visit_mut::VisitMut::visit_block_mut(&mut into, &mut body);
        if let Some(stray) = into.stray {
            self.err_at(&stray, FORM);
            return;
        }
        let span = fl.span();
        let count = if exact {
            quote!(__ad_n / __ad_k)
        } else {
            quote!((__ad_n + __ad_k - 1) / __ad_k)
        };
        let len = if exact {
            quote!(__ad_k)
        } else {
            quote!(if __ad_k < __ad_n - __ad_cs {
                __ad_k
            } else {
                __ad_n - __ad_cs
            })
        };
        let index = index.map(|i| quote!(let #i = __ad_ci;));
        let stmts = &body.stmts;
        let e: Expr = syn::parse_quote_spanned! {span=>
            {
                let __ad_k: usize = #size;
                let __ad_n: usize = #v.len();
                for __ad_ci in 0..#count {
                    let __ad_cs: usize = __ad_ci * __ad_k;
                    let __ad_cl: usize = #len;
                    #index
                    #(#stmts)*
                }
            }
        };
        self.expr(b, &e, false);
    }

    /// A hidden variable the consumer's loop carries (an accumulator).
    pub(super) fn hidden(&mut self, name: &str, v: Value) -> usize {
        self.env.push(Binding::new(name.into(), Some(v), false));
        self.env.len() - 1
    }

    /// `chain.consumer(..)` (with `unwrap`: `chain.max_by(..).unwrap()`). `None` when the
    /// receiver is not a chain.
    pub(super) fn chain_consumer(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        unwrap: bool,
    ) -> Option<Option<Value>> {
        let c = parse_chain(&mc.receiver, false)?;
        let name = mc.method.to_string();
        let span = super::span::method_span(mc);
        // `chain.last().unwrap()`: the best item of a loop that takes every item, kept as its
        // values (a position beside a float, `map(|(i, &v)| (i, v * v)).last()`, is never a
        // tuple carried whole).
        let last = name == "last" && unwrap && mc.args.is_empty();
        // An adapter in a form not followed (`flat_map` of what gives no chain) runs as written
        // below, and is an error that says why where it reads a differentiated value.
        let followed = chain::unfollowed_form(mc).is_none();
        if (followed && ADAPTERS.contains(&name.as_str())) || name == "iter" || name == "into_iter"
        {
            return None;
        }
        if !last && !CONSUMERS.contains(&name.as_str()) {
            if unwrap {
                // `chain.last().unwrap()`: the `unwrap` is lowered on the method's result.
                return None;
            }
            // `any`, `position`, `last`, …: run as written (an error if it reads a
            // differentiated value and its result matters).
            // Predicates and positions are discrete whatever the items are.
            let kind = if matches!(
                name.as_str(),
                "all"
                    | "any"
                    | "position"
                    | "rposition"
                    | "is_sorted"
                    | "is_sorted_by"
                    | "is_sorted_by_key"
                    | "len"
            ) {
                Kind::Discrete
            } else {
                Kind::Unknown
            };
            let v = self.opaque(
                b,
                Expr::MethodCall(mc.clone()).to_token_stream(),
                kind,
                true,
                mc.method.span(),
            );
            return Some(v);
        }
        let scope = self.env.len();
        let Some(p) = self.prepare(b, &c, true, span) else {
            // The error is reported; the chain is not looked at again.
            return Some(None);
        };
        let mut fns = c.fns();
        fns.extend(mc.args.iter());
        let fns = &fns[..];
        let turbofish_ty = mc.turbofish.as_ref().and_then(|t| {
            t.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
        });
        let want_args = match name.as_str() {
            "sum" | "product" | "collect" | "count" | "max" | "min" | "last" => 0,
            "fold" => 2,
            _ => 1,
        };
        if mc.args.len() != want_args {
            self.err_at(
                &mc.method,
                format!(
                    "`{name}` takes {want_args} argument(s) here, found {}",
                    mc.args.len()
                ),
            );
            return Some(None);
        }
        let option = super::syntax::BEST_CONSUMERS.contains(&name.as_str());
        if option && !unwrap {
            self.err_at(
                &mc.method,
                format!(
                    "`{name}` returns an `Option`; write `.{name}(..).unwrap()` (or `.expect(..)`, \
                     `.unwrap_or(d)`), or take it apart where it is made (`match \
                     chain.{name}(..) {{ Some(v) => .., None => .. }}`, `if let Some(v) = \
                     chain.{name}(..)`, also of a `let best = chain.{name}(..);` used once), so \
                     that its value can be differentiated"
                ),
            );
            return Some(None);
        }
        if last {
            return Some(self.chain_best(b, mc, &p, &name, scope, fns));
        }
        let v = match name.as_str() {
            "sum" | "product" | "count" => {
                let init = match name.as_str() {
                    "count" => self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span),
                    // `1.0` or `1`, spelt once the type is known (see `ir::product_start`).
                    "product" => self.inst1(
                        b,
                        InstKind::Const(crate::ir::product_start()),
                        Kind::Unknown,
                        span,
                    ),
                    // What the standard library's `sum` starts from: `-0.0` for floats (the
                    // identity of IEEE addition: a sum of nothing is `-0.0`), `0` for integers;
                    // code generation spells it once the type is known.
                    _ => self.inst1(
                        b,
                        InstKind::Const(crate::ir::sum_start()),
                        Kind::Unknown,
                        span,
                    ),
                };
                let init = match &turbofish_ty {
                    Some(ty) => {
                        let kind = if crate::types::is_inactive_type(ty) {
                            Kind::Discrete
                        } else {
                            Kind::Float
                        };
                        self.inst1(
                            b,
                            InstKind::Ascribe {
                                value: init,
                                ty: ty.clone(),
                            },
                            kind,
                            span,
                        )
                    }
                    None => init,
                };
                let slot = self.hidden(&format!("__ad_{name}"), init);
                let op = if name == "product" {
                    BinOp::Mul
                } else {
                    BinOp::Add
                };
                let count = name == "count";
                self.chain_loop(b, &p, vec![slot], scope, fns, span, &mut |s, blk, item| {
                    let acc = s.env[slot].value;
                    let x = if count {
                        Some(s.inst1(blk, InstKind::Const(quote!(1usize)), Kind::Discrete, span))
                    } else {
                        s.item_value(blk, item, false, span)
                    };
                    if let Some(ty) = x.filter(|_| !count).and_then(|x| s.struct_type_of(x)) {
                        let ty = quote::quote!(#ty).to_string().replace(' ', "");
                        // The element type of a parameter, named through the runtime where
                        // the signature names it by a path (`users: &[Embedding]`).
                        let (ty, alias) = if ty.contains("__private") {
                            let alias = "; a type named by a path in the signature is taken \
                                 for a struct of yours, so if it is an alias of a container or \
                                 a float (`type Embedding = Vec<f64>;`), write the type itself \
                                 there (`&[Vec<f64>]`)";
                            ("YourStruct".to_string(), alias)
                        } else {
                            (ty, "")
                        };
                        let (op, zero) = match name.as_str() {
                            "product" => ("*", "one"),
                            _ => ("+", "zero"),
                        };
                        s.err(
                            span,
                            format!(
                                "`{name}()` of `{ty}` items goes through your `impl {}` for \
                                 `{ty}`, which the macro does not see; write it as a `fold` from \
                                 your {zero} with your `#[differentiate]` operator: \
                                 `.fold({ty} {{ .. }}, |acc, v| acc {op} v)`{alias}",
                                if op == "+" { "Sum" } else { "Product" }
                            ),
                        );
                        s.continue_loop(blk, span);
                        return;
                    }
                    if let (Some(acc), Some(x)) = (acc, x) {
                        let k = s.kind(acc).join(s.kind(x));
                        let next = s.inst1(blk, InstKind::Binary(op, acc, x), k, span);
                        s.env[slot].value = Some(next);
                    }
                    s.continue_loop(blk, span);
                });
                let v = self.env[slot].value;
                self.env.truncate(slot);
                v
            }
            "fold" => {
                let Some(init) = self.expr(b, &mc.args[0], true) else {
                    return Some(None);
                };
                // A tuple accumulator (`(0, f64::NEG_INFINITY)` for an argmax) is carried as
                // its parts, each a loop state of its own type: carried whole, a position in
                // it would be given an adjoint.
                let parts = match (chain::strip(&mc.args[0]), self.f.value(init).def) {
                    (Expr::Tuple(t), ValueDef::Result(i, 0)) if !t.elems.is_empty() => {
                        match &self.f.inst(i).kind {
                            InstKind::Tuple(elems) if elems.len() == t.elems.len() => elems.clone(),
                            _ => vec![init],
                        }
                    }
                    _ => vec![init],
                };
                let tuple = parts.len() > 1;
                // An accumulator started from a struct of the user's stays one, whose
                // operators are its own (`|acc, p| acc + p.pos`).
                let acc_ty = (!tuple)
                    .then(|| self.operand_struct(init, &mc.args[0]))
                    .flatten();
                let first = self.env.len();
                let slots: Vec<usize> = parts.iter().map(|&v| self.hidden("__ad_acc", v)).collect();
                let f = &mc.args[1];
                self.chain_loop(
                    b,
                    &p,
                    slots.clone(),
                    scope,
                    fns,
                    span,
                    &mut |s, blk, item| {
                        let vals: Option<Vec<Value>> =
                            slots.iter().map(|&k| s.env[k].value).collect();
                        if let Some(vals) = vals {
                            let acc = if tuple {
                                let kind =
                                    vals.iter().fold(Kind::Discrete, |k, &v| k.join(s.kind(v)));
                                s.inst1(blk, InstKind::Tuple(vals), kind, span)
                            } else {
                                vals[0]
                            };
                            if let Some(ty) = &acc_ty {
                                s.struct_values.push((acc, ty.clone()));
                            }
                            let r = s.apply_fun(blk, f, vec![Item::val(acc), item], scope);
                            if let Some(r) = r.and_then(|r| s.item_value(blk, r, false, span)) {
                                if tuple {
                                    for (n, &k) in slots.iter().enumerate() {
                                        s.env[k].value = Some(s.field(blk, r, n as u32, span));
                                    }
                                } else {
                                    s.env[slots[0]].value = Some(r);
                                }
                            }
                        }
                        s.continue_loop(blk, span);
                    },
                );
                let vals: Option<Vec<Value>> = slots.iter().map(|&k| self.env[k].value).collect();
                self.env.truncate(first);
                match vals {
                    Some(vals) if tuple => {
                        let kind = vals
                            .iter()
                            .fold(Kind::Discrete, |k, &v| k.join(self.kind(v)));
                        Some(self.inst1(b, InstKind::Tuple(vals), kind, span))
                    }
                    Some(vals) => {
                        if let Some(ty) = acc_ty {
                            self.struct_values.push((vals[0], ty));
                        }
                        Some(vals[0])
                    }
                    None => None,
                }
            }
            "reduce" => return Some(self.chain_reduce(b, mc, &p, scope, fns)),
            "for_each" => {
                let f = &mc.args[0];
                self.chain_loop(b, &p, vec![], scope, fns, span, &mut |s, blk, item| {
                    s.apply_fun(blk, f, vec![item], scope);
                    s.continue_loop(blk, span);
                });
                None
            }
            "collect" => {
                if let Some(ty) = &turbofish_ty {
                    if !is_vec_type(ty) {
                        self.err_at(
                            ty,
                            "`collect` is supported into a `Vec` (`collect::<Vec<_>>()`) and an \
                             `Array1` (`collect::<Array1<f64>>()`); build other collections from \
                             the `Vec`",
                        );
                        return Some(None);
                    }
                }
                let new = self.inst1(
                    b,
                    InstKind::Const(quote!(::std::vec::Vec::new())),
                    Kind::Unknown,
                    span,
                );
                let slot = self.hidden("__ad_collected", new);
                self.f.mutable_names.insert("__ad_collected".into());
                self.chain_loop(b, &p, vec![slot], scope, fns, span, &mut |s, blk, item| {
                    let x = s.item_value(blk, item, false, span);
                    if let (Some(base), Some(x)) = (s.env[slot].value, x) {
                        s.push_value(blk, slot, base, x, span);
                    }
                    s.continue_loop(blk, span);
                });
                let v = self.env[slot].value;
                self.env.truncate(slot);
                v
            }
            _ => return Some(self.chain_best(b, mc, &p, &name, scope, fns)),
        };
        Some(v)
    }

    /// `v.extend(chain)` on a variable declared `mut`: each item pushed.
    pub(super) fn chain_extend(&mut self, b: Block, mc: &syn::ExprMethodCall, c: &Chain) {
        let span = super::span::method_span(mc);
        if let Expr::Field(fe) = &*mc.receiver {
            if matches!(fe.member, syn::Member::Named(_)) {
                // `s.v.extend(chain)` on a field of a local: the extension of a copy of the
                // field, written back (`s.v = ..`, a new version of `s`).
                let (recv, arg) = (&mc.receiver, &mc.args[0]);
                let e: Expr = syn::parse_quote_spanned! {span=>
                    {
                        let mut __ad_extended = #recv.clone();
                        __ad_extended.extend(#arg);
                        #recv = __ad_extended;
                    }
                };
                self.expr(b, &e, false);
                return;
            }
        }
        let slot = match &*mc.receiver {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string())),
            _ => None,
        };
        let Some(slot) = slot else {
            self.err_at(
                &mc.receiver,
                "`.extend(..)` is followed by the derivative on a variable (`v.extend(..)` with \
                 `let mut v`); bind the container to a variable first",
            );
            return;
        };
        let scope = self.env.len();
        let Some(p) = self.prepare(b, c, true, span) else {
            return;
        };
        let fns = c.fns();
        self.chain_loop(b, &p, vec![slot], scope, &fns, span, &mut |s, blk, item| {
            let x = s.item_value(blk, item, false, span);
            if let (Some(base), Some(x)) = (s.env[slot].value, x) {
                s.push_value(blk, slot, base, x, span);
            }
            s.continue_loop(blk, span);
        });
    }

    /// `v.push(x)` on the variable in `slot`.
    pub(super) fn push_value(&mut self, b: Block, slot: usize, base: Value, x: Value, span: Span) {
        let Some(r) = self.mutate1(b, "push", base, x, span) else {
            return;
        };
        self.f.values[r.index()].name = Some(self.env[slot].name.clone());
        self.env[slot].value = Some(r);
    }
}

/// In the body of `for c in v.chunks_mut(k)`, a loop over the chunk's items by mutable
/// reference, `for s in c.iter_mut() { *s *= g; }` (also `for (j, s) in
/// c.iter_mut().enumerate()`), as the index loop `for __ad_j in 0..c.len() { c[__ad_j] *= g; }`:
/// `*s` is `c[__ad_j]`, as is `s` as a method's receiver. Zipped with another sequence, `for (s,
/// x) in c.iter_mut().zip(xs)` (a layer's row updated against its input), it is the loop `for
/// (__ad_j, x) in (0..c.len()).zip(xs)`, which stops where the shorter one ends, as `zip` does. A loop whose body uses `s` otherwise
/// (or binds the name again) is left for the chunk's error.
struct ChunkItems<'a> {
    chunk: &'a syn::Ident,
    made: usize,
}

impl syn::visit_mut::VisitMut for ChunkItems<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let Expr::ForLoop(fl) = e else { return };
        // `for (s, x) in c.iter_mut().zip(xs)`: the loop over the positions zipped with `xs`.
        let (expr, zipped) = match chain::strip(&fl.expr) {
            Expr::MethodCall(mc) if mc.method == "zip" && mc.args.len() == 1 => {
                (&*mc.receiver, Some(mc.args[0].clone()))
            }
            other => (other, None),
        };
        let (recv, enumerate) = match chain::strip(expr) {
            Expr::MethodCall(mc)
                if mc.method == "enumerate" && mc.args.is_empty() && zipped.is_none() =>
            {
                (&*mc.receiver, true)
            }
            other => (other, false),
        };
        let Expr::MethodCall(im) = chain::strip(recv) else {
            return;
        };
        if im.method != "iter_mut"
            || !im.args.is_empty()
            || !matches!(chain::strip(&im.receiver), Expr::Path(p) if p.path.is_ident(self.chunk))
        {
            return;
        }
        let name = |p: &Pat| match p {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => Some(pi.ident.clone()),
            _ => None,
        };
        let (index, item): (Option<Pat>, syn::Ident) = match (&*fl.pat, enumerate) {
            (Pat::Tuple(t), false) if zipped.is_some() && t.elems.len() == 2 => {
                match name(&t.elems[0]) {
                    Some(n) => (Some(t.elems[1].clone()), n),
                    None => return,
                }
            }
            _ if zipped.is_some() => return,
            (p, false) => match name(p) {
                Some(n) => (None, n),
                None => return,
            },
            (Pat::Tuple(t), true) if t.elems.len() == 2 => match name(&t.elems[1]) {
                Some(n) => (Some(t.elems[0].clone()), n),
                None => return,
            },
            _ => return,
        };
        let j = quote::format_ident!("__ad_chunk_item{}", self.made, span = fl.span());
        let c = self.chunk;
        let element: Expr = syn::parse_quote_spanned!(fl.span()=> #c[#j]);
        // The name bound again in the body: left as written.
        struct Binds<'a>(&'a syn::Ident, bool);
        impl<'ast> Visit<'ast> for Binds<'_> {
            fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
                self.1 |= pi.ident == *self.0;
            }
        }
        let mut binds = Binds(&item, false);
        binds.visit_block(&fl.body);
        if binds.1 {
            return;
        }
        struct Reads<'a> {
            item: &'a syn::Ident,
            element: &'a Expr,
        }
        impl syn::visit_mut::VisitMut for Reads<'_> {
            fn visit_expr_mut(&mut self, e: &mut Expr) {
                let is_item = |e: &Expr| matches!(chain::strip(e), Expr::Path(p) if p.path.is_ident(self.item));
                match e {
                    Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && is_item(&u.expr) => {
                        *e = self.element.clone();
                        return;
                    }
                    Expr::MethodCall(mc) if is_item(&mc.receiver) => {
                        *mc.receiver = self.element.clone();
                    }
                    _ => {}
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
        }
        let mut body = fl.body.clone();
        Reads {
            item: &item,
            element: &element,
        }
        .visit_block_mut(&mut body);
        let mut left = false;
        fn mentions(ts: proc_macro2::TokenStream, id: &syn::Ident, left: &mut bool) {
            for t in ts {
                match t {
                    proc_macro2::TokenTree::Ident(i) if i == *id => *left = true,
                    proc_macro2::TokenTree::Group(g) => mentions(g.stream(), id, left),
                    _ => {}
                }
            }
        }
        mentions(quote!(#body), &item, &mut left);
        if left {
            return;
        }
        self.made += 1;
        let stmts = &body.stmts;
        if let (Some(other), Some(with)) = (index.as_ref(), zipped.as_ref()) {
            *e = syn::parse_quote_spanned! {fl.span()=>
                for (#j, #other) in (0..#c.len()).zip(#with) {
                    #(#stmts)*
                }
            };
            return;
        }
        let index = index.map(|p| quote!(let #p = #j;));
        *e = syn::parse_quote_spanned! {fl.span()=>
            for #j in 0..#c.len() {
                #index
                #(#stmts)*
            }
        };
    }
}

/// Rewrites the chunk `c` of `for c in v.chunks_mut(k)`: `c[j]` to `v[__ad_cs + (j)]`,
/// `c.len()` to `__ad_cl`; any other use of `c` is kept in `stray`.
struct IntoContainer<'a> {
    chunk: &'a syn::Ident,
    container: &'a syn::ExprPath,
    stray: Option<Expr>,
}

impl syn::visit_mut::VisitMut for IntoContainer<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let is_chunk =
            |e: &Expr| matches!(chain::strip(e), Expr::Path(p) if p.path.is_ident(self.chunk));
        match e {
            Expr::Index(ix) if is_chunk(&ix.expr) => {
                self.visit_expr_mut(&mut ix.index);
                let (v, j) = (self.container, &ix.index);
                *ix.expr = Expr::Path(v.clone());
                *ix.index = syn::parse_quote_spanned!(j.span()=> __ad_cs + (#j));
            }
            Expr::MethodCall(mc)
                if is_chunk(&mc.receiver) && mc.method == "len" && mc.args.is_empty() =>
            {
                *e = syn::parse_quote_spanned!(super::span::method_span(mc)=> __ad_cl);
            }
            e if is_chunk(e) => {
                self.stray.get_or_insert_with(|| e.clone());
            }
            e => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    /// The same rewrite in a macro's tokens (`assert!(j < c.len())`, also the bounds check
    /// `let s = &mut c[j];` stands for, `println!("{}", c[0])`): `c.len()` and `c[..]`.
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = self.tokens(m.tokens.clone());
    }
}

impl IntoContainer<'_> {
    fn tokens(&mut self, ts: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        use proc_macro2::{Delimiter, Group, TokenTree};
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        let mut out: Vec<TokenTree> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                TokenTree::Ident(id) if id == self.chunk => {
                    let after_dot =
                        matches!(out.last(), Some(TokenTree::Punct(p)) if p.as_char() == '.');
                    let len_call = matches!(
                        (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3)),
                        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(l)), Some(TokenTree::Group(g)))
                            if p.as_char() == '.' && l == "len"
                                && g.delimiter() == Delimiter::Parenthesis && g.stream().is_empty()
                    );
                    if after_dot {
                        // A field or method of that name (`s.c`): not the chunk.
                        out.push(toks[i].clone());
                        i += 1;
                    } else if len_call {
                        out.push(TokenTree::Ident(syn::Ident::new("__ad_cl", id.span())));
                        i += 4;
                    } else if let Some(TokenTree::Group(g)) = toks.get(i + 1)
                        && g.delimiter() == Delimiter::Bracket
                    {
                        let j = self.tokens(g.stream());
                        let v = self.container;
                        let index = quote::quote_spanned!(g.span()=> __ad_cs + (#j));
                        out.extend(quote::quote_spanned!(id.span()=> #v));
                        out.push(TokenTree::Group(Group::new(Delimiter::Bracket, index)));
                        i += 2;
                    } else {
                        let id = id.clone();
                        self.stray
                            .get_or_insert_with(|| syn::parse_quote_spanned!(id.span()=> #id));
                        out.push(toks[i].clone());
                        i += 1;
                    }
                }
                TokenTree::Group(g) => {
                    let mut ng = Group::new(g.delimiter(), self.tokens(g.stream()));
                    ng.set_span(g.span());
                    out.push(TokenTree::Group(ng));
                    i += 1;
                }
                t => {
                    out.push(t.clone());
                    i += 1;
                }
            }
        }
        out.into_iter().collect()
    }
}
