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

pub use self::inst::*;
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
    /// The kind of a container of kind `self` once `value` is written into it: a container of
    /// integers (or other data) stays one, whatever the macro knows of the value written
    /// (`ptr[i][j] = 1`, `v[i].extend_from_slice(&[0, 1])`), as Rust gives the value the
    /// elements' type.
    pub fn written(self, value: Kind) -> Kind {
        match self {
            Kind::Discrete => Kind::Discrete,
            k => k.join(value),
        }
    }

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

impl Param {
    /// Whether it is a `&mut` parameter that is not differentiated (left out of `wrt`, or of a
    /// type without a derivative): where the function only writes into it, a record for the
    /// caller (see `lower::sinks`).
    pub fn inactive_mut_ref(&self) -> bool {
        !self.active && matches!(&self.ty, syn::Type::Reference(r) if r.mutability.is_some())
    }

    /// Whether the parameter's tangent (in forward mode) is taken by reference: for a parameter
    /// taken by reference, and for an ndarray view, which borrows its array.
    pub fn tangent_by_ref(&self) -> bool {
        matches!(self.ty, syn::Type::Reference(_)) || crate::types::view_kind(&self.ty).is_some()
    }
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
    /// Struct literals (`Point { x: a, y: b }`), run as written until a differentiated value
    /// is found to reach the result through them: then each is the call of the literal's
    /// function that `#[derive(Differentiable)]` writes, `Point::__ad_literal`, with the field
    /// values in the order of the fields' names (see `check::struct_literals`).
    pub struct_literals: Vec<(Inst, syn::Path, Vec<Value>)>,
    /// Helper functions declared at the top of the body without `#[differentiate]`: a call
    /// of one on differentiated values names the attribute it needs.
    pub plain_helpers: Vec<String>,
    /// Calls and method calls whose value a statement drops (`c.set(x);`, `let _ = f(x);`):
    /// given a differentiated value, they are rejected (see `check::discarded_calls`) at the
    /// span beside each: the method's name or the function's path.
    pub discarded_calls: Vec<(Inst, proc_macro2::Span)>,
    /// Statements run as written that write into a `&mut` parameter left out of `wrt`
    /// (`stats.calls += 1;`, `stats.last = loss;`, `*evals += 1;`), each with that parameter:
    /// allowed where nothing else reads the parameter (see `check::sinks`).
    pub sinks: Vec<(Inst, Value)>,
    /// The instructions that read a `&mut` parameter left out of `wrt` into the local copy
    /// the function is followed with, whose every exit writes it back (`lower::copied`): reads
    /// before any write, which `check::sinks` allows.
    pub copy_ins: Vec<Inst>,
    /// Versions of fixed-size arrays that a helper's copy taking them as arrays gave back
    /// (`y = __ad_muta_fill(x, y)`, see `crate::mut_self`): arrays for [`Func::lent_array`].
    pub array_buffers: std::collections::HashSet<Value>,
    /// Calls of a helper's by-value copy (`y = __ad_mut_fill(x, y)`, `s = State::__ad_mut_step(s,
    /// dt)`, see `crate::mut_self`) and which arguments the source lent `&mut`: where nothing
    /// differentiated reaches such a call it runs as the source wrote it, so that a helper
    /// without `#[differentiate]` (which has no copy) works on data.
    /// The positions of the lent arguments in the call (the receiver, `0`, for a `&mut self`
    /// method); whether the copy returns the result too is in its name
    /// (`crate::mut_self::returns_with_value`).
    pub buffer_calls: std::collections::HashMap<Inst, Vec<usize>>,
    /// Code run as written that calls a method through the guard of a cell kept in a field
    /// (`self.rng.borrow_mut().next_f64()`), given data only: a `RefCell`, `Mutex` or `RwLock`
    /// has no derivative, so a derived struct holds it as data, and the result is a constant
    /// though the struct is differentiated (`check` does not report it).
    pub data_guards: std::collections::HashSet<Inst>,
    /// The function's type parameters (`L` of `fn total<L: Loss>`): a method called on a
    /// parameter of one goes through its trait bound, which `check` names in its error.
    pub type_params: Vec<String>,
    /// Those of them not bounded by a float trait: an associated function called through one
    /// (`A::apply(x)` of `fn net<A: Activation>`) goes through its trait, which `check` names
    /// in its error.
    pub trait_params: Vec<String>,
    /// The declared result type, where the function has one: a float there types the
    /// literals a returned value starts from (see `scalars::analyze`).
    pub ret_ty: Option<syn::Type>,
    /// The float types (`f64`, `f32`) the function's text names, its signature and its body:
    /// where it names one, a literal of a type nothing decides is of that type (see
    /// `scalars::analyze`).
    pub float_names: Vec<String>,
    /// Statements that use a map, a deque or a cell (`m.insert(k, v)`, `c.borrow_mut()`): the
    /// derivative follows none of them, and one that a differentiated value reaches is
    /// rejected (see `check::unfollowed`).
    pub unfollowed: Vec<Unfollowed>,
}

/// A statement using a variable of a type the derivative does not follow (see
/// `lower::unfollowed`).
#[derive(Clone, Debug)]
pub struct Unfollowed {
    /// The variable and its type's name (`HashMap`, `RefCell`).
    pub name: String,
    pub ty: &'static str,
    /// The variable borrows one (`let b = c.borrow_mut();`).
    pub borrow: bool,
    /// Where the statement names it first.
    pub span: proc_macro2::Span,
    /// The variable's values after the statement, and the values the statement binds from it.
    pub values: Vec<Value>,
    /// The instructions of a statement that works on the variable (`m.insert(k, x)`): one
    /// given a differentiated value puts that value in it.
    pub insts: std::ops::Range<usize>,
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

    /// `a` (or `&a`) where `a` is a parameter of a one-dimensional ndarray type (`&Array1<f64>`,
    /// `ArrayView1<T>`, `&Array<f64, Ix1>`): `a.to_vec()` of it has a `Vec` for adjoint, which
    /// is converted back to the array's gradient.
    pub fn ndarray_param(&self, arg: Value) -> Option<Value> {
        let mut v = arg;
        while let ValueDef::Result(i, 0) = self.value(v).def {
            match self.inst(i).kind {
                InstKind::Ref(u) => v = u,
                _ => break,
            }
        }
        let ValueDef::Param(n) = self.value(v).def else {
            return None;
        };
        let mut ty = &self.params[n].ty;
        while let syn::Type::Reference(r) = ty {
            ty = &r.elem;
        }
        let syn::Type::Path(tp) = ty else {
            return None;
        };
        let last = tp.path.segments.last()?;
        let name = last.ident.to_string();
        let one_dim = matches!(name.as_str(), "Array1" | "ArrayView1")
            || (name == "Array"
                && matches!(&last.arguments, syn::PathArguments::AngleBracketed(a)
                    if a.args.iter().any(|g| matches!(g, syn::GenericArgument::Type(syn::Type::Path(d))
                        if d.path.segments.last().is_some_and(|s| s.ident == "Ix1")))));
        one_dim.then_some(v)
    }

    /// The span of parameter `v`'s name where it is declared as an ndarray view
    /// (`b: ArrayView1<'_, f64>`, not a reference to one).
    pub fn view_param(&self, v: Value) -> Option<Span> {
        let ValueDef::Param(n) = self.value(v).def else {
            return None;
        };
        let p = self.params.get(n)?;
        let by_value = !matches!(p.ty, syn::Type::Reference(_));
        (by_value && crate::types::view_kind(&p.ty).is_some()).then(|| p.ident.span())
    }

    /// Whether `kind` is `insert_axis` or `into_shape_with_order` of an owned array, which it
    /// moves: what it made cannot be computed again later, nor the array read after it.
    pub fn moves_owned_array(&self, kind: &InstKind) -> bool {
        matches!(kind, InstKind::Prim { prim, args, .. }
            if RESHAPES_BY_VALUE.contains(&prim.name())
                && !args.first().is_some_and(|&a| self.is_view(a)))
    }

    /// Whether `arg` is a parameter, or a view of one (`x.row(i)`, `x.slice(..).t()`), with
    /// the lifetime of the parameters.
    pub fn view_of_param(&self, arg: Value) -> bool {
        let mut v = self.strip_ref(arg);
        for _ in 0..self.values.len() {
            v = match self.value(v).def {
                ValueDef::Param(_) => return true,
                ValueDef::Result(i, 0) => match &self.inst(i).kind {
                    InstKind::Prim { prim, args, .. }
                        if prim.has(crate::prim::Flags::VIEW) && !args.is_empty() =>
                    {
                        self.strip_ref(args[0])
                    }
                    _ => return false,
                },
                _ => return false,
            };
        }
        false
    }

    /// Whether `arg` is an ndarray view, or a reference to one: what a view method
    /// (`a.row(i)`, `x.view()`, `a.slice(..)`) made, or a parameter of a view type. Its tangent
    /// is a view too, copied into an owned array where a callee takes it.
    /// A value a pullback keeps on a loop's stack or in an arm's record is the view it keeps.
    pub fn is_view(&self, arg: Value) -> bool {
        let mut v = self.strip_ref(arg);
        // Each step goes back to a value the forward pass made, earlier; the bound is a guard.
        for _ in 0..self.values.len() {
            v = match self.value(v).def {
                ValueDef::Result(i, k) => match &self.inst(i).kind {
                    // `insert_axis` and `into_shape_with_order` take their receiver by value:
                    // of an owned array they are an owned array (`(&a * &b).insert_axis(Axis(1))`),
                    // of a view a view (`x.view().into_shape_with_order((2, 3))`).
                    InstKind::Prim { prim, args, .. }
                        if k == 0 && RESHAPES_BY_VALUE.contains(&prim.name()) =>
                    {
                        self.strip_ref(args[0])
                    }
                    InstKind::Prim { prim, .. } if k == 0 => {
                        return prim.has(crate::prim::Flags::VIEW);
                    }
                    InstKind::Pop(stack) => match self.pushed(stack, k) {
                        Some(p) => self.strip_ref(p),
                        None => return false,
                    },
                    _ => return false,
                },
                ValueDef::BlockParam(b, k) => match self.recorded(b, k) {
                    Some(p) => self.strip_ref(p),
                    None => return false,
                },
                _ => return self.view_param(v).is_some(),
            };
        }
        false
    }

    /// The `k`-th value the forward sweep pushes on `stack`: what the pullback's `k`-th pop of
    /// it reads back.
    pub fn pushed(&self, stack: &Stack, k: usize) -> Option<Value> {
        self.insts.iter().find_map(|inst| match &inst.kind {
            InstKind::Push { stack: s, values } if s == stack => values.get(k).copied(),
            _ => None,
        })
    }

    /// The value that the `k`-th binding of `b`, an arm of a record's `match` (the pullback
    /// reading what the forward sweep kept), was made from: the `k`-th value of its record.
    pub fn recorded(&self, b: Block, k: usize) -> Option<Value> {
        self.insts.iter().find_map(|inst| match &inst.kind {
            InstKind::MatchRecord { of, arms, .. } => {
                let variant = arms.iter().position(|&a| a == b)?;
                self.insts.iter().find_map(|m| match &m.kind {
                    InstKind::MakeRecord {
                        of: o,
                        variant: n,
                        values,
                    } if o == of && *n == variant => values.get(k).copied(),
                    _ => None,
                })
            }
            _ => None,
        })
    }

    /// Reads through `&x` (and `&&x`): the value referred to.
    pub fn strip_ref(&self, v: Value) -> Value {
        if let ValueDef::Result(i, 0) = self.value(v).def {
            if let InstKind::Ref(u) = self.inst(i).kind {
                return self.strip_ref(u);
            }
        }
        v
    }

    /// The version of a variable that `v` was made from, where `v` is a new version of the same
    /// array: a loop's, `if`'s or `match`'s result (the initial value, or what one arm yields),
    /// an element written (`a[[i, j]] = ..`) or a mutation's result (its base). (A loop's block
    /// parameter is read while its body is lowered, before the loop exists: the lowering keeps
    /// the value it enters with, `Lowering::carried_init`.)
    pub fn earlier_version(&self, v: Value) -> Option<Value> {
        match self.value(v).def {
            ValueDef::Result(i, k) if k > 0 || self.is_join(i) => match &self.inst(i).kind {
                InstKind::Loop { init, .. } => init.get(k).copied(),
                InstKind::If { then, els, .. } => {
                    [*then, *els].iter().find_map(|&b| self.yielded(b, k))
                }
                InstKind::Match { arms, .. } => arms.iter().find_map(|a| self.yielded(a.block, k)),
                _ => None,
            },
            ValueDef::Result(i, 0) => match &self.inst(i).kind {
                InstKind::IndexSet { base, .. } | InstKind::Mutate { base, .. } => Some(*base),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value the `k`th parameter of block `b` enters its loop with, where `b` is a loop's
    /// body: `Some(None)` for the index of a range loop, `None` if `b` is not a loop's body.
    pub fn loop_entry(&self, b: Block, k: usize) -> Option<Option<Value>> {
        self.insts.iter().find_map(|inst| match &inst.kind {
            InstKind::Loop {
                kind, init, body, ..
            } if *body == b => Some(
                k.checked_sub(usize::from(kind.range().is_some()))
                    .and_then(|k| init.get(k).copied()),
            ),
            _ => None,
        })
    }

    /// `&rows[i]` (the row itself, an element read), where `rows` holds rows of floats
    /// (`&[[f64; 2]]`, `[[f64; 2]; 3]`, `Vec<[f64; 2]>`, `&[Vec<f64>]`, the items of `for x in
    /// rows`): a row lent to a callee that may take it as a slice and return a `Vec` for it,
    /// which the row's gradient is made of as a whole array's is ([`Func::lent_array`]).
    pub fn lent_row(&self, tys: &crate::scalars::Types, arg: Value) -> Option<Value> {
        let v = self.strip_ref(arg);
        let ValueDef::Result(i, 0) = self.value(v).def else {
            return None;
        };
        let InstKind::Index(base, _) = self.inst(i).kind else {
            return None;
        };
        if matches!(tys.of(base), crate::scalars::Ty::Rows(_)) {
            return Some(v);
        }
        // A local `Vec` whose rows are arrays pushed into it (`vec![[a, b], [c, d]]`,
        // `rows.push([a, b])`), which the types do not follow.
        let mut cur = base;
        for _ in 0..self.values.len() {
            let ValueDef::Result(m, 0) = self.value(cur).def else {
                return None;
            };
            match &self.inst(m).kind {
                InstKind::Mutate { base, args, .. } => {
                    if args.iter().any(|&a| self.lent_array(a).is_some()) {
                        return Some(v);
                    }
                    cur = *base;
                }
                _ => return None,
            }
        }
        None
    }

    /// The value `w` witnesses the type of, where `w` is a [`InstKind::TypeOf`], or what the
    /// pullback reads back of one (a loop stack's pop, a branch record's binding).
    pub fn type_witnessed(&self, w: Value) -> Option<Value> {
        let mut cur = w;
        // Each step goes to a value of the forward pass the pullback read, so the walk ends;
        // the bound is a guard all the same.
        for _ in 0..self.values.len() {
            match self.value(cur).def {
                ValueDef::Result(i, k) => match &self.inst(i).kind {
                    InstKind::TypeOf(v) => return Some(*v),
                    InstKind::Pop(stack) => cur = self.pushed(stack, k)?,
                    _ => return None,
                },
                ValueDef::BlockParam(b, k) if self.loop_entry(b, k).is_none() => {
                    cur = self.recorded(b, k)?;
                }
                _ => return None,
            }
        }
        None
    }

    /// `&s.f` (a field of a struct, lent): the field, whose type the macro does not know. A
    /// callee that takes it as a slice returns a `Vec` for a field declared as an array, which
    /// the field's gradient is made of (a `GradAs` of the field).
    pub fn lent_field(&self, arg: Value) -> Option<Value> {
        let v = self.strip_ref(arg);
        let ValueDef::Result(i, 0) = self.value(v).def else {
            return None;
        };
        matches!(self.inst(i).kind, InstKind::FieldRef(..)).then_some(v)
    }

    /// `&a` (`a` itself or a version of it) where `a` is a fixed-size array:
    /// a parameter declared `[T; N]` or `&[T; N]`, a local made from an array literal, or one
    /// a helper's copy for arrays gave back. The callee may take it as a slice and return a
    /// `Vec` for it.
    pub fn lent_array(&self, arg: Value) -> Option<Value> {
        self.lent_walk(arg, false)
    }

    /// `&a` where `a` is what a call returned (`let x = step(x0, u);`, `self.f(x, u)`, a part of
    /// a tuple one returned, an element of one, or a version of such a value carried by a loop
    /// or yielded by a branch), not known to be an array by [`Func::lent_array`]: the macro does not see the
    /// callee's result type, which may be a fixed-size array that a callee taking a slice (a
    /// `dot(a: &[f64], b: &[f64])` helper, `v.extend_from_slice(&x)`) returns a `Vec` for. Its
    /// gradient and tangent go through the conversions of a lent field, which take a value of
    /// any type as it is and a `Vec` for an array.
    pub fn lent_unseen(&self, arg: Value) -> Option<Value> {
        let ValueDef::Result(i, 0) = self.value(arg).def else {
            return None;
        };
        if !matches!(self.inst(i).kind, InstKind::Ref(_)) {
            return None;
        }
        let v = self.strip_ref(arg);
        self.is_unseen(v).then_some(v)
    }

    /// Whether `v` is a value [`Func::lent_unseen`] takes: what a call returned, not known to be
    /// an array.
    pub fn is_unseen(&self, v: Value) -> bool {
        self.lent_array(v).is_none() && self.lent_walk(v, true).is_some()
    }

    /// The walk of [`Func::lent_array`] back through versions of `arg`; with `unseen`, a call's
    /// result (or a tuple field of one) ends it as [`Func::lent_unseen`]'s value.
    fn lent_walk(&self, arg: Value, unseen: bool) -> Option<Value> {
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
            if self.array_buffers.contains(&cur) {
                return Some(v);
            }
            // What the pullback pops of a loop's stack (an array made or written in a loop and
            // lent there, under `hessian`): the value the forward sweep pushed.
            if let ValueDef::Result(i, k) = self.value(cur).def
                && let InstKind::Pop(stack) = &self.inst(i).kind
            {
                cur = self.strip_ref(self.pushed(stack, k)?);
                continue;
            }
            match self.value(cur).def {
                // A version carried by a loop: the value it enters the loop with.
                ValueDef::BlockParam(b, k) => match self.loop_entry(b, k) {
                    Some(Some(i)) => cur = i,
                    Some(None) => return None,
                    // What the pullback reads back of the forward sweep (an array made in a
                    // branch and lent there, under `hessian`): the value it kept.
                    None => cur = self.strip_ref(self.recorded(b, k)?),
                },
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
                    // (A receiver is bound before it is a parameter here.)
                    let ty = &self.params.get(n)?.ty;
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
                    // The new version of a buffer a helper wrote (`pair_step(x, &mut s);` is
                    // `s = __ad_mut_pair_step(x, s)`, see `crate::mut_self`): of the type of
                    // the version passed in, an argument taken by value.
                    kind if kind.mut_copy_args().is_some() => {
                        let args = kind.mut_copy_args().unwrap_or_default();
                        return self.buffer_arg_array(i, args).then_some(v);
                    }
                    InstKind::Field(base, _) => match self.value(*base).def {
                        ValueDef::Result(c, 0) => match self.inst(c).kind.mut_copy_args() {
                            Some(args) => return self.buffer_arg_array(c, args).then_some(v),
                            None => {
                                return (unseen && self.inst(c).kind.is_call()).then_some(v);
                            }
                        },
                        _ => return None,
                    },
                    kind if kind.is_call() => return unseen.then_some(v),
                    // An element of what a call returned (`&traj[k]` of `let traj =
                    // rollout(x0, us);`, the items of `for s in &traj`): a row of a type the
                    // macro does not see either.
                    InstKind::Index(base, _) if unseen => {
                        let rows = self.lent_array(*base).is_none()
                            && self.lent_walk(*base, true).is_some();
                        return rows.then_some(v);
                    }
                    // The start of an array literal of differentiated values, `[x, 2.0 * x]`,
                    // which is then written element by element (the defaults it starts from
                    // made by `core::array::from_fn`, see `lower::build`).
                    InstKind::Opaque { tokens, .. } | InstKind::Const(tokens) => {
                        let literal = match syn::parse2::<syn::Expr>(tokens.clone()) {
                            Ok(syn::Expr::Array(_) | syn::Expr::Repeat(_)) => true,
                            Ok(syn::Expr::Call(c)) => matches!(&*c.func, syn::Expr::Path(p)
                                if p.path.segments.len() >= 2
                                    && p.path.segments.iter().rev().take(2).map(|s| s.ident.to_string()).eq(["from_fn", "array"])),
                            _ => false,
                        };
                        return literal.then_some(v);
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        None
    }

    /// Whether an argument a helper's by-value copy takes as it is (its buffers are such: the
    /// versions of the variables lent `&mut`) is an array: the copy's result, or the part of
    /// it that is a buffer, then is one too. Where the call `call` says which arguments the
    /// source lent `&mut` ([`Func::buffer_calls`]), only those are buffers: an array passed by
    /// value beside them (`b.kick([ax, ay], dt)` of a `&mut self` method) is not given back.
    fn buffer_arg_array(&self, call: Inst, args: &[Value]) -> bool {
        let lent = self.buffer_calls.get(&call);
        args.iter().enumerate().any(|(k, &a)| {
            let by_ref = matches!(
                self.value(a).def,
                ValueDef::Result(i, 0) if matches!(self.inst(i).kind, InstKind::Ref(_))
            );
            let buffer = lent.is_none_or(|l| l.contains(&k));
            buffer && !by_ref && self.lent_array(a).is_some()
        })
    }

    /// Whether `i` joins versions of values: a loop or an `if`/`match` with results.
    fn is_join(&self, i: Inst) -> bool {
        matches!(
            self.inst(i).kind,
            InstKind::Loop { .. } | InstKind::If { .. } | InstKind::Match { .. }
        )
    }

    /// The `k`-th value block `b` yields, if it ends by yielding.
    pub fn yielded(&self, b: Block, k: usize) -> Option<Value> {
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
            InstKind::InlinePullback { body } => vec![*body],
            _ => vec![],
        }
    }

    /// The pullback's root, then the roots of the in-place pullbacks of reduction loops'
    /// iterations (see [`crate::fuse`]): every block of the pullback is within one of them.
    pub fn pullback_roots(&self) -> Vec<Block> {
        let in_place = self.insts.iter().filter_map(|i| match i.kind {
            InstKind::InlinePullback { body } => Some(body),
            _ => None,
        });
        self.pullback.into_iter().chain(in_place).collect()
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

    /// Values that code run as written may change in place without making a new version: the
    /// receivers of methods that may change them (`w.shuffle(&mut rng)` of a `mut` data
    /// array), with the values they are read from (`rows` of `rows[i].shuffle(..)`), and, with
    /// `through_macros`, what the user's macro calls read (`bump!(a)`).
    pub fn changed_in_place(&self, through_macros: bool) -> std::collections::HashSet<Value> {
        let mut out = std::collections::HashSet::new();
        for inst in &self.insts {
            let roots = match &inst.kind {
                InstKind::Method {
                    name,
                    recv,
                    recv_mut: Some(_),
                    ..
                } if !reads_only(&name.to_string()) => vec![*recv],
                // The user's macros: what the standard ones that print or check read, and the
                // code the macro writes itself (struct literals, comparisons), stays as it is.
                InstKind::Opaque {
                    uses, mac: Some(m), ..
                } if through_macros && !crate::prim::is_output_macro(m) && m != "vec" => {
                    uses.iter().map(|&(_, v)| v).collect()
                }
                _ => continue,
            };
            for mut v in roots {
                while out.insert(v) {
                    let ValueDef::Result(i, _) = self.value(v).def else {
                        break;
                    };
                    v = match &self.inst(i).kind {
                        InstKind::Ref(a)
                        | InstKind::Deref(a)
                        | InstKind::Field(a, _)
                        | InstKind::FieldRef(a, _)
                        | InstKind::Index(a, _)
                        | InstKind::Ascribe { value: a, .. } => *a,
                        _ => break,
                    };
                }
            }
        }
        out
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
            Some(n) => format!("{}_{}", n.replace("r#", ""), v.0),
            None => format!("__ad_v{}", v.0),
        }
    }
}

pub mod copy;
mod display;
mod inst;
pub mod verify;

/// The constant a lowered `sum()` starts from, spelt by code generation once the sum's type is
/// known: `-0.0` for floats, as the standard library's `sum` starts (the identity of IEEE
/// addition), `0` for integers.
/// The reshapes that take their receiver by value: of an owned array they are an owned array,
/// of a view a view.
const RESHAPES_BY_VALUE: &[&str] = &["insert_axis", "into_shape_with_order"];

pub fn sum_start() -> TokenStream {
    quote::quote!(__ad_sum_start)
}

/// The constant a lowered `product()` starts from, spelt by code generation once the product's
/// type is known: `1.0` for floats, `1` for integers (`(1..=k).product::<usize>()`).
pub fn product_start() -> TokenStream {
    quote::quote!(__ad_product_start)
}

/// Whether a constant's tokens are [`product_start`]'s.
pub fn is_product_start(t: &TokenStream) -> bool {
    is_marker(t, "__ad_product_start")
}

/// The cotangent of an element a mutation returned that nothing read (`v.pop();`), spelt by
/// code generation: `0.0` of the element's type where it is a float the macro knows, else the
/// runtime's `place::unread()`, a zero of a float type that rustc infers (and an error that
/// says so for a `Vec` of parameter structs, whose zero needs a shape).
pub fn unread_elem() -> TokenStream {
    quote::quote!(__ad_unread_elem)
}

/// Whether a constant's tokens are [`unread_elem`]'s.
pub fn is_unread_elem(t: &TokenStream) -> bool {
    is_marker(t, "__ad_unread_elem")
}

/// Whether a constant's tokens are [`sum_start`]'s.
pub fn is_sum_start(t: &TokenStream) -> bool {
    is_marker(t, "__ad_sum_start")
}

/// Whether a constant's tokens are the one identifier `name` (checked for every constant
/// printed, so without formatting the tokens).
fn is_marker(t: &TokenStream, name: &str) -> bool {
    let mut tokens = t.clone().into_iter();
    matches!(
        (tokens.next(), tokens.next()),
        (Some(proc_macro2::TokenTree::Ident(id)), None) if id == name
    )
}

impl InstKind {
    /// Whether this is a call of a function (in any of its generated forms).
    pub fn is_call(&self) -> bool {
        matches!(
            self,
            InstKind::Call { .. }
                | InstKind::CallVjp { .. }
                | InstKind::CallJvp { .. }
                | InstKind::CallVjpJvp { .. }
                | InstKind::CallAlong { .. }
        )
    }

    /// The arguments of a call of the by-value copy of a helper that writes into `&mut`
    /// buffers (`__ad_mut_f`, `__ad_mutv_f`: see `crate::mut_self::copy_name`), in any of the
    /// forms a call takes through the passes: its result holds the buffers' new versions.
    pub fn mut_copy_args(&self) -> Option<&[Value]> {
        let (path, args) = match self {
            InstKind::Call { path, args }
            | InstKind::CallVjp { path, args }
            | InstKind::CallJvp { path, args, .. }
            | InstKind::CallVjpJvp { path, args, .. }
            | InstKind::CallAlong { path, args, .. } => (path, args),
            _ => return None,
        };
        let copy = path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().starts_with("__ad_mut"));
        copy.then_some(&args[..])
    }
}

/// Methods of the standard library and ndarray that only read their receiver, called on a
/// `mut` variable without changing it (`w.len()`, `w.iter()`, `w.get(i)`).
pub(crate) fn reads_only(name: &str) -> bool {
    crate::prim::is_discrete_method(name)
        || crate::lower::calls::is_shape_query(name)
        || matches!(
            name,
            "iter"
                | "get"
                | "first"
                | "last"
                | "contains"
                | "starts_with"
                | "ends_with"
                | "as_slice"
                | "as_ref"
                | "clone"
                | "to_vec"
                | "to_owned"
                | "capacity"
                | "windows"
                | "chunks"
                | "view"
                | "row"
                | "column"
                | "rows"
                | "columns"
                | "outer_iter"
                | "axis_iter"
                | "indexed_iter"
                | "split_at"
                | "split_first"
                | "split_last"
                | "eq"
                | "ne"
                | "cmp"
                | "to_string"
                | "borrow"
                | "copied"
                | "cloned"
                | "unwrap"
                | "unwrap_or"
                | "expect"
                | "as_deref"
        )
}
