//! Writes the CI test's cases: the cases `0..CI_COUNT` of seed `CI_SEED` with the CI
//! configuration, less the seeds listed in `known-failures.txt`, each as a module with its
//! `check()`, and `CASES`, the list of `(seed, functions, check)`. The even-numbered cases go
//! to `$OUT_DIR/ci_cases_0.rs`, the odd-numbered ones to `ci_cases_1.rs`: two test crates, which
//! rustc expands and checks side by side on two cores instead of one after the other.
//!
//! The generator's modules are compiled into this script as they are into the library.

#[allow(dead_code)]
#[path = "src/rng.rs"]
mod rng;

#[allow(dead_code)]
#[path = "src/program.rs"]
mod program;

#[allow(dead_code)]
#[path = "src/generate.rs"]
mod generate;

use std::fmt::Write as _;

fn main() {
    for f in [
        "src/rng.rs",
        "src/program.rs",
        "src/generate.rs",
        "src/generate/state.rs",
        "src/generate/shapes.rs",
        "src/generate/tables.rs",
        "src/generate/calls.rs",
        "src/generate/arrays.rs",
        "src/generate/scopes.rs",
        "src/generate/models.rs",
        "src/generate/ints.rs",
        "src/generate/running.rs",
        "src/generate/exits.rs",
        "src/generate/ndidioms.rs",
        "src/generate/borrows.rs",
        "known-failures.txt",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
    let known = std::fs::read_to_string("known-failures.txt").unwrap_or_default();
    let skip: Vec<u64> = known
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|s| u64::from_str_radix(s, 16).ok())
        .collect();
    let config = generate::Config::ci();
    let mut out = [String::new(), String::new()];
    let mut list = [String::new(), String::new()];
    for i in 0..generate::CI_COUNT {
        let seed = rng::case_seed(generate::CI_SEED, i);
        if skip.contains(&seed) {
            continue;
        }
        let part = (i % 2) as usize;
        let case = generate::generate(seed, &config);
        out[part].push_str(&case.module());
        let _ = writeln!(
            list[part],
            "    ({seed}, {}, {}::check),",
            case.functions.len(),
            case.module_name()
        );
    }
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    for (part, (mut out, list)) in out.into_iter().zip(list).enumerate() {
        let _ = writeln!(
            out,
            "/// The cases of this part of the CI test: seed, number of functions, checks.\n\
             pub const CASES: &[(u64, usize, autodiff_random::driver::CaseCheck)] = &[\n{list}];"
        );
        let path = std::path::Path::new(&dir).join(format!("ci_cases_{part}.rs"));
        std::fs::write(path, out).expect("write the cases");
    }
}
