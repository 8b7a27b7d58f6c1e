//! Calls into the runtime: a rule's arguments by reference, and a call through the forward-rule
//! adapter with the tangent slots the caller owns.

use super::*;

impl Gen<'_> {
    /// Beside a call of a struct literal's function (`Point::__ad_literal_vjp(a, b)`, written by
    /// `#[derive(Differentiable)]`), stand-ins for the five functions, in a local trait
    /// implemented for every type, with the call's arity: where the struct derives
    /// `Differentiable` its own functions are found first; where it does not, the stand-in is
    /// found, and its bound `DerivesDifferentiable` is rustc's error that says to derive it
    /// (instead of "no associated item named `__ad_literal_vjp`"). `None` for other calls.
    pub(super) fn literal_fallback(&self, path: &syn::Path, n: usize) -> Option<TokenStream> {
        let last = path.segments.last()?;
        if last.ident != "__ad_literal" {
            return None;
        }
        let pv = &self.pv;
        let span = last.ident.span();
        let a: Vec<syn::Ident> = (0..n).map(|k| quote::format_ident!("__AdA{}", k)).collect();
        let d: Vec<syn::Ident> = (0..n).map(|k| quote::format_ident!("__AdD{}", k)).collect();
        let bound = quote_spanned!(span=> where Self: #pv::DerivesDifferentiable);
        Some(quote! {
            #[allow(dead_code, non_camel_case_types, clippy::all)]
            trait __AdLiteralOfDerived: Sized {
                fn __ad_literal<#(#a),*>(#(_: #a),*) -> Self #bound {
                    ::core::unreachable!()
                }
                fn __ad_literal_vjp<#(#a,)* __AdG>(#(_: #a),*)
                    -> (Self, fn(Self) -> __AdG) #bound
                {
                    ::core::unreachable!()
                }
                fn __ad_literal_jvp<#(#a,)* #(#d),*>(#(_: #a,)* #(_: #d),*) -> (Self, Self)
                    #bound
                {
                    ::core::unreachable!()
                }
                fn __ad_literal_vjp_along<#(#a,)* #(#d,)* __AdG>(#(_: #a,)* #(_: #d),*)
                    -> (Self, Self, fn(Self) -> __AdG) #bound
                {
                    ::core::unreachable!()
                }
                fn __ad_literal_vjp_jvp<#(#a,)* #(#d,)* __AdG>(#(_: #a,)* #(_: #d),*)
                    -> (Self, Self, fn(Self, Self) -> (__AdG, __AdG)) #bound
                {
                    ::core::unreachable!()
                }
            }
            impl<__AdT> __AdLiteralOfDerived for __AdT {}
        })
    }

    /// Beside the call `V2::sub(a, b)` of an operator of a struct of the user's (`a - b`, marked
    /// as a method call by `lower::expr`), the operator's trait imported anonymously: the call
    /// names the trait's method through the type, which rustc finds only with the trait in
    /// scope, and the user may have written `impl std::ops::Sub for V2` without a `use`. An
    /// inherent method of the same name still comes first. `None` for other calls.
    pub(super) fn operator_trait(&self, path: &syn::Path) -> Option<TokenStream> {
        let last = path.segments.last()?;
        let marked =
            matches!(&last.arguments, syn::PathArguments::AngleBracketed(a) if a.args.is_empty());
        let tr = match last.ident.to_string().as_str() {
            "add" => "Add",
            "sub" => "Sub",
            "mul" => "Mul",
            "div" => "Div",
            "neg" => "Neg",
            _ => return None,
        };
        let tr = syn::Ident::new(tr, last.ident.span());
        (marked && path.segments.len() > 1).then(|| {
            quote! {
                #[allow(unused_imports)]
                use ::core::ops::#tr as _;
            }
        })
    }

    /// The arguments of a runtime rule call, by reference; the cotangent `g` stands in for an
    /// argument the rule does not read.
    pub(super) fn rule_args(&self, args: &[RuleArg], g: Value) -> Vec<TokenStream> {
        let gi = self.e(g);
        args.iter()
            .map(|a| match a {
                RuleArg::Value(v) => self.by_ref(*v),
                RuleArg::Shape(v) => {
                    let s = self.e(*v);
                    quote!(&#s)
                }
                RuleArg::Witness => quote!(&#gi),
            })
            .collect()
    }

    /// A call marked as a method call on a struct of the user's (an empty turbofish, see
    /// `lower::calls::mark_receiver`): the path without the mark, and the arguments with the
    /// first (the receiver) passed through the runtime's `receiver`. Other calls unchanged.
    pub(super) fn receiver_call(
        &self,
        path: &syn::Path,
        mut args: Vec<TokenStream>,
    ) -> (syn::Path, Vec<TokenStream>) {
        let mut path = path.clone();
        let marked = path.segments.last().is_some_and(
            |l| matches!(&l.arguments, syn::PathArguments::AngleBracketed(a) if a.args.is_empty()),
        );
        if !marked || args.is_empty() {
            return (path, args);
        }
        if let Some(last) = path.segments.last_mut() {
            last.arguments = syn::PathArguments::None;
        }
        let pv = &self.pv;
        let recv = &args[0];
        args[0] = quote!(#pv::receiver(#recv));
        (path, args)
    }

    /// The markers of a call's arguments: which of them the callee's gradient has an entry
    /// for. For a function whose `wrt(..)` the expansion knows (a method of the block, the
    /// function itself), those the list keeps; for any other, asked of rustc, argument by
    /// argument: those of a differentiable type.
    pub(super) fn call_markers(&self, path: &syn::Path, args: &[Value]) -> TokenStream {
        let pv = &self.pv;
        if let Some(kept) = crate::types::declared_wrt(path).filter(|k| k.len() == args.len()) {
            let markers = kept.iter().map(|(_, k)| match k {
                true => quote!(#pv::Yes),
                false => quote!(#pv::No),
            });
            return quote!((#(#markers,)*));
        }
        let probes: Vec<syn::Ident> = args.iter().map(|&a| self.v(a)).collect();
        quote! {{
            use #pv::{ProbeNo as _, ProbeYes as _};
            (#((&#pv::Probe(&#probes)).marker(),)*)
        }}
    }

    /// A call through the runtime's forward-rule adapter: `path_<suffix>(args, tangents)`, the
    /// markers computed first (before the arguments move), the tangents in slots the caller
    /// owns; the results are bound to `lhs`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call_adapter(
        &self,
        i: Inst,
        path: &syn::Path,
        suffix: &str,
        args: &[Value],
        tangents: &[Option<Value>],
        sel: &syn::Ident,
        lhs: TokenStream,
    ) -> TokenStream {
        let pv = self.pv.clone();
        let moved: Vec<TokenStream> = args.iter().map(|&a| self.moved(a, None)).collect();
        let (path, moved) = self.receiver_call(path, moved);
        let path = &path;
        let mut f = path.clone();
        if let Some(last) = f.segments.last_mut() {
            last.ident =
                quote::format_ident!("{}_{}", last.ident, suffix, span = last.ident.span());
        }
        let markers = self.call_markers(path, args);
        let slots: Vec<TokenStream> = tangents
            .iter()
            .zip(args)
            .map(|(t, &a)| match t {
                // An array (or a field, which may be one) lent to a callee that may take a
                // slice: its tangent as the callee's.
                Some(d)
                    if self.f.lent_array(a).is_some()
                        || self.f.lent_row(self.tys, a).is_some()
                        || self.f.lent_field(a).is_some()
                        || self.f.lent_unseen(a).is_some() =>
                {
                    let d = self.slot_tangent(*d);
                    quote!(#pv::tan(#pv::lent_tangent(#d)))
                }
                // A view lent to a callee that takes one: its tangent (a view, or a borrowed
                // array for a view parameter) copied into the callee's owned tangent type.
                Some(d) if self.f.is_view(a) => {
                    let d = self.v(self.f.strip_ref(*d));
                    quote!(#pv::tan(#d.to_owned()))
                }
                Some(d) => {
                    let d = self.slot_tangent(*d);
                    quote!(#pv::tan(#d))
                }
                None => quote!(#pv::no_tan()),
            })
            .collect();
        let span = self.f.inst(i).span;
        let slots_id = syn::Ident::new(&format!("__ad_slots{}", i.0), span);
        let fallback = self.literal_fallback(path, args.len());
        let call = quote_spanned! {span=>
            { #fallback #pv::call_jvp(#f, #sel, (#(#moved,)*), &mut #slots_id) }
        };
        quote! {
            let #sel = #markers;
            let mut #slots_id = (#(#slots,)*);
            let #lhs = #call;
        }
    }
}
