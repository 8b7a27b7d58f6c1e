//! Calls and methods: primitives of the table, methods run as written, container mutations
//! of places (`v.push(x)`), calls of functions (differentiated through their `_vjp`).

use super::*;

/// Methods that ask for the shape of an array, slice or `Vec` (`nrows`, `dim`, `len`): their
/// results are discrete, whatever the receiver holds.
const SHAPE_QUERIES: &[&str] = &[
    "nrows",
    "ncols",
    "shape",
    "dim",
    "raw_dim",
    "ndim",
    "len",
    "len_of",
    "is_empty",
    "strides",
    "is_square",
    "is_standard_layout",
    "capacity",
];

/// Whether `e` is the receiver `self`.
fn is_self(e: &Expr) -> bool {
    matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.is_ident("self"))
}

/// Whether `name` is a shape query (see [`SHAPE_QUERIES`]).
pub fn is_shape_query(name: &str) -> bool {
    SHAPE_QUERIES.contains(&name)
}

impl Lowering {
    pub(super) fn method_call(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Value> {
        let span = mc.span();
        let name = mc.method.to_string();
        // `chain.max_by(..).unwrap()`, `x.mean().unwrap()`, `v.pop().unwrap()`.
        if (name == "unwrap" || name == "expect") && mc.turbofish.is_none() {
            if let Expr::MethodCall(inner) = &*mc.receiver {
                if let Some(v) = self.chain_consumer(b, inner, true) {
                    return v;
                }
                if let Some(m) = MutId::find(&inner.method.to_string()) {
                    if m.def().option() && inner.turbofish.is_none() {
                        return self.mutation(b, inner, m, true);
                    }
                }
                if (inner.method == "mean"
                    || inner.method == "mean_axis"
                    || inner.method == "into_shape_with_order")
                    && inner.turbofish.is_none()
                {
                    let recv = self.place_expr(b, &inner.receiver)?;
                    let mut args = Vec::new();
                    for a in &inner.args {
                        args.push(self.expr(b, a, true)?);
                    }
                    let root = self.mutable_root(&inner.receiver);
                    return self.method(b, inner.method.clone(), recv, args, true, root, span);
                }
            }
        }
        // `a.row(i)` and `a.column(j)` of a matrix are the regions `a.slice(s![i, ..])` and
        // `a.slice(s![.., j])`: the same views, differentiated by the `slice` rule.
        if (name == "row" || name == "column") && mc.args.len() == 1 && mc.turbofish.is_none() {
            let (k, i) = (super::krate(), &mc.args[0]);
            let region: Expr = match name.as_str() {
                "row" => syn::parse_quote_spanned!(span=> #k::__private::s![#i, ..]),
                _ => syn::parse_quote_spanned!(span=> #k::__private::s![.., #i]),
            };
            let mut slice = mc.clone();
            slice.method = syn::Ident::new("slice", mc.method.span());
            slice.args = std::iter::once(region).collect();
            return self.method_call(b, &slice);
        }
        if let Some(v) = self.chain_consumer(b, mc, false) {
            return v;
        }
        if let Some(v) = self.window_method(b, mc) {
            return v;
        }
        if chain::parse_chain(&mc.receiver, false).is_some()
            || matches!(
                name.as_str(),
                "iter" | "into_iter" | "iter_mut" | "windows" | "chunks" | "chunks_exact"
            ) && !mc.args.iter().any(closures::is_closure_like)
                && chain::parse_chain(&Expr::MethodCall(mc.clone()), false).is_some()
        {
            self.err_at(
                &mc.method,
                format!(
                    "an iterator is supported where it is consumed: loop over it with `for`, or \
                     end the chain with a consumer in the same expression; supported: {}",
                    chain::SUPPORTED
                ),
            );
            return None;
        }
        if let Some(v) = self.elementwise(b, mc) {
            return v;
        }
        if mc.turbofish.is_some() || mc.args.iter().any(closures::is_closure_like) {
            return self.method_as_written(b, mc);
        }
        if name == "extend" && mc.args.len() == 1 && self.mutable_root(&mc.receiver).is_some() {
            if let Some(c) = chain::parse_chain(&mc.args[0], true) {
                self.chain_extend(b, mc, &c);
                return None;
            }
        }
        if let Some(m) = MutId::find(&name) {
            if self.mutable_root(&mc.receiver).is_some() {
                return self.mutation(b, mc, m, false);
            }
        }
        let method = &mc.method;
        if is_self(&mc.receiver)
            && PrimId::method(&name).is_none()
            && !prim::is_discrete_method(&name)
            && !is_shape_query(&name)
        {
            // `self.g(x)` in a method is `Self::g(self, x)`: a call, differentiated through
            // `Self::g_vjp` like any other.
            let call = syn::ExprCall {
                attrs: Vec::new(),
                func: Box::new(syn::parse_quote_spanned!(mc.method.span()=> Self::#method)),
                paren_token: Default::default(),
                args: std::iter::once((*mc.receiver).clone())
                    .chain(mc.args.iter().cloned())
                    .collect(),
            };
            return self.call(b, &call);
        }
        if let Some(call) = self.struct_method(mc) {
            return self.call(b, &call);
        }
        let recv = self.place_expr(b, &mc.receiver);
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(match a {
                // `v.drain(1..)`, `v.get(1..3)`: a range of indices, run as written.
                Expr::Range(_) => self.opaque(b, a.to_token_stream(), Kind::Discrete, true, span),
                a => self.expr(b, a, true),
            });
        }
        let recv = recv?;
        let args = args.into_iter().collect::<Option<Vec<Value>>>()?;
        let root = self.mutable_root(&mc.receiver);
        self.method(b, mc.method.clone(), recv, args, false, root, span)
    }

    /// `model.forward(x)` of a differentiated parameter `model: &Model` (or `Model`, `&Mlp<T>`),
    /// a method of the user's struct: the call `Model::forward(model, x)` (`&model` when the parameter is owned),
    /// differentiated through `Model::forward_vjp` like `self.g(x)` is through `Self::g_vjp`,
    /// the gradient reaching the receiver when it is active.
    fn struct_method(&self, mc: &syn::ExprMethodCall) -> Option<syn::ExprCall> {
        let name = mc.method.to_string();
        if mc.turbofish.is_some()
            || PrimId::method(&name).is_some()
            || prim::is_discrete_method(&name)
            || is_shape_query(&name)
            || prim::places::is_read(&name)
            || MutId::find(&name).is_some()
        {
            return None;
        }
        let Expr::Path(p) = chain::strip(&mc.receiver) else {
            return None;
        };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        let ValueDef::Param(n) = self.f.value(self.env[slot].value?).def else {
            return None;
        };
        // A parameter left out (`wrt`, or a type parameter `T: Into<f64>`) runs as written.
        if !self.f.params[n].active {
            return None;
        }
        let (ty, owned) = crate::types::struct_path(&self.f.params[n].ty)?;
        let method = &mc.method;
        let recv = &mc.receiver;
        let recv: Expr = match owned {
            true => syn::parse_quote_spanned!(recv.span()=> &#recv),
            false => (**recv).clone(),
        };
        Some(syn::ExprCall {
            attrs: Vec::new(),
            func: Box::new(syn::parse_quote_spanned!(method.span()=> #ty::#method)),
            paren_token: Default::default(),
            args: std::iter::once(recv)
                .chain(mc.args.iter().cloned())
                .collect(),
        })
    }

    /// A method with a turbofish (`s.parse::<u32>()`) or a closure argument (ndarray's
    /// `a.mapv(|v| ..)`), run as written: an error if it reads a differentiated value and its
    /// result matters (see `check`), or if it may change a variable declared `mut`.
    pub(super) fn method_as_written(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
    ) -> Option<Value> {
        // Spanned at the method's name: what diagnostics about it underline.
        let span = mc.method.span();
        if let Some(root) = self.mutable_root(&mc.receiver) {
            if mc.args.iter().any(closures::is_closure_like) {
                let m = &mc.method;
                self.err_at(
                    m,
                    format!(
                        "`{root}.{m}(..)` with a closure may change `{root}`, and the derivative \
                         cannot follow what the closure does there; write an index loop \
                         (`for i in 0..{root}.len() {{ {root}[i] = .. }}`)"
                    ),
                );
                return None;
            }
        }
        self.opaque(
            b,
            Expr::MethodCall(mc.clone()).to_token_stream(),
            Kind::Unknown,
            true,
            span,
        )
    }

    /// `v.push(x)` and the other mutations of [`crate::prim::places`] on a variable declared
    /// `mut` or a `&mut` parameter: a new version of `v`.
    pub(super) fn mutation(
        &mut self,
        b: Block,
        mc: &syn::ExprMethodCall,
        m: MutId,
        unwrap: bool,
    ) -> Option<Value> {
        let span = mc.span();
        let def = m.def();
        let target = match &*mc.receiver {
            Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => p.path.clone(),
            other if subslice::range_index(other).is_some() => {
                self.err_at(
                    other,
                    format!(
                        "`.{}(..)` on a range of a container is not followed by the derivative; \
                         write an index loop over the range (`for i in a..b {{ v[i] = .. }}`)",
                        def.name
                    ),
                );
                return None;
            }
            other => {
                self.err_at(
                    other,
                    format!(
                        "`.{}(..)` is followed by the derivative only on a variable (`v.{}(..)` \
                         with `let mut v` or a `&mut` parameter `v`); bind the container to a \
                         variable first",
                        def.name, def.name
                    ),
                );
                return None;
            }
        };
        if mc.args.len() != def.args.len() {
            self.err_at(
                &mc.method,
                format!(
                    "`{}` takes {} argument(s) here, found {}",
                    def.name,
                    def.args.len(),
                    mc.args.len()
                ),
            );
            return None;
        }
        let base = self.expr(b, &mc.receiver, true)?;
        let mut args = Vec::new();
        for a in &mc.args {
            args.push(self.expr(b, a, true)?);
        }
        let mut kind = self.kind(base);
        for (k, &a) in args.iter().enumerate() {
            if def.diff(k) {
                kind = kind.join(self.kind(a));
            }
        }
        let n = 1 + usize::from(def.returns());
        let i = self.f.push_inst(
            b,
            InstKind::Mutate {
                m,
                base,
                args,
                unwrap,
            },
            n,
            kind,
            mc.method.span(),
        );
        let results = self.f.inst(i).results.clone();
        self.assign(
            &Expr::Path(syn::ExprPath {
                attrs: Vec::new(),
                qself: None,
                path: target,
            }),
            Some(results[0]),
        );
        let _ = span;
        results.get(1).copied()
    }

    /// `base.name(arg)` for a mutation of the table with one operand: the new version.
    pub(super) fn mutate1(
        &mut self,
        b: Block,
        name: &str,
        base: Value,
        arg: Value,
        span: Span,
    ) -> Option<Value> {
        let m = MutId::find(name)?;
        let kind = self.kind(base).join(self.kind(arg));
        let i = self.f.push_inst(
            b,
            InstKind::Mutate {
                m,
                base,
                args: vec![arg],
                unwrap: false,
            },
            1,
            kind,
            span,
        );
        Some(self.f.inst(i).results[0])
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn method(
        &mut self,
        b: Block,
        name: syn::Ident,
        recv: Value,
        args: Vec<Value>,
        unwrap: bool,
        recv_mut: Option<syn::Ident>,
        span: Span,
    ) -> Option<Value> {
        let s = name.to_string();
        if let Some(prim) = PrimId::method(&s) {
            if prim.n_args() != args.len() {
                self.err_at(
                    &name,
                    format!(
                        "`{s}` takes {} argument(s) here, found {}",
                        prim.n_args(),
                        args.len()
                    ),
                );
                return None;
            }
            let kind = match self.kind(recv) {
                Kind::Discrete => Kind::Discrete,
                _ if prim.has(Flags::FLOAT_RESULT) => Kind::Float,
                k if prim.has(Flags::IDENTITY) => k,
                _ => Kind::Unknown,
            };
            let mut all = vec![recv];
            all.extend(args);
            // Spanned at the method's name: what diagnostics about it underline.
            return Some(self.inst1(
                b,
                InstKind::Prim {
                    prim,
                    args: all,
                    unwrap,
                },
                kind,
                name.span(),
            ));
        }
        let kind = if prim::is_discrete_method(&s) || is_shape_query(&s) {
            Kind::Discrete
        } else {
            Kind::Unknown
        };
        Some(self.inst1(
            b,
            InstKind::Method {
                name,
                recv,
                args,
                unwrap,
                recv_mut,
            },
            kind,
            span,
        ))
    }

    /// The variable a method receiver is rooted in (`v` in `v.push(..)`, `s.buf.push(..)`,
    /// `v[i].push(..)`, `v.iter_mut().next()`), if it is declared `mut` or is a `&mut`
    /// parameter: a method called there may change it. Not through a method that only reads
    /// (`v.last().unwrap_or(..)` borrows `v` shared, or copies from it).
    pub(super) fn mutable_root(&self, e: &Expr) -> Option<syn::Ident> {
        match e {
            Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?;
                let slot = self.lookup(&id.to_string())?;
                self.env[slot].mutable.then(|| id.clone())
            }
            Expr::Paren(p) => self.mutable_root(&p.expr),
            Expr::Group(g) => self.mutable_root(&g.expr),
            Expr::Field(f) => self.mutable_root(&f.base),
            Expr::Index(ix) => self.mutable_root(&ix.expr),
            Expr::MethodCall(mc) if !prim::places::is_read(&mc.method.to_string()) => {
                self.mutable_root(&mc.receiver)
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.mutable_root(&u.expr),
            _ => None,
        }
    }

    /// An expression in a place that can borrow (`&e`, a method receiver, a field base, an
    /// indexed value): a field of a parameter struct stays a reference there.
    pub(super) fn place_expr(&mut self, b: Block, e: &Expr) -> Option<Value> {
        match e {
            Expr::Field(fe) if matches!(fe.member, syn::Member::Named(_)) => self.field_ref(b, fe),
            Expr::Paren(p) => self.place_expr(b, &p.expr),
            _ => self.expr(b, e, true),
        }
    }

    /// `base.name` as a reference to the field.
    pub(super) fn field_ref(&mut self, b: Block, fe: &syn::ExprField) -> Option<Value> {
        let syn::Member::Named(name) = &fe.member else {
            return self.expr(b, &Expr::Field(fe.clone()), true);
        };
        let base = self.place_expr(b, &fe.base)?;
        let kind = self.kind(base);
        Some(self.inst1(b, InstKind::FieldRef(base, name.clone()), kind, fe.span()))
    }

    pub(super) fn call(&mut self, b: Block, c: &syn::ExprCall) -> Option<Value> {
        let span = c.span();
        let Expr::Path(fp) = &*c.func else {
            self.err_at(
                &c.func,
                "only calls of named functions (`g(x)`, `module::g(x)`) are supported",
            );
            return None;
        };
        if let Some(e) = array_from_vec(&fp.path, c) {
            return self.expr(b, &e, true);
        }
        if fp.qself.is_some() {
            self.err_at(
                &c.func,
                "qualified paths (`<T as Trait>::f`) are not supported; call the function by its plain path (`module::f(x)`)",
            );
            return None;
        }
        if let Some(def) = self.closure_named(&c.func) {
            // A local closure: its body, with the arguments bound to its parameters.
            let mut items = Vec::new();
            for a in &c.args {
                let (e, refs) = match a {
                    Expr::Reference(r) if r.mutability.is_none() => (&*r.expr, 1),
                    e => (e, self.path_refs(e)),
                };
                items.push(Item::Val {
                    v: self.expr(b, e, true)?,
                    refs,
                });
            }
            let r = self.expand_closure(
                b,
                &def.expr,
                def.scope,
                def.captured.as_deref(),
                items,
                span,
            )?;
            return self.item_value(b, r, false, span);
        }
        let name = fp.path.segments.last().map(|s| s.ident.to_string());
        for a in &c.args {
            if closures::is_closure_like(a) || self.closure_named(a).is_some() {
                self.err_at(
                    a,
                    format!(
                        "a closure passed to `{}` cannot be differentiated: closures are expanded \
                         where they are called (`let f = |x| ..; f(a)`) or given to iterator \
                         adapters (`map`, `filter`, `fold`, ..); write the computation here, or \
                         make `{0}` take values and give it `#[differentiate]`",
                        name.as_deref().unwrap_or("this function")
                    ),
                );
                return None;
            }
        }
        for a in &c.args {
            if self.cell_named(a).is_some() {
                self.err_at(
                    a,
                    format!(
                        "`{0}` is a mutable reference to an element of a container, and what \
                         `{1}` writes through it cannot be followed; pass the element's value and \
                         write the result back (`*{0} = {1}(*{0})`)",
                        a.to_token_stream(),
                        name.as_deref().unwrap_or("the function")
                    ),
                );
                return None;
            }
        }
        let mut args = Vec::new();
        for a in &c.args {
            args.push(self.expr(b, a, true));
        }
        let mut args = args.into_iter().collect::<Option<Vec<Value>>>()?;
        // `f64::exp(x)` is `x.exp()`.
        let segs: Vec<String> = fp
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if segs.len() == 2 && (segs[0] == "f64" || segs[0] == "f32") {
            let m = &fp.path.segments[1].ident;
            if PrimId::method(&segs[1]).is_some_and(|p| p.has(Flags::FLOAT_RESULT)) {
                if args.is_empty() {
                    self.err(
                        span,
                        format!("`{}::{m}` needs its receiver argument", segs[0]),
                    );
                    return None;
                }
                // The path says the receiver's type, which a literal does not.
                let ty: syn::Type = syn::parse_str(&segs[0]).expect("a float type");
                let value = args.remove(0);
                let kind = self.kind(value);
                let recv = self.inst1(b, InstKind::Ascribe { value, ty }, kind, span);
                return self.method(b, m.clone(), recv, args, false, None, span);
            }
        }
        if let Some(local) = fp.path.get_ident() {
            if let Some(slot) = self.lookup(&local.to_string()) {
                if self.env[slot]
                    .value
                    .is_some_and(|v| self.poisoned.contains(&v))
                {
                    return None;
                }
                self.err_at(
                    &local,
                    format!("`{local}` is a variable; calling a variable is not supported: call a named function (with `#[differentiate]` or its own `_vjp`)"),
                );
                return None;
            }
        }
        Some(self.inst1(
            b,
            InstKind::Call {
                path: fp.path.clone(),
                args,
            },
            Kind::Unknown,
            span,
        ))
    }

    /// A method of a window (`w` in `for w in x.windows(2)`): `w.len()`; the others need the
    /// window as a slice, which is not supported. `None` when the receiver is not a window.
    fn window_method(&mut self, b: Block, mc: &syn::ExprMethodCall) -> Option<Option<Value>> {
        if subslice::range_index(&mc.receiver).is_some() {
            // `x[a..].len()`, `x[a..b].is_empty()`: measured, not copied.
            if !mc.args.is_empty() || !(mc.method == "len" || mc.method == "is_empty") {
                return None;
            }
            let Some(w) = self.range_window(b, &mc.receiver)? else {
                return Some(None);
            };
            return Some(Some(match mc.method == "len" {
                true => w.len,
                false => self.int_op(b, quote!(__ad_n == 0), &[("__ad_n", w.len)], mc.span()),
            }));
        }
        let w = self.window_named(&mc.receiver)?;
        if mc.method == "len" && mc.args.is_empty() {
            return Some(Some(w.len));
        }
        let _ = b;
        self.err_at(
            &mc.method,
            format!(
                "`.{}(..)` on a window of a slice is not supported; read its elements as `w[i]` \
                 (and its length as `w.len()`), or iterate over it (`w.iter()`)",
                mc.method
            ),
        );
        Some(None)
    }

    /// The window bound to a plain name, if `e` is one.
    pub(super) fn window_named(&self, e: &Expr) -> Option<Window> {
        let Expr::Path(p) = e else { return None };
        let slot = self.lookup(&p.path.get_ident()?.to_string())?;
        self.env[slot].window
    }
}

/// `Array1::from(v)`, `Array1::from_vec(v)`, `Array::from(v)` (also by a longer path or with a
/// turbofish) as the array filled element by element from `v`:
/// `{ let v = ..; let mut a = Array1::zeros(v.len()); for i in .. { a[i] = v[i]; } a }`, whose
/// adjoint reads each element of `ā` back into `v̄`. `None` for any other call.
fn array_from_vec(path: &syn::Path, c: &syn::ExprCall) -> Option<Expr> {
    let n = path.segments.len();
    if n < 2 || c.args.len() != 1 {
        return None;
    }
    let (ty, func) = (&path.segments[n - 2].ident, &path.segments[n - 1]);
    if !matches!(func.arguments, syn::PathArguments::None)
        || !(func.ident == "from" || func.ident == "from_vec")
        || !(ty == "Array1" || ty == "Array")
    {
        return None;
    }
    let mut zeros = path.clone();
    if let Some(last) = zeros.segments.last_mut() {
        last.ident = syn::Ident::new("zeros", last.ident.span());
    }
    let v = &c.args[0];
    Some(syn::parse_quote_spanned! {c.span()=> {
        let __ad_from = #v;
        let mut __ad_array = #zeros(__ad_from.len());
        for __ad_i in 0..__ad_from.len() {
            __ad_array[__ad_i] = __ad_from[__ad_i];
        }
        __ad_array
    }})
}
