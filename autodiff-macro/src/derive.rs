//! `#[derive(Differentiable)]`: parameter structs as active arguments.
//!
//! A model's parameters are a struct of tensors and scalars (`w1: Array2<f64>, b1: Array1<f64>,
//! ..`), possibly nested. Deriving `Differentiable` makes such a struct its own gradient type, so
//! a `#[differentiate]`d function can take it as an active argument, and lets optimizers and
//! gradient checking walk it. The derive delegates every method to the fields, one field after
//! another in declaration order; nothing else is generated. For
//!
//! ```ignore
//! #[derive(Clone, Differentiable)]
//! struct Layer<T> { w: Array2<T>, b: Array1<T> }
//! ```
//!
//! it emits (paths shortened):
//!
//! ```ignore
//! impl<T> Differentiable for Layer<T>
//! where
//!     Array2<T>: Differentiable,
//!     Array1<T>: Differentiable<Scalar = <Array2<T> as Differentiable>::Scalar>,
//!     Layer<T>: Clone, // only for generic structs, see below
//! {
//!     type Scalar = <Array2<T> as Differentiable>::Scalar;
//!     fn zero_like(&self) -> Self { Self { w: zero_like(&self.w), b: zero_like(&self.b) } }
//!     fn add_assign(&mut self, other: &Self) { add_assign(&mut self.w, &other.w); .. }
//!     fn scale(&mut self, s: Self::Scalar) { scale(&mut self.w, s); scale(&mut self.b, s); }
//!     fn dot(&self, other: &Self) -> Self::Scalar { dot(&self.w, &other.w) + dot(&self.b, &other.b) }
//!     fn num_scalars(&self) -> usize { num_scalars(&self.w) + num_scalars(&self.b) }
//!     fn visit_leaves(&self, f: ..) { visit_leaves(&self.w, f); visit_leaves(&self.b, f); }
//!     fn zip_leaves_mut(&mut self, other: &Self, f: ..) { zip_leaves_mut(&mut self.w, &other.w, f); .. }
//! }
//! impl<T> Primal for Layer<T> where /* the same bounds */ {
//!     type Tangent = Self;
//!     fn zero_tangent(&self) -> Self { zero_like(self) }
//! }
//! ```
//!
//! # Decisions
//!
//! - **Scalar type.** Every field must be `Differentiable` with the scalar type of the *first*
//!   field. The bounds are where-clauses spanned at each field's type, so a field that is not
//!   differentiable (`String`) or has another scalar type (`f32` beside `f64`) is reported at
//!   that field, by rustc, in its own words.
//! - **Leaf order is field order.** `visit_leaves` and `zip_leaves_mut` visit the first field's
//!   leaves, then the second's, and so on, recursively for nested structs. Optimizers keep
//!   per-leaf state (velocities, moments) by position in this walk, so reordering fields changes
//!   which state belongs to which leaf: an optimizer must not outlive a change of field order.
//! - **`Clone`** is a supertrait of `Differentiable`; the user derives it beside
//!   (`#[derive(Clone, Differentiable)]`). When it is missing, rustc's error says so and suggests
//!   `#[derive(Clone)]`. For a generic struct the impl also requires `Self: Clone`, since the
//!   field bounds alone do not imply the bounds that `#[derive(Clone)]` puts on type parameters.
//! - **Generics** (lifetimes, types, consts) are carried over unchanged with the field bounds
//!   added to the where-clause.
//! - **Rejected**, with a spanned error: enums and unions (a gradient has one fixed shape),
//!   unit structs and structs without fields (no scalar type to take, nothing to differentiate).
//!   Every field is a parameter: there is no attribute to skip one; keep hyper-parameters out of
//!   the struct (or pass them as separate, inactive arguments).
//! - **Hygiene.** Generated paths are absolute (`::autodiff::…`, `::core::…`) and methods are
//!   called in fully qualified form, so inherent methods of a field's type never shadow them.

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

/// One field: how to reach it (`self.w` / `self.0`) and its type.
struct Field<'a> {
    member: syn::Member,
    ty: &'a syn::Type,
}

fn derive(input: &syn::DeriveInput) -> syn::Result<TokenStream> {
    let fields = fields(input)?;
    let name = &input.ident;
    let d = quote!(::autodiff::Differentiable);
    let first = fields[0].ty;
    let scalar = quote_spanned!(first.span()=> <#first as ::autodiff::Differentiable>::Scalar);

    // Where-clause: the user's, plus one bound per field type.
    let mut generics = input.generics.clone();
    let is_generic = !generics.params.is_empty();
    {
        let (_, ty_generics, _) = input.generics.split_for_impl();
        let wc = generics.make_where_clause();
        for (i, f) in fields.iter().enumerate() {
            let ty = f.ty;
            let bound = if i == 0 {
                quote_spanned!(ty.span()=> #ty: ::autodiff::Differentiable)
            } else {
                quote_spanned!(ty.span()=> #ty: ::autodiff::Differentiable<Scalar = #scalar>)
            };
            wc.predicates.push(syn::parse2(bound)?);
        }
        if is_generic {
            wc.predicates.push(syn::parse2(quote_spanned!(name.span()=>
                #name #ty_generics: ::core::clone::Clone
            ))?);
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let members: Vec<&syn::Member> = fields.iter().map(|f| &f.member).collect();
    let rest = &members[1..];
    let m0 = members[0];

    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #d for #name #ty_generics #where_clause {
            type Scalar = #scalar;

            #[inline]
            fn zero_like(&self) -> Self {
                Self { #( #members: #d::zero_like(&self.#members), )* }
            }

            #[inline]
            fn add_assign(&mut self, other: &Self) {
                #( #d::add_assign(&mut self.#members, &other.#members); )*
            }

            #[inline]
            fn scale(&mut self, s: Self::Scalar) {
                #( #d::scale(&mut self.#members, s); )*
            }

            #[inline]
            fn dot(&self, other: &Self) -> Self::Scalar {
                #d::dot(&self.#m0, &other.#m0) #( + #d::dot(&self.#rest, &other.#rest) )*
            }

            #[inline]
            fn num_scalars(&self) -> usize {
                #d::num_scalars(&self.#m0) #( + #d::num_scalars(&self.#rest) )*
            }

            #[inline]
            fn visit_leaves(&self, f: &mut dyn ::core::ops::FnMut(&[Self::Scalar])) {
                #( #d::visit_leaves(&self.#members, f); )*
            }

            #[inline]
            fn zip_leaves_mut(
                &mut self,
                other: &Self,
                f: &mut (dyn ::core::ops::FnMut(&mut [Self::Scalar], &[Self::Scalar]) + '_),
            ) {
                #( #d::zip_leaves_mut(&mut self.#members, &other.#members, f); )*
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
    })
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
    let fields: Vec<Field> = match &data.fields {
        syn::Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|f| {
                Some(Field {
                    member: syn::Member::Named(f.ident.clone()?),
                    ty: &f.ty,
                })
            })
            .collect(),
        syn::Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| Field {
                member: syn::Member::Unnamed(syn::Index {
                    index: i as u32,
                    span: Span::call_site(),
                }),
                ty: &f.ty,
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
    if fields.is_empty() {
        return Err(syn::Error::new(
            data.fields.span(),
            format!(
                "`#[derive(Differentiable)]` needs at least one field, and `{name}` has none: the \
                 first field's type gives the scalar type; add the parameters as fields"
            ),
        ));
    }
    Ok(fields)
}
