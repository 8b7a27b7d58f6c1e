//! Statements and bindings: statement sequences and how they end, `let` patterns, assignments
//! to variables and to elements of local arrays.

use super::*;

impl Lowering {
    // ---------------------------------------------------------------- statement sequences

    /// Lowers `stmts` into block `b`, then the continuations, then `finish`.
    pub(super) fn seq(
        &mut self,
        b: Block,
        stmts: &[Stmt],
        conts: &[Cont],
        finish: &Finish,
        span: Span,
    ) {
        let scope = self.env.len();
        let mut tail: Option<Value> = None;
        let mut tail_span = span;
        let want_tail = wants_tail(conts, finish);
        for (i, stmt) in stmts.iter().enumerate() {
            let is_last = i + 1 == stmts.len();
            let rest = &stmts[i + 1..];
            let mark = self.unfollowed_enter();
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
                    // An `if` or a `match` that may leave, and a block statement that may (`{
                    // let t = ..; if t > c { break; } s += t; }` in a loop, also what `if let
                    // Some(p) = prev { .. }` of a local `Option<f64>` becomes, its statements
                    // in a scope of their own): then the rest, in each arm that goes on.
                    let leaving = leaving_block(e);
                    if leaving.is_some() || matches!(e, Expr::If(_) | Expr::Match(_)) && diverges(e)
                    {
                        let mut all: Vec<Cont> = conts.iter().map(Cont::clone_ref).collect();
                        all.push(Cont {
                            stmts: rest,
                            bind: None,
                            tail_through: is_tail,
                            scope_len: self.env.len(),
                            refs: 0,
                        });
                        match leaving {
                            Some(bl) => self.seq(b, &bl.stmts, &all, finish, bl.span()),
                            None => self.diverging(b, e, &all, finish),
                        }
                        self.env.truncate(scope);
                        return;
                    }
                    if semi.is_some() && self.field_for_each(b, e) {
                        self.unfollowed_leave(mark, stmt);
                        continue;
                    }
                    let v = self.expr(b, e, is_tail && want_tail);
                    if semi.is_some() {
                        self.note_discarded(e, v);
                    }
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
                        if let Expr::Closure(cl) = e {
                            self.define_closure(&local.pat, cl);
                            continue;
                        }
                        // A value that may leave: an `if`, a `match`, or a block (`let y = {
                        // let t = ..; if t > c { return r; } t * 2.0 };`, its statements in a
                        // scope of their own), its value bound to the pattern, then the rest.
                        let leaving = leaving_block(e);
                        if leaving.is_some()
                            || matches!(e, Expr::If(_) | Expr::Match(_)) && diverges(e)
                        {
                            let mut all: Vec<Cont> = conts.iter().map(Cont::clone_ref).collect();
                            all.push(Cont {
                                stmts: rest,
                                bind: Some(&local.pat),
                                tail_through: false,
                                scope_len: self.env.len(),
                                refs: u8::from(self.payload_let(&local.pat, e)),
                            });
                            match leaving {
                                Some(bl) => self.seq(b, &bl.stmts, &all, finish, bl.span()),
                                None => self.diverging(b, e, &all, finish),
                            }
                            self.env.truncate(scope);
                            return;
                        }
                        if self.mut_view_bound(e) {
                            // The names it binds hold a placeholder, which checks nothing more.
                            let p =
                                self.inst1(b, InstKind::Const(quote!(())), Kind::Unknown, e.span());
                            self.poisoned.push(p);
                            self.bind_let(b, &local.pat, e, Some(p));
                            continue;
                        }
                        let cast = typed_let(&local.pat, e);
                        let e = cast.as_ref().unwrap_or(e);
                        let first = self.f.insts.len();
                        // `let d: C = a.scale(c) - b.scale(s);`: the arithmetic is the declared
                        // struct's (see `Lowering::expected_struct`).
                        if let Pat::Type(pt) = &local.pat {
                            self.expect_struct(e, self.user_struct(&pt.ty));
                        }
                        let v = self.expr(b, e, true);
                        if matches!(&local.pat, Pat::Ident(pi) if copied::is_copy(&pi.ident.to_string()))
                        {
                            let made = (first..self.f.insts.len()).map(|n| Inst(n as u32));
                            self.f.copy_ins.extend(made);
                        }
                        if matches!(local.pat, Pat::Wild(_)) {
                            self.note_discarded(e, v);
                        }
                        self.bind_let(b, &local.pat, e, v);
                        self.note_binding(&local.pat, e);
                    } else {
                        self.declare_uninit(&local.pat);
                    }
                }
                Stmt::Macro(m) => {
                    self.opaque_macro(b, &m.mac, false, m.span());
                }
                Stmt::Item(item) => self.item_error(item),
            }
            self.unfollowed_leave(mark, stmt);
        }
        self.env.truncate(scope);
        self.finish_with(b, tail, tail_span, conts, finish);
    }

    /// Applies the continuations, innermost first, then `finish`.
    pub(super) fn finish_with(
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
                if last.refs > 0
                    && let Some(l) = self.env.last_mut()
                {
                    l.refs = last.refs;
                }
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
                    // Without a return type, the signature's error says to add one.
                    if !self.unit_fn {
                        self.err(
                            span,
                            "a differentiated function must end with the value it returns",
                        );
                    }
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

    // ---------------------------------------------------------------- bindings

    pub(super) fn declare_uninit(&mut self, pat: &Pat) {
        match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                self.bind_mut(pi.ident.to_string(), None, pi.mutability.is_some());
            }
            Pat::Type(pt) => {
                self.declare_uninit(&pt.pat);
                self.declare_float(&pt.pat, &pt.ty);
            }
            // `let (r0, r1, r2);`, each assigned later.
            Pat::Tuple(pt) => pt.elems.iter().for_each(|p| self.declare_uninit(p)),
            Pat::Paren(pp) => self.declare_uninit(&pp.pat),
            Pat::Wild(_) => {}
            _ => self.err_at(
                &pat,
                "this pattern is not supported in `let`; use a name or a tuple of names",
            ),
        }
    }

    /// `let (lo, hi) = b.split_at_mut(k);`, `let r = b.as_mut_slice();`, `let mut row =
    /// a.row_mut(i);`: a mutable view of a container held in a local (one that holds only data
    /// where it is viewed may be given differentiated values through the view).
    /// Writes through it ran as written: the values were right and the derivative did not see
    /// them (a gradient of 0), or rustc rejected the generated code. An error, with the forms
    /// that are followed. (`get_mut`, `first_mut` and `last_mut` are followed as the element;
    /// `iter_mut` is an iterator followed where it is used.)
    fn mut_view_bound(&mut self, init: &Expr) -> bool {
        let mut e = chain::strip(init);
        loop {
            e = match e {
                Expr::Try(t) => chain::strip(&t.expr),
                Expr::MethodCall(mc) if mc.method == "unwrap" || mc.method == "expect" => {
                    chain::strip(&mc.receiver)
                }
                _ => break,
            };
        }
        let Expr::MethodCall(mc) = e else {
            return false;
        };
        let name = mc.method.to_string();
        if !super::syntax::lends_mutably(&name)
            || matches!(
                name.as_str(),
                "get_mut" | "first_mut" | "last_mut" | "iter_mut"
            )
        {
            return false;
        }
        let mut root = chain::strip(&mc.receiver);
        while let Expr::Field(syn::ExprField { base: f, .. })
        | Expr::Index(syn::ExprIndex { expr: f, .. }) = root
        {
            root = chain::strip(f);
        }
        let Expr::Path(p) = root else { return false };
        let Some(id) = p.path.get_ident() else {
            return false;
        };
        if self.lookup(&id.to_string()).is_none() {
            return false;
        }
        self.err(
            mc.method.span(),
            format!(
                "a mutable view of `{id}` (`{name}`) held in a local is written behind the \
                 derivative's back; write to `{id}` where it is used (`{id}[i] = ..`, \
                 `{id}.row_mut(i).assign(&r)`, `{id}.slice_mut(s![..]).assign(&r)`), or loop \
                 over its parts (`for part in {id}.chunks_mut(k) {{ part[j] = .. }}`)"
            ),
        );
        true
    }

    /// `let pat = init;` with `v` the value of `init`. A name bound to an element read through a
    /// reference (`let l = v.last().unwrap();`) is a reference in Rust: `*l` is its value.
    /// `let y = match obs { Some(y) => y, _ => continue };` (what `let Some(y) = obs else {
    /// continue };` stands for) of a `match` whose payloads are references in Rust, read as
    /// their values here (`for obs in ys` over `&[Option<f64>]`, see
    /// `binds_through_reference`): `y` is an `&f64` in Rust, `*y` its value.
    pub(super) fn payload_let(&self, pat: &Pat, init: &Expr) -> bool {
        let Pat::Ident(pi) = pat else {
            return false;
        };
        let Expr::Match(m) = chain::strip(init) else {
            return false;
        };
        pi.by_ref.is_none()
            && self.binds_through_reference(m)
            && m.arms.iter().any(|a| {
                let mut names = Vec::new();
                super::syntax::collect_pat_bindings(&a.pat, &mut names);
                matches!(&*a.body, Expr::Path(p)
                    if p.path.get_ident().is_some_and(|id| names.contains(id)))
            })
    }

    pub(super) fn bind_let(&mut self, b: Block, pat: &Pat, init: &Expr, v: Option<Value>) {
        if let Some(v) = v {
            self.discrete_field_of_call(pat, init, v);
        }
        // `let mut best = &x[0];`, a reference to an element that the body points elsewhere
        // (`best = v;` of an item of `x.iter()`, `best = &x[i];`): the variable holds the
        // element, as a loop's item does, so that it is compared with items and carried by
        // loops as the float it refers to (`*best` reads it, `best * t` is the float's).
        if let Pat::Ident(pi) = pat
            && pi.mutability.is_some()
            && pi.by_ref.is_none()
            && pi.subpat.is_none()
            && matches!(super::chain::strip(init), Expr::Reference(r) if r.mutability.is_none())
            && let Some(x) = v.and_then(|v| self.element_referred(v))
        {
            self.bind_mut(pi.ident.to_string(), Some(x), true);
            if let Some(last) = self.env.last_mut() {
                last.element = true;
                last.refs = 1;
            }
            return;
        }
        let cell = self.cell_named(init);
        self.bind_pat(b, pat, v, init.span());
        // `let q = p;` of a cell `p` (`for p in v.iter_mut()`): `q` is the same `&mut`, and
        // writes through it (`*q = ..`, `q.x = ..`) reach the container.
        if let (Pat::Ident(_), Some(c)) = (pat, cell) {
            if let Some(last) = self.env.last_mut() {
                last.cell = Some(c);
            }
        }
        if self.payload_let(pat, init)
            && let Some(last) = self.env.last_mut()
        {
            last.refs = 1;
        }
        if matches!(pat, Pat::Ident(_)) && cells::accessor_refs(init) > 0 {
            if let Some(last) = self.env.last_mut() {
                last.refs = 1;
            }
        }
        // `let closest = pts.iter().min_by(..).unwrap();` binds a reference to the best item.
        let best = v.and_then(|v| self.best_refs.iter().find(|(w, _)| *w == v));
        if let (Pat::Ident(_), Some(&(_, refs)), true) = (pat, best, is_best_unwrap(init)) {
            if let Some(last) = self.env.last_mut() {
                last.refs = refs;
            }
        }
    }

    /// `x` of `v = &x` where `x` is an element read (`&x[i]`) that is not a container: a float
    /// or another value read whole.
    fn element_referred(&self, v: Value) -> Option<Value> {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return None;
        };
        let InstKind::Ref(x) = self.f.inst(i).kind else {
            return None;
        };
        let ValueDef::Result(j, 0) = self.f.value(x).def else {
            return None;
        };
        (matches!(self.f.inst(j).kind, InstKind::Index(..)) && !self.may_be_container(x))
            .then_some(x)
    }

    pub(super) fn bind_pat(&mut self, b: Block, pat: &Pat, v: Option<Value>, span: Span) {
        match pat {
            Pat::Ident(pi) => {
                if pi.by_ref.is_some() || pi.subpat.is_some() {
                    self.err_at(&pat, "`ref` and `@` patterns are not supported here");
                    return;
                }
                if v.is_none() {
                    self.err(span, "this expression has no value to bind");
                }
                let name = pi.ident.to_string();
                if let Some(v) = v.filter(|_| self.is_index_binding(&pi.ident)) {
                    self.declare_discrete_result(v);
                }
                self.bind_mut(name, v, pi.mutability.is_some());
            }
            Pat::Type(pt) => {
                let v = v.map(|v| {
                    let kind = if crate::types::is_inactive_type(&pt.ty) {
                        self.declare_discrete_result(v);
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
                            ty: values_not_refs(&pt.ty),
                        },
                        kind,
                        pt.span(),
                    )
                });
                self.bind_pat(b, &pt.pat, v, span);
                self.declare_float(&pt.pat, &pt.ty);
            }
            Pat::Tuple(pt) => {
                let Some(v) = v else {
                    self.err(span, "this expression has no value to destructure");
                    return;
                };
                // `let (lo, hi) = bracket(xs, t);` of a plain helper, every name an index: the
                // call is data, as `let i = locate(xs, t);` is.
                if self.binds_only_index_names([pat]) {
                    self.declare_discrete_result(v);
                }
                for (n, p) in pt.elems.iter().enumerate() {
                    let field = self.field(b, v, n as u32, p.span());
                    self.bind_pat(b, p, Some(field), span);
                }
            }
            Pat::Paren(pp) => self.bind_pat(b, &pp.pat, v, span),
            // `let (i, &v) = ..` of an element reference: the element's value.
            Pat::Reference(r) if r.mutability.is_none() => {
                let v = v.map(|v| self.referent(v));
                self.bind_pat(b, &r.pat, v, span)
            }
            Pat::Wild(_) => {}
            // `let [a, b, c] = arr;`: each name an element read.
            Pat::Slice(ps) if !ps.elems.iter().any(|p| matches!(p, Pat::Rest(_))) => {
                let Some(v) = v else {
                    self.err(span, "this expression has no value to destructure");
                    return;
                };
                for (n, p) in ps.elems.iter().enumerate() {
                    if matches!(p, Pat::Wild(_)) {
                        continue;
                    }
                    let e = self.element_at(b, v, n, p.span());
                    self.bind_pat(b, p, Some(e), span);
                }
            }
            _ => self.err_at(
                &pat,
                "this pattern is not supported in `let`; use a name, `_`, a tuple of them, or \
                 an array of them (`let [a, b] = arr;`, also with a rest, `let [first, .., \
                 last] = arr;`, of a variable: bind the value to one first)",
            ),
        }
    }

    /// What a `&name` pattern binds of `v`: the value itself where `v` is a reference the
    /// lowering made (`&x[0]` of `let (&first, rest) = x.split_first().unwrap();`, `let &m =
    /// &t;`), else `v` (the items of a chain are values already). Bound to the reference, the
    /// name was a `&f64` where the source has an `f64`, and a branch or a loop that joins it
    /// with a float (`if c { first } else { 0.0 }`, `let mut q = first;` assigned in a loop)
    /// did not compile.
    fn referent(&self, v: Value) -> Value {
        if let ValueDef::Result(i, 0) = self.f.value(v).def
            && let InstKind::Ref(x) = self.f.inst(i).kind
        {
            return x;
        }
        v
    }

    /// A call's result that the source declares (`let i: usize = locate(xs, t);`) or uses (an
    /// index, `ys[i]`) as an integer: the call is data, run as written, even where a
    /// differentiated value is among its arguments. The macro cannot see a plain helper's
    /// signature, and would otherwise ask for its derivative. An integer taken out of the
    /// `Option` a helper returns (`find(xs, t).unwrap_or(n)`, `.unwrap()`, `.expect(..)`) makes
    /// that `Option` data too, and so does the type written on a pattern that takes a tuple
    /// apart (`let (i, _): (usize, f64) = argmin(xs);`) for the value it ascribes.
    pub(super) fn declare_discrete_result(&mut self, v: Value) {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return;
        };
        if self.f.inst(i).results.len() != 1 || self.kind(v) != Kind::Unknown {
            return;
        }
        let source = match &self.f.inst(i).kind {
            InstKind::Call { .. } => None,
            InstKind::Method { name, recv, .. } => matches!(
                name.to_string().as_str(),
                "unwrap" | "expect" | "unwrap_or" | "unwrap_or_default" | "unwrap_or_else"
            )
            .then_some(*recv),
            InstKind::Ascribe { value, .. } => Some(*value),
            // A field of a parameter struct, whose type the macro does not see (`if let Some(r)
            // = g.root` of an `Option<usize>`, `r` an index): data, as a field read for an
            // index is.
            InstKind::FieldRef(..) => None,
            InstKind::Deref(x) => Some(*x),
            _ => return,
        };
        self.f.values[v.index()].kind = Kind::Discrete;
        if let Some(source) = source {
            self.declare_discrete_result(source);
        }
    }

    /// `let i = argmin(xs).0;` (or `let i: usize = ..`) with `i` an integer (see
    /// [`Self::declare_discrete_result`]): a field of a call's tuple that nothing else reads
    /// (the call is written here, not bound to a name), so the call is data.
    fn discrete_field_of_call(&mut self, pat: &Pat, init: &Expr, v: Value) {
        let Expr::Field(fe) = chain::strip(init) else {
            return;
        };
        if !matches!(fe.member, syn::Member::Unnamed(_))
            || !matches!(chain::strip(&fe.base), Expr::Call(_) | Expr::MethodCall(_))
        {
            return;
        }
        let integer = match pat {
            Pat::Ident(pi) => self.is_index_binding(&pi.ident),
            Pat::Type(pt) => crate::types::is_inactive_type(&pt.ty),
            _ => false,
        };
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return;
        };
        let InstKind::Field(call, _) = self.f.inst(i).kind else {
            return;
        };
        if integer && self.kind(v) == Kind::Unknown {
            self.declare_discrete_result(call);
            if self.kind(call) == Kind::Discrete {
                self.f.values[v.index()].kind = Kind::Discrete;
            }
        }
    }

    /// Whether the patterns bind at least one name and every name they bind is one the body
    /// uses as an integer (see `syntax::index_names`): `let (lo, hi) = bracket(xs, t);` or
    /// `if let Some(i) = find(xs, t)` with `ys[lo]`, `ys[i + 1]`. What such a pattern takes
    /// apart is integers (and parts left out with `_`), so it holds no derivative.
    pub(super) fn binds_only_index_names<'p>(
        &self,
        pats: impl IntoIterator<Item = &'p Pat>,
    ) -> bool {
        // A capitalised name is a unit variant or a constant (`None`), not a binding.
        let bound: Vec<syn::Ident> = pats
            .into_iter()
            .flat_map(super::syntax::pattern_idents)
            .collect();
        !bound.is_empty() && bound.iter().all(|id| self.is_index_binding(id))
    }

    /// Whether the binding `id` holds an integer: its name is bound once and used as one, or
    /// this binding itself is read as one (see `syntax::index_names` and
    /// `syntax::index_sites`).
    pub(super) fn is_index_binding(&self, id: &syn::Ident) -> bool {
        self.index_names.contains(&id.to_string())
            || self.index_sites.contains(&super::syntax::site_key(id))
    }

    /// `v[n]` for a constant `n`: an element an array pattern binds (`let [a, b] = arr;`,
    /// `for &[l, r] in rows`).
    pub(super) fn element_at(&mut self, b: Block, v: Value, n: usize, span: Span) -> Value {
        let k = proc_macro2::Literal::usize_suffixed(n);
        let idx = self.inst1(b, InstKind::Const(quote!(#k)), Kind::Discrete, span);
        let kind = match self.kind(v) {
            Kind::Discrete => Kind::Discrete,
            _ => Kind::Unknown,
        };
        self.inst1(b, InstKind::Index(v, idx), kind, span)
    }

    /// `v.n`, looking through tuples built in this function.
    pub(super) fn field(&mut self, b: Block, v: Value, n: u32, span: Span) -> Value {
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
    pub(super) fn assign_index(&mut self, b: Block, ix: &syn::ExprIndex, v: Option<Value>) {
        if matches!(&*ix.expr, Expr::Index(_)) {
            // `a[i][j] = v`: the row `a[i]` copied, its element `j` replaced, and the new row
            // written back as `a[i]`, as for an element of a field (`s.v[i] = ..`).
            self.assign_field_element(b, ix, v);
            return;
        }
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
        // The parameter itself, also where a loop carries it (its value there is the loop's
        // block parameter, not the parameter's own).
        let slot = p
            .path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()));
        let param_binding = slot.is_some_and(|s| self.env[s].param);
        if param_binding || matches!(self.f.value(base).def, ValueDef::Param(_)) {
            let mutable = slot.is_some_and(|slot| self.env[slot].mutable);
            if !mutable {
                let name = p
                    .path
                    .get_ident()
                    .map_or_else(|| "x".to_string(), |id| id.to_string());
                let shared = self.f.params.iter().any(|q| {
                    q.ident == name
                        && matches!(&q.ty, syn::Type::Reference(r) if r.mutability.is_none())
                });
                let msg = if shared {
                    format!(
                        "cannot assign to an element of `{name}`: it is a parameter taken by \
                         shared reference; copy it into a local first and write the copy (`let \
                         mut {name} = {name}.to_vec();`), or take it as `&mut` where the caller's \
                         values are to change"
                    )
                } else {
                    "assigning to an element of a parameter needs the parameter declared `mut` \
                     (or taken as `&mut`); or copy it into a local array first \
                     (`let mut h = x.to_vec();`)"
                        .to_string()
                };
                self.err_at(&ix, msg);
                return;
            }
        }
        let kind = self.kind(base).written(self.kind(value));
        let r = self.inst1(
            b,
            InstKind::IndexSet { base, index, value },
            kind,
            ix.span(),
        );
        // `row[k] = ..` of `for row in m.iter_mut()`: the row's new version is written back
        // into the container the cell refers to.
        self.assign_place(b, &Expr::Path(p.clone()), r);
    }

    /// Records the float type a variable was just bound with (`let x: f64 ..`).
    fn declare_float(&mut self, pat: &Pat, ty: &syn::Type) {
        if let Pat::Ident(pi) = pat {
            if crate::types::is_float_type(ty) {
                if let Some(binding) = self.env.last_mut() {
                    if pi.ident == binding.name {
                        binding.declared = Some(ty.clone());
                    }
                }
            }
        }
    }

    /// Whether `v` is computed from literals alone (`-(1e-3)`, `2.0 * 0.5`, `if c { 2.0 } else
    /// { 0.5 }`): an unsuffixed float whose type rustc takes from where it goes.
    fn literal_only(&self, v: Value) -> bool {
        match self.f.value(v).def {
            ValueDef::Result(i, 0) => match &self.f.inst(i).kind {
                InstKind::Const(_) => true,
                InstKind::Neg(a) => self.literal_only(*a),
                InstKind::Binary(_, a, c) => self.literal_only(*a) && self.literal_only(*c),
                InstKind::If { .. } | InstKind::Match { .. } => self.literal_arms(i, 0),
                _ => false,
            },
            ValueDef::Result(i, k) => match &self.f.inst(i).kind {
                InstKind::If { .. } | InstKind::Match { .. } => self.literal_arms(i, k),
                _ => false,
            },
            _ => false,
        }
    }

    /// Whether `v` is an ndarray array made by a constructor that leaves its element type to
    /// rustc (`Array1::zeros(n)`, `Array2::ones((h, w))`, `Array::from_elem(n, 0.0)`, without a
    /// turbofish): assigned over a variable, it has the variable's type.
    fn untyped_array(&self, v: Value) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        let InstKind::Call { path, args } = &self.f.inst(i).kind else {
            return false;
        };
        let n = path.segments.len();
        if n < 2 || path.segments.iter().any(|s| !s.arguments.is_empty()) {
            return false;
        }
        let (ty, ctor) = (&path.segments[n - 2].ident, &path.segments[n - 1].ident);
        let array = matches!(
            ty.to_string().as_str(),
            "Array"
                | "Array0"
                | "Array1"
                | "Array2"
                | "Array3"
                | "Array4"
                | "Array5"
                | "Array6"
                | "ArrayD"
        );
        array
            && match ctor.to_string().as_str() {
                "zeros" | "ones" | "default" => true,
                "from_elem" => args.get(1).is_some_and(|&x| self.literal_only(x)),
                _ => false,
            }
    }

    /// Whether every arm of the branch `i` that yields gives its result `k` from literals
    /// alone (arms that leave by `return`, `break` or `continue` give none).
    fn literal_arms(&self, i: Inst, k: usize) -> bool {
        self.f
            .inst_blocks(i)
            .into_iter()
            .all(|arm| match &self.f.block(arm).term {
                Term::Yield(vals) => vals.get(k).is_some_and(|&y| self.literal_only(y)),
                Term::Return(_) | Term::Break(_) | Term::Continue(_) => true,
                _ => false,
            })
    }

    /// A literal assigned to a variable declared with a float type (`x = -(1e-3)` for
    /// `x: f64`) has that type: ascribed here, since the generated code no longer has the
    /// declaration next to the use that needs the type (`x.abs()`). Assigned to a variable
    /// declared without one, it has the type of the value it replaces (the result of a
    /// compound assignment, `t *= 2.0`, has it already where `t`'s value had it).
    pub(super) fn typed_as_declared(
        &mut self,
        b: Block,
        target: &Expr,
        v: Value,
        compound: bool,
    ) -> Value {
        let Expr::Path(p) = target else { return v };
        let Some(slot) = p.path.get_ident().and_then(|i| self.lookup(&i.to_string())) else {
            return v;
        };
        if self.untyped_array(v)
            && !compound
            && let Some(old) = self.env[slot].value
        {
            // `cur = Array1::zeros(n);`, also `mem::replace(&mut cur, Array1::zeros(n))`: an
            // array whose element type rustc takes from the variable it replaces: its declared
            // type, else the type of the value it replaces (kept alive for it, see
            // `codegen::Gen::typed_like_of`).
            let kind = self.kind(v);
            let inst = match self.env[slot].declared.clone() {
                Some(ty) => InstKind::Ascribe { value: v, ty },
                None => InstKind::TypedLike {
                    value: v,
                    like: old,
                },
            };
            return self.inst1(b, inst, kind, target.span());
        }
        if !self.literal_only(v) {
            return v;
        }
        match (self.env[slot].declared.clone(), self.env[slot].value) {
            (Some(ty), _) => self.inst1(
                b,
                InstKind::Ascribe { value: v, ty },
                Kind::Float,
                target.span(),
            ),
            // Not declared with a type: the literal gets the type of the value it replaces,
            // named where the analysis of plain floats knows it (`crate::scalars`), taken from
            // that value in the generated code where it does not (a call's result).
            (None, Some(old)) if !compound => self.inst1(
                b,
                InstKind::TypedLike {
                    value: v,
                    like: old,
                },
                Kind::Float,
                target.span(),
            ),
            (None, _) => v,
        }
    }

    pub(super) fn assign(&mut self, target: &Expr, v: Option<Value>) {
        let name = match target {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let Some(name) = name else {
            if let Expr::Unary(u) = target
                && let Expr::Path(p) = super::fields::strip_parens(&u.expr)
                && let Some(id) = p.path.get_ident()
                && self.inactive_mut_param(&id.to_string())
            {
                let msg = super::sinks::also_read_message(
                    &id.to_string(),
                    &format!("*{id} = ..;"),
                    &format!("*{id}"),
                );
                self.err_at(&target, msg);
                return;
            }
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
                // `best = &x[i];` of a variable that holds the element it refers to (see
                // `bind_let`): the element.
                let v = match v {
                    Some(v) if self.env[slot].element && self.env[slot].refs == 1 => {
                        Some(self.element_referred(v).unwrap_or(v))
                    }
                    v => v,
                };
                if let Some(v) = v {
                    if self.f.values[v.index()].name.is_none() {
                        self.f.values[v.index()].name = Some(name.clone());
                    }
                }
                self.env[slot].value = v;
                self.env[slot].data = false;
            }
            None => self.err_at(
                &target,
                format!("cannot assign to `{name}`: it is not a local variable or parameter"),
            ),
        }
    }

    pub(super) fn inline_block(&mut self, b: Block, stmts: &[Stmt], want: bool) -> Option<Value> {
        let scope = self.env.len();
        let mut tail = None;
        for (i, stmt) in stmts.iter().enumerate() {
            let is_last = i + 1 == stmts.len();
            let mark = self.unfollowed_enter();
            match stmt {
                Stmt::Expr(e, semi) => {
                    let is_tail = is_last && semi.is_none();
                    let v = self.expr(b, e, is_tail && want);
                    if semi.is_some() {
                        self.note_discarded(e, v);
                    }
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
                        if let Expr::Closure(cl) = &*init.expr {
                            self.define_closure(&local.pat, cl);
                            continue;
                        }
                        let v = self.expr(b, &init.expr, true);
                        if matches!(local.pat, Pat::Wild(_)) {
                            self.note_discarded(&init.expr, v);
                        }
                        self.bind_let(b, &local.pat, &init.expr, v);
                        // The struct a literal builds, for its methods (`p.mix(k)`), as in a
                        // function's body.
                        self.note_binding(&local.pat, &init.expr);
                    } else {
                        self.declare_uninit(&local.pat);
                    }
                }
                Stmt::Macro(m) => {
                    self.opaque_macro(b, &m.mac, false, m.span());
                }
                Stmt::Item(item) => self.item_error(item),
            }
            self.unfollowed_leave(mark, stmt);
        }
        self.env.truncate(scope);
        tail
    }
}

/// Whether the value of a statement list's tail expression is used.
pub(super) fn wants_tail(conts: &[Cont], finish: &Finish) -> bool {
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
    pub(super) fn clone_ref(&self) -> Self {
        Cont {
            stmts: self.stmts,
            bind: self.bind,
            refs: self.refs,
            tail_through: self.tail_through,
            scope_len: self.scope_len,
        }
    }
}

/// The keyword of an item, for messages.
impl Lowering {
    /// Notes a call or method call whose value the statement drops (`c.set(x);`, `let _ =
    /// f(x);`), for `check::discarded_calls`.
    fn note_discarded(&mut self, e: &Expr, v: Option<Value>) {
        let mut e = e;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        let span = match e {
            Expr::Call(c) => c.func.span(),
            Expr::MethodCall(mc) => mc.method.span(),
            _ => return,
        };
        let Some(ValueDef::Result(i, _)) = v.map(|v| self.f.value(v).def) else {
            return;
        };
        // A mutation through a cell's guard, run as written (`c.borrow_mut().push(v)`).
        let guarded = matches!(e, Expr::MethodCall(mc) if super::calls::is_guard(&mc.receiver));
        if matches!(
            self.f.inst(i).kind,
            InstKind::Call { .. } | InstKind::Method { .. }
        ) || guarded && matches!(self.f.inst(i).kind, InstKind::Opaque { mac: None, .. })
        {
            self.f.discarded_calls.push((i, span));
        }
    }

    /// An item the lowering met inside the body: those at the top of the body that can be
    /// repeated never get here.
    fn item_error(&mut self, item: &syn::Item) {
        let msg = if is_repeatable_item(item) {
            format!(
                "`{}` items are supported at the top of a differentiated function's body, not \
                 inside a nested block; move the item to the start of the function",
                item_kind(item)
            )
        } else {
            format!(
                "`{}` items inside a differentiated function are not supported; move the item \
                 out of the function",
                item_kind(item)
            )
        };
        self.err_at(item, msg);
    }
}

/// Whether an item at the top of a differentiated function's body can be repeated in each
/// generated function as written: one that declares a name for that body alone (`const`, a
/// helper `fn`, `use`, a type). An `impl` or `trait` would be declared once per copy (impls
/// are global), and a `static mut` would become one variable per copy.
pub fn is_repeatable_item(item: &syn::Item) -> bool {
    match item {
        syn::Item::Const(_)
        | syn::Item::Fn(_)
        | syn::Item::Use(_)
        | syn::Item::Type(_)
        | syn::Item::Struct(_)
        | syn::Item::Enum(_) => true,
        syn::Item::Static(s) => matches!(s.mutability, syn::StaticMutability::None),
        _ => false,
    }
}

pub(super) fn item_kind(item: &syn::Item) -> &'static str {
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

/// `chain.max_by(..).unwrap()` and its kin, whose value is the best item itself (a reference
/// where the chain's items are).
fn is_best_unwrap(e: &Expr) -> bool {
    let Expr::MethodCall(mc) = super::chain::strip(e) else {
        return false;
    };
    let Expr::MethodCall(inner) = super::chain::strip(&mc.receiver) else {
        return false;
    };
    mc.method == "unwrap"
        && matches!(
            inner.method.to_string().as_str(),
            "max_by" | "min_by" | "max_by_key" | "min_by_key" | "max" | "min" | "reduce"
        )
}

/// What a `let` that declares a float type makes of its initializer, where the type is what
/// the derivative needs:
/// - `let y: f64 = x.into();` (or `f32`): the conversion `Into` makes between floats (and from
///   smaller numbers) is the cast `x as f64`, which the derivative follows (`Into` has no
///   `into_vjp`); elsewhere `.into()` stays an error that says to write the type;
/// - `let p: f64 = a.product();` of an ndarray array: `a.iter().product::<f64>()`.
fn typed_let(pat: &Pat, init: &Expr) -> Option<Expr> {
    let Pat::Type(pt) = pat else {
        return None;
    };
    let syn::Type::Path(tp) = &*pt.ty else {
        return None;
    };
    if tp.qself.is_some() || !(tp.path.is_ident("f64") || tp.path.is_ident("f32")) {
        return None;
    }
    let Expr::MethodCall(mc) = super::chain::strip(init) else {
        return None;
    };
    if !mc.args.is_empty() || mc.turbofish.is_some() {
        return None;
    }
    let (recv, ty) = (&mc.receiver, &pt.ty);
    if mc.method == "product" && super::chain::parse_chain(recv, false).is_none() {
        return Some(syn::parse_quote_spanned!(mc.method.span()=> #recv.iter().product::<#ty>()));
    }
    if mc.method != "into" {
        return None;
    }
    Some(syn::parse_quote_spanned!(mc.method.span()=> (#recv) as #ty))
}

/// The declared type of a local, with the references its `Vec`'s elements have in Rust taken
/// off (`Vec<&f64>` is `Vec<f64>`): a local container holds the values the references point to
/// here (`big.push(v)` of a loop's item `v: &f64` pushes the value). A reference to a type
/// without a size, which no value can be, stays: `Vec<&str>` of `text.split_whitespace()
/// .collect()`, which was rustc's "the size for values of type `str` cannot be known" for
/// `Vec<str>`, and `Vec<&[f64]>`.
fn values_not_refs(ty: &syn::Type) -> syn::Type {
    if let syn::Type::Path(tp) = ty
        && tp.qself.is_none()
        && let Some(last) = tp.path.segments.last()
        && last.ident == "Vec"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let [syn::GenericArgument::Type(syn::Type::Reference(r))] =
            args.args.iter().collect::<Vec<_>>()[..]
        && r.mutability.is_none()
        && !unsized_referent(&r.elem)
    {
        let mut out = tp.clone();
        let seg = out.path.segments.last_mut().expect("a last segment");
        let elem = &r.elem;
        seg.arguments = syn::PathArguments::AngleBracketed(syn::parse_quote!(<#elem>));
        return syn::Type::Path(out);
    }
    ty.clone()
}

/// `str`, a slice `[T]` or a trait object: a type only a reference can hold.
fn unsized_referent(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Slice(_) | syn::Type::TraitObject(_) => true,
        syn::Type::Paren(p) => unsized_referent(&p.elem),
        syn::Type::Group(g) => unsized_referent(&g.elem),
        syn::Type::Path(tp) => tp.qself.is_none() && tp.path.is_ident("str"),
        _ => false,
    }
}

/// The block of a block expression that may leave (`break`, `continue`, `return` inside it),
/// lowered as statements of a scope of its own.
fn leaving_block(e: &Expr) -> Option<&syn::Block> {
    match e {
        Expr::Block(bl)
            if bl.label.is_none() && bl.attrs.is_empty() && diverges_block(&bl.block) =>
        {
            Some(&bl.block)
        }
        _ => None,
    }
}
