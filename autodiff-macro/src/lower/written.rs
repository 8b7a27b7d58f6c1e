//! Code run as written: macros, and methods the lowering does not follow (a turbofish, a
//! closure over ndarray's elements), with the variables they name bound to copies of their
//! values; and comparisons and logic, whose discrete results are computed from lowered operands.

use super::*;

impl Lowering {
    /// Comparisons, `&&`, `||` and bit operations: discrete results. Their operands are
    /// lowered as values (so the derivative sees what they read); `&&` and `||` evaluate
    /// their right side only when Rust would, as an `if`.
    /// Whether evaluating `e` may change a variable: an assignment, a call of a local closure
    /// (which may change what it captures), a method that changes its receiver (`st.pop()`).
    /// Whether the closure an adapter is given (`|v| { ema = .. }`, or a local closure by
    /// name) changes variables when it runs.
    /// Changes to what the closure binds itself (`scan`'s state, `|s, &v| { *s += v; .. }`,
    /// its own locals) stay inside it and do not count.
    pub(super) fn stateful_closure(&self, f: &Expr) -> bool {
        let changes = |cl: &syn::ExprClosure| {
            use syn::visit::Visit;
            let mut own = syntax::BoundNames::default();
            cl.inputs.iter().for_each(|p| own.visit_pat(p));
            own.visit_expr(&cl.body);
            self.changes_variables_but(&cl.body, &own.0)
        };
        match super::chain::strip(f) {
            Expr::Closure(cl) => changes(cl),
            e => self.closure_named(e).is_some_and(|def| changes(&def.expr)),
        }
    }

    pub(super) fn changes_variables(&self, e: &Expr) -> bool {
        self.changes_variables_but(e, &[])
    }

    /// [`Self::changes_variables`], not counting assignments to the names `own`.
    fn changes_variables_but(&self, e: &Expr, own: &[String]) -> bool {
        use syn::visit::Visit;
        struct Changes<'a> {
            lw: &'a Lowering,
            own: &'a [String],
            found: bool,
        }
        impl Changes<'_> {
            fn assigned(&mut self, target: &Expr) {
                let inside = syntax::assigned_root(target).is_some_and(|r| self.own.contains(&r));
                self.found |= !inside;
            }
        }
        impl<'ast> Visit<'ast> for Changes<'_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                match e {
                    Expr::Assign(a) => self.assigned(&a.left),
                    Expr::Binary(b) if is_compound_assign(&b.op) => self.assigned(&b.left),
                    Expr::Call(c) => {
                        if let Expr::Path(p) = &*c.func {
                            let closure = p.path.get_ident().is_some_and(|id| {
                                self.lw
                                    .lookup(&id.to_string())
                                    .is_some_and(|s| self.lw.env[s].closure.is_some())
                            });
                            self.found |= closure;
                        }
                    }
                    Expr::MethodCall(mc) => {
                        self.found |=
                            crate::prim::places::MutId::find(&mc.method.to_string()).is_some()
                    }
                    _ => {}
                }
                syn::visit::visit_expr(self, e);
            }
        }
        let mut c = Changes {
            lw: self,
            own,
            found: false,
        };
        c.visit_expr(e);
        c.found
    }

    pub(super) fn logic(&mut self, b: Block, bin: &syn::ExprBinary) -> Option<Value> {
        use syn::BinOp as B;
        let span = bin.span();
        if matches!(bin.op, B::And(_) | B::Or(_)) && self.changes_variables(&bin.right) {
            // The right operand changes variables (`x > 0.4 && check(x)` of a closure that
            // counts, `{ acc += v; acc > 1.0 }`): the `if` it is, whose arm's changes reach
            // what follows where it runs.
            let (left, right) = (&bin.left, &bin.right);
            let e: Expr = match bin.op {
                B::And(_) => syn::parse_quote_spanned!(span=> if #left { #right } else { false }),
                _ => syn::parse_quote_spanned!(span=> if #left { true } else { #right }),
            };
            return self.expr(b, &e, true);
        }
        if matches!(bin.op, B::And(_) | B::Or(_)) {
            let l = self.expr(b, &bin.left, true)?;
            let then = self.f.new_block();
            let els = self.f.new_block();
            let (rhs_block, short_block) = match bin.op {
                B::And(_) => (then, els),
                _ => (els, then),
            };
            let saved = self.env.clone();
            let r = self.expr(rhs_block, &bin.right, true);
            self.env = saved;
            let r = r?;
            self.f.block_mut(rhs_block).term = Term::Yield(vec![r]);
            let short = match bin.op {
                B::And(_) => quote!(false),
                _ => quote!(true),
            };
            let c = self.inst1(short_block, InstKind::Const(short), Kind::Discrete, span);
            self.f.block_mut(short_block).term = Term::Yield(vec![c]);
            let i = self.f.push_inst(
                b,
                InstKind::If { cond: l, then, els },
                1,
                Kind::Discrete,
                span,
            );
            return Some(self.f.inst(i).results[0]);
        }
        let l = self.expr(b, &bin.left, true);
        let r = self.expr(b, &bin.right, true);
        let (mut l, mut r) = (l?, r?);
        let op = bin.op;
        if matches!(
            op,
            B::Eq(_) | B::Ne(_) | B::Lt(_) | B::Le(_) | B::Gt(_) | B::Ge(_)
        ) {
            // An item of a loop or a closure over references (`w` of `x.iter().map(|w| ..)`,
            // `x` of `.filter(|x| ..)`) is read as the element it refers to, so the reference
            // written on the other side to match it (`w > &0.0`, `x > &&t`) is read through
            // too: references compare as the values they refer to.
            let element = |s: &Self, v: Value| {
                matches!(s.f.value(v).def, ValueDef::Result(i, 0)
                    if matches!(s.f.inst(i).kind, InstKind::Index(..)))
                    && !s.may_be_container(v)
            };
            let through = |s: &Self, mut v: Value| {
                let mut depth = 0;
                while let ValueDef::Result(i, 0) = s.f.value(v).def
                    && let InstKind::Ref(x) = s.f.inst(i).kind
                {
                    v = x;
                    depth += 1;
                }
                (depth > 0 && !s.may_be_container(v)).then_some(v)
            };
            // A parameter taken as `t: &f64` beside such an item (`v >= t`), and a field lent
            // (`v > &self.thr`), are read through.
            let float_ref_param = |s: &Self, v: Value| match s.f.value(v).def {
                ValueDef::Param(n) => matches!(&s.f.params[n].ty, syn::Type::Reference(r)
                    if r.mutability.is_none() && crate::types::is_scalar_float(&r.elem)),
                ValueDef::Result(i, 0) => matches!(s.f.inst(i).kind, InstKind::FieldRef(..)),
                _ => false,
            };
            if element(self, l) {
                if let Some(v) = through(self, r) {
                    r = v;
                } else if float_ref_param(self, r) {
                    let k = self.kind(r);
                    r = self.inst1(b, InstKind::Deref(r), k, span);
                }
            } else if element(self, r) {
                if let Some(v) = through(self, l) {
                    l = v;
                } else if float_ref_param(self, l) {
                    let k = self.kind(l);
                    l = self.inst1(b, InstKind::Deref(l), k, span);
                }
            }
            // Compared by reference, as `PartialEq` and `PartialOrd` do: a `Vec` compared is
            // not moved away.
            let mut_refs = self.f.borrowed_mut_versions();
            let operand = |s: &mut Self, v: Value, name: &str| {
                let id = syn::Ident::new(name, Span::call_site());
                if s.is_reference(v) || mut_refs.contains(&v) || !s.may_be_container(v) {
                    (v, quote!(#id))
                } else {
                    let k = s.kind(v);
                    (s.inst1(b, InstKind::Ref(v), k, span), quote!((*#id)))
                }
            };
            let (vl, tl) = operand(self, l, "__ad_a");
            let (vr, tr) = operand(self, r, "__ad_b");
            return Some(self.int_op_kind(
                b,
                quote!(#tl #op #tr),
                &[("__ad_a", vl), ("__ad_b", vr)],
                Kind::Discrete,
                span,
            ));
        }
        Some(self.int_op_kind(
            b,
            quote!(__ad_a #op __ad_b),
            &[("__ad_a", l), ("__ad_b", r)],
            Kind::Discrete,
            span,
        ))
    }

    /// Tokens run as written, with the variables they name bound to their current values.
    pub(super) fn opaque(
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
    pub(super) fn opaque_macro(
        &mut self,
        b: Block,
        m: &syn::Macro,
        want: bool,
        span: Span,
    ) -> Option<Value> {
        let name = m.path.segments.last().map(|s| s.ident.to_string());
        // ndarray's `s![..]` describes a region by indices: discrete, whatever it reads
        // (`s![i..i + k.len()]` of a differentiated `k`).
        let (kind, tokens) = match name.as_deref() {
            Some(n) if crate::prim::is_index_macro(n) => {
                (Kind::Discrete, self.window_reads(b, m.to_token_stream()))
            }
            _ => (Kind::Unknown, m.to_token_stream()),
        };
        self.opaque_inst(b, tokens, name, kind, want, span)
    }

    /// The elements of windows and chunks that `s![..]` reads (`w[0]` of `for w in
    /// tok.windows(2)`, also through `a.row(w[0])`, which is `a.slice(s![w[0], ..])`), read
    /// first, each bound to a name of its own that the tokens then name: a window has no value
    /// of its own to give code run as written.
    fn window_reads(&mut self, b: Block, tokens: TokenStream) -> TokenStream {
        use proc_macro2::{Delimiter, Group, TokenTree};
        let mut out: Vec<TokenTree> = Vec::new();
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            // A field (`self.w[0]`) or a path's segment is not the variable; the end of a
            // range (`..w[1]`) is.
            let punct = |t: Option<&TokenTree>, c: char| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c);
            let n = out.len();
            let after_dot = punct(out.last(), ':')
                || (punct(out.last(), '.') && !punct(n.checked_sub(2).map(|i| &out[i]), '.'));
            match tt {
                TokenTree::Ident(id)
                    if !after_dot
                        && self
                            .lookup(&id.to_string())
                            .is_some_and(|s| self.env[s].window.is_some()) =>
                {
                    let index = match iter.peek() {
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                            Some(g.clone())
                        }
                        _ => None,
                    };
                    let read = index.as_ref().and_then(|g| {
                        let e = syn::parse2::<Expr>(quote!(#id #g)).ok()?;
                        self.expr(b, &e, true)
                    });
                    match read {
                        Some(v) => {
                            iter.next();
                            let name = format!("__ad_window_read{}", v.index());
                            out.push(TokenTree::Ident(syn::Ident::new(&name, id.span())));
                            self.bind(name, Some(v));
                        }
                        None => out.push(TokenTree::Ident(id)),
                    }
                }
                TokenTree::Group(g) => {
                    let mut inner = Group::new(g.delimiter(), self.window_reads(b, g.stream()));
                    inner.set_span(g.span());
                    out.push(TokenTree::Group(inner));
                }
                tt => out.push(tt),
            }
        }
        out.into_iter().collect()
    }

    /// A macro runs as written on copies of the variables it names: an argument that changes
    /// one (`assert!(stack.pop().is_some())`, `debug_assert!({ t *= y; t.is_finite() })`)
    /// would change the copy, and rustc said the variable was not declared `mut` in the
    /// generated code. The error is at the change and says to make it a statement of its own.
    fn macro_changes(&mut self, m: &syn::Macro) {
        let mac = m
            .path
            .segments
            .last()
            .map_or(String::new(), |s| s.ident.to_string());
        let mut seen: Vec<String> = Vec::new();
        let args = macro_args(m.tokens.clone());
        // `write!(s, ..)` writes into its first argument.
        if matches!(mac.as_str(), "write" | "writeln")
            && let Some(n) = args.first().and_then(super::syntax::target_root)
            && self.lookup(&n.to_string()).is_some()
        {
            let rest = tidy(&m.tokens.to_string());
            let rest = rest.split_once(',').map_or("..", |(_, r)| r.trim());
            let nl = if mac == "writeln" {
                " (with a `\\n` at the end of the format)"
            } else {
                ""
            };
            self.err(
                n.span(),
                format!(
                    "`{mac}!` runs as written on copies of the variables it names, and it \
                     writes into `{n}` there, where the text would be lost; append to the \
                     string in a statement of its own: `{n}.push_str(&format!({rest}));`{nl}"
                ),
            );
            seen.push(n.to_string());
        }
        for arg in args {
            let mut names = AssignedNames::default();
            names.visit_expr(&arg);
            let mut changing = ChangingCalls::default();
            changing.visit_expr(&arg);
            let all = names
                .0
                .into_iter()
                .chain(changing.0.into_iter().map(|(n, ..)| n));
            for n in all.collect::<Vec<_>>() {
                if n.starts_with("__ad_") || seen.contains(&n) || self.lookup(&n).is_none() {
                    continue;
                }
                let mut first = FirstChange {
                    name: &n,
                    found: None,
                };
                first.visit_expr(&arg);
                let (at, instead) = match first.found {
                    Some((at, FirstChangeKind::Statement(text))) => (
                        at,
                        format!(
                            "write it as a statement of its own before `{mac}!` (`{text};`) \
                             and give the macro what it reads after the change"
                        ),
                    ),
                    Some((at, FirstChangeKind::Value(text))) => {
                        let args = tidy(&m.tokens.to_string());
                        let call = match args.find(&text) {
                            Some(_) => args.replacen(&text, "r", 1),
                            None => "..r..".into(),
                        };
                        (
                            at,
                            format!(
                                "make the change a statement of its own before `{mac}!` and \
                                 give the macro its result (`let r = {text};` then \
                                 `{mac}!({call})`)"
                            ),
                        )
                    }
                    None => (
                        arg.span(),
                        format!(
                            "make the change a statement of its own before `{mac}!` and give \
                             the macro its result"
                        ),
                    ),
                };
                self.err(
                    at,
                    format!(
                        "`{mac}!` runs as written on copies of the variables it names, and this \
                         changes `{n}` there, where the change would be lost; {instead}"
                    ),
                );
                seen.push(n);
            }
        }
    }

    pub(super) fn opaque_inst(
        &mut self,
        b: Block,
        tokens: TokenStream,
        mac: Option<String>,
        kind: Kind,
        want: bool,
        span: Span,
    ) -> Option<Value> {
        let (mut tokens, mut uses) = self.with_refs(b, &tokens.clone(), tokens, span);
        // `self` cannot be bound by `let`: the code reads it under another name
        // (`s![i..i + self.k.len()]` in a method).
        if let Some((t, u)) = self_renamed(&tokens, &uses) {
            (tokens, uses) = (t, u);
        }
        let i = self.f.push_inst(
            b,
            InstKind::Opaque { tokens, uses, mac },
            usize::from(want),
            kind,
            span,
        );
        self.f.inst(i).results.first().copied()
    }

    /// Variables in scope named in `tokens`, with their current values. An element reference
    /// (`e` of `for e in v.iter_mut()`) is the element's value, read into `b`.
    pub(super) fn free_uses(
        &mut self,
        b: Option<Block>,
        tokens: &TokenStream,
    ) -> Vec<(syn::Ident, Value)> {
        self.free_uses_but(b, tokens, &[])
    }

    /// [`Self::free_uses`] without the names in `skip` (a closure's parameters, the local
    /// closures defined again in the code).
    fn free_uses_but(
        &mut self,
        b: Option<Block>,
        tokens: &TokenStream,
        skip: &[String],
    ) -> Vec<(syn::Ident, Value)> {
        let mut idents = Vec::new();
        collect_idents(tokens.clone(), &mut idents);
        let mut out: Vec<(syn::Ident, Value)> = Vec::new();
        for id in idents {
            let s = id.to_string();
            if out.iter().any(|(o, _)| *o == s) || skip.contains(&s) {
                continue;
            }
            if let Some(slot) = self.lookup(&s) {
                if self.env[slot].closure.is_some() || self.env[slot].window.is_some() {
                    let (what, instead) = if self.env[slot].closure.is_some() {
                        ("the closure", format!("let y = {s}(x);"))
                    } else {
                        ("the window", format!("let y = {s}[i];"))
                    };
                    self.err(
                        id.span(),
                        format!(
                            "{what} `{s}` is used in code the macro runs as written (a macro, or a \
                             method with a closure); compute the value first (`{instead}`) and \
                             use `y` there"
                        ),
                    );
                    continue;
                }
                if let Some(c) = self.env[slot].cell {
                    match b.and_then(|b| self.cell_read(b, c, id.span())) {
                        Some(v) => out.push((syn::Ident::new(&s, id.span()), v)),
                        None => self.err(
                            id.span(),
                            format!(
                                "`{s}` refers to an element of a container; read it first \
                                 (`let x = *{s};`) and use `x` here"
                            ),
                        ),
                    }
                    continue;
                }
                if let Some(v) = self.env[slot].value {
                    out.push((syn::Ident::new(&s, id.span()), v));
                }
            }
        }
        out
    }

    /// The variables `scan` names, with their values, and `tokens` preceded by what gives those
    /// names their Rust types. Values that are not references are passed by reference and
    /// cloned there (`let v = v.clone();`): the code runs on a copy, and the generated code keeps
    /// its own (a `Vec` named in `println!` is not moved away). An item that is a reference in
    /// Rust is one there too (`let v = &v;`).
    pub(super) fn with_refs(
        &mut self,
        b: Block,
        scan: &TokenStream,
        tokens: TokenStream,
        span: Span,
    ) -> (TokenStream, Vec<(syn::Ident, Value)>) {
        // The local closures the code calls (`filter(|c| dist(c) < r)`) are defined again
        // before it, over the values their bodies name.
        let mut defs = Inlined::default();
        self.inline_closures(b, scan, &[], &mut defs);
        let mut uses = self.free_uses_but(Some(b), scan, &defs.names);
        for (id, v) in std::mem::take(&mut defs.uses) {
            match uses.iter().find(|(u, _)| *u == id) {
                None => uses.push((id, v)),
                Some((_, w)) if *w == v => {}
                Some(_) => self.err(
                    span,
                    format!(
                        "a closure called in code the macro runs as written (a macro, or a \
                         method with a closure) reads `{id}`, which a later `let` has shadowed \
                         there; compute the closure's value first (`let y = f(x);`) and use \
                         `y` there"
                    ),
                ),
            }
        }
        let mut_refs = self.f.borrowed_mut_versions();
        // Code run as written works on copies: what it assigns would be lost.
        if let Ok(e) = syn::parse2::<Expr>(scan.clone()) {
            let mut macros = Macros::default();
            macros.visit_expr(&e);
            for m in &macros.0 {
                self.macro_changes(m);
            }
            let mut names = AssignedNames::default();
            names.visit_expr(&e);
            for cl in &defs.exprs {
                names.visit_expr_closure(cl);
            }
            // Methods that change their receiver inside such code (`w.drain(1..).collect()`)
            // would change the copy.
            let mut changing = ChangingCalls::default();
            changing.visit_expr(&e);
            for (n, m, at) in changing.0 {
                if self.lookup(&n).is_some() {
                    self.err(at, changed_copy_message(&n, &m));
                }
            }
            let mut seen: Vec<String> = Vec::new();
            let text = scan.to_string();
            let zip = text.contains("Zip ::");
            let for_each = text.contains("for_each");
            for n in names.0 {
                if n.starts_with("__ad_")
                    || seen.contains(&n)
                    || self.lookup(&n).is_none()
                    || self.sink_param.as_ref() == Some(&n)
                {
                    continue;
                }
                let msg = if zip && !lent_mut(scan.clone(), &n) {
                    format!(
                        "the closure of this `Zip` changes `{n}`, a variable outside it, and \
                         runs as written, where the change cannot be differentiated; write a \
                         `for` loop over the elements, which is followed (`for (&x, &y) in \
                         a.iter().zip(b.iter()) {{ {n} += .. }}`, or `for ((i, j), &v) in \
                         a.indexed_iter() {{ .. }}` for the indices), or a fold of a sum: \
                         `let {n} = Zip::from(&a).and(&b).fold(0.0, |acc, &x, &y| acc + ..);`"
                    )
                } else if for_each && !zip {
                    format!(
                        "this `for_each` runs as written (ndarray's `a.for_each(..)`, or \
                         `for_each` after a method that is not followed, such as \
                         `indexed_iter()`), and it changes `{n}`, which the generated code \
                         could not see; write a `for` loop over the elements, which is followed \
                         (`for &v in a.iter() {{ {n} += .. }}`, `for (i, &v) in \
                         a.indexed_iter() {{ .. }}`), or `a.iter().for_each(|&v| {n} += ..)`"
                    )
                } else if zip {
                    format!(
                        "a `Zip` that writes through `&mut {n}` runs as written, and the \
                         generated code could not see what it writes; what is followed: \
                         `Zip::from(&mut {n}).and(&a).for_each(|o, &x| *o = ..)` (`&mut {n}` \
                         or a region of it, `{n}.slice_mut(s![..])`, first, and `*o = ..` or \
                         `*o += ..` written once on each path, in the closure's last statement), \
                         and the new \
                         values computed with `Zip::from(&a).and(&b).map_collect(|&x, &y| ..)` \
                         then `{n}.assign(&new)`; or write a `for` loop over the elements"
                    )
                } else {
                    format!(
                        "this code runs as written (a method with a closure, or a macro), and \
                         it changes `{n}`, which the generated code could not see; write it as \
                         a `for` loop, or with the iterator adapters that are followed \
                         (`for_each`, `fold`, `map`, ..)"
                    )
                };
                self.err(span, msg);
                seen.push(n);
            }
        }
        let mut prefix = TokenStream::new();
        let tokens = if defs.tokens.is_empty() {
            tokens
        } else {
            let d = defs.tokens;
            quote!(#d #tokens)
        };
        let mut out = Vec::new();
        for (id, v) in uses {
            let refs = self
                .lookup(&id.to_string())
                .map_or(0, |slot| self.env[slot].refs);
            if self.is_reference(v) || mut_refs.contains(&v) {
                // A reference is copied (a `&mut` one reborrowed) as it is.
                out.push((id.clone(), v));
            } else if self.guard_root.as_deref() == Some(&id.to_string()) {
                // A cell borrowed through a guard: lent, as a clone would take the change.
                let k = self.kind(v);
                let r = self.inst1(b, InstKind::Ref(v), k, span);
                out.push((id.clone(), r));
            } else {
                let k = self.kind(v);
                let r = self.inst1(b, InstKind::Ref(v), k, span);
                prefix.extend(quote!(let #id = #id.clone();));
                out.push((id.clone(), r));
            }
            if refs > 0 {
                let amps = (0..refs).map(|_| quote!(&));
                prefix.extend(quote!(let #id = #(#amps)* #id;));
            }
        }
        if prefix.is_empty() {
            (tokens, out)
        } else {
            (quote!(#prefix #tokens), out)
        }
    }

    /// The local closures `tokens` names (other than the names in `bound`), each with the
    /// closures its body names before it: `let f = <closure>;` in `defs.tokens`, and the
    /// values its body reads, as seen where it was defined (a `move` closure's captured ones).
    fn inline_closures(
        &mut self,
        b: Block,
        tokens: &TokenStream,
        bound: &[String],
        defs: &mut Inlined,
    ) {
        let mut idents = Vec::new();
        collect_idents(tokens.clone(), &mut idents);
        for id in idents {
            let s = id.to_string();
            if bound.contains(&s) || defs.names.contains(&s) {
                continue;
            }
            let Some(def) = self
                .lookup(&s)
                .and_then(|slot| self.env[slot].closure.clone())
            else {
                continue;
            };
            defs.names.push(s);
            let mut params = Vec::new();
            for p in &def.expr.inputs {
                collect_pat_bindings(p, &mut params);
            }
            let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
            let body = def.expr.body.to_token_stream();
            let saved = self.env.clone();
            self.env.truncate(def.scope.min(self.env.len()));
            if let Some(vals) = &def.captured {
                for (slot, v) in vals.iter().enumerate().take(self.env.len()) {
                    self.env[slot].value = *v;
                }
            }
            self.inline_closures(b, &body, &params, defs);
            let skip: Vec<String> = params.iter().chain(&defs.names).cloned().collect();
            let uses = self.free_uses_but(Some(b), &body, &skip);
            self.env = saved;
            for (u, v) in uses {
                if !defs.uses.iter().any(|(w, _)| *w == u) {
                    defs.uses.push((u, v));
                }
            }
            let e = &def.expr;
            defs.tokens.extend(quote!(let #id = #e;));
            defs.exprs.push(def.expr.clone());
        }
    }

    /// Whether a value may be a container (a `Vec`, an array, a `String`): a parameter of such
    /// a type, or what code run as written, a call or a mutation made. Numbers computed by
    /// operators, literals, element reads and casts are not.
    pub(super) fn may_be_container(&self, v: Value) -> bool {
        match self.f.value(v).def {
            ValueDef::Param(n) => {
                let ty = &self.f.params[n].ty;
                !(crate::types::is_scalar_float(ty)
                    || crate::types::is_inactive_type(ty)
                        && !matches!(ty, syn::Type::Path(p)
                        if p.path.segments.last().is_some_and(|s| {
                            matches!(s.ident.to_string().as_str(), "Vec" | "String" | "Option" | "Box")
                        })))
            }
            ValueDef::Result(i, _) => matches!(
                self.f.inst(i).kind,
                InstKind::Opaque { .. }
                    | InstKind::Call { .. }
                    | InstKind::Mutate { .. }
                    | InstKind::IndexSet { .. }
                    | InstKind::Tuple(_)
            ),
            _ => false,
        }
    }

    /// `best = p;` where `best` was first bound to a reference to an element (`let mut best =
    /// &ps[0];`) and `p` is an element read by value (the item of `for p in ps.iter()`): a
    /// reference to it, as the variable holds one (the branches that assign it agree).
    pub(super) fn reborrowed(&mut self, b: Block, target: &Expr, v: Value) -> Option<Value> {
        let Expr::Path(p) = target else { return None };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        let old = self.before_loops(self.env[slot].value?);
        let is_ref = |v: Value| {
            matches!(self.f.value(v).def,
                ValueDef::Result(i, 0) if matches!(self.f.inst(i).kind, InstKind::Ref(_)))
        };
        let element = matches!(self.f.value(v).def,
            ValueDef::Result(i, 0) if matches!(self.f.inst(i).kind, InstKind::Index(..)));
        if !is_ref(old) || !element {
            return None;
        }
        let kind = self.kind(v);
        let span = target.span();
        Some(self.inst1(b, InstKind::Ref(v), kind, span))
    }

    /// Whether a value is a reference in the generated code (a parameter of reference type,
    /// `&x`, a field of a borrowed struct): copying it moves nothing.
    pub(super) fn is_reference(&self, v: Value) -> bool {
        match self.f.value(v).def {
            ValueDef::Param(n) => matches!(self.f.params[n].ty, syn::Type::Reference(_)),
            ValueDef::Result(i, _) => {
                matches!(
                    self.f.inst(i).kind,
                    InstKind::Ref(_) | InstKind::FieldRef(..)
                )
            }
            ValueDef::BlockParam(..) | ValueDef::Tangent(_) => false,
        }
    }
}

/// Local closures defined again in code run as written.
#[derive(Default)]
struct Inlined {
    names: Vec<String>,
    tokens: TokenStream,
    uses: Vec<(syn::Ident, Value)>,
    exprs: Vec<syn::ExprClosure>,
}

pub(super) fn collect_idents(tokens: TokenStream, out: &mut Vec<syn::Ident>) {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let punct = |k: Option<usize>, c: char| matches!(k.and_then(|k| tts.get(k)), Some(TokenTree::Punct(p)) if p.as_char() == c);
    for (k, tt) in tts.iter().enumerate() {
        let (before, before2) = (k.checked_sub(1), k.checked_sub(2));
        match tt {
            // Names that are not variables: a macro's (`s![..]`), a path's segments
            // (`ndarray::s`, `f64::EPSILON`, `T::from`), a field or method (`p.x`, but not the
            // end of a range `0..x`).
            TokenTree::Ident(_)
                if punct(Some(k + 1), '!')
                    && matches!(tts.get(k + 2), Some(TokenTree::Group(_)))
                    || punct(Some(k + 1), ':') && punct(Some(k + 2), ':')
                    || punct(before, ':') && punct(before2, ':')
                    || punct(before, '.') && !punct(before2, '.') => {}
            TokenTree::Ident(i) => out.push(i.clone()),
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

/// `tokens` with each `self` that is not the head of a path (`self::m`) read as `own` (code
/// run as written, a guard, a method's copy taking its receiver as a parameter: `self` cannot
/// be bound by a `let` or be a parameter's name).
pub(crate) fn rename_self(tokens: TokenStream, own: &str) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    for (k, t) in trees.iter().enumerate() {
        out.push(match t {
            TokenTree::Ident(id) if id == "self" => {
                let path =
                    matches!(trees.get(k + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if path {
                    t.clone()
                } else {
                    TokenTree::Ident(syn::Ident::new(own, id.span()))
                }
            }
            TokenTree::Group(g) => {
                let mut ng = Group::new(g.delimiter(), rename_self(g.stream(), own));
                ng.set_span(g.span());
                TokenTree::Group(ng)
            }
            t => t.clone(),
        });
    }
    out.into_iter().collect()
}

/// Code that names `self` among the values it reads (`uses`), with `self` read as `__ad_self`
/// in the tokens and the uses; `None` where it does not read `self`.
pub(crate) fn self_renamed(
    tokens: &TokenStream,
    uses: &[(syn::Ident, Value)],
) -> Option<(TokenStream, Vec<(syn::Ident, Value)>)> {
    if !uses.iter().any(|(n, _)| n == "self") {
        return None;
    }
    let uses = uses
        .iter()
        .map(|(n, v)| match n == "self" {
            true => (syn::Ident::new("__ad_self", n.span()), *v),
            false => (n.clone(), *v),
        })
        .collect();
    Some((rename_self(tokens.clone(), "__ad_self"), uses))
}

/// The error for method `m` of variable `n`, one of [`CHANGING`], inside code run as written
/// (`let head: Vec<f64> = v.drain(..k).collect();`), which would change a copy of `n`. A
/// statement of its own, `v.drain(..k);`, runs as written where `n` holds data, but the
/// derivative does not follow `m` where `n` holds differentiated values (an error there too):
/// which of the two `n` holds is not known yet where this is reported, so the message gives
/// both.
/// `append` is followed as a statement of its own either way (`v.append(&mut w);` of a local
/// `w`, its elements pushed).
fn changed_copy_message(n: &str, m: &str) -> String {
    let lost = format!(
        "`{n}.{m}(..)` changes `{n}`, but this code runs as written on a copy of `{n}` (an \
         iterator chain or a call the macro does not follow), where the change would be lost"
    );
    if m == "append" {
        return format!("{lost}; change `{n}` in a statement of its own (`{n}.append(&mut w);`)");
    }
    let advice = crate::prim::places::advice(m).unwrap_or(
        "read the elements you need by index and build the new vector with the mutations the \
         derivative follows",
    );
    format!(
        "{lost}; where `{n}` holds data only, change it in a statement of its own \
         (`{n}.{m}(..);`); where it holds differentiated values, which the derivative does not \
         follow through `{m}`, {advice}"
    )
}

/// Calls inside code run as written of methods that change a variable they are called on
/// (`w.drain(1..)`), which the places table does not follow: (variable, method, where).
#[derive(Default)]
struct ChangingCalls(Vec<(String, String, Span)>);

/// The methods that change the container they are called on and that no rule follows: where
/// code run as written calls them, it changes a copy.
pub(crate) const CHANGING: &[&str] = &[
    "drain",
    "splice",
    "append",
    "dedup",
    "dedup_by",
    "dedup_by_key",
    "retain_mut",
];

impl<'ast> Visit<'ast> for ChangingCalls {
    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        let m = mc.method.to_string();
        let changes = CHANGING.contains(&m.as_str());
        if changes
            && let Expr::Path(p) = &*mc.receiver
            && let Some(id) = p.path.get_ident()
        {
            self.0.push((id.to_string(), m, mc.method.span()));
        }
        syn::visit::visit_expr_method_call(self, mc);
    }
}

/// `tokens` lend `name` mutably: `&mut name`, `&mut *name` or `name.rows_mut()` (any `_mut`
/// method), a buffer a `Zip` writes into.
fn lent_mut(tokens: TokenStream, name: &str) -> bool {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let ident = |k: usize, f: &dyn Fn(&str) -> bool| matches!(tts.get(k), Some(TokenTree::Ident(i)) if f(&i.to_string()));
    let punct =
        |k: usize, c: char| matches!(tts.get(k), Some(TokenTree::Punct(p)) if p.as_char() == c);
    (0..tts.len()).any(|k| {
        let lent = punct(k, '&')
            && ident(k + 1, &|s| s == "mut")
            && (ident(k + 2, &|s| s == name) || punct(k + 2, '*') && ident(k + 3, &|s| s == name));
        let method = ident(k, &|s| s == name)
            && !(k > 0 && punct(k - 1, '.'))
            && punct(k + 1, '.')
            && ident(k + 2, &|s| s.ends_with("_mut"));
        let inner = matches!(&tts[k], TokenTree::Group(g) if lent_mut(g.stream(), name));
        lent || method || inner
    })
}

/// The arguments of a macro that parse as expressions, split at its top-level commas
/// (`assert!(c, "{}", v)`; a pattern of `matches!` that is no expression is skipped).
fn macro_args(tokens: TokenStream) -> Vec<Expr> {
    let mut out = Vec::new();
    let mut piece = TokenStream::new();
    let mut flush = |piece: &mut TokenStream| {
        if let Ok(e) = syn::parse2::<Expr>(std::mem::take(piece)) {
            out.push(e);
        }
    };
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' || p.as_char() == ';' => flush(&mut piece),
            _ => piece.extend(std::iter::once(tt)),
        }
    }
    flush(&mut piece);
    out
}

/// How an argument of a macro changes a variable: a statement form (`t *= y`) or a value
/// whose result the macro reads (`stack.pop()`), as written.
enum FirstChangeKind {
    Statement(String),
    Value(String),
}

/// The first expression in an argument that changes variable `name`, with its span.
struct FirstChange<'a> {
    name: &'a str,
    found: Option<(Span, FirstChangeKind)>,
}

impl FirstChange<'_> {
    fn roots(&self, e: &Expr) -> bool {
        super::syntax::target_root(e).is_some_and(|id| id == self.name)
    }
}

impl<'ast> Visit<'ast> for FirstChange<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if self.found.is_some() {
            return;
        }
        let text = || tidy(&e.to_token_stream().to_string());
        // The span of the place written or the method's name: a span is of one token.
        let found = match e {
            Expr::Assign(a) if self.roots(&a.left) => {
                Some((a.left.span(), FirstChangeKind::Statement(text())))
            }
            Expr::Binary(b) if super::is_compound_assign(&b.op) && self.roots(&b.left) => {
                Some((b.left.span(), FirstChangeKind::Statement(text())))
            }
            Expr::MethodCall(mc) if self.roots(&mc.receiver) => {
                let m = mc.method.to_string();
                let changes = MutId::find(&m).is_some()
                    || CHANGING.contains(&m.as_str())
                    || super::syntax::lends_mutably(&m)
                    || m.ends_with("_inplace");
                changes.then(|| (mc.method.span(), FirstChangeKind::Value(text())))
            }
            Expr::Reference(r) if r.mutability.is_some() && self.roots(&r.expr) => {
                Some((r.span(), FirstChangeKind::Value(text())))
            }
            _ => None,
        };
        match found {
            Some(f) => self.found = Some(f),
            None => syn::visit::visit_expr(self, e),
        }
    }
}

/// Tokens printed as Rust is written: `stack.pop()`, not `stack . pop ()`.
fn tidy(s: &str) -> String {
    let mut t = s.to_string();
    for (a, b) in [
        (" . ", "."),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        ("& mut ", "&mut "),
        ("! (", "!("),
    ] {
        t = t.replace(a, b);
    }
    t
}

/// The macro calls inside an expression, nested ones too.
#[derive(Default)]
struct Macros(Vec<syn::Macro>);

impl<'ast> Visit<'ast> for Macros {
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.0.push(m.clone());
        for arg in macro_args(m.tokens.clone()) {
            self.visit_expr(&arg);
        }
    }
}
