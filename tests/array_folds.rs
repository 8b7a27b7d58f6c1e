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

/// Folds whose body adds and subtracts terms of the elements from the accumulator, written as
/// `acc + a - b` (which Rust groups as `(acc + a) - b`): their result does not depend on the
/// order the elements are visited in, so they are followed, by `a.fold(..)` and by a `Zip` of
/// transposed views (which visits the elements in memory order). They were the error that such
/// a fold depends on the order.
/// ∂/∂aᵢⱼ = bᵢⱼ + 2aᵢⱼ − 1, ∂/∂bᵢⱼ = aᵢⱼ − 2bᵢⱼ, ∂/∂cᵢⱼ = −2cᵢⱼ (each term once per element).
#[differentiate]
fn sums_and_differences(a: &Array2<f64>, b: &Array2<f64>, c: &Array2<f64>) -> f64 {
    let z = ndarray::Zip::from(a.t())
        .and(b.t())
        .and(c.t())
        .fold(0.5, |acc, &p, &q, &r| acc + p * q - r * r);
    let s = a.fold(0.0, |acc, &v| acc - v + v * v);
    let t = b.fold(1.0, |acc, &v| acc - v * v - 0.25);
    z + s + t
}

#[test]
fn folds_of_sums_and_differences_are_followed() {
    let a = array![[0.3, -1.2, 2.0], [0.7, 1.1, -0.4]];
    let b = array![[1.5, 0.2, -0.8], [-0.6, 0.9, 0.4]];
    let c = array![[0.1, -0.3, 0.5], [1.2, -0.7, 0.25]];
    let (y, (ga, gb, gc)) = sums_and_differences_grad(&a, &b, &c);
    assert_eq!(y, sums_and_differences(&a, &b, &c));
    let want =
        0.5 + (&a * &b - &c * &c).sum() + (&a * &a - &a).sum() + 1.0 - (&b * &b).sum() - 0.25 * 6.0;
    assert!((y - want).abs() < 1e-12, "value {y} against {want}");
    let close = |g: &Array2<f64>, w: &Array2<f64>| {
        g.iter().zip(w.iter()).all(|(x, w)| (x - w).abs() < 1e-12)
    };
    assert!(close(&ga, &(&b + &(&a * 2.0) - 1.0)), "∂/∂a {ga}");
    assert!(close(&gb, &(&a - &(&b * 2.0))), "∂/∂b {gb}");
    assert!(close(&gc, &(&c * -2.0)), "∂/∂c {gc}");
    let r = gradcheck(
        |p: &(Array2<f64>, Array2<f64>, Array2<f64>)| sums_and_differences(&p.0, &p.1, &p.2),
        &(a.clone(), b.clone(), c.clone()),
        &(ga.clone(), gb.clone(), gc.clone()),
    );
    assert!(r.passed(), "{r}");
    let (_, pullback) = sums_and_differences_vjp(&a, &b, &c);
    let (sa, _, _) = pullback(2.5);
    assert!(close(&sa, &(&ga * 2.5)), "seed 2.5: {sa}");
}

// ---------------------------------------------------------------------------------------------
// Folds of an array made in the expression: by arithmetic (`(a * b).fold(..)`), by ndarray's
// own methods (`a.mapv(f).mapv(g).fold(..)`) and by a constructor (`Array1::from_iter(..)`).
// They were an error that said the fold's closure is not followed; each is the fold of a
// local holding the array, which is.
// ---------------------------------------------------------------------------------------------

/// Σ sin(aᵢbᵢ): ∂/∂aᵢ = bᵢ·cos(aᵢbᵢ), ∂/∂bᵢ = aᵢ·cos(aᵢbᵢ).
#[differentiate]
fn sin_of_products(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a * b).fold(0.0, |acc, q| acc + q.sin())
}

/// Σ e^{2aᵢ} through two `mapv`s: ∂/∂aᵢ = 2e^{2aᵢ}.
#[differentiate]
fn exp_of_doubled(a: &Array1<f64>) -> f64 {
    a.mapv(|q| q * 2.0)
        .mapv(f64::exp)
        .fold(0.0, |acc, &q| acc + q)
}

/// max_i aᵢx of an array collected from an iterator: ∂/∂a_k = x, ∂/∂x = a_k at the (single)
/// maximum k, for x > 0.
#[differentiate]
fn largest_scaled(a: &Array1<f64>, x: f64) -> f64 {
    Array1::from_iter(a.iter().map(|q| q * x)).fold(f64::NEG_INFINITY, |m, &q| m.max(q))
}

#[test]
fn folds_of_arrays_made_in_the_expression() {
    let a = array![0.3, 0.5, -0.2];
    let b = array![1.5, -0.5, 2.0];
    let (v, (ga, gb)) = sin_of_products_grad(&a, &b);
    assert!((v - sin_of_products(&a, &b)).abs() < 1e-12);
    for i in 0..3 {
        let c = (a[i] * b[i]).cos();
        assert!((ga[i] - b[i] * c).abs() < 1e-12, "∂a[{i}]");
        assert!((gb[i] - a[i] * c).abs() < 1e-12, "∂b[{i}]");
    }
    let r = gradcheck(
        |p: &(Array1<f64>, Array1<f64>)| sin_of_products(&p.0, &p.1),
        &(a.clone(), b.clone()),
        &(ga, gb),
    );
    assert!(r.passed(), "{r}");

    let (v, g) = exp_of_doubled_grad(&a);
    assert!((v - exp_of_doubled(&a)).abs() < 1e-12);
    for i in 0..3 {
        assert!((g[i] - 2.0 * (2.0 * a[i]).exp()).abs() < 1e-12, "∂a[{i}]");
    }
    let r = gradcheck(|p: &Array1<f64>| exp_of_doubled(p), &a, &g);
    assert!(r.passed(), "{r}");

    let (v, (g, gx)) = largest_scaled_grad(&a, 2.0);
    assert!((v - largest_scaled(&a, 2.0)).abs() < 1e-12);
    assert_eq!(g, array![0.0, 2.0, 0.0]);
    assert_eq!(gx, a[1]);
    let r = gradcheck(
        |p: &(Array1<f64>, f64)| largest_scaled(&p.0, p.1),
        &(a.clone(), 2.0),
        &(g, gx),
    );
    assert!(r.passed(), "{r}");
}
