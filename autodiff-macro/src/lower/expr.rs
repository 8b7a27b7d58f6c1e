//! Expressions: literals, paths, operators, casts, tuples, fields, indexing, blocks, and the
//! code run as written (macros, comparisons), with the variables it names bound to their values.

use super::*;

impl Lowering {
    // ---------------------------------------------------------------- expressions

    /// Lowers `e` into block `b`. Returns its value, or `None` for `()`. After an error in `e`
    /// it returns a placeholder value, so that the error does not cascade into "no value" or
    /// "unassigned" errors further on (no code is generated once there is an error).
    pub(super) fn expr(&mut self, b: Block, e: &Expr, want: bool) -> Option<Value> {
        let before = self.errors.len();
        let v = self.expr_inner(b, e, want);
        if v.is_none() && want && self.errors.len() > before {
            let p = self.inst1(b, InstKind::Const(quote!(())), Kind::Unknown, e.span());
            self.poisoned.push(p);
            return Some(p);
        }
        v
    }

    pub(super) fn expr_inner(&mut self, b: Block, e: &Expr, want: bool) -> Option<Value> {
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
                            if self.env[slot].closure.is_some() {
                                self.err_at(
                                    e,
                                    format!(
                                        "the closure `{id}` is used as a value here (returned, \
                                         stored or passed on): closures are supported where they \
                                         are called (`{id}(x)`) and as the arguments of iterator \
                                         adapters (`map({id})`)"
                                    ),
                                );
                                return None;
                            }
                            if self.env[slot].window.is_some() {
                                self.err_at(
                                    e,
                                    format!(
                                        "`{id}` is a window of a slice: read its elements as \
                                         `{id}[i]` and its length as `{id}.len()`, or iterate over \
                                         it; other uses are not supported"
                                    ),
                                );
                                return None;
                            }
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
                    let a = self.expr(b, &u.expr, true)?;
                    Some(self.int_op_kind(
                        b,
                        quote!(!__ad_a),
                        &[("__ad_a", a)],
                        Kind::Discrete,
                        span,
                    ))
                }
                _ => {
                    let mut inner = &*u.expr;
                    while let Expr::Unary(syn::ExprUnary {
                        op: syn::UnOp::Deref(_),
                        expr,
                        ..
                    })
                    | Expr::Paren(syn::ExprParen { expr, .. }) = inner
                    {
                        inner = expr;
                    }
                    if let Expr::MethodCall(mc) = inner {
                        // `*x.iter().max_by(..).unwrap()`: the items of a chain are values here.
                        let consumer = match &*mc.receiver {
                            Expr::MethodCall(m)
                                if mc.method == "unwrap" || mc.method == "expect" =>
                            {
                                m
                            }
                            _ => mc,
                        };
                        if chain::parse_chain(&consumer.receiver, false).is_some() {
                            return self.expr(b, inner, true);
                        }
                    }
                    if let Expr::Path(p) = inner {
                        if let Some(slot) =
                            p.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
                        {
                            if self.env[slot].element || self.env[slot].refs > 0 {
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
                        "dereferencing (`*x`) is supported for the items of loops, iterator \
                         adapters and closure parameters; pass the value itself",
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
                if let Some(w) = self.window_named(&ix.expr) {
                    // `w[i]` of a window is `x[start + i]`.
                    let i = self.expr(b, &ix.index, true)?;
                    let at = self.inst1(
                        b,
                        InstKind::Binary(BinOp::Add, w.start, i),
                        Kind::Discrete,
                        span,
                    );
                    let kind = if self.kind(w.base) == Kind::Discrete {
                        Kind::Discrete
                    } else {
                        Kind::Unknown
                    };
                    return Some(self.inst1(b, InstKind::Index(w.base, at), kind, span));
                }
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
            Expr::Macro(m) => match self.vec_macro(b, &m.mac, span) {
                Some(v) => v,
                None => self.opaque_macro(b, &m.mac, want, span),
            },
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
                self.for_loop(b, fl);
                None
            }
            Expr::While(w) => {
                self.while_loop(b, w);
                None
            }
            Expr::Loop(l) => {
                self.loop_loop(b, l);
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
                    "a closure here cannot be differentiated: closures are expanded where they \
                     are called: bind it (`let f = |x| ..;`) and call it (`f(a)`), or pass it to \
                     an iterator adapter (`map`, `filter`, `fold`, ..); a closure that is \
                     returned, stored or passed to another function is not supported",
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
            Expr::Array(a) if a.elems.iter().any(|e| !is_plain_literal(e)) => {
                self.array_literal(b, a)
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

    pub(super) fn binary(&mut self, b: Block, bin: &syn::ExprBinary) -> Option<Value> {
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
            None => self.logic(b, bin),
        }
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
        self.opaque_inst(b, m.to_token_stream(), name, Kind::Unknown, want, span)
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
        let (tokens, uses) = self.with_refs(b, &tokens.clone(), tokens, span);
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
    pub(super) fn free_uses(&mut self, tokens: &TokenStream) -> Vec<(syn::Ident, Value)> {
        let mut idents = Vec::new();
        collect_idents(tokens.clone(), &mut idents);
        let mut out: Vec<(syn::Ident, Value)> = Vec::new();
        for id in idents {
            let s = id.to_string();
            if out.iter().any(|(o, _)| *o == s) {
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
        let uses = self.free_uses(scan);
        let mut_refs = self.f.borrowed_mut_versions();
        // Code run as written works on copies: what it assigns would be lost.
        if let Ok(e) = syn::parse2::<Expr>(scan.clone()) {
            let mut names = AssignedNames(Vec::new(), Vec::new());
            names.visit_expr(&e);
            let mut seen: Vec<String> = Vec::new();
            for n in names.0 {
                if n.starts_with("__ad_") || seen.contains(&n) || self.lookup(&n).is_none() {
                    continue;
                }
                self.err(
                    span,
                    format!(
                        "this code runs as written (a method with a closure, or a macro), and it \
                         changes `{n}`, which the generated code could not see; write it as a \
                         `for` loop, or with the iterator adapters that are followed \
                         (`for_each`, `fold`, `map`, ..)"
                    ),
                );
                seen.push(n);
            }
        }
        let mut prefix = TokenStream::new();
        let mut out = Vec::new();
        for (id, v) in uses {
            let refs = self
                .lookup(&id.to_string())
                .map_or(0, |slot| self.env[slot].refs);
            if self.is_reference(v) || mut_refs.contains(&v) {
                // A reference is copied (a `&mut` one reborrowed) as it is.
                out.push((id.clone(), v));
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

    /// Whether a value may be a container (a `Vec`, an array, a `String`): a parameter of such
    /// a type, or what code run as written, a call or a mutation made. Numbers computed by
    /// operators, literals, element reads and casts are not.
    fn may_be_container(&self, v: Value) -> bool {
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

    /// Whether a value is a reference in the generated code (a parameter of reference type,
    /// `&x`, a field of a borrowed struct): copying it moves nothing.
    fn is_reference(&self, v: Value) -> bool {
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

    /// Comparisons, `&&`, `||` and bit operations: discrete results. Their operands are
    /// lowered as values (so the derivative sees what they read); `&&` and `||` evaluate
    /// their right side only when Rust would, as an `if`.
    pub(super) fn logic(&mut self, b: Block, bin: &syn::ExprBinary) -> Option<Value> {
        use syn::BinOp as B;
        let span = bin.span();
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
        let (l, r) = (l?, r?);
        let op = bin.op;
        if matches!(
            op,
            B::Eq(_) | B::Ne(_) | B::Lt(_) | B::Le(_) | B::Gt(_) | B::Ge(_)
        ) {
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
}

pub(super) fn collect_idents(tokens: TokenStream, out: &mut Vec<syn::Ident>) {
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
