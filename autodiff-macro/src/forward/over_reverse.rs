//! Forward mode over reverse mode: the tangent of the forward pass *and of the pullback*, for
//! Hessian-vector products (`H·v` is the tangent of the gradient along `v`).
//!
//! This is the same transformation as forward mode, applied to the function reverse mode made:
//! the forward pass with its records, and the pullback. What reverse mode added gets tangents
//! like everything else — an adjoint variable `w̄` gets a tangent variable `dw̄` that receives
//! the tangents of its contributions; a record or a loop stack keeps, beside each value, its
//! tangent; a call's `g_vjp` becomes `g_vjp_jvp`, whose pullback takes the cotangent and its
//! tangent. The rules of the pullback are written out as primitives on plain floats (their
//! tangents come from the table), and the runtime's reverse rules on arrays are linear in the
//! cotangent and, for products, in the other operand, so their tangents are the rules applied
//! to the tangents.

use std::collections::HashMap;

use super::Fwd;
use crate::ir::*;
use crate::prim::forms;
use crate::scalars::{Ty, Types};

/// Forward over reverse on `f` after reverse mode and its plan: afterwards the forward pass
/// returns `(value, tangent)`, the pullback takes the seed and its tangent (its parameters) and
/// returns `(gradient, tangent of the gradient)`. `n_primal` is the number of values of the
/// primal function (their activity is `active`); the others are analysed here.
pub fn vjp_jvp(f: &mut Func, active: &[bool], n_primal: usize, tys: &mut Types) {
    let pb = f.pullback.expect("reverse mode ran");
    let seed = f.block(pb).params[0];
    let dseed = f.add_block_param(pb, Some("__ad_dseed".into()), Kind::Float);
    let t = tys.of(seed);
    tys.set(dseed, t);
    let mut fw = Fwd::new(f, active, tys);
    fw.varied(n_primal, seed);
    fw.begin(true);
    fw.tan.insert(seed, dseed);
    let body = fw.f.body();
    fw.block(body);
    fw.return_tangent(body);
    fw.block(pb);
    fw.return_tangent(pb);
}

/// `kind` on variable `w` instead of its own.
fn retarget(kind: &InstKind, w: Var) -> InstKind {
    let mut k = kind.clone();
    if let Some(var) = k.var_mut() {
        *var = w;
    }
    k
}

/// Whether a derivative helper of the forms is constant between its jumps (its derivative is
/// zero wherever it has one): the shares of `max`/`min`/`clamp`, the sign of `abs`.
fn locally_constant(helper: &str) -> bool {
    crate::prim::table::LOCALLY_CONSTANT_HELPERS.contains(&helper)
}

impl Fwd<'_> {
    fn mark(&mut self, v: Value) -> bool {
        if self.active.len() <= v.index() {
            self.active.resize(v.index() + 1, false);
        }
        let was = self.active[v.index()];
        self.active[v.index()] = true;
        !was
    }

    fn mark_var(&mut self, w: Var) -> bool {
        if self.var_varied.len() <= w.index() {
            self.var_varied.resize(w.index() + 1, false);
        }
        let was = self.var_varied[w.index()];
        self.var_varied[w.index()] = true;
        !was
    }

    pub(super) fn is_var_varied(&self, w: Var) -> bool {
        self.var_varied.get(w.index()).copied().unwrap_or(false)
    }

    /// Which values and variables depend on the direction: the primal's active values, and,
    /// to a fixed point over the records, stacks, variables and loops, what reverse mode made
    /// from them.
    fn varied(&mut self, n_primal: usize, seed: Value) {
        self.active.resize(self.f.values.len(), false);
        for v in n_primal..self.f.values.len() {
            self.active[v] = false;
        }
        self.var_varied = vec![false; self.f.vars.len()];
        self.mark(seed);
        // Which record a `match record` arm reads, and which stack a pop.
        let mut records: HashMap<(Inst, usize), Inst> = HashMap::new();
        let mut pushes: HashMap<Stack, Inst> = HashMap::new();
        for (n, inst) in self.f.insts.iter().enumerate() {
            match &inst.kind {
                InstKind::MakeRecord { of, variant, .. } => {
                    records.insert((*of, *variant), Inst(n as u32));
                }
                InstKind::Push { stack, .. } => {
                    pushes.insert(*stack, Inst(n as u32));
                }
                _ => {}
            }
        }
        loop {
            let mut changed = false;
            for n in 0..self.f.insts.len() {
                let i = Inst(n as u32);
                let kind = self.f.inst(i).kind.clone();
                let results = self.f.inst(i).results.clone();
                let any = |s: &Self, vs: &[Value]| vs.iter().any(|&v| s.is_active(v));
                let primal = results.first().is_some_and(|r| r.index() < n_primal);
                match kind {
                    InstKind::MakeRecord { values, .. } => {
                        if any(self, &values) {
                            changed |= self.mark(results[0]);
                        }
                    }
                    InstKind::Pop(stack) => {
                        if let Some(&p) = pushes.get(&stack) {
                            if let InstKind::Push { values, .. } = &self.f.inst(p).kind {
                                for (k, &v) in values.clone().iter().enumerate() {
                                    if self.is_active(v) {
                                        changed |= self.mark(results[k]);
                                    }
                                }
                            }
                        }
                    }
                    InstKind::MatchRecord { of, arms, .. } => {
                        for (variant, arm) in arms.iter().enumerate() {
                            let Some(&r) = records.get(&(of, variant)) else {
                                continue;
                            };
                            let InstKind::MakeRecord { values, .. } = self.f.inst(r).kind.clone()
                            else {
                                continue;
                            };
                            let params = self.f.block(*arm).params.clone();
                            for (k, &v) in values.iter().enumerate() {
                                if self.is_active(v) {
                                    changed |= self.mark(params[k]);
                                }
                            }
                        }
                    }
                    InstKind::CallVjp { args, .. } => {
                        // The pullback depends on the direction through the arguments.
                        if any(self, &args) {
                            changed |= self.mark(results[1]);
                        }
                    }
                    InstKind::CallPullback { pb, g, .. } => {
                        // A cotangent that depends on the direction needs the pullback's
                        // tangent too (a pullback is called once).
                        if self.is_active(g) {
                            changed |= self.mark(pb);
                        }
                        if self.is_active(pb) || self.is_active(g) {
                            for &r in &results {
                                changed |= self.mark(r);
                            }
                        }
                    }
                    InstKind::VarInit { var, value }
                    | InstKind::VarAcc { var, value }
                    | InstKind::VarSet { var, value }
                    | InstKind::VarAccAt { var, value, .. }
                    | InstKind::VarAccField { var, value, .. } => {
                        if self.is_active(value) {
                            changed |= self.mark_var(var);
                        }
                    }
                    InstKind::VarUpdate { var, args, .. } => {
                        if any(self, &args) {
                            changed |= self.mark_var(var);
                        }
                        if self.is_var_varied(var) {
                            for &r in &results {
                                changed |= self.mark(r);
                            }
                        }
                    }
                    InstKind::VarGet(w) | InstKind::VarTake(w) => {
                        if self.is_var_varied(w) {
                            changed |= self.mark(results[0]);
                        }
                    }
                    InstKind::VarTakeAt { var, .. }
                    | InstKind::VarReadAt { var, .. }
                    | InstKind::VarTakeTo { var, .. } => {
                        if self.is_var_varied(var) {
                            changed |= self.mark(results[0]);
                        }
                    }
                    InstKind::Count(_)
                    | InstKind::VarDecl(_)
                    | InstKind::ZeroLike(_)
                    | InstKind::ZeroOfShape(_)
                    | InstKind::Shape(_)
                    | InstKind::TypeOf(_)
                    | InstKind::Const(_)
                    | InstKind::Opaque { .. }
                    | InstKind::Method { .. }
                    | InstKind::Push { .. } => {}
                    InstKind::Helper { name, args } => {
                        if !locally_constant(&name) && any(self, &args) {
                            changed |= self.mark(results[0]);
                        }
                    }
                    InstKind::Rule { args, g, .. } => {
                        let reads: Vec<Value> = args
                            .iter()
                            .filter_map(|a| match a {
                                RuleArg::Value(v) => Some(*v),
                                _ => None,
                            })
                            .chain([g])
                            .collect();
                        if any(self, &reads) {
                            changed |= self.mark(results[0]);
                        }
                    }
                    InstKind::Loop { .. } | InstKind::If { .. } | InstKind::Match { .. } => {}
                    _ if primal => {}
                    // A cast to an integer (`t.floor() as usize`, recomputed in the pullback
                    // for an index) is piecewise constant, and so is a discrete result.
                    InstKind::Cast { ref ty, .. } if crate::types::is_inactive_type(ty) => {}
                    _ if results
                        .iter()
                        .all(|&r| self.f.value(r).kind == Kind::Discrete) => {}
                    _ => {
                        let ops = self.f.operands(i);
                        if any(self, &ops) {
                            for &r in &results {
                                changed |= self.mark(r);
                            }
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The tangent variable of `w`, made on first use.
    fn dvar(&mut self, w: Var) -> Var {
        if let Some(&d) = self.dvar.get(&w) {
            return d;
        }
        let name = format!("{}_dot", self.f.vars[w.index()].name);
        let d = self.f.new_var(name);
        self.dvar.insert(w, d);
        d
    }

    fn emit0(&mut self, b: Block, out: &mut Vec<Inst>, kind: InstKind) {
        self.emit_n(b, out, kind, 0, Ty::Unknown);
    }

    /// Adds result `n` to instruction `i`, as the tangent of its result `of`.
    fn add_tangent_result(&mut self, i: Inst, of: Value) -> Value {
        let n = self.f.inst(i).results.len();
        let d = self.f.new_value(None, ValueDef::Result(i, n), Kind::Float);
        let t = self.tys.of(of);
        self.tys.set(d, t);
        self.f.insts[i.index()].results.push(d);
        self.set_tangent(of, d);
        d
    }

    /// The tangents of what reverse mode added: records, stacks, adjoint variables, the calls'
    /// pullbacks, the runtime's rules and the forms' helpers.
    pub(super) fn pullback_inst(&mut self, b: Block, i: Inst, out: &mut Vec<Inst>) {
        let kind = self.f.inst(i).kind.clone();
        let results = self.f.inst(i).results.clone();
        match kind {
            InstKind::MakeRecord {
                of,
                variant,
                mut values,
            } => {
                // Values with a tangent keep it beside them (a varied pullback carries its
                // tangent inside: it has none of its own).
                let mask: Vec<bool> = values.iter().map(|v| self.tan.contains_key(v)).collect();
                let ds: Vec<Value> = values
                    .iter()
                    .filter_map(|v| self.tan.get(v).copied())
                    .collect();
                values.extend(ds);
                self.record_masks.insert((of, variant), mask);
                self.f.insts[i.index()].kind = InstKind::MakeRecord {
                    of,
                    variant,
                    values,
                };
            }
            InstKind::Push { stack, mut values } => {
                // Values with a tangent keep it beside them (a varied pullback carries its
                // tangent inside: it has none of its own).
                let mask: Vec<bool> = values.iter().map(|v| self.tan.contains_key(v)).collect();
                let ds: Vec<Value> = values
                    .iter()
                    .filter_map(|v| self.tan.get(v).copied())
                    .collect();
                values.extend(ds);
                self.stack_masks.insert(stack, mask);
                self.f.insts[i.index()].kind = InstKind::Push { stack, values };
            }
            InstKind::Pop(stack) => {
                let mask = self.stack_masks.get(&stack).cloned().unwrap_or_default();
                for (k, on) in mask.into_iter().enumerate() {
                    if on {
                        self.add_tangent_result(i, results[k]);
                    }
                }
            }
            InstKind::MatchRecord { of, arms, .. } => {
                for (variant, &arm) in arms.iter().enumerate() {
                    let mask = self
                        .record_masks
                        .get(&(of, variant))
                        .cloned()
                        .unwrap_or_default();
                    let params = self.f.block(arm).params.clone();
                    for (k, on) in mask.into_iter().enumerate() {
                        if on {
                            let d = self.f.add_block_param(arm, None, Kind::Float);
                            let t = self.tys.of(params[k]);
                            self.tys.set(d, t);
                            self.set_tangent(params[k], d);
                        }
                    }
                    self.block(arm);
                }
            }
            InstKind::CallVjp { path, args } => {
                if !self.is_active(results[1]) {
                    return;
                }
                let tangents: Vec<Option<Value>> =
                    args.iter().map(|a| self.tan.get(a).copied()).collect();
                self.f.insts[i.index()].kind = InstKind::CallVjpJvp {
                    path,
                    args,
                    tangents,
                };
                let y = results[0];
                let d = self.add_tangent_result(i, y);
                if !self.is_active(y) {
                    self.tan.remove(&y);
                    let _ = d;
                }
            }
            InstKind::CallPullback { pb, sel, g } => {
                if !self.is_active(pb) {
                    return;
                }
                // A cotangent without a tangent (one that no direction changes, as the
                // adjoint of a value read only through `floor` in a branch) gets a zero of its
                // shape, made before the call that now reads it: the call is changed in place.
                let mut before = Vec::new();
                let dg = self.tangent_or_zero(b, g, &mut before);
                let pos = out
                    .iter()
                    .position(|&x| x == i)
                    .expect("the instruction was emitted");
                out.splice(pos..pos, before);
                self.f.insts[i.index()].kind = InstKind::CallPullbackJvp { pb, sel, g, dg };
                for &r in &results {
                    self.add_tangent_result(i, r);
                }
            }
            InstKind::VarDecl(var) if self.is_var_varied(var) => {
                let dw = self.dvar(var);
                self.emit0(b, out, InstKind::VarDecl(dw));
            }
            InstKind::VarInit { var, value } | InstKind::VarSet { var, value } => {
                if !self.is_var_varied(var) {
                    return;
                }
                let dv = self.tangent_or_zero(b, value, out);
                let dw = self.dvar(var);
                let k = match kind {
                    InstKind::VarInit { .. } => InstKind::VarInit { var: dw, value: dv },
                    _ => InstKind::VarSet { var: dw, value: dv },
                };
                self.emit0(b, out, k);
            }
            InstKind::VarAcc { var, value }
            | InstKind::VarAccAt { var, value, .. }
            | InstKind::VarAccField { var, value, .. } => {
                // Accumulations are linear: the tangent variable accumulates the tangent.
                let Some(&dv) = self.tan.get(&value) else {
                    return;
                };
                let dw = self.dvar(var);
                let mut k = retarget(&kind, dw);
                k.operands_mut(&mut |v| {
                    if *v == value {
                        *v = dv;
                    }
                });
                self.emit0(b, out, k);
            }
            InstKind::VarGet(var)
            | InstKind::VarTake(var)
            | InstKind::VarTakeAt { var, .. }
            | InstKind::VarReadAt { var, .. }
            | InstKind::VarTakeTo { var, .. } => {
                // Reads of a varied variable: the same read of its tangent variable.
                if !self.is_var_varied(var) {
                    return;
                }
                let dw = self.dvar(var);
                let t = self.tys.of(results[0]);
                let d = self.emit(b, out, retarget(&kind, dw), t);
                self.set_tangent(results[0], d);
            }
            InstKind::VarUpdate { var, m, args } => {
                if !self.is_var_varied(var) {
                    return;
                }
                // The adjoints of mutations are linear in the adjoint and the cotangent they
                // take; indices and lengths stay as they are.
                let def = m.def();
                let mut dargs = args.clone();
                if def.returns() {
                    dargs[0] = self.tangent_or_zero(b, args[0], out);
                }
                let dw = self.dvar(var);
                let ds = self.emit_n(
                    b,
                    out,
                    InstKind::VarUpdate {
                        var: dw,
                        m,
                        args: dargs,
                    },
                    results.len(),
                    Ty::Unknown,
                );
                for (k, &r) in results.iter().enumerate() {
                    let t = self.tys.of(r);
                    self.tys.set(ds[k], t);
                    self.set_tangent(r, ds[k]);
                }
            }
            InstKind::Rule {
                prim,
                operand,
                args,
                g,
            } => {
                if !self.is_active(results[0]) {
                    return;
                }
                let d = self.rule_tangent(b, out, prim, operand, args, g, results[0]);
                self.set_tangent(results[0], d);
            }
            InstKind::Helper { name, args } => {
                if !self.is_active(results[0]) {
                    return;
                }
                let d = self.helper_tangent(b, out, &name, &args, results[0]);
                self.set_tangent(results[0], d);
            }
            InstKind::CastBack { source, g } => {
                if let Some(&dg) = self.tan.get(&g) {
                    let t = self.tys.of(results[0]);
                    let d = self.emit(b, out, InstKind::CastBack { source, g: dg }, t);
                    self.set_tangent(results[0], d);
                }
            }
            InstKind::GradAs { like, g } => {
                if let Some(&dg) = self.tan.get(&g) {
                    let d = self.emit(b, out, InstKind::GradAs { like, g: dg }, Ty::Unknown);
                    self.set_tangent(results[0], d);
                }
            }
            _ => {}
        }
    }

    /// The tangent of a runtime reverse rule. The rules are linear in the cotangent, and those
    /// of products in the other operand too: the tangent is then the rule with each of those in
    /// turn replaced by its tangent. Others call the runtime's tangent of the rule.
    #[allow(clippy::too_many_arguments)]
    fn rule_tangent(
        &mut self,
        b: Block,
        out: &mut Vec<Inst>,
        prim: PrimId,
        operand: usize,
        args: Vec<RuleArg>,
        g: Value,
        r: Value,
    ) -> Value {
        let ty = self.tys.of(r);
        let linear = prim.rule_linear_in(operand);
        let varied: Vec<usize> = args
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a, RuleArg::Value(v) if self.is_active(*v)))
            .map(|(j, _)| j)
            .collect();
        let multilinear = linear
            .as_ref()
            .is_some_and(|l| varied.iter().all(|j| l.contains(j)));
        if !multilinear {
            // One tangent per value the rule reads, but none for an integer operand
            // (`powi`'s exponent), as the runtime's tangent rules take them.
            let mut dargs = Vec::new();
            for (a, read) in args.iter().zip(prim.reads(operand)) {
                if let (RuleArg::Value(v), crate::prim::Arg::Value(j)) = (a, read) {
                    if prim.fixed_type(j).is_none() {
                        dargs.push(self.tangent_or_zero(b, *v, out));
                    }
                }
            }
            let dg = self.tangent_or_zero(b, g, out);
            return self.emit(
                b,
                out,
                InstKind::RuleJvp {
                    prim,
                    operand,
                    args,
                    g,
                    dargs,
                    dg,
                },
                ty,
            );
        }
        let mut terms = Vec::new();
        if let Some(&dg) = self.tan.get(&g) {
            terms.push(self.emit(
                b,
                out,
                InstKind::Rule {
                    prim,
                    operand,
                    args: args.clone(),
                    g: dg,
                },
                ty,
            ));
        }
        for j in varied {
            let RuleArg::Value(v) = args[j] else { continue };
            let Some(&dv) = self.tan.get(&v) else {
                continue;
            };
            let mut a = args.clone();
            a[j] = RuleArg::Value(dv);
            terms.push(self.emit(
                b,
                out,
                InstKind::Rule {
                    prim,
                    operand,
                    args: a,
                    g,
                },
                ty,
            ));
        }
        let Some(&first) = terms.first() else {
            return self.tangent_or_zero(b, r, out);
        };
        let mut sum = first;
        for &t in &terms[1..] {
            sum = self.emit(b, out, InstKind::Binary(BinOp::Add, sum, t), ty);
        }
        sum
    }

    /// The tangent of a derivative helper of the forms: zero for one that is constant between
    /// its jumps, else the sum over its varied arguments of its partials (forms of their own).
    fn helper_tangent(
        &mut self,
        b: Block,
        out: &mut Vec<Inst>,
        name: &str,
        args: &[Value],
        r: Value,
    ) -> Value {
        let ty = self.tys.of(r);
        let t = ty.float().expect("helpers take plain floats");
        let mut sum: Option<Value> = None;
        for (k, &a) in args.iter().enumerate() {
            let Some(&da) = self.tan.get(&a) else {
                continue;
            };
            let Some((form, env)) = forms::helper_partial(name, k, args, da) else {
                continue;
            };
            let term =
                forms::instantiate(&form, &env, t, &mut |kind, ty| self.emit(b, out, kind, ty));
            sum = Some(match sum {
                None => term,
                Some(s) => self.emit(b, out, InstKind::Binary(BinOp::Add, s, term), ty),
            });
        }
        match sum {
            Some(s) => s,
            None => self.emit(b, out, InstKind::Const(quote::quote!(0.0)), ty),
        }
    }
}
