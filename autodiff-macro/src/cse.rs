//! Values the function computes twice from the same operands are computed once.
//!
//! Users write the same read or the same difference twice where they square it: `qx[i] *
//! qx[i]`, `(x[i] - m) * (x[i] - m)`, `icf[base + i] * icf[base + i]`. Each occurrence is a
//! value of its own in the SSA form, so the product is not seen as a square (see
//! [`crate::prim::forms::squared`]) and its pullback adds two contributions into the adjoint
//! of the same element. Once the repeats are one value, the product is `x * x` and its pullback
//! one contribution `ḡ·(x + x)`, as a person writes it.
//!
//! Only values that are the same whenever they are computed from the same operands are merged:
//! arithmetic, negation and casts of floats and of integers, and element reads of arrays of
//! floats (an array value in the SSA form is one version of the array, so two reads of it at
//! the same index read the same element). A repeat is replaced by the value computed before it
//! in its own block. Values of the blocks around it are not shared: on the ADBench mixture at
//! d=2, merging a loop body's index arithmetic and reads with the same values outside the loop
//! made the gradient 3% slower than merging none, and merging within each block 1% faster than
//! that (one process, best of 60 rounds). A value that code run as written may change in
//! place without making a new version (the receiver of a user's `&mut self` method on a `mut`
//! data array, or a variable a user's macro reads) is not an operand of anything merged.

use std::collections::{HashMap, HashSet};

use crate::ir::*;
use crate::scalars::{Ty, Types};

/// What makes two instructions compute the same value.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Binary(&'static str, Value, Value),
    Neg(Value),
    Cast(Value, String),
    Index(Value, Value),
    /// An element read at a literal index (`x[0]`): each literal is a value of its own.
    IndexAt(Value, String),
}

pub fn merge_repeats(f: &mut Func, tys: &Types) {
    let body = f.body();
    let cx = Cx {
        tys,
        changed: f.changed_in_place(true),
    };
    walk(f, &cx, body, &mut HashMap::new());
}

struct Cx<'a> {
    tys: &'a Types,
    changed: HashSet<Value>,
}

/// Merges the repeats of block `b`, then of the blocks its instructions and terminator own.
/// `subst` maps each repeat removed so far to the value that stays (itself never a repeat): the
/// blocks are walked in program order, so every read of a repeat comes after it is mapped.
fn walk(f: &mut Func, cx: &Cx, b: Block, subst: &mut HashMap<Value, Value>) {
    let mut seen: HashMap<Key, Value> = HashMap::new();
    let mut kept = Vec::new();
    for i in f.block(b).insts.clone() {
        f.insts[i.index()].kind.operands_mut(&mut |v| {
            if let Some(&s) = subst.get(v) {
                *v = s;
            }
        });
        if let Some(key) = key(f, cx, i) {
            let r = f.inst(i).results[0];
            match seen.get(&key) {
                Some(&first) => {
                    subst.insert(r, first);
                    continue;
                }
                None => {
                    seen.insert(key, r);
                }
            }
        }
        kept.push(i);
        for nb in f.inst_blocks(i) {
            walk(f, cx, nb, subst);
        }
    }
    f.block_mut(b).insts = kept;
    let mut term = f.block(b).term.clone();
    term.operands_mut(&mut |v| {
        if let Some(&s) = subst.get(v) {
            *v = s;
        }
    });
    f.blocks[b.index()].term = term;
    for nb in f.term_blocks(b) {
        walk(f, cx, nb, subst);
    }
}

/// The key of instruction `i`, where it is one that may be merged.
fn key(f: &Func, cx: &Cx, i: Inst) -> Option<Key> {
    let inst = f.inst(i);
    if inst.results.len() != 1 || f.operands(i).iter().any(|v| cx.changed.contains(v)) {
        return None;
    }
    let tys = cx.tys;
    let r = inst.results[0];
    let float = matches!(tys.of(r), Ty::Float(_));
    let discrete = |v: Value| f.value(v).kind == Kind::Discrete;
    match &inst.kind {
        InstKind::Binary(op, a, b) if float || (discrete(*a) && discrete(*b) && discrete(r)) => {
            Some(Key::Binary(op.name(), *a, *b))
        }
        InstKind::Neg(a) if float || (discrete(*a) && discrete(r)) => Some(Key::Neg(*a)),
        InstKind::Cast { value, ty } if float || (discrete(*value) && discrete(r)) => {
            let ty = quote::quote!(#ty).to_string();
            Some(Key::Cast(*value, ty))
        }
        InstKind::Index(a, at) if float && matches!(tys.of(*a), Ty::Elems(_)) && discrete(*at) => {
            match f.value(*at).def {
                ValueDef::Result(c, 0) if matches!(f.inst(c).kind, InstKind::Const(_)) => {
                    let InstKind::Const(t) = &f.inst(c).kind else {
                        unreachable!()
                    };
                    Some(Key::IndexAt(*a, t.to_string()))
                }
                _ => Some(Key::Index(*a, *at)),
            }
        }
        _ => None,
    }
}
