//! What the examples on real data share: a seeded shuffle, and the split of a data set into a
//! training and a test part with features standardized on the training part (the lecture's
//! "centering", without letting the test samples inform it).

// Each example uses what it needs.
#![allow(dead_code)]

use autodiff::data::Standardizer;
use autodiff::init::{Rng, seeded_rng};
use ndarray::{Array, Array2, Axis, RemoveAxis};

/// A seeded permutation of `0..n` (Fisher–Yates).
pub fn permutation(n: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

/// A data set split into a training and a test part.
pub struct Split<D> {
    pub x_train: Array2<f64>,
    pub y_train: Array<f64, D>,
    pub x_test: Array2<f64>,
    pub y_test: Array<f64, D>,
}

/// The samples (rows of `x`, entries of `y` along its first axis) in the order of a permutation
/// seeded with `seed`, the first 80% for training and the rest for testing; each feature
/// standardized with the mean and standard deviation of the training part.
///
/// # Panics
///
/// If a feature is constant on the training part.
pub fn split_standardized<D: RemoveAxis>(
    x: &Array2<f64>,
    y: &Array<f64, D>,
    seed: u64,
) -> Split<D> {
    let n = x.nrows();
    let order = permutation(n, &mut seeded_rng(seed));
    let (train_idx, test_idx) = order.split_at(n * 4 / 5);
    let (scaler, x_train) =
        Standardizer::fit_transform(&x.select(Axis(0), train_idx)).expect("no constant feature");
    let x_test = scaler
        .transform(&x.select(Axis(0), test_idx))
        .expect("same features");
    Split {
        x_train,
        y_train: y.select(Axis(0), train_idx),
        x_test,
        y_test: y.select(Axis(0), test_idx),
    }
}
