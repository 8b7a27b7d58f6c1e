//! Records for the caller: a `&mut` parameter left out of `wrt` that the function only writes
//! into — a counter of calls (`*evals += 1;`), statistics written by field (`stats.last =
//! loss;`, `stats.hist[k] += 1;`), a log written by its methods (`log.record(r);`,
//! `preds.push(p);`).
//!
//! Such statements run as written, with the parameter reborrowed, in the forward pass of each
//! generated item (once per call: the pullback never runs them, and a checkpointed loop that
//! uses a `&mut` parameter is an error). What they write is a value of the function's for the
//! caller; no derivative goes through it, since the function never reads it back. A parameter
//! is taken this way only where every mention of it in the body is in such a write (reads of
//! it there included: `stats.calls = stats.calls + 1`), a statement calling one of its
//! methods, or inside a macro (`println!`): any other read could see what a write stored,
//! without its derivative, and leaves the parameter to the errors that say to pass what is
//! read separately. `check::sinks` checks the same on the IR.

use super::*;
use syn::visit::Visit;

/// The `&mut` parameters left out of `wrt` that `block` mentions only in writes into them and
/// in statements calling their methods (at least once).
pub(super) fn only_written(block: &syn::Block, params: &[Param]) -> Vec<String> {
    params
        .iter()
        .filter(|p| p.inactive_mut_ref())
        .map(|p| p.ident.to_string())
        .filter(|name| {
            let mut scan = Mentions {
                name,
                writes: 0,
                other: false,
            };
            scan.visit_block(block);
            scan.writes > 0 && !scan.other
        })
        .collect()
}

/// The parameter an assignment's target is rooted in, where the projection nearest it is a
/// field or `*` (`s.x`, `s.h[k]`, `*n`, `(*s).x`); not an element of the parameter itself
/// (`out[i] = ..` of a `&mut [f64]` buffer, followed as a buffer), nor the parameter.
fn written_root(target: &Expr) -> Option<&syn::Ident> {
    let mut root = target;
    let mut through = false;
    loop {
        (root, through) = match root {
            Expr::Field(f) => (&*f.base, true),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => (&*u.expr, true),
            Expr::Index(ix) => (&*ix.expr, false),
            Expr::Paren(p) => (&*p.expr, through),
            _ => break,
        };
    }
    match root {
        Expr::Path(p) if through && p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

/// The target of an assignment or compound assignment.
fn assigned(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Assign(a) => Some(&a.left),
        Expr::Binary(b) if is_compound_assign(&b.op) => Some(&b.left),
        _ => None,
    }
}

/// The variable a statement writes into: the root of an assignment's target (see
/// [`written_root`]), or the receiver of a method call (`log.record(r)`).
fn written(e: &Expr) -> Option<&syn::Ident> {
    match e {
        Expr::MethodCall(mc) => match &*mc.receiver {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
            _ => None,
        },
        e => written_root(assigned(e)?),
    }
}

/// How a body mentions `name`: writes into it, and whether anything else does.
struct Mentions<'a> {
    name: &'a str,
    writes: usize,
    other: bool,
}

impl<'ast> Visit<'ast> for Mentions<'_> {
    fn visit_stmt(&mut self, s: &'ast Stmt) {
        // `let mut __ad_copy_seed = *seed;`: the copy a parameter read and written is followed
        // as (see `copied`), whose every exit writes it back.
        if let Stmt::Local(l) = s
            && let Pat::Ident(pi) = &l.pat
            && super::copied::is_copy(&pi.ident.to_string())
        {
            return;
        }
        // `log.record(r);`: a method of the parameter called for its effect. What the statement
        // reads of the parameter itself is part of the write, run as written with it
        // (`log.record(log.len() as f64)`). Not one that leaves the code around it (`return`),
        // nor one that also writes into buffers it lends (`rng.fill_noise(&mut noise)`), which
        // the function reads back: such a call is followed as one lending buffers.
        if let Stmt::Expr(e @ Expr::MethodCall(mc), _) = s
            && matches!(&*mc.receiver, Expr::Path(p) if p.path.is_ident(self.name))
            && !super::control::diverges(e)
            && !super::calls::passes_mut(e)
        {
            self.writes += 1;
            return;
        }
        syn::visit::visit_stmt(self, s);
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        if let Expr::Closure(c) = e {
            // A closure that names it is left to the general rules, whatever it does.
            let mut inner = Mentions {
                name: self.name,
                writes: 0,
                other: false,
            };
            inner.visit_expr(&c.body);
            self.other |= inner.writes > 0 || inner.other;
            return;
        }
        // The whole assignment runs as written, reads of the parameter in it too
        // (`stats.calls = stats.calls + 1`, `stats.hist[stats.calls % 3] += 1`).
        if let Some(target) = assigned(e)
            && written_root(target).is_some_and(|r| r == self.name)
            && !super::control::diverges(e)
        {
            self.writes += 1;
            return;
        }
        syn::visit::visit_expr(self, e);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.other |= p.is_ident(self.name);
        syn::visit::visit_path(self, p);
    }

    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        // Shadowed somewhere: left to the general rules.
        self.other |= p.ident == self.name;
        syn::visit::visit_pat_ident(self, p);
    }
}

impl Lowering {
    /// Whether `name` names, here, a `&mut` parameter the body only writes into.
    pub(super) fn sink_param_slot(&self, name: &str) -> bool {
        self.sink_params.iter().any(|s| s == name)
            && self.lookup(name).is_some_and(|slot| {
                self.env[slot]
                    .value
                    .is_some_and(|v| matches!(self.f.value(v).def, ValueDef::Param(_)))
            })
    }

    /// The parameter a statement (an assignment, or a method call whose value it drops) writes
    /// into, where it is a `&mut` parameter the body only writes into (see the module docs):
    /// its value.
    pub(super) fn sink_param_of(&self, e: &Expr) -> Option<Value> {
        let root = written(e)?.to_string();
        if !self.sink_param_slot(&root) {
            return None;
        }
        self.env[self.lookup(&root)?].value
    }

    /// A statement that writes into a `&mut` parameter the body only writes into (see
    /// [`Self::sink_param_of`]), run as written with the parameter reborrowed.
    pub(super) fn sink(&mut self, b: Block, e: &Expr) {
        let Some(param) = self.sink_param_of(e) else {
            return;
        };
        let name = match self.f.value(param).def {
            ValueDef::Param(n) => Some(self.f.params[n].ident.to_string()),
            _ => None,
        };
        let outer = std::mem::replace(&mut self.sink_param, name);
        self.opaque_inst(b, e.to_token_stream(), None, Kind::Unknown, false, e.span());
        self.sink_param = outer;
        let i = Inst((self.f.insts.len() - 1) as u32);
        if matches!(self.f.inst(i).kind, InstKind::Opaque { .. }) {
            self.f.sinks.push((i, param));
        }
    }
}

/// The error for a write into `&mut` parameter `name`, left out of `wrt`, that the body also
/// reads: `write` is the statement and `read` a read, as the message shows them.
pub(crate) fn also_read_message(name: &str, write: &str, read: &str) -> String {
    format!(
        "`{name}` is a `&mut` parameter left out of `wrt`, which the function may write into \
         where it does nothing else with it (`{write}`: records for the caller, run as \
         written); here it also reads it (`{read}`), which could read a value written here \
         without its derivative: pass what the function reads in a parameter of its own, or \
         work on a copy (`let mut c = {name}.clone();`) and return what the caller needs"
    )
}

impl Lowering {
    /// Whether `name` names, here, a `&mut` parameter left out of `wrt`.
    pub(super) fn inactive_mut_param(&self, name: &str) -> bool {
        self.lookup(name)
            .and_then(|slot| self.env[slot].value)
            .is_some_and(|v| {
                matches!(self.f.value(v).def, ValueDef::Param(n) if self.f.params[n].inactive_mut_ref())
            })
    }
}
