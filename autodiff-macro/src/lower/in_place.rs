//! In-place methods written as what they stand for, in forms the derivative follows.
//!
//! Writes into a range of a container are index loops:
//! - `v[a..b].fill(c);` is `{ let t = c; for i in a..b { v[i] = t.clone(); } }`;
//! - `v[a..b].copy_from_slice(&w[c..d]);` (also `clone_from_slice`, and a whole `&w` or `w`) is
//!   a loop of element writes `v[a + k] = w[c + k]`, after the length check the method makes;
//! - `v[a..b].iter_mut()` is `v.iter_mut().skip(a).take(b - a)`;
//! - `v.copy_within(a..b, d);` copies the range into a local `Vec`, then writes it element by
//!   element from `d`;
//! - `v[a..b].reverse()` (also `sort_by`, `sort_by_key`, their `unstable` forms, `rotate_left`,
//!   `rotate_right` and `swap`) reorders a copy of the range, a local `Vec`, and writes it back
//!   element by element.
//!
//! `v` is a variable or a field of one (`self.buf`); the bounds are evaluated once, in order,
//! and an open end is the container's length, as in the slice it replaces.
//!
//! `v.retain(p);` of a local `Vec` is `v = v.into_iter().filter(p).collect::<Vec<_>>();`: the
//! predicate sees each element by reference in both, and the kept elements are followed as a
//! filtered chain's are.

use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

/// One past the last position of a range, `None` for an open end (`a..`).
fn end_of(r: &syn::ExprRange) -> Option<Expr> {
    let end = r.end.as_deref()?;
    Some(match r.limits {
        syn::RangeLimits::HalfOpen(_) => end.clone(),
        syn::RangeLimits::Closed(_) => syn::parse_quote!((#end) + 1),
    })
}

/// A range index of a place (`v[a..b]`): the place, its range, and the first and one-past-last
/// positions as expressions (`None` for an open start; an open end is `v.len()`).
fn range_of(e: &Expr) -> Option<(&Expr, &syn::ExprRange, Option<Expr>, Expr)> {
    let Expr::Index(ix) = e else {
        return None;
    };
    let Expr::Range(r) = &*ix.index else {
        return None;
    };
    if !place(&ix.expr) {
        return None;
    }
    let base = &*ix.expr;
    let hi = end_of(r).unwrap_or_else(|| syn::parse_quote!(#base.len()));
    Some((base, r, r.start.as_deref().cloned(), hi))
}

/// A field or an element of a variable that is not a `&mut` parameter (`s.v`,
/// `self.inner.w`, `rows[i]`, `s.rows[1]`, the positions variables or literals, so that
/// reading the place again reads the same one): the fields of a parameter taken by reference
/// cannot be assigned, which the error for them says.
pub(super) fn local_part(e: &Expr, mut_refs: &[String]) -> bool {
    let mut root = e;
    let mut parts = 0;
    loop {
        root = match root {
            Expr::Field(f) => &f.base,
            Expr::Index(ix) if matches!(&*ix.index, Expr::Lit(_) | Expr::Path(_)) => &ix.expr,
            Expr::Paren(p) => {
                root = &p.expr;
                continue;
            }
            _ => break,
        };
        parts += 1;
    }
    parts > 0 && local_var(root, mut_refs).is_some()
}

/// A variable or a field of one.
pub(super) fn place(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.qself.is_none() && p.path.get_ident().is_some(),
        Expr::Field(f) => place(&f.base),
        Expr::Paren(p) => place(&p.expr),
        _ => false,
    }
}

/// A statement that calls one of the in-place methods above, written as what it stands for;
/// `None` for any other statement.
pub(super) fn in_place_statement(stmt: &Stmt, mut_refs: &[String]) -> Option<Stmt> {
    retain(stmt, mut_refs)
        .or_else(|| range_statement(stmt, mut_refs))
        .or_else(|| extend_listed(stmt))
        .or_else(|| clone_from(stmt))
        .or_else(|| scaled_add(stmt, mut_refs))
        .or_else(|| copy_within(stmt))
}

/// `v.copy_within(a..b, d);` of a variable or a field of one (a `Vec`, a slice or an array):
/// the range copied into a local `Vec` first (`copy_within` reads the source before it writes,
/// the two may overlap), then written element by element from `d`, after the bounds check the
/// method makes. An open start is 0 and an open end the container's length.
fn copy_within(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(_)) = stmt else {
        return None;
    };
    if mc.method != "copy_within" || mc.args.len() != 2 || !place(&mc.receiver) {
        return None;
    }
    let Expr::Range(r) = &mc.args[0] else {
        return None;
    };
    let v = &*mc.receiver;
    let lo: Expr = r
        .start
        .as_deref()
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(0));
    let hi = end_of(r).unwrap_or_else(|| syn::parse_quote!(#v.len()));
    let dest = &mc.args[1];
    let span = mc.method.span();
    Some(Stmt::Expr(
        syn::parse_quote_spanned! {span=> {
            let __ad_range_lo: usize = #lo;
            let __ad_range_hi: usize = #hi;
            let __ad_dest: usize = #dest;
            assert!(
                __ad_range_lo <= __ad_range_hi
                    && __ad_range_hi <= #v.len()
                    && __ad_dest <= #v.len() - (__ad_range_hi - __ad_range_lo),
                "`copy_within`: range or destination out of bounds"
            );
            let __ad_part = #v[__ad_range_lo..__ad_range_hi].to_vec();
            for __ad_k in 0..__ad_range_hi - __ad_range_lo {
                #v[__ad_dest + __ad_k] = __ad_part[__ad_k].clone();
            }
        }},
        None,
    ))
}

/// `a.scaled_add(alpha, &b);` of a local array (or a field of one) as `a = &a + &(&b * alpha);`,
/// and of a region of one, `a.slice_mut(s![..]).scaled_add(alpha, &b);` (`row_mut(i)`,
/// `column_mut(j)`), as `a.slice_mut(s![..]).assign(&(&a.slice(s![..]) + &(&b * alpha)));`:
/// arithmetic and a region's assignment, which the derivative follows (`b` broadcast to `a`'s
/// shape as `scaled_add` broadcasts it).
fn scaled_add(stmt: &Stmt, mut_refs: &[String]) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(semi)) = stmt else {
        return None;
    };
    if mc.method != "scaled_add" || mc.args.len() != 2 {
        return None;
    }
    let (alpha, b) = (&mc.args[0], &mc.args[1]);
    let b = match b {
        Expr::Reference(r) if r.mutability.is_none() => &*r.expr,
        b => b,
    };
    let span = mc.method.span();
    let step: Expr = syn::parse_quote_spanned!(span=> &(#b) * (#alpha));
    let e: Expr = match &*mc.receiver {
        Expr::MethodCall(region) => {
            let read = super::region::read_view(region, false)?;
            let base = &*region.receiver;
            if local_var(base, mut_refs).is_none() && !local_part(base, mut_refs) {
                return None;
            }
            syn::parse_quote_spanned! {span=>
                #region.assign(&(&#read + &(#step)))
            }
        }
        a if local_var(a, mut_refs).is_some() || local_part(a, mut_refs) => {
            syn::parse_quote_spanned! {span=> #a = &#a + &(#step) }
        }
        _ => return None,
    };
    Some(Stmt::Expr(e, Some(*semi)))
}

/// `v.clone_from(&w);` of a variable or a field: `v = w.clone();`, which it stands for (it may
/// reuse `v`'s allocation, which is no part of the value).
fn clone_from(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(semi)) = stmt else {
        return None;
    };
    let Some(Expr::Reference(r)) = mc.args.first() else {
        return None;
    };
    if mc.method != "clone_from" || mc.args.len() != 1 || r.mutability.is_some() {
        return None;
    }
    if !place(&mc.receiver) {
        return None;
    }
    let (v, w, span) = (&mc.receiver, &r.expr, mc.method.span());
    Some(Stmt::Expr(
        syn::parse_quote_spanned! {span=> #v = (#w).clone() },
        Some(*semi),
    ))
}

/// `v.extend([a, b]);` (`vec![a, b]`, `extend_from_slice(&[a, b])`) with the elements listed:
/// one `push` each, in order, which the derivative follows for elements of every type (a
/// `Vec` of structs too).
fn extend_listed(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(_)) = stmt else {
        return None;
    };
    if mc.args.len() != 1 || !place(&mc.receiver) {
        return None;
    }
    let v = &*mc.receiver;
    let span = mc.method.span();
    let moved = |w: &Expr| -> Option<Stmt> {
        Some(Stmt::Expr(
            syn::parse_quote_spanned! {span=> {
                let __ad_appended = #w.split_off(0);
                for __ad_e in __ad_appended {
                    #v.push(__ad_e);
                }
            }},
            None,
        ))
    };
    let arg = match (mc.method.to_string().as_str(), &mc.args[0]) {
        // `v.append(&mut w)` (`v.extend(w.drain(..))`) of a local `w`: its elements move over
        // and it is left empty.
        ("append", Expr::Reference(r)) if r.mutability.is_some() && place(&r.expr) => {
            return moved(&r.expr);
        }
        ("extend", Expr::MethodCall(d))
            if d.method == "drain"
                && place(&d.receiver)
                && matches!(d.args.first(), Some(Expr::Range(r))
                    if d.args.len() == 1 && r.start.is_none() && r.end.is_none()) =>
        {
            return moved(&d.receiver);
        }
        ("extend", a) => a,
        ("extend_from_slice", Expr::Reference(r)) if r.mutability.is_none() => &*r.expr,
        _ => return None,
    };
    let elems: Vec<Expr> = match arg {
        Expr::Array(a) => a.elems.iter().cloned().collect(),
        Expr::Macro(m) if m.mac.path.is_ident("vec") => {
            let tokens = &m.mac.tokens;
            let arr: syn::ExprArray = syn::parse2(quote::quote!([#tokens])).ok()?;
            arr.elems.into_iter().collect()
        }
        _ => return None,
    };
    let pushes = elems.iter().map(|e| -> Stmt {
        syn::parse_quote_spanned! {span=> #v.push(#e); }
    });
    Some(Stmt::Expr(syn::parse_quote!({ #(#pushes)* }), None))
}

/// `mem::replace(&mut v, e)` (`std::mem::`, `core::mem::`) of a local variable `v`, or of a
/// field or an element of one (`&mut s.w`, `&mut v[i]`, also `mem::take` of one): the old value read (`v`, a copy of
/// the field or element), the place, and the value it is left with, `e`. `e` cannot borrow the
/// place while the call holds it, so it may be evaluated after the place is read.
fn mem_replace(e: &Expr, mut_refs: &[String]) -> Option<(Expr, Expr, Expr)> {
    if let Some((v, mut args)) = mem_call(e, "replace", mut_refs) {
        let v: Expr = syn::parse_quote!(#v);
        return Some((v.clone(), v, args.nth(1)?.clone()));
    }
    // A field or an element of a local (`mem::replace(&mut v[i], e)`, `&mut s.w`): its copy,
    // then the assignment. `mem::take(&mut v[i])` is the replacement by the default, whose
    // type rustc infers from the place.
    let (call, with) = match path_call(e, "mem", "replace").filter(|c| c.args.len() == 2) {
        Some(call) => (call, call.args[1].clone()),
        None => {
            let call = path_call(e, "mem", "take").filter(|c| c.args.len() == 1)?;
            // Not a field of a tuple: the lowering keeps a tuple's fields as variables of
            // their own, where the default's type would be left to infer.
            if let Some(Expr::Reference(r)) = call.args.first()
                && let Expr::Field(f) = super::chain::strip(&r.expr)
                && matches!(f.member, syn::Member::Unnamed(_))
            {
                return None;
            }
            let default: Expr =
                syn::parse_quote_spanned!(call.span()=> ::core::default::Default::default());
            (call, default)
        }
    };
    let Expr::Reference(r) = &call.args[0] else {
        return None;
    };
    r.mutability?;
    if !local_part(&r.expr, mut_refs) {
        return None;
    }
    let place = &*r.expr;
    Some((syn::parse_quote!(#place.clone()), place.clone(), with))
}

/// `e` if it is a call of the function `module::name` (`mem::replace(..)`, `std::mem::take`,
/// `std::array::from_fn`), by a path of two segments or more ending so.
fn path_call<'a>(e: &'a Expr, module: &str, name: &str) -> Option<&'a syn::ExprCall> {
    let Expr::Call(call) = e else {
        return None;
    };
    let Expr::Path(f) = &*call.func else {
        return None;
    };
    let segs = &f.path.segments;
    let n = segs.len();
    (n >= 2 && segs[n - 2].ident == module && segs[n - 1].ident == name).then_some(call)
}

/// A call `mem::name(&mut v, ..)` (`std::mem::`, `core::mem::`) of a local variable `v`: `v`
/// and the call's arguments.
fn mem_call<'a>(
    e: &'a Expr,
    name: &str,
    mut_refs: &[String],
) -> Option<(&'a syn::Ident, syn::punctuated::Iter<'a, Expr>)> {
    let call = path_call(e, "mem", name)?;
    let Some(Expr::Reference(r)) = call.args.first() else {
        return None;
    };
    r.mutability?;
    Some((local_var(&r.expr, mut_refs)?, call.args.iter()))
}

/// The `&mut` parameters that no `let` of the body declares again: a `let mut s = s.clone();`
/// (what the error for a field of a parameter taken by reference says to write) makes `s` a
/// local, whose fields and rows the statements above change as a variable's.
pub(super) fn unshadowed(block: &syn::Block, mut_refs: &[String]) -> Vec<String> {
    struct Lets(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Lets {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            let pat = match &l.pat {
                syn::Pat::Type(pt) => &*pt.pat,
                p => p,
            };
            if let syn::Pat::Ident(pi) = pat {
                self.0.push(pi.ident.to_string());
            }
            syn::visit::visit_local(self, l);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut lets = Lets(Vec::new());
    syn::visit::Visit::visit_block(&mut lets, block);
    mut_refs
        .iter()
        .filter(|m| !lets.0.contains(m))
        .cloned()
        .collect()
}

/// `let t = mem::replace(&mut v, e);` (`t = ..;`, or the call alone) as `let t = v; v = e;`:
/// the value moves out and the variable gets a new one, which the derivative follows as
/// assignments. Where `e` or the place reads the name the statement binds or assigns (`t =
/// mem::replace(&mut v[i], t * 2.0);`, a value shifted along a row; `j = mem::replace(&mut
/// next[j], k);`, a cycle of a permutation followed), the old value is taken and the place
/// written first, `let old = v[i].clone(); v[i] = e; t = old;`: after `t = ..` they would read
/// the new `t`.
pub(super) fn replace_lets(stmts: Vec<Stmt>, mut_refs: &[String]) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(stmts.len());
    for s in stmts {
        let found = match &s {
            Stmt::Local(l) => l
                .init
                .as_ref()
                .filter(|i| i.diverge.is_none())
                .and_then(|i| mem_replace(&i.expr, mut_refs)),
            Stmt::Expr(Expr::Assign(a), Some(_)) => mem_replace(&a.right, mut_refs),
            Stmt::Expr(e, Some(_)) => mem_replace(e, mut_refs),
            _ => None,
        };
        let Some((v, place, rest)) = found else {
            out.push(s);
            continue;
        };
        let target: Vec<String> = match &s {
            Stmt::Local(l) => super::syntax::pattern_idents(&l.pat)
                .iter()
                .map(ToString::to_string)
                .collect(),
            Stmt::Expr(Expr::Assign(a), _) => match &*a.left {
                Expr::Path(p) => p
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        // The old value taken first and bound last where the new value or the place reads the
        // name bound or assigned: both must see its value from before the statement.
        let old_first =
            !target.is_empty() && (reads_any(&rest, &target) || reads_any(&place, &target));
        let (v, rest): (Expr, Expr) = if old_first {
            out.push(syn::parse_quote!(let __ad_replaced = #v;));
            out.push(syn::parse_quote!(#place = #rest;));
            (syn::parse_quote!(__ad_replaced), rest)
        } else {
            (v, rest)
        };
        match s {
            Stmt::Local(mut l) => {
                if let Some(i) = l.init.as_mut() {
                    *i.expr = syn::parse_quote!(#v);
                }
                out.push(Stmt::Local(l));
            }
            Stmt::Expr(Expr::Assign(mut a), semi) => {
                *a.right = syn::parse_quote!(#v);
                out.push(Stmt::Expr(Expr::Assign(a), semi));
            }
            _ => {}
        }
        if !old_first {
            out.push(syn::parse_quote!(#place = #rest;));
        }
    }
    out
}

/// Whether `e` names one of `names` anywhere in it.
fn reads_any(e: &Expr, names: &[String]) -> bool {
    fn walk(ts: proc_macro2::TokenStream, names: &[String]) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(id) => names.iter().any(|n| id == n),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), names),
            _ => false,
        })
    }
    walk(quote::quote!(#e), names)
}

/// `e` naming a local variable (not a `&mut` parameter, which is a reference).
fn local_var<'a>(e: &'a Expr, mut_refs: &[String]) -> Option<&'a syn::Ident> {
    let Expr::Path(p) = e else {
        return None;
    };
    let v = p.path.get_ident()?;
    (p.qself.is_none() && !mut_refs.iter().any(|m| v == m)).then_some(v)
}

/// `v.retain(p);` of a local variable `v`.
fn retain(stmt: &Stmt, mut_refs: &[String]) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(semi)) = stmt else {
        return None;
    };
    if mc.method != "retain" || mc.args.len() != 1 {
        return None;
    }
    let pred = &mc.args[0];
    let e: Expr = match local_var(&mc.receiver, mut_refs) {
        Some(v) => syn::parse_quote_spanned! {mc.method.span()=>
            #v = #v.into_iter().filter(#pred).collect::<::std::vec::Vec<_>>()
        },
        // A field of a variable (`s.items.retain(..)`): its copy, filtered, assigned back.
        None if matches!(&*mc.receiver, Expr::Field(_)) && local_part(&mc.receiver, mut_refs) => {
            let v = &*mc.receiver;
            syn::parse_quote_spanned! {mc.method.span()=>
                #v = #v.clone().into_iter().filter(#pred).collect::<::std::vec::Vec<_>>()
            }
        }
        None => return None,
    };
    Some(Stmt::Expr(e, Some(*semi)))
}

/// `v[a..b].fill(c);`, `v[a..b].copy_from_slice(src);` (`clone_from_slice`) as a block of index
/// writes; `None` where the source is not a place or a range of one (the method's own error
/// then stands).
fn range_statement(stmt: &Stmt, mut_refs: &[String]) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(_)) = stmt else {
        return None;
    };
    let (base, lo, hi) = match range_of(&mc.receiver) {
        Some((base, _, lo, hi)) => (base, lo, hi),
        // A field or a row sorted by a closure (`s.v.sort_by(..)`, `self.w.sort_by_key(..)`,
        // `rows[i].sort_by(..)`) as its whole range, which the lowering of the sorts on a
        // variable does not take: the other reorderings and mutations of a field or a row are
        // followed as they are.
        None if local_part(&mc.receiver, mut_refs)
            && mc.method.to_string().starts_with("sort_") =>
        {
            let base = &*mc.receiver;
            (base, None, syn::parse_quote!(#base.len()))
        }
        None => return None,
    };
    let lo = lo.unwrap_or_else(|| syn::parse_quote!(0));
    let span = mc.method.span();
    let name = mc.method.to_string();
    if REORDER.contains(&name.as_str()) {
        let (method, args) = (&mc.method, &mc.args);
        return Some(Stmt::Expr(
            syn::parse_quote_spanned! {span=> {
                let __ad_range_lo: usize = #lo;
                let __ad_range_hi: usize = #hi;
                let mut __ad_part = #base[__ad_range_lo..__ad_range_hi].to_vec();
                __ad_part.#method(#args);
                for __ad_k in 0..__ad_range_hi - __ad_range_lo {
                    #base[__ad_range_lo + __ad_k] = __ad_part[__ad_k].clone();
                }
            }},
            None,
        ));
    }
    if mc.args.len() != 1 {
        return None;
    }
    let arg = &mc.args[0];
    let block: Expr = match name.as_str() {
        "fill" => syn::parse_quote_spanned! {span=> {
            let __ad_range_lo: usize = #lo;
            let __ad_range_hi: usize = #hi;
            let __ad_fill = #arg;
            for __ad_i in __ad_range_lo..__ad_range_hi {
                #base[__ad_i] = __ad_fill.clone();
            }
        }},
        "copy_from_slice" | "clone_from_slice" => {
            let src = match arg {
                Expr::Reference(r) if r.mutability.is_none() => &*r.expr,
                e => e,
            };
            let (from, from_lo, from_hi) = match range_of(src) {
                Some((b, _, l, h)) => (b, l.unwrap_or_else(|| syn::parse_quote!(0)), h),
                None if place(src) => (src, syn::parse_quote!(0), syn::parse_quote!(#src.len())),
                None => return None,
            };
            let method = &mc.method;
            syn::parse_quote_spanned! {span=> {
                let __ad_range_lo: usize = #lo;
                let __ad_range_hi: usize = #hi;
                let __ad_from_lo: usize = #from_lo;
                let __ad_from_hi: usize = #from_hi;
                assert_eq!(
                    __ad_range_hi - __ad_range_lo,
                    __ad_from_hi - __ad_from_lo,
                    "`{}`: source slice length does not match destination slice length",
                    stringify!(#method)
                );
                for __ad_k in 0..__ad_range_hi - __ad_range_lo {
                    #base[__ad_range_lo + __ad_k] = #from[__ad_from_lo + __ad_k].clone();
                }
            }}
        }
        _ => return None,
    };
    Some(Stmt::Expr(block, None))
}

/// Methods that reorder the elements of a range in place: on a copy of the range, which is a
/// local `Vec` whose reordering the derivative follows, written back element by element.
const REORDER: &[&str] = &[
    "reverse",
    "sort_by",
    "sort_by_key",
    "sort_unstable_by",
    "sort_unstable_by_key",
    "sort_by_cached_key",
    "rotate_left",
    "rotate_right",
    "swap",
];

/// `v[a..b].iter_mut()` as `v.iter_mut().skip(a).take(b - a)` (`v[a..]`: no `take`; `v[..b]`:
/// no `skip`), which the loops over `iter_mut()` follow.
pub(super) fn range_iter_mut(e: &mut Expr) {
    let Expr::MethodCall(mc) = e else {
        return;
    };
    if mc.method != "iter_mut" || !mc.args.is_empty() {
        return;
    }
    let Some((base, r, lo, _)) = range_of(&mc.receiver) else {
        return;
    };
    let mut out: Expr = syn::parse_quote_spanned! {mc.method.span()=> #base.iter_mut() };
    if let Some(lo) = &lo {
        out = syn::parse_quote!(#out.skip(#lo));
    }
    if let Some(hi) = end_of(r) {
        out = match &lo {
            Some(lo) => syn::parse_quote!(#out.take((#hi) - (#lo))),
            None => syn::parse_quote!(#out.take(#hi)),
        };
    }
    *e = out;
}

/// `v.last_mut()`, `v.first_mut()`, `v.get_mut(i)` of a variable or a field of one.
struct ElementRef<'a> {
    /// The container, `v`.
    v: &'a Expr,
    /// That the element is there (`!v.is_empty()`).
    test: Expr,
    /// Its position (`v.len() - 1`).
    at: Expr,
    /// `unwrap` or `expect` where the call is unwrapped at once (`v.last_mut().unwrap()`).
    unwrapped: Option<String>,
}

fn element_ref(e: &Expr) -> Option<ElementRef<'_>> {
    let (e, unwrapped) = match e {
        Expr::MethodCall(mc)
            if (mc.method == "unwrap" && mc.args.is_empty()) || mc.method == "expect" =>
        {
            (&*mc.receiver, Some(mc.method.to_string()))
        }
        e => (e, None),
    };
    let Expr::MethodCall(mc) = e else {
        return None;
    };
    let v = &*mc.receiver;
    if !place(v) {
        return None;
    }
    let (test, at) = match (mc.method.to_string().as_str(), mc.args.len()) {
        ("last_mut", 0) => (
            syn::parse_quote!(!#v.is_empty()),
            syn::parse_quote!(#v.len() - 1),
        ),
        ("first_mut", 0) => (syn::parse_quote!(!#v.is_empty()), syn::parse_quote!(0)),
        ("get_mut", 1) => {
            let i = &mc.args[0];
            if !matches!(i, Expr::Path(_) | Expr::Lit(_)) {
                return None;
            }
            (syn::parse_quote!(#i < #v.len()), i.clone())
        }
        _ => return None,
    };
    Some(ElementRef {
        v,
        test,
        at,
        unwrapped,
    })
}

/// `&mut v[i]` of a variable (or a field of one) and an index that is not a range (a part of
/// it) nor a tuple: the container and the index (an array of indices, `[i, j]`, for an
/// ndarray position).
fn indexed_ref(e: &Expr) -> Option<(&Expr, &Expr)> {
    let Expr::Reference(r) = e else {
        return None;
    };
    r.mutability?;
    let Expr::Index(ix) = &*r.expr else {
        return None;
    };
    if !place(&ix.expr) || matches!(&*ix.index, Expr::Range(_) | Expr::Tuple(_)) {
        return None;
    }
    if matches!(&*ix.index, Expr::Array(a) if a.elems.is_empty()) {
        return None;
    }
    Some((&ix.expr, &ix.index))
}

/// The element an `&mut` reference names, `v[at]`, for the reference's name in `stmts`: `*r`
/// and `r` alike, up to a `let` that binds the name again, and not inside closures or `for`
/// loops that bind it. `false` (nothing changed) where another pattern in them (a `match` arm,
/// an inner `let`) binds it or a macro names it.
pub(super) fn name_element(stmts: &mut [Stmt], name: &syn::Ident, element: &Expr) -> bool {
    fn binds(p: &syn::Pat, name: &syn::Ident) -> bool {
        struct B<'a>(&'a syn::Ident, bool);
        impl<'ast> syn::visit::Visit<'ast> for B<'_> {
            fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
                self.1 |= p.ident == *self.0;
                syn::visit::visit_pat_ident(self, p);
            }
        }
        let mut b = B(name, false);
        syn::visit::Visit::visit_pat(&mut b, p);
        b.1
    }
    /// A pattern binding the name other than a closure's or a `for` loop's, or a macro naming
    /// it (its tokens are not rewritten: the reference would be gone there).
    struct Binds<'a>(&'a syn::Ident, bool);
    impl<'ast> syn::visit::Visit<'ast> for Binds<'_> {
        fn visit_pat(&mut self, p: &'ast syn::Pat) {
            self.1 |= binds(p, self.0);
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            // A macro of expressions (`assert!(e.is_finite())`, `println!("{}", *e)`) is
            // rewritten with them; one naming it otherwise (`{e}` in a format string) is not.
            let named = super::syntax::idents_of(&m.tokens)
                .iter()
                .any(|n| self.0 == n);
            if !named {
                return;
            }
            match macro_exprs(m) {
                // Also the macros inside (`assert!(matches!(*e, ..))`).
                Some(exprs) if !in_format_string(m, self.0) => {
                    exprs.iter().for_each(|e| self.visit_expr(e))
                }
                _ => self.1 = true,
            }
        }
        fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
            if !c.inputs.iter().any(|p| binds(p, self.0)) {
                syn::visit::visit_expr_closure(self, c);
            }
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            self.visit_expr(&f.expr);
            if !binds(&f.pat, self.0) {
                self.visit_block(&f.body);
            }
        }
    }
    struct Name<'a>(&'a syn::Ident, &'a Expr);
    impl VisitMut for Name<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            let is_name = |e: &Expr| matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.0));
            let named = match &*e {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => is_name(&u.expr),
                e => is_name(e),
            };
            match e {
                _ if named => *e = self.1.clone(),
                Expr::Closure(c) if c.inputs.iter().any(|p| binds(p, self.0)) => {}
                Expr::ForLoop(f) if binds(&f.pat, self.0) => self.visit_expr_mut(&mut f.expr),
                e => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
            let named = super::syntax::idents_of(&m.tokens)
                .iter()
                .any(|n| self.0 == n);
            if !named {
                return;
            }
            if let Some(mut exprs) = macro_exprs(m) {
                for e in exprs.iter_mut() {
                    self.visit_expr_mut(e);
                }
                m.tokens = quote::quote!(#exprs);
            }
        }
    }
    // Up to (and with the initializer of) a `let` that binds the name again.
    let end = stmts
        .iter()
        .position(|s| matches!(s, Stmt::Local(l) if binds(&l.pat, name)))
        .map_or(stmts.len(), |k| k + 1);
    let mut b = Binds(name, false);
    for (k, s) in stmts[..end].iter().enumerate() {
        match s {
            Stmt::Local(l) if k + 1 == end && binds(&l.pat, name) => {
                if let Some(init) = &l.init {
                    syn::visit::Visit::visit_local_init(&mut b, init);
                }
            }
            s => syn::visit::Visit::visit_stmt(&mut b, s),
        }
    }
    if b.1 {
        return false;
    }
    for (k, s) in stmts[..end].iter_mut().enumerate() {
        match s {
            Stmt::Local(l) if k + 1 == end && binds(&l.pat, name) => {
                if let Some(init) = &mut l.init {
                    Name(name, element).visit_local_init_mut(init);
                }
            }
            s => Name(name, element).visit_stmt_mut(s),
        }
    }
    true
}

/// The arguments of a macro written as expressions separated by commas (`assert!(c, "..",
/// x)`, `println!("{}", x)`), if its tokens are.
fn macro_exprs(m: &syn::Macro) -> Option<syn::punctuated::Punctuated<Expr, syn::Token![,]>> {
    m.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .ok()
}

/// Whether a string literal among a macro's tokens names `name` as an argument captured
/// inline (`"{e}"`, `"{e:.3}"`).
fn in_format_string(m: &syn::Macro, name: &syn::Ident) -> bool {
    fn walk(ts: proc_macro2::TokenStream, name: &str) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Literal(l) => {
                let s = l.to_string();
                s.contains(&format!("{{{name}}}")) || s.contains(&format!("{{{name}:"))
            }
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), name),
            _ => false,
        })
    }
    walk(m.tokens.clone(), &name.to_string())
}

/// `if let Some(r) = v.last_mut() { .. }` (`first_mut()`, `get_mut(i)`, with `else` too) as
/// `if !v.is_empty() { let at = v.len() - 1; .. v[at] .. }`, every `*r` and `r` in the block
/// the element; the element's writes are then the element writes the derivative follows.
pub(super) fn element_ref_if(e: &mut Expr, made: &mut usize) {
    let Expr::If(ei) = e else {
        return;
    };
    let Expr::Let(l) = &*ei.cond else {
        return;
    };
    let syn::Pat::TupleStruct(ts) = &*l.pat else {
        return;
    };
    let name = match ts.elems.first() {
        Some(syn::Pat::Ident(pi))
            if ts.path.is_ident("Some") && ts.elems.len() == 1 && pi.subpat.is_none() =>
        {
            pi.ident.clone()
        }
        _ => return,
    };
    let Some(ElementRef {
        v,
        test,
        at,
        unwrapped: None,
    }) = element_ref(&l.expr)
    else {
        return;
    };
    let pos = quote::format_ident!("__ad_element_at_{}", *made);
    let element: Expr = syn::parse_quote!(#v[#pos]);
    let mut body = ei.then_branch.stmts.clone();
    if !name_element(&mut body, &name, &element) {
        return;
    }
    *made += 1;
    *ei.cond = test;
    ei.then_branch.stmts = std::iter::once(syn::parse_quote!(let #pos: usize = #at;))
        .chain(body)
        .collect();
}

/// `*s.v.last_mut().unwrap() = e;` (`+=` and the other compound assignments, `first_mut`,
/// `get_mut(i)`, `.expect(..)`) where the container is a field: `let r = s.v.last_mut()
/// .unwrap(); *r = e;`, which [`element_ref_lets`] makes an element write (a variable's is one
/// already, see `cells`).
pub(super) fn field_element_writes(stmts: Vec<Stmt>, made: &mut usize) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(stmts.len());
    for s in stmts {
        let Stmt::Expr(e, Some(semi)) = &s else {
            out.push(s);
            continue;
        };
        let target = match e {
            Expr::Assign(a) => &a.left,
            Expr::Binary(b) if super::is_compound_assign(&b.op) => &b.left,
            _ => {
                out.push(s);
                continue;
            }
        };
        let through = match &**target {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &*u.expr,
            _ => {
                out.push(s);
                continue;
            }
        };
        let of_field = element_ref(through)
            .is_some_and(|r| r.unwrapped.is_some() && matches!(r.v, Expr::Field(_)));
        if !of_field {
            out.push(s);
            continue;
        }
        let name = quote::format_ident!("__ad_element_ref_{}", *made);
        *made += 1;
        let bind: Stmt = syn::parse_quote!(let #name = #through;);
        let mut write = e.clone();
        match &mut write {
            Expr::Assign(a) => *a.left = syn::parse_quote!(*#name),
            Expr::Binary(b) => *b.left = syn::parse_quote!(*#name),
            _ => unreachable!("an assignment, as matched above"),
        }
        out.push(bind);
        out.push(Stmt::Expr(write, Some(*semi)));
    }
    out
}

/// `let r = v.last_mut().unwrap();` (`first_mut`, `get_mut(i)`, `.expect(..)`) or `let r = &mut
/// v[i];` followed by statements that use `r`: the position is bound (`let at = v.len() - 1;`),
/// and `*r`, `r` in the statements after it are `v[at]` (the borrow keeps `v` from changing
/// while `r` is used, so the element is the same). A missing element panics as `unwrap` (or
/// the index) does.
pub(super) fn element_ref_lets(stmts: &mut [Stmt], made: &mut usize) {
    for k in 0..stmts.len() {
        let Stmt::Local(local) = &stmts[k] else {
            continue;
        };
        let (syn::Pat::Ident(pi), Some(init)) = (&local.pat, &local.init) else {
            continue;
        };
        if init.diverge.is_some() || pi.subpat.is_some() {
            continue;
        }
        let pos = quote::format_ident!("__ad_element_at_{}", *made);
        let (v, bound): (&Expr, Stmt) = if let Some(ElementRef {
            v,
            test,
            at,
            unwrapped: Some(method),
        }) = element_ref(&init.expr)
        {
            let msg = format!("called `Option::{method}()` on a `None` value");
            (
                v,
                syn::parse_quote! {
                    let #pos: usize = { assert!(#test, #msg); #at };
                },
            )
        } else if let Some((v, Expr::Array(ix))) = indexed_ref(&init.expr) {
            // `let c = &mut m[[i, j]];` of an ndarray array: each index as written, bound where
            // the reference was (ndarray checks them where the element is read).
            let names: Vec<syn::Ident> = (0..ix.elems.len())
                .map(|d| quote::format_ident!("__ad_element_at_{}_{d}", *made))
                .collect();
            let elems = ix.elems.iter();
            let names_ty = names.iter().map(|_| quote::quote!(usize));
            let bound: Stmt = syn::parse_quote! {
                let (#(#names,)*): (#(#names_ty,)*) = (#(#elems,)*);
            };
            let name = pi.ident.clone();
            let element: Expr = syn::parse_quote!(#v[[#(#names),*]]);
            if name_element(&mut stmts[k + 1..], &name, &element) {
                *made += 1;
                stmts[k] = bound;
            }
            continue;
        } else if let Some((v, i)) = indexed_ref(&init.expr) {
            // `let e = &mut v[i];`: the position as written, checked where the reference was.
            (
                v,
                syn::parse_quote! {
                    let #pos: usize = {
                        let #pos: usize = #i;
                        assert!(#pos < #v.len(), "index out of bounds");
                        #pos
                    };
                },
            )
        } else {
            continue;
        };
        let name = pi.ident.clone();
        let element: Expr = syn::parse_quote!(#v[#pos]);
        if name_element(&mut stmts[k + 1..], &name, &element) {
            *made += 1;
            stmts[k] = bound;
        }
    }
}

/// `let v: [T; N] = std::array::from_fn(|i| e);` (`core::array::`, `array::`) as the array of
/// zeros written element by element, `let mut v: [T; N] = [0.0; N]; for i in 0..N { v[i] = e;
/// }`, which the derivative follows: of `f64`, `f32`, a type parameter (`T::zero()`) and
/// arrays of these.
pub(super) fn array_from_fn_lets(stmts: Vec<Stmt>) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(stmts.len());
    for s in stmts {
        match array_from_fn(&s)
            .or_else(|| array_from_fn_assign(&s))
            .or_else(|| array_of_slice(&s))
        {
            Some(r) => out.extend(r),
            None => out.push(s),
        }
    }
    out
}

/// A function returning `[T; N]` whose value is `std::array::from_fn(|i| e)` (the body's tail)
/// as `let __ad_from_fn: [T; N] = std::array::from_fn(|i| e); __ad_from_fn`, which
/// [`array_from_fn_lets`] writes element by element.
pub(super) fn array_from_fn_tail(block: &mut syn::Block, ret: &syn::ReturnType) {
    let syn::ReturnType::Type(_, ty) = ret else {
        return;
    };
    if !matches!(&**ty, syn::Type::Array(_)) {
        return;
    }
    let Some(Stmt::Expr(tail, None)) = block.stmts.last() else {
        return;
    };
    let Expr::Call(c) = tail else {
        return;
    };
    let Expr::Path(f) = &*c.func else {
        return;
    };
    let segs = &f.path.segments;
    let n = segs.len();
    if n < 2 || segs[n - 1].ident != "from_fn" || segs[n - 2].ident != "array" {
        return;
    }
    let span = segs[n - 1].ident.span();
    let name = syn::Ident::new("__ad_from_fn", span);
    let tail = tail.clone();
    block.stmts.pop();
    block
        .stmts
        .push(syn::parse_quote_spanned! {span=> let #name: #ty = #tail; });
    block
        .stmts
        .push(Stmt::Expr(syn::parse_quote_spanned! {span=> #name }, None));
}

fn array_from_fn(s: &Stmt) -> Option<Vec<Stmt>> {
    let Stmt::Local(l) = s else {
        return None;
    };
    let syn::Pat::Type(pt) = &l.pat else {
        return None;
    };
    // A pattern other than a name (`let [a, b, c]: [[f64; 2]; 3] = ..`, the corners of a
    // triangle) takes the array apart after it is written, from a variable of its own.
    let (name, rest) = match &*pt.pat {
        syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
            (pi.ident.clone(), None)
        }
        syn::Pat::Ident(_) => return None,
        pat => (syn::Ident::new("__ad_from_fn_array", pat.span()), Some(pat)),
    };
    let syn::Type::Array(arr) = &*pt.ty else {
        return None;
    };
    let init = l.init.as_ref().filter(|i| i.diverge.is_none())?;
    let (i, body, span) = from_fn_closure(&init.expr)?;
    let (ty, len) = (&pt.ty, &arr.len);
    let mut out: Vec<Stmt> = match zero_of(ty) {
        Some(zero) => vec![
            syn::parse_quote_spanned! {span=> let mut #name: #ty = #zero; },
            syn::parse_quote_spanned! {span=>
                for #i in 0..#len {
                    #name[#i] = #body;
                }
            },
        ],
        // Of elements that are not floats (`let bodies: [Body; 3] = std::array::from_fn(|i|
        // Body { .. })`), with a literal length: the array literal of the closure called at
        // each position, `[f(0), f(1), f(2)]`, as an array of the struct's values is built.
        None => {
            let n = match len {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) => n
                    .base10_parse::<usize>()
                    .ok()
                    .filter(|&n| (1..=64).contains(&n))?,
                _ => return None,
            };
            let f = syn::Ident::new("__ad_from_fn_elem", span);
            let calls = (0..n).map(|k| quote::quote_spanned!(span=> #f(#k)));
            vec![syn::parse_quote_spanned! {span=>
                let mut #name: #ty = {
                    let #f = |#i: usize| #body;
                    [#(#calls),*]
                };
            }]
        }
    };
    if let Some(pat) = rest {
        out.push(syn::parse_quote_spanned! {span=> let #pat = #name; });
    }
    Some(out)
}

/// `y = std::array::from_fn(|i| e);` of an array the function already holds (a state advanced
/// by a step, `y = std::array::from_fn(|k| y[k] + h * d[k]);`, a field or an element of one)
/// as a copy of the old array written element by element and assigned back, `let mut next =
/// y; for i in 0..next.len() { next[i] = e; } y = next;`: the new array has the old one's
/// type, and `e` reads the old values, as the closure does. The place is read twice, so its
/// indices are variables and literals.
fn array_from_fn_assign(s: &Stmt) -> Option<Vec<Stmt>> {
    let Stmt::Expr(Expr::Assign(a), Some(_)) = s else {
        return None;
    };
    if !simple_place(&a.left) {
        return None;
    }
    let (i, body, span) = from_fn_closure(&a.right)?;
    let place = &a.left;
    let next = syn::Ident::new("__ad_from_fn_next", span);
    Some(vec![
        syn::parse_quote_spanned! {span=> let mut #next = #place; },
        syn::parse_quote_spanned! {span=>
            for #i in 0..#next.len() {
                #next[#i] = #body;
            }
        },
        syn::parse_quote_spanned! {span=> #place = #next; },
    ])
}

/// `std::array::from_fn(|i| body)`: the closure's parameter, its body and the span of
/// `from_fn` as written.
fn from_fn_closure(e: &Expr) -> Option<(&syn::Ident, &Expr, proc_macro2::Span)> {
    let c = path_call(e, "array", "from_fn").filter(|c| c.args.len() == 1)?;
    let Expr::Closure(cl) = &c.args[0] else {
        return None;
    };
    let [param] = &cl.inputs.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let i = match param {
        syn::Pat::Ident(p) => &p.ident,
        syn::Pat::Type(t) => match &*t.pat {
            syn::Pat::Ident(p) => &p.ident,
            _ => return None,
        },
        _ => return None,
    };
    let span = match &*c.func {
        Expr::Path(f) => f.path.segments.last().map(|l| l.ident.span()),
        _ => None,
    }
    .unwrap_or_else(|| c.func.span());
    Some((i, &cl.body, span))
}

/// A variable, a field of one or an element of one at a position that is a variable or a
/// literal (`y`, `s.pos`, `traj[k]`, `bodies[i].x`): a place that reads the same whether it is
/// read once or twice.
fn simple_place(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.qself.is_none() && p.path.get_ident().is_some(),
        Expr::Field(f) => simple_place(&f.base),
        Expr::Index(ix) => {
            simple_place(&ix.expr)
                && match &*ix.index {
                    Expr::Lit(_) => true,
                    Expr::Path(p) => p.qself.is_none() && p.path.get_ident().is_some(),
                    _ => false,
                }
        }
        Expr::Paren(p) => simple_place(&p.expr),
        _ => false,
    }
}

/// `let a: [T; N] = x[k..k + 3].try_into().unwrap();` (`.expect(..)`, `<[T; N]>::try_from(&x[..])`
/// with or without the declared type, `x` itself for the whole slice) as the array of zeros
/// written element by element, `for i in 0..N { a[i] = x[k + i]; }`, after checking the length
/// as the conversion does (it panics where the conversion's `unwrap` would).
fn array_of_slice(s: &Stmt) -> Option<Vec<Stmt>> {
    let Stmt::Local(l) = s else {
        return None;
    };
    let init = l.init.as_ref().filter(|i| i.diverge.is_none())?;
    let Expr::MethodCall(unwrap) = &*init.expr else {
        return None;
    };
    if unwrap.method != "unwrap" && unwrap.method != "expect" {
        return None;
    }
    // The slice converted, and the array type the call names, if it does.
    let (slice, named, span): (&Expr, Option<&syn::Type>, _) = match &*unwrap.receiver {
        Expr::MethodCall(mc) if mc.method == "try_into" && mc.args.is_empty() => {
            (&mc.receiver, None, mc.method.span())
        }
        Expr::Call(c) if c.args.len() == 1 => {
            let Expr::Path(f) = &*c.func else {
                return None;
            };
            let q = f.qself.as_ref()?;
            let last = f.path.segments.last()?;
            if last.ident != "try_from" || f.path.segments.len() != 1 {
                return None;
            }
            (&c.args[0], Some(&*q.ty), last.ident.span())
        }
        _ => return None,
    };
    let (pat, declared) = match &l.pat {
        syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
        p => (p, None),
    };
    let syn::Pat::Ident(pi) = pat else {
        return None;
    };
    if pi.by_ref.is_some() || pi.subpat.is_some() {
        return None;
    }
    let ty = declared.or(named)?;
    let syn::Type::Array(arr) = ty else {
        return None;
    };
    let zero = zero_of(ty)?;
    let mut slice = slice;
    while let Expr::Reference(r) = slice {
        slice = &r.expr;
    }
    while let Expr::Paren(p) = slice {
        slice = &p.expr;
    }
    let (name, len) = (&pi.ident, &arr.len);
    let i = syn::Ident::new("__ad_k", span);
    // The length of the slice, and its element `i`.
    let (n, element): (Expr, Expr) = match slice {
        Expr::Index(ix) => {
            let Expr::Range(r) = &*ix.index else {
                return None;
            };
            let base = &ix.expr;
            let start: Expr = match &r.start {
                Some(a) => syn::parse_quote!((#a)),
                None => syn::parse_quote!(0usize),
            };
            let n = match (&r.end, &r.limits) {
                (Some(b), syn::RangeLimits::HalfOpen(_)) => syn::parse_quote!((#b) - #start),
                (Some(b), syn::RangeLimits::Closed(_)) => syn::parse_quote!((#b) + 1 - #start),
                (None, _) => syn::parse_quote!(#base.len() - #start),
            };
            (n, syn::parse_quote!(#base[#start + #i]))
        }
        Expr::Path(p) if p.path.get_ident().is_some() => {
            (syn::parse_quote!(#p.len()), syn::parse_quote!(#p[#i]))
        }
        _ => return None,
    };
    Some(vec![
        syn::parse_quote_spanned! {span=> let mut #name: #ty = #zero; },
        syn::parse_quote_spanned! {span=>
            assert!(#n == #len, "a slice converted to an array has the array's length");
        },
        syn::parse_quote_spanned! {span=>
            for #i in 0..#len {
                #name[#i] = #element;
            }
        },
    ])
}

/// A zero of a float type, a type parameter or an array of them, as an expression.
fn zero_of(ty: &syn::Type) -> Option<Expr> {
    match ty {
        syn::Type::Array(a) => {
            let (z, len) = (zero_of(&a.elem)?, &a.len);
            Some(syn::parse_quote!([#z; #len]))
        }
        syn::Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?;
            match id.to_string().as_str() {
                "f64" | "f32" => Some(syn::parse_quote!(0.0)),
                n if crate::types::is_float_param(n) => Some(syn::parse_quote!(#id::zero())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `let mut v = a.slice_mut(s![..]);` (`row_mut(i)`, `column_mut(j)`) of a variable `a`, a
/// view every later statement naming `v` uses in a statement of its own as `v += e;` (`-=`,
/// `*=`, `/=`), `v.assign(e);`, `v.fill(c);` or `v.mapv_inplace(f);`: each such statement
/// is the region's own, `a.slice_mut(s![..]).assign(&(&a.slice(s![..]) + (e)));`,
/// `a.slice_mut(s![..]).assign(e);` and so on, which are followed, and the `let` is dropped.
/// While the view lives `a` is borrowed, so nothing between reads or writes `a`; the region's
/// bounds are read again at each use, so no statement between may assign a name they read.
/// Other uses of `v` (an element write, a loop over it, a call it is lent to) leave the
/// statements as written, and the view's error stands.
pub(super) fn region_view_lets(stmts: &mut Vec<Stmt>) {
    let mut k = 0;
    while k < stmts.len() {
        if let Some(out) = region_view_let(&stmts[k..]) {
            stmts.truncate(k);
            stmts.extend(out);
        }
        k += 1;
    }
}

/// The statements from a view's `let` on, rewritten (see [`region_view_lets`]).
fn region_view_let(stmts: &[Stmt]) -> Option<Vec<Stmt>> {
    let Stmt::Local(l) = stmts.first()? else {
        return None;
    };
    let syn::Pat::Ident(pi) = &l.pat else {
        return None;
    };
    if pi.by_ref.is_some() || pi.subpat.is_some() || pi.mutability.is_none() {
        return None;
    }
    let init = l.init.as_ref()?;
    if init.diverge.is_some() {
        return None;
    }
    let Expr::MethodCall(region) = &*init.expr else {
        return None;
    };
    let read = super::region::read_view(region, false)?;
    let Expr::Path(base) = &*region.receiver else {
        return None;
    };
    base.path.get_ident()?;
    let name = &pi.ident;
    let args = &region.args;
    let bounds: Vec<String> = super::syntax::idents_of(&quote::quote!(#args));
    let names = |s: &Stmt, n: &str| {
        super::syntax::idents_of(&quote::quote!(#s))
            .iter()
            .any(|x| x == n)
    };
    let mut out = Vec::with_capacity(stmts.len() - 1);
    let mut pending = Vec::new();
    let mut used = false;
    for s in &stmts[1..] {
        if !names(s, &name.to_string()) {
            pending.push(s.clone());
            continue;
        }
        // A statement between two uses that assigns a name the bounds read.
        if pending.iter().any(|p: &Stmt| {
            let assigned = assigned_names(p);
            bounds.iter().any(|b| assigned.contains(b))
        }) {
            return None;
        }
        out.append(&mut pending);
        let span = region.method.span();
        let write: Expr = match s {
            Stmt::Expr(Expr::Binary(b), Some(_)) if is_view(&b.left, name) => {
                let op = super::elementwise::arith_of_compound(&b.op)?;
                let e = &b.right;
                if names(&Stmt::Expr((**e).clone(), None), &name.to_string()) {
                    return None;
                }
                syn::parse_quote_spanned! {span=>
                    #region.assign(&(&#read #op (#e)))
                }
            }
            Stmt::Expr(Expr::MethodCall(mc), Some(_))
                if is_view(&mc.receiver, name)
                    && mc.args.len() == 1
                    && matches!(
                        mc.method.to_string().as_str(),
                        "assign" | "fill" | "mapv_inplace"
                    ) =>
            {
                let arg = &mc.args[0];
                if names(&Stmt::Expr(arg.clone(), None), &name.to_string()) {
                    return None;
                }
                let method = &mc.method;
                syn::parse_quote_spanned! {span=> #region.#method(#arg) }
            }
            _ => return None,
        };
        used = true;
        out.push(Stmt::Expr(write, Some(syn::Token![;](span))));
    }
    if !used {
        return None;
    }
    out.append(&mut pending);
    Some(out)
}

/// `v` itself (not through a field or an index).
fn is_view(e: &Expr, name: &syn::Ident) -> bool {
    matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// The variables a statement assigns (`n = ..`, `n += ..`) or lends `&mut`.
fn assigned_names(s: &Stmt) -> Vec<String> {
    struct A(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for A {
        fn visit_expr(&mut self, e: &'ast Expr) {
            let left = match e {
                Expr::Assign(a) => Some(&*a.left),
                Expr::Binary(b) if super::is_compound_assign(&b.op) => Some(&*b.left),
                Expr::Reference(r) if r.mutability.is_some() => Some(&*r.expr),
                _ => None,
            };
            if let Some(Expr::Path(p)) = left {
                if let Some(i) = p.path.get_ident() {
                    self.0.push(i.to_string());
                }
            }
            syn::visit::visit_expr(self, e);
        }
        fn visit_local(&mut self, l: &'ast syn::Local) {
            if let syn::Pat::Ident(pi) = &l.pat {
                self.0.push(pi.ident.to_string());
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut a = A(Vec::new());
    syn::visit::Visit::visit_stmt(&mut a, s);
    a.0
}
