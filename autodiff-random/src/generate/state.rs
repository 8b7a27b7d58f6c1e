//! Statement kinds for state that programs carry in shapes of their own: grids of rows written
//! element by element (`grid`), a `V2` state advanced by an RK4 step (`rk4`), and the patterns
//! and small forms around them (`forms`: `let .. else`, a `loop`'s value, `mem::replace`,
//! `retain`, `split_first`, a `Vec` of pairs, struct update syntax and struct patterns, a
//! `static` table).
//!
//! Each statement first binds the differentiated values it works on, `let u: F = (e).tanh();`
//! (bound 1, declared for the statements after it), so that what it builds reads no variable
//! it might conflict with (a closure of `retain`, a row borrowed by `iter_mut`), then declares
//! one float with a bound on its value. Its names take prefixes that no parameter has (`kk`,
//! `st`, `rw`, not `k`, `s`, `r`): a `let k3` would shadow an integer parameter `k3` that the
//! statements after it still read as one.

use super::{FnGen, Kind, LIMIT};

impl FnGen<'_> {
    /// Each line of `text`, indented as [`FnGen::line`] does.
    pub(super) fn lines(&mut self, text: &str) {
        for l in text.lines() {
            self.line(l);
        }
    }

    /// `let u: F = e;` with `e` an expression of the function's values squashed to bound 1.
    pub(super) fn unit_local(&mut self) -> String {
        let f = self.f();
        let e = self.expr(2);
        let e = self.squash(e);
        let u = self.fresh("u");
        self.line(&format!("let {u}: {f} = {};", e.code));
        self.declare(u.clone(), Kind::Float, false, 1.0);
        u
    }

    /// A grid of `n` rows of two, built as `Vec<[F; 2]>` (`vec![[0.0; 2]; n]` or pushes),
    /// `Vec<Vec<F>>` (`vec![vec![0.0; 2]; n]` or pushed rows) or a local `[[F; 2]; N]`, written
    /// element by element at indices of `usize` arithmetic (`g[i - 1]`, `g[(i + 1) % n]`,
    /// `g[n - 1 - i]`), through `iter_mut` rows and by a row's `swap`, then read by index, by a
    /// row borrowed, by a `for` loop over the rows or a chain. Every element stays within 4.
    pub(super) fn s_grid(&mut self) -> bool {
        let f = self.f();
        let (a, b) = (self.unit_local(), self.unit_local());
        let n = self.rng.range(2, 4) as usize;
        let g = self.fresh("g");
        let i = self.fresh("i");
        let nn = if self.rng.chance(50) {
            n.to_string()
        } else {
            format!("{g}.len()")
        };
        // Built, then filled: every element `a·i·0.5 + b` (≤ 2), then `tanh` of it.
        let fill = |s: &mut Self, g: &str| {
            s.line(&format!("for {i} in 0..{nn} {{"));
            s.line(&format!(
                "    {g}[{i}][0] = {a} * ({i} as {f}) * 0.5 + {b};"
            ));
            s.line(&format!("    {g}[{i}][1] = ({g}[{i}][0] * {a}).tanh();"));
            s.line("}");
        };
        match self.rng.below(5) {
            0 => {
                self.line(&format!(
                    "let mut {g}: Vec<[{f}; 2]> = vec![[0.0; 2]; {n}];"
                ));
                fill(self, &g);
            }
            1 => {
                self.line(&format!(
                    "let mut {g}: Vec<Vec<{f}>> = vec![vec![0.0; 2]; {n}];"
                ));
                fill(self, &g);
            }
            2 => {
                self.line(&format!("let mut {g} = [[0.0 as {f}; 2]; {n}];"));
                fill(self, &g);
            }
            3 => {
                self.line(&format!("let mut {g}: Vec<[{f}; 2]> = Vec::new();"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    {g}.push([{a} * ({i} as {f}) * 0.5 + {b}, ({b} - {a}).sin()]);"
                ));
                self.line("}");
            }
            _ => {
                self.line(&format!("let mut {g}: Vec<Vec<{f}>> = Vec::new();"));
                for k in 0..n {
                    let row = if self.rng.chance(50) {
                        format!("vec![{a} * {k}.5, {b}]")
                    } else {
                        format!("vec![({a} + {b}).tanh(), {b} * {a} + 0.{k}]")
                    };
                    self.line(&format!("{g}.push({row});"));
                }
            }
        }
        // Updates: each keeps the elements within 4 (`0.5·old + tanh`, `old ± 0.5·old'`
        // where the read element is at most 2 after a `tanh`).
        for _ in 0..self.rng.range(1, 3) {
            match self.rng.below(6) {
                0 => {
                    let r = self.fresh("row");
                    let (src, dst) = if self.rng.chance(50) { (0, 1) } else { (1, 0) };
                    let head = if self.rng.chance(50) {
                        format!("for {r} in {g}.iter_mut() {{")
                    } else {
                        format!("for {r} in &mut {g} {{")
                    };
                    self.line(&head);
                    self.line(&format!(
                        "    {r}[{dst}] = {r}[{dst}] * 0.5 + ({r}[{src}] * {b}).tanh();"
                    ));
                    self.line("}");
                }
                1 => {
                    self.line(&format!("for {i} in 1..{nn} {{"));
                    self.line(&format!(
                        "    {g}[{i}][0] = {g}[{i}][0] * 0.5 + ({g}[{i} - 1][1] * {a}).sin();"
                    ));
                    self.line("}");
                }
                2 => {
                    let k = self.rng.below(n);
                    self.line(&format!("{g}[{k}].swap(0, 1);"));
                }
                3 => {
                    let j = self.fresh("j");
                    self.lines(&format!(
                        "for {i} in 0..{nn} {{\n    let {j} = ({i} + 1) % {n};\n    \
                         {g}[{i}][1] = 0.5 * {g}[{i}][1] + ({g}[{j}][0] * {b}).tanh();\n}}"
                    ));
                }
                4 => {
                    let j = self.fresh("j");
                    self.lines(&format!(
                        "for {i} in 0..{n} {{\n    for {j} in 0..2 {{\n        \
                         {g}[{n} - 1 - {i}][{j}] *= 0.5 + 0.25 * ({a} * ({j} as {f})).cos();\n    }}\n}}"
                    ));
                }
                _ => {
                    let k = self.rng.below(n);
                    self.line(&format!(
                        "{g}[{k}][1] -= 0.5 * ({g}[{}][0]).tanh();",
                        n - 1 - k
                    ));
                }
            }
        }
        let t = self.fresh("t");
        let bound = match self.rng.below(5) {
            0 => {
                let r = self.fresh("rw");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                let head = if self.rng.chance(50) {
                    format!("for {r} in &{g} {{")
                } else {
                    format!("for {r} in {g}.iter() {{")
                };
                self.line(&head);
                self.line(&format!("    {t} += {r}[0] * {r}[1] * 0.25;"));
                self.line("}");
                4.0 * n as f64
            }
            1 => {
                let r = self.fresh("rw");
                self.line(&format!(
                    "let {t} = {g}.iter().map(|{r}| {r}[0] - 0.5 * {r}[1]).sum::<{f}>();"
                ));
                6.0 * n as f64
            }
            2 => {
                let r = self.fresh("row");
                let k = self.rng.below(n);
                self.line(&format!("let {r} = &{g}[{k}];"));
                self.line(&format!("let {t} = {r}[0] * {r}[1] + {r}[1];"));
                20.0
            }
            3 => {
                let r = self.fresh("rw");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for ({i}, {r}) in {g}.iter().enumerate() {{"));
                self.line(&format!(
                    "    {t} += {r}[{i} % 2] * (({i} + 1) as {f}) * 0.25;"
                ));
                self.line("}");
                4.0 * n as f64
            }
            _ => {
                let (k, l) = (self.rng.below(n), self.rng.below(2));
                self.line(&format!(
                    "let {t} = {g}[{k}][{l}] * {g}[{}][{}];",
                    n - 1 - k,
                    1 - l
                ));
                16.0
            }
        };
        self.declare(t, Kind::Float, false, bound.min(LIMIT * 4.0));
        true
    }

    /// A `V2` state advanced by an RK4 step a few times: the struct's method `s.rk4(h, k)`
    /// (which calls its method `rate` on `self` and on operator results) or the free
    /// `v2_rk4(s, h, k)` (which calls `v2_rate`), in a `for` loop, a `while` loop over a time,
    /// with a trajectory pushed to a `Vec<V2>`, or once into a local with its type written,
    /// then read by fields and methods. The oscillator's stiffness `k` is in [0.5, 1.5] and
    /// `h` at most 0.2, so the state stays within a few units.
    pub(super) fn s_rk4(&mut self) -> bool {
        let f = self.f();
        let (a, b) = (self.unit_local(), self.unit_local());
        let k = self.fresh("kk");
        self.line(&format!("let {k}: {f} = 1.0 + 0.5 * {a} * {b};"));
        let s = self.fresh("st");
        let init = match self.rng.below(3) {
            0 => format!("V2::new({a}, {b})"),
            1 => format!("V2 {{ x: {a}, y: 0.5 }}"),
            _ => format!("V2 {{ y: {b}, x: 0.25 + {a} }}"),
        };
        self.line(&format!("let mut {s} = {init};"));
        let h = *self.rng.pick(&["0.05", "0.1", "0.2"]);
        let n = self.rng.range(1, 4);
        let step = if self.rng.chance(50) {
            format!("{s}.rk4({h}, {k})")
        } else {
            format!("v2_rk4({s}, {h}, {k})")
        };
        let t = self.fresh("t");
        match self.rng.below(4) {
            0 => {
                self.line(&format!("for _ in 0..{n} {{"));
                self.line(&format!("    {s} = {step};"));
                self.line("}");
            }
            1 => {
                let tm = self.fresh("tm");
                self.line(&format!("let mut {tm}: {f} = 0.0;"));
                self.line(&format!("while {tm} < {h} * {}.5 {{", n - 1));
                self.line(&format!("    {s} = {step};"));
                self.line(&format!("    {tm} += {h};"));
                self.line("}");
            }
            2 => {
                let tr = self.fresh("traj");
                let q = self.fresh("q");
                self.line(&format!("let mut {tr}: Vec<V2> = Vec::new();"));
                self.line(&format!("for _ in 0..{n} {{"));
                self.line(&format!("    {s} = {step};"));
                self.line(&format!("    {tr}.push({s});"));
                self.line("}");
                let read = if self.rng.chance(50) {
                    format!("{tr}.iter().map(|{q}| {q}.size()).sum::<{f}>()")
                } else {
                    format!("({tr}[{tr}.len() - 1] - {tr}[0]).size()")
                };
                self.line(&format!("let {t} = {read} * 0.25;"));
                self.declare(t, Kind::Float, false, 4.0);
                return true;
            }
            _ => {
                let s2 = self.fresh("st");
                self.line(&format!("let {s2}: V2 = v2_rk4({s}, {h}, {k});"));
                self.line(&format!("{s} = {s2} * 0.5 + {s};"));
            }
        }
        let read = match self.rng.below(4) {
            0 => format!("{s}.x * 0.5 + {s}.energy()"),
            1 => format!("{s}.size() - {s}.y"),
            2 => format!("V2::size(&{s}) * {a}"),
            _ => format!("{s}.dot(&V2::new({b}, 1.0))"),
        };
        self.line(&format!("let {t} = {read};"));
        self.declare(t, Kind::Float, false, 8.0);
        true
    }

    /// One of the small forms of the subset: `let .. else` (with `continue` in a loop, or
    /// `break` in a `loop` whose value is bound), a `loop`'s value, `std::mem::replace` of a
    /// local `Vec`, `retain` by a threshold, `split_first`/`split_last` of a container, a
    /// `Vec<(F, F)>` written by position and read by a pattern, struct update syntax and a
    /// struct pattern of `Pt`, and a `static` table.
    pub(super) fn s_forms(&mut self) -> bool {
        let f = self.f();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("t");
        let seqs = self.seqs_but_windows();
        let bound = match self.rng.below(8) {
            0 => {
                // `let .. else` inside a `for` loop: `get` past the end ends the trip.
                let v = self.fresh("w");
                let (i, q) = (self.fresh("i"), self.fresh("q"));
                self.lines(&format!(
                    "let {v} = vec![{a}, {b} * {a}, 0.5];\nlet mut {t}: {f} = 0.0;\nfor {i} in 0..5 {{"
                ));
                let pat = self.either(
                    format!("let Some(&{q}) = {v}.get({i}) else {{"),
                    format!("let Some({q}) = {v}.get({i}).copied() else {{"),
                );
                self.lines(&format!(
                    "    {pat}\n        continue;\n    }};\n    {t} += {q} * ({i} as {f} + {b});\n}}"
                ));
                12.0
            }
            1 => {
                // A `loop`'s value by `break v`, the `let .. else` breaking with a default.
                let (c, q) = (self.fresh("c"), self.fresh("q"));
                self.line(&format!("let mut {c}: usize = 0;"));
                let src = match self.pick_of(&seqs) {
                    Some(s) => s.name,
                    None => {
                        let w = self.fresh("w");
                        self.line(&format!("let {w} = [{a}, {b}];"));
                        w
                    }
                };
                self.lines(&format!(
                    "let {t}: {f} = loop {{\n    let Some(&{q}) = {src}.get({c}) else {{\n        \
                     break {a} * 0.5;\n    }};\n    if {q} > {b} || {c} >= 2 {{\n        \
                     break ({q} * {a}).tanh() + {c} as {f};\n    }}\n    {c} += 1;\n}};"
                ));
                4.0
            }
            2 => {
                let (v, old) = (self.fresh("w"), self.fresh("old"));
                self.line(&format!("let mut {v} = vec![{a}, {b}];"));
                self.line(&format!(
                    "let {old} = std::mem::replace(&mut {v}, vec![{b} * {a}, {a}.sin(), 0.5]);"
                ));
                self.line(&format!(
                    "let {t} = {old}[0] * {v}[2] + {old}[1] * {v}[0] - {v}[{v}.len() - 1];"
                ));
                3.0
            }
            3 => {
                let (v, q) = (self.fresh("w"), self.fresh("q"));
                self.line(&format!(
                    "let mut {v} = vec![{a}, -{b}, {a} * {b}, {b}.cos() - 0.5];"
                ));
                let keep = self.either(format!("|&{q}| {q} > 0.1"), format!("|{q}| *{q} < 0.3"));
                self.line(&format!("{v}.retain({keep});"));
                self.line(&format!(
                    "let {t} = {v}.iter().sum::<{f}>() + {v}.len() as {f} * 0.25;"
                ));
                5.0
            }
            4 if !seqs.is_empty() => {
                // Containers of the function: `lo` may be 0 for a local, so `else` covers it.
                let s = self.pick_of(&seqs).expect("a container");
                let (first, rest) = (self.fresh("first"), self.fresh("rest"));
                let len = match s.kind {
                    Kind::Seq { hi, .. } => hi as f64,
                    _ => unreachable!("a container"),
                };
                self.line(&format!("let mut {t}: {f} = {a};"));
                if self.rng.chance(50) {
                    self.line(&format!(
                        "if let Some(({first}, {rest})) = {}.split_first() {{",
                        s.name
                    ));
                } else {
                    self.line(&format!(
                        "if let Some((&{first}, {rest})) = {}.split_last() {{",
                        s.name
                    ));
                }
                let lead = if self.rng.chance(50) {
                    format!("{first}.sin()")
                } else {
                    format!("({first} * {b}).tanh()")
                };
                self.line(&format!(
                    "    {t} = {lead} + {rest}.len() as {f} * 0.5 + {rest}.iter().map(|q| q.tanh()).sum::<{f}>();"
                ));
                self.line("} else {");
                self.line(&format!("    {t} = {b};"));
                self.line("}");
                // |lead| ≤ 1, then half a unit and a `tanh` per element of the rest.
                1.0 + 1.5 * len
            }
            5 => {
                let (ps, p, q) = (self.fresh("ps"), self.fresh("p"), self.fresh("q"));
                self.line(&format!(
                    "let mut {ps}: Vec<({f}, {f})> = vec![({a}, {b}), ({b} * {a}, 0.5)];"
                ));
                self.line(&format!("{ps}[1].0 *= {a};"));
                self.line(&format!("{ps}.push(({a}.sin(), {b}));"));
                let e = self.fresh("e");
                self.line(&format!("for {e} in {ps}.iter_mut() {{"));
                self.line(&format!("    {e}.1 = {e}.1 * 0.5 + {e}.0;"));
                self.line("}");
                self.line(&format!("let mut {t}: {f} = 0.0;"));
                self.line(&format!("for &({p}, {q}) in &{ps} {{"));
                self.line(&format!("    {t} += {p} * {q};"));
                self.line("}");
                6.0
            }
            6 => {
                let (p, q, u, w) = (
                    self.fresh("p"),
                    self.fresh("p"),
                    self.fresh("u"),
                    self.fresh("u"),
                );
                self.line(&format!("let {p} = Pt {{ a: {a}, b: {b} * {a} }};"));
                let upd = self.either(
                    format!("Pt {{ b: {b}.sin(), ..{p}.clone() }}"),
                    format!("Pt {{ a: {a} - {b}, ..{p}.clone() }}"),
                );
                self.line(&format!("let {q} = {upd};"));
                if self.rng.chance(50) {
                    self.line(&format!("let Pt {{ a: {u}, b: {w} }} = {q};"));
                } else {
                    self.line(&format!("let Pt {{ b: {w}, a: {u} }} = {q};"));
                }
                self.line(&format!("let {t} = {u} * {w} + {p}.b + {p}.norm();"));
                6.0
            }
            _ => {
                let i = self.fresh("i");
                if self.rng.chance(50) {
                    self.line(&format!("let mut {t}: {f} = 0.0;"));
                    self.line(&format!("for {i} in 0..WEIGHTS.len() {{"));
                    self.line(&format!(
                        "    {t} += WEIGHTS[{i}] * {a}.powi({i} as i32 + 1) + {b} * WEIGHTS[2 - {i}];"
                    ));
                    self.line("}");
                } else {
                    let q = self.fresh("q");
                    self.line(&format!(
                        "let {t} = WEIGHTS.iter().map(|{q}| {q} * {a} + {b}).sum::<{f}>();"
                    ));
                }
                6.0
            }
        };
        self.declare(t, Kind::Float, false, bound);
        true
    }
}
