//! Reads of an array that a loop has just filled, rewritten as the values it filled it with.
//!
//! Code translated from C and C++ keeps scratch vectors that a loop fills for every point and
//! that loops after it read (the ADBench Gaussian mixture, for every point and component):
//!
//! ```text
//! for id in 0..d { xc[id] = x[ix * d + id] - means[ik * d + id]; }
//! for i in 0..d { .. xc[i] .. }                // later, in another loop over 0..d
//! ```
//!
//! The array is overwritten in the next iteration of the loops around, so the pullback, which
//! reads `xc[i]` again, would keep a copy of the array per iteration. But below the filling loop
//! `xc[i]` is, for every `i` in `0..d`, the value the loop wrote at `i`: this pass rewrites such
//! a read as that value's computation with `i` for the filling loop's index
//! (`x[ix * d + i] - means[ik * d + i]`). The save plan then recomputes it from values it keeps
//! anyway (loop indices, parameters), instead of keeping the array; the array's writes stay
//! (they are the program's, and may panic as written), and when nothing reads the array any
//! more it needs no derivative at all.
//!
//! Which loops: a `for` over `0..end` (exclusive, either direction) that carries only the array
//! and, without any control flow inside, writes the element at its index (`a[id] = v`) as its
//! last step, where `v` is computed in the body by arithmetic, casts and element reads from
//! the index and values from outside the loop (at most [`MAX_OPS`] instructions). Which reads:
//! `a[i]` of the loop's result, where `i` is the index of a loop over `start..end` (exclusive)
//! with the same `end`, so that `i` is one of the indices written.

use std::collections::HashMap;

use crate::ir::*;

/// The most instructions a value's computation may take to be recomputed at its reads.
const MAX_OPS: usize = 12;

/// A filling loop: its result (the filled array), its index, and the instructions that
/// compute the value written, in order.
struct Fill {
    /// The loop, and the end of its range.
    inst: Inst,
    end: Value,
    index: Value,
    value: Value,
    ops: Vec<Inst>,
    /// The arrays the same iteration writes at the index, by their new version, with the value
    /// written: a read of one of them among `ops` is that value.
    written: HashMap<Value, Value>,
}

pub fn forward_fills(f: &mut Func) {
    let blocks = f.blocks_within(f.body());
    let mut fills: HashMap<Value, Fill> = HashMap::new();
    let changed = f.changed_in_place(true);
    // The `end` of each `for` loop's range, by the loop body's index parameter.
    let mut ranges: HashMap<Value, Value> = HashMap::new();
    for &b in &blocks {
        for &i in &f.block(b).insts {
            let InstKind::Loop {
                kind:
                    LoopKind::Range {
                        end,
                        inclusive: false,
                        ..
                    },
                body,
                ..
            } = f.inst(i).kind
            else {
                continue;
            };
            if let Some(&ix) = f.block(body).params.first() {
                ranges.insert(ix, end);
            }
            // A fill whose array a method run as written may change in place (a user's
            // `c.normalize()`, `c.copy_within(1.., 0)`) no longer holds what the loop wrote.
            let changed = &changed;
            fills.extend(
                fills_of(f, &blocks, i)
                    .into_iter()
                    .filter(|(arr, _)| !changed.contains(arr)),
            );
        }
    }
    if fills.is_empty() {
        return;
    }
    // The value computed for each (filled array, index) pair already, and each removed read's
    // replacement.
    let mut made: HashMap<(Value, Value), Value> = HashMap::new();
    let mut subst: HashMap<Value, Value> = HashMap::new();
    for &b in &blocks {
        let mut k = 0;
        while k < f.block(b).insts.len() {
            let i = f.block(b).insts[k];
            let InstKind::Index(arr, at) = f.inst(i).kind else {
                k += 1;
                continue;
            };
            let Some(fill) = fills.get(&arr) else {
                k += 1;
                continue;
            };
            if ranges.get(&at) != Some(&fill.end) || inside_reader(f, fill.inst, at) {
                k += 1;
                continue;
            }
            // The value's computation, with the read's index for the loop's, at the top of
            // that loop's body: once per iteration there, however deep the read is nested
            // (`xc[i]` in a loop over `j` inside the loop over `i`).
            let read = f.inst(i).results[0];
            let now = match made.get(&(arr, at)) {
                Some(&v) => v,
                None => {
                    let ValueDef::BlockParam(top, _) = f.value(at).def else {
                        unreachable!("a loop's index is its body's parameter")
                    };
                    let mut map: HashMap<Value, Value> = HashMap::from([(fill.index, at)]);
                    let mut new = Vec::new();
                    for &op in &fill.ops {
                        let old = f.inst(op).results[0];
                        if let InstKind::Index(a, _) = f.inst(op).kind
                            && let Some(&w) = fill.written.get(&a)
                        {
                            let w = map.get(&w).copied().unwrap_or(w);
                            map.insert(old, w);
                            continue;
                        }
                        let mut kind = f.inst(op).kind.clone();
                        kind.operands_mut(&mut |v| {
                            if let Some(&w) = map.get(v) {
                                *v = w;
                            }
                        });
                        let span = f.inst(op).span;
                        let c = f.push_inst(top, kind, 1, f.value(old).kind, span);
                        f.block_mut(top).insts.pop();
                        let r = f.inst(c).results[0];
                        f.values[r.index()].name = f.value(old).name.clone();
                        map.insert(old, r);
                        new.push(c);
                    }
                    if top == b {
                        k += new.len();
                    }
                    f.block_mut(top).insts.splice(0..0, new);
                    let v = map.get(&fill.value).copied().unwrap_or(fill.value);
                    made.insert((arr, at), v);
                    v
                }
            };
            // The read goes: its index is one the fill wrote, so it cannot fail.
            f.block_mut(b).insts.remove(k);
            subst.insert(read, now);
        }
    }
    // Inside a filling loop, a read of what the iteration has just written at the index is the
    // value written (`qx[id] = q[id] * xc[id]` after `xc[id] = ..`): the pullback reads that
    // value, which it may compute again, instead of keeping the read.
    let mut bodies: Vec<(Block, &HashMap<Value, Value>)> = Vec::new();
    for fill in fills.values() {
        let InstKind::Loop { body, .. } = f.inst(fill.inst).kind else {
            continue;
        };
        if !bodies.iter().any(|&(b, _)| b == body) {
            bodies.push((body, &fill.written));
        }
    }
    for (body, written) in bodies {
        let mut gone = Vec::new();
        for &i in &f.block(body).insts {
            if let InstKind::Index(a, _) = f.inst(i).kind
                && let Some(&w) = written.get(&a)
            {
                subst.insert(f.inst(i).results[0], w);
                gone.push(i);
            }
        }
        f.block_mut(body).insts.retain(|i| !gone.contains(i));
    }
    // A value computed in place of a read may read another fill's array (`qxc[id] =
    // q[id] * xc[id]`): the chain is followed.
    let resolve = |mut v: Value| {
        while let Some(&s) = subst.get(&v) {
            v = s;
        }
        v
    };
    for &b in &blocks {
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

/// The fills of the loop `l`: each array it carries that it fills, by the loop's result.
///
/// A loop may fill several arrays and carry other values beside them (`for id in 0..d { xc[id]
/// = x[id] - m[id]; qx[id] = q[id] * xc[id]; s += qx[id]; }`): each carried array is a fill on
/// its own terms. A read of an array the same iteration has just written at its index (`xc[id]`
/// above) is the value written, so a value computed from it is still computed from the index
/// and values from outside.
fn fills_of(f: &Func, blocks: &[Block], l: Inst) -> Vec<(Value, Fill)> {
    let InstKind::Loop {
        kind: LoopKind::Range { start, end, .. },
        ref init,
        body,
        checkpoint: None,
    } = f.inst(l).kind
    else {
        return Vec::new();
    };
    if !is_zero(f, start) || f.blocks_within(body).len() != 1 {
        return Vec::new();
    }
    let params = &f.block(body).params;
    let Term::Continue(next) = &f.block(body).term else {
        return Vec::new();
    };
    if params.len() != next.len() + 1 || next.len() != init.len() {
        return Vec::new();
    }
    let index = params[0];
    let insts = &f.block(body).insts;
    // Each carried array written once at the index: its write, by the new version.
    let mut sets: HashMap<Value, (Value, Value)> = HashMap::new();
    for (k, &n) in next.iter().enumerate() {
        let arr = params[k + 1];
        let ValueDef::Result(set, 0) = f.value(n).def else {
            continue;
        };
        let InstKind::IndexSet {
            base,
            index: at,
            value,
        } = f.inst(set).kind
        else {
            continue;
        };
        if base != arr || at != index || !insts.contains(&set) {
            continue;
        }
        // The array is read nowhere else in the body (`a[id] = a[id - 1] + ..` is no fill), and
        // its new version only where it leaves the iteration and by reads at the index.
        let old_uses = insts
            .iter()
            .flat_map(|&i| f.operands(i))
            .filter(|&v| v == arr)
            .count()
            + f.term_operands(body).iter().filter(|&&v| v == arr).count();
        let new_ok = insts.iter().all(|&i| {
            !f.operands(i).contains(&n)
                || i == set
                || matches!(f.inst(i).kind, InstKind::Index(a, at) if a == n && at == index)
        }) && f.term_operands(body).iter().filter(|&&v| v == n).count() == 1;
        if old_uses == 1 && new_ok {
            sets.insert(n, (arr, value));
        }
    }
    let mut out = Vec::new();
    for (k, &n) in next.iter().enumerate() {
        let Some(&(_, value)) = sets.get(&n) else {
            continue;
        };
        if let Some(ops) = value_ops(f, blocks, body, index, value, &sets, &init[..]) {
            let fill = Fill {
                inst: l,
                end,
                index,
                value,
                ops,
                written: sets.iter().map(|(&n, &(_, v))| (n, v)).collect(),
            };
            out.push((f.inst(l).results[k], fill));
        }
    }
    out
}

/// What computes `value` in the loop body `body`, in the body's order: pure instructions of
/// the body, reading the index, values from outside, arrays only read, and the arrays this
/// iteration has written (`sets`) at the index.
fn value_ops(
    f: &Func,
    blocks: &[Block],
    body: Block,
    index: Value,
    value: Value,
    sets: &HashMap<Value, (Value, Value)>,
    init: &[Value],
) -> Option<Vec<Inst>> {
    let insts = &f.block(body).insts;
    let mut needed = vec![value];
    let mut ops = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(v) = needed.pop() {
        if v == index || !seen.insert(v) {
            continue;
        }
        let ValueDef::Result(i, 0) = f.value(v).def else {
            // A parameter of the body other than the index is carried.
            if matches!(f.value(v).def, ValueDef::BlockParam(b, _) if b == body) {
                return None;
            }
            continue;
        };
        if !insts.contains(&i) {
            continue;
        }
        let pure = match f.inst(i).kind {
            InstKind::Const(_)
            | InstKind::Binary(..)
            | InstKind::Neg(_)
            | InstKind::Cast { .. } => true,
            // What this iteration wrote at the index: the value written, computed before.
            InstKind::Index(a, _) if sets.contains_key(&a) => {
                needed.push(sets[&a].1);
                ops.push(i);
                continue;
            }
            // Read again later, the array must still hold what it held here.
            InstKind::Index(a, _) => !init.contains(&a) && source_only_read(f, blocks, a),
            _ => false,
        };
        if !pure || f.inst(i).results.len() != 1 {
            return None;
        }
        ops.push(i);
        if ops.len() > MAX_OPS {
            return None;
        }
        needed.extend(f.operands(i));
    }
    ops.sort_by_key(|i| insts.iter().position(|j| j == i));
    Some(ops)
}

/// Whether `a`, and what it borrows or views (`u` of `let r = &u;`), are only read where they
/// are used: `u[0] = 7.0` after the fill would change what `r[j]` reads below it.
fn source_only_read(f: &Func, blocks: &[Block], mut a: Value) -> bool {
    loop {
        if !only_read(f, blocks, a) {
            return false;
        }
        let ValueDef::Result(i, 0) = f.value(a).def else {
            return true;
        };
        a = match &f.inst(i).kind {
            InstKind::Ref(b) | InstKind::Deref(b) | InstKind::Ascribe { value: b, .. } => *b,
            InstKind::Prim { prim, args, .. } if prim.has(crate::prim::Flags::VIEW) => args[0],
            _ => return true,
        };
    }
}

/// Whether `a` is only read where it is used: element reads, methods that do not change it,
/// references. A value used otherwise (written in place, carried into a loop, passed on) may
/// share its buffer with a later version, so a read of it moved further down could see that.
fn only_read(f: &Func, blocks: &[Block], a: Value) -> bool {
    for &b in blocks {
        for &i in &f.block(b).insts {
            let ok = match &f.inst(i).kind {
                InstKind::Index(..) => true,
                InstKind::Method {
                    args,
                    recv_mut: None,
                    ..
                } => !args.contains(&a),
                InstKind::Ref(r) if *r == a => only_read(f, blocks, f.inst(i).results[0]),
                _ => !f.operands(i).contains(&a),
            };
            if !ok {
                return false;
            }
        }
        if f.term_operands(b).contains(&a) {
            return false;
        }
    }
    true
}

/// Whether the fill `l` sits inside the loop whose index `at` is: the top of that loop's body,
/// where the value would be computed, comes before the fill and what it reads.
fn inside_reader(f: &Func, l: Inst, at: Value) -> bool {
    let ValueDef::BlockParam(top, _) = f.value(at).def else {
        return true;
    };
    f.blocks_within(top)
        .iter()
        .any(|&b| f.block(b).insts.contains(&l))
}

fn is_zero(f: &Func, v: Value) -> bool {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return false;
    };
    matches!(&f.inst(i).kind, InstKind::Const(t)
        if matches!(t.to_string().as_str(), "0" | "0usize"))
}
