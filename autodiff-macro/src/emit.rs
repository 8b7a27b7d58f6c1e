//! The reverse transform and code emission: from the SSA [`Func`] and its [`Activity`] to the
//! body of `<name>_vjp`.
//!
//! The backward pass is generated first, because it decides which primal values it reads; the
//! forward pass is generated second and keeps exactly those:
//!
//! - values of the function's top-level block are ordinary locals that the pullback closure
//!   captures by `move` (straight-line code allocates nothing);
//! - an `if`/`match` arm returns a *record* of what its backward pass reads, wrapped in a variant
//!   of a small generic enum, so the backward pass knows which arm ran;
//! - a loop iteration pushes its record on a stack (a `Vec`, reserved to the trip count of a
//!   `for` loop) and the loop counts its iterations; the backward pass pops them in reverse.
//!
//! Adjoints follow the same structure. An adjoint starts as the first contribution to it
//! (`let mut x_bar = ..`) and later ones are added (`acc(&mut x_bar, ..)`); only an adjoint that
//! receives contributions from inside a nested `if`/`match`/loop is started at zero before it.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use crate::activity::Activity;
use crate::ir::*;
use crate::methods;

const P: &str = "::autodiff::__private";

fn private() -> TokenStream {
    P.parse().unwrap_or_default()
}

/// What a block's terminator contributes to in the backward pass.
#[derive(Clone)]
enum Exit {
    /// The function body: `return v` receives the seed.
    Return,
    /// An `if`/`match` arm: `yield` operand `k` receives result `k`'s adjoint (if it has one).
    Yield(Vec<Option<syn::Ident>>),
    /// A loop body: `continue`/`break` operand `k` receives the incoming carried adjoint `k`.
    Loop(Vec<Option<syn::Ident>>),
}

pub struct Emitter<'a> {
    f: &'a Func,
    act: &'a Activity,
    /// Primal values the backward pass reads and the forward pass saves.
    needs: BTreeSet<Value>,
    /// Values whose shape (only) the backward pass reads.
    shapes: BTreeSet<Value>,
    /// Per value: cheap and pure enough to recompute in the backward pass (see `recomputable`).
    cheap: Vec<bool>,
    /// Inactive values the backward pass reads and recomputes instead of saving (constants,
    /// loop indices, reads of inactive inputs).
    recompute: BTreeSet<Value>,
    /// Per block: identifiers besides values that its record carries (pullbacks, nested
    /// records, iteration counts), in order.
    extras: HashMap<Block, Vec<syn::Ident>>,
    /// Per instruction (`if`/`match`/loop): whether it has backward work.
    inst_bw: Vec<bool>,
    /// Local enum definitions for branch records.
    enums: Vec<TokenStream>,
    /// Loop stacks, declared before the forward pass.
    stacks: Vec<syn::Ident>,
}

fn ident(s: String) -> syn::Ident {
    syn::Ident::new(&s, Span::call_site())
}

fn enum_ident(tag: &str, n: u32) -> syn::Ident {
    ident(format!("__AdArms{tag}{n}"))
}

fn variant(k: usize) -> syn::Ident {
    ident(format!("A{k}"))
}

impl<'a> Emitter<'a> {
    pub fn new(f: &'a Func, act: &'a Activity) -> Self {
        let mut e = Emitter {
            f,
            act,
            needs: BTreeSet::new(),
            recompute: BTreeSet::new(),
            shapes: BTreeSet::new(),
            cheap: Vec::new(),
            extras: HashMap::new(),
            inst_bw: vec![false; f.insts.len()],
            enums: Vec::new(),
            stacks: Vec::new(),
        };
        e.compute_bw(f.body());
        // Operands come before their uses, so one pass in value order sees each operand first.
        for v in 0..f.values.len() {
            let c = e.compute_recomputable(Value(v as u32));
            e.cheap.push(c);
        }
        e
    }

    fn v(&self, v: Value) -> syn::Ident {
        self.f.value_ident(v)
    }

    fn bar(&self, v: Value) -> syn::Ident {
        format_ident!("{}_bar", self.f.value_ident(v))
    }

    fn active(&self, v: Value) -> bool {
        self.act.is_active(v)
    }

    /// Whether block `b` (or anything in it) has backward work; fills `inst_bw`.
    fn compute_bw(&mut self, b: Block) -> bool {
        let mut any = false;
        for &i in &self.f.block(b).insts.clone() {
            let mut nested = false;
            for nb in self.f.inst_blocks(i) {
                nested |= self.compute_bw(nb);
            }
            let results_active = self.f.inst(i).results.iter().any(|&r| self.active(r));
            let carried_active = match &self.f.inst(i).kind {
                InstKind::Loop { body, .. } => {
                    self.f.block(*body).params.iter().any(|&p| self.active(p))
                }
                _ => false,
            };
            let bw = results_active || carried_active || nested;
            self.inst_bw[i.index()] = bw;
            any |= bw;
        }
        for nb in self.f.term_blocks(b) {
            any |= self.compute_bw(nb);
        }
        match &self.f.block(b).term {
            Term::Return(v) => any |= self.active(*v),
            Term::Yield(vs) | Term::Continue(vs) | Term::Break(vs) => {
                any |= vs.iter().any(|&v| self.active(v))
            }
            _ => {}
        }
        any
    }

    fn add_extra(&mut self, b: Block, id: syn::Ident) {
        let list = self.extras.entry(b).or_default();
        if !list.contains(&id) {
            list.push(id);
        }
    }

    /// The identifiers a block's record holds, in order: needed values defined in the block,
    /// then extras.
    fn saved(&self, b: Block) -> Vec<syn::Ident> {
        let mut out: Vec<syn::Ident> = self
            .needs
            .iter()
            .filter(|&&v| self.act.def_block(self.f, v) == b)
            .map(|&v| self.v(v))
            .collect();
        out.extend(
            self.shapes
                .iter()
                .filter(|&&v| !self.recompute.contains(&v) && self.act.def_block(self.f, v) == b)
                .map(|&v| self.shape_ident(v)),
        );
        if let Some(x) = self.extras.get(&b) {
            out.extend(x.iter().cloned());
        }
        out
    }

    /// A primal value the backward pass reads: saved by the forward pass, or recomputed.
    fn need(&mut self, v: Value) -> syn::Ident {
        if self.recomputable(v) {
            if self.recompute.insert(v) {
                if let ValueDef::Result(i, _) = self.f.value(v).def {
                    for o in self.f.operands(i) {
                        self.need(o);
                    }
                }
                if let ValueDef::BlockParam(b, 0) = self.f.value(v).def {
                    if let Some(LoopKind::Range { start, end, .. }) = self.range_loop_of(b) {
                        self.need(start);
                        self.need(end);
                    }
                }
            }
        } else {
            self.needs.insert(v);
        }
        self.v(v)
    }

    /// The loop kind of the loop whose body is `b`.
    fn range_loop_of(&self, b: Block) -> Option<LoopKind> {
        self.f.insts.iter().find_map(|inst| match &inst.kind {
            InstKind::Loop { kind, body, .. } if *body == b => Some(kind.clone()),
            _ => None,
        })
    }

    /// Whether a `for` loop over a range leaves only when the range ends, so its backward pass
    /// can walk the range in reverse and knows every index.
    fn runs_whole_range(&self, body: Block) -> bool {
        matches!(self.range_loop_of(body), Some(LoopKind::Range { .. }))
            && !self.f.blocks_within(body).iter().any(|&b| {
                matches!(self.f.block(b).term, Term::Break(_))
                    && self.act.exit_owner[b.index()] == self.loop_inst_of(body)
            })
    }

    fn loop_inst_of(&self, body: Block) -> Option<Inst> {
        self.f
            .insts
            .iter()
            .enumerate()
            .find_map(|(n, inst)| match &inst.kind {
                InstKind::Loop { body: b, .. } if *b == body => Some(Inst(n as u32)),
                _ => None,
            })
    }

    /// Cheap, pure, inactive values: recomputing them beats saving them.
    fn recomputable(&self, v: Value) -> bool {
        self.cheap.get(v.index()).copied().unwrap_or(false)
    }

    /// Values the pullback can keep once for the whole call, whatever loop reads them: the
    /// parameters, and values of the function's top level that no element write consumes
    /// later (they never change).
    fn kept_whole(&self, v: Value) -> bool {
        match self.f.value(v).def {
            ValueDef::Param(_) => true,
            _ => {
                self.act.def_block(self.f, v) == self.f.body()
                    && !self.f.insts.iter().any(
                        |inst| matches!(inst.kind, InstKind::IndexSet { base, .. } if base == v),
                    )
            }
        }
    }

    /// Whether a block is (inside) a loop body, where keeping a value costs a push per
    /// iteration.
    fn in_loop(&self, b: Block) -> bool {
        let mut cur = Some(b);
        while let Some(x) = cur {
            if self.loop_inst_of(x).is_some() {
                return true;
            }
            cur = self.act.parent[x.index()];
        }
        false
    }

    fn compute_recomputable(&self, v: Value) -> bool {
        let avail =
            |u: Value| self.kept_whole(u) || self.cheap.get(u.index()).copied().unwrap_or(false);
        if let ValueDef::Result(i, 0) = self.f.value(v).def {
            match &self.f.inst(i).kind {
                InstKind::Method { name, .. } if methods::is_view_method(&name.to_string()) => {
                    return true;
                }
                // A reference to a field of a borrowed struct is as cheap to take again, and so
                // is any reference (keeping it would keep a borrow of a local).
                InstKind::FieldRef(base, _) => return avail(*base),
                InstKind::Ref(u) => return avail(*u),
                // An element of a parameter, active or not: parameters cannot change during
                // the call, so reading the element again beats recording it.
                InstKind::Index(base, idx) if self.kept_whole(*base) => {
                    return avail(*idx);
                }
                // Inside loops, sums and differences of such reads (`x[i] − μ[k]`) are cheaper to
                // compute again than to push and pop, active or not (the recompute-vs-store
                // trade-off; products are kept: measured slower to recompute).
                InstKind::Binary(BinOp::Add | BinOp::Sub, a, b)
                    if self.in_loop(self.act.inst_block[i.index()]) =>
                {
                    return avail(*a) && avail(*b);
                }
                InstKind::Neg(a) if self.in_loop(self.act.inst_block[i.index()]) => {
                    return avail(*a);
                }
                _ => {}
            }
        }
        if self.active(v) {
            return false;
        }
        match self.f.value(v).def {
            ValueDef::Param(_) => false,
            ValueDef::BlockParam(b, 0) => self.runs_whole_range(b),
            ValueDef::BlockParam(..) => false,
            ValueDef::Result(i, _) => match &self.f.inst(i).kind {
                InstKind::Const(_) => true,
                InstKind::Cast { value, .. } | InstKind::Neg(value) => avail(*value),
                InstKind::Binary(_, a, b) => avail(*a) && avail(*b),
                InstKind::Method {
                    name, recv, args, ..
                } => {
                    methods::is_discrete_method(&name.to_string())
                        && args.is_empty()
                        && avail(*recv)
                }
                _ => false,
            },
        }
    }

    /// Recomputation, at the start of block `b`'s backward pass, of the values defined in `b`
    /// that it reads without saving.
    fn recompute_prefix(&mut self, b: Block) -> TokenStream {
        let mut out = TokenStream::new();
        let vals: Vec<Value> = self
            .recompute
            .iter()
            .copied()
            .filter(|&v| self.act.def_block(self.f, v) == b)
            .collect();
        for v in vals {
            if let ValueDef::Result(i, _) = self.f.value(v).def {
                out.extend(self.fw_inst(b, i));
            }
            if self.shapes.contains(&v) {
                out.extend(self.shape_let(v));
            }
        }
        out
    }

    /// Primal arguments of a rule call: saved values, saved shapes, or the cotangent as a type
    /// witness, as [`methods::rule_args`] says; every operand and the result by default.
    fn rule_args(&mut self, rule: &str, prims: &[Value], g: &syn::Ident) -> Vec<TokenStream> {
        let spec: Vec<methods::Arg> = match methods::rule_args(rule) {
            Some(a) => a.to_vec(),
            None => (0..prims.len()).map(methods::Arg::Value).collect(),
        };
        spec.into_iter()
            .map(|a| match a {
                methods::Arg::Value(k) => self.rule_ref(prims[k]),
                methods::Arg::Shape(k) => {
                    let sh = self.need_shape(prims[k]);
                    quote!(&#sh)
                }
                methods::Arg::Witness => quote!(&#g),
            })
            .collect()
    }

    /// A reference to a value for a rule, reading through `&x` and reference parameters so
    /// that rules see `T`, never `&T` or `&&T`.
    fn rule_ref(&mut self, v: Value) -> TokenStream {
        if let ValueDef::Result(i, 0) = self.f.value(v).def {
            if let InstKind::Ref(u) = self.f.inst(i).kind {
                return self.rule_ref(u);
            }
        }
        let id = self.need(v);
        if self.is_ref(v) {
            quote!(#id)
        } else {
            quote!(&#id)
        }
    }

    /// The same, in the forward pass (nothing is saved).
    fn fw_ref(&self, v: Value) -> TokenStream {
        if let ValueDef::Result(i, 0) = self.f.value(v).def {
            if let InstKind::Ref(u) = self.f.inst(i).kind {
                return self.fw_ref(u);
            }
        }
        let id = self.v(v);
        if self.is_ref(v) {
            quote!(#id)
        } else {
            quote!(&#id)
        }
    }

    /// Whether a value is a reference: a parameter of reference type, `&x`, or a field of a
    /// parameter struct.
    fn is_ref(&self, v: Value) -> bool {
        match self.f.value(v).def {
            ValueDef::Param(n) => self
                .f
                .params
                .get(n)
                .is_some_and(|p| matches!(p.ty, syn::Type::Reference(_))),
            ValueDef::Result(i, 0) => {
                matches!(
                    self.f.inst(i).kind,
                    InstKind::FieldRef(..) | InstKind::Ref(_)
                )
            }
            _ => false,
        }
    }

    /// The saved shape of a value.
    fn need_shape(&mut self, v: Value) -> syn::Ident {
        if self.recomputable(v) {
            self.need(v);
        }
        self.shapes.insert(v);
        self.shape_ident(v)
    }

    fn shape_ident(&self, v: Value) -> syn::Ident {
        format_ident!("__ad_sh_{}", self.v(v))
    }

    /// `let __ad_sh_v = shape_of(v);` for the given values whose shapes are needed.
    fn fw_shapes(&self, vals: &[Value]) -> TokenStream {
        let mut out = TokenStream::new();
        for &v in vals {
            if self.shapes.contains(&v) && !self.recompute.contains(&v) {
                out.extend(self.shape_let(v));
            }
        }
        out
    }

    fn shape_let(&self, v: Value) -> TokenStream {
        let pv = private();
        let sh = self.shape_ident(v);
        let r = self.fw_ref(v);
        quote! { let #sh = #pv::shape_of(#r); }
    }

    // ================================================================ backward

    /// `v_bar += expr` (or `let mut v_bar = expr` for the first contribution).
    fn contrib(
        &mut self,
        v: Value,
        expr: TokenStream,
        adj: &mut HashMap<Value, syn::Ident>,
        out: &mut TokenStream,
    ) {
        if !self.active(v) {
            return;
        }
        let pv = private();
        match adj.get(&v) {
            Some(b) => out.extend(quote! { #pv::acc(&mut #b, #expr); }),
            None => {
                let b = self.bar(v);
                out.extend(quote! { let mut #b = #expr; });
                adj.insert(v, b);
            }
        }
    }

    /// The adjoint of `v`, started at zero if it has none yet: for contributions that go into a
    /// part of it (an element, a tuple field).
    fn ensure_adjoint(
        &mut self,
        v: Value,
        adj: &mut HashMap<Value, syn::Ident>,
        out: &mut TokenStream,
    ) -> syn::Ident {
        if let Some(b) = adj.get(&v) {
            return b.clone();
        }
        let b = self.bar(v);
        let zero = self.zero_of(v);
        out.extend(quote! { let mut #b = #zero; });
        adj.insert(v, b.clone());
        b
    }

    /// A zero adjoint for `v`: from the value itself, or from its saved shape when the value is
    /// an array version that a later write consumes (it no longer exists then).
    fn zero_of(&mut self, v: Value) -> TokenStream {
        let pv = private();
        let overwritten = self
            .f
            .insts
            .iter()
            .any(|inst| matches!(inst.kind, InstKind::IndexSet { base, .. } if base == v));
        if overwritten {
            let sh = self.need_shape(v);
            quote!(#pv::zeros_of_shape(&#sh))
        } else {
            let x = self.rule_ref(v);
            quote!(#pv::zero_like(#x))
        }
    }

    /// Before the backward pass of nested blocks: start at zero the adjoints they contribute to
    /// that are defined outside them and have no adjoint yet.
    fn predeclare(
        &mut self,
        blocks: &[Block],
        adj: &mut HashMap<Value, syn::Ident>,
        out: &mut TokenStream,
    ) {
        let mut targets = BTreeSet::new();
        for &root in blocks {
            for b in self.f.blocks_within(root) {
                let mut ops = self.f.term_operands(b);
                for &i in &self.f.block(b).insts {
                    ops.extend(self.f.operands(i));
                }
                for v in ops {
                    let d = self.act.def_block(self.f, v);
                    if self.active(v) && !self.act.within(d, root) {
                        targets.insert(v);
                    }
                }
            }
        }
        for v in targets {
            if adj.contains_key(&v) {
                continue;
            }
            let b = self.bar(v);
            let zero = self.zero_of(v);
            out.extend(quote! { let mut #b = #zero; });
            adj.insert(v, b);
        }
    }

    /// The backward pass of block `b` (terminator first, then instructions in reverse), without
    /// the destructuring of its record.
    fn bw_block(
        &mut self,
        b: Block,
        adj: &mut HashMap<Value, syn::Ident>,
        exit: &Exit,
    ) -> TokenStream {
        let mut out = TokenStream::new();
        match self.f.block(b).term.clone() {
            Term::Return(v) => {
                if let Exit::Return = exit {
                    self.contrib(v, quote!(__ad_seed), adj, &mut out);
                }
            }
            Term::Yield(vals) | Term::Continue(vals) | Term::Break(vals) => {
                let incoming = match exit {
                    Exit::Yield(r) | Exit::Loop(r) => r.clone(),
                    Exit::Return => Vec::new(),
                };
                for (k, v) in vals.iter().enumerate() {
                    if let Some(Some(inc)) = incoming.get(k) {
                        self.contrib(*v, quote!(#inc), adj, &mut out);
                    }
                }
            }
            Term::Branch { then, els, .. } => {
                let arms = [then, els];
                out.extend(self.bw_arms(b, &arms, adj, exit));
            }
            Term::Switch { arms, .. } => {
                let blocks: Vec<Block> = arms.iter().map(|a| a.block).collect();
                out.extend(self.bw_arms(b, &blocks, adj, exit));
            }
        }
        let insts = self.f.block(b).insts.clone();
        for &i in insts.iter().rev() {
            self.bw_inst(b, i, adj, &mut out);
        }
        out
    }

    /// `match` on the record of a diverging `if`/`match` at the end of block `b`.
    fn bw_arms(
        &mut self,
        b: Block,
        arms: &[Block],
        adj: &mut HashMap<Value, syn::Ident>,
        exit: &Exit,
    ) -> TokenStream {
        let mut out = TokenStream::new();
        self.predeclare(arms, adj, &mut out);
        let sub = ident(format!("__ad_sub_{}", b));
        self.add_extra(b, sub.clone());
        let en = enum_ident("B", b.0);
        let mut cases = TokenStream::new();
        for (k, &arm) in arms.iter().enumerate() {
            let mut inner = adj.clone();
            let body = self.bw_block(arm, &mut inner, exit);
            let saved = self.saved(arm);
            let pre = self.recompute_prefix(arm);
            let var = variant(k);
            cases.extend(quote! {
                #en::#var((#(#saved,)*)) => { #pre #body }
            });
        }
        self.define_enum(&en, arms.len());
        out.extend(quote! { match #sub { #cases } });
        out
    }

    fn define_enum(&mut self, en: &syn::Ident, n: usize) {
        let params: Vec<syn::Ident> = (0..n).map(|k| ident(format!("T{k}"))).collect();
        let vars: Vec<syn::Ident> = (0..n).map(variant).collect();
        self.enums.push(quote! {
            enum #en<#(#params),*> { #(#vars(#params)),* }
        });
    }

    fn bw_inst(
        &mut self,
        b: Block,
        i: Inst,
        adj: &mut HashMap<Value, syn::Ident>,
        out: &mut TokenStream,
    ) {
        let inst = self.f.inst(i).clone();
        let pv = private();
        let y = inst.results.first().copied();
        // The adjoint of a single result, if there is one.
        let ybar = y.and_then(|y| adj.get(&y).cloned());
        match &inst.kind {
            InstKind::Const(_) | InstKind::Opaque { .. } => {}
            InstKind::Index(base, idx) => {
                let Some(g) = ybar else { return };
                if !self.active(*base) {
                    return;
                }
                let bb = self.ensure_adjoint(*base, adj, out);
                let ix = self.need(*idx);
                out.extend(quote! { #pv::acc_index(&mut #bb, &#ix, #g); });
            }
            InstKind::Binary(op, l, r) => {
                let (Some(y), Some(g)) = (y, ybar) else {
                    return;
                };
                let name = op.name();
                for (k, &operand) in [*l, *r].iter().enumerate() {
                    if !self.active(operand) {
                        continue;
                    }
                    let rule = format_ident!("{}_vjp_{}", name, k);
                    let args = self.rule_args(&rule.to_string(), &[*l, *r, y], &g);
                    self.contrib(
                        operand,
                        quote!(#pv::ArithRules::#rule(#(#args,)* &#g)),
                        adj,
                        out,
                    );
                }
            }
            InstKind::Neg(x) => {
                let Some(g) = ybar else { return };
                self.contrib(*x, quote!(#pv::NegRule::neg_vjp(&#g)), adj, out);
            }
            InstKind::Method {
                name, recv, args, ..
            } => {
                let (Some(y), Some(g)) = (y, ybar) else {
                    return;
                };
                let method = name.to_string();
                if methods::is_identity_method(&method) {
                    self.contrib(*recv, quote!(#g), adj, out);
                    return;
                }
                let Some(rule) = methods::known_method(&method) else {
                    return;
                };
                let trait_name = format_ident!("{}", rule.trait_name);
                let mut ops = vec![*recv];
                ops.extend(args.iter().copied());
                let diff: Vec<usize> = if rule.all_operands {
                    (0..ops.len()).collect()
                } else {
                    vec![0]
                };
                for k in diff {
                    let operand = ops[k];
                    if !self.active(operand) {
                        continue;
                    }
                    let rule_name = rule.rule_name(&method, k);
                    let rule_id = format_ident!("{}", rule_name);
                    let mut prims = ops.clone();
                    prims.push(y);
                    let args = self.rule_args(&rule_name, &prims, &g);
                    self.contrib(
                        operand,
                        quote!(#pv::#trait_name::#rule_id(#(#args,)* &#g)),
                        adj,
                        out,
                    );
                }
            }
            InstKind::IndexSet { base, index, value } => {
                let Some(g) = ybar else { return };
                let ix = self.need(*index);
                if self.active(*value) {
                    let e = format_ident!("{}_elem", g);
                    out.extend(quote! { let #e = #pv::take_index(&mut #g, &#ix); });
                    self.contrib(*value, quote!(#e), adj, out);
                } else {
                    out.extend(quote! { let _ = #pv::take_index(&mut #g, &#ix); });
                }
                self.contrib(*base, quote!(#g), adj, out);
            }
            InstKind::FieldRef(base, name) => {
                let Some(g) = ybar else { return };
                if !self.active(*base) {
                    return;
                }
                let bb = self.ensure_adjoint(*base, adj, out);
                out.extend(quote! { #pv::acc(&mut #bb.#name, #g); });
            }
            InstKind::Deref(r) => {
                let Some(g) = ybar else { return };
                self.contrib(*r, quote!(#g), adj, out);
            }
            InstKind::Cast { value, .. } => {
                let (Some(_), Some(g)) = (y, ybar) else {
                    return;
                };
                let x = self.need(*value);
                self.contrib(*value, quote!(#pv::cast_vjp(&#x, &#g)), adj, out);
            }
            InstKind::Ascribe { value, .. } | InstKind::Ref(value) => {
                let Some(g) = ybar else { return };
                self.contrib(*value, quote!(#g), adj, out);
            }
            InstKind::Tuple(vals) => {
                let Some(g) = ybar else { return };
                let parts: Vec<syn::Ident> = (0..vals.len())
                    .map(|k| format_ident!("{}_{}", g, k))
                    .collect();
                out.extend(quote! { let (#(#parts,)*) = #g; });
                for (k, &v) in vals.iter().enumerate() {
                    let part = &parts[k];
                    self.contrib(v, quote!(#part), adj, out);
                }
            }
            InstKind::Field(t, n) => {
                let Some(g) = ybar else { return };
                if !self.active(*t) {
                    return;
                }
                let tb = self.ensure_adjoint(*t, adj, out);
                let idx = syn::Index::from(*n as usize);
                out.extend(quote! { #pv::acc(&mut #tb.#idx, #g); });
            }
            InstKind::Call { args, .. } => {
                let Some(g) = ybar else { return };
                if y.is_none_or(|y| !self.active(y)) {
                    return;
                }
                let pb = format_ident!("__ad_pb_{}", i.to_string());
                let sel = format_ident!("__ad_sel_{}", i.to_string());
                self.add_extra(b, pb.clone());
                self.add_extra(b, sel.clone());
                let parts: Vec<syn::Ident> = (0..args.len())
                    .map(|k| format_ident!("__ad_d_{}_{}", i.to_string(), k))
                    .collect();
                // Spanned at the call: a gradient that does not fit is reported there.
                let span = inst.span;
                let grads = syn::Ident::new(&format!("__ad_g_{i}"), span);
                let sel_here = syn::Ident::new(&sel.to_string(), span);
                out.extend(quote! { let #grads = #pb(#g); });
                out.extend(quote::quote_spanned! {span=>
                    let (#(#parts,)*) = #pv::spread(#sel_here, #grads);
                });
                for (k, &a) in args.iter().enumerate() {
                    let part = &parts[k];
                    self.contrib(a, quote!(#part), adj, out);
                }
            }
            InstKind::If { then, els, .. } => {
                if !self.inst_bw[i.index()] {
                    return;
                }
                let arms = [*then, *els];
                self.bw_branch_inst(b, i, &arms, adj, out);
            }
            InstKind::Match { arms, .. } => {
                if !self.inst_bw[i.index()] {
                    return;
                }
                let blocks: Vec<Block> = arms.iter().map(|a| a.block).collect();
                self.bw_branch_inst(b, i, &blocks, adj, out);
            }
            InstKind::Loop { init, body, .. } => {
                if !self.inst_bw[i.index()] {
                    return;
                }
                self.bw_loop(b, i, init, *body, adj, out);
            }
        }
    }

    fn bw_branch_inst(
        &mut self,
        b: Block,
        i: Inst,
        arms: &[Block],
        adj: &mut HashMap<Value, syn::Ident>,
        out: &mut TokenStream,
    ) {
        let rec = format_ident!("__ad_rec_{}", i.to_string());
        self.add_extra(b, rec.clone());
        self.predeclare(arms, adj, out);
        let results = self.f.inst(i).results.clone();
        let incoming: Vec<Option<syn::Ident>> =
            results.iter().map(|r| adj.get(r).cloned()).collect();
        let exit = Exit::Yield(incoming);
        let en = enum_ident("I", i.0);
        let mut cases = TokenStream::new();
        for (k, &arm) in arms.iter().enumerate() {
            let mut inner = adj.clone();
            let body = self.bw_block(arm, &mut inner, &exit);
            let saved = self.saved(arm);
            let pre = self.recompute_prefix(arm);
            let var = variant(k);
            cases.extend(quote! { #en::#var((#(#saved,)*)) => { #pre #body } });
        }
        self.define_enum(&en, arms.len());
        out.extend(quote! { match #rec { #cases } });
    }

    fn bw_loop(
        &mut self,
        b: Block,
        i: Inst,
        init: &[Value],
        body: Block,
        adj: &mut HashMap<Value, syn::Ident>,
        out: &mut TokenStream,
    ) {
        let pv = private();
        let count = format_ident!("__ad_n_{}", i.to_string());
        let stack = format_ident!("__ad_stack_{}", i.to_string());
        if !self.stacks.contains(&stack) {
            self.stacks.push(stack.clone());
        }
        self.predeclare(&[body], adj, out);
        let results = self.f.inst(i).results.clone();
        let params = self.f.block(body).params.clone();
        let carried = params[params.len() - init.len()..].to_vec();
        let mut inner = adj.clone();
        let mut carried_ids = Vec::new();
        let mut incoming = Vec::new();
        let mut takes = TokenStream::new();
        for (k, &p) in carried.iter().enumerate() {
            if !self.active(p) {
                carried_ids.push(None);
                incoming.push(None);
                continue;
            }
            let c = format_ident!("__ad_c_{}_{}", i.to_string(), k);
            let inc = format_ident!("__ad_inc_{}_{}", i.to_string(), k);
            let start = match adj.get(&results[k]) {
                Some(rb) => quote!(#rb),
                None => self.zero_of(results[k]),
            };
            out.extend(quote! { let mut #c = #start; });
            takes.extend(quote! { let #inc = #pv::take(&mut #c); });
            inner.insert(p, c.clone());
            carried_ids.push(Some(c));
            incoming.push(Some(inc));
        }
        let exit = Exit::Loop(incoming);
        let body_bw = self.bw_block(body, &mut inner, &exit);
        let saved = self.saved(body);
        let pre = self.recompute_prefix(body);
        let iterations = match self.range_loop_of(body) {
            Some(LoopKind::Range {
                start,
                end,
                inclusive,
                rev,
            }) if self.runs_whole_range(body) => {
                // Walk the same range backwards: every index is known without saving it.
                let idx = self.v(self.f.block(body).params[0]);
                let (s, e) = (self.need(start), self.need(end));
                let range = if inclusive {
                    quote!((#s..=#e))
                } else {
                    quote!((#s..#e))
                };
                let walk = if rev { range } else { quote!(#range.rev()) };
                quote!(#idx in #walk)
            }
            _ => {
                self.add_extra(b, count.clone());
                quote!(_ in 0..#count)
            }
        };
        out.extend(quote! {
            for #iterations {
                let (#(#saved,)*) = #pv::pop(&mut #stack);
                #takes
                #pre
                #body_bw
            }
        });
        for (k, c) in carried_ids.into_iter().enumerate() {
            if let Some(c) = c {
                self.contrib(init[k], quote!(#c), adj, out);
            }
        }
    }

    /// The backward pass of the whole function: the pullback's body, returning the gradients of
    /// the active parameters.
    pub fn backward(&mut self) -> TokenStream {
        let mut adj = HashMap::new();
        let body = self.f.body();
        let code = self.bw_block(body, &mut adj, &Exit::Return);
        let mut grads = Vec::new();
        for p in &self.f.params.clone() {
            if !p.active {
                continue;
            }
            match adj.get(&p.value) {
                Some(b) => grads.push(quote!(#b)),
                None => {
                    let zero = self.zero_of(p.value);
                    grads.push(zero);
                }
            }
        }
        let result = if grads.len() == 1 {
            grads.remove(0)
        } else {
            quote!((#(#grads),*))
        };
        let pre = self.recompute_prefix(body);
        quote! { #pre #code #result }
    }

    // ================================================================ forward

    /// The forward pass: the parameters bound to their SSA names, then the body; the result is
    /// left in the returned identifier (and what the body's top-level branches recorded in
    /// `__ad_sub_b0`, which the pullback captures).
    pub fn forward(&mut self) -> (TokenStream, syn::Ident) {
        let body = self.f.body();
        let mut out = TokenStream::new();
        for p in &self.f.params {
            let id = self.v(p.value);
            let src = &p.ident;
            out.extend(quote! { let #id = #src; });
        }
        let params: Vec<Value> = self.f.params.iter().map(|p| p.value).collect();
        out.extend(self.fw_shapes(&params));
        let ret = ident("__ad_out".into());
        let (code, _) = self.fw_block(body, &[]);
        out.extend(code);
        (out, ret)
    }

    /// Forward code of block `b`. For the body and branch arms under it, the code ends with the
    /// returned value; elsewhere, with the terminator's action. Returns the code and, for a block
    /// ending in a branch at function level, the name of the record it produced.
    fn fw_block(&mut self, b: Block, chain: &[Link]) -> (TokenStream, Option<syn::Ident>) {
        let mut out = TokenStream::new();
        for &i in &self.f.block(b).insts.clone() {
            out.extend(self.fw_inst(b, i));
            let results = self.f.inst(i).results.clone();
            out.extend(self.fw_shapes(&results));
        }
        let term = self.f.block(b).term.clone();
        match term {
            Term::Branch { cond, then, els } => {
                let c = self.v(cond);
                let en = enum_ident("B", b.0);
                let arms = [then, els];
                let code: Vec<TokenStream> = arms
                    .iter()
                    .enumerate()
                    .map(|(k, &arm)| self.fw_arm(b, arm, k, &en, chain))
                    .collect();
                let (t, e) = (&code[0], &code[1]);
                let expr = quote! { if #c { #t } else { #e } };
                let sub = self.fw_branch_result(b, expr, &mut out, chain);
                (out, sub)
            }
            Term::Switch { scrutinee, arms } => {
                let s = self.v(scrutinee);
                let en = enum_ident("B", b.0);
                let mut cases = TokenStream::new();
                for (k, arm) in arms.iter().enumerate() {
                    let code = self.fw_arm(b, arm.block, k, &en, chain);
                    let head = self.arm_head(arm);
                    cases.extend(quote! { #head => { #code } });
                }
                let expr = quote! { match #s { #cases } };
                let sub = self.fw_branch_result(b, expr, &mut out, chain);
                (out, sub)
            }
            _ => {
                out.extend(self.fw_leaf(b, chain));
                (out, None)
            }
        }
    }

    /// Places a diverging branch expression: at function level its value is
    /// `(result, record)`; inside loops it is a statement (its arms jump).
    fn fw_branch_result(
        &mut self,
        b: Block,
        expr: TokenStream,
        out: &mut TokenStream,
        chain: &[Link],
    ) -> Option<syn::Ident> {
        if self.at_function_level(b) && chain.is_empty() {
            let sub = ident(format!("__ad_sub_{}", b));
            out.extend(quote! { let (__ad_out, #sub) = #expr; });
            Some(sub)
        } else {
            out.extend(quote! { #expr });
            None
        }
    }

    fn at_function_level(&self, b: Block) -> bool {
        self.act.exit_owner[b.index()].is_none()
    }

    fn arm_head(&self, arm: &MatchArm) -> TokenStream {
        let pat = &arm.pat;
        match &arm.guard {
            Some(g) => {
                let binds = self.rebind(&arm.guard_uses);
                quote! { #pat if { #binds #g } }
            }
            None => quote!(#pat),
        }
    }

    fn rebind(&self, uses: &[(syn::Ident, Value)]) -> TokenStream {
        let mut t = TokenStream::new();
        for (name, v) in uses {
            let id = self.v(*v);
            t.extend(quote! { let #name = #id; });
        }
        t
    }

    /// One arm of a diverging branch in block `parent`.
    fn fw_arm(
        &mut self,
        parent: Block,
        arm: Block,
        k: usize,
        en: &syn::Ident,
        chain: &[Link],
    ) -> TokenStream {
        let mut link_chain = chain.to_vec();
        link_chain.push(Link {
            block: parent,
            en: en.clone(),
            arm: k,
        });
        let mut out = self.bind_arm_params(arm);
        let (code, _) = self.fw_block(arm, &link_chain);
        out.extend(code);
        out
    }

    fn bind_arm_params(&self, arm: Block) -> TokenStream {
        // Match-arm parameters are the pattern's bindings, in order.
        let mut out = TokenStream::new();
        if let Some(bindings) = self.arm_bindings(arm) {
            for (name, &p) in bindings.iter().zip(&self.f.block(arm).params) {
                let id = self.v(p);
                out.extend(quote! { let #id = #name; });
            }
        }
        out.extend(self.fw_shapes(&self.f.block(arm).params));
        out
    }

    fn arm_bindings(&self, arm: Block) -> Option<Vec<syn::Ident>> {
        let find = |arms: &[MatchArm]| {
            arms.iter()
                .find(|a| a.block == arm)
                .map(|a| a.bindings.clone())
        };
        for inst in &self.f.insts {
            if let InstKind::Match { arms, .. } = &inst.kind {
                if let Some(b) = find(arms) {
                    return Some(b);
                }
            }
        }
        for blk in &self.f.blocks {
            if let Term::Switch { arms, .. } = &blk.term {
                if let Some(b) = find(arms) {
                    return Some(b);
                }
            }
        }
        None
    }

    /// The record of the path ending at leaf block `b`: its own saved values, wrapped in the
    /// enum variants of the branches above it. `clone` lists values still used after the record
    /// is built (the leaf's results), which are cloned into it.
    fn record(&self, b: Block, chain: &[Link], keep: &[Value]) -> TokenStream {
        let item = |id: &syn::Ident| -> TokenStream {
            if keep.iter().any(|&v| self.v(v) == *id) {
                quote!(::core::clone::Clone::clone(&#id))
            } else {
                quote!(#id)
            }
        };
        let own: Vec<TokenStream> = self.saved(b).iter().map(item).collect();
        let mut inner = quote!((#(#own,)*));
        for link in chain.iter().rev() {
            let en = &link.en;
            let var = variant(link.arm);
            let wrapped = quote!(#en::#var(#inner));
            if link.block == self.f.body() {
                // The body's own values are captured by the pullback directly.
                inner = wrapped;
                continue;
            }
            let sub = ident(format!("__ad_sub_{}", link.block));
            let parts: Vec<TokenStream> = self
                .saved(link.block)
                .iter()
                .map(|id| {
                    if *id == sub {
                        wrapped.clone()
                    } else {
                        item(id)
                    }
                })
                .collect();
            inner = quote!((#(#parts,)*));
        }
        inner
    }

    /// The terminator of a leaf block.
    fn fw_leaf(&mut self, b: Block, chain: &[Link]) -> TokenStream {
        let term = self.f.block(b).term.clone();
        match term {
            Term::Return(v) => {
                let x = self.v(v);
                let value = if self.needs.contains(&v) {
                    quote!(::core::clone::Clone::clone(&#x))
                } else {
                    quote!(#x)
                };
                if chain.is_empty() {
                    quote! { let __ad_out = #value; }
                } else {
                    let rec = self.record(b, chain, &[v]);
                    quote! { (#value, #rec) }
                }
            }
            Term::Yield(vals) => {
                let owner = self.act.exit_owner[b.index()];
                let ids: Vec<syn::Ident> = vals.iter().map(|&v| self.v(v)).collect();
                match owner {
                    Some(i) if self.inst_bw[i.index()] => {
                        let en = enum_ident("I", i.0);
                        let k = self.arm_index(i, b, chain);
                        let var = variant(k);
                        let rec = self.record(b, chain, &vals);
                        quote! { (#(#ids,)* #en::#var(#rec),) }
                    }
                    _ => quote! { (#(#ids,)*) },
                }
            }
            Term::Continue(vals) | Term::Break(vals) => {
                let is_break = matches!(self.f.block(b).term, Term::Break(_));
                let Some(i) = self.act.exit_owner[b.index()] else {
                    return TokenStream::new();
                };
                let mut out = TokenStream::new();
                if self.inst_bw[i.index()] {
                    let rec = self.record(b, chain, &vals);
                    let stack = format_ident!("__ad_stack_{}", i.to_string());
                    let reserved = matches!(
                        &self.f.inst(i).kind,
                        InstKind::Loop {
                            kind: LoopKind::Range { .. },
                            ..
                        }
                    );
                    let pv = private();
                    if reserved {
                        out.extend(quote! {
                            let __ad_record = #rec;
                            #pv::push_reserved(&mut #stack, __ad_record);
                        });
                    } else {
                        out.extend(quote! {
                            let __ad_record = #rec;
                            #stack.push(__ad_record);
                        });
                    }
                    if let InstKind::Loop { body, .. } = &self.f.inst(i).kind {
                        if !self.runs_whole_range(*body) {
                            let count = format_ident!("__ad_n_{}", i.to_string());
                            out.extend(quote! { #count += 1; });
                        }
                    }
                }
                for (k, &v) in vals.iter().enumerate() {
                    let st = format_ident!("__ad_st_{}_{}", i.to_string(), k);
                    let x = self.v(v);
                    out.extend(quote! { #st = #x; });
                }
                if is_break {
                    out.extend(quote! { break; });
                } else {
                    out.extend(quote! { continue; });
                }
                out
            }
            Term::Branch { .. } | Term::Switch { .. } => TokenStream::new(),
        }
    }

    /// Which arm of `if`/`match` instruction `i` the leaf `b` belongs to.
    fn arm_index(&self, i: Inst, b: Block, chain: &[Link]) -> usize {
        let top = chain.first().map_or(b, |l| l.block);
        self.f
            .inst_blocks(i)
            .iter()
            .position(|&a| a == top)
            .unwrap_or(0)
    }

    fn fw_inst(&mut self, b: Block, i: Inst) -> TokenStream {
        let inst = self.f.inst(i).clone();
        let r = inst.results.first().map(|&v| self.v(v));
        match &inst.kind {
            InstKind::Const(t) => quote! { let #r = #t; },
            InstKind::Binary(op, l, rr) if inst.results.iter().any(|&v| self.active(v)) => {
                let pv = private();
                let f = format_ident!("{}", op.name());
                let (a, bb) = (self.fw_ref(*l), self.fw_ref(*rr));
                quote! { let #r = #pv::ArithRules::#f(#a, #bb); }
            }
            InstKind::Neg(x) if inst.results.iter().any(|&v| self.active(v)) => {
                let pv = private();
                let a = self.fw_ref(*x);
                quote! { let #r = #pv::NegRule::neg(#a); }
            }
            InstKind::Binary(op, l, rr) => {
                let (l, rr) = (self.v(*l), self.v(*rr));
                let o = match op {
                    BinOp::Add => quote!(+),
                    BinOp::Sub => quote!(-),
                    BinOp::Mul => quote!(*),
                    BinOp::Div => quote!(/),
                    BinOp::Rem => quote!(%),
                };
                quote! { let #r = #l #o #rr; }
            }
            InstKind::Neg(x) => {
                let x = self.v(*x);
                quote! { let #r = -#x; }
            }
            InstKind::Method {
                name,
                recv,
                args,
                unwrap,
                ..
            } => {
                let recv = self.v(*recv);
                let args: Vec<syn::Ident> = args.iter().map(|&a| self.v(a)).collect();
                if *unwrap {
                    quote! { let #r = #recv.#name(#(#args),*).unwrap(); }
                } else {
                    quote! { let #r = #recv.#name(#(#args),*); }
                }
            }
            InstKind::FieldRef(base, name) => {
                let base = self.v(*base);
                quote! { let #r = &#base.#name; }
            }
            InstKind::IndexSet { base, index, value } => {
                // The old version is dead after this write unless the backward pass reads it.
                let keep = self.needs.contains(base);
                let (base, index, value) = (self.v(*base), self.v(*index), self.v(*value));
                if keep {
                    quote! {
                        let mut #r = ::core::clone::Clone::clone(&#base);
                        #r[#index] = #value;
                    }
                } else {
                    quote! {
                        let mut #r = #base;
                        #r[#index] = #value;
                    }
                }
            }
            InstKind::Deref(x) => {
                let x = self.v(*x);
                quote! { let #r = *#x; }
            }
            InstKind::Call { path, args } => {
                let ids: Vec<syn::Ident> = args.iter().map(|&a| self.v(a)).collect();
                let y = inst.results[0];
                if self.active(y) {
                    let mut vjp = path.clone();
                    if let Some(last) = vjp.segments.last_mut() {
                        last.ident = format_ident!("{}_vjp", last.ident, span = last.ident.span());
                    }
                    let pb = format_ident!("__ad_pb_{}", i.to_string());
                    let sel = format_ident!("__ad_sel_{}", i.to_string());
                    let pv = private();
                    quote! {
                        let (#r, #pb) = #vjp(#(#ids),*);
                        let #sel = {
                            use #pv::{ProbeNo as _, ProbeYes as _};
                            (#((&#pv::Probe(&#ids)).marker(),)*)
                        };
                    }
                } else {
                    quote! { let #r = #path(#(#ids),*); }
                }
            }
            InstKind::Cast { value, ty } => {
                let x = self.v(*value);
                quote! { let #r = #x as #ty; }
            }
            InstKind::Ascribe { value, ty } => {
                let x = self.v(*value);
                quote! { let #r: #ty = #x; }
            }
            InstKind::Ref(x) => {
                let is_ref = self.is_ref(*x);
                let x = self.v(*x);
                if is_ref {
                    quote! { let #r = #x; }
                } else {
                    quote! { let #r = &#x; }
                }
            }
            InstKind::Tuple(vals) => {
                let ids: Vec<syn::Ident> = vals.iter().map(|&a| self.v(a)).collect();
                quote! { let #r = (#(#ids,)*); }
            }
            InstKind::Field(t, n) => {
                let t = self.v(*t);
                let idx = syn::Index::from(*n as usize);
                quote! { let #r = #t.#idx; }
            }
            InstKind::Index(base, idx) => {
                let (base, idx) = (self.v(*base), self.v(*idx));
                quote! { let #r = #base[#idx]; }
            }
            InstKind::Opaque { tokens, uses, .. } => {
                let binds = self.rebind(uses);
                match r {
                    Some(r) => quote! { let #r = { #binds #tokens }; },
                    None => quote! { { #binds #tokens; } },
                }
            }
            InstKind::If { cond, then, els } => {
                let c = self.v(*cond);
                let t = self.fw_nested_arm(*then);
                let e = self.fw_nested_arm(*els);
                let lhs = self.branch_lhs(i);
                quote! { let #lhs = if #c { #t } else { #e }; }
            }
            InstKind::Match { scrutinee, arms } => {
                let s = self.v(*scrutinee);
                let mut cases = TokenStream::new();
                for arm in arms {
                    let head = self.arm_head(arm);
                    let code = self.fw_nested_arm(arm.block);
                    cases.extend(quote! { #head => { #code } });
                }
                let lhs = self.branch_lhs(i);
                quote! { let #lhs = match #s { #cases }; }
            }
            InstKind::Loop { kind, init, body } => self.fw_loop(b, i, kind, init, *body),
        }
    }

    fn branch_lhs(&self, i: Inst) -> TokenStream {
        let mut ids: Vec<syn::Ident> = self.f.inst(i).results.iter().map(|&v| self.v(v)).collect();
        if self.inst_bw[i.index()] {
            ids.push(format_ident!("__ad_rec_{}", i.to_string()));
        }
        quote! { (#(#ids,)*) }
    }

    /// An arm of a non-diverging `if`/`match`: its own record root.
    fn fw_nested_arm(&mut self, arm: Block) -> TokenStream {
        let mut out = self.bind_arm_params(arm);
        let (code, _) = self.fw_block(arm, &[]);
        out.extend(code);
        out
    }

    fn fw_loop(
        &mut self,
        _b: Block,
        i: Inst,
        kind: &LoopKind,
        init: &[Value],
        body: Block,
    ) -> TokenStream {
        let mut out = TokenStream::new();
        let bw = self.inst_bw[i.index()];
        let stack = format_ident!("__ad_stack_{}", i.to_string());
        let count = format_ident!("__ad_n_{}", i.to_string());
        let params = self.f.block(body).params.clone();
        let carried = &params[params.len() - init.len()..];
        let mut bind_params = TokenStream::new();
        for (k, &v) in init.iter().enumerate() {
            let st = format_ident!("__ad_st_{}_{}", i.to_string(), k);
            let x = self.v(v);
            out.extend(quote! { let mut #st = #x; });
            let p = self.v(carried[k]);
            bind_params.extend(quote! { let #p = #st; });
        }
        let counted = bw && !self.runs_whole_range(body);
        if counted {
            out.extend(quote! { let mut #count: usize = 0; });
        }
        bind_params.extend(self.fw_shapes(&params));
        let (code, _) = self.fw_block(body, &[]);
        match kind {
            LoopKind::Range {
                start,
                end,
                inclusive,
                rev,
            } => {
                let (s, e) = (self.v(*start), self.v(*end));
                let mut range = if *inclusive {
                    quote!((#s..=#e))
                } else {
                    quote!((#s..#e))
                };
                if *rev {
                    range = quote!(#range.rev());
                }
                out.extend(quote! { let __ad_range = #range; });
                if bw {
                    out.extend(quote! {
                        #stack.reserve(::core::iter::Iterator::size_hint(&__ad_range).0);
                    });
                }
                let idx = self.v(params[0]);
                out.extend(quote! {
                    for #idx in __ad_range {
                        #bind_params
                        #code
                    }
                });
            }
            LoopKind::Infinite => {
                out.extend(quote! {
                    loop {
                        #bind_params
                        #code
                    }
                });
            }
        }
        let results = self.f.inst(i).results.clone();
        for (k, &r) in results.iter().enumerate() {
            let st = format_ident!("__ad_st_{}_{}", i.to_string(), k);
            let rr = self.v(r);
            out.extend(quote! { let #rr = #st; });
        }
        out
    }

    /// Enum definitions and stack declarations that precede the forward pass.
    pub fn prelude(&self) -> TokenStream {
        let enums = &self.enums;
        let stacks = &self.stacks;
        quote! {
            #(#enums)*
            #(let mut #stacks = ::std::vec::Vec::new();)*
        }
    }
}

/// One step of the path from a record root down to a leaf through diverging branches.
#[derive(Clone)]
struct Link {
    block: Block,
    en: syn::Ident,
    arm: usize,
}
