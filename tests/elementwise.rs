//! Closures over the elements of ndarray arrays in differentiated functions: `a.mapv(|v| ..)`,
//! `a.mapv(f64::tanh)`, `a.map(|&v| ..)`, `a.mapv_into(..)`, `a.mapv_inplace(..)` on a local,
//! `Zip::from(&a).and(&b).map_collect(|&x, &y| ..)`, closures capturing differentiated scalars,
//! calls of differentiated functions inside them, and second order.
//!
//! Each function is checked against its analytic gradient (the math is in its comment), against
//! central finite differences (`autodiff::check::gradcheck`), and in forward mode along seeded
//! random directions (`common::forward`: the tangent against differences along the direction
//! and against the pullback by the dot-product test, the values of `_jvp` and `_vjp` bit for bit
//! against the function's). At the kinks of `max` and `abs` the derivatives are the scalar
//! rules' own.

use autodiff::check::random_direction;
use autodiff::{differentiate, nn};
use ndarray::{Array, Array1, Array2, Array4, Zip, array};

mod common;
use common::*;

/// A seeded array in [−1, 1) of the given shape.
fn seeded<D: ndarray::Dimension>(
    shape: impl ndarray::ShapeBuilder<Dim = D>,
    seed: u64,
) -> Array<f64, D> {
    random_direction(&Array::zeros(shape), seed)
}

/// Each entry of `actual` within `tol` (relative) of `expected`.
#[track_caller]
fn close_all<D: ndarray::Dimension>(
    what: &str,
    actual: &Array<f64, D>,
    expected: &Array<f64, D>,
    tol: f64,
) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        close(&format!("{what}[{i}]"), a, e, tol);
    }
}

// ---------------------------------------------------------------------------------------------
// One array, a closure of one element
// ---------------------------------------------------------------------------------------------

/// Σᵢ wᵢ·σ(aᵢ) with the logistic written out: ∂/∂aᵢ = wᵢ·σ(aᵢ)·(1 − σ(aᵢ)).
#[differentiate(wrt(a))]
fn sigmoid_weighted(a: &Array2<f64>, w: &Array2<f64>) -> f64 {
    (a.mapv(|v| 1.0 / (1.0 + (-v).exp())) * w).sum()
}

#[test]
fn logistic_closure_on_a_matrix() {
    let (a, w) = (seeded((3, 4), 1) * 3.0, seeded((3, 4), 2));
    let (y, g) = sigmoid_weighted_grad(&a, &w);
    assert_eq!(y, sigmoid_weighted(&a, &w));
    let s = a.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    close_all("∂/∂a", &g, &(&w * &s * (1.0 - &s)), TOL);
    fd_array("logistic", |a| sigmoid_weighted(a, &w), &a, &g);
    forward("logistic").check(
        &a,
        |a| sigmoid_weighted(a, &w),
        |a, v| sigmoid_weighted_jvp(a, &w, v),
        |a, g| {
            let (y, pullback) = sigmoid_weighted_vjp(a, &w);
            (y, pullback(g))
        },
    );
}

/// Σ tanh(aᵢ), the closure a function's path: ∂/∂aᵢ = 1 − tanh²(aᵢ).
#[differentiate]
fn tanh_path(a: &Array1<f64>) -> f64 {
    a.mapv(f64::tanh).sum()
}

#[test]
fn function_path_as_the_closure() {
    let a = seeded(6, 3) * 2.0;
    let (_, g) = tanh_path_grad(&a);
    close_all("∂/∂a", &g, &a.mapv(|v| 1.0 - v.tanh().powi(2)), TOL);
    fd_array("tanh path", tanh_path, &a, &g);
    forward("tanh path").check(&a, tanh_path, tanh_path_jvp, |a, g| {
        let (y, pullback) = tanh_path_vjp(a);
        (y, pullback(g))
    });
}

/// Σ ((a ⊙ b)ᵢ)², the map applied to a product: ∂/∂aᵢ = 2aᵢbᵢ², ∂/∂bᵢ = 2aᵢ²bᵢ.
#[differentiate]
fn product_squared(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a * b).mapv(|v| v.powi(2)).sum()
}

#[test]
fn map_of_a_product() {
    let (a, b) = (seeded((2, 3), 4), seeded((2, 3), 5));
    let (y, (ga, gb)) = product_squared_grad(&a, &b);
    assert_eq!(y, product_squared(&a, &b));
    close_all("∂/∂a", &ga, &(2.0 * &a * &b * &b), TOL);
    close_all("∂/∂b", &gb, &(2.0 * &a * &a * &b), TOL);
    fd_array("∂/∂a", |a| product_squared(a, &b), &a, &ga);
    fd_array("∂/∂b", |b| product_squared(&a, b), &b, &gb);
    forward("product squared").check(
        &(a, b),
        |p| product_squared(&p.0, &p.1),
        |p, v| product_squared_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, g| {
            let (y, pullback) = product_squared_vjp(&p.0, &p.1);
            (y, pullback(g))
        },
    );
}

/// `map` passes references: Σ aᵢ·sin(aᵢ), ∂/∂aᵢ = sin(aᵢ) + aᵢ·cos(aᵢ).
#[differentiate]
fn map_by_reference(a: &Array1<f64>) -> f64 {
    a.map(|&v| v * v.sin()).sum() + a.map(|v| *v * 0.5).sum()
}

#[test]
fn map_with_reference_patterns() {
    let a = seeded(5, 6) * 3.0;
    let (_, g) = map_by_reference_grad(&a);
    close_all("∂/∂a", &g, &a.mapv(|v| v.sin() + v * v.cos() + 0.5), TOL);
    fd_array("map", map_by_reference, &a, &g);
    forward("map").check(&a, map_by_reference, map_by_reference_jvp, |a, g| {
        let (y, pullback) = map_by_reference_vjp(a);
        (y, pullback(g))
    });
}

/// `mapv_into` on a temporary and `mapv_inplace` on a local: Σ e^{2aᵢ} + Σ sin(3aᵢ),
/// ∂/∂aᵢ = 2e^{2aᵢ} + 3cos(3aᵢ).
#[differentiate]
fn into_and_inplace(a: &Array2<f64>) -> f64 {
    let e = (a * 2.0).mapv_into(|v| v.exp());
    let mut s = a * 3.0;
    s.mapv_inplace(|v| v.sin());
    e.sum() + s.sum()
}

#[test]
fn mapv_into_and_mapv_inplace() {
    let a = seeded((3, 2), 7);
    let (y, g) = into_and_inplace_grad(&a);
    assert_eq!(y, into_and_inplace(&a));
    let expected = a.mapv(|v| 2.0 * (2.0 * v).exp() + 3.0 * (3.0 * v).cos());
    close_all("∂/∂a", &g, &expected, TOL);
    fd_array("into and inplace", into_and_inplace, &a, &g);
    forward("into and inplace").check(&a, into_and_inplace, into_and_inplace_jvp, |a, g| {
        let (y, pullback) = into_and_inplace_vjp(a);
        (y, pullback(g))
    });
}

/// A 4-D array, a closure with a branch: Σ leaky(aᵢ)·aᵢ with leaky(v) = v for v > 0 and v/10
/// otherwise, so ∂/∂aᵢ = 2aᵢ for aᵢ > 0 and aᵢ/5 otherwise.
#[differentiate]
fn leaky_4d(a: &Array4<f64>) -> f64 {
    (a.mapv(|v| if v > 0.0 { v } else { 0.1 * v }) * a).sum()
}

#[test]
fn branching_closure_on_a_4d_array() {
    let a = seeded((2, 3, 2, 2), 8);
    let (y, g) = leaky_4d_grad(&a);
    assert_eq!(y, leaky_4d(&a));
    let expected = a.mapv(|v| if v > 0.0 { 2.0 * v } else { 0.2 * v });
    close_all("∂/∂a", &g, &expected, TOL);
    fd_array("leaky 4-d", leaky_4d, &a, &g);
    forward("leaky 4-d").check(&a, leaky_4d, leaky_4d_jvp, |a, g| {
        let (y, pullback) = leaky_4d_vjp(a);
        (y, pullback(g))
    });
}

/// An array result: yᵢ = ln(1 + aᵢ²), ∂yᵢ/∂aᵢ = 2aᵢ/(1 + aᵢ²), so the pullback of ȳ is
/// ȳ ⊙ 2a/(1 + a²) and the tangent along ȧ is ȧ ⊙ 2a/(1 + a²).
#[differentiate]
fn log_square(a: &Array2<f64>) -> Array2<f64> {
    a.mapv(|v| (1.0 + v * v).ln())
}

#[test]
fn array_result() {
    let a = seeded((3, 3), 9);
    let d = a.mapv(|v| 2.0 * v / (1.0 + v * v));
    let gbar = seeded((3, 3), 10);
    let (y, pullback) = log_square_vjp(&a);
    assert_eq!(y, log_square(&a));
    close_all("pullback", &pullback(gbar.clone()), &(&gbar * &d), TOL);
    let pairs = forward("log square").check(&a, log_square, log_square_jvp, |a, g| {
        let (y, pullback) = log_square_vjp(a);
        (y, pullback(g))
    });
    for (v, jv) in &pairs {
        close_all("tangent", jv, &(v * &d), TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Several arrays: `Zip`
// ---------------------------------------------------------------------------------------------

/// Σ (xᵢ·e^{yᵢ} + (xᵢ − yᵢ)²): ∂/∂xᵢ = e^{yᵢ} + 2(xᵢ − yᵢ), ∂/∂yᵢ = xᵢ·e^{yᵢ} − 2(xᵢ − yᵢ).
#[differentiate]
fn zip_two(x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    Zip::from(x)
        .and(y)
        .map_collect(|&a, &b| a * b.exp() + (a - b).powi(2))
        .sum()
}

#[test]
fn zip_of_two_arrays() {
    let (x, y) = (seeded((2, 4), 11), seeded((2, 4), 12));
    let (value, (gx, gy)) = zip_two_grad(&x, &y);
    assert_eq!(value, zip_two(&x, &y));
    close_all("∂/∂x", &gx, &(y.exp() + 2.0 * (&x - &y)), TOL);
    close_all("∂/∂y", &gy, &(&x * &y.exp() - 2.0 * (&x - &y)), TOL);
    fd_array("∂/∂x", |x| zip_two(x, &y), &x, &gx);
    fd_array("∂/∂y", |y| zip_two(&x, y), &y, &gy);
    forward("zip of two").check(
        &(x, y),
        |p| zip_two(&p.0, &p.1),
        |p, v| zip_two_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, g| {
            let (value, pullback) = zip_two_vjp(&p.0, &p.1);
            (value, pullback(g))
        },
    );
}

/// Three producers, one of them not differentiated and one a transposed view:
/// Σ xᵢ·zᵢ/(1 + mᵢ²) with z = uᵀ, ∂/∂xᵢ = zᵢ/(1 + mᵢ²), ∂/∂uᵀᵢ = xᵢ/(1 + mᵢ²).
#[differentiate(wrt(x, u))]
fn zip_three(x: &Array2<f64>, u: &Array2<f64>, m: &Array2<f64>) -> f64 {
    Zip::from(x)
        .and(u.t())
        .and(m)
        .map_collect(|&a, &b, &c| a * b / (1.0 + c * c))
        .sum()
}

#[test]
fn zip_of_three_arrays_with_a_view() {
    let (x, u, m) = (seeded((2, 3), 13), seeded((3, 2), 14), seeded((2, 3), 15));
    let (_, (gx, gu)) = zip_three_grad(&x, &u, &m);
    let q = m.mapv(|c| 1.0 / (1.0 + c * c));
    close_all("∂/∂x", &gx, &(&u.t() * &q), TOL);
    close_all("∂/∂u", &gu, &(&x * &q).t().to_owned(), TOL);
    fd_array("∂/∂x", |x| zip_three(x, &u, &m), &x, &gx);
    fd_array("∂/∂u", |u| zip_three(&x, u, &m), &u, &gu);
    forward("zip of three").check(
        &(x, u),
        |p| zip_three(&p.0, &p.1, &m),
        |p, v| zip_three_jvp(&p.0, &p.1, &m, &v.0, &v.1),
        |p, g| {
            let (value, pullback) = zip_three_vjp(&p.0, &p.1, &m);
            (value, pullback(g))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Captured values
// ---------------------------------------------------------------------------------------------

/// A differentiated scalar captured: Σ sin(aᵢ·w), ∂/∂aᵢ = w·cos(aᵢw), ∂/∂w = Σ aᵢ·cos(aᵢw).
#[differentiate]
fn scaled_sin(a: &Array1<f64>, w: f64) -> f64 {
    a.mapv(|v| (v * w).sin()).sum()
}

#[test]
fn captured_differentiated_scalar() {
    let (a, w) = (seeded(7, 16) * 2.0, 1.3);
    let (_, (ga, gw)) = scaled_sin_grad(&a, w);
    close_all("∂/∂a", &ga, &a.mapv(|v| w * (v * w).cos()), TOL);
    close("∂/∂w", gw, a.mapv(|v| v * (v * w).cos()).sum(), TOL);
    fd_array("∂/∂a", |a| scaled_sin(a, w), &a, &ga);
    fd("∂/∂w", |w| scaled_sin(&a, w), w, gw);
    forward("scaled sin").check(
        &(a, w),
        |p| scaled_sin(&p.0, p.1),
        |p, v| scaled_sin_jvp(&p.0, p.1, &v.0, v.1),
        |p, g| {
            let (value, pullback) = scaled_sin_vjp(&p.0, p.1);
            (value, pullback(g))
        },
    );
}

/// A captured mean: Σ (aᵢ − m)² with m = mean(a). ∂/∂aⱼ = 2(aⱼ − m) − (2/n)·Σᵢ(aᵢ − m), and
/// the sum is 0, so ∂/∂aⱼ = 2(aⱼ − m).
#[differentiate]
fn centered_squares(a: &Array2<f64>) -> f64 {
    let m = a.mean().unwrap();
    a.mapv(|v| (v - m).powi(2)).sum()
}

/// Standardizing with captured statistics, `(v − mean)/std`, against the same written with
/// array operations.
#[differentiate(wrt(a))]
fn standardized(a: &Array1<f64>, w: &Array1<f64>) -> f64 {
    let mean = a.mean().unwrap();
    let std = (a.mapv(|v| (v - mean).powi(2)).mean().unwrap() + 1e-3).sqrt();
    (a.mapv(|v| (v - mean) / std).mapv(|z| z * z * z) * w).sum()
}

#[differentiate(wrt(a))]
fn standardized_by_array_ops(a: &Array1<f64>, w: &Array1<f64>) -> f64 {
    let mean = a.mean().unwrap();
    let std = ((a - mean).powi(2).mean().unwrap() + 1e-3).sqrt();
    let z = (a - mean) / std;
    (&z * &z * &z * w).sum()
}

#[test]
fn captured_statistics() {
    let a = seeded((3, 4), 17);
    let (_, g) = centered_squares_grad(&a);
    let m = a.mean().unwrap();
    close_all("∂/∂a", &g, &a.mapv(|v| 2.0 * (v - m)), TOL);
    fd_array("centered squares", centered_squares, &a, &g);

    let (a, w) = (seeded(6, 18), seeded(6, 19));
    let (y, g) = standardized_grad(&a, &w);
    let (y_ops, g_ops) = standardized_by_array_ops_grad(&a, &w);
    close("value", y, y_ops, TOL);
    close_all("∂/∂a against array operations", &g, &g_ops, 1e-10);
    fd_array("standardized", |a| standardized(a, &w), &a, &g);
    forward("standardized").check(
        &a,
        |a| standardized(a, &w),
        |a, v| standardized_jvp(a, &w, v),
        |a, g| {
            let (y, pullback) = standardized_vjp(a, &w);
            (y, pullback(g))
        },
    );
}

/// Inactive captures and a local closure bound by name: Σ c·tanh(aᵢ)·s[0] with `c` a constant
/// and `s` a slice that is not differentiated; ∂/∂aᵢ = c·s[0]·(1 − tanh²(aᵢ)).
#[differentiate(wrt(a))]
fn local_closure(a: &Array1<f64>, s: &[f64]) -> f64 {
    let c = 0.5;
    let act = |v: f64| c * v.tanh() * s[0];
    a.mapv(act).sum()
}

/// A closure that calls a local closure: Σ (aᵢ² + aᵢ), ∂/∂aᵢ = 2aᵢ + 1.
#[differentiate]
fn closure_in_closure(a: &Array1<f64>) -> f64 {
    let sq = |v: f64| v * v;
    a.mapv(|v| sq(v) + v).sum()
}

#[test]
fn local_closures_and_inactive_captures() {
    let (a, s) = (seeded(5, 20), [3.0, 7.0]);
    let (_, g) = local_closure_grad(&a, &s);
    close_all("∂/∂a", &g, &a.mapv(|v| 1.5 * (1.0 - v.tanh().powi(2))), TOL);
    fd_array("local closure", |a| local_closure(a, &s), &a, &g);
    let (_, g) = closure_in_closure_grad(&a);
    close_all("∂/∂a", &g, &a.mapv(|v| 2.0 * v + 1.0), TOL);
    forward("closure in closure").check(&a, closure_in_closure, closure_in_closure_jvp, |a, g| {
        let (y, pullback) = closure_in_closure_vjp(a);
        (y, pullback(g))
    });
}

// ---------------------------------------------------------------------------------------------
// Calls of differentiated functions, and maps whose values the macro cannot type
// ---------------------------------------------------------------------------------------------

/// σ(x) = 1/(1 + e⁻ˣ), σ' = σ(1 − σ), σ'' = σ'(1 − 2σ).
#[differentiate(hessian)]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Σ σ(aᵢ)·bᵢ through the differentiated `sigmoid`: ∂/∂aᵢ = σ'(aᵢ)·bᵢ, ∂/∂bᵢ = σ(aᵢ).
#[differentiate]
fn call_in_closure(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a.mapv(sigmoid) * b).sum()
        + Zip::from(a)
            .and(b)
            .map_collect(|&x, &y| sigmoid(x * y))
            .sum()
}

#[test]
fn differentiated_function_called_per_element() {
    let (a, b) = (seeded(5, 21) * 3.0, seeded(5, 22));
    let (_, (ga, gb)) = call_in_closure_grad(&a, &b);
    let s = a.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let ds = |v: f64| {
        let s = 1.0 / (1.0 + (-v).exp());
        s * (1.0 - s)
    };
    let ab = &a * &b;
    close_all(
        "∂/∂a",
        &ga,
        &(s.mapv(|s| s * (1.0 - s)) * &b + ab.mapv(ds) * &b),
        TOL,
    );
    close_all("∂/∂b", &gb, &(&s + ab.mapv(ds) * &a), TOL);
    forward("call in closure").check(
        &(a, b),
        |p| call_in_closure(&p.0, &p.1),
        |p, v| call_in_closure_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, g| {
            let (y, pullback) = call_in_closure_vjp(&p.0, &p.1);
            (y, pullback(g))
        },
    );
}

/// The elements of an array `nn::relu` returned (their type comes from rustc, not from a
/// declaration the macro reads): Σ relu(aᵢ)³, ∂/∂aᵢ = 3aᵢ² for aᵢ > 0 and 0 otherwise.
#[differentiate]
fn untyped_elements(a: &Array1<f64>) -> f64 {
    nn::relu(a).mapv(|v| v * v * v).sum()
}

#[test]
fn elements_of_an_unknown_type() {
    let a = seeded(8, 23);
    let (_, g) = untyped_elements_grad(&a);
    let expected = a.mapv(|v| if v > 0.0 { 3.0 * v * v } else { 0.0 });
    close_all("∂/∂a", &g, &expected, TOL);
    forward("untyped elements").check(&a, untyped_elements, untyped_elements_jvp, |a, g| {
        let (y, pullback) = untyped_elements_vjp(a);
        (y, pullback(g))
    });
}

/// f32 arrays: Σ √(1 + aᵢ²), ∂/∂aᵢ = aᵢ/√(1 + aᵢ²).
#[differentiate]
fn soft_abs_f32(a: &Array1<f32>) -> f32 {
    a.mapv(|v| (1.0 + v * v).sqrt()).sum()
}

#[test]
fn f32_elements() {
    let a: Array1<f32> = array![-1.5, -0.25, 0.0, 0.5, 2.0];
    let (y, g) = soft_abs_f32_grad(&a);
    assert_eq!(y, soft_abs_f32(&a));
    let expected = a.mapv(|v| v / (1.0 + v * v).sqrt());
    for (i, (&x, &e)) in g.iter().zip(&expected).enumerate() {
        assert!((x - e).abs() <= 1e-6, "∂/∂a[{i}]: {x} against {e}");
    }
}

/// A map in a loop, whose pullbacks are kept per iteration: x ← sin(x/2) three times;
/// ∂/∂a is the product of the three derivatives cos(xₖ/2)/2 along each element's path.
#[differentiate]
fn iterated(a: &Array1<f64>) -> f64 {
    let mut x = a.to_owned();
    for _ in 0..3 {
        x = x.mapv(|v| (v * 0.5).sin());
    }
    x.sum()
}

#[test]
fn map_in_a_loop() {
    let a = seeded(4, 24) * 3.0;
    let (_, g) = iterated_grad(&a);
    let expected = a.mapv(|mut v| {
        let mut d = 1.0;
        for _ in 0..3 {
            d *= 0.5 * (v * 0.5).cos();
            v = (v * 0.5).sin();
        }
        d
    });
    close_all("∂/∂a", &g, &expected, TOL);
    fd_array("iterated", iterated, &a, &g);
}

// ---------------------------------------------------------------------------------------------
// Kinks, and maps on inactive arrays
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn scalar_max(x: f64) -> f64 {
    x.max(0.0)
}

#[differentiate]
fn scalar_abs(x: f64) -> f64 {
    x.abs()
}

/// Σ max(aᵢ, 0) + Σ |aᵢ|, with the scalar rules' conventions at 0: max with tied arguments
/// gives half the cotangent to each, |·|'(0) = 0.
#[differentiate]
fn kinks(a: &Array1<f64>) -> f64 {
    a.mapv(|v| v.max(0.0)).sum() + a.mapv(f64::abs).sum()
}

#[test]
fn kinks_follow_the_scalar_rules() {
    let a = array![-1.0, 0.0, 2.0];
    let (_, g) = kinks_grad(&a);
    for (i, &x) in a.iter().enumerate() {
        let expected = scalar_max_grad(x).1 + scalar_abs_grad(x).1;
        assert_eq!(g[i], expected, "∂/∂a[{i}] at {x}");
    }
    assert_eq!(g, array![-1.0, 0.5, 2.0]);
    // The tangent uses the same elements of the generalized gradients.
    let (_, t) = kinks_jvp(&a, &array![1.0, 1.0, 1.0]);
    assert_eq!(t, g.sum());
    forward("kinks")
        .at_kink()
        .check(&a, kinks, kinks_jvp, |a, g| {
            let (y, pullback) = kinks_vjp(a);
            (y, pullback(g))
        });
}

/// A map of an array that is not differentiated runs as written; the other is differentiated:
/// Σ relu(aᵢ)·[mᵢ > ½], ∂/∂aᵢ = [aᵢ > 0]·[mᵢ > ½].
#[differentiate(wrt(a))]
fn masked(a: &Array1<f64>, mask: &Array1<f64>) -> f64 {
    let m = mask.mapv(|v| if v > 0.5 { 1.0 } else { 0.0 });
    let r = a.mapv(|v| v.max(0.0));
    (&r * &m).sum()
}

#[test]
fn inactive_maps_run_as_written() {
    let (a, mask) = (array![1.0, -2.0, 3.0, 0.5], array![1.0, 1.0, 0.0, 0.9]);
    let (y, g) = masked_grad(&a, &mask);
    assert_eq!(y, 1.5);
    assert_eq!(g, array![1.0, 0.0, 0.0, 1.0]);
}

// ---------------------------------------------------------------------------------------------
// Second order
// ---------------------------------------------------------------------------------------------

/// f(a, w) = Σ sin(aᵢw). Hessian: ∂²f/∂aᵢ² = −w²·sin(aᵢw), ∂²f/∂aᵢ∂w = cos(aᵢw) − aᵢw·sin(aᵢw),
/// ∂²f/∂w² = −Σ aᵢ²·sin(aᵢw), and ∂²f/∂aᵢ∂aⱼ = 0 for i ≠ j.
#[differentiate(hessian)]
fn sin_scaled_h(a: &Array1<f64>, w: f64) -> f64 {
    a.mapv(|v| (v * w).sin()).sum()
}

/// Σ σ(aᵢ)·aᵢ through the differentiated `sigmoid` (which has its own second order):
/// ∂²/∂aᵢ² = σ''(aᵢ)·aᵢ + 2σ'(aᵢ).
#[differentiate(hessian)]
fn sigmoid_times_h(a: &Array1<f64>) -> f64 {
    Zip::from(a)
        .and(a)
        .map_collect(|&x, &y| sigmoid(x) * y)
        .sum()
}

#[test]
fn hessian_vector_products() {
    let (a, w) = (seeded(4, 25) * 2.0, 0.8);
    let (v, vw) = (seeded(4, 26), -0.6);
    let (y, (ga, gw), (ha, hw)) = sin_scaled_h_hvp(&a, w, &v, vw);
    assert_eq!(y, sin_scaled_h(&a, w));
    let (_, (ga1, gw1)) = sin_scaled_h_grad(&a, w);
    close_all("gradient", &ga, &ga1, TOL);
    close("∂/∂w", gw, gw1, TOL);
    let haa = a.mapv(|x| -w * w * (x * w).sin());
    let haw = a.mapv(|x| (x * w).cos() - x * w * (x * w).sin());
    let hww = -a.mapv(|x| x * x * (x * w).sin()).sum();
    close_all("(H·v)_a", &ha, &(&haa * &v + &haw * vw), TOL);
    close("(H·v)_w", hw, (&haw * &v).sum() + hww * vw, TOL);

    let (_, _, h) = sigmoid_times_h_hvp(&a, &v);
    let s = |x: f64| 1.0 / (1.0 + (-x).exp());
    let expected = a.mapv(|x| {
        let (s, ds) = (s(x), s(x) * (1.0 - s(x)));
        ds * (1.0 - 2.0 * s) * x + 2.0 * ds
    }) * &v;
    close_all("H·v through sigmoid", &h, &expected, TOL);
}

/// Closures over array elements that read a float through a field or an element of what they
/// capture (`p.b` of a parameter struct, `self.temp` in a method, `w[0]` of an array, `t.0` of a
/// tuple, `q.ps[0].temp`): the closure captured the whole struct, array or tuple, and the
/// generated code did not compile ("must be a float, found `Lr`"). The float is read once
/// before the map.
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Tempered {
    temp: f64,
    w: ndarray::Array1<f64>,
}

#[derive(Clone, Debug, autodiff::Differentiable)]
struct Tempers {
    ps: Vec<Tempered>,
}

#[differentiate(wrt(self))]
impl Tempered {
    fn soft_total(&self, x: &ndarray::Array1<f64>) -> f64 {
        x.mapv(|v| (v * self.temp).exp()).sum() + x.mapv(|v| v * self.w[0]).sum()
    }
}

#[differentiate]
fn reads_in_closures(
    w: &ndarray::Array1<f64>,
    t: (f64, f64),
    x: &ndarray::Array1<f64>,
    q: &Tempers,
) -> f64 {
    x.mapv(|v| v * w[0] + w[1]).sum()
        + x.mapv(|v| v * t.0 - t.1).sum()
        + x.mapv(|v| (v + q.ps[0].temp).tanh()).sum()
}

#[test]
fn closures_reading_fields_and_elements() {
    use ndarray::array;
    let m = Tempered {
        temp: 0.5,
        w: array![1.5],
    };
    let x = array![0.1, 0.2];
    let (v, g) = m.soft_total_grad(&x);
    assert_eq!(v, m.soft_total(&x));
    let want: f64 = x.iter().map(|v| v * (v * 0.5f64).exp()).sum();
    assert!((g.temp - want).abs() < 1e-12, "{} vs {want}", g.temp);
    assert_eq!(g.w, array![x.sum()]);
    let q = Tempers { ps: vec![m] };
    let w = array![2.0, 3.0];
    let (v, (gw, gt, gx, gq)) = reads_in_closures_grad(&w, (1.5, 2.5), &x, &q);
    assert_eq!(v, reads_in_closures(&w, (1.5, 2.5), &x, &q));
    assert_eq!(gw, array![x.sum(), 2.0]);
    assert_eq!(gt, (x.sum(), -2.0));
    let sech2 = |v: f64| 1.0 - (v + 0.5).tanh().powi(2);
    assert!((gq.ps[0].temp - (sech2(0.1) + sech2(0.2))).abs() < 1e-12);
    assert!((gx[0] - (2.0 + 1.5 + sech2(0.1))).abs() < 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Arrays of data zipped with arrays of floats: a mask of `bool`s, integer class labels. Their
// elements are data in the closure, read in step with the floats' (the generated code zipped
// every producer as floats: rustc's "expected `ArrayView<f64>`, found `ArrayView<bool>`").
// ---------------------------------------------------------------------------------------------

/// Σ over the masked elements of hᵢ²·w: ∂/∂hᵢ = 2hᵢw where maskᵢ, 0 elsewhere; ∂/∂w = Σ hᵢ².
#[differentiate(hessian)]
fn masked_squares(h: &Array1<f64>, mask: &Array1<bool>, w: f64) -> f64 {
    Zip::from(h)
        .and(mask)
        .map_collect(|&v, &k| if k { v * v * w } else { 0.0 })
        .sum()
}

/// The labels first: Σ −ln σ(±zᵢ), the sign +1 for label 1 and −1 for label 0.
#[differentiate]
fn labelled_loss(labels: &Array2<usize>, z: &Array2<f64>) -> f64 {
    Zip::from(labels)
        .and(z)
        .map_collect(|&l, &v| {
            let s = if l == 1 { v } else { -v };
            (1.0 + (-s).exp()).ln()
        })
        .sum()
}

#[test]
fn arrays_of_data_zipped_with_floats() {
    let h = array![0.5, -1.5, 2.0, 0.25];
    let mask = array![true, false, true, false];
    let w = 0.75;
    let (y, (gh, gw)) = masked_squares_grad(&h, &mask, w);
    assert_eq!(y, masked_squares(&h, &mask, w));
    close("value", y, (0.25 + 4.0) * w, TOL);
    close_all(
        "∂/∂h",
        &gh,
        &array![2.0 * 0.5 * w, 0.0, 2.0 * 2.0 * w, 0.0],
        TOL,
    );
    close("∂/∂w", gw, 0.25 + 4.0, TOL);
    let r = autodiff::check::gradcheck(
        |hw: &(Array1<f64>, f64)| masked_squares(&hw.0, &mask, hw.1),
        &(h.clone(), w),
        &(gh.clone(), gw),
    );
    assert!(r.passed(), "{r}");
    let (dh, dw) = (seeded(4, 31), 0.5);
    let (_, dy) = masked_squares_jvp(&h, &mask, w, &dh, dw);
    close("tangent", dy, (&gh * &dh).sum() + gw * dw, TOL);
    // H·v: (∂²/∂hᵢ² = 2w, ∂²/∂hᵢ∂w = 2hᵢ) where maskᵢ.
    let (_, _, (hh, hw)) = masked_squares_hvp(&h, &mask, w, &dh, dw);
    let m = mask.mapv(|k| if k { 1.0 } else { 0.0 });
    close_all(
        "(H·v)_h",
        &hh,
        &(&m * &(&dh * (2.0 * w) + &h * (2.0 * dw))),
        TOL,
    );
    close("(H·v)_w", hw, (&m * &h * &dh * 2.0).sum(), TOL);

    let labels = array![[1usize, 0], [0, 1]];
    let z = array![[0.3, -1.2], [2.0, 0.1]];
    let (y, g) = labelled_loss_grad(&labels, &z);
    assert_eq!(y, labelled_loss(&labels, &z));
    // ∂/∂zᵢ = −σ(−sᵢ)·(±1).
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let expected = Zip::from(&labels).and(&z).map_collect(|&l, &v| {
        let sign = if l == 1 { 1.0 } else { -1.0 };
        -sig(-sign * v) * sign
    });
    close_all("∂/∂z", &g, &expected, TOL);
    let r = autodiff::check::gradcheck(|z: &Array2<f64>| labelled_loss(&labels, z), &z, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Closures reading a shape query or a reduction of an array of the enclosing function
// (`x.mapv(|v| v / x.len() as f64)`, `e.mapv(|v| v / e.sum())`): they do not depend on the
// element, and are computed once before the map, as a field or an element the closure reads is
// (the nested function captured the whole array: a cascade of rustc errors at the map, "a
// differentiated value captured by a closure over array elements must be a float").
// ---------------------------------------------------------------------------------------------

/// Σᵢ exp(xᵢ / n): ∂/∂xᵢ = exp(xᵢ / n) / n.
#[differentiate]
fn scaled_by_len(x: &Array1<f64>) -> f64 {
    x.mapv(|v| (v / x.len() as f64).exp()).sum()
}

/// The entropy of the softmax of x, pᵢ = eᵢ / Σ e: −Σ pᵢ ln pᵢ; ∂/∂xᵢ = −pᵢ (ln pᵢ + H).
#[differentiate]
fn softmax_entropy(x: &Array1<f64>) -> f64 {
    let e = x.mapv(f64::exp);
    e.mapv(|v| v / e.sum()).mapv(|p| -p * p.ln()).sum()
}

/// Reductions of the other arrays in each kind of elementwise closure that is followed.
#[differentiate]
fn reductions_in_closures(x: &Array1<f64>, w: &Array1<f64>, m: &Array2<f64>) -> f64 {
    let a = x.mapv(|v| (v * w.dot(w) + w.mean().unwrap()).tanh()).sum();
    let b = Zip::from(x)
        .and(w)
        .map_collect(|&p, &q| p * q / w.sum())
        .sum();
    let mut out = Array1::zeros(x.len());
    Zip::from(&mut out)
        .and(x)
        .for_each(|o, &p| *o = p * x.sum());
    let mut c = m.mapv(f64::sin);
    c.mapv_inplace(|v| v * m.nrows() as f64 - m.sum());
    let d = m
        .map(|&v| v * m.shape()[1] as f64 + m.dim().0 as f64)
        .mapv(|v| v * v)
        .sum();
    a + b + out.sum() + c.sum() + d
}

#[test]
fn closures_reading_reductions_of_arrays() {
    let x = array![0.3, -1.2, 0.7, 2.0];
    let (y, g) = scaled_by_len_grad(&x);
    assert_eq!(y, scaled_by_len(&x));
    close_all("∂/∂x (len)", &g, &x.mapv(|v| (v / 4.0).exp() / 4.0), TOL);
    fd_array("len", scaled_by_len, &x, &g);
    forward("len").check(&x, scaled_by_len, scaled_by_len_jvp, |x, g| {
        let (y, pullback) = scaled_by_len_vjp(x);
        (y, pullback(g))
    });

    let (y, g) = softmax_entropy_grad(&x);
    assert_eq!(y, softmax_entropy(&x));
    let p = x.mapv(f64::exp) / x.mapv(f64::exp).sum();
    let h = -(&p * &p.mapv(f64::ln)).sum();
    close("entropy", y, h, TOL);
    close_all("∂/∂x (entropy)", &g, &(-(&p * &(p.mapv(f64::ln) + h))), TOL);
    fd_array("entropy", softmax_entropy, &x, &g);
    let (_, pullback) = softmax_entropy_vjp(&x);
    close_all("seed 2.5", &pullback(2.5), &(&g * 2.5), TOL);

    let w = array![0.5, -0.25, 1.5, 0.75];
    let m = array![[0.2, -0.4, 1.1], [0.9, 0.3, -0.6]];
    let (y, (gx, gw, gm)) = reductions_in_closures_grad(&x, &w, &m);
    assert_eq!(y, reductions_in_closures(&x, &w, &m));
    fd_array("x", |x| reductions_in_closures(x, &w, &m), &x, &gx);
    fd_array("w", |w| reductions_in_closures(&x, w, &m), &w, &gw);
    fd_array("m", |m| reductions_in_closures(&x, &w, m), &m, &gm);
    forward("reductions").check(
        &(x.clone(), w.clone(), m.clone()),
        |p| reductions_in_closures(&p.0, &p.1, &p.2),
        |p, v| reductions_in_closures_jvp(&p.0, &p.1, &p.2, &v.0, &v.1, &v.2),
        |p, g| {
            let (y, pullback) = reductions_in_closures_vjp(&p.0, &p.1, &p.2);
            (y, pullback(g))
        },
    );
}
