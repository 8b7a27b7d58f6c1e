//! Integer counters carried by a loop and read inside it, rewritten as functions of the loop's
//! index so that the pullback can compute them again instead of keeping their values.
//!
//! A counter is an integer that a `for` loop over `start..end` carries and changes by the same
//! amount in every iteration,
//!
//! ```text
//! let mut idx = d;                                   // init
//! for j in i + 1..d { ..w[base + idx].. ; idx += 1; } // step 1
//! ```
//!
//! (the lower part's index of the ADBench Gaussian mixture, carried through its triangle of
//! loops). Its value in iteration `j` is `init + step·(j − start)`: this pass makes that the
//! value the body reads (`d::counter_at`), so that the save plan sees a cheap value of the
//! index and of values kept once outside the loop, and recomputes it and the reads it indexes
//! (`w[base + idx]` of a parameter `w`) in the pullback instead of keeping both per iteration.
//! The loop still carries the counter as written: its value after the loop is unchanged.
//!
//! Which loops: a `for` over an ascending range, not checkpointed, whose body goes on to the
//! next iteration only at its end; which counters: carried integers whose carried-on value is
//! `c + step` or `c − step`, computed at the top of the body, with `step` a literal or an
//! integer from outside the loop, and read somewhere besides that.

use crate::activity::Activity;
use crate::ir::*;
use crate::scalars::{Ty, Types};
use proc_macro2::Span;
use std::collections::HashSet;

pub fn rewrite(f: &mut Func, act: &mut Activity, tys: &mut Types) {
    let loops: Vec<Inst> = f
        .blocks_within(f.body())
        .into_iter()
        .flat_map(|b| f.block(b).insts.clone())
        .filter(|&i| matches!(f.inst(i).kind, InstKind::Loop { .. }))
        .collect();
    for l in loops {
        rewrite_loop(f, act, tys, l);
    }
}

fn rewrite_loop(f: &mut Func, act: &mut Activity, tys: &mut Types, l: Inst) {
    let InstKind::Loop {
        kind: LoopKind::Range {
            start, rev: false, ..
        },
        init,
        body,
        checkpoint: None,
    } = f.inst(l).kind.clone()
    else {
        return;
    };
    let Term::Continue(vals) = f.block(body).term.clone() else {
        return;
    };
    let params = f.block(body).params.clone();
    if params.len() != init.len() + 1 {
        return;
    }
    let index = params[0];
    let inside: Vec<Block> = f.blocks_within(body);
    let inside_set: HashSet<Block> = inside.iter().copied().collect();
    // Blocks of nested loops, whose own `continue`s are theirs.
    let mut nested: HashSet<Block> = HashSet::new();
    for &b in &inside {
        for &i in &f.block(b).insts {
            if let InstKind::Loop { body: nb, .. } = f.inst(i).kind {
                nested.extend(f.blocks_within(nb));
            }
        }
    }
    for &b in &inside[1..] {
        if !nested.contains(&b) && matches!(f.block(b).term, Term::Continue(_) | Term::Next { .. })
        {
            return;
        }
    }
    let outside = |f: &Func, v: Value| match f.value(v).def {
        ValueDef::Param(_) | ValueDef::Tangent(_) => true,
        ValueDef::BlockParam(b, _) => !inside_set.contains(&b),
        ValueDef::Result(i, _) => !inside.iter().any(|&b| f.block(b).insts.contains(&i)),
    };
    let discrete = |f: &Func, v: Value| f.value(v).kind == Kind::Discrete;
    for (k, &c) in params[1..].iter().enumerate() {
        if !discrete(f, c) || !discrete(f, init[k]) || matches!(tys.of(c), Ty::Float(_)) {
            continue;
        }
        let y = vals[k];
        let ValueDef::Result(yi, 0) = f.value(y).def else {
            continue;
        };
        if !f.block(body).insts.contains(&yi) {
            continue;
        }
        let (step, up) = match f.inst(yi).kind {
            InstKind::Binary(BinOp::Add, a, s) if a == c => (s, true),
            InstKind::Binary(BinOp::Add, s, a) if a == c => (s, true),
            InstKind::Binary(BinOp::Sub, a, s) if a == c => (s, false),
            _ => continue,
        };
        // A literal step (`idx += 1`) is written in the body: the value is read at its top
        // from a copy of it.
        let step_const = match f.value(step).def {
            ValueDef::Result(si, 0) => match &f.inst(si).kind {
                InstKind::Const(t) => Some(t.clone()),
                _ => None,
            },
            _ => None,
        };
        if step == c || (step_const.is_none() && !outside(f, step)) {
            continue;
        }
        if step_const.is_none() && !discrete(f, step) {
            continue;
        }
        // Read besides its step?
        let reads = inside
            .iter()
            .flat_map(|&b| {
                let mut ops: Vec<Value> = f
                    .block(b)
                    .insts
                    .iter()
                    .flat_map(|&i| f.operands(i))
                    .collect();
                ops.extend(f.term_operands(b));
                ops
            })
            .filter(|&v| v == c)
            .count();
        if reads < 2 {
            continue;
        }
        let span = Span::call_site();
        let mut top = Vec::new();
        let step = match step_const {
            Some(t) => {
                let i = f.push_inst(body, InstKind::Const(t), 1, f.value(step).kind, span);
                top.push(i);
                let v = f.inst(i).results[0];
                let ty = tys.of(step);
                tys.set(v, ty);
                v
            }
            None => step,
        };
        let flag = f.push_inst(
            body,
            InstKind::Const(if up {
                quote::quote!(true)
            } else {
                quote::quote!(false)
            }),
            1,
            Kind::Discrete,
            span,
        );
        let flag_v = f.inst(flag).results[0];
        let at = f.push_inst(
            body,
            InstKind::Helper {
                name: "counter_at".into(),
                args: vec![init[k], step, flag_v, index, start],
            },
            1,
            Kind::Discrete,
            span,
        );
        let now = f.inst(at).results[0];
        f.values[now.index()].name = f.value(c).name.clone();
        top.extend([flag, at]);
        let insts = &mut f.blocks[body.index()].insts;
        insts.truncate(insts.len() - top.len());
        insts.splice(0..0, top.iter().copied());
        for &b in &inside {
            for i in f.block(b).insts.clone() {
                if i == at {
                    continue;
                }
                let mut kind = f.inst(i).kind.clone();
                kind.operands_mut(&mut |v| {
                    if *v == c {
                        *v = now;
                    }
                });
                f.insts[i.index()].kind = kind;
            }
            let mut term = f.block(b).term.clone();
            term.operands_mut(&mut |v| {
                if *v == c {
                    *v = now;
                }
            });
            f.blocks[b.index()].term = term;
        }
        let n = f.values.len();
        for table in [&mut act.active, &mut act.varied, &mut act.useful] {
            table.resize(n, false);
        }
        act.useful[now.index()] = act.useful.get(c.index()).copied().unwrap_or(false);
        act.inst_block.resize(f.insts.len(), Block(0));
        for &i in &top {
            act.inst_block[i.index()] = body;
        }
        tys.set(flag_v, Ty::Unknown);
        tys.set(now, Ty::Unknown);
    }
}
