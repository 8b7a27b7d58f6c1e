//! Clean-ups of the pullback that make the generated code read like code a person writes (and
//! make it cheaper for rustc to check): an adjoint that receives exactly one contribution and
//! is then read once is no variable at all, just that contribution; and computations of the
//! primal function that nothing reads are removed.

use std::collections::{HashMap, HashSet};

use crate::ir::*;
use crate::scalars::{Ty, Types};

/// Replaces `w = c; ..; v = get w` (and nothing else on `w`) by `c` itself.
pub fn forward_single_contributions(f: &mut Func) {
    let blocks = pullback_blocks(f);
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
    // A contribution may itself be a forwarded read: follow the chain, once for each value on
    // it (a sum of n terms makes a chain n long, which following from every read was
    // quadratic).
    let starts: Vec<Value> = subst.keys().copied().collect();
    for start in starts {
        let mut on_chain = Vec::new();
        let mut v = start;
        while let Some(&s) = subst.get(&v) {
            on_chain.push(v);
            v = s;
        }
        for u in on_chain {
            subst.insert(u, v);
        }
    }
    let resolve = |v: Value| subst.get(&v).copied().unwrap_or(v);
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
    for b in pullback_blocks(f) {
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
            // Or the first touch is in the arms of a `match` on the branch taken, each of which
            // receives one whole contribution before anything else: each arm assigns it.
            if let Some(&(_, p, false)) = touches.first()
                && p > pos
                && p < insts.len()
                && let Some(firsts) = arms_assign_first(f, insts[p], w)
            {
                f.insts[take.index()].kind = InstKind::VarGet(w);
                assign_instead(f, &firsts, w);
                continue;
            }
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

/// The adjoint of a value that enters an `if` or `match`, started from zero before the
/// pullback's `match` on the branch taken, where every arm first receives one whole
/// contribution (the adjoint of the value the arm yields, or of what it wrote into) before
/// anything else touches it: each arm assigns it instead, and the zero is never made. Done for
/// values not known to be floats or arrays of them (a `Vec<Vec<f64>>` grid, a `Vec` of
/// structs): the length the pullback keeps of those makes no zero of their rows, which was
/// rustc's "a container of `Vec<f64>` whose length changes" inside the generated code.
pub fn defer_branch_adjoints(f: &mut Func, tys: &Types) {
    for b in pullback_blocks(f) {
        let insts = f.block(b).insts.clone();
        for (pos, &init) in insts.iter().enumerate() {
            let InstKind::VarInit { var: w, value: z } = f.inst(init).kind else {
                continue;
            };
            // A zero made in this block for the init alone.
            let ValueDef::Result(zi, 0) = f.value(z).def else {
                continue;
            };
            let InstKind::ZeroLike(primal) = f.inst(zi).kind else {
                continue;
            };
            if !insts[..pos].contains(&zi) {
                continue;
            }
            if matches!(
                tys.of(primal),
                Ty::Float(_) | Ty::Lit | Ty::Elems(_) | Ty::ElemsOpen
            ) {
                continue;
            }
            // The first instruction after the init that touches `w`, itself or in its blocks,
            // must be a `match` on a record.
            let Some(&holder) = insts[pos + 1..].iter().find(|&&i| touches_within(f, i, w)) else {
                continue;
            };
            let Some(firsts) = arms_assign_first(f, holder, w) else {
                continue;
            };
            // The zero is read only by the init.
            let mut z_uses = 0;
            for nb in pullback_blocks(f) {
                for &i in &f.block(nb).insts {
                    f.inst(i)
                        .kind
                        .each_operand(&mut |v| z_uses += usize::from(*v == z));
                }
                z_uses += f.term_operands(nb).iter().filter(|&&v| v == z).count();
            }
            if z_uses != 1 {
                continue;
            }
            f.insts[init.index()].kind = InstKind::VarDecl(w);
            assign_instead(f, &firsts, w);
            f.blocks[b.index()].insts.retain(|&i| i != zi);
        }
    }
}

/// Every block of the pullbacks (the closure's and those run in place), outermost first.
fn pullback_blocks(f: &Func) -> Vec<Block> {
    f.pullback_roots()
        .iter()
        .flat_map(|&r| f.blocks_within(r))
        .collect()
}

/// The whole contributions `firsts` to `w` (`w += g`) made assignments (`w = g`).
fn assign_instead(f: &mut Func, firsts: &[Inst], w: Var) {
    for &a in firsts {
        let InstKind::VarAcc { value, .. } = f.inst(a).kind else {
            unreachable!("a whole contribution")
        };
        f.insts[a.index()].kind = InstKind::VarSet { var: w, value };
    }
}

/// Whether instruction `i`, or one in its blocks, touches `w`.
fn touches_within(f: &Func, i: Inst, w: Var) -> bool {
    touches_var(&f.inst(i).kind, w)
        || f.inst_blocks(i)
            .into_iter()
            .flat_map(|c| f.blocks_within(c))
            .any(|nb| {
                f.block(nb)
                    .insts
                    .iter()
                    .any(|&j| touches_var(&f.inst(j).kind, w))
            })
}

/// Where `holder` is a `match` on the branch taken whose every arm first touches `w` with one
/// whole contribution (`w += g`, in the arm itself): those contributions, one per arm.
fn arms_assign_first(f: &Func, holder: Inst, w: Var) -> Option<Vec<Inst>> {
    if !matches!(f.inst(holder).kind, InstKind::MatchRecord { .. }) {
        return None;
    }
    f.inst_blocks(holder)
        .into_iter()
        .map(|arm| {
            let first = f
                .block(arm)
                .insts
                .iter()
                .copied()
                .find(|&i| touches_within(f, i, w))?;
            matches!(f.inst(first).kind, InstKind::VarAcc { var, .. } if var == w).then_some(first)
        })
        .collect()
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

/// Contributions of every iteration of a pullback loop to one element of an adjoint
/// (`w[i] += vⱼ` for `j` in the loop, `i` fixed outside it) are summed in a scalar and added to
/// the element once, after the loop: `t = 0; for j { t += vⱼ }; w[i] += t`. Adding into the
/// element itself makes each iteration wait for the previous one's store to memory (the
/// element's address is the same every time, and the processor cannot keep it in a register
/// across the other writes of the loop); the scalar stays in a register, as in a hand-written
/// gradient. Only where the loop touches `w` in no other way, every contribution is to that
/// same element, and they are floats of a known type: then the sum is the same one, added in
/// another order.
pub fn sum_invariant_element_adjoints(f: &mut Func, tys: &mut Types) {
    let roots = f.pullback_roots();
    let loops: Vec<(Block, Inst)> = roots
        .iter()
        .flat_map(|&r| f.blocks_within(r))
        .flat_map(|b| {
            f.block(b)
                .insts
                .iter()
                .filter(|&&i| matches!(f.inst(i).kind, InstKind::Loop { .. }))
                .map(move |&i| (b, i))
                .collect::<Vec<_>>()
        })
        .collect();
    for (b, l) in loops {
        let InstKind::Loop { body, .. } = f.inst(l).kind else {
            continue;
        };
        let inside: HashSet<Block> = f.blocks_within(body).into_iter().collect();
        let defined_inside = |f: &Func, v: Value| match f.value(v).def {
            ValueDef::Param(_) | ValueDef::Tangent(_) => false,
            ValueDef::BlockParam(pb, _) => inside.contains(&pb),
            ValueDef::Result(i, _) => inside.iter().any(|&ib| f.block(ib).insts.contains(&i)),
        };
        // Per variable: the index of its contributions, the contributions, and whether the
        // loop touches it only that way.
        let mut by_var: HashMap<Var, (Value, Vec<Inst>, bool)> = HashMap::new();
        let mut order: Vec<Var> = Vec::new();
        for &ib in &inside {
            for &i in &f.block(ib).insts {
                let Some(w) = f.inst(i).kind.var() else {
                    continue;
                };
                let e = by_var.entry(w).or_insert_with(|| {
                    order.push(w);
                    (Value(u32::MAX), Vec::new(), true)
                });
                match f.inst(i).kind {
                    InstKind::VarAccAt { index, value, .. }
                        if (e.1.is_empty() || e.0 == index)
                            && matches!(tys.of(value), Ty::Float(_)) =>
                    {
                        e.0 = index;
                        e.1.push(i);
                    }
                    _ => e.2 = false,
                }
            }
        }
        order.sort();
        for w in order {
            let (index, accs, only) = by_var[&w].clone();
            if !only || accs.is_empty() || defined_inside(f, index) {
                continue;
            }
            let Ty::Float(t) = tys.of(match f.inst(accs[0]).kind {
                InstKind::VarAccAt { value, .. } => value,
                _ => unreachable!(),
            }) else {
                continue;
            };
            let name = format!("{}_sum", f.vars[w.0 as usize].name);
            let sum = f.new_var(name);
            let span = f.inst(l).span;
            let ty = t.tokens();
            let zero = f.push_inst(
                b,
                InstKind::Const(quote::quote!(0.0 as #ty)),
                1,
                Kind::Unknown,
                span,
            );
            let zv = f.inst(zero).results[0];
            tys.set(zv, Ty::Float(t));
            let init = f.push_inst(
                b,
                InstKind::VarInit {
                    var: sum,
                    value: zv,
                },
                0,
                Kind::Unknown,
                span,
            );
            let get = f.push_inst(b, InstKind::VarGet(sum), 1, Kind::Unknown, span);
            let gv = f.inst(get).results[0];
            tys.set(gv, Ty::Float(t));
            let add = f.push_inst(
                b,
                InstKind::VarAccAt {
                    var: w,
                    index,
                    value: gv,
                },
                0,
                Kind::Unknown,
                span,
            );
            // The four went to the end of `b`: `zero` and `init` before the loop, `get` and
            // `add` right after it.
            let insts = &mut f.blocks[b.index()].insts;
            insts.truncate(insts.len() - 4);
            let at = insts
                .iter()
                .position(|&i| i == l)
                .expect("the loop is in its block");
            insts.splice(at + 1..at + 1, [get, add]);
            insts.splice(at..at, [zero, init]);
            for a in accs {
                if let InstKind::VarAccAt { value, .. } = f.insts[a.index()].kind {
                    f.insts[a.index()].kind = InstKind::VarAcc { var: sum, value };
                }
            }
        }
    }
}

/// A write that adds to an element, `a[i] += e` (`a' = a; a'[i] = a[i] + e`), reverses to a
/// take of the element's adjoint (`v = take ā'[i]`, the adjoint of the value written) and,
/// from the read `a[i]` in that value, the same `v` given back to the element
/// (`ā[i] += v`), with the array's adjoint moved from `ā'` to `ā` in between. The element's
/// adjoint ends where it started: the pair is a read, `v = read ā'[i]`. A read leaves the
/// adjoint untouched in memory, where the take and the give-back were a store each, and in a
/// loop over `j` of `y[i] += ..` the next iteration's take waited on the last one's store.
///
/// Only where, between the two, the adjoint (under any of the variables it moves through) is
/// only moved or added to: another addition to the same element commutes with them.
pub fn read_restored_elements(f: &mut Func) {
    let blocks = pullback_blocks(f);
    for b in blocks {
        let insts = f.block(b).insts.clone();
        let mut removed: HashSet<Inst> = HashSet::new();
        for (p, &take) in insts.iter().enumerate() {
            let InstKind::VarTakeAt { var, index } = f.inst(take).kind else {
                continue;
            };
            let taken = f.inst(take).results[0];
            if let Some(restore) = restore_of(f, &insts[p + 1..], var, index, taken) {
                f.insts[take.index()].kind = InstKind::VarReadAt { var, index };
                removed.insert(restore);
            }
        }
        if !removed.is_empty() {
            f.block_mut(b).insts.retain(|i| !removed.contains(i));
        }
    }
}

/// The instruction among `after` (the rest of a block) that gives `taken` back to element
/// `index` of the adjoint in `var`, if only moves and additions touch that adjoint before it.
fn restore_of(f: &Func, after: &[Inst], var: Var, index: Value, taken: Value) -> Option<Inst> {
    let mut holders: HashSet<Var> = HashSet::from([var]);
    // The value of a `get` of a holder, waiting for the `:=` or `=` that moves it on.
    let mut moving: Option<Value> = None;
    let touches = |f: &Func, i: Inst, holders: &HashSet<Var>| {
        f.inst(i).kind.var().is_some_and(|w| holders.contains(&w))
    };
    for &i in after {
        let nested_touch = f.inst_blocks(i).into_iter().any(|nb| {
            f.blocks_within(nb)
                .into_iter()
                .any(|bb| f.block(bb).insts.iter().any(|&y| touches(f, y, &holders)))
        });
        if nested_touch {
            return None;
        }
        let kind = &f.inst(i).kind;
        if let Some(m) = moving {
            // The moved value's one use is the next write to a variable.
            let mut uses_m = false;
            kind.each_operand(&mut |v| uses_m |= *v == m);
            match *kind {
                InstKind::VarSet { var: w, value } | InstKind::VarInit { var: w, value }
                    if value == m =>
                {
                    holders.insert(w);
                    moving = None;
                    continue;
                }
                _ if uses_m => return None,
                _ => {}
            }
        }
        if !touches(f, i, &holders) {
            continue;
        }
        match *kind {
            InstKind::VarGet(_) if moving.is_none() => moving = Some(f.inst(i).results[0]),
            InstKind::VarAccAt {
                index: ix, value, ..
            } if ix == index && value == taken => return Some(i),
            InstKind::VarAccAt { .. } | InstKind::VarAcc { .. } => {}
            _ => return None,
        }
    }
    None
}
