//! Methods taking `&mut self`: `#[differentiate]` on `fn step(&mut self, dt: f64)` keeps the
//! method as written and differentiates a copy that takes `self` by value and returns it,
//!
//! ```text
//! fn __ad_mut_step(mut self, dt: f64) -> Self { body; self }
//! ```
//!
//! with every `return;` of the body (outside closures) made `return self;`. A differentiated
//! function that calls `s.step(dt);` on a `mut` variable of the struct's type calls
//! `s = State::__ad_mut_step(s, dt)` instead (`lower::calls::mut_self_call`): the new state is a
//! new version of `s`, and the derivative follows it as it follows any method taking `self`.
//!
//! Functions taking `&mut` buffers (`fn matvec_into(a: &[f64], x: &[f64], out: &mut [f64])`)
//! are kept as written too, and differentiated as a copy that takes each buffer by value (a
//! `&mut [T]` as a `Vec<T>`, a `&mut X` as an `X`) and returns the buffers (the one alone, or a
//! tuple of them), with the result dropped:
//!
//! ```text
//! fn __ad_mut_matvec_into(a: &[f64], x: &[f64], mut out: Vec<f64>) -> Vec<f64> { body'; out }
//! ```
//!
//! where `body'` reads `*out` as `out`; a function returning a value has a second copy,
//! `__ad_mutv_f`, returning the buffers and then the value. A call `matvec_into(a, x, &mut y);`
//! in a differentiated function becomes `y = __ad_mut_matvec_into(a, x, y)`, and one whose
//! result is used `{ let t = __ad_mutv_f(x, y); y = t.0; t.1 }`
//! (`lower::calls::mut_buffer_call`): each buffer is a new version of the caller's variable,
//! so the cotangent of what the helper writes reaches what it read. (A lone buffer is returned
//! as it is, not in a tuple, whose adjoint would start from a zero.)
//!
//! Where a buffer is a slice or an array, each copy has a twin for a caller's fixed-size
//! arrays, `__ad_muta_f` (`__ad_mutva_f`), taking each `&mut [T]` as a `[T; N]` of a length of
//! its own (`fn __ad_muta_fill<const __AD_N0: usize>(x: f64, mut out: [f64; __AD_N0])`): a
//! call lending an array (`let mut y = [0.0; 3]; fill(x, &mut y);`) calls it, and the array it
//! gives back is an array for the calls after (`ir::Func::array_buffers`).

use quote::format_ident;
use syn::visit_mut::VisitMut;

/// The by-value copy of a method taking `&mut self` and returning nothing (see the module
/// docs); `None` for any other function (one taking `&mut self` and returning a value is
/// reported by `Signature::read`).
pub fn by_value(f: &syn::ItemFn) -> Option<Result<Vec<syn::ItemFn>, syn::Error>> {
    if let Some(copy) = buffers_by_value(f) {
        return Some(copy);
    }
    let mut_self = matches!(
        f.sig.inputs.first(),
        Some(syn::FnArg::Receiver(r)) if crate::types::receiver_type(r).is_err()
    );
    let unit = match &f.sig.output {
        syn::ReturnType::Default => true,
        syn::ReturnType::Type(_, t) => matches!(&**t, syn::Type::Tuple(tt) if tt.elems.is_empty()),
    };
    if !mut_self || !unit {
        return None;
    }
    let mut g = f.clone();
    g.sig.ident = format_ident!("__ad_mut_{}", f.sig.ident, span = f.sig.ident.span());
    g.sig.inputs[0] = syn::parse_quote_spanned!(f.sig.ident.span()=> mut self);
    g.sig.output = syn::parse_quote!(-> Self);
    g.attrs.retain(|a| a.path().is_ident("allow"));
    g.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    let mut body = (*f.block).clone();
    let mut returns = ReturnSelf {
        loops: 0,
        in_loop: None,
    };
    returns.visit_block_mut(&mut body);
    if let Some(at) = returns.in_loop {
        return Some(Err(syn::Error::new(
            at,
            "a `return` inside a loop of a differentiated method taking `&mut self` is not \
             supported: leave the loop with `break` and skip what follows with an `if` (or \
             return from outside the loop)",
        )));
    }
    if let Some(syn::Stmt::Expr(_, semi @ None)) = body.stmts.last_mut() {
        *semi = Some(Default::default());
    }
    body.stmts
        .push(syn::Stmt::Expr(syn::parse_quote!(self), None));
    g.block = Box::new(body);
    Some(Ok(vec![g]))
}

/// The name of the copy of a method lent `&mut` buffers that takes its receiver as a `&mut`
/// parameter (see [`self_lent_copy`]): `__ad_self_step` of `step`.
pub fn self_lent_name(method: &syn::Ident) -> syn::Ident {
    format_ident!("__ad_self_{}", method, span = method.span())
}

/// A method taking `&self` or `&mut self` and `&mut` buffers (an optimizer's `fn update(&mut
/// self, w: &mut [f64], g: &[f64])`), as an associated function taking the receiver as its
/// first `&mut` parameter, `fn __ad_self_update(__ad_this: &mut Self, w: &mut [f64], g:
/// &[f64])`, with `self` read as `__ad_this`: a function lent buffers, whose by-value copies
/// (`__ad_mut___ad_self_update`) take the struct and the buffers and give back both. A
/// differentiated caller's `opt.update(&mut w, &g)` on a `mut` local `opt` calls it as
/// `Opt::__ad_self_update(&mut opt, &mut w, &g)` (`lower::calls::self_lent_call`), which is
/// followed as any such call: the caller does not see whether the method changes `self`, and
/// this form is right for both. `None` for any other function.
pub fn self_lent_copy(f: &syn::ItemFn) -> Option<syn::ItemFn> {
    let Some(syn::FnArg::Receiver(r)) = f.sig.inputs.first() else {
        return None;
    };
    if !matches!(r.kind, syn::ReceiverKind::Reference(..)) || lent_mut(f).is_empty() {
        return None;
    }
    let mut g = f.clone();
    g.sig.ident = self_lent_name(&f.sig.ident);
    g.sig.inputs[0] = syn::parse_quote_spanned!(r.self_token.span=> __ad_this: &mut Self);
    g.attrs.retain(|a| a.path().is_ident("allow"));
    g.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    g.attrs.push(
        syn::parse_quote!(#[allow(dead_code, non_snake_case, clippy::needless_pass_by_ref_mut)]),
    );
    let body = this_for_self(quote::ToTokens::to_token_stream(&*f.block));
    g.block = Box::new(syn::parse2(body).ok()?);
    Some(g)
}

/// `self` → `__ad_this` in `ts` (not `Self`, nor the head of a path, `self::m`).
pub fn this_for_self(ts: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    crate::lower::written::rename_self(ts, "__ad_this")
}

/// Whether `f` is a method taking `&mut self` and other `&mut` parameters, which has no
/// by-value copy (see `buffers_by_value`'s error).
pub fn mut_self_with_buffers(f: &syn::ItemFn) -> bool {
    let mut_self = matches!(
        f.sig.inputs.first(),
        Some(syn::FnArg::Receiver(r)) if crate::types::receiver_type(r).is_err()
    );
    mut_self && !lent_mut(f).is_empty()
}

/// Whether `f` declares a result other than `()`.
pub fn returns_value(f: &syn::ItemFn) -> bool {
    result_type(f).is_some()
}

fn result_type(f: &syn::ItemFn) -> Option<syn::Type> {
    match &f.sig.output {
        syn::ReturnType::Type(_, t) if !matches!(&**t, syn::Type::Tuple(tt) if tt.elems.is_empty()) => {
            Some((**t).clone())
        }
        _ => None,
    }
}

/// Whether `f` writes through a `&mut` float parameter (`*acc += x`, also of a type parameter
/// `acc: &mut T`): what the function as written cannot be differentiated with, and its by-value
/// copies can. Such a function returning a value has no `_grad` of its own (see `expand` in
/// the crate root).
pub fn written_through(f: &syn::ItemFn) -> bool {
    let type_params: Vec<&syn::Ident> = f.sig.generics.type_params().map(|t| &t.ident).collect();
    let mut scalars = Vec::new();
    for arg in &f.sig.inputs {
        let syn::FnArg::Typed(pt) = arg else { continue };
        let (syn::Type::Reference(r), syn::Pat::Ident(pi)) = (&*pt.ty, &*pt.pat) else {
            continue;
        };
        if r.mutability.is_none() {
            continue;
        }
        let scalar = match &*r.elem {
            syn::Type::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|id| id == "f32" || id == "f64" || type_params.contains(&id)),
            _ => false,
        };
        if scalar {
            scalars.push(pi.ident.clone());
        }
    }
    let mut find = WrittenThrough {
        scalars: &scalars,
        found: false,
    };
    syn::visit::Visit::visit_block(&mut find, &f.block);
    find.found
}

struct WrittenThrough<'a> {
    scalars: &'a [syn::Ident],
    found: bool,
}

impl syn::visit::Visit<'_> for WrittenThrough<'_> {
    fn visit_expr(&mut self, e: &syn::Expr) {
        let target = match e {
            syn::Expr::Assign(a) => Some(&*a.left),
            syn::Expr::Binary(b)
                if matches!(
                    b.op,
                    syn::BinOp::AddAssign(_)
                        | syn::BinOp::SubAssign(_)
                        | syn::BinOp::MulAssign(_)
                        | syn::BinOp::DivAssign(_)
                ) =>
            {
                Some(&*b.left)
            }
            _ => None,
        };
        if let Some(syn::Expr::Unary(u)) = target {
            let scalar = matches!(&*u.expr, syn::Expr::Path(p)
                if p.path.get_ident().is_some_and(|id| self.scalars.contains(id)));
            self.found |= matches!(u.op, syn::UnOp::Deref(_)) && scalar;
        }
        syn::visit::visit_expr(self, e);
    }
    fn visit_item(&mut self, _: &syn::Item) {}
}

/// The names of the parameters taken by `&mut` (not `self`).
pub fn lent_mut(f: &syn::ItemFn) -> Vec<syn::Ident> {
    f.sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(pt) => match (&*pt.ty, &*pt.pat) {
                (syn::Type::Reference(r), syn::Pat::Ident(pi)) if r.mutability.is_some() => {
                    Some(pi.ident.clone())
                }
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

/// Whether every parameter `f` takes by `&mut` (not `self`) is a float or a slice, array or
/// `Vec` of floats (`&mut f64`, `&mut [f64]`, `&mut [[f64; 2]]`, `&mut Vec<f64>`), whose by-value
/// copies' results have gradient types whatever `wrt(..)` says.
pub fn lends_float_buffers_only(f: &syn::ItemFn) -> bool {
    f.sig.inputs.iter().all(|a| match a {
        syn::FnArg::Typed(pt) => match &*pt.ty {
            syn::Type::Reference(r) if r.mutability.is_some() => {
                let container =
                    match &*r.elem {
                        syn::Type::Slice(_) | syn::Type::Array(_) => true,
                        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
                            s.ident == "Vec" || s.ident == "f64" || s.ident == "f32"
                        }),
                        _ => false,
                    };
                container && crate::types::is_float_type(&r.elem)
            }
            _ => true,
        },
        syn::FnArg::Receiver(_) => true,
    })
}

/// The name of a by-value copy: `__ad_mut_f`, or `__ad_mutv_f` for the one returning the
/// value too; with `a` (`__ad_muta_f`, `__ad_mutva_f`) for the one taking a `&mut [T]` buffer
/// as a fixed-size array, which a call passing `&mut` of an array calls.
pub fn copy_name(name: &syn::Ident, with_value: bool, array: bool) -> syn::Ident {
    let v = if with_value { "v" } else { "" };
    let a = if array { "a" } else { "" };
    format_ident!("__ad_mut{}{}_{}", v, a, name, span = name.span())
}

/// The name of the function a by-value copy was made of: `f` of `__ad_mut_f`, `__ad_mutv_f`,
/// `__ad_muta_f` and `__ad_mutva_f`; for the copy of a method lent its receiver (see
/// [`self_lent_copy`]), the method itself, `step` of `__ad_mut___ad_self_step`, which a call
/// made as written (`Opt::step(&mut opt, &mut w, &g)`) reaches whether or not its block was
/// differentiated.
pub fn original_name(copy: &str) -> Option<String> {
    let rest = copy.strip_prefix("__ad_mut")?;
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    let rest = rest.strip_prefix('a').unwrap_or(rest);
    let rest = rest.strip_prefix('_')?;
    Some(rest.strip_prefix("__ad_self_").unwrap_or(rest).to_string())
}

/// Whether a by-value copy of that name returns the function's result after the buffers
/// (`__ad_mutv_f`, `__ad_mutva_f`).
pub fn returns_with_value(copy: &str) -> bool {
    copy.starts_with("__ad_mutv")
}

/// The by-value copies of a function taking `&mut` parameters other than `self` (see the module
/// docs), or `None` where there is no such parameter.
fn buffers_by_value(f: &syn::ItemFn) -> Option<Result<Vec<syn::ItemFn>, syn::Error>> {
    let mut names: Vec<syn::Ident> = Vec::new();
    let mut g = f.clone();
    // The signature of the copies for a caller's fixed-size arrays: each `&mut [T]` a `[T; N]`
    // of a length of its own; made where a buffer is a slice or an array.
    let mut ga = f.clone();
    let mut arrays = false;
    for (arg, arg_a) in g.sig.inputs.iter_mut().zip(ga.sig.inputs.iter_mut()) {
        let (syn::FnArg::Typed(pt), syn::FnArg::Typed(pt_a)) = (arg, arg_a) else {
            continue;
        };
        let syn::Type::Reference(r) = &*pt.ty else {
            continue;
        };
        if r.mutability.is_none() {
            continue;
        }
        if crate::types::is_inactive_type(&r.elem) {
            // A counter or flags (`calls: &mut u32`): no derivative to carry. Beside buffers
            // of floats (a pivoting step lent the rows and the permutation), the copies could
            // not return it, and the function would be taken for one without buffers.
            if let Some(float_buffer) = f.sig.inputs.iter().find_map(|a| match a {
                syn::FnArg::Typed(q) => match (&*q.ty, &*q.pat) {
                    (syn::Type::Reference(r), syn::Pat::Ident(pi))
                        if r.mutability.is_some() && !crate::types::is_inactive_type(&r.elem) =>
                    {
                        Some(pi.ident.clone())
                    }
                    _ => None,
                },
                _ => None,
            }) {
                let name = match &*pt.pat {
                    syn::Pat::Ident(pi) => pi.ident.to_string(),
                    _ => "it".to_string(),
                };
                return Some(Err(syn::Error::new_spanned(
                    &pt.ty,
                    format!(
                        "`{name}` holds integers (or `bool`s) lent `&mut`, beside `{float_buffer}`, \
                         a buffer of differentiated values: a differentiated helper follows \
                         `&mut` buffers of floats, arrays and structs only; change `{name}` in \
                         the caller (`{name}.swap(k, p);` beside the helper's call), or find the \
                         integers in a helper without `#[differentiate]` that returns them (`fn \
                         pivot_row(m: &[Vec<f64>], k: usize) -> usize`, called as `let p = \
                         pivot_row(&m, k);`)"
                    ),
                )));
            }
            return None;
        }
        let syn::Pat::Ident(pi) = &mut *pt.pat else {
            return Some(Err(syn::Error::new_spanned(
                &pt.pat,
                "name a `&mut` parameter of a differentiated function (`out: &mut [f64]`)",
            )));
        };
        let (owned, owned_a): (syn::Type, syn::Type) = match &*r.elem {
            syn::Type::Slice(sl) => {
                let t = &sl.elem;
                let n = format_ident!("__AD_N{}", names.len());
                ga.sig
                    .generics
                    .params
                    .push(syn::parse_quote!(const #n: usize));
                arrays = true;
                (
                    syn::parse_quote!(::std::vec::Vec<#t>),
                    syn::parse_quote!([#t; #n]),
                )
            }
            t => {
                arrays |= matches!(t, syn::Type::Array(_));
                (t.clone(), t.clone())
            }
        };
        pi.mutability = Some(Default::default());
        if let syn::Pat::Ident(pi_a) = &mut *pt_a.pat {
            pi_a.mutability = Some(Default::default());
        }
        names.push(pi.ident.clone());
        *pt.ty = owned;
        *pt_a.ty = owned_a;
    }
    if names.is_empty() {
        return None;
    }
    if let Some(syn::FnArg::Receiver(r)) = f.sig.inputs.first() {
        if crate::types::receiver_type(r).is_err() {
            return Some(Err(syn::Error::new_spanned(
                r,
                "a differentiated method taking `&mut self` cannot take other `&mut` \
                 parameters (an optimizer's `fn step(&mut self, w: &mut [f64], g: &[f64])`): \
                 write it as a function taking the struct `&mut` beside the buffers, `fn \
                 step(opt: &mut Opt, w: &mut [f64], g: &[f64])`, called as `step(&mut opt, &mut \
                 w, &g)`, which is followed, or make the buffers fields of the struct",
            )));
        }
    }
    // The copy a call whose result is not used calls (also of a helper that returns one), and
    // the one where it is; each also for arrays.
    let mut sigs = vec![(g, false)];
    if arrays {
        sigs.push((ga, true));
    }
    let mut copies = Vec::new();
    for (g, array) in &sigs {
        let bufs: Vec<syn::Type> = g
            .sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(pi) if names.contains(&pi.ident) => Some((*pt.ty).clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        copies.push(buffers_copy(g, f, &names, &bufs, false, *array));
        if returns_value(f) {
            copies.push(buffers_copy(g, f, &names, &bufs, true, *array));
        }
    }
    Some(copies.into_iter().collect())
}

/// One by-value copy of `f` (its signature `g` already taking the buffers by value): returning
/// the buffers (the one alone), and then the value where `keep` says; named for arrays where
/// `array` says.
fn buffers_copy(
    g: &syn::ItemFn,
    f: &syn::ItemFn,
    names: &[syn::Ident],
    bufs: &[syn::Type],
    keep: bool,
    array: bool,
) -> Result<syn::ItemFn, syn::Error> {
    let result = result_type(f);
    let mut g = g.clone();
    g.sig.ident = copy_name(&f.sig.ident, keep, array);
    g.sig.output = match &result {
        Some(r) if keep => syn::parse_quote!(-> (#(#bufs,)* #r)),
        _ if bufs.len() == 1 => syn::parse_quote!(-> #(#bufs)*),
        _ => syn::parse_quote!(-> (#(#bufs,)*)),
    };
    g.attrs.retain(|a| a.path().is_ident("allow"));
    g.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    let mut body = (*f.block).clone();
    let mut rewrite = Buffers {
        names,
        keep,
        result: result.clone(),
        loops: 0,
        in_loop: None,
    };
    rewrite.visit_block_mut(&mut body);
    if let Some(at) = rewrite.in_loop {
        return Err(syn::Error::new(
            at,
            "a `return` inside a loop of a differentiated function taking `&mut` parameters is \
             not supported: leave the loop with `break` and skip what follows with an `if` (or \
             return from outside the loop)",
        ));
    }
    let tail = match body.stmts.pop() {
        Some(syn::Stmt::Expr(e, None)) if result.is_some() => {
            with_buffers(names, Some(&e), result.as_ref(), keep)
        }
        Some(mut last) => {
            if let syn::Stmt::Expr(_, semi @ None) = &mut last {
                *semi = Some(Default::default());
            }
            body.stmts.push(last);
            with_buffers(names, None, None, false)
        }
        None => with_buffers(names, None, None, false),
    };
    body.stmts.extend(tail.stmts);
    g.block = Box::new(body);
    Ok(g)
}

/// The copy's result: the buffers, and the value `e` where `keep` says (computed before the
/// buffers move); a single buffer alone where there is no value.
/// The value is bound with the function's result type `ty`, which the expression's type may
/// have been inferred from (`.sum()`).
fn with_buffers(
    names: &[syn::Ident],
    e: Option<&syn::Expr>,
    ty: Option<&syn::Type>,
    keep: bool,
) -> syn::Block {
    let bufs: syn::Expr = match names {
        [one] if !keep => syn::parse_quote!(#one),
        _ => syn::parse_quote!((#(#names,)*)),
    };
    let ty = ty.map(|t| quote::quote!(: #t));
    match e {
        Some(e) if keep => {
            syn::parse_quote!({ let __ad_value #ty = #e; (#(#names,)* __ad_value) })
        }
        Some(e) => syn::parse_quote!({ let _ #ty = #e; #bufs }),
        None => syn::parse_quote!({ #bufs }),
    }
}

/// In the copy taking buffers by value: `*out` → `out`, and `return e;` → the buffers and
/// `e`; the first `return` inside a loop.
struct Buffers<'a> {
    names: &'a [syn::Ident],
    /// The copy returns the value too.
    keep: bool,
    /// The function's result type.
    result: Option<syn::Type>,
    loops: usize,
    in_loop: Option<proc_macro2::Span>,
}

impl VisitMut for Buffers<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            syn::Expr::Return(r) => {
                if self.loops > 0 && self.in_loop.is_none() {
                    self.in_loop = Some(syn::spanned::Spanned::span(&r.return_token));
                }
                if let Some(v) = &mut r.expr {
                    self.visit_expr_mut(v);
                }
                let block = with_buffers(
                    self.names,
                    r.expr.as_deref(),
                    self.result.as_ref(),
                    self.keep,
                );
                r.expr = Some(Box::new(syn::Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block,
                })));
            }
            syn::Expr::ForLoop(_) | syn::Expr::While(_) | syn::Expr::Loop(_) => {
                self.loops += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.loops -= 1;
            }
            // A closure's `return` is its own; `*out` inside it is still the buffer.
            syn::Expr::Closure(c) => Derefs(self.names).visit_expr_mut(&mut c.body),
            _ => Derefs(self.names).rewrite(e, |e| syn::visit_mut::visit_expr_mut(self, e)),
        }
    }
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = deref_tokens(self.names, m.tokens.clone());
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `*v` → `v` in `e`, and each of `names` passed on as it is (`g(v)`) lent again, `g(&mut v)`:
/// the body of a closure whose `&mut` parameters `names` are taken by value instead (see
/// `lower::closures`, `Lowering::closure_buffer_call`).
pub fn deref_buffers(names: &[syn::Ident], e: &mut syn::Expr) {
    Derefs(names).visit_expr_mut(e);
}

/// `*out` → `out`, and a buffer passed on as it is (`fill_into(x, out)`, the `&mut` lent
/// again) → `&mut out`, a call of the helper's own copy (see `lower::calls::passes_mut`).
struct Derefs<'a>(&'a [syn::Ident]);

impl Derefs<'_> {
    fn is_buffer(&self, e: &syn::Expr) -> bool {
        matches!(e, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|id| self.0.contains(id)))
    }

    /// Rewrites `e` where it is one of the forms above, then goes on into it with `visit`.
    fn rewrite(&self, e: &mut syn::Expr, mut visit: impl FnMut(&mut syn::Expr)) {
        if let syn::Expr::Unary(u) = e {
            if matches!(u.op, syn::UnOp::Deref(_)) && self.is_buffer(&u.expr) {
                *e = (*u.expr).clone();
                return;
            }
        }
        let args = match e {
            syn::Expr::Call(c) => Some(&mut c.args),
            syn::Expr::MethodCall(mc) => Some(&mut mc.args),
            _ => None,
        };
        for a in args.into_iter().flatten() {
            if self.is_buffer(a) {
                *a = syn::parse_quote!(&mut #a);
            }
        }
        visit(e);
    }
}

impl VisitMut for Derefs<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        let this = Derefs(self.0);
        this.rewrite(e, |e| syn::visit_mut::visit_expr_mut(self, e));
    }
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = deref_tokens(self.0, m.tokens.clone());
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// `*out` → `out` in a macro's tokens (`println!("{:?}", *state)`), where the `*` is a
/// dereference: first in its group or after another punctuation (`, *state`, `x * *state`),
/// not a product's (`a * state`).
fn deref_tokens(names: &[syn::Ident], ts: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, TokenTree};
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut k = 0;
    while k < tokens.len() {
        match &tokens[k] {
            TokenTree::Punct(star)
                if star.as_char() == '*'
                    && matches!(out.last(), None | Some(TokenTree::Punct(_)))
                    && matches!(tokens.get(k + 1), Some(TokenTree::Ident(i)) if names.contains(i))
                    && !matches!(tokens.get(k + 2), Some(TokenTree::Punct(p)) if p.as_char() == '.' || p.as_char() == ':') =>
            {
                k += 1;
                continue;
            }
            TokenTree::Group(g) => {
                let mut n = Group::new(g.delimiter(), deref_tokens(names, g.stream()));
                n.set_span(g.span());
                out.push(TokenTree::Group(n));
            }
            t => out.push(t.clone()),
        }
        k += 1;
    }
    out.into_iter().collect()
}

/// `return;` → `return self;`, outside closures and nested items; the first `return` inside a
/// loop, which the by-value copy cannot give `self` from (it is carried by the loop).
struct ReturnSelf {
    loops: usize,
    in_loop: Option<proc_macro2::Span>,
}

impl VisitMut for ReturnSelf {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            syn::Expr::Closure(_) => {}
            syn::Expr::Return(r) => {
                if self.loops > 0 && self.in_loop.is_none() {
                    self.in_loop = Some(syn::spanned::Spanned::span(&r.return_token));
                }
                if r.expr.is_none() {
                    r.expr = Some(Box::new(syn::parse_quote!(self)));
                }
            }
            syn::Expr::ForLoop(_) | syn::Expr::While(_) | syn::Expr::Loop(_) => {
                self.loops += 1;
                syn::visit_mut::visit_expr_mut(self, e);
                self.loops -= 1;
            }
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
