//! Lowering: from a `syn` function to the SSA [`Func`].
//!
//! # The accepted subset of Rust
//!
//! - parameters `x: T` and `mut x: T` (no patterns, no generics, no `self`); a return type;
//! - `let` with or without a type, `let (a, b) = ..` (nested tuples too), `let _ = ..`, `let x;`
//!   and `let (a, b);` assigned later; shadowing; `=`, `+=`, `-=`, `*=`, `/=` on variables;
//! - literals, constant paths (`std::f64::consts::PI`, `MY_CONST`), `as` casts, `+ - * /`,
//!   unary `-`, parentheses, tuples and `.0`, blocks as expressions, `&x`;
//! - comparisons, `!`, `&&`, `||` and bit operations (their results are discrete; `&&` and
//!   `||` are `if`s, so their right side runs only when Rust runs it);
//! - the methods of the primitive table ([`crate::prim`]), as methods or as `f64::exp(x)`;
//!   shape queries (`len`, `nrows`, `dim`, …) with discrete results;
//! - `if`/`else if`/`else` and `match` (arms with guards), as statements or expressions;
//! - `for i in a..b` / `a..=b` / `(a..b).rev()`, loops over slices, `while`, `loop`, `break`,
//!   `continue`, and `return` anywhere (inside loops it becomes a loop-carried value and flag;
//!   the return type must implement `Default` for that);
//! - iterator chains over slices, `Vec`s, arrays, ranges and windows, lowered to index loops
//!   ([`iter`], [`consume`], [`best`]); closures, expanded where they are called
//!   ([`closures`]); `vec![..]`, array literals and pushes ([`build`]);
//! - calls: with an active argument, `g(..)` is differentiated through `g_vjp(..)`; otherwise it
//!   is called as written; macros (`println!`, `assert!`) run as written, never differentiated
//!   ([`written`]).
//!
//! Anything else is a spanned error that says what to write instead. Errors are collected; the
//! lowering keeps going after one so that every problem of a function is reported at once.
//!
//! Divergence: when an `if` or `match` contains `return`, `break` or `continue`, the statements
//! after it are lowered into each of its arms that falls through, so every block ends in exactly
//! one terminator (see [`crate::ir::Term::Branch`]).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat, Stmt};

use crate::ir::*;
use crate::prim::places::MutId;
use crate::prim::{self, Flags, PrimId};

mod array_windows;
mod best;
mod break_values;
mod build;
pub mod calls;
mod cells;
pub mod chain;
mod closures;
mod consume;
mod control;
mod copied;
mod elementwise;
mod expr;
pub(crate) use expr::integers_made;
mod extremum;
mod fields;
mod format_args;
mod in_place;
mod iter;
mod join;
mod labels;
mod loops;
pub(crate) mod options;
mod region;
mod scan_state;
pub(crate) mod sinks;
mod span;
mod stmts;
mod subslice;
mod syntax;
mod unfollowed;
pub(crate) mod written;
mod zip_indexed;

pub(crate) use build::variant_path;
use build::{is_plain_literal, repeat_len};
pub use calls::is_shape_query;
pub(crate) use calls::library_method;
pub use calls::struct_constant;
use cells::Cell;
pub(crate) use chain::ADAPTERS;
pub use chain::SUPPORTED;

/// What to write for a fixed-size array of a slice's elements (`x[k..k + 3].try_into()
/// .unwrap()`, `<[f64; 3]>::try_from(..)`), which is followed on differentiated values only
/// where a `let` binds it with the array's type.
pub const ARRAY_OF_SLICE: &str = "bind the array to a variable with its type, `let a: [f64; 3] = \
    x[k..k + 3].try_into().unwrap();` (or `std::array::from_fn(|i| x[k + i])`, or list the \
    elements, `[x[k], x[k + 1], x[k + 2]]`), which is followed";
use closures::Item;
use control::*;
pub use join::is_join_module;
pub use stmts::is_repeatable_item;
use syntax::*;
pub use unfollowed::unfollowed_message;
pub(crate) use written::CHANGING;

/// One variable binding in scope.
#[derive(Clone)]
struct Binding {
    name: String,
    /// `None` for `let x;` before its first assignment.
    value: Option<Value>,
    /// An element of an iteration (`v` in `for v in x.iter()`): `*v` is `v`.
    element: bool,
    /// The references the source's type has on top of `value`: `v` in `for v in x.iter()` is an
    /// `&f64` in Rust and the element's value here. Code run as written sees the references.
    refs: u8,
    /// Declared `mut` (or a `&mut` parameter): methods called on it may change it.
    mutable: bool,
    /// A closure bound to the name (`let f = |v| v * w;`): expanded where it is called.
    closure: Option<std::rc::Rc<ClosureDef>>,
    /// A window of a slice (`w` in `for w in x.windows(2)`): read as `w[i]` and `w.len()`.
    window: Option<Window>,
    /// A mutable reference to an element of a place (`e` in `for e in v.iter_mut()`): `*e`
    /// reads the element of the container's current version, `*e = ..` writes it.
    cell: Option<Cell>,
    /// The float type the variable was declared with (`x: f64`, `let s: f32`): a literal
    /// assigned to it later (`x = -(1e-3)`) is that type, as rustc infers from the declaration.
    declared: Option<syn::Type>,
    /// The type of the field or element the variable borrows (`let l = &self.layer;`), spelled
    /// through the runtime's `Field` trait, for the user's methods called on it (`l.forward(x)`).
    place_ty: Option<TokenStream>,
    /// `place_ty` is the user's struct itself, named by the literal or constructor that built
    /// the variable (`let p = Pt { .. };`, `Pt::new(..)`): its methods are the user's whatever
    /// their names (`p.norm()`, not ndarray's `norm`).
    built: bool,
    /// The user's struct a local `Vec` holds, as the expression that built its elements names
    /// it (`Cell` of `cs.push(Cell { .. })`, generic arguments left to inference): for the
    /// methods called on its elements (`for c in &cs { c.val(h) }`).
    elem_ty: Option<TokenStream>,
    /// The user's struct that the elements of a local array of arrays hold, as the repeat or
    /// list that built it names it (`let mut rho = [[C::ZERO; 2]; 2];`): `rho[i][j]` is one.
    inner_struct: Option<syn::Path>,
    /// The user's struct the variable holds, for its operators (`c += ps[i]`, `c / n`): the
    /// type of its first value, where [`Lowering::struct_type_of`] knows it, or of the literal
    /// or constructor that built it.
    struct_ty: Option<syn::Path>,
    /// The variable holds a fixed-size array (`let mut y = [0.0; 3];`, a parameter `[f64; 3]`),
    /// as its first value says: a call lending it as `&mut y` calls the helper's copy for
    /// arrays (see `crate::mut_self`), also where a later version is a loop's block parameter.
    fixed_array: bool,
    /// Built from data only by a literal or a constructor of the user's struct (`Lcg { state:
    /// 7 }`, `Lcg::new(seed)` of `seed: u64`, `Rng::default()`): it holds no differentiated
    /// value, and its methods given data only run as written (`rng.next_f64()`, also taking
    /// `&mut self`). Cleared when the variable is assigned.
    data: bool,
    /// A map, a queue or a cell (`HashMap`, `VecDeque`, `RefCell`), or a borrow of one (the
    /// flag): the statements naming it are noted (see `unfollowed`).
    unfollowed: Option<(&'static str, bool)>,
    /// The function's own parameter (not a later `let` of the name): its elements may be
    /// assigned only where it is `mut` or a `&mut` reference.
    param: bool,
}

impl Binding {
    fn new(name: String, value: Option<Value>, mutable: bool) -> Self {
        Binding {
            name,
            value,
            element: false,
            refs: 0,
            mutable,
            closure: None,
            window: None,
            cell: None,
            declared: None,
            place_ty: None,
            built: false,
            elem_ty: None,
            inner_struct: None,
            struct_ty: None,
            fixed_array: false,
            data: false,
            unfollowed: None,
            param: false,
        }
    }
}

/// A closure as written, with where it was defined.
struct ClosureDef {
    expr: syn::ExprClosure,
    /// The number of bindings in scope where it was defined: the names its body can see.
    scope: usize,
    /// For a `move` closure, the values it captured (it does not see later assignments).
    captured: Option<Vec<Option<Value>>>,
}

/// `len` elements of `base` from index `start`: a window or a chunk of a slice.
#[derive(Clone, Copy)]
struct Window {
    base: Value,
    start: Value,
    len: Value,
}

/// How a statement sequence ends when control falls off its end.
enum Finish {
    /// The function's body: return the tail value.
    Return,
    /// A loop body: next iteration.
    Continue,
    /// An `if`/`match` arm: yield the current values of these slots, then the tail if wanted.
    Yield { slots: Vec<usize>, want_value: bool },
}

/// The rest of an enclosing statement list, to be lowered after a diverging `if`/`match` arm.
struct Cont<'a> {
    stmts: &'a [Stmt],
    /// `let <pat> = <diverging if>;`: the arm's value is bound to `pat`.
    bind: Option<&'a Pat>,
    /// The statement was the enclosing list's tail expression: pass its value through.
    tail_through: bool,
    scope_len: usize,
    /// The references the name `bind` binds has in Rust, which hold the value here (see
    /// `Lowering::payload_let`).
    refs: u8,
}

/// A loop's body block, the slots of the variables it carries, their values before it, and the
/// environment to restore after it.
struct LoopHeader {
    body: Block,
    slots: Vec<usize>,
    init: Vec<Value>,
    saved: Vec<Binding>,
}

struct LoopCtx {
    slots: Vec<usize>,
}

pub struct Lowering {
    pub f: Func,
    pub errors: Vec<syn::Error>,
    /// Placeholders for expressions that had errors: uses of them report nothing more.
    poisoned: Vec<Value>,
    env: Vec<Binding>,
    /// The binding a `let` has just made, hidden from `lookup` while `note_binding` reads the
    /// initializer: there a name is the variable it shadows (`let mut ps = ps.to_vec();`).
    binding_made: Option<usize>,
    loops: Vec<LoopCtx>,
    /// The declared return type, for the variable a `return` inside a loop leaves its value in.
    ret: Option<syn::Type>,
    /// The function has no return type, which the signature's error reports: a body without a
    /// value at its end is no error of its own.
    unit_fn: bool,
    /// The path of the `autodiff` crate (`crate = ..`), for the runtime items calls name.
    krate: proc_macro2::TokenStream,
    /// Containers that are fields of the user's structs (`self.layers`), and the elements read
    /// from them, each with the type of its elements spelled through the runtime's `Field`
    /// trait: a name bound to such an element anywhere (`|h, l| l.forward(&h)` in a `fold`,
    /// `(i, l)` of `enumerate`) has its methods followed like `self.layers[i].forward(..)`.
    /// The flag says the elements are structs of the user's (`vs` of `let vs: Vec<V2>`, a
    /// parameter `&[V2]`): there, methods named like array rules are the struct's too
    /// (`for v in &vs { v.dot(&c) }`), as on `vs[i]`.
    elem_places: Vec<(Value, TokenStream, bool)>,
    /// The function's type parameters: a parameter of one is no struct of the user's.
    type_params: Vec<String>,
    /// The function is a method (see `types::in_impl`): the `impl` around it may have type
    /// parameters of its own.
    method: bool,
    /// Values of a struct of the user's that nothing in the IR shows to be one: the accumulator
    /// of a `fold` started from one (`fold(V2 { .. }, |acc, p| acc + p.pos)`), inside the loop
    /// and after it, for its operators (see `Lowering::struct_type_of`).
    struct_values: Vec<(Value, syn::Path)>,
    /// Fields of a struct of the user's that a struct literal of the function, or of the `impl`
    /// block being expanded, gave an integer or a container of them (`P { next:
    /// (0..n).collect(), head: 0, .. }`), by the struct's name and the field's: a read of one
    /// is data, whatever the struct holds beside it (see `Lowering::field_ref`).
    data_fields: Vec<(String, String)>,
    /// The reads of such fields (`FieldRef`s), integers whatever their struct holds.
    int_field_refs: Vec<Value>,
    /// The struct of the user's that the arithmetic being lowered is an operand of, set just
    /// before an operand that is itself arithmetic is lowered and taken at once by it: the
    /// right operand of a struct's `+` or `-` (`s + k1 * h`) is of the struct's type too, and
    /// so is the left operand of such an operand (`k1` in `k1 * h`, `(k1 + k2) * h`).
    expected_struct: Option<syn::Path>,
    /// The best item of a chain taken by `max_by(..).unwrap()` and its kin, with the references
    /// its Rust type has (`&[f64; 2]` of `pts.iter().min_by(..).unwrap()`): a name bound to it
    /// is a reference in code run as written (`assert!(d2(closest) > 0.0)`), as in Rust.
    best_refs: Vec<(Value, u8)>,
    /// The value each variable carried by a loop had before the loop, by the body's parameter
    /// that carries it: the variable's type, and so its rank, is the same in the body (see
    /// `Lowering::min_rank`).
    carried_init: Vec<(Value, Value)>,
    /// The method call being lowered is a statement whose value is dropped (`rows[0].shift();`):
    /// a method run as written there on an element may be changing it in place.
    dropped_method: bool,
    /// The variable whose cell code run as written borrows through a guard
    /// (`rng.borrow_mut().next_f64()`): lent to it by reference, not cloned, so that what the
    /// guard changes stays in the cell.
    guard_root: Option<String>,
    /// The `&mut` parameters left out of `wrt` that the body only writes into (see
    /// [`sinks`]).
    sink_params: Vec<String>,
    /// The one of them a statement run as written writes into: that code may assign it.
    sink_param: Option<String>,
    /// The names bound once and used as integers (see `syntax::index_names`).
    index_names: Vec<String>,
    /// The bindings used as integers, by the place each is written (see
    /// `syntax::index_sites`), whatever else binds their names.
    index_sites: std::collections::HashSet<(String, String)>,
    /// The variables holding text (`&str`, `String`; see `subslice::text_names`), whose ranges
    /// are data.
    text_names: Vec<String>,
}

/// The variables that carry a `return` out of loops: its value and whether it happened.
const RET_VALUE: &str = "__ad_ret";
const RET_FLAG: &str = "__ad_returned";

/// `a += b` and the other compound assignments (syn writes them as binary expressions).
pub(super) fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp as B;
    matches!(
        op,
        B::AddAssign(_)
            | B::SubAssign(_)
            | B::MulAssign(_)
            | B::DivAssign(_)
            | B::RemAssign(_)
            | B::BitAndAssign(_)
            | B::BitOrAssign(_)
            | B::BitXorAssign(_)
            | B::ShlAssign(_)
            | B::ShrAssign(_)
    )
}

/// The name the generated code gives parameter `n` when the source has a pattern (`_`).
pub fn unnamed_param(n: usize) -> syn::Ident {
    syn::Ident::new(&format!("__ad_arg{n}"), Span::call_site())
}

/// Lowers `item`; `active[i]` says whether parameter `i` is differentiated; `krate` is the path
/// of the `autodiff` crate.
pub fn lower(item: &syn::ItemFn, active: &[bool], krate: proc_macro2::TokenStream) -> Lowering {
    options::clear_left_as_written();
    let mut lw = Lowering::empty(match &item.sig.output {
        syn::ReturnType::Type(_, t) => Some((**t).clone()),
        syn::ReturnType::Default => None,
    });
    lw.krate = krate;
    lw.unit_fn = matches!(item.sig.output, syn::ReturnType::Default);
    lw.type_params = item
        .sig
        .generics
        .type_params()
        .map(|t| t.ident.to_string())
        .collect();
    lw.f.type_params = lw.type_params.clone();
    lw.f.trait_params = crate::signature::Generics::read(&item.sig.generics).other_names();
    lw.method = crate::types::in_impl(&item.sig);
    lw.f.ret_ty = lw.ret.clone();
    lw.f.float_names = float_names(quote::quote!(#item));
    for at in cfg_attributes(item) {
        lw.err(
            at,
            "`#[cfg(..)]` on a statement, an expression, a match arm or a parameter of a \
             differentiated function is not supported: the macro cannot tell which \
             configuration is compiled, and the generated functions would run every \
             alternative; branch on `cfg!(..)` instead (`let w = if cfg!(debug_assertions) { \
             1.0 } else { 2.0 };`), or put the alternatives in helper functions that carry the \
             attribute",
        );
    }
    let body = lw.f.body();
    for (n, arg) in item.sig.inputs.iter().enumerate() {
        let (ident, ty, mut_pat) = match arg {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                Pat::Ident(pi) => (pi.ident.clone(), (*pt.ty).clone(), pi.mutability.is_some()),
                _ => (unnamed_param(n), (*pt.ty).clone(), false),
            },
            syn::FnArg::Receiver(r) => match crate::types::receiver_type(r) {
                // `mut self` (as in the by-value copy of a method taking `&mut self`, see
                // `crate::mut_self`) is assigned like a `mut` parameter.
                Ok(ty) => (
                    syn::Ident::new("self", r.self_token.span),
                    ty,
                    r.mutability.is_some(),
                ),
                Err(()) => continue,
            },
        };
        let mutable = mut_pat || matches!(&ty, syn::Type::Reference(r) if r.mutability.is_some());
        let kind = if crate::types::is_inactive_type(&ty) {
            Kind::Discrete
        } else if crate::types::is_float_type(&ty) {
            Kind::Float
        } else {
            Kind::Unknown
        };
        let name = ident.to_string();
        let v = lw.f.new_value(Some(name.clone()), ValueDef::Param(n), kind);
        lw.f.params.push(Param {
            ident: ident.clone(),
            ty,
            active: active.get(n).copied().unwrap_or(false),
            value: v,
        });
        if mutable {
            lw.f.mutable_names.insert(name.clone());
        }
        let mut binding = Binding::new(name, Some(v), mutable);
        binding.param = true;
        binding.fixed_array = lw.f.lent_array(v).is_some();
        binding.declared =
            lw.f.params
                .last()
                .filter(|p| crate::types::is_float_type(&p.ty))
                .map(|p| p.ty.clone());
        // A differentiated parameter taken by value and declared `mut` (`mut ps: Vec<Body>`)
        // keeps its type for the user's methods called on it, and on its elements, once it
        // holds a new version (after `for p in ps.iter_mut() { .. }`, `ps[0].v += ..`).
        let k = lw.f.params.len() - 1;
        let by_value = !matches!(lw.f.params[k].ty, syn::Type::Reference(_));
        // So does a buffer of them lent `&mut` (`psi: &mut [C]`), differentiated or not, once
        // written (`for a in psi.iter_mut() { *a = *a * ph; }`, then `psi.iter().map(|a|
        // a.norm_sqr())`).
        let lent_mut =
            matches!(&lw.f.params[k].ty, syn::Type::Reference(r) if r.mutability.is_some());
        if (mut_pat && by_value && lw.f.params[k].active) || lent_mut {
            binding.place_ty = lw.param_place_type(k);
        }
        lw.env.push(binding);
    }
    let mut block = (*item.block).clone();
    format_args::explicit_format_args(&mut block);
    let mut_refs: Vec<String> =
        lw.f.params
            .iter()
            .filter(|p| matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_some()))
            .map(|p| p.ident.to_string())
            .collect();
    let shared_refs: Vec<String> =
        lw.f.params
            .iter()
            .filter(|p| matches!(&p.ty, syn::Type::Reference(r) if r.mutability.is_none()))
            .map(|p| p.ident.to_string())
            .collect();
    in_place::array_from_fn_tail(&mut block, &item.sig.output);
    let vectors: Vec<String> =
        lw.f.params
            .iter()
            .filter(|p| syntax::is_vector_type(&p.ty))
            .map(|p| p.ident.to_string())
            .collect();
    let params: Vec<(syn::Ident, syn::Type)> =
        lw.f.params
            .iter()
            .map(|p| (p.ident.clone(), p.ty.clone()))
            .collect();
    syntax::desugar_bit_assignments(&mut block);
    syntax::desugar_range_params(&mut block, &params);
    syntax::desugar_open_ranges_in_zip(&mut block);
    syntax::desugar_operator_paths(&mut block);
    syntax::desugar_unzip(&mut block);
    syntax::desugar_rest_array_lets(&mut block, &params);
    syntax::desugar_azip(&mut block);
    scan_state::scan_tuple_states(&mut block);
    syntax::desugar_field_unwrap_or(&mut block, &params);
    lw.text_names = subslice::text_names(&block, &params);
    subslice::owned_reassigned_slices(&mut block, &params, &lw.text_names);
    syntax::strip_reference_annotations(&mut block);
    syntax::loops_of_arms_in_blocks(&mut block);
    let containers: Vec<String> =
        lw.f.params
            .iter()
            .filter(|p| calls::elem_type(&p.ty).is_some())
            .map(|p| p.ident.to_string())
            .collect();
    let float_containers: Vec<String> =
        lw.f.params
            .iter()
            .filter(|p| {
                matches!(p.ty, syn::Type::Reference(_))
                    && calls::elem_type(&p.ty).is_some()
                    && crate::types::is_float_type(&p.ty)
            })
            .map(|p| p.ident.to_string())
            .collect();
    syntax::vec_loops_over_containers(&mut block, &containers, &float_containers);
    desugar_forms(&mut block, &mut_refs, &shared_refs, &vectors, &lw.krate);
    let sinks = sinks::only_written(&block, &lw.f.params);
    let copy_errors = copied::copy_in_out(&mut block, &lw.f.params, &sinks);
    lw.errors.extend(copy_errors);
    lw.sink_params = sinks::only_written(&block, &lw.f.params);
    let param_names: Vec<syn::Ident> = lw.f.params.iter().map(|p| p.ident.clone()).collect();
    lw.index_names = syntax::index_names(&block, &param_names);
    lw.index_sites = syntax::index_sites(&block);
    // Items at the top of the body are repeated in each generated function (see
    // `Signature::items`); they compute nothing here.
    for s in &block.stmts {
        if let Stmt::Item(syn::Item::Fn(h)) = s {
            let marked = h.attrs.iter().any(|a| {
                a.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "differentiate")
            });
            if !marked {
                lw.f.plain_helpers.push(h.sig.ident.to_string());
            }
        }
    }
    block
        .stmts
        .retain(|s| !matches!(s, Stmt::Item(i) if is_repeatable_item(i)));
    lw.seq(body, &block.stmts, &[], &Finish::Return, item.block.span());
    lw
}

impl Lowering {
    /// A function with an empty body and nothing in scope; `ret` is its declared return type.
    fn empty(ret: Option<syn::Type>) -> Self {
        let mut lw = Lowering {
            f: Func::default(),
            errors: Vec::new(),
            poisoned: Vec::new(),
            env: Vec::new(),
            binding_made: None,
            loops: Vec::new(),
            ret,
            unit_fn: false,
            krate: quote::quote!(::autodiff),
            elem_places: Vec::new(),
            type_params: Vec::new(),
            method: false,
            struct_values: Vec::new(),
            data_fields: crate::types::block_data_fields(),
            int_field_refs: Vec::new(),
            expected_struct: None,
            best_refs: Vec::new(),
            carried_init: Vec::new(),
            dropped_method: false,
            guard_root: None,
            sink_params: Vec::new(),
            sink_param: None,
            index_names: Vec::new(),
            index_sites: Default::default(),
            text_names: Vec::new(),
        };
        let body = lw.f.new_block();
        lw.f.body = Some(body);
        lw
    }

    fn err(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(syn::Error::new(span, msg.into()));
    }

    /// An error underlining the whole of `node`, not just its first token.
    fn err_at(&mut self, node: &dyn ToTokens, msg: impl Into<String>) {
        self.errors.push(syn::Error::new_spanned(node, msg.into()));
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        (0..self.env.len())
            .rev()
            .find(|&s| self.env[s].name == name && Some(s) != self.binding_made)
    }

    fn bind(&mut self, name: String, v: Option<Value>) {
        self.bind_mut(name, v, false);
    }

    fn bind_mut(&mut self, name: String, v: Option<Value>, mutable: bool) {
        if mutable {
            self.f.mutable_names.insert(name.clone());
        }
        if let Some(v) = v {
            if self.f.values[v.index()].name.is_none() {
                self.f.values[v.index()].name = Some(name.clone());
            }
        }
        let mut binding = Binding::new(name, v, mutable);
        binding.fixed_array = v.is_some_and(|v| self.f.lent_array(v).is_some());
        self.env.push(binding);
    }

    fn kind(&self, v: Value) -> Kind {
        self.f.value(v).kind
    }

    /// An instruction with one result.
    fn inst1(&mut self, b: Block, kind: InstKind, rk: Kind, span: Span) -> Value {
        let i = self.f.push_inst(b, kind, 1, rk, span);
        self.f.inst(i).results[0]
    }

    /// The values the variables in `slots` hold here, for a loop or a branch that carries
    /// them. A variable declared without a value and not yet assigned (`let mut prev;` before
    /// a loop whose body assigns it before reading it, `let r;` assigned in one branch only)
    /// is carried as `Default::default()` of its type: rustc's check of the function as
    /// written has already proved that no path reads it before an assignment, so the
    /// placeholder is never read, and its derivative is never asked for.
    fn current(&mut self, slots: &[usize], span: Span) -> Vec<Value> {
        let mut out = Vec::new();
        for &s in slots {
            match self.env[s].value {
                Some(v) => out.push(v),
                None => {
                    let v = self.inst1(
                        self.f.body(),
                        InstKind::Const(quote!(::core::default::Default::default())),
                        Kind::Unknown,
                        span,
                    );
                    out.push(v);
                }
            }
        }
        out
    }

    /// Clears the data flag (see `Binding::data`) of the variables that `node` assigns
    /// something other than data, or a part of (`z = Q::new(z2.a + p[0], ..)`, `s.x += p[0]`),
    /// or calls a method on given something other than data (`s.step(k)`), after `let mut z =
    /// Q::new(0.0, 0.0);`: a loop's body, or a branch, reads what they hold on every path,
    /// which is no longer data only.
    pub(super) fn clear_data_assigned(&mut self, node: impl FnOnce(&mut AssignedValues)) {
        if !self.env.iter().any(|b| b.data) {
            return;
        }
        let mut assigned = AssignedValues::default();
        node(&mut assigned);
        // What the local closures it calls assign (`add(v)` of `let mut add = |v| s = s + ..;`).
        self.visit_called_closures(&mut assigned, |a| &mut a.1);
        for (name, w) in &assigned.0 {
            let Some(slot) = self.lookup(name).filter(|&s| self.env[s].data) else {
                continue;
            };
            let changed = match w {
                Written::Whole(e) => !self.data_value(e),
                Written::Part => true,
                // Buffers that hold no derivative lent beside data only: see `buffer_call`.
                Written::Given(args) => !args
                    .iter()
                    .all(|a| self.data_expr(a) || self.lent_constant(a)),
            };
            if changed {
                self.env[slot].data = false;
            }
        }
    }

    /// Visits with `v` the body of each local closure named in `called(v)` (the names of the
    /// closures the code `v` visited calls, to which these visits add), once each.
    fn visit_called_closures<V: for<'a> syn::visit::Visit<'a>>(
        &self,
        v: &mut V,
        called: fn(&mut V) -> &mut Vec<String>,
    ) {
        let mut seen: Vec<String> = Vec::new();
        while let Some(m) = called(v).pop() {
            if seen.contains(&m) {
                continue;
            }
            if let Some(def) = self.lookup(&m).and_then(|s| self.env[s].closure.clone()) {
                v.visit_expr(&def.expr.body);
            }
            seen.push(m);
        }
    }

    /// Slots of variables in scope that `node` may assign to.
    fn assigned_slots(&self, node: impl FnOnce(&mut AssignedNames)) -> Vec<usize> {
        let mut names = AssignedNames::default();
        node(&mut names);
        // The local closures it mentions run there too (`add(x)` with `let mut add = |v| s += v;`).
        self.visit_called_closures(&mut names, |n| &mut n.1);
        let mut slots = Vec::new();
        for n in names.0 {
            if self.sink_param_slot(&n) {
                // Written as it is, through the reference: no new version to carry.
                continue;
            }
            if let Some(mut s) = self.lookup(&n) {
                // Writing through an element reference (`*e = ..`) assigns its container.
                if let Some(c) = self.env[s].cell {
                    s = c.slot;
                }
                if !slots.contains(&s) {
                    slots.push(s);
                }
            }
        }
        slots
    }
}

/// The float types (`f64`, `f32`) named anywhere in `ts`, as a type or a literal's suffix
/// (`0.5f32`).
fn float_names(ts: TokenStream) -> Vec<String> {
    fn walk(ts: TokenStream, found: &mut Vec<String>) {
        for t in ts {
            let (text, suffix) = match t {
                TokenTree::Group(g) => {
                    walk(g.stream(), found);
                    continue;
                }
                TokenTree::Ident(i) => (i.to_string(), false),
                TokenTree::Literal(l) => (l.to_string(), true),
                TokenTree::Punct(_) => continue,
            };
            for n in ["f64", "f32"] {
                let names = if suffix { text.ends_with(n) } else { text == n };
                if names && !found.iter().any(|f| f == n) {
                    found.push(n.to_string());
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(ts, &mut found);
    found
}

/// The `#[cfg]` and `#[cfg_attr]` attributes inside a function (not on the items it declares,
/// which are passed on as written) and on its parameters.
fn cfg_attributes(item: &syn::ItemFn) -> Vec<Span> {
    #[derive(Default)]
    struct Cfgs(Vec<Span>);
    impl<'ast> Visit<'ast> for Cfgs {
        fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
            if a.path().is_ident("cfg") || a.path().is_ident("cfg_attr") {
                self.0.push(a.meta.span());
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut c = Cfgs::default();
    for arg in &item.sig.inputs {
        c.visit_fn_arg(arg);
    }
    c.visit_block(&item.block);
    c.0
}
