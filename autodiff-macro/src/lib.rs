//! `#[differentiate]`: compile-time reverse-mode automatic differentiation by source
//! transformation. Use it through the `autodiff` crate, which documents the contract.
//!
//! The macro runs in phases, one module each:
//!
//! 1. `options`: the attribute's arguments;
//! 2. `lower`: the function to SSA (`ir`), rejecting what is outside the supported subset;
//! 3. `activity`: which values need derivatives;
//! 4. `check`: errors that need activity (an unknown method on a differentiated value);
//! 5. `emit`: the backward pass, then the forward pass that keeps what it reads.
//!
//! Errors are `syn::Error`s spanned at the offending tokens, all reported together; on error the
//! original function is still emitted with stub `_grad`/`_vjp` items of the right signatures,
//! so one mistake does not cascade into "cannot find `f_grad`".

mod activity;
mod check;
mod codegen;
mod derive;
mod ir;
mod lower;
mod options;
mod plan;
mod prim;
mod reverse;
mod scalars;
mod simplify;
mod structurize;
mod types;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{ToTokens, format_ident, quote};
use syn::spanned::Spanned;

/// Generates `<name>_grad` and `<name>_vjp` beside a function; see the `autodiff` crate.
#[proc_macro_attribute]
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into()).into()
}

/// Implements `autodiff::Differentiable` (and `Primal`) for a struct of differentiable fields.
#[proc_macro_derive(Differentiable)]
pub fn derive_differentiable(input: TokenStream) -> TokenStream {
    derive::expand(input.into()).into()
}

/// Collected errors, combined into one `compile_error!` list.
fn combine(errors: Vec<syn::Error>) -> TokenStream2 {
    errors.into_iter().map(|e| e.to_compile_error()).collect()
}

fn expand(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    prim::new_expansion();
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new(
                item.span(),
                "`#[differentiate]` applies to a function (`fn f(x: f64) -> f64 { .. }`)",
            );
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut errors = Vec::new();
    let opts: options::Options = match syn::parse2(attr) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            options::Options::default()
        }
    };
    let sig = Signature::read(&func, &opts, &mut errors);
    // Everything is checked, even after a first error, so that all problems are reported
    // together; lowering leaves placeholders where it failed, which check nothing more.
    let lowered = lower::lower(&func, &sig.active);
    errors.extend(lowered.errors);
    let mut f = lowered.f;
    let mut act = None;
    match ir::verify::verify(&f) {
        Ok(()) => {
            structurize::structurize(&mut f);
            let a = activity::analyze(&f);
            errors.extend(check::check(&f, &a));
            act = Some(a);
        }
        Err(msg) if errors.is_empty() => errors.push(internal(&func, &msg)),
        Err(_) => {}
    }
    let Some(act) = act.filter(|_| errors.is_empty()) else {
        return with_stubs(&func, &sig, errors);
    };
    let primal = if opts.dump {
        f.to_string()
    } else {
        String::new()
    };
    let mut tys = scalars::analyze(&f);
    let rev = reverse::reverse(&mut f, &act, &mut tys);
    simplify::forward_single_contributions(&mut f);
    simplify::move_carried_adjoints(&mut f);
    let plan = plan::plan(&mut f, &act, &mut tys, &rev);
    if let Err(msg) = ir::verify::verify(&f) {
        return with_stubs(&func, &sig, vec![internal(&func, &msg)]);
    }
    let codegen::Code {
        prelude,
        forward,
        out,
        seed,
        pullback,
    } = codegen::generate(&f, &tys, &plan, &act.active, &opts.krate());
    let (ret, grad) = (&sig.ret, &sig.grad);
    let krate = opts.krate();
    let seed_value = quote::quote_spanned!(ret.span()=> #krate::__private::seed(&__ad_out));
    // `_grad` carries the forward and backward passes in one body rather than calling `_vjp`:
    // LLVM optimises them together (sharing `sin`/`cos` work, keeping values in registers), and
    // inside an `impl` block the macro could not name `_vjp` for an associated function.
    let generated = sig.items(
        &func,
        quote! {
            #prelude
            #forward
            let __ad_out = #out;
            (__ad_out, move |#seed: #ret| -> #grad { #pullback })
        },
        quote! {
            #prelude
            #forward
            let __ad_out = #out;
            let #seed: #ret = #seed_value;
            let __ad_grad: #grad = { #pullback };
            (__ad_out, __ad_grad)
        },
    );
    if opts.dump {
        eprintln!(
            "#[differentiate] {name}: SSA\n{primal}\n#[differentiate] {name}: forward pass\n{f}\n\
             #[differentiate] {name}: {}\n#[differentiate] {name}: generated code\n{generated}",
            f.pullback_text(),
            name = func.sig.ident,
        );
    }
    let mut out = original(&func);
    out.extend(generated);
    out
}

fn internal(func: &syn::ItemFn, msg: &str) -> syn::Error {
    syn::Error::new(
        func.sig.ident.span(),
        format!("autodiff internal error, please report it: invalid SSA: {msg}"),
    )
}

/// The function as written. It counts as used when only its generated items are (calling just
/// `f_grad` is the point of writing `f`); a path to it from the generated code would not do,
/// since inside an `impl` it is `Self::f` and outside it is `f`.
fn original(func: &syn::ItemFn) -> TokenStream2 {
    let mut f = func.clone();
    f.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    f.to_token_stream()
}

/// The original function, stubs for the generated items, and the errors.
fn with_stubs(func: &syn::ItemFn, sig: &Signature, errors: Vec<syn::Error>) -> TokenStream2 {
    let mut out = original(func);
    if sig
        .params
        .iter()
        .any(|(_, t)| matches!(t, syn::Type::ImplTrait(_)))
    {
        // Such a signature cannot be repeated in the stubs' pullback types.
        out.extend(combine(errors));
        return out;
    }
    let msg = format!(
        "`#[differentiate]` reported errors for `{}`; this item is a placeholder",
        func.sig.ident
    );
    let (ret, grad) = (&sig.ret, &sig.grad);
    out.extend(sig.items(
        func,
        quote! {
            (::core::panic!(#msg), move |_: #ret| -> #grad { ::core::panic!(#msg) })
        },
        quote! { ::core::panic!(#msg) },
    ));
    out.extend(combine(errors));
    out
}

/// What the generated items' signatures are made of.
struct Signature {
    active: Vec<bool>,
    /// Parameter names and types as written (without `mut`).
    params: Vec<(syn::Ident, syn::Type)>,
    ret: syn::Type,
    grad: TokenStream2,
}

impl Signature {
    fn read(func: &syn::ItemFn, opts: &options::Options, errors: &mut Vec<syn::Error>) -> Self {
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
    fn items(
        &self,
        func: &syn::ItemFn,
        vjp_body: TokenStream2,
        grad_body: TokenStream2,
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
        out
    }
}
#[cfg(test)]
mod tests;
