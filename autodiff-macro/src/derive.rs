//! `#[derive(Differentiable)]`: parameter structs as active arguments.
//!
//! A model's parameters are a struct of tensors and scalars (`w1: Array2<f64>, b1: Array1<f64>,
//! ..`), possibly nested. Deriving `Differentiable` (and `Primal`) makes such a struct its own
//! gradient type, so a `#[differentiate]`d function can take it as an active argument, and lets
//! optimizers and gradient checking walk it. Every method delegates to the fields, one after
//! another in declaration order. For
//!
//! ```ignore
//! #[derive(Clone, Differentiable)]
//! struct Mlp { hidden: Layer, v: Array1<f64>, c: f64 }
//! ```
//!
//! it emits, inside a `const _: () = { .. };` block (paths shortened):
//!
//! ```ignore
//! trait __AdFieldOf<S>: Differentiable<Scalar = S> {}
//! impl<T: Differentiable> __AdFieldOf<T::Scalar> for T {}
//! // + `scalar_checks`: `__ad_same_scalar::<Array1<f64>, <Layer as Differentiable>::Scalar>();` ..
//!
//! impl<__AdScalar: Real> Differentiable for Mlp
//! where
//!     Layer: Differentiable<Scalar = __AdScalar>,
//!     Array1<f64>: __AdFieldOf<__AdScalar>,
//!     f64: __AdFieldOf<__AdScalar>,
//!     Mlp: Clone,
//! {
//!     type Scalar = __AdScalar;
//!     fn zero_like(&self) -> Self { Self { hidden: zero_like(&self.hidden), v: .., c: .. } }
//!     fn add_assign(&mut self, other: &Self) { add_assign(&mut self.hidden, &other.hidden); .. }
//!     fn scale(&mut self, s: __AdScalar) { scale(&mut self.hidden, s); .. }
//!     fn inner(&self, other: &Self) -> __AdScalar { inner(&self.hidden, &other.hidden) + .. }
//!     fn num_scalars(&self) -> usize { num_scalars(&self.hidden) + .. }
//!     fn visit_leaves(&self, f) { visit_leaves(&self.hidden, f); .. }
//!     fn zip_leaves_mut(&mut self, other: &Self, f) { zip_leaves_mut(&mut self.hidden, &other.hidden, f); .. }
//! }
//! impl<__AdScalar: Real> Primal for Mlp where /* the same bounds */ {
//!     type Tangent = Self;
//!     fn zero_tangent(&self) -> Self { zero_like(self) }
//! }
//! // a struct literal of the fields, with its derivatives (see `literal_fns`):
//! impl Mlp { fn __ad_literal(c: f64, hidden: Layer, v: Array1<f64>) -> Same<Self> { .. } .. }
//! // one per field, the key of its name (see `types::field_key`):
//! impl __private::Field<0x4f3c.., Layer> for Mlp { type Ty = Layer; }
//! ```
//!
//! # Decisions
//!
//! - **Leaf order is field order.** `visit_leaves` and `zip_leaves_mut` visit the first field's
//!   leaves, then the second's, and so on, depth first through nested structs. Optimizers keep
//!   per-leaf state (velocities, moment estimates) by position in this walk, and gradient
//!   checking numbers its entries by it; reordering fields changes which state belongs to which
//!   leaf, so an optimizer must not outlive a change of field order.
//! - **The scalar type is an impl parameter**, `__AdScalar`, fixed by the bound
//!   `First: Differentiable<Scalar = __AdScalar>` on the first field's type; every later field
//!   type must have the same scalar type. Spelling it `<First as Differentiable>::Scalar` instead
//!   would break twice: a public struct whose first field has a less visible type would leak that
//!   type (E0446, a hard error), and bounds `Field: Differentiable<Scalar = <First as ..>::Scalar>`
//!   on concrete types overflow rustc's trait solver when the first field is a derived struct
//!   containing a later field's type (`Mlp { hidden: Layer, v: Array1<f64> }` with
//!   `Layer { b: Array1<f64>, .. }`), since the bound on `Array1<f64>` rewrites the projection
//!   that normalizes `Layer`'s own scalar type. A bound that ends in a type parameter cannot loop.
//! - **Diagnostics land on the offending field.** Bounds on later fields go through the local
//!   trait `__AdFieldOf`, whose `Differentiable` part rustc checks at the definition (a field of a
//!   type that is not differentiable is reported there, at that field); the scalar part names the
//!   impl parameter and is not checked there, so [`scalar_checks`] adds one call per concrete
//!   field that fails, at that field's type, when its scalar type differs from the first's. A
//!   field type repeated is bounded once (a bound equating a type's scalar with itself overflows
//!   too). Generated tokens are spanned from the first to the last token of the field's type, so
//!   rustc underlines the whole type.
//! - **`Clone`** is a supertrait; the user derives it beside (`#[derive(Clone, Differentiable)]`).
//!   Without generics the impl requires `Self: Clone`, a trivially false bound when `Clone` is
//!   missing, so the error is one, at the struct's name, where rustc suggests the derive. With
//!   type parameters it requires `T: Clone` of each (what `#[derive(Clone)]` requires) instead,
//!   so a missing `Clone` is still an error at the definition, not an impl that never applies.
//! - **Generics** (lifetimes, types, consts) and the user's where-clause are carried over; the
//!   field bounds are added to the where-clause, so `Layer<S>` is `Differentiable` for every `S`
//!   that makes its fields so.
//! - **Rejected**, with a spanned error: enums and unions (a gradient has one fixed shape), unit
//!   structs and structs without fields (no scalar type to take).
//! - **Data fields.** A field of integers, `bool`s, strings or containers of them is data,
//!   known by its type; a field of another type that holds no derivative (an enum choosing the
//!   activation) is marked `#[differentiable(data)]`, which the type cannot say. Data fields
//!   have no bounds, no leaves and no gradient of their own: every zero, gradient and tangent
//!   copies them from the value, except a marked field of a type that has a zero (running
//!   statistics, `Array1<f64>`), which is zero there (`DataZero`): the tangent of a read of it
//!   is zero, and a gradient holds there the derivative with respect to it, not a leaf. A `#[differentiate]` function that matches such a field
//!   (`match self.act { Act::Soft(beta) => .. }`) binds its payloads as constants; one that
//!   calls the type's methods on it or lends it needs the type declared data (`impl
//!   autodiff::Data for Act {}`), which is what the runtime's conversions ask of it.
//! - **Hygiene.** Paths are absolute (`::autodiff::…`, `::core::…`); methods are called in fully
//!   qualified form, so inherent methods of a field's type never shadow them; helper items live
//!   in the anonymous `const` block and are `__ad`-prefixed.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// Expands `#[derive(Differentiable)]` on `input`; errors become `compile_error!`s.
pub fn expand(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    match derive(&input) {
        Ok(ts) => ts,
        Err(e) => e.to_compile_error(),
    }
}

/// One field: how to reach it (`self.w` / `self.0`), its type, and whether it is data carried
/// along (an integer, `bool`, string or a container of them: `n_in: usize`, `sizes: Vec<usize>`),
/// which the gradient holds as a copy of the value's, as a shape.
struct Field<'a> {
    member: syn::Member,
    ty: &'a syn::Type,
    data: bool,
    /// Data by `#[differentiable(data)]` (an enum, a setting of the user's type), which may
    /// have no `Default`.
    marked: bool,
}

/// A function pointer (`act: fn(f64) -> f64`) or a closure held behind a pointer (`act:
/// Rc<dyn Fn(f64) -> f64>`, `Arc<dyn Fn(f64) -> f64 + Send + Sync>`), data without a
/// `Default`.
fn is_fn_pointer(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::FnPtr(_) => true,
        syn::Type::Paren(p) => is_fn_pointer(&p.elem),
        syn::Type::Group(g) => is_fn_pointer(&g.elem),
        syn::Type::TraitObject(t) => t.bounds.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(tb)
            if tb.path.segments.last().is_some_and(|s| {
                matches!(s.ident.to_string().as_str(), "Fn" | "FnMut" | "FnOnce")
            }))
        }),
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            matches!(&s.arguments, syn::PathArguments::AngleBracketed(a)
                if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(t)
                    if is_fn_pointer(t))))
        }),
        _ => false,
    }
}

/// `#[differentiable(data)]` on the field.
pub(crate) fn marked_data(f: &syn::Field) -> bool {
    f.attrs.iter().any(|a| mark(a) == Some(true))
}

/// Of a `#[differentiable(..)]` attribute, whether it is the data mark; `None` for another
/// attribute.
fn mark(a: &syn::Attribute) -> Option<bool> {
    a.path()
        .is_ident("differentiable")
        .then(|| matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string() == "data"))
}

/// Whether the field is data: of a type without derivative (integers, `bool`s, strings and
/// containers of them), or marked `#[differentiable(data)]`.
fn is_data(f: &syn::Field) -> bool {
    crate::types::is_inactive_type(&f.ty) || marked_data(f)
}

fn derive(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let fields = fields(input)?;
    let name = &input.ident;
    let d = quote!(::autodiff::Differentiable);
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let (generics, uses_field_of) = impl_generics(input, &fields)?;
    let (impl_generics, _, where_clause) = generics.split_for_impl();

    // `T: __AdFieldOf<S>` means `T: Differentiable<Scalar = S>` (a supertrait), in a bound whose
    // `T: Differentiable` part is still checked at the definition; see the module doc.
    let field_of = uses_field_of.then(|| {
        quote! {
            trait __AdFieldOf<S>: ::autodiff::Differentiable<Scalar = S> {}
            impl<T> __AdFieldOf<<T as ::autodiff::Differentiable>::Scalar> for T
            where
                T: ::autodiff::Differentiable,
            {
            }
        }
    });

    let checks = scalar_checks(input, &fields);
    let field_types = field_types(input, &fields);
    let literal = literal_fns(input);
    let (params, data): (Vec<&Field>, Vec<&Field>) = fields.iter().partition(|f| !f.data);
    let m: Vec<&syn::Member> = params.iter().map(|f| &f.member).collect();
    let tys: Vec<&syn::Type> = params.iter().map(|f| f.ty).collect();
    // Data fields are copied into every zero, so a zero without a value to copy (a shapeless
    // one) does not exist.
    let dm: Vec<&syn::Member> = data.iter().map(|f| &f.member).collect();
    // A zero made without a value (`SHAPELESS_ZERO` is false with data fields, so it is
    // never asked for) gives data fields their default, which a marked field's type (an enum)
    // may not have.
    let data_default = data.iter().map(|f| match f.marked || is_fn_pointer(f.ty) {
        true => quote!(::core::unreachable!()),
        false => quote!(::core::default::Default::default()),
    });
    // A marked field's zero is one where its type has one (see `DataZero`): the tangent of a
    // read of running statistics is zero.
    let data_zero = data.iter().map(|f| {
        let m = &f.member;
        match f.marked {
            true => quote! {{
                #[allow(unused_imports)]
                use ::autodiff::__private::{CopyOfData as _, ZeroOfData as _};
                (&&::autodiff::__private::DataZero(&self.#m)).zero_or_copy()
            }},
            false => quote!(::core::clone::Clone::clone(&self.#m)),
        }
    });
    let shapeless = data.is_empty();
    // Clippy takes the bounds, spanned at the user's field types, for the user's code: the
    // `allow` keeps it from linting them (`type_repetition_in_bounds` and the like).
    Ok(quote! {
        #[allow(clippy::all, clippy::pedantic, clippy::nursery)]
        const _: () = {
            #field_of

            #checks

            #field_types

            #literal

            #[automatically_derived]
            impl #impl_generics #d for #name #ty_generics #where_clause {
                type Scalar = __AdScalar;

                const SHAPELESS_ZERO: bool = #shapeless #( && <#tys as #d>::SHAPELESS_ZERO )*;

                #[inline]
                #[allow(unreachable_code)]
                fn shapeless_zero() -> Self {
                    Self {
                        #( #m: <#tys as #d>::shapeless_zero(), )*
                        #( #dm: #data_default, )*
                    }
                }

                #[inline]
                fn zero_like(&self) -> Self {
                    Self {
                        #( #m: #d::zero_like(&self.#m), )*
                        #( #dm: #data_zero, )*
                    }
                }

                #[inline]
                fn add_assign(&mut self, other: &Self) {
                    #( #d::add_assign(&mut self.#m, &other.#m); )*
                }

                #[inline]
                fn scale(&mut self, s: __AdScalar) {
                    #( #d::scale(&mut self.#m, s); )*
                }

                #[inline]
                fn inner(&self, other: &Self) -> __AdScalar {
                    #( #d::inner(&self.#m, &other.#m) )+*
                }

                #[inline]
                fn num_scalars(&self) -> usize {
                    #( #d::num_scalars(&self.#m) )+*
                }

                #[inline]
                fn visit_leaves(&self, f: &mut dyn ::core::ops::FnMut(&[__AdScalar])) {
                    #( #d::visit_leaves(&self.#m, f); )*
                }

                #[inline]
                fn zip_leaves_mut(
                    &mut self,
                    other: &Self,
                    f: &mut (dyn ::core::ops::FnMut(&mut [__AdScalar], &[__AdScalar]) + '_),
                ) {
                    #( #d::zip_leaves_mut(&mut self.#m, &other.#m, f); )*
                }
            }

            // Its shape is a zero of it (carried beside a container a loop changes, or out
            // of a loop by an early `return`, the backward pass keeps only the shape).
            #[automatically_derived]
            impl #impl_generics ::autodiff::__private::HasShape for #name #ty_generics #where_clause {
                type Dims = ::autodiff::__private::StructShape<Self>;

                #[inline]
                fn dims(&self) -> Self::Dims {
                    ::autodiff::__private::StructShape(::std::sync::Arc::new(#d::zero_like(self)))
                }
            }

            #[automatically_derived]
            impl #impl_generics ::autodiff::__private::ZerosOfShape for #name #ty_generics #where_clause {
                type Tangent = Self;

                #[inline]
                fn zeros(dims: &Self::Dims) -> Self {
                    #d::zero_like(&*dims.0)
                }
            }

            #[automatically_derived]
            impl #impl_generics ::autodiff::Primal for #name #ty_generics #where_clause {
                type Tangent = Self;

                #[inline]
                fn zero_tangent(&self) -> Self {
                    #d::zero_like(self)
                }
            }
        };
    })
}

/// The struct literal as a function of its fields, with its derivatives, for a `#[differentiate]`
/// function that builds the struct from differentiated values (`Point { x: a, y: b }` there is
/// `Point::__ad_literal(a, b)`). The fields are parameters in the order of their names, which is
/// what the literal's site can see; the struct is its own gradient and tangent, so each
/// derivative moves fields in or out:
///
/// ```ignore
/// fn __ad_literal(x: X, y: Y) -> Self { Self { x, y } }
/// fn __ad_literal_vjp(x: X, y: Y) -> (Self, impl FnOnce(Self) -> (X, Y))   // ḡ ↦ (ḡ.x, ḡ.y)
/// fn __ad_literal_jvp(x: X, y: Y, dx: X, dy: Y) -> (Self, Self)           // (ẋ, ẏ) ↦ Self { ẋ, ẏ }
/// // and `_vjp_jvp` (Hessians) and `_vjp_along` (exact kinks), made of the same two.
/// ```
///
/// A tuple struct's are the same, its parameters in the order of its fields (`V(a, b)` is
/// lowered as the literal `V { 0: a, 1: b }`).
fn literal_fns(input: &syn::DeriveInput) -> Option<TokenStream> {
    let syn::Data::Struct(syn::DataStruct { fields, .. }) = &input.data else {
        return None;
    };
    let (fields, m): (Vec<&syn::Field>, Vec<syn::Member>) = match fields {
        syn::Fields::Named(named) => {
            let mut fields: Vec<&syn::Field> = named.named.iter().collect();
            fields.sort_by_key(|f| f.ident.as_ref().map(|i| i.to_string()));
            let m = fields
                .iter()
                .filter_map(|f| f.ident.clone().map(syn::Member::Named))
                .collect();
            (fields, m)
        }
        syn::Fields::Unnamed(unnamed) if !unnamed.unnamed.is_empty() => {
            let fields: Vec<&syn::Field> = unnamed.unnamed.iter().collect();
            let m = (0..fields.len())
                .map(|i| syn::Member::Unnamed(syn::Index::from(i)))
                .collect();
            (fields, m)
        }
        _ => return None,
    };
    // The literal can be written where every field is visible: the functions are as visible as
    // the fields when they agree, else private to the struct's module.
    let vis = match &fields[..] {
        [first, rest @ ..] if rest.iter().all(|f| f.vis == first.vis) => first.vis.clone(),
        _ => syn::Visibility::Inherited,
    };
    let ty: Vec<&syn::Type> = fields.iter().map(|f| &f.ty).collect();
    let name_of = |m: &syn::Member| match m {
        syn::Member::Named(i) => i.to_string(),
        syn::Member::Unnamed(i) => i.index.to_string(),
    };
    let v: Vec<syn::Ident> = m
        .iter()
        .map(|i| quote::format_ident!("__ad_v_{}", name_of(i)))
        .collect();
    // A tangent and a gradient per field that is not data (see `Field`); a data field's
    // tangent is its value. A field of floats marked data (running statistics) has both too:
    // its gradient is the derivative with respect to it (see `DataZero`), which the value
    // given to the literal (`running_mean: m.clone()`) takes back, and a call counts an
    // argument of floats as one with a gradient.
    let is_param: Vec<bool> = fields
        .iter()
        .map(|f| !is_data(f) || (marked_data(f) && mentions_floats(&f.ty)))
        .collect();
    let pick = |k: &usize| is_param[*k];
    let idx: Vec<usize> = (0..m.len()).filter(pick).collect();
    let (pm, pty): (Vec<&syn::Member>, Vec<&syn::Type>) =
        idx.iter().map(|&k| (&m[k], ty[k])).unzip();
    let d: Vec<syn::Ident> = pm
        .iter()
        .map(|i| quote::format_ident!("__ad_d_{}", name_of(i)))
        .collect();
    // One gradient per field: the value itself for one field, else a tuple.
    let (grad_ty, grads_of) = if pm.len() == 1 {
        let (t, f) = (pty[0], pm[0]);
        (quote!(#t), quote!(|__ad_g: Self| __ad_g.#f))
    } else {
        (
            quote!((#(#pty,)*)),
            quote!(|__ad_g: Self| (#(__ad_g.#pm,)*)),
        )
    };
    let name = &input.ident;
    // A data field's tangent is a copy of its value: `T: Clone` of each type parameter (what
    // the `Differentiable` impl requires too), for a data field of type `Vec<T>`.
    let mut generics = input.generics.clone();
    let type_params: Vec<syn::Ident> = generics.type_params().map(|t| t.ident.clone()).collect();
    for t in type_params {
        generics
            .make_where_clause()
            .predicates
            .push(syn::parse_quote!(#t: ::core::clone::Clone));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let value = quote!(Self { #(#m: #v,)* });
    let tangent_fields = (0..m.len()).map(|k| {
        let f = &m[k];
        match idx.iter().position(|&i| i == k) {
            Some(p) => {
                let dp = &d[p];
                quote!(#f: #dp)
            }
            None => {
                let vk = &v[k];
                quote!(#f: ::core::clone::Clone::clone(&#vk))
            }
        }
    });
    let tangent = quote!(Self { #(#tangent_fields,)* });
    Some(quote! {
        #[automatically_derived]
        #[allow(dead_code, private_interfaces, clippy::too_many_arguments)]
        impl #impl_generics #name #ty_generics #where_clause {
            #[doc(hidden)]
            #[inline]
            #vis fn __ad_literal(#(#v: #ty),*) -> ::autodiff::__private::Same<Self> {
                #value
            }

            #[doc(hidden)]
            #[inline]
            #vis fn __ad_literal_vjp(#(#v: #ty),*)
                -> (Self, impl ::core::ops::FnOnce(Self) -> #grad_ty)
            {
                (#value, #grads_of)
            }

            #[doc(hidden)]
            #[inline]
            #vis fn __ad_literal_jvp(#(#v: #ty,)* #(#d: #pty),*) -> (Self, Self) {
                let __ad_t = #tangent;
                (#value, __ad_t)
            }

            #[doc(hidden)]
            #[inline]
            #vis fn __ad_literal_vjp_along(#(#v: #ty,)* #(#d: #pty),*)
                -> (Self, Self, impl ::core::ops::FnOnce(Self) -> #grad_ty)
            {
                let __ad_t = #tangent;
                (#value, __ad_t, #grads_of)
            }

            #[doc(hidden)]
            #[inline]
            #vis fn __ad_literal_vjp_jvp(#(#v: #ty,)* #(#d: #pty),*)
                -> (Self, Self, impl ::core::ops::FnOnce(Self, Self) -> (#grad_ty, #grad_ty))
            {
                let __ad_grads = #grads_of;
                let __ad_t = #tangent;
                (#value, __ad_t, move |__ad_g: Self, __ad_dg: Self| {
                    (__ad_grads(__ad_g), __ad_grads(__ad_dg))
                })
            }
        }
    })
}

/// `impl Field<H, Layer> for Mlp { type Ty = Layer; }` and `impl SetField<H, Layer> for Mlp`
/// (what an assignment `m.layer = ..` in a `#[differentiate]` function is made of) per field, `H` the key of the field's
/// name ([`crate::types::field_key`]): what lets `self.layer.forward(x)` in a
/// `#[differentiate]` method name the field's type (`FieldTy::<Self, H, _>`, the `_` inferred
/// from the one impl with that key) without seeing the struct. The field's type is also a
/// parameter of the trait so that the impl is no more visible than it: a `pub` struct with a
/// field of a private type would otherwise show that type in a public interface (E0446).
fn field_types(input: &syn::DeriveInput, fields: &[Field<'_>]) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let impls = fields.iter().map(|f| {
        let member = &f.member;
        let key = proc_macro2::Literal::u64_unsuffixed(crate::types::field_key(
            &quote!(#member).to_string(),
        ));
        let ty = f.ty;
        quote! {
            #[automatically_derived]
            impl #impl_generics ::autodiff::__private::Field<#key, #ty> for #name #ty_generics
            #where_clause
            {
                type Ty = #ty;
            }

            #[automatically_derived]
            impl #impl_generics ::autodiff::__private::SetField<#key, #ty> for #name #ty_generics
            #where_clause
            {
                #[inline]
                fn field_mut(&mut self) -> &mut #ty {
                    &mut self.#member
                }
            }
        }
    });
    quote!(#(#impls)*)
}

/// The impl's generics: the struct's, plus the scalar type `__AdScalar`, and its where-clause:
/// the struct's, plus the bounds on the field types and `Clone`. Also whether a bound uses
/// `__AdFieldOf`.
fn impl_generics(
    input: &syn::DeriveInput,
    fields: &[Field<'_>],
) -> syn::Result<(syn::Generics, bool)> {
    let name = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let mut generics = input.generics.clone();
    generics
        .params
        .push(syn::parse_quote!(__AdScalar: ::autodiff::Real));
    let wc = generics.make_where_clause();

    // The first field's bound fixes `__AdScalar` (a projection bound constrains a parameter);
    // data fields have none.
    let fields: Vec<&Field> = fields.iter().filter(|f| !f.data).collect();
    let first = fields[0].ty;
    let (_, hi) = span_range(first);
    let bound = respan(
        quote!(: ::autodiff::Differentiable<Scalar = __AdScalar>),
        hi,
    );
    wc.predicates.push(syn::parse2(quote!(#first #bound))?);
    // One bound per later field type; a type repeated is bounded once.
    let mut seen = vec![quote!(#first).to_string()];
    for f in &fields[1..] {
        let ty = f.ty;
        let key = quote!(#ty).to_string();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let (_, hi) = span_range(ty);
        let bound = respan(quote!(: __AdFieldOf<__AdScalar>), hi);
        wc.predicates.push(syn::parse2(quote!(#ty #bound))?);
    }
    let uses_field_of = seen.len() > 1;

    // `Clone` is a supertrait. Without type parameters, requiring it here turns a missing
    // `#[derive(Clone)]` into one error at the struct's name, where rustc suggests the derive.
    // With them, `Self: Clone` would make the impl silently inapplicable instead; requiring
    // `T: Clone` of each (what `#[derive(Clone)]` requires) keeps the error at the definition.
    let type_params: Vec<&syn::Ident> = input.generics.type_params().map(|t| &t.ident).collect();
    if type_params.is_empty() {
        wc.predicates.push(syn::parse2(quote_spanned!(name.span()=>
            #name #ty_generics: ::core::clone::Clone
        ))?);
    }
    for t in type_params {
        wc.predicates
            .push(syn::parse2(quote!(#t: ::core::clone::Clone))?);
    }
    Ok((generics, uses_field_of))
}

/// Checks, at the definition, that the later fields whose types name no generic parameter have
/// the first field's scalar type, when that type names none either.
///
/// The impl's bounds `T: __AdFieldOf<__AdScalar>` are checked at the definition only for their
/// `T: Differentiable` part (it names no parameter); the scalar type, which names the impl's
/// parameter `__AdScalar`, would otherwise only fail where the struct is used, as an impl that
/// does not apply. One call per field, spanned at its type.
fn scalar_checks(input: &syn::DeriveInput, fields: &[Field<'_>]) -> TokenStream {
    let fields: Vec<&Field> = fields.iter().filter(|f| !f.data).collect();
    let first = fields[0].ty;
    if mentions_generics(first, &input.generics) {
        return TokenStream::new();
    }
    let calls: Vec<TokenStream> = fields[1..]
        .iter()
        .filter(|f| !mentions_generics(f.ty, &input.generics))
        .map(|f| {
            let ty = f.ty;
            let (lo, hi) = span_range(ty);
            let open = respan(quote!(__ad_same_scalar::<), lo);
            let close = respan(
                quote!(, <#first as ::autodiff::Differentiable>::Scalar>();),
                hi,
            );
            quote!(#open #ty #close)
        })
        .collect();
    if calls.is_empty() {
        return TokenStream::new();
    }
    let message = "`{Self}` is not a `Differentiable` field with scalar type `{S}`";
    quote! {
        #[diagnostic::on_unimplemented(
            message = #message,
            label = "not `Differentiable`, or another scalar type than the first field's",
            note = "`#[derive(Differentiable)]` needs every field to be `Differentiable` \
                    (`f64`, `Vec<f64>`, `Array2<f64>`, a derived struct, ..) with the scalar type \
                    of the first field, or data it copies (integers, `bool`s, strings and \
                    containers of them, or a field marked `#[differentiable(data)]`: an enum \
                    of settings)"
        )]
        trait __AdField<S> {}
        impl<T: ::autodiff::Differentiable> __AdField<<T as ::autodiff::Differentiable>::Scalar>
            for T
        {
        }
        fn __ad_same_scalar<T: __AdField<S>, S>() {}
        #[allow(dead_code)]
        fn __ad_check_fields() {
            #( #calls )*
        }
    }
}

/// The struct's fields, in declaration order, or the error that explains why it has none we can
/// use.
fn fields(input: &syn::DeriveInput) -> syn::Result<Vec<Field<'_>>> {
    let name = &input.ident;
    let data = match &input.data {
        syn::Data::Struct(s) => s,
        syn::Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span,
                format!(
                    "`#[derive(Differentiable)]` supports structs, not enums: a gradient has one \
                     fixed shape; put the parameters in a struct (`struct {name} {{ w: \
                     Array2<f64>, .. }}`)"
                ),
            ));
        }
        syn::Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "`#[derive(Differentiable)]` supports structs, not unions; put the parameters in \
                 a struct with one field each",
            ));
        }
    };
    for f in data.fields.iter() {
        if let Some(a) = f.attrs.iter().find(|a| mark(a) == Some(false)) {
            return Err(syn::Error::new_spanned(
                a,
                "`#[differentiable(..)]` on a field takes `data`: `#[differentiable(data)]` \
                 marks a field that holds no derivative (an enum, a setting of a type of your \
                 own), which gradients and tangents copy from the value",
            ));
        }
    }
    // An optional parameter (`b: Option<Array1<f64>>`, PyTorch's `bias=False`): an `Option`
    // has no gradient type (a gradient has one fixed shape).
    for f in data.fields.iter() {
        if is_data(f) {
            continue;
        }
        if let syn::Type::Path(tp) = &f.ty
            && tp.qself.is_none()
            && tp.path.segments.last().is_some_and(|s| s.ident == "Option")
        {
            let field = f.ident.as_ref().map_or("b".to_string(), |i| i.to_string());
            let inner = match &tp.path.segments.last().map(|s| &s.arguments) {
                Some(syn::PathArguments::AngleBracketed(a)) => match a.args.first() {
                    Some(syn::GenericArgument::Type(t)) => quote!(#t).to_string().replace(' ', ""),
                    _ => "Array1<f64>".to_string(),
                },
                _ => "Array1<f64>".to_string(),
            };
            return Err(syn::Error::new_spanned(
                &f.ty,
                format!(
                    "a field of a parameter struct cannot be an `Option` of differentiable \
                     values: a gradient has one fixed shape. For an optional parameter (a bias \
                     that may be off), keep the parameter and a flag, `{field}: {inner}` \
                     beside `use_{field}: bool`, tested in the forward pass (`if l.use_{field} \
                     {{ h = h + &l.{field}; }}`); or, for values that are not trained, mark the \
                     field `#[differentiable(data)]`"
                ),
            ));
        }
    }
    let fields: Vec<Field> = match &data.fields {
        syn::Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|f| {
                Some(Field {
                    member: syn::Member::Named(f.ident.clone()?),
                    ty: &f.ty,
                    data: is_data(f),
                    marked: marked_data(f),
                })
            })
            .collect(),
        syn::Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| Field {
                member: syn::Member::Unnamed(syn::Index::from(i)),
                ty: &f.ty,
                data: is_data(f),
                marked: marked_data(f),
            })
            .collect(),
        syn::Fields::Unit => {
            return Err(syn::Error::new(
                input.ident.span(),
                format!(
                    "`#[derive(Differentiable)]` needs at least one field, and `{name}` is a unit \
                     struct; add the parameters as fields (`struct {name} {{ w: Array2<f64>, .. \
                     }}`)"
                ),
            ));
        }
    };
    // A borrowed field of floats (`feats: &'a [f64]`) would have a gradient that borrows too,
    // which no derived struct can hold: rustc's errors about lifetimes and `Real` followed.
    if let Some(f) = fields
        .iter()
        .find(|f| !f.data && matches!(f.ty, syn::Type::Reference(_)))
    {
        let member = &f.member;
        return Err(syn::Error::new_spanned(
            f.ty,
            format!(
                "`#[derive(Differentiable)]`: the field `{}` is a reference, and a gradient of \
                 `{name}` could not hold a borrowed value; own the values (`Vec<f64>`) where \
                 they are parameters, or pass borrowed data beside the struct as an argument of \
                 its own (`fn loss(m: &{name}, x: &[f64])`, left out with `wrt(..)` where \
                 the function has other floats)",
                quote!(#member),
            ),
        ));
    }
    if fields.is_empty() {
        return Err(syn::Error::new(
            data.fields.span(),
            format!(
                "`#[derive(Differentiable)]` needs at least one field, and `{name}` has none: the \
                 first field's type gives the scalar type; add the parameters as fields"
            ),
        ));
    }
    if fields.iter().all(|f| f.data) {
        return Err(syn::Error::new(
            data.fields.span(),
            format!(
                "`#[derive(Differentiable)]` needs a field to differentiate, and every field of \
                 `{name}` is data (integers, `bool`s, strings): add the parameters as fields \
                 (`w: Vec<f64>`), or leave the struct out of `wrt(..)` as data"
            ),
        ));
    }
    Ok(fields)
}

/// Whether `ty` names `f32` or `f64` anywhere (`f64`, `Vec<f64>`, `[f32; 3]`, `Array1<f64>`).
fn mentions_floats(ty: &syn::Type) -> bool {
    names_any(quote!(#ty), &["f64", "f32"])
}

/// Whether `tokens` name one of `names` anywhere, in groups too.
fn names_any<N: AsRef<str>>(tokens: TokenStream, names: &[N]) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n.as_ref()),
        proc_macro2::TokenTree::Group(g) => names_any(g.stream(), names),
        _ => false,
    })
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Whether `ty` names one of `generics`' parameters (type, const or lifetime).
fn mentions_generics(ty: &syn::Type, generics: &syn::Generics) -> bool {
    let names: Vec<String> = generics
        .params
        .iter()
        .map(|p| match p {
            syn::GenericParam::Type(t) => t.ident.to_string(),
            syn::GenericParam::Const(c) => c.ident.to_string(),
            syn::GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
        })
        .collect();
    !names.is_empty() && names_any(quote!(#ty), &names)
}

/// The spans of the first and the last token of `ty`: generated tokens spanned from one to the
/// other make rustc point at the whole type (stable proc macros cannot join spans).
fn span_range(ty: &syn::Type) -> (Span, Span) {
    let tokens: Vec<proc_macro2::TokenTree> = quote!(#ty).into_iter().collect();
    let lo = match tokens.first() {
        Some(proc_macro2::TokenTree::Group(g)) => g.span_open(),
        Some(t) => t.span(),
        None => ty.span(),
    };
    let hi = match tokens.last() {
        Some(proc_macro2::TokenTree::Group(g)) => g.span_close(),
        Some(t) => t.span(),
        None => ty.span(),
    };
    (lo, hi)
}
