//! Statement kinds for a model passed to helpers and for long iterator chains, as users write
//! them when they fit a model or reduce data:
//!
//! - `model`: a struct `Net { w: Vec<F>, b: F, k: F }` (`#[derive(Clone, Differentiable)]`)
//!   with `&self` methods calling each other (`eval` calls `act`, `loss` calls `eval` in a
//!   loop, `settle` iterates `eval` in a `loop` to a tolerance and `break`s with its value,
//!   `grow` runs a `while` whose trip count the data decide), built from differentiated values
//!   (a `vec![..]`, pushes, a `collect`), its methods called in loops and branches, in a `let r
//!   = loop { .. break v; }`, in a chain, and passed to helpers taking it as a parameter, by
//!   reference (`m: &Net`, with `xs: &[F]`) or by value (`mut m: Net`, its fields written);
//! - `adapters`: chains of two to five adapters (`enumerate`, `skip`, `step_by`, `rev`, `take`,
//!   `copied`, `filter`, a `map` in the middle) on `iter()`, `iter().copied()`, `zip` and
//!   `windows(2)` sources, their items taken apart by nested patterns (`|(i, (&p, w))|`, `|&(i,
//!   u)|` in `filter`), ending in `sum`, `product`, `fold`, `max_by`/`min_by` (`unwrap_or`) or a
//!   `for` loop; the closures may call a helper generic over `T: num_traits::Float`, which is
//!   also called with the other float type (`g::<f32>(a as f32, ..) as f64`) or over a `Vec` of
//!   it.
//!
//! As in `tables.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value; its names take prefixes
//! that no parameter has (`md`, `mq`, `ad`, `az`).

use super::{FnGen, Kind, SeqKind};
use crate::program::{Function, Param, ParamKind, Ret};

fn param(name: &str, kind: ParamKind) -> Param {
    Param {
        name: name.to_string(),
        kind,
        mutable: false,
        value: Vec::new(),
    }
}

/// The item of a chain, as far as the adapters applied so far made it.
#[derive(Clone, Debug)]
enum It {
    /// `&F`.
    Ref,
    /// `F`.
    Val,
    /// `&[F]` of two elements (`windows(2)`).
    Win,
    /// A pair of items (`zip`).
    Pair(Box<It>, Box<It>),
    /// `(usize, item)` (`enumerate`).
    Idx(Box<It>),
}

/// A pattern taking an item apart: its text, the floats it binds (as expressions) and the
/// indices it binds.
struct Pat {
    text: String,
    floats: Vec<String>,
    ints: Vec<String>,
}

impl FnGen<'_> {
    fn pat_of(&mut self, it: &It) -> Pat {
        match it {
            It::Ref => {
                let u = self.fresh("az");
                if self.rng.chance(50) {
                    Pat {
                        text: format!("&{u}"),
                        floats: vec![u],
                        ints: vec![],
                    }
                } else {
                    Pat {
                        text: u.clone(),
                        floats: vec![format!("(*{u})")],
                        ints: vec![],
                    }
                }
            }
            It::Val => {
                let u = self.fresh("az");
                Pat {
                    text: u.clone(),
                    floats: vec![u],
                    ints: vec![],
                }
            }
            It::Win => {
                let w = self.fresh("aw");
                Pat {
                    text: w.clone(),
                    floats: vec![format!("{w}[0]"), format!("{w}[1]")],
                    ints: vec![],
                }
            }
            It::Pair(p, q) => {
                let (p, q) = (self.pat_of(p), self.pat_of(q));
                Pat {
                    text: format!("({}, {})", p.text, q.text),
                    floats: [p.floats, q.floats].concat(),
                    ints: [p.ints, q.ints].concat(),
                }
            }
            It::Idx(p) => {
                let i = self.fresh("ai");
                let p = self.pat_of(p);
                Pat {
                    text: format!("({i}, {})", p.text),
                    floats: p.floats,
                    ints: [vec![i], p.ints].concat(),
                }
            }
        }
    }

    /// A float of bound at most 1.5 from a pattern's floats and the captured `a`, `b` (and a
    /// generic helper `gm` when given).
    fn item_body(&mut self, pat: &Pat, a: &str, b: &str, gm: Option<&str>) -> String {
        let f = self.f();
        let x = self.rng.pick(&pat.floats).clone();
        let y = self.rng.pick(&pat.floats).clone();
        let mut body = match self.rng.below(4) {
            0 => format!("({x} * {a} + {y} * 0.5).tanh()"),
            1 => format!("({x} - {b}).sin() * 0.5 + ({y} * {a}).tanh() * 0.5"),
            2 => format!("{x}.tanh() * {b}"),
            _ => format!("({x} * {y} * 0.25 + {a}).tanh()"),
        };
        if let Some(g) = gm {
            if self.rng.chance(60) {
                body = format!("{g}({x}.tanh(), {a}) + {body} * 0.5");
            }
        }
        if let Some(i) = pat.ints.first() {
            if self.rng.chance(60) {
                body = format!("{body} * 0.5 + (({i} % 3) as {f}) * 0.25");
            }
        }
        body
    }

    /// A condition on a pattern's values, for `filter`.
    fn item_cond(&mut self, pat: &Pat, a: &str) -> String {
        let x = self.rng.pick(&pat.floats).clone();
        let y = self.rng.pick(&pat.floats).clone();
        match (pat.ints.first(), self.rng.below(4)) {
            (Some(i), 0) => format!("{i} % 2 == 0"),
            (Some(i), 1) => format!("{i} != 1 || {x} > {a}"),
            (_, 2) => format!("{x} > {y} * 0.5 - 0.25"),
            _ => format!("{x} * {a} < 0.5"),
        }
    }

    /// A helper generic over `T: num_traits::Float` of bound 0.75, `gm(u, k)`; or, over a
    /// slice, `gs(s, k)` of bound its length.
    fn generic_item_helper(&mut self) -> String {
        let name = self.helper_name("gm");
        let source = match self.rng.below(2) {
            0 => format!(
                "fn {name}<T: num_traits::Float>(u: T, k: T) -> T {{\n    \
                 (u * k).tanh() * T::from(0.5).unwrap() + (u - k).sin() * T::from(0.25).unwrap()\n}}\n"
            ),
            _ => format!(
                "fn {name}<T>(u: T, k: T) -> T\nwhere\n    T: num_traits::Float,\n{{\n    \
                 let h = T::from(0.5).unwrap();\n    \
                 if u > k {{\n        (u * h).tanh() * h + k * T::from(0.25).unwrap()\n    }} else {{\n        \
                 (u * k + h).sin() * h\n    }}\n}}\n"
            ),
        };
        self.buffer_fns.push(Function {
            name: name.clone(),
            params: vec![param("u", ParamKind::Scalar), param("k", ParamKind::Scalar)],
            ret: Ret::Scalar,
            source,
        });
        name
    }

    /// A chain of adapters over the function's containers (or a local one), reduced.
    pub(super) fn s_adapters(&mut self) -> bool {
        let f = self.f().to_string();
        let o = self.fl.other().name();
        let (a, b) = (self.unit_local(), self.unit_local());
        let seqs: Vec<_> = self
            .seqs_but_windows()
            .into_iter()
            .filter(|v| matches!(v.kind, Kind::Seq { seq, .. } if seq != SeqKind::Window))
            .collect();
        let (xs, n_lo, n_hi) = match self.pick_of(&seqs) {
            Some(v) if self.rng.chance(80) => match v.kind {
                Kind::Seq { lo, hi, .. } => (v.name.clone(), lo, hi),
                _ => unreachable!(),
            },
            _ => {
                let v = self.fresh("ad");
                let n = self.rng.range(3, 7) as usize;
                let items: Vec<String> = (0..n)
                    .map(|i| match i % 3 {
                        0 => a.clone(),
                        1 => format!("{b} * 0.5"),
                        _ => format!("({a} * {b} + {}).sin()", i as f64 * 0.25),
                    })
                    .collect();
                self.line(&format!("let {v}: Vec<{f}> = vec![{}];", items.join(", ")));
                self.declare(v.clone(), seq_kind(n, n), false, 1.0);
                (v, n, n)
            }
        };
        let other = self
            .pick_of(&seqs)
            .map(|v| v.name)
            .unwrap_or_else(|| xs.clone());
        let gm = self.rng.chance(35).then(|| self.generic_item_helper());
        // The source.
        let (mut code, mut it, mut lo, mut hi) = match self.rng.below(5) {
            0 => (format!("{xs}.iter()"), It::Ref, n_lo, n_hi),
            1 => (format!("{xs}.iter().copied()"), It::Val, n_lo, n_hi),
            2 => (
                format!("{xs}.iter().zip({other}.iter())"),
                It::Pair(Box::new(It::Ref), Box::new(It::Ref)),
                0,
                n_hi,
            ),
            3 => (
                format!("{xs}.windows(2)"),
                It::Win,
                n_lo.saturating_sub(1),
                n_hi.saturating_sub(1),
            ),
            _ => (
                format!("{xs}.iter().copied().zip({other}.windows(2))"),
                It::Pair(Box::new(It::Val), Box::new(It::Win)),
                0,
                n_hi,
            ),
        };
        // ExactSizeIterator and DoubleEndedIterator, as the adapters keep them.
        let (mut exact, mut double) = (true, true);
        let mut enumerated = false;
        let n_adapters = self.rng.range(2, 6);
        for _ in 0..n_adapters {
            match self.rng.below(8) {
                0 if !enumerated => {
                    code += ".enumerate()";
                    it = It::Idx(Box::new(it));
                    enumerated = true;
                    double &= exact;
                }
                1 => {
                    let k = self.rng.range(1, 3) as usize;
                    code += &format!(".skip({k})");
                    lo = lo.saturating_sub(k);
                    hi = hi.saturating_sub(k);
                    double &= exact;
                }
                2 => {
                    let s = self.rng.range(2, 4) as usize;
                    code += &format!(".step_by({s})");
                    lo = lo.div_ceil(s);
                    hi = hi.div_ceil(s);
                    double &= exact;
                }
                3 if double => code += ".rev()",
                4 => {
                    let k = self.rng.range(2, 6) as usize;
                    code += &format!(".take({k})");
                    lo = lo.min(k);
                    hi = hi.min(k);
                    double &= exact;
                }
                5 if matches!(it, It::Ref) => {
                    code += ".copied()";
                    it = It::Val;
                }
                6 => {
                    let pat = self.pat_of(&it);
                    let cond = self.item_cond(&pat, &a);
                    code += &format!(".filter(|&{}| {cond})", pat.text);
                    lo = 0;
                    exact = false;
                }
                7 if self.rng.chance(50) => {
                    let pat = self.pat_of(&it);
                    let body = self.item_body(&pat, &a, &b, gm.as_deref());
                    code += &format!(".map(|{}| {body})", pat.text);
                    it = It::Val;
                }
                _ => {}
            }
        }
        let t = self.fresh("ad");
        let pat = self.pat_of(&it);
        let body = self.item_body(&pat, &a, &b, gm.as_deref());
        // The body is within 1.5 (2 with an index, 1.5 + 0.75 with `gm`).
        let item_bound = 3.0;
        let bound = match self.rng.below(6) {
            0 => {
                let sum = if self.rng.chance(50) {
                    format!("sum::<{f}>()")
                } else {
                    "sum()".to_string()
                };
                let ann = if sum == "sum()" {
                    format!(": {f}")
                } else {
                    String::new()
                };
                self.line(&format!(
                    "let {t}{ann} = {code}.map(|{}| {body}).{sum};",
                    pat.text
                ));
                item_bound * hi as f64
            }
            1 => {
                self.line(&format!(
                    "let {t}: {f} = {code}.map(|{}| 1.0 + 0.125 * ({body}).tanh()).product();",
                    pat.text
                ));
                1.125f64.powi(hi as i32)
            }
            2 => {
                let acc = self.fresh("aq");
                self.line(&format!(
                    "let {t} = {code}.fold({b} * 0.5, |{acc}: {f}, {}| {acc} * 0.5 + {body});",
                    pat.text
                ));
                2.0 * item_bound + 1.0
            }
            3 => {
                let (by, tail) = if self.rng.chance(50) {
                    (
                        "max_by(|p, q| p.total_cmp(q))",
                        "unwrap_or(0.0)".to_string(),
                    )
                } else if lo >= 1 && self.rng.chance(50) {
                    (
                        "min_by(|p, q| p.partial_cmp(q).unwrap())",
                        "unwrap()".to_string(),
                    )
                } else {
                    (
                        "min_by(|p, q| p.partial_cmp(q).unwrap())",
                        format!("unwrap_or({a})"),
                    )
                };
                self.line(&format!(
                    "let {t}: {f} = {code}.map(|{}| {body}).{by}.{tail};",
                    pat.text
                ));
                item_bound
            }
            _ => {
                self.line(&format!("let mut {t}: {f} = {a} * 0.25;"));
                self.lines(&format!(
                    "for {} in {code} {{\n    {t} += {body} * 0.5;\n}}",
                    pat.text
                ));
                item_bound * hi as f64 + 1.0
            }
        };
        let mut bound = bound;
        // The generic helper called with both float types, directly or over a `Vec` of the other.
        if let Some(g) = &gm {
            if self.rng.chance(50) {
                self.mixed = true;
                let t2 = self.fresh("ad");
                if self.rng.chance(50) {
                    self.line(&format!(
                        "let {t2}: {f} = {t} + {g}::<{o}>({a} as {o}, {b} as {o}) as {f} + {g}({b}, {a});"
                    ));
                } else {
                    let v = self.fresh("ad");
                    self.line(&format!(
                        "let {v}: Vec<{o}> = {xs}.iter().map(|&e| (e as {o}).tanh()).collect();"
                    ));
                    self.line(&format!(
                        "let {t2}: {f} = {t} + {v}.iter().map(|&e| {g}(e, {b} as {o})).fold(0.0, |s, e| s + e) as {f} * 0.25;"
                    ));
                    bound += 0.25 * n_hi as f64;
                }
                self.declare(t2, Kind::Float, false, bound + 1.5);
                return true;
            }
        }
        self.declare(t, Kind::Float, false, bound);
        true
    }

    /// A `Net` built from differentiated values, its methods called in loops and branches,
    /// in a `loop` with a `break` value, and passed to a helper taking it as a parameter.
    pub(super) fn s_model(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let md = self.fresh("md");
        let seqs = self.seqs_of_at_least(1);
        let mut w_hi = 3;
        match self.rng.below(4) {
            0 => self.line(&format!(
                "let {md} = Net {{ w: vec![{a}, {b}, {a} * {b}], b: {b} * 0.5, k: 0.75 }};"
            )),
            1 => {
                let w = self.fresh("mq");
                let n = self.rng.range(1, 4);
                self.line(&format!("let mut {w}: Vec<{f}> = Vec::new();"));
                self.lines(&format!(
                    "for i in 0..{n} {{\n    {w}.push(({a} * (i as {f}) + {b}).sin());\n}}"
                ));
                self.line(&format!("let {md} = Net {{ k: {a}, b: 0.25, w: {w} }};"));
            }
            2 => match self.pick_of(&seqs) {
                Some(v) => {
                    if let Kind::Seq { hi, .. } = v.kind {
                        w_hi = hi;
                    }
                    self.line(&format!(
                        "let {md}: Net = Net {{ w: {}.iter().map(|e| (e * {a}).tanh()).collect(), b: {b}, k: 0.5 }};",
                        v.name
                    ))
                }
                None => self.line(&format!(
                    "let {md} = Net {{ w: vec![{b}; 2], b: {a}, k: {b} + 0.25 }};"
                )),
            },
            _ => {
                self.line(&format!(
                    "let mut {md} = Net {{ w: vec![0.5, {a}], b: 0.0, k: 1.0 }};"
                ));
                self.line(&format!("{md}.b = {b} * 0.5;"));
                self.line(&format!("{md}.w.push({b});"));
            }
        }
        let t = self.fresh("md");
        self.line(&format!("let mut {t}: {f} = 0.0;"));
        let mut bound = 0.0;
        for _ in 0..self.rng.range(1, 4) {
            match self.rng.below(7) {
                0 => {
                    let n = self.rng.range(2, 4);
                    self.lines(&format!(
                        "for i in 0..{n} {{\n    let z = {md}.eval({a} + (i as {f}) * 0.25);\n    \
                         if z > 0.0 {{\n        {t} += {md}.settle(z) * 0.5;\n    }} else {{\n        \
                         {t} -= Net::act(&{md}, z) * 0.25;\n    }}\n}}"
                    ));
                    bound += n as f64 * 1.0;
                }
                1 => {
                    let (q, c, r) = (self.fresh("mq"), self.fresh("mq"), self.fresh("mq"));
                    self.lines(&format!(
                        "let mut {q}: {f} = {a};\nlet mut {c} = 0;\nlet {r} = loop {{\n    \
                         let y = {md}.eval({q});\n    {c} += 1;\n    \
                         if y > 0.5 || {c} >= 4 {{\n        break y * 0.5 + {q};\n    }}\n    \
                         {q} = {q} * 0.5 + y * 0.25;\n}};\n{t} += {r};"
                    ));
                    bound += 2.5;
                }
                2 => {
                    self.line(&format!("{t} += {md}.grow({b}) * 0.5;"));
                    bound += 3.0;
                }
                3 => {
                    self.line(&format!(
                        "{t} += {md}.w.iter().map(|w| {md}.act(*w)).sum::<{f}>() * 0.25;"
                    ));
                    bound += 0.375 * w_hi as f64;
                }
                4 => {
                    let h = self.model_helper_ref();
                    match self.pick_of(&seqs) {
                        Some(v) => self.line(&format!("{t} += {h}(&{md}, &{}[..], {a});", v.name)),
                        None => self.line(&format!("{t} += {h}(&{md}, &[{a}, {b}], {b});")),
                    }
                    bound += 3.0;
                }
                5 => {
                    let h = self.model_helper_value();
                    self.line(&format!("{t} += {h}({md}.clone(), {b}) * 0.5;"));
                    bound += 2.5;
                }
                _ => {
                    let xs = match self.pick_of(&seqs) {
                        Some(v) => format!("&{}[..]", v.name),
                        None => format!("&[{a}, {b} * 0.5]"),
                    };
                    self.lines(&format!(
                        "if {md}.loss({xs}) > 0.5 {{\n    {t} += {md}.eval({b}) * 0.5;\n}} else {{\n    \
                         {t} += {md}.loss({xs}) * 0.25 + {md}.b;\n}}"
                    ));
                    bound += 2.0;
                }
            }
        }
        self.declare(t, Kind::Float, true, bound);
        true
    }

    /// `fn h(m: &Net, xs: &[F], t: F) -> F` (`xs` not empty): the model's methods in a loop
    /// over `xs` with branches, `settle`, `loss` and a field read by a computed index.
    fn model_helper_ref(&mut self) -> String {
        let f = self.f();
        let name = self.helper_name("mh");
        let source = format!(
            "fn {name}(m: &Net, xs: &[{f}], t: {f}) -> {f} {{\n    \
             let mut s: {f} = 0.0;\n    \
             for (j, &x) in xs.iter().enumerate() {{\n        \
             if m.eval(x) > t * 0.5 {{\n            s += m.act(x * 0.5) * 0.5;\n        \
             }} else if j % 2 == 0 {{\n            s -= Net::eval(m, x.tanh()) * 0.25;\n        \
             }} else {{\n            s += m.w[j % m.w.len()] * 0.25;\n        }}\n    }}\n    \
             let r = m.settle(t);\n    \
             s / (xs.len() as {f}) + r * 0.5 + m.loss(xs) * 0.125\n}}\n"
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

    /// `fn h(mut m: Net, t: F) -> F`: its fields written, then a `while` whose trip count
    /// the model decides.
    fn model_helper_value(&mut self) -> String {
        let f = self.f();
        let name = self.helper_name("mv");
        let (head, writes) = if self.rng.chance(50) {
            (
                format!("fn {name}(mut m: Net, t: {f}) -> {f} {{"),
                "m.b = m.b * 0.5 + t * 0.25;\n    m.w.push(t.tanh());\n    ".to_string(),
            )
        } else {
            (
                format!("fn {name}(m: Net, t: {f}) -> {f} {{"),
                String::new(),
            )
        };
        let source = format!(
            "{head}\n    {writes}let mut u = t;\n    let mut n = 0;\n    \
             while n < 8 && m.eval(u) > -0.5 {{\n        u = u * 0.5 + m.act(u) * 0.25;\n        n += 1;\n    }}\n    \
             u + m.grow(t) * 0.25\n}}\n"
        );
        self.buffer_fns.push(Function {
            name: name.clone(),
            params: vec![param("m", ParamKind::Scalar), param("t", ParamKind::Scalar)],
            ret: Ret::Scalar,
            source,
        });
        name
    }
}

fn seq_kind(lo: usize, hi: usize) -> Kind {
    Kind::Seq {
        seq: SeqKind::Vec,
        lo,
        hi,
    }
}
