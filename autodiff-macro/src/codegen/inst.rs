//! The code of one instruction: the one `match` over every instruction kind, which hands loops,
//! branches, records and calls to the modules beside it.

use super::*;

impl Gen<'_> {
    fn rebind(&self, uses: &[(syn::Ident, Value)]) -> TokenStream {
        let mut t = TokenStream::new();
        for (name, v) in uses {
            if self.mut_refs.contains(v) {
                // The caller's `&mut` buffer is reborrowed, not moved into the code.
                let id = self.v(*v);
                t.append(quote! { let #name = &mut *#id; });
            } else {
                // Moved into the code (a field update rebuilds its struct): a copy where the
                // value is also kept (`energy(&cfg, x); cfg.scale = 3.0;` lends `cfg` to the
                // pullback).
                let m = self.moved(*v, None);
                t.append(quote! { let #name = #m; });
            }
        }
        t
    }

    /// The names a `match` guard reads, bound for it: as [`Self::rebind`] does, except a value
    /// other than a float that the guard only indexes or calls methods on (`_ if ext[s] ==
    /// ext[s - 2]` of a `Vec<usize>` of labels, `n if seen.contains(&n)`), which is lent: moved
    /// into the guard, it was rustc's "use of moved value" where the guard runs again (in a
    /// loop) or the value is read after the `match`. Indexing and method calls read through
    /// the reference as they read the value.
    fn guard_binds(&self, uses: &[(syn::Ident, Value)], guard: &TokenStream) -> TokenStream {
        let mut t = TokenStream::new();
        for (name, v) in uses {
            if !self.ty(*v).is_plain() && !self.mut_refs.contains(v) && read_in_place(guard, name) {
                let x = self.e(*v);
                t.append(quote! { let #name = &#x; });
            } else {
                t.append(self.rebind(std::slice::from_ref(&(name.clone(), *v))));
            }
        }
        t
    }

    /// What a field of data read in place (see `match_places`) dereferences: `o.kind` of `match
    /// o.kind` is read as `*__ad_v7`, where `__ad_v7 = &o.kind`.
    fn place_of(&self, r: Value) -> TokenStream {
        let ValueDef::Result(i, 0) = self.f.value(r).def else {
            unreachable!("a place read is a deref's result")
        };
        let InstKind::Deref(x) = self.f.inst(i).kind else {
            unreachable!("a place read is a deref's result")
        };
        self.e(x)
    }

    fn results_lhs(&self, i: Inst) -> TokenStream {
        let ids: Vec<TokenStream> = self
            .f
            .inst(i)
            .results
            .iter()
            .map(|&r| {
                let (m, id) = (self.mut_kw(r), self.v(r));
                quote!(#m #id)
            })
            .collect();
        quote! { let (#(#ids,)*) = }
    }

    pub(super) fn inst(&self, b: Block, i: Inst) -> TokenStream {
        let outer = self.cur_inst.replace(Some(i));
        let code = self.inst_code(b, i);
        self.cur_inst.set(outer);
        code
    }

    fn inst_code(&self, b: Block, i: Inst) -> TokenStream {
        if let Some(code) = self.elem_map_inst(i) {
            return code;
        }
        let pv = self.pv.clone();
        let inst = self.f.inst(i);
        let r = inst.results.first().copied();
        let lhs = r.map(|r| self.lhs(r));
        let id = |v: Value| self.e(v);
        if let (Some(lhs), Some(rhs)) = (&lhs, self.rhs(i)) {
            return quote! { #lhs #rhs; };
        }
        match &inst.kind {
            InstKind::Const(t) => quote! { #lhs #t; },
            InstKind::Binary(op, a, bb) => {
                if self.active_result(i) {
                    let f = quote::format_ident!("{}", op.name());
                    let (x, y) = (self.by_ref(*a), self.by_ref(*bb));
                    quote! { #lhs #pv::ArithRules::#f(#x, #y); }
                } else {
                    // An operand the pullback also reads (an inactive product it recomputes a
                    // quotient from) is copied, not moved by the operator.
                    let (x, y) = (self.moved(*a, None), self.moved(*bb, None));
                    let o = binop(*op);
                    quote! { #lhs #x #o #y; }
                }
            }
            InstKind::Neg(a) => {
                if self.active_result(i) {
                    let x = self.by_ref(*a);
                    quote! { #lhs #pv::NegRule::neg(#x); }
                } else {
                    let x = self.moved(*a, None);
                    quote! { #lhs -#x; }
                }
            }
            InstKind::Prim { prim, args, .. } if self.view_of_view(*prim, args).is_some() => {
                let e = self.view_of_view(*prim, args);
                quote! { #lhs #e; }
            }
            InstKind::Prim { prim, args, unwrap } => {
                let recv = if prim.name() == "into_shape_with_order" {
                    self.moved(args[0], None)
                } else {
                    let x = id(args[0]);
                    quote!(#x)
                };
                let call = self.prim_call(*prim, recv, &args[1..], inst.span);
                if *unwrap {
                    quote! { #lhs #call.unwrap(); }
                } else {
                    quote! { #lhs #call; }
                }
            }
            InstKind::Method {
                name, recv, args, ..
            } if self.runs_as_written(i) => {
                // A method lent buffers where nothing differentiated reaches the call
                // (`rng.fill_noise(&mut noise)` of a generator of data): the method as the
                // source called it, on its receiver (changed in place, as any method run as
                // written) and on the buffers, whose new versions it gives.
                let lent_at = &self.f.buffer_calls[&i];
                let name = name.to_string();
                let orig = crate::mut_self::original_name(&name).unwrap_or(name.clone());
                let orig = syn::Ident::new(&orig, inst.span);
                let with_value = crate::mut_self::returns_with_value(&name);
                let recv = id(*recv);
                let (binds, call_args, value) = self.lent_args(args, lent_at, with_value);
                let lhs = lhs.unwrap_or_default();
                quote! { #lhs { #binds let __ad_value = #recv.#orig(#(#call_args),*); #value }; }
            }
            InstKind::Method {
                name,
                recv,
                args,
                unwrap,
                ..
            } => {
                let recv = id(*recv);
                let args: Vec<TokenStream> = args.iter().map(|&a| id(a)).collect();
                let mut call = if *unwrap {
                    quote!(#recv.#name(#(#args),*).unwrap())
                } else {
                    quote!(#recv.#name(#(#args),*))
                };
                // A shape query's result is a constant of the derivative: checked to be a
                // length, a flag or a shape, not a struct's own `len` with a float result.
                if crate::lower::calls::is_checked_shape_query(&name.to_string()) && !*unwrap {
                    let pv = &self.pv;
                    call = quote_spanned!(name.span()=> #pv::shape_query(#call));
                }
                // A result nothing reads is dropped at once, as in the statement the source
                // wrote (`w.drain(..1);`, whose `Drain` borrows `w` until it is dropped).
                let unread = r.is_some_and(|r| !self.reads.contains_key(&r));
                match lhs {
                    Some(_) if unread => quote! { let _ = #call; },
                    Some(lhs) => quote! { #lhs #call; },
                    None => quote! { #call; },
                }
            }
            InstKind::Call { path, args } if self.runs_as_written(i) => {
                // A helper's by-value copy where nothing differentiated reaches the call: the
                // helper as the source called it, on the buffers it lent `&mut`.
                let lent_at = &self.f.buffer_calls[&i];
                let name = path.segments.last().map(|s| s.ident.to_string());
                let orig = name.as_deref().and_then(crate::mut_self::original_name);
                let with_value = name
                    .as_deref()
                    .is_some_and(crate::mut_self::returns_with_value);
                let mut path = path.clone();
                if let (Some(last), Some(orig)) = (path.segments.last_mut(), orig) {
                    last.ident = syn::Ident::new(&orig, last.ident.span());
                }
                let (binds, call_args, value) = self.lent_args(args, lent_at, with_value);
                let lhs = lhs.unwrap_or_default();
                quote! { #lhs { #binds let __ad_value = #path(#(#call_args),*); #value }; }
            }
            InstKind::Call { path, args } => {
                let args: Vec<TokenStream> = args.iter().map(|&a| self.moved(a, None)).collect();
                let operator = self.operator_trait(path);
                let (path, args) = self.receiver_call(path, args);
                let fallback = self.literal_fallback(&path, args.len()).or(operator);
                match lhs {
                    Some(lhs) => quote! { #lhs { #fallback #path(#(#args),*) }; },
                    None => quote! { { #fallback #path(#(#args),*) }; },
                }
            }
            InstKind::CallVjp { path, args } => {
                let mut moved: Vec<TokenStream> =
                    args.iter().map(|&a| self.moved(a, None)).collect();
                // A view of a local array given to a function of the runtime (`nn::softmax(&z
                // .row(i))`): its pullback's type names the view's storage, so `_vjp` could not
                // return it (rustc's E0515 inside the generated code). An owned copy is given
                // instead; a view of a parameter lives as long as the pullback may.
                if crate::joint::is_runtime_function(path) {
                    for (k, &a) in args.iter().enumerate() {
                        // Lent by reference (`&view`); a view given by value goes to a
                        // parameter of a view type.
                        if self.f.strip_ref(a) != a && self.f.is_view(a) && !self.f.view_of_param(a)
                        {
                            let m = &moved[k];
                            moved[k] = quote!(&::ndarray::ArrayBase::to_owned(#m));
                        }
                    }
                }
                let (path, moved) = self.receiver_call(path, moved);
                let path = &path;
                let mut vjp = path.clone();
                // A convolution of the runtime over images nothing differentiated reaches (a
                // first layer's input): the pullback that leaves out their gradient, which the
                // generated code would drop.
                let without_input = crate::joint::is_runtime_function(path)
                    && path.segments.last().is_some_and(|s| {
                        s.ident == "conv2d_nchw" || s.ident == "conv2d_nchw_no_bias"
                    })
                    && args
                        .first()
                        .is_some_and(|a| !self.active.get(a.index()).copied().unwrap_or(true));
                let suffix = if without_input {
                    "vjp_without_input"
                } else {
                    "vjp"
                };
                if let Some(last) = vjp.segments.last_mut() {
                    last.ident =
                        quote::format_ident!("{}_{}", last.ident, suffix, span = last.ident.span());
                }
                let (y, pbv, sel) = (
                    id(inst.results[0]),
                    id(inst.results[1]),
                    id(inst.results[2]),
                );
                let markers = self.call_markers(path, args);
                let fallback = self.literal_fallback(path, args.len());
                quote! {
                    let #sel = #markers;
                    let (#y, #pbv) = { #fallback #vjp(#(#moved),*) };
                }
            }
            InstKind::CallJvp {
                path,
                args,
                tangents,
                along,
            } => {
                let (y, dy) = (self.v(inst.results[0]), self.v(inst.results[1]));
                let sel = syn::Ident::new(&format!("__ad_sel{}", i.0), inst.span);
                let (suffix, lhs) = match along {
                    true => ("vjp_along", quote!((#y, #dy, _))),
                    false => ("jvp", quote!((#y, #dy))),
                };
                self.call_adapter(i, path, suffix, args, tangents, &sel, lhs)
            }
            InstKind::CallAlong {
                path,
                args,
                tangents,
            } => {
                let [y, dy, pbv, sel] = [0, 1, 2, 3].map(|k| self.v(inst.results[k]));
                self.call_adapter(
                    i,
                    path,
                    "vjp_along",
                    args,
                    tangents,
                    &sel,
                    quote!((#y, #dy, #pbv)),
                )
            }
            InstKind::CallVjpJvp {
                path,
                args,
                tangents,
            } => {
                let [y, pbv, sel, dy] = [0, 1, 2, 3].map(|k| self.v(inst.results[k]));
                self.call_adapter(
                    i,
                    path,
                    "vjp_jvp",
                    args,
                    tangents,
                    &sel,
                    quote!((#y, #dy, #pbv)),
                )
            }
            InstKind::CallPullbackJvp {
                pb: pbv,
                sel,
                g,
                dg,
            } => {
                let span = inst.span;
                let grads = names::call_grads(i, span);
                let dgrads = syn::Ident::new(&format!("__ad_dg{}", i.0), span);
                // Resolved where it was bound (the generated code's hygiene, which a call
                // written in a `macro_rules` expansion does not share), reported at the call.
                let sel = syn::Ident::new(
                    &self.v(*sel).to_string(),
                    Span::call_site().located_at(span),
                );
                let (pbv, g, dg) = (self.v(*pbv), self.moved(*g, None), self.moved(*dg, None));
                let n = inst.results.len() / 2;
                let parts: Vec<syn::Ident> = inst.results[..n].iter().map(|&r| self.v(r)).collect();
                let dparts: Vec<syn::Ident> =
                    inst.results[n..].iter().map(|&r| self.v(r)).collect();
                quote_spanned! {span=>
                    let (#grads, #dgrads) = #pbv(#g, #dg);
                    let (#(#parts,)*) = #pv::spread(#sel, #grads);
                    let (#(#dparts,)*) = #pv::spread(#sel, #dgrads);
                }
            }
            InstKind::RuleJvp {
                prim,
                operand,
                args,
                g,
                dargs,
                dg,
            } => {
                let tr = syn::Ident::new(prim.def().rule, Span::call_site());
                let rule = quote::format_ident!("{}_jvp", prim.rule_name(*operand));
                let mut all = self.rule_args(args, *g);
                all.push(self.by_ref(*g));
                all.extend(dargs.iter().map(|&d| self.by_ref(d)));
                all.push(self.by_ref(*dg));
                quote! { #lhs #pv::#tr::#rule(#(#all),*); }
            }
            InstKind::Jvp {
                prim,
                args,
                tangents,
            } => {
                let tr = syn::Ident::new(prim.def().rule, Span::call_site());
                let rule = quote::format_ident!("{}_jvp", prim.name());
                let args: Vec<TokenStream> = args
                    .iter()
                    .chain(tangents)
                    .map(|&a| self.by_ref(a))
                    .collect();
                quote! { #lhs #pv::#tr::#rule(#(#args),*); }
            }
            InstKind::CallPullback { pb: pbv, sel, g } => {
                let span = inst.span;
                let grads = names::call_grads(i, span);
                // Resolved where it was bound, reported at the call (as above).
                let sel =
                    syn::Ident::new(&id(*sel).to_string(), Span::call_site().located_at(span));
                let (pbv, g) = (id(*pbv), self.moved(*g, None));
                let parts: Vec<syn::Ident> = inst.results.iter().map(|&r| self.v(r)).collect();
                quote_spanned! {span=>
                    let #grads = #pbv(#g);
                    let (#(#parts,)*) = #pv::spread(#sel, #grads);
                }
            }
            InstKind::Cast { value, ty } => {
                let x = id(*value);
                quote! { #lhs #x as #ty; }
            }
            InstKind::TypedLike { value, like } => {
                let (x, like) = (self.moved(*value, None), self.by_ref(*like));
                quote! { #lhs #pv::typed_like(#like, #x); }
            }
            InstKind::Ascribe { value, ty } => {
                let x = self.moved(*value, None);
                let r = id(inst.results[0]);
                // `let mut rng: Lcg = ..;`: the methods run as written may change it.
                let m = self.mut_kw(inst.results[0]);
                quote! { let #m #r: #ty = #x; }
            }
            InstKind::Ref(x) => {
                let xi = id(*x);
                if self.mut_refs.contains(x) {
                    // `&buf` of a `&mut` buffer: a shared reborrow, which leaves `buf` usable.
                    quote! { #lhs &*#xi; }
                } else if self.is_ref(*x) {
                    quote! { #lhs #xi; }
                } else if let Some(place) = self.element_place(*x) {
                    // `Some(v)` of a loop's item (`first = Some(v)` in `for v in x.iter()`): the
                    // item is a copy of the element made in the loop, which a reference kept
                    // past it would outlive; the element itself lives as long as the data.
                    quote! { #lhs &#place; }
                } else {
                    quote! { #lhs &#xi; }
                }
            }
            InstKind::Tuple(vals) => {
                let vs: Vec<TokenStream> = vals.iter().map(|&v| self.moved(v, None)).collect();
                quote! { #lhs (#(#vs,)*); }
            }
            InstKind::Field(t, n) => {
                let by_ref = self.is_ref(*t);
                let t = id(*t);
                let idx = syn::Index::from(*n as usize);
                let r = inst.results[0];
                if self.copied_out(r) && (by_ref || !self.field_moves_out(i)) {
                    // A field of a tuple or tuple struct behind a reference (`p.0` of `p: &(Array1<f64>,
                    // Array1<f64>)`, `m.0` of `m: &Lin`), or of one read again (`self.0.len()`
                    // then `self.0[i]` of `struct Sig(Vec<f64>, f64)`): copied, not moved out.
                    quote! { #lhs ::core::clone::Clone::clone(&#t.#idx); }
                } else if by_ref && self.f.value(r).kind == Kind::Discrete {
                    // Data behind a reference (`(c, o)` of a `&(String, String)` item): a
                    // copy, as a move out of the reference would not compile for a `String`.
                    quote! { #lhs ::core::clone::Clone::clone(&#t.#idx); }
                } else {
                    quote! { #lhs #t.#idx; }
                }
            }
            InstKind::FieldRef(base, name) => {
                let base = id(*base);
                quote! { #lhs &#base.#name; }
            }
            InstKind::Deref(x) => {
                let x = id(*x);
                if self.match_places.contains(&inst.results[0]) {
                    // Read in place where it is matched or compared (see `place_of`).
                    quote! {}
                } else if self.copied_out(inst.results[0]) {
                    // A field read by value that is not `Copy` (`let w = p.w;` of a parameter
                    // struct taken by value, which the generated code reads through `&p.w`):
                    // a copy, not a move out of the reference.
                    quote! { #lhs ::core::clone::Clone::clone(&*#x); }
                } else {
                    quote! { #lhs *#x; }
                }
            }
            InstKind::Index(base, idx) => {
                let (base, idx) = (id(*base), id(*idx));
                let r = inst.results[0];
                if let Some((w, at)) = self.windows.access.get(&i) {
                    quote! { #lhs #w[#at]; }
                } else if self.rows.contains(&r) {
                    quote! { #lhs &#base[#idx]; }
                } else if self.copied_out(r) || self.kept_data(r) {
                    // An element that may not be `Copy` (a layer of `Vec<Linear>`, a body of
                    // `bodies: &[Body]`, a row of data the pullback keeps, `&ms[k]` of a local
                    // `Vec<Vec<bool>>`): read as a copy of its own, which its adjoint (where it
                    // is differentiated) is added back from; moving it out would not compile.
                    quote! { #lhs ::core::clone::Clone::clone(&#base[#idx]); }
                } else {
                    quote! { #lhs #base[#idx]; }
                }
            }
            InstKind::IndexSet { base, index, value } => {
                let base = self.moved(*base, None);
                let (index, value) = (id(*index), id(*value));
                let r = id(inst.results[0]);
                quote! {
                    let mut #r = #base;
                    #r[#index] = #value;
                }
            }
            InstKind::Opaque { tokens, uses, .. } => {
                // Code run as written that reads the method's receiver (`.filter(|v| **v >
                // self.thr)`): `self` cannot be bound by a `let`, so it is read as a name of
                // its own there.
                let renamed = crate::lower::written::self_renamed(tokens, uses);
                let (tokens, uses) = match &renamed {
                    Some((t, u)) => (t, &u[..]),
                    None => (tokens, &uses[..]),
                };
                let binds = if uses.iter().any(|(_, v)| self.match_places.contains(v))
                    && is_comparison(&inst.kind)
                {
                    // `o.kind == Kind::Gauss` of a field kept borrowed: both sides lent.
                    let mut t = TokenStream::new();
                    for (name, v) in uses {
                        let x = id(*v);
                        if self.match_places.contains(v) {
                            let place = self.place_of(*v);
                            t.append(quote! { let #name = &*#place; });
                        } else {
                            t.append(quote! { let #name = &(#x); });
                        }
                    }
                    t
                } else {
                    self.rebind(uses)
                };
                match lhs {
                    Some(lhs) => quote! { #lhs { #binds #tokens }; },
                    None => quote! { { #binds #tokens; } },
                }
            }
            InstKind::If { cond, then, els } => {
                let c = id(*cond);
                let (t, e) = (self.arm(*then), self.arm(*els));
                if inst.results.is_empty() {
                    quote! { if #c { #t } else { #e } }
                } else {
                    let l = self.results_lhs(i);
                    quote! { #l if #c { #t } else { #e }; }
                }
            }
            InstKind::Match { scrutinee, arms } => {
                let s = if self.match_places.contains(scrutinee) {
                    let place = self.place_of(*scrutinee);
                    quote!(*#place)
                } else {
                    id(*scrutinee).into_token_stream()
                };
                let mut cases = TokenStream::new();
                for arm in arms {
                    let pat = &arm.pat;
                    let head = match &arm.guard {
                        // A guard reading the receiver (`q if q > self.k`): `self` read as a
                        // name of its own, as in code run as written.
                        Some(gd) => {
                            let (gd, uses) =
                                crate::lower::written::self_renamed(gd, &arm.guard_uses)
                                    .unwrap_or_else(|| (gd.clone(), arm.guard_uses.clone()));
                            let binds = self.guard_binds(&uses, &gd);
                            quote! { #pat if { #binds #gd } }
                        }
                        None => quote!(#pat),
                    };
                    let code = self.arm(arm.block);
                    cases.append(quote! { #head => { #code } });
                }
                if inst.results.is_empty() {
                    quote! { match #s { #cases } }
                } else {
                    let l = self.results_lhs(i);
                    quote! { #l match #s { #cases }; }
                }
            }
            InstKind::MatchRecord {
                of,
                scrutinee,
                arms,
            } => {
                let en = names::record_enum(*of);
                let s = id(*scrutinee);
                let mut cases = TokenStream::new();
                for (k, &arm) in arms.iter().enumerate() {
                    let var = names::variant(k);
                    let params: Vec<syn::Ident> = self
                        .f
                        .block(arm)
                        .params
                        .iter()
                        .map(|&p| self.v(p))
                        .collect();
                    let code = self.block_insts(arm);
                    cases.append(quote! { #en::#var((#(#params,)*)) => { #code } });
                }
                quote! { match #s { #cases } }
            }
            InstKind::MakeRecord {
                of,
                variant,
                values,
            } => {
                let en = names::record_enum(*of);
                let var = names::variant(*variant);
                let vs = self.record_values(b, values);
                quote! { #lhs #en::#var((#(#vs,)*)); }
            }
            InstKind::Push { stack, values } => {
                let s = names::stack(*stack);
                let vs = self.record_values(b, values);
                let owner = self.f.stacks[stack.index()].owner;
                let reserved = matches!(
                    self.f.inst(owner).kind,
                    InstKind::Loop {
                        kind: LoopKind::Range { .. },
                        ..
                    }
                );
                // Arrays kept as their elements go to their buffers first.
                let mut elems = TokenStream::new();
                for &v in values {
                    if let Some(buf) = self.flat.get(&v) {
                        let (x, at) = (self.v(v), quote::format_ident!("__ad_at{}", v.index()));
                        elems.extend(quote! {
                            let #at = #pv::push_elems(&mut #buf, &#x, #s.capacity() - #s.len());
                        });
                    }
                }
                if reserved {
                    quote! { #elems #pv::push_reserved(&mut #s, (#(#vs,)*)); }
                } else {
                    quote! { #elems #s.push((#(#vs,)*)); }
                }
            }
            InstKind::Pop(stack) => {
                let s = names::stack(*stack);
                let mut ids: Vec<syn::Ident> = Vec::new();
                let mut elems = TokenStream::new();
                for &r in &inst.results {
                    let x = self.v(r);
                    match self.flat_pops.get(&r).and_then(|fw| self.flat.get(fw)) {
                        Some(buf) => {
                            let at = quote::format_ident!("__ad_at{}", r.index());
                            elems.extend(quote! { let #x = #pv::elems_at(&#buf, #at); });
                            ids.push(at);
                        }
                        None => ids.push(x),
                    }
                }
                quote! { let (#(#ids,)*) = #pv::pop(&mut #s); #elems }
            }
            InstKind::Loop {
                kind, init, body, ..
            } => self.loop_code(i, kind, init, *body),
            InstKind::CkptStart {
                var,
                snapshots,
                range,
            } => {
                let w = names::var(self.f, *var);
                let s = proc_macro2::Literal::usize_unsuffixed(*snapshots);
                match range {
                    Some(r) => {
                        let re = self.range_expr(r);
                        quote! { let mut #w = #pv::checkpointer_binomial(&#re, #s); }
                    }
                    None => quote! { let mut #w = #pv::Checkpointer::online(#s); },
                }
            }
            InstKind::CkptOffer { var, iter, state } => {
                let w = names::var(self.f, *var);
                let k = self.v(*iter);
                // A state that cannot be cloned is reported at the loop.
                let at = Span::call_site().located_at(inst.span);
                let copies: Vec<TokenStream> = state
                    .iter()
                    .map(|&v| {
                        let x = syn::Ident::new(&self.v(v).to_string(), at);
                        if self.ty(v).is_plain() || self.is_ref(v) {
                            quote!(#x)
                        } else {
                            quote_spanned!(at=> ::core::clone::Clone::clone(&#x))
                        }
                    })
                    .collect();
                quote! { #w.offer(#k, || (#(#copies,)*)); }
            }
            InstKind::CkptFinish { var, n } => {
                let w = names::var(self.f, *var);
                let n = self.v(*n);
                quote! { #lhs #pv::checkpoint_finish(#w, #n); }
            }
            InstKind::InlinePullback { body } => {
                let code = self.block_insts(*body);
                quote! { { #code } }
            }
            InstKind::CkptSweep {
                ck,
                var,
                range,
                advance,
                record,
                reverse,
            } => {
                let blocks = [*advance, *record, *reverse];
                self.sweep_code(i, *ck, *var, range.as_ref(), blocks)
            }
            InstKind::Mutate {
                m,
                base,
                args,
                unwrap,
            } => {
                let name = syn::Ident::new(m.def().name, inst.span);
                let new = self.v(inst.results[0]);
                let base = self.moved(*base, None);
                // An argument moved in (`rows.push(row)`) that a record still reads is copied.
                let args: Vec<TokenStream> = args.iter().map(|&a| self.moved(a, None)).collect();
                let call = if *unwrap {
                    quote!(#new.#name(#(#args),*).unwrap())
                } else {
                    quote!(#new.#name(#(#args),*))
                };
                match inst.results.get(1) {
                    Some(&r) => {
                        let l = self.lhs(r);
                        quote! { let mut #new = #base; #l #call; }
                    }
                    None => quote! { let mut #new = #base; #call; },
                }
            }
            InstKind::VarUpdate { var, m, args } => {
                let w = names::var(self.f, *var);
                let h = syn::Ident::new(m.def().adjoint, Span::call_site());
                let args: Vec<TokenStream> = args.iter().map(|&a| self.by_ref(a)).collect();
                let parts: Vec<syn::Ident> = inst.results.iter().map(|&r| self.v(r)).collect();
                quote! { let (#(#parts,)*) = #pv::place::#h(&mut #w, #(#args),*); }
            }
            InstKind::VarInit { var, value } => {
                let w = names::var(self.f, *var);
                let x = self.moved(*value, None);
                match self.ty(*value).float() {
                    Some(t) => {
                        let t = t.tokens();
                        quote! { let mut #w: #t = #x; }
                    }
                    None => quote! { let mut #w = #x; },
                }
            }
            InstKind::VarDecl(var) => {
                let w = names::var(self.f, *var);
                quote! { let mut #w; }
            }
            InstKind::VarAcc { var, value } => {
                let w = names::var(self.f, *var);
                let x = self.moved(*value, None);
                if self.ty(*value).is_plain() {
                    quote! { #w += #x; }
                } else {
                    quote! { #pv::acc(&mut #w, #x); }
                }
            }
            InstKind::VarSet { var, value } => {
                let w = names::var(self.f, *var);
                let x = self.moved(*value, None);
                quote! { #w = #x; }
            }
            InstKind::VarAccAt { var, index, value } => {
                let w = names::var(self.f, *var);
                let (ix, x) = (id(*index), self.moved(*value, None));
                match self.windows.access.get(&i) {
                    Some((win, at)) => quote! { #win[#at] += #x; },
                    None => quote! { #pv::acc_index(&mut #w, &#ix, #x); },
                }
            }
            InstKind::VarAccField {
                var,
                field,
                index,
                value,
            } => {
                let w = names::var(self.f, *var);
                let x = self.moved(*value, None);
                match index {
                    Some(ix) => {
                        let ix = id(*ix);
                        quote! { #pv::acc_field_index(&mut #w.#field, &#ix, #x); }
                    }
                    None => quote! { #pv::acc_field(&mut #w.#field, #x); },
                }
            }
            InstKind::VarGet(w) => {
                let w = names::var(self.f, *w);
                quote! { #lhs #w; }
            }
            InstKind::VarTake(w) => {
                let w = names::var(self.f, *w);
                if r.is_some_and(|r| self.ty(r).is_plain()) {
                    quote! { #lhs ::core::mem::take(&mut #w); }
                } else {
                    quote! { #lhs #pv::take(&mut #w); }
                }
            }
            InstKind::VarTakeTo { var, shape } => {
                let w = names::var(self.f, *var);
                let sh = id(*shape);
                quote! { #lhs #pv::take_to(&mut #w, &#sh); }
            }
            InstKind::VarTakeAt { var, index } => {
                let w = names::var(self.f, *var);
                let ix = id(*index);
                quote! { #lhs #pv::take_index(&mut #w, &#ix); }
            }
            InstKind::VarReadAt { var, index } => {
                let w = names::var(self.f, *var);
                let ix = id(*index);
                quote! { #lhs #pv::read_index(&#w, &#ix); }
            }
            InstKind::Count(w) => {
                let w = names::var(self.f, *w);
                quote! { #w += 1; }
            }
            InstKind::ZeroLike(v) => {
                let x = self.by_ref(*v);
                quote! { #lhs #pv::zero_like(#x); }
            }
            InstKind::ZeroOfShape(sh) => {
                let s = id(*sh);
                quote! { #lhs #pv::zeros_of_shape(&#s); }
            }
            InstKind::Shape(v) => {
                let x = self.by_ref(*v);
                quote! { #lhs #pv::shape_of(#x); }
            }
            InstKind::TypeOf(v) => {
                let x = self.by_ref(*v);
                quote! { #lhs #pv::type_of(#x); }
            }
            InstKind::Rule {
                prim,
                operand,
                args,
                g,
            } => {
                let tr = syn::Ident::new(prim.def().rule, Span::call_site());
                let rule = syn::Ident::new(&prim.rule_name(*operand), Span::call_site());
                let gi = id(*g);
                let args = self.rule_args(args, *g);
                quote! { #lhs #pv::#tr::#rule(#(#args,)* &#gi); }
            }
            InstKind::Helper { name, args } => {
                let h = syn::Ident::new(name, Span::call_site());
                let args: Vec<TokenStream> = args.iter().map(|&a| id(a)).collect();
                quote! { #lhs #pv::d::#h(#(#args),*); }
            }
            InstKind::CastBack { source, g } => match self.ty(*source).float() {
                Some(t) if self.ty(*g).is_plain() => {
                    let t = t.tokens();
                    let gi = id(*g);
                    quote! { #lhs #gi as #t; }
                }
                _ => {
                    let (x, gi) = (self.by_ref(*source), id(*g));
                    quote! { #lhs #pv::cast_vjp(#x, &#gi); }
                }
            },
            // A field (a reference to it), or what a call returned, of a type the macro does not
            // see (an array, or anything else a callee taking it as it is gives back as it is):
            // converted by that type, which may be any. An array lent as a slice: by the
            // array's. Where the forward pass kept only a witness of the value's type (the
            // pullback reads nothing else of it), the conversion is the witness's.
            InstKind::GradAs { like, g } => {
                let witnessed = self.f.type_witnessed(*like);
                let of = witnessed.unwrap_or(*like);
                let field = self.f.lent_field(of).is_some();
                let conv = if field || self.f.is_unseen(of) {
                    quote!(grad_as_field)
                } else {
                    quote!(grad_as)
                };
                let gi = self.moved(*g, None);
                if witnessed.is_some() {
                    let w = self.v(*like);
                    quote! { #lhs #w.#conv(#gi); }
                } else {
                    let x = if field {
                        let x = self.v(*like);
                        quote!(#x)
                    } else {
                        self.by_ref(*like)
                    };
                    quote! { #lhs #pv::#conv(#x, #gi); }
                }
            }
        }
    }
}

/// Whether every mention of `name` in `tokens` (not a field, method or path segment of that
/// name) is indexed, the receiver of a field or method, or borrowed (`name[..]`, `name.len()`,
/// `count(&name)`): reads that go through a reference to the value as they go through the
/// value (a borrow of the reference is a `&&` that coerces where the `&` did).
fn read_in_place(tokens: &TokenStream, name: &syn::Ident) -> bool {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    fn walk(tokens: &TokenStream, name: &syn::Ident, seen: &mut bool) -> bool {
        let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
        let punct = |k: Option<usize>, c: char| {
            k.and_then(|k| trees.get(k))
                .is_some_and(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == c))
        };
        for (k, t) in trees.iter().enumerate() {
            match t {
                TokenTree::Group(g) if !walk(&g.stream(), name, seen) => return false,
                TokenTree::Ident(id) if id == name => {
                    // `a.name`, `a::name`: another thing of that name (`..name` is a range's
                    // end, the variable).
                    let before = k.checked_sub(1);
                    let field =
                        punct(before, '.') && !punct(before.and_then(|b| b.checked_sub(1)), '.');
                    if field || punct(before, ':') {
                        continue;
                    }
                    *seen = true;
                    let indexed = matches!(trees.get(k + 1),
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket);
                    let receiver = punct(Some(k + 1), '.') && !punct(Some(k + 2), '.');
                    // `&name`, not the `&&` of `a && name`.
                    let and = before
                        .and_then(|b| b.checked_sub(1))
                        .and_then(|b| trees.get(b));
                    let borrowed = punct(before, '&')
                        && !matches!(and, Some(TokenTree::Punct(p))
                            if p.as_char() == '&' && p.spacing() == Spacing::Joint);
                    if !(indexed || receiver || borrowed) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        true
    }
    let mut seen = false;
    walk(tokens, name, &mut seen) && seen
}
