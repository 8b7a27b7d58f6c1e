//! Loops: `for` over ranges and slices, `while`, `loop`, with the variables they assign
//! carried from one iteration to the next.

use super::*;

impl Lowering {
    /// Sets up a loop body block whose parameters carry the variables the loop assigns.
    pub(super) fn loop_header(&mut self, body_syn: &syn::Block) -> LoopHeader {
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

    pub(super) fn bind_carried(&mut self, body: Block, slots: &[usize], init: &[Value]) {
        for (&slot, &v) in slots.iter().zip(init) {
            let kind = self.kind(v);
            let name = self.env[slot].name.clone();
            let p = self.f.add_block_param(body, Some(name), kind);
            self.env[slot].value = Some(p);
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
        self.env = saved;
        let i = self.f.push_inst(
            b,
            InstKind::Loop { kind, init, body },
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
    pub(super) fn slice_loop(
        &mut self,
        b: Block,
        fl: &syn::ExprForLoop,
        base: &Expr,
        enumerate: bool,
    ) {
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
    pub(super) fn sum_elements(&mut self, b: Block, base: Value, span: Span) -> Value {
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
            },
            1,
            kind,
            span,
        );
        let r = self.f.inst(i).results[0];
        self.f.values[r.index()].name = Some("sum".into());
        r
    }

    pub(super) fn while_loop(&mut self, b: Block, w: &syn::ExprWhile) {
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

    pub(super) fn loop_loop(&mut self, b: Block, l: &syn::ExprLoop) {
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

/// `x`, `x.iter()`, `x.iter().enumerate()`: (x, enumerate).
pub(super) fn parse_slice_iter(e: &Expr) -> Option<(&Expr, bool)> {
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
