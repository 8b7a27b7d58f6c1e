//! Every name the generated code introduces, made here so that they agree with each other and
//! never clash with the user's: values keep their source variable's name with the value's number
//! (`x_3`), temporaries and machinery are `__ad_`-prefixed.

use proc_macro2::Span;
use quote::format_ident;

use crate::ir::*;

pub fn value(f: &Func, v: Value) -> syn::Ident {
    f.value_ident(v)
}

pub fn var(f: &Func, w: Var) -> syn::Ident {
    syn::Ident::new(&f.vars[w.index()].name, Span::call_site())
}

pub fn stack(s: Stack) -> syn::Ident {
    format_ident!("__ad_stack{}", s.0)
}

/// The enum of the records of `if`/`match` instruction `i`.
pub fn record_enum(i: Inst) -> syn::Ident {
    format_ident!("__AdRec{}", i.0)
}

pub fn variant(k: usize) -> syn::Ident {
    format_ident!("A{}", k)
}

/// The state variable of loop `i`'s carried value `k`.
pub fn loop_state(i: Inst, k: usize) -> syn::Ident {
    format_ident!("__ad_st{}_{}", i.0, k)
}

/// The current state of checkpointed loop `i`'s backward sweep.
pub fn sweep_state(i: Inst) -> syn::Ident {
    format_ident!("__ad_cur{}", i.0)
}

/// What a checkpointer's actions carry: `from`, `to`, `at`, `state`.
pub fn sweep_action() -> (syn::Ident, syn::Ident, syn::Ident, syn::Ident) {
    (
        format_ident!("__ad_from"),
        format_ident!("__ad_to"),
        format_ident!("__ad_at"),
        format_ident!("__ad_state"),
    )
}

pub fn range() -> syn::Ident {
    format_ident!("__ad_range")
}

/// The gradient of a call before it is spread over the arguments.
pub fn call_grads(i: Inst, span: Span) -> syn::Ident {
    syn::Ident::new(&format!("__ad_g{}", i.0), span)
}

/// The name of the tangent parameter of `_jvp` for parameter `p` (the `n`th active one):
/// `dx` for `x`, `__ad_dx` if the function already has a parameter called `dx`.
pub fn tangent_param(f: &Func, _n: usize, p: Value) -> syn::Ident {
    let src = f
        .params
        .iter()
        .find(|q| q.value == p)
        .map(|q| q.ident.to_string())
        .unwrap_or_default();
    tangent_name(&src, |name| f.params.iter().any(|q| q.ident == name))
}

/// `d` before a parameter's name, `__ad_d..` where that is another parameter's name (`taken`)
/// or a keyword (`do` for a parameter `o`, `dyn` for `yn`).
pub fn tangent_name(param: &str, taken: impl Fn(&str) -> bool) -> syn::Ident {
    let name = format!("d{}", param.trim_start_matches("r#"));
    if taken(&name) || matches!(name.as_str(), "do" | "dyn") {
        syn::Ident::new(&format!("__ad_{name}"), Span::call_site())
    } else {
        syn::Ident::new(&name, Span::call_site())
    }
}
