//! Range slices `x[a..b]`, `x[a..]`, `x[..b]`, `x[a..=b]` of a slice, `Vec` or array: a window
//! of the container (its elements from `a`, `b - a` of them), never a new differentiated
//! value of its own. Iterated (`for &v in &x[1..]`, `x[..2].iter().sum()`, `zip(&y[i..j])`),
//! its items are `x[a + k]`, so each element's adjoint lands in the sub-range of `x̄`; measured
//! (`x[1..].len()`), it is `b - a`; anywhere else (`g(&x[1..3])`, `let t = &x[1..]`) it is a
//! copy of the window collected into a `Vec`, whose adjoint scatters the same way.

use super::*;

/// `e` without parentheses and a leading `&` (not `&mut`).
fn unref(e: &Expr) -> &Expr {
    match chain::strip(e) {
        Expr::Reference(r) if r.mutability.is_none() => unref(&r.expr),
        e => e,
    }
}

/// `x[range]`, if `e` is one (behind parentheses or a `&`).
pub(super) fn range_index(e: &Expr) -> Option<(&syn::ExprIndex, &syn::ExprRange)> {
    match unref(e) {
        Expr::Index(ix) => match chain::strip(&ix.index) {
            Expr::Range(r) => Some((ix, r)),
            _ => None,
        },
        _ => None,
    }
}

impl Lowering {
    /// The window `x[a..b]` reads, if `e` is a range slice (behind parentheses or a `&`): its
    /// container, first index and length. `Some(None)` after an error.
    pub(super) fn range_window(&mut self, b: Block, e: &Expr) -> Option<Option<Window>> {
        let (ix, r) = range_index(e)?;
        let span = ix.span();
        // The window of a window (`w[1..]` of `for w in x.windows(3)`) is one of `x`.
        let (base, offset, whole) = match self.window_named(&ix.expr) {
            Some(w) => (w.base, Some(w.start), w.len),
            None => {
                let Some(base) = self.place_expr(b, &ix.expr) else {
                    return Some(None);
                };
                if self.is_multi_dim(base) {
                    self.err_at(
                        e,
                        "a range of an array of more than one dimension is read with \
                         `a.slice(s![..])`",
                    );
                    return Some(None);
                }
                (base, None, self.len_of(b, base, span))
            }
        };
        let start = match &r.start {
            Some(s) => self.expr(b, s, true),
            None => Some(self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span)),
        };
        let end = match &r.end {
            Some(x) => self.expr(b, x, true),
            None => Some(whole),
        };
        let (Some(start), Some(end)) = (start, end) else {
            return Some(None);
        };
        // `a..=b` ends after `b`; a range past the end or backwards panics as in the function.
        let end = match r.limits {
            syn::RangeLimits::Closed(_) => {
                self.int_op(b, quote!(__ad_e + 1), &[("__ad_e", end)], span)
            }
            syn::RangeLimits::HalfOpen(_) => end,
        };
        let len = self.int_op(
            b,
            quote!({
                ::core::assert!(__ad_s <= __ad_e && __ad_e <= __ad_n, "range out of bounds");
                __ad_e - __ad_s
            }),
            &[("__ad_s", start), ("__ad_e", end), ("__ad_n", whole)],
            span,
        );
        let start = match offset {
            Some(o) => self.int_bin(b, BinOp::Add, o, start, span),
            None => start,
        };
        Some(Some(Window { base, start, len }))
    }

    /// `x[a..b]` as a value: a copy of the window, collected into a `Vec`.
    pub(super) fn range_copy(&mut self, b: Block, e: &Expr) -> Option<Value> {
        let copy: Expr = syn::parse_quote_spanned! {e.span()=>
            #e.iter().copied().collect::<::std::vec::Vec<_>>()
        };
        self.expr(b, &copy, true)
    }
}
