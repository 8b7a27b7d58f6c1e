//! How a value is spelled where the generated code reads, moves or binds it: its name, or the
//! plain expression folded into its one read; a reference or a borrow; the value itself or a
//! copy where it is also kept; `let` with the float type where that is known. Every other part
//! of code generation prints values through these.

use super::*;

/// The deepest expression code generation folds into one read (see [`Gen::fold`]).
const MAX_FOLD_DEPTH: usize = 16;

impl Gen<'_> {
    pub(super) fn v(&self, v: Value) -> syn::Ident {
        names::value(self.f, v)
    }

    /// A value where it is read: its name, or its expression where it is a plain float computed
    /// for this one read in the same block (`g * x.cos()` rather than two `let`s).
    pub(super) fn e(&self, v: Value) -> TokenStream {
        if let Some(i) = self.folded(v) {
            if let Some(rhs) = self.rhs(i) {
                // Operators need parentheses where they are read; calls and literals do not.
                return match self.f.inst(i).kind {
                    InstKind::Binary(..) | InstKind::Neg(_) => quote!((#rhs)),
                    _ => rhs,
                };
            }
        }
        let id = self.v(v);
        quote!(#id)
    }

    /// The instruction whose expression is written at `v`'s one read, if `v` is folded.
    pub(super) fn folded(&self, v: Value) -> Option<Inst> {
        self.fold(v).map(|(i, _)| i)
    }

    /// [`Gen::folded`], with the depth of the expression folded at the read: 1 for an
    /// instruction whose operands are all names, one more than its deepest folded operand
    /// otherwise. An expression deeper than [`MAX_FOLD_DEPTH`] is bound to a name instead: a
    /// sum of thousands of terms would otherwise be one expression nested thousands deep,
    /// which rustc takes apart recursively.
    fn fold(&self, v: Value) -> Option<(Inst, usize)> {
        if let Some(&known) = self.folds.borrow().get(&v) {
            return known;
        }
        let answer = self.decide_folded(v).and_then(|i| {
            let deepest = (self.f.operands(i).into_iter())
                .filter_map(|o| self.fold(o))
                .map(|(_, d)| d)
                .max();
            let depth = 1 + deepest.unwrap_or(0);
            (depth <= MAX_FOLD_DEPTH).then_some((i, depth))
        });
        self.folds.borrow_mut().insert(v, answer);
        answer
    }

    fn decide_folded(&self, v: Value) -> Option<Inst> {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return None;
        };
        let inst = self.f.inst(i);
        // A float, or a literal of any type (an index, a bound, a flag): `a[0]` rather than
        // `let v = 0; a[v]`, one inference variable and one local fewer for rustc per constant.
        let literal =
            || matches!(&inst.kind, InstKind::Const(t) if !self.is_mut(v) && is_literal(t));
        if inst.results.len() != 1 || !(self.ty(v).is_plain() || literal()) {
            return None;
        }
        if self.kept_top.contains(&v) || self.kept_rec.contains(&v) {
            return None;
        }
        let foldable = match &inst.kind {
            InstKind::Binary(..)
            | InstKind::Neg(_)
            | InstKind::Helper { .. }
            | InstKind::VarGet(_) => true,
            InstKind::Const(_) => true,
            InstKind::Prim { prim, .. } => prim.has(crate::prim::Flags::FLOAT_RESULT),
            _ => false,
        };
        if !foldable {
            return None;
        }
        match (self.reads.get(&v), self.inst_block.get(&i)) {
            (Some(&(1, ub, reader)), Some(&db)) if ub == db => {
                // Readers that print the value once, as an expression.
                let ok = match reader.map(|r| &self.f.inst(r).kind) {
                    None => true,
                    Some(
                        InstKind::CallVjp { .. }
                        | InstKind::CallJvp { .. }
                        | InstKind::CallAlong { .. }
                        | InstKind::CallVjpJvp { .. }
                        | InstKind::CallPullbackJvp { .. }
                        | InstKind::CallPullback { .. }
                        | InstKind::Loop { .. }
                        | InstKind::Opaque { .. }
                        | InstKind::Match { .. }
                        | InstKind::MatchRecord { .. }
                        | InstKind::MakeRecord { .. }
                        | InstKind::Push { .. }
                        | InstKind::CkptStart { .. }
                        | InstKind::CkptOffer { .. }
                        | InstKind::CkptFinish { .. }
                        | InstKind::CkptSweep { .. },
                    ) => false,
                    Some(_) => true,
                };
                (ok && !self.var_changed_before_read(i, db, reader)).then_some(i)
            }
            _ => None,
        }
    }

    /// Whether a variable that the expression of `i` reads (through `VarGet`, its own or that of
    /// an operand folded into it) is changed between `i` and its `reader` in block `b` (`None`:
    /// the terminator). Folding would then read the variable's later value: in `get w4; get w5;
    /// w5 := ..; w4 := ..` (a swap carried by a loop) the second assignment would read the
    /// first's result.
    fn var_changed_before_read(&self, i: Inst, b: Block, reader: Option<Inst>) -> bool {
        let mut vars = Vec::new();
        self.vars_read(i, &mut vars);
        if vars.is_empty() {
            return false;
        }
        let insts = &self.f.block(b).insts;
        let pos = |x: Inst| {
            self.inst_pos
                .get(&x)
                .copied()
                .filter(|&p| insts.get(p) == Some(&x))
        };
        let Some(from) = pos(i) else {
            return true;
        };
        let to = match reader {
            Some(r) => match pos(r) {
                Some(t) => t,
                None => return true,
            },
            None => insts.len(),
        };
        if to <= from {
            return true;
        }
        insts[from + 1..to].iter().any(|&x| {
            let touches = |k: &InstKind| k.var().is_some_and(|w| vars.contains(&w));
            touches(&self.f.inst(x).kind)
                || self.f.inst_blocks(x).into_iter().any(|nb| {
                    self.f.blocks_within(nb).into_iter().any(|bb| {
                        self.f
                            .block(bb)
                            .insts
                            .iter()
                            .any(|&y| touches(&self.f.inst(y).kind))
                    })
                })
        })
    }

    /// The variables the expression of `i` reads where it is folded: its own `VarGet`, and
    /// those of the operands folded into it.
    fn vars_read(&self, i: Inst, out: &mut Vec<Var>) {
        if let InstKind::VarGet(w) = self.f.inst(i).kind {
            out.push(w);
            return;
        }
        if !matches!(
            self.f.inst(i).kind,
            InstKind::Binary(..)
                | InstKind::Neg(_)
                | InstKind::Helper { .. }
                | InstKind::Prim { .. }
        ) {
            return;
        }
        for o in self.f.operands(i) {
            if let Some(j) = self.folded(o) {
                self.vars_read(j, out);
            }
        }
    }

    /// The right-hand side of a plain instruction that can be folded into its read.
    pub(super) fn rhs(&self, i: Inst) -> Option<TokenStream> {
        let inst = self.f.inst(i);
        Some(match &inst.kind {
            InstKind::Const(t) => self.typed_literal(inst.results[0], t),
            // An operand the pullback also reads (an inactive product it recomputes a quotient
            // from) is copied, not moved by the operator.
            InstKind::Binary(op, a, b) if !self.active_result(i) => {
                let (x, y) = (self.moved(*a, None), self.moved(*b, None));
                let o = binop(*op);
                quote!(#x #o #y)
            }
            InstKind::Neg(a) if !self.active_result(i) => {
                let x = self.moved(*a, None);
                quote!(-#x)
            }
            InstKind::Prim { prim, args, .. } if self.view_of_view(*prim, args).is_some() => {
                self.view_of_view(*prim, args)?
            }
            InstKind::Prim {
                prim,
                args,
                unwrap: false,
            } => {
                let recv = self.e(args[0]);
                self.prim_call(*prim, recv, &args[1..], inst.span)
            }
            InstKind::Helper { name, args } => {
                let pv = self.pv.clone();
                let h = syn::Ident::new(name, Span::call_site());
                let args: Vec<TokenStream> = args.iter().map(|&a| self.e(a)).collect();
                quote!(#pv::d::#h(#(#args),*))
            }
            InstKind::VarGet(w) => {
                let w = names::var(self.f, *w);
                quote!(#w)
            }
            _ => return None,
        })
    }

    /// A view of a view (`a.row(i).view()`, `b.slice(..)` of a view parameter), taken from a
    /// copy of the view by the method that consumes it: it borrows the array first viewed, not
    /// the local view, so that a callee's pullback may keep it. `None` for other primitives.
    pub(super) fn view_of_view(&self, prim: PrimId, args: &[Value]) -> Option<TokenStream> {
        let by_value_view = self.f.is_view(args[0]) && self.f.strip_ref(args[0]) == args[0];
        if !prim.has(crate::prim::Flags::VIEW) || !by_value_view {
            return None;
        }
        let x = self.e(args[0]);
        let copy = quote!(::core::clone::Clone::clone(&#x));
        let rest: Vec<TokenStream> = args[1..].iter().map(|&a| self.prim_arg(prim, a)).collect();
        Some(match prim.name() {
            "view" => copy,
            "t" => quote!(#copy.reversed_axes()),
            "slice" => quote!(#copy.slice_move(#(#rest),*)),
            "index_axis" => quote!(#copy.index_axis_move(#(#rest),*)),
            "broadcast" => {
                let pv = &self.pv;
                quote!(#pv::broadcast_view(#copy, #(#rest),*))
            }
            "flatten" => {
                let pv = &self.pv;
                quote!(#pv::flatten_view(#copy))
            }
            name => {
                let name = syn::Ident::new(name, Span::call_site());
                quote!(#copy.#name(#(#rest),*))
            }
        })
    }

    /// A float literal with its type as a suffix when the type is known (`3.0f64`), so that it
    /// can stand alone (`3.0f64.ln()`); other constants as written.
    /// A float literal with the suffix of its known type (`2.0f64`), and never ending in a dot
    /// (`2.` is written `2.0`, which a suffix or a method call can follow).
    pub(super) fn typed_literal(&self, v: Value, t: &TokenStream) -> TokenStream {
        // The constants spelt once the type is known: the float literal of that type, else a
        // runtime function whose type rustc infers.
        let pv = &self.pv;
        let (digits, negate, generic) = if crate::ir::is_sum_start(t) {
            ("0.0", true, quote!(#pv::sum_start()))
        } else if crate::ir::is_product_start(t) {
            ("1.0", false, quote!(#pv::product_start()))
        } else if crate::ir::is_unread_elem(t) {
            ("0.0", false, quote!(#pv::place::unread()))
        } else {
            ("", false, TokenStream::new())
        };
        if !digits.is_empty() {
            return match self.ty(v).float() {
                Some(ft) => {
                    let lit =
                        syn::LitFloat::new(&format!("{digits}{}", ft.tokens()), Span::call_site());
                    if negate {
                        quote!((-#lit))
                    } else {
                        quote!(#lit)
                    }
                }
                None => generic,
            };
        }
        if let Ok(syn::Lit::Float(l)) = syn::parse2::<syn::Lit>(t.clone()) {
            if l.suffix().is_empty() {
                let digits = l.base10_digits();
                let digits = if digits.ends_with('.') {
                    format!("{digits}0")
                } else {
                    digits.to_string()
                };
                let suffix = self.ty(v).float().map(|ft| ft.tokens().to_string());
                let lit = syn::LitFloat::new(
                    &format!("{digits}{}", suffix.unwrap_or_default()),
                    l.span(),
                );
                return quote!(#lit);
            }
        }
        t.clone()
    }

    pub(super) fn ty(&self, v: Value) -> Ty {
        self.tys.of(v)
    }

    fn in_pullback(&self, v: Value) -> bool {
        self.pullback_values.contains(&v)
    }

    /// Whether a value is a reference: a parameter of reference type, `&x`, or a field of a
    /// borrowed struct.
    /// The element a value was read from, as a place, where it is an element of data behind a
    /// reference (a window of a slice, a slice argument): a reference to it lives as long as
    /// the data, not the copy.
    pub(super) fn element_place(&self, v: Value) -> Option<TokenStream> {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return None;
        };
        let InstKind::Index(base, idx) = self.f.inst(i).kind else {
            return None;
        };
        if let Some((w, at)) = self.windows.access.get(&i) {
            return Some(quote! { #w[#at] });
        }
        if self.rows.contains(&v) || !self.is_ref(base) {
            return None;
        }
        let (base, idx) = (self.e(base), self.e(idx));
        Some(quote! { #base[#idx] })
    }

    pub(super) fn is_ref(&self, v: Value) -> bool {
        if self.mut_refs.contains(&v) {
            return true;
        }
        match self.f.value(v).def {
            ValueDef::Param(n) => self
                .f
                .params
                .get(n)
                .is_some_and(|p| matches!(p.ty, syn::Type::Reference(_))),
            ValueDef::Tangent(n) => self.f.params.get(n).is_some_and(|p| p.tangent_by_ref()),
            ValueDef::Result(i, 0)
                if matches!(
                    self.f.inst(i).kind,
                    InstKind::FieldRef(..) | InstKind::Ref(_)
                ) || self.rows.contains(&v) =>
            {
                true
            }
            // `if c { &p.w1 } else { &p.w2 }`: a reference where every branch that yields a
            // value yields one (the others leave: `return`, `break`).
            ValueDef::Result(i, k) => match &self.f.inst(i).kind {
                InstKind::If { .. } | InstKind::Match { .. } => {
                    let yielded: Vec<Value> = (self.f.inst_blocks(i).iter())
                        .filter_map(|&b| match &self.f.block(b).term {
                            Term::Yield(vals) => vals.get(k).copied(),
                            _ => None,
                        })
                        .collect();
                    !yielded.is_empty() && yielded.iter().all(|&y| self.is_ref(y))
                }
                // A reference carried by a loop (`let mut best = &ps[0];` then `best = &ps[i];`
                // in it): what the loop enters with.
                InstKind::Loop { init, .. } => init.get(k).is_some_and(|&v| self.is_ref(v)),
                // A row borrowed from a parameter and kept on a loop's stack (see
                // `borrowed_rows`): the pullback pops the borrow.
                InstKind::Pop(stack) => {
                    !self.rows.is_empty()
                        && self
                            .f
                            .pushed(stack, k)
                            .is_some_and(|p| self.rows.contains(&p))
                }
                _ => false,
            },
            ValueDef::BlockParam(b, k) => match self.f.loop_entry(b, k) {
                Some(Some(v)) => self.is_ref(v),
                Some(None) => false,
                // An arm of a record's `match`: a row kept borrowed in the record.
                None => {
                    !self.rows.is_empty()
                        && self
                            .f
                            .recorded(b, k)
                            .is_some_and(|p| self.rows.contains(&p))
                }
            },
        }
    }

    /// A primitive's method call on `recv`: `recv.name(args)`, or `::core::ops::Rem::rem(recv,
    /// m)` for the remainder of floats (see [`crate::prim::Flags::REMAINDER`]).
    pub(super) fn prim_call(
        &self,
        prim: crate::prim::PrimId,
        recv: TokenStream,
        args: &[Value],
        span: proc_macro2::Span,
    ) -> TokenStream {
        let name = syn::Ident::new(prim.name(), span);
        let mut rest: Vec<TokenStream> = args.iter().map(|&a| self.prim_arg(prim, a)).collect();
        // `emb.select(Axis(0), ids)` takes `&[usize]`; the indices may be held as a `Vec`, an
        // array or a reference to either (a row of `docs: &[Vec<usize>]`, a local `Vec` of
        // positions), which `AsRef` lends as the slice whatever the borrows.
        if prim.name() == "select"
            && let Some(ids) = rest.get_mut(1)
        {
            *ids = quote!(::core::convert::AsRef::<[usize]>::as_ref(&#ids));
        }
        if prim.has(crate::prim::Flags::REMAINDER) {
            quote!(::core::ops::Rem::#name(#recv, #(#rest),*))
        } else {
            quote!(#recv.#name(#(#rest),*))
        }
    }

    /// An argument of a primitive's method call. `a.dot(&b)` takes its operand by reference,
    /// which a tangent made by forward mode is not.
    pub(super) fn prim_arg(&self, prim: crate::prim::PrimId, a: Value) -> TokenStream {
        let x = self.e(a);
        if prim.name() == "dot" && !self.is_ref(a) {
            quote!(&#x)
        } else {
            x
        }
    }

    /// A reference to `v` for a rule or helper: `v` itself if it is one.
    pub(super) fn by_ref(&self, v: Value) -> TokenStream {
        let x = self.e(v);
        if self.is_ref(v) {
            quote!(#x)
        } else {
            quote!(&#x)
        }
    }

    /// `v` where it is moved: a copy when the value is also kept (forward) or read again
    /// (pullback).
    pub(super) fn moved(&self, v: Value, terminator: Option<Block>) -> TokenStream {
        if self.folded(v).is_some() {
            return self.e(v);
        }
        let id = self.v(v);
        let copy = if self.ty(v).is_plain() || self.is_ref(v) {
            false
        } else if terminator.is_none()
            && self
                .cur_inst
                .get()
                .is_some_and(|i| self.passed_on_by_own_block(i, v))
        {
            // Taken by an instruction whose block passes it on too (`return (out, s);`
            // inside a loop that carries `out`).
            true
        } else if self.in_pullback(v) {
            self.uses.get(&v).copied().unwrap_or(0) > 1
        } else {
            // A record is made at the end of the block that defines the value, before its
            // terminator, which may then move the value on; a terminator of a block nested in
            // that one (an arm's `yield`) runs before the record is made.
            // An array kept as its elements (`flat`) is read by that record too: moved into a
            // container before it (`rows.push(row)`), it is copied.
            let recorded_before = terminator.is_some_and(|t| self.def_block(v) == Some(t));
            let recorded = self.kept_rec.contains(&v) || self.flat.contains_key(&v);
            self.kept_top.contains(&v)
                || (!recorded_before && recorded)
                || self.typed_like_of.contains(&v)
        };
        if copy {
            quote!(::core::clone::Clone::clone(&#id))
        } else {
            quote!(#id)
        }
    }

    /// The block that defines `v`, where the code generator has seen it.
    pub(super) fn def_block(&self, v: Value) -> Option<Block> {
        match self.f.value(v).def {
            ValueDef::Param(_) | ValueDef::Tangent(_) => Some(self.f.body()),
            ValueDef::BlockParam(b, _) => Some(b),
            ValueDef::Result(i, _) => self.inst_block.get(&i).copied(),
        }
    }

    /// A tangent handed to a call's forward rule, which takes it by value into its slot: the
    /// tangent itself where it is used once (`&dz` is the slot of `dz`), a copy otherwise or
    /// where it arrived by reference (a tangent parameter).
    pub(super) fn slot_tangent(&self, v: Value) -> TokenStream {
        let mut d = v;
        if let ValueDef::Result(i, 0) = self.f.value(d).def {
            if let InstKind::Ref(u) = self.f.inst(i).kind {
                d = u;
            }
        }
        let x = self.v(d);
        // Read once, and in the block that defines it: a read inside a loop body runs once per
        // iteration (the tangent of a `Vec` parameter lent as `&v` in a loop).
        let used_once = self
            .reads
            .get(&d)
            .is_some_and(|r| r.0 == 1 && Some(r.1) == self.def_block(d))
            && d == v;
        if d != v && self.folded(d).is_some() {
            // The referent is written inside the reference (`&(-dx)`) and has no name of its
            // own; it is a plain float, copied out through the reference.
            let r = self.v(v);
            quote!(*#r)
        } else if self.is_ref(d) {
            quote!(::std::borrow::ToOwned::to_owned(#x))
        } else if used_once || self.ty(d).is_plain() {
            quote!(#x)
        } else {
            quote!(::core::clone::Clone::clone(&#x))
        }
    }

    /// `let r: T =` for a single result whose float type is known, `let r =` otherwise.
    pub(super) fn lhs(&self, r: Value) -> TokenStream {
        let id = self.v(r);
        let m = self.mut_kw(r);
        match self.ty(r).float() {
            Some(t) => {
                let t = t.tokens();
                quote!(let #m #id: #t =)
            }
            None => quote!(let #m #id =),
        }
    }

    /// `mut` for versions of a variable the source declares `mut`: methods may change it.
    pub(super) fn mut_kw(&self, v: Value) -> TokenStream {
        if self.is_mut(v) {
            quote!(mut)
        } else {
            quote!()
        }
    }

    pub(super) fn is_mut(&self, v: Value) -> bool {
        self.f
            .value(v)
            .name
            .as_ref()
            .is_some_and(|n| self.f.mutable_names.contains(n))
    }

    /// A call of a helper's by-value copy that nothing differentiated reaches (see
    /// `Func::buffer_calls`): emitted as the source wrote it.
    pub(super) fn runs_as_written(&self, i: Inst) -> bool {
        let is_active = |v: &Value| self.active.get(v.index()).copied().unwrap_or(false);
        self.f.buffer_calls.contains_key(&i)
            && !self.f.operands(i).iter().any(is_active)
            && !self.f.inst(i).results.iter().any(is_active)
    }

    /// The arguments of a by-value copy's call emitted as the source wrote it (see
    /// [`Self::runs_as_written`]): the bindings of the buffers lent at `lent_at`, each moved into
    /// a `mut` local (`let mut __ad_lent1 = noise;`), the arguments (`&mut __ad_lent1` in their
    /// place), and what the call gives, as the copy gives it: the new buffers, the value
    /// `__ad_value` after them where `with_value`.
    pub(super) fn lent_args(
        &self,
        args: &[Value],
        lent_at: &[usize],
        with_value: bool,
    ) -> (TokenStream, Vec<TokenStream>, TokenStream) {
        let mut binds = TokenStream::new();
        let mut lent = Vec::new();
        let mut call_args = Vec::new();
        for (k, &a) in args.iter().enumerate() {
            let m = self.moved(a, None);
            if lent_at.contains(&k) {
                let t = quote::format_ident!("__ad_lent{}", k);
                binds.extend(quote! { let mut #t = #m; });
                call_args.push(quote!(&mut #t));
                lent.push(t);
            } else {
                call_args.push(m);
            }
        }
        let value = match (lent.as_slice(), with_value) {
            ([one], false) => quote!(#one),
            (_, false) => quote!((#(#lent,)*)),
            (_, true) => quote!((#(#lent,)* __ad_value)),
        };
        (binds, call_args, value)
    }

    /// A value the generated code copies where it reads it out of a place (an element, a
    /// field, a reference) rather than moving it: neither an integer nor a known float, so it
    /// may not be `Copy`.
    /// Whether the field `Field(t, n)` that `i` reads may be moved out of `t`: nothing else
    /// reads `t` but reads of its other fields (`let (a, b) = pair;`), and `t` is not kept.
    pub(super) fn field_moves_out(&self, i: Inst) -> bool {
        let InstKind::Field(t, n) = self.f.inst(i).kind else {
            return false;
        };
        if self.kept_top.contains(&t) || self.kept_rec.contains(&t) {
            return false;
        }
        let other_field = |j: usize| match self.f.insts[j].kind {
            InstKind::Field(u, m) => u == t && (m != n || j == i.index()),
            _ => false,
        };
        let inst_reads = (0..self.f.insts.len())
            .any(|j| !other_field(j) && self.f.operands(Inst(j as u32)).contains(&t));
        let term_reads =
            (0..self.f.blocks.len()).any(|b| self.f.term_operands(Block(b as u32)).contains(&t));
        !inst_reads && !term_reads
    }

    pub(super) fn copied_out(&self, r: Value) -> bool {
        self.f.value(r).kind != Kind::Discrete && !self.ty(r).is_plain()
    }

    /// Whether `r` is data that the pullback keeps (on a loop's stack, in a branch's record or
    /// captured) and whose type the macro does not know to be `Copy`: a row of a `&[Vec<bool>]`
    /// or a `Vec<Vec<usize>>` is not, and is kept as a copy rather than moved out of its
    /// container (a row borrowed from a parameter is kept borrowed, see `borrowed_rows`), and so
    /// is one read to be written by element (`ptr[i][j] = 1` of a `Vec<Vec<u8>>`).
    pub(super) fn kept_data(&self, r: Value) -> bool {
        self.f.value(r).kind == Kind::Discrete
            && !self.ty(r).is_plain()
            && (self.kept_rec.contains(&r)
                || self.kept_top.contains(&r)
                || self.written.contains(&r))
    }

    /// Arithmetic that depends on a differentiated input, on values whose type is not known,
    /// goes through the runtime's traits (arrays are borrowed, broadcast, mixed with scalars);
    /// everything else is written as the source wrote it.
    pub(super) fn active_result(&self, i: Inst) -> bool {
        let inst = self.f.inst(i);
        inst.results
            .iter()
            .any(|&r| self.active.get(r.index()).copied().unwrap_or(false))
            && !self.f.operands(i).iter().all(|&o| self.ty(o).is_plain())
    }
}

/// Whether constant `t` is a literal (`0`, `2usize`, `true`, `'a'`), which reads the same
/// wherever it is written.
fn is_literal(t: &TokenStream) -> bool {
    syn::parse2::<syn::Lit>(t.clone()).is_ok()
}
