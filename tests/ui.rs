//! Compile-fail UI tests: one per `#[differentiate]` diagnostic (`tests/ui/<name>.rs` and the
//! expected compiler output `tests/ui/<name>.stderr`). Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test ui`.
//!
//! trybuild compiles the cases as binaries of one generated project (`target/tests/trybuild/`)
//! whose dependencies are this package's dependencies and dev-dependencies, each built again
//! there, so keep the dev-dependencies few. With compile-fail cases only, trybuild checks them
//! all in one `cargo check --bins --keep-going`, on every core; a passing case among them made
//! it run one `cargo build` per case, one after the other (47 s of wall time from an empty
//! target directory against 27 s). The programs that must compile cleanly (`tests/ui-pass/`)
//! are test targets of their own in `Cargo.toml` (`harness = false`: each file's `main` is the
//! test, and its `#![deny(warnings)]` applies to its crate as before).

#[test]
fn ui() {
    // trybuild's project does not inherit the workspace's profiles: its dev profile would build
    // the macro with full debug info (a 48 MB library against 14 MB), which no diagnostic
    // needs. Its cargo inherits this environment.
    // SAFETY: this binary's one test sets the variable before trybuild starts a thread or a
    // process; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "0") };
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
