//! Control flow: `if` and `match` as expressions and as statements, and divergence (`return`,
//! `break`, `continue`), which moves the statements after a diverging `if`/`match` into its arms.

use super::*;

impl Lowering {
    /// `return`, `break` and `continue` as statements. Returns `Some` if `e` was one.
    pub(super) fn try_jump(&mut self, b: Block, e: &Expr) -> Option<()> {
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
                        "`break` with a value is followed where the `loop`'s value is bound \
                         (`let v = loop { .. };`), assigned (`v = loop { .. };`), the value of a \
                         block, or an operand that the statement evaluates in any case, after \
                         parts that call no method but a float's (`x.sin()`) and name no \
                         variable the loop assigns (`2.0 * loop { .. }`); bind it to a variable \
                         first",
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
    pub(super) fn loop_with_return(
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
            let krate = &self.krate;
            let d = self.inst1(
                b,
                InstKind::Const(quote!(#krate::__private::returned_from_loop())),
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
    pub(super) fn diverging(&mut self, b: Block, e: &Expr, conts: &[Cont], finish: &Finish) {
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
                match ei.else_branch.as_ref().map(|(_, e)| &**e) {
                    // `else { .. }`: its statements, as the `then` block's.
                    Some(Expr::Block(bl)) if bl.label.is_none() => {
                        self.seq(els, &bl.block.stmts, conts, finish, bl.block.span())
                    }
                    // `else if ..`
                    Some(else_expr) => self.seq(
                        els,
                        std::slice::from_ref(&Stmt::Expr(else_expr.clone(), None)),
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
                // The payloads bound through a reference, as in `match_expr`.
                let by_ref = self.binds_through_reference(em);
                let option_ref = self.option_of_reference(&em.expr);
                let Some(scrutinee) = self.match_scrutinee(b, em) else {
                    return;
                };
                if self.binds_only_index_names(em.arms.iter().map(|a| &a.pat)) {
                    self.declare_discrete_result(scrutinee);
                }
                let saved = self.env.clone();
                let mut arms = Vec::new();
                for arm in &em.arms {
                    self.env = saved.clone();
                    let head = self.match_arm_head(arm, scrutinee);
                    let body = self.arm_body(arm, by_ref, option_ref.as_ref());
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
    ///
    /// A pattern that names the whole value (`v`, `v if v < 0.0`, `v @ 1..=3`) binds it to the
    /// scrutinee itself, so that a `match` on a differentiated value differentiates the arm
    /// through `v`; the emitted pattern is then `_` (or the sub-pattern) and the guard reads
    /// `v` as the scrutinee. Names bound inside a pattern are block parameters, inactive.
    pub(super) fn match_arm_head(&mut self, arm: &syn::Arm, scrutinee: Value) -> MatchArm {
        let block = self.f.new_block();
        let (mut pat, guard) = match &arm.pat {
            Pat::Guard(g) => ((*g.pat).clone(), Some(&*g.guard)),
            p => (p.clone(), None),
        };
        // As in `collect_pat_bindings`, a lone capitalised name is a unit variant or constant.
        if let Pat::Ident(pi) = &pat
            && pi.by_ref.is_none()
            && (pi.subpat.is_some()
                || !pi.ident.to_string().starts_with(|c: char| c.is_uppercase()))
        {
            self.bind(pi.ident.to_string(), Some(scrutinee));
            pat = match &pi.subpat {
                Some((_, sub)) => (**sub).clone(),
                None => Pat::Wild(syn::PatWild {
                    attrs: Vec::new(),
                    underscore_token: Default::default(),
                }),
            };
        }
        let mut bindings = Vec::new();
        collect_pat_bindings(&pat, &mut bindings);
        let (guard_tokens, guard_uses) = match guard {
            Some(g) => {
                let t = g.to_token_stream();
                // The names the pattern binds are the pattern's, not the enclosing function's.
                let uses: Vec<(syn::Ident, Value)> = self
                    .free_uses(None, &t)
                    .into_iter()
                    .filter(|(id, _)| !bindings.contains(id))
                    .collect();
                // A name that is a reference in Rust (`x` of `for x in xs`, read `*x > c`) is
                // one in the guard too.
                let mut refs = TokenStream::new();
                for (id, _) in &uses {
                    let n = self.lookup(&id.to_string()).map_or(0, |s| self.env[s].refs);
                    let amps = (0..n).map(|_| quote!(&));
                    if n > 0 {
                        refs.extend(quote!(let #id = #(#amps)* #id;));
                    }
                }
                (Some(quote!(#refs #t)), uses)
            }
            None => (None, Vec::new()),
        };
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

    pub(super) fn if_expr(&mut self, b: Block, ei: &syn::ExprIf, want: bool) -> Option<Value> {
        let cond = self.expr(b, &ei.cond, true)?;
        let slots = self.assigned_slots(|v| {
            v.visit_block(&ei.then_branch);
            if let Some((_, e)) = &ei.else_branch {
                v.visit_expr(e);
            }
        });
        self.clear_data_assigned(|v| {
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
        let parts = if want {
            self.split_tuple_yields(&[then, els], slots.len())
        } else {
            1
        };
        let n = slots.len() + usize::from(want) * parts;
        let i = self.f.push_inst(
            b,
            InstKind::If { cond, then, els },
            n,
            Kind::Unknown,
            ei.span(),
        );
        self.merge_split(b, i, &slots, want, parts, &[then, els], ei.span())
    }

    /// Where every arm that yields a value yields a tuple it builds (`(i, v)`) of the same
    /// length `k ≥ 2`, the arms yield its elements instead, and `k` is returned (else 1). The
    /// `if`'s value is then put together after it: a tuple of an index and a float (an argmax
    /// carried by hand or by `fold`) has results of their own types, where one result of
    /// tuple type would have been differentiable as a whole, index included.
    fn split_tuple_yields(&mut self, arms: &[Block], slots: usize) -> usize {
        let mut k = None;
        for &arm in arms {
            let Term::Yield(vals) = &self.f.block(arm).term else {
                continue;
            };
            let Some(&last) = vals.get(slots) else {
                return 1;
            };
            let ValueDef::Result(ti, 0) = self.f.value(last).def else {
                return 1;
            };
            let InstKind::Tuple(elems) = &self.f.inst(ti).kind else {
                return 1;
            };
            if elems.len() < 2 || k.is_some_and(|k| k != elems.len()) {
                return 1;
            }
            k = Some(elems.len());
        }
        let Some(k) = k else { return 1 };
        for &arm in arms {
            let Term::Yield(vals) = self.f.block(arm).term.clone() else {
                continue;
            };
            let ValueDef::Result(ti, 0) = self.f.value(vals[slots]).def else {
                unreachable!("checked above");
            };
            let InstKind::Tuple(elems) = self.f.inst(ti).kind.clone() else {
                unreachable!("checked above");
            };
            let mut split = vals[..slots].to_vec();
            split.extend(elems);
            self.f.block_mut(arm).term = Term::Yield(split);
        }
        k
    }

    /// [`Self::merge_results`], with the value of `parts > 1` results put together as a tuple.
    #[allow(clippy::too_many_arguments)]
    fn merge_split(
        &mut self,
        b: Block,
        i: Inst,
        slots: &[usize],
        want: bool,
        parts: usize,
        arms: &[Block],
        span: Span,
    ) -> Option<Value> {
        let last = self.merge_results(i, slots, want, arms);
        if parts == 1 {
            return last;
        }
        let results = self.f.inst(i).results.clone();
        let elems = results[slots.len()..].to_vec();
        let kind = elems
            .iter()
            .fold(Kind::Discrete, |k, &v| k.join(self.kind(v)));
        Some(self.inst1(b, InstKind::Tuple(elems), kind, span))
    }

    /// After an `if`/`match` instruction: its results become the variables' new values.
    pub(super) fn merge_results(
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

    pub(super) fn match_expr(
        &mut self,
        b: Block,
        em: &syn::ExprMatch,
        want: bool,
    ) -> Option<Value> {
        let scrutinee = self.match_scrutinee(b, em)?;
        // `if let Some(i) = find(xs, t)` (or a `match`) of a plain helper, every name the arms
        // bind an index: the call is data, as `let i = locate(xs, t);` is.
        if self.binds_only_index_names(em.arms.iter().map(|a| &a.pat)) {
            self.declare_discrete_result(scrutinee);
        }
        let slots = self.assigned_slots(|v| {
            for arm in &em.arms {
                v.visit_expr(&arm.body);
            }
        });
        self.clear_data_assigned(|v| {
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
        let by_ref = self.binds_through_reference(em);
        let option_ref = self.option_of_reference(&em.expr);
        for arm in &em.arms {
            self.env = saved.clone();
            let head = self.match_arm_head(arm, scrutinee);
            let body = self.arm_body(arm, by_ref, option_ref.as_ref());
            self.seq(head.block, &body, &[], &finish, arm.body.span());
            arms.push(head);
        }
        self.env = saved;
        let blocks: Vec<Block> = arms.iter().map(|a| a.block).collect();
        let parts = if want {
            self.split_tuple_yields(&blocks, slots.len())
        } else {
            1
        };
        let n = slots.len() + usize::from(want) * parts;
        let i = self.f.push_inst(
            b,
            InstKind::Match { scrutinee, arms },
            n,
            Kind::Unknown,
            em.span(),
        );
        self.merge_split(b, i, &slots, want, parts, &blocks, em.span())
    }
}

impl Lowering {
    /// The scrutinee of `em`, lowered. `if let Some(y) = obs` of `for obs in ys` over
    /// `&[Option<f64>]`: `obs` is a reference in Rust and the element's value here, so the
    /// match is made on a reference to it, which binds `y` as Rust does (`&f64`, read as the
    /// value, see `bound_payloads`), and a guard or a pattern written for the reference (`Some(y)
    /// if *y > 0.0`, `Some(&y)`) reads the same. A pattern that names the whole value binds the
    /// scrutinee itself, which stays the value.
    fn match_scrutinee(&mut self, b: Block, em: &syn::ExprMatch) -> Option<Value> {
        let item_ref = self.item_reference_match(em);
        let scrutinee = self.expr(b, &em.expr, true)?;
        if !item_ref {
            return Some(scrutinee);
        }
        let k = self.kind(scrutinee);
        Some(self.inst1(b, InstKind::Ref(scrutinee), k, em.expr.span()))
    }

    /// The statements of an arm's body, after those that read the payloads it binds through a
    /// reference as their values.
    fn arm_body(
        &mut self,
        arm: &syn::Arm,
        by_ref: bool,
        option_ref: Option<&syn::Type>,
    ) -> Vec<Stmt> {
        let mut body = arm_body_stmts(&arm.body);
        if by_ref {
            body.splice(0..0, self.bound_payloads(arm));
        }
        if let Some(elem) = option_ref {
            body.splice(0..0, self.option_payload(arm, elem));
        }
        body
    }

    /// Whether the scrutinee of `em` names a variable that is a reference in Rust and holds the
    /// value here (the item of `for obs in ys`, see `Binding::refs`), and no arm binds the
    /// whole value.
    fn item_reference_match(&self, em: &syn::ExprMatch) -> bool {
        let Expr::Path(p) = &*em.expr else {
            return false;
        };
        p.path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
            .is_some_and(|slot| self.env[slot].refs > 0 && self.env[slot].value.is_some())
            && !em.arms.iter().any(|a| {
                let p = match &a.pat {
                    Pat::Guard(g) => &*g.pat,
                    p => p,
                };
                // As in `match_arm_head`: a capitalised name is a unit variant or a constant.
                matches!(p, Pat::Ident(pi)
                    if pi.subpat.is_some()
                        || !pi.ident.to_string().starts_with(|c: char| c.is_uppercase()))
            })
    }

    /// Whether the names the arms of `em` bind inside a pattern are references in Rust, read
    /// as their values here (see `bound_payloads`): `Some(y)` of a loop's item, of a
    /// parameter `&Option<f64>` or `&Mode`, or of `&ys[i]`.
    pub(super) fn binds_through_reference(&self, em: &syn::ExprMatch) -> bool {
        self.item_reference_match(em)
            || self.matched_through_reference(&em.expr)
            || matches!(&*em.expr, Expr::Reference(r) if r.mutability.is_none())
    }

    /// Whether `e` is a parameter declared `&T` of a type of the user's (`m: &Mode`) or an
    /// `Option` (`m: &Option<f64>`): a match on it binds the payloads by reference
    /// (`Mode::Damp(c)` makes `c` a `&f64`).
    fn matched_through_reference(&self, e: &Expr) -> bool {
        let Expr::Path(p) = e else {
            return false;
        };
        let Some(id) = p.path.get_ident() else {
            return false;
        };
        let Some(v) = self.lookup(&id.to_string()).and_then(|k| self.env[k].value) else {
            return false;
        };
        let ValueDef::Param(n) = self.f.value(v).def else {
            return false;
        };
        let syn::Type::Reference(r) = &self.f.params[n].ty else {
            return false;
        };
        r.mutability.is_none()
            && matches!(&*r.elem, syn::Type::Path(tp)
                if tp.qself.is_none()
                    && (tp.path.segments.iter().all(|s| s.arguments.is_none())
                        || tp.path.segments.last().is_some_and(|s| s.ident == "Option"))
                    && !crate::types::is_float_type(&r.elem))
    }

    /// The `T` of a parameter declared `Option<&T>` (`weights: Option<&Array1<f64>>`) that `e`
    /// names, where `T` is a float or an ndarray array: `Some(w)` binds a reference, which the
    /// rules do not take where they take the value (`&l * w`).
    fn option_of_reference(&self, e: &Expr) -> Option<syn::Type> {
        let Expr::Path(p) = e else {
            return None;
        };
        let id = p.path.get_ident()?;
        let v = self
            .lookup(&id.to_string())
            .and_then(|k| self.env[k].value)?;
        let ValueDef::Param(n) = self.f.value(v).def else {
            return None;
        };
        let syn::Type::Path(tp) = &self.f.params[n].ty else {
            return None;
        };
        let seg = tp.path.segments.last()?;
        if seg.ident != "Option" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(a) = &seg.arguments else {
            return None;
        };
        let Some(syn::GenericArgument::Type(syn::Type::Reference(r))) = a.args.first() else {
            return None;
        };
        (r.mutability.is_none()
            && (crate::types::is_scalar_float(&r.elem) || crate::types::is_ndarray(&r.elem)))
        .then(|| (*r.elem).clone())
    }

    /// `let w = *w;` (a float) or `let w = w.to_owned();` (an array) for the name `Some(w)`
    /// binds in an arm of a match on an `Option<&T>` parameter (see
    /// [`Self::option_of_reference`]): the value, as arithmetic takes it. The array is copied
    /// once per call.
    fn option_payload(&self, arm: &syn::Arm, elem: &syn::Type) -> Vec<Stmt> {
        let pat = match &arm.pat {
            Pat::Guard(g) => &*g.pat,
            p => p,
        };
        let Pat::TupleStruct(ts) = pat else {
            return Vec::new();
        };
        let Some(Pat::Ident(pi)) = ts.elems.first() else {
            return Vec::new();
        };
        if !ts.path.is_ident("Some") || ts.elems.len() != 1 || pi.by_ref.is_some() {
            return Vec::new();
        }
        let n = &pi.ident;
        if crate::types::is_scalar_float(elem) {
            let krate = &self.krate;
            vec![syn::parse_quote!(let #n = #krate::__private::bound_payload!(#n);)]
        } else {
            vec![syn::parse_quote!(let #n = #n.to_owned();)]
        }
    }

    /// `let c = bound_payload!(c);` for each name the arm's pattern binds through a reference:
    /// a float payload is then the float, as arithmetic needs it (`x * c`). Not for arms whose
    /// pattern takes the reference apart itself (`&Mode::Damp(c)`). (`*c` of a name a pattern
    /// binds is an error of its own, see `lower::expr`.)
    fn bound_payloads(&self, arm: &syn::Arm) -> Vec<Stmt> {
        struct Refs(bool);
        impl<'ast> Visit<'ast> for Refs {
            fn visit_pat_reference(&mut self, _: &'ast syn::PatReference) {
                self.0 = true;
            }
        }
        let mut refs = Refs(false);
        refs.visit_pat(&arm.pat);
        if refs.0 {
            return Vec::new();
        }
        let pat = match &arm.pat {
            Pat::Guard(g) => &*g.pat,
            p => p,
        };
        let mut names = Vec::new();
        super::syntax::collect_pat_bindings(pat, &mut names);
        let krate = &self.krate;
        names
            .into_iter()
            .map(|n| syn::parse_quote!(let #n = #krate::__private::bound_payload!(#n);))
            .collect()
    }
}

/// A match arm's body as statements.
pub(super) fn arm_body_stmts(body: &Expr) -> Vec<Stmt> {
    match body {
        Expr::Block(bl) if bl.label.is_none() => bl.block.stmts.clone(),
        e => vec![Stmt::Expr(e.clone(), None)],
    }
}

/// Finds jumps in a piece of code: `return`s, and `break`/`continue`s that leave it (not
/// those of a loop inside it). Closures and nested items are not looked into.
pub(super) struct Jumps {
    depth: usize,
    pub(super) returns: bool,
    /// A `break` or `continue` that leaves.
    leaves: bool,
    /// A `break` that leaves.
    breaks: bool,
}

impl Jumps {
    pub(super) fn in_expr(e: &Expr) -> Self {
        let mut j = Jumps {
            depth: 0,
            returns: false,
            leaves: false,
            breaks: false,
        };
        j.visit_expr(e);
        j
    }

    pub(super) fn in_block(b: &syn::Block) -> Self {
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

pub(super) fn diverges_block(b: &syn::Block) -> bool {
    let j = Jumps::in_block(b);
    j.returns || j.leaves
}

/// Whether a loop body can leave the loop: a `break` of its own or a `return`.
pub(super) fn contains_break(b: &syn::Block) -> bool {
    diverges_block(b)
}

/// Whether a loop body has a `break` of its own (not one of a nested loop).
pub(super) fn breaks_itself(body: &syn::Block) -> bool {
    Jumps::in_block(body).breaks
}

/// Whether a loop contains a `return`.
pub(super) fn contains_return(e: &Expr) -> bool {
    Jumps::in_expr(e).returns
}
