//! Reduction loops: reversed by running each iteration's pullback right after the iteration,
//! in the forward pass, instead of keeping a record of every iteration for a backward loop.
//!
//! A loop that only adds terms to one accumulator and reads everything else from outside
//! without changing it,
//!
//! ```text
//! for i in a..b { ..; s += eᵢ(w) }        s_out = s_in + Σᵢ eᵢ(w)
//! ```
//!
//! has the same accumulator adjoint in every iteration (`∂s_out/∂s_in = 1`), so its pullback
//! is `s̄_in = s̄_out`, `w̄ += s̄_out · Σᵢ ∂eᵢ/∂w`. The sum `Σᵢ ∂eᵢ/∂w` is the loop's pullback with
//! the accumulator's adjoint at one: each iteration's share of it can be computed as soon as
//! the iteration has run, while everything it reads is still at hand. Reverse mode
//! ([`crate::reverse`]) then gives such a loop
//!
//! ```text
//! forward:   w̃ = 0                                  (one per value the body reads from outside)
//!            for i in a..b { <body>; <pullback of the body, s̄ = 1, into w̃> }
//! pullback:  s̄_in = s̄_out;  w̄ += s̄_out · w̃
//! ```
//!
//! What an iteration's pullback reads lives for that iteration only: the loop keeps no record
//! per iteration, so a loss summed over millions of data points takes no memory for them, and
//! the push and pop of each record are gone. The cost is a zero and a scaling of the adjoint of
//! each value the body reads from outside, the same order of work as the zero the recorded loop
//! starts those adjoints at. A careful hand-written gradient is organised the same way; in the
//! AD literature it is the preaccumulation of a scalar-valued region.
//!
//! Which loops ([`accumulator`]): a `for` loop over a range at the function's top level, not
//! checkpointed, with no loop inside it, whose body ends by going on to the next iteration (no
//! `break`) and changes nothing in place; exactly one of its carried values is active, a plain
//! float (of a known type, the start of `.sum()` adding floats, or started at a float literal
//! or at `T::zero()`/`T::one()` of a type parameter bounded by `Float`), and the body uses it
//! only in `s + e`, `e + s` or `s − e`, which it carries on.
//! Forward over reverse (`hessian`) and exact mode at kinks keep the recorded form (the caller
//! does not ask).
//!
//! Loops inside the body are left to the recorded form because it measured faster there: the
//! backward work of an iteration waits on the forward work just done, where the recorded form
//! lets the processor overlap iterations, and the records of a long inner loop cost little
//! beside its work (the report's Gaussian mixture, and a logistic loss over the rows of a matrix,
//! were 7% and 13% slower in place; the report's Rosenbrock loop, a few operations per
//! iteration, 4–15% faster). Measured again once the stacks of a nest were reserved at its
//! entry (each build pinned to one core at real-time priority, `chrt -f 50 taskset -c 1`, the
//! least of 40 batches): in place, the mixture took 1.01–1.02 of the recorded form's time at
//! d=5 and d=10 and 0.98–1.04 at d=2, and a logistic loss over rows of 20 and 100 features
//! 1.14 and 1.20, although it ran as many instructions and missed the L1 cache a twentieth as
//! often (cachegrind); a hand-written gradient that runs each row's backward work right after
//! its forward work was as slow as the in-place form there.

use crate::activity::Activity;
use crate::ir::*;
use crate::scalars::{FloatTy, Ty, Types};

/// For loop `i`, the position of its accumulator among the carried values and its float type
/// (`None`: a float whose type only rustc knows), if the loop is a reduction loop that reverse
/// mode runs in place (see the module documentation).
pub fn accumulator(
    f: &Func,
    act: &Activity,
    tys: &Types,
    i: Inst,
) -> Option<(usize, Option<FloatTy>)> {
    let InstKind::Loop {
        kind: LoopKind::Range { .. },
        init,
        body,
        checkpoint: None,
    } = &f.inst(i).kind
    else {
        return None;
    };
    let body = *body;
    if act.inst_block[i.index()] != f.body() {
        return None;
    }
    let Term::Continue(vals) = &f.block(body).term else {
        return None;
    };
    let active = |v: Value| act.active.get(v.index()).copied().unwrap_or(false);
    let params = &f.block(body).params;
    let carried = &params[params.len() - init.len()..];
    let mut acc = None;
    for (k, &p) in carried.iter().enumerate() {
        if active(p) || active(vals[k]) || active(f.inst(i).results[k]) {
            if acc.is_some() {
                return None;
            }
            acc = Some(k);
        }
    }
    let k = acc?;
    let p = carried[k];
    // The carried-on value: `p + e`, `e + p` or `p - e`, defined at the top of the body.
    let y = vals[k];
    let ValueDef::Result(yi, 0) = f.value(y).def else {
        return None;
    };
    if act.inst_block[yi.index()] != body {
        return None;
    }
    let e = match f.inst(yi).kind {
        InstKind::Binary(BinOp::Add, a, b) if a == p => b,
        InstKind::Binary(BinOp::Add, a, b) if b == p => a,
        InstKind::Binary(BinOp::Sub, a, b) if a == p => b,
        _ => return None,
    };
    if e == p {
        return None;
    }
    // A float: of a type the macro knows (a `.sum()` of floats included, typed by its terms);
    // or a variable started at a float literal, which stays a float whatever the terms are
    // (`let mut s = 0.0; s += h.sum()` with `h` an array).
    let float = match tys.of(p) {
        Ty::Float(t) => Some(t),
        _ if matches!(tys.of(init[k]), Ty::Lit) && is_const(f, init[k]) => None,
        // `T::zero()` of a type parameter bounded by `Float`: a float of that type, which
        // only rustc names.
        _ if is_float_param_zero(f, init[k]) => None,
        _ => return None,
    };
    let blocks = f.blocks_within(body);
    // A call lent a carried value that the iteration replaces (`vd(&w, x); w *= 0.5;`): the
    // iteration's pullback, run after the iteration, would borrow what the replacement moved.
    let replaced: Vec<Value> = carried
        .iter()
        .zip(vals.iter())
        .filter(|&(c, v)| c != v)
        .map(|(&c, _)| c)
        .collect();
    let lends_replaced = |v: Value| {
        crate::joint::borrow_root(f, v).is_some_and(|(root, _)| replaced.contains(&root))
    };
    let (mut p_uses, mut y_uses) = (0, 0);
    for &b in &blocks {
        for &ii in &f.block(b).insts {
            match &f.inst(ii).kind {
                InstKind::IndexSet { .. }
                | InstKind::Mutate { .. }
                | InstKind::CkptStart { .. }
                | InstKind::InlinePullback { .. } => return None,
                // Left to the recorded form (see the module documentation).
                InstKind::Loop { .. } => return None,
                InstKind::Call { args, .. } if args.iter().any(|&a| lends_replaced(a)) => {
                    return None;
                }
                // `insert_axis` or `into_shape_with_order` of an owned array moves it: the
                // pullback run after the iteration would read its shape (rustc's E0382 inside
                // the generated code: `x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1))`).
                kind if f.moves_owned_array(kind) => return None,
                _ => {}
            }
            for v in f.operands(ii) {
                p_uses += usize::from(v == p);
                y_uses += usize::from(v == y);
            }
        }
        for v in f.term_operands(b) {
            p_uses += usize::from(v == p);
            y_uses += usize::from(v == y);
        }
    }
    // No block inside may leave the loop (there are no loops inside for it to leave).
    for &b in &blocks[1..] {
        if matches!(
            f.block(b).term,
            Term::Continue(_) | Term::Break(_) | Term::Next { .. } | Term::Return(_)
        ) {
            return None;
        }
    }
    (p_uses == 1 && y_uses == 1).then_some((k, float))
}

fn is_const(f: &Func, v: Value) -> bool {
    match f.value(v).def {
        ValueDef::Result(i, 0) => matches!(&f.inst(i).kind, InstKind::Const(_)),
        _ => false,
    }
}

/// `T::zero()` (or `T::one()`) where `T` is a float type parameter.
fn is_float_param_zero(f: &Func, v: Value) -> bool {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return false;
    };
    let InstKind::Call { path, args } = &f.inst(i).kind else {
        return false;
    };
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    args.is_empty()
        && matches!(&segs[..], [t, c] if crate::types::is_float_param(t) && (c == "zero" || c == "one"))
}
