//! Consumers that keep one item of a chain: `max_by`, `min_by`, `max_by_key`, `min_by_key`,
//! `max`, `min` and `reduce`, each followed by `.unwrap()`. The loop carries the item kept so
//! far and whether there is one yet; it replaces the item as Rust does (the last of equal maxima,
//! the first of equal minima).

use super::chain::strip;
use super::iter::Prepared;
use super::*;

impl Lowering {
    /// `reduce(f)` followed by `.unwrap()`: the first item, then `f(acc, item)` for the others.
    pub(super) fn chain_reduce(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        p: &Prepared,
        scope: usize,
        fns: &[&Expr],
    ) -> Option<Value> {
        let span = super::span::method_span(mc);
        let f = &mc.args[0];
        if let Expr::Closure(cl) = strip(f) {
            let mut names = AssignedNames::default();
            names.visit_expr(&cl.body);
            if names.0.iter().any(|n| self.lookup(n).is_some()) {
                self.err_at(
                    f,
                    "a `reduce` closure that changes captured variables is not supported; use \
                     `fold` with a first value",
                );
                return None;
            }
        }
        // Items that are tuples (`enumerate`, `zip`, a `map` to `(i, c)`): the accumulator is
        // carried as its parts, as `fold` carries a tuple, so that a position beside a
        // differentiated value stays an integer of its own.
        let leaves = self.probe_leaves(p);
        if leaves >= 2 {
            return self.chain_reduce_parts(b, mc, p, scope, fns, leaves);
        }
        let (found_slot, acc) = self.found_and_slots(b, "__ad_acc", 1, span);
        let acc_slot = acc[0];
        let mut item_ty = None;
        self.chain_loop(
            b,
            p,
            vec![found_slot, acc_slot],
            scope,
            fns,
            span,
            &mut |s, blk, item| {
                let (Some(found), Some(acc)) = (s.env[found_slot].value, s.env[acc_slot].value)
                else {
                    return;
                };
                let Some(x) = s.item_value(blk, item.clone(), false, span) else {
                    s.continue_loop(blk, span);
                    return;
                };
                s.same_type(blk, acc, x, span);
                // The accumulator has the items' type: where they are a struct of the user's
                // (`map(|&a| Quat::from_axis_angle(ax, a)).reduce(|a, b| a * b)`), its
                // operators are the struct's on the accumulator too.
                let made = || {
                    let ty = s.struct_of_made(x)?;
                    s.user_struct(&syn::parse_quote!(#ty))
                };
                if let Some(ty) = s.struct_type_of(x).or_else(made) {
                    s.struct_values.push((acc, ty.clone()));
                    item_ty = Some(ty);
                }
                let first = s.int_op(blk, quote!(!__ad_f), &[("__ad_f", found)], span);
                let then = s.f.new_block();
                let els = s.f.new_block();
                s.f.block_mut(then).term = Term::Yield(vec![x]);
                let saved = s.env.clone();
                let r = s
                    .apply_fun(els, f, vec![Item::val(acc), item], scope)
                    .and_then(|r| s.item_value(els, r, false, span));
                s.env = saved;
                let Some(r) = r else {
                    s.continue_loop(blk, span);
                    return;
                };
                s.f.block_mut(els).term = Term::Yield(vec![r]);
                let k = s.kind(x).join(s.kind(r));
                let i = s.f.push_inst(
                    blk,
                    InstKind::If {
                        cond: first,
                        then,
                        els,
                    },
                    1,
                    k,
                    span,
                );
                let next = s.f.inst(i).results[0];
                s.env[acc_slot].value = Some(next);
                let t = s.inst1(blk, InstKind::Const(quote!(true)), Kind::Discrete, span);
                s.env[found_slot].value = Some(t);
                s.continue_loop(blk, span);
            },
        );
        self.assert_reduced(b, self.env[found_slot].value?, span);
        let v = self.env[acc_slot].value;
        self.env.truncate(found_slot);
        // So is the result (`let r = ...reduce(|a, b| a * b).unwrap(); t.conj() * r`).
        if let (Some(v), Some(ty)) = (v, item_ty) {
            self.struct_values.push((v, ty));
        }
        v
    }

    /// `reduce(f).unwrap()` over items that are flat tuples of `n` values: one loop variable
    /// per value; `f` is given the accumulator and the item as tuples and its result is taken
    /// apart again (`if a.1 <= b.1 { a } else { b }`).
    fn chain_reduce_parts(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        p: &Prepared,
        scope: usize,
        fns: &[&Expr],
        n: usize,
    ) -> Option<Value> {
        let span = super::span::method_span(mc);
        let f = &mc.args[0];
        let (found_slot, acc_slots) = self.found_and_slots(b, "__ad_acc", n, span);
        let mut slots = vec![found_slot];
        slots.extend(&acc_slots);
        let mut shape: Option<Item> = None;
        self.chain_loop(b, p, slots, scope, fns, span, &mut |s, blk, item| {
            let Some(found) = s.env[found_slot].value else {
                return;
            };
            let item = s.settle(blk, item, span);
            let item = s.spread_tuples(item);
            let mut elems = Vec::new();
            flatten(&item, &mut elems);
            if elems.len() != n || has_window(&item) {
                s.err(
                    span,
                    "`reduce` over items of this shape is not supported; use `fold` with a \
                     first value",
                );
                s.continue_loop(blk, span);
                return;
            }
            let accs: Option<Vec<Value>> = acc_slots.iter().map(|&k| s.env[k].value).collect();
            let Some(accs) = accs else {
                return;
            };
            for (&a, &x) in accs.iter().zip(&elems) {
                s.same_type(blk, a, x, span);
            }
            let first = s.int_op(blk, quote!(!__ad_f), &[("__ad_f", found)], span);
            let then = s.f.new_block();
            let els = s.f.new_block();
            s.f.block_mut(then).term = Term::Yield(elems.clone());
            let saved = s.env.clone();
            let acc = rebuild(&item, &accs, &mut 0);
            let r = s
                .apply_fun(els, f, vec![acc, item.clone()], scope)
                .and_then(|r| s.item_value(els, r, false, span));
            s.env = saved;
            let Some(r) = r else {
                s.continue_loop(blk, span);
                return;
            };
            let mut parts = Vec::new();
            s.split_like(els, &item, r, &mut parts, span);
            if shape.is_none() {
                shape = Some(item.clone());
            }
            s.f.block_mut(els).term = Term::Yield(parts.clone());
            s.choose_into(blk, first, (then, els), &acc_slots, (&elems, &parts), span);
            let t = s.inst1(blk, InstKind::Const(quote!(true)), Kind::Discrete, span);
            s.env[found_slot].value = Some(t);
            s.continue_loop(blk, span);
        });
        self.assert_reduced(b, self.env[found_slot].value?, span);
        let vals: Option<Vec<Value>> = acc_slots.iter().map(|&k| self.env[k].value).collect();
        self.env.truncate(found_slot);
        // The item kept, shaped as the items are (`((a, b), c)` of a `zip` of a `zip`).
        let item = rebuild(&shape?, &vals?, &mut 0);
        self.item_value(b, item, false, span)
    }

    /// An `if` on `cond` between the values its arms yield, one result per slot in `slots`:
    /// each result named as its slot, of the kind the arms' values (`values`, in the order of
    /// `slots`) have together, and now the slot's value.
    fn choose_into(
        &mut self,
        blk: Block,
        cond: Value,
        (then, els): (Block, Block),
        slots: &[usize],
        (a, b): (&[Value], &[Value]),
        span: Span,
    ) {
        let i = self.f.push_inst(
            blk,
            InstKind::If { cond, then, els },
            slots.len(),
            Kind::Unknown,
            span,
        );
        let results = self.f.inst(i).results.clone();
        for (n, (&slot, &r)) in slots.iter().zip(&results).enumerate() {
            let kind = self.kind(a[n]).join(self.kind(b[n]));
            self.f.values[r.index()].kind = kind;
            self.f.values[r.index()].name = Some(self.env[slot].name.clone());
            self.env[slot].value = Some(r);
        }
    }

    /// A flag that a loop keeping one item sets at its first item (`false` before it), and `n`
    /// variables named `{prefix}0`, `{prefix}1`, .. for the item's values, each starting as
    /// `Default::default()`: their environment slots.
    fn found_and_slots(
        &mut self,
        b: Block,
        prefix: &str,
        n: usize,
        span: Span,
    ) -> (usize, Vec<usize>) {
        let found = self.inst1(b, InstKind::Const(quote!(false)), Kind::Discrete, span);
        let found_slot = self.hidden("__ad_found", found);
        let slots = (0..n)
            .map(|k| {
                let d = self.inst1(
                    b,
                    InstKind::Const(quote!(::core::default::Default::default())),
                    Kind::Unknown,
                    span,
                );
                self.hidden(&format!("{prefix}{k}"), d)
            })
            .collect();
        (found_slot, slots)
    }

    /// `reduce(..).unwrap()` of an empty iterator panics as `unwrap` does: `found` is the flag
    /// its loop sets at the first item.
    fn assert_reduced(&mut self, b: Block, found: Value, span: Span) {
        self.int_op(
            b,
            quote!(::core::assert!(
                __ad_f,
                "`reduce` of an empty iterator: `unwrap` on `None`"
            )),
            &[("__ad_f", found)],
            span,
        );
    }

    /// Tells rustc that `a` and `b` have one type, before code that calls methods on `a`
    /// (an accumulator that starts as `Default::default()`).
    pub(super) fn same_type(&mut self, b: Block, a: Value, x: Value, span: Span) {
        let (ka, kx) = (self.kind(a), self.kind(x));
        let ra = self.inst1(b, InstKind::Ref(a), ka, span);
        let rx = self.inst1(b, InstKind::Ref(x), kx, span);
        self.int_op_kind(
            b,
            quote!({
                fn __ad_same<T>(_: T, _: T) {}
                __ad_same(__ad_a, __ad_b)
            }),
            &[("__ad_a", ra), ("__ad_b", rx)],
            Kind::Discrete,
            span,
        );
    }

    /// `max_by`, `min_by`, `max_by_key`, `min_by_key`, `max`, `min` and `last`, followed by
    /// `.unwrap()`: the loop keeps the best item so far (and whether there is one), replacing
    /// it as Rust does (the last of equal maxima, the first of equal minima, every item for
    /// `last`).
    pub(super) fn chain_best(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        p: &Prepared,
        name: &str,
        scope: usize,
        fns: &[&Expr],
    ) -> Option<Value> {
        let span = super::span::method_span(mc);
        // The best item so far, one variable per leaf of the item (from a probe of the item's
        // shape; the first item computed gives the shape the loop's result is rebuilt in).
        let mut shape: Option<Item> = None;
        let leaves = self.probe_leaves(p);
        let (found_slot, best_slots) = self.found_and_slots(b, "__ad_best", leaves, span);
        let mut slots = vec![found_slot];
        slots.extend(&best_slots);
        let fun = mc.args.first();
        let name = name.to_string();
        self.chain_loop(b, p, slots, scope, fns, span, &mut |s, blk, item| {
            let item = s.settle(blk, item, span);
            let mut vals = Vec::new();
            flatten(&item, &mut vals);
            // A `map` whose closure ends in a tuple gives one value, the tuple built: its
            // elements are the leaves `probe_leaves` counted, each kept on its own.
            let item = if vals.len() < best_slots.len() {
                let item = s.spread_tuples(item);
                vals.clear();
                flatten(&item, &mut vals);
                item
            } else {
                item
            };
            if vals.len() != best_slots.len() {
                let msg = if has_window(&item) {
                    // The best window would be a value the function goes on with, which a
                    // window is not; its position is discrete, found as written.
                    format!(
                        "`{name}` over windows or chunks would keep a window as a value, which \
                         is not supported; take the best one's position, `let i = \
                         x.windows(k).enumerate().{name}(|a, b| ..).map(|(i, _)| i).unwrap();`, \
                         and read the window where it starts, `let w = &x[i..i + k];` (a chunk: \
                         `&x[i * k..(i * k + k).min(x.len())]`)"
                    )
                } else {
                    format!("`{name}` over items of this shape is not supported")
                };
                s.err(span, msg);
                s.continue_loop(blk, span);
                return;
            }
            let best_vals: Vec<Value> = best_slots.iter().filter_map(|&k| s.env[k].value).collect();
            let best = rebuild(&item, &best_vals, &mut 0);
            let Some(found) = s.env[found_slot].value else {
                return;
            };
            let test = match name.as_str() {
                "max_by" => quote!(!= ::core::cmp::Ordering::Greater),
                "min_by" => quote!(== ::core::cmp::Ordering::Greater),
                _ => quote!(),
            };
            // The comparison runs once there is a best item: before, the best is a
            // placeholder (`Default::default()`, an empty row) the user's closure must not see.
            let cmp = s.f.new_block();
            let cond = match (name.as_str(), fun) {
                // `last`: every item replaces the one before.
                ("last", _) => {
                    Some(s.inst1(cmp, InstKind::Const(quote!(true)), Kind::Discrete, span))
                }
                ("max_by" | "min_by", Some(f)) => s.run_as_written(
                    cmp,
                    f,
                    &[best.clone(), item.clone()],
                    true,
                    None,
                    test,
                    span,
                ),
                ("max_by_key" | "min_by_key", Some(f)) => {
                    let cmp_op = if name == "max_by_key" {
                        quote!(<=)
                    } else {
                        quote!(>)
                    };
                    s.run_as_written(
                        cmp,
                        f,
                        &[best.clone(), item.clone()],
                        true,
                        Some(cmp_op),
                        quote!(),
                        span,
                    )
                }
                _ => {
                    let (Some(a), Some(c)) = (
                        s.item_value(cmp, best.clone(), false, span),
                        s.item_value(cmp, item.clone(), false, span),
                    ) else {
                        return;
                    };
                    let t = if name == "max" {
                        quote!(__ad_a <= __ad_b)
                    } else {
                        quote!(__ad_a > __ad_b)
                    };
                    Some(s.int_op(cmp, t, &[("__ad_a", a), ("__ad_b", c)], span))
                }
            };
            let Some(cond) = cond else { return };
            // Replace when there is no best yet or the comparison says so:
            // `if found { cond } else { true }`.
            s.f.block_mut(cmp).term = Term::Yield(vec![cond]);
            let none_yet = s.f.new_block();
            let yes = s.inst1(
                none_yet,
                InstKind::Const(quote!(true)),
                Kind::Discrete,
                span,
            );
            s.f.block_mut(none_yet).term = Term::Yield(vec![yes]);
            let pick = s.f.push_inst(
                blk,
                InstKind::If {
                    cond: found,
                    then: cmp,
                    els: none_yet,
                },
                1,
                Kind::Discrete,
                span,
            );
            let take = s.f.inst(pick).results[0];
            let then = s.f.new_block();
            let els = s.f.new_block();
            s.f.block_mut(then).term = Term::Yield(vals.clone());
            s.f.block_mut(els).term = Term::Yield(best_vals.clone());
            s.choose_into(
                blk,
                take,
                (then, els),
                &best_slots,
                (&vals, &best_vals),
                span,
            );
            let t = s.inst1(blk, InstKind::Const(quote!(true)), Kind::Discrete, span);
            s.env[found_slot].value = Some(t);
            if shape.is_none() {
                shape = Some(item.clone());
            }
            s.continue_loop(blk, span);
        });
        let found = self.env[found_slot].value?;
        let msg = format!("`{name}` of an empty iterator: `unwrap` on `None`");
        self.int_op(
            b,
            quote!(::core::assert!(__ad_f, #msg)),
            &[("__ad_f", found)],
            span,
        );
        let vals: Vec<Value> = best_slots
            .iter()
            .filter_map(|&k| self.env[k].value)
            .collect();
        self.env.truncate(found_slot);
        let shape = shape?;
        let refs = match &shape {
            Item::Val { refs, .. } | Item::Tuple { refs, .. } => *refs,
            Item::Window { .. } | Item::Cell { .. } => 0,
        };
        let item = rebuild(&shape, &vals, &mut 0);
        let v = self.item_value(b, item, false, span);
        if let Some(v) = v.filter(|_| refs > 0) {
            self.best_refs.push((v, refs));
        }
        v
    }

    /// The values of `r`, a value shaped like `shape` (a tuple of tuples), depth first: its
    /// fields read as `flatten` lists the item's values.
    fn split_like(&mut self, b: Block, shape: &Item, r: Value, out: &mut Vec<Value>, span: Span) {
        match shape {
            Item::Tuple { elems, .. } => {
                for (k, e) in elems.iter().enumerate() {
                    let f = self.field(b, r, k as u32, span);
                    self.split_like(b, e, f, out, span);
                }
            }
            _ => out.push(r),
        }
    }

    /// An item whose values that are tuples built in this function (a `map` closure's `(i, c)`)
    /// are taken apart into items of their elements.
    fn spread_tuples(&self, item: Item) -> Item {
        match item {
            Item::Val { v, refs: 0 } => {
                if let ValueDef::Result(i, 0) = self.f.value(v).def {
                    if let InstKind::Tuple(elems) = &self.f.inst(i).kind {
                        return Item::Tuple {
                            elems: elems.iter().map(|&e| Item::val(e)).collect(),
                            refs: 0,
                        };
                    }
                }
                Item::Val { v, refs: 0 }
            }
            Item::Tuple { elems, refs } => Item::Tuple {
                elems: elems.into_iter().map(|e| self.spread_tuples(e)).collect(),
                refs,
            },
            item => item,
        }
    }

    /// The number of values of a chain's items (without lowering anything): `1` unless the
    /// adapters build tuples (`zip`, `enumerate`) or a `map` does.
    pub(super) fn probe_leaves(&self, p: &Prepared) -> usize {
        p.leaves()
    }
}

/// Whether the item holds a window or chunk of a slice.
fn has_window(item: &Item) -> bool {
    match item {
        Item::Window { .. } => true,
        Item::Tuple { elems, .. } => elems.iter().any(has_window),
        Item::Val { .. } | Item::Cell { .. } => false,
    }
}

/// The values of an item, depth first.
fn flatten(item: &Item, out: &mut Vec<Value>) {
    match item {
        Item::Val { v, .. } => out.push(*v),
        Item::Tuple { elems, .. } => elems.iter().for_each(|e| flatten(e, out)),
        Item::Window { w, .. } => out.extend([w.base, w.start, w.len]),
        // Read by `settle` before ranking.
        Item::Cell { cell, .. } => out.push(cell.index),
    }
}

/// An item of the same shape as `shape` with the values `vals` (from `*at` on).
fn rebuild(shape: &Item, vals: &[Value], at: &mut usize) -> Item {
    match shape {
        Item::Val { refs, .. } => {
            let v = vals.get(*at).copied().unwrap_or(Value(0));
            *at += 1;
            Item::Val { v, refs: *refs }
        }
        Item::Tuple { elems, refs } => Item::Tuple {
            elems: elems.iter().map(|e| rebuild(e, vals, at)).collect(),
            refs: *refs,
        },
        Item::Window { refs, .. } => {
            let w = Window {
                base: vals.get(*at).copied().unwrap_or(Value(0)),
                start: vals.get(*at + 1).copied().unwrap_or(Value(0)),
                len: vals.get(*at + 2).copied().unwrap_or(Value(0)),
            };
            *at += 3;
            Item::Window { w, refs: *refs }
        }
        Item::Cell { cell, refs } => {
            let index = vals.get(*at).copied().unwrap_or(Value(0));
            *at += 1;
            Item::Cell {
                cell: Cell {
                    slot: cell.slot,
                    index,
                },
                refs: *refs,
            }
        }
    }
}
