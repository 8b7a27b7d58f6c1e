//! Mutations of containers that hold differentiated values: `v.push(x)`, `v.swap(i, j)`, …
//!
//! A local `Vec` or array declared `mut`, or a `&mut` parameter, is a *place*: each mutation
//! makes a new version of it in the IR (the old version is dead afterwards), and each has an
//! adjoint that turns the adjoint of the new version back into the adjoint of the old one, in
//! place, returning the cotangents of the mutation's other operands. The adjoints are runtime
//! functions in `autodiff::__private::place`; their math is below. A method not listed here,
//! called on a place that holds differentiated values, is a compile error (see `check.rs`):
//! its effect on the derivative would be unknown.

/// One mutating method.
#[derive(Debug)]
pub struct Mutation {
    pub name: &'static str,
    /// Arguments after the receiver.
    pub args: usize,
    /// Per argument: whether it is a differentiable value (the pushed element) rather than an
    /// index or a length.
    pub diff: &'static [bool],
    /// Returns an element (`pop`, `remove`, `swap_remove`).
    pub returns: bool,
    /// The element comes as an `Option` (`pop`): written `v.pop().unwrap()` when it is used.
    pub option: bool,
    /// The adjoint needs the length the place had before the mutation.
    pub old_len: bool,
    /// The runtime adjoint in `__private::place`.
    pub adjoint: &'static str,
    /// What the adjoint does to `w̄`, the adjoint of the new version.
    #[cfg_attr(not(test), allow(dead_code))]
    pub math: &'static str,
}

/// A table row (positional, to keep the table readable).
#[allow(clippy::too_many_arguments)]
const fn m(
    name: &'static str,
    args: usize,
    diff: &'static [bool],
    returns: bool,
    option: bool,
    old_len: bool,
    adjoint: &'static str,
    math: &'static str,
) -> Mutation {
    Mutation {
        name,
        args,
        diff,
        returns,
        option,
        old_len,
        adjoint,
        math,
    }
}

pub const MUTATIONS: &[Mutation] = &[
    m(
        "push",
        1,
        &[true],
        false,
        false,
        false,
        "push_adjoint",
        "x̄ = w̄.pop()",
    ),
    m(
        "pop",
        0,
        &[],
        true,
        true,
        true,
        "pop_adjoint",
        "w̄.push(ȳ) if an element was popped",
    ),
    m(
        "clear",
        0,
        &[],
        false,
        false,
        true,
        "clear_adjoint",
        "w̄ = 0 of the old length",
    ),
    m(
        "insert",
        2,
        &[false, true],
        false,
        false,
        false,
        "insert_adjoint",
        "x̄ = w̄.remove(i)",
    ),
    m(
        "remove",
        1,
        &[false],
        true,
        false,
        false,
        "remove_adjoint",
        "w̄.insert(i, ȳ)",
    ),
    m(
        "swap_remove",
        1,
        &[false],
        true,
        false,
        false,
        "swap_remove_adjoint",
        "the element moved to i goes back to the end, ȳ to i",
    ),
    m(
        "swap",
        2,
        &[false, false],
        false,
        false,
        false,
        "swap_adjoint",
        "w̄.swap(i, j)",
    ),
    m(
        "reverse",
        0,
        &[],
        false,
        false,
        false,
        "reverse_adjoint",
        "w̄.reverse()",
    ),
    m(
        "fill",
        1,
        &[true],
        false,
        false,
        false,
        "fill_adjoint",
        "c̄ = Σ w̄, then w̄ = 0",
    ),
    m(
        "truncate",
        1,
        &[false],
        false,
        false,
        true,
        "truncate_adjoint",
        "w̄ padded with zeros to the old length",
    ),
    m(
        "resize",
        2,
        &[false, true],
        false,
        false,
        true,
        "resize_adjoint",
        "c̄ = Σ of the added elements' w̄, then w̄ cut or padded to the old length",
    ),
    m(
        "extend_from_slice",
        1,
        &[true],
        false,
        false,
        true,
        "extend_adjoint",
        "s̄ = the tail of w̄ past the old length, which is cut off",
    ),
    m(
        "copy_from_slice",
        1,
        &[true],
        false,
        false,
        false,
        "copy_adjoint",
        "s̄ = w̄, then w̄ = 0",
    ),
];

/// A mutating method, as the IR stores it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MutId(pub u8);

impl MutId {
    pub fn find(name: &str) -> Option<MutId> {
        MUTATIONS
            .iter()
            .position(|m| m.name == name)
            .map(|i| MutId(i as u8))
    }

    pub fn def(self) -> &'static Mutation {
        &MUTATIONS[self.0 as usize]
    }
}

/// The mutating methods the derivative follows, for messages.
pub fn list() -> String {
    MUTATIONS
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_and_flags_agree() {
        for m in MUTATIONS {
            assert_eq!(m.diff.len(), m.args, "`{}`", m.name);
            assert!(!m.option || m.returns, "`{}`", m.name);
            assert!(!m.math.is_empty() && !m.adjoint.is_empty(), "`{}`", m.name);
        }
    }
}
