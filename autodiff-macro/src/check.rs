//! Errors that need activity analysis: operations the macro can run but not differentiate.
//! They are reported only when a differentiated value actually reaches them.

use crate::activity::Activity;
use crate::ir::*;
use crate::prim::{self, Flags};

/// Struct literals through which a differentiated value reaches the result become calls of the
/// literal's function (`Point::__ad_literal(a, b)`, from `#[derive(Differentiable)]`), which
/// are differentiated like any call; the others stay run as written. A literal built from
/// another's fields is one of them, whichever is seen first: the activity is taken through
/// code run as written.
pub fn struct_literals(f: &mut Func) {
    let act = &crate::activity::analyze_through_opaque(f);
    let mut left = Vec::new();
    for (i, path, args) in std::mem::take(&mut f.struct_literals) {
        let inst = f.inst(i);
        let InstKind::Opaque { uses, .. } = &inst.kind else {
            continue;
        };
        let reads_varied = uses.iter().any(|(_, v)| act.varied[v.index()]);
        let feeds_result = inst.results.iter().any(|&r| act.useful[r.index()]);
        if reads_varied && feeds_result {
            f.insts[i.index()].kind = InstKind::Call { path, args };
            f.map_errors.retain(|(m, _)| *m != i);
        } else {
            left.push((i, path, args));
        }
    }
    f.struct_literals = left;
}

/// Whether `v` is computed from the bits of a differentiated float (`x.to_bits()`), through
/// the integer arithmetic of the forward pass.
fn bits_of_active(f: &Func, act: &Activity, v: Value) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![v];
    while let Some(v) = todo.pop() {
        if !seen.insert(v) {
            continue;
        }
        let ValueDef::Result(i, _) = f.value(v).def else {
            continue;
        };
        let operands = f.operands(i);
        // Varied, not only active: where the rebuilt float is all the result depends on, the
        // float whose bits it takes is not active (nothing differentiable reaches the result).
        if let InstKind::Method { name, recv, .. } = &f.inst(i).kind
            && name == "to_bits"
            && act.varied[recv.index()]
        {
            return true;
        }
        todo.extend(operands);
    }
    false
}

/// The name and type of a `&mut` parameter left out of `wrt` that `args` pass on as it is (of
/// a type with floats: not a counter, `&mut usize`).
fn lent_mut_param<'f>(f: &'f Func, args: &[Value]) -> Option<(String, &'f syn::Type)> {
    args.iter().find_map(|&a| match f.value(a).def {
        ValueDef::Param(p)
            if f.params[p].inactive_mut_ref()
                && !crate::types::is_inactive_type(&f.params[p].ty) =>
        {
            Some((f.params[p].ident.to_string(), &f.params[p].ty))
        }
        _ => None,
    })
}

/// A `&mut` parameter left out of `wrt` lent as it is to a call that a differentiated value
/// reaches (`fill(x[0], scratch)`): the callee may write a value depending on it there, which a
/// later read of the parameter would see without its derivative. (Where nothing differentiated
/// reaches the call, `fill_noise(rng, &mut noise)` of a generator, it runs as written.)
fn lent_mut_params(f: &Func, act: &Activity) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    for (n, inst) in f.insts.iter().enumerate() {
        let (callee, args) = match &inst.kind {
            InstKind::Call { path, args } => match path.segments.last() {
                Some(s) => (s.ident.to_string(), args),
                None => continue,
            },
            InstKind::Method { name, args, .. } => (name.to_string(), args),
            _ => continue,
        };
        let Some((name, ty)) = lent_mut_param(f, args) else {
            continue;
        };
        if f.operands(Inst(n as u32))
            .iter()
            .any(|v| act.varied[v.index()])
        {
            let callee = crate::mut_self::original_name(&callee).unwrap_or(callee);
            let msg = crate::lower::calls::lent_mut_param_message(&name, &callee, ty);
            errors.push(syn::Error::new(inst.span, msg));
        }
    }
    errors
}

pub fn check(f: &Func, act: &Activity) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    // What code run as written reads and feeds, followed through other such code.
    let through = crate::activity::analyze_through_opaque(f);
    // Results of methods reported as having no rule: a method called on one (the `.unwrap()` of
    // `x.to_shape(s).unwrap()`) is not reported again.
    let mut reported: std::collections::HashSet<Value> = std::collections::HashSet::new();
    errors.extend(discarded_calls(f, &through));
    errors.extend(sinks(f));
    errors.extend(lent_mut_params(f, act));
    // A map, a queue or a cell given a differentiated value: the other errors of the
    // statements that use it would speak of what the derivative does not follow there.
    if errors.is_empty() {
        if let Some(e) = unfollowed(f, &through) {
            return vec![e];
        }
    }
    errors.extend(bound_from_written(f, act, &through));
    for (n, inst) in f.insts.iter().enumerate() {
        let any_result_active = inst.results.iter().any(|&r| act.is_active(r));
        let ops_active = |vs: &[Value]| vs.iter().any(|&v| act.is_active(v));
        match &inst.kind {
            // `v.push((i, x))`, `collect()` of `(usize, f64)`: a tuple that holds an integer
            // beside a differentiated value has no gradient type (a `Vec<(f64, f64)>` has).
            InstKind::Mutate { m, args, .. }
                if args.iter().enumerate().any(|(k, &a)| {
                    m.def().diff(k) && act.is_active(a) && tuple_with_data(f, a)
                }) =>
            {
                errors.push(syn::Error::new(
                    inst.span,
                    "a `Vec` of tuples that hold an integer (or another value without a \
                     derivative) beside differentiated values is not supported; keep the \
                     integers and the floats in two `Vec`s (`idx.push(i); xs.push(x);`), or \
                     make every component a float (`Vec<(f64, f64)>`, `Vec<[f64; 2]>`)",
                ));
            }
            // `let pairs = [(2, w[0]), (3, w[1])];` (an array literal's elements are written
            // into a copy of the first), `v[k] = (i, x)`: the same, for an array or `Vec`.
            InstKind::IndexSet { value, .. }
                if act.is_active(*value) && tuple_with_data(f, *value) =>
            {
                errors.push(syn::Error::new(
                    inst.span,
                    "an array or `Vec` of tuples that hold an integer (or another value without \
                     a derivative) beside differentiated values is not supported; iterate the \
                     literal in a `for` loop's head, `for (i, c) in [(2, w[0]), (3, w[1])]` \
                     (followed), or keep the integers and the floats in two arrays (`let idx = \
                     [2, 3]; let cs = [w[0], w[1]];`), or make every component a float",
                ));
            }
            // `A::apply(x)` of `fn net<A: Activation>`: through the trait bounding `A`, whose
            // items do not include the `apply_vjp` and `apply_jvp` written for its impls.
            InstKind::Call { path, args }
                if any_result_active
                    && path.segments.len() >= 2
                    && f.trait_params
                        .iter()
                        .any(|t| path.segments[0].ident == t.as_str())
                    && ops_active(args) =>
            {
                let ty = path.segments[0].ident.to_string();
                let name = path.segments[path.segments.len() - 1].ident.to_string();
                errors.push(syn::Error::new(
                    inst.span,
                    format!(
                        "`{ty}::{name}(..)` is called on a differentiated value through a trait: \
                         `{ty}` is a type parameter, and the items `#[differentiate]` writes for \
                         a trait's impl block (`{name}_vjp`, `{name}_jvp`) are not members of \
                         the trait, so a call through a generic bound is not followed; call the \
                         implementing type's function, `Ty::{name}(..)` (`Ty` the type), \
                         writing one function per type (a `macro_rules!` can write them), or pass what \
                         `{name}` computes in as a value"
                    ),
                ));
            }
            // `f32::from_bits(0x5f37_59df - (x.to_bits() >> 1))`: a float rebuilt from the bits
            // of a differentiated one. The bits are integers, so the derivative would stop at
            // them (a gradient of zero through the rebuilt float, silently).
            InstKind::Call { path, args }
                if path.segments.last().is_some_and(|s| s.ident == "from_bits")
                    && args.iter().any(|&a| bits_of_active(f, act, a)) =>
            {
                errors.push(syn::Error::new(
                    inst.span,
                    "this float is rebuilt from the bits of a differentiated value \
                     (`to_bits`/`from_bits`), which the derivative cannot follow: it would be \
                     zero through it; compute the value with float operations (`x.abs()`, \
                     `x.log2()`, `1.0 / x.sqrt()`), or with `from_bits` in a helper without \
                     `#[differentiate]` that a differentiated function calls on data only",
                ));
            }
            // An `Option` only tested (`chain.reduce(f).is_some()`) is data.
            InstKind::Prim { prim, args, unwrap }
                if prim.has(Flags::UNWRAP)
                    && !unwrap
                    && act.is_active(args[0])
                    && any_result_active =>
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
                if m.def().option()
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
                // The method as the source names it, not its by-value copy (`__ad_mut_fill`).
                let s = crate::mut_self::original_name(&name.to_string())
                    .unwrap_or_else(|| name.to_string());
                let mut ops = vec![*recv];
                ops.extend(args);
                let pure = prim::is_discrete_method(&s) || crate::lower::is_shape_query(&s);
                // `it.next()` (`peek`, ..) of an iterator over differentiated values kept in a
                // variable in a form that is not followed (`let mut it = x.iter().peekable();`):
                // the iterator is code run as written, and the items it gives are bound by a
                // pattern the derivative does not see into, a gradient of zero through them.
                if let Some(root) = recv_mut
                    && ITEM_PULLS.contains(&s.as_str())
                    && through.varied[recv.index()]
                    && !act.varied[recv.index()]
                {
                    errors.push(syn::Error::new(
                        name.span(),
                        format!(
                            "`{root}.{s}()` takes items one by one from an iterator over \
                             differentiated values kept in a variable, which is not followed \
                             here (an adapter such as `peekable()`, or `{root}` used more than \
                             once); loop over the positions and read the elements by index, \
                             `for i in 0..x.len() {{ let a = x[i]; if i + 1 < x.len() {{ let b \
                             = x[i + 1]; .. }} }}` (the next item is `x[i + 1]`, a peek \
                             included), or over `x.windows(2)` for neighbouring pairs"
                        ),
                    ));
                    continue;
                }
                if let Some(root) = recv_mut {
                    let reads = pure || prim::places::is_read(&s);
                    if !reads && ops.iter().any(|&v| act.varied[v.index()]) {
                        // The method may change `root`; whatever it stores there, or moves
                        // around, the derivative would not follow: the gradient would silently
                        // be wrong, so this is an error even when the result is unused.
                        if name.to_string().starts_with("__ad_mut") {
                            // A method lent buffers (`rng.perturb(&mut z)`).
                            errors.push(syn::Error::new(
                                name.span(),
                                format!(
                                    "`{root}.{s}(..)` may change `{root}` and the buffers it is \
                                     lent, and a differentiated value is involved: the \
                                     derivative follows such a call only of a method of an \
                                     `impl` block with `#[differentiate]`, on a `mut` local \
                                     whose struct the macro sees (`let mut {root}: MyStruct = \
                                     ..;`); where `{s}` is not differentiated (a generator's), \
                                     lend it buffers of data only (`let mut noise = vec![0.0; \
                                     n]; {root}.{s}(&mut noise);`) and combine them with the \
                                     differentiated values in this function (`z[i] = w[i] + \
                                     noise[i]`), which is followed"
                                ),
                            ));
                            continue;
                        }
                        if let ValueDef::Param(k) = f.value(*recv).def
                            && f.params[k].inactive_mut_ref()
                        {
                            // A record for the caller that the function also reads.
                            let msg = crate::lower::sinks::also_read_message(
                                &root.to_string(),
                                &format!("{root}.{s}(..);"),
                                &format!("{root}.<field>"),
                            );
                            errors.push(syn::Error::new(name.span(), msg));
                            continue;
                        }
                        if OPTION_ONLY_METHODS.contains(&s.as_str()) {
                            // A local `Option` declared without its type: lowered again as one
                            // of a float (this error is dropped then).
                            crate::lower::options::ask_rewrite(&root.to_string());
                        }
                        if OPTION_ONLY_METHODS.contains(&s.as_str())
                            && let Some(e) =
                                crate::lower::options::left_as_written(&root.to_string())
                        {
                            // The use that made the rewrite of local `Option`s leave `root`
                            // as written, once for all of its uses.
                            errors.extend(e);
                            continue;
                        }
                        if OPTION_ONLY_METHODS.contains(&s.as_str()) {
                            // A method only `Option` has, on a local the rewrite of local
                            // `Option`s left as written (a use it does not know): not a
                            // container's mutation, whose list would not help.
                            errors.push(syn::Error::new(
                                name.span(),
                                format!(
                                    "`{root}.{s}(..)`: a local `Option` of a differentiated \
                                     float is followed only where every use of it is one of \
                                     `{root} = Some(..)`, `{root} = None`, `if let`, `while let` \
                                     or a `match` of `{root}` or of `{root}.take()`, \
                                     `is_some()`, `is_none()`, `unwrap()`, `expect(..)`, \
                                     `unwrap_or(d)` (`_else`, `_default`), `map_or(d, |p| ..)` \
                                     (`map_or_else`), `is_some_and(|p| ..)`, `is_none_or(|p| \
                                     ..)` and `map(|p| ..).unwrap_or(d)`; write this use as one \
                                     of them, or keep a flag and a float (`let mut has_{root} = \
                                     false; let mut {root}_value = 0.0;`)"
                                ),
                            ));
                            continue;
                        }
                        let advice = match prim::places::advice(&s) {
                            Some(a) => format!("; instead of `{s}`, {a}"),
                            // Not a library's mutation the macro knows: perhaps a method of a
                            // struct of the user's on a local whose type it does not see.
                            None if !crate::lower::library_method(&s) => {
                                format!(
                                    "; if `{root}` holds a struct of yours and `{s}` is its method, \
                                 declare the struct where `{root}` is made (`let mut {root}: \
                                 MyStruct = ..;`, or `Vec<MyStruct>` or `[MyStruct; N]` for a \
                                 `Vec` or an array of them, `{root}[i].{s}(..)`), which is \
                                 followed"
                                )
                            }
                            None => String::new(),
                        };
                        errors.push(syn::Error::new(
                            name.span(),
                            format!(
                                "`{root}.{s}(..)` may change `{root}`, and a differentiated \
                                 value is involved: the derivative cannot follow what `{s}` \
                                 does to `{root}`; the mutations it follows are element \
                                 assignments (`{root}[i] = ..`), writes through \
                                 `for e in {root}.iter_mut()`, and the methods {}{advice}",
                                prim::places::list()
                            ),
                        ));
                        continue;
                    }
                }
                if !pure && ops_active(&ops) && any_result_active {
                    if OPTION_METHODS.contains(&s.as_str())
                        && let Some(n) = f.value(*recv).name.as_deref()
                    {
                        // A local `Option` declared without its type: lowered again as one of
                        // a float (this error is dropped then).
                        crate::lower::options::ask_rewrite(n);
                    }
                    if reported.contains(recv) {
                        reported.extend(inst.results.iter().copied());
                        continue;
                    }
                    reported.extend(inst.results.iter().copied());
                    let msg = match joined(f, *recv) {
                        Some(join) if s == "unwrap" || s == "expect" => format!(
                            "`{join}` is followed where its 1 to 8 pieces are written in the \
                             call, as views: `{join}(Axis(0), &[a.view(), b.view()]).unwrap()`, \
                             or `{join}![Axis(0), a, b]`; a slice of views made elsewhere (a \
                             `Vec`, a variable) is not: write its pieces in the call, and join \
                             more than 8 in steps; for rows kept in a loop (hidden states of a \
                             sequence), write each into a matrix made first, `let mut hs = \
                             Array2::zeros((n, h.len())); hs.row_mut(t).assign(&h);`, which is \
                             followed"
                        ),
                        _ => match through_trait(f, *recv) {
                            Some((param, bound)) => through_trait_message(&param, &bound, &s),
                            None => match option_call(f, *recv) {
                                Some(call) if is_mapped_option(&call) => {
                                    match mapped_option_message(f, *recv, &format!("`.{s}(..)`")) {
                                        Some(m) => m,
                                        // The `Option` mapped has its error already.
                                        None => continue,
                                    }
                                }
                                Some(call) if is_some_ctor(&call) => {
                                    let args = if s == "unwrap" { "()" } else { "(..)" };
                                    some_ctor_message(&format!("`.{s}{args}`"))
                                }
                                Some(call) if OPTION_METHODS.contains(&s.as_str()) => {
                                    option_call_message(&call, &format!("`.{s}(..)`"))
                                }
                                _ => match &args[..] {
                                    [a] if ELEMENTWISE_CLOSURE_METHODS.contains(&s.as_str())
                                        && field_place(f, *a).is_some() =>
                                    {
                                        mapped_fn_field_message(&field_place(f, *a).unwrap())
                                    }
                                    _ if (s == "unwrap" || s == "expect")
                                        && num_cast(f, *recv).is_some() =>
                                    {
                                        num_cast_message(&num_cast(f, *recv).unwrap_or_default())
                                    }
                                    _ => no_rule_message(
                                        &s,
                                        field_place(f, *recv).map(|p| (p, args.len())),
                                    ),
                                },
                            },
                        },
                    };
                    errors.push(syn::Error::new(name.span(), msg));
                }
            }
            InstKind::Binary(BinOp::Rem, a, b)
                if (act.is_active(*a) || act.is_active(*b)) && any_result_active =>
            {
                errors.push(syn::Error::new(
                    inst.span,
                    "`%` is followed on floats that the macro sees to be floats (an `f64` or \
                     `f32`, or a value beside one or beside a float literal), and not on these \
                     operands (a float type parameter's values, two calls' results): for a float \
                     type parameter write `a - (a / b).trunc() * b`; else bind an operand with its \
                     type first (`let p: f64 = phase(x); p % period(x)`)",
                ));
            }
            InstKind::Opaque { uses, mac, tokens } => {
                // A value computed from differentiated inputs by code the macro cannot see
                // into would silently have derivative zero: reject it where the result matters.
                let reads_varied = uses.iter().any(|(_, v)| through.varied[v.index()]);
                let feeds_result = inst
                    .results
                    .iter()
                    .any(|&r| f.value(r).kind != Kind::Discrete && through.useful[r.index()]);
                if let Some(m) = mac
                    .as_deref()
                    .filter(|m| !prim::is_output_macro(m) && !prim::is_index_macro(m))
                {
                    // A macro of unknown effect may store what it reads anywhere (`my_push!(v,
                    // x)`): with a differentiated value among its inputs, that is never safe.
                    if reads_varied {
                        errors.push(syn::Error::new(
                            inst.span,
                            format!(
                                "`{m}!` reads a differentiated value, and what a macro does with \
                                 it cannot be differentiated; use macros only for output and \
                                 checks (`println!`, `assert!`, `format!`) and write the \
                                 computation as code, or as a function with \
                                 `#[differentiate]` called in its place, `{m}(..)`"
                            ),
                        ));
                        continue;
                    }
                }
                if reads_varied && feeds_result && !f.data_guards.contains(&Inst(n as u32)) {
                    // A closure over array elements that the lowering could not take says why.
                    match f.map_errors.iter().find(|(i, _)| i.index() == n) {
                        Some((_, errs)) => errors.extend(errs.iter().cloned()),
                        None => match variant_built(f, uses, &through) {
                            // `[Act::Leaky(x), Act::Id]`: the variant is what to change.
                            Some((c, path)) => errors
                                .push(syn::Error::new(f.inst(c).span, variant_built_message(path))),
                            None => errors
                                .push(syn::Error::new(inst.span, run_as_written_message(tokens))),
                        },
                    }
                }
            }
            InstKind::Match { scrutinee, arms } if act.varied[scrutinee.index()] => {
                // The names a pattern binds inside a differentiated value (`(v, 0) => v`) are
                // inactive: the derivative through them would silently be zero.
                // A slice pattern of the followed form is reported through the arm that is not.
                let odd_slice = arms
                    .iter()
                    .any(|a| slice_pattern(&a.pat) && !followed_slice(&a.pat));
                for arm in arms {
                    let params = &f.block(arm.block).params;
                    if params.iter().any(|&p| is_read(f, p)) {
                        if odd_slice && followed_slice(&arm.pat) {
                            continue;
                        }
                        if slice_pattern(&arm.pat) {
                            errors.push(syn::Error::new_spanned(
                                &arm.pat,
                                "this slice pattern takes elements out of a differentiated value \
                                 in a form the derivative does not follow; slice patterns are \
                                 followed where each element is a name, `_`, `&name` or `..` \
                                 (`[a, b]`, `[first, .., last]`, `[x, rest @ ..]`, with guards) on \
                                 a variable (`xs`, `xs[..]`, `*xs`, a range `xs[i..i + 3]`); else test the length and read \
                                 the elements by index (`if xs.len() == 2 && xs[0] > 0.0 { .. }`)",
                            ));
                            continue;
                        }
                        // A field of a struct (`self.act`, `l.kind`, `self.modes[i]`) matched
                        // by a variant's pattern holds an enum, which a derived struct holds
                        // only as data (`#[differentiable(data)]`): its payloads have no
                        // derivative, and binding them as constants is exact.
                        if read_from_field(f, *scrutinee) && names_variant(&arm.pat) {
                            continue;
                        }
                        if let Some(msg) = enum_payload_message(&arm.pat, f, *scrutinee) {
                            errors.push(syn::Error::new_spanned(&arm.pat, msg));
                            continue;
                        }
                        // `Some(p)` of a whole float: an `Option` variable the rewrite of
                        // local `Option`s did not take (a tuple inside is another case).
                        if matches!(&arm.pat, syn::Pat::TupleStruct(ts)
                            if ts.path.is_ident("Some")
                                && ts.elems.len() == 1
                                && matches!(ts.elems[0], syn::Pat::Ident(_) | syn::Pat::Wild(_)))
                        {
                            // A named field of a parameter's struct (`p.scale`, `self.cap`):
                            // an `Option` has no gradient type, so a derived struct holds it
                            // only as data (`#[differentiable(data)] scale: Option<f64>`), a
                            // setting whose payload has no derivative, bound as a constant
                            // as an enum field's payloads are.
                            if param_field(f, *scrutinee) {
                                continue;
                            }
                            if let Some(n) = f.value(*scrutinee).name.as_deref() {
                                // Declared without its type: lowered again (see above).
                                crate::lower::options::ask_rewrite(n);
                            }
                            if let Some(e) = f
                                .value(*scrutinee)
                                .name
                                .as_deref()
                                .and_then(crate::lower::options::left_as_written)
                            {
                                // A local `Option` left as written: the error is at the use
                                // that made it so.
                                errors.extend(e);
                                continue;
                            }
                            if let Some(call) = option_call(f, *scrutinee) {
                                let use_ = "`if let Some(v)` / `match`";
                                let msg = if is_mapped_option(&call) {
                                    match mapped_option_message(f, *scrutinee, use_) {
                                        Some(m) => m,
                                        None => continue,
                                    }
                                } else if is_some_ctor(&call) {
                                    some_ctor_message(use_)
                                } else {
                                    option_call_message(&call, use_)
                                };
                                errors.push(syn::Error::new_spanned(&arm.pat, msg));
                                continue;
                            }
                            errors.push(syn::Error::new_spanned(
                                &arm.pat,
                                "this pattern takes a differentiated value out of an `Option`, \
                                 which the derivative cannot follow here; a local `Option` of a \
                                 float (`let mut prev = None;`, also with its type, `let mut \
                                 prev: Option<f64> = None;`) is followed where it is used only as \
                                 `prev = Some(..)`, \
                                 `prev = None`, `if let Some(p) = prev` (also in a chain of \
                                 tests), `let Some(p) = prev else { .. };`, `while let Some(p) \
                                 = prev`, a `match` with `Some(p)` and `None` arms (with guards \
                                 too; of `prev.take()` too), `if let Some(p) = \
                                 prev.replace(e)`, `is_some()`, \
                                 `is_none()`, `unwrap()`, `expect(..)`, `unwrap_or(d)` (`_else`, \
                                 `_default`), `map_or(d, |p| ..)` (`map_or_else`), \
                                 `is_some_and(|p| ..)`, `is_none_or(|p| ..)` and `map(|p| \
                                 ..).unwrap_or(d)`; else keep a flag and a float (`let mut \
                                 has_prev = false; let mut prev = 0.0;`)",
                            ));
                            continue;
                        }
                        // `Some((i, c))` of an `Option` of a tuple (a best index beside its
                        // cost), which no rewrite takes apart.
                        if matches!(&arm.pat, syn::Pat::TupleStruct(ts)
                            if ts.path.is_ident("Some")
                                && ts.elems.len() == 1
                                && matches!(ts.elems[0], syn::Pat::Tuple(_)))
                        {
                            errors.push(syn::Error::new_spanned(
                                &arm.pat,
                                "this pattern takes part of a tuple out of an `Option` that \
                                 holds a differentiated value, which the derivative cannot \
                                 follow; a local `Option` is followed where it holds one float: \
                                 keep the tuple's parts in variables of their own (`let mut \
                                 best_i = 0; let mut best: Option<f64> = None;`, or a flag and \
                                 the parts: `let mut found = false; let mut best_i = 0; let mut \
                                 best_c = 0.0;`)",
                            ));
                            continue;
                        }
                        errors.push(syn::Error::new_spanned(
                            &arm.pat,
                            "this pattern binds part of a differentiated value, which the \
                             derivative cannot follow; bind the whole value (`v if v < 0.0 => \
                             ..`), or take the parts out before the `match` (`let (a, b) = t;`) \
                             and match on what decides the arm",
                        ));
                    }
                }
            }
            InstKind::Call { path, args }
                if any_result_active
                    && ops_active(args)
                    && path.get_ident().map(|id| id.to_string()).is_some_and(|id| {
                        f.plain_helpers.contains(&id) || crate::types::is_plain_module_fn(&id)
                    }) =>
            {
                let name = path
                    .get_ident()
                    .map(|id| id.to_string())
                    .unwrap_or_default();
                errors.push(syn::Error::new(
                    inst.span,
                    format!(
                        "the helper `{name}` is called on differentiated values, and it has no \
                         `#[differentiate]`: put the attribute on it (`#[differentiate] fn \
                         {name}(..)`), or write its `{name}_vjp` and `{name}_jvp`"
                    ),
                ));
            }
            // `self.energy(d)` (`Self::energy`) of a method of the block left without the
            // attribute beside marked ones: rustc's "no function `energy_vjp`" otherwise.
            InstKind::Call { path, args }
                if any_result_active
                    && ops_active(args)
                    && path.segments.len() == 2
                    && path.segments[0].ident == "Self"
                    && crate::types::is_unmarked_method(&path.segments[1].ident.to_string()) =>
            {
                let name = path.segments[1].ident.to_string();
                errors.push(syn::Error::new(
                    inst.span,
                    format!(
                        "`{name}` is a method of this `impl` block without `#[differentiate]`, \
                         called on differentiated values: with the attribute on some methods of \
                         a block, only those are differentiated; put `#[differentiate]` on \
                         `{name}` too (or on none of the block's methods, which differentiates \
                         every one of them)"
                    ),
                ));
            }
            // `energy(p.into())`: `p.into()` of a struct parameter is taken for the struct's
            // own method, rustc's "no function `into_vjp`" otherwise.
            InstKind::Call { path, args }
                if any_result_active
                    && ops_active(args)
                    && path.segments.len() >= 2
                    && path.segments.last().is_some_and(|s| s.ident == "into") =>
            {
                errors.push(syn::Error::new(
                    inst.span,
                    "`.into()` of a differentiated struct is followed where the type it converts \
                     to is declared, `let c: P2 = p.into();`, as the `From` impl of that type \
                     called by its path, `P2::from(p)`, which needs `#[differentiate]` on the \
                     `impl From<..> for P2` block; write one of these",
                ));
            }
            // `Act::Soft(w[1])`: rustc's "no variant named `Soft_vjp`" otherwise.
            InstKind::Call { path, args }
                if any_result_active && ops_active(args) && crate::lower::variant_path(path) =>
            {
                let variant = quote::quote!(#path).to_string().replace(' ', "");
                errors.push(syn::Error::new(
                    inst.span,
                    format!(
                        "`{variant}(..)` builds an enum from a differentiated value, and an enum \
                         holds no derivative; build it from data only, and pass the \
                         differentiated value as a float of its own (a parameter, or a field of \
                         a `#[derive(Differentiable)]` struct) to where it is used"
                    ),
                ));
            }
            InstKind::Call { path, args } => {
                if let Some(map) = f.elem_map(path) {
                    // The closure's own errors, with the elements and captures that are
                    // differentiated here.
                    let mask: Vec<bool> = args
                        .iter()
                        .map(|&a| any_result_active && act.varied[a.index()])
                        .collect();
                    errors.extend(crate::elementwise::check(map, &mask));
                }
            }
            _ => {}
        }
    }
    errors
}

/// A call of a function whose `wrt(..)` the expansion knows (a method of the block, the
/// function itself) that passes a differentiated value where the list leaves the parameter out:
/// the call's gradient has no entry for it, and the value's would be lost. Data passed there is
/// fine (`self.forward(x)` with `x` data, `f(x, n - 1.0)` with `n` data).
pub fn declared_wrt_calls(f: &Func, act: &Activity) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    for inst in &f.insts {
        let InstKind::Call { path, args } = &inst.kind else {
            continue;
        };
        if !inst.results.iter().any(|&r| act.is_active(r)) {
            continue;
        }
        let Some(params) = crate::types::declared_wrt(path).filter(|p| p.len() == args.len())
        else {
            continue;
        };
        let Some((param, _)) = (params.iter().zip(args))
            .find(|((_, kept), a)| !kept && act.is_active(**a))
            .map(|(p, _)| p)
        else {
            continue;
        };
        let name = path.segments.last().map(|s| s.ident.to_string());
        let name = name.unwrap_or_default();
        let kept: Vec<&str> = (params.iter())
            .filter(|(_, k)| *k)
            .map(|(n, _)| n.as_str())
            .collect();
        let with: Vec<&str> = kept.iter().copied().chain([param.as_str()]).collect();
        // The list of a method of the block being expanded, taken from the block's attribute,
        // which applies to every method: the method needs a list of its own.
        let block = crate::types::block_wrt();
        let of_block = path.segments.len() == 2
            && path.segments[0].ident == "Self"
            && !block.is_empty()
            && block.iter().map(String::as_str).eq(kept.iter().copied());
        if of_block {
            errors.push(syn::Error::new(
                inst.span,
                format!(
                    "`{name}` takes the `impl` block's `wrt({})`, which leaves out `{param}`, and \
                     this call passes there a value that depends on what is differentiated \
                     here: the call's gradient has no entry for it, so its part of the gradient \
                     would be lost; the block's list applies to every method, so mark the block \
                     `#[differentiate]` and give each method to differentiate its own list: \
                     `#[differentiate(wrt({}))]` on `{name}`, `#[differentiate(wrt({}))]` on the \
                     others",
                    kept.join(", "),
                    with.join(", "),
                    kept.join(", "),
                ),
            ));
            continue;
        }
        errors.push(syn::Error::new(
            inst.span,
            format!(
                "`{name}` is declared with `wrt({})`, which leaves out `{param}`, and this call \
                 passes there a value that depends on what is differentiated here: the call's \
                 gradient has no entry for it, so its part of the gradient would be lost; add \
                 `{param}` to the list (`wrt({})`), or leave `wrt(..)` off `{name}`",
                kept.join(", "),
                with.join(", "),
            ),
        ));
    }
    errors
}

/// Whether any instruction or terminator reads `v`.
fn is_read(f: &Func, v: Value) -> bool {
    (0..f.insts.len()).any(|i| f.operands(Inst(i as u32)).contains(&v))
        || (0..f.blocks.len()).any(|b| f.term_operands(Block(b as u32)).contains(&v))
}

/// `if let Some(c) = x.chunks(2).next() { c[0] * c[1] }`: a `match` (or `if let`) of what code
/// run as written computed from differentiated values (an `Option` or a variant of the
/// library's), whose arm binds a part of it that then reaches a float the result depends on.
/// The names an arm binds are taken for data (a position, `Some(i) => x[i]`, is the common
/// case, and is allowed): through a float read out of the binding, the gradient would
/// silently be zero. The binding is followed into arithmetic, methods, calls, the base of an
/// index (not the index: `x[i]`), fields and the values of branches and loops; an `as` cast
/// is an integer's conversion.
fn bound_from_written(f: &Func, act: &Activity, through: &Activity) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let mut built: Vec<Inst> = Vec::new();
    for inst in &f.insts {
        let InstKind::Match { scrutinee, arms } = &inst.kind else {
            continue;
        };
        if !through.varied[scrutinee.index()] || act.varied[scrutinee.index()] {
            continue;
        }
        // Where the value itself matters, the code run as written has its own error.
        if through.useful[scrutinee.index()] && f.value(*scrutinee).kind != Kind::Discrete {
            continue;
        }
        // The code run as written, through the methods called on its result
        // (`x.chunks(3).next().unwrap()`), the parts of a tuple (`match (x.chunks(2).next(),
        // x.chunks(2).last())`) and the values of branches (`let o = if c { x.chunks(2).next() }
        // else { None };`).
        let written = written_source(f, through, *scrutinee);
        let Some((written, uses)) = written else {
            continue;
        };
        let mut tainted = vec![false; f.values.len()];
        for arm in arms {
            for &p in &f.block(arm.block).params {
                tainted[p.index()] = true;
            }
        }
        let mut changed = true;
        while changed {
            changed = false;
            let mut set = |v: Value, tainted: &mut Vec<bool>| {
                if !tainted[v.index()] {
                    tainted[v.index()] = true;
                    changed = true;
                }
            };
            for (k, other) in f.insts.iter().enumerate() {
                let i = Inst(k as u32);
                let from: Vec<Value> = match &other.kind {
                    InstKind::Index(base, _) => vec![*base],
                    InstKind::Cast { .. } | InstKind::Const(_) => Vec::new(),
                    InstKind::If { .. } | InstKind::Match { .. } => {
                        for t in crate::activity::exits_of(f, i) {
                            if let Term::Yield(vals) = t {
                                for (j, v) in vals.iter().enumerate() {
                                    if let Some(&r) = other.results.get(j)
                                        && tainted[v.index()]
                                    {
                                        set(r, &mut tainted);
                                    }
                                }
                            }
                        }
                        Vec::new()
                    }
                    InstKind::Loop { init, body, .. } => {
                        let params = &f.block(*body).params;
                        let carried = &params[params.len() - init.len()..];
                        let mut into = |vals: &[Value], tainted: &mut Vec<bool>| {
                            for (j, v) in vals.iter().enumerate() {
                                if tainted[v.index()] {
                                    set(carried[j], tainted);
                                    if let Some(&r) = other.results.get(j) {
                                        set(r, tainted);
                                    }
                                }
                            }
                        };
                        into(init, &mut tainted);
                        for t in crate::activity::exits_of(f, i) {
                            if let Term::Continue(vals)
                            | Term::Break(vals)
                            | Term::Next { vals, .. } = t
                            {
                                into(vals, &mut tainted);
                            }
                        }
                        for (j, &c) in carried.iter().enumerate() {
                            if tainted[c.index()]
                                && let Some(&r) = other.results.get(j)
                            {
                                set(r, &mut tainted);
                            }
                        }
                        Vec::new()
                    }
                    _ => f.operands(i),
                };
                if from.iter().any(|v| tainted[v.index()]) {
                    for &r in &other.results {
                        set(r, &mut tainted);
                    }
                }
            }
        }
        let reaches = (0..f.values.len())
            .any(|k| tainted[k] && f.values[k].kind != Kind::Discrete && through.useful[k]);
        if !reaches {
            continue;
        }
        // `[Act::Leaky(x), Act::Id]`: an array of an enum's values, one built from a
        // differentiated value, whose payload is taken out here.
        if let Some((c, path)) = variant_built(f, &uses, through) {
            if !built.contains(&c) {
                built.push(c);
                errors.push(syn::Error::new(f.inst(c).span, variant_built_message(path)));
            }
            continue;
        }
        let pat = arms
            .iter()
            .find(|a| !f.block(a.block).params.is_empty())
            .map(|a| &a.pat);
        let msg = format!(
            "this pattern takes a value out of `{}`, code run as written on differentiated \
             values, and what it binds reaches the result as a float: the derivative cannot \
             follow it there, and would be zero; read the elements by index instead (`x[0]`, \
             `&x[..2]`, after a test of `x.len()`), or use a form that is followed: `x.first()`, \
             `x.last()`, `x.get(i)`, `x.split_first()`, `x.iter().max_by(..)`, `x.iter().find(..)`, \
             or a `for` loop over the chain",
            written
                .replace(" :: < ", "::<")
                .replace(" . ", ".")
                .replace(" (", "(")
                .replace("( ", "(")
                .replace(" )", ")")
                .replace(" >(", ">(")
        );
        match pat {
            Some(p) => errors.push(syn::Error::new_spanned(p, msg)),
            None => errors.push(syn::Error::new(inst.span, msg)),
        }
    }
    errors
}

/// The code run as written (an [`InstKind::Opaque`] that is not a macro) that `v`, a `match`'s
/// scrutinee, comes from: through methods called on its result, references, fields and
/// elements, the parts of a tuple, the elements an array is built from
/// (`[x.chunks(2).next(), ..]`), the fields of a struct literal, and the values a branch (`if`,
/// `match`) yields or a loop carries (`o = x.chunks(2).nth(k);` in a loop). `it.next()` of an
/// iterator kept in a variable has its own error, at the call. Only code that reads a
/// differentiated value counts (not `x.len() > 2` beside it in a tuple); where that code only
/// builds a value out of others (a struct literal, an array's fill), what it is built from is
/// named first.
fn written_source(
    f: &Func,
    through: &Activity,
    v: Value,
) -> Option<(String, Vec<(syn::Ident, Value)>)> {
    let mut seen = vec![false; f.values.len()];
    let mut stack = vec![v];
    let mut builder = None;
    // The values a loop carries in its `j`th place: the first and each iteration's.
    let carried = |l: Inst, j: usize, stack: &mut Vec<Value>| {
        if let InstKind::Loop { init, .. } = &f.inst(l).kind {
            stack.extend(init.get(j).copied());
            for t in crate::activity::exits_of(f, l) {
                if let Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } = t {
                    stack.extend(vals.get(j).copied());
                }
            }
        }
    };
    while let Some(v) = stack.pop() {
        if std::mem::replace(&mut seen[v.index()], true) {
            continue;
        }
        let (d, j) = match f.value(v).def {
            ValueDef::Result(d, j) => (d, j),
            ValueDef::BlockParam(b, k) => {
                // A carried value of a loop's body.
                for (i, inst) in f.insts.iter().enumerate() {
                    if let InstKind::Loop { init, body, .. } = &inst.kind
                        && *body == b
                    {
                        let n = f.block(b).params.len();
                        if k + init.len() >= n {
                            carried(Inst(i as u32), k + init.len() - n, &mut stack);
                        }
                    }
                }
                continue;
            }
            _ => continue,
        };
        match &f.inst(d).kind {
            InstKind::Opaque {
                tokens,
                uses,
                mac: None,
            } if through.varied[v.index()] => {
                // `let k = k.clone(); x.chunks(2).nth(k)` of a loop's counter: the call.
                let mut text = tokens
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if text.starts_with("let ")
                    && let Some(i) = text.rfind("; ")
                {
                    text = text[i + 2..].to_string();
                }
                if !text.contains("__ad_") {
                    return Some((text, uses.clone()));
                }
                builder.get_or_insert((text, uses.clone()));
                stack.extend(uses.iter().map(|(_, u)| *u));
            }
            InstKind::Method {
                name,
                recv_mut: Some(_),
                ..
            } if ITEM_PULLS.contains(&name.to_string().as_str()) => {}
            InstKind::Method { recv, .. }
            | InstKind::Ref(recv)
            | InstKind::Deref(recv)
            | InstKind::Index(recv, _)
            | InstKind::Field(recv, _)
            | InstKind::FieldRef(recv, _)
            | InstKind::Ascribe { value: recv, .. } => stack.push(*recv),
            InstKind::IndexSet { base, value, .. } => stack.extend([*base, *value]),
            InstKind::Tuple(parts) => stack.extend(parts.iter().copied()),
            InstKind::If { .. } | InstKind::Match { .. } => {
                for t in crate::activity::exits_of(f, d) {
                    if let Term::Yield(vals) = t
                        && let Some(&y) = vals.get(j)
                    {
                        stack.push(y);
                    }
                }
            }
            InstKind::Loop { .. } => carried(d, j, &mut stack),
            _ => {}
        }
    }
    builder
}

/// Among the values code run as written reads, an enum's variant built from a differentiated
/// value (`Act::Leaky(x)` of `[Act::Leaky(x), Act::Id]`): the call and the variant's path.
fn variant_built<'f>(
    f: &'f Func,
    uses: &[(syn::Ident, Value)],
    through: &Activity,
) -> Option<(Inst, &'f syn::Path)> {
    uses.iter().find_map(|(_, u)| match f.value(*u).def {
        ValueDef::Result(c, _) => match &f.inst(c).kind {
            InstKind::Call { path, args }
                if crate::lower::variant_path(path)
                    && args.iter().any(|a| through.varied[a.index()]) =>
            {
                Some((c, path))
            }
            _ => None,
        },
        _ => None,
    })
}

fn variant_built_message(path: &syn::Path) -> String {
    let variant = quote::quote!(#path).to_string().replace(' ', "");
    format!(
        "`{variant}(..)` builds an enum from a differentiated value, and an enum holds no \
         derivative (its payload, taken out by a pattern, would be data); build it from data \
         only, and pass the differentiated value as a float of its own (a parameter, or a field \
         of a `#[derive(Differentiable)]` struct) to where it is used"
    )
}

/// `T::from(..)` (`NumCast::from`, `T::from_f64(..)`, `from_usize`, ..): `num_traits`'
/// conversion whose `Option` is unwrapped; the call as written.
fn num_cast(f: &Func, v: Value) -> Option<String> {
    let ValueDef::Result(c, _) = f.value(v).def else {
        return None;
    };
    let InstKind::Call { path, .. } = &f.inst(c).kind else {
        return None;
    };
    let last = path.segments.last()?.ident.to_string();
    (path.segments.len() >= 2 && (last == "from" || last.starts_with("from_")))
        .then(|| quote::quote!(#path).to_string().replace(' ', ""))
}

fn num_cast_message(call: &str) -> String {
    format!(
        "`{call}(..).unwrap()` converts a value that depends on a differentiated one, and a \
         conversion through `num_traits` is not followed; between `f32` and `f64` convert with \
         `as`; where the argument is an integer (a count a method of a differentiated struct \
         returns, `m.n_params()`), bind it with its type first, `let n: usize = m.n_params();`, \
         and convert that, `{call}(n).unwrap()`, which runs as written"
    )
}

/// Methods that take the next item (or a look at it) out of an iterator kept in a variable.
const ITEM_PULLS: &[&str] = &[
    "next",
    "peek",
    "peek_mut",
    "next_back",
    "next_if",
    "next_if_eq",
    "nth",
    "nth_back",
];

/// Option methods: what an `Option` of a differentiated value would need.
const OPTION_METHODS: &[&str] = &[
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "map_or",
    "map_or_else",
    "and_then",
    "or",
    "or_else",
    "ok_or",
    "copied",
    "cloned",
    "is_some",
    "is_none",
];

/// Methods that only `Option` has (of the types a `mut` local holding differentiated values may
/// be): on such a local, a use of a local `Option` that its rewrite does not follow.
const OPTION_ONLY_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "map_or",
    "map_or_else",
    "is_some",
    "is_none",
    "is_some_and",
    "is_none_or",
    "take",
    "take_if",
    "replace",
    "get_or_insert",
    "get_or_insert_with",
    "and_then",
    "or",
    "or_else",
    "xor",
    "ok_or",
    "ok_or_else",
    "as_ref",
    "as_mut",
];

/// ndarray's methods that apply a closure to each element.
const ELEMENTWISE_CLOSURE_METHODS: &[&str] = &[
    "mapv",
    "map",
    "mapv_into",
    "map_inplace",
    "mapv_inplace",
    "map_collect",
    "zip_mut_with",
    "for_each",
    "fold",
    "apply",
];

/// `concatenate` or `stack` where `v` is what a call of ndarray's (by that name) returned.
fn joined(f: &Func, v: Value) -> Option<&'static str> {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return None;
    };
    let InstKind::Call { path, .. } = &f.inst(i).kind else {
        return None;
    };
    let last = &path.segments.last()?.ident;
    ["concatenate", "stack"].into_iter().find(|j| last == j)
}

/// Where the function uses `&mut` parameter `param` other than to write into it: the writes
/// run as written (`stats.last = loss;`, `log.record(loss);`, see `lower::sinks`), and so do
/// the output macros that print it; a write into another such parameter may read it
/// (`log.insert(format!("step {}", *n), loss);`), since nothing reads that one either. Any
/// other use reads it, and could read what such a write stored: the span of the first.
fn read_of_sink(f: &Func, param: Value) -> Option<proc_macro2::Span> {
    for (n, inst) in f.insts.iter().enumerate() {
        let i = Inst(n as u32);
        if !f.operands(i).contains(&param) || f.copy_ins.contains(&i) {
            continue;
        }
        let writes = f.sinks.iter().any(|&(s, _)| s == i)
            || matches!(&inst.kind, InstKind::Opaque { mac: Some(m), .. }
                if prim::is_output_macro(m));
        if !writes {
            return Some(inst.span);
        }
    }
    (0..f.blocks.len())
        .map(|b| Block(b as u32))
        .find(|&b| f.term_operands(b).contains(&param))
        .and_then(|_| Some(f.inst(f.sinks.first()?.0).span))
}

/// The statements that write into a `&mut` parameter left out of `wrt` (see
/// [`read_of_sink`]) where the function also reads the parameter.
fn sinks(f: &Func) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for &(i, param) in &f.sinks {
        if seen.contains(&param) {
            continue;
        }
        seen.push(param);
        let Some(read) = read_of_sink(f, param) else {
            continue;
        };
        let ValueDef::Param(n) = f.value(param).def else {
            continue;
        };
        let name = f.params[n].ident.to_string();
        let msg = crate::lower::sinks::also_read_message(
            &name,
            &format!("{name}.<field> = ..;"),
            &format!("{name}.<field>"),
        );
        let mut e = syn::Error::new(f.inst(i).span, msg);
        e.combine(syn::Error::new(read, format!("`{name}` is read here")));
        errors.push(e);
    }
    errors
}

/// Calls given a differentiated argument whose value a statement drops (`c.set(x * x);`,
/// `log.record(x);`, `let _ = stash(&cell, x);`). The derivative follows a call through its
/// result; what it does with the value besides (stores it in a `Cell` or a `RefCell`, or in
/// other shared state that a later read returns) is invisible to it, and the gradient would
/// silently miss that path. Such a call is a method's (its receiver may keep the value) or
/// a function's that is lent something else to keep it in (`&cell`); a function given values
/// only (`let _ = inner(x);`) is not, nor are the macro's own calls (`__ad_mut_fill(..)` of a
/// buffer that is not read again). The receiver itself is not what makes the call suspect:
/// `(&s).log();` of a differentiated `s` reads it.
fn discarded_calls(f: &Func, through: &Activity) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    for &(i, span) in &f.discarded_calls {
        let inst = f.inst(i);
        let varied = |vs: &[Value]| vs.iter().any(|v| through.varied[v.index()]);
        let what = match &inst.kind {
            InstKind::Call { path, args } => {
                let Some(last) = path.segments.last() else {
                    continue;
                };
                // A `&mut` parameter lent as it is: `lent_mut_params`' error.
                if last.ident.to_string().starts_with("__ad_") || lent_mut_param(f, args).is_some()
                {
                    continue;
                }
                // A method called through its type (see `lower::calls::mark_receiver`): the
                // first argument is the receiver.
                let method = matches!(&last.arguments,
                    syn::PathArguments::AngleBracketed(a) if a.args.is_empty());
                // A function given only values (`let _ = inner(x);`) has nowhere to keep them.
                let shared = method
                    || args
                        .iter()
                        .any(|&a| !through.varied[a.index()] && borrowed_state(f, a));
                if !shared || !varied(args.get(usize::from(method)..).unwrap_or(&[])) {
                    continue;
                }
                let names: Vec<String> =
                    path.segments.iter().map(|s| s.ident.to_string()).collect();
                format!("{}(..)", names.join("::"))
            }
            InstKind::Method {
                name,
                args,
                recv_mut,
                ..
            } => {
                let s = name.to_string();
                let pure = prim::is_discrete_method(&s)
                    || crate::lower::is_shape_query(&s)
                    || prim::places::is_read(&s);
                // A method that may change its `mut` receiver is the error in `check`.
                if pure || recv_mut.is_some() || !varied(args) {
                    continue;
                }
                format!(".{s}(..)")
            }
            // A mutation through a cell's guard, run as written (`c.borrow_mut().push(x)`).
            InstKind::Opaque { uses, tokens, .. } => {
                if !uses.iter().any(|(_, v)| through.varied[v.index()]) {
                    continue;
                }
                // The call is the last statement, after the bindings of what it names.
                use syn::parse::Parser;
                let stmts = syn::Block::parse_within.parse2(tokens.clone());
                match stmts.ok().as_deref() {
                    Some([.., syn::Stmt::Expr(syn::Expr::MethodCall(mc), _)]) => {
                        format!(".{}(..)", mc.method)
                    }
                    _ => "this call".to_string(),
                }
            }
            _ => continue,
        };
        errors.push(syn::Error::new(
            span,
            format!(
                "`{what}` is given a differentiated value and the value it returns is dropped: \
                 the derivative follows a call through what it returns, and what it does with \
                 the value besides (keeps it in a `Cell`, a `RefCell` or other shared state \
                 that a later read returns) cannot be differentiated; compute the value in this \
                 function and keep it in a local variable (`let mut acc = 0.0; acc += v;`), or \
                 return it from the call and use the result"
            ),
        ));
    }
    errors
}

/// The first statement through which a differentiated value reaches a map, a queue or a cell
/// (see `lower::unfollowed`): the variable holds it afterwards, or the statement works on the
/// variable with it (`m.insert(k, x)`, `b[0] = x` of `let b = c.borrow_mut();`). What such a
/// variable keeps and a later read returns is a path the gradient would miss, or one the
/// generated code cannot hold (a `HashMap` has no gradient type).
fn unfollowed(f: &Func, through: &Activity) -> Option<syn::Error> {
    let varied = |v: &Value| through.varied[v.index()];
    let u = f.unfollowed.iter().find(|u| {
        u.values.iter().any(varied)
            || u.insts.clone().any(|i| {
                let i = Inst(i as u32);
                f.inst(i).results.iter().any(varied) || f.operands(i).iter().any(varied)
            })
    })?;
    Some(syn::Error::new(
        u.span,
        crate::lower::unfollowed_message(&u.name, u.ty, u.borrow, true),
    ))
}

/// Whether `v` is a reference to something that is not a differentiated value and may hold
/// state (`&cell`, a parameter `log: &Log`): integers and the like cannot.
fn borrowed_state(f: &Func, v: Value) -> bool {
    if f.value(v).kind == Kind::Discrete {
        return false;
    }
    match f.value(v).def {
        ValueDef::Result(i, _) => matches!(f.inst(i).kind, InstKind::Ref(_)),
        ValueDef::Param(n) => f
            .params
            .get(n)
            .is_some_and(|p| matches!(p.ty, syn::Type::Reference(_))),
        _ => false,
    }
}

/// The function, of the user's, whose call gives `v` (`safe_log` of `safe_log(x)`): an `Option`
/// taken apart there is what that function returns.
fn option_call(f: &Func, v: Value) -> Option<String> {
    let ValueDef::Result(i, _) = f.value(v).def else {
        return None;
    };
    let InstKind::Call { path, .. } = &f.inst(i).kind else {
        return None;
    };
    let first = path.segments.first()?.ident.to_string();
    if matches!(
        first.as_str(),
        "std" | "core" | "alloc" | "ndarray" | "num_traits"
    ) {
        return None;
    }
    Some(
        path.segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
    )
}

/// Whether the call is of the constructor `Some` (`Some(x)`, `Option::Some(x)`), not a
/// function of the user's.
fn is_some_ctor(call: &str) -> bool {
    matches!(call, "Some" | "Option::Some")
}

/// Whether the call is the elementwise function the lowering made of `o.map(|p| ..)`, of an
/// `Option` `o` here (`__ad_map0`, see `lower/elementwise.rs`), not a function of the user's.
fn is_mapped_option(call: &str) -> bool {
    call.starts_with("__ad_map")
}

/// The error for `use_` of the `Option` that `o.map(|p| ..)` (the call `v`) returns: `None`
/// where `o` is a local `Option` whose error is at the use that made it be left as written,
/// that `map` among them.
fn mapped_option_message(f: &Func, v: Value, use_: &str) -> Option<String> {
    if let ValueDef::Result(i, _) = f.value(v).def
        && let InstKind::Call { args, .. } = &f.inst(i).kind
        && let Some(&o) = args.first()
        && f.value(o)
            .name
            .as_deref()
            .and_then(crate::lower::options::left_as_written)
            .is_some()
    {
        return None;
    }
    Some(format!(
        "{use_} of the `Option` that `o.map(|p| ..)` returns is not followed where that `Option` \
         is kept; take it apart where it is made, `o.map(|p| ..).unwrap_or(d)` or \
         `o.map_or(d, |p| ..)`, which are followed"
    ))
}

/// The error for `use_` of an `Option` built by `Some(e)` where it is taken apart.
fn some_ctor_message(use_: &str) -> String {
    format!(
        "{use_} of `Some(e)` takes apart an `Option` built in the same expression, which is not \
         followed; its value is `e`: write `e` itself (`Some(e).unwrap_or(d)` and \
         `Some(e).unwrap()` are `e`, `if let Some(v) = Some(e)` is `let v = e;`); where the \
         value may be missing, keep a local `Option` declared with its type (`let mut o: \
         Option<f64> = None;`, then `o = Some(e);` and `o.unwrap_or(d)`), which is followed"
    )
}

/// The error for `use_` (`.unwrap_or(..)`, `if let Some(v)`) of the `Option` that `call`
/// returns: the forms to write, in the function and here.
fn option_call_message(call: &str, use_: &str) -> String {
    // The signature names the function itself (`fn safe_sqrt`, of `h::safe_sqrt(..)`).
    let name = call.rsplit("::").next().unwrap_or(call);
    format!(
        "{use_} of the `Option` that `{call}(..)` returns is not followed: a differentiated \
         function cannot return an `Option`; have `{call}` return a float: for \
         `{call}(x).unwrap_or(d)`, take the default as an argument and return it where the \
         value is missing (`fn {name}(x: f64, default: f64) -> f64`, called as \
         `{call}(x, 0.0)`); for `if let Some(v) = {call}(x)` or a `match`, return the value \
         with a flag kept as a float (`-> (f64, f64)`, `(v, 1.0)` where found, `(0.0, 0.0)` \
         for `None`) and test it: `let (v, found) = {call}(x); if found > 0.0 {{ .. }}`; where \
         `{call}` finds an integer in data (an index, a bin: `-> Option<usize>`) whose value \
         is used other than as an index (`i as f64`), give it its type and a default first, \
         `let i: usize = {call}(..).unwrap_or(n);`, which is followed, and test `i < n`"
    )
}

/// The error for an iterator method that is not followed and has a form that is, which it
/// names.
fn adapter_message(name: &str) -> Option<String> {
    let instead = match name {
        "partition" => {
            "collect each part with its own `filter`: `let pos: Vec<f64> = \
             x.iter().copied().filter(|&v| v > 0.0).collect();` and `let rest: Vec<f64> = \
             x.iter().copied().filter(|&v| !(v > 0.0)).collect();`"
        }
        // Conversions and copies of slices that a followed form writes.
        "try_into" => crate::lower::ARRAY_OF_SLICE,
        "concat" => {
            "collect the pieces in one chain, `let v: Vec<f64> = \
             a.iter().chain(b).copied().collect();` for `[a, b].concat()`, and \
             `rows.iter().flatten().copied().collect()` for the rows of `rows.concat()`, which \
             are followed"
        }
        "repeat" => {
            "collect the copies from a cycle, `let v: Vec<f64> = \
             x.iter().cycle().take(k * x.len()).copied().collect();` for `x.repeat(k)`, which is \
             followed"
        }
        _ => return None,
    };
    Some(format!(
        "`.{name}(..)` over differentiated values is not followed; {instead}"
    ))
}

/// The error for method `name` without a derivative rule on a differentiated value.
/// `place` is the field (as written) the method is called on, and its number of arguments.
fn no_rule_message(name: &str, place: Option<(String, usize)>) -> String {
    if let Some(m) = adapter_message(name) {
        return m;
    }
    if name == "into" {
        return "`.into()` of a differentiated float is followed where its type is written, \
                `let y: f64 = x.into();`; elsewhere write `f64::from(x)` (or `x as f64`)"
            .into();
    }
    if OPTION_METHODS.contains(&name) {
        return format!(
            "`.{name}(..)` on an `Option` that holds a differentiated value is not supported: \
             the derivative cannot follow the value through the `Option`; get the value with \
             `.unwrap()` (`x.mean().unwrap()`) or compute it without an `Option`"
        );
    }
    if ELEMENTWISE_CLOSURE_METHODS.contains(&name) {
        return elementwise_message(&format!(".{name}(..)"));
    }
    if matches!(name, "var" | "std" | "var_axis" | "std_axis") {
        let sqrt = if name.starts_with("std") {
            ".sqrt()"
        } else {
            ""
        };
        return format!(
            "`.{name}(..)` of a differentiated array has no derivative rule; write it out: \
             `let m = x.mean().unwrap(); (x.mapv(|v| (v - m).powi(2)).sum() / (n - ddof)){sqrt}` \
             with `n = x.len() as f64` (along an axis, with `mean_axis` and `sum_axis`)"
        );
    }
    if matches!(
        name,
        "first" | "last" | "get" | "first_mut" | "last_mut" | "get_mut"
    ) {
        let call = if name.starts_with("get") {
            format!("{name}(i)")
        } else {
            format!("{name}()")
        };
        return format!(
            "`.{name}(..)` on a differentiated slice is followed where the element is taken \
             out of the `Option` at once: write `*x.{call}.unwrap()` (or \
             `x.{call}.copied().unwrap()`), or index it (`x[0]`, `x[x.len() - 1]`, `x[i]`)"
        );
    }
    if matches!(
        name,
        "iter" | "into_iter" | "iter_mut" | "zip" | "enumerate" | "windows" | "chunks" | "rchunks"
    ) {
        return format!(
            "`.{name}(..)` on a differentiated value is supported in `for` loops and iterator \
             chains that end in a consumer; supported: {}",
            crate::lower::SUPPORTED
        );
    }
    if matches!(
        name,
        "to_shape" | "into_shape" | "reshape" | "into_shape_clone"
    ) {
        return format!(
            "`.{name}(..)` of a differentiated array has no derivative rule; reshape it in \
             row-major order with `.into_shape_with_order(shape).unwrap()`, which is followed: \
             of an owned array in standard layout (`x.clone().into_shape_with_order((2, 3))`), \
             or of its view (`x.view().into_shape_with_order((2, 3))`)"
        );
    }
    if matches!(
        name,
        "rows" | "columns" | "outer_iter" | "axis_iter" | "lanes" | "indexed_iter"
    ) {
        return format!(
            "`.{name}()` of a differentiated array is not followed: loop over the indices \
             (`for i in 0..a.nrows()`) and read each row as `a.slice(s![i, ..])`, or each \
             element as `a[[i, j]]`"
        );
    }
    // ndarray methods whose work a followed form does.
    let instead = match name {
        "slice_axis" | "slice_each_axis" | "slice_axis_inplace" | "slice_collapse" => Some(
            "read the region with `slice`, `a.slice(s![1..3, ..])` for \
             `a.slice_axis(Axis(0), Slice::from(1..3))`",
        ),
        "split_at" => Some(
            "read the two parts with `slice`, `a.slice(s![..k, ..])` and `a.slice(s![k.., ..])` \
             for `a.split_at(Axis(0), k)`",
        ),
        "into_scalar" => Some(
            "the one element of a 0-dimensional array is its `.sum()` (and the `sum_axis(Axis(0))` \
             of a vector is the vector's `.sum()`)",
        ),
        _ => None,
    };
    if let Some(instead) = instead {
        return format!(
            "ndarray's `.{name}(..)` has no derivative rule on a differentiated array; {instead}, \
             which is followed"
        );
    }
    if let Some((place, n_args)) = place {
        return field_method_message(name, &place, n_args);
    }
    // On a field, a method named like a library type's is taken for that type's (the macro
    // does not see the field's type).
    let on_fields = if crate::lower::calls::LIBRARY_METHODS.contains(&name)
        && !matches!(name, "norm" | "outer" | "pow")
    {
        format!(
            "not on a field, whose type the macro does not see (`.{name}(..)` is taken for a \
             library type's there: write `Layer::{name}(&self.layer, x)`), nor on a local that \
             borrows one"
        )
    } else {
        format!(
            "on their fields (`self.layer.{name}(x)`) and on a local that borrows a field (`let \
             l = &self.layer;`)"
        )
    };
    format!(
        "no derivative rule for method `{name}` on a differentiated value; supported methods: \
         {}. A `#[differentiate]` method of your own struct is followed on a parameter or \
         `self` (`model.{name}(x)`), {on_fields}; on another local, call it through its type: \
         `Layer::{name}(&layer, x)`. For anything else (a float method without a rule, a \
         method of a trait of yours on `f64` or a slice), write a function `{name}(x)` with \
         `#[differentiate]` (or with a hand-written `{name}_vjp` and `{name}_jvp`) and call \
         it as `{name}(x)`",
        prim::known_list()
    )
}

/// `self.vel`, `body.pos.v`: the field (of a field ..) of a parameter that `v` reads, as written.
fn field_place(f: &Func, v: Value) -> Option<String> {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return None;
    };
    match &f.inst(i).kind {
        InstKind::FieldRef(base, member) => {
            let base = match f.value(*base).def {
                ValueDef::Param(n) => f.params[n].ident.to_string(),
                _ => field_place(f, *base)?,
            };
            Some(format!("{base}.{member}"))
        }
        InstKind::Ref(u) | InstKind::Deref(u) => field_place(f, *u),
        _ => None,
    }
}

/// A method with no rule called on a field (`self.vel.norm()`): a method of the user's named
/// like one of a library type (ndarray's, a float's) is not taken for the user's there, as
/// the macro does not see the field's type; calling it through the type is followed.
fn field_method_message(name: &str, place: &str, n_args: usize) -> String {
    let args = if n_args == 0 { "" } else { ", .." };
    format!(
        "no derivative rule for method `{name}` on `{place}`, a field: the macro does not see \
         the field's type, and a method named `{name}` is taken for that of a library type (an \
         ndarray array's, a float's), which has no rule. If `{place}` is a struct of yours with a \
         `#[differentiate]` method `{name}`, call it through its type: `Ty::{name}(&{place}{args})` \
         (`Ty` the field's type), which is followed, or put the structs and this function in a \
         module marked `#[differentiate]` (`#[differentiate] mod sim {{ .. }}`), where the macro \
         sees the field's type. Otherwise write a function \
         `{name}(x)` with its own `{name}_vjp` and call it"
    )
}

/// A parameter whose type is a type parameter of the function (`loss: &L` of `fn total<L:
/// Loss>`) or a trait object (`loss: &dyn Loss`, `Box<dyn Loss>`): its methods go through the
/// trait, and the items `#[differentiate]` writes for a trait's impl are not members of it.
/// The parameter's name and how its type is written in the message.
fn through_trait(f: &Func, recv: Value) -> Option<(String, String)> {
    // An element of a container parameter (`l` of `for l in layers` over `layers: &[Box<dyn
    // Layer>]`, `layers[i]`), read by position, and references to it.
    let (mut v, mut elem) = (recv, false);
    let n = loop {
        match f.value(v).def {
            ValueDef::Param(n) => break n,
            ValueDef::Result(i, _) => match &f.inst(i).kind {
                InstKind::Index(base, _) if !elem => {
                    v = *base;
                    elem = true;
                }
                InstKind::Ref(inner) | InstKind::Deref(inner) => v = *inner,
                _ => return None,
            },
            _ => return None,
        }
    };
    let param = &f.params[n];
    let (mut ty, name) = if elem {
        (elem_type(&param.ty)?, format!("{}[i]", param.ident))
    } else {
        (&param.ty, param.ident.to_string())
    };
    loop {
        match ty {
            syn::Type::Reference(r) => ty = &r.elem,
            syn::Type::Paren(p) => ty = &p.elem,
            syn::Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                // `Box<dyn Loss>`, `Rc<dyn Loss>`, `Arc<dyn Loss>`
                if let syn::PathArguments::AngleBracketed(a) = &last.arguments
                    && ["Box", "Rc", "Arc"].contains(&last.ident.to_string().as_str())
                    && let Some(syn::GenericArgument::Type(inner)) = a.args.first()
                    && matches!(inner, syn::Type::TraitObject(_))
                {
                    ty = inner;
                    continue;
                }
                let tp = p.path.get_ident()?.to_string();
                // A float type parameter (`T: Float`): a float method without a rule
                // (`x.abs_sub(y)`), whose error is the list of the methods that have one.
                if crate::types::is_float_param(&tp) {
                    return None;
                }
                return f
                    .type_params
                    .contains(&tp)
                    .then(|| (name.clone(), format!("`{tp}`, a type parameter")));
            }
            syn::Type::TraitObject(t) => {
                let bound = quote::quote!(#t).to_string();
                return Some((name, format!("`{bound}`")));
            }
            _ => return None,
        }
    }
}

/// The element type of `&[E]`, `[E; N]`, `&Vec<E>`.
fn elem_type(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Reference(r) => elem_type(&r.elem),
        syn::Type::Paren(p) => elem_type(&p.elem),
        syn::Type::Slice(s) => Some(&s.elem),
        syn::Type::Array(a) => Some(&a.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) if last.ident == "Vec" => {
                    match a.args.first() {
                        Some(syn::GenericArgument::Type(inner)) => Some(inner),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn through_trait_message(param: &str, bound: &str, name: &str) -> String {
    // An element of a container of trait objects: values of several types.
    let several = if param.ends_with("[i]") {
        format!(
            "; for values of several types in one container, keep a `Vec` of an enum of them (a \
         variant per type, holding its struct) and `match` on each element, calling the \
         method by the struct's path on what the arm binds (`AnyLayer::Scale(s) => \
         Scale::{name}(s, ..)`)"
        )
    } else {
        String::new()
    };
    format!(
        "`{param}.{name}(..)` is called on a differentiated value through a trait: `{param}` \
         has type {bound}, and the items `#[differentiate]` writes for a trait's impl block \
         (`{name}_vjp`, `{name}_jvp`) are not members of the trait, so a call through a \
         generic bound or `dyn` is not followed; give `{param}` the type of the struct that \
         implements the trait, writing one function per type (a `macro_rules!` can write \
         them), or pass what `{name}` computes in as a value{several}"
    )
}

/// `z.mapv(l.act)` of a field `l.act` holding a function pointer, whose function the macro
/// cannot see.
fn mapped_fn_field_message(field: &str) -> String {
    format!(
        "`{field}` is a value (a function pointer held in a field), mapped here over a \
         differentiated array: the macro cannot see the function it holds, so the map has no \
         derivative; keep the choice of function as an enum field marked \
         `#[differentiable(data)]` and `match` on it, mapping a named function or a closure in \
         each arm (`match l.act {{ Act::Tanh => z.mapv(f64::tanh), Act::Relu => z.mapv(|v| \
         v.max(0.0)) }}`)"
    )
}

/// `call` as written in the message: `.mapv(..)`, `Zip::from(..)….map_collect(..)`.
fn elementwise_message(call: &str) -> String {
    format!(
        "`{call}` with a closure over the elements of a differentiated array is not \
         supported; the forms whose closure is differentiated per element are \
         `a.mapv(|v| ..)`, `a.map(|&v| ..)`, `a.mapv_into(..)`, `a.mapv_inplace(..)` on a local \
         and `Zip::from(&a).and(&b).map_collect(|&x, &y| ..)`, and an iterator over its \
         elements is followed (`a.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))`, \
         `a.iter().map(..)`); else write an explicit index loop (`for i in 0..a.len()`), the array operations (`a.exp()`, `&a * &b`), or the \
         `nn` functions (`nn::relu`, `nn::sigmoid`, `nn::softplus`, …)"
    )
}

/// The error for code run as written (a macro, a method with a closure or a turbofish) whose
/// result depends on a differentiated value.
fn run_as_written_message(tokens: &proc_macro2::TokenStream) -> String {
    // The tokens may start with the `let`s that give names their types: read the last
    // expression.
    let method = match syn::parse2::<syn::Block>(quote::quote!({ #tokens })) {
        Ok(b) => match b.stmts.last() {
            Some(syn::Stmt::Expr(syn::Expr::MethodCall(mc), None)) => Some(mc.clone()),
            _ => None,
        },
        _ => None,
    };
    let repeat = matches!(
        syn::parse2::<syn::Block>(quote::quote!({ #tokens })).map(|b| b.stmts.last().cloned()),
        Ok(Some(syn::Stmt::Expr(syn::Expr::Repeat(_), None)))
    );
    if repeat {
        return "`[x; N]` of a differentiated value is written element by element where `N` is \
                an integer literal (`[x; 3]`, up to 64); with a constant or a const generic \
                length, fill the array in a loop: `let mut a = [0.0; N]; for i in 0..N { a[i] \
                = x; }`"
            .into();
    }
    let called = match syn::parse2::<syn::Block>(quote::quote!({ #tokens })) {
        Ok(b) => match b.stmts.last() {
            Some(syn::Stmt::Expr(syn::Expr::Call(c), None)) => Some(c.func.clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(func) = called {
        let callee = quote::quote!(#func).to_string().replace(" . ", ".");
        if callee.contains("__ad_callee") {
            // `(l.act)(l.w * x)`: the field was read first under this name (see
            // `Lowering::call`); the span is the user's call.
            return "a function held in a field (a function pointer or a closure) is called here \
                    on a differentiated value: the macro cannot see the function it holds, so \
                    the call has no derivative; call a named function instead, with \
                    `#[differentiate]` or its own `_vjp` and `_jvp` (to choose among several, \
                    keep an enum in the field, marked `#[differentiable(data)]`, and `match` on \
                    it, calling each by name). Called on data only (`(l.act)(x)` of an input \
                    `x`), it runs as written"
                .into();
        }
        return format!(
            "`{callee}` is a value (a function pointer or a closure passed in), called here on a \
             differentiated value: the macro cannot see the function it holds, so the call has \
             no derivative; call a named function instead, with `#[differentiate]` or its own \
             `_vjp` and `_jvp` (to choose among several, pass an enum and `match` on it, calling \
             each by name). A value called on data only (`lr(k)` of a step number) runs as \
             written"
        );
    }
    let Some(mc) = method else {
        return "this expression reads a differentiated value and its result is used, but it \
                cannot be differentiated (a macro or an expression run as written); use macros \
                only for side effects (`println!`, `assert!`) and write the computation as code"
            .into();
    };
    let name = mc.method.to_string();
    if let Some(m) = adapter_message(&name) {
        return m;
    }
    if ELEMENTWISE_CLOSURE_METHODS.contains(&name.as_str()) && !is_iterator_chain(&mc.receiver) {
        // `z.mapv(l.act)` of a field holding a function pointer (a PyTorch-style activation).
        if let [syn::Expr::Field(fe)] = mc.args.iter().collect::<Vec<_>>()[..] {
            return mapped_fn_field_message(&quote::quote!(#fe).to_string().replace(' ', ""));
        }
        if rooted_in_zip(&mc.receiver) {
            return elementwise_message(&format!("Zip::from(..)….{name}(..)"));
        }
        let mut m = elementwise_message(&format!(".{name}(..)"));
        if name == "map" {
            // `t.map(|i| pts[i])` of a Rust array, whose type the macro may not see.
            m.push_str(
                "; a Rust array mapped by a closure that reads differentiated values (`t.map(|i| \
                 pts[i])` of indices `t: [usize; 3]`, `p.map(|v| v * w)`) is built element by \
                 element, `let tri: [[f64; 2]; 3] = std::array::from_fn(|k| pts[t[k]]);` (also \
                 taken apart at once, `let [a, b, c]: [[f64; 2]; 3] = ..`), which is followed",
            );
        }
        return m;
    }
    if is_iterator_chain(&mc.receiver) && matches!(name.as_str(), "find" | "find_map") {
        return format!(
            "`.{name}(..)` on an iterator over differentiated values is followed where its \
             result is taken apart at once, `match x.iter().find(|v| ..) {{ Some(v) => .., None \
             => .. }}` or `if let Some(v) = x.iter().copied().find(..)`, on `x.iter()` of a \
             variable (with `copied`, `cloned`, `rev`, and a `map` whose closure changes \
             nothing, last before `find`); else find the position and read the \
             element there: `if let Some(i) = x.iter().position(|v| ..) {{ let v = x[i]; .. }}`"
        );
    }
    if let Some(form) = crate::lower::chain::unfollowed_form(&mc) {
        return format!(
            "`.{name}(..)` on an iterator over differentiated values is not followed in this \
             form: {form}"
        );
    }
    if let Some((adapter, instead)) = unfollowed_adapter(&mc.receiver) {
        return format!(
            "the adapter `.{adapter}(..)` in this chain over differentiated values is not \
             followed (the chain ends in `.{name}(..)`); {instead}; supported: {}",
            crate::lower::SUPPORTED
        );
    }
    if is_iterator_chain(&mc.receiver) {
        // The method itself is the adapter or consumer not followed (`.filter_map(..)` whose
        // consumer was lowered, `.nth(k).unwrap()`): what to write instead, where there is a
        // followed form.
        if let Some(instead) = unfollowed_instead(&name) {
            return format!(
                "`.{name}(..)` on an iterator over differentiated values is not followed; \
                 {instead}"
            );
        }
        return format!(
            "`.{name}(..)` on an iterator over differentiated values is not supported; \
             supported: {}",
            crate::lower::SUPPORTED
        );
    }
    // `v.drain(..k).collect::<Vec<f64>>()`: what the change takes out of `v` (the lowering
    // reported the change itself, at the method).
    if let syn::Expr::MethodCall(inner) = &*mc.receiver
        && crate::lower::CHANGING.contains(&inner.method.to_string().as_str())
        && let syn::Expr::Path(p) = &*inner.receiver
        && let Some(root) = p.path.get_ident()
    {
        let m = &inner.method;
        let advice = prim::places::advice(&m.to_string()).unwrap_or("read the elements by index");
        return format!(
            "`.{name}(..)` reads what `{root}.{m}(..)` takes out of `{root}`, which holds \
             differentiated values here: the derivative does not follow `{m}`; instead of \
             `{m}`, {advice}"
        );
    }
    // `text.chars().map(|c| w[idx(c)]).sum::<f64>()`: a chain over a string's items.
    let mut source = &*mc.receiver;
    let mut first = None;
    while let syn::Expr::MethodCall(inner) = source {
        first = Some(inner.method.to_string());
        source = &inner.receiver;
    }
    if let Some(m) = first.filter(|m| crate::lower::chain::STRING_ITEMS.contains(&m.as_str())) {
        let items = if m == "chars" { "char" } else { "_" };
        let text = match source {
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                p.path.segments[0].ident.to_string()
            }
            _ => "text".to_string(),
        };
        return format!(
            "`.{name}(..)` of a chain over the items of a string (`.{m}()`) is not followed: \
             iterator chains here start from slices, `Vec`s, arrays and ranges; collect the \
             items first (`let items: Vec<{items}> = {text}.{m}().collect();`) and start the \
             chain from them (`items.iter().map(..)`), or loop over the string (`for c in \
             {text}.{m}() {{ .. }}`, followed)"
        );
    }
    if mc.turbofish.is_some() {
        return format!(
            "`.{name}::<..>(..)` on a differentiated value cannot be differentiated; annotate \
             the variable instead (`let s: f64 = ..`) and call a method with a derivative rule"
        );
    }
    let folds = if name == "fold_axis" {
        " (the extrema along an axis are followed: `x.fold_axis(axis, init, |&a, &b| a.max(b))`, \
         `min`; and sums, `|acc, &v| acc + f(v)`)"
    } else {
        ""
    };
    format!(
        "`.{name}(..)` with a closure reads a differentiated value, and its result cannot be \
         differentiated; write the computation as a loop, or call a function with its own \
         `_vjp`{folds}"
    )
}

/// Whether `pat` is a slice pattern (`[a, 0.0]`, `&[a, ..]`), with a guard or not.
fn slice_pattern(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Slice(_) => true,
        syn::Pat::Reference(r) => slice_pattern(&r.pat),
        syn::Pat::Guard(g) => slice_pattern(&g.pat),
        syn::Pat::Paren(p) => slice_pattern(&p.pat),
        _ => false,
    }
}

/// Whether `pat` is a slice pattern of the form the lowering follows: names, `_`, `&name`,
/// `..` and `name @ ..`.
fn followed_slice(pat: &syn::Pat) -> bool {
    let name = |p: &syn::Pat| matches!(p, syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none());
    match pat {
        syn::Pat::Slice(ps) => ps.elems.iter().all(|e| match e {
            syn::Pat::Wild(_) | syn::Pat::Rest(_) => true,
            syn::Pat::Reference(r) => name(&r.pat),
            syn::Pat::Ident(pi) => {
                pi.by_ref.is_none()
                    && pi
                        .subpat
                        .as_ref()
                        .is_none_or(|s| matches!(&*s.1, syn::Pat::Rest(_)))
            }
            _ => false,
        }),
        syn::Pat::Reference(r) => followed_slice(&r.pat),
        syn::Pat::Guard(g) => followed_slice(&g.pat),
        syn::Pat::Paren(p) => followed_slice(&p.pat),
        _ => false,
    }
}

/// Whether `pat` names an enum's variant through its type (`Act::Soft(b)`, `Self::Grow { rate
/// }`), also inside another pattern (`Some(Act::Leaky(a))`, `(Act::Soft(b), c)`): the value it
/// takes apart holds an enum, which a derived struct's field holds only as data. A pattern of a
/// tuple struct or a struct alone (`V2(x, y)`, `geo::P { x, y }`) takes differentiable values
/// apart, whose derivative binding them as data would lose.
fn names_variant(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::TupleStruct(ts) => {
            crate::lower::variant_path(&ts.path) || ts.elems.iter().any(names_variant)
        }
        syn::Pat::Struct(ps) => {
            crate::lower::variant_path(&ps.path) || ps.fields.iter().any(|f| names_variant(&f.pat))
        }
        syn::Pat::Path(p) => crate::lower::variant_path(&p.path),
        syn::Pat::Tuple(t) => t.elems.iter().any(names_variant),
        syn::Pat::Or(po) => po.cases.iter().all(names_variant),
        syn::Pat::Reference(r) => names_variant(&r.pat),
        syn::Pat::Guard(g) => names_variant(&g.pat),
        syn::Pat::Paren(p) => names_variant(&p.pat),
        _ => false,
    }
}

/// Whether `v` is a named field of a parameter, or of a named field of one (`p.scale`,
/// `self.cfg.cap`), read directly or through borrows and copies.
fn param_field(f: &Func, v: Value) -> bool {
    fn base(f: &Func, v: Value, fields: usize) -> bool {
        match f.value(v).def {
            ValueDef::Param(_) => fields > 0,
            ValueDef::Result(i, 0) => match &f.inst(i).kind {
                InstKind::FieldRef(x, _) => base(f, *x, fields + 1),
                InstKind::Deref(x) | InstKind::Ref(x) => base(f, *x, fields),
                InstKind::Method { name, recv, .. } if name == "clone" => base(f, *recv, fields),
                _ => false,
            },
            _ => false,
        }
    }
    base(f, v, 0)
}

/// Whether `v` is read out of a field of a struct, directly or through borrows, copies and
/// indexing (`self.act`, `&l.kind`, `self.modes[i]`, `o.1` of a tuple struct).
fn read_from_field(f: &Func, v: Value) -> bool {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return false;
    };
    match &f.inst(i).kind {
        InstKind::FieldRef(..) | InstKind::Field(..) => true,
        InstKind::Deref(x) | InstKind::Ref(x) | InstKind::Index(x, _) => read_from_field(f, *x),
        InstKind::Method { name, recv, .. } if name == "clone" => read_from_field(f, *recv),
        _ => false,
    }
}

/// The error for a pattern that takes a payload out of a differentiated value of an enum
/// (`Shape::Circle(r) => ..`): an enum has no gradient type, so it is data, to be left out with
/// `wrt`; `None` for patterns that are not a variant's (`Some(v)`, tuples, slices).
fn enum_payload_message(pat: &syn::Pat, f: &Func, scrutinee: Value) -> Option<String> {
    let (path, shown) = match pat {
        syn::Pat::TupleStruct(ts) => (&ts.path, "(..)"),
        syn::Pat::Struct(ps) => (&ps.path, " { .. }"),
        syn::Pat::Or(po) => return enum_payload_message(po.cases.first()?, f, scrutinee),
        syn::Pat::Reference(r) => return enum_payload_message(&r.pat, f, scrutinee),
        syn::Pat::Guard(g) => return enum_payload_message(&g.pat, f, scrutinee),
        _ => return None,
    };
    let last = path.segments.last()?.ident.to_string();
    if matches!(last.as_str(), "Some" | "Ok" | "Err") {
        return None;
    }
    let variant = path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    // `V2(x, y)` of a struct's field (not a variant named through its type): a struct taken
    // apart in a pattern.
    if !crate::lower::variant_path(path) && !matches!(f.value(scrutinee).def, ValueDef::Param(_)) {
        return Some(format!(
            "`{variant}{shown}` takes a differentiated value apart in a pattern, which the \
             derivative does not follow: read a struct's fields instead (`let x = v.0;`, \
             `v.x`); an enum's variant is matched where it is named through its type \
             (`Act::Soft(b)`), on a field marked `#[differentiable(data)]`"
        ));
    }
    let param = match f.value(scrutinee).def {
        ValueDef::Param(n) => Some(f.params[n].ident.to_string()),
        _ => None,
    };
    let others: Vec<String> = f
        .params
        .iter()
        .filter(|p| p.active && Some(p.ident.to_string()) != param)
        .map(|p| p.ident.to_string())
        .collect();
    let leave_out = match (&param, others.is_empty()) {
        (Some(p), false) => format!(
            "if `{p}` is data, leave it out of the differentiated parameters: \
             `#[differentiate(wrt({}))]`",
            others.join(", ")
        ),
        (Some(p), true) => format!(
            "if `{p}` is data, leave it out of the differentiated parameters with \
             `#[differentiate(wrt(..))]` naming the float parameters"
        ),
        (None, _) => "build the enum from data only, not from differentiated values".to_string(),
    };
    Some(format!(
        "`{variant}{shown}` takes a payload out of a differentiated value, and an enum cannot be \
         differentiated (`#[derive(Differentiable)]` is for structs); {leave_out}; to \
         differentiate with respect to a payload, pass it as a float parameter of its own or \
         in a `#[derive(Differentiable)]` struct"
    ))
}

/// Whether `e` is a method-call chain rooted in ndarray's `Zip::from(..)`.
fn rooted_in_zip(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::MethodCall(mc) => rooted_in_zip(&mc.receiver),
        syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p)
            if p.path.segments.iter().any(|s| s.ident == "Zip")),
        syn::Expr::Paren(p) => rooted_in_zip(&p.expr),
        _ => false,
    }
}

/// Whether `e` is a method-call chain rooted in an iterator (`x.iter()`, a range).
/// The first adapter of an iterator chain that the lowering does not follow (`scan`,
/// `flat_map`, …), with what to write instead: the chain's consumer is not what is missing.
fn unfollowed_adapter(e: &syn::Expr) -> Option<(String, &'static str)> {
    let syn::Expr::MethodCall(mc) = e else {
        return match e {
            syn::Expr::Paren(p) => unfollowed_adapter(&p.expr),
            _ => None,
        };
    };
    if !is_iterator_chain(&mc.receiver) {
        return None;
    }
    if let Some(inner) = unfollowed_adapter(&mc.receiver) {
        return Some(inner);
    }
    let name = mc.method.to_string();
    if let Some(form) = crate::lower::chain::unfollowed_form(mc) {
        return Some((name, form));
    }
    if crate::lower::ADAPTERS.contains(&name.as_str()) {
        return None;
    }
    let instead = unfollowed_instead(&name).unwrap_or("write the computation as a `for` loop");
    Some((name, instead))
}

/// What to write instead of an iterator method the derivative does not follow, where there is
/// a form that it does.
fn unfollowed_instead(name: &str) -> Option<&'static str> {
    Some(match name {
        "map_while" => {
            "write `take_while` then `map`, or a `for` loop with `break` on the condition"
        }
        "filter_map" => "write `filter` then `map`, or a `for` loop with `if`",
        "unzip" => {
            "bind it with a `let` of its own, `let (a, b): (Vec<f64>, Vec<f64>) = chain.unzip();`, \
             which is followed, and use `a` and `b` after it"
        }
        "try_fold" | "try_for_each" => {
            "write a `for` loop that carries the accumulator and leaves it with `break` (or \
             `return`) where the closure would give `None` or `Err`"
        }
        "nth" => {
            "read the element by index, `x[k]` (with the chain's `map` applied to it: `f(x[k])`), \
             or give the `Option` a default where it is made, `x.iter().nth(k).copied()\
             .unwrap_or(d)` (`x.iter().map(..).nth(k).unwrap_or(d)`), which is followed"
        }
        _ => return None,
    })
}

fn is_iterator_chain(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::MethodCall(mc) => {
            matches!(
                mc.method.to_string().as_str(),
                "iter"
                    | "into_iter"
                    | "windows"
                    | "chunks"
                    | "chunks_exact"
                    | "rchunks"
                    | "rchunks_exact"
            ) || is_iterator_chain(&mc.receiver)
        }
        syn::Expr::Range(_) => true,
        syn::Expr::Paren(p) => is_iterator_chain(&p.expr),
        _ => false,
    }
}

/// Whether `v` is a tuple built with an integer (or another value without a derivative) among
/// its items: one beside differentiated values has no gradient type.
fn tuple_with_data(f: &Func, v: Value) -> bool {
    matches!(f.value(v).def, ValueDef::Result(t, _)
        if matches!(&f.inst(t).kind, InstKind::Tuple(items)
            if items.iter().any(|&x| f.value(x).kind == Kind::Discrete)))
}
