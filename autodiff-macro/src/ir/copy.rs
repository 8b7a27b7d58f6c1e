//! Copies of code. A transformation that runs some code more than once — a checkpointed loop's
//! body runs plainly in the forward pass and again in the backward pass — needs it again with
//! values of its own, since every SSA value is defined once.

use std::collections::HashMap;

use super::*;

/// What [`Func::copy_tree`] made.
pub struct Copied {
    /// The copy of the tree's root block.
    pub root: Block,
    /// Every value defined in the tree (block parameters, results) and its copy.
    pub values: HashMap<Value, Value>,
    /// Every instruction of the tree and its copy.
    pub insts: Vec<(Inst, Inst)>,
    /// Every block of the tree and its copy.
    pub blocks: Vec<(Block, Block)>,
}

impl Func {
    /// Copies block `root` and every block nested in it, with fresh values, instructions and
    /// blocks. Operands defined outside the tree are read as they are; variables and stacks are
    /// shared with the original.
    pub fn copy_tree(&mut self, root: Block) -> Copied {
        let mut c = Copied {
            root,
            values: HashMap::new(),
            insts: Vec::new(),
            blocks: Vec::new(),
        };
        c.root = self.copy_block(root, &mut c);
        c
    }

    fn copy_block(&mut self, b: Block, c: &mut Copied) -> Block {
        let nb = self.new_block();
        c.blocks.push((b, nb));
        for p in self.block(b).params.clone() {
            let d = self.value(p).clone();
            let np = self.add_block_param(nb, d.name, d.kind);
            c.values.insert(p, np);
        }
        for i in self.block(b).insts.clone() {
            let mut kind = self.inst(i).kind.clone();
            // Nested blocks see what is defined before the instruction, never its results.
            match &mut kind {
                InstKind::If { then, els, .. } => {
                    *then = self.copy_block(*then, c);
                    *els = self.copy_block(*els, c);
                }
                InstKind::Match { arms, .. } => {
                    for a in arms {
                        a.block = self.copy_block(a.block, c);
                    }
                }
                InstKind::MatchRecord { arms, .. } => {
                    for a in arms {
                        *a = self.copy_block(*a, c);
                    }
                }
                InstKind::Loop { body, .. } | InstKind::InlinePullback { body } => {
                    *body = self.copy_block(*body, c)
                }
                InstKind::CkptSweep {
                    advance,
                    record,
                    reverse,
                    ..
                } => {
                    *advance = self.copy_block(*advance, c);
                    *record = self.copy_block(*record, c);
                    *reverse = self.copy_block(*reverse, c);
                }
                _ => {}
            }
            kind.operands_mut(&mut |v| {
                if let Some(&n) = c.values.get(v) {
                    *v = n;
                }
            });
            let ni = Inst(self.insts.len() as u32);
            let (span, results) = (self.inst(i).span, self.inst(i).results.clone());
            self.insts.push(InstData {
                kind,
                results: Vec::new(),
                span,
            });
            for (k, r) in results.into_iter().enumerate() {
                let d = self.value(r).clone();
                let nr = self.new_value(d.name, ValueDef::Result(ni, k), d.kind);
                self.insts[ni.index()].results.push(nr);
                if self.array_buffers.contains(&r) {
                    self.array_buffers.insert(nr);
                }
                c.values.insert(r, nr);
            }
            if let Some(bc) = self.buffer_calls.get(&i).cloned() {
                self.buffer_calls.insert(ni, bc);
            }
            if self.data_guards.contains(&i) {
                self.data_guards.insert(ni);
            }
            self.block_mut(nb).insts.push(ni);
            c.insts.push((i, ni));
        }
        let mut term = self.block(b).term.clone();
        match &mut term {
            Term::Branch { then, els, .. } => {
                *then = self.copy_block(*then, c);
                *els = self.copy_block(*els, c);
            }
            Term::Switch { arms, .. } => {
                for a in arms {
                    a.block = self.copy_block(a.block, c);
                }
            }
            _ => {}
        }
        term.operands_mut(&mut |v| {
            if let Some(&n) = c.values.get(v) {
                *v = n;
            }
        });
        self.block_mut(nb).term = term;
        nb
    }
}
