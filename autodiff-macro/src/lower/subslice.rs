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

    /// `s[a..b]` (behind parentheses or a `&`) of a variable holding text (see `text_names`).
    pub(super) fn text_range<'e>(
        &self,
        e: &'e Expr,
    ) -> Option<(&'e syn::ExprIndex, &'e syn::ExprRange)> {
        let (ix, r) = range_index(e)?;
        text_expr(&ix.expr, &self.text_names).then_some((ix, r))
    }

    /// `x[a..b]` as a value: a copy of the window, collected into a `Vec`.
    pub(super) fn range_copy(&mut self, b: Block, e: &Expr) -> Option<Value> {
        // A range of text (`&s[1..]` of a `&str`) is data, run as written: the reference.
        if let Some((ix, r)) = self.text_range(e) {
            let base = self.expr(b, &ix.expr, true)?;
            let mut uses = vec![("__ad_b", base)];
            let start = match &r.start {
                Some(s) => {
                    uses.push(("__ad_s", self.expr(b, s, true)?));
                    quote!(__ad_s)
                }
                None => quote!(),
            };
            let end = match &r.end {
                Some(x) => {
                    uses.push(("__ad_e", self.expr(b, x, true)?));
                    quote!(__ad_e)
                }
                None => quote!(),
            };
            let dots = match r.limits {
                syn::RangeLimits::HalfOpen(_) => quote!(..),
                syn::RangeLimits::Closed(_) => quote!(..=),
            };
            return Some(self.int_op(b, quote!(&__ad_b[#start #dots #end]), &uses, e.span()));
        }
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

/// A slice variable assigned a range of a slice (`xs = &xs[1..];` in a loop that eats its
/// front, `let part; if c { part = &x[..k]; } else { part = &x[k..]; }`) as the copy a range
/// is as a value (see `range_copy`), held by the variable itself: its `let` (or, for a
/// parameter, a `let` put first) and every assignment to it take an owned `Vec`
/// (`xs = xs[1..].to_vec();`), and where it is read as a value it is lent (`g(&xs)`, `for &v
/// in &xs`); as a receiver or an indexed base (`xs.len()`, `xs[0]`) it is read as written. A
/// reference to a copy made in a loop's body or an arm would not outlive it, nor could the
/// pullback keep it. The variable's scope is the rest of the block of its `let`; where a
/// pattern there binds the name again, the reads are left to the lowering. Text (`texts`, see
/// `text_names`) is left as written: its ranges are `str`s.
pub(super) fn owned_reassigned_slices(
    block: &mut syn::Block,
    params: &[(syn::Ident, syn::Type)],
    texts: &[String],
) {
    use syn::visit_mut::VisitMut;
    // A parameter eating its front (`mut xs: &[f64]`) is the `let mut xs = xs;` put first.
    for (id, ty) in params.iter().rev() {
        let n = id.to_string();
        if shared_slice(ty)
            && assigns_copy(&block.stmts, &n, params, true)
            && !binds(&block.stmts, &n)
        {
            block
                .stmts
                .insert(0, syn::parse_quote! { let mut #id = #id; });
        }
    }
    struct Scopes<'a>(&'a [(syn::Ident, syn::Type)], &'a [String]);
    impl VisitMut for Scopes<'_> {
        fn visit_block_mut(&mut self, bl: &mut syn::Block) {
            let mut i = 0;
            while i < bl.stmts.len() {
                i += 1;
                let Stmt::Local(l) = &bl.stmts[i - 1] else {
                    continue;
                };
                let Some(id) = local_ident(l) else {
                    // One of the names of a pattern (`let (mut a, b) = (x, y);`): its own
                    // `let` after it, which the next step rewrites.
                    let mut names = Vec::new();
                    collect_pat_bindings(&l.pat, &mut names);
                    for id in names {
                        let n = id.to_string();
                        let rest = &bl.stmts[i..];
                        if assigns_copy(rest, &n, self.0, false) && !binds(rest, &n) {
                            bl.stmts.insert(i, syn::parse_quote! { let mut #id = #id; });
                        }
                    }
                    continue;
                };
                let n = id.to_string();
                let i = i - 1;
                let slice = slice_local(l, self.0);
                let rest = &bl.stmts[i + 1..];
                if !self.1.contains(&n) && assigns_copy(rest, &n, self.0, slice) && !binds(rest, &n)
                {
                    if let Stmt::Local(l) = &mut bl.stmts[i] {
                        own_local(l);
                    }
                    let mut own = Own(&n);
                    for s in &mut bl.stmts[i + 1..] {
                        own.visit_stmt_mut(s);
                    }
                }
            }
            syn::visit_mut::visit_block_mut(self, bl);
        }
    }
    Scopes(params, texts).visit_block_mut(block);
}

/// The name a `let` binds, if it binds one name (`let mut xs = ..`, `let part: &[f64];`).
fn local_ident(l: &syn::Local) -> Option<&syn::Ident> {
    match &l.pat {
        Pat::Ident(pi) if pi.subpat.is_none() => Some(&pi.ident),
        Pat::Type(pt) => match &*pt.pat {
            Pat::Ident(pi) if pi.subpat.is_none() => Some(&pi.ident),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `stmts` assign the variable `name` a slice the lowering copies: a range slice
/// (`name = &v[a..]`), or, where the variable is known to be a slice (`slice`), any value but a
/// slice parameter (`xs = rest;` of `while let [first, rest @ ..] = xs`, `xs = tail;` of
/// `split_first`).
fn assigns_copy(
    stmts: &[Stmt],
    name: &str,
    params: &[(syn::Ident, syn::Type)],
    slice: bool,
) -> bool {
    struct Assigns<'a> {
        name: &'a str,
        params: &'a [(syn::Ident, syn::Type)],
        slice: bool,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Assigns<'_> {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let Expr::Path(p) = chain::strip(&a.left)
                && p.path.is_ident(self.name)
                && (range_index(&a.right).is_some()
                    || (self.slice && !slice_param(unref(&a.right), self.params)))
            {
                self.found = true;
            }
            syn::visit::visit_expr_assign(self, a);
        }
    }
    let mut v = Assigns {
        name,
        params,
        slice,
        found: false,
    };
    stmts.iter().for_each(|s| v.visit_stmt(s));
    v.found
}

/// Whether `e` names a parameter of a slice type (`x` of `x: &[f64]`).
fn slice_param(e: &Expr, params: &[(syn::Ident, syn::Type)]) -> bool {
    let Expr::Path(p) = e else {
        return false;
    };
    params
        .iter()
        .any(|(id, ty)| p.path.is_ident(id) && shared_slice(ty))
}

/// A shared slice type, `&[T]`. A `&mut [T]` is not copied: its writes must reach what it
/// borrows.
fn shared_slice(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Reference(r)
        if r.mutability.is_none() && matches!(&*r.elem, syn::Type::Slice(_)))
}

/// Whether the `let` binds a slice: written `&[T]`, or of a range slice or a slice parameter.
fn slice_local(l: &syn::Local, params: &[(syn::Ident, syn::Type)]) -> bool {
    if let Pat::Type(pt) = &l.pat {
        return shared_slice(&pt.ty);
    }
    l.init.as_ref().is_some_and(|init| {
        range_index(&init.expr).is_some() || slice_param(unref(&init.expr), params)
    })
}

/// The names that hold text: parameters of a `str` or `String` type and the locals a `let`
/// binds to text, written so (`let mut s: &str = ..`) or with a value that is (see
/// [`text_expr`]).
pub(super) fn text_names(block: &syn::Block, params: &[(syn::Ident, syn::Type)]) -> Vec<String> {
    struct Lets(Vec<String>);
    impl<'ast> Visit<'ast> for Lets {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            syn::visit::visit_local(self, l);
            let Some(id) = local_ident(l) else {
                return;
            };
            let written = matches!(&l.pat, Pat::Type(pt) if textual(&pt.ty));
            if written || l.init.as_ref().is_some_and(|i| text_expr(&i.expr, &self.0)) {
                self.0.push(id.to_string());
            }
        }
    }
    let mut lets = Lets(
        params
            .iter()
            .filter(|(_, ty)| textual(ty))
            .map(|(id, _)| id.to_string())
            .collect(),
    );
    lets.visit_block(block);
    lets.0
}

/// Text: one of `names`, a string literal, a `str` method's text of text (`tag.as_str()`,
/// `name.trim()`), a reference to or a range of text.
fn text_expr(e: &Expr, names: &[String]) -> bool {
    match unref(e) {
        Expr::Path(p) => p
            .path
            .get_ident()
            .is_some_and(|id| names.iter().any(|n| id == n)),
        Expr::Lit(l) => matches!(l.lit, syn::Lit::Str(_)),
        Expr::MethodCall(mc) => {
            matches!(
                mc.method.to_string().as_str(),
                "as_str" | "trim" | "trim_start" | "trim_end"
            ) && text_expr(&mc.receiver, names)
        }
        Expr::Index(ix) => {
            matches!(chain::strip(&ix.index), Expr::Range(_)) && text_expr(&ix.expr, names)
        }
        _ => false,
    }
}

/// A `str` or `String` type, or a reference to one.
pub(super) fn textual(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => textual(&r.elem),
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "str" || s.ident == "String"),
        _ => false,
    }
}

/// Whether a pattern in `stmts` binds `name`.
fn binds(stmts: &[Stmt], name: &str) -> bool {
    let mut bound = BoundNames::default();
    stmts.iter().for_each(|s| bound.visit_stmt(s));
    bound.0.iter().any(|b| b == name)
}

/// The `let` of a variable `Own` rewrites: its value an owned copy, without the reference
/// type written for it (`&[f64]`), which would not fit.
fn own_local(l: &mut syn::Local) {
    if let Pat::Type(pt) = &l.pat {
        l.pat = (*pt.pat).clone();
    }
    if let Some(init) = &mut l.init {
        *init.expr = owned_tail(&init.expr);
    }
}

/// The reads and assignments of the variable named `.0`, made owned (see
/// `owned_reassigned_slices`).
struct Own<'a>(&'a str);

impl Own<'_> {
    fn is_ours(&self, e: &Expr) -> bool {
        matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.0))
    }
}

impl syn::visit_mut::VisitMut for Own<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Assign(a) if self.is_ours(chain::strip(&a.left)) => {
                self.visit_expr_mut(&mut a.right);
                *a.right = owned_tail(&a.right);
            }
            Expr::Index(ix) if self.is_ours(&ix.expr) => self.visit_expr_mut(&mut ix.index),
            Expr::MethodCall(mc) if self.is_ours(&mc.receiver) => {
                for a in &mut mc.args {
                    self.visit_expr_mut(a);
                }
            }
            Expr::Reference(r) if r.mutability.is_none() && self.is_ours(&r.expr) => {}
            e if self.is_ours(e) => {
                let read = e.clone();
                *e = syn::parse_quote_spanned! {read.span()=> (&#read) };
            }
            e => syn::visit_mut::visit_expr_mut(self, e),
        }
    }
}
