//! The span of an expression, found from its first and last tokens without printing it.
//!
//! syn's `Spanned::span` prints the whole expression to tokens (across the compiler bridge) to
//! take the first and last token's spans. The lowering asks for the span of every expression it
//! visits, so for a sum of `n` terms, a left-deep chain of `+`, it printed `n` expressions of up
//! to `n` terms: quadratic, two minutes of expansion for a polynomial of 3,000 terms.
//! [`expr_span`] walks down to the first and last tokens instead; an expression it does not
//! take apart (rare in a chain) is printed as before.

use proc_macro2::Span;
use syn::Expr;
use syn::spanned::Spanned;

/// The span `e.span()` gives (the first token's span joined to the last's where the compiler
/// can join them, the first token's where it cannot), without printing `e` where its first and
/// last tokens are found by [`first`] and [`last`].
pub(crate) fn expr_span(e: &Expr) -> Span {
    match (first(e), last(e)) {
        (Some(a), Some(b)) => joined(a, b),
        _ => e.span(),
    }
}

/// The first token's span joined to the last's where the compiler can join them, as syn's
/// `span()` gives it.
fn joined(first: Span, last: Span) -> Span {
    first.join(last).unwrap_or(first)
}

/// [`expr_span`] of a binary expression.
pub(crate) fn binary_span(e: &syn::ExprBinary) -> Span {
    match (first(&e.left), last(&e.right)) {
        (Some(a), Some(b)) if e.attrs.is_empty() => joined(a, b),
        _ => e.span(),
    }
}

/// [`expr_span`] of a method call.
pub(crate) fn method_span(e: &syn::ExprMethodCall) -> Span {
    match first(&e.receiver) {
        Some(a) if e.attrs.is_empty() => joined(a, e.paren_token.span.close()),
        _ => e.span(),
    }
}

/// The span of `e`'s first token, for the expressions a long chain is made of.
fn first(e: &Expr) -> Option<Span> {
    match e {
        Expr::Binary(x) if x.attrs.is_empty() => first(&x.left),
        Expr::MethodCall(x) if x.attrs.is_empty() => first(&x.receiver),
        Expr::Call(x) if x.attrs.is_empty() => first(&x.func),
        Expr::Field(x) if x.attrs.is_empty() => first(&x.base),
        Expr::Index(x) if x.attrs.is_empty() => first(&x.expr),
        Expr::Cast(x) if x.attrs.is_empty() => first(&x.expr),
        Expr::Unary(x) if x.attrs.is_empty() => Some(x.op.span()),
        Expr::Paren(x) if x.attrs.is_empty() => Some(x.paren_token.span.open()),
        Expr::Lit(x) if x.attrs.is_empty() => Some(x.lit.span()),
        Expr::Path(x) if x.attrs.is_empty() && x.qself.is_none() => {
            Some(match &x.path.leading_colon {
                Some(c) => c.spans[0],
                None => x.path.segments.first()?.ident.span(),
            })
        }
        _ => None,
    }
}

/// The span of `e`'s last token, for the expressions a long chain is made of.
fn last(e: &Expr) -> Option<Span> {
    match e {
        Expr::Binary(x) if x.attrs.is_empty() => last(&x.right),
        Expr::Unary(x) if x.attrs.is_empty() => last(&x.expr),
        Expr::MethodCall(x) if x.attrs.is_empty() => Some(x.paren_token.span.close()),
        Expr::Call(x) if x.attrs.is_empty() => Some(x.paren_token.span.close()),
        Expr::Index(x) if x.attrs.is_empty() => Some(x.bracket_token.span.close()),
        Expr::Paren(x) if x.attrs.is_empty() => Some(x.paren_token.span.close()),
        Expr::Field(x) if x.attrs.is_empty() => Some(x.member.span()),
        Expr::Lit(x) if x.attrs.is_empty() => Some(x.lit.span()),
        // A path's last token: its last segment's name, or the `>` of its generic arguments.
        Expr::Path(x) if x.attrs.is_empty() => {
            let seg = x.path.segments.last()?;
            Some(match &seg.arguments {
                syn::PathArguments::None => seg.ident.span(),
                syn::PathArguments::AngleBracketed(a) => a.gt_token.span,
                syn::PathArguments::Parenthesized(_) => return None,
            })
        }
        _ => None,
    }
}
