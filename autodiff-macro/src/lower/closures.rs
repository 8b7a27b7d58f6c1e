//! Closures and the items they take. A closure is a nested function that the lowering expands
//! where it is called: its parameters are bound to the arguments, its body lowered in the
//! scope it was written in, and what it assigns of that scope (an `FnMut` closure's captured
//! variables) becomes the new value of those variables. So a closure bound to a local
//! (`let f = |v| v * w; f(a) + f(b)`) or passed to an iterator adapter is differentiated like the
//! code it stands for. A closure that escapes (returned, stored, passed to a function the macro
//! cannot see into) is an error.
//!
//! Closures whose result is discrete (a `filter` predicate, a `max_by` comparison) are not
//! expanded but run as written, on arguments shaped as Rust passes them (the references
//! included).

use std::rc::Rc;

use super::*;

/// What an iterator yields, as the lowering holds it: values, with the references the Rust
/// type has on top of them (`&f64` for the elements of `x.iter()`), tuples of them (`zip`,
/// `enumerate`), windows of slices, and references to elements of places (`x.iter_mut()`).
#[derive(Clone)]
pub(super) enum Item {
    Val {
        v: Value,
        refs: u8,
    },
    Tuple {
        elems: Vec<Item>,
        refs: u8,
    },
    Window {
        w: Window,
        refs: u8,
    },
    /// A mutable reference to an element of a place (an item of `x.iter_mut()`).
    Cell {
        cell: Cell,
        refs: u8,
    },
}

impl Item {
    pub(super) fn val(v: Value) -> Self {
        Item::Val { v, refs: 0 }
    }

    /// The item one reference further out (`&item`).
    pub(super) fn by_ref(self) -> Self {
        match self {
            Item::Val { v, refs } => Item::Val { v, refs: refs + 1 },
            Item::Tuple { elems, refs } => Item::Tuple {
                elems,
                refs: refs + 1,
            },
            Item::Window { w, refs } => Item::Window { w, refs: refs + 1 },
            Item::Cell { cell, refs } => Item::Cell {
                cell,
                refs: refs + 1,
            },
        }
    }

    /// `copied()`/`cloned()`: the item one reference further in.
    pub(super) fn deref(self) -> Self {
        match self {
            Item::Val { v, refs } => Item::Val {
                v,
                refs: refs.saturating_sub(1),
            },
            Item::Tuple { elems, refs } => Item::Tuple {
                elems,
                refs: refs.saturating_sub(1),
            },
            w => w,
        }
    }
}

/// A function argument of an adapter: a closure, a local bound to one, or a function path.
pub(super) fn is_closure_like(e: &Expr) -> bool {
    matches!(strip(e), Expr::Closure(_))
}

/// Whether an expression is one whose value is `()`: an assignment, a loop, an `if` without
/// `else`, a block ending in a statement (`|v| { s += v; }`).
fn is_unit(e: &Expr) -> bool {
    match e {
        Expr::Assign(_) | Expr::ForLoop(_) | Expr::While(_) => true,
        Expr::Binary(b) => matches!(
            b.op,
            syn::BinOp::AddAssign(_)
                | syn::BinOp::SubAssign(_)
                | syn::BinOp::MulAssign(_)
                | syn::BinOp::DivAssign(_)
                | syn::BinOp::RemAssign(_)
        ),
        Expr::If(i) => match &i.else_branch {
            None => true,
            Some((_, e)) => is_unit(e) && is_unit_block(&i.then_branch),
        },
        Expr::Block(b) => is_unit_block(&b.block),
        Expr::Paren(p) => is_unit(&p.expr),
        Expr::Tuple(t) => t.elems.is_empty(),
        _ => false,
    }
}

fn is_unit_block(b: &syn::Block) -> bool {
    match b.stmts.last() {
        None => true,
        Some(Stmt::Expr(e, None)) => is_unit(e),
        Some(_) => true,
    }
}

/// Whether a type has a reference or `_` anywhere in it.
fn mentions_ref_or_infer(ty: &syn::Type) -> bool {
    struct V(bool);
    impl<'ast> Visit<'ast> for V {
        fn visit_type_reference(&mut self, _: &'ast syn::TypeReference) {
            self.0 = true;
        }
        fn visit_type_infer(&mut self, _: &'ast syn::TypeInfer) {
            self.0 = true;
        }
    }
    let mut v = V(false);
    v.visit_type(ty);
    v.0
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        Expr::Reference(r) if r.mutability.is_none() => strip(&r.expr),
        e => e,
    }
}

impl Lowering {
    /// `let f = |..| ..;`: binds `f` to the closure, to be expanded where it is called.
    pub(super) fn define_closure(&mut self, pat: &Pat, cl: &syn::ExprClosure) {
        let name = match pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => &pi.ident,
            Pat::Type(pt) => return self.define_closure(&pt.pat, cl),
            // `let _ = |..| ..;` makes a closure and drops it.
            Pat::Wild(_) => return,
            p => {
                self.err_at(p, "bind a closure to a name: `let f = |x| ..;`");
                return;
            }
        };
        if cl.asyncness.is_some() {
            self.err_at(
                cl,
                "`async` closures are not supported in differentiated functions",
            );
            return;
        }
        if cl.capture.is_some() {
            // A `move` closure changes its own copies, which persist from one call to the next;
            // expanded at each call, those changes would be lost.
            let mut names = AssignedNames::default();
            names.visit_expr(&cl.body);
            if let Some(n) = names.0.iter().find(|n| self.lookup(n).is_some()) {
                self.err_at(
                    cl,
                    format!(
                        "a `move` closure that changes `{n}` keeps its own copy from one call to \
                         the next, which is not supported; drop `move` so that it changes `{n}` \
                         itself"
                    ),
                );
                return;
            }
        }
        let scope = self.env.len();
        let captured = cl
            .capture
            .is_some()
            .then(|| self.env.iter().map(|b| b.value).collect());
        let def = ClosureDef {
            expr: cl.clone(),
            scope,
            captured,
        };
        let mut binding = Binding::new(name.to_string(), None, false);
        binding.closure = Some(Rc::new(def));
        self.env.push(binding);
    }

    /// The closure bound to a plain name, if `e` is one.
    pub(super) fn closure_named(&self, e: &Expr) -> Option<Rc<ClosureDef>> {
        let Expr::Path(p) = strip(e) else {
            return None;
        };
        let id = p.path.get_ident()?;
        let slot = self.lookup(&id.to_string())?;
        self.env[slot].closure.clone()
    }

    /// Applies an adapter's function argument (`map(f)`, `fold(0.0, f64::max)`) to items.
    pub(super) fn apply_fun(
        &mut self,
        b: Block,
        fun: &Expr,
        args: Vec<Item>,
        scope: usize,
    ) -> Option<Item> {
        let span = fun.span();
        match strip(fun) {
            Expr::Closure(cl) => self.expand_closure(b, cl, scope, None, args, span),
            Expr::Path(p) => {
                if let Some(def) = self.closure_named(fun) {
                    return self.expand_closure(
                        b,
                        &def.expr,
                        def.scope,
                        def.captured.as_deref(),
                        args,
                        span,
                    );
                }
                // A function by its path: `map(f64::exp)`, `fold(0.0, f64::max)`, `map(sq)`.
                let mut vals = Vec::new();
                for a in args {
                    vals.push(self.item_value(b, a, true, span)?);
                }
                let segs: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                // `f64::max`, or `T::max` of a float type parameter `T`, or
                // `Float::max` (or `num_traits::Float::max`) of a float trait.
                let float = |s: &str| s == "f64" || s == "f32" || crate::types::is_float_param(s);
                let n = segs.len();
                let through_trait =
                    n >= 2 && crate::signature::FLOAT_TRAITS.contains(&segs[n - 2].as_str());
                if ((n == 2 && float(&segs[0])) || through_trait) && !vals.is_empty() {
                    let m = p.path.segments[n - 1].ident.clone();
                    if PrimId::method(&segs[n - 1]).is_some() {
                        let recv = vals.remove(0);
                        return self
                            .method(b, m, recv, vals, false, None, span)
                            .map(Item::val);
                    }
                }
                let v = self.inst1(
                    b,
                    InstKind::Call {
                        path: p.path.clone(),
                        args: vals,
                    },
                    Kind::Unknown,
                    span,
                );
                Some(Item::val(v))
            }
            other => {
                self.err_at(
                    other,
                    "pass a closure (`|x| ..`), a local bound to one, or a function by its path \
                     (`f64::exp`, `my_fn`) here",
                );
                None
            }
        }
    }

    /// `f(&mut y, k)` of a local closure taking `&mut` parameters (`let f = |v: &mut f64, k:
    /// f64| *v += k * w;`): the closure expanded as one that takes each of them by value and
    /// gives back its new value beside its own, `|mut v, k| { let r = { v += k * w }; (v, r) }`
    /// (`*v` read as `v`, as in the copy of a helper taking `&mut` buffers, see
    /// `crate::mut_self`), and the results assigned to the variables lent, `y = t.0;`. An
    /// element lent (`f(&mut a[i], k)`) is a local by now (see `calls::lent_elements`).
    pub(super) fn closure_buffer_call(
        &mut self,
        b: Block,
        c: &syn::ExprCall,
        def: Rc<ClosureDef>,
        want: bool,
    ) -> Option<Value> {
        let span = c.span();
        let mut cl = def.expr.clone();
        if cl.inputs.len() != c.args.len() {
            self.err(
                span,
                format!(
                    "this closure takes {} argument(s) but is called with {}",
                    cl.inputs.len(),
                    c.args.len()
                ),
            );
            return None;
        }
        // The closure's parameters lent `&mut`, and the caller's variables lent to them.
        let mut names: Vec<syn::Ident> = Vec::new();
        let mut vars: Vec<syn::Ident> = Vec::new();
        let mut items = Vec::new();
        for (a, pat) in c.args.iter().zip(cl.inputs.iter_mut()) {
            match a {
                Expr::Reference(r) if r.mutability.is_some() => {
                    let var = match strip(&r.expr) {
                        Expr::Path(p) => p.path.get_ident().cloned(),
                        _ => None,
                    };
                    let slot = var.as_ref().and_then(|v| self.lookup(&v.to_string()));
                    let held = slot.and_then(|s| self.env[s].value.filter(|_| self.env[s].mutable));
                    let (Some(var), Some(v)) = (var, held) else {
                        self.err_at(
                            r,
                            "a `&mut` argument of a closure's call must be a `mut` local \
                             variable (`let mut y = ..; f(&mut y, k);`) or an element of one \
                             (`f(&mut v[i], k);`, with plain indices): the closure is expanded \
                             as code that takes the variable's value and gives back its new \
                             value; lend a local copy of anything else and write it back (`let \
                             mut p = s.p; f(&mut p, k); s.p = p;`)",
                        );
                        return None;
                    };
                    let pat = match pat {
                        Pat::Type(pt) => &mut *pt.pat,
                        p => p,
                    };
                    let ident = match pat {
                        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => pi,
                        p => {
                            self.err_at(
                                p,
                                "bind a closure's `&mut` parameter to a name (`|v: &mut f64| \
                                 *v += 1.0`)",
                            );
                            return None;
                        }
                    };
                    ident.mutability = Some(Default::default());
                    names.push(ident.ident.clone());
                    vars.push(var);
                    items.push(Item::val(v));
                }
                Expr::Reference(r) => items.push(Item::Val {
                    v: self.expr(b, &r.expr, true)?,
                    refs: 1,
                }),
                e => items.push(Item::Val {
                    v: self.expr(b, e, true)?,
                    refs: self.path_refs(e),
                }),
            }
        }
        let mut body = (*cl.body).clone();
        crate::mut_self::deref_buffers(&names, &mut body);
        // The closure's own value, where the call's is used (typed as declared, `|..| -> f64 {
        // .. }`); a statement's call drops it (`f(&mut out, v);` of `|o: &mut Vec<f64>, v|
        // o.push(v)`).
        let value = want && !is_unit(&cl.body);
        let ty = match std::mem::replace(&mut cl.output, syn::ReturnType::Default) {
            syn::ReturnType::Type(_, t) => Some(quote!(: #t)),
            syn::ReturnType::Default => None,
        };
        let r = quote::format_ident!("__ad_value", span = span);
        *cl.body = match value {
            true => syn::parse_quote_spanned!(span=> { let #r #ty = #body; (#(#names,)* #r) }),
            false => syn::parse_quote_spanned!(span=> { #body; (#(#names,)*) }),
        };
        let item = self.expand_closure(b, &cl, def.scope, def.captured.as_deref(), items, span)?;
        let t = self.item_value(b, item, false, span)?;
        let t_name = quote::format_ident!("__ad_lent{}", t.index(), span = span);
        self.hidden(&t_name.to_string(), t);
        for (k, var) in vars.iter().enumerate() {
            let k = syn::Index::from(k);
            let assign: Expr = syn::parse_quote_spanned!(span=> #var = #t_name.#k);
            self.expr(b, &assign, false);
        }
        if !value {
            return None;
        }
        let k = syn::Index::from(vars.len());
        let read: Expr = syn::parse_quote_spanned!(span=> #t_name.#k);
        self.expr(b, &read, true)
    }

    /// The closure's body lowered with its parameters bound to `args`, in the scope it was
    /// written in (the first `scope` bindings), into block `b`.
    pub(super) fn expand_closure(
        &mut self,
        b: Block,
        cl: &syn::ExprClosure,
        scope: usize,
        captured: Option<&[Option<Value>]>,
        args: Vec<Item>,
        span: Span,
    ) -> Option<Item> {
        if cl.inputs.len() != args.len() {
            self.err(
                span,
                format!(
                    "this closure takes {} argument(s) but is called with {}",
                    cl.inputs.len(),
                    args.len()
                ),
            );
            return None;
        }
        if Jumps::in_expr(&cl.body).returns {
            self.err_at(
                &cl.body,
                "`return` inside a closure is not supported in a differentiated function; make \
                 the closure's value its last expression (`if c { a } else { b }`)",
            );
            return None;
        }
        let saved = self.env.clone();
        let loops = std::mem::take(&mut self.loops);
        self.env.truncate(scope.min(self.env.len()));
        if let Some(vals) = captured {
            for (slot, v) in vals.iter().enumerate().take(self.env.len()) {
                self.env[slot].value = *v;
            }
        }
        for (pat, item) in cl.inputs.iter().zip(args) {
            self.bind_item(b, pat, item, span);
        }
        let mut v = self.expr(b, &cl.body, !is_unit(&cl.body));
        // `|a, b| -> f64 { .. .sum() }`: the declared result type is what types the body's
        // value (a `sum()` without a turbofish), as for a `let` with a type.
        if let (syn::ReturnType::Type(_, ty), Some(value)) = (&cl.output, v) {
            if !mentions_ref_or_infer(ty) {
                let kind = if crate::types::is_float_type(ty) {
                    Kind::Float
                } else if crate::types::is_inactive_type(ty) {
                    Kind::Discrete
                } else {
                    self.kind(value)
                };
                let ty = (**ty).clone();
                v = Some(self.inst1(b, InstKind::Ascribe { value, ty }, kind, span));
            }
        }
        // What the closure returns is a struct of the user's where the closure says so (see
        // `closure_struct`: `|t| -> V3 { .. }`, `|t| P { .. }`, `|t| V3::new(..)`): its methods
        // and operators are the struct's, on the call (`mk(w).r()`) and on a local bound to it
        // (`let a = at(x); (a - b).norm()`).
        if let Some(value) = v
            && let Some(ty) = self.closure_struct(cl)
        {
            self.struct_values.push((value, ty));
        }
        let mut refs = self.path_refs(&cl.body);
        // A closure that returns a borrow of what it reads (`|&i| &x[i]`, `|k| &x[k % n]` of
        // `x.iter().cycle()`): an item that is a reference to that value, which a later
        // `copied()` or `cloned()` takes off (`.copied().collect::<Vec<f64>>()`), as a loop's
        // item over `x.iter()` is.
        // Also the value a block ends with (`|&i| { let k = i % n; &x[k] }`), where a name
        // it borrows may be the block's own (whose references are not counted then).
        let mut body = &*cl.body;
        let mut in_block = false;
        loop {
            body = match body {
                Expr::Paren(syn::ExprParen { expr, .. })
                | Expr::Group(syn::ExprGroup { expr, .. }) => expr,
                Expr::Block(eb) if eb.label.is_none() => match eb.block.stmts.last() {
                    Some(Stmt::Expr(e, None)) => {
                        in_block = true;
                        e
                    }
                    _ => break,
                },
                _ => break,
            };
        }
        if let Expr::Reference(r) = body
            && r.mutability.is_none()
            && !(in_block && matches!(&*r.expr, Expr::Path(_)))
            && let Some(value) = v
            && let ValueDef::Result(i, 0) = self.f.value(value).def
        {
            match &self.f.inst(i).kind {
                InstKind::Ref(u) => {
                    v = Some(*u);
                    refs = self.path_refs(&r.expr).saturating_add(1);
                }
                // `|p| &p.x`: the field read by value, as `p.x` is, under the reference.
                InstKind::FieldRef(..) => {
                    let k = self.kind(value);
                    v = Some(self.inst1(b, InstKind::Deref(value), k, span));
                    refs = 1;
                }
                _ => {}
            }
        }
        let updated: Vec<Option<Value>> = self.env[..scope.min(self.env.len())]
            .iter()
            .map(|b| b.value)
            .collect();
        self.env = saved;
        self.loops = loops;
        if captured.is_none() {
            // What an `FnMut` closure assigns of its scope is the new value there.
            for (slot, v) in updated.into_iter().enumerate() {
                self.env[slot].value = v;
            }
        }
        v.map(|v| Item::Val { v, refs })
    }

    /// The struct of the user's that the closure `cl` returns: its declared result type, the
    /// struct literal or constructor (`V3::new(..)`) its body ends with, or the local its body
    /// ends with where the body declares it with the struct's type or builds it so.
    pub(super) fn closure_struct(&self, cl: &syn::ExprClosure) -> Option<syn::Path> {
        if let syn::ReturnType::Type(_, ty) = &cl.output {
            return self.user_struct(ty);
        }
        let mut tail = &*cl.body;
        let mut body = None;
        while let Expr::Block(bl) = strip(tail) {
            match bl.block.stmts.last() {
                Some(Stmt::Expr(e, None)) if bl.label.is_none() => {
                    body = Some(&bl.block.stmts);
                    tail = e;
                }
                _ => return None,
            }
        }
        // `|..| { let mut a = V3::new(..); ..; a }`: the variable the body declares last by
        // that name, with a struct's type or built by its literal or constructor.
        if let (Expr::Path(p), Some(stmts)) = (strip(tail), body)
            && let Some(id) = p.path.get_ident()
        {
            let local = stmts.iter().rev().find_map(|s| match s {
                Stmt::Local(l) => {
                    let (pat, ty) = match &l.pat {
                        Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
                        p => (p, None),
                    };
                    match pat {
                        Pat::Ident(pi) if pi.ident == *id => Some((ty, l.init.as_ref())),
                        _ => None,
                    }
                }
                _ => None,
            })?;
            return match local {
                (Some(ty), _) => self.user_struct(ty),
                (None, Some(init)) if init.diverge.is_none() => {
                    let ty: syn::Type =
                        syn::parse2(super::calls::built_struct(&init.expr)?).ok()?;
                    self.user_struct(&ty)
                }
                _ => None,
            };
        }
        let ty: syn::Type = syn::parse2(super::calls::built_struct(tail)?).ok()?;
        self.user_struct(&ty)
    }

    /// The references of a bare variable's type (`|x| x` passes `x` on as it is).
    pub(super) fn path_refs(&self, e: &Expr) -> u8 {
        match e {
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|id| self.lookup(&id.to_string()))
                .map_or(0, |slot| self.env[slot].refs),
            Expr::Paren(p) => self.path_refs(&p.expr),
            _ => 0,
        }
    }

    /// Binds a pattern (of a closure parameter or a `for` loop) to an item, following Rust's
    /// binding modes: `&x` takes a reference off, `(a, b)` through a reference binds by reference.
    pub(super) fn bind_item(&mut self, b: Block, pat: &Pat, item: Item, span: Span) {
        match (pat, item) {
            (Pat::Ident(pi), item) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                let mutable = pi.mutability.is_some();
                match item {
                    Item::Window { w, .. } => {
                        let mut binding = Binding::new(name, None, false);
                        binding.window = Some(w);
                        self.env.push(binding);
                    }
                    Item::Cell { cell, refs } => {
                        // `b` of `for b in bodies.iter_mut()` over a `Vec` of the user's
                        // structs: its methods are the struct's (`b.force(k)`), as for `&bodies`.
                        let place_ty = self.slot_elem_type(cell.slot);
                        // Its operators are the struct's too, through `*b` (`*a = *a * ph`).
                        let container = syn::Ident::new(&self.env[cell.slot].name, span);
                        let struct_ty = place_ty
                            .clone()
                            .and_then(|t| syn::parse2::<syn::Type>(t).ok())
                            .and_then(|t| self.user_struct(&t))
                            .or_else(|| self.container_struct(&syn::parse_quote!(#container)));
                        let mut binding = Binding::new(name, None, false);
                        binding.cell = Some(cell);
                        binding.refs = refs;
                        binding.place_ty = place_ty;
                        binding.struct_ty = struct_ty;
                        self.env.push(binding);
                    }
                    item => {
                        let refs = match &item {
                            Item::Val { refs, .. } | Item::Tuple { refs, .. } => *refs,
                            Item::Window { .. } | Item::Cell { .. } => 0,
                        };
                        let Some(v) = self.item_value(b, item, false, span) else {
                            return;
                        };
                        let place = self.elem_places.iter().find(|(p, ..)| *p == v);
                        let (place_ty, user) =
                            place.map_or((None, false), |(_, t, u)| (Some(t.clone()), *u));
                        self.bind_mut(name, Some(v), mutable);
                        if let Some(last) = self.env.last_mut() {
                            last.element = true;
                            last.refs = refs;
                            last.place_ty = place_ty;
                            // An element of a container of the user's structs: its methods
                            // are the struct's, as on a local a literal built.
                            last.built |= user;
                        }
                    }
                }
            }
            (Pat::Reference(r), Item::Cell { cell, .. }) => {
                // `&mut x` (or `&x`) of an element reference: the element's value.
                if let Some(v) = self.cell_read(b, cell, span) {
                    self.bind_item(b, &r.pat, Item::val(v), span);
                }
            }
            // `&t` of an item that is a reference value (`for &t in sent` of `sent: &[&str]`,
            // whose item is `&sent[i]`, see `source_item`): what it borrows, a `&str`, as
            // the pattern binds in Rust.
            (Pat::Reference(r), Item::Val { v, refs: 0 })
                if let ValueDef::Result(i, 0) = self.f.value(v).def
                    && let InstKind::Ref(x) = self.f.inst(i).kind =>
            {
                self.bind_item(b, &r.pat, Item::val(x), span)
            }
            (Pat::Reference(r), item) => self.bind_item(b, &r.pat, item.deref(), span),
            (Pat::Paren(p), item) => self.bind_item(b, &p.pat, item, span),
            (Pat::Wild(_), _) => {}
            (Pat::Type(pt), item) => {
                let item = match (&*pt.ty, item) {
                    // The references are the item's own; an annotation naming them (or `_`)
                    // adds nothing the lowering keeps.
                    (ty, item) if mentions_ref_or_infer(ty) => item,
                    (ty, item) => {
                        // `|v: f64|`: the annotation is kept so that rustc types the argument.
                        let Some(v) = self.item_value(b, item, false, span) else {
                            return;
                        };
                        let kind = if crate::types::is_float_type(ty) {
                            Kind::Float
                        } else if crate::types::is_inactive_type(ty) {
                            Kind::Discrete
                        } else {
                            self.kind(v)
                        };
                        let a = self.inst1(
                            b,
                            InstKind::Ascribe {
                                value: v,
                                ty: ty.clone(),
                            },
                            kind,
                            pt.span(),
                        );
                        Item::val(a)
                    }
                };
                self.bind_item(b, &pt.pat, item, span);
                // `|p: &Particle| p.energy()`: a name declared as a struct of the user's has its
                // methods and operators; `|ps: &[Particle], i: usize| ps[i + 1] - ps[i]`, a
                // container of them, has them on its elements.
                if let Pat::Ident(pi) = &*pt.pat {
                    let last = self.env.len().checked_sub(1);
                    let slot = last.filter(|&s| pi.ident == self.env[s].name);
                    if let (Some(slot), Some(ty)) = (slot, self.user_struct(&pt.ty)) {
                        self.declare_struct(slot, ty);
                    } else if let (Some(slot), Some(elem)) = (slot, super::calls::elem_type(&pt.ty))
                        && self.user_struct(elem).is_some()
                    {
                        self.env[slot].elem_ty = Some(quote!(#elem));
                    }
                }
            }
            (Pat::Tuple(pt), Item::Tuple { elems, refs }) if pt.elems.len() == elems.len() => {
                for (p, e) in pt.elems.iter().zip(elems) {
                    let mut e = e;
                    for _ in 0..refs {
                        e = e.by_ref();
                    }
                    self.bind_item(b, p, e, span);
                }
            }
            (Pat::Tuple(pt), Item::Val { v, refs }) => {
                for (n, p) in pt.elems.iter().enumerate() {
                    let field = self.field(b, v, n as u32, p.span());
                    self.bind_item(b, p, Item::Val { v: field, refs }, span);
                }
            }
            // `for &[l, r] in rows`, `|[x, y]| ..`: each name an element read.
            (Pat::Slice(ps), Item::Val { v, refs })
                if !ps.elems.iter().any(|p| matches!(p, Pat::Rest(_))) =>
            {
                for (n, p) in ps.elems.iter().enumerate() {
                    if !matches!(p, Pat::Wild(_)) {
                        let e = self.element_at(b, v, n, p.span());
                        self.bind_item(b, p, Item::Val { v: e, refs }, span);
                    }
                }
            }
            (Pat::Slice(ps), Item::Cell { cell, refs }) => {
                // Each name bound to the item, so that the body's `*x` reports nothing more.
                for p in &ps.elems {
                    if let Pat::Ident(pi) = p {
                        let mut binding = Binding::new(pi.ident.to_string(), None, false);
                        binding.cell = Some(cell);
                        binding.refs = refs;
                        self.env.push(binding);
                    }
                }
                self.err_at(
                    pat,
                    "an array pattern over items taken by mutable reference (`for [x, v] in \
                 s.iter_mut()`) is followed where the loop's body reads each name as `*x` or \
                 calls a method on it (`x.sin()`), and binds none of them again; name the item \
                 instead, `for p in s.iter_mut()`, and write its elements as `p[0]`, `p[1]`",
                )
            }
            (p, _) => self.err_at(
                p,
                "this pattern is not supported here; use a name, `&name`, `_`, a tuple of them \
                 or an array of them (`[a, b]`)",
            ),
        }
    }

    /// The value of an item (a tuple of values for a tuple). With `as_written`, references are
    /// taken as the Rust type has them (to pass the item to a function).
    pub(super) fn item_value(
        &mut self,
        b: Block,
        item: Item,
        as_written: bool,
        span: Span,
    ) -> Option<Value> {
        match item {
            Item::Val { v, refs } => {
                let mut v = v;
                if as_written {
                    for _ in 0..refs {
                        let k = self.kind(v);
                        v = self.inst1(b, InstKind::Ref(v), k, span);
                    }
                }
                Some(v)
            }
            Item::Tuple { elems, .. } => {
                let mut vals = Vec::new();
                let mut kind = Kind::Discrete;
                for e in elems {
                    let v = self.item_value(b, e, as_written, span)?;
                    kind = kind.join(self.kind(v));
                    vals.push(v);
                }
                Some(self.inst1(b, InstKind::Tuple(vals), kind, span))
            }
            // A window of data (`for w in tags.windows(2).enumerate() { let (t, pair) = w;
            // .. }` of `tags: &[usize]`): the borrowed range it is in Rust, run as written.
            Item::Window { w, refs } if self.kind(w.base) == Kind::Discrete => {
                let mut v = self.int_op(
                    b,
                    quote::quote!(&__ad_b[__ad_s..__ad_s + __ad_l]),
                    &[("__ad_b", w.base), ("__ad_s", w.start), ("__ad_l", w.len)],
                    span,
                );
                if as_written {
                    for _ in 0..refs {
                        v = self.inst1(b, InstKind::Ref(v), Kind::Discrete, span);
                    }
                }
                Some(v)
            }
            Item::Window { .. } => {
                self.err(
                    span,
                    "a window of a slice (`w` of `x.windows(k)` or `x.chunks(k)`) can be read \
                     as `w[i]` and `w.len()`, iterated over, lent to a function or copied \
                     (`w.to_vec()`); here it would have to be a value, a reference kept (a \
                     `Vec<&[f64]>` of windows has no gradient type): copy each window, \
                     `x.chunks(2).map(|c| [c[0], c[1]]).collect::<Vec<[f64; 2]>>()` or \
                     `.map(|c| c.to_vec())`, or read the elements by index, `x[2 * i + k]`",
                );
                None
            }
            Item::Cell { cell, refs } => {
                let v = self.cell_read(b, cell, span)?;
                self.item_value(b, Item::Val { v, refs }, as_written, span)
            }
        }
    }

    /// The item with its element references read as values: for code that compares or ranks
    /// items rather than writing through them.
    pub(super) fn settle(&mut self, b: Block, item: Item, span: Span) -> Item {
        match item {
            Item::Cell { cell, refs } => match self.cell_read(b, cell, span) {
                Some(v) => Item::Val { v, refs },
                None => Item::Cell { cell, refs },
            },
            Item::Tuple { elems, refs } => Item::Tuple {
                elems: elems.into_iter().map(|e| self.settle(b, e, span)).collect(),
                refs,
            },
            item => item,
        }
    }

    /// A closure or function with a discrete result (a predicate, a comparison, a key), run as
    /// written on the items as Rust passes them: `(|&&x| x > 0.0)(&&x_3)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_as_written(
        &mut self,
        b: Block,
        fun: &Expr,
        args: &[Item],
        same: bool,
        keys: Option<TokenStream>,
        extra: TokenStream,
        span: Span,
    ) -> Option<Value> {
        if let Some(def) = self.closure_named(fun) {
            let cl = def.expr.clone();
            return self.run_as_written(b, &Expr::Closure(cl), args, same, keys, extra, span);
        }
        let mut uses = Vec::new();
        let mut arg_tokens = Vec::new();
        for a in args {
            // Each argument by reference: a value through a borrow made in `b`, so that a row
            // or a struct `retain` keeps is not moved into its predicate's call.
            let arg = match self.settle(b, a.clone(), span) {
                Item::Val { v, refs } => {
                    let a = Item::Val { v, refs: refs + 1 };
                    self.item_tokens(b, &a, &mut uses, span)
                }
                a => {
                    let t = self.item_tokens(b, &a, &mut uses, span);
                    quote!(&#t)
                }
            };
            arg_tokens.push(arg);
        }
        let f = strip(fun);
        // Called through a generic function, so that rustc knows the closure's parameter types
        // from the arguments before it checks the body (as it does in `filter(..)`). With
        // `same`, the arguments have one type (the best item so far and the next one).
        let n = args.len();
        let tys: Vec<syn::Ident> = (0..n)
            .map(|k| quote::format_ident!("__AdA{}", if same { 0 } else { k }))
            .collect();
        let decl: Vec<&syn::Ident> = if same {
            tys.iter().take(1).collect()
        } else {
            tys.iter().collect()
        };
        let params: Vec<syn::Ident> = (0..n)
            .map(|k| quote::format_ident!("__ad_a{}", k))
            .collect();
        let tokens = match keys {
            // `max_by_key`: the key of each argument, compared.
            Some(cmp) => quote!({
                #[inline(always)]
                fn __ad_keys<__AdA0, __AdK>(
                    f: impl ::core::ops::Fn(__AdA0) -> __AdK,
                    __ad_a0: __AdA0,
                    __ad_a1: __AdA0,
                ) -> (__AdK, __AdK) {
                    (f(__ad_a0), f(__ad_a1))
                }
                let (__ad_ka, __ad_kb) = __ad_keys(#f, #(#arg_tokens),*);
                __ad_ka #cmp __ad_kb
            }),
            None => quote!({
                #[inline(always)]
                fn __ad_call<#(#decl,)* __AdR>(
                    f: impl ::core::ops::FnOnce(#(#tys),*) -> __AdR,
                    #(#params: #tys),*
                ) -> __AdR {
                    f(#(#params),*)
                }
                __ad_call(#f, #(#arg_tokens),*) #extra
            }),
        };
        let (tokens, mut captured) = self.with_refs(b, &f.to_token_stream(), tokens, span);
        captured.retain(|(n, _)| !uses.iter().any(|(u, _): &(syn::Ident, Value)| u == n));
        uses.extend(captured);
        let i = self.f.push_inst(
            b,
            InstKind::Opaque {
                tokens,
                uses,
                mac: None,
            },
            1,
            Kind::Discrete,
            span,
        );
        Some(self.f.inst(i).results[0])
    }

    /// Tokens that rebuild an item as Rust has it, naming its values `__ad_it<n>`. An item
    /// Rust passes by reference — an element of a field of the user's structs (a layer of
    /// `Vec<Layer>` given to `filter`), a row of `&[Vec<f64>]` or the best row so far given to
    /// `max_by` — need not be `Copy`: it is bound by reference (a borrow made in `b`), so that
    /// it is still there afterwards.
    pub(super) fn item_tokens(
        &mut self,
        b: Block,
        item: &Item,
        uses: &mut Vec<(syn::Ident, Value)>,
        span: Span,
    ) -> TokenStream {
        let bind = |v: Value, uses: &mut Vec<(syn::Ident, Value)>| {
            let id = quote::format_ident!("__ad_it{}", uses.len());
            uses.push((id.clone(), v));
            id
        };
        let (inner, refs) = match item {
            Item::Val { v, refs } if *refs > 0 => {
                let k = self.kind(*v);
                let r = self.inst1(b, InstKind::Ref(*v), k, span);
                let id = bind(r, uses);
                (quote!(#id), *refs - 1)
            }
            Item::Val { v, refs } => {
                let id = bind(*v, uses);
                (quote!(#id), *refs)
            }
            Item::Tuple { elems, refs } => {
                let parts: Vec<TokenStream> = elems
                    .iter()
                    .map(|e| self.item_tokens(b, e, uses, span))
                    .collect();
                (quote!((#(#parts,)*)), *refs)
            }
            Item::Window { w, refs } => {
                // The container through a borrow made in `b`: bound by value, a `Vec` would be
                // moved into the first item's tokens (a predicate run in a loop).
                let k = self.kind(w.base);
                let r = self.inst1(b, InstKind::Ref(w.base), k, span);
                let (base, start, len) = (bind(r, uses), bind(w.start, uses), bind(w.len, uses));
                (quote!(&#base[#start..#start + #len]), *refs)
            }
            // Read by `settle` before the tokens are made.
            Item::Cell { .. } => (
                quote!(::core::compile_error!(
                    "an element reference here is not supported"
                )),
                0,
            ),
        };
        let amps = (0..refs).map(|_| quote!(&));
        quote!(#(#amps)* #inner)
    }
}
