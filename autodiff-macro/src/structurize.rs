//! Joining diverging branches: after this pass, every `if`/`match` is an instruction with
//! results, and a block ends in one plain terminator.
//!
//! The lowering expresses `return`, `break` and `continue` inside an `if`/`match` as
//! [`Term::Branch`]/[`Term::Switch`], whose arms end in their own jumps. Here such a branch
//! becomes an `if`/`match` instruction whose arms *yield* what their jump would carry, followed
//! by one jump on the results:
//!
//! - in the function body, the arms `return v`: they yield `v`, and the block returns the result;
//! - in a loop body, the arms `continue`/`break` with the carried values: they yield those and
//!   whether they break, and the block ends in [`Term::Next`] (or plain `continue`/`break` when
//!   every arm does the same).
//!
//! Reverse mode then needs only one mechanism for branches — a record per `if`/`match`
//! instruction — and one per loop.

use proc_macro2::Span;
use quote::quote;

use crate::ir::*;

#[derive(Clone, Copy)]
enum Ctx {
    Function,
    /// A loop body carrying this many values.
    Loop(usize),
}

pub fn structurize(f: &mut Func) {
    let body = f.body();
    walk(f, body, Ctx::Function);
}

fn walk(f: &mut Func, b: Block, ctx: Ctx) {
    if matches!(f.block(b).term, Term::Branch { .. } | Term::Switch { .. }) {
        convert(f, b, ctx);
    }
    for i in f.block(b).insts.clone() {
        let inner = match &f.inst(i).kind {
            InstKind::Loop { init, .. } => Ctx::Loop(init.len()),
            _ => ctx,
        };
        for nb in f.inst_blocks(i) {
            walk(f, nb, inner);
        }
    }
}

/// How the leaves under a diverging branch leave.
#[derive(Default)]
struct Leaves {
    continues: bool,
    breaks: bool,
}

fn leaves(f: &Func, b: Block, out: &mut Leaves) {
    match &f.block(b).term {
        Term::Continue(_) => out.continues = true,
        Term::Break(_) => out.breaks = true,
        Term::Next { .. } => {
            out.continues = true;
            out.breaks = true;
        }
        Term::Branch { .. } | Term::Switch { .. } => {
            for nb in f.term_blocks(b) {
                leaves(f, nb, out);
            }
        }
        Term::Return(_) | Term::Yield(_) => {}
    }
}

/// Turns block `b`'s diverging terminator into an instruction and a plain terminator.
fn convert(f: &mut Func, b: Block, ctx: Ctx) {
    let mut lv = Leaves::default();
    leaves(f, b, &mut lv);
    // In a loop, whether the arms break is a result only when they differ.
    let with_flag = matches!(ctx, Ctx::Loop(_)) && lv.continues && lv.breaks;
    let term = std::mem::replace(&mut f.block_mut(b).term, Term::Yield(Vec::new()));
    let (kind, arms) = match term {
        Term::Branch { cond, then, els } => (InstKind::If { cond, then, els }, vec![then, els]),
        Term::Switch { scrutinee, arms } => {
            let blocks = arms.iter().map(|a| a.block).collect();
            (InstKind::Match { scrutinee, arms }, blocks)
        }
        other => {
            f.block_mut(b).term = other;
            return;
        }
    };
    for &arm in &arms {
        to_arm(f, arm, ctx, with_flag);
    }
    let n = match ctx {
        Ctx::Function => 1,
        Ctx::Loop(n) => n + usize::from(with_flag),
    };
    let i = f.push_inst(b, kind, n, Kind::Unknown, Span::call_site());
    let results = f.inst(i).results.clone();
    // Each result is as differentiable as what the arms yield, and is named after it.
    for (k, &r) in results.iter().enumerate() {
        let mut kind: Option<Kind> = None;
        let mut name = None;
        for &arm in &arms {
            if let Term::Yield(vals) = &f.block(arm).term {
                if let Some(&v) = vals.get(k) {
                    let kv = f.value(v).kind;
                    kind = Some(match kind {
                        None => kv,
                        Some(p) if p == kv => kv,
                        Some(p) => p.join(kv),
                    });
                    if name.is_none() {
                        name = f.value(v).name.clone();
                    }
                }
            }
        }
        f.values[r.index()].kind = kind.unwrap_or(Kind::Unknown);
        f.values[r.index()].name = name;
    }
    f.block_mut(b).term = match ctx {
        Ctx::Function => Term::Return(results[0]),
        Ctx::Loop(n) => {
            let vals = results[..n].to_vec();
            if with_flag {
                Term::Next {
                    brk: results[n],
                    vals,
                }
            } else if lv.breaks {
                Term::Break(vals)
            } else {
                Term::Continue(vals)
            }
        }
    };
}

/// Makes `arm` end in a `yield` of what its jump carries.
fn to_arm(f: &mut Func, arm: Block, ctx: Ctx, with_flag: bool) {
    if matches!(f.block(arm).term, Term::Branch { .. } | Term::Switch { .. }) {
        convert(f, arm, ctx);
    }
    let term = f.block(arm).term.clone();
    let flag = |f: &mut Func, on: bool| -> Value {
        let t = if on { quote!(true) } else { quote!(false) };
        let i = f.push_inst(
            arm,
            InstKind::Const(t),
            1,
            Kind::Discrete,
            Span::call_site(),
        );
        f.inst(i).results[0]
    };
    let yielded = match term {
        Term::Return(v) => vec![v],
        Term::Continue(mut vals) => {
            if with_flag {
                let c = flag(f, false);
                vals.push(c);
            }
            vals
        }
        Term::Break(mut vals) => {
            if with_flag {
                let c = flag(f, true);
                vals.push(c);
            }
            vals
        }
        Term::Next { brk, mut vals } => {
            vals.push(brk);
            vals
        }
        Term::Yield(v) => v,
        Term::Branch { .. } | Term::Switch { .. } => unreachable!("converted above"),
    };
    let _ = ctx;
    f.block_mut(arm).term = Term::Yield(yielded);
}
