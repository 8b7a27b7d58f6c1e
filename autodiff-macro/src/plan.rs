//! The save plan: how the pullback gets each primal value it reads, decided before any code
//! exists, and then made explicit in the IR.
//!
//! [`crate::reverse`] leaves the pullback reading primal values directly. For each such value
//! this pass chooses:
//!
//! - **capture**: a value of the function's top level (or a parameter) is moved into the
//!   pullback closure — it exists once per call;
//! - **recompute**: a cheap, pure value (a constant, a loop index, a reference, a view, an
//!   element of a parameter, inside loops a sum or difference of such values) is computed again
//!   where the pullback needs it, from values that are themselves captured, kept or recomputed;
//! - **keep**: anything else defined inside an `if`/`match` arm goes into that arm's variant of
//!   the branch's record, and inside a loop body into the iteration's record on the loop's
//!   stack;
//! - **shape only**: where the pullback reads only a value's shape (a broadcast reduction, a zero
//!   adjoint) and needs nothing else of it, the forward pass takes the shape right after the
//!   value and that shape is what is kept.
//!
//! Then the plan is applied: records are built at the end of each arm (`record`) and loop
//! iteration (`push`); the pullback's arms receive them as block parameters, its loop iterations
//! pop them; recomputations are inserted at the start of each pullback block; every read is
//! rewritten to the pullback's own copy.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;

use crate::activity::Activity;
use crate::ir::*;
use crate::prim::Flags;
use crate::reverse::Reversed;
use crate::scalars::{Ty, Types};

/// What the code generator needs to know of the plan, and what `dump` prints of it.
#[derive(Default)]
pub struct Plan {
    /// Forward values that are kept (captured, in a record, on a stack): where the forward pass
    /// would move one of them, it moves a copy instead.
    pub kept: HashSet<Value>,
    /// How the pullback gets each primal value it reads, in the order they were decided.
    pub decisions: Vec<(Value, Saved)>,
    /// Arrays of floats on a loop's stack that the pullback only reads elements of (see
    /// [`Planner::keeps_array_for_reads`]): the stack holds where their elements were copied
    /// into a buffer of their own, which grows once for all iterations, instead of a copy of
    /// each (an allocation per iteration).
    pub flat: HashSet<Value>,
    /// The pullback's pops of those arrays: pop result → the forward value.
    pub flat_pops: HashMap<Value, Value>,
}

/// How the pullback gets one primal value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Saved {
    /// Moved into the pullback closure (a value of the top level, or a parameter).
    Captured,
    /// Computed again in the pullback from values it has.
    Recomputed,
    /// In the record of the `if`/`match` whose arm defines it.
    InRecord(Inst),
    /// On the stack of the loop whose body defines it, one entry per iteration.
    OnStack(Inst),
    /// Only its shape is read: this value holds the shape, taken in the forward pass.
    ShapeOnly(Value),
    /// Only a zero of it is read: this value holds one, made in the forward pass.
    ZeroOnly(Value),
    /// Only its type is read (a gradient converted by it): this value, of no size, witnesses
    /// the type, taken in the forward pass.
    TypeOnly(Value),
}

impl Plan {
    /// The decisions as text, one value per line, for `dump`.
    pub fn to_text(&self, f: &Func) -> String {
        let mut out = String::new();
        for &(v, s) in &self.decisions {
            let how = match s {
                Saved::Captured => "captured".to_string(),
                Saved::Recomputed => "recomputed".to_string(),
                Saved::InRecord(i) => format!("in the record of the branch i{}", i.0),
                Saved::OnStack(i) if self.flat.contains(&v) => {
                    format!("its elements, on the stack of the loop i{}", i.0)
                }
                Saved::OnStack(i) => format!("on the stack of the loop i{}", i.0),
                Saved::ShapeOnly(sh) => format!("shape only, as {sh}"),
                Saved::ZeroOnly(z) => format!("zero only, as {z}"),
                Saved::TypeOnly(w) => format!("type only, as {w}"),
            };
            let name = f
                .value(v)
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            out.push_str(&format!("  {v}{name}: {how}\n"));
        }
        out
    }
}

impl Plan {
    /// What `f` keeps after later transformations changed it (forward mode over reverse
    /// mode keeps tangents beside values): every forward value the pullback reads, and every
    /// value a record or a stack holds.
    pub fn kept_in(f: &Func) -> Plan {
        let tree = Tree::build(f);
        let mut kept = HashSet::new();
        for (n, inst) in f.insts.iter().enumerate() {
            let in_pb = tree.in_pullback[tree.inst_block[n].index()];
            match &inst.kind {
                InstKind::MakeRecord { values, .. } | InstKind::Push { values, .. } => {
                    kept.extend(values.iter().copied());
                }
                _ if in_pb => {
                    for v in f.operands(Inst(n as u32)) {
                        if tree.is_forward(f, v) {
                            kept.insert(v);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(pb) = f.pullback {
            for b in f.blocks_within(pb) {
                for v in f.term_operands(b) {
                    if tree.is_forward(f, v) {
                        kept.insert(v);
                    }
                }
            }
        }
        Plan {
            kept,
            decisions: Vec::new(),
            ..Plan::default()
        }
    }
}

/// Which tree a block is in, its parent, and where values and instructions live.
///
/// Besides the function's body, the record body of a checkpointed loop's sweep (see
/// [`crate::checkpoint`]) is the root of a forward pass: it sits in the pullback, runs right
/// before the iteration's pullback, and what that pullback reads of it is planned like any read
/// of the forward pass — except that the record body's own values are read directly.
struct Tree {
    parent: Vec<Option<Block>>,
    in_pullback: Vec<bool>,
    inst_block: Vec<Block>,
    /// The instruction owning each nested block.
    owner: Vec<Option<Inst>>,
    /// The root of each block's tree: the body, the pullback, a record body, or the in-place
    /// pullback of a reduction loop's iteration.
    root: Vec<Block>,
    /// Bodies of reduction loops whose iteration's pullback runs in place, at their end (see
    /// [`crate::fuse`]): that pullback reads their values directly.
    in_place: Vec<bool>,
}

impl Tree {
    fn build(f: &Func) -> Tree {
        let mut t = Tree {
            parent: vec![None; f.blocks.len()],
            in_pullback: vec![false; f.blocks.len()],
            inst_block: vec![Block(0); f.insts.len()],
            owner: vec![None; f.blocks.len()],
            root: vec![Block(0); f.blocks.len()],
            in_place: vec![false; f.blocks.len()],
        };
        fn walk(f: &Func, t: &mut Tree, b: Block, pb: bool, root: Block) {
            t.in_pullback[b.index()] = pb;
            t.root[b.index()] = root;
            for &i in &f.block(b).insts {
                t.inst_block[i.index()] = b;
                let record = match f.inst(i).kind {
                    InstKind::CkptSweep { record, .. } => Some(record),
                    _ => None,
                };
                let in_place = match f.inst(i).kind {
                    InstKind::InlinePullback { body } => Some(body),
                    _ => None,
                };
                for nb in f.inst_blocks(i) {
                    t.parent[nb.index()] = Some(b);
                    t.owner[nb.index()] = Some(i);
                    if Some(nb) == record {
                        walk(f, t, nb, false, nb);
                    } else if Some(nb) == in_place {
                        t.in_place[b.index()] = true;
                        walk(f, t, nb, true, nb);
                    } else {
                        walk(f, t, nb, pb, root);
                    }
                }
            }
            for nb in f.term_blocks(b) {
                t.parent[nb.index()] = Some(b);
                walk(f, t, nb, pb, root);
            }
        }
        walk(f, &mut t, f.body(), false, f.body());
        if let Some(p) = f.pullback {
            walk(f, &mut t, p, true, p);
        }
        t
    }

    /// Whether a read in block `reader` of value `v` crosses from one tree into a forward one:
    /// what the plan decides for.
    fn crosses(&self, f: &Func, reader: Block, v: Value) -> bool {
        let d = self.def_block(f, v);
        !self.in_pullback[d.index()] && self.root[d.index()] != self.root[reader.index()]
    }

    /// Whether `v` is defined at the top of a checkpointed loop's record body: the iteration's
    /// pullback, which runs right after it, reads it directly.
    fn in_record_top(&self, f: &Func, v: Value) -> bool {
        let d = self.def_block(f, v);
        !self.in_pullback[d.index()] && self.root[d.index()] == d && d != f.body()
    }

    /// Whether `v` is defined at the top of a reduction loop's body whose iteration's pullback
    /// runs in place: that pullback reads it directly.
    fn in_place_top(&self, f: &Func, v: Value) -> bool {
        self.in_place[self.def_block(f, v).index()]
    }

    fn def_block(&self, f: &Func, v: Value) -> Block {
        match f.value(v).def {
            ValueDef::Param(_) | ValueDef::Tangent(_) => f.body(),
            ValueDef::BlockParam(b, _) => b,
            ValueDef::Result(i, _) => self.inst_block[i.index()],
        }
    }

    fn is_forward(&self, f: &Func, v: Value) -> bool {
        !self.in_pullback[self.def_block(f, v).index()]
    }
}

struct Planner<'a> {
    f: &'a mut Func,
    act: &'a Activity,
    tys: &'a mut Types,
    tree: Tree,
    /// Pullback block → the forward block it is the pullback of.
    fw_of: HashMap<Block, Block>,
    /// Whole-range loop indices: forward index parameter → the reversed loop's.
    index_of: HashMap<Value, Value>,
    cheap_memo: HashMap<Value, bool>,
    /// Top-level values that an element write consumes (they cannot be captured as they are).
    consumed: HashSet<Value>,
    /// Tuples whose fields are read (`let (h, s) = f(x);`): each read moves the field out, so a
    /// zero of the tuple's shape is made from a shape taken before, not from the tuple.
    fields_moved: HashSet<Value>,
}

pub fn plan(f: &mut Func, act: &Activity, tys: &mut Types, rev: &Reversed) -> Plan {
    let tree = Tree::build(f);
    // Versions of places that a later write consumes or that a method changes in place, and
    // versions of `&mut` parameters (the pullback must never hold on to the caller's buffer).
    let mut consumed = HashSet::new();
    for inst in &f.insts {
        if let InstKind::IndexSet { base, .. } | InstKind::Mutate { base, .. } = inst.kind {
            consumed.insert(base);
        }
    }
    let borrowed_mut = f.borrowed_mut_versions();
    consumed.extend(borrowed_mut.iter().copied());
    // Values a method run as written changes in place (`w.shuffle(&mut rng)` of a data
    // array): captured at the end of the call, they would hold what the method made of them,
    // so the pullback cannot read the elements they held before from them.
    consumed.extend(f.changed_in_place(false));
    // Values that code the macro writes moves (a struct literal of data, a field update
    // `b.v[0] = 5.0` rebuilding `b`): floats and integers are copied, anything else is gone.
    for inst in &f.insts {
        if let InstKind::Opaque {
            uses, mac: None, ..
        } = &inst.kind
        {
            for &(_, v) in uses {
                if f.value(v).kind != Kind::Discrete && !matches!(tys.of(v), Ty::Float(_) | Ty::Lit)
                {
                    consumed.insert(v);
                }
            }
        }
    }
    // What borrows or views a consumed value reads what it became, not what it was.
    loop {
        let before = consumed.len();
        for inst in &f.insts {
            let from = match &inst.kind {
                InstKind::Ref(a)
                | InstKind::FieldRef(a, _)
                | InstKind::Deref(a)
                | InstKind::Ascribe { value: a, .. } => *a,
                InstKind::Prim { prim, args, .. } if prim.has(Flags::VIEW) => args[0],
                _ => continue,
            };
            if consumed.contains(&from) {
                consumed.extend(inst.results.iter().copied());
            }
        }
        if consumed.len() == before {
            break;
        }
    }
    let fields_moved = f
        .insts
        .iter()
        .filter_map(|inst| match inst.kind {
            InstKind::Field(t, _) => Some(t),
            _ => None,
        })
        .collect();
    let mut p = Planner {
        f,
        act,
        tys,
        tree,
        fw_of: rev.corr.iter().copied().collect(),
        index_of: rev.index_params.iter().map(|&(pb, fw)| (fw, pb)).collect(),
        cheap_memo: HashMap::new(),
        consumed,
        fields_moved,
    };
    p.run(rev)
}

impl Planner<'_> {
    fn active(&self, v: Value) -> bool {
        self.act.active.get(v.index()).copied().unwrap_or(false)
    }

    /// The pullback's blocks, then those of the in-place pullbacks of reduction loops.
    fn pullback_blocks(&self) -> Vec<Block> {
        let roots = self.f.pullback_roots();
        roots
            .iter()
            .flat_map(|&r| self.f.blocks_within(r))
            .collect()
    }

    fn run(&mut self, rev: &Reversed) -> Plan {
        // ---- 1. what the pullback reads, fully or for the shape only.
        let mut full: Vec<Value> = Vec::new();
        let mut full_set: HashSet<Value> = HashSet::new();
        let mut shape_reads: Vec<(Block, Inst, Value)> = Vec::new();
        let mut type_reads: Vec<(Inst, Value)> = Vec::new();
        for b in self.pullback_blocks() {
            for &i in &self.f.block(b).insts {
                match self.f.inst(i).kind {
                    InstKind::Shape(v) | InstKind::ZeroLike(v)
                        if self.tree.in_pullback[b.index()] && self.tree.crosses(self.f, b, v) =>
                    {
                        shape_reads.push((b, i, v));
                        continue;
                    }
                    // A gradient converted by the type of a forward value.
                    InstKind::GradAs { like, g }
                        if self.tree.in_pullback[b.index()]
                            && self.tree.crosses(self.f, b, like) =>
                    {
                        type_reads.push((i, like));
                        if self.tree.crosses(self.f, b, g) && full_set.insert(g) {
                            full.push(g);
                        }
                        continue;
                    }
                    _ => {}
                }
                for v in self.f.operands(i) {
                    if self.tree.crosses(self.f, b, v) && full_set.insert(v) {
                        full.push(v);
                    }
                }
            }
            for v in self.f.term_operands(b) {
                if self.tree.crosses(self.f, b, v) && full_set.insert(v) {
                    full.push(v);
                }
            }
        }

        // ---- 2. shapes: from the value where the pullback has it anyway, else taken by the
        // forward pass right after the value.
        let mut subst: HashMap<Value, Value> = HashMap::new();
        let mut hoisted: HashMap<Value, Value> = HashMap::new();
        let mut zeros: HashMap<Value, Value> = HashMap::new();
        let mut decisions: Vec<(Value, Saved)> = Vec::new();
        let mut removed: HashSet<Inst> = HashSet::new();
        for (b, i, v) in shape_reads {
            // A zero is made from the value itself (any differentiable type has one), unless an
            // element write consumes the value or its fields are moved out: then from its shape.
            let zero_from_value = matches!(self.f.inst(i).kind, InstKind::ZeroLike(_))
                && !self.consumed.contains(&v)
                && !self.fields_moved.contains(&v);
            let has_value = zero_from_value
                || full_set.contains(&v)
                || ((matches!(self.f.value(v).def, ValueDef::Param(_))
                    || self.tree.in_record_top(self.f, v)
                    || self.tree.in_place_top(self.f, v))
                    && !self.consumed.contains(&v)
                    && !self.fields_moved.contains(&v))
                || self.cheap(v)
                // Rows of floats have no zero made from a shape (a length is not the rows'
                // lengths): the value is kept.
                || matches!(self.tys.of(v), Ty::Rows(_));
            if has_value {
                if full_set.insert(v) {
                    full.push(v);
                }
                continue;
            }
            // The zero of a value of the top level that is not known to hold floats (a `&mut
            // [Body]` parameter, a `Vec` of parameter structs an element write consumes) is
            // made in the forward pass from the value itself: a length is not the shape of a
            // struct's fields, and one zero there costs what the adjoint costs anyway.
            // So is the zero of a tuple with a field other than floats or an array of them
            // (the buffers a helper gives back, `(Vec<Vec<f64>>, Vec<Body>)`), also in a loop:
            // its shape would be lengths, which make no zero of rows or structs.
            let zero_here = matches!(self.f.inst(i).kind, InstKind::ZeroLike(_))
                && ((self.tree.def_block(self.f, v) == self.f.body() && !self.known_floats(v))
                    || self.tuple_of_unflat(v));
            // A shape read of a value whose zero the forward pass already makes (a pop's old
            // length beside the zero of the `Vec` it popped) reads the zero's shape: the
            // zero is not a shape.
            if matches!(self.f.inst(i).kind, InstKind::Shape(_))
                && let Some(&z) = zeros.get(&v)
            {
                self.f.insts[i.index()].kind = InstKind::Shape(z);
                continue;
            }
            // Zeros and shapes are kept apart: a shape makes no zero where `zero_here`, and a
            // zero is not a shape.
            let kept = if zero_here { &zeros } else { &hoisted };
            let sh = match kept.get(&v) {
                Some(&sh) => sh,
                None if zero_here => {
                    let z = self.hoist_after_def(v, InstKind::ZeroLike(v), "__ad_zero_");
                    zeros.insert(v, z);
                    decisions.push((v, Saved::ZeroOnly(z)));
                    z
                }
                None => {
                    let sh = self.hoist_after_def(v, InstKind::Shape(v), "__ad_sh_");
                    hoisted.insert(v, sh);
                    decisions.push((v, Saved::ShapeOnly(sh)));
                    sh
                }
            };
            if full_set.insert(sh) {
                full.push(sh);
            }
            match self.f.inst(i).kind {
                InstKind::Shape(_) => {
                    subst.insert(self.f.inst(i).results[0], sh);
                    removed.insert(i);
                    let _ = b;
                }
                // A fresh zero of the one kept, so that every adjoint started from it is its own.
                _ if zero_here => self.f.insts[i.index()].kind = InstKind::ZeroLike(sh),
                _ => self.f.insts[i.index()].kind = InstKind::ZeroOfShape(sh),
            }
        }
        for b in self.pullback_blocks() {
            self.f.blocks[b.index()]
                .insts
                .retain(|i| !removed.contains(i));
        }
        // Types: from the value where the pullback has it anyway or computes it again (a
        // borrow, `h.as_slice().unwrap()`, whose type names the borrowed value's lifetime),
        // else from a witness of no size that the forward pass takes right after the value (an
        // intermediate array lent to a call is then not kept for its type alone).
        let mut witnesses: HashMap<Value, Value> = HashMap::new();
        for (i, v) in type_reads {
            if full_set.contains(&v) || self.cheap(v) {
                if full_set.insert(v) {
                    full.push(v);
                }
                continue;
            }
            let w = *witnesses.entry(v).or_insert_with(|| {
                let w = self.hoist_after_def(v, InstKind::TypeOf(v), "__ad_ty_");
                decisions.push((v, Saved::TypeOnly(w)));
                w
            });
            if full_set.insert(w) {
                full.push(w);
            }
            if let InstKind::GradAs { like, .. } = &mut self.f.insts[i.index()].kind {
                *like = w;
            }
        }

        // ---- 3. capture, recompute or keep each value read.
        let mut recompute: HashSet<Value> = HashSet::new();
        let mut kept: HashSet<Value> = HashSet::new();
        let mut saves: HashMap<Block, Vec<Value>> = HashMap::new();
        let mut flat: HashSet<Value> = HashSet::new();
        // A version of a `&mut` parameter is a reference to the caller's buffer, which the
        // pullback never holds on to (it has no lifetime for it): it reads a copy that the
        // forward pass takes right after the version is made.
        let borrowed_mut = self.f.borrowed_mut_versions();
        let mut k = 0;
        while k < full.len() {
            let v = full[k];
            k += 1;
            if borrowed_mut.contains(&v) {
                let c = self.hoist_copy(v);
                subst.insert(v, c);
                if full_set.insert(c) {
                    full.push(c);
                }
                continue;
            }
            if self.index_of.contains_key(&v)
                || self.tree.in_record_top(self.f, v)
                || self.tree.in_place_top(self.f, v)
            {
                // Read directly; where the forward pass would move it afterwards, it moves a
                // copy.
                if self.tree.in_place_top(self.f, v) {
                    kept.insert(v);
                }
                continue;
            }
            let d = self.tree.def_block(self.f, v);
            let top = d == self.f.body();
            if self.cheap(v) {
                recompute.insert(v);
                decisions.push((v, Saved::Recomputed));
                if let ValueDef::Result(i, _) = self.f.value(v).def {
                    let array = match self.f.inst(i).kind {
                        InstKind::Index(base, _) if !self.kept_whole(base) => Some(base),
                        _ => None,
                    };
                    for o in self.f.operands(i) {
                        if full_set.insert(o) {
                            full.push(o);
                            // Read by element reads only (anything else the pullback reads
                            // whole was in `full` before them).
                            if Some(o) == array && self.floats_in_array(o) {
                                flat.insert(o);
                            }
                        }
                    }
                }
            } else if top {
                kept.insert(v);
                decisions.push((v, Saved::Captured));
            } else {
                kept.insert(v);
                saves.entry(d).or_default().push(v);
                let owner = self.tree.owner[d.index()].expect("a nested block has an owner");
                decisions.push(match self.f.inst(owner).kind {
                    InstKind::Loop { .. } => (v, Saved::OnStack(owner)),
                    _ => (v, Saved::InRecord(owner)),
                });
            }
        }

        // Element snapshots only for arrays on a loop's stack.
        flat.retain(|v| {
            decisions
                .iter()
                .any(|(d, how)| d == v && matches!(how, Saved::OnStack(_)))
        });

        // ---- 4. records: forward side.
        let mut stacks: HashMap<Block, Stack> = HashMap::new();
        for (n, bw) in rev.bw.iter().enumerate() {
            if !bw {
                continue;
            }
            let i = Inst(n as u32);
            match self.f.inst(i).kind.clone() {
                InstKind::If { .. } | InstKind::Match { .. } => {
                    for (variant, arm) in self.f.inst_blocks(i).into_iter().enumerate() {
                        let values = self.ordered(arm, saves.get(&arm));
                        let r = self.f.push_inst(
                            arm,
                            InstKind::MakeRecord {
                                of: i,
                                variant,
                                values,
                            },
                            1,
                            Kind::Unknown,
                            Span::call_site(),
                        );
                        let rv = self.f.inst(r).results[0];
                        self.tys.set(rv, Ty::Unknown);
                        if let Term::Yield(vals) = &mut self.f.blocks[arm.index()].term {
                            vals.push(rv);
                        }
                    }
                }
                InstKind::Loop { body, .. } => {
                    let values = self.ordered(body, saves.get(&body));
                    if values.is_empty() {
                        continue;
                    }
                    let s = self.f.new_stack(i);
                    stacks.insert(body, s);
                    self.f.push_inst(
                        body,
                        InstKind::Push { stack: s, values },
                        0,
                        Kind::Unknown,
                        Span::call_site(),
                    );
                }
                _ => {}
            }
        }

        // ---- 5. the pullback side: parameters, pops, recomputations, rewritten reads; in the
        // pullback, then in the in-place pullbacks of reduction loops' iterations.
        let mut recompute_by_block: HashMap<Block, Vec<Value>> = HashMap::new();
        for &v in &recompute {
            let d = self.tree.def_block(self.f, v);
            recompute_by_block.entry(d).or_default().push(v);
        }
        let mut flat_pops = HashMap::new();
        let ctx = Fill {
            saves: &saves,
            stacks: &stacks,
            recompute: &recompute_by_block,
            subst: &subst,
        };
        for root in self.f.pullback_roots() {
            self.fill(root, HashMap::new(), &ctx, &flat, &mut flat_pops);
        }
        Plan {
            kept,
            decisions,
            flat,
            flat_pops,
        }
    }

    /// `vals` in the order they are defined in block `b` (parameters first).
    fn ordered(&self, b: Block, vals: Option<&Vec<Value>>) -> Vec<Value> {
        let Some(vals) = vals else {
            return Vec::new();
        };
        let mut out: Vec<Value> = self
            .f
            .block(b)
            .params
            .iter()
            .copied()
            .filter(|p| vals.contains(p))
            .collect();
        for &i in &self.f.block(b).insts {
            for &r in &self.f.inst(i).results {
                if vals.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// An owned copy of `v` (`v.to_owned()`) taken by the forward pass right after `v`.
    fn hoist_copy(&mut self, v: Value) -> Value {
        let b = self.tree.def_block(self.f, v);
        let prim = crate::prim::PrimId::method("to_owned").expect("`to_owned` is a primitive");
        let kind = self.f.value(v).kind;
        let i = self.f.push_inst(
            b,
            InstKind::Prim {
                prim,
                args: vec![v],
                unwrap: false,
            },
            1,
            kind,
            Span::call_site(),
        );
        let c = self.f.inst(i).results[0];
        self.f.values[c.index()].name = Some(format!("__ad_copy_{}", self.f.value_ident(v)));
        let ty = self.tys.of(v);
        self.tys.set(c, ty);
        self.move_after_def(b, v, i);
        c
    }

    /// `r = kind` (the shape of `v`, or a zero of it) in the forward pass, right after `v` is
    /// defined; `r` is named `prefix` and `v`'s name.
    fn hoist_after_def(&mut self, v: Value, kind: InstKind, prefix: &str) -> Value {
        let b = self.tree.def_block(self.f, v);
        let i = self
            .f
            .push_inst(b, kind, 1, Kind::Unknown, Span::call_site());
        let sh = self.f.inst(i).results[0];
        self.f.values[sh.index()].name = Some(format!("{prefix}{}", self.f.value_ident(v)));
        self.tys.set(sh, Ty::Unknown);
        self.move_after_def(b, v, i);
        sh
    }

    /// Moves instruction `i`, just appended to `b` (where `v` is defined), to right after the
    /// definition of `v` (to the start of `b` for a parameter).
    fn move_after_def(&mut self, b: Block, v: Value, i: Inst) {
        let insts = &mut self.f.blocks[b.index()].insts;
        insts.pop();
        let pos = match self.f.values[v.index()].def {
            ValueDef::Result(d, _) => insts.iter().position(|&x| x == d).map_or(0, |p| p + 1),
            _ => 0,
        };
        insts.insert(pos, i);
        self.tree.inst_block.push(b);
    }

    /// Whether a value of the forward pass is kept whole for the whole call (a parameter, or a
    /// top-level value no element write consumes), or for the whole iteration of a
    /// checkpointed loop (a value at the top of its record body).
    /// Whether `v` is `a.shape()` or `a.strides()`, a slice that borrows `a`.
    fn borrowed_shape(&self, v: Value) -> bool {
        let ValueDef::Result(i, _) = self.f.value(v).def else {
            return false;
        };
        matches!(&self.f.inst(i).kind, InstKind::Method { name, .. } if name == "shape" || name == "strides")
    }

    fn kept_whole(&self, v: Value) -> bool {
        if self.consumed.contains(&v) || self.fields_moved.contains(&v) || self.guard(v) {
            return false;
        }
        match self.f.value(v).def {
            ValueDef::Param(_) => true,
            _ => {
                self.tree.def_block(self.f, v) == self.f.body()
                    || self.tree.in_record_top(self.f, v)
                    || self.tree.in_place_top(self.f, v)
            }
        }
    }

    /// Whether `v` is the guard of a cell (`log.borrow()`, `m.lock().unwrap()`), which borrows
    /// it: the pullback cannot keep it (rustc's E0515 where the cell is a local), so what is
    /// computed from it is kept instead (`log.borrow().len() as f64`).
    fn guard(&self, v: Value) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        const GUARDS: &[&str] = &["borrow", "borrow_mut", "lock", "read", "write", "get_mut"];
        match &self.f.inst(i).kind {
            InstKind::Call { path, .. } => path
                .segments
                .last()
                .is_some_and(|s| GUARDS.contains(&s.ident.to_string().as_str())),
            InstKind::Method { name, recv, .. } => {
                let name = name.to_string();
                GUARDS.contains(&name.as_str())
                    || ((name == "unwrap" || name == "expect") && self.guard(*recv))
            }
            _ => false,
        }
    }

    /// Whether the pullback keeps array `base` on the stack (or in the record) of the block
    /// that defines it and reads its elements from there, rather than keep each element that
    /// block `reader` reads: where `reader` is inside a loop in that block, the reads are about
    /// as many as the elements, and in a nest of two loops they outnumber them (`for i in 0..d
    /// { for j in i + 1..d { .. xc[i] .. } }` reads `d(d − 1)/2` elements of the `d` of `xc`).
    /// `base` must be a value no element write consumes, defined inside the function's forward
    /// pass but not at its top (which is captured whole anyway).
    fn keeps_array_for_reads(&self, base: Value, reader: Block) -> bool {
        if self.consumed.contains(&base) || self.kept_whole(base) {
            return false;
        }
        let d = self.tree.def_block(self.f, base);
        if d == self.f.body()
            || self.tree.in_pullback[d.index()]
            || self.tree.root[d.index()] != self.f.body()
        {
            return false;
        }
        let mut cur = reader;
        let mut loops = 0;
        while cur != d {
            if let Some(o) = self.tree.owner[cur.index()] {
                loops += usize::from(matches!(self.f.inst(o).kind, InstKind::Loop { .. }));
            }
            match self.tree.parent[cur.index()] {
                Some(p) => cur = p,
                None => return false,
            }
        }
        // An array of floats is kept as a copy of its elements in a buffer that grows once
        // (see `Plan::flat`): one loop of reads already costs as much as that copy. Anything
        // else is kept as a clone, an allocation per iteration, worth it for nests of loops.
        loops >= if self.floats_in_array(base) { 1 } else { 2 }
    }

    /// Whether `v` is known to hold floats only: a float, or an array, slice or `Vec` of them
    /// or of rows of them, whose zero a shape makes.
    fn known_floats(&self, v: Value) -> bool {
        matches!(
            self.tys.of(v),
            Ty::Float(_) | Ty::Lit | Ty::Elems(_) | Ty::ElemsOpen | Ty::Rows(_) | Ty::RowsOpen
        )
    }

    /// Whether `v` is a tuple whose fields are read (moved out) and one of them is
    /// differentiated and neither a float nor an array of floats: a tuple without a zero made
    /// from its shape.
    fn tuple_of_unflat(&self, v: Value) -> bool {
        self.fields_moved.contains(&v)
            && self.f.insts.iter().any(|inst| {
                matches!(inst.kind, InstKind::Field(t, _) if t == v)
                    && self.active(inst.results[0])
                    && !matches!(
                        self.tys.of(inst.results[0]),
                        Ty::Float(_) | Ty::Lit | Ty::Elems(_) | Ty::ElemsOpen
                    )
            })
    }

    /// Whether `v` is an array, slice or `Vec` of floats: what `Plan::flat` keeps as a copy of
    /// its elements.
    fn floats_in_array(&self, v: Value) -> bool {
        matches!(self.tys.of(v), Ty::Elems(_) | Ty::ElemsOpen)
    }

    fn in_loop(&self, b: Block) -> bool {
        let mut cur = Some(b);
        while let Some(x) = cur {
            if let Some(i) = self.tree.owner[x.index()] {
                if matches!(
                    self.f.inst(i).kind,
                    InstKind::Loop { .. } | InstKind::CkptSweep { .. }
                ) {
                    return true;
                }
            }
            cur = self.tree.parent[x.index()];
        }
        false
    }

    /// Whether `row` is a row `a[i]` of a value `a` kept whole, at an index available again.
    fn row_of_kept(&mut self, row: Value) -> bool {
        match self.f.value(row).def {
            ValueDef::Result(d, 0) => match self.f.inst(d).kind {
                InstKind::Index(a, i) => self.kept_whole(a) && self.avail(i),
                _ => false,
            },
            _ => false,
        }
    }

    fn avail(&mut self, u: Value) -> bool {
        self.kept_whole(u) || self.cheap(u)
    }

    /// Cheap and pure enough to compute again where the pullback needs it.
    fn cheap(&mut self, v: Value) -> bool {
        if let Some(&c) = self.cheap_memo.get(&v) {
            return c;
        }
        self.cheap_memo.insert(v, false);
        let c = self.cheap_uncached(v);
        self.cheap_memo.insert(v, c);
        c
    }

    fn cheap_uncached(&mut self, v: Value) -> bool {
        if self.index_of.contains_key(&v) {
            return true;
        }
        let ValueDef::Result(i, n) = self.f.value(v).def else {
            return false;
        };
        if n != 0 || self.f.inst(i).results.len() != 1 {
            return false;
        }
        let block = self.tree.inst_block[i.index()];
        match self.f.inst(i).kind.clone() {
            // A reference or a view is as cheap to take again, and keeping one would keep a
            // borrow (beyond the iteration or the call that owns what it borrows): what it
            // borrows from is kept instead, and so are the view's other operands where they
            // cannot be computed again (the `s![i, ..]` of a row taken in a loop).
            // Except `insert_axis` and `into_shape_with_order` of an owned array, which the
            // forward pass moved into them (`a.clone().insert_axis(Axis(1))`): computing them
            // again would use the moved array (rustc's E0382 inside the generated code).
            ref kind if self.f.moves_owned_array(kind) => {}
            InstKind::Prim { prim, .. } if prim.has(Flags::VIEW) => return true,
            InstKind::FieldRef(..) | InstKind::Ref(_) => return true,
            // The same for a reference given its type (`let s: &[f64] = &v[..];`).
            InstKind::Ascribe {
                value,
                ty: syn::Type::Reference(_),
            } => return self.avail(value),
            // A loop's counter computed from its index (see `crate::counters`): its other
            // operands are defined outside the loop, where they are kept once (per iteration of
            // an enclosing loop at most) if they cannot be computed again.
            InstKind::Helper { name, .. } if name == "counter_at" => return true,
            // A length read out of `out.shape()` (`let n = out.shape()[0];`): the length is
            // kept, not the shape, which borrows `out` (moved on into the loops that write it).
            InstKind::Index(base, _) if self.borrowed_shape(base) => return false,
            // An element of a value kept whole: reading it again beats recording it.
            InstKind::Index(base, idx) if self.kept_whole(base) => return self.avail(idx),
            // An element of a row of a value kept whole (`w[i][j]` of `w: &[Vec<f64>]`): the
            // same, the row borrowed again (see `codegen::borrowed_rows`).
            InstKind::Index(row, idx) if self.row_of_kept(row) => {
                return self.avail(row) && self.avail(idx);
            }
            // An element of a local array, read in a loop nested in the iteration that made
            // the array: keeping the array once per iteration beats keeping every read.
            InstKind::Index(base, idx) if self.keeps_array_for_reads(base, block) => {
                return self.avail(idx);
            }
            // Inside loops, sums and differences of available values are cheaper to compute
            // again than to push and pop, active or not (products are kept: measured slower).
            InstKind::Binary(BinOp::Add | BinOp::Sub, a, b) if self.in_loop(block) => {
                return self.avail(a) && self.avail(b);
            }
            InstKind::Neg(a) if self.in_loop(block) => return self.avail(a),
            _ => {}
        }
        if self.active(v) {
            return false;
        }
        match self.f.inst(i).kind.clone() {
            InstKind::Const(_) => true,
            InstKind::Cast { value, .. } | InstKind::Neg(value) => self.avail(value),
            InstKind::Binary(_, a, b) => self.avail(a) && self.avail(b),
            InstKind::Method {
                name, recv, args, ..
            } => {
                crate::prim::is_discrete_method(&name.to_string())
                    && args.is_empty()
                    && self.avail(recv)
            }
            _ => false,
        }
    }

    /// Gives pullback block `b` its parameters or pops, its recomputations, and rewrites its
    /// reads; then its nested blocks.
    fn fill(
        &mut self,
        b: Block,
        mut map: HashMap<Value, Value>,
        ctx: &Fill,
        flat: &HashSet<Value>,
        flat_pops: &mut HashMap<Value, Value>,
    ) {
        let fw = self.fw_of.get(&b).copied();
        let mut prefix: Vec<Inst> = Vec::new();
        if let Some(fw) = fw {
            let owner = self.tree.owner[b.index()];
            let is_arm =
                owner.is_some_and(|o| matches!(self.f.inst(o).kind, InstKind::MatchRecord { .. }));
            let saved = self.ordered(fw, ctx.saves.get(&fw));
            if is_arm {
                for &s in &saved {
                    let name = self.f.value(s).name.clone();
                    let kind = self.f.value(s).kind;
                    let p = self.f.add_block_param(b, name, kind);
                    let t = self.tys.of(s);
                    self.tys.set(p, t);
                    map.insert(s, p);
                }
            } else if let Some(&stack) = ctx.stacks.get(&fw) {
                let i = self.f.push_inst(
                    b,
                    InstKind::Pop(stack),
                    saved.len(),
                    Kind::Unknown,
                    Span::call_site(),
                );
                self.f.blocks[b.index()].insts.pop();
                prefix.push(i);
                for (k, &s) in saved.iter().enumerate() {
                    let r = self.f.inst(i).results[k];
                    if flat.contains(&s) {
                        flat_pops.insert(r, s);
                    }
                    self.f.values[r.index()].name = self.f.value(s).name.clone();
                    let t = self.tys.of(s);
                    self.tys.set(r, t);
                    map.insert(s, r);
                }
            }
            for &p in &self.f.block(b).params.clone() {
                if let Some((&fw_idx, _)) = self.index_of.iter().find(|&(_, &pb)| pb == p) {
                    map.insert(fw_idx, p);
                }
            }
            // Recomputations, in the forward pass's order.
            if let Some(list) = ctx.recompute.get(&fw) {
                let order = self.forward_order(fw);
                let mut list = list.clone();
                list.sort_by_key(|v| order.get(v).copied().unwrap_or(usize::MAX));
                for v in list {
                    let ValueDef::Result(src, _) = self.f.value(v).def else {
                        continue;
                    };
                    let mut kind = self.f.inst(src).kind.clone();
                    kind.operands_mut(&mut |o| {
                        if let Some(&m) = map.get(o) {
                            *o = m;
                        }
                    });
                    let span = self.f.inst(src).span;
                    let k = self.f.value(v).kind;
                    let i = self.f.push_inst(b, kind, 1, k, span);
                    self.f.blocks[b.index()].insts.pop();
                    prefix.push(i);
                    let r = self.f.inst(i).results[0];
                    self.f.values[r.index()].name = self.f.value(v).name.clone();
                    let t = self.tys.of(v);
                    self.tys.set(r, t);
                    map.insert(v, r);
                }
            }
        }
        let insts = &mut self.f.blocks[b.index()].insts;
        let rest = std::mem::take(insts);
        *insts = prefix;
        insts.extend(rest);
        // Rewrite the reads of this block, then recurse.
        let subst = ctx.subst;
        let fix = |v: &mut Value| {
            if let Some(&s) = subst.get(v) {
                *v = s;
            }
            if let Some(&m) = map.get(v) {
                *v = m;
            }
        };
        let mut fix = fix;
        for i in self.f.block(b).insts.clone() {
            let mut kind = self.f.inst(i).kind.clone();
            kind.operands_mut(&mut fix);
            self.f.insts[i.index()].kind = kind;
        }
        let mut term = self.f.block(b).term.clone();
        term.operands_mut(&mut fix);
        self.f.blocks[b.index()].term = term;
        for i in self.f.block(b).insts.clone() {
            for nb in self.f.inst_blocks(i) {
                self.tree.owner[nb.index()] = Some(i);
                self.fill(nb, map.clone(), ctx, flat, flat_pops);
            }
        }
    }

    /// Position of each value defined directly in forward block `b`, in program order.
    fn forward_order(&self, b: Block) -> HashMap<Value, usize> {
        let mut out = HashMap::new();
        for (n, &p) in self.f.block(b).params.iter().enumerate() {
            out.insert(p, n);
        }
        let base = out.len();
        for (n, &i) in self.f.block(b).insts.iter().enumerate() {
            for &r in &self.f.inst(i).results {
                out.insert(r, base + n);
            }
        }
        out
    }
}

struct Fill<'a> {
    saves: &'a HashMap<Block, Vec<Value>>,
    stacks: &'a HashMap<Block, Stack>,
    recompute: &'a HashMap<Block, Vec<Value>>,
    subst: &'a HashMap<Value, Value>,
}
