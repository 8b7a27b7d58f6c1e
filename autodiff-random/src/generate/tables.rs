//! Statement kinds for tables filled by index and for state kept in a struct that its own
//! methods update: dynamic-programming tables and matrices as `Vec<Vec<F>>` written in nested
//! loops (`table_dp`: a min-plus recurrence, a linear one, a matrix product, a symmetrized
//! matrix, a relaxation to a tolerance; inline or in a helper, concrete or generic over `T:
//! num_traits::Float`, returning a float or a pair the caller destructures), and an
//! accumulator struct whose `&mut self` methods call each other (`acc`).
//!
//! As in `state.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value; its names take prefixes
//! that no parameter has (`dd`, `pm`, `qm`, `gs`, `ac`).

use super::{FnGen, Kind, LIMIT, SeqKind, lit};
use crate::program::{Function, Param, ParamKind, Ret};

/// How the text of a table is written: for `f32`/`f64` (`0.5`, `(i as f64)`) or for a type
/// parameter `T: num_traits::Float` (`T::from(0.5).unwrap()`, `T::from(i).unwrap()`, no
/// compound assignment).
pub(super) struct Ty {
    pub(super) name: String,
    pub(super) generic: bool,
}

impl Ty {
    pub(super) fn c(&self, v: f64) -> String {
        if self.generic {
            format!("T::from({}).unwrap()", lit(v))
        } else {
            lit(v)
        }
    }

    pub(super) fn ix(&self, i: &str) -> String {
        if self.generic {
            format!("T::from({i}).unwrap()")
        } else {
            format!("({i} as {})", self.name)
        }
    }

    /// `x += e;` or, for `T`, `x = x + e;`.
    pub(super) fn add_to(&self, x: &str, e: &str) -> String {
        if self.generic {
            format!("{x} = {x} + {e};")
        } else {
            format!("{x} += {e};")
        }
    }

    /// The sum of the items of `it` (references to floats).
    pub(super) fn sum(&self, it: &str) -> String {
        if self.generic {
            format!("{it}.fold(T::zero(), |s, &v| s + v)")
        } else {
            format!("{it}.sum::<{}>()", self.name)
        }
    }

    /// The sum of `body` over the rows `r` of `it`.
    pub(super) fn sum_rows(&self, it: &str, body: &str) -> String {
        if self.generic {
            format!("{it}.map(|r| {body}).fold(T::zero(), |s, v| s + v)")
        } else {
            format!("{it}.map(|r| {body}).sum::<{}>()", self.name)
        }
    }
}

/// The lines of a table computed from `a` and `b` (each within 1) in a `Vec<Vec<F>>`, its
/// result in `out` (and a second value in `out2`), with a bound on each.
fn table_lines(
    rng: &mut crate::rng::Rng,
    ty: &Ty,
    a: &str,
    b: &str,
    tag: &str,
    out: &str,
    out2: &str,
) -> (String, f64) {
    let f = &ty.name;
    let c = |v: f64| ty.c(v);
    let n = rng.range(2, 4) as usize;
    let m = rng.range(2, 4) as usize;
    let (i, j, l) = (format!("i{tag}"), format!("j{tag}"), format!("l{tag}"));
    let (ii, jj) = (ty.ix(&i), ty.ix(&j));
    let mut s = String::new();
    let bound = match rng.below(5) {
        0 => {
            // Min-plus (a time warp): each step adds a cost in [0, 1].
            let d = format!("dd{tag}");
            let big = c(10.0);
            s += &format!("let mut {d}: Vec<Vec<{f}>> = vec![vec![{big}; {m} + 1]; {n} + 1];\n");
            s += &format!("{d}[0][0] = {};\n", c(0.0));
            s += &format!("for {i} in 1..={n} {{\n    for {j} in 1..={m} {{\n");
            s += &format!(
                "        let cost = ({a} * {ii} * {} - {b} * {jj} * {}).tanh();\n",
                c(0.5),
                c(0.25)
            );
            s += "        let cost = cost * cost;\n";
            s += &format!(
                "        {d}[{i}][{j}] = cost + {d}[{i} - 1][{j}].min({d}[{i}][{j} - 1]).min({d}[{i} - 1][{j} - 1]);\n"
            );
            s += "    }\n}\n";
            s += &format!("let {out} = {d}[{n}][{m}];\n");
            s += &format!("let {out2} = {d}[1][1] + {d}[{n}][1] * {};\n", c(0.5));
            (n + m) as f64
        }
        1 => {
            // A linear recurrence from the first row and column.
            let d = format!("dd{tag}");
            s += &format!(
                "let mut {d}: Vec<Vec<{f}>> = vec![vec![{}; {m} + 1]; {n} + 1];\n",
                c(0.0)
            );
            s += &format!(
                "for {j} in 0..={m} {{\n    {d}[0][{j}] = ({a} + {jj} * {b} * {}).sin();\n}}\n",
                c(0.5)
            );
            s += &format!(
                "for {i} in 1..={n} {{\n    {d}[{i}][0] = {b} * {};\n    for {j} in 1..={m} {{\n",
                c(0.5)
            );
            s += &format!(
                "        {d}[{i}][{j}] = ({a} * {ii}).cos() * {} + {} * {d}[{i} - 1][{j}] + {} * {d}[{i}][{j} - 1] + {} * {d}[{i} - 1][{j} - 1];\n",
                c(0.25),
                c(0.5),
                c(0.25),
                c(0.125)
            );
            s += "    }\n}\n";
            s += &format!(
                "let {out} = {d}[{n}][{m}] + {d}[{n} - 1][1] * {};\n",
                c(0.5)
            );
            s += &format!(
                "let {out2} = {};\n",
                ty.sum_rows(&format!("{d}.iter()"), &format!("r[{m}]"))
            );
            // Every element within 1 (`0.25 + 0.875·1`, below the fixed point 2).
            2.0 * (n + 1) as f64
        }
        2 | 3 => {
            // A matrix filled by index, perhaps symmetrized in place, then squared by a triple
            // loop into a second one.
            let (p, q) = (format!("pm{tag}"), format!("qm{tag}"));
            s += &format!(
                "let mut {p}: Vec<Vec<{f}>> = vec![vec![{}; {n}]; {n}];\n",
                c(0.0)
            );
            s += &format!(
                "for {i} in 0..{n} {{\n    for {j} in 0..{n} {{\n        {p}[{i}][{j}] = ({a} * {ii} - {b} * {jj} * {} + {}).sin();\n    }}\n}}\n",
                c(0.5),
                c(0.25)
            );
            if rng.chance(50) {
                s += &format!(
                    "for {i} in 0..{n} {{\n    for {j} in 0..{i} {{\n        let sy = {} * ({p}[{i}][{j}] + {p}[{j}][{i}]);\n        \
                     {p}[{i}][{j}] = sy;\n        {p}[{j}][{i}] = sy * {b};\n    }}\n}}\n",
                    c(0.5)
                );
            }
            if rng.chance(30) {
                s += &format!("{p}.swap(0, {n} - 1);\n");
            }
            s += &format!("let mut {q} = vec![vec![{}; {n}]; {n}];\n", c(0.0));
            let prod = format!("{p}[{i}][{l}] * {p}[{l}][{j}]");
            s += &format!(
                "for {i} in 0..{n} {{\n    for {j} in 0..{n} {{\n        for {l} in 0..{n} {{\n            {}\n        }}\n    }}\n}}\n",
                ty.add_to(&format!("{q}[{i}][{j}]"), &prod)
            );
            s += &format!(
                "let mut {out} = {};\nfor {i} in 0..{n} {{\n    {}\n}}\n",
                c(0.0),
                ty.add_to(out, &format!("{q}[{i}][{i}]"))
            );
            s += &format!(
                "let {out2} = {} + {q}[{n} - 1][0];\n",
                ty.sum(&format!("{q}[0].iter()"))
            );
            (n * n * n) as f64
        }
        _ => {
            // A relaxation to a tolerance: the first and last rows fixed, the rows between
            // replaced by the mean of their neighbours until the largest change is small.
            let g = format!("gs{tag}");
            let (it, dl) = (format!("it{tag}"), format!("dl{tag}"));
            let n = n + 1;
            s += &format!(
                "let mut {g}: Vec<Vec<{f}>> = vec![vec![{}; {m}]; {n}];\n",
                c(0.0)
            );
            s += &format!(
                "for {j} in 0..{m} {{\n    {g}[0][{j}] = ({a} + {jj} * {}).tanh();\n    {g}[{n} - 1][{j}] = {b} * {jj} * {};\n}}\n",
                c(0.5),
                c(0.25)
            );
            s += &format!("let mut {it} = 0;\nlet mut {dl}: {f} = {};\n", c(1.0));
            s += &format!(
                "while {dl} > {} && {it} < 8 {{\n    {dl} = {};\n    for {i} in 1..{n} - 1 {{\n        for {j} in 0..{m} {{\n",
                c(1e-3),
                c(0.0)
            );
            s += &format!(
                "            let nv = {} * ({g}[{i} - 1][{j}] + {g}[{i} + 1][{j}]);\n            \
                 {dl} = {dl}.max((nv - {g}[{i}][{j}]).abs());\n            {g}[{i}][{j}] = nv;\n",
                c(0.5)
            );
            s += &format!("        }}\n    }}\n    {it} += 1;\n}}\n");
            s += &format!("let {out} = {g}[1][0] + {g}[{n} - 2][{m} - 1] * {b};\n");
            s += &format!(
                "let {out2} = {};\n",
                ty.sum_rows(&format!("{g}.iter()"), &format!("r[0] * r[{m} - 1]"))
            );
            (n * 2) as f64
        }
    };
    (s, bound)
}

impl FnGen<'_> {
    /// Adds a helper function of two scalars `a` and `b`, written out in `source`.
    pub(super) fn push_helper_of_ab(&mut self, name: &str, ret: Ret, source: String) {
        let params = ["a", "b"]
            .iter()
            .map(|n| Param {
                name: n.to_string(),
                kind: ParamKind::Scalar,
                mutable: false,
                value: Vec::new(),
            })
            .collect();
        self.buffer_fns.push(Function {
            name: name.to_string(),
            params,
            ret,
            source,
        });
    }

    /// A table as a `Vec<Vec<F>>` written by index in nested loops (a min-plus or linear
    /// recurrence, a matrix squared by a triple loop, a relaxation to a tolerance), inline or
    /// in a helper of its own (concrete or generic over `T: num_traits::Float`, called with
    /// or without a turbofish) returning a float or a pair the caller destructures.
    pub(super) fn s_table_dp(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("t");
        let tag = {
            self.names += 1;
            self.names.to_string()
        };
        let bound = if self.rng.chance(55) {
            let ty = Ty {
                name: f.clone(),
                generic: false,
            };
            let t2 = format!("tq{tag}");
            let (text, bound) = table_lines(self.rng, &ty, &a, &b, &tag, &t, &t2);
            self.lines(&text);
            self.line(&format!("let {t} = {t} * 0.5 + {t2} * 0.25;"));
            bound
        } else {
            let generic = self.rng.chance(50);
            let pair = self.rng.chance(50);
            let name = format!("{}_dp{tag}", self.fn_tag);
            let ty = Ty {
                name: if generic { "T".into() } else { f.clone() },
                generic,
            };
            let (text, bound) = table_lines(self.rng, &ty, "a", "b", "", "r1", "r2");
            let t_ = &ty.name;
            let (ret, tail) = if pair {
                (format!("({t_}, {t_})"), "(r1, r2)".to_string())
            } else {
                (t_.clone(), format!("r1 + r2 * {}", ty.c(0.25)).to_string())
            };
            let head = if generic {
                if self.rng.chance(50) {
                    format!("fn {name}<T: num_traits::Float>(a: T, b: T) -> {ret} {{")
                } else {
                    format!(
                        "fn {name}<T>(a: T, b: T) -> {ret}\nwhere\n    T: num_traits::Float,\n{{"
                    )
                }
            } else {
                format!("fn {name}(a: {f}, b: {f}) -> {ret} {{")
            };
            let mut source = head + "\n";
            for l in text.lines() {
                source += "    ";
                source += l;
                source += "\n";
            }
            source += &format!("    {tail}\n}}\n");
            let ret = if pair { Ret::Pair } else { Ret::Scalar };
            self.push_helper_of_ab(&name, ret, source);
            let callee = if generic && self.rng.chance(50) {
                format!("{name}::<{f}>")
            } else {
                name
            };
            if pair {
                let (p, q) = (format!("dp{tag}"), format!("dq{tag}"));
                let pat = if self.rng.chance(50) {
                    format!("({p}, {q})")
                } else {
                    format!("(mut {p}, {q})")
                };
                self.line(&format!("let {pat} = {callee}({a}, {b});"));
                if pat.contains("mut") {
                    self.line(&format!("{p} = {p} * 0.5 + {q} * {b};"));
                }
                self.line(&format!("let {t} = {p} - {q} * 0.25;"));
            } else {
                self.line(&format!("let {t} = {callee}({a} * 0.5, {b}) + {a};"));
            }
            bound * 1.5 + 1.0
        };
        self.declare(t, Kind::Float, false, bound.min(LIMIT * 4.0));
        true
    }

    /// An accumulator struct `Acc { s, m }` (written before the functions, with a
    /// `#[differentiate]` impl block) whose `&mut self` methods call each other (`add` calls
    /// `decay`, `add_two` calls `add` twice, `relax` calls `decay` in a loop): built by a
    /// literal or `Acc::new`, stepped as statements, in loops over a range or a container,
    /// in a branch, in a `Vec<Acc>` through `iter_mut`, and read by `value(&self)`, a field,
    /// `Acc::value(&ac)` or `parts(&self) -> (F, F)` destructured.
    pub(super) fn s_acc(&mut self) -> bool {
        let f = self.f();
        let (a, b) = (self.unit_local(), self.unit_local());
        let ac = self.fresh("ac");
        let t = self.fresh("t");
        let i = self.fresh("i");
        let vec_form = self.rng.chance(20);
        if vec_form {
            let acs = self.fresh("acs");
            let q = self.fresh("aq");
            match self.rng.below(2) {
                0 => self.line(&format!(
                    "let mut {acs}: Vec<Acc> = vec![Acc::new({a}, {b}), Acc {{ s: {b} * 0.5, m: 0.25 }}];"
                )),
                _ => {
                    self.line(&format!("let mut {acs}: Vec<Acc> = Vec::new();"));
                    self.lines(&format!(
                        "for {i} in 0..3 {{\n    {acs}.push(Acc::new({a} * ({i} as {f}), {b}));\n}}"
                    ));
                }
            }
            let step = match self.rng.below(3) {
                0 => format!("{q}.add({b}, 0.5);"),
                1 => format!("{q}.add_two({a}, {b});"),
                _ => format!("{q}.relax(0.75, 2);"),
            };
            self.lines(&format!("for {q} in {acs}.iter_mut() {{\n    {step}\n}}"));
            if self.rng.chance(50) {
                self.line(&format!(
                    "let {t} = {acs}.iter().map(|q| q.value()).sum::<{f}>() * 0.25;"
                ));
            } else {
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.lines(&format!(
                    "for q in &{acs} {{\n    {t} += q.s * 0.25 + Acc::value(q) * 0.125;\n}}"
                ));
            }
            self.declare(t, Kind::Float, false, 8.0);
            return true;
        }
        match self.rng.below(4) {
            0 => self.line(&format!("let mut {ac} = Acc {{ s: 0.0, m: {a} }};")),
            1 => self.line(&format!("let mut {ac} = Acc {{ m: {b}, s: {a} * 0.5 }};")),
            2 => self.line(&format!("let mut {ac} = Acc::new({a}, {b});")),
            _ => self.line(&format!("let mut {ac}: Acc = Acc::new({b}, {a} * {b});")),
        }
        let seqs: Vec<_> = self
            .seqs_but_windows()
            .into_iter()
            .filter(|v| {
                matches!(v.kind, Kind::Seq { seq, .. } if seq != SeqKind::Window)
                    && v.bound <= LIMIT * 4.0
            })
            .collect();
        for _ in 0..self.rng.range(1, 4) {
            match self.rng.below(7) {
                0 => self.line(&format!("{ac}.add({a}, 0.5);")),
                1 => self.line(&format!("{ac}.add_two({b}, {a});")),
                2 => {
                    let n = self.rng.range(2, 4);
                    self.lines(&format!(
                        "for {i} in 0..{n} {{\n    {ac}.add(({a} * ({i} as {f}) + {b}).sin(), 0.75);\n}}"
                    ));
                }
                3 => match self.pick_of(&seqs) {
                    Some(v) => {
                        let e = self.fresh("e");
                        self.lines(&format!(
                            "for &{e} in {}.iter() {{\n    {ac}.add(({e} * {b}).tanh(), 0.5);\n}}",
                            v.name
                        ));
                    }
                    None => self.line(&format!("{ac}.relax(0.5, 2);")),
                },
                4 => self.line(&format!("{ac}.relax(0.75, 3);")),
                5 => self.line(&format!("{ac}.s += {a} * 0.25;")),
                _ => self.lines(&format!(
                    "if {ac}.m > 0.3 {{\n    {ac}.add({b}, 0.5);\n}} else {{\n    {ac}.decay(0.75);\n}}"
                )),
            }
        }
        match self.rng.below(4) {
            0 => self.line(&format!("let {t} = {ac}.value();")),
            1 => self.line(&format!("let {t} = Acc::value(&{ac}) + {ac}.m * 0.5;")),
            2 => {
                let (p, q) = (self.fresh("ap"), self.fresh("aq"));
                self.line(&format!("let ({p}, {q}) = {ac}.parts();"));
                self.line(&format!("let {t} = {p} + {q} * 0.5;"));
            }
            _ => self.line(&format!("let {t} = {ac}.s * {ac}.m;")),
        }
        self.declare(t, Kind::Float, false, 12.0);
        true
    }
}
