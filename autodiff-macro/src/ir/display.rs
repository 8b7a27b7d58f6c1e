//! The IR as text: `v3 = mul v1, v2`, nested blocks indented. What `dump` prints and what the
//! snapshot tests compare.

use std::fmt;

use super::*;

fn list(vs: &[Value]) -> String {
    vs.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn range_text(r: &IterRange) -> String {
    format!(
        "{}..{}{}{}",
        r.start,
        if r.inclusive { "=" } else { "" },
        r.end,
        if r.rev { " rev" } else { "" }
    )
}

fn tokens(t: &impl quote::ToTokens) -> String {
    t.to_token_stream().to_string()
}

impl Func {
    /// The text of one instruction, without its results.
    pub fn inst_text(&self, i: Inst) -> String {
        match &self.inst(i).kind {
            InstKind::Const(t) => format!("const {t}"),
            InstKind::Binary(op, a, b) => format!("{} {a}, {b}", op.name()),
            InstKind::Neg(a) => format!("neg {a}"),
            InstKind::Prim { prim, args, unwrap } => format!(
                "{}{} {}",
                prim.name(),
                if *unwrap { ".unwrap" } else { "" },
                list(args)
            ),
            InstKind::Method {
                name, recv, args, ..
            } => format!(
                "method {name} {recv}{}{}",
                if args.is_empty() { "" } else { ", " },
                list(args)
            ),
            InstKind::Call { path, args } => format!("call {} {}", tokens(path), list(args)),
            InstKind::Cast { value, ty } => format!("cast {value} as {}", tokens(ty)),
            InstKind::Ascribe { value, ty } => format!("ascribe {value}: {}", tokens(ty)),
            InstKind::TypedLike { value, like } => format!("typed_like {value} as {like}"),
            InstKind::Ref(v) => format!("ref {v}"),
            InstKind::Tuple(vs) => format!("tuple {}", list(vs)),
            InstKind::Field(v, n) => format!("field {v}.{n}"),
            InstKind::FieldRef(v, n) => format!("fieldref {v}.{n}"),
            InstKind::Deref(v) => format!("deref {v}"),
            InstKind::Index(a, b) => format!("index {a}[{b}]"),
            InstKind::IndexSet { base, index, value } => {
                format!("indexset {base}[{index}] = {value}")
            }
            InstKind::Opaque { tokens, uses, .. } => format!(
                "opaque `{tokens}` {}",
                list(&uses.iter().map(|(_, v)| *v).collect::<Vec<_>>())
            ),
            InstKind::If { cond, .. } => format!("if {cond}"),
            InstKind::Match { scrutinee, .. } => format!("match {scrutinee}"),
            InstKind::Loop {
                kind,
                init,
                checkpoint,
                ..
            } => {
                let ck = checkpoint.map_or(String::new(), |n| format!(" checkpoint {n}"));
                match kind.range() {
                    Some(r) => format!("for {} init {}{ck}", range_text(&r), list(init)),
                    None => format!("loop init {}{ck}", list(init)),
                }
            }
            InstKind::CkptStart {
                var,
                snapshots,
                range,
            } => match range {
                Some(r) => format!(
                    "{var} = checkpointer binomial {}, snapshots {snapshots}",
                    range_text(r)
                ),
                None => format!("{var} = checkpointer online, snapshots {snapshots}"),
            },
            InstKind::CkptSweep { ck, var, range, .. } => match range {
                Some(r) => format!("sweep {var} = {ck} over {}", range_text(r)),
                None => format!("sweep {var} = {ck}"),
            },
            InstKind::InlinePullback { .. } => "pullback of the iteration, in place".to_string(),
            InstKind::VarInit { var, value } => format!("{var} = {value}"),
            InstKind::VarDecl(var) => format!("{var} declared"),
            InstKind::VarAcc { var, value } => format!("{var} += {value}"),
            InstKind::VarSet { var, value } => format!("{var} := {value}"),
            InstKind::VarAccAt { var, index, value } => format!("{var}[{index}] += {value}"),
            InstKind::VarAccField {
                var,
                field,
                index: None,
                value,
            } => format!("{var}.{} += {value}", tokens(field)),
            InstKind::VarAccField {
                var,
                field,
                index: Some(index),
                value,
            } => format!("{var}.{}[{index}] += {value}", tokens(field)),
            InstKind::VarGet(w) => format!("get {w}"),
            InstKind::VarTake(w) => format!("take {w}"),
            InstKind::VarTakeAt { var, index } => format!("take {var}[{index}]"),
            InstKind::VarReadAt { var, index } => format!("read {var}[{index}]"),
            InstKind::VarTakeTo { var, shape } => format!("take {var} leaving zeros {shape}"),
            InstKind::Count(w) => format!("{w} += 1"),
            InstKind::Mutate {
                m,
                base,
                args,
                unwrap,
            } => format!(
                "{}{} {base}{}{}",
                m.def().name,
                if *unwrap { ".unwrap" } else { "" },
                if args.is_empty() { "" } else { ", " },
                list(args)
            ),
            InstKind::VarUpdate { var, m, args } => {
                format!("{var} = {}({var}, {})", m.def().adjoint, list(args))
            }
            InstKind::ZeroLike(v) => format!("zero_like {v}"),
            InstKind::ZeroOfShape(v) => format!("zeros {v}"),
            InstKind::Shape(v) => format!("shape {v}"),
            InstKind::TypeOf(v) => format!("type_of {v}"),
            InstKind::Rule {
                prim,
                operand,
                args,
                g,
            } => {
                let a: Vec<String> = args
                    .iter()
                    .map(|a| match a {
                        RuleArg::Value(v) => v.to_string(),
                        RuleArg::Shape(v) => format!("shape:{v}"),
                        RuleArg::Witness => "_".into(),
                    })
                    .collect();
                format!("rule {} {}, {g}", prim.rule_name(*operand), a.join(", "))
            }
            InstKind::Helper { name, args } => format!("d::{name} {}", list(args)),
            InstKind::CastBack { source, g } => format!("cast_back {g} to {source}"),
            InstKind::GradAs { like, g } => format!("grad_as {g} like {like}"),
            InstKind::CallJvp {
                path,
                args,
                tangents,
                ..
            }
            | InstKind::CallAlong {
                path,
                args,
                tangents,
            } => {
                let t: Vec<String> = tangents
                    .iter()
                    .map(|t| t.map_or("_".into(), |v| v.to_string()))
                    .collect();
                let what = match &self.inst(i).kind {
                    InstKind::CallJvp { along: false, .. } => "call_jvp",
                    _ => "call_vjp_along",
                };
                format!(
                    "{what} {} {} tangents {}",
                    tokens(path),
                    list(args),
                    t.join(", ")
                )
            }
            InstKind::CallVjpJvp { path, args, .. } => {
                format!("call_vjp_jvp {} {}", tokens(path), list(args))
            }
            InstKind::CallPullbackJvp { pb, sel, g, dg } => {
                format!("pullback {pb} {g}, {dg} spread {sel}")
            }
            InstKind::RuleJvp {
                prim,
                operand,
                g,
                dargs,
                dg,
                ..
            } => format!(
                "rule {}_jvp .., {g}, {}, {dg}",
                prim.rule_name(*operand),
                list(dargs)
            ),
            InstKind::Jvp {
                prim,
                args,
                tangents,
            } => format!("{}_jvp {}; {}", prim.name(), list(args), list(tangents)),
            InstKind::CallVjp { path, args } => {
                format!("call_vjp {} {}", tokens(path), list(args))
            }
            InstKind::CallPullback { pb, sel, g } => format!("pullback {pb} {g} spread {sel}"),
            InstKind::MakeRecord {
                of,
                variant,
                values,
            } => format!("record {of}.{variant} {}", list(values)),
            InstKind::MatchRecord { of, scrutinee, .. } => {
                format!("match record {of} {scrutinee}")
            }
            InstKind::Push { stack, values } => format!("push {stack} {}", list(values)),
            InstKind::Pop(s) => format!("pop {s}"),
            InstKind::CkptOffer { var, iter, state } => {
                format!("offer {var} before {iter}: {}", list(state))
            }
            InstKind::CkptFinish { var, n } => format!("finish {var} after {n}"),
        }
    }

    fn fmt_block(&self, f: &mut fmt::Formatter<'_>, b: Block, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let data = self.block(b);
        writeln!(f, "{pad}{b}({}):", list(&data.params))?;
        for &i in &data.insts {
            let inst = self.inst(i);
            let res = list(&inst.results);
            let lhs = if res.is_empty() {
                String::new()
            } else {
                format!("{res} = ")
            };
            writeln!(f, "{pad}  {lhs}{}", self.inst_text(i))?;
            let labels: &[&str] = match inst.kind {
                InstKind::CkptSweep { .. } => &["advance", "record", "reverse"],
                _ => &[],
            };
            for (k, nested) in self.inst_blocks(i).into_iter().enumerate() {
                if let Some(l) = labels.get(k) {
                    writeln!(f, "{pad}    {l}:")?;
                }
                self.fmt_block(f, nested, depth + 2)?;
            }
        }
        match &data.term {
            Term::Yield(vs) => writeln!(f, "{pad}  yield {}", list(vs)),
            Term::Continue(vs) => writeln!(f, "{pad}  continue {}", list(vs)),
            Term::Break(vs) => writeln!(f, "{pad}  break {}", list(vs)),
            Term::Next { brk, vals } => writeln!(f, "{pad}  next break={brk} {}", list(vals)),
            Term::Return(v) => writeln!(f, "{pad}  return {v}"),
            Term::Branch { cond, then, els } => {
                writeln!(f, "{pad}  branch {cond}")?;
                self.fmt_block(f, *then, depth + 2)?;
                self.fmt_block(f, *els, depth + 2)
            }
            Term::Switch { scrutinee, arms } => {
                writeln!(f, "{pad}  switch {scrutinee}")?;
                for arm in arms {
                    self.fmt_block(f, arm.block, depth + 2)?;
                }
                Ok(())
            }
        }
    }

    /// The pullback alone, as text.
    pub fn pullback_text(&self) -> String {
        struct P<'a>(&'a Func);
        impl fmt::Display for P<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0.pullback {
                    Some(b) => {
                        writeln!(f, "pullback:")?;
                        self.0.fmt_block(f, b, 1)
                    }
                    None => Ok(()),
                }
            }
        }
        P(self).to_string()
    }
}

/// Prints the function as text (the primal, or the augmented forward pass once reverse mode has
/// run; the pullback prints separately).
impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                format!(
                    "{}{}: {}",
                    p.value,
                    if p.active { " active" } else { "" },
                    p.ident
                )
            })
            .collect();
        writeln!(f, "fn({}):", params.join(", "))?;
        match self.body {
            Some(b) => self.fmt_block(f, b, 1),
            None => Ok(()),
        }
    }
}
