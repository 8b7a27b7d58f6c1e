//! Statement kinds for the ways out of loops, for a three-dimensional array worked by a
//! stencil, and for integers cast from floats:
//!
//! - `early_exit`: `return` of a differentiated value from inside nested `for` loops (in a
//!   helper `{fn}_ex{k}(a, b)` written beside the function, after an `if .. { return .. }`
//!   guard, and in the function itself), labeled `break 'outer` / `continue 'outer` from an
//!   inner loop whose bound depends on an integer, `loop { .. break value; }` yielding a float,
//!   and `while let Some(v) = it.next()` over a slice iterator;
//! - `stencil3`: an `Array3<F>` local filled by a triple loop (or built by `from_shape_fn`
//!   with a closure `|(i, j, k)| ..`), then read by a 7-point stencil
//!   `u[[i - 1, j, k]] + u[[i + 1, j, k]] + ..` (inside the bounds or under `if i > 0`),
//!   `indexed_iter()`, `mapv` then `sum()`, and `fold`;
//! - `int_casts`: integers derived from floats (`(a * 7.0).floor() as i64`, `.rem_euclid`,
//!   `abs()`, `as usize` clamped) used as indices into constant tables and as `powi`
//!   exponents, and compared in conditions choosing between differentiated branches.
//!
//! As in `state.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value. Conditions on
//! differentiated values and the casts of floats to integers have jumps that the generated
//! points almost surely miss, as the piecewise methods of the other kinds do.

use super::{FnGen, lit};
use crate::program::Ret;

impl FnGen<'_> {
    /// Early exits from loops: `return` from nested loops (in a helper and here), labeled
    /// `break`/`continue`, a `loop` yielding a value, `while let` over a slice iterator.
    pub(super) fn s_early_exit(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("et");
        let n = self.rng.range(2, 5);
        let m = self.rng.range(2, 4);
        let choice = self.rng.below(11);
        // A `return` in the function itself: not inside an `else` where a diverging `else` is
        // not generated.
        let choice = if choice == 10 && self.in_else > 0 && !self.cfg.diverging_else {
            0
        } else {
            choice
        };
        let bound = match choice {
            0 => {
                // A helper returning from inside its nested loops, after a guard.
                let tag = {
                    self.names += 1;
                    self.names.to_string()
                };
                let name = format!("{}_ex{tag}", self.fn_tag);
                let guard = lit(self.rng.range(5, 9) as f64 * 0.25);
                let thr = lit(self.rng.range(2, 6) as f64 * 0.25);
                let mut src = format!("fn {name}(a: {f}, b: {f}) -> {f} {{\n");
                src += &format!("    if a * a > {guard} {{\n        return a * b * 0.5;\n    }}\n");
                src += &format!("    let mut acc: {f} = 0.0;\n");
                src += &format!("    for i in 0..{n} {{\n");
                if self.rng.chance(50) {
                    src += &format!("        for j in 0..{m} {{\n");
                } else {
                    // An inner bound that depends on the outer index.
                    src += "        for j in 0..=i {\n";
                }
                src += &format!(
                    "            let q = (a * (i as {f}) * 0.5 + b * (j as {f} + 1.0) * 0.25).sin();\n"
                );
                src += "            acc += q * 0.5;\n";
                match self.rng.below(3) {
                    0 => {
                        src += &format!(
                            "            if acc > {thr} {{\n                return acc * b + q;\n            }}\n"
                        )
                    }
                    1 => {
                        src += &format!(
                            "            if q < -{thr} {{\n                let r = acc - q * a;\n                return r * 0.5;\n            }}\n"
                        )
                    }
                    _ => {
                        src += &format!(
                            "            if i + j == {} {{\n                return acc * a - b;\n            }}\n",
                            self.rng.range(1, 4)
                        )
                    }
                }
                src += "        }\n    }\n    acc - b * 0.5\n}\n";
                self.push_helper_of_ab(&name, Ret::Scalar, src);
                self.line(&format!(
                    "let {t} = {name}({a}, {b} * 0.5) + {name}({b}, {a});"
                ));
                // |acc| ≤ 0.5 a trip, at most n·max(m, n) trips; |a|, |b|, |q| ≤ 1.
                let acc = (n * m.max(n)) as f64 * 0.5;
                2.0 * (acc + 1.0 + acc)
            }
            1 => {
                // `break 'outer` and `continue 'outer` from an inner loop whose bound depends
                // on an integer.
                let k = self.some_int();
                let (acc, i, j, lab) = (
                    self.fresh("ea"),
                    self.fresh("i"),
                    self.fresh("j"),
                    self.fresh("'eo"),
                );
                let kk = self.fresh("ek");
                self.line(&format!("let {kk} = {k}.rem_euclid(3) as usize + 1;"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                let inner = if self.rng.chance(50) {
                    format!("0..{kk}")
                } else {
                    format!("0..({i} + {kk})")
                };
                self.line(&format!("{lab}: for {i} in 0..{n} {{"));
                self.line(&format!("    for {j} in {inner} {{"));
                self.line(&format!("        if {j} > {i} + 1 {{"));
                self.line(&format!("            continue {lab};"));
                self.line("        }");
                self.line(&format!(
                    "        {acc} += ({a} * ({i} as {f}) * 0.5 - {b} * ({j} as {f}) * 0.25).tanh() * 0.5;"
                ));
                match self.rng.below(3) {
                    0 => self.line(&format!(
                        "        if ({i} + {j}) % 3 == 2 {{\n            break {lab};\n        }}"
                    )),
                    1 => self.line(&format!(
                        "        if {acc} > 0.75 {{\n            break {lab};\n        }}"
                    )),
                    _ => self.line(&format!(
                        "        if {acc} * {b} < -0.25 {{\n            continue {lab};\n        }}"
                    )),
                }
                self.line(&format!("        {acc} *= 0.875;"));
                self.line("    }");
                self.line(&format!("    {acc} += {b} * 0.125;"));
                self.line("}");
                self.line(&format!("let {t} = {acc} * {a} + {acc};"));
                // At most n·(n + 3) trips of 0.5, and n·0.125.
                2.0 * ((n * (n + 3)) as f64 * 0.5 + n as f64 * 0.125)
            }
            2 => {
                // `loop { .. break value; }` yielding a float.
                let (c, w) = (self.fresh("ec"), self.fresh("ew"));
                self.line(&format!("let mut {c} = 0usize;"));
                self.line(&format!("let mut {w}: {f} = {a};"));
                self.line(&format!("let {t}: {f} = loop {{"));
                self.line(&format!("    {w} = ({w} * 0.5 + {b}).sin();"));
                self.line(&format!("    {c} += 1;"));
                if self.rng.chance(50) {
                    self.line(&format!("    if {c} >= {n} || {w} > 0.8 {{"));
                    self.line(&format!("        break {w} * {a} + {b};"));
                    self.line("    }");
                } else {
                    self.line(&format!("    if {w} < -0.6 {{"));
                    self.line(&format!("        break {w} - {a} * 0.5;"));
                    self.line("    }");
                    self.line(&format!("    if {c} == {n} {{"));
                    self.line(&format!("        break {w} * {w} + {b} * ({c} as {f});"));
                    self.line("    }");
                }
                self.line("};");
                1.0 + n as f64
            }
            3 => {
                // `while let Some(v) = it.next()` over a slice iterator.
                let (xs, it, acc, v) = (
                    self.fresh("ex"),
                    self.fresh("eit"),
                    self.fresh("ea"),
                    self.fresh("ev"),
                );
                if self.rng.chance(50) {
                    self.line(&format!(
                        "let {xs}: [{f}; 4] = [{a}, {b}, {a} * {b}, ({a} - {b}) * 0.5];"
                    ));
                } else {
                    self.line(&format!(
                        "let {xs}: Vec<{f}> = vec![{a}, {b} * 0.5, {a} * {b}, {b}];"
                    ));
                }
                let src = match self.rng.below(3) {
                    0 => format!("{xs}.iter()"),
                    1 => format!("{xs}[1..].iter()"),
                    _ => format!("{xs}.iter().copied()"),
                };
                let copied = src.ends_with("copied()");
                self.line(&format!("let mut {it} = {src};"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                if copied {
                    self.line(&format!("while let Some({v}) = {it}.next() {{"));
                } else if self.rng.chance(50) {
                    self.line(&format!("while let Some(&{v}) = {it}.next() {{"));
                } else {
                    self.line(&format!("while let Some({v}) = {it}.next() {{"));
                    self.line(&format!("    let {v} = *{v};"));
                }
                if self.rng.chance(50) {
                    self.line(&format!("    if {v} > 0.9 {{"));
                    self.line("        break;");
                    self.line("    }");
                }
                self.line(&format!(
                    "    {acc} += {v} * {a} + ({v} * {b}).sin() * 0.5;"
                ));
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                6.0
            }
            4 => {
                // A labeled loop left by `break 'outer` when a float test passes, the inner
                // loop a `while` on a counter.
                let (acc, i, c, lab) = (
                    self.fresh("ea"),
                    self.fresh("i"),
                    self.fresh("ec"),
                    self.fresh("'ew"),
                );
                self.line(&format!("let mut {acc}: {f} = {b} * 0.5;"));
                self.line(&format!("{lab}: for {i} in 0..{n} {{"));
                self.line(&format!("    let mut {c} = 0;"));
                self.line(&format!("    while {c} < {m} {{"));
                self.line(&format!("        {c} += 1;"));
                self.line(&format!(
                    "        let q = ({acc} * {a} + ({i} as {f}) * 0.25 - ({c} as {f}) * 0.125).sin();"
                ));
                self.line("        if q > 0.7 {");
                self.line(&format!("            {acc} += q * 0.5;"));
                self.line(&format!("            break {lab};"));
                self.line("        }");
                self.line(&format!("        {acc} = {acc} * 0.75 + q * 0.25;"));
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {acc} * {a};"));
                1.5
            }
            5 => {
                // A helper returning from a `match` arm inside a `while let` inside a `for`.
                let tag = {
                    self.names += 1;
                    self.names.to_string()
                };
                let name = format!("{}_ex{tag}", self.fn_tag);
                let thr = lit(self.rng.range(1, 5) as f64 * 0.25);
                let mut src = format!("fn {name}(a: {f}, b: {f}) -> {f} {{\n");
                src += &format!("    let xs: [{f}; 3] = [a, b, a * b];\n");
                src += &format!("    let mut acc: {f} = 0.0;\n");
                src += &format!("    for i in 0..{n} {{\n");
                src += "        let mut it = xs.iter();\n";
                src += "        while let Some(&v) = it.next() {\n";
                src += "            match i % 3 {\n";
                src += "                0 => acc += v * 0.5,\n";
                src += &format!(
                    "                1 => {{\n                    if v * acc > {thr} {{\n                        return acc + v * b;\n                    }}\n                }}\n"
                );
                src += "                _ => acc -= v * 0.25,\n";
                src += "            }\n        }\n    }\n    acc * a\n}\n";
                self.push_helper_of_ab(&name, Ret::Scalar, src);
                self.line(&format!(
                    "let {t} = {name}({a} * {b}, {b}) * 0.5 + {name}({b}, {a});"
                ));
                // 3 items a trip of at most 0.5 each.
                1.5 * (n as f64 * 1.5 + 1.0)
            }
            6 => {
                // A `loop` yielding its value from a `match` on its counter, with `continue`.
                let (c, w) = (self.fresh("ec"), self.fresh("ew"));
                self.line(&format!("let mut {c} = 0usize;"));
                self.line(&format!("let mut {w}: {f} = {b};"));
                self.line(&format!("let {t}: {f} = loop {{"));
                self.line(&format!("    {w} = ({w} * {a} + 0.25).tanh();"));
                self.line(&format!("    {c} += 1;"));
                self.line(&format!("    match {c} {{"));
                self.line("        1 => continue,");
                self.line(&format!("        q if q >= {n} => break {w} * {a},"));
                self.line("        _ => {");
                self.line(&format!("            if {w} > 0.5 {{"));
                self.line(&format!("                break {w} + {b};"));
                self.line("            }");
                self.line("        }");
                self.line("    }");
                self.line("};");
                2.0
            }
            7 => {
                // `continue 'outer` from a `while` whose counter moved first, a `break 'outer`
                // on an integer.
                let (acc, i, c, lab) = (
                    self.fresh("ea"),
                    self.fresh("i"),
                    self.fresh("ec"),
                    self.fresh("'eo"),
                );
                let k = self.some_int();
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("{lab}: for {i} in 0..{n}i64 {{"));
                self.line(&format!("    let mut {c} = 0;"));
                self.line(&format!("    while {c} < {m} {{"));
                self.line(&format!("        {c} += 1;"));
                self.line(&format!("        if {i} * {c} == {k}.rem_euclid(5) {{"));
                self.line(&format!("            continue {lab};"));
                self.line("        }");
                self.line(&format!(
                    "        {acc} += ({a} * ({c} as {f}) - {b} * ({i} as {f}) * 0.5).sin() * 0.25;"
                ));
                self.line(&format!("        if {acc} < -0.5 {{"));
                self.line(&format!("            break {lab};"));
                self.line("        }");
                self.line("    }");
                self.line(&format!("    {acc} *= {a} * 0.5 + 0.5;"));
                self.line("}");
                self.line(&format!("let {t} = {acc} + {b};"));
                (n * m) as f64 * 0.25 + 1.0
            }
            8 => {
                // `break 'outer` from a `while let` over a slice iterator inside a `for`.
                let (xs, it, acc, i, v, lab) = (
                    self.fresh("ex"),
                    self.fresh("eit"),
                    self.fresh("ea"),
                    self.fresh("i"),
                    self.fresh("ev"),
                    self.fresh("'el"),
                );
                let thr = lit(self.rng.range(1, 4) as f64 * 0.25);
                self.line(&format!(
                    "let {xs}: [{f}; 3] = [{a}, {b} * 0.5, {a} * {b}];"
                ));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("{lab}: for {i} in 0..{n} {{"));
                self.line(&format!("    let mut {it} = {xs}.iter();"));
                self.line(&format!("    while let Some(&{v}) = {it}.next() {{"));
                self.line(&format!("        if {v} * {a} > {thr} {{"));
                self.line(&format!("            break {lab};"));
                self.line("        }");
                self.line(&format!(
                    "        {acc} += {v} * ({i} as {f} + 1.0) * 0.25;"
                ));
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {acc} * {b} + {acc};"));
                let per = (n * (n + 1)) as f64 * 0.5 * 3.0 * 0.25;
                2.0 * per
            }
            9 => {
                // A `loop` yielding a value inside a `for`, its trips set by the outer index.
                let (acc, i, c, y) = (
                    self.fresh("ea"),
                    self.fresh("i"),
                    self.fresh("ec"),
                    self.fresh("ey"),
                );
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!("    let mut {c} = 0;"));
                self.line(&format!("    let {y}: {f} = loop {{"));
                self.line(&format!("        {c} += 1;"));
                self.line(&format!(
                    "        let z = ({a} * ({c} as {f}) * 0.5 + {b} + {acc} * 0.25).sin();"
                ));
                self.line(&format!("        if {c} > {i} || z > 0.6 {{"));
                self.line(&format!("            break z * {a};"));
                self.line("        }");
                self.line("    };");
                self.line(&format!("    {acc} += {y} * 0.5;"));
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                n as f64 * 0.5
            }
            _ => {
                // A `return` from inside nested loops of the function itself.
                let (acc, i, j) = (self.fresh("ea"), self.fresh("i"), self.fresh("j"));
                let thr_v = self.rng.range(3, 7) as f64 * 0.25;
                let thr = lit(thr_v);
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                if self.rng.chance(50) {
                    self.line(&format!("    for {j} in 0..{m} {{"));
                    self.line(&format!(
                        "        {acc} += ({a} * ({j} as {f} + 1.0) * 0.5 + {b} * ({i} as {f}) * 0.25).sin() * 0.5;"
                    ));
                } else {
                    // Over the items of a slice iterator: at most 3 trips of 0.5.
                    let (xs, it) = (self.fresh("ex"), self.fresh("eit"));
                    self.line(&format!("    let {xs}: [{f}; {m}] = [{a}; {m}];"));
                    self.line(&format!("    let mut {it} = {xs}.iter();"));
                    self.line(&format!("    while let Some(&{j}) = {it}.next() {{"));
                    self.line(&format!(
                        "        {acc} += ({j} * 0.5 + {b} * ({i} as {f}) * 0.25).sin() * 0.5;"
                    ));
                }
                self.line(&format!("        if {acc} > {thr} {{"));
                let r = match self.ret {
                    Ret::Scalar => format!("{acc} * {a} + {b}"),
                    Ret::Pair => format!("({acc} * {a}, {b} - {acc})"),
                };
                // |acc| ≤ thr + 0.5 where it returns.
                self.ret_bound = self.ret_bound.max(thr_v + 2.5);
                self.line(&format!("            return {r};"));
                self.line("        }");
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {acc} - {b};"));
                (n * m) as f64 * 0.5 + 1.0
            }
        };
        self.declare_tamed(t, bound);
        true
    }

    /// An `Array3<F>` filled by a triple loop or built by `from_shape_fn`, read by a 7-point
    /// stencil, `indexed_iter`, `mapv`/`sum` and `fold`.
    pub(super) fn s_stencil3(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let tag = {
            self.names += 1;
            self.names.to_string()
        };
        let u = format!("su{tag}");
        let (i, j, k) = (format!("i{tag}"), format!("j{tag}"), format!("k{tag}"));
        let dims: Vec<usize> = (0..3).map(|_| self.rng.range(2, 5) as usize).collect();
        let (n0, n1, n2) = (dims[0], dims[1], dims[2]);
        let value = format!(
            "({a} * ({i} as {f}) * 0.5 + {b} * ({j} as {f}) * 0.25 - {a} * {b} * ({k} as {f} + 1.0) * 0.25).tanh()"
        );
        let built = self.rng.below(3);
        if built == 0 {
            self.line(&format!(
                "let mut {u}: ndarray::Array3<{f}> = ndarray::Array3::zeros(({n0}, {n1}, {n2}));"
            ));
        } else if built == 1 {
            self.line(&format!(
                "let mut {u} = ndarray::Array3::<{f}>::zeros(({n0}, {n1}, {n2}));"
            ));
        } else {
            // Built by `from_shape_fn`, the same values.
            self.line(&format!(
                "let mut {u}: ndarray::Array3<{f}> = ndarray::Array3::from_shape_fn(({n0}, {n1}, {n2}), |({i}, {j}, {k})| {value});"
            ));
        }
        if built != 2 {
            self.line(&format!("for {i} in 0..{n0} {{"));
            self.line(&format!("    for {j} in 0..{n1} {{"));
            self.line(&format!("        for {k} in 0..{n2} {{"));
            self.line(&format!("            {u}[[{i}, {j}, {k}]] = {value};"));
            self.line("        }");
            self.line("    }");
            self.line("}");
        }

        // Every element within 1.
        let cells = (n0 * n1 * n2) as f64;
        let t = format!("st{tag}");
        let acc = format!("sa{tag}");
        let bound = match self.rng.below(9) {
            6 => {
                // Gauss–Seidel in place: a cell reads the neighbours the sweep wrote before it.
                self.line(&format!("for {i} in 1..{n0} {{"));
                self.line(&format!("    for {j} in 0..{n1} {{"));
                self.line(&format!("        for {k} in 0..{n2} {{"));
                if self.rng.chance(50) {
                    self.line(&format!(
                        "            {u}[[{i}, {j}, {k}]] = 0.5 * {u}[[{i}, {j}, {k}]] + 0.25 * ({u}[[{i} - 1, {j}, {k}]] + {u}[[{i}, {j}, {k}]] * {b});"
                    ));
                } else {
                    self.line(&format!(
                        "            {u}[[{i}, {j}, {k}]] += 0.25 * {u}[[{i} - 1, {j}, {k}]] * {a};"
                    ));
                    self.line(&format!("            {u}[[{i}, {j}, {k}]] *= 0.75;"));
                }
                self.line("        }");
                self.line("    }");
                self.line("}");
                self.line(&format!(
                    "let {t} = {u}.sum() * 0.25 + {u}[[{}, {}, 0]] * {b};",
                    n0 - 1,
                    n1 - 1
                ));
                // Every element stays within 1.
                cells * 0.25 + 1.0
            }
            7 => {
                // `indexed_iter_mut` writing every cell, then a read.
                let v = format!("sv{tag}");
                self.line(&format!(
                    "for (({i}, {j}, {k}), {v}) in {u}.indexed_iter_mut() {{"
                ));
                self.line(&format!(
                    "    *{v} = *{v} * {a} + (({i} + {k}) as {f}) * 0.125 * {b} - ({j} as {f}) * 0.0625;"
                ));
                self.line("}");
                self.line(&format!("let {t} = {u}.mapv(|v| v * v).sum() * 0.125;"));
                let e = 1.0 + (n0 + n2) as f64 * 0.125 + n1 as f64 * 0.0625;
                cells * e * e * 0.125
            }
            8 => {
                // Slices of the array.
                self.line(&format!(
                    "let {t} = {u}.slice(s![1.., .., 0]).sum() * {a} + {u}.slice(s![.., {}, ..]).mapv(|v| v.sin()).sum() * 0.5;",
                    n1 - 1
                ));
                cells * 1.5
            }
            0 => {
                // The 7-point stencil, every neighbour under its bound.
                let (s, c) = (format!("ss{tag}"), format!("sc{tag}"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n0} {{"));
                self.line(&format!("    for {j} in 0..{n1} {{"));
                self.line(&format!("        for {k} in 0..{n2} {{"));
                self.line(&format!("            let {c} = {u}[[{i}, {j}, {k}]];"));
                self.line(&format!("            let mut {s}: {f} = -6.0 * {c};"));
                for (ax, n) in [(0, n0), (1, n1), (2, n2)] {
                    let idx = |d: &str| {
                        let mut v = [i.clone(), j.clone(), k.clone()];
                        v[ax] = format!("{} {d} 1", v[ax]);
                        v.join(", ")
                    };
                    let var = [&i, &j, &k][ax];
                    self.line(&format!("            if {var} > 0 {{"));
                    self.line(&format!("                {s} += {u}[[{}]];", idx("-")));
                    self.line("            }");
                    self.line(&format!("            if {var} + 1 < {n} {{"));
                    self.line(&format!("                {s} += {u}[[{}]];", idx("+")));
                    self.line("            }");
                }
                self.line(&format!("            {acc} += {s} * {c} * 0.125;"));
                self.line("        }");
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                cells * 12.0 * 0.125
            }
            1 if n0 >= 3 && n1 >= 3 && n2 >= 3 => {
                // The interior only: the neighbours' indices are in bounds by the ranges.
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 1..{n0} - 1 {{"));
                self.line(&format!("    for {j} in 1..({n1} - 1) {{"));
                self.line(&format!("        for {k} in 1..{} {{", n2 - 1));
                self.line(&format!(
                    "            let lap = {u}[[{i} - 1, {j}, {k}]] + {u}[[{i} + 1, {j}, {k}]] + {u}[[{i}, {j} - 1, {k}]] + {u}[[{i}, {j} + 1, {k}]] + {u}[[{i}, {j}, {k} - 1]] + {u}[[{i}, {j}, {k} + 1]] - 6.0 * {u}[[{i}, {j}, {k}]];"
                ));
                self.line(&format!(
                    "            {acc} += lap * lap * 0.0625 + lap * {b} * 0.25;"
                ));
                self.line("        }");
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                ((n0 - 2) * (n1 - 2) * (n2 - 2)) as f64 * (144.0 * 0.0625 + 3.0)
            }
            2 => {
                // `indexed_iter()` with the indices weighing the values.
                let v = format!("sv{tag}");
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                if self.rng.chance(50) {
                    self.line(&format!(
                        "for (({i}, {j}, {k}), {v}) in {u}.indexed_iter() {{"
                    ));
                    self.line(&format!(
                        "    {acc} += *{v} * (({i} + 2 * {j} + {k}) as {f}) * 0.0625;"
                    ));
                } else {
                    self.line(&format!(
                        "for (({i}, {j}, {k}), &{v}) in {u}.indexed_iter() {{"
                    ));
                    self.line(&format!("    if ({i} + {j} + {k}) % 2 == 0 {{"));
                    self.line(&format!("        {acc} += {v} * {a};"));
                    self.line("    } else {");
                    self.line(&format!("        {acc} -= ({v} * {b}).sin() * 0.5;"));
                    self.line("    }");
                }
                self.line("}");
                self.line(&format!("let {t} = {acc};"));
                cells * ((n0 + 2 * n1 + n2) as f64 * 0.0625).max(1.0)
            }
            3 => {
                // `mapv` then `sum()`.
                match self.rng.below(3) {
                    0 => self.line(&format!(
                        "let {t} = {u}.mapv(|v| v * v * {a}).sum() * 0.25;"
                    )),
                    1 => self.line(&format!(
                        "let {t} = {u}.mapv(|v| (v * {b} + 0.5).exp()).sum() * 0.125 + {u}[[{}, 0, {}]] * {a};",
                        n0 - 1,
                        n2 - 1
                    )),
                    _ => self.line(&format!(
                        "let {t}: {f} = {u}.mapv(|v| v.tanh() * {b}).sum() + {u}.sum() * 0.25;"
                    )),
                }
                cells * 1.5f64.exp() * 0.125 + cells * 1.25 + 1.0
            }
            4 => {
                // An order-free `fold`.
                if self.rng.chance(50) {
                    self.line(&format!(
                        "let {t} = {u}.fold(0.0 as {f}, |s, &v| s + v * {b}) * 0.25;"
                    ));
                } else {
                    self.line(&format!(
                        "let {t}: {f} = {u}.fold(0.0 as {f}, |s, v| s + (*v * {a}).sin()) * 0.25 + {a};"
                    ));
                }
                cells * 0.25 + 1.0
            }
            _ => {
                // One Jacobi step into a second array, then summed.
                let w = format!("sw{tag}");
                self.line(&format!("let mut {w} = {u}.clone();"));
                self.line(&format!("for {i} in 1..{n0} {{"));
                self.line(&format!("    for {j} in 0..{n1} {{"));
                self.line(&format!("        for {k} in 0..{n2} {{"));
                self.line(&format!(
                    "            {w}[[{i}, {j}, {k}]] = 0.5 * {u}[[{i}, {j}, {k}]] + 0.25 * ({u}[[{i} - 1, {j}, {k}]] + {u}[[{i}, {j}, ({k} + 1) % {n2}]]) * {a};"
                ));
                self.line("        }");
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = ({w}.sum() - {u}.sum() * {b}) * 0.25;"));
                cells * 0.5
            }
        };
        self.declare_tamed(t, bound);
        true
    }

    /// Integers cast from floats, used as indices, as exponents and in conditions.
    pub(super) fn s_int_casts(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("ct");
        let (k1, k2, k3, ix) = (
            self.fresh("ck"),
            self.fresh("cr"),
            self.fresh("ce"),
            self.fresh("ci"),
        );
        // k1 in -7..=7, k2 in 0..=3, k3 in 0..=3, ix in 0..=3 whatever a and b are.
        match self.rng.below(3) {
            0 => self.line(&format!("let {k1} = ({a} * 7.0).floor() as i64;")),
            1 => self.line(&format!("let {k1}: i64 = ({a} * 7.0).trunc() as i64;")),
            _ => self.line(&format!("let {k1} = ({a} * 6.5).round() as i64;")),
        }
        match self.rng.below(2) {
            0 => self.line(&format!("let {k2} = {k1}.rem_euclid(4) as usize;")),
            _ => self.line(&format!("let {k2} = ({k1}.rem_euclid(7) as usize) % 4;")),
        }
        match self.rng.below(3) {
            0 => self.line(&format!("let {k3} = {k1}.abs().min(3) as i32;")),
            1 => self.line(&format!("let {k3} = ({k1}.abs() as i32).clamp(0, 3);")),
            _ => self.line(&format!("let {k3}: i32 = ({b} * 3.5).abs() as i32;")),
        }
        match self.rng.below(3) {
            0 => self.line(&format!(
                "let {ix} = (({b} + 1.0) * 2.0).max(0.0) as usize % 4;"
            )),
            1 => self.line(&format!(
                "let {ix} = (({b} * 4.0).clamp(0.0, 3.0) as usize).min(3);"
            )),
            _ => self.line(&format!(
                "let {ix} = ((({b} * 5.0).ceil() as i64).clamp(0, 3)) as usize;"
            )),
        }
        let tb = self.fresh("ctb");
        self.line(&format!("let {tb}: [{f}; 4] = [0.5, -0.25, 1.0, 0.75];"));
        let mut terms: Vec<(String, f64)> = vec![
            (format!("{tb}[{k2}] * {a}"), 1.0),
            (format!("{tb}[{ix}] * {b} * ({k3} as {f})"), 3.0),
        ];
        match self.rng.below(3) {
            0 => terms.push((format!("{b}.powi({k3})"), 1.0)),
            1 => terms.push((format!("({a} * 0.5 + {b}).powi({k3} + 1) * 0.125"), 1.0)),
            _ => terms.push((
                format!("({a} * {a} + 0.5).powi({k1}.rem_euclid(3) as i32 - 1)"),
                2.0,
            )),
        }
        // A condition on the integers choosing between differentiated branches.
        let c = self.fresh("cb");
        match self.rng.below(3) {
            0 => {
                self.line(&format!("let {c}: {f} = if {k1} > 2 {{"));
                self.line(&format!("    {a} * {b} + ({k1} as {f}) * 0.125"));
                self.line(&format!("}} else if {k1} < -1 {{"));
                self.line(&format!("    ({b} - {a}).sin()"));
                self.line("} else {");
                self.line(&format!("    {a}.exp() * 0.25 + {b}"));
                self.line("};");
                terms.push((c, 2.0));
            }
            1 => {
                self.line(&format!("let {c} = match {k2} {{"));
                self.line(&format!("    0 => {a} * 0.5,"));
                self.line(&format!(
                    "    1 | 2 => ({a} * {b}).tanh() + {tb}[{k2} + 1],"
                ));
                self.line(&format!("    _ => {b} * ({ix} as {f}) * 0.25,"));
                self.line("};");
                terms.push((c, 2.0));
            }
            _ => {
                let (acc, i) = (self.fresh("ca"), self.fresh("i"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..({k2} + 1) {{"));
                self.line(&format!("    if ({i} as i64) < {k1} {{"));
                self.line(&format!("        {acc} += {tb}[{i}] * {a};"));
                self.line("    } else {");
                self.line(&format!("        {acc} -= {tb}[3 - {i}] * {b} * 0.5;"));
                self.line("    }");
                self.line("}");
                self.line(&format!("let {c} = {acc};"));
                terms.push((c, 4.0));
            }
        }
        if self.rng.chance(50) {
            // A loop bound and `powi` exponents from the cast integers.
            let (acc, i) = (self.fresh("ca"), self.fresh("i"));
            self.line(&format!("let mut {acc}: {f} = 0.0;"));
            self.line(&format!("for {i} in 0..{k2} + 1 {{"));
            self.line(&format!(
                "    {acc} += ({a} * 0.75).powi({i} as i32) * {tb}[{i}] + {b}.powi(({k3} - {i} as i32).max(0)) * 0.125;"
            ));
            self.line("}");
            // |b|^max(k3 - i, 0) ≤ 1.
            terms.push((acc, 4.0 * 1.125));
        }
        let seqs = self.seqs_of_at_least(1);
        if let Some(s) = self.pick_of(&seqs) {
            let q = self.fresh("cq");
            self.line(&format!(
                "let {q} = ((({a}.abs() * 7.0) as usize).min({}.len() - 1), {b}.signum() as i32);",
                s.name
            ));
            terms.push((
                format!("{}[{q}.0] * {a}.powi({q}.1 + 1) * 0.5", s.name),
                s.bound * 0.5,
            ));
        }
        let code: Vec<&str> = terms.iter().map(|(c, _)| c.as_str()).collect();
        let bound: f64 = terms.iter().map(|(_, b)| b).sum();
        self.line(&format!("let {t}: {f} = {};", code.join(" + ")));
        self.declare_tamed(t, bound);
        true
    }
}
