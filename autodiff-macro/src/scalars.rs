//! Which values are plain floats of a type the macro can name.
//!
//! Where every operand of a primitive is an `f64` (or every one an `f32`) that the macro can see
//! — a parameter declared `f64`, an element of a `&[f64]`, a literal, a float method of such a
//! value, an `as f64` cast — the generated code uses plain operators, inherent methods and
//! annotated `let`s, and the derivative rules are written out inline. That is the code a person
//! writes, and rustc checks it without searching trait impls. Everything else (arrays, parameter
//! structs, values returned by calls) goes through the runtime's rule traits, where rustc
//! picks the implementation. Nothing here guesses: a type is named only when the source names
//! it, and the facts flow forward to a fixed point over loops.

use quote::ToTokens;

use crate::ir::*;

/// A float type the generated code can write.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FloatTy {
    F32,
    F64,
}

impl FloatTy {
    pub fn tokens(self) -> proc_macro2::TokenStream {
        match self {
            FloatTy::F32 => quote::quote!(f32),
            FloatTy::F64 => quote::quote!(f64),
        }
    }

    fn from_type(ty: &syn::Type) -> Option<FloatTy> {
        match ty {
            syn::Type::Paren(p) => FloatTy::from_type(&p.elem),
            syn::Type::Group(g) => FloatTy::from_type(&g.elem),
            syn::Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                if !last.arguments.is_none() {
                    return None;
                }
                match last.ident.to_string().as_str() {
                    "f64" => Some(FloatTy::F64),
                    "f32" => Some(FloatTy::F32),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// What is known of a value's type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    /// Not reached yet (during the fixed point only).
    Bottom,
    /// An unsuffixed float literal: it takes the type of what it meets.
    Lit,
    /// A float of this type.
    Float(FloatTy),
    /// A slice, array or `Vec` (or a reference to one) of floats of this type.
    Elems(FloatTy),
    /// A `Vec` of floats whose type is still open: `vec![0.0; n]`, `Vec::new()`. It takes the
    /// type of the floats written into it.
    ElemsOpen,
    /// A slice, array or `Vec` (or a reference to one) of rows of floats of this type:
    /// `&[Vec<f64>]`, `[[f32; 3]; 4]`. Its elements are [`Ty::Elems`].
    Rows(FloatTy),
    /// A `Vec` of rows of floats whose type is still open: `vec![vec![0.0; n]; n]`, rows of
    /// [`Ty::ElemsOpen`] pushed into `Vec::with_capacity(n)`. It takes the type of the rows
    /// written into it.
    RowsOpen,
    /// Anything else, or not known.
    Unknown,
}

impl Ty {
    /// The type of `a op b` for arithmetic.
    fn arith(self, other: Ty) -> Ty {
        use Ty::*;
        match (self, other) {
            (Bottom, t) | (t, Bottom) => t,
            (Lit, Lit) => Lit,
            (Lit, Float(t)) | (Float(t), Lit) => Float(t),
            (Float(a), Float(b)) if a == b => Float(a),
            _ => Unknown,
        }
    }

    /// The type of a value that is one of two (an `if`'s result, a loop-carried value).
    fn join(self, other: Ty) -> Ty {
        use Ty::*;
        match (self, other) {
            (Bottom, t) | (t, Bottom) => t,
            (a, b) if a == b => a,
            (Lit, Float(t)) | (Float(t), Lit) => Float(t),
            (ElemsOpen, Elems(t)) | (Elems(t), ElemsOpen) => Elems(t),
            // `Vec::new()` that rows are pushed into.
            (ElemsOpen, Rows(t)) | (Rows(t), ElemsOpen) => Rows(t),
            // `Vec::with_capacity(n)` that rows of an open type are pushed into, and such rows
            // beside rows of a known type.
            (ElemsOpen, RowsOpen) | (RowsOpen, ElemsOpen) => RowsOpen,
            (RowsOpen, Rows(t)) | (Rows(t), RowsOpen) => Rows(t),
            _ => Unknown,
        }
    }

    /// A float of a known type, or a literal.
    pub fn is_plain(self) -> bool {
        matches!(self, Ty::Float(_) | Ty::Lit)
    }

    pub fn float(self) -> Option<FloatTy> {
        match self {
            Ty::Float(t) => Some(t),
            _ => None,
        }
    }
}

impl Ty {
    /// The type of a container holding an element of type `self`: of floats, or of rows of
    /// floats when the element is itself a container of floats (`rows.push(row)`).
    fn holding(self) -> Ty {
        match self {
            Ty::Float(t) => Ty::Elems(t),
            Ty::Lit => Ty::ElemsOpen,
            Ty::Elems(t) => Ty::Rows(t),
            Ty::ElemsOpen => Ty::RowsOpen,
            Ty::Bottom => Ty::Bottom,
            Ty::RowsOpen | Ty::Rows(_) | Ty::Unknown => Ty::Unknown,
        }
    }

    /// The type of an element of a container of type `self` (the inverse of
    /// [`Ty::holding`]).
    fn element(self) -> Ty {
        match self {
            Ty::Elems(t) => Ty::Float(t),
            Ty::Rows(t) => Ty::Elems(t),
            Ty::ElemsOpen => Ty::Lit,
            Ty::RowsOpen => Ty::ElemsOpen,
            Ty::Bottom => Ty::Bottom,
            _ => Ty::Unknown,
        }
    }

    /// The type of a container that takes the elements of a container of type `self`
    /// (`v.extend_from_slice(&s)`): the same.
    fn taking(self) -> Ty {
        match self {
            x @ (Ty::Elems(_) | Ty::ElemsOpen | Ty::Rows(_) | Ty::RowsOpen | Ty::Bottom) => x,
            _ => Ty::Unknown,
        }
    }
}

/// The declared type of a parameter or `let`, read for floats and float containers.
pub fn of_declared(ty: &syn::Type) -> Ty {
    if let Some(t) = FloatTy::from_type(ty) {
        return Ty::Float(t);
    }
    match ty {
        syn::Type::Reference(r) => match of_declared(&r.elem) {
            Ty::Elems(t) => Ty::Elems(t),
            Ty::Rows(t) => Ty::Rows(t),
            _ => Ty::Unknown,
        },
        syn::Type::Slice(s) => of_elements(&s.elem),
        syn::Type::Array(a) => of_elements(&a.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Ty::Unknown;
            };
            if last.ident != "Vec" {
                return Ty::Unknown;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
                    syn::GenericArgument::Type(t) => of_elements(t),
                    _ => Ty::Unknown,
                },
                _ => Ty::Unknown,
            }
        }
        _ => Ty::Unknown,
    }
}

/// A container of elements of type `elem`: of floats, or of rows of floats (an element that is
/// itself a slice, array or `Vec` of floats, not a reference).
fn of_elements(elem: &syn::Type) -> Ty {
    if let Some(t) = FloatTy::from_type(elem) {
        return Ty::Elems(t);
    }
    match elem {
        syn::Type::Reference(_) => Ty::Unknown,
        e => match of_declared(e) {
            Ty::Elems(t) => Ty::Rows(t),
            _ => Ty::Unknown,
        },
    }
}

/// Per value, what is known of its type.
#[derive(Clone)]
pub struct Types {
    pub tys: Vec<Ty>,
}

impl Types {
    pub fn of(&self, v: Value) -> Ty {
        self.tys.get(v.index()).copied().unwrap_or(Ty::Unknown)
    }

    /// Records the type of a value the transformations create.
    pub fn set(&mut self, v: Value, t: Ty) {
        if self.tys.len() <= v.index() {
            self.tys.resize(v.index() + 1, Ty::Unknown);
        }
        self.tys[v.index()] = t;
    }

    /// The float type shared by these values when each is a float of that type or a literal
    /// (and at least one is typed).
    pub fn common_float(&self, vs: &[Value]) -> Option<FloatTy> {
        let mut t = Ty::Bottom;
        for &v in vs {
            let tv = self.of(v);
            if !tv.is_plain() {
                return None;
            }
            t = t.arith(tv);
        }
        t.float()
    }
}

pub fn analyze(f: &Func) -> Types {
    // Values no rule below defines (pattern bindings of match arms) are unknown; results and
    // loop-carried values start at the bottom of the lattice.
    let mut tys = vec![Ty::Unknown; f.values.len()];
    for inst in &f.insts {
        for &r in &inst.results {
            tys[r.index()] = Ty::Bottom;
        }
        if let InstKind::Loop { body, .. } = &inst.kind {
            for &p in &f.block(*body).params {
                tys[p.index()] = Ty::Bottom;
            }
        }
    }
    for p in &f.params {
        tys[p.value.index()] = of_declared(&p.ty);
    }
    // Instructions are stored in creation order, which is operand-before-use except around
    // loops: iterate until nothing changes (types only go up the lattice).
    for _ in 0..64 {
        let mut changed = false;
        let mut set = |tys: &mut Vec<Ty>, v: Value, t: Ty| {
            let old = tys[v.index()];
            let new = old.join(t);
            if new != old {
                tys[v.index()] = new;
                changed = true;
            }
        };
        for (n, inst) in f.insts.iter().enumerate() {
            let i = Inst(n as u32);
            let result = match &inst.kind {
                // The placeholder of a best item or an accumulator not found yet (see
                // `lower::best`) has the type of what replaces it.
                InstKind::Const(tok) if is_placeholder(tok) => Some(Ty::Bottom),
                // The start of `.sum()` and `.product()` (`sum_start::<T>()`, `T: Real`, or an
                // integer): the accumulator has the type of what is added into it, so a sum of
                // `f64` terms is an `f64` from the first term on. The constant itself stays
                // unnamed and is spelt as the runtime's function, whose type rustc infers.
                InstKind::Const(tok) if is_accumulator_start(tok) => Some(Ty::Bottom),
                InstKind::Const(tok) => Some(const_ty(tok)),
                InstKind::Binary(op, a, b) if *op != BinOp::Rem => {
                    Some(get(&tys, *a).arith(get(&tys, *b)))
                }
                // `%` of a float (see `float_remainders`): a float of its type, also where the
                // other operand's type comes from the remainder (`p = (p + f * dt) % 1.0`);
                // typed as the primitive it becomes is.
                InstKind::Binary(BinOp::Rem, a, b) => match (get(&tys, *a), get(&tys, *b)) {
                    (Ty::Float(x), Ty::Float(y)) if x != y => Some(Ty::Unknown),
                    (t @ Ty::Float(_), Ty::Lit | Ty::Float(_) | Ty::Bottom)
                    | (Ty::Lit | Ty::Bottom, t @ Ty::Float(_)) => Some(t),
                    (Ty::Bottom, _) | (_, Ty::Bottom) => None,
                    _ => Some(Ty::Unknown),
                },
                InstKind::Neg(a) => Some(match get(&tys, *a) {
                    x @ (Ty::Lit | Ty::Float(_) | Ty::Bottom) => x,
                    _ => Ty::Unknown,
                }),
                InstKind::Prim { prim, args, .. } if prim.has(crate::prim::Flags::FLOAT_RESULT) => {
                    Some(match get(&tys, args[0]) {
                        Ty::Float(x) => {
                            // Every float operand must agree (`x.powf(p)`, `x.max(a)`).
                            let ok = (1..args.len()).all(|k| {
                                !prim.differentiable(k)
                                    || matches!(get(&tys, args[k]), Ty::Float(y) if y == x)
                                    || get(&tys, args[k]) == Ty::Lit
                                    || get(&tys, args[k]) == Ty::Bottom
                            });
                            if ok { Ty::Float(x) } else { Ty::Unknown }
                        }
                        // A float method of a literal (`2.0.sqrt()`, left where `y = 2.0` replaced
                        // a variable, or `2.0.max(x)`): the type of the float operands, or still
                        // a literal that takes the type of what its result meets.
                        Ty::Lit => (1..args.len()).filter(|&k| prim.differentiable(k)).fold(
                            Ty::Lit,
                            |t, k| match get(&tys, args[k]) {
                                Ty::Bottom => t,
                                o @ (Ty::Lit | Ty::Float(_)) => t.arith(o),
                                _ => Ty::Unknown,
                            },
                        ),
                        Ty::Bottom => Ty::Bottom,
                        _ => Ty::Unknown,
                    })
                }
                InstKind::Prim { prim, args, .. }
                    if prim.has(crate::prim::Flags::IDENTITY)
                        && !prim.has(crate::prim::Flags::VIEW) =>
                {
                    Some(match get(&tys, args[0]) {
                        // A copy of a grid is a grid (`rows.to_vec()` of `&[Vec<f64>]`): its
                        // rows written whole keep the old rows' shapes for their adjoints. A
                        // copy of a `Vec` of floats of a type still open is one too.
                        x @ (Ty::Float(_)
                        | Ty::Elems(_)
                        | Ty::ElemsOpen
                        | Ty::Rows(_)
                        | Ty::RowsOpen
                        | Ty::Bottom) => x,
                        _ => Ty::Unknown,
                    })
                }
                InstKind::Index(base, _) => Some(get(&tys, *base).element()),
                // The first element written into the array an array literal is built in
                // (`[r[i - 1][j], r[i][j - 1], r[i - 1][j - 1]]`, a soft-min's candidates, see
                // `lower::build`): an array of floats where the element is one, whose
                // elements are then floats where the code reads them (the `0·∞` tests of
                // `exp`'s and a product's rules on a table's infinite entry need that).
                InstKind::IndexSet { base, value, .. } if array_literal_start(f, *base) => {
                    Some(match get(&tys, *value) {
                        x @ (Ty::Float(_) | Ty::Lit | Ty::Bottom) => x.holding(),
                        _ => Ty::Unknown,
                    })
                }
                InstKind::IndexSet { base, value, .. } => Some(match get(&tys, *base) {
                    // Writing a row does not change the container's type (the row written may
                    // be of a type the analysis does not know, `vec![x; n]`).
                    x @ (Ty::Rows(_) | Ty::RowsOpen) => x,
                    // Nor does writing an element whose type the analysis does not know (a
                    // helper's result, `h[o] = sigmoid(z)`, or a float field of a struct of
                    // data, `cfg.slope * z`): it is the container's element, of its type.
                    x @ (Ty::Elems(_) | Ty::ElemsOpen) if get(&tys, *value) == Ty::Unknown => x,
                    x @ (Ty::Elems(_) | Ty::ElemsOpen) => x.join(get(&tys, *value).holding()),
                    Ty::Bottom => Ty::Bottom,
                    _ => Ty::Unknown,
                }),
                // `vec![0.0; n]`, `vec![1.0, 2.0]` (the elements as written) and `Vec::new()`.
                InstKind::Opaque { tokens, .. } => Some(vec_macro_ty(tokens)),
                InstKind::Call { path, args } if args.len() <= 1 && is_vec_new(path) => {
                    Some(Ty::ElemsOpen)
                }
                InstKind::Mutate {
                    m,
                    base,
                    args,
                    unwrap,
                } => {
                    let mut version = get(&tys, *base).taking();
                    for (k, &a) in args.iter().enumerate() {
                        use crate::prim::places::Arg;
                        if matches!(version, Ty::Rows(_)) {
                            break;
                        }
                        match m.def().args[k] {
                            Arg::Elem => version = version.join(get(&tys, a).holding()),
                            Arg::Values => version = version.join(get(&tys, a).taking()),
                            Arg::Plain => {}
                        }
                    }
                    let elem = match version {
                        // `v.pop()` not unwrapped is an `Option`.
                        _ if m.def().option() && !unwrap => Ty::Unknown,
                        v => v.element(),
                    };
                    set(&mut tys, inst.results[0], version);
                    if let Some(&r) = inst.results.get(1) {
                        // An element, or the removed tail (`split_off`): a container like the
                        // place.
                        use crate::prim::places::Returns;
                        let returned = match m.def().returns {
                            Returns::Values => version,
                            // `v.pop()` without `unwrap`: an `Option`.
                            Returns::OptionElem if !unwrap => Ty::Unknown,
                            _ => elem,
                        };
                        set(&mut tys, r, returned);
                    }
                    None
                }
                InstKind::Cast { ty, .. } => Some(match FloatTy::from_type(ty) {
                    Some(x) => Ty::Float(x),
                    None => Ty::Unknown,
                }),
                InstKind::Ascribe { ty, .. } => Some(of_declared(ty)),
                // `x = -3.0`: the literal has the type of the value `x` held; where that is
                // not known it is still a float of some type, which meets others like a
                // literal's (and is written `typed_like(..)`, see `settle_typed_like`).
                InstKind::TypedLike { value, like } => {
                    Some(match (get(&tys, *like), get(&tys, *value)) {
                        (x @ (Ty::Float(_) | Ty::Bottom), _) => x,
                        (_, Ty::Lit | Ty::Bottom) => Ty::Lit,
                        _ => Ty::Unknown,
                    })
                }
                InstKind::Deref(v) => Some(match get(&tys, *v) {
                    x @ (Ty::Float(_) | Ty::Bottom) => x,
                    _ => Ty::Unknown,
                }),
                InstKind::If { .. } | InstKind::Match { .. } => {
                    for arm in f.inst_blocks(i) {
                        if let Term::Yield(vals) = &f.block(arm).term {
                            for (k, &v) in vals.iter().enumerate() {
                                if let Some(&r) = inst.results.get(k) {
                                    let tv = get(&tys, v);
                                    set(&mut tys, r, tv);
                                }
                            }
                        }
                    }
                    None
                }
                InstKind::Loop {
                    init, body, kind, ..
                } => {
                    let params = f.block(*body).params.clone();
                    let carried = params[params.len() - init.len()..].to_vec();
                    if let LoopKind::Range { .. } = kind {
                        set(&mut tys, params[0], Ty::Unknown);
                    }
                    for (k, &v) in init.iter().enumerate() {
                        let tv = get(&tys, v);
                        set(&mut tys, carried[k], tv);
                    }
                    for b in exits(f, *body) {
                        let vals = match &f.block(b).term {
                            Term::Continue(vs) | Term::Break(vs) => vs.clone(),
                            Term::Next { vals, .. } => vals.clone(),
                            _ => continue,
                        };
                        for (k, &v) in vals.iter().enumerate() {
                            let tv = tys[v.index()];
                            set(&mut tys, carried[k], tv);
                        }
                    }
                    for (k, &r) in inst.results.iter().enumerate() {
                        let tv = tys[carried[k].index()];
                        set(&mut tys, r, tv);
                    }
                    None
                }
                _ => Some(Ty::Unknown),
            };
            if let Some(ty) = result {
                for &r in &inst.results {
                    set(&mut tys, r, ty);
                }
            }
        }
        if !changed {
            break;
        }
    }
    for t in &mut tys {
        if *t == Ty::Bottom {
            *t = Ty::Unknown;
        }
    }
    // A literal a returned value starts from has the declared result's type
    // (`xs.iter().map(..).fold(0.0, |a, b| a.max(b))` as the tail of a `-> f64` function).
    if let Some(Ty::Float(t)) = f.ret_ty.as_ref().map(of_declared) {
        for b in &f.blocks {
            if let Term::Return(v) = b.term {
                for s in literal_sources(f, v) {
                    if tys[s.index()] == Ty::Lit {
                        tys[s.index()] = Ty::Float(t);
                    }
                }
            }
        }
    }
    // A literal takes the type of what it meets: `x * 2.0` with `x: f64` makes `2.0` an `f64`
    // (and so do the literals it was computed from). The pullback may use it alone
    // (`b.ln()` for `x.log(3.0)`), where it must already have its type.
    loop {
        let mut changed = false;
        for inst in f.insts.iter().rev() {
            let Some(&r) = inst.results.first() else {
                continue;
            };
            let Ty::Float(t) = tys[r.index()] else {
                continue;
            };
            let ops: Vec<Value> = match &inst.kind {
                InstKind::Binary(op, a, b) if *op != BinOp::Rem => vec![*a, *b],
                InstKind::Neg(a) => vec![*a],
                // The variable's earlier value has the type too (`t = 2.0` after `let mut t =
                // 1.0`, then `t * x`).
                InstKind::TypedLike { value, like } => vec![*value, *like],
                // `let m: f64 = xs.iter().map(..).fold(0.0, |a, b| a.max(b));`: the literal a
                // loop or a branch starts from has the declared type, where what the loop
                // computes is of a type the analysis does not see (a method's result).
                InstKind::Ascribe { value, .. } => literal_sources(f, *value),
                InstKind::Prim { prim, args, .. } if prim.has(crate::prim::Flags::FLOAT_RESULT) => {
                    (0..args.len())
                        .filter(|&k| prim.differentiable(k))
                        .map(|k| args[k])
                        .collect()
                }
                _ => continue,
            };
            for o in ops {
                if tys[o.index()] == Ty::Lit {
                    tys[o.index()] = Ty::Float(t);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // A literal whose type nothing above found, which meets values of types only rustc knows
    // (`acc = acc * 0.5 + p.x` of a struct's field, a helper's result, a constant): the float
    // type the function names, where it names one (`fn f(p: &V2, xs: &[f64]) -> f64`), so
    // that rustc knows it where the generated code calls the rules' traits.
    // (Only number literals: a constant item may be an array, `TABLE.iter()`.)
    if let Some(t) = named_float(f) {
        for inst in &f.insts {
            if let (InstKind::Const(tok), Some(&r)) = (&inst.kind, inst.results.first())
                && tys[r.index()] == Ty::Lit
                && syn::parse2::<syn::Lit>(tok.clone()).is_ok()
            {
                tys[r.index()] = Ty::Float(t);
            }
        }
    }
    Types { tys }
}

/// The one float type the text of `f` names (its signature and its body), if it names exactly
/// one: a function that computes in both (`x as f32` in an `f64` function) leaves such literals
/// to rustc.
fn named_float(f: &Func) -> Option<FloatTy> {
    match f.float_names.as_slice() {
        [t] if t == "f64" => Some(FloatTy::F64),
        [t] if t == "f32" => Some(FloatTy::F32),
        _ => None,
    }
}

/// `v` and the values it may be through loops and branches: a loop's result is its carried
/// value's start or what an iteration passes on; a branch's result what an arm yields.
fn literal_sources(f: &Func, v: Value) -> Vec<Value> {
    let mut out = vec![v];
    let mut k = 0;
    while k < out.len() && out.len() < 64 {
        let ValueDef::Result(i, n) = f.value(out[k]).def else {
            k += 1;
            continue;
        };
        let more: Vec<Value> = match &f.inst(i).kind {
            InstKind::Loop { init, body, .. } => {
                let mut vs: Vec<Value> = init.get(n).copied().into_iter().collect();
                for b in exits(f, *body) {
                    match &f.block(b).term {
                        Term::Continue(vals) | Term::Break(vals) | Term::Next { vals, .. } => {
                            vs.extend(vals.get(n).copied())
                        }
                        _ => {}
                    }
                }
                vs
            }
            InstKind::If { .. } | InstKind::Match { .. } => f
                .inst_blocks(i)
                .into_iter()
                .filter_map(|b| f.yielded(b, n))
                .collect(),
            _ => Vec::new(),
        };
        for m in more {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        k += 1;
    }
    out
}

/// A literal assigned over a variable whose type the analysis found (`t = 2.0` where `t` is
/// an `f64`) is that typed literal: [`InstKind::TypedLike`] becomes an ascription, and the
/// earlier value is no longer read for its type. Where the type is not known the generated
/// code takes it from the earlier value (`typed_like(&t_1, 2.0)`).
pub fn settle_typed_like(f: &mut Func, tys: &Types) {
    for inst in &mut f.insts {
        let InstKind::TypedLike { value, .. } = inst.kind else {
            continue;
        };
        if let Some(t) = inst.results.first().and_then(|&r| tys.of(r).float()) {
            let ty = syn::parse2(t.tokens()).expect("a float type");
            inst.kind = InstKind::Ascribe { value, ty };
        }
    }
}

/// The blocks whose `continue`/`break` belong to the loop with body `body`: the body and the
/// arms of the branches at its end, not nested loops.
fn exits(f: &Func, body: Block) -> Vec<Block> {
    let mut out = vec![body];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(f.term_blocks(cur));
        i += 1;
    }
    out
}

fn get(tys: &[Ty], v: Value) -> Ty {
    tys[v.index()]
}

/// `::std::vec![e; n]`, `::std::vec![e, ..]`, `[e; n]` or `[e, ..]` of a float literal `e`: its
/// elements have the literal's type (open when unsuffixed); anything else is unknown.
fn vec_macro_ty(tokens: &proc_macro2::TokenStream) -> Ty {
    // `Vec::with_capacity(n)`, what `vec![e; n]` of an element other than a literal is filled
    // from (`vec![f64::INFINITY; n]`, one push of `e` per element).
    if let Ok(syn::Expr::Call(c)) = syn::parse2::<syn::Expr>(tokens.clone())
        && let syn::Expr::Path(p) = &*c.func
        && is_vec_new(&p.path)
    {
        return Ty::ElemsOpen;
    }
    let inner = match syn::parse2::<syn::Expr>(tokens.clone()) {
        // `[0.0; 4]`, `[1.0, 2.0]`
        Ok(syn::Expr::Repeat(r)) => r.expr.to_token_stream(),
        Ok(syn::Expr::Array(a)) => a.elems.to_token_stream(),
        Ok(syn::Expr::Macro(m)) if m.mac.path.segments.last().is_some_and(|s| s.ident == "vec") => {
            m.mac.tokens
        }
        _ => return Ty::Unknown,
    };
    let Some(proc_macro2::TokenTree::Literal(first)) = inner.into_iter().next() else {
        return Ty::Unknown;
    };
    match const_ty(&proc_macro2::TokenTree::Literal(first).into()) {
        Ty::Lit => Ty::ElemsOpen,
        Ty::Float(t) => Ty::Elems(t),
        _ => Ty::Unknown,
    }
}

/// Whether `v` is the array an array literal's elements are written into (`lower::build`):
/// `core::array::from_fn` of defaults, or of copies of the first element.
fn array_literal_start(f: &Func, v: Value) -> bool {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return false;
    };
    let text = match &f.inst(i).kind {
        InstKind::Const(t) => t.to_string(),
        InstKind::Opaque { tokens, .. } => tokens.to_string(),
        _ => return false,
    };
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    text.starts_with("::core::array::from_fn::<_,")
        && (text.ends_with("(|_|::core::default::Default::default())")
            || text.ends_with("(|_|::core::clone::Clone::clone(&__ad_e0))"))
}

/// `Vec::new` or `Vec::with_capacity`.
fn is_vec_new(path: &syn::Path) -> bool {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(
        segs.iter().map(String::as_str).collect::<Vec<_>>()[..],
        [.., "Vec", "new" | "with_capacity"]
    )
}

/// The constant a lowered `.sum()` or `.product()` starts from.
fn is_accumulator_start(tok: &proc_macro2::TokenStream) -> bool {
    crate::ir::is_sum_start(tok) || crate::ir::is_product_start(tok)
}

/// `::core::default::Default::default()`, the value of a loop-carried variable before its
/// first real one.
fn is_placeholder(tok: &proc_macro2::TokenStream) -> bool {
    tok.to_string().replace(' ', "") == "::core::default::Default::default()"
}

fn const_ty(tok: &proc_macro2::TokenStream) -> Ty {
    // `f64::EPSILON`, `std::f64::consts::PI`: the float module or type names the type.
    if let Ok(p) = syn::parse2::<syn::Path>(tok.clone()) {
        if p.segments.len() >= 2 {
            let float =
                p.segments
                    .iter()
                    .rev()
                    .skip(1)
                    .find_map(|s| match s.ident.to_string().as_str() {
                        "f64" => Some(FloatTy::F64),
                        "f32" => Some(FloatTy::F32),
                        _ => None,
                    });
            if let Some(t) = float {
                return Ty::Float(t);
            }
        }
        // An associated constant of a float type parameter (`T::ZERO`, `T::EPSILON`) has that
        // type, which the generated code cannot write: the rules' traits compute with it.
        if p.segments.len() >= 2 && crate::types::is_float_param(&p.segments[0].ident.to_string()) {
            return Ty::Unknown;
        }
        // A struct's constant (`Quat::IDENTITY`) is of the struct's type, which rustc knows.
        if crate::lower::struct_constant(&p) {
            return Ty::Unknown;
        }
        // A constant item (`LN_2PI`, `consts::TAU`) of a type the macro cannot see: where it
        // meets a float in arithmetic it must be of that float's type, like a literal.
        let last = p
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let screaming = last.chars().any(|c| c.is_ascii_uppercase())
            && last
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        return if screaming { Ty::Lit } else { Ty::Unknown };
    }
    let Ok(lit) = syn::parse2::<syn::Lit>(tok.clone()) else {
        return Ty::Unknown;
    };
    match lit {
        syn::Lit::Float(l) => match l.suffix() {
            "f64" => Ty::Float(FloatTy::F64),
            "f32" => Ty::Float(FloatTy::F32),
            _ => Ty::Lit,
        },
        syn::Lit::Int(l) => match l.suffix() {
            "f64" => Ty::Float(FloatTy::F64),
            "f32" => Ty::Float(FloatTy::F32),
            _ => Ty::Unknown,
        },
        _ => Ty::Unknown,
    }
}

/// `x % m` of floats becomes the primitive `rem` (`x − m·(x/m).trunc()`, printed as the
/// operator's trait method), which has a derivative rule: where an operand is a float of a type
/// the macro knows and the other of that type or a literal, and where an operand of a type it
/// does not see that holds floats (a field, a call's result: `self.phase % 1.0`) meets a float
/// or a literal, or another such operand; that operand's rules are then the runtime's for its
/// type, as a float method's are. `%` of integers, and of operands that may be integers, stays
/// the operator (an error where it is differentiated, which says what to write). `tys` stays
/// right: `analyze` types a remainder as the primitive is typed.
pub fn float_remainders(f: &mut Func, tys: &Types) {
    let rem = crate::prim::PrimId::float_rem();
    for n in 0..f.insts.len() {
        let InstKind::Binary(BinOp::Rem, a, b) = f.insts[n].kind else {
            continue;
        };
        // An operand of unseen type: a float where it holds floats, or beside a float of a
        // known type or a float literal (not a constant item, which may be an integer) where
        // it is not an integer, as Rust has no `%` of an integer by a float.
        let floats = |v: Value| f.value(v).kind == Kind::Float;
        let beside_float = |v: Value, other: Value| {
            f.value(v).kind != Kind::Discrete
                && (matches!(tys.of(other), Ty::Float(_)) || float_literal(f, other))
        };
        let float = match (tys.of(a), tys.of(b)) {
            (Ty::Float(x), Ty::Float(y)) => x == y,
            (Ty::Float(_), Ty::Lit) | (Ty::Lit, Ty::Float(_)) => true,
            (Ty::Unknown, Ty::Unknown) => floats(a) && floats(b),
            (Ty::Unknown, _) => floats(a) || beside_float(a, b),
            (_, Ty::Unknown) => floats(b) || beside_float(b, a),
            _ => false,
        };
        if float {
            f.insts[n].kind = InstKind::Prim {
                prim: rem,
                args: vec![a, b],
                unwrap: false,
            };
        }
    }
}

/// Whether `v` is a float literal (`1.0`, `2.5e-3`, `1f64`), not a constant item.
fn float_literal(f: &Func, v: Value) -> bool {
    let ValueDef::Result(i, 0) = f.value(v).def else {
        return false;
    };
    let InstKind::Const(tok) = &f.inst(i).kind else {
        return false;
    };
    match syn::parse2::<syn::Lit>(tok.clone()) {
        Ok(syn::Lit::Float(_)) => true,
        Ok(syn::Lit::Int(l)) => matches!(l.suffix(), "f32" | "f64"),
        _ => false,
    }
}

/// Values used as indices are integers: an index (`w[o * n_in + i]`) and what its arithmetic is
/// made of, back to where a value comes from elsewhere (a field of a parameter struct, `n_in:
/// usize` of `self.n_in`, which the macro cannot see the type of). Marked as such, they are
/// data: a field read for an index has no derivative, as the arithmetic of an index is
/// integer arithmetic in Rust. (Not a field cast to a float with `as`: `l.n_in as f64` and
/// `l.w as f32` of an `f64` field look the same here.)
pub fn integer_values(f: &mut Func) {
    let mut work: Vec<Value> = Vec::new();
    for inst in &f.insts {
        match &inst.kind {
            InstKind::Index(_, i)
            | InstKind::IndexSet { index: i, .. }
            | InstKind::VarTakeAt { index: i, .. }
            | InstKind::VarReadAt { index: i, .. } => work.push(*i),
            _ => {}
        }
    }
    for v in work {
        mark_integer(f, v);
    }
}

/// Marks `v`, a value Rust reads as an integer (an index, a length), as data, and the
/// arithmetic it is made of, back to where a value of an unseen type comes from (see
/// [`integer_values`]).
pub fn mark_integer(f: &mut Func, v: Value) {
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        if f.values[v.index()].kind != Kind::Unknown {
            continue;
        }
        f.values[v.index()].kind = Kind::Discrete;
        if let ValueDef::Result(i, 0) = f.values[v.index()].def {
            match &f.inst(i).kind {
                InstKind::Binary(_, a, b) => work.extend([*a, *b]),
                InstKind::Neg(a) => work.push(*a),
                // A shape `(r, c)`, an ndarray index `a[(i, j)]`.
                InstKind::Tuple(items) => work.extend(items.iter().copied()),
                _ => {}
            }
        }
    }
}
