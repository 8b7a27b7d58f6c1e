//! Reverse mode as an IR transformation: the pullback is built as IR, from the primal IR.
//!
//! The pullback walks each block backwards and accumulates adjoints in variables
//! ([`InstKind::VarAcc`]): an adjoint starts as the first contribution to it, or at zero when
//! contributions come from inside a nested `if`/`match`/loop. Its structure mirrors the forward
//! pass: the pullback of an `if`/`match` is a `match` on the record the forward pass will keep
//! for it ([`InstKind::MatchRecord`]); the pullback of a loop is a loop over the iterations in
//! reverse, whose carried adjoints are taken at the start of each iteration.
//!
//! What the pullback reads of the primal computation, it reads *directly* here: an instruction of
//! the pullback may name any primal value. Which of those the forward pass keeps (in the
//! closure, a record or a loop stack) and which the pullback computes again is decided
//! afterwards by [`crate::plan`], which also rewrites these reads.
//!
//! The rules come from the primitive table: on plain floats (see [`crate::scalars`]) a
//! primitive's form is written out as IR (`g * x.cos()`); on anything else the pullback calls the
//! runtime rule, passing what the table says it reads.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use quote::quote;

use crate::activity::Activity;
use crate::checkpoint;
use crate::fuse;
use crate::ir::*;
use crate::prim::{Arg, Flags, PrimId, forms};
use crate::scalars::{FloatTy, Ty, Types};

/// What reverse mode produced besides the pullback blocks.
pub struct Reversed {
    /// For each block of the pullback, the forward block it is the pullback of.
    pub corr: Vec<(Block, Block)>,
    /// Whole-range loops: the index parameter of the reversed body stands for the forward
    /// body's index parameter.
    pub index_params: Vec<(Value, Value)>,
    /// Per instruction of the primal: whether it has backward work.
    pub bw: Vec<bool>,
}

type Adj = HashMap<Value, Var>;

/// What a block's terminator contributes to.
enum Exit {
    Return(Value),
    /// `yield`/`continue`/`break` operand `k` receives this adjoint (if any).
    Incoming(Vec<Option<Value>>),
}

struct Rev<'a> {
    f: &'a mut Func,
    act: &'a mut Activity,
    /// Calls whose pullback is made in the pullback (see [`crate::joint`]).
    joint: &'a HashSet<Inst>,
    /// The span of the primal instruction being differentiated, given to what it adds.
    span: Span,
    tys: &'a mut Types,
    bw: Vec<bool>,
    corr: Vec<(Block, Block)>,
    index_params: Vec<(Value, Value)>,
    /// Whether reduction loops are reversed in place (see [`crate::fuse`]).
    fuse: bool,
    /// Rows of nested containers read only element by element (see [`indexed_rows`]).
    rows: HashMap<Value, (Value, Value)>,
    /// Fields of structs read only element by element (see [`indexed_fields`]).
    fields: HashMap<Value, (Value, syn::Ident)>,
    /// Products and quotients read only in branches (see [`read_in_branches`]).
    in_branches: HashSet<Value>,
}

/// Builds the pullback of `f`. Checkpointed loops (see [`crate::checkpoint`]) add copies of
/// their bodies, whose values `act` and `tys` learn about. Calls in `joint` make their pullback
/// in the pullback (see [`crate::joint`]). With `fuse`, reduction loops run their iterations'
/// pullbacks in the forward pass (see [`crate::fuse`]).
pub fn reverse(
    f: &mut Func,
    act: &mut Activity,
    tys: &mut Types,
    joint: &HashSet<Inst>,
    fuse: bool,
) -> Reversed {
    read_replaced_rows(f, act, tys);
    let bw = backward_work(f, act);
    let rows = indexed_rows(f, act);
    let fields = indexed_fields(f, act);
    let in_branches = read_in_branches(f, act);
    let mut r = Rev {
        f,
        act,
        joint,
        span: Span::call_site(),
        tys,
        bw,
        corr: Vec::new(),
        index_params: Vec::new(),
        fuse,
        rows,
        fields,
        in_branches,
    };
    let body = r.f.body();
    let pb = r.f.new_block();
    let ret = match r.f.block(body).term {
        Term::Return(v) => v,
        _ => unreachable!("the body returns"),
    };
    let seed =
        r.f.add_block_param(pb, Some("__ad_seed".into()), Kind::Float);
    let t = r.tys.of(ret);
    r.tys.set(seed, t);
    r.corr.push((pb, body));
    let mut adj = Adj::new();
    r.bw_block(body, pb, &mut adj, &Exit::Return(seed));
    let mut grads = Vec::new();
    for p in r.f.params.clone() {
        if !p.active {
            continue;
        }
        let g = match r.get(pb, p.value, &adj) {
            Some(g) => g,
            None => r.zero(pb, p.value),
        };
        grads.push(g);
    }
    let out = if grads.len() == 1 {
        grads[0]
    } else {
        r.emit1(pb, InstKind::Tuple(grads), Ty::Unknown)
    };
    r.f.block_mut(pb).term = Term::Return(out);
    r.f.pullback = Some(pb);
    Reversed {
        corr: r.corr,
        index_params: r.index_params,
        bw: r.bw,
    }
}

/// Products, quotients and float methods whose cotangent is exactly 0 on some path: every
/// read of one that a cotangent flows back through is inside an arm of an `if` or a `match`
/// that its definition is outside of, is an argument of `max`, `min` or `clamp` (whose losing
/// argument gets exactly 0) or of a method in [`forms::SATURATING`], or is a sum, difference, negation, product, quotient or float
/// method (`mul_add`, `hypot`, `exp`, …) that is such a value itself.
/// Where no arm that reads one is taken, its derivative is 0, however large a partial is there:
/// `let t = a * x.ln(); if x > 0.0 { t } else { 0.0 }` at `x = 0`, where `ln 0 = −∞`, or
/// `let term = (a - 1.0) * x.ln() - x; if !term.is_finite() { return .. }`. Their reverse rules
/// keep `0·∞` at 0 (see `forms::bound`); the others, on the hot path, do not test for it.
fn read_in_branches(f: &Func, act: &Activity) -> HashSet<Value> {
    let linear = |k: &InstKind| {
        matches!(
            k,
            InstKind::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, ..)
                | InstKind::Neg(_)
        )
    };
    let picks = |k: &InstKind| matches!(k, InstKind::Prim { prim, .. } if ["max", "min", "clamp"].contains(&prim.name()));
    // A method whose cotangent is exactly 0 where its argument is infinite (`exp` at −∞,
    // `tanh` and `atan` at ±∞, …): an inverse temperature times an infinite table entry,
    // `((v - mx) * inv_tau).exp()`, is such a product.
    // Only where the function names an infinity (see `forms::names_infinity`): elsewhere the
    // test would cost every such product's rule on the hot path (a logistic loss's `(-y *
    // z).exp()`).
    let tables = forms::names_infinity(f);
    let saturates = |k: &InstKind| {
        tables
            && matches!(k, InstKind::Prim { prim, .. } if forms::SATURATING.contains(&prim.name()))
    };
    // A float method whose rules are forms, which can be guarded (see `forms::bound`).
    let formed = |k: &InstKind| matches!(k, InstKind::Prim { prim, .. } if prim.has_forms());
    let mut maybe_zero: HashSet<Value> = (f.insts.iter())
        .filter(|i| linear(&i.kind) || formed(&i.kind))
        .filter_map(|i| i.results.first().copied())
        .filter(|&v| act.is_active(v))
        .collect();
    if maybe_zero.is_empty() {
        return maybe_zero;
    }
    // The arms of each `if` and `match`, with the instruction whose results their `Yield`s are.
    let owner: HashMap<Block, Inst> = (0..f.insts.len() as u32)
        .map(Inst)
        .filter(|&i| matches!(f.inst(i).kind, InstKind::If { .. } | InstKind::Match { .. }))
        .flat_map(|i| f.inst_blocks(i).into_iter().map(move |b| (b, i)))
        .collect();
    let arms: HashSet<Block> = owner.keys().copied().collect();
    // The value of an `if` or a `match` passes the cotangent of its arms' values on, as a sum
    // does its terms': a candidate that an arm computes and a `max` drops (`.map(|j| if c > 0.0
    // { c.ln() + beta * v[j] } else { f64::NEG_INFINITY }).fold(f64::NEG_INFINITY, f64::max)`
    // of a value function whose infeasible states are −∞) gets exactly 0 through it.
    let branch_values: HashSet<Value> = (owner.values().copied())
        .flat_map(|i| f.inst(i).results.iter().copied())
        .filter(|&v| act.is_active(v))
        .collect();
    maybe_zero.extend(branch_values.iter().copied());
    // Whether a read in block `at` of a value defined in block `def` runs whenever the
    // definition does (no arm between them).
    let always = |at: Block, def: Block| {
        let mut cur = Some(at);
        while let Some(b) = cur {
            if b == def {
                return true;
            }
            if arms.contains(&b) {
                return false;
            }
            cur = act.parent.get(b.index()).copied().flatten();
        }
        true
    };
    // The reads that run whenever their value is defined: by an instruction (a sum, …, whose
    // result may pass a zero cotangent on) or a terminator (`None`).
    let mut reads: Vec<(Value, Option<Inst>)> = Vec::new();
    for (n, inst) in f.insts.iter().enumerate() {
        // A condition or a scrutinee, and reads by discrete results, take no cotangent.
        if matches!(inst.kind, InstKind::If { .. } | InstKind::Match { .. })
            || !inst.results.iter().any(|r| act.is_active(*r))
        {
            continue;
        }
        let Some(&at) = act.inst_block.get(n) else {
            continue;
        };
        let i = Inst(n as u32);
        for v in f.operands(i) {
            if maybe_zero.contains(&v) && always(at, act.def_block(f, v)) {
                let passes = linear(&inst.kind) || picks(&inst.kind) || formed(&inst.kind);
                reads.push((v, passes.then_some(i)));
            }
        }
    }
    // An arm's value, read by its `Yield`, passes to the `if`'s or `match`'s result there.
    let mut yielded: Vec<(Value, Value)> = Vec::new();
    for b in (0..f.blocks.len()).map(|b| Block(b as u32)) {
        let into = match (&f.block(b).term, owner.get(&b)) {
            (Term::Yield(vals), Some(&i)) => Some((vals, &f.inst(i).results)),
            _ => None,
        };
        for (k, v) in f.term_operands(b).into_iter().enumerate() {
            if maybe_zero.contains(&v) && always(b, act.def_block(f, v)) {
                match into.and_then(|(vals, rs)| (vals.get(k) == Some(&v)).then(|| rs.get(k))) {
                    Some(Some(&r)) if maybe_zero.contains(&r) => yielded.push((v, r)),
                    _ => reads.push((v, None)),
                }
            }
        }
    }
    // The largest set where every unconditional read passes the cotangent of a member on, or
    // is an argument of `max`, `min` or `clamp`, which gives a losing argument exactly 0.
    // A read by an instruction whose result leaves the set stops passing: each value that
    // leaves is followed to the values its result was read from (`by_result`), once, rather
    // than going over every read again until nothing changes, which took a pass per link of
    // a chain (quadratic in a sum of many terms).
    let mut by_result: HashMap<Value, Vec<Value>> = HashMap::new();
    for &(v, r) in &yielded {
        by_result.entry(r).or_default().push(v);
    }
    let mut leaving: Vec<Value> = Vec::new();
    for &(v, reader) in &reads {
        let gives_zero = |i: Inst| picks(&f.inst(i).kind) || saturates(&f.inst(i).kind);
        match reader.map(|i| (gives_zero(i), f.inst(i).results.first())) {
            Some((true, _)) => {}
            Some((false, Some(&r))) if maybe_zero.contains(&r) => {
                by_result.entry(r).or_default().push(v)
            }
            _ => leaving.push(v),
        }
    }
    while let Some(v) = leaving.pop() {
        if maybe_zero.remove(&v) {
            leaving.extend(by_result.get(&v).into_iter().flatten().copied());
        }
    }
    maybe_zero.retain(|&v| {
        matches!(f.value(v).def, ValueDef::Result(i, 0)
            if matches!(f.inst(i).kind, InstKind::Binary(BinOp::Mul | BinOp::Div, ..))
                || formed(&f.inst(i).kind))
    });
    maybe_zero
}

/// Before each write `a[i] = v` of a row of a differentiated nested container, a read of the
/// row it replaces, `a[i]`: the pullback takes the written row's adjoint leaving zeros of the
/// shape of that one (see [`Rev::replaced_row`]), which may have another length. Only its shape
/// is kept (see `plan`), and the read borrows the row (see `codegen::borrowed_rows`).
fn read_replaced_rows(f: &mut Func, act: &mut Activity, tys: &mut Types) {
    let active = |act: &Activity, v: Value| act.active.get(v.index()).copied().unwrap_or(false);
    for b in 0..f.blocks.len() {
        let b = Block(b as u32);
        let mut k = 0;
        while k < f.block(b).insts.len() {
            let i = f.block(b).insts[k];
            let InstKind::IndexSet { base, index, .. } = f.inst(i).kind else {
                k += 1;
                continue;
            };
            // Of rows of a known float type, or still open (`vec![vec![0.0; n]; n]`).
            let row = match (tys.of(base), active(act, f.inst(i).results[0])) {
                (Ty::Rows(t), true) => Ty::Elems(t),
                (Ty::RowsOpen, true) => Ty::ElemsOpen,
                _ => {
                    k += 1;
                    continue;
                }
            };
            let span = f.inst(i).span;
            let read = f.push_inst(b, InstKind::Index(base, index), 1, Kind::Unknown, span);
            f.block_mut(b).insts.pop();
            f.block_mut(b).insts.insert(k, read);
            let old = f.inst(read).results[0];
            tys.set(old, row);
            let n = f.values.len();
            for table in [&mut act.active, &mut act.varied, &mut act.useful] {
                table.resize(n, false);
            }
            act.inst_block.resize(f.insts.len(), Block(0));
            act.inst_block[read.index()] = b;
            k += 2;
        }
    }
}

/// The rows `r = a[i]` of a differentiated nested container (`a: &[Vec<f64>]`, a local
/// `vec![[0.0; 3]; n]`) that are used only as the container of element reads `r[j]`, each with
/// its container and index `(a, i)`. The adjoint of `a[i][j]` goes straight into `ā[i][j]`: no
/// adjoint of the row is made (a zero row and a row-long sum for each element read).
fn indexed_rows(f: &Func, act: &Activity) -> HashMap<Value, (Value, Value)> {
    let active = |v: Value| act.active.get(v.index()).copied().unwrap_or(false);
    let mut rows = HashMap::new();
    let mut other = HashSet::new();
    for (n, inst) in f.insts.iter().enumerate() {
        match &inst.kind {
            InstKind::Index(base, idx) => {
                other.insert(*idx);
                if let ValueDef::Result(d, 0) = f.value(*base).def {
                    if let InstKind::Index(a, i) = f.inst(d).kind {
                        if active(*base) && active(a) {
                            rows.insert(*base, (a, i));
                        }
                    }
                }
            }
            _ => other.extend(f.operands(Inst(n as u32))),
        }
    }
    for b in 0..f.blocks.len() {
        other.extend(f.term_operands(Block(b as u32)));
    }
    rows.retain(|r, _| !other.contains(r));
    rows
}

/// The fields `v = &s.w` of a differentiated struct (a parameter struct's array or rows) that
/// are used only as the container of element reads `v[i]` (also `v[i][j]` of rows), each with
/// its struct and name. The adjoint of `s.w[i]` goes straight into `s̄.w[i]`: no adjoint of the
/// field is made. Else a gather in a loop, `for &i in &l.idx { .. l.w[i] .. }` (message passing
/// over the edges of a graph), made a zero field and a field-long sum for each element read,
/// a gradient quadratic in the sizes.
fn indexed_fields(f: &Func, act: &Activity) -> HashMap<Value, (Value, syn::Ident)> {
    let active = |v: Value| act.active.get(v.index()).copied().unwrap_or(false);
    let mut fields = HashMap::new();
    let mut other = HashSet::new();
    for (n, inst) in f.insts.iter().enumerate() {
        match &inst.kind {
            InstKind::FieldRef(base, name) if active(*base) && active(inst.results[0]) => {
                fields.insert(inst.results[0], (*base, name.clone()));
                other.insert(*base);
            }
            InstKind::Index(_, idx) => {
                other.insert(*idx);
            }
            _ => other.extend(f.operands(Inst(n as u32))),
        }
    }
    for b in 0..f.blocks.len() {
        other.extend(f.term_operands(Block(b as u32)));
    }
    fields.retain(|v, _| !other.contains(v));
    fields
}

/// Per instruction of the primal: whether it has backward work (an active result, an active
/// carried value, or nested instructions that have).
pub fn backward_work(f: &Func, act: &Activity) -> Vec<bool> {
    fn walk(f: &Func, act: &Activity, b: Block, bw: &mut Vec<bool>) -> bool {
        let active = |v: &Value| act.active.get(v.index()).copied().unwrap_or(false);
        let mut any = false;
        for &i in &f.block(b).insts {
            let mut nested = false;
            for nb in f.inst_blocks(i) {
                nested |= walk(f, act, nb, bw);
            }
            let results_active = f.inst(i).results.iter().any(active);
            let carried_active = match &f.inst(i).kind {
                InstKind::Loop { body, .. } => f.block(*body).params.iter().any(active),
                _ => false,
            };
            bw[i.index()] = results_active || carried_active || nested;
            any |= bw[i.index()];
        }
        any | f.term_operands(b).iter().any(active)
    }
    let mut bw = vec![false; f.insts.len()];
    walk(f, act, f.body(), &mut bw);
    bw
}

impl Rev<'_> {
    fn active(&self, v: Value) -> bool {
        self.act.active.get(v.index()).copied().unwrap_or(false)
    }

    fn emit(&mut self, b: Block, kind: InstKind, n: usize, ty: Ty) -> Vec<Value> {
        let i = self.f.push_inst(b, kind, n, Kind::Float, self.span);
        let rs = self.f.inst(i).results.clone();
        for &r in &rs {
            self.tys.set(r, ty);
        }
        rs
    }

    fn emit1(&mut self, b: Block, kind: InstKind, ty: Ty) -> Value {
        self.emit(b, kind, 1, ty)[0]
    }

    fn emit0(&mut self, b: Block, kind: InstKind) {
        self.emit(b, kind, 0, Ty::Unknown);
    }

    fn new_var(&mut self, v: Value) -> Var {
        let name = format!("{}_bar", self.f.value_ident(v));
        self.f.new_var(name)
    }

    /// A zero adjoint for `v`.
    fn zero(&mut self, pb: Block, v: Value) -> Value {
        match self.tys.of(v) {
            Ty::Float(t) => self.emit1(pb, InstKind::Const(quote!(0.0)), Ty::Float(t)),
            t => self.emit1(pb, InstKind::ZeroLike(v), t),
        }
    }

    /// The adjoint of `v` as a value (its last read), if it has one.
    fn get(&mut self, pb: Block, v: Value, adj: &Adj) -> Option<Value> {
        let w = *adj.get(&v)?;
        let t = self.tys.of(v);
        Some(self.emit1(pb, InstKind::VarGet(w), t))
    }

    /// `v̄ += c`, or `let mut v̄ = c` for the first contribution.
    fn contrib(&mut self, pb: Block, v: Value, c: Value, adj: &mut Adj) {
        if !self.active(v) {
            return;
        }
        match adj.get(&v) {
            Some(&w) => self.emit0(pb, InstKind::VarAcc { var: w, value: c }),
            None => {
                let w = self.new_var(v);
                self.emit0(pb, InstKind::VarInit { var: w, value: c });
                adj.insert(v, w);
            }
        }
    }

    /// The adjoint variable of `v`, started at zero if it has none: for contributions to a part
    /// of it (an element, a field).
    fn ensure(&mut self, pb: Block, v: Value, adj: &mut Adj) -> Var {
        if let Some(&w) = adj.get(&v) {
            return w;
        }
        let z = self.zero(pb, v);
        let w = self.new_var(v);
        self.emit0(pb, InstKind::VarInit { var: w, value: z });
        adj.insert(v, w);
        w
    }

    /// Before the pullback of nested blocks: start at zero the adjoints they contribute to that
    /// are defined outside them and have none yet.
    fn predeclare(&mut self, pb: Block, roots: &[Block], adj: &mut Adj) {
        let mut targets = Vec::new();
        for &root in roots {
            for b in self.f.blocks_within(root) {
                let mut ops = self.f.term_operands(b);
                for &i in &self.f.block(b).insts {
                    ops.extend(self.f.operands(i));
                }
                for v in ops {
                    // A row `r = a[i]` read only element by element (see `indexed_rows`):
                    // the adjoint of `r[j]` goes into `ā[i][j]`, so `a`'s adjoint starts
                    // before too (`let r = t[0];` of a parameter, read in a loop); and so does
                    // the struct's, of a field read only by element (see `indexed_fields`:
                    // `let w = &self.w;`, `let a = self.v[0];`). The row's own adjoint is still
                    // started, for a row of it read the same way (`let b = bones[0];` read as
                    // `b[i][j]`, whose adjoint goes into `b̄[i][j]`).
                    let mut vs = vec![v];
                    let outside = |r: &Self, x: Value| !r.act.within(r.act.def_block(r.f, x), root);
                    while let Some(&last) = vs.last() {
                        let up = match (self.rows.get(&last), self.fields.get(&last)) {
                            (Some(&(a, _)), _) | (None, Some(&(a, _))) if outside(self, last) => a,
                            _ => break,
                        };
                        if vs.contains(&up) {
                            break;
                        }
                        vs.push(up);
                    }
                    for v in vs {
                        if !self.active(v) || adj.contains_key(&v) || targets.contains(&v) {
                            continue;
                        }
                        let d = self.act.def_block(self.f, v);
                        if !self.act.within(d, root) {
                            targets.push(v);
                        }
                    }
                }
            }
        }
        targets.sort();
        for v in targets {
            self.ensure(pb, v, adj);
        }
    }

    fn bw_block(&mut self, fb: Block, pb: Block, adj: &mut Adj, exit: &Exit) {
        match (self.f.block(fb).term.clone(), exit) {
            (Term::Return(v), Exit::Return(seed)) => self.contrib(pb, v, *seed, adj),
            (
                Term::Yield(vals)
                | Term::Continue(vals)
                | Term::Break(vals)
                | Term::Next { vals, .. },
                Exit::Incoming(inc),
            ) => {
                for (k, v) in vals.iter().enumerate() {
                    if let Some(Some(g)) = inc.get(k) {
                        self.contrib(pb, *v, *g, adj);
                    }
                }
            }
            _ => {}
        }
        for i in self.f.block(fb).insts.clone().into_iter().rev() {
            self.bw_inst(i, pb, adj);
        }
    }

    /// The backward work of `i`, spanned at `i`: a type error in it is reported where the user
    /// wrote the operation.
    fn bw_inst(&mut self, i: Inst, pb: Block, adj: &mut Adj) {
        if !self.bw.get(i.index()).copied().unwrap_or(false) {
            return;
        }
        let outer = std::mem::replace(&mut self.span, self.f.inst(i).span);
        self.bw_inst_spanned(i, pb, adj);
        self.span = outer;
    }

    fn bw_inst_spanned(&mut self, i: Inst, pb: Block, adj: &mut Adj) {
        let kind = self.f.inst(i).kind.clone();
        let y = self.f.inst(i).results.first().copied();
        match kind {
            InstKind::If { then, els, .. } => return self.bw_branch(i, &[then, els], pb, adj),
            InstKind::Match { arms, .. } => {
                let blocks: Vec<Block> = arms.iter().map(|a| a.block).collect();
                return self.bw_branch(i, &blocks, pb, adj);
            }
            InstKind::Loop { init, body, .. } => return self.bw_loop(i, &init, body, pb, adj),
            InstKind::Mutate { m, base, args, .. } => {
                return self.bw_mutation(i, m, base, &args, pb, adj);
            }
            InstKind::IndexSet { base, index, value } => {
                let Some(&w) = y.and_then(|y| adj.get(&y)) else {
                    return;
                };
                let t = self.elem_ty(y.unwrap_or(base));
                let index = match self.replaced_row(i, base, index) {
                    Some(old) => {
                        let sh = self.emit1(pb, InstKind::Shape(old), Ty::Unknown);
                        self.emit1(
                            pb,
                            InstKind::Helper {
                                name: "at_shape".into(),
                                args: vec![index, sh],
                            },
                            Ty::Unknown,
                        )
                    }
                    None => index,
                };
                let e = self.emit1(pb, InstKind::VarTakeAt { var: w, index }, t);
                self.contrib(pb, value, e, adj);
                if self.active(base) {
                    let t = self.tys.of(base);
                    let g = self.emit1(pb, InstKind::VarGet(w), t);
                    self.contrib(pb, base, g, adj);
                }
                return;
            }
            _ => {}
        }
        let Some(y) = y else { return };
        if !self.active(y) {
            return;
        }
        match &kind {
            InstKind::Call { path, args } => {
                return self.bw_call(i, path.clone(), args.clone(), None, pb, adj);
            }
            // A call of exact mode at kinks (see `crate::kinks`): the tangents are the direction.
            InstKind::CallJvp {
                path,
                args,
                tangents,
                ..
            } => {
                let t = Some(tangents.clone());
                return self.bw_call(i, path.clone(), args.clone(), t, pb, adj);
            }
            _ => {}
        }
        let Some(g) = self.get(pb, y, adj) else {
            return;
        };
        match kind {
            InstKind::Binary(op, a, b) => {
                if let Some(p) = PrimId::binary(op) {
                    self.apply(pb, p, &[a, b], y, g, adj);
                }
            }
            InstKind::Neg(a) => self.apply(pb, PrimId::neg(), &[a], y, g, adj),
            InstKind::Prim { prim, args, .. } => {
                if prim.has(Flags::IDENTITY) {
                    // `a.to_vec()` of an array `a`: the `Vec`'s adjoint as the array's. Of a
                    // value not known to be a slice, array or `Vec` (`m.row(i).to_vec()`, of
                    // an array another rule made), the same conversion, by the receiver's type.
                    let like = self
                        .f
                        .lent_array(args[0])
                        .or_else(|| self.f.ndarray_param(args[0]))
                        .or_else(|| {
                            let known = matches!(
                                self.tys.of(args[0]),
                                Ty::Elems(_) | Ty::ElemsOpen | Ty::Rows(_) | Ty::RowsOpen
                            );
                            // A row of a table (`emit[0].to_vec()` of `emit: &[[f64; 3]]`)
                            // may be a fixed-size array, whose adjoint is one.
                            let row = matches!(self.f.value(args[0]).def,
                                ValueDef::Result(i, 0) if matches!(self.f.inst(i).kind,
                                    InstKind::Index(base, _) if matches!(self.tys.of(base), Ty::Rows(_))));
                            (!known || row).then_some(args[0])
                        });
                    let g = match like {
                        Some(like) if prim.name() == "to_vec" => {
                            self.emit1(pb, InstKind::GradAs { like, g }, Ty::Unknown)
                        }
                        _ => g,
                    };
                    self.contrib(pb, args[0], g, adj);
                } else {
                    self.apply(pb, prim, &args, y, g, adj);
                }
            }
            InstKind::Cast { value, .. } => {
                let t = self.tys.of(value);
                let c = self.emit1(pb, InstKind::CastBack { source: value, g }, t);
                self.contrib(pb, value, c, adj);
            }
            InstKind::Ascribe { value: x, .. }
            | InstKind::TypedLike { value: x, .. }
            | InstKind::Ref(x)
            | InstKind::Deref(x) => self.contrib(pb, x, g, adj),
            InstKind::Index(row, j) if self.rows.contains_key(&row) => {
                // `a[i][j]`: `ā[i][j] += ȳ`, through the index pair `(i, j)`.
                let (a, i) = self.rows[&row];
                let ij = self.emit1(pb, InstKind::Tuple(vec![i, j]), Ty::Unknown);
                self.acc_at(pb, a, ij, g, adj);
            }
            InstKind::Index(base, index) if self.fields.contains_key(&base) => {
                self.acc_at(pb, base, index, g, adj);
            }
            InstKind::Index(base, index) if self.active(base) => {
                let w = self.ensure(pb, base, adj);
                self.emit0(
                    pb,
                    InstKind::VarAccAt {
                        var: w,
                        index,
                        value: g,
                    },
                );
            }
            InstKind::FieldRef(base, name) if self.active(base) => {
                self.acc_field(pb, base, syn::Member::Named(name), g, adj)
            }
            InstKind::Field(t, n) if self.active(t) => {
                let field = syn::Member::Unnamed(syn::Index::from(n as usize));
                self.acc_field(pb, t, field, g, adj)
            }
            InstKind::Tuple(vals) => {
                for (k, &v) in vals.iter().enumerate() {
                    if !self.active(v) {
                        continue;
                    }
                    let t = self.tys.of(v);
                    let part = self.emit1(pb, InstKind::Field(g, k as u32), t);
                    self.contrib(pb, v, part, adj);
                }
            }
            _ => {}
        }
    }

    /// The adjoint of a mutation `v' = m(v, args)` (and its returned element `r`): turns `v̄'`
    /// into `v̄` in place and returns the cotangents of the differentiable arguments.
    fn bw_mutation(
        &mut self,
        i: Inst,
        m: MutId,
        base: Value,
        args: &[Value],
        pb: Block,
        adj: &mut Adj,
    ) {
        let def = m.def();
        let results = self.f.inst(i).results.clone();
        let new = results[0];
        let r = results.get(1).copied();
        let r_bar = r.and_then(|r| self.get(pb, r, adj));
        if !adj.contains_key(&new) && r_bar.is_none() {
            return;
        }
        let w = self.ensure(pb, new, adj);
        let mut hargs = Vec::new();
        if let Some(r) = r {
            hargs.push(match r_bar {
                Some(g) => g,
                // An element `remove` or `swap_remove` returned that nothing read (`k.remove(d);`
                // taking a row out of a `Vec<Vec<f64>>`): a zero shaped like the element, which
                // a row or a struct with a `Vec` field needs.
                None if def.returns == crate::prim::places::Returns::Elem
                    && !matches!(self.tys.of(r), Ty::Float(_)) =>
                {
                    self.zero(pb, r)
                }
                // An element nothing read (perhaps still in its `Option`: `let _ = v.pop();`).
                None if def.returns != crate::prim::places::Returns::Values => {
                    let t = self.elem_ty(base);
                    self.emit1(pb, InstKind::Const(crate::ir::unread_elem()), t)
                }
                None => self.zero(pb, r),
            });
        }
        for (k, &a) in args.iter().enumerate() {
            if !def.diff(k) {
                hargs.push(a);
            }
        }
        if def.old_len {
            hargs.push(self.emit1(pb, InstKind::Shape(base), Ty::Unknown));
        }
        if def.arg_shapes {
            for (k, &a) in args.iter().enumerate() {
                if def.diff(k) {
                    hargs.push(self.emit1(pb, InstKind::Shape(a), Ty::Unknown));
                }
            }
        }
        let n_diff = (0..args.len()).filter(|&k| def.diff(k)).count();
        let elem = self.elem_ty(base);
        let parts = self.emit(
            pb,
            InstKind::VarUpdate {
                var: w,
                m,
                args: hargs,
            },
            n_diff,
            Ty::Unknown,
        );
        let mut parts = parts.into_iter();
        for (k, &a) in args.iter().enumerate() {
            if def.diff(k) {
                let c = parts
                    .next()
                    .expect("one cotangent per differentiable argument");
                let c = match def.args[k] {
                    crate::prim::places::Arg::Elem => {
                        self.tys.set(c, elem);
                        c
                    }
                    // An array lent as the slice (`h.copy_from_slice(&a)`): the adjoint's `Vec`
                    // made the array's gradient, as for a call.
                    _ => self.lent_grad(pb, a, c),
                };
                self.contrib(pb, a, c, adj);
            }
        }
        if self.active(base) {
            let t = self.tys.of(base);
            let g = self.emit1(pb, InstKind::VarGet(w), t);
            self.contrib(pb, base, g, adj);
        }
    }

    /// The gradient `g` a callee or a mutation's adjoint returned for the argument `a`, as `a`'s
    /// own: an active array (or a field, which may be one) lent as a slice gets the `Vec` made
    /// an array of its length.
    fn lent_grad(&mut self, pb: Block, a: Value, g: Value) -> Value {
        match self
            .f
            .lent_array(a)
            .or_else(|| self.f.lent_row(self.tys, a))
            .or_else(|| self.f.lent_field(a))
            .or_else(|| self.f.lent_unseen(a))
        {
            Some(like) if self.active(a) => {
                self.emit1(pb, InstKind::GradAs { like, g }, Ty::Unknown)
            }
            _ => g,
        }
    }

    /// `ā[index] += g`, or `s̄.w[index] += g` where `a` is a field `&s.w` read only by element
    /// (see [`indexed_fields`]).
    fn acc_at(&mut self, pb: Block, a: Value, index: Value, g: Value, adj: &mut Adj) {
        let kind = match self.fields.get(&a).cloned() {
            Some((s, name)) => InstKind::VarAccField {
                var: self.ensure(pb, s, adj),
                field: syn::Member::Named(name),
                index: Some(index),
                value: g,
            },
            None => InstKind::VarAccAt {
                var: self.ensure(pb, a, adj),
                index,
                value: g,
            },
        };
        self.emit0(pb, kind);
    }

    /// `v̄.field += g`.
    fn acc_field(&mut self, pb: Block, v: Value, field: syn::Member, g: Value, adj: &mut Adj) {
        let w = self.ensure(pb, v, adj);
        self.emit0(
            pb,
            InstKind::VarAccField {
                var: w,
                field,
                index: None,
                value: g,
            },
        );
    }

    /// The read of the row that the write `i`, `base[index] = ..`, replaces, which
    /// [`read_replaced_rows`] put right before it.
    fn replaced_row(&self, i: Inst, base: Value, index: Value) -> Option<Value> {
        let b = self.act.inst_block.get(i.index()).copied()?;
        let insts = &self.f.block(b).insts;
        let k = insts.iter().position(|&x| x == i)?;
        let prev = *insts.get(k.checked_sub(1)?)?;
        match self.f.inst(prev).kind {
            InstKind::Index(a, j) if a == base && j == index => Some(self.f.inst(prev).results[0]),
            _ => None,
        }
    }

    fn elem_ty(&self, v: Value) -> Ty {
        match self.tys.of(v) {
            Ty::Elems(t) => Ty::Float(t),
            _ => Ty::Unknown,
        }
    }

    /// The contributions of primitive `p` with operands `ops` and result `y` to the operands'
    /// adjoints, for the cotangent `g`.
    fn apply(&mut self, pb: Block, p: PrimId, ops: &[Value], y: Value, g: Value, adj: &mut Adj) {
        let mut all = ops.to_vec();
        all.push(y);
        let plain = if p.has_forms() {
            let read: Vec<Value> = all
                .iter()
                .enumerate()
                .filter(|&(k, _)| k == ops.len() || p.differentiable(k))
                .map(|(_, &v)| v)
                .collect();
            self.tys.common_float(&read)
        } else {
            None
        };
        let guard = self.in_branches.contains(&y);
        // A square: one contribution `g * (x + x)` (see `forms::squared`).
        if let (Some(t), Some(x)) = (plain, forms::squared(p, ops))
            && self.active(x)
            && !guard
        {
            let c = forms::doubled(x, g, t, &mut |kind, ty| self.emit1(pb, kind, ty));
            self.contrib(pb, x, c, adj);
            return;
        }
        for (k, &x) in ops.iter().enumerate() {
            if !p.differentiable(k) || !self.active(x) {
                continue;
            }
            // A product's partial in an operand is the other operand: a constant one (`-2.0 *
            // x`) is finite, and needs no test.
            let partner_const = PrimId::binary(BinOp::Mul) == Some(p)
                && ops.len() == 2
                && forms::is_constant(self.f, ops[1 - k]);
            let c = match plain {
                Some(t) => {
                    let guard = guard && !partner_const;
                    let Some((form, env)) = forms::bound(p, k, ops, y, g, guard, None) else {
                        continue;
                    };
                    self.instantiate(pb, &form, &env, t)
                }
                None => self.rule(pb, p, k, &all, g),
            };
            self.contrib(pb, x, c, adj);
        }
    }

    /// A runtime rule call for operand `k`.
    fn rule(&mut self, pb: Block, p: PrimId, k: usize, all: &[Value], g: Value) -> Value {
        let mut args = Vec::new();
        for a in p.reads(k) {
            args.push(match a {
                Arg::Value(j) => RuleArg::Value(self.strip_ref(all[j])),
                Arg::Shape(j) => {
                    let v = self.strip_ref(all[j]);
                    RuleArg::Shape(self.emit1(pb, InstKind::Shape(v), Ty::Unknown))
                }
                Arg::Witness => RuleArg::Witness,
            });
        }
        let t = self.tys.of(all[k]);
        let t = if t.is_plain() { t } else { Ty::Unknown };
        self.emit1(
            pb,
            InstKind::Rule {
                prim: p,
                operand: k,
                args,
                g,
            },
            t,
        )
    }

    /// Reads through `&x`: rules take the value itself.
    fn strip_ref(&self, v: Value) -> Value {
        self.f.strip_ref(v)
    }

    /// Writes out a form as IR on plain floats of type `t`.
    fn instantiate(
        &mut self,
        pb: Block,
        e: &syn::Expr,
        env: &[(&str, Value)],
        t: FloatTy,
    ) -> Value {
        forms::instantiate(e, env, t, &mut |kind, ty| self.emit1(pb, kind, ty))
    }

    /// A call `g(args)`, or with `tangents` a call of exact mode at kinks, which goes through
    /// `g_vjp_along(args, tangents)` (its results the value, its tangent, then the pullback and
    /// the markers) where a plain one goes through `g_vjp`.
    fn bw_call(
        &mut self,
        i: Inst,
        path: syn::Path,
        args: Vec<Value>,
        tangents: Option<Vec<Option<Value>>>,
        pb: Block,
        adj: &mut Adj,
    ) {
        let y = self.f.inst(i).results[0];
        let span = self.f.inst(i).span;
        let (kind, first) = match tangents {
            Some(tangents) => (
                InstKind::CallAlong {
                    path,
                    args: args.clone(),
                    tangents,
                },
                2,
            ),
            None => (
                InstKind::CallVjp {
                    path,
                    args: args.clone(),
                },
                1,
            ),
        };
        let (pbv, sel, g) = if self.joint.contains(&i) {
            // The forward pass calls plain `g`; the pullback calls `g_vjp` again.
            let Some(g) = self.get(pb, y, adj) else {
                return;
            };
            let rs = self.emit(pb, kind, first + 2, Ty::Unknown);
            if let Some(&last) = self.f.block(pb).insts.last() {
                self.f.insts[last.index()].span = span;
            }
            (rs[first], rs[first + 1], g)
        } else {
            // The forward pass calls `g_vjp` and keeps its pullback and the argument markers.
            self.f.insts[i.index()].kind = kind;
            for name in ["pb", "sel"] {
                let v = self.f.new_value(
                    Some(format!("__ad_{name}_{}", i.0)),
                    ValueDef::Result(i, self.f.inst(i).results.len()),
                    Kind::Unknown,
                );
                self.tys.set(v, Ty::Unknown);
                self.f.insts[i.index()].results.push(v);
            }
            let Some(g) = self.get(pb, y, adj) else {
                return;
            };
            let rs = &self.f.inst(i).results;
            (rs[first], rs[first + 1], g)
        };
        let parts = self.emit(
            pb,
            InstKind::CallPullback { pb: pbv, sel, g },
            args.len(),
            Ty::Unknown,
        );
        // Spanned at the call: a gradient that does not fit is reported there.
        if let Some(&last) = self.f.block(pb).insts.last() {
            self.f.insts[last.index()].span = span;
        }
        for (k, &a) in args.iter().enumerate() {
            let part = self.lent_grad(pb, a, parts[k]);
            self.contrib(pb, a, part, adj);
        }
    }

    fn bw_branch(&mut self, i: Inst, arms: &[Block], pb: Block, adj: &mut Adj) {
        self.predeclare(pb, arms, adj);
        let results = self.f.inst(i).results.clone();
        let incoming: Vec<Option<Value>> = results.iter().map(|&r| self.get(pb, r, adj)).collect();
        // The record the forward pass keeps for this branch: a new result of it.
        let rec = self.f.new_value(
            Some(format!("__ad_rec_{}", i.0)),
            ValueDef::Result(i, results.len()),
            Kind::Unknown,
        );
        self.tys.set(rec, Ty::Unknown);
        self.f.insts[i.index()].results.push(rec);
        let mut pb_arms = Vec::new();
        for &arm in arms {
            let pa = self.f.new_block();
            self.corr.push((pa, arm));
            let mut inner = adj.clone();
            self.bw_block(arm, pa, &mut inner, &Exit::Incoming(incoming.clone()));
            self.f.block_mut(pa).term = Term::Yield(Vec::new());
            pb_arms.push(pa);
        }
        self.emit0(
            pb,
            InstKind::MatchRecord {
                of: i,
                scrutinee: rec,
                arms: pb_arms,
            },
        );
    }

    fn bw_loop(&mut self, i: Inst, init: &[Value], body: Block, pb: Block, adj: &mut Adj) {
        if self.fuse {
            if let Some(acc) = fuse::accumulator(self.f, self.act, self.tys, i) {
                return self.bw_in_place(i, acc, init, body, pb, adj);
            }
        }
        let (kind, snapshots) = match &self.f.inst(i).kind {
            InstKind::Loop {
                kind, checkpoint, ..
            } => (kind.clone(), *checkpoint),
            _ => unreachable!(),
        };
        // A checkpointed loop runs a plain copy of its body, taken before reversing the body
        // changes it (calls through `_vjp`, branches that return records).
        let plain = snapshots.map(|s| {
            let mut cx = checkpoint::Cx {
                f: self.f,
                act: self.act,
                tys: self.tys,
            };
            (cx.plain_copy(body), s)
        });
        self.predeclare(pb, &[body], adj);
        let results = self.f.inst(i).results.clone();
        let params = self.f.block(body).params.clone();
        let carried = params[params.len() - init.len()..].to_vec();
        let mut inner = adj.clone();
        let mut vars = Vec::new();
        for (k, &p) in carried.iter().enumerate() {
            if !self.active(p) {
                vars.push(None);
                continue;
            }
            let start = match self.get(pb, results[k], adj) {
                Some(g) => g,
                None => self.zero(pb, results[k]),
            };
            let name = format!("__ad_c{}_{k}", i.0);
            let w = self.f.new_var(name);
            self.emit0(
                pb,
                InstKind::VarInit {
                    var: w,
                    value: start,
                },
            );
            inner.insert(p, w);
            vars.push(Some(w));
        }
        let whole_range = matches!(kind, LoopKind::Range { .. })
            && !matches!(self.f.block(body).term, Term::Break(_) | Term::Next { .. });
        let pbb = self.f.new_block();
        self.corr.push((pbb, body));
        let loop_kind = match kind {
            // The checkpointer finds the iterations itself.
            _ if plain.is_some() => None,
            LoopKind::Range {
                start,
                end,
                inclusive,
                rev,
            } if whole_range => {
                // Walk the same range backwards: every index is known again.
                let idx = self.f.add_block_param(
                    pbb,
                    self.f.value(params[0]).name.clone(),
                    Kind::Discrete,
                );
                self.tys.set(idx, Ty::Unknown);
                self.index_params.push((idx, params[0]));
                Some(LoopKind::Range {
                    start,
                    end,
                    inclusive,
                    rev: !rev,
                })
            }
            _ => {
                // Count the iterations in the forward pass.
                let n = self.count_iterations(i, body);
                let zero = self.emit1(pb, InstKind::Const(quote!(0usize)), Ty::Unknown);
                let idx = self.f.add_block_param(pbb, None, Kind::Discrete);
                self.tys.set(idx, Ty::Unknown);
                Some(LoopKind::Range {
                    start: zero,
                    end: n,
                    inclusive: false,
                    rev: false,
                })
            }
        };
        // A carried container that the body mutates may change length from one iteration to
        // the next: its adjoint is taken leaving zeros of this iteration's length. (Which
        // carried value a mutation changes is not followed here: the others take zeros of
        // their own shape, which is the same every iteration.) So may a carried `Vec` of
        // floats the body replaces (`best = y.to_vec()`, the best row of a `max_by` over rows
        // of different lengths): zeros of its length at the iteration's start, a `usize` kept
        // per iteration. So may a buffer a helper wrote (its by-value copy may push to it:
        // `fill(x, &mut v)` is `v = __ad_mut_fill(x, v)`), where an iteration passes that on.
        let mutates = self.f.blocks_within(body).iter().any(|&b| {
            self.f
                .block(b)
                .insts
                .iter()
                .any(|&i| matches!(self.f.inst(i).kind, InstKind::Mutate { .. }))
        });
        let mut incoming = Vec::new();
        for (k, w) in vars.iter().enumerate() {
            incoming.push(w.map(|w| {
                let t = self.tys.of(carried[k]);
                if mutates && !t.is_plain()
                    || matches!(t, Ty::Elems(_)) && !keeps_length(self.f, i, k)
                    || !t.is_plain() && array_carried(self.f, i, k) && !keeps_length(self.f, i, k)
                    || !t.is_plain() && written_by_helper(self.f, i, k)
                    || !t.is_plain()
                        && literal_with_containers_carried(self.f, self.tys, i, k)
                        && !keeps_length(self.f, i, k)
                {
                    let sh = self.emit1(pbb, InstKind::Shape(carried[k]), Ty::Unknown);
                    self.emit1(pbb, InstKind::VarTakeTo { var: w, shape: sh }, t)
                } else {
                    self.emit1(pbb, InstKind::VarTake(w), t)
                }
            }));
        }
        self.bw_block(body, pbb, &mut inner, &Exit::Incoming(incoming));
        match (plain, loop_kind) {
            (None, Some(kind)) => {
                self.f.block_mut(pbb).term = Term::Continue(Vec::new());
                self.emit0(
                    pb,
                    InstKind::Loop {
                        kind,
                        init: Vec::new(),
                        body: pbb,
                        checkpoint: None,
                    },
                );
            }
            (Some((plain, snapshots)), _) => {
                let outer = self.act.inst_block[i.index()];
                let mut cx = checkpoint::Cx {
                    f: self.f,
                    act: self.act,
                    tys: self.tys,
                };
                cx.sweep(i, outer, plain, snapshots, pb, pbb);
            }
            _ => unreachable!("a loop is reversed by a loop or a sweep"),
        }
        for (k, w) in vars.into_iter().enumerate() {
            if let Some(w) = w {
                let t = self.tys.of(carried[k]);
                let g = self.emit1(pb, InstKind::VarGet(w), t);
                self.contrib(pb, init[k], g, adj);
            }
        }
    }

    /// Reduction loop `i`, accumulating in carried value `k` of float type `t` (if the macro knows it): the body's pullback runs at the
    /// end of each iteration, with the accumulator's adjoint at one, into variables that start
    /// at zero before the loop; the pullback scales them by the accumulator's adjoint (see
    /// [`crate::fuse`]).
    fn bw_in_place(
        &mut self,
        i: Inst,
        (k, t): (usize, Option<FloatTy>),
        init: &[Value],
        body: Block,
        pb: Block,
        adj: &mut Adj,
    ) {
        let outer = self.act.inst_block[i.index()];
        let first_new = self.f.block(outer).insts.len();
        // What the body reads from outside: its adjoint starts at zero before the loop.
        let mut inner = Adj::new();
        self.predeclare(outer, &[body], &mut inner);
        let mut targets: Vec<(Value, Var)> = inner.iter().map(|(&v, &w)| (v, w)).collect();
        targets.sort();
        let mut gets = Vec::new();
        for &(_, w) in &targets {
            let t = Ty::Unknown;
            gets.push(self.emit1(outer, InstKind::VarGet(w), t));
        }
        for (&(v, _), &g) in targets.iter().zip(&gets) {
            let t = self.tys.of(v);
            self.tys.set(g, t);
        }
        // Place them: the zeros before the loop, the sums after it.
        let insts = &mut self.f.blocks[outer.index()].insts;
        let added: Vec<Inst> = insts.split_off(first_new);
        let (zeros, sums) = added.split_at(added.len() - gets.len());
        let pos = insts
            .iter()
            .position(|&x| x == i)
            .expect("the loop is in its block");
        insts.splice(pos + 1..pos + 1, sums.iter().copied());
        insts.splice(pos..pos, zeros.iter().copied());
        self.act.inst_block.resize(self.f.insts.len(), outer);
        for &x in &added {
            self.act.inst_block[x.index()] = outer;
        }
        // The body's pullback, at the end of the body.
        let pbb = self.f.new_block();
        self.corr.push((pbb, body));
        let one = match t {
            Some(t) => self.emit1(pbb, InstKind::Const(quote!(1.0)), Ty::Float(t)),
            // One of the accumulator's type, which rustc knows.
            None => {
                let acc =
                    self.f.block(body).params[self.f.block(body).params.len() - init.len() + k];
                let like = InstKind::Helper {
                    name: "one_like".into(),
                    args: vec![acc],
                };
                self.emit1(pbb, like, Ty::Unknown)
            }
        };
        let mut incoming = vec![None; init.len()];
        incoming[k] = Some(one);
        self.bw_block(body, pbb, &mut inner, &Exit::Incoming(incoming));
        self.f.block_mut(pbb).term = Term::Yield(Vec::new());
        let at = self.f.push_inst(
            body,
            InstKind::InlinePullback { body: pbb },
            0,
            Kind::Unknown,
            Span::call_site(),
        );
        self.act.inst_block.resize(self.f.insts.len(), body);
        self.act.inst_block[at.index()] = body;
        // The pullback of the loop: the accumulator's adjoint passes through, and scales what
        // the iterations summed.
        let result = self.f.inst(i).results[k];
        let Some(g) = self.get(pb, result, adj) else {
            return;
        };
        self.contrib(pb, init[k], g, adj);
        for ((v, _), sum) in targets.into_iter().zip(gets) {
            let t = self.tys.of(v);
            let c = self.emit1(
                pb,
                InstKind::Helper {
                    name: "scaled".into(),
                    args: vec![sum, g],
                },
                t,
            );
            self.contrib(pb, v, c, adj);
        }
    }

    /// Adds an iteration counter to forward loop `i`: zero before it, one more at the end of
    /// each iteration; returns the count after the loop (a value of the enclosing block).
    fn count_iterations(&mut self, i: Inst, body: Block) -> Value {
        let outer = self.act.inst_block[i.index()];
        let w = self.f.new_var(format!("__ad_n{}", i.0));
        let zero = self.f.push_inst(
            outer,
            InstKind::Const(quote!(0usize)),
            1,
            Kind::Discrete,
            Span::call_site(),
        );
        let init = self.f.push_inst(
            outer,
            InstKind::VarInit {
                var: w,
                value: self.f.inst(zero).results[0],
            },
            0,
            Kind::Discrete,
            Span::call_site(),
        );
        let get = self.f.push_inst(
            outer,
            InstKind::VarGet(w),
            1,
            Kind::Discrete,
            Span::call_site(),
        );
        // Place them: the constant and the start before the loop, the read after it.
        let insts = &mut self.f.blocks[outer.index()].insts;
        insts.truncate(insts.len() - 3);
        let pos = insts
            .iter()
            .position(|&x| x == i)
            .expect("the loop is in its block");
        insts.insert(pos + 1, get);
        insts.insert(pos, init);
        insts.insert(pos, zero);
        self.f.push_inst(
            body,
            InstKind::Count(w),
            0,
            Kind::Discrete,
            Span::call_site(),
        );
        let n = self.f.inst(get).results[0];
        self.f.values[n.index()].name = Some(format!("__ad_n{}", i.0));
        self.tys.set(n, Ty::Unknown);
        self.tys.set(self.f.inst(zero).results[0], Ty::Unknown);
        n
    }
}

/// Whether the `k`th value loop `i` carries has, at the end of every iteration, the length it
/// had at its start: what each exit passes on for it is the carried value itself, or made from
/// it by element writes, through branches and inner loops that do the same. Unknown
/// (`false`) for anything else, such as a new `Vec` put in its place (`best = y.to_vec()`).
fn keeps_length(f: &Func, i: Inst, k: usize) -> bool {
    let InstKind::Loop { init, body, .. } = &f.inst(i).kind else {
        return false;
    };
    let params = &f.block(*body).params;
    let target = params[params.len() - init.len() + k];
    let mut seen = HashSet::new();
    crate::activity::exits_of(f, i).iter().all(|t| match t {
        Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => vals
            .get(k)
            .is_none_or(|&v| same_length(f, v, target, &mut seen)),
        _ => true,
    })
}

/// Whether loop `i`'s `k`-th carried value is an ndarray array, as far as the macro sees: what
/// it starts as or an exit passes on is a parameter of an ndarray type, a copy, view or
/// reference of one, or made by a constructor of `Array`, `Array1`, …. Replaced by an array of
/// another shape (`h = Array1::zeros(2 * h.len())` filled from `h`, a pairwise reduction
/// `h = &a * &b` of its halves), its adjoint must start each backward iteration as zeros of the
/// shape the iteration started with, not of the one it ended with: with the latter the gradient
/// came out with the wrong length, or the pullback panicked on a shape mismatch.
fn array_carried(f: &Func, i: Inst, k: usize) -> bool {
    fn array_like(f: &Func, v: Value, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        match f.value(v).def {
            ValueDef::Param(n) => crate::types::is_ndarray(&f.params[n].ty),
            ValueDef::Result(d, 0) => match &f.inst(d).kind {
                InstKind::Ref(u) | InstKind::Deref(u) => array_like(f, *u, depth + 1),
                InstKind::Ascribe { ty, .. } => crate::types::is_ndarray(ty),
                InstKind::Prim { prim, args, .. }
                    if matches!(prim.name(), "clone" | "to_owned" | "view") =>
                {
                    args.first().is_some_and(|&a| array_like(f, a, depth + 1))
                }
                // `w.dot(&h)`, `h.slice(s![..n])`, `h.sum_axis(Axis(0))`: ndarray methods,
                // whatever the receiver is seen as (a helper's result, undeclared).
                InstKind::Prim { prim, .. } => {
                    matches!(prim.def().rule, "TensorRules" | "DotRules")
                }
                // `&a * &b`, `&h + 1.0` of an array.
                InstKind::Binary(_, a, b) => {
                    array_like(f, *a, depth + 1) || array_like(f, *b, depth + 1)
                }
                // `Array1::zeros(n)`, `Array2::from_shape_fn(..)`.
                InstKind::Call { path, .. } => {
                    path.segments.len() >= 2
                        && crate::types::is_ndarray_name(
                            &path.segments[path.segments.len() - 2].ident.to_string(),
                        )
                }
                _ => false,
            },
            _ => false,
        }
    }
    let InstKind::Loop { init, .. } = &f.inst(i).kind else {
        return false;
    };
    init.get(k).is_some_and(|&v| array_like(f, v, 0))
        || crate::activity::exits_of(f, i).iter().any(|t| match t {
            Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => {
                vals.get(k).is_some_and(|&v| array_like(f, v, 0))
            }
            _ => false,
        })
}

/// Whether an exit of loop `i` passes on for its `k`-th carried value a struct built by a
/// literal given a `Vec` of floats or of rows (`s = State { h: next, t: s.t + 1.0 }`): the
/// `Vec` may have another length than the one the iteration started with, so the struct's
/// adjoint must start each backward iteration as zeros of the struct the iteration started
/// with (the field's adjoint had the last length: a length-mismatch panic in the pullback). A
/// literal of other values (an ODE's state of floats) keeps what it carries, as it did, without
/// a zero struct made per iteration.
fn literal_with_containers_carried(f: &Func, tys: &Types, i: Inst, k: usize) -> bool {
    let InstKind::Loop { .. } = &f.inst(i).kind else {
        return false;
    };
    crate::activity::exits_of(f, i).iter().any(|t| match t {
        Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => {
            vals.get(k).is_some_and(|&v| match f.value(v).def {
                ValueDef::Result(d, 0) => match &f.inst(d).kind {
                    InstKind::Call { path, args } => {
                        path.segments
                            .last()
                            .is_some_and(|s| s.ident == "__ad_literal")
                            && args.iter().any(|&a| {
                                matches!(
                                    tys.of(a),
                                    Ty::Elems(_) | Ty::ElemsOpen | Ty::Rows(_) | Ty::RowsOpen
                                )
                            })
                    }
                    _ => false,
                },
                _ => false,
            })
        }
        _ => false,
    })
}

/// Whether an exit of loop `i` passes on for its `k`-th carried value the new version a helper
/// writing into a buffer gave back (`v = __ad_mut_fill(x, v)`, see `crate::mut_self`), directly,
/// as a field of its result (for several buffers) or as an arm's result.
fn written_by_helper(f: &Func, i: Inst, k: usize) -> bool {
    fn from_copy(f: &Func, v: Value, depth: usize) -> bool {
        let ValueDef::Result(d, n) = f.value(v).def else {
            return false;
        };
        match &f.inst(d).kind {
            kind if kind.mut_copy_args().is_some() => true,
            InstKind::Field(base, _) => depth < 8 && from_copy(f, *base, depth + 1),
            InstKind::If { .. } | InstKind::Match { .. } if depth < 8 => {
                crate::activity::exits_of(f, d).iter().any(|t| match t {
                    Term::Yield(vals) => vals.get(n).is_some_and(|&u| from_copy(f, u, depth + 1)),
                    _ => false,
                })
            }
            _ => false,
        }
    }
    crate::activity::exits_of(f, i).iter().any(|t| match t {
        Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => {
            vals.get(k).is_some_and(|&v| from_copy(f, v, 0))
        }
        _ => false,
    })
}

/// Whether `v` is `target` or made from it without changing its length (see [`keeps_length`]).
fn same_length(f: &Func, v: Value, target: Value, seen: &mut HashSet<Value>) -> bool {
    if v == target || !seen.insert(v) {
        // A value met again is on a cycle through a loop, decided where it was met first.
        return true;
    }
    match f.value(v).def {
        ValueDef::Result(d, n) => match &f.inst(d).kind {
            InstKind::IndexSet { base, .. } => same_length(f, *base, target, seen),
            InstKind::If { .. } | InstKind::Match { .. } => {
                crate::activity::exits_of(f, d).iter().all(|t| match t {
                    Term::Yield(vals) => vals
                        .get(n)
                        .is_some_and(|&u| same_length(f, u, target, seen)),
                    _ => true,
                })
            }
            InstKind::Loop { init, body, .. } => {
                let params = &f.block(*body).params;
                let p = params[params.len() - init.len() + n];
                same_length(f, init[n], target, seen) && same_length(f, p, target, seen)
            }
            _ => false,
        },
        // The value an inner loop carries: what it starts as and what each iteration passes on.
        ValueDef::BlockParam(b, idx) => {
            let Some(lp) = f
                .insts
                .iter()
                .position(|inst| matches!(&inst.kind, InstKind::Loop { body, .. } if *body == b))
            else {
                return false;
            };
            let lp = Inst(lp as u32);
            let InstKind::Loop { init, .. } = &f.inst(lp).kind else {
                return false;
            };
            let first = f.block(b).params.len() - init.len();
            if idx < first {
                return false;
            }
            let j = idx - first;
            same_length(f, init[j], target, seen)
                && crate::activity::exits_of(f, lp).iter().all(|t| match t {
                    Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => {
                        vals.get(j).is_none_or(|&u| same_length(f, u, target, seen))
                    }
                    _ => true,
                })
        }
        _ => false,
    }
}
