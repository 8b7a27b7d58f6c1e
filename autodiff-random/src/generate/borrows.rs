//! Statement kinds for code that borrows what it reads, as users write it around models,
//! closures and iterator chains:
//!
//! - `self_borrow`: a struct `Fit { w: Vec<F>, c: F, s: [F; 2] }` (`#[derive(Clone,
//!   Differentiable)]`) whose `&self` methods borrow a field (`let w = &self.w;`) and loop over
//!   it (by index, `enumerate`, `rev`, `windows(2)`, `chunks_exact(2)`), call each other (`score`
//!   calls `eval`, `dot` and `spread`), return a new `Fit` (`scaled`) whose methods are called
//!   on the result (`m.scaled(k).eval(x)`), and a `&mut self` method writing its fields by index
//!   (`nudge`); built from differentiated values, called with different arguments in loops,
//!   branches and chains, through the type (`Fit::spread(&m)`), on a clone stepped by `nudge`,
//!   its field borrowed in the function (`let w = &m.w;`), and passed to a helper taking `m:
//!   &Fit` that borrows its field too;
//! - `closure_env`: closures stored in locals and called several times with different
//!   arguments: capturing a local array or `Vec` read at an index argument (`let g = |u: F, i:
//!   usize| arr[i % 3] * u ..;`, also `move`), returning a pair (`let h = |u: F| -> (F, F) {
//!   .. };` destructured), calling another closure, taking a slice (`|s: &[F]| ..` called on
//!   the array, a container and a range of it), called in a `for` loop with its index, in a
//!   chain over a container, in a branch and nested (`g(g(a, 0), 1)`);
//! - `iter_shapes`: `chunks_exact(k)` (in a chain, a `for` loop, with `enumerate`, two zipped),
//!   a `zip` of three (`for ((p, q), r) in ..`, a chain taking `((&p, &q), &r)` apart, `rev()`),
//!   `rev().step_by(k)`, `skip(k).take(m)` and `(0..n).rev().step_by(2)`; an `Array2::zeros`
//!   or `Array3::from_elem` filled by index writes (`=`, `+=`, `*=`) then reduced (`sum`, a
//!   chain over `iter()`, `fold`, `sum_axis`); and `match` on tuples of a float and an integer
//!   built where they are matched (`match (e, i % 3) { (v, 0) if v > c => .., (v, 1) => ..,
//!   (v, _) => .. }`), `match (c, i % 2)` on a flag and an integer, and `if let (w, 1..=2) =
//!   (e, j)` nested in an `if let Some(v) = o` of a typed `Option<F>`.
//!
//! As in `models.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value; its names take prefixes
//! that no parameter has (`fb`, `ce`, `is`).

use super::{FnGen, Kind, Var, lit};
use crate::program::{Function, Param, ParamKind, Ret};

fn param(name: &str, kind: ParamKind) -> Param {
    Param {
        name: name.to_string(),
        kind,
        mutable: false,
        value: Vec::new(),
    }
}

impl FnGen<'_> {
    /// A container of at least `n` elements with its bound and length range, if there is one.
    fn borrowed_seq(&mut self, n: usize) -> Option<(String, f64, usize, usize)> {
        let seqs: Vec<Var> = self.seqs_of_at_least(n);
        let v = self.pick_of(&seqs)?;
        match v.kind {
            Kind::Seq { lo, hi, .. } => Some((v.name, v.bound, lo, hi)),
            _ => None,
        }
    }

    /// A `Fit` built from differentiated values, its methods called with different arguments
    /// in loops, branches and chains, on what `scaled` returned and on a clone stepped by
    /// `nudge`, its field borrowed, and passed to a helper.
    pub(super) fn s_self_borrow(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let md = self.fresh("fb");
        let xs = self.borrowed_seq(1);
        // The slice the methods taking one read: a container of the function, or a local.
        let sl = match &xs {
            Some((name, _, _, _)) if self.rng.chance(70) => format!("&{name}[..]"),
            _ => format!("&[{a}, {b} * 0.5, 0.25]"),
        };
        // Elements of `w` within 1, at least one of them.
        match self.rng.below(4) {
            0 => self.line(&format!(
                "let {md} = Fit {{ w: vec![{a}, {b}, {a} * {b}], c: {b} * 0.5, s: [{a}, 0.5] }};"
            )),
            1 => {
                let w = self.fresh("fb");
                let n = self.rng.range(1, 4);
                self.line(&format!("let mut {w}: Vec<{f}> = Vec::new();"));
                self.lines(&format!(
                    "for i in 0..{n} {{\n    {w}.push(({a} * (i as {f}) + {b}).sin());\n}}"
                ));
                self.line(&format!(
                    "let {md} = Fit {{ s: [{b} * 0.5, {a}], c: 0.25, w: {w} }};"
                ));
            }
            2 => match &xs {
                Some((name, _, _, _)) => self.line(&format!(
                    "let {md}: Fit = Fit {{ w: {name}.iter().map(|e| (e * {a}).tanh()).collect(), c: {b}, s: [0.5, {a} * {b}] }};"
                )),
                None => self.line(&format!(
                    "let {md} = Fit {{ w: vec![{b}; 2], c: {a}, s: [{b}, {a}] }};"
                )),
            },
            _ => {
                self.line(&format!(
                    "let mut {md} = Fit {{ w: vec![0.5, {a}], c: 0.0, s: [0.0; 2] }};"
                ));
                self.line(&format!("{md}.c = {b} * 0.5;"));
                self.line(&format!("{md}.s[1] = {a} * {b};"));
                self.line(&format!("{md}.w.push({b});"));
            }
        }
        let t = self.fresh("fb");
        self.line(&format!("let mut {t}: {f} = 0.0;"));
        let mut bound = 0.0;
        for _ in 0..self.rng.range(2, 5) {
            match self.rng.below(9) {
                0 => {
                    // One method with different arguments in a loop, and after it.
                    let n = self.rng.range(2, 4);
                    self.lines(&format!(
                        "for i in 0..{n} {{\n    {t} += {md}.eval({a} + (i as {f}) * 0.25) * 0.5;\n}}\n\
                         {t} += {md}.eval({b}) - {md}.eval(0.5) * 0.25;"
                    ));
                    bound += n as f64 * 0.5 + 1.25;
                }
                1 => {
                    // A method calling the others, in a branch on another's value.
                    self.lines(&format!(
                        "if {md}.eval({a}) > 0.0 {{\n    {t} += {md}.score({b}, {sl}) * 0.25;\n}} else {{\n    \
                         {t} -= Fit::spread(&{md}) * 0.25 + {md}.pairs();\n}}"
                    ));
                    bound += 1.5;
                }
                2 => {
                    // A method of what `scaled` returned, and the struct it returned kept (declared
                    // with its type: its `dot` is the struct's, not ndarray's).
                    let m2 = self.fresh("fb");
                    self.lines(&format!(
                        "{t} += {md}.scaled({b}).eval({a}) * 0.5;\n\
                         let {m2}: Fit = {md}.scaled({a} * 0.5);\n\
                         {t} += {md}.back({m2}.dot({sl})) * 0.25 + {m2}.pairs();"
                    ));
                    bound += 0.5 + 0.5 + 1.0;
                }
                3 => {
                    // The field borrowed in the function and looped over.
                    let w = self.fresh("fb");
                    self.lines(&format!(
                        "let {w} = &{md}.w;\n\
                         for (i, v) in {w}.iter().enumerate() {{\n    \
                         {t} += v * {md}.eval(i as {f} * 0.5 + {a}) * 0.5;\n}}"
                    ));
                    bound += 0.5 * 6.0;
                }
                4 => {
                    // A chain calling a method on each item.
                    let (src, hi) = match &xs {
                        Some((name, _, _, hi)) => (name.clone(), *hi),
                        None => (format!("[{a}, {b}]"), 2),
                    };
                    self.line(&format!(
                        "{t} += {src}.iter().map(|&x| {md}.eval(x * 0.5)).sum::<{f}>() * 0.25;"
                    ));
                    bound += 0.25 * hi as f64;
                }
                5 => {
                    // A clone stepped by the `&mut self` method, then read.
                    let m3 = self.fresh("fb");
                    self.lines(&format!(
                        "let mut {m3} = {md}.clone();\n{m3}.nudge({b});\n{m3}.nudge({a} * 0.5);\n\
                         {t} += {m3}.eval({a}) * 0.5 + {m3}.c * 0.25;"
                    ));
                    bound += 0.5 + 0.25 * 2.0;
                }
                6 => {
                    let h = self.fit_helper();
                    self.line(&format!("{t} += {h}(&{md}, {sl}, {b}) * 0.5;"));
                    bound += 0.5 * 4.0;
                }
                7 => {
                    // The same method with a field of the struct and a result of another.
                    self.line(&format!(
                        "{t} += {md}.back({md}.s[0]) * 0.25 + {md}.eval({md}.dot({sl})) * 0.5;"
                    ));
                    bound += 0.25 * 2.0 + 0.5;
                }
                _ => {
                    // Two calls in one loop, one reading the other's value.
                    let (q, n) = (self.fresh("fb"), self.rng.range(2, 4));
                    self.lines(&format!(
                        "let mut {q}: {f} = {a};\nfor _ in 0..{n} {{\n    \
                         {q} = {md}.eval({q}) * 0.5 + {md}.back({q} * 0.5) * 0.25;\n}}\n\
                         {t} += {q};"
                    ));
                    bound += 1.5;
                }
            }
        }
        self.declare(t, Kind::Float, true, bound);
        true
    }

    /// `fn h(m: &Fit, xs: &[F], t: F) -> F`: the field borrowed and looped over, the methods
    /// called with its items. Within 4.
    fn fit_helper(&mut self) -> String {
        let f = self.f();
        let name = self.helper_name("fh");
        let source = format!(
            "fn {name}(m: &Fit, xs: &[{f}], t: {f}) -> {f} {{\n    \
             let w = &m.w;\n    \
             let mut s: {f} = 0.0;\n    \
             for (j, &x) in xs.iter().enumerate() {{\n        \
             if m.eval(x) > t * 0.5 {{\n            s += w[j % w.len()] * 0.5;\n        \
             }} else {{\n            s -= Fit::eval(m, x.tanh()) * 0.25;\n        }}\n    }}\n    \
             s / (xs.len() as {f}) + m.score(t, xs) * 0.5\n}}\n"
        );
        self.buffer_fns.push(Function {
            name: name.clone(),
            params: vec![
                param("m", ParamKind::Scalar),
                param("xs", ParamKind::Slice),
                param("t", ParamKind::Scalar),
            ],
            ret: Ret::Scalar,
            source,
        });
        name
    }

    /// Closures stored in locals, capturing a local array or `Vec`, called several times with
    /// different arguments.
    pub(super) fn s_closure_env(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let arr = self.fresh("ce");
        let vv = self.fresh("ce");
        // The captured containers, every element within 1.
        if self.rng.chance(50) {
            self.line(&format!("let {arr} = [{a}, {b}, {a} * {b}];"));
        } else {
            self.line(&format!("let {arr}: [{f}; 3] = [{b} * 0.5, {a}, 0.25];"));
        }
        self.line(&format!(
            "let {vv}: Vec<{f}> = vec![{a} * 0.5, {b}, ({a} + {b}).sin()];"
        ));
        let mv = if self.rng.chance(30) { "move " } else { "" };
        // `g(u, i)` within 1 + |u|.
        let g = self.fresh("ce");
        match self.rng.below(3) {
            0 => self.line(&format!(
                "let {g} = {mv}|u: {f}, i: usize| {arr}[i % 3] * u.tanh() + (u * {arr}[0]).sin() * 0.5;"
            )),
            1 => self.lines(&format!(
                "let {g} = {mv}|u: {f}, i: usize| {{\n    let w = {arr}[i % {arr}.len()];\n    \
                 if w > u {{\n        (w * u).tanh()\n    }} else {{\n        w * 0.5 + u.sin() * 0.5\n    }}\n}};"
            )),
            _ => self.line(&format!(
                "let {g} = |u: {f}, i: usize| -> {f} {{ {vv}[i % {vv}.len()] * u.sin() + {arr}[(i + 1) % 3] * 0.5 }};"
            )),
        }
        let t = self.fresh("ce");
        self.line(&format!(
            "let mut {t}: {f} = {g}({a}, 0) + {g}({b} * 0.5, 2);"
        ));
        let mut bound = 4.0;
        for _ in 0..self.rng.range(2, 5) {
            match self.rng.below(7) {
                0 => {
                    // A pair returned, destructured at two calls.
                    let (h, p, q) = (self.fresh("ce"), self.fresh("ce"), self.fresh("ce"));
                    self.line(&format!(
                        "let {h} = |u: {f}| -> ({f}, {f}) {{ (u * {a}, (u * {b}).sin()) }};"
                    ));
                    self.line(&format!("let ({p}, {q}) = {h}({b});"));
                    self.line(&format!("{t} += {p} * {q} + {h}({a} * 0.5).1 * 0.5;"));
                    bound += 1.5;
                }
                1 => {
                    // A closure calling another one, and nested calls.
                    let k = self.fresh("ce");
                    self.line(&format!(
                        "let {k} = |u: {f}| {g}(u, 1) * 0.5 + {g}(u * {b}, 2) * 0.25;"
                    ));
                    self.line(&format!(
                        "{t} += {k}({a}) - {k}(0.5) * 0.5 + {g}({g}({a}, 0) * 0.5, 1) * 0.25;"
                    ));
                    bound += 1.5 + 0.75 + 1.0;
                }
                2 => {
                    // In a `for` loop with its index.
                    let n = self.rng.range(2, 5);
                    self.lines(&format!(
                        "for i in 0..{n} {{\n    {t} += {g}({a} * (i as {f}) * 0.25, i) * 0.25;\n}}"
                    ));
                    bound += n as f64 * 0.25 * 2.0;
                }
                3 => {
                    // Over a container's items.
                    let (src, hi) = match self.borrowed_seq(1) {
                        Some((name, bd, _, hi)) if bd <= 4.0 => (name, hi),
                        _ => (vv.clone(), 3),
                    };
                    self.line(&format!(
                        "{t} += {src}.iter().enumerate().map(|(i, &x)| {g}(x * 0.25, i)).sum::<{f}>() * 0.25;"
                    ));
                    bound += 0.5 * hi as f64;
                }
                4 => {
                    // A closure taking a slice, called on the array, the `Vec` and a part.
                    let s = self.fresh("ce");
                    self.line(&format!(
                        "let {s} = |q: &[{f}]| q.iter().map(|e| e * {a}).sum::<{f}>() / (q.len() as {f});"
                    ));
                    self.line(&format!(
                        "{t} += {s}(&{arr}) + {s}(&{vv}) * 0.5 + {s}(&{vv}[1..]) * 0.25;"
                    ));
                    bound += 1.75;
                }
                5 => {
                    // In the arms of a branch, with the arguments swapped.
                    self.lines(&format!(
                        "if {t} > {b} {{\n    {t} = {g}({b}, 1) * 0.5 + {t} * 0.25;\n}} else {{\n    \
                         {t} -= {g}({a}, 2) * 0.25;\n}}"
                    ));
                    bound = (bound * 0.25 + 1.0).max(bound + 0.5);
                }
                _ => {
                    // A closure changing a captured accumulator, called with different values.
                    let (c, add) = (self.fresh("ce"), self.fresh("ce"));
                    self.line(&format!("let mut {c}: {f} = 0.0;"));
                    self.line(&format!(
                        "let mut {add} = |u: {f}, i: usize| {c} += {arr}[i % 3] * u * 0.5;"
                    ));
                    self.line(&format!("{add}({a}, 0);"));
                    self.line(&format!("{add}({b}, 2);"));
                    self.line(&format!("{add}({a} * {b}, 1);"));
                    self.line(&format!("{t} += {c};"));
                    bound += 1.5;
                }
            }
        }
        self.declare(t, Kind::Float, true, bound);
        true
    }

    /// `chunks_exact`, zips of three, `rev`/`step_by`/`skip`/`take`, arrays filled by index
    /// writes then reduced, and `match` on tuples of a float and an integer.
    pub(super) fn s_iter_shapes(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("is");
        // A container, or a local one of four.
        let (xs, xb, hi) = match self.borrowed_seq(0) {
            Some((name, bd, _, hi)) if self.rng.chance(75) => (name, bd, hi),
            _ => {
                let v = self.fresh("is");
                self.line(&format!(
                    "let {v}: Vec<{f}> = vec![{a}, {b} * 0.5, ({a} * {b}).sin(), 0.25, {b}];"
                ));
                (v, 1.0, 5)
            }
        };
        let ys = match self.borrowed_seq(0) {
            Some((name, bd, _, _)) if bd <= xb && self.rng.chance(60) => name,
            _ => xs.clone(),
        };
        let zs = match self.borrowed_seq(0) {
            Some((name, bd, _, _)) if bd <= xb && self.rng.chance(60) => name,
            _ => xs.clone(),
        };
        let n = hi as f64;
        let bound = match self.rng.below(10) {
            0 => {
                let k = self.rng.range(2, 4);
                let last = k - 1;
                self.line(&format!(
                    "let {t}: {f} = {xs}.chunks_exact({k}).map(|c| c[0] * c[{last}] * {a} + c[1] * 0.5).sum();"
                ));
                n * (xb * xb + xb * 0.5)
            }
            1 => {
                let k = self.rng.range(2, 4);
                self.line(&format!("let mut {t}: {f} = {b};"));
                self.lines(&format!(
                    "for (j, c) in {xs}.chunks_exact({k}).enumerate() {{\n    \
                     {t} = {t} * 0.5 + c[{}] * {a} - (j as {f}) * 0.25 * c[0];\n}}",
                    k - 1
                ));
                2.0 * xb + 1.0 + 0.25 * n * xb
            }
            2 => {
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.lines(&format!(
                    "for (c, d) in {xs}.chunks_exact(2).zip({ys}.chunks_exact(2).rev()) {{\n    \
                     {t} += c[0] * d[1] - c[1] * d[0] * {b};\n}}"
                ));
                n * xb * xb
            }
            3 => {
                self.line(&format!("let mut {t}: {f} = {a};"));
                self.lines(&format!(
                    "for (({p}, {q}), {r}) in {xs}.iter().zip({ys}.iter()).zip({zs}.iter()) {{\n    \
                     {t} += {p} * {q} * {b} - {r} * 0.5;\n}}",
                    p = "p",
                    q = "q",
                    r = "r"
                ));
                1.0 + n * (xb * xb + xb * 0.5)
            }
            4 => {
                let rev = if self.rng.chance(50) { ".rev()" } else { "" };
                self.line(&format!(
                    "let {t}: {f} = {xs}.iter().zip({ys}.iter().skip(1)).zip({zs}.iter()){rev}.map(|((&p, &q), &r)| (p * {a} + q).tanh() * r).fold({b}, |s, v| s * 0.5 + v);"
                ));
                1.0 + 2.0 * xb
            }
            5 => {
                let (s, k, m) = (
                    self.rng.range(2, 4),
                    self.rng.range(0, 3),
                    self.rng.range(1, 4),
                );
                let form = match self.rng.below(3) {
                    0 => format!("{xs}.iter().rev().step_by({s}).map(|v| v * {a}).sum::<{f}>()"),
                    1 => format!(
                        "{xs}.iter().skip({k}).take({m}).map(|v| (v * {b}).sin()).sum::<{f}>()"
                    ),
                    _ => format!(
                        "{xs}.iter().enumerate().rev().skip({k}).step_by({s}).map(|(i, x)| x * (i as {f} * 0.25 + {a})).sum::<{f}>()"
                    ),
                };
                self.line(&format!("let {t}: {f} = {form};"));
                n * xb * (0.25 * n + 1.0)
            }
            6 => {
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.lines(&format!(
                    "for i in (0..{xs}.len()).rev().step_by(2) {{\n    \
                     {t} = {t} * 0.5 + {xs}[i] * {b};\n}}"
                ));
                2.0 * xb
            }
            7 => {
                // An `Array3::from_elem` filled by index writes, reduced.
                let (g, n1) = (self.fresh("is"), self.rng.range(2, 4));
                self.line(&format!(
                    "let mut {g} = ndarray::Array3::from_elem((2, {n1}, 2), 0.0);"
                ));
                self.lines(&format!(
                    "for i in 0..2 {{\n    for j in 0..{n1} {{\n        for k in 0..2 {{\n            \
                     {g}[[i, j, k]] += {a} * (k as {f}) - {b} * (i as {f}) * 0.5 + 0.25;\n            \
                     {g}[[i, j, k]] *= {b};\n        }}\n    }}\n}}"
                ));
                let red = match self.rng.below(3) {
                    0 => format!("{g}.sum() * 0.25"),
                    1 => format!("{g}.iter().map(|v| v.tanh()).sum::<{f}>()"),
                    _ => format!("{g}.sum_axis(ndarray::Axis(2)).fold(0.0, |s, &v| s + v * v)"),
                };
                self.line(&format!("let {t}: {f} = {red};"));
                4.0 * n1 as f64 * 4.0
            }
            8 => {
                // An `Array2::zeros` filled by index, read back transposed.
                let (m, z) = (self.fresh("is"), self.fresh("is"));
                self.line(&format!("let mut {m} = Array2::<{f}>::zeros((2, 3));"));
                self.lines(&format!(
                    "for i in 0..2 {{\n    for j in 0..3 {{\n        \
                     {m}[[i, j]] = {a} * (j as {f}) * 0.25 + {b} * (i as {f});\n    }}\n}}"
                ));
                self.line(&format!(
                    "let mut {z}: Array2<{f}> = Array2::zeros((3, 2));"
                ));
                self.lines(&format!(
                    "for i in 0..3 {{\n    for j in 0..2 {{\n        \
                     {z}[[i, j]] = {m}[[j, i]] * {a} + {m}[[j, (i + 1) % 3]];\n    }}\n}}"
                ));
                self.line(&format!(
                    "let {t}: {f} = {z}.iter().map(|v| v.sin()).sum::<{f}>() + {m}.sum_axis(Axis(0)).sum() * 0.25;"
                ));
                6.0 + 6.0 * 1.5 * 0.25
            }
            _ => {
                // `match` on tuples of a float and an integer, and nested `if let`.
                let (o, k) = (self.fresh("is"), self.rng.range(2, 5));
                let c = lit(self.rng.range(-2, 2) as f64 * 0.25);
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!(
                    "let {o}: Option<{f}> = if {a} > {c} {{ Some({a} * {b}) }} else {{ None }};"
                ));
                self.lines(&format!(
                    "for i in 0..{k} {{\n    \
                     match ({a} * (i as {f}) * 0.25 + {b}, i % 3) {{\n        \
                     (v, 0) if v > 0.25 => {t} += v * {a},\n        \
                     (v, 1) => {t} += v.sin() * 0.5,\n        \
                     (v, _) => {t} -= v * {b} * 0.5,\n    }}\n    \
                     {t} += match ({b} > {a}, i % 2) {{\n        \
                     (true, 0) => {a} * 0.5,\n        \
                     (true, _) => {b} * 0.25,\n        \
                     (false, j) => {a} * (j as {f}) * 0.25,\n    }};\n    \
                     if let Some(v) = {o} {{\n        \
                     if let (w, 1..=2) = (v * 0.5 + {t} * 0.125, i) {{\n            \
                     {t} += w * 0.5;\n        }} else {{\n            \
                     {t} -= v * 0.25;\n        }}\n    }}\n}}"
                ));
                // Each trip adds at most 1.25 + 0.5 + (0.5 + |t| / 16).
                let mut s: f64 = 0.0;
                for _ in 0..k {
                    s = s * (1.0 + 1.0 / 16.0) + 1.25 + 0.5 + 0.5;
                }
                s
            }
        };
        self.declare(t, Kind::Float, false, bound);
        true
    }
}
