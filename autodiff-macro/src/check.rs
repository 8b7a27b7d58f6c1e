//! Errors that need activity analysis: operations the macro can run but not differentiate.
//! They are reported only when a differentiated value actually reaches them.

use crate::activity::Activity;
use crate::ir::*;
use crate::prim::{self, Flags};

pub fn check(f: &Func, act: &Activity) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    for inst in &f.insts {
        let any_result_active = inst.results.iter().any(|&r| act.is_active(r));
        let ops_active = |vs: &[Value]| vs.iter().any(|&v| act.is_active(v));
        match &inst.kind {
            InstKind::Prim { prim, args, unwrap }
                if prim.has(Flags::UNWRAP) && !unwrap && act.is_active(args[0]) =>
            {
                let s = prim.name();
                errors.push(syn::Error::new(
                    inst.span,
                    format!(
                        "`{s}` returns an `Option` or a `Result`; write `.{s}(..).unwrap()` so \
                             that its value can be differentiated"
                    ),
                ));
            }
            InstKind::Mutate { m, unwrap, .. }
                if m.def().option
                    && !unwrap
                    && inst.results.get(1).is_some_and(|&r| act.is_active(r)) =>
            {
                let s = m.def().name;
                errors.push(syn::Error::new(
                    inst.span,
                    format!(
                        "`{s}` returns an `Option`; write `.{s}().unwrap()` so that its value can \
                         be differentiated"
                    ),
                ));
            }
            InstKind::Method {
                name,
                recv,
                args,
                recv_mut,
                ..
            } => {
                let s = name.to_string();
                let mut ops = vec![*recv];
                ops.extend(args);
                let pure = prim::is_discrete_method(&s);
                if let Some(root) = recv_mut {
                    if !pure && ops.iter().any(|&v| act.varied[v.index()]) {
                        // The method may change `root`; whatever it stores there, or moves
                        // around, the derivative would not follow: the gradient would silently
                        // be wrong, so this is an error even when the result is unused.
                        errors.push(syn::Error::new(
                            name.span(),
                            format!(
                                "`{root}.{s}(..)` may change `{root}`, and a differentiated \
                                 value is involved: the derivative cannot follow what `{s}` \
                                 does to `{root}`; the mutations it follows are element \
                                 assignments (`{root}[i] = ..`) and {}",
                                prim::places::list()
                            ),
                        ));
                        continue;
                    }
                }
                if !pure && ops_active(&ops) && any_result_active {
                    errors.push(syn::Error::new(
                        name.span(),
                        format!(
                            "no derivative rule for method `{s}` on a differentiated value; \
                             supported methods: {}. For anything else write a function `{s}(x)` \
                             with its own `{s}_vjp` and call it",
                            prim::known_list()
                        ),
                    ));
                }
            }
            InstKind::Binary(BinOp::Rem, a, b)
                if (act.is_active(*a) || act.is_active(*b)) && any_result_active =>
            {
                errors.push(syn::Error::new(
                    inst.span,
                    "`%` on a differentiated value has no derivative rule; compute it from \
                     `trunc`: `a - (a / b).trunc() * b`",
                ));
            }
            InstKind::Opaque { uses, mac, .. } => {
                // A value computed from differentiated inputs by code the macro cannot see
                // into would silently have derivative zero: reject it where the result matters.
                let reads_varied = uses.iter().any(|(_, v)| act.varied[v.index()]);
                let feeds_result = inst
                    .results
                    .iter()
                    .any(|&r| f.value(r).kind != Kind::Discrete && act.useful[r.index()]);
                if let Some(m) = mac.as_deref().filter(|m| !prim::is_output_macro(m)) {
                    // A macro of unknown effect may store what it reads anywhere (`my_push!(v,
                    // x)`): with a differentiated value among its inputs, that is never safe.
                    if reads_varied {
                        errors.push(syn::Error::new(
                            inst.span,
                            format!(
                                "`{m}!` reads a differentiated value, and what a macro does with \
                                 it cannot be differentiated; use macros only for output and \
                                 checks (`println!`, `assert!`, `format!`) and write the \
                                 computation as code"
                            ),
                        ));
                        continue;
                    }
                }
                if reads_varied && feeds_result {
                    errors.push(syn::Error::new(
                        inst.span,
                        "this expression reads a differentiated value and its result is used, \
                         but it cannot be differentiated (a macro or an array literal); use \
                         macros only for side effects (`println!`, `assert!`) and fill arrays \
                         element by element (`h[i] = x`)",
                    ));
                }
            }
            _ => {}
        }
    }
    errors
}
