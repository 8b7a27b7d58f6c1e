//! Code generation: the IR printed as Rust. No decisions about derivatives are made here; the
//! only choices are how to spell each instruction:
//!
//! - on plain floats (see [`crate::scalars`]) with plain operators, inherent methods and
//!   annotated `let`s; on anything else through the runtime's traits, by reference;
//! - where the forward pass would move a value the pullback keeps, a copy is moved instead;
//! - every name comes from [`names`].

mod elementwise;
pub mod names;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

use crate::ir::*;
use crate::plan::Plan;
use crate::scalars::{Ty, Types};

/// The pieces of a generated `_vjp`/`_grad` body.
pub struct Code {
    /// Record enums and loop stacks, before the forward pass.
    pub prelude: TokenStream,
    /// The parameters bound to their SSA names, then the forward pass.
    pub forward: TokenStream,
    /// The forward pass's result.
    pub out: TokenStream,
    /// The pullback's parameters: the seed (and, forward over reverse, its tangent).
    pub seeds: Vec<syn::Ident>,
    /// The pullback's body, ending in the gradient.
    pub pullback: TokenStream,
}

pub struct Gen<'a> {
    f: &'a Func,
    tys: &'a Types,
    /// Values kept by the forward pass: captured by the pullback or in a record.
    kept_top: HashSet<Value>,
    kept_rec: HashSet<Value>,
    /// How often each pullback value is read in the pullback.
    uses: HashMap<Value, usize>,
    /// How often each value is read anywhere, and the block of its (last) read.
    reads: HashMap<Value, (usize, Block, Option<Inst>)>,
    /// The block each instruction is in.
    inst_block: HashMap<Inst, Block>,
    /// Values defined in the pullback.
    pullback_values: HashSet<Value>,
    /// Loops that push records, with their stack.
    loop_stacks: HashMap<Inst, Vec<Stack>>,
    /// Stacks of nested `for` loops whose trip counts are known when an enclosing `for` loop
    /// starts: reserved there, once, for all its iterations (enclosing loop → the stacks with
    /// the ranges whose lengths multiply to the count).
    hoisted_reserves: HashMap<Inst, Vec<(Stack, Vec<IterRange>)>>,
    /// Match arm blocks: the names their pattern binds, in the order of the block's parameters.
    arm_bindings: HashMap<Block, Vec<syn::Ident>>,
    active: &'a [bool],
    /// Versions of `&mut` parameters: references, like the parameter.
    mut_refs: HashSet<Value>,
    /// The path of the runtime's support module: `::autodiff::__private` by default.
    pv: TokenStream,
    /// The same as text, for statements emitted as text.
    pv_text: String,
    /// The path of the `autodiff` crate, for the code of nested functions.
    krate: TokenStream,
}

/// `krate` is the path of the `autodiff` crate in the user's code (`::autodiff`, or what
/// `#[differentiate(crate = ..)]` says).
pub fn generate(f: &Func, tys: &Types, plan: &Plan, active: &[bool], krate: &TokenStream) -> Code {
    let mut g = Gen {
        f,
        tys,
        kept_top: HashSet::new(),
        kept_rec: HashSet::new(),
        uses: HashMap::new(),
        reads: HashMap::new(),
        inst_block: HashMap::new(),
        pullback_values: HashSet::new(),
        loop_stacks: HashMap::new(),
        hoisted_reserves: HashMap::new(),
        arm_bindings: HashMap::new(),
        active,
        mut_refs: HashSet::new(),
        pv: quote!(#krate::__private),
        pv_text: quote!(#krate::__private).to_string(),
        krate: krate.clone(),
    };
    g.mut_refs = f.borrowed_mut_versions();
    for inst in &f.insts {
        if let InstKind::Match { arms, .. } = &inst.kind {
            for a in arms {
                g.arm_bindings.insert(a.block, a.bindings.clone());
            }
        }
    }
    let body = f.body();
    let top: HashSet<Value> = f
        .block(body)
        .insts
        .iter()
        .flat_map(|&i| f.inst(i).results.clone())
        .chain(f.params.iter().map(|p| p.value))
        .collect();
    for &v in &plan.kept {
        if top.contains(&v) {
            g.kept_top.insert(v);
        } else {
            g.kept_rec.insert(v);
        }
    }
    let mut all_blocks = f.blocks_within(body);
    if let Some(pb) = f.pullback {
        all_blocks.extend(f.blocks_within(pb));
    }
    for &b in &all_blocks {
        for &i in &f.block(b).insts {
            g.inst_block.insert(i, b);
            for v in f.operands(i) {
                let e = g.reads.entry(v).or_insert((0, b, None));
                *e = (e.0 + 1, b, Some(i));
            }
        }
        for v in f.term_operands(b) {
            let e = g.reads.entry(v).or_insert((0, b, None));
            *e = (e.0 + 1, b, None);
        }
    }
    for (n, s) in f.stacks.iter().enumerate() {
        g.loop_stacks
            .entry(s.owner)
            .or_default()
            .push(Stack(n as u32));
    }
    g.plan_reserves();
    if let Some(pb) = f.pullback {
        for b in f.blocks_within(pb) {
            g.pullback_values.extend(f.block(b).params.iter().copied());
            for &i in &f.block(b).insts {
                g.pullback_values.extend(f.inst(i).results.iter().copied());
                if matches!(f.inst(i).kind, InstKind::CkptOffer { .. }) {
                    // It borrows the state to copy it; what it reads is moved on after it.
                    continue;
                }
                for v in f.operands(i) {
                    *g.uses.entry(v).or_default() += 1;
                }
            }
            for v in f.term_operands(b) {
                *g.uses.entry(v).or_default() += 1;
            }
        }
    }
    let pv = g.pv.clone();
    // ---- prelude
    let mut prelude = TokenStream::new();
    for (n, inst) in f.insts.iter().enumerate() {
        if let InstKind::MatchRecord { arms, .. } = &inst.kind {
            let _ = n;
            let of = match &inst.kind {
                InstKind::MatchRecord { of, .. } => *of,
                _ => unreachable!(),
            };
            let en = names::record_enum(of);
            let params: Vec<syn::Ident> = (0..arms.len())
                .map(|k| quote::format_ident!("T{}", k))
                .collect();
            let vars: Vec<syn::Ident> = (0..arms.len()).map(names::variant).collect();
            prelude.extend(quote! { enum #en<#(#params),*> { #(#vars(#params)),* } });
        }
    }
    for n in 0..f.stacks.len() {
        let s = names::stack(Stack(n as u32));
        prelude.extend(quote! { let mut #s = ::std::vec::Vec::new(); });
    }
    // ---- forward
    let mut forward = TokenStream::new();
    for p in &f.params {
        let id = names::value(f, p.value);
        let src = &p.ident;
        let m = g.mut_kw(p.value);
        forward.extend(quote! { let #m #id = #src; });
    }
    for (n, &(p, d)) in f.tangent_params.iter().enumerate() {
        let id = names::value(f, d);
        let src = names::tangent_param(f, n, p);
        forward.extend(quote! { let #id = #src; });
    }
    forward.extend(g.block_insts(body));
    let out = match f.block(body).term {
        Term::Return(v) => g.moved(v, None),
        _ => quote!(()),
    };
    // ---- pullback
    let (seeds, pullback) = match f.pullback {
        Some(pb) => {
            let seeds = f
                .block(pb)
                .params
                .iter()
                .map(|&p| names::value(f, p))
                .collect();
            let mut code = g.block_insts(pb);
            if let Term::Return(v) = f.block(pb).term {
                let r = g.moved(v, Some(pb));
                code.extend(r);
            }
            (seeds, code)
        }
        None => (Vec::new(), quote!(())),
    };
    let _ = pv;
    Code {
        prelude,
        forward,
        out,
        seeds,
        pullback,
    }
}

impl Gen<'_> {
    fn v(&self, v: Value) -> syn::Ident {
        names::value(self.f, v)
    }

    /// A value where it is read: its name, or its expression where it is a plain float computed
    /// for this one read in the same block (`g * x.cos()` rather than two `let`s).
    fn e(&self, v: Value) -> TokenStream {
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
    fn folded(&self, v: Value) -> Option<Inst> {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return None;
        };
        let inst = self.f.inst(i);
        if inst.results.len() != 1 || !self.ty(v).is_plain() {
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
                ok.then_some(i)
            }
            _ => None,
        }
    }

    /// The right-hand side of a plain instruction that can be folded into its read.
    fn rhs(&self, i: Inst) -> Option<TokenStream> {
        let inst = self.f.inst(i);
        Some(match &inst.kind {
            InstKind::Const(t) => self.typed_literal(inst.results[0], t),
            InstKind::Binary(op, a, b) if !self.active_result(i) => {
                let (x, y) = (self.e(*a), self.e(*b));
                let o = binop(*op);
                quote!(#x #o #y)
            }
            InstKind::Neg(a) if !self.active_result(i) => {
                let x = self.e(*a);
                quote!(-#x)
            }
            InstKind::Prim {
                prim,
                args,
                unwrap: false,
            } => {
                let name = syn::Ident::new(prim.name(), inst.span);
                let recv = self.e(args[0]);
                let rest: Vec<TokenStream> =
                    args[1..].iter().map(|&a| self.prim_arg(*prim, a)).collect();
                quote!(#recv.#name(#(#rest),*))
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

    /// A float literal with its type as a suffix when the type is known (`3.0f64`), so that it
    /// can stand alone (`3.0f64.ln()`); other constants as written.
    /// A float literal with the suffix of its known type (`2.0f64`), and never ending in a dot
    /// (`2.` is written `2.0`, which a suffix or a method call can follow).
    fn typed_literal(&self, v: Value, t: &TokenStream) -> TokenStream {
        if crate::ir::is_sum_start(t) {
            return match self.ty(v).float() {
                Some(ft) => {
                    let lit = syn::LitFloat::new(&format!("0.0{}", ft.tokens()), Span::call_site());
                    quote!((-#lit))
                }
                None => {
                    let pv = &self.pv;
                    quote!(#pv::sum_start())
                }
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

    fn ty(&self, v: Value) -> Ty {
        self.tys.of(v)
    }

    fn in_pullback(&self, v: Value) -> bool {
        self.pullback_values.contains(&v)
    }

    /// Whether a value is a reference: a parameter of reference type, `&x`, or a field of a
    /// borrowed struct.
    fn is_ref(&self, v: Value) -> bool {
        if self.mut_refs.contains(&v) {
            return true;
        }
        match self.f.value(v).def {
            ValueDef::Param(n) | ValueDef::Tangent(n) => self
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

    /// An argument of a primitive's method call. `a.dot(&b)` takes its operand by reference,
    /// which a tangent made by forward mode is not.
    fn prim_arg(&self, prim: crate::prim::PrimId, a: Value) -> TokenStream {
        let x = self.e(a);
        if prim.name() == "dot" && !self.is_ref(a) {
            quote!(&#x)
        } else {
            x
        }
    }

    /// A reference to `v` for a rule or helper: `v` itself if it is one.
    fn by_ref(&self, v: Value) -> TokenStream {
        let x = self.e(v);
        if self.is_ref(v) {
            quote!(#x)
        } else {
            quote!(&#x)
        }
    }

    /// `v` where it is moved: a copy when the value is also kept (forward) or read again
    /// (pullback).
    fn moved(&self, v: Value, terminator: Option<Block>) -> TokenStream {
        if self.folded(v).is_some() {
            return self.e(v);
        }
        let id = self.v(v);
        let copy = if self.ty(v).is_plain() || self.is_ref(v) {
            false
        } else if self.in_pullback(v) {
            self.uses.get(&v).copied().unwrap_or(0) > 1
        } else {
            // A record is made at the end of the block that defines the value, before its
            // terminator, which may then move the value on; a terminator of a block nested in
            // that one (an arm's `yield`) runs before the record is made.
            let recorded_before = terminator.is_some_and(|t| self.def_block(v) == Some(t));
            self.kept_top.contains(&v) || (!recorded_before && self.kept_rec.contains(&v))
        };
        if copy {
            quote!(::core::clone::Clone::clone(&#id))
        } else {
            quote!(#id)
        }
    }

    /// The block that defines `v`, where the code generator has seen it.
    fn def_block(&self, v: Value) -> Option<Block> {
        match self.f.value(v).def {
            ValueDef::Param(_) | ValueDef::Tangent(_) => Some(self.f.body()),
            ValueDef::BlockParam(b, _) => Some(b),
            ValueDef::Result(i, _) => self.inst_block.get(&i).copied(),
        }
    }

    /// A tangent handed to a call's forward rule, which takes it by value into its slot: the
    /// tangent itself where it is used once (`&dz` is the slot of `dz`), a copy otherwise or
    /// where it arrived by reference (a tangent parameter).
    fn slot_tangent(&self, v: Value) -> TokenStream {
        let mut d = v;
        if let ValueDef::Result(i, 0) = self.f.value(d).def {
            if let InstKind::Ref(u) = self.f.inst(i).kind {
                d = u;
            }
        }
        let x = self.v(d);
        let used_once = self.reads.get(&d).is_some_and(|r| r.0 == 1) && d == v;
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
    fn lhs(&self, r: Value) -> TokenStream {
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
    fn mut_kw(&self, v: Value) -> TokenStream {
        if self.is_mut(v) {
            quote!(mut)
        } else {
            quote!()
        }
    }

    fn is_mut(&self, v: Value) -> bool {
        self.f
            .value(v)
            .name
            .as_ref()
            .is_some_and(|n| self.f.mutable_names.contains(n))
    }

    /// Arithmetic that depends on a differentiated input, on values whose type is not known,
    /// goes through the runtime's traits (arrays are borrowed, broadcast, mixed with scalars);
    /// everything else is written as the source wrote it.
    fn active_result(&self, i: Inst) -> bool {
        let inst = self.f.inst(i);
        inst.results
            .iter()
            .any(|&r| self.active.get(r.index()).copied().unwrap_or(false))
            && !self.f.operands(i).iter().all(|&o| self.ty(o).is_plain())
    }

    /// A block's instructions. Runs of plain-float statements are written as text and handed
    /// to the compiler's lexer in one piece: building them token by token would cross the
    /// boundary between the macro and the compiler once per token, which is most of the time
    /// a long straight-line function spends in the macro.
    fn block_insts(&self, b: Block) -> TokenStream {
        let mut out = TokenStream::new();
        let mut text = String::new();
        for &i in &self.f.block(b).insts {
            let folded = self.f.inst(i).results.len() == 1
                && self.folded(self.f.inst(i).results[0]) == Some(i);
            if folded {
                continue;
            }
            match self.text_stmt(i) {
                Some(t) => text.push_str(&t),
                None => {
                    flush(&mut text, &mut out);
                    let code = self.inst(b, i);
                    if self.f.inst_blocks(i).is_empty() {
                        // A type error in it points at what the user wrote.
                        out.extend(located_at(code, self.f.inst(i).span));
                    } else {
                        out.extend(code);
                    }
                }
            }
        }
        flush(&mut text, &mut out);
        out
    }

    /// A value's name, as text.
    fn text_name(&self, v: Value) -> String {
        self.f.value_name(v)
    }

    /// [`Gen::e`] as text, where the value (and what is folded into it) is plain.
    fn text_e(&self, v: Value) -> Option<String> {
        if let Some(i) = self.folded(v) {
            let rhs = self.text_rhs(i)?;
            return Some(match self.f.inst(i).kind {
                InstKind::Binary(..) | InstKind::Neg(_) => format!("({rhs})"),
                _ => rhs,
            });
        }
        Some(self.text_name(v))
    }

    /// [`Gen::rhs`] as text, for plain floats.
    fn text_rhs(&self, i: Inst) -> Option<String> {
        let inst = self.f.inst(i);
        Some(match &inst.kind {
            InstKind::Const(t) => self.typed_literal(inst.results[0], t).to_string(),
            InstKind::Binary(op, a, b) if !self.active_result(i) => {
                let o = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Rem => "%",
                };
                format!("{} {o} {}", self.text_e(*a)?, self.text_e(*b)?)
            }
            InstKind::Neg(a) if !self.active_result(i) => format!("-{}", self.text_e(*a)?),
            InstKind::Prim {
                prim,
                args,
                unwrap: false,
            } if prim.has(crate::prim::Flags::FLOAT_RESULT)
                && self.ty(inst.results[0]).is_plain() =>
            {
                let mut rest = Vec::new();
                for &a in &args[1..] {
                    rest.push(self.text_e(a)?);
                }
                format!(
                    "{}.{}({})",
                    self.text_e(args[0])?,
                    prim.name(),
                    rest.join(", ")
                )
            }
            InstKind::Helper { name, args } => {
                let mut a = Vec::new();
                for &x in args {
                    a.push(self.text_e(x)?);
                }
                format!("{}::d::{name}({})", self.pv_text, a.join(", "))
            }
            InstKind::VarGet(w) if self.ty(inst.results[0]).is_plain() => {
                self.f.vars[w.index()].name.clone()
            }
            _ => return None,
        })
    }

    /// A plain-float statement as text, if the instruction is one.
    fn text_stmt(&self, i: Inst) -> Option<String> {
        let inst = self.f.inst(i);
        let typed = |v: Value| -> Option<&'static str> {
            match self.ty(v).float()? {
                crate::scalars::FloatTy::F64 => Some("f64"),
                crate::scalars::FloatTy::F32 => Some("f32"),
            }
        };
        match &inst.kind {
            InstKind::VarInit { var, value } => {
                let t = typed(*value)?;
                let w = &self.f.vars[var.index()].name;
                Some(format!("let mut {w}: {t} = {};", self.text_e(*value)?))
            }
            InstKind::VarAcc { var, value } | InstKind::VarSet { var, value } => {
                typed(*value)?;
                let w = &self.f.vars[var.index()].name;
                let op = if matches!(inst.kind, InstKind::VarAcc { .. }) {
                    "+="
                } else {
                    "="
                };
                Some(format!("{w} {op} {};", self.text_e(*value)?))
            }
            _ if inst.results.len() == 1 => {
                let r = inst.results[0];
                let t = typed(r)?;
                let rhs = self.text_rhs(i)?;
                let m = if self.is_mut(r) { "mut " } else { "" };
                Some(format!("let {m}{}: {t} = {rhs};", self.text_name(r)))
            }
            _ => None,
        }
    }

    /// An arm's code: its instructions, then its yielded values as a tuple.
    fn arm(&self, b: Block) -> TokenStream {
        let mut out = self.bind_arm_params(b);
        out.extend(self.block_insts(b));
        match &self.f.block(b).term {
            Term::Yield(vals) if !vals.is_empty() => {
                let vs: Vec<TokenStream> = vals.iter().map(|&v| self.moved(v, Some(b))).collect();
                out.extend(quote! { (#(#vs,)*) });
            }
            _ => {}
        }
        out
    }

    fn bind_arm_params(&self, arm: Block) -> TokenStream {
        let mut out = TokenStream::new();
        if let Some(bindings) = self.arm_bindings.get(&arm) {
            for (name, &p) in bindings.iter().zip(&self.f.block(arm).params) {
                let id = self.v(p);
                out.extend(quote! { let #id = #name; });
            }
        }
        out
    }

    fn rebind(&self, uses: &[(syn::Ident, Value)]) -> TokenStream {
        let mut t = TokenStream::new();
        for (name, v) in uses {
            let id = self.v(*v);
            if self.mut_refs.contains(v) {
                // The caller's `&mut` buffer is reborrowed, not moved into the code.
                t.extend(quote! { let #name = &mut *#id; });
            } else {
                t.extend(quote! { let #name = #id; });
            }
        }
        t
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

    fn inst(&self, b: Block, i: Inst) -> TokenStream {
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
                    let (x, y) = (id(*a), id(*bb));
                    let o = binop(*op);
                    quote! { #lhs #x #o #y; }
                }
            }
            InstKind::Neg(a) => {
                if self.active_result(i) {
                    let x = self.by_ref(*a);
                    quote! { #lhs #pv::NegRule::neg(#x); }
                } else {
                    let x = id(*a);
                    quote! { #lhs -#x; }
                }
            }
            InstKind::Prim { prim, args, unwrap } => {
                let name = syn::Ident::new(prim.name(), inst.span);
                let recv = if prim.name() == "into_shape_with_order" {
                    self.moved(args[0], None)
                } else {
                    let x = id(args[0]);
                    quote!(#x)
                };
                let rest: Vec<TokenStream> =
                    args[1..].iter().map(|&a| self.prim_arg(*prim, a)).collect();
                if *unwrap {
                    quote! { #lhs #recv.#name(#(#rest),*).unwrap(); }
                } else {
                    quote! { #lhs #recv.#name(#(#rest),*); }
                }
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
                let call = if *unwrap {
                    quote!(#recv.#name(#(#args),*).unwrap())
                } else {
                    quote!(#recv.#name(#(#args),*))
                };
                match lhs {
                    Some(lhs) => quote! { #lhs #call; },
                    None => quote! { #call; },
                }
            }
            InstKind::Call { path, args } => {
                let args: Vec<TokenStream> = args.iter().map(|&a| self.moved(a, None)).collect();
                match lhs {
                    Some(lhs) => quote! { #lhs #path(#(#args),*); },
                    None => quote! { #path(#(#args),*); },
                }
            }
            InstKind::CallVjp { path, args } => {
                let mut vjp = path.clone();
                if let Some(last) = vjp.segments.last_mut() {
                    last.ident =
                        quote::format_ident!("{}_vjp", last.ident, span = last.ident.span());
                }
                let (y, pbv, sel) = (
                    id(inst.results[0]),
                    id(inst.results[1]),
                    id(inst.results[2]),
                );
                let probes: Vec<syn::Ident> = args.iter().map(|&a| self.v(a)).collect();
                let moved: Vec<TokenStream> = args.iter().map(|&a| self.moved(a, None)).collect();
                quote! {
                    let #sel = {
                        use #pv::{ProbeNo as _, ProbeYes as _};
                        (#((&#pv::Probe(&#probes)).marker(),)*)
                    };
                    let (#y, #pbv) = #vjp(#(#moved),*);
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
            InstKind::Ascribe { value, ty } => {
                let x = self.moved(*value, None);
                let r = id(inst.results[0]);
                quote! { let #r: #ty = #x; }
            }
            InstKind::Ref(x) => {
                let xi = id(*x);
                if self.mut_refs.contains(x) {
                    // `&buf` of a `&mut` buffer: a shared reborrow, which leaves `buf` usable.
                    quote! { #lhs &*#xi; }
                } else if self.is_ref(*x) {
                    quote! { #lhs #xi; }
                } else {
                    quote! { #lhs &#xi; }
                }
            }
            InstKind::Tuple(vals) => {
                let vs: Vec<TokenStream> = vals.iter().map(|&v| self.moved(v, None)).collect();
                quote! { #lhs (#(#vs,)*); }
            }
            InstKind::Field(t, n) => {
                let t = id(*t);
                let idx = syn::Index::from(*n as usize);
                quote! { #lhs #t.#idx; }
            }
            InstKind::FieldRef(base, name) => {
                let base = id(*base);
                quote! { #lhs &#base.#name; }
            }
            InstKind::Deref(x) => {
                let x = id(*x);
                quote! { #lhs *#x; }
            }
            InstKind::Index(base, idx) => {
                let (base, idx) = (id(*base), id(*idx));
                quote! { #lhs #base[#idx]; }
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
                let binds = self.rebind(uses);
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
                let s = id(*scrutinee);
                let mut cases = TokenStream::new();
                for arm in arms {
                    let pat = &arm.pat;
                    let head = match &arm.guard {
                        Some(gd) => {
                            let binds = self.rebind(&arm.guard_uses);
                            quote! { #pat if { #binds #gd } }
                        }
                        None => quote!(#pat),
                    };
                    let code = self.arm(arm.block);
                    cases.extend(quote! { #head => { #code } });
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
                    cases.extend(quote! { #en::#var((#(#params,)*)) => { #code } });
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
                if reserved {
                    quote! { #pv::push_reserved(&mut #s, (#(#vs,)*)); }
                } else {
                    quote! { #s.push((#(#vs,)*)); }
                }
            }
            InstKind::Pop(stack) => {
                let s = names::stack(*stack);
                let ids: Vec<syn::Ident> = inst.results.iter().map(|&r| self.v(r)).collect();
                quote! { let (#(#ids,)*) = #pv::pop(&mut #s); }
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
                let args: Vec<TokenStream> = args.iter().map(|&a| id(a)).collect();
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
                quote! { #pv::acc_index(&mut #w, &#ix, #x); }
            }
            InstKind::VarAccField { var, field, value } => {
                let w = names::var(self.f, *var);
                let x = self.moved(*value, None);
                quote! { #pv::acc(&mut #w.#field, #x); }
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
            InstKind::GradAs { like, g } => {
                let (x, gi) = (self.by_ref(*like), self.moved(*g, None));
                quote! { #lhs #pv::grad_as(#x, #gi); }
            }
        }
    }

    /// The values a record keeps, moved in; a copy of those the block's terminator moves on.
    fn record_values(&self, b: Block, values: &[Value]) -> Vec<TokenStream> {
        let term_ops = self.f.term_operands(b);
        values
            .iter()
            .map(|&v| {
                let x = self.v(v);
                if term_ops.contains(&v) && !self.ty(v).is_plain() && !self.is_ref(v) {
                    quote!(::core::clone::Clone::clone(&#x))
                } else {
                    quote!(#x)
                }
            })
            .collect()
    }

    /// The arguments of a runtime rule call, by reference; the cotangent `g` stands in for an
    /// argument the rule does not read.
    fn rule_args(&self, args: &[RuleArg], g: Value) -> Vec<TokenStream> {
        let gi = self.e(g);
        args.iter()
            .map(|a| match a {
                RuleArg::Value(v) => self.by_ref(*v),
                RuleArg::Shape(v) => {
                    let s = self.e(*v);
                    quote!(&#s)
                }
                RuleArg::Witness => quote!(&#gi),
            })
            .collect()
    }

    /// A call through the runtime's forward-rule adapter: `path_<suffix>(args, tangents)`, the
    /// markers computed first (before the arguments move), the tangents in slots the caller
    /// owns; the results are bound to `lhs`.
    #[allow(clippy::too_many_arguments)]
    fn call_adapter(
        &self,
        i: Inst,
        path: &syn::Path,
        suffix: &str,
        args: &[Value],
        tangents: &[Option<Value>],
        sel: &syn::Ident,
        lhs: TokenStream,
    ) -> TokenStream {
        let pv = self.pv.clone();
        let mut f = path.clone();
        if let Some(last) = f.segments.last_mut() {
            last.ident =
                quote::format_ident!("{}_{}", last.ident, suffix, span = last.ident.span());
        }
        let probes: Vec<syn::Ident> = args.iter().map(|&a| self.v(a)).collect();
        let moved: Vec<TokenStream> = args.iter().map(|&a| self.moved(a, None)).collect();
        let slots: Vec<TokenStream> = tangents
            .iter()
            .zip(args)
            .map(|(t, &a)| match t {
                // An array lent to a callee that may take a slice: its tangent as the callee's.
                Some(d) if self.f.lent_array(a).is_some() => {
                    let d = self.slot_tangent(*d);
                    quote!(#pv::tan(#pv::lent_tangent(#d)))
                }
                Some(d) => {
                    let d = self.slot_tangent(*d);
                    quote!(#pv::tan(#d))
                }
                None => quote!(#pv::no_tan()),
            })
            .collect();
        let span = self.f.inst(i).span;
        let slots_id = syn::Ident::new(&format!("__ad_slots{}", i.0), span);
        let call = quote_spanned! {span=>
            #pv::call_jvp(#f, #sel, (#(#moved,)*), &mut #slots_id)
        };
        quote! {
            let #sel = {
                use #pv::{ProbeNo as _, ProbeYes as _};
                (#((&#pv::Probe(&#probes)).marker(),)*)
            };
            let mut #slots_id = (#(#slots,)*);
            let #lhs = #call;
        }
    }

    /// The end of an iteration of loop `i` whose body ends in `term`: the carried values into
    /// the loop's state variables, and `break` if the body says so.
    fn next_iteration(&self, i: Inst, at: Block) -> TokenStream {
        let term = &self.f.block(at).term;
        let assign = |vals: &[Value]| -> TokenStream {
            let mut t = TokenStream::new();
            for (k, &v) in vals.iter().enumerate() {
                let st = names::loop_state(i, k);
                let x = self.moved(v, Some(at));
                t.extend(quote! { #st = #x; });
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

    /// For each loop stack, the outermost enclosing `for` loop at whose start the trip counts
    /// of every loop from there down to the stack's own are known (their bounds are defined
    /// outside it): one reservation there for all the records, instead of one per entry of the
    /// inner loop, which would grow the stack again and again. A loop that leaves early pushes
    /// fewer records than reserved, which is harmless.
    fn plan_reserves(&mut self) {
        let mut owner: HashMap<Block, Inst> = HashMap::new();
        for &i in self.inst_block.keys() {
            for nb in self.f.inst_blocks(i) {
                owner.insert(nb, i);
            }
        }
        let enclosing_loop = |i: Inst| -> Option<Inst> {
            let mut b = *self.inst_block.get(&i)?;
            loop {
                let o = *owner.get(&b)?;
                if matches!(self.f.inst(o).kind, InstKind::Loop { .. }) {
                    return Some(o);
                }
                b = *self.inst_block.get(&o)?;
            }
        };
        let within = |v: Value, lp: Inst| -> bool {
            let Some(mut b) = self.def_block(v) else {
                return true;
            };
            loop {
                match owner.get(&b) {
                    Some(&o) if o == lp => return true,
                    Some(&o) => match self.inst_block.get(&o) {
                        Some(&ob) => b = ob,
                        None => return false,
                    },
                    None => return false,
                }
            }
        };
        let range_of = |i: Inst| match &self.f.inst(i).kind {
            InstKind::Loop { kind, .. } => kind.range(),
            _ => None,
        };
        let mut plans = Vec::new();
        for (n, st) in self.f.stacks.iter().enumerate() {
            let Some(r) = range_of(st.owner) else {
                continue;
            };
            let mut ranges = vec![r];
            let mut target = None;
            let mut cur = st.owner;
            while let Some(outer) = enclosing_loop(cur) {
                let Some(or) = range_of(outer) else { break };
                let varies = |v: Value| within(v, outer) && self.const_tokens(v).is_none();
                if ranges.iter().any(|r| varies(r.start) || varies(r.end)) {
                    break;
                }
                ranges.push(or);
                target = Some(outer);
                cur = outer;
            }
            if let Some(t) = target {
                plans.push((t, Stack(n as u32), ranges));
            }
        }
        for (t, s, ranges) in plans {
            self.hoisted_reserves
                .entry(t)
                .or_default()
                .push((s, ranges));
        }
    }

    /// The literal that defines `v`, if a constant does.
    fn const_tokens(&self, v: Value) -> Option<TokenStream> {
        match self.f.value(v).def {
            ValueDef::Result(i, 0) => match &self.f.inst(i).kind {
                InstKind::Const(t) => Some(self.typed_literal(v, t)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A `for` loop's range as an iterator: `(a..b)`, `(a..=b)`, `(a..b).rev()`.
    fn range_expr(&self, r: &IterRange) -> TokenStream {
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
    fn sweep_code(
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
            advance_code.extend(quote! { let #idx = #pv::range_nth(#re, #st_k); });
        }
        for (p, s) in carried.iter().zip(&st) {
            let (m, id) = (self.mut_kw(*p), self.v(*p));
            advance_code.extend(quote! { let #m #id = #s; });
        }
        advance_code.extend(self.block_insts(advance));
        advance_code.extend(self.next_iteration(i, advance));
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

    fn loop_code(&self, i: Inst, kind: &LoopKind, init: &[Value], body: Block) -> TokenStream {
        let pv = self.pv.clone();
        let mut out = TokenStream::new();
        let params = self.f.block(body).params.clone();
        let carried = &params[params.len() - init.len()..];
        let mut bind = TokenStream::new();
        for (k, &v) in init.iter().enumerate() {
            let st = names::loop_state(i, k);
            let x = self.moved(v, None);
            out.extend(quote! { let mut #st = #x; });
            let p = self.v(carried[k]);
            let m = self.mut_kw(carried[k]);
            bind.extend(quote! { let #m #p = #st; });
        }
        let mut code = self.block_insts(body);
        code.extend(self.next_iteration(i, body));
        match kind.range() {
            Some(r) => {
                let range = self.range_expr(&r);
                let rn = names::range();
                out.extend(quote! { let #rn = #range; });
                for &s in self.loop_stacks.get(&i).into_iter().flatten() {
                    let st = names::stack(s);
                    out.extend(quote! {
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
                    out.extend(quote! {
                        #pv::reserve_nest(&mut #st, 1usize #(.saturating_mul(#lens))*);
                    });
                }
                let idx = self.v(params[0]);
                out.extend(quote! {
                    for #idx in #rn {
                        #bind
                        #code
                    }
                });
            }
            None => {
                out.extend(quote! {
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
            out.extend(quote! { let #m #rr = #st; });
        }
        let _ = pv;
        out
    }
}

fn binop(op: BinOp) -> TokenStream {
    match op {
        BinOp::Add => quote!(+),
        BinOp::Sub => quote!(-),
        BinOp::Mul => quote!(*),
        BinOp::Div => quote!(/),
        BinOp::Rem => quote!(%),
    }
}

/// The tokens, shown at `at` in diagnostics (their names still resolve where they did).
fn located_at(ts: TokenStream, at: Span) -> TokenStream {
    ts.into_iter()
        .map(|mut t| {
            if let TokenTree::Group(g) = &t {
                let mut ng = Group::new(g.delimiter(), located_at(g.stream(), at));
                ng.set_span(g.span().located_at(at));
                return TokenTree::Group(ng);
            }
            t.set_span(t.span().located_at(at));
            t
        })
        .collect()
}

/// Hands the text gathered so far to the compiler's lexer and appends the tokens.
fn flush(text: &mut String, out: &mut TokenStream) {
    if text.is_empty() {
        return;
    }
    match text.parse::<TokenStream>() {
        Ok(t) => out.extend(t),
        Err(e) => panic!("autodiff: generated code does not lex: {e}: {text}"),
    }
    text.clear();
}
