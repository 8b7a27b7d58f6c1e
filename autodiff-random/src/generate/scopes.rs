//! A statement kind for chains of shadowing, as users write them when they refine a value step
//! by step (`shadow`): one name bound again and again by `let`, across blocks that shadow it
//! (and the values it was computed from) inside, `match` arms and `if` branches that shadow it
//! in their own blocks, a loop whose body assigns the outer `mut` variable and then shadows it,
//! a closure whose parameter has its name, a `mut` rebinding changed by compound assignments,
//! type changes through a tuple, an array and a `Vec` (`let s = (s, s * b); let s = s.0 + ..;`),
//! tuple patterns that shadow two names at once, and `if let` on a container's element. The
//! chain starts from a fresh name or from a float the function already has (which it then
//! shadows for the statements after it).
//!
//! As in `state.rs`, the statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value.

use super::{FnGen, Kind, LIMIT};

impl FnGen<'_> {
    /// A chain of shadowing `let`s of one name, through blocks, `match` arms, branches, loops,
    /// closures and type changes.
    pub(super) fn s_shadow(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let floats: Vec<String> = self
            .visible()
            .into_iter()
            .filter(|v| v.kind == Kind::Float && !v.frozen && v.name != a && v.name != b)
            .map(|v| v.name)
            .collect();
        let ints: Vec<String> = self.ints().into_iter().map(|v| v.name).collect();
        let seqs = self.seqs_of_at_least(1);
        // The name shadowed: a float the function has, or a new one.
        let (s, mut bound): (String, f64) = if !floats.is_empty() && self.rng.chance(40) {
            let s = self.rng.pick(&floats).clone();
            self.line(&format!("let {s}: {f} = ({s} * 0.25).tanh() * 2.0 + {a};"));
            (s, 3.0)
        } else {
            let s = self.fresh("sh");
            self.line(&format!("let {s} = {a} * 0.5 + {b};"));
            (s, 1.5)
        };
        let steps = self.rng.range(2, 5);
        for _ in 0..steps {
            let (text, nb) = match self.rng.below(13) {
                0 => (format!("let {s} = {s} * {a} + {b};"), bound + 1.0),
                1 => (
                    // A block that shadows the name and one of its inputs.
                    format!(
                        "let {s} = {{\n    let {s} = {s} * 0.5 + {a};\n    let {a} = {s} * {b};\n    {s}.sin() + {a} * 0.5\n}};"
                    ),
                    1.0 + (bound * 0.5 + 1.0) * 0.5,
                ),
                2 => {
                    let k = if !ints.is_empty() && self.rng.chance(70) {
                        self.rng.pick(&ints).clone()
                    } else {
                        format!("{}usize", self.rng.below(5))
                    };
                    (
                        format!(
                            "let {s} = match {k} % 3 {{\n    0 => {{\n        let {s} = {s} * {a};\n        {s} + {b}\n    }}\n    \
                             1 | 2 => {s}.tanh(),\n    _ => {{\n        let {b} = {s} * 0.5;\n        let {s} = {b} - {a};\n        {s} * {s}\n    }}\n}};"
                        ),
                        (bound + 1.0).max((bound * 0.5 + 1.0).powi(2)),
                    )
                }
                3 => (
                    format!(
                        "let {s} = if {s} > {a} {{\n    let {s} = {s} - {a};\n    {s} * 0.5\n}} else {{\n    let {s} = ({s} * {b}).cos();\n    {s}\n}};"
                    ),
                    ((bound + 1.0) * 0.5).max(1.0),
                ),
                4 => (
                    // Through a tuple.
                    format!("let {s} = ({s}, {s} * {b});\nlet {s} = {s}.0 * 0.5 + {s}.1.sin();"),
                    bound * 0.5 + 1.0,
                ),
                5 => {
                    if self.rng.chance(50) {
                        (
                            format!(
                                "let {s} = [{s}, {a}, {s} * {b}];\nlet {s}: {f} = {s}.iter().sum::<{f}>() * 0.5;"
                            ),
                            (2.0 * bound + 1.0) * 0.5,
                        )
                    } else {
                        (
                            format!(
                                "let {s} = vec![{s}, {a}];\nlet {s} = {s}[0] * {s}[1] + {s}.len() as {f} * 0.125;"
                            ),
                            bound + 0.25,
                        )
                    }
                }
                6 => {
                    // A loop that assigns the outer `mut` variable, then shadows it.
                    let (acc, i) = (self.fresh("sa"), self.fresh("i"));
                    let n = self.rng.range(2, 4);
                    (
                        format!(
                            "let mut {s} = {s};\nlet mut {acc}: {f} = 0.0;\nfor {i} in 0..{n} {{\n    {s} = {s} * 0.5 + {a} * 0.25;\n    \
                             let {s} = ({s} * {b}).sin() + ({i} as {f}) * 0.125;\n    {acc} += {s} * 0.5;\n}}\nlet {s} = {s} + {acc};"
                        ),
                        bound.max(0.5) + n as f64 * 0.5 * (1.0 + n as f64 * 0.125),
                    )
                }
                7 => {
                    // A closure whose parameter has the name.
                    let g = self.fresh("sg");
                    (
                        format!(
                            "let {g} = |{s}: {f}| {s} * {a} + 0.5;\nlet {s} = {g}({s}) - {g}({b});"
                        ),
                        bound + 2.0,
                    )
                }
                8 => {
                    // A `mut` rebinding in a block, shadowed in a branch that writes an outer
                    // variable.
                    let w = self.fresh("sw");
                    (
                        format!(
                            "let {s} = {{\n    let mut {s} = {s} * 0.5;\n    let mut {w}: {f} = 0.0;\n    if {s} < {a} {{\n        \
                             let {s} = {s} + {b};\n        {w} = {s} * {s};\n    }}\n    {s} += {w} * 0.5;\n    {s}\n}};"
                        ),
                        bound * 0.5 + 0.5 * (bound * 0.5 + 1.0).powi(2),
                    )
                }
                9 => {
                    let k = if !ints.is_empty() && self.rng.chance(70) {
                        self.rng.pick(&ints).clone()
                    } else {
                        format!("{}usize", self.rng.below(4))
                    };
                    (
                        format!(
                            "let {s} = match ({k} % 2, {s} > {a}) {{\n    (0, true) => {{\n        let {s} = {s} * 0.5;\n        {s}\n    }}\n    \
                             (_, false) => {{\n        let {a} = {s};\n        {a}.tanh()\n    }}\n    _ => {s} * {b},\n}};"
                        ),
                        bound.max(1.0),
                    )
                }
                10 => {
                    // A tuple pattern that shadows two names at once.
                    let w = self.fresh("sw");
                    (
                        format!(
                            "let ({s}, {w}) = ({s} * {a}, {s} + {b});\nlet ({w}, {s}) = ({s}.tanh(), {w} * 0.5 + {s});"
                        ),
                        (bound + 1.0) * 0.5 + bound,
                    )
                }
                11 => (
                    format!("let mut {s} = {s};\n{s} *= {a};\n{s} += {b} * 0.5;"),
                    bound + 0.5,
                ),
                _ => match self.pick_of(&seqs) {
                    Some(v) => {
                        let q = self.fresh("q");
                        let xb = v.bound;
                        (
                            format!(
                                "let {s} = if let Some(&{q}) = {}.first() {{\n    let {s} = {s} * ({q}).tanh();\n    {s} + {q} * 0.125\n}} else {{\n    {s}\n}};",
                                v.name
                            ),
                            bound + xb * 0.125,
                        )
                    }
                    None => (format!("let {s} = {s} - {b} * {a};"), bound + 1.0),
                },
            };
            self.lines(&text);
            bound = nb;
            if bound > 4.0 {
                self.line(&format!("let {s} = ({s} * 0.25).tanh() * 4.0;"));
                bound = 4.0;
            }
        }
        self.declare(s, Kind::Float, false, bound.min(LIMIT));
        true
    }
}
