//! Hessian-vector products of functions of ndarray arrays (`#[differentiate(hessian)]`), whose
//! second derivatives go through the tangents of the runtime's reverse rules: against an
//! analytic Hessian, against central finite differences of the gradient along the direction,
//! and through the symmetry of the Hessian, `⟨u, H·v⟩ = ⟨v, H·u⟩`.

use autodiff::check::{Tolerance, assert_close};
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, array};

/// Σᵢ e^{aᵢ}/aᵢ: an array quotient of an array function. Its Hessian is diagonal, with
/// h''(x) = eˣ·(1/x − 2/x² + 2/x³) for h(x) = eˣ/x.
#[differentiate(hessian)]
fn exp_over(a: &Array1<f64>) -> f64 {
    (a.exp() / a).sum()
}

/// `exp`, `tanh` and `sin`, and a quotient by an array plus a scalar.
#[differentiate(hessian)]
fn smooth(a: &Array1<f64>) -> f64 {
    let d = a * a + 1.0;
    (a.exp() / &d).sum() + a.tanh().sin().sum()
}

/// Broadcasting: the row `b` against every row of `a`, through `ln`, `sqrt`, a quotient and
/// `powf`.
#[differentiate(hessian)]
fn rows(a: &Array2<f64>, b: &Array1<f64>) -> f64 {
    let q = (a * a + 1.0).ln() * (b * b + 0.5).sqrt();
    let r = (a * a / (b * b + 1.0) + 0.5).powf(1.5);
    (q + r).sum()
}

/// Scalars beside an array: an exponent and a divisor shared by every element, whose
/// derivatives are sums over the elements.
#[differentiate(hessian)]
fn scaled(a: &Array1<f64>, s: f64) -> f64 {
    ((a * a + 1.0).powf(s) / s).sum() + (a / s).sin().sum()
}

fn leaves<P: Differentiable<Scalar = f64>>(x: &P) -> Vec<f64> {
    let mut out = Vec::new();
    x.visit_leaves(&mut |leaf| out.extend_from_slice(leaf));
    out
}

fn along<P: Differentiable<Scalar = f64>>(x: &P, v: &P, s: f64) -> P {
    let mut step = v.clone();
    step.scale(s);
    let mut out = x.clone();
    out.add_assign(&step);
    out
}

/// `H·v` from `hvp` against the central difference of the gradient along `v`, element by
/// element with the default tolerances of `check`; and `⟨u, H·v⟩ = ⟨v, H·u⟩`.
#[track_caller]
fn check_hessian<P: Differentiable<Scalar = f64>>(
    grad: impl Fn(&P) -> P,
    hvp: impl Fn(&P, &P) -> P,
    x: &P,
    u: &P,
    v: &P,
) {
    let tol = Tolerance::default_for::<f64>();
    let h = tol.step;
    let (plus, minus) = (
        leaves(&grad(&along(x, v, h))),
        leaves(&grad(&along(x, v, -h))),
    );
    let hv = hvp(x, v);
    for (i, ((&a, p), m)) in leaves(&hv).iter().zip(&plus).zip(&minus).enumerate() {
        let numeric = (p - m) / (2.0 * h);
        assert!(
            tol.allows(a, numeric),
            "(H·v)[{i}] = {a:e}, central difference of the gradient {numeric:e}"
        );
    }
    let hu = hvp(x, u);
    assert_close(u.inner(&hv), v.inner(&hu), 1e-12);
}

#[test]
fn quotient_of_exp_has_the_analytic_diagonal_hessian() {
    let a = array![0.4, 0.9, 1.7, 2.5];
    let v = array![1.0, -0.5, 0.25, 2.0];
    let (value, grad, hv) = exp_over_hvp(&a, &v);
    assert_close(value, exp_over(&a), 1e-15);
    assert_close(leaves(&grad)[2], exp_over_grad(&a).1[2], 1e-15);
    for i in 0..a.len() {
        let x = a[i];
        let h2 = x.exp() * (1.0 / x - 2.0 / (x * x) + 2.0 / (x * x * x));
        assert_close(hv[i], h2 * v[i], 1e-13);
    }
    check_hessian(
        |a: &Array1<f64>| exp_over_grad(a).1,
        |a, v| exp_over_hvp(a, v).2,
        &a,
        &array![0.3, 0.8, -1.1, 0.5],
        &v,
    );
}

#[test]
fn exp_tanh_sin_and_quotients() {
    let a = array![-1.2, -0.3, 0.2, 0.8, 1.5];
    check_hessian(
        |a: &Array1<f64>| smooth_grad(a).1,
        |a, v| smooth_hvp(a, v).2,
        &a,
        &array![0.3, 0.8, -1.1, 0.5, 0.9],
        &array![-0.6, 0.2, 1.0, -0.4, 0.7],
    );
}

#[test]
fn broadcasting_ln_sqrt_and_powf() {
    let a: Array2<f64> = array![[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]];
    let b: Array1<f64> = array![0.7, -1.3, 0.4];
    let u = (
        array![[0.3, -0.2, 0.9], [0.1, 0.6, -0.7]],
        array![0.5, 0.4, -1.0],
    );
    let v = (
        array![[-0.4, 1.0, 0.2], [0.8, -0.5, 0.3]],
        array![0.2, -0.9, 0.6],
    );
    let (value, _, hv) = rows_hvp(&a, &b, &v.0, &v.1);
    assert_close(value, rows(&a, &b), 1e-15);
    // H·v has one entry per differentiated argument, in the shape of each.
    assert_eq!((hv.0.dim(), hv.1.dim()), ((2, 3), 3));
    check_hessian(
        |p: &(Array2<f64>, Array1<f64>)| rows_grad(&p.0, &p.1).1,
        |p, v| rows_hvp(&p.0, &p.1, &v.0, &v.1).2,
        &(a, b),
        &u,
        &v,
    );
}

#[test]
fn scalar_exponent_and_divisor_beside_an_array() {
    let a = array![-0.7, 0.1, 0.6, 1.4];
    let s = 1.3;
    check_hessian(
        |p: &(Array1<f64>, f64)| scaled_grad(&p.0, p.1).1,
        |p, v| scaled_hvp(&p.0, p.1, &v.0, v.1).2,
        &(a, s),
        &(array![0.3, -0.8, 0.5, 0.2], -0.6),
        &(array![-0.5, 0.4, 0.9, -0.1], 0.7),
    );
}

/// An integer power of an array: no tangent for the exponent.
/// p(a) = Σ aᵢ³ + Σ (2aᵢ)⁻²: a diagonal Hessian, 6aᵢ + 24·(2aᵢ)⁻⁴.
#[differentiate(hessian)]
fn integer_powers(a: &Array1<f64>) -> f64 {
    a.powi(3).sum() + (a * 2.0).powi(-2).sum()
}

#[test]
fn integer_powers_of_an_array() {
    let a = array![-0.7, 0.4, 0.6, 1.4];
    check_hessian(
        |a: &Array1<f64>| integer_powers_grad(a).1,
        |a, v| integer_powers_hvp(a, v).2,
        &a,
        &array![0.3, -0.8, 0.5, 0.2],
        &array![-0.5, 0.4, 0.9, -0.1],
    );
    // Diagonal: ∂²/∂aᵢ² [aᵢ³ + (2aᵢ)⁻²] = 6aᵢ + 6·4·(2aᵢ)⁻⁴
    let e0 = array![1.0, 0.0, 0.0, 0.0];
    let h = integer_powers_hvp(&a, &e0).2;
    let x: f64 = a[0];
    assert_close(h[0], 6.0 * x + 24.0 * (2.0 * x).powi(-4), 1e-12);
    assert_eq!((h[1], h[2], h[3]), (0.0, 0.0, 0.0));
}

/// `a·a` and a quadratic form through `dot` on array parameters: f(a, W) = |W a|² + a·W a,
/// whose Hessian in `a` is 2WᵀW + W + Wᵀ.
#[differentiate(hessian)]
fn dots(a: &Array1<f64>, w: &Array2<f64>) -> f64 {
    let h = w.dot(a);
    let z = h.dot(&h);
    z + a.dot(&h) + a.dot(a)
}

#[test]
fn dot_products_of_parameters() {
    let a = array![1.0, 2.0];
    let w = array![[1.0, 2.0], [0.5, -1.0]];
    let zero_w = Array2::zeros((2, 2));
    for (k, v) in [array![1.0, 0.0], array![0.0, 1.0]].iter().enumerate() {
        let (_, _, (ha, _)) = dots_hvp(&a, &w, v, &zero_w);
        // 2WᵀW + W + Wᵀ + 2I, column k
        let h = w.t().dot(&w) * 2.0 + &w + w.t() + Array2::<f64>::eye(2) * 2.0;
        for i in 0..2 {
            assert_close(ha[i], h[[i, k]], 1e-12);
        }
    }
    check_hessian(
        |p: &(Array1<f64>, Array2<f64>)| dots_grad(&p.0, &p.1).1,
        |p, v| dots_hvp(&p.0, &p.1, &v.0, &v.1).2,
        &(a, w),
        &(array![0.3, -0.8], array![[0.5, 0.2], [-0.1, 0.4]]),
        &(array![-0.5, 0.4], array![[0.1, -0.3], [0.2, 0.6]]),
    );
}

/// Indices cast from a differentiated float and then computed with (`t.floor() as usize`,
/// `i + 1`), under `hessian`: the pullback recomputes them, and forward over reverse gave them
/// tangents (rustc's "`usize` cannot be differentiated" in the generated code).
#[differentiate(hessian)]
fn lerp_on_grid(ys: &[f64], t: f64) -> f64 {
    let i = t.floor() as usize;
    let j = i + 1;
    let f = t - i as f64;
    ys[i] * (1.0 - f) + ys[j] * f
}

#[differentiate(hessian)]
fn neighbours_product(x: &[f64], pos: f64) -> f64 {
    let i = pos as usize;
    if i + 1 < x.len() {
        x[i] * x[i + 1] * pos
    } else {
        pos
    }
}

#[differentiate(hessian)]
fn power_from_a_float(x: &[f64]) -> f64 {
    let e = x[0].abs().floor() as i32 + 2;
    x[1].powi(e)
}

#[test]
fn integer_indices_from_floats_under_hessian() {
    let ys = [1.0, 2.0, 4.0, 3.0];
    let (v, (gy, gt)) = lerp_on_grid_grad(&ys, 1.25);
    assert_eq!(v, lerp_on_grid(&ys, 1.25));
    assert_eq!(gy, vec![0.0, 0.75, 0.25, 0.0]);
    assert_eq!(gt, 2.0);
    // Along (e₁ + e₂, 1): ∂²f/∂t∂y₁ = −1, ∂²f/∂t∂y₂ = 1, ∂²f/∂t² = 0.
    let dy = vec![0.0, 1.0, 1.0, 0.0];
    let (_, _, (hy, ht)) = lerp_on_grid_hvp(&ys, 1.25, &dy, 1.0);
    assert_eq!(hy, vec![0.0, -1.0, 1.0, 0.0]);
    assert_eq!(ht, 0.0);

    let x = [2.0, 3.0, 5.0];
    let (v, (gx, gp)) = neighbours_product_grad(&x, 1.5);
    assert_eq!(v, 15.0 * 1.5);
    assert_eq!((gx, gp), (vec![0.0, 7.5, 4.5], 15.0));
    // Along (0, 0, 1; 1): ∂/∂x₂ of ∂f/∂pos is x₁ = 3, ∂/∂pos of ∂f/∂x₁ is x₂ = 5.
    let (_, _, (hx, hp)) = neighbours_product_hvp(&x, 1.5, &vec![0.0, 0.0, 1.0], 1.0);
    assert_eq!(hx, vec![0.0, 5.0 + 1.5, 3.0]);
    assert_eq!(hp, 3.0);

    let x = [1.5, 2.0];
    let (v, g) = power_from_a_float_grad(&x);
    assert_eq!((v, g), (8.0, vec![0.0, 12.0]));
    let (_, _, h) = power_from_a_float_hvp(&x, &vec![0.0, 1.0]);
    assert_eq!(h, vec![0.0, 12.0]);
}
