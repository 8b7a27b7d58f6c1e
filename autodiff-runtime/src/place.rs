//! Adjoints of the container mutations `#[differentiate]` follows (`v.push(x)`, `v.swap(i, j)`,
//! …; the list is the macro's `prim/places.rs`).
//!
//! A mutation `v' = m(v, args)` makes a new version of the container. Its adjoint takes `w`, the
//! adjoint of the new version `v'`, and turns it in place into the adjoint of the old version
//! `v`, returning the cotangents of the mutation's differentiable arguments (as a tuple, one
//! entry per differentiable argument). Indices and lengths come by reference; `old` is the shape
//! (length) the container had before the mutation, where the adjoint needs it.

use crate::Real;
use crate::rules::{HasShape, ShapeOf};

/// Containers whose adjoint is a run of scalars that can be permuted in place.
pub trait Slots<T> {
    /// The scalars.
    fn slots(&mut self) -> &mut [T];
}

impl<T> Slots<T> for Vec<T> {
    #[inline(always)]
    fn slots(&mut self) -> &mut [T] {
        self
    }
}

impl<T, const N: usize> Slots<T> for [T; N] {
    #[inline(always)]
    fn slots(&mut self) -> &mut [T] {
        self
    }
}

/// `v.push(x)`: `x̄` is the last entry of `w`, which the old version did not have.
#[inline]
pub fn push_adjoint<T: Real>(w: &mut Vec<T>) -> (T,) {
    (w.pop().unwrap_or(T::ZERO),)
}

/// `y = v.pop()`: the popped element goes back, with cotangent `ȳ`, if there was one.
#[inline]
pub fn pop_adjoint<T: Real, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    y_bar: &T,
    old: &ShapeOf<S>,
) {
    if w.len() < old.dims {
        w.push(*y_bar);
    }
}

/// `v.clear()`: the elements it removed no longer matter: zero of the old length.
#[inline]
pub fn clear_adjoint<T: Real, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    old: &ShapeOf<S>,
) {
    w.clear();
    w.resize(old.dims, T::ZERO);
}

/// `v.insert(i, x)`: `x̄ = w[i]`, which the old version did not have.
#[inline]
pub fn insert_adjoint<T: Real>(w: &mut Vec<T>, i: &usize) -> (T,) {
    (w.remove(*i),)
}

/// `y = v.remove(i)`: the element goes back at `i`, with cotangent `ȳ`.
#[inline]
pub fn remove_adjoint<T: Real>(w: &mut Vec<T>, y_bar: &T, i: &usize) {
    w.insert(*i, *y_bar);
}

/// `y = v.swap_remove(i)`: the last element had moved to `i`; it goes back to the end and the
/// removed one, with cotangent `ȳ`, to `i`.
#[inline]
pub fn swap_remove_adjoint<T: Real>(w: &mut Vec<T>, y_bar: &T, i: &usize) {
    if *i == w.len() {
        w.push(*y_bar);
    } else {
        let moved = core::mem::replace(&mut w[*i], *y_bar);
        w.push(moved);
    }
}

/// `v.swap(i, j)`: swapping back.
#[inline]
pub fn swap_adjoint<T, W: Slots<T>>(w: &mut W, i: &usize, j: &usize) {
    w.slots().swap(*i, *j);
}

/// `v.reverse()`: reversing back.
#[inline]
pub fn reverse_adjoint<T, W: Slots<T>>(w: &mut W) {
    w.slots().reverse();
}

/// `v.fill(c)`: every element is `c`, so `c̄ = Σ w`; the old elements no longer matter.
#[inline]
pub fn fill_adjoint<T: Real, W: Slots<T>>(w: &mut W) -> (T,) {
    let mut sum = T::ZERO;
    for s in w.slots() {
        sum += *s;
        *s = T::ZERO;
    }
    (sum,)
}

/// `v.truncate(n)`: the removed elements no longer matter: `w` padded with zeros to the old
/// length.
#[inline]
pub fn truncate_adjoint<T: Real, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    _n: &usize,
    old: &ShapeOf<S>,
) {
    if w.len() < old.dims {
        w.resize(old.dims, T::ZERO);
    }
}

/// `v.resize(n, c)`: growing appends copies of `c`, so `c̄` is the sum of their entries of `w`,
/// which the old version did not have; shrinking drops elements, whose adjoint is zero.
#[inline]
pub fn resize_adjoint<T: Real, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    _n: &usize,
    old: &ShapeOf<S>,
) -> (T,) {
    let old = old.dims;
    let mut c_bar = T::ZERO;
    if w.len() > old {
        for s in w.drain(old..) {
            c_bar += s;
        }
    } else {
        w.resize(old, T::ZERO);
    }
    (c_bar,)
}

/// `v.extend_from_slice(s)`: `s̄` is the tail of `w` past the old length.
#[inline]
pub fn extend_adjoint<T: Real, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    old: &ShapeOf<S>,
) -> (Vec<T>,) {
    (w.split_off(old.dims),)
}

/// `v.copy_from_slice(s)`: `s̄ = w`; the old elements no longer matter.
#[inline]
pub fn copy_adjoint<T: Real, W: Slots<T>>(w: &mut W) -> (Vec<T>,) {
    let s = w.slots();
    let s_bar = s.to_vec();
    s.fill(T::ZERO);
    (s_bar,)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(n: usize) -> ShapeOf<Vec<f64>> {
        ShapeOf::of(&vec![0.0; n])
    }

    #[test]
    fn adjoints_undo_their_mutations_on_the_adjoint() {
        let mut w = vec![1.0, 2.0, 3.0];
        assert_eq!(push_adjoint(&mut w), (3.0,));
        assert_eq!(w, [1.0, 2.0]);
        pop_adjoint(&mut w, &7.0, &len(3));
        assert_eq!(w, [1.0, 2.0, 7.0]);
        // Nothing was popped from an empty vector: nothing goes back.
        let mut e: Vec<f64> = Vec::new();
        pop_adjoint(&mut e, &7.0, &len(0));
        assert!(e.is_empty());
        assert_eq!(insert_adjoint(&mut w, &1), (2.0,));
        assert_eq!(w, [1.0, 7.0]);
        remove_adjoint(&mut w, &5.0, &0);
        assert_eq!(w, [5.0, 1.0, 7.0]);
        swap_remove_adjoint(&mut w, &9.0, &0);
        assert_eq!(w, [9.0, 1.0, 7.0, 5.0]);
        swap_adjoint(&mut w, &0, &3);
        assert_eq!(w, [5.0, 1.0, 7.0, 9.0]);
        reverse_adjoint(&mut w);
        assert_eq!(w, [9.0, 7.0, 1.0, 5.0]);
        let mut f = [1.0, 2.0, 4.0];
        assert_eq!(fill_adjoint(&mut f), (7.0,));
        assert_eq!(f, [0.0; 3]);
        truncate_adjoint(&mut w, &2, &len(6));
        assert_eq!(w, [9.0, 7.0, 1.0, 5.0, 0.0, 0.0]);
        assert_eq!(resize_adjoint(&mut w, &6, &len(4)), (0.0,));
        assert_eq!(w, [9.0, 7.0, 1.0, 5.0]);
        assert_eq!(resize_adjoint(&mut w, &4, &len(5)), (0.0,));
        assert_eq!(w, [9.0, 7.0, 1.0, 5.0, 0.0]);
        let mut g = vec![1.0, 2.0, 3.0, 4.0];
        assert_eq!(resize_adjoint(&mut g, &4, &len(2)), (7.0,));
        assert_eq!(g, [1.0, 2.0]);
        let mut h = vec![1.0, 2.0, 3.0];
        assert_eq!(extend_adjoint(&mut h, &len(1)), (vec![2.0, 3.0],));
        assert_eq!(h, [1.0]);
        let mut c = vec![4.0, 5.0];
        assert_eq!(copy_adjoint(&mut c), (vec![4.0, 5.0],));
        assert_eq!(c, [0.0, 0.0]);
        clear_adjoint(&mut c, &len(3));
        assert_eq!(c, [0.0; 3]);
    }
}
