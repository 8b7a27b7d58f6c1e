//! `a.fold(init, |acc, &v| ..)` over every element of an ndarray parameter, as people write a
//! maximum, a log-sum-exp or a product: the same fold over `a.iter()` (row-major order), which
//! is followed. Each gradient is checked against its analytic form (stated beside the
//! function) and central finite differences; the Hessian-vector product against finite
//! differences of the gradient.

use autodiff::check::{Tolerance, gradcheck};
use autodiff::differentiate;
use ndarray::{Array1, Array2, array};

/// log Σ e^{aᵢⱼ}, shifted by the maximum found with `fold`: ∂/∂aᵢⱼ = softmax(a)ᵢⱼ (the
/// maximum's own derivative cancels).
#[differentiate(hessian)]
fn logsumexp(a: &Array2<f64>) -> f64 {
    let m = a.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let s = a.fold(0.0, |acc, &v| acc + (v - m).exp());
    m + s.ln()
}

/// Π vᵢ by `fold`, plus Σ vᵢ² by a fold that borrows its element: ∂/∂vᵢ = Π_{j≠i} vⱼ + 2vᵢ.
#[differentiate(hessian)]
fn product_plus_squares(v: &Array1<f64>) -> f64 {
    v.fold(1.0, |p, &e| p * e) + v.fold(0.0, |acc, e| acc + e * e)
}

/// The same fold on `f32`: Σ sin(vᵢ), ∂/∂vᵢ = cos(vᵢ).
#[differentiate]
fn sin_sum32(v: &Array1<f32>) -> f32 {
    v.fold(0.0, |acc, &e| acc + e.sin())
}

#[test]
fn logsumexp_by_fold_has_the_softmax_gradient() {
    let a = array![[0.3, -1.2, 2.0], [0.7, 1.1, -0.4]];
    let (y, g) = logsumexp_grad(&a);
    let z: f64 = a.iter().map(|v| v.exp()).sum();
    assert!((y - z.ln()).abs() < 1e-12, "value {y} against {}", z.ln());
    for (gij, aij) in g.iter().zip(a.iter()) {
        let want = aij.exp() / z;
        assert!((gij - want).abs() < 1e-12, "{gij} against softmax {want}");
    }
    let r = gradcheck(logsumexp, &a, &g);
    assert!(r.passed(), "{r}");
    // H·v against central differences of the gradient along v.
    let v = array![[1.0, -0.5, 0.25], [0.5, 2.0, -1.0]];
    let (_, _, hv) = logsumexp_hvp(&a, &v);
    let tol = Tolerance::default_for::<f64>();
    let h = tol.step;
    let (gp, gm) = (
        logsumexp_grad(&(&a + &(&v * h))).1,
        logsumexp_grad(&(&a - &(&v * h))).1,
    );
    let numeric: Array2<f64> = (&gp - &gm) / (2.0 * h);
    for (x, n) in hv.iter().zip(numeric.iter()) {
        assert!(tol.allows(*x, *n), "(H·v) {x} against {n}");
    }
}

#[test]
fn product_by_fold_has_the_leave_one_out_gradient() {
    let v = array![0.8, -1.5, 2.0, 0.6];
    let (y, g) = product_plus_squares_grad(&v);
    let prod: f64 = v.iter().product();
    let sq: f64 = v.iter().map(|e| e * e).sum();
    assert!((y - (prod + sq)).abs() < 1e-12);
    for i in 0..v.len() {
        let others: f64 = (0..v.len()).filter(|&j| j != i).map(|j| v[j]).product();
        let want = others + 2.0 * v[i];
        assert!(
            (g[i] - want).abs() < 1e-12,
            "∂/∂v{i} = {} against {want}",
            g[i]
        );
    }
    let r = gradcheck(product_plus_squares, &v, &g);
    assert!(r.passed(), "{r}");
    let dir: Array1<f64> = array![0.5, 1.0, -0.5, 0.25];
    let (_, _, hv) = product_plus_squares_hvp(&v, &dir);
    let tol = Tolerance::default_for::<f64>();
    let h = tol.step;
    let numeric = (product_plus_squares_grad(&(&v + &(&dir * h))).1
        - product_plus_squares_grad(&(&v - &(&dir * h))).1)
        / (2.0 * h);
    for (x, n) in hv.iter().zip(numeric.iter()) {
        assert!(tol.allows(*x, *n), "(H·v) {x} against {n}");
    }
}

#[test]
fn f32_fold_has_the_cosine_gradient() {
    let v: Array1<f32> = array![0.3, -0.9, 1.4];
    let (y, g) = sin_sum32_grad(&v);
    assert!((y - v.iter().map(|e| e.sin()).sum::<f32>()).abs() < 1e-6);
    for i in 0..v.len() {
        assert!(
            (g[i] - v[i].cos()).abs() < 1e-6,
            "{} against {}",
            g[i],
            v[i].cos()
        );
    }
    let r = gradcheck(sin_sum32, &v, &g);
    assert!(r.passed(), "{r}");
}

/// A fold of a parameter left out of `wrt`, started from a differentiated value: (Σwᵢ)·Πuⱼ,
/// ∂/∂wᵢ = Πuⱼ.
#[differentiate(wrt(w))]
fn started_from_sum(w: &Array1<f64>, u: &Array1<f64>) -> f64 {
    let a = w.fold(0.0, |acc, &v| acc + v);
    u.fold(a, |acc, &v| acc * v)
}

#[test]
fn fold_of_data_started_from_a_differentiated_value() {
    let (w, u) = (array![1.0, 2.0, -0.5], array![3.0, 0.5]);
    let (y, g) = started_from_sum_grad(&w, &u);
    assert!((y - 2.5 * 1.5).abs() < 1e-12);
    for gi in g.iter() {
        assert!((gi - 1.5).abs() < 1e-12, "{gi} against Πu = 1.5");
    }
    let r = gradcheck(|w: &Array1<f64>| started_from_sum(w, &u), &w, &g);
    assert!(r.passed(), "{r}");
}
