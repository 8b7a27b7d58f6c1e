//! Iterator chains as written: where the items come from (a slice, a range, windows of a slice)
//! and the adapters applied to them, read off the method calls.

use super::*;

/// The methods of `str` whose items are a string's own (its characters, bytes, words, lines),
/// which no slice has.
pub const STRING_ITEMS: &[&str] = &[
    "chars",
    "bytes",
    "char_indices",
    "split_whitespace",
    "split_ascii_whitespace",
    "lines",
    "encode_utf16",
];

/// A chain as written: where its items come from and the adapters applied in order.
pub(super) struct Chain<'a> {
    pub(super) source: Source<'a>,
    pub(super) adapters: Vec<(&'a str, &'a syn::ExprMethodCall)>,
}

pub(super) enum Source<'a> {
    /// `x.iter()`, `x`, `&x`: the elements of a slice, `Vec` or array (`refs`: `1` when the
    /// items are references).
    Slice {
        expr: &'a Expr,
        refs: u8,
        /// `x.iter_mut()`, `&mut x`: the items are references to the elements, written through.
        mutable: bool,
    },
    /// `a..b`, `a..=b`.
    Range {
        start: &'a Expr,
        end: &'a Expr,
        inclusive: bool,
    },
    /// `x.windows(k)`, `x.chunks(k)`, `x.chunks_exact(k)`; `x.chunks_mut(k)` and
    /// `x.chunks_exact_mut(k)` of a `for` loop.
    Windows {
        expr: &'a Expr,
        size: &'a Expr,
        how: &'a str,
    },
    /// `std::iter::once(e)`: one item.
    Once(&'a Expr),
}

/// Adapters the lowering follows.
pub(crate) const ADAPTERS: &[&str] = &[
    "map",
    "filter",
    "enumerate",
    "rev",
    "skip",
    "take",
    "step_by",
    "zip",
    "copied",
    "cloned",
    "take_while",
    "skip_while",
    "scan",
    "flat_map",
    "flatten",
    "chain",
];

/// Methods that consume a chain.
pub(super) const CONSUMERS: &[&str] = &[
    "sum",
    "product",
    "fold",
    "reduce",
    "collect",
    "count",
    "for_each",
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "max",
    "min",
];

/// What is supported, for messages.
pub const SUPPORTED: &str = "sources `x.iter()`, `x.into_iter()`, `&x`, ranges, \
    `x.windows(k)`, `x.chunks(k)`, `[a, b]`, `std::iter::once(v)`, and `x.iter_mut()`, `&mut x` written \
    through (`*e = ..`), `for c in x.chunks_mut(k)` writing `c[j]`; \
    adapters `map`, `filter`, `enumerate`, `zip`, `rev`, `skip`, \
    `take`, `step_by`, `copied`, `cloned`, `take_while`, `skip_while`, `scan`, `flat_map`, \
    `flatten`, `chain`; consumers `sum`, `product`, `fold`, `reduce`, `collect` (into a \
    `Vec`), `count`, `for_each`, `max_by`, `min_by`, `max_by_key`, `min_by_key` and `for` loops";

/// An expression evaluated without side effects (variables, fields, literals, and arithmetic,
/// casts and indexing of them: `i`, `j + 1`, `w[k]`, `self.n as usize`), which code the
/// macro writes may evaluate twice and read the same value.
pub(super) fn plain(e: &Expr) -> bool {
    match e {
        Expr::Path(_) | Expr::Lit(_) => true,
        Expr::Paren(p) => plain(&p.expr),
        Expr::Group(g) => plain(&g.expr),
        Expr::Binary(b) => plain(&b.left) && plain(&b.right),
        Expr::Unary(u) => plain(&u.expr),
        Expr::Field(f) => plain(&f.base),
        Expr::Cast(c) => plain(&c.expr),
        Expr::Index(i) => plain(&i.expr) && plain(&i.index),
        _ => false,
    }
}

pub(super) fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

/// The chain `e` is, if it is one. `into` accepts what `IntoIterator` takes (`x`, `&x`: the
/// iterable of a `for` loop or of `zip`), not only iterators.
pub(super) fn parse_chain(e: &Expr, into: bool) -> Option<Chain<'_>> {
    let e = strip(e);
    match e {
        Expr::Range(r) => Some(Chain {
            source: Source::Range {
                start: r.start.as_deref()?,
                end: r.end.as_deref()?,
                inclusive: matches!(r.limits, syn::RangeLimits::Closed(_)),
            },
            adapters: Vec::new(),
        }),
        Expr::MethodCall(mc) => {
            let name = mc.method.to_string();
            match name.as_str() {
                "iter" | "into_iter" | "iter_mut" if mc.args.is_empty() => {
                    if let Some(c) = parse_chain(&mc.receiver, false) {
                        // `(0..n).into_iter()`, and ndarray's windows of a vector, which are
                        // iterated through `into_iter()` (`a.windows(3).into_iter().map(..)`).
                        let windows = name == "into_iter"
                            && matches!(c.source, Source::Windows { how: "windows", .. });
                        return (c.adapters.is_empty()
                            && (windows || matches!(c.source, Source::Range { .. })))
                        .then_some(c);
                    }
                    Some(Chain {
                        source: Source::Slice {
                            expr: &mc.receiver,
                            refs: u8::from(name != "into_iter"),
                            mutable: name == "iter_mut",
                        },
                        adapters: Vec::new(),
                    })
                }
                "windows" | "chunks" | "chunks_exact" | "chunks_mut" | "chunks_exact_mut"
                | "rchunks" | "rchunks_exact"
                    if mc.args.len() == 1 =>
                {
                    Some(Chain {
                        source: Source::Windows {
                            expr: &mc.receiver,
                            size: &mc.args[0],
                            how: [
                                "windows",
                                "chunks",
                                "chunks_exact",
                                "chunks_mut",
                                "chunks_exact_mut",
                                "rchunks",
                                "rchunks_exact",
                            ]
                            .iter()
                            .find(|n| **n == name)
                            .copied()
                            .unwrap_or("windows"),
                        },
                        adapters: Vec::new(),
                    })
                }
                _ => {
                    let n = ADAPTERS.iter().find(|n| **n == name)?;
                    if unfollowed_form(mc).is_some() {
                        // Run as written where it reads no differentiated value; else an error
                        // that says what the form should be (see `check`).
                        return None;
                    }
                    let mut c = parse_chain(&mc.receiver, false)?;
                    c.adapters.push((n, mc));
                    Some(c)
                }
            }
        }
        Expr::Call(call) if call.args.len() == 1 && is_once(&call.func) => Some(Chain {
            source: Source::Once(&call.args[0]),
            adapters: Vec::new(),
        }),
        Expr::Path(p) if into && p.qself.is_none() && p.path.get_ident().is_some() => Some(Chain {
            source: Source::Slice {
                expr: e,
                refs: 2,
                mutable: false,
            },
            adapters: Vec::new(),
        }),
        // `[a, b]` of `flat_map(|v| [v, 2.0 * v])`, `chain([a])`, `for v in [a, b]`, and
        // `vec![a, b]`.
        Expr::Array(_) if into => Some(Chain {
            source: Source::Slice {
                expr: e,
                refs: 0,
                mutable: false,
            },
            adapters: Vec::new(),
        }),
        Expr::Macro(m) if into && m.mac.path.is_ident("vec") => Some(Chain {
            source: Source::Slice {
                expr: e,
                refs: 0,
                mutable: false,
            },
            adapters: Vec::new(),
        }),
        Expr::Field(f) if into && matches!(f.member, syn::Member::Named(_)) => Some(Chain {
            source: Source::Slice {
                expr: e,
                refs: 1,
                mutable: false,
            },
            adapters: Vec::new(),
        }),
        Expr::Reference(r) if into => {
            let mut inner = strip(&r.expr);
            if let Expr::Unary(u) = inner {
                // `&mut *v` of a `&mut` parameter `v`.
                if matches!(u.op, syn::UnOp::Deref(_)) && r.mutability.is_some() {
                    inner = strip(&u.expr);
                }
            }
            // `&x[a..b]`, and `&rows[i]`: a row of a container of rows, as `rows[i].iter()`;
            // `&[a, b]`, an array literal.
            let index = matches!(inner, Expr::Index(_));
            let array = matches!(inner, Expr::Array(_)) && r.mutability.is_none();
            (matches!(inner, Expr::Path(_) | Expr::Field(_)) || index || array).then_some(Chain {
                source: Source::Slice {
                    expr: inner,
                    refs: 1,
                    mutable: r.mutability.is_some(),
                },
                adapters: Vec::new(),
            })
        }
        _ => None,
    }
}

impl<'a> Chain<'a> {
    /// The function arguments of the chain's adapters.
    pub(super) fn fns(&self) -> Vec<&'a Expr> {
        let mut out: Vec<&'a Expr> = Vec::new();
        for (name, mc) in &self.adapters {
            if matches!(
                *name,
                "map" | "filter" | "take_while" | "skip_while" | "flat_map" | "scan"
            ) {
                out.extend(mc.args.iter().last());
            }
            if matches!(*name, "zip" | "chain") {
                if let Some(c) = mc.args.first().and_then(|a| parse_chain(a, true)) {
                    out.extend(c.fns());
                }
            }
        }
        out
    }
}

/// Why `mc`, an adapter the lowering follows, is not followed in the form written, if it is
/// not: `chain` of what is not a chain, `flat_map` of a function that does not give one.
pub(crate) fn unfollowed_form(mc: &syn::ExprMethodCall) -> Option<&'static str> {
    let arg = mc.args.first();
    match mc.method.to_string().as_str() {
        "chain" if arg.is_some_and(|a| parse_chain(a, true).is_none()) => Some(
            "`chain` is followed of a slice, a `Vec`, an array, a range, `std::iter::once(v)` \
             or an iterator chain over them",
        ),
        "flat_map" if arg.is_some_and(|a| flat_map_closure(a).is_none()) => Some(
            "`flat_map` is followed with a closure written in place whose body is an iterator \
             chain (`|r| r.iter().map(..)`, `|i| (0..m).map(move |j| ..)`) or an array \
             (`|v| [v, 2.0 * v]`); compute what it needs before the `flat_map`",
        ),
        _ => None,
    }
}

/// The closure of `flat_map(|v| chain)` and the chain its body is (also in a block with
/// nothing else).
pub(super) fn flat_map_closure(f: &Expr) -> Option<(&syn::ExprClosure, Chain<'_>)> {
    let Expr::Closure(cl) = strip(f) else {
        return None;
    };
    if cl.inputs.len() != 1 {
        return None;
    }
    let mut body = &*cl.body;
    while let Expr::Block(bl) = strip(body) {
        match bl.block.stmts.as_slice() {
            [Stmt::Expr(e, None)] if bl.label.is_none() => body = e,
            _ => return None,
        }
    }
    Some((cl, parse_chain(body, true)?))
}

/// `once`, `iter::once`, `std::iter::once`, `core::iter::once`.
fn is_once(f: &Expr) -> bool {
    let Expr::Path(p) = strip(f) else {
        return false;
    };
    let path = p.path.to_token_stream().to_string().replace(' ', "");
    matches!(
        path.as_str(),
        "once" | "iter::once" | "std::iter::once" | "core::iter::once"
    )
}

/// `Vec<..>` (or `Vec<_>`).
pub(super) fn is_vec_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Vec"))
}
