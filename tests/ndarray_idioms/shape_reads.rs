//! A length read out of a local's `shape()` before loops that write the local's elements.

use autodiff::differentiate;
use ndarray::Array2;

/// A length read out of a local's `shape()`, before and inside the loops that write its
/// elements (rustc's "cannot move out of `out` because it is borrowed" in the generated code,
/// the shape kept borrowing `out` for the pullback): f = Σ a_ij w² = w² Σ a.
#[differentiate]
fn shape_of_a_local(a: &Array2<f64>, w: f64) -> f64 {
    let mut out = Array2::<f64>::zeros(a.raw_dim());
    let n = out.shape()[0];
    for i in 0..n {
        for j in 0..out.shape()[1] {
            out[[i, j]] = a[[i, j]] * w * w;
        }
    }
    out.sum()
}

fn matrix() -> Array2<f64> {
    Array2::from_shape_fn((3, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin())
}

#[test]
fn a_length_read_out_of_a_locals_shape() {
    let a = matrix();
    let w = 0.7;
    let (v, (ga, gw)) = shape_of_a_local_grad(&a, w);
    assert_eq!(v, shape_of_a_local(&a, w));
    for &g in ga.iter() {
        assert!((g - w * w).abs() < 1e-15);
    }
    assert!((gw - 2.0 * w * a.sum()).abs() < 1e-12);
}
