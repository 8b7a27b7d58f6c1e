//! Expressions: literals, paths, operators, casts, tuples, fields, indexing, references, blocks;
//! the others are dispatched to the modules of their concern.

use super::*;
use crate::types::ModuleOp;

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
        let span = super::span::expr_span(e);
        if !want && self.sink_param_of(e).is_some() {
            // `stats.last = loss;`, `log.record(r);` of a `&mut` parameter the body only
            // writes into: run as written.
            self.sink(b, e);
            return None;
        }
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
                            if let Some(c) = self.env[slot].cell {
                                return self.cell_read(b, c, span);
                            }
                            if let Some(w) = self.env[slot].window {
                                // A window as a value (`dot(c, w)` of `for c in x.chunks(2)`,
                                // `chunks(2).map(|c| dot(c, w))`): a copy of its elements, lent,
                                // as a range slice `&x[a..b]` is (see `range_copy`). Windows
                                // are read-only (`chunks_mut` is rewritten to writes of `x`).
                                let copy = self.window_copy(id, w, span);
                                return self.expr(b, &syn::parse_quote!(&#copy), true);
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
                    if let Some(ty) = self.operand_struct(a, &u.expr) {
                        // `-v` of a struct of the user's: its `Neg::neg` (see `binary`).
                        return Some(self.struct_operator(b, ty, "neg", u.op.span(), vec![a]));
                    }
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
                    if let Some(v) = self.accessor_read(b, inner) {
                        // `*v.first().unwrap()`: an element read.
                        return v;
                    }
                    if let Some(c) = self.cell_named(inner) {
                        return self.cell_read(b, c, span);
                    }
                    if let Some(v) = self.deref_mut_param(inner) {
                        // `*c` of a `&mut` parameter: a copy of what it holds now, which the
                        // backward pass may read after the caller's value has changed.
                        let to_owned = syn::Ident::new("to_owned", span);
                        return self.method(b, to_owned, v, Vec::new(), false, None, span);
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
                    // `*big[i]` of a local `Vec<&f64>` (`big.push(v)` of a loop's item, or
                    // `let big: Vec<&f64> = x.iter().filter(..).collect()`): a local container
                    // holds the values here, so the element is what the reference points to.
                    if let Expr::Index(ix) = inner
                        && let Expr::Path(p) = chain::strip(&ix.expr)
                        && let Some(slot) =
                            p.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
                        && self.env[slot]
                            .value
                            .is_some_and(|v| !matches!(self.f.value(v).def, ValueDef::Param(_)))
                    {
                        return self.expr(b, inner, true);
                    }
                    if let Expr::Path(p) = inner {
                        if let Some(slot) =
                            p.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
                        {
                            if self.env[slot].element || self.env[slot].refs > 0 {
                                // `*w` of a string item bound as its reference (see
                                // `source_item`): the element it borrows.
                                if let Some(v) = self.env[slot].value
                                    && let ValueDef::Result(i, 0) = self.f.value(v).def
                                    && let InstKind::Ref(x) = self.f.inst(i).kind
                                {
                                    return Some(x);
                                }
                                return self.env[slot].value;
                            }
                            // `let r = &x; .. *r`: the value `r` borrows.
                            if let Some(v) = self.env[slot].value
                                && let ValueDef::Result(i, 0) = self.f.value(v).def
                                && let InstKind::Ref(x) = self.f.inst(i).kind
                            {
                                return Some(x);
                            }
                            // `*x` of `let x = &s.a;` (`let S { a, .. } = s;` of a
                            // reference): the field, read by value where `x` was bound.
                            if let Some(v) = self.env[slot].value
                                && let ValueDef::Result(i, 0) = self.f.value(v).def
                                && let InstKind::Deref(r) = self.f.inst(i).kind
                                && let ValueDef::Result(j, 0) = self.f.value(r).def
                                && matches!(self.f.inst(j).kind, InstKind::FieldRef(..))
                            {
                                return Some(v);
                            }
                            // `*x` of `let x = &s.a;` (`let S { a, .. } = s;` of `s: &S`).
                            if let Some(v) = self.env[slot].value
                                && let ValueDef::Result(i, 0) = self.f.value(v).def
                                && matches!(self.f.inst(i).kind, InstKind::FieldRef(..))
                            {
                                let k = self.kind(v);
                                return Some(self.inst1(b, InstKind::Deref(v), k, span));
                            }
                            // `*r` of `let r = if c { &x[0] } else { &y[0] };`: what the branch
                            // taken refers to, where every branch yields a reference.
                            if let Some(v) = self.env[slot].value
                                && self.yields_refs(v)
                            {
                                let k = self.kind(v);
                                return Some(self.inst1(b, InstKind::Deref(v), k, span));
                            }
                            // `*x` of a parameter `x: &f64`: a copy of what it points to.
                            if let Some(v) = self.env[slot].value
                                && let ValueDef::Param(n) = self.f.value(v).def
                                && matches!(self.f.params[n].ty, syn::Type::Reference(_))
                            {
                                let k = self.kind(v);
                                return Some(self.inst1(b, InstKind::Deref(v), k, span));
                            }
                            // The same parameter, neither `mut` nor `&mut`, where a loop carries
                            // it (a write through it in the loop, `*x += y`, is an error of its
                            // own): read as above, not a second error that says reference
                            // parameters are supported.
                            if self.env[slot].param
                                && !self.env[slot].mutable
                                && let Some(v) = self.env[slot].value
                                && self.f.params.iter().any(|q| {
                                    q.ident == self.env[slot].name
                                        && matches!(q.ty, syn::Type::Reference(_))
                                })
                            {
                                let k = self.kind(v);
                                return Some(self.inst1(b, InstKind::Deref(v), k, span));
                            }
                            if self.env[slot]
                                .value
                                .is_some_and(|v| self.poisoned.contains(&v))
                            {
                                return None;
                            }
                            // `*y` of `Some(y)` matched through a reference (`if let Some(y) =
                            // obs` of `for obs in ys`, `match m` of `m: &Option<f64>`): the
                            // arm reads the payload as its value (see `bound_payloads`).
                            if let Some(v) = self.env[slot].value
                                && let ValueDef::Result(i, 0) = self.f.value(v).def
                                && let InstKind::Opaque { mac: Some(m), .. } = &self.f.inst(i).kind
                                && m == "bound_payload"
                            {
                                return Some(v);
                            }
                        }
                    }
                    // `*c.borrow()` of a parameter left out of the derivative (a `RefCell`
                    // parameter, read as data), and a chain of methods on one whose arguments
                    // are data (`*vocab.get(w).unwrap_or(&0)` of `vocab: &HashMap<&str,
                    // usize>`): as written.
                    if let Expr::MethodCall(mc) = inner {
                        let mut mc = mc;
                        let mut data = mc.args.iter().all(|a| self.data_expr(a));
                        while let Expr::MethodCall(m) = chain::strip(&mc.receiver) {
                            mc = m;
                            data &= mc.args.iter().all(|a| self.data_expr(a));
                        }
                        if data
                            && let Expr::Path(p) = chain::strip(&mc.receiver)
                            && self.inactive_param(p)
                        {
                            return self.opaque(b, e.to_token_stream(), Kind::Unknown, true, span);
                        }
                    }
                    self.err_at(
                        e,
                        "dereferencing (`*x`) is supported for the items of loops, iterator \
                         adapters and closure parameters, reference parameters (`x: &f64`) and \
                         references bound with `let r = &x`; pass the value itself",
                    );
                    None
                }
            },
            Expr::Binary(bin) => self.binary(b, bin),
            Expr::Assign(a) => {
                // `psi[i] = a.scale(c) - b.scale(s);` of a `Vec` of the user's structs: the
                // arithmetic is the struct's, as that of a struct's `+` or `-` operand is.
                let target = self
                    .struct_var(&a.left)
                    .or_else(|| self.element_struct(&a.left));
                self.expect_struct(&a.right, target);
                let mut v = self.expr(b, &a.right, true);
                if let Some(r) = v.and_then(|nv| self.reborrowed(b, &a.left, nv)) {
                    v = Some(r);
                }
                self.assign_target(b, &a.left, v, false);
                // `rng = Lcg::new(9);`: built from data again (see `Binding::data`).
                if let Expr::Path(p) = &*a.left
                    && let Some(slot) = p
                        .path
                        .get_ident()
                        .and_then(|id| self.lookup(&id.to_string()))
                {
                    self.env[slot].data = self.data_value(&a.right);
                }
                None
            }
            Expr::Call(_) | Expr::MethodCall(_) if self.lends_mut_param(e) => None,
            // `f(&mut y, k)` of a local closure: expanded where it is called, as any closure.
            Expr::Call(c)
                if super::calls::passes_mut(e) && self.closure_named(&c.func).is_some() =>
            {
                let def = self.closure_named(&c.func)?;
                self.closure_buffer_call(b, c, def, want)
            }
            Expr::MethodCall(mc)
                if super::calls::passes_mut(e) && self.self_lent_call(mc).is_some() =>
            {
                // `opt.update(&mut w, &g)` on a `mut` local: `Opt::__ad_self_update(&mut opt,
                // &mut w, &g)`, lending the struct beside the buffers.
                let call = self.self_lent_call(mc)?;
                self.buffer_call(b, &call, want)
            }
            Expr::Call(_) | Expr::MethodCall(_) if super::calls::passes_mut(e) => {
                // `h(x, &mut y)`: `{ let t = __ad_mut_h(x, y); y = t.0; .. }`.
                self.buffer_call(b, e, want)
            }
            Expr::MethodCall(mc) if !want && self.method_on_mut_param(mc).is_some() => {
                let name = self.method_on_mut_param(mc)?;
                let m = &mc.method;
                self.err_at(
                    m,
                    format!(
                        "`{name}.{m}(..)` on a parameter taken by `&mut` is not followed (a \
                         `&mut self` method's new state would have to be written back through \
                         the reference); copy it into a local first (`let mut {name} = \
                         {name}.clone();`), call `{m}` on the copy and return what the caller \
                         needs"
                    ),
                );
                None
            }
            Expr::MethodCall(mc) if !want && self.mut_self_call(mc).is_some() => {
                // `s.step(dt);` of a `&mut self` method: `s = State::__ad_mut_step(s, dt)`.
                let assign = self.mut_self_call(mc)?;
                let n0 = self.f.insts.len();
                let v = self.expr(b, &assign, false);
                // The receiver is the copy's first argument, lent `&mut` to the method.
                self.record_buffer_call(n0, 0, vec![0]);
                v
            }
            Expr::MethodCall(mc) if !want && self.unknown_item_mut_call(mc).is_some() => {
                let msg = self.unknown_item_mut_call(mc)?;
                self.err_at(&mc.method, msg);
                None
            }
            Expr::MethodCall(mc) => match self.accessor_read(b, e) {
                Some(v) => v,
                None => {
                    let outer = std::mem::replace(&mut self.dropped_method, !want);
                    let v = self.method_call(b, mc);
                    self.dropped_method = outer;
                    v
                }
            },
            Expr::Call(c) => self.call(b, c),
            Expr::Cast(c) => {
                if let Some(v) = self.cast_count(b, c) {
                    return v;
                }
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
                if subslice::range_index(e).is_some() {
                    return self.range_copy(b, e);
                }
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
                let mut idx = self.expr(b, &ix.index, true)?;
                // A map indexed by a loop's item taken by reference (`idx[c]` of `for c in
                // chars.iter()`): the item is a reference in Rust, which `Index` of a map
                // takes, and its value here.
                if self.names_map(&ix.expr)
                    && matches!(chain::strip(&ix.index), Expr::Path(p) if p
                        .path
                        .get_ident()
                        .and_then(|id| self.lookup(&id.to_string()))
                        .is_some_and(|slot| self.env[slot].refs > 0))
                {
                    idx = self.inst1(b, InstKind::Ref(idx), Kind::Discrete, span);
                }
                let kind = if self.kind(base) == Kind::Discrete {
                    Kind::Discrete
                } else {
                    Kind::Unknown
                };
                Some(self.inst1(b, InstKind::Index(base, idx), kind, span))
            }
            Expr::Reference(r) => {
                if let Some(m) = &r.mutability {
                    // Calls that lend `&mut x` (`step(&mut x)`, `x.iter_mut()`, ..) are
                    // followed where they are lowered; this is `&mut` kept or passed on.
                    let msg = match chain::strip(&r.expr) {
                        Expr::Path(p) if p.path.get_ident().is_some() => {
                            let id = p.path.to_token_stream();
                            format!(
                                "`&mut {id}` kept in a variable or passed on here is a second \
                                 name for `{id}`, whose changes the derivative cannot follow: \
                                 change `{id}` itself (`{id}[i] = ..`, `{id}.push(..)`), or lend \
                                 it in a call of a function that changes it (`step(&mut {id})`)"
                            )
                        }
                        _ => "`&mut` is not supported here in a differentiated function: \
                              change the variable itself, or lend it in a call of a function \
                              that changes it (`step(&mut x)`)"
                            .to_string(),
                    };
                    self.err(m.span, msg);
                    return None;
                }
                if let Expr::Field(fe) = &*r.expr {
                    if matches!(fe.member, syn::Member::Named(_)) {
                        return self.field_ref(b, fe);
                    }
                }
                // `&s[1..]` of text: the range is the reference (see `range_copy`).
                if self.text_range(&r.expr).is_some() {
                    return self.expr(b, &r.expr, true);
                }
                let v = self.expr(b, &r.expr, true)?;
                let k = self.kind(v);
                Some(self.inst1(b, InstKind::Ref(v), k, span))
            }
            Expr::Macro(m) => {
                // ndarray's `array![a, b]` and `array![[a, b], [c, d]]`: `arr1(&[..])` and
                // `arr2(&[..])`, which it expands to.
                if let Some(e) = ndarray_literal(&m.mac) {
                    return self.expr(b, &e, want);
                }
                match self.vec_macro(b, &m.mac, span) {
                    Some(v) => v,
                    None => match self.join_macro(b, &m.mac, span) {
                        Some(v) => v,
                        None => self.opaque_macro(b, &m.mac, want, span),
                    },
                }
            }
            Expr::Block(bl) => {
                if let Some(l) = &bl.label {
                    self.err_at(
                        &l,
                        "a labeled block holding an unlabeled `break` or `continue` is not \
                         supported (Rust asks for the label there, E0695): write `break 'l` \
                         with the label of the block or of the loop meant",
                    );
                    return None;
                }
                if diverges_block(&bl.block) {
                    self.err_at(
                        e,
                        "`return`, `break` or `continue` inside a block expression is \
                         followed where the block is a statement or a `let`'s value (`let z = \
                         { if c { return r; } v };`); here, bind the block to a variable \
                         first (`let z = { .. };`) and use the variable",
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
            Expr::If(_) | Expr::Match(_) if want && subslice::owned_branches(e).is_some() => {
                let owned = subslice::owned_branches(e)?;
                self.expr(b, &owned, want)
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
                    "a closure here cannot be differentiated: closures are expanded where they \
                     are called: bind it (`let f = |x| ..;`) and call it (`f(a)`), or pass it to \
                     an iterator adapter (`map`, `filter`, `fold`, ..); a closure that is \
                     returned, stored or passed to another function is not supported",
                );
                None
            }
            Expr::Unsafe(u) => {
                // `unsafe { SCALE }`: a read of a `static mut` (a global setting).
                let static_read = match u.block.stmts.as_slice() {
                    [syn::Stmt::Expr(Expr::Path(p), None)] => {
                        p.path.get_ident().is_some_and(|id| {
                            let s = id.to_string();
                            s.chars().any(|c| c.is_ascii_uppercase())
                                && !s.chars().any(|c| c.is_ascii_lowercase())
                        })
                    }
                    _ => false,
                };
                let msg = if static_read {
                    "`unsafe` blocks are not supported in differentiated functions, and this one \
                     reads a `static mut`: read it in the caller and pass the value in as a \
                     parameter (left out with `wrt(..)` where it is a setting, not a variable \
                     to differentiate), or make it a `const`"
                } else {
                    "`unsafe` blocks are not supported in differentiated functions; call a safe \
                     function that wraps them (with its own `_vjp`)"
                };
                self.err_at(e, msg);
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
                self.err_at(
                    e,
                    "`let` is supported as the condition of an `if` or a `while` (`if let Some(v) \
                     = o`, chained with `&&`), not inside other expressions; use `match`",
                );
                None
            }
            Expr::Range(_) => {
                self.err_at(
                    e,
                    "ranges are supported as the iterator of a `for` loop or a chain and as the \
                     index of a slice (`&x[a..b]`)",
                );
                None
            }
            Expr::Try(_) => {
                self.err_at(
                    e,
                    "the `?` operator is not supported in differentiated functions: return a \
                     float and leave early where a value is missing (`let Some(&v) = x.get(i) \
                     else { return 0.0 };`), handle the error before calling, or `match` on the \
                     value",
                );
                None
            }
            Expr::Array(a) if a.elems.iter().any(|e| !is_plain_literal(e)) => {
                self.array_literal(b, a)
            }
            Expr::Repeat(r) if !is_plain_literal(&r.expr) && repeat_len(r).is_some() => {
                self.array_repeat(b, r)
            }
            Expr::Array(_) | Expr::Repeat(_) => {
                // Built as written (`[0.0; 4]`, the index `[i, j]`); its elements are not
                // differentiated, so fill a local array element by element instead.
                self.opaque(b, e.to_token_stream(), Kind::Unknown, want, span)
            }
            Expr::Struct(es) => self.struct_literal(b, es, want),
            _ => {
                self.err_at(
                    e,
                    "this expression is not supported in differentiated functions",
                );
                None
            }
        }
    }

    /// `target = v` (after the operation of a compound assignment: `compound`): a variable,
    /// an element, or an element or `&mut` parameter written through a reference.
    fn assign_target(&mut self, b: Block, target: &Expr, v: Option<Value>, compound: bool) {
        match target {
            Expr::Index(ix) if matches!(&*ix.expr, Expr::Field(_)) => {
                self.assign_field_element(b, ix, v)
            }
            Expr::Index(ix) => self.assign_index(b, ix, v),
            Expr::Field(fe) => self.assign_field(b, fe, v),
            // `(a, b) = (b, a + b)`: the right side is evaluated first, then each element
            // assigned (`_` skips one).
            Expr::Tuple(t) if !compound => {
                for (k, elem) in t.elems.iter().enumerate() {
                    if matches!(elem, Expr::Infer(_)) {
                        continue;
                    }
                    let part = v.map(|v| self.field(b, v, k as u32, elem.span()));
                    self.assign_target(b, elem, part, false);
                }
            }
            left => {
                if !self.write_through(b, left, v, compound) {
                    let v = v.map(|v| self.typed_as_declared(b, left, v, compound));
                    self.assign(left, v)
                }
            }
        }
    }

    /// An operand of arithmetic or the receiver of a float method (`a.slice(s![1..]).exp()`)
    /// that is a view of an array (`a.slice(s![..])`, `a.t()`, `a.view()`, or a reference to
    /// one) as an owned copy, `.to_owned()` as the user would
    /// write it: the operators' rules and the adjoints are those of owned arrays.
    pub(super) fn owned_view(&mut self, b: Block, v: Value) -> Value {
        let def = |s: &Self, v: Value| match s.f.value(v).def {
            ValueDef::Result(i, 0) => Some((s.f.inst(i).kind.clone(), s.f.inst(i).span)),
            _ => None,
        };
        let (inner, by_ref) = match def(self, v) {
            Some((InstKind::Ref(u), _)) => (u, true),
            _ => (v, false),
        };
        let span = match def(self, inner) {
            // A view method's result (an owned array's `insert_axis` too), or a reshape of a
            // view (`x.view().into_shape_with_order((2, 3))`).
            Some((InstKind::Prim { prim, .. }, span))
                if prim.has(Flags::VIEW) || self.f.is_view(inner) =>
            {
                span
            }
            // A parameter of a view type (`b: ArrayView1<'_, f64>`).
            _ => match self.f.view_param(inner) {
                Some(span) => span,
                None => return v,
            },
        };
        let Some(to_owned) = PrimId::method("to_owned") else {
            return v;
        };
        let k = self.kind(inner);
        let owned = self.inst1(
            b,
            InstKind::Prim {
                prim: to_owned,
                args: vec![inner],
                unwrap: false,
            },
            k,
            span,
        );
        match by_ref {
            true => self.inst1(b, InstKind::Ref(owned), k, span),
            false => owned,
        }
    }

    pub(super) fn binary(&mut self, b: Block, bin: &syn::ExprBinary) -> Option<Value> {
        use syn::BinOp as B;
        let span = super::span::binary_span(bin);
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
        // The struct this expression is an operand of (see `Lowering::expected_struct`).
        let expected = self.expected_struct.take();
        match arith(&bin.op) {
            Some(op) => {
                let same_type = matches!(op, BinOp::Add | BinOp::Sub);
                let expected = expected.filter(|_| op != BinOp::Rem && !compound);
                // `place op= value` where either side changes a variable (`ema += { ema *=
                // 0.5; x }`, `a[i] += { i += 1; a[i] }`, `a[{ i += 1; i }] += x`): Rust
                // evaluates the value first, then the place, once, for floats and integers.
                // The value is lowered first here, and the place's indices are computed once
                // and named, so that its read and its write are of the same element.
                let ordered = compound
                    && (self.changes_variables(&bin.right) || self.index_changes(&bin.left));
                let (first, pinned) = match ordered {
                    true => (
                        Some(self.operand(b, &bin.right, None)),
                        Some(self.pinned_place(b, &bin.left)?),
                    ),
                    false => (None, None),
                };
                let left = pinned.as_ref().unwrap_or(&*bin.left);
                let l = self.operand(b, left, expected.clone());
                // The right operand of a struct's `+` or `-` is of its type (`s + k1 * h`).
                let known = l.and_then(|l| self.operand_struct(l, left));
                let expect_right = match same_type && op != BinOp::Rem {
                    true => known.or_else(|| expected.clone()),
                    false => None,
                };
                let r = match first {
                    Some(r) => r,
                    None => self.operand(b, &bin.right, expect_right),
                };
                let (l, r) = (self.owned_view(b, l?), self.owned_view(b, r?));
                // What a struct's `*` or `/` returned beside a float (`d * d + 0.01`, `0.5 *
                // (a * b)` of a dot product written as `*`) is a float: the struct's `Add` or
                // `Mul` would take no float there (one operator, one differentiated impl).
                let left_float = self.struct_product(l) && self.kind(r) == Kind::Float;
                let right_float = self.struct_product(r) && self.kind(l) == Kind::Float;
                if op != BinOp::Rem {
                    // `a + b` and `a - b` take both operands of one type: a struct on the
                    // right (`self.bodies[i].v + acc * dt`) says the left's.
                    let ty = self
                        .operand_struct(l, left)
                        .filter(|_| !left_float)
                        .or_else(|| {
                            same_type
                                .then(|| self.operand_struct(r, &bin.right))
                                .flatten()
                                .filter(|_| !right_float)
                        })
                        .or_else(|| {
                            // An operand of a struct's arithmetic whose left operand is what a
                            // function of the user's returned (`k1 * h` in `s + k1 * h`, `k1`
                            // of `let k1 = rate(s);`): that result is the struct. (A guess
                            // rustc checks: the operator is called through the type.)
                            let ty = expected.clone()?;
                            self.user_call_result(l).then(|| {
                                self.struct_values.push((l, ty.clone()));
                                ty
                            })
                        })
                        .or_else(|| {
                            // A product or quotient of what a function or method of the
                            // user's returned and a struct of the user's (`a.conj() * b` of
                            // complex numbers): the result is the struct's, for a float on
                            // the left of one is not followed (below), and rustc checks the
                            // guess, the operator being called through the type.
                            let ty = self.operand_struct(r, &bin.right)?;
                            self.user_call_result(l).then(|| {
                                self.struct_values.push((l, ty.clone()));
                                ty
                            })
                        })
                        .or_else(|| {
                            // What a method of the struct returned on data (`t.conj() * q` of
                            // a parameter `t: C` left out with `wrt`, run as written), beside a
                            // differentiated struct of that type: the struct, as in a chain of
                            // its methods, so the operator is the struct's (it was the error
                            // below, whose advice to swap the operands changes a product that
                            // does not commute).
                            let ty = self.operand_struct(r, &bin.right)?;
                            let ValueDef::Result(i, 0) = self.f.value(l).def else {
                                return None;
                            };
                            let InstKind::Method { recv, .. } = &self.f.inst(i).kind else {
                                return None;
                            };
                            (self.struct_type_of(*recv).as_ref() == Some(&ty)).then_some(ty)
                        });
                    if let Some(ty) = ty {
                        // `a - b` of a struct of the user's is its `Sub::sub`, differentiated
                        // through the `sub_vjp` that `#[differentiate]` on `impl Sub for V`
                        // generates; `a -= b` is `a = a - b`.
                        let name = operator_method(op);
                        let rhs = self.operand_struct(r, &bin.right);
                        // Which of the impls of the operator that a module marked
                        // `#[differentiate]` around the function declares is called: the one
                        // whose right operand is the struct `rhs` names, or a float.
                        let rhs_name =
                            (rhs.as_ref()).and_then(|p| Some(p.segments.last()?.ident.to_string()));
                        let declared = self.module_op(&ty, name, rhs_name.as_deref());
                        let own = declared.as_ref().and_then(|o| o.own_name());
                        // A product of structs of two types (`m * v` of `impl Mul<V2> for
                        // M2`, a quaternion or a transform applied to a vector) is the right
                        // one's, as a matrix times a vector is a vector: what is done with it
                        // next is the right struct's (a guess rustc checks, the calls going
                        // through the type).
                        let right = rhs
                            .filter(|right| matches!(op, BinOp::Mul | BinOp::Div) && *right != ty);
                        let name = own.as_deref().unwrap_or(name);
                        let v = self.struct_operator(b, ty, name, bin.op.span(), vec![l, r]);
                        if let Some(declared) = &declared {
                            self.typed_as_operator(v, declared);
                        }
                        if let Some(right) = right
                            && self.kind(v) != Kind::Float
                        {
                            self.struct_values.push((v, right));
                        }
                        if compound {
                            self.assign_target(b, left, Some(v), true);
                            return None;
                        }
                        return Some(v);
                    }
                }
                // A struct of the user's on the right only (`2.0 * v`, `impl Mul<V2> for f64`):
                // the operator is the left type's, which has no generated items to call.
                if let Some(ty) = self.operand_struct(r, &bin.right).filter(|_| !right_float) {
                    let name = operator_method(op);
                    // A float on the left of an operator that the module marked
                    // `#[differentiate]` around the function differentiates with the struct on
                    // the right (`dt * v` of `#[differentiate] impl Mul<V3> for f64`): the
                    // struct's associated function standing for it (see `scalar_left`).
                    if !compound
                        && let Some(last) = ty.segments.last()
                        && let Some(prim) =
                            crate::types::module_scalar_left(name, &last.ident.to_string())
                    {
                        let at = bin.op.span();
                        let f = syn::Ident::new(&crate::scalar_left_name(&prim, name), at);
                        let path: syn::Path = syn::parse_quote_spanned!(at=> #ty::#f);
                        let call = InstKind::Call {
                            path,
                            args: vec![l, r],
                        };
                        let v = self.inst1(b, call, Kind::Unknown, at);
                        self.struct_values.push((v, ty));
                        return Some(v);
                    }
                    let op = &bin.op;
                    let op = quote::quote!(#op).to_string();
                    let ty = quote::quote!(#ty).to_string().replace(' ', "");
                    // A left operand whose type the macro does not see (`self.m[0][0] * v[0]`
                    // of a field holding the struct) may be the struct too.
                    let as_written = |e: &Expr| {
                        super::calls::field_text(e).or_else(|| super::calls::element_text(e))
                    };
                    let place = matches!(super::chain::strip(left), Expr::Field(_))
                        || super::calls::element_text(left).is_some_and(|t| t.contains('.'));
                    let unseen = match (place && self.kind(l) != Kind::Discrete, as_written(left)) {
                        (false, _) | (_, None) => String::new(),
                        (true, Some(text)) => {
                            let right = as_written(&bin.right).unwrap_or_else(|| {
                                let r = &bin.right;
                                quote::quote!(#r).to_string()
                            });
                            format!(
                                "; where `{text}` is a `{ty}` too, which the macro does not see \
                                 (a field's type is not in view), call the operator through its \
                                 type, `{ty}::{name}({text}, {right})`, bind the operand to \
                                 a local declared with its type, `let a: {ty} = {text};`, or \
                                 put the structs and this function in a module marked \
                                 `#[differentiate]` (`#[differentiate] mod sim {{ .. }}`), \
                                 where the macro sees the fields' types"
                            )
                        }
                    };
                    // A local of a differentiated value bound without its type (`let phi =
                    // z.scale(k).exp();`) may be the struct too, where the macro does not see
                    // it: what a method returned, or a float method's name on it.
                    let local = match super::chain::strip(left) {
                        Expr::Path(p) => p
                            .path
                            .get_ident()
                            .and_then(|id| self.lookup(&id.to_string()))
                            .and_then(|slot| self.env[slot].value)
                            .is_some_and(|v| match self.f.value(v).def {
                                // What a call returned, or a float rule given one.
                                ValueDef::Result(i, 0) => match &self.f.inst(i).kind {
                                    InstKind::Call { .. } => true,
                                    InstKind::Prim { args, .. } => {
                                        args.first().is_some_and(|&a| self.kind(a) == Kind::Unknown)
                                    }
                                    _ => false,
                                },
                                _ => false,
                            })
                            .then(|| quote::quote!(#p).to_string()),
                        _ => None,
                    };
                    let unseen = match (unseen.is_empty(), local) {
                        (true, Some(name)) => format!(
                            "; where `{name}` is a `{ty}` too, which the macro does not see (it \
                             knows a local of the struct by a literal, a constructor, the \
                             struct's `+` or `-`, or a declared type), declare it, `let {name}: \
                             {ty} = ..;`, and call a method named like a float's on what \
                             another method returned through the type, `{ty}::exp(z.scale(k))`"
                        ),
                        _ => unseen,
                    };
                    let trait_name = match name {
                        "add" => "Add",
                        "sub" => "Sub",
                        "mul" => "Mul",
                        _ => "Div",
                    };
                    self.err(
                        bin.op.span(),
                        format!(
                            "`{op}` with a `{ty}` of yours on the right only: an operator is \
                             followed where its left operand is the struct (`v * 2.0` through \
                             `#[differentiate] impl Mul<f64> for {ty}`); write it that way \
                             round, or as a `#[differentiate]` method, or put `#[differentiate] \
                             impl {trait_name}<{ty}> for f64` and this function in a module \
                             marked `#[differentiate]` (`#[differentiate] mod sim {{ .. }}`), \
                             which follows it{unseen}"
                        ),
                    );
                    return None;
                }
                let l = match compound {
                    true => self.field_copy(b, l),
                    false => l,
                };
                // With an integer literal on either side (`l.n_in - 1`), both are integers:
                // Rust's arithmetic on floats and arrays of them takes no integer. An operand
                // of a type the macro does not know is checked to be one in the generated code
                // (a struct's `impl Mul<i32>` on a field would be a product taken for data).
                // (A float beside it is the user's mistake, which rustc's error and the
                // arithmetic rule's note name: `acc += 1` of `acc = 0.0`.)
                let int_literal = is_int_literal(left) || is_int_literal(&bin.right);
                // A named field's read takes the kind of its struct, which is a float once a
                // float is written into any of its fields (`r.buf[r.head] = x; r.head += 1;`):
                // beside an integer literal, an integer variable (`r.head + stride` of
                // `stride: usize`) or data (a field known to hold an integer) it is an
                // integer, as Rust adds no integer to a float or an array of floats (checked
                // so in the generated code).
                let field_int = |v: Value, other: Value| {
                    (int_literal || self.certainly_integer(other) || self.int_field_read(other, 8))
                        && self.named_field_read(v, 8)
                };
                let (l_field, r_field) = (field_int(l, r), field_int(r, l));
                let float = (self.kind(l) == Kind::Float && !l_field)
                    || (self.kind(r) == Kind::Float && !r_field);
                // An integer literal beside what is certainly a float (`2 * x` of `x: f64`,
                // `acc += 1` of `let mut acc = 0.0;`): the user's mistake, which rustc reports
                // on the function as written, and the generated code in many more errors of
                // the runtime's types. One error here says what to write.
                let (lit, other) = match is_int_literal(left) {
                    true => (left, r),
                    false => (&*bin.right, l),
                };
                // So is an `f64` beside an `f32`, each named so (`x * std::f64::consts::PI` of
                // `x: f32`): the one that is a literal or a constant is named, else the right.
                if let (Some(wl), Some(wr)) = (self.float_width(l), self.float_width(r))
                    && wl != wr
                {
                    let constant = |e: &Expr| {
                        matches!(super::chain::strip(e), Expr::Lit(_) | Expr::Path(_))
                            && !matches!(super::chain::strip(e), Expr::Path(p) if p.path.get_ident().is_some())
                    };
                    let (e, from, to) = match constant(left) && !constant(&bin.right) {
                        true => (left, wl, wr),
                        false => (&*bin.right, wr, wl),
                    };
                    let text = quote::quote!(#e).to_string().replace(' ', "");
                    let or_constant = if constant(e) {
                        format!(
                            " (or write the constant of `{to}`: `1.5{to}`, `std::{to}::consts::PI`)"
                        )
                    } else {
                        String::new()
                    };
                    self.err(
                        e.span(),
                        format!(
                            "`{text}` is an `{from}` beside an `{to}`: Rust's arithmetic does not \
                             mix float types; convert it, `{text} as {to}`{or_constant}"
                        ),
                    );
                    return None;
                }
                // So is an integer variable beside a float (`sum / n` of `let n = x.len();`).
                let mixed = [(left, l, r), (&*bin.right, r, l)]
                    .into_iter()
                    .find(|&(_, i, f)| self.certainly_integer(i) && self.certainly_float(f));
                if let (false, Some((e, _, _))) = (int_literal, mixed) {
                    let text = quote::quote!(#e).to_string().replace(' ', "");
                    self.err(
                        e.span(),
                        format!(
                            "`{text}` is an integer beside a float: Rust's arithmetic does not \
                             mix them; convert it, `{text} as f64` (or `as f32`)"
                        ),
                    );
                    return None;
                }
                if int_literal
                    && !(is_int_literal(left) && is_int_literal(&bin.right))
                    && self.certainly_float(other)
                {
                    let text = quote::quote!(#lit).to_string();
                    self.err(
                        lit.span(),
                        format!(
                            "`{text}` is an integer beside a float: Rust's float arithmetic \
                             takes no integer; write the literal as a float, `{text}.0`"
                        ),
                    );
                    return None;
                }
                let (l, r, k) = match (int_literal || l_field || r_field) && !float {
                    true => (
                        self.known_integer(b, l, l_field, span),
                        self.known_integer(b, r, r_field, span),
                        Kind::Discrete,
                    ),
                    false => (l, r, self.kind(l).join(self.kind(r))),
                };
                let v = self.inst1(b, InstKind::Binary(op, l, r), k, span);
                if compound {
                    self.assign_target(b, left, Some(v), true);
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
                // What the desugaring before the lowering leaves (see
                // `syntax::desugar_bit_assignments`): a place or a value that changes a variable.
                let op = &bin.op;
                let op = quote::quote!(#op).to_string();
                let bare = op.trim_end_matches('=');
                self.err(
                    span,
                    format!(
                        "`{op}` whose place or value changes a variable is not supported; \
                         compute the value first, `let m = ..; x = x {bare} m;`"
                    ),
                );
                None
            }
            None => self.logic(b, bin),
        }
    }
}

impl Lowering {
    /// Whether an index of the place `e` (`a[{ i += 1; i }]`, `m[i][next(&mut k)]`) changes a
    /// variable when it is computed.
    fn index_changes(&self, e: &Expr) -> bool {
        match e {
            Expr::Index(ix) => self.changes_variables(&ix.index) || self.index_changes(&ix.expr),
            Expr::Field(f) => self.index_changes(&f.base),
            Expr::Paren(p) => self.index_changes(&p.expr),
            _ => false,
        }
    }

    /// The place `e` with each index that is more than a literal or a variable computed now,
    /// in Rust's order (the container's own indices first), and named by a hidden variable
    /// (`a[__ad_ix7]`): a compound assignment reads and writes the place, which would compute
    /// such an index twice, after the value.
    fn pinned_place(&mut self, b: Block, e: &Expr) -> Option<Expr> {
        Some(match e {
            Expr::Index(ix) => {
                let mut ix = ix.clone();
                *ix.expr = self.pinned_place(b, &ix.expr)?;
                if !matches!(&*ix.index, Expr::Path(_) | Expr::Lit(_)) {
                    let v = self.expr(b, &ix.index, true)?;
                    let name = quote::format_ident!("__ad_ix{}", v.index());
                    self.hidden(&name.to_string(), v);
                    *ix.index = syn::parse_quote_spanned!(ix.index.span()=> #name);
                }
                Expr::Index(ix)
            }
            Expr::Field(f) => {
                let mut f = f.clone();
                *f.base = self.pinned_place(b, &f.base)?;
                Expr::Field(f)
            }
            Expr::Paren(p) => self.pinned_place(b, &p.expr)?,
            e => e.clone(),
        })
    }

    /// Sets the struct the value `e` is to be of, where `e` is arithmetic (see
    /// `Lowering::expected_struct`): the next `binary` takes it.
    pub(super) fn expect_struct(&mut self, e: &Expr, ty: Option<syn::Path>) {
        if ty.is_some() && matches!(e, Expr::Binary(_)) {
            self.expected_struct = ty;
        }
    }

    /// An operand of arithmetic, lowered with the struct it is expected to be of where it is
    /// arithmetic itself (see `Lowering::expected_struct`).
    fn operand(&mut self, b: Block, e: &Expr, expected: Option<syn::Path>) -> Option<Value> {
        if matches!(super::chain::strip(e), Expr::Binary(_)) {
            self.expected_struct = expected;
        }
        let v = self.expr(b, e, true);
        self.expected_struct = None;
        v
    }

    /// The left operand of a compound assignment to a field (`s.w -= &g`, `self.w *= 2.0`)
    /// as a copy of the field, `s.w.clone()`: the field is read through a reference to the
    /// struct, out of which an array (or any field that is not `Copy`) cannot be moved;
    /// a `Copy` field's copy is the value itself. Any other operand is returned as it is.
    fn field_copy(&mut self, b: Block, l: Value) -> Value {
        let ValueDef::Result(i, 0) = self.f.value(l).def else {
            return l;
        };
        let (InstKind::Deref(r), span) = (self.f.inst(i).kind.clone(), self.f.inst(i).span) else {
            return l;
        };
        let ValueDef::Result(j, 0) = self.f.value(r).def else {
            return l;
        };
        if !matches!(self.f.inst(j).kind, InstKind::FieldRef(..)) {
            return l;
        }
        let k = self.kind(l);
        self.cloned(b, r, k, span).unwrap_or(l)
    }

    /// Whether `v` is the value of a field that a struct literal gave an integer (see
    /// `Lowering::field_ref`), or a copy of it.
    fn int_field_read(&self, v: Value, depth: usize) -> bool {
        if depth == 0 {
            return false;
        }
        if self.int_field_refs.contains(&v) {
            return true;
        }
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        match &self.f.inst(i).kind {
            InstKind::Deref(r) => self.int_field_read(*r, depth - 1),
            InstKind::Prim { prim, args, .. }
                if args.len() == 1 && Some(*prim) == PrimId::method("clone") =>
            {
                self.int_field_read(args[0], depth - 1)
            }
            _ => false,
        }
    }

    /// Whether `v` is the value of a named field (`s.head`, a copy of it), whose kind is its
    /// struct's rather than the field's own, and not certainly a float by a declaration.
    fn named_field_read(&self, v: Value, depth: usize) -> bool {
        if depth == 0 || self.certainly_float(v) {
            return false;
        }
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        match &self.f.inst(i).kind {
            InstKind::FieldRef(..) => true,
            InstKind::Deref(r) => self.named_field_read(*r, depth - 1),
            InstKind::Prim { prim, args, .. }
                if args.len() == 1 && Some(*prim) == PrimId::method("clone") =>
            {
                self.named_field_read(args[0], depth - 1)
            }
            _ => false,
        }
    }

    /// Whether `v` is what a function or method of the user's returned (`rate(s)`,
    /// `model.rate(s)`), whose type the macro does not see.
    fn user_call_result(&self, v: Value) -> bool {
        if self.kind(v) != Kind::Unknown {
            return false;
        }
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        // Not one whose result type the module marked `#[differentiate]` around the function
        // declares: that type is known (see `Lowering::struct_type_of`).
        matches!(&self.f.inst(i).kind, InstKind::Call { path, .. }
            if !crate::joint::is_runtime_function(path)
                && super::calls::module_result(path).is_none())
    }

    /// The call `Ty::name(&a, ..)` for an operator of a struct `Ty` of the user's, with the left
    /// operand lent as a method's receiver is (see `calls::mark_receiver`): the trait's method
    /// takes it by value, and a copy is given where the operand is read again.
    fn struct_operator(
        &mut self,
        b: Block,
        ty: syn::Path,
        name: &str,
        at: proc_macro2::Span,
        mut args: Vec<Value>,
    ) -> Value {
        let method = syn::Ident::new(name, at);
        let mut path: syn::Path = syn::parse_quote_spanned!(at=> #ty::#method);
        super::calls::mark_path(&mut path);
        let k = self.kind(args[0]);
        args[0] = self.inst1(b, InstKind::Ref(args[0]), k, at);
        self.inst1(b, InstKind::Call { path, args }, Kind::Unknown, at)
    }

    /// The impl of the operator `name` of the struct `ty` that the module marked
    /// `#[differentiate]` around the function declares and `a op b` calls: of two (`Mul<f64>`
    /// beside `Mul<V3>`), the one whose right operand is of the type `rhs` names (a float where
    /// it is `None`, a struct not known to the macro), which is called by its own name where it
    /// has one (`V3::__ad_mul_f64`, see `expand_mod`). `None` outside such a module.
    fn module_op(&self, ty: &syn::Path, name: &str, rhs: Option<&str>) -> Option<ModuleOp> {
        let owner = crate::types::module_type_name(&ty.segments.last()?.ident.to_string());
        let ops = match rhs {
            Some(r) => crate::types::module_ops(&owner, name, Some(r)),
            None => {
                let f64s = crate::types::module_ops(&owner, name, Some("f64"));
                match f64s.is_empty() {
                    true => crate::types::module_ops(&owner, name, Some("f32")),
                    false => f64s,
                }
            }
        };
        let [op] = <[ModuleOp; 1]>::try_from(ops).ok()?;
        Some(op)
    }

    /// The result `v` of an operator's call of the type its impl declares: a float (`impl Mul
    /// for V3 { type Output = f64; .. }`, a dot product), so that `(b - a) * f + a * b` adds
    /// floats, or the struct it names. (Else as it was outside such a module.)
    fn typed_as_operator(&mut self, v: Value, op: &ModuleOp) {
        if crate::types::is_scalar_float(&op.output) {
            self.f.values[v.index()].kind = Kind::Float;
        } else if let Some(st) = super::calls::module_struct(&op.output) {
            self.struct_values.push((v, st));
        }
    }

    /// `Point { x: a, y: b }`: built as written, from the values of the fields' expressions. A
    /// struct of data nothing differentiated reaches (`Config { n: 3, .. }`) stays so; one
    /// holding a differentiated value that reaches the result becomes a call of the literal's
    /// function with its derivatives, which `#[derive(Differentiable)]` writes (see
    /// `check::struct_literals`). A literal that names fields by position runs as written, and
    /// is an error there (one that copies the rest from another, `..base`, is a copy with
    /// fields assigned by then: see `syntax::desugar_forms`).
    pub(super) fn struct_literal(
        &mut self,
        b: Block,
        es: &syn::ExprStruct,
        want: bool,
    ) -> Option<Value> {
        let span = es.span();
        // The fields by name, or by position (a tuple struct's, `V(a, b)` as `V { 0: a, 1: b }`),
        // each with the key that orders them as the derived literal functions take them.
        let named: Option<Vec<(&syn::Member, String, &Expr)>> = es
            .fields
            .iter()
            .map(|fv| match &fv.member {
                syn::Member::Named(id) => Some((&fv.member, id.to_string(), &fv.expr)),
                syn::Member::Unnamed(i) => Some((&fv.member, format!("{:010}", i.index), &fv.expr)),
            })
            .collect();
        let msg = "a struct built from differentiated values is differentiated where its type \
                   derives `Differentiable`; else keep the fields as local variables, or return \
                   them as a tuple (`(x, y)`) and build the struct in the caller";
        // `S { a: x, ..base }` of a variable read again (left by `syntax::desugar_forms`): as
        // written where `base` holds data only (Rust moves the fields it does not name, and a
        // struct without `Clone` stays readable), else a copy of `base` with `a` assigned.
        if let (Some(fields), Some(base)) = (named.as_deref(), &es.rest)
            && !fields.is_empty()
            && let Expr::Path(bp) = super::chain::strip(base)
            && bp.path.get_ident().is_some()
        {
            if self.data_struct_param(bp).is_some() || self.data_var(base) {
                // The generated functions may hold `base` by reference: the fields copied
                // from it as from the owned value (which must then be `Copy`, as they are
                // where the update is written with `base` read again).
                let mut es = es.clone();
                let path = &es.path;
                let borrowed: Expr = syn::parse_quote_spanned!(base.span()=>
                    *::core::borrow::Borrow::<#path>::borrow(&#base));
                es.rest = Some(Box::new(borrowed));
                return self.opaque(b, es.to_token_stream(), Kind::Unknown, want, span);
            }
            if let Some(r) = super::syntax::struct_update(es, true) {
                return self.expr(b, &r, want);
            }
        }
        // `S { ..s }` of a variable is `s`, moved.
        if let (Some([]), Some(base)) = (named.as_deref(), &es.rest) {
            if matches!(&**base, Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some())
            {
                return self.expr(b, base, want);
            }
        }
        let (Some(named), None) = (named, &es.rest) else {
            let v = self.opaque(b, es.to_token_stream(), Kind::Unknown, want, span);
            if let Some(ValueDef::Result(i, _)) = v.map(|v| self.f.value(v).def) {
                self.f
                    .map_errors
                    .push((i, vec![syn::Error::new_spanned(es, msg)]));
            }
            return v;
        };
        let mut fields = Vec::new();
        for (k, (_, key, e)) in named.iter().enumerate() {
            let v = self.expr(b, e, true)?;
            fields.push((
                key.clone(),
                syn::Ident::new(&format!("__ad_field{k}"), span),
                v,
            ));
        }
        if let Some(ty) = es.path.segments.last().map(|s| s.ident.to_string()) {
            for ((m, key, e), (_, _, v)) in named.iter().zip(&fields) {
                let entry = (ty.clone(), key.clone());
                if matches!(m, syn::Member::Named(_))
                    && (self.certainly_integer(*v) || integers_made(e))
                    && !self.data_fields.contains(&entry)
                {
                    self.data_fields.push(entry);
                }
            }
        }
        let (path, members) = (&es.path, named.iter().map(|(m, _, _)| m));
        let locals = fields.iter().map(|(_, l, _)| l);
        let tokens = quote!(#path { #(#members: #locals),* });
        let uses = fields.iter().map(|(_, l, v)| (l.clone(), *v)).collect();
        let i = self.f.push_inst(
            b,
            InstKind::Opaque {
                tokens,
                uses,
                mac: None,
            },
            usize::from(want),
            Kind::Unknown,
            span,
        );
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let mut call = path.clone();
        call.segments.push(syn::PathSegment::from(syn::Ident::new(
            "__ad_literal",
            span,
        )));
        let args = fields.iter().map(|(_, _, v)| *v).collect();
        self.f.struct_literals.push((i, call, args));
        self.f
            .map_errors
            .push((i, vec![syn::Error::new_spanned(es, msg)]));
        self.f.inst(i).results.first().copied()
    }
}

/// Whether `e` makes integers or a container of them by its syntax: an integer literal,
/// `vec![0; n]` and `[0; n]` of one, `vec![1, 2]` and `[1, 2]` of them, and `(0..n).collect()`
/// of a range.
pub(crate) fn integers_made(e: &Expr) -> bool {
    match super::chain::strip(e) {
        e if is_int_literal(e) => true,
        Expr::Repeat(r) => is_int_literal(&r.expr),
        Expr::Array(a) => !a.elems.is_empty() && a.elems.iter().all(is_int_literal),
        Expr::Macro(m) if m.mac.path.is_ident("vec") => match super::build::parse_vec(&m.mac) {
            Some(super::build::VecArgs::Repeat(x, _)) => is_int_literal(&x),
            Some(super::build::VecArgs::List(xs)) => {
                !xs.is_empty() && xs.iter().all(is_int_literal)
            }
            _ => false,
        },
        Expr::MethodCall(mc) if mc.method == "collect" && mc.args.is_empty() => {
            matches!(super::chain::strip(&mc.receiver), Expr::Range(_))
        }
        _ => false,
    }
}

/// ndarray's `array![..]` of one or two dimensions as the call it expands to: `arr1(&[a, b])`,
/// `arr2(&[[a, b], [c, d]])`. `None` for other macros and for three dimensions.
fn ndarray_literal(m: &syn::Macro) -> Option<Expr> {
    if m.path.segments.last()?.ident != "array" {
        return None;
    }
    let elems = m
        .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .ok()?;
    let rows = elems.iter().filter(|e| matches!(e, Expr::Array(_))).count();
    let deeper = elems.iter().any(|e| match e {
        Expr::Array(a) => a.elems.iter().any(|x| matches!(x, Expr::Array(_))),
        _ => false,
    });
    let span = m.path.span();
    let elems = elems.iter();
    match rows {
        0 => Some(syn::parse_quote_spanned!(span=> ::ndarray::arr1(&[#(#elems),*]))),
        n if n == elems.len() && !deeper => {
            Some(syn::parse_quote_spanned!(span=> ::ndarray::arr2(&[#(#elems),*])))
        }
        _ => None,
    }
}

impl Lowering {
    /// `m.n_layers() as f64`: a method of a struct of the user's (on a variable, a field or an
    /// element) whose result is cast to a float, a count. It runs as written, its result
    /// checked to be an integer (`CountResult`): a float result is a compile error that says to
    /// drop the cast, never a zero derivative. `None` for other casts.
    fn cast_count(&mut self, b: Block, c: &syn::ExprCast) -> Option<Option<Value>> {
        let Expr::MethodCall(mc) = super::chain::strip(&c.expr) else {
            return None;
        };
        let place = matches!(
            super::chain::strip(&mc.receiver),
            Expr::Path(_) | Expr::Field(_) | Expr::Index(_)
        );
        if !crate::types::is_float_type(&c.ty) || !super::calls::is_own_method(mc) || !place {
            return None;
        }
        let recv = self.place_expr(b, &mc.receiver)?;
        self.operand_struct(recv, &mc.receiver)?;
        let span = super::span::method_span(mc);
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(self.expr(b, a, true)?);
        }
        let n = self.inst1(
            b,
            InstKind::Method {
                name: mc.method.clone(),
                recv,
                args,
                unwrap: false,
                recv_mut: None,
            },
            Kind::Discrete,
            span,
        );
        let k = &self.krate;
        let checked = self.int_op_kind(
            b,
            quote::quote_spanned!(span=> #k::__private::count_result(__ad_x)),
            &[("__ad_x", n)],
            Kind::Discrete,
            span,
        );
        Some(Some(self.inst1(
            b,
            InstKind::Cast {
                value: checked,
                ty: (*c.ty).clone(),
            },
            Kind::Float,
            c.span(),
        )))
    }
}

impl Lowering {
    /// `v`, an operand of integer arithmetic: as it is where it is known to be discrete, else
    /// passed through the runtime's `integer`, which takes integers only.
    /// Also checked where `v` is a named field's read whose kind came from its struct
    /// (`field`).
    fn known_integer(&mut self, b: Block, v: Value, field: bool, span: Span) -> Value {
        if self.kind(v) != Kind::Unknown && !(field && self.kind(v) == Kind::Float) {
            return v;
        }
        let pv = &self.krate;
        self.int_op_kind(
            b,
            quote::quote!(#pv::__private::integer(__ad_a)),
            &[("__ad_a", v)],
            Kind::Discrete,
            span,
        )
    }
}

impl Lowering {
    /// Whether `v` is an integer by its declaration: a parameter of an integer type, a length
    /// (`x.len()`), a cast to an integer type or a `let` declared with one, an integer literal
    /// (`let mut c = 0;`), arithmetic of these (`x.len() - 1`), and a value a loop carries or a branch yields that is one of these
    /// where it starts or in one arm (`filter(..).count()`, a counter `c += 1` in a loop):
    /// Rust gives every version of a variable the same type.
    pub(super) fn certainly_integer(&self, v: Value) -> bool {
        self.certainly_integer_within(v, 8)
    }

    fn certainly_integer_within(&self, v: Value, depth: usize) -> bool {
        let int_type = |ty: &syn::Type| crate::types::is_integer(unref(ty));
        let within = |u: Value| depth > 0 && self.certainly_integer_within(u, depth - 1);
        match self.f.value(v).def {
            ValueDef::Param(n) => self.f.params.get(n).is_some_and(|p| int_type(&p.ty)),
            ValueDef::Result(i, k) => match &self.f.inst(i).kind {
                // The sizes of a slice, `Vec` or array (`x.len()`, ndarray's `x.ncols()`,
                // `x.len_of(Axis(1))`): `let dh = x.ncols() / self.heads;` divides integers.
                InstKind::Method { name, args, .. } => {
                    k == 0
                        && (["len", "nrows", "ncols", "ndim", "capacity"]
                            .iter()
                            .any(|m| name == m)
                            && args.is_empty()
                            || name == "len_of" && args.len() == 1)
                }
                // A size read out of an array's shape: `x.shape()[1]`, `x.dim().1` (also of
                // `let (n, d) = x.dim();`).
                InstKind::Index(base, _) | InstKind::Field(base, _) => {
                    let shape = match self.f.inst(i).kind {
                        InstKind::Index(..) => ["shape", "strides"].as_slice(),
                        _ => ["dim"].as_slice(),
                    };
                    k == 0
                        && matches!(self.f.value(*base).def, ValueDef::Result(j, 0)
                            if matches!(&self.f.inst(j).kind, InstKind::Method { name, args, .. }
                                if args.is_empty() && shape.iter().any(|m| name == m)))
                }
                InstKind::Cast { ty, .. } | InstKind::Ascribe { ty, .. } => k == 0 && int_type(ty),
                // Arithmetic of integers (`x.len() - 1`, `-1`).
                InstKind::Binary(_, a, b) => k == 0 && within(*a) && within(*b),
                InstKind::Neg(a) => k == 0 && within(*a),
                InstKind::Const(tokens) => {
                    k == 0 && syn::parse2::<Expr>(tokens.clone()).is_ok_and(|e| is_int_literal(&e))
                }
                _ => self.typed_as(v).iter().any(|&u| within(u)),
            },
            _ => false,
        }
    }

    /// The values whose type `v` has where `v` is what a loop carries out (the value it
    /// starts from) or what a branch yields (each arm's): Rust gives every version of a
    /// variable one type. Empty for other values.
    fn typed_as(&self, v: Value) -> Vec<Value> {
        let ValueDef::Result(i, k) = self.f.value(v).def else {
            return Vec::new();
        };
        match &self.f.inst(i).kind {
            InstKind::Loop { init, .. } => init.get(k).copied().into_iter().collect(),
            InstKind::If { .. } | InstKind::Match { .. } => (self.f.inst_blocks(i).iter())
                .filter_map(|&b| self.f.yielded(b, k))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `v` is a float by its declaration: a parameter of type `f64` or `f32` (or a
    /// reference to one), a float literal (`0.0`, `1e-3`, `2f64`) or constant (`f64::EPSILON`,
    /// `std::f32::consts::PI`), a cast to a float or a `let` declared with one, and a value a
    /// loop carries or a branch yields that is one of these where it starts or in one arm
    /// (`xs.iter().sum::<f64>()`, `let mut s = 0.0;` summed in a loop).
    pub(super) fn certainly_float(&self, v: Value) -> bool {
        self.float_declared(v, 8).is_some()
    }

    /// `f64` or `f32` where `v` is [certainly a float](Self::certainly_float) of a type the
    /// declaration names (not an unsuffixed literal, which takes the type of what it meets).
    fn float_width(&self, v: Value) -> Option<&'static str> {
        self.float_declared(v, 8).flatten()
    }

    /// `Some(width)` where `v` is certainly a float, `width` its type where it is named.
    fn float_declared(&self, v: Value, depth: usize) -> Option<Option<&'static str>> {
        let width = |ty: &syn::Type| match unref(ty) {
            syn::Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident("f64") => Some("f64"),
            syn::Type::Path(tp) if tp.qself.is_none() && tp.path.is_ident("f32") => Some("f32"),
            _ => None,
        };
        let within = |u: Value| {
            if depth == 0 {
                None
            } else {
                self.float_declared(u, depth - 1)
            }
        };
        match self.f.value(v).def {
            ValueDef::Param(n) => width(&self.f.params.get(n)?.ty).map(Some),
            ValueDef::Result(i, k) => match &self.f.inst(i).kind {
                InstKind::Const(tokens) if k == 0 => match syn::parse2::<Expr>(tokens.clone()) {
                    Ok(Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Float(f),
                        ..
                    })) => Some(match f.suffix() {
                        "f64" => Some("f64"),
                        "f32" => Some("f32"),
                        _ => None,
                    }),
                    // `f64::EPSILON`, `std::f64::consts::PI`.
                    Ok(Expr::Path(p))
                        if p.qself.is_none()
                            && p.path.segments.len() >= 2
                            && p.path.segments.last().is_some_and(|s| {
                                s.ident.to_string().chars().all(|c| {
                                    c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()
                                })
                            }) =>
                    {
                        let seg = |t: &str| p.path.segments.iter().any(|s| s.ident == t);
                        match (seg("f64"), seg("f32")) {
                            (true, false) => Some(Some("f64")),
                            (false, true) => Some(Some("f32")),
                            _ => None,
                        }
                    }
                    _ => None,
                },
                InstKind::Cast { ty, .. } | InstKind::Ascribe { ty, .. } if k == 0 => {
                    width(ty).map(Some)
                }
                // A width one source names is the value's.
                _ => {
                    let sources: Vec<Option<&'static str>> =
                        self.typed_as(v).into_iter().filter_map(within).collect();
                    sources
                        .iter()
                        .find(|w| w.is_some())
                        .copied()
                        .or(sources.first().copied())
                }
            },
            _ => None,
        }
    }
}

/// `T` of `&T` and `&mut T`, else `ty`.
fn unref(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Reference(r) => &r.elem,
        t => t,
    }
}

/// The method of the operator's trait for `op` (`Add::add` of `+`): `+`, `-`, `*`, `/`.
fn operator_method(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "sub",
        BinOp::Mul => "mul",
        _ => "div",
    }
}

/// Whether `e` is an integer literal without a float suffix (`1`, `2usize`, `(3)`).
pub(super) fn is_int_literal(e: &Expr) -> bool {
    matches!(super::chain::strip(e), Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. })
        if !matches!(i.suffix(), "f32" | "f64"))
}

impl Lowering {
    /// Whether `v` is the result of an `if` or `match` each of whose yielding branches yields
    /// a reference (`&x[0]`, `&y[i]`).
    fn yields_refs(&self, v: Value) -> bool {
        let ValueDef::Result(i, k) = self.f.value(v).def else {
            return false;
        };
        if !matches!(
            self.f.inst(i).kind,
            InstKind::If { .. } | InstKind::Match { .. }
        ) {
            return false;
        }
        let yielded: Vec<Value> = (self.f.inst_blocks(i).iter())
            .filter_map(|&b| match &self.f.block(b).term {
                Term::Yield(vals) => vals.get(k).copied(),
                _ => None,
            })
            .collect();
        !yielded.is_empty()
            && yielded.iter().all(|&y| {
                matches!(self.f.value(y).def, ValueDef::Result(j, 0)
                    if matches!(self.f.inst(j).kind, InstKind::Ref(_)))
            })
    }
}
