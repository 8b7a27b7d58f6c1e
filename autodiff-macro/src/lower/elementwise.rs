//! Closures over the elements of ndarray arrays: `a.mapv(|v| ..)`, `a.map(|&v| ..)`,
//! `a.mapv_into(..)`, `a.mapv_inplace(..)` on a local, `a.mapv(f64::tanh)`, `a.mapv(sigmoid)`,
//! `Zip::from(&a).and(&b).map_collect(|&x, &y| ..)`.
//!
//! The closure is lowered as a function of its own, a *nested function*: its parameters are the
//! elements, then the variables of the enclosing scope it reads (its captures, found by name).
//! The map becomes a call of it (see [`crate::elementwise`]), whose arguments are the arrays and
//! the captured values. A closure the lowering cannot take (one that changes what it captures,
//! or uses a construct outside the supported subset) runs as written, as before: its errors are
//! kept and reported only where a differentiated value reaches it.

use std::collections::BTreeSet;
use std::rc::Rc;

use super::*;
use crate::elementwise::{ElemMap, How, Written};

/// A closure as the nested function takes it: its expression and the scope it sees.
struct Source {
    cl: syn::ExprClosure,
    /// The bindings of the enclosing function it sees: those below this slot.
    scope: usize,
    /// For a `move` closure bound to a name, the values it captured where it was defined.
    captured: Option<Vec<Option<Value>>>,
    /// The function argument as written (a closure, or the path of a function).
    written: TokenStream,
}

/// A nested function lowered, with the arguments of its call other than the arrays.
struct Nested {
    body: Func,
    /// The enclosing function's values it captures, one per parameter after the elements.
    captures: Vec<Value>,
    written: Option<(TokenStream, Vec<crate::elementwise::Capture>)>,
}

impl Lowering {
    /// `e` is a Rust array: a literal (`[a, b]`, `[x; 3]`) or a variable holding one (a
    /// parameter `[f64; 3]`, a local built from a literal or declared with an array type), a row
    /// of one of rows (`m[0]`, the `r` of `let r = m[0];`, a row of a parameter `&[[f64; 3]]`),
    /// or the `map` of one.
    fn rust_array(&self, e: &Expr) -> bool {
        let local = |p: &syn::ExprPath| {
            p.path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .and_then(|s| self.env[s].value)
        };
        // A parameter holding fixed-size arrays (`pos: &[[f64; 3]]`).
        let rows = |v: Value| {
            matches!(self.f.value(v).def, ValueDef::Param(n)
                if super::calls::elem_type(&self.f.params[n].ty)
                    .is_some_and(|t| matches!(t, syn::Type::Array(_))))
        };
        match chain::strip(e) {
            Expr::Array(_) | Expr::Repeat(_) => true,
            Expr::Path(p) => local(p).is_some_and(|v| {
                self.f.lent_array(v).is_some()
                    || matches!(self.f.value(v).def, ValueDef::Result(i, 0)
                        if matches!(self.f.inst(i).kind, InstKind::Index(base, _)
                            if self.f.lent_array(base).is_some() || rows(base)))
            }),
            Expr::Index(ix) => {
                self.rust_array(&ix.expr)
                    || matches!(chain::strip(&ix.expr), Expr::Path(p) if local(p).is_some_and(rows))
            }
            Expr::MethodCall(mc) => mc.method == "map" && self.rust_array(&mc.receiver),
            _ => false,
        }
    }

    /// `a.map(|v| e)` (`a.map(f)` of a function's path) of a Rust array of floats, as the copy
    /// of `a` written element by element, `for i in 0..a.len() { b[i] = { let v = a[i]; e };
    /// }`: the new elements are of the old ones' type (rustc's error at the closure's value
    /// where they are not). `None` where the array is data, or the closure could leave early.
    fn rust_array_map(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Value> {
        let [f] = &mc.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let span = mc.method.span();
        let elem = quote::quote_spanned!(span=> __ad_map_src[__ad_map_i]);
        let value: Expr = match f {
            Expr::Closure(cl) if cl.inputs.len() == 1 && cl.asyncness.is_none() => {
                let mut leaving = super::loops::Leaving::new(true);
                syn::visit::Visit::visit_expr(&mut leaving, &cl.body);
                if leaving.first.is_some() {
                    return None;
                }
                let (pat, body) = (&cl.inputs[0], &cl.body);
                syn::parse_quote_spanned!(span=> { let #pat = #elem; #body })
            }
            Expr::Path(p) => syn::parse_quote_spanned!(span=> #p(#elem)),
            _ => return None,
        };
        let src = self.expr(b, &mc.receiver, true)?;
        if self.kind(src) == Kind::Discrete {
            return None;
        }
        self.bind("__ad_map_src".to_string(), Some(src));
        let map: Expr = syn::parse_quote_spanned!(span=> {
            let mut __ad_mapped = __ad_map_src;
            for __ad_map_i in 0..__ad_map_src.len() {
                __ad_mapped[__ad_map_i] = #value;
            }
            __ad_mapped
        });
        self.expr(b, &map, true)
    }

    /// An elementwise map, lowered as a call of its closure's nested function: `None` when
    /// `mc` is not one (or not one that is followed: it runs as written then).
    pub(super) fn elementwise(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
    ) -> Option<Option<Value>> {
        let name = mc.method.to_string();
        if let Some(e) = zip_fold(mc) {
            // `Zip::fold` visits the elements in memory order where the producers share a
            // layout (column-major for `.f()` arrays or transposed views): row-major, as
            // followed, only for a fold whose result does not depend on the order.
            if !super::calls::order_free_fold(&mc.args[1]) {
                self.err_at(
                    &mc.method,
                    "`Zip::from(a).and(b).fold(init, |acc, &x, &y| ..)` visits the elements in \
                     an order ndarray does not promise (memory order: column-major for `.f()` \
                     arrays or transposed views), so only a fold whose result does not depend \
                     on the order is followed: `acc + ..`, `acc * ..`, `acc - ..`, \
                     `acc.max(..)`, `acc.min(..)`, with `..` not reading `acc`; for another fold \
                     write `a.iter().zip(b.iter()).fold(init, |acc, (&x, &y)| ..)`, which visits \
                     the elements in row-major order",
                );
                return Some(None);
            }
            return Some(self.expr(b, &e, true));
        }
        if mc.turbofish.is_some() || mc.args.len() != 1 {
            return None;
        }
        if let Some(e) = zip_for_each_into(mc) {
            return Some(self.expr(b, &e, true));
        }
        // `x.mapv(|v| (v + p.b).tanh())`: what the closure reads of the enclosing function
        // through a field or an element (`p.b`, `self.temp`, `w[0]`, `t.0`) is read once before
        // the map, and the closure captures that float instead of the whole struct, array or
        // tuple (which it cannot: it captures floats). In the closure of an elementwise map,
        // so are the shape queries and reductions of such values (`x.len()`, `e.sum()`,
        // `w.dot(&w)`, `w.mean().unwrap()`: `e.mapv(|v| v / e.sum())`), which do not depend on
        // the element either.
        let queries = matches!(
            name.as_str(),
            "mapv" | "mapv_into" | "mapv_inplace" | "map_collect"
        ) || name == "map"
            && chain::parse_chain(&mc.receiver, false).is_none()
            && !self.rust_array(&mc.receiver);
        if let Expr::Closure(cl) = &mc.args[0]
            && let Some((cl, reads)) = self.invariant_reads(cl, queries)
        {
            for (name, e) in reads {
                let v = self.expr(b, &e, true)?;
                self.bind(name.to_string(), Some(v));
            }
            let mut mc = mc.clone();
            mc.args[0] = Expr::Closure(cl);
            return self.elementwise(b, &mc);
        }
        let fun = &mc.args[0];
        // The arrays, and the references the closure gets their elements with.
        let (producers, refs, how): (Vec<&Expr>, u8, How) = match name.as_str() {
            "mapv" | "mapv_into" | "mapv_inplace" => (
                vec![&*mc.receiver],
                0,
                How::Method(quote::format_ident!("mapv")),
            ),
            "map" => (vec![&*mc.receiver], 1, How::Method(mc.method.clone())),
            "map_collect" => {
                let (zip, ps) = zip_producers(&mc.receiver)?;
                (ps, 1, How::Zip(zip))
            }
            _ => return None,
        };
        if name != "map_collect" && chain::parse_chain(&mc.receiver, false).is_some() {
            return None;
        }
        // `a.map(f)` of a Rust array of floats (`[f64; 3]`, not ndarray's): the array written
        // element by element, as `from_fn` is.
        if name == "map" && self.rust_array(&mc.receiver) {
            if let Some(v) = self.rust_array_map(b, mc) {
                return Some(Some(v));
            }
        }
        // Of an array of data (`[usize; 2]`), or with a closure that leaves early: run as
        // written, an error where a differentiated value reaches it.
        if name == "map" && self.rust_array(&mc.receiver) {
            let v = self.method_as_written(b, mc);
            if let Some(ValueDef::Result(i, _)) = v.map(|v| self.f.value(v).def) {
                let msg = "`.map(..)` of a fixed-size array is followed where the array holds \
                           floats and the closure is written at the call (or names a function), \
                           not here, where it reads differentiated values; build the new array \
                           element by element, `let tri: [[f64; 2]; 3] = \
                           std::array::from_fn(|k| pts[t[k]]);` (also taken apart at once, `let \
                           [a, b, c]: [[f64; 2]; 3] = ..`), or collect an iterator chain into a \
                           `Vec`, `t.iter().map(|&i| pts[i]).collect::<Vec<_>>()`";
                self.f
                    .map_errors
                    .push((i, vec![syn::Error::new(mc.method.span(), msg)]));
            }
            return Some(v);
        }
        // `c.mapv_inplace(f)` on a `&mut` parameter `c` is the mapped copy assigned to what
        // `c` borrows, `c.assign(&c.mapv(f))`.
        if name == "mapv_inplace" && self.deref_mut_param(&mc.receiver).is_some() {
            let (c, args) = (&mc.receiver, &mc.args);
            let e: Expr = syn::parse_quote_spanned!(super::span::method_span(mc)=> {
                let __ad_mapped = #c.mapv(#args);
                #c.assign(&__ad_mapped);
            });
            return Some(self.expr(b, &e, false));
        }
        // `a.row_mut(i).mapv_inplace(f)` (`column_mut(j)`, `slice_mut(info)`) on a variable `a`
        // is the region's mapped copy assigned to it, `a.row_mut(i).assign(&a.slice(s![i,
        // ..]).mapv(f))`, which is followed.
        if name == "mapv_inplace"
            && let Some((a, info)) = super::region::region(&mc.receiver, &self.krate)
        {
            let (recv, args) = (&mc.receiver, &mc.args);
            let e: Expr = syn::parse_quote_spanned!(super::span::method_span(mc)=> {
                let __ad_mapped = #a.slice(#info).mapv(#args);
                #recv.assign(&__ad_mapped);
            });
            return Some(self.expr(b, &e, false));
        }
        // `a.mapv_inplace(f)` on a local `a` is `a = a.mapv(f)`.
        let inplace_target = if name == "mapv_inplace" {
            let Expr::Path(p) = &*mc.receiver else {
                return None;
            };
            let slot = self.lookup(&p.path.get_ident()?.to_string())?;
            let v = self.env[slot].value?;
            if !self.env[slot].mutable || self.f.borrowed_mut_versions().contains(&v) {
                return None;
            }
            Some(&*mc.receiver)
        } else {
            None
        };
        let src = self.elem_source(fun, producers.len())?;
        let span = mc.method.span();
        // Arrays of data zipped with arrays of floats (`Zip::from(&h).and(&mask)`): their
        // elements are data in the closure, read beside the others.
        let data: Vec<bool> = producers.iter().map(|p| self.data_array(p)).collect();
        if data.iter().all(|&d| d) {
            return None;
        }
        let nested = match self.nested(&src, &data, refs, span) {
            Ok(n) => n,
            Err(errors) => {
                // Run as written, as a closure the lowering does not follow; its errors are
                // reported if a differentiated value reaches it.
                let v = self.method_as_written(b, mc);
                if let Some(ValueDef::Result(i, _)) = v.map(|v| self.f.value(v).def) {
                    self.f.map_errors.push((i, errors));
                }
                return Some(v);
            }
        };
        let mut args = Vec::new();
        for p in &producers {
            args.push(self.place_expr(b, p)?);
        }
        args.extend(nested.captures.iter().copied());
        let result = match &nested.body.block(nested.body.body()).term {
            Term::Return(v) => nested.body.value(*v).kind,
            _ => Kind::Unknown,
        };
        let kind = if result == Kind::Discrete {
            Kind::Discrete
        } else {
            Kind::Float
        };
        let id = quote::format_ident!("__ad_map{}", self.f.maps.len());
        self.f.maps.push(Rc::new(ElemMap {
            name: id.clone(),
            body: nested.body,
            arrays: producers.len(),
            data,
            written: nested
                .written
                .map(|(fun, captures)| Written { how, fun, captures }),
            span,
        }));
        let v = self.inst1(
            b,
            InstKind::Call {
                path: syn::Path::from(id),
                args,
            },
            kind,
            span,
        );
        if let Some(target) = inplace_target {
            self.assign(target, Some(v));
            return Some(None);
        }
        Some(Some(v))
    }

    /// The closure a map applies: written there, a local bound to one, or a function's path
    /// (`f64::tanh`, `sigmoid`), which is the closure `|x| path(x)`.
    fn elem_source(&self, fun: &Expr, arity: usize) -> Option<Source> {
        let mut e = fun;
        while let Expr::Paren(p) = e {
            e = &p.expr;
        }
        match e {
            Expr::Closure(cl) => Some(Source {
                cl: cl.clone(),
                scope: self.env.len(),
                captured: None,
                written: cl.to_token_stream(),
            }),
            Expr::Path(p) => {
                if let Some(def) = self.closure_named(e) {
                    return Some(Source {
                        cl: def.expr.clone(),
                        scope: def.scope,
                        captured: def.captured.clone(),
                        written: def.expr.to_token_stream(),
                    });
                }
                // `<f64>::exp` (what code generic over a type written by a macro names) is
                // `f64::exp`; `<T as Trait>::f` is not followed.
                if p.qself.as_ref().is_some_and(|q| q.position > 0) {
                    return None;
                }
                if let Some(id) = p.path.get_ident() {
                    // A variable (a function pointer) is not a function the macro can see.
                    if self.lookup(&id.to_string()).is_some() {
                        return None;
                    }
                }
                let xs: Vec<syn::Ident> = (0..arity)
                    .map(|k| {
                        if arity == 1 {
                            quote::format_ident!("x")
                        } else {
                            quote::format_ident!("x{}", k)
                        }
                    })
                    .collect();
                let path = &p;
                let cl: syn::ExprClosure = syn::parse_quote_spanned! {fun.span()=>
                    |#(#xs),*| #path(#(#xs),*)
                };
                Some(Source {
                    cl,
                    scope: self.env.len(),
                    captured: None,
                    written: p.to_token_stream(),
                })
            }
            _ => None,
        }
    }

    /// `e` names an array of data (`mask` of `mask: &Array1<bool>`, `&labels`, `labels.view()`).
    fn data_array(&self, e: &Expr) -> bool {
        let mut e = chain::strip(e);
        loop {
            match e {
                Expr::Reference(r) => e = chain::strip(&r.expr),
                Expr::MethodCall(mc) if mc.method == "view" && mc.args.is_empty() => {
                    e = chain::strip(&mc.receiver)
                }
                _ => break,
            }
        }
        let Expr::Path(p) = e else { return false };
        p.path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
            .and_then(|s| self.env[s].value)
            .is_some_and(|v| self.kind(v) == Kind::Discrete)
    }

    /// The closure lowered as a function of one element of each array (given with `refs`
    /// references; those of arrays of data where `data`) and of what it captures, or the errors
    /// that prevent it.
    fn nested(
        &self,
        src: &Source,
        data: &[bool],
        refs: u8,
        span: Span,
    ) -> Result<Nested, Vec<syn::Error>> {
        let arity = data.len();
        let cl = &src.cl;
        let what = "a closure over the elements of an array";
        if cl.inputs.len() != arity {
            return Err(vec![syn::Error::new_spanned(
                &cl.inputs,
                format!(
                    "this closure takes {} argument(s), but the map gives it {arity} (one element \
                     of each array)",
                    cl.inputs.len()
                ),
            )]);
        }
        if cl.asyncness.is_some() {
            return Err(vec![syn::Error::new_spanned(
                cl,
                format!("`async` closures are not supported as {what}"),
            )]);
        }
        if Jumps::in_expr(&cl.body).returns {
            return Err(vec![syn::Error::new_spanned(
                &cl.body,
                "`return` inside a closure is not supported in a differentiated function; make \
                 the closure's value its last expression (`if c { a } else { b }`)",
            )]);
        }
        // The bindings of the enclosing function the closure may read, in scope order, and
        // those of the local closures it calls.
        let mut needed: BTreeSet<usize> = BTreeSet::new();
        let mut scans: Vec<(syn::ExprClosure, usize)> = vec![(cl.clone(), src.scope)];
        let mut calls_closures = false;
        while let Some((c, scope)) = scans.pop() {
            let mut own = Vec::new();
            for p in &c.inputs {
                syntax::collect_pat_bindings(p, &mut own);
            }
            let mut ids = Vec::new();
            written::collect_idents(c.body.to_token_stream(), &mut ids);
            for id in ids {
                let s = id.to_string();
                if own.iter().any(|o| *o == s) {
                    continue;
                }
                let Some(slot) = self.env[..scope.min(self.env.len())]
                    .iter()
                    .rposition(|b| b.name == s)
                else {
                    continue;
                };
                if needed.insert(slot) {
                    if let Some(def) = &self.env[slot].closure {
                        calls_closures = true;
                        scans.push((def.expr.clone(), def.scope));
                    }
                }
            }
        }
        let mut lw = Lowering::empty(None);
        lw.krate = self.krate.clone();
        let body = lw.f.body();
        // The elements first.
        let mut elems = Vec::new();
        for (k, pat) in cl.inputs.iter().enumerate() {
            let ident = pat_ident(pat).unwrap_or_else(|| quote::format_ident!("__ad_x{}", k));
            let kind = if data[k] { Kind::Discrete } else { Kind::Float };
            let v =
                lw.f.new_value(Some(ident.to_string()), ValueDef::Param(k), kind);
            lw.f.params.push(Param {
                ident,
                ty: syn::parse_quote!(_),
                active: false,
                value: v,
            });
            elems.push(v);
        }
        // Then the captures: the nested environment holds the needed bindings in their order,
        // each value a parameter (one per value of the enclosing function).
        let order: Vec<usize> = needed.into_iter().collect();
        let mut captures: Vec<Value> = Vec::new();
        let mut param_of = |lw: &mut Lowering, outer: Value, name: &str| -> Value {
            if let Some(k) = captures.iter().position(|&c| c == outer) {
                return lw.f.params[arity + k].value;
            }
            let n = lw.f.params.len();
            let v = lw.f.new_value(
                Some(name.to_string()),
                ValueDef::Param(n),
                self.f.value(outer).kind,
            );
            lw.f.params.push(Param {
                ident: syn::Ident::new(name, Span::call_site()),
                ty: syn::parse_quote!(_),
                active: false,
                value: v,
            });
            captures.push(outer);
            v
        };
        let mut errors = Vec::new();
        let mut written_captures = Vec::new();
        for (pos, &slot) in order.iter().enumerate() {
            let outer = &self.env[slot];
            if outer.window.is_some() || outer.cell.is_some() {
                let name = &outer.name;
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "`{name}` refers to a part of a container, which {what} cannot read; \
                         read the value first (`let x = {name}[0];` or `let x = *{name};`) and \
                         use `x` in the closure"
                    ),
                ));
                continue;
            }
            let mut binding = Binding::new(outer.name.clone(), None, outer.mutable);
            binding.element = outer.element;
            binding.refs = outer.refs;
            if let Some(def) = &outer.closure {
                // A local closure the closure calls, seeing the nested bindings below its scope.
                let scope = order.iter().take_while(|&&s| s < def.scope).count();
                let captured = def.captured.as_ref().map(|vals| {
                    order[..scope]
                        .iter()
                        .map(|&s| {
                            vals.get(s)
                                .copied()
                                .flatten()
                                .map(|v| param_of(&mut lw, v, &self.env[s].name))
                        })
                        .collect()
                });
                binding.closure = Some(Rc::new(ClosureDef {
                    expr: def.expr.clone(),
                    scope,
                    captured,
                }));
            } else {
                let value = match &src.captured {
                    Some(vals) => vals.get(slot).copied().flatten(),
                    None => outer.value,
                };
                if let Some(v) = value {
                    let p = param_of(&mut lw, v, &outer.name);
                    binding.value = Some(p);
                    let k =
                        lw.f.params
                            .iter()
                            .position(|q| q.value == p)
                            .unwrap_or(arity);
                    written_captures.push((
                        syn::Ident::new(&outer.name, Span::call_site()),
                        k - arity,
                        outer.refs,
                    ));
                }
            }
            let _ = pos;
            lw.env.push(binding);
        }
        let n_bound = lw.env.len();
        let before: Vec<Option<Value>> = lw.env.iter().map(|b| b.value).collect();
        for (k, pat) in cl.inputs.iter().enumerate() {
            lw.bind_item(body, pat, Item::Val { v: elems[k], refs }, span);
        }
        let stmts = match &*cl.body {
            Expr::Block(bl) if bl.label.is_none() => bl.block.stmts.clone(),
            e => vec![Stmt::Expr(e.clone(), None)],
        };
        lw.seq(body, &stmts, &[], &Finish::Return, cl.body.span());
        errors.extend(std::mem::take(&mut lw.errors));
        for (k, b) in lw.env.iter().take(n_bound).enumerate() {
            if b.value != before[k] {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "{what} is called once per element, and this one changes `{}`, which \
                         cannot be differentiated; compute the value from the elements instead \
                         (`a.sum()`, `a.len()`)",
                        b.name
                    ),
                ));
            }
        }
        if errors.is_empty() {
            if let Err(msg) = crate::ir::verify::verify(&lw.f) {
                errors.push(syn::Error::new(
                    span,
                    format!("autodiff internal error, please report it: invalid SSA: {msg}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        crate::structurize::structurize(&mut lw.f);
        crate::simplify::remove_dead(&mut lw.f);
        Ok(Nested {
            body: lw.f,
            captures,
            written: (!calls_closures).then(|| (src.written.clone(), written_captures)),
        })
    }
}

/// The name a closure parameter's pattern binds: `v`, `&v`, `v: f64`.
impl Lowering {
    /// The closure with each field or element read that names only bindings of the enclosing
    /// function (`p.b`, `self.temp`, `w[0]`, `t.0`, not `w[i]` of its own `i`) replaced by a
    /// new name, and those reads; `None` where there are none. With `queries`, so is each
    /// shape query or reduction of such bindings (`x.len()`, `w.sum()`, `w.dot(&w)`,
    /// `w.mean().unwrap()`, `x.shape()[0]`), methods that only read their receiver.
    fn invariant_reads(
        &self,
        cl: &syn::ExprClosure,
        queries: bool,
    ) -> Option<(syn::ExprClosure, Vec<(syn::Ident, Expr)>)> {
        use syn::visit::Visit;
        use syn::visit_mut::VisitMut;
        struct Hoist<'a> {
            lw: &'a Lowering,
            own: Vec<String>,
            reads: Vec<(syn::Ident, Expr)>,
            base: usize,
            queries: bool,
        }
        /// A read of bindings through fields, elements and methods that only read their
        /// receiver and arguments: a value computed the same way for every element.
        fn query(e: &Expr) -> bool {
            const READS: &[&str] = &[
                "len", "is_empty", "nrows", "ncols", "ndim", "shape", "dim", "sum", "mean",
                "product", "dot", "var", "std", "unwrap", "expect",
            ];
            match chain::strip(e) {
                Expr::Path(_) | Expr::Lit(_) => true,
                Expr::Field(f) => query(&f.base),
                Expr::Index(ix) => query(&ix.expr) && query(&ix.index),
                Expr::Reference(r) => r.mutability.is_none() && query(&r.expr),
                Expr::MethodCall(mc) => {
                    mc.turbofish.is_none()
                        && READS.contains(&mc.method.to_string().as_str())
                        && query(&mc.receiver)
                        && mc.args.iter().all(query)
                }
                _ => false,
            }
        }
        impl Hoist<'_> {
            fn invariant(&self, e: &Expr) -> bool {
                let mut ids = Vec::new();
                written::collect_idents(e.to_token_stream(), &mut ids);
                let names: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
                !names.iter().any(|n| self.own.contains(n))
                    && names
                        .iter()
                        .any(|n| n == "self" || self.lw.lookup(n).is_some())
            }
        }
        impl VisitMut for Hoist<'_> {
            fn visit_expr_mut(&mut self, e: &mut Expr) {
                // A method of the user's struct on a field (`l.act.apply(v)` of an activation
                // enum, `self.layer.scale(v)`): the call through the field's type, as outside the
                // closure (`FieldTy::<L, H, _>::apply(&l.act, v)`), whose field read is then
                // hoisted below; the hoisted copy alone would not say its type.
                if let Expr::MethodCall(mc) = e
                    && matches!(chain::strip(&mc.receiver), Expr::Field(_))
                    && self.invariant(&mc.receiver)
                    && let Some(call) = self.lw.field_method(mc)
                {
                    *e = Expr::Call(call);
                }
                fn place(e: &Expr) -> bool {
                    match chain::strip(e) {
                        Expr::Path(_) => true,
                        Expr::Field(f) => place(&f.base),
                        Expr::Index(ix) => place(&ix.expr),
                        _ => false,
                    }
                }
                let place = matches!(e, Expr::Field(_) | Expr::Index(_)) && place(e)
                    || self.queries
                        && matches!(e, Expr::Field(_) | Expr::Index(_) | Expr::MethodCall(_))
                        && query(e);
                if place && self.invariant(e) {
                    let name = quote::format_ident!(
                        "__ad_read{}_{}",
                        self.base,
                        self.reads.len(),
                        span = e.span()
                    );
                    let read = std::mem::replace(e, syn::parse_quote!(#name));
                    self.reads.push((name, read));
                    return;
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
        }
        let mut bound = syntax::BoundNames::default();
        bound.visit_expr_closure(cl);
        let mut h = Hoist {
            lw: self,
            own: bound.0,
            reads: Vec::new(),
            base: self.env.len(),
            queries,
        };
        let mut cl = cl.clone();
        h.visit_expr_mut(&mut cl.body);
        (!h.reads.is_empty()).then_some((cl, h.reads))
    }
}

fn pat_ident(p: &Pat) -> Option<syn::Ident> {
    match p {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => Some(pi.ident.clone()),
        Pat::Reference(r) => pat_ident(&r.pat),
        Pat::Type(t) => pat_ident(&t.pat),
        Pat::Paren(p) => pat_ident(&p.pat),
        _ => None,
    }
}

/// `Zip::from(a).and(b)…`: the path of `Zip::from` as written and the producers, when every
/// producer is an array read by shared reference (not `&mut`, and no `and_broadcast`).
fn zip_producers(e: &Expr) -> Option<(TokenStream, Vec<&Expr>)> {
    match e {
        Expr::MethodCall(mc) if mc.method == "and" && mc.args.len() == 1 => {
            let (zip, mut ps) = zip_producers(&mc.receiver)?;
            ps.push(shared(&mc.args[0])?);
            Some((zip, ps))
        }
        Expr::Call(c) => {
            let (p, first) = zip_from(c)?;
            Some((p.to_token_stream(), vec![shared(first)?]))
        }
        Expr::Paren(p) => zip_producers(&p.expr),
        _ => None,
    }
}

/// `Zip::from(&a).and(&b)…fold(init, |acc, &x, &y, ..| e)` as the fold of the producers'
/// elements zipped in row-major order, `a.flatten().iter().zip(b.flatten().iter())…
/// .fold(init, |acc, ((&x, &y), ..)| e)`, which is followed (the caller rejects a fold whose
/// result depends on the order, which `Zip` does not promise). `None` for other calls and
/// closures.
fn zip_fold(mc: &syn::ExprMethodCall) -> Option<Expr> {
    if mc.method != "fold" || mc.args.len() != 2 || mc.turbofish.is_some() {
        return None;
    }
    let (_, producers) = zip_producers(&mc.receiver)?;
    let Expr::Closure(cl) = chain::strip(&mc.args[1]) else {
        return None;
    };
    if cl.inputs.len() != producers.len() + 1 || producers.len() < 2 {
        return None;
    }
    let span = mc.method.span();
    // Each producer's elements in row-major order, `a.flatten().iter()` (`&a` read as `a`),
    // whatever rank the macro knows of it.
    let elems = |p: &Expr| -> Expr {
        match chain::strip(p) {
            Expr::Reference(r) if r.mutability.is_none() => {
                let a = &r.expr;
                syn::parse_quote_spanned!(span=> #a.flatten().iter())
            }
            p => syn::parse_quote_spanned!(span=> (#p).flatten().iter()),
        }
    };
    let mut iter = elems(producers[0]);
    let mut pat: Pat = cl.inputs[1].clone();
    for (p, q) in producers[1..].iter().zip(cl.inputs.iter().skip(2)) {
        let next = elems(p);
        iter = syn::parse_quote_spanned!(span=> #iter.zip(#next));
        pat = syn::parse_quote_spanned!(span=> (#pat, #q));
    }
    let (acc, body, init) = (&cl.inputs[0], &cl.body, &mc.args[0]);
    Some(syn::parse_quote_spanned!(span=> #iter.fold(#init, |#acc, #pat| #body)))
}

/// `Zip::from(&mut out).and(&a)…for_each(|o, &x, ..| *o = e)` (also `*o += e` and the other
/// compound assignments, `e` reading `*o` or not, and after statements that do not write `*o`,
/// `{ let t = ..; *o = e }`, whose value is then `{ let t = ..; e }`) of a variable `out` (or of a region of one,
/// `Zip::from(out.slice_mut(s![1..-1]))`, read through `out.slice(s![1..-1])` and assigned to
/// `out.slice_mut(s![1..-1])`; `row_mut`, `column_mut` and `view_mut` alike), as the new values
/// collected from the other producers, and from `&out` where `*o` is read, then assigned:
/// `{ let new = Zip::from(&out).and(&a).map_collect(|&o, &x| o + e); out.assign(&new); }`,
/// which is followed. `None` for any other `for_each`.
fn zip_for_each_into(mc: &syn::ExprMethodCall) -> Option<Expr> {
    let (zip, first, rest) = for_each_producers(mc)?;
    let (out, read) = match first {
        // `&mut out` of a variable, or `&mut *out` of a `&mut` parameter (read as `&*out`).
        Expr::Reference(_) => {
            let (out, through) = lent_variable(first)?;
            let read = match through {
                true => quote::quote!(&*#out),
                false => quote::quote!(&#out),
            };
            (quote::quote!(#out), read)
        }
        // A region of a variable, `out.slice_mut(s![..])` (`row_mut(i)`, `column_mut(j)`,
        // `view_mut()`), read through the same region's view and assigned to it.
        Expr::MethodCall(m) => {
            let read = super::region::read_view(m, true)?;
            let Expr::Path(base) = &*m.receiver else {
                return None;
            };
            base.path.get_ident()?;
            // `view_mut()`: the whole array, assigned as it is.
            let out = if m.method == "view_mut" {
                quote::quote!(#base)
            } else {
                quote::quote!(#m)
            };
            (out, quote::quote!(#read))
        }
        _ => return None,
    };
    let Expr::Closure(cl) = &mc.args[0] else {
        return None;
    };
    if cl.inputs.len() != rest.len() + 1 {
        return None;
    }
    let o = match &cl.inputs[0] {
        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
        Pat::Type(t) => match &*t.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi.ident.clone(),
            _ => return None,
        },
        _ => return None,
    };
    // The element's new value: the body's write `*o = e` (`*o op= e`), after statements that
    // do not write `*o`, in branches (see `written_value`).
    let value = written_value(&cl.body, &o)?;
    // `*o` in the value becomes the old element, by value, and so does `o` as a method's
    // receiver (`o.tanh()`, which Rust reads through the reference); `o` otherwise is not
    // followed.
    struct Old<'a>(&'a syn::Ident, bool, bool);
    impl syn::visit_mut::VisitMut for Old<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Unary(u) = e {
                if matches!(u.op, syn::UnOp::Deref(_))
                    && matches!(&*u.expr, Expr::Path(p) if p.path.is_ident(self.0))
                {
                    *e = syn::parse_quote!(__ad_old);
                    self.1 = true;
                    return;
                }
            }
            if let Expr::MethodCall(mc) = e {
                if matches!(&*mc.receiver, Expr::Path(p) if p.path.is_ident(self.0)) {
                    *mc.receiver = syn::parse_quote!(__ad_old);
                    self.1 = true;
                }
            }
            if let Expr::Path(p) = e {
                if p.path.is_ident(self.0) {
                    self.2 = true;
                }
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    let mut value = value;
    let mut old = Old(&o, false, false);
    syn::visit_mut::VisitMut::visit_expr_mut(&mut old, &mut value);
    if old.2 {
        return None;
    }
    let pats = cl.inputs.iter().skip(1);
    let span = super::span::method_span(mc);
    Some(if old.1 {
        syn::parse_quote_spanned! {span=> {
            let __ad_zipped = #zip(#read)#(.and(#rest))*.map_collect(|&__ad_old, #(#pats),*| #value);
            #out.assign(&__ad_zipped);
        }}
    } else {
        let (head, tail) = rest.split_first()?;
        syn::parse_quote_spanned! {span=> {
            let __ad_zipped = #zip(#head)#(.and(#tail))*.map_collect(|#(#pats),*| #value);
            #out.assign(&__ad_zipped);
        }}
    })
}

/// The value a closure's body `body` leaves in `*o`, where it writes `*o` once on every path:
/// `*o = e` is `e`, `*o op= e` is `*o op (e)`; a block's statements that do not write `*o`
/// come before the value of its last statement (`{ let t = x * w; *o = t.tanh() }` is `{ let
/// t = x * w; t.tanh() }`); an `if` or a `match` is the same branches with their values (a
/// branch that does not write, `if c { *o = e }` without `else`, an empty `{}`, keeps `*o`).
/// `None` for anything else, and for a body that leaves the closure (`return`, `?`), which a
/// value could not say.
fn written_value(body: &Expr, o: &syn::Ident) -> Option<Expr> {
    let mut leaves = super::zip_indexed::Leaves::new(false);
    syn::visit::Visit::visit_expr(&mut leaves, body);
    if leaves.found {
        return None;
    }
    fn value(e: &Expr, o: &syn::Ident) -> Option<Expr> {
        let deref_o = |e: &Expr| {
            matches!(e, Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_))
                && matches!(&*u.expr, Expr::Path(p) if p.path.is_ident(o)))
        };
        let unwritten = |e: &Expr| !writes_through(&Stmt::Expr(e.clone(), None), o);
        match e {
            Expr::Assign(a) if deref_o(&a.left) && unwritten(&a.right) => Some((*a.right).clone()),
            Expr::Binary(b) if deref_o(&b.left) && unwritten(&b.right) => {
                let op = arith_of_compound(&b.op)?;
                let right = &b.right;
                Some(syn::parse_quote!(*#o #op (#right)))
            }
            Expr::Paren(p) => value(&p.expr, o),
            Expr::Block(b) if b.label.is_none() => block_value(&b.block, o),
            Expr::If(i) if unwritten(&i.cond) => {
                let cond = &i.cond;
                let then = block_value(&i.then_branch, o)?;
                let els = match &i.else_branch {
                    Some((_, e)) => value(e, o)?,
                    None => syn::parse_quote!(*#o),
                };
                Some(syn::parse_quote!(if #cond { #then } else { #els }))
            }
            Expr::Match(m) if unwritten(&m.expr) => {
                let mut m = m.clone();
                for arm in &mut m.arms {
                    let v = value(&arm.body, o)?;
                    *arm.body = syn::parse_quote!({ #v });
                    arm.comma = Some(Default::default());
                }
                Some(Expr::Match(m))
            }
            _ => None,
        }
    }
    fn block_value(b: &syn::Block, o: &syn::Ident) -> Option<Expr> {
        let Some((last, before)) = b.stmts.split_last() else {
            return Some(syn::parse_quote!(*#o));
        };
        let Stmt::Expr(e, _) = last else {
            return None;
        };
        if before.iter().any(|s| writes_through(s, o)) {
            return None;
        }
        let v = value(e, o)?;
        Some(if before.is_empty() {
            v
        } else {
            syn::parse_quote!({ #(#before)* #v })
        })
    }
    value(body, o)
}

/// Whether statement `s` writes through the reference `o` (`*o = ..`, `*o += ..`).
fn writes_through(s: &Stmt, o: &syn::Ident) -> bool {
    struct Writes<'a>(&'a syn::Ident, bool);
    impl<'ast> syn::visit::Visit<'ast> for Writes<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            let left = match e {
                Expr::Assign(a) => Some(&*a.left),
                Expr::Binary(b) if arith_of_compound(&b.op).is_some() => Some(&*b.left),
                _ => None,
            };
            self.1 |= left.is_some_and(|l| {
                matches!(l, Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_))
                    && matches!(&*u.expr, Expr::Path(p) if p.path.is_ident(self.0)))
            });
            syn::visit::visit_expr(self, e);
        }
    }
    let mut w = Writes(o, false);
    syn::visit::Visit::visit_stmt(&mut w, s);
    w.1
}

/// Of `Zip::from(first).and(p)…for_each(f)`: `Zip`'s path, the first producer, and the
/// others (each shared, not `&mut`), in order.
fn for_each_producers(mc: &syn::ExprMethodCall) -> Option<(&syn::ExprPath, &Expr, Vec<&Expr>)> {
    if mc.method != "for_each" || mc.args.len() != 1 {
        return None;
    }
    let mut rest = Vec::new();
    let mut e = &*mc.receiver;
    let (zip, first) = loop {
        match e {
            Expr::MethodCall(m) if m.method == "and" && m.args.len() == 1 => {
                rest.push(shared(&m.args[0])?);
                e = &m.receiver;
            }
            Expr::Call(c) => break zip_from(c)?,
            Expr::Paren(p) => e = &p.expr,
            _ => return None,
        }
    };
    rest.reverse();
    Some((zip, first, rest))
}

/// The variable a `Zip`'s first producer lends, `out` of `&mut out`, or of `&mut *out` of a
/// `&mut` parameter (then `true`).
fn lent_variable(first: &Expr) -> Option<(&syn::ExprPath, bool)> {
    let Expr::Reference(r) = first else {
        return None;
    };
    r.mutability?;
    let (out, through) = match &*r.expr {
        Expr::Path(out) => (out, false),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => match &*u.expr {
            Expr::Path(out) => (out, true),
            _ => return None,
        },
        _ => return None,
    };
    out.path.get_ident()?;
    Some((out, through))
}

/// A producer of lanes, `a.rows()`, `a.columns()`, `a.outer_iter()` or `a.axis_iter(ax)`: its
/// items are views, not elements.
fn is_lanes(e: &Expr) -> bool {
    match e {
        Expr::MethodCall(m) => {
            matches!(
                (m.method.to_string().as_str(), m.args.len()),
                ("rows" | "columns" | "outer_iter", 0) | ("axis_iter", 1)
            )
        }
        Expr::Paren(p) => is_lanes(&p.expr),
        _ => false,
    }
}

/// `Zip::from(&mut out).and(a.rows())…for_each(|o, r, ..| body);` (a row-wise map into a
/// vector, `*o = r.dot(&w)`), of a variable `out` (or `&mut *out` of a `&mut` parameter), as
/// the loop over zipped iterators it stands for, `for ((o, r), ..) in
/// out.iter_mut().zip(a.rows())… { body }` (also as a block's last expression, without the
/// semicolon), whose lanes are then read by index and followed
/// (the elementwise form, [`zip_for_each_into`], collects a map of elements, and a lane is not
/// one). `None` for any other statement.
pub(super) fn zip_of_lanes(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), _) = stmt else {
        return None;
    };
    let (_, first, rest) = for_each_producers(mc)?;
    if !rest.iter().any(|p| is_lanes(p)) {
        return None;
    }
    let (out, _) = lent_variable(first)?;
    let Expr::Closure(cl) = &mc.args[0] else {
        return None;
    };
    if cl.inputs.len() != rest.len() + 1 {
        return None;
    }
    // A loop's pattern has no types (`|o: &mut f64, r|`): they go.
    let mut inputs = cl.inputs.iter().map(|p| match p {
        Pat::Type(t) => (*t.pat).clone(),
        p => p.clone(),
    });
    let first_pat = inputs.next()?;
    let pat: Pat = inputs.fold(first_pat, |acc, p| syn::parse_quote!((#acc, #p)));
    let body = &cl.body;
    let span = super::span::method_span(mc);
    Some(Stmt::Expr(
        syn::parse_quote_spanned! {span=>
            for #pat in #out.iter_mut()#(.zip(#rest))* {
                #body;
            }
        },
        None,
    ))
}

/// `a.zip_mut_with(&b, |x, &y| *x = ..);` of a variable `a` (or a region of one, `a.row_mut(i)`)
/// as the `Zip` it stands for, `b` broadcast to `a`'s shape as `zip_mut_with` broadcasts it:
/// `{ let shape = a.raw_dim(); Zip::from(&mut a).and(&b.broadcast(shape).unwrap())
/// .for_each(|x, &y| *x = ..); }`, where that `Zip` is followed (the closure one `*x = ..` or
/// `*x += ..`); `None` otherwise, and the method's own error stands.
pub(super) fn zip_mut_with(stmt: &Stmt, krate: &proc_macro2::TokenStream) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), Some(semi)) = stmt else {
        return None;
    };
    if mc.method != "zip_mut_with" || mc.args.len() != 2 {
        return None;
    }
    let a = &*mc.receiver;
    let first: Expr = match a {
        Expr::Path(p) if p.path.get_ident().is_some() => syn::parse_quote!(&mut #a),
        Expr::MethodCall(_) => a.clone(),
        _ => return None,
    };
    let shape_of: Expr = match a {
        Expr::MethodCall(r) => {
            let read = super::region::read_view(r, true)?;
            syn::parse_quote!(#read.raw_dim())
        }
        a => syn::parse_quote!(#a.raw_dim()),
    };
    let b = match &mc.args[0] {
        Expr::Reference(r) if r.mutability.is_none() => &*r.expr,
        b => b,
    };
    let f = &mc.args[1];
    let span = mc.method.span();
    let zipped: syn::ExprMethodCall = syn::parse_quote_spanned! {span=>
        #krate::__private::Zip::from(#first)
            .and(&(#b).broadcast(__ad_zip_shape).unwrap())
            .for_each(#f)
    };
    // Only where the `Zip` is followed: otherwise the error names what was written.
    zip_for_each_into(&zipped)?;
    Some(Stmt::Expr(
        syn::parse_quote_spanned! {span=> {
            let __ad_zip_shape = #shape_of;
            #zipped;
        }},
        Some(*semi),
    ))
}

/// `Zip::from(first)` (by any path ending so): the path and `first`.
fn zip_from(c: &syn::ExprCall) -> Option<(&syn::ExprPath, &Expr)> {
    let Expr::Path(p) = &*c.func else {
        return None;
    };
    let mut segs = p.path.segments.iter().rev();
    let (Some(from), Some(zip)) = (segs.next(), segs.next()) else {
        return None;
    };
    if c.args.len() != 1 || from.ident != "from" || zip.ident != "Zip" {
        return None;
    }
    Some((p, &c.args[0]))
}

/// A producer read through a shared reference: not `&mut a`, nor `a.view_mut()`.
fn shared(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Reference(r) if r.mutability.is_some() => None,
        Expr::MethodCall(mc) if mc.method.to_string().ends_with("_mut") => None,
        e => Some(e),
    }
}

/// The operator of a compound assignment `+=`, `-=`, `*=` or `/=` (`+`, ..), spanned as
/// written; `None` for other operators.
pub(super) fn arith_of_compound(op: &syn::BinOp) -> Option<syn::BinOp> {
    Some(match *op {
        syn::BinOp::AddAssign(t) => syn::BinOp::Add(syn::Token![+](t.span())),
        syn::BinOp::SubAssign(t) => syn::BinOp::Sub(syn::Token![-](t.span())),
        syn::BinOp::MulAssign(t) => syn::BinOp::Mul(syn::Token![*](t.span())),
        syn::BinOp::DivAssign(t) => syn::BinOp::Div(syn::Token![/](t.span())),
        _ => return None,
    })
}

/// `a.map_inplace(|v| *v = e);` (or `*v += e`, `-=`, `*=`, `/=`, the last statement of the
/// closure's body, after `let`s and statements that do not write `*v`; its parameter typed or
/// not) as `a.mapv_inplace(|v| { ..; e' })`, `e'` the new value, with each `*v` read as `v`
/// (the element's value), which is followed. `None` for other statements and bodies: the
/// method's own error stands.
pub(super) fn map_inplace(stmt: &Stmt) -> Option<Stmt> {
    let Stmt::Expr(Expr::MethodCall(mc), semi) = stmt else {
        return None;
    };
    if mc.method != "map_inplace" || mc.args.len() != 1 {
        return None;
    }
    let Expr::Closure(cl) = &mc.args[0] else {
        return None;
    };
    if cl.inputs.len() != 1 {
        return None;
    }
    let v = pat_ident(&cl.inputs[0])?;
    let new = written_value(&cl.body, &v)?;
    /// `*v` read as `v`; `.1` set where `*v` is written, or a closure or a `let` could bind
    /// `v` again.
    struct Deref<'a>(&'a syn::Ident, bool);
    impl syn::visit_mut::VisitMut for Deref<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Unary(u)
                    if matches!(u.op, syn::UnOp::Deref(_))
                        && matches!(&*u.expr, Expr::Path(p) if p.path.is_ident(self.0)) =>
                {
                    let v = self.0;
                    *e = syn::parse_quote!(#v);
                    return;
                }
                Expr::Assign(a) if matches!(&*a.left, Expr::Unary(_)) => self.1 = true,
                Expr::Binary(b)
                    if arith_of_compound(&b.op).is_some() && matches!(&*b.left, Expr::Unary(_)) =>
                {
                    self.1 = true
                }
                Expr::Closure(_) => self.1 = true,
                _ => {}
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
        fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
            self.1 |= p.ident == *self.0;
        }
    }
    let mut d = Deref(&v, false);
    let mut new = new;
    syn::visit_mut::VisitMut::visit_expr_mut(&mut d, &mut new);
    if d.1 {
        return None;
    }
    let recv = &mc.receiver;
    let span = mc.method.span();
    Some(Stmt::Expr(
        syn::parse_quote_spanned!(span=> #recv.mapv_inplace(|#v| #new)),
        *semi,
    ))
}
