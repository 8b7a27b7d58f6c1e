//! Mutations of containers that hold differentiated values: `v.push(x)`, `v.swap(i, j)`, …
//!
//! A local `Vec`, array or ndarray array declared `mut`, or a `&mut` parameter, is a *place*:
//! each mutation makes a new version of it in the IR (the old version is dead afterwards), and
//! each has an adjoint that turns the adjoint of the new version back into the adjoint of the
//! old one, in place, returning the cotangents of the mutation's other operands. The adjoints
//! are runtime functions in `autodiff::__private::place`; their math is below. Forward mode
//! applies the mutation itself to the tangent (every mutation here is linear in the container
//! and its differentiable arguments).
//!
//! Besides these methods, the derivative follows element writes (`v[i] = ..`, `v[i] += ..`),
//! writes through the items of `for e in v.iter_mut()` and `for e in &mut v` (lowered to
//! element writes), `*v.first_mut().unwrap() = ..` and its `last_mut`/`get_mut(i)` forms, and
//! compound assignment through a `&mut` array parameter (`*c += &b`, lowered to the operation
//! and [`assign`](MUTATIONS)). The methods of [`READS`] read a container without changing it.
//! Any other method called on a place that holds differentiated values is a compile error (see
//! `check.rs`), with the advice of [`ADVICE`] where there is some: its effect on the derivative
//! would be unknown.

/// One operand of a mutation after the receiver.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arg {
    /// An index, a length or an axis: not differentiated; the adjoint reads it.
    Plain,
    /// A differentiable element (the pushed value): its cotangent is a scalar.
    Elem,
    /// A differentiable container (a slice, an array): its cotangent has the container's
    /// gradient type.
    Values,
}

/// What a mutation returns besides changing the container.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Returns {
    Nothing,
    /// An element (`remove`, `swap_remove`).
    Elem,
    /// An element in an `Option` (`pop`): written `v.pop().unwrap()` when it is used.
    OptionElem,
    /// A new container of the removed elements (`split_off`), itself differentiated.
    Values,
}

/// One mutating method.
#[derive(Debug)]
pub struct Mutation {
    pub name: &'static str,
    /// The operands after the receiver.
    pub args: &'static [Arg],
    pub returns: Returns,
    /// The adjoint needs the length the place had before the mutation.
    pub old_len: bool,
    /// The adjoint needs the shapes of the differentiable arguments (to reduce a broadcast
    /// cotangent: `c.assign(&row)`).
    pub arg_shapes: bool,
    /// The runtime adjoint in `__private::place`.
    pub adjoint: &'static str,
    /// The containers that have the method: `Vec`, arrays and slices, ndarray arrays.
    pub on: &'static str,
    /// What the adjoint does to `w̄`, the adjoint of the new version.
    #[cfg_attr(not(test), allow(dead_code))]
    pub math: &'static str,
}

impl Mutation {
    /// Whether operand `k` after the receiver is differentiable.
    pub fn diff(&self, k: usize) -> bool {
        self.args[k] != Arg::Plain
    }

    /// Whether the method returns a value (an element or the removed tail).
    pub fn returns(&self) -> bool {
        self.returns != Returns::Nothing
    }

    /// Whether the returned element comes in an `Option`.
    pub fn option(&self) -> bool {
        self.returns == Returns::OptionElem
    }

    /// Whether the method changes the length of the container: the methods of `Vec` alone.
    pub fn changes_len(&self) -> bool {
        self.on == VEC
    }
}

/// A table row: name, operands, adjoint, containers, math; the rest by the builders below.
const fn m(
    name: &'static str,
    args: &'static [Arg],
    adjoint: &'static str,
    on: &'static str,
    math: &'static str,
) -> Mutation {
    Mutation {
        name,
        args,
        returns: Returns::Nothing,
        old_len: false,
        arg_shapes: false,
        adjoint,
        on,
        math,
    }
}

impl Mutation {
    const fn returning(mut self, r: Returns) -> Self {
        self.returns = r;
        self
    }
    const fn old_len(mut self) -> Self {
        self.old_len = true;
        self
    }
    const fn arg_shapes(mut self) -> Self {
        self.arg_shapes = true;
        self
    }
}

use Arg::{Elem, Plain, Values};

const VEC: &str = "Vec";
const SLICES: &str = "Vec, arrays, slices";
const ALL: &str = "Vec, arrays, slices, ndarray arrays";
const NDARRAY: &str = "ndarray arrays";

pub const MUTATIONS: &[Mutation] = &[
    m("push", &[Elem], "push_adjoint", VEC, "x̄ = w̄.pop()"),
    m(
        "pop",
        &[],
        "pop_adjoint",
        VEC,
        "w̄.push(ȳ) if an element was popped",
    )
    .returning(Returns::OptionElem)
    .old_len(),
    m(
        "clear",
        &[],
        "clear_adjoint",
        VEC,
        "w̄ = 0 of the old length",
    )
    .old_len(),
    m(
        "insert",
        &[Plain, Elem],
        "insert_adjoint",
        VEC,
        "x̄ = w̄.remove(i)",
    ),
    m("remove", &[Plain], "remove_adjoint", VEC, "w̄.insert(i, ȳ)").returning(Returns::Elem),
    m(
        "swap_remove",
        &[Plain],
        "swap_remove_adjoint",
        VEC,
        "the element moved to i goes back to the end, ȳ to i",
    )
    .returning(Returns::Elem),
    m(
        "split_off",
        &[Plain],
        "split_off_adjoint",
        VEC,
        "w̄ (of length at) followed by ȳ, the adjoint of the returned tail",
    )
    .returning(Returns::Values),
    m(
        "swap",
        &[Plain, Plain],
        "swap_adjoint",
        SLICES,
        "w̄.swap(i, j)",
    ),
    m("reverse", &[], "reverse_adjoint", SLICES, "w̄.reverse()"),
    m(
        "rotate_left",
        &[Plain],
        "rotate_left_adjoint",
        SLICES,
        "w̄.rotate_right(k): the inverse rotation",
    ),
    m(
        "rotate_right",
        &[Plain],
        "rotate_right_adjoint",
        SLICES,
        "w̄.rotate_left(k): the inverse rotation",
    ),
    m("fill", &[Elem], "fill_adjoint", ALL, "c̄ = Σ w̄, then w̄ = 0"),
    m(
        "truncate",
        &[Plain],
        "truncate_adjoint",
        VEC,
        "w̄ padded with zeros to the old length",
    )
    .old_len(),
    m(
        "resize",
        &[Plain, Elem],
        "resize_adjoint",
        VEC,
        "c̄ = Σ of the added elements' w̄, then w̄ cut or padded to the old length",
    )
    .old_len(),
    m(
        "extend_from_slice",
        &[Values],
        "extend_adjoint",
        VEC,
        "s̄ = the tail of w̄ past the old length, which is cut off",
    )
    .old_len(),
    m(
        "copy_from_slice",
        &[Values],
        "copy_adjoint",
        SLICES,
        "s̄ = w̄, then w̄ = 0",
    ),
    m(
        "clone_from_slice",
        &[Values],
        "copy_adjoint",
        SLICES,
        "s̄ = w̄, then w̄ = 0 (as copy_from_slice)",
    ),
    m(
        "assign",
        &[Values],
        "assign_adjoint",
        NDARRAY,
        "b̄ = w̄ summed over the axes b is broadcast along, then w̄ = 0",
    )
    .arg_shapes(),
    m(
        "invert_axis",
        &[Plain],
        "invert_axis_adjoint",
        NDARRAY,
        "w̄.invert_axis(axis): inverting twice is the identity",
    ),
    m(
        "swap_axes",
        &[Plain, Plain],
        "swap_axes_adjoint",
        NDARRAY,
        "w̄.swap_axes(a, b): swapping twice is the identity",
    ),
    m(
        "reverse_axes",
        &[],
        "reverse_axes_adjoint",
        NDARRAY,
        "w̄.reverse_axes(): reversing twice is the identity",
    ),
];

/// Methods of containers that read without changing them: never reported as mutations, even on
/// a place. (Of these, `first`, `last` and `get` with `.unwrap()` are element reads the
/// derivative follows; the others have discrete results or are iterator sources.)
pub const READS: &[&str] = &[
    "len",
    "is_empty",
    "capacity",
    "first",
    "last",
    "get",
    "iter",
    "windows",
    "chunks",
    "chunks_exact",
    "contains",
    "starts_with",
    "ends_with",
    "binary_search",
    "to_vec",
    "to_owned",
    "clone",
    "as_slice",
    "view",
    "shape",
    "dim",
    "raw_dim",
    "ndim",
    "nrows",
    "ncols",
    "is_sorted",
    // ndarray's gathers and regions, which borrow the array (`k.select(Axis(0), &free)` of a
    // stiffness matrix assembled in place): a rule's advice, not a mutation's.
    "select",
    "slice_axis",
    "slice_each_axis",
];

/// What to write instead of a mutating method the derivative does not follow.
pub const ADVICE: &[(&str, &str)] = &[
    (
        "dedup",
        "build the result with a loop that pushes each element that differs from the last one",
    ),
    (
        "drain",
        "take the tail with `split_off(i)` (and shorten with `truncate(n)`), or read the \
         elements by index before `truncate`; a front taken off is `let head = v[..k].to_vec();` \
         then `v = v[k..].to_vec();`",
    ),
    (
        "dedup_by",
        "build the result with a loop that pushes each element that the test does not match \
         with the last one pushed",
    ),
    (
        "dedup_by_key",
        "build the result with a loop that pushes each element whose key differs from the last \
         one's",
    ),
    (
        "retain_mut",
        "keep the elements with `retain` (its closure reads them) and change the kept ones in a \
         loop, `for e in v.iter_mut() { *e = .. }`",
    ),
    (
        "append",
        "write `v.extend_from_slice(&other)` (and `other.clear()` if it must end empty)",
    ),
    (
        "extend",
        "write `v.extend_from_slice(&other)`, or extend with an iterator chain over a slice \
         (`v.extend(x.iter().map(..))`)",
    ),
    (
        "first_mut",
        "write through it in an assignment (`*v.first_mut().unwrap() = ..`) or index it \
         (`v[0] = ..`)",
    ),
    (
        "last_mut",
        "write through it in an assignment (`*v.last_mut().unwrap() = ..`) or index it \
         (`v[v.len() - 1] = ..`)",
    ),
    (
        "get_mut",
        "write through it in an assignment (`*v.get_mut(i).unwrap() = ..`) or index it \
         (`v[i] = ..`)",
    ),
    (
        "iter_mut",
        "loop over it with `for e in v.iter_mut() { *e = .. }`, or write an index loop",
    ),
    (
        "as_mut_slice",
        "index the container itself (`v[i] = ..`) or loop with `for e in v.iter_mut()`",
    ),
    (
        "split_at_mut",
        "index the container itself (`v[i] = ..`, `v[k + i] = ..`) in a loop",
    ),
    (
        "chunks_mut",
        "index the container itself (`v[k * n + i] = ..`) in a loop",
    ),
    (
        "swap_with_slice",
        "swap element by element in a loop (`let t = a[i]; a[i] = b[i]; b[i] = t;`)",
    ),
    (
        "splice",
        "rebuild the vector with `truncate`, `extend_from_slice` and `push`",
    ),
    (
        "sort_floats",
        "sort indices instead and read the elements through them",
    ),
    (
        "slice_mut",
        "compute the region's new values as an array and assign them in one statement, \
         `a.slice_mut(s![..]).assign(&new)`, or write its elements `a[[i, j]] = ..` in loops",
    ),
    (
        "row_mut",
        "compute the row as an array and assign it in one statement, \
         `a.row_mut(i).assign(&row)`, or write its elements `a[[i, j]] = ..` in a loop",
    ),
    (
        "column_mut",
        "compute the column as an array and assign it in one statement, \
         `a.column_mut(j).assign(&col)`, or write its elements `a[[i, j]] = ..` in a loop",
    ),
    (
        "view_mut",
        "change the array itself (`a.assign(&b)`, `a += &b`, `a[[i, j]] = ..`)",
    ),
    (
        "permute_axes",
        "use `swap_axes(a, b)` or `reverse_axes()`, which are followed",
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

/// Whether `name` reads a container without changing it.
pub fn is_read(name: &str) -> bool {
    READS.contains(&name)
}

/// What to write instead of mutating method `name`, if the table has advice.
pub fn advice(name: &str) -> Option<&'static str> {
    ADVICE.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
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
    fn rows_are_complete_and_distinct() {
        for (k, m) in MUTATIONS.iter().enumerate() {
            assert!(!m.math.is_empty() && !m.adjoint.is_empty(), "`{}`", m.name);
            assert!(!m.on.is_empty(), "`{}`", m.name);
            assert!(
                MUTATIONS[..k].iter().all(|o| o.name != m.name),
                "`{}` twice",
                m.name
            );
            assert!(!is_read(m.name), "`{}` both reads and changes", m.name);
            assert!(advice(m.name).is_none(), "`{}` is followed", m.name);
            // Broadcast shapes are those of differentiable arguments.
            assert!(!m.arg_shapes || m.args.iter().any(|&a| a != Plain));
        }
        for (name, a) in ADVICE {
            assert!(!is_read(name) && !a.is_empty(), "`{name}`");
        }
    }
}
