//! Elementwise closures over ndarray arrays: `a.mapv(|v| ..)`, `a.map(|&v| ..)`,
//! `a.mapv(f64::tanh)`, `Zip::from(&a).and(&b).map_collect(|&x, &y| ..)`.
//!
//! The closure's body is a scalar function of its elements, applied to every element. It is
//! lowered as a function of its own (see `lower::elementwise`): its parameters are the elements
//! (one per array), then the variables it captures. In the function that contains it, the map is
//! a *call* of that nested function with the arrays and the captured values as arguments, so
//! activity analysis, reverse mode, forward mode and the save plan treat it as they treat any
//! call; only its derivative rules differ from a call's `g_vjp`/`g_jvp`/`g_vjp_jvp`: they are
//! the runtime's `map_vjp`, `map_jvp` and `map_vjp_jvp`, given a closure that the same passes
//! make from the nested function, for one element:
//!
//! - reverse mode: the value and the gradient of the element function (`_grad` of the nested
//!   function). The runtime keeps the partial derivatives of each element; the pullback is
//!   `x̄ = ȳ ⊙ ∂f/∂x` for each array and `w̄ = Σᵢ ȳᵢ·∂f/∂w(xᵢ)` for each captured scalar.
//! - forward mode: `ẏᵢ = Σ ∂f/∂x·ẋᵢ + Σ ∂f/∂w·ẇ`, the element function's `_jvp`, with the
//!   captured tangents read where the closure is made.
//! - forward over reverse: the element function's value, tangent, gradient and Hessian-vector
//!   product along the direction (`_hvp`): `x̄̇ = ȳ̇ ⊙ ∂f/∂x + ȳ ⊙ (H·v)ₓ`, and the sums over the
//!   elements for the captures.
//!
//! Which parameters of the nested function are differentiated is decided where the call is
//! printed: the arguments that are active there (or have a tangent). So a closure capturing an
//! inactive constant computes no partial derivative for it.

use std::rc::Rc;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ir::*;
use crate::scalars::{FloatTy, Ty, Types};

/// One elementwise map: the nested function and how to write the call as the source has it.
#[derive(Debug)]
pub struct ElemMap {
    /// The callee path of the call that stands for the map (`__ad_map3`).
    pub name: syn::Ident,
    /// The closure as a function of its elements (the first `arrays` parameters), then of the
    /// variables it captures.
    pub body: Func,
    /// How many arrays are mapped together (1 for `mapv`, one per producer for `Zip`).
    pub arrays: usize,
    /// Which of them hold data (`bool`s, integers: a mask, labels), never differentiated.
    pub data: Vec<bool>,
    /// The call as written, for where no argument is differentiated (the values are then the
    /// source's own code); `None` where the closure calls local closures, which the generated
    /// code does not have.
    pub written: Option<Written>,
    /// Where the map is written: `.mapv`, `.map_collect`.
    pub span: Span,
}

/// A map as the source writes it.
#[derive(Debug)]
pub struct Written {
    /// `recv.mapv(#fun)` and the like, or `Zip::from(..).and(..).map_collect(#fun)`.
    pub how: How,
    /// The function argument as written: a closure, or a function's path.
    pub fun: TokenStream,
    /// The names the closure reads, each with the captured argument that holds its value
    /// (counted after the arrays) and the references the source's type has on top of the value
    /// (an item of `x.iter()` is an `&f64`).
    pub captures: Vec<Capture>,
}

/// A name a closure reads, the captured argument that holds its value (counted after the
/// arrays), and the references the source's type has on top of the value.
pub type Capture = (syn::Ident, usize, u8);

/// The method that maps.
#[derive(Debug, Clone)]
pub enum How {
    /// `recv.<method>(f)`: `mapv`, `map` (which passes references).
    Method(syn::Ident),
    /// `<zip>(a).and(b)…map_collect(f)`, `zip` being the path written (`Zip::from`).
    Zip(TokenStream),
}

impl Func {
    /// The elementwise map a call's path stands for, if it is one.
    pub fn elem_map(&self, path: &syn::Path) -> Option<&Rc<ElemMap>> {
        let id = path.get_ident()?;
        self.maps.iter().find(|m| m.name == *id)
    }
}

/// What the nested function is made into.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Its value.
    Plain,
    /// `(y, ẏ)`.
    Jvp,
    /// `(y, gradient)`.
    Grad,
    /// `(y, ẏ, gradient, H·v)`.
    Hvp,
}

/// The nested function with parameter `k` differentiated where `mask[k]`, and its parameters'
/// types as the generated code may name them (`f64` where the source says so, `_` otherwise).
fn prepared(map: &ElemMap, mask: &[bool], tys: &[syn::Type]) -> Func {
    let mut g = map.body.clone();
    for (k, p) in g.params.iter_mut().enumerate() {
        p.active = mask.get(k).copied().unwrap_or(false);
        if let Some(t) = tys.get(k) {
            p.ty = t.clone();
        }
    }
    g
}

/// The errors that need to know which parameters are differentiated (a method without a rule
/// on a differentiated element), with parameter `k` varied where `mask[k]`.
pub fn check(map: &ElemMap, mask: &[bool]) -> Vec<syn::Error> {
    let g = prepared(map, mask, &[]);
    let act = crate::activity::analyze(&g);
    crate::check::check(&g, &act)
}

/// The body of the closure that computes `mode` for one element, after its parameters are
/// bound to their names (`map.body.params`, and the tangent names of [`tangent_name`]).
pub fn code(
    map: &ElemMap,
    mask: &[bool],
    tys: &[syn::Type],
    mode: Mode,
    krate: &TokenStream,
) -> TokenStream {
    use crate::{activity, codegen, forward, joint, plan, reverse, scalars, simplify};
    let g = prepared(map, mask, tys);
    let act = activity::analyze(&g);
    let types = scalars::analyze(&g);
    let pv = quote!(#krate::__private);
    let generate = |g: &Func, tys: &Types, plan: &plan::Plan, active: &[bool]| {
        codegen::generate(g, tys, plan, active, krate)
    };
    match mode {
        Mode::Plain => {
            let c = generate(&g, &types, &plan::Plan::default(), &act.active);
            let (p, f, o) = (&c.prelude, &c.forward, &c.out);
            quote! { #p #f #o }
        }
        Mode::Jvp => {
            let (mut fj, mut tj) = (g, types);
            forward::jvp(&mut fj, &act.active, &mut tj);
            let c = generate(&fj, &tj, &plan::Plan::default(), &act.active);
            let (p, f, o) = (&c.prelude, &c.forward, &c.out);
            quote! { #p #f #o }
        }
        Mode::Grad | Mode::Hvp => {
            let n_primal = g.values.len();
            let (mut g, mut types, mut act) = (g, types, act);
            let pullback = if mode == Mode::Grad {
                joint::Pullback::Inline
            } else {
                joint::Pullback::Returned
            };
            let joint = joint::joint_calls(&g, pullback);
            let rev = reverse::reverse(&mut g, &mut act, &mut types, &joint, false);
            simplify::forward_single_contributions(&mut g);
            simplify::move_carried_adjoints(&mut g);
            let plan = plan::plan(&mut g, &act, &mut types, &rev);
            if mode == Mode::Grad {
                let c = generate(&g, &types, &plan, &act.active);
                let (p, f, o, seed, pb) =
                    (&c.prelude, &c.forward, &c.out, &c.seeds[0], &c.pullback);
                return quote! {
                    #p
                    #f
                    let __ad_out = #o;
                    let #seed = #pv::elem_one(&__ad_out);
                    let __ad_grad = { #pb };
                    (__ad_out, __ad_grad)
                };
            }
            forward::vjp_jvp(&mut g, &act.active, n_primal, &mut types);
            if let Some(prim) = g.insts.iter().find_map(|i| match &i.kind {
                InstKind::RuleJvp { prim, .. } if !crate::rulegen::writes_rule_tangents(*prim) => {
                    Some(prim.name())
                }
                _ => None,
            }) {
                let msg = format!(
                    "second derivatives of `{prim}` in a closure over array elements are not \
                     supported yet"
                );
                return quote! { ::core::panic!(#msg) };
            }
            let c = generate(&g, &types, &plan::Plan::kept_in(&g), &act.active);
            let (p, f, o, pb) = (&c.prelude, &c.forward, &c.out, &c.pullback);
            let (seed, dseed) = (&c.seeds[0], &c.seeds[1]);
            quote! {
                #p
                #f
                let __ad_out = #o;
                let #seed = #pv::elem_one(&__ad_out.0);
                let #dseed = #pv::elem_zero(&__ad_out.0);
                let (__ad_grad, __ad_hv) = { #pb };
                (__ad_out.0, __ad_out.1, __ad_grad, __ad_hv)
            }
        }
    }
}

/// The name the nested function's code gives the tangent of its parameter `k`.
pub fn tangent_name(map: &ElemMap, k: usize) -> syn::Ident {
    let p = map.body.params[k].value;
    crate::codegen::names::tangent_param(&map.body, k, p)
}

/// The float type of the elements of the array `v` of `f`, where the source says it: a
/// parameter or a `let` declared `&Array2<f64>` (any ndarray array type), and what operators,
/// float methods, views and reductions make of such arrays (they keep the element type), or of
/// such an array and a float (`&a * 2.0`).
pub fn elem_float(f: &Func, tys: &Types, v: Value) -> Option<FloatTy> {
    let mut seen = 0;
    elem_float_in(f, tys, v, &mut seen)
}

fn elem_float_in(f: &Func, tys: &Types, v: Value, seen: &mut usize) -> Option<FloatTy> {
    *seen += 1;
    if *seen > 64 {
        return None;
    }
    if let Ty::Float(t) = tys.of(v) {
        return Some(t);
    }
    match f.value(v).def {
        ValueDef::Param(n) => f.params.get(n).and_then(|p| array_elem(&p.ty)),
        ValueDef::Result(i, 0) => match &f.inst(i).kind {
            InstKind::Ref(u) | InstKind::Neg(u) | InstKind::Deref(u) => {
                elem_float_in(f, tys, *u, seen)
            }
            InstKind::Ascribe { value, ty } => {
                array_elem(ty).or_else(|| elem_float_in(f, tys, *value, seen))
            }
            InstKind::Binary(_, a, b) => {
                elem_float_in(f, tys, *a, seen).or_else(|| elem_float_in(f, tys, *b, seen))
            }
            InstKind::Prim { prim, args, .. } if !prim.has(crate::prim::Flags::UNWRAP) => {
                elem_float_in(f, tys, args[0], seen)
            }
            _ => None,
        },
        _ => None,
    }
}

/// `f64` in `Array2<f64>`, `&ArrayView1<'_, f32>`, `Array<f64, Ix2>`.
fn array_elem(ty: &syn::Type) -> Option<FloatTy> {
    match ty {
        syn::Type::Reference(r) => array_elem(&r.elem),
        syn::Type::Paren(p) => array_elem(&p.elem),
        syn::Type::Group(g) => array_elem(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            if !(name.starts_with("Array") || name.starts_with("ArcArray") || name == "CowArray")
                || name == "ArrayBase"
            {
                return None;
            }
            let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
                return None;
            };
            a.args.iter().find_map(|g| match g {
                syn::GenericArgument::Type(t) => match crate::scalars::of_declared(t) {
                    Ty::Float(t) => Some(t),
                    _ => None,
                },
                _ => None,
            })
        }
        _ => None,
    }
}
