//! The runtime's derivative rules, written from the primitive table.
//!
//! A primitive's derivative is stated once, as the forms of its table entry. `#[differentiate]`
//! writes the forms out inline on plain floats; this module writes the same forms as the
//! runtime's rule traits — their declarations and their impls for `f32`, `f64` and ndarray
//! arrays — so that no rule exists in a second, hand-written copy that could drift.
//!
//! `autodiff-runtime` invokes the hidden macro `__rules!` inside each trait and impl block; the
//! block's header (its type, bounds and docs) stays in the runtime, the expansion is the list of
//! items. `__rules!(MODE TRAIT[<TYPE>] [over ELEM])`:
//!
//! - `declare FloatRules`, `declare FloatArgRules<A>`, `declare ArithRules`, `declare NegRule`:
//!   the trait's items, each documented with the entry's math and form: per differentiable
//!   operand `k` the reverse rule `<name>_vjp[_k]`, the forward rule `<name>_jvp`, and per
//!   reverse rule its tangent `<name>_vjp[_k]_jvp` (for second derivatives): the reverse rule's
//!   arguments, `g`, the tangents `d<arg>` of the arguments it takes as values (not of shapes,
//!   witnesses or integer operands), and `dg`; its value is the derivative of the rule along
//!   them, the form differentiated by the chain rule (`deriv`).
//! - `forms FloatRules`, `forms FloatArgRules<Self>`, `forms ArithRules`, `forms NegRule`, in
//!   the impls for `f32` and `f64`: the forms written out. The reverse rule of operand `k` is
//!   form `k` with `g` the cotangent; the forward rule is the sum, over the differentiable
//!   operands, of their forms with `g` replaced by their tangents (with the tangent in place of
//!   one component of a tuple cotangent and zero for the others, one sum per component). A
//!   reverse rule's tangent is its derived expression, with the calls it makes twice bound once.
//! - `elementwise FloatRules over T`, `elementwise FloatArgRules<T> over T`, in the impls for
//!   `Array<T, D>`: every element through the scalar rule of `T`; an argument of type `T` (the
//!   scalar exponent of ndarray's `a.powf(p)`) is shared by every element and its cotangent is
//!   the sum over the elements. The expansion names the trait `FloatRules` and `Zip` (for up to
//!   five arrays), and calls `check_operands`, `map_elems` (for more) and `sum_elems`, which the
//!   runtime defines beside it.
//! - `broadcast ArithRules<RHS>`, `broadcast NegRule`, in the impls for arrays (and scalars
//!   beside arrays): the forms elementwise over the operands broadcast to the result's shape,
//!   each cotangent reduced to its operand's shape (and so each reverse rule's tangent). The
//!   expansion names `Zip` (for up to five arrays), `map_broadcast` (for more), `Side`,
//!   `reduce`, `reduce_owned` and `ShapeOf`, which must be in scope. A form that is the cotangent itself,
//!   or its negation, is reduced before it is negated, without a temporary.
//!
//! Forms call the runtime's helpers as `d::name(..)`, so `d` must be in scope where forms are
//! written out.

mod arrays;
mod deriv;
mod form;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote};
use syn::parse::{Parse, ParseStream};

use crate::prim::{self, Arg, PrimDef, PrimId, Syntax};
use deriv::{Sym, shared_calls};
use form::{Cot, Ex, idents, strip_parens, subst, sum};

/// Whether the runtime has the tangents of `p`'s reverse rules (`<rule>_jvp`), which this module
/// writes for the float methods and the operators: second derivatives on arrays call them where
/// a rule is not multilinear.
pub fn writes_rule_tangents(p: PrimId) -> bool {
    let d = p.def();
    matches!(d.rule, "FloatRules" | "FloatArgRules")
        || matches!(d.syntax, Syntax::Binary | Syntax::Neg)
}

/// Expands one `__rules!` invocation.
pub fn expand(input: TokenStream) -> TokenStream {
    prim::new_expansion();
    syn::parse2::<Request>(input)
        .and_then(|r| r.generate())
        .unwrap_or_else(|e| e.to_compile_error())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Declare,
    Forms,
    Elementwise,
    Broadcast,
}

/// The rule traits the table's entries are written into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `FloatRules`: every float method, all its float inputs of the receiver's type.
    Float,
    /// `FloatArgRules<A>`: the float methods whose arguments may have another type than the
    /// receiver (ndarray's `a.powf(p)` with a scalar `p`).
    FloatArg,
    /// `ArithRules<Rhs>`: the binary operators.
    Arith,
    /// `NegRule`: unary minus.
    Neg,
}

struct Request {
    mode: Mode,
    family: Family,
    /// The trait's type argument: `A` of `FloatArgRules<A>`, `Rhs` of `ArithRules<Rhs>`.
    arg: Option<syn::Type>,
    /// The element type, for `elementwise`.
    elem: Option<syn::Type>,
}

impl Parse for Request {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let m: Ident = input.parse()?;
        let mode = match m.to_string().as_str() {
            "declare" => Mode::Declare,
            "forms" => Mode::Forms,
            "elementwise" => Mode::Elementwise,
            "broadcast" => Mode::Broadcast,
            _ => {
                return Err(syn::Error::new(
                    m.span(),
                    "expected `declare`, `forms`, `elementwise` or `broadcast`",
                ));
            }
        };
        let t: Ident = input.parse()?;
        let family = match t.to_string().as_str() {
            "FloatRules" => Family::Float,
            "FloatArgRules" => Family::FloatArg,
            "ArithRules" => Family::Arith,
            "NegRule" => Family::Neg,
            _ => {
                return Err(syn::Error::new(
                    t.span(),
                    "expected `FloatRules`, `FloatArgRules`, `ArithRules` or `NegRule`",
                ));
            }
        };
        let arg = if input.peek(syn::Token![<]) {
            input.parse::<syn::Token![<]>()?;
            let ty: syn::Type = input.parse()?;
            input.parse::<syn::Token![>]>()?;
            Some(ty)
        } else {
            None
        };
        let elem = if input.is_empty() {
            None
        } else {
            let over: Ident = input.parse()?;
            if over != "over" {
                return Err(syn::Error::new(over.span(), "expected `over ELEMENT_TYPE`"));
            }
            Some(input.parse()?)
        };
        let needs_arg = match (mode, family) {
            (Mode::Declare, Family::Arith) => false,
            (_, Family::FloatArg) => true,
            (Mode::Broadcast, Family::Arith) => true,
            _ => false,
        };
        if needs_arg != arg.is_some() {
            return Err(input.error(if needs_arg {
                "this trait takes its type argument here: `FloatArgRules<A>`, `ArithRules<Rhs>`"
            } else {
                "unexpected type argument"
            }));
        }
        let supported = matches!(
            (mode, family),
            (Mode::Declare | Mode::Forms, _)
                | (Mode::Elementwise, Family::Float | Family::FloatArg)
                | (Mode::Broadcast, Family::Arith | Family::Neg)
        );
        if !supported {
            return Err(input
                .error("`elementwise` is for the float methods, `broadcast` for the operators"));
        }
        if (mode == Mode::Elementwise) != elem.is_some() {
            return Err(input.error("`elementwise` names the element type: `over T`"));
        }
        Ok(Request {
            mode,
            family,
            arg,
            elem,
        })
    }
}

/// One table entry, as the rules of one trait see it.
struct Entry {
    id: PrimId,
    def: &'static PrimDef,
}

impl Entry {
    fn n(&self) -> usize {
        self.def.operands.len()
    }

    fn op(&self, j: usize) -> Ident {
        format_ident!("{}", self.def.operands[j])
    }

    fn tangent(&self, j: usize) -> Ident {
        format_ident!("d{}", self.def.operands[j])
    }

    /// The operands with a derivative, in order.
    fn diff(&self) -> Vec<usize> {
        (0..self.n())
            .filter(|&k| self.id.differentiable(k))
            .collect()
    }

    fn form(&self, k: usize) -> syn::Result<syn::Expr> {
        self.id.form(k).ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                format!("`{}`: operand {k} has no form", self.def.name),
            )
        })
    }

    fn vjp_name(&self, k: usize) -> Ident {
        format_ident!("{}", self.id.rule_name(k))
    }

    fn jvp_name(&self) -> Ident {
        format_ident!("{}_jvp", self.def.name)
    }

    /// The tangent of the reverse rule of operand `k`: `<rule>_jvp`.
    fn vjp_jvp_name(&self, k: usize) -> Ident {
        format_ident!("{}_jvp", self.id.rule_name(k))
    }

    /// How the primitive is written: `x.log(b)`, `a + b`, `-x`.
    fn call_text(&self) -> String {
        let ops = self.def.operands;
        match self.def.syntax {
            Syntax::Binary => format!("{} {} {}", ops[0], symbol(self.def.name), ops[1]),
            Syntax::Neg => format!("-{}", ops[0]),
            Syntax::Method { .. } => {
                format!("{}.{}({})", ops[0], self.def.name, ops[1..].join(", "))
            }
        }
    }
}

/// The operator of an arithmetic primitive.
fn symbol(name: &str) -> &'static str {
    match name {
        "add" => "+",
        "sub" => "-",
        "mul" => "*",
        _ => "/",
    }
}

/// The names with a tangent, and their tangents.
type Tangents = Vec<(String, Sym)>;

/// A parameter of a generated rule: its name and type.
struct Param {
    name: Ident,
    ty: TokenStream,
    /// Where the value comes from, for `elementwise` and `broadcast` bodies.
    role: Role,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Operand `j`'s value.
    Operand(usize),
    /// Only operand `j`'s shape (a `ShapeOf`).
    Shape(usize),
    /// The primal result `y`.
    Result,
    /// The cotangent `g` of `y`.
    Cotangent,
    /// The tangent of operand `j`.
    Tangent(usize),
    /// The tangent of the primal result `y`.
    ResultTangent,
    /// The tangent of the cotangent `g`.
    CotangentTangent,
}

impl Request {
    fn entries(&self) -> Vec<Entry> {
        prim::all_ids()
            .map(|id| Entry { id, def: id.def() })
            .filter(|e| match self.family {
                Family::Float => matches!(e.def.rule, "FloatRules" | "FloatArgRules"),
                Family::FloatArg => e.def.rule == "FloatArgRules",
                Family::Arith => e.def.syntax == Syntax::Binary,
                Family::Neg => e.def.syntax == Syntax::Neg,
            })
            .collect()
    }

    fn generate(&self) -> syn::Result<TokenStream> {
        let mut out = TokenStream::new();
        for e in self.entries() {
            out.extend(self.entry(&e)?);
        }
        Ok(out)
    }

    /// The type of operand `j` in the signatures.
    fn operand_ty(&self, e: &Entry, j: usize) -> TokenStream {
        if let Some(t) = e.id.fixed_type(j) {
            return t.parse().unwrap_or_else(|_| quote!(Self));
        }
        if j == 0 {
            return quote!(Self);
        }
        match (self.family, self.mode, &self.arg) {
            (Family::FloatArg, _, Some(a)) => a.to_token_stream(),
            (Family::Arith, Mode::Declare, _) => quote!(Rhs),
            (Family::Arith, Mode::Broadcast, Some(a)) => a.to_token_stream(),
            _ => quote!(Self),
        }
    }

    /// The type of the result `y` and of its cotangent.
    fn output_ty(&self, e: &Entry) -> TokenStream {
        if self.family == Family::Arith {
            return quote!(Self::Output);
        }
        match e.id.outputs() {
            1 => quote!(Self),
            n => {
                let parts = (0..n).map(|_| quote!(Self));
                quote!((#(#parts),*))
            }
        }
    }

    /// The parameters of the reverse rule of operand `k`, before the cotangent.
    fn vjp_params(&self, e: &Entry, k: usize) -> syn::Result<Vec<Param>> {
        let mut ps = Vec::new();
        if matches!(self.family, Family::Float | Family::FloatArg) {
            // The float methods keep the full signature: every operand, then the result.
            for j in 0..e.n() {
                ps.push(Param {
                    name: e.op(j),
                    ty: self.operand_ty(e, j),
                    role: Role::Operand(j),
                });
            }
            ps.push(self.result_param(e));
        } else {
            for a in e.id.reads(k) {
                ps.push(match a {
                    Arg::Value(j) if j == e.n() => self.result_param(e),
                    Arg::Value(j) => Param {
                        name: e.op(j),
                        ty: self.operand_ty(e, j),
                        role: Role::Operand(j),
                    },
                    Arg::Shape(j) => {
                        let t = self.operand_ty(e, j);
                        Param {
                            name: e.op(j),
                            ty: quote!(ShapeOf<#t>),
                            role: Role::Shape(j),
                        }
                    }
                    Arg::Witness => {
                        return Err(syn::Error::new(
                            Span::call_site(),
                            format!("`{}`: an operator's rule reads no witness", e.def.name),
                        ));
                    }
                });
            }
        }
        ps.push(Param {
            name: format_ident!("g"),
            ty: self.output_ty(e),
            role: Role::Cotangent,
        });
        Ok(ps)
    }

    fn result_param(&self, e: &Entry) -> Param {
        Param {
            name: format_ident!("y"),
            ty: self.output_ty(e),
            role: Role::Result,
        }
    }

    /// The parameters of the forward rule: every operand, the result, the tangents.
    fn jvp_params(&self, e: &Entry) -> Vec<Param> {
        let mut ps: Vec<Param> = (0..e.n())
            .map(|j| Param {
                name: e.op(j),
                ty: self.operand_ty(e, j),
                role: Role::Operand(j),
            })
            .collect();
        ps.push(self.result_param(e));
        for k in e.diff() {
            ps.push(Param {
                name: e.tangent(k),
                ty: self.operand_ty(e, k),
                role: Role::Tangent(k),
            });
        }
        ps
    }

    fn entry(&self, e: &Entry) -> syn::Result<TokenStream> {
        let mut out = TokenStream::new();
        if matches!(self.family, Family::Arith | Family::Neg) {
            out.extend(self.primal(e));
        }
        for k in e.diff() {
            out.extend(self.vjp(e, k)?);
        }
        out.extend(self.jvp(e)?);
        for k in e.diff() {
            out.extend(self.vjp_jvp(e, k)?);
        }
        Ok(out)
    }

    /// The operator itself (`ArithRules::add`, `NegRule::neg`): the forward pass evaluates
    /// active arithmetic through it.
    fn primal(&self, e: &Entry) -> TokenStream {
        let name = format_ident!("{}", e.def.name);
        let doc = format!("`{}`.", e.call_text());
        let inline = inline(self.mode);
        let x = e.op(0);
        if e.def.syntax == Syntax::Neg {
            let body = match self.mode {
                Mode::Declare => quote!(;),
                Mode::Broadcast => quote!({ Zip::from(#x).map_collect(|&#x| -#x) }),
                _ => quote!({ -*#x }),
            };
            return quote! {
                #[doc = #doc]
                #inline
                fn #name(#x: &Self) -> Self #body
            };
        }
        let b = e.op(1);
        let tb = self.operand_ty(e, 1);
        let op: TokenStream = symbol(e.def.name).parse().unwrap_or_default();
        let body = match self.mode {
            Mode::Declare => quote!(;),
            Mode::Broadcast => quote!({ Side::arg(#x) #op Side::arg(#b) }),
            _ => quote!({ *#x #op *#b }),
        };
        quote! {
            #[doc = #doc]
            #inline
            fn #name(#x: &Self, #b: &#tb) -> Self::Output #body
        }
    }

    fn vjp(&self, e: &Entry, k: usize) -> syn::Result<TokenStream> {
        let name = e.vjp_name(k);
        let params = self.vjp_params(e, k)?;
        let ret = self.operand_ty(e, k);
        let form = e.form(k)?;
        let expr = subst(strip_parens(&form), &Cot::Keep)?;
        let (body, used) = match self.mode {
            Mode::Declare => {
                let doc = self.vjp_doc(e, k, &expr);
                return Ok(quote! {
                    #[doc = #doc]
                    fn #name(#(#params),*) -> #ret;
                });
            }
            Mode::Forms => forms_body(&params, expr.map(|x| x.ts)),
            Mode::Elementwise => {
                let read = expr.map(|x| idents(&x.ts)).unwrap_or_default();
                self.elementwise_rule(e, k, &params, &read, &name)?
            }
            Mode::Broadcast => self.broadcast_vjp(e, k, &params, &form, expr)?,
        };
        let params = named(&params, &used);
        let inline = inline(self.mode);
        Ok(quote! {
            #inline
            fn #name(#(#params),*) -> #ret { #body }
        })
    }

    fn jvp(&self, e: &Entry) -> syn::Result<TokenStream> {
        let name = e.jvp_name();
        let params = self.jvp_params(e);
        let ret = self.output_ty(e);
        // One sum per component of the result.
        let outputs = e.id.outputs();
        let mut sums = Vec::new();
        for i in 0..outputs {
            let mut terms = Vec::new();
            for k in e.diff() {
                let t = e.tangent(k);
                let cot = if outputs == 1 {
                    Cot::Whole(&t)
                } else {
                    Cot::Part(i, &t)
                };
                // A method whose derivative is exactly 0 where its argument is infinite (`exp`
                // at −∞) gives 0 there also along an infinite tangent: `f'(x)·dx` tested for
                // `0·∞`, as the inline forms do where the macro sees the floats (see
                // `forms::saturated`). The runtime's rule is what a `_jvp` calls where it does
                // not: the elements of a local array (a soft-min's candidates `[a, b, c]`, one
                // of them a table's `f64::INFINITY` boundary divided by a temperature that the
                // direction moves), a generic `T`.
                let form = match prim::forms::saturated(e.id) {
                    Some(f) if outputs == 1 && e.n() == 1 => f,
                    _ => e.form(k)?,
                };
                if let Some(x) = subst(strip_parens(&form), &cot)? {
                    terms.push(x);
                }
            }
            sums.push(sum(terms));
        }
        let (body, used) = match self.mode {
            Mode::Declare => {
                let doc = self.jvp_doc(e);
                return Ok(quote! {
                    #[doc = #doc]
                    fn #name(#(#params),*) -> #ret;
                });
            }
            Mode::Forms => {
                let parts: Vec<TokenStream> = sums
                    .into_iter()
                    .map(|s| s.map(|x| x.ts).unwrap_or_else(|| quote!(0.0)))
                    .collect();
                let value = if outputs == 1 {
                    parts[0].clone()
                } else {
                    quote!((#(#parts),*))
                };
                forms_body(&params, Some(value))
            }
            Mode::Elementwise => self.elementwise_jvp(e, &params, &sums)?,
            Mode::Broadcast => self.broadcast_jvp(e, &params, &sums)?,
        };
        let params = named(&params, &used);
        let inline = inline(self.mode);
        Ok(quote! {
            #inline
            fn #name(#(#params),*) -> #ret { #body }
        })
    }

    /// The parameters of the tangent of the reverse rule of operand `k`: the reverse rule's
    /// (its arguments, then `g`), then the tangents `d<name>` of the arguments it reads as values
    /// (not of shapes, witnesses or integer operands), in their order, then `dg`. Also the
    /// tangent of each name that has one, for the derivative.
    fn vjp_jvp_params(&self, e: &Entry, k: usize) -> syn::Result<(Vec<Param>, Tangents)> {
        let mut ps = self.vjp_params(e, k)?;
        let g = ps.pop().filter(|p| p.role == Role::Cotangent);
        let reads = e.id.reads(k);
        let (Some(g), true) = (g, ps.len() == reads.len()) else {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "`{}`: the reverse rule's arguments are not what it reads",
                    e.def.name
                ),
            ));
        };
        let mut tangents = Vec::new();
        for (p, a) in ps.iter().zip(&reads) {
            let Arg::Value(j) = *a else { continue };
            let role = if j == e.n() {
                Role::ResultTangent
            } else if e.id.fixed_type(j).is_some() {
                continue;
            } else {
                Role::Tangent(j)
            };
            tangents.push(Param {
                name: format_ident!("d{}", p.name),
                ty: p.ty.clone(),
                role,
            });
        }
        tangents.push(Param {
            name: format_ident!("dg"),
            ty: g.ty.clone(),
            role: Role::CotangentTangent,
        });
        let names: Tangents = ps
            .iter()
            .chain([&g])
            .filter(|p| {
                let d = format!("d{}", p.name);
                tangents.iter().any(|t| t.name == d)
            })
            .map(|p| (p.name.to_string(), Sym::Name(format!("d{}", p.name))))
            .collect();
        ps.push(g);
        ps.extend(tangents);
        Ok((ps, names))
    }

    /// The tangent of the reverse rule of operand `k`: its form differentiated along the
    /// tangents of what it reads and of `g`.
    fn vjp_jvp(&self, e: &Entry, k: usize) -> syn::Result<TokenStream> {
        let name = e.vjp_jvp_name(k);
        let (params, names) = self.vjp_jvp_params(e, k)?;
        let ret = self.operand_ty(e, k);
        let tangent = |n: &str| names.iter().find(|(m, _)| m == n).map(|(_, t)| t.clone());
        let derived = Sym::parse(&e.form(k)?)?.diff(&tangent)?;
        // Every value the rule reads, its tangent, the cotangent and its tangent.
        let many = (params.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
        let (body, used) = match self.mode {
            Mode::Declare => {
                let doc = self.vjp_jvp_doc(e, k, &params, &derived);
                return Ok(quote! {
                    #[doc = #doc]
                    #many
                    fn #name(#(#params),*) -> #ret;
                });
            }
            Mode::Forms => {
                let value = (derived != Sym::Zero).then(|| {
                    let (bindings, body) = shared_calls(&derived);
                    let lets = bindings.iter().map(|(n, s)| {
                        let (n, s) = (format_ident!("{n}"), s.tokens());
                        quote!(let #n = #s;)
                    });
                    let body = body.tokens();
                    quote!(#(#lets)* #body)
                });
                forms_body(&params, value)
            }
            Mode::Elementwise => {
                self.elementwise_rule(e, k, &params, &idents(&derived.tokens()), &name)?
            }
            Mode::Broadcast => self.broadcast_vjp_jvp(e, k, &params, &derived)?,
        };
        let params = named(&params, &used);
        let inline = inline(self.mode);
        Ok(quote! {
            #inline
            #many
            fn #name(#(#params),*) -> #ret { #body }
        })
    }

    fn vjp_jvp_doc(&self, e: &Entry, k: usize, params: &[Param], derived: &Sym) -> String {
        let op = e.def.operands[k];
        let tangents: Vec<String> = params
            .iter()
            .filter(|p| matches!(p.role, Role::Tangent(_) | Role::ResultTangent))
            .map(|p| format!("`{}`", p.name))
            .collect();
        let along = match tangents.len() {
            0 => "the tangent `dg` of `g`".to_string(),
            _ => format!(
                "the tangents {} of its value arguments and `dg` of `g`",
                tangents.join(", ")
            ),
        };
        let mut doc = format!(
            "Tangent of `{}`, the reverse rule of `{}` for `{op}`: the derivative of the \
             cotangent of `{op}` it returns along {along}, computed as `{}`.",
            e.vjp_name(k),
            e.call_text(),
            derived.text()
        );
        doc += &self.result_notes(e, k);
        if matches!(self.family, Family::Float | Family::FloatArg) {
            doc += " An argument the reverse rule does not read (where the caller may pass the \
                    cotangent) has no tangent, nor has an integer one.";
        }
        doc + " Derived from the reverse rule's form `"
            + e.def.forms[k]
            + "` by the chain \
               rule, with `y` an argument of its own (its tangent `dy` is the caller's); a \
               factor that is constant between kinks or jumps (the shares of `max`, `min` and \
               `clamp`, the signs of `abs` and `copysign`) has derivative zero.\n\n"
            + e.def.math
    }

    /// What the docs of operand `k`'s reverse rule and of its tangent say of their result's
    /// shape.
    fn result_notes(&self, e: &Entry, k: usize) -> String {
        let op = e.def.operands[k];
        match self.family {
            Family::Arith => format!(" Reduced to the shape of `{op}` where `{op}` was broadcast."),
            Family::FloatArg if k > 0 => format!(
                " Where `{}` is an array and `{op}` one scalar, the sum over the elements.",
                e.def.operands[0]
            ),
            _ => String::new(),
        }
    }

    fn vjp_doc(&self, e: &Entry, k: usize, expr: &Option<Ex>) -> String {
        let op = e.def.operands[k];
        let form = e.def.forms[k];
        let mut doc = format!(
            "Reverse rule of `{}` for `{op}`: the cotangent of `{op}` from the cotangent `g` \
             of the result `y`, computed as `{form}`.",
            e.call_text()
        );
        doc += &self.result_notes(e, k);
        if matches!(self.family, Family::Float | Family::FloatArg) {
            let named = expr.as_ref().map(|x| idents(&x.ts)).unwrap_or_default();
            let read: Vec<String> = e
                .def
                .operands
                .iter()
                .chain(&["y", "g"])
                .filter(|n| named.iter().any(|m| m == *n))
                .map(|r| format!("`{r}`"))
                .collect();
            doc += &format!(
                " Reads {}; an argument it does not read may be any value of its type.",
                if read.is_empty() {
                    "nothing".to_string()
                } else {
                    read.join(", ")
                }
            );
        }
        doc + "\n\n" + e.def.math
    }

    fn jvp_doc(&self, e: &Entry) -> String {
        let tangents: Vec<String> = e
            .diff()
            .into_iter()
            .map(|k| format!("`{}`", e.tangent(k)))
            .collect();
        let mut doc = format!(
            "Forward rule of `{}`: the tangent of the result `y` for the tangents {} of the \
             inputs, the sum of the reverse rules' forms with `g` replaced by each input's \
             tangent",
            e.call_text(),
            tangents.join(", ")
        );
        if e.id.outputs() > 1 {
            doc += " in place of one component of `g` (zero for the others), one sum per component";
        }
        doc + ".\n\n" + e.def.math
    }
}

/// `let (a, b) = (*a, *b); value`: the parameters the value reads, copied out of their
/// references.
fn forms_body(params: &[Param], value: Option<TokenStream>) -> (TokenStream, Vec<String>) {
    let value = value.unwrap_or_else(|| quote!(0.0));
    let read = idents(&value);
    let copied: Vec<&Ident> = params
        .iter()
        .map(|p| &p.name)
        .filter(|n| read.contains(&n.to_string()))
        .collect();
    let body = match copied.len() {
        0 => value,
        1 => {
            let n = copied[0];
            quote!(let #n = *#n; #value)
        }
        _ => quote!(let (#(#copied),*) = (#(*#copied),*); #value),
    };
    (body, read)
}

/// The parameters as written in an impl: `_`-prefixed where the body does not read them.
fn named(params: &[Param], used: &[String]) -> Vec<TokenStream> {
    params
        .iter()
        .map(|p| {
            let ty = &p.ty;
            let name = if used.contains(&p.name.to_string()) {
                p.name.clone()
            } else {
                format_ident!("_{}", p.name)
            };
            quote!(#name: &#ty)
        })
        .collect()
}

fn inline(mode: Mode) -> TokenStream {
    match mode {
        Mode::Declare => quote!(),
        // Forms write constants as literals, exact for `f64` and rounded once for `f32`.
        Mode::Forms => quote! {
            #[inline(always)]
            #[allow(clippy::approx_constant, clippy::excessive_precision)]
        },
        _ => quote!(#[inline]),
    }
}

impl ToTokens for Param {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let (name, ty) = (&self.name, &self.ty);
        tokens.extend(quote!(#name: &#ty));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(request: &str) -> String {
        let ts: TokenStream = request.parse().expect("a request parses as tokens");
        expand(ts).to_string()
    }

    #[test]
    fn every_entry_is_written_in_every_mode() {
        for request in [
            "declare FloatRules",
            "declare FloatArgRules<A>",
            "declare ArithRules",
            "declare NegRule",
            "forms FloatRules",
            "forms FloatArgRules<Self>",
            "forms ArithRules",
            "forms NegRule",
            "elementwise FloatRules over T",
            "elementwise FloatArgRules<T> over T",
            "broadcast ArithRules<Array<f64, D2>>",
            "broadcast NegRule",
        ] {
            let out = expand_str(request);
            assert!(!out.contains("compile_error"), "{request}: {out}");
            assert!(out.contains("fn"), "{request}: nothing written");
        }
    }

    #[test]
    fn one_rule_per_differentiable_operand_and_one_forward_rule() {
        let out = expand_str("declare FloatRules");
        for name in [
            "fn exp_vjp",
            "fn exp_jvp",
            "fn powi_vjp",
            "fn clamp_vjp_2",
            "fn sin_cos_jvp",
        ] {
            assert!(out.contains(name), "{name} missing");
        }
        // `powi`'s `i32` exponent has no derivative: no `_vjp_1`, no tangent.
        assert!(!out.contains("powi_vjp_1"));
        assert!(out.contains("fn powi_jvp (x : & Self , n : & i32 , y : & Self , dx : & Self)"));
    }

    #[test]
    fn forward_rules_are_the_summed_forms() {
        let out = expand_str("forms FloatRules");
        assert!(out.contains("dx * a + da * x + db"), "mul_add: {out}");
        // A tuple result: one sum per component, the other component's terms gone.
        assert!(
            out.contains("(dx * x . cos () , - (dx * x . sin ()))"),
            "sin_cos: {out}"
        );
        // Quotients by one denominator share one division: d(a/b) = (da − y·db)/b, with
        // `y·db` exactly 0 where `db` is (an infinite quotient along a fixed divisor).
        let out_ops = expand_str("forms ArithRules");
        assert!(
            out_ops.contains("(da + - d :: times_along (db , y)) / b"),
            "div: {out_ops}"
        );
        // Unread arguments are named `_x` so that the impls compile warning-free.
        assert!(out.contains("fn exp_vjp (_x : & Self , y : & Self , g : & Self)"));
    }

    #[test]
    fn reverse_rules_have_tangents_along_what_they_read() {
        let out = expand_str("declare FloatRules");
        // `exp_vjp` reads `y` (and `g`): the tangents are `dy` and `dg`.
        assert!(out.contains(
            "fn exp_vjp_jvp (x : & Self , y : & Self , g : & Self , dy : & Self , dg : & Self)"
        ));
        // No tangent of an integer operand.
        assert!(out.contains(
            "fn powi_vjp_jvp (x : & Self , n : & i32 , y : & Self , g : & Self , dx : & Self , \
             dy : & Self , dg : & Self)"
        ));
        // No tangent of a shape.
        let ops = expand_str("declare ArithRules");
        assert!(
            ops.contains(
                "fn div_vjp_1_jvp (a : & ShapeOf < Self > , b : & Rhs , y : & Self :: Output , \
                 g : & Self :: Output , db : & Rhs , dy : & Self :: Output , dg : & Self :: \
                 Output) -> Rhs"
            ),
            "{ops}"
        );
        // The scalar bodies are the derived expressions.
        let forms = expand_str("forms ArithRules");
        assert!(forms.contains("(dg - g / b * db) / b"), "{forms}");
        let forms = expand_str("forms FloatRules");
        assert!(forms.contains("dg * y + g * dy"), "{forms}");
    }

    #[test]
    fn every_rule_tangent_is_checked_against_finite_differences() {
        // The runtime's tests of the tangents list every rule by name.
        let tests = [
            include_str!("../../autodiff-runtime/src/rules/tangents/float.rs"),
            include_str!("../../autodiff-runtime/src/rules/tangents/arith.rs"),
        ]
        .concat();
        let mut n = 0;
        for request in [
            "declare FloatRules",
            "declare ArithRules",
            "declare NegRule",
        ] {
            let out = expand_str(request);
            for item in out.split("fn ").skip(1) {
                let name = item.split_whitespace().next().unwrap_or_default();
                if name.contains("_vjp") && name.ends_with("_jvp") {
                    n += 1;
                    assert!(tests.contains(name), "`{name}` has no test of its own");
                }
            }
        }
        assert!(n > 60, "{n} tangents");
    }

    #[test]
    fn malformed_requests_are_errors() {
        for request in [
            "declare Nothing",
            "forms",
            "elementwise FloatRules",
            "broadcast FloatRules",
            "declare FloatArgRules",
        ] {
            assert!(expand_str(request).contains("compile_error"), "{request}");
        }
    }
}
