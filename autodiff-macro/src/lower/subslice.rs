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

/// Calls `f` on each value an `if` or `match` ends with: the last expression of each arm,
/// through `else if`, nested blocks and parentheses (a nested `if` or `match` at the end of an
/// arm is looked into, not given to `f`).
fn each_tail(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    fn block_tail(bl: &mut syn::Block, f: &mut dyn FnMut(&mut Expr)) {
        if let Some(Stmt::Expr(t, None)) = bl.stmts.last_mut() {
            each_tail(t, f);
        }
    }
    match e {
        Expr::Paren(p) => each_tail(&mut p.expr, f),
        Expr::Group(g) => each_tail(&mut g.expr, f),
        Expr::Block(bl) if bl.label.is_none() => block_tail(&mut bl.block, f),
        Expr::If(ei) => {
            block_tail(&mut ei.then_branch, f);
            if let Some((_, els)) = &mut ei.else_branch {
                each_tail(els, f);
            }
        }
        Expr::Match(em) => {
            for arm in &mut em.arms {
                each_tail(&mut arm.body, f);
            }
        }
        e => f(e),
    }
}

/// `e` (an arm's value that is a slice, a `&Vec` or a range of one) as an owned `Vec`: a
/// range as the copy it is anywhere else, another value copied by `to_vec()`. A macro's value
/// (`unreachable!()`) is left as it is.
fn owned_tail(e: &Expr) -> Expr {
    if matches!(chain::strip(e), Expr::Macro(_)) {
        return e.clone();
    }
    let inner = unref(e);
    syn::parse_quote_spanned! {e.span()=> (#inner).to_vec() }
}

/// An `if` or `match` whose arms end with range slices (`if c { &x[1..] } else { &y[..2] }`,
/// a train/validation split chosen by a flag), also as elements of a tuple the arms build
/// (`(&x[k..], &x[..k])`), written so that the copies the ranges stand for outlive the arms:
/// `{ let __ad_sel = if c { x[1..].to_vec() } else { y[..2].to_vec() }; &__ad_sel }`, the other
/// arms' slices copied too. A range slice as a value is a copy (`range_copy`); the arm's
/// reference to it would not outlive the arm, nor could the pullback keep it. `None` where no
/// arm ends with a range slice, or where the arms' tuples are not alike.
pub(super) fn owned_branches(e: &Expr) -> Option<Expr> {
    let mut any_range = false;
    let mut tuple_lens = Vec::new();
    let mut probe = e.clone();
    each_tail(&mut probe, &mut |t| {
        if range_index(t).is_some() {
            any_range = true;
        }
        if let Expr::Tuple(tt) = chain::strip(t) {
            tuple_lens.push(Some(tt.elems.len()));
            if tt.elems.iter().any(|el| range_index(el).is_some()) {
                any_range = true;
            }
        } else if !matches!(chain::strip(t), Expr::Macro(_)) {
            tuple_lens.push(None);
        }
    });
    if !any_range {
        return None;
    }
    let span = e.span();
    let mut owned = e.clone();
    match tuple_lens.first() {
        // Tuples: the positions where some arm has a range slice are owned in every arm.
        Some(Some(n)) => {
            let n = *n;
            if tuple_lens.iter().any(|l| *l != Some(n)) {
                return None;
            }
            let mut ranged = vec![false; n];
            each_tail(&mut owned.clone(), &mut |t| {
                if let Expr::Tuple(tt) = chain::strip(t) {
                    for (k, el) in tt.elems.iter().enumerate() {
                        ranged[k] |= range_index(el).is_some();
                    }
                }
            });
            each_tail(&mut owned, &mut |t| {
                if let Expr::Tuple(tt) = t {
                    for (k, el) in tt.elems.iter_mut().enumerate() {
                        if ranged[k] {
                            *el = owned_tail(el);
                        }
                    }
                }
            });
            let names: Vec<syn::Ident> = (0..n)
                .map(|k| syn::Ident::new(&format!("__ad_sel{k}"), span))
                .collect();
            let reads = names.iter().zip(&ranged).map(|(name, r)| match r {
                true => quote::quote_spanned!(span=> &#name),
                false => quote::quote_spanned!(span=> #name),
            });
            Some(syn::parse_quote_spanned! {span=> {
                let (#(#names,)*) = #owned;
                (#(#reads,)*)
            }})
        }
        Some(None) => {
            if tuple_lens.iter().any(|l| l.is_some()) {
                return None;
            }
            each_tail(&mut owned, &mut |t| *t = owned_tail(t));
            let sel = syn::Ident::new("__ad_sel", span);
            Some(syn::parse_quote_spanned! {span=> {
                let #sel = #owned;
                &#sel
            }})
        }
        None => None,
    }
}
