//! Forward mode as an IR transformation: every active value gets a tangent, computed right
//! after it, in the same block.
//!
//! The rules come from the primitive table, as for reverse mode: on plain floats the tangent of
//! `y = p(x₀, x₁, ..)` is the sum of the primitive's forms with the cotangent `g` replaced by
//! each operand's tangent (`dy = dx * x.cos()` for `sin`), so forward and reverse mode cannot
//! disagree; on values of unknown type (arrays) the runtime's `<name>_jvp` rule is called; a
//! primitive linear in its operands (`t`, `sum`, `slice`, …) is applied to the tangents
//! (`dy = dx.t()`), a bilinear one to each in turn (`d(a·b) = da·b + a·db`). Container
//! mutations apply to the tangent container (`dv.push(dx)`), branches and loops carry tangents
//! beside their values, and a call `g(..)` goes through `g_jvp` (a hand-written `g_jvp` is a
//! custom forward rule).

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use quote::quote;

use crate::ir::*;
use crate::prim::{Flags, PrimId, forms};
use crate::scalars::{FloatTy, Ty, Types};

mod kinks;
mod over_reverse;
pub use kinks::jvp_exact;
pub use over_reverse::vjp_jvp;

/// Forward mode on the primal function `f`: afterwards its body returns `(value, tangent)` and
/// its tangent parameters are `f.tangent_params` (one per active parameter).
pub fn jvp(f: &mut Func, active: &[bool], tys: &mut Types) {
    let mut fw = Fwd::new(f, active, tys);
    fw.begin(false);
    let body = fw.f.body();
    fw.block(body);
    fw.return_tangent(body);
}

impl<'a> Fwd<'a> {
    fn new(f: &'a mut Func, active: &[bool], tys: &'a mut Types) -> Self {
        let saturated = forms::saturated_products(f);
        Fwd {
            f,
            active: active.to_vec(),
            tys,
            tan: HashMap::new(),
            var_varied: Vec::new(),
            dvar: HashMap::new(),
            record_masks: HashMap::new(),
            stack_masks: HashMap::new(),
            span: Span::call_site(),
            kinks: None,
            owned_params: Vec::new(),
            saturated,
        }
    }

    /// Tangent parameters, and owned copies of the tangents of `&mut` parameters (of every
    /// parameter taken by reference with `own_refs`: a pullback may keep those).
    fn begin(&mut self, own_refs: bool) {
        let fw = self;
        for n in 0..fw.f.params.len() {
            let p = fw.f.params[n].clone();
            if !p.active {
                continue;
            }
            let name = format!("d{}", p.ident);
            let d =
                fw.f.new_value(Some(name), ValueDef::Tangent(n), Kind::Float);
            let t = fw.tys.of(p.value);
            fw.tys.set(d, t);
            fw.tan.insert(p.value, d);
            fw.f.tangent_params.push((p.value, d));
        }
        let body = fw.f.body();
        // A `&mut` parameter is a place the body changes: its tangent is an owned copy, made first.
        let mut first = Vec::new();
        for p in fw.f.params.clone() {
            let by_mut = matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some());
            let by_ref = p.tangent_by_ref();
            if !p.active || !(by_mut || own_refs && by_ref) {
                continue;
            }
            let d = fw.tan[&p.value];
            let t = fw.tys.of(p.value);
            let to_owned = PrimId::method("to_owned").expect("the table has to_owned");
            let own = fw.emit(
                body,
                &mut first,
                InstKind::Prim {
                    prim: to_owned,
                    args: vec![d],
                    unwrap: false,
                },
                t,
            );
            fw.set_tangent(p.value, own);
            fw.owned_params.push(own);
        }
        first.extend(std::mem::take(&mut fw.f.blocks[body.index()].insts));
        fw.f.blocks[body.index()].insts = first;
    }

    /// Block `b` returns `(v, dv)` where it returned `v`.
    fn return_tangent(&mut self, b: Block) {
        if let Term::Return(v) = self.f.block(b).term.clone() {
            let mut out = Vec::new();
            let dv = self.tangent_or_zero(b, v, &mut out);
            let t = self.emit(b, &mut out, InstKind::Tuple(vec![v, dv]), Ty::Unknown);
            self.f.blocks[b.index()].insts.extend(out);
            self.f.blocks[b.index()].term = Term::Return(t);
        }
    }
}

struct Fwd<'a> {
    f: &'a mut Func,
    active: Vec<bool>,
    tys: &'a mut Types,
    /// The tangent of each active value.
    tan: HashMap<Value, Value>,
    /// Forward over reverse: the tangent variable of each adjoint variable whose value depends
    /// on the direction, and what the plan's records and stacks carry of it.
    var_varied: Vec<bool>,
    dvar: HashMap<Var, Var>,
    /// Per record (`if`/`match` instruction, variant) and per stack: which kept values have a
    /// tangent (kept beside them).
    record_masks: HashMap<(Inst, usize), Vec<bool>>,
    stack_masks: HashMap<Stack, Vec<bool>>,
    /// The span of the instruction whose tangent is being made, given to what it adds.
    span: Span,
    /// Exact mode at kinks (see [`kinks`]): where it is on, its state.
    kinks: Option<kinks::KinkState>,
    /// The owned copies `begin` made of tangents that arrive by reference: the tangent of
    /// `*p` is a copy of one of them, not a dereference.
    owned_params: Vec<Value>,
    /// Products read by `exp` and its kind, and those methods' results (see
    /// [`forms::saturated_products`]): a factor with a zero tangent adds exactly 0, also where
    /// the other factor is infinite, and the method's tangent is 0 where its derivative is.
    saturated: HashSet<Value>,
}

impl Fwd<'_> {
    fn is_active(&self, v: Value) -> bool {
        self.active.get(v.index()).copied().unwrap_or(false)
    }

    /// Appends an instruction with one result to `out` (the block's new instruction list).
    fn emit(&mut self, b: Block, out: &mut Vec<Inst>, kind: InstKind, ty: Ty) -> Value {
        self.emit_n(b, out, kind, 1, ty)[0]
    }

    fn emit_n(
        &mut self,
        b: Block,
        out: &mut Vec<Inst>,
        kind: InstKind,
        n: usize,
        ty: Ty,
    ) -> Vec<Value> {
        let i = self.f.push_inst(b, kind, n, Kind::Float, self.span);
        self.f.blocks[b.index()].insts.pop();
        out.push(i);
        let rs = self.f.inst(i).results.clone();
        for &r in &rs {
            self.tys.set(r, ty);
        }
        rs
    }

    fn set_tangent(&mut self, v: Value, d: Value) {
        if let Some(n) = self.f.value(v).name.clone() {
            self.f.values[d.index()].name = Some(format!("d{n}"));
        }
        self.tan.insert(v, d);
    }

    /// The tangent of `v`, or a zero of its shape where it has none (an inactive operand).
    fn tangent_or_zero(&mut self, b: Block, v: Value, out: &mut Vec<Inst>) -> Value {
        if let Some(&d) = self.tan.get(&v) {
            return d;
        }
        match self.tys.of(v) {
            Ty::Float(t) => self.emit(b, out, InstKind::Const(quote!(0.0)), Ty::Float(t)),
            Ty::Lit => self.emit(b, out, InstKind::Const(quote!(0.0)), Ty::Lit),
            t => self.emit(b, out, InstKind::ZeroLike(v), t),
        }
    }

    /// The tangent of `v` as an owned value that can be changed in place: a tangent parameter
    /// arrives by reference.
    fn owned_tangent(&mut self, b: Block, v: Value, out: &mut Vec<Inst>) -> Value {
        let d = self.tangent_or_zero(b, v, out);
        if matches!(self.f.value(d).def, ValueDef::Tangent(_)) && !self.tys.of(d).is_plain() {
            let to_owned = PrimId::method("to_owned").expect("the table has to_owned");
            let t = self.tys.of(v);
            return self.emit(
                b,
                out,
                InstKind::Prim {
                    prim: to_owned,
                    args: vec![d],
                    unwrap: false,
                },
                t,
            );
        }
        d
    }

    /// The owned tangent of the container `base` that instruction `i` consumes, made before `i`
    /// where it is a zero shaped like `base` (which no longer exists after `i`).
    fn tangent_before(&mut self, b: Block, i: Inst, base: Value, out: &mut Vec<Inst>) -> Value {
        let mut before = Vec::new();
        let d = self.owned_tangent(b, base, &mut before);
        let pos = out
            .iter()
            .position(|&x| x == i)
            .expect("the instruction was emitted");
        for (n, x) in before.into_iter().enumerate() {
            out.insert(pos + n, x);
        }
        d
    }

    /// The tangent of an argument that instruction `i` may move (`v.push(row)`, `v[k] = row`):
    /// where it has none, its zero is made before `i`, while the argument still exists.
    fn arg_tangent(&mut self, b: Block, i: Inst, a: Value, out: &mut Vec<Inst>) -> Value {
        if self.tan.contains_key(&a) || self.tys.of(a).is_plain() {
            return self.tangent_or_zero(b, a, out);
        }
        self.tangent_before(b, i, a, out)
    }

    fn block(&mut self, b: Block) {
        let insts = std::mem::take(&mut self.f.blocks[b.index()].insts);
        let mut out = Vec::with_capacity(insts.len() * 2);
        let outer = self.span;
        for i in insts {
            out.push(i);
            self.span = self.f.inst(i).span;
            self.inst(b, i, &mut out);
        }
        self.span = outer;
        self.f.blocks[b.index()].insts = out;
    }

    fn inst(&mut self, b: Block, i: Inst, out: &mut Vec<Inst>) {
        if self.kinks.is_some() && self.kink(b, i, out) {
            return;
        }
        let kind = self.f.inst(i).kind.clone();
        let results = self.f.inst(i).results.clone();
        match kind {
            InstKind::If { then, els, .. } => return self.branch(i, &[then, els]),
            InstKind::Match { arms, .. } => {
                let blocks: Vec<Block> = arms.iter().map(|a| a.block).collect();
                return self.branch(i, &blocks);
            }
            InstKind::Loop { .. } => return self.lp(b, i, out),
            InstKind::MakeRecord { .. }
            | InstKind::Push { .. }
            | InstKind::Pop(_)
            | InstKind::MatchRecord { .. }
            | InstKind::CallVjp { .. }
            | InstKind::CallPullback { .. }
            | InstKind::VarInit { .. }
            | InstKind::VarDecl(_)
            | InstKind::VarAcc { .. }
            | InstKind::VarSet { .. }
            | InstKind::VarAccAt { .. }
            | InstKind::VarAccField { .. }
            | InstKind::VarGet(_)
            | InstKind::VarTake(_)
            | InstKind::VarTakeAt { .. }
            | InstKind::VarReadAt { .. }
            | InstKind::VarTakeTo { .. }
            | InstKind::VarUpdate { .. }
            | InstKind::Rule { .. }
            | InstKind::Helper { .. }
            | InstKind::CastBack { .. }
            | InstKind::GradAs { .. } => return self.pullback_inst(b, i, out),
            _ => {}
        }
        if !results.iter().any(|&r| self.is_active(r)) {
            return;
        }
        let y = results[0];
        let ty = self.tys.of(y);
        let d = match kind {
            InstKind::Binary(op, a, bb) => {
                let Some(p) = PrimId::binary(op) else { return };
                self.prim(b, p, &[a, bb], y, out)
            }
            InstKind::Neg(a) => self.prim(b, PrimId::neg(), &[a], y, out),
            InstKind::Prim { prim, args, unwrap } => {
                if prim.has(Flags::VIEW) {
                    // A view of the tangent, so that it has the type the value has.
                    self.linear(b, prim, &args, unwrap, ty, out)
                } else if prim.has(Flags::IDENTITY) {
                    let dx = self.tangent_or_zero(b, args[0], out);
                    if ty.is_plain() {
                        dx
                    } else {
                        // The same copy of the tangent (`da.to_vec()` for `a.to_vec()`: a `Vec`
                        // from an array), owned whatever the tangent is.
                        self.emit(
                            b,
                            out,
                            InstKind::Prim {
                                prim,
                                args: vec![dx],
                                unwrap: false,
                            },
                            ty,
                        )
                    }
                } else if !prim.has_forms() {
                    self.linear(b, prim, &args, unwrap, ty, out)
                } else {
                    self.prim(b, prim, &args, y, out)
                }
            }
            InstKind::Cast { value, ty: cty } => {
                // A cast to an integer (`(x * 2.0) as i32`) is piecewise constant: its tangent
                // is zero, not the tangent cast (which truncates a tangent of 2.0 to 2); so is a
                // cast of a value without a tangent (`k as f64` of that integer).
                if crate::types::is_inactive_type(&cty) || !self.tan.contains_key(&value) {
                    return;
                }
                let mut dx = self.tangent_or_zero(b, value, out);
                // A source of a type the macro does not see may be an integer read from a
                // differentiated struct (`p.n as f64`), whose tangent there is a copy of the
                // data: through `cast_tangent`, which gives zero for an integer.
                if self.tys.of(value).float().is_none() {
                    let like = InstKind::Helper {
                        name: "cast_tangent".into(),
                        args: vec![dx],
                    };
                    dx = self.emit(b, out, like, Ty::Unknown);
                }
                self.emit(b, out, InstKind::Cast { value: dx, ty: cty }, ty)
            }
            InstKind::Ascribe { value, .. }
            | InstKind::TypedLike { value, .. }
            | InstKind::Deref(value) => {
                let mut dx = self.tangent_or_zero(b, value, out);
                if matches!(kind, InstKind::Deref(_)) {
                    if self.owned_params.contains(&dx) {
                        // `*self` of a `&self` method under `hessian`: the tangent is an owned
                        // copy of `dself`; `*&dself` copies it as `*dself` would.
                        dx = self.emit(b, out, InstKind::Ref(dx), Ty::Unknown);
                    }
                    self.emit(b, out, InstKind::Deref(dx), ty)
                } else {
                    dx
                }
            }
            InstKind::Ref(x) => {
                let dx = self.tangent_or_zero(b, x, out);
                // A tangent parameter arrives by reference where its parameter does; the
                // tangent of an array or a `Vec` taken by value is lent like the value.
                let by_ref = match self.f.value(dx).def {
                    ValueDef::Tangent(n) => {
                        self.f.params.get(n).is_some_and(|p| p.tangent_by_ref())
                    }
                    _ => false,
                };
                if by_ref {
                    dx
                } else {
                    self.emit(b, out, InstKind::Ref(dx), Ty::Unknown)
                }
            }
            InstKind::FieldRef(base, name) => {
                let db = self.tangent_or_zero(b, base, out);
                self.emit(b, out, InstKind::FieldRef(db, name), ty)
            }
            InstKind::Field(t, n) => {
                let dt = self.tangent_or_zero(b, t, out);
                self.emit(b, out, InstKind::Field(dt, n), ty)
            }
            InstKind::Tuple(vals) => {
                let ds: Vec<Value> = vals
                    .iter()
                    .map(|&v| self.tangent_or_zero(b, v, out))
                    .collect();
                self.emit(b, out, InstKind::Tuple(ds), Ty::Unknown)
            }
            InstKind::Index(base, idx) => {
                let db = self.tangent_or_zero(b, base, out);
                self.emit(b, out, InstKind::Index(db, idx), ty)
            }
            InstKind::IndexSet { base, index, value } => {
                let db = self.tangent_before(b, i, base, out);
                let dv = self.arg_tangent(b, i, value, out);
                self.emit(
                    b,
                    out,
                    InstKind::IndexSet {
                        base: db,
                        index,
                        value: dv,
                    },
                    ty,
                )
            }
            InstKind::Mutate {
                m,
                base,
                args,
                unwrap,
            } => {
                let def = m.def();
                let db = self.tangent_before(b, i, base, out);
                let mut dargs = Vec::new();
                for (k, &a) in args.iter().enumerate() {
                    dargs.push(if !def.diff(k) {
                        a
                    } else if self.tan.contains_key(&a) {
                        let t = self.tangent_or_zero(b, a, out);
                        // A parameter lent as it is (`a.copy_from_slice(r)`, `r: &[f64]`) has a
                        // tangent that forward over reverse owns: lent too (`&dr` coerces to
                        // the slice from a reference as from a `Vec`).
                        let lent_param = matches!(
                            self.f.value(a).def,
                            ValueDef::Param(n) if self.f.params.get(n).is_some_and(|p| {
                                p.tangent_by_ref()
                            })
                        );
                        if lent_param {
                            let ty = self.tys.of(a);
                            self.emit(b, out, InstKind::Ref(t), ty)
                        } else {
                            t
                        }
                    } else {
                        // An argument without a tangent is lent as it is (`extend_from_slice(&h)`
                        // of data): so is its zero, which is an owned value.
                        let zero = self.arg_tangent(b, i, a, out);
                        let lent = matches!(
                            self.f.value(a).def,
                            ValueDef::Result(d, _) if matches!(self.f.inst(d).kind, InstKind::Ref(_))
                        );
                        if lent {
                            let t = self.tys.of(a);
                            self.emit(b, out, InstKind::Ref(zero), t)
                        } else {
                            zero
                        }
                    });
                }
                let rs = self.emit_n(
                    b,
                    out,
                    InstKind::Mutate {
                        m,
                        base: db,
                        args: dargs,
                        unwrap,
                    },
                    results.len(),
                    ty,
                );
                if let (Some(&r), Some(&dr)) = (results.get(1), rs.get(1)) {
                    let t = self.tys.of(r);
                    self.tys.set(dr, t);
                    if self.is_active(r) {
                        self.set_tangent(r, dr);
                    }
                }
                rs[0]
            }
            InstKind::Call { path, args } => {
                // The primal result comes from the forward rule too: the call is made once.
                let tangents: Vec<Option<Value>> =
                    args.iter().map(|a| self.tan.get(a).copied()).collect();
                // In exact mode at kinks, the runtime's nonsmooth functions through their exact
                // rule (the smooth ones' `_jvp` is exact).
                let along = self.kinks.is_some()
                    && crate::joint::is_runtime_function(&path)
                    && !crate::kinks::is_smooth_runtime_function(&path);
                self.f.insts[i.index()].kind = InstKind::CallJvp {
                    path,
                    args,
                    tangents,
                    along,
                };
                let d = self.f.new_value(None, ValueDef::Result(i, 1), Kind::Float);
                self.f.insts[i.index()].results.push(d);
                self.tys.set(d, ty);
                d
            }
            _ => return,
        };
        self.set_tangent(y, d);
    }

    /// The tangent of an elementwise primitive: its forms with `g` replaced by the operand
    /// tangents on plain floats, the runtime's `<name>_jvp` otherwise.
    fn prim(&mut self, b: Block, p: PrimId, ops: &[Value], y: Value, out: &mut Vec<Inst>) -> Value {
        let mut read: Vec<Value> = ops
            .iter()
            .enumerate()
            .filter(|&(k, _)| p.differentiable(k))
            .map(|(_, &v)| v)
            .collect();
        read.push(y);
        match self.tys.common_float(&read) {
            Some(t) if p.has_forms() => self.forms(b, p, ops, y, t, out),
            _ => {
                let mut tangents = Vec::new();
                for (k, &x) in ops.iter().enumerate() {
                    if p.differentiable(k) {
                        tangents.push(self.tangent_or_zero(b, x, out));
                    }
                }
                let mut args = ops.to_vec();
                args.push(y);
                let ty = self.tys.of(y);
                self.emit(
                    b,
                    out,
                    InstKind::Jvp {
                        prim: p,
                        args,
                        tangents,
                    },
                    if ty.is_plain() { ty } else { Ty::Unknown },
                )
            }
        }
    }

    /// `Σₖ formₖ[g := dxₖ]` over the active operands.
    fn forms(
        &mut self,
        b: Block,
        p: PrimId,
        ops: &[Value],
        y: Value,
        t: FloatTy,
        out: &mut Vec<Inst>,
    ) -> Value {
        // A square: `dx * (x + x)` (see `forms::squared`).
        if let Some(x) = forms::squared(p, ops)
            && let Some(&dx) = self.tan.get(&x)
        {
            return forms::doubled(x, dx, t, &mut |kind, ty| self.emit(b, out, kind, ty));
        }
        let mut sum: Option<Value> = None;
        for (k, &x) in ops.iter().enumerate() {
            let Some(&dx) = self.tan.get(&x) else {
                continue;
            };
            // The product's term `dxₖ·(other factor)`; a constant factor is finite.
            let guard = self.saturated.contains(&y)
                && ops.len() == 2
                && !forms::is_constant(self.f, ops[1 - k]);
            // `exp` and its kind of such a product: 0 where their derivative is.
            let given = forms::saturated(p).filter(|_| self.saturated.contains(&y));
            let Some((form, env)) = forms::bound(p, k, ops, y, dx, guard, given) else {
                continue;
            };
            let term = self.instantiate(b, out, &form, &env, t);
            sum = Some(match sum {
                None => term,
                Some(s) => self.emit(b, out, InstKind::Binary(BinOp::Add, s, term), Ty::Float(t)),
            });
        }
        match sum {
            Some(s) => s,
            None => self.emit(b, out, InstKind::Const(quote!(0.0)), Ty::Float(t)),
        }
    }

    /// A primitive linear in its differentiable operands applied to their tangents; for one
    /// linear in each (`dot`), the sum over operands of it with that operand's tangent.
    fn linear(
        &mut self,
        b: Block,
        p: PrimId,
        args: &[Value],
        unwrap: bool,
        ty: Ty,
        out: &mut Vec<Inst>,
    ) -> Value {
        let mut sum: Option<Value> = None;
        for k in 0..args.len() {
            if !p.differentiable(k) {
                continue;
            }
            let Some(&d) = self.tan.get(&args[k]) else {
                continue;
            };
            let mut a = args.to_vec();
            a[k] = d;
            let term = self.emit(
                b,
                out,
                InstKind::Prim {
                    prim: p,
                    args: a,
                    unwrap,
                },
                ty,
            );
            sum = Some(match sum {
                None => term,
                Some(s) => self.emit(b, out, InstKind::Binary(BinOp::Add, s, term), ty),
            });
        }
        sum.expect("an active result has an active operand")
    }

    /// Writes out a form as IR, as [`crate::reverse`] does for the pullback.
    fn instantiate(
        &mut self,
        b: Block,
        out: &mut Vec<Inst>,
        e: &syn::Expr,
        env: &[(&str, Value)],
        t: FloatTy,
    ) -> Value {
        forms::instantiate(e, env, t, &mut |kind, ty| self.emit(b, out, kind, ty))
    }

    /// New results of `i` after its others: the tangents of its results `active`.
    fn tangent_results(&mut self, i: Inst, results: &[Value], active: &[usize]) {
        for &k in active {
            let r = results[k];
            let n = self.f.inst(i).results.len();
            let d = self.f.new_value(None, ValueDef::Result(i, n), Kind::Float);
            let t = self.tys.of(r);
            self.tys.set(d, t);
            self.f.insts[i.index()].results.push(d);
            self.set_tangent(r, d);
        }
    }

    /// An `if`/`match`: its arms compute tangents and yield them after their values.
    fn branch(&mut self, i: Inst, arms: &[Block]) {
        for &arm in arms {
            self.block(arm);
        }
        let results = self.f.inst(i).results.clone();
        let active: Vec<usize> = (0..results.len())
            .filter(|&k| self.is_active(results[k]))
            .collect();
        if active.is_empty() {
            return;
        }
        for &arm in arms {
            let Term::Yield(mut vals) = self.f.block(arm).term.clone() else {
                continue;
            };
            let mut out = std::mem::take(&mut self.f.blocks[arm.index()].insts);
            for &k in &active {
                let d = self.tangent_or_zero(arm, vals[k], &mut out);
                vals.push(d);
            }
            self.f.blocks[arm.index()].insts = out;
            self.f.blocks[arm.index()].term = Term::Yield(vals);
        }
        self.tangent_results(i, &results, &active);
    }

    /// A loop: its active carried values carry their tangents too.
    fn lp(&mut self, outer: Block, i: Inst, out: &mut Vec<Inst>) {
        let InstKind::Loop { init, body, .. } = self.f.inst(i).kind.clone() else {
            return;
        };
        let params = self.f.block(body).params.clone();
        let carried = params[params.len() - init.len()..].to_vec();
        let active: Vec<usize> = (0..carried.len())
            .filter(|&k| self.is_active(carried[k]))
            .collect();
        if active.is_empty() {
            self.block(body);
            return;
        }
        // Tangents of the initial values, computed before the loop.
        let mut new_init = init.clone();
        {
            let mut before = Vec::new();
            for &k in &active {
                let d = self.tangent_or_zero(outer, init[k], &mut before);
                new_init.push(d);
            }
            let pos = out
                .iter()
                .position(|&x| x == i)
                .expect("the loop was emitted");
            for (n, x) in before.into_iter().enumerate() {
                out.insert(pos + n, x);
            }
        }
        for &k in &active {
            let t = self.tys.of(carried[k]);
            let d = self.f.add_block_param(body, None, Kind::Float);
            self.tys.set(d, t);
            self.set_tangent(carried[k], d);
        }
        if let InstKind::Loop { init, .. } = &mut self.f.insts[i.index()].kind {
            *init = new_init;
        }
        self.block(body);
        let mut out = std::mem::take(&mut self.f.blocks[body.index()].insts);
        let term = self.f.block(body).term.clone();
        let extend = |s: &mut Self, vals: &mut Vec<Value>, out: &mut Vec<Inst>| {
            for &k in &active {
                let d = s.tangent_or_zero(body, vals[k], out);
                vals.push(d);
            }
        };
        let term = match term {
            Term::Continue(mut vals) => {
                extend(self, &mut vals, &mut out);
                Term::Continue(vals)
            }
            Term::Break(mut vals) => {
                extend(self, &mut vals, &mut out);
                Term::Break(vals)
            }
            Term::Next { brk, mut vals } => {
                extend(self, &mut vals, &mut out);
                Term::Next { brk, vals }
            }
            t => t,
        };
        self.f.blocks[body.index()].insts = out;
        self.f.blocks[body.index()].term = term;
        let results = self.f.inst(i).results.clone();
        self.tangent_results(i, &results, &active);
    }
}
