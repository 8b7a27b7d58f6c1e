//! Iterator chains, lowered to the loops the IR has: an index loop over `0..len` whose body
//! computes the item at that index from the chain's source (an element read of a slice, `Vec`
//! or array; a number of a range; a window of a slice) through its adapters, then consumes it
//! (a `for` body, `sum`, `product`, `fold`, `collect`, `max_by`, …).
//!
//! Adapters that move items around are index arithmetic done before the item is read: `rev`
//! reads index `len − 1 − k`, `skip(n)` reads `k + n`, `step_by(s)` reads `k·s`, `take(n)` and
//! `zip` shorten the loop. Adapters that transform items (`map`, `copied`) are applied to the
//! item read; `filter` skips the rest of the iteration for the items its predicate rejects.
//!
//! Adapters that follow the items one after another run in the body on the item read, with
//! state the loop carries: `take_while` leaves the loop at the first item its predicate rejects
//! (a flag, so that a later loop leaves at once), `skip_while` keeps a flag, `scan` its state,
//! `enumerate`, `skip(n)`, `take(n)` and `zip` after them a counter; `flat_map` and `flatten`
//! run a nested loop over the chain each item gives; `chain` runs the loops of its parts one
//! after the other into the same consumer (see `consume.rs`).
//! So the derivative sees element reads, arithmetic, branches and loops, which it already
//! follows.

use super::chain::{Chain, SUPPORTED, Source, parse_chain, strip};
use super::*;

/// A chain ready to run: its values computed before the loop.
pub(super) struct Prepared<'a> {
    pub(super) src: Src<'a>,
    /// Adapters that move items around or build them, with the length after each.
    pub(super) stages: Vec<(Stage<'a>, Value)>,
    /// The length of the source.
    pub(super) src_len: Value,
    /// Adapters applied to each item from the first `filter` on (`map`, `filter`, `copied`).
    pub(super) rest: Vec<Stage<'a>>,
    /// A range alone (with `map`, `filter`, `rev`): the loop runs over it directly.
    pub(super) direct: Option<LoopKind>,
}

pub(super) enum Src<'a> {
    Slice {
        base: Value,
        refs: u8,
        offset: Option<Value>,
        /// The items are references to the elements of the variable in this slot, written
        /// through (`x.iter_mut()`): cells of its current version, not reads of `base`.
        cells: Option<usize>,
    },
    Range {
        start: Value,
        end: Value,
        inclusive: bool,
    },
    Windows {
        base: Value,
        size: Value,
        len: Value,
        chunks: bool,
        exact: bool,
        /// `rchunks`: the chunks from the back, the last of them (the front) shorter.
        from_back: bool,
    },
    /// `std::iter::once(v)`.
    Once { v: Value, refs: u8 },
    /// `a.chain(b)`: the parts' loops run one after the other into the same consumer.
    Chain(Vec<Prepared<'a>>),
}

pub(super) enum Stage<'a> {
    Map(&'a Expr),
    Filter(&'a Expr),
    Enumerate,
    Rev,
    Skip(Value),
    Take,
    StepBy(Value),
    Zip(Box<Prepared<'a>>),
    Copied,
    /// `take_while(p)`: the flag the loop carries (no item rejected yet); the loop is left at
    /// the first item `p` rejects (and, in a later loop of a `chain` or `flat_map`, at once).
    TakeWhile(&'a Expr, usize),
    /// `skip_while(p)`: the flag the loop carries (an item was kept).
    SkipWhile(&'a Expr, usize),
    /// `scan(init, f)`: `f` rewritten to take the state by value and return it with the item
    /// (`|mut acc, v| { ..; (acc, item) }`), and the state the loop carries.
    Scan(Box<Expr>, usize),
    /// `flat_map(f)` (`None`: `flatten()`): a loop over the chain `f` returns, nested.
    FlatMap(Option<&'a Expr>),
    /// `enumerate` after a stage that drops or adds items: the counter the loop carries.
    Counted(usize),
    /// `skip(n)`, `take(n)` and `step_by(n)` after such a stage, with their counters.
    SkipN(Value, usize),
    TakeN(Value, usize),
    StepN(Value, usize),
    /// `zip` of a chain read by position with one that is not: the one read by position, its
    /// counter, and whether its items come first in the pairs.
    ZipAt(Box<Prepared<'a>>, usize, bool),
}

impl Stage<'_> {
    /// Whether the stage acts on each item alone, keeping or dropping it (`map`, `filter`,
    /// `copied`): it gives the same items in either order.
    fn is_elementwise(&self) -> bool {
        matches!(self, Stage::Filter(_) | Stage::Map(_) | Stage::Copied)
    }

    /// Whether the stage drops, adds or carries items from one to the next, so that what
    /// follows runs in the loop's body on the items it passes on.
    fn is_sequential(&self) -> bool {
        !matches!(
            self,
            Stage::Map(_)
                | Stage::Enumerate
                | Stage::Rev
                | Stage::Skip(_)
                | Stage::Take
                | Stage::StepBy(_)
                | Stage::Zip(_)
                | Stage::Copied
        )
    }
}

/// A chain being prepared, adapter by adapter.
struct Building<'a> {
    src: Src<'a>,
    src_len: Value,
    stages: Vec<(Stage<'a>, Value)>,
    rest: Vec<Stage<'a>>,
    /// The number of items after the last stage read by position.
    len: Value,
    revs: usize,
    /// A stage that drops, adds or carries items came: the rest follow it in the body.
    seq: bool,
}

impl<'a> Building<'a> {
    fn from_prepared(p: Prepared<'a>) -> Self {
        let len = p.len();
        let seq = !p.rest.is_empty() || matches!(p.src, Src::Chain(_));
        Building {
            src: p.src,
            src_len: p.src_len,
            stages: p.stages,
            rest: p.rest,
            len,
            revs: 0,
            seq,
        }
    }

    /// With `allow_direct`, a range alone is the loop's own range (not for the argument of
    /// `zip`, whose items are read by index).
    fn finish(self, allow_direct: bool) -> Prepared<'a> {
        let Building {
            src,
            src_len,
            mut stages,
            mut rest,
            revs,
            ..
        } = self;
        let direct = match &src {
            Src::Range { .. } if !allow_direct => None,
            Src::Range {
                start,
                end,
                inclusive,
            } if stages
                .iter()
                .all(|(s, _)| matches!(s, Stage::Map(_) | Stage::Copied | Stage::Rev)) =>
            {
                Some(LoopKind::Range {
                    start: *start,
                    end: *end,
                    inclusive: *inclusive,
                    rev: revs % 2 == 1,
                })
            }
            _ => None,
        };
        if direct.is_some() {
            // The loop's index is the item: the stages that remain act on it one by one.
            let mut elementwise: Vec<Stage> = stages
                .drain(..)
                .map(|(s, _)| s)
                .filter(|s| !matches!(s, Stage::Rev))
                .collect();
            elementwise.append(&mut rest);
            rest = elementwise;
        }
        Prepared {
            src,
            stages,
            src_len,
            rest,
            direct,
        }
    }
}

/// The closure of `scan(init, |acc, v| { *acc = ..; Some(item) })` rewritten to take the state
/// by value and return it with the item: `|mut acc, v| { acc = ..; (acc, item) }`. Its other
/// uses of `*acc` become `acc` too.
fn scan_closure(f: &Expr) -> Result<Expr, &'static str> {
    const FORM: &str = "the closure of `scan` is followed when it is written in place and its \
        value is `Some(..)` at its end (`scan(0.0, |acc, &v| { *acc += v; Some(*acc) })`); for \
        a scan that stops early, leave the closure by `if .. { return None; }` before that end \
        (the `scan` in a statement of its own), or write a `for` loop with `break`";
    let Expr::Closure(cl) = strip(f) else {
        return Err(FORM);
    };
    if cl.inputs.len() != 2 {
        return Err(FORM);
    }
    let mut state = &cl.inputs[0];
    while let Pat::Type(pt) = state {
        state = &pt.pat;
    }
    let Pat::Ident(pi) = state else {
        return Err(FORM);
    };
    if pi.by_ref.is_some() || pi.subpat.is_some() {
        return Err(FORM);
    }
    let name = pi.ident.clone();
    let (mut stmts, tail) = match strip(&cl.body) {
        Expr::Block(bl) if bl.label.is_none() => {
            let mut stmts = bl.block.stmts.clone();
            match stmts.pop() {
                Some(Stmt::Expr(e, None)) => (stmts, e),
                _ => return Err(FORM),
            }
        }
        e => (Vec::new(), e.clone()),
    };
    let Expr::Call(call) = strip(&tail) else {
        return Err(FORM);
    };
    let some = matches!(strip(&call.func), Expr::Path(p) if p.path.is_ident("Some"));
    if !some || call.args.len() != 1 {
        return Err(FORM);
    }
    let mut item = call.args[0].clone();
    let mut undo = Underef(&name);
    for s in &mut stmts {
        syn::visit_mut::VisitMut::visit_stmt_mut(&mut undo, s);
    }
    syn::visit_mut::VisitMut::visit_expr_mut(&mut undo, &mut item);
    let value = &cl.inputs[1];
    let span = cl.span();
    // The item is computed before the state is moved into the pair (`Some(w.len())` of a
    // `Vec` state `w`).
    Ok(syn::parse_quote_spanned! {span=>
        |mut #name, #value| { #(#stmts)* let __ad_item = #item; (#name, __ad_item) }
    })
}

/// Rewrites `*acc` to `acc`.
struct Underef<'a>(&'a syn::Ident);

impl syn::visit_mut::VisitMut for Underef<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Unary(u) = e {
            if matches!(u.op, syn::UnOp::Deref(_))
                && matches!(strip(&u.expr), Expr::Path(p) if p.path.is_ident(self.0))
            {
                *e = (*u.expr).clone();
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

impl Lowering {
    /// An integer computed as written from values: `uses` name them in `tokens`.
    pub(super) fn int_op(
        &mut self,
        b: Block,
        tokens: TokenStream,
        uses: &[(&str, Value)],
        span: Span,
    ) -> Value {
        self.int_op_kind(b, tokens, uses, Kind::Discrete, span)
    }

    /// Code run as written on values that `uses` names in `tokens`.
    pub(super) fn int_op_kind(
        &mut self,
        b: Block,
        tokens: TokenStream,
        uses: &[(&str, Value)],
        kind: Kind,
        span: Span,
    ) -> Value {
        let uses = uses
            .iter()
            .map(|(n, v)| (syn::Ident::new(n, Span::call_site()), *v))
            .collect();
        let i = self.f.push_inst(
            b,
            InstKind::Opaque {
                tokens: placeholders_at_call_site(tokens),
                uses,
                mac: None,
            },
            1,
            kind,
            span,
        );
        self.f.inst(i).results[0]
    }

    pub(super) fn int_bin(&mut self, b: Block, op: BinOp, x: Value, y: Value, span: Span) -> Value {
        self.inst1(b, InstKind::Binary(op, x, y), Kind::Discrete, span)
    }

    pub(super) fn len_of(&mut self, b: Block, base: Value, span: Span) -> Value {
        let len = syn::Ident::new("len", span);
        self.inst1(
            b,
            InstKind::Method {
                name: len,
                recv: base,
                args: Vec::new(),
                unwrap: false,
                recv_mut: None,
            },
            Kind::Discrete,
            span,
        )
    }

    /// Whether `v` is what a function or a method returned (`let h = layer(x);`, through
    /// copies, references, `mapv` and array arithmetic), whose number of axes the macro does
    /// not see.
    fn made_by_call(&self, v: Value) -> bool {
        self.made_from(v, 0, &|k| matches!(k, InstKind::Call { .. }))
    }

    /// Whether `v` is an ndarray product whose number of axes the macro does not see (`x.dot(&p.w)`
    /// of a field, a matrix or a vector), or made from one by array arithmetic, copies and
    /// elementwise maps (`(x.dot(&p.w) + &p.b).mapv(f64::tanh)`): an ndarray array in any case,
    /// whose elements are iterated through `flatten`, which any number of axes has.
    fn product_of_unseen_rank(&self, v: Value) -> bool {
        self.made_from(
            v,
            0,
            &|k| matches!(k, InstKind::Prim { prim, .. } if prim.name() == "dot"),
        )
    }

    /// Whether `v` is made by an instruction `source` accepts, directly or through what keeps
    /// an array's number of axes: references, copies, negation, array arithmetic and
    /// elementwise maps (`mapv`, a closure over elements).
    fn made_from(&self, v: Value, depth: usize, source: &dyn Fn(&InstKind) -> bool) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        if depth > 32 {
            return false;
        }
        let kind = &self.f.inst(i).kind;
        if source(kind) {
            return true;
        }
        let rec = |x: Value| self.made_from(x, depth + 1, source);
        match kind {
            InstKind::Ref(x)
            | InstKind::Deref(x)
            | InstKind::Neg(x)
            | InstKind::TypedLike { value: x, .. } => rec(*x),
            // Array arithmetic on one (`layer(x) + &p.b`).
            InstKind::Binary(_, x, y) => rec(*x) || rec(*y),
            InstKind::Method { name, recv, .. } => {
                matches!(
                    name.to_string().as_str(),
                    "mapv" | "map" | "to_owned" | "clone" | "view"
                ) && rec(*recv)
            }
            InstKind::Call { path, args }
                if let Some(map) = self.f.maps.iter().find(|m| path.is_ident(&m.name)) =>
            {
                args.iter().take(map.arrays).any(|&a| rec(a))
            }
            _ => false,
        }
    }

    /// Code that compiles only where the elements of `base` are read by one index (a `Vec`, a
    /// slice, a vector): iterated as a vector's, what a function returned is checked to be one,
    /// so that a matrix is an error that says what to write, not rustc's about `NdIndex` in the
    /// generated code.
    fn check_one_index(&mut self, b: Block, base: Value, span: Span) {
        let k = self.krate.clone();
        let kind = self.kind(base);
        let r = self.inst1(b, InstKind::Ref(base), kind, span);
        self.int_op_kind(
            b,
            quote::quote_spanned!(span=> #k::__private::result_iterated_as_vector(__ad_a)),
            &[("__ad_a", r)],
            Kind::Discrete,
            span,
        );
    }

    /// Whether `v` is a parameter declared as an ndarray array of two or more dimensions, whose
    /// elements cannot be read by one index.
    pub(super) fn is_multi_dim(&self, v: Value) -> bool {
        self.min_rank(v, 0) >= 2
    }

    /// A lower bound of the number of axes of `v` (0 where nothing is known), following a
    /// local to what made it: an array operation keeps the rank of its array operands (`&a *
    /// 2.0`, `a.mapv(..)`, `a.t()`), a product of two matrices is one, `insert_axis` adds an
    /// axis and `index_axis`, `sum_axis` and `mean_axis` remove one, a `slice` keeps the axes
    /// its ranges (`..`) select, and a constructor of `Array2` (`Array2::zeros(..)`) is a
    /// matrix; a version of an array
    /// (an element written, a loop's or a branch's) has the rank of the array, and a variable
    /// carried by a loop has the rank of its value before the loop.
    pub(super) fn min_rank(&self, v: Value, depth: usize) -> usize {
        if depth > 32 {
            return 0;
        }
        let rec = |x: Value| self.min_rank(x, depth + 1);
        // A version of the same array (written by element, a loop's or a branch's result).
        if let Some(earlier) = self.f.earlier_version(v) {
            return rec(earlier);
        }
        let i = match self.f.value(v).def {
            ValueDef::Param(n) => return type_rank(&self.f.params[n].ty),
            // A variable carried by a loop, in the body and after it: the value it had before.
            ValueDef::BlockParam(..) => {
                return match self.carried_init.iter().find(|(p, _)| *p == v) {
                    Some(&(_, init)) => rec(init),
                    None => 0,
                };
            }
            ValueDef::Result(i, 0) => i,
            _ => return 0,
        };
        match &self.f.inst(i).kind {
            InstKind::Ref(x)
            | InstKind::Deref(x)
            | InstKind::Neg(x)
            | InstKind::TypedLike { value: x, .. } => rec(*x),
            InstKind::Ascribe { value, ty } => type_rank(ty).max(rec(*value)),
            // A field whose type the module marked `#[differentiate]` around the function
            // declares (`self.l1.w` of `w: Array2<f64>`).
            InstKind::FieldRef(owner, name) => {
                (self.module_field_type(*owner, name)).map_or(0, |t| type_rank(&t))
            }
            InstKind::Binary(_, x, y) => rec(*x).max(rec(*y)),
            InstKind::Prim { prim, args, .. } => match prim.name() {
                "insert_axis" => (rec(args[0]) + 1).max(2),
                // A sum or mean along one axis removes it.
                "index_axis" | "sum_axis" | "mean_axis" => rec(args[0]).saturating_sub(1),
                "dot" if rec(args[0]) >= 2 && rec(args[1]) >= 2 => 2,
                "slice" if rec(args[0]) >= 2 && self.keeps_two_axes(args[1]) => 2,
                "into_shape_with_order" | "broadcast" if self.shape_of_rank_two(args[1]) => 2,
                "dot"
                | "slice"
                | "into_shape_with_order"
                | "broadcast"
                | "sum"
                | "mean"
                | "flatten" => 0,
                _ => rec(args[0]),
            },
            InstKind::Method { name, recv, .. }
                if matches!(
                    name.to_string().as_str(),
                    "mapv" | "map" | "to_owned" | "clone" | "view" | "reversed_axes"
                ) =>
            {
                rec(*recv)
            }
            // An elementwise map (`a.mapv(|v| v.exp())`, `Zip::from(&a).and(&b).map_collect(..)`,
            // see `lower::elementwise`): the shape of the arrays it maps.
            InstKind::Call { path, args }
                if let Some(map) = self.f.maps.iter().find(|m| path.is_ident(&m.name)) =>
            {
                args.iter()
                    .take(map.arrays)
                    .map(|&a| rec(a))
                    .max()
                    .unwrap_or(0)
            }
            InstKind::Call { path, .. } => path
                .segments
                .iter()
                .map(|s| name_rank(&s.ident.to_string()))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// Whether the region `s![..]` that `v` is keeps two axes or more: two of its entries are
    /// ranges.
    fn keeps_two_axes(&self, v: Value) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        let tokens = match &self.f.inst(i).kind {
            InstKind::Opaque { tokens, .. } | InstKind::Const(tokens) => tokens.to_string(),
            _ => return false,
        };
        let Some(open) = tokens.find('[') else {
            return false;
        };
        let inner = tokens[open + 1..].trim_end().trim_end_matches(']');
        // Top-level entries: commas inside brackets or parentheses belong to an index.
        let (mut depth, mut ranges, mut entry) = (0i32, 0, String::new());
        for ch in inner.chars().chain(std::iter::once(',')) {
            match ch {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' | ';' if depth == 0 => {
                    let e = entry.split(';').next().unwrap_or("").to_string();
                    ranges += usize::from(e.contains(".."));
                    entry.clear();
                    continue;
                }
                _ => {}
            }
            entry.push(ch);
        }
        ranges >= 2
    }

    /// Whether a shape `v` has two entries or more: `(2, 3)`, `[2, 3]`.
    fn shape_of_rank_two(&self, v: Value) -> bool {
        let ValueDef::Result(i, 0) = self.f.value(v).def else {
            return false;
        };
        match &self.f.inst(i).kind {
            InstKind::Tuple(vs) => vs.len() >= 2,
            InstKind::Ref(x) => self.shape_of_rank_two(*x),
            _ => false,
        }
    }

    /// A field of a parameter (`p.w1`, `m.l1.w`) iterated as a vector's elements, of a type the macro
    /// does not see: a check, at the field, that it is a vector (a slice, `Vec`, array or
    /// `Array1`), whose error says to write `p.w1.flatten().iter()` for a matrix.
    fn check_vector_field(&mut self, b: Block, expr: &Expr, span: Span) {
        let mut e = strip(expr);
        while let Expr::Reference(r) = e {
            e = strip(&r.expr);
        }
        let Expr::Field(f) = e else { return };
        // Rooted in a parameter, through fields (`p.w1`, `m.l1.w`).
        let mut root = strip(&f.base);
        while let Expr::Field(inner) = root {
            root = strip(&inner.base);
        }
        if !matches!(root, Expr::Path(p) if p.path.get_ident().is_some_and(|id| id != "self")) {
            return;
        }
        let k = &self.krate;
        let tokens =
            quote::quote_spanned!(f.member.span()=> #k::__private::iterated_as_vector(&#f));
        let _ = self.opaque_inst(b, tokens, None, Kind::Discrete, false, span);
    }

    /// How many references the items of `for v in x` (or `zip(x)`) have: one when `x` is a
    /// reference (a parameter `&[f64]`, `&x`), none when it is an owned `Vec` or array.
    fn iterable_refs(&self, e: &Expr) -> u8 {
        let Expr::Path(p) = e else { return 1 };
        let Some(slot) = p
            .path
            .get_ident()
            .and_then(|id| self.lookup(&id.to_string()))
        else {
            return 1;
        };
        let bnd = &self.env[slot];
        if bnd.window.is_some() || bnd.refs > 0 {
            return 1;
        }
        match bnd.value.map(|v| self.f.value(v).def) {
            Some(ValueDef::Param(n)) => {
                u8::from(matches!(self.f.params[n].ty, syn::Type::Reference(_)))
            }
            Some(ValueDef::Result(i, _)) => u8::from(matches!(
                self.f.inst(i).kind,
                InstKind::Ref(_) | InstKind::FieldRef(..)
            )),
            _ => 0,
        }
    }

    /// Computes what the chain needs before its loop: the source, the adapters' arguments and
    /// the lengths.
    /// With `allow_direct`, a range alone is the loop's own range (not for the argument of
    /// `zip`, whose items are read by index).
    pub(super) fn prepare<'a>(
        &mut self,
        b: Block,
        c: &Chain<'a>,
        allow_direct: bool,
        span: Span,
    ) -> Option<Prepared<'a>> {
        let (src, src_len) = match &c.source {
            Source::Slice {
                expr,
                refs,
                mutable,
            } => {
                // A map or a set (`counts.iter()`, `for (k, c) in &counts`): its entries are
                // not read by position, which the loop below does.
                if let Some((ty, name)) = self.map_variable(expr) {
                    self.err_at(*expr, unfollowed::map_iteration_message(ty, &name));
                    return None;
                }
                // `x.iter_mut()`, `&mut x` (also `&mut *x`), or `x` and `x.into_iter()` of a
                // `&mut` parameter `x`: the items are mutable references.
                let cells = if *mutable || (*refs != 1 && self.deref_mut_param(expr).is_some()) {
                    let mut root = strip(expr);
                    while let Expr::Reference(syn::ExprReference { expr, .. })
                    | Expr::Unary(syn::ExprUnary {
                        op: syn::UnOp::Deref(_),
                        expr,
                        ..
                    }) = root
                    {
                        root = strip(expr);
                    }
                    let slot = match root {
                        Expr::Path(p) => p
                            .path
                            .get_ident()
                            .and_then(|id| self.lookup(&id.to_string())),
                        _ => None,
                    };
                    match slot.filter(|&s| self.env[s].value.is_some()) {
                        Some(s) => Some(s),
                        None => {
                            self.err_at(
                                *expr,
                                "iterating by mutable reference is followed over a variable \
                                 (`for e in v.iter_mut()` with `let mut v` or a `&mut` \
                                 parameter `v`) and, in a `for` loop or a statement calling \
                                 `for_each`, over a field or a row of one (`s.v.iter_mut()`, \
                                 `m[i].iter_mut()`); bind the container to a variable first, or \
                                 write an index loop",
                            );
                            return None;
                        }
                    }
                } else {
                    None
                };
                let refs = if *refs == 2 {
                    self.iterable_refs(expr)
                } else {
                    *refs
                };
                let window = match self.range_window(b, expr).filter(|_| cells.is_none()) {
                    Some(w) => Some(w?),
                    None => match strip(expr) {
                        Expr::Path(p) => p
                            .path
                            .get_ident()
                            .and_then(|id| self.lookup(&id.to_string()))
                            .and_then(|slot| self.env[slot].window),
                        _ => None,
                    },
                };
                match window.filter(|_| cells.is_none()) {
                    Some(w) => {
                        // A range of a container of the user's structs (`for l in
                        // &self.layers[1..]`): its items' methods are the struct's, as over
                        // the whole container.
                        if let Some(elem) = self.elem_type(expr) {
                            let user = match strip(expr) {
                                Expr::Index(ix) => self.container_struct(&ix.expr).is_some(),
                                _ => false,
                            };
                            self.elem_places.push((w.base, elem, user));
                        }
                        (
                            Src::Slice {
                                base: w.base,
                                refs: 1,
                                offset: Some(w.start),
                                cells: None,
                            },
                            w.len,
                        )
                    }
                    None => {
                        let mut base = self.place_expr(b, expr)?;
                        if self.is_multi_dim(base)
                            || (cells.is_none() && self.product_of_unseen_rank(base))
                        {
                            if cells.is_some() {
                                self.err_at(
                                    *expr,
                                    "changing the elements of an array of more than one \
                                     dimension through `iter_mut()` is not supported; write \
                                     the new array (`a.mapv_inplace(|v| ..)`, `a = a.mapv(..)`) \
                                     or index it (`a[[i, j]] = ..`) in loops over \
                                     `0..a.nrows()` and `0..a.ncols()`",
                                );
                                return None;
                            }
                            // The elements in the order `iter()` visits them: `a.flatten()`, a
                            // view of a matrix in standard layout (a copy of any other), whose
                            // rule puts each element's adjoint back where it came from.
                            let name = syn::Ident::new("flatten", span);
                            base = self.method(b, name, base, Vec::new(), false, None, span)?;
                        }
                        if cells.is_none() && !self.is_multi_dim(base) {
                            self.check_vector_field(b, expr, span);
                        }
                        if cells.is_none() {
                            if let Some(elem) = self.elem_type(expr) {
                                let user = self.container_struct(expr).is_some();
                                self.elem_places.push((base, elem, user));
                            }
                        }
                        if cells.is_none() && self.made_by_call(base) {
                            self.check_one_index(b, base, span);
                        }
                        let len = self.len_of(b, base, span);
                        (
                            Src::Slice {
                                base,
                                refs,
                                offset: None,
                                cells,
                            },
                            len,
                        )
                    }
                }
            }
            Source::Range {
                start,
                end,
                inclusive,
            } => {
                let s = self.expr(b, start, true)?;
                let e = self.expr(b, end, true)?;
                let range = if *inclusive {
                    quote!((__ad_s..=__ad_e))
                } else {
                    quote!((__ad_s..__ad_e))
                };
                let len = self.int_op(
                    b,
                    quote!(::core::iter::Iterator::size_hint(&#range).0),
                    &[("__ad_s", s), ("__ad_e", e)],
                    span,
                );
                (
                    Src::Range {
                        start: s,
                        end: e,
                        inclusive: *inclusive,
                    },
                    len,
                )
            }
            Source::Once(e) => {
                let (v, refs) = match strip(e) {
                    Expr::Reference(r) if r.mutability.is_none() => {
                        (self.expr(b, &r.expr, true)?, 1)
                    }
                    e => (self.expr(b, e, true)?, 0),
                };
                let one = self.inst1(b, InstKind::Const(quote!(1usize)), Kind::Discrete, span);
                (Src::Once { v, refs }, one)
            }
            Source::Windows { how, .. } if how.ends_with("_mut") => {
                self.err(
                    span,
                    format!(
                        "`{how}` is followed as the iterable of a `for` loop (`for c in \
                         v.{how}(k) {{ c[0] *= a; }}`); write the loop"
                    ),
                );
                return None;
            }
            Source::Windows { size, .. }
                if matches!(strip(size), Expr::Tuple(t) if t.elems.len() > 1)
                    || matches!(strip(size), Expr::Array(a) if a.elems.len() > 1) =>
            {
                self.err_at(size, super::array_windows::ARRAY_WINDOWS_FORM);
                return None;
            }
            Source::Windows { expr, size, how } => {
                let base = self.place_expr(b, expr)?;
                if *how == "windows" && self.min_rank(base, 0) >= 2 {
                    // `u.windows(k.dim())` of a matrix.
                    self.err_at(size, super::array_windows::ARRAY_WINDOWS_FORM);
                    return None;
                }
                let size = self.expr(b, size, true)?;
                let n = self.len_of(b, base, span);
                let chunks = *how != "windows";
                let exact = how.ends_with("_exact");
                let from_back = how.starts_with("rchunks");
                let tokens = match *how {
                    "windows" => quote!((__ad_n + 1).saturating_sub(__ad_k)),
                    "chunks" | "rchunks" => quote!(__ad_n.div_ceil(__ad_k)),
                    _ => quote!(__ad_n / __ad_k),
                };
                let len = self.int_op(b, tokens, &[("__ad_n", n), ("__ad_k", size)], span);
                (
                    Src::Windows {
                        base,
                        size,
                        len: n,
                        chunks,
                        exact,
                        from_back,
                    },
                    len,
                )
            }
        };
        let mut st = Building {
            src,
            src_len,
            stages: Vec::new(),
            rest: Vec::new(),
            len: src_len,
            revs: 0,
            seq: false,
        };
        // A closure that changes variables (`map(|v| { ema = .. })`) runs once per item pulled
        // through it, as Rust runs it: before a `skip` or `step_by`, for the items they drop
        // too (the adapters then count the items that reach them).
        let mut stateful = false;
        for (i, (name, mc)) in c.adapters.iter().enumerate() {
            let drops_later = c.adapters[i + 1..]
                .iter()
                .any(|(n, _)| matches!(*n, "skip" | "step_by"));
            let closure = mc.args.last().filter(|_| {
                matches!(
                    *name,
                    "map"
                        | "filter"
                        | "inspect"
                        | "take_while"
                        | "skip_while"
                        | "scan"
                        | "flat_map"
                        | "filter_map"
                        | "map_while"
                )
            });
            let runs_state = closure.is_some_and(|f| self.stateful_closure(f));
            if *name == "take" && stateful && st.seq {
                self.err_at(
                    &mc.method,
                    "`take` (or `nth`, which is made of it here) after a closure that changes \
                     variables, in a chain whose items are counted as they come: the closure \
                     would run once more than Rust runs it; write a `for` loop with a counter \
                     and `break`",
                );
                return None;
            }
            stateful |= runs_state;
            let stage = match *name {
                "map" | "filter" if mc.args.len() == 1 => {
                    let f = &mc.args[0];
                    if *name == "map" {
                        Stage::Map(f)
                    } else {
                        Stage::Filter(f)
                    }
                }
                "take_while" | "skip_while" if mc.args.len() == 1 => {
                    // A flag the loop carries: still taking, or done skipping.
                    let start = quote::format_ident!("{}", *name == "take_while");
                    let v = self.inst1(b, InstKind::Const(quote!(#start)), Kind::Discrete, span);
                    let flag = self.hidden("__ad_flag", v);
                    if *name == "take_while" {
                        Stage::TakeWhile(&mc.args[0], flag)
                    } else {
                        Stage::SkipWhile(&mc.args[0], flag)
                    }
                }
                "scan" if mc.args.len() == 2 => {
                    let f = match scan_closure(&mc.args[1]) {
                        Ok(f) => f,
                        Err(msg) => {
                            self.err_at(&mc.args[1], msg);
                            return None;
                        }
                    };
                    let init = self.expr(b, &mc.args[0], true)?;
                    let state = self.hidden("__ad_state", init);
                    Stage::Scan(Box::new(f), state)
                }
                "flat_map" if mc.args.len() == 1 => Stage::FlatMap(Some(&mc.args[0])),
                "flatten" if mc.args.is_empty() => {
                    // The items are the source's elements (rows, chunks, windows), whose own
                    // elements are read by position.
                    let kept = |n: &&str| {
                        matches!(
                            *n,
                            "rev"
                                | "skip"
                                | "take"
                                | "step_by"
                                | "filter"
                                | "take_while"
                                | "skip_while"
                                | "chain"
                        )
                    };
                    if !c.adapters[..i].iter().all(|(n, _)| kept(n)) {
                        self.err_at(
                            &mc.method,
                            "`flatten` is followed on the elements of the chain's source (the \
                             rows of a `&[Vec<f64>]`, `chunks`, `windows`), also filtered, \
                             skipped or chained; after a `map`, write `flat_map(|r| ..)` \
                             returning an iterator chain",
                        );
                        return None;
                    }
                    Stage::FlatMap(None)
                }
                "chain" if mc.args.len() == 1 => {
                    let Some(other) = parse_chain(&mc.args[0], true) else {
                        self.err_at(
                            &mc.args[0],
                            format!(
                                "`chain` takes a slice, a `Vec`, an array, a range, \
                                 `std::iter::once(v)` or an iterator chain here; supported: \
                                 {SUPPORTED}"
                            ),
                        );
                        return None;
                    };
                    let second = self.prepare(b, &other, true, span)?;
                    // The chain so far is the first part; what follows runs on the items of
                    // both. (The length is not used: what follows is not read by position.)
                    let len = st.src_len;
                    let first = std::mem::replace(
                        &mut st,
                        Building {
                            src: Src::Chain(Vec::new()),
                            src_len: len,
                            stages: Vec::new(),
                            rest: Vec::new(),
                            len,
                            revs: 0,
                            seq: true,
                        },
                    )
                    .finish(true);
                    st.src = Src::Chain(vec![first, second]);
                    continue;
                }
                "copied" | "cloned" | "enumerate" | "rev" if mc.args.is_empty() => match *name {
                    "enumerate" if st.seq => Stage::Counted(self.counter(b, span)),
                    "enumerate" => Stage::Enumerate,
                    "rev" => {
                        st.revs += 1;
                        Stage::Rev
                    }
                    _ => Stage::Copied,
                },
                "skip" | "take" | "step_by" if mc.args.len() == 1 && st.seq => {
                    let n = self.expr(b, &mc.args[0], true)?;
                    let count = self.counter(b, span);
                    match *name {
                        "skip" => Stage::SkipN(n, count),
                        "take" => Stage::TakeN(n, count),
                        _ => Stage::StepN(n, count),
                    }
                }
                "skip" | "take" | "step_by" if mc.args.len() == 1 => {
                    let n = self.expr(b, &mc.args[0], true)?;
                    let len = st.len;
                    match *name {
                        "skip" => {
                            st.len = self.int_op(
                                b,
                                quote!(__ad_n.saturating_sub(__ad_m)),
                                &[("__ad_n", len), ("__ad_m", n)],
                                span,
                            );
                            Stage::Skip(n)
                        }
                        "take" => {
                            st.len = self.int_op(
                                b,
                                quote!(::core::cmp::Ord::min(__ad_n, __ad_m)),
                                &[("__ad_n", len), ("__ad_m", n)],
                                span,
                            );
                            Stage::Take
                        }
                        _ => {
                            st.len = self.int_op(
                                b,
                                quote!(__ad_n.div_ceil(__ad_m)),
                                &[("__ad_n", len), ("__ad_m", n)],
                                span,
                            );
                            Stage::StepBy(n)
                        }
                    }
                }
                "zip" if mc.args.len() == 1 => {
                    let Some(other) = parse_chain(&mc.args[0], true) else {
                        self.err_at(
                            &mc.args[0],
                            format!(
                                "`zip` takes a slice, a `Vec`, an array, a range or an iterator \
                                 chain here; supported: {SUPPORTED}"
                            ),
                        );
                        return None;
                    };
                    let o = self.prepare(b, &other, false, span)?;
                    let o_seq = !o.rest.is_empty() || matches!(o.src, Src::Chain(_));
                    if o_seq && st.seq {
                        self.err_at(
                            &mc.args[0],
                            "`zip` of two chains whose items are not read by position (each \
                             with a `filter`, `chain`, `take_while`, `skip_while`, `scan` or \
                             `flat_map`) is not supported; collect one of them into a `Vec` \
                             first",
                        );
                        return None;
                    }
                    if o_seq {
                        // The argument's items come one after another: it drives the loop, and
                        // the items of the chain so far are read by a counter, in the order
                        // `zip` pairs them.
                        let mine =
                            std::mem::replace(&mut st, Building::from_prepared(o)).finish(false);
                        st.seq = true;
                        let count = self.counter(b, span);
                        Stage::ZipAt(Box::new(mine), count, true)
                    } else if st.seq {
                        let count = self.counter(b, span);
                        Stage::ZipAt(Box::new(o), count, false)
                    } else {
                        let olen = o.len();
                        let len = st.len;
                        st.len = self.int_op(
                            b,
                            quote!(::core::cmp::Ord::min(__ad_n, __ad_m)),
                            &[("__ad_n", len), ("__ad_m", olen)],
                            span,
                        );
                        Stage::Zip(Box::new(o))
                    }
                }
                _ => {
                    self.err_at(
                        &mc.method,
                        format!("`{name}` takes other arguments; supported: {SUPPORTED}"),
                    );
                    return None;
                }
            };
            if stage.is_sequential() || st.seq || (runs_state && drops_later) {
                if matches!(stage, Stage::Rev) {
                    let elementwise = st.rest.iter().all(Stage::is_elementwise);
                    if elementwise && !matches!(st.src, Src::Chain(_)) {
                        // A filter keeps the same items in either order.
                        let len = st.len;
                        st.stages.push((Stage::Rev, len));
                        continue;
                    }
                    if let (true, Src::Chain(parts)) = (elementwise, &mut st.src) {
                        // The parts reversed, in the other order.
                        if parts.iter_mut().all(Prepared::reverse) {
                            parts.reverse();
                            continue;
                        }
                    }
                    self.err_at(
                        &mc.method,
                        "`rev` after `take_while`, `skip_while`, `scan`, `flat_map` or \
                         `flatten` (also in a part of a `chain`) is not supported in a \
                         differentiated function; reverse the source before, or collect into a \
                         `Vec` first",
                    );
                    return None;
                }
                st.seq = true;
                st.rest.push(stage);
                continue;
            }
            let len = st.len;
            st.stages.push((stage, len));
        }
        Some(st.finish(allow_direct))
    }

    /// A counter the loop carries, from `0usize`.
    fn counter(&mut self, b: Block, span: Span) -> usize {
        let zero = self.inst1(b, InstKind::Const(quote!(0usize)), Kind::Discrete, span);
        self.hidden("__ad_count", zero)
    }

    /// The item at index `k` after the first `n` stages (before the first filter).
    pub(super) fn item_at(
        &mut self,
        b: Block,
        p: &Prepared,
        n: usize,
        k: Value,
        scope: usize,
        span: Span,
    ) -> Option<Item> {
        if n == 0 {
            return self.source_item(b, &p.src, k, span);
        }
        let len_before = if n >= 2 { p.stages[n - 2].1 } else { p.src_len };
        match &p.stages[n - 1].0 {
            Stage::Map(f) => {
                let x = self.item_at(b, p, n - 1, k, scope, span)?;
                self.apply_fun(b, f, vec![x], scope)
            }
            Stage::Copied => Some(self.item_at(b, p, n - 1, k, scope, span)?.deref()),
            Stage::Enumerate => {
                let x = self.item_at(b, p, n - 1, k, scope, span)?;
                Some(Item::Tuple {
                    elems: vec![Item::val(k), x],
                    refs: 0,
                })
            }
            Stage::Rev => {
                let one = self.inst1(b, InstKind::Const(quote!(1)), Kind::Discrete, span);
                let last = self.int_bin(b, BinOp::Sub, len_before, one, span);
                let j = self.int_bin(b, BinOp::Sub, last, k, span);
                self.item_at(b, p, n - 1, j, scope, span)
            }
            Stage::Skip(m) => {
                let j = self.int_bin(b, BinOp::Add, k, *m, span);
                self.item_at(b, p, n - 1, j, scope, span)
            }
            Stage::Take => self.item_at(b, p, n - 1, k, scope, span),
            Stage::StepBy(s) => {
                let j = self.int_bin(b, BinOp::Mul, k, *s, span);
                self.item_at(b, p, n - 1, j, scope, span)
            }
            Stage::Zip(o) => {
                let x = self.item_at(b, p, n - 1, k, scope, span)?;
                let y = self.item_at(b, o, o.stages.len(), k, scope, span)?;
                Some(Item::Tuple {
                    elems: vec![x, y],
                    refs: 0,
                })
            }
            _ => unreachable!("the stages that follow items one by one are in `rest`"),
        }
    }

    pub(super) fn source_item(
        &mut self,
        b: Block,
        src: &Src,
        k: Value,
        span: Span,
    ) -> Option<Item> {
        Some(match src {
            Src::Slice {
                cells: Some(slot), ..
            } => Item::Cell {
                cell: Cell {
                    slot: *slot,
                    index: k,
                },
                refs: 1,
            },
            Src::Slice {
                base, refs, offset, ..
            } => {
                let idx = match offset {
                    Some(o) => self.int_bin(b, BinOp::Add, *o, k, span),
                    None => k,
                };
                let kind = match self.kind(*base) {
                    Kind::Discrete => Kind::Discrete,
                    _ => Kind::Unknown,
                };
                let v = self.inst1(b, InstKind::Index(*base, idx), kind, span);
                let place = self.elem_places.iter().find(|(p, ..)| p == base).cloned();
                // An item of a slice of strings (`for word in words` of `words: &[String]` or
                // `&[&str]`) is the reference it is in Rust, which code run as written reads
                // (`word == v`, `*w == "the"`): a `String` moved out of its slice would not
                // compile, and a `&str` taken by value would compare as another type. So is
                // an item of a container of `Vec`s of integers (`for doc in docs` of `docs:
                // &[Vec<usize>]`), lent to what takes a slice (`emb.select(Axis(0), doc)`).
                if *refs > 0 && (self.holds_strings(*base) || self.holds_index_rows(*base)) {
                    let r = self.inst1(b, InstKind::Ref(v), Kind::Discrete, span);
                    return Some(Item::Val {
                        v: r,
                        refs: refs - 1,
                    });
                }
                if let Some((_, ty, user)) = place {
                    self.elem_places.push((v, ty, user));
                }
                Item::Val { v, refs: *refs }
            }
            Src::Range {
                start,
                end,
                inclusive,
            } => {
                let range = if *inclusive {
                    quote!((__ad_s..=__ad_e))
                } else {
                    quote!((__ad_s..__ad_e))
                };
                let v = self.int_op(
                    b,
                    quote!(::core::iter::Iterator::nth(&mut #range, __ad_k).unwrap()),
                    &[("__ad_s", *start), ("__ad_e", *end), ("__ad_k", k)],
                    span,
                );
                Item::val(v)
            }
            Src::Windows {
                base,
                size,
                len,
                chunks,
                exact,
                from_back,
            } => {
                let (start, wlen) = if *from_back {
                    // The `k`-th chunk from the back ends `k·size` before the end.
                    let end = self.int_op(
                        b,
                        quote!(__ad_n - __ad_k * __ad_s),
                        &[("__ad_n", *len), ("__ad_k", k), ("__ad_s", *size)],
                        span,
                    );
                    let start = self.int_op(
                        b,
                        quote!(__ad_e.saturating_sub(__ad_s)),
                        &[("__ad_e", end), ("__ad_s", *size)],
                        span,
                    );
                    let wlen = if *exact {
                        *size
                    } else {
                        self.int_bin(b, BinOp::Sub, end, start, span)
                    };
                    (start, wlen)
                } else if *chunks {
                    let start = self.int_bin(b, BinOp::Mul, k, *size, span);
                    let wlen = if *exact {
                        *size
                    } else {
                        self.int_op(
                            b,
                            quote!(::core::cmp::Ord::min(__ad_k, __ad_n - __ad_s)),
                            &[("__ad_k", *size), ("__ad_n", *len), ("__ad_s", start)],
                            span,
                        )
                    };
                    (start, wlen)
                } else {
                    (k, *size)
                };
                Item::Window {
                    w: Window {
                        base: *base,
                        start,
                        len: wlen,
                    },
                    refs: 0,
                }
            }
            Src::Once { v, refs } => Item::Val { v: *v, refs: *refs },
            Src::Chain(_) => unreachable!("the parts of a chain are looped over one by one"),
        })
    }
}

impl Prepared<'_> {
    /// The number of values of the items (without lowering anything): `1` unless the adapters
    /// build tuples (`zip`, `enumerate`) or a `map`'s closure ends in a tuple expression
    /// (`map(|(i, &v)| (i, v * v))`: one value per element, see [`map_leaves`]); `1` after a
    /// `scan` or `flat_map`.
    pub(super) fn leaves(&self) -> usize {
        fn positional(p: &Prepared, n: usize) -> usize {
            if n == 0 {
                return match &p.src {
                    Src::Chain(parts) => parts.first().map_or(1, Prepared::leaves),
                    _ => 1,
                };
            }
            match &p.stages[n - 1].0 {
                Stage::Enumerate => 1 + positional(p, n - 1),
                Stage::Zip(o) => positional(p, n - 1) + o.leaves(),
                Stage::Map(f) => map_leaves(f),
                _ => positional(p, n - 1),
            }
        }
        self.rest
            .iter()
            .fold(positional(self, self.stages.len()), |n, s| match s {
                Stage::Map(f) => map_leaves(f),
                Stage::Scan(..) | Stage::FlatMap(_) => 1,
                Stage::Counted(_) => 1 + n,
                Stage::ZipAt(o, _, _) => n + o.leaves(),
                _ => n,
            })
    }

    /// Reverses the order of the items, where the stages allow it (see `rev` in `prepare`).
    fn reverse(&mut self) -> bool {
        if !self.rest.iter().all(Stage::is_elementwise) {
            return false;
        }
        match (&mut self.src, &mut self.direct) {
            (Src::Chain(parts), _) => {
                if !parts.iter_mut().all(Prepared::reverse) {
                    return false;
                }
                parts.reverse();
            }
            (_, Some(LoopKind::Range { rev, .. })) => *rev = !*rev,
            _ => {
                let len = self.len();
                self.stages.push((Stage::Rev, len));
            }
        }
        true
    }

    /// How many loops run the items: more than one for a `chain` (one a part) and a
    /// `flat_map` (nested).
    pub(super) fn loops(&self) -> usize {
        let nested = self.rest.iter().any(|s| matches!(s, Stage::FlatMap(_)));
        let parts = match &self.src {
            Src::Chain(parts) => parts.iter().map(Prepared::loops).sum(),
            _ => 1,
        };
        parts + usize::from(nested)
    }

    /// The number of items.
    pub(super) fn len(&self) -> Value {
        self.stages.last().map_or(self.src_len, |(_, l)| *l)
    }

    /// The variables whose elements the items refer to mutably (`x.iter_mut()`, also inside a
    /// `zip`), and the state of the stages that follow the items one after another (a flag, a
    /// counter, the state of a `scan`): the loop carries them.
    pub(super) fn cell_slots(&self) -> Vec<usize> {
        let mut out = Vec::new();
        if let Src::Slice {
            cells: Some(slot), ..
        } = self.src
        {
            out.push(slot);
        }
        for (stage, _) in &self.stages {
            if let Stage::Zip(o) = stage {
                out.extend(o.cell_slots());
            }
        }
        for stage in &self.rest {
            match stage {
                Stage::TakeWhile(_, s)
                | Stage::SkipWhile(_, s)
                | Stage::Scan(_, s)
                | Stage::Counted(s)
                | Stage::SkipN(_, s)
                | Stage::TakeN(_, s)
                | Stage::StepN(_, s) => out.push(*s),
                Stage::ZipAt(o, s, _) => {
                    out.push(*s);
                    out.extend(o.cell_slots());
                }
                _ => {}
            }
        }
        out
    }
}

/// The number of axes of an ndarray type as written (`Array2<f64>`, `&ArrayView3<T>`,
/// `Array<T, Ix2>`; 2, at least, for `ArrayD` and a dimension parameter), 0 for other types.
fn type_rank(mut ty: &syn::Type) -> usize {
    while let syn::Type::Reference(r) = ty {
        ty = &r.elem;
    }
    let syn::Type::Path(p) = ty else { return 0 };
    let Some(last) = p.path.segments.last() else {
        return 0;
    };
    let name = last.ident.to_string();
    match name_rank(&name) {
        0 if name == "Array" || name == "ArrayView" => {
            let args = quote!(#last).to_string();
            match args.find("Ix").map(|k| &args[k + 2..]) {
                Some(rest) if rest.starts_with('1') => 1,
                Some(rest) => rest[..1].parse().unwrap_or(2).max(2),
                None => 0,
            }
        }
        r => r,
    }
}

/// The rank an ndarray type's name says (`Array3`, `ArrayView2`; 2, at least, for `ArrayD`).
fn name_rank(name: &str) -> usize {
    let dims = name
        .strip_prefix("ArrayView")
        .or_else(|| name.strip_prefix("Array"));
    match dims {
        Some("D") => 2,
        Some(d) if d.len() == 1 => d.parse().unwrap_or(0),
        _ => 0,
    }
}

/// `tokens` with the macro's own names (`__ad_a`) given the call-site span their bindings have:
/// written with the user's span (to place an error), they did not resolve inside a
/// `macro_rules!` expansion, whose hygiene differs from the attribute's (E0425 in the
/// generated code). The user's names keep their spans.
fn placeholders_at_call_site(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Ident(i) if i.to_string().starts_with("__ad_") => {
                proc_macro2::TokenTree::Ident(syn::Ident::new(&i.to_string(), Span::call_site()))
            }
            proc_macro2::TokenTree::Group(g) => {
                let mut out =
                    proc_macro2::Group::new(g.delimiter(), placeholders_at_call_site(g.stream()));
                out.set_span(g.span());
                proc_macro2::TokenTree::Group(out)
            }
            t => t,
        })
        .collect()
}

/// The number of values of the items a `map` gives: the elements of the tuple its closure's
/// body ends in (`|(i, &v)| (i, v * v)`, also the tail of a block), else `1`. A consumer that
/// keeps one item (`min_by`) carries each element as a variable of its own, so that an integer
/// beside a differentiated float is never a loop state that would need an adjoint.
pub(super) fn map_leaves(f: &Expr) -> usize {
    fn tail(e: &Expr) -> &Expr {
        match e {
            Expr::Paren(p) => tail(&p.expr),
            Expr::Block(b) => match b.block.stmts.last() {
                Some(syn::Stmt::Expr(e, None)) => tail(e),
                _ => e,
            },
            e => e,
        }
    }
    match super::chain::strip(f) {
        Expr::Closure(cl) => match tail(&cl.body) {
            Expr::Tuple(t) if t.elems.len() >= 2 => t.elems.len(),
            _ => 1,
        },
        _ => 1,
    }
}

impl Lowering {
    /// Whether the container `base` is declared to hold strings: a parameter or a local of a
    /// declared type whose elements are `String` or `&str` (`words: &[String]`, `let names:
    /// Vec<&str> = ..`).
    /// A row of such a container holds them too (`for w in doc` of `for doc in docs`, `docs:
    /// &[Vec<String>]`).
    fn holds_strings(&self, base: Value) -> bool {
        self.declared_type(base)
            .and_then(calls::elem_type)
            .is_some_and(super::subslice::textual)
    }

    /// Whether the container `base` is declared to hold `Vec`s of integers or `bool`s (`docs:
    /// &[Vec<usize>]`, token ids per document; `Vec<Vec<u32>>`), which are not `Copy`.
    fn holds_index_rows(&self, base: Value) -> bool {
        fn index_vec(ty: &syn::Type) -> bool {
            let syn::Type::Path(p) = ty else {
                return false;
            };
            if p.qself.is_some() || p.path.segments.last().is_none_or(|s| s.ident != "Vec") {
                return false;
            }
            calls::elem_type(ty).is_some_and(|e| {
                crate::types::is_integer(e)
                    || matches!(e, syn::Type::Path(q) if q.path.is_ident("bool"))
                    || index_vec(e)
            })
        }
        self.declared_type(base)
            .and_then(calls::elem_type)
            .is_some_and(index_vec)
    }

    /// The type `v` is declared with: a parameter's, a local's, or an element's of either.
    fn declared_type(&self, v: Value) -> Option<&syn::Type> {
        match self.f.value(v).def {
            ValueDef::Param(n) => self.f.params.get(n).map(|p| &p.ty),
            ValueDef::Result(i, 0) => match self.f.inst(i).kind {
                InstKind::Index(x, _) => calls::elem_type(self.declared_type(x)?),
                InstKind::Ref(x) => self.declared_type(x),
                _ => None,
            }
            .or_else(|| self.declared_local(v)),
            _ => self.declared_local(v),
        }
    }

    fn declared_local(&self, v: Value) -> Option<&syn::Type> {
        (self.env.iter().rev())
            .find(|bnd| bnd.value == Some(v))
            .and_then(|bnd| bnd.declared.as_ref())
    }
}
