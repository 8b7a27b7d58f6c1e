//! Code generation: the IR printed as Rust. No decisions about derivatives are made here; the
//! only choices are how to spell each instruction:
//!
//! - on plain floats (see [`crate::scalars`]) with plain operators, inherent methods and
//!   annotated `let`s; on anything else through the runtime's traits, by reference;
//! - where the forward pass would move a value the pullback keeps, a copy is moved instead;
//! - every name comes from [`names`].

mod calls;
mod control;
mod elementwise;
mod inst;
pub mod names;
mod records;
mod text;
mod values;
mod windows;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};

use crate::ir::*;
use crate::plan::Plan;
use crate::scalars::{Ty, Types};

/// Appending generated code to a token stream as one stream.
///
/// `TokenStream::extend` with another stream would take it apart into token trees, each of
/// which crosses the boundary between the macro and the compiler twice (out as a tree, back
/// in to the joined stream); for a long function that was most of the macro's time. Appending
/// it whole is one call.
pub(crate) trait Append {
    /// Appends `code` after what is already there.
    fn append(&mut self, code: TokenStream);
}

impl Append for TokenStream {
    fn append(&mut self, code: TokenStream) {
        self.extend(std::iter::once(code));
    }
}

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
    /// The tangent parameters taken by reference that the pullback reads (a call made again
    /// there, in `_vjp_along`, passes the direction on): the closure keeps owned copies of
    /// them, as it outlives the caller's borrow.
    pub pullback_tangents: Vec<syn::Ident>,
}

pub struct Gen<'a> {
    f: &'a Func,
    tys: &'a Types,
    /// Values kept by the forward pass: captured by the pullback or in a record.
    kept_top: HashSet<Value>,
    kept_rec: HashSet<Value>,
    /// Arrays on a loop's stack as copies of their elements (`Plan::flat`): the buffer each
    /// one's elements go to, and the pullback's pops of them (pop result → forward value).
    flat: HashMap<Value, syn::Ident>,
    flat_pops: HashMap<Value, Value>,
    /// How often each pullback value is read in the pullback.
    uses: HashMap<Value, usize>,
    /// The values a `typed_like` reads for their type (an array constructor assigned over a
    /// variable, `cur = Array1::zeros(n)` after `frames.push(cur)`): where the user's code
    /// moves such a value before that assignment, the generated code moves a copy, so that
    /// the value is still there to be read.
    typed_like_of: HashSet<Value>,
    /// How often each value is read anywhere, and the block of its (last) read.
    reads: HashMap<Value, (usize, Block, Option<Inst>)>,
    /// The block each instruction is in.
    inst_block: HashMap<Inst, Block>,
    /// The instruction whose code is being written, for [`Gen::moved`].
    cur_inst: std::cell::Cell<Option<Inst>>,
    /// The position of each instruction in its block.
    inst_pos: HashMap<Inst, usize>,
    /// What [`Gen::folded`] answered for each value asked about, with the depth of the folded
    /// expression: the answer for a value depends on those of the operands folded into it, and
    /// the expression of every read asks again, so unremembered answers cost time exponential
    /// in the depth of nested expressions (a chain of twenty calls took minutes to expand).
    folds: std::cell::RefCell<HashMap<Value, Option<(Inst, usize)>>>,
    /// Values defined in the pullback.
    pullback_values: HashSet<Value>,
    /// Loops that push records, with their stack.
    loop_stacks: HashMap<Inst, Vec<Stack>>,
    /// Stacks of nested `for` loops whose trip counts are known when an enclosing `for` loop
    /// starts: reserved there, once, for all its iterations (enclosing loop → the stacks with
    /// the ranges whose lengths multiply to the count).
    hoisted_reserves: HashMap<Inst, Vec<(Stack, Vec<IterRange>)>>,
    /// Array ranges that `for` loops walk, borrowed before them (see [`windows`]).
    windows: windows::Windows,
    /// Match arm blocks: the names their pattern binds, in the order of the block's parameters.
    arm_bindings: HashMap<Block, Vec<syn::Ident>>,
    active: &'a [bool],
    /// Versions of `&mut` parameters: references, like the parameter.
    mut_refs: HashSet<Value>,
    /// Rows of nested containers (`data[i]` of a `&[Vec<f64>]`), borrowed: see
    /// [`borrowed_rows`].
    rows: HashSet<Value>,
    /// Values written by element (the base of an `IndexSet`): a row of a grid read to be
    /// written (`ptr[i][j] = 1` of a `Vec<Vec<u8>>`) is a copy, not moved out of the grid.
    written: HashSet<Value>,
    /// Fields of data read only to be matched on or compared (`match o.kind { Kind::Count => .. }`,
    /// `o.kind == Kind::Gauss` of `for o in obs`): kept borrowed, matched as the place `*r` and
    /// compared as references, as Rust reads `o.kind` in place, so that their type need not be
    /// `Clone`.
    match_places: HashSet<Value>,
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
        flat: HashMap::new(),
        flat_pops: HashMap::new(),
        uses: HashMap::new(),
        typed_like_of: f
            .insts
            .iter()
            .filter_map(|i| match i.kind {
                InstKind::TypedLike { like, .. } => Some(like),
                _ => None,
            })
            .collect(),
        reads: HashMap::new(),
        inst_block: HashMap::new(),
        cur_inst: std::cell::Cell::new(None),
        inst_pos: HashMap::new(),
        folds: Default::default(),
        pullback_values: HashSet::new(),
        loop_stacks: HashMap::new(),
        hoisted_reserves: HashMap::new(),
        windows: windows::Windows::default(),
        arm_bindings: HashMap::new(),
        active,
        mut_refs: HashSet::new(),
        rows: HashSet::new(),
        written: HashSet::new(),
        match_places: HashSet::new(),
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
    for &v in &plan.flat {
        g.flat
            .insert(v, quote::format_ident!("__ad_elems{}", v.index()));
    }
    g.flat_pops = plan.flat_pops.clone();
    let mut all_blocks = f.blocks_within(body);
    if let Some(pb) = f.pullback {
        all_blocks.extend(f.blocks_within(pb));
    }
    for &b in &all_blocks {
        for (n, &i) in f.block(b).insts.iter().enumerate() {
            g.inst_block.insert(i, b);
            g.inst_pos.insert(i, n);
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
    g.rows = borrowed_rows(f, tys, &all_blocks, &plan.kept, active);
    for &b in &all_blocks {
        for &i in &f.block(b).insts {
            let InstKind::Deref(_) = f.inst(i).kind else {
                continue;
            };
            let r = f.inst(i).results[0];
            let data = !active.get(r.index()).copied().unwrap_or(false);
            let read_in_place = matches!(g.reads.get(&r), Some(&(1, _, Some(m)))
                if matches!(&f.inst(m).kind, InstKind::Match { scrutinee, .. } if *scrutinee == r)
                    || is_comparison(&f.inst(m).kind));
            if data && read_in_place && !plan.kept.contains(&r) && !g.ty(r).is_plain() {
                g.match_places.insert(r);
            }
        }
    }
    for &b in &all_blocks {
        for &i in &f.block(b).insts {
            if let InstKind::IndexSet { base, .. } = f.inst(i).kind {
                g.written.insert(base);
            }
        }
    }
    // Whether each value folds into its read, decided in the order the values are defined: the
    // decision for a value asks about its operands, which are then known, rather than
    // recursing through a chain of thousands of them.
    for &b in &all_blocks {
        for &i in &f.block(b).insts {
            for &v in &f.inst(i).results {
                g.folded(v);
            }
        }
    }
    for (n, s) in f.stacks.iter().enumerate() {
        g.loop_stacks
            .entry(s.owner)
            .or_default()
            .push(Stack(n as u32));
    }
    g.plan_reserves();
    g.windows = g.plan_windows(&all_blocks);
    for pb in f.pullback_roots() {
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
    let variant_types = g.record_variant_types();
    for inst in &f.insts {
        if let InstKind::MatchRecord { of, arms, .. } = &inst.kind {
            let en = names::record_enum(*of);
            let mut params = Vec::new();
            let mut payloads = Vec::new();
            for k in 0..arms.len() {
                match variant_types.get(&(*of, k)) {
                    Some(Some(tys)) => {
                        let tys = tys.iter().map(|t| t.tokens());
                        payloads.push(quote!((#(#tys,)*)));
                    }
                    _ => {
                        let p = quote::format_ident!("T{}", k);
                        payloads.push(quote!(#p));
                        params.push(p);
                    }
                }
            }
            let vars: Vec<syn::Ident> = (0..arms.len()).map(names::variant).collect();
            prelude.append(quote! { enum #en<#(#params),*> { #(#vars(#payloads)),* } });
        }
    }
    // Each stack and buffer is made at a site of its own (the address of a static), under which
    // it gives its memory back to the thread's pool when dropped (see the runtime's `stacks`).
    let site = quote! {{
        static __AD_SITE: u8 = 0;
        ::core::ptr::addr_of!(__AD_SITE) as usize
    }};
    for n in 0..f.stacks.len() {
        let s = names::stack(Stack(n as u32));
        prelude.append(quote! { let mut #s = #pv::Stack::new(#site); });
    }
    let mut buffers: Vec<&syn::Ident> = g.flat.values().collect();
    buffers.sort();
    for b in buffers {
        prelude.append(quote! { let mut #b = #pv::Stack::new(#site); });
    }
    // ---- forward
    let mut forward = TokenStream::new();
    // The parameters and their tangents are bound to their first versions in one `let`, which
    // reads every parameter before it binds a name: the first version of `x`, `x_0`, would
    // otherwise hide a parameter called `x_0` from the binding after it.
    let mut lhs = Vec::new();
    let mut rhs = Vec::new();
    for p in &f.params {
        let id = names::value(f, p.value);
        let m = g.mut_kw(p.value);
        lhs.push(quote!(#m #id));
        rhs.push(p.ident.to_token_stream());
    }
    for (n, &(p, d)) in f.tangent_params.iter().enumerate() {
        let id = names::value(f, d);
        lhs.push(quote!(#id));
        rhs.push(names::tangent_param(f, n, p).to_token_stream());
    }
    forward.append(quote! { let (#(#lhs,)*) = (#(#rhs,)*); });
    forward.append(g.block_insts(body));
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
            // The stacks are empty now. Dropped here, they die before the locals they may
            // borrow from: a pullback pushed in a loop that borrows a parameter or a local
            // (`h(&a)` for a callee taking `&[f64]`) has a type that may read the borrow
            // when dropped, and in `_grad` the stacks, declared first, would otherwise be
            // dropped last.
            for n in 0..f.stacks.len() {
                let s = names::stack(Stack(n as u32));
                code.extend(quote! { ::core::mem::drop(#s); });
            }
            if let Term::Return(v) = f.block(pb).term {
                let r = g.moved(v, Some(pb));
                code.append(r);
            }
            (seeds, code)
        }
        None => (Vec::new(), quote!(())),
    };
    let mut pullback_tangents = Vec::new();
    if let Some(pb) = f.pullback {
        for b in f.blocks_within(pb) {
            let reads = (f.block(b).insts.iter())
                .flat_map(|&i| f.operands(i))
                .chain(f.term_operands(b));
            for v in reads {
                if let ValueDef::Tangent(n) = f.value(v).def
                    && f.params.get(n).is_some_and(|p| p.tangent_by_ref())
                {
                    let id = g.v(v);
                    if !pullback_tangents.contains(&id) {
                        pullback_tangents.push(id);
                    }
                }
            }
        }
    }
    let _ = pv;
    Code {
        prelude,
        forward,
        out,
        seeds,
        pullback,
        pullback_tangents,
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

/// Whether the element read `i` reads a parameter taken by reference: a borrow of it lives as
/// long as the pullback may (a row the pullback keeps may be a borrow), where a borrow of a local
/// would keep the local from being moved into its next version.
fn borrows_parameter(f: &Func, i: Inst) -> bool {
    let InstKind::Index(base, _) = f.inst(i).kind else {
        return false;
    };
    matches!(f.value(base).def, ValueDef::Param(n)
        if matches!(f.params[n].ty, syn::Type::Reference(ref r) if r.mutability.is_none()))
}

/// Methods of slices that take `&self`, called on a row as written: the row is borrowed for
/// them (see [`borrowed_rows`]).
const ROW_READS: &[&str] = &[
    "len",
    "is_empty",
    "contains",
    "first",
    "last",
    "get",
    "iter",
    "to_vec",
    "starts_with",
    "ends_with",
    "binary_search",
];

/// Conversions through `&self` that lend what a row of data holds (`row.as_ref()` of `for row in
/// data` over `data: &[D]` with `D: AsRef<[f64]>`, `name.as_str()`): the row is borrowed for them,
/// as Rust lends it, so that its type need not be `Clone` (a type parameter bounded by `AsRef`
/// alone is not). Only for data: no adjoint is added back to such a row.
const DATA_ROW_READS: &[&str] = &["as_ref", "as_slice", "as_str", "as_bytes", "borrow"];

/// A comparison run as written, `a == b` (also `!=`, `<`, `<=`, `>`, `>=`): the same comparison of
/// references to its operands, which `PartialEq` and `PartialOrd` delegate to the values.
pub(super) fn is_comparison(kind: &InstKind) -> bool {
    let InstKind::Opaque { tokens, uses, .. } = kind else {
        return false;
    };
    let text = tokens.to_string();
    uses.len() == 2
        && ["==", "!=", "<", "<=", ">", ">="].iter().any(|op| {
            text == format!("__ad_a {op} __ad_b") && uses[0].0 == "__ad_a" && uses[1].0 == "__ad_b"
        })
}

/// The element reads `data[i]` that are rows of a nested container — a `&[Vec<f64>]` of data, a
/// `Vec<Vec<f64>>` grid — or structs of data (`cities[i]` of a `&[City]`) read further or
/// borrowed (`data[i][j]`, `row.len()`, `&data[i]`, `&cities[i].demand`) and used no other way: they are emitted as `&data[i]`, since a row that is not `Copy` cannot be
/// moved out of its container, and copying it for each element read costs the row's length.
/// Rows of differentiated containers are borrowed the same way where nothing else reads them
/// (their adjoint is added element by element, see `reverse::indexed_rows`). Element reads
/// used as values (the floats) stay as written, and so do floats only borrowed: an element of a
/// `&[f64]` that code run as written reads through a reference (`*e` of a loop's item in a
/// `position` predicate) is copied out and lent, as its `let e: f64` says.
/// A row of data (no derivative reaches it) read from a parameter taken by shared reference
/// may also be kept for the pullback, on a loop's stack or in a branch's record (a helper's
/// pullback made again there, in a loop that leaves early): the borrow is kept, which lives as
/// long as the pullback, where a move out of the container would not compile for a row that is
/// not `Copy` (`&masks[k]` of `&[Vec<bool>]`) and a copy would need the row to be `Clone`.
fn borrowed_rows(
    f: &Func,
    tys: &Types,
    blocks: &[Block],
    kept: &HashSet<Value>,
    active: &[bool],
) -> HashSet<Value> {
    let mut indexed = HashSet::new();
    let mut other = HashSet::new();
    // The values kept for the pullback by the instructions that keep them.
    let mut pushed = HashSet::new();
    for &b in blocks {
        for &i in &f.block(b).insts {
            match &f.inst(i).kind {
                InstKind::Push { values, .. } | InstKind::MakeRecord { values, .. } => {
                    pushed.extend(values.iter().copied());
                }
                InstKind::Index(base, idx) => {
                    indexed.insert(*base);
                    other.insert(*idx);
                }
                InstKind::Method {
                    name, recv, args, ..
                } => {
                    // `children[n].is_empty()` of data rows (`&[Vec<usize>]`) run as written:
                    // a method that reads its receiver by reference reads the row borrowed.
                    let data_recv = !active.get(recv.index()).copied().unwrap_or(false);
                    if ROW_READS.iter().any(|m| name == m)
                        || data_recv && DATA_ROW_READS.iter().any(|m| name == m)
                    {
                        indexed.insert(*recv);
                    }
                    other.extend(args.iter().copied().filter(|a| a != recv));
                }
                // A row of data copied to be changed (`nbrs[i].push(j)` of a `Vec<Vec<usize>>`
                // is `let mut r = nbrs[i].clone(); r.push(j); nbrs[i] = r;`): read borrowed.
                InstKind::Prim { prim, args, .. }
                    if prim.name() == "clone"
                        && args.len() == 1
                        && !active.get(args[0].index()).copied().unwrap_or(false) =>
                {
                    indexed.insert(args[0]);
                }
                // A field of a tuple of data read (`(c, o)` of `for (c, o) in pairs` over
                // `&[(String, String)]`): the element is borrowed and the field copied out of
                // it, which a move out of the container would not allow.
                InstKind::Field(t, _) if !active.get(t.index()).copied().unwrap_or(false) => {
                    indexed.insert(*t);
                }
                // A field borrowed (`&c.demand` of `for c in cities` over `&[City]`): the
                // element need not be `Clone`.
                InstKind::Ref(x)
                | InstKind::Shape(x)
                | InstKind::TypeOf(x)
                | InstKind::FieldRef(x, _) => {
                    indexed.insert(*x);
                }
                // `emb.select(Axis(0), ids)` lends its indices (see `prim_call`).
                InstKind::Prim { prim, args, .. } if prim.name() == "select" && args.len() == 3 => {
                    other.extend([args[0], args[1]]);
                    indexed.insert(args[2]);
                }
                // A reverse rule takes its operands by reference (`select_vjp_0(.., &ids, ..)`
                // of `emb.select(Axis(0), doc)`, `doc` a row of `docs: &[Vec<usize>]`): the row
                // is lent, which a move out of its container would not allow.
                InstKind::Rule { args, g, .. } => {
                    for a in args {
                        match a {
                            RuleArg::Value(v) => {
                                indexed.insert(*v);
                            }
                            RuleArg::Shape(v) => {
                                other.insert(*v);
                            }
                            RuleArg::Witness => {}
                        }
                    }
                    other.insert(*g);
                }
                _ => other.extend(f.operands(i)),
            }
        }
        other.extend(f.term_operands(b));
    }
    let mut rows = HashSet::new();
    for &b in blocks {
        for (p, &i) in f.block(b).insts.iter().enumerate() {
            if let InstKind::Index(base, _) = f.inst(i).kind {
                let r = f.inst(i).results[0];
                let data = !active.get(r.index()).copied().unwrap_or(false);
                if indexed.contains(&r)
                    && !other.contains(&r)
                    && (!pushed.contains(&r) || data && borrows_parameter(f, i))
                    && tys.of(r).float().is_none()
                    && (!kept.contains(&r) || borrows_parameter(f, i))
                    && !outlived_by_container(f, b, p, r, base)
                {
                    rows.insert(r);
                }
            }
        }
    }
    rows
}

/// Whether the row `r`, read from `base` by the instruction at position `p` of block `b`, is
/// still read after `base` is taken for something other than a read: made into a new version
/// of the container (`ps[1][0] *= 2.0` after `let q = ps[1];` copied an element of a `Vec` of
/// `Copy` rows or structs), which moves `base` or writes through it, so that a borrowed row
/// would keep it from that (rustc's "cannot move out of value because it is borrowed"). The
/// row is then copied, as written. Uses inside an instruction's blocks count at the
/// instruction, and those of the terminator and its blocks after the last instruction (a row
/// that leaves `b` is not borrowed at all: see [`borrowed_rows`]).
fn outlived_by_container(f: &Func, b: Block, p: usize, r: Value, base: Value) -> bool {
    let insts = &f.block(b).insts;
    let end = insts.len();
    let within = |blocks: Vec<Block>, v: Value, uses: &dyn Fn(Inst, Value) -> bool| {
        blocks.into_iter().any(|nb| {
            f.blocks_within(nb).into_iter().any(|bb| {
                f.block(bb).insts.iter().any(|&j| uses(j, v)) || f.term_operands(bb).contains(&v)
            })
        })
    };
    let reads = |j: Inst, v: Value| f.operands(j).contains(&v);
    // A use of `base` other than a read of it: `base[k]`, a slice method that reads it, a
    // borrow or its shape.
    let takes = |j: Inst, v: Value| match &f.inst(j).kind {
        InstKind::Index(x, k) => *x != v && *k == v,
        InstKind::Method {
            name, recv, args, ..
        } if *recv == v => !ROW_READS.iter().any(|m| name == m) || args.contains(&v),
        InstKind::Ref(_) | InstKind::Shape(_) | InstKind::TypeOf(_) | InstKind::FieldRef(..) => {
            false
        }
        _ => f.operands(j).contains(&v),
    };
    // Whether the instruction at position `q` uses `v` so (inside its blocks too), the
    // terminator being at `end`.
    let used_at = |q: usize, v: Value, uses: &dyn Fn(Inst, Value) -> bool| {
        if q == end {
            f.term_operands(b).contains(&v) || within(f.term_blocks(b), v, uses)
        } else {
            uses(insts[q], v) || within(f.inst_blocks(insts[q]), v, uses)
        }
    };
    let Some(last_read) = (p + 1..=end).rev().find(|&q| used_at(q, r, &reads)) else {
        return false;
    };
    (p + 1..=last_read).any(|q| used_at(q, base, &takes))
}
