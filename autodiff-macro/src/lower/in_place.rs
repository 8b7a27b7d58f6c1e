//! In-place methods written as what they stand for, in forms the derivative follows.
//!
//! Writes into a range of a container are index loops:
//! - `v[a..b].fill(c);` is `{ let t = c; for i in a..b { v[i] = t.clone(); } }`;
//! - `v[a..b].copy_from_slice(&w[c..d]);` (also `clone_from_slice`, and a whole `&w` or `w`) is
//!   a loop of element writes `v[a + k] = w[c + k]`, after the length check the method makes;
//! - `v[a..b].iter_mut()` is `v.iter_mut().skip(a).take(b - a)`.
//!
//! `v` is a variable or a field of one (`self.buf`); the bounds are evaluated once, in order,
//! and an open end is the container's length, as in the slice it replaces.
//!
//! `v.retain(p);` of a local `Vec` is `v = v.into_iter().filter(p).collect::<Vec<_>>();`: the
//! predicate sees each element by reference in both, and the kept elements are followed as a
//! filtered chain's are.

use syn::{Expr, Stmt};

/// A range index of a place: the place, and the first and one-past-last positions as
/// expressions (`None` for an open start).
fn range_of(e: &Expr) -> Option<(&Expr, Option<Expr>, Expr)> {
    let Expr::Index(ix) = e else {
        return None;
    };
    if !place(&ix.expr) {
        return None;
    }
    let Expr::Range(r) = &*ix.index else {
        return None;
    };
    let base = &*ix.expr;
    let lo = r.start.as_deref().cloned();
    let hi: Expr = match (&r.end, &r.limits) {
        (Some(end), syn::RangeLimits::HalfOpen(_)) => (**end).clone(),
        (Some(end), syn::RangeLimits::Closed(_)) => syn::parse_quote!((#end) + 1),
        (None, _) => syn::parse_quote!(#base.len()),
    };
    Some((base, lo, hi))
}

/// A variable or a field of one.
fn place(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.qself.is_none() && p.path.get_ident().is_some(),
        Expr::Field(f) => place(&f.base),
        Expr::Paren(p) => place(&p.expr),
        _ => false,
    }
}

/// `v[a..b].fill(c);`, `v[a..b].copy_from_slice(src);` (`clone_from_slice`) as a block of index
/// writes; `None` for any other statement, and where the source is not a place or a range of
/// one (the method's own error then stands).
pub(super) fn in_place_statement(stmt: &Stmt, mut_refs: &[String]) -> Option<Stmt> {
    retain(stmt, mut_refs).or_else(|| range_statement(stmt))
}

/// `v.retain(p);` of a local variable `v` (not a `&mut` parameter, which is a reference).
fn retain(stmt: &Stmt, mut_refs: &[String]) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(semi)) = stmt else {
        return None;
    };
    if mc.method != "retain" || mc.args.len() != 1 {
        return None;
    }
    let Expr::Path(p) = &*mc.receiver else {
        return None;
    };
    let v = p.path.get_ident()?;
    if p.qself.is_some() || mut_refs.iter().any(|m| v == m) {
        return None;
    }
    let pred = &mc.args[0];
    let e: Expr = syn::parse_quote_spanned! {mc.method.span()=>
        #v = #v.into_iter().filter(#pred).collect::<::std::vec::Vec<_>>()
    };
    Some(Stmt::Expr(e, Some(*semi)))
}

fn range_statement(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(_)) = stmt else {
        return None;
    };
    if mc.args.len() != 1 {
        return None;
    }
    let (base, lo, hi) = range_of(&mc.receiver)?;
    let lo = lo.unwrap_or_else(|| syn::parse_quote!(0));
    let arg = &mc.args[0];
    let span = mc.method.span();
    let block: Expr = match mc.method.to_string().as_str() {
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
                Some((b, l, h)) => (b, l.unwrap_or_else(|| syn::parse_quote!(0)), h),
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

/// `v[a..b].iter_mut()` as `v.iter_mut().skip(a).take(b - a)` (`v[a..]`: no `take`; `v[..b]`:
/// no `skip`), which the loops over `iter_mut()` follow.
pub(super) fn range_iter_mut(e: &mut Expr) {
    let Expr::MethodCall(mc) = e else {
        return;
    };
    if mc.method != "iter_mut" || !mc.args.is_empty() {
        return;
    }
    let Expr::Index(ix) = &*mc.receiver else {
        return;
    };
    let Expr::Range(r) = &*ix.index else {
        return;
    };
    if !place(&ix.expr) {
        return;
    }
    let base = &ix.expr;
    let mut out: Expr = syn::parse_quote_spanned! {mc.method.span()=> #base.iter_mut() };
    let lo: Option<Expr> = r.start.as_deref().cloned();
    if let Some(lo) = &lo {
        out = syn::parse_quote!(#out.skip(#lo));
    }
    if let Some(end) = &r.end {
        let hi: Expr = match &r.limits {
            syn::RangeLimits::HalfOpen(_) => (**end).clone(),
            syn::RangeLimits::Closed(_) => syn::parse_quote!((#end) + 1),
        };
        out = match &lo {
            Some(lo) => syn::parse_quote!(#out.take((#hi) - (#lo))),
            None => syn::parse_quote!(#out.take(#hi)),
        };
    }
    *e = out;
}
