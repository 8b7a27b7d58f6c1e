//! The SSA intermediate representation that `#[differentiate]` lowers a function into.
//!
//! Storage is three arenas indexed by `u32` newtypes ([`Value`], [`Inst`], [`Block`]). Control
//! flow is *structured*: a block is a list of instructions ending in one [`Term`]inator; `if`,
//! `match` and loops own their blocks, and every value that crosses a block boundary is explicit
//! (a block parameter, an instruction result, or a terminator operand). Operands are always
//! defined before use, so the backward pass is a reverse walk of each block.
//!
//! Divergence (`break`, `continue`, `return`) is expressed by terminators only: the lowering moves
//! the statements that follow a diverging `if` into the arms that fall through
//! ([`Term::Branch`]), so a block never has code after a jump.

use std::fmt;

use proc_macro2::{Span, TokenStream};

pub use crate::prim::PrimId;
pub use crate::prim::places::MutId;

macro_rules! index_type {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

index_type!(
    /// An SSA value.
    Value,
    "v"
);
index_type!(
    /// An instruction.
    Inst,
    "i"
);
index_type!(
    /// A block: parameters, instructions, one terminator.
    Block,
    "b"
);
index_type!(
    /// A mutable variable of the pullback: the adjoint of a value, accumulated in place.
    Var,
    "w"
);
index_type!(
    /// A stack of per-iteration records of a loop.
    Stack,
    "s"
);

/// What the macro knows of a value's type without asking rustc: enough to keep integers,
/// booleans and the like out of the derivative and to match call arguments to a callee's active
/// parameters. It is derived from literals, declared types and operations, never guessed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A float, float container or other differentiable value.
    Float,
    /// An integer, `bool`, `char`, string or a container of them: never has a derivative.
    Discrete,
    /// Not known (a constant item, the result of an opaque call).
    Unknown,
}

impl Kind {
    /// The kind of the result of an arithmetic operation on `self` and `other`.
    pub fn join(self, other: Kind) -> Kind {
        match (self, other) {
            (Kind::Float, _) | (_, Kind::Float) => Kind::Float,
            (Kind::Discrete, Kind::Discrete) => Kind::Discrete,
            _ => Kind::Unknown,
        }
    }
}

/// Where a value comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValueDef {
    /// The `n`th parameter of the function.
    Param(usize),
    /// The `n`th parameter of a block.
    BlockParam(Block, usize),
    /// The `n`th result of an instruction.
    Result(Inst, usize),
    /// The tangent of the `n`th parameter (forward mode).
    Tangent(usize),
}

#[derive(Clone, Debug)]
pub struct ValueData {
    /// The source variable this value is a version of, for readable generated code.
    pub name: Option<String>,
    pub def: ValueDef,
    pub kind: Kind,
}

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
    /// `w.field += value`, for a tuple field (`0`) or a named one.
    VarAccField {
        var: Var,
        field: syn::Member,
        value: Value,
    },
    /// The variable's value, moved out (its last read).
    VarGet(Var),
    /// The variable's value, leaving zero in it (a loop-carried adjoint at each iteration).
    VarTake(Var),
    /// `w[index]`, leaving zero there.
    VarTakeAt { var: Var, index: Value },
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
            | InstKind::VarTake(_)
            | InstKind::Count(_)
            | InstKind::Pop(_) => {}
            InstKind::Binary(_, a, b) | InstKind::Index(a, b) => {
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
            | InstKind::Cast { value: a, .. }
            | InstKind::Ascribe { value: a, .. }
            | InstKind::VarInit { value: a, .. }
            | InstKind::VarAcc { value: a, .. }
            | InstKind::VarSet { value: a, .. }
            | InstKind::VarAccField { value: a, .. }
            | InstKind::VarTakeAt { index: a, .. }
            | InstKind::VarTakeTo { shape: a, .. } => f(a),
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
            | InstKind::VarTakeTo { var, .. }
            | InstKind::VarUpdate { var, .. }
            | InstKind::VarGet(var)
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

#[derive(Clone, Debug)]
pub struct BlockData {
    pub params: Vec<Value>,
    pub insts: Vec<Inst>,
    pub term: Term,
}

/// One parameter of the differentiated function.
#[derive(Clone, Debug)]
pub struct Param {
    pub ident: syn::Ident,
    #[allow(dead_code)]
    pub ty: syn::Type,
    pub active: bool,
    pub value: Value,
}

/// A function in SSA form.
#[derive(Clone, Debug, Default)]
pub struct Func {
    pub values: Vec<ValueData>,
    pub insts: Vec<InstData>,
    pub blocks: Vec<BlockData>,
    pub params: Vec<Param>,
    pub body: Option<Block>,
    /// Mutable variables (adjoints, counters) of the pullback.
    pub vars: Vec<VarData>,
    /// Record stacks of loops.
    pub stacks: Vec<StackData>,
    /// The pullback, once reverse mode has run: its parameter is the seed, it returns the
    /// gradient of the active parameters; it may read the values of the body's top level.
    pub pullback: Option<Block>,
    /// Source variables declared `mut` (and `&mut` parameters): the generated code binds their
    /// versions `mut` too, since methods may change them in place.
    pub mutable_names: std::collections::HashSet<String>,
    /// Forward mode: the tangent parameter of each active parameter (primal, tangent).
    pub tangent_params: Vec<(Value, Value)>,
    /// The elementwise closures over arrays (`a.mapv(|v| ..)`), each a nested function that a
    /// call stands for (see [`crate::elementwise`]).
    pub maps: Vec<std::rc::Rc<crate::elementwise::ElemMap>>,
    /// Errors of closures over array elements that could not be lowered as nested functions
    /// and run as written instead: reported by `check` where a differentiated value reaches
    /// the code run as written (an [`InstKind::Opaque`]).
    pub map_errors: Vec<(Inst, Vec<syn::Error>)>,
}

/// A variable of the pullback.
#[derive(Clone, Debug)]
pub struct VarData {
    /// Readable name: `x_3_bar` for the adjoint of `x_3`.
    pub name: String,
}

/// A loop's record stack.
#[derive(Clone, Debug)]
pub struct StackData {
    /// The loop that pushes.
    pub owner: Inst,
}

impl Func {
    pub fn value(&self, v: Value) -> &ValueData {
        &self.values[v.index()]
    }
    pub fn inst(&self, i: Inst) -> &InstData {
        &self.insts[i.index()]
    }
    pub fn block(&self, b: Block) -> &BlockData {
        &self.blocks[b.index()]
    }
    pub fn block_mut(&mut self, b: Block) -> &mut BlockData {
        &mut self.blocks[b.index()]
    }
    pub fn body(&self) -> Block {
        self.body.expect("function has a body")
    }

    pub fn new_value(&mut self, name: Option<String>, def: ValueDef, kind: Kind) -> Value {
        let v = Value(self.values.len() as u32);
        self.values.push(ValueData { name, def, kind });
        v
    }

    pub fn new_block(&mut self) -> Block {
        let b = Block(self.blocks.len() as u32);
        self.blocks.push(BlockData {
            params: Vec::new(),
            insts: Vec::new(),
            term: Term::Yield(Vec::new()),
        });
        b
    }

    pub fn add_block_param(&mut self, b: Block, name: Option<String>, kind: Kind) -> Value {
        let n = self.block(b).params.len();
        let v = self.new_value(name, ValueDef::BlockParam(b, n), kind);
        self.block_mut(b).params.push(v);
        v
    }

    /// Appends an instruction with `n_results` results to `b`.
    pub fn push_inst(
        &mut self,
        b: Block,
        kind: InstKind,
        n_results: usize,
        result_kind: Kind,
        span: Span,
    ) -> Inst {
        let i = Inst(self.insts.len() as u32);
        self.insts.push(InstData {
            kind,
            results: Vec::new(),
            span,
        });
        let results = (0..n_results)
            .map(|n| self.new_value(None, ValueDef::Result(i, n), result_kind))
            .collect();
        self.insts[i.index()].results = results;
        self.block_mut(b).insts.push(i);
        i
    }

    /// `&a` (`a` itself or a version of it) where `a` is a fixed-size array:
    /// a parameter declared `[T; N]` or `&[T; N]`, or a local made from an array literal. The
    /// callee may take it as a slice and return a `Vec` for it.
    pub fn lent_array(&self, arg: Value) -> Option<Value> {
        let mut v = arg;
        while let ValueDef::Result(i, 0) = self.value(v).def {
            match self.inst(i).kind {
                InstKind::Ref(u) => v = u,
                _ => break,
            }
        }
        let mut cur = v;
        // Each step goes to a value defined earlier (a version's base, a loop's initial value, an
        // arm's result), so the walk ends; the bound is a guard all the same.
        for _ in 0..self.values.len() {
            match self.value(cur).def {
                // A version carried by a loop: the value it enters the loop with.
                ValueDef::BlockParam(b, k) => {
                    let owner = self.insts.iter().find_map(|inst| match &inst.kind {
                        InstKind::Loop {
                            kind, init, body, ..
                        } if *body == b => Some((kind.range().is_some(), init)),
                        _ => None,
                    });
                    match owner {
                        Some((indexed, init)) => {
                            let &i = k
                                .checked_sub(usize::from(indexed))
                                .and_then(|k| init.get(k))?;
                            cur = i;
                        }
                        None => return None,
                    }
                }
                ValueDef::Result(i, k) if k > 0 || self.is_join(i) => match &self.inst(i).kind {
                    InstKind::Loop { init, .. } => match init.get(k) {
                        Some(&i) => cur = i,
                        None => return None,
                    },
                    // An arm's result: the version one arm yields (they all have its type).
                    InstKind::If { then, els, .. } => {
                        match [*then, *els].iter().find_map(|&b| self.yielded(b, k)) {
                            Some(y) => cur = y,
                            None => return None,
                        }
                    }
                    InstKind::Match { arms, .. } => {
                        match arms.iter().find_map(|a| self.yielded(a.block, k)) {
                            Some(y) => cur = y,
                            None => return None,
                        }
                    }
                    _ => return None,
                },
                ValueDef::Param(n) => {
                    let ty = &self.params[n].ty;
                    let is_array = match ty {
                        syn::Type::Array(_) => true,
                        syn::Type::Reference(r) => {
                            r.mutability.is_none() && matches!(*r.elem, syn::Type::Array(_))
                        }
                        _ => false,
                    };
                    return is_array.then_some(v);
                }
                ValueDef::Result(i, 0) => match &self.inst(i).kind {
                    InstKind::IndexSet { base, .. } | InstKind::Mutate { base, .. } => {
                        cur = *base;
                    }
                    // `let b: [f64; 2] = ..`
                    InstKind::Ascribe {
                        ty: syn::Type::Array(_),
                        ..
                    } => return Some(v),
                    InstKind::Ascribe { value, .. } => cur = *value,
                    InstKind::Opaque { tokens, .. } => {
                        let literal = matches!(
                            syn::parse2::<syn::Expr>(tokens.clone()),
                            Ok(syn::Expr::Array(_) | syn::Expr::Repeat(_))
                        );
                        return literal.then_some(v);
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        None
    }

    /// Whether `i` joins versions of values: a loop or an `if`/`match` with results.
    fn is_join(&self, i: Inst) -> bool {
        matches!(
            self.inst(i).kind,
            InstKind::Loop { .. } | InstKind::If { .. } | InstKind::Match { .. }
        )
    }

    /// The `k`-th value block `b` yields, if it ends by yielding.
    fn yielded(&self, b: Block, k: usize) -> Option<Value> {
        match &self.block(b).term {
            Term::Yield(vals) => vals.get(k).copied(),
            _ => None,
        }
    }

    /// Operands an instruction reads directly (not those read inside its blocks).
    pub fn operands(&self, i: Inst) -> Vec<Value> {
        let mut out = Vec::new();
        self.inst(i).kind.each_operand(&mut |v| out.push(*v));
        out
    }

    /// Blocks an instruction owns.
    pub fn inst_blocks(&self, i: Inst) -> Vec<Block> {
        match &self.inst(i).kind {
            InstKind::If { then, els, .. } => vec![*then, *els],
            InstKind::Match { arms, .. } => arms.iter().map(|a| a.block).collect(),
            InstKind::MatchRecord { arms, .. } => arms.clone(),
            InstKind::Loop { body, .. } => vec![*body],
            InstKind::CkptSweep {
                advance,
                record,
                reverse,
                ..
            } => vec![*advance, *record, *reverse],
            _ => vec![],
        }
    }

    /// Values a terminator reads directly.
    pub fn term_operands(&self, b: Block) -> Vec<Value> {
        let mut out = Vec::new();
        self.block(b).term.each_operand(&mut |v| out.push(*v));
        out
    }

    /// Blocks a terminator owns.
    pub fn term_blocks(&self, b: Block) -> Vec<Block> {
        match &self.block(b).term {
            Term::Branch { then, els, .. } => vec![*then, *els],
            Term::Switch { arms, .. } => arms.iter().map(|a| a.block).collect(),
            _ => vec![],
        }
    }

    /// The versions of the `&mut` parameters: the parameters themselves, what element writes
    /// and mutations make of them, and what loops and branches carry of them. They are the
    /// caller's buffer, changed in place: the pullback must never hold on to one.
    pub fn borrowed_mut_versions(&self) -> std::collections::HashSet<Value> {
        let mut set: std::collections::HashSet<Value> = self
            .params
            .iter()
            .filter(|p| matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some()))
            .map(|p| p.value)
            .collect();
        if set.is_empty() {
            return set;
        }
        loop {
            let before = set.len();
            for (n, inst) in self.insts.iter().enumerate() {
                match &inst.kind {
                    InstKind::IndexSet { base, .. } | InstKind::Mutate { base, .. }
                        if set.contains(base) =>
                    {
                        set.insert(inst.results[0]);
                    }
                    InstKind::Loop { init, body, .. } => {
                        let params = &self.block(*body).params;
                        let carried = &params[params.len() - init.len()..];
                        for (k, v) in init.iter().enumerate() {
                            if set.contains(v) {
                                set.insert(carried[k]);
                                if let Some(&r) = inst.results.get(k) {
                                    set.insert(r);
                                }
                            }
                        }
                    }
                    InstKind::If { .. } | InstKind::Match { .. } => {
                        for arm in self.inst_blocks(Inst(n as u32)) {
                            if let Term::Yield(vals) = &self.block(arm).term {
                                for (k, v) in vals.iter().enumerate() {
                                    if set.contains(v) {
                                        if let Some(&r) = inst.results.get(k) {
                                            set.insert(r);
                                        }
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            if set.len() == before {
                return set;
            }
        }
    }

    pub fn new_var(&mut self, name: String) -> Var {
        let v = Var(self.vars.len() as u32);
        self.vars.push(VarData { name });
        v
    }

    pub fn new_stack(&mut self, owner: Inst) -> Stack {
        let s = Stack(self.stacks.len() as u32);
        self.stacks.push(StackData { owner });
        s
    }

    /// Every block nested in `b` (through instructions and terminators), `b` first.
    pub fn blocks_within(&self, b: Block) -> Vec<Block> {
        let mut out = vec![b];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i];
            for &inst in &self.block(cur).insts {
                out.extend(self.inst_blocks(inst));
            }
            out.extend(self.term_blocks(cur));
            i += 1;
        }
        out
    }

    /// A readable name for a value in generated code: `x_3` for versions of source
    /// variable `x`, `__ad_v3` for temporaries.
    pub fn value_ident(&self, v: Value) -> syn::Ident {
        syn::Ident::new(&self.value_name(v), Span::call_site())
    }

    /// [`Func::value_ident`] as text.
    pub fn value_name(&self, v: Value) -> String {
        match &self.value(v).name {
            Some(n) => format!("{}_{}", n.trim_start_matches("r#"), v.0),
            None => format!("__ad_v{}", v.0),
        }
    }
}

pub mod copy;
mod display;
pub mod verify;

/// The constant a lowered `sum()` starts from, spelt by code generation once the sum's type is
/// known: `-0.0` for floats, as the standard library's `sum` starts (the identity of IEEE
/// addition), `0` for integers.
pub fn sum_start() -> TokenStream {
    quote::quote!(__ad_sum_start)
}

/// Whether a constant's tokens are [`sum_start`]'s.
pub fn is_sum_start(t: &TokenStream) -> bool {
    t.to_string() == "__ad_sum_start"
}
