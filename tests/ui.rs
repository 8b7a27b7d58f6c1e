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
    // trybuild checks the dependencies first, then all cases with one more flag
    // (`--diagnostic-width=140`); a change of flags makes cargo check every dependency again
    // (ndarray, rayon, the runtime: some 10 s). The same flags for both calls, as cargo's
    // highest-priority setting, let the second call reuse the first's work. They are trybuild's
    // own (`--cfg trybuild --verbose -A dead_code`) and the diagnostic width it asks for, so
    // the expected output is unchanged. They apply to the cases and their dependencies only:
    // trybuild passes `--target`, under which cargo does not give them to proc-macros.
    // Where the environment sets flags of its own (a coverage run), trybuild's handling of them
    // is left as it is.
    let own_flags = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !own_flags {
        let flags = [
            "--cfg",
            "trybuild",
            "--verbose",
            "-A",
            "dead_code",
            "--diagnostic-width=140",
        ];
        // SAFETY: as above.
        unsafe { std::env::set_var("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}")) };
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
