//! A local `Option` of a float kept across iterations: `let mut prev: Option<f64> = None;`.
//!
//! Such a variable is a flag and a value. Before lowering, a local declared `Option<f64>` or
//! `Option<f32>` (or of a type parameter bounded by a float trait, `Option<T>`; a single
//! capital letter the macro does not see bounded so, where it starts from `Some(..)`) becomes two
//! locals, and every use of it the rewrite knows becomes a use of them:
//!
//! ```text
//! let mut prev: Option<f64> = None;       let mut __ad_opt_prev_some = false;
//!                                         let mut __ad_opt_prev_val: f64 = 0.0;
//! for &x in xs {                          for &x in xs {
//!     if let Some(p) = prev {                 if __ad_opt_prev_some {
//!                                                 let p = __ad_opt_prev_val;
//!         total += (x - p).powi(2);               total += (x - p).powi(2);
//!     }                                       }
//!     prev = Some(x);                         { __ad_opt_prev_val = x; __ad_opt_prev_some = true; }
//! }                                       }
//! ```
//!
//! so the derivative follows a float and a boolean the loops carry, as it already does. A
//! declaration with the value of an `if` or a `match` (`let v: Option<f64> = if c { Some(a) }
//! else { None };`) is the declaration `None` and that assignment. The
//! uses rewritten are `v = Some(e)`, `v = None`, `if let Some(p) = v { .. } else { .. }`,
//! `while let Some(p) = v { .. }` (`while some { let p = val; .. }`), the same `if let` and
//! `while let` in a chain of tests (`if let Some(p) = v && p > x`), `let Some(p) = v else {
//! .. };` (`if !some { .. } let p = val;`),
//! `match v { Some(p) => .., None => .. }` (`_` for the second arm; with guards, the `if`
//! chain its arms stand for), `v.is_some()`,
//! `v.is_none()`, `v.unwrap()` and `v.expect(m)` (the value, after an `assert!` of the flag
//! with `Option`'s message), `v.unwrap_or(d)`, `unwrap_or_else(|| d)`, `unwrap_or_default()`,
//! and the methods given a closure of the value, as the `if` they stand for (`v.map_or(d, |p|
//! e)` is `if some { let p = val; e } else { d }`, so are `map_or_else`, `is_some_and`,
//! `is_none_or` and `v.map(|p| e).unwrap_or(d)`; a closure with a `return` is an unknown use).
//! A `let` that binds the name again (`let best = best.unwrap_or(0.0);`, or a second search
//! declaring `let mut best: Option<f64> = None;`) ends the variable where it stands: its
//! initializer still reads the `Option` and is rewritten, the statements after it in its block
//! read the new variable and are left as they are (a new `Option` declaration there is
//! rewritten on its own). Any other use of the variable (passed to a function, `v.map(..)` kept
//! as an `Option`, read in a closure or a macro, or a name shadowing it in a pattern of a
//! closure, a `for` or a `match` arm) leaves the declaration as written, and the lowering's
//! error about a pattern binding a part of a differentiated value stands.

use std::cell::RefCell;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Stmt};

use super::chain::strip;

/// What a `match` of the variable must be for the rewrite.
const MATCH: &str = "takes it apart in a `match` with an arm other than `Some(p)`, `None` \
                     and `_` (with guards or without)";

thread_local! {
    /// The local `Option`s of a float left as written in the function being lowered: the name,
    /// the first use the rewrite does not know and what it does, and whether an error has
    /// named it (see [`left_as_written`]).
    static LEFT: RefCell<Vec<(String, Span, String, bool)>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// Local `Option`s declared without their type (`let mut best = None;`) whose uses did not
    /// show a float, left as written in the function being lowered.
    static UNTYPED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Those that a check found holding a differentiated value: the function is lowered again
    /// with each of them rewritten (see [`retry`]).
    static FORCED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static ASKED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the `Option`s left as written: a new function is being lowered.
pub(crate) fn clear_left_as_written() {
    LEFT.with(|l| l.borrow_mut().clear());
    UNTYPED.with(|l| l.borrow_mut().clear());
}

/// A new function: no local `Option` is rewritten for its type alone.
pub(crate) fn clear_forced() {
    FORCED.with(|l| l.borrow_mut().clear());
    ASKED.with(|l| l.borrow_mut().clear());
}

/// Whether `name` is a local `Option` declared without its type and left as written; if so,
/// the next lowering of the function rewrites it as one of a float (a check found a
/// differentiated value in it, so it holds a float), and the check's error is dropped with
/// the rest of this lowering's.
pub(crate) fn ask_rewrite(name: &str) -> bool {
    let untyped = UNTYPED.with(|l| l.borrow().iter().any(|n| n == name));
    let forced = FORCED.with(|l| l.borrow().iter().any(|n| n == name));
    if untyped && !forced {
        ASKED.with(|l| l.borrow_mut().push(name.to_string()));
    }
    untyped && !forced
}

/// Whether the function must be lowered again, with the `Option`s the checks asked for
/// rewritten.
pub(crate) fn retry() -> bool {
    let asked: Vec<String> = ASKED.with(|l| std::mem::take(&mut *l.borrow_mut()));
    if asked.is_empty() {
        return false;
    }
    FORCED.with(|l| l.borrow_mut().extend(asked));
    true
}

fn forced(name: &syn::Ident) -> bool {
    FORCED.with(|l| l.borrow().iter().any(|n| name == n))
}

/// For a local `Option` of a float that the rewrite left as written, the first time it is asked
/// (later uses of the same variable are reported by this one error): the error at the use that
/// made it so, which says what the rewrite follows. The errors that find a differentiated value
/// taken out of such an `Option` (at a use of it the rewrite knows, `if let Some(p) = prev`)
/// give this one in their place, as the use to change is the other one.
pub(crate) fn left_as_written(name: &str) -> Option<Option<syn::Error>> {
    LEFT.with(|l| {
        let mut l = l.borrow_mut();
        let entry = l.iter_mut().find(|e| e.0 == name)?;
        if entry.3 {
            return Some(None);
        }
        entry.3 = true;
        Some(Some(syn::Error::new(
            entry.1,
            format!(
                "`{name}` is a local `Option` of a differentiated float, which is followed where \
                 every use of it is one of `{name} = Some(..)`, `{name} = None`, `if let \
                 Some(p) = {name}` (also in a chain of tests, `if let Some(p) = {name} && p > \
                 x`), `let Some(p) = {name} else {{ .. }};`, `while let Some(p) = {name}` (also \
                 in a chain), a `match` of it with `Some(p)` and `None` arms (with guards too; \
                 of `{name}.take()` too), `if let Some(p) = {name}.replace(e)`, \
                 `{name}.replace(e);`, `is_some()`, `is_none()`, \
                 `unwrap()`, `expect(..)`, `unwrap_or(d)` (`_else`, `_default`), `map_or(d, |p| \
                 ..)` (`map_or_else`), `is_some_and(|p| ..)`, `is_none_or(|p| ..)` and \
                 `map(|p| ..).unwrap_or(d)`; this use {}, so none of its uses is followed: \
                 write it as one of them (`{name}.unwrap_or(d)`, `{name}.is_some()`), or keep a \
                 flag and a float (`let mut has_{name} = false; let mut {name}_value = 0.0;`)",
                entry.2
            ),
        )))
    })
}

/// Rewrites, in `stmts`, each local `Option` of a float whose uses are all of the forms above.
pub(super) fn option_lets(stmts: &mut Vec<Stmt>) {
    // The local `Option`s of a float declared here, for the rewrites of uses between them.
    let names: Vec<syn::Ident> = stmts
        .iter()
        .filter_map(|s| option_decl(s).map(|(n, _, _)| n))
        .collect();
    copies_between(stmts, &names);
    replaced(stmts, &names);
    let mut i = 0;
    while i < stmts.len() {
        // `let v: Option<f64> = if c { Some(a) } else { None };` (or a `match`): declared
        // `None`, then assigned, which the uses below rewrite; left as written if they do not.
        let original = chosen_decl(&stmts[i]).map(|(decl, assign)| {
            let original = std::mem::replace(&mut stmts[i], decl);
            stmts.insert(i + 1, assign);
            original
        });
        let before = stmts.len();
        // `let mut v = None;` without its type, where the uses show a float (see
        // [`untyped_decl`]): as if declared `Option<F>` with `F` left to rustc.
        let decl = option_decl(&stmts[i])
            .map(|(n, ty, init)| (n, Some(ty), init))
            .or_else(|| untyped_decl(&stmts[i], &stmts[i + 1..]));
        if let Some((name, ty, init)) = decl {
            let concrete = matches!(&ty, Some(syn::Type::Path(tp))
                if tp.path.is_ident("f64") || tp.path.is_ident("f32"));
            let some = quote::format_ident!("__ad_opt_{}_some", name);
            let val = quote::format_ident!("__ad_opt_{}_val", name);
            let mut uses = Uses {
                name: &name,
                some: &some,
                val: &val,
                ok: true,
                why: None,
            };
            let mut rest: Vec<Stmt> = stmts[i + 1..].to_vec();
            uses.visit_stmts(&mut rest);
            if !uses.ok
                && let Some((span, what)) = uses.why.take()
            {
                LEFT.with(|l| l.borrow_mut().push((name.to_string(), span, what, false)));
            }
            if uses.ok {
                let (flag, value): (Expr, Expr) = match init {
                    Some(e) => (syn::parse_quote!(true), e),
                    None if concrete => (syn::parse_quote!(false), syn::parse_quote!(0.0)),
                    // Read only where the flag is up: any value of the type will do, and `0.0`
                    // is not one of a type parameter's (`Default::default()` is: the generated
                    // items bound it by `autodiff::Real`).
                    None => (
                        syn::parse_quote!(false),
                        syn::parse_quote!(::core::default::Default::default()),
                    ),
                };
                stmts.truncate(i);
                stmts.push(syn::parse_quote!(let mut #some = #flag;));
                match &ty {
                    Some(ty) => stmts.push(syn::parse_quote!(let mut #val: #ty = #value;)),
                    None => stmts.push(syn::parse_quote!(let mut #val = #value;)),
                }
                stmts.extend(rest);
                i += 1;
            }
        }
        if let Some(original) = original
            && stmts.len() == before
        {
            stmts.remove(i + 1);
            stmts[i] = original;
        }
        i += 1;
    }
}

/// `b = a;` of two local `Option`s of a float declared among `stmts` (the iterate before the
/// last, `prev2 = prev;`): `b = if let Some(p) = a { Some(p) } else { None };`, a use of each
/// that the rewrite knows.
fn copies_between(stmts: &mut [Stmt], names: &[syn::Ident]) {
    struct Copies<'n>(&'n [syn::Ident]);
    impl VisitMut for Copies<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Assign(a) = e
                && let Some(to) = self.0.iter().find(|n| is_name(&a.left, n))
                && let Some(from) = self.0.iter().find(|n| is_name(&a.right, n))
                && to != from
            {
                let (to, from) = (to.clone(), from.clone());
                *e = syn::parse_quote!(
                    #to = if let Some(__ad_opt_copy) = #from { Some(__ad_opt_copy) } else { None }
                );
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    if names.len() > 1 {
        let mut c = Copies(names);
        for s in stmts.iter_mut() {
            c.visit_stmt_mut(s);
        }
    }
}

/// `v.replace(e)` of a local `Option` of a float declared among `stmts`, in the forms that
/// pair each item with the one before it: the statement `v.replace(e);` is `v = Some(e);`, and
/// `if let Some(p) = v.replace(e) { a } else { b }` is `{ let new = e; let had = v.is_some();
/// let old = v.unwrap_or_default(); v = Some(new); if had { let p = old; a } else { b } }`,
/// uses of `v` the rewrite knows (`e` is evaluated first, as the argument it is).
fn replaced(stmts: &mut [Stmt], names: &[syn::Ident]) {
    struct Replaced<'n>(&'n [syn::Ident]);
    impl Replaced<'_> {
        /// `v.replace(e)` of one of the names: the name and `e`.
        fn call<'e>(&self, e: &'e Expr) -> Option<(&syn::Ident, &'e Expr)> {
            let Expr::MethodCall(mc) = super::chain::strip(e) else {
                return None;
            };
            if mc.method != "replace" || mc.args.len() != 1 {
                return None;
            }
            let name = self.0.iter().find(|n| is_name(&mc.receiver, n))?;
            Some((name, &mc.args[0]))
        }
    }
    impl VisitMut for Replaced<'_> {
        fn visit_stmt_mut(&mut self, s: &mut Stmt) {
            if let Stmt::Expr(e, Some(semi)) = s
                && let Some((name, arg)) = self.call(e)
            {
                let (name, arg) = (name.clone(), arg.clone());
                *s = Stmt::Expr(syn::parse_quote!(#name = Some(#arg)), Some(*semi));
                return;
            }
            syn::visit_mut::visit_stmt_mut(self, s);
        }
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::If(i) = e
                && let Expr::Let(l) = &*i.cond
                && let Some((name, arg)) = self.call(&l.expr)
                && let Some(p) = some_pat(&l.pat)
            {
                let (name, arg, p) = (name.clone(), arg.clone(), p.clone());
                let then = &i.then_branch;
                let otherwise = i.else_branch.as_ref().map(|(_, o)| quote::quote!(else #o));
                let mut made: Expr = syn::parse_quote!({
                    let __ad_replacing = #arg;
                    let __ad_had = #name.is_some();
                    let __ad_was = #name.unwrap_or_default();
                    #name = Some(__ad_replacing);
                    if __ad_had { let #p = __ad_was; #then } #otherwise
                });
                // The arms may replace again (a loop inside them).
                if let Expr::Block(b) = &mut made
                    && let Some(Stmt::Expr(Expr::If(inner), _)) = b.block.stmts.last_mut()
                {
                    syn::visit_mut::visit_expr_if_mut(self, inner);
                }
                *e = made;
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    if !names.is_empty() {
        let mut r = Replaced(names);
        for s in stmts.iter_mut() {
            r.visit_stmt_mut(s);
        }
    }
}

/// `let v: Option<F> = e;` with `e` an `if` or a `match` (which may make `Some(..)` or `None`
/// in its arms): `let mut v: Option<F> = None;` and `v = e;`.
fn chosen_decl(s: &Stmt) -> Option<(Stmt, Stmt)> {
    let Stmt::Local(l) = s else { return None };
    let init = l.init.as_ref()?;
    if init.diverge.is_some() || !matches!(&*init.expr, Expr::If(_) | Expr::Match(_)) {
        return None;
    }
    let e = &init.expr;
    match &l.pat {
        Pat::Type(pt) => {
            let Pat::Ident(pi) = &*pt.pat else {
                return None;
            };
            if pi.by_ref.is_some() || pi.subpat.is_some() {
                return None;
            }
            option_of(&pt.ty)?;
            let (name, ty) = (&pi.ident, &pt.ty);
            Some((
                syn::parse_quote!(let mut #name: #ty = None;),
                syn::parse_quote!(#name = #e;),
            ))
        }
        // Without its type: where an arm gives `Some(..)`; rewritten where [`untyped_decl`]
        // sees a float, else put back as written.
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
            let name = &pi.ident;
            let mut found = Payloads::default();
            found.of_value(e);
            if !found.some {
                return None;
            }
            Some((
                syn::parse_quote!(let mut #name = None;),
                syn::parse_quote!(#name = #e;),
            ))
        }
        _ => None,
    }
}

/// `let mut v = None;` (or `= Some(e)`) without a type, where what the statements after it put
/// in `v` or take as its default is seen to be a float: a float literal, a constant of `f64` or
/// `f32`, arithmetic with one, a float method (`x.exp()`), a cast to a float type
/// (`v = Some(x.sin() * w)`, `v.unwrap_or(0.0)`), and nothing put in it is a reference. The
/// name and the first value; its type is left to rustc. (Where nothing shows a float, the
/// `Option` stays as written: an index found by a search, `best = Some(i)`, is data.)
fn untyped_decl(s: &Stmt, rest: &[Stmt]) -> Option<(syn::Ident, Option<syn::Type>, Option<Expr>)> {
    let Stmt::Local(l) = s else { return None };
    let Pat::Ident(pi) = &l.pat else { return None };
    if pi.by_ref.is_some() || pi.subpat.is_some() {
        return None;
    }
    let init = l.init.as_ref()?;
    if init.diverge.is_some() {
        return None;
    }
    let first = match &*init.expr {
        Expr::Path(p) if p.path.is_ident("None") => None,
        e => Some(some_arg(e)?.clone()),
    };
    let mut found = Payloads {
        name: Some(pi.ident.clone()),
        ..Default::default()
    };
    if let Some(e) = &first {
        found.payload(e);
    }
    for s in rest {
        syn::visit::Visit::visit_stmt(&mut found, s);
    }
    if found.floats() || forced(&pi.ident) {
        return Some((pi.ident.clone(), None, first));
    }
    UNTYPED.with(|l| l.borrow_mut().push(pi.ident.to_string()));
    None
}

/// What the statements put in an `Option` variable (`name = Some(e)`) or take as its default
/// (`name.unwrap_or(d)`): whether one is seen to be a float and none is a reference.
#[derive(Default)]
struct Payloads {
    name: Option<syn::Ident>,
    float: bool,
    reference: bool,
    /// Whether a `Some(..)` was seen (an `if` of `Some`/`None` arms).
    some: bool,
}

impl Payloads {
    fn floats(&self) -> bool {
        self.float && !self.reference
    }

    fn payload(&mut self, e: &Expr) {
        if matches!(strip(e), Expr::Reference(_)) {
            self.reference = true;
        } else if float_shaped(e) {
            self.float = true;
        }
    }

    /// The `Some(e)` that `value` ends in (through `if`/`match` arms and blocks).
    fn of_value(&mut self, value: &Expr) {
        match strip(value) {
            Expr::If(i) => {
                if let Some(Stmt::Expr(t, None)) = i.then_branch.stmts.last() {
                    self.of_value(t);
                }
                if let Some((_, e)) = &i.else_branch {
                    self.of_value(e);
                }
            }
            Expr::Match(m) => {
                for arm in &m.arms {
                    self.of_value(&arm.body);
                }
            }
            Expr::Block(b) => {
                if let Some(Stmt::Expr(t, None)) = b.block.stmts.last() {
                    self.of_value(t);
                }
            }
            e => {
                if let Some(p) = some_arg(e) {
                    self.some = true;
                    self.payload(p);
                }
            }
        }
    }
}

impl<'a> syn::visit::Visit<'a> for Payloads {
    fn visit_expr(&mut self, e: &'a Expr) {
        if let Some(name) = &self.name {
            match e {
                Expr::Assign(a) if is_name(&a.left, name) => self.of_value(&a.right),
                Expr::MethodCall(m) if is_name(&m.receiver, name) => {
                    match (m.method.to_string().as_str(), m.args.first()) {
                        ("unwrap_or" | "map_or", Some(d)) => self.payload(d),
                        ("unwrap_or_else" | "map_or_else", Some(d)) => {
                            if let Some(body) = closure0(d) {
                                self.payload(body);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        syn::visit::visit_expr(self, e);
    }
}

/// Whether `e` is seen to be a float without knowing the types of the names it reads: a float
/// literal, a constant or function of `f64`/`f32` (`f64::INFINITY`, `std::f64::consts::PI`,
/// `f64::from(k)`), a cast to one, a method only floats have (`sin`, `exp`, `sqrt`, `powi`,
/// ..), or arithmetic or a negation with one of these.
fn float_shaped(e: &Expr) -> bool {
    let float_path = |p: &syn::Path| {
        p.segments
            .iter()
            .any(|s| s.ident == "f64" || s.ident == "f32")
    };
    let tail =
        |b: &syn::Block| matches!(b.stmts.last(), Some(Stmt::Expr(t, None)) if float_shaped(t));
    match strip(e) {
        Expr::Lit(l) => matches!(l.lit, syn::Lit::Float(_)),
        Expr::Block(b) => tail(&b.block),
        Expr::If(i) => {
            tail(&i.then_branch) || i.else_branch.as_ref().is_some_and(|(_, e)| float_shaped(e))
        }
        Expr::Match(m) => m.arms.iter().any(|a| float_shaped(&a.body)),
        Expr::Path(p) => p.qself.is_none() && p.path.segments.len() > 1 && float_path(&p.path),
        Expr::Call(c) => matches!(&*c.func, Expr::Path(p) if float_path(&p.path)),
        Expr::Cast(c) => {
            matches!(&*c.ty, syn::Type::Path(tp) if tp.path.is_ident("f64") || tp.path.is_ident("f32"))
        }
        Expr::MethodCall(m) => {
            const FLOAT_ONLY: &[&str] = &[
                "sin",
                "cos",
                "tan",
                "exp",
                "exp2",
                "exp_m1",
                "ln",
                "ln_1p",
                "log",
                "log2",
                "log10",
                "sqrt",
                "cbrt",
                "powi",
                "powf",
                "recip",
                "tanh",
                "sinh",
                "cosh",
                "asin",
                "acos",
                "atan",
                "atan2",
                "asinh",
                "acosh",
                "atanh",
                "hypot",
                "mul_add",
                "to_degrees",
                "to_radians",
                "floor",
                "ceil",
                "round",
                "trunc",
                "fract",
                "copysign",
            ];
            let name = m.method.to_string();
            FLOAT_ONLY.contains(&name.as_str())
                || (matches!(name.as_str(), "max" | "min" | "abs" | "clamp" | "signum")
                    && float_shaped(&m.receiver))
        }
        Expr::Binary(b) => {
            matches!(
                b.op,
                syn::BinOp::Add(_) | syn::BinOp::Sub(_) | syn::BinOp::Mul(_) | syn::BinOp::Div(_)
            ) && (float_shaped(&b.left) || float_shaped(&b.right))
        }
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && float_shaped(&u.expr),
        _ => false,
    }
}

/// `let mut v: Option<F> = None;` or `= Some(e);` with `F` a float type (`f32`, `f64`, a type
/// parameter bounded by a float trait, or another single capital letter taken for one where it
/// starts from `Some`): the name, `F` and the first value.
fn option_decl(s: &Stmt) -> Option<(syn::Ident, syn::Type, Option<Expr>)> {
    let Stmt::Local(l) = s else { return None };
    let Pat::Type(pt) = &l.pat else { return None };
    let Pat::Ident(pi) = &*pt.pat else {
        return None;
    };
    if pi.by_ref.is_some() || pi.subpat.is_some() {
        return None;
    }
    let init = l.init.as_ref()?;
    if init.diverge.is_some() {
        return None;
    }
    let inner = option_of(&pt.ty)?;
    let float = match &inner {
        syn::Type::Path(tp) if tp.qself.is_none() => {
            let id = tp.path.get_ident()?.to_string();
            if id == "f32" || id == "f64" {
                true
            } else if crate::types::is_float_param(&id) {
                // A type parameter bounded by a float trait (`T: Float`): a float like `f64`.
                true
            } else if id.len() == 1 && id.chars().all(|c| c.is_ascii_uppercase()) {
                false
            } else {
                return None;
            }
        }
        _ => return None,
    };
    let first = match &*init.expr {
        Expr::Path(p) if p.path.is_ident("None") => None,
        e => Some(some_arg(e)?.clone()),
    };
    if first.is_none() && !float {
        return None;
    }
    Some((pi.ident.clone(), inner, first))
}

/// `T` of `Option<T>`.
fn option_of(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    if seg.ident != "Option" || tp.path.segments.len() != 1 {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) if args.args.len() == 1 => Some(t.clone()),
        _ => None,
    }
}

/// `e` of `Some(e)`.
fn some_arg(e: &Expr) -> Option<&Expr> {
    let Expr::Call(c) = e else { return None };
    let Expr::Path(f) = &*c.func else { return None };
    (f.path.is_ident("Some") && c.args.len() == 1).then(|| &c.args[0])
}

/// `p` of the pattern `Some(p)`.
fn some_pat(p: &Pat) -> Option<&Pat> {
    let Pat::TupleStruct(ts) = p else { return None };
    (ts.qself.is_none() && ts.path.is_ident("Some") && ts.elems.len() == 1).then(|| &ts.elems[0])
}

fn is_name(e: &Expr, name: &syn::Ident) -> bool {
    match e {
        Expr::Path(p) => p.qself.is_none() && p.path.is_ident(name),
        Expr::Paren(p) => is_name(&p.expr, name),
        _ => false,
    }
}

/// `place = if c { a } else { b }` as `if c { place = a; } else { place = b; }` (each arm's
/// value assigned where the arm ends; `else if`, `match` arms and blocks alike); `None` for
/// another right side, or an `if` without `else` or an arm that ends in a statement.
fn assign_in_arms(place: &Expr, value: &Expr) -> Option<Expr> {
    match value {
        Expr::Paren(p) => assign_in_arms(place, &p.expr),
        Expr::If(_) | Expr::Match(_) | Expr::Block(_) => assign_tail(place, value),
        _ => None,
    }
}

/// `value` with its result assigned to `place` where it is made (see [`assign_in_arms`]).
fn assign_tail(place: &Expr, value: &Expr) -> Option<Expr> {
    let in_block = |b: &syn::Block| -> Option<syn::Block> {
        let mut b = b.clone();
        let Some(Stmt::Expr(tail, None)) = b.stmts.pop() else {
            return None;
        };
        let tail = assign_tail(place, &tail)?;
        b.stmts.push(Stmt::Expr(tail, Some(Default::default())));
        Some(b)
    };
    Some(match value {
        Expr::Paren(p) => assign_tail(place, &p.expr)?,
        Expr::Block(b) if b.label.is_none() => {
            let b = in_block(&b.block)?;
            syn::parse_quote!(#b)
        }
        Expr::If(i) => {
            let (_, els) = i.else_branch.as_ref()?;
            let then = in_block(&i.then_branch)?;
            let els = assign_tail(place, els)?;
            let els: syn::Block = match els {
                Expr::Block(b) => b.block,
                e => syn::parse_quote!({ #e; }),
            };
            let cond = &i.cond;
            syn::parse_quote!(if #cond #then else #els)
        }
        Expr::Match(m) => {
            let mut m = m.clone();
            for arm in &mut m.arms {
                let body = assign_tail(place, &arm.body)?;
                *arm.body = syn::parse_quote!({ #body; });
                arm.comma = Some(Default::default());
            }
            Expr::Match(m)
        }
        e => syn::parse_quote!(#place = #e),
    })
}

/// Rewrites the uses of one variable, and clears `ok` at a use it does not know.
struct Uses<'a> {
    name: &'a syn::Ident,
    some: &'a syn::Ident,
    val: &'a syn::Ident,
    ok: bool,
    /// Where `ok` was cleared, and what the use there does.
    why: Option<(Span, String)>,
}

impl Uses<'_> {
    /// A use the rewrite does not know, at `span`: the variable is left as written.
    fn unknown(&mut self, span: Span, what: impl Into<String>) {
        if self.ok {
            self.why = Some((span, what.into()));
        }
        self.ok = false;
    }

    /// `if some { let p = val; then } else { otherwise }`.
    fn branch(&self, p: &Pat, then: &Expr, otherwise: Option<&Expr>) -> Expr {
        self.branch_taking(p, then, otherwise, false)
    }

    /// [`Self::branch`]; of `v.take()` (`take`), the flag is lowered where the value is taken:
    /// `if some { some = false; let p = val; then } else { otherwise }`.
    fn branch_taking(&self, p: &Pat, then: &Expr, otherwise: Option<&Expr>, take: bool) -> Expr {
        let (some, val) = (self.some, self.val);
        let lower = take.then(|| quote::quote!(#some = false;));
        match otherwise {
            Some(o) => syn::parse_quote!(if #some { #lower let #p = #val; #then } else { #o }),
            None => syn::parse_quote!(if #some { #lower let #p = #val; #then }),
        }
    }
}

impl Uses<'_> {
    /// `if a && let Some(p) = v && b { then } else { otherwise }`, a chain that takes the
    /// variable apart: `if a && some { let p = val; if b { then } else { otherwise } } else {
    /// otherwise }` (without `b`, `then` in place of the inner `if`). `None` where no `let` of
    /// the chain takes it apart, and where `otherwise`, run in the scope of `p` there, names
    /// what `p` binds (a use it does not know).
    fn chained(&mut self, i: &mut syn::ExprIf) -> Option<Expr> {
        let (parts, k, take, p) = self.chain_let(&i.cond)?;
        let Expr::Let(l) = &parts[k] else {
            return None;
        };
        let mut otherwise = i.else_branch.as_ref().map(|(_, e)| (**e).clone());
        if let Some(o) = &otherwise {
            let mut bound = Vec::new();
            super::syntax::collect_pat_bindings(&p, &mut bound);
            if let Some(b) = bound.iter().find(|b| mentions(&quote::quote!(#o), b)) {
                self.unknown(
                    l.pat.span(),
                    format!(
                        "takes it apart in a chain of tests whose `else` reads another `{b}`, \
                         which the pattern's `{b}` would hide there (give the pattern another \
                         name)"
                    ),
                );
                return None;
            }
        }
        let mut before: Vec<Expr> = parts[..k].to_vec();
        let mut rest: Vec<Expr> = parts[k + 1..].to_vec();
        let mut then = i.then_branch.clone();
        for c in before.iter_mut() {
            self.visit_expr_mut(c);
        }
        if let Some(o) = &mut otherwise {
            self.visit_expr_mut(o);
        }
        // `if let Some(prev) = prev && ..`: after the pattern, `prev` is the float.
        if !binds(&p, self.name) {
            for c in rest.iter_mut() {
                self.visit_expr_mut(c);
            }
            self.visit_block_mut(&mut then);
        }
        if !self.ok {
            return None;
        }
        let (some, val) = (self.some, self.val);
        let inner: proc_macro2::TokenStream = if rest.is_empty() {
            quote::quote!(#then)
        } else {
            let r = join_and(rest);
            match &otherwise {
                Some(o) => quote::quote!(if #r #then else #o),
                None => quote::quote!(if #r #then),
            }
        };
        let cond = then_flag(before, some);
        let lower = take.then(|| quote::quote!(#some = false;));
        Some(match otherwise {
            Some(o) => syn::parse_quote!(if #cond { #lower let #p = #val; #inner } else #o),
            None => syn::parse_quote!(if #cond { #lower let #p = #val; #inner }),
        })
    }

    /// Visits the statements of a block where the variable is in scope, up to a `let` that
    /// binds its name again. `let Some(p) = v else { e };` (of `v.take()` too) is `if !some {
    /// e } let p = val;`: `e` leaves the block, as Rust asks of it.
    fn visit_stmts(&mut self, stmts: &mut Vec<Stmt>) {
        let mut k = 0;
        while k < stmts.len() && self.ok {
            if let Some((made, rebinds)) = self.let_else(&mut stmts[k]) {
                let n = made.len();
                stmts.splice(k..k + 1, made);
                if rebinds {
                    return;
                }
                k += n;
                continue;
            }
            if self.visit_in_scope(&mut stmts[k]) {
                return;
            }
            k += 1;
        }
    }

    /// `let Some(p) = v else { e };` as the statements it stands for, and whether `p` binds
    /// the variable's name again (the statements after it read the float).
    fn let_else(&mut self, s: &mut Stmt) -> Option<(Vec<Stmt>, bool)> {
        let Stmt::Local(l) = s else { return None };
        let init = l.init.as_mut()?;
        let take = scrutinee(&init.expr, self.name)?;
        let (_, otherwise) = init.diverge.as_mut()?;
        let p = some_pat(&l.pat)?.clone();
        self.visit_expr_mut(otherwise);
        let (some, val) = (self.some, self.val);
        let mut made: Vec<Stmt> = vec![syn::parse_quote!(if !#some #otherwise)];
        if take {
            made.push(syn::parse_quote!(#some = false;));
        }
        made.push(syn::parse_quote!(let #p = #val;));
        Some((made, binds(&p, self.name)))
    }

    /// The tests of a chain (see [`conjuncts`]), the position of the `let` that takes the
    /// variable apart, whether it takes it (`v.take()`), and its `Some(p)`'s `p`. `None` where no
    /// `let` of the chain takes it apart, or (an unknown use) its pattern is not `Some(p)`.
    fn chain_let(&mut self, cond: &Expr) -> Option<(Vec<Expr>, usize, bool, Pat)> {
        let mut parts = Vec::new();
        conjuncts(cond, &mut parts);
        let k = parts
            .iter()
            .position(|c| matches!(c, Expr::Let(l) if scrutinee(&l.expr, self.name).is_some()))?;
        let Expr::Let(l) = &parts[k] else {
            return None;
        };
        let take = scrutinee(&l.expr, self.name) == Some(true);
        let Some(p) = some_pat(&l.pat).cloned() else {
            self.unknown(
                l.pat.span(),
                "takes it apart with a pattern other than `Some(p)`",
            );
            return None;
        };
        Some((parts, k, take, p))
    }

    /// `while a && let Some(p) = v && b { body }`: `while a && some { let p = val; if !(b) {
    /// break; } body }` (the flag lowered first for `v.take()`).
    fn while_chained(&mut self, w: &mut syn::ExprWhile) -> Option<Expr> {
        let (parts, k, take, p) = self.chain_let(&w.cond)?;
        let Expr::Let(l) = &parts[k] else {
            return None;
        };
        if binds(&p, self.name) {
            self.unknown(l.pat.span(), "binds its name again in `while let`");
            return None;
        }
        let mut before: Vec<Expr> = parts[..k].to_vec();
        let mut rest: Vec<Expr> = parts[k + 1..].to_vec();
        for c in before.iter_mut().chain(rest.iter_mut()) {
            self.visit_expr_mut(c);
        }
        let mut body = w.body.clone();
        self.visit_block_mut(&mut body);
        if !self.ok {
            return None;
        }
        let (some, val) = (self.some, self.val);
        let cond = then_flag(before, some);
        let lower = take.then(|| quote::quote!(#some = false;));
        let test = (!rest.is_empty()).then(|| {
            let r = join_and(rest);
            quote::quote!(if !(#r) { break; })
        });
        let label = &w.label;
        let stmts = &body.stmts;
        Some(syn::parse_quote!(#label while #cond { #lower let #p = #val; #test #(#stmts)* }))
    }

    /// `match v { Some(p) if g => a, Some(p) => b, None => c, _ => d }`, arms with guards
    /// tried in their order: `if some && { let p = val; g } { let p = val; a } else if some {
    /// let p = val; b } else if !some { c } else { d }`, the last arm (which has no guard, the
    /// `match` being exhaustive) the last `else`. Of `v.take()`, the flag is copied and
    /// lowered first, and the arms test the copy.
    fn guarded_match(&mut self, m: &mut syn::ExprMatch) -> Option<Expr> {
        let take = scrutinee(&m.expr, self.name) == Some(true);
        let taken = quote::format_ident!("{}_taken", self.some);
        let (flag, val) = (self.some, self.val);
        let some = if take { &taken } else { flag };
        let mut arms: Vec<(Option<Expr>, Expr)> = Vec::new();
        for arm in m.arms.iter_mut() {
            let (pat, mut guard) = match &mut arm.pat {
                Pat::Guard(g) => ((*g.pat).clone(), Some(&mut *g.guard)),
                p => (p.clone(), None),
            };
            let is_none = matches!(&pat, Pat::Ident(pi) if pi.ident == "None" && pi.subpat.is_none())
                || matches!(&pat, Pat::Path(pp) if pp.path.is_ident("None"));
            let (test, bind): (Option<Expr>, Option<Pat>) = if let Some(p) = some_pat(&pat) {
                (Some(syn::parse_quote!(#some)), Some(p.clone()))
            } else if is_none {
                (Some(syn::parse_quote!((!#some))), None)
            } else if matches!(pat, Pat::Wild(_)) {
                (None, None)
            } else {
                self.unknown(pat.span(), MATCH);
                return None;
            };
            let visit = bind.as_ref().is_none_or(|p| !binds(p, self.name));
            if visit {
                if let Some(g) = guard.as_deref_mut() {
                    self.visit_expr_mut(g);
                }
                self.visit_expr_mut(&mut arm.body);
            }
            let body = &arm.body;
            let (cond, body): (Option<Expr>, Expr) = match (&bind, guard) {
                (Some(p), Some(g)) => (
                    Some(syn::parse_quote!(#some && { let #p = #val; #g })),
                    syn::parse_quote!({ let #p = #val; #body }),
                ),
                (Some(p), None) => (test, syn::parse_quote!({ let #p = #val; #body })),
                (None, Some(g)) => (
                    Some(match test {
                        Some(t) => syn::parse_quote!(#t && (#g)),
                        None => (*g).clone(),
                    }),
                    syn::parse_quote!({ #body }),
                ),
                (None, None) => (test, syn::parse_quote!({ #body })),
            };
            arms.push((cond, body));
        }
        if !self.ok {
            return None;
        }
        let (_, last) = arms.pop()?;
        let chain = arms
            .into_iter()
            .rev()
            .fold(last, |els, (cond, body)| match cond {
                Some(c) => syn::parse_quote!(if #c #body else #els),
                // An arm that catches everything before the last: the arms after it never run.
                None => body,
            });
        Some(match take {
            true => syn::parse_quote!({ let #taken = #flag; #flag = false; #chain }),
            false => chain,
        })
    }

    /// Visits a statement of a block where the variable is in scope; for a `let` that binds
    /// its name again, only what the `let` evaluates (its initializer and `else`, which still
    /// read the variable), and `true`: the statements after it read the new variable.
    fn visit_in_scope(&mut self, s: &mut Stmt) -> bool {
        if let Stmt::Local(l) = s
            && binds(&l.pat, self.name)
        {
            if let Some(init) = &mut l.init {
                self.visit_expr_mut(&mut init.expr);
                if let Some((_, e)) = &mut init.diverge {
                    self.visit_expr_mut(e);
                }
            }
            return true;
        }
        self.visit_stmt_mut(s);
        false
    }
}

impl VisitMut for Uses<'_> {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.visit_stmts(&mut b.stmts);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if !self.ok {
            return;
        }
        if let Expr::If(i) = e
            && !matches!(&*i.cond, Expr::Let(_))
            && let Some(n) = self.chained(i)
        {
            *e = n;
            return;
        }
        if let Expr::While(w) = e
            && !matches!(&*w.cond, Expr::Let(_))
            && let Some(n) = self.while_chained(w)
        {
            *e = n;
            return;
        }
        let (name, some, val) = (self.name, self.some, self.val);
        let new: Option<Expr> = match e {
            // `prev = if c { Some(x) } else { None };` (also `else if`, and a `match`): the
            // assignment in each arm, `if c { prev = Some(x); } else { prev = None; }`.
            Expr::Assign(a)
                if is_name(&a.left, name)
                    && let Some(mut each) = assign_in_arms(&a.left, &a.right) =>
            {
                self.visit_expr_mut(&mut each);
                Some(each)
            }
            Expr::Assign(a) if is_name(&a.left, name) => {
                // The right side first: `prev = Some(prev.unwrap_or(0.0) + x)` reads the old value.
                self.visit_expr_mut(&mut a.right);
                match &*a.right {
                    Expr::Path(p) if p.path.is_ident("None") => {
                        Some(syn::parse_quote!(#some = false))
                    }
                    r => match some_arg(r) {
                        Some(v) => Some(syn::parse_quote!({ #val = #v; #some = true; })),
                        None => {
                            self.unknown(
                                a.right.span(),
                                "assigns it a value other than `Some(..)` or `None`",
                            );
                            None
                        }
                    },
                }
            }
            Expr::If(i) if matches!(&*i.cond, Expr::Let(l) if scrutinee(&l.expr, name).is_some()) =>
            {
                let Expr::Let(l) = &*i.cond else { return };
                let take = scrutinee(&l.expr, name) == Some(true);
                let Some(p) = some_pat(&l.pat).cloned() else {
                    self.unknown(
                        l.pat.span(),
                        "takes it apart with a pattern other than `Some(p)`",
                    );
                    return;
                };
                // `if let Some(prev) = prev`: inside, `prev` is the float.
                if !binds(&p, name) {
                    self.visit_block_mut(&mut i.then_branch);
                }
                if let Some((_, o)) = &mut i.else_branch {
                    self.visit_expr_mut(o);
                }
                let then = Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block: i.then_branch.clone(),
                });
                Some(self.branch_taking(&p, &then, i.else_branch.as_ref().map(|(_, e)| &**e), take))
            }
            // `match v { Some(b) if b <= c => .., _ => .. }`: arms with guards, as the `if`
            // chain they stand for.
            Expr::Match(m)
                if scrutinee(&m.expr, name).is_some()
                    && m.arms.iter().any(|a| matches!(a.pat, Pat::Guard(_))) =>
            {
                self.guarded_match(m)
            }
            Expr::Match(m) if scrutinee(&m.expr, name).is_some() => {
                let take = scrutinee(&m.expr, name) == Some(true);
                if m.arms.len() != 2 {
                    self.unknown(m.match_token.span, MATCH);
                    return;
                }
                let none = |p: &Pat| {
                    matches!(p, Pat::Wild(_))
                        || matches!(p, Pat::Ident(pi) if pi.ident == "None" && pi.subpat.is_none())
                        || matches!(p, Pat::Path(pp) if pp.path.is_ident("None"))
                };
                let (s, n) = match (some_pat(&m.arms[0].pat), some_pat(&m.arms[1].pat)) {
                    (Some(_), None) if none(&m.arms[1].pat) => (0, 1),
                    (None, Some(_))
                        if none(&m.arms[0].pat) && !matches!(m.arms[0].pat, Pat::Wild(_)) =>
                    {
                        (1, 0)
                    }
                    _ => {
                        self.unknown(m.match_token.span, MATCH);
                        return;
                    }
                };
                let Some(p) = some_pat(&m.arms[s].pat).cloned() else {
                    self.unknown(m.match_token.span, MATCH);
                    return;
                };
                if !binds(&p, name) {
                    self.visit_expr_mut(&mut m.arms[s].body);
                }
                self.visit_expr_mut(&mut m.arms[n].body);
                Some(self.branch_taking(&p, &m.arms[s].body, Some(&m.arms[n].body), take))
            }
            Expr::MethodCall(mc) if is_name(&mc.receiver, name) => {
                for a in mc.args.iter_mut() {
                    self.visit_expr_mut(a);
                }
                let args: Vec<&Expr> = mc.args.iter().collect();
                match (mc.method.to_string().as_str(), &args[..]) {
                    ("is_some", []) => Some(syn::parse_quote!(#some)),
                    ("is_none", []) => Some(syn::parse_quote!((!#some))),
                    ("unwrap_or", [d]) => Some(syn::parse_quote!((if #some { #val } else { #d }))),
                    ("unwrap_or_default", []) => Some(syn::parse_quote!(
                        (if #some { #val } else { ::core::default::Default::default() })
                    )),
                    ("unwrap_or_else", [d]) if let Some(d) = closure0(d) => {
                        Some(syn::parse_quote!((if #some { #val } else { #d })))
                    }
                    // The panics of `Option`'s own, where the flag is down.
                    ("unwrap", []) => Some(syn::parse_quote!({
                        ::core::assert!(#some, "called `Option::unwrap()` on a `None` value");
                        #val
                    })),
                    ("expect", [msg]) => Some(syn::parse_quote!({
                        ::core::assert!(#some, "{}", #msg);
                        #val
                    })),
                    // `best.map_or(true, |b| v > b)`: the closure's body where there is a value.
                    ("map_or", [d, f]) if let Some((p, body)) = closure1(f) => {
                        Some(paren(self.branch(p, body, Some(d))))
                    }
                    ("map_or_else", [d, f])
                        if let (Some(d), Some((p, body))) = (closure0(d), closure1(f)) =>
                    {
                        Some(paren(self.branch(p, body, Some(d))))
                    }
                    ("is_some_and", [f]) if let Some((p, body)) = closure1(f) => {
                        let f: Expr = syn::parse_quote!(false);
                        Some(paren(self.branch(p, body, Some(&f))))
                    }
                    ("is_none_or", [f]) if let Some((p, body)) = closure1(f) => {
                        let t: Expr = syn::parse_quote!(true);
                        Some(paren(self.branch(p, body, Some(&t))))
                    }
                    _ => {
                        let m = &mc.method;
                        self.unknown(
                            m.span(),
                            format!("calls `.{m}(..)` on it, which is not one of them"),
                        );
                        None
                    }
                }
            }
            // `prev.map(|p| ..).unwrap_or(d)` (`unwrap_or_else(|| d)`): the `match` it stands for.
            Expr::MethodCall(mc)
                if matches!(
                    mc.method.to_string().as_str(),
                    "unwrap_or" | "unwrap_or_else"
                ) && mc.args.len() == 1
                    && let Expr::MethodCall(inner) = &*mc.receiver
                    && inner.method == "map"
                    && inner.args.len() == 1
                    && is_name(&inner.receiver, name) =>
            {
                let mut mc = mc.clone();
                self.visit_expr_mut(&mut mc.args[0]);
                let Expr::MethodCall(inner) = &mut *mc.receiver else {
                    return;
                };
                self.visit_expr_mut(&mut inner.args[0]);
                let d = if mc.method == "unwrap_or" {
                    Some(mc.args[0].clone())
                } else {
                    closure0(&mc.args[0]).cloned()
                };
                match (d, closure1(&inner.args[0])) {
                    (Some(d), Some((p, body))) if self.ok => {
                        Some(paren(self.branch(p, body, Some(&d))))
                    }
                    _ => {
                        self.unknown(
                            mc.method.span(),
                            "maps it with a closure and a default in a form that is not \
                             `map(|p| ..).unwrap_or(d)` or `.unwrap_or_else(|| d)`",
                        );
                        None
                    }
                }
            }
            // `while let Some(v) = cur { .. }`: `while some { let v = val; .. }`.
            Expr::While(w) if matches!(&*w.cond, Expr::Let(l) if scrutinee(&l.expr, name).is_some()) =>
            {
                let Expr::Let(l) = &*w.cond else { return };
                let lower =
                    (scrutinee(&l.expr, name) == Some(true)).then(|| quote::quote!(#some = false;));
                let Some(p) = some_pat(&l.pat).cloned() else {
                    self.unknown(
                        l.pat.span(),
                        "takes it apart with a pattern other than `Some(p)`",
                    );
                    return;
                };
                if binds(&p, name) {
                    self.unknown(l.pat.span(), "binds its name again in `while let`");
                    return;
                }
                self.visit_block_mut(&mut w.body);
                let (label, body) = (&w.label, &w.body);
                Some(syn::parse_quote!(#label while #some { #lower let #p = #val; #body }))
            }
            // Any other mention: a read the rewrite does not know.
            Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name) => {
                self.unknown(
                    p.span(),
                    "reads it as a whole `Option` (passed on, copied or compared)",
                );
                None
            }
            Expr::Closure(c) if mentions(&quote::quote!(#c), name) => {
                self.unknown(c.span(), "names it inside a closure");
                None
            }
            Expr::Macro(m) if mentions(&m.mac.tokens, name) => {
                self.unknown(m.mac.path.span(), "names it inside a macro");
                None
            }
            _ => {
                syn::visit_mut::visit_expr_mut(self, e);
                None
            }
        };
        if let Some(n) = new {
            *e = n;
        }
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        if let Stmt::Macro(m) = s {
            if mentions(&m.mac.tokens, self.name) {
                self.unknown(m.mac.path.span(), "names it inside a macro");
            }
        }
        // `prev.take();` (its value unused): the flag lowered. Taken apart where it is made,
        // `if let Some(p) = prev.take()`, is in `visit_expr_mut`.
        if let Stmt::Expr(e, Some(_)) = s
            && scrutinee(e, self.name) == Some(true)
        {
            let some = self.some;
            *e = syn::parse_quote!(#some = false);
            return;
        }
        syn::visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_pat_mut(&mut self, p: &mut Pat) {
        // A name bound again (`let prev = ..`, `for prev in ..`) shadows the variable.
        if binds(p, self.name) {
            self.unknown(p.span(), "binds its name again in a pattern");
            return;
        }
        // On into the guards of other `match`es' arms, which may read the variable.
        syn::visit_mut::visit_pat_mut(self, p);
    }
}

/// The tests of a chain `a && let Some(p) = v && b`, in order (parentheses are kept: `(a ||
/// b)` is one test).
pub(super) fn conjuncts(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            conjuncts(&b.left, out);
            conjuncts(&b.right, out);
        }
        e => out.push(e.clone()),
    }
}

/// `a && b && ..` of tests [`conjuncts`] split.
/// `b₁ && .. && some`: the tests of a chain before its `let`, then the flag.
fn then_flag(before: Vec<Expr>, some: &syn::Ident) -> Expr {
    before.into_iter().rev().fold(
        syn::parse_quote!(#some),
        |acc, c| syn::parse_quote!(#c && #acc),
    )
}

fn join_and(parts: Vec<Expr>) -> Expr {
    let mut it = parts.into_iter();
    let first = it.next().expect("a chain has a test");
    it.fold(first, |acc, c| syn::parse_quote!(#acc && #c))
}

/// `(e)`: an `if` the rewrite makes in place of an operand (`best.map_or(true, |b| v > b) ||
/// ..`).
fn paren(e: Expr) -> Expr {
    syn::parse_quote!((#e))
}

/// What an `if let`, `while let` or `match` takes apart: the variable itself (`Some(false)`)
/// or what `v.take()` returns (`Some(true)`).
fn scrutinee(e: &Expr, name: &syn::Ident) -> Option<bool> {
    match e {
        Expr::Paren(p) => scrutinee(&p.expr, name),
        e if is_name(e, name) => Some(false),
        Expr::MethodCall(mc)
            if mc.method == "take" && mc.args.is_empty() && is_name(&mc.receiver, name) =>
        {
            Some(true)
        }
        _ => None,
    }
}

/// The body of `|| d`.
fn closure0(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Closure(c)
            if c.inputs.is_empty() && !super::control::Jumps::in_expr(&c.body).returns =>
        {
            Some(&c.body)
        }
        _ => None,
    }
}

/// The parameter and the body of `|p| e`, which the rewrite writes as `let p = val; e` where
/// there is a value (a closure with a `return`, which would leave the function there, is not).
fn closure1(e: &Expr) -> Option<(&Pat, &Expr)> {
    match e {
        Expr::Closure(c)
            if c.inputs.len() == 1 && !super::control::Jumps::in_expr(&c.body).returns =>
        {
            Some((&c.inputs[0], &c.body))
        }
        _ => None,
    }
}

/// Whether the pattern binds `name`.
fn binds(p: &Pat, name: &syn::Ident) -> bool {
    let mut ids = Vec::new();
    super::syntax::collect_pat_bindings(p, &mut ids);
    ids.iter().any(|i| i == name)
}

/// Whether the tokens mention `name`.
fn mentions(tokens: &proc_macro2::TokenStream, name: &syn::Ident) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *name,
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), name),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(body: syn::Block) -> String {
        let mut stmts = body.stmts;
        option_lets(&mut stmts);
        let b = syn::Block {
            brace_token: Default::default(),
            stmts,
        };
        quote::quote!(#b).to_string()
    }

    #[test]
    fn a_previous_value_becomes_a_flag_and_a_float() {
        let s = rewritten(syn::parse_quote!({
            let mut prev: Option<f64> = None;
            for &x in xs {
                if let Some(p) = prev {
                    t += x - p;
                }
                prev = Some(x);
            }
        }));
        assert!(s.contains("__ad_opt_prev_some"), "{s}");
        assert!(s.contains("let p = __ad_opt_prev_val"), "{s}");
        assert!(!s.contains("Some"), "{s}");
    }

    #[test]
    fn match_is_some_and_unwrap_or_are_rewritten() {
        let s = rewritten(syn::parse_quote!({
            let mut best: Option<f32> = Some(x);
            best = None;
            let a = match best {
                None => 0.0,
                Some(b) => b * 2.0,
            };
            let c = best.is_some() && !best.is_none();
            let d = best.unwrap_or(1.0);
        }));
        assert!(!s.contains("Some") && !s.contains("None"), "{s}");
        assert!(s.contains("__ad_opt_best_some = false"), "{s}");
    }

    #[test]
    fn unwrap_the_methods_given_a_closure_and_while_let_are_rewritten() {
        let s = rewritten(syn::parse_quote!({
            let mut best: Option<f64> = None;
            for &v in xs {
                if best.is_none() || v > best.unwrap() {
                    best = Some(v);
                }
                if best.map_or(true, |b| v > b) || best.is_some_and(|b| b < 0.0) {
                    t += best.expect("set");
                }
                t += best.map(|b| b * b).unwrap_or_else(|| 1.0) + best.unwrap_or_default();
            }
            while let Some(b) = best {
                best = if b > 1.0 { Some(b / 2.0) } else { None };
            }
        }));
        assert!(
            !s.contains("Some (") && !s.contains("= None") && !s.contains("Option <"),
            "{s}"
        );
        assert!(s.contains("while __ad_opt_best_some"), "{s}");
        assert!(s.contains("let b = __ad_opt_best_val"), "{s}");
    }

    #[test]
    fn take_lowers_the_flag_where_the_value_is_taken() {
        let s = rewritten(syn::parse_quote!({
            let mut pending: Option<f64> = None;
            for &v in xs {
                if let Some(p) = pending.take() {
                    t += p * v;
                }
                match pending.take() {
                    Some(p) => t += p,
                    None => {}
                }
                pending.take();
                pending = Some(v);
            }
        }));
        assert!(!s.contains("take") && !s.contains("Some ("), "{s}");
        assert!(
            s.contains(
                "if __ad_opt_pending_some { __ad_opt_pending_some = false ; let p = __ad_opt_pending_val"
            ),
            "{s}"
        );
    }

    #[test]
    fn a_guard_of_another_match_is_rewritten_too() {
        let s = rewritten(syn::parse_quote!({
            let mut p: Option<f64> = None;
            let y = match k {
                0 if p.is_some() => 1.0,
                _ => 0.0,
            };
        }));
        assert!(s.contains("if __ad_opt_p_some"), "{s}");
    }

    #[test]
    fn a_let_binding_the_name_again_ends_the_variable() {
        // The initializer reads the `Option`; what follows reads the float.
        let s = rewritten(syn::parse_quote!({
            let mut best: Option<f64> = None;
            for &v in xs {
                if best.map_or(true, |b| v > b) {
                    best = Some(v);
                }
            }
            let best = best.unwrap_or(0.0);
            t += best.sqrt();
        }));
        assert!(!s.contains("Some (") && !s.contains("Option <"), "{s}");
        assert!(
            s.contains("let best = (if __ad_opt_best_some { __ad_opt_best_val } else { 0.0 })"),
            "{s}"
        );
        assert!(s.contains("t += best . sqrt ()"), "{s}");
        // A second search under the same name is rewritten on its own; in an inner block, the
        // variable is the `Option` again after the block.
        let s = rewritten(syn::parse_quote!({
            let mut best: Option<f64> = None;
            for &v in xs {
                {
                    let best = 2.0 * v;
                    t += best;
                }
                if best.map_or(true, |b| v > b) {
                    best = Some(v);
                }
            }
            t += best.unwrap_or(0.0);
            let mut best: Option<f64> = None;
            for &v in ys {
                if best.map_or(true, |b| v < b) {
                    best = Some(v);
                }
            }
            t += best.unwrap_or(0.0);
        }));
        assert!(!s.contains("Some (") && !s.contains("Option <"), "{s}");
        assert!(s.contains("let best = 2.0 * v ; t += best ;"), "{s}");
        assert_eq!(
            s.matches("let mut __ad_opt_best_some = false").count(),
            2,
            "{s}"
        );
    }

    #[test]
    fn an_unknown_use_leaves_the_declaration_as_written() {
        for body in [
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                p = Some(1.0);
                g(p);
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                let q = p.map(|v| v * 2.0);
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                let q = p.map_or(0.0, |v| return v);
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                let f = |a: f64| p;
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                println!("{:?}", p);
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                for p in xs {}
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                let p = p;
            }),
            syn::parse_quote!({
                let mut p: Option<usize> = None;
                if let Some(i) = p {}
            }),
            syn::parse_quote!({
                let mut p: Option<T> = None;
                if let Some(i) = p {}
            }),
            syn::parse_quote!({
                let mut p: Option<f64> = None;
                let y = match k {
                    0 if p.take().is_some() => 1.0,
                    _ => 0.0,
                };
            }),
        ] {
            let s = rewritten(body);
            assert!(!s.contains("__ad_opt"), "{s}");
        }
    }
}
