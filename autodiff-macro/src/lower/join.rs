//! Arrays joined along an axis: `ndarray::concatenate(axis, &[a.view(), b.view()]).unwrap()`
//! and `ndarray::stack(..)` (also `.expect(..)`, and the macros `concatenate![axis, a, b]` and
//! `stack![axis, a, b]`) become a call of the runtime's function of the same name for that
//! number of pieces, `autodiff::__private::join2::concatenate(axis, a.view(), b.view())`,
//! which is differentiated like any call (see the runtime's `rules::tensor::join`): the
//! gradient of each piece is its part of the result's, and reaches the array the piece views.

use super::*;

/// `concatenate` or `stack`.
#[derive(Clone, Copy)]
enum Join {
    Concatenate,
    Stack,
}

impl Join {
    fn named(name: &syn::Ident) -> Option<Join> {
        if name == "concatenate" {
            Some(Join::Concatenate)
        } else if name == "stack" {
            Some(Join::Stack)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Join::Concatenate => "concatenate",
            Join::Stack => "stack",
        }
    }
}

/// The join of `concatenate(axis, &[pieces..]).unwrap()` (`ndarray::stack`, by any path ending
/// in the name, or the name alone; `.expect(..)`), with its axis and pieces as written. `None`
/// for anything else, also where the pieces are not a slice literal (`&views`), which is then
/// the call as written.
fn join_call(mc: &syn::ExprMethodCall) -> Option<(Join, Expr, Vec<Expr>)> {
    let (c, fp) = calls::unwrapped_call(mc)?;
    let last = fp.path.segments.last()?;
    let join = Join::named(&last.ident)?;
    let by_ndarray = match fp.path.segments.len() {
        1 => true,
        n => fp.path.segments[n - 2].ident == "ndarray",
    };
    if fp.qself.is_some() || !by_ndarray || c.args.len() != 2 {
        return None;
    }
    let Expr::Reference(r) = chain::strip(&c.args[1]) else {
        return None;
    };
    let Expr::Array(pieces) = chain::strip(&r.expr) else {
        return None;
    };
    Some((
        join,
        c.args[0].clone(),
        pieces.elems.iter().cloned().collect(),
    ))
}

/// The join of `concatenate![axis, a, b]` (`stack!`, `ndarray::concatenate!`), with its axis and
/// the pieces as views (`a.view()`, as the macro's `ArrayView::from(&a)`). `None` for another
/// macro.
fn join_macro(m: &syn::Macro) -> Option<(Join, Expr, Vec<Expr>)> {
    use syn::parse::Parser;
    let join = Join::named(&m.path.segments.last()?.ident)?;
    let list = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
    let mut args = list.parse2(m.tokens.clone()).ok()?.into_iter();
    let axis = args.next()?;
    // `*a` of a reference `a` as `a.view()`: the method sees through the reference, where
    // `(*a)` alone would be a copy.
    let pieces = args
        .map(|a| match a {
            Expr::Unary(syn::ExprUnary {
                op: syn::UnOp::Deref(_),
                expr,
                ..
            }) => syn::parse_quote_spanned!(expr.span()=> #expr.view()),
            a => syn::parse_quote_spanned!(a.span()=> (#a).view()),
        })
        .collect();
    Some((join, axis, pieces))
}

impl Lowering {
    /// `ndarray::concatenate(..).unwrap()` and `stack`, as the runtime's join of that many
    /// pieces: `None` for any other method call.
    pub(super) fn join_method(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
    ) -> Option<Option<Value>> {
        let (join, axis, pieces) = join_call(mc)?;
        self.join(b, join, &axis, &pieces, super::span::method_span(mc))
    }

    /// `concatenate![axis, a, b]` and `stack!`: `None` for any other macro.
    pub(super) fn join_macro(
        &mut self,
        b: Block,
        m: &syn::Macro,
        span: Span,
    ) -> Option<Option<Value>> {
        let (join, axis, pieces) = join_macro(m)?;
        self.join(b, join, &axis, &pieces, span)
    }

    /// The join as the runtime's call, where it has 1 to [`MAX_PIECES`] pieces; `None` (the
    /// call as written, an error where a differentiated value reaches it) otherwise.
    fn join(
        &mut self,
        b: Block,
        join: Join,
        axis: &Expr,
        pieces: &[Expr],
        span: Span,
    ) -> Option<Option<Value>> {
        let n = pieces.len();
        if n == 0 || n > MAX_PIECES {
            return None;
        }
        let krate = &self.krate;
        let module = quote::format_ident!("join{n}");
        let func = syn::Ident::new(join.name(), span);
        let call: Expr = syn::parse_quote_spanned! {span=>
            #krate::__private::#module::#func(#axis, #(#pieces),*)
        };
        Some(self.expr(b, &call, true))
    }
}

/// The most pieces one join may have: the runtime's `join1` to `join8`.
const MAX_PIECES: usize = 8;

/// Whether `m` names a module of the runtime's joins, `join1` to `join8`.
pub fn is_join_module(m: &syn::Ident) -> bool {
    m.to_string()
        .strip_prefix("join")
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| (1..=MAX_PIECES).contains(&n))
}
