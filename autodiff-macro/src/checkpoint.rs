//! Checkpointing: reversing a long loop with a few snapshots of its state instead of a record
//! per iteration.
//!
//! Reverse mode keeps, for every iteration of a loop, a record of what the iteration's pullback
//! reads (see [`crate::plan`]): memory proportional to the trip count, which for a time-stepping
//! loop of 10⁶ steps is what runs out first. A *checkpointed* loop keeps at most `s + 1`
//! snapshots of its state — its carried values — and recomputes the iterations in between during
//! the backward pass, on the schedule of the runtime's `autodiff::checkpoint::Checkpointer`:
//! Revolve's binomial schedule for a `for` loop over a range without `break` (its trip count is
//! known when it starts), the online schedule for `while`, `loop` and `for` with `break`.
//!
//! Loops are checkpointed on request: `#[checkpoint(snapshots = s)]` on a loop, or
//! `#[differentiate(checkpoint(snapshots = s))]` for every loop with backward work that no such
//! loop encloses ([`select`]; inner loops record as usual inside an iteration of the outer one).
//!
//! # The transformation
//!
//! Reverse mode reverses a checkpointed loop as it reverses any loop — one pullback of the body,
//! with the carried adjoints flowing from one iteration to the one before — and then
//! ([`Cx::sweep`]) arranges for each iteration to be recomputed right before its pullback:
//!
//! ```text
//! forward:   w = checkpointer (binomial over the range, or online)
//!            for/loop, carrying k from 0:  offer w, k, state; <plain body>; k + 1
//!            ck = finish w after n iterations
//! pullback:  sweep ck over the range (as `var`):
//!              advance(index, state.., k):  offer var, k, state; <plain body>; k + 1
//!              record(index, state..):      <the body as reverse mode left it>
//!              reverse():                   <the body's pullback>
//! ```
//!
//! The *plain body* is a copy of the body taken before reverse mode changed it: calls are made
//! as written, branches return no records, inner loops keep nothing. The *record* body is the
//! loop's own body block, moved into the pullback: its calls go through `_vjp`, its branches
//! return records, its inner loops push records. The runtime's `Action`s map onto the blocks:
//! `Restore` sets the state, `Advance { from, to }` runs `advance` for iterations `from..to`,
//! `Reverse { at }` runs `record` on the state before iteration `at`, then `reverse`.
//!
//! # Why this shape
//!
//! - **The record body runs right before its pullback, in the same scope**, so the pullback reads
//!   the iteration's values directly: a checkpointed loop has no stack of its own, and nothing is
//!   pushed or popped per iteration. [`crate::plan`] treats the record block as the root of a
//!   forward pass of its own: values defined in it are read as they are, values defined in
//!   blocks nested in it (branch arms, inner loops) are kept in records and on stacks exactly as
//!   in the forward pass, and what it reads from outside the loop is captured, kept or recomputed
//!   like any other read of the pullback.
//! - **Everything else is the existing machinery.** The iteration's pullback is built by the same
//!   code as a recorded loop's; the plan decides what crosses scopes; the code generator prints
//!   the sweep as one `match` on the checkpointer's next action, the blocks inlined in its arms,
//!   as the runtime's module documentation sketches. Nested checkpointed loops compose: the
//!   inner loop's forward side lands in the outer loop's record body, its sweep in the outer
//!   loop's pullback.
//! - Alternatives considered: keeping the loop's stack and pushing one record per reversed
//!   iteration (a push and a pop per iteration that buy nothing); handing the body to a runtime
//!   driver as closures (they would capture the inner loops' stacks and the carried adjoints
//!   mutably at once, and the body would leave the pullback's code, where LLVM optimises it
//!   with the rest); keeping every state on a tape (the memory checkpointing is there to save).
//!
//! # Costs and limits
//!
//! - The body runs `Checkpointer::stats().forward_steps` times plainly plus once more per
//!   iteration with recording: side effects in it (`println!`) repeat.
//! - Each snapshot is a clone of the carried values, which must implement `Clone` (every
//!   differentiable type does; for one that does not, rustc says so at the loop).
//! - The body's code is generated three times (plain forward, advance, record) where a recorded
//!   loop has it once: rustc checks and compiles it three times.
//! - A loop that uses a `&mut` parameter cannot be checkpointed (the backward pass would run it
//!   again on the caller's buffer), nor one that calls a method that may change a variable from
//!   outside the loop in place (run again, it would find the variable changed), nor can second
//!   order (`hessian`) differentiate a checkpointed loop yet: all are compile errors
//!   ([`select`]).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use syn::visit::Visit;

use crate::activity::Activity;
use crate::ir::copy::Copied;
use crate::ir::*;
use crate::scalars::{Ty, Types};

// ---- the attribute ------------------------------------------------------------------------

/// `#[checkpoint(..)]` anywhere but on a `for`, `while` or `loop`.
pub fn misplaced(func: &syn::ItemFn) -> Vec<syn::Error> {
    #[derive(Default)]
    struct Find<'a> {
        on_loops: Vec<&'a syn::Attribute>,
        all: Vec<&'a syn::Attribute>,
    }
    impl<'a> Visit<'a> for Find<'a> {
        fn visit_attribute(&mut self, a: &'a syn::Attribute) {
            if a.path().is_ident("checkpoint") {
                self.all.push(a);
            }
        }
        fn visit_expr_for_loop(&mut self, e: &'a syn::ExprForLoop) {
            self.on_loops.extend(&e.attrs);
            syn::visit::visit_expr_for_loop(self, e);
        }
        fn visit_expr_while(&mut self, e: &'a syn::ExprWhile) {
            self.on_loops.extend(&e.attrs);
            syn::visit::visit_expr_while(self, e);
        }
        fn visit_expr_loop(&mut self, e: &'a syn::ExprLoop) {
            self.on_loops.extend(&e.attrs);
            syn::visit::visit_expr_loop(self, e);
        }
    }
    let mut find = Find::default();
    find.visit_block(&func.block);
    find.all
        .into_iter()
        .filter(|a| !find.on_loops.iter().any(|l| std::ptr::eq(*l, *a)))
        .map(|a| {
            syn::Error::new_spanned(
                a,
                "`#[checkpoint(..)]` applies to a loop (`for`, `while`, `loop`) of a \
                 differentiated function",
            )
        })
        .collect()
}

/// The function's tokens without its `#[checkpoint(..)]` attributes, which only this macro
/// reads (rustc would not know them).
pub fn strip(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    for tt in tokens {
        match tt {
            TokenTree::Group(g)
                if g.delimiter() == proc_macro2::Delimiter::Bracket
                    && matches!(out.last(), Some(TokenTree::Punct(p)) if p.as_char() == '#')
                    && matches!(
                        g.stream().into_iter().next(),
                        Some(TokenTree::Ident(i)) if i == "checkpoint"
                    ) =>
            {
                out.pop();
            }
            TokenTree::Group(g) => {
                let mut ng = proc_macro2::Group::new(g.delimiter(), strip(g.stream()));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            tt => out.push(tt),
        }
    }
    out.into_iter().collect()
}

// ---- which loops -------------------------------------------------------------------------

/// Applies the function's `checkpoint(snapshots = s)` option (`default`, with where it is
/// written) to every loop with backward work that no other such loop encloses, drops requests
/// on loops with nothing to reverse, and reports what cannot be checkpointed.
pub fn select(
    f: &mut Func,
    act: &Activity,
    default: Option<(usize, Span)>,
    hessian: bool,
) -> Vec<syn::Error> {
    let bw = crate::reverse::backward_work(f, act);
    if let Some((s, _)) = default {
        let mut stack = vec![f.body()];
        while let Some(b) = stack.pop() {
            for i in f.block(b).insts.clone() {
                if bw[i.index()] {
                    if let InstKind::Loop { checkpoint, .. } = &mut f.insts[i.index()].kind {
                        checkpoint.get_or_insert(s);
                        continue;
                    }
                }
                stack.extend(f.inst_blocks(i));
            }
        }
    }
    let borrowed = f.borrowed_mut_versions();
    let mut errors = Vec::new();
    for (n, &has_work) in bw.iter().enumerate() {
        let span = f.insts[n].span;
        let InstKind::Loop {
            checkpoint: checkpoint @ Some(_),
            body,
            ..
        } = &mut f.insts[n].kind
        else {
            continue;
        };
        if !has_work {
            // Nothing to reverse: the loop runs as written.
            *checkpoint = None;
            continue;
        }
        let body = *body;
        if hessian {
            errors.push(syn::Error::new(
                default.map_or(span, |(_, s)| s),
                "second order (`hessian`) does not support checkpointed loops yet; \
                 differentiate this function without `checkpoint` to get `_hvp`",
            ));
        }
        errors.extend(refusals(f, act, Inst(n as u32), body, &borrowed));
    }
    errors
}

/// What loop `lp` (with body `body`) does that running it again would get wrong: using a
/// caller's `&mut` buffer (`borrowed`: the versions of `&mut` parameters), or calling a method
/// that may change a variable from outside the loop in place, where the IR does not see it —
/// the loop neither carries nor snapshots such a variable and, run again, would find it changed.
fn refusals(
    f: &Func,
    act: &Activity,
    lp: Inst,
    body: Block,
    borrowed: &std::collections::HashSet<Value>,
) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let mut reads = f.operands(lp);
    for b in f.blocks_within(body) {
        reads.extend(f.term_operands(b));
        for &i in &f.block(b).insts {
            reads.extend(f.operands(i));
            let InstKind::Method {
                name,
                recv,
                recv_mut: Some(root),
                ..
            } = &f.inst(i).kind
            else {
                continue;
            };
            let s = name.to_string();
            let outside = !act.within(act.def_block(f, *recv), body);
            if outside && !crate::prim::is_discrete_method(&s) {
                errors.push(syn::Error::new(
                    name.span(),
                    format!(
                        "`{root}.{s}(..)` may change `{root}` in place, and this loop is \
                         checkpointed: the backward pass runs the loop again and would find \
                         `{root}` changed; compute what `{s}` returns before the loop (into a \
                         `Vec`) and index it in the loop"
                    ),
                ));
            }
        }
    }
    // A parameter with interior mutability (`&Cell<u64>`, `&RefCell<Vec<f64>>`, `&Mutex<_>`,
    // an atomic): changed through `&`, where the IR sees only reads, and run again, changed
    // again (a generator's seed drew other numbers: a silently wrong gradient).
    let shared = f
        .params
        .iter()
        .find(|p| crate::types::interior_mutable(&p.ty) && reads.contains(&p.value));
    if let Some(p) = shared {
        let name = &p.ident;
        errors.push(syn::Error::new(
            f.inst(lp).span,
            format!(
                "this checkpointed loop uses `{name}`, a parameter with interior mutability \
                 (a `Cell`, `RefCell`, `Mutex`, `RwLock` or atomic): the backward pass runs the \
                 loop again, and what the loop changes through `{name}` would change again; \
                 compute what the loop takes from `{name}` before the loop (into a `Vec`) and \
                 index it in the loop, or do not checkpoint this loop"
            ),
        ));
    }
    let buffer = reads
        .into_iter()
        .find(|v| borrowed.contains(v))
        .and_then(|v| f.value(v).name.clone());
    let record = buffer.as_ref().and_then(|name| {
        f.params
            .iter()
            .find(|p| p.ident == name && !p.active && !is_buffer(&p.ty))
    });
    if let Some(p) = record {
        let name = &p.ident;
        errors.push(syn::Error::new(
            f.inst(lp).span,
            format!(
                "this checkpointed loop uses `{name}`, a `&mut` parameter: the backward pass \
                 runs the loop again, and would write into `{name}` again; keep what the loop \
                 records in local variables and write them into `{name}` after the loop"
            ),
        ));
    } else if let Some(name) = buffer {
        errors.push(syn::Error::new(
            f.inst(lp).span,
            format!(
                "this checkpointed loop uses `{name}`, a `&mut` parameter: the backward pass \
                 runs the loop again and cannot hold on to the caller's buffer; copy it into a \
                 local before the loop (`let mut b = {name}.to_vec();`), and back after it if \
                 the loop changes it (`{name}.copy_from_slice(&b);`)"
            ),
        ));
    }
    errors
}

/// Whether `&mut` parameter type `t` refers to a buffer of elements (a slice, an array, a
/// `Vec`, an ndarray array), which a local copy (`to_vec()`) can stand for in a loop.
fn is_buffer(t: &syn::Type) -> bool {
    match t {
        syn::Type::Reference(r) => is_buffer(&r.elem),
        syn::Type::Slice(_) | syn::Type::Array(_) => true,
        syn::Type::Path(p) => {
            crate::types::ndarray_elem(t).is_some()
                || p.path.segments.last().is_some_and(|s| s.ident == "Vec")
        }
        _ => false,
    }
}

// ---- the transformation ------------------------------------------------------------------

/// The function being reversed, with what reverse mode knows of its values: copies of code
/// get the activity and types of the code they copy.
pub struct Cx<'a> {
    pub f: &'a mut Func,
    pub act: &'a mut Activity,
    pub tys: &'a mut Types,
}

impl Cx<'_> {
    /// A copy of loop body `body` that runs plainly: the same values with the same activity and
    /// types, inner checkpointed loops run as plain loops too.
    pub fn plain_copy(&mut self, body: Block) -> Block {
        let c = self.f.copy_tree(body);
        self.adopt(&c);
        for &(_, i) in &c.insts {
            if let InstKind::Loop { checkpoint, .. } = &mut self.f.insts[i.index()].kind {
                *checkpoint = None;
            }
        }
        c.root
    }

    /// Gives the copies in `c` the activity, types and places of their originals.
    fn adopt(&mut self, c: &Copied) {
        self.grow();
        let act = &mut *self.act;
        for (&old, &new) in &c.values {
            for table in [&mut act.active, &mut act.varied, &mut act.useful] {
                table[new.index()] = table.get(old.index()).copied().unwrap_or(false);
            }
            let t = self.tys.of(old);
            self.tys.set(new, t);
        }
        let block_of: std::collections::HashMap<Block, Block> = c.blocks.iter().copied().collect();
        for &(old, new) in &c.blocks {
            act.parent[new.index()] =
                act.parent[old.index()].and_then(|p| block_of.get(&p).copied());
        }
        for &(old, new) in &c.insts {
            let b = act.inst_block[old.index()];
            act.inst_block[new.index()] = block_of.get(&b).copied().unwrap_or(b);
        }
    }

    /// Sizes the activity's tables to the function's values, instructions and blocks; what is
    /// new is inactive.
    fn grow(&mut self) {
        let act = &mut *self.act;
        let n = self.f.values.len();
        for table in [&mut act.active, &mut act.varied, &mut act.useful] {
            table.resize(n, false);
        }
        act.inst_block.resize(self.f.insts.len(), Block(0));
        act.parent.resize(self.f.blocks.len(), None);
    }

    /// Appends an instruction with `n` discrete results (counters, the checkpointer) to `b`.
    fn push(&mut self, b: Block, kind: InstKind, n: usize) -> Inst {
        let i = self
            .f
            .push_inst(b, kind, n, Kind::Discrete, Span::call_site());
        for r in self.f.inst(i).results.clone() {
            self.tys.set(r, Ty::Unknown);
        }
        self.grow();
        self.act.inst_block[i.index()] = b;
        i
    }

    /// Moves instruction `i`, just appended to `b`, before (or after) `anchor`.
    fn place(&mut self, b: Block, i: Inst, anchor: Inst, after: bool) {
        let insts = &mut self.f.blocks[b.index()].insts;
        insts.retain(|&x| x != i);
        let pos = insts
            .iter()
            .position(|&x| x == anchor)
            .map_or(0, |p| p + usize::from(after));
        insts.insert(pos, i);
    }

    /// Turns loop `lp` (in block `outer`) into a checkpointed loop, once reverse mode has built
    /// `pbb`, the pullback of its body, and taken `plain`, a plain copy of the body: the forward
    /// pass runs `plain` offering snapshots, and the sweep appended to `pb` recomputes and
    /// reverses the iterations (see the module documentation).
    pub fn sweep(
        &mut self,
        lp: Inst,
        outer: Block,
        plain: Block,
        snapshots: usize,
        pb: Block,
        pbb: Block,
    ) {
        let InstKind::Loop {
            kind, init, body, ..
        } = self.f.inst(lp).kind.clone()
        else {
            unreachable!("a sweep reverses a loop")
        };
        let range = kind.range();
        let breaks = matches!(self.f.block(body).term, Term::Break(_) | Term::Next { .. });
        let var = self.f.new_var(format!("__ad_ck{}", lp.0));

        // ---- forward: the plain body, offering the state before each iteration and counting
        // the iterations as one more carried value.
        let k = self
            .f
            .add_block_param(plain, Some("__ad_k".into()), Kind::Discrete);
        self.tys.set(k, Ty::Unknown);
        let params = self.f.block(plain).params.clone();
        let state = params[params.len() - 1 - init.len()..params.len() - 1].to_vec();
        let offer = self.push(
            plain,
            InstKind::CkptOffer {
                var,
                iter: k,
                state,
            },
            0,
        );
        // Spanned at the loop: a carried value that cannot be cloned is reported there.
        self.f.insts[offer.index()].span = self.f.inst(lp).span;
        let first = self.f.block(plain).insts[0];
        self.place(plain, offer, first, false);
        let one = self.push(plain, InstKind::Const(quote!(1usize)), 1);
        let one = self.f.inst(one).results[0];
        let next = self.push(plain, InstKind::Binary(BinOp::Add, k, one), 1);
        let next = self.f.inst(next).results[0];
        match &mut self.f.block_mut(plain).term {
            Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => vals.push(next),
            t => unreachable!("a loop body ends in a jump, not {t:?}"),
        }
        let zero = self.push(outer, InstKind::Const(quote!(0usize)), 1);
        self.place(outer, zero, lp, false);
        let zero = self.f.inst(zero).results[0];
        let start = self.push(
            outer,
            InstKind::CkptStart {
                var,
                snapshots,
                range: range.filter(|_| !breaks),
            },
            0,
        );
        self.place(outer, start, lp, false);
        let n = self.f.new_value(
            Some("__ad_n".into()),
            ValueDef::Result(lp, self.f.inst(lp).results.len()),
            Kind::Discrete,
        );
        self.tys.set(n, Ty::Unknown);
        self.f.insts[lp.index()].results.push(n);
        if let InstKind::Loop { init, body: b, .. } = &mut self.f.insts[lp.index()].kind {
            init.push(zero);
            *b = plain;
        }
        let finish = self.push(outer, InstKind::CkptFinish { var, n }, 1);
        self.place(outer, finish, lp, true);
        let ck = self.f.inst(finish).results[0];
        self.f.values[ck.index()].name = Some(format!("__ad_ck{}", lp.0));

        // ---- pullback: the sweep, with a second plain copy offering to its own checkpointer.
        let back = self.f.new_var(format!("__ad_ckb{}", lp.0));
        let advance = self.f.copy_tree(plain);
        self.adopt(&advance);
        for &(_, i) in &advance.insts {
            if let InstKind::CkptOffer { var: w, .. } = &mut self.f.insts[i.index()].kind {
                *w = back;
            }
        }
        self.f.block_mut(body).term = Term::Yield(Vec::new());
        self.f.block_mut(pbb).term = Term::Yield(Vec::new());
        let sweep = self.push(
            pb,
            InstKind::CkptSweep {
                ck,
                var: back,
                range,
                advance: advance.root,
                record: body,
                reverse: pbb,
            },
            0,
        );
        self.f.insts[sweep.index()].span = self.f.inst(lp).span;
    }
}
