//! The tangent of a reverse rule, derived from its form by the chain rule.
//!
//! Second derivatives on arrays call the tangent of each reverse rule: for `r = R(args.., g)`,
//! the directional derivative of `r` along tangents of the arguments it reads and of `g`. A rule
//! is its form, so its tangent is the form differentiated symbolically: `+ - * /` and unary minus
//! by the usual rules, a literal has derivative zero, a method call of another primitive through
//! that primitive's own forms (the derivative of `x.cos()` is the form of `cos` with `g` replaced
//! by the tangent of `x`), and a derivative helper `d::name(..)` through its partials, which are
//! forms too (`HELPER_PARTIALS` in `prim/forms.rs`, the ones forward-over-reverse mode uses on
//! plain floats), or not at all where it is constant between its kinks or jumps
//! ([`LOCALLY_CONSTANT_HELPERS`]). Terms that are zero are dropped as the derivative is built, so
//! the result is what one would write by hand.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

use crate::ir::Value;
use crate::prim::table::LOCALLY_CONSTANT_HELPERS;
use crate::prim::{PrimId, forms};

/// An expression of the forms' grammar.
#[derive(Clone, PartialEq, Debug)]
pub(super) enum Sym {
    /// Exactly zero: a term that vanishes.
    Zero,
    /// A float literal, as written.
    Lit(String),
    /// An operand, `y`, `g`, or a tangent of one.
    Name(String),
    /// `g.0`, `g.1`, …: a component of a tuple.
    Field(String, u32),
    Neg(Box<Sym>),
    Bin(Op, Box<Sym>, Box<Sym>),
    /// `receiver.method(args)`: a primitive.
    Method(Box<Sym>, String, Vec<Sym>),
    /// `d::name(args)`: a derivative helper.
    Helper(String, Vec<Sym>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// How tightly a printed expression binds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Sum,
    Product,
    Prefix,
    Atom,
}

fn error(msg: String) -> syn::Error {
    syn::Error::new(Span::call_site(), msg)
}

fn is_one(s: &Sym) -> bool {
    matches!(s, Sym::Lit(l) if l.parse::<f64>() == Ok(1.0))
}

pub(super) fn add(a: Sym, b: Sym) -> Sym {
    match (a, b) {
        (Sym::Zero, b) => b,
        (a, Sym::Zero) => a,
        (a, b) => Sym::Bin(Op::Add, Box::new(a), Box::new(b)),
    }
}

fn sub(a: Sym, b: Sym) -> Sym {
    match (a, b) {
        (a, Sym::Zero) => a,
        (Sym::Zero, b) => neg(b),
        (a, b) => Sym::Bin(Op::Sub, Box::new(a), Box::new(b)),
    }
}

fn mul(a: Sym, b: Sym) -> Sym {
    match (a, b) {
        (Sym::Zero, _) | (_, Sym::Zero) => Sym::Zero,
        (a, b) if is_one(&a) => b,
        (a, b) if is_one(&b) => a,
        (a, b) => Sym::Bin(Op::Mul, Box::new(a), Box::new(b)),
    }
}

fn div(a: Sym, b: Sym) -> Sym {
    match (a, b) {
        (Sym::Zero, _) => Sym::Zero,
        (a, b) if is_one(&b) => a,
        (a, b) => Sym::Bin(Op::Div, Box::new(a), Box::new(b)),
    }
}

fn neg(a: Sym) -> Sym {
    match a {
        Sym::Zero => Sym::Zero,
        Sym::Neg(x) => *x,
        a => Sym::Neg(Box::new(a)),
    }
}

impl Sym {
    /// A form (or a helper's partial) as an expression.
    pub(super) fn parse(e: &syn::Expr) -> syn::Result<Sym> {
        use syn::Expr as E;
        let unsupported = || {
            error(format!(
                "the form `{}` is not an expression a form may use",
                e.to_token_stream()
            ))
        };
        Ok(match e {
            E::Lit(l) => {
                let text = l.to_token_stream().to_string();
                if text.parse::<f64>() == Ok(0.0) {
                    Sym::Zero
                } else {
                    Sym::Lit(text)
                }
            }
            E::Path(p) => Sym::Name(p.path.get_ident().ok_or_else(unsupported)?.to_string()),
            E::Field(f) => match (&*f.base, &f.member) {
                (E::Path(p), syn::Member::Unnamed(i)) => Sym::Field(
                    p.path.get_ident().ok_or_else(unsupported)?.to_string(),
                    i.index,
                ),
                _ => return Err(unsupported()),
            },
            E::Paren(p) => Sym::parse(&p.expr)?,
            E::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => neg(Sym::parse(&u.expr)?),
            E::Binary(b) => {
                let (l, r) = (Sym::parse(&b.left)?, Sym::parse(&b.right)?);
                match b.op {
                    syn::BinOp::Add(_) => add(l, r),
                    syn::BinOp::Sub(_) => sub(l, r),
                    syn::BinOp::Mul(_) => mul(l, r),
                    syn::BinOp::Div(_) => div(l, r),
                    _ => return Err(unsupported()),
                }
            }
            E::MethodCall(m) if m.turbofish.is_none() => Sym::Method(
                Box::new(Sym::parse(&m.receiver)?),
                m.method.to_string(),
                m.args.iter().map(Sym::parse).collect::<syn::Result<_>>()?,
            ),
            E::Call(c) => {
                let E::Path(f) = &*c.func else {
                    return Err(unsupported());
                };
                let segments: Vec<String> = f
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let [module, name] = segments.as_slice() else {
                    return Err(unsupported());
                };
                if module != "d" {
                    return Err(unsupported());
                }
                Sym::Helper(
                    name.clone(),
                    c.args.iter().map(Sym::parse).collect::<syn::Result<_>>()?,
                )
            }
            _ => return Err(unsupported()),
        })
    }

    /// The expression with names replaced where `by` gives a replacement (zeros simplified
    /// away).
    fn subst(&self, by: &dyn Fn(&str) -> Option<Sym>) -> syn::Result<Sym> {
        Ok(match self {
            Sym::Zero | Sym::Lit(_) => self.clone(),
            Sym::Name(n) => by(n).unwrap_or_else(|| self.clone()),
            Sym::Field(n, i) => match by(n) {
                None => self.clone(),
                Some(Sym::Zero) => Sym::Zero,
                Some(Sym::Name(m)) => Sym::Field(m, *i),
                Some(other) => {
                    return Err(error(format!(
                        "a component of `{n}` read where `{n}` stands for `{}`",
                        other.text()
                    )));
                }
            },
            Sym::Neg(a) => neg(a.subst(by)?),
            Sym::Bin(op, a, b) => bin(*op, a.subst(by)?, b.subst(by)?),
            Sym::Method(r, m, args) => Sym::Method(
                Box::new(r.subst(by)?),
                m.clone(),
                args.iter()
                    .map(|a| a.subst(by))
                    .collect::<syn::Result<_>>()?,
            ),
            Sym::Helper(h, args) => Sym::Helper(
                h.clone(),
                args.iter()
                    .map(|a| a.subst(by))
                    .collect::<syn::Result<_>>()?,
            ),
        })
    }

    /// The directional derivative: `tangent(name)` is the tangent of a name, `None` for a name
    /// held fixed.
    pub(super) fn diff(&self, tangent: &dyn Fn(&str) -> Option<Sym>) -> syn::Result<Sym> {
        Ok(match self {
            Sym::Zero | Sym::Lit(_) => Sym::Zero,
            Sym::Name(n) => tangent(n).unwrap_or(Sym::Zero),
            Sym::Field(n, i) => match tangent(n) {
                None | Some(Sym::Zero) => Sym::Zero,
                Some(Sym::Name(d)) => Sym::Field(d, *i),
                Some(other) => {
                    return Err(error(format!(
                        "the tangent of `{n}` is `{}`, not a name",
                        other.text()
                    )));
                }
            },
            Sym::Neg(a) => neg(a.diff(tangent)?),
            Sym::Bin(op, a, b) => {
                let (da, db) = (a.diff(tangent)?, b.diff(tangent)?);
                let (a, b) = ((**a).clone(), (**b).clone());
                match op {
                    Op::Add => add(da, db),
                    Op::Sub => sub(da, db),
                    Op::Mul => add(mul(da, b), mul(a, db)),
                    // d(a/b) = (da − (a/b)·db)/b: the quotient as the rule computes it.
                    Op::Div => match db {
                        Sym::Zero => div(da, b),
                        db => div(sub(da, mul(div(a, b.clone()), db)), b),
                    },
                }
            }
            Sym::Method(r, m, args) => self.diff_method(r, m, args, tangent)?,
            Sym::Helper(h, args) => diff_helper(h, args, tangent)?,
        })
    }

    /// A primitive's derivative through its own forms: the sum over its operands of the form
    /// with `g` replaced by the operand's tangent and `y` by the call itself.
    fn diff_method(
        &self,
        receiver: &Sym,
        method: &str,
        args: &[Sym],
        tangent: &dyn Fn(&str) -> Option<Sym>,
    ) -> syn::Result<Sym> {
        let id = PrimId::method(method)
            .filter(|id| id.has_forms() && id.outputs() == 1)
            .ok_or_else(|| {
                error(format!(
                    "a form calls `{method}`, which is not a primitive with forms and one result"
                ))
            })?;
        let def = id.def();
        let operands: Vec<&Sym> = std::iter::once(receiver).chain(args).collect();
        if operands.len() != def.operands.len() {
            return Err(error(format!(
                "a form calls `{method}` with {} operands",
                operands.len()
            )));
        }
        let mut total = Sym::Zero;
        for (k, operand) in operands.iter().enumerate() {
            let d = operand.diff(tangent)?;
            if d == Sym::Zero {
                continue;
            }
            let Some(form) = id.form(k) else {
                return Err(error(format!(
                    "a form varies operand {k} of `{method}`, which has no derivative"
                )));
            };
            let bind = |n: &str| {
                if n == "g" {
                    return Some(d.clone());
                }
                if n == "y" {
                    return Some(self.clone());
                }
                let j = def.operands.iter().position(|o| *o == n)?;
                Some(operands[j].clone())
            };
            total = add(total, Sym::parse(&form)?.subst(&bind)?);
        }
        Ok(total)
    }

    /// The expression as Rust source, with the parentheses its tree needs and no others.
    pub(super) fn text(&self) -> String {
        self.printed().0
    }

    pub(super) fn tokens(&self) -> TokenStream {
        self.text()
            .parse()
            .unwrap_or_else(|_| unreachable!("a printed expression is Rust tokens"))
    }

    fn printed(&self) -> (String, Prec) {
        let wrap = |s: &Sym, min: Prec| {
            let (t, p) = s.printed();
            if p < min { format!("({t})") } else { t }
        };
        let list = |args: &[Sym]| args.iter().map(|a| a.text()).collect::<Vec<_>>().join(", ");
        match self {
            Sym::Zero => ("0.0".into(), Prec::Atom),
            Sym::Lit(l) => (l.clone(), Prec::Atom),
            Sym::Name(n) => (n.clone(), Prec::Atom),
            Sym::Field(n, i) => (format!("{n}.{i}"), Prec::Atom),
            Sym::Neg(a) => (format!("-{}", wrap(a, Prec::Prefix)), Prec::Prefix),
            Sym::Bin(op, a, b) => {
                let (symbol, prec) = match op {
                    Op::Add => ("+", Prec::Sum),
                    Op::Sub => ("-", Prec::Sum),
                    Op::Mul => ("*", Prec::Product),
                    Op::Div => ("/", Prec::Product),
                };
                // Left-associative: the right operand binds tighter, so that the printed
                // expression evaluates in the tree's order (and rounds as it does).
                let right_min = if prec == Prec::Sum {
                    Prec::Product
                } else {
                    Prec::Prefix
                };
                (
                    format!("{} {symbol} {}", wrap(a, prec), wrap(b, right_min)),
                    prec,
                )
            }
            Sym::Method(r, m, args) => (
                format!("{}.{m}({})", wrap(r, Prec::Atom), list(args)),
                Prec::Atom,
            ),
            Sym::Helper(h, args) => (format!("d::{h}({})", list(args)), Prec::Atom),
        }
    }

    /// Every call (method or helper) in the expression, outermost first.
    fn calls<'a>(&'a self, out: &mut Vec<&'a Sym>) {
        match self {
            Sym::Zero | Sym::Lit(_) | Sym::Name(_) | Sym::Field(..) => {}
            Sym::Neg(a) => a.calls(out),
            Sym::Bin(_, a, b) => {
                a.calls(out);
                b.calls(out);
            }
            Sym::Method(r, _, args) => {
                out.push(self);
                r.calls(out);
                args.iter().for_each(|a| a.calls(out));
            }
            Sym::Helper(_, args) => {
                out.push(self);
                args.iter().for_each(|a| a.calls(out));
            }
        }
    }

    /// The expression with every occurrence of `what` replaced by `by`.
    fn replace(&self, what: &Sym, by: &Sym) -> Sym {
        if self == what {
            return by.clone();
        }
        let r = |s: &Sym| s.replace(what, by);
        match self {
            Sym::Zero | Sym::Lit(_) | Sym::Name(_) | Sym::Field(..) => self.clone(),
            Sym::Neg(a) => Sym::Neg(Box::new(r(a))),
            Sym::Bin(op, a, b) => Sym::Bin(*op, Box::new(r(a)), Box::new(r(b))),
            Sym::Method(recv, m, args) => {
                Sym::Method(Box::new(r(recv)), m.clone(), args.iter().map(r).collect())
            }
            Sym::Helper(h, args) => Sym::Helper(h.clone(), args.iter().map(r).collect()),
        }
    }
}

fn bin(op: Op, a: Sym, b: Sym) -> Sym {
    match op {
        Op::Add => add(a, b),
        Op::Sub => sub(a, b),
        Op::Mul => mul(a, b),
        Op::Div => div(a, b),
    }
}

/// A helper's derivative: zero for one that is constant between its kinks and jumps, else the
/// sum over its varied arguments of its partials (forms of their own, with `g` the argument's
/// tangent).
fn diff_helper(
    helper: &str,
    args: &[Sym],
    tangent: &dyn Fn(&str) -> Option<Sym>,
) -> syn::Result<Sym> {
    if LOCALLY_CONSTANT_HELPERS.contains(&helper) {
        return Ok(Sym::Zero);
    }
    // The partials come with their names bound to values; bind them to placeholders that stand
    // for the arguments (`Value(k)`) and the tangent (`TANGENT`).
    const TANGENT: Value = Value(u32::MAX);
    let placeholders: Vec<Value> = (0..args.len()).map(|k| Value(k as u32)).collect();
    let partial = |k: usize| forms::helper_partial(helper, k, &placeholders, TANGENT);
    if !(0..args.len()).any(|k| partial(k).is_some()) {
        return Err(error(format!(
            "a form calls `d::{helper}`, which states no partials and is not locally constant"
        )));
    }
    let mut total = Sym::Zero;
    for (k, arg) in args.iter().enumerate() {
        let d = arg.diff(tangent)?;
        if d == Sym::Zero {
            continue;
        }
        // An argument without a partial is one the helper is constant in.
        let Some((form, env)) = partial(k) else {
            continue;
        };
        let bound: HashMap<&str, Sym> = env
            .iter()
            .map(|&(name, v)| {
                let s = if v == TANGENT {
                    d.clone()
                } else {
                    args[v.index()].clone()
                };
                (name, s)
            })
            .collect();
        total = add(total, Sym::parse(&form)?.subst(&|n| bound.get(n).cloned())?);
    }
    Ok(total)
}

/// The calls that `e` makes more than once, bound once each: `(bindings, e)` with every repeated
/// call replaced by a name `c0`, `c1`, …, each binding reading only those before it. LLVM merges
/// repeated arithmetic and intrinsics by itself, but not every library call (`hypot`).
pub(super) fn shared_calls(e: &Sym) -> (Vec<(String, Sym)>, Sym) {
    let mut bindings: Vec<(String, Sym)> = Vec::new();
    let mut body = e.clone();
    loop {
        let mut all = Vec::new();
        body.calls(&mut all);
        for (_, b) in &bindings {
            b.calls(&mut all);
        }
        // The shortest repeated call first: a call inside another is bound before it.
        let repeated = all
            .iter()
            .filter(|c| all.iter().filter(|d| d == c).count() > 1)
            .min_by_key(|c| c.text().len())
            .map(|c| (*c).clone());
        let Some(call) = repeated else {
            break;
        };
        let name = Sym::Name(format!("c{}", bindings.len()));
        body = body.replace(&call, &name);
        for (_, b) in &mut bindings {
            *b = b.replace(&call, &name);
        }
        bindings.push((name.text(), call));
    }
    (bindings, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(src: &str) -> Sym {
        Sym::parse(&syn::parse_str(src).expect("parses")).expect("in the grammar")
    }

    /// The derivative of `src` with every name in `varied` having the tangent `d<name>`.
    fn derived(src: &str, varied: &[&str]) -> String {
        crate::prim::new_expansion();
        let tangent = |n: &str| varied.contains(&n).then(|| Sym::Name(format!("d{n}")));
        sym(src).diff(&tangent).expect("differentiable").text()
    }

    #[test]
    fn products_and_quotients_follow_the_chain_rule() {
        assert_eq!(derived("g * y", &["y", "g"]), "dg * y + g * dy");
        assert_eq!(derived("g / x", &["x", "g"]), "(dg - g / x * dx) / x");
        assert_eq!(derived("-g * y / b", &["b", "y", "g"]), {
            "(-dg * y + -g * dy - -g * y / b * db) / b"
        });
        // A name held fixed (a shape, a witness) contributes nothing.
        assert_eq!(derived("g * b", &["g"]), "dg * b");
        assert_eq!(derived("g * (1.0 - y * y)", &["g"]), "dg * (1.0 - y * y)");
        assert_eq!(
            derived("g * (1.0 - y * y)", &["y", "g"]),
            "dg * (1.0 - y * y) + g * -(dy * y + y * dy)"
        );
    }

    #[test]
    fn methods_differentiate_through_their_forms() {
        // d cos x = −sin x·dx, from the form of `cos`.
        assert_eq!(
            derived("g * x.cos()", &["x", "g"]),
            "dg * x.cos() + g * (dx * -x.sin())"
        );
        // `y` of an inner call is the call itself: d hypot(x, 1) = x/hypot(x, 1)·dx.
        assert_eq!(
            derived("x.hypot(1.0)", &["x"]),
            "dx * d::hypot_d(x, x.hypot(1.0))"
        );
        // A method applied to the cotangent: linear in it.
        assert_eq!(derived("g.to_degrees()", &["g"]), "dg.to_degrees()");
        assert_eq!(
            derived("g.0 * x.cos() - g.1 * x.sin()", &["x", "g"]),
            "dg.0 * x.cos() + g.0 * (dx * -x.sin()) - (dg.1 * x.sin() + g.1 * (dx * x.cos()))"
        );
    }

    #[test]
    fn helpers_differentiate_through_their_partials_or_not_at_all() {
        assert_eq!(
            derived("g * d::hypot_d(x, y)", &["x", "y", "g"]),
            "dg * d::hypot_d(x, y) + g * (dx * d::hypot_d(1.0, y) + \
             -(dy * d::hypot_d(d::hypot_d(x, y), y)))"
        );
        // The sign of `abs` is constant away from its kink.
        assert_eq!(derived("g * d::abs_d(x)", &["x", "g"]), "dg * d::abs_d(x)");
        // What `max` passes on is linear in the cotangent, constant in the arguments.
        assert_eq!(
            derived("d::pick2(x, a, y, g)", &["x", "a", "y", "g"]),
            "d::pick2(x, a, y, dg)"
        );
        // `powi_d` is constant in its exponent and in `y`.
        assert_eq!(
            derived("g * d::powi_d(x, n, y)", &["x", "y", "g"]),
            "dg * d::powi_d(x, n, y) + g * (dx * d::powi_d2(x, n))"
        );
        let unknown = sym("g * d::unknown(x)");
        let tangent = |n: &str| Some(Sym::Name(format!("d{n}")));
        assert!(unknown.diff(&tangent).is_err());
    }

    #[test]
    fn printing_keeps_the_tree() {
        for src in [
            "a - (b - c)",
            "a / (b * c)",
            "-(a + b) * c",
            "(a * b).sqrt()",
            "a - -b",
        ] {
            assert_eq!(sym(src).text(), src);
        }
        // Zeros vanish, ones multiply away.
        assert_eq!(sym("0 * x + 1.0 * y - 0").text(), "y");
    }

    #[test]
    fn repeated_calls_are_bound_once() {
        let e = sym("x.hypot(1.0) * d::hypot_d(x, x.hypot(1.0)) + x.hypot(1.0).sqrt() * x.sin()");
        let (bindings, body) = shared_calls(&e);
        let bindings: Vec<String> = bindings
            .iter()
            .map(|(n, s)| format!("{n} = {}", s.text()))
            .collect();
        assert_eq!(bindings, ["c0 = x.hypot(1.0)"]);
        assert_eq!(body.text(), "c0 * d::hypot_d(x, c0) + c0.sqrt() * x.sin()");
    }
}
