//! Adjoints of the container mutations `#[differentiate]` follows (`v.push(x)`, `v.swap(i, j)`,
//! …; the list is the macro's `prim/places.rs`).
//!
//! A mutation `v' = m(v, args)` makes a new version of the container. Its adjoint takes `w`, the
//! adjoint of the new version `v'`, and turns it in place into the adjoint of the old version
//! `v`, returning the cotangents of the mutation's differentiable arguments (as a tuple, one
//! entry per differentiable argument). Indices and lengths come by reference; `old` is the shape
//! (length) the container had before the mutation, where the adjoint needs it.
//!
//! The adjoints dispatch on what the containers have in common, through traits: [`Slots`]
//! (the scalars of a `Vec` or an array as one slice, which permutations act on), [`SwapAt`]
//! (elements swapped by index, ndarray's indices included) and [`Cells`] (every scalar of a
//! `Vec`, an array or an ndarray array, for `fill` and overwrites). The ndarray-only mutations
//! (`assign`, `invert_axis`, `swap_axes`, `reverse_axes`) take arrays.

use ndarray::{Array, ArrayBase, Axis, DataMut, Dimension, LinalgScalar};

use crate::Real;
use crate::differentiable::{Differentiable, assert_shapeless_zero, shapeless_zeros};
use crate::rules::tensor::unbroadcast;
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

/// Containers whose adjoint is a set of scalars that can be read and overwritten one by one:
/// `Vec`s, arrays and ndarray arrays (of any layout).
pub trait Cells<T> {
    /// Calls `f` on every scalar.
    fn each_cell(&mut self, f: impl FnMut(&mut T));
}

impl<T> Cells<T> for Vec<T> {
    #[inline(always)]
    fn each_cell(&mut self, f: impl FnMut(&mut T)) {
        self.iter_mut().for_each(f);
    }
}

impl<T, const N: usize> Cells<T> for [T; N] {
    #[inline(always)]
    fn each_cell(&mut self, f: impl FnMut(&mut T)) {
        self.iter_mut().for_each(f);
    }
}

impl<T, S: DataMut<Elem = T>, D: Dimension> Cells<T> for ArrayBase<S, D> {
    #[inline(always)]
    fn each_cell(&mut self, f: impl FnMut(&mut T)) {
        self.iter_mut().for_each(f);
    }
}

/// `v.push(x)`: `x̄` is the last entry of `w`, which the old version did not have. The elements
/// may be floats or parameter structs (a local `Vec<Particle>` built with `push`).
#[inline]
pub fn push_adjoint<T: Differentiable>(w: &mut Vec<T>) -> (T,) {
    (w.pop()
        .expect("the adjoint of a Vec after `push` has the pushed element"),)
}

/// The cotangent of an element that `pop`, `remove` or `swap_remove` returned and nothing read
/// (`v.pop();`): zero, for floats, arrays of them and parameter structs of those. (For elements
/// whose zero needs a shape, [`Differentiable::SHAPELESS_ZERO`]'s check says what to write.)
#[inline(always)]
pub fn unread<T: Differentiable>() -> T {
    assert_shapeless_zero!(T::SHAPELESS_ZERO);
    T::shapeless_zero()
}

/// `y = v.pop()`: the popped element goes back, with cotangent `ȳ`, if there was one.
#[inline]
pub fn pop_adjoint<T: Differentiable, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    y_bar: &T,
    old: &ShapeOf<S>,
) {
    if w.len() < old.dims {
        w.push(y_bar.clone());
    }
}

/// `v.clear()`: the elements it removed no longer matter: zero of the old length.
#[inline]
pub fn clear_adjoint<T: Differentiable, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    old: &ShapeOf<S>,
) {
    assert_shapeless_zero!(T::SHAPELESS_ZERO);
    *w = shapeless_zeros(old.dims);
}

/// `v.insert(i, x)`: `x̄ = w[i]`, which the old version did not have.
#[inline]
pub fn insert_adjoint<T: Differentiable>(w: &mut Vec<T>, i: &usize) -> (T,) {
    (w.remove(*i),)
}

/// `y = v.remove(i)`: the element goes back at `i`, with cotangent `ȳ`.
#[inline]
pub fn remove_adjoint<T: Differentiable>(w: &mut Vec<T>, y_bar: &T, i: &usize) {
    w.insert(*i, y_bar.clone());
}

/// `y = v.swap_remove(i)`: the last element had moved to `i`; it goes back to the end and the
/// removed one, with cotangent `ȳ`, to `i`.
#[inline]
pub fn swap_remove_adjoint<T: Differentiable>(w: &mut Vec<T>, y_bar: &T, i: &usize) {
    if *i == w.len() {
        w.push(y_bar.clone());
    } else {
        let moved = core::mem::replace(&mut w[*i], y_bar.clone());
        w.push(moved);
    }
}

/// `t = v.split_off(at)`: `v` kept its first `at` elements and `t` holds the rest, so the old
/// version's adjoint is `w` (of length `at`) followed by `t̄`.
#[inline]
pub fn split_off_adjoint<T: Differentiable>(w: &mut Vec<T>, t_bar: &[T], at: &usize) {
    assert_eq!(
        w.len(),
        *at,
        "the adjoint of a Vec after `split_off(at)` has length `at`"
    );
    w.extend_from_slice(t_bar);
}

/// Containers whose elements can be swapped by index: `Vec`s and arrays by `usize`, ndarray
/// arrays by any of their index types (`[i, j]`, `(i, j)`).
pub trait SwapAt<I> {
    /// Swaps the elements at `i` and `j`.
    fn swap_at(&mut self, i: I, j: I);
}

impl<T> SwapAt<usize> for Vec<T> {
    #[inline(always)]
    fn swap_at(&mut self, i: usize, j: usize) {
        self.swap(i, j);
    }
}

impl<T, const N: usize> SwapAt<usize> for [T; N] {
    #[inline(always)]
    fn swap_at(&mut self, i: usize, j: usize) {
        self.swap(i, j);
    }
}

impl<I: ndarray::NdIndex<D>, S: DataMut, D: Dimension> SwapAt<I> for ArrayBase<S, D> {
    #[inline(always)]
    fn swap_at(&mut self, i: I, j: I) {
        self.swap(i, j);
    }
}

/// `v.swap(i, j)`: swapping back.
#[inline]
pub fn swap_adjoint<I: Copy, W: SwapAt<I>>(w: &mut W, i: &I, j: &I) {
    w.swap_at(*i, *j);
}

/// `v.reverse()`: reversing back.
#[inline]
pub fn reverse_adjoint<T, W: Slots<T>>(w: &mut W) {
    w.slots().reverse();
}

/// `v.rotate_left(k)`: element `i` moved to `(i − k) mod n`; rotating right by `k` moves each
/// entry of `w` back.
#[inline]
pub fn rotate_left_adjoint<T, W: Slots<T>>(w: &mut W, k: &usize) {
    w.slots().rotate_right(*k);
}

/// `v.rotate_right(k)`: the inverse of [`rotate_left_adjoint`]'s rotation.
#[inline]
pub fn rotate_right_adjoint<T, W: Slots<T>>(w: &mut W, k: &usize) {
    w.slots().rotate_left(*k);
}

/// `v.fill(c)`: every element is `c`, so `c̄ = Σ w`; the old elements no longer matter.
#[inline]
pub fn fill_adjoint<T: Differentiable, W: Cells<T>>(w: &mut W) -> (T,) {
    assert_shapeless_zero!(T::SHAPELESS_ZERO);
    let mut sum = T::shapeless_zero();
    w.each_cell(|s| {
        sum.add_assign(s);
        *s = s.zero_like();
    });
    (sum,)
}

/// `v.truncate(n)`: the removed elements no longer matter: `w` padded with zeros to the old
/// length.
#[inline]
pub fn truncate_adjoint<T: Differentiable, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    _n: &usize,
    old: &ShapeOf<S>,
) {
    assert_shapeless_zero!(T::SHAPELESS_ZERO);
    if w.len() < old.dims {
        w.resize(old.dims, T::shapeless_zero());
    }
}

/// `v.resize(n, c)`: growing appends copies of `c`, so `c̄` is the sum of their entries of `w`,
/// which the old version did not have; shrinking drops elements, whose adjoint is zero.
#[inline]
pub fn resize_adjoint<T: Differentiable, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    _n: &usize,
    old: &ShapeOf<S>,
) -> (T,) {
    assert_shapeless_zero!(T::SHAPELESS_ZERO);
    let old = old.dims;
    let mut c_bar = T::shapeless_zero();
    if w.len() > old {
        for s in w.drain(old..) {
            c_bar.add_assign(&s);
        }
    } else {
        w.resize(old, c_bar.clone());
    }
    (c_bar,)
}

/// `v.extend_from_slice(s)`: `s̄` is the tail of `w` past the old length.
#[inline]
pub fn extend_adjoint<T: Differentiable, S: HasShape<Dims = usize> + ?Sized>(
    w: &mut Vec<T>,
    old: &ShapeOf<S>,
) -> (Vec<T>,) {
    (w.split_off(old.dims),)
}

/// `v.copy_from_slice(s)`: `s̄ = w`; the old elements no longer matter.
#[inline]
pub fn copy_adjoint<T: Differentiable, W: Slots<T>>(w: &mut W) -> (Vec<T>,) {
    let s = w.slots();
    let s_bar = s.to_vec();
    for e in s.iter_mut() {
        *e = e.zero_like();
    }
    (s_bar,)
}

/// `c.assign(&b)`: every element of `c` is overwritten by `b` broadcast to `c`'s shape, so `b̄`
/// is `w` summed over the axes `b` is broadcast along (see
/// [`unbroadcast`](crate::rules::tensor::unbroadcast)); the old elements no longer matter.
#[inline]
pub fn assign_adjoint<T, S, D, B>(w: &mut ArrayBase<S, D>, b: &ShapeOf<B>) -> (Array<T, B::Dims>,)
where
    T: Real + LinalgScalar,
    S: DataMut<Elem = T>,
    D: Dimension,
    B: HasShape + ?Sized,
    B::Dims: Dimension,
{
    let b_bar = unbroadcast(w, &b.dims);
    w.fill(T::ZERO);
    (b_bar,)
}

/// `a.invert_axis(axis)`: inverting the same axis of `w` again.
#[inline]
pub fn invert_axis_adjoint<T, D: Dimension>(w: &mut Array<T, D>, axis: &Axis) {
    w.invert_axis(*axis);
}

/// `a.swap_axes(i, j)`: swapping the same axes of `w` again.
#[inline]
pub fn swap_axes_adjoint<T, D: Dimension>(w: &mut Array<T, D>, i: &usize, j: &usize) {
    w.swap_axes(*i, *j);
}

/// `a.reverse_axes()`: reversing the axes of `w` again.
#[inline]
pub fn reverse_axes_adjoint<T, D: Dimension>(w: &mut Array<T, D>) {
    w.reverse_axes();
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

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// Distinct values, so that a misplaced entry changes a dot product (multiples of 1/4: the
    /// dot products are exact in any order).
    fn distinct(n: usize, from: f64) -> Vec<f64> {
        (0..n)
            .map(|i| from + (i * i) as f64 * 0.25 + i as f64)
            .collect()
    }

    /// Each adjoint is the transpose of its mutation: `⟨m(v), w⟩ = ⟨v, mᵀ(w)⟩` for every `v`
    /// and `w` (the mutations are linear in the container).
    #[test]
    fn rotations_and_split_off_are_transposed() {
        for n in [1usize, 4, 7] {
            for k in 0..=n {
                let v = distinct(n, 0.5);
                let w = distinct(n, -2.0);
                type Rotation = fn(&mut [f64], usize);
                type Adjoint = fn(&mut Vec<f64>, &usize);
                let rotations: [(&str, Rotation, Adjoint); 2] = [
                    ("rotate_left", |s, k| s.rotate_left(k), rotate_left_adjoint),
                    (
                        "rotate_right",
                        |s, k| s.rotate_right(k),
                        rotate_right_adjoint,
                    ),
                ];
                for (name, rotate, adjoint) in rotations {
                    let mut moved = v.clone();
                    rotate(&mut moved, k);
                    let mut back = w.clone();
                    adjoint(&mut back, &k);
                    assert_eq!(dot(&moved, &w), dot(&v, &back), "{name}({k}), n = {n}");
                }
                // On an array, through the same slots.
                let mut a = [1.0, 2.0, 3.0];
                rotate_left_adjoint(&mut a, &(k % 3));
                let mut expected = [1.0, 2.0, 3.0];
                expected.rotate_right(k % 3);
                assert_eq!(a, expected);

                let mut head = v.clone();
                let tail = head.split_off(k);
                let (w_head, t_bar) = (distinct(k, 3.0), distinct(n - k, -1.0));
                let mut w_old = w_head.clone();
                split_off_adjoint(&mut w_old, &t_bar, &k);
                assert_eq!(
                    dot(&head, &w_head) + dot(&tail, &t_bar),
                    dot(&v, &w_old),
                    "split_off({k}), n = {n}"
                );
            }
        }
    }

    #[test]
    fn swap_by_every_index() {
        let mut a = [1.0, 2.0, 3.0];
        swap_adjoint(&mut a, &0, &2);
        assert_eq!(a, [3.0, 2.0, 1.0]);
        let mut m = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
        swap_adjoint(&mut m, &[0, 1], &[1, 0]);
        assert_eq!(m, ndarray::array![[1.0, 3.0], [2.0, 4.0]]);
    }

    #[test]
    fn fill_on_every_container() {
        let mut v = vec![1.0, 2.0];
        assert_eq!(fill_adjoint(&mut v), (3.0,));
        assert_eq!(v, [0.0, 0.0]);
        // A transposed ndarray array: every element, whatever the layout.
        let mut a = ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].reversed_axes();
        assert_eq!(fill_adjoint(&mut a), (21.0,));
        assert!(a.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn ndarray_mutations_are_transposed() {
        use ndarray::{Array2, Axis, array};
        let a: Array2<f64> = array![[1.0, -2.0, 3.5], [0.25, 5.0, -6.0]];
        let w: Array2<f64> = array![[0.5, 1.5, -1.0], [2.0, -0.75, 3.0]];
        let inner = |x: &Array2<f64>, y: &Array2<f64>| (x * y).sum();
        for k in 0..2 {
            let mut m = a.clone();
            m.invert_axis(Axis(k));
            let mut wt = w.clone();
            invert_axis_adjoint(&mut wt, &Axis(k));
            assert_eq!(inner(&m, &w), inner(&a, &wt), "invert_axis({k})");
        }
        let mut m = a.clone();
        m.swap_axes(0, 1);
        let w_t = w.t().to_owned();
        let mut wt = w_t.clone();
        swap_axes_adjoint(&mut wt, &0, &1);
        assert_eq!(inner(&m, &w_t), inner(&a, &wt));
        let mut m = a.clone();
        m.reverse_axes();
        let mut wt = w_t.clone();
        reverse_axes_adjoint(&mut wt);
        assert_eq!(inner(&m, &w_t), inner(&a, &wt));

        // `c.assign(&row)`: the row is broadcast over the rows of `c`, so its cotangent sums
        // the rows of `w`; what `c` held is overwritten.
        let row = array![1.0, 2.0, 3.0];
        let mut wc = w.clone();
        let (row_bar,) = assign_adjoint(&mut wc, &ShapeOf::of(&row));
        assert_eq!(row_bar, w.sum_axis(Axis(0)));
        assert!(wc.iter().all(|&x| x == 0.0));
        let mut wc = w.clone();
        let (same,) = assign_adjoint(&mut wc, &ShapeOf::of(&&a));
        assert_eq!(same, w);
    }
}
