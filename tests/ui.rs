//! Compile-fail UI tests: one per `#[differentiate]` diagnostic (`tests/ui/<name>.rs` and the
//! expected compiler output `tests/ui/<name>.stderr`), plus programs that must compile cleanly
//! (`tests/ui-pass`). Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui`.
//!
//! trybuild compiles the cases as binaries of one generated project (`target/tests/trybuild/`)
//! whose dependencies are this package's dependencies and dev-dependencies: each of those is
//! built again there, and every case's `cargo` run walks all of them, so keep the
//! dev-dependencies few. The two kinds stay one batch: a batch of compile-fail cases alone would
//! be checked in a single `cargo check --bins --keep-going` (8 s → 5 s once built) but would
//! compile every dependency twice, checked for it and built for the passing cases (37 → 53 s of
//! CPU from an empty target directory).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
