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

    // Where-clause: the user's, the first field's type, the later field types that mention a
    // generic parameter (see the module doc for why not the others), and `Self: Clone`.
    let mut generics = input.generics.clone();
    {
        let (_, ty_generics, _) = input.generics.split_for_impl();
        let wc = generics.make_where_clause();
        wc.predicates
            .push(syn::parse2(quote_spanned!(first.span()=> #first: #d))?);
        let first_generic = mentions_generics(first, &input.generics);
        let mut seen = vec![quote!(#first).to_string()];
        for f in &fields[1..] {
            let ty = f.ty;
            let key = quote!(#ty).to_string();
            if seen.contains(&key) || !(first_generic || mentions_generics(ty, &input.generics)) {
                continue;
            }
            seen.push(key);
            let span = ty.span();
            // The first field's type, re-spanned here so that a mismatch points at this field.
            let scalar = respan(scalar.clone(), span);
            wc.predicates.push(syn::parse2(
                quote_spanned!(span=> #ty: ::autodiff::Differentiable<Scalar = #scalar>),
            )?);
        }
        // `Clone` is a supertrait. Requiring it here turns a missing `#[derive(Clone)]` into one
        // error at the struct's name, where rustc suggests the derive, instead of one per item.
        wc.predicates.push(syn::parse2(quote_spanned!(name.span()=>
            #name #ty_generics: ::core::clone::Clone
        ))?);
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    // One call per field and method: the first field through `Differentiable`, the others
    // through `__AdField<Self::Scalar>`, every token spanned at the field's type.
    let call = |method: &str, args: &dyn Fn(&syn::Member) -> TokenStream| -> Vec<TokenStream> {
        let method = syn::Ident::new(method, Span::call_site());
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let path = if i == 0 {
                    quote!(::autodiff::Differentiable)
                } else {
                    let ty = f.ty;
                    quote!(<#ty as __AdField<Self::Scalar>>)
                };
                let args = args(&f.member);
                respan(quote!(#path::#method(#args)), f.ty.span())
            })
            .collect()
    };
    let zero_like = call("zero_like", &|m| quote!(&self.#m));
    let add_assign = call("add_assign", &|m| quote!(&mut self.#m, &other.#m));
    let scale = call("scale", &|m| quote!(&mut self.#m, s));
    let dot = call("dot", &|m| quote!(&self.#m, &other.#m));
    let num_scalars = call("num_scalars", &|m| quote!(&self.#m));
    let visit_leaves = call("visit_leaves", &|m| quote!(&self.#m, f));
    let zip_leaves_mut = call("zip_leaves_mut", &|m| quote!(&mut self.#m, &other.#m, f));
    let members = fields.iter().map(|f| &f.member);

    let on_unimplemented = "`{Self}` is not a `Differentiable` field with scalar type `{S}`";
    Ok(quote! {
        const _: () = {
            /// The methods of `Differentiable` for a later field, whose scalar type must be the
            /// first field's: one obligation per field, so a wrong field is one error.
            #[diagnostic::on_unimplemented(
                message = #on_unimplemented,
                label = "not `Differentiable`, or another scalar type than the first field's",
                note = "`#[derive(Differentiable)]` needs every field to be `Differentiable` \
                        (`f64`, `Vec<f64>`, `Array2<f64>`, a derived struct, ..) with the scalar \
                        type of the first field; keep other data out of the parameter struct"
            )]
            trait __AdField<S>: ::core::marker::Sized {
                fn zero_like(&self) -> Self;
                fn add_assign(&mut self, other: &Self);
                fn scale(&mut self, s: S);
                fn dot(&self, other: &Self) -> S;
                fn num_scalars(&self) -> usize;
                fn visit_leaves(&self, f: &mut dyn ::core::ops::FnMut(&[S]));
                fn zip_leaves_mut(
                    &mut self,
                    other: &Self,
                    f: &mut (dyn ::core::ops::FnMut(&mut [S], &[S]) + '_),
                );
            }

            impl<T: #d> __AdField<<T as #d>::Scalar> for T {
                #[inline(always)]
                fn zero_like(&self) -> Self {
                    #d::zero_like(self)
                }
                #[inline(always)]
                fn add_assign(&mut self, other: &Self) {
                    #d::add_assign(self, other)
                }
                #[inline(always)]
                fn scale(&mut self, s: T::Scalar) {
                    #d::scale(self, s)
                }
                #[inline(always)]
                fn dot(&self, other: &Self) -> T::Scalar {
                    #d::dot(self, other)
                }
                #[inline(always)]
                fn num_scalars(&self) -> usize {
                    #d::num_scalars(self)
                }
                #[inline(always)]
                fn visit_leaves(&self, f: &mut dyn ::core::ops::FnMut(&[T::Scalar])) {
                    #d::visit_leaves(self, f)
                }
                #[inline(always)]
                fn zip_leaves_mut(
                    &mut self,
                    other: &Self,
                    f: &mut (dyn ::core::ops::FnMut(&mut [T::Scalar], &[T::Scalar]) + '_),
                ) {
                    #d::zip_leaves_mut(self, other, f)
                }
            }

            #[automatically_derived]
            impl #impl_generics #d for #name #ty_generics #where_clause {
                type Scalar = #scalar;

                #[inline]
                fn zero_like(&self) -> Self {
                    Self { #( #members: #zero_like, )* }
                }

                #[inline]
                fn add_assign(&mut self, other: &Self) {
                    #( #add_assign; )*
                }

                #[inline]
                fn scale(&mut self, s: Self::Scalar) {
                    #( #scale; )*
                }

                #[inline]
                fn dot(&self, other: &Self) -> Self::Scalar {
                    #( #dot )+*
                }

                #[inline]
                fn num_scalars(&self) -> usize {
                    #( #num_scalars )+*
                }

                #[inline]
                fn visit_leaves(&self, f: &mut dyn ::core::ops::FnMut(&[Self::Scalar])) {
                    #( #visit_leaves; )*
                }

                #[inline]
                fn zip_leaves_mut(
                    &mut self,
                    other: &Self,
                    f: &mut (dyn ::core::ops::FnMut(&mut [Self::Scalar], &[Self::Scalar]) + '_),
                ) {
                    #( #zip_leaves_mut; )*
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
    fn walk(tokens: TokenStream, names: &[String]) -> bool {
        tokens.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(i) => names.iter().any(|n| i == n),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), names),
            _ => false,
        })
    }
    !names.is_empty() && walk(quote!(#ty), &names)
}
