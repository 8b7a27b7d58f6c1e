//! The bodies of the array impls: `elementwise` (every element through the scalar rule, for the
//! float methods) and `broadcast` (the forms over operands broadcast to the result's shape, for
//! the operators).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};

use super::deriv::Sym;
use super::form::{Ex, idents};
use super::{Entry, Family, Param, Request, Role};

impl Request {
    /// Operand `k`'s reverse rule `rule` (or its tangent), reading `read`: every element
    /// through the scalar rule of the same name. `(body, parameters read)`.
    pub(super) fn elementwise_rule(
        &self,
        e: &Entry,
        k: usize,
        params: &[Param],
        read: &[String],
        rule: &Ident,
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        let sum_of_elements = self.family == Family::FloatArg && k > 0;
        self.elementwise_call(e, params, read, rule, "g", |call| call, sum_of_elements)
    }

    pub(super) fn elementwise_jvp(
        &self,
        e: &Entry,
        params: &[Param],
        sums: &[Option<Ex>],
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        let mut read = Vec::new();
        for s in sums.iter().flatten() {
            read.extend(idents(&s.ts));
        }
        let rule = e.jvp_name();
        let receiver_tangent = e.tangent(0).to_string();
        if sums.len() == 1 {
            return self.elementwise_call(e, params, &read, &rule, &receiver_tangent, |c| c, false);
        }
        // A tuple result: one array per component.
        let mut parts = Vec::new();
        let mut used = Vec::new();
        for i in 0..sums.len() {
            let i = syn::Index::from(i);
            let (part, u) = self.elementwise_call(
                e,
                params,
                &read,
                &rule,
                &receiver_tangent,
                |call| quote!(#call.#i),
                false,
            )?;
            parts.push(part);
            used = u;
        }
        Ok((quote!((#(#parts),*)), used))
    }

    /// `map_elems(rule, [arrays], |[elements]| T::rule(..))` (or `sum_elems`): the arrays are
    /// the parameters of the array's type the scalar rule reads, and `witness`, whose element
    /// stands in for those it does not read.
    #[allow(clippy::too_many_arguments)]
    fn elementwise_call(
        &self,
        e: &Entry,
        params: &[Param],
        read: &[String],
        rule: &Ident,
        witness: &str,
        project: impl Fn(TokenStream) -> TokenStream,
        sum_of_elements: bool,
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        let elem = self.elem.as_ref().map(|t| t.to_token_stream());
        let tuple = e.id.outputs() > 1;
        let mut arrays = Vec::new();
        let mut names = Vec::new();
        let mut args = Vec::new();
        let mut used = Vec::new();
        for p in params {
            let name = &p.name;
            let s = name.to_string();
            let is_array = match p.role {
                Role::Operand(j) | Role::Tangent(j) => {
                    e.id.fixed_type(j).is_none() && (j == 0 || self.family == Family::Float)
                }
                Role::Result | Role::Cotangent | Role::ResultTangent | Role::CotangentTangent => {
                    true
                }
                Role::Shape(_) => false,
            };
            if !is_array {
                // An `i32` exponent, or a scalar argument shared by every element.
                args.push(quote!(#name));
                used.push(s);
                continue;
            }
            let of_result = matches!(
                p.role,
                Role::Result | Role::Cotangent | Role::ResultTangent | Role::CotangentTangent
            );
            if tuple && of_result {
                let parts: Vec<Ident> = (0..e.id.outputs())
                    .map(|i| format_ident!("{}_{}", name, i))
                    .collect();
                for (i, part) in parts.iter().enumerate() {
                    let i = syn::Index::from(i);
                    arrays.push(quote!(&#name.#i));
                    names.push(part.clone());
                }
                args.push(quote!(&(#(#parts),*)));
                used.push(s);
            } else if read.contains(&s) || s == witness {
                arrays.push(quote!(#name));
                names.push(name.clone());
                args.push(quote!(&#name));
                used.push(s);
            } else {
                let w = format_ident!("{}", witness);
                args.push(quote!(&#w));
            }
        }
        let call = project(quote!(<#elem as FloatRules>::#rule(#(#args),*)));
        let label = rule.to_string();
        let body = if sum_of_elements {
            quote!(sum_elems(#label, [#(#arrays),*], |[#(#names),*]| #call))
        } else if arrays.len() <= 5 {
            // `Zip` maps up to five arrays, and its loops vectorize.
            let (first, rest) = (&arrays[0], &arrays[1..]);
            quote!({
                check_operands(#label, &[#(#arrays),*]);
                Zip::from(#first)#(.and(#rest))*.map_collect(|#(&#names),*| #call)
            })
        } else {
            quote!(map_elems(#label, [#(#arrays),*], |[#(#names),*]| #call))
        };
        Ok((body, used))
    }

    /// The form elementwise over the operands broadcast to the cotangent's shape, reduced to
    /// operand `k`'s shape.
    pub(super) fn broadcast_vjp(
        &self,
        e: &Entry,
        k: usize,
        params: &[Param],
        form: &syn::Expr,
        expr: Option<Ex>,
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        let Some(expr) = expr else {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("`{}`: a zero form of an operator", e.def.name),
            ));
        };
        let signed = match form.to_token_stream().to_string().as_str() {
            "g" => Some(false),
            "- g" => Some(true),
            _ => None,
        };
        self.reduced(e, k, params, "g", &expr.ts, signed, &["g"])
    }

    /// The tangent of operand `k`'s reverse rule elementwise over the operands broadcast to the
    /// cotangent's shape, reduced to operand `k`'s shape as the reverse rule's result is.
    pub(super) fn broadcast_vjp_jvp(
        &self,
        e: &Entry,
        k: usize,
        params: &[Param],
        derived: &Sym,
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        if *derived == Sym::Zero {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "`{}`: an operator whose reverse rule is constant",
                    e.def.name
                ),
            ));
        }
        let dg = Sym::Name("dg".into());
        let signed = if *derived == dg {
            Some(false)
        } else if *derived == Sym::Neg(Box::new(dg)) {
            Some(true)
        } else {
            None
        };
        self.reduced(e, k, params, "dg", &derived.tokens(), signed, &["g", "dg"])
    }

    /// `value`, an expression of the elements of the operands, the result and `cot` (a
    /// cotangent, or its tangent: the result's shape), elementwise over the operands broadcast
    /// to `cot`'s shape and reduced to operand `k`'s shape. `signed` says where `value` is `cot`
    /// itself (`Some(false)`) or its negation (`Some(true)`): a signed cotangent commutes with
    /// the reduction, so `cot` itself is reduced, without a temporary.
    #[allow(clippy::too_many_arguments)]
    fn reduced(
        &self,
        e: &Entry,
        k: usize,
        params: &[Param],
        cot: &str,
        value: &TokenStream,
        signed: Option<bool>,
        result_shaped: &[&str],
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        let binary = e.n() > 1;
        let op = e.op(k);
        // Where the cotangent's shape comes from.
        let target = params.iter().find_map(|p| match p.role {
            Role::Shape(j) if j == k => Some(quote!(#op)),
            Role::Operand(j) if j == k => Some(quote!(&ShapeOf::of(#op))),
            _ => None,
        });
        let target = match (binary, target) {
            (false, _) => None,
            (true, Some(t)) => Some(t),
            (true, None) => {
                return Err(syn::Error::new(
                    Span::call_site(),
                    format!(
                        "`{}`: the reverse rule of a broadcasting operand reads its shape",
                        e.def.name
                    ),
                ));
            }
        };
        let c = format_ident!("{cot}");
        let mut used: Vec<String> = vec![cot.into()];
        if let Some(t) = &target {
            used.extend(idents(t));
        }
        if let (Some(t), Some(negated)) = (&target, signed) {
            let sign = if negated { quote!(-) } else { quote!() };
            return Ok((quote!(#sign reduce(#c, #t)), used));
        }
        // `cot` first: it gives the shape.
        let mut names: Vec<Ident> = vec![c.clone()];
        for s in idents(value) {
            if s != cot {
                names.push(format_ident!("{}", s));
                used.push(s);
            }
        }
        let map = zip_map(&names, binary, quote!(#c.raw_dim()), result_shaped, value)?;
        Ok(match target {
            Some(t) => (quote!(reduce_owned(#map, #t)), used),
            None => (map, used),
        })
    }

    pub(super) fn broadcast_jvp(
        &self,
        e: &Entry,
        _params: &[Param],
        sums: &[Option<Ex>],
    ) -> syn::Result<(TokenStream, Vec<String>)> {
        let Some(Some(s)) = sums.first() else {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("`{}`: an operator with a zero derivative", e.def.name),
            ));
        };
        let binary = e.n() > 1;
        // `y` gives the result's shape where operands broadcast.
        let mut used = if binary {
            vec!["y".to_string()]
        } else {
            Vec::new()
        };
        let names: Vec<Ident> = idents(&s.ts)
            .into_iter()
            .map(|n| format_ident!("{}", n))
            .collect();
        used.extend(names.iter().map(|n| n.to_string()));
        Ok((
            zip_map(&names, binary, quote!(y.raw_dim()), &[], &s.ts)?,
            used,
        ))
    }
}

/// `value` (an expression of the elements `names`) at every position of the arrays `names`,
/// broadcast to `shape` when the primitive has more than one operand (but for the names in
/// `result_shaped`, which have that shape already): one `Zip` for up to five arrays (its
/// `map_collect` takes no more), `map_broadcast` over their views for more.
pub(super) fn zip_map(
    names: &[Ident],
    broadcast: bool,
    shape: TokenStream,
    result_shaped: &[&str],
    value: &TokenStream,
) -> syn::Result<TokenStream> {
    if names.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "an operator's rule reads no array",
        ));
    }
    // `Zip` takes arrays or views; `map_broadcast` takes views.
    let zipped = names.len() <= 5;
    let views: Vec<TokenStream> = names
        .iter()
        .map(|n| {
            if broadcast && !result_shaped.iter().any(|r| n == r) {
                quote!(Side::spread(#n, &__shape))
            } else if zipped {
                quote!(#n)
            } else {
                quote!(#n.view())
            }
        })
        .collect();
    let map = if zipped {
        let (first, rest) = (&views[0], &views[1..]);
        quote!(Zip::from(#first)#(.and(#rest))*.map_collect(|#(&#names),*| #value))
    } else {
        quote!(map_broadcast([#(#views),*], |[#(#names),*]| #value))
    };
    Ok(if broadcast {
        quote!({ let __shape = #shape; #map })
    } else {
        map
    })
}
