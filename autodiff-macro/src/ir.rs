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
    /// `recv.name(args)`. Known float methods have derivative rules; other methods must only
    /// see inactive values.
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
    /// A loop. The body's parameters are the loop-carried values (after the index for `for`);
    /// `init` gives their first values. It ends in `Continue` (next iteration, with the new
    /// carried values) or `Break` (leave, carried values become the results); `Return` inside
    /// a loop is rejected by the lowering.
    Loop {
        kind: LoopKind,
        init: Vec<Value>,
        body: Block,
    },
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

    /// Operands an instruction reads directly (not those read inside its blocks).
    pub fn operands(&self, i: Inst) -> Vec<Value> {
        match &self.inst(i).kind {
            InstKind::Const(_) => vec![],
            InstKind::Binary(_, a, b) | InstKind::Index(a, b) => vec![*a, *b],
            InstKind::Neg(a)
            | InstKind::Field(a, _)
            | InstKind::FieldRef(a, _)
            | InstKind::Deref(a) => {
                vec![*a]
            }
            InstKind::Cast { value, .. } | InstKind::Ascribe { value, .. } => vec![*value],
            InstKind::Ref(v) => vec![*v],
            InstKind::Tuple(vs) => vs.clone(),
            InstKind::IndexSet { base, index, value } => vec![*base, *index, *value],
            InstKind::Method { recv, args, .. } => {
                let mut v = vec![*recv];
                v.extend(args);
                v
            }
            InstKind::Call { args, .. } => args.clone(),
            InstKind::Opaque { uses, .. } => uses.iter().map(|(_, v)| *v).collect(),
            InstKind::If { cond, .. } => vec![*cond],
            InstKind::Match {
                scrutinee, arms, ..
            } => {
                let mut v = vec![*scrutinee];
                for arm in arms {
                    v.extend(arm.guard_uses.iter().map(|(_, v)| *v));
                }
                v
            }
            InstKind::Loop { kind, init, .. } => {
                let mut v = Vec::new();
                if let LoopKind::Range { start, end, .. } = kind {
                    v.push(*start);
                    v.push(*end);
                }
                v.extend(init);
                v
            }
        }
    }

    /// Blocks an instruction owns.
    pub fn inst_blocks(&self, i: Inst) -> Vec<Block> {
        match &self.inst(i).kind {
            InstKind::If { then, els, .. } => vec![*then, *els],
            InstKind::Match { arms, .. } => arms.iter().map(|a| a.block).collect(),
            InstKind::Loop { body, .. } => vec![*body],
            _ => vec![],
        }
    }

    /// Values a terminator reads directly.
    pub fn term_operands(&self, b: Block) -> Vec<Value> {
        match &self.block(b).term {
            Term::Yield(vs) | Term::Continue(vs) | Term::Break(vs) => vs.clone(),
            Term::Return(v) => vec![*v],
            Term::Branch { cond, .. } => vec![*cond],
            Term::Switch { scrutinee, arms } => {
                let mut v = vec![*scrutinee];
                for arm in arms {
                    v.extend(arm.guard_uses.iter().map(|(_, v)| *v));
                }
                v
            }
        }
    }

    /// Blocks a terminator owns.
    pub fn term_blocks(&self, b: Block) -> Vec<Block> {
        match &self.block(b).term {
            Term::Branch { then, els, .. } => vec![*then, *els],
            Term::Switch { arms, .. } => arms.iter().map(|a| a.block).collect(),
            _ => vec![],
        }
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
        let name = match &self.value(v).name {
            Some(n) => format!("{}_{}", n.trim_start_matches("r#"), v.0),
            None => format!("__ad_v{}", v.0),
        };
        syn::Ident::new(&name, Span::call_site())
    }
}

fn list(vs: &[Value]) -> String {
    vs.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Func {
    fn fmt_block(&self, f: &mut fmt::Formatter<'_>, b: Block, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let data = self.block(b);
        writeln!(f, "{pad}{b}({}):", list(&data.params))?;
        for &i in &data.insts {
            let inst = self.inst(i);
            let res = list(&inst.results);
            let lhs = if res.is_empty() {
                String::new()
            } else {
                format!("{res} = ")
            };
            let body = match &inst.kind {
                InstKind::Const(t) => format!("const {t}"),
                InstKind::Binary(op, a, b) => format!("{} {a}, {b}", op.name()),
                InstKind::Neg(a) => format!("neg {a}"),
                InstKind::Method {
                    name, recv, args, ..
                } => {
                    format!(
                        "method {name} {recv}{}{}",
                        if args.is_empty() { "" } else { ", " },
                        list(args)
                    )
                }
                InstKind::Call { path, args } => {
                    format!("call {} {}", quote::quote!(#path), list(args))
                }
                InstKind::Cast { value, ty } => format!("cast {value} as {}", quote::quote!(#ty)),
                InstKind::Ascribe { value, ty } => {
                    format!("ascribe {value}: {}", quote::quote!(#ty))
                }
                InstKind::Ref(v) => format!("ref {v}"),
                InstKind::Tuple(vs) => format!("tuple {}", list(vs)),
                InstKind::Field(v, n) => format!("field {v}.{n}"),
                InstKind::FieldRef(v, n) => format!("fieldref {v}.{n}"),
                InstKind::Deref(v) => format!("deref {v}"),
                InstKind::Index(a, b) => format!("index {a}[{b}]"),
                InstKind::IndexSet { base, index, value } => {
                    format!("indexset {base}[{index}] = {value}")
                }
                InstKind::Opaque { tokens, uses, .. } => format!(
                    "opaque `{tokens}` {}",
                    list(&uses.iter().map(|(_, v)| *v).collect::<Vec<_>>())
                ),
                InstKind::If { cond, .. } => format!("if {cond}"),
                InstKind::Match { scrutinee, .. } => format!("match {scrutinee}"),
                InstKind::Loop { kind, init, .. } => match kind {
                    LoopKind::Range {
                        start,
                        end,
                        inclusive,
                        rev,
                    } => format!(
                        "for {start}..{}{end}{} init {}",
                        if *inclusive { "=" } else { "" },
                        if *rev { " rev" } else { "" },
                        list(init)
                    ),
                    LoopKind::Infinite => format!("loop init {}", list(init)),
                },
            };
            writeln!(f, "{pad}  {lhs}{body}")?;
            for nested in self.inst_blocks(i) {
                self.fmt_block(f, nested, depth + 2)?;
            }
        }
        match &data.term {
            Term::Yield(vs) => writeln!(f, "{pad}  yield {}", list(vs)),
            Term::Continue(vs) => writeln!(f, "{pad}  continue {}", list(vs)),
            Term::Break(vs) => writeln!(f, "{pad}  break {}", list(vs)),
            Term::Return(v) => writeln!(f, "{pad}  return {v}"),
            Term::Branch { cond, then, els } => {
                writeln!(f, "{pad}  branch {cond}")?;
                self.fmt_block(f, *then, depth + 2)?;
                self.fmt_block(f, *els, depth + 2)
            }
            Term::Switch { scrutinee, arms } => {
                writeln!(f, "{pad}  switch {scrutinee}")?;
                for arm in arms {
                    self.fmt_block(f, arm.block, depth + 2)?;
                }
                Ok(())
            }
        }
    }
}

/// Prints the function as text: `v3 = mul v1, v2`, nested blocks indented.
impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                format!(
                    "{}{}: {}",
                    p.value,
                    if p.active { " active" } else { "" },
                    p.ident
                )
            })
            .collect();
        writeln!(f, "fn({}):", params.join(", "))?;
        match self.body {
            Some(b) => self.fmt_block(f, b, 1),
            None => Ok(()),
        }
    }
}
