//! Writes the CI test's cases into `$OUT_DIR/ci_cases.rs`: the cases `0..CI_COUNT` of seed
//! `CI_SEED` with the CI configuration, less the seeds listed in `known-failures.txt`, each as a
//! module with its `check()`, and `CASES`, the list of `(seed, functions, check)`.
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
    let mut out = String::new();
    let mut list = String::new();
    for i in 0..generate::CI_COUNT {
        let seed = rng::case_seed(generate::CI_SEED, i);
        if skip.contains(&seed) {
            continue;
        }
        let case = generate::generate(seed, &config);
        out.push_str(&case.module());
        let _ = writeln!(
            list,
            "    ({seed}, {}, {}::check),",
            case.functions.len(),
            case.module_name()
        );
    }
    let _ = writeln!(
        out,
        "/// Every case of the CI test: its seed, its number of functions, its checks.\n\
         pub const CASES: &[(u64, usize, autodiff_random::driver::CaseCheck)] = &[\n{list}];"
    );
    let path =
        std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("ci_cases.rs");
    std::fs::write(path, out).expect("write the cases");
}
