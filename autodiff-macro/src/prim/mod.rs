//! Primitives: the operations `#[differentiate]` has derivative rules for, as data.
//!
//! The entries live in [`table`]; this module gives them ids ([`PrimId`], what the IR stores)
//! and answers the questions the passes ask: is `exp` a primitive, how many arguments does it
//! take, what does its reverse rule read, what is its form.

pub mod forms;
pub mod places;
pub mod table;

use std::sync::OnceLock;

/// How a primitive is written in Rust.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Syntax {
    /// `a op b`.
    Binary,
    /// `-x`.
    Neg,
    /// `x.name(args)` with this many arguments after the receiver.
    Method { args: usize },
}

/// Properties of a primitive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Flags(pub u32);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// The result is a float when the receiver is (the float methods).
    pub const FLOAT_RESULT: Flags = Flags(1);
    /// A cheap borrowing view of its receiver: recomputed, never kept.
    pub const VIEW: Flags = Flags(2);
    /// The result is the receiver, value for value: the cotangent passes through.
    pub const IDENTITY: Flags = Flags(4);
    /// Returns an `Option` or `Result`: written `x.mean().unwrap()`.
    pub const UNWRAP: Flags = Flags(8);
    /// Nonsmooth: its derivative selects a piece (`max`, `min`, `clamp`).
    pub const KINK: Flags = Flags(16);
    /// Every operand is differentiable through a runtime rule `<name>_vjp_<k>`.
    pub const ALL_OPERANDS: Flags = Flags(32);
    /// Only the receiver is differentiable, through `<name>_vjp_0`.
    pub const INDEXED: Flags = Flags(64);
    /// The remainder operator `%` of floats, which a pass makes of `x % m` (see
    /// `scalars::float_remainders`): written `::core::ops::Rem::rem(x, m)`, and not a method the
    /// source calls (a `.rem(..)` there may be a struct's method of that name).
    pub const REMAINDER: Flags = Flags(128);

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }
}

/// One primal argument of a runtime rule call, before the cotangent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arg {
    /// The value at this position of (operands…, result).
    Value(usize),
    /// Only the shape of that value (`ShapeOf`, zero-sized for scalars).
    Shape(usize),
    /// An argument the rule does not read, of the cotangent's type: the cotangent is passed as
    /// a type witness.
    Witness,
}

/// A table entry.
#[derive(Debug)]
pub struct PrimDef {
    /// The method name (`exp`), or the operator's name (`add`).
    pub name: &'static str,
    pub syntax: Syntax,
    /// Operand names, receiver (or left operand) first: the names forms use.
    pub operands: &'static [&'static str],
    /// Per operand: the cotangent contribution as an expression linear in `g`; empty for an
    /// operand that is not differentiable, or for a primitive whose rules are runtime rules only.
    pub forms: &'static [&'static str],
    /// The runtime trait holding `<name>_vjp[_k]` and `<name>_jvp`, for values of unknown type.
    pub rule: &'static str,
    /// Per differentiable operand, what its runtime reverse rule reads; `None` for the float
    /// methods, whose forms say it ([`PrimId::reads`]).
    pub reads: Option<&'static [&'static [Arg]]>,
    pub flags: Flags,
    /// The derivative, for documentation.
    #[cfg_attr(not(test), allow(dead_code))]
    pub math: &'static str,
}

/// A primitive, as the IR stores it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PrimId(pub u16);

fn all() -> &'static Vec<&'static PrimDef> {
    static ALL: OnceLock<Vec<&'static PrimDef>> = OnceLock::new();
    ALL.get_or_init(|| {
        table::OPERATORS
            .iter()
            .chain(table::UNARY_METHODS)
            .chain(table::OTHER_METHODS)
            .chain(table::TUPLE_METHODS)
            .chain(table::TENSOR_METHODS)
            .chain(table::IDENTITY_METHODS)
            .collect()
    })
}

/// Every primitive of the table.
pub fn all_ids() -> impl Iterator<Item = PrimId> {
    (0..all().len()).map(|i| PrimId(i as u16))
}

impl PrimId {
    pub fn def(self) -> &'static PrimDef {
        all()[self.0 as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The operator primitive for `op`.
    pub fn binary(op: crate::ir::BinOp) -> Option<PrimId> {
        let name = match op {
            crate::ir::BinOp::Add => "add",
            crate::ir::BinOp::Sub => "sub",
            crate::ir::BinOp::Mul => "mul",
            crate::ir::BinOp::Div => "div",
            crate::ir::BinOp::Rem => return None,
        };
        find(|d| d.syntax == Syntax::Binary && d.name == name)
    }

    pub fn neg() -> PrimId {
        find(|d| d.syntax == Syntax::Neg).expect("the table has negation")
    }

    /// The method primitive called `name` (not the remainder, see [`Flags::REMAINDER`]).
    pub fn method(name: &str) -> Option<PrimId> {
        find(|d| {
            matches!(d.syntax, Syntax::Method { .. })
                && d.name == name
                && !d.flags.has(Flags::REMAINDER)
        })
    }

    /// The remainder `%` of floats (see [`Flags::REMAINDER`]).
    pub fn float_rem() -> PrimId {
        find(|d| d.flags.has(Flags::REMAINDER)).expect("the table has the float remainder")
    }

    /// Arguments after the receiver, for a method.
    pub fn n_args(self) -> usize {
        match self.def().syntax {
            Syntax::Method { args } => args,
            Syntax::Binary => 1,
            Syntax::Neg => 0,
        }
    }

    pub fn has(self, f: Flags) -> bool {
        self.def().flags.has(f)
    }

    /// The operands whose derivative the primitive passes on (non-empty form, or a runtime rule
    /// for them).
    pub fn differentiable(self, k: usize) -> bool {
        let d = self.def();
        if d.flags.has(Flags::ALL_OPERANDS) {
            return true;
        }
        if d.flags.has(Flags::INDEXED) || d.forms.iter().all(|f| f.is_empty()) {
            // Runtime rules only: the receiver is what they differentiate.
            return k == 0;
        }
        d.forms.get(k).is_some_and(|f| !f.is_empty())
    }

    /// Whether every form is known (the primitive can be differentiated inline on plain floats).
    pub fn has_forms(self) -> bool {
        let d = self.def();
        !d.flags.has(Flags::ALL_OPERANDS)
            && !d.flags.has(Flags::INDEXED)
            && d.forms.iter().any(|f| !f.is_empty())
    }

    /// The parsed form of operand `k`.
    pub fn form(self, k: usize) -> Option<syn::Expr> {
        let src = self.def().forms.get(k)?;
        if src.is_empty() {
            return None;
        }
        Some(parsed(self, k, src))
    }

    /// The runtime rule for operand `k`: `<name>_vjp`, `<name>_vjp_<k>`.
    pub fn rule_name(self, k: usize) -> String {
        let d = self.def();
        let n_diff = (0..d.operands.len())
            .filter(|&j| self.differentiable(j))
            .count();
        if d.flags.has(Flags::INDEXED) || n_diff > 1 {
            format!("{}_vjp_{k}", d.name)
        } else {
            format!("{}_vjp", d.name)
        }
    }

    /// The positions (in [`PrimId::reads`]`(k)`) of the values the runtime reverse rule of
    /// operand `k` is linear in, besides the cotangent; `None` where it is not multilinear
    /// (its tangent then needs the runtime's `<rule>_jvp`).
    pub fn rule_linear_in(self, k: usize) -> Option<Vec<usize>> {
        let d = self.def();
        match d.name {
            // g, and the other operand.
            "mul" | "dot" => Some(vec![if k == 0 { 1 } else { 0 }]),
            // g only: rules whose factor of g is constant between kinks or jumps.
            _ if d.rule == "TensorRules"
                || d.flags.has(Flags::KINK)
                || matches!(
                    d.name,
                    "add"
                        | "sub"
                        | "neg"
                        | "abs"
                        | "signum"
                        | "floor"
                        | "ceil"
                        | "round"
                        | "trunc"
                        | "div_euclid"
                        | "fract"
                        | "to_degrees"
                        | "to_radians"
                ) =>
            {
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// What the runtime reverse rule of operand `k` reads.
    ///
    /// Operators and tensor methods list it in the table. A float method's rule takes every
    /// operand and the result, and reads exactly what its form names: in place of an argument it
    /// does not read, the caller passes the cotangent as a witness wherever the two have one type
    /// (every float argument of `FloatRules`, the receiver of `FloatArgRules`, the result).
    pub fn reads(self, k: usize) -> Vec<Arg> {
        let d = self.def();
        if let Some(r) = d.reads {
            if let Some(a) = r.get(k) {
                return a.to_vec();
            }
        }
        let named = self.form(k).map(|e| names(&e)).unwrap_or_default();
        let n = d.operands.len();
        let tuple = self.outputs() > 1;
        (0..=n)
            .map(|j| {
                let (name, cotangent_type) = if j == n {
                    ("y", true)
                } else {
                    let own_type = j == 0 || d.rule != "FloatArgRules";
                    (
                        d.operands[j],
                        own_type && !tuple && self.fixed_type(j).is_none(),
                    )
                };
                if cotangent_type && !named.iter().any(|m| m == name) {
                    Arg::Witness
                } else {
                    Arg::Value(j)
                }
            })
            .collect()
    }

    /// The type of operand `k` when it is not a float of the receiver's type (the `i32` exponent
    /// of `powi`).
    pub fn fixed_type(self, k: usize) -> Option<&'static str> {
        let d = self.def();
        table::OPERAND_TYPES
            .iter()
            .find(|(name, op, _)| *name == d.name && *op == k)
            .map(|&(_, _, ty)| ty)
    }

    /// How many floats the primitive returns: `1`, or the length of the tuple it returns
    /// (`sin_cos`), which its forms read as `g.0`, `g.1`, ….
    pub fn outputs(self) -> usize {
        (0..self.def().operands.len())
            .filter_map(|k| self.form(k))
            .map(|e| cotangent_parts(&e))
            .max()
            .unwrap_or(1)
    }
}

/// The single names an expression reads (`x`, `g`, `y`), not counting the paths of the
/// functions it calls (`d::abs_d`) or the methods.
pub fn names(e: &syn::Expr) -> Vec<String> {
    use syn::visit::Visit;
    struct V(Vec<String>);
    impl<'ast> Visit<'ast> for V {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(i) = p.path.get_ident() {
                let i = i.to_string();
                if !self.0.contains(&i) {
                    self.0.push(i);
                }
            }
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            for a in &c.args {
                self.visit_expr(a);
            }
        }
    }
    let mut v = V(Vec::new());
    v.visit_expr(e);
    v.0
}

/// `n` when a form reads the components `g.0` … `g.(n − 1)` of a tuple cotangent, else `1`.
fn cotangent_parts(e: &syn::Expr) -> usize {
    use syn::visit::Visit;
    struct V(usize);
    impl<'ast> Visit<'ast> for V {
        fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
            if let (syn::Expr::Path(p), syn::Member::Unnamed(i)) = (&*f.base, &f.member) {
                if p.path.is_ident("g") {
                    self.0 = self.0.max(i.index as usize + 1);
                }
            }
            syn::visit::visit_expr_field(self, f);
        }
    }
    let mut v = V(1);
    v.visit_expr(e);
    v.0
}

fn find(pred: impl Fn(&PrimDef) -> bool) -> Option<PrimId> {
    all().iter().position(|d| pred(d)).map(|i| PrimId(i as u16))
}

thread_local! {
    /// Forms parsed during the current expansion. Tokens are only valid within one macro
    /// invocation, so the cache is emptied at the start of each ([`new_expansion`]).
    static CACHE: std::cell::RefCell<std::collections::HashMap<(u16, usize), syn::Expr>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Forgets the forms parsed by an earlier macro invocation.
pub fn new_expansion() {
    CACHE.with(|c| c.borrow_mut().clear());
}

fn parsed(id: PrimId, k: usize, src: &'static str) -> syn::Expr {
    CACHE.with(|c| {
        c.borrow_mut()
            .entry((id.0, k))
            .or_insert_with(|| {
                syn::parse_str(src).unwrap_or_else(|e| {
                    panic!(
                        "autodiff: the form `{src}` of `{}` does not parse: {e}",
                        id.name()
                    )
                })
            })
            .clone()
    })
}

/// Methods whose result is never differentiable, whatever the receiver.
pub fn is_discrete_method(name: &str) -> bool {
    table::DISCRETE_METHODS.contains(&name)
}

/// Macros that only print, format or check what they read.
pub fn is_output_macro(name: &str) -> bool {
    table::OUTPUT_MACROS.contains(&name)
}

/// A macro whose result is indices (ndarray's `s!`): what it reads is used as data.
pub fn is_index_macro(name: &str) -> bool {
    name == "s"
}

/// The methods with derivative rules, for the message about one without.
pub fn known_list() -> String {
    let mut names: Vec<&str> = all()
        .iter()
        .filter(|d| matches!(d.syntax, Syntax::Method { .. }) && !d.flags.has(Flags::REMAINDER))
        .map(|d| d.name)
        .collect();
    names.dedup();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_names_only_its_operands() {
        for (i, d) in all().iter().enumerate() {
            let id = PrimId(i as u16);
            assert_eq!(
                d.forms.len(),
                d.operands.len(),
                "`{}`: one form per operand",
                d.name
            );
            for k in 0..d.operands.len() {
                if let Some(e) = id.form(k) {
                    for n in names(&e) {
                        assert!(
                            n == "g" || n == "y" || d.operands.contains(&n.as_str()),
                            "`{}`: form {k} names `{n}`",
                            d.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_entry_states_its_derivative() {
        for d in all() {
            assert!(
                !d.math.is_empty(),
                "`{}` has no derivative documented",
                d.name
            );
        }
    }

    #[test]
    fn names_are_unique_per_syntax() {
        let mut seen = std::collections::HashSet::new();
        for d in all() {
            assert!(
                seen.insert((format!("{:?}", d.syntax), d.name)),
                "`{}` twice",
                d.name
            );
        }
    }
}
