//! Statement kinds for the integer and bookkeeping state that programs carry beside their
//! floats, and for the ndarray code that works a matrix row by row:
//!
//! - `int_bits`: integer locals made from the function's integers and read with integers' own
//!   methods (`max`, `clamp`, `rem_euclid`, `wrapping_add`, `count_ones`), bit operations and
//!   their compound assignments (`m <<= 1`, `m ^= 1 << q`, `m & 6`), a float cast to an index
//!   (`(u.abs() * 3.0).floor() as usize % xs.len()`), and `powi`/`powf` with exponents cast
//!   from those integers, 0 included;
//! - `late_init`: variables declared without a value and assigned by the branches, arms or
//!   loop after them (`let mut prev;`, `let r; match (k % 3, c) { .. }`), candidates folded by
//!   `max` from `NEG_INFINITY` with an arm that is `NEG_INFINITY` and so never the maximum, and
//!   a loop over named weights `&[(String, F)]`;
//! - `nd_rows`: a matrix filled by element writes, then `select(Axis(0), &ids)`, `Zip` over
//!   its rows, `for row in m.rows()`, `diag()`, `sum_axis`/`mean_axis` and `slice(s![..])`.
//!
//! - `settings`: a local parameter struct `Cfg` with integer fields and an enum of settings
//!   marked `#[differentiable(data)]`, built from differentiated values and integers, passed to
//!   `cfg_apply(&Cfg, x)` (which reads the integers with their own methods and matches the enum)
//!   and matched in the function too.
//!
//! As in `state.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value. Integers stay in small
//! ranges that the text fixes whatever the values it starts from.

use super::{FnGen, Kind, LIMIT};

impl FnGen<'_> {
    /// Declares the float local `t` of magnitude bound `bound`, squashed first where the bound
    /// passes [`LIMIT`] (`t = (t · 0.1).tanh() · 4`, bound 4).
    pub(super) fn declare_tamed(&mut self, t: String, bound: f64) {
        let bound = if bound > LIMIT {
            self.line(&format!("let {t} = ({t} * 0.1).tanh() * 4.0;"));
            4.0
        } else {
            bound
        };
        self.declare(t, Kind::Float, false, bound);
    }

    /// An integer of the function (or a literal), as an `i64` expression.
    pub(super) fn some_int(&mut self) -> String {
        let ints: Vec<String> = self.ints().into_iter().map(|v| v.name).collect();
        if !ints.is_empty() && self.rng.chance(75) {
            format!("({} as i64)", self.rng.pick(&ints))
        } else {
            // Parenthesized: `-2i64.rem_euclid(5)` is `-(2i64.rem_euclid(5))`.
            format!("({}i64)", self.rng.range(-3, 9))
        }
    }

    /// Integer state beside floats: bit masks, integer methods, a float cast to an index, and
    /// powers with exponents cast from integers.
    pub(super) fn s_int_bits(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let k = self.some_int();
        let m = self.fresh("bm");
        // 0..=7, then shifted and toggled: below 16 whatever `k` is.
        self.line(&format!("let mut {m}: u32 = {k}.rem_euclid(8) as u32;"));
        self.line(&format!("{m} <<= 1;"));
        let q = self.rng.range(0, 4);
        match self.rng.below(3) {
            0 => self.line(&format!("{m} ^= 1 << {q};")),
            1 => self.line(&format!("{m} |= 1 << {q};")),
            _ => self.line(&format!("{m} &= !(1u32 << {q});")),
        }
        if self.rng.chance(40) {
            self.line(&format!("{m} >>= 1;"));
        }
        // Integers read off the mask, each in a range fixed by the text.
        let c = self.fresh("bc");
        self.line(&format!("let {c} = {m}.count_ones();")); // 0..=4
        let e = self.fresh("be");
        match self.rng.below(4) {
            0 => self.line(&format!("let {e} = ({m} as i32).clamp(0, 3);")),
            1 => self.line(&format!("let {e} = (({m} & 6) >> 1) as i32;")),
            2 => self.line(&format!("let {e} = ({m}.wrapping_add(3) % 4) as i32;")),
            _ => self.line(&format!("let {e} = ({c} as i32).min(3);")),
        } // 0..=3
        let n = self.fresh("bn");
        self.line(&format!("let {n} = ({m} as usize).max(1);")); // 1..=15
        let mut terms: Vec<(String, f64)> = Vec::new();
        // A power with an integer exponent, perhaps 0.
        match self.rng.below(4) {
            0 => terms.push((format!("{a}.powi({e})"), 1.0)),
            1 => terms.push((format!("{a}.powf({e} as {f})"), 1.0)),
            2 => terms.push((format!("({b} * {b} + 0.5).powf({e} as {f}) * 0.25"), 0.85)),
            _ => terms.push((format!("({a} * 0.5 + {b}).powi({c} as i32) * 0.125"), 0.11)),
        }
        // A loop over the mask's bits.
        if self.rng.chance(60) {
            let (acc, i, w) = (self.fresh("ba"), self.fresh("i"), self.fresh("bw"));
            let trips = self.rng.range(2, 5);
            self.line(&format!("let mut {acc}: {f} = 0.0;"));
            self.line(&format!("let mut {w} = {m};"));
            self.line(&format!("for {i} in 0..{trips}u32 {{"));
            match self.rng.below(3) {
                0 => {
                    self.line(&format!("    if {w} & 1 == 1 {{"));
                    self.line(&format!("        {acc} += {a} * ({i} as {f}) * 0.25;"));
                    self.line("    } else {");
                    self.line(&format!("        {acc} -= {b} * 0.25;"));
                    self.line("    }");
                    self.line(&format!("    {w} >>= 1;"));
                }
                1 => {
                    self.line(&format!("    {w} ^= 1 << ({i} % 3);"));
                    self.line(&format!(
                        "    {acc} += ({a} * ({w}.count_ones() as {f}) * 0.5 + {b}).tanh() * 0.25;"
                    ));
                }
                _ => {
                    self.line(&format!(
                        "    let {n}b = ({w}.wrapping_add({i}) & 3) as usize;"
                    ));
                    self.line(&format!(
                        "    {acc} += ({a} + {b} * ({n}b as {f})).sin() * 0.25;"
                    ));
                    self.line(&format!("    {w} = {w}.rotate_left(1) & 15;"));
                }
            }
            self.line("}");
            terms.push((acc, trips as f64 * 0.75));
        }
        // A float cast to an index.
        let seqs = self.seqs_of_at_least(1);
        if let Some(s) = self.pick_of(&seqs) {
            let ix = self.fresh("bi");
            let u = if self.rng.chance(50) { &a } else { &b };
            match self.rng.below(3) {
                0 => self.line(&format!(
                    "let {ix} = ({u}.abs() * 3.0).floor() as usize % {}.len();",
                    s.name
                )),
                1 => self.line(&format!(
                    "let {ix} = (({u} + 1.0) * 2.0) as usize % {n} % {}.len();",
                    s.name
                )),
                _ => self.line(&format!(
                    "let {ix} = (({u}.abs() * 3.0).floor() as usize).wrapping_add({n}) % {}.len();",
                    s.name
                )),
            }
            terms.push((format!("{}[{ix}] * {a} * 0.5", s.name), s.bound * 0.5));
        } else {
            terms.push((format!("({n} as {f}) * {b} * 0.125"), 15.0 * 0.125));
        }
        let t = self.fresh("bt");
        let code: Vec<&str> = terms.iter().map(|(c, _)| c.as_str()).collect();
        let bound: f64 = terms.iter().map(|(_, b)| b).sum();
        self.line(&format!("let {t}: {f} = {};", code.join(" + ")));
        self.declare_tamed(t, bound);
        true
    }

    /// Variables declared without a value, assigned after; candidates folded by `max` from
    /// `NEG_INFINITY`; a loop over named weights.
    pub(super) fn s_late_init(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("lt");
        let bound = match self.rng.below(5) {
            0 => {
                // `let mut prev;` before a loop that reads and assigns it.
                let (p, acc, i, cur) = (
                    self.fresh("lp"),
                    self.fresh("la"),
                    self.fresh("i"),
                    self.fresh("lc"),
                );
                let n = self.rng.range(2, 5);
                self.line(&format!("let mut {p};"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("{p} = {a};"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    let {cur} = ({p} * 0.5 + {b} * ({i} as {f}) * 0.25).sin();"
                ));
                self.line(&format!("    {acc} += ({cur} - {p}) * 0.5;"));
                self.line(&format!("    {p} = {cur};"));
                self.line("}");
                self.line(&format!("let {t} = {acc} + {p};"));
                n as f64 + 1.0
            }
            1 => {
                // `let r;` assigned in every arm of a `match` on an integer and a bool.
                let k = self.some_int();
                let z = self.fresh("lz");
                self.line(&format!("let {t};"));
                self.line(&format!("match ({k}.rem_euclid(3), {a} > {b}) {{"));
                self.line(&format!("    (0, true) => {t} = {a} * {b},"));
                self.line(&format!(
                    "    (0, false) => {{\n        let {z} = {a} - {b};\n        {t} = {z} * 0.5;\n    }}"
                ));
                self.line(&format!("    (1, _) => {t} = ({a} + {b}).tanh(),"));
                self.line(&format!(
                    "    (_, cq) => {{\n        {t} = if cq {{ {b} }} else {{ -{a} }};\n    }}"
                ));
                self.line("}");
                1.0
            }
            2 => {
                // `let r;` assigned in both branches, one of them nested.
                let c = self.float_cond();
                self.line(&format!("let {t};"));
                self.line(&format!("if {c} {{"));
                self.line(&format!("    if {a} < 0.25 {{"));
                self.line(&format!("        {t} = {a} * {b} + 0.5;"));
                self.line("    } else {");
                self.line(&format!("        {t} = {b}.powi(2);"));
                self.line("    }");
                self.line("} else {");
                self.line(&format!("    {t} = ({a} - {b}) * 0.5;"));
                self.line("}");
                1.5
            }
            3 => {
                // Candidates from `if`/`match` arms folded by `max` from `NEG_INFINITY`.
                let (best, i, cand) = (self.fresh("lb"), self.fresh("i"), self.fresh("lc"));
                let n = self.rng.range(2, 5);
                self.line(&format!("let mut {best} = {f}::NEG_INFINITY;"));
                self.line(&format!("for {i} in 0..{n}usize {{"));
                if self.rng.chance(50) {
                    self.line(&format!("    let {cand} = match ({i}, {a} > 0.0) {{"));
                    self.line(&format!("        (0, _) => {a} * 0.5 + {b},"));
                    self.line(&format!("        (1, true) => {f}::NEG_INFINITY,"));
                    self.line(&format!("        (1, false) => ({b} * 2.0).sin(),"));
                    self.line(&format!("        _ => {a} * ({i} as {f}) * 0.25 - {b},"));
                    self.line("    };");
                } else {
                    self.line(&format!("    let {cand} = if {i} % 2 == 1 {{"));
                    self.line(&format!("        {f}::NEG_INFINITY"));
                    self.line("    } else {");
                    self.line(&format!("        ({a} * ({i} as {f}) + {b}).tanh()"));
                    self.line("    };");
                }
                if self.rng.chance(50) {
                    self.line(&format!("    {best} = {best}.max({cand});"));
                } else {
                    self.line(&format!("    {best} = {f}::max({best}, {cand});"));
                }
                self.line("}");
                self.line(&format!("let {t} = {best};"));
                1.5 + n as f64 * 0.25
            }
            _ => {
                // A loop over named weights.
                let (named, view, tot, name, w) = (
                    self.fresh("ln"),
                    self.fresh("lv"),
                    self.fresh("ls"),
                    self.fresh("nm"),
                    self.fresh("lw"),
                );
                // Data: a `Vec` of strings and floats has no tangent (a `String` is not
                // differentiable), so the weights are constants and the values they weigh
                // are differentiated.
                self.line(&format!(
                    "let {named}: Vec<(String, {f})> = vec![(\"w0\".to_string(), 0.5), (\"b1\".to_string(), -0.25), (String::from(\"w2\"), 0.75)];"
                ));
                self.line(&format!("let {view}: &[(String, {f})] = &{named};"));
                self.line(&format!("let mut {tot}: {f} = 0.0;"));
                if self.rng.chance(50) {
                    self.line(&format!("for ({name}, {w}) in {view} {{"));
                } else {
                    self.line(&format!("for ({name}, {w}) in {view}.iter() {{"));
                }
                self.line(&format!("    if {name}.starts_with('w') {{"));
                self.line(&format!("        {tot} += *{w} * {a} * 2.0;"));
                self.line(&format!("    }} else if {name}.len() == 2 {{"));
                self.line(&format!("        {tot} += ({w} * {b}).tanh();"));
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {tot};"));
                3.5
            }
        };
        self.declare(t, Kind::Float, false, bound);
        true
    }

    /// A matrix filled by element writes, worked row by row.
    pub(super) fn s_nd_rows(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let tag = {
            self.names += 1;
            self.names.to_string()
        };
        let m = format!("rm{tag}");
        let (i, j) = (format!("i{tag}"), format!("j{tag}"));
        let r = self.rng.range(2, 4) as usize;
        let c = if self.rng.chance(30) {
            r
        } else {
            self.rng.range(2, 4) as usize
        };
        self.line(&format!(
            "let mut {m}: Array2<{f}> = Array2::zeros(({r}, {c}));"
        ));
        self.lines(&format!(
            "for {i} in 0..{r} {{\n    for {j} in 0..{c} {{\n        {m}[[{i}, {j}]] = ({a} * ({i} as {f}) * 0.5 + {b} * ({j} as {f} + 1.0) * 0.5).tanh();\n    }}\n}}"
        ));
        // Every element within 1.
        let t = format!("rt{tag}");
        let bound = match self.rng.below(7) {
            0 => {
                let ids: Vec<String> = (0..self.rng.range(1, 4))
                    .map(|_| self.rng.below(r).to_string())
                    .collect();
                let n = ids.len();
                let sel = format!("rs{tag}");
                if self.rng.chance(50) {
                    self.line(&format!(
                        "let {sel} = {m}.select(Axis(0), &[{}]);",
                        ids.join(", ")
                    ));
                } else {
                    self.line(&format!(
                        "let ids{tag}: Vec<usize> = vec![{}];",
                        ids.join(", ")
                    ));
                    self.line(&format!("let {sel} = {m}.select(Axis(0), &ids{tag});"));
                }
                self.line(&format!("let {t} = {sel}.sum() * {a} * 0.25;"));
                (n * c) as f64 * 0.25
            }
            1 => {
                let out = format!("ro{tag}");
                self.line(&format!("let mut {out}: Array1<{f}> = Array1::zeros({r});"));
                let body = match self.rng.below(3) {
                    0 => format!("*o = row.sum() * 0.5 + row[0] * {b}"),
                    1 => format!("*o = row.dot(&row) * 0.25 + {a}"),
                    _ => format!(
                        "*o = row[{}] * {a} - row.mapv(|v| v * v).sum() * 0.125",
                        c - 1
                    ),
                };
                self.line(&format!(
                    "ndarray::Zip::from(&mut {out}).and({m}.rows()).for_each(|o, row| {body});"
                ));
                self.line(&format!("let {t} = {out}.sum() / {r} as {f};"));
                c as f64 * 0.5 + 1.0
            }
            2 => {
                let acc = format!("ra{tag}");
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for row in {m}.rows() {{"));
                self.line(&format!(
                    "    {acc} += row[0] * row[{}] + row.sum() * {b} * 0.25;",
                    c - 1
                ));
                self.line("}");
                self.line(&format!("let {t} = {acc} * 0.5;"));
                r as f64 * (1.0 + c as f64 * 0.25) * 0.5
            }
            3 if r == c => {
                self.line(&format!(
                    "let {t} = {m}.diag().sum() * 0.5 + {m}.diag()[{}] * {a};",
                    r - 1
                ));
                r as f64 * 0.5 + 1.0
            }
            4 => {
                let s = format!("rx{tag}");
                if self.rng.chance(50) {
                    self.line(&format!("let {s} = {m}.sum_axis(Axis(0));"));
                    self.line(&format!("let {t} = {s}.dot(&{s}) * 0.125 + {s}[0] * {b};"));
                    (c * r * r) as f64 * 0.125 + r as f64
                } else {
                    self.line(&format!("let {s} = {m}.mean_axis(Axis(1)).unwrap();"));
                    self.line(&format!("let {t} = {s}.sum() * {a} + {s}[{}];", r - 1));
                    r as f64 + 1.0
                }
            }
            5 => {
                match self.rng.below(3) {
                    0 => self.line(&format!(
                        "let {t} = {m}.slice(s![.., 0]).sum() * {b} + {m}.slice(s![1.., ..]).sum() * 0.25;"
                    )),
                    // Not `dot` of two slices: their dimension is not known where the method
                    // is looked up, and ndarray's `dot`s are then ambiguous (E0034).
                    1 => self.line(&format!(
                        "let {t} = {m}.slice(s![0, ..]).sum() * {m}.slice(s![{}, ..]).mapv(|v| v * v).sum() * 0.125;",
                        r - 1
                    )),
                    _ => self.line(&format!(
                        "let {t} = {m}.slice(s![..;2, 1..]).mapv(|v| v.sin()).sum() * 0.5;"
                    )),
                }
                (r * c) as f64 * 0.5
            }
            _ => {
                // A row-wise softmax-like weighting by a loop over rows.
                let acc = format!("ra{tag}");
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!(
                    "for (k, row) in {m}.rows().into_iter().enumerate() {{"
                ));
                self.line(&format!("    let z = row.mapv(|v| (v * {a}).exp()).sum();"));
                self.line(&format!("    {acc} += z.ln() * (k as {f} + 1.0) * 0.25;"));
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                // ln(c·e) ≤ ln c + 1.
                ((c as f64).ln() + 1.0) * (r * (r + 1)) as f64 * 0.125
            }
        };
        self.declare_tamed(t, bound);
        true
    }

    /// A `Cfg` built, applied and matched.
    pub(super) fn s_settings(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let k = self.some_int();
        let act = match self.rng.below(4) {
            0 => "Act::Tanh".to_string(),
            1 => "Act::Soft(1.5)".to_string(),
            2 => "Act::Soft(0.5)".to_string(),
            _ => "Act::Clip { lo: -0.25 }".to_string(),
        };
        let cf = self.fresh("cf");
        let t = self.fresh("ct");
        self.line(&format!(
            "let {cf} = Cfg {{ w: {a}, b: {b} * 0.5, n: {k}.rem_euclid(5) as usize, shift: ({k} % 3) as i32 - 1, act: {act} }};"
        ));
        // `cfg_apply` of a unit value: |z| ≤ 1 + 0.5·4·0.25 + 0.125 + 3·0.0625 < 1.9, and
        // softplus adds at most ln 2 / 0.5.
        let per = 3.3;
        let bound = match self.rng.below(3) {
            0 => {
                self.line(&format!("let {t} = cfg_apply(&{cf}, {a} * {b});"));
                per
            }
            1 => {
                let (acc, i) = (self.fresh("ca"), self.fresh("i"));
                let n = self.rng.range(2, 4);
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    {acc} += cfg_apply(&{cf}, ({b} + {i} as {f} * 0.5).tanh()) * 0.25;"
                ));
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                per * 0.25 * n as f64
            }
            _ => {
                // The enum matched in the function, a payload bound.
                self.line(&format!("let {t} = match {cf}.act {{"));
                self.line(&format!(
                    "    Act::Soft(beta) => cfg_apply(&{cf}, {a}) * beta,"
                ));
                self.line(&format!(
                    "    Act::Clip {{ lo }} => ({cf}.w - lo).tanh() + {cf}.n as {f} * 0.25,"
                ));
                self.line(&format!("    Act::Tanh => {cf}.b * {cf}.w,"));
                self.line("};");
                per * 1.5
            }
        };
        self.declare(t, Kind::Float, false, bound);
        true
    }
}
