//! ndarray's shape functions named like types (`IxDyn(&[n])`, `Dim(..)`, `Ix2(r, c)`) called in
//! a differentiated function: they are functions, not tuple structs' constructors, and run as
//! written. Gradients are checked against the formula and central finite differences.

use autodiff::differentiate;
use ndarray::{Array1, Array2, ArrayD, Dim, Ix2, IxDyn};

mod common;
use common::*;

/// `Σᵢ ½·xᵢ²` with the weights in a dynamic-rank array made by `IxDyn(&[n])`.
#[differentiate(wrt(x))]
fn weighted_dyn(x: &Array1<f64>, n: usize) -> f64 {
    let w = ArrayD::<f64>::from_elem(IxDyn(&[n]), 0.5);
    let mut s = 0.0;
    for i in 0..n {
        s += w[[i]] * x[i] * x[i];
    }
    s
}

/// `(Σ xᵢ²)·2n`: the shape bound to a local first, then a sum of a dynamic-rank array.
#[differentiate(wrt(x))]
fn scaled_by_dyn_sum(x: &Array1<f64>) -> f64 {
    let n = x.len();
    let shape = IxDyn(&[n]);
    let w: ArrayD<f64> = ArrayD::from_elem(shape, 2.0);
    (x * x).sum() * w.sum()
}

/// `Σᵢⱼ xᵢ·Mᵢⱼ` with `M` of ones made from `Ix2(n, 2)` and from `Dim([n, 2])`.
#[differentiate(wrt(x))]
fn fixed_shapes(x: &Array1<f64>) -> f64 {
    let n = x.len();
    let a = Array2::<f64>::ones(Ix2(n, 2));
    let b = Array2::<f64>::ones(Dim([n, 2]));
    x.dot(&a).sum() + x.dot(&b).sum()
}

#[test]
fn shapes_made_by_ndarray_functions() {
    let x = ndarray::array![1.0, -2.0, 0.5];
    let (v, g) = weighted_dyn_grad(&x, 3);
    assert_eq!(v, weighted_dyn(&x, 3));
    close_all(
        "IxDyn weights",
        g.as_slice().unwrap(),
        x.as_slice().unwrap(),
    );

    let (v, g) = scaled_by_dyn_sum_grad(&x);
    assert_eq!(v, scaled_by_dyn_sum(&x));
    let expected: Vec<f64> = x.iter().map(|&v| 2.0 * v * 6.0).collect();
    close_all("IxDyn bound first", g.as_slice().unwrap(), &expected);
    fd_vec(
        "IxDyn bound first",
        |p| scaled_by_dyn_sum(&Array1::from(p.to_vec())),
        x.as_slice().unwrap(),
        g.as_slice().unwrap(),
    );

    let (v, g) = fixed_shapes_grad(&x);
    assert_eq!(v, fixed_shapes(&x));
    close_all("Ix2 and Dim", g.as_slice().unwrap(), &[4.0, 4.0, 4.0]);
}
