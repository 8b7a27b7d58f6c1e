//! Statement kinds for helpers whose results are more than one float, called where users call
//! them: helpers returning pairs and triples (`tuple_fn`: a result in polar form, an early
//! `return` with a flag kept as a float, a loop, a `match` on a pair of integers with float
//! arms), concrete or generic over `T: num_traits::Float`, called and destructured, read by
//! field (`h(a, b).0`), from closures of iterator chains that mix `enumerate`, `zip`, `skip`,
//! `step_by` and `rev`, from a closure that holds a closure of its own, from a `fold` carrying a
//! pair and from the arms of a `match` on a pair of loop indices; and helpers generic over a
//! length, `fn h<const N: usize>(v: [F; N], k: F) -> [F; N]` (`const_arr`: a map, a recurrence,
//! a reversal, a softmax; reductions of `&[F; N]`), called on local arrays, chained, carried by
//! a loop and read back by index, by a pattern, by a chain and by a loop over the array.
//!
//! As in `tables.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value; its names take prefixes
//! that no parameter has (`tp`, `tq`, `ar`, `cz`).

use super::tables::Ty;
use super::{FnGen, Kind, LIMIT, SeqKind};
use crate::program::{Function, Param, ParamKind, Ret};

fn param(name: &str, kind: ParamKind) -> Param {
    Param {
        name: name.to_string(),
        kind,
        mutable: false,
        value: Vec::new(),
    }
}

/// The head of a helper `fn name<..>(params) -> ret {`, generic over `T: num_traits::Float`
/// (in the list or a `where` clause) where `ty` is, with the other generic parameters `more`
/// (`const N: usize`).
fn head(
    rng: &mut crate::rng::Rng,
    name: &str,
    ty: &Ty,
    more: &str,
    params: &str,
    ret: &str,
) -> String {
    let sep = if more.is_empty() { "" } else { ", " };
    if !ty.generic {
        if more.is_empty() {
            format!("fn {name}({params}) -> {ret} {{")
        } else {
            format!("fn {name}<{more}>({params}) -> {ret} {{")
        }
    } else if rng.chance(50) {
        format!("fn {name}<T: num_traits::Float{sep}{more}>({params}) -> {ret} {{")
    } else {
        format!("fn {name}<T{sep}{more}>({params}) -> {ret}\nwhere\n    T: num_traits::Float,\n{{")
    }
}

/// The source of a function from its head, body lines and tail expression.
fn function_source(head: &str, body: &str, tail: &str) -> String {
    let mut source = head.to_string() + "\n";
    for l in body.lines() {
        source += "    ";
        source += l;
        source += "\n";
    }
    source += &format!("    {tail}\n}}\n");
    source
}

/// A helper of `a`, `b` (each within 1; and `k: usize` where `takes_k`) returning a pair or a
/// triple: its source, whether it takes `k`, the arity of its result and bounds on the parts.
struct TupleHelper {
    source: String,
    takes_k: bool,
    arity: usize,
    bounds: [f64; 3],
}

fn tuple_helper(rng: &mut crate::rng::Rng, name: &str, ty: &Ty) -> TupleHelper {
    let c = |v: f64| ty.c(v);
    let t = &ty.name;
    let (body, tail, takes_k, arity, bounds) = match rng.below(6) {
        0 => (
            // Polar form.
            format!(
                "let r = (a * a + b * b + {}).sqrt();\nlet th = b.atan2(a + {});\n",
                c(0.5),
                c(2.0)
            ),
            format!("(r * {}, th)", c(0.5)),
            false,
            2,
            [1.0, 1.6, 0.0],
        ),
        1 => (
            // An early `return` with a flag kept as a float.
            format!(
                "if a > b * {} {{\n    return ((a - b).tanh(), {});\n}}\nlet d = (b - a) * {};\n",
                c(0.5),
                c(1.0),
                c(0.5)
            ),
            format!("(d * d + a, {})", c(0.0)),
            false,
            2,
            [2.0, 1.0, 0.0],
        ),
        2 => (
            // A loop of `k + 2` trips.
            format!(
                "let mut s = {};\nlet mut p = {};\nfor i in 0..k + 2 {{\n    let w = {} * {};\n    \
                 s = s + (a * w + b).sin() * {};\n    p = p * (b * w).cos();\n}}\n",
                c(0.0),
                c(1.0),
                ty.ix("i"),
                c(0.25),
                c(0.5)
            ),
            "(s, p)".to_string(),
            true,
            2,
            [3.0, 1.0, 0.0],
        ),
        3 => (
            // A `match` on a pair of integers with float arms.
            format!(
                "let (p, q): ({t}, {t}) = match (k % 2, k / 2) {{\n    (0, 0) => (a, b),\n    \
                 (0, _) => (a * b, a - b),\n    (_, 0) => (b.sin(), a.cos()),\n    _ => (a + b * {}, b),\n}};\n",
                c(0.5)
            ),
            format!("(p * {} + q, (p - q).tanh())", c(0.5)),
            true,
            2,
            [3.0, 1.0, 0.0],
        ),
        4 => (
            String::new(),
            "(a + b, a * b, (a - b).tanh())".to_string(),
            false,
            3,
            [2.0, 1.0, 1.0],
        ),
        _ => (
            // A `match` on an integer beside a comparison of floats.
            String::new(),
            format!(
                "match (k % 3, a > b) {{\n        (0, true) => (a - b, b),\n        (0, false) => (b - a, a),\n        \
                 (1, _) => (a * b, a + b),\n        _ => (a.sin(), b.cos() * {}),\n    }}",
                c(0.5)
            ),
            true,
            2,
            [2.0, 2.0, 0.0],
        ),
    };
    let params = if takes_k {
        format!("a: {t}, b: {t}, k: usize")
    } else {
        format!("a: {t}, b: {t}")
    };
    let ret = if arity == 3 {
        format!("({t}, {t}, {t})")
    } else {
        format!("({t}, {t})")
    };
    let h = head(rng, name, ty, "", &params, &ret);
    TupleHelper {
        source: function_source(&h, &body, &tail),
        takes_k,
        arity,
        bounds,
    }
}

/// A helper over a fixed-length array, `fn name<const N: usize>(v: [F; N], k: F) -> [F; N]`
/// (`reduce`: `(v: &[F; N], k: F) -> F`): its source and its output bound as a function of the
/// bound `B` of the elements (`k` within 1).
fn array_helper(
    rng: &mut crate::rng::Rng,
    name: &str,
    ty: &Ty,
    reduce: bool,
    n: usize,
) -> (String, Box<dyn Fn(f64) -> f64>) {
    let c = |v: f64| ty.c(v);
    let t = &ty.name;
    let zero = c(0.0);
    let (body, tail, bound): (String, String, Box<dyn Fn(f64) -> f64>) = if !reduce {
        match rng.below(4) {
            0 => (
                format!(
                    "let mut out = [{zero}; N];\nfor i in 0..N {{\n    out[i] = (v[i] * k + {} * {}).tanh();\n}}\n",
                    ty.ix("i"),
                    c(0.25)
                ),
                "out".to_string(),
                Box::new(|_| 1.0),
            ),
            1 => (
                format!(
                    "let mut out = v;\nfor i in 1..N {{\n    out[i] = out[i - 1] * {} + v[i] * k;\n}}\n",
                    c(0.5)
                ),
                "out".to_string(),
                Box::new(|b| 2.0 * b),
            ),
            2 => (
                format!(
                    "let mut out = v;\nfor (i, e) in v.iter().enumerate() {{\n    \
                     out[N - 1 - i] = *e * k + {} * out[N - 1 - i];\n}}\n",
                    c(0.5)
                ),
                "out".to_string(),
                Box::new(|b| 3.0 * b),
            ),
            _ => (
                // A softmax of `v * k`, shifted by the largest element.
                format!(
                    "let mut m = v[0];\nfor e in v.iter() {{\n    m = m.max(*e);\n}}\n\
                     let mut out = [{zero}; N];\nlet mut s = {zero};\nfor i in 0..N {{\n    \
                     out[i] = ((v[i] - m) * k).exp();\n    s = s + out[i];\n}}\n\
                     for i in 0..N {{\n    out[i] = out[i] / s;\n}}\n"
                ),
                "out".to_string(),
                Box::new(|_| 1.0),
            ),
        }
    } else {
        match rng.below(3) {
            0 => (
                format!(
                    "let mut s = {zero};\nfor i in 0..N {{\n    s = s + (v[i] * k).sin() * {} * {};\n}}\n",
                    ty.ix("(i + 1)"),
                    c(0.25)
                ),
                "s".to_string(),
                Box::new(move |_| (n * (n + 1)) as f64 / 8.0 + 0.5),
            ),
            1 => (
                String::new(),
                ty.sum("v.iter().map(|&e| (e * k).tanh())").replace(
                    ".fold(T::zero(), |s, &v| s + v)",
                    ".fold(T::zero(), |s, v| s + v)",
                ),
                Box::new(move |_| n as f64),
            ),
            _ => (
                String::new(),
                ty.sum("v.iter().zip(v.iter().skip(1)).map(|(&p, &q)| (p - q) * k)")
                    .replace(
                        ".fold(T::zero(), |s, &v| s + v)",
                        ".fold(T::zero(), |s, v| s + v)",
                    ),
                Box::new(move |b| 2.0 * b * n as f64),
            ),
        }
    };
    let (params, ret) = if reduce {
        (format!("v: &[{t}; N], k: {t}"), t.to_string())
    } else {
        (format!("v: [{t}; N], k: {t}"), format!("[{t}; N]"))
    };
    let h = head(rng, name, ty, "const N: usize", &params, &ret);
    (function_source(&h, &body, &tail), bound)
}

impl FnGen<'_> {
    /// A new helper's name beside this function, `{fn}_{what}{k}`.
    pub(super) fn helper_name(&mut self, what: &str) -> String {
        self.names += 1;
        format!("{}_{what}{}", self.fn_tag, self.names)
    }

    /// The containers a chain can read (with a bound that a `tanh` takes back to 1).
    fn chain_seqs(&self) -> Vec<super::Var> {
        self.seqs_but_windows()
            .into_iter()
            .filter(|v| {
                matches!(v.kind, Kind::Seq { seq, lo, .. } if seq != SeqKind::Window && lo >= 1)
            })
            .collect()
    }

    /// A helper returning a pair or a triple (concrete or generic over `T:
    /// num_traits::Float`), called and destructured, read by field, from the closures of
    /// chains, from a closure holding a closure, in a `fold` carrying a pair, and in the arms of
    /// a `match` on a pair of loop indices.
    pub(super) fn s_tuple_fn(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("tp");
        let generic = self.rng.chance(50);
        let name = self.helper_name("tf");
        let ty = Ty {
            name: if generic { "T".into() } else { f.clone() },
            generic,
        };
        let h = tuple_helper(self.rng, &name, &ty);
        let mut params = vec![param("a", ParamKind::Scalar), param("b", ParamKind::Scalar)];
        if h.takes_k {
            params.push(param("k", ParamKind::Usize));
        }
        self.buffer_fns.push(Function {
            name: name.clone(),
            params,
            ret: Ret::Pair,
            source: h.source.clone(),
        });
        let callee = if generic && self.rng.chance(40) {
            format!("{name}::<{f}>")
        } else {
            name
        };
        let kk = self.rng.below(4);
        let call = |x: &str, y: &str| {
            if h.takes_k {
                format!("{callee}({x}, {y}, {kk})")
            } else {
                format!("{callee}({x}, {y})")
            }
        };
        let [b0, b1, b2] = h.bounds;
        // The parts of a destructured result, as a pattern and a float of them.
        let (pat, mix, mix_bound) = {
            let (p, q, r) = (self.fresh("tq"), self.fresh("tq"), self.fresh("tq"));
            if h.arity == 3 {
                (
                    format!("({p}, {q}, {r})"),
                    format!("{p} * 0.5 + {q} * {r}"),
                    b0 * 0.5 + b1 * b2,
                )
            } else {
                (
                    format!("({p}, {q})"),
                    format!("{p} * 0.5 + {q} * 0.25"),
                    b0 * 0.5 + b1 * 0.25,
                )
            }
        };
        let bound = match self.rng.below(7) {
            0 => {
                self.line(&format!("let {pat} = {};", call(&a, &b)));
                self.line(&format!("let {t} = {mix};"));
                mix_bound
            }
            1 => {
                self.line(&format!(
                    "let {t} = {}.0 + {}.1 * 0.5;",
                    call(&a, &b),
                    call(&b, &a)
                ));
                b0 + b1 * 0.5
            }
            2 => {
                let pr = self.fresh("tq");
                let ann = if h.arity == 3 {
                    format!(": ({f}, {f}, {f})")
                } else {
                    format!(": ({f}, {f})")
                };
                let ann = if self.rng.chance(50) {
                    ann
                } else {
                    String::new()
                };
                self.line(&format!("let {pr}{ann} = {};", call(&a, &b)));
                self.line(&format!("let {t} = {pr}.0 * {pr}.1 + {a};"));
                b0 * b1 + 1.0
            }
            3 | 4 => {
                // A chain over a container whose closure calls the helper.
                let seqs = self.chain_seqs();
                let (xs, hi, xb) = match self.pick_of(&seqs) {
                    Some(v) => match v.kind {
                        Kind::Seq { hi, .. } => (v.name, hi, v.bound),
                        _ => unreachable!(),
                    },
                    None => {
                        let cz = self.fresh("cz");
                        self.line(&format!(
                            "let {cz}: Vec<{f}> = vec![{a}, {b}, {a} * {b}, 0.5];"
                        ));
                        (cz, 4, 1.0)
                    }
                };
                let ys = match self.pick_of(&seqs) {
                    Some(v) => v.name,
                    None => xs.clone(),
                };
                let e = self.fresh("te");
                let i = self.fresh("ti");
                let w = self.fresh("tw");
                let (source, item) = match self.rng.below(7) {
                    0 => (format!("{xs}.iter()"), format!("&{e}")),
                    1 => (format!("{xs}.iter().rev()"), format!("&{e}")),
                    2 => (format!("{xs}.iter().skip(1).step_by(2)"), format!("&{e}")),
                    3 => (format!("{xs}.iter().copied().rev().step_by(2)"), e.clone()),
                    4 => (format!("{xs}.iter().enumerate()"), format!("({i}, &{e})")),
                    5 => (
                        format!("{xs}.iter().enumerate().rev().skip(1)"),
                        format!("({i}, &{e})"),
                    ),
                    _ => (
                        format!("{xs}.iter().zip({ys}.iter().rev())"),
                        format!("(&{e}, &{w})"),
                    ),
                };
                let arg2 = if item.starts_with('(') && item.contains(&i) {
                    format!("({a} * ({i} as {f}) * 0.5).sin()")
                } else if item.contains(&w) {
                    format!("({w} * {b}).tanh()")
                } else {
                    a.clone()
                };
                let c2 = call(&format!("({e}).tanh()"), &arg2);
                let per = match self.rng.below(3) {
                    0 => (format!("{c2}.0"), b0),
                    1 => (
                        format!("{{\n    let {pat} = {c2};\n    {mix}\n}}"),
                        mix_bound,
                    ),
                    _ => (format!("{c2}.1 * {e}"), b1 * xb),
                };
                let per = if per.1 > LIMIT {
                    (format!("({}).tanh()", per.0), 1.0)
                } else {
                    per
                };
                if self.rng.chance(30) {
                    // A fold carrying a pair.
                    let (s, p) = (self.fresh("ts"), self.fresh("tm"));
                    let body = per.0.replace('\n', "\n    ");
                    self.lines(&format!(
                        "let ({s}, {p}): ({f}, {f}) = {source}.fold((0.0, 1.0), |({s}, {p}), {item}| {{\n    \
                         let z = {body};\n    ({s} + z * 0.25, {p} * 0.5 + z.tanh() * 0.25)\n}});"
                    ));
                    self.line(&format!("let {t} = {s} + {p};"));
                    hi as f64 * per.1 * 0.25 + 1.0
                } else {
                    self.lines(&format!(
                        "let {t} = {source}.map(|{item}| {}).sum::<{f}>() * 0.5;",
                        per.0
                    ));
                    hi as f64 * per.1 * 0.5
                }
            }
            5 => {
                // A closure calling the helper, perhaps through a closure of its own.
                let g = self.fresh("tg");
                if self.rng.chance(50) {
                    let (u, pat2) = (self.fresh("tu"), pat.clone());
                    self.lines(&format!(
                        "let {g} = |{u}: {f}| {{\n    let {pat2} = {};\n    {mix}\n}};",
                        call(&u, &b)
                    ));
                    self.line(&format!("let {t} = {g}({a}) + {g}({b} * 0.5) * 0.5;"));
                    mix_bound * 1.5
                } else {
                    let (u, w, inner) = (self.fresh("tu"), self.fresh("tw"), self.fresh("tn"));
                    self.lines(&format!(
                        "let {g} = |{u}: {f}| {{\n    let {inner} = |{w}: {f}| ({w} * {b}).tanh() + {u} * 0.5;\n    \
                         {}.0 * 0.5 + {inner}({a}) * 0.25\n}};",
                        call(&format!("{inner}({u})"), &format!("{inner}({a}) * 0.5"))
                    ));
                    self.line(&format!("let {t} = {g}({a}) - {g}({b} * 0.5) * 0.25;"));
                    (b0 * 0.5 + 0.5) * 1.25
                }
            }
            _ => {
                // A `match` on a pair of loop indices, the helper called in its arms.
                let (i, j) = (self.fresh("ti"), self.fresh("tj"));
                let n = self.rng.range(2, 3);
                let m = self.rng.range(1, 3);
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.lines(&format!(
                    "for {i} in 0..{n} {{\n    for {j} in 0..{m} {{\n        {t} += match ({i} % 2, {j}) {{\n            \
                     (0, 0) => {}.0 * 0.25,\n            (0, _) => {{\n                let {pat} = {};\n                ({mix}) * 0.125\n            }}\n            \
                     (_, 1) => {a} * 0.25,\n            _ => {}.1 * 0.125,\n        }};\n    }}\n}}",
                    call(&a, &b),
                    call(&b, &format!("{a} * 0.5")),
                    call(&format!("{a} * 0.5"), &b)
                ));
                (n * m) as f64 * (b0 * 0.25 + mix_bound * 0.125 + 0.25)
            }
        };
        self.declare(t, Kind::Float, false, bound.min(LIMIT * 4.0));
        true
    }

    /// Helpers over fixed-length arrays, `fn h<const N: usize>(v: [F; N], k: F) -> [F; N]`
    /// and `fn r<const N: usize>(v: &[F; N], k: F) -> F` (concrete or generic over `T:
    /// num_traits::Float`), called on a local array (with a turbofish or without), chained,
    /// carried by a loop, and read back by index, by a pattern, by a chain or a loop.
    pub(super) fn s_const_arr(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("ar");
        let n = self.rng.range(2, 4) as usize;
        let generic = self.rng.chance(50);
        let ty = Ty {
            name: if generic { "T".into() } else { f.clone() },
            generic,
        };
        let turbo = |rng: &mut crate::rng::Rng, name: &str| {
            if !rng.chance(40) {
                name.to_string()
            } else if generic {
                format!("{name}::<{f}, {n}>")
            } else {
                format!("{name}::<{n}>")
            }
        };
        let name = self.helper_name("ca");
        let (src, mbound) = array_helper(self.rng, &name, &ty, false, n);
        let arr_param = || {
            vec![
                param("v", ParamKind::Array(n)),
                param("k", ParamKind::Scalar),
            ]
        };
        self.buffer_fns.push(Function {
            name: name.clone(),
            params: arr_param(),
            ret: Ret::Scalar,
            source: src.clone(),
        });
        let map = turbo(self.rng, &name);
        // The array: a literal of the function's values, or one value repeated.
        let ar = self.fresh("ar");
        let elems: Vec<String> = (0..n)
            .map(|i| match i % 3 {
                0 => a.clone(),
                1 => b.clone(),
                _ => format!("{a} * {b}"),
            })
            .collect();
        if self.rng.chance(80) {
            self.line(&format!("let {ar}: [{f}; {n}] = [{}];", elems.join(", ")));
        } else {
            self.line(&format!("let {ar} = [{a}; {n}];"));
        }
        let out = self.fresh("ar");
        let bounded = mbound(1.0) <= 1.0;
        let bound = match self.rng.below(4) {
            0 => {
                self.line(&format!("let {out} = {map}({ar}, {b});"));
                mbound(1.0)
            }
            1 => {
                let inner = self.fresh("ar");
                self.line(&format!("let {inner} = {map}({ar}, {a});"));
                self.line(&format!("let {out} = {map}({inner}, {b} * 0.5);"));
                mbound(mbound(1.0))
            }
            2 if bounded => {
                let trips = self.rng.range(2, 4);
                let i = self.fresh("ti");
                self.line(&format!("let mut {out} = {ar};"));
                self.lines(&format!(
                    "for {i} in 0..{trips} {{\n    {out} = {map}({out}, {b} + ({i} as {f}) * 0.125);\n}}"
                ));
                1.0
            }
            _ => {
                self.line(&format!("let mut {out} = {map}({ar}, {b});"));
                self.line(&format!("{out}[{}] = {out}[0] * {a};", n - 1));
                mbound(1.0)
            }
        }
        .max(1.0);
        let i = self.fresh("ti");
        let result = match self.rng.below(6) {
            0 => {
                let rname = self.helper_name("cr");
                let (rsrc, rbound) = array_helper(self.rng, &rname, &ty, true, n);
                self.buffer_fns.push(Function {
                    name: rname.clone(),
                    params: arr_param(),
                    ret: Ret::Scalar,
                    source: rsrc,
                });
                let red = turbo(self.rng, &rname);
                self.line(&format!("let {t} = {red}(&{out}, {a});"));
                rbound(bound)
            }
            1 => {
                self.line(&format!("let {t} = {out}.iter().sum::<{f}>() * 0.5;"));
                bound * n as f64 * 0.5
            }
            2 => {
                self.line(&format!("let {t} = {out}[0] * {out}[{}];", n - 1));
                bound * bound
            }
            3 => {
                let names: Vec<String> = (0..n)
                    .map(|k| if k < 2 { self.fresh("tq") } else { "_".into() })
                    .collect();
                self.line(&format!("let [{}] = {out};", names.join(", ")));
                self.line(&format!("let {t} = {} - {} * 0.5;", names[0], names[1]));
                bound * 1.5
            }
            4 => {
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                let e = self.fresh("te");
                self.lines(&format!("for {e} in {out} {{\n    {t} += {e} * 0.5;\n}}"));
                bound * n as f64 * 0.5
            }
            _ => {
                let e = self.fresh("te");
                self.line(&format!(
                    "let {t} = {out}.iter().enumerate().map(|({i}, &{e})| {e} * ({i} as {f})).sum::<{f}>() * 0.25;"
                ));
                bound * (n * n) as f64 * 0.25
            }
        };
        self.declare(t, Kind::Float, false, result.min(LIMIT * 4.0));
        true
    }
}
