//! What the IR says: the instruction kinds ([`InstKind`]) with their loops, arms and rule
//! arguments, and the block terminators ([`Term`]), with the one place that lists each kind's
//! operands (so that every pass that renames or reads operands agrees on them). Apart from the
//! [`Func`](super::Func) container in the module root because this vocabulary is most of the
//! IR's text and changes whenever a construct is added, while the container and its queries
//! rarely do.

use proc_macro2::{Span, TokenStream};

use super::{Block, Inst, MutId, PrimId, Stack, Value, Var};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `%`: only on inactive values.
    Rem,
}

impl BinOp {
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Rem => "rem",
        }
    }
}

#[derive(Clone, Debug)]
pub enum InstKind {
    /// A literal or constant path, emitted as written: `2.0`, `std::f64::consts::PI`.
    Const(TokenStream),
    /// `a op b` on numbers.
    Binary(BinOp, Value, Value),
    /// `-a`.
    Neg(Value),
    /// A primitive of the table: `a op b`-like operators are [`InstKind::Binary`]; methods with
    /// derivative rules are this. `args` are the receiver, then the arguments.
    Prim {
        prim: PrimId,
        args: Vec<Value>,
        /// `x.mean().unwrap()`: the primitive returns an `Option`.
        unwrap: bool,
    },
    /// `recv.name(args)` of a method with no derivative rule: only inactive values may reach it.
    Method {
        name: syn::Ident,
        recv: Value,
        args: Vec<Value>,
        /// `x.mean().unwrap()`: ndarray's `mean` returns an `Option`.
        unwrap: bool,
        /// The variable the receiver is rooted in when it is declared `mut` or is a `&mut`
        /// parameter: the method may change it.
        recv_mut: Option<syn::Ident>,
    },
    /// `path(args)`. With an active argument it is differentiated through `path_vjp`.
    Call { path: syn::Path, args: Vec<Value> },
    /// `value as ty`.
    Cast { value: Value, ty: syn::Type },
    /// `let x: ty = value`: the annotation is kept so rustc infers the same types.
    Ascribe { value: Value, ty: syn::Type },
    /// `value` with the type of `like`: a literal assigned over a variable (`t = 2.0` after
    /// `let mut t = g(x)`) has the type of the value it replaces, which rustc infers and the
    /// generated code cannot name. Written `typed_like(&like, value)` where that type stays
    /// unknown (`crate::scalars`), an ascription where it is known. To derivatives it is
    /// `value` (a constant where it is made of literals); `like` is read for its type only,
    /// and nothing flows back to it.
    TypedLike { value: Value, like: Value },
    /// `&value`: transparent to derivatives.
    Ref(Value),
    /// `(a, b, ..)`.
    Tuple(Vec<Value>),
    /// `tuple.n`.
    Field(Value, u32),
    /// `&strukt.name`: a reference to a named field (parameter structs).
    FieldRef(Value, syn::Ident),
    /// `*r`: the value behind a reference, where the source reads a field by value.
    Deref(Value),
    /// `base[index]`.
    Index(Value, Value),
    /// `base[index] = value`: a new version of the array `base`, written in place (the old
    /// version is dead afterwards, or copied first if the backward pass reads it).
    IndexSet {
        base: Value,
        index: Value,
        value: Value,
    },
    /// Tokens with free source variables (`println!("{}", x)`), emitted with each named
    /// variable bound to its current value. Always inactive.
    Opaque {
        tokens: TokenStream,
        uses: Vec<(syn::Ident, Value)>,
        /// The macro's name when the tokens are a macro call (`println`, `assert_eq`).
        mac: Option<String>,
    },
    /// `if cond { then } else { els }`: both blocks end in [`Term::Yield`] with the results.
    If {
        cond: Value,
        then: Block,
        els: Block,
    },
    /// `match scrutinee { arms }` on an inactive scrutinee; every arm ends in [`Term::Yield`].
    Match {
        scrutinee: Value,
        arms: Vec<MatchArm>,
    },
    /// `v.push(x)`-like mutation of a place (see [`crate::prim::places`]): the first result is
    /// the place's new version (the old one is dead afterwards), the second the element the
    /// method returns, if any.
    Mutate {
        m: MutId,
        base: Value,
        args: Vec<Value>,
        /// `v.pop().unwrap()`.
        unwrap: bool,
    },
    // ---- instructions that the transformations add -----------------------------------------
    /// `let mut w = value;`
    VarInit { var: Var, value: Value },
    /// `let mut w;`: a variable that every path assigns ([`InstKind::VarSet`]) before it is
    /// read (see `simplify::defer_branch_adjoints`).
    VarDecl(Var),
    /// `w += value`.
    VarAcc { var: Var, value: Value },
    /// `w = value`, into a variable whose value was moved out (see [`InstKind::VarGet`]).
    VarSet { var: Var, value: Value },
    /// `w[index] += value`.
    VarAccAt {
        var: Var,
        index: Value,
        value: Value,
    },
    /// `w.field += value`, for a tuple field (`0`) or a named one; with an index,
    /// `w.field[index] += value` (an element of an array field of a parameter struct).
    VarAccField {
        var: Var,
        field: syn::Member,
        index: Option<Value>,
        value: Value,
    },
    /// The variable's value, moved out (its last read).
    VarGet(Var),
    /// The variable's value, leaving zero in it (a loop-carried adjoint at each iteration).
    VarTake(Var),
    /// `w[index]`, leaving zero there.
    VarTakeAt { var: Var, index: Value },
    /// A copy of `w[index]`, leaving it as it is (an element's adjoint that a take would give
    /// back to the same element: see `simplify::read_restored_elements`).
    VarReadAt { var: Var, index: Value },
    /// The variable's value, leaving a zero of the shape `shape` holds: a loop-carried adjoint
    /// whose shape changes from one iteration to the next (a vector pushed to in the loop).
    VarTakeTo { var: Var, shape: Value },
    /// `w += 1` on an iteration counter.
    Count(Var),
    /// The adjoint of mutation `m`, applied to `w` in place (`w` becomes the adjoint of the
    /// place's old version): `place::<adjoint>(&mut w, args..)`. The results are the
    /// cotangents of the mutation's differentiable arguments.
    VarUpdate {
        var: Var,
        m: MutId,
        args: Vec<Value>,
    },
    /// A zero gradient shaped like the value.
    ZeroLike(Value),
    /// A zero gradient of the shape the value holds.
    ZeroOfShape(Value),
    /// The shape of a value (`ShapeOf`).
    Shape(Value),
    /// A zero-sized witness of a value's type, which is all a [`InstKind::GradAs`] in the
    /// pullback needs of the value it converts a gradient for.
    TypeOf(Value),
    /// The runtime's reverse rule of operand `operand` of a primitive, on values whose type the
    /// macro does not know: `Trait::<name>_vjp_<k>(args.., &g)`.
    Rule {
        prim: PrimId,
        operand: usize,
        args: Vec<RuleArg>,
        g: Value,
    },
    /// A runtime derivative helper `d::name(args)`, called from a primitive's form.
    Helper { name: String, args: Vec<Value> },
    /// The cotangent of an `as` cast's source: `g` converted back.
    CastBack { source: Value, g: Value },
    /// The gradient `g` a callee returned for a value lent with a coercion (an array lent as a
    /// slice gets a `Vec` back), converted to the gradient type of `like` (the array).
    GradAs { like: Value, g: Value },
    /// `g_jvp(args, tangents)` through the runtime's call adapter: results are the value and
    /// its tangent. `tangents[k]` is the tangent of argument `k` if it has one. With `along`
    /// (exact mode at kinks, for the runtime's `nn`/`conv` functions, whose `_jvp` follows the
    /// default convention at kinks), `g_vjp_along(args, tangents)` instead, its pullback unused.
    CallJvp {
        path: syn::Path,
        args: Vec<Value>,
        tangents: Vec<Option<Value>>,
        along: bool,
    },
    /// The runtime's forward rule of a primitive on values whose type the macro does not know:
    /// `Trait::<name>_jvp(args.., tangents..)`, `args` being the operands then the result.
    Jvp {
        prim: PrimId,
        args: Vec<Value>,
        tangents: Vec<Value>,
    },
    /// `g_vjp_jvp(args, tangents)` (forward over reverse): results are the value, its
    /// pullback, the markers, then the value's tangent; the pullback takes the cotangent and its
    /// tangent.
    CallVjpJvp {
        path: syn::Path,
        args: Vec<Value>,
        tangents: Vec<Option<Value>>,
    },
    /// A [`InstKind::CallVjpJvp`] pullback applied to the cotangent and its tangent: one result
    /// per argument, then one tangent per argument.
    CallPullbackJvp {
        pb: Value,
        sel: Value,
        g: Value,
        dg: Value,
    },
    /// The tangent of a runtime reverse rule that is not multilinear:
    /// `Trait::<rule>_jvp(args.., &g, dargs.., &dg)`, `dargs` the tangents of the value
    /// arguments in order.
    RuleJvp {
        prim: PrimId,
        operand: usize,
        args: Vec<RuleArg>,
        g: Value,
        dargs: Vec<Value>,
        dg: Value,
    },
    /// `g_vjp(args)`: results are the value, its pullback and the markers saying which
    /// arguments it returns gradients for.
    CallVjp { path: syn::Path, args: Vec<Value> },
    /// `g_vjp_along(args, tangents)` through the runtime's call adapter, in exact mode at kinks
    /// (see [`crate::kinks`]): results are the value, its tangent, its pullback through the
    /// pieces the tangents enter (applied by [`InstKind::CallPullback`]) and the markers.
    CallAlong {
        path: syn::Path,
        args: Vec<Value>,
        tangents: Vec<Option<Value>>,
    },
    /// The pullback of a call applied to its cotangent, spread over the call's arguments: one
    /// result per argument (`()` for those without a gradient).
    CallPullback { pb: Value, sel: Value, g: Value },
    /// A variant of the record of `if`/`match` instruction `of`: what its arm `variant` keeps.
    MakeRecord {
        of: Inst,
        variant: usize,
        values: Vec<Value>,
    },
    /// `match` on the record of `if`/`match` instruction `of`: arm `k`'s parameters are the
    /// values variant `k` keeps.
    MatchRecord {
        of: Inst,
        scrutinee: Value,
        arms: Vec<Block>,
    },
    /// Pushes a loop iteration's record.
    Push { stack: Stack, values: Vec<Value> },
    /// Pops a loop iteration's record: one result per value pushed.
    Pop(Stack),
    /// A loop. The body's parameters are the loop-carried values (after the index for `for`);
    /// `init` gives their first values. It ends in `Continue` (next iteration, with the new
    /// carried values) or `Break` (leave, carried values become the results); `Return` inside
    /// a loop is rejected by the lowering.
    Loop {
        kind: LoopKind,
        init: Vec<Value>,
        body: Block,
        /// `#[checkpoint(snapshots = n)]` (or the function's `checkpoint(..)` option): reverse
        /// mode keeps `n` snapshots of the carried values instead of a record per iteration
        /// (see [`crate::checkpoint`]).
        checkpoint: Option<usize>,
    },
    // ---- checkpointed loops (see [`crate::checkpoint`]) -----------------------------------
    /// `let mut w = Checkpointer::..`: the binomial schedule for a `for` loop over `range`
    /// without `break` (its trip count known at entry), the online schedule otherwise.
    CkptStart {
        var: Var,
        snapshots: usize,
        range: Option<IterRange>,
    },
    /// Before iteration `iter` of a plain run of a checkpointed loop's body:
    /// `w.offer(iter, || state.clone())`, the state being the carried values.
    CkptOffer {
        var: Var,
        iter: Value,
        state: Vec<Value>,
    },
    /// The forward sweep of a checkpointed loop ran `n` iterations: the checkpointer, finished
    /// and moved out of `w`.
    CkptFinish { var: Var, n: Value },
    /// The backward sweep of a checkpointed loop: moves the checkpointer `ck` into `var` and
    /// carries out its actions until it is done. `advance` runs iterations plainly: it is the
    /// forward pass's copy of the loop body (parameters: the index for ranges, the carried
    /// values, the iteration number; it ends in the loop's terminator). `record` is the body
    /// that runs one iteration keeping what `reverse`, the iteration's pullback, reads
    /// (parameters: the index for ranges and the carried values; both end in an empty `yield`).
    /// `range` gives an iteration's index.
    CkptSweep {
        ck: Value,
        var: Var,
        range: Option<IterRange>,
        advance: Block,
        record: Block,
        reverse: Block,
    },
    // ---- reduction loops (see [`crate::fuse`]) --------------------------------------------
    /// The pullback of one iteration of a reduction loop, run in the forward pass right after
    /// the iteration it is the pullback of, with the accumulator's adjoint at one: a pullback
    /// block (it ends in an empty `yield`) whose contributions to what the loop reads from
    /// outside go to variables that the forward pass scales afterwards.
    InlinePullback { body: Block },
}

/// The range a `for` loop walks: what a checkpointed loop needs for its trip count and for the
/// index of any one iteration.
#[derive(Clone, Copy, Debug)]
pub struct IterRange {
    pub start: Value,
    pub end: Value,
    pub inclusive: bool,
    pub rev: bool,
}

/// One arm of a [`InstKind::Match`] or [`Term::Switch`].
#[derive(Clone, Debug)]
pub struct MatchArm {
    /// The pattern as written; it binds the block's parameters.
    pub pat: syn::Pat,
    /// Guard tokens (inactive, may name source variables listed in `guard_uses`).
    pub guard: Option<TokenStream>,
    pub guard_uses: Vec<(syn::Ident, Value)>,
    /// Names bound by the pattern, in the order of the block's parameters.
    pub bindings: Vec<syn::Ident>,
    pub block: Block,
}

#[derive(Clone, Debug)]
pub enum LoopKind {
    /// `for i in start..end` (or `..=`, or `.rev()`): the body's first parameter is `i`.
    Range {
        start: Value,
        end: Value,
        inclusive: bool,
        rev: bool,
    },
    /// `loop` (also what `while` lowers to).
    Infinite,
}

impl LoopKind {
    /// The range of a `for` loop.
    pub fn range(&self) -> Option<IterRange> {
        match *self {
            LoopKind::Range {
                start,
                end,
                inclusive,
                rev,
            } => Some(IterRange {
                start,
                end,
                inclusive,
                rev,
            }),
            LoopKind::Infinite => None,
        }
    }
}

macro_rules! inst_operands {
    ($self:ident, $f:ident, $it:ident $(, $m:tt)?) => {{
        let f = $f;
        match $self {
            InstKind::Const(_)
            | InstKind::VarGet(_)
            | InstKind::VarDecl(_)
            | InstKind::VarTake(_)
            | InstKind::Count(_)
            | InstKind::InlinePullback { .. }
            | InstKind::Pop(_) => {}
            InstKind::Binary(_, a, b)
            | InstKind::Index(a, b)
            | InstKind::TypedLike { value: a, like: b } => {
                f(a);
                f(b);
            }
            InstKind::Neg(a)
            | InstKind::Field(a, _)
            | InstKind::FieldRef(a, _)
            | InstKind::Deref(a)
            | InstKind::Ref(a)
            | InstKind::ZeroLike(a)
            | InstKind::ZeroOfShape(a)
            | InstKind::Shape(a)
            | InstKind::TypeOf(a)
            | InstKind::Cast { value: a, .. }
            | InstKind::Ascribe { value: a, .. }
            | InstKind::VarInit { value: a, .. }
            | InstKind::VarAcc { value: a, .. }
            | InstKind::VarSet { value: a, .. }
            | InstKind::VarTakeAt { index: a, .. }
            | InstKind::VarReadAt { index: a, .. }
            | InstKind::VarTakeTo { shape: a, .. } => f(a),
            InstKind::VarAccField { index, value, .. } => {
                index.$it().for_each(|v| f(v));
                f(value);
            }
            InstKind::VarAccAt { index, value, .. } => {
                f(index);
                f(value);
            }
            InstKind::Tuple(vs)
            | InstKind::Prim { args: vs, .. }
            | InstKind::Call { args: vs, .. }
            | InstKind::CallVjp { args: vs, .. }
            | InstKind::Helper { args: vs, .. }
            | InstKind::MakeRecord { values: vs, .. }
            | InstKind::Push { values: vs, .. }
            | InstKind::VarUpdate { args: vs, .. } => vs.$it().for_each(f),
            InstKind::Mutate { base, args, .. } => {
                f(base);
                args.$it().for_each(f);
            }
            InstKind::CallVjpJvp { args, tangents, .. } => {
                args.$it().for_each(&mut *f);
                tangents.$it().flatten().for_each(f);
            }
            InstKind::CallPullbackJvp { pb, sel, g, dg } => {
                f(pb);
                f(sel);
                f(g);
                f(dg);
            }
            InstKind::RuleJvp {
                args, g, dargs, dg, ..
            } => {
                for a in args.$it() {
                    if let RuleArg::Value(v) | RuleArg::Shape(v) = a {
                        f(v);
                    }
                }
                f(g);
                dargs.$it().for_each(&mut *f);
                f(dg);
            }
            InstKind::CallJvp { args, tangents, .. } | InstKind::CallAlong { args, tangents, .. } => {
                args.$it().for_each(&mut *f);
                tangents.$it().flatten().for_each(f);
            }
            InstKind::Jvp { args, tangents, .. } => {
                args.$it().for_each(&mut *f);
                tangents.$it().for_each(f);
            }
            InstKind::IndexSet { base, index, value } => {
                f(base);
                f(index);
                f(value);
            }
            InstKind::Method { recv, args, .. } => {
                f(recv);
                args.$it().for_each(f);
            }
            InstKind::Opaque { uses, .. } => uses.$it().for_each(|(_, v)| f(v)),
            InstKind::If { cond, .. } => f(cond),
            InstKind::Match { scrutinee, arms } => {
                f(scrutinee);
                for arm in arms.$it() {
                    arm.guard_uses.$it().for_each(|(_, v)| f(v));
                }
            }
            InstKind::MatchRecord { scrutinee, .. } => f(scrutinee),
            InstKind::Rule { args, g, .. } => {
                for a in args.$it() {
                    if let RuleArg::Value(v) | RuleArg::Shape(v) = a {
                        f(v);
                    }
                }
                f(g);
            }
            InstKind::CastBack { source, g } | InstKind::GradAs { like: source, g } => {
                f(source);
                f(g);
            }
            InstKind::CallPullback { pb, sel, g } => {
                f(pb);
                f(sel);
                f(g);
            }
            InstKind::Loop { kind, init, .. } => {
                if let LoopKind::Range { start, end, .. } = kind {
                    f(start);
                    f(end);
                }
                init.$it().for_each(f);
            }
            InstKind::CkptStart { range, .. } => {
                if let Some(r) = range {
                    f(&$($m)? r.start);
                    f(&$($m)? r.end);
                }
            }
            InstKind::CkptOffer { iter, state, .. } => {
                f(iter);
                state.$it().for_each(f);
            }
            InstKind::CkptFinish { n, .. } => f(n),
            InstKind::CkptSweep { ck, range, .. } => {
                f(ck);
                if let Some(r) = range {
                    f(&$($m)? r.start);
                    f(&$($m)? r.end);
                }
            }
        }
    }};
}

macro_rules! term_operands {
    ($self:ident, $f:ident, $it:ident) => {{
        let f = $f;
        match $self {
            Term::Yield(vs) | Term::Continue(vs) | Term::Break(vs) => vs.$it().for_each(f),
            Term::Next { brk, vals } => {
                f(brk);
                vals.$it().for_each(f);
            }
            Term::Return(v) => f(v),
            Term::Branch { cond, .. } => f(cond),
            Term::Switch { scrutinee, arms } => {
                f(scrutinee);
                for arm in arms.$it() {
                    arm.guard_uses.$it().for_each(|(_, v)| f(v));
                }
            }
        }
    }};
}

impl InstKind {
    /// Calls `f` on every operand the instruction reads directly (not those of its blocks).
    pub fn operands_mut(&mut self, f: &mut dyn FnMut(&mut Value)) {
        inst_operands!(self, f, iter_mut, mut);
    }

    /// Calls `f` on every operand the instruction reads directly (not those of its blocks).
    pub fn each_operand(&self, f: &mut dyn FnMut(&Value)) {
        inst_operands!(self, f, iter);
    }
}

impl InstKind {
    /// The adjoint variable the instruction reads or writes, if any.
    pub fn var_mut(&mut self) -> Option<&mut Var> {
        match self {
            InstKind::VarInit { var, .. }
            | InstKind::VarAcc { var, .. }
            | InstKind::VarSet { var, .. }
            | InstKind::VarAccAt { var, .. }
            | InstKind::VarAccField { var, .. }
            | InstKind::VarTakeAt { var, .. }
            | InstKind::VarReadAt { var, .. }
            | InstKind::VarTakeTo { var, .. }
            | InstKind::VarUpdate { var, .. }
            | InstKind::VarGet(var)
            | InstKind::VarDecl(var)
            | InstKind::VarTake(var)
            | InstKind::Count(var)
            | InstKind::CkptStart { var, .. }
            | InstKind::CkptOffer { var, .. }
            | InstKind::CkptFinish { var, .. }
            | InstKind::CkptSweep { var, .. } => Some(var),
            _ => None,
        }
    }

    /// The adjoint variable the instruction reads or writes, if any.
    pub fn var(&self) -> Option<Var> {
        self.clone().var_mut().copied()
    }
}

impl Term {
    /// Calls `f` on every operand the terminator reads directly.
    pub fn operands_mut(&mut self, f: &mut dyn FnMut(&mut Value)) {
        term_operands!(self, f, iter_mut);
    }

    /// Calls `f` on every operand the terminator reads directly.
    pub fn each_operand(&self, f: &mut dyn FnMut(&Value)) {
        term_operands!(self, f, iter);
    }
}

/// One primal argument of a runtime rule call.
#[derive(Clone, Debug)]
pub enum RuleArg {
    /// A value, passed by reference.
    Value(Value),
    /// A shape value (`ShapeOf`), passed by reference.
    Shape(Value),
    /// The cotangent in place of an argument the rule does not read.
    Witness,
}

#[derive(Clone, Debug)]
pub struct InstData {
    pub kind: InstKind,
    pub results: Vec<Value>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Term {
    /// Leave an `if`/`match` arm with these results.
    Yield(Vec<Value>),
    /// Next loop iteration with these carried values.
    Continue(Vec<Value>),
    /// Leave the loop with these carried values.
    Break(Vec<Value>),
    /// Leave the function.
    Return(Value),
    /// Next iteration or leave the loop, as the discrete value `brk` says, with these carried
    /// values: what a loop body whose arms `continue` or `break` ends in once they are joined.
    Next { brk: Value, vals: Vec<Value> },
    /// A diverging `if` at the end of a block: each arm ends in its own terminator.
    Branch {
        cond: Value,
        then: Block,
        els: Block,
    },
    /// A diverging `match` at the end of a block.
    Switch {
        scrutinee: Value,
        arms: Vec<MatchArm>,
    },
}
