// A `for_each` whose closure adds into a variable outside it, where the `for_each` runs as
// written: ndarray's own `a.for_each(..)`, a `Zip`'s, and one after `indexed_iter()`. The
// message says to write the `for` loop (or the iterator's `for_each`), which is followed; for
// the `Zip` it no longer speaks of a buffer `&mut total` that is not there.
use autodiff::differentiate;
use ndarray::{Array1, Array2, Zip};

#[differentiate]
fn squares(a: &Array2<f64>) -> f64 {
    let mut total = 0.0;
    a.for_each(|&v| total += v * v);
    total
}

#[differentiate]
fn inner(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let mut total = 0.0;
    Zip::from(a).and(b).for_each(|&x, &y| total += x * y);
    total
}

#[differentiate]
fn weighted(a: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    a.indexed_iter().for_each(|(i, &v)| s += v * i as f64);
    s
}

fn main() {
    let a = Array1::from(vec![1.0, 2.0]);
    let m = Array2::from_elem((2, 2), 1.0);
    let _ = squares_grad(&m);
    let _ = inner_grad(&a, &a);
    let _ = weighted_grad(&a);
}
