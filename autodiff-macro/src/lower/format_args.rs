//! Names captured by a format string (`println!("{prev:?} {total}")`, `assert!(ok, "x={x}")`)
//! made arguments of the macro, before anything else reads the body.
//!
//! A macro runs as written, on copies of the variables it names; the passes that rewrite a
//! variable (a local `Option` of a float as a flag and a value, a `mut` tuple as one variable
//! per field, a `&mut` parameter followed as a local copy) find its mentions among the macro's
//! tokens. A name inside the format string is no token of its own: the `Option` and the tuple
//! were rewritten away under it, and rustc said "cannot find value `prev`" in the generated
//! code, and the copy of a `&mut seed` was not the `seed` the string printed (the generated
//! functions printed the value the caller passed in where the function printed the one it had
//! advanced). Each such name becomes a positional argument the string names by its index,
//!
//! ```text
//! println!("{prev:?} {}, {w:>width$}", t)    println!("{1:?} {}, {2:>3$}", t, prev, w, width)
//! ```
//!
//! which prints the same, and whose names every pass sees. The original function keeps the
//! string as written.

use proc_macro2::{TokenStream, TokenTree};
use syn::visit_mut::VisitMut;

/// Makes the names the format strings of `block`'s macros capture arguments of their own.
pub(super) fn explicit_format_args(block: &mut syn::Block) {
    Explicit.visit_block_mut(block);
}

struct Explicit;

impl VisitMut for Explicit {
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        if let Some(tokens) = rewritten(m) {
            m.tokens = tokens;
        }
    }

    // An item inside the body (a helper `fn`) is expanded on its own.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// The position of the format string among the arguments of `std`'s formatting macros.
fn format_position(name: &str) -> Option<usize> {
    Some(match name {
        "print" | "println" | "eprint" | "eprintln" | "format" | "format_args" | "panic"
        | "unreachable" | "todo" | "unimplemented" => 0,
        "write" | "writeln" | "assert" | "debug_assert" => 1,
        "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => 2,
        _ => return None,
    })
}

/// The arguments of one of `std`'s formatting macros (`println!`, `assert!`, `write!`, ..),
/// each an expression (the format string a literal), after [`explicit_format_args`] has made
/// the names its format captures arguments of their own. `None` for another macro, or one
/// whose arguments do not parse so.
pub(super) fn std_macro_args(
    m: &syn::Macro,
) -> Option<syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>> {
    format_position(&m.path.segments.last()?.ident.to_string())?;
    m.parse_body_with(syn::punctuated::Punctuated::parse_terminated)
        .ok()
}

/// The macro's tokens with the captured names made positional arguments, or `None` where it
/// captures none (or is no formatting macro of `std`, or its format is not a string literal).
fn rewritten(m: &syn::Macro) -> Option<TokenStream> {
    let name = m.path.segments.last()?.ident.to_string();
    let at = format_position(&name)?;
    let mut args = split_args(m.tokens.clone());
    let lit: syn::LitStr = syn::parse2(args.get(at)?.clone()).ok()?;
    // The arguments after the format: positional ones first, then `name = value`.
    let named: Vec<String> = args[at + 1..].iter().filter_map(named_arg).collect();
    let positional = args[at + 1..]
        .iter()
        .take_while(|a| named_arg(a).is_none())
        .count();
    let mut captured: Vec<String> = Vec::new();
    let format = with_indices(&lit.value(), &named, positional, &mut captured)?;
    if captured.is_empty() {
        return None;
    }
    args[at] = quote::ToTokens::to_token_stream(&syn::LitStr::new(&format, lit.span()));
    let span = lit.span();
    let extra = captured.iter().map(|c| {
        let id = syn::Ident::new(c, span);
        quote::quote_spanned!(span=> #id)
    });
    let insert_at = at + 1 + positional;
    let tail = args.split_off(insert_at.min(args.len()));
    args.extend(extra);
    args.extend(tail);
    let mut out = TokenStream::new();
    for (k, a) in args.into_iter().enumerate() {
        if k > 0 {
            out.extend(quote::quote!(,));
        }
        out.extend(a);
    }
    Some(out)
}

/// The macro's arguments, split at its top-level commas (a trailing comma dropped): as
/// expressions, so that a comma inside a turbofish (`f::<A, B>()`) or a closure's generic
/// arguments does not split one; at every comma where they do not parse as expressions.
fn split_args(tokens: TokenStream) -> Vec<TokenStream> {
    use syn::parse::Parser;
    let exprs = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
    if let Ok(args) = exprs.parse2(tokens.clone()) {
        return args
            .into_iter()
            .map(|e| quote::ToTokens::to_token_stream(&e))
            .collect();
    }
    let mut out = Vec::new();
    let mut piece = TokenStream::new();
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(std::mem::take(&mut piece)),
            _ => piece.extend(std::iter::once(tt)),
        }
    }
    if !piece.is_empty() {
        out.push(piece);
    }
    out
}

/// `name` of an argument `name = value` (not `a == b`).
fn named_arg(a: &TokenStream) -> Option<String> {
    let mut it = a.clone().into_iter();
    let (Some(TokenTree::Ident(id)), Some(TokenTree::Punct(eq))) = (it.next(), it.next()) else {
        return None;
    };
    let single = eq.as_char() == '=' && eq.spacing() == proc_macro2::Spacing::Alone;
    single.then(|| id.to_string())
}

/// Whether `s` is a name a format string may capture (not an index, not empty).
fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f == '_' || f.is_alphabetic())
        && c.all(|ch| ch == '_' || ch.is_alphanumeric())
        && s != "_"
}

/// The index `captured` gives `name` (appended where new), counted after the `positional`
/// arguments written in the call.
fn index_of(name: &str, positional: usize, captured: &mut Vec<String>) -> usize {
    let k = match captured.iter().position(|c| c == name) {
        Some(k) => k,
        None => {
            captured.push(name.to_string());
            captured.len() - 1
        }
    };
    positional + k
}

/// `format` with each captured name (one that is not an explicit `named` argument) replaced by
/// its index: the argument of `{name..}`, and a width or a precision `name$`. `None` where the
/// string is not a format this reads (an unclosed `{`).
fn with_indices(
    format: &str,
    named: &[String],
    positional: usize,
    captured: &mut Vec<String>,
) -> Option<String> {
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(k) = rest.find(['{', '}']) {
        out.push_str(&rest[..k]);
        let c = rest.as_bytes()[k];
        rest = &rest[k..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            out.push_str(&rest[..2]);
            rest = &rest[2..];
            continue;
        }
        if c == b'}' {
            out.push('}');
            rest = &rest[1..];
            continue;
        }
        let end = rest.find('}')?;
        let inner = &rest[1..end];
        rest = &rest[end + 1..];
        let (arg, spec) = match inner.split_once(':') {
            Some((a, s)) => (a, Some(s)),
            None => (inner, None),
        };
        let mut capture = |n: &str| -> String {
            if is_name(n) && !named.iter().any(|m| m == n) {
                index_of(n, positional, captured).to_string()
            } else {
                n.to_string()
            }
        };
        out.push('{');
        out.push_str(&capture(arg.trim()));
        if let Some(spec) = spec {
            out.push(':');
            out.push_str(&spec_with_indices(spec, &mut capture));
        }
        out.push('}');
    }
    out.push_str(rest);
    Some(out)
}

/// A format spec with the names of its width and precision (`name$`) replaced by `capture`.
fn spec_with_indices(spec: &str, capture: &mut dyn FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(spec.len());
    let mut word = String::new();
    for ch in spec.chars() {
        if ch == '_' || ch.is_alphanumeric() {
            word.push(ch);
            continue;
        }
        if ch == '$' && is_name(&word) {
            out.push_str(&capture(&word));
        } else {
            out.push_str(&word);
        }
        word.clear();
        out.push(ch);
    }
    out.push_str(&word);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(m: TokenStream) -> String {
        let m: syn::Macro = syn::parse2(m).unwrap();
        rewritten(&m).map_or("unchanged".into(), |t| t.to_string())
    }

    #[test]
    fn a_turbofish_of_two_types_is_one_argument() {
        assert_eq!(
            of(quote::quote!(println!("{} {x}", f::<A, B>(y)))),
            quote::quote!("{} {1}", f::<A, B>(y), x).to_string()
        );
    }

    #[test]
    fn captured_names_become_positional_arguments() {
        assert_eq!(
            of(quote::quote!(println!("{prev:?} {} {total}", t))),
            quote::quote!("{1:?} {} {2}", t, prev, total).to_string()
        );
        // After the condition, before the named arguments; a name used twice is one argument.
        assert_eq!(
            of(quote::quote!(assert!(ok, "{x} {w:>width$.p$} {x}", p = 3))),
            quote::quote!(ok, "{0} {1:>2$.p$} {0}", x, w, width, p = 3).to_string()
        );
        // Escaped braces, indices and empty braces are left alone.
        assert_eq!(of(quote::quote!(format!("{{x}} {0} {}", a))), "unchanged");
        // Not a formatting macro of `std`.
        assert_eq!(of(quote::quote!(my_log!("{x}"))), "unchanged");
    }
}
