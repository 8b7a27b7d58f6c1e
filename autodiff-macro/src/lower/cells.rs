//! Elements of containers reached through references, lowered to the element reads and writes
//! the IR has:
//!
//! - reads `*v.first().unwrap()`, `v.last().unwrap()`, `v.first().copied().unwrap()`,
//!   `*v.get(i).unwrap()` (also with `.expect(..)`, `.cloned()`): `v[0]`, `v[v.len() − 1]`,
//!   `v[i]`, so the adjoint adds into that element;
//! - writes `*v.first_mut().unwrap() = ..` (and `+=`, `last_mut`, `get_mut(i)`): element writes;
//! - the items of `for e in v.iter_mut()`, `for e in &mut v` and `for e in buf` (a `&mut`
//!   parameter) are *cells*: `*e` reads element `k` of the container's current version and
//!   `*e = ..` writes it, so a loop that writes through its items is an index loop with element
//!   writes;
//! - compound assignment through a `&mut` array parameter (`*c += &b`): the operation, then its
//!   result written back in place with ndarray's `assign` (a mutation of the table), so that the
//!   caller's array changes as the function changes it.

use super::chain::{parse_chain, strip};
use super::*;

/// Element `index` of the container bound in environment slot `slot`, reached through a
/// mutable reference.
#[derive(Clone, Copy)]
pub(super) struct Cell {
    pub(super) slot: usize,
    pub(super) index: Value,
}

#[derive(Clone, Copy)]
enum Which<'a> {
    First,
    Last,
    Get(&'a Expr),
}

/// `recv.first().unwrap()` and the other forms of an element reached through an `Option`.
struct Accessor<'a> {
    recv: &'a Expr,
    which: Which<'a>,
    /// `first_mut`, `last_mut`, `get_mut`.
    mutable: bool,
    /// `.copied()`/`.cloned()` before the `unwrap`: the element by value, not by reference.
    copied: bool,
}

/// The accessor `e` is, if it is one.
fn accessor(e: &Expr) -> Option<Accessor<'_>> {
    let Expr::MethodCall(un) = strip(e) else {
        return None;
    };
    let unwraps = (un.method == "unwrap" && un.args.is_empty())
        || (un.method == "expect" && un.args.len() == 1);
    if !unwraps || un.turbofish.is_some() {
        return None;
    }
    let (inner, copied) = match strip(&un.receiver) {
        Expr::MethodCall(c)
            if (c.method == "copied" || c.method == "cloned") && c.args.is_empty() =>
        {
            (&*c.receiver, true)
        }
        r => (r, false),
    };
    let Expr::MethodCall(acc) = strip(inner) else {
        return None;
    };
    if acc.turbofish.is_some() {
        return None;
    }
    let (which, mutable) = match (acc.method.to_string().as_str(), acc.args.len()) {
        ("first", 0) => (Which::First, false),
        ("last", 0) => (Which::Last, false),
        ("get", 1) => (Which::Get(&acc.args[0]), false),
        ("first_mut", 0) => (Which::First, true),
        ("last_mut", 0) => (Which::Last, true),
        ("get_mut", 1) => (Which::Get(&acc.args[0]), true),
        _ => return None,
    };
    if let Which::Get(i) = which {
        // `v.get(1..3)` is a sub-slice, not an element.
        if matches!(strip(i), Expr::Range(_)) {
            return None;
        }
    }
    // An iterator's `last()` consumes the iterator; it is not an element of a container.
    if parse_chain(&acc.receiver, false).is_some() {
        return None;
    }
    Some(Accessor {
        recv: &acc.receiver,
        which,
        mutable,
        copied,
    })
}

/// How many references the value of `e` has in Rust when it is an element read through an
/// accessor (`v.last().unwrap()` is an `&f64`).
pub(super) fn accessor_refs(e: &Expr) -> u8 {
    accessor(e).map_or(0, |a| u8::from(!a.copied))
}

impl Lowering {
    /// The container and index an accessor reaches: a window reads its base from its start.
    fn accessor_place(&mut self, b: Block, acc: &Accessor, span: Span) -> Option<(Value, Value)> {
        let (base, start, len) = match self.window_named(acc.recv) {
            Some(w) => (w.base, Some(w.start), Some(w.len)),
            None => (self.place_expr(b, acc.recv)?, None, None),
        };
        if self.is_multi_dim(base) {
            // ndarray's `first()` of a matrix is no single index: not an element read here.
            return None;
        }
        let from_start = match acc.which {
            Which::First => None,
            Which::Last => {
                let len = match len {
                    Some(l) => l,
                    None => self.len_of(b, base, span),
                };
                let one = self.inst1(b, InstKind::Const(quote!(1usize)), Kind::Discrete, span);
                Some(self.int_bin(b, BinOp::Sub, len, one, span))
            }
            // A map's key lent as the source lends it (`index.get(id)` of `for id in ids`);
            // a slice's position is no item by reference in code that compiles.
            Which::Get(i) => {
                let v = self.expr(b, i, true)?;
                Some(self.lent_item(b, i, v, span))
            }
        };
        let index = match (start, from_start) {
            (Some(s), None) => s,
            (Some(s), Some(k)) => self.int_bin(b, BinOp::Add, s, k, span),
            (None, Some(k)) => k,
            (None, None) => self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span),
        };
        Some((base, index))
    }

    /// `*v.first().unwrap()` and the other accessor forms as element reads: `None` when `e`
    /// is not one.
    pub(super) fn accessor_read(&mut self, b: Block, e: &Expr) -> Option<Option<Value>> {
        let acc = accessor(e)?;
        let span = e.span();
        let (base, index) = self.accessor_place(b, &acc, span)?;
        Some(Some(self.element_read(b, base, index, span)))
    }

    /// `base[index]`.
    pub(super) fn element_read(
        &mut self,
        b: Block,
        base: Value,
        index: Value,
        span: Span,
    ) -> Value {
        let kind = if self.kind(base) == Kind::Discrete {
            Kind::Discrete
        } else {
            Kind::Unknown
        };
        self.inst1(b, InstKind::Index(base, index), kind, span)
    }

    /// The element a cell refers to, in its container's current version.
    pub(super) fn cell_read(&mut self, b: Block, c: Cell, span: Span) -> Option<Value> {
        let base = self.env[c.slot].value?;
        Some(self.element_read(b, base, c.index, span))
    }

    /// The cell bound to a plain name, if `e` is one.
    pub(super) fn cell_named(&self, e: &Expr) -> Option<Cell> {
        let Expr::Path(p) = strip(e) else {
            return None;
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        self.env[slot].cell
    }

    /// `container[index] = value` on the variable in `slot`: its new version.
    pub(super) fn write_element(
        &mut self,
        b: Block,
        slot: usize,
        index: Value,
        value: Value,
        span: Span,
    ) {
        let Some(base) = self.env[slot].value else {
            return;
        };
        let kind = self.kind(base).written(self.kind(value));
        let r = self.inst1(b, InstKind::IndexSet { base, index, value }, kind, span);
        self.f.values[r.index()].name = Some(self.env[slot].name.clone());
        self.env[slot].value = Some(r);
    }

    /// The value of `*x` where `x` is a `&mut` parameter (or a version of one): the parameter
    /// itself, which rules read by reference.
    pub(super) fn deref_mut_param(&self, e: &Expr) -> Option<Value> {
        let Expr::Path(p) = strip(e) else {
            return None;
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        let v = self.env[slot].value?;
        // Also the version a loop being lowered carries (its `Loop` instruction, which says
        // where the version comes from, is made after its body): the parameter's own slot.
        let param_slot = slot < self.f.params.len()
            && matches!(&self.f.params[slot].ty, syn::Type::Reference(r) if r.mutability.is_some())
            && self.f.params[slot].ident == self.env[slot].name;
        (self.env[slot].mutable && (param_slot || self.f.borrowed_mut_versions().contains(&v)))
            .then_some(v)
    }

    /// `*target = value` where `target` is a cell (`*e` of `for e in v.iter_mut()`), an accessor
    /// (`*v.last_mut().unwrap()`) or a `&mut` parameter (`*c`, for a compound assignment:
    /// `compound`). `false` when `target` is none of them.
    pub(super) fn write_through(
        &mut self,
        b: Block,
        target: &Expr,
        value: Option<Value>,
        compound: bool,
    ) -> bool {
        let Expr::Unary(u) = strip(target) else {
            return false;
        };
        if !matches!(u.op, syn::UnOp::Deref(_)) {
            return false;
        }
        let span = target.span();
        let inner = strip(&u.expr);
        if let Some(c) = self.cell_named(inner) {
            if let Some(v) = value {
                self.write_element(b, c.slot, c.index, v, span);
            }
            return true;
        }
        if let Some(acc) = accessor(inner).filter(|a| a.mutable) {
            let slot = match strip(acc.recv) {
                Expr::Path(p) => p
                    .path
                    .get_ident()
                    .and_then(|id| self.lookup(&id.to_string())),
                _ => None,
            };
            let Some(slot) = slot.filter(|&s| self.env[s].mutable) else {
                self.err_at(
                    acc.recv,
                    "writing through `first_mut`, `last_mut` or `get_mut` is followed on a \
                     variable (`*v.last_mut().unwrap() = ..` with `let mut v` or a `&mut` \
                     parameter `v`); bind the container to a variable first",
                );
                return true;
            };
            let Some((_, index)) = self.accessor_place(b, &acc, span) else {
                return true;
            };
            if let Some(v) = value {
                self.write_element(b, slot, index, v, span);
            }
            return true;
        }
        // A `&mut` parameter that holds an array of differentiable values; a counter or a
        // float behind `&mut` is written through as nothing else (an error).
        let Some(base) = self
            .deref_mut_param(inner)
            .filter(|&v| self.kind(v) != Kind::Discrete)
        else {
            return false;
        };
        if let ValueDef::Param(n) = self.f.value(base).def {
            let mut ty = &self.f.params[n].ty;
            while let syn::Type::Reference(r) = ty {
                ty = &r.elem;
            }
            if crate::types::is_scalar_float(ty) {
                return false;
            }
        }
        let Expr::Path(p) = inner else { return false };
        let name = p.path.to_token_stream().to_string();
        if !compound {
            self.err_at(
                target,
                format!(
                    "replacing what a `&mut` parameter holds (`*{name} = ..`) is not followed by \
                     the derivative; overwrite its elements instead: \
                     `{name}.copy_from_slice(&x)` (a slice or an array), `{name}.clear(); \
                     {name}.extend_from_slice(&x)` (a `Vec`), `{name}.assign(&x)` (an ndarray \
                     array)"
                ),
            );
            return true;
        }
        let Some(v) = value else { return true };
        let k = self.kind(v);
        let r = self.inst1(b, InstKind::Ref(v), k, span);
        let new = self.mutate1(b, "assign", base, r, span);
        self.assign(inner, new);
        true
    }
}
