//! The program generator: random functions in the documented subset of `#[differentiate]`,
//! well-typed by construction, whose values and gradients are finite at the generated point.
//!
//! # How programs stay valid and tame
//!
//! The generator writes source text directly and tracks, for every variable in scope, what it
//! needs to keep the program valid and numerically tame:
//!
//! - **types**: floats of the case's type `F`, integers (`usize`, `i32`), containers (`&[F]`,
//!   `Vec<F>`, `[F; N]`, `&mut Vec<F>`), pairs and loop references `&F`. An expression made
//!   only of literals has an ambiguous type (`{float}`), so methods are never called on one and
//!   `let`s of one are annotated;
//! - **integer ranges** `[lo, hi]` and **container lengths** `[lo, hi]`: an index is a literal
//!   below the shortest length, a loop index over that container, `i % v.len()` or
//!   `v.len() - 1`; `pop`, `remove` and `swap` only where the container cannot be empty;
//! - **magnitude bounds**: every float expression comes with a bound on its absolute value.
//!   Methods get arguments inside their domain and away from their singularities (`ln` of
//!   `1 + t²`, `sqrt` of `t² + 0.5`, `asin` of `0.9·tanh t`, `exp` of an argument bounded by 3),
//!   and an expression whose bound grows past [`LIMIT`] is squashed (`tanh`, `sin`, `atan`,
//!   `t / (1 + t²)`). In a loop, an outer variable may be assigned a squashed value (bound 1)
//!   or incremented by a share of a per-iteration budget of 1, so its bound inside the loop is
//!   its bound on entry plus the trip count.
//!
//! Values then stay within a few tens and derivatives moderate, so the central differences of
//! the checks are accurate. Branch conditions on differentiated values and the piecewise
//! methods (`abs`, `max`, `floor`, …) have kinks and jumps that the points almost surely miss.

use crate::program::{Case, Float, Function, Param, ParamKind, Ret};
use crate::rng::Rng;

// By its path: the build script includes this file by path too.
#[path = "generate/state.rs"]
mod state;

#[path = "generate/shapes.rs"]
mod shapes;

#[path = "generate/tables.rs"]
mod tables;

#[path = "generate/calls.rs"]
mod calls;

#[path = "generate/arrays.rs"]
mod arrays;

#[path = "generate/scopes.rs"]
mod scopes;

#[path = "generate/models.rs"]
mod models;

#[path = "generate/ints.rs"]
mod ints;

#[path = "generate/running.rs"]
mod running;

#[path = "generate/exits.rs"]
mod exits;

#[path = "generate/ndidioms.rs"]
mod ndidioms;

#[path = "generate/borrows.rs"]
mod borrows;

/// The seed of the CI test's cases: case `i` has seed `case_seed(CI_SEED, i)`.
pub const CI_SEED: u64 = 440;

/// How many cases the CI test generates (before the known failures are left out).
pub const CI_COUNT: u64 = 200;

/// The bound above which expressions are squashed.
pub const LIMIT: f64 = 12.0;

/// Relative frequencies of the constructs, and sizes. [`Config::default`] is the full mix;
/// [`Config::ci`] is what the CI test generates.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// At most this many helper functions before the entry function.
    pub max_helpers: usize,
    /// Statements in a function body: at least this many ...
    pub min_stmts: usize,
    /// ... and at most this many (nested blocks have fewer).
    pub max_stmts: usize,
    /// Nesting depth of blocks (`if`, loops).
    pub max_depth: usize,
    /// Nesting depth of expressions.
    pub max_expr_depth: usize,
    /// Largest trip count of a loop.
    pub max_trips: i64,
    /// Percentage of cases in `f32`.
    pub f32_percent: u32,
    /// Weights of the statement kinds, in the order of [`STMT_KINDS`].
    pub stmt_weights: Vec<u32>,
    /// Weights of the parameter kinds of an entry function, in the order of [`PARAM_KINDS`].
    pub param_weights: Vec<u32>,
    /// `return`, `break` and `continue` may end an `else` branch (or a block inside one).
    pub diverging_else: bool,
    /// A comparison may start with a block expression (`if { let z = ..; z * z } > 1.0`);
    /// otherwise such an operand is parenthesized.
    pub block_first_in_condition: bool,
    /// Percentage of constant leaves written as a path call on a literal (`f64::cos(1.0)`).
    pub literal_path_call_percent: u32,
    /// Percent of binary expressions that are a remainder `%` of the case's float type (of a
    /// typed local, by a literal or by a positive typed local). Zero draws nothing, so the
    /// programs are as they were without it.
    pub float_rem_percent: u32,
    /// Conditions may read loop references (`if (*v).sin() > 0.1`).
    pub deref_in_condition: bool,
    /// Percentage of cases with a helper generic over `T: num_traits::Float`, called from the
    /// other functions with the case's float type.
    pub generic_percent: u32,
    /// Percentage of element reads written with an accessor (`*v.first().unwrap()`,
    /// `v.last().unwrap()`, `*v.get(i).unwrap()`) instead of `v[i]`.
    pub accessor_percent: u32,
    /// Percentage of `f64` cases (without `&mut` parameters) declared
    /// `#[differentiate(hessian)]`, whose `f_hvp` is checked too. Drawn from a generator of its
    /// own, so that it leaves the programs as they are.
    pub hessian_percent: u32,
}

/// The statement kinds, named for [`Config::stmt_weights`].
pub const STMT_KINDS: &[&str] = &[
    "let",
    "assign",
    "compound",
    "if_float",
    "if_int",
    "match",
    "for",
    "while",
    "loop",
    "return",
    "local_vec",
    "local_array",
    "container_op",
    "element_write",
    "iterate",
    "tuple",
    "deferred_let",
    "call",
    "sum",
    "chain",
    "closure",
    "iter_mut",
    "vec_literal",
    "float_while",
    "option_match",
    "stack",
    "ref_closure",
    "drain",
    "tuple_assign",
    "destructure",
    "range_slice",
    "struct_local",
    "if_tuple",
    "nested_acc",
    "ndarray",
    "misc",
    "window",
    "slice_ops",
    "counter",
    "vec2",
    "matrix",
    "buffer",
    "best",
    "table",
    "grid",
    "rk4",
    "forms",
    "modes",
    "rows",
    "jump",
    "table_dp",
    "acc",
    "tuple_fn",
    "const_arr",
    "nd_loop",
    "shadow",
    "model",
    "adapters",
    "int_bits",
    "late_init",
    "nd_rows",
    "settings",
    "running",
    "guards",
    "early_exit",
    "stencil3",
    "int_casts",
    "nd_zip",
    "row_copy",
    "self_borrow",
    "closure_env",
    "iter_shapes",
];

/// The parameter kinds, named for [`Config::param_weights`].
pub const PARAM_KINDS: &[&str] = &[
    "scalar",
    "slice",
    "vec_ref",
    "vec_owned",
    "array",
    "mut_vec",
    "usize",
    "i32",
    "mut_slice",
];

impl Default for Config {
    fn default() -> Self {
        Config {
            max_helpers: 2,
            min_stmts: 2,
            max_stmts: 7,
            max_depth: 3,
            max_expr_depth: 3,
            max_trips: 4,
            f32_percent: 15,
            stmt_weights: vec![
                14, // let
                6,  // assign
                8,  // compound
                6,  // if_float
                4,  // if_int
                3,  // match
                7,  // for
                3,  // while
                3,  // loop
                3,  // return
                4,  // local_vec
                3,  // local_array
                6,  // container_op
                5,  // element_write
                4,  // iterate
                3,  // tuple
                2,  // deferred_let
                4,  // call
                2,  // sum
                5,  // chain
                3,  // closure
                3,  // iter_mut
                2,  // vec_literal
                3,  // float_while
                3,  // option_match
                2,  // stack
                3,  // ref_closure
                3,  // drain
                2,  // tuple_assign
                2,  // destructure
                3,  // range_slice
                3,  // struct_local
                3,  // if_tuple
                3,  // nested_acc
                3,  // ndarray
                3,  // misc
                4,  // window
                3,  // slice_ops
                3,  // counter
                3,  // vec2
                3,  // matrix
                3,  // buffer
                3,  // best
                2,  // table
                3,  // grid
                2,  // rk4
                3,  // forms
                3,  // modes
                3,  // rows
                3,  // jump
                2,  // table_dp
                2,  // acc
                2,  // tuple_fn
                2,  // const_arr
                1,  // nd_loop
                1,  // shadow
                1,  // model
                2,  // adapters
                2,  // int_bits
                2,  // late_init
                2,  // nd_rows
                2,  // settings
                2,  // running
                2,  // guards
                2,  // early_exit
                2,  // stencil3
                2,  // int_casts
                2,  // nd_zip
                2,  // row_copy
                2,  // self_borrow
                2,  // closure_env
                2,  // iter_shapes
            ],
            param_weights: vec![10, 5, 2, 2, 2, 2, 4, 2, 2],
            diverging_else: true,
            block_first_in_condition: true,
            literal_path_call_percent: 100,
            float_rem_percent: 4,
            deref_in_condition: true,
            generic_percent: 25,
            accessor_percent: 25,
            hessian_percent: 50,
        }
    }
}

impl Config {
    /// The configuration of the CI test: the full mix, smaller functions.
    ///
    /// Constructs that hit frequent macro bugs on main are not generated here (they are in
    /// [`Config::default`], and in FINDINGS.md), so that enough cases remain: a diverging `else`
    /// branch, a comparison that starts with a block expression, `f64::cos(1.0)` (a path call
    /// on a literal), `Vec<f64>` parameters by value, and `*v` in conditions.
    pub fn ci() -> Self {
        Config {
            max_stmts: 6,
            diverging_else: false,
            block_first_in_condition: false,
            literal_path_call_percent: 0,
            // Added after the CI's cases and known failures were chosen: it would change them.
            float_rem_percent: 0,
            deref_in_condition: false,
            // No `Vec<f64>` parameters by value: read in a branch, they are moved (E0382).
            param_weights: vec![10, 5, 2, 0, 2, 2, 4, 2, 2],
            // `hessian` doubles the code of a case: CI's compile time stays as it was.
            hessian_percent: 0,
            ..Config::default()
        }
        // `vec2` writes the struct, its five differentiated impl blocks and their generated
        // items into a case that uses it: 93 of the 400 cases and 18% more lines at weight 1.
        // `matrix` at weight 1: 1.2% more lines. `buffer` at weight 1 adds 98 helpers (10.6%
        // more functions, 3.5% fewer lines with `best` and `table`). `grid` and `forms` at
        // weight 1 take their share from the others (1% fewer lines, 4% fewer differentiated
        // items in the 250 cases); `rk4` writes `V2` with its step's impl block and two
        // functions (29% more lines at weight 1).
        .with_weights(&[
            ("vec2", 0),
            ("matrix", 1),
            ("buffer", 1),
            ("best", 2),
            ("table", 1),
            ("grid", 1),
            ("rk4", 0),
            ("forms", 1),
            ("modes", 0),
            ("rows", 0),
            ("jump", 0),
            ("table_dp", 0),
            ("acc", 0),
            ("tuple_fn", 0),
            ("const_arr", 0),
            ("nd_loop", 0),
            ("shadow", 0),
            ("model", 0),
            ("adapters", 0),
            ("int_bits", 0),
            ("late_init", 0),
            ("nd_rows", 0),
            ("settings", 0),
            ("running", 0),
            ("guards", 0),
            ("early_exit", 0),
            ("stencil3", 0),
            ("int_casts", 0),
            ("nd_zip", 0),
            ("row_copy", 0),
            ("self_borrow", 0),
            ("closure_env", 0),
            ("iter_shapes", 0),
        ])
    }

    /// The configuration with the statement kinds `weights` names weighted so: the kinds
    /// whose programs take longest to compile join CI at a small weight.
    fn with_weights(mut self, weights: &[(&str, u32)]) -> Self {
        for &(name, w) in weights {
            self.set_stmt_weight(name, w);
        }
        self
    }

    fn stmt_weight(&self, name: &str) -> u32 {
        let i = STMT_KINDS.iter().position(|k| *k == name).expect("a kind");
        self.stmt_weights.get(i).copied().unwrap_or(0)
    }

    /// Sets the weight of the statement kind `name` (one of [`STMT_KINDS`]).
    pub fn set_stmt_weight(&mut self, name: &str, weight: u32) {
        let i = STMT_KINDS
            .iter()
            .position(|k| *k == name)
            .unwrap_or_else(|| panic!("unknown statement kind {name}"));
        self.stmt_weights[i] = weight;
    }
}

/// Generates the case of `seed` with `config`.
pub fn generate(seed: u64, config: &Config) -> Case {
    let mut rng = Rng::new(seed);
    let float = if rng.chance(config.f32_percent) {
        Float::F32
    } else {
        Float::F64
    };
    let n_helpers = rng.below(config.max_helpers + 1);
    let allow_cast = rng.chance(25);
    let mut functions: Vec<Function> = Vec::new();
    let mut sigs: Vec<HelperSig> = Vec::new();
    let mut mixed = false;
    if rng.chance(config.generic_percent) {
        let (func, sig) = generic_helper(&mut rng, seed, float);
        functions.push(func);
        sigs.push(sig);
    }
    let mut buffers: Vec<BufferHelper> = Vec::new();
    // The entry function takes a `&mut` parameter: its `_hvp` is not checked.
    let mut no_buffer = true;
    for h in 0..=n_helpers {
        let entry = h == n_helpers;
        let name = if entry {
            format!("f_{seed:016x}")
        } else {
            format!("h{h}_{seed:016x}")
        };
        let mut g = FnGen::new(&mut rng, config, float, &sigs);
        g.allow_cast = allow_cast;
        g.expr_depth = g.rng.range(1, config.max_expr_depth as i64) as usize;
        g.buffers = std::mem::take(&mut buffers);
        g.buffer_tag = format!("{seed:016x}");
        g.fn_tag = name.clone();
        let (func, sig) = g.function(name, entry);
        mixed |= g.mixed;
        no_buffer &= !func
            .params
            .iter()
            .any(|p| matches!(p.kind, ParamKind::MutVec | ParamKind::MutSlice));
        buffers = std::mem::take(&mut g.buffers);
        // A buffer helper comes before its callers.
        functions.append(&mut g.buffer_fns);
        functions.push(func);
        sigs.push(sig);
    }
    let hessian = float == Float::F64
        && !mixed
        && no_buffer
        && Rng::new(seed ^ 0x4865_7373_6961_6e00).chance(config.hessian_percent);
    Case {
        seed,
        float,
        mixed_precision: mixed,
        hessian,
        functions,
    }
}

/// What a caller needs to know of a helper.
#[derive(Clone, Debug)]
struct HelperSig {
    name: String,
    params: Vec<(ParamKind, i64)>,
    ret: Ret,
    bound: f64,
    /// Generic over its float type: scalar arguments must have a type rustc can tell.
    generic: bool,
}

/// A helper generic over its float type, `fn g<T: num_traits::Float>(a: T, b: T) -> T` or
/// `fn g<T>(s: &[T], w: T) -> T where T: num_traits::Float`: literals through `T::from(..)`,
/// `T::one()`, `T::zero()`; the float methods of the trait; an `if` on the values; a loop
/// over the slice. Called with or without a turbofish.
fn generic_helper(rng: &mut Rng, seed: u64, float: Float) -> (Function, HelperSig) {
    let name = format!("g_{seed:016x}");
    let slice = rng.chance(40);
    let bound_text = *rng.pick(&[
        "num_traits::Float",
        "num_traits::Float",
        "num_traits::Float + std::fmt::Debug",
        "Copy + num_traits::Float",
    ]);
    let (generics, clause) = if rng.chance(40) {
        ("<T>".to_string(), format!(" where T: {bound_text}"))
    } else {
        (format!("<T: {bound_text}>"), String::new())
    };
    let mut body = String::new();
    body.push_str(
        "    let half = T::from(0.5).unwrap();
",
    );
    let mut g = GenericExpr { rng, vars: vec![] };
    let (params, sig_params, bound) = if slice {
        g.vars = vec![("w".into(), LIMIT), ("half".into(), 0.5)];
        let zero = *g.rng.pick(&["T::zero()", "T::from(0.0).unwrap()"]);
        body.push_str(&format!(
            "    let mut acc = {zero};
"
        ));
        let (head, extra) = match g.rng.below(3) {
            0 => ("for &v in s {".to_string(), None),
            1 => (
                "for (i, &v) in s.iter().enumerate() {".to_string(),
                Some("i"),
            ),
            _ => ("for i in 0..s.len() {".to_string(), Some("i")),
        };
        body.push_str(
            &format!(
                "        {head}
"
            )
            .replacen("    ", "", 1),
        );
        if head.starts_with("for i in") {
            body.push_str(
                "        let v = s[i];
",
            );
        }
        g.vars.push(("v".into(), LIMIT));
        if extra.is_some() {
            body.push_str(
                "        let k = T::from(i).unwrap() * half;
",
            );
            g.vars.push(("k".into(), 2.0));
        }
        let e = g.expr(2);
        let e = g.squash(e);
        // The sum in the forms a reduction loop takes, and one it does not (the accumulator
        // read besides its addition).
        let update = match g.rng.below(6) {
            0 => format!("{} + acc", e.0),
            1 => format!("acc - {}", e.0),
            2 => format!("acc * half + {}", e.0),
            _ => format!("acc + {}", e.0),
        };
        body.push_str(&format!(
            "        acc = {update};
"
        ));
        body.push_str(
            "    }
",
        );
        g.vars.retain(|(n, _)| n != "v" && n != "k");
        // A second loop over the slice: a triangle, a counter, a window at `i + 1`, a loop
        // with an early `break`, each summing from `T::zero()` or `T::one()`.
        let mut acc_bound = 4.0;
        if g.rng.chance(60) {
            let start = *g.rng.pick(&["T::zero()", "T::one()", "T::zero()"]);
            body.push_str(&format!(
                "    let mut acc2 = {start};
"
            ));
            let text = match g.rng.below(5) {
                0 => "    for j in 0..s.len() {
        acc2 = acc2 + (s[j] * w).sin() * half;
        for l in 0..j {
            acc2 = acc2 + (s[l] * s[j]).tanh() * half;
        }
    }
"
                .to_string(),
                1 => {
                    let inner = *g
                        .rng
                        .pick(&["0..j", "(0..j).rev()", "j..s.len()", "0..j + 1"]);
                    format!(
                        "    let mut c = 0usize;
    for j in 0..s.len() {{
        for l in {inner} {{
            acc2 = acc2 + (s[l] * w).sin() * T::from(0.25).unwrap() + T::from(c).unwrap() * T::from(0.0625).unwrap();
            c += 1;
        }}
    }}
"
                    )
                }
                2 => "    let mut c = 0usize;
    for i in 1..s.len() {
        acc2 = acc2 + (s[c] * s[i] + w).tanh() * half;
        c += 1;
    }
"
                .to_string(),
                3 => "    for i in 0..s.len().saturating_sub(1) {
        acc2 = acc2 + (s[i + 1] - s[i] * w).atan() * half;
    }
"
                .to_string(),
                _ => "    for (i, &v) in s.iter().enumerate() {
        if i >= 2 {
            break;
        }
        acc2 = acc2 + (v * w).sin() * half;
    }
"
                .to_string(),
            };
            body.push_str(&text);
            body.push_str(
                "    acc = acc + acc2 * T::from(0.25).unwrap();
",
            );
            acc_bound += 4.0;
        }
        g.vars.push(("acc".into(), acc_bound));
        let r = g.expr(2);
        body.push_str(&format!(
            "    {}
",
            r.0
        ));
        (
            "s: &[T], w: T".to_string(),
            vec![(ParamKind::Slice, 0), (ParamKind::Scalar, 0)],
            r.1,
        )
    } else {
        g.vars = vec![
            ("a".into(), LIMIT),
            ("b".into(), LIMIT),
            ("half".into(), 0.5),
        ];
        let u = g.expr(2);
        let u = if u.1 > LIMIT { g.squash(u) } else { u };
        body.push_str(&format!(
            "    let u = {};
",
            u.0
        ));
        g.vars.push(("u".into(), u.1));
        let c = g.expr(1);
        let d = g.expr(1);
        let (p, q) = (g.expr(2), g.expr(2));
        let (p, q) = (g.squash(p), g.squash(q));
        let w = if g.rng.chance(50) {
            format!(
                "    let w = if {} > {} {{ {} }} else {{ {} }};
",
                c.0, d.0, p.0, q.0
            )
        } else {
            format!(
                "    let mut w = {};
    if {} < {} {{
        w = w * half + {};
    }}
",
                p.0, c.0, d.0, q.0
            )
        };
        body.push_str(&w);
        g.vars.push(("w".into(), 2.0));
        let r = g.expr(2);
        let r = if r.1 > LIMIT { g.squash(r) } else { r };
        body.push_str(&format!(
            "    {}
",
            r.0
        ));
        (
            "a: T, b: T".to_string(),
            vec![(ParamKind::Scalar, 0), (ParamKind::Scalar, 0)],
            r.1,
        )
    };
    let source = format!(
        "fn {name}{generics}({params}) -> T{clause} {{
{body}}}
"
    );
    let call = if rng.chance(30) {
        format!("{name}::<{}>", float.name())
    } else {
        name.clone()
    };
    let fparams = sig_params
        .iter()
        .zip(if slice { ["s", "w"] } else { ["a", "b"] })
        .map(|((k, _), n)| Param {
            name: n.to_string(),
            kind: k.clone(),
            mutable: false,
            value: Vec::new(),
        })
        .collect();
    (
        Function {
            name: name.clone(),
            params: fparams,
            ret: Ret::Scalar,
            source,
        },
        HelperSig {
            name: call,
            params: sig_params,
            ret: Ret::Scalar,
            bound: bound.max(1.0),
            generic: true,
        },
    )
}

/// Expressions over a generic float type `T`: every literal goes through `T`.
struct GenericExpr<'a> {
    rng: &'a mut Rng,
    /// Names in scope with bounds.
    vars: Vec<(String, f64)>,
}

impl GenericExpr<'_> {
    fn leaf(&mut self) -> (String, f64) {
        match self.rng.below(6) {
            0 => ("T::one()".into(), 1.0),
            1 => {
                let v = lit(self.rng.range(-6, 6) as f64 / 4.0);
                (format!("T::from({v}).unwrap()"), 1.5)
            }
            _ => self.rng.pick(&self.vars).clone(),
        }
    }

    fn squash(&mut self, e: (String, f64)) -> (String, f64) {
        let c = &e.0;
        let code = match self.rng.below(4) {
            0 => format!("({c}).tanh()"),
            1 => format!("({c}).sin()"),
            2 => format!("num_traits::Float::cos({c})"),
            _ => format!("({c}).atan()"),
        };
        (code, 1.6)
    }

    fn expr(&mut self, depth: usize) -> (String, f64) {
        if depth == 0 || self.rng.chance(15) {
            return self.leaf();
        }
        let a = self.expr(depth - 1);
        let (x, b) = (&a.0, a.1);
        let e = match self.rng.below(20) {
            0 => {
                let o = self.expr(depth - 1);
                (format!("({x} + {})", o.0), b + o.1)
            }
            1 => {
                let o = self.expr(depth - 1);
                (format!("({x} - {})", o.0), b + o.1)
            }
            2 | 3 => {
                let o = self.expr(depth - 1);
                let o = if b * o.1 > LIMIT { self.squash(o) } else { o };
                let a = if b * o.1 > LIMIT {
                    self.squash(a.clone())
                } else {
                    a.clone()
                };
                (format!("({} * {})", a.0, o.0), a.1 * o.1)
            }
            4 => {
                let o = self.expr(depth - 1);
                (format!("({x} / (T::one() + {o} * {o}))", o = o.0), b)
            }
            5 => (format!("{x}.sin()"), 1.0),
            6 => (format!("{x}.tanh()"), 1.0),
            7 => (format!("({x}).tanh().exp()"), 2.8),
            8 => (
                format!("(T::one() + {x} * {x}).ln()"),
                (1.0 + b * b).ln() + 0.1,
            ),
            9 => (format!("({x} * {x} + half).sqrt()"), b + 1.0),
            10 => {
                let o = self.expr(depth - 1);
                let m = *self.rng.pick(&["max", "min"]);
                (format!("{x}.{m}({})", o.0), b.max(o.1))
            }
            11 => (format!("{x}.abs()"), b),
            12 => {
                let a = if b > 2.0 {
                    self.squash(a.clone())
                } else {
                    a.clone()
                };
                let n = self.rng.range(2, 3);
                (format!("{}.powi({n})", a.0), a.1.powi(n as i32) + 1.0)
            }
            13 => {
                let o = self.expr(depth - 1);
                (
                    format!("(T::one() + {x} * {x}).powf(({}).tanh())", o.0),
                    1.0 + b * b,
                )
            }
            14 => (format!("{x}.hypot(half)"), b + 0.5),
            15 => {
                let o = self.expr(depth - 1);
                (format!("{x}.atan2(T::one() + {o} * {o})", o = o.0), 1.6)
            }
            16 => {
                let o = self.expr(depth - 1);
                let a = if b > 2.0 {
                    self.squash(a.clone())
                } else {
                    a.clone()
                };
                (format!("{}.mul_add(half, {})", a.0, o.0), a.1 + o.1)
            }
            17 => {
                let o = self.expr(depth - 1);
                let (p, q) = (self.expr(depth - 1), self.expr(depth - 1));
                (
                    format!("(if {x} > {} {{ {} }} else {{ {} }})", o.0, p.0, q.0),
                    p.1.max(q.1),
                )
            }
            18 => (format!("num_traits::Float::tanh({x})"), 1.0),
            _ => (format!("(-{x})"), b),
        };
        if e.1 > LIMIT { self.squash(e) } else { e }
    }
}

/// A float expression: its text and a bound on its absolute value. `typed` is false for
/// expressions of literals only, whose type Rust cannot tell (`{float}`).
#[derive(Clone, Debug)]
struct Ex {
    code: String,
    bound: f64,
    typed: bool,
}

impl Ex {
    fn new(code: impl Into<String>, bound: f64, typed: bool) -> Ex {
        Ex {
            code: code.into(),
            bound,
            typed,
        }
    }
}

/// What a variable holds.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// A float of the case's type.
    Float,
    /// An integer in `lo..=hi`; `index_for` lists containers it indexes validly (a loop index
    /// over `0..v.len()`).
    Int {
        lo: i64,
        hi: i64,
        usize: bool,
        index_for: Vec<usize>,
    },
    /// A container whose length is in `lo..=hi`.
    Seq { seq: SeqKind, lo: usize, hi: usize },
    /// `&F`, the variable of a `for v in xs` loop: read as `*v`.
    Ref,
    /// `(F, F)`.
    Pair,
    /// `Pt { a: F, b: F }`, a struct with `#[derive(Differentiable)]`: read as `p.a`, `p.b`.
    Point,
    /// `V2 { x: F, y: F }`, a `Copy` struct with differentiated operators and methods; the
    /// bound is on its length.
    Vec2,
}

/// An iterator over a container, for a chain.
struct Source {
    code: String,
    item: Item,
    /// How many items: at least `lo`, at most `hi`.
    lo: usize,
    hi: usize,
    /// Bound on the items' values.
    bound: f64,
    /// The container.
    of: usize,
}

/// What a chain's source yields.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Item {
    /// `&F` (`xs.iter()`).
    Ref,
    /// `F` (`.copied()`).
    Val,
    /// `(&F, &F)` (`.zip(..)`).
    Zip,
    /// `(usize, &F)` (`.enumerate()`).
    Enumerate,
    /// `&[F]` of length 2 (`.windows(2)`).
    Window,
    /// `&[F]` of length 1 or 2 (`.chunks(2)`).
    Chunk,
    /// `usize` below the container's length (`0..xs.len()`).
    Index,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum SeqKind {
    /// `&[F]` or `&Vec<F>`: read only.
    Slice,
    /// `Vec<F>` held by value.
    Vec,
    /// `[F; N]`.
    Array,
    /// `&mut Vec<F>`.
    MutVec,
    /// `&mut [F]`: written in place, its length fixed.
    MutSlice,
    /// `&[F]`, a window or chunk in a closure over `xs.windows(2)`: read only, and not a value
    /// (the macro rejects passing it on or copying it).
    Window,
}

#[derive(Clone, Debug)]
struct Var {
    id: usize,
    name: String,
    kind: Kind,
    mutable: bool,
    /// Bound on the absolute value (of every element, for containers).
    bound: f64,
    /// Number of loop frames open where it was declared.
    depth: usize,
    /// Not to be assigned by random statements (a loop counter) or borrowed by a loop.
    frozen: bool,
    /// Not to be read either: borrowed mutably (by an `iter_mut` loop).
    hidden: bool,
}

/// A loop being generated.
#[derive(Clone, Debug)]
struct Frame {
    trips: i64,
    /// Remaining per-iteration increment budget, by variable id.
    budget: Vec<(usize, f64)>,
    /// `continue` is allowed (a `for` loop; a `while`/`loop` would skip its counter).
    can_continue: bool,
}

struct FnGen<'a> {
    rng: &'a mut Rng,
    cfg: &'a Config,
    fl: Float,
    helpers: &'a [HelperSig],
    scopes: Vec<Vec<Var>>,
    frames: Vec<Frame>,
    next_id: usize,
    names: usize,
    out: String,
    indent: usize,
    ret_bound: f64,
    ret: Ret,
    mixed: bool,
    /// Casts to the other float type are generated (a quarter of the cases).
    allow_cast: bool,
    /// Nesting depth of expressions in this function.
    expr_depth: usize,
    /// Statements generated, to keep functions small.
    budget_stmts: usize,
    /// Inside an `else` branch (how many deep).
    in_else: usize,
    /// Generating a condition (how many deep).
    in_condition: usize,
    /// The helpers writing into a caller's buffer that the case has so far (see
    /// [`FnGen::s_buffer`]), and their functions, written before the caller.
    buffers: Vec<BufferHelper>,
    buffer_fns: Vec<Function>,
    /// The case's seed in hexadecimal, for the buffer helpers' names: `b{k}_{seed}`.
    buffer_tag: String,
    /// The function's name, for the names of the helpers a statement writes beside it
    /// (`{fn}_dp{k}`).
    fn_tag: String,
}

/// The state a branch can change: merged after `if`/`match`.
#[derive(Clone)]
struct State {
    scopes: Vec<Vec<Var>>,
    frames: Vec<Frame>,
}

fn lit(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

impl<'a> FnGen<'a> {
    fn new(rng: &'a mut Rng, cfg: &'a Config, fl: Float, helpers: &'a [HelperSig]) -> Self {
        FnGen {
            rng,
            cfg,
            fl,
            helpers,
            scopes: vec![Vec::new()],
            frames: Vec::new(),
            next_id: 0,
            names: 0,
            out: String::new(),
            indent: 1,
            ret_bound: 0.0,
            ret: Ret::Scalar,
            mixed: false,
            allow_cast: false,
            expr_depth: 1,
            budget_stmts: 0,
            in_else: 0,
            in_condition: 0,
            buffers: Vec::new(),
            buffer_fns: Vec::new(),
            buffer_tag: String::new(),
            fn_tag: String::new(),
        }
    }

    fn f(&self) -> &'static str {
        self.fl.name()
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}", self.names)
    }

    fn declare(&mut self, name: String, kind: Kind, mutable: bool, bound: f64) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let depth = self.frames.len();
        self.scopes.last_mut().expect("a scope").push(Var {
            id,
            name,
            kind,
            mutable,
            bound: bound.max(1.0),
            depth,
            frozen: false,
            hidden: false,
        });
        id
    }

    /// Visible variables, innermost first, shadowed ones left out.
    fn visible(&self) -> Vec<Var> {
        let mut out: Vec<Var> = Vec::new();
        for scope in self.scopes.iter().rev() {
            for v in scope.iter().rev() {
                if !out.iter().any(|o| o.name == v.name) {
                    out.push(v.clone());
                }
            }
        }
        out.retain(|v| !v.hidden);
        out
    }

    fn var_mut(&mut self, id: usize) -> &mut Var {
        self.scopes
            .iter_mut()
            .flat_map(|s| s.iter_mut())
            .find(|v| v.id == id)
            .expect("a declared variable")
    }

    fn get(&self, id: usize) -> Var {
        self.scopes
            .iter()
            .flat_map(|s| s.iter())
            .find(|v| v.id == id)
            .expect("a declared variable")
            .clone()
    }

    fn state(&self) -> State {
        State {
            scopes: self.scopes.clone(),
            frames: self.frames.clone(),
        }
    }

    /// Merges the state after one branch (`self`) with the state `other` after another, for
    /// the code after both: bounds and lengths that hold on either path.
    fn merge(&mut self, other: &State) {
        for (s, o) in self.scopes.iter_mut().zip(&other.scopes) {
            for (v, w) in s.iter_mut().zip(o) {
                v.bound = v.bound.max(w.bound);
                if let (
                    Kind::Seq { lo, hi, .. },
                    Kind::Seq {
                        lo: lo2, hi: hi2, ..
                    },
                ) = (&mut v.kind, &w.kind)
                {
                    *lo = (*lo).min(*lo2);
                    *hi = (*hi).max(*hi2);
                }
            }
        }
        for (f, o) in self.frames.iter_mut().zip(&other.frames) {
            for (id, b) in f.budget.iter_mut() {
                if let Some((_, b2)) = o.budget.iter().find(|(i, _)| i == id) {
                    *b = b.min(*b2);
                }
            }
            for (id, b2) in &o.budget {
                if !f.budget.iter().any(|(i, _)| i == id) {
                    f.budget.push((*id, *b2));
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Functions
    // -----------------------------------------------------------------------------------------

    fn function(&mut self, name: String, entry: bool) -> (Function, HelperSig) {
        let params = self.params(entry);
        let mut sig_params = Vec::new();
        for p in &params {
            let bound = p.value.iter().fold(1.5f64, |m, v| m.max(v.abs()));
            let (kind, vbound) = match &p.kind {
                ParamKind::Scalar => (Kind::Float, bound),
                ParamKind::Usize => {
                    let (lo, hi) = if entry {
                        (p.value[0] as i64, p.value[0] as i64)
                    } else {
                        (1, 3)
                    };
                    sig_params.push((p.kind.clone(), hi));
                    self.declare_param(p, Kind::int(lo, hi, true), 1.0);
                    continue;
                }
                ParamKind::I32 => {
                    let (lo, hi) = if entry {
                        (p.value[0] as i64, p.value[0] as i64)
                    } else {
                        (-1, 3)
                    };
                    sig_params.push((p.kind.clone(), hi));
                    self.declare_param(p, Kind::int(lo, hi, false), 1.0);
                    continue;
                }
                ParamKind::Array(n) => (
                    Kind::Seq {
                        seq: SeqKind::Array,
                        lo: *n,
                        hi: *n,
                    },
                    bound,
                ),
                kind => {
                    let (lo, hi) = if entry {
                        (p.value.len(), p.value.len())
                    } else {
                        (1, 4)
                    };
                    let seq = match kind {
                        ParamKind::Slice | ParamKind::VecRef => SeqKind::Slice,
                        ParamKind::VecOwned => SeqKind::Vec,
                        ParamKind::MutSlice => SeqKind::MutSlice,
                        _ => SeqKind::MutVec,
                    };
                    (Kind::Seq { seq, lo, hi }, bound)
                }
            };
            sig_params.push((p.kind.clone(), 0));
            self.declare_param(p, kind, vbound);
            if matches!(p.kind, ParamKind::MutVec | ParamKind::MutSlice) {
                // Written through, though not declared `mut`.
                let id = self.next_id - 1;
                self.var_mut(id).mutable = true;
            }
        }
        self.ret = if !entry && self.rng.chance(25) {
            Ret::Pair
        } else {
            Ret::Scalar
        };
        let n = self
            .rng
            .range(self.cfg.min_stmts as i64, self.cfg.max_stmts as i64) as usize;
        let diverged = self.stmts(n, 0);
        if !diverged {
            let tail = self.result_expr();
            self.line(&tail);
        }
        let ret_ty = match self.ret {
            Ret::Scalar => self.f().to_string(),
            Ret::Pair => format!("({f}, {f})", f = self.f()),
        };
        let plist: Vec<String> = params
            .iter()
            .map(|p| {
                format!(
                    "{}{}: {}",
                    if p.mutable { "mut " } else { "" },
                    p.name,
                    p.kind.rust_type(self.fl)
                )
            })
            .collect();
        let source = format!(
            "fn {name}({}) -> {ret_ty} {{\n{}}}\n",
            plist.join(", "),
            self.out
        );
        let sig = HelperSig {
            name: name.clone(),
            params: sig_params,
            ret: self.ret,
            bound: self.ret_bound.max(1.0),
            generic: false,
        };
        (
            Function {
                name,
                params,
                ret: self.ret,
                source,
            },
            sig,
        )
    }

    fn declare_param(&mut self, p: &Param, kind: Kind, bound: f64) {
        self.declare(p.name.clone(), kind, p.mutable, bound);
    }

    /// The parameters, with their values at the checked point (entry function) — at least
    /// one differentiated.
    fn params(&mut self, entry: bool) -> Vec<Param> {
        let n = self.rng.range(1, 4) as usize;
        let mut out: Vec<Param> = Vec::new();
        let mut weights = self.cfg.param_weights.clone();
        if !entry {
            // A `&mut` argument cannot be passed from a differentiated caller.
            weights[5] = 0;
            weights[8] = 0;
        }
        for i in 0..n {
            let k = if i == 0 {
                // The first parameter is differentiated.
                let mut w = weights.clone();
                w[6] = 0;
                w[7] = 0;
                self.rng.weighted(&w).unwrap_or(0)
            } else {
                self.rng.weighted(&weights).unwrap_or(0)
            };
            if k == 5 || k == 8 {
                // One buffer at most.
                weights[5] = 0;
                weights[8] = 0;
            }
            let (name, kind) = match k {
                0 => (format!("x{i}"), ParamKind::Scalar),
                1 => (format!("s{i}"), ParamKind::Slice),
                2 => (format!("r{i}"), ParamKind::VecRef),
                3 => (format!("v{i}"), ParamKind::VecOwned),
                4 => (
                    format!("a{i}"),
                    ParamKind::Array(self.rng.range(1, 4) as usize),
                ),
                5 => (format!("out{i}"), ParamKind::MutVec),
                6 => (format!("n{i}"), ParamKind::Usize),
                8 => (format!("bs{i}"), ParamKind::MutSlice),
                _ => (format!("k{i}"), ParamKind::I32),
            };
            let mutable = matches!(
                kind,
                ParamKind::Scalar | ParamKind::VecOwned | ParamKind::Array(_)
            ) && self.rng.chance(30);
            let value = match &kind {
                ParamKind::Scalar => vec![self.point()],
                ParamKind::Usize => vec![self.rng.range(1, 4) as f64],
                ParamKind::I32 => vec![self.rng.range(-1, 3) as f64],
                ParamKind::Array(n) => (0..*n).map(|_| self.point()).collect(),
                ParamKind::MutVec => {
                    let len = self.rng.range(0, 3);
                    (0..len).map(|_| self.point()).collect()
                }
                ParamKind::MutSlice => {
                    let len = self.rng.range(1, 3);
                    (0..len).map(|_| self.point()).collect()
                }
                _ => {
                    let len = self.rng.range(1, 4);
                    (0..len).map(|_| self.point()).collect()
                }
            };
            out.push(Param {
                name,
                kind,
                mutable,
                value: if entry || !matches!(k, 6 | 7) {
                    value
                } else {
                    vec![]
                },
            });
        }
        if !entry {
            for p in &mut out {
                p.value.clear();
            }
        }
        out
    }

    /// A coordinate of the checked point: in ±[0.2, 1.4], with three decimals.
    fn point(&mut self) -> f64 {
        let m = (self.rng.float(0.2, 1.4) * 1000.0).round() / 1000.0;
        if self.rng.chance(50) { m } else { -m }
    }

    /// The function's last expression.
    fn result_expr(&mut self) -> String {
        match self.ret {
            Ret::Scalar => {
                let e = self.expr_bounded(self.expr_depth, LIMIT);
                let e = self.typed(e);
                self.ret_bound = self.ret_bound.max(e.bound);
                e.code
            }
            Ret::Pair => {
                let a = self.expr_bounded(2, LIMIT);
                let b = self.expr_bounded(2, LIMIT);
                self.ret_bound = self.ret_bound.max(a.bound).max(b.bound);
                format!("({}, {})", a.code, b.code)
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    /// `n` statements in the current scope; returns whether the block diverged (`return`,
    /// `break` or `continue` ended it).
    fn stmts(&mut self, n: usize, depth: usize) -> bool {
        for _ in 0..n {
            if self.stmt(depth) {
                return true;
            }
        }
        false
    }

    /// A block `{ .. }` of `n` statements in a new scope, ending with `tail` if given.
    fn block(&mut self, n: usize, depth: usize) -> bool {
        self.scopes.push(Vec::new());
        self.indent += 1;
        let d = self.stmts(n, depth);
        self.indent -= 1;
        self.scopes.pop();
        d
    }

    fn inner_len(&mut self, depth: usize) -> usize {
        if self.budget_stmts > 40 {
            return 1;
        }
        let max = (self.cfg.max_stmts / (depth + 2)).max(1);
        self.rng.range(1, max as i64 + 1) as usize
    }

    /// One statement; returns whether it diverges.
    fn stmt(&mut self, depth: usize) -> bool {
        self.budget_stmts += 1;
        let nested = depth < self.cfg.max_depth && self.budget_stmts < 40;
        let mut w: Vec<u32> = STMT_KINDS.iter().map(|k| self.cfg.stmt_weight(k)).collect();
        for (i, k) in STMT_KINDS.iter().enumerate() {
            let control = matches!(
                *k,
                "if_float"
                    | "if_int"
                    | "match"
                    | "for"
                    | "while"
                    | "loop"
                    | "iterate"
                    | "iter_mut"
                    | "float_while"
                    | "option_match"
                    | "stack"
                    | "drain"
                    | "nested_acc"
                    | "counter"
            );
            if control && !nested {
                w[i] = 0;
            }
        }
        for _ in 0..20 {
            let Some(k) = self.rng.weighted(&w) else {
                break;
            };
            let done = match STMT_KINDS[k] {
                "let" => self.s_let(),
                "assign" => self.s_assign(),
                "compound" => self.s_compound(),
                "if_float" => return self.s_if(depth, true),
                "if_int" => return self.s_if(depth, false),
                "match" => self.s_match(depth),
                "for" => self.s_for(depth),
                "while" => self.s_while(depth),
                "loop" => self.s_loop(depth),
                "return" => return self.s_return(depth),
                "local_vec" => self.s_local_vec(),
                "local_array" => self.s_local_array(),
                "container_op" => self.s_container_op(),
                "element_write" => self.s_element_write(),
                "iterate" => self.s_iterate(depth),
                "tuple" => self.s_tuple(),
                "deferred_let" => self.s_deferred_let(),
                "call" => self.s_call(),
                "sum" => self.s_sum(),
                "chain" => self.s_chain(),
                "closure" => self.s_closure(),
                "iter_mut" => self.s_iter_mut(depth),
                "vec_literal" => self.s_vec_literal(),
                "float_while" => self.s_float_while(depth),
                "option_match" => self.s_option_match(depth),
                "stack" => self.s_stack(depth),
                "ref_closure" => self.s_ref_closure(),
                "drain" => self.s_drain(depth),
                "tuple_assign" => self.s_tuple_assign(),
                "destructure" => self.s_destructure(),
                "range_slice" => self.s_range_slice(),
                "struct_local" => self.s_struct_local(),
                "if_tuple" => self.s_if_tuple(),
                "nested_acc" => self.s_nested_acc(depth),
                "ndarray" => self.s_ndarray(),
                "misc" => self.s_misc(),
                "window" => self.s_window(),
                "slice_ops" => self.s_slice_ops(),
                "counter" => self.s_counter(),
                "vec2" => self.s_vec2(),
                "matrix" => self.s_matrix(),
                "buffer" => self.s_buffer(depth),
                "best" => self.s_best(),
                "table" => self.s_table(),
                "grid" => self.s_grid(),
                "rk4" => self.s_rk4(),
                "forms" => self.s_forms(),
                "modes" => self.s_modes(),
                "rows" => self.s_rows(),
                "jump" => self.s_jump(),
                "table_dp" => self.s_table_dp(),
                "acc" => self.s_acc(),
                "tuple_fn" => self.s_tuple_fn(),
                "const_arr" => self.s_const_arr(),
                "nd_loop" => self.s_nd_loop(),
                "shadow" => self.s_shadow(),
                "model" => self.s_model(),
                "adapters" => self.s_adapters(),
                "int_bits" => self.s_int_bits(),
                "late_init" => self.s_late_init(),
                "nd_rows" => self.s_nd_rows(),
                "settings" => self.s_settings(),
                "running" => self.s_running(),
                "guards" => self.s_guards(),
                "early_exit" => self.s_early_exit(),
                "stencil3" => self.s_stencil3(),
                "int_casts" => self.s_int_casts(),
                "nd_zip" => self.s_nd_zip(),
                "row_copy" => self.s_row_copy(),
                "self_borrow" => self.s_self_borrow(),
                "closure_env" => self.s_closure_env(),
                "iter_shapes" => self.s_iter_shapes(),
                _ => false,
            };
            if done {
                return false;
            }
        }
        self.s_let();
        false
    }

    fn s_let(&mut self) -> bool {
        let floats: Vec<Var> = self
            .visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Float && !v.frozen)
            .collect();
        // Shadowing: `let x = x * 2.0;` reuses a visible name (not a loop's controlling
        // variable, which its update must still reach).
        let name = if !floats.is_empty() && self.rng.chance(15) {
            self.rng.pick(&floats).name.clone()
        } else {
            self.fresh("t")
        };
        let e = self.expr_bounded(self.expr_depth, LIMIT);
        let mutable = self.rng.chance(50);
        let m = if mutable { "mut " } else { "" };
        let f = self.f();
        let code = if !e.typed || self.rng.chance(20) {
            format!("let {m}{name}: {f} = {};", e.code)
        } else {
            format!("let {m}{name} = {};", e.code)
        };
        self.line(&code);
        self.declare(name, Kind::Float, mutable, e.bound);
        true
    }

    /// Mutable float variables that random statements may change.
    fn mutable_floats(&self) -> Vec<Var> {
        self.visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Float && v.mutable && !v.frozen)
            .collect()
    }

    fn s_assign(&mut self) -> bool {
        let vars = self.mutable_floats();
        if vars.is_empty() {
            return false;
        }
        let v = self.rng.pick(&vars).clone();
        let in_loop = v.depth < self.frames.len();
        if self.rng.chance(20) {
            // A literal over whatever the variable held (a call's result, say): its type is
            // the variable's.
            let e = if in_loop {
                let l = *self
                    .rng
                    .pick(&["0.5", "-0.25", "1.0", "0.", "1e-3", "0.75f32"]);
                let l = l.replace("f32", self.f());
                Ex::new(l, 1.0, false)
            } else {
                self.literal()
            };
            // Or one of two literals, chosen by a condition (`t = if c { 0.5 } else { -0.25 };`).
            let e = if self.rng.chance(30) {
                let c = if self.rng.chance(50) {
                    self.float_cond()
                } else {
                    self.int_cond()
                };
                let other = *self.rng.pick(&["0.5", "-0.25", "1.0"]);
                let code = format!("if {c} {{ {} }} else {{ {other} }}", e.code);
                Ex::new(code, e.bound.max(1.0), e.typed)
            } else {
                e
            };
            self.line(&format!("{} = {};", v.name, e.code));
            if !in_loop {
                self.var_mut(v.id).bound = e.bound.max(1.0);
            }
            return true;
        }
        let e = if in_loop {
            let e = self.expr(2);
            self.squash(e)
        } else {
            self.expr_bounded(self.expr_depth, LIMIT)
        };
        self.line(&format!("{} = {};", v.name, e.code));
        if !in_loop {
            self.var_mut(v.id).bound = e.bound.max(1.0);
        }
        true
    }

    /// The increment a variable declared outside the current loops may get in one iteration of
    /// the innermost one, taken from its budget; `None` outside loops.
    fn take_budget(&mut self, v: &Var) -> Option<f64> {
        if v.depth >= self.frames.len() {
            return None;
        }
        // The budget of the innermost frame, derived from the enclosing ones where missing: a
        // nested loop of T trips gets half of what is left, split over its trips.
        let mut avail = 1.0;
        for k in v.depth..self.frames.len() {
            if let Some((_, b)) = self.frames[k].budget.iter().find(|(i, _)| *i == v.id) {
                avail = *b;
                continue;
            }
            if k > v.depth {
                let parent = k - 1;
                let t = self.frames[k].trips as f64;
                let share = avail / 2.0;
                if let Some(e) = self.frames[parent]
                    .budget
                    .iter_mut()
                    .find(|(i, _)| *i == v.id)
                {
                    e.1 = share;
                }
                avail = share / t;
            }
            self.frames[k].budget.push((v.id, avail));
        }
        let take = (avail / 2.0 * 1000.0).floor() / 1000.0;
        let last = self.frames.len() - 1;
        if let Some(e) = self.frames[last]
            .budget
            .iter_mut()
            .find(|(i, _)| *i == v.id)
        {
            e.1 -= take;
        }
        if take <= 0.0 { Some(0.001) } else { Some(take) }
    }

    fn s_compound(&mut self) -> bool {
        let vars = self.mutable_floats();
        if vars.is_empty() {
            return false;
        }
        let v = self.rng.pick(&vars).clone();
        let op = *self.rng.pick(&["+=", "-=", "*=", "/="]);
        match op {
            "+=" | "-=" => {
                if let Some(b) = self.take_budget(&v) {
                    let e = self.expr(2);
                    let e = self.squash(e);
                    let code = if self.rng.chance(50) {
                        format!("{} {op} {} * {};", v.name, lit(b), e.code)
                    } else {
                        format!("{} {op} {} * {};", v.name, e.code, lit(b))
                    };
                    self.line(&code);
                } else {
                    let room = (LIMIT - v.bound).max(1.0);
                    let e = self.expr_bounded(2, room);
                    self.line(&format!("{} {op} {};", v.name, e.code));
                    self.var_mut(v.id).bound = v.bound + e.bound;
                }
            }
            "*=" => {
                let e = self.expr(2);
                let e = self.squash(e);
                self.line(&format!("{} *= {};", v.name, e.code));
            }
            _ => {
                let e = self.expr(2);
                let d = self.denominator(e);
                self.line(&format!("{} /= {};", v.name, d.code));
            }
        }
        true
    }

    /// A float condition: a comparison of differentiated values, perhaps combined.
    fn float_cond(&mut self) -> String {
        self.in_condition += 1;
        let c = self.float_cond_inner();
        self.in_condition -= 1;
        c
    }

    fn float_cond_inner(&mut self) -> String {
        let a = self.expr(2);
        let a = Ex::new(self.operand(a.code), a.bound, a.typed);
        // `(t - x) + x >= t` compares a value with itself up to rounding: its truth jumps at
        // nearly every point, and finite differences straddle the jumps. An operand that the
        // other one mentions is moved away by a margin.
        let apart = |b: Ex| {
            if mentions(&a.code, &b.code) {
                format!("{} + 0.25", b.code)
            } else {
                b.code
            }
        };
        let c = match self.rng.below(4) {
            0 => {
                let b = self.expr(1);
                format!("{} < {}", a.code, apart(b))
            }
            1 => {
                let a = self.typed(a).code;
                format!("{a} > {}", lit(self.rng.range(-5, 5) as f64 / 10.0))
            }
            2 => {
                let b = self.expr(1);
                format!("{} >= {}", a.code, apart(b))
            }
            _ => {
                let a = self.typed(a).code;
                format!("{} <= {a}", lit(self.rng.range(-5, 5) as f64 / 10.0))
            }
        };
        match self.rng.below(6) {
            0 => format!("!({c})"),
            1 => {
                let i = self.int_cond();
                format!("{c} && {i}")
            }
            2 => {
                let d = self.expr(1);
                let d = self.typed(d).code;
                let d = self.operand(d);
                format!("({c}) || {d} < 0.0")
            }
            _ => c,
        }
    }

    /// The left operand of a comparison: parenthesized if it starts with a block and the
    /// configuration says so.
    fn operand(&self, code: String) -> String {
        if code.starts_with('{') && !self.cfg.block_first_in_condition {
            format!("({code})")
        } else {
            code
        }
    }

    fn ints(&self) -> Vec<Var> {
        self.visible()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Int { .. }))
            .collect()
    }

    fn int_cond(&mut self) -> String {
        let ints = self.ints();
        if ints.is_empty() {
            let seqs = self.seqs();
            if let Some(s) = seqs.first() {
                return format!("{}.len() > {}", s.name, self.rng.range(0, 2));
            }
            return "true".into();
        }
        let v = self.rng.pick(&ints).clone();
        let Kind::Int { usize, .. } = v.kind else {
            unreachable!()
        };
        match self.rng.below(4) {
            0 if usize => format!("{} % 2 == 0", v.name),
            1 => format!("{} > {}", v.name, self.rng.range(0, 2)),
            2 => format!("{} != {}", v.name, self.rng.range(0, 2)),
            _ => {
                let other = self.rng.pick(&ints).clone();
                if matches!(other.kind, Kind::Int { usize: u2, .. } if u2 == usize) {
                    format!("{} < {}", v.name, other.name)
                } else {
                    format!("{} == {}", v.name, self.rng.range(0, 3))
                }
            }
        }
    }

    fn s_if(&mut self, depth: usize, float: bool) -> bool {
        let float = float || self.ints().is_empty();
        let cond = if float {
            self.float_cond()
        } else {
            self.int_cond()
        };
        self.line(&format!("if {cond} {{"));
        let before = self.state();
        let n = self.inner_len(depth);
        let d1 = self.block(n, depth + 1);
        let after_then = self.state();
        self.scopes = before.scopes.clone();
        self.frames = before.frames.clone();
        let mut diverged_else = false;
        let has_else = self.rng.chance(70);
        if has_else {
            if self.rng.chance(30) {
                let cond = if self.rng.chance(50) {
                    self.float_cond()
                } else {
                    self.int_cond()
                };
                self.line(&format!("}} else if {cond} {{"));
                let n = self.inner_len(depth);
                self.in_else += 1;
                let d2 = self.block(n, depth + 1);
                self.in_else -= 1;
                let mid = self.state();
                self.scopes = before.scopes.clone();
                self.frames = before.frames.clone();
                self.line("} else {");
                let n = self.inner_len(depth);
                self.in_else += 1;
                let d3 = self.block(n, depth + 1);
                self.in_else -= 1;
                if d2 && !d3 {
                } else if d3 && !d2 {
                    self.scopes = mid.scopes;
                    self.frames = mid.frames;
                } else {
                    self.merge(&mid);
                }
                diverged_else = d2 && d3;
            } else {
                self.line("} else {");
                let n = self.inner_len(depth);
                self.in_else += 1;
                diverged_else = self.block(n, depth + 1);
                self.in_else -= 1;
            }
        }
        self.line("}");
        match (d1, diverged_else) {
            (true, true) => true,
            (true, false) => false,
            (false, true) => {
                self.scopes = after_then.scopes;
                self.frames = after_then.frames;
                false
            }
            (false, false) => {
                self.merge(&after_then);
                false
            }
        }
    }

    fn s_match(&mut self, depth: usize) -> bool {
        let ints = self.ints();
        if ints.is_empty() {
            return false;
        }
        let v = self.rng.pick(&ints).clone();
        let Kind::Int { usize, .. } = v.kind else {
            unreachable!()
        };
        let scrutinee = if usize && self.rng.chance(30) {
            format!("{} % 3", v.name)
        } else {
            v.name.clone()
        };
        if self.rng.chance(50) {
            // As a value.
            let name = self.fresh("t");
            let e1 = self.expr_bounded(2, LIMIT);
            let e2 = self.expr_bounded(2, LIMIT);
            let e3 = self.expr_bounded(2, LIMIT);
            let bound = e1.bound.max(e2.bound).max(e3.bound);
            let f = self.f();
            let [a0, a1, a2] = self.match_arms();
            self.line(&format!("let {name}: {f} = match {scrutinee} {{"));
            self.line(&format!("    {a0} => {},", e1.code));
            self.line(&format!("    {a1} => {},", e2.code));
            self.line(&format!("    {a2} => {},", e3.code));
            self.line("};");
            self.declare(name, Kind::Float, false, bound);
            return true;
        }
        self.line(&format!("match {scrutinee} {{"));
        let before = self.state();
        let mut merged: Option<State> = None;
        let arms = self.match_arms();
        for (i, arm) in arms.iter().enumerate() {
            let arm = if i == 1 && self.rng.chance(30) {
                format!("m if m > {}", self.rng.range(2, 3))
            } else {
                arm.to_string()
            };
            self.scopes = before.scopes.clone();
            self.frames = before.frames.clone();
            self.line(&format!("{arm} => {{"));
            if arm.starts_with('m') {
                self.scopes.push(Vec::new());
                self.declare("m".into(), Kind::int(0, 6, usize), false, 1.0);
            }
            let n = self.inner_len(depth);
            let d = self.block(n, depth + 1);
            if arm.starts_with('m') {
                self.scopes.pop();
            }
            self.line("}");
            if !d {
                match &merged {
                    None => merged = Some(self.state()),
                    Some(m) => {
                        let m = m.clone();
                        self.merge(&m);
                        merged = Some(self.state());
                    }
                }
            }
        }
        self.line("}");
        match merged {
            Some(m) => {
                self.scopes = m.scopes;
                self.frames = m.frames;
                false
            }
            None => {
                // Every arm diverged; the code after is unreachable but still valid.
                self.scopes = before.scopes;
                self.frames = before.frames;
                false
            }
        }
    }

    /// The patterns of a three-armed `match` on an integer: literals and `|`, or ranges.
    fn match_arms(&mut self) -> [String; 3] {
        let arms: [&str; 3] = match self.rng.below(5) {
            0 => ["0..=1", "2..=3", "_"],
            1 => ["..=0", "1..3", "_"],
            2 => ["0", "1..=2", "_"],
            _ => ["0", "1 | 2", "_"],
        };
        arms.map(String::from)
    }

    /// Opens a loop frame of at most `trips` iterations: outer variables that may change get
    /// their in-loop bounds, outer containers that may grow lose their exact length.
    fn enter_loop(&mut self, trips: i64, can_continue: bool) {
        let k = self.frames.len();
        for scope in self.scopes.iter_mut() {
            for v in scope.iter_mut() {
                if v.depth == k && v.mutable {
                    v.bound += trips as f64;
                }
            }
        }
        self.frames.push(Frame {
            trips: trips.max(1),
            budget: Vec::new(),
            can_continue,
        });
        self.scopes.push(Vec::new());
    }

    /// Closes the innermost loop frame: a container pushed to inside may have grown by up to
    /// the pushes times the trips.
    fn exit_loop(&mut self, before: &State) {
        self.scopes.pop();
        let frame = self.frames.pop().expect("a frame");
        for (s, b) in self.scopes.iter_mut().zip(&before.scopes) {
            for (v, w) in s.iter_mut().zip(b) {
                if let (
                    Kind::Seq { lo, hi, .. },
                    Kind::Seq {
                        lo: lo0, hi: hi0, ..
                    },
                ) = (&mut v.kind, &w.kind)
                {
                    // Inside, only pushes change outer containers; `hi - hi0` is what one
                    // iteration can add.
                    let grow = hi.saturating_sub(*hi0);
                    *hi = *hi0 + grow * frame.trips as usize;
                    *lo = (*lo).min(*lo0);
                }
            }
        }
    }

    /// A range over integers: its text, the loop variable's range, the trip count, and the
    /// container it indexes (`0..v.len()`).
    fn range(&mut self) -> (String, i64, i64, i64, Option<usize>) {
        let ints: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Int { usize: true, lo, hi, .. } if lo >= 0 && hi <= self.cfg.max_trips))
            .collect();
        let seqs: Vec<Var> = self
            .seqs()
            .into_iter()
            .filter(
                |v| matches!(v.kind, Kind::Seq { hi, .. } if hi as i64 <= self.cfg.max_trips + 2),
            )
            .filter(|v| !(v.mutable && v.depth < self.frames.len()))
            .collect();
        match self.rng.below(6) {
            0 | 1 if !ints.is_empty() => {
                let v = self.rng.pick(&ints).clone();
                let Kind::Int { hi, .. } = v.kind else {
                    unreachable!()
                };
                if self.rng.chance(25) {
                    (format!("0..={}", v.name), 0, hi, hi + 1, None)
                } else if self.rng.chance(30) {
                    (format!("1..{}", v.name), 1, hi - 1, hi - 1, None)
                } else {
                    (format!("0..{}", v.name), 0, hi - 1, hi, None)
                }
            }
            2 | 3 if !seqs.is_empty() => {
                let v = self.rng.pick(&seqs).clone();
                let Kind::Seq { hi, .. } = v.kind else {
                    unreachable!()
                };
                (
                    format!("0..{}.len()", v.name),
                    0,
                    hi as i64 - 1,
                    hi as i64,
                    Some(v.id),
                )
            }
            _ => {
                let a = self.rng.range(0, 1);
                let b = self.rng.range(a + 1, a + self.cfg.max_trips);
                (format!("{a}..{b}"), a, b - 1, b - a, None)
            }
        }
    }

    fn s_for(&mut self, depth: usize) -> bool {
        let (mut range, lo, hi, trips, for_seq) = self.range();
        if trips <= 0 {
            return false;
        }
        if self.rng.chance(25) {
            range = format!("({range}).rev()");
        }
        let name = if self.rng.chance(15) {
            "_".to_string()
        } else {
            format!("i{}", self.frames.len())
        };
        self.line(&format!("for {name} in {range} {{"));
        let before = self.state();
        self.enter_loop(trips, true);
        if name != "_" {
            let index_for = for_seq.into_iter().collect();
            self.declare(
                name,
                Kind::Int {
                    lo: lo.max(0),
                    hi: hi.max(0),
                    usize: true,
                    index_for,
                },
                false,
                1.0,
            );
        }
        self.loop_body(depth, &before);
        self.line("}");
        true
    }

    /// The statements of a `for` loop's body, then the frame closed.
    fn loop_body(&mut self, depth: usize, before: &State) {
        self.indent += 1;
        let n = self.inner_len(depth);
        self.stmts(n, depth + 1);
        self.indent -= 1;
        self.exit_loop(before);
    }

    /// A counter `k` that goes from 0 to a bound: the loop condition of `while`/`loop`.
    fn counter_bound(&mut self) -> (String, i64) {
        let ints: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Int { usize: true, lo, hi, .. } if lo >= 1 && hi <= self.cfg.max_trips))
            .collect();
        if !ints.is_empty() && self.rng.chance(60) {
            let v = self.rng.pick(&ints).clone();
            let Kind::Int { hi, .. } = v.kind else {
                unreachable!()
            };
            (v.name, hi)
        } else {
            let t = self.rng.range(1, self.cfg.max_trips);
            (t.to_string(), t)
        }
    }

    fn s_while(&mut self, depth: usize) -> bool {
        let k = self.fresh("k");
        let (bound, trips) = self.counter_bound();
        self.line(&format!("let mut {k} = 0;"));
        let id = self.declare(k.clone(), Kind::int(0, trips, true), true, 1.0);
        self.var_mut(id).frozen = true;
        let cond = if self.rng.chance(30) {
            // Parenthesized: a condition `a || b` would otherwise bind looser than the
            // counter's `&&` and leave the loop unbounded.
            format!("{k} < {bound} && ({})", self.float_cond())
        } else {
            format!("{k} < {bound}")
        };
        self.line(&format!("while {cond} {{"));
        let before = self.state();
        self.enter_loop(trips, false);
        self.indent += 1;
        let n = self.inner_len(depth);
        let d = self.stmts(n, depth + 1);
        if !d {
            self.line(&format!("{k} += 1;"));
        }
        self.indent -= 1;
        self.exit_loop(&before);
        self.line("}");
        true
    }

    /// A `while` loop whose condition compares floats only, as users write iterations that run
    /// until a value crosses a threshold. It ends by construction:
    ///
    /// - `let mut w = 1.0 + tanh(e); while w > c { ..; w -= 0.75 + 0.25·tanh(e'); }`: `w`
    ///   starts below 2 and falls by more than 0.5 per trip;
    /// - `let h = 0.75 + 0.25·tanh(e); let mut t = 0.0; while t < T { ..; t += h; }`: a time
    ///   stepped by a differentiated step of at least 0.5 up to a horizon `T`;
    /// - `let mut c = 0.0; while c < N && (cond) { ..; c += 1.0; }`: any float condition with
    ///   a float counter as its hard cap.
    ///
    /// The controlling variable and the step are read in the body but neither assigned nor
    /// shadowed there; the update comes first or last in the body (a body that ends by
    /// `break` or `return` skips it). The conditions are false for a NaN.
    fn s_float_while(&mut self, depth: usize) -> bool {
        let f = self.f();
        // The controlling variable, its step (`None`: a fall made in the loop), the condition
        // and the most trips.
        let (var, step, cond, trips) = match self.rng.below(3) {
            0 => {
                // Prefixes no parameter has: the condition may read the parameters.
                let r = self.fresh("w");
                let e = self.expr(2);
                let e = self.typed(e);
                self.line(&format!("let mut {r}: {f} = 1.0 + ({}).tanh();", e.code));
                // Thresholds off the values `w` reaches where the `tanh`s saturate or two
                // steps' `tanh`s cancel (2 - 0.75k, 1 - 0.75k: 0.5, 0.25, ..), where a rounding
                // decides whether one more step is taken at the point but not beside it.
                let (c, c_text) = *self
                    .rng
                    .pick(&[(0.3, "0.3"), (0.55, "0.55"), (0.05, "0.05")]);
                // w_k < 2 - 0.5k, so the loop runs while 2 - 0.5k > c at most.
                let trips = ((2.0 - c) / 0.5_f64).ceil() as i64;
                // Not `!(w <= c)`: a NaN would keep that loop running.
                let cond = if self.rng.chance(50) {
                    format!("{r} > {c_text}")
                } else {
                    format!("{c_text} < {r}")
                };
                (r, None, cond, trips)
            }
            1 => {
                let h = self.fresh("h");
                let e = self.expr(2);
                let e = self.typed(e);
                self.line(&format!("let {h} = 0.75 + 0.25 * ({}).tanh();", e.code));
                // Frozen: a `let` in the body must not shadow the step with a smaller one.
                let hid = self.declare(h.clone(), Kind::Float, false, 1.0);
                self.var_mut(hid).frozen = true;
                let t = self.fresh("t");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                // Off the sums of steps 0.5, 0.75, 1 (see the thresholds above).
                let horizon = self.rng.range(2, 4) as f64 / 2.0 + 0.1;
                let cond = format!("{t} < {}", lit(horizon));
                // t_k ≥ 0.5k.
                let trips = (horizon / 0.5).ceil() as i64;
                let step = format!("{t} += {h};");
                (t, Some(step), cond, trips)
            }
            _ => {
                let s = self.fresh("c");
                self.line(&format!("let mut {s}: {f} = 0.0;"));
                let n = self.rng.range(1, self.cfg.max_trips);
                let c = self.float_cond();
                let cap = format!("{s} < {}", lit(n as f64));
                let cond = if self.rng.chance(50) {
                    format!("{cap} && ({c})")
                } else {
                    format!("({c}) && {cap}")
                };
                let step = format!("{s} += 1.0;");
                (s, Some(step), cond, n)
            }
        };
        let id = self.declare(var.clone(), Kind::Float, true, 2.0);
        self.var_mut(id).frozen = true;
        self.line(&format!("while {cond} {{"));
        let before = self.state();
        self.enter_loop(trips, false);
        self.indent += 1;
        let first = self.rng.chance(30);
        // The fall is written where it stands, and may read what the body declared before it.
        let update = |g: &mut Self| match &step {
            Some(s) => s.clone(),
            None => {
                let e = g.expr(2);
                let e = g.typed(e);
                format!("{var} -= 0.75 + 0.25 * ({}).tanh();", e.code)
            }
        };
        if first {
            let u = update(self);
            self.line(&u);
        }
        let n = self.inner_len(depth);
        let d = self.stmts(n, depth + 1);
        if !first && !d {
            let u = update(self);
            self.line(&u);
        }
        self.indent -= 1;
        self.exit_loop(&before);
        self.line("}");
        true
    }

    fn s_loop(&mut self, depth: usize) -> bool {
        let k = self.fresh("k");
        let (bound, trips) = self.counter_bound();
        self.line(&format!("let mut {k} = 0;"));
        let id = self.declare(k.clone(), Kind::int(0, trips, true), true, 1.0);
        self.var_mut(id).frozen = true;
        self.line("loop {");
        let before = self.state();
        self.enter_loop(trips, false);
        self.indent += 1;
        let n = self.inner_len(depth);
        let d = self.stmts(n, depth + 1);
        if !d {
            self.line(&format!("{k} += 1;"));
            self.line(&format!("if {k} >= {bound} {{"));
            self.line("    break;");
            self.line("}");
        }
        self.indent -= 1;
        self.exit_loop(&before);
        self.line("}");
        true
    }

    /// `return e;` — or, in a loop, `break;`/`continue;` — at the end of a block; at the top
    /// level, `if c { return e; }`.
    fn s_return(&mut self, depth: usize) -> bool {
        if self.in_else > 0 && !self.cfg.diverging_else {
            return false;
        }
        if depth == 0 {
            if self.budget_stmts < 3 {
                return false;
            }
            let cond = if self.rng.chance(50) {
                self.float_cond()
            } else {
                self.int_cond()
            };
            self.line(&format!("if {cond} {{"));
            self.indent += 1;
            let r = self.return_value();
            self.line(&format!("return {r};"));
            self.indent -= 1;
            self.line("}");
            return false;
        }
        let in_loop = !self.frames.is_empty();
        let choice = self.rng.below(4);
        if in_loop && choice == 0 {
            self.line("break;");
        } else if in_loop && choice == 1 && self.frames.last().is_some_and(|f| f.can_continue) {
            self.line("continue;");
        } else {
            let r = self.return_value();
            self.line(&format!("return {r};"));
        }
        true
    }

    fn return_value(&mut self) -> String {
        match self.ret {
            Ret::Scalar => {
                let e = self.expr_bounded(2, LIMIT);
                let e = self.typed(e);
                self.ret_bound = self.ret_bound.max(e.bound);
                e.code
            }
            Ret::Pair => {
                let a = self.expr_bounded(1, LIMIT);
                let b = self.expr_bounded(1, LIMIT);
                self.ret_bound = self.ret_bound.max(a.bound).max(b.bound);
                format!("({}, {})", a.code, b.code)
            }
        }
    }

    fn seqs(&self) -> Vec<Var> {
        self.visible()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Seq { .. }))
            .collect()
    }

    /// The visible containers other than the windows of a `windows(..)` loop's item.
    fn seqs_but_windows(&self) -> Vec<Var> {
        self.seqs()
            .into_iter()
            .filter(|v| {
                !matches!(
                    v.kind,
                    Kind::Seq {
                        seq: SeqKind::Window,
                        ..
                    }
                )
            })
            .collect()
    }

    /// The containers of [`Self::seqs_but_windows`] that hold at least `n` elements.
    fn seqs_of_at_least(&self, n: usize) -> Vec<Var> {
        self.seqs_but_windows()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Seq { lo, .. } if lo >= n))
            .collect()
    }

    /// A length for a new container: a literal or an integer variable.
    fn length(&mut self) -> (String, usize, usize) {
        let ints: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(
                |v| matches!(v.kind, Kind::Int { usize: true, lo, hi, .. } if lo >= 0 && lo <= hi && hi <= 5),
            )
            .collect();
        if !ints.is_empty() && self.rng.chance(50) {
            let v = self.rng.pick(&ints).clone();
            let Kind::Int { lo, hi, .. } = v.kind else {
                unreachable!()
            };
            if self.rng.chance(30) {
                (format!("{} + 1", v.name), lo as usize + 1, hi as usize + 1)
            } else {
                (v.name, lo as usize, hi as usize)
            }
        } else {
            let n = self.rng.range(1, 4) as usize;
            (n.to_string(), n, n)
        }
    }

    fn s_local_vec(&mut self) -> bool {
        let name = self.fresh("h");
        let f = self.f();
        let seqs = self.seqs();
        match self.rng.below(5) {
            0 => {
                let (len, lo, hi) = self.length();
                let zero = *self.rng.pick(&["0.0", "0.", "0.0"]);
                self.line(&format!("let mut {name}: Vec<{f}> = vec![{zero}; {len}];"));
                self.declare(name, Kind::vec(lo, hi), true, 1.0);
            }
            1 => {
                // `Vec::new()` and pushes.
                let e = self.expr_bounded(2, LIMIT);
                if e.typed && self.rng.chance(50) {
                    self.line(&format!("let mut {name} = Vec::new();"));
                } else {
                    self.line(&format!("let mut {name}: Vec<{f}> = Vec::new();"));
                }
                self.line(&format!("{name}.push({});", e.code));
                self.declare(name, Kind::vec(1, 1), true, e.bound);
            }
            2 if !seqs.is_empty() => {
                let s = self.rng.pick(&seqs).clone();
                let Kind::Seq { seq, lo, hi } = s.kind else {
                    unreachable!()
                };
                let copy = match seq {
                    SeqKind::Slice | SeqKind::Array => *self.rng.pick(&["to_vec", "to_owned"]),
                    // `&mut [F]` is not `Clone`.
                    SeqKind::MutSlice => "to_vec",
                    _ => *self.rng.pick(&["clone", "to_vec"]),
                };
                let copy = if seq == SeqKind::Array && copy == "to_owned" {
                    "to_vec"
                } else {
                    copy
                };
                self.line(&format!("let mut {name} = {}.{copy}();", s.name));
                self.declare(name, Kind::vec(lo, hi), true, s.bound);
            }
            3 => {
                // Constants, not differentiated.
                let n = self.rng.range(1, 3) as usize;
                let items: Vec<String> = (0..n)
                    .map(|_| lit(self.rng.range(-10, 10) as f64 / 4.0))
                    .collect();
                self.line(&format!(
                    "let mut {name}: Vec<{f}> = vec![{}];",
                    items.join(", ")
                ));
                self.declare(name, Kind::vec(n, n), true, 2.5);
            }
            _ => {
                let (len, lo, hi) = self.length();
                self.line(&format!("let mut {name} = Vec::with_capacity({len});"));
                let e = self.expr_bounded(1, LIMIT);
                let e = self.typed(e);
                self.line(&format!("{name}.push({});", e.code));
                let _ = (lo, hi);
                self.declare(name, Kind::vec(1, 1), true, e.bound);
            }
        }
        true
    }

    fn s_local_array(&mut self) -> bool {
        let name = self.fresh("b");
        let f = self.f();
        let n = self.rng.range(1, 4) as usize;
        let init = match self.rng.below(3) {
            0 => format!("let mut {name}: [{f}; {n}] = [0.0; {n}];"),
            1 => format!("let mut {name} = [0.0{f}; {n}];"),
            _ => format!("let mut {name} = [0.5 as {f}; {n}];"),
        };
        self.line(&init);
        self.declare(
            name.clone(),
            Kind::Seq {
                seq: SeqKind::Array,
                lo: n,
                hi: n,
            },
            true,
            1.0,
        );
        // Fill it element by element.
        let e = self.expr_bounded(2, LIMIT);
        self.line(&format!("{name}[0] = {};", e.code));
        let id = self.lookup(&name).expect("declared").id;
        let b = self.get(id).bound.max(e.bound);
        self.var_mut(id).bound = b;
        true
    }

    fn lookup(&self, name: &str) -> Option<Var> {
        self.visible().into_iter().find(|v| v.name == name)
    }

    /// An index valid for the container `s` (whose length is at least 1).
    fn index(&mut self, s: &Var) -> String {
        let Kind::Seq { lo, .. } = s.kind else {
            unreachable!()
        };
        let ints = self.ints();
        let for_this: Vec<Var> = ints
            .iter()
            .filter(|v| match &v.kind {
                Kind::Int {
                    usize: true,
                    lo: ilo,
                    hi,
                    index_for,
                } => *ilo >= 0 && ((*hi as usize) < lo || index_for.contains(&s.id)),
                _ => false,
            })
            .cloned()
            .collect();
        let usizes: Vec<Var> = ints
            .iter()
            .filter(|v| matches!(v.kind, Kind::Int { usize: true, lo, .. } if lo >= 0))
            .cloned()
            .collect();
        match self.rng.below(5) {
            0 | 1 if !for_this.is_empty() => self.rng.pick(&for_this).name.clone(),
            2 if !usizes.is_empty() => {
                let v = self.rng.pick(&usizes).name.clone();
                if self.rng.chance(50) {
                    format!("{v} % {}.len()", s.name)
                } else {
                    format!("({v} + 1) % {}.len()", s.name)
                }
            }
            3 => format!("{}.len() - 1", s.name),
            4 if self.fl == Float::F64 && self.in_condition == 0 => {
                // An index computed from a differentiated value: piecewise constant.
                let floats: Vec<Var> = self
                    .visible()
                    .into_iter()
                    .filter(|v| v.kind == Kind::Float && v.bound <= LIMIT)
                    .collect();
                if floats.is_empty() {
                    return self.rng.below(lo).to_string();
                }
                let x = self.rng.pick(&floats).name.clone();
                format!("(({x}).abs() * 2.0) as usize % {}.len()", s.name)
            }
            _ => self.rng.below(lo).to_string(),
        }
    }

    /// An index valid for `s` that does not read `s` (for element writes).
    fn index_without_len(&mut self, s: &Var) -> String {
        let Kind::Seq { lo, .. } = s.kind else {
            unreachable!()
        };
        for _ in 0..4 {
            let ix = self.index(s);
            if !ix.contains(&format!("{}.len()", s.name)) {
                return ix;
            }
        }
        let usizes: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Int { usize: true, lo, .. } if lo >= 0))
            .collect();
        if !usizes.is_empty() && self.rng.chance(50) {
            format!("{} % {lo}", self.rng.pick(&usizes).name)
        } else {
            self.rng.below(lo).to_string()
        }
    }

    /// Containers that a statement may change here: mutable, not borrowed by a loop, and —
    /// inside a loop — only those declared inside it may shrink.
    fn writable_seqs(&self) -> Vec<Var> {
        self.seqs()
            .into_iter()
            .filter(|v| {
                v.mutable
                    && !v.frozen
                    && !matches!(
                        v.kind,
                        Kind::Seq {
                            seq: SeqKind::Slice,
                            ..
                        }
                    )
            })
            .collect()
    }

    fn s_element_write(&mut self) -> bool {
        let seqs: Vec<Var> = self
            .writable_seqs()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Seq { lo, .. } if lo >= 1))
            .collect();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        // `v[v.len() - 1] += ..` borrows `v` twice: plain Rust rejects it (E0502).
        let ix = self.index_without_len(&s);
        let in_loop = s.depth < self.frames.len();
        if self.rng.chance(50) {
            let e = if in_loop {
                let e = self.expr(2);
                self.squash(e)
            } else {
                self.expr_bounded(2, LIMIT)
            };
            self.line(&format!("{}[{ix}] = {};", s.name, e.code));
            if !in_loop {
                let b = s.bound.max(e.bound);
                self.var_mut(s.id).bound = b;
            }
        } else {
            let op = *self.rng.pick(&["+=", "-=", "*="]);
            if op == "*=" {
                let e = self.expr(1);
                let e = self.squash(e);
                self.line(&format!("{}[{ix}] *= {};", s.name, e.code));
            } else if let Some(b) = self.take_budget(&s) {
                let e = self.expr(2);
                let e = self.squash(e);
                self.line(&format!("{}[{ix}] {op} {} * {};", s.name, lit(b), e.code));
            } else {
                let room = (LIMIT - s.bound).max(1.0);
                let e = self.expr_bounded(2, room);
                self.line(&format!("{}[{ix}] {op} {};", s.name, e.code));
                self.var_mut(s.id).bound = s.bound + e.bound;
            }
        }
        true
    }

    fn set_len(&mut self, id: usize, new_lo: usize, new_hi: usize) {
        if let Kind::Seq { lo, hi, .. } = &mut self.var_mut(id).kind {
            *lo = new_lo;
            *hi = new_hi;
        }
    }

    /// A value to store in container `s`: squashed inside loops (where `s` is outer), else
    /// bounded, and the container's bound updated.
    fn store_value(&mut self, s: &Var) -> Ex {
        if s.depth < self.frames.len() {
            let e = self.expr(2);
            self.squash(e)
        } else {
            let e = self.expr_bounded(2, LIMIT);
            let b = self.get(s.id).bound.max(e.bound);
            self.var_mut(s.id).bound = b;
            e
        }
    }

    fn s_container_op(&mut self) -> bool {
        let seqs = self.writable_seqs();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { seq, lo, hi } = s.kind.clone() else {
            unreachable!()
        };
        let in_loop = s.depth < self.frames.len();
        let growable = matches!(seq, SeqKind::Vec | SeqKind::MutVec);
        let op = *self.rng.pick(&[
            "push",
            "pop",
            "insert",
            "remove",
            "swap_remove",
            "swap",
            "reverse",
            "truncate",
            "resize",
            "fill",
            "extend_from_slice",
            "copy_from_slice",
            "clear",
            "rotate_left",
            "rotate_right",
            "split_off",
            "clone_from_slice",
            "first_mut",
            "last_mut",
            "get_mut",
        ]);
        let name = s.name.clone();
        match op {
            "push" if growable => {
                let e = self.store_value(&s);
                self.line(&format!("{name}.push({});", e.code));
                self.set_len(s.id, lo + usize::from(!in_loop), hi + 1);
            }
            "pop" if growable && !in_loop && lo >= 1 => {
                if self.rng.chance(60) {
                    let t = self.fresh("t");
                    self.line(&format!("let {t} = {name}.pop().unwrap();"));
                    self.declare(t, Kind::Float, false, s.bound);
                } else {
                    self.line(&format!("{name}.pop();"));
                }
                self.set_len(s.id, lo - 1, hi - 1);
            }
            "insert" if growable && !in_loop => {
                let at = if lo >= 1 && seq == SeqKind::Vec && self.rng.chance(50) {
                    format!("{name}.len() - 1")
                } else {
                    self.rng.below(lo + 1).to_string()
                };
                let e = self.store_value(&s);
                self.line(&format!("{name}.insert({at}, {});", e.code));
                self.set_len(s.id, lo + 1, hi + 1);
            }
            "remove" | "swap_remove" if growable && !in_loop && lo >= 1 => {
                let at = self.index_without_len(&s);
                if self.rng.chance(60) {
                    let t = self.fresh("t");
                    self.line(&format!("let {t} = {name}.{op}({at});"));
                    self.declare(t, Kind::Float, false, s.bound);
                } else {
                    self.line(&format!("{name}.{op}({at});"));
                }
                self.set_len(s.id, lo - 1, hi - 1);
            }
            "swap" if lo >= 1 => {
                // `v.swap(i % v.len(), ..)` borrows `v` twice through `DerefMut` (E0502).
                let a = self.index_without_len(&s);
                let b = self.index_without_len(&s);
                self.line(&format!("{name}.swap({a}, {b});"));
            }
            "reverse" => self.line(&format!("{name}.reverse();")),
            "truncate" if growable && !in_loop => {
                let k = self.rng.range(1, 3) as usize;
                self.line(&format!("{name}.truncate({k});"));
                self.set_len(s.id, lo.min(k), hi.min(k));
            }
            "resize" if growable && !in_loop => {
                let (len, nlo, nhi) = self.length();
                let e = self.store_value(&s);
                self.line(&format!("{name}.resize({len}, {});", e.code));
                self.set_len(s.id, nlo, nhi);
            }
            "fill" => {
                let e = if in_loop {
                    let e = self.expr(2);
                    self.squash(e)
                } else {
                    let e = self.expr_bounded(2, LIMIT);
                    // Every element is now e (if any).
                    self.var_mut(s.id).bound = e.bound.max(1.0);
                    e
                };
                if mentions(&e.code, &name) {
                    // `v.fill(v[0])` or `v.fill(h(&v))` borrows `v` twice (E0502): read it
                    // first.
                    let t = self.fresh("t");
                    self.line(&format!("let {t} = {};", e.code));
                    self.line(&format!("{name}.fill({t});"));
                } else {
                    self.line(&format!("{name}.fill({});", e.code));
                }
            }
            "extend_from_slice" if growable && !in_loop => {
                let others: Vec<Var> = self.seqs().into_iter().filter(|v| v.id != s.id).collect();
                if others.is_empty() {
                    return false;
                }
                let o = self.rng.pick(&others).clone();
                let Kind::Seq {
                    lo: olo, hi: ohi, ..
                } = o.kind
                else {
                    unreachable!()
                };
                let arg = slice_arg(&o);
                self.line(&format!("{name}.extend_from_slice({arg});"));
                self.set_len(s.id, lo + olo, hi + ohi);
                let b = s.bound.max(o.bound);
                self.var_mut(s.id).bound = b;
            }
            "rotate_left" | "rotate_right" if lo >= 1 => {
                // `mid ≤ len`: a length that is known from below.
                let k = self.rng.below(lo + 1);
                self.line(&format!("{name}.{op}({k});"));
            }
            "split_off" if growable && !in_loop => {
                let at = self.rng.below(lo + 1);
                let w = self.fresh("h");
                let m = if self.rng.chance(50) { "mut " } else { "" };
                self.line(&format!("let {m}{w} = {name}.split_off({at});"));
                self.set_len(s.id, at, at);
                self.declare(w, Kind::vec(lo - at, hi - at), !m.is_empty(), s.bound);
            }
            "first_mut" | "last_mut" | "get_mut" if lo >= 1 => {
                let place = match op {
                    "get_mut" => {
                        let ix = self.index_without_len(&s);
                        format!("*{name}.get_mut({ix}).unwrap()")
                    }
                    _ => format!("*{name}.{op}().unwrap()"),
                };
                let e = self.store_value(&s);
                if mentions(&e.code, &name) {
                    let t = self.fresh("t");
                    self.line(&format!("let {t} = {};", e.code));
                    self.line(&format!("{place} = {t};"));
                } else {
                    self.line(&format!("{place} = {};", e.code));
                }
            }
            "copy_from_slice" | "clone_from_slice" if lo == hi && !in_loop => {
                let others: Vec<Var> = self
                    .seqs()
                    .into_iter()
                    .filter(|v| {
                        v.id != s.id && matches!(v.kind, Kind::Seq { lo: l, hi: h, .. } if l == lo && h == hi)
                    })
                    .collect();
                if others.is_empty() {
                    return false;
                }
                let o = self.rng.pick(&others).clone();
                let arg = slice_arg(&o);
                self.line(&format!("{name}.{op}({arg});"));
                self.var_mut(s.id).bound = o.bound;
            }
            "clear" if growable && !in_loop => {
                self.line(&format!("{name}.clear();"));
                self.set_len(s.id, 0, 0);
            }
            _ => return false,
        }
        true
    }

    /// `for v in xs`, `for &v in xs.iter()`, `for (i, v) in xs.iter().enumerate()`.
    fn s_iterate(&mut self, depth: usize) -> bool {
        let seqs: Vec<Var> = self
            .seqs()
            .into_iter()
            .filter(|v| !(v.mutable && v.depth < self.frames.len()))
            .filter(
                |v| matches!(v.kind, Kind::Seq { hi, .. } if hi as i64 <= self.cfg.max_trips + 2),
            )
            .collect();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { seq, hi, .. } = s.kind else {
            unreachable!()
        };
        let e = self
            .shadowable()
            .unwrap_or_else(|| format!("e{}", self.frames.len()));
        let i = format!("i{}", self.frames.len());
        let (head, by_ref, index) = match self.rng.below(4) {
            0 => {
                let it = match seq {
                    SeqKind::Slice => s.name.clone(),
                    SeqKind::MutVec | SeqKind::MutSlice => format!("{}.iter()", s.name),
                    _ => format!("&{}", s.name),
                };
                (format!("for {e} in {it} {{"), true, false)
            }
            1 => (format!("for &{e} in {}.iter() {{", s.name), false, false),
            2 => (
                format!("for ({i}, {e}) in {}.iter().enumerate() {{", s.name),
                true,
                true,
            ),
            _ => (format!("for {e} in {}.iter() {{", s.name), true, false),
        };
        self.line(&head);
        let before = self.state();
        // The container is borrowed for the loop.
        self.var_mut(s.id).frozen = true;
        self.enter_loop(hi.max(1) as i64, true);
        self.declare(
            e,
            if by_ref { Kind::Ref } else { Kind::Float },
            false,
            s.bound,
        );
        if index {
            self.declare(
                i,
                Kind::Int {
                    lo: 0,
                    hi: hi as i64 - 1,
                    usize: true,
                    index_for: vec![s.id],
                },
                false,
                1.0,
            );
        }
        self.loop_body(depth, &before);
        self.var_mut(s.id).frozen = before
            .scopes
            .iter()
            .flatten()
            .find(|v| v.id == s.id)
            .is_some_and(|v| v.frozen);
        self.line("}");
        true
    }

    fn s_tuple(&mut self) -> bool {
        let a = self.expr_bounded(2, LIMIT);
        let b = self.expr_bounded(2, LIMIT);
        match self.rng.below(3) {
            0 => {
                let p = self.fresh("p");
                let (ta, tb) = (self.typed(a.clone()).code, self.typed(b.clone()).code);
                self.line(&format!("let {p} = ({ta}, {tb});"));
                self.declare(p, Kind::Pair, false, a.bound.max(b.bound));
            }
            1 => {
                let (x, y) = (self.fresh("t"), self.fresh("t"));
                let f = self.f();
                self.line(&format!(
                    "let ({x}, {y}): ({f}, {f}) = ({}, {});",
                    a.code, b.code
                ));
                self.declare(x, Kind::Float, false, a.bound);
                self.declare(y, Kind::Float, false, b.bound);
            }
            _ => {
                let (x, y) = (self.fresh("t"), self.fresh("t"));
                let a = self.typed(a);
                self.line(&format!("let ({x}, {y}) = ({}).sin_cos();", a.code));
                self.declare(x, Kind::Float, false, 1.0);
                self.declare(y, Kind::Float, false, 1.0);
            }
        }
        true
    }

    fn s_deferred_let(&mut self) -> bool {
        let t = self.fresh("t");
        let f = self.f();
        self.line(&format!("let {t}: {f};"));
        let c = self.float_cond();
        let a = self.expr_bounded(2, LIMIT);
        let b = self.expr_bounded(2, LIMIT);
        self.line(&format!("if {c} {{"));
        self.line(&format!("    {t} = {};", a.code));
        self.line("} else {");
        self.line(&format!("    {t} = {};", b.code));
        self.line("}");
        self.declare(t, Kind::Float, false, a.bound.max(b.bound));
        true
    }

    /// A call of a helper whose result is a pair, or a scalar helper as a statement.
    fn s_call(&mut self) -> bool {
        if self.helpers.is_empty() {
            return false;
        }
        let h = self.rng.pick(self.helpers).clone();
        let Some(args) = self.call_args(&h) else {
            return false;
        };
        match h.ret {
            Ret::Pair => {
                if self.rng.chance(50) {
                    let (x, y) = (self.fresh("t"), self.fresh("t"));
                    let m = self.rng.chance(30);
                    let mx = if m { "mut " } else { "" };
                    self.line(&format!("let ({mx}{x}, {y}) = {}({args});", h.name));
                    self.declare(x, Kind::Float, m, h.bound);
                    self.declare(y, Kind::Float, false, h.bound);
                } else {
                    let p = self.fresh("p");
                    self.line(&format!("let {p} = {}({args});", h.name));
                    self.declare(p, Kind::Pair, false, h.bound);
                }
            }
            Ret::Scalar => {
                let t = self.fresh("t");
                // Mutable: a later assignment may write a literal over the call's result.
                let m = self.rng.chance(40);
                let mt = if m { "mut " } else { "" };
                self.line(&format!("let {mt}{t} = {}({args});", h.name));
                self.declare(t, Kind::Float, m, h.bound);
            }
        }
        true
    }

    /// Arguments for helper `h`, or `None` if some parameter cannot be served here.
    fn call_args(&mut self, h: &HelperSig) -> Option<String> {
        let mut args = Vec::new();
        for (kind, hi) in &h.params {
            let a = match kind {
                ParamKind::Scalar => {
                    let e = self.expr_bounded(2, LIMIT);
                    if h.generic {
                        self.typed(e).code
                    } else {
                        e.code
                    }
                }
                ParamKind::Usize | ParamKind::I32 => {
                    let usize = *kind == ParamKind::Usize;
                    let ok: Vec<Var> = self
                        .ints()
                        .into_iter()
                        .filter(|v| matches!(&v.kind, Kind::Int { lo, hi: vh, usize: u, .. } if *u == usize && *lo >= 1 && vh <= hi))
                        .collect();
                    if !ok.is_empty() && self.rng.chance(50) {
                        self.rng.pick(&ok).name.clone()
                    } else {
                        self.rng.range(1, *hi).to_string()
                    }
                }
                ParamKind::Array(n) => {
                    let ok: Vec<Var> = self
                        .seqs()
                        .into_iter()
                        .filter(|v| matches!(v.kind, Kind::Seq { seq: SeqKind::Array, lo, .. } if lo == *n))
                        .collect();
                    if ok.is_empty() {
                        return None;
                    }
                    self.rng.pick(&ok).name.clone()
                }
                ParamKind::MutVec => return None,
                _ => {
                    let ok: Vec<Var> = self
                        .seqs_of_at_least(1)
                        .into_iter()
                        .filter(|v| {
                            *kind != ParamKind::VecRef
                                || matches!(
                                    v.kind,
                                    Kind::Seq {
                                        seq: SeqKind::Vec,
                                        ..
                                    }
                                )
                        })
                        .collect();
                    if ok.is_empty() {
                        return None;
                    }
                    let v = self.rng.pick(&ok).clone();
                    let Kind::Seq { seq, .. } = v.kind else {
                        unreachable!()
                    };
                    let Kind::Seq { lo, .. } = v.kind else {
                        unreachable!()
                    };
                    match kind {
                        ParamKind::VecOwned => match seq {
                            SeqKind::Vec => format!("{}.clone()", v.name),
                            _ => format!("{}.to_vec()", v.name),
                        },
                        // A range of it, at least one element long.
                        ParamKind::Slice if lo >= 2 && self.rng.chance(30) => {
                            let k = 1 + self.rng.below(lo - 1);
                            if self.rng.chance(50) {
                                format!("&{}[{k}..]", v.name)
                            } else {
                                format!("&{}[..{k}]", v.name)
                            }
                        }
                        _ => format!("&{}", v.name),
                    }
                }
            };
            args.push(a);
        }
        Some(args.join(", "))
    }

    /// `let t: F = xs.iter().sum();`
    fn s_sum(&mut self) -> bool {
        let seqs: Vec<Var> = self
            .seqs()
            .into_iter()
            .filter(
                |v| matches!(v.kind, Kind::Seq { hi, .. } if (hi as f64) * v.bound <= 4.0 * LIMIT),
            )
            .collect();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { hi, .. } = s.kind else {
            unreachable!()
        };
        let t = self.fresh("t");
        let f = self.f();
        self.line(&format!("let {t}: {f} = {}.iter().sum();", s.name));
        self.declare(t, Kind::Float, false, s.bound * hi as f64);
        true
    }

    // -----------------------------------------------------------------------------------------
    // Iterator chains and closures
    // -----------------------------------------------------------------------------------------

    /// An iterator over a visible container for a chain: its text, what it yields, and how
    /// many items (`lo..=hi`).
    fn chain_source(&mut self) -> Option<Source> {
        let seqs = self.seqs();
        if seqs.is_empty() {
            return None;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { lo, hi, .. } = s.kind else {
            unreachable!()
        };
        let n = s.name.clone();
        let plain = |code: String, item: Item, lo: usize, hi: usize| Source {
            code,
            item,
            lo,
            hi,
            bound: s.bound,
            of: s.id,
        };
        Some(match self.rng.below(11) {
            0 => plain(format!("{n}.iter().copied()"), Item::Val, lo, hi),
            1 => plain(format!("{n}.iter().cloned()"), Item::Val, lo, hi),
            2 => plain(format!("{n}.iter().rev()"), Item::Ref, lo, hi),
            3 => {
                let k = self.rng.range(1, 3) as usize;
                let (what, lo, hi) = match self.rng.below(3) {
                    0 => ("skip", lo.saturating_sub(k), hi.saturating_sub(k)),
                    1 => ("take", lo.min(k), hi.min(k)),
                    _ => ("step_by", lo.div_ceil(k), hi.div_ceil(k)),
                };
                plain(format!("{n}.iter().{what}({k})"), Item::Ref, lo, hi)
            }
            4 => {
                let others: Vec<Var> = self.seqs().into_iter().filter(|o| o.id != s.id).collect();
                let (o, olo, ohi) = match others.first() {
                    Some(_) => {
                        let o = self.rng.pick(&others).clone();
                        let Kind::Seq { lo, hi, .. } = o.kind else {
                            unreachable!()
                        };
                        (o.name.clone(), lo, hi)
                    }
                    None => (n.clone(), lo, hi),
                };
                let lent = match self.lookup(&o).map(|v| v.kind) {
                    Some(Kind::Seq {
                        seq: SeqKind::Slice,
                        ..
                    }) => o.clone(),
                    Some(Kind::Seq {
                        seq: SeqKind::MutVec | SeqKind::MutSlice,
                        ..
                    }) => format!("{o}.iter()"),
                    _ => format!("&{o}"),
                };
                let zipped = if self.rng.chance(50) {
                    format!("{n}.iter().zip({o}.iter())")
                } else {
                    format!("{n}.iter().zip({lent})")
                };
                let b = self
                    .get(s.id)
                    .bound
                    .max(self.lookup(&o).map_or(1.0, |v| v.bound));
                Source {
                    code: zipped,
                    item: Item::Zip,
                    lo: lo.min(olo),
                    hi: hi.min(ohi),
                    bound: b,
                    of: s.id,
                }
            }
            5 => plain(format!("{n}.iter().enumerate()"), Item::Enumerate, lo, hi),
            6 => plain(
                format!("{n}.windows(2)"),
                Item::Window,
                lo.saturating_sub(1),
                hi.saturating_sub(1),
            ),
            7 => plain(format!("(0..{n}.len())"), Item::Index, lo, hi),
            8 => plain(
                format!("{n}.chunks(2)"),
                Item::Chunk,
                lo.div_ceil(2),
                hi.div_ceil(2),
            ),
            _ => plain(format!("{n}.iter()"), Item::Ref, lo, hi),
        })
    }

    /// The closure parameter pattern for `src`'s items, and a read of the item as a float,
    /// generated in a new scope where the item's names are declared; the caller pops it.
    fn chain_item(&mut self, src: &Source) -> (String, Ex) {
        self.scopes.push(Vec::new());
        let b = src.bound;
        let seq_lo = match self.get(src.of).kind {
            Kind::Seq { lo, .. } => lo,
            _ => 0,
        };
        let (u, w) = (self.fresh("u"), self.fresh("u"));
        match src.item {
            Item::Ref => {
                self.declare(u.clone(), Kind::Ref, false, b);
                (u.clone(), Ex::new(format!("(*{u})"), b, true))
            }
            Item::Val => {
                self.declare(u.clone(), Kind::Float, false, b);
                (u.clone(), Ex::new(u, b, true))
            }
            Item::Zip => {
                self.declare(u.clone(), Kind::Ref, false, b);
                self.declare(w.clone(), Kind::Ref, false, b);
                let read = match self.rng.below(3) {
                    0 => format!("((*{u}) * (*{w}))"),
                    1 => format!("((*{u}) - (*{w}))"),
                    _ => format!("(*{w})"),
                };
                let rb = if read.contains('*') && read.contains(" * ") {
                    b * b
                } else {
                    2.0 * b
                };
                (format!("({u}, {w})"), Ex::new(read, rb, true))
            }
            Item::Enumerate => {
                let hi = src.hi.max(1) as i64 - 1;
                let id = self.declare(u.clone(), Kind::int(0, hi, true), false, 1.0);
                if let Kind::Int { index_for, .. } = &mut self.var_mut(id).kind {
                    index_for.push(src.of);
                }
                self.declare(w.clone(), Kind::Ref, false, b);
                let f = self.f();
                let read = if self.rng.chance(50) {
                    format!("((*{w}) * ({u} as {f} + 1.0) * 0.25)")
                } else {
                    format!("(*{w})")
                };
                (
                    format!("({u}, {w})"),
                    Ex::new(read, b * (hi as f64 + 1.0), true),
                )
            }
            Item::Window | Item::Chunk => {
                let (lo, read) = if src.item == Item::Window {
                    (2, format!("({u}[1] - {u}[0])"))
                } else {
                    (1, format!("{u}[0]"))
                };
                self.declare(
                    u.clone(),
                    Kind::Seq {
                        seq: SeqKind::Window,
                        lo,
                        hi: 2,
                    },
                    false,
                    b,
                );
                (u, Ex::new(read, 2.0 * b, true))
            }
            Item::Index => {
                let hi = src.hi.max(1) as i64 - 1;
                let id = self.declare(u.clone(), Kind::int(0, hi, true), false, 1.0);
                if let Kind::Int { index_for, .. } = &mut self.var_mut(id).kind {
                    index_for.push(src.of);
                }
                let s = self.get(src.of);
                let read = if seq_lo >= 1 || src.hi >= 1 {
                    format!("{}[{u}]", s.name)
                } else {
                    format!("({u} as {})", self.f())
                };
                (u, Ex::new(read, b.max(src.hi as f64), true))
            }
        }
    }

    /// A closure body using `read` (bounded by 1).
    fn lambda_body(&mut self, read: Ex) -> Ex {
        let e = self.expr(2);
        let e = self.typed(e);
        let combined = match self.rng.below(4) {
            0 => Ex::new(
                format!("({} * {})", read.code, paren(&e.code)),
                read.bound * e.bound,
                true,
            ),
            1 => Ex::new(
                format!("({} + {})", read.code, paren(&e.code)),
                read.bound + e.bound,
                true,
            ),
            2 => Ex::new(
                format!("({}).sin() * {}", read.code, paren(&e.code)),
                e.bound,
                true,
            ),
            _ => read,
        };
        self.squash(combined)
    }

    /// `let t: F = xs.iter().map(|u| ..).sum();` and the other consumers of iterator chains:
    /// `product`, `fold`, `reduce`, `max_by`/`min_by`, `count`, `collect`, `extend`.
    fn s_chain(&mut self) -> bool {
        let Some(src) = self.chain_source() else {
            return false;
        };
        let f = self.f();
        let t = self.fresh("t");
        let filterable = matches!(src.item, Item::Ref | Item::Val);
        let (pat, read) = self.chain_item(&src);
        // A filter on the item (before `map`), on the value before the closure's body.
        let filter = if filterable && self.rng.chance(25) {
            let c = lit(self.rng.range(-3, 3) as f64 / 10.0);
            let star = if src.item == Item::Ref { "**" } else { "*" };
            Some(format!(".filter(|{pat}| {star}{pat} > {c})"))
        } else {
            None
        };
        let (lo, hi) = if filter.is_some() {
            (0, src.hi)
        } else {
            (src.lo, src.hi)
        };
        let choice = self.rng.below(10);
        let body = self.lambda_body(read.clone());
        self.scopes.pop();
        let head = format!("{}{}", src.code, filter.clone().unwrap_or_default());
        match choice {
            0 if lo >= 1 && filterable => {
                // max_by / min_by over the values themselves.
                let which = *self.rng.pick(&["max_by", "min_by"]);
                let cmp = if self.rng.chance(50) {
                    "a.total_cmp(b)"
                } else {
                    "a.partial_cmp(b).unwrap()"
                };
                let star = if src.item == Item::Ref { "*" } else { "" };
                self.line(&format!(
                    "let {t} = {star}{head}.{which}(|a, b| {cmp}).unwrap();"
                ));
                self.declare(t, Kind::Float, false, src.bound);
            }
            1 if lo >= 1 => {
                let a = self.fresh("a");
                self.line(&format!(
                    "let {t} = {head}.map(|{pat}| {}).reduce(|{a}, b| 0.5 * {a} + b).unwrap();",
                    body.code
                ));
                self.declare(t, Kind::Float, false, 2.0);
            }
            2 => {
                let init = self.expr_bounded(1, 2.0);
                let init = self.typed(init);
                let acc = self.fresh("acc");
                self.line(&format!(
                    "let {t} = {head}.fold({}, |{acc}, {pat}| 0.5 * {acc} + {});",
                    init.code, body.code
                ));
                self.declare(t, Kind::Float, false, init.bound.max(2.0));
            }
            3 => {
                self.line(&format!(
                    "let {t}: {f} = {head}.map(|{pat}| {}).product();",
                    body.code
                ));
                self.declare(t, Kind::Float, false, 1.0);
            }
            4 if filter.is_some() && hi as i64 <= self.cfg.max_trips + 2 => {
                let n = self.fresh("n");
                self.line(&format!("let {n} = {head}.count();"));
                self.declare(n, Kind::int(lo as i64, hi as i64, true), false, 1.0);
            }
            5 | 6 => {
                let h = self.fresh("h");
                if self.rng.chance(70) {
                    self.line(&format!(
                        "let mut {h}: Vec<{f}> = {head}.map(|{pat}| {}).collect();",
                        body.code
                    ));
                } else {
                    self.line(&format!("let mut {h}: Vec<{f}> = Vec::new();"));
                    self.line(&format!("{h}.extend({head}.map(|{pat}| {}));", body.code));
                }
                self.declare(h, Kind::vec(lo, hi), true, 1.0);
            }
            9 => {
                // A fold carrying a pair.
                let (a, b) = (self.fresh("a"), self.fresh("b"));
                let t2 = self.fresh("t");
                self.line(&format!(
                    "let ({t}, {t2}): ({f}, {f}) = {head}.fold((0.0, 1.0), |({a}, {b}), {pat}| \
                     (0.5 * {a} + {}, 0.5 * {b} + 0.25 * {a}));",
                    body.code
                ));
                self.declare(t, Kind::Float, false, 2.0);
                self.declare(t2, Kind::Float, false, 2.0);
            }
            7 => {
                self.line(&format!(
                    "let {t} = {head}.map(|{pat}| {}).sum::<{f}>();",
                    body.code
                ));
                self.declare(t, Kind::Float, false, hi.max(1) as f64);
            }
            _ => {
                self.line(&format!(
                    "let {t}: {f} = {head}.map(|{pat}| {}).sum();",
                    body.code
                ));
                self.declare(t, Kind::Float, false, hi.max(1) as f64);
            }
        }
        true
    }

    /// Sometimes (a quarter of the time) the name of a visible float that a pattern (a loop's
    /// variable, a closure's parameter) may shadow: not a loop's controlling variable.
    fn shadowable(&mut self) -> Option<String> {
        let floats: Vec<Var> = self
            .visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Float && !v.frozen)
            .collect();
        if floats.is_empty() || !self.rng.chance(25) {
            return None;
        }
        Some(self.rng.pick(&floats).name.clone())
    }

    /// A local closure, called where it was written: twice with values, over a container, or
    /// changing a captured accumulator.
    fn s_closure(&mut self) -> bool {
        let f = self.f();
        let g = self.fresh("g");
        let u = self.shadowable().unwrap_or_else(|| self.fresh("u"));
        self.scopes.push(Vec::new());
        self.declare(u.clone(), Kind::Float, false, LIMIT);
        let read = Ex::new(u.clone(), LIMIT, true);
        let read = self.squash(read);
        let body = self.lambda_body(read);
        self.scopes.pop();
        let t = self.fresh("t");
        let seqs = self.seqs();
        match self.rng.below(4) {
            0 if !seqs.is_empty() => {
                let s = self.rng.pick(&seqs).clone();
                self.line(&format!("let {g} = |{u}: {f}| {};", body.code));
                let e = format!("e{}", self.names);
                self.closure_over(&g, t, &s, &e, false);
            }
            1 => {
                let a = self.expr_bounded(2, LIMIT);
                let b = self.expr_bounded(2, LIMIT);
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("let mut {g} = |{u}: {f}| {t} += {};", body.code));
                self.line(&format!("{g}({});", a.code));
                self.line(&format!("{g}({});", b.code));
                self.declare(t, Kind::Float, true, 2.0);
            }
            _ => {
                let a = self.expr_bounded(2, LIMIT);
                let b = self.expr_bounded(2, LIMIT);
                self.line(&format!("let {g} = |{u}: {f}| {};", body.code));
                let op = *self.rng.pick(&["+", "-", "*"]);
                self.line(&format!("let {t} = {g}({}) {op} {g}({});", a.code, b.code));
                self.declare(t, Kind::Float, false, 2.0);
            }
        }
        true
    }

    /// Writes through the items of `iter_mut` (a `for` loop, with adapters, or `for_each`).
    fn s_iter_mut(&mut self, depth: usize) -> bool {
        let seqs = self.writable_seqs();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { seq, hi, .. } = s.kind else {
            unreachable!()
        };
        let n = s.name.clone();
        let e = format!("e{}", self.names + 1);
        self.names += 1;
        let i = format!("i{}", self.names);
        // The container is borrowed mutably for the loop: nothing else may read it.
        self.var_mut(s.id).hidden = true;
        let (head, index) = match self.rng.below(6) {
            0 if seq != SeqKind::MutVec && seq != SeqKind::MutSlice => {
                (format!("for {e} in &mut {n} {{"), false)
            }
            0 => (format!("for {e} in {n}.iter_mut() {{"), false),
            1 => (
                format!("for ({i}, {e}) in {n}.iter_mut().enumerate() {{"),
                true,
            ),
            2 => (format!("for {e} in {n}.iter_mut().rev() {{"), false),
            3 => (String::new(), false),
            _ => (format!("for {e} in {n}.iter_mut() {{"), false),
        };
        let write = |g: &mut Self, e: &str| -> String {
            let v = g.expr(2);
            let v = g.squash(v);
            match g.rng.below(3) {
                0 => format!("*{e} = {};", v.code),
                1 => format!("*{e} *= {};", v.code),
                _ => format!("*{e} = 0.5 * *{e} + 0.5 * {};", v.code),
            }
        };
        if head.is_empty() {
            // `for_each` with a closure.
            self.scopes.push(Vec::new());
            self.declare(e.clone(), Kind::Ref, false, s.bound);
            let w = write(self, &e);
            self.scopes.pop();
            self.line(&format!(
                "{n}.iter_mut().for_each(|{e}| {});",
                w.trim_end_matches(';')
            ));
        } else {
            self.line(&head);
            let before = self.state();
            self.enter_loop(hi.max(1) as i64, true);
            self.declare(e.clone(), Kind::Ref, false, s.bound);
            if index {
                self.declare(i, Kind::int(0, hi.max(1) as i64 - 1, true), false, 1.0);
            }
            self.indent += 1;
            let w = write(self, &e);
            self.line(&w);
            if depth + 1 < self.cfg.max_depth && self.rng.chance(50) {
                let n = self.inner_len(depth);
                self.stmts(n, depth + 1);
            }
            self.indent -= 1;
            self.exit_loop(&before);
            self.line("}");
        }
        let v = self.var_mut(s.id);
        v.hidden = false;
        v.bound = v.bound.max(1.0);
        true
    }

    /// `vec![a, b, c]` or `[a, b]` of differentiated values.
    fn s_vec_literal(&mut self) -> bool {
        let n = self.rng.range(1, 4) as usize;
        let items: Vec<Ex> = (0..n).map(|_| self.expr_bounded(2, LIMIT)).collect();
        let bound = items.iter().fold(1.0f64, |m, e| m.max(e.bound));
        let typed = items.iter().any(|e| e.typed);
        let list = items
            .iter()
            .map(|e| e.code.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let f = self.f();
        if self.rng.chance(60) {
            let h = self.fresh("h");
            let ty = if typed {
                String::new()
            } else {
                format!(": Vec<{f}>")
            };
            self.line(&format!("let mut {h}{ty} = vec![{list}];"));
            self.declare(h, Kind::vec(n, n), true, bound);
        } else {
            let b = self.fresh("b");
            let ty = if typed {
                String::new()
            } else {
                format!(": [{f}; {n}]")
            };
            self.line(&format!("let mut {b}{ty} = [{list}];"));
            self.declare(
                b,
                Kind::Seq {
                    seq: SeqKind::Array,
                    lo: n,
                    hi: n,
                },
                true,
                bound,
            );
        }
        true
    }

    /// `match xs.iter().position(|q| *q > c) { Some(j) => { .. } None => { .. } }`: an
    /// `Option` of an index, found by a predicate on differentiated values, matched (or taken
    /// by `if let Some(j) = ..`, the `match` it stands for); the `Some` arm may index `xs` with
    /// `j`.
    fn s_option_match(&mut self, depth: usize) -> bool {
        let seqs: Vec<Var> = self
            .seqs()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Seq { seq, hi, .. } if seq != SeqKind::Window && hi >= 1))
            .collect();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { hi, .. } = s.kind else {
            unreachable!()
        };
        let q = self.fresh("q");
        let c = lit(self.rng.range(-5, 5) as f64 / 10.0);
        let (method, pred) = match self.rng.below(4) {
            0 => ("position", format!("|{q}| *{q} > {c}")),
            1 => ("position", format!("|&{q}| {q} < {c}")),
            2 => ("rposition", format!("|{q}| (*{q}).abs() < 0.5")),
            _ => {
                let e = self.expr(1);
                let e = self.typed(e);
                ("position", format!("|&{q}| {q} * {} > {c}", paren(&e.code)))
            }
        };
        // `if let Some(j) = ..` is the `match` it stands for.
        let if_let = self.rng.chance(35);
        let j = self.fresh("j");
        if if_let {
            self.line(&format!(
                "if let Some({j}) = {}.iter().{method}({pred}) {{",
                s.name
            ));
        } else {
            self.line(&format!("match {}.iter().{method}({pred}) {{", s.name));
            self.line(&format!("    Some({j}) => {{"));
        }
        let before = self.state();
        self.indent += 1;
        // The container stays as it is while its index is in scope.
        self.var_mut(s.id).frozen = true;
        self.scopes.push(Vec::new());
        self.declare(
            j,
            Kind::Int {
                lo: 0,
                hi: hi as i64 - 1,
                usize: true,
                index_for: vec![s.id],
            },
            false,
            1.0,
        );
        let n = self.inner_len(depth);
        let d1 = self.block(n, depth + 1);
        self.scopes.pop();
        self.indent -= 1;
        self.var_mut(s.id).frozen = before
            .scopes
            .iter()
            .flatten()
            .find(|v| v.id == s.id)
            .is_some_and(|v| v.frozen);
        let after_some = self.state();
        self.scopes = before.scopes.clone();
        self.frames = before.frames.clone();
        let d2 = if if_let {
            if self.rng.chance(40) {
                self.line("}");
                false
            } else {
                self.line("} else {");
                let n = self.inner_len(depth);
                let d = self.block(n, depth + 1);
                self.line("}");
                d
            }
        } else {
            self.line("    }");
            let d = if self.rng.chance(40) {
                self.line("    None => {}");
                false
            } else {
                self.line("    None => {");
                self.indent += 1;
                let n = self.inner_len(depth);
                let d = self.block(n, depth + 1);
                self.indent -= 1;
                self.line("    }");
                d
            };
            self.line("}");
            d
        };
        match (d1, d2) {
            (true, false) => {}
            (false, true) => {
                self.scopes = after_some.scopes;
                self.frames = after_some.frames;
            }
            _ => self.merge(&after_some),
        }
        true
    }

    /// A work list of indices that is not differentiated, drained by `pop` (which may push
    /// smaller ones back): `loop { match stack.pop() { Some(j) => { .. } None => break } }` or
    /// `while !stack.is_empty() { let j = stack.pop().unwrap(); .. }`.
    fn s_stack(&mut self, depth: usize) -> bool {
        let st = self.fresh("stack");
        let items: Vec<i64> = (0..self.rng.range(1, 3))
            .map(|_| self.rng.range(0, 3))
            .collect();
        let regrow = self.rng.chance(50);
        // `j ≥ 2` pushes `j - 2` back: an item `v` is popped at most `1 + v / 2` times.
        let trips: i64 = items
            .iter()
            .map(|v| if regrow { 1 + v / 2 } else { 1 })
            .sum();
        let list = items
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.line(&format!("let mut {st}: Vec<usize> = vec![{list}];"));
        let j = self.fresh("j");
        let matched = self.rng.chance(60);
        let before = self.state();
        if matched {
            self.line("loop {");
            self.line(&format!("    match {st}.pop() {{"));
            self.line(&format!("        Some({j}) => {{"));
            self.indent += 3;
        } else {
            self.line(&format!("while !{st}.is_empty() {{"));
            self.line(&format!("    let {j} = {st}.pop().unwrap();"));
            self.indent += 1;
        }
        self.enter_loop(trips, true);
        let top = *items.iter().max().unwrap_or(&0);
        self.declare(j.clone(), Kind::int(0, top, true), false, 1.0);
        if regrow {
            self.line(&format!("if {j} >= 2 {{"));
            self.line(&format!("    {st}.push({j} - 2);"));
            self.line("}");
        }
        let n = self.inner_len(depth);
        self.stmts(n, depth + 1);
        self.exit_loop(&before);
        if matched {
            self.indent -= 3;
            self.line("        }");
            self.line("        None => break,");
            self.line("    }");
        } else {
            self.indent -= 1;
        }
        self.line("}");
        true
    }

    /// `t`, the sum of closure `g` (bounded by 1) over the items of `s`, by an iterator chain or
    /// a `for` loop with item `e`; `by_ref`: `g` takes the item's reference.
    fn closure_over(&mut self, g: &str, t: String, s: &Var, e: &str, by_ref: bool) {
        let f = self.f();
        let Kind::Seq { hi, .. } = s.kind else {
            unreachable!()
        };
        let (arg, pat) = if by_ref {
            (e.to_string(), e.to_string())
        } else {
            (format!("*{e}"), format!("&{e}"))
        };
        let mutable = !self.rng.chance(50);
        if !mutable {
            self.line(&format!(
                "let {t}: {f} = {}.iter().map(|{e}| {g}({arg})).sum();",
                s.name
            ));
        } else {
            self.line(&format!("let mut {t}: {f} = 0.0;"));
            self.line(&format!("for {pat} in {}.iter() {{", s.name));
            self.line(&format!("    {t} += {g}({e});"));
            self.line("}");
        }
        self.declare(t, Kind::Float, mutable, hi.max(1) as f64);
    }

    /// A closure taking a reference, `let g = |u: &F| ..;`, called with `&a` of variables or
    /// over a container's items.
    fn s_ref_closure(&mut self) -> bool {
        let f = self.f();
        let g = self.fresh("g");
        let u = self.shadowable().unwrap_or_else(|| self.fresh("u"));
        self.scopes.push(Vec::new());
        self.declare(u.clone(), Kind::Ref, false, LIMIT);
        let read = Ex::new(format!("(*{u})"), LIMIT, true);
        let read = self.squash(read);
        let body = self.lambda_body(read);
        self.scopes.pop();
        let t = self.fresh("t");
        let seqs = self.seqs_but_windows();
        let floats: Vec<Var> = self
            .visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Float)
            .collect();
        if !seqs.is_empty() && (floats.is_empty() || self.rng.chance(50)) {
            let s = self.rng.pick(&seqs).clone();
            let e = self.fresh("e");
            self.line(&format!("let {g} = |{u}: &{f}| {};", body.code));
            self.closure_over(&g, t, &s, &e, true);
        } else if !floats.is_empty() {
            let a = self.rng.pick(&floats).name.clone();
            let b = self.rng.pick(&floats).name.clone();
            self.line(&format!("let {g} = |{u}: &{f}| {};", body.code));
            let op = *self.rng.pick(&["+", "-", "*"]);
            self.line(&format!("let {t} = {g}(&{a}) {op} {g}(&{b});"));
            self.declare(t, Kind::Float, false, 2.0);
        } else {
            return false;
        }
        true
    }

    /// A local `Vec` of differentiated values taken apart by `pop`: `while let Some(e) =
    /// v.pop() { .. }` (emptying it), `if let Some(e) = v.pop() { .. } else { .. }`, or an
    /// element read `if let Some(&e) = v.last() { .. }` (`first()`, `get(i)`).
    fn s_drain(&mut self, depth: usize) -> bool {
        let seqs: Vec<Var> = self
            .writable_seqs()
            .into_iter()
            .filter(|v| {
                v.depth == self.frames.len()
                    && matches!(v.kind, Kind::Seq { seq: SeqKind::Vec, hi, .. } if hi >= 1)
            })
            .collect();
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { lo, hi, .. } = s.kind else {
            unreachable!()
        };
        let name = s.name.clone();
        let e = self.shadowable().unwrap_or_else(|| self.fresh("e"));
        let form = self.rng.below(3);
        let before = self.state();
        // The container is not touched while it is taken apart.
        self.var_mut(s.id).hidden = true;
        if form == 0 {
            self.line(&format!("while let Some({e}) = {name}.pop() {{"));
            self.indent += 1;
            self.enter_loop(hi as i64, true);
            self.declare(e, Kind::Float, false, s.bound);
            let n = self.inner_len(depth);
            self.stmts(n, depth + 1);
            self.exit_loop(&before);
            self.indent -= 1;
            self.line("}");
            self.var_mut(s.id).hidden = false;
            // Empty unless a `break` left the loop early.
            self.set_len(s.id, 0, hi);
            return true;
        }
        let head = if form == 1 {
            format!("if let Some({e}) = {name}.pop() {{")
        } else {
            let read = match self.rng.below(3) {
                0 => "first()".to_string(),
                1 => "last()".to_string(),
                _ => format!("get({})", self.rng.below(hi)),
            };
            format!("if let Some(&{e}) = {name}.{read} {{")
        };
        self.line(&head);
        self.indent += 1;
        self.scopes.push(Vec::new());
        self.declare(e, Kind::Float, false, s.bound);
        let n = self.inner_len(depth);
        let d1 = self.block(n, depth + 1);
        self.scopes.pop();
        self.indent -= 1;
        let after_some = self.state();
        self.scopes = before.scopes.clone();
        self.frames = before.frames.clone();
        self.var_mut(s.id).hidden = true;
        let d2 = if self.rng.chance(40) {
            self.line("}");
            false
        } else {
            self.line("} else {");
            self.indent += 1;
            let n = self.inner_len(depth);
            let d = self.block(n, depth + 1);
            self.indent -= 1;
            self.line("}");
            d
        };
        match (d1, d2) {
            (true, false) => {}
            (false, true) => {
                self.scopes = after_some.scopes;
                self.frames = after_some.frames;
            }
            _ => self.merge(&after_some),
        }
        self.var_mut(s.id).hidden = false;
        if form == 1 {
            self.set_len(s.id, lo.saturating_sub(1), hi - 1);
        }
        true
    }

    /// `(a, b) = (b, a * c)`: a tuple assignment that swaps or updates two floats.
    fn s_tuple_assign(&mut self) -> bool {
        let vars = self.mutable_floats();
        if vars.len() < 2 {
            return false;
        }
        let a = self.rng.pick(&vars).clone();
        let others: Vec<Var> = vars.into_iter().filter(|v| v.id != a.id).collect();
        let b = self.rng.pick(&others).clone();
        let in_loop = a.depth < self.frames.len() || b.depth < self.frames.len();
        if self.rng.chance(50) {
            // A swap: the bounds swap too.
            self.line(&format!(
                "({}, {}) = ({}, {});",
                a.name, b.name, b.name, a.name
            ));
            let m = a.bound.max(b.bound);
            self.var_mut(a.id).bound = m;
            self.var_mut(b.id).bound = m;
        } else {
            // `b` takes a squashed value (of `a` and `b` before), `a` takes `b`'s.
            let e = self.expr(2);
            let e = self.squash(e);
            self.line(&format!(
                "({}, {}) = ({}, {} * {});",
                a.name,
                b.name,
                b.name,
                paren(&e.code),
                lit(0.5)
            ));
            if !in_loop {
                let m = a.bound.max(b.bound);
                self.var_mut(a.id).bound = m;
                self.var_mut(b.id).bound = m;
            } else {
                // In a loop `a` takes `b`'s value, bounded by 1 after an iteration.
                let m = a.bound.max(b.bound).max(1.0);
                self.var_mut(a.id).bound = m;
                self.var_mut(b.id).bound = m;
            }
        }
        true
    }

    /// `let [a, b] = arr;` of an array, or `let (p, q) = (xs[i], xs[j]);` of any container.
    fn s_destructure(&mut self) -> bool {
        let seqs: Vec<Var> = self.seqs_of_at_least(1);
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { seq, lo, hi } = s.kind else {
            unreachable!()
        };
        if seq == SeqKind::Array && lo == hi && lo <= 3 {
            let names: Vec<String> = (0..lo).map(|_| self.fresh("a")).collect();
            let pat: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    if k == 0 && lo > 1 && self.rng.chance(30) {
                        "_".to_string()
                    } else {
                        n.clone()
                    }
                })
                .collect();
            self.line(&format!("let [{}] = {};", pat.join(", "), s.name));
            for p in pat {
                if p != "_" {
                    self.declare(p, Kind::Float, false, s.bound);
                }
            }
        } else {
            let i = self.index(&s);
            let j = self.index(&s);
            let (p, q) = (self.fresh("p"), self.fresh("p"));
            let m = if self.rng.chance(40) { "mut " } else { "" };
            self.line(&format!(
                "let ({m}{p}, {q}) = ({}[{i}], {}[{j}]);",
                s.name, s.name
            ));
            self.declare(p, Kind::Float, !m.is_empty(), s.bound);
            self.declare(q, Kind::Float, false, s.bound);
        }
        true
    }

    /// A range of a container read in place: `xs[a..b].iter().sum::<F>()`, `for &q in
    /// &xs[a..]`, or lent to a helper that takes a slice (`h(&xs[1..], ..)`).
    fn s_range_slice(&mut self) -> bool {
        let f = self.f();
        let seqs: Vec<Var> = self.seqs_of_at_least(2);
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { lo, .. } = s.kind else {
            unreachable!()
        };
        let a = self.rng.below(lo);
        let b = a + 1 + self.rng.below(lo - a);
        let range = match self.rng.below(4) {
            0 => format!("{a}..{b}"),
            1 => format!("{a}.."),
            2 => format!("..{b}"),
            _ => format!("{a}..={}", b - 1),
        };
        let t = self.fresh("t");
        let n = lo as f64;
        match self.rng.below(3) {
            0 => {
                self.line(&format!(
                    "let {t} = {}[{range}].iter().sum::<{f}>();",
                    s.name
                ));
                self.declare(t, Kind::Float, false, s.bound * n);
            }
            1 => {
                let q = self.fresh("q");
                let scope_before = self.scopes.len();
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for &{q} in &{}[{range}] {{", s.name));
                self.scopes.push(Vec::new());
                self.declare(q.clone(), Kind::Float, false, s.bound);
                let e = self.expr(1);
                let e = self.squash(e);
                self.scopes.truncate(scope_before);
                self.line(&format!("    {t} += {q} * {};", e.code));
                self.line("}");
                self.declare(t, Kind::Float, true, s.bound * n);
            }
            _ => {
                let (first, second) = {
                    let at = 1 + self.rng.below(lo - 1);
                    (format!("{a}..{b}"), at)
                };
                let _ = first;
                let (l, r) = (self.fresh("l"), self.fresh("r"));
                self.line(&format!("let ({l}, {r}) = {}.split_at({second});", s.name));
                let e = self.fresh("e");
                self.line(&format!(
                    "let {t}: {f} = {l}.iter().zip({r}).map(|({e}, w)| {e} * w).sum();"
                ));
                self.declare(t, Kind::Float, false, s.bound * s.bound * n);
            }
        }
        true
    }

    /// A struct literal of differentiated values, `let p = Pt { a: .., b: .. };` (fields in
    /// either order), read later as `p.a`, `p.b`; or a new value of a `let mut` one, its state
    /// carried through loops like a float's: `p = Pt { b: p.a * .., a: .. };`.
    fn s_struct_local(&mut self) -> bool {
        // The by-value method written as a method, `let t = p.scaled(k);`, moves `p`: only at
        // the top level of the body (no loop or branch to use it again), and `p` is not read
        // after.
        if self.scopes.len() == 1 && self.rng.chance(25) {
            let top: Vec<Var> = self.scopes[0]
                .iter()
                .filter(|v| v.kind == Kind::Point && !v.hidden && !v.frozen)
                .cloned()
                .collect();
            let top: Vec<Var> = top
                .into_iter()
                .filter(|v| self.lookup(&v.name).is_some_and(|w| w.id == v.id))
                .collect();
            if !top.is_empty() {
                let p = self.rng.pick(&top).clone();
                let k = self.expr(1);
                let k = self.typed(k);
                if !mentions(&k.code, &p.name) {
                    let t = self.fresh("t");
                    self.line(&format!("let {t} = {}.scaled({});", p.name, k.code));
                    self.var_mut(p.id).hidden = true;
                    self.declare(t, Kind::Float, false, p.bound + 1.0);
                    return true;
                }
            }
        }
        let points: Vec<Var> = self
            .visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Point && v.mutable && !v.frozen)
            .collect();
        let update = !points.is_empty() && self.rng.chance(50);
        let target = update.then(|| self.rng.pick(&points).clone());
        let in_loop = target.as_ref().is_some_and(|p| p.depth < self.frames.len());
        let (a, b) = if in_loop {
            let a = self.expr(2);
            let b = self.expr(2);
            (self.squash(a), self.squash(b))
        } else {
            (self.expr_bounded(2, LIMIT), self.expr_bounded(2, LIMIT))
        };
        let fields = if self.rng.chance(50) {
            format!("a: {}, b: {}", a.code, b.code)
        } else {
            format!("b: {}, a: {}", b.code, a.code)
        };
        let bound = a.bound.max(b.bound);
        match target {
            Some(p) => {
                self.line(&format!("{} = Pt {{ {fields} }};", p.name));
                if !in_loop {
                    self.var_mut(p.id).bound = bound;
                }
            }
            None => {
                let p = self.fresh("p");
                let m = if self.rng.chance(50) { "mut " } else { "" };
                self.line(&format!("let {m}{p} = Pt {{ {fields} }};"));
                self.declare(p, Kind::Point, !m.is_empty(), bound);
            }
        }
        true
    }

    // -----------------------------------------------------------------------------------------
    // A `Copy` struct with operators and methods (`V2`, see `Case::structs`)
    // -----------------------------------------------------------------------------------------

    /// The visible `V2`s, or the mutable ones that random statements may change.
    fn vec2s(&self, mutable: bool) -> Vec<Var> {
        self.visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Vec2 && !v.frozen && (!mutable || v.mutable))
            .collect()
    }

    /// A `V2` value: a variable, a constructor or the struct's operators and methods on
    /// variables (`(a - b) * k + c`, `a.turned(k)`, `-a`), with a bound on its length.
    fn vec2_expr(&mut self, depth: usize) -> (String, f64) {
        let vs = self.vec2s(false);
        if vs.is_empty() || (depth == 0 && self.rng.chance(30)) || self.rng.chance(10) {
            let a = self.expr_bounded(1, LIMIT);
            let b = self.expr_bounded(1, LIMIT);
            let bound = (a.bound * a.bound + b.bound * b.bound).sqrt();
            let code = match self.rng.below(3) {
                0 => format!("V2::new({}, {})", a.code, b.code),
                1 => format!("V2 {{ x: {}, y: {} }}", a.code, b.code),
                _ => format!("V2 {{ y: {}, x: {} }}", b.code, a.code),
            };
            return (code, bound);
        }
        let a = self.rng.pick(&vs).clone();
        if depth == 0 {
            return (a.name, a.bound);
        }
        let (l, lb) = self.vec2_expr(depth - 1);
        // A left operand that is not a name is parenthesized: `(a - b) * k`.
        let lp = if vs.iter().any(|v| v.name == l) {
            l
        } else {
            format!("({l})")
        };
        match self.rng.below(7) {
            0 => (format!("{lp} + {}", a.name), lb + a.bound),
            1 => (format!("{lp} - {}", a.name), lb + a.bound),
            2 => (format!("{} - {lp}", a.name), lb + a.bound),
            3 => {
                let k = self.expr(1);
                let k = self.squash(k);
                (format!("{lp} * {}", paren(&k.code)), lb)
            }
            4 => (format!("-{lp}"), lb),
            5 => {
                let k = self.expr(1);
                let k = self.typed(k);
                (format!("{lp}.turned({})", k.code), lb)
            }
            _ => {
                let k = self.rng.pick(&["0.5", "0.25", "2.0"]).to_string();
                let s: f64 = k.parse().expect("a literal");
                (format!("{lp} * {k}"), lb * s)
            }
        }
    }

    /// A `V2` expression with its length at most `LIMIT`, scaled down where it could be longer.
    fn vec2_bounded(&mut self, depth: usize) -> (String, f64) {
        let (code, bound) = self.vec2_expr(depth);
        if bound <= LIMIT {
            return (code, bound);
        }
        let k = (LIMIT / bound * 4.0).floor().max(1.0) / 4.0;
        let k = k.min(0.25);
        (format!("({code}) * {}", lit(k)), bound * k)
    }

    /// A float read from a `V2`: a field, its methods (`size`, `dot`, `energy`, as methods or
    /// through the type), also of an operator's result (`(a - b).size()`).
    fn vec2_read(&mut self) -> Option<Ex> {
        let vs = self.vec2s(false);
        if vs.is_empty() {
            return None;
        }
        let a = self.rng.pick(&vs).clone();
        let b = self.rng.pick(&vs).clone();
        Some(match self.rng.below(9) {
            0 => Ex::new(format!("{}.x", a.name), a.bound, true),
            1 => Ex::new(format!("{}.y", a.name), a.bound, true),
            2 => Ex::new(format!("{}.size()", a.name), a.bound + 0.5, true),
            3 => Ex::new(format!("V2::size(&{})", a.name), a.bound + 0.5, true),
            4 => Ex::new(
                format!("{}.dot(&{})", a.name, b.name),
                a.bound * b.bound,
                true,
            ),
            5 => Ex::new(
                format!("{}.energy()", a.name),
                0.5 * (a.bound * a.bound + 0.25),
                true,
            ),
            6 => Ex::new(
                format!("({} - {}).size()", a.name, b.name),
                a.bound + b.bound + 0.5,
                true,
            ),
            7 => {
                let k = self.expr(1);
                let k = self.typed(k);
                Ex::new(format!("{}.turned({}).x", a.name, k.code), a.bound, true)
            }
            _ => Ex::new(
                format!("({} + {}).y", a.name, b.name),
                a.bound + b.bound,
                true,
            ),
        })
    }

    /// Statements on `V2`s, a `Copy` struct whose operators are differentiated impls
    /// (`#[differentiate] impl Sub for V2`) and whose methods take `&self`, `self` and `&mut
    /// self`: new locals (`V2::new(..)`, literals, operator expressions), reads into floats,
    /// steps `v.step(k);` (also in a loop of their own), field writes `v.x = ..`, `v += w`, and
    /// a `Vec<V2>` pushed to and reduced.
    fn s_vec2(&mut self) -> bool {
        let level = self.frames.len();
        let muts = self.vec2s(true);
        let f = self.f();
        match self.rng.below(10) {
            // Mutations of a mutable `V2`.
            0..=3 if !muts.is_empty() => {
                let v = self.rng.pick(&muts).clone();
                let n = &v.name;
                let here = v.depth == level;
                match self.rng.below(8) {
                    0 | 1 => {
                        let k = self.expr(1);
                        let k = self.typed(k);
                        self.line(&format!("{n}.step({});", k.code));
                    }
                    2 => {
                        let k = self.expr(1);
                        let k = self.typed(k);
                        self.line(&format!("{n} = {n}.turned({});", k.code));
                    }
                    3 => self.line(&format!("{n} = -{n};")),
                    4 => {
                        // A few steps in a loop of its own, the float condition capped by a
                        // counter.
                        let k = self.expr(1);
                        let k = self.typed(k);
                        if self.rng.chance(50) {
                            let trips = self.rng.range(1, 4);
                            self.line(&format!("for _ in 0..{trips} {{"));
                            self.line(&format!("    {n}.step({});", k.code));
                            self.line("}");
                        } else {
                            let c = self.fresh("c");
                            let cmp = self.rng.pick(&["x", "y"]).to_string();
                            self.line(&format!("let mut {c}: {f} = 0.0;"));
                            self.line(&format!("while {c} < 3.0 && {n}.{cmp} > -0.5 {{"));
                            self.line(&format!("    {n}.step({});", k.code));
                            self.line(&format!("    {c} += 1.0;"));
                            self.line("}");
                        }
                    }
                    5 if here => {
                        let field = self.rng.pick(&["x", "y"]).to_string();
                        let e = self.expr_bounded(2, LIMIT);
                        let op = *self.rng.pick(&["=", "+=", "-="]);
                        self.line(&format!("{n}.{field} {op} {};", e.code));
                        let b = if op == "=" { e.bound } else { 2.0 * e.bound };
                        self.var_mut(v.id).bound = (v.bound + b).max(5.0);
                    }
                    6 if here => {
                        let (w, wb) = self.vec2_bounded(1);
                        if self.rng.chance(50) {
                            self.line(&format!("{n} += {w};"));
                            self.var_mut(v.id).bound = (v.bound + wb).max(5.0);
                        } else {
                            self.line(&format!("{n} = {w};"));
                            self.var_mut(v.id).bound = wb.max(5.0);
                        }
                    }
                    _ => {
                        // In a loop, a write within the budget or a contraction.
                        let field = self.rng.pick(&["x", "y"]).to_string();
                        match self.take_budget(&v) {
                            Some(b) => {
                                let e = self.expr(1);
                                let e = self.squash(e);
                                self.line(&format!("{n}.{field} += {} * {};", lit(b), e.code));
                            }
                            None => {
                                let e = self.expr(1);
                                let e = self.squash(e);
                                self.line(&format!("{n} = {n} * {};", paren(&e.code)));
                            }
                        }
                    }
                }
                true
            }
            // A `Vec<V2>` built by pushes (or `vec![..]`) and reduced into a float.
            4 | 5 => {
                let vs = self.fresh("vs");
                let n = self.rng.range(2, 3) as usize;
                let mut items = Vec::new();
                let mut bound: f64 = 0.0;
                for _ in 0..n {
                    let (c, b) = self.vec2_bounded(1);
                    bound = bound.max(b);
                    items.push(c);
                }
                if self.rng.chance(50) {
                    self.line(&format!("let mut {vs}: Vec<V2> = Vec::new();"));
                    for c in &items {
                        self.line(&format!("{vs}.push({c});"));
                    }
                } else {
                    self.line(&format!("let {vs} = vec![{}];", items.join(", ")));
                }
                let t = self.fresh("t");
                let k = self.expr(1);
                let k = self.squash(k);
                let total = match self.rng.below(6) {
                    0 => {
                        self.line(&format!(
                            "let {t} = {vs}.iter().map(|q| q.size()).sum::<{f}>();"
                        ));
                        n as f64 * (bound + 0.5)
                    }
                    1 => {
                        self.line(&format!("let mut {t}: {f} = 0.0;"));
                        self.line(&format!("for q in &{vs} {{"));
                        self.line(&format!("    {t} += q.x * {} - 0.5 * q.y;", k.code));
                        self.line("}");
                        n as f64 * 1.5 * bound
                    }
                    2 => {
                        let j = self.rng.below(n);
                        self.line(&format!(
                            "let {t} = ({vs}[{j}] - {vs}[{}]).size();",
                            n - 1 - j
                        ));
                        2.0 * bound + 0.5
                    }
                    3 => {
                        // On what a method returned, `dot` is the array rule (README, Known
                        // limitations): through the type.
                        self.line(&format!(
                            "let {t} = V2::dot(&{vs}[{}].turned({}), &{vs}[0]);",
                            n - 1,
                            k.code
                        ));
                        bound * bound
                    }
                    4 => {
                        self.line(&format!("let mut {t}: {f} = 0.0;"));
                        self.line(&format!("for i in 1..{vs}.len() {{"));
                        self.line(&format!(
                            "    {t} += ({vs}[i] - {vs}[i - 1]).size() * {};",
                            k.code
                        ));
                        self.line("}");
                        n as f64 * (2.0 * bound + 0.5)
                    }
                    _ => {
                        self.line(&format!(
                            "let {t} = {vs}.iter().fold(0.0, |acc: {f}, q| acc + q.energy());"
                        ));
                        n as f64 * 0.5 * (bound * bound + 0.25)
                    }
                };
                self.declare(t, Kind::Float, false, total);
                true
            }
            // A float read from `V2`s.
            6 | 7 if !self.vec2s(false).is_empty() => {
                let e = self.vec2_read().expect("a V2");
                let e = if e.bound > LIMIT { self.squash(e) } else { e };
                let t = self.fresh("t");
                let m = if self.rng.chance(30) { "mut " } else { "" };
                self.line(&format!("let {m}{t} = {};", e.code));
                self.declare(t, Kind::Float, !m.is_empty(), e.bound);
                true
            }
            // A new `V2`.
            _ => {
                let (c, b) = self.vec2_bounded(2);
                let v = self.fresh("v");
                let mutable = self.rng.chance(50);
                let m = if mutable { "mut " } else { "" };
                let ty = if self.rng.chance(25) { ": V2" } else { "" };
                self.line(&format!("let {m}{v}{ty} = {c};"));
                let b = if mutable { b.max(5.0) } else { b };
                self.declare(v, Kind::Vec2, mutable, b);
                true
            }
        }
    }

    /// A pair chosen by a condition or by a `match` on an integer, taken apart, kept as a
    /// tuple or assigned over two variables: `let (a, b) = if c { (e1, e2) } else { (e3, e4) };`,
    /// `(p, q) = match k { 0 => (q, p), .. };`.
    fn s_if_tuple(&mut self) -> bool {
        let f = self.f();
        // Two mutable floats of this loop level (no budget to share) may be assigned.
        let level = self.frames.len();
        let targets: Vec<Var> = self
            .mutable_floats()
            .into_iter()
            .filter(|v| v.depth == level)
            .collect();
        let assign = targets.len() >= 2 && self.rng.chance(30);
        let (ta, tb) = if assign {
            let i = self.rng.below(targets.len());
            let mut j = self.rng.below(targets.len() - 1);
            if j >= i {
                j += 1;
            }
            (Some(targets[i].clone()), Some(targets[j].clone()))
        } else {
            (None, None)
        };
        let annotate = self.rng.chance(40);
        let mut bound: f64 = 1.0;
        // One arm's pair: sometimes the two variables swapped (or mixed) when assigning.
        let mut pair = |g: &mut Self, first: bool| -> String {
            if let (Some(a), Some(b)) = (&ta, &tb)
                && g.rng.chance(40)
            {
                bound = bound.max(a.bound).max(b.bound);
                return if g.rng.chance(50) {
                    format!("({}, {})", b.name, a.name)
                } else {
                    format!("({}, 0.5 * {})", b.name, a.name)
                };
            }
            let x = g.expr_bounded(2, LIMIT);
            let y = g.expr_bounded(2, LIMIT);
            bound = bound.max(x.bound).max(y.bound);
            let (x, y) = if first && !annotate && ta.is_none() {
                (g.typed(x), g.typed(y))
            } else {
                (x, y)
            };
            format!("({}, {})", x.code, y.code)
        };
        let ints = self.ints();
        let value = if !ints.is_empty() && self.rng.chance(35) {
            let v = self.rng.pick(&ints).clone();
            let [a0, a1, a2] = self.match_arms();
            let (p0, p1, p2) = (pair(self, true), pair(self, false), pair(self, false));
            format!(
                "match {} {{ {a0} => {p0}, {a1} => {p1}, {a2} => {p2} }}",
                v.name
            )
        } else {
            let c = if self.rng.chance(65) {
                self.float_cond()
            } else {
                self.int_cond()
            };
            let p0 = pair(self, true);
            if self.rng.chance(25) {
                let c2 = self.float_cond();
                let (p1, p2) = (pair(self, false), pair(self, false));
                format!("if {c} {{ {p0} }} else if {c2} {{ {p1} }} else {{ {p2} }}")
            } else {
                let p1 = pair(self, false);
                format!("if {c} {{ {p0} }} else {{ {p1} }}")
            }
        };
        if let (Some(a), Some(b)) = (ta, tb) {
            self.line(&format!("({}, {}) = {value};", a.name, b.name));
            self.var_mut(a.id).bound = bound;
            self.var_mut(b.id).bound = bound;
            return true;
        }
        let ty = if annotate {
            format!(": ({f}, {f})")
        } else {
            String::new()
        };
        match self.rng.below(3) {
            0 => {
                let p = self.fresh("p");
                self.line(&format!("let {p}{ty} = {value};"));
                self.declare(p, Kind::Pair, false, bound);
            }
            k => {
                let (x, y) = (self.fresh("t"), self.fresh("t"));
                let m = k == 2;
                let mx = if m { "mut " } else { "" };
                self.line(&format!("let ({mx}{x}, {y}){ty} = {value};"));
                self.declare(x, Kind::Float, m, bound);
                self.declare(y, Kind::Float, false, bound);
            }
        }
        true
    }

    /// Two nested loops carrying accumulators of several kinds out of both: an inner sum
    /// (`let mut inner = 0.0; for j in .. { inner += ..; }`, also a `while` with `break`, a
    /// triangular `for j in 0..i` or a loop over a container), and in the outer loop a sum, a
    /// product, a pair shifted each trip, a running maximum, a `Vec` pushed to, an array
    /// written by index, a struct rebuilt, or an outer variable decayed.
    fn s_nested_acc(&mut self, depth: usize) -> bool {
        let f = self.f();
        let (range, _lo, hi, trips, _) = self.range();
        if trips <= 0 || hi < 0 {
            return false;
        }
        let named = self.rng.chance(80);
        let i = if named {
            format!("i{}", self.frames.len())
        } else {
            "_".to_string()
        };
        // The accumulators, declared before the loops.
        let kinds = [
            "sum", "prod", "pair", "max", "vec", "array", "point", "outer",
        ];
        let mut chosen: Vec<&str> = kinds
            .iter()
            .copied()
            .filter(|_| self.rng.chance(35))
            .collect();
        if chosen.is_empty() {
            chosen.push(kinds[self.rng.below(3)]);
        }
        if !named {
            chosen.retain(|k| *k != "array");
        }
        let level = self.frames.len();
        let outer: Option<Var> = if chosen.contains(&"outer") {
            let vs: Vec<Var> = self
                .mutable_floats()
                .into_iter()
                .filter(|v| v.depth == level)
                .collect();
            (!vs.is_empty()).then(|| self.rng.pick(&vs).clone())
        } else {
            None
        };
        let name = |g: &mut Self, p: &str| g.fresh(p);
        let sum = name(self, "acc");
        let prod = name(self, "pr");
        let pair = name(self, "pp");
        let best = name(self, "best");
        let hv = name(self, "hv");
        let arr = name(self, "ar");
        let pt = name(self, "st");
        let tf = trips as f64;
        for k in &chosen {
            match *k {
                "sum" => self.line(&format!("let mut {sum}: {f} = 0.0;")),
                "prod" => self.line(&format!("let mut {prod} = 1.0{f};")),
                "pair" => self.line(&format!("let mut {pair}: ({f}, {f}) = (0.0, 1.0);")),
                "max" => {
                    let e = self.expr_bounded(2, 2.0);
                    let e = self.typed(e);
                    self.line(&format!("let mut {best} = {};", e.code));
                }
                "vec" => self.line(&format!("let mut {hv}: Vec<{f}> = Vec::new();")),
                "array" => self.line(&format!("let mut {arr} = [0.0{f}; 2];")),
                "point" => self.line(&format!("let mut {pt} = Pt {{ a: 0.0, b: 1.0 }};")),
                _ => {}
            }
        }
        self.line(&format!("for {i} in {range} {{"));
        let before = self.state();
        self.enter_loop(trips, true);
        if named {
            self.declare(i.clone(), Kind::int(0, hi, true), false, 1.0);
        }
        self.indent += 1;
        let inner = self.fresh("inner");
        let init = if self.rng.chance(50) {
            "0.0".to_string()
        } else {
            let e = self.expr(1);
            self.squash(e).code
        };
        self.line(&format!("let mut {inner}: {f} = {init};"));
        // The inner loop.
        let j = format!("j{}", self.frames.len());
        let seqs = self.seqs_but_windows();
        let inner_before = self.state();
        let mut item_bound = 1.0;
        let (inner_trips, form) = match self.rng.below(5) {
            0 if named => {
                let incl = self.rng.chance(50);
                let r = if incl {
                    format!("0..={i}")
                } else {
                    format!("0..{i}")
                };
                self.line(&format!("for {j} in {r} {{"));
                (hi + 1, "for")
            }
            1 => {
                let m = self.rng.range(1, 3);
                self.line(&format!("let mut {j} = 0;"));
                self.line(&format!("while {j} < {m} {{"));
                (m, "while")
            }
            2 if !seqs.is_empty() => {
                let s = self.rng.pick(&seqs).clone();
                let Kind::Seq { hi: shi, .. } = s.kind else {
                    unreachable!()
                };
                let mut_vec = matches!(
                    s.kind,
                    Kind::Seq {
                        seq: SeqKind::MutVec | SeqKind::MutSlice,
                        ..
                    }
                );
                let src = if mut_vec || self.rng.chance(50) {
                    format!("{}.iter()", s.name)
                } else {
                    slice_arg(&s)
                };
                self.line(&format!("for &{j} in {src} {{"));
                item_bound = s.bound;
                (shi as i64, "items")
            }
            _ => {
                let m = self.rng.range(1, 3);
                self.line(&format!("for {j} in 0..{m} {{"));
                (m, "for")
            }
        };
        self.enter_loop(inner_trips, form != "while");
        self.indent += 1;
        match form {
            "items" => {
                self.declare(j.clone(), Kind::Float, false, item_bound);
            }
            _ => {
                self.declare(
                    j.clone(),
                    Kind::int(0, inner_trips.max(hi), true),
                    false,
                    1.0,
                );
            }
        }
        if form == "for" && self.rng.chance(20) {
            let c = self.int_cond();
            self.line(&format!("if {c} {{"));
            self.line("    continue;");
            self.line("}");
        }
        let e = self.expr(self.expr_depth.max(2));
        let e = self.squash(e);
        self.line(&format!("{inner} += {};", e.code));
        if self.rng.chance(30) {
            let c = self.float_cond();
            self.line(&format!("if {c} {{"));
            if self.rng.chance(25) && self.in_else == 0 {
                let r = self.return_value();
                self.line(&format!("    return {r};"));
            } else {
                self.line("    break;");
            }
            self.line("}");
        }
        if form == "while" {
            self.line(&format!("{j} += 1;"));
        }
        self.indent -= 1;
        self.exit_loop(&inner_before);
        self.line("}");
        let ib = 1.0 + inner_trips.max(1) as f64;
        // The outer accumulators.
        for k in &chosen {
            match *k {
                "sum" => self.line(&format!("{sum} += 0.5 * {inner};")),
                "prod" => self.line(&format!("{prod} *= 0.75 + 0.25 * ({inner}).tanh();")),
                "pair" => {
                    self.line(&format!("{pair} = ({pair}.1, {pair}.0 + 0.5 * ({inner}).sin());"))
                }
                "max" => self.line(&format!("{best} = {best}.max({inner});")),
                "vec" => self.line(&format!("{hv}.push({inner});")),
                "array" => self.line(&format!("{arr}[{i} % 2] += ({inner}).tanh();")),
                "point" => self.line(&format!(
                    "{pt} = Pt {{ a: {pt}.a + 0.5 * ({inner}).tanh(), b: 0.9 * {pt}.b + 0.1 * {pt}.a }};"
                )),
                _ => {
                    if let Some(o) = &outer {
                        self.line(&format!(
                            "{o} = 0.5 * {o} + ({inner}).tanh();",
                            o = o.name
                        ));
                    }
                }
            }
        }
        self.indent -= 1;
        self.exit_loop(&before);
        self.line("}");
        let _ = depth;
        for k in &chosen {
            match *k {
                "sum" => {
                    self.declare(sum.clone(), Kind::Float, true, 0.5 * ib * tf);
                }
                "prod" => {
                    self.declare(prod.clone(), Kind::Float, true, 1.0);
                }
                "pair" => {
                    self.declare(pair.clone(), Kind::Pair, false, 1.0 + 0.5 * tf);
                }
                "max" => {
                    self.declare(best.clone(), Kind::Float, false, ib.max(2.0));
                }
                "vec" => {
                    self.declare(hv.clone(), Kind::vec(0, trips as usize), true, ib);
                }
                "array" => {
                    self.declare(
                        arr.clone(),
                        Kind::Seq {
                            seq: SeqKind::Array,
                            lo: 2,
                            hi: 2,
                        },
                        true,
                        tf,
                    );
                }
                "point" => {
                    self.declare(pt.clone(), Kind::Point, true, 1.0 + tf);
                }
                _ => {
                    if let Some(o) = &outer {
                        let b = o.bound.max(2.0) + 1.0;
                        self.var_mut(o.id).bound = b;
                    }
                }
            }
        }
        true
    }

    /// A loop that reads a container at `base + l` over `for l in lo..hi` (what the macro reads
    /// through a window borrowed before the loop): literal, variable and computed bases, a
    /// reversed range, an empty or inverted range (whose reads would be out of bounds), two
    /// bases in one loop, a `break`, `continue` or `return` before a read past the end, nested
    /// loops whose base is the outer index times a stride, a `while` loop, and writes at
    /// `base + l` into a new local `Vec` or a `&mut` parameter.
    fn s_window(&mut self) -> bool {
        let f = self.f();
        let seqs: Vec<Var> = self.seqs_of_at_least(1);
        if seqs.is_empty() {
            return false;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { lo: len, .. } = s.kind else {
            unreachable!()
        };
        let name = s.name.clone();
        let t = self.fresh("t");
        let l = self.fresh("wl");
        let e = self.expr(1);
        let e = self.squash(e);
        let e = self.typed(e);
        let w = paren(&e.code);
        // `base` for a loop of `count` trips starting at `start`: literal, a variable or
        // arithmetic, with `base + start + count <= len`.
        let ints: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(
                |v| matches!(v.kind, Kind::Int { usize: true, lo, hi, .. } if lo >= 0 && hi <= 6),
            )
            .collect();
        let base = |g: &mut Self, room: usize| -> String {
            let k = g.rng.below(room + 1);
            let fit: Vec<&Var> = ints
                .iter()
                .filter(|v| matches!(v.kind, Kind::Int { hi, .. } if hi as usize <= room))
                .collect();
            match g.rng.below(5) {
                0 if !fit.is_empty() => g.rng.pick(&fit).name.clone(),
                1 if !fit.is_empty() => {
                    let v = g.rng.pick(&fit).name.clone();
                    format!("{v} * 1")
                }
                2 if k >= 1 => format!("({} - 1)", k + 1),
                3 => format!("{k} * 1"),
                _ => k.to_string(),
            }
        };
        let idx = |b: &str, l: &str, flip: bool| {
            if flip {
                format!("{l} + {b}")
            } else {
                format!("{b} + {l}")
            }
        };
        let bound;
        match self.rng.below(10) {
            // A plain window, forward or reversed, from 0 or 1.
            0 | 1 => {
                let start = if len >= 2 { self.rng.below(2) } else { 0 };
                let count = 1 + self.rng.below(len - start);
                let b = base(self, len - start - count);
                let range = format!("{start}..{}", start + count);
                let range = if self.rng.chance(40) {
                    format!("({range}).rev()")
                } else {
                    range
                };
                let flip = self.rng.chance(30);
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for {l} in {range} {{"));
                let read = format!("{name}[{}]", idx(&b, &l, flip));
                if self.rng.chance(30) {
                    self.line(&format!("    {t} += {read} * {w} + ({l} as {f}) * 0.25;"));
                    bound = (s.bound + 1.0) * count as f64 + 0.25 * (len * len) as f64;
                } else {
                    self.line(&format!("    {t} += {read} * {w};"));
                    bound = s.bound * count as f64;
                }
                self.line("}");
            }
            // Two bases in one loop.
            2 => {
                if len < 2 {
                    return false;
                }
                let count = 1 + self.rng.below(len - 1);
                let b2 = 1 + self.rng.below(len - count);
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for {l} in 0..{count} {{"));
                self.line(&format!(
                    "    {t} += {name}[{l}] * {w} - 0.5 * {name}[{b2} + {l}];"
                ));
                self.line("}");
                bound = 1.5 * s.bound * count as f64;
            }
            // An empty or inverted range whose reads would be out of bounds.
            3 => {
                let a = self.rng.below(4);
                let range = if self.rng.chance(50) {
                    format!("{a}..{a}")
                } else {
                    format!("{}..{a}", a + 1 + self.rng.below(3))
                };
                self.line(&format!("let mut {t}: {f} = {w};"));
                self.line(&format!("for {l} in {range} {{"));
                self.line(&format!("    {t} += {name}[{} + {l}] * {w};", len + 3));
                self.line("}");
                bound = e.bound;
            }
            // A way out before the read past the end.
            4 | 5 => {
                let b = self.rng.below(len);
                let extra = 1 + self.rng.below(3);
                let end = len - b + extra;
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for {l} in 0..{end} {{"));
                let exit = match self.rng.below(3) {
                    0 => "break;".to_string(),
                    1 => "continue;".to_string(),
                    _ if self.ret == Ret::Scalar
                        && (self.in_else == 0 || self.cfg.diverging_else) =>
                    {
                        format!("return {t} * 0.5;")
                    }
                    _ => "break;".to_string(),
                };
                self.line(&format!("    if {b} + {l} >= {name}.len() {{"));
                self.line(&format!("        {exit}"));
                self.line("    }");
                self.line(&format!("    {t} += {name}[{b} + {l}] * {w};"));
                self.line("}");
                bound = s.bound * len as f64;
                if exit.starts_with("return") {
                    self.ret_bound = self.ret_bound.max(0.5 * bound);
                }
            }
            // Nested loops: the base is the outer index times a stride.
            6 | 7 => {
                let cols = 1 + self.rng.below(len.min(3));
                let stride = cols + self.rng.below(2);
                // rows with (rows - 1) * stride + cols <= len
                let rows = 1 + (len - cols) / stride;
                let i = self.fresh("wr");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{rows} {{"));
                let inner = if self.rng.chance(30) {
                    format!("(0..{cols}).rev()")
                } else {
                    format!("0..{cols}")
                };
                if self.rng.chance(50) {
                    let bb = self.fresh("wb");
                    self.line(&format!("    let {bb} = {i} * {stride};"));
                    self.line(&format!("    for {l} in {inner} {{"));
                    self.line(&format!("        {t} += {name}[{bb} + {l}] * {w};"));
                } else {
                    self.line(&format!("    for {l} in {inner} {{"));
                    self.line(&format!(
                        "        {t} += {name}[{i} * {stride} + {l}] * {w};"
                    ));
                }
                self.line("    }");
                self.line(&format!("    {t} = 0.75 * {t};"));
                self.line("}");
                bound = s.bound * (rows * cols) as f64;
            }
            // A `while` loop over `base + l`.
            8 => {
                let count = 1 + self.rng.below(len);
                let b = base(self, len - count);
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("let mut {l} = 0;"));
                self.line(&format!("while {l} < {count} {{"));
                self.line(&format!("    {t} += {name}[{b} + {l}] * {w};"));
                self.line(&format!("    {l} += 1;"));
                self.line("}");
                bound = s.bound * count as f64;
            }
            // Writes at `base + l`: into a new local `Vec`, or a `&mut` parameter.
            _ => {
                let count = 1 + self.rng.below(len);
                let b = base(self, len - count);
                let targets: Vec<Var> = self
                    .writable_seqs()
                    .into_iter()
                    .filter(|v| {
                        matches!(v.kind, Kind::Seq { seq: SeqKind::MutSlice | SeqKind::MutVec, lo, .. } if lo >= len)
                            && v.id != s.id
                    })
                    .collect();
                if !targets.is_empty() && self.rng.chance(60) {
                    let o = self.rng.pick(&targets).clone();
                    let on = o.name.clone();
                    self.line(&format!("for {l} in 0..{count} {{"));
                    self.line(&format!(
                        "    {on}[{b} + {l}] = {on}[{b} + {l}] * 0.5 + ({name}[{l}] * {w}).tanh();"
                    ));
                    self.line("}");
                    let nb = o.bound.max(0.5 * o.bound + 1.0);
                    self.var_mut(o.id).bound = nb;
                    self.line(&format!("let {t}: {f} = {on}[{b}] * {w};"));
                    bound = nb;
                    self.declare(t, Kind::Float, false, bound);
                    return true;
                }
                let h = self.fresh("wh");
                self.line(&format!("let mut {h}: Vec<{f}> = vec![0.0; {len}];"));
                self.line(&format!("for {l} in 0..{count} {{"));
                if self.rng.chance(50) {
                    self.line(&format!("    {h}[{b} + {l}] += {name}[{l}] * {w};"));
                } else {
                    self.line(&format!("    {h}[{b} + {l}] = {name}[{b} + {l}] * {w};"));
                }
                self.line("}");
                self.line(&format!("let {t}: {f} = {h}.iter().sum::<{f}>();"));
                self.declare(
                    h,
                    Kind::Seq {
                        seq: SeqKind::Vec,
                        lo: len,
                        hi: len,
                    },
                    true,
                    s.bound,
                );
                bound = s.bound * count as f64;
                self.declare(t, Kind::Float, false, bound);
                return true;
            }
        }
        self.declare(t, Kind::Float, true, bound);
        true
    }

    /// Loops whose reads the macro serves through windows of the newest kinds, and their near
    /// misses: an index `base + c` where `c` is a counter the loop carries (stepped by 1, 2 or
    /// −1; `usize`, `i64` or `u32`; reset in an outer loop or carried across it, ADBench's
    /// packed triangle; read before or after its step, also as a value), and loops nested in a
    /// loop that reads the same container at `base + j` (`for l in 0..j`, `j..d`,
    /// `(0..j).rev()`, `0..j + 1`, `0..=j`, `1..j`, `0..d`, with an early `break` on the
    /// indices), adding into the sum or into a local `Vec` at both levels. Every index is
    /// checked by running the loops here on integers first.
    fn s_counter(&mut self) -> bool {
        let f = self.f();
        // Dimension: a literal or a `usize` variable of a known small range.
        let dims: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(|v| {
                matches!(v.kind, Kind::Int { usize: true, lo, hi, .. } if lo >= 0 && lo <= hi && hi <= 4)
            })
            .collect();
        let (d_text, d_vals): (String, Vec<i64>) = if !dims.is_empty() && self.rng.chance(35) {
            let v = self.rng.pick(&dims).clone();
            let Kind::Int { lo, hi, .. } = v.kind else {
                unreachable!()
            };
            (v.name.clone(), (lo..=hi).collect())
        } else {
            let d = self.rng.range(1, 4);
            (d.to_string(), vec![d])
        };
        let nested = self.rng.chance(75);
        // Outer loop `for j in os..d` (reversed or not); without nesting, the one loop.
        let os: i64 = if self.rng.chance(20) { 1 } else { 0 };
        let orev = self.rng.chance(20);
        // Inner range, in terms of j and d.
        let inner = self.rng.below(8);
        let inner_text = |j: &str, d: &str| -> String {
            match inner {
                0 => format!("0..{j}"),
                1 => format!("{j}..{d}"),
                2 => format!("(0..{j}).rev()"),
                3 => format!("0..{j} + 1"),
                4 => format!("{j} + 1..{d}"),
                5 => format!("0..{d}"),
                6 => format!("1..{j}"),
                _ => format!("0..={j}"),
            }
        };
        let inner_range = |j: i64, d: i64| -> Vec<i64> {
            match inner {
                0 => (0..j).collect(),
                1 => (j..d).collect(),
                2 => (0..j).rev().collect(),
                3 => (0..j + 1).collect(),
                4 => (j + 1..d).collect(),
                5 => (0..d).collect(),
                6 => (1..j).collect(),
                _ => (0..=j).collect(),
            }
        };
        let brk: Option<i64> = if nested && self.rng.chance(20) {
            Some(self.rng.range(1, 4))
        } else {
            None
        };
        // Counter: 0 none, 1 stepped in the inner loop (or the one loop), 2 stepped in the
        // outer loop and read in the inner one.
        let cmode = if nested {
            *self.rng.pick(&[0usize, 1, 1, 1, 2])
        } else {
            1
        };
        let reset = cmode == 1 && nested && self.rng.chance(35);
        let outer_extra = cmode == 1 && nested && self.rng.chance(15);
        let delta: i64 = *self.rng.pick(&[1, 1, 1, 1, 2, -1]);
        let ctype = *self.rng.pick(&["usize", "usize", "usize", "i64", "u32"]);
        let after_step = self.rng.chance(25);
        let value_read = self.rng.chance(30);
        let outer_read = nested && self.rng.chance(60);
        let plain_read = nested && (cmode == 0 || self.rng.chance(50));
        // The one loop's range.
        let (lo1, hi1) = {
            let lo = self.rng.range(0, 2);
            (lo, lo + self.rng.range(0, 4))
        };
        // Rows around the nest (`for r in 0..rows`, the plain reads at `r * stride + ..`, as
        // the Gaussian mixture's triangle over its points), the counter reset per row or not.
        let rows: i64 = if nested && self.rng.chance(30) {
            self.rng.range(1, 3)
        } else {
            0
        };
        let reset_row = rows > 0 && cmode != 0 && self.rng.chance(40);
        // Reset per row, a `usize` counter may index the row's own part (`p[r * span + c]`,
        // ADBench's `icf[ik * sz + idx]`).
        let crow = reset_row && ctype == "usize" && self.rng.chance(60);
        // Run the loops on integers: the counter's values (relative to its start 0), those
        // read, and the indices `l` and `j` read.
        let (mut cmin, mut cmax) = (0i64, 0i64);
        let (mut rmin, mut rmax) = (i64::MAX, i64::MIN);
        let mut lmax = -1i64;
        for &d in &d_vals {
            let mut c = 0i64;
            let mut seen = |c: i64, read: bool| {
                cmin = cmin.min(c);
                cmax = cmax.max(c);
                if read {
                    rmin = rmin.min(c);
                    rmax = rmax.max(c);
                }
            };
            if !nested {
                for _l in lo1..hi1 {
                    if !after_step {
                        seen(c, true);
                    }
                    c += delta;
                    seen(c, after_step);
                }
                continue;
            }
            let mut js: Vec<i64> = (os..d).collect();
            if orev {
                js.reverse();
            }
            for r in 0..rows.max(1) {
                if reset_row && r > 0 {
                    c = 0;
                }
                for &j in &js {
                    if cmode == 1 && reset {
                        c = 0;
                    }
                    if outer_read {
                        lmax = lmax.max(j);
                    }
                    if cmode == 2 && !after_step {
                        seen(c, true);
                    }
                    for l in inner_range(j, d) {
                        if let Some(k) = brk {
                            if l + j >= k {
                                break;
                            }
                        }
                        if plain_read {
                            lmax = lmax.max(l);
                        }
                        match cmode {
                            1 => {
                                if !after_step {
                                    seen(c, true);
                                }
                                c += delta;
                                seen(c, after_step);
                            }
                            2 => seen(c, true),
                            _ => {}
                        }
                    }
                    if cmode == 1 && outer_extra {
                        c += 1;
                        seen(c, false);
                    }
                    if cmode == 2 {
                        c += delta;
                        seen(c, after_step);
                    }
                }
            }
        }
        let counter_reads = rmin <= rmax;
        // The counter's start: unsigned ones never go below zero; an `i64` one may.
        let k0 = if ctype == "i64" {
            -cmin - self.rng.range(0, 2)
        } else {
            -cmin
        };
        // The base of the counter's reads keeps their indices at zero or above.
        let cb = if counter_reads {
            (-(k0 + rmin)).max(0) + self.rng.range(0, 1)
        } else {
            0
        };
        let cspan = if counter_reads { cb + k0 + rmax + 1 } else { 0 };
        let cneed = if counter_reads && crow {
            (rows * cspan) as usize
        } else if counter_reads {
            cspan as usize
        } else {
            0
        };
        let pb = self.rng.range(0, 1);
        let stride = lmax + 1 + self.rng.range(0, 1);
        // The inner loop's reads one past the outer loop's base (a near miss of the windows
        // it shares: the same base only).
        let shift: i64 = if self.rng.chance(25) { 1 } else { 0 };
        let pneed = if lmax < 0 {
            0
        } else if rows > 0 {
            (pb + shift + (rows - 1) * stride + lmax + 1) as usize
        } else {
            (pb + shift + lmax + 1) as usize
        };
        let need = cneed.max(pneed).max(1);
        // The container read: one long enough, or a local built from one.
        let seqs: Vec<Var> = self.seqs_of_at_least(need);
        let t = self.fresh("t");
        let e = self.expr(1);
        let e = self.squash(e);
        let e = self.typed(e);
        let w = paren(&e.code);
        let (src, sb) = if !seqs.is_empty() && self.rng.chance(60) {
            let s = self.rng.pick(&seqs).clone();
            (s.name.clone(), s.bound)
        } else {
            let pk = self.fresh("pk");
            let from: Vec<Var> = self.seqs_of_at_least(1);
            let n = need + self.rng.below(2);
            let q = self.fresh("pq");
            let (fill, b) = if let Some(s) = from.first().cloned().filter(|_| self.rng.chance(70)) {
                let Kind::Seq { lo, .. } = s.kind else {
                    unreachable!()
                };
                (
                    format!("{}[{q} % {lo}] * 0.5 + ({q} as {f}) * 0.125", s.name),
                    0.5 * s.bound + 0.125 * n as f64,
                )
            } else {
                (format!("({w} + ({q} as {f}) * 0.25).sin()"), 1.0)
            };
            if self.rng.chance(50) {
                self.line(&format!("let mut {pk}: Vec<{f}> = vec![0.0; {n}];"));
                self.line(&format!("for {q} in 0..{n} {{"));
                self.line(&format!("    {pk}[{q}] = {fill};"));
                self.line("}");
            } else {
                self.line(&format!(
                    "let {pk}: Vec<{f}> = (0..{n}).map(|{q}| {fill}).collect();"
                ));
            }
            self.declare(
                pk.clone(),
                Kind::Seq {
                    seq: SeqKind::Vec,
                    lo: n,
                    hi: n,
                },
                false,
                b,
            );
            (pk, b)
        };
        let c = self.fresh("wc");
        let (j, l) = (self.fresh("wj"), self.fresh("wl"));
        // The counter's read, `src[cb + c]` in the forms its type allows.
        let (ri, rb) = (self.fresh("wr"), self.fresh("wb"));
        let cread = if crow {
            if self.rng.chance(50) {
                format!("{src}[{ri} * {cspan} + {cb} + {c}]")
            } else {
                format!("{src}[{c} + {ri} * {cspan}]")
            }
        } else if ctype == "usize" {
            match (cb, self.rng.below(3)) {
                (0, 0) => format!("{src}[{c}]"),
                (_, 1) => format!("{src}[{c} + {cb}]"),
                _ => format!("{src}[{cb} + {c}]"),
            }
        } else if ctype == "u32" && self.rng.chance(50) {
            format!("{src}[{cb} + {c} as usize]")
        } else {
            format!("{src}[({cb} + {c}) as usize]")
        };
        let let_base = self.rng.chance(50);
        let pread = |x: &str| -> String {
            let b = if rows == 0 {
                pb.to_string()
            } else if let_base {
                rb.clone()
            } else {
                format!("{ri} * {stride} + {pb}")
            };
            if b == "0" {
                format!("{src}[{x}]")
            } else {
                format!("{src}[{b} + {x}]")
            }
        };
        let step = match delta {
            1 => format!("{c} += 1;"),
            2 => format!("{c} += 2;"),
            _ => format!("{c} -= 1;"),
        };
        let vread = if value_read {
            format!(" + ({c} as {f}) * 0.0625")
        } else {
            String::new()
        };
        // Into the sum, or into a local `Vec` at both levels.
        let into_vec = nested && self.rng.chance(30);
        let h = self.fresh("wh");
        let hn = d_vals.iter().copied().max().unwrap_or(1).max(1) as usize + 1;
        let add = |at: &str, term: String| -> String {
            if into_vec {
                format!("{h}[{at}] += {term};")
            } else {
                format!("{t} += {term};")
            }
        };
        let mut terms = 0usize;
        self.line(&format!("let mut {c}: {ctype} = {k0};"));
        if into_vec {
            self.line(&format!("let mut {h}: Vec<{f}> = vec![0.0; {hn}];"));
        }
        self.line(&format!("let mut {t}: {f} = 0.0;"));
        let cterm = |g: &mut Self| -> String {
            if g.rng.chance(50) {
                format!("{cread} * {w}{vread}")
            } else {
                format!("({cread} * {w}).tanh(){vread}")
            }
        };
        if !nested {
            let range = format!("{lo1}..{hi1}");
            // The loop's own index unused, `for _ in`: the counter is all the body reads.
            let unnamed = self.rng.chance(30);
            if unnamed {
                self.line(&format!("for _ in {range} {{"));
            } else {
                self.line(&format!("for {l} in {range} {{"));
            }
            if after_step {
                self.line(&format!("    {step}"));
            }
            let term = cterm(self);
            if unnamed {
                self.line(&format!("    {t} += {term};"));
            } else {
                self.line(&format!("    {t} += {term} + ({l} as {f}) * 0.125;"));
            }
            if !after_step {
                self.line(&format!("    {step}"));
            }
            self.line("}");
            terms += (hi1 - lo1).max(0) as usize;
        } else {
            let orange = if orev {
                format!("({os}..{d_text}).rev()")
            } else {
                format!("{os}..{d_text}")
            };
            if rows > 0 {
                self.line(&format!("for {ri} in 0..{rows} {{"));
                self.indent += 1;
                if reset_row {
                    self.line(&format!("{c} = {k0};"));
                }
                if let_base {
                    self.line(&format!("let {rb} = {ri} * {stride} + {pb};"));
                }
            }
            self.line(&format!("for {j} in {orange} {{"));
            if reset {
                self.line(&format!("    {c} = {k0};"));
            }
            if outer_read {
                let term = format!("{} * {w}", pread(&j));
                self.line(&format!("    {}", add(&j, term)));
            }
            if cmode == 2 && !after_step {
                let term = cterm(self);
                self.line(&format!("    {}", add(&j, term)));
            }
            let unnamed =
                cmode == 1 && !plain_read && !into_vec && brk.is_none() && self.rng.chance(40);
            let lv = if unnamed { "_".to_string() } else { l.clone() };
            self.line(&format!("    for {lv} in {} {{", inner_text(&j, &d_text)));
            if let Some(k) = brk {
                self.line(&format!("        if {l} + {j} >= {k} {{"));
                self.line("            break;");
                self.line("        }");
            }
            if cmode == 1 && after_step {
                self.line(&format!("        {step}"));
            }
            let mut parts: Vec<String> = Vec::new();
            if cmode != 0 {
                parts.push(cterm(self));
            }
            if plain_read {
                let pr = if shift == 1 {
                    pread(&format!("1 + {l}"))
                } else {
                    pread(&l)
                };
                if cmode != 0 && self.rng.chance(40) {
                    parts[0] = format!("({} * {pr}).tanh()", parts[0]);
                } else if outer_read && self.rng.chance(40) {
                    parts.push(format!("({pr} * {}).sin() * {w}", pread(&j)));
                } else {
                    parts.push(format!("0.5 * {pr} * {w}"));
                }
            }
            if parts.is_empty() {
                parts.push(format!("({l} as {f}) * 0.125"));
            }
            self.line(&format!("        {}", add(&l, parts.join(" + "))));
            if cmode == 1 && !after_step {
                self.line(&format!("        {step}"));
            }
            self.line("    }");
            if outer_extra {
                self.line(&format!("    {c} += 1;"));
            }
            if cmode == 2 {
                self.line(&format!("    {step}"));
                if after_step {
                    let term = cterm(self);
                    self.line(&format!("    {}", add(&j, term)));
                }
            }
            self.line("}");
            if rows > 0 {
                self.indent -= 1;
                self.line("}");
            }
            let dm = d_vals.iter().copied().max().unwrap_or(1) as usize;
            terms += dm * (dm + 2) * 2 * rows.max(1) as usize;
        }
        if into_vec {
            if self.rng.chance(50) {
                self.line(&format!("{t} += {h}.iter().sum::<{f}>();"));
            } else {
                self.line(&format!("{t} += {h}[0] * 0.5 + {h}[{}];", hn - 1));
            }
        }
        if self.rng.chance(30) {
            self.line(&format!("{t} += ({c} as {f}) * 0.25;"));
        }
        let per = 2.0 * sb.max(1.0)
            + 0.5
            + 0.125 * (d_vals.iter().copied().max().unwrap_or(1) + 4) as f64
            + 0.0625 * (cmax - cmin + k0.abs()) as f64;
        let bound = per * terms.max(1) as f64 + 0.25 * (cmax + k0.abs()) as f64 + 1.0;
        self.declare(t, Kind::Float, true, bound);
        true
    }

    /// Reads of containers the README lists beside the index loops: sorts by `partial_cmp`
    /// (of a copy, or of a container in place), `find` and `position` taken apart by `match`
    /// and `if let` (a window loop from the position found), slice patterns (`[first, ..,
    /// last]`, `[a, rest @ ..]`), `std::mem::swap` of two variables (also in a loop),
    /// `get(i).copied()` with an index that may be past the end, and `for` loops over `zip`,
    /// `windows(2)`, `chunks(2)`, `step_by` and `rev`.
    fn s_slice_ops(&mut self) -> bool {
        let f = self.f();
        let seqs: Vec<Var> = self.seqs_of_at_least(1);
        let t = self.fresh("t");
        let e = self.expr(1);
        let e = self.squash(e);
        let e = self.typed(e);
        let w = paren(&e.code);
        let choice = self.rng.below(9);
        if seqs.is_empty() || choice == 4 {
            // `std::mem::swap` of two variables, once or in a loop.
            let (a, b) = (self.fresh("sa"), self.fresh("sb"));
            let e1 = self.expr_bounded(2, LIMIT);
            let e1 = self.typed(e1);
            let e2 = self.expr_bounded(2, LIMIT);
            let e2 = self.typed(e2);
            self.line(&format!("let mut {a}: {f} = {};", e1.code));
            self.line(&format!("let mut {b}: {f} = {};", e2.code));
            if self.rng.chance(50) {
                let n = 1 + self.rng.below(3);
                self.line(&format!("for _ in 0..{n} {{"));
                self.line(&format!("    std::mem::swap(&mut {a}, &mut {b});"));
                self.line(&format!("    {a} = 0.5 * {a} + ({b} * {w}).tanh();"));
                self.line("}");
            } else {
                self.line(&format!("std::mem::swap(&mut {a}, &mut {b});"));
            }
            self.line(&format!("let {t} = {a} * {w} + 0.5 * {b};"));
            self.declare(t, Kind::Float, false, 1.5 * e1.bound.max(e2.bound) + 1.0);
            return true;
        }
        let s = self.rng.pick(&seqs).clone();
        let Kind::Seq { lo: len, .. } = s.kind else {
            unreachable!()
        };
        let name = s.name.clone();
        let sb = s.bound;
        let bound;
        match choice {
            0 | 1 => {
                // A sort: of a copy, or in place.
                let cmp = match self.rng.below(3) {
                    0 => "|p, q| p.partial_cmp(q).unwrap()",
                    1 => "|p, q| q.partial_cmp(p).unwrap()",
                    _ => "|p, q| p.total_cmp(q)",
                };
                let method = if self.rng.chance(50) {
                    "sort_by"
                } else {
                    "sort_unstable_by"
                };
                let writable = s.mutable
                    && !s.frozen
                    && s.depth == self.frames.len()
                    && matches!(
                        s.kind,
                        Kind::Seq {
                            seq: SeqKind::Vec
                                | SeqKind::Array
                                | SeqKind::MutSlice
                                | SeqKind::MutVec,
                            ..
                        }
                    );
                let v = if writable && self.rng.chance(50) {
                    name.clone()
                } else {
                    let v = self.fresh("sv");
                    self.line(&format!("let mut {v} = {name}.to_vec();"));
                    self.declare(
                        v.clone(),
                        Kind::Seq {
                            seq: SeqKind::Vec,
                            lo: len,
                            hi: len,
                        },
                        true,
                        sb,
                    );
                    v
                };
                self.line(&format!("{v}.{method}({cmp});"));
                let mid = len / 2;
                self.line(&format!(
                    "let {t} = {v}[0] * {w} + 0.5 * {v}[{mid}] - 0.25 * {v}[{v}.len() - 1];"
                ));
                bound = 1.75 * sb;
            }
            2 => {
                // `find`, taken apart by `match` or `if let`.
                let c = self.expr_bounded(1, 1.0);
                let c = self.typed(c);
                let cc = paren(&c.code);
                match self.rng.below(3) {
                    0 => self.line(&format!(
                        "let {t}: {f} = match {name}.iter().find(|q| **q > {cc}) {{ Some(q) => *q * {w}, None => 0.5 * {w} }};"
                    )),
                    1 => self.line(&format!(
                        "let {t}: {f} = if let Some(&q) = {name}.iter().rev().find(|q| q.abs() < {cc}.abs() + 0.5) {{ q * {w} }} else {{ {w} }};"
                    )),
                    _ => self.line(&format!(
                        "let {t}: {f} = match {name}.iter().copied().find(|q| *q < {cc}) {{ Some(q) => q.sin() + {w}, None => {w} * {w} }};"
                    )),
                }
                bound = sb.max(1.0) + 1.0;
            }
            3 => {
                // `position`, then a loop from it to the end.
                let c = self.expr_bounded(1, 1.0);
                let c = self.typed(c);
                let cc = paren(&c.code);
                let j = self.fresh("sj");
                let l = self.fresh("wl");
                self.line(&format!("let mut {t}: {f} = {w};"));
                self.line(&format!(
                    "if let Some({j}) = {name}.iter().position(|q| *q > {cc}) {{"
                ));
                self.line(&format!("    for {l} in {j}..{name}.len() {{"));
                self.line(&format!("        {t} += {name}[{l}] * 0.5;"));
                self.line("    }");
                self.line("}");
                bound = 1.0 + 0.5 * sb * len as f64;
            }
            5 => {
                // Slice patterns.
                if self.rng.chance(50) {
                    self.line(&format!(
                        "let {t}: {f} = if let [first, .., last] = {name}[..] {{ first * {w} + 0.5 * last }} else {{ {w} }};"
                    ));
                    bound = 1.5 * sb + 1.0;
                } else {
                    let sl = self.fresh("sp");
                    self.line(&format!("let {sl}: &[{f}] = &{name}[..];"));
                    self.line(&format!("let {t}: {f} = match {sl} {{"));
                    self.line(&format!("    [] => {w},"));
                    self.line(&format!("    [a] => *a * {w},"));
                    self.line(&format!(
                        "    [a, rest @ ..] => *a * {w} + 0.5 * rest.iter().sum::<{f}>(),"
                    ));
                    self.line("};");
                    bound = sb * (1.0 + 0.5 * len as f64);
                }
            }
            6 => {
                // `get(i).copied()`, the index maybe past the end.
                let i = self.rng.below(len + 2);
                match self.rng.below(3) {
                    0 => self.line(&format!(
                        "let {t}: {f} = {name}.get({i}).copied().unwrap_or({w});"
                    )),
                    1 => self.line(&format!(
                        "let {t}: {f} = match {name}.get({i}).copied() {{ Some(q) => q * {w}, None => {w} }};"
                    )),
                    _ => self.line(&format!(
                        "let {t}: {f} = if let Some(q) = {name}.get({i}).copied() {{ q.tanh() + {w} }} else {{ 0.5 }};"
                    )),
                }
                bound = sb + 1.0;
            }
            _ => {
                // `for` loops over adapters.
                let q = self.fresh("q");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                match self.rng.below(5) {
                    0 => {
                        self.line(&format!(
                            "for ({q}, r) in {name}.iter().zip({name}.iter().skip(1)) {{"
                        ));
                        self.line(&format!("    {t} += ({q} * r * {w}).tanh();"));
                        bound = len as f64;
                    }
                    1 => {
                        self.line(&format!("for {q} in {name}.windows(2) {{"));
                        self.line(&format!("    {t} += {q}[0] * {w} - 0.5 * {q}[1];"));
                        bound = 1.5 * sb * len as f64;
                    }
                    2 => {
                        self.line(&format!("for {q} in {name}.chunks(2) {{"));
                        self.line(&format!("    {t} += {q}[0] * {w};"));
                        bound = sb * len as f64;
                    }
                    3 => {
                        self.line(&format!("for &{q} in {name}.iter().step_by(2) {{"));
                        self.line(&format!("    {t} += {q} * {w};"));
                        bound = sb * len as f64;
                    }
                    _ => {
                        self.line(&format!("for &{q} in {name}.iter().rev() {{"));
                        self.line(&format!("    {t} = 0.5 * {t} + {q} * {w};"));
                        bound = 2.0 * sb;
                    }
                }
                self.line("}");
            }
        }
        self.declare(t, Kind::Float, false, bound);
        true
    }

    /// Smaller forms users write: a closure of two parameters called twice, an array chosen
    /// by a condition, a `match` on a pair of integers, a slice parameter shadowed by a copy
    /// that is then written, and an array iterated by value.
    fn s_misc(&mut self) -> bool {
        let f = self.f();
        match self.rng.below(5) {
            0 => {
                let g = self.fresh("g");
                let (a, b) = (self.fresh("u"), self.fresh("u"));
                self.scopes.push(Vec::new());
                self.declare(a.clone(), Kind::Float, false, LIMIT);
                self.declare(b.clone(), Kind::Float, false, LIMIT);
                let body = match self.rng.below(3) {
                    0 => format!("({a} * {b}).tanh() + 0.5 * {a}.sin()"),
                    1 => format!("({a} - {b}).atan() * {b}.cos()"),
                    _ => {
                        let e = self.expr(2);
                        let e = self.typed(e);
                        let e = self.squash(e);
                        format!("({a}).sin() * {} + ({b}).tanh()", e.code)
                    }
                };
                self.scopes.pop();
                self.line(&format!("let {g} = |{a}: {f}, {b}: {f}| {body};"));
                let args: Vec<String> = (0..4).map(|_| self.expr_bounded(2, LIMIT).code).collect();
                let t = self.fresh("t");
                self.line(&format!(
                    "let {t} = {g}({}, {}) - 0.5 * {g}({}, {});",
                    args[0], args[1], args[2], args[3]
                ));
                self.declare(t, Kind::Float, false, 13.0);
            }
            1 => {
                let b = self.fresh("b");
                let c = self.float_cond();
                let es: Vec<Ex> = (0..4).map(|_| self.expr_bounded(2, LIMIT)).collect();
                let bound = es.iter().fold(1.0f64, |m, e| m.max(e.bound));
                let m = if self.rng.chance(50) { "mut " } else { "" };
                self.line(&format!(
                    "let {m}{b}: [{f}; 2] = if {c} {{ [{}, {}] }} else {{ [{}, {}] }};",
                    es[0].code, es[1].code, es[2].code, es[3].code
                ));
                self.declare(
                    b,
                    Kind::Seq {
                        seq: SeqKind::Array,
                        lo: 2,
                        hi: 2,
                    },
                    !m.is_empty(),
                    bound,
                );
            }
            2 => {
                let ints: Vec<Var> = self
                    .ints()
                    .into_iter()
                    .filter(|v| matches!(v.kind, Kind::Int { usize: true, .. }))
                    .collect();
                if ints.len() < 2 {
                    return false;
                }
                let (v, w) = (self.rng.pick(&ints).clone(), self.rng.pick(&ints).clone());
                let es: Vec<Ex> = (0..4).map(|_| self.expr_bounded(2, LIMIT)).collect();
                let bound = es.iter().fold(1.0f64, |m, e| m.max(e.bound));
                let t = self.fresh("t");
                self.line(&format!(
                    "let {t}: {f} = match ({} % 2, {}) {{ (0, 0) => {}, (0, _) => {}, (_, 1..=2) => {}, _ => {} }};",
                    v.name, w.name, es[0].code, es[1].code, es[2].code, es[3].code
                ));
                self.declare(t, Kind::Float, false, bound);
            }
            3 => {
                let slices: Vec<Var> = self
                    .seqs()
                    .into_iter()
                    .filter(|v| {
                        matches!(v.kind, Kind::Seq { seq: SeqKind::Slice, lo, .. } if lo >= 1)
                            && v.depth == self.frames.len()
                    })
                    .collect();
                if slices.is_empty() {
                    return false;
                }
                let s = self.rng.pick(&slices).clone();
                let Kind::Seq { lo, hi, .. } = s.kind else {
                    unreachable!()
                };
                let n = s.name.clone();
                self.line(&format!("let mut {n} = {n}.to_vec();"));
                let e = self.expr_bounded(2, LIMIT);
                let ix = self.rng.below(lo);
                self.line(&format!("{n}[{ix}] = {};", e.code));
                self.declare(n, Kind::vec(lo, hi), true, s.bound.max(e.bound));
            }
            _ => {
                let arrays: Vec<Var> = self
                    .seqs()
                    .into_iter()
                    .filter(|v| {
                        matches!(
                            v.kind,
                            Kind::Seq {
                                seq: SeqKind::Array,
                                ..
                            }
                        )
                    })
                    .collect();
                if arrays.is_empty() {
                    return false;
                }
                let a = self.rng.pick(&arrays).clone();
                let t = self.fresh("t");
                let v = self.fresh("v");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for {v} in {} {{", a.name));
                self.scopes.push(Vec::new());
                self.declare(v.clone(), Kind::Float, false, a.bound);
                let e = self.expr(2);
                let e = self.squash(e);
                self.scopes.pop();
                self.line(&format!("    {t} += {};", e.code));
                self.line("}");
                let Kind::Seq { hi, .. } = a.kind else {
                    unreachable!()
                };
                self.declare(t, Kind::Float, true, hi as f64);
            }
        }
        true
    }

    /// An ndarray vector built from differentiated values and reduced: `mapv` with a closure
    /// capturing a differentiated scalar, `dot`, arithmetic between arrays and with scalars,
    /// `sum`, `mean`, element reads.
    fn s_ndarray(&mut self) -> bool {
        let f = self.f();
        let a = self.fresh("na");
        let seqs: Vec<Var> = self.seqs_of_at_least(1);
        let (lo, hi, eb) = if !seqs.is_empty() && self.rng.chance(40) {
            let s = self.rng.pick(&seqs).clone();
            let Kind::Seq { lo, hi, .. } = s.kind else {
                unreachable!()
            };
            let ctor = *self
                .rng
                .pick(&["Array1::from", "Array1::from_vec", "Array::from"]);
            self.line(&format!("let {a} = {ctor}({}.to_vec());", s.name));
            (lo, hi, s.bound)
        } else {
            let n = self.rng.range(2, 3) as usize;
            let mut es = Vec::new();
            let mut b: f64 = 1.0;
            for k in 0..n {
                let e = self.expr_bounded(2, 2.0);
                let e = if k == 0 { self.typed(e) } else { e };
                b = b.max(e.bound);
                es.push(e.code);
            }
            let ctor = *self
                .rng
                .pick(&["Array1::from", "Array1::from_vec", "Array::from"]);
            self.line(&format!(
                "let {a}: Array1<{f}> = {ctor}(vec![{}]);",
                es.join(", ")
            ));
            (n, n, b)
        };
        // A differentiated scalar the closures capture.
        let floats: Vec<Var> = self
            .visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Float)
            .collect();
        let k = if !floats.is_empty() && self.rng.chance(70) {
            let v = self.rng.pick(&floats).clone();
            if v.bound > 2.0 {
                format!("({}).tanh()", v.name)
            } else {
                v.name
            }
        } else {
            "0.5".to_string()
        };
        let v = self.fresh("v");
        let body = match self.rng.below(6) {
            0 => format!("({v} * {k}).tanh()"),
            1 => format!("({v} - {k}).powi(2)"),
            2 => format!("{v}.max(0.0) * {k}"),
            3 => format!("({v} + {k}).sin()"),
            4 => format!("({v} * {v} + 0.5).sqrt() * {k}"),
            _ => format!("1.0 / (1.0 + (-{v}).exp())"),
        };
        let kb = 2.0;
        let t = self.fresh("t");
        let hf = hi as f64;
        let (code, bound) = match self.rng.below(8) {
            0 => (
                format!("{a}.mapv(|{v}| {body}).sum()"),
                hf * (eb * eb + kb).max(eb + kb),
            ),
            1 => {
                let b = self.fresh("nb");
                self.line(&format!("let {b} = {a}.mapv(|{v}| {body});"));
                (format!("{a}.dot(&{b})"), hf * eb * (eb * eb + kb))
            }
            2 => (format!("(&{a} * &{a}).sum()"), hf * eb * eb),
            3 => (format!("(&{a} * {k} + 1.0).mapv({f}::tanh).sum()"), hf),
            4 => (
                format!("{a}.mapv(|{v}| {body}).mean().unwrap()"),
                (eb * eb + kb).max(eb + kb),
            ),
            5 => (format!("{a}[0] * {a}[{}]", lo - 1), eb * eb),
            6 => (format!("{a}.map(|&{v}| {v} * {k}).sum()"), hf * eb * kb),
            _ => {
                let b = self.fresh("nb");
                self.line(&format!("let {b} = &{a} * 2.0 - 0.5;"));
                (
                    format!("({a}.dot(&{b}) + {b}.sum())"),
                    hf * eb * (2.0 * eb + 0.5) + hf * (2.0 * eb + 0.5),
                )
            }
        };
        self.line(&format!("let {t}: {f} = {code};"));
        self.declare(t, Kind::Float, false, bound);
        true
    }

    /// A matrix `Array2` of differentiated values (from a shape and a `Vec`, from rows, or
    /// from a parameter's elements) reduced through the array rules of two dimensions:
    /// matrix·vector and matrix·matrix `dot`, `.t()`, `sum_axis`, `mean_axis`, `slice(s![..])`,
    /// `row`, `column`, `diag`, loops over `rows()`, broadcasting with a vector, element reads
    /// `m[[i, j]]` and elementwise methods.
    fn s_matrix(&mut self) -> bool {
        let f = self.f();
        let m = self.fresh("nm");
        let (r, c) = (self.rng.range(1, 3) as usize, self.rng.range(2, 3) as usize);
        let seqs: Vec<Var> = self.seqs_of_at_least(r * c);
        let eb = if !seqs.is_empty() && self.rng.chance(35) {
            let s = self.rng.pick(&seqs).clone();
            let src = if self.rng.chance(50) {
                format!("{}[..{}].to_vec()", s.name, r * c)
            } else {
                format!(
                    "{}.iter().take({}).map(|e| e.tanh()).collect::<Vec<{f}>>()",
                    s.name,
                    r * c
                )
            };
            self.line(&format!(
                "let {m}: Array2<{f}> = Array2::from_shape_vec(({r}, {c}), {src}).unwrap();"
            ));
            if src.contains("tanh") { 1.0 } else { s.bound }
        } else {
            let mut es = Vec::new();
            let mut b: f64 = 1.0;
            for k in 0..r * c {
                let e = self.expr_bounded(2, 2.0);
                let e = if k == 0 { self.typed(e) } else { e };
                b = b.max(e.bound);
                es.push(e.code);
            }
            if self.rng.chance(50) {
                self.line(&format!(
                    "let {m} = Array2::from_shape_vec(({r}, {c}), vec![{}]).unwrap();",
                    es.join(", ")
                ));
            } else {
                let rows: Vec<String> = es
                    .chunks(c)
                    .map(|row| format!("[{}]", row.join(", ")))
                    .collect();
                self.line(&format!(
                    "let {m}: Array2<{f}> = Array2::from(vec![{}]);",
                    rows.join(", ")
                ));
            }
            b
        };
        // A vector of the matrix's width, for products and broadcasting.
        let w = self.fresh("nw");
        let mut ws = Vec::new();
        let mut wb: f64 = 1.0;
        for k in 0..c {
            let e = self.expr_bounded(1, 2.0);
            let e = if k == 0 { self.typed(e) } else { e };
            wb = wb.max(e.bound);
            ws.push(e.code);
        }
        let uses_w = self.rng.chance(60);
        if uses_w {
            self.line(&format!(
                "let {w}: Array1<{f}> = Array1::from(vec![{}]);",
                ws.join(", ")
            ));
        }
        let t = self.fresh("t");
        let (rf, cf) = (r as f64, c as f64);
        let i = self.rng.below(r);
        let j = self.rng.below(c);
        let (code, bound) = match (uses_w, self.rng.below(12)) {
            (true, 0) => (format!("{m}.dot(&{w}).sum()"), rf * cf * eb * wb),
            (true, 1) => (format!("(&{m} + &{w}).mapv(|v| v.tanh()).sum()"), rf * cf),
            (true, 2) => (
                format!("{m}.dot(&{w}).mapv(|v| (v * 0.5).sin()).dot(&{m}.column({j}))"),
                rf * eb,
            ),
            (true, _) => (
                format!("{m}.row({i}).dot(&{w}) * {m}[[{i}, {j}]]"),
                cf * eb * wb * eb,
            ),
            (false, 0) => (
                format!("{m}.sum_axis(Axis(0)).mapv(|v| v * v).sum()"),
                cf * rf * rf * eb * eb,
            ),
            (false, 1) => (format!("{m}.mean_axis(Axis(1)).unwrap()[{i}]"), eb),
            (false, 2) => (format!("{m}.slice(s![.., 1..]).sum()"), rf * cf * eb),
            (false, 3) => (format!("{m}.t().dot(&{m}).sum()"), cf * cf * rf * eb * eb),
            (false, 4) => (format!("{m}.dot(&{m}.t()).diag().sum()"), rf * cf * eb * eb),
            (false, 5) => {
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for row in {m}.rows() {{"));
                self.line(&format!("    {t} += row.sum() * row[{j}];"));
                self.line("}");
                let b = rf * cf * eb * eb;
                self.declare(t, Kind::Float, false, b);
                return true;
            }
            (false, 6) => (format!("{m}.tanh().sum()"), rf * cf),
            (false, 7) => (
                format!("{m}.row({i}).sum() - {m}.column({j}).sum()"),
                (rf + cf) * eb,
            ),
            (false, 8) => (
                format!("(&{m} * &{m} * 0.5 - 1.0).sum()"),
                rf * cf * (eb * eb + 1.0),
            ),
            (false, 9) if eb <= 2.0 => (
                format!("{m}.slice(s![{i}, ..]).mapv(|v| v.exp()).sum()"),
                cf * eb.exp(),
            ),
            (false, _) => (format!("{m}[[{i}, {j}]] * {m}.sum()"), rf * cf * eb * eb),
        };
        self.line(&format!("let {t}: {f} = {code};"));
        self.declare(t, Kind::Float, false, bound);
        true
    }

    // -----------------------------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------------------------

    /// An expression whose bound is at most `max`: squashed (and scaled) if it came out larger.
    fn expr_bounded(&mut self, depth: usize, max: f64) -> Ex {
        let e = self.expr(depth);
        if e.bound <= max {
            return e;
        }
        let s = self.squash(e);
        if max >= 1.0 {
            s
        } else {
            Ex::new(format!("{} * {}", s.code, lit(max)), max, s.typed)
        }
    }

    /// `e` with bound at most 1, through a bounded function.
    fn squash(&mut self, e: Ex) -> Ex {
        if e.bound <= 1.0 && self.rng.chance(30) {
            return e;
        }
        let e = self.typed(e);
        let code = match self.rng.below(5) {
            0 => format!("({}).tanh()", e.code),
            1 => format!("({}).sin()", e.code),
            2 => format!("({}).cos()", e.code),
            3 => format!("(({}).atan() * 0.6)", e.code),
            _ => format!("{{ let z = {}; z / (1.0 + z * z) }}", e.code),
        };
        Ex::new(code, 1.0, true)
    }

    /// `e` with a type Rust can tell: a literal-only expression gets a suffix or a cast.
    fn typed(&mut self, e: Ex) -> Ex {
        if e.typed {
            return e;
        }
        let f = self.f();
        Ex::new(format!("(({}) as {f})", e.code), e.bound, true)
    }

    /// A denominator made from `e`, at least 1 in absolute value.
    fn denominator(&mut self, e: Ex) -> Ex {
        match self.rng.below(3) {
            0 => Ex::new(
                format!("(1.0 + {c} * {c})", c = paren(&e.code)),
                1.0,
                e.typed,
            ),
            1 => {
                let e = self.typed(e);
                Ex::new(format!("(({}).abs() + 1.0)", e.code), 1.0, true)
            }
            _ => {
                let e = self.typed(e);
                Ex::new(format!("(({}).cosh())", self.squash(e).code), 1.0, true)
            }
        }
    }

    fn expr(&mut self, depth: usize) -> Ex {
        if depth == 0 || self.rng.chance(20) {
            return self.leaf();
        }
        match self.rng.below(12) {
            0..=3 => self.binary(depth),
            4..=7 => self.method(depth),
            8 => {
                let e = self.expr(depth - 1);
                Ex::new(format!("-{}", paren(&e.code)), e.bound, e.typed)
            }
            9 => self.if_expr(depth),
            10 => self.block_expr(depth),
            // Not in conditions: a side rounded through the other float type compared with the
            // same value unrounded (`((x as f32) as f64) < x.max(x)`) flips with every
            // rounding, a jump at nearly every point that finite differences then straddle.
            _ if self.allow_cast && self.in_condition == 0 => self.cast_expr(depth),
            _ => self.method(depth),
        }
    }

    fn binary(&mut self, depth: usize) -> Ex {
        if self.cfg.float_rem_percent > 0 && self.rng.chance(self.cfg.float_rem_percent) {
            return self.remainder(depth);
        }
        let a = self.expr(depth - 1);
        let b = self.expr(depth - 1);
        let typed = a.typed || b.typed;
        match self.rng.below(4) {
            0 => Ex::new(
                format!("({} + {})", a.code, b.code),
                a.bound + b.bound,
                typed,
            ),
            1 => Ex::new(
                format!("({} - {})", a.code, b.code),
                a.bound + b.bound,
                typed,
            ),
            2 => {
                let (a, b) = if a.bound * b.bound > LIMIT {
                    (a, self.squash(b))
                } else {
                    (a, b)
                };
                let typed = a.typed || b.typed;
                Ex::new(
                    format!("({} * {})", a.code, b.code),
                    a.bound * b.bound,
                    typed,
                )
            }
            _ => {
                let d = self.denominator(b);
                let typed = a.typed || d.typed;
                Ex::new(format!("({} / {})", a.code, d.code), a.bound, typed)
            }
        }
    }

    /// `x % m` of the case's float type: the dividend bound to a typed local (the macro follows
    /// `%` where it sees the type), the divisor a literal or a typed local kept at least one.
    fn remainder(&mut self, depth: usize) -> Ex {
        let a = self.expr(depth - 1);
        let f = self.f();
        if self.rng.chance(50) {
            let m = *self.rng.pick(&[1.5, 2.0, 2.5, 3.7]);
            let code = format!("({{ let r: {f} = {}; r % {} }})", a.code, lit(m));
            Ex::new(code, a.bound.min(m), true)
        } else {
            let b = self.expr(depth - 1);
            let b = self.squash(b);
            let code = format!(
                "({{ let r: {f} = {}; let m: {f} = 1.0 + {c} * {c}; r % m }})",
                a.code,
                c = paren(&b.code)
            );
            let bound = 1.0 + b.bound * b.bound;
            Ex::new(code, a.bound.min(bound), true)
        }
    }

    /// A float method with its argument kept in its domain; as a method or as a path
    /// (`f64::exp(x)`).
    fn method(&mut self, depth: usize) -> Ex {
        let a = self.expr(depth - 1);
        let a = self.typed(a);
        let f = self.f();
        let x = &a.code;
        let b = a.bound;
        // (receiver text, method, extra args, result bound)
        let (recv, m, args, bound): (String, &str, String, f64) = match self.rng.below(40) {
            0 => self.small_arg(a.clone(), 3.0, "exp", |b| b.exp()),
            1 => self.small_arg(a.clone(), 3.0, "exp2", |b| b.exp2()),
            2 => self.small_arg(a.clone(), 3.0, "exp_m1", |b| b.exp()),
            3 => (
                format!("(1.0 + {x} * {x})"),
                "ln",
                String::new(),
                (1.0 + b * b).ln(),
            ),
            4 => (
                format!("(1.0 + {x} * {x})"),
                "log2",
                String::new(),
                (1.0 + b * b).log2(),
            ),
            5 => (
                format!("(2.0 + {x} * {x})"),
                "log10",
                String::new(),
                (2.0 + b * b).log10(),
            ),
            6 => (
                format!("({x} * {x})"),
                "ln_1p",
                String::new(),
                (1.0 + b * b).ln(),
            ),
            7 => (
                format!("({x} * {x} + 0.5)"),
                "sqrt",
                String::new(),
                (b * b + 0.5).sqrt(),
            ),
            8 => (
                format!("({x} * {x} + 0.5)"),
                "cbrt",
                String::new(),
                (b * b + 0.5).cbrt(),
            ),
            9 => (format!("(1.0 + {x} * {x})"), "recip", String::new(), 1.0),
            10 => (x.clone(), "sin", String::new(), 1.0),
            11 => (x.clone(), "cos", String::new(), 1.0),
            12 => (format!("({x}).sin()"), "tan", String::new(), 1.6),
            13 => (format!("(({x}).tanh() * 0.9)"), "asin", String::new(), 1.2),
            14 => (format!("(({x}).tanh() * 0.9)"), "acos", String::new(), 2.7),
            15 => (x.clone(), "atan", String::new(), 1.6),
            16 => self.small_arg(a.clone(), 2.5, "sinh", |b| b.sinh()),
            17 => self.small_arg(a.clone(), 2.5, "cosh", |b| b.cosh()),
            18 => (x.clone(), "tanh", String::new(), 1.0),
            19 => (x.clone(), "asinh", String::new(), b.asinh() + 0.1),
            20 => (
                format!("(1.5 + {x} * {x})"),
                "acosh",
                String::new(),
                (1.5 + b * b).acosh(),
            ),
            21 => (format!("(({x}).tanh() * 0.8)"), "atanh", String::new(), 1.1),
            22 => (x.clone(), "abs", String::new(), b),
            23 => (x.clone(), "signum", String::new(), 1.0),
            24 => {
                let o = self.expr(depth - 1);
                let bound = b.max(o.bound);
                (x.clone(), *self.rng.pick(&["max", "min"]), o.code, bound)
            }
            25 => {
                let (lo, hi) = (
                    self.rng.range(-4, -1) as f64 / 2.0,
                    self.rng.range(1, 4) as f64 / 2.0,
                );
                (x.clone(), "clamp", format!("{}, {}", lit(lo), lit(hi)), 2.0)
            }
            26 => (
                x.clone(),
                *self.rng.pick(&["floor", "ceil", "round", "trunc"]),
                String::new(),
                b + 1.0,
            ),
            27 => (x.clone(), "fract", String::new(), 1.0),
            28 => {
                let e = self.squash(a.clone());
                (e.code, "to_degrees", String::new(), 57.3)
            }
            29 => (x.clone(), "to_radians", String::new(), b / 50.0),
            30 => {
                let n = self.powi_exponent();
                let e = if b > 2.0 {
                    self.squash(a.clone())
                } else {
                    a.clone()
                };
                let bb = e.bound;
                (e.code, "powi", n, bb.powi(3).max(1.0) + 1.0)
            }
            31 => {
                let p = self.expr(depth - 1);
                let p = self.squash(p);
                (format!("(1.0 + {x} * {x})"), "powf", p.code, 1.0 + b * b)
            }
            32 => {
                let o = self.expr(depth - 1);
                (
                    x.clone(),
                    "hypot",
                    format!("0.5 + {c} * {c}", c = paren(&o.code)),
                    b + 0.5 + o.bound * o.bound,
                )
            }
            33 => {
                let o = self.expr(depth - 1);
                (
                    x.clone(),
                    "atan2",
                    format!("1.0 + {c} * {c}", c = paren(&o.code)),
                    1.6,
                )
            }
            34 => {
                let p = self.expr(depth - 1);
                let q = self.expr(depth - 1);
                let (p, q) = if b * p.bound > LIMIT {
                    (self.squash(p), q)
                } else {
                    (p, q)
                };
                let bound = b * p.bound + q.bound;
                (
                    x.clone(),
                    "mul_add",
                    format!("{}, {}", p.code, q.code),
                    bound,
                )
            }
            35 => {
                let o = self.expr(depth - 1);
                let bound = (2.0 + b * b).ln() / 1.5f64.ln();
                (
                    format!("(2.0 + {x} * {x})"),
                    "log",
                    format!("1.5 + {c} * {c}", c = paren(&o.code)),
                    bound,
                )
            }
            36 => {
                let o = self.expr(depth - 1);
                (x.clone(), "copysign", o.code, b)
            }
            37 => (
                x.clone(),
                "rem_euclid",
                lit(*self.rng.pick(&[1.5, 2.0, 2.5])),
                2.5,
            ),
            _ => (
                x.clone(),
                *self.rng.pick(&["sin", "cos", "tanh"]),
                String::new(),
                1.0,
            ),
        };
        let _ = b;
        let bound = if bound.is_finite() {
            bound
        } else {
            LIMIT * 10.0
        };
        let code = if self.rng.chance(25) {
            // The path form.
            if args.is_empty() {
                format!("{f}::{m}({recv})")
            } else {
                format!("{f}::{m}({recv}, {args})")
            }
        } else {
            format!("{}.{m}({args})", paren(&recv))
        };
        Ex::new(code, bound, true)
    }

    /// A method whose argument must stay below `max` in absolute value (`exp`, `sinh`):
    /// scaled down or squashed first.
    fn small_arg(
        &mut self,
        a: Ex,
        max: f64,
        m: &'static str,
        grow: impl Fn(f64) -> f64,
    ) -> (String, &'static str, String, f64) {
        let a = if a.bound <= max {
            a
        } else {
            let s = self.squash(a);
            Ex::new(format!("({} * 2.0)", s.code), 2.0, true)
        };
        (a.code, m, String::new(), grow(a.bound) + 1.0)
    }

    fn powi_exponent(&mut self) -> String {
        let ints: Vec<Var> = self
            .ints()
            .into_iter()
            .filter(
                |v| matches!(v.kind, Kind::Int { usize: false, lo, hi, .. } if lo >= 0 && hi <= 3),
            )
            .collect();
        if !ints.is_empty() && self.rng.chance(50) {
            self.rng.pick(&ints).name.clone()
        } else {
            self.rng.range(0, 3).to_string()
        }
    }

    fn if_expr(&mut self, depth: usize) -> Ex {
        let c = if self.rng.chance(60) {
            self.float_cond()
        } else {
            self.int_cond()
        };
        let a = self.expr(depth - 1);
        let b = self.expr(depth - 1);
        let typed = a.typed || b.typed;
        Ex::new(
            format!("(if {c} {{ {} }} else {{ {} }})", a.code, b.code),
            a.bound.max(b.bound),
            typed,
        )
    }

    fn block_expr(&mut self, depth: usize) -> Ex {
        let a = self.expr(depth - 1);
        let a = self.typed(a);
        let z = self.fresh("z");
        if a.bound * a.bound <= LIMIT {
            Ex::new(
                format!("{{ let {z} = {}; {z} * {z} }}", a.code),
                a.bound * a.bound,
                true,
            )
        } else {
            Ex::new(
                format!("{{ let {z} = {}; {z} - 0.5 * {z} }}", a.code),
                a.bound,
                true,
            )
        }
    }

    /// A value rounded to the other float type and back, or computed there.
    fn cast_expr(&mut self, depth: usize) -> Ex {
        let a = self.expr(depth - 1);
        let f = self.f();
        let o = self.fl.other().name();
        self.mixed = true;
        if self.rng.chance(50) {
            Ex::new(format!("(({} as {o}) as {f})", a.code), a.bound, true)
        } else {
            Ex::new(format!("(({} as {o}).sin() as {f})", a.code), 1.0, true)
        }
    }

    fn leaf(&mut self) -> Ex {
        let vars = self.visible();
        let f = self.f();
        for _ in 0..8 {
            match self.rng.below(18) {
                0..=4 | 14..=17 => {
                    let floats: Vec<&Var> = vars.iter().filter(|v| v.kind == Kind::Float).collect();
                    if let Some(v) = floats.get(self.rng.below(floats.len().max(1))) {
                        return Ex::new(v.name.clone(), v.bound, true);
                    }
                }
                5 | 6 => {
                    let seqs: Vec<&Var> = vars
                        .iter()
                        .filter(|v| matches!(v.kind, Kind::Seq { lo, .. } if lo >= 1))
                        .collect();
                    if !seqs.is_empty() {
                        let s = (*self.rng.pick(&seqs)).clone();
                        let ix = self.index(&s);
                        let n = &s.name;
                        let code = if self.rng.chance(self.cfg.accessor_percent) {
                            let window = matches!(
                                s.kind,
                                Kind::Seq {
                                    seq: SeqKind::Window,
                                    ..
                                }
                            );
                            match self.rng.below(9) {
                                0 => format!("(*{n}.first().unwrap())"),
                                1 => format!("(*{n}.last().unwrap())"),
                                2 => format!("{n}.first().copied().unwrap()"),
                                3 => format!("{n}.last().copied().unwrap()"),
                                4 => format!("(*{n}.get({ix}).expect(\"in range\"))"),
                                5 if !window => format!(
                                    "{n}.iter().copied().max_by(|a, b| a.total_cmp(b)).unwrap()"
                                ),
                                6 if !window => format!(
                                    "(*{n}.iter().min_by(|a, b| a.partial_cmp(b).unwrap()).expect(\"not empty\"))"
                                ),
                                _ => format!("(*{n}.get({ix}).unwrap())"),
                            }
                        } else {
                            format!("{n}[{ix}]")
                        };
                        return Ex::new(code, s.bound, true);
                    }
                }
                7 if self.in_condition == 0 || self.cfg.deref_in_condition => {
                    let refs: Vec<&Var> = vars.iter().filter(|v| v.kind == Kind::Ref).collect();
                    if !refs.is_empty() {
                        let r = (*self.rng.pick(&refs)).clone();
                        return Ex::new(format!("(*{})", r.name), r.bound, true);
                    }
                }
                8 => {
                    if self.rng.chance(40)
                        && let Some(e) = self.vec2_read()
                    {
                        return e;
                    }
                    let pairs: Vec<&Var> = vars
                        .iter()
                        .filter(|v| v.kind == Kind::Pair || v.kind == Kind::Point)
                        .collect();
                    if !pairs.is_empty() {
                        let p = (*self.rng.pick(&pairs)).clone();
                        // The struct's own differentiated methods (see `Case::structs`): as
                        // methods (`p.norm()`), or through the type (`Pt::norm(&p)`).
                        if p.kind == Kind::Point && self.rng.chance(35) {
                            let (pre, recv) = if self.rng.chance(60) {
                                (format!("{}.", p.name), String::new())
                            } else {
                                ("Pt::".to_string(), format!("&{}", p.name))
                            };
                            return if self.rng.chance(25) {
                                // A method taking `self` by value, through the type.
                                let k = self.expr(1);
                                let k = self.typed(k);
                                Ex::new(
                                    format!("Pt::scaled({}.clone(), {})", p.name, k.code),
                                    p.bound + 1.0,
                                    true,
                                )
                            } else if self.rng.chance(50) {
                                let b = (2.0 * p.bound * p.bound + 0.5).sqrt();
                                Ex::new(format!("{pre}norm({recv})"), b, true)
                            } else {
                                let k = self.expr(1);
                                let k = self.typed(k);
                                let sep = if recv.is_empty() { "" } else { ", " };
                                Ex::new(
                                    format!("{pre}mix({recv}{sep}{})", k.code),
                                    p.bound + 1.0,
                                    true,
                                )
                            };
                        }
                        let field = match (p.kind == Kind::Point, self.rng.below(2)) {
                            (true, 0) => "a".to_string(),
                            (true, _) => "b".to_string(),
                            (false, k) => k.to_string(),
                        };
                        return Ex::new(format!("{}.{field}", p.name), p.bound, true);
                    }
                }
                9 => {
                    let ints: Vec<&Var> = vars
                        .iter()
                        .filter(
                            |v| matches!(v.kind, Kind::Int { lo, hi, .. } if lo >= -2 && hi <= 6),
                        )
                        .collect();
                    if !ints.is_empty() {
                        let v = (*self.rng.pick(&ints)).clone();
                        let w = (*self.rng.pick(&ints)).clone();
                        let Kind::Int { usize, .. } = v.kind else {
                            unreachable!()
                        };
                        let same = matches!(w.kind, Kind::Int { usize: u, .. } if u == usize);
                        let n = &v.name;
                        // Integer arithmetic turned into a float.
                        return match self.rng.below(7) {
                            0 => Ex::new(format!("(({n} * 2 + 1) as {f})"), 13.0, true),
                            1 if same => {
                                Ex::new(format!("(({n} + {}) as {f})", w.name), 12.0, true)
                            }
                            2 if usize => Ex::new(format!("(({n} % 2) as {f})"), 1.0, true),
                            3 if usize => {
                                Ex::new(format!("(({n} as i32 - 1) as {f} * 0.5)"), 3.5, true)
                            }
                            4 if !usize => Ex::new(format!("(({n} - 1) as {f} * 0.5)"), 3.5, true),
                            5 if usize => {
                                Ex::new(format!("({f}::from({n} as u8) * 0.25)"), 2.0, true)
                            }
                            _ => Ex::new(format!("({n} as {f})"), 6.0, true),
                        };
                    }
                    let floats: Vec<&Var> = vars
                        .iter()
                        .filter(|v| v.kind == Kind::Float && v.bound <= LIMIT)
                        .collect();
                    if self.fl == Float::F64 && !floats.is_empty() && self.rng.chance(30) {
                        // Piecewise constant in a differentiated value: derivative 0.
                        let x = self.rng.pick(&floats).name.clone();
                        return Ex::new(format!("(({x} * 2.0) as i32 as {f} * 0.25)"), 7.0, true);
                    }
                    let seqs: Vec<&Var> = vars
                        .iter()
                        .filter(|v| matches!(v.kind, Kind::Seq { hi, .. } if hi <= 8))
                        .collect();
                    if !seqs.is_empty() {
                        let s = (*self.rng.pick(&seqs)).clone();
                        return Ex::new(format!("({}.len() as {f})", s.name), 8.0, true);
                    }
                }
                10 => {
                    let helpers: Vec<HelperSig> = self
                        .helpers
                        .iter()
                        .filter(|h| h.ret == Ret::Scalar)
                        .cloned()
                        .collect();
                    if !helpers.is_empty() && self.rng.chance(60) {
                        let h = self.rng.pick(&helpers).clone();
                        if let Some(args) = self.call_args(&h) {
                            return Ex::new(format!("{}({args})", h.name), h.bound, true);
                        }
                    }
                }
                11 => {
                    let c = match self.rng.below(6) {
                        0 => (format!("std::{f}::consts::PI"), 3.2),
                        1 => (format!("core::{f}::consts::FRAC_PI_4"), 0.8),
                        2 if self.rng.chance(self.cfg.literal_path_call_percent) => {
                            (format!("{f}::cos(1.0)"), 1.0)
                        }
                        2 => (format!("{f}::cos(OFFSET)"), 1.0),
                        3 => ("SCALE".to_string(), 0.75),
                        4 => ("OFFSET".to_string(), 0.5),
                        _ => (format!("std::{f}::consts::E"), 2.8),
                    };
                    return Ex::new(c.0, c.1, true);
                }
                _ => return self.literal(),
            }
        }
        self.literal()
    }

    fn literal(&mut self) -> Ex {
        let f = self.f();
        let v = self.rng.range(-12, 12) as f64 / 4.0;
        let code = match self.rng.below(8) {
            0 if v.fract() == 0.0 && v >= 0.0 => format!("{}.", v as i64),
            1 => format!("{v:e}"),
            2 => format!("{}{f}", lit(v)),
            3 => "1e-3".to_string(),
            _ => lit(v),
        };
        let typed = code.ends_with(f);
        let bound = if code == "1e-3" { 1e-3 } else { v.abs() };
        if code.starts_with('-') {
            return Ex::new(format!("({code})"), bound, typed);
        }
        Ex::new(code, bound, typed)
    }
}

impl Kind {
    fn int(lo: i64, hi: i64, usize: bool) -> Kind {
        Kind::Int {
            lo,
            hi,
            usize,
            index_for: Vec::new(),
        }
    }

    fn vec(lo: usize, hi: usize) -> Kind {
        Kind::Seq {
            seq: SeqKind::Vec,
            lo,
            hi,
        }
    }
}

/// `o` as a `&[F]` argument: a slice parameter as it is, anything else borrowed.
fn slice_arg(o: &Var) -> String {
    if matches!(
        o.kind,
        Kind::Seq {
            seq: SeqKind::Slice,
            ..
        }
    ) {
        o.name.clone()
    } else {
        format!("&{}", o.name)
    }
}

/// Whether `code` names the variable `name` (not merely a longer name that starts with it).
fn mentions(code: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// `code` in parentheses unless it is a name, a number or already enclosed.
fn paren(code: &str) -> String {
    let simple = code
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    let enclosed = code.starts_with('(') && code.ends_with(')') && balanced_outer(code);
    if simple && !code.starts_with('-') || enclosed {
        code.to_string()
    } else {
        format!("({code})")
    }
}

/// Whether the first `(` of `code` closes at its last character.
fn balanced_outer(code: &str) -> bool {
    let mut depth = 0;
    for (i, c) in code.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != code.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Helpers writing into a caller's buffer
// ---------------------------------------------------------------------------------------------

/// The buffer a helper writes into, lent by its caller as `&mut` of a `mut` variable.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Buf {
    /// `out: &mut [F]`, lent from a `Vec<F>` (the copy the macro differentiates takes one).
    Slice,
    /// `out: &mut Vec<F>`.
    Vec,
    /// `acc: &mut F`.
    Float,
    /// `s: &mut [F; 2]`.
    Pair,
}

/// What a caller needs to know of a helper writing into its buffer.
#[derive(Clone, Debug)]
struct BufferHelper {
    /// The name it is called by (a turbofish for some generic ones).
    call: String,
    buf: Buf,
    /// Elements a call pushes onto a `&mut Vec` (its own `push`, and its callee's).
    pushes: usize,
    /// Returns a float (bounded by 1.6) beside writing the buffer.
    returns: bool,
    /// Generic over `T: num_traits::Float`.
    generic: bool,
}

/// A bound on what a buffer helper leaves in its buffer: each element becomes `c·old + u` with
/// `c ≤ 0.5` and `|u| ≤ 1.6`, so it stays within `max(old, 3.2)` however often it is called.
const BUFFER_BOUND: f64 = 3.2;

/// `text` of [`GenericExpr`] over the concrete float `f`: `T::from(0.5).unwrap()` is `(0.5f64)`,
/// `T::one()` `(1.0f64)`, `num_traits::Float::cos(..)` `f64::cos(..)`.
fn concretize(text: &str, f: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("T::from(") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "T::from(".len()..];
        let close = after.find(')').expect("a closing parenthesis");
        let v = &after[..close];
        let tail = &after[close + 1..];
        let tail = tail
            .strip_prefix(".unwrap()")
            .expect("T::from(..).unwrap()");
        out.push_str(&format!("({v}{f})"));
        rest = tail;
    }
    out.push_str(rest);
    out.replace("T::one()", &format!("(1.0{f})"))
        .replace("T::zero()", &format!("(0.0{f})"))
        .replace("num_traits::Float::", &format!("{f}::"))
}

/// A helper `fn b(x: &[F], w: F, out: &mut [F])` (or `&mut Vec<F>`, `&mut F`, `&mut [F; 2]`,
/// perhaps returning a float, perhaps generic over `T: num_traits::Float`) that writes into the
/// buffer its caller lends: each element becomes `c·old + u`, `c` at most 0.5 and `u` a squashed
/// expression of the inputs, the old value and its index, so repeated calls stay bounded. A
/// `&mut Vec` may also be pushed to. `callee`, a helper returning nothing of the same buffer
/// and genericity, is passed the buffer on as it is (`b0(x, w * half, out);`).
fn buffer_helper(
    rng: &mut Rng,
    name: String,
    buf: Buf,
    returns: bool,
    generic: bool,
    callee: Option<&BufferHelper>,
    float: Float,
) -> (Function, BufferHelper) {
    let t = if generic { "T" } else { float.name() };
    let index = if generic {
        "T::from(i).unwrap()".to_string()
    } else {
        format!("(i as {t})")
    };
    let mut g = GenericExpr {
        rng,
        vars: Vec::new(),
    };
    // A squashed term that reads the first of `reads` (name, bound) times another or `w`,
    // plus an expression of them.
    let term = |g: &mut GenericExpr, reads: &[(&str, f64)]| -> String {
        g.vars = vec![("w".into(), LIMIT), ("half".into(), 0.5)];
        g.vars
            .extend(reads.iter().map(|(n, b)| (n.to_string(), *b)));
        let other = g.rng.pick(&g.vars).0.clone();
        let e = g.expr(2);
        let core = format!("{} * {other} + {}", reads[0].0, e.0);
        g.squash((core, LIMIT * LIMIT)).0
    };
    // `c·old` with `c` 0.5, 0.25 or 0 (`old` left out).
    let keep = |g: &mut GenericExpr, old: &str| -> String {
        match g.rng.below(4) {
            0 => format!("half * {old} + "),
            1 => format!("{old} * T::from(0.25).unwrap() + "),
            2 => String::new(),
            _ => format!("{old} * half + "),
        }
    };
    let mut body = String::from("    let half = T::from(0.5).unwrap();\n");
    let mut pushes = 0;
    let (param, ty) = match buf {
        Buf::Slice => ("out", format!("&mut [{t}]")),
        Buf::Vec => ("out", format!("&mut Vec<{t}>")),
        Buf::Float => ("acc", format!("&mut {t}")),
        Buf::Pair => ("s", format!("&mut [{t}; 2]")),
    };
    if !returns && g.rng.chance(20) {
        body.push_str("    if w > T::from(100.0).unwrap() {\n        return;\n    }\n");
    }
    let pass_on = callee.map(|c| {
        pushes += c.pushes;
        format!("    {}(x, w * half, {param});\n", c.call)
    });
    let pass_first = g.rng.chance(50);
    if pass_first && let Some(p) = &pass_on {
        body.push_str(p);
    }
    match buf {
        Buf::Slice | Buf::Vec => match g.rng.below(4) {
            0 => {
                let k = keep(&mut g, "out[i]");
                let u = term(&mut g, &[("v", LIMIT), ("out[i]", LIMIT), ("k", 2.0)]);
                body.push_str(&format!(
                    "    for i in 0..out.len() {{\n        let v = x[i % x.len()];\n        \
                     let k = {index} * T::from(0.25).unwrap();\n        out[i] = {k}{u};\n    }}\n"
                ));
            }
            1 => {
                let k = keep(&mut g, "*o");
                let u = term(&mut g, &[("v", LIMIT), ("(*o)", LIMIT)]);
                body.push_str(&format!(
                    "    for (i, o) in out.iter_mut().enumerate() {{\n        \
                     let v = x[i % x.len()];\n        *o = {k}{u};\n    }}\n"
                ));
            }
            2 => {
                let k = keep(&mut g, "*o");
                let u = term(&mut g, &[("v", LIMIT), ("(*o)", LIMIT)]);
                body.push_str(&format!(
                    "    for (o, &v) in out.iter_mut().zip(x.iter()) {{\n        *o = {k}{u};\n    }}\n"
                ));
            }
            _ => {
                let k = keep(&mut g, "out[0]");
                let u0 = term(&mut g, &[("x[0]", LIMIT), ("out[0]", LIMIT)]);
                let u = term(&mut g, &[("x[i % x.len()]", LIMIT), ("out[i]", LIMIT)]);
                body.push_str(&format!(
                    "    out[0] = {k}{u0};\n    for i in 1..out.len() {{\n        \
                     out[i] = half * out[i - 1] + {u};\n    }}\n"
                ));
            }
        },
        Buf::Float => match g.rng.below(3) {
            0 => {
                let k = keep(&mut g, "*acc");
                let u = term(&mut g, &[("x[0]", LIMIT), ("(*acc)", LIMIT)]);
                body.push_str(&format!("    *acc = {k}{u};\n"));
            }
            1 => {
                let u = term(&mut g, &[("v", LIMIT), ("(*acc)", LIMIT)]);
                body.push_str(&format!(
                    "    for &v in x.iter() {{\n        *acc = half * *acc + {u};\n    }}\n"
                ));
            }
            _ => {
                let u = term(&mut g, &[("x[x.len() - 1]", LIMIT)]);
                // `num_traits::Float` has no compound assignments.
                if generic {
                    body.push_str(&format!(
                        "    *acc = *acc * half;\n    *acc = *acc + {u};\n"
                    ));
                } else {
                    body.push_str(&format!("    *acc *= half;\n    *acc += {u};\n"));
                }
            }
        },
        Buf::Pair => {
            if g.rng.chance(50) {
                let u1 = term(&mut g, &[("s[0]", LIMIT), ("x[0]", LIMIT)]);
                let k = keep(&mut g, "s[0]");
                let u0 = term(&mut g, &[("v", LIMIT), ("s[0]", LIMIT)]);
                body.push_str(&format!(
                    "    let v = s[1];\n    s[1] = half * s[1] - {u1};\n    s[0] = {k}{u0};\n"
                ));
            } else {
                let k = keep(&mut g, "s[i]");
                let u = term(&mut g, &[("x[i % x.len()]", LIMIT), ("s[i]", LIMIT)]);
                body.push_str(&format!(
                    "    for i in 0..2 {{\n        s[i] = {k}{u};\n    }}\n"
                ));
            }
        }
    }
    if buf == Buf::Vec && g.rng.chance(50) {
        let u = term(&mut g, &[("x[0]", LIMIT)]);
        body.push_str(&format!("    out.push({u});\n"));
        pushes += 1;
    }
    if !pass_first && let Some(p) = &pass_on {
        body.push_str(p);
    }
    let ret = if returns {
        let first = match buf {
            Buf::Pair => "s[1]",
            _ => "out[0]",
        };
        let u = term(&mut g, &[(first, LIMIT), ("x[0]", LIMIT)]);
        body.push_str(&format!("    {u}\n"));
        format!(" -> {t}")
    } else {
        String::new()
    };
    let (generics, body) = match generic {
        true => ("<T: num_traits::Float>", body),
        false => ("", concretize(&body, t)),
    };
    let source =
        format!("fn {name}{generics}(x: &[{t}], w: {t}, {param}: {ty}){ret} {{\n{body}}}\n");
    let call = if generic && g.rng.chance(30) {
        format!("{name}::<{}>", float.name())
    } else {
        name.clone()
    };
    let kind = match buf {
        Buf::Vec => ParamKind::MutVec,
        Buf::Slice => ParamKind::MutSlice,
        Buf::Float => ParamKind::Scalar,
        Buf::Pair => ParamKind::Array(2),
    };
    let params = [
        ("x", ParamKind::Slice),
        ("w", ParamKind::Scalar),
        (param, kind),
    ]
    .into_iter()
    .map(|(n, kind)| Param {
        name: n.to_string(),
        kind,
        mutable: false,
        value: Vec::new(),
    })
    .collect();
    (
        Function {
            name: name.clone(),
            params,
            ret: Ret::Scalar,
            source,
        },
        BufferHelper {
            call,
            buf,
            pushes,
            returns,
            generic,
        },
    )
}

impl FnGen<'_> {
    /// A call of a helper that writes into a buffer lent as `&mut` (a `Vec` for `&mut [F]` and
    /// `&mut Vec<F>`, a float, a `[F; 2]`), new or made by an earlier statement of the case,
    /// once or in a loop, its result used or not; the buffer a new local or one the function
    /// has, read by what follows.
    fn s_buffer(&mut self, depth: usize) -> bool {
        let f = self.f();
        let buf = match self.rng.weighted(&[35, 25, 25, 15]) {
            Some(0) => Buf::Slice,
            Some(1) => Buf::Vec,
            Some(2) => Buf::Float,
            _ => Buf::Pair,
        };
        let same: Vec<usize> = (0..self.buffers.len())
            .filter(|&i| self.buffers[i].buf == buf)
            .collect();
        let h = if !same.is_empty() && (self.buffers.len() >= 4 || self.rng.chance(40)) {
            self.buffers[*self.rng.pick(&same)].clone()
        } else if self.buffers.len() < 4 {
            let returns = buf != Buf::Float && self.rng.chance(40);
            let generic = self.rng.chance(25);
            let callees: Vec<usize> = same
                .iter()
                .copied()
                .filter(|&i| !self.buffers[i].returns && self.buffers[i].generic == generic)
                .collect();
            let callee = if !returns && !callees.is_empty() && self.rng.chance(40) {
                Some(self.buffers[*self.rng.pick(&callees)].clone())
            } else {
                None
            };
            let name = format!("b{}_{}", self.buffers.len(), self.buffer_tag);
            let (func, h) = buffer_helper(
                self.rng,
                name,
                buf,
                returns,
                generic,
                callee.as_ref(),
                self.fl,
            );
            self.buffer_fns.push(func);
            self.buffers.push(h.clone());
            h
        } else {
            return false;
        };
        // The buffer: a variable of the function or a new one.
        let (y, id) = match buf {
            Buf::Slice | Buf::Vec => {
                let old: Vec<Var> = self
                    .writable_seqs()
                    .into_iter()
                    .filter(
                        |v| matches!(v.kind, Kind::Seq { seq: SeqKind::Vec, lo, .. } if lo >= 1),
                    )
                    .collect();
                if let Some(v) = self.reuse(&old) {
                    v
                } else {
                    let y = self.fresh("y");
                    let seqs = self.seqs_of_at_least(1);
                    let (code, kind, bound) = match self.rng.below(3) {
                        0 if !seqs.is_empty() => {
                            let s = self.rng.pick(&seqs).clone();
                            let Kind::Seq { lo, hi, .. } = s.kind else {
                                unreachable!()
                            };
                            (
                                format!("let mut {y} = {}.to_vec();", s.name),
                                Kind::vec(lo, hi),
                                s.bound,
                            )
                        }
                        1 => {
                            let a = self.expr_bounded(2, LIMIT);
                            let b = self.expr_bounded(2, LIMIT);
                            let a = self.typed(a);
                            (
                                format!("let mut {y} = vec![{}, {}];", a.code, b.code),
                                Kind::vec(2, 2),
                                a.bound.max(b.bound),
                            )
                        }
                        _ => {
                            let n = self.rng.range(1, 3) as usize;
                            (
                                format!("let mut {y}: Vec<{f}> = vec![0.0; {n}];"),
                                Kind::vec(n, n),
                                1.0,
                            )
                        }
                    };
                    self.line(&code);
                    let id = self.declare(y.clone(), kind, true, bound);
                    (y, id)
                }
            }
            Buf::Float => {
                let old = self.mutable_floats();
                if let Some(v) = self.reuse(&old) {
                    v
                } else {
                    let y = self.fresh("a");
                    let e = self.expr_bounded(2, LIMIT);
                    self.line(&format!("let mut {y}: {f} = {};", e.code));
                    let id = self.declare(y.clone(), Kind::Float, true, e.bound);
                    (y, id)
                }
            }
            Buf::Pair => {
                let pair = Kind::Seq {
                    seq: SeqKind::Array,
                    lo: 2,
                    hi: 2,
                };
                let old: Vec<Var> = self
                    .writable_seqs()
                    .into_iter()
                    .filter(|v| v.kind == pair)
                    .collect();
                if let Some(v) = self.reuse(&old) {
                    v
                } else {
                    let y = self.fresh("y");
                    let a = self.expr_bounded(2, LIMIT);
                    let b = self.expr_bounded(2, LIMIT);
                    self.line(&format!(
                        "let mut {y}: [{f}; 2] = [{}, {}];",
                        a.code, b.code
                    ));
                    let id = self.declare(y.clone(), pair, true, a.bound.max(b.bound));
                    (y, id)
                }
            }
        };
        // What the helper reads: a container of the function (not the buffer) or a new one.
        let reads: Vec<Var> = self
            .seqs_of_at_least(1)
            .into_iter()
            .filter(|v| v.id != id)
            .collect();
        let x = if !reads.is_empty() && self.rng.chance(80) {
            slice_arg(self.rng.pick(&reads))
        } else {
            let xs = self.fresh("xs");
            let a = self.expr_bounded(2, LIMIT);
            let a = self.typed(a);
            let b = self.expr_bounded(2, LIMIT);
            self.line(&format!("let {xs} = vec![{}, {}];", a.code, b.code));
            let bound = a.bound.max(b.bound);
            self.declare(xs.clone(), Kind::vec(2, 2), false, bound);
            format!("&{xs}")
        };
        let w = self.expr_bounded(2, LIMIT);
        let w = if h.generic {
            self.typed(w).code
        } else {
            w.code
        };
        let looped = depth < self.cfg.max_depth && self.rng.chance(55);
        let trips = if looped {
            self.rng.range(1, 3) as usize
        } else {
            1
        };
        let (w, head, step) = if !looped {
            (w, None, None)
        } else if self.rng.chance(70) {
            let i = format!("i{}", self.frames.len());
            let w = if self.rng.chance(50) {
                format!("{} * 0.5 + ({i} as {f}) * 0.25", paren(&w))
            } else {
                w
            };
            (w, Some(format!("for {i} in 0..{trips} {{")), None)
        } else {
            let c = self.fresh("c");
            self.line(&format!("let mut {c} = 0usize;"));
            (
                w,
                Some(format!("while {c} < {trips} {{")),
                Some(format!("{c} += 1;")),
            )
        };
        let call = format!("{}({x}, {w}, &mut {y})", h.call);
        // The result: a new float, or the statement alone.
        let result = if h.returns && self.rng.chance(75) {
            Some(self.fresh("r"))
        } else {
            None
        };
        if let (Some(r), Some(_)) = (&result, &head) {
            self.line(&format!("let mut {r}: {f} = 0.0;"));
        }
        if let Some(head) = &head {
            self.line(head);
            self.indent += 1;
        }
        match (&result, &head) {
            (Some(r), Some(_)) => self.line(&format!("{r} = {r} * 0.5 + {call};")),
            (Some(r), None) => self.line(&format!("let {r} = {call};")),
            (None, _) => self.line(&format!("{call};")),
        }
        if let Some(head) = &head {
            if let Some(step) = &step {
                self.line(step);
            }
            self.indent -= 1;
            self.line("}");
            let _ = head;
        }
        if let Some(r) = result {
            self.declare(r, Kind::Float, head.is_some(), 2.0 * 1.6);
        }
        let v = self.get(id);
        self.var_mut(id).bound = v.bound.max(BUFFER_BOUND);
        if let Kind::Seq { lo, hi, .. } = v.kind
            && buf == Buf::Vec
        {
            self.set_len(id, lo + h.pushes * trips, hi + h.pushes * trips);
        }
        // Read where the random statements may not.
        if buf != Buf::Float && self.rng.chance(50) {
            let t = self.fresh("t");
            let bound = v.bound.max(BUFFER_BOUND);
            if buf == Buf::Pair {
                self.line(&format!("let {t} = {y}[0] + 0.5 * {y}[1];"));
                self.declare(t, Kind::Float, false, 1.5 * bound);
            } else {
                self.line(&format!(
                    "let {t}: {f} = ({y}.iter().sum::<{f}>() * 0.25).tanh();"
                ));
                self.declare(t, Kind::Float, false, 1.0);
            }
        }
        true
    }
}

impl FnGen<'_> {
    /// The best item of a chain (`max_by`, `min_by`, `reduce`, filtered or not, so perhaps
    /// none) taken apart where it is made: `match .. { Some(v) => .., None => .. }`, `if let
    /// Some(&v) = ..`, `.unwrap_or(d)`, a `let best = ..;` matched once after, `.is_some()`
    /// as data, and the position of the best item of an enumeration indexing its container.
    fn s_best(&mut self) -> bool {
        let seqs: Vec<Var> = self
            .seqs_but_windows()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Seq { hi, .. } if hi >= 1))
            .collect();
        let Some(s) = self.pick_of(&seqs) else {
            return false;
        };
        let Kind::Seq { lo, .. } = s.kind else {
            unreachable!()
        };
        let n = s.name.clone();
        let f = self.f();
        let which = *self.rng.pick(&["max_by", "min_by"]);
        let total = self.rng.chance(50);
        let c = lit(self.rng.range(-5, 5) as f64 / 10.0);
        let filtered = lo == 0 || self.rng.chance(40);
        let t = self.fresh("t");
        if self.rng.chance(20) {
            // The position of the best item, which indexes the container.
            if lo == 0 {
                return false;
            }
            let (filter, default) = if filtered {
                (format!(".filter(|(_, q)| **q > {c})"), ".unwrap_or(0)")
            } else {
                (String::new(), ".unwrap()")
            };
            let cmp = if total {
                "a.1.total_cmp(b.1)"
            } else {
                "a.1.partial_cmp(b.1).unwrap()"
            };
            let j = self.fresh("j");
            self.line(&format!(
                "let {j} = {n}.iter().enumerate(){filter}.{which}(|a, b| {cmp}).map(|(i, _)| i){default};"
            ));
            let Kind::Seq { hi, .. } = s.kind else {
                unreachable!()
            };
            let jid = self.declare(j.clone(), Kind::int(0, hi as i64 - 1, true), false, 1.0);
            if let Kind::Int { index_for, .. } = &mut self.var_mut(jid).kind {
                index_for.push(s.id);
            }
            let e = self.expr_bounded(1, LIMIT);
            let e = self.typed(e);
            self.line(&format!("let {t} = {n}[{j}] * {};", paren(&e.code)));
            self.declare(t, Kind::Float, false, s.bound * e.bound);
            return true;
        }
        // By reference (`iter()`) or by value (`copied()`, and `reduce`).
        let by_ref = self.rng.chance(40);
        let reduce = !by_ref && self.rng.chance(25);
        let star = if by_ref { "**" } else { "*" };
        let filter = if filtered {
            format!(".filter(|q| {star}q > {c})")
        } else {
            String::new()
        };
        let cmp = if total {
            "a.total_cmp(b)"
        } else {
            "a.partial_cmp(b).unwrap()"
        };
        let src = if by_ref {
            format!("{n}.iter(){filter}.{which}(|a, b| {cmp})")
        } else if reduce {
            let m = *self.rng.pick(&["a.max(b)", "a.min(b)", "0.5 * a + b"]);
            format!("{n}.iter().copied(){filter}.reduce(|a, b| {m})")
        } else {
            format!("{n}.iter().copied(){filter}.{which}(|a, b| {cmp})")
        };
        // An expression of the item, in a scope where it is named.
        let arm = |g: &mut Self| -> (String, String, Ex) {
            g.scopes.push(Vec::new());
            let v = g.fresh("v");
            g.declare(v.clone(), Kind::Float, false, s.bound);
            let read = g.squash(Ex::new(v.clone(), s.bound, true));
            let body = g.lambda_body(read);
            g.scopes.pop();
            let pat = if by_ref {
                format!("Some(&{v})")
            } else {
                format!("Some({v})")
            };
            (pat, v, body)
        };
        let other = self.expr_bounded(2, LIMIT);
        let other = self.typed(other);
        match self.rng.below(5) {
            0 => {
                let (pat, _, body) = arm(self);
                self.line(&format!(
                    "let {t} = match {src} {{ {pat} => {}, None => {} }};",
                    body.code, other.code
                ));
                self.declare(t, Kind::Float, false, body.bound.max(other.bound));
            }
            1 => {
                let (pat, _, body) = arm(self);
                self.line(&format!("let mut {t}: {f} = {};", other.code));
                self.line(&format!("if let {pat} = {src} {{"));
                self.line(&format!("    {t} = {t} * 0.5 + {};", body.code));
                self.line("}");
                self.declare(t, Kind::Float, true, other.bound + body.bound);
            }
            2 if !by_ref => {
                self.line(&format!("let {t} = {src}.unwrap_or({});", other.code));
                self.declare(t, Kind::Float, false, s.bound.max(other.bound) * 2.0);
            }
            3 => {
                let best = self.fresh("best");
                self.line(&format!("let {best} = {src};"));
                let (pat, _, body) = arm(self);
                if self.rng.chance(50) {
                    self.line(&format!(
                        "let {t} = if let {pat} = {best} {{ {} }} else {{ {} }};",
                        body.code, other.code
                    ));
                } else {
                    self.line(&format!(
                        "let {t} = match {best} {{ {pat} => {}, None => {} }};",
                        body.code, other.code
                    ));
                }
                self.declare(t, Kind::Float, false, body.bound.max(other.bound));
            }
            _ => {
                let e = self.expr_bounded(2, LIMIT);
                self.line(&format!(
                    "let {t} = if {src}.is_some() {{ {} }} else {{ {} }};",
                    e.code, other.code
                ));
                self.declare(t, Kind::Float, false, e.bound.max(other.bound));
            }
        }
        true
    }
}

impl FnGen<'_> {
    /// The name and id of one of `old` (a variable to lend as a buffer), two times in five.
    fn reuse(&mut self, old: &[Var]) -> Option<(String, usize)> {
        if !old.is_empty() && self.rng.chance(40) {
            let v = self.rng.pick(old).clone();
            return Some((v.name, v.id));
        }
        None
    }

    /// `a` or `b`, even odds.
    fn either(&mut self, a: String, b: String) -> String {
        if self.rng.chance(50) { a } else { b }
    }

    /// One of `vars`, if there is one.
    fn pick_of(&mut self, vars: &[Var]) -> Option<Var> {
        (!vars.is_empty()).then(|| self.rng.pick(vars).clone())
    }

    /// A module `const` table, `TABLE: [F; 4]` (written by the case when a function reads it),
    /// read at a loop's indices, zipped with a container, folded and indexed by an integer.
    fn s_table(&mut self) -> bool {
        let f = self.f();
        let t = self.fresh("t");
        let e = self.expr(2);
        let e = self.squash(e);
        match self.rng.below(4) {
            0 => {
                let k = self.rng.range(1, 4);
                let i = format!("i{}", self.frames.len());
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{k} {{"));
                let read = self.either(
                    format!("TABLE[{i}]"),
                    format!("TABLE[TABLE.len() - 1 - {i}]"),
                );
                self.line(&format!(
                    "    {t} += {read} * {} + ({i} as {f}) * 0.125;",
                    paren(&e.code)
                ));
                self.line("}");
                self.declare(t, Kind::Float, true, k as f64 * 1.5);
            }
            1 => {
                let seqs = self.seqs_but_windows();
                let Some(s) = self.pick_of(&seqs) else {
                    return false;
                };
                let (c, v) = (self.fresh("c"), self.fresh("v"));
                let prod = self.either(format!("{c} * {v}"), format!("*{c} * (*{v}).sin()"));
                self.line(&format!(
                    "let {t}: {f} = (TABLE.iter().zip({}.iter()).map(|({c}, {v})| {prod}).sum::<{f}>() * 0.25).tanh();",
                    s.name
                ));
                self.declare(t, Kind::Float, false, 1.0);
            }
            2 => {
                let acc = self.fresh("acc");
                let c = self.fresh("c");
                let init = self.typed(e.clone()).code;
                self.line(&format!(
                    "let {t} = TABLE.iter().fold({init}, |{acc}, &{c}| {acc} * 0.5 + {c} * {});",
                    paren(&e.code)
                ));
                self.declare(t, Kind::Float, false, 2.0 + 2.0 * e.bound);
            }
            _ => {
                let ints: Vec<Var> = self
                    .ints()
                    .into_iter()
                    .filter(|v| matches!(v.kind, Kind::Int { usize: true, lo, .. } if lo >= 0))
                    .collect();
                let idx = if !ints.is_empty() && self.rng.chance(70) {
                    format!("{} % TABLE.len()", self.rng.pick(&ints).name)
                } else {
                    self.rng.range(0, 3).to_string()
                };
                self.line(&format!("let {t} = TABLE[{idx}] * {};", paren(&e.code)));
                self.declare(t, Kind::Float, false, 1.0);
            }
        }
        true
    }
}
