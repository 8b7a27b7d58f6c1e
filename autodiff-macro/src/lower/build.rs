//! Building vectors and arrays: `vec![x; n]`, `vec![a, b, c]` and `[a, b, c]` with
//! differentiated elements become a `Vec` that is pushed to (in a loop for `vec![x; n]`) or an
//! array written element by element, which the place model differentiates. With constant or
//! discrete elements they are built as written.

use super::*;

/// A literal, possibly negated: `0.0`, `-1.0`, `2`.
pub(super) fn is_plain_literal(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => is_plain_literal(&u.expr),
        Expr::Paren(p) => is_plain_literal(&p.expr),
        Expr::Group(g) => is_plain_literal(&g.expr),
        _ => false,
    }
}

/// The two forms of `vec!`.
pub(super) enum VecArgs {
    Repeat(Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
}

pub(super) fn parse_vec(m: &syn::Macro) -> Option<VecArgs> {
    use syn::parse::Parser;
    let repeat = |input: syn::parse::ParseStream| {
        let e: Expr = input.parse()?;
        input.parse::<syn::Token![;]>()?;
        let n: Expr = input.parse()?;
        Ok(VecArgs::Repeat(Box::new(e), Box::new(n)))
    };
    if let Ok(r) = repeat.parse2(m.tokens.clone()) {
        return Some(r);
    }
    let list = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
    list.parse2(m.tokens.clone())
        .ok()
        .map(|l| VecArgs::List(l.into_iter().collect()))
}

impl Lowering {
    /// `v.clone()` (of `kind`): a copy to write or to move where `v` is read again.
    pub(super) fn cloned(&mut self, b: Block, v: Value, kind: Kind, span: Span) -> Option<Value> {
        let clone = PrimId::method("clone")?;
        Some(self.inst1(
            b,
            InstKind::Prim {
                prim: clone,
                args: vec![v],
                unwrap: false,
            },
            kind,
            span,
        ))
    }

    /// `vec![..]`: `None` if `m` is another macro or its arguments do not parse.
    pub(super) fn vec_macro(
        &mut self,
        b: Block,
        m: &syn::Macro,
        span: Span,
    ) -> Option<Option<Value>> {
        if m.path.segments.last()?.ident != "vec" {
            return None;
        }
        Some(match parse_vec(m)? {
            VecArgs::Repeat(e, n) => {
                let len = self.expr(b, &n, true)?;
                // A length is an integer: a field of a parameter struct read for it
                // (`vec![0.0; g.n_nodes]`, `let n = g.n_nodes; vec![0.0; n]`) is data.
                crate::scalars::mark_integer(&mut self.f, len);
                if is_plain_literal(&e) {
                    // `vec![0.0; n]`: the literal as written; rustc types it from its uses.
                    Some(self.int_op_kind(
                        b,
                        quote!(::std::vec![#e; __ad_n]),
                        &[("__ad_n", len)],
                        Kind::Unknown,
                        span,
                    ))
                } else {
                    let x = self.expr(b, &e, true)?;
                    if self.kind(x) == Kind::Discrete {
                        Some(self.int_op_kind(
                            b,
                            quote!(::std::vec![__ad_x; __ad_n]),
                            &[("__ad_x", x), ("__ad_n", len)],
                            Kind::Discrete,
                            span,
                        ))
                    } else {
                        // Each element a copy of `x`, which may be a parameter struct
                        // (`vec![Particle { .. }; n]`): pushing `x` itself would move it.
                        let k = self.kind(x);
                        self.pushed(b, len, span, |s, body, _| s.cloned(body, x, k, span))
                    }
                }
            }
            VecArgs::List(elems) => {
                let mut vals = Vec::new();
                for e in &elems {
                    vals.push(self.expr(b, e, true)?);
                }
                let discrete =
                    !vals.is_empty() && vals.iter().all(|&v| self.kind(v) == Kind::Discrete);
                if elems.iter().all(is_plain_literal) || discrete {
                    let names: Vec<syn::Ident> = (0..vals.len())
                        .map(|k| quote::format_ident!("__ad_e{}", k))
                        .collect();
                    let uses: Vec<(String, Value)> = names
                        .iter()
                        .map(|n| n.to_string())
                        .zip(vals.iter().copied())
                        .collect();
                    let uses: Vec<(&str, Value)> =
                        uses.iter().map(|(n, v)| (n.as_str(), *v)).collect();
                    // `vec![]` holds what is pushed later: not known to be discrete.
                    let kind = if discrete {
                        Kind::Discrete
                    } else {
                        Kind::Unknown
                    };
                    Some(self.int_op_kind(b, quote!(::std::vec![#(#names),*]), &uses, kind, span))
                } else {
                    let n = vals.len();
                    let len = self.inst1(b, InstKind::Const(quote!(#n)), Kind::Discrete, span);
                    let slot = self.new_vec(b, len, span);
                    for x in vals {
                        if let Some(base) = self.env[slot].value {
                            self.push_value(b, slot, base, x, span);
                        }
                    }
                    let v = self.env[slot].value;
                    self.env.truncate(slot);
                    v
                }
            }
        })
    }

    /// `Vec::with_capacity(len)` in a hidden variable; returns its slot.
    fn new_vec(&mut self, b: Block, len: Value, span: Span) -> usize {
        let v = self.int_op_kind(
            b,
            quote!(::std::vec::Vec::with_capacity(__ad_n)),
            &[("__ad_n", len)],
            Kind::Unknown,
            span,
        );
        self.f.mutable_names.insert("__ad_vec".into());
        self.env
            .push(Binding::new("__ad_vec".into(), Some(v), true));
        self.env.len() - 1
    }

    /// A `Vec` of `len` elements, the `k`th pushed as `elem(self, body, k)` computes it in the
    /// loop's body.
    fn pushed(
        &mut self,
        b: Block,
        len: Value,
        span: Span,
        mut elem: impl FnMut(&mut Self, Block, Value) -> Option<Value>,
    ) -> Option<Value> {
        let slot = self.new_vec(b, len, span);
        let start = self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span);
        let (h, idx) = self.begin_counted_loop(vec![slot], span);
        if let (Some(x), Some(base)) = (elem(self, h.body, idx), self.env[slot].value) {
            self.push_value(h.body, slot, base, x, span);
        }
        self.continue_loop(h.body, span);
        let kind = LoopKind::Range {
            start,
            end: len,
            inclusive: false,
            rev: false,
        };
        self.end_counted_loop(b, kind, h, span);
        let v = self.env[slot].value;
        self.env.truncate(slot);
        v
    }

    /// `[a, b, c]` with a differentiated element: an array of defaults written element by
    /// element.
    pub(super) fn array_literal(&mut self, b: Block, a: &syn::ExprArray) -> Option<Value> {
        let span = a.span();
        // Variants or tuple structs made of literals and constants only (`[Mode::Keep,
        // Mode::Damp(0.5)]`): data that reads no variable, kept as written (an array of
        // defaults to write them into would need `Default` for their type).
        if !a.elems.is_empty()
            && a.elems.iter().all(constant_data)
            && a.elems.iter().any(constructed)
        {
            return Some(self.inst1(b, InstKind::Const(quote!(#a)), Kind::Unknown, span));
        }
        let mut vals = Vec::new();
        for e in &a.elems {
            vals.push(self.expr(b, e, true)?);
        }
        let n = vals.len();
        // An enum's variants (`[Mode::Keep, Mode::Damp(d), m]`): an enum holds no derivative
        // (one built from a differentiated value is an error where it is built), so the array
        // is data, built as written from its elements.
        let enum_values = a.elems.iter().any(enum_variant);
        if !vals.is_empty() && (enum_values || vals.iter().all(|&v| self.kind(v) == Kind::Discrete))
        {
            let names: Vec<syn::Ident> = (0..n)
                .map(|k| quote::format_ident!("__ad_e{}", k))
                .collect();
            let uses: Vec<(String, Value)> =
                names.iter().map(|n| n.to_string()).zip(vals).collect();
            let uses: Vec<(&str, Value)> = uses.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            // An element read from a differentiated value stays one for the checks (an enum
            // built from one is an error where its payload is taken out).
            let kind = if uses.iter().all(|&(_, v)| self.kind(v) == Kind::Discrete) {
                Kind::Discrete
            } else {
                Kind::Unknown
            };
            return Some(self.int_op_kind(b, quote!([#(#names),*]), &uses, kind, span));
        }
        // The array the elements are written into, each of its elements written over. Of
        // floats, zeros made by `Default`; of values the macro does not see to be floats (a
        // struct of the user's, `[Body { .. }, Body { .. }]`, rows `[vec![a, b], vec![c, d]]`),
        // copies of the first element, which need only `Clone` (as a `Differentiable` type
        // implements it; `Default` is often not derived, and `[e; n]` would need `Copy`). The
        // copies carry nothing of the element's derivative: every one is written over.
        // A tuple is copied too, though it holds floats: `Default` is not implemented for
        // the references it may hold beside them (`[(p1, u1), (p2, u2)]` of a camera matrix
        // lent and its observation).
        let tuple = matches!(a.elems.first(), Some(syn::Expr::Tuple(_)));
        let first_copy = match vals.first() {
            Some(&first) if self.kind(first) != Kind::Float || tuple => {
                let k = self.kind(first);
                Some(self.cloned(b, first, k, span)?)
            }
            _ => None,
        };
        let mut base = if let Some(copy) = first_copy {
            self.int_op_kind(
                b,
                quote!(::core::array::from_fn::<_, #n, _>(
                    |_| ::core::clone::Clone::clone(&__ad_e0)
                )),
                &[("__ad_e0", copy)],
                Kind::Discrete,
                span,
            )
        } else {
            self.inst1(
                b,
                InstKind::Const(quote!(::core::array::from_fn::<_, #n, _>(
                    |_| ::core::default::Default::default()
                ))),
                Kind::Unknown,
                span,
            )
        };
        for (k, value) in vals.into_iter().enumerate() {
            let index = self.inst1(b, InstKind::Const(quote!(#k)), Kind::Discrete, span);
            let kind = self.kind(base).join(self.kind(value));
            base = self.inst1(b, InstKind::IndexSet { base, index, value }, kind, span);
        }
        Some(base)
    }

    /// `[x; n]` with `n` an integer literal: `x` once, then written into each element as an
    /// array literal `[x, x, ..]` is, so that each element carries its derivative (data, `[i;
    /// 3]`, stays as written).
    pub(super) fn array_repeat(&mut self, b: Block, r: &syn::ExprRepeat) -> Option<Value> {
        let span = r.span();
        let n = repeat_len(r)?;
        let x = self.expr(b, &r.expr, true)?;
        let len = &r.len;
        if self.kind(x) == Kind::Discrete {
            return Some(self.int_op_kind(
                b,
                quote!([__ad_x; #len]),
                &[("__ad_x", x)],
                Kind::Discrete,
                span,
            ));
        }
        // Zeros of floats; of another value (a struct of the user's, `[Body::new(..); 3]`), a
        // copy of it repeated, as `[x; n]` needs `x` to be `Copy` (not `Default`), each
        // element then written over.
        let mut base = if self.kind(x) == Kind::Float {
            self.inst1(
                b,
                InstKind::Const(quote!([::core::default::Default::default(); #n])),
                Kind::Unknown,
                span,
            )
        } else {
            let k = self.kind(x);
            let copy = self.cloned(b, x, k, span)?;
            self.int_op_kind(
                b,
                quote!([__ad_x; #n]),
                &[("__ad_x", copy)],
                Kind::Discrete,
                span,
            )
        };
        for k in 0..n {
            let index = self.inst1(b, InstKind::Const(quote!(#k)), Kind::Discrete, span);
            let kind = self.kind(base).join(self.kind(x));
            base = self.inst1(
                b,
                InstKind::IndexSet {
                    base,
                    index,
                    value: x,
                },
                kind,
                span,
            );
        }
        Some(base)
    }
}

/// The length of `[x; n]` where it is an integer literal small enough to write the array
/// element by element.
pub(super) fn repeat_len(r: &syn::ExprRepeat) -> Option<usize> {
    match &*r.len {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<usize>().ok().filter(|&n| n <= 64),
        _ => None,
    }
}

/// An enum's variant named through its type, `Mode::Keep`, `Mode::Damp(..)`, `Mode::Grow {
/// .. }`, `Self::Keep`: the last two segments of the path in upper camel case.
fn enum_variant(e: &syn::Expr) -> bool {
    let path = match e {
        syn::Expr::Path(p) if p.qself.is_none() => &p.path,
        syn::Expr::Struct(s) if s.qself.is_none() => &s.path,
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) if p.qself.is_none() => &p.path,
            _ => return false,
        },
        syn::Expr::Paren(p) => return enum_variant(&p.expr),
        _ => return false,
    };
    variant_path(path)
}

/// A path naming an enum's variant through its type (`Mode::Damp`, `Self::Keep`): its last two
/// segments in upper camel case.
pub(crate) fn variant_path(path: &syn::Path) -> bool {
    let n = path.segments.len();
    n >= 2 && path.segments.iter().skip(n - 2).all(upper_camel)
}

/// A name in upper camel case (`Mode`, `Damp`), not a constant's upper case (`MAX`).
fn upper_camel(s: &syn::PathSegment) -> bool {
    let name = s.ident.to_string();
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().any(|c| c.is_lowercase())
}

/// A variant or a tuple struct made by its name: `Mode::Keep`, `Mode::Damp(..)`, `Some(..)`
/// (the last segment of the path in upper camel case, not a constant's upper case).
fn constructed(e: &syn::Expr) -> bool {
    let path = match e {
        syn::Expr::Path(p) => &p.path,
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => &p.path,
            _ => return false,
        },
        _ => return false,
    };
    path.segments.last().is_some_and(upper_camel)
}

/// An expression that reads no local variable: literals, negated literals, paths of more than
/// one segment (`Mode::Keep`, `f64::consts::PI`), upper-case constants, and calls of such a
/// variant or tuple struct (see [`constructed`]) on such expressions.
fn constant_data(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(_) => true,
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => constant_data(&u.expr),
        syn::Expr::Paren(p) => constant_data(&p.expr),
        syn::Expr::Path(p) => {
            p.qself.is_none()
                && (p.path.segments.len() > 1
                    || p.path.segments.first().is_some_and(|s| {
                        let name = s.ident.to_string();
                        name.starts_with(|c: char| c.is_ascii_uppercase())
                    }))
        }
        syn::Expr::Call(c) => constructed(e) && c.args.iter().all(constant_data),
        _ => false,
    }
}
