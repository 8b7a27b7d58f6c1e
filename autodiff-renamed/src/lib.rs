//! A package that depends on `autodiff` under the name `ad`, as a user who renames the
//! dependency in `Cargo.toml` does. Its test (`tests/renamed.rs`) checks that
//! `#[differentiate(crate = ad)]` generates code that finds the runtime there.
