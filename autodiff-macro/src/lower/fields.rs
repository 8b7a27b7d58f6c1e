//! Assignments to the fields of a local struct: `s.x = ..`, `s.x += ..`, `s.pos.y = ..`,
//! `s.v[i] += ..`, `s.items[i].x = ..`.
//!
//! SSA has no places inside values, so an assignment to a field is a new version of the
//! variable: `s = set_field::<"x">(s, v)`, the struct with the field replaced. Written as Rust,
//! `{ let mut s = s; s.x = v; s }`, it runs as written where nothing differentiated reaches it
//! (a struct of data, `stats.calls = 1`); where a differentiated value does, it becomes the call
//! of the runtime's `set_field`, whose pullback moves the field's part of the struct's adjoint to
//! the value (through the `SetField` impls `#[derive(Differentiable)]` writes; without the
//! derive, rustc's error says to add it). A nested field or an element of a field is the same
//! one level up: `s.v[i] = e` is `s.v = { let mut v = s.v.clone(); v[i] = e; v }`.

use super::*;

impl Lowering {
    /// `target = v` where `target` is a field of a local (`s.x`, `s.a.b`, `s.v[i].x`).
    pub(super) fn assign_field(&mut self, b: Block, fe: &syn::ExprField, v: Option<Value>) {
        let name = &fe.member;
        if !self.field_root_ok(&fe.base) {
            return;
        }
        let Some(value) = v else { return };
        let Some(base) = self.owned_place(b, &fe.base) else {
            return;
        };
        let new = self.set_field(b, base, name, value, fe.span());
        // The struct with a field replaced is of the struct's type: its operators and methods
        // stay the struct's (`let mut d = a - b; d.z = 0.0; d.dot(&c)`).
        if let Some(ty) = self.struct_type_of(base) {
            self.struct_values.push((new, ty));
        }
        self.assign_place(b, &fe.base, new);
    }

    /// `base[index] = v` where `base` is a field of a local (`s.v[i] = ..`).
    pub(super) fn assign_field_element(&mut self, b: Block, ix: &syn::ExprIndex, v: Option<Value>) {
        if !self.field_root_ok(&ix.expr) {
            return;
        }
        let Some(value) = v else { return };
        let Some(base) = self.owned_place(b, &ix.expr) else {
            return;
        };
        let Some(index) = self.expr(b, &ix.index, true) else {
            return;
        };
        let kind = self.kind(base).written(self.kind(value));
        let r = self.inst1(
            b,
            InstKind::IndexSet { base, index, value },
            kind,
            ix.span(),
        );
        self.assign_place(b, &ix.expr, r);
    }

    /// `s.v.push(x)` (any mutation of the table) on a field of a local: the mutation of a copy
    /// of the field, written back with [`Self::assign_field`].
    pub(super) fn field_mutation(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        fe: &syn::ExprField,
        m: MutId,
        unwrap: bool,
    ) -> Option<Value> {
        if !self.mutation_arity_ok(mc, m) {
            return None;
        }
        if !self.field_root_ok(&fe.base) {
            return None;
        }
        let base = self.owned_place(b, &mc.receiver)?;
        let results = self.mutate(b, mc, m, base, unwrap)?;
        self.assign_field(b, fe, Some(results[0]));
        results.get(1).copied()
    }

    /// `rows[i].push(x)` (any mutation of the table) on an element of a local: the mutation
    /// of a copy of the element, written back with [`Self::assign_place`].
    pub(super) fn element_mutation(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        ix: &syn::ExprIndex,
        m: MutId,
        unwrap: bool,
        of_data: bool,
    ) -> Option<Value> {
        if !self.mutation_arity_ok(mc, m) {
            return None;
        }
        if !self.field_root_ok(&ix.expr) {
            return None;
        }
        let mut base = self.owned_place(b, &mc.receiver)?;
        // A row of data (`nbrs[i]` of a `Vec<Vec<usize>>`) is read in place: a copy to change.
        if of_data {
            base = self.cloned(b, base, Kind::Discrete, mc.receiver.span())?;
        }
        let results = self.mutate(b, mc, m, base, unwrap)?;
        self.assign_place(b, &mc.receiver, results[0]);
        results.get(1).copied()
    }

    /// Gives `place` (a variable, a field of one, an element of either) the value `v`.
    pub(super) fn assign_place(&mut self, b: Block, place: &Expr, v: Value) {
        match place {
            Expr::Paren(p) => self.assign_place(b, &p.expr, v),
            Expr::Field(fe) => self.assign_field(b, fe, Some(v)),
            Expr::Index(ix) => match strip_parens(&ix.expr) {
                Expr::Path(_) => self.assign_index(b, ix, Some(v)),
                _ => self.assign_field_element(b, ix, Some(v)),
            },
            // `p.x = ..` of `for p in ps.iter_mut()`: the element's new value, written back
            // into the container the cell refers to.
            _ => match self.cell_named(place) {
                Some(c) => self.write_element(b, c.slot, c.index, v, place.span()),
                None => self.assign(place, Some(v)),
            },
        }
    }

    /// An owned copy of the value at `place`, to change and write back: the variable's value
    /// itself, a clone of a field (`s.v.clone()`) or an element read (a copy, or a clone of a
    /// struct element).
    pub(super) fn owned_place(&mut self, b: Block, place: &Expr) -> Option<Value> {
        match place {
            Expr::Paren(p) => self.owned_place(b, &p.expr),
            Expr::Field(fe) if matches!(fe.member, syn::Member::Named(_)) => {
                let r = self.field_ref(b, fe)?;
                let k = self.kind(r);
                self.cloned(b, r, k, fe.span())
            }
            _ => self.expr(b, place, true),
        }
    }

    /// `{ let mut s = base; s.name = value; s }`, which becomes `set_field` where a
    /// differentiated value reaches it (see `check::struct_literals`).
    fn set_field(
        &mut self,
        b: Block,
        base: Value,
        name: &syn::Member,
        value: Value,
        span: Span,
    ) -> Value {
        let (s, x) = (
            syn::Ident::new("__ad_struct", span),
            syn::Ident::new("__ad_value", span),
        );
        let tokens = quote! {{
            #[allow(unused_mut)]
            let mut #s = #s;
            #s.#name = #x;
            #s
        }};
        let kind = self.kind(base).written(self.kind(value));
        let i = self.f.push_inst(
            b,
            InstKind::Opaque {
                tokens,
                uses: vec![(s, base), (x, value)],
                mac: None,
            },
            1,
            kind,
            span,
        );
        let key = proc_macro2::Literal::u64_unsuffixed(crate::types::field_key(
            &quote!(#name).to_string(),
        ));
        let pv = &self.krate;
        // A value computed from integers (`s.n_in = l.n_in - 1`, `s.relu = !l.relu`) is data
        // in a field of data, which holds no part of the struct's adjoint; so is an enum's
        // variant (`s.act = Act::Soft(2.0)`), which holds no derivative (one built from a
        // differentiated value is an error where it is built).
        let path: syn::Path = if self.kind(value) == Kind::Discrete || self.is_variant(value) {
            syn::parse_quote_spanned!(span=> #pv::__private::set_data_field::<#key, _, _>)
        } else {
            syn::parse_quote_spanned!(span=> #pv::__private::set_field::<#key, _, _>)
        };
        self.f.struct_literals.push((i, path, vec![base, value]));
        self.f.map_errors.push((
            i,
            vec![syn::Error::new(
                span,
                "a field assigned a differentiated value is differentiated where the struct \
                 derives `Differentiable`; derive it, or keep the field's value in a local \
                 variable",
            )],
        ));
        self.f.inst(i).results[0]
    }

    /// Whether `v` is an enum's variant named through its type (`Act::Relu`, `Act::Soft(2.0)`).
    fn is_variant(&self, v: Value) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        match &self.f.inst(i).kind {
            InstKind::Call { path, .. } => super::variant_path(path),
            InstKind::Const(tokens) => {
                syn::parse2::<syn::Path>(tokens.clone()).is_ok_and(|p| super::variant_path(&p))
            }
            _ => false,
        }
    }

    /// Whether the variable at the root of an assigned field can take the new value: a local,
    /// or a parameter taken by value. Else an error that says what to write.
    pub(super) fn field_root_ok(&mut self, base: &Expr) -> bool {
        let mut root = base;
        // Whether the root itself is indexed (`bodies[i]..`, not `w.bodies[i]..`).
        let mut indexed = false;
        loop {
            (root, indexed) = match root {
                Expr::Field(f) => (&*f.base, false),
                Expr::Index(ix) => (&*ix.expr, true),
                Expr::Paren(p) => (&*p.expr, indexed),
                _ => break,
            };
        }
        let ident = match root {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().cloned(),
            _ => None,
        };
        let Some(ident) = ident else {
            self.err_at(
                base,
                "only the fields of local variables can be assigned (`s.x = ..` with `let mut s \
                 = ..`)",
            );
            return false;
        };
        let name = ident.to_string();
        let Some(slot) = self.lookup(&name) else {
            self.err_at(
                &ident,
                format!("cannot assign to a field of `{name}`: it is not a local variable"),
            );
            return false;
        };
        if self.env[slot].refs > 0 && self.env[slot].cell.is_none() {
            // `let p = ps.last_mut().unwrap(); p.x = ..`: a reference into a container, which
            // the assignment would have to write through.
            self.err_at(
                base,
                format!(
                    "`{name}` is a reference into a container: assigning to its fields is not \
                     supported; index the container (`v[i].x = ..`) or loop over it with \
                     `for {name} in v.iter_mut()`"
                ),
            );
            return false;
        }
        // Inside a loop the variable holds the version the loop carries: the parameter is what
        // it entered the loop with (a field of a `&mut` parameter written in a loop was
        // rustc's "`&mut S` has a field assigned … but does not derive `Differentiable`").
        let value = self.env[slot].value.map(|v| self.before_loops(v));
        let param = self.f.params.iter().find(|p| Some(p.value) == value);
        if let Some(p) = param {
            // An element of a `&mut` container is written through (`bodies[i].v *= s` of
            // `bodies: &mut [Body]`), as it is once a loop has changed the container.
            let by_ref = matches!(&p.ty, syn::Type::Reference(r)
                if r.mutability.is_none() || !indexed);
            if !by_ref && self.env[slot].place_ty.is_none() {
                // A parameter taken by value (`mut s: State`) keeps its type for the user's
                // methods called on it once it holds a new version (`s.k += x; s.energy()`).
                self.env[slot].place_ty = self.place_type(root);
            }
            if by_ref && self.inactive_mut_param(&name) {
                let write = format!("{name}.<field> = ..;");
                let read = format!("{name}.<field>");
                self.err_at(base, super::sinks::also_read_message(&name, &write, &read));
                return false;
            }
            if by_ref {
                self.err_at(
                    base,
                    format!(
                        "the fields of a parameter taken by reference cannot be assigned; copy \
                         it into a local first (`let mut {name} = {name}.clone();`) and return \
                         what the caller needs"
                    ),
                );
                return false;
            }
        }
        true
    }
}

pub(super) fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        e => e,
    }
}

/// A place that reading twice reads the same: a variable or a field of one (`v`, `s.v`).
fn plain_place(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.qself.is_none() && p.path.get_ident().is_some(),
        Expr::Field(f) => matches!(f.member, syn::Member::Named(_)) && plain_place(&f.base),
        Expr::Paren(p) => plain_place(&p.expr),
        _ => false,
    }
}

/// `items.enumerate().max_by(..).map(|(i, _)| i)` (also `min_by`, `max_by_key`, `min_by_key`,
/// `find`, `last`, `next`), also after `filter`, `rev`, `skip`, `take` or `step_by` of the
/// enumeration: the position of the best (or first) item, an `Option<usize>` that
/// no derivative goes through whatever the items are. The projection must take the
/// enumeration's index straight from the pair: `.map(|(_, v)| v)` would be an item.
pub(super) fn position_of_best(mc: &syn::ExprMethodCall) -> bool {
    if mc.method != "map" || mc.args.len() != 1 {
        return false;
    }
    let Expr::Closure(c) = strip_parens(&mc.args[0]) else {
        return false;
    };
    let [pat] = &c.inputs.iter().collect::<Vec<_>>()[..] else {
        return false;
    };
    let Pat::Tuple(t) = pat else {
        return false;
    };
    let (Some(Pat::Ident(i)), Some(rest), 2) = (t.elems.first(), t.elems.last(), t.elems.len())
    else {
        return false;
    };
    let ignored = match rest {
        Pat::Wild(_) => true,
        Pat::Ident(r) => r.ident.to_string().starts_with('_'),
        _ => false,
    };
    let returns_i = matches!(strip_parens(&c.body), Expr::Path(p) if p.path.is_ident(&i.ident));
    if !ignored || !returns_i || i.by_ref.is_some() || i.subpat.is_some() {
        return false;
    }
    let Expr::MethodCall(best) = strip_parens(&mc.receiver) else {
        return false;
    };
    let picks = matches!(
        best.method.to_string().as_str(),
        "max_by" | "min_by" | "max_by_key" | "min_by_key" | "find" | "last" | "next"
    );
    // The enumeration, perhaps through adapters that pass its pairs on as they are
    // (`enumerate().filter(|(_, q)| **q > 0.0).max_by(..)`, `.rev()`, `.skip(1)`).
    let mut e = strip_parens(&best.receiver);
    while let Expr::MethodCall(m) = e {
        match m.method.to_string().as_str() {
            "enumerate" => return picks && m.args.is_empty(),
            "filter" | "rev" | "skip" | "take" | "step_by" => e = strip_parens(&m.receiver),
            _ => return false,
        }
    }
    false
}

/// An element's `Option` with a default, as the `if` it stands for, so that the element read
/// (or popped) and the default are both differentiated:
///
/// - `v.pop().unwrap_or(d)`: `if !v.is_empty() { v.pop().unwrap() } else { d }`;
/// - `v.last().copied().unwrap_or(d)` (`cloned()` too): `if !v.is_empty() { v[v.len() - 1] }
///   else { d }`, and `first()` with `v[0]`;
/// - `v.get(i).copied().unwrap_or(d)`: `if i < v.len() { v[i] } else { d }`;
/// - `unwrap_or_default()` as `unwrap_or(Default::default())`.
///
/// (With a `map` before the default, `v.first().map(|e| ..).unwrap_or(d)`, the `Option` is a
/// `match` by then: see `syntax::option_map`.) `v` is a variable or a field of one; `None` for
/// anything else.
pub(super) fn element_or(mc: &syn::ExprMethodCall) -> Option<Expr> {
    if mc.turbofish.is_some() {
        return None;
    }
    let span = super::span::method_span(mc);
    let d: Expr = match (mc.method.to_string().as_str(), mc.args.len()) {
        ("unwrap_or", 1) => mc.args[0].clone(),
        ("unwrap_or_default", 0) => {
            syn::parse_quote_spanned!(span=> ::core::default::Default::default())
        }
        _ => return None,
    };
    let Expr::MethodCall(inner) = strip_parens(&mc.receiver) else {
        return None;
    };
    if inner.method == "pop" && inner.args.is_empty() && plain_place(&inner.receiver) {
        let v = &inner.receiver;
        return Some(syn::parse_quote_spanned! {span=>
            if !#v.is_empty() { #v.pop().unwrap() } else { #d }
        });
    }
    if !(inner.method == "copied" || inner.method == "cloned") || !inner.args.is_empty() {
        return None;
    }
    let Expr::MethodCall(acc) = strip_parens(&inner.receiver) else {
        return None;
    };
    let v = &acc.receiver;
    if !plain_place(v) {
        return None;
    }
    match (acc.method.to_string().as_str(), acc.args.len()) {
        ("last", 0) => Some(syn::parse_quote_spanned! {span=>
            if !#v.is_empty() { #v[#v.len() - 1] } else { #d }
        }),
        ("first", 0) => Some(syn::parse_quote_spanned! {span=>
            if !#v.is_empty() { #v[0] } else { #d }
        }),
        // A map's `get(&k)` takes a reference: only a position is an index.
        ("get", 1) if !matches!(acc.args[0], Expr::Reference(_)) => {
            let i = &acc.args[0];
            Some(syn::parse_quote_spanned! {span=>
                {
                    let __ad_at: usize = #i;
                    if __ad_at < #v.len() { #v[__ad_at] } else { #d }
                }
            })
        }
        _ => None,
    }
}
