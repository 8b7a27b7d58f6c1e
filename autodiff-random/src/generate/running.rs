//! Statement kinds for running state and the control flow around it:
//!
//! - `running`: a struct `Stat { n: usize, mean: F, m2: F }` whose `&mut self` method
//!   `push_sample(x)` returns nothing and updates a running mean and variance (its count an
//!   integer field), fed in a `for` loop or in a `while` on its count, and read in the loop by
//!   `&self` methods (`var()`, `spread(k)`);
//! - `guards`: an `Option<F>` local updated in a loop (`let mut best: Option<F> = None;`, a
//!   `match` on it with a guard, `map_or`) and read with `unwrap_or`; a `match` with guards on
//!   a float (`x if x > 0.5 => ..`); closures capturing an integer and floats in iterator
//!   adapters: `fold` with a tuple accumulator, `scan` with a tuple state, `map` then `filter`
//!   then `sum`.
//!
//! As in `state.rs`, each statement first binds the differentiated values it works on (of
//! bound one) and then declares one float with a bound on its value.

use super::FnGen;

impl FnGen<'_> {
    /// A `Stat` fed samples by `push_sample(&mut self, x)` and read by its `&self` methods.
    pub(super) fn s_running(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let (st, t, i) = (self.fresh("rs"), self.fresh("rt"), self.fresh("i"));
        let n = self.rng.range(2, 5);
        // Every sample is within 1, so the mean is, the variance is below 1 and `spread(k)`
        // below √1.25·|k| + 1.
        let bound = match self.rng.below(3) {
            0 => {
                let acc = self.fresh("ra");
                self.line(&format!("let mut {st} = Stat::new({a});"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    {st}.push_sample(({a} * ({i} as {f}) * 0.5 + {b}).sin());"
                ));
                self.line(&format!("    {acc} += {st}.spread(0.5) * 0.25;"));
                self.line("}");
                self.line(&format!("let {t} = {acc} + {st}.var();"));
                n as f64 * 0.4 + 1.0
            }
            1 => {
                // A `while` on the integer field the method counts with.
                self.line(&format!("let mut {st} = Stat::new({b} * 0.5);"));
                self.line(&format!("while {st}.n < {n} {{"));
                self.line(&format!(
                    "    {st}.push_sample(({b} * {st}.mean + {a}).tanh());"
                ));
                self.line("}");
                self.line(&format!(
                    "let {t} = {st}.mean * {a} + {st}.var() + {st}.spread({b});"
                ));
                3.2
            }
            _ => {
                // Two states, one fed from the other's `&self` reading.
                let (s2, acc) = (self.fresh("rs"), self.fresh("ra"));
                self.line(&format!("let mut {st} = Stat::new({a} * {b});"));
                self.line(&format!("let mut {s2} = Stat::new(0.0);"));
                self.line(&format!("let mut {acc}: {f} = 0.0;"));
                self.line(&format!("for {i} in 0..{n}usize {{"));
                self.line(&format!("    if {i} % 2 == 0 {{"));
                self.line(&format!("        {st}.push_sample({a} - {b} * 0.5);"));
                self.line("    } else {");
                self.line(&format!("        {st}.push_sample({b} * 0.5);"));
                self.line("    }");
                self.line(&format!(
                    "    {s2}.push_sample(({st}.var() + 0.0625).sqrt() - {st}.mean * 0.5);"
                ));
                self.line(&format!("    {acc} += {s2}.mean * {a};"));
                self.line("}");
                self.line(&format!("let {t} = {acc} + {s2}.spread({a});"));
                // Samples of `st` within 1.5, its variance below 2.25; of `s2` within 2.35.
                n as f64 * 2.35 + (2.35f64 * 2.35 + 0.25).sqrt() + 2.35
            }
        };
        self.declare_tamed(t, bound);
        true
    }

    /// An `Option<F>` updated in a loop, a `match` with guards on a float, and closures in
    /// `fold`, `scan` and `map`/`filter`/`sum`.
    pub(super) fn s_guards(&mut self) -> bool {
        let f = self.f().to_string();
        let (a, b) = (self.unit_local(), self.unit_local());
        let t = self.fresh("gt");
        let n = self.rng.range(2, 5);
        let bound = match self.rng.below(6) {
            0 => {
                // The largest candidate, kept in an `Option` by a guarded `match`.
                let (best, i, c) = (self.fresh("gb"), self.fresh("i"), self.fresh("gc"));
                self.line(&format!("let mut {best}: Option<{f}> = None;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!(
                    "    let {c} = ({a} * ({i} as {f}) * 0.5 + {b}).sin();"
                ));
                self.line(&format!("    {best} = match {best} {{"));
                self.line(&format!("        Some(bv) if bv >= {c} => Some(bv),"));
                self.line(&format!("        _ => Some({c}),"));
                self.line("    };");
                self.line("}");
                self.line(&format!("let {t} = {best}.unwrap_or(0.0) * {a};"));
                1.0
            }
            1 => {
                // Set by `map_or`, perhaps never: `unwrap_or` reads the default.
                let (best, i, c) = (self.fresh("gb"), self.fresh("i"), self.fresh("gc"));
                self.line(&format!("let mut {best}: Option<{f}> = None;"));
                self.line(&format!("for {i} in 0..{n} {{"));
                self.line(&format!("    let {c} = {a} * ({i} as {f}) * 0.25 - {b};"));
                self.line(&format!(
                    "    if {c} > 0.25 && {best}.map_or(true, |bv| {c} < bv) {{"
                ));
                self.line(&format!("        {best} = Some({c});"));
                self.line("    }");
                self.line("}");
                self.line(&format!("let {t} = {best}.unwrap_or({b} * 0.5);"));
                n as f64 * 0.25 + 1.0
            }
            2 => {
                // Guards on a float.
                self.line(&format!("let {t} = match {a} * {b} + 0.25 {{"));
                self.line(&format!("    x if x > 0.5 => x * x,"));
                self.line(&format!("    x if x < -0.25 => -x * 0.5 + {b},"));
                self.line(&format!("    x => x.sin() * {a},"));
                self.line("};");
                1.7
            }
            3 => {
                // `fold` with a tuple accumulator, capturing an integer and floats.
                let (kk, s, p) = (self.fresh("gk"), self.fresh("gs"), self.fresh("gp"));
                let k = self.some_int();
                self.line(&format!("let {kk} = {k}.rem_euclid(3) as usize;"));
                self.line(&format!(
                    "let ({s}, {p}) = (0..{n}usize).fold((0.0 as {f}, 1.0 as {f}), |(s, p), i| {{"
                ));
                self.line(&format!("    if i % 3 == {kk} {{"));
                self.line(&format!("        (s + p * {a}, p * 0.5)"));
                self.line("    } else {");
                self.line(&format!("        (s - {b} * 0.25, p * 0.75 + 0.125 * {a})"));
                self.line("    }");
                self.line("});");
                self.line(&format!("let {t} = {s} + {p};"));
                n as f64 + 1.0
            }
            4 => {
                // `scan` with a tuple state of a float and a count.
                self.line(&format!(
                    "let {t}: {f} = (0..{n}usize).scan(({a}, 0usize), |st, i| {{"
                ));
                self.line(&format!("    st.0 = (st.0 * 0.5 + {b}).sin();"));
                self.line("    st.1 += i;");
                self.line(&format!("    Some(st.0 * (st.1 as {f}) * 0.1)"));
                self.line("}).sum();");
                // st.1 ≤ n(n-1)/2.
                (n * n * (n - 1)) as f64 * 0.05
            }
            _ => {
                // `map` then `filter` then `sum`, the filter's closure capturing an integer.
                let kk = self.fresh("gk");
                let k = self.some_int();
                self.line(&format!("let {kk} = {k}.rem_euclid(4) as usize;"));
                self.line(&format!(
                    "let {t}: {f} = (0..{n}usize).map(|i| ({a} * (i as {f}) * 0.5 + {b}, i)).filter(|&(_, i)| i != {kk}).map(|(v, _)| v.tanh()).sum();"
                ));
                n as f64
            }
        };
        self.declare_tamed(t, bound);
        true
    }
}
