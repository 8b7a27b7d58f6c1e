//! A block's instructions in order, with runs of plain-float statements written as Rust text
//! and lexed in one piece (see [`Gen::block_insts`]); here because that text printer mirrors
//! the token printer of [`super::values`] and must stay in step with it.

use super::*;

impl Gen<'_> {
    /// A block's instructions. Runs of plain-float statements are written as text and handed
    /// to the compiler's lexer in one piece: building them token by token would cross the
    /// boundary between the macro and the compiler once per token, which is most of the time
    /// a long straight-line function spends in the macro.
    pub(super) fn block_insts(&self, b: Block) -> TokenStream {
        let mut out = TokenStream::new();
        let mut text = String::new();
        for &i in &self.f.block(b).insts {
            let folded = self.f.inst(i).results.len() == 1
                && self.folded(self.f.inst(i).results[0]) == Some(i);
            if folded {
                continue;
            }
            match self.text_stmt(i) {
                Some(t) => text.push_str(&t),
                None => {
                    flush(&mut text, &mut out);
                    let code = self.inst(b, i);
                    if self.f.inst_blocks(i).is_empty() {
                        // A type error in it points at what the user wrote.
                        out.append(located_at(code, self.f.inst(i).span));
                    } else {
                        out.append(code);
                    }
                }
            }
        }
        flush(&mut text, &mut out);
        out
    }

    /// A value's name, as text.
    fn text_name(&self, v: Value) -> String {
        self.f.value_name(v)
    }

    /// [`Gen::e`] as text, where the value (and what is folded into it) is plain.
    fn text_e(&self, v: Value) -> Option<String> {
        if let Some(i) = self.folded(v) {
            let rhs = self.text_rhs(i)?;
            return Some(match self.f.inst(i).kind {
                InstKind::Binary(..) | InstKind::Neg(_) => format!("({rhs})"),
                _ => rhs,
            });
        }
        Some(self.text_name(v))
    }

    /// [`Gen::rhs`] as text, for plain floats.
    fn text_rhs(&self, i: Inst) -> Option<String> {
        let inst = self.f.inst(i);
        Some(match &inst.kind {
            InstKind::Const(t) => self.typed_literal(inst.results[0], t).to_string(),
            InstKind::Binary(op, a, b) if !self.active_result(i) => {
                let o = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Rem => "%",
                };
                format!("{} {o} {}", self.text_e(*a)?, self.text_e(*b)?)
            }
            InstKind::Neg(a) if !self.active_result(i) => format!("-{}", self.text_e(*a)?),
            InstKind::Prim {
                prim,
                args,
                unwrap: false,
            } if prim.has(crate::prim::Flags::FLOAT_RESULT)
                && self.ty(inst.results[0]).is_plain() =>
            {
                let mut rest = Vec::new();
                for &a in &args[1..] {
                    rest.push(self.text_e(a)?);
                }
                match prim.has(crate::prim::Flags::REMAINDER) {
                    true => format!(
                        "::core::ops::Rem::rem({}, {})",
                        self.text_e(args[0])?,
                        rest.join(", ")
                    ),
                    false => format!(
                        "{}.{}({})",
                        self.text_e(args[0])?,
                        prim.name(),
                        rest.join(", ")
                    ),
                }
            }
            InstKind::Helper { name, args } => {
                let mut a = Vec::new();
                for &x in args {
                    a.push(self.text_e(x)?);
                }
                format!("{}::d::{name}({})", self.pv_text, a.join(", "))
            }
            InstKind::VarGet(w) if self.ty(inst.results[0]).is_plain() => {
                self.f.vars[w.index()].name.clone()
            }
            _ => return None,
        })
    }

    /// A plain-float statement as text, if the instruction is one.
    fn text_stmt(&self, i: Inst) -> Option<String> {
        let inst = self.f.inst(i);
        let typed = |v: Value| -> Option<&'static str> {
            match self.ty(v).float()? {
                crate::scalars::FloatTy::F64 => Some("f64"),
                crate::scalars::FloatTy::F32 => Some("f32"),
            }
        };
        match &inst.kind {
            InstKind::VarInit { var, value } => {
                let t = typed(*value)?;
                let w = &self.f.vars[var.index()].name;
                Some(format!("let mut {w}: {t} = {};", self.text_e(*value)?))
            }
            InstKind::VarAcc { var, value } | InstKind::VarSet { var, value } => {
                typed(*value)?;
                let w = &self.f.vars[var.index()].name;
                let op = if matches!(inst.kind, InstKind::VarAcc { .. }) {
                    "+="
                } else {
                    "="
                };
                Some(format!("{w} {op} {};", self.text_e(*value)?))
            }
            _ if inst.results.len() == 1 => {
                let r = inst.results[0];
                let t = typed(r)?;
                let rhs = self.text_rhs(i)?;
                let m = if self.is_mut(r) { "mut " } else { "" };
                Some(format!("let {m}{}: {t} = {rhs};", self.text_name(r)))
            }
            _ => None,
        }
    }
}

/// Hands the text gathered so far to the compiler's lexer and appends the tokens.
fn flush(text: &mut String, out: &mut TokenStream) {
    if text.is_empty() {
        return;
    }
    match text.parse::<TokenStream>() {
        Ok(t) => out.append(t),
        Err(e) => panic!("autodiff: generated code does not lex: {e}: {text}"),
    }
    text.clear();
}
