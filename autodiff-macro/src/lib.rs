//! `#[differentiate]`: compile-time automatic differentiation by source transformation —
//! reverse mode (`_grad`, `_vjp`), forward mode (`_jvp`) and, on request, forward over reverse
//! (`_hvp`, `_vjp_jvp`). Use it through the `autodiff` crate, which documents the contract.
//!
//! The macro is a small compiler over one IR (`ir`: SSA values in nested blocks, checked by
//! `ir::verify` after every pass). The passes, one module (or folder) each:
//!
//! 1. `options`: the attribute's arguments; `signature`: the parameters, the gradient and
//!    tangent types, the shells of the generated items;
//! 2. `lower`: the function to SSA, rejecting what is outside the supported subset;
//!    `structurize` and a clean-up of dead values (`simplify::remove_dead`); `fills`: reads
//!    of an array a loop has just filled become the values written;
//! 3. `cse`: a value computed twice from the same operands (`x[i] * x[i]`) is computed once;
//!    `activity`: which values need derivatives; `check`: errors that need activity;
//!    `scalars`: which values are plain floats of a type the macro can write;
//! 4. `forward`: forward mode as an IR → IR pass (and forward over reverse);
//! 5. `joint`, `reverse`, `simplify`, `checkpoint`, `fuse`: reverse mode as an IR → IR pass —
//!    the pullback is IR too; in exact mode at kinks (`kinks`), on the function that forward
//!    mode has made decide its kinks;
//! 6. `plan`: the save plan (capture, recompute, record, stack, shape only), applied to the IR;
//! 7. `codegen`: the IR printed as Rust.
//!
//! What the macro knows of a primitive is one entry of `prim`'s table, from which the
//! runtime's rules are also generated (`rulegen`, through the hidden `__rules!` macro).
//!
//! Errors are `syn::Error`s spanned at the offending tokens, all reported together; on error the
//! original function is still emitted with stub items of the right signatures, so one mistake
//! does not cascade into "cannot find `f_grad`". A function that does not parse is passed on as
//! written, so that rustc's syntax error is the only one.

mod activity;
mod check;
mod checkpoint;
mod codegen;
mod counters;
mod cse;
mod derive;
mod elementwise;
mod fills;
mod forward;
mod fuse;
mod ir;
mod joint;
mod kinks;
mod lower;
mod mut_self;
mod options;
mod plan;
mod prim;
mod reverse;
mod rulegen;
mod scalars;
mod signature;
mod simplify;
mod structurize;
mod types;

use codegen::Append;
use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{ToTokens, quote};
use signature::Signature;
use syn::spanned::Spanned;

/// Generates `<name>_grad` and `<name>_vjp` beside a function; see the `autodiff` crate.
#[proc_macro_attribute]
pub fn differentiate(attr: TokenStream, item: TokenStream) -> TokenStream {
    on_own_stack(|| expand(attr.into(), item.into()).into())
}

/// Runs an expansion on a stack of its own, on this thread, as large as [`EXPANSION_STACK`].
///
/// The passes over the function recurse through its expressions: a sum of a thousand terms
/// (a polynomial printed by a computer algebra system) is an expression a thousand deep, and in
/// the unoptimized build of this crate that a debug build of the user's crate runs, it took
/// more than the 8 MiB of stack the compiler's thread has (rustc stopped by SIGSEGV). The stack
/// is reserved, not committed: a function of ordinary depth touches a few pages of it.
fn on_own_stack<R>(expansion: impl FnOnce() -> R) -> R {
    stacker::grow(EXPANSION_STACK, expansion)
}

/// The stack an expansion runs on, 32 times the compiler thread's: a sum of 700 terms took
/// all of that one.
const EXPANSION_STACK: usize = 256 << 20;

/// The derivative rules of `autodiff-runtime`, written from the primitive table: see
/// `rulegen`. Not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __rules(input: TokenStream) -> TokenStream {
    rulegen::expand(input.into()).into()
}

/// Implements `autodiff::Differentiable` (and `Primal`) for a struct of differentiable fields.
#[proc_macro_derive(Differentiable, attributes(differentiable))]
pub fn derive_differentiable(input: TokenStream) -> TokenStream {
    derive::expand(input.into()).into()
}

/// Collected errors, combined into one `compile_error!` list.
fn combine(errors: Vec<syn::Error>) -> TokenStream2 {
    errors.into_iter().map(|e| e.to_compile_error()).collect()
}

fn expand(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    prim::new_expansion();
    let mut func: syn::ItemFn = match syn::parse2(without_empty_statements(item.clone(), false)) {
        Ok(f) => f,
        Err(_) => match syn::parse2::<syn::ItemImpl>(item.clone()) {
            Ok(mut imp) => {
                syn::visit_mut::VisitMut::visit_item_impl_mut(&mut Ungroup, &mut imp);
                return expand_impl(attr, imp);
            }
            Err(_) => match syn::parse2::<syn::ItemMod>(item.clone()) {
                Ok(m) if m.content.is_some() => return expand_mod(attr, m),
                _ => return unparsed(attr, item),
            },
        },
    };
    syn::visit_mut::VisitMut::visit_item_fn_mut(&mut Ungroup, &mut func);
    bind_parameter_patterns(&mut func);
    // A method lent buffers also as a function lent its receiver (see
    // `mut_self::self_lent_copy`), which a differentiated caller calls on a `mut` local. Not
    // one whose `wrt(..)` leaves out every `&mut` parameter of a struct (`fn loss(&self, t:
    // &[f64], rng: &mut Lcg)` under `wrt(self)`): they are data, run as written.
    if let Some(e) = mut_self_lent_data(&attr, &func) {
        let own = original(&item);
        let e = e.to_compile_error();
        return quote! { #own #e };
    }
    let lent_self = match lent_data_only(&attr, &func) {
        true => None,
        false => mut_self::self_lent_copy(&func),
    };
    if let Some(lent_self) = lent_self {
        let attr_this = mut_self::this_for_self(attr.clone());
        let extra = expand(attr_this, quote::ToTokens::to_token_stream(&lent_self));
        let own = match mut_self::mut_self_with_buffers(&func) {
            // The method as written; its by-value copy would be a second result beside the
            // struct, which a `&mut self` method's callers do not take: stand-ins in its place
            // make a call on anything but a `mut` local the error that says what to write.
            true => {
                let own = original(&item);
                let stand_ins = mut_self_not_followed(&attr, &func);
                quote! { #own #stand_ins }
            }
            false => expand_lent(attr, item, func),
        };
        return quote! { #own #extra };
    }
    expand_lent(attr, item, func)
}

/// Whether the `wrt(..)` of `attr` leaves out every `&mut` parameter of `func` (`self` aside),
/// and they are not all floats or buffers of floats: such parameters (`rng: &mut Lcg` beside
/// `wrt(theta)`) are data, and no by-value copy takes them (its result would hold them, and
/// need a gradient type).
fn lent_data_only(attr: &TokenStream2, func: &syn::ItemFn) -> bool {
    let wrt = syn::parse2::<options::Options>(attr.clone())
        .ok()
        .and_then(|o| o.wrt);
    let lent = mut_self::lent_mut(func);
    // A `&mut self` method lent them is `mut_self_lent_data`'s error.
    !mut_self::mut_self_with_buffers(func)
        && wrt.is_some_and(|wrt| {
            !lent.is_empty()
                && lent.iter().all(|p| !wrt.contains(p))
                && !mut_self::lends_float_buffers_only(func)
        })
}

/// The error for a method taking `&mut self` and `&mut` parameters of which `wrt(..)` leaves
/// out one that is not a float or a buffer of floats (`fn step(&mut self, rng: &mut Lcg)` under
/// `wrt(self)`): its callers follow it through a copy that takes the receiver and the buffers by
/// value and gives them back (`mut_self::self_lent_copy`), and a value without a derivative
/// cannot be one of them (rustc's "`Lcg` cannot be differentiated" in the callers).
fn mut_self_lent_data(attr: &TokenStream2, func: &syn::ItemFn) -> Option<syn::Error> {
    if !mut_self::mut_self_with_buffers(func) {
        return None;
    }
    let wrt = syn::parse2::<options::Options>(attr.clone())
        .ok()
        .and_then(|o| o.wrt)?;
    let data = func.sig.inputs.iter().find_map(|a| match a {
        syn::FnArg::Typed(pt) => match (&*pt.ty, &*pt.pat) {
            (syn::Type::Reference(r), syn::Pat::Ident(pi))
                if r.mutability.is_some()
                    && !wrt.contains(&pi.ident)
                    && crate::types::struct_path(&r.elem).is_some() =>
            {
                Some(pi.ident.clone())
            }
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    })?;
    let m = &func.sig.ident;
    Some(syn::Error::new_spanned(
        &data,
        format!(
            "`{m}` takes `&mut self` beside `{data}`, a `&mut` parameter that `wrt(..)` leaves \
             out (a generator, a workspace): a differentiated caller's `s.{m}(..)` is followed \
             through a copy that takes the receiver and what it is lent by value and gives them \
             back, and a value without a derivative cannot be one of them; draw what `{m}` \
             needs of `{data}` in the caller and pass the values (a generator's noise: `let mut \
             eps = vec![0.0; n]; {data}.fill_noise(&mut eps); s.{m}(&eps);`), or take `&self` \
             and return the new state"
        ),
    ))
}

/// [`expand`] of a function once parsed: its by-value copies where it is lent buffers.
fn expand_lent(attr: TokenStream2, item: TokenStream2, func: syn::ItemFn) -> TokenStream2 {
    // `&mut` parameters that `wrt(..)` leaves out (`rng: &mut Lcg` beside `wrt(theta)`) are
    // data: no by-value copy takes them (its result would hold them, and need a gradient type).
    let wrt = syn::parse2::<options::Options>(attr.clone())
        .ok()
        .and_then(|o| o.wrt);
    // Floats and buffers of floats left out (`f: &mut [f64]`, forces written beside the energy under
    // `wrt(x)`) still have the copies: a differentiated caller lending one calls them, and the
    // gradient they return, which has no entry for the buffer, is the error at the call that
    // says `wrt(..)` leaves it out (without them, rustc's "cannot find `__ad_mutv_f_vjp`").
    let lent = mut_self::lent_mut(&func);
    let copy = match lent_data_only(&attr, &func) {
        true => None,
        false => mut_self::by_value(&func),
    };
    // Without copies (`ws: &mut Ws` left out), stand-ins for their pullbacks: a differentiated
    // caller lending a value there is the error that says why (see `WritesFollowed`).
    let no_copies = match copy.is_none() && !lent.is_empty() && wrt.is_some() {
        true => writes_not_followed(&attr, &func),
        false => TokenStream2::new(),
    };
    if copy.is_some() && mut_self::returns_value(&func) {
        // A function returning a value and taking `&mut` buffers is differentiated as written,
        // and its by-value copies (see `mut_self`) beside it where they differentiate too.
        // Where only the copies do (`*acc += x` through a `&mut f64`, which the function as
        // written cannot follow), the function has no `_grad` of its own and its callers follow
        // it through the copies.
        let written_through = mut_self::written_through(&func);
        let stand_in = written_through_grad(&attr, &func);
        let own = expand_checked(attr.clone(), item.clone(), func);
        let copies: Vec<Result<TokenStream2, TokenStream2>> = match copy {
            Some(Ok(copies)) => copies
                .into_iter()
                .map(|c| {
                    let tokens = quote::ToTokens::to_token_stream(&c);
                    expand_checked(attr.clone(), tokens, c)
                })
                .collect(),
            _ => Vec::new(),
        };
        let copies_ok = !copies.is_empty() && copies.iter().all(Result::is_ok);
        let copies: TokenStream2 = copies.into_iter().filter_map(Result::ok).collect();
        return match own {
            Ok(own) => quote! { #own #copies },
            Err(_) if copies_ok && written_through => {
                let own = original(&item);
                quote! { #own #copies #stand_in }
            }
            Err(with_errors) => with_errors,
        };
    }
    match copy {
        // The function as written, and its by-value copy differentiated (see `mut_self`).
        Some(Ok(copies)) => {
            let own = original(&item);
            let generated: TokenStream2 = copies
                .into_iter()
                .map(|c| expand(attr.clone(), quote::ToTokens::to_token_stream(&c)))
                .collect();
            return quote! { #own #generated };
        }
        Some(Err(e)) => {
            let e = e.to_compile_error();
            // A method taking `&mut self` and buffers has no copy: stand-ins for it, its
            // pullback and its forward rule keep a differentiated caller's call from being
            // rustc's "no associated item named `__ad_mut_step`" beside the error above.
            let stand_ins = match mut_self::mut_self_with_buffers(&func) {
                true => mut_self_not_followed(&attr, &func),
                false => TokenStream2::new(),
            };
            return quote! { #func #e #stand_ins };
        }
        None => {}
    }
    let own = expand_fn(attr, item, func);
    quote! { #own #no_copies }
}

/// The stand-ins of the by-value copy of a method taking `&mut self` and other `&mut`
/// parameters, which it does not have (its callers follow it through `mut_self::self_lent_copy`
/// where it is called on a `mut` local), and of its pullback and forward rule: a differentiated
/// caller's `opts[k].step(&mut w, &g)` calls them, and their bound, which no type meets, is the
/// error that says what to write.
fn mut_self_not_followed(attr: &TokenStream2, func: &syn::ItemFn) -> TokenStream2 {
    let opts = syn::parse2::<options::Options>(attr.clone()).unwrap_or_default();
    let krate = opts.krate();
    let arity = func.sig.inputs.len();
    // The forward rule is given a tangent for the receiver and each argument with one.
    let tangents = 1 + func
        .sig
        .inputs
        .iter()
        .filter(|a| matches!(a, syn::FnArg::Typed(pt) if !types::is_inactive_type(&pt.ty)))
        .count();
    let copy = mut_self::copy_name(&func.sig.ident, false, false);
    let attrs = quote!(#[allow(dead_code, non_snake_case, clippy::extra_unused_type_parameters)]);
    let bound = quote!(#krate::__private::MutSelfWithBuffers);
    let mut out = signature::stand_in(&attrs, &func.vis, &copy, arity, bound.clone());
    out.extend(signature::stand_in(
        &attrs,
        &func.vis,
        &quote::format_ident!("{}_vjp", copy),
        arity,
        bound.clone(),
    ));
    out.extend(signature::stand_in(
        &attrs,
        &func.vis,
        &quote::format_ident!("{}_jvp", copy),
        arity + tangents,
        bound,
    ));
    out
}

/// The stand-ins of the by-value copies' pullbacks of a function whose `wrt(..)` leaves out
/// every `&mut` parameter and which so has no copies (see `expand`): each takes as many
/// arguments as the function, of any types, and its bound, which no type meets, makes a
/// differentiated caller's call the error that says what to write.
fn writes_not_followed(attr: &TokenStream2, func: &syn::ItemFn) -> TokenStream2 {
    let opts = syn::parse2::<options::Options>(attr.clone()).unwrap_or_default();
    let krate = opts.krate();
    let wrt_len = opts.wrt.as_ref().map_or(0, |w| w.len());
    let mut out = TokenStream2::new();
    for with_value in [false, true] {
        let copy = mut_self::copy_name(&func.sig.ident, with_value, false);
        out.extend(signature::stand_in(
            &quote!(#[allow(dead_code, non_snake_case, clippy::extra_unused_type_parameters)]),
            &func.vis,
            &quote::format_ident!("{}_vjp", copy),
            func.sig.inputs.len(),
            quote!(#krate::__private::WritesFollowed),
        ));
        // The forward rule, passed on as a value: the arity a copy's would have, the
        // parameters and a tangent for each one `wrt(..)` names.
        out.extend(signature::stand_in(
            &quote!(#[allow(dead_code, non_snake_case, clippy::extra_unused_type_parameters)]),
            &func.vis,
            &quote::format_ident!("{}_jvp", copy),
            func.sig.inputs.len() + wrt_len,
            quote!(#krate::__private::WritesFollowed),
        ));
    }
    out
}

/// The stand-in `_grad` of a function that writes through a `&mut` float parameter and
/// returns a value, which has no `_grad` of its own (see `expand`): it takes as many arguments
/// as the function, of any types, and its bound, which no type meets, makes a call the error
/// that says to leave the parameter out of `wrt(..)`, not rustc's "cannot find function".
fn written_through_grad(attr: &TokenStream2, func: &syn::ItemFn) -> TokenStream2 {
    let opts = syn::parse2::<options::Options>(attr.clone()).unwrap_or_default();
    let krate = opts.krate();
    signature::stand_in(
        &quote!(#[allow(dead_code, clippy::extra_unused_type_parameters)]),
        &func.vis,
        &quote::format_ident!("{}_grad", func.sig.ident),
        func.sig.inputs.len(),
        quote!(#krate::__private::GradOfWrittenThrough),
    )
}

/// A parameter written as a pattern (`(a, b): (f64, f64)`, `[x, y]: [f64; 2]`, `&(u, v):
/// &(f64, f64)`, `State { x, v }: State`) is the named parameter the pattern is bound from at the
/// top of the body, as Rust defines it: `__ad_arg1: (f64, f64)` and `let (a, b) = __ad_arg1;`. The function as written (`item`) keeps its patterns; the generated items take
/// the parameter by its position, as for `_: T`.
fn bind_parameter_patterns(func: &mut syn::ItemFn) {
    let mut lets: Vec<syn::Stmt> = Vec::new();
    for (n, arg) in func.sig.inputs.iter_mut().enumerate() {
        let syn::FnArg::Typed(pt) = arg else { continue };
        let simple = match &*pt.pat {
            syn::Pat::Ident(pi) => pi.by_ref.is_none() && pi.subpat.is_none(),
            syn::Pat::Wild(_) => true,
            _ => false,
        };
        if simple {
            continue;
        }
        let name = lower::unnamed_param(n);
        let pat = &pt.pat;
        lets.push(syn::parse_quote!(let #pat = #name;));
        *pt.pat = syn::parse_quote!(#name);
    }
    if !lets.is_empty() {
        lets.append(&mut func.block.stmts);
        func.block.stmts = lets;
    }
}

/// Takes apart the invisible groups a `macro_rules!` puts around the fragments it passes on
/// (`$t:ty`, `$e:expr`): a parameter type `&Array2<f64>` given as `$t` is then the path the
/// passes recognise (an ndarray array of known rank, a float, a slice), not an opaque group,
/// and an expression `$e` is the parenthesized expression it stands for.
struct Ungroup;

impl syn::visit_mut::VisitMut for Ungroup {
    fn visit_type_mut(&mut self, t: &mut syn::Type) {
        while let syn::Type::Group(g) = t {
            *t = (*g.elem).clone();
        }
        syn::visit_mut::visit_type_mut(self, t);
    }

    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let syn::Expr::Group(g) = e {
            let inner = (*g.expr).clone();
            *e = match inner {
                // A single token or a path needs no parentheses.
                syn::Expr::Lit(_) | syn::Expr::Path(_) | syn::Expr::Group(_) => inner,
                _ => syn::Expr::Paren(syn::ExprParen {
                    attrs: Vec::new(),
                    paren_token: Default::default(),
                    expr: Box::new(inner),
                }),
            };
            return self.visit_expr_mut(e);
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

/// The expansion of one function.
fn expand_fn(attr: TokenStream2, item: TokenStream2, func: syn::ItemFn) -> TokenStream2 {
    // A call of the function itself (a recursion) has a gradient entry for each parameter its
    // own `wrt(..)` keeps.
    // It is `Self::f` in a method; a bare `f` is the function itself unless the expansion
    // knows it is a method (where `f` names a free function).
    let mut own = Vec::new();
    if let Some(wrt) = (syn::parse2::<options::Options>(attr.clone()).ok()).and_then(|o| o.wrt) {
        let (name, params) = (&func.sig.ident, declared_activity(&func.sig, &wrt));
        if !types::in_impl(&func.sig) && !types::in_impl_block() {
            own.push((name.to_string(), params.clone()));
        }
        own.push((format!("Self::{name}"), params));
    }
    let before = types::declare_wrt(own);
    let out = expand_checked(attr, item, func).unwrap_or_else(|with_errors| with_errors);
    types::forget_declared_wrt(before);
    out
}

/// The parameters of `sig` (the receiver first), each with whether a `wrt(..)` list names it.
fn declared_activity(sig: &syn::Signature, wrt: &[syn::Ident]) -> types::DeclaredParams {
    (sig.inputs.iter())
        .map(|a| match a {
            syn::FnArg::Receiver(_) => ("self".to_string(), wrt.iter().any(|w| w == "self")),
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(pi) => (pi.ident.to_string(), wrt.contains(&pi.ident)),
                p => (quote!(#p).to_string(), false),
            },
        })
        .collect()
}

/// The expansion of one function, or, where it has errors, the function with stubs and the
/// errors.
fn expand_checked(
    attr: TokenStream2,
    item: TokenStream2,
    func: syn::ItemFn,
) -> Result<TokenStream2, TokenStream2> {
    let mut errors = Vec::new();
    let opts: options::Options = match syn::parse2(attr) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            options::Options::default()
        }
    };
    errors.extend(checkpoint::misplaced(&func));
    if let (Some(at), true) = (opts.kinks, opts.hessian) {
        errors.push(syn::Error::new(
            at,
            "`kinks = exact` does not support `hessian` yet; differentiate the function without \
             one of them",
        ));
    }
    if let Some(at) = opts.kinks {
        errors.extend(kinks::generic_floats(&func.sig.generics, at));
    }
    let sig = Signature::read(&func, &opts, &mut errors);
    if matches!(
        func.sig.inputs.first(),
        Some(syn::FnArg::Receiver(r)) if types::receiver_type(r).is_err()
    ) {
        // A method taking `&mut self` that returns a value: the signature's error says what to
        // write, and the body's assignments to `self`'s fields would only add errors.
        return Err(with_stubs(&item, &func, &sig, &opts, errors));
    }
    // Everything is checked, even after a first error, so that all problems are reported
    // together; lowering leaves placeholders where it failed, which check nothing more.
    // A local `Option` declared without its type that the checks find holding a differentiated
    // value is lowered again as one of a float (see `lower::options`).
    lower::options::clear_forced();
    let errors_before = errors.len();
    let (f, act) = loop {
        let lowered = match opts.kinks {
            Some(_) => {
                let mut func = func.clone();
                kinks::desugar_comparison_methods(&mut func.block);
                lower::lower(&func, &sig.active, opts.krate())
            }
            None => lower::lower(&func, &sig.active, opts.krate()),
        };
        errors.extend(lowered.errors);
        let mut f = lowered.f;
        let mut act = None;
        match ir::verify::verify(&f) {
            Ok(()) => {
                structurize::structurize(&mut f);
                simplify::remove_dead(&mut f);
                fills::forward_fills(&mut f);
                joint::copy_lent_buffers(&mut f);
                check::struct_literals(&mut f);
                // Before activity: a repeat merged into a read that only a comparison used
                // (`if a[i] > m { m = a[i]; }`) makes that read active.
                scalars::integer_values(&mut f);
                let tys = scalars::analyze(&f);
                scalars::float_remainders(&mut f, &tys);
                cse::merge_repeats(&mut f, &tys);
                let a = activity::analyze(&f);
                errors.extend(check::check(&f, &a));
                errors.extend(check::declared_wrt_calls(&f, &a));
                errors.extend(checkpoint::select(
                    &mut f,
                    &a,
                    opts.checkpoint,
                    opts.hessian,
                ));
                if opts.kinks.is_some() {
                    errors.extend(kinks::checkpointed(&f, opts.checkpoint));
                }
                act = Some(a);
            }
            Err(msg) if errors.is_empty() => errors.push(internal(&func, &msg)),
            Err(_) => {}
        }
        if lower::options::retry() {
            errors.truncate(errors_before);
            continue;
        }
        break (f, act);
    };
    lower::options::clear_forced();
    let mut f = f;
    let Some(act) = act.filter(|_| errors.is_empty()) else {
        return Err(with_stubs(&item, &func, &sig, &opts, errors));
    };
    let primal = if opts.dump {
        f.to_string()
    } else {
        String::new()
    };
    let tys = scalars::analyze(&f);
    scalars::settle_typed_like(&mut f, &tys);
    // A pass that produced invalid IR is a bug here, reported as such with the stubs.
    let verified = |g: &ir::Func| {
        ir::verify::verify(g)
            .map_err(|msg| with_stubs(&item, &func, &sig, &opts, vec![internal(&func, &msg)]))
    };
    let krate = opts.krate();
    let pv = quote!(#krate::__private);
    // Exact mode at kinks: forward mode decides the kinks; reverse mode differentiates what it
    // made (see `kinks`).
    let exact = match opts.kinks {
        Some(_) => match kinks::prepare(&f, &act, &tys, pv.clone()) {
            Ok(p) => Some(p),
            Err(errors) => return Err(with_stubs(&item, &func, &sig, &opts, errors)),
        },
        None => None,
    };
    // Forward mode, on its own copy of the primal.
    let (fj, tys_j) = match &exact {
        Some(p) => p.jvp.clone(),
        None => {
            let mut fj = f.clone();
            let mut tys_j = tys.clone();
            forward::jvp(&mut fj, &act.active, &mut tys_j);
            (fj, tys_j)
        }
    };
    verified(&fj)?;
    let jvp = codegen::generate(&fj, &tys_j, &plan::Plan::default(), &act.active, &krate);
    let jvp_body = {
        let (p, fw, o) = (&jvp.prelude, &jvp.forward, &jvp.out);
        quote! { #p #fw #o }
    };
    let n_primal = f.values.len();
    let (f, tys, act, along) = match exact {
        Some(p) => (p.grad.0, p.grad.1, p.grad.2, Some(p.along)),
        None => (f, tys, act, None),
    };
    // Reverse mode, for a pullback that is returned (`_vjp`) and, where that differs in which
    // calls are made jointly, for one that runs before returning (`_grad`). Checkpointed loops
    // add values, which each run's activity learns about.
    // Reduction loops run their pullback in place (`fuse`), except where forward mode goes over
    // reverse mode, or in exact mode at kinks, which keep the recorded form.
    let fuse = !opts.hessian && opts.kinks.is_none();
    let reversed = |g: ir::Func, tys: scalars::Types, act: activity::Activity, joint| {
        let (g, tys, plan, act) = reverse_mode(g, tys, act, &joint, fuse);
        verified(&g).map(|()| (g, tys, plan, act))
    };
    // A call of the function itself is joint in a returned pullback, whose type would
    // otherwise contain itself; `_grad`'s pullback keeps the inner call's like any other.
    let itself = &func.sig.ident;
    let mut joint_returned = joint::joint_calls(&f, joint::Pullback::Returned);
    joint_returned.extend(joint::calls_of_itself(&f, itself));
    let joint_inline = joint::joint_calls(&f, joint::Pullback::Inline);
    let inline = if joint_inline != joint_returned {
        match reversed(f.clone(), tys.clone(), act.clone(), joint_inline) {
            Ok(r) => Some(r),
            Err(stubs) => return Err(stubs),
        }
    } else {
        None
    };
    let (f, tys, plan, act) = reversed(f, tys, act, joint_returned)?;
    // Exact mode: the pullback of the value alone, for callers that pass their direction on.
    let along = match along {
        Some((fa, ta, aa)) => {
            let mut joint = joint::joint_calls(&fa, joint::Pullback::Returned);
            joint.extend(joint::calls_of_itself(&fa, itself));
            match reversed(fa, ta, aa, joint) {
                Ok(r) => Some(r),
                Err(stubs) => return Err(stubs),
            }
        }
        None => None,
    };
    // Second order (on request): forward mode over what reverse mode made.
    let mut fh = f.clone();
    let mut tys_h = tys.clone();
    if opts.hessian {
        forward::vjp_jvp(&mut fh, &act.active, n_primal, &mut tys_h);
        verified(&fh)?;
    }
    // Second order needs the runtime's tangent of every reverse rule it calls on arrays that
    // is not multilinear; where one is missing, `_vjp_jvp` and `_hvp` say so when called.
    let unsupported: Option<String> = fh.insts.iter().find_map(|i| match &i.kind {
        ir::InstKind::RuleJvp { prim, .. } if !rulegen::writes_rule_tangents(*prim) => {
            Some(prim.name().to_string())
        }
        _ => None,
    });
    let vjp = codegen::generate(&f, &tys, &plan, &act.active, &krate);
    // Exact mode: `_grad` and `_vjp` make their direction first.
    let direction = match opts.kinks {
        Some(_) => kinks::direction_prelude(&f, &pv),
        None => quote!(),
    };
    let grad_code =
        inline.map(|(g, tys, plan, act)| codegen::generate(&g, &tys, &plan, &act.active, &krate));
    let second = if opts.hessian {
        Some(codegen::generate(
            &fh,
            &tys_h,
            &plan::Plan::kept_in(&fh),
            &act.active,
            &krate,
        ))
    } else {
        None
    };
    let (ret, grad) = (&sig.ret, &sig.grad);
    // Reported at the result type, resolved where `__ad_out` is bound (the result type may come
    // from a `macro_rules` expansion, with that macro's hygiene).
    let at_ret = proc_macro2::Span::call_site().located_at(ret.span());
    // A result of a type named like a float alias (`-> Real`): its seed is the one the `_grad`'s
    // bound provides (see `Signature::items`), as the macro cannot see the type.
    let seed_value = if lower::calls::is_float_alias(ret) {
        quote::quote_spanned!(at_ret=> <&() as #krate::__private::GradOfScalarResult<#ret>>::one())
    } else {
        quote::quote_spanned!(at_ret=> #krate::__private::seed(&__ad_out))
    };
    let seed_value_2 = if lower::calls::is_float_alias(ret) {
        seed_value.clone()
    } else {
        quote::quote_spanned!(at_ret=> #krate::__private::seed(&__ad_out.0))
    };
    // `_grad` carries the forward and backward passes in one body rather than calling `_vjp`:
    // LLVM optimises them together (sharing `sin`/`cos` work, keeping values in registers), and
    // inside an `impl` block the macro could not name `_vjp` for an associated function. The
    // same goes for `_hvp` and `_vjp_jvp`.
    let bodies = {
        let codegen::Code {
            prelude,
            forward,
            out,
            seeds,
            pullback,
            ..
        } = &vjp;
        let seed = &seeds[0];
        // With `kinks = exact`, a call made again in the pullback reads the direction (see
        // `vjp_along` below).
        let lent = &vjp.pullback_tangents;
        let owned: Vec<syn::Ident> = (lent.iter())
            .map(|d| quote::format_ident!("__ad_own_{}", d))
            .collect();
        let second_order = second.as_ref().map(|s2| {
            let (p2, f2, o2, pb2) = (&s2.prelude, &s2.forward, &s2.out, &s2.pullback);
            let (seed2, dseed2) = (&s2.seeds[0], &s2.seeds[1]);
            (
                quote! {
                    #p2
                    #f2
                    let (__ad_y, __ad_dy) = #o2;
                    (__ad_y, __ad_dy, move |#seed2: #ret, #dseed2: #ret| -> (#grad, #grad) { #pb2 })
                },
                quote! {
                    #p2
                    #f2
                    let __ad_out = #o2;
                    let #seed2: #ret = #seed_value_2;
                    let #dseed2: #ret = ::core::default::Default::default();
                    let (__ad_grad, __ad_hv): (#grad, #grad) = { #pb2 };
                    (__ad_out.0, __ad_grad, __ad_hv)
                },
            )
        });
        let vjp_along = along.as_ref().map(|(fa, ta, pa, aa)| {
            let c = codegen::generate(fa, ta, pa, &aa.active, &krate);
            let (prelude, forward, out, seed, pullback) =
                (&c.prelude, &c.forward, &c.out, &c.seeds[0], &c.pullback);
            // A call made again in the pullback reads the direction the caller lent: the
            // closure keeps its own copy, which it lends there under the same name.
            let lent = &c.pullback_tangents;
            let owned: Vec<syn::Ident> = (lent.iter())
                .map(|d| quote::format_ident!("__ad_own_{}", d))
                .collect();
            // The pullback differentiates the value, the first of the pair the body returns:
            // its seed is the cotangent beside a placeholder for the tangent's, never read.
            quote! {
                #prelude
                #forward
                let (__ad_out, __ad_tangent) = #out;
                #(let #owned = ::std::borrow::ToOwned::to_owned(#lent);)*
                (__ad_out, __ad_tangent, move |__ad_cotangent: #ret| -> #grad {
                    #(let #lent = &#owned;)*
                    let #seed = (__ad_cotangent, ());
                    #pullback
                })
            }
        });
        signature::Bodies {
            vjp: quote! {
                #direction
                #prelude
                #forward
                let __ad_out = #out;
                #(let #owned = ::std::borrow::ToOwned::to_owned(#lent);)*
                (__ad_out, move |#seed: #ret| -> #grad { #(let #lent = &#owned;)* #pullback })
            },
            grad: {
                let c = grad_code.as_ref().unwrap_or(&vjp);
                let (prelude, forward, out, seed, pullback) =
                    (&c.prelude, &c.forward, &c.out, &c.seeds[0], &c.pullback);
                quote! {
                    #direction
                    #prelude
                    #forward
                    let __ad_out = #out;
                    let #seed: #ret = #seed_value;
                    let __ad_grad: #grad = { #pullback };
                    (__ad_out, __ad_grad)
                }
            },
            jvp: jvp_body,
            second_order,
            vjp_along,
            stub: false,
            plain: opts.kinks.map(|_| {
                let name = &func.sig.ident;
                // A method (`#[differentiate(kinks = exact)]` on it, in an `impl` without the
                // attribute) is called through `Self`, as in an `impl` with it.
                let method = func.sig.receiver().is_some();
                let names_self = syntax_mentions_self(&func.to_token_stream());
                if types::in_impl_block() || method || names_self {
                    quote!(Self::#name)
                } else {
                    // A free function, or an associated one in an `impl` without the attribute,
                    // which the macro cannot tell apart: a copy of it, which either has.
                    let mut copy = func.clone();
                    copy.vis = syn::Visibility::Inherited;
                    copy.attrs.retain(|a| !a.path().is_ident("doc"));
                    quote!(({ #copy #name }))
                }
            }),
        }
    };
    let mut bodies = bodies;
    if let (Some(p), true) = (unsupported, opts.hessian) {
        let msg = format!(
            "`{}`: second derivatives of `{p}` on values of array type are not supported yet",
            func.sig.ident
        );
        bodies.second_order = Some((
            quote! {
                (
                    ::core::panic!(#msg),
                    ::core::panic!(#msg),
                    move |_: #ret, _: #ret| -> (#grad, #grad) { ::core::panic!(#msg) },
                )
            },
            quote! { ::core::panic!(#msg) },
        ));
    }
    let generated = sig.items(&func, bodies);
    if opts.dump {
        let name = &func.sig.ident;
        let mut text = format!(
            "#[differentiate] {name}: SSA\n{primal}\n\
             #[differentiate] {name}: save plan (how the pullback gets each value it reads)\n{}\n\
             #[differentiate] {name}: forward pass\n{f}\n\
             #[differentiate] {name}: {}\n\
             #[differentiate] {name}: tangent (forward mode)\n{fj}\n",
            plan.to_text(&f),
            f.pullback_text(),
        );
        if opts.hessian {
            text.push_str(&format!(
                "#[differentiate] {name}: forward over reverse\n{fh}\n{}\n",
                fh.pullback_text()
            ));
        }
        if let Some((fa, ..)) = &along {
            text.push_str(&format!(
                "#[differentiate] {name}: exact along a direction (`_vjp_along`)\n{fa}\n{}\n",
                fa.pullback_text()
            ));
        }
        eprintln!("{text}#[differentiate] {name}: generated code\n{generated}");
    }
    let mut out = original(&item);
    out.append(generated);
    Ok(out)
}

/// Whether an attribute is this macro's (`#[differentiate]`, `#[autodiff::differentiate(..)]`).
fn is_ours(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "differentiate")
}

/// `#[differentiate]` on an inline module: its functions and `impl` blocks marked
/// `#[differentiate(..)]` are expanded here, each seeing the `wrt(..)` lists of the others, so
/// that a call of one whose list leaves a float parameter out may pass data there
/// (`forward(theta, x)` of `#[differentiate(wrt(theta))] fn forward(theta: &Params, x: &[f64])`,
/// called from the loss with `x` data). Everything else in the module stays as written.
fn expand_mod(attr: TokenStream2, m: syn::ItemMod) -> TokenStream2 {
    if !attr.is_empty() {
        return syn::Error::new_spanned(
            &attr,
            "`#[differentiate]` on a module takes no options: put them on its functions \
             (`#[differentiate(wrt(theta))] fn forward(..)`)",
        )
        .to_compile_error();
    }
    let Some((brace, items)) = m.content else {
        return unparsed(attr, quote!(#m));
    };
    let own_attr = |attrs: &[syn::Attribute]| -> Option<TokenStream2> {
        let a = attrs.iter().find(|a| is_ours(a))?;
        Some(match &a.meta {
            syn::Meta::List(l) => l.tokens.clone(),
            _ => TokenStream2::new(),
        })
    };
    let marks_methods = |imp: &syn::ItemImpl| {
        (imp.items.iter()).any(|i| matches!(i, syn::ImplItem::Fn(f) if f.attrs.iter().any(is_ours)))
    };
    // Every list the module declares: a free function's by its name, a method's by its type's
    // (`Net::forward`, as a call on a parameter `net: &Net` names it).
    let mut declared = Vec::new();
    for item in &items {
        match item {
            syn::Item::Fn(f) => {
                let wrt = own_attr(&f.attrs)
                    .and_then(|a| syn::parse2::<options::Options>(a).ok())
                    .and_then(|o| o.wrt);
                if let Some(wrt) = wrt {
                    declared.push((f.sig.ident.to_string(), declared_activity(&f.sig, &wrt)));
                }
            }
            syn::Item::Impl(imp) if own_attr(&imp.attrs).is_some() || marks_methods(imp) => {
                let syn::Type::Path(tp) = &*imp.self_ty else {
                    continue;
                };
                let Some(ty) = tp.path.segments.last().map(|s| s.ident.to_string()) else {
                    continue;
                };
                let attr = own_attr(&imp.attrs).unwrap_or_default();
                for (name, params) in declared_methods(imp, &attr) {
                    declared.push((format!("{ty}::{name}"), params));
                }
            }
            _ => {}
        }
    }
    // The functions left without the attribute (and without a `_vjp` of their own): a call
    // of one on differentiated values is an error that says to mark it.
    let fns: Vec<&syn::ItemFn> = (items.iter())
        .filter_map(|i| match i {
            syn::Item::Fn(f) => Some(f),
            _ => None,
        })
        .collect();
    let plain = (fns.iter())
        .filter(|f| own_attr(&f.attrs).is_none())
        .map(|f| f.sig.ident.to_string())
        .filter(|n| !fns.iter().any(|g| g.sig.ident == format!("{n}_vjp")));
    let outer_plain = types::set_plain_module_fns(plain.collect());
    let before = types::declare_wrt(declared);
    // The module's structs with their fields' types: an operator or a method on a field of a
    // struct type (`b.pos + b.vel * dt`, `b.vel.norm()`) is that struct's (outside such a
    // module the macro sees no field's type).
    // Its type aliases (`type Vec3 = V3;`) are read as what they name, in the fields' types
    // and the results' (`pos: Vec3`), and an alias of a struct has the struct's fields.
    let aliases: Vec<(syn::Ident, syn::Type)> = (items.iter())
        .filter_map(|i| match i {
            syn::Item::Type(t) if t.generics.params.is_empty() => {
                Some((t.ident.clone(), (*t.ty).clone()))
            }
            _ => None,
        })
        .collect();
    let mut structs: Vec<(String, Vec<types::ModuleField>)> = (items.iter())
        .filter_map(|i| match i {
            syn::Item::Struct(st) => Some(st),
            _ => None,
        })
        .map(|st| {
            let fields = (st.fields.iter().enumerate())
                .map(|(k, f)| {
                    let name = f
                        .ident
                        .as_ref()
                        .map_or_else(|| k.to_string(), |i| i.to_string());
                    (name, unaliased(&f.ty, &aliases), derive::marked_data(f))
                })
                .collect();
            (st.ident.to_string(), fields)
        })
        .collect();
    for (alias, ty) in &aliases {
        let ty = unaliased(ty, &aliases);
        let syn::Type::Path(tp) = &ty else { continue };
        let Some(target) = tp.path.get_ident().map(|i| i.to_string()) else {
            continue;
        };
        if let Some((_, fields)) = structs.iter().find(|(n, _)| *n == target) {
            let fields = fields.clone();
            structs.push((alias.to_string(), fields));
        }
    }
    let outer_structs = types::set_module_structs(structs);
    // Inside another such module, those of the modules around it too (after its own, which
    // shadow them).
    types::extend_module_structs(&outer_structs);
    // The result types of its methods (`fn rotate(&self, v: V3) -> V3` of `Quat`, also a
    // trait's, `t.centroid()` of `impl Shape for Tri`) and free functions: what a call of one
    // returned is of that type, not taken to be the receiver's (the module's aliases read as
    // what they name; inside another such module, those of the modules around it too).
    let methods = (module_methods(&items).into_iter())
        .map(|(ty, name, ret)| (ty, name, unaliased(&ret, &aliases)))
        .chain(types::module_methods_all())
        .collect();
    let outer_methods = types::set_module_methods(methods);
    // The operators of its structs, with their right operands' types and their results' (a
    // dot product written as `impl Mul for V3 { type Output = f64; .. }` gives a float), and
    // those of a float with a struct on the right (`impl Mul<V3> for f64`, which `s * v` calls
    // through the struct: see `scalar_left`).
    let mut ops: Vec<types::ModuleOp> = (items.iter())
        .filter_map(|i| match i {
            syn::Item::Impl(imp) if own_attr(&imp.attrs).is_some() => {
                struct_operator(imp, &aliases)
            }
            _ => None,
        })
        .collect();
    ops.extend(types::module_ops_all());
    let outer_ops = types::set_module_ops(ops);
    let mut out = TokenStream2::new();
    for mut item in items {
        // Of two impls of one operator of a struct (`Mul<f64>` beside `Mul<V3>`), the one
        // whose right operand is not the struct is differentiated as an associated function of
        // its own name, `V3::__ad_mul_f64`, which `v * s` calls: the generated items of both
        // would otherwise have one name (rustc's E0592).
        if let syn::Item::Impl(imp) = &mut item
            && own_attr(&imp.attrs).is_some()
            && let Some(op) = struct_operator(imp, &aliases)
            && let Some(name) = op.own_name()
            && let Some(renamed) = operator_named(imp, &op, &name)
        {
            let attr = own_attr(&imp.attrs).unwrap_or_default();
            imp.attrs.retain(|a| !is_ours(a));
            for it in &mut imp.items {
                if let syn::ImplItem::Fn(m) = it {
                    m.attrs.retain(|a| !is_ours(a));
                }
            }
            let ty = syn::Ident::new(&op.ty, proc_macro2::Span::call_site());
            let outer_self = types::set_module_self(Some(op.ty.clone()));
            let generated = expand_impl(attr, syn::parse_quote!(impl #ty { #renamed }));
            types::set_module_self(outer_self);
            out.extend(with_cfgs(&imp.attrs, quote!(#imp #generated)));
            continue;
        }
        match &mut item {
            syn::Item::Fn(f) if own_attr(&f.attrs).is_some() => {
                let attr = own_attr(&f.attrs).unwrap_or_default();
                f.attrs.retain(|a| !is_ours(a));
                out.extend(with_cfgs(&f.attrs, expand(attr, quote!(#f))));
            }
            syn::Item::Impl(imp) if own_attr(&imp.attrs).is_some() || marks_methods(imp) => {
                let attr = own_attr(&imp.attrs).unwrap_or_default();
                imp.attrs.retain(|a| !is_ours(a));
                let own = match &*imp.self_ty {
                    syn::Type::Path(tp) => tp.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                let outer_self = types::set_module_self(own);
                out.extend(with_cfgs(&imp.attrs, expand(attr, quote!(#imp))));
                types::set_module_self(outer_self);
            }
            // A module inside it (`mod inner { use super::*; .. }`) is expanded the same way,
            // seeing the structs declared around it as well as its own.
            syn::Item::Mod(inner) if inner.content.is_some() => {
                inner.attrs.retain(|a| !is_ours(a));
                out.extend(expand_mod(TokenStream2::new(), inner.clone()));
            }
            // The attributes it imported for are expanded here, so the import may be unused.
            syn::Item::Use(u) if quote!(#u).to_string().contains("differentiate") => {
                out.extend(quote!(#[allow(unused_imports)] #u))
            }
            other => out.extend(quote!(#other)),
        }
    }
    types::forget_declared_wrt(before);
    types::set_plain_module_fns(outer_plain);
    types::restore_module_structs(outer_structs);
    types::set_module_methods(outer_methods);
    types::set_module_ops(outer_ops);
    // The module's inner attributes (`#![allow(..)]`) stay inside it.
    let (inner, outer): (Vec<&syn::Attribute>, Vec<&syn::Attribute>) =
        (m.attrs.iter()).partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let (vis, unsafety, mod_token, ident) = (&m.vis, &m.unsafety, &m.mod_token, &m.ident);
    let mut body = TokenStream2::new();
    brace.surround(&mut body, |b| b.extend(quote!(#(#inner)* #out)));
    quote! { #(#outer)* #vis #unsafety #mod_token #ident #body }
}

/// Of `impl Op<R> for T` (`Op` one of `Add`, `Sub`, `Mul`, `Div`, `Neg`, `T` a type named by
/// one identifier): the operator as the module records it, `Self` read as `T` and the module's
/// aliases as what they name. `None` for another impl.
fn struct_operator(
    imp: &syn::ItemImpl,
    aliases: &[(syn::Ident, syn::Type)],
) -> Option<types::ModuleOp> {
    let (last, op) = operator_trait(imp)?;
    let syn::Type::Path(tp) = &*imp.self_ty else {
        return None;
    };
    let ty = tp.path.get_ident()?.to_string();
    let float = matches!(ty.as_str(), "f32" | "f64");
    if (types::is_primitive_scalar(&ty) && !float) || !imp.generics.params.is_empty() {
        return None;
    }
    let own = Some(ty.as_str());
    let rhs = match (&last.arguments, op) {
        (_, "neg") => None,
        (syn::PathArguments::AngleBracketed(args), _) => match args.args.first() {
            Some(syn::GenericArgument::Type(t)) => Some(unaliased(&self_named(t, own), aliases)),
            _ => return None,
        },
        _ => Some(syn::parse_str(&ty).ok()?),
    };
    let output = imp.items.iter().find_map(|i| match i {
        syn::ImplItem::Type(t) if t.ident == "Output" => {
            Some(unaliased(&self_named(&t.ty, own), aliases))
        }
        _ => None,
    })?;
    Some(types::ModuleOp {
        ty,
        op: op.to_string(),
        rhs,
        output,
    })
}

/// The method of `impl Op<R> for T` as an associated function of `T` named `name`, `fn
/// __ad_mul_f64(self, s: f64) -> Out` (see [`types::ModuleOp::own_name`]), `Self::Output` read
/// as the impl's `Output`.
fn operator_named(
    imp: &syn::ItemImpl,
    op: &types::ModuleOp,
    name: &str,
) -> Option<syn::ImplItemFn> {
    let mut method = imp.items.iter().find_map(|i| match i {
        syn::ImplItem::Fn(m) if m.sig.ident == op.op => Some(m.clone()),
        _ => None,
    })?;
    hidden_associated(&mut method, name, &op.output);
    Some(method)
}

/// The trait's last segment and its operator's method name (`add`, .., `neg`), of an `impl`
/// of one of `Add`, `Sub`, `Mul`, `Div`, `Neg`.
fn operator_trait(imp: &syn::ItemImpl) -> Option<(&syn::PathSegment, &'static str)> {
    let (trait_path, _) = imp.trait_.as_ref()?;
    let last = trait_path.segments.last()?;
    let op = match last.ident.to_string().as_str() {
        "Add" => "add",
        "Sub" => "sub",
        "Mul" => "mul",
        "Div" => "div",
        "Neg" => "neg",
        _ => return None,
    };
    Some((last, op))
}

/// An operator's method made a hidden associated function of the struct named `name`,
/// returning `output` (the impl's `Output`), without the attributes that were the impl's.
fn hidden_associated(method: &mut syn::ImplItemFn, name: &str, output: &syn::Type) {
    method.sig.ident = syn::Ident::new(name, method.sig.ident.span());
    method.sig.output = syn::parse_quote!(-> #output);
    method.vis = syn::parse_quote!(pub);
    method
        .attrs
        .retain(|a| !is_ours(a) && !a.path().is_ident("inline"));
    method.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    method
        .attrs
        .push(syn::parse_quote!(#[allow(non_snake_case, dead_code)]));
}

/// `ty` with the module's type aliases (`type Vec3 = V3;`) read as the types they name, also
/// inside it (`Vec<Vec3>`).
fn unaliased(ty: &syn::Type, aliases: &[(syn::Ident, syn::Type)]) -> syn::Type {
    struct Unalias<'a>(&'a [(syn::Ident, syn::Type)], usize);
    impl syn::visit_mut::VisitMut for Unalias<'_> {
        fn visit_type_mut(&mut self, ty: &mut syn::Type) {
            if let syn::Type::Path(tp) = ty
                && tp.qself.is_none()
                && let Some(id) = tp.path.get_ident()
                && let Some((_, to)) = self.0.iter().find(|(a, _)| a == id)
                && self.1 < 8
            {
                // An alias of an alias, a few levels deep (never a cycle: rustc rejects one).
                *ty = to.clone();
                self.1 += 1;
                self.visit_type_mut(ty);
                self.1 -= 1;
                return;
            }
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Unalias(aliases, 0), &mut ty);
    ty
}

/// `ty` with `Self` read as `own` (a method's result declared `-> Self` in `impl Body`).
fn self_named(ty: &syn::Type, own: Option<&str>) -> syn::Type {
    match (ty, own) {
        (syn::Type::Path(tp), Some(own)) if tp.qself.is_none() && tp.path.is_ident("Self") => {
            let id = syn::Ident::new(own, tp.path.segments[0].ident.span());
            syn::parse_quote!(#id)
        }
        _ => ty.clone(),
    }
}

/// Of `impl Op<R> for f64` (`Op` one of `Add`, `Sub`, `Mul`, `Div`, `R` a struct of the
/// user's, `f32` likewise): `R` and its method as an associated function of `R`,
/// `fn __ad_f64_mul(__ad_lhs: f64, v: R) -> Out` (see [`scalar_left_name`]), `self` read as
/// `__ad_lhs` and `Self::Output` as the impl's `Output`. `None` for another impl.
fn scalar_left(imp: &syn::ItemImpl, prim: &str) -> Option<(syn::Type, syn::ImplItemFn)> {
    let (last, op) = operator_trait(imp).filter(|(_, op)| *op != "neg")?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let [syn::GenericArgument::Type(rhs)] = &args.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let syn::Type::Path(rp) = rhs else {
        return None;
    };
    let rname = rp.path.segments.last()?;
    if rp.qself.is_some()
        || !matches!(rname.arguments, syn::PathArguments::None)
        || types::is_primitive_scalar(&rname.ident.to_string())
    {
        return None;
    }
    let output = imp.items.iter().find_map(|i| match i {
        syn::ImplItem::Type(t) if t.ident == "Output" => Some(t.ty.clone()),
        _ => None,
    })?;
    let mut method = imp.items.iter().find_map(|i| match i {
        syn::ImplItem::Fn(m) if m.sig.ident == op => Some(m.clone()),
        _ => None,
    })?;
    let prim_ty: syn::Type = syn::parse_str(prim).ok()?;
    let first = method.sig.inputs.first_mut()?;
    let syn::FnArg::Receiver(r) = first else {
        return None;
    };
    if matches!(r.kind, syn::ReceiverKind::Reference(..)) {
        return None;
    }
    let lhs = syn::Ident::new("__ad_lhs", r.self_token.span);
    *first = syn::parse_quote!(#lhs: #prim_ty);
    hidden_associated(&mut method, &scalar_left_name(prim, op), &output);
    struct SelfAsLhs(syn::Ident, syn::Type);
    impl syn::visit_mut::VisitMut for SelfAsLhs {
        fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
            if let syn::Expr::Path(p) = e
                && p.qself.is_none()
                && p.path.is_ident("self")
            {
                let lhs = &self.0;
                *e = syn::parse_quote_spanned!(p.path.segments[0].ident.span()=> #lhs);
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
        fn visit_type_mut(&mut self, t: &mut syn::Type) {
            if matches!(t, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self")) {
                *t = self.1.clone();
                return;
            }
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
    syn::visit_mut::VisitMut::visit_block_mut(&mut SelfAsLhs(lhs, prim_ty), &mut method.block);
    Some((rhs.clone(), method))
}

/// The associated function of a struct that stands for `s op v` with a float `s` of type
/// `prim` on the left (`__ad_f64_mul`), see [`scalar_left`].
pub(crate) fn scalar_left_name(prim: &str, op: &str) -> String {
    format!("__ad_{prim}_{op}")
}

/// The methods the `impl` blocks of a module's items declare, by their type's name, and its
/// free functions, under an empty name, with their result types: `Self` read as the type,
/// `Self::Output` as the block's `type Output`, `()` for none (see
/// `types::module_method_return`).
fn module_methods(items: &[syn::Item]) -> Vec<(String, String, syn::Type)> {
    let mut out = Vec::new();
    for item in items {
        // A free function, under an empty type name.
        if let syn::Item::Fn(f) = item {
            let ret = match &f.sig.output {
                syn::ReturnType::Default => syn::parse_quote!(()),
                syn::ReturnType::Type(_, t) => (**t).clone(),
            };
            out.push((String::new(), f.sig.ident.to_string(), ret));
            continue;
        }
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(tp) = &*imp.self_ty else {
            continue;
        };
        let Some(ty) = tp.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let output = imp.items.iter().find_map(|i| match i {
            syn::ImplItem::Type(t) if t.ident == "Output" => Some(t.ty.clone()),
            _ => None,
        });
        for i in &imp.items {
            let syn::ImplItem::Fn(m) = i else { continue };
            let ret: syn::Type = match &m.sig.output {
                syn::ReturnType::Default => syn::parse_quote!(()),
                syn::ReturnType::Type(_, t) => match &**t {
                    syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self") => {
                        (*imp.self_ty).clone()
                    }
                    syn::Type::Path(p)
                        if p.qself.is_none()
                            && p.path.segments.len() == 2
                            && p.path.segments[0].ident == "Self"
                            && p.path.segments[1].ident == "Output" =>
                    {
                        match &output {
                            Some(o) => o.clone(),
                            None => continue,
                        }
                    }
                    t => t.clone(),
                },
            };
            out.push((ty.clone(), m.sig.ident.to_string(), ret));
        }
    }
    out
}

/// The items of an expansion, each under the `#[cfg]`s of the item they were made from (inside
/// a module, the macro sees items a configuration may leave out).
fn with_cfgs(attrs: &[syn::Attribute], expanded: TokenStream2) -> TokenStream2 {
    let cfgs: Vec<&syn::Attribute> = (attrs.iter())
        .filter(|a| a.path().is_ident("cfg"))
        .collect();
    if cfgs.is_empty() {
        return expanded;
    }
    match syn::parse2::<syn::File>(expanded.clone()) {
        Ok(file) => {
            let items = file.items.into_iter().map(|i| quote!(#(#cfgs)* #i));
            quote!(#(#items)*)
        }
        Err(_) => expanded,
    }
}

/// Whether a method of a block marked `#[differentiate]` (none of its methods marked) has
/// nothing to differentiate and stays as written beside the differentiated ones.
fn stays_as_written(sig: &syn::Signature) -> bool {
    match &sig.output {
        // A helper with an integer or `bool` result (`fn n(&self) -> usize`) has no derivative.
        // An accessor lending a part of the value (`fn weights(&self) -> &[f64]`, a row's view)
        // has no gradient type either.
        syn::ReturnType::Type(_, t) if types::is_inactive_type(t) || types::borrows(t) => {
            return true;
        }
        _ => {}
    }
    // A constructor without parameters (`fn identity() -> Self`) has nothing to differentiate:
    // its result is a constant where it is called. So has one whose parameters are all sizes,
    // seeds, flags or names (`fn new(n_in: usize, n_out: usize, seed: u64) -> Self`, `fn
    // zeros(n: usize)`, `fn from_sizes(sizes: &[usize])`).
    if (sig.inputs.iter())
        .all(|a| matches!(a, syn::FnArg::Typed(t) if types::is_inactive_type(&t.ty)))
    {
        return true;
    }
    // So has a constructor that draws from a generator it is lent (`fn new(n: usize, rng: &mut
    // Rng) -> Self`, `rng: &mut impl Rng`): a `&mut` of a type without type arguments, the
    // other parameters sizes, seeds, flags or names.
    let constructor = matches!(&sig.output, syn::ReturnType::Type(_, t)
        if matches!(&**t, syn::Type::Path(p) if p.path.is_ident("Self")));
    let drawn_from = |ty: &syn::Type| match ty {
        syn::Type::Reference(r) if r.mutability.is_some() => match &*r.elem {
            syn::Type::ImplTrait(_) => true,
            syn::Type::Path(p) => {
                p.qself.is_none()
                    && p.path.segments.iter().all(|s| s.arguments.is_empty())
                    && !types::is_scalar_float(&r.elem)
            }
            _ => false,
        },
        _ => false,
    };
    if constructor
        && (sig.inputs.iter()).all(|a| {
            matches!(a, syn::FnArg::Typed(t) if types::is_inactive_type(&t.ty) || drawn_from(&t.ty))
        })
    {
        return true;
    }
    // A method that returns nothing and changes nothing it is given (`fn print(&self)`, `fn
    // log(&self, step: usize)`) has no derivative either; one that changes its receiver or a
    // buffer it is lent (`fn reset(&mut self)`, `fn forward_into(&self, x: &[f64], out: &mut
    // Vec<f64>)`) is differentiated as the copy that returns them.
    matches!(&sig.output, syn::ReturnType::Default)
        && sig.inputs.iter().all(|a| match a {
            syn::FnArg::Receiver(r) => matches!(
                r.kind,
                syn::ReceiverKind::Value | syn::ReceiverKind::Reference(_, _, None)
            ),
            syn::FnArg::Typed(t) => !lends_mut(&t.ty),
        })
}

/// Whether a parameter's type lends something mutably (`&mut Vec<f64>`, `&mut [f64]`): a
/// method returning nothing may change it, and is then differentiated as a copy returning it.
fn lends_mut(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_some() || lends_mut(&r.elem),
        syn::Type::Paren(p) => lends_mut(&p.elem),
        syn::Type::Group(g) => lends_mut(&g.elem),
        syn::Type::Tuple(t) => t.elems.iter().any(lends_mut),
        _ => false,
    }
}

/// `#[differentiate]` on an `impl` block: the methods marked `#[differentiate(..)]` in it, or
/// every method when none is marked (with the block's options), are differentiated, and the
/// items generated for them go into an inherent `impl` of the same type beside the block. That
/// is the way to differentiate a trait's method: in `impl Trait for T`, the generated items
/// could not be members, and an attribute on the method alone sees nothing of the block.
fn expand_impl(attr: TokenStream2, mut imp: syn::ItemImpl) -> TokenStream2 {
    // `impl Mul<V2> for f64` (a scalar on the left of a struct): the generated items go into an
    // inherent `impl f64`, which a primitive type cannot have (rustc's E0390), and `self *
    // v.x` inside read as the method calling itself. The block stays as written.
    if let syn::Type::Path(tp) = &*imp.self_ty
        && tp.qself.is_none()
        && let Some(prim) = tp
            .path
            .get_ident()
            .filter(|id| types::is_primitive_scalar(&id.to_string()))
    {
        // A float on the left of an operator of a struct (`impl Mul<V3> for f64`): its method
        // is differentiated as an associated function of the struct, `V3::__ad_f64_mul(s, v)`,
        // which a module marked `#[differentiate]` calls for `s * v` (see `scalar_left`).
        if let Some((rhs, method)) = scalar_left(&imp, &prim.to_string()) {
            let generated = expand_impl(attr, syn::parse_quote!(impl #rhs { #method }));
            for item in &mut imp.items {
                if let syn::ImplItem::Fn(m) = item {
                    m.attrs.retain(|a| !is_ours(a));
                }
            }
            return quote! { #imp #generated };
        }
        let err = syn::Error::new_spanned(
            &imp.self_ty,
            format!(
                "`#[differentiate]` on an `impl` for `{prim}`: the derivatives it generates go \
                 into an `impl {prim}` block, which a primitive type cannot have; an operator \
                 of your struct is followed where the struct is its left operand (`v * 2.0` \
                 through `#[differentiate] impl Mul<{prim}> for V2`): write it that way round, \
                 or write a `#[differentiate]` function (`fn scaled(s: {prim}, v: V2) -> V2`)"
            ),
        )
        .to_compile_error();
        for item in &mut imp.items {
            if let syn::ImplItem::Fn(m) = item {
                m.attrs.retain(|a| !is_ours(a));
            }
        }
        return quote! { #err #imp };
    }
    let marked =
        |i: &syn::ImplItem| matches!(i, syn::ImplItem::Fn(m) if m.attrs.iter().any(is_ours));
    let any_marked = imp.items.iter().any(marked);
    // The block's `wrt(..)` applies to every method: one without such a parameter (a helper
    // method `dist(&self, a, b)` beside `energy(&self, pos)`) needs its own list.
    let block_wrt = syn::parse2::<options::Options>(attr.clone())
        .ok()
        .and_then(|o| o.wrt)
        .unwrap_or_default();
    // With the attribute on some methods, the others are not differentiated: a call of one on
    // differentiated values gets an error that says so (see `check`).
    let unmarked: Vec<String> = if any_marked {
        (imp.items.iter())
            .filter(|i| !marked(i))
            .filter_map(|i| match i {
                syn::ImplItem::Fn(m) => Some(m.sig.ident.to_string()),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let outer_unmarked = types::set_unmarked_methods(unmarked);
    let outer_data_fields = types::set_block_data_fields(block_data_fields(&imp));
    let outer_block_wrt = types::set_block_wrt(match any_marked {
        true => Vec::new(),
        false => block_wrt.iter().map(|i| i.to_string()).collect(),
    });
    // The methods declared with `wrt(..)` (their own, or the block's): a call of one from
    // another (`self.forward(x)` in `loss`) has a gradient entry for what the list keeps, so
    // data may be passed where it leaves a float out.
    let declared = declared_methods(&imp, &attr).into_iter();
    let declared = declared.map(|(name, params)| (format!("Self::{name}"), params));
    let declared_before = types::declare_wrt(declared);
    // Accessors lending a field, `fn weights(&self) -> &[f64] { &self.w }`, stay as written
    // (see `stays_as_written`): a call of one in a differentiated method, `self.weights()`,
    // is read as what it lends, `(&self.w)`.
    let accessors = field_accessors(&imp);
    let mut generated = TokenStream2::new();
    for item in &mut imp.items {
        let syn::ImplItem::Fn(m) = item else { continue };
        let opts = match m.attrs.iter().position(is_ours) {
            Some(at) => match m.attrs.remove(at).meta {
                syn::Meta::List(l) => l.tokens,
                _ => TokenStream2::new(),
            },
            None if any_marked => continue,
            None if stays_as_written(&m.sig) => continue,
            None => {
                match block_wrt_missing(&block_wrt, &m.sig) {
                    // The error, and the method expanded with its own list, so that its
                    // callers see no second error.
                    Some((e, own)) => {
                        // A method with nothing to differentiate, `self` left out by the list
                        // and its other parameters sizes, flags or names (`fn slope(&self) ->
                        // f64` of an enum of settings): constant where it is called.
                        if let Some(items) =
                            own.is_empty().then(|| constant_items(&attr, m)).flatten()
                        {
                            generated.extend(items);
                            continue;
                        }
                        generated.extend(e.to_compile_error());
                        with_wrt(&attr, &own)
                    }
                    None => attr.clone(),
                }
            }
        };
        let ident = m.sig.ident.clone();
        // The generated items are as visible as the trait's method is (an inherent method
        // without `pub` would be private to the module).
        let mut as_fn = m.clone();
        // The generated items read the accessors' fields; the method as written keeps its calls.
        let mut written_block = None;
        if !accessors.is_empty() {
            let before = as_fn.block.to_token_stream().to_string();
            syn::visit_mut::VisitMut::visit_block_mut(
                &mut InlineAccessors {
                    accessors: &accessors,
                },
                &mut as_fn.block,
            );
            if as_fn.block.to_token_stream().to_string() != before {
                written_block = syn::parse2::<syn::ImplItemFn>(original(&m.to_token_stream()))
                    .ok()
                    .map(|w| w.block);
            }
        }
        if let Some((tr, _)) = &imp.trait_ {
            as_fn.vis = syn::parse_quote!(pub);
            // `Self::Output` of the trait names nothing in the inherent impl the generated
            // items go to: `<Self as Add>::Output` does.
            syn::visit_mut::VisitMut::visit_signature_mut(
                &mut TraitAssoc { tr: tr.clone() },
                &mut as_fn.sig,
            );
        }
        // The block's float type parameters (`impl<T: Float> P<T>`) are floats in the method
        // too: the expansion reads them off the method's `where` clause, as if written there
        // (`where T: Float`), which the method as written keeps as it was.
        let written_where = m.sig.generics.where_clause.clone();
        for (param, bound) in block_float_bounds(&imp.generics) {
            if !bounds_param(&as_fn.sig.generics, &param) {
                as_fn
                    .sig
                    .generics
                    .make_where_clause()
                    .predicates
                    .push(syn::parse_quote!(#param: #bound));
            }
        }
        // The items generated go into an `impl` of the type, where they call the method as
        // `Self::f`; the block's type parameters are known.
        let names = imp.generics.type_params().map(|t| t.ident.to_string());
        let outer = types::set_impl_type_params(Some(names.collect()));
        let expanded = expand(opts, as_fn.to_token_stream());
        types::set_impl_type_params(outer);
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream| {
                let mut items = Vec::new();
                while !input.is_empty() {
                    items.push(input.parse::<syn::ImplItem>()?);
                }
                Ok(items)
            },
            expanded.clone(),
        );
        let Ok(items) = parsed else {
            // Not items of an impl (a bug here): rustc reports what they are.
            generated.extend(expanded);
            continue;
        };
        let mut original = None;
        // A method's `#[cfg]`s apply to the items made from it (alternative definitions of
        // one method under different configurations).
        let cfgs: Vec<&syn::Attribute> = (m.attrs.iter())
            .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"))
            .collect();
        for it in items {
            match it {
                syn::ImplItem::Fn(f) if f.sig.ident == ident && original.is_none() => {
                    original = Some(f)
                }
                other => generated.extend(quote!(#(#cfgs)* #other)),
            }
        }
        // The method as the expansion passed it on (markers inside it removed), with the
        // block's visibility.
        if let Some(mut f) = original {
            if let Some(block) = written_block {
                f.block = block;
            }
            f.vis = m.vis.clone();
            f.sig.generics.where_clause = written_where;
            *m = f;
        }
    }
    types::set_unmarked_methods(outer_unmarked);
    types::set_block_data_fields(outer_data_fields);
    types::set_block_wrt(outer_block_wrt);
    types::forget_declared_wrt(declared_before);
    let (generics, _, where_clause) = imp.generics.split_for_impl();
    let self_ty = &imp.self_ty;
    quote! {
        #imp
        impl #generics #self_ty #where_clause { #generated }
    }
}

/// The methods of an `impl` block that lend a field of `self` and nothing else, `fn
/// weights(&self) -> &[f64] { &self.w }` (also `&self.w[..]`, `self.w.as_slice()`, `&self.w.x`),
/// by name, each with the expression it returns. They stay as written (`stays_as_written`).
fn field_accessors(imp: &syn::ItemImpl) -> Vec<(String, syn::Expr)> {
    fn of_self(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Field(f) => {
                matches!(&*f.base, syn::Expr::Path(p) if p.path.is_ident("self"))
                    || of_self(&f.base)
            }
            syn::Expr::Index(ix) => {
                matches!(&*ix.index, syn::Expr::Range(r) if r.start.is_none() && r.end.is_none())
                    && of_self(&ix.expr)
            }
            syn::Expr::Paren(p) => of_self(&p.expr),
            _ => false,
        }
    }
    let lent = |e: &syn::Expr| match e {
        syn::Expr::Reference(r) => r.mutability.is_none() && of_self(&r.expr),
        syn::Expr::MethodCall(mc) => {
            mc.method == "as_slice" && mc.args.is_empty() && of_self(&mc.receiver)
        }
        _ => false,
    };
    (imp.items.iter())
        .filter_map(|i| match i {
            syn::ImplItem::Fn(m) => Some(m),
            _ => None,
        })
        .filter(|m| {
            m.sig.inputs.len() == 1
                && matches!(m.sig.inputs.first(), Some(syn::FnArg::Receiver(r))
                    if matches!(r.kind, syn::ReceiverKind::Reference(_, _, None)))
                && matches!(&m.sig.output, syn::ReturnType::Type(_, t) if types::borrows(t))
                && m.sig.generics.params.is_empty()
        })
        .filter_map(|m| match m.block.stmts.as_slice() {
            [syn::Stmt::Expr(e, None)] if lent(e) => Some((m.sig.ident.to_string(), e.clone())),
            _ => None,
        })
        .collect()
}

/// Replaces `self.name()` of an accessor of [`field_accessors`] by `(what it lends)`.
struct InlineAccessors<'a> {
    accessors: &'a [(String, syn::Expr)],
}

impl InlineAccessors<'_> {
    /// What `self.name()` lends, if `e` is a call of an accessor.
    fn lent(&self, e: &syn::Expr) -> Option<(syn::Expr, proc_macro2::Span)> {
        let syn::Expr::MethodCall(mc) = e else {
            return None;
        };
        if !mc.args.is_empty()
            || mc.turbofish.is_some()
            || !matches!(&*mc.receiver, syn::Expr::Path(p) if p.path.is_ident("self"))
        {
            return None;
        }
        let (_, body) = (self.accessors.iter()).find(|(n, _)| mc.method == n)?;
        let span = mc.method.span();
        Some((respan_expr(body, span), span))
    }
}

impl syn::visit_mut::VisitMut for InlineAccessors<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        // `*self.c()` of `fn c(&self) -> &f64 { &self.c }` is the field, `(self.c)`.
        if let syn::Expr::Unary(u) = e
            && matches!(u.op, syn::UnOp::Deref(_))
            && let Some((syn::Expr::Reference(r), span)) = self.lent(&u.expr)
        {
            let field = &r.expr;
            *e = syn::parse_quote_spanned!(span=> (#field));
            return;
        }
        if let Some((body, span)) = self.lent(e) {
            *e = syn::parse_quote_spanned!(span=> (#body));
            return;
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

/// `e` with every token given `span` (so that the diagnostics about it point at the call).
fn respan_expr(e: &syn::Expr, span: proc_macro2::Span) -> syn::Expr {
    let tokens: TokenStream2 = (e.to_token_stream().into_iter())
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect();
    syn::parse2(tokens).unwrap_or_else(|_| e.clone())
}

/// The methods of an `impl` block (with the block's attribute arguments `attr`) that are
/// differentiated with a `wrt(..)` list, their own or the block's, each with its parameters and
/// what the list keeps.
fn declared_methods(
    imp: &syn::ItemImpl,
    attr: &TokenStream2,
) -> Vec<(String, types::DeclaredParams)> {
    let any_marked = (imp.items.iter())
        .any(|i| matches!(i, syn::ImplItem::Fn(m) if m.attrs.iter().any(is_ours)));
    let block_wrt = syn::parse2::<options::Options>(attr.clone())
        .ok()
        .and_then(|o| o.wrt)
        .unwrap_or_default();
    (imp.items.iter())
        .filter_map(|i| {
            let syn::ImplItem::Fn(m) = i else { return None };
            let wrt = match m.attrs.iter().find(|a| is_ours(a)) {
                Some(a) => match &a.meta {
                    syn::Meta::List(l) => {
                        syn::parse2::<options::Options>(l.tokens.clone())
                            .ok()?
                            .wrt?
                    }
                    _ => return None,
                },
                None if any_marked || block_wrt.is_empty() || stays_as_written(&m.sig) => {
                    return None;
                }
                None => match block_wrt_missing(&block_wrt, &m.sig) {
                    Some((_, own)) => own,
                    None => block_wrt.clone(),
                },
            };
            let name = m.sig.ident.to_string();
            (!wrt.is_empty()).then(|| (name, declared_activity(&m.sig, &wrt)))
        })
        .collect()
}

/// The type parameters of an `impl` block bounded by a float trait (`impl<T: Float> P<T>`, or
/// in its `where` clause), each with the first such bound as written.
fn block_float_bounds(g: &syn::Generics) -> Vec<(syn::Ident, syn::TypeParamBound)> {
    g.type_params()
        .filter_map(|t| {
            let bound = signature::bounds_of(g, &t.ident).find(|b| signature::is_float_bound(b))?;
            Some((t.ident.clone(), bound.clone()))
        })
        .collect()
}

/// Whether a method declares `param` itself or bounds it in its `where` clause.
fn bounds_param(g: &syn::Generics, param: &syn::Ident) -> bool {
    g.type_params().any(|t| t.ident == *param) || signature::where_bounds(g, param).next().is_some()
}

/// The derivatives of a method with nothing to differentiate in an `impl` block whose
/// `wrt(..)` leaves `self` out (`fn slope(&self) -> f64` of an enum of settings, `fn
/// rate(&self, step: usize) -> f64`): its value and a zero, so that a differentiated caller
/// (`self.act.slope() * z` of a field marked data) calls it as written. `None` where a
/// parameter is not a plain name.
fn constant_items(attr: &TokenStream2, m: &syn::ImplItemFn) -> Option<TokenStream2> {
    let krate = syn::parse2::<options::Options>(attr.clone()).ok()?.krate();
    let sig = &m.sig;
    let syn::ReturnType::Type(_, ret) = &sig.output else {
        return None;
    };
    let mut args: Vec<TokenStream2> = Vec::new();
    for a in &sig.inputs {
        match a {
            syn::FnArg::Receiver(_) => args.push(quote!(self)),
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    let id = &pi.ident;
                    args.push(quote!(#id));
                }
                _ => return None,
            },
        }
    }
    let (vis, name, inputs) = (&m.vis, &sig.ident, &sig.inputs);
    let (generics, where_clause) = (&sig.generics, &sig.generics.where_clause);
    let item = |suffix: &str| quote::format_ident!("{}_{}", name, suffix);
    let (vjp, jvp, vjp_jvp, along) = (item("vjp"), item("jvp"), item("vjp_jvp"), item("vjp_along"));
    let value = quote!(Self::#name(#(#args),*));
    Some(quote! {
        #[doc(hidden)]
        #[allow(unused_variables, clippy::all)]
        #[inline]
        #vis fn #vjp #generics (#inputs) -> (#ret, impl ::core::ops::FnOnce(#ret)) #where_clause {
            (#value, |_| ())
        }
        #[doc(hidden)]
        #[allow(unused_variables, clippy::all)]
        #[inline]
        #vis fn #jvp #generics (#inputs) -> (#ret, #ret) #where_clause {
            let v = #value;
            let t = #krate::__private::zero_like(&v);
            (v, t)
        }
        #[doc(hidden)]
        #[allow(unused_variables, clippy::all)]
        #[inline]
        #vis fn #vjp_jvp #generics (#inputs)
            -> (#ret, #ret, impl ::core::ops::FnOnce(#ret, #ret) -> ((), ())) #where_clause {
            let v = #value;
            let t = #krate::__private::zero_like(&v);
            (v, t, |_, _| ((), ()))
        }
        #[doc(hidden)]
        #[allow(unused_variables, clippy::all)]
        #[inline]
        #vis fn #along #generics (#inputs)
            -> (#ret, #ret, impl ::core::ops::FnOnce(#ret)) #where_clause {
            let v = #value;
            let t = #krate::__private::zero_like(&v);
            (v, t, |_| ())
        }
    })
}

/// The error for a method of an `impl` block whose `wrt(..)` names a parameter the method
/// does not have: the block's list applies to every method, so each method says its own. With
/// it, the method's own list to expand it with: its parameters of differentiable types, `self`
/// left as data as the block's list left it.
fn block_wrt_missing(
    wrt: &[syn::Ident],
    sig: &syn::Signature,
) -> Option<(syn::Error, Vec<syn::Ident>)> {
    let mut names: Vec<String> = Vec::new();
    let mut own: Vec<syn::Ident> = Vec::new();
    for a in &sig.inputs {
        match a {
            syn::FnArg::Typed(pt) => {
                if let syn::Pat::Ident(pi) = &*pt.pat {
                    names.push(pi.ident.to_string());
                    if !types::is_inactive_type(&pt.ty) {
                        own.push(pi.ident.clone());
                    }
                }
            }
            syn::FnArg::Receiver(_) => names.push("self".to_string()),
        }
    }
    let missing = wrt.iter().find(|n| !names.contains(&n.to_string()))?;
    // What the block's list names and the method has (`self` of `wrt(self, z)`): the method's
    // own list keeps it, so that its body is differentiated as the block meant (a method called
    // on `self.enc` needs `self`); its parameters of differentiable types where there is none.
    let kept: Vec<syn::Ident> = (wrt.iter())
        .filter(|n| names.contains(&n.to_string()))
        .cloned()
        .collect();
    if !kept.is_empty() {
        own = kept;
    }
    let method = &sig.ident;
    // `wrt(Self)` of `wrt(self)`, `wrt(W)` of a parameter `w`: a slip of the case, not a
    // parameter the method lacks.
    let missing_s = missing.to_string();
    if let Some(meant) = names
        .iter()
        .find(|n| n.to_lowercase() == missing_s.to_lowercase())
    {
        let e = syn::Error::new(
            missing.span(),
            format!(
                "`wrt({missing_s})`: `{missing_s}` is not a parameter of the methods; did you \
                 mean `{meant}`? (names are case-sensitive: `wrt({meant})`)"
            ),
        );
        return Some((e, own));
    }
    let list = if own.is_empty() {
        "..".to_string()
    } else {
        own.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let e = syn::Error::new(
        method.span(),
        format!(
            "the `impl` block's `wrt({})` applies to every method, and `{method}` has no \
             parameter `{missing}`: put `#[differentiate(wrt(..))]` on each method to \
             differentiate instead (`#[differentiate(wrt({list}))] fn {method}(..)`; the \
             block's own list then applies to none)",
            wrt.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    Some((e, own))
}

/// The attribute's arguments with `wrt(..)` replaced by `wrt(own)`, or left out where `own` is
/// empty.
fn with_wrt(attr: &TokenStream2, own: &[syn::Ident]) -> TokenStream2 {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = attr.clone().into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_wrt = matches!(&tokens[i], TokenTree::Ident(id) if id == "wrt")
            && matches!(tokens.get(i + 1), Some(TokenTree::Group(_)));
        if is_wrt {
            i += 2;
            if matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ',') {
                i += 1;
            }
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    let mut out: TokenStream2 = out.into_iter().collect();
    if !own.is_empty() {
        let sep = (!out.is_empty()).then(|| quote!(,));
        out = quote!(wrt(#(#own),*) #sep #out);
    }
    out
}

/// Rewrites `Self::X` in a trait impl's method signature as `<Self as Trait>::X`.
struct TraitAssoc {
    tr: syn::Path,
}

impl syn::visit_mut::VisitMut for TraitAssoc {
    fn visit_type_path_mut(&mut self, t: &mut syn::TypePath) {
        syn::visit_mut::visit_type_path_mut(self, t);
        if t.qself.is_none()
            && t.path.segments.len() >= 2
            && t.path.segments[0].ident == "Self"
            && t.path.segments[0].arguments.is_none()
        {
            let tr = &self.tr;
            let rest: Vec<&syn::PathSegment> = t.path.segments.iter().skip(1).collect();
            *t = syn::parse_quote!(<Self as #tr>::#(#rest)::*);
        }
    }
}

/// An item that does not parse as a function. Another kind of item is an error; a function
/// with a syntax error is passed through as written, so that rustc's own syntax error is the
/// only one, beside stubs of the generated items where its signature can be read (so that
/// callers of `f_grad` see no second error).
fn unparsed(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    if let Ok(other) = syn::parse2::<syn::Item>(item.clone()) {
        let mut msg = String::from(
            "`#[differentiate]` applies to a function (`fn f(x: f64) -> f64 { .. }`), to an \
             `impl` block (its methods) or to an inline module (its functions marked \
             `#[differentiate]`, which see each other's `wrt(..)`)",
        );
        // A trait's default methods have no type to put the generated items on.
        // A default method's generated items would call those of the required methods
        // through the trait, and they are not its members (they are inherent items of each
        // type): the default methods are written again in the impl blocks.
        if let syn::Item::Trait(t) = &other {
            let defaults: Vec<String> = t
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::TraitItem::Fn(f) if f.default.is_some() => {
                        let name = &f.sig.ident;
                        let out = match &f.sig.output {
                            syn::ReturnType::Type(_, t) => format!(" -> {}", quote!(#t)),
                            syn::ReturnType::Default => String::new(),
                        };
                        Some(format!("`fn {name}(..){out} {{ .. }}`"))
                    }
                    _ => None,
                })
                .collect();
            msg += &format!("; put it on each `impl {} for ..` block", t.ident);
            if defaults.is_empty() {
                msg += " (a default method is not differentiated)";
            } else {
                msg += &format!(
                    ", and write there, as in the trait, the default methods a differentiated \
                     function calls ({}): a default method is not differentiated",
                    defaults.join(", ")
                );
            }
        }
        let e = syn::Error::new(other.span(), msg);
        let mut out = e.to_compile_error();
        out.append(item);
        return out;
    }
    // The signature, with the body that does not parse left out.
    let mut tokens: Vec<proc_macro2::TokenTree> = item.clone().into_iter().collect();
    match tokens.last() {
        Some(proc_macro2::TokenTree::Group(g))
            if g.delimiter() == proc_macro2::Delimiter::Brace =>
        {
            tokens.pop();
        }
        _ => return item,
    }
    let shell = quote!(#(#tokens)* {});
    let (Ok(func), Ok(opts)) = (
        syn::parse2::<syn::ItemFn>(shell),
        syn::parse2::<options::Options>(attr),
    ) else {
        return item;
    };
    let mut errors = Vec::new();
    let sig = Signature::read(&func, &opts, &mut errors);
    if !errors.is_empty() {
        return item;
    }
    with_stubs(&item, &func, &sig, &opts, errors)
}

/// The tokens without empty statements: a `;` that begins a block or follows another `;`.
/// They mean nothing; the function is emitted as written, so rustc still warns about them.
fn without_empty_statements(ts: TokenStream2, block_start: bool) -> TokenStream2 {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let mut out = TokenStream2::new();
    let mut after = block_start;
    for tt in ts {
        match tt {
            TokenTree::Punct(p) if p.as_char() == ';' => {
                if !after {
                    out.extend([TokenTree::Punct(p)]);
                }
                after = true;
            }
            TokenTree::Group(g) => {
                let brace = g.delimiter() == Delimiter::Brace;
                let mut ng = Group::new(g.delimiter(), without_empty_statements(g.stream(), brace));
                ng.set_span(g.span());
                out.extend([TokenTree::Group(ng)]);
                after = false;
            }
            t => {
                out.extend([t]);
                after = false;
            }
        }
    }
    out
}

/// Reverse mode and its save plan: the pullback built as IR, cleaned up, and the plan of what
/// the forward pass keeps for it applied.
fn reverse_mode(
    mut f: ir::Func,
    mut tys: scalars::Types,
    mut act: activity::Activity,
    joint: &std::collections::HashSet<ir::Inst>,
    fuse: bool,
) -> (ir::Func, scalars::Types, plan::Plan, activity::Activity) {
    counters::rewrite(&mut f, &mut act, &mut tys);
    let rev = reverse::reverse(&mut f, &mut act, &mut tys, joint, fuse);
    simplify::forward_single_contributions(&mut f);
    simplify::move_carried_adjoints(&mut f);
    simplify::defer_branch_adjoints(&mut f, &tys);
    let plan = plan::plan(&mut f, &act, &mut tys, &rev);
    simplify::read_restored_elements(&mut f);
    simplify::sum_invariant_element_adjoints(&mut f, &mut tys);
    (f, tys, plan, act)
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
/// The input's own tokens are passed on, not the parsed function printed again: they keep every
/// span, and re-creating them costs a call into the compiler per token. `#[checkpoint]`
/// attributes on its loops are removed.
/// The invisible groups of `macro_rules!` fragments that hold an operator expression are
/// parenthesized: rustc does not keep their precedence when they come back from an attribute
/// (`$e * $e` with `$e = x + 1.0` was the function `x + 1.0 * x + 1.0`).
fn original(item: &TokenStream2) -> TokenStream2 {
    parenthesize_fragments(checkpoint::strip(quote!(#[allow(dead_code)] #item)))
}

/// `ts` with each invisible (`None`-delimited) group whose tokens are an expression that an
/// operator around it could split (`a + b`, `-a`, `a as T`, `a..b`, a closure) made a
/// parenthesized one. Other groups (a type, a path, a literal, a block, a call) and attributes
/// (`#[$doc]` of a `$doc:meta`) are left as they are, the former's contents rewritten the same
/// way.
fn parenthesize_fragments(ts: TokenStream2) -> TokenStream2 {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let mut after_pound = false;
    ts.into_iter()
        .map(|tt| {
            let attribute = after_pound;
            let c = match &tt {
                TokenTree::Punct(p) => p.as_char(),
                _ => ' ',
            };
            // `#[..]`, and `#![..]`.
            after_pound = c == '#' || (c == '!' && attribute);
            (tt, attribute)
        })
        .map(|(tt, attribute)| match tt {
            TokenTree::Group(g) if attribute && g.delimiter() == Delimiter::Bracket => {
                TokenTree::Group(g)
            }
            TokenTree::Group(g) => {
                let inner = parenthesize_fragments(g.stream());
                let delimiter = match g.delimiter() {
                    Delimiter::None if splittable(&g.stream()) => Delimiter::Parenthesis,
                    d => d,
                };
                let mut ng = Group::new(delimiter, inner);
                ng.set_span(g.span());
                TokenTree::Group(ng)
            }
            tt => tt,
        })
        .collect()
}

/// Whether `ts` is an expression whose operators bind more loosely than what may surround it.
fn splittable(ts: &TokenStream2) -> bool {
    matches!(
        syn::parse2::<syn::Expr>(ts.clone()),
        Ok(syn::Expr::Binary(_)
            | syn::Expr::Unary(_)
            | syn::Expr::Cast(_)
            | syn::Expr::Range(_)
            | syn::Expr::Closure(_))
    )
}

/// The fields that a struct literal in a method of `imp` gives an integer or a container of
/// them (`Self { buf: vec![0.0; n], head: 0 }` in a constructor), by the struct's name and the
/// field's; the block's own type also as `Self`: a `&mut self` method reads them as data.
fn block_data_fields(imp: &syn::ItemImpl) -> Vec<(String, String)> {
    struct Literals<'a> {
        own: Option<String>,
        found: &'a mut Vec<(String, String)>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Literals<'_> {
        fn visit_expr_struct(&mut self, es: &'ast syn::ExprStruct) {
            if let Some(ty) = es.path.segments.last().map(|s| s.ident.to_string()) {
                let names: Vec<String> = match (ty.as_str(), &self.own) {
                    ("Self", Some(own)) => vec![own.clone(), ty.clone()],
                    (t, Some(own)) if t == own => vec![ty.clone(), "Self".to_string()],
                    _ => vec![ty.clone()],
                };
                for fv in &es.fields {
                    if let syn::Member::Named(id) = &fv.member
                        && lower::integers_made(&fv.expr)
                    {
                        for n in &names {
                            let entry = (n.clone(), id.to_string());
                            if !self.found.contains(&entry) {
                                self.found.push(entry);
                            }
                        }
                    }
                }
            }
            syn::visit::visit_expr_struct(self, es);
        }
    }
    let own = match &*imp.self_ty {
        syn::Type::Path(tp) => tp.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    let mut found = Vec::new();
    syn::visit::Visit::visit_item_impl(
        &mut Literals {
            own,
            found: &mut found,
        },
        imp,
    );
    found
}

/// The original function, stubs for the generated items, and the errors.
fn with_stubs(
    item: &TokenStream2,
    func: &syn::ItemFn,
    sig: &Signature,
    opts: &options::Options,
    errors: Vec<syn::Error>,
) -> TokenStream2 {
    let mut out = original(item);
    if sig
        .params
        .iter()
        .any(|(_, t)| matches!(t, syn::Type::ImplTrait(_)))
    {
        // Such a signature cannot be repeated in the stubs' pullback types.
        out.append(combine(errors));
        return out;
    }
    let msg = format!(
        "`#[differentiate]` reported errors for `{}`; this item is a placeholder",
        func.sig.ident
    );
    let (ret, grad) = (&sig.ret, &sig.grad);
    let stub = quote! { ::core::panic!(#msg) };
    out.append(sig.items(
        func,
        signature::Bodies {
            vjp: quote! {
                (::core::panic!(#msg), move |_: #ret| -> #grad { ::core::panic!(#msg) })
            },
            grad: stub.clone(),
            jvp: stub.clone(),
            vjp_along: opts.kinks.map(|_| {
                quote! {
                    (
                        ::core::panic!(#msg),
                        ::core::panic!(#msg),
                        move |_: #ret| -> #grad { ::core::panic!(#msg) },
                    )
                }
            }),
            plain: None,
            stub: true,
            second_order: opts.hessian.then(|| {
                (
                    quote! {
                        (
                            ::core::panic!(#msg),
                            ::core::panic!(#msg),
                            move |_: #ret, _: #ret| -> (#grad, #grad) { ::core::panic!(#msg) },
                        )
                    },
                    stub,
                )
            }),
        },
    ));
    out.append(combine(errors));
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;

/// Whether `ts` names `Self` (a method's signature or body).
fn syntax_mentions_self(ts: &TokenStream2) -> bool {
    ts.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(id) => id == "Self",
        proc_macro2::TokenTree::Group(g) => syntax_mentions_self(&g.stream()),
        _ => false,
    })
}
