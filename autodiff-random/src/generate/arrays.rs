//! Statement kinds for ndarray programs that mix the array operations with scalar loops, as
//! users write them (`nd_loop`): a vector or a matrix of zeros filled by element writes in
//! index loops (`x[i] = ..`, `m[[i, j]] += ..`, a recurrence from `x[i - 1]`), then `mapv`
//! closures, `dot` (matrix·vector, vector·matrix, vector·vector), broadcasting a row over a
//! matrix, `sum_axis`, and scalar loops over `.iter()`, `.indexed_iter()` (of a vector and of a
//! matrix), `.iter().enumerate()` and `0..y.len()` that reduce into a float or write into
//! another local array; inline, or in a helper of its own taking `&Array1<F>` and
//! `&Array2<F>`.
//!
//! As in `state.rs`, the statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value; its names take prefixes
//! that no parameter has (`nx`, `nq`, `ny`, `nt`).

use super::{FnGen, Kind, LIMIT};
use crate::program::{Function, Param, ParamKind, Ret};

fn param(name: &str, kind: ParamKind) -> Param {
    Param {
        name: name.to_string(),
        kind,
        mutable: false,
        value: Vec::new(),
    }
}

/// The text of the reductions of a vector `x` of `n` elements (bound `ex`) and, where `m` is
/// given, a matrix of `r` rows and `c` columns (bound `em`) into the float `t`, with `k` a
/// differentiated scalar within 1: its lines and a bound on `t`.
#[allow(clippy::too_many_arguments)]
fn reduce_lines(
    rng: &mut crate::rng::Rng,
    f: &str,
    x: &str,
    n: usize,
    ex: f64,
    m: Option<(&str, usize, usize, f64)>,
    k: &str,
    t: &str,
    tag: &str,
) -> (String, f64) {
    let mut out = String::new();
    // The matrix borrowed: a helper's parameter is a reference already.
    let mb = |m: &str| {
        if tag.is_empty() {
            m.to_string()
        } else {
            format!("&{m}")
        }
    };
    let y = format!("ny{tag}");
    let (i, j, v) = (format!("i{tag}"), format!("j{tag}"), format!("v{tag}"));
    // A vector `y` of known length and bound, from the array operations.
    let (ylen, ey) = match (m, rng.below(7)) {
        (Some((m, r, c, em)), 0) => {
            // Matrix·vector, the vector the first `c` elements of `x` (or `x` repeated).
            let w = format!("nw{tag}");
            if c <= n {
                out += &format!("let {w} = {x}.slice(s![..{c}]).to_owned();\n");
            } else {
                out += &format!("let mut {w}: Array1<{f}> = Array1::zeros({c});\n");
                out += &format!("for {i} in 0..{c} {{\n    {w}[{i}] = {x}[{i} % {n}] * {k};\n}}\n");
            }
            out += &format!("let {y} = {m}.dot(&{w});\n");
            (r, c as f64 * em * ex)
        }
        (Some((m, r, c, em)), 1) => {
            // Vector·matrix.
            let w = format!("nw{tag}");
            out += &format!("let mut {w}: Array1<{f}> = Array1::zeros({r});\n");
            out += &format!(
                "for ({i}, e) in {w}.iter_mut().enumerate() {{\n    *e = {x}[{i} % {n}] * 0.5 + {k} * 0.25;\n}}\n"
            );
            out += &format!("let {y} = {w}.dot({});\n", mb(m));
            (c, r as f64 * em * (ex * 0.5 + 0.25))
        }
        (Some((m, r, c, em)), 2) => {
            // A row broadcast over the matrix, then summed down its columns.
            let w = format!("nw{tag}");
            out += &format!("let {w}: Array1<{f}> = {m}.row(0).mapv(|{v}| ({v} * {k}).tanh());\n");
            let op = *rng.pick(&["+", "*", "-"]);
            out += &format!("let {y} = ({} {op} &{w}).sum_axis(Axis(0));\n", mb(m));
            let e = if op == "*" { em } else { em + 1.0 };
            (c, r as f64 * e)
        }
        (Some((m, r, _, em)), 3) => {
            // A sum along the rows, then `mapv`.
            out +=
                &format!("let {y} = {m}.sum_axis(Axis(1)).mapv(|{v}| ({v} * 0.5).sin() + {k});\n");
            let _ = em;
            (r, 2.0)
        }
        (Some((m, r, c, em)), 4) => {
            // A loop over the matrix's elements by `indexed_iter`, into a local array.
            let y_ = &y;
            out += &format!("let mut {y_}: Array1<{f}> = Array1::zeros({c});\n");
            out += &format!(
                "for (({i}, {j}), &{v}) in {m}.indexed_iter() {{\n    if ({i} + {j}) % 2 == 0 {{\n        \
                 {y_}[{j}] += {v} * {k};\n    }} else {{\n        {y_}[{j}] -= {v} * 0.5;\n    }}\n}}\n"
            );
            (c, r as f64 * em)
        }
        (_, 5) => {
            // `mapv` capturing a differentiated scalar, then element writes.
            out += &format!("let mut {y} = {x}.mapv(|{v}| ({v} * {k} + 0.25).tanh());\n");
            out += &format!("{y}[0] = {y}[{}] * {k};\n", n - 1);
            if n > 2 {
                out += &format!("{y}[1] += {y}[0] * 0.5;\n");
            }
            (n, 1.5)
        }
        _ => {
            // A scan written by hand into a local array.
            out += &format!("let mut {y}: Array1<{f}> = Array1::zeros({n});\n");
            out += &format!("{y}[0] = {x}[0];\n");
            out += &format!(
                "for {i} in 1..{y}.len() {{\n    {y}[{i}] = {y}[{i} - 1] * 0.5 + {x}[{i}] * {k};\n}}\n"
            );
            (n, 2.0 * ex)
        }
    };
    // The scalar reduction.
    let bound = match rng.below(6) {
        0 => {
            out += &format!("let mut {t}: {f} = 0.0;\n");
            out += &format!("for &{v} in {y}.iter() {{\n    {t} += {v} * {v} * 0.5;\n}}\n");
            ylen as f64 * ey * ey * 0.5
        }
        1 => {
            out += &format!("let mut {t}: {f} = 0.0;\n");
            out += &format!(
                "for ({i}, &{v}) in {y}.indexed_iter() {{\n    {t} += {v} * ({i} as {f} + 1.0) * 0.25;\n}}\n"
            );
            ylen as f64 * ey * (ylen as f64 + 1.0) * 0.25
        }
        2 => {
            out += &format!("let mut {t}: {f} = {k} * 0.5;\n");
            out += &format!(
                "for ({i}, {v}) in {y}.iter().enumerate() {{\n    {t} += {v} * {x}[{i} % {n}];\n}}\n"
            );
            0.5 + ylen as f64 * ey * ex
        }
        3 => {
            out += &format!("let mut {t}: {f} = 0.0;\n");
            out += &format!(
                "for {i} in 0..{y}.len() {{\n    if {y}[{i}] > {k} {{\n        {t} += {y}[{i}] * {k};\n    }} else {{\n        \
                 {t} -= ({y}[{i}] * 0.5).sin();\n    }}\n}}\n"
            );
            ylen as f64 * ey.max(1.0)
        }
        4 => {
            out += &format!("let {t} = {y}.dot(&{y}) * 0.25 + {y}.sum();\n");
            ylen as f64 * (ey * ey * 0.25 + ey)
        }
        _ => match m {
            Some((m, r, c, em)) => {
                out += &format!("let mut {t}: {f} = {y}.mapv(|{v}| {v}.tanh()).sum();\n");
                out += &format!(
                    "for (({i}, {j}), {v}) in {m}.indexed_iter() {{\n    {t} += {v} * ({i} as {f} - {j} as {f}) * 0.125;\n}}\n"
                );
                ylen as f64 + (r * c) as f64 * em * (r.max(c) as f64) * 0.125
            }
            None => {
                out += &format!("let {t} = {y}.mapv(|{v}| ({v} * {k}).exp()).mean().unwrap();\n");
                ey.exp()
            }
        },
    };
    (out, bound)
}

impl FnGen<'_> {
    /// An ndarray vector (and perhaps a matrix) of zeros filled by element writes in index
    /// loops, mixed with `mapv`, `dot`, broadcasting and `sum_axis`, then reduced by scalar
    /// loops over `iter()`, `indexed_iter()` or indices; inline or in a helper taking the
    /// arrays by reference.
    pub(super) fn s_nd_loop(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("nt");
        let tag = {
            self.names += 1;
            self.names.to_string()
        };
        let x = format!("nx{tag}");
        let n = self.rng.range(2, 4) as usize;
        let i = format!("i{tag}");
        // The vector, filled by element writes.
        let ex = match self.rng.below(4) {
            0 => {
                self.line(&format!("let mut {x}: Array1<{f}> = Array1::zeros({n});"));
                self.lines(&format!(
                    "for {i} in 0..{n} {{\n    {x}[{i}] = ({a} * ({i} as {f}) * 0.5 + {b}).tanh();\n}}"
                ));
                1.0
            }
            1 => {
                self.line(&format!("let mut {x} = Array1::<{f}>::zeros({n});"));
                self.lines(&format!(
                    "for {i} in 0..{x}.len() {{\n    {x}[{i}] += {a} * 0.5;\n    {x}[{i}] = {x}[{i}] * {b} + ({i} as {f}) * 0.25;\n}}"
                ));
                0.5 + 0.25 * (n - 1) as f64
            }
            2 => {
                let es: Vec<String> = (0..n)
                    .map(|k| match k % 3 {
                        0 => a.clone(),
                        1 => b.clone(),
                        _ => format!("{a} * {b}"),
                    })
                    .collect();
                self.line(&format!(
                    "let mut {x}: Array1<{f}> = Array1::from(vec![{}]);",
                    es.join(", ")
                ));
                self.line(&format!("{x}[0] = {x}[{}] * {a};", n - 1));
                1.0
            }
            _ => {
                self.line(&format!("let mut {x}: Array1<{f}> = Array1::zeros({n});"));
                self.line(&format!("{x}[0] = {a};"));
                self.lines(&format!(
                    "for {i} in 1..{n} {{\n    {x}[{i}] = {x}[{i} - 1] * 0.5 + {b} * ({i} as {f}) * 0.25;\n}}"
                ));
                2.0
            }
        };
        // A matrix, filled by element writes in two loops (or by an outer product).
        let m = if self.rng.chance(65) {
            let m = format!("nq{tag}");
            let (r, c) = (self.rng.range(2, 3) as usize, self.rng.range(2, 3) as usize);
            let j = format!("j{tag}");
            let em = if self.rng.chance(50) {
                self.line(&format!(
                    "let mut {m}: Array2<{f}> = Array2::zeros(({r}, {c}));"
                ));
                self.lines(&format!(
                    "for {i} in 0..{r} {{\n    for {j} in 0..{c} {{\n        {m}[[{i}, {j}]] = {x}[({i} + {j}) % {n}] * 0.5 \
                     + ({a} * ({i} as {f}) - {b} * ({j} as {f})).sin() * 0.5;\n    }}\n}}"
                ));
                ex * 0.5 + 0.5
            } else {
                self.line(&format!("let mut {m} = Array2::<{f}>::zeros(({r}, {c}));"));
                self.lines(&format!(
                    "for {i} in 0..{m}.nrows() {{\n    for {j} in 0..{m}.ncols() {{\n        \
                     {m}[[{i}, {j}]] += {x}[{i} % {n}] * {x}[{j} % {n}];\n    }}\n}}"
                ));
                self.line(&format!("{m}[[0, 0]] -= {a};"));
                ex * ex + 1.0
            };
            Some((m, r, c, em))
        } else {
            None
        };
        let bound = if self.rng.chance(65) {
            let mref = m.as_ref().map(|(m, r, c, em)| (m.as_str(), *r, *c, *em));
            let (text, bound) = reduce_lines(self.rng, &f, &x, n, ex, mref, &b, &t, &tag);
            self.lines(&text);
            bound
        } else {
            // In a helper taking the arrays by reference.
            let name = format!("{}_nd{tag}", self.fn_tag);
            let mref = m.as_ref().map(|(_, r, c, em)| ("m", *r, *c, *em));
            let (text, bound) = reduce_lines(self.rng, &f, "x", n, ex, mref, "k", "t", "");
            let mut params = vec![param("x", ParamKind::Slice)];
            let sig = if m.is_some() {
                params.push(param("m", ParamKind::Slice));
                format!("x: &Array1<{f}>, m: &Array2<{f}>, k: {f}")
            } else {
                format!("x: &Array1<{f}>, k: {f}")
            };
            params.push(param("k", ParamKind::Scalar));
            let mut source = format!("fn {name}({sig}) -> {f} {{\n");
            for l in text.lines() {
                source += "    ";
                source += l;
                source += "\n";
            }
            source += "    t\n}\n";
            self.buffer_fns.push(Function {
                name: name.clone(),
                params,
                ret: Ret::Scalar,
                source,
            });
            let call = match &m {
                Some((m, ..)) => format!("{name}(&{x}, &{m}, {b})"),
                None => format!("{name}(&{x}, {b})"),
            };
            self.line(&format!("let {t} = {call};"));
            bound
        };
        self.declare(t, Kind::Float, false, bound.min(LIMIT * 4.0));
        true
    }
}
