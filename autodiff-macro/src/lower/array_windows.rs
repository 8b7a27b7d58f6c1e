//! ndarray's windows and chunks of an array of two or three dimensions iterated by a `for`
//! loop (`for w in u.windows((3, 3)) { .. }`, `exact_chunks((2, 2))`, `windows_with_stride(
//! (3, 3), (2, 2))`), as the loop over the windows' positions it stands for, each window the
//! region `u.slice(s![i..i + 3, j..j + 3])` of the array:
//!
//! ```text
//! for __ad_wt in 0..({ sizes; assert!(..); __ad_wn0 * __ad_wn1 }) {
//!     sizes;   // __ad_wk*: the window's shape, __ad_ws*: the step, __ad_wn*: how many
//!     let __ad_wi0: usize = __ad_wt / __ad_wn1 * __ad_ws0;
//!     let __ad_wi1: usize = __ad_wt % __ad_wn1 * __ad_ws1;
//!     let w = u.slice(s![__ad_wi0..__ad_wi0 + __ad_wk0, __ad_wi1..__ad_wi1 + __ad_wk1]);
//!     ..
//! }
//! ```
//!
//! One loop over the positions in row-major order, the order ndarray gives them in, so that
//! `break` and `continue` in the body leave and skip as they do over the windows. `exact_chunks
//! (k)` is `windows_with_stride(k, k)`: the chunks that fit whole, the rest of each axis left
//! out. The regions are views the lowering follows as any `slice` of the array.

use super::*;

/// The parts of a shape written in the call: a tuple or an array literal of two or three
/// integers (`(3, 3)`, `[2, 2, 2]`).
fn literal_shape(e: &Expr) -> Option<Vec<Expr>> {
    let parts: Vec<Expr> = match chain::strip(e) {
        Expr::Tuple(t) => t.elems.iter().cloned().collect(),
        Expr::Array(a) => a.elems.iter().cloned().collect(),
        _ => return None,
    };
    (2..=3).contains(&parts.len()).then_some(parts)
}

/// `x.windows(..)`, `x.exact_chunks(..)` and `x.windows_with_stride(.., ..)`, also followed by
/// `.into_iter()`: the call.
pub(super) fn windows_call(e: &Expr) -> Option<&syn::ExprMethodCall> {
    let mut e = chain::strip(e);
    if let Expr::MethodCall(mc) = e
        && mc.method == "into_iter"
        && mc.args.is_empty()
    {
        e = chain::strip(&mc.receiver);
    }
    let Expr::MethodCall(mc) = e else {
        return None;
    };
    match mc.method.to_string().as_str() {
        "windows" | "exact_chunks" if mc.args.len() == 1 => Some(mc),
        "windows_with_stride" if mc.args.len() == 2 => Some(mc),
        _ => None,
    }
}

/// Whether `mc` (see [`windows_call`]) names the window's shape as a tuple or an array of two
/// or three integers: the windows of a matrix or of a 3-D array, not of a vector.
pub(super) fn of_array_of_axes(mc: &syn::ExprMethodCall) -> bool {
    literal_shape(&mc.args[0]).is_some()
}

/// `a * b * ..` of the names, `None` for none.
fn product(names: &[syn::Ident]) -> Option<proc_macro2::TokenStream> {
    names
        .iter()
        .map(|x| quote::quote!(#x))
        .reduce(|a, b| quote::quote!(#a * #b))
}

impl Lowering {
    /// The rank of the array a variable holds, where the lowering knows it (0 otherwise).
    pub(super) fn known_rank(&self, e: &Expr) -> usize {
        let e = match chain::strip(e) {
            Expr::Reference(r) => chain::strip(&r.expr),
            e => e,
        };
        match e {
            Expr::Path(p) if p.qself.is_none() => p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .and_then(|slot| self.env[slot].value)
                .map_or(0, |v| self.min_rank(v, 0)),
            _ => 0,
        }
    }

    /// The loop `fl` over the windows or chunks of an array of two or three dimensions written
    /// as the loop over their positions (see the module's docs); `None` for any other loop.
    pub(super) fn array_windows_loop(&self, fl: &syn::ExprForLoop) -> Option<Expr> {
        // `for (k, w) in u.windows((3, 3)).into_iter().enumerate()`: the count is the position's
        // number.
        let (head, counted) = match chain::strip(&fl.expr) {
            Expr::MethodCall(e) if e.method == "enumerate" && e.args.is_empty() => {
                let Pat::Tuple(t) = &*fl.pat else {
                    return None;
                };
                if t.elems.len() != 2 {
                    return None;
                }
                (&*e.receiver, Some((&t.elems[0], &t.elems[1])))
            }
            e => (e, None),
        };
        let mc = windows_call(head)?;
        let span = fl.span();
        let krate = &self.krate;
        // The shape's parts as written, or, where the array's rank is known (`u.windows(k.dim())`
        // of a parameter `u: &Array2<f64>`), read from the shape as ndarray reads it.
        let parts = |e: &Expr, rank: usize| -> Vec<Expr> {
            literal_shape(e).unwrap_or_else(|| {
                (0..rank)
                    .map(|a| {
                        let a = syn::LitInt::new(&format!("{a}usize"), span);
                        syn::parse_quote_spanned!(span=> #krate::__private::shape_part(#e, #a))
                    })
                    .collect()
            })
        };
        let rank = match literal_shape(&mc.args[0]) {
            Some(p) => p.len(),
            None => {
                let of_size = match chain::strip(&mc.args[0]) {
                    Expr::MethodCall(d) if d.method == "dim" && d.args.is_empty() => {
                        self.known_rank(&d.receiver)
                    }
                    _ => 0,
                };
                let r = self.known_rank(&mc.receiver).max(of_size);
                if !(2..=3).contains(&r) {
                    return None;
                }
                r
            }
        };
        let shape = parts(&mc.args[0], rank);
        let method = mc.method.to_string();
        let steps: Vec<Expr> = match method.as_str() {
            "windows" => vec![syn::parse_quote!(1usize); rank],
            "exact_chunks" => shape.clone(),
            _ => {
                let steps = parts(&mc.args[1], rank);
                if steps.len() != rank {
                    return None;
                }
                steps
            }
        };
        let recv = &*mc.receiver;
        let (bind, array): (Option<Stmt>, Expr) = if chain::plain(recv) {
            (None, recv.clone())
        } else {
            let a = quote::format_ident!("__ad_wsrc", span = recv.span());
            (
                Some(syn::parse_quote_spanned!(recv.span()=> let #a = #recv;)),
                syn::parse_quote_spanned!(recv.span()=> #a),
            )
        };
        let id = |what: &str, k: usize| quote::format_ident!("__ad_w{what}{k}", span = span);
        let (k, s, n, i): (Vec<_>, Vec<_>, Vec<_>, Vec<_>) = (
            (0..rank).map(|a| id("k", a)).collect(),
            (0..rank).map(|a| id("s", a)).collect(),
            (0..rank).map(|a| id("n", a)).collect(),
            (0..rank).map(|a| id("i", a)).collect(),
        );
        let t = quote::format_ident!("__ad_wt", span = span);
        let axes: Vec<syn::LitInt> = (0..rank)
            .map(|a| syn::LitInt::new(&format!("{a}usize"), span))
            .collect();
        let what = format!("`{method}`: a window's shape and step must not be zero");
        // The position along axis `a`: the index `t` split over the counts of the axes after it.
        let starts: Vec<proc_macro2::TokenStream> = (0..rank)
            .map(|a| {
                let after = &n[a + 1..];
                let na = &n[a];
                let sa = &s[a];
                let quotient = match product(after) {
                    None => quote::quote!(#t),
                    Some(p) => quote::quote!(#t / (#p)),
                };
                if a == 0 {
                    quote::quote!(#quotient * #sa)
                } else {
                    quote::quote!(#quotient % #na * #sa)
                }
            })
            .collect();
        let count = product(&n);
        let (counter, pat) = match counted {
            Some((k, w)) => (Some(quote::quote_spanned!(span=> let #k = #t;)), w),
            None => (None, &*fl.pat),
        };
        let stmts = &fl.body.stmts;
        let attrs = &fl.attrs;
        let sizes = quote::quote_spanned! {span=>
            #(let #k: usize = #shape;)*
            #(let #s: usize = #steps;)*
            #(let #n: usize = if #array.shape()[#axes] >= #k {
                (#array.shape()[#axes] - #k) / #s + 1
            } else {
                0
            };)*
        };
        // The sizes are worked out for the range and again in the body (integers read from the
        // array's shape), so that the loop stays a statement of its own: a `return` or a jump
        // to an outer loop in its body leaves no block the lowering wraps it in.
        let looped = quote::quote_spanned! {span=>
            #(#attrs)*
            for #t in 0..({
                #sizes
                assert!(#(#k > 0)&&* #(&& #s > 0)*, #what);
                #count
            }) {
                #sizes
                #(let #i: usize = #starts;)*
                #counter
                let #pat = #array.slice(#krate::__private::s![#(#i..#i + #k),*]);
                #(#stmts)*
            }
        };
        let tokens = match bind {
            // A receiver computed in the loop's head (`(x * 2.0).windows(..)`), bound once.
            Some(bind) => quote::quote_spanned!(span=> { #bind #looped }),
            None => looped,
        };
        syn::parse2(tokens).ok()
    }
}

/// The error for the windows or chunks of a matrix or a 3-D array used other than as the
/// iterable of a `for` loop or a `Zip` producer of a shape written in the call (in an iterator
/// chain).
pub(super) const ARRAY_WINDOWS_FORM: &str = "the windows and chunks of a matrix or a 3-D array \
    (`u.windows((3, 3))`, `u.exact_chunks((2, 2))`, `u.windows_with_stride((3, 3), (2, 2))`, \
    the shape written as a tuple or an array literal) are followed as the iterable of a `for` \
    loop, `let mut s = 0.0; for w in u.windows((3, 3)) { s += (&w * &k).sum(); }`, and as a \
    `Zip` producer beside the array they fill, `Zip::from(&mut out).and(u.windows((3, \
    3))).for_each(|o, w| *o = (&w * &k).sum())` (`windows` and `exact_chunks`, the shape \
    written in the call); write one of these, or loop over the positions and read each \
    region, `out[[i, j]] = (&u.slice(s![i..i + 3, j..j + 3]) * &k).sum()`";

/// `Zip::from(&mut out).and(u.windows((3, 3))).for_each(|o, w| *o = (&w * &k).sum())` (also
/// `exact_chunks((2, 2))`, a pooling, and a `Zip::indexed(..)` with such a producer): the
/// `Zip::indexed` of the other producers, each window the region at the index, `|(i, j), o| {
/// let w = u.slice(s![i..i + 3, j..j + 3]); *o = .. }`, which `zip_indexed` writes as index
/// loops. `Zip` requires every producer to have the shape of the windows' positions, so the
/// other producers' shape is that of the positions. `None` for any other statement, and where
/// no producer is a plain array (nothing to give the loops their shape), a window's shape is not
/// written as a tuple or an array, or its array is not a variable or a field.
pub(super) fn zip_windows(stmt: &Stmt, krate: &proc_macro2::TokenStream) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), semi) = stmt else {
        return None;
    };
    if mc.method != "for_each" || mc.args.len() != 1 {
        return None;
    }
    let Expr::Closure(cl) = chain::strip(&mc.args[0]) else {
        return None;
    };
    let mut producers = Vec::new();
    let mut e = &*mc.receiver;
    let (head, indexed) = loop {
        match chain::strip(e) {
            Expr::MethodCall(m) if m.method == "and" && m.args.len() == 1 => {
                producers.push(&m.args[0]);
                e = &m.receiver;
            }
            Expr::Call(c) if c.args.len() == 1 => {
                let Expr::Path(p) = &*c.func else {
                    return None;
                };
                let mut segs = p.path.segments.iter().rev();
                let (Some(f), Some(z)) = (segs.next(), segs.next()) else {
                    return None;
                };
                if z.ident != "Zip" || !(f.ident == "from" || f.ident == "indexed") {
                    return None;
                }
                producers.push(&c.args[0]);
                break (p.path.clone(), f.ident == "indexed");
            }
            _ => return None,
        }
    };
    producers.reverse();
    let skip = usize::from(indexed);
    if cl.inputs.len() != producers.len() + skip {
        return None;
    }
    // The windows producers: their place among the producers, array, shape and whether chunks.
    let mut windows = Vec::new();
    for (k, p) in producers.iter().enumerate() {
        if let Some(w) = windows_call(p)
            && w.method != "windows_with_stride"
            && let Some(shape) = literal_shape(&w.args[0])
        {
            if !chain::plain(&w.receiver) {
                return None;
            }
            windows.push((k, (*w.receiver).clone(), shape, w.method == "exact_chunks"));
        }
    }
    let rank = windows.first()?.2.len();
    if windows.len() == producers.len() || windows.iter().any(|w| w.2.len() != rank) {
        return None;
    }
    let span = super::span::method_span(mc);
    // The index: the `Zip::indexed` closure's own, or names of ours.
    let index: Vec<Pat> = if indexed {
        match &cl.inputs[0] {
            Pat::Tuple(t) if t.elems.len() == rank => t.elems.iter().cloned().collect(),
            _ => return None,
        }
    } else {
        (0..rank)
            .map(|a| {
                let i = quote::format_ident!("__ad_zw{a}", span = span);
                syn::parse_quote_spanned!(span=> #i)
            })
            .collect()
    };
    let names: Vec<syn::Ident> = index
        .iter()
        .enumerate()
        .map(|(a, p)| match p {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            _ => quote::format_ident!("__ad_zw{a}", span = span),
        })
        .collect();
    let mut lets: Vec<Stmt> = Vec::new();
    for (k, array, shape, chunks) in &windows {
        let pat = &cl.inputs[k + skip];
        let ranges = names.iter().zip(shape).map(|(i, s)| {
            if *chunks {
                quote::quote_spanned!(span=> #i * (#s)..(#i + 1) * (#s))
            } else {
                quote::quote_spanned!(span=> #i..#i + (#s))
            }
        });
        lets.push(syn::parse_quote_spanned! {span=>
            let #pat = #array.slice(#krate::__private::s![#(#ranges),*]);
        });
    }
    let others: Vec<&Expr> = producers
        .iter()
        .enumerate()
        .filter(|(k, _)| !windows.iter().any(|w| w.0 == *k))
        .map(|(_, p)| *p)
        .collect();
    let params: Vec<&Pat> = cl
        .inputs
        .iter()
        .skip(skip)
        .enumerate()
        .filter(|(k, _)| !windows.iter().any(|w| w.0 == *k))
        .map(|(_, p)| p)
        .collect();
    let mut zip_path = head;
    zip_path.segments.last_mut()?.ident = syn::Ident::new("indexed", span);
    let first = others[0];
    let rest = &others[1..];
    let body = &cl.body;
    let idx = names.iter();
    Some(Stmt::Expr(
        syn::parse_quote_spanned! {span=>
            #zip_path(#first)#(.and(#rest))*.for_each(|(#(#idx),*), #(#params),*| {
                #(#lets)*
                #body
            })
        },
        *semi,
    ))
}
