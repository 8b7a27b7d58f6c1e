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

    /// `<name>_vjp` and `<name>_grad` with the given bodies.
    pub fn items(
        &self,
        func: &syn::ItemFn,
        vjp_body: TokenStream2,
        grad_body: TokenStream2,
        jvp_body: TokenStream2,
    ) -> TokenStream2 {
        let vis = &func.vis;
        let name = &func.sig.ident;
        let vjp = format_ident!("{}_vjp", name);
        let grad_fn = format_ident!("{}_grad", name);
        let names: Vec<&syn::Ident> = self.params.iter().map(|(n, _)| n).collect();
        let tys: Vec<&syn::Type> = self.params.iter().map(|(_, t)| t).collect();
        let ret = &self.ret;
        let grad = &self.grad;
        let allow = quote! {
            #[allow(
                unused_variables, unused_mut, unused_parens, unused_braces, unused_assignments,
                unreachable_code, non_snake_case, non_camel_case_types, dead_code,
                clippy::all, clippy::pedantic, clippy::nursery
            )]
        };
        let vjp_doc = format!(
            " Value and pullback of [`{name}`]: returns `{name}(..)` and a closure that maps a \
             cotangent of the result to the gradient of the differentiated parameters. \
             Generated by `#[differentiate]`."
        );
        let grad_doc = format!(
            " Value and gradient of [`{name}`] with respect to its differentiated parameters \
             (one entry per parameter, in order). Generated by `#[differentiate]`."
        );
        // The pullback may keep references to the arguments: name their lifetimes so that it
        // can, whatever the edition's capture rules.
        let lt: syn::Lifetime = syn::parse_quote!('__ad_a);
        let mut borrows = false;
        // `&mut` parameters keep an anonymous lifetime that the pullback's type does not
        // capture (`use<..>` below): the pullback never holds on to the caller's buffer.
        let mut_borrows = tys
            .iter()
            .any(|t| matches!(t, syn::Type::Reference(r) if r.mutability.is_some()));
        let vjp_tys: Vec<syn::Type> = tys
            .iter()
            .map(|t| match t {
                syn::Type::Reference(r) if r.lifetime.is_none() && r.mutability.is_none() => {
                    borrows = true;
                    let mut r = r.clone();
                    r.lifetime = Some(lt.clone());
                    syn::Type::Reference(r)
                }
                t => (*t).clone(),
            })
            .collect();
        let declared: Vec<&syn::Lifetime> =
            func.sig.generics.lifetimes().map(|l| &l.lifetime).collect();
        let (generics, mut bound) = if borrows {
            (quote!(<#(#declared,)* #lt>), quote!(#(+ #declared)* + #lt))
        } else if declared.is_empty() {
            (quote!(), quote!())
        } else {
            (quote!(<#(#declared),*>), quote!(#(+ #declared)*))
        };
        if mut_borrows {
            let captured: Vec<&syn::Lifetime> = declared
                .iter()
                .copied()
                .chain(borrows.then_some(&lt))
                .collect();
            bound.extend(quote!(+ use<#(#captured),*>));
        }
        let grad_generics = if declared.is_empty() {
            quote!()
        } else {
            quote!(<#(#declared),*>)
        };
        let mut out = quote! {
            #[doc = #vjp_doc]
            #allow
            #[inline]
            #vis fn #vjp #generics (#(#names: #vjp_tys),*)
                -> (#ret, impl ::core::ops::FnOnce(#ret) -> #grad #bound)
            {
                #vjp_body
            }
        };
        if types::is_scalar_float(&self.ret) {
            let body = grad_body;
            out.extend(quote! {
                #[doc = #grad_doc]
                #allow
                #[inline]
                #vis fn #grad_fn #grad_generics (#(#names: #tys),*) -> (#ret, #grad) {
                    #body
                }
            });
        }
        // Forward mode: one tangent per differentiated parameter, after the parameters; a
        // parameter taken by reference has its tangent by reference, of the gradient type.
        let jvp = format_ident!("{}_jvp", name);
        let mut tangent_names = Vec::new();
        let mut tangent_tys = Vec::new();
        for (k, ((n, t), active)) in self.params.iter().zip(&self.active).enumerate() {
            if !active {
                continue;
            }
            let _ = k;
            let mut d = format_ident!("d{}", n.to_string().trim_start_matches("r#"));
            if self.params.iter().any(|(q, _)| *q == d) {
                d = format_ident!("__ad_{}", d);
            }
            tangent_names.push(d);
            let g = types::owned(t);
            tangent_tys.push(match t {
                syn::Type::Reference(_) => quote!(&#g),
                _ => quote!(#g),
            });
        }
        let jvp_doc = format!(
            " Value and tangent of [`{name}`] (forward mode): returns `{name}(..)` and its \
             directional derivative along the tangents of the differentiated parameters, given \
             after the parameters in order (by reference where the parameter is taken by \
             reference). Generated by `#[differentiate]`."
        );
        out.extend(quote! {
            #[doc = #jvp_doc]
            #allow
            #[inline]
            #vis fn #jvp #grad_generics (#(#names: #tys,)* #(#tangent_names: #tangent_tys),*)
                -> (#ret, #ret)
            {
                #jvp_body
            }
        });
        out
    }
}
