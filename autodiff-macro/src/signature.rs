//! The generated items' signatures: which parameters are differentiated, the gradient type,
//! and the items (`_vjp`, `_grad`, `_jvp`, …) with their docs, lifetimes and attributes.

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use syn::spanned::Spanned;

use crate::codegen::Append;
use crate::{lower, options, types};

/// What the generated items' signatures are made of.
pub struct Signature {
    pub active: Vec<bool>,
    /// Parameter names and types as written (without `mut`).
    pub params: Vec<(syn::Ident, syn::Type)>,
    pub ret: syn::Type,
    pub grad: TokenStream2,
    /// The function's generic parameters, read for what they stand for.
    pub generics: Generics,
    /// The path of the `autodiff` crate, for the bounds the generated items add.
    krate: TokenStream2,
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
        let mut generics = Generics::read(&s.generics);
        // A parameter of the enclosing `impl` the signature names without a bound the macro
        // can see: one error, then taken for a float so that the placeholders have the
        // signatures the callers expect.
        let tys = s.inputs.iter().filter_map(|a| match a {
            syn::FnArg::Typed(pt) => Some(&*pt.ty),
            syn::FnArg::Receiver(_) => None,
        });
        let ret_ty = match &s.output {
            syn::ReturnType::Type(_, t) => Some(&**t),
            syn::ReturnType::Default => None,
        };
        // Only in a method: a free function's `P` is a type (see `types::may_be_impl_param`).
        let method = types::in_impl(s);
        for t in tys.chain(ret_ty) {
            while let Some(g) = generics.undeclared_in(t, method) {
                errors.push(undeclared(t, &g));
                generics.outer.push(g);
            }
        }
        types::set_float_params(generics.float_names());
        types::set_type_params(generics.names(), method);
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
                        // A caller's `let a = n.sample();` cannot tell a method taking `&mut
                        // self` from one taking `&self`, so it could not write the new state
                        // back: the method says what to write instead.
                        let m = &func.sig.ident;
                        let r_ty = match &s.output {
                            syn::ReturnType::Type(_, t) => quote::quote!(#t).to_string(),
                            syn::ReturnType::Default => "f64".to_string(),
                        };
                        errors.push(syn::Error::new_spanned(
                            r,
                            format!(
                                "a differentiated method taking `&mut self` cannot return a \
                                 value (a caller's `let y = s.{m}(..);` could not write the new \
                                 state back); take `mut self` and return the new state with the \
                                 value, `fn {m}(mut self, ..) -> (Self, {r_ty})` ending in \
                                 `(self, y)`, and call it as `let (next, y) = s.{m}(..); s = \
                                 next;` (a `&mut self` method returning nothing, `fn step(&mut \
                                 self, dt: f64)`, is followed where `s.step(dt);` is called on a \
                                 `mut` variable)"
                            ),
                        ));
                        // The placeholders keep the method callable as a method.
                        params.push((
                            syn::Ident::new("self", r.self_token.span),
                            syn::parse_quote!(&mut Self),
                        ));
                    }
                },
                syn::FnArg::Typed(pt) => {
                    // `impl Fn(usize) -> f64` (a schedule, a weight by position) is data, as
                    // `&impl Fn(..)` and `fn(..)` are: called on data, it runs as written. (An
                    // `FnMut` would be called again by the generated items, behind a shared
                    // borrow.)
                    if generics.is_fn_mut_by_value(&pt.ty) || types::boxed_fn_mut(&pt.ty) {
                        errors.push(syn::Error::new_spanned(
                            &pt.ty,
                            "a parameter of a type bounded by `FnMut(..)` or `FnOnce(..)` (or a \
                             `Box<dyn FnMut(..)>`) taken \
                             by value is not supported: the generated items call a closure \
                             parameter through a shared borrow; take `f: &mut F` or `f: &mut \
                             dyn FnMut(usize) -> f64` (called as written on data), or bound the \
                             type by `Fn(..)` where the closure changes nothing",
                        ));
                    }
                    if let syn::Type::ImplTrait(it) = &*pt.ty
                        && !it.bounds.iter().any(types::is_fn_bound_shared)
                    {
                        let msg = if types::is_inactive_type(&pt.ty) {
                            "an `impl FnMut(..)` or `impl FnOnce(..)` parameter is not \
                             supported: the generated items call a closure parameter through a \
                             shared borrow; take `f: &mut dyn FnMut(usize) -> f64` (called as \
                             written on data), or `impl Fn(..)` where the closure changes \
                             nothing"
                        } else {
                            "`impl Trait` parameters are generic, which is not supported yet; \
                             take a concrete type: `f64`, a slice `&[f64]` for data read by \
                             position or iterated (the caller passes `v.as_ref()`, or collects \
                             an iterator first, `&it.collect::<Vec<f64>>()`), or a type \
                             parameter of a float trait (`T: num_traits::Float`)"
                        };
                        errors.push(syn::Error::new_spanned(it, msg));
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
        let mut ret: syn::Type = match &s.output {
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
                for (k, n) in names.iter().enumerate() {
                    if names[..k].contains(n) {
                        errors.push(syn::Error::new(
                            n.span(),
                            format!(
                                "`wrt(..)` names `{n}` twice; name each parameter once (the \
                                 gradient has one entry per parameter named, in the order of \
                                 the parameters)"
                            ),
                        ));
                        continue;
                    }
                    match params.iter().find(|(p, _)| p == n) {
                        None => errors.push(syn::Error::new(
                            n.span(),
                            format!(
                                "`wrt({n})`: `{n}` is not a parameter of this function{}",
                                parameters_named(n, &params)
                            ),
                        )),
                        Some((_, ty)) if types::is_option(ty) => errors.push(syn::Error::new(
                            n.span(),
                            format!(
                                "`wrt({n})`: `{n}` is an `Option`, which has no gradient type; \
                                 take the value itself as a parameter (`{n}: f64`) and decide \
                                 in the caller whether to pass it"
                            ),
                        )),
                        Some((_, ty)) if types::holds_option(ty) => errors.push(syn::Error::new(
                            n.span(),
                            format!(
                                "`wrt({n})`: `{n}` holds `Option`s, which have no gradient \
                                 type; take the values in a container of floats (`{n}: \
                                 &[f64]`) with the ones that are present marked apart (a \
                                 `&[bool]` mask, or the positions as `&[usize]`)"
                            ),
                        )),
                        Some((_, ty)) if types::holds_map(ty) => errors.push(syn::Error::new(
                            n.span(),
                            format!(
                                "`wrt({n})`: `{n}` is or holds a map or a set, which has no \
                                 gradient type; keep the floats in a `Vec` (`{n}: &[f64]`) and \
                                 the map from keys to their positions apart, as data \
                                 (`index: &HashMap<String, usize>`, read as `{n}[index[key]]`)"
                            ),
                        )),
                        Some((_, ty)) if types::is_cell(ty) => errors.push(syn::Error::new(
                            n.span(),
                            format!(
                                "`wrt({n})`: `{n}` is a cell, whose contents a call may change \
                                 behind the gradient's back, and has no gradient type; take \
                                 the value it holds as a parameter (`{n}: f64`, read by the \
                                 caller with `.get()` or `.borrow()`)"
                            ),
                        )),
                        Some((_, ty)) if types::is_inactive_type(ty) || types::is_time(ty) => {
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
                    // An `Option`, a map or a cell named is the error above, and is left out
                    // after it.
                    .map(|(p, t)| names.iter().any(|n| n == p) && !no_gradient_type(t))
                    .collect()
            }
            None => params
                .iter()
                .map(|(_, t)| {
                    !types::is_inactive_type(t)
                        && !generics.is_fn_param(t)
                        && !types::is_time(t)
                        && !no_gradient_type(t)
                        && !matches!(t, syn::Type::ImplTrait(_))
                })
                .collect(),
        };
        // A parameter or result of a type the generated code cannot differentiate generically.
        let mut active = active;
        for ((n, t), a) in params.iter().zip(active.iter_mut()) {
            if !*a {
                continue;
            }
            // A parameter written as a pattern has a name of the macro's (`__ad_arg0`).
            let who = if n.to_string().starts_with("__ad_arg") {
                "this parameter".to_string()
            } else {
                format!("`{n}`")
            };
            if types::view_kind(t) == Some(true) {
                errors.push(syn::Error::new_spanned(
                    t,
                    format!(
                        "`{n}` is a mutable ndarray view, whose writes the generated code \
                         cannot follow back to the array it views; take the array as `&mut \
                         Array1<f64>` (`&mut Array<f64, D>`) and pass `&mut a`, or take \
                         `{n}` by value (`mut {n}: Array1<f64>`) and return the new values"
                    ),
                ));
                *a = false;
                continue;
            }
            if types::holds_references(t) {
                errors.push(syn::Error::new_spanned(
                    t,
                    format!(
                        "`{n}` is a container of references, which has no gradient type (it \
                         would hold references); take owned rows (`&[Vec<f64>]`, \
                         `&[[f64; N]]`), whose gradient is the same nested container \
                         (`Vec<Vec<f64>>`, `Vec<[f64; N]>`), or leave `{n}` out with \
                         `#[differentiate(wrt(..))]`"
                    ),
                ));
                *a = false;
                continue;
            }
            if types::holds_borrowing_tuple(t) {
                errors.push(syn::Error::new_spanned(
                    t,
                    format!(
                        "{who} is a tuple that holds references, which has no gradient type \
                         (it would hold references); take each part as a parameter of its own \
                         (`xs: &[f64], ys: &[f64]` for `(&[f64], &[f64])`), whose gradients \
                         are owned (`Vec<f64>`), or leave {who} out with \
                         `#[differentiate(wrt(..))]` where it is data"
                    ),
                ));
                *a = false;
                continue;
            }
            if types::holds_mixed_tuple(t) {
                errors.push(syn::Error::new_spanned(
                    t,
                    format!(
                        "{who} holds tuples of integers (or other values without a \
                         derivative) and floats, which have no gradient type; pass the \
                         integers and the floats as two slices (`idx: &[usize], xs: &[f64]`), \
                         or leave {who} out with `#[differentiate(wrt(..))]`"
                    ),
                ));
                *a = false;
                continue;
            }
            if let Some(g) = generics.opaque_in(t) {
                let own = generics.own_trait_note(g);
                errors.push(syn::Error::new_spanned(
                    t,
                    format!(
                        "`{n}`'s type holds type parameter `{g}`, which is not bounded by a \
                         float trait{own}, so the generated code cannot differentiate it; \
                         generic parameters may be floats (`{g}: num_traits::Float` or \
                         `{g}: autodiff::Real`), hold them (`&[{g}]`, `Params<{g}>`) or be an \
                         ndarray dimension (`Array<f64, {g}>`); or leave `{n}` out with \
                         `#[differentiate(wrt(..))]`"
                    ),
                ));
                *a = false;
            }
        }
        if let Some(g) = generics.opaque_in(&ret) {
            let own = generics.own_trait_note(g);
            errors.push(syn::Error::new_spanned(
                &ret,
                format!(
                    "the result's type holds type parameter `{g}`, which is not bounded by a \
                     float trait{own}, so the generated code cannot differentiate it; bound \
                     `{g}` by `num_traits::Float` (or `autodiff::Real`)"
                ),
            ));
        }
        // A result without a gradient type in part: the pullback takes the result's cotangent,
        // which an `Option`, an integer or a `bool` has none of.
        if types::holds_option(&ret) {
            errors.push(syn::Error::new_spanned(
                &ret,
                "a differentiated function cannot return an `Option` (it has no gradient \
                 type); return the float and leave early with a default where the value is \
                 missing (`let Some(&v) = x.get(i) else { return 0.0 };`), or return the \
                 float with a flag kept as a float (`-> (f64, f64)`, the flag `1.0` where \
                 found) and test the flag in the caller: a caller's `h(x).unwrap_or(d)` \
                 becomes `h(x, d)` with the default an argument returned where the value is \
                 missing, its `if let Some(v) = h(x)` or `match` becomes \
                 `let (v, found) = h(x); if found > 0.0 { .. }`, and a `?` on another such \
                 function's result becomes `if found == 0.0 { return (0.0, 0.0); }`",
            ));
        } else if types::holds_result(&ret) {
            errors.push(syn::Error::new_spanned(
                &ret,
                "a differentiated function cannot return a `Result` (it has no gradient type: \
                 the pullback takes a cotangent of the result's type); return the float, and \
                 check what may fail before the call, in a function without \
                 `#[differentiate]` that returns the `Result` (`fn nll_checked(x: &[f64], mu: \
                 f64) -> Result<f64, E> { if x.is_empty() { return Err(..); } Ok(nll(x, mu)) \
                 }`, calling `nll_grad` where the check passes), or `assert!` it in this \
                 function (`assert_eq!(x.len(), y.len(), \"..\");`)",
            ));
        } else if types::is_inactive_type(&ret)
            && params.iter().any(|(n, t)| {
                n != "self" && matches!(t, syn::Type::Reference(r) if r.mutability.is_some())
            })
        {
            // Left without the attribute, a helper writing into its caller's buffers cannot
            // be followed where a buffer holds differentiated values; its copy returning the
            // buffers beside the result would need a gradient type for the integer.
            errors.push(syn::Error::new_spanned(
                &ret,
                "the result is an integer (or a `bool`, a `char`, a string), which has no \
                 derivative, beside buffers lent `&mut`, which the caller's derivative must \
                 follow; split the function: find the integer in a helper without \
                 `#[differentiate]` that reads the buffers (`fn pivot_row(m: &[Vec<f64>], k: \
                 usize) -> usize`), called as `let p = pivot_row(&m, k);`, and change the \
                 buffers in the caller (`m.swap(k, p);`) or in a `#[differentiate]` helper \
                 returning nothing (`fn swap_rows(m: &mut Vec<Vec<f64>>, k: usize, p: usize)`)",
            ));
        } else if types::is_inactive_type(&ret) {
            errors.push(syn::Error::new_spanned(
                &ret,
                "the result is an integer (or a `bool`, a `char`, a string), which has no \
                 derivative; leave `#[differentiate]` off this function: a differentiated \
                 function that calls it runs it as written where it uses the result as one \
                 (`let i: usize = h(x);`, an index), or return the value as a float (`n as \
                 f64`)",
            ));
        } else if types::borrows(&ret) {
            errors.push(syn::Error::new_spanned(
                &ret,
                "a differentiated function cannot return a reference or a view (it has no \
                 gradient type, and the generated functions could not lend it); return an \
                 owned copy (`x[a..b].to_vec()`, `self.w.clone()`, `self.w.row(i).to_owned()`), \
                 which is followed, or read the elements where they are needed (`&x[a..b]`, \
                 `&model.w`); in a `#[differentiate]` impl block, a method returning a \
                 reference that is not marked `#[differentiate]` itself stays as written",
            ));
            // The placeholders return the owned value instead, which has no lifetime to name:
            // a caller differentiating through the function then sees no second error.
            if let Some(t) = types::owned_result(&ret, &opts.krate()) {
                ret = t;
            }
        } else if types::holds_mixed_tuple(&ret) {
            errors.push(syn::Error::new_spanned(
                &ret,
                "the result holds integers (or `bool`s) beside floats, which have no gradient \
                 type; return the floats alone and compute the integers in a function \
                 without `#[differentiate]`, or return them as floats (`(best, i as f64)`, \
                 a flag as `1.0`/`0.0`)",
            ));
        }
        if errors.is_empty() && !active.iter().any(|&a| a) {
            errors.push(syn::Error::new(
                s.inputs.span(),
                "nothing to differentiate: every parameter has an integer, `bool`, `char` or \
                 string type; take the variable as `f64` (or `f32`)",
            ));
        }
        let krate = opts.krate();
        let grads: Vec<TokenStream2> = params
            .iter()
            .zip(&active)
            .filter(|(_, a)| **a)
            .map(|((_, t), _)| types::owned(t, &krate))
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
            generics,
            krate,
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
        // An ndarray view with an elided lifetime (`ArrayView1<'_, f64>`) borrows as a
        // reference does.
        let view = |t: &syn::Type| types::name_view_lifetime(t, &lt);
        let declared: Vec<&syn::Lifetime> =
            func.sig.generics.lifetimes().map(|l| &l.lifetime).collect();
        // The pullback's own lifetime, which every borrow it may keep outlives: an elided one
        // named, or the declared ones (two of them, `&'a [f64]` and `&'b [f64]`, outlive it
        // where neither outlives the other).
        let borrows = tys
            .iter()
            .any(|t| shared(t) || view(t).is_some() || types::name_elided_lifetimes(t, &lt).1)
            || !declared.is_empty();
        let mut_borrows = tys
            .iter()
            .any(|t| matches!(t, syn::Type::Reference(r) if r.mutability.is_some()));
        let with_lt = |t: &syn::Type| -> syn::Type {
            let t = view(t).unwrap_or_else(|| t.clone());
            // A type of data with an elided lifetime (`Cow<'_, [f64]>`, `&Batch<'_>`) borrows
            // as a reference does: the pullback may keep it.
            let t = types::name_elided_lifetimes(&t, &lt).0;
            match t {
                syn::Type::Reference(mut r) if shared(&syn::Type::Reference(r.clone())) => {
                    r.lifetime = Some(lt.clone());
                    syn::Type::Reference(r)
                }
                t => t,
            }
        };
        let vjp_tys: Vec<syn::Type> = tys.iter().map(|t| with_lt(t)).collect();
        // A gradient type with an elided lifetime (`Sparse<'_>` of `m: &Sparse<'_>`, a struct
        // that borrows its data) cannot be elided in a result: it borrows as the parameters
        // do, so it is named the pullback's lifetime, and `_grad` and `_hvp`, which return it,
        // take that lifetime as `_vjp` does.
        let (grad, grad_borrows) = match syn::parse2::<syn::Type>(self.grad.clone()) {
            Ok(t) => {
                let (t, named) = types::name_elided_lifetimes(&t, &lt);
                (quote!(#t), named)
            }
            Err(_) => (self.grad.clone(), false),
        };
        let grad = &grad;
        let named = |t: &syn::Type| -> syn::Type {
            if grad_borrows {
                types::name_elided_lifetimes(t, &lt).0
            } else {
                t.clone()
            }
        };
        let grad_tys: Vec<syn::Type> = tys.iter().map(|t| named(t)).collect();
        // The function's generic parameters, the pullback's lifetime after its own lifetimes
        // (lifetimes come first), and its `where` clause with the bounds the generated code needs.
        let g = &func.sig.generics;
        let own_lifetimes: Vec<&syn::LifetimeParam> = g.lifetimes().collect();
        let others: Vec<TokenStream2> = g
            .params
            .iter()
            .filter_map(|p| match p {
                syn::GenericParam::Lifetime(_) => None,
                syn::GenericParam::Type(t) => {
                    let mut t = t.clone();
                    t.default = None;
                    Some(quote!(#t))
                }
                syn::GenericParam::Const(c) => {
                    let mut c = c.clone();
                    c.default = None;
                    Some(quote!(#c))
                }
            })
            .collect();
        let generics_with = |extra: bool| {
            let lts = quote!(#(#own_lifetimes,)*);
            let extra_lt = if extra { quote!(#lt,) } else { quote!() };
            if !extra && own_lifetimes.is_empty() && others.is_empty() {
                quote!()
            } else {
                quote!(<#lts #extra_lt #(#others,)*>)
            }
        };
        let where_with = |extra: bool| {
            let mut preds: Vec<TokenStream2> = g
                .where_clause
                .iter()
                .flat_map(|w| w.predicates.iter().map(|p| quote!(#p)))
                .collect();
            preds.extend(self.generics.bounds(&self.krate));
            if extra {
                preds.extend(declared.iter().map(|l| quote!(#l: #lt)));
                // The pullback outlives the borrow of the arguments it keeps.
                let tys = g.type_params().map(|t| &t.ident);
                let tys = tys.chain(self.generics.outer());
                preds.extend(tys.map(|t| quote!(#t: #lt)));
            }
            if preds.is_empty() {
                quote!()
            } else {
                quote!(where #(#preds,)*)
            }
        };
        // `use<..>`: the declared lifetimes, the pullback's if `extra`, and (as precise capturing
        // requires) every type and const parameter.
        let captures = |extra: bool| {
            let captured = declared.iter().copied().chain(extra.then_some(&lt));
            let params = g.params.iter().filter_map(|p| match p {
                syn::GenericParam::Type(t) => Some(&t.ident),
                syn::GenericParam::Const(c) => Some(&c.ident),
                syn::GenericParam::Lifetime(_) => None,
            });
            let params = params.chain(self.generics.outer());
            quote!(+ use<#(#captured,)* #(#params),*>)
        };
        // With the pullback's lifetime, the declared lifetimes outlive it (`where 'a: '__ad_a`,
        // above) and the pullback is bound by it alone: it may keep `&'a` and elided borrows.
        let bound_with = |extra: bool| {
            let mut b = if extra { quote!(+ #lt) } else { quote!() };
            if mut_borrows {
                b.append(captures(extra));
            }
            b
        };
        let plain_where = where_with(false);
        let plain_generics = generics_with(false);
        // Forward mode: one tangent per differentiated parameter, after the parameters; a
        // parameter taken by reference has its tangent by reference, of the gradient type.
        let mut tangent_names = Vec::new();
        let mut tangent_tys = Vec::new();
        for ((n, t), active) in self.params.iter().zip(&self.active) {
            if !active {
                continue;
            }
            let d = crate::codegen::names::tangent_name(&n.to_string(), |name| {
                self.params.iter().any(|(q, _)| *q == name)
            });
            tangent_names.push(d);
            let g = types::owned(t, &self.krate);
            // A view borrows its array: its tangent is borrowed too, as for `&Array1<f64>`.
            let by_ref = matches!(t, syn::Type::Reference(_)) || types::view_kind(t).is_some();
            tangent_tys.push(if by_ref { quote!(&#g) } else { quote!(#g) });
        }
        // The tangents of `_hvp` and the second-order items, which return gradients built
        // from them, with the gradient's lifetimes named (`_jvp` returns none).
        let named_tangent_tys: Vec<TokenStream2> = tangent_tys
            .iter()
            .map(|t| match syn::parse2::<syn::Type>(t.clone()) {
                Ok(t) => {
                    let t = named(&t);
                    quote!(#t)
                }
                Err(_) => t.clone(),
            })
            .collect();
        let tangent_refs = self.params.iter().zip(&self.active).any(|((_, t), a)| {
            *a && (matches!(t, syn::Type::Reference(_)) || types::view_kind(t).is_some())
        });
        let Bodies {
            vjp: vjp_body,
            grad: grad_body,
            jvp: jvp_body,
            second_order,
            vjp_along,
            plain,
            stub: bodies_stub,
        } = bodies;
        let (vjp_body, grad_body, jvp_body, vjp_along) = match plain {
            Some(path) if self.params.iter().all(|(_, t)| recallable(t)) => {
                let at = |body: TokenStream2| self.plain_value_at_departures(&path, body);
                (at(vjp_body), at(grad_body), at(jvp_body), vjp_along.map(at))
            }
            _ => (vjp_body, grad_body, jvp_body, vjp_along),
        };
        // Items at the top of the function's body (`const EPS: f64 = 1e-8;`, a helper `fn`) are
        // in scope in each generated item too, as they are in the function.
        let inner: Vec<&syn::Item> = func
            .block
            .stmts
            .iter()
            .filter_map(|s| match s {
                syn::Stmt::Item(i) if crate::lower::is_repeatable_item(i) => Some(i),
                _ => None,
            })
            .collect();
        let with_items = |body: TokenStream2| quote!(#(#inner)* #body);
        let (vjp_body, grad_body, jvp_body) = (
            with_items(vjp_body),
            with_items(grad_body),
            with_items(jvp_body),
        );
        let second_order = second_order.map(|(a, b)| (with_items(a), with_items(b)));
        let vjp_along = vjp_along.map(with_items);
        let (vjp, grad_fn, jvp, vjp_jvp, hvp) = (
            item("vjp"),
            item("grad"),
            item("jvp"),
            item("vjp_jvp"),
            item("hvp"),
        );
        let (vjp_generics, vjp_bound, vjp_where) = (
            generics_with(borrows),
            bound_with(borrows),
            where_with(borrows),
        );
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
        // A differentiated parameter of a type of the user's own (`kind: Activation`, an enum
        // the macro cannot see) without a gradient type: an error at the parameter's type that
        // names `wrt(..)`, rather than one at the attribute from inside the generated code.
        let own_type_checks: Vec<TokenStream2> = self
            .params
            .iter()
            .zip(&self.active)
            .filter(|(_, a)| **a)
            .filter_map(|((n, t), _)| {
                let krate = &self.krate;
                // `self` (`&self`, `self`) of a type without a gradient type (a struct of
                // parameters not deriving `Differentiable`, a unit struct of settings): the
                // error is at the receiver, as it is at another parameter's type.
                if *n == "self" {
                    let r = func.sig.inputs.iter().find_map(|a| match a {
                        syn::FnArg::Receiver(r) => Some(r),
                        _ => None,
                    })?;
                    let span = r.self_token.span;
                    return Some(quote::quote_spanned! {span=>
                        #krate::__private::active_parameter::<Self>();
                    });
                }
                let inner = types::own_type_to_check(t, func)?;
                Some(quote::quote_spanned! {inner.span()=>
                    #krate::__private::active_parameter::<#inner>();
                })
            })
            .collect();
        let mut out = quote! {
            #vjp_doc
            #allow
            #[inline]
            #vis fn #vjp #vjp_generics (#(#names: #vjp_tys),*)
                -> (#ret, impl ::core::ops::FnOnce(#ret) -> #grad #vjp_bound)
            #vjp_where
            {
                #(#own_type_checks)*
                #vjp_body
            }
            #jvp_doc
            #allow
            #[inline]
            #vis fn #jvp #plain_generics (#(#names: #tys,)* #(#tangent_names: #tangent_tys),*)
                -> (#ret, #ret)
            #plain_where
            {
                #jvp_body
            }
        };
        // The pullback of `_vjp_jvp` keeps copies of the tangents, never the caller's: their
        // lifetimes are not captured.
        let (vjp_jvp_generics, mut vjp_jvp_bound) = (generics_with(borrows), bound_with(borrows));
        if tangent_refs && !mut_borrows {
            vjp_jvp_bound.append(captures(borrows));
        }
        let tys_second = &vjp_tys;
        let tangent_tys_second = &named_tangent_tys;
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
            out.append(quote! {
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
            out.append(quote! {
                #vjp_jvp_doc
                #allow
                #[inline]
                #vis fn #vjp_jvp #vjp_jvp_generics (
                    #(#names: #tys_second,)* #(#tangent_names: #tangent_tys_second),*
                ) -> (#ret, #ret, impl ::core::ops::FnOnce(#ret, #ret) -> (#grad, #grad) #vjp_jvp_bound)
                #vjp_where
                {
                    #vjp_jvp_body
                }
            });
        } else {
            // Without `hessian`, a stand-in that a caller's second order finds in its place:
            // its bound, which no type meets, is the error that says what to add. It takes as
            // many arguments as the real one would, of any types, so that the call fits it.
            let krate = &self.krate;
            let n = names.len() + tangent_names.len();
            out.append(stand_in(
                &allow,
                vis,
                &vjp_jvp,
                n,
                quote!(#krate::__private::DifferentiatedWithHessian),
            ));
            // And a stand-in `_hvp`, so that calling it is the error that says to add
            // `hessian`, not rustc's "cannot find function", whose suggestion is `_jvp`.
            out.append(stand_in(
                &allow,
                vis,
                &hvp,
                n,
                quote!(#krate::__private::HvpWithHessian),
            ));
        }
        // `_jvp` and `_hvp` called on differentiated values inside a differentiated function:
        // their derivatives are not generated, and a stand-in for each is the error that says
        // what to write.
        if !bodies_stub {
            let krate = &self.krate;
            let (np, nt) = (names.len(), tangent_names.len());
            for (suffix, n) in [
                ("jvp_vjp", np + nt),
                ("jvp_jvp", 2 * (np + nt)),
                ("jvp_vjp_jvp", 2 * (np + nt)),
                ("hvp_vjp", np + nt),
                ("hvp_jvp", 2 * (np + nt)),
                ("hvp_vjp_jvp", 2 * (np + nt)),
            ] {
                out.append(stand_in(
                    &allow,
                    vis,
                    &item(suffix),
                    n,
                    quote!(#krate::__private::NestedDerivativeWrittenOut),
                ));
            }
            // A caller in exact mode at kinks calls `_vjp_along` of each: not generated.
            for suffix in ["grad_vjp_along", "jvp_vjp_along", "hvp_vjp_along"] {
                let n = if suffix == "grad_vjp_along" {
                    np + nt
                } else {
                    2 * (np + nt)
                };
                out.append(stand_in(
                    &allow,
                    vis,
                    &item(suffix),
                    n,
                    quote!(#krate::__private::NestedDerivativeAtKinks),
                ));
            }
        }
        // `_grad` and `_hvp` with the pullback's lifetime where their gradient borrows (above).
        let (plain_generics, plain_where) = if grad_borrows {
            (generics_with(true), where_with(true))
        } else {
            (plain_generics, plain_where)
        };
        let alias = crate::lower::calls::is_float_alias(ret);
        if types::is_scalar_float(&self.ret) || (alias && !bodies_stub) {
            // A result named like a float alias (`-> Real`): the real `_grad`, bound by the
            // result being a float, which its seed comes from (not checked where it is defined:
            // a struct named `Value` is the error at the call, as below).
            let krate = &self.krate;
            let plain_where = if !alias {
                plain_where.clone()
            } else if plain_where.is_empty() {
                quote!(where for<'__ad_s> &'__ad_s (): #krate::__private::GradOfScalarResult<#ret>)
            } else {
                quote!(#plain_where for<'__ad_s> &'__ad_s (): #krate::__private::GradOfScalarResult<#ret>)
            };
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
            out.append(quote! {
                #grad_doc
                #allow
                #[inline]
                #vis fn #grad_fn #plain_generics (#(#names: #grad_tys),*) -> (#ret, #grad)
                #plain_where
                {
                    #grad_body
                }
            });
            let with_hvp = hvp_body.is_some();
            if let Some(hvp_body) = hvp_body {
                out.append(quote! {
                    #hvp_doc
                    #allow
                    #[inline]
                    #vis fn #hvp #plain_generics (
                        #(#names: #grad_tys,)* #(#tangent_names: #named_tangent_tys),*
                    ) -> (#ret, #grad, #grad)
                    #plain_where
                    {
                        #hvp_body
                    }
                });
            }
            // `_grad` called on differentiated values inside a differentiated function (an
            // inner gradient step, a gradient penalty): its derivatives are second derivatives,
            // made from `_hvp` where there is one.
            // A parameter passed by value is given to `_grad` as a copy and kept for `_hvp`: an
            // active one is `Clone` (its type is differentiable); one of data must be recallable.
            let kept = |((_, t), a): (&(syn::Ident, syn::Type), &bool)| *a || recallable(t);
            let recallable_all = self.params.iter().zip(&self.active).all(kept) && !mut_borrows;
            if with_hvp && recallable_all && !bodies_stub {
                let path = |item: &syn::Ident| {
                    let method = func.sig.receiver().is_some();
                    if types::in_impl_block() || method {
                        quote!(Self::#item)
                    } else {
                        quote!(#item)
                    }
                };
                let (grad_call, hvp_call, jvp_call) = (path(&grad_fn), path(&hvp), path(&jvp));
                let (grad_vjp, grad_jvp) = (item("grad_vjp"), item("grad_jvp"));
                let k = tangent_names.len();
                let parts: Vec<syn::Ident> =
                    (0..k).map(|i| format_ident!("__ad_gb{}", i)).collect();
                let split = if k == 1 {
                    let p = &parts[0];
                    quote!(let #p = __ad_gb;)
                } else {
                    quote!(let (#(#parts,)*) = __ad_gb;)
                };
                let lent: Vec<TokenStream2> = parts
                    .iter()
                    .zip(&tangent_tys)
                    .map(|(p, t)| {
                        if t.to_string().starts_with('&') {
                            quote!(&#p)
                        } else {
                            quote!(#p)
                        }
                    })
                    .collect();
                let copies: Vec<TokenStream2> = self
                    .params
                    .iter()
                    .map(|(n, t)| {
                        if recallable(t) {
                            quote!(#n)
                        } else {
                            quote!(::core::clone::Clone::clone(&#n))
                        }
                    })
                    .collect();
                let krate = &self.krate;
                let gv_doc = doc(&format!(
                    "Value and pullback of `{name}_grad`: the pullback of a cotangent `(ȳ, ḡ)` \
                     of the value and the gradient is `ȳ·∇{name} + H·ḡ`, through `{name}_hvp`. \
                     What a differentiated function calling `{name}_grad` calls."
                ));
                let gj_doc = doc(&format!(
                    "Value and tangent of `{name}_grad` (forward mode): the tangent of the \
                     value is `∇{name}·v`, that of the gradient `H·v`, through `{name}_hvp`."
                ));
                out.append(quote! {
                    #gv_doc
                    #allow
                    #[inline]
                    #vis fn #grad_vjp #vjp_generics (#(#names: #vjp_tys),*)
                        -> ((#ret, #grad), impl ::core::ops::FnOnce((#ret, #grad)) -> #grad #vjp_bound)
                    #vjp_where
                    {
                        let (__ad_y, __ad_g) = #grad_call(#(#copies),*);
                        let __ad_out = (__ad_y, ::core::clone::Clone::clone(&__ad_g));
                        (__ad_out, move |(__ad_yb, __ad_gb): (#ret, #grad)| -> #grad {
                            #split
                            let (_, _, mut __ad_hv) = #hvp_call(#(#names,)* #(#lent),*);
                            let mut __ad_g = __ad_g;
                            #krate::Differentiable::scale(&mut __ad_g, __ad_yb);
                            #krate::Differentiable::add_assign(&mut __ad_hv, &__ad_g);
                            __ad_hv
                        })
                    }
                    #gj_doc
                    #allow
                    #[inline]
                    #vis fn #grad_jvp #plain_generics (
                        #(#names: #grad_tys,)* #(#tangent_names: #named_tangent_tys),*
                    ) -> ((#ret, #grad), (#ret, #grad))
                    #plain_where
                    {
                        let (_, __ad_dy) = #jvp_call(
                            #(#copies,)* #(::core::clone::Clone::clone(&#tangent_names)),*
                        );
                        let (__ad_y, __ad_g, __ad_hv) = #hvp_call(#(#names,)* #(#tangent_names),*);
                        ((__ad_y, __ad_g), (__ad_dy, __ad_hv))
                    }
                });
                // Its second order (a `hessian` caller's) would be a third derivative.
                let n = names.len() + tangent_names.len();
                out.append(stand_in(
                    &allow,
                    vis,
                    &item("grad_vjp_jvp"),
                    n,
                    quote!(#krate::__private::NestedDerivativeWrittenOut),
                ));
            } else if !bodies_stub {
                let krate = &self.krate;
                let bound = if with_hvp {
                    quote!(#krate::__private::NestedDerivativeWrittenOut)
                } else {
                    quote!(#krate::__private::GradCalledWithHessian)
                };
                for (suffix, n) in [
                    ("grad_vjp", names.len()),
                    ("grad_jvp", names.len() + tangent_names.len()),
                    ("grad_vjp_jvp", names.len() + tangent_names.len()),
                ] {
                    out.append(stand_in(&allow, vis, &item(suffix), n, bound.clone()));
                }
            }
        } else if !bodies_stub {
            // A result whose type is not written as a float (`-> Real` of `type Real = f64;`,
            // a struct, a `Vec`) has no `_grad`: in its place a stand-in whose bound no type
            // meets, so that calling it is an error that says why and what to write, not
            // rustc's "cannot find function `f_grad`".
            let krate = &self.krate;
            let bound = quote!(for<'__ad_s> &'__ad_s (): #krate::__private::GradOfScalarResult<#krate::__private::NoGrad<#ret>>);
            let where_clause = if plain_where.is_empty() {
                quote!(where #bound)
            } else {
                quote!(#plain_where #bound)
            };
            out.append(quote! {
                #[doc(hidden)]
                #allow
                #vis fn #grad_fn #plain_generics (#(#names: #grad_tys),*) -> (#ret, #grad)
                #where_clause
                {
                    ::core::unreachable!()
                }
            });
            // Nor an `_hvp` (a Hessian is of a float): with `hessian`, a stand-in whose call is
            // the error that says so.
            if hvp_body.is_some() {
                out.append(stand_in(
                    &allow,
                    vis,
                    &hvp,
                    names.len() + tangent_names.len(),
                    quote!(#krate::__private::HvpOfScalarResult),
                ));
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
    /// Exact mode: the path that calls the function as written (`f`, `Self::f`), whose value
    /// the items return where a tie was decided against the plain comparison (see
    /// [`Signature::plain_value_at_departures`]).
    pub plain: Option<TokenStream2>,
    /// The placeholders made after an error (see `with_stubs`): no stand-in `_grad` whose call
    /// would be a second error.
    pub stub: bool,
}

/// A parameter type that holds floats but has no gradient type, data unless named in
/// `wrt(..)` (where it is an error): an `Option` (`reg: Option<f64>`, a setting that may be off)
/// or a container or tuple of them (`ratings: &[Option<f64>]`, `None` where there is none), a
/// map or a set (`counts: &HashMap<String, f64>`, a table built outside), and a cell (`c:
/// &Cell<f64>`, shared state read as data).
fn no_gradient_type(t: &syn::Type) -> bool {
    types::holds_option(t) || types::holds_map(t) || types::is_cell(t)
}

/// A parameter whose argument the generated item can pass on again after its body ran: a
/// shared reference, a view, or a float, integer or `bool` (or a fixed-size array or tuple of
/// them), which are `Copy`. Not a shared reference to a type written with interior
/// mutability (`&Cell<u32>`, `&RefCell<_>`, `&Mutex<_>`, `&AtomicUsize`): the body may change
/// what it refers to, and a second call would see the first one's changes.
fn recallable(t: &syn::Type) -> bool {
    match t {
        syn::Type::Reference(r) => {
            r.mutability.is_none() && !crate::types::interior_mutable(&r.elem)
        }
        syn::Type::Paren(p) => recallable(&p.elem),
        syn::Type::Group(g) => recallable(&g.elem),
        syn::Type::Array(a) => recallable(&a.elem),
        syn::Type::Tuple(tt) => tt.elems.iter().all(recallable),
        // A scalar or a float type parameter (one name), or a view; not a `Vec` or a `String`,
        // which the body moves.
        syn::Type::Path(p) => {
            types::view_kind(t).is_some()
                || p.path.get_ident().is_some_and(|id| {
                    let n = id.to_string();
                    n != "String" && (types::is_float_type(t) || types::is_inactive_type(t))
                })
        }
        _ => false,
    }
}

impl Signature {
    /// `body` of an item in exact mode, returning the value of the function as written where
    /// a comparison's tie was decided against its plain result (`x < 1.0` at `x = 1` along a
    /// direction that decreases `x`): the program then went on along the piece the direction
    /// enters, whose value is the function's only where it is continuous at the tie (a step,
    /// `if x < 1.0 { x } else { x + 10.0 }`, or a `while` loop whose exit test ties, is not).
    /// The derivatives are the piece's. The items' value is the first of what they return.
    fn plain_value_at_departures(&self, path: &TokenStream2, body: TokenStream2) -> TokenStream2 {
        let krate = &self.krate;
        let names = self.params.iter().map(|(n, _)| n);
        quote! {
            let __ad_outer = #krate::__private::kinks::enter();
            let mut __ad_items = { #body };
            if #krate::__private::kinks::leave(__ad_outer) {
                __ad_items.0 = #path(#(#names),*);
            }
            __ad_items
        }
    }
}

/// Traits whose bound makes a type parameter a float: `num_traits`' `Float`, `FloatCore` and
/// `Real`, this crate's `Real`, ndarray's `NdFloat` (and the runtime's `NdReal`), by the last
/// segment of their path.
pub(crate) const FLOAT_TRAITS: &[&str] = &["Float", "FloatCore", "Real", "NdFloat", "NdReal"];

/// What a type parameter of a differentiated function stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GenericKind {
    /// A float type (bounded by one of [`FLOAT_TRAITS`]): the generated items add
    /// `T: autodiff::Real`, which implies every rule the generated code calls on it.
    Float,
    /// Anything else (ndarray's `D: Dimension` among them): passed through with its bounds.
    /// A differentiated parameter or the result may hold it only inside an array's type
    /// (`Array<f64, D>`), where the runtime's rules are generic over it.
    Other,
}

/// A stand-in for a generated function that does not exist: `name` taking `arity` arguments of
/// any types, bound by `for<'a> &'a (): bound`, which no type meets, so that a call is the
/// bound's error (its message says what to write) instead of rustc's "cannot find function".
pub(crate) fn stand_in(
    attrs: &TokenStream2,
    vis: &syn::Visibility,
    name: &syn::Ident,
    arity: usize,
    bound: TokenStream2,
) -> TokenStream2 {
    let a: Vec<syn::Ident> = (0..arity).map(|k| format_ident!("__AdA{}", k)).collect();
    quote! {
        #[doc(hidden)]
        #attrs
        #vis fn #name<#(#a,)* __AdR>(#(_: #a),*) -> __AdR
        where
            for<'__ad_s> &'__ad_s (): #bound,
        {
            ::core::unreachable!()
        }
    }
}

/// What follows "`n` is not a parameter" in the error of a `wrt(n)`: the parameter it
/// resembles, a misspelling (`wrt(gain)` of `gian: f64`), and the names there are (not those
/// of a parameter written as a pattern, which `wrt(..)` cannot name).
fn parameters_named(n: &syn::Ident, params: &[(syn::Ident, syn::Type)]) -> String {
    let names: Vec<String> = params
        .iter()
        .map(|(p, _)| p.to_string())
        .filter(|p| !p.starts_with("__ad"))
        .collect();
    if names.is_empty() {
        return String::new();
    }
    let wanted = n.to_string();
    let close = names
        .iter()
        .map(|p| (edit_distance(&wanted, p), p))
        // Near, and not a rewrite of the whole name (`z` of `x`).
        .filter(|(d, p)| {
            let len = p.chars().count().min(wanted.chars().count());
            *d <= 1.max(len / 3) && *d < len
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, p)| format!("; did you mean `{p}`?"))
        .unwrap_or_default();
    let list: Vec<String> = names.iter().map(|p| format!("`{p}`")).collect();
    format!("{close} (its parameters: {})", list.join(", "))
}

/// The number of single-character insertions, deletions, substitutions and transpositions of
/// adjacent characters that make `a` into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, first) in d[0].iter_mut().enumerate() {
        *first = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The type parameters of a differentiated function, read for what they stand for.
#[derive(Clone, Default)]
pub struct Generics {
    params: Vec<(syn::Ident, GenericKind)>,
    /// Float type parameters of the enclosing `impl` that the method's `where` clause bounds
    /// (`where T: Float` in `impl<T: Float> P<T>`): floats here, but not the method's own.
    outer: Vec<syn::Ident>,
    /// For a type parameter that is not a float, the first trait bounding it that is not of
    /// `std` or ndarray (`T: Scalar` of the user's `trait Scalar: Float {}`): the macro does
    /// not see its supertraits, and the error says to name the float trait beside it.
    own: Vec<(syn::Ident, String)>,
    /// Type parameters bounded by `Fn(..)` (`F: Fn(usize) -> f64`, a schedule or a weight by
    /// position): a parameter of such a type is data, as one of type `impl Fn(..)`, `&dyn
    /// Fn(..)` or `fn(..)` is.
    fns: Vec<syn::Ident>,
    /// Type parameters bounded by `FnMut(..)` or `FnOnce(..)` and not `Fn(..)`: a parameter
    /// of such a type taken by value is called through a shared borrow by the generated items,
    /// which it cannot be.
    fn_muts: Vec<syn::Ident>,
}

/// Traits of `std` (and ndarray's `Dimension`) that a type parameter is bounded by besides a
/// float trait: none of them is the user's own trait with a float supertrait.
const STD_TRAITS: &[&str] = &[
    "Copy",
    "Clone",
    "Debug",
    "Display",
    "Default",
    "PartialEq",
    "PartialOrd",
    "Eq",
    "Ord",
    "Hash",
    "Send",
    "Sync",
    "Sized",
    "Unpin",
    "Into",
    "From",
    "TryInto",
    "TryFrom",
    "AsRef",
    "Borrow",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Rem",
    "Neg",
    "AddAssign",
    "SubAssign",
    "MulAssign",
    "DivAssign",
    "Sum",
    "Product",
    "Iterator",
    "IntoIterator",
    "Fn",
    "FnMut",
    "FnOnce",
    "ToString",
    "FromStr",
    "Dimension",
    "Differentiable",
    "Primal",
];

impl Generics {
    /// Reads the bounds of each type parameter, in the parameter list and the `where` clause.
    pub fn read(g: &syn::Generics) -> Self {
        let params: Vec<(syn::Ident, GenericKind)> = g
            .type_params()
            .map(|t| {
                let kind = if bounds_of(g, &t.ident).any(is_float_bound) {
                    GenericKind::Float
                } else {
                    GenericKind::Other
                };
                (t.ident.clone(), kind)
            })
            .collect();
        let declared: Vec<&syn::Ident> = g.type_params().map(|t| &t.ident).collect();
        let mut outer: Vec<syn::Ident> = Vec::new();
        for p in g.where_clause.iter().flat_map(|w| &w.predicates) {
            if let syn::WherePredicate::Type(pt) = p {
                if let syn::Type::Path(tp) = &pt.bounded_ty {
                    if let Some(id) = tp.path.get_ident().filter(|_| tp.qself.is_none()) {
                        if !declared.contains(&id)
                            && !outer.contains(id)
                            && pt.bounds.iter().any(is_float_bound)
                        {
                            outer.push(id.clone());
                        }
                    }
                }
            }
        }
        let own_trait = |b: &syn::TypeParamBound| match b {
            syn::TypeParamBound::Trait(t) => t
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .filter(|n| !STD_TRAITS.contains(&n.as_str())),
            _ => None,
        };
        let own = params
            .iter()
            .filter(|(_, k)| *k == GenericKind::Other)
            .filter_map(|(id, _)| {
                bounds_of(g, id)
                    .find_map(own_trait)
                    .map(|t| (id.clone(), t))
            })
            .collect();
        let fns = g
            .type_params()
            .filter(|t| bounds_of(g, &t.ident).any(types::is_fn_bound_shared))
            .map(|t| t.ident.clone())
            .collect();
        let fn_muts = g
            .type_params()
            .filter(|t| {
                bounds_of(g, &t.ident).any(types::is_fn_bound)
                    && !bounds_of(g, &t.ident).any(types::is_fn_bound_shared)
            })
            .map(|t| t.ident.clone())
            .collect();
        Generics {
            params,
            outer,
            own,
            fns,
            fn_muts,
        }
    }

    /// `F` of a type parameter `F` bounded by `FnMut(..)` or `FnOnce(..)`, taken by value.
    pub fn is_fn_mut_by_value(&self, ty: &syn::Type) -> bool {
        match ty {
            syn::Type::Paren(p) => self.is_fn_mut_by_value(&p.elem),
            syn::Type::Group(g) => self.is_fn_mut_by_value(&g.elem),
            syn::Type::Path(p) if p.qself.is_none() => p
                .path
                .get_ident()
                .is_some_and(|id| self.fn_muts.contains(id)),
            _ => false,
        }
    }

    /// `F`, `&F` or `&mut F` of a type parameter `F` bounded by a closure trait (data; one
    /// bounded by `FnMut(..)` taken by value is an error of its own).
    pub fn is_fn_param(&self, ty: &syn::Type) -> bool {
        match ty {
            syn::Type::Reference(r) => self.is_fn_param(&r.elem),
            syn::Type::Paren(p) => self.is_fn_param(&p.elem),
            syn::Type::Group(g) => self.is_fn_param(&g.elem),
            syn::Type::Path(p) if p.qself.is_none() => p
                .path
                .get_ident()
                .is_some_and(|id| self.fns.contains(id) || self.fn_muts.contains(id)),
            _ => false,
        }
    }

    /// For the error at a type parameter `g` that is not a float: where a trait of the user's
    /// bounds it (`T: Scalar`), a sentence saying that its supertraits are not seen and what
    /// to write; empty otherwise.
    pub fn own_trait_note(&self, g: &syn::Ident) -> String {
        self.own
            .iter()
            .find(|(p, _)| p == g)
            .map(|(_, t)| {
                format!(
                    " (the macro reads the bounds as written and does not see the supertraits of \
                     `{t}`: if `{t}` is a float trait of yours, `trait {t}: Float`, name the float \
                     trait beside it, `{g}: {t} + num_traits::Float`)"
                )
            })
            .unwrap_or_default()
    }

    /// The float type parameters of the enclosing `impl` named in the `where` clause.
    pub fn outer(&self) -> &[syn::Ident] {
        &self.outer
    }

    /// A type parameter that `ty` seems to hold as a type (`T`, `&[T]`, `P<T>`, not an array
    /// length or an ndarray dimension) and that is declared neither on the function nor in
    /// its `where` clause, but may be a parameter of the enclosing `impl` (`method`: the
    /// function is a method; see `types::may_be_impl_param`), whose bounds the macro does not
    /// read.
    pub fn undeclared_in(&self, ty: &syn::Type, method: bool) -> Option<syn::Ident> {
        struct Find<'g>(&'g Generics, Option<syn::Ident>, bool);
        impl<'ast> syn::visit::Visit<'ast> for Find<'_> {
            fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
                if self.1.is_some() {
                    return;
                }
                if let Some(id) = tp.path.get_ident().filter(|_| tp.qself.is_none()) {
                    let param = types::may_be_impl_param(&id.to_string(), self.2);
                    let g = self.0;
                    if param && !g.params.iter().any(|(p, _)| p == id) && !g.outer.contains(id) {
                        self.1 = Some(id.clone());
                    }
                    return;
                }
                let last = tp.path.segments.last();
                let array = last.is_some_and(|s| {
                    let n = s.ident.to_string();
                    ["Array", "ArcArray", "CowArray", "ArrayView"]
                        .iter()
                        .any(|a| n.starts_with(a))
                });
                match last.map(|s| &s.arguments) {
                    // The elements of an ndarray array, not its dimension.
                    Some(syn::PathArguments::AngleBracketed(a)) if array => {
                        if let Some(t) = a.args.iter().find_map(|g| match g {
                            syn::GenericArgument::Type(t) => Some(t),
                            _ => None,
                        }) {
                            self.visit_type(t);
                        }
                    }
                    _ => syn::visit::visit_type_path(self, tp),
                }
            }
            fn visit_expr(&mut self, _: &'ast syn::Expr) {}
        }
        let mut f = Find(self, None, method);
        syn::visit::Visit::visit_type(&mut f, ty);
        f.1
    }

    /// The names of the float type parameters, the enclosing `impl`'s among them.
    pub fn float_names(&self) -> Vec<String> {
        self.floats().map(|i| i.to_string()).collect()
    }

    /// The names of all the type parameters, the enclosing `impl`'s float ones too.
    pub fn names(&self) -> Vec<String> {
        let own = self.params.iter().map(|(i, _)| i.to_string());
        own.chain(self.outer.iter().map(|i| i.to_string()))
            .collect()
    }

    /// The names of the type parameters that are not floats (`L` of `fn total<L: Loss>`).
    pub fn other_names(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|(_, k)| *k == GenericKind::Other)
            .map(|(i, _)| i.to_string())
            .collect()
    }

    /// The float type parameters, the function's and then the enclosing `impl`'s.
    pub fn floats(&self) -> impl Iterator<Item = &syn::Ident> {
        self.params
            .iter()
            .filter(|(_, k)| *k == GenericKind::Float)
            .map(|(i, _)| i)
            .chain(&self.outer)
    }

    /// A type parameter that is not a float and that `ty` holds other than as the dimension of
    /// an ndarray array: one whose derivative the generated code cannot know.
    pub fn opaque_in(&self, ty: &syn::Type) -> Option<&syn::Ident> {
        let mut found = None;
        mentions(quote!(#ty), &mut |id, in_array_dim| {
            if found.is_none() && !in_array_dim {
                found = self
                    .params
                    .iter()
                    .find(|(p, k)| *k == GenericKind::Other && p == id)
                    .map(|(p, _)| p);
            }
        });
        found
    }

    /// The bounds the generated items add: `T: autodiff::Real` for each float parameter.
    pub fn bounds(&self, krate: &TokenStream2) -> Vec<TokenStream2> {
        self.floats().map(|t| quote!(#t: #krate::Real)).collect()
    }
}

/// The error for a type parameter `g` of the enclosing `impl` in the signature at `at`.
fn undeclared(at: &syn::Type, g: &syn::Ident) -> syn::Error {
    // With the attribute on the block, the macro reads the block's bounds (see
    // `expand_impl`): `g` is bounded by no float trait there.
    let msg = if types::in_impl_block() {
        format!(
            "`{g}` is a type parameter of the `impl` block, which bounds it by no float trait, \
             so the generated code cannot differentiate it; if `{g}` stands for a float, bound \
             it so on the block, `impl<{g}: num_traits::Float> ..` (or `autodiff::Real`; a \
             float trait of your own is not seen to be one: name the float trait beside it, \
             `{g}: Scalar + num_traits::Float`)"
        )
    } else {
        format!(
            "`{g}` is not a parameter of this function, and the macro sees only the function, \
             not the bounds of the `impl` around it; if `{g}` is a float type parameter of the \
             `impl` (`impl<{g}: Float> P<{g}>`), put `#[differentiate]` on the `impl` block, \
             whose bounds it then reads, or repeat the bound on the method: \
             `fn f(&self, x: {g}) -> {g} where {g}: num_traits::Float` (a type of your own \
             named `{g}` is taken for a type parameter here: give it a longer name)"
        )
    };
    syn::Error::new_spanned(at, msg)
}

fn is_ident(ty: &syn::Type, id: &syn::Ident) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(id))
}

/// Whether `b` is one of the float traits (`Float`, `Real`, ..., by its last segment).
pub(crate) fn is_float_bound(b: &syn::TypeParamBound) -> bool {
    matches!(b, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(
        |s| FLOAT_TRAITS.contains(&s.ident.to_string().as_str())))
}

/// The predicates of `g`'s `where` clause that bound the type parameter `id` (`where T: ..`).
pub(crate) fn where_bounds<'a>(
    g: &'a syn::Generics,
    id: &'a syn::Ident,
) -> impl Iterator<Item = &'a syn::PredicateType> {
    (g.where_clause.iter().flat_map(|w| &w.predicates)).filter_map(move |p| match p {
        syn::WherePredicate::Type(pt) if is_ident(&pt.bounded_ty, id) => Some(pt),
        _ => None,
    })
}

/// The bounds of the type parameter `id`, in `g`'s parameter list and its `where` clause.
pub(crate) fn bounds_of<'a>(
    g: &'a syn::Generics,
    id: &'a syn::Ident,
) -> impl Iterator<Item = &'a syn::TypeParamBound> {
    let in_list = g
        .type_params()
        .filter(move |t| t.ident == *id)
        .flat_map(|t| &t.bounds);
    in_list.chain(where_bounds(g, id).flat_map(|pt| &pt.bounds))
}

/// Calls `f` on every identifier in `ts`, saying whether it is the last generic argument of an
/// ndarray array type (`Array<f64, D>`, `Array1`… take no dimension argument).
fn mentions(ts: TokenStream2, f: &mut dyn FnMut(&syn::Ident, bool)) {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    // Depth of `<..>` inside an array type's arguments, and the commas seen at its top level.
    let mut array: Option<(usize, usize)> = None;
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Group(g) => mentions(g.stream(), f),
            TokenTree::Ident(id) => {
                let is_array = matches!(
                    id.to_string().as_str(),
                    "Array" | "ArrayBase" | "ArrayView" | "ArcArray" | "CowArray"
                );
                let opens =
                    matches!(tokens.get(k + 1), Some(TokenTree::Punct(p)) if p.as_char() == '<');
                if array.is_none() && is_array && opens {
                    array = Some((depth + 1, 0));
                }
                let in_dim = array.is_some_and(|(d, commas)| d == depth && commas >= 1);
                f(id, in_dim);
            }
            TokenTree::Punct(p) => match p.as_char() {
                '<' => depth += 1,
                '>' => {
                    if array.is_some_and(|(d, _)| d == depth) {
                        array = None;
                    }
                    depth = depth.saturating_sub(1);
                }
                ',' => {
                    if let Some((d, c)) = &mut array {
                        if *d == depth {
                            *c += 1;
                        }
                    }
                }
                _ => {}
            },
            TokenTree::Literal(_) => {}
        }
    }
}
