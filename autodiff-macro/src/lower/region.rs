//! A region of an array overwritten: `a.row_mut(i).assign(&v)`, `a.column_mut(j).assign(&v)`
//! and `a.slice_mut(s![..]).assign(&v)` on a variable `a` become a new version of `a` from the
//! runtime's `region::assign(a.view(), s![i, ..], v.view())`, which is differentiated like any
//! call (see the runtime's `rules::tensor::region`): `a`'s gradient is the result's with the
//! region zeroed, `v`'s the region of it. On a `&mut` parameter the new array is written back
//! with `a.assign(..)`, which is followed.

use super::*;

/// The region of `a.row_mut(i)` (`s![i, ..]`), `a.column_mut(j)` (`s![.., j]`) or
/// `a.slice_mut(info)` (`info`), with `a`: `None` for another receiver.
pub(super) fn region(recv: &Expr, krate: &proc_macro2::TokenStream) -> Option<(syn::Path, Expr)> {
    let Expr::MethodCall(r) = chain::strip(recv) else {
        return None;
    };
    let Expr::Path(p) = chain::strip(&r.receiver) else {
        return None;
    };
    if p.qself.is_some() || p.path.get_ident().is_none() || r.args.len() != 1 {
        return None;
    }
    let k = &r.args[0];
    let span = r.method.span();
    let info: Expr = match r.method.to_string().as_str() {
        "row_mut" => syn::parse_quote_spanned!(span=> #krate::__private::s![#k, ..]),
        "column_mut" => syn::parse_quote_spanned!(span=> #krate::__private::s![.., #k]),
        "slice_mut" => k.clone(),
        _ => return None,
    };
    Some((p.path.clone(), info))
}

/// The view that reads what a region's mutable view writes: `a.row(i)` of `a.row_mut(i)`,
/// `a.column(j)` of `a.column_mut(j)`, `a.slice(info)` of `a.slice_mut(info)`, and with
/// `whole`, `a.view()` of `a.view_mut()`; `None` for another method.
pub(super) fn read_view(region: &syn::ExprMethodCall, whole: bool) -> Option<Expr> {
    let read = match (region.method.to_string().as_str(), region.args.len()) {
        ("slice_mut", 1) => "slice",
        ("row_mut", 1) => "row",
        ("column_mut", 1) => "column",
        ("view_mut", 0) if whole => "view",
        _ => return None,
    };
    let read = syn::Ident::new(read, region.method.span());
    let (base, args) = (&region.receiver, &region.args);
    Some(syn::parse_quote!(#base.#read(#args)))
}

impl Lowering {
    /// `a.row_mut(i).assign(&v)` (`column_mut`, `slice_mut`) as the runtime's region
    /// assignment (the statement's value, none): `None` for any other receiver.
    pub(super) fn region_assign(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
    ) -> Option<Option<Value>> {
        let krate = self.krate.clone();
        let (a, info) = region(&mc.receiver, &krate)?;
        let v = &mc.args[0];
        let span = mc.method.span();
        let call: Expr = syn::parse_quote_spanned! {span=>
            #krate::__private::region::assign(#a.view(), #info, (#v).view())
        };
        let by_mut_ref = self.f.params.iter().any(|p| {
            a.is_ident(&p.ident)
                && matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some())
        });
        let stmt: Expr = if by_mut_ref {
            syn::parse_quote_spanned!(span=> #a.assign(&#call))
        } else {
            syn::parse_quote_spanned!(span=> #a = #call)
        };
        Some(self.expr(b, &stmt, true))
    }
}
