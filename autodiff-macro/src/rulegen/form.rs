//! Forms written out as Rust: a form with `g` standing for the cotangent, for a tangent, or for
//! a tangent in one component of a tuple cotangent and zero in the others. Terms that a zero
//! makes vanish are dropped, and parentheses are kept where a substitution changes how an
//! expression binds, so that the printed expression computes what the form says.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};

/// The names an expression reads: identifiers that are not methods (after `.`) or segments of a
/// path (`d::abs_d`).
pub(super) fn idents(ts: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    collect_idents(ts, &mut out);
    out
}

fn collect_idents(ts: &TokenStream, out: &mut Vec<String>) {
    let toks: Vec<TokenTree> = ts.clone().into_iter().collect();
    for (i, t) in toks.iter().enumerate() {
        match t {
            TokenTree::Group(g) => collect_idents(&g.stream(), out),
            TokenTree::Ident(id) => {
                let after = i > 0
                    && matches!(&toks[i - 1], TokenTree::Punct(p) if p.as_char() == '.' || p.as_char() == ':');
                let before_path =
                    matches!(toks.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                let s = id.to_string();
                if !after && !before_path && !out.contains(&s) {
                    out.push(s);
                }
            }
            _ => {}
        }
    }
}

/// How tightly an expression binds, so that a substitution keeps its meaning when printed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Prec {
    Sum,
    Product,
    Prefix,
    Atom,
}

/// A form, or a part of one, written out.
pub(super) struct Ex {
    pub(super) ts: TokenStream,
    pub(super) prec: Prec,
    /// For a quotient `n / d`: `n` and `d`, so that a sum of quotients by one denominator is
    /// written with one division.
    quotient: Option<Box<(Ex, TokenStream)>>,
}

impl Ex {
    pub(super) fn new(ts: TokenStream, prec: Prec) -> Ex {
        Ex {
            ts,
            prec,
            quotient: None,
        }
    }
}

fn atom(ts: TokenStream) -> Ex {
    Ex::new(ts, Prec::Atom)
}

/// What `g` stands for where a form is written out.
pub(super) enum Cot<'a> {
    /// The cotangent `g` itself (`g.0`, `g.1`, … for a tuple).
    Keep,
    /// The tangent in place of `g`.
    Whole(&'a Ident),
    /// The tangent in place of component `i` of a tuple `g`; the other components are zero.
    Part(usize, &'a Ident),
}

pub(super) fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        _ => e,
    }
}

fn form_error(e: &syn::Expr, what: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!("the form `{}` {what}", e.to_token_stream()),
    )
}

fn parens(x: Ex) -> TokenStream {
    let ts = x.ts;
    quote!((#ts))
}

fn neg(x: Ex) -> Ex {
    let ts = if x.prec >= Prec::Prefix {
        x.ts
    } else {
        parens(x)
    };
    Ex::new(quote!(-#ts), Prec::Prefix)
}

/// `t0 + t1 + …`, or `None` for an empty sum. Quotients by one denominator share the division:
/// `a / d + b / d` is written `(a + b) / d`.
pub(super) fn sum(terms: Vec<Ex>) -> Option<Ex> {
    let den = |t: &Ex| t.quotient.as_ref().map(|q| q.1.to_string());
    let shared = terms.len() > 1
        && den(&terms[0]).is_some()
        && terms.iter().all(|t| den(t) == den(&terms[0]));
    if shared {
        let mut d = TokenStream::new();
        let numerators: Vec<Ex> = terms
            .into_iter()
            .filter_map(|t| t.quotient)
            .map(|q| {
                let (n, den) = *q;
                d = den;
                n
            })
            .collect();
        let n = parens(sum(numerators)?);
        return Some(Ex::new(quote!(#n / #d), Prec::Product));
    }
    let mut acc: Option<Ex> = None;
    for t in terms {
        acc = Some(match acc {
            None => t,
            Some(a) => {
                let r = if t.prec <= Prec::Sum { parens(t) } else { t.ts };
                let l = a.ts;
                Ex::new(quote!(#l + #r), Prec::Sum)
            }
        });
    }
    acc
}

fn is_zero(l: &syn::Lit) -> bool {
    match l {
        syn::Lit::Int(i) => i.base10_digits().parse::<u64>() == Ok(0),
        syn::Lit::Float(f) => f.base10_digits().parse::<f64>() == Ok(0.0),
        _ => false,
    }
}

/// Writes a form out with `g` standing for `cot`; `None` where the result is zero (a form `0`,
/// or every term reads a zero component of the cotangent).
pub(super) fn subst(e: &syn::Expr, cot: &Cot) -> syn::Result<Option<Ex>> {
    use syn::Expr as E;
    Ok(match e {
        E::Lit(l) if is_zero(&l.lit) => None,
        E::Lit(l) => Some(atom(l.to_token_stream())),
        E::Path(p) => {
            let Some(id) = p.path.get_ident() else {
                return Err(form_error(
                    e,
                    "names a path; forms name operands, `y` and `g`",
                ));
            };
            if id != "g" {
                return Ok(Some(atom(id.to_token_stream())));
            }
            match cot {
                Cot::Keep => Some(atom(quote!(g))),
                Cot::Whole(t) => Some(atom(t.to_token_stream())),
                Cot::Part(..) => {
                    return Err(form_error(
                        e,
                        "reads `g` whole; a tuple result's form reads `g.0`, `g.1`, …",
                    ));
                }
            }
        }
        E::Field(f) => {
            let (E::Path(p), syn::Member::Unnamed(i)) = (&*f.base, &f.member) else {
                return Err(form_error(e, "reads a field other than `g.0`, `g.1`, …"));
            };
            if !p.path.is_ident("g") {
                return Err(form_error(e, "reads a field other than `g.0`, `g.1`, …"));
            }
            match cot {
                Cot::Keep => Some(atom(quote!(g.#i))),
                Cot::Part(j, t) if i.index as usize == *j => Some(atom(t.to_token_stream())),
                Cot::Part(..) => None,
                Cot::Whole(_) => {
                    return Err(form_error(
                        e,
                        "reads `g.i` but the primitive has one result",
                    ));
                }
            }
        }
        E::Paren(p) => subst(&p.expr, cot)?.map(|x| {
            if x.prec == Prec::Atom {
                x
            } else {
                atom(parens(x))
            }
        }),
        E::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => subst(&u.expr, cot)?.map(neg),
        E::Binary(b) => {
            let l = subst(&b.left, cot)?;
            let r = subst(&b.right, cot)?;
            match b.op {
                syn::BinOp::Add(_) | syn::BinOp::Sub(_) => {
                    let minus = matches!(b.op, syn::BinOp::Sub(_));
                    match (l, r) {
                        (None, None) => None,
                        (Some(l), None) => Some(l),
                        (None, Some(r)) => Some(if minus { neg(r) } else { r }),
                        (Some(l), Some(r)) => {
                            let l = l.ts;
                            let r = if r.prec <= Prec::Sum { parens(r) } else { r.ts };
                            let op = if minus { quote!(-) } else { quote!(+) };
                            Some(Ex::new(quote!(#l #op #r), Prec::Sum))
                        }
                    }
                }
                syn::BinOp::Mul(_) | syn::BinOp::Div(_) => {
                    let div = matches!(b.op, syn::BinOp::Div(_));
                    match (l, r) {
                        (_, None) if div => {
                            return Err(form_error(e, "divides by zero or by the cotangent"));
                        }
                        (None, _) | (_, None) => None,
                        (Some(l), Some(r)) => {
                            let numerator = Ex::new(l.ts.clone(), l.prec);
                            let l = if l.prec < Prec::Product {
                                parens(l)
                            } else {
                                l.ts
                            };
                            let r = if r.prec <= Prec::Product {
                                parens(r)
                            } else {
                                r.ts
                            };
                            let op = if div { quote!(/) } else { quote!(*) };
                            let mut x = Ex::new(quote!(#l #op #r), Prec::Product);
                            if div {
                                x.quotient = Some(Box::new((numerator, r)));
                            }
                            Some(x)
                        }
                    }
                }
                _ => return Err(form_error(e, "uses an operator other than + - * /")),
            }
        }
        E::MethodCall(m) => {
            if m.turbofish.is_some() {
                return Err(form_error(e, "calls a method with a turbofish"));
            }
            // A method applied to the cotangent is linear in it (`g.to_degrees()`): zero in,
            // zero out.
            let Some(recv) = subst(&m.receiver, cot)? else {
                return Ok(None);
            };
            let recv = if recv.prec < Prec::Atom {
                parens(recv)
            } else {
                recv.ts
            };
            let args = m
                .args
                .iter()
                .map(|a| Ok(subst(a, cot)?.map(|x| x.ts).unwrap_or_else(|| quote!(0.0))))
                .collect::<syn::Result<Vec<_>>>()?;
            let method = &m.method;
            Some(atom(quote!(#recv.#method(#(#args),*))))
        }
        E::Call(c) => {
            let E::Path(f) = &*c.func else {
                return Err(form_error(
                    e,
                    "calls something other than a helper `d::name`",
                ));
            };
            let args = c
                .args
                .iter()
                .map(|a| Ok(subst(a, cot)?.map(|x| x.ts).unwrap_or_else(|| quote!(0.0))))
                .collect::<syn::Result<Vec<_>>>()?;
            Some(atom(quote!(#f(#(#args),*))))
        }
        _ => return Err(form_error(e, "is not an expression a form may use")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(form: &str, cot: &Cot) -> Option<String> {
        let e: syn::Expr = syn::parse_str(form).expect("a form parses");
        subst(strip_parens(&e), cot)
            .expect("a form in the grammar")
            .map(|x| x.ts.to_string())
    }

    #[test]
    fn the_cotangent_is_replaced_by_a_tangent() {
        let dx = quote::format_ident!("dx");
        assert_eq!(
            written("-g * y / (b * b.ln())", &Cot::Whole(&dx)).as_deref(),
            Some("- dx * y / (b * b . ln ())")
        );
        assert_eq!(
            written("g.to_degrees()", &Cot::Whole(&dx)).as_deref(),
            Some("dx . to_degrees ()")
        );
        assert_eq!(written("0", &Cot::Whole(&dx)), None);
    }

    #[test]
    fn a_zero_component_drops_its_terms_and_keeps_the_sign() {
        let dx = quote::format_ident!("dx");
        let form = "g.0 * x.cos() - g.1 * x.sin()";
        assert_eq!(
            written(form, &Cot::Part(0, &dx)).as_deref(),
            Some("dx * x . cos ()")
        );
        assert_eq!(
            written(form, &Cot::Part(1, &dx)).as_deref(),
            Some("- (dx * x . sin ())")
        );
        // A sum of terms keeps the meaning of a term that is itself a sum.
        let terms = vec![
            Ex::new(quote!(a), Prec::Atom),
            Ex::new(quote!(b - c), Prec::Sum),
        ];
        assert_eq!(
            sum(terms).map(|x| x.ts.to_string()).as_deref(),
            Some("a + (b - c)")
        );
        // Quotients by one denominator share the division.
        let e: syn::Expr = syn::parse_str("-g * y / b").expect("parses");
        let f: syn::Expr = syn::parse_str("g / b").expect("parses");
        let db = quote::format_ident!("db");
        let terms = vec![
            subst(&f, &Cot::Whole(&dx))
                .expect("in the grammar")
                .expect("not zero"),
            subst(&e, &Cot::Whole(&db))
                .expect("in the grammar")
                .expect("not zero"),
        ];
        assert_eq!(
            sum(terms).map(|x| x.ts.to_string()).as_deref(),
            Some("(dx + - db * y) / b")
        );
    }

    #[test]
    fn forms_outside_the_grammar_are_errors() {
        for form in [
            "g % x",
            "x.max::<f64>(g)",
            "if x { g } else { y }",
            "f64::consts::PI * g",
            "g.x",
        ] {
            let e: syn::Expr = syn::parse_str(form).expect("parses as Rust");
            assert!(subst(&e, &Cot::Keep).is_err(), "{form}");
        }
        // Dividing by the cotangent is not linear in it.
        let e: syn::Expr = syn::parse_str("x / g.1").expect("parses");
        let dx = quote::format_ident!("dx");
        assert!(subst(&e, &Cot::Part(0, &dx)).is_err());
    }
}
