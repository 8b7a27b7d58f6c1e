//! Loops: `for` over ranges and slices, `while`, `loop`, with the variables they assign
//! carried from one iteration to the next.

use super::*;

/// A labeled loop keeps its label (see `labels.rs`) where a jump to it leaves a loop that is
/// not a statement of its own, or carries a value out of an inner loop.
const LABEL_KEPT: &str = "a jump to this label is followed from loops written as statements \
    (`'outer: for .. { for .. { if c { break 'outer; } } }`); here one leaves a loop that is a \
    value inside an expression or carries a value (`break 'outer v`) out of an inner loop: write \
    the inner loop as a statement and keep the value in a variable";

impl Lowering {
    /// Sets up a loop body block whose parameters carry the variables the loop assigns.
    pub(super) fn loop_header(&mut self, body_syn: &syn::Block) -> LoopHeader {
        let slots = self.assigned_slots(|v| v.visit_block(body_syn));
        self.clear_data_assigned(|v| v.visit_block(body_syn));
        let init = self.current(&slots, body_syn.span());
        let body = self.f.new_block();
        LoopHeader {
            body,
            slots,
            init,
            saved: self.env.clone(),
        }
    }

    /// Starts a counted loop that carries the variables in `slots`: its body block (the
    /// current block of the lowering until [`Self::end_counted_loop`]) and its index.
    pub(super) fn begin_counted_loop(
        &mut self,
        slots: Vec<usize>,
        span: Span,
    ) -> (LoopHeader, Value) {
        let init = self.current(&slots, span);
        let saved = self.env.clone();
        let body = self.f.new_block();
        let idx = self.f.add_block_param(body, None, Kind::Discrete);
        self.bind_carried(body, &slots, &init);
        self.loops.push(LoopCtx {
            slots: slots.clone(),
        });
        let h = LoopHeader {
            body,
            slots,
            init,
            saved,
        };
        (h, idx)
    }

    /// Ends a loop begun by [`Self::begin_counted_loop`]: the loop instruction in `b`.
    pub(super) fn end_counted_loop(&mut self, b: Block, kind: LoopKind, h: LoopHeader, span: Span) {
        self.loops.pop();
        self.finish_loop(b, kind, h, span);
    }

    pub(super) fn bind_carried(&mut self, body: Block, slots: &[usize], init: &[Value]) {
        for (&slot, &v) in slots.iter().zip(init) {
            let kind = self.kind(v);
            let name = self.env[slot].name.clone();
            let p = self.f.add_block_param(body, Some(name), kind);
            self.carried_init.push((p, v));
            self.env[slot].value = Some(p);
        }
    }

    /// `#[checkpoint(snapshots = n)]` on the loop just lowered into `b` (as its first loop
    /// instruction numbered `first` or later): recorded on the loop instruction for reverse mode.
    pub(super) fn loop_checkpoint(&mut self, b: Block, first: usize, attrs: &[syn::Attribute]) {
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

    pub(super) fn finish_loop(&mut self, b: Block, kind: LoopKind, h: LoopHeader, span: Span) {
        let LoopHeader {
            body,
            slots,
            init,
            saved,
        } = h;
        let slots = &slots[..];
        // What the body learnt of a carried variable's type (`layers.push(Neuron { .. })`
        // makes `layers` a `Vec<Neuron>`) holds after the loop too.
        let learnt: Vec<(usize, Option<TokenStream>, Option<TokenStream>)> = slots
            .iter()
            .filter_map(|&slot| {
                let (before, now) = (saved.get(slot)?, self.env.get(slot)?);
                let place = now.place_ty.clone().filter(|_| before.place_ty.is_none());
                let elem = now.elem_ty.clone().filter(|_| before.elem_ty.is_none());
                Some((slot, place, elem))
            })
            .collect();
        self.env = saved;
        for (slot, place, elem) in learnt {
            if place.is_some() {
                self.env[slot].place_ty = place;
            }
            if elem.is_some() {
                self.env[slot].elem_ty = elem;
            }
        }
        // A variable that starts discrete (`let mut v = vec![];`, an integer placeholder) but is
        // given differentiable values in the loop is not discrete: its carried value may
        // depend on the inputs.
        let n_params = self.f.block(body).params.len();
        let first_carried = n_params - slots.len();
        let mut stack = vec![body];
        while let Some(blk) = stack.pop() {
            let vals = match &self.f.block(blk).term {
                Term::Continue(vs) | Term::Break(vs) => vs.clone(),
                Term::Next { vals, .. } => vals.clone(),
                _ => {
                    stack.extend(self.f.term_blocks(blk));
                    continue;
                }
            };
            for (k, v) in vals.into_iter().enumerate() {
                let p = self.f.block(body).params[first_carried + k];
                if self.kind(p) == Kind::Discrete && self.kind(v) != Kind::Discrete {
                    self.f.values[p.index()].kind = self.kind(v).join(Kind::Unknown);
                }
            }
        }
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

    pub(super) fn for_loop(&mut self, b: Block, fl: &syn::ExprForLoop) {
        let span = fl.span();
        if let Some(l) = &fl.label {
            self.err_at(&l, LABEL_KEPT);
            return;
        }
        // `for w in u.windows((3, 3)) { .. }` (`exact_chunks`, `windows_with_stride`) of a
        // matrix or a 3-D array: the loop over the windows' positions, each window a region
        // (see `array_windows`).
        if let Some(block) = self.array_windows_loop(fl) {
            self.expr(b, &block, false);
            return;
        }
        // `for l in self.layers.iter_mut() { .. }` (`&mut self.layers`): over a field, which
        // iterating by mutable reference does not follow; the field is taken into a local,
        // iterated, and written back: `{ let mut __ad_field = self.layers.clone(); for l in
        // __ad_field.iter_mut() { .. } self.layers = __ad_field; }`.
        // Also under adapters (`for (j, e) in m[i].iter_mut().enumerate()`).
        let field = match chain::strip(&fl.expr) {
            Expr::Reference(r) if r.mutability.is_some() => Some(&*r.expr),
            e => iter_mut_base(e),
        }
        // Also over a row (`for e in m[i].iter_mut()`, the position a variable or a literal)
        // and over the item of an outer `iter_mut()` (`for row in m.iter_mut() { for e in
        // row.iter_mut() { .. } }`, written back as `*row = ..`).
        .and_then(|e| self.taken_container(e));
        // Such a container zipped in by mutable reference, `for (x, v) in
        // self.x.iter_mut().zip(self.v.iter_mut())` (or `zip(&mut self.v)`), is taken into a
        // local of its own too, each written back after the loop.
        // `for [x, v] in s.iter_mut() { *v -= k * *x; }`: the array an item refers to, taken
        // apart into references to its elements, as `for p in s.iter_mut() { p[1] -= k *
        // p[0]; }`.
        if let Some(inner) = array_items_by_index(fl) {
            self.expr(b, &Expr::ForLoop(inner), false);
            return;
        }
        // `for mut row in m.rows_mut() { row /= row.sum(); }` (`columns_mut`, `outer_iter_mut`,
        // `axis_iter_mut(Axis(0 or 1))`, with `.zip(xs)`, `.enumerate()`) over a matrix: each
        // lane copied, the body run on the copy, and the copy assigned back (see
        // `lanes_mut_loop`).
        match lanes_mut_loop(fl, &self.krate) {
            Some(Ok(LanesLoop {
                matrix,
                check,
                block,
            })) => {
                // An array known to have more axes, named here; rustc's check names the others.
                let rank = self
                    .lookup(&matrix.to_string())
                    .and_then(|slot| self.env[slot].value)
                    .map_or(0, |v| self.min_rank(v, 0));
                if rank > 2 {
                    self.err_at(&fl.expr, LANES_OF_MATRIX);
                    return;
                }
                let _ = self.opaque_inst(b, check, None, Kind::Discrete, false, span);
                self.expr(b, &block, false);
                return;
            }
            Some(Err((at, msg))) => {
                self.err_at(&at, msg);
                return;
            }
            None => {}
        }
        let zipped = self.through_zipped_locals(&fl.expr, span, |head| {
            let mut inner = fl.clone();
            *inner.expr = head;
            Stmt::Expr(Expr::ForLoop(inner), None)
        });
        if let Some(block) = zipped {
            self.expr(b, &block, false);
            return;
        }
        if let Some(field) = field {
            let block = through_local(&field, span, |tmp| {
                let mut inner = fl.clone();
                *inner.expr = match chain::strip(&fl.expr) {
                    Expr::Reference(_) => syn::parse_quote_spanned!(field.span()=> #tmp.iter_mut()),
                    e => with_iter_mut_base(e, tmp),
                };
                Stmt::Expr(Expr::ForLoop(inner), None)
            });
            self.expr(b, &block, false);
            return;
        }
        // `for &(u, v) in &m.edges { m.w[v] += .. }`: a field of a local struct iterated while
        // the body writes another field of it (plain Rust borrows the two fields apart). The
        // body makes new versions of the struct, which the borrow of the old one's field would
        // outlive: the field is copied first, `{ let __ad_items = m.edges.clone(); for &(u, v)
        // in &__ad_items { .. } }`.
        if let Some(field) = iterated_field(&fl.expr)
            && let Expr::Field(fe) = field
            && let Expr::Path(p) = chain::strip(&fe.base)
            && let Some(id) = p.path.get_ident()
            && id != "self"
            && let Some(slot) = self.lookup(&id.to_string())
            && self
                .assigned_slots(|v| v.visit_block(&fl.body))
                .contains(&slot)
        {
            let items = quote::format_ident!("__ad_items", span = field.span());
            let mut inner = fl.clone();
            replace_iterated_field(&mut inner.expr, &items);
            let block: Expr = syn::parse_quote_spanned! {span=>
                {
                    let #items = #field.clone();
                    #inner
                }
            };
            self.expr(b, &block, false);
            return;
        }
        // `for c in text.chars()`, `for (i, w) in line.split(',').enumerate()`: the items of a
        // string, data, collected first into a local `Vec`, which the loop then goes over.
        if parse_range(&fl.expr).is_none()
            && chain::parse_chain(&fl.expr, true).is_none()
            && let Some(block) = self.string_items_loop(fl)
        {
            self.expr(b, &block, false);
            return;
        }
        // `for (i, j) in neighbour_pairs(&x, rc) { .. }`: what a function returns, bound first,
        // `{ let __ad_items = neighbour_pairs(&x, rc); for (i, j) in __ad_items { .. } }`, and
        // iterated as a local `Vec` is.
        if let Expr::Call(call) = chain::strip(&fl.expr)
            && !matches!(&*call.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| {
                let name = s.ident.to_string();
                name.starts_with(char::is_uppercase) || name == "once" || name == "repeat"
                    || name == "zip" || name == "repeat_n"
            }))
        {
            let items = quote::format_ident!("__ad_items", span = fl.expr.span());
            let mut inner = fl.clone();
            *inner.expr = syn::parse_quote_spanned!(fl.expr.span()=> #items);
            let call = &fl.expr;
            let block: Expr = syn::parse_quote_spanned! {span=>
                {
                    let #items = #call;
                    #inner
                }
            };
            self.expr(b, &block, false);
            return;
        }
        let Some((start, end, inclusive, rev)) = parse_range(&fl.expr) else {
            match chain::parse_chain(&fl.expr, true) {
                Some(c) => self.chain_for(b, fl, &c),
                None if matches!(&*fl.expr, Expr::MethodCall(mc) if mc.method == "indexed_iter") => {
                    self.err_at(
                        &fl.expr,
                        "`indexed_iter()` is followed on a variable with the indices named in \
                         the pattern (`for (i, &v) in a.indexed_iter()` of a vector, `for ((i, \
                         j), &v) in a.indexed_iter()` of a matrix); otherwise loop over the \
                         indices (`for i in 0..a.nrows() { for j in 0..a.ncols() { .. } }`) and \
                         read each element as `a[[i, j]]`",
                    )
                }
                None if matches!(&*fl.expr, Expr::MethodCall(mc) if mc.method == "indexed_iter_mut") => {
                    self.err_at(
                        &fl.expr,
                        "`indexed_iter_mut()` is followed on a variable with the indices named \
                         in the pattern and the element bound to a name the body writes \
                         through (`for ((i, j), v) in a.indexed_iter_mut() { *v = .. }`, `for \
                         (i, v) in a.indexed_iter_mut()` of a vector); otherwise loop over the \
                         indices (`for i in 0..a.nrows() { for j in 0..a.ncols() { .. } }`) \
                         and write each element as `a[[i, j]] = ..`",
                    )
                }
                None => {
                    // `for &k in counts.keys()`: the map's own error.
                    let mut root = chain::strip(&fl.expr);
                    while let Expr::MethodCall(mc) = root {
                        root = chain::strip(&mc.receiver);
                    }
                    let msg = match self.map_variable(root) {
                        Some((ty, name)) => unfollowed::map_iteration_message(ty, &name),
                        None => format!(
                            "`for` loops here iterate over ranges, slices, `Vec`s, arrays and \
                             iterator chains over them; supported: {}; an iterator of other \
                             data is collected into a `Vec` first (`let cs: Vec<char> = \
                             text.chars().collect(); for &c in &cs {{ .. }}`)",
                            chain::SUPPORTED
                        ),
                    };
                    self.err_at(&fl.expr, msg)
                }
            }
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

    /// A loop over the items of a string (`text.chars()`, `.bytes()`, `.char_indices()`,
    /// `.split_whitespace()`, `.lines()`, `.split(',')` with a literal pattern, and adapters
    /// after them: `text.chars().enumerate()`) whose iterable reads data only, and whose pattern
    /// binds them by value: `{ let __ad_items: Vec<_> = (iterable).collect(); for pat in
    /// __ad_items { body } }`. The items are values (`char`, `u8`, `&str`
    /// and tuples of them, which `Vec`s of the loop's lowering hold as they are). `None` where
    /// the loop is not one: the error about loops' sources stays.
    fn string_items_loop(&self, fl: &syn::ExprForLoop) -> Option<Expr> {
        if binds_by_reference(&fl.pat) || !self.of_string_items(&fl.expr) {
            return None;
        }
        let span = fl.expr.span();
        let items = quote::format_ident!("__ad_items", span = span);
        let iterable = &fl.expr;
        let mut inner = fl.clone();
        *inner.expr = syn::parse_quote_spanned!(span=> #items);
        Some(syn::parse_quote_spanned! {span=>
            {
                let #items: ::std::vec::Vec<_> = (#iterable).collect();
                #inner
            }
        })
    }

    /// Whether `iterable` is the items of a string (`text.chars()`, `.bytes()`,
    /// `.char_indices()`, `.split_whitespace()`, `.lines()`, `.split(',')` with a literal
    /// pattern), with adapters after them (`text.chars().enumerate()`) whose arguments read
    /// data only.
    pub(super) fn of_string_items(&self, iterable: &Expr) -> bool {
        // Items of `str` only (`chain::STRING_ITEMS`): `split` and the like also exist on
        // slices, whose items are subslices (references), and are taken here with a literal
        // pattern only.
        use super::chain::STRING_ITEMS;
        const SPLITS: &[&str] = &[
            "split",
            "rsplit",
            "split_terminator",
            "rsplit_terminator",
            "splitn",
            "rsplitn",
            "matches",
        ];
        let mut e = chain::strip(iterable);
        let mut calls = Vec::new();
        while let Expr::MethodCall(mc) = e {
            calls.push(mc);
            e = chain::strip(&mc.receiver);
        }
        let Some(mc) = calls.last().copied() else {
            return false;
        };
        let name = mc.method.to_string();
        let literal_pattern = mc
            .args
            .last()
            .is_some_and(|a| matches!(chain::strip(a), Expr::Lit(_)));
        let of_string = STRING_ITEMS.contains(&name.as_str()) && mc.args.is_empty()
            || SPLITS.contains(&name.as_str()) && literal_pattern;
        if !of_string {
            return false;
        }
        // Data only: every variable the adapters' arguments name (closures' parameters are not
        // in scope). The string itself is data whatever holds it (an item of a loop over
        // tuples of data, `for &(text, y) in docs`): a receiver of another type that has a
        // method of one of these names is a call the derivative follows through that
        // method's `_vjp`, which a method of a string does not have.
        let mut idents = Vec::new();
        for call in &calls {
            for a in &call.args {
                written::collect_idents(a.to_token_stream(), &mut idents);
            }
        }
        idents.iter().all(|id| self.names_data(id))
    }

    /// Whether the variable `id` names (if any) holds data only.
    pub(super) fn names_data(&self, id: &syn::Ident) -> bool {
        self.lookup(&id.to_string()).is_none_or(|slot| {
            self.env[slot].data
                || self.env[slot]
                    .value
                    .is_some_and(|v| self.kind(v) == Kind::Discrete)
        })
    }

    pub(super) fn while_loop(&mut self, b: Block, w: &syn::ExprWhile) {
        let span = w.span();
        if let Some(l) = &w.label {
            self.err_at(&l, LABEL_KEPT);
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

    pub(super) fn loop_loop(&mut self, b: Block, l: &syn::ExprLoop) {
        let span = l.span();
        if let Some(lb) = &l.label {
            self.err_at(&lb, LABEL_KEPT);
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

/// `a..b`, `a..=b`, `(a..b).rev()`: (start, end, inclusive, rev).
pub(super) fn parse_range(e: &Expr) -> Option<(&Expr, &Expr, bool, bool)> {
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

impl Lowering {
    /// The container a loop over its `iter_mut()` takes into a local (see [`Self::for_loop`]):
    /// a field, a row at a variable or a literal position (`m[i]`), or the item of an outer
    /// `iter_mut()` (`for row in m.iter_mut() { for e in row.iter_mut() { .. } }`, written back
    /// as `*row = ..`).
    fn taken_container(&self, e: &Expr) -> Option<Expr> {
        match chain::strip(e) {
            Expr::Field(_) => Some(e.clone()),
            Expr::Index(ix) if matches!(&*ix.index, Expr::Lit(_) | Expr::Path(_)) => {
                Some(e.clone())
            }
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .filter(|&slot| self.env[slot].cell.is_some())
                .map(|_| syn::parse_quote_spanned!(e.span()=> (*#e))),
            _ => None,
        }
    }

    /// `s.v.iter_mut().for_each(|e| ..);` (also under adapters, and of a row `m[i]`): the
    /// container taken into a local, as a `for` loop over it is. `true` where `e` is one,
    /// lowered.
    pub(super) fn field_for_each(&mut self, b: Block, e: &Expr) -> bool {
        let Expr::MethodCall(mc) = chain::strip(e) else {
            return false;
        };
        if mc.method != "for_each" || mc.args.len() != 1 {
            return false;
        }
        // `s.iter_mut().for_each(|[x, v]| { .. })`: the `for` loop it stands for, where the
        // closure has no `return` (which would be the loop's `continue`), arrays taken apart.
        if let Expr::Closure(cl) = chain::strip(&mc.args[0])
            && cl.inputs.len() == 1
            && !mentions_return(&cl.body)
        {
            let pat = &cl.inputs[0];
            let recv = &mc.receiver;
            let body: syn::Block = match chain::strip(&cl.body) {
                Expr::Block(bl) if bl.label.is_none() => bl.block.clone(),
                body => syn::parse_quote_spanned!(body.span()=> { #body; }),
            };
            let fl: syn::ExprForLoop =
                syn::parse_quote_spanned!(e.span()=> for #pat in #recv #body);
            if let Some(inner) = array_items_by_index(&fl) {
                self.expr(b, &Expr::ForLoop(inner), false);
                return true;
            }
        }
        // A container zipped in by mutable reference (`s.x.iter_mut().zip(s.v.iter_mut())
        // .for_each(..)`): each taken into a local, as in a `for` loop over the chain.
        let zipped = self.through_zipped_locals(&mc.receiver, e.span(), |receiver| {
            let mut inner = mc.clone();
            *inner.receiver = receiver;
            Stmt::Expr(Expr::MethodCall(inner), Some(Default::default()))
        });
        if let Some(block) = zipped {
            self.expr(b, &block, false);
            return true;
        }
        let Some(field) = iter_mut_base(&mc.receiver).and_then(|f| self.taken_container(f)) else {
            return false;
        };
        let block = through_local(&field, e.span(), |tmp| {
            let mut inner = mc.clone();
            *inner.receiver = with_iter_mut_base(&mc.receiver, tmp);
            Stmt::Expr(Expr::MethodCall(inner), Some(Default::default()))
        });
        self.expr(b, &block, false);
        true
    }
}

impl Lowering {
    /// `chain` with each container [`Self::taken_container`] names under an `iter_mut()` (the
    /// chain's own receiver and the arguments of its `zip`s, also `zip(&mut s.v)`) read
    /// through a local `__ad_fieldN` instead; `taken` gets each container, with whether it
    /// was a `zip`'s argument.
    /// Where `chain` zips in a container by mutable reference: the statement `rebuild` makes of
    /// the chain with each container taken into a local, in a block that writes them back.
    fn through_zipped_locals(
        &self,
        chain: &Expr,
        span: Span,
        rebuild: impl FnOnce(Expr) -> Stmt,
    ) -> Option<Expr> {
        let mut taken = Vec::new();
        let head = self.take_zipped_containers(chain, &mut taken);
        if !taken.iter().any(|(_, zipped)| *zipped) {
            return None;
        }
        let fields: Vec<Expr> = taken.into_iter().map(|(f, _)| f).collect();
        Some(through_locals(&fields, span, rebuild(head)))
    }

    fn take_zipped_containers(&self, chain: &Expr, taken: &mut Vec<(Expr, bool)>) -> Expr {
        self.take_containers_in(chain, false, taken)
    }

    fn take_containers_in(&self, e: &Expr, zipped: bool, taken: &mut Vec<(Expr, bool)>) -> Expr {
        let local = |field: Expr, taken: &mut Vec<(Expr, bool)>| -> Expr {
            let tmp = quote::format_ident!("__ad_field{}", taken.len(), span = field.span());
            let span = field.span();
            taken.push((field, zipped));
            syn::parse_quote_spanned!(span=> #tmp.iter_mut())
        };
        match chain::strip(e) {
            Expr::MethodCall(mc) if mc.method == "iter_mut" && mc.args.is_empty() => {
                match self.taken_container(&mc.receiver) {
                    Some(field) => local(field, taken),
                    None => e.clone(),
                }
            }
            Expr::Reference(r) if zipped && r.mutability.is_some() => {
                match self.taken_container(&r.expr) {
                    Some(field) => local(field, taken),
                    None => e.clone(),
                }
            }
            Expr::MethodCall(mc) => {
                let mut mc = mc.clone();
                *mc.receiver = self.take_containers_in(&mc.receiver, zipped, taken);
                if mc.method == "zip" && mc.args.len() == 1 {
                    let arg = self.take_containers_in(&mc.args[0], true, taken);
                    mc.args[0] = arg;
                }
                Expr::MethodCall(mc)
            }
            _ => e.clone(),
        }
    }
}

/// `{ let mut __ad_field0 = (f0).clone(); .. <body over them>; f0 = __ad_field0; .. }`: the
/// containers a loop writes through `iter_mut()` taken into locals and written back.
fn through_locals(fields: &[Expr], span: Span, body: Stmt) -> Expr {
    let tmps: Vec<_> = (0..fields.len())
        .map(|k| quote::format_ident!("__ad_field{}", k, span = fields[k].span()))
        .collect();
    syn::parse_quote_spanned! {span=>
        {
            #(let mut #tmps = (#fields).clone();)*
            #body
            #(#fields = #tmps;)*
        }
    }
}

/// The lanes of an array of more than two axes.
const LANES_OF_MATRIX: &str = "a loop over the lanes of an array by mutable reference is \
    followed on a matrix (`Array2`); for an array of more axes, loop over the indices and assign \
    each part, `a.slice_mut(s![i, .., ..]).assign(&new)`";

/// The first way out of a loop body other than its end: a `break` of the loop itself (not of a
/// loop inside) or to a label, a `return`, and with `all`, also a `continue` of the loop or to
/// a label and a `?` (not inside a closure).
#[derive(Default)]
pub(super) struct Leaving {
    all: bool,
    depth: usize,
    pub first: Option<Expr>,
}

impl Leaving {
    pub(super) fn new(all: bool) -> Self {
        Leaving {
            all,
            ..Leaving::default()
        }
    }
}

impl<'ast> syn::visit::Visit<'ast> for Leaving {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.first.is_some() {
            return;
        }
        match e {
            Expr::Break(syn::ExprBreak { label, .. }) if self.depth == 0 || label.is_some() => {
                self.first = Some(e.clone())
            }
            Expr::Continue(syn::ExprContinue { label, .. })
                if self.all && (self.depth == 0 || label.is_some()) =>
            {
                self.first = Some(e.clone())
            }
            Expr::Try(_) if self.all => self.first = Some(e.clone()),
            Expr::Return(_) => self.first = Some(e.clone()),
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.depth += 1;
                syn::visit::visit_expr(self, e);
                self.depth -= 1;
            }
            Expr::Closure(_) => {}
            _ => syn::visit::visit_expr(self, e),
        }
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// `for mut r in m.rows_mut() { body }` over a matrix `m` (a variable), as
///
/// ```text
/// for __ad_li in 0..m.nrows() { let mut r = m.row(__ad_li).to_owned(); body
///     m.row_mut(__ad_li).assign(&r); }
/// ```
///
/// — the same writes, since the loop's mutable borrow of `m` keeps the body from reading `m`
/// itself. Columns (`columns_mut()`, `axis_iter_mut(Axis(1))`) are `column`, rows also
/// `outer_iter_mut()` and `axis_iter_mut(Axis(0))`; with `.zip(xs)` the pattern `(r, x)`
/// binds `x` to the other items, `(0..m.nrows()).zip(xs)`, and with `.enumerate()` the pattern
/// `(i, r)` binds `i` to the lane's index. Beside the loop, the tokens of a check, at the call
/// of `rows_mut`, that `m` is a matrix (the lanes of an array of more axes are not its rows). A
/// `break`, `continue`, `return` or `?` in the body, which would skip the write, is an error.
/// `None` for any other loop.
fn lanes_mut_loop(
    fl: &syn::ExprForLoop,
    krate: &proc_macro2::TokenStream,
) -> Option<Result<LanesLoop, (Expr, &'static str)>> {
    const FORM: &str = "a loop over a matrix's lanes by mutable reference is followed as \
        `for mut r in m.rows_mut() { .. }` (`columns_mut()`, `outer_iter_mut()`, \
        `axis_iter_mut(Axis(0))` or `Axis(1)`; `.zip(xs)` with `(mut r, x)`, `.enumerate()` \
        with `(i, mut r)`) over a variable `m`, each lane copied, changed by the body and \
        written back; the body cannot leave early (`break`, `continue`, `return`, `?`), which \
        would skip the write: put the condition around the statements instead";
    // Adapters: `.enumerate()` outermost, then `.zip(other)`, then `.into_iter()`.
    let mut e = chain::strip(&fl.expr);
    let mut enumerate = false;
    let mut zipped = None;
    if let Expr::MethodCall(mc) = e
        && mc.method == "enumerate"
        && mc.args.is_empty()
    {
        enumerate = true;
        e = chain::strip(&mc.receiver);
    }
    if let Expr::MethodCall(mc) = e
        && mc.method == "zip"
        && mc.args.len() == 1
    {
        zipped = Some(&mc.args[0]);
        e = chain::strip(&mc.receiver);
    }
    if let Expr::MethodCall(mc) = e
        && mc.method == "into_iter"
        && mc.args.is_empty()
    {
        e = chain::strip(&mc.receiver);
    }
    let Expr::MethodCall(lanes) = e else {
        return None;
    };
    let rows = match (lanes.method.to_string().as_str(), lanes.args.len()) {
        ("rows_mut" | "outer_iter_mut", 0) => true,
        ("columns_mut", 0) => false,
        ("axis_iter_mut", 1) => match chain::strip(&lanes.args[0]) {
            Expr::Call(ax)
                if ax.args.len() == 1
                    && matches!(&*ax.func, Expr::Path(p)
                        if p.path.segments.last().is_some_and(|s| s.ident == "Axis")) =>
            {
                match chain::strip(&ax.args[0]) {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(n),
                        ..
                    }) => match n.base10_parse::<u8>() {
                        Ok(0) => true,
                        Ok(1) => false,
                        _ => return Some(Err((fl.expr.as_ref().clone(), FORM))),
                    },
                    _ => return Some(Err((fl.expr.as_ref().clone(), FORM))),
                }
            }
            _ => return Some(Err((fl.expr.as_ref().clone(), FORM))),
        },
        _ => return None,
    };
    let err = |at: &dyn ToTokens| Some(Err((syn::parse_quote!(#at), FORM)));
    let Expr::Path(m) = chain::strip(&lanes.receiver) else {
        return err(&lanes.receiver);
    };
    if m.qself.is_some() || m.path.get_ident().is_none() {
        return err(&lanes.receiver);
    }
    // The pattern: the lane's name, the index's pattern (with `enumerate`) and the other
    // item's (with `zip`).
    let pair = |p: &'_ Pat| match p {
        Pat::Tuple(t) if t.elems.len() == 2 => Some((t.elems[0].clone(), t.elems[1].clone())),
        _ => None,
    };
    let (index, lane_pat) = match enumerate {
        true => match pair(&fl.pat) {
            Some((i, rest)) => (Some(i), rest),
            None => return err(&fl.pat),
        },
        false => (None, (*fl.pat).clone()),
    };
    let (lane_pat, other) = match zipped {
        Some(_) => match pair(&lane_pat) {
            Some((l, o)) => (l, Some(o)),
            None => return err(&fl.pat),
        },
        None => (lane_pat, None),
    };
    let lane = match &lane_pat {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
        _ => return err(&fl.pat),
    };
    let lane = &lane;
    let mut jumps = Leaving::new(true);
    syn::visit::Visit::visit_block(&mut jumps, &fl.body);
    if let Some(jump) = jumps.first {
        return err(&jump);
    }
    let span = fl.span();
    let (count, read, write) = if rows {
        (quote!(nrows), quote!(row), quote!(row_mut))
    } else {
        (quote!(ncols), quote!(column), quote!(column_mut))
    };
    let i = syn::Ident::new("__ad_li", span);
    let index = index.map(|p| quote!(let #p = #i;));
    let (head, source) = match (zipped, other) {
        (Some(z), Some(o)) => (quote!((#i, #o)), quote!((0..#m.#count()).zip(#z))),
        _ => (quote!(#i), quote!(0..#m.#count())),
    };
    // The lane's items by mutable reference, `for v in row { *v = .. }`, are the copy's.
    let mut body = fl.body.clone();
    syn::visit_mut::VisitMut::visit_block_mut(&mut LaneItems { lane }, &mut body);
    let stmts = &body.stmts;
    let check =
        quote::quote_spanned!(lanes.method.span()=> #krate::__private::lanes_of_matrix(&#m));
    let block = syn::parse_quote_spanned! {span=>
        {
            for #head in #source {
                #[allow(unused_mut)]
                let mut #lane = #m.#read(#i).to_owned();
                #index
                #(#stmts)*
                #m.#write(#i).assign(&#lane);
            }
        }
    };
    let matrix = m.path.get_ident().cloned()?;
    Some(Ok(LanesLoop {
        matrix,
        check,
        block,
    }))
}

/// In the body of a loop over a matrix's lanes, a loop over the lane's items, which the view
/// lends by mutable reference, `for v in row`, made `for v in row.iter_mut()` of the lane's copy.
struct LaneItems<'a> {
    lane: &'a syn::Ident,
}

impl syn::visit_mut::VisitMut for LaneItems<'_> {
    fn visit_expr_for_loop_mut(&mut self, fl: &mut syn::ExprForLoop) {
        syn::visit_mut::visit_expr_for_loop_mut(self, fl);
        if let Expr::Path(p) = chain::strip(&fl.expr)
            && p.path.is_ident(self.lane)
        {
            let lane = self.lane;
            *fl.expr = syn::parse_quote_spanned!(fl.expr.span()=> #lane.iter_mut());
        }
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// A loop over a matrix's lanes by mutable reference, rewritten (see [`lanes_mut_loop`]).
struct LanesLoop {
    /// The matrix's variable.
    matrix: syn::Ident,
    /// The check that it is a matrix, at the call of `rows_mut`.
    check: proc_macro2::TokenStream,
    /// The loop over copies of its lanes.
    block: Expr,
}

/// `for [x, v] in s.iter_mut() { *v -= k * *x; }` (also under adapters, `for (i, [x, v]) in
/// s.iter_mut().enumerate()`) as `for __ad_item0 in s.iter_mut() { __ad_item0[1] -= k *
/// __ad_item0[0]; }`: an array pattern of names over items taken by mutable reference, whose
/// names the body reads only as `*x` or as a method's receiver (`x.sin()`). `None` where the
/// loop is not one.
fn array_items_by_index(fl: &syn::ExprForLoop) -> Option<syn::ExprForLoop> {
    use syn::visit_mut::VisitMut;
    // Items taken by mutable reference somewhere in the chain: its own `iter_mut()` or one
    // zipped in (`for (&m, [x, v]) in ms.iter().zip(s.iter_mut())`).
    fn by_mut(e: &Expr) -> bool {
        match chain::strip(e) {
            Expr::Reference(r) => r.mutability.is_some(),
            Expr::MethodCall(mc) if mc.method == "iter_mut" => true,
            Expr::MethodCall(mc) => {
                by_mut(&mc.receiver) || (mc.method == "zip" && mc.args.iter().any(by_mut))
            }
            _ => false,
        }
    }
    let by_mut = by_mut(&fl.expr);
    if !by_mut {
        return None;
    }
    // Each name of such a pattern, its item's name and the element's position.
    let mut names: Vec<(String, syn::Ident, usize)> = Vec::new();
    let mut pat = (*fl.pat).clone();
    fn replace(p: &mut Pat, names: &mut Vec<(String, syn::Ident, usize)>) -> bool {
        match p {
            Pat::Tuple(t) => t.elems.iter_mut().all(|p| replace(p, names)),
            Pat::Paren(pp) => replace(&mut pp.pat, names),
            Pat::Slice(ps) => {
                let item = quote::format_ident!("__ad_item{}", names.len(), span = ps.span());
                for (k, e) in ps.elems.iter().enumerate() {
                    match e {
                        Pat::Ident(pi)
                            if pi.by_ref.is_none()
                                && pi.mutability.is_none()
                                && pi.subpat.is_none() =>
                        {
                            names.push((pi.ident.to_string(), item.clone(), k))
                        }
                        Pat::Wild(_) => {}
                        _ => return false,
                    }
                }
                if names.iter().all(|(_, i, _)| *i != item) {
                    // `[_, _]`: nothing bound.
                    names.push((String::new(), item.clone(), 0));
                }
                *p = syn::parse_quote_spanned!(ps.span()=> #item);
                true
            }
            _ => true,
        }
    }
    if !replace(&mut pat, &mut names) || names.is_empty() {
        return None;
    }
    names.retain(|(n, ..)| !n.is_empty());
    struct Reads<'a> {
        names: &'a [(String, syn::Ident, usize)],
    }
    impl Reads<'_> {
        fn element(&self, e: &Expr) -> Option<Expr> {
            let Expr::Path(p) = e else { return None };
            let id = p.path.get_ident()?.to_string();
            let (_, item, k) = self.names.iter().find(|(n, ..)| *n == id)?;
            let k = syn::Index::from(*k);
            let k = syn::LitInt::new(&k.index.to_string(), e.span());
            Some(syn::parse_quote_spanned!(e.span()=> #item[#k]))
        }
    }
    impl VisitMut for Reads<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                    if let Some(el) = self.element(chain::strip(&u.expr)) {
                        *e = el;
                        return;
                    }
                }
                Expr::MethodCall(mc) => {
                    if let Some(el) = self.element(chain::strip(&mc.receiver)) {
                        *mc.receiver = el;
                    }
                }
                _ => {}
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    // A name bound again inside the body (`let x = ..`, a closure's `|x|`): not rewritten.
    struct Binds<'a> {
        names: &'a [(String, syn::Ident, usize)],
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Binds<'_> {
        fn visit_pat_ident(&mut self, pi: &'ast syn::PatIdent) {
            self.found |= self.names.iter().any(|(n, ..)| pi.ident == n);
            syn::visit::visit_pat_ident(self, pi);
        }
    }
    let mut binds = Binds {
        names: &names,
        found: false,
    };
    syn::visit::Visit::visit_block(&mut binds, &fl.body);
    if binds.found {
        return None;
    }
    let mut body = fl.body.clone();
    Reads { names: &names }.visit_block_mut(&mut body);
    // A name the body reads otherwise (passed on, named in a macro, shadowed): not rewritten.
    let mut left = false;
    let tokens = quote::quote!(#body);
    fn mentions(
        ts: proc_macro2::TokenStream,
        names: &[(String, syn::Ident, usize)],
        left: &mut bool,
    ) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) if names.iter().any(|(n, ..)| i == n) => {
                    *left = true
                }
                proc_macro2::TokenTree::Group(g) => mentions(g.stream(), names, left),
                _ => {}
            }
        }
    }
    mentions(tokens, &names, &mut left);
    if left {
        return None;
    }
    let mut inner = fl.clone();
    *inner.pat = pat;
    inner.body = body;
    Some(inner)
}

/// Whether `return` appears in `e` (a closure's body, whose `return` leaves the closure).
fn mentions_return(e: &Expr) -> bool {
    fn walk(ts: proc_macro2::TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "return",
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(quote::quote!(#e))
}

/// `{ let mut __ad_field = (field).clone(); <body over it>; field = __ad_field; }`: a container
/// that the loop `body` writes through `iter_mut()` taken into a local and written back.
fn through_local(field: &Expr, span: Span, body: impl FnOnce(&Expr) -> Stmt) -> Expr {
    let tmp = quote::format_ident!("__ad_field", span = field.span());
    let body = body(&syn::parse_quote_spanned!(field.span()=> #tmp));
    syn::parse_quote_spanned! {span=>
        {
            let mut #tmp = (#field).clone();
            #body
            #field = #tmp;
        }
    }
}

/// Whether a pattern binds a value through a reference (`&c`, `(i, &b)`), which the items
/// of a `Vec` the lowering goes over are not.
fn binds_by_reference(p: &Pat) -> bool {
    match p {
        Pat::Reference(_) => true,
        Pat::Tuple(t) => t.elems.iter().any(binds_by_reference),
        Pat::Paren(pp) => binds_by_reference(&pp.pat),
        Pat::Ident(pi) => pi.by_ref.is_some() || pi.subpat.is_some(),
        Pat::Wild(_) => false,
        _ => true,
    }
}

/// The receiver of the `iter_mut()` a chain of adapters starts from (`m[i]` of
/// `m[i].iter_mut().enumerate()`).
fn iter_mut_base(e: &Expr) -> Option<&Expr> {
    match chain::strip(e) {
        Expr::MethodCall(mc) if mc.method == "iter_mut" && mc.args.is_empty() => {
            Some(&*mc.receiver)
        }
        Expr::MethodCall(mc) => iter_mut_base(&mc.receiver),
        _ => None,
    }
}

/// `e` with the receiver of the `iter_mut()` it starts from replaced by `base`.
fn with_iter_mut_base(e: &Expr, base: &Expr) -> Expr {
    match chain::strip(e) {
        Expr::MethodCall(mc) if mc.method == "iter_mut" && mc.args.is_empty() => {
            let mut mc = mc.clone();
            *mc.receiver = base.clone();
            Expr::MethodCall(mc)
        }
        Expr::MethodCall(mc) => {
            let mut mc = mc.clone();
            *mc.receiver = with_iter_mut_base(&mc.receiver, base);
            Expr::MethodCall(mc)
        }
        e => e.clone(),
    }
}

/// The field a `for` loop iterates by shared reference, under `&` and the adapters that read
/// it (`&m.edges`, `m.edges.iter()`, `m.idx.iter().enumerate()`): `m.edges`.
fn iterated_field(e: &Expr) -> Option<&Expr> {
    match chain::strip(e) {
        Expr::Reference(r) if r.mutability.is_none() => iterated_field(&r.expr),
        Expr::MethodCall(mc)
            if mc.args.is_empty()
                && matches!(
                    mc.method.to_string().as_str(),
                    "iter" | "enumerate" | "copied" | "cloned" | "rev"
                ) =>
        {
            iterated_field(&mc.receiver)
        }
        f @ Expr::Field(_) => Some(f),
        _ => None,
    }
}

/// Replaces the field [`iterated_field`] finds in `e` by `items`.
fn replace_iterated_field(e: &mut Expr, items: &syn::Ident) {
    match e {
        Expr::Paren(p) => replace_iterated_field(&mut p.expr, items),
        Expr::Group(g) => replace_iterated_field(&mut g.expr, items),
        Expr::Reference(r) => replace_iterated_field(&mut r.expr, items),
        Expr::MethodCall(mc) => replace_iterated_field(&mut mc.receiver, items),
        Expr::Field(_) => *e = syn::parse_quote!(#items),
        _ => {}
    }
}
