//! Iterator chains, lowered to the loops the IR has: an index loop over `0..len` whose body
//! computes the item at that index from the chain's source (an element read of a slice, `Vec`
//! or array; a number of a range; a window of a slice) through its adapters, then consumes it
//! (a `for` body, `sum`, `product`, `fold`, `collect`, `max_by`, …).
//!
//! Adapters that move items around are index arithmetic done before the item is read: `rev`
//! reads index `len − 1 − k`, `skip(n)` reads `k + n`, `step_by(s)` reads `k·s`, `take(n)` and
//! `zip` shorten the loop. Adapters that transform items (`map`, `copied`) are applied to the
//! item read; `filter` skips the rest of the iteration for the items its predicate rejects.
//! So the derivative sees element reads, arithmetic and branches, which it already follows.

use super::chain::{Chain, SUPPORTED, Source, parse_chain, strip};
use super::*;

/// A chain ready to run: its values computed before the loop.
pub(super) struct Prepared<'a> {
    pub(super) src: Src,
    /// Adapters that move items around or build them, with the length after each.
    pub(super) stages: Vec<(Stage<'a>, Value)>,
    /// The length of the source.
    pub(super) src_len: Value,
    /// Adapters applied to each item from the first `filter` on (`map`, `filter`, `copied`).
    pub(super) rest: Vec<Stage<'a>>,
    /// A range alone (with `map`, `filter`, `rev`): the loop runs over it directly.
    pub(super) direct: Option<LoopKind>,
}

pub(super) enum Src {
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
    },
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
                tokens,
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

    /// Whether `v` is a parameter declared as an ndarray array of two or more dimensions, whose
    /// elements cannot be read by one index.
    pub(super) fn is_multi_dim(&self, v: Value) -> bool {
        self.min_rank(v, 0) >= 2
    }

    /// A lower bound of the number of axes of `v` (0 where nothing is known), following a
    /// local to what made it: an array operation keeps the rank of its array operands (`&a *
    /// 2.0`, `a.mapv(..)`, `a.t()`), a product of two matrices is one, `insert_axis` adds an
    /// axis and `index_axis` removes one, a `slice` keeps the axes its ranges (`..`) select,
    /// and a constructor of `Array2` (`Array2::zeros(..)`) is a matrix.
    fn min_rank(&self, v: Value, depth: usize) -> usize {
        if depth > 32 {
            return 0;
        }
        let rec = |x: Value| self.min_rank(x, depth + 1);
        let i = match self.f.value(v).def {
            ValueDef::Param(n) => return type_rank(&self.f.params[n].ty),
            ValueDef::Result(i, 0) => i,
            _ => return 0,
        };
        match &self.f.inst(i).kind {
            InstKind::Ref(x)
            | InstKind::Deref(x)
            | InstKind::Neg(x)
            | InstKind::TypedLike { value: x, .. } => rec(*x),
            InstKind::Ascribe { value, ty } => type_rank(ty).max(rec(*value)),
            InstKind::Binary(_, x, y) => rec(*x).max(rec(*y)),
            InstKind::Prim { prim, args, .. } => match prim.name() {
                "insert_axis" => (rec(args[0]) + 1).max(2),
                "index_axis" => rec(args[0]).saturating_sub(1),
                "dot" if rec(args[0]) >= 2 && rec(args[1]) >= 2 => 2,
                "slice" if rec(args[0]) >= 2 && self.keeps_two_axes(args[1]) => 2,
                "into_shape_with_order" | "broadcast" if self.shape_of_rank_two(args[1]) => 2,
                "dot"
                | "slice"
                | "into_shape_with_order"
                | "broadcast"
                | "sum"
                | "mean"
                | "sum_axis"
                | "mean_axis"
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

    /// A field of a parameter (`p.w1`) iterated as a vector's elements, of a type the macro
    /// does not see: a check, at the field, that it is a vector (a slice, `Vec`, array or
    /// `Array1`), whose error says to write `p.w1.flatten().iter()` for a matrix.
    fn check_vector_field(&mut self, b: Block, expr: &Expr, span: Span) {
        let mut e = strip(expr);
        while let Expr::Reference(r) = e {
            e = strip(&r.expr);
        }
        let Expr::Field(f) = e else { return };
        if !matches!(strip(&f.base), Expr::Path(p) if p.path.get_ident().is_some_and(|id| id != "self"))
        {
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
                                 parameter `v`); bind the container to a variable first, or \
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
                    Some(w) => (
                        Src::Slice {
                            base: w.base,
                            refs: 1,
                            offset: Some(w.start),
                            cells: None,
                        },
                        w.len,
                    ),
                    None => {
                        let mut base = self.place_expr(b, expr)?;
                        if self.is_multi_dim(base) {
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
            Source::Windows { expr, size, how } => {
                let base = self.place_expr(b, expr)?;
                let size = self.expr(b, size, true)?;
                let n = self.len_of(b, base, span);
                let (chunks, exact) = (*how != "windows", *how == "chunks_exact");
                let tokens = match *how {
                    "windows" => quote!((__ad_n + 1).saturating_sub(__ad_k)),
                    "chunks" => quote!(__ad_n.div_ceil(__ad_k)),
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
                    },
                    len,
                )
            }
        };
        let mut stages: Vec<(Stage, Value)> = Vec::new();
        let mut rest: Vec<Stage> = Vec::new();
        let mut len = src_len;
        let mut revs = 0;
        for (name, mc) in &c.adapters {
            let after_filter = !rest.is_empty();
            let stage = match *name {
                "map" | "filter" if mc.args.len() == 1 => {
                    let f = &mc.args[0];
                    if *name == "map" {
                        Stage::Map(f)
                    } else {
                        Stage::Filter(f)
                    }
                }
                "copied" | "cloned" | "enumerate" | "rev" if mc.args.is_empty() => match *name {
                    "enumerate" => Stage::Enumerate,
                    "rev" => {
                        revs += 1;
                        Stage::Rev
                    }
                    _ => Stage::Copied,
                },
                "skip" | "take" | "step_by" if mc.args.len() == 1 => {
                    let n = self.expr(b, &mc.args[0], true)?;
                    match *name {
                        "skip" => {
                            len = self.int_op(
                                b,
                                quote!(__ad_n.saturating_sub(__ad_m)),
                                &[("__ad_n", len), ("__ad_m", n)],
                                span,
                            );
                            Stage::Skip(n)
                        }
                        "take" => {
                            len = self.int_op(
                                b,
                                quote!(::core::cmp::Ord::min(__ad_n, __ad_m)),
                                &[("__ad_n", len), ("__ad_m", n)],
                                span,
                            );
                            Stage::Take
                        }
                        _ => {
                            len = self.int_op(
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
                    if !o.rest.is_empty() {
                        // Items of the other chain are read by index; a filter there would
                        // change which.
                        self.err_at(
                            &mc.args[0],
                            "a `filter` inside the argument of `zip` is not supported; filter \
                             after the `zip`",
                        );
                        return None;
                    }
                    let olen = o.len();
                    len = self.int_op(
                        b,
                        quote!(::core::cmp::Ord::min(__ad_n, __ad_m)),
                        &[("__ad_n", len), ("__ad_m", olen)],
                        span,
                    );
                    Stage::Zip(Box::new(o))
                }
                _ => {
                    self.err_at(
                        &mc.method,
                        format!("`{name}` takes other arguments; supported: {SUPPORTED}"),
                    );
                    return None;
                }
            };
            let elementwise = matches!(stage, Stage::Map(_) | Stage::Filter(_) | Stage::Copied);
            if matches!(stage, Stage::Filter(_)) || after_filter {
                if !elementwise && !matches!(stage, Stage::Rev) {
                    self.err_at(
                        &mc.method,
                        format!(
                            "`{name}` after `filter` is not supported in a differentiated \
                             function: it would count only the items the filter keeps; put \
                             `{name}` before the `filter`, or write an index loop"
                        ),
                    );
                    return None;
                }
                if matches!(stage, Stage::Rev) {
                    // The filter keeps the same items in either order.
                    stages.push((Stage::Rev, len));
                } else {
                    rest.push(stage);
                }
                continue;
            }
            stages.push((stage, len));
        }
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
        Some(Prepared {
            src,
            stages,
            src_len,
            rest,
            direct,
        })
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
            Stage::Filter(_) => unreachable!("filters are in `rest`"),
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
                if let Some((_, ty, user)) = self.elem_places.iter().find(|(p, ..)| p == base) {
                    self.elem_places.push((v, ty.clone(), *user));
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
            } => {
                let (start, wlen) = if *chunks {
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
        })
    }
}

impl Prepared<'_> {
    /// The number of items.
    pub(super) fn len(&self) -> Value {
        self.stages.last().map_or(self.src_len, |(_, l)| *l)
    }

    /// The variables whose elements the items refer to mutably (`x.iter_mut()`, also inside a
    /// `zip`): the loop carries them.
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
