//! Control flow: match and `if` arms, loops with their carried state and range, and the
//! backward sweep of a checkpointed loop. Kept apart from [`super::inst`] because each is a
//! block of code of its own, with the names of its state variables from [`super::names`].

use super::*;

impl Gen<'_> {
    /// An arm's code: its instructions, then its yielded values as a tuple.
    pub(super) fn arm(&self, b: Block) -> TokenStream {
        let mut out = self.bind_arm_params(b);
        out.append(self.block_insts(b));
        match &self.f.block(b).term {
            Term::Yield(vals) if !vals.is_empty() => {
                let vs: Vec<TokenStream> = (0..vals.len())
                    .map(|k| self.moved_from_list(vals, k, b))
                    .collect();
                out.append(quote! { (#(#vs,)*) });
            }
            _ => {}
        }
        out
    }

    /// `vals[k]` moved into a terminator's `k`-th place, or copied where a later place of the
    /// same terminator moves the same value (a `return out;` inside a loop that carries `out`:
    /// the value returned and the variable carried are one `Vec`).
    fn moved_from_list(&self, vals: &[Value], k: usize, at: Block) -> TokenStream {
        let v = vals[k];
        let again = vals[k + 1..].contains(&v);
        if again && !self.ty(v).is_plain() && !self.is_ref(v) && self.folded(v).is_none() {
            let id = self.v(v);
            return quote!(::core::clone::Clone::clone(&#id));
        }
        self.moved(v, Some(at))
    }

    /// Whether the block of instruction `i` also passes `v` on in its terminator, after `i`
    /// reads it: `return (out, s);` inside a loop that carries `out`, whose arm builds the
    /// tuple from `out` and yields `out` as the carried variable too. A value of a type that is
    /// not `Copy` is then copied where `i` takes it.
    pub(super) fn passed_on_by_own_block(&self, i: Inst, v: Value) -> bool {
        if self.ty(v).is_plain() || self.is_ref(v) || self.folded(v).is_some() {
            return false;
        }
        let Some(&b) = self.inst_block.get(&i) else {
            return false;
        };
        match &self.f.block(b).term {
            Term::Yield(vals) | Term::Continue(vals) | Term::Break(vals) => vals.contains(&v),
            Term::Next { vals, .. } => vals.contains(&v),
            _ => false,
        }
    }

    fn bind_arm_params(&self, arm: Block) -> TokenStream {
        let mut out = TokenStream::new();
        if let Some(bindings) = self.arm_bindings.get(&arm) {
            for (name, &p) in bindings.iter().zip(&self.f.block(arm).params) {
                let id = self.v(p);
                out.append(quote! { let #id = #name; });
            }
        }
        out
    }

    /// The end of an iteration of loop `i` whose body ends in `term`: the carried values into
    /// the loop's state variables, and `break` if the body says so.
    fn next_iteration(&self, i: Inst, at: Block) -> TokenStream {
        let term = &self.f.block(at).term;
        let assign = |vals: &[Value]| -> TokenStream {
            let mut t = TokenStream::new();
            for k in 0..vals.len() {
                let st = names::loop_state(i, k);
                let x = self.moved_from_list(vals, k, at);
                t.append(quote! { #st = #x; });
            }
            t
        };
        match term {
            Term::Continue(vals) => assign(vals),
            Term::Break(vals) => {
                let a = assign(vals);
                quote! { #a break; }
            }
            Term::Next { brk, vals } => {
                let a = assign(vals);
                let c = self.v(*brk);
                quote! { #a if #c { break; } }
            }
            _ => TokenStream::new(),
        }
    }

    /// A `for` loop's range as an iterator: `(a..b)`, `(a..=b)`, `(a..b).rev()`.
    pub(super) fn range_expr(&self, r: &IterRange) -> TokenStream {
        let (s, e) = (self.v(r.start), self.v(r.end));
        let range = if r.inclusive {
            quote!((#s..=#e))
        } else {
            quote!((#s..#e))
        };
        if r.rev { quote!(#range.rev()) } else { range }
    }

    /// The backward sweep of checkpointed loop `i`: a `match` on the checkpointer's next action
    /// (see [`crate::checkpoint`]), with the loop's state in `__ad_st{i}_k` while it advances.
    pub(super) fn sweep_code(
        &self,
        i: Inst,
        ck: Value,
        var: Var,
        range: Option<&IterRange>,
        [advance, record, reverse]: [Block; 3],
    ) -> TokenStream {
        let pv = &self.pv;
        let w = names::var(self.f, var);
        // The sweep's one read of the checkpointer: moved, never copied.
        let ck = self.v(ck);
        let current = names::sweep_state(i);
        let range = range.map(|r| self.range_expr(r));
        let skip = usize::from(range.is_some());
        let (from, to, at, state) = names::sweep_action();
        // Advance: the plain body for iterations `from..to`; its last carried value counts them.
        let params = &self.f.block(advance).params;
        let carried = &params[skip..];
        let st: Vec<syn::Ident> = (0..carried.len())
            .map(|k| names::loop_state(i, k))
            .collect();
        let Some((st_k, st_state)) = st.split_last() else {
            unreachable!("an advance block carries the iteration number")
        };
        let mut advance_code = TokenStream::new();
        if let Some(re) = &range {
            let idx = self.v(params[0]);
            advance_code.append(quote! { let #idx = #pv::range_nth(#re, #st_k); });
        }
        for (p, s) in carried.iter().zip(&st) {
            let (m, id) = (self.mut_kw(*p), self.v(*p));
            advance_code.append(quote! { let #m #id = #s; });
        }
        advance_code.append(self.block_insts(advance));
        advance_code.append(self.next_iteration(i, advance));
        // Reverse: the body recording what its pullback reads, then the pullback.
        let params = &self.f.block(record).params;
        let bound: Vec<TokenStream> = params[skip..]
            .iter()
            .map(|&p| {
                let (m, id) = (self.mut_kw(p), self.v(p));
                quote!(#m #id)
            })
            .collect();
        let index = range.as_ref().map(|re| {
            let idx = self.v(params[0]);
            quote! { let #idx = #pv::range_nth(#re, #at); }
        });
        let (record, reverse) = (self.block_insts(record), self.block_insts(reverse));
        let some = quote!(::core::option::Option::Some);
        // The loop's state must be `Clone`; if it is not, that is reported at the loop.
        let next = syn::Ident::new(
            "next_action",
            Span::call_site().located_at(self.f.inst(i).span),
        );
        quote! {
            let mut #w = #ck;
            let mut #current = ::core::option::Option::None;
            loop {
                match #w.#next() {
                    #pv::Action::Restore { state: #state, .. } => #current = #some(#state),
                    #pv::Action::Advance { from: #from, to: #to } => {
                        let (#(mut #st_state,)*) = #pv::checkpoint_state(&mut #current);
                        let mut #st_k = #from;
                        for _ in #from..#to {
                            #advance_code
                        }
                        #current = #some((#(#st_state,)*));
                    }
                    #pv::Action::Reverse { at: #at } => {
                        let (#(#bound,)*) = #pv::checkpoint_state(&mut #current);
                        #index
                        #record
                        #reverse
                    }
                    #pv::Action::Done => break,
                }
            }
            #pv::checkpoint_done(&#w);
        }
    }

    pub(super) fn loop_code(
        &self,
        i: Inst,
        kind: &LoopKind,
        init: &[Value],
        body: Block,
    ) -> TokenStream {
        let pv = self.pv.clone();
        let mut out = TokenStream::new();
        let params = self.f.block(body).params.clone();
        let carried = &params[params.len() - init.len()..];
        let mut bind = TokenStream::new();
        for (k, &v) in init.iter().enumerate() {
            let st = names::loop_state(i, k);
            let x = self.moved(v, None);
            // A float state whose initial value is an unsuffixed literal (`fold(0.0, f64::max)`)
            // gets its type here, where the loop's methods on it (`acc.max(v)`) need it.
            match self.ty(carried[k]).float() {
                Some(t) => {
                    let t = t.tokens();
                    out.append(quote! { let mut #st: #t = #x; });
                }
                None => out.append(quote! { let mut #st = #x; }),
            }
            let p = self.v(carried[k]);
            let m = self.mut_kw(carried[k]);
            bind.append(quote! { let #m #p = #st; });
        }
        let mut code = self.block_insts(body);
        code.append(self.next_iteration(i, body));
        match kind.range() {
            Some(r) => {
                let range = self.range_expr(&r);
                let rn = names::range();
                out.append(quote! { let #rn = #range; });
                for &s in self.loop_stacks.get(&i).into_iter().flatten() {
                    let st = names::stack(s);
                    out.append(quote! {
                        #st.reserve(::core::iter::Iterator::size_hint(&#rn).0);
                    });
                }
                for (s, ranges) in self.hoisted_reserves.get(&i).into_iter().flatten() {
                    let st = names::stack(*s);
                    // A bound written as a literal is defined inside the loop it bounds; it is
                    // spelt out here, where the other bounds are already in scope.
                    let bound = |v: Value| {
                        self.const_tokens(v).unwrap_or_else(|| {
                            let x = self.v(v);
                            quote!(#x)
                        })
                    };
                    let lens = ranges.iter().map(|r| {
                        let (a, b) = (bound(r.start), bound(r.end));
                        let r = if r.inclusive {
                            quote!((#a ..= #b))
                        } else {
                            quote!((#a .. #b))
                        };
                        quote!(::core::iter::Iterator::size_hint(&#r).0)
                    });
                    let pv = &self.pv;
                    out.append(quote! {
                        #pv::reserve_nest(&mut #st, 1usize #(.saturating_mul(#lens))*);
                    });
                }
                out.append(self.window_lets(i, &r));
                let idx = self.v(params[0]);
                out.append(quote! {
                    for #idx in #rn {
                        #bind
                        #code
                    }
                });
            }
            None => {
                out.append(quote! {
                    loop {
                        #bind
                        #code
                    }
                });
            }
        }
        for (k, &r) in self.f.inst(i).results.iter().enumerate() {
            let st = names::loop_state(i, k);
            let rr = self.v(r);
            let m = self.mut_kw(r);
            out.append(quote! { let #m #rr = #st; });
        }
        let _ = pv;
        out
    }
}
