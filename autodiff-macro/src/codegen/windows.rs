//! Windows: the part of an array that a `for` loop walks, borrowed once before the loop.
//!
//! A loop over `l in lo..hi` that reads `a[base + l]` (or `a[l]`) in every iteration, with
//! `base` the same in all of them, reads the elements `a[base + lo .. base + hi]` and no others.
//! Borrowing that range as a slice before the loop and reading `w[l - lo]` inside it leaves one
//! bounds check, at the loop's entry, instead of one per read; LLVM can then vectorise the loop.
//! The same holds for an adjoint the loop only adds to, `ā[base + l] += ..`, borrowed mutably:
//! the backward pass of `t += ls[row + l] * (x[i·d + l] − μ[c·d + l])` reads three arrays and
//! adds to two adjoints in such a loop, each behind a bounds check that kept it scalar.
//!
//! A window is only taken where the slice cannot fail where the loop would not have: the read
//! is in the loop body's own block (every iteration runs it), the loop has no way out but its
//! end (no `break`, `return` or early exit anywhere in it), and the window is empty when the
//! range is. A panic that the loop would raise at some iteration (an index out of bounds) is
//! then raised at its entry, before the iterations ahead of it ran; that is the one change.
//! An array read this way must not change in the loop (it is a value defined before it), and
//! an adjoint must be used in the loop by these additions only, all at the same base.

use super::*;

/// What a window borrows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Source {
    /// An array value defined before the loop, read.
    Value(Value),
    /// An adjoint variable, added to.
    Var(Var),
}

/// One window of a loop: `let name = &src[base + lo .. base + hi]` before it, or, for an
/// index that a counter carried by the loop gives (`base + idx` where `idx` starts at `init`
/// and goes up by one per iteration), `&src[base + init .. base + init + (hi - lo)]`.
#[derive(Clone, Debug)]
pub(super) struct Window {
    pub name: syn::Ident,
    pub source: Source,
    /// `base`, spelt out where the loop starts (`None`: zero).
    pub base: Option<TokenStream>,
    /// The counter's value in the loop's first iteration, for a window a counter indexes.
    pub counter: Option<TokenStream>,
}

/// Where an access reads: the window's `base` and, for a counter's index, its first value.
type At = (Option<TokenStream>, Option<TokenStream>);

/// An access in a loop nested in the one whose windows are planned (see
/// `Gen::nested_accesses`).
struct Nested {
    inst: Inst,
    source: Source,
    base: Option<TokenStream>,
    /// Where it reads in a window of the outer loop.
    offset: TokenStream,
}

/// The windows of every loop of a function, and the element accesses that go through them.
#[derive(Default)]
pub(super) struct Windows {
    /// Loop → the windows borrowed before it.
    pub of_loop: HashMap<Inst, Vec<Window>>,
    /// Access (`Index`, `VarAccAt`) → the window it goes through and the offset it reads there.
    pub access: HashMap<Inst, (syn::Ident, TokenStream)>,
}

impl Gen<'_> {
    /// Finds the windows of every `for` loop (see the module docs).
    pub(super) fn plan_windows(&self, blocks: &[Block]) -> Windows {
        let mut out = Windows::default();
        let mut n = 0usize;
        // Adjoints that hold a slice, array or `Vec` of plain floats (what their first value
        // says).
        let elems: HashSet<Var> = self
            .f
            .insts
            .iter()
            .filter_map(|inst| match &inst.kind {
                InstKind::VarInit { var, value } if matches!(self.ty(*value), Ty::Elems(_)) => {
                    Some(*var)
                }
                _ => None,
            })
            .collect();
        for &b in blocks {
            for &i in &self.f.block(b).insts {
                if let InstKind::Loop {
                    kind,
                    body,
                    checkpoint: None,
                    ..
                } = &self.f.inst(i).kind
                {
                    if let Some(r) = kind.range() {
                        if !r.inclusive {
                            self.loop_windows(i, &r, *body, &elems, &mut n, &mut out);
                        }
                    }
                }
            }
        }
        out
    }

    fn loop_windows(
        &self,
        lp: Inst,
        r: &IterRange,
        body: Block,
        elems: &HashSet<Var>,
        n: &mut usize,
        out: &mut Windows,
    ) {
        let f = self.f;
        let inside: HashSet<Block> = f.blocks_within(body).into_iter().collect();
        // Only a loop that runs every iteration to its end.
        if !matches!(f.block(body).term, Term::Continue(_)) {
            return;
        }
        for &b in &inside {
            if b == body {
                continue;
            }
            if matches!(f.block(b).term, Term::Return(_)) {
                return;
            }
        }
        if self.leaves_early(body) {
            return;
        }
        // The instructions every iteration runs: the body's own, and those of the pullback of
        // a reduction loop's iteration run in place (a block run as a whole).
        let mut always: Vec<Inst> = Vec::new();
        for &i in &f.block(body).insts {
            always.push(i);
            if let InstKind::InlinePullback { body: pb } = &f.inst(i).kind {
                always.extend(f.block(*pb).insts.iter().copied());
            }
        }
        let always_set: HashSet<Inst> = always.iter().copied().collect();
        let counter = f.block(body).params[0];
        let defined_inside = |v: Value| self.def_block(v).is_some_and(|b| inside.contains(&b));

        // A counter the loop carries, as `crate::counters` rewrote it: `counter_at(init, 1,
        // true, l, lo)` is `init + (l − lo)`; its `init`, spelt out where the loop starts.
        let counter_init = |v: Value| -> Option<TokenStream> {
            let ValueDef::Result(d, 0) = f.value(v).def else {
                return None;
            };
            if !always_set.contains(&d) {
                return None;
            }
            let InstKind::Helper { name, args } = &f.inst(d).kind else {
                return None;
            };
            if name != "counter_at" || args.len() != 5 || args[3] != counter || args[4] != r.start {
                return None;
            }
            let step = self.const_tokens(args[1])?.to_string();
            let up = self.const_tokens(args[2])?.to_string();
            if !matches!(step.as_str(), "1" | "1usize") || up != "true" {
                return None;
            }
            self.invariant(args[0], &defined_inside, &always_set, 0)
        };
        // `base` of an index `base + counter` (or `counter + base`, or the counter itself),
        // and the first value of a carried counter that takes the loop counter's place.
        let base_of = |ix: Value| -> Option<At> {
            if ix == counter {
                return Some((None, None));
            }
            if let Some(init) = counter_init(ix) {
                return Some((None, Some(init)));
            }
            let ValueDef::Result(d, 0) = f.value(ix).def else {
                return None;
            };
            if !always_set.contains(&d) {
                return None;
            }
            let InstKind::Binary(BinOp::Add, a, b) = f.inst(d).kind else {
                return None;
            };
            let (base, init) = if a == counter {
                (b, None)
            } else if b == counter {
                (a, None)
            } else if let Some(init) = counter_init(a) {
                (b, Some(init))
            } else if let Some(init) = counter_init(b) {
                (a, Some(init))
            } else {
                return None;
            };
            let base = self.invariant(base, &defined_inside, &always_set, 0)?;
            Some((Some(base), init))
        };

        // Candidates, then every use of their sources in the loop checked.
        let mut reads: Vec<(Inst, Value, At)> = Vec::new();
        let mut adds: Vec<(Inst, Var, At)> = Vec::new();
        for &i in &always {
            if out.access.contains_key(&i) {
                // Through a window of a loop this one is nested in.
                continue;
            }
            let Some((source, ix)) = self.window_access(i, &defined_inside, elems) else {
                continue;
            };
            let Some(base) = base_of(ix) else {
                continue;
            };
            match source {
                Source::Value(a) => reads.push((i, a, base)),
                Source::Var(w) => adds.push((i, w, base)),
            }
        }
        if reads.is_empty() && adds.is_empty() {
            return;
        }
        let nested = self.nested_accesses(r, counter, &always, &defined_inside, elems);
        // Every use in the loop of an array read through a window is an element read; every
        // use of an adjoint added to through one is such an addition.
        let mut other_value_use: HashSet<Value> = HashSet::new();
        let mut var_uses: HashMap<Var, usize> = HashMap::new();
        for &b in &inside {
            for &i in &f.block(b).insts {
                match &f.inst(i).kind {
                    InstKind::Index(_, ix) => {
                        other_value_use.insert(*ix);
                    }
                    k => {
                        other_value_use.extend(f.operands(i));
                        if let Some(w) = k.var() {
                            *var_uses.entry(w).or_default() += 1;
                        }
                    }
                }
            }
            other_value_use.extend(f.term_operands(b));
        }
        let key = |(b, c): &At| {
            (
                b.as_ref().map(|t| t.to_string()),
                c.as_ref().map(|t| t.to_string()),
            )
        };
        let mut windows: Vec<Window> = Vec::new();
        let mut find_or_add = |source: Source, at: &At, windows: &mut Vec<Window>| {
            if let Some(w) = windows.iter().find(|w| {
                w.source == source && key(&(w.base.clone(), w.counter.clone())) == key(at)
            }) {
                return w.name.clone();
            }
            let name = quote::format_ident!("__ad_win{}", *n);
            *n += 1;
            windows.push(Window {
                name: name.clone(),
                source,
                base: at.0.clone(),
                counter: at.1.clone(),
            });
            name
        };
        let offset = self.window_offset(r, counter);
        // A counter's offset `l − lo` has the type of the loop's range, which need not be the
        // index's.
        let counter_offset = quote!(((#offset) as usize));
        let offset_of = |at: &At| {
            if at.1.is_some() {
                counter_offset.clone()
            } else {
                offset.clone()
            }
        };
        for (i, a, at) in &reads {
            if other_value_use.contains(a) {
                continue;
            }
            let name = find_or_add(Source::Value(*a), at, &mut windows);
            out.access.insert(*i, (name, offset_of(at)));
        }
        // Reads in nested loops that stay inside one of these windows go through it.
        for n in &nested {
            let Source::Value(a) = n.source else {
                continue;
            };
            if let Some(w) = windows.iter().find(|w| {
                w.source == n.source
                    && w.counter.is_none()
                    && key(&(w.base.clone(), None)) == key(&(n.base.clone(), None))
            }) {
                if !other_value_use.contains(&a) {
                    out.access
                        .insert(n.inst, (w.name.clone(), n.offset.clone()));
                }
            }
        }
        let mut by_var: HashMap<Var, Vec<(Inst, At)>> = HashMap::new();
        for (i, w, base) in adds {
            by_var.entry(w).or_default().push((i, base));
        }
        let mut vars: Vec<_> = by_var.into_iter().collect();
        vars.sort_by_key(|(w, _)| w.index());
        for (w, accs) in vars {
            let first = key(&accs[0].1);
            // Additions in nested loops that stay inside the window are uses it covers.
            let inner: Vec<&Nested> = nested
                .iter()
                .filter(|n| n.source == Source::Var(w))
                .collect();
            let inner_fits = inner.is_empty()
                || (accs[0].1.1.is_none()
                    && inner.iter().all(|n| key(&(n.base.clone(), None)) == first));
            if var_uses.get(&w).copied().unwrap_or(0) != accs.len() + inner.len()
                || !inner_fits
                || accs.iter().any(|(_, b)| key(b) != first)
            {
                continue;
            }
            let name = find_or_add(Source::Var(w), &accs[0].1, &mut windows);
            let at = offset_of(&accs[0].1);
            for (i, _) in accs {
                out.access.insert(i, (name.clone(), at.clone()));
            }
            for n in inner {
                out.access.insert(n.inst, (name.clone(), n.offset.clone()));
            }
        }
        if !windows.is_empty() {
            out.of_loop.insert(lp, windows);
        }
    }

    /// The element accesses of loops nested directly in a loop over `r` (run in every
    /// iteration of its body) whose indices stay inside the outer loop's windows: `a[base + l]`
    /// or `ā[base + l] += ..` over `l in lo..hi` where `lo` is at least the outer loop's start
    /// and `hi` is the outer loop's counter or end, so that `l` stays in the outer range. Such
    /// an access can go through a window of the outer loop at the same `base`, which saves the
    /// nested loop borrowing its own in every outer iteration (the Gaussian mixture's triangle
    /// reads `x[i·d + l]` and `μ[c·d + l]` for `l < j` in a loop over `j` that reads them at
    /// `j`). The outer loop's own accesses decide whether a window exists; these only use it.
    fn nested_accesses(
        &self,
        r: &IterRange,
        counter: Value,
        always: &[Inst],
        defined_inside: &dyn Fn(Value) -> bool,
        elems: &HashSet<Var>,
    ) -> Vec<Nested> {
        let f = self.f;
        let mut out = Vec::new();
        let int = |v: Value| -> Option<u128> {
            let t = self.const_tokens(v)?.to_string();
            let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        };
        for &n in always {
            let InstKind::Loop {
                kind,
                body: nb,
                checkpoint: None,
                ..
            } = &f.inst(n).kind
            else {
                continue;
            };
            let Some(rn) = kind.range() else {
                continue;
            };
            if rn.inclusive {
                continue;
            }
            let low_ok = rn.start == r.start
                || matches!((int(rn.start), int(r.start)), (Some(a), Some(b)) if a >= b);
            let high_ok = rn.end == counter || rn.end == r.end;
            if !low_ok || !high_ok {
                continue;
            }
            let l = f.block(*nb).params[0];
            // The nested loop's blocks, without those of loops nested in it (whose counters
            // are their own).
            let mut deeper: HashSet<Block> = HashSet::new();
            let within = f.blocks_within(*nb);
            for &b in &within {
                for &i in &f.block(b).insts {
                    if let InstKind::Loop { body, .. } = f.inst(i).kind {
                        deeper.extend(f.blocks_within(body));
                    }
                }
            }
            let insts: Vec<Inst> = within
                .iter()
                .filter(|b| !deeper.contains(b))
                .flat_map(|&b| f.block(b).insts.clone())
                .collect();
            // Bases are only compared with those of the outer loop's windows, never spelt
            // out, so they may be computed anywhere in the nested loop.
            let mut all: HashSet<Inst> = always.iter().copied().collect();
            all.extend(insts.iter().copied());
            let base_of = |ix: Value| -> Option<Option<TokenStream>> {
                if ix == l {
                    return Some(None);
                }
                let ValueDef::Result(d, 0) = f.value(ix).def else {
                    return None;
                };
                if !all.contains(&d) {
                    return None;
                }
                let InstKind::Binary(BinOp::Add, a, b) = f.inst(d).kind else {
                    return None;
                };
                let base = if a == l {
                    b
                } else if b == l {
                    a
                } else {
                    return None;
                };
                self.invariant(base, defined_inside, &all, 0).map(Some)
            };
            let offset = self.window_offset(r, l);
            for &i in &insts {
                let Some((source, ix)) = self.window_access(i, defined_inside, elems) else {
                    continue;
                };
                if let Some(base) = base_of(ix) {
                    out.push(Nested {
                        inst: i,
                        source,
                        base,
                        offset: offset.clone(),
                    });
                }
            }
        }
        out
    }

    /// An element access a window can serve, with what it reads or adds to and its index: a
    /// read of a plain float from an array of them defined before the loop, or the addition of
    /// a plain float to an adjoint that holds them (`elems`).
    fn window_access(
        &self,
        i: Inst,
        defined_inside: &dyn Fn(Value) -> bool,
        elems: &HashSet<Var>,
    ) -> Option<(Source, Value)> {
        match &self.f.inst(i).kind {
            InstKind::Index(a, ix) => {
                let res = self.f.inst(i).results[0];
                let ok = !defined_inside(*a)
                    && matches!(self.ty(*a), Ty::Elems(_))
                    && self.ty(res).is_plain()
                    && !self.rows.contains(&res)
                    && !self.mut_refs.contains(a);
                ok.then_some((Source::Value(*a), *ix))
            }
            InstKind::VarAccAt { var, index, value } => {
                let ok = self.ty(*value).is_plain() && elems.contains(var);
                ok.then_some((Source::Var(*var), *index))
            }
            _ => None,
        }
    }

    /// Whether a loop body has a way out other than its end: a `break` or an early exit of
    /// its own (those of loops nested in it leave only them).
    fn leaves_early(&self, body: Block) -> bool {
        let f = self.f;
        let mut stack = vec![body];
        while let Some(b) = stack.pop() {
            match &f.block(b).term {
                Term::Break(_) | Term::Next { .. } | Term::Return(_) => return true,
                _ => {}
            }
            stack.extend(f.term_blocks(b));
            for &i in &f.block(b).insts {
                if !matches!(f.inst(i).kind, InstKind::Loop { .. }) {
                    stack.extend(f.inst_blocks(i));
                }
            }
        }
        false
    }

    /// `v` spelt out where the loop starts, if every iteration has the same `v`: a value
    /// defined before the loop, a literal, or integer arithmetic on those that the loop body
    /// computes in every iteration.
    fn invariant(
        &self,
        v: Value,
        defined_inside: &dyn Fn(Value) -> bool,
        always: &HashSet<Inst>,
        depth: usize,
    ) -> Option<TokenStream> {
        if let Some(c) = self.const_tokens(v) {
            return Some(c);
        }
        if !defined_inside(v) {
            let x = self.v(v);
            return Some(quote!(#x));
        }
        if depth > 8 || self.f.value(v).kind != Kind::Discrete {
            return None;
        }
        let ValueDef::Result(d, 0) = self.f.value(v).def else {
            return None;
        };
        if !always.contains(&d) {
            return None;
        }
        match self.f.inst(d).kind {
            InstKind::Binary(op, a, b) => {
                let a = self.invariant(a, defined_inside, always, depth + 1)?;
                let b = self.invariant(b, defined_inside, always, depth + 1)?;
                Some(match op {
                    BinOp::Add => quote!((#a + #b)),
                    BinOp::Sub => quote!((#a - #b)),
                    BinOp::Mul => quote!((#a * #b)),
                    BinOp::Div => quote!((#a / #b)),
                    BinOp::Rem => quote!((#a % #b)),
                })
            }
            _ => None,
        }
    }

    /// Where the counter reads in a window that starts at the range's start: `l - lo`, or `l`.
    fn window_offset(&self, r: &IterRange, counter: Value) -> TokenStream {
        let l = self.v(counter);
        match self.const_tokens(r.start) {
            Some(c) if is_zero(&c) => quote!(#l),
            _ => {
                let lo = self.v(r.start);
                quote!((#l - #lo))
            }
        }
    }

    /// The `let`s of a loop's windows, before it.
    pub(super) fn window_lets(&self, lp: Inst, r: &IterRange) -> TokenStream {
        let mut out = TokenStream::new();
        let (lo, hi) = (self.v(r.start), self.v(r.end));
        for w in self.windows.of_loop.get(&lp).into_iter().flatten() {
            let name = &w.name;
            let (src, amp) = match w.source {
                Source::Value(a) => {
                    let a = self.v(a);
                    (quote!(#a), quote!(&))
                }
                Source::Var(v) => {
                    let v = names::var(self.f, v);
                    (quote!(#v), quote!(&mut))
                }
            };
            let range = match (&w.base, &w.counter) {
                (Some(b), None) => {
                    quote! {{ let __ad_base = #b; __ad_base + #lo .. __ad_base + #hi }}
                }
                (None, None) => quote!(#lo..#hi),
                (b, Some(c)) => {
                    let first = match b {
                        Some(b) => quote!(#b + #c),
                        None => quote!(#c),
                    };
                    quote! {{ let __ad_first = #first; __ad_first .. __ad_first + (#hi - #lo) as usize }}
                }
            };
            out.append(quote! {
                let #name = if #lo < #hi { #amp #src[#range] } else { #amp #src[..0] };
            });
        }
        out
    }
}

fn is_zero(t: &TokenStream) -> bool {
    let s = t.to_string();
    s == "0" || s == "0usize"
}
