//! Statement kinds for ndarray's element idioms and for rows and states carried into loops:
//!
//! - `nd_zip`: a local `Array1`/`Array2`/`Array3` written by `Zip::indexed(&mut out).and(&a)
//!   .for_each(|(i, j), o, &x| ..)` or `azip!((index (i, j), o in &mut out, &x in &a) ..)`
//!   (the element taken by value or by reference, a `return;` skipping elements, a transposed
//!   view or a row as a producer), its length read by `let n = out.shape()[0];` before loops
//!   writing it, changed by `map_inplace(|v| *v = ..)` (with `let`s before the write) and
//!   through `let c = &mut out[[i, j]]; *c += ..;`, and read back by a `Zip::indexed` or an
//!   `azip!` over shared producers adding into an accumulator, or by `sum`/`mapv`;
//! - `row_copy`: rows of a local nested array (`[[F; 2]; 3]`, `Vec<[F; 2]>`, `[[[F; 2]; 2]; 2]`)
//!   copied out before a loop (`let r = t[1];`, `let [p, q, r] = t;`, `let w = &t[2];`) and read
//!   by element in a `for` or `while` loop that is a sum or not; and `scan`s whose tuple state
//!   holds a count beside a float, the count read as a factor and as an index.
//!
//! As in `state.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value; the closures read those
//! values.

use super::{FnGen, lit};

impl FnGen<'_> {
    /// A local array written by an indexed `Zip` or `azip!`, changed in place element by
    /// element, and read back.
    pub(super) fn s_nd_zip(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let tag = {
            self.names += 1;
            self.names.to_string()
        };
        let (out, src, acc) = (format!("zo{tag}"), format!("zs{tag}"), format!("za{tag}"));
        let (i, j, k) = (format!("i{tag}"), format!("j{tag}"), format!("k{tag}"));
        let dims = match self.rng.below(5) {
            0 | 1 => 2,
            2 | 3 => 1,
            _ => 3,
        };
        let (n0, n1, n2) = (
            self.rng.range(2, 4) as usize,
            self.rng.range(2, 4) as usize,
            2usize,
        );
        let square = dims == 2 && self.rng.chance(35);
        let n1 = if square { n0 } else { n1 };
        type Element = fn(&str, &str, &str, &str) -> String;
        let (ty, shape, idx, el, pos, pos_max): (String, String, String, Element, String, f64) =
            match dims {
                1 => (
                    format!("Array1<{f}>"),
                    format!("{n0}"),
                    i.clone(),
                    |x: &str, i: &str, _: &str, _: &str| format!("{x}[{i}]"),
                    format!("({i} as {f})"),
                    (n0 - 1) as f64,
                ),
                2 => (
                    format!("Array2<{f}>"),
                    format!("({n0}, {n1})"),
                    format!("({i}, {j})"),
                    |x: &str, i: &str, j: &str, _: &str| format!("{x}[[{i}, {j}]]"),
                    format!("(({i} + 2 * {j}) as {f})"),
                    (n0 - 1 + 2 * (n1 - 1)) as f64,
                ),
                _ => (
                    format!("ndarray::Array3<{f}>"),
                    format!("({n0}, {n1}, {n2})"),
                    format!("({i}, {j}, {k})"),
                    |x: &str, i: &str, j: &str, k: &str| format!("{x}[[{i}, {j}, {k}]]"),
                    format!("(({i} + {j} + 2 * {k}) as {f})"),
                    (n0 - 1 + n1 - 1 + 2 * (n2 - 1)) as f64,
                ),
            };
        let ctor = match dims {
            1 => "Array1".to_string(),
            2 => "Array2".to_string(),
            _ => "ndarray::Array3".to_string(),
        };
        // The scale keeps `pos · scale` within 1.
        let scale = lit(1.0 / (pos_max + 1.0));
        // The source: every element within 1.
        let value = format!("({a} * {pos} * {scale} + {b} * 0.5).sin()");
        match self.rng.below(3) {
            0 => self.line(&format!(
                "let {src}: {ty} = {ctor}::from_shape_fn({shape}, |{idx}| {value});"
            )),
            1 => {
                self.line(&format!("let mut {src} = {ctor}::<{f}>::zeros({shape});"));
                self.line(&format!(
                    "ndarray::Zip::indexed(&mut {src}).for_each(|{idx}, o| *o = {value});"
                ));
            }
            _ => {
                self.line(&format!("let mut {src}: {ty} = {ctor}::zeros({shape});"));
                self.line(&format!(
                    "ndarray::azip!((index {idx}, o in &mut {src}) *o = {value});"
                ));
            }
        }
        // The array written.
        if self.rng.chance(50) {
            self.line(&format!("let mut {out} = {ctor}::<{f}>::zeros({shape});"));
        } else {
            self.line(&format!(
                "let mut {out}: {ty} = {ctor}::zeros({src}.raw_dim());"
            ));
        }
        let x_el = el(&src, &i, &j, &k);
        // A condition on the indices for `return;`.
        let skip = match dims {
            1 => format!("{i} == {}", self.rng.below(n0)),
            2 => format!("{i} == {j}"),
            _ => format!("{j} + {k} == 1"),
        };
        // Every element of `out` stays within `e` (at least 1).
        let mut e: f64 = match self.rng.below(6) {
            0 => {
                self.line(&format!(
                    "ndarray::Zip::indexed(&mut {out}).and(&{src}).for_each(|{idx}, o, &x| *o = (x * {a} + {pos} * {scale} * {b}).tanh());"
                ));
                1.0
            }
            1 => {
                self.line(&format!(
                    "ndarray::Zip::indexed(&mut {out}).and(&{src}).for_each(|{idx}, o, &x| {{"
                ));
                self.line(&format!("    let q = x * {b} + {a} * 0.5;"));
                self.line(&format!("    if {skip} {{"));
                self.line("        return;");
                self.line("    }");
                self.line("    *o = q.sin() * 0.5 + x * 0.5;");
                self.line("});");
                1.0
            }
            2 => {
                self.line(&format!(
                    "ndarray::azip!((index {idx}, o in &mut {out}, &x in &{src}) *o = x * {a} * 0.5 + {pos} * {scale} * {b} * 0.5);"
                ));
                1.0
            }
            3 => {
                // The element lent by reference, and the written one read back.
                self.line(&format!(
                    "ndarray::Zip::indexed(&mut {out}).and(&{src}).for_each(|{idx}, o, x| {{"
                ));
                self.line(&format!("    *o += *x * {a} + {pos} * {scale} * 0.25;"));
                self.line(&format!("    *o = (*o * {b}).tanh() + *x * 0.5;"));
                self.line("});");
                1.5
            }
            4 if square => {
                // A transposed view as a producer.
                self.line(&format!(
                    "ndarray::Zip::indexed(&mut {out}).and({src}.t()).for_each(|({i}, {j}), o, &x| {{"
                ));
                self.line(&format!("    if {i} > {j} {{"));
                self.line("        return;");
                self.line("    }");
                self.line(&format!("    *o = x * {a} - ({j} as {f}) * 0.125 * {b};"));
                self.line("});");
                1.0 + n0 as f64 * 0.125
            }
            _ => {
                // A loop of `azip!`s, each adding into the elements, its count read.
                let c = format!("zc{tag}");
                let trips = self.rng.range(2, 3);
                self.line(&format!("for {c} in 0..{trips} {{"));
                self.line(&format!(
                    "    ndarray::azip!((index {idx}, o in &mut {out}, &x in &{src}) {{"
                ));
                self.line(&format!(
                    "        *o = *o * 0.5 + (x * {a} + ({c} as {f}) * 0.25 * {b}).sin() * 0.5;"
                ));
                self.line("    });");
                self.line("}");
                1.0
            }
        };
        // A length read off the array's shape before loops writing it.
        if self.rng.chance(50) {
            let n = format!("zn{tag}");
            self.line(&format!("let {n} = {out}.shape()[0];"));
            let w = self.rng.range(1, 3) as f64 * 0.25;
            match dims {
                1 => {
                    self.line(&format!("for {i} in 0..{n} {{"));
                    self.line(&format!("    {out}[{i}] += {x_el} * {b} * {};", lit(w)));
                }
                2 => {
                    self.line(&format!("for {i} in 0..{n} {{"));
                    self.line(&format!("    for {j} in 0..{out}.shape()[1] {{"));
                    self.line(&format!(
                        "        {out}[[{i}, {j}]] += {x_el} * {b} * {};",
                        lit(w)
                    ));
                    self.line("    }");
                }
                _ => {
                    self.line(&format!("for {i} in 0..{n} {{"));
                    self.line(&format!("    let {j} = {i} % {n1};"));
                    self.line(&format!("    let {k} = 1;"));
                    self.line(&format!(
                        "    {out}[[{i}, {j}, {k}]] += {x_el} * {b} * {};",
                        lit(w)
                    ));
                }
            }
            self.line("}");
            e += w;
        }
        // `map_inplace` writing the element.
        if self.rng.chance(50) {
            match self.rng.below(3) {
                0 => {
                    self.line(&format!(
                        "{out}.map_inplace(|v| *v = (*v * {a} + {b} * 0.25).sin());"
                    ));
                    e = 1.0;
                }
                1 => {
                    self.line(&format!("{out}.map_inplace(|v| {{"));
                    self.line(&format!("    let w = *v * {b} + {a} * 0.5;"));
                    self.line("    let u = w * 0.5;");
                    self.line("    *v = (w + u).tanh();");
                    self.line("});");
                    e = 1.0;
                }
                _ => {
                    self.line(&format!("{out}.map_inplace(|v: &mut {f}| {{"));
                    self.line(&format!("    let k = {a} * 0.5;"));
                    self.line("    *v *= k;");
                    self.line("});");
                    e *= 0.5;
                }
            }
        }
        // Elements changed through a reference to them.
        if self.rng.chance(50) {
            let first = match dims {
                1 => format!("{out}[{i}]"),
                2 => format!("{out}[[{i}, {}]]", n1 - 1),
                _ => format!("{out}[[{i}, 0, 1]]"),
            };
            let c = format!("zr{tag}");
            self.line(&format!("for {i} in 0..{n0} {{"));
            self.line(&format!("    let {c} = &mut {first};"));
            self.line(&format!(
                "    *{c} += {a} * ({i} as {f}) * {};",
                lit(0.5 / n0 as f64)
            ));
            if self.rng.chance(50) {
                self.line(&format!("    *{c} *= {b};"));
                e += 0.5;
            } else {
                self.line(&format!("    *{c} = {c}.sin() * 0.5 + {b} * 0.25;"));
                e = e.max(0.75);
            }
            self.line("}");
        }
        let cells = match dims {
            1 => n0,
            2 => n0 * n1,
            _ => n0 * n1 * n2,
        } as f64;
        let t = format!("zt{tag}");
        let last = match dims {
            1 => format!("{out}[{}]", n0 - 1),
            2 => format!("{out}[[{}, {}]]", n0 - 1, n1 - 1),
            _ => format!("{out}[[{}, {}, 1]]", n0 - 1, n1 - 1),
        };
        let bound = match self.rng.below(4) {
            0 => {
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!(
                    "ndarray::Zip::indexed(&{out}).for_each(|{idx}, &v| {acc} += v * ({pos} * {scale} + 0.5) * {a});"
                ));
                self.line(&format!("let {t} = {acc} * 0.5;"));
                cells * e * 1.5 * 0.5
            }
            1 => {
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!(
                    "ndarray::azip!((index {idx}, &v in &{out}, &x in &{src}) {{"
                ));
                self.line(&format!("    if {skip} {{"));
                self.line(&format!("        {acc} += v * x * {b};"));
                self.line("    } else {");
                self.line(&format!("        {acc} += (v * {a}).sin() * 0.5;"));
                self.line("    }");
                self.line("});");
                self.line(&format!("let {t} = {acc};"));
                cells * e
            }
            2 => {
                self.line(&format!("let {t} = {out}.sum() * 0.25 + {last} * {a};"));
                cells * e * 0.25 + e
            }
            _ => {
                self.line(&format!(
                    "let {t}: {f} = {out}.mapv(|v| v * v * {b}).sum() * 0.25 + {src}.sum() * 0.125;"
                ));
                cells * e * e * 0.25 + cells * 0.125
            }
        };
        self.declare_tamed(t, bound);
        true
    }

    /// Rows of a local nested array copied out before a loop that reads them by element, and
    /// `scan`s whose tuple state holds a count beside a float.
    pub(super) fn s_row_copy(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let tag = {
            self.names += 1;
            self.names.to_string()
        };
        let (tb, e, i) = (format!("rt{tag}"), format!("re{tag}"), format!("i{tag}"));
        let t = format!("rv{tag}");
        let n = self.rng.range(2, 4);
        // The table: three rows of two, every element within 1.
        let rows = [
            format!("[{a}, {b} * 0.5]"),
            format!("[{a} * {b}, 0.25]"),
            format!("[{b}, -{a} * 0.5]"),
        ];
        let vec_table = self.rng.chance(35);
        if vec_table {
            self.line(&format!(
                "let {tb}: Vec<[{f}; 2]> = vec![{}];",
                rows.join(", ")
            ));
        } else {
            self.line(&format!("let {tb}: [[{f}; 2]; 3] = [{}];", rows.join(", ")));
        }
        let bound = match self.rng.below(8) {
            0 | 1 => {
                // One row by index, read in a sum.
                let r = format!("rr{tag}");
                let q = self.rng.below(3);
                self.line(&format!("let {r} = {tb}[{q}];"));
                self.line(&format!("let mut {e}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    {e} += ({r}[0] * ({i} as {f}) * 0.5 + {r}[1] * {b}).sin() * 0.5;"
                ));
                self.line("}");
                self.line(&format!("let {t} = {e} * {a} + {r}[1];"));
                n as f64 * 0.5 + 1.0
            }
            2 if !vec_table => {
                // All rows by a pattern, read in a loop that is not a sum.
                let (p, q, r) = (format!("rp{tag}"), format!("rq{tag}"), format!("rs{tag}"));
                self.line(&format!("let [{p}, {q}, {r}] = {tb};"));
                self.line(&format!("let mut {e}: {f} = {b};"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    {e} = ({e} * {p}[0] + {q}[1] * ({i} as {f} + 1.0) * 0.5 - {r}[0] * 0.25).tanh();"
                ));
                self.line("}");
                self.line(&format!("let {t} = {e} + {p}[1] * {r}[1];"));
                2.0
            }
            3 => {
                // A row read in a `while` on a counter, and after a branch.
                let (r, c) = (format!("rr{tag}"), format!("rc{tag}"));
                let q = self.rng.below(3);
                self.line(&format!("let {r} = {tb}[{q}];"));
                self.line(&format!("let mut {e}: {f} = 0.0;"));
                self.line(&format!("let mut {c} = 0;"));
                self.line(&format!("while {c} < {n} {{"));
                self.line(&format!("    {e} += {r}[0] * {a} * 0.5;"));
                self.line(&format!("    {c} += 1;"));
                self.line("}");
                self.line(&format!(
                    "let {t} = if {b} > 0.0 {{ {e} + {r}[1] }} else {{ {e} * {b} }};"
                ));
                n as f64 * 0.5 + 1.0
            }
            4 => {
                // A row borrowed, and a row of a three-level table copied out.
                let (w, cube, c0) = (format!("rw{tag}"), format!("rk{tag}"), format!("rb{tag}"));
                let (q, q0) = (self.rng.below(3), self.rng.below(2));
                self.line(&format!("let {w} = &{tb}[{q}];"));
                self.line(&format!(
                    "let {cube}: [[[{f}; 2]; 2]; 2] = [[[{a}, 0.5], [{b}, {a} * {b}]], [[0.25, -{b}], [{a} * 0.5, 1.0]]];"
                ));
                self.line(&format!("let {c0} = {cube}[{q0}];"));
                self.line(&format!("let mut {e}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..2 {{"));
                self.line("    for j in 0..2 {");
                self.line(&format!(
                    "        {e} += {c0}[{i}][j] * {w}[j] * 0.5 + ({c0}[j][{i}] * {a}).sin() * 0.25;"
                ));
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {e};"));
                3.0
            }
            5 => {
                // A `scan` whose state holds a count beside a float; the count a factor.
                let start = *self.rng.pick(&["0usize", "1usize"]);
                self.line(&format!(
                    "let {t}: {f} = (0..{n}usize).scan(({a}, {start}), |st, {i}| {{"
                ));
                self.line(&format!(
                    "    st.0 = (st.0 * 0.5 + {tb}[{i} % 3][0] * {b}).sin();"
                ));
                self.line("    st.1 += 1;");
                self.line(&format!("    Some(st.0 * (st.1 as {f}) * 0.25)"));
                self.line("}).sum();");
                (n * (n + 1)) as f64 * 0.125 + 1.0
            }
            6 => {
                // The count first, read as an index; the items collected.
                let v = format!("rl{tag}");
                self.line(&format!(
                    "let {v}: Vec<{f}> = (0..{n}usize).scan((0usize, {b}), |st, _| {{"
                ));
                self.line("    st.0 += 1;");
                self.line(&format!("    st.1 = st.1 * 0.5 + {tb}[st.0 % 3][1] * {a};"));
                self.line("    if st.0 > 3 {");
                self.line("        return None;");
                self.line("    }");
                self.line("    Some(st.1)");
                self.line("}).collect();");
                self.line(&format!(
                    "let {t} = {v}.iter().sum::<{f}>() * 0.25 + {v}[0] * {a};"
                ));
                // |st.1| ≤ 2.
                n as f64 * 0.5 + 2.0
            }
            _ => {
                // A scan over a loop's rows inside a `for`, its state's count reset per row.
                let (r, c) = (format!("rr{tag}"), format!("rq{tag}"));
                self.line(&format!("let mut {e}: {f} = 0.0;"));
                self.line(&format!("for {r} in {tb}.iter() {{"));
                self.line(&format!(
                    "    let {c}: {f} = (0..2usize).scan(({r}[0], 0usize), |st, j| {{"
                ));
                self.line(&format!("        st.0 = st.0 * {a} + {r}[j] * 0.5;"));
                self.line("        st.1 += j + 1;");
                self.line(&format!("        Some(st.0 * (st.1 as {f}) * 0.125)"));
                self.line("    }).sum();");
                self.line(&format!("    {e} += {c} * {b};"));
                self.line("}");
                self.line(&format!("let {t} = {e};"));
                // |st.0| ≤ 2.5, st.1 ≤ 3.
                3.0 * (1.5 * 0.125 + 2.5 * 3.0 * 0.125)
            }
        };
        self.declare_tamed(t, bound);
        true
    }
}
