//! What the generator produces: a [`Case`] is a few functions in the documented subset of
//! `#[differentiate]` (helpers, then an entry function with a scalar result), with the point at
//! which its checks run. This module turns a case into Rust source: the functions with or
//! without the attribute, and a `check()` function that compares the generated `_grad` and
//! `_jvp` with the plain function through `autodiff_random::harness`.

use std::fmt::Write as _;

/// The float type of a case: every float parameter and result of its functions has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Float {
    /// `f64`.
    F64,
    /// `f32`.
    F32,
}

impl Float {
    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            Float::F64 => "f64",
            Float::F32 => "f32",
        }
    }

    /// The other float type.
    pub fn other(self) -> Float {
        match self {
            Float::F64 => Float::F32,
            Float::F32 => Float::F64,
        }
    }
}

/// The type of a parameter, over the case's float type `F`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// `x: F`.
    Scalar,
    /// `x: &[F]`.
    Slice,
    /// `x: &Vec<F>`.
    VecRef,
    /// `x: Vec<F>`.
    VecOwned,
    /// `x: [F; N]`.
    Array(usize),
    /// `x: &mut Vec<F>`: a buffer the function changes.
    MutVec,
    /// `x: &mut [F]`: a buffer the function changes in place (its length fixed).
    MutSlice,
    /// `n: usize`.
    Usize,
    /// `k: i32`.
    I32,
}

impl ParamKind {
    /// Whether the parameter is differentiated (every float-holding parameter is).
    pub fn active(&self) -> bool {
        !matches!(self, ParamKind::Usize | ParamKind::I32)
    }

    /// The parameter's type in Rust.
    pub fn rust_type(&self, f: Float) -> String {
        let f = f.name();
        match self {
            ParamKind::Scalar => f.to_string(),
            ParamKind::Slice => format!("&[{f}]"),
            ParamKind::VecRef => format!("&Vec<{f}>"),
            ParamKind::VecOwned => format!("Vec<{f}>"),
            ParamKind::Array(n) => format!("[{f}; {n}]"),
            ParamKind::MutVec => format!("&mut Vec<{f}>"),
            ParamKind::MutSlice => format!("&mut [{f}]"),
            ParamKind::Usize => "usize".to_string(),
            ParamKind::I32 => "i32".to_string(),
        }
    }

    /// The owned type of the parameter's value (and gradient) in the checks.
    fn owned_type(&self, f: Float) -> String {
        let f = f.name();
        match self {
            ParamKind::Scalar => f.to_string(),
            ParamKind::Array(n) => format!("[{f}; {n}]"),
            ParamKind::Usize => "usize".to_string(),
            ParamKind::I32 => "i32".to_string(),
            _ => format!("Vec<{f}>"),
        }
    }
}

/// A parameter and the value it has where the entry function is checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The name.
    pub name: String,
    /// The type.
    pub kind: ParamKind,
    /// Declared `mut`.
    pub mutable: bool,
    /// The value at the checked point: one number for scalars and integers, the elements
    /// otherwise (empty for helpers, which are checked through the entry function).
    pub value: Vec<f64>,
}

/// What a function returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// One float.
    Scalar,
    /// A pair of floats.
    Pair,
}

/// One generated function.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// The name.
    pub name: String,
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// The result.
    pub ret: Ret,
    /// The source of the function without attribute: `fn name(..) -> R { .. }`.
    pub source: String,
}

/// A generated program: helpers, then the entry function (the last one), all differentiated.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// The seed that generated it: generating from it again gives the same case.
    pub seed: u64,
    /// The float type of the functions.
    pub float: Float,
    /// Whether some value is rounded to the other float type inside: the checks against finite
    /// differences then use the coarser type's step and tolerances.
    pub mixed_precision: bool,
    /// Declared `#[differentiate(hessian)]`: `check()` also checks the entry's `_hvp`.
    pub hessian: bool,
    /// The functions; the last is the entry function.
    pub functions: Vec<Function>,
}

impl Case {
    /// The module name of the case: `c_` and the seed in hexadecimal.
    pub fn module_name(&self) -> String {
        format!("c_{:016x}", self.seed)
    }

    /// The entry function.
    pub fn entry(&self) -> &Function {
        self.functions.last().expect("a case has an entry function")
    }

    /// The functions with `#[differentiate]`, as they would be written by hand: the smallest
    /// reproducer of a finding is this text.
    pub fn program(&self) -> String {
        let mut out = self.uses();
        out.push_str(&self.structs());
        for f in &self.functions {
            out.push_str(self.attribute());
            out.push('\n');
            out.push_str(&f.source);
            out.push('\n');
        }
        out
    }

    /// The attribute of every function and method.
    fn attribute(&self) -> &'static str {
        if self.hessian {
            "#[differentiate(hessian)]"
        } else {
            "#[differentiate]"
        }
    }

    /// The size of the program in bytes, without blanks: how findings are ranked.
    pub fn size(&self) -> usize {
        self.program()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
    }

    /// A module `c_<seed> { .. }` with the differentiated functions and `pub fn check() ->
    /// Result<(), autodiff_random::harness::Failure>`.
    pub fn module(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "#[allow(unused, unreachable_code, clippy::all)]");
        let _ = writeln!(out, "pub mod {} {{", self.module_name());
        out.push_str("use autodiff::differentiate;\n");
        out.push_str(&self.consts());
        out.push_str(&self.program());
        out.push_str(&self.check_fn());
        out.push_str("}\n");
        out
    }

    /// The same functions without the attribute and without checks: plain Rust that must
    /// compile, whatever the macro does.
    pub fn plain_module(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "#[allow(unused, unreachable_code, clippy::all)]");
        let _ = writeln!(out, "pub mod {} {{", self.module_name());
        out.push_str(&self.consts());
        out.push_str(&self.uses());
        // Without the derive and the attribute: the plain crate does not depend on `autodiff`.
        out.push_str(
            &self
                .structs()
                .replace(", autodiff::Differentiable", "")
                .replace("    #[differentiable(data)]\n", "")
                .replace(&format!("    {}\n", self.attribute()), "")
                .replace(&format!("{}\nimpl", self.attribute()), "impl")
                .replace(&format!("{}\nfn", self.attribute()), "fn")
                .replace(&format!("{}\nfn", self.mode_attribute()), "fn"),
        );
        for f in &self.functions {
            out.push_str(&f.source);
            out.push('\n');
        }
        out.push_str("}\n");
        out
    }

    /// The imports the functions need: ndarray's array types where they build arrays.
    fn uses(&self) -> String {
        if self.functions.iter().any(|f| f.source.contains("Array")) {
            "use ndarray::{s, Array, Array1, Array2, Axis};\n\n".to_string()
        } else {
            String::new()
        }
    }

    /// The struct the functions build (`Pt { a, b }`), if one of them does, with the
    /// differentiated methods they may call on it (`p.norm()`, `p.mix(k)`).
    fn structs(&self) -> String {
        let mut out = String::new();
        if self.functions.iter().any(|f| f.source.contains("V2")) {
            out.push_str(&self.vec2());
        }
        if self.functions.iter().any(|f| f.source.contains("rk4(")) {
            out.push_str(&self.rk4());
        }
        if self.functions.iter().any(|f| f.source.contains("Mode")) {
            out.push_str(&self.modes());
        }
        if self.functions.iter().any(|f| f.source.contains("Acc")) {
            out.push_str(&self.acc());
        }
        if self.functions.iter().any(|f| f.source.contains("Net")) {
            out.push_str(&self.model());
        }
        if self.functions.iter().any(|f| f.source.contains("Fit {")) {
            out.push_str(&self.fit());
        }
        if self.functions.iter().any(|f| f.source.contains("Cfg")) {
            out.push_str(&self.settings());
        }
        if self
            .functions
            .iter()
            .any(|f| f.source.contains("Stat::new"))
        {
            out.push_str(&self.running());
        }
        if !self.functions.iter().any(|f| f.source.contains("Pt {")) {
            return out;
        }
        out + &format!(
            "#[derive(Clone, autodiff::Differentiable)]\nstruct Pt {{\n    a: {f},\n    b: {f},\n}}\n\n\
             impl Pt {{\n    {attr}\n    fn norm(&self) -> {f} {{\n        \
             (self.a * self.a + self.b * self.b + 0.5).sqrt()\n    }}\n\n    \
             {attr}\n    fn mix(&self, k: {f}) -> {f} {{\n        \
             self.a * k.tanh() + self.b.sin()\n    }}\n\n    \
             {attr}\n    fn scaled(self, k: {f}) -> {f} {{\n        \
             (self.a * k).tanh() + self.b + 0.25 * self.norm()\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// The attribute of `mode_apply`, which takes a `Mode` beside its differentiated value.
    fn mode_attribute(&self) -> &'static str {
        if self.hessian {
            "#[differentiate(wrt(x), hessian)]"
        } else {
            "#[differentiate(wrt(x))]"
        }
    }

    /// `Mode`, an enum of settings with constant payloads, matched as data: a plain method
    /// `factor(&self)` and a function `mode_apply(m: &Mode, x: F)` differentiated in `x` only
    /// (an enum has no gradient type).
    fn modes(&self) -> String {
        format!(
            "#[derive(Clone, Copy, Debug)]\nenum Mode {{\n    Damp({f}),\n    Grow {{ rate: {f} }},\n    Keep,\n}}\n\n\
             impl Mode {{\n    fn factor(&self) -> {f} {{\n        match self {{\n            \
             Mode::Damp(c) => *c,\n            Mode::Grow {{ rate }} => 1.0 + rate,\n            \
             Mode::Keep => 1.0,\n        }}\n    }}\n}}\n\n\
             {attr}\nfn mode_apply(m: &Mode, x: {f}) -> {f} {{\n    match *m {{\n        \
             Mode::Damp(c) => x * c,\n        Mode::Grow {{ rate }} => (x * rate).tanh() + x,\n        \
             Mode::Keep => x.sin(),\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.mode_attribute()
        )
    }

    /// `Cfg { w, b, n, shift, act }`, a parameter struct with integer fields and an enum of
    /// settings marked `#[differentiable(data)]`, and `cfg_apply(&Cfg, x)`, which reads the
    /// integers with their own methods (`n.max(1)`, `shift.clamp(-1, 1)`, `n.count_ones()`)
    /// and matches the enum.
    fn settings(&self) -> String {
        format!(
            "#[derive(Clone, Copy, Debug, PartialEq)]\nenum Act {{\n    Tanh,\n    Soft({f}),\n    Clip {{ lo: {f} }},\n}}\n\n\
             #[derive(Clone, autodiff::Differentiable)]\nstruct Cfg {{\n    w: {f},\n    b: {f},\n    n: usize,\n    shift: i32,\n    \
             #[differentiable(data)]\n    act: Act,\n}}\n\n\
             {attr}\nfn cfg_apply(c: &Cfg, x: {f}) -> {f} {{\n    \
             let z = c.w * x + c.b * (c.n.max(1) as {f}) * 0.25;\n    \
             let z = z + (c.shift.clamp(-1, 1) as {f}) * 0.125 + (c.n.count_ones() as {f}) * 0.0625;\n    \
             match c.act {{\n        Act::Tanh => z.tanh(),\n        \
             Act::Soft(beta) => (1.0 + (beta * z).exp()).ln() / beta,\n        \
             Act::Clip {{ lo }} => z.max(lo),\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// `Stat { n, mean, m2 }`, a running mean and variance (Welford's update): `push_sample(&mut
    /// self, x)` returns nothing and counts in the integer field `n`; `var(&self)` and
    /// `spread(&self, k)` read it, `new(x0)` starts it with one sample.
    fn running(&self) -> String {
        format!(
            "#[derive(Clone, autodiff::Differentiable)]\nstruct Stat {{\n    n: usize,\n    mean: {f},\n    m2: {f},\n}}\n\n\
             {attr}\nimpl Stat {{\n    fn new(x0: {f}) -> Stat {{\n        Stat {{ n: 1, mean: x0, m2: 0.0 }}\n    }}\n\n    \
             fn push_sample(&mut self, x: {f}) {{\n        self.n += 1;\n        let d = x - self.mean;\n        \
             self.mean += d / (self.n as {f});\n        self.m2 += d * (x - self.mean);\n    }}\n\n    \
             fn var(&self) -> {f} {{\n        self.m2 / (self.n as {f})\n    }}\n\n    \
             fn spread(&self, k: {f}) -> {f} {{\n        (self.var() + 0.25).sqrt() * k + self.mean\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// `Acc { s, m }`, an accumulator whose `&mut self` methods call each other: `add` calls
    /// `decay`, `add_two` calls `add` twice (the second time on what the first left in
    /// `self.m`), `relax` calls `decay` in a loop; `value(&self)` and `parts(&self) -> (F,
    /// F)` read it, `new` builds it.
    fn acc(&self) -> String {
        format!(
            "#[derive(Clone, autodiff::Differentiable)]\nstruct Acc {{\n    s: {f},\n    m: {f},\n}}\n\n\
             {attr}\nimpl Acc {{\n    fn new(s: {f}, m: {f}) -> Acc {{\n        Acc {{ s, m }}\n    }}\n\n    \
             fn decay(&mut self, k: {f}) {{\n        self.s *= k;\n    }}\n\n    \
             fn add(&mut self, v: {f}, k: {f}) {{\n        self.decay(k);\n        self.s += v;\n        \
             self.m = self.m.max(v);\n    }}\n\n    \
             fn add_two(&mut self, v: {f}, w: {f}) {{\n        self.add(v, 0.5);\n        \
             let z = (w * self.m).tanh();\n        self.add(z, 0.75);\n    }}\n\n    \
             fn relax(&mut self, k: {f}, n: usize) {{\n        for _ in 0..n {{\n            \
             self.decay(k);\n            self.s += 0.25 * self.m.tanh();\n        }}\n    }}\n\n    \
             fn value(&self) -> {f} {{\n        self.s * 0.5 + self.m\n    }}\n\n    \
             fn parts(&self) -> ({f}, {f}) {{\n        (self.s.tanh(), self.m * self.s.tanh())\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// `Net { w, b, k }`, a model with a `Vec` of weights whose `&self` methods call each
    /// other: `eval` calls `act`, `loss` calls `eval` in a loop, `settle` iterates `eval` in a
    /// `loop` to a tolerance and `break`s with its value, `grow` runs a `while` whose trip
    /// count the model decides.
    fn model(&self) -> String {
        format!(
            "#[derive(Clone, autodiff::Differentiable)]\nstruct Net {{\n    w: Vec<{f}>,\n    b: {f},\n    k: {f},\n}}\n\n\
             {attr}\nimpl Net {{\n    fn act(&self, u: {f}) -> {f} {{\n        (u * self.k).tanh() + 0.5 * self.b\n    }}\n\n    \
             fn eval(&self, x: {f}) -> {f} {{\n        let mut s = self.b;\n        \
             for (i, &wi) in self.w.iter().enumerate() {{\n            \
             s += wi * (x * (i as {f} + 1.0) * 0.5).sin();\n        }}\n        \
             self.act(0.5 * s)\n    }}\n\n    \
             fn loss(&self, xs: &[{f}]) -> {f} {{\n        let mut l = 0.0;\n        \
             for &x in xs {{\n            let r = self.eval(x) - 0.5 * x.tanh();\n            l += r * r;\n        }}\n        \
             l / (xs.len() as {f})\n    }}\n\n    \
             fn settle(&self, x0: {f}) -> {f} {{\n        let mut x = x0;\n        let mut n = 0;\n        \
             loop {{\n            let y = self.eval(x);\n            \
             if (y - x).abs() < 0.01 || n >= 5 {{\n                break y;\n            }}\n            \
             x = 0.5 * x + 0.5 * y;\n            n += 1;\n        }}\n    }}\n\n    \
             fn grow(&self, x: {f}) -> {f} {{\n        let mut u = x.tanh().abs() + 0.5;\n        \
             let mut steps = 0.0;\n        while u < 3.0 {{\n            \
             u += 0.5 + 0.25 * self.act(u).tanh();\n            steps += 1.0;\n        }}\n        \
             u * 0.25 + steps * 0.125\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// `Fit { w, c, s }`, a model whose `&self` methods borrow a field (`let w = &self.w;`, or
    /// through the accessor `weights(&self) -> &[F]`) and loop over it, call each other (`score` calls `eval`, `dot` and `spread`), and
    /// return a new one (`scaled`); `nudge(&mut self, d)` writes its fields by index.
    fn fit(&self) -> String {
        format!(
            "#[derive(Clone, autodiff::Differentiable)]\nstruct Fit {{\n    w: Vec<{f}>,\n    c: {f},\n    s: [{f}; 2],\n}}\n\n\
             {attr}\nimpl Fit {{\n    fn weights(&self) -> &[{f}] {{\n        &self.w\n    }}\n\n    \
             fn eval(&self, x: {f}) -> {f} {{\n        let w = &self.w;\n        let mut s = self.c;\n        \
             for (i, &v) in w.iter().enumerate() {{\n            s += v * (x * (i as {f} + 1.0) * 0.5).sin();\n        }}\n        \
             (s * 0.5).tanh()\n    }}\n\n    \
             fn dot(&self, xs: &[{f}]) -> {f} {{\n        let w = &self.w;\n        let n = w.len().min(xs.len());\n        \
             let mut s = 0.0;\n        for i in 0..n {{\n            s += w[i] * xs[i];\n        }}\n        \
             (s * 0.25 + self.s[0]).tanh()\n    }}\n\n    \
             fn spread(&self) -> {f} {{\n        let w = self.weights();\n        let m = w.iter().sum::<{f}>() / w.len() as {f};\n        \
             let v: {f} = w.iter().map(|u| (u - m) * (u - m)).sum();\n        (v / w.len() as {f} + 0.25).sqrt()\n    }}\n\n    \
             fn score(&self, x: {f}, xs: &[{f}]) -> {f} {{\n        let z = self.eval(x);\n        let s = &self.s;\n        \
             let t = self.dot(xs) * s[1] + z;\n        t + 0.25 * self.spread()\n    }}\n\n    \
             fn back(&self, z: {f}) -> {f} {{\n        let w = &self.w;\n        let mut acc = z;\n        \
             for v in w.iter().rev() {{\n            acc = acc * 0.5 + v * self.c;\n        }}\n        acc\n    }}\n\n    \
             fn scaled(&self, k: {f}) -> Fit {{\n        \
             Fit {{ w: self.w.iter().map(|v| v * k).collect(), c: self.c * k, s: [self.s[1], self.s[0] * k] }}\n    }}\n\n    \
             fn pairs(&self) -> {f} {{\n        let a: {f} = self.weights().windows(2).map(|p| p[0] * p[1]).sum();\n        \
             let b: {f} = self.w.chunks_exact(2).map(|p| p[0] - p[1]).sum();\n        (a + b) * 0.25\n    }}\n\n    \
             fn nudge(&mut self, d: {f}) {{\n        self.c = self.c * 0.5 + d;\n        let n = self.w.len();\n        \
             for i in 0..n {{\n            self.w[i] = self.w[i] * 0.5 + d * 0.25;\n        }}\n        \
             self.s[1] = self.s[0] * 0.5;\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// `V2 { x, y }`, a `Copy` struct as vector code writes it: its operators `+`, `-`, `* F`
    /// and unary `-` are differentiated impls of the `std::ops` traits (`+=` is `AddAssign`,
    /// not differentiated: the macro reads `v += w` as `v = v + w`), and its methods take
    /// `&self` (`size`, `dot`, `turned`, which returns a `V2`), `self` (`energy`) and `&mut
    /// self` (`step`, with an early `return`), beside a constructor `new`.
    fn vec2(&self) -> String {
        format!(
            "use std::ops::{{Add, AddAssign, Mul, Neg, Sub}};\n\n\
             #[derive(Clone, Copy, autodiff::Differentiable)]\nstruct V2 {{\n    x: {f},\n    y: {f},\n}}\n\n\
             {attr}\nimpl Add for V2 {{\n    type Output = V2;\n    fn add(self, o: V2) -> V2 {{\n        \
             V2 {{ x: self.x + o.x, y: self.y + o.y }}\n    }}\n}}\n\n\
             {attr}\nimpl Sub for V2 {{\n    type Output = Self;\n    fn sub(self, o: V2) -> Self::Output {{\n        \
             V2 {{ x: self.x - o.x, y: self.y - o.y }}\n    }}\n}}\n\n\
             {attr}\nimpl Mul<{f}> for V2 {{\n    type Output = V2;\n    fn mul(self, k: {f}) -> V2 {{\n        \
             V2 {{ x: self.x * k, y: self.y * k }}\n    }}\n}}\n\n\
             {attr}\nimpl Neg for V2 {{\n    type Output = V2;\n    fn neg(self) -> V2 {{\n        \
             V2 {{ x: -self.x, y: -self.y }}\n    }}\n}}\n\n\
             impl AddAssign for V2 {{\n    fn add_assign(&mut self, o: V2) {{\n        \
             *self = *self + o;\n    }}\n}}\n\n\
             {attr}\nimpl V2 {{\n    fn new(x: {f}, y: {f}) -> V2 {{\n        V2 {{ x, y }}\n    }}\n\n    \
             fn size(&self) -> {f} {{\n        (self.x * self.x + self.y * self.y + 0.25).sqrt()\n    }}\n\n    \
             fn dot(&self, o: &V2) -> {f} {{\n        self.x * o.x + self.y * o.y\n    }}\n\n    \
             fn turned(&self, k: {f}) -> V2 {{\n        let (s, c) = k.sin_cos();\n        \
             V2 {{ x: self.x * c - self.y * s, y: self.x * s + self.y * c }}\n    }}\n\n    \
             fn energy(self) -> {f} {{\n        0.5 * self.size() * self.size()\n    }}\n\n    \
             fn step(&mut self, k: {f}) {{\n        if k > 20.0 {{\n            return;\n        }}\n        \
             let c = self.x;\n        self.x = 0.5 * self.x + (k * self.y).tanh();\n        \
             self.y = 0.5 * self.y + (c - k).sin();\n    }}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute()
        )
    }

    /// An RK4 step of `V2`, twice: methods `rate` and `rk4` (which calls `rate` on `self` and on
    /// what the struct's operators returned, each stage a local with its type written) in a
    /// second `#[differentiate]` impl block, and free functions `v2_rate` and `v2_rk4`
    /// returning the struct.
    fn rk4(&self) -> String {
        let stages = |rate: &dyn Fn(&str) -> String, s: &str| {
            format!(
                "let k1: V2 = {};\n        let k2: V2 = {};\n        let k3: V2 = {};\n        \
                 let k4: V2 = {};\n        {s} + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0)",
                rate(s),
                rate(&format!("({s} + k1 * (0.5 * h))")),
                rate(&format!("({s} + k2 * (0.5 * h))")),
                rate(&format!("({s} + k3 * h)")),
            )
        };
        format!(
            "{attr}\nimpl V2 {{\n    fn rate(&self, k: {f}) -> V2 {{\n        \
             V2 {{ x: self.y, y: -k * self.x - 0.125 * self.y }}\n    }}\n\n    \
             fn rk4(&self, h: {f}, k: {f}) -> V2 {{\n        {m}\n    }}\n}}\n\n\
             {attr}\nfn v2_rate(s: V2, k: {f}) -> V2 {{\n    V2::new(s.y, -k * s.x - 0.125 * s.y)\n}}\n\n\
             {attr}\nfn v2_rk4(s: V2, h: {f}, k: {f}) -> V2 {{\n    {g}\n}}\n\n",
            f = self.float.name(),
            attr = self.attribute(),
            m = stages(
                &|s| if s == "*self" {
                    "self.rate(k)".to_string()
                } else {
                    format!("{s}.rate(k)")
                },
                "*self"
            ),
            g = stages(&|s| format!("v2_rate({s}, k)"), "s").replace("\n        ", "\n    "),
        )
    }

    /// The module's constants: two scalars, and a table where a function reads it.
    fn consts(&self) -> String {
        let f = self.float.name();
        let mut out = format!("const SCALE: {f} = 0.75;\nconst OFFSET: {f} = 0.5;\n");
        if self.functions.iter().any(|g| g.source.contains("TABLE")) {
            out.push_str(&format!(
                "const TABLE: [{f}; 4] = [0.5, -0.25, 1.0, 0.75];\n"
            ));
        }
        if self.functions.iter().any(|g| g.source.contains("WEIGHTS")) {
            out.push_str(&format!("static WEIGHTS: [{f}; 3] = [0.25, -0.5, 0.75];\n"));
        }
        out
    }

    /// `check()`: packs the entry function's differentiated parameters into one value `P` (a
    /// bare value for one, a tuple for several), and calls the harness with the plain function,
    /// `_grad` and `_jvp` as functions of `P`. A `&mut Vec` parameter starts each call from a
    /// fresh copy of its initial contents (its gradient is that of the initial contents), and
    /// its final contents are compared too.
    fn check_fn(&self) -> String {
        let f = self.entry();
        let fl = self.float;
        let active: Vec<&Param> = f.params.iter().filter(|p| p.kind.active()).collect();
        let single = active.len() == 1;
        let field = |k: usize| -> String {
            if single {
                "(*p)".to_string()
            } else {
                format!("p.{k}")
            }
        };
        let tfield = |k: usize| -> String {
            if single {
                "(*v)".to_string()
            } else {
                format!("v.{k}")
            }
        };
        let types: Vec<String> = active.iter().map(|p| p.kind.owned_type(fl)).collect();
        let p_type = if single {
            types[0].clone()
        } else {
            format!("({},)", types.join(", "))
        };
        let values: Vec<String> = active.iter().map(|p| value_literal(p, fl)).collect();
        let p_value = if single {
            values[0].clone()
        } else {
            format!("({},)", values.join(", "))
        };
        // The arguments of a call, with the buffer of a `&mut Vec` parameter named `buf`.
        let mut args = Vec::new();
        let mut tangents = Vec::new();
        let mut k = 0;
        let mut has_buf = false;
        for p in &f.params {
            match p.kind {
                ParamKind::Usize => args.push(format!("{}usize", p.value[0] as i64)),
                ParamKind::I32 => args.push(format!("{}i32", p.value[0] as i64)),
                ParamKind::Scalar | ParamKind::Array(_) => {
                    args.push(field(k));
                    tangents.push(tfield(k));
                    k += 1;
                }
                ParamKind::Slice | ParamKind::VecRef => {
                    args.push(format!("&{}", field(k)));
                    tangents.push(format!("&{}", tfield(k)));
                    k += 1;
                }
                ParamKind::VecOwned => {
                    args.push(format!("{}.clone()", field(k)));
                    tangents.push(format!("{}.clone()", tfield(k)));
                    k += 1;
                }
                ParamKind::MutVec | ParamKind::MutSlice => {
                    has_buf = true;
                    args.push("&mut buf".to_string());
                    tangents.push(format!("&{}", tfield(k)));
                    k += 1;
                }
            }
        }
        let buf_init = f
            .params
            .iter()
            .filter(|p| p.kind.active())
            .position(|p| matches!(p.kind, ParamKind::MutVec | ParamKind::MutSlice))
            .map(|k| format!("let mut buf = {}.clone();", field(k)))
            .unwrap_or_default();
        let effect = if has_buf { "buf" } else { "()" };
        let args = args.join(", ");
        let all_args = if tangents.is_empty() {
            args.clone()
        } else {
            format!("{args}, {}", tangents.join(", "))
        };
        let name = &f.name;
        let tolerance = if self.mixed_precision || fl == Float::F32 {
            "autodiff_random::harness::Precision::Single"
        } else {
            "autodiff_random::harness::Precision::Double"
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "pub fn check() -> Result<(), autodiff_random::harness::Failure> {{"
        );
        let _ = writeln!(out, "    let x: {p_type} = {p_value};");
        let _ = writeln!(
            out,
            "    autodiff_random::harness::check(&x, {tolerance}, {seed}u64,",
            seed = self.seed
        );
        let _ = writeln!(
            out,
            "        |p: &{p_type}| {{ {buf_init} let y = {name}({args}); (y, {effect}) }},"
        );
        let _ = writeln!(
            out,
            "        |p: &{p_type}| {{ {buf_init} let (y, g) = {name}_grad({args}); (y, g, {effect}) }},"
        );
        let _ = writeln!(
            out,
            "        |p: &{p_type}, v: &{p_type}| {{ {buf_init} let (y, t) = {name}_jvp({all_args}); (y, t, {effect}) }},"
        );
        if self.hessian {
            let _ = writeln!(out, "    )?;");
            let _ = writeln!(
                out,
                "    autodiff_random::harness::check_hvp(&x, {seed}u64,",
                seed = self.seed
            );
            let _ = writeln!(
                out,
                "        |p: &{p_type}| {{ let y = {name}({args}); (y, ()) }},"
            );
            let _ = writeln!(
                out,
                "        |p: &{p_type}| {{ let (y, g) = {name}_grad({args}); (y, g, ()) }},"
            );
            let _ = writeln!(
                out,
                "        |p: &{p_type}, v: &{p_type}| {name}_hvp({all_args}),"
            );
        }
        let _ = writeln!(out, "    )");
        let _ = writeln!(out, "}}");
        out
    }
}

/// A parameter's value as a Rust expression of its owned type.
fn value_literal(p: &Param, fl: Float) -> String {
    let f = fl.name();
    let num = |v: f64| format!("{v:?}{f}");
    match p.kind {
        ParamKind::Scalar => num(p.value[0]),
        ParamKind::Array(_) => format!(
            "[{}]",
            p.value
                .iter()
                .map(|&v| num(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ if p.value.is_empty() => format!("Vec::<{f}>::new()"),
        _ => format!(
            "vec![{}]",
            p.value
                .iter()
                .map(|&v| num(v))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
