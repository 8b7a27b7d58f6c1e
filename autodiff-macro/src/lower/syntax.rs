//! Questions about syntax trees: which names a pattern binds, which variables code assigns.

use super::*;

pub(super) fn collect_pat_bindings(p: &Pat, out: &mut Vec<syn::Ident>) {
    match p {
        Pat::Ident(pi) => {
            // A lone capitalised name is a unit variant or constant, not a binding.
            let s = pi.ident.to_string();
            let is_const_like =
                pi.subpat.is_none() && s.chars().next().is_some_and(|c| c.is_uppercase());
            if !is_const_like {
                out.push(pi.ident.clone());
            }
            if let Some((_, sub)) = &pi.subpat {
                collect_pat_bindings(sub, out);
            }
        }
        Pat::Or(po) => {
            if let Some(first) = po.cases.first() {
                collect_pat_bindings(first, out);
            }
        }
        Pat::Paren(pp) => collect_pat_bindings(&pp.pat, out),
        Pat::Reference(pr) => collect_pat_bindings(&pr.pat, out),
        Pat::Slice(ps) => ps.elems.iter().for_each(|e| collect_pat_bindings(e, out)),
        Pat::Struct(ps) => ps
            .fields
            .iter()
            .for_each(|f| collect_pat_bindings(&f.pat, out)),
        Pat::Tuple(pt) => pt.elems.iter().for_each(|e| collect_pat_bindings(e, out)),
        Pat::TupleStruct(pt) => pt.elems.iter().for_each(|e| collect_pat_bindings(e, out)),
        Pat::Type(pt) => collect_pat_bindings(&pt.pat, out),
        _ => {}
    }
}

/// Names assigned (`x = ..`, `x += ..`) anywhere inside a node, of variables declared outside
/// it: a variable a `let` inside the node declares (and then assigns) is not one of them, even
/// where it shadows an outer one (`let mut s = 0.0;` in a loop, for a parameter `s`).
/// The second list holds every plain name the node mentions: the closures it may call.
/// The third holds the names declared by the blocks and patterns being visited.
#[derive(Default)]
pub struct AssignedNames(
    pub(super) Vec<String>,
    pub(super) Vec<String>,
    Vec<Vec<String>>,
);

impl AssignedNames {
    /// Records a write of `name`, unless it is a variable declared inside the node.
    fn write(&mut self, name: String) {
        if !self.2.iter().any(|scope| scope.contains(&name)) {
            self.0.push(name);
        }
    }

    /// Declares the names `pat` binds in the innermost scope.
    fn declare(&mut self, pat: &Pat) {
        let mut ids = Vec::new();
        collect_pat_bindings(pat, &mut ids);
        if let Some(scope) = self.2.last_mut() {
            scope.extend(ids.iter().map(|i| i.to_string()));
        }
    }
}

/// What a node writes to the variables it names: the whole (`z = e`, with `e`), a part (`z +=
/// e`, `z.x = e`, `z[i] += e`), or what a method called on it is given (`s.step(k)`, with the
/// arguments), which may change it. The second list holds the plain names the node calls
/// (`add(v)`): the local closures whose bodies run there.
#[derive(Default)]
pub struct AssignedValues(pub(super) Vec<(String, Written)>, pub(super) Vec<String>);

pub enum Written {
    Whole(Expr),
    Part,
    Given(Vec<Expr>),
}

impl<'ast> Visit<'ast> for AssignedValues {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        match &*a.left {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let id = p
                    .path
                    .get_ident()
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                self.0.push((id, Written::Whole((*a.right).clone())));
            }
            e => {
                if let Some(id) = target_root(e) {
                    self.0.push((id.to_string(), Written::Part));
                }
            }
        }
        syn::visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        use syn::BinOp as B;
        if matches!(
            b.op,
            B::AddAssign(_) | B::SubAssign(_) | B::MulAssign(_) | B::DivAssign(_) | B::RemAssign(_)
        ) && let Some(id) = target_root(&b.left)
        {
            self.0.push((id.to_string(), Written::Part));
        }
        syn::visit::visit_expr_binary(self, b);
    }
    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        if let Expr::Path(p) = &*mc.receiver
            && let Some(id) = p.path.get_ident()
        {
            let args = mc.args.iter().cloned().collect();
            self.0.push((id.to_string(), Written::Given(args)));
        }
        syn::visit::visit_expr_method_call(self, mc);
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func
            && let Some(id) = p.path.get_ident()
        {
            self.1.push(id.to_string());
        }
        syn::visit::visit_expr_call(self, c);
    }
}

/// Whether method `name` lends its receiver mutably (`chunks_mut`, `as_mut_slice`,
/// `row_mut`). Not a cell's `borrow_mut`: the cell is data, changed through its guard as
/// written.
pub(super) fn lends_mutably(name: &str) -> bool {
    name != "borrow_mut" && name.split('_').skip(1).any(|w| w == "mut")
}

/// The variable an assignment target writes: `h` in `h = ..`, `h[i] = ..`, `*h = ..` and
/// `*h.last_mut().unwrap() = ..`, and the receiver of a mutation of a region of it
/// (`h.row_mut(i).assign(..)`).
pub(super) fn target_root(e: &Expr) -> Option<&syn::Ident> {
    match e {
        Expr::Path(p) => p.path.get_ident(),
        Expr::Index(ix) => target_root(&ix.expr),
        Expr::Field(f) => target_root(&f.base),
        Expr::Paren(p) => target_root(&p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => target_root(&u.expr),
        Expr::MethodCall(mc)
            if matches!(
                mc.method.to_string().as_str(),
                "unwrap"
                    | "expect"
                    | "first_mut"
                    | "last_mut"
                    | "get_mut"
                    | "row_mut"
                    | "column_mut"
                    | "slice_mut"
            ) =>
        {
            target_root(&mc.receiver)
        }
        _ => None,
    }
}

impl<'ast> Visit<'ast> for AssignedNames {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        // `(a, b) = ..` assigns each element.
        fn roots<'e>(e: &'e Expr, out: &mut Vec<&'e syn::Ident>) {
            match e {
                Expr::Tuple(t) => t.elems.iter().for_each(|e| roots(e, out)),
                Expr::Paren(p) => roots(&p.expr, out),
                e => out.extend(target_root(e)),
            }
        }
        let mut ids = Vec::new();
        roots(&a.left, &mut ids);
        for id in ids {
            self.write(id.to_string());
        }
        syn::visit::visit_expr_assign(self, a);
    }
    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        use syn::BinOp as B;
        if matches!(
            b.op,
            B::AddAssign(_) | B::SubAssign(_) | B::MulAssign(_) | B::DivAssign(_) | B::RemAssign(_)
        ) {
            if let Some(id) = target_root(&b.left) {
                self.write(id.to_string());
            }
        }
        syn::visit::visit_expr_binary(self, b);
    }
    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        // `v.push(x)`: a new version of `v`. So is `v.iter_mut()` (`for e in v.iter_mut()`,
        // `v.iter_mut().for_each(..)`): its items are written, and inside a branch the item
        // variables are not in scope yet where the branch's assignments are collected.
        let method = mc.method.to_string();
        // A sort is a permutation written back element by element (`Lowering::sort_by`).
        let sorts = matches!(
            method.as_str(),
            "sort_by"
                | "sort_unstable_by"
                | "sort_by_key"
                | "sort_unstable_by_key"
                | "sort_by_cached_key"
        );
        // Any `_mut` or `_inplace` method lends its receiver to code that may change it (`for c
        // in buf.chunks_mut(k)`, `b.as_mut_slice()`, `a.mapv_inplace(f)`): a loop or branch
        // around it carries the receiver, also where the lowering rejects or rewrites the call.
        let lends = lends_mutably(&method) || method.ends_with("_inplace");
        // A method of the user's lent buffers (`let m = rng.fill_sum(&mut eps);`, its result
        // used) gives its receiver back beside them, changed (see `Lowering::self_lent_call`).
        let lent = super::calls::is_user_method(mc)
            && super::calls::passes_mut(&Expr::MethodCall(mc.clone()));
        if MutId::find(&method).is_some() || lends || sorts || lent {
            match &*mc.receiver {
                Expr::Path(p) => {
                    if let Some(id) = p.path.get_ident() {
                        self.write(id.to_string());
                    }
                }
                // `s.v.push(x)`, `rows[i].push(x)`: a new version of `s`, of `rows`; and
                // `a.row_mut(i).assign(&v)`, of `a`.
                e @ (Expr::Field(_) | Expr::Index(_) | Expr::MethodCall(_)) => {
                    if let Some(id) = target_root(e) {
                        self.write(id.to_string());
                    }
                }
                _ => {}
            }
        }
        syn::visit::visit_expr_method_call(self, mc);
    }
    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        // Inside a loop, `return` sets the loop-carried return value and flag.
        self.0.push(RET_VALUE.into());
        self.0.push(RET_FLAG.into());
        syn::visit::visit_expr_return(self, r);
    }
    fn visit_expr_reference(&mut self, r: &'ast syn::ExprReference) {
        // `&mut x` lends `x` to code that may change it.
        if r.mutability.is_some() {
            // Also a reborrow, `&mut *c` of a `&mut` parameter (how one is lent to `Zip`).
            let mut target = &*r.expr;
            loop {
                target = match target {
                    Expr::Field(f) => &f.base,
                    Expr::Paren(p) => &p.expr,
                    Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &u.expr,
                    _ => break,
                };
            }
            if let Expr::Path(p) = target {
                if let Some(id) = p.path.get_ident() {
                    self.write(id.to_string());
                }
            }
        }
        syn::visit::visit_expr_reference(self, r);
    }
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(id) = p.path.get_ident() {
            self.1.push(id.to_string());
        }
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        // Closures are expanded where they are used: what they assign, that code assigns,
        // except their parameters (`|mut s| { s += 1.0; s }` leaves an outer `s` alone).
        self.2.push(Vec::new());
        c.inputs.iter().for_each(|p| self.declare(p));
        self.visit_expr(&c.body);
        self.2.pop();
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        // `s.step(dt);`, a method whose result is not used, may take `&mut self`: a new
        // version of `s` (see `Lowering::mut_self_call`).
        // So is `bodies[i].step(dt);` of `bodies`.
        if let syn::Stmt::Expr(Expr::MethodCall(mc), Some(_)) = s {
            if super::calls::is_user_method(mc) {
                let root = match &*mc.receiver {
                    Expr::Path(p) => p.path.get_ident(),
                    e @ Expr::Index(_) => target_root(e),
                    _ => None,
                };
                if let Some(id) = root {
                    self.write(id.to_string());
                }
            }
        }
        syn::visit::visit_stmt(self, s);
    }
    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.2.push(Vec::new());
        syn::visit::visit_block(self, b);
        self.2.pop();
    }
    fn visit_local(&mut self, l: &'ast syn::Local) {
        // The initializer runs before the names exist.
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, e)) = &init.diverge {
                self.visit_expr(e);
            }
        }
        self.declare(&l.pat);
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        self.2.push(Vec::new());
        self.declare(&f.pat);
        self.visit_block(&f.body);
        self.2.pop();
    }
    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.2.push(Vec::new());
        match &a.pat {
            Pat::Guard(g) => {
                self.declare(&g.pat);
                self.visit_expr(&g.guard);
            }
            p => self.declare(p),
        }
        self.visit_expr(&a.body);
        self.2.pop();
    }
}

/// Rewrites `if let` and `while let` into the `match` they stand for (and `x.split_at(k)` into
/// its two range slices, and `for row in a.rows()` into a loop over `a.row(i)`), so that the rest of the lowering sees one form: `if let P = e { A }
/// else { B }` is `match e { P => { A } _ => B }`, and `while let P = e { A }` is `loop { if let
/// P = e { A } else { break } }`; an element taken out of a container (`while let Some(v) =
/// stack.pop()`) is a test and the element read (`while !stack.is_empty() { let v =
/// stack.pop().unwrap(); .. }`). A condition that
/// chains `let`s and tests with `&&` (`if let Some(i) = k && i > 0`) is a nest of them, `B`
/// repeated in each fallback arm (it runs at most once either way).
/// The path of the one-dimensional ndarray type of `collect::<Array1<f64>>()` (or
/// `Array<f64, Ix1>`, `Array<_, _>`), without its generic arguments.
fn collected_array(mc: &syn::ExprMethodCall) -> Option<syn::Path> {
    let t = mc.turbofish.as_ref()?;
    let [syn::GenericArgument::Type(syn::Type::Path(tp))] = &t.args.iter().collect::<Vec<_>>()[..]
    else {
        return None;
    };
    let last = tp.path.segments.last()?;
    if tp.qself.is_some() || !(last.ident == "Array1" || last.ident == "Array") {
        return None;
    }
    let mut path = tp.path.clone();
    if let Some(l) = path.segments.last_mut() {
        l.arguments = syn::PathArguments::None;
    }
    Some(path)
}

/// Every identifier in `ts`, groups included (the names a macro's tokens may read).
pub(super) fn idents_of(ts: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for t in ts.clone() {
        match t {
            proc_macro2::TokenTree::Ident(id) => out.push(id.to_string()),
            proc_macro2::TokenTree::Group(g) => out.extend(idents_of(&g.stream())),
            _ => {}
        }
    }
    out
}

/// The iterator consumers that return an `Option` of the best (or the combined) item.
pub(super) const BEST_CONSUMERS: &[&str] = &[
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "max",
    "min",
    "reduce",
];

/// Every name a pattern in the visited code binds (`let`, closure and `match` patterns, `for`
/// variables), visited with [`syn::visit::Visit`].
#[derive(Default)]
pub(super) struct BoundNames(pub Vec<String>);

impl<'ast> syn::visit::Visit<'ast> for BoundNames {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.push(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
}

/// The operands an integer expression is made of (an index, a range's bounds): through
/// parentheses and arithmetic, each operand that is neither given to `leaf`.
fn integer_operands<'e>(e: &'e Expr, leaf: &mut impl FnMut(&'e Expr)) {
    match e {
        Expr::Paren(p) => integer_operands(&p.expr, leaf),
        Expr::Binary(b)
            if matches!(
                b.op,
                syn::BinOp::Add(_)
                    | syn::BinOp::Sub(_)
                    | syn::BinOp::Mul(_)
                    | syn::BinOp::Div(_)
                    | syn::BinOp::Rem(_)
            ) =>
        {
            integer_operands(&b.left, leaf);
            integer_operands(&b.right, leaf);
        }
        Expr::Range(r) => {
            for e in r.start.iter().chain(r.end.iter()) {
                integer_operands(e, leaf);
            }
        }
        e => leaf(e),
    }
}

/// The names the body binds once and uses as integers: as an index or in one (`ys[i]`,
/// `ys[i + 1]`, `x[a..b]`), as a bound of a `for` loop's range (`for k in 0..n`) or as a
/// position given to a container's method (`m.swap(k, p)`, see
/// `calls::position_arguments`). Such a name
/// holds an integer whatever its initializer, which the lowering may not see (the result of a
/// plain helper, `let i = locate(xs, t);`). `params` are bindings too. A tuple whose every read
/// takes an integer out of it (`let seg = bracket(xs, t);` read only as `xs[seg.0]`,
/// `xs[seg.1 - 1]`) is one too: it holds integers only, whatever else the type might hold.
pub(super) fn index_names(block: &syn::Block, params: &[syn::Ident]) -> Vec<String> {
    use syn::visit::Visit;
    #[derive(Default)]
    struct Uses(Vec<String>, Vec<String>);
    impl Uses {
        fn integer(&mut self, e: &Expr) {
            integer_operands(e, &mut |leaf| match leaf {
                Expr::Path(p) if p.qself.is_none() => {
                    if let Some(id) = p.path.get_ident() {
                        self.0.push(id.to_string());
                    }
                }
                // `seg.0`: a read of `seg` that takes an integer out of it.
                Expr::Field(f) if matches!(f.member, syn::Member::Unnamed(_)) => {
                    if let Expr::Path(p) = &*f.base
                        && p.qself.is_none()
                        && let Some(id) = p.path.get_ident()
                    {
                        self.1.push(id.to_string());
                    }
                }
                _ => {}
            });
        }
    }
    impl<'ast> Visit<'ast> for Uses {
        fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
            self.integer(&e.index);
            syn::visit::visit_expr_index(self, e);
        }
        fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
            if let Expr::Range(_) = &*e.expr {
                self.integer(&e.expr);
            }
            syn::visit::visit_expr_for_loop(self, e);
        }
        // The receiver of an integer type's own method (`code.unsigned_abs()`; not one that
        // `Duration` has too, `saturating_sub`) or of `max`, `min`, `clamp`, `rem_euclid` or
        // `div_euclid` given integer literals (`k.max(1)`): floats have no such method and
        // take floats there.
        fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
            let name = e.method.to_string();
            let int_literal = |a: &Expr| match a {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
                    super::expr::is_int_literal(&u.expr)
                }
                a => super::expr::is_int_literal(a),
            };
            if (super::calls::integer_method(&name) && !super::calls::duration_method(&name))
                || (super::calls::same_type_method(&name)
                    && !e.args.is_empty()
                    && e.args.iter().all(int_literal))
            {
                self.integer(&e.receiver);
            }
            for a in super::calls::position_arguments(&name, &e.args) {
                self.integer(a);
            }
            syn::visit::visit_expr_method_call(self, e);
        }
    }
    let mut uses = Uses::default();
    uses.visit_block(block);
    let reads = name_counts(block);
    let mut tuples = uses.1.clone();
    tuples.sort();
    tuples.dedup();
    for t in tuples {
        let integer_reads = uses.1.iter().filter(|n| **n == t).count();
        if reads.get(&t) == Some(&integer_reads) {
            uses.0.push(t);
        }
    }
    // The names bound, once per binding; but `let n = match e { PAT => n, _ => .. };` (a `let
    // PAT = e else { .. };`, as `let_else` writes it) binds each name once: the arm's and
    // the `let`'s are the one variable of the `let .. else`.
    #[derive(Default)]
    struct Bound(Vec<String>);
    impl<'ast> Visit<'ast> for Bound {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_local(&mut self, l: &'ast syn::Local) {
            if let Some(init) = &l.init
                && init.diverge.is_none()
                && let Expr::Match(m) = &*init.expr
                && let [taken, other] = &m.arms[..]
                && matches!(other.pat, Pat::Wild(_))
                && !matches!(taken.pat, Pat::Guard(_))
                && passed_on(&taken.body, &l.pat)
            {
                self.visit_pat(&l.pat);
                self.visit_expr(&m.expr);
                self.visit_expr(&other.body);
                return;
            }
            syn::visit::visit_local(self, l);
        }
    }
    /// Whether `body` is the names `pat` binds, in order (`n` of `let n`, `(a, b)` of `let (a,
    /// mut b)`).
    fn passed_on(body: &Expr, pat: &Pat) -> bool {
        let name = |e: &Expr, p: &Pat| match (e, p) {
            (Expr::Path(e), Pat::Ident(p)) => p.subpat.is_none() && e.path.is_ident(&p.ident),
            _ => false,
        };
        match (body, pat) {
            (Expr::Tuple(t), Pat::Tuple(p)) => {
                t.elems.len() == p.elems.len()
                    && t.elems.iter().zip(&p.elems).all(|(e, p)| name(e, p))
            }
            (e, p) => name(e, p),
        }
    }
    let mut bound = Bound::default();
    bound.visit_block(block);
    bound.0.extend(params.iter().map(|p| p.to_string()));
    uses.0.sort();
    uses.0.dedup();
    uses.0
        .retain(|n| bound.0.iter().filter(|b| *b == n).count() == 1);
    uses.0
}

/// Where a binding is written: its name and its identifier's span, the same in every copy of
/// the binding the lowering makes (a closure's body expanded at each call), so that the
/// lowering can ask about the binding it binds rather than about every binding of its name.
pub(super) fn site_key(id: &syn::Ident) -> (String, String) {
    (id.to_string(), format!("{:?}", id.span()))
}

/// The identifiers a pattern binds (not the capitalised ones, unit variants and constants such
/// as `None`).
pub(super) fn pattern_idents(pat: &Pat) -> Vec<syn::Ident> {
    use syn::visit::Visit;
    struct Idents(Vec<syn::Ident>);
    impl<'ast> Visit<'ast> for Idents {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.clone());
            syn::visit::visit_pat_ident(self, p);
        }
        // What a guard binds (`if let` in it) is not the pattern's.
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    let mut ids = Idents(Vec::new());
    ids.visit_pat(pat);
    ids.0
        .retain(|id| !id.to_string().starts_with(|c: char| c.is_uppercase()));
    ids.0
}

/// The bindings (see [`site_key`]) the body uses as integers, as [`index_names`] finds names,
/// but each use resolved through the scopes to the binding it reads: `let k = nearest(c, x);`
/// with `c[k]` below is an integer whatever other `k` the function binds (`for k in 0..n`, a
/// closure's `|(k, v)|`, another branch's `let k`), each of which is a binding of its own.
/// A binding is one only if every binding written at the same place is one.
pub(super) fn index_sites(block: &syn::Block) -> std::collections::HashSet<(String, String)> {
    use syn::visit::Visit;
    #[derive(Default)]
    struct Sites {
        /// The names in scope, innermost last, each with its binding.
        scopes: Vec<Vec<(String, usize)>>,
        /// Each binding's site and whether a use as an integer reads it.
        sites: Vec<((String, String), bool)>,
        /// The binding of a `let` and the arm's binding it passes on (`let n = match e { PAT
        /// => n, _ => .. };`, as `let .. else` is written): one variable.
        aliases: Vec<(usize, usize)>,
    }
    impl Sites {
        fn bind(&mut self, pat: &Pat) -> Vec<usize> {
            let mut out = Vec::new();
            for id in pattern_idents(pat) {
                let n = self.sites.len();
                self.sites.push((site_key(&id), false));
                if let Some(scope) = self.scopes.last_mut() {
                    scope.push((id.to_string(), n));
                }
                out.push(n);
            }
            out
        }
        fn resolve(&self, name: &str) -> Option<usize> {
            (self.scopes.iter().rev())
                .flat_map(|s| s.iter().rev())
                .find(|(n, _)| n == name)
                .map(|&(_, k)| k)
        }
        fn integer(&mut self, e: &Expr) {
            integer_operands(e, &mut |leaf| {
                if let Expr::Path(p) = leaf
                    && p.qself.is_none()
                    && let Some(k) = p
                        .path
                        .get_ident()
                        .and_then(|id| self.resolve(&id.to_string()))
                {
                    self.sites[k].1 = true;
                }
            });
        }
        fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
            self.scopes.push(Vec::new());
            f(self);
            self.scopes.pop();
        }
    }
    impl<'ast> Visit<'ast> for Sites {
        fn visit_block(&mut self, b: &'ast syn::Block) {
            self.scoped(|s| {
                for stmt in &b.stmts {
                    match stmt {
                        Stmt::Local(l) => {
                            let start = s.sites.len();
                            if let Some(init) = &l.init {
                                s.visit_expr(&init.expr);
                                if let Some((_, e)) = &init.diverge {
                                    s.visit_expr(e);
                                }
                            }
                            let inner = s.sites.len();
                            for k in s.bind(&l.pat) {
                                let name = &s.sites[k].0.0;
                                if let Some(a) = (start..inner).find(|&a| s.sites[a].0.0 == *name) {
                                    s.aliases.push((a, k));
                                }
                            }
                        }
                        Stmt::Item(_) | Stmt::Macro(_) => {}
                        Stmt::Expr(e, _) => s.visit_expr(e),
                    }
                }
            });
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
        fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
            self.scoped(|s| {
                for p in &c.inputs {
                    s.bind(p);
                }
                s.visit_expr(&c.body);
            });
        }
        fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
            if let Expr::Range(_) = &*f.expr {
                self.integer(&f.expr);
            }
            self.visit_expr(&f.expr);
            self.scoped(|s| {
                s.bind(&f.pat);
                s.visit_block(&f.body);
            });
        }
        fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
            self.visit_expr(&m.expr);
            for arm in &m.arms {
                self.scoped(|s| {
                    match &arm.pat {
                        Pat::Guard(g) => {
                            s.bind(&g.pat);
                            s.visit_expr(&g.guard);
                        }
                        p => {
                            s.bind(p);
                        }
                    }
                    s.visit_expr(&arm.body);
                });
            }
        }
        fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
            self.scoped(|s| {
                s.visit_expr(&i.cond);
                s.visit_block(&i.then_branch);
            });
            if let Some((_, e)) = &i.else_branch {
                self.visit_expr(e);
            }
        }
        fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
            self.scoped(|s| {
                s.visit_expr(&w.cond);
                s.visit_block(&w.body);
            });
        }
        fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
            self.visit_expr(&l.expr);
            self.bind(&l.pat);
        }
        fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
            self.integer(&e.index);
            syn::visit::visit_expr_index(self, e);
        }
        fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
            for a in super::calls::position_arguments(&e.method.to_string(), &e.args) {
                self.integer(a);
            }
            syn::visit::visit_expr_method_call(self, e);
        }
    }
    let mut sites = Sites::default();
    sites.visit_block(block);
    for &(arm, bound) in &sites.aliases {
        sites.sites[arm].1 = sites.sites[bound].1;
    }
    let mut out = std::collections::HashSet::new();
    let mut not = std::collections::HashSet::new();
    for (key, integer) in sites.sites {
        if integer {
            out.insert(key);
        } else {
            not.insert(key);
        }
    }
    out.retain(|k| !not.contains(k));
    out
}

/// `for r in [a, b]` of slices or `Vec`s (`[a.to_vec(), b.to_vec()]`, `[&x[..k], &x[k..]]`):
/// the loop over `vec![a.to_vec(), b.to_vec()]`, the same items (as `Vec`s) in the same order,
/// which the lowering follows (an array of them needed its elements to be `Copy`). `containers`
/// are the parameters that are slices, arrays or `Vec`s. An array of floats or of expressions
/// of them (`[x, 2.0 * y]`) stays an array. An array of tuples that hold `floats`, parameters
/// that borrow slices, arrays or `Vec`s of floats, or borrows of them, holds copies of them (see
/// `container_tuples`), in a loop or not, and so does `vec![..]` of such tuples.
pub(super) fn vec_loops_over_containers(
    block: &mut syn::Block,
    containers: &[String],
    floats: &[String],
) {
    use syn::visit_mut::VisitMut;
    /// An element that holds a container: a reference, `to_vec()`/`clone()`, `vec![..]`, a
    /// slice or range index.
    fn container(e: &Expr) -> bool {
        match e {
            Expr::Reference(_) => true,
            Expr::Paren(p) => container(&p.expr),
            Expr::MethodCall(mc) => matches!(mc.method.to_string().as_str(), "to_vec" | "to_owned"),
            Expr::Macro(m) => m.mac.path.is_ident("vec"),
            _ => false,
        }
    }
    /// `[(p1, u1), (p2, u2)]` of tuples of one arity where a position holds a borrow in every
    /// tuple: a slice, array or `Vec` parameter of floats, a borrow of one or of its range, or
    /// a borrow of a local or a field (a camera matrix lent beside its observation, in a loop,
    /// bound by a `let` or at the head of a chain): the tuples with those positions copied,
    /// `((p1).to_vec(), u1)`, `((ra).clone(), w)`, as a tuple holding a reference has no
    /// gradient type (nor `Default`). `None` where no position does.
    fn container_tuples(
        a: &syn::ExprArray,
        slices: &dyn Fn(&Expr) -> bool,
    ) -> Option<Vec<proc_macro2::TokenStream>> {
        let tuples: Vec<&syn::ExprTuple> = a
            .elems
            .iter()
            .map(|e| match e {
                Expr::Tuple(t) => Some(t),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let arity = tuples.first()?.elems.len();
        if tuples.iter().any(|t| t.elems.len() != arity) {
            return None;
        }
        // How an element is copied: a parameter of floats, or a borrow of one or of its
        // range, by `to_vec()`; a borrow of another variable or of a field (`&ra` of a local
        // array, `&self.t`) by `clone`.
        let copy = |e: &Expr| -> Option<bool> {
            if borrowed(e, slices) {
                return Some(true);
            }
            let Expr::Reference(r) = e else { return None };
            if r.mutability.is_some() {
                return None;
            }
            match &*r.expr {
                Expr::Path(p) if p.path.get_ident().is_some() => Some(false),
                Expr::Field(_) => Some(false),
                _ => None,
            }
        };
        let copied: Vec<bool> = (0..arity)
            .map(|k| tuples.iter().all(|t| copy(&t.elems[k]).is_some()))
            .collect();
        if !copied.contains(&true) {
            return None;
        }
        Some(
            tuples
                .iter()
                .map(|t| {
                    let elems = t.elems.iter().zip(&copied).map(|(e, &c)| match copy(e) {
                        Some(true) if c => quote::quote!((#e).to_vec()),
                        Some(false) if c => {
                            let Expr::Reference(r) = e else {
                                unreachable!("a borrow")
                            };
                            let inner = &r.expr;
                            quote::quote!((#inner).clone())
                        }
                        _ => quote::quote!(#e),
                    });
                    quote::quote!((#(#elems,)*))
                })
                .collect(),
        )
    }
    /// A parameter that borrows floats, a borrow of one or of its range.
    fn borrowed(e: &Expr, slices: &dyn Fn(&Expr) -> bool) -> bool {
        slices(e)
            || matches!(e, Expr::Reference(r) if r.mutability.is_none() && match &*r.expr {
                Expr::Index(i) => slices(&i.expr) && matches!(&*i.index, Expr::Range(_)),
                e => slices(e),
            })
    }
    /// `for (i, s) in [(2, w[0]), (3, w[1])] { .. }` (or over `vec![..]`, or `for &(i, s)` over
    /// `&[..]` or `[..].iter()`), a tuple pattern
    /// over tuples of its arity where a position holds integers (seen by one: a literal, a
    /// cast to an integer type, a slice, array or `Vec` parameter of integers or a borrow of
    /// one): the loop over the positions' arrays, one per position, by index,
    /// `{ let c0 = [2, 3]; let c1 = [w[0], w[1]]; for k in 0..2 { let i = c0[k].clone(); let s
    /// = c1[k].clone(); .. } }`, as a tuple of an integer and a float has no gradient type. The
    /// elements are computed position by position, not tuple by tuple. `n` numbers the arrays.
    fn integer_columns(
        f: &syn::ExprForLoop,
        ints: &dyn Fn(&Expr) -> bool,
        n: &mut usize,
    ) -> Option<Expr> {
        // `for &(i, s) in &[..]` and `in [..].iter()` bind the same copies.
        let (pat, expr) = match (&*f.pat, &*f.expr) {
            (Pat::Tuple(p), e) => (p, e),
            (Pat::Reference(r), Expr::Reference(e)) if r.mutability.is_none() => match &*r.pat {
                Pat::Tuple(p) => (p, &*e.expr),
                _ => return None,
            },
            (Pat::Reference(r), Expr::MethodCall(mc))
                if r.mutability.is_none() && mc.method == "iter" && mc.args.is_empty() =>
            {
                match &*r.pat {
                    Pat::Tuple(p) => (p, &*mc.receiver),
                    _ => return None,
                }
            }
            _ => return None,
        };
        let elems: Vec<Expr> = match expr {
            Expr::Array(a) => a.elems.iter().cloned().collect(),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => m
                .mac
                .parse_body_with(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                )
                .ok()?
                .into_iter()
                .collect(),
            _ => return None,
        };
        let arity = pat.elems.len();
        let tuples: Vec<&syn::ExprTuple> = elems
            .iter()
            .map(|e| match e {
                Expr::Tuple(t) if t.elems.len() == arity => Some(t),
                _ => None,
            })
            .collect::<Option<_>>()?;
        if tuples.is_empty() {
            return None;
        }
        let column = |k: usize| tuples.iter().map(move |t| &t.elems[k]);
        // One integer in a position makes it integers in every tuple (an array's elements
        // have one type, and an integer literal is never a float).
        if !(0..arity).any(|k| column(k).any(ints)) {
            return None;
        }
        let span = f.expr.span();
        let names: Vec<syn::Ident> = (0..arity)
            .map(|k| {
                *n += 1;
                syn::Ident::new(&format!("__ad_col{}_{k}", *n), span)
            })
            .collect();
        let index = syn::Ident::new(&format!("__ad_colk{}", *n), span);
        let cols = (0..arity).map(|k| {
            let (name, es) = (&names[k], column(k));
            quote::quote_spanned!(span=> let #name = [#(#es),*];)
        });
        let binds = pat
            .elems
            .iter()
            .zip(&names)
            .map(|(p, name)| quote::quote_spanned!(span=> let #p = #name[#index].clone();));
        let len = tuples.len();
        let (attrs, label, body) = (&f.attrs, &f.label, &f.body.stmts);
        Some(syn::parse_quote_spanned!(span=> {
            #(#cols)*
            #(#attrs)* #label for #index in 0..#len {
                #(#binds)*
                #(#body)*
            }
        }))
    }
    /// An integer: a literal, a negated one, a cast to an integer type, or an integer
    /// container of `ints` (a parameter named there) or a borrow of one.
    fn integer(e: &Expr, ints: &[String]) -> bool {
        let param = |e: &Expr| {
            matches!(e, Expr::Path(p) if p.path.get_ident()
                .is_some_and(|id| ints.contains(&id.to_string())))
        };
        match super::chain::strip(e) {
            e if super::expr::is_int_literal(e) || param(e) => true,
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => integer(&u.expr, ints),
            Expr::Cast(c) => crate::types::is_integer(&c.ty),
            Expr::Reference(r) => r.mutability.is_none() && param(&r.expr),
            _ => false,
        }
    }
    struct Loops<'a>(&'a [String], &'a [String], usize);
    impl VisitMut for Loops<'_> {
        fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
            if let Expr::Array(a) = &*f.expr {
                let slices = |e: &Expr| {
                    matches!(e, Expr::Path(p) if p.path.get_ident()
                        .is_some_and(|id| self.0.contains(&id.to_string())))
                };
                if !a.elems.is_empty() && a.elems.iter().all(|e| container(e) || slices(e)) {
                    // Borrowed ones copied: a `Vec` of slices is not followed.
                    let elems = a.elems.iter().map(|e| match e {
                        Expr::MethodCall(_) | Expr::Macro(_) => quote::quote!(#e),
                        e => quote::quote!((#e).to_vec()),
                    });
                    *f.expr = syn::parse_quote_spanned!(a.span()=> vec![#(#elems),*]);
                }
            }
            syn::visit_mut::visit_expr_for_loop_mut(self, f);
        }
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::ForLoop(f) = e {
                let ints: Vec<String> = self
                    .0
                    .iter()
                    .filter(|c| !self.1.contains(c))
                    .cloned()
                    .collect();
                if let Some(block) = integer_columns(f, &|e| integer(e, &ints), &mut self.2) {
                    *e = block;
                }
            }
            syn::visit_mut::visit_expr_mut(self, e);
            let slices = |e: &Expr| {
                matches!(e, Expr::Path(p) if p.path.get_ident()
                    .is_some_and(|id| self.1.contains(&id.to_string())))
            };
            match e {
                Expr::Array(a) => {
                    if let Some(tuples) = container_tuples(a, &slices) {
                        *e = syn::parse_quote_spanned!(a.span()=> [#(#tuples),*]);
                    } else if !a.elems.is_empty() && a.elems.iter().all(|e| borrowed(e, &slices)) {
                        // `[a, b]` of borrowed float parameters outside a loop's head
                        // (`[a, b].iter().zip(..)`, `let views = [a, b];`): copies, as there.
                        let elems = a.elems.iter();
                        *e = syn::parse_quote_spanned!(a.span()=> [#((#elems).to_vec()),*]);
                    }
                }
                // `vec![(a, u), (b, v)]`, its elements read as an array literal's.
                Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                    let Ok(a) = m.mac.parse_body_with(
                        syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                    ) else {
                        return;
                    };
                    let a = syn::ExprArray {
                        attrs: Vec::new(),
                        bracket_token: Default::default(),
                        elems: a,
                    };
                    if let Some(tuples) = container_tuples(&a, &slices) {
                        let span = m.span();
                        *e = syn::parse_quote_spanned!(span=> vec![#(#tuples),*]);
                    }
                }
                _ => {}
            }
        }
    }
    Loops(containers, floats, 0).visit_block_mut(block);
}

/// A closure that leaves early with `return` (`|t| { if t > 1.0 { return 1.0; } t }`, also
/// from inside its loops): the body as a labeled `loop` that every path leaves by
/// `break` with the closure's value, `|t| { '__ad_ret_0: loop { if t > 1.0 { break
/// '__ad_ret_0 1.0; } break '__ad_ret_0 t; } }`, which is followed where the closure is
/// expanded (a `loop`'s value, and a labeled loop left from the loops inside it, see
/// `labels`). A `return` inside a closure or an item nested in the body is that one's own.
/// An unlabeled `break` or `continue` in the body belongs to a loop inside it (a closure
/// cannot leave a loop around it), so the new loop takes none of them.
fn returns_as_breaks(cl: &mut syn::ExprClosure, made: &mut usize) {
    use syn::visit_mut::VisitMut;
    struct Returns {
        label: syn::Lifetime,
        found: bool,
    }
    impl VisitMut for Returns {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Closure(_) => {}
                Expr::Return(r) => {
                    if let Some(v) = &mut r.expr {
                        self.visit_expr_mut(v);
                    }
                    let (label, span) = (&self.label, r.return_token.span);
                    *e = match &r.expr {
                        Some(v) => syn::parse_quote_spanned!(span=> break #label #v),
                        None => syn::parse_quote_spanned!(span=> break #label),
                    };
                    self.found = true;
                }
                _ => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    // A body that is not a block (`|t| if t > 1.0 { return 1.0 } else { t }`) is the value of
    // one.
    let (mut stmts, span) = match &*cl.body {
        Expr::Block(b) if b.label.is_some() => return,
        Expr::Block(b) => (b.block.stmts.clone(), b.block.brace_token.span.join()),
        e => (vec![Stmt::Expr(e.clone(), None)], e.span()),
    };
    let label = syn::Lifetime::new(&format!("'__ad_ret_{made}"), cl.inputs_begin.span);
    let mut returns = Returns {
        label: label.clone(),
        found: false,
    };
    for s in &mut stmts {
        returns.visit_stmt_mut(s);
    }
    if !returns.found {
        return;
    }
    *made += 1;
    let value = quote::format_ident!("__ad_ret_value_{}", *made - 1, span = span);
    end_with_break(&mut stmts, &label, &value, span);
    *cl.body = syn::parse_quote_spanned!(span=> { #label: loop { #(#stmts)* } });
}

/// The statements of a body made a labeled `loop`'s (see [`returns_as_breaks`]), ended so that
/// the value the body ends with leaves the loop too; a body that ends in a jump (`break 'l
/// v`) or in a statement (a value of `()`) says so. An `if` or `match` that ends it is bound to
/// `value` first, as a `let`'s value is followed where it may leave.
fn end_with_break(stmts: &mut Vec<Stmt>, label: &syn::Lifetime, value: &syn::Ident, span: Span) {
    match stmts.pop() {
        Some(Stmt::Expr(tail @ Expr::Break(_), None)) => {
            stmts.push(syn::parse_quote_spanned!(span=> #tail;));
        }
        Some(Stmt::Expr(tail @ (Expr::If(_) | Expr::Match(_)), None)) => {
            stmts.push(syn::parse_quote_spanned!(span=> let #value = #tail;));
            stmts.push(syn::parse_quote_spanned!(span=> break #label #value;));
        }
        Some(Stmt::Expr(tail, None)) => {
            stmts.push(syn::parse_quote_spanned!(span=> break #label #tail;));
        }
        Some(last) => {
            let jumps = matches!(&last, Stmt::Expr(Expr::Break(_), Some(_)));
            stmts.push(last);
            if !jumps {
                stmts.push(syn::parse_quote_spanned!(span=> break #label;));
            }
        }
        None => stmts.push(syn::parse_quote_spanned!(span=> break #label;)),
    }
}

/// A labeled block, `'l: { if c { break 'l a; } b }`: a `loop` with that label which every path
/// leaves by `break`, `'l: loop { if c { break 'l a; } break 'l b; }`, which is followed. Not
/// where the block holds an unlabeled `break` or `continue` of a loop around it, which the new
/// loop would take (the block stays, and its error says what to write).
fn labeled_block_as_loop(e: &mut Expr, made: &mut usize) {
    use syn::visit::Visit;
    struct Unlabeled(bool);
    impl<'a> Visit<'a> for Unlabeled {
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) | Expr::Closure(_) => {}
                Expr::Async(_) | Expr::Const(_) => {}
                Expr::Break(b) if b.label.is_none() => self.0 = true,
                Expr::Continue(c) if c.label.is_none() => self.0 = true,
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    /// Whether a `break` to the label carries no value: the block's is `()`.
    struct Unit<'l>(&'l syn::Lifetime, bool);
    impl<'a> Visit<'a> for Unit<'_> {
        fn visit_expr_break(&mut self, b: &'a syn::ExprBreak) {
            if b.expr.is_none() && b.label.as_ref() == Some(self.0) {
                self.1 = true;
            }
            syn::visit::visit_expr_break(self, b);
        }
        fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'a syn::Item) {}
    }
    let Expr::Block(bl) = e else { return };
    let Some(label) = bl.label.as_ref().map(|l| l.name.clone()) else {
        return;
    };
    let mut unlabeled = Unlabeled(false);
    unlabeled.visit_block(&bl.block);
    if unlabeled.0 {
        return;
    }
    let span = bl.block.brace_token.span.join();
    let mut stmts = bl.block.stmts.clone();
    let mut unit = Unit(&label, false);
    unit.visit_block(&bl.block);
    match (unit.1, stmts.pop()) {
        // A block of `()` (`'l: { for .. { if c { break 'l; } } .. }`, an early way out): its
        // last expression is a statement, and the block's end a `break`.
        (true, Some(Stmt::Expr(tail, None))) if !matches!(tail, Expr::Break(_)) => {
            stmts.push(Stmt::Expr(tail, Some(syn::Token![;](span))));
        }
        (_, Some(last)) => stmts.push(last),
        (_, None) => {}
    }
    let value = quote::format_ident!("__ad_block_value_{}", *made, span = span);
    *made += 1;
    end_with_break(&mut stmts, &label, &value, span);
    *e = syn::parse_quote_spanned!(span=> #label: loop { #(#stmts)* });
}

/// A destructuring assignment with an array pattern, `[a, b] = e` (`[p, .., q] = e`, `[_, t.0]
/// = e`, nested `[[a, b], c] = e`), and `_ = e`: the value bound to a hidden name and each
/// place assigned its element, `{ let __ad_d3 = e; a = __ad_d3[0]; b = __ad_d3[1]; }` (after a
/// `..`, counted from the end: `q = __ad_d3[__ad_d3.len() - 1]`), and `{ let _ = e; }`, which
/// are followed: the value is computed once, before the places, as Rust does.
fn array_assignment(e: &Expr, made: &mut usize) -> Option<Expr> {
    let Expr::Assign(a) = e else {
        return None;
    };
    let (left, right) = (&*a.left, &a.right);
    let span = a.eq_token.span;
    if let Expr::Infer(_) = left {
        return Some(syn::parse_quote_spanned!(span=> { let _ = #right; }));
    }
    let Expr::Array(arr) = left else {
        return None;
    };
    let name = quote::format_ident!("__ad_d{}", *made, span = span);
    *made += 1;
    let rest = |e: &Expr| matches!(e, Expr::Range(r) if r.start.is_none() && r.end.is_none());
    let after = arr.elems.iter().position(rest);
    let n = arr.elems.len();
    let mut stmts: Vec<Stmt> = Vec::new();
    for (k, target) in arr.elems.iter().enumerate() {
        if matches!(target, Expr::Infer(_)) || rest(target) {
            continue;
        }
        let index: Expr = match after {
            Some(r) if k > r => {
                let back = n - k;
                syn::parse_quote_spanned!(span=> #name.len() - #back)
            }
            _ => syn::parse_quote_spanned!(span=> #k),
        };
        let assign: Expr = syn::parse_quote_spanned!(span=> #target = #name[#index]);
        // A nested array pattern is taken apart the same way.
        let assign = array_assignment(&assign, made).unwrap_or(assign);
        stmts.push(Stmt::Expr(assign, Some(syn::Token![;](span))));
    }
    Some(syn::parse_quote_spanned!(span=> { let #name = #right; #(#stmts)* }))
}

/// The variable an assignment's target is part of (`*s`, `acc.x`, `v[i]`, `(v)`).
pub(super) fn assigned_root(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Field(f) => assigned_root(&f.base),
        Expr::Index(ix) => assigned_root(&ix.expr),
        Expr::Paren(p) => assigned_root(&p.expr),
        Expr::Unary(u) => assigned_root(&u.expr),
        _ => None,
    }
}

/// A `loop` written as a match arm's value (`0 => loop { break x * 2.0; },`): the arm's block
/// `{ loop { .. } }`, whose value the lowering follows (the same value). And a loop that ends
/// the body of another loop without `;` (as rustfmt leaves `loop { .. break 'outer; .. }`): a
/// statement, as the body's value is `()` either way.
pub(super) fn loops_of_arms_in_blocks(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    struct Arms;
    /// The last statement of a loop's body, an inner loop without `;`, made a statement.
    fn tail_loop_as_statement(body: &mut syn::Block) {
        if let Some(Stmt::Expr(e @ (Expr::Loop(_) | Expr::ForLoop(_) | Expr::While(_)), semi)) =
            body.stmts.last_mut()
        {
            if semi.is_none() {
                *semi = Some(syn::Token![;](e.span()));
            }
        }
    }
    impl VisitMut for Arms {
        fn visit_expr_for_loop_mut(&mut self, l: &mut syn::ExprForLoop) {
            tail_loop_as_statement(&mut l.body);
            syn::visit_mut::visit_expr_for_loop_mut(self, l);
        }
        fn visit_expr_while_mut(&mut self, l: &mut syn::ExprWhile) {
            tail_loop_as_statement(&mut l.body);
            syn::visit_mut::visit_expr_while_mut(self, l);
        }
        fn visit_expr_loop_mut(&mut self, l: &mut syn::ExprLoop) {
            tail_loop_as_statement(&mut l.body);
            syn::visit_mut::visit_expr_loop_mut(self, l);
        }
        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            if let Expr::Loop(l) = &*arm.body {
                let span = l.span();
                *arm.body = syn::parse_quote_spanned!(span=> { #l });
            }
            syn::visit_mut::visit_arm_mut(self, arm);
        }
    }
    Arms.visit_block_mut(block);
}

/// `let r: &f64 = ..;` (also `&f32`, `&Vec<f64>`, `&[f64]`, `&[f64; 3]`): the binding without
/// its annotation, which is what the lowering follows; the value is the same reference. With
/// it the generated code bound a value the lowering had read through the reference.
pub(super) fn strip_reference_annotations(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    fn plain_reference(ty: &syn::Type) -> bool {
        let syn::Type::Reference(r) = ty else {
            return false;
        };
        if r.mutability.is_some() {
            return false;
        }
        match &*r.elem {
            syn::Type::Slice(_) | syn::Type::Array(_) => true,
            syn::Type::Path(p) if p.qself.is_none() => p
                .path
                .segments
                .last()
                .is_some_and(|l| matches!(l.ident.to_string().as_str(), "f64" | "f32" | "Vec")),
            _ => false,
        }
    }
    struct Strip;
    impl VisitMut for Strip {
        fn visit_local_mut(&mut self, l: &mut syn::Local) {
            if let Pat::Type(pt) = &l.pat {
                if plain_reference(&pt.ty) && matches!(&*pt.pat, Pat::Ident(_)) {
                    l.pat = (*pt.pat).clone();
                }
            }
            syn::visit_mut::visit_local_mut(self, l);
        }
    }
    Strip.visit_block_mut(block);
}

/// The arithmetic operators written as paths of functions: `f64::add(a, b)`, `Add::add(a, b)`,
/// `std::ops::Mul::mul(a, b)` as `a + b`, `a * b`; as values (`fold(0.0, f64::add)`), the
/// closure `|a, b| a + b` (`|a| -a` of `neg`). They are the operators, which the macro follows;
/// as calls it took them for functions of the user's (`f64::add_vjp`). So is `Clone::clone(&x)`,
/// as `x.clone()`.
pub(super) fn desugar_operator_paths(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    /// The operator `path` names, with its arity.
    fn operator(path: &syn::ExprPath) -> Option<(&'static str, usize)> {
        if path.qself.is_some() || path.path.segments.len() < 2 {
            return None;
        }
        let segs: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let (owner, f) = (&segs[segs.len() - 2], &segs[segs.len() - 1]);
        let op = match f.as_str() {
            "add" => ("+", 2),
            "sub" => ("-", 2),
            "mul" => ("*", 2),
            "div" => ("/", 2),
            "rem" => ("%", 2),
            "neg" => ("-", 1),
            _ => return None,
        };
        let trait_of = match op.0 {
            "+" => "Add",
            "-" if op.1 == 2 => "Sub",
            "-" => "Neg",
            "*" => "Mul",
            "/" => "Div",
            _ => "Rem",
        };
        (owner == "f64" || owner == "f32" || owner == trait_of).then_some(op)
    }
    /// `Clone::clone(x)` (`std::clone::Clone::clone`, `core::..`): the trait's method called
    /// through its path, which as a call the macro took for a function of a type
    /// (`Clone::clone_vjp`, rustc's "expected a type, found a trait").
    fn clone_path(c: &syn::ExprCall) -> bool {
        let Expr::Path(p) = &*c.func else {
            return false;
        };
        let last_two = p.path.segments.iter().rev().take(2);
        p.qself.is_none()
            && c.args.len() == 1
            && last_two.map(|s| s.ident.to_string()).eq(["clone", "Clone"])
    }
    struct Operators;
    impl VisitMut for Operators {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            // `Clone::clone(&x)` as `(x).clone()`, `Clone::clone(r)` as `(r).clone()` (of a
            // reference `r`, the value it borrows cloned, as method calls resolve).
            if let Expr::Call(c) = e {
                if clone_path(c) {
                    let span = c.span();
                    let arg = match &c.args[0] {
                        Expr::Reference(r) if r.mutability.is_none() => (*r.expr).clone(),
                        a => a.clone(),
                    };
                    *e = syn::parse_quote_spanned!(span=> (#arg).clone());
                    syn::visit_mut::visit_expr_mut(self, e);
                    return;
                }
            }
            // A call's path is the callee, not a value: the call is rewritten, then its
            // operands.
            let called = matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Path(p)
                if operator(p).is_some_and(|(_, n)| n == c.args.len())));
            if !called {
                syn::visit_mut::visit_expr_mut(self, e);
            }
            let new: Expr = match e {
                Expr::Call(c) => {
                    let Expr::Path(p) = &*c.func else { return };
                    let Some((op, n)) = operator(p) else { return };
                    if c.args.len() != n {
                        return;
                    }
                    let op: TokenStream = op.parse().expect("an operator");
                    let span = c.span();
                    match n {
                        1 => {
                            let a = &c.args[0];
                            syn::parse_quote_spanned!(span=> (#op (#a)))
                        }
                        _ => {
                            let (a, b) = (&c.args[0], &c.args[1]);
                            syn::parse_quote_spanned!(span=> ((#a) #op (#b)))
                        }
                    }
                }
                Expr::Path(p) => {
                    let Some((op, n)) = operator(p) else { return };
                    let op: TokenStream = op.parse().expect("an operator");
                    let span = p.span();
                    match n {
                        1 => syn::parse_quote_spanned!(span=> (|__ad_x| #op __ad_x)),
                        _ => syn::parse_quote_spanned!(span=> (|__ad_x, __ad_y| __ad_x #op __ad_y)),
                    }
                }
                _ => return,
            };
            *e = new;
            if called {
                syn::visit_mut::visit_expr_mut(self, e);
            }
        }
    }
    Operators.visit_block_mut(block);
}

/// A parameter of a range type (`r: Range<usize>`, a shard of example numbers, also `&Range`
/// or `RangeInclusive`) used as a value (`for i in r`, `x[r.clone()]`, `r.clone().rev()`): the
/// range of its bounds, `(r.start..r.end)` (`(*r.start()..=*r.end())`), which the lowering
/// follows as a range written in place; the same value. Not where a pattern in the body binds
/// the name again.
pub(super) fn desugar_range_params(block: &mut syn::Block, params: &[(syn::Ident, syn::Type)]) {
    use syn::visit::Visit;
    use syn::visit_mut::VisitMut;
    struct Bounds {
        name: String,
        inclusive: bool,
    }
    impl VisitMut for Bounds {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                // `r.start`, `r.end`: the bounds themselves.
                Expr::Field(f) if is_name(&f.base, &self.name) => return,
                Expr::MethodCall(mc)
                    if self.inclusive
                        && (mc.method == "start" || mc.method == "end")
                        && is_name(&mc.receiver, &self.name) =>
                {
                    return;
                }
                // `r.clone()`: the range, a new value anyway.
                Expr::MethodCall(mc)
                    if mc.method == "clone"
                        && mc.args.is_empty()
                        && is_name(&mc.receiver, &self.name) =>
                {
                    *e = (*mc.receiver).clone();
                    return self.visit_expr_mut(e);
                }
                Expr::Path(p) if p.path.is_ident(&self.name) => {
                    let r = p.path.get_ident().cloned();
                    *e = if self.inclusive {
                        syn::parse_quote_spanned!(p.span()=> (*#r.start()..=*#r.end()))
                    } else {
                        syn::parse_quote_spanned!(p.span()=> (#r.start..#r.end))
                    };
                    return;
                }
                _ => {}
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
        // An index or a loop's range without the parentheses, as the lowering reads them
        // (`x[r.start..r.end]`, `for i in r.start..r.end`).
        fn visit_expr_index_mut(&mut self, ix: &mut syn::ExprIndex) {
            syn::visit_mut::visit_expr_index_mut(self, ix);
            unparen_range(&mut ix.index);
        }
        fn visit_expr_for_loop_mut(&mut self, fl: &mut syn::ExprForLoop) {
            syn::visit_mut::visit_expr_for_loop_mut(self, fl);
            unparen_range(&mut fl.expr);
        }
    }
    fn unparen_range(e: &mut Expr) {
        if let Expr::Paren(p) = e
            && matches!(&*p.expr, Expr::Range(_))
        {
            *e = (*p.expr).clone();
        }
    }
    fn is_name(e: &Expr, name: &str) -> bool {
        matches!(chain::strip(e), Expr::Path(p) if p.path.is_ident(name))
    }
    let mut bound = BoundNames::default();
    bound.visit_block(block);
    for (name, ty) in params {
        let mut ty = ty;
        while let syn::Type::Reference(r) = ty {
            ty = &r.elem;
        }
        let syn::Type::Path(tp) = ty else { continue };
        let inclusive = match tp.path.segments.last().map(|s| s.ident.to_string()) {
            Some(n) if n == "Range" => false,
            Some(n) if n == "RangeInclusive" => true,
            _ => continue,
        };
        let name = name.to_string();
        if bound.0.contains(&name) {
            continue;
        }
        Bounds { name, inclusive }.visit_block_mut(block);
    }
}

/// `j ^= 1 << q`, `flags |= 1`, `mask <<= 1` of integers (or `bool`s) as `j = j ^ (1 << q)`, as
/// Rust computes them, so that everything after sees the assignment (a loop carries `j`). Where
/// the place or the value may change a variable (a call, an assignment, an index computed by
/// one), the place would be read twice: left as written, an error in the lowering.
pub(super) fn desugar_bit_assignments(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    /// A place or value with no side effect: variables, fields, literals, indices, and
    /// arithmetic, casts and method calls of the discrete kind (`len()`) on them.
    fn pure(e: &Expr) -> bool {
        match e {
            Expr::Path(_) | Expr::Lit(_) => true,
            Expr::Paren(p) => pure(&p.expr),
            Expr::Field(f) => pure(&f.base),
            Expr::Index(ix) => pure(&ix.expr) && pure(&ix.index),
            Expr::Binary(b) => !super::is_compound_assign(&b.op) && pure(&b.left) && pure(&b.right),
            Expr::Unary(u) => pure(&u.expr),
            Expr::Cast(c) => pure(&c.expr),
            Expr::MethodCall(mc) => {
                mc.args.is_empty()
                    && matches!(mc.method.to_string().as_str(), "len" | "count_ones")
                    && pure(&mc.receiver)
            }
            _ => false,
        }
    }
    struct Bits;
    impl VisitMut for Bits {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            use syn::BinOp as B;
            let Expr::Binary(bin) = e else { return };
            let op: syn::BinOp = match bin.op {
                B::BitAndAssign(t) => B::BitAnd(syn::Token![&](t.spans[0])),
                B::BitOrAssign(t) => B::BitOr(syn::Token![|](t.spans[0])),
                B::BitXorAssign(t) => B::BitXor(syn::Token![^](t.spans[0])),
                B::ShlAssign(t) => B::Shl(syn::Token![<<](t.spans[0])),
                B::ShrAssign(t) => B::Shr(syn::Token![>>](t.spans[0])),
                _ => return,
            };
            if !pure(&bin.left) || !pure(&bin.right) {
                return;
            }
            let (left, right) = (&bin.left, &bin.right);
            let span = bin.span();
            *e = syn::parse_quote_spanned!(span=> #left = #left #op (#right));
        }
    }
    Bits.visit_block_mut(block);
}

/// An open range zipped with a sequence (`u.iter().zip(1..)`, `(0..).zip(u)`, a count beside
/// each item): the range bounded by `usize::MAX`, which the lowering follows as a range, the
/// zip stopping with the other side as it does.
pub(super) fn desugar_open_ranges_in_zip(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    struct Bounded;
    fn bound(e: &mut Expr) {
        match e {
            Expr::Paren(p) => bound(&mut p.expr),
            Expr::Range(r)
                if r.end.is_none()
                    && r.start.is_some()
                    && matches!(r.limits, syn::RangeLimits::HalfOpen(_)) =>
            {
                r.end = Some(Box::new(syn::parse_quote_spanned!(r.span()=> usize::MAX)));
            }
            _ => {}
        }
    }
    impl VisitMut for Bounded {
        fn visit_expr_method_call_mut(&mut self, mc: &mut syn::ExprMethodCall) {
            syn::visit_mut::visit_expr_method_call_mut(self, mc);
            if mc.method == "zip" && mc.args.len() == 1 {
                bound(&mut mc.receiver);
                bound(&mut mc.args[0]);
            }
        }
    }
    Bounded.visit_block_mut(block);
}

/// `p.gain.unwrap_or(d)` of a named field of a parameter (`self.gain`, `p.cfg.gain`) as the
/// `match p.gain { Some(v) => v, None => d }` it stands for (`unwrap_or_default()` with
/// `Default::default()`): a derived struct holds an `Option` only as data, and the `match` on
/// such a field binds its payload as a constant, where the method would be taken for one of
/// the field's own type, with a derivative rule it has not.
pub(super) fn desugar_field_unwrap_or(block: &mut syn::Block, params: &[(syn::Ident, syn::Type)]) {
    use syn::visit_mut::VisitMut;
    fn of_param(e: &Expr, params: &[(syn::Ident, syn::Type)], fields: usize) -> bool {
        match e {
            Expr::Field(f) if matches!(f.member, syn::Member::Named(_)) => {
                of_param(&f.base, params, fields + 1)
            }
            Expr::Paren(p) => of_param(&p.expr, params, fields),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                of_param(&u.expr, params, fields)
            }
            Expr::Path(p) if p.qself.is_none() && fields > 0 => p
                .path
                .get_ident()
                .is_some_and(|i| i == "self" || params.iter().any(|(n, _)| n == i)),
            _ => false,
        }
    }
    struct Unwrap<'a>(&'a [(syn::Ident, syn::Type)]);
    impl VisitMut for Unwrap<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            let Expr::MethodCall(mc) = e else {
                return;
            };
            if mc.turbofish.is_some() || !of_param(&mc.receiver, self.0, 0) {
                return;
            }
            let default: Expr = match (mc.method.to_string().as_str(), mc.args.len()) {
                ("unwrap_or", 1) => mc.args[0].clone(),
                ("unwrap_or_default", 0) => syn::parse_quote!(::core::default::Default::default()),
                _ => return,
            };
            let recv = &mc.receiver;
            let span = mc.method.span();
            *e = syn::parse_quote_spanned! {span=>
                match #recv {
                    ::core::option::Option::Some(__ad_unwrapped) => __ad_unwrapped,
                    ::core::option::Option::None => #default,
                }
            };
        }
    }
    Unwrap(params).visit_block_mut(block);
}

/// ndarray's `azip!((o in &mut out, &a in &u, &l in &lap) *o = a + d * l);` as the `Zip` it
/// expands to, `::ndarray::Zip::from(&mut out).and(&u).and(&lap).for_each(|o, &a, &l| *o = a +
/// d * l);`, which the lowering follows (a macro would run as written); the `index` form,
/// `azip!((index (i, j), o in &mut out, &a in &u) ..)`, as `Zip::indexed(&mut out).and(&u)
/// .for_each(|(i, j), o, &a| ..)`. Anything that does not parse as producers and a body is left
/// as written.
pub(super) fn desugar_azip(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    fn zip_of(m: &syn::Macro) -> Option<Expr> {
        if m.path.segments.last().is_none_or(|s| s.ident != "azip") {
            return None;
        }
        let parser = |input: syn::parse::ParseStream| -> syn::Result<Expr> {
            let content;
            syn::parenthesized!(content in input);
            let mut pats: Vec<Pat> = Vec::new();
            let mut exprs: Vec<Expr> = Vec::new();
            // `index (i, j),` first: `Zip::indexed` and the index as the closure's first
            // parameter.
            let indexed = content.peek(syn::Ident)
                && content.fork().parse::<syn::Ident>()? == "index"
                && !content.peek2(syn::Token![in]);
            if indexed {
                content.parse::<syn::Ident>()?;
                pats.push(Pat::parse_single(&content)?);
                content.parse::<syn::Token![,]>()?;
            }
            while !content.is_empty() {
                pats.push(Pat::parse_single(&content)?);
                content.parse::<syn::Token![in]>()?;
                exprs.push(content.parse()?);
                if content.is_empty() {
                    break;
                }
                content.parse::<syn::Token![,]>()?;
            }
            let body: Expr = input.parse()?;
            if !input.is_empty() || exprs.is_empty() {
                return Err(input.error("not an `azip!` of producers and a body"));
            }
            let span = m.path.span();
            // `Zip` beside the macro (`ndarray::azip!` → `ndarray::Zip`), else ndarray's.
            let zip: syn::Path = if m.path.segments.len() > 1 {
                let mut p = m.path.clone();
                if let Some(last) = p.segments.last_mut() {
                    last.ident = syn::Ident::new("Zip", last.ident.span());
                }
                p
            } else {
                syn::parse_quote_spanned!(span=> ::ndarray::Zip)
            };
            let (first, rest) = exprs.split_first().expect("one producer");
            let from = syn::Ident::new(if indexed { "indexed" } else { "from" }, span);
            Ok(syn::parse_quote_spanned! {span=>
                #zip::#from(#first)#(.and(#rest))*.for_each(|#(#pats),*| #body)
            })
        };
        syn::parse::Parser::parse2(parser, m.tokens.clone()).ok()
    }
    struct Azip;
    impl VisitMut for Azip {
        fn visit_stmt_mut(&mut self, st: &mut Stmt) {
            syn::visit_mut::visit_stmt_mut(self, st);
            let zip = match st {
                Stmt::Macro(sm) => zip_of(&sm.mac),
                Stmt::Expr(Expr::Macro(em), Some(_)) => zip_of(&em.mac),
                _ => None,
            };
            if let Some(zip) = zip {
                *st = Stmt::Expr(zip, Some(Default::default()));
            }
        }
    }
    Azip.visit_block_mut(block);
}

/// `let (a, b) = chain.unzip();` (a pattern and type as written): two `Vec`s filled by a `for`
/// loop over the chain, which the lowering follows as any loop with pushes,
///
/// ```text
/// let mut __ad_unzip0_0 = Vec::new(); let mut __ad_unzip0_1 = Vec::new();
/// for (__ad_l, __ad_r) in chain { __ad_unzip0_0.push(__ad_l); __ad_unzip0_1.push(__ad_r); }
/// let (a, b) = (__ad_unzip0_0, __ad_unzip0_1);
/// ```
///
/// `unzip` elsewhere (into something other than a `let`) is left to the lowering's error.
/// `let [first, .., last] = x;` (also `rest @ ..`, `&[a, .., b] = x`, and a parameter written
/// so, `[first, .., last]: [f64; 4]`, bound the same way at the top of the body) of a fixed-size
/// array held in a variable: each name the element read at its position, counted from the end
/// after the `..` (`x[x.len() - 1]`), and `rest` the range it stands for, `&x[1..x.len() - 1]`.
/// The names bind the elements' values where Rust binds values (a `&[..]` pattern, `*x`,
/// `x[..]`, a parameter taken by value), else references, `&x[i]`, as the default binding mode
/// through a reference does.
pub(super) fn desugar_rest_array_lets(block: &mut syn::Block, params: &[(syn::Ident, syn::Type)]) {
    use syn::visit_mut::VisitMut;
    struct Rest<'p>(&'p [(syn::Ident, syn::Type)]);
    /// The statements binding `pat`'s names, or `None` where it is not such a pattern.
    fn binds(pat: &Pat, init: &Expr, params: &[(syn::Ident, syn::Type)]) -> Option<Vec<Stmt>> {
        let (ps, mut by_value) = match pat {
            Pat::Slice(ps) => (ps, false),
            Pat::Reference(r) if r.mutability.is_none() => match &*r.pat {
                Pat::Slice(ps) => (ps, true),
                _ => return None,
            },
            _ => return None,
        };
        let is_rest = |p: &Pat| match p {
            Pat::Rest(_) => true,
            Pat::Ident(pi) => {
                pi.by_ref.is_none()
                    && matches!(pi.subpat.as_ref().map(|s| &*s.1), Some(Pat::Rest(_)))
            }
            _ => false,
        };
        let rest = ps.elems.iter().position(is_rest)?;
        let mut x = chain::strip(init);
        match x {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                by_value = true;
                x = chain::strip(&u.expr);
            }
            Expr::Index(ix) if matches!(&*ix.index, Expr::Range(r) if r.start.is_none() && r.end.is_none()) =>
            {
                by_value = true;
                x = chain::strip(&ix.expr);
            }
            _ => {}
        }
        let Expr::Path(xp) = x else { return None };
        let id = xp.path.get_ident()?;
        if let Some((_, t)) = params.iter().find(|(n, _)| n == id) {
            by_value |= matches!(t, syn::Type::Array(_));
        }
        let n = ps.elems.len();
        let after = n - rest - 1;
        let span = ps.bracket_token.span.join();
        let mut out = Vec::new();
        for (j, p) in ps.elems.iter().enumerate() {
            if j == rest {
                if let Pat::Ident(pi) = p {
                    let name = &pi.ident;
                    out.push(syn::parse_quote_spanned!(span=>
                        let #name = &#x[#rest..#x.len() - #after];
                    ));
                }
                continue;
            }
            if is_rest(p) {
                return None;
            }
            let at: Expr = if j > rest {
                let back = n - j;
                syn::parse_quote_spanned!(span=> #x.len() - #back)
            } else {
                syn::parse_quote_spanned!(span=> #j)
            };
            match p {
                Pat::Wild(_) => {}
                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    out.push(if by_value {
                        syn::parse_quote_spanned!(span=> let #pi = #x[#at];)
                    } else {
                        syn::parse_quote_spanned!(span=> let #pi = &#x[#at];)
                    });
                }
                Pat::Reference(r) if !by_value && r.mutability.is_none() => match &*r.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        out.push(syn::parse_quote_spanned!(span=> let #pi = #x[#at];));
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        Some(out)
    }
    impl VisitMut for Rest<'_> {
        fn visit_block_mut(&mut self, bl: &mut syn::Block) {
            syn::visit_mut::visit_block_mut(self, bl);
            let mut i = 0;
            while i < bl.stmts.len() {
                let made = match &bl.stmts[i] {
                    Stmt::Local(l) => match l.init.as_ref() {
                        Some(init) if init.diverge.is_none() => binds(&l.pat, &init.expr, self.0),
                        _ => None,
                    },
                    _ => None,
                };
                match made {
                    Some(stmts) => {
                        let k = stmts.len();
                        bl.stmts.splice(i..=i, stmts);
                        i += k;
                    }
                    None => i += 1,
                }
            }
        }
    }
    Rest(params).visit_block_mut(block);
}

pub(super) fn desugar_unzip(block: &mut syn::Block) {
    use syn::visit_mut::VisitMut;
    struct Unzip(usize);
    impl VisitMut for Unzip {
        fn visit_block_mut(&mut self, bl: &mut syn::Block) {
            syn::visit_mut::visit_block_mut(self, bl);
            let mut i = 0;
            while i < bl.stmts.len() {
                let Stmt::Local(l) = &bl.stmts[i] else {
                    i += 1;
                    continue;
                };
                let chain = match l.init.as_ref() {
                    Some(init) if init.diverge.is_none() => match chain::strip(&init.expr) {
                        Expr::MethodCall(mc)
                            if mc.method == "unzip"
                                && mc.args.is_empty()
                                && mc.turbofish.is_none() =>
                        {
                            Some((mc.receiver.clone(), mc.method.span()))
                        }
                        _ => None,
                    },
                    _ => None,
                };
                let Some((chain, span)) = chain else {
                    i += 1;
                    continue;
                };
                let n = self.0;
                self.0 += 1;
                let left = quote::format_ident!("__ad_unzip{}_0", n, span = span);
                let right = quote::format_ident!("__ad_unzip{}_1", n, span = span);
                // `let (a, b): (Ta, Tb) = ..` binds `a` and `b` each on its own, so that a
                // `Vec` of indices beside one of floats is not a tuple of the two.
                let (pats, tys): (Vec<Pat>, Option<Vec<syn::Type>>) = match &l.pat {
                    Pat::Tuple(t) if t.elems.len() == 2 => {
                        (t.elems.iter().cloned().collect(), None)
                    }
                    Pat::Type(pt) => match (&*pt.pat, &*pt.ty) {
                        (Pat::Tuple(t), syn::Type::Tuple(tt))
                            if t.elems.len() == 2 && tt.elems.len() == 2 =>
                        {
                            let tys = tt.elems.iter().cloned().collect();
                            (t.elems.iter().cloned().collect(), Some(tys))
                        }
                        _ => (vec![l.pat.clone()], None),
                    },
                    _ => (vec![l.pat.clone()], None),
                };
                let binds: Vec<syn::Stmt> = match (&pats[..], &tys) {
                    ([pa, pb], Some(t)) => {
                        let (ta, tb) = (&t[0], &t[1]);
                        vec![
                            syn::parse_quote_spanned!(span=> let #pa: #ta = #left;),
                            syn::parse_quote_spanned!(span=> let #pb: #tb = #right;),
                        ]
                    }
                    ([pa, pb], None) => vec![
                        syn::parse_quote_spanned!(span=> let #pa = #left;),
                        syn::parse_quote_spanned!(span=> let #pb = #right;),
                    ],
                    _ => {
                        let pat = &l.pat;
                        vec![syn::parse_quote_spanned!(span=> let #pat = (#left, #right);)]
                    }
                };
                let made: syn::Block = syn::parse_quote_spanned! {span=> {
                    let mut #left = ::std::vec::Vec::new();
                    let mut #right = ::std::vec::Vec::new();
                    for (__ad_l, __ad_r) in #chain {
                        #left.push(__ad_l);
                        #right.push(__ad_r);
                    }
                    #(#binds)*
                }};
                let k = made.stmts.len();
                bl.stmts.splice(i..=i, made.stmts);
                i += k;
            }
        }
    }
    Unzip(0).visit_block_mut(block);
}

pub(super) fn desugar_forms(
    block: &mut syn::Block,
    mut_refs: &[String],
    shared_refs: &[String],
    vectors: &[String],
    krate: &proc_macro2::TokenStream,
) {
    use super::options::conjuncts;
    /// `Some(v) = x.pop()` (`last()`, `first()`, `get(i)`, with `Some(&v)` too, or `Some(v)` of
    /// `x.last().copied()`) of a variable
    /// `x`: the test that the element is there and the element read that is followed,
    /// `(!x.is_empty(), v, x.pop().unwrap())`, since an `Option` of a differentiated value
    /// cannot be taken apart by a pattern.
    fn element_option(pat: &Pat, scrutinee: &Expr) -> Option<(Expr, Pat, Expr)> {
        let Pat::TupleStruct(ts) = pat else {
            return None;
        };
        if !ts.path.is_ident("Some") || ts.elems.len() != 1 {
            return None;
        }
        let Expr::MethodCall(mc) = scrutinee else {
            return None;
        };
        // `Some(v) = x.last().copied()` (`cloned()`) is `Some(&v) = x.last()`.
        let (mc, copied) = match &*mc.receiver {
            Expr::MethodCall(inner)
                if (mc.method == "copied" || mc.method == "cloned")
                    && mc.args.is_empty()
                    && inner.method != "pop" =>
            {
                (inner, true)
            }
            _ => (mc, false),
        };
        // A variable or a field of one (`self.w`), which the test and the read both name.
        fn place(e: &Expr) -> bool {
            match e {
                Expr::Path(_) => true,
                Expr::Field(f) => place(&f.base),
                _ => false,
            }
        }
        let x = &mc.receiver;
        if !place(x) {
            return None;
        }
        // `Some((first, rest)) = x.split_first()` (`split_last`, `Some((last, init))`): the two
        // parts, `(&x[0], &x[1..])`, where `x` is not empty.
        if let (Pat::Tuple(t), false, true, "split_first" | "split_last") = (
            &ts.elems[0],
            copied,
            mc.args.is_empty(),
            mc.method.to_string().as_str(),
        ) {
            let value: Expr = if mc.method == "split_first" {
                syn::parse_quote!((&#x[0], &#x[1..]))
            } else {
                syn::parse_quote!((&#x[#x.len() - 1], &#x[..#x.len() - 1]))
            };
            if t.elems.len() != 2 {
                return None;
            }
            return Some((
                syn::parse_quote!(!#x.is_empty()),
                ts.elems[0].clone(),
                value,
            ));
        }
        // An element that is an array taken apart where it is read (`Some(&[t, c]) =
        // xs.last()` of rows `&[[f64; 2]]`): names, `_` and `..`, a `let [t, c] = ..` after.
        let array_of_names = |p: &Pat| {
            matches!(p, Pat::Slice(ps) if ps.elems.iter().all(|e| match e {
                Pat::Ident(pi) => pi.by_ref.is_none() && pi.subpat.is_none(),
                Pat::Wild(_) | Pat::Rest(_) => true,
                _ => false,
            }))
        };
        let tuple_of_names = |p: &Pat| {
            matches!(p, Pat::Tuple(t) if t.elems.iter().all(|e| match e {
                Pat::Ident(pi) => pi.by_ref.is_none() && pi.subpat.is_none(),
                Pat::Wild(_) => true,
                _ => false,
            }))
        };
        let (deref, name) = match &ts.elems[0] {
            p @ Pat::Ident(pi) if copied && pi.by_ref.is_none() && pi.subpat.is_none() => {
                (true, p.clone())
            }
            p if copied && array_of_names(p) => (true, p.clone()),
            _ if copied => return None,
            Pat::Reference(r) if matches!(&*r.pat, Pat::Ident(_)) || array_of_names(&r.pat) => {
                (true, (*r.pat).clone())
            }
            p @ Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => (false, p.clone()),
            // A popped element taken apart (`Some((lo, hi)) = stack.pop()` of a `Vec` of
            // tuples, `Some([lo, hi])` of arrays): a `let (lo, hi) = ..` of the element.
            p if mc.method == "pop" && (array_of_names(p) || tuple_of_names(p)) => {
                (false, p.clone())
            }
            _ => return None,
        };
        let method = &mc.method;
        let test: Expr = match (method.to_string().as_str(), mc.args.len()) {
            ("pop", 0) if !deref => syn::parse_quote!(!#x.is_empty()),
            ("last" | "first", 0) => syn::parse_quote!(!#x.is_empty()),
            ("get", 1) if chain::plain(&mc.args[0]) => {
                let i = &mc.args[0];
                syn::parse_quote!(#x.get(#i).is_some())
            }
            _ => return None,
        };
        let args = &mc.args;
        let value: Expr = if deref {
            syn::parse_quote!(*#x.#method(#args).unwrap())
        } else {
            syn::parse_quote!(#x.#method(#args).unwrap())
        };
        Some((test, name, value))
    }
    /// `for row in a.rows()` (`a.outer_iter()`, `a.axis_iter(Axis(0))`, `a.columns()`,
    /// `a.axis_iter(Axis(1))`, `a.axis_chunks_iter(Axis(k), n)`, with `.into_iter()`, then
    /// `.zip(other)` and/or `.enumerate()`) of a matrix variable or a field of one (`p.w`): a
    /// loop over the index, each lane read as `a.row(i)` (`a.column(j)`, ..), which is
    /// followed. `other` is an iterator chain like any other, or the lanes of another array
    /// (`x.outer_iter().zip(y.outer_iter())`, minibatches of inputs and targets), read by the
    /// same index, the loop as long as the shorter.
    fn lane_loop(
        fl: &syn::ExprForLoop,
        krate: &proc_macro2::TokenStream,
        vectors: &[String],
    ) -> Option<Expr> {
        let mut src = &*fl.expr;
        let mut enumerate = false;
        if let Expr::MethodCall(mc) = src {
            if mc.method == "enumerate" && mc.args.is_empty() {
                enumerate = true;
                src = &mc.receiver;
            }
        }
        let mut zipped = None;
        if let Expr::MethodCall(mc) = src {
            if mc.method == "zip" && mc.args.len() == 1 {
                zipped = Some(&mc.args[0]);
                src = &mc.receiver;
            }
        }
        let span = fl.for_token.span;
        let k = syn::Ident::new("__ad_lane", span);
        let chunk = syn::Ident::new("__ad_chunk", span);
        let lanes = lanes_of(src, &k, &chunk, krate, vectors)?;
        fn pair(p: &Pat) -> Option<(&Pat, &Pat)> {
            match p {
                Pat::Tuple(t) if t.elems.len() == 2 => Some((&t.elems[0], &t.elems[1])),
                Pat::Paren(p) => pair(&p.pat),
                _ => None,
            }
        }
        let (index, item) = if enumerate {
            let (i, item) = pair(&fl.pat)?;
            (Some(i), item)
        } else {
            (None, &*fl.pat)
        };
        let (lane, other) = match zipped {
            Some(z) => {
                let (lane, other) = pair(item)?;
                (lane, Some((other, z)))
            }
            None => (item, None),
        };
        let bind_index = index.map(|i| quote::quote!(let #i = #k;));
        let (attrs, body) = (&fl.attrs, &fl.body.stmts);
        let (count, read) = (&lanes.count, &lanes.read);
        let mut sizes: Vec<Stmt> = Vec::new();
        if let Some(size) = &lanes.size {
            sizes.push(syn::parse_quote_spanned!(span=> let #chunk: usize = #size;));
        }
        // The other array's lanes, by the same index.
        let chunk2 = syn::Ident::new("__ad_chunk2", span);
        let other_lanes = other.and_then(|(_, z)| lanes_of(z, &k, &chunk2, krate, vectors));
        let inner: Expr = match (other, other_lanes) {
            (None, _) => syn::parse_quote_spanned! {span=>
                #(#attrs)* for #k in 0..#count { #bind_index let #lane = #read; #(#body)* }
            },
            (Some((other, _)), Some(two)) => {
                if let Some(size) = &two.size {
                    sizes.push(syn::parse_quote_spanned!(span=> let #chunk2: usize = #size;));
                }
                let (count2, read2) = (&two.count, &two.read);
                syn::parse_quote_spanned! {span=>
                    #(#attrs)* for #k in 0..(#count).min(#count2) {
                        #bind_index let #lane = #read; let #other = #read2; #(#body)*
                    }
                }
            }
            (Some((other, z)), None) => syn::parse_quote_spanned! {span=>
                #(#attrs)* for (#k, #other) in (0..#count).zip(#z) {
                    #bind_index let #lane = #read; #(#body)*
                }
            },
        };
        if sizes.is_empty() {
            return Some(inner);
        }
        Some(syn::parse_quote_spanned! {span=> {
            #(#sizes)*
            #inner
        }})
    }
    /// The lanes a lane loop walks: how many, and the one at index `k`.
    struct Lanes {
        count: TokenStream,
        read: TokenStream,
        /// `axis_chunks_iter`'s block size, to be bound to the `chunk` name `read` uses.
        size: Option<Expr>,
    }
    /// The lanes of `src`: `a.rows()`, `a.outer_iter()`, `a.columns()`, `a.axis_iter(Axis(k))`
    /// or `a.axis_chunks_iter(Axis(k), n)` (with `.into_iter()`) of a variable `a` or a field
    /// of one (`p.w`, `self.w`; not `axis_chunks_iter`, whose lanes depend on the rank, which
    /// the macro knows only of variables).
    fn lanes_of(
        src: &Expr,
        k: &syn::Ident,
        chunk: &syn::Ident,
        krate: &proc_macro2::TokenStream,
        vectors: &[String],
    ) -> Option<Lanes> {
        let mut src = strip_group(src);
        let mut into_iter = false;
        if let Expr::MethodCall(mc) = src {
            if mc.method == "into_iter" && mc.args.is_empty() {
                src = strip_group(&mc.receiver);
                into_iter = true;
            }
        }
        let Expr::MethodCall(mc) = src else {
            return None;
        };
        let a = &*mc.receiver;
        let variable =
            matches!(a, Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some());
        let field = plain_var(a) && ndarray_lanes_of_field(&mc.method, into_iter);
        if !(variable || field) {
            return None;
        }
        let axis = |e: &Expr| match e {
            Expr::Call(c) if c.args.len() == 1 => match (&*c.func, &c.args[0]) {
                (Expr::Path(f), Expr::Lit(l)) if f.path.segments.last()?.ident == "Axis" => {
                    match &l.lit {
                        syn::Lit::Int(i) => i.base10_parse::<u8>().ok(),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        let rows = match (mc.method.to_string().as_str(), mc.args.len()) {
            ("rows" | "outer_iter", 0) => true,
            ("columns", 0) => false,
            ("axis_iter" | "axis_chunks_iter", _)
                if mc.args.len() == 1 + usize::from(mc.method == "axis_chunks_iter") =>
            {
                match axis(&mc.args[0])? {
                    0 => true,
                    1 => false,
                    _ => return None,
                }
            }
            _ => return None,
        };
        // `axis_iter(ax)` of an array of any rank: its subviews along `ax`; `outer_iter()` is
        // `axis_iter(Axis(0))` (a 3-D array's matrices, a matrix's rows).
        let outer: Expr = syn::parse_quote_spanned!(mc.method.span()=> #krate::__private::Axis(0));
        let vector = match a {
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|n| vectors.contains(&n.to_string())),
            _ => false,
        };
        let size = (mc.method == "axis_chunks_iter").then(|| mc.args[1].clone());
        let (count, read) = if mc.method == "axis_chunks_iter" && vector {
            // Of a vector (declared one), only along `Axis(0)`: runs of `k` elements (the last
            // one shorter), each `a.slice(s![k·i..min(k·(i + 1), n)])`.
            if !rows {
                return None;
            }
            let len = quote::quote!(#a.len());
            let range = quote::quote!(#k * #chunk..((#k + 1) * #chunk).min(#len));
            (
                quote::quote!((#len + #chunk - 1) / #chunk),
                quote::quote!(#a.slice(#krate::__private::s![#range])),
            )
        } else if mc.method == "axis_chunks_iter" {
            // `a.axis_chunks_iter(Axis(0), k)` of a matrix: blocks of `k` rows (the last one
            // shorter), each the region `a.slice(s![k·i..min(k·(i + 1), n), ..])`.
            let len = if rows {
                quote::quote!(#a.nrows())
            } else {
                quote::quote!(#a.ncols())
            };
            let range = quote::quote!(#k * #chunk..((#k + 1) * #chunk).min(#len));
            let region = if rows {
                quote::quote!(#krate::__private::s![#range, ..])
            } else {
                quote::quote!(#krate::__private::s![.., #range])
            };
            (
                quote::quote!((#len + #chunk - 1) / #chunk),
                quote::quote!(#a.slice(#region)),
            )
        } else if mc.method == "axis_iter" || mc.method == "outer_iter" {
            let ax = if mc.method == "outer_iter" {
                &outer
            } else {
                &mc.args[0]
            };
            (
                quote::quote!(#a.len_of(#ax)),
                quote::quote!(#a.index_axis(#ax, #k)),
            )
        } else if rows {
            (quote::quote!(#a.nrows()), quote::quote!(#a.row(#k)))
        } else {
            (quote::quote!(#a.ncols()), quote::quote!(#a.column(#k)))
        };
        Some(Lanes { count, read, size })
    }
    /// The conjuncts of a condition with a `let` among them.
    fn let_chain(cond: &Expr) -> Option<Vec<Expr>> {
        let mut conds = Vec::new();
        conjuncts(cond, &mut conds);
        conds
            .iter()
            .any(|c| matches!(c, Expr::Let(_)))
            .then_some(conds)
    }
    /// The statements of a plain block `{ .. }`, to be written straight into the block that
    /// replaces it (a `break`, `continue` or `return` in them stays a statement of an `if`
    /// arm, which the lowering follows, rather than of a nested block expression); any other
    /// expression as it is.
    fn stmts_of(e: &Expr) -> TokenStream {
        match e {
            Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => {
                let stmts = &b.block.stmts;
                quote::quote!(#(#stmts)*)
            }
            e => quote::quote!(#e),
        }
    }
    /// `if c₁ && c₂ && .. { then } else { other }` with each `let` among the cᵢ a `match`.
    fn nest(conds: &[Expr], then: &syn::Block, other: &TokenStream, span: Span) -> Expr {
        let Some(first) = conds.first() else {
            return syn::parse_quote_spanned!(span=> #then);
        };
        if let Expr::Let(l) = first {
            let inner = nest(&conds[1..], then, other, span);
            if let Some((test, name, value)) = element_option(&l.pat, &l.expr) {
                let inner = stmts_of(&inner);
                return syn::parse_quote_spanned!(span=>
                    if #test { let #name = #value; #inner } else #other
                );
            }
            let (pat, scrutinee) = (&l.pat, &l.expr);
            let m: syn::ExprMatch =
                syn::parse_quote_spanned!(span=> match #scrutinee { #pat => #inner, _ => #other });
            return rewrite_match(&m).unwrap_or(Expr::Match(m));
        }
        let tests = conds
            .iter()
            .take_while(|c| !matches!(c, Expr::Let(_)))
            .count();
        let test = &conds[..tests];
        let inner = stmts_of(&nest(&conds[tests..], then, other, span));
        syn::parse_quote_spanned!(span=> if #((#test))&&* { #inner } else #other)
    }
    /// The `Some(..)` arm and the `None` (or `_`) arm of a two-armed `match`.
    fn some_none(m: &syn::ExprMatch) -> Option<(&syn::Arm, &syn::Arm)> {
        if m.arms.len() != 2 {
            return None;
        }
        let none = |p: &Pat| match p {
            Pat::Ident(p) => p.ident == "None" && p.subpat.is_none(),
            Pat::Path(p) => p.path.is_ident("None"),
            Pat::Wild(_) => true,
            _ => false,
        };
        let some = |p: &Pat| matches!(p, Pat::TupleStruct(ts) if ts.path.is_ident("Some"));
        match (&m.arms[0].pat, &m.arms[1].pat) {
            (a, b) if some(a) && none(b) => Some((&m.arms[0], &m.arms[1])),
            (a, b) if none(a) && some(b) => Some((&m.arms[1], &m.arms[0])),
            _ => None,
        }
    }
    /// `match x.iter().find(|v| ..) { Some(v) => A, None => B }` (after `.iter()`, `copied()`,
    /// `cloned()` and `rev()`) of a variable `x`: the position of the item found, run as
    /// written, and the element at that position read where it is found, which is followed:
    /// `match x.iter().enumerate().find(|p| ..).map(|(k, _)| k) { Some(k) => { let v = &x[k];
    /// A } _ => B }`. Also as the `match` of an `if let`.
    fn find_match(m: &syn::ExprMatch) -> Option<Expr> {
        let (some, none) = some_none(m)?;
        let Expr::MethodCall(find) = strip_group(&m.expr) else {
            return None;
        };
        if find.method != "find" || find.args.len() != 1 || find.turbofish.is_some() {
            return None;
        }
        // The adapters between `x.iter()` and `find`; a `map` last (`x.iter().map(f).find(..)`)
        // is applied again to the element found, so its closure must not change anything.
        let (mut refs, mut rev) = (true, false);
        let mut map: Option<&Expr> = None;
        let mut src = strip_group(&find.receiver);
        if let Expr::MethodCall(mc) = src {
            if mc.method == "map" && mc.args.len() == 1 && mc.turbofish.is_none() {
                let f = &mc.args[0];
                let mut names = AssignedNames::default();
                names.visit_expr(f);
                let pure = names.0.is_empty()
                    && match strip_group(f) {
                        Expr::Closure(c) => c.inputs.len() == 1 && c.capture.is_none(),
                        Expr::Path(p) => p.qself.is_none(),
                        _ => false,
                    };
                if !pure {
                    return None;
                }
                map = Some(f);
                src = strip_group(&mc.receiver);
            }
        }
        let x = loop {
            let Expr::MethodCall(mc) = src else {
                return None;
            };
            if !mc.args.is_empty() || mc.turbofish.is_some() {
                return None;
            }
            match mc.method.to_string().as_str() {
                "copied" | "cloned" if refs => refs = false,
                "rev" => rev = !rev,
                "iter" if plain_var(&mc.receiver) => break &mc.receiver,
                _ => return None,
            }
            src = strip_group(&mc.receiver);
        };
        let Pat::TupleStruct(ts) = &some.pat else {
            return None;
        };
        let [bound] = &ts.elems.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let span = find.method.span();
        let k = syn::Ident::new("__ad_at", span);
        let at: Expr = if rev {
            syn::parse_quote_spanned!(span=> #x.len() - 1 - #k)
        } else {
            syn::parse_quote_spanned!(span=> #k)
        };
        let (name, value): (&Pat, Expr) = match (bound, map) {
            // The mapped item, the closure applied to the element.
            (Pat::Ident(pi), Some(f)) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let elem: Expr = if refs {
                    syn::parse_quote_spanned!(span=> &#x[#at])
                } else {
                    syn::parse_quote_spanned!(span=> #x[#at])
                };
                let value = match strip_group(f) {
                    Expr::Closure(c) => {
                        let (p, body) = (&c.inputs[0], &c.body);
                        syn::parse_quote_spanned!(span=> { let #p = #elem; #body })
                    }
                    f => syn::parse_quote_spanned!(span=> #f(#elem)),
                };
                (bound, value)
            }
            (Pat::Wild(_), Some(_)) => (bound, syn::parse_quote_spanned!(span=> ())),
            (_, Some(_)) => return None,
            (Pat::Ident(pi), None) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                if refs {
                    (bound, syn::parse_quote_spanned!(span=> &#x[#at]))
                } else {
                    (bound, syn::parse_quote_spanned!(span=> #x[#at]))
                }
            }
            (Pat::Reference(r), None)
                if refs
                    && matches!(&*r.pat, Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none()) =>
            {
                (&*r.pat, syn::parse_quote_spanned!(span=> #x[#at]))
            }
            (Pat::Wild(_), None) => (bound, syn::parse_quote_spanned!(span=> ())),
            _ => return None,
        };
        let item = syn::Ident::new("__ad_item", span);
        let pred = &find.args[0];
        let test: Expr = match strip_group(pred) {
            Expr::Closure(c) if c.inputs.len() == 1 && c.asyncness.is_none() => {
                let (p, body) = (&c.inputs[0], &c.body);
                syn::parse_quote_spanned!(span=> { let #p = &#item.1; #body })
            }
            Expr::Closure(_) => return None,
            f => syn::parse_quote_spanned!(span=> (#f)(&#item.1)),
        };
        let chain = &find.receiver;
        let (a, b) = (stmts_of(&some.body), stmts_of(&none.body));
        Some(syn::parse_quote_spanned! {m.match_token.span=>
            match #chain.enumerate().find(|#item| #test).map(|(#k, _)| #k) {
                ::core::option::Option::Some(#k) => { let #name = #value; #a }
                _ => { #b }
            }
        })
    }
    /// A `match` on a slice of a variable by slice patterns (`[a, b] => ..`, `[first, ..,
    /// last] => ..`, `[] => ..`, `[x, rest @ ..] => ..`, then `_ => ..`), and `if let` with
    /// one: each arm a test of the length and the elements it binds read by index, which are
    /// followed: `if xs.len() >= 2 { let first = &xs[0]; let last = &xs[xs.len() - 1]; .. }`.
    /// The scrutinee is `xs`, `&xs[..]`, `xs[..]`, `*xs` or `xs.as_slice()` of a variable.
    fn slice_match(m: &syn::ExprMatch) -> Option<Expr> {
        // A range of a variable, `x[i..i + 3]` (`&x[1..]`): the range bound first, `{ let
        // __ad_part = &x[i..i + 3]; match __ad_part[..] { .. } }`, its elements read by index.
        {
            let mut e = strip_group(&m.expr);
            let by_ref = matches!(e, Expr::Reference(r) if r.mutability.is_none());
            if let Expr::Reference(r) = e
                && r.mutability.is_none()
            {
                e = strip_group(&r.expr);
            }
            if let Expr::Index(ix) = e
                && matches!(&*ix.index, Expr::Range(r) if r.start.is_some() || r.end.is_some())
                && plain_var(strip_group(&ix.expr))
            {
                let span = m.match_token.span;
                let part = quote::format_ident!("__ad_part", span = span);
                let mut inner = m.clone();
                *inner.expr = if by_ref {
                    syn::parse_quote_spanned!(span=> #part)
                } else {
                    syn::parse_quote_spanned!(span=> #part[..])
                };
                let inner = slice_match(&inner)?;
                return Some(syn::parse_quote_spanned! {span=>
                    { let #part = &#e; #inner }
                });
            }
        }
        // The variable, and whether the names bind references (default binding modes through
        // a reference) or values (`xs[..]`, `*xs`).
        let (x, by_ref) = {
            let mut e = strip_group(&m.expr);
            let mut by_ref = true;
            loop {
                match e {
                    Expr::Reference(r) if r.mutability.is_none() => {
                        by_ref = true;
                        e = strip_group(&r.expr);
                    }
                    Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                        by_ref = false;
                        e = strip_group(&u.expr);
                    }
                    Expr::Index(ix) if matches!(&*ix.index, Expr::Range(r) if r.start.is_none() && r.end.is_none()) =>
                    {
                        by_ref = false;
                        e = strip_group(&ix.expr);
                    }
                    Expr::MethodCall(mc) if mc.method == "as_slice" && mc.args.is_empty() => {
                        by_ref = true;
                        e = strip_group(&mc.receiver);
                    }
                    _ => break,
                }
            }
            if !plain_var(e) {
                return None;
            }
            (e.clone(), by_ref)
        };
        let span = m.match_token.span;
        let mut any_slice = false;
        // Each arm as (test, bindings, body); `None` as the test for the arm that catches all.
        let mut arms: Vec<(Option<Expr>, Vec<Stmt>, TokenStream)> = Vec::new();
        for arm in &m.arms {
            let body = stmts_of(&arm.body);
            let (mut pat, guard) = match &arm.pat {
                Pat::Guard(g) => (&*g.pat, Some(&*g.guard)),
                p => (p, None),
            };
            let mut arm_ref = by_ref;
            if let Pat::Reference(r) = pat {
                pat = &r.pat;
                arm_ref = false;
            }
            match pat {
                Pat::Wild(_) if guard.is_none() => {
                    arms.push((None, Vec::new(), body));
                    break;
                }
                Pat::Slice(ps) => {
                    any_slice = true;
                    let rest = ps.elems.iter().position(|p| match p {
                        Pat::Rest(_) => true,
                        Pat::Ident(pi) => {
                            matches!(pi.subpat.as_ref().map(|s| &*s.1), Some(Pat::Rest(_)))
                        }
                        _ => false,
                    });
                    let n = ps.elems.len();
                    let (before, after) = match rest {
                        Some(r) => (r, n - r - 1),
                        None => (n, 0),
                    };
                    let fixed = before + after;
                    let test: Expr = match rest {
                        Some(_) if fixed == 0 => syn::parse_quote_spanned!(span=> true),
                        Some(_) => syn::parse_quote_spanned!(span=> #x.len() >= #fixed),
                        None => syn::parse_quote_spanned!(span=> #x.len() == #fixed),
                    };
                    let mut binds: Vec<Stmt> = Vec::new();
                    // A literal element (`[0.0, b]`) is a test of the element read there.
                    let mut test = test;
                    for (j, p) in ps.elems.iter().enumerate() {
                        let at: Expr = match rest {
                            Some(r) if j == r => {
                                if let Pat::Ident(pi) = p {
                                    let name = &pi.ident;
                                    binds.push(syn::parse_quote_spanned!(span=>
                                        let #name = &#x[#before..#x.len() - #after];
                                    ));
                                }
                                continue;
                            }
                            Some(r) if j > r => {
                                let back = n - j;
                                syn::parse_quote_spanned!(span=> #x.len() - #back)
                            }
                            _ => syn::parse_quote_spanned!(span=> #j),
                        };
                        match p {
                            Pat::Wild(_) => {}
                            Pat::Lit(lit) => {
                                test = syn::parse_quote_spanned!(span=> #test && #x[#at] == #lit);
                            }
                            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                                binds.push(if arm_ref {
                                    syn::parse_quote_spanned!(span=> let #pi = &#x[#at];)
                                } else {
                                    syn::parse_quote_spanned!(span=> let #pi = #x[#at];)
                                });
                            }
                            Pat::Reference(r) if arm_ref => match &*r.pat {
                                Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                                    binds
                                        .push(syn::parse_quote_spanned!(span=> let #pi = #x[#at];));
                                }
                                _ => return None,
                            },
                            _ => return None,
                        }
                    }
                    // A guard reads the names the pattern binds: `len && { binds; guard }`.
                    let test = match guard {
                        Some(g) => syn::parse_quote_spanned!(span=> #test && { #(#binds)* #g }),
                        None => test,
                    };
                    arms.push((Some(test), binds, body));
                }
                _ => return None,
            }
        }
        if !any_slice {
            return None;
        }
        // The arms cover every length (rustc checked it): the last is the `else`, unless it
        // has a guard.
        if matches!(m.arms.last().map(|a| &a.pat), Some(Pat::Guard(_))) {
            return None;
        }
        let mut out: Option<TokenStream> = None;
        for (test, binds, body) in arms.into_iter().rev() {
            let block = quote::quote!({ #(#binds)* #body });
            out = Some(match (out, test) {
                (None, _) | (_, None) => block,
                (Some(other), Some(t)) => quote::quote!(if #t #block else #other),
            });
        }
        // The `if` chain itself, not a block around it: a `return`, `break` or `continue` in
        // an arm stays in a branch of the `if` (`let (a, b) = match xs[..] { [a, b, ..] => (a,
        // b), _ => return 0.0 };`), which is followed, where a block expression holding it
        // is not.
        let out = out?;
        Some(syn::parse_quote_spanned!(span=> #out))
    }
    /// `match (a, b) { (c, d) if c < d => c, (_, d) => d }`: a tuple written in the `match`
    /// whose arms bind some of its elements by name. A position that every arm binds by name
    /// or leaves as `_` decides nothing: it is left out of the `match` and its names are
    /// `let`s of the element in the arm (and in its guard, `{ lets; guard }`), so that no
    /// pattern takes a differentiated value apart. The other positions stay the `match`'s
    /// tests (one alone as the scrutinee); with none left, the arms are an `if` chain (the last
    /// one, without a guard, its `else`). Elements that are more than a variable are computed
    /// first, in order, into hidden variables.
    fn tuple_match(m: &syn::ExprMatch) -> Option<Expr> {
        let Expr::Tuple(t) = strip_group(&m.expr) else {
            return None;
        };
        let n = t.elems.len();
        if n < 2 {
            return None;
        }
        // Each arm as (the tuple's element patterns, or `None` for a `_` arm; its guard).
        let mut arms: Vec<(Option<Vec<&Pat>>, Option<&Expr>)> = Vec::new();
        for arm in &m.arms {
            let (pat, guard) = match &arm.pat {
                Pat::Guard(g) => (&*g.pat, Some(&*g.guard)),
                p => (p, None),
            };
            match pat {
                Pat::Wild(_) => arms.push((None, guard)),
                Pat::Tuple(pt) if pt.elems.len() == n => {
                    if pt.elems.iter().any(|p| matches!(p, Pat::Rest(_))) {
                        return None;
                    }
                    arms.push((Some(pt.elems.iter().collect()), guard));
                }
                _ => return None,
            }
        }
        // A name binding a whole element (not a constant or a unit variant), also through a
        // reference pattern (`(&a, b)` of `match (&x[0], s)`), which binds its value.
        let name = |p: &Pat| {
            matches!(p, Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none()
                && !pi.ident.to_string().starts_with(|c: char| c.is_uppercase()))
        };
        let binding = |p: &Pat| {
            name(p)
                || matches!(p, Pat::Reference(r) if r.mutability.is_none()
                    && name(&r.pat)
                    && matches!(&*r.pat, Pat::Ident(pi) if pi.mutability.is_none()))
        };
        let free: Vec<bool> = (0..n)
            .map(|k| {
                arms.iter().all(|(ps, _)| match ps {
                    Some(ps) => binding(ps[k]) || matches!(ps[k], Pat::Wild(_)),
                    None => true,
                })
            })
            .collect();
        let binds_free = arms.iter().any(|(ps, _)| {
            ps.as_ref()
                .is_some_and(|ps| (0..n).any(|k| free[k] && binding(ps[k])))
        });
        if !binds_free {
            return None;
        }
        let span = m.match_token.span;
        // The elements, as they are where they are variables, else hidden variables.
        let mut pre: Vec<Stmt> = Vec::new();
        let elems: Vec<Expr> = t
            .elems
            .iter()
            .enumerate()
            .map(|(k, e)| {
                if plain_var(e) {
                    return e.clone();
                }
                let name = syn::Ident::new(&format!("__ad_tuple{k}"), span);
                pre.push(syn::parse_quote_spanned!(span=> let #name = #e;));
                syn::parse_quote_spanned!(span=> #name)
            })
            .collect();
        // A `return`, `break` or `continue` in an arm would be inside the block around the
        // hidden variables, which the lowering does not follow: left as it is, the `match` is
        // the error that says to take the parts out first.
        if !pre.is_empty() && m.arms.iter().any(|a| super::control::diverges(&a.body)) {
            return None;
        }
        let kept: Vec<usize> = (0..n).filter(|&k| !free[k]).collect();
        // Each arm as (its pattern over the kept positions, guard with its lets, body).
        let mut out_arms: Vec<(Pat, Option<Expr>, TokenStream)> = Vec::new();
        for (arm, (ps, guard)) in m.arms.iter().zip(&arms) {
            let mut lets: Vec<Stmt> = Vec::new();
            let mut guard_lets: Vec<Stmt> = Vec::new();
            let pat: Pat = match ps {
                None => syn::parse_quote_spanned!(span=> _),
                Some(ps) => {
                    for k in (0..n).filter(|&k| free[k]) {
                        let e = &elems[k];
                        match ps[k] {
                            Pat::Ident(pi) => {
                                let name = &pi.ident;
                                lets.push(syn::parse_quote_spanned!(span=> let #pi = #e;));
                                guard_lets.push(syn::parse_quote_spanned!(span=> let #name = #e;));
                            }
                            // `&a`: the same pattern in the arm and in its guard.
                            p @ Pat::Reference(_) => {
                                lets.push(syn::parse_quote_spanned!(span=> let #p = #e;));
                                guard_lets.push(syn::parse_quote_spanned!(span=> let #p = #e;));
                            }
                            _ => {}
                        }
                    }
                    let sub: Vec<&Pat> = kept.iter().map(|&k| ps[k]).collect();
                    match sub.as_slice() {
                        [] => syn::parse_quote_spanned!(span=> _),
                        [one] => (*one).clone(),
                        more => syn::parse_quote_spanned!(span=> (#(#more),*)),
                    }
                }
            };
            let guard: Option<Expr> = guard.map(|g| {
                if guard_lets.is_empty() {
                    g.clone()
                } else {
                    syn::parse_quote_spanned!(span=> { #(#guard_lets)* #g })
                }
            });
            let body = stmts_of(&arm.body);
            out_arms.push((pat, guard, quote::quote!({ #(#lets)* #body })));
        }
        let chain: TokenStream = if kept.is_empty() {
            // An `if` chain: the arms after the first without a guard are never reached.
            let last = out_arms.iter().position(|(_, g, _)| g.is_none())?;
            let mut out: Option<TokenStream> = None;
            for (_, guard, body) in out_arms.into_iter().take(last + 1).rev() {
                out = Some(match (out, guard) {
                    (None, _) | (_, None) => body,
                    (Some(other), Some(g)) => quote::quote!(if #g #body else #other),
                });
            }
            out?
        } else {
            let scrutinee: Vec<&Expr> = kept.iter().map(|&k| &elems[k]).collect();
            let scrutinee = match scrutinee.as_slice() {
                [one] => quote::quote!(#one),
                more => quote::quote!((#(#more),*)),
            };
            let arms = out_arms.iter().map(|(p, g, b)| match g {
                Some(g) => quote::quote!(#p if #g => #b,),
                None => quote::quote!(#p => #b,),
            });
            quote::quote!(match #scrutinee { #(#arms)* })
        };
        // Without hidden variables, the chain itself, not a block around it: a `return`,
        // `break` or `continue` in an arm stays in a branch, which is followed.
        Some(if pre.is_empty() {
            syn::parse_quote_spanned!(span=> #chain)
        } else {
            syn::parse_quote_spanned!(span=> { #(#pre)* #chain })
        })
    }
    /// `x.fold_axis(ax, init, |acc, &v| acc + f(v))` (or `f(v) + acc`, `*acc + f(v)`, with
    /// `f(v)` not reading `acc`) as `(x.map(|&v| f(v)).sum_axis(ax) + init)`, the `+ init`
    /// left out for a literal zero.
    fn fold_axis_sum(mc: &syn::ExprMethodCall) -> Option<Expr> {
        if mc.args.len() != 3 {
            return None;
        }
        let Expr::Closure(c) = strip_group(&mc.args[2]) else {
            return None;
        };
        if c.inputs.len() != 2 || c.asyncness.is_some() {
            return None;
        }
        let acc = match &c.inputs[0] {
            Pat::Ident(p) if p.subpat.is_none() => &p.ident,
            Pat::Reference(r) => match &*r.pat {
                Pat::Ident(p) if p.subpat.is_none() => &p.ident,
                _ => return None,
            },
            _ => return None,
        };
        let is_acc = |e: &Expr| match strip_group(e) {
            Expr::Path(p) => p.path.is_ident(acc),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                matches!(strip_group(&u.expr), Expr::Path(p) if p.path.is_ident(acc))
            }
            _ => false,
        };
        let Expr::Binary(b) = strip_group(&c.body) else {
            return None;
        };
        if !matches!(b.op, syn::BinOp::Add(_)) {
            return None;
        }
        let term = if is_acc(&b.left) {
            &b.right
        } else if is_acc(&b.right) {
            &b.left
        } else {
            return None;
        };
        if idents_of(&quote::quote!(#term)).iter().any(|n| acc == n) {
            return None;
        }
        let (x, ax, init, item) = (&mc.receiver, &mc.args[0], &mc.args[1], &c.inputs[1]);
        let span = mc.method.span();
        let zero = matches!(strip_group(init), Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. })
            if f.base10_parse::<f64>().is_ok_and(|v| v == 0.0));
        let sum: Expr = syn::parse_quote_spanned!(span=> #x.map(|#item| #term).sum_axis(#ax));
        Some(if zero {
            syn::parse_quote_spanned!(span=> (#sum))
        } else {
            syn::parse_quote_spanned!(span=> (#sum + #init))
        })
    }
    /// `for ((i, j), v) in a.indexed_iter()` (two or three indices) of a variable `a`, as a
    /// loop over `a.iter().enumerate()` that computes the indices from the position.
    fn indexed_iter_loop(fl: &syn::ExprForLoop) -> Option<Expr> {
        let Pat::Tuple(t) = &*fl.pat else {
            return None;
        };
        let [index, item] = [t.elems.first()?, t.elems.get(1)?];
        let Pat::Tuple(index) = index else {
            return None;
        };
        let rank = index.elems.len();
        if t.elems.len() != 2 || !(2..=3).contains(&rank) {
            return None;
        }
        let Expr::MethodCall(mc) = strip_group(&fl.expr) else {
            return None;
        };
        if mc.method != "indexed_iter" || !mc.args.is_empty() || !plain_var(&mc.receiver) {
            return None;
        }
        let (a, span) = (&mc.receiver, mc.method.span());
        let k = syn::Ident::new("__ad_pos", span);
        let indices = row_major_indices(&k, a, rank, span);
        let index = &index.elems;
        let (attrs, label, body) = (&fl.attrs, &fl.label, &fl.body.stmts);
        Some(syn::parse_quote_spanned! {span=>
            #(#attrs)* #label for (#k, #item) in #a.iter().enumerate() {
                let (#index) = (#(#indices,)*);
                #(#body)*
            }
        })
    }
    /// The indices of position `k` of array `a` (of `rank` dimensions) in row-major order:
    /// `(k / (n1·n2)) % n0`, `(k / n2) % n1`, `k % n2`.
    fn row_major_indices(
        k: &syn::Ident,
        a: &Expr,
        rank: usize,
        span: proc_macro2::Span,
    ) -> Vec<Expr> {
        (0..rank)
            .map(|m| {
                let after = (m + 1..rank).map(proc_macro2::Literal::usize_unsuffixed);
                let m = proc_macro2::Literal::usize_unsuffixed(m);
                syn::parse_quote_spanned!(span=>
                    (#k #(/ #a.shape()[#after])*) % #a.shape()[#m]
                )
            })
            .collect()
    }
    /// `for ((i, j), v) in a.indexed_iter_mut() { .. }` (two or three indices) of a variable `a`
    /// (or a field of one), as a loop over the positions `0..a.len()` in row-major order
    /// that computes the indices from the position, with every `*v` and `v` of the body the
    /// element `a[[i, j]]`: element writes, which the derivative follows (`iter_mut()` of an
    /// array of more than one dimension is not). `None` where the body binds the element's name
    /// again or a macro names it otherwise than as an expression. `(i, v)` of a vector is
    /// `a.iter_mut().enumerate()`, which is followed.
    fn indexed_iter_mut_loop(fl: &syn::ExprForLoop, made: &mut usize) -> Option<Expr> {
        let Pat::Tuple(t) = &*fl.pat else {
            return None;
        };
        if t.elems.len() != 2 {
            return None;
        }
        let [index, item] = [&t.elems[0], &t.elems[1]];
        let Pat::Ident(item) = item else {
            return None;
        };
        if item.by_ref.is_some() || item.subpat.is_some() {
            return None;
        }
        let Expr::MethodCall(mc) = strip_group(&fl.expr) else {
            return None;
        };
        if mc.method != "indexed_iter_mut" || !mc.args.is_empty() || !plain_var(&mc.receiver) {
            return None;
        }
        let (a, span) = (&mc.receiver, mc.method.span());
        let rank = match index {
            Pat::Tuple(ix) if (2..=3).contains(&ix.elems.len()) => ix.elems.len(),
            // An index that is a number: a vector's, whose loop is `a.iter_mut().enumerate()`
            // (of a matrix, the error of `iter_mut()` that says to index it in loops).
            Pat::Ident(_) | Pat::Wild(_) => {
                let mut fl = fl.clone();
                *fl.expr = syn::parse_quote_spanned!(span=> #a.iter_mut().enumerate());
                return Some(Expr::ForLoop(fl));
            }
            _ => return None,
        };
        let k = quote::format_ident!("__ad_pos_{}", *made, span = span);
        let names: Vec<syn::Ident> = (0..rank)
            .map(|m| quote::format_ident!("__ad_ix_{}_{}", *made, m, span = span))
            .collect();
        *made += 1;
        let indices = row_major_indices(&k, a, rank, span);
        let element: Expr = syn::parse_quote_spanned!(span=> #a[[#(#names),*]]);
        let mut body = fl.body.stmts.clone();
        if !super::in_place::name_element(&mut body, &item.ident, &element) {
            return None;
        }
        let (attrs, label) = (&fl.attrs, &fl.label);
        Some(syn::parse_quote_spanned! {span=>
            #(#attrs)* #label for #k in 0..#a.len() {
                #(let #names: usize = #indices;)*
                let #index = (#(#names),*);
                #(#body)*
            }
        })
    }
    /// `a.rows()` (`columns()`, then `.into_iter()`) of a matrix variable or a field of one
    /// (`p.w`), as `(0..a.nrows()).map(|i| a.row(i))`; `outer_iter()` and `axis_iter(Axis(k))` of an array
    /// of any rank as `(0..a.len_of(Axis(k))).map(|i| a.index_axis(Axis(k), i))`.
    fn lane_source(e: &Expr, krate: &proc_macro2::TokenStream) -> Option<Expr> {
        let mut src = strip_group(e);
        let mut into_iter = false;
        if let Expr::MethodCall(mc) = src {
            if mc.method == "into_iter" && mc.args.is_empty() {
                src = strip_group(&mc.receiver);
                into_iter = true;
            }
        }
        let Expr::MethodCall(mc) = src else {
            return None;
        };
        let variable = matches!(&*mc.receiver, Expr::Path(p) if p.path.get_ident().is_some());
        let field = plain_var(&mc.receiver) && ndarray_lanes_of_field(&mc.method, into_iter);
        if !(variable || field) {
            return None;
        }
        let a = &mc.receiver;
        let axis = match (mc.method.to_string().as_str(), mc.args.len()) {
            ("rows" | "outer_iter", 0) => 0,
            ("columns", 0) => 1,
            ("axis_iter", 1) => match strip_group(&mc.args[0]) {
                Expr::Call(c)
                    if c.args.len() == 1
                        && matches!(&*c.func, Expr::Path(f) if f.path.segments.last().is_some_and(|s| s.ident == "Axis")) =>
                {
                    match &c.args[0] {
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Int(i),
                            ..
                        }) => i.base10_parse::<u8>().ok()?,
                        _ => return None,
                    }
                }
                _ => return None,
            },
            _ => return None,
        };
        let span = mc.method.span();
        let k = syn::Ident::new("__ad_lane", span);
        if mc.method != "rows" && mc.method != "columns" {
            let ax = proc_macro2::Literal::usize_unsuffixed(axis as usize);
            let ax = quote::quote_spanned!(span=> #krate::__private::Axis(#ax));
            return Some(syn::parse_quote_spanned!(span=>
                (0..#a.len_of(#ax)).map(|#k| #a.index_axis(#ax, #k))
            ));
        }
        Some(match axis {
            0 => syn::parse_quote_spanned!(span=> (0..#a.nrows()).map(|#k| #a.row(#k))),
            1 => syn::parse_quote_spanned!(span=> (0..#a.ncols()).map(|#k| #a.column(#k))),
            _ => return None,
        })
    }
    /// Whether `method` called on a field (`p.w.outer_iter()`) names ndarray's lanes: a field's
    /// type is not seen, and a struct of the user's may have `rows()` of its own (returning an
    /// iterator, which `.row(i)` would not read), so `rows()` and `columns()` count only with
    /// the `.into_iter()` ndarray's `Lanes` needs for an adapter (`p.w.rows().into_iter()`);
    /// `outer_iter()` and `axis_iter(Axis(k))` always.
    fn ndarray_lanes_of_field(method: &syn::Ident, into_iter: bool) -> bool {
        method == "outer_iter"
            || method == "axis_iter"
            || (into_iter && (method == "rows" || method == "columns"))
    }
    /// A variable or a field of one (`self.w`), which may be named more than once.
    fn plain_var(e: &Expr) -> bool {
        match e {
            Expr::Path(p) => p.qself.is_none() && p.path.get_ident().is_some(),
            Expr::Field(f) => matches!(f.member, syn::Member::Named(_)) && plain_var(&f.base),
            Expr::Paren(p) => plain_var(&p.expr),
            _ => false,
        }
    }
    use plain_var as plain_place;
    fn strip_group(e: &Expr) -> &Expr {
        match e {
            Expr::Paren(p) => strip_group(&p.expr),
            Expr::Group(g) => strip_group(&g.expr),
            e => e,
        }
    }
    /// A `match` taken apart by [`element_match`], [`find_match`] or [`slice_match`].
    /// `let PAT = e else { B };` as the `match` it stands for, `let (a, mut b) = match e { PAT
    /// => (a, b), _ => { B } };` (one name bare, none a `match` statement), which is followed:
    /// `B` diverges, so the `match` is a branch whose one arm goes on.
    fn let_else(stmt: &syn::Stmt) -> Option<syn::Stmt> {
        let syn::Stmt::Local(local) = stmt else {
            return None;
        };
        let init = local.init.as_ref()?;
        let (else_tok, other) = init.diverge.as_ref()?;
        let span = else_tok.span;
        let mut pat = match &local.pat {
            Pat::Type(pt) => (*pt.pat).clone(),
            p => p.clone(),
        };
        let mut names = Vec::new();
        collect_pat_bindings(&pat, &mut names);
        // `mut` goes on the names the `let` binds, not on the arm's.
        struct Muts(Vec<syn::Ident>);
        impl syn::visit_mut::VisitMut for Muts {
            fn visit_pat_ident_mut(&mut self, pi: &mut syn::PatIdent) {
                if pi.mutability.take().is_some() {
                    self.0.push(pi.ident.clone());
                }
                syn::visit_mut::visit_pat_ident_mut(self, pi);
            }
        }
        let mut muts = Muts(Vec::new());
        syn::visit_mut::VisitMut::visit_pat_mut(&mut muts, &mut pat);
        let e = &init.expr;
        let other = match &**other {
            Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => quote::quote!(#b),
            o => quote::quote!({ #o }),
        };
        let binds: Vec<TokenStream> = names
            .iter()
            .map(|n| match muts.0.contains(n) {
                true => quote::quote!(mut #n),
                false => quote::quote!(#n),
            })
            .collect();
        let attrs = &local.attrs;
        Some(match &names[..] {
            [] => syn::parse_quote_spanned!(span=> match #e { #pat => {} _ => #other }),
            [n] => {
                let b = &binds[0];
                syn::parse_quote_spanned!(span=> #(#attrs)* let #b = match #e { #pat => #n, _ => #other };)
            }
            _ => syn::parse_quote_spanned!(span=>
                #(#attrs)* let (#(#binds),*) = match #e { #pat => (#(#names),*), _ => #other };
            ),
        })
    }
    /// The functions a `use` in the block imports by name (`use physics::range;`, also `as r`)
    /// called by
    /// their paths (`physics::range(v, a)`), so that the calls of the generated code name the
    /// generated items (`physics::range_vjp`), which the `use` does not import.
    fn imported_calls(block: &mut syn::Block) {
        fn leaves(prefix: &syn::Path, t: &syn::UseTree, out: &mut Vec<(syn::Ident, syn::Path)>) {
            let join = |id: &syn::Ident| {
                let mut q = prefix.clone();
                q.segments.push(id.clone().into());
                q
            };
            match t {
                syn::UseTree::Path(p) => leaves(&join(&p.ident), &p.tree, out),
                syn::UseTree::Name(n) if !prefix.segments.is_empty() => {
                    out.push((n.ident.clone(), join(&n.ident)));
                }
                syn::UseTree::Rename(r) if !prefix.segments.is_empty() => {
                    out.push((r.rename.clone(), join(&r.ident)));
                }
                syn::UseTree::Group(g) => g.items.iter().for_each(|t| leaves(prefix, t, out)),
                _ => {}
            }
        }
        let mut names = Vec::new();
        for s in &block.stmts {
            if let Stmt::Item(syn::Item::Use(u)) = s {
                let prefix = syn::Path {
                    leading_colon: u.leading_colon,
                    segments: Default::default(),
                };
                leaves(&prefix, &u.tree, &mut names);
            }
        }
        // Not a name a pattern binds (`let range = |v| ..;` shadows the import).
        struct Bound(Vec<syn::Ident>);
        impl<'ast> syn::visit::Visit<'ast> for Bound {
            fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
                self.0.push(p.ident.clone());
                syn::visit::visit_pat_ident(self, p);
            }
        }
        let mut bound = Bound(Vec::new());
        syn::visit::Visit::visit_block(&mut bound, block);
        names.retain(|(n, _)| !bound.0.contains(n));
        if names.is_empty() {
            return;
        }
        struct Calls(Vec<(syn::Ident, syn::Path)>);
        impl syn::visit_mut::VisitMut for Calls {
            fn visit_expr_call_mut(&mut self, c: &mut syn::ExprCall) {
                if let Expr::Path(f) = &mut *c.func {
                    let found = f
                        .qself
                        .is_none()
                        .then(|| f.path.get_ident())
                        .flatten()
                        .and_then(|id| {
                            self.0.iter().find(|(n, _)| n == id).map(|(_, p)| p.clone())
                        });
                    if let Some(p) = found {
                        f.path = p;
                    }
                }
                syn::visit_mut::visit_expr_call_mut(self, c);
            }
        }
        for s in &mut block.stmts {
            if !matches!(s, Stmt::Item(_)) {
                syn::visit_mut::VisitMut::visit_stmt_mut(&mut Calls(names.clone()), s);
            }
        }
    }
    fn rewrite_match(m: &syn::ExprMatch) -> Option<Expr> {
        element_match(m)
            .or_else(|| find_match(m))
            .or_else(|| best_match(m))
            .or_else(|| slice_match(m))
            .or_else(|| tuple_match(m))
    }
    /// `chain.max_by(f)` (or another consumer that returns an `Option`: `min_by`,
    /// `max_by_key`, `min_by_key`, `max`, `min`, `reduce`) whose chain may be run twice: it
    /// changes no variable and moves nothing out. The chain and the call.
    /// `opt.map(|p| body).unwrap_or(d)`, `opt.map(|p| body).unwrap_or_else(|| d)` and
    /// `opt.map_or(d, |p| body)` as `match opt { Some(p) => body, None => d }` (the default
    /// evaluated only where there is no value, which for a default without side effects is
    /// the same). Not of a `Result` the macro can see (`parse`), nor of `pop()`. The position
    /// of `v.get(i)` is computed first where it is more than a name or a number.
    fn option_map(mc: &syn::ExprMethodCall) -> Option<Expr> {
        let (opt, closure, d): (&Expr, &Expr, Expr) =
            match (mc.method.to_string().as_str(), &mc.args.len()) {
                ("map_or", 2) => (&mc.receiver, &mc.args[1], mc.args[0].clone()),
                ("unwrap_or" | "unwrap_or_else", 1) => {
                    let d = if mc.method == "unwrap_or" {
                        mc.args[0].clone()
                    } else {
                        match &mc.args[0] {
                            Expr::Closure(c) if c.inputs.is_empty() => (*c.body).clone(),
                            _ => return None,
                        }
                    };
                    if let Some(m) = found_or(&mc.receiver, &d) {
                        return Some(m);
                    }
                    let Expr::MethodCall(m) = strip_group(&mc.receiver) else {
                        return None;
                    };
                    if m.method != "map" || m.args.len() != 1 || m.turbofish.is_some() {
                        return None;
                    }
                    (&m.receiver, &m.args[0], d)
                }
                _ => return None,
            };
        let Expr::Closure(c) = strip_group(closure) else {
            return None;
        };
        if c.inputs.len() != 1 || c.asyncness.is_some() || c.output != syn::ReturnType::Default {
            return None;
        }
        if let Expr::MethodCall(o) = strip_group(opt) {
            if matches!(
                o.method.to_string().as_str(),
                "parse" | "pop" | "ok" | "err"
            ) {
                return None;
            }
        }
        let pat = match &c.inputs[0] {
            Pat::Type(pt) => (*pt.pat).clone(),
            p => p.clone(),
        };
        let body = &c.body;
        let span = mc.method.span();
        let (at, opt): (Option<&Expr>, Expr) = match strip_group(opt) {
            Expr::MethodCall(g)
                if g.method == "get"
                    && g.args.len() == 1
                    && !matches!(
                        &g.args[0],
                        Expr::Lit(_) | Expr::Path(_) | Expr::Reference(_)
                    ) =>
            {
                let v = &g.receiver;
                (
                    Some(&g.args[0]),
                    syn::parse_quote_spanned!(span=> #v.get(__ad_at)),
                )
            }
            o => (None, o.clone()),
        };
        let m: syn::ExprMatch = syn::parse_quote_spanned!(span=>
            match #opt { Some(#pat) => #body, None => #d }
        );
        let m = rewrite_match(&m).unwrap_or(Expr::Match(m));
        Some(match at {
            Some(i) => syn::parse_quote_spanned!(span=> { let __ad_at: usize = #i; #m }),
            None => m,
        })
    }
    /// `chain.find(p).unwrap_or(d)`, and with `.copied()` or `.cloned()` after `find`, as
    /// `match chain.find(p) { Some(v) => v, None => d }` (`*v` for the copy), the form that
    /// follows the item found; `chain.last()` and `chain.nth(k)` the same way, as folds.
    fn found_or(opt: &Expr, d: &Expr) -> Option<Expr> {
        let (found, copied) = copied_of(opt);
        let Expr::MethodCall(f) = strip_group(found) else {
            return None;
        };
        if f.turbofish.is_some() {
            return None;
        }
        let span = f.method.span();
        let item: Expr = if copied {
            syn::parse_quote_spanned!(span=> *__ad_found)
        } else {
            syn::parse_quote_spanned!(span=> __ad_found)
        };
        // `chain.last()` and `chain.nth(k)` of an iterator chain (not a slice's `last()`): the
        // fold that keeps the last item, of the chain or of its `skip(k).take(1)`.
        let chain = &f.receiver;
        let of_chain = matches!(strip_group(chain), Expr::MethodCall(_))
            && super::chain::parse_chain(chain, false).is_some();
        match (f.method.to_string().as_str(), f.args.len()) {
            ("find", 1) => {}
            ("last", 0) if of_chain => {
                return Some(syn::parse_quote_spanned!(span=>
                    #chain.fold(#d, |_, __ad_found| #item)
                ));
            }
            ("nth", 1) if of_chain => {
                let k = &f.args[0];
                return Some(syn::parse_quote_spanned!(span=>
                    #chain.skip(#k).take(1).fold(#d, |_, __ad_found| #item)
                ));
            }
            _ => return None,
        }
        let m: syn::ExprMatch = syn::parse_quote_spanned!(span=>
            match #found { Some(__ad_found) => #item, None => #d }
        );
        Some(rewrite_match(&m).unwrap_or(Expr::Match(m)))
    }
    /// `e` without a `.copied()` or `.cloned()` at its end, and whether it had one.
    fn copied_of(e: &Expr) -> (&Expr, bool) {
        match strip_group(e) {
            Expr::MethodCall(mc)
                if mc.args.is_empty() && (mc.method == "copied" || mc.method == "cloned") =>
            {
                (&mc.receiver, true)
            }
            e => (e, false),
        }
    }
    fn best_call(e: &Expr) -> Option<(&Expr, &syn::ExprMethodCall)> {
        let Expr::MethodCall(mc) = strip_group(e) else {
            return None;
        };
        if !BEST_CONSUMERS.contains(&mc.method.to_string().as_str()) || mc.turbofish.is_some() {
            return None;
        }
        super::chain::parse_chain(&mc.receiver, false)?;
        let mut names = AssignedNames::default();
        names.visit_expr(&mc.receiver);
        let moves = idents_of(&quote::quote!(#mc)).iter().any(|n| {
            matches!(
                n.as_str(),
                "move" | "into_iter" | "iter_mut" | "drain" | "next" | "by_ref" | "pop"
            )
        });
        (names.0.is_empty() && !moves).then_some((&*mc.receiver, mc))
    }
    /// `match chain.max_by(f) { Some(v) => A, None => B }` (also the `match` of an `if let`,
    /// and after `let best = chain.max_by(f);`, which is written at its one use): the test that
    /// the chain has an item, run as written, and the best item taken out where it is found,
    /// which is followed: `if chain.count() > 0 { let v = chain.max_by(f).unwrap(); A } else
    /// { B }`.
    fn best_match(m: &syn::ExprMatch) -> Option<Expr> {
        // (An arm with a guard is a `Pat::Guard`, which `some_none` does not take.)
        let (some, none) = some_none(m)?;
        let (chain, call) = best_call(&m.expr)?;
        let Pat::TupleStruct(ts) = &some.pat else {
            return None;
        };
        let [bound] = &ts.elems.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let span = call.method.span();
        let bind: syn::Stmt = match bound {
            Pat::Reference(r) if r.mutability.is_none() => {
                let inner = &r.pat;
                syn::parse_quote_spanned!(span=> let #inner = *#call.unwrap();)
            }
            p => syn::parse_quote_spanned!(span=> let #p = #call.unwrap();),
        };
        let (a, b) = (stmts_of(&some.body), stmts_of(&none.body));
        Some(syn::parse_quote_spanned! {m.match_token.span=>
            if #chain.count() > 0 { #bind #a } else { #b }
        })
    }
    /// `match x.get(i) { Some(&v) => A, None => B }`: as `if let` above.
    fn element_match(m: &syn::ExprMatch) -> Option<Expr> {
        let Some((some, none)) = some_none(m) else {
            return element_match_arms(m);
        };
        let (test, name, value) = element_option(&some.pat, &m.expr)?;
        let (a, b) = (stmts_of(&some.body), stmts_of(&none.body));
        Some(syn::parse_quote_spanned!(m.match_token.span=>
            if #test { let #name = #value; #a } else { #b }
        ))
    }
    /// [`element_match`] with guards or several `Some` arms, `match x.get(i) { Some(&v) if v >
    /// 0.0 => A, Some(&v) => B, None => C }`, each `Some` arm binding the same name: `if test {
    /// let v = value; if g { A } else { B } } else { C }`, the arms tried in their order on
    /// each side (a `_` arm on both).
    fn element_match_arms(m: &syn::ExprMatch) -> Option<Expr> {
        let wild = |p: &Pat| matches!(p, Pat::Wild(_));
        let none = |p: &Pat| match p {
            Pat::Ident(p) => p.ident == "None" && p.subpat.is_none(),
            Pat::Path(p) => p.path.is_ident("None"),
            _ => false,
        };
        // An arm's pattern and guard (`Some(&v) if v > 0.0`).
        let split = |arm: &syn::Arm| match &arm.pat {
            Pat::Guard(g) => ((*g.pat).clone(), Some((*g.guard).clone())),
            p => (p.clone(), None),
        };
        type Side = Vec<(Option<Expr>, Expr)>;
        let mut option = None;
        let (mut present, mut absent): (Side, Side) = (Vec::new(), Vec::new());
        for arm in &m.arms {
            let (pat, guard) = split(arm);
            let side = (guard, (*arm.body).clone());
            if wild(&pat) {
                present.push(side.clone());
                absent.push(side);
            } else if none(&pat) {
                absent.push(side);
            } else {
                let found = element_option(&pat, &m.expr)?;
                let key = |f: &(Expr, Pat, Expr)| {
                    let (t, n, v) = f;
                    quote::quote!(#t #n #v).to_string()
                };
                match &option {
                    None => option = Some(found),
                    Some(o) if key(o) == key(&found) => {}
                    Some(_) => return None,
                }
                present.push(side);
            }
        }
        let (test, name, value) = option?;
        // Each side's arms in order, the last without a guard (else another arm is meant).
        fn chain(arms: &[(Option<Expr>, Expr)]) -> Option<TokenStream> {
            let ((None, last), init) = arms.split_last()? else {
                return None;
            };
            let mut out = stmts_of(last);
            for (guard, body) in init.iter().rev() {
                let body = stmts_of(body);
                out = match guard {
                    Some(g) => quote::quote!(if #g { #body } else { #out }),
                    // An arm without a guard takes everything: the arms after it are never
                    // tried.
                    None => body,
                };
            }
            Some(out)
        }
        let a = chain(&present)?;
        let b = chain(&absent)?;
        Some(syn::parse_quote_spanned!(m.match_token.span=>
            if #test { let #name = #value; #a } else { #b }
        ))
    }
    struct Desugar<'a> {
        mut_refs: &'a [String],
        /// `mut_refs` less those a `let` declares again (see `in_place::unshadowed`): the
        /// places whose in-place statements are written as what they stand for.
        unshadowed_refs: Vec<String>,
        /// The parameters that are shared references (`x: &T`): a struct pattern on one binds
        /// references to the fields.
        shared_refs: &'a [String],
        /// The items of the enclosing `for` loops that are references (`st` of `for st in
        /// steps` over a parameter `steps: &[Step]`, `xs.iter()`, `&xs`): as `shared_refs`.
        item_refs: Vec<String>,
        /// Hidden names made for values destructured by a struct pattern.
        made: usize,
        /// The path of the facade crate, for the `Axis` of `outer_iter()`.
        krate: &'a proc_macro2::TokenStream,
        /// How often each name occurs in the body, and how many loops and closures enclose
        /// the expression visited: a struct update's base read again (see `struct_update`).
        names: std::collections::HashMap<String, usize>,
        loops: usize,
        /// The names of vectors, by their declared type or the constructor they are made by
        /// (`x: &Array1<f64>`, `let v: Array1<f64> = ..`, `let v = Array1::zeros(n);`): the
        /// rank an ndarray method's rewrite depends on (`axis_chunks_iter`).
        vectors: Vec<String>,
    }
    impl Desugar<'_> {
        /// `let S { a, b: p, .. } = init;` (and `let S(a, _) = init;`) as one `let` per field,
        /// `let a = init.a.clone(); let p = init.b.clone();`, where `init` is a place (`s`,
        /// `self.x`, `*self`), or a hidden variable bound to `init` first: the field reads and
        /// `let`s that are followed (a copy, as the generated code may hold `init` by
        /// reference). Through a reference (`&s`, a parameter `s: &S`) the names bind
        /// references, `let a = &s.a;`, as in Rust, and a reference pattern, `let &S { a, .. }
        /// = s;`, binds the fields' values, as `let S { a, .. } = *s;` does. `None` for any
        /// other statement.
        fn struct_let(&mut self, stmt: &syn::Stmt) -> Option<Vec<syn::Stmt>> {
            let syn::Stmt::Local(local) = stmt else {
                return None;
            };
            let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
            let (pat, deref) = match &local.pat {
                Pat::Reference(r) if r.mutability.is_none() => (&*r.pat, true),
                p => (p, false),
            };
            let fields: Vec<(syn::Member, Pat)> = match pat {
                Pat::Struct(ps) if ps.qself.is_none() => ps
                    .fields
                    .iter()
                    .map(|f| (f.member.clone(), (*f.pat).clone()))
                    .collect(),
                Pat::TupleStruct(ts)
                    if ts.qself.is_none()
                        && !ts.elems.iter().any(|p| matches!(p, Pat::Rest(_))) =>
                {
                    ts.elems
                        .iter()
                        .enumerate()
                        .map(|(n, p)| (syn::Member::Unnamed(syn::Index::from(n)), p.clone()))
                        .collect()
                }
                _ => return None,
            };
            let span = local.let_token.span;
            let mut out = Vec::new();
            let (place, by_ref): (Expr, bool) = match strip_parens(&init.expr) {
                Expr::Path(p)
                    if p.path.get_ident().is_some_and(|id| {
                        let id = id.to_string();
                        self.shared_refs.contains(&id) || self.item_refs.contains(&id)
                    }) =>
                {
                    (strip_parens(&init.expr).clone(), true)
                }
                e @ (Expr::Path(_) | Expr::Field(_)) => (e.clone(), false),
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && plain_place(&u.expr) => {
                    ((*u.expr).clone(), false)
                }
                Expr::Reference(r) if r.mutability.is_none() && plain_place(&r.expr) => {
                    ((*r.expr).clone(), true)
                }
                // `let Step { state, ret, .. } = &steps[i];`: the reference bound first, the
                // names references to its fields, as in Rust (`*ret` is the float).
                e @ Expr::Reference(r) if r.mutability.is_none() => {
                    let name = quote::format_ident!("__ad_destructured_{}", self.made);
                    self.made += 1;
                    out.push(syn::parse_quote_spanned!(span=> let #name = #e;));
                    (syn::parse_quote_spanned!(span=> (*#name)), true)
                }
                e => {
                    let name = quote::format_ident!("__ad_destructured_{}", self.made);
                    self.made += 1;
                    out.push(syn::parse_quote_spanned!(span=> let #name = #e;));
                    (syn::parse_quote_spanned!(span=> #name), false)
                }
            };
            for (member, pat) in fields {
                if matches!(pat, Pat::Wild(_)) {
                    continue;
                }
                let stmt: syn::Stmt = if by_ref && !deref {
                    syn::parse_quote_spanned!(span=> let #pat = &#place.#member;)
                } else {
                    syn::parse_quote_spanned!(span=> let #pat = #place.#member.clone();)
                };
                match self.struct_let(&stmt) {
                    Some(inner) => out.extend(inner),
                    None => out.push(stmt),
                }
            }
            Some(out)
        }
    }
    /// `let mut it = xs.iter();` (`.copied()`, `.cloned()`) of a variable `xs`, whose items are
    /// taken with `it.next().unwrap()` in `let`s (`let first = *it.next().unwrap();`) and then
    /// by a `for v in it` or a `while let Some(v) = it.next()` loop: a position counted from 0,
    /// the items `xs[pos]` (`&xs[pos]` for `iter()`), and the loop over `xs[pos..]`, which are
    /// followed. Only where every later use of `it` in the block is one of these, the last
    /// one the loop, and `xs` is not declared again before it.
    fn iterator_positions(stmts: &mut Vec<Stmt>, made: &mut usize) {
        let mut i = 0;
        while i < stmts.len() {
            if let Some(rewritten) = iterator_position(&stmts[i..], made) {
                let n = rewritten.1;
                stmts.splice(i..i + n, rewritten.0);
            }
            i += 1;
        }
    }
    /// The rewrite of [`iterator_positions`] for `stmts[0]`, and the number of statements it
    /// replaces.
    fn iterator_position(stmts: &[Stmt], made: &mut usize) -> Option<(Vec<Stmt>, usize)> {
        let Stmt::Local(local) = &stmts[0] else {
            return None;
        };
        let Pat::Ident(pi) = &local.pat else {
            return None;
        };
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return None;
        }
        let it = &pi.ident;
        let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
        // `xs.iter()`, then `copied()` or `cloned()`.
        let (src, adapter) = match strip_parens(&init.expr) {
            Expr::MethodCall(mc)
                if mc.args.is_empty() && (mc.method == "copied" || mc.method == "cloned") =>
            {
                (&*mc.receiver, Some(mc.method.to_string()))
            }
            e => (e, None),
        };
        let Expr::MethodCall(iter) = strip_parens(src) else {
            return None;
        };
        if iter.method != "iter" || !iter.args.is_empty() || iter.turbofish.is_some() {
            return None;
        }
        let Expr::Path(xs) = strip_parens(&iter.receiver) else {
            return None;
        };
        let xs_name = xs.path.get_ident()?.to_string();
        let xs = xs.clone();
        let pos = quote::format_ident!("__ad_pos_{}", *made, span = it.span());
        // What an item is: `&xs[pos]` of `iter()`, `xs[pos]` of `copied()`, a copy of `cloned()`.
        let item = |deref: bool| -> Expr {
            match (adapter.as_deref(), deref) {
                (Some("cloned"), _) => syn::parse_quote_spanned!(it.span()=> #xs[#pos].clone()),
                (Some(_), _) | (None, true) => syn::parse_quote_spanned!(it.span()=> #xs[#pos]),
                (None, false) => syn::parse_quote_spanned!(it.span()=> &#xs[#pos]),
            }
        };
        // `it.next().unwrap()` (`.expect(..)`), with a `*` in front or not.
        let next_unwrap = |e: &Expr| -> Option<bool> {
            let (e, deref) = match strip_parens(e) {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => (&*u.expr, true),
                e => (e, false),
            };
            let Expr::MethodCall(un) = strip_parens(e) else {
                return None;
            };
            if un.method != "unwrap" && un.method != "expect" {
                return None;
            }
            let Expr::MethodCall(next) = strip_parens(&un.receiver) else {
                return None;
            };
            (next.method == "next"
                && next.args.is_empty()
                && matches!(strip_parens(&next.receiver), Expr::Path(p) if p.path.is_ident(it)))
            .then_some(deref)
        };
        let mut out: Vec<Stmt> = vec![syn::parse_quote_spanned! {it.span()=>
            let mut #pos: usize = 0;
        }];
        for (k, stmt) in stmts.iter().enumerate().skip(1) {
            // `xs` declared again, which `xs[pos]` would then read. (Nothing changes it: `it`
            // borrows it until its last use.)
            if matches!(stmt, Stmt::Local(l) if bound_names(&l.pat).contains(&xs_name)) {
                return None;
            }
            if !mentions(stmt, it) {
                out.push(stmt.clone());
                continue;
            }
            if count_uses(stmt, it) != 1 {
                return None;
            }
            match stmt {
                Stmt::Local(l) if l.init.as_ref().is_some_and(|i| i.diverge.is_none()) => {
                    let init = &l.init.as_ref()?.expr;
                    let deref = next_unwrap(init)?;
                    if deref && adapter.is_some() {
                        return None;
                    }
                    let mut l = l.clone();
                    *l.init.as_mut()?.expr = item(deref);
                    out.push(Stmt::Local(l));
                    out.push(syn::parse_quote_spanned!(it.span()=> #pos += 1;));
                }
                // `for v in it { .. }`: the rest.
                Stmt::Expr(Expr::ForLoop(fl), semi) if matches!(strip_parens(&fl.expr), Expr::Path(p) if p.path.is_ident(it)) =>
                {
                    let mut fl = fl.clone();
                    fl.expr = Box::new(rest(&xs, &pos, adapter.as_deref(), it.span()));
                    out.push(Stmt::Expr(Expr::ForLoop(fl), *semi));
                    *made += 1;
                    return Some((out, k + 1));
                }
                // `while let Some(v) = it.next() { .. }`, the body not using `it`: the rest.
                Stmt::Expr(Expr::While(w), semi) if w.label.is_none() => {
                    let Expr::Let(lt) = strip_parens(&w.cond) else {
                        return None;
                    };
                    let Pat::TupleStruct(ts) = &*lt.pat else {
                        return None;
                    };
                    let some = ts.path.is_ident("Some") && ts.elems.len() == 1;
                    let next = matches!(strip_parens(&lt.expr), Expr::MethodCall(mc)
                        if mc.method == "next" && mc.args.is_empty()
                            && matches!(strip_parens(&mc.receiver), Expr::Path(p) if p.path.is_ident(it)));
                    if !some || !next {
                        return None;
                    }
                    let pat = &ts.elems[0];
                    let body = &w.body;
                    let iterable = rest(&xs, &pos, adapter.as_deref(), it.span());
                    out.push(Stmt::Expr(
                        syn::parse_quote_spanned!(w.while_token.span=> for #pat in #iterable #body),
                        *semi,
                    ));
                    *made += 1;
                    return Some((out, k + 1));
                }
                _ => return None,
            }
        }
        None
    }
    /// `xs[pos..].iter()` with the adapter of the iterator it stands for.
    fn rest(
        xs: &syn::ExprPath,
        pos: &syn::Ident,
        adapter: Option<&str>,
        span: proc_macro2::Span,
    ) -> Expr {
        match adapter {
            Some(a) => {
                let a = syn::Ident::new(a, span);
                syn::parse_quote_spanned!(span=> #xs[#pos..].iter().#a())
            }
            None => syn::parse_quote_spanned!(span=> #xs[#pos..].iter()),
        }
    }
    /// `let mut best = (0usize, f64::MAX);` — a `mut` tuple built by a tuple expression, whose
    /// later uses are its fields (`best.1`, `best.0 = i`, `best.1 += d`), assignments of the
    /// whole (`best = (i, d);`) and reads of the whole: one variable per field
    /// (`__ad_best_0`, `__ad_best_1`), assigned together by a destructuring assignment (`(a, b)
    /// = (i, d);`) and read together as the tuple expression. A tuple of an integer and a float
    /// carried by a loop (the index and value of the best item) is then two loop-carried
    /// variables, which are followed. A later `let` of the same name in the block (`let best =
    /// best.1;`) ends the tuple there: its initializer reads the parts, what follows is left
    /// as written. Only where nothing before that binds the name again, borrows the tuple
    /// `&mut` or calls a method on it, and no macro names it other than `std`'s formatting
    /// macros, whose arguments are written like the rest (`println!("{}", best.1)`).
    /// `let (last, rest) = self.layers.split_last().unwrap();` (`split_first`, `.expect(..)`)
    /// of a variable or a field: a `let` for each part, `let last = &self.layers[self.layers.len()
    /// - 1]; let rest = &self.layers[..self.layers.len() - 1];`, each the element or range the
    /// lowering follows, and for a container of the user's structs knows the type of (their
    /// methods are followed: `last.forward(&h)`, `for l in rest { .. }`). An empty container
    /// panics at the index as it did at the `unwrap`.
    fn split_end_lets(stmts: &mut Vec<Stmt>) {
        use super::in_place::place;
        let mut i = 0;
        while i < stmts.len() {
            i += 1;
            let Stmt::Local(local) = &stmts[i - 1] else {
                continue;
            };
            let Some(init) = local.init.as_ref().filter(|i| i.diverge.is_none()) else {
                continue;
            };
            let Pat::Tuple(t) = &local.pat else {
                continue;
            };
            let names: Vec<&syn::PatIdent> = t
                .elems
                .iter()
                .filter_map(|p| match p {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => Some(pi),
                    _ => None,
                })
                .collect();
            let Expr::MethodCall(mc) = strip_parens(&init.expr) else {
                continue;
            };
            let unwrapped = (mc.method == "unwrap" && mc.args.is_empty())
                || (mc.method == "expect" && mc.args.len() == 1);
            let Expr::MethodCall(split) = strip_parens(&mc.receiver) else {
                continue;
            };
            if names.len() != 2
                || t.elems.len() != 2
                || !unwrapped
                || !split.args.is_empty()
                || split.turbofish.is_some()
                || !place(&split.receiver)
            {
                continue;
            }
            let (x, span) = (&split.receiver, split.method.span());
            let (end, rest): (Expr, Expr) = if split.method == "split_first" {
                (
                    syn::parse_quote_spanned!(span=> &#x[0]),
                    syn::parse_quote_spanned!(span=> &#x[1..]),
                )
            } else if split.method == "split_last" {
                (
                    syn::parse_quote_spanned!(span=> &#x[#x.len() - 1]),
                    syn::parse_quote_spanned!(span=> &#x[..#x.len() - 1]),
                )
            } else {
                continue;
            };
            let (a, b) = (names[0], names[1]);
            let lets: [Stmt; 2] = [
                syn::parse_quote_spanned!(span=> let #a = #end;),
                syn::parse_quote_spanned!(span=> let #b = #rest;),
            ];
            stmts.splice(i - 1..i, lets);
            i += 1;
        }
    }

    fn split_tuple_lets(stmts: &mut Vec<Stmt>) {
        let mut i = 0;
        while i < stmts.len() {
            i += 1;
            let Stmt::Local(local) = &stmts[i - 1] else {
                continue;
            };
            let Some(init) = local.init.as_ref().filter(|i| i.diverge.is_none()) else {
                continue;
            };
            let Expr::Tuple(t) = strip_parens(&init.expr) else {
                continue;
            };
            let (pi, ty) = match &local.pat {
                Pat::Ident(pi) => (pi, None),
                Pat::Type(pt) => match (&*pt.pat, &*pt.ty) {
                    (Pat::Ident(pi), syn::Type::Tuple(tt)) if tt.elems.len() == t.elems.len() => {
                        (pi, Some(tt))
                    }
                    _ => continue,
                },
                _ => continue,
            };
            if pi.mutability.is_none() || pi.by_ref.is_some() || pi.subpat.is_some() {
                continue;
            }
            let n = t.elems.len();
            if n < 2 {
                continue;
            }
            let name = pi.ident.clone();
            // A later `let` binding the name again (`let best = best.1;`) ends the tuple: what
            // it evaluates still reads it, the statements after it read the new variable.
            let end = stmts[i..]
                .iter()
                .position(|s| {
                    let Stmt::Local(l) = s else { return false };
                    let mut ids = Vec::new();
                    collect_pat_bindings(&l.pat, &mut ids);
                    ids.contains(&name)
                })
                .map_or(stmts.len(), |k| i + k);
            let shadow_init: Vec<Expr> = match stmts.get(end) {
                Some(Stmt::Local(l)) => l
                    .init
                    .iter()
                    .flat_map(|init| {
                        std::iter::once((*init.expr).clone())
                            .chain(init.diverge.iter().map(|(_, e)| (**e).clone()))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let rest = &stmts[i..end];
            // Every mention a form the split can write, none in a macro or a binding.
            let mut uses = SplitUses {
                name: &name,
                n,
                ok: true,
                seen: 0,
            };
            for s in rest {
                syn::visit::Visit::visit_stmt(&mut uses, s);
            }
            for e in &shadow_init {
                syn::visit::Visit::visit_expr(&mut uses, e);
            }
            let mentioned: usize = rest
                .iter()
                .map(|s| quote::quote!(#s))
                .chain(shadow_init.iter().map(|e| quote::quote!(#e)))
                .map(|t| idents_of(&t).iter().filter(|m| name == **m).count())
                .sum();
            if !uses.ok || uses.seen != mentioned {
                continue;
            }
            let parts: Vec<syn::Ident> = (0..n)
                .map(|k| quote::format_ident!("__ad_{}_{}", name, k, span = name.span()))
                .collect();
            let mut lets: Vec<Stmt> = Vec::with_capacity(n);
            for (k, (e, part)) in t.elems.iter().zip(&parts).enumerate() {
                lets.push(match ty {
                    Some(tt) => {
                        let ty_k = &tt.elems[k];
                        syn::parse_quote_spanned!(name.span()=> let mut #part: #ty_k = #e;)
                    }
                    None => syn::parse_quote_spanned!(name.span()=> let mut #part = #e;),
                });
            }
            let mut split = Split {
                name: &name,
                parts: &parts,
            };
            for s in stmts[i..end].iter_mut() {
                syn::visit_mut::VisitMut::visit_stmt_mut(&mut split, s);
            }
            if let Some(Stmt::Local(l)) = stmts.get_mut(end)
                && let Some(init) = &mut l.init
            {
                syn::visit_mut::VisitMut::visit_expr_mut(&mut split, &mut init.expr);
                if let Some((_, e)) = &mut init.diverge {
                    syn::visit_mut::VisitMut::visit_expr_mut(&mut split, e);
                }
            }
            stmts.splice(i - 1..i, lets);
            i += n - 1;
        }
    }
    /// The mentions of a split tuple's name (see [`split_tuple_lets`]): `seen` counts those of
    /// the forms the split writes; `ok` turns false at one it cannot.
    struct SplitUses<'a> {
        name: &'a syn::Ident,
        n: usize,
        ok: bool,
        seen: usize,
    }
    impl<'ast> syn::visit::Visit<'ast> for SplitUses<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            match e {
                Expr::Field(f) if is_name(&f.base, self.name) => match &f.member {
                    syn::Member::Unnamed(ix) if (ix.index as usize) < self.n => self.seen += 1,
                    _ => self.ok = false,
                },
                Expr::Reference(r) if r.mutability.is_some() && is_name(&r.expr, self.name) => {
                    self.ok = false;
                }
                Expr::MethodCall(mc) if is_name(&mc.receiver, self.name) => self.ok = false,
                Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name) => self.seen += 1,
                Expr::Closure(c) => {
                    if c.inputs
                        .iter()
                        .flat_map(bound_names)
                        .any(|b| *self.name == b)
                    {
                        self.ok = false;
                    }
                    syn::visit::visit_expr(self, e);
                }
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_pat(&mut self, p: &'ast Pat) {
            if bound_names(p).iter().any(|b| *self.name == *b) {
                self.ok = false;
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {
            self.ok = false;
        }
        // `println!("{} at {}", best.1, best.0)`: the arguments of a formatting macro are
        // expressions, written like any other.
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if let Some(args) = super::format_args::std_macro_args(m) {
                args.iter().for_each(|a| self.visit_expr(a));
            }
        }
    }
    fn is_name(e: &Expr, name: &syn::Ident) -> bool {
        matches!(strip_parens(e), Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
    }
    /// Writes the uses of a split tuple (see [`split_tuple_lets`]).
    struct Split<'a> {
        name: &'a syn::Ident,
        parts: &'a [syn::Ident],
    }
    impl syn::visit_mut::VisitMut for Split<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Field(f) if is_name(&f.base, self.name) => {
                    if let syn::Member::Unnamed(ix) = &f.member {
                        let part = &self.parts[ix.index as usize];
                        *e = syn::parse_quote_spanned!(part.span()=> #part);
                    }
                }
                Expr::Assign(a) if is_name(&a.left, self.name) => {
                    syn::visit_mut::visit_expr_mut(self, &mut a.right);
                    let (parts, right) = (self.parts, &a.right);
                    *e = syn::parse_quote_spanned!(a.eq_token.span=> (#(#parts),*) = #right);
                }
                Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name) => {
                    let parts = self.parts;
                    *e = syn::parse_quote_spanned!(self.name.span()=> (#(#parts),*));
                }
                _ => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
            if let Some(mut args) = super::format_args::std_macro_args(m) {
                args.iter_mut().for_each(|a| self.visit_expr_mut(a));
                m.tokens = quote::quote!(#args);
            }
        }
    }
    /// `let c: P2 = p.into();`, a conversion into a struct of the user's named with the
    /// `let`'s type: the `From` impl of that type called by its path, `P2::from(p)`, which is
    /// followed where that impl carries `#[differentiate]` (`p.into()` would be taken for a
    /// method of `p`'s own struct, rustc's "no function `into_vjp`"). Only for a type named
    /// by a plain path with a capital letter and no generic arguments, and not the library's
    /// containers: a float's `into` stays as written.
    fn into_with_type(stmts: &mut [Stmt]) {
        for s in stmts.iter_mut() {
            let Stmt::Local(l) = s else {
                continue;
            };
            let Pat::Type(pt) = &l.pat else {
                continue;
            };
            let syn::Type::Path(tp) = &*pt.ty else {
                continue;
            };
            let plain = tp.qself.is_none()
                && tp
                    .path
                    .segments
                    .iter()
                    .all(|seg| matches!(seg.arguments, syn::PathArguments::None));
            let Some(last) = tp.path.segments.last().map(|seg| seg.ident.to_string()) else {
                continue;
            };
            let library = [
                "Vec", "String", "Box", "Rc", "Arc", "Option", "Result", "Array1", "Array2",
                "Array", "HashMap", "BTreeMap", "HashSet", "BTreeSet", "VecDeque", "Cow",
                "PathBuf", "OsString", "Duration",
            ];
            if !plain || !last.starts_with(char::is_uppercase) || library.contains(&last.as_str()) {
                continue;
            }
            let path = tp.path.clone();
            let Some(init) = &mut l.init else {
                continue;
            };
            if init.diverge.is_some() {
                continue;
            }
            let Expr::MethodCall(mc) = strip_parens(&init.expr) else {
                continue;
            };
            if mc.method != "into" || !mc.args.is_empty() || mc.turbofish.is_some() {
                continue;
            }
            let recv = &mc.receiver;
            let call: Expr = syn::parse_quote_spanned!(mc.method.span()=> #path::from(#recv));
            *init.expr = call;
        }
    }
    /// `let mut it = x.chunks(2);` (any chain) whose only use is `while let Some(c) = it.next()
    /// { .. }` later in the block, the body not naming `it`: the loop takes every item in
    /// order, as `for c in it { .. }` does, which is what it becomes (`let it = ..;` without
    /// the `mut`), for [`inline_iterator_lets`] to write the chain at the loop.
    fn while_next_loops(stmts: &mut [Stmt]) {
        for i in 0..stmts.len() {
            let Stmt::Local(local) = &stmts[i] else {
                continue;
            };
            let Pat::Ident(pi) = &local.pat else {
                continue;
            };
            if pi.mutability.is_none() || pi.by_ref.is_some() || pi.subpat.is_some() {
                continue;
            }
            let it = pi.ident.clone();
            let mut plain = stmts[i].clone();
            if let Stmt::Local(l) = &mut plain {
                if let Pat::Ident(pi) = &mut l.pat {
                    pi.mutability = None;
                }
            }
            if iterator_let(&plain).is_none() {
                continue;
            }
            let uses: Vec<usize> = (i + 1..stmts.len())
                .filter(|&k| mentions(&stmts[k], &it))
                .collect();
            let [k] = uses[..] else {
                continue;
            };
            let Stmt::Expr(Expr::While(w), semi) = &stmts[k] else {
                continue;
            };
            let Expr::Let(lt) = strip_parens(&w.cond) else {
                continue;
            };
            let Pat::TupleStruct(ts) = &*lt.pat else {
                continue;
            };
            let next = matches!(strip_parens(&lt.expr), Expr::MethodCall(mc)
                if mc.method == "next" && mc.args.is_empty() && mc.turbofish.is_none()
                    && matches!(strip_parens(&mc.receiver), Expr::Path(p) if p.path.is_ident(&it)));
            if !ts.path.is_ident("Some") || ts.elems.len() != 1 || !next {
                continue;
            }
            if idents_of(&quote::quote!(#w))
                .iter()
                .filter(|n| it == **n)
                .count()
                != 1
            {
                continue;
            }
            let (label, pat, body) = (&w.label, &ts.elems[0], &w.body);
            let for_loop: Expr =
                syn::parse_quote_spanned!(w.while_token.span=> #label for #pat in #it #body);
            stmts[k] = Stmt::Expr(for_loop, *semi);
            stmts[i] = plain;
        }
    }
    /// `let it = x.iter().map(..);` used once, later in the block (`for v in it`,
    /// `y.iter().zip(it)`, `it.sum()`): the chain written where it is used, which is followed;
    /// an iterator is lazy, so the chain reads its sources there. Only where that is the same:
    /// no `move` closure in the chain, and no name it reads assigned, borrowed `&mut` or given
    /// to a method between the `let` and the use (a count or a range bound that changes).
    fn inline_iterator_lets(stmts: &mut Vec<Stmt>) {
        let mut i = 0;
        while i < stmts.len() {
            if let Some((name, init)) = iterator_let(&stmts[i]) {
                let uses: Vec<usize> = (i + 1..stmts.len())
                    .filter(|&k| mentions(&stmts[k], &name))
                    .collect();
                // The names the chain reads from outside (its closures' parameters are its own).
                let own = bound_in_expr(&init);
                let read: Vec<String> = idents_of(&quote::quote!(#init))
                    .into_iter()
                    .filter(|n| !own.contains(n))
                    .collect();
                let count: usize = uses.iter().map(|&k| count_uses(&stmts[k], &name)).sum();
                if let ([k], 1) = (&uses[..], count) {
                    // A name declared again (`let w = ..` between, `for w in ..` around the use)
                    // would be read by the chain written at the use.
                    let declared_between = (i + 1..*k).any(|j| match &stmts[j] {
                        Stmt::Local(l) => bound_names(&l.pat).iter().any(|n| read.contains(n)),
                        _ => false,
                    });
                    let shadowed_at_use = in_scope_at_use(&stmts[*k], &name)
                        .is_none_or(|names| names.iter().any(|n| read.contains(n)));
                    if (i + 1..*k).all(|j| !changes_any(&stmts[j], &read))
                        && !declared_between
                        && !shadowed_at_use
                    {
                        let mut used = stmts[*k].clone();
                        let paren: Expr = syn::parse_quote!((#init));
                        let mut replace = Replace {
                            name: &name,
                            with: &paren,
                        };
                        syn::visit_mut::VisitMut::visit_stmt_mut(&mut replace, &mut used);
                        stmts[*k] = used;
                        stmts.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
    }
    fn iterator_let(stmt: &Stmt) -> Option<(syn::Ident, Expr)> {
        let Stmt::Local(local) = stmt else {
            return None;
        };
        let Pat::Ident(pi) = &local.pat else {
            return None;
        };
        if pi.by_ref.is_some() || pi.mutability.is_some() || pi.subpat.is_some() {
            return None;
        }
        let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
        let e = strip_parens(&init.expr);
        // An iterator, not a range or a container: at least one method of a chain; or the
        // `Option` of the best item of one (`let best = x.iter().max_by(..);`), taken apart at
        // its use (see `best_match`).
        if !matches!(e, Expr::MethodCall(_))
            || (super::chain::parse_chain(e, false).is_none() && best_call(e).is_none())
        {
            return None;
        }
        let tokens = quote::quote!(#e);
        if idents_of(&tokens).iter().any(|n| n == "move") {
            return None;
        }
        Some((pi.ident.clone(), e.clone()))
    }
    /// The names bound inside `stmt` whose scope holds the use of `name` (closure parameters,
    /// a `for` loop's or a `match` arm's pattern, an `if let`'s, an earlier `let` of a block
    /// around it); `None` where `name` is not used as a variable.
    fn in_scope_at_use(stmt: &Stmt, name: &syn::Ident) -> Option<Vec<String>> {
        struct Scope<'a> {
            name: &'a syn::Ident,
            stack: Vec<String>,
            found: Option<Vec<String>>,
        }
        impl Scope<'_> {
            fn with<F: FnOnce(&mut Self)>(&mut self, bound: Vec<String>, f: F) {
                let n = self.stack.len();
                self.stack.extend(bound);
                f(self);
                self.stack.truncate(n);
            }
        }
        impl<'ast> syn::visit::Visit<'ast> for Scope<'_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                if self.found.is_some() {
                    return;
                }
                match e {
                    Expr::Path(p) if p.qself.is_none() && p.path.is_ident(self.name) => {
                        self.found = Some(self.stack.clone());
                    }
                    Expr::Closure(c) => {
                        let bound = c.inputs.iter().flat_map(bound_names).collect();
                        self.with(bound, |s| s.visit_expr(&c.body));
                    }
                    Expr::ForLoop(f) => {
                        self.visit_expr(&f.expr);
                        self.with(bound_names(&f.pat), |s| s.visit_block(&f.body));
                    }
                    Expr::Match(m) => {
                        self.visit_expr(&m.expr);
                        for arm in &m.arms {
                            // A guard is part of the pattern here: a use in it is not found,
                            // and the chain is left where it is.
                            self.with(bound_names(&arm.pat), |s| s.visit_expr(&arm.body));
                        }
                    }
                    Expr::If(ei) if matches!(&*ei.cond, Expr::Let(_)) => {
                        let Expr::Let(l) = &*ei.cond else { return };
                        self.visit_expr(&l.expr);
                        self.with(bound_names(&l.pat), |s| s.visit_block(&ei.then_branch));
                        if let Some((_, e)) = &ei.else_branch {
                            self.visit_expr(e);
                        }
                    }
                    Expr::While(w) if matches!(&*w.cond, Expr::Let(_)) => {
                        let Expr::Let(l) = &*w.cond else { return };
                        self.visit_expr(&l.expr);
                        self.with(bound_names(&l.pat), |s| s.visit_block(&w.body));
                    }
                    _ => syn::visit::visit_expr(self, e),
                }
            }
            fn visit_block(&mut self, b: &'ast syn::Block) {
                let n = self.stack.len();
                for stmt in &b.stmts {
                    self.visit_stmt(stmt);
                    if let Stmt::Local(l) = stmt {
                        self.stack.extend(bound_names(&l.pat));
                    }
                }
                self.stack.truncate(n);
            }
        }
        let mut scope = Scope {
            name,
            stack: Vec::new(),
            found: None,
        };
        syn::visit::Visit::visit_stmt(&mut scope, stmt);
        scope.found
    }
    /// The names the patterns in `node` bind (`let`, closure parameters, `for`, `match` arms):
    /// a pattern itself, or the patterns inside an expression.
    struct Bound(Vec<String>);
    impl<'ast> syn::visit::Visit<'ast> for Bound {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
    }
    fn bound_names(pat: &Pat) -> Vec<String> {
        let mut b = Bound(Vec::new());
        syn::visit::Visit::visit_pat(&mut b, pat);
        b.0
    }
    fn bound_in_expr(e: &Expr) -> Vec<String> {
        let mut b = Bound(Vec::new());
        syn::visit::Visit::visit_expr(&mut b, e);
        b.0
    }
    fn mentions(stmt: &Stmt, name: &syn::Ident) -> bool {
        idents_of(&quote::quote!(#stmt)).iter().any(|n| name == n)
    }
    /// The uses of `name` as a variable in `stmt`; a use inside a macro counts twice (it is
    /// not replaced).
    fn count_uses(stmt: &Stmt, name: &syn::Ident) -> usize {
        struct Count<'a>(&'a syn::Ident, usize);
        impl<'ast> syn::visit::Visit<'ast> for Count<'_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if p.qself.is_none() && p.path.is_ident(self.0) {
                    self.1 += 1;
                }
            }
            fn visit_macro(&mut self, m: &'ast syn::Macro) {
                if idents_of(&m.tokens).iter().any(|n| self.0 == n) {
                    self.1 += 2;
                }
            }
        }
        let mut c = Count(name, 0);
        syn::visit::Visit::visit_stmt(&mut c, stmt);
        // A name that is not a plain variable use (a pattern, a field) is a use that is not
        // replaced either.
        let all = idents_of(&quote::quote!(#stmt))
            .iter()
            .filter(|n| name == *n)
            .count();
        if all != c.1 { c.1 + 2 } else { c.1 }
    }
    /// Whether `stmt` may change one of the variables `names`: assigns it, borrows it `&mut`,
    /// calls a method on it (other than a few that only read), or names it in a macro.
    fn changes_any(stmt: &Stmt, names: &[String]) -> bool {
        struct Changes<'a>(&'a [String], bool);
        impl Changes<'_> {
            fn hit(&mut self, e: &Expr) {
                if assigned_root(e).is_some_and(|r| self.0.contains(&r)) {
                    self.1 = true;
                }
            }
        }
        impl<'ast> syn::visit::Visit<'ast> for Changes<'_> {
            fn visit_expr(&mut self, e: &'ast Expr) {
                match e {
                    Expr::Assign(a) => self.hit(&a.left),
                    Expr::Binary(b) if super::is_compound_assign(&b.op) => self.hit(&b.left),
                    Expr::Reference(r) if r.mutability.is_some() => self.hit(&r.expr),
                    Expr::MethodCall(mc)
                        if !matches!(
                            mc.method.to_string().as_str(),
                            "len" | "is_empty" | "iter" | "first" | "last" | "get" | "clone"
                        ) =>
                    {
                        self.hit(&mc.receiver)
                    }
                    _ => {}
                }
                syn::visit::visit_expr(self, e);
            }
            fn visit_macro(&mut self, m: &'ast syn::Macro) {
                if idents_of(&m.tokens).iter().any(|n| self.0.contains(n)) {
                    self.1 = true;
                }
            }
        }
        let mut c = Changes(names, false);
        syn::visit::Visit::visit_stmt(&mut c, stmt);
        c.1
    }
    struct Replace<'a> {
        name: &'a syn::Ident,
        with: &'a Expr,
    }
    impl syn::visit_mut::VisitMut for Replace<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Path(p) = e {
                if p.qself.is_none() && p.path.is_ident(self.name) {
                    *e = self.with.clone();
                    return;
                }
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    fn strip_parens(e: &Expr) -> &Expr {
        match e {
            Expr::Paren(p) => strip_parens(&p.expr),
            Expr::Group(g) => strip_parens(&g.expr),
            e => e,
        }
    }
    impl syn::visit_mut::VisitMut for Desugar<'_> {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            hoist_block_lets(&mut block.stmts);
            for s in &mut block.stmts {
                if let Some(m) = let_else(s) {
                    *s = m;
                }
            }
            imported_calls(block);
            split_end_lets(&mut block.stmts);
            super::options::option_lets(&mut block.stmts);
            block.stmts =
                super::break_values::break_values(std::mem::take(&mut block.stmts), &mut self.made);
            block.stmts = super::in_place::replace_lets(
                std::mem::take(&mut block.stmts),
                &self.unshadowed_refs,
            );
            block.stmts = super::in_place::array_from_fn_lets(std::mem::take(&mut block.stmts));
            block.stmts = super::in_place::field_element_writes(
                std::mem::take(&mut block.stmts),
                &mut self.made,
            );
            super::in_place::element_ref_lets(&mut block.stmts, &mut self.made);
            super::in_place::region_view_lets(&mut block.stmts);
            super::calls::lent_elements(&mut block.stmts);
            for s in block.stmts.iter_mut() {
                if let Some(r) = super::in_place::in_place_statement(s, &self.unshadowed_refs) {
                    *s = r;
                }
                if let Some(r) = super::elementwise::zip_mut_with(s, self.krate) {
                    *s = r;
                }
                if let Some(r) = super::elementwise::zip_of_lanes(s) {
                    *s = r;
                }
                if let Some(r) = super::array_windows::zip_windows(s, self.krate) {
                    *s = r;
                }
                if let Some(r) = super::zip_indexed::zip_indexed(s) {
                    *s = r;
                }
                if let Some(r) = super::elementwise::map_inplace(s) {
                    *s = r;
                }
            }
            split_tuple_lets(&mut block.stmts);
            into_with_type(&mut block.stmts);
            iterator_positions(&mut block.stmts, &mut self.made);
            while_next_loops(&mut block.stmts);
            inline_iterator_lets(&mut block.stmts);
            let struct_pat = |p: &Pat| matches!(p, Pat::Struct(_) | Pat::TupleStruct(_));
            if block.stmts.iter().any(|s| {
                matches!(s, syn::Stmt::Local(l) if struct_pat(&l.pat)
                    || matches!(&l.pat, Pat::Reference(r) if struct_pat(&r.pat)))
            }) {
                let mut out = Vec::with_capacity(block.stmts.len());
                for s in std::mem::take(&mut block.stmts) {
                    match self.struct_let(&s) {
                        Some(v) => out.extend(v),
                        None => out.push(s),
                    }
                }
                block.stmts = out;
            }
            syn::visit_mut::visit_block_mut(self, block);
        }
        fn visit_local_mut(&mut self, l: &mut syn::Local) {
            // `let s: Array1<f64> = chain.collect();` names the collection in the `let`, as
            // `chain.collect::<Array1<f64>>()` does in the call: written so, it is followed
            // (below), and another collection than a `Vec` is the error that says what to
            // write, where the chain would be collected into a `Vec` the `let` rejects.
            if let (Pat::Type(pt), Some(init)) = (&l.pat, &mut l.init) {
                if let Expr::MethodCall(mc) = &mut *init.expr {
                    if mc.method == "collect"
                        && mc.args.is_empty()
                        && mc.turbofish.is_none()
                        && !matches!(&*pt.ty, syn::Type::Infer(_))
                    {
                        let ty = &pt.ty;
                        mc.turbofish = Some(syn::parse_quote!(::<#ty>));
                    }
                }
            }
            syn::visit_mut::visit_local_mut(self, l);
        }
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Some(r) = array_assignment(e, &mut self.made) {
                *e = r;
            }
            if let Expr::Closure(cl) = e {
                returns_as_breaks(cl, &mut self.made);
            }
            super::labels::unlabel(e, &mut self.made);
            super::in_place::range_iter_mut(e);
            super::in_place::element_ref_if(e, &mut self.made);
            if let Some(r) = repeat_take(e) {
                *e = r;
            }
            // A loop over the lanes of a matrix is taken before its head is rewritten as a
            // chain below.
            if let Expr::ForLoop(fl) = e {
                if let Some(lanes) = lane_loop(fl, self.krate, &self.vectors) {
                    *e = lanes;
                }
            }
            // `for (i, &v) in a.indexed_iter()` of a vector (its index a number, not a tuple of
            // them) is `a.iter().enumerate()`, which is followed.
            if let Expr::ForLoop(fl) = e {
                let by_position = matches!(&*fl.pat, Pat::Tuple(t)
                    if t.elems.len() == 2 && !matches!(t.elems[0], Pat::Tuple(_)));
                if let Expr::MethodCall(mc) = &mut *fl.expr {
                    if by_position && mc.method == "indexed_iter" && mc.args.is_empty() {
                        let (recv, span) = (&mc.receiver, mc.method.span());
                        *fl.expr = syn::parse_quote_spanned!(span=> #recv.iter().enumerate());
                    }
                }
            }
            // `for ((i, j), &v) in a.indexed_iter()` of a matrix (`((i, j, k), ..)` of a 3-D
            // array), the rank read off the pattern: `for (k, &v) in a.iter().enumerate()`, which
            // is followed (the elements in the same row-major order), each index computed from
            // the position `k` and the shape; `break` and `continue` keep their meaning.
            if let Expr::ForLoop(fl) = e {
                if let Some(r) = indexed_iter_loop(fl) {
                    *e = r;
                }
            }
            if let Expr::ForLoop(fl) = e {
                if let Some(r) = indexed_iter_mut_loop(fl, &mut self.made) {
                    *e = r;
                }
            }
            let looped = matches!(
                e,
                Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) | Expr::Closure(_)
            );
            self.loops += usize::from(looped);
            // `for st in steps` over a slice parameter (`xs.iter()`, `&xs`, and the item of
            // `for (i, st) in xs.iter().enumerate()`): `st` is a reference in the body, for the
            // struct patterns of `let Step { .. } = st;`.
            let item = match &*e {
                Expr::ForLoop(fl) => {
                    let (pat, it) = match (&*fl.pat, strip_parens(&fl.expr)) {
                        (Pat::Tuple(t), Expr::MethodCall(mc))
                            if t.elems.len() == 2
                                && mc.method == "enumerate"
                                && mc.args.is_empty() =>
                        {
                            (&t.elems[1], strip_parens(&mc.receiver))
                        }
                        (p, it) => (p, it),
                    };
                    match pat {
                        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                            let by_ref = match it {
                                Expr::Reference(r) => r.mutability.is_none(),
                                Expr::MethodCall(mc) => mc.method == "iter" && mc.args.is_empty(),
                                Expr::Path(p) => p
                                    .path
                                    .get_ident()
                                    .is_some_and(|id| self.shared_refs.contains(&id.to_string())),
                                _ => false,
                            };
                            by_ref.then(|| pi.ident.to_string())
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            let pushed = item.is_some();
            self.item_refs.extend(item);
            syn::visit_mut::visit_expr_mut(self, e);
            if pushed {
                self.item_refs.pop();
            }
            self.loops -= usize::from(looped);
            match e {
                Expr::Struct(es) if es.rest.is_some() => {
                    // The base read again after the update, or in the next iteration.
                    let again = es.rest.as_deref().and_then(place_root).is_some_and(|r| {
                        self.loops > 0 || self.names.get(&r.to_string()).is_some_and(|&n| n > 1)
                    });
                    let variable = es.rest.as_deref().is_some_and(|b| {
                        matches!(super::chain::strip(b), Expr::Path(p) if p.path.get_ident().is_some())
                    });
                    if again && variable {
                        // Decided where the lowering knows whether `base` holds data only.
                    } else if let Some(r) = struct_update(es, again) {
                        *e = r;
                    }
                }
                Expr::Match(m) => {
                    if let Some(r) = rewrite_match(m) {
                        *e = r;
                    }
                }
                // `chain.max_by(f).unwrap_or(d)`: `if chain.count() > 0 {
                // chain.max_by(f).unwrap() } else { d }` (see `best_match`); with `.copied()`
                // (`.cloned()`) before the default, the item read through its reference.
                Expr::MethodCall(mc)
                    if mc.method == "unwrap_or"
                        && mc.args.len() == 1
                        && best_call(copied_of(&mc.receiver).0).is_some() =>
                {
                    let (best, copied) = copied_of(&mc.receiver);
                    if let Some((chain, call)) = best_call(best) {
                        let d = &mc.args[0];
                        let deref = copied.then(|| quote::quote!(*));
                        *e = syn::parse_quote_spanned!(mc.method.span()=>
                            if #chain.count() > 0 { #deref #call.unwrap() } else { #d }
                        );
                    }
                }
                // `opt.map(|p| body).unwrap_or(d)` (`map_or(d, |p| body)`, `unwrap_or_else(||
                // d)`) of any `Option`: `match opt { Some(p) => body, None => d }`, which is
                // followed where the `match` is (a position, a best item, an element).
                Expr::MethodCall(mc) if option_map(mc).is_some() => {
                    if let Some(r) = option_map(mc) {
                        *e = r;
                    }
                }
                // `chain.max_by(f).copied().unwrap()` (`cloned()`, `expect(..)`):
                // `*chain.max_by(f).unwrap()`, which is followed.
                Expr::MethodCall(mc)
                    if (mc.method == "unwrap" || mc.method == "expect")
                        && matches!(copied_of(&mc.receiver), (best, true) if best_call(best).is_some()) =>
                {
                    let (best, _) = copied_of(&mc.receiver);
                    let (method, args) = (&mc.method, &mc.args);
                    *e = syn::parse_quote_spanned!(mc.method.span()=> *#best.#method(#args));
                }
                // `z.scaled_add(a, &y)` of an ndarray array is `z += &(&y * a)`, which is
                // followed (`*z += ..` for a `&mut` parameter).
                Expr::MethodCall(mc)
                    if mc.method == "scaled_add"
                        && mc.args.len() == 2
                        && mc.turbofish.is_none()
                        && plain_place(&mc.receiver) =>
                {
                    let (z, alpha, rhs) = (&mc.receiver, &mc.args[0], &mc.args[1]);
                    let span = mc.method.span();
                    let by_ref = matches!(&*mc.receiver, Expr::Path(p)
                        if p.path.get_ident().is_some_and(|id| self.mut_refs.contains(&id.to_string())));
                    *e = if by_ref {
                        syn::parse_quote_spanned!(span=> *#z += &((#rhs) * (#alpha)))
                    } else {
                        syn::parse_quote_spanned!(span=> #z += &((#rhs) * (#alpha)))
                    };
                }
                // `chain.collect::<Array1<f64>>()` (`Array<_, _>`) is
                // `Array1::from(chain.collect::<Vec<_>>())`, which is followed.
                Expr::MethodCall(mc)
                    if mc.method == "collect"
                        && mc.args.is_empty()
                        && collected_array(mc).is_some() =>
                {
                    if let Some(ty) = collected_array(mc) {
                        let recv = &mc.receiver;
                        *e = syn::parse_quote_spanned!(mc.method.span()=>
                            #ty::from(#recv.collect::<::std::vec::Vec<_>>())
                        );
                    }
                }
                // `std::iter::zip(a, b)` (`core::iter::zip`, `iter::zip`) is the chain
                // `a.into_iter().zip(b)`, written so that its source is one that is followed:
                // `&x` as `x.iter()`, `&mut x` as `x.iter_mut()`.
                Expr::Call(c)
                    if c.args.len() == 2
                        && matches!(&*c.func, Expr::Path(f) if f.qself.is_none()
                            && f.path.segments.len() >= 2
                            && f.path.segments.last().is_some_and(|s| s.ident == "zip")
                            && f.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "iter")) =>
                {
                    let (a, b2) = (&c.args[0], &c.args[1]);
                    let span = c.paren_token.span.join();
                    let head: Option<Expr> = match strip_parens(a) {
                        Expr::Reference(r) => {
                            let inner = &r.expr;
                            Some(if r.mutability.is_some() {
                                syn::parse_quote_spanned!(span=> (#inner).iter_mut())
                            } else {
                                syn::parse_quote_spanned!(span=> (#inner).iter())
                            })
                        }
                        Expr::MethodCall(_) | Expr::Range(_) => {
                            Some(syn::parse_quote_spanned!(span=> (#a)))
                        }
                        Expr::Path(_) | Expr::Field(_) => {
                            Some(syn::parse_quote_spanned!(span=> #a.into_iter()))
                        }
                        _ => None,
                    };
                    if let Some(head) = head {
                        *e = syn::parse_quote_spanned!(span=> #head.zip(#b2));
                    }
                }
                // `std::mem::swap(&mut a, &mut b)` of two variables exchanges their values:
                // `(a, b) = (b, a)`, which is followed.
                Expr::Call(c)
                    if c.args.len() == 2
                        && matches!(&*c.func, Expr::Path(f) if f.qself.is_none()
                            && f.path.segments.last().is_some_and(|s| s.ident == "swap")
                            && f.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "mem")) =>
                {
                    // Also of fields and elements of variables (`&mut s.a`, `&mut v[i]`):
                    // `(s.a, s.b) = (s.b, s.a)` is followed as well.
                    let var = |e: &Expr| match e {
                        Expr::Reference(r)
                            if r.mutability.is_some()
                                && (matches!(&*r.expr, Expr::Path(p) if p.path.get_ident().is_some())
                                    || super::in_place::local_part(
                                        &r.expr,
                                        &self.unshadowed_refs,
                                    )) =>
                        {
                            Some((*r.expr).clone())
                        }
                        _ => None,
                    };
                    if let (Some(a), Some(b2)) = (var(&c.args[0]), var(&c.args[1])) {
                        *e = syn::parse_quote_spanned!(c.paren_token.span.join()=> (#a, #b2) = (#b2, #a));
                    }
                }
                // `x.split_at(k)` of a variable is the two range slices it returns, which are
                // followed (`(&x[..k], &x[k..])`); a position computed in place
                // (`x.split_at(x.len() / 2)`) is computed once, before both.
                Expr::MethodCall(mc)
                    if mc.method == "split_at"
                        && mc.args.len() == 1
                        && matches!(&*mc.receiver, Expr::Path(_)) =>
                {
                    let (x, k) = (&mc.receiver, &mc.args[0]);
                    let span = mc.method.span();
                    *e = if matches!(k, Expr::Path(_) | Expr::Lit(_)) {
                        syn::parse_quote_spanned!(span=> (&#x[..#k], &#x[#k..]))
                    } else {
                        syn::parse_quote_spanned!(span=> {
                            let __ad_mid: usize = #k;
                            (&#x[..__ad_mid], &#x[__ad_mid..])
                        })
                    };
                }
                // `x.split_first().unwrap()` (`split_last`, `.expect(..)`) of a variable is the
                // element and the range slice it returns, which are followed (`(&x[0],
                // &x[1..])`); an empty `x` panics at the index as it did at the `unwrap`.
                Expr::MethodCall(mc)
                    if (mc.method == "unwrap" && mc.args.is_empty())
                        || (mc.method == "expect" && mc.args.len() == 1) =>
                {
                    let Expr::MethodCall(split) = strip_parens(&mc.receiver) else {
                        return;
                    };
                    if !split.args.is_empty()
                        || split.turbofish.is_some()
                        || !matches!(strip_parens(&split.receiver), Expr::Path(p) if p.path.get_ident().is_some())
                    {
                        return;
                    }
                    let (x, span) = (&split.receiver, split.method.span());
                    if split.method == "split_first" {
                        *e = syn::parse_quote_spanned!(span=> (&#x[0], &#x[1..]));
                    } else if split.method == "split_last" {
                        *e = syn::parse_quote_spanned!(span=> (&#x[#x.len() - 1], &#x[..#x.len() - 1]));
                    }
                }
                Expr::If(ei) => {
                    let Some(conds) = let_chain(&ei.cond) else {
                        return;
                    };
                    let span = ei.if_token.span;
                    // The `else` block itself, not a block around it: a `break`, `continue`
                    // or `return` in it stays a statement of the arm (`{ { return x; } }` would
                    // put it in a block expression).
                    let other = match &ei.else_branch {
                        Some((_, b)) if matches!(&**b, Expr::Block(eb) if eb.attrs.is_empty() && eb.label.is_none()) =>
                        {
                            quote::quote!(#b)
                        }
                        Some((_, b)) => quote::quote!({ #b }),
                        None => quote::quote!({}),
                    };
                    let mut rewritten = nest(&conds, &ei.then_branch, &other, span);
                    if let Expr::Match(m) = &mut rewritten {
                        m.attrs = ei.attrs.clone();
                    }
                    *e = rewritten;
                }
                Expr::While(w) => {
                    let Some(conds) = let_chain(&w.cond) else {
                        return;
                    };
                    let span = w.while_token.span;
                    let (attrs, label) = (&w.attrs, &w.label);
                    let body = nest(&conds, &w.body, &quote::quote!({ break }), span);
                    *e = syn::parse_quote_spanned! {span=>
                        #(#attrs)* #label loop { #body }
                    };
                }
                // `x.fold_axis(ax, init, |acc, &v| acc + f(v))`, a sum along an axis, is
                // `x.map(|&v| f(v)).sum_axis(ax) + init`, which is followed.
                Expr::MethodCall(mc) if mc.method == "fold_axis" => {
                    if let Some(r) = fold_axis_sum(mc) {
                        *e = r;
                    }
                }
                // `a.rows()` (`outer_iter`, `columns`, `axis_iter(Axis(k))`, with
                // `.into_iter()`) of a matrix variable or a field of one at the head of an
                // iterator chain, or zipped to one (`xs.iter().zip(y.rows())`): the lanes read
                // by index, `(0..a.nrows()).map(|i| a.row(i))`, which is followed.
                Expr::MethodCall(mc) if !(mc.method == "into_iter" && mc.args.is_empty()) => {
                    if let Some(src) = lane_source(&mc.receiver, self.krate) {
                        *mc.receiver = src;
                    }
                    if mc.method == "zip" && mc.args.len() == 1 {
                        if let Some(src) = lane_source(&mc.args[0], self.krate) {
                            mc.args[0] = src;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // `for Step { state, action, .. } in steps { .. }` (also in tuples, `for (i, Step { .. }) in
    // steps.iter().enumerate()`): `for item in steps { let Step { .. } = item; .. }`, the
    // struct pattern of a `let`, which binds the fields as the loop's pattern does.
    struct ItemPatterns(usize);
    impl syn::visit_mut::VisitMut for ItemPatterns {
        fn visit_expr_for_loop_mut(&mut self, fl: &mut syn::ExprForLoop) {
            syn::visit_mut::visit_expr_for_loop_mut(self, fl);
            /// Each struct pattern in `p` or its tuples, named `__ad_itemN`, and the `let` that
            /// takes the name apart.
            fn name(p: &mut Pat, n: &mut usize, lets: &mut Vec<Stmt>) {
                if let Pat::Tuple(t) = p {
                    t.elems.iter_mut().for_each(|p| name(p, n, lets));
                } else if struct_pattern(p) {
                    let id = quote::format_ident!("__ad_item{}", *n, span = p.span());
                    *n += 1;
                    let pat = std::mem::replace(p, syn::parse_quote!(#id));
                    lets.push(syn::parse_quote_spanned!(pat.span()=> let #pat = #id;));
                }
            }
            let mut lets: Vec<Stmt> = Vec::new();
            name(&mut fl.pat, &mut self.0, &mut lets);
            if !lets.is_empty() {
                fl.body.stmts.splice(0..0, lets);
            }
        }
    }
    /// A pattern of a struct or a tuple struct (`Step { .. }`, `&Step { .. }`, `Pair(a, b)`),
    /// not of an `Option` or a `Result`.
    fn struct_pattern(p: &Pat) -> bool {
        match p {
            Pat::Struct(_) => true,
            Pat::TupleStruct(ts) => !["Some", "Ok", "Err"].iter().any(|n| ts.path.is_ident(n)),
            Pat::Reference(r) => struct_pattern(&r.pat),
            _ => false,
        }
    }
    syn::visit_mut::VisitMut::visit_block_mut(&mut ItemPatterns(0), block);
    // `x.iter().cycle()` first, so that the passes that take iterators kept in variables
    // (`let next = v.iter().cycle().skip(1);`) see a chain they follow.
    struct Cycles;
    impl syn::visit_mut::VisitMut for Cycles {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Some(r) = cycle_iter(e) {
                *e = r;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    syn::visit_mut::VisitMut::visit_block_mut(&mut Cycles, block);
    // Before the loops whose values are bound are rewritten (`break_values`), which labeled
    // blocks become.
    struct LabeledBlocks(usize);
    impl syn::visit_mut::VisitMut for LabeledBlocks {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            labeled_block_as_loop(e, &mut self.0);
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    syn::visit_mut::VisitMut::visit_block_mut(&mut LabeledBlocks(0), block);
    syn::visit_mut::VisitMut::visit_block_mut(
        &mut Desugar {
            mut_refs,
            unshadowed_refs: super::in_place::unshadowed(block, mut_refs),
            shared_refs,
            item_refs: Vec::new(),
            made: 0,
            krate,
            names: name_counts(block),
            loops: 0,
            vectors: vector_locals(block, vectors),
        },
        block,
    );
}

/// Whether `t` is an ndarray vector type: `Array1<T>`, `ArrayView1<T>`, behind references.
pub(super) fn is_vector_type(t: &syn::Type) -> bool {
    match t {
        syn::Type::Reference(r) => is_vector_type(&r.elem),
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Array1" || s.ident == "ArrayView1"),
        _ => false,
    }
}

/// The locals declared as ndarray vectors (`let v: Array1<f64> = ..`), made by a vector's
/// constructor (`Array1::zeros(n)`, `arr1(&[..])`) or by a method that keeps the rank of a
/// vector before it (`let h = x.mapv(..);` of a vector `x`), with `vectors` those known before.
fn vector_locals(block: &syn::Block, vectors: &[String]) -> Vec<String> {
    struct Locals(Vec<String>);
    impl Locals {
        /// `x.mapv(..)`, `x.clone()`, `x.exp()`, .. of a vector `x`.
        fn keeps_rank(&self, e: &Expr) -> bool {
            const SAME_SHAPE: &[&str] = &[
                "mapv",
                "map",
                "clone",
                "to_owned",
                "into_owned",
                "view",
                "exp",
                "ln",
                "sqrt",
                "abs",
                "tanh",
                "sin",
                "cos",
                "powi",
                "powf",
                "signum",
            ];
            match e {
                Expr::MethodCall(mc) if SAME_SHAPE.contains(&mc.method.to_string().as_str()) => {
                    match &*mc.receiver {
                        Expr::Path(p) => p
                            .path
                            .get_ident()
                            .is_some_and(|id| self.0.contains(&id.to_string())),
                        r => self.keeps_rank(r),
                    }
                }
                _ => false,
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Locals {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            let (pat, ty) = match &l.pat {
                Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
                p => (p, None),
            };
            let made = l.init.as_ref().is_some_and(|i| match &*i.expr {
                Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
                    if p.path.segments.iter().any(|s| s.ident == "Array1" || s.ident == "arr1")),
                e => self.keeps_rank(e),
            });
            if let Pat::Ident(pi) = pat {
                if ty.is_some_and(is_vector_type) || made {
                    self.0.push(pi.ident.to_string());
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut v = Locals(vectors.to_vec());
    syn::visit::Visit::visit_block(&mut v, block);
    v.0
}

/// `S { a: x, ..base }` as the copy of `base` with its fields assigned, `{ let mut s =
/// base; s.a = x; s }`, which is followed (a field assignment is a new version of the
/// struct); `..Default::default()` as `..S::default()`, the type rustc needs for `s.a`.
/// With `copy`, a `base` that is a place is copied, `base.clone()`: Rust moves only the
/// fields it does not name from a place, so `base` stays readable where those are `Copy`
/// (`S { a: y, ..base }` then `base.c`, also in a loop, or a borrow of `base` that the
/// backward pass of an earlier call `g(x, &base)` still holds), which the copy keeps so. A
/// base that is a variable read again is left to the lowering (`Lowering::struct_literal`),
/// which sees whether it holds data only: then the update runs as written, moving what Rust
/// moves, so that a struct without `Clone` stays readable where its other fields are `Copy`.
pub(super) fn struct_update(es: &syn::ExprStruct, copy: bool) -> Option<Expr> {
    let base = es.rest.as_deref()?;
    if es.qself.is_some() || es.fields.is_empty() {
        return None;
    }
    let mut names = Vec::new();
    let mut values = Vec::new();
    for fv in &es.fields {
        let syn::Member::Named(id) = &fv.member else {
            return None;
        };
        names.push(id);
        values.push(&fv.expr);
    }
    let path = &es.path;
    let span = es
        .dot2_token
        .as_ref()
        .map_or_else(|| path.span(), |d| d.spans[0]);
    let base: Expr = match super::chain::strip(base) {
        Expr::Call(c)
            if c.args.is_empty()
                && matches!(&*c.func, Expr::Path(f) if f.qself.is_none()
                    && f.path.segments.last().is_some_and(|s| s.ident == "default")
                    && f.path.segments.iter().rev().nth(1).is_some_and(|s| s.ident == "Default")) =>
        {
            syn::parse_quote_spanned!(span=> #path::default())
        }
        b if copy && place_root(b).is_some() => {
            syn::parse_quote_spanned!(span=> #b.clone())
        }
        b => b.clone(),
    };
    // The fields first, as Rust evaluates them before the base (which may move a variable
    // they read: `S { a: s.b, ..s }`).
    let vals: Vec<syn::Ident> = (0..names.len())
        .map(|k| syn::Ident::new(&format!("__ad_update{k}"), span))
        .collect();
    let tmp = syn::Ident::new("__ad_update", span);
    // The value as a literal of the type (`S { ..s }`, which is `s`), so that the methods
    // of a `let` bound to it are the struct's (see `calls::built_struct`).
    Some(syn::parse_quote_spanned!(span=> {
        #(let #vals = #values;)*
        let mut #tmp = #base;
        #(#tmp.#names = #vals;)*
        #path { ..#tmp }
    }))
}
/// The variable a place expression is rooted in: `s`, `s.inner`, `self.p`; `None` for a call,
/// a literal or another expression, which a struct update moves from.
fn place_root(e: &Expr) -> Option<&syn::Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        Expr::Field(f) => place_root(&f.base),
        Expr::Paren(p) => place_root(&p.expr),
        Expr::Group(g) => place_root(&g.expr),
        _ => None,
    }
}

/// How often each name is read in `block`: as a path expression (`base`, `base.c`, `&base`)
/// or inside a macro's tokens, not where a pattern binds it (`let base = ..`), so that a local
/// updated once from (`let s = S { a, ..base }` after `let base = ..`) counts once.
fn name_counts(block: &syn::Block) -> std::collections::HashMap<String, usize> {
    use syn::visit::Visit;
    #[derive(Default)]
    struct Reads(std::collections::HashMap<String, usize>);
    impl Reads {
        fn tokens(&mut self, ts: proc_macro2::TokenStream) {
            for t in ts {
                match t {
                    proc_macro2::TokenTree::Ident(id) => {
                        *self.0.entry(id.to_string()).or_default() += 1
                    }
                    proc_macro2::TokenTree::Group(g) => self.tokens(g.stream()),
                    _ => {}
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Reads {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if let Some(id) = p.path.get_ident() {
                *self.0.entry(id.to_string()).or_default() += 1;
            }
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            self.tokens(m.tokens.clone());
        }
    }
    let mut r = Reads::default();
    r.visit_block(block);
    r.0
}

/// `std::iter::repeat(x).take(n)` (or `repeat_n(x, n)`): the source `(0..n).map(|_| x)`, which
/// is followed. Only where `x` is plain (variables, fields, literals and arithmetic on them),
/// so that computing it for each item gives the same value.
/// `x.iter().cycle()` (also `x.iter().copied().cycle()`) of a variable or field (a polygon's
/// next vertex, `v.iter().zip(v.iter().cycle().skip(1))`) as the elements read by position
/// modulo the length, `(0..m).map(|k| &x[k % x.len()])` with `m` unbounded (`0` for an empty `x`, which `cycle` ends at once): a
/// chain read by position, which `zip`, `skip` and `take` follow.
fn cycle_iter(e: &Expr) -> Option<Expr> {
    let Expr::MethodCall(mc) = e else {
        return None;
    };
    if mc.method != "cycle" || !mc.args.is_empty() {
        return None;
    }
    let Expr::MethodCall(first) = super::chain::strip(&mc.receiver) else {
        return None;
    };
    let mut it = first;
    // `x.iter().copied().cycle()` (`cloned()`): the elements by value.
    let by_value = matches!(it.method.to_string().as_str(), "copied" | "cloned");
    if by_value && it.args.is_empty() {
        let Expr::MethodCall(inner) = super::chain::strip(&it.receiver) else {
            return None;
        };
        it = inner;
    }
    if it.method != "iter" || !it.args.is_empty() {
        return None;
    }
    let x = &it.receiver;
    if !chain::plain(x) {
        return None;
    }
    let span = mc.method.span();
    let element: Expr = if by_value {
        syn::parse_quote_spanned!(span=> #x[__ad_cycle % #x.len()])
    } else {
        syn::parse_quote_spanned!(span=> &#x[__ad_cycle % #x.len()])
    };
    Some(syn::parse_quote_spanned! {span=>
        (0..if #x.is_empty() { 0 } else { usize::MAX }).map(|__ad_cycle| #element)
    })
}

fn repeat_take(e: &Expr) -> Option<Expr> {
    fn iter_fn<'a>(e: &'a Expr, name: &str, args: usize) -> Option<&'a syn::ExprCall> {
        let Expr::Call(c) = e else {
            return None;
        };
        let Expr::Path(p) = &*c.func else {
            return None;
        };
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let path_ok = match &segs[..] {
            [f] => f == name,
            [m, f] => m == "iter" && f == name,
            [c, m, f] => (c == "std" || c == "core") && m == "iter" && f == name,
            _ => false,
        };
        (path_ok && c.args.len() == args).then_some(c)
    }
    let (x, n, span) = match e {
        Expr::MethodCall(mc) if mc.method == "take" && mc.args.len() == 1 => {
            let c = iter_fn(super::chain::strip(&mc.receiver), "repeat", 1)?;
            (&c.args[0], &mc.args[0], super::span::method_span(mc))
        }
        Expr::Call(_) => {
            let c = iter_fn(e, "repeat_n", 2)?;
            (&c.args[0], &c.args[1], c.span())
        }
        _ => return None,
    };
    chain::plain(x).then(|| syn::parse_quote_spanned!(span=> (0..(#n)).map(|_| #x)))
}

/// `let z = { S; if c { return r; } v };`, a block value that may leave the function (or a
/// loop) and declares nothing, is `S; if c { return r; } let z = v;`: its statements run before
/// the `let` either way, and the `if` with the `return` is then a statement, which is followed.
fn hoist_block_lets(stmts: &mut Vec<syn::Stmt>) {
    let mut out = Vec::with_capacity(stmts.len());
    for s in std::mem::take(stmts) {
        if let syn::Stmt::Local(l) = &s
            && let Some(init) = &l.init
            && init.diverge.is_none()
            && let Expr::Block(bl) = &*init.expr
            && bl.label.is_none()
            && bl.attrs.is_empty()
            && super::control::diverges_block(&bl.block)
            && let Some((syn::Stmt::Expr(tail, None), rest)) = bl.block.stmts.split_last()
            && rest
                .iter()
                .all(|s| !matches!(s, syn::Stmt::Local(_) | syn::Stmt::Item(_)))
        {
            out.extend(rest.iter().cloned());
            let mut l = l.clone();
            if let Some(init) = l.init.as_mut() {
                *init.expr = tail.clone();
            }
            out.push(syn::Stmt::Local(l));
            continue;
        }
        out.push(s);
    }
    *stmts = out;
}
