//! The generated items' signatures: which parameters are differentiated, the gradient type,
//! and the items (`_vjp`, `_grad`, `_jvp`, …) with their docs, lifetimes and attributes.

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;

use crate::{lower, options, types};

/// What the generated items' signatures are made of.
pub struct Signature {
    pub active: Vec<bool>,
    /// Parameter names and types as written (without `mut`).
    pub params: Vec<(syn::Ident, syn::Type)>,
    pub ret: syn::Type,
    pub grad: TokenStream2,
}

impl Signature {
    pub fn read(func: &syn::ItemFn, opts: &options::Options, errors: &mut Vec<syn::Error>) -> Self {
        let s = &func.sig;
        if let Some(c) = &s.constness {
            errors.push(syn::Error::new(
                c.span,
                "`const fn` cannot be differentiated; remove `const`",
            ));
        }
        if let Some(a) = &s.asyncness {
            errors.push(syn::Error::new(
                a.span,
                "`async fn` cannot be differentiated; differentiate a synchronous function",
            ));
        }
        if let syn::Safety::Unsafe(u) = &s.safety {
            errors.push(syn::Error::new(
                u.span,
                "`unsafe fn` cannot be differentiated; wrap the unsafe code in a safe function \
                 with its own `_vjp`",
            ));
        }
        if let Some(abi) = &s.abi {
            errors.push(syn::Error::new(
                abi.span(),
                "`extern` functions cannot be differentiated",
            ));
        }
        let only_lifetimes = s
            .generics
            .params
            .iter()
            .all(|p| matches!(p, syn::GenericParam::Lifetime(_)));
        if let Some(w) = &s.generics.where_clause {
            errors.push(syn::Error::new_spanned(
                w,
                "`where` clauses are not supported; write the function for concrete types",
            ));
        } else if !only_lifetimes {
            errors.push(syn::Error::new_spanned(
                &s.generics,
                "generic functions are not supported yet; write the function for `f64` (or \
                 `f32`) directly",
            ));
        }
        if let Some(v) = &s.variadic {
            errors.push(syn::Error::new(
                v.span(),
                "variadic functions cannot be differentiated",
            ));
        }
        let mut params = Vec::new();
        for (n, arg) in s.inputs.iter().enumerate() {
            match arg {
                syn::FnArg::Receiver(r) => match types::receiver_type(r) {
                    Ok(ty) => params.push((syn::Ident::new("self", r.self_token.span), ty)),
                    Err(()) => {
                        errors.push(syn::Error::new_spanned(
                            r,
                            "`&mut self` is not supported in a differentiated method; take \
                             `&self` and return the new values",
                        ));
                        // The placeholders keep the method callable as a method.
                        params.push((
                            syn::Ident::new("self", r.self_token.span),
                            syn::parse_quote!(&mut Self),
                        ));
                    }
                },
                syn::FnArg::Typed(pt) => {
                    if let syn::Type::ImplTrait(it) = &*pt.ty {
                        errors.push(syn::Error::new_spanned(
                            it,
                            "`impl Trait` parameters are generic, which is not supported yet; \
                             take a concrete type such as `f64`",
                        ));
                    }
                    match &*pt.pat {
                        syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                            params.push((pi.ident.clone(), (*pt.ty).clone()));
                        }
                        syn::Pat::Wild(_) => {
                            params.push((lower::unnamed_param(n), (*pt.ty).clone()));
                        }
                        p => {
                            errors.push(syn::Error::new_spanned(
                                p,
                                "parameter patterns are not supported; name the parameter and \
                                 destructure it with `let` in the body",
                            ));
                            params.push((lower::unnamed_param(n), (*pt.ty).clone()));
                        }
                    }
                }
            }
        }
        let ret: syn::Type = match &s.output {
            syn::ReturnType::Type(_, t) => (**t).clone(),
            syn::ReturnType::Default => {
                errors.push(syn::Error::new(
                    s.ident.span(),
                    "a differentiated function must return a value: add a return type such as \
                     `-> f64`",
                ));
                syn::parse_quote!(())
            }
        };
        let active: Vec<bool> = match &opts.wrt {
            Some(names) => {
                for n in names {
                    match params.iter().find(|(p, _)| p == n) {
                        None => errors.push(syn::Error::new(
                            n.span(),
                            format!("`wrt({n})`: `{n}` is not a parameter of this function"),
                        )),
                        Some((_, ty)) if types::is_inactive_type(ty) => {
                            errors.push(syn::Error::new(
                                n.span(),
                                format!(
                                    "`wrt({n})`: `{n}` has type `{}`, which has no derivative; \
                                     differentiate with respect to float parameters",
                                    quote!(#ty).to_string().replace(' ', "")
                                ),
                            ))
                        }
                        Some(_) => {}
                    }
                }
                params
                    .iter()
                    .map(|(p, _)| names.iter().any(|n| n == p))
                    .collect()
            }
            None => {
                // Parameters of a generic type (rejected above) stay out of the analysis, so
                // that the one error is not followed by others about them.
                let generic: Vec<String> = s
                    .generics
                    .type_params()
                    .map(|p| p.ident.to_string())
                    .collect();
                params
                    .iter()
                    .map(|(_, t)| {
                        let is_generic = matches!(t, syn::Type::Path(p)
                            if p.path.get_ident().is_some_and(|i| generic.contains(&i.to_string())));
                        !types::is_inactive_type(t)
                            && !matches!(t, syn::Type::ImplTrait(_))
                            && !is_generic
                    })
                    .collect()
            }
        };
        if errors.is_empty() && !active.iter().any(|&a| a) {
            errors.push(syn::Error::new(
                s.inputs.span(),
                "nothing to differentiate: every parameter has an integer, `bool`, `char` or \
                 string type; take the variable as `f64` (or `f32`)",
            ));
        }
        let grads: Vec<TokenStream2> = params
            .iter()
            .zip(&active)
            .filter(|(_, a)| **a)
            .map(|((_, t), _)| types::owned(t))
            .collect();
        let grad = if grads.len() == 1 {
            grads[0].clone()
        } else {
            quote!((#(#grads),*))
        };
        Signature {
            active,
            params,
            ret,
            grad,
        }
    }

    /// The generated items with the given bodies.
    pub fn items(&self, func: &syn::ItemFn, bodies: Bodies) -> TokenStream2 {
        let vis = &func.vis;
        let name = &func.sig.ident;
        let item = |suffix: &str| format_ident!("{}_{}", name, suffix);
        let names: Vec<&syn::Ident> = self.params.iter().map(|(n, _)| n).collect();
        let tys: Vec<&syn::Type> = self.params.iter().map(|(_, t)| t).collect();
        let ret = &self.ret;
        let grad = &self.grad;
        let allow = quote! {
            #[allow(
                unused_variables, unused_mut, unused_parens, unused_braces, unused_assignments,
                unused_imports, unreachable_code, non_snake_case, non_camel_case_types,
                dead_code, clippy::all, clippy::pedantic, clippy::nursery
            )]
        };
        let doc = |what: &str| {
            let text = format!(" {what} Generated by `#[differentiate]` from [`{name}`].");
            quote!(#[doc = #text])
        };
        // The pullback may keep references to the arguments: name their lifetimes so that it
        // can, whatever the edition's capture rules. `&mut` parameters keep an anonymous
        // lifetime that the pullback's type does not capture (`use<..>`): the pullback never
        // holds on to the caller's buffer.
        let lt: syn::Lifetime = syn::parse_quote!('__ad_a);
        let shared = |t: &syn::Type| matches!(t, syn::Type::Reference(r) if r.lifetime.is_none() && r.mutability.is_none());
        let borrows = tys.iter().any(|t| shared(t));
        let mut_borrows = tys
            .iter()
            .any(|t| matches!(t, syn::Type::Reference(r) if r.mutability.is_some()));
        let with_lt = |t: &syn::Type| -> syn::Type {
            match t {
                syn::Type::Reference(r) if shared(t) => {
                    let mut r = r.clone();
                    r.lifetime = Some(lt.clone());
                    syn::Type::Reference(r)
                }
                t => t.clone(),
            }
        };
        let vjp_tys: Vec<syn::Type> = tys.iter().map(|t| with_lt(t)).collect();
        let declared: Vec<&syn::Lifetime> =
            func.sig.generics.lifetimes().map(|l| &l.lifetime).collect();
        let generics_with = |extra: bool| {
            if extra {
                quote!(<#(#declared,)* #lt>)
            } else if declared.is_empty() {
                quote!()
            } else {
                quote!(<#(#declared),*>)
            }
        };
        let bound_with = |extra: bool| {
            let mut b = quote!(#(+ #declared)*);
            if extra {
                b.extend(quote!(+ #lt));
            }
            if mut_borrows {
                let captured: Vec<&syn::Lifetime> = declared
                    .iter()
                    .copied()
                    .chain(extra.then_some(&lt))
                    .collect();
                b.extend(quote!(+ use<#(#captured),*>));
            }
            b
        };
        let plain_generics = generics_with(false);
        // Forward mode: one tangent per differentiated parameter, after the parameters; a
        // parameter taken by reference has its tangent by reference, of the gradient type.
        let mut tangent_names = Vec::new();
        let mut tangent_tys = Vec::new();
        for ((n, t), active) in self.params.iter().zip(&self.active) {
            if !active {
                continue;
            }
            let mut d = format_ident!("d{}", n.to_string().trim_start_matches("r#"));
            if self.params.iter().any(|(q, _)| *q == d) {
                d = format_ident!("__ad_{}", d);
            }
            tangent_names.push(d);
            let g = types::owned(t);
            let by_ref = matches!(t, syn::Type::Reference(_));
            tangent_tys.push(if by_ref { quote!(&#g) } else { quote!(#g) });
        }
        let tangent_refs = self
            .params
            .iter()
            .zip(&self.active)
            .any(|((_, t), a)| *a && matches!(t, syn::Type::Reference(_)));
        let Bodies {
            vjp: vjp_body,
            grad: grad_body,
            jvp: jvp_body,
            second_order,
            vjp_along,
        } = bodies;
        let (vjp, grad_fn, jvp, vjp_jvp, hvp) = (
            item("vjp"),
            item("grad"),
            item("jvp"),
            item("vjp_jvp"),
            item("hvp"),
        );
        let (vjp_generics, vjp_bound) = (generics_with(borrows), bound_with(borrows));
        let vjp_doc = doc(&format!(
            "Value and pullback of `{name}`: returns `{name}(..)` and a closure that maps a \
             cotangent of the result to the gradient of the differentiated parameters (one \
             entry per parameter, in order)."
        ));
        let jvp_doc = doc(&format!(
            "Value and tangent of `{name}` (forward mode): returns `{name}(..)` and its \
             directional derivative along the tangents of the differentiated parameters, given \
             after the parameters in order (by reference where the parameter is taken by \
             reference)."
        ));
        let vjp_jvp_doc = doc(&format!(
            "Forward mode over reverse mode of `{name}`: the value, its tangent, and a pullback \
             that maps a cotangent and its tangent to the gradient and the gradient's tangent. \
             What a caller's Hessian-vector product calls."
        ));
        let mut out = quote! {
            #vjp_doc
            #allow
            #[inline]
            #vis fn #vjp #vjp_generics (#(#names: #vjp_tys),*)
                -> (#ret, impl ::core::ops::FnOnce(#ret) -> #grad #vjp_bound)
            {
                #vjp_body
            }
            #jvp_doc
            #allow
            #[inline]
            #vis fn #jvp #plain_generics (#(#names: #tys,)* #(#tangent_names: #tangent_tys),*)
                -> (#ret, #ret)
            {
                #jvp_body
            }
        };
        // The pullback of `_vjp_jvp` keeps copies of the tangents, never the caller's: their
        // lifetimes are not captured.
        let (vjp_jvp_generics, mut vjp_jvp_bound) = (generics_with(borrows), bound_with(borrows));
        if tangent_refs && !mut_borrows {
            let captured: Vec<&syn::Lifetime> = declared
                .iter()
                .copied()
                .chain(borrows.then_some(&lt))
                .collect();
            vjp_jvp_bound.extend(quote!(+ use<#(#captured),*>));
        }
        let tys_second = &vjp_tys;
        let tangent_tys_second = &tangent_tys;
        let (vjp_jvp_body, hvp_body) = match second_order {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        if let Some(body) = vjp_along {
            let along = item("vjp_along");
            let doc = doc(&format!(
                "Exact mode at kinks: the value of `{name}`, its one-sided directional \
                 derivative along the tangents given after the parameters (as for `_jvp`), and a \
                 pullback through the pieces that direction enters at the kinks. What a caller \
                 in exact mode calls, passing its own direction on."
            ));
            out.extend(quote! {
                #doc
                #allow
                #[inline]
                #vis fn #along #vjp_jvp_generics (
                    #(#names: #tys_second,)* #(#tangent_names: #tangent_tys_second),*
                ) -> (#ret, #ret, impl ::core::ops::FnOnce(#ret) -> #grad #vjp_jvp_bound)
                {
                    #body
                }
            });
        }
        if let Some(vjp_jvp_body) = vjp_jvp_body {
            out.extend(quote! {
                #vjp_jvp_doc
                #allow
                #[inline]
                #vis fn #vjp_jvp #vjp_jvp_generics (
                    #(#names: #tys_second,)* #(#tangent_names: #tangent_tys_second),*
                ) -> (#ret, #ret, impl ::core::ops::FnOnce(#ret, #ret) -> (#grad, #grad) #vjp_jvp_bound)
                {
                    #vjp_jvp_body
                }
            });
        }
        if types::is_scalar_float(&self.ret) {
            let grad_doc = doc(&format!(
                "Value and gradient of `{name}` with respect to its differentiated parameters \
                 (one entry per parameter, in order)."
            ));
            let hvp_doc = doc(&format!(
                "Value, gradient and Hessian-vector product of `{name}`: the Hessian of \
                 `{name}` (with respect to its differentiated parameters) applied to the \
                 direction given after the parameters, one entry per differentiated parameter \
                 (forward mode over reverse mode)."
            ));
            out.extend(quote! {
                #grad_doc
                #allow
                #[inline]
                #vis fn #grad_fn #plain_generics (#(#names: #tys),*) -> (#ret, #grad) {
                    #grad_body
                }
            });
            if let Some(hvp_body) = hvp_body {
                out.extend(quote! {
                    #hvp_doc
                    #allow
                    #[inline]
                    #vis fn #hvp #plain_generics (
                        #(#names: #tys,)* #(#tangent_names: #tangent_tys),*
                    ) -> (#ret, #grad, #grad)
                    {
                        #hvp_body
                    }
                });
            }
        }
        out
    }
}

/// The bodies of the generated items.
pub struct Bodies {
    pub vjp: TokenStream2,
    pub grad: TokenStream2,
    pub jvp: TokenStream2,
    /// `_vjp_jvp` and `_hvp`, with `#[differentiate(hessian)]`.
    pub second_order: Option<(TokenStream2, TokenStream2)>,
    /// `_vjp_along`, with `#[differentiate(kinks = exact)]`.
    pub vjp_along: Option<TokenStream2>,
}
