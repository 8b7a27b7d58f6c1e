//! The shape checks of the rules in [`crate::nn`] and [`crate::conv`], in one place so that
//! every rule words its panic the same way: the function's name first, then both shapes.

/// Panics unless a cotangent (the argument of a pullback) is shaped like the value it is the
/// cotangent of.
#[track_caller]
pub(crate) fn check_cotangent(what: &str, cotangent: &[usize], value: &[usize]) {
    assert!(
        cotangent == value,
        "{what}: the cotangent has shape {cotangent:?}, but the value has shape {value:?}"
    );
}

/// Panics unless the tangent of the argument `name` (forward mode) is shaped like that argument.
#[track_caller]
pub(crate) fn check_tangent(what: &str, name: &str, tangent: &[usize], primal: &[usize]) {
    assert!(
        tangent == primal,
        "{what}: the tangent of {name} has shape {tangent:?}, but {name} has shape {primal:?}"
    );
}
