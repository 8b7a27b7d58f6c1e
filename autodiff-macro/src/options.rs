//! The arguments of `#[differentiate(..)]`.
//!
//! - `wrt(a, b)`: differentiate with respect to exactly these parameters (`self` for a method's
//!   receiver), in this order of
//!   declaration (the default is every parameter of a differentiable type);
//! - `dump`: print the SSA form and the generated code at compile time;
//! - `hessian`: also generate second order, `_hvp` and `_vjp_jvp` (forward mode over reverse
//!   mode). Opt-in: it doubles what rustc checks, and a function called from such a function
//!   must have second-order rules too (`#[differentiate(hessian)]`, or a hand-written
//!   `g_vjp_jvp`);
//! - `crate = path`: where the generated code finds the `autodiff` crate, for a dependency
//!   renamed in `Cargo.toml` (`ad = { package = "autodiff", .. }` → `crate = ad`) or re-exported
//!   by another crate (`crate = mylib::autodiff`). The default is `::autodiff`.
//! - `checkpoint(snapshots = n)`: reverse every outermost loop that has backward work with `n`
//!   snapshots of its carried values instead of a record per iteration (see
//!   [`crate::checkpoint`]); `#[checkpoint(snapshots = n)]` on a loop does it for that loop.
//! - `kinks = exact`: derivatives at kinks that are exact rather than a fixed convention (see
//!   [`crate::kinks`]): `_grad` and `_vjp` take at every kink the piece the program enters along
//!   a fixed, seeded direction, `_jvp` the one its tangents enter, and a further item
//!   `_vjp_along` lets callers in the same mode pass their direction on. Not yet with `hessian`
//!   or checkpointing.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, Token};

#[derive(Default)]
pub struct Options {
    pub wrt: Option<Vec<Ident>>,
    pub dump: bool,
    pub hessian: bool,
    /// `crate = path`.
    pub krate: Option<syn::Path>,
    /// `checkpoint(snapshots = n)`: `n`, and where the option is written.
    pub checkpoint: Option<(usize, Span)>,
    /// `kinks = exact`: where the option is written.
    pub kinks: Option<Span>,
}

/// The options each spelled as accepted, for messages.
const ACCEPTED: &str = "`#[differentiate]` accepts `wrt(a, b, ..)`, `checkpoint(snapshots = n)`, \
                        `hessian`, `kinks = exact`, `dump` and `crate = path`";

/// The arguments of `checkpoint(..)`, in the function's options and in `#[checkpoint(..)]` on a
/// loop: `snapshots = n`, the number of loop states kept besides the initial one.
pub fn checkpoint_args(input: ParseStream) -> syn::Result<usize> {
    let usage = "`checkpoint` takes the number of snapshots of the loop state to keep: \
                 `checkpoint(snapshots = 32)`";
    let key: Ident = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), usage))?;
    if key != "snapshots" {
        return Err(syn::Error::new(key.span(), usage));
    }
    input
        .parse::<Token![=]>()
        .map_err(|e| syn::Error::new(e.span(), usage))?;
    let lit: syn::LitInt = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`snapshots` takes a whole number: `snapshots = 32`",
        )
    })?;
    let n = lit.base10_parse::<usize>()?;
    if !input.is_empty() {
        return Err(syn::Error::new(input.span(), usage));
    }
    Ok(n)
}

/// `#[checkpoint(snapshots = n)]` on a loop: `n`.
pub fn checkpoint_attr(attr: &syn::Attribute) -> syn::Result<usize> {
    match &attr.meta {
        syn::Meta::List(_) => attr.parse_args_with(checkpoint_args),
        _ => Err(syn::Error::new_spanned(
            attr,
            "`#[checkpoint]` takes the number of snapshots of the loop state to keep: \
             `#[checkpoint(snapshots = 32)]`",
        )),
    }
}

impl Options {
    /// The path of the `autodiff` crate in the generated code.
    pub fn krate(&self) -> proc_macro2::TokenStream {
        match &self.krate {
            Some(p) => quote::quote!(#p),
            None => quote::quote!(::autodiff),
        }
    }
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut opts = Options::default();
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                let kw: Token![crate] = input.parse()?;
                if opts.krate.is_some() {
                    return Err(syn::Error::new(kw.span, "`crate` given twice"));
                }
                if !input.peek(Token![=]) {
                    return Err(syn::Error::new(
                        kw.span,
                        "`crate` takes the path of the `autodiff` crate: `crate = ad`",
                    ));
                }
                input.parse::<Token![=]>()?;
                if input.peek(syn::LitStr) {
                    let lit: syn::LitStr = input.parse()?;
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("write the path without quotes: `crate = {}`", lit.value()),
                    ));
                }
                let path = input.call(syn::Path::parse_mod_style).map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`crate` takes the path of the `autodiff` crate: `crate = ad`",
                    )
                })?;
                opts.krate = Some(path);
                if !input.is_empty() {
                    input.parse::<Token![,]>().map_err(|e| {
                        syn::Error::new(e.span(), "separate `#[differentiate]` options with commas")
                    })?;
                }
                continue;
            }
            let key: Ident = input
                .parse()
                .map_err(|e| syn::Error::new(e.span(), ACCEPTED))?;
            match key.to_string().as_str() {
                "wrt" => {
                    if opts.wrt.is_some() {
                        return Err(syn::Error::new(key.span(), "`wrt` given twice"));
                    }
                    if !input.peek(syn::token::Paren) {
                        return Err(syn::Error::new(
                            key.span(),
                            "`wrt` takes the parameters to differentiate, in parentheses: \
                             `wrt(x, y)`",
                        ));
                    }
                    let content;
                    syn::parenthesized!(content in input);
                    // `parse_any`: `self` names the receiver of a method.
                    let names = content
                        .parse_terminated(syn::ext::IdentExt::parse_any, Token![,])
                        .map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                "`wrt(..)` lists parameter names separated by commas: `wrt(x, y)`",
                            )
                        })?;
                    if names.is_empty() {
                        return Err(syn::Error::new(
                            key.span(),
                            "`wrt()` is empty: name at least one parameter, as in `wrt(x)`",
                        ));
                    }
                    opts.wrt = Some(names.into_iter().collect());
                }
                "hessian" => {
                    if !input.is_empty() && !input.peek(Token![,]) {
                        return Err(syn::Error::new(
                            key.span(),
                            "`hessian` takes no value: write `#[differentiate(hessian)]`",
                        ));
                    }
                    opts.hessian = true;
                }
                "checkpoint" => {
                    if opts.checkpoint.is_some() {
                        return Err(syn::Error::new(key.span(), "`checkpoint` given twice"));
                    }
                    if !input.peek(syn::token::Paren) {
                        return Err(syn::Error::new(
                            key.span(),
                            "`checkpoint` takes the number of snapshots of the loop state to \
                             keep: `checkpoint(snapshots = 32)`",
                        ));
                    }
                    let content;
                    syn::parenthesized!(content in input);
                    opts.checkpoint = Some((checkpoint_args(&content)?, key.span()));
                }
                "kinks" => {
                    let usage = "`kinks` takes `exact`: `kinks = exact` (exact derivatives at \
                                 kinks, along a fixed direction)";
                    if opts.kinks.is_some() {
                        return Err(syn::Error::new(key.span(), "`kinks` given twice"));
                    }
                    input
                        .parse::<Token![=]>()
                        .map_err(|_| syn::Error::new(key.span(), usage))?;
                    let value: Ident = input
                        .parse()
                        .map_err(|e| syn::Error::new(e.span(), usage))?;
                    if value != "exact" {
                        return Err(syn::Error::new(
                            value.span(),
                            format!("unknown value `{value}` of `kinks`: {usage}"),
                        ));
                    }
                    opts.kinks = Some(key.span());
                }
                "dump" => {
                    if !input.is_empty() && !input.peek(Token![,]) {
                        return Err(syn::Error::new(
                            key.span(),
                            "`dump` takes no value: write `#[differentiate(dump)]`",
                        ));
                    }
                    opts.dump = true;
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown option `{other}`: {ACCEPTED}"),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>().map_err(|e| {
                    syn::Error::new(e.span(), "separate `#[differentiate]` options with commas")
                })?;
            }
        }
        Ok(opts)
    }
}
