//! Elementwise closures over ndarray arrays.

mod common;

use autodiff::differentiate;
use ndarray::{Array1, Array2, array};

#[differentiate(dump)]
fn relu_sum(a: &Array1<f64>) -> f64 {
    a.mapv(|v| v.max(0.0)).sum()
}

#[test]
fn smoke() {
    let a = array![1.0, -2.0, 0.0, 3.0];
    let (y, g) = relu_sum_grad(&a);
    assert_eq!(y, 4.0);
    assert_eq!(g, array![1.0, 0.0, 0.5, 1.0]);
}
