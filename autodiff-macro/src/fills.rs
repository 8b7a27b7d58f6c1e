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
}

pub fn forward_fills(f: &mut Func) {
    let blocks = f.blocks_within(f.body());
    let mut fills: HashMap<Value, Fill> = HashMap::new();
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
            if let Some(fill) = fill_of(f, &blocks, i) {
                fills.insert(f.inst(i).results[0], fill);
            }
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
                        let mut kind = f.inst(op).kind.clone();
                        kind.operands_mut(&mut |v| {
                            if let Some(&w) = map.get(v) {
                                *v = w;
                            }
                        });
                        let old = f.inst(op).results[0];
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

/// The loop `l` as a [`Fill`], if it is one.
fn fill_of(f: &Func, blocks: &[Block], l: Inst) -> Option<Fill> {
    let InstKind::Loop {
        kind: LoopKind::Range { start, end, .. },
        ref init,
        body,
        checkpoint: None,
    } = f.inst(l).kind
    else {
        return None;
    };
    if init.len() != 1 || !is_zero(f, start) || f.blocks_within(body).len() != 1 {
        return None;
    }
    let [index, arr] = f.block(body).params[..] else {
        return None;
    };
    let Term::Continue(vals) = &f.block(body).term else {
        return None;
    };
    let [next] = vals[..] else {
        return None;
    };
    let ValueDef::Result(set, 0) = f.value(next).def else {
        return None;
    };
    let InstKind::IndexSet {
        base,
        index: at,
        value,
    } = f.inst(set).kind
    else {
        return None;
    };
    let insts = &f.block(body).insts;
    if base != arr || at != index || insts.last() != Some(&set) {
        return None;
    }
    // The array is read nowhere else in the body (`a[id] = a[id - 1] + ..` is no fill).
    let uses = insts
        .iter()
        .flat_map(|&i| f.operands(i))
        .filter(|&v| v == arr)
        .count();
    if uses != 1 {
        return None;
    }
    // What computes the value, in the body's order: pure instructions of the body.
    let mut needed = vec![value];
    let mut ops = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(v) = needed.pop() {
        if v == index || !seen.insert(v) {
            continue;
        }
        let ValueDef::Result(i, 0) = f.value(v).def else {
            // A parameter of the body other than the index is the array.
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
            // Read again later, the array must still hold what it held here.
            InstKind::Index(a, _) => a != init[0] && only_read(f, blocks, a),
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
    Some(Fill {
        inst: l,
        end,
        index,
        value,
        ops,
    })
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
