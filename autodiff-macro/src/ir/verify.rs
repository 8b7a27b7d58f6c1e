//! The SSA verifier: checks the invariants the reverse transform relies on.
//!
//! - every operand is defined before its use, in the same block or an enclosing one;
//! - every value is defined once, every block is owned once;
//! - `yield` carries as many values as its `if`/`match` has results, `continue`/`break` as
//!   many as the loop carries, and they appear only where they belong;
//! - the pullback sees its own values and the values of the function's top level (the ones
//!   its closure can capture), nothing else of the forward pass; the pullback of a
//!   checkpointed loop's iteration also sees what its record body defines.

use std::collections::HashSet;

use super::*;

pub fn verify(f: &Func) -> Result<(), String> {
    let mut v = Verifier {
        f,
        visible: HashSet::new(),
        seen_blocks: HashSet::new(),
        defined: HashSet::new(),
    };
    let body = f.body.ok_or("no body")?;
    for p in &f.params {
        v.define(p.value)?;
    }
    for &(_, d) in &f.tangent_params {
        v.define(d)?;
    }
    v.block(body, Ctx::Function)?;
    if let Some(pb) = f.pullback {
        // The pullback may read the top level of the forward pass: what it captures.
        let mut visible: HashSet<Value> = f.params.iter().map(|p| p.value).collect();
        visible.extend(f.tangent_params.iter().map(|&(_, d)| d));
        for &i in &f.block(body).insts {
            visible.extend(f.inst(i).results.iter().copied());
        }
        v.visible = visible;
        v.block(pb, Ctx::Function)?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Ctx {
    Function,
    Arm(usize),
    Loop(usize),
}

struct Verifier<'a> {
    f: &'a Func,
    visible: HashSet<Value>,
    seen_blocks: HashSet<Block>,
    defined: HashSet<Value>,
}

impl Verifier<'_> {
    fn define(&mut self, v: Value) -> Result<(), String> {
        if !self.defined.insert(v) {
            return Err(format!("{v} is defined twice"));
        }
        self.visible.insert(v);
        Ok(())
    }

    fn use_(&self, v: Value, at: &str) -> Result<(), String> {
        if self.visible.contains(&v) {
            Ok(())
        } else {
            Err(format!("{v} is used in {at} but not visible there"))
        }
    }

    fn nested(&mut self, b: Block, ctx: Ctx) -> Result<(), String> {
        let saved = self.visible.clone();
        let r = self.block(b, ctx);
        self.visible = saved;
        r
    }

    fn block(&mut self, b: Block, ctx: Ctx) -> Result<(), String> {
        if !self.seen_blocks.insert(b) {
            return Err(format!("{b} is owned twice"));
        }
        let data = self.f.block(b);
        for &p in &data.params {
            self.define(p)?;
        }
        for &i in &data.insts {
            let at = format!("{i}");
            for v in self.f.operands(i) {
                self.use_(v, &at)?;
            }
            let inst = self.f.inst(i);
            match &inst.kind {
                InstKind::If { then, els, .. } => {
                    self.nested(*then, Ctx::Arm(inst.results.len()))?;
                    self.nested(*els, Ctx::Arm(inst.results.len()))?;
                }
                InstKind::Match { arms, .. } => {
                    for a in arms {
                        self.nested(a.block, Ctx::Arm(inst.results.len()))?;
                    }
                }
                InstKind::MatchRecord { arms, .. } => {
                    for &a in arms {
                        self.nested(a, Ctx::Arm(0))?;
                    }
                }
                InstKind::InlinePullback { body } => self.nested(*body, Ctx::Arm(0))?,
                InstKind::Loop {
                    init, body, kind, ..
                } => {
                    let params = self.f.block(*body).params.len();
                    let index = usize::from(matches!(kind, LoopKind::Range { .. }));
                    if params != init.len() + index {
                        return Err(format!("{i}: loop body has {params} parameters"));
                    }
                    if inst.results.len() != init.len() {
                        return Err(format!("{i}: loop results differ from carried values"));
                    }
                    self.nested(*body, Ctx::Loop(init.len()))?;
                }
                InstKind::CkptSweep {
                    range,
                    advance,
                    record,
                    reverse,
                    ..
                } => {
                    let index = usize::from(range.is_some());
                    let n = self.f.block(*record).params.len();
                    if n < index || self.f.block(*advance).params.len() != n + 1 {
                        return Err(format!("{i}: sweep blocks disagree on the loop state"));
                    }
                    self.nested(*advance, Ctx::Loop(n - index + 1))?;
                    // The iteration's pullback reads what the record body defines.
                    let saved = self.visible.clone();
                    self.block(*record, Ctx::Arm(0))?;
                    self.block(*reverse, Ctx::Arm(0))?;
                    self.visible = saved;
                }
                _ => {}
            }
            for &r in &inst.results {
                self.define(r)?;
            }
        }
        let at = format!("the terminator of {b}");
        for v in self.f.term_operands(b) {
            self.use_(v, &at)?;
        }
        match (&data.term, ctx) {
            (Term::Yield(vs), Ctx::Arm(n)) if vs.len() == n => Ok(()),
            (Term::Continue(vs) | Term::Break(vs), Ctx::Loop(n)) if vs.len() == n => Ok(()),
            (Term::Next { vals, .. }, Ctx::Loop(n)) if vals.len() == n => Ok(()),
            (Term::Return(_), Ctx::Function) => Ok(()),
            (Term::Branch { then, els, .. }, _) => {
                self.nested(*then, ctx)?;
                self.nested(*els, ctx)
            }
            (Term::Switch { arms, .. }, _) => {
                for a in arms {
                    self.nested(a.block, ctx)?;
                }
                Ok(())
            }
            (t, _) => Err(format!("{b}: terminator {t:?} does not fit its context")),
        }
    }
}
