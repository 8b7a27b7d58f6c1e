//! Compile-fail UI tests: one per `#[differentiate]` diagnostic (`tests/ui/<name>.rs` and the
//! expected compiler output `tests/ui/<name>.stderr`), plus programs that must compile cleanly
//! (`tests/ui-pass`). Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
