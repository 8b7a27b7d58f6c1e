//! Clean-ups of the pullback that make the generated code read like code a person writes (and
//! make it cheaper for rustc to check): an adjoint that receives exactly one contribution and
//! is then read once is no variable at all, just that contribution; and computations of the
//! primal function that nothing reads are removed.

use std::collections::{HashMap, HashSet};

use crate::ir::*;

/// Replaces `w = c; ..; v = get w` (and nothing else on `w`) by `c` itself.
pub fn forward_single_contributions(f: &mut Func) {
    let roots = f.pullback_roots();
    let blocks: Vec<Block> = roots.iter().flat_map(|&r| f.blocks_within(r)).collect();
    // Per variable: its init (instruction, value), its get (instruction, result), and whether
    // anything else touches it.
    #[derive(Default, Clone)]
    struct Uses {
        init: Option<(Inst, Value)>,
        get: Option<(Inst, Value)>,
        other: bool,
    }
    let mut uses: Vec<Uses> = vec![Uses::default(); f.vars.len()];
    let mut block_of: HashMap<Inst, Block> = HashMap::new();
    for &b in &blocks {
        for &i in &f.block(b).insts {
            block_of.insert(i, b);
            match &f.inst(i).kind {
                InstKind::VarInit { var, value } => {
                    let u = &mut uses[var.index()];
                    if u.init.is_some() {
                        u.other = true;
                    }
                    u.init = Some((i, *value));
                }
                InstKind::VarGet(w) => {
                    let u = &mut uses[w.index()];
                    if u.get.is_some() {
                        u.other = true;
                    }
                    u.get = Some((i, f.inst(i).results[0]));
                }
                InstKind::VarAcc { var, .. }
                | InstKind::VarAccAt { var, .. }
                | InstKind::VarAccField { var, .. }
                | InstKind::VarTakeAt { var, .. }
                | InstKind::VarTakeTo { var, .. }
                | InstKind::VarSet { var, .. }
                | InstKind::VarUpdate { var, .. } => uses[var.index()].other = true,
                InstKind::VarTake(w) | InstKind::Count(w) => uses[w.index()].other = true,
                _ => {}
            }
        }
    }
    let mut subst: HashMap<Value, Value> = HashMap::new();
    let mut dead: HashSet<Inst> = HashSet::new();
    for u in &uses {
        if let (Some((ii, c)), Some((gi, r)), false) = (u.init, u.get, u.other) {
            if block_of.get(&ii) == block_of.get(&gi) {
                subst.insert(r, c);
                dead.insert(ii);
                dead.insert(gi);
            }
        }
    }
    if subst.is_empty() {
        return;
    }
    // A contribution may itself be a forwarded read: follow the chain.
    let resolve = |mut v: Value| {
        while let Some(&s) = subst.get(&v) {
            v = s;
        }
        v
    };
    for &b in &blocks {
        f.blocks[b.index()].insts.retain(|i| !dead.contains(i));
        for i in f.block(b).insts.clone() {
            f.insts[i.index()]
                .kind
                .operands_mut(&mut |v| *v = resolve(*v));
        }
        let mut term = f.block(b).term.clone();
        term.operands_mut(&mut |v| *v = resolve(*v));
        f.blocks[b.index()].term = term;
    }
}

/// In a reversed loop, a carried adjoint is taken at the start of each iteration (leaving a
/// zero) and then receives this iteration's contributions. When it receives exactly one whole
/// contribution, on every path, before any other (which may only add to elements or fields),
/// the zero is never needed: the take becomes a move and the contribution an assignment. For
/// an array carried through a loop that reads and writes its elements, that turns a
/// zero-filled allocation and an element-wise sum per iteration into two moves.
pub fn move_carried_adjoints(f: &mut Func) {
    let roots = f.pullback_roots();
    for b in roots
        .iter()
        .flat_map(|&r| f.blocks_within(r))
        .collect::<Vec<_>>()
    {
        let insts = f.block(b).insts.clone();
        for (pos, &take) in insts.iter().enumerate() {
            let w = match f.inst(take).kind {
                InstKind::VarTake(w) => w,
                InstKind::VarTakeTo { var, .. } => var,
                _ => continue,
            };
            // Every instruction in the block (and its nested blocks) that touches `w`, with the
            // position in the block of the instruction it is (or whose arms or body hold it;
            // the terminator's arms come last), and whether it is in the block itself.
            let mut touches: Vec<(Inst, usize, bool)> = Vec::new();
            let holders = insts
                .iter()
                .enumerate()
                .map(|(p, &top)| (p, f.inst_blocks(top)))
                .chain([(insts.len(), f.term_blocks(b))]);
            for (p, &i) in insts.iter().enumerate() {
                if i != take && touches_var(&f.inst(i).kind, w) {
                    touches.push((i, p, true));
                }
            }
            for (p, children) in holders {
                for nb in children.into_iter().flat_map(|c| f.blocks_within(c)) {
                    for &i in &f.block(nb).insts {
                        if touches_var(&f.inst(i).kind, w) {
                            touches.push((i, p, false));
                        }
                    }
                }
            }
            // The one whole contribution, then perhaps contributions to elements or fields
            // (`v[i]` read in the iteration, besides the write that made the next version, also
            // in an arm of a later `if` or `match`): the whole one can move in, the others add
            // to it.
            let Some(&(acc, acc_pos, true)) = touches.first() else {
                continue;
            };
            let InstKind::VarAcc { value, .. } = f.inst(acc).kind else {
                continue;
            };
            if acc_pos <= pos {
                continue;
            }
            let parts_after = touches[1..].iter().all(|&(i, p, _)| {
                matches!(
                    f.inst(i).kind,
                    InstKind::VarAccAt { .. } | InstKind::VarAccField { .. }
                ) && p > acc_pos
            });
            if !parts_after {
                continue;
            }
            f.insts[take.index()].kind = InstKind::VarGet(w);
            f.insts[acc.index()].kind = InstKind::VarSet { var: w, value };
        }
    }
}

fn touches_var(k: &InstKind, w: Var) -> bool {
    k.var() == Some(w)
}

/// Removes computations nothing reads from the primal function: a tuple built only to be
/// taken apart (`let (a, b) = (x, y)` binds `a` and `b` directly), a reference or a value the
/// source computes and never uses. They would only cost rustc time, and a tuple of arrays kept
/// alive would hold its elements, moved, away from their other readers. Only instructions
/// without effects that tell rustc nothing about types go: not calls, macros, element reads
/// (which may panic on a bad index), writes, arithmetic or annotations.
pub fn remove_dead(f: &mut Func) {
    let blocks = f.blocks_within(f.body());
    loop {
        let mut uses = vec![0u32; f.values.len()];
        for &b in &blocks {
            for &i in &f.block(b).insts {
                f.inst(i).kind.each_operand(&mut |v| uses[v.index()] += 1);
            }
            for v in f.term_operands(b) {
                uses[v.index()] += 1;
            }
        }
        let mut removed = false;
        for &b in &blocks {
            let insts = f.block(b).insts.clone();
            let keep: Vec<Inst> = insts
                .into_iter()
                .filter(|&i| {
                    let inst = f.inst(i);
                    let unused = !inst.results.is_empty()
                        && inst.results.iter().all(|r| uses[r.index()] == 0);
                    // Operations that also tell rustc nothing about their operands' types
                    // (`let t: f32 = ..` or `t + 1.0f32` may be how it learns one).
                    let pure = matches!(
                        &inst.kind,
                        InstKind::Const(_)
                            | InstKind::Tuple(_)
                            | InstKind::Field(..)
                            | InstKind::Ref(_)
                            | InstKind::FieldRef(..)
                            | InstKind::Deref(_)
                    );
                    let dead = unused && pure;
                    removed |= dead;
                    !dead
                })
                .collect();
            f.block_mut(b).insts = keep;
        }
        if !removed {
            break;
        }
    }
}
