//! Programs that compile and must give the derivatives central differences give, through
//! every generated item (`_grad`, `_vjp`, `_jvp`, `_hvp`): reshaped views in arithmetic.
//!
//! `x.view().into_shape_with_order((2, 3)).unwrap()` is a view; in arithmetic (`&y * 2.0`) it was
//! passed to the rules of owned arrays as it was, rustc's E0277 inside the generated code. A
//! reshape (or `insert_axis`) of a view is now known to be a view, and copied as `.to_owned()`
//! would, as the view methods' results already were.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's; each `_jvp` against the analytic directional derivative; each `_hvp` against its
//! analytic form and differences of gradients.

use autodiff::check::{hvpcheck, random_direction};
use autodiff::differentiate;
use ndarray::{Array1, Axis};

mod common;
use common::*;

const X6: [[f64; 6]; 3] = [
    [0.3, -0.7, 1.1, 0.5, 0.2, -0.4],
    [1.2, 0.4, -0.9, 0.8, -1.3, 0.6],
    [-0.5, 1.5, 0.25, -1.1, 0.9, 0.35],
];

/// `H·v` of `grad` at `x` by central differences of the gradient along `v`.
#[track_caller]
fn hv_passes<D: ndarray::Dimension>(
    what: &str,
    grad: impl Fn(&ndarray::Array<f64, D>) -> ndarray::Array<f64, D>,
    x: &ndarray::Array<f64, D>,
    v: &ndarray::Array<f64, D>,
    hv: &ndarray::Array<f64, D>,
) {
    let r = hvpcheck(grad, x, v, hv);
    assert!(r.passed(), "{what}: {r}");
}

/// A reshaped view in arithmetic and as a float method's receiver: `f = Σ 2yᵢⱼ² + Σ e^{yᵢⱼ}`,
/// `∂f/∂xₖ = 4xₖ + e^{xₖ}`, `H·d = (4 + e^{xₖ})·dₖ`.
#[differentiate(hessian)]
fn reshaped_view(x: &Array1<f64>) -> f64 {
    let y = x.view().into_shape_with_order((2, 3)).unwrap();
    (&y * &y * 2.0).sum() + y.exp().sum()
}

/// A reshaped view of a slice and an axis inserted into a view, in arithmetic:
/// `f = Σₖ≥₁ xₖ² + Σₖ 3xₖ + Σₖ xₖ·x₀`, `∂f/∂xₖ = [k ≥ 1]·2xₖ + 3 + x₀ + [k = 0]·Σⱼ xⱼ`.
#[differentiate(hessian)]
fn reshaped_views(x: &Array1<f64>) -> f64 {
    let tail = x
        .slice(ndarray::s![1..])
        .into_shape_with_order((1, 5))
        .unwrap();
    let row = x.view().insert_axis(Axis(0));
    (&tail * &tail).sum() + (&row * 3.0).sum() + (&row * x[0]).sum()
}

#[test]
fn reshaped_views_in_arithmetic_are_copied() {
    for (n, xs) in X6.iter().enumerate() {
        let x = Array1::from(xs.to_vec());
        let (v, g) = reshaped_view_grad(&x);
        assert_eq!(v, reshaped_view(&x));
        let e = x.mapv(|t| 4.0 * t + t.exp());
        same("reshaped view", &g, &e, TOL);
        fd_array("reshaped view", reshaped_view, &x, &g);
        let d = random_direction(&x, 20 + n as u64);
        let (_, jd) = reshaped_view_jvp(&x, &d);
        close("reshaped view, J·d", jd, e.dot(&d), TOL);
        let (_, _, hd) = reshaped_view_hvp(&x, &d);
        let eh = Array1::from_shape_fn(6, |k| (4.0 + x[k].exp()) * d[k]);
        same("reshaped view, H·d", &hd, &eh, TOL);
        hv_passes(
            "reshaped view, H·d",
            |p| reshaped_view_grad(p).1,
            &x,
            &d,
            &hd,
        );

        let (v, g) = reshaped_views_grad(&x);
        assert_eq!(v, reshaped_views(&x));
        let s = x.sum();
        let e = Array1::from_shape_fn(6, |k| {
            let own = if k >= 1 { 2.0 * x[k] } else { s };
            own + 3.0 + x[0]
        });
        same("reshaped views", &g, &e, TOL);
        fd_array("reshaped views", reshaped_views, &x, &g);
        let (_, jd) = reshaped_views_jvp(&x, &d);
        close("reshaped views, J·d", jd, e.dot(&d), TOL);
        let (_, _, hd) = reshaped_views_hvp(&x, &d);
        // H = diag(0, 2, 2, 2, 2, 2) + e₀·1ᵀ + 1·e₀ᵀ
        let ds = d.sum();
        let eh = Array1::from_shape_fn(6, |k| {
            let diag = if k >= 1 { 2.0 * d[k] } else { 0.0 };
            diag + d[0] + if k == 0 { ds } else { 0.0 }
        });
        same("reshaped views, H·d", &hd, &eh, TOL);
        hv_passes(
            "reshaped views, H·d",
            |p| reshaped_views_grad(p).1,
            &x,
            &d,
            &hd,
        );
    }
}
