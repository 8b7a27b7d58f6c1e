//! A gradient of a row-major matrix comes back row-major: its elements in memory are the
//! parameter's in the parameter's order, so `g.as_slice()` (and a flat optimizer fed from it)
//! lines up with `w.as_slice()`. ndarray's `dot` writes a rank-1 product, and any product of
//! two column-major operands, column-major; the rules of `dot` whose cotangents are such
//! products (`A·x`, `xᵀ·A`, `A·B` with a one-column `B`) now write them in standard layout.

use autodiff::differentiate;
use ndarray::{Array1, Array2};

#[differentiate]
fn matvec(a: &Array2<f64>, x: &Array1<f64>) -> f64 {
    a.dot(x).mapv(|v| v.tanh()).sum()
}

#[differentiate]
fn vecmat(x: &Array1<f64>, a: &Array2<f64>) -> f64 {
    x.dot(a).mapv(|v| v.sin()).sum()
}

#[differentiate]
fn one_column(a: &Array2<f64>, w: &Array2<f64>) -> f64 {
    a.dot(w).mapv(|v| v * v).sum()
}

/// A power iteration's Rayleigh quotient: the gradient of the top eigenvalue of a symmetric
/// matrix, reached through matrix·vector products only.
#[differentiate]
fn top_eigenvalue(a: &Array2<f64>) -> f64 {
    let mut v = Array1::<f64>::ones(a.nrows());
    for _ in 0..60 {
        let w = a.dot(&v);
        let norm = w.dot(&w).sqrt();
        v = w / norm;
    }
    v.dot(&a.dot(&v))
}

fn a34() -> Array2<f64> {
    Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.1 - 0.3)
}

/// The flat gradient in memory order against the analytic one in row-major order.
fn assert_row_major(g: &Array2<f64>, expected: impl Fn(usize, usize) -> f64) {
    let flat = g.as_slice().expect("a row-major gradient");
    let (r, c) = g.dim();
    for i in 0..r {
        for j in 0..c {
            let e = expected(i, j);
            assert!(
                (flat[i * c + j] - e).abs() < 1e-12,
                "({i}, {j}): {} vs {e}",
                flat[i * c + j]
            );
        }
    }
}

#[test]
fn matrix_times_vector() {
    // ∂/∂A_ij Σ tanh((A·x)_i) = (1 − tanh²((A·x)_i))·x_j
    let (a, x) = (a34(), Array1::from(vec![0.1, 0.2, -0.3, 0.4]));
    let y = a.dot(&x);
    let (_, (ga, _)) = matvec_grad(&a, &x);
    assert_row_major(&ga, |i, j| (1.0 - y[i].tanh().powi(2)) * x[j]);
}

#[test]
fn vector_times_matrix() {
    // ∂/∂A_ij Σ sin((xᵀA)_j) = x_i·cos((xᵀA)_j)
    let (a, x) = (a34(), Array1::from(vec![0.5, -0.2, 0.3]));
    let y = x.dot(&a);
    let (_, (_, ga)) = vecmat_grad(&x, &a);
    assert_row_major(&ga, |i, j| x[i] * y[j].cos());
}

#[test]
fn matrix_times_one_column() {
    // ∂/∂A_ij Σ (A·w)_i² = 2·(A·w)_i·w_j
    let a = a34();
    let w = Array2::from_shape_fn((4, 1), |(i, _)| i as f64 * 0.2 - 0.1);
    let y = a.dot(&w);
    let (_, (ga, _)) = one_column_grad(&a, &w);
    assert_row_major(&ga, |i, j| 2.0 * y[[i, 0]] * w[[j, 0]]);
}

#[test]
fn power_iteration() {
    // ∂λ/∂A = v·vᵀ for the unit top eigenvector v of a symmetric A; the gradient of the
    // iteration reaches it to the iteration's convergence.
    let a =
        Array2::from_shape_vec((3, 3), vec![2.0, 0.5, 0.1, 0.5, 1.0, 0.3, 0.1, 0.3, 0.5]).unwrap();
    let mut v = Array1::<f64>::ones(3);
    for _ in 0..200 {
        let w = a.dot(&v);
        v = &w / w.dot(&w).sqrt();
    }
    let (_, g) = top_eigenvalue_grad(&a);
    let flat = g.as_slice().expect("a row-major gradient");
    for i in 0..3 {
        for j in 0..3 {
            assert!((flat[i * 3 + j] - v[i] * v[j]).abs() < 1e-6, "({i}, {j})");
        }
    }
}
