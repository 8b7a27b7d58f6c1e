//! Iterator chains as written: where the items come from (a slice, a range, windows of a slice)
//! and the adapters applied to them, read off the method calls.

use super::*;

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
    /// `x.windows(k)`, `x.chunks(k)`, `x.chunks_exact(k)`.
    Windows {
        expr: &'a Expr,
        size: &'a Expr,
        how: &'a str,
    },
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
    `x.windows(k)`, `x.chunks(k)`, and `x.iter_mut()`, `&mut x` written through (`*e = ..`); \
    adapters `map`, `filter`, `enumerate`, `zip`, `rev`, `skip`, \
    `take`, `step_by`, `copied`, `cloned`; consumers `sum`, `product`, `fold`, `reduce`, `collect` (into a \
    `Vec`), `count`, `for_each`, `max_by`, `min_by`, `max_by_key`, `min_by_key` and `for` loops";

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
                        return (c.adapters.is_empty() && matches!(c.source, Source::Range { .. }))
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
                "windows" | "chunks" | "chunks_exact" if mc.args.len() == 1 => Some(Chain {
                    source: Source::Windows {
                        expr: &mc.receiver,
                        size: &mc.args[0],
                        how: ADAPTERS
                            .iter()
                            .chain(["windows", "chunks", "chunks_exact"].iter())
                            .find(|n| **n == name)
                            .copied()
                            .unwrap_or("windows"),
                    },
                    adapters: Vec::new(),
                }),
                _ => {
                    let n = ADAPTERS.iter().find(|n| **n == name)?;
                    let mut c = parse_chain(&mc.receiver, false)?;
                    c.adapters.push((n, mc));
                    Some(c)
                }
            }
        }
        Expr::Path(p) if into && p.qself.is_none() && p.path.get_ident().is_some() => Some(Chain {
            source: Source::Slice {
                expr: e,
                refs: 2,
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
            // `&x[a..b]`, and `&rows[i]`: a row of a container of rows, as `rows[i].iter()`.
            let index = matches!(inner, Expr::Index(_));
            (matches!(inner, Expr::Path(_) | Expr::Field(_)) || index).then_some(Chain {
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
            if matches!(*name, "map" | "filter") {
                out.extend(mc.args.iter());
            }
            if *name == "zip" {
                if let Some(c) = mc.args.first().and_then(|a| parse_chain(a, true)) {
                    out.extend(c.fns());
                }
            }
        }
        out
    }
}

/// `Vec<..>` (or `Vec<_>`).
pub(super) fn is_vec_type(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Vec"))
}
