//! Forward mode in exact mode at kinks (see [`crate::kinks`]): the tangent of every value along
//! the direction, and at every kink of a scalar, an explicit choice of the piece the program
//! enters along it.
//!
//! The tangents are computed as in plain forward mode; where they reach a kink, the choice is
//! made from them:
//!
//! - `max`, `min`, `abs`, `clamp`, `copysign`: the instruction becomes an `if` whose condition
//!   is the runtime's decision on the operands and their tangents
//!   (`kinks::max_takes_second(a, b, ȧ, ḃ)`) and whose arms yield the pieces (`b` and `a`;
//!   `x + 0.0` and `0.0 − x` for `abs`, which are `|x|` bit for bit, zeros included);
//! - `hypot(a, b)` and `sqrt` of a sum of squares (`x * x`, `x.powi(2)`, and sums of them): at
//!   the origin the arm `a·k₀ + b·k₁ + 0` with `k = ȧ/‖ȧ‖` (the gradient at the points the
//!   direction enters, constant), which is `0` there, as the norm is; elsewhere the norm;
//! - `signum`: its value at `0` becomes the sign the tangent gives it (`kinks::signum`), so that
//!   forms such as `x·signum(x)` take the piece the direction enters;
//! - comparisons `<`, `<=`, `>`, `>=` of differentiated values, in conditions and in `match`
//!   guards: the tie-aware comparison `kinks::gt(a, b, ȧ, ḃ)` (`a > b`, or `a == b` and
//!   `ȧ > ḃ`). Equality tests keep their plain result: a branch on `x == 0.0` usually guards
//!   a removable singularity that the other arm cannot evaluate at the point.
//!
//! A call with differentiated arguments is made through the callee's forward rule as in plain
//! forward mode; reverse mode later turns it into a call of `g_vjp_along`.
//!
//! The values this pass adds are tangents (which reverse mode must not differentiate), except
//! the pieces of the branches it makes, which it lists in [`Exact::primal`].

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;

use super::Fwd;
use crate::ir::*;
use crate::prim::PrimId;
use crate::scalars::{Ty, Types};

/// What exact forward mode made besides the tangent function.
pub struct Exact {
    /// The values the pass added that are primal values (the pieces of the branches it made);
    /// every other value it added is a tangent.
    pub primal: HashSet<Value>,
    pub errors: Vec<syn::Error>,
}

/// The state of the pass while it runs.
pub(super) struct KinkState {
    /// The path of the runtime's support module (`::autodiff::__private`).
    pv: TokenStream,
    primal: HashSet<Value>,
    errors: Vec<syn::Error>,
}

/// Forward mode on `f` in exact mode at kinks: afterwards its body returns `(value, tangent)`,
/// its tangent parameters are `f.tangent_params`, and every kink of a scalar is a branch that
/// the tangents decide. `pv` is the path of the runtime's support module.
pub fn jvp_exact(f: &mut Func, active: &[bool], tys: &mut Types, pv: TokenStream) -> Exact {
    let mut fw = Fwd::new(f, active, tys);
    fw.kinks = Some(KinkState {
        pv,
        primal: HashSet::new(),
        errors: Vec::new(),
    });
    fw.begin(false);
    let body = fw.f.body();
    fw.block(body);
    fw.return_tangent(body);
    fw.plain_decisions();
    let k = fw.kinks.take().expect("the pass set its state");
    Exact {
        primal: k.primal,
        errors: k.errors,
    }
}

/// The runtime's `kinks::Rounding` of a rounding method.
fn rounding(name: &str) -> Option<&'static str> {
    Some(match name {
        "floor" => "Floor",
        "ceil" => "Ceil",
        "trunc" => "Trunc",
        "round" => "Round",
        _ => return None,
    })
}

/// Which comparison helper of the runtime decides `a op b` along the tangents.
fn comparison(op: &syn::BinOp) -> Option<&'static str> {
    Some(match op {
        syn::BinOp::Gt(_) => "gt",
        syn::BinOp::Ge(_) => "ge",
        syn::BinOp::Lt(_) => "lt",
        syn::BinOp::Le(_) => "le",
        _ => return None,
    })
}

/// A comparison method, whose plain result decides by the order of its operands.
fn is_ordering_method(name: &str) -> bool {
    matches!(
        name,
        "lt" | "le"
            | "gt"
            | "ge"
            | "partial_cmp"
            | "total_cmp"
            | "cmp"
            | "is_sign_negative"
            | "is_sign_positive"
            | "max"
            | "min"
            | "clamp"
    )
}

/// A method of a container that finds an element by its position, not its value (`x.get(i)`,
/// `x.first()`, `it.next()`): a branch on its `Option` decides by indices and lengths.
fn is_positional_access(name: &str) -> bool {
    matches!(
        name,
        "get"
            | "get_mut"
            | "first"
            | "first_mut"
            | "last"
            | "last_mut"
            | "split_first"
            | "split_last"
            | "next"
            | "next_back"
            | "nth"
            | "iter"
            | "iter_mut"
            | "into_iter"
            | "as_slice"
            | "as_ref"
    )
}

/// `name` as an identifier of the generated code.
fn ident(name: &str) -> syn::Ident {
    syn::Ident::new(name, Span::call_site())
}

impl Fwd<'_> {
    fn pv(&self) -> TokenStream {
        self.kinks
            .as_ref()
            .map(|k| k.pv.clone())
            .unwrap_or_default()
    }

    /// Exact mode's own handling of instruction `i` (the last of `out`), if it has one: `true`
    /// when `i` needs nothing more.
    pub(super) fn kink(&mut self, b: Block, i: Inst, out: &mut Vec<Inst>) -> bool {
        let kind = self.f.inst(i).kind.clone();
        match kind {
            InstKind::Opaque {
                tokens,
                uses,
                mac: None,
            } => {
                self.tie_aware_comparison(b, i, &tokens, &uses, out);
                false
            }
            InstKind::Match { .. } => {
                self.tie_aware_guards(b, i, out);
                false
            }
            InstKind::Prim {
                prim,
                ref args,
                unwrap: false,
            } if rounding(prim.name()).is_some() && self.tan.contains_key(&args[0]) => {
                let how = rounding(prim.name()).expect("a rounding");
                self.rounded(b, i, args[0], how, out);
                true
            }
            // A call of a helper the macro does not see whose result is an integer (`let i:
            // usize = locate(xs, t);`, `ys[i]`): its plain result would choose the piece at a
            // tie, whatever the direction.
            InstKind::Call { ref path, ref args }
                if self.discrete_result(i) && args.iter().any(|a| self.tan.contains_key(a)) =>
            {
                let name = quote!(#path).to_string().replace(' ', "");
                self.discrete_of_differentiated(i, &format!("`{name}(..)`"));
                false
            }
            InstKind::Method {
                ref name,
                recv,
                ref args,
                ..
            } if self.discrete_result(i)
                && !crate::prim::is_discrete_method(&name.to_string())
                && !crate::lower::calls::is_shape_query(&name.to_string())
                && std::iter::once(&recv)
                    .chain(args)
                    .any(|a| self.tan.contains_key(a)) =>
            {
                self.discrete_of_differentiated(i, &format!("`.{name}(..)`"));
                false
            }
            // `x as usize` of a differentiated float truncates: the integer entered.
            InstKind::Cast { value, ref ty }
                if crate::types::is_inactive_type(ty) && self.tan.contains_key(&value) =>
            {
                let before = out.pop();
                debug_assert_eq!(before, Some(i));
                let t = self.rounded_value(b, value, "Trunc", out);
                out.push(i);
                if let InstKind::Cast { value, .. } = &mut self.f.insts[i.index()].kind {
                    *value = t;
                }
                false
            }
            InstKind::Prim {
                prim,
                args,
                unwrap: false,
            } => {
                let y = self.f.inst(i).results[0];
                if !self.is_active(y) {
                    return false;
                }
                let name = prim.name();
                let kink = matches!(
                    name,
                    "max" | "min" | "abs" | "copysign" | "clamp" | "signum" | "hypot"
                ) || name == "sqrt"
                    && self.squares(args[0]).is_some_and(|p| !p.is_empty());
                if kink && args.iter().any(|&a| self.known_array(a, 0)) {
                    self.array_kink(i, name);
                    return false;
                }
                let before = out.pop();
                debug_assert_eq!(before, Some(i));
                let ty = self.tys.of(y);
                let args: Vec<Value> = match prim.name() {
                    "max" | "min" | "abs" | "copysign" | "clamp" | "signum" | "hypot" => {
                        args.iter().map(|&a| self.by_value(b, a, ty, out)).collect()
                    }
                    _ => args,
                };
                let done = match prim.name() {
                    "max" | "min" => self.max_min(b, i, prim.name(), &args, out),
                    "abs" => self.abs(b, i, args[0], None, out),
                    "copysign" => self.abs(b, i, args[0], Some(args[1]), out),
                    "clamp" => self.clamp(b, i, &args, out),
                    "signum" => self.signum(b, i, args[0], out),
                    "hypot" => {
                        let parts = vec![(args[0], 1.0), (args[1], 1.0)];
                        self.norm(b, i, prim, &args, parts, out)
                    }
                    "sqrt" => match self.squares(args[0]) {
                        Some(parts) if !parts.is_empty() => {
                            self.norm(b, i, prim, &args, parts, out)
                        }
                        _ => false,
                    },
                    _ => false,
                };
                out.push(i);
                done
            }
            _ => false,
        }
    }

    /// An operand that is a reference (the receiver `s.a` of `s.a.max(s.b)`, a field of a
    /// struct) as the scalar it points to, with its tangent: the runtime's decisions and the
    /// pieces are scalars, which the arms of the `if` yield by value.
    fn by_value(&mut self, b: Block, v: Value, ty: Ty, out: &mut Vec<Inst>) -> Value {
        let by_ref = matches!(self.f.value(v).def, ValueDef::Result(d, _)
            if matches!(self.f.inst(d).kind, InstKind::FieldRef(..) | InstKind::Ref(_)));
        if !by_ref {
            return v;
        }
        let dv = self.tan0(b, v, out);
        let x = self.emit_primal(b, out, InstKind::Deref(v), ty);
        let dx = self.emit(b, out, InstKind::Deref(dv), ty);
        self.set_tangent(x, dx);
        x
    }

    /// The tangent of `v`, or a zero.
    fn tan0(&mut self, b: Block, v: Value, out: &mut Vec<Inst>) -> Value {
        self.tangent_or_zero(b, v, out)
    }

    /// An instruction computing a primal value (a piece of a branch), recorded as such.
    fn emit_primal(&mut self, b: Block, out: &mut Vec<Inst>, kind: InstKind, ty: Ty) -> Value {
        let v = self.emit(b, out, kind, ty);
        self.state().primal.insert(v);
        v
    }

    fn state(&mut self) -> &mut KinkState {
        self.kinks.as_mut().expect("exact mode at kinks")
    }

    /// A call of the runtime's `kinks::<name>` on `args` (bound to `__ad_k0`, `__ad_k1`, …):
    /// a discrete decision, or with `ty` a float that is not differentiated.
    fn decide(
        &mut self,
        b: Block,
        out: &mut Vec<Inst>,
        name: &str,
        args: &[Value],
        shape: fn(&[TokenStream]) -> TokenStream,
        ty: Option<Ty>,
    ) -> Value {
        let names: Vec<syn::Ident> = (0..args.len())
            .map(|k| format_ident!("__ad_k{}", k))
            .collect();
        let toks: Vec<TokenStream> = names.iter().map(|n| quote!(#n)).collect();
        let (pv, f) = (self.pv(), ident(name));
        let call_args = shape(&toks);
        let tokens = quote!(#pv::kinks::#f(#call_args));
        let uses = names.into_iter().zip(args.iter().copied()).collect();
        let v = self.emit(
            b,
            out,
            InstKind::Opaque {
                tokens,
                uses,
                mac: None,
            },
            ty.unwrap_or(Ty::Unknown),
        );
        if ty.is_none() {
            self.f.values[v.index()].kind = Kind::Discrete;
        }
        v
    }

    /// A new block that yields what `build` makes in it.
    fn arm(&mut self, build: impl FnOnce(&mut Self, Block, &mut Vec<Inst>) -> Vec<Value>) -> Block {
        let blk = self.f.new_block();
        let mut insts = Vec::new();
        let vals = build(self, blk, &mut insts);
        self.f.blocks[blk.index()].insts = insts;
        self.f.blocks[blk.index()].term = Term::Yield(vals);
        blk
    }

    /// Instruction `i` (result `y`) becomes `if cond { then } else { els }`, whose arms yield a
    /// piece and its tangent: the results are `y` and its tangent.
    fn select(&mut self, i: Inst, cond: Value, then: Block, els: Block) {
        let y = self.f.inst(i).results[0];
        self.f.insts[i.index()].kind = InstKind::If { cond, then, els };
        let d = self.f.new_value(None, ValueDef::Result(i, 1), Kind::Float);
        let t = self.tys.of(y);
        self.tys.set(d, t);
        self.f.insts[i.index()].results.push(d);
        self.set_tangent(y, d);
    }

    /// `a.max(b)` / `a.min(b)`: the piece `b` where the runtime's decision says so, else `a`.
    fn max_min(
        &mut self,
        b: Block,
        i: Inst,
        name: &str,
        args: &[Value],
        out: &mut Vec<Inst>,
    ) -> bool {
        let (x, a) = (args[0], args[1]);
        let (dx, da) = (self.tan0(b, x, out), self.tan0(b, a, out));
        let helper = if name == "max" {
            "max_takes_second"
        } else {
            "min_takes_second"
        };
        let c = self.decide(b, out, helper, &[x, a, dx, da], |t| quote!(#(#t),*), None);
        let then = self.arm(|_, _, _| vec![a, da]);
        let els = self.arm(|_, _, _| vec![x, dx]);
        self.select(i, c, then, els);
        true
    }

    /// `|x|` as `x + 0.0` or `0.0 − x` (each `|x|` bit for bit where it is taken, zeros
    /// included); with `s`, `x.copysign(s)` as the sign of `s` times that.
    fn abs(&mut self, b: Block, i: Inst, x: Value, s: Option<Value>, out: &mut Vec<Inst>) -> bool {
        let y = self.f.inst(i).results[0];
        let ty = self.tys.of(y);
        let dx = self.tan0(b, x, out);
        let c = self.decide(b, out, "abs_nonneg", &[x, dx], |t| quote!(#(#t),*), None);
        let sign = s.map(|s| {
            let ds = self.tan0(b, s, out);
            self.decide(
                b,
                out,
                "sign_along",
                &[s, ds],
                |t| quote!(#(#t),*),
                Some(ty),
            )
        });
        let piece = |fw: &mut Self, blk: Block, out: &mut Vec<Inst>, negate: bool| {
            let z = fw.emit_primal(blk, out, InstKind::Const(quote!(0.0)), Ty::Lit);
            let (mut v, mut dv) = if negate {
                let v = fw.emit_primal(blk, out, InstKind::Binary(BinOp::Sub, z, x), ty);
                (v, fw.emit(blk, out, InstKind::Neg(dx), ty))
            } else {
                (
                    fw.emit_primal(blk, out, InstKind::Binary(BinOp::Add, x, z), ty),
                    dx,
                )
            };
            if let Some(sg) = sign {
                v = fw.emit_primal(blk, out, InstKind::Binary(BinOp::Mul, sg, v), ty);
                dv = fw.emit(blk, out, InstKind::Binary(BinOp::Mul, sg, dv), ty);
            }
            vec![v, dv]
        };
        let then = self.arm(|fw, blk, out| piece(fw, blk, out, false));
        let els = self.arm(|fw, blk, out| piece(fw, blk, out, true));
        self.select(i, c, then, els);
        true
    }

    /// `x.clamp(lo, hi)`: `lo` below, `hi` above, `x` between, decided along the tangents.
    fn clamp(&mut self, b: Block, i: Inst, args: &[Value], out: &mut Vec<Inst>) -> bool {
        let (x, lo, hi) = (args[0], args[1], args[2]);
        let y = self.f.inst(i).results[0];
        let ty = self.tys.of(y);
        let (dx, dlo, dhi) = (
            self.tan0(b, x, out),
            self.tan0(b, lo, out),
            self.tan0(b, hi, out),
        );
        let below = self.decide(
            b,
            out,
            "clamp_below",
            &[x, lo, hi, dx, dlo],
            |t| quote!(#(#t),*),
            None,
        );
        let above = self.decide(
            b,
            out,
            "clamp_above",
            &[x, hi, dx, dhi],
            |t| quote!(#(#t),*),
            None,
        );
        let then = self.arm(|_, _, _| vec![lo, dlo]);
        let els = self.arm(|fw, blk, out| {
            let t2 = fw.arm(|_, _, _| vec![hi, dhi]);
            let e2 = fw.arm(|_, _, _| vec![x, dx]);
            let rs = fw.emit_n(
                blk,
                out,
                InstKind::If {
                    cond: above,
                    then: t2,
                    els: e2,
                },
                2,
                ty,
            );
            fw.state().primal.insert(rs[0]);
            rs
        });
        self.select(i, below, then, els);
        true
    }

    /// `x.floor()` (`ceil`, `trunc`, `round`): the integer the piece entered along the tangent
    /// has (the runtime's `kinks::rounded`); its derivative is `0` either way.
    fn rounded(&mut self, b: Block, i: Inst, x: Value, how: &str, out: &mut Vec<Inst>) {
        let before = out.pop();
        debug_assert_eq!(before, Some(i));
        let ty = self.tys.of(self.f.inst(i).results[0]);
        let x = self.by_value(b, x, ty, out);
        self.f.insts[i.index()].kind = self.rounding_of(b, x, how, out);
        out.push(i);
    }

    /// Whether the result of `i` is data (an integer, a `bool`).
    fn discrete_result(&self, i: Inst) -> bool {
        let results = &self.f.inst(i).results;
        results.len() == 1 && self.f.value(results[0]).kind == Kind::Discrete
    }

    /// Errors for the branches (`if`, `match`, a loop's exit) decided by code run as written
    /// on differentiated values: a helper or data method the macro does not see returning a
    /// `bool`, an `Option` or an enum (`if greater(a, b)`, `if th.above(x)`, `match
    /// classify(x)`), a comparison called by its path (`f64::gt(&a, &b)`), a macro
    /// (`matches!(a - b, d if d > 0.0)`). Their plain result would choose the piece at a tie
    /// whatever the direction; the comparisons this mode decides are the ones written in the
    /// function.
    fn plain_decisions(&mut self) {
        let mut decisions = Vec::new();
        for b in self.f.blocks_within(self.f.body()) {
            for &i in &self.f.block(b).insts {
                match &self.f.inst(i).kind {
                    InstKind::If { cond, .. } => decisions.push(*cond),
                    InstKind::Match { scrutinee, .. } => decisions.push(*scrutinee),
                    _ => {}
                }
            }
            match &self.f.block(b).term {
                Term::Branch { cond, .. } => decisions.push(*cond),
                Term::Switch { scrutinee, .. } => decisions.push(*scrutinee),
                Term::Next { brk, .. } => decisions.push(*brk),
                _ => {}
            }
        }
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for v in decisions {
            self.plain_decider(v, &mut seen, &mut found);
        }
        for (i, msg) in found {
            let span = self.f.inst(i).span;
            self.state().errors.push(syn::Error::new(span, msg));
        }
    }

    /// Whether `v` is a differentiated value, or a reference to, a part of or a copy of one
    /// (`&a` passed to `f64::gt(&a, &b)`).
    fn reads_differentiated(&self, v: Value) -> bool {
        if self.tan.contains_key(&v) {
            return true;
        }
        let ValueDef::Result(j, _) = self.f.value(v).def else {
            return false;
        };
        match &self.f.inst(j).kind {
            InstKind::Ref(x)
            | InstKind::Deref(x)
            | InstKind::Field(x, _)
            | InstKind::FieldRef(x, _)
            | InstKind::Index(x, _)
            | InstKind::Cast { value: x, .. }
            | InstKind::Ascribe { value: x, .. } => self.reads_differentiated(*x),
            InstKind::Tuple(xs) => xs.iter().any(|&x| self.reads_differentiated(x)),
            _ => false,
        }
    }

    /// What computed the decision `v` as written from differentiated values, with the error
    /// for it (see [`Self::plain_decisions`]), following data that is not differentiated back
    /// to it (`bin_of(..).is_some()`, `!greater(a, b)`).
    fn plain_decider(&self, v: Value, seen: &mut HashSet<Value>, found: &mut Vec<(Inst, String)>) {
        if !seen.insert(v) || self.tan.contains_key(&v) {
            return;
        }
        let ValueDef::Result(j, k) = self.f.value(v).def else {
            return;
        };
        let kind = &self.f.inst(j).kind;
        // A result of a branch (the second operand of `a || b`): what each arm yields for it.
        let arms: Vec<Block> = match kind {
            InstKind::If { then, els, .. } => vec![*then, *els],
            InstKind::Match { arms, .. } => arms.iter().map(|a| a.block).collect(),
            _ => Vec::new(),
        };
        for arm in arms {
            if let Term::Yield(vals) = &self.f.block(arm).term {
                if let Some(&y) = vals.get(k) {
                    self.plain_decider(y, seen, found);
                }
            }
        }
        let advice = "write the comparison out in this function (`if a > b { .. }`, `let d = \
                      a - b; if d > 0.0 { .. }`), which this mode decides along the direction";
        let msg = match kind {
            // A constructor (`Some(x)`, `Regime::High(x)`) decides nothing.
            InstKind::Call { path, args }
                if args.iter().any(|&a| self.reads_differentiated(a))
                    && !path.segments.last().is_some_and(|s| {
                        s.ident
                            .to_string()
                            .starts_with(|c: char| c.is_ascii_uppercase())
                    }) =>
            {
                let last = path.segments.last().map(|s| s.ident.to_string());
                let name: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
                let name = name.join("::");
                match last.as_deref() {
                    // Predicates that decide by no order run as written, as methods do.
                    Some(m) if crate::prim::is_discrete_method(m) && !is_ordering_method(m) => None,
                    Some(m) if is_ordering_method(m) => Some(format!(
                        "`{name}(..)` compares differentiated values run as written: in `kinks \
                         = exact` its plain result would choose the piece at a tie whatever \
                         the direction; write the comparison as an operator (`a > b`) or a \
                         method (`a.gt(&b)`, `a.partial_cmp(&b)`), which this mode decides \
                         along the direction"
                    )),
                    _ => Some(format!(
                        "`{name}(..)` decides a branch from differentiated values, run as \
                         written (a helper returning a `bool`, an `Option` or an enum): in \
                         `kinks = exact` its plain result would choose the piece at a tie \
                         whatever the direction; {advice}"
                    )),
                }
            }
            InstKind::Method {
                name, recv, args, ..
            } if !crate::prim::is_discrete_method(&name.to_string())
                && !crate::lower::calls::is_shape_query(&name.to_string())
                && !is_positional_access(&name.to_string())
                && std::iter::once(recv)
                    .chain(args)
                    .any(|&a| self.reads_differentiated(a)) =>
            {
                Some(format!(
                    "`.{name}(..)` decides a branch from differentiated values, run as written: \
                     in `kinks = exact` its plain result would choose the piece at a tie \
                     whatever the direction; {advice}"
                ))
            }
            InstKind::Opaque {
                uses,
                mac: Some(mac),
                ..
            } if uses.iter().any(|&(_, a)| self.reads_differentiated(a)) => Some(format!(
                "`{mac}!(..)` reads differentiated values and its result decides a branch: \
                     in `kinks = exact` a comparison inside a macro runs as written, and its \
                     plain result would choose the piece at a tie whatever the direction; \
                     {advice}"
            )),
            _ => None,
        };
        if let Some(msg) = msg {
            found.push((j, msg));
            return;
        }
        let mut operands = Vec::new();
        kind.each_operand(&mut |&x| operands.push(x));
        for x in operands {
            self.plain_decider(x, seen, found);
        }
    }

    /// Whether `v` is known to be an ndarray array: a parameter declared as one (or a
    /// reference to one), or an elementwise operation on one (`&dx * &dx + &dy * &dy`).
    fn known_array(&self, v: Value, depth: usize) -> bool {
        if depth > 64 {
            return false;
        }
        match self.f.value(v).def {
            ValueDef::Param(n) => self
                .f
                .params
                .get(n)
                .is_some_and(|p| crate::types::is_ndarray(&p.ty)),
            ValueDef::Result(j, 0) => match &self.f.inst(j).kind {
                InstKind::Ref(x) | InstKind::Deref(x) | InstKind::Neg(x) => {
                    self.known_array(*x, depth + 1)
                }
                InstKind::Binary(_, a, c) => {
                    self.known_array(*a, depth + 1) || self.known_array(*c, depth + 1)
                }
                InstKind::Prim { prim, args, .. } if prim.has(crate::prim::Flags::FLOAT_RESULT) => {
                    args.first()
                        .is_some_and(|&a| self.known_array(a, depth + 1))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The error for a kink of an array (`a.abs()`, `(&a * &a).sqrt()`, instruction `i`): the
    /// mode decides the kinks of scalars. (The runtime's bound on its decisions said so too,
    /// among errors of the generated code that had nothing to do with the program.)
    fn array_kink(&mut self, i: Inst, name: &str) {
        let what = if name == "sqrt" {
            "`.sqrt()` of a sum of squares (a norm, whose kink is at the origin)".to_string()
        } else {
            format!("`.{name}(..)`")
        };
        let msg = format!(
            "`kinks = exact` decides the kinks of scalars, and {what} is of an array here; for \
             arrays, `nn::relu` and `conv::max_pool2d` are exact at their kinks; apply `max`, \
             `abs`, `hypot`, comparisons … to the elements in a loop (`for i in 0..a.len() {{ s \
             += a[i].abs(); }}`), or differentiate this function without `kinks = exact`"
        );
        let span = self.f.inst(i).span;
        self.state().errors.push(syn::Error::new(span, msg));
    }

    /// The error for `what`, a call computing data from differentiated values (instruction `i`).
    fn discrete_of_differentiated(&mut self, i: Inst, what: &str) {
        let msg = format!(
            "{what} computes an integer (or other data) from a differentiated value, and in \
             `kinks = exact` its plain result would choose the piece at a tie whatever the \
             direction; compute the choice in this function with comparisons (`if t < xs[i + \
             1] {{ .. }}`) or with `floor`, `ceil`, `round`, `trunc` or an `as` cast of the \
             float, which this mode decides along the direction"
        );
        let span = self.f.inst(i).span;
        self.state().errors.push(syn::Error::new(span, msg));
    }

    /// A new value: `x` rounded `how` along its tangent (see [`Self::rounded`]).
    fn rounded_value(&mut self, b: Block, x: Value, how: &str, out: &mut Vec<Inst>) -> Value {
        let ty = self.tys.of(x);
        let kind = self.rounding_of(b, x, how, out);
        let v = self.emit(b, out, kind, ty);
        self.f.values[v.index()].kind = Kind::Discrete;
        v
    }

    /// The runtime's `kinks::rounded` of `x` and its tangent.
    fn rounding_of(&mut self, b: Block, x: Value, how: &str, out: &mut Vec<Inst>) -> InstKind {
        let dx = self.tan0(b, x, out);
        let (pv, how) = (self.pv(), ident(how));
        InstKind::Opaque {
            tokens: quote!(#pv::kinks::rounded(__ad_k0, __ad_k1, #pv::kinks::Rounding::#how)),
            uses: vec![(ident("__ad_k0"), x), (ident("__ad_k1"), dx)],
            mac: None,
        }
    }

    /// `x.signum()`: at `±0` the sign of the tangent, elsewhere the plain value; its derivative
    /// is `0` either way.
    fn signum(&mut self, b: Block, i: Inst, x: Value, out: &mut Vec<Inst>) -> bool {
        let dx = self.tan0(b, x, out);
        let pv = self.pv();
        self.f.insts[i.index()].kind = InstKind::Opaque {
            tokens: quote!(#pv::kinks::signum(__ad_k0, __ad_k1)),
            uses: vec![(ident("__ad_k0"), x), (ident("__ad_k1"), dx)],
            mac: None,
        };
        true
    }

    /// The components whose squares `u` sums, each with its weight: `a * a` (`a` and `a` the
    /// same value, or the same place read twice: `self.x * self.x`, `p.0 * p.0`),
    /// `a.powi(2)`, `a.powf(2.0)`, `a.mul_add(a, r)`, positive constant weights (`2.0 * (x *
    /// x)`, `3.0 * x * x`, `x * x / 2.0`), and sums of those with zeros (`+ 0.0`, the `0.0` a
    /// `let mut s = 0.0; s += x * x;` starts from). `None` where `u` is anything else.
    fn squares(&self, u: Value) -> Option<Vec<(Value, f64)>> {
        if self.const_value(u) == Some(0.0) {
            return Some(Vec::new());
        }
        let ValueDef::Result(j, 0) = self.f.value(u).def else {
            return None;
        };
        let weighted = |parts: Vec<(Value, f64)>, w: f64| {
            (w > 0.0 && w.is_finite()).then(|| {
                parts
                    .into_iter()
                    .map(|(p, c)| (p, c * w))
                    .collect::<Vec<_>>()
            })
        };
        match &self.f.inst(j).kind {
            InstKind::Binary(BinOp::Mul, a, c) if self.same_place(*a, *c) => Some(vec![(*a, 1.0)]),
            InstKind::Binary(BinOp::Mul, a, c) => {
                if let Some(w) = self.const_value(*a) {
                    return weighted(self.squares(*c)?, w);
                }
                if let Some(w) = self.const_value(*c) {
                    return weighted(self.squares(*a)?, w);
                }
                // `w * x * x`, that is `(w * x) * x` (or `x * (w * x)`, `(x * w) * x`).
                let scaled = |s: Value, x: Value| -> Option<(Value, f64)> {
                    let ValueDef::Result(k, 0) = self.f.value(s).def else {
                        return None;
                    };
                    let InstKind::Binary(BinOp::Mul, p, q) = self.f.inst(k).kind else {
                        return None;
                    };
                    let (w, y) = match (self.const_value(p), self.const_value(q)) {
                        (Some(w), None) => (w, q),
                        (None, Some(w)) => (w, p),
                        _ => return None,
                    };
                    (self.same_place(y, x) && w > 0.0 && w.is_finite()).then_some((y, w))
                };
                Some(vec![scaled(*a, *c).or_else(|| scaled(*c, *a))?])
            }
            InstKind::Binary(BinOp::Div, a, c) => {
                let w = self.const_value(*c)?;
                weighted(self.squares(*a)?, 1.0 / w)
            }
            InstKind::Binary(BinOp::Add, p, q) => {
                let mut parts = self.squares(*p)?;
                parts.extend(self.squares(*q)?);
                Some(parts)
            }
            InstKind::Binary(BinOp::Sub, p, q) if self.const_value(*q) == Some(0.0) => {
                self.squares(*p)
            }
            InstKind::Prim { prim, args, .. } if prim.name() == "powi" || prim.name() == "powf" => {
                (self.const_value(args[1]) == Some(2.0)).then(|| vec![(args[0], 1.0)])
            }
            InstKind::Prim { prim, args, .. }
                if prim.name() == "mul_add" && self.same_place(args[0], args[1]) =>
            {
                let mut parts = vec![(args[0], 1.0)];
                parts.extend(self.squares(args[2])?);
                Some(parts)
            }
            _ => None,
        }
    }

    /// The number a constant `v` is (`2.0`, `2`, `0.5f32`, the `0.0` a sum starts from).
    fn const_value(&self, v: Value) -> Option<f64> {
        let ValueDef::Result(j, 0) = self.f.value(v).def else {
            return None;
        };
        let InstKind::Const(t) = &self.f.inst(j).kind else {
            return None;
        };
        if crate::ir::is_sum_start(t) {
            return Some(0.0);
        }
        let lit: syn::Lit = syn::parse2(t.clone()).ok()?;
        match lit {
            syn::Lit::Float(f) => f.base10_parse::<f64>().ok(),
            syn::Lit::Int(i) => i.base10_parse::<i64>().ok().map(|n| n as f64),
            _ => None,
        }
    }

    /// Whether `a` and `c` are the same value: one value, or the same place read twice (the
    /// same field, element or dereference of the same value), which common subexpression
    /// elimination leaves apart.
    fn same_place(&self, a: Value, c: Value) -> bool {
        if a == c {
            return true;
        }
        let (ValueDef::Result(i, 0), ValueDef::Result(j, 0)) =
            (self.f.value(a).def, self.f.value(c).def)
        else {
            return false;
        };
        match (&self.f.inst(i).kind, &self.f.inst(j).kind) {
            (InstKind::Deref(x), InstKind::Deref(y)) | (InstKind::Ref(x), InstKind::Ref(y)) => {
                self.same_place(*x, *y)
            }
            (InstKind::Field(x, m), InstKind::Field(y, n)) => m == n && self.same_place(*x, *y),
            (InstKind::FieldRef(x, m), InstKind::FieldRef(y, n)) => {
                m == n && self.same_place(*x, *y)
            }
            (InstKind::Index(x, k), InstKind::Index(y, l)) => {
                self.same_place(*x, *y)
                    && (k == l
                        || self.const_value(*k).is_some()
                            && self.const_value(*k) == self.const_value(*l))
            }
            _ => false,
        }
    }

    /// The Euclidean norm of `parts` with weights `w` (`hypot`, or `sqrt` of their weighted
    /// squares, `sqrt(Σ wₖ·partₖ²)`, the norm of `qₖ = √wₖ·partₖ`): at the origin, the arm
    /// `Σ partₖ·√wₖ·kₖ + 0` with `k = q̇/‖q̇‖` constant (the norm's gradient where the direction
    /// enters), of tangent `‖q̇‖`; elsewhere the norm as written.
    fn norm(
        &mut self,
        b: Block,
        i: Inst,
        prim: PrimId,
        args: &[Value],
        parts: Vec<(Value, f64)>,
        out: &mut Vec<Inst>,
    ) -> bool {
        let y = self.f.inst(i).results[0];
        let ty = self.tys.of(y);
        // `√wₖ`, where `wₖ ≠ 1`.
        let roots: Vec<Option<Value>> = parts
            .iter()
            .map(|&(_, w)| {
                (w != 1.0).then(|| {
                    let lit = syn::LitFloat::new(&format!("{:?}", w.sqrt()), Span::call_site());
                    self.emit(b, out, InstKind::Const(quote!(#lit)), Ty::Lit)
                })
            })
            .collect();
        let parts: Vec<Value> = parts.iter().map(|&(p, _)| p).collect();
        let dparts: Vec<Value> = parts
            .iter()
            .zip(&roots)
            .map(|(&p, r)| {
                let dp = self.tan0(b, p, out);
                match r {
                    Some(r) => self.emit(b, out, InstKind::Binary(BinOp::Mul, dp, *r), ty),
                    None => dp,
                }
            })
            .collect();
        let array = |t: &[TokenStream]| quote!([#(#t),*]);
        let c = self.decide(b, out, "origin", &parts, array, None);
        let then = self.arm(|fw, blk, out| {
            let mut sum: Option<Value> = None;
            for (k, &p) in parts.iter().enumerate() {
                let kk = fw.emit(blk, out, InstKind::Const(quote!(#k)), Ty::Unknown);
                fw.f.values[kk.index()].kind = Kind::Discrete;
                let mut with_k = dparts.clone();
                with_k.push(kk);
                let unit = |t: &[TokenStream]| {
                    let (ds, k) = t.split_at(t.len() - 1);
                    let k = &k[0];
                    quote!([#(#ds),*], #k)
                };
                let mut w = fw.decide(blk, out, "unit", &with_k, unit, Some(ty));
                if let Some(r) = roots[k] {
                    w = fw.emit(blk, out, InstKind::Binary(BinOp::Mul, w, r), ty);
                }
                let term = fw.emit_primal(blk, out, InstKind::Binary(BinOp::Mul, p, w), ty);
                sum = Some(match sum {
                    None => term,
                    Some(s) => fw.emit_primal(blk, out, InstKind::Binary(BinOp::Add, s, term), ty),
                });
            }
            let z = fw.emit_primal(blk, out, InstKind::Const(quote!(0.0)), Ty::Lit);
            let s = sum.expect("a norm has a component");
            let v = fw.emit_primal(blk, out, InstKind::Binary(BinOp::Add, s, z), ty);
            let n = fw.decide(blk, out, "norm", &dparts, array, Some(ty));
            vec![v, n]
        });
        let els = self.arm(|fw, blk, out| {
            let y0 = fw.emit_primal(
                blk,
                out,
                InstKind::Prim {
                    prim,
                    args: args.to_vec(),
                    unwrap: false,
                },
                ty,
            );
            let dy0 = fw.prim(blk, prim, args, y0, out);
            vec![y0, dy0]
        });
        self.select(i, c, then, els);
        true
    }

    /// A comparison `a op b` of differentiated values (the lowering's `__ad_a op __ad_b`),
    /// made tie-aware: `kinks::gt(a, b, ȧ, ḃ)`.
    fn tie_aware_comparison(
        &mut self,
        b: Block,
        i: Inst,
        tokens: &TokenStream,
        uses: &[(syn::Ident, Value)],
        out: &mut Vec<Inst>,
    ) {
        let Some(helper) = crate::activity::ordering(tokens).and_then(|op| comparison(&op)) else {
            return;
        };
        if uses.len() != 2 {
            return;
        }
        // An operand compared through a reference (`(*__ad_a) > __ad_b` of a call's result,
        // which might have been a container): the value it refers to, whose tangent decides.
        let referent = |fw: &Self, v: Value| match fw.f.value(v).def {
            ValueDef::Result(d, 0) => match fw.f.inst(d).kind {
                InstKind::Ref(x) => x,
                _ => v,
            },
            _ => v,
        };
        let (a, c) = (referent(self, uses[0].1), referent(self, uses[1].1));
        if !self.tan.contains_key(&a) && !self.tan.contains_key(&c) {
            return;
        }
        let before = out.pop();
        debug_assert_eq!(before, Some(i));
        let (da, dc) = (self.tan0(b, a, out), self.tan0(b, c, out));
        out.push(i);
        let (pv, f) = (self.pv(), ident(helper));
        if let InstKind::Opaque { tokens, uses, .. } = &mut self.f.insts[i.index()].kind {
            uses[0].1 = a;
            uses[1].1 = c;
            *tokens = quote!(#pv::kinks::#f(__ad_a, __ad_b, __ad_da, __ad_db));
            uses.push((ident("__ad_da"), da));
            uses.push((ident("__ad_db"), dc));
        }
    }

    /// The guards of a `match` (instruction `i`, the last of `out`), their comparisons of
    /// differentiated values made tie-aware.
    fn tie_aware_guards(&mut self, b: Block, i: Inst, out: &mut Vec<Inst>) {
        let InstKind::Match { arms, .. } = self.f.inst(i).kind.clone() else {
            return;
        };
        let before = out.pop();
        debug_assert_eq!(before, Some(i));
        let mut new_arms = arms.clone();
        for arm in &mut new_arms {
            let Some(guard) = &arm.guard else { continue };
            let Ok(expr) = syn::parse2::<syn::Expr>(guard.clone()) else {
                continue;
            };
            let vars: HashMap<String, Value> = arm
                .guard_uses
                .iter()
                .map(|(n, v)| (n.to_string(), *v))
                .collect();
            let mut g = Guard {
                vars,
                extra: Vec::new(),
            };
            match self.guard_expr(b, &expr, &mut g, out) {
                Ok(e) => {
                    arm.guard = Some(quote!(#e));
                    arm.guard_uses.extend(g.extra);
                }
                Err(e) => self.state().errors.push(e),
            }
        }
        out.push(i);
        if let InstKind::Match { arms, .. } = &mut self.f.insts[i.index()].kind {
            *arms = new_arms;
        }
    }

    /// A guard expression with its comparisons of differentiated values made tie-aware.
    fn guard_expr(
        &mut self,
        b: Block,
        e: &syn::Expr,
        g: &mut Guard,
        out: &mut Vec<Inst>,
    ) -> syn::Result<syn::Expr> {
        use syn::Expr as E;
        Ok(match e {
            E::Paren(p) => {
                let inner = self.guard_expr(b, &p.expr, g, out)?;
                syn::parse_quote!((#inner))
            }
            E::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                let inner = self.guard_expr(b, &u.expr, g, out)?;
                syn::parse_quote!(!#inner)
            }
            E::Binary(bin) if matches!(bin.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
                let l = self.guard_expr(b, &bin.left, g, out)?;
                let r = self.guard_expr(b, &bin.right, g, out)?;
                let op = &bin.op;
                syn::parse_quote!(#l #op #r)
            }
            E::Binary(bin) if comparison(&bin.op).is_some() => {
                let sides = [
                    self.guard_operand(&bin.left, g),
                    self.guard_operand(&bin.right, g),
                ];
                match sides {
                    [Some(l), Some(r)] if l.is_some() || r.is_some() => {
                        let mut dt = |v: Option<Value>, fw: &mut Self| match v {
                            Some(v) => {
                                let d = fw.tan0(b, v, out);
                                let n = format_ident!("__ad_dg{}", g.extra.len());
                                g.extra.push((n.clone(), d));
                                quote!(#n)
                            }
                            None => quote!(0.0),
                        };
                        let (dl, dr) = (dt(l, self), dt(r, self));
                        let (pv, f) = (self.pv(), ident(comparison(&bin.op).unwrap_or("gt")));
                        let (left, right) = (&bin.left, &bin.right);
                        syn::parse_quote!(#pv::kinks::#f(#left, #right, #dl, #dr))
                    }
                    [Some(None), Some(None)] => e.clone(),
                    _ if self.mentions_differentiated(e, g) => {
                        return Err(syn::Error::new(
                            e.span(),
                            "`kinks = exact`: a guard that compares differentiated values must \
                             compare variables or literals; bind the expression with `let` \
                             before the `match` and compare the variable",
                        ));
                    }
                    _ => e.clone(),
                }
            }
            // A helper, a method or a macro that decides on differentiated values as written
            // (`0 if greater(x, y)`): its plain result would pick the arm at a tie.
            E::Call(_) | E::MethodCall(_) | E::Macro(_)
                if self.mentions_differentiated(e, g)
                    && !matches!(e, E::MethodCall(m)
                        if crate::prim::is_discrete_method(&m.method.to_string())
                            && !is_ordering_method(&m.method.to_string())) =>
            {
                return Err(syn::Error::new(
                    e.span(),
                    "`kinks = exact`: this guard decides on differentiated values by code run as \
                     written, whose plain result would pick the arm at a tie whatever the \
                     direction; write the comparison out in the guard (`d if d > 0.0`, on \
                     variables or literals), which this mode decides along the direction",
                ));
            }
            _ => e.clone(),
        })
    }

    /// A side of a comparison in a guard: `Some(Some(v))` for a variable holding the
    /// differentiated value `v`, `Some(None)` for a literal or a variable without a tangent,
    /// `None` for anything else.
    fn guard_operand(&self, e: &syn::Expr, g: &Guard) -> Option<Option<Value>> {
        match e {
            syn::Expr::Lit(_) => Some(None),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
                matches!(&*u.expr, syn::Expr::Lit(_)).then_some(None)
            }
            syn::Expr::Paren(p) => self.guard_operand(&p.expr, g),
            syn::Expr::Path(p) => match p.path.get_ident() {
                Some(id) => match g.vars.get(&id.to_string()) {
                    Some(&v) if self.tan.contains_key(&v) => Some(Some(v)),
                    _ => Some(None),
                },
                None => Some(None),
            },
            _ => None,
        }
    }

    /// Whether `e` names a variable that holds a differentiated value.
    fn mentions_differentiated(&self, e: &syn::Expr, g: &Guard) -> bool {
        let mut ids = Vec::new();
        collect_idents(quote!(#e), &mut ids);
        ids.iter()
            .any(|id| g.vars.get(id).is_some_and(|v| self.tan.contains_key(v)))
    }
}

/// A guard being rewritten: its variables, and the tangents it reads besides them.
struct Guard {
    vars: HashMap<String, Value>,
    extra: Vec<(syn::Ident, Value)>,
}

fn collect_idents(ts: TokenStream, out: &mut Vec<String>) {
    for tt in ts {
        match tt {
            proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
            proc_macro2::TokenTree::Group(g) => collect_idents(g.stream(), out),
            _ => {}
        }
    }
}
