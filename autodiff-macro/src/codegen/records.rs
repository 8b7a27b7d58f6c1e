//! The records the forward pass keeps for the pullback: the values a record moves in, and the
//! reservation of the loop stacks that hold them, hoisted to the outermost loop whose trip
//! counts are known so that a stack grows once rather than once per inner loop.

use super::*;

impl Gen<'_> {
    /// The types of the records of `if`s and `match`es that the macro can write, by record
    /// and variant: `Some` where every value a variant keeps is a float of a known type (or it
    /// keeps none). The record's enum names them; only the others are type parameters, which
    /// rustc infers. A record of a `match` of many arms was otherwise an enum of as many type
    /// parameters, each arm's value leaving all but one of them to inference until the arms
    /// are joined: rustc's work grew with the cube of the arms (a minute for 200).
    pub(super) fn record_variant_types(
        &self,
    ) -> HashMap<(Inst, usize), Option<Vec<crate::scalars::FloatTy>>> {
        let mut out: HashMap<(Inst, usize), Option<Vec<crate::scalars::FloatTy>>> = HashMap::new();
        for inst in &self.f.insts {
            let InstKind::MakeRecord {
                of,
                variant,
                values,
            } = &inst.kind
            else {
                continue;
            };
            let tys: Option<Vec<crate::scalars::FloatTy>> = (values.iter())
                .map(|&v| {
                    let known = !self.flat.contains_key(&v) && !self.is_ref(v);
                    known.then(|| self.ty(v).float()).flatten()
                })
                .collect();
            // Two records of one variant that disagree: left to rustc.
            out.entry((*of, *variant))
                .and_modify(|seen| {
                    if *seen != tys {
                        *seen = None;
                    }
                })
                .or_insert(tys);
        }
        out
    }

    /// The values a record keeps, moved in; a copy of those the block's terminator moves on.
    pub(super) fn record_values(&self, b: Block, values: &[Value]) -> Vec<TokenStream> {
        let term_ops = self.f.term_operands(b);
        values
            .iter()
            .map(|&v| {
                let x = self.v(v);
                if self.flat.contains_key(&v) {
                    // Copied by the push (see `InstKind::Push`).
                    let at = quote::format_ident!("__ad_at{}", v.index());
                    quote!(#at)
                } else if term_ops.contains(&v) && !self.ty(v).is_plain() && !self.is_ref(v) {
                    quote!(::core::clone::Clone::clone(&#x))
                } else {
                    quote!(#x)
                }
            })
            .collect()
    }

    /// For each loop stack, the outermost enclosing `for` loop at whose start the trip counts
    /// of every loop from there down to the stack's own are known (their bounds are defined
    /// outside it): one reservation there for all the records, instead of one per entry of the
    /// inner loop, which would grow the stack again and again. A loop that leaves early pushes
    /// fewer records than reserved, which is harmless.
    pub(super) fn plan_reserves(&mut self) {
        let mut owner: HashMap<Block, Inst> = HashMap::new();
        for &i in self.inst_block.keys() {
            for nb in self.f.inst_blocks(i) {
                owner.insert(nb, i);
            }
        }
        let enclosing_loop = |i: Inst| -> Option<Inst> {
            let mut b = *self.inst_block.get(&i)?;
            loop {
                let o = *owner.get(&b)?;
                if matches!(self.f.inst(o).kind, InstKind::Loop { .. }) {
                    return Some(o);
                }
                b = *self.inst_block.get(&o)?;
            }
        };
        let within = |v: Value, lp: Inst| -> bool {
            let Some(mut b) = self.def_block(v) else {
                return true;
            };
            loop {
                match owner.get(&b) {
                    Some(&o) if o == lp => return true,
                    Some(&o) => match self.inst_block.get(&o) {
                        Some(&ob) => b = ob,
                        None => return false,
                    },
                    None => return false,
                }
            }
        };
        let in_place =
            |i: Inst| match &self.f.inst(i).kind {
                InstKind::Loop { body, .. } => self.f.block(*body).insts.last().is_some_and(|&l| {
                    matches!(self.f.inst(l).kind, InstKind::InlinePullback { .. })
                }),
                _ => false,
            };
        let range_of = |i: Inst| match &self.f.inst(i).kind {
            InstKind::Loop { kind, .. } => kind.range(),
            _ => None,
        };
        let mut plans = Vec::new();
        for (n, st) in self.f.stacks.iter().enumerate() {
            let Some(r) = range_of(st.owner) else {
                continue;
            };
            let mut ranges = vec![r];
            let mut target = None;
            let mut cur = st.owner;
            while let Some(outer) = enclosing_loop(cur) {
                let Some(or) = range_of(outer) else { break };
                // A reduction loop's iterations empty the stacks of the loops inside it.
                if in_place(outer) {
                    break;
                }
                let varies = |v: Value| within(v, outer) && self.const_tokens(v).is_none();
                if ranges.iter().any(|r| varies(r.start) || varies(r.end)) {
                    break;
                }
                ranges.push(or);
                target = Some(outer);
                cur = outer;
            }
            if let Some(t) = target {
                plans.push((t, Stack(n as u32), ranges));
            }
        }
        for (t, s, ranges) in plans {
            self.hoisted_reserves
                .entry(t)
                .or_default()
                .push((s, ranges));
        }
    }

    /// The literal that defines `v`, if a constant does.
    pub(super) fn const_tokens(&self, v: Value) -> Option<TokenStream> {
        match self.f.value(v).def {
            ValueDef::Result(i, 0) => match &self.f.inst(i).kind {
                InstKind::Const(t) => Some(self.typed_literal(v, t)),
                _ => None,
            },
            _ => None,
        }
    }
}
