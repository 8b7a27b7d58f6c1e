//! Calls that lend a local to a differentiated function (`g(&h)`), where the callee's pullback
//! may borrow what it was lent: the local is an owned parameter, a value of the top level read
//! again or changed afterwards, a value of a loop iteration or of a branch, a `Vec` built by
//! `push`. The pullback `f_vjp` returns outlives all of them, and one kept for a loop iteration
//! outlives the iteration; such calls are differentiated by calling `g_vjp` again in the
//! pullback. Each function is checked through `f_grad` and through `f_vjp`'s pullback, which
//! must agree with each other, with the analytic gradient and with finite differences.

#![allow(clippy::vec_init_then_push)] // functions written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, array};

mod common;
use common::*;

/// s(v) = Σ vᵢ², ∇s = 2v.
#[differentiate]
fn sumsq(v: &Array1<f64>) -> f64 {
    (v * v).sum()
}

/// p(v) = v₀·v₁, ∇p = (v₁, v₀, 0, ..).
#[differentiate]
fn prod01(v: &[f64]) -> f64 {
    v[0] * v[1]
}

/// h(ys, a) = ys₀·a.
#[differentiate]
fn head_times(ys: &[f64], a: f64) -> f64 {
    ys[0] * a
}

/// f(w) = s(2w) = 4|w|², ∇f = 8w.
#[differentiate]
fn lends_a_local(w: &Array1<f64>) -> f64 {
    let h = w * 2.0;
    sumsq(&h)
}

/// f(w) = Σᵢ₌₀² s(i·w) = 5|w|², ∇f = 10w.
#[differentiate]
fn lends_in_a_loop(w: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let h = w * (i as f64);
        s += sumsq(&h);
    }
    s
}

/// f(w, c) = s(w) if c > 0 else s(3w): ∇f = 2w or 18w.
#[differentiate]
fn lends_in_a_branch(w: &Array1<f64>, c: f64) -> f64 {
    if c > 0.0 {
        let h = w * 1.0;
        sumsq(&h) * c
    } else {
        let h = w * 3.0;
        sumsq(&h)
    }
}

/// f(x) = p([x, 2x]) = 2x², f' = 4x.
#[differentiate]
fn lends_a_pushed_vec(x: f64) -> f64 {
    let mut v = Vec::new();
    v.push(x);
    v.push(2.0 * x);
    prod01(&v)
}

/// f(x, xs) = h(xs, x) + xs₀ = xs₀·x + xs₀: ∂x = xs₀, ∂xs = (x + 1, 0, ..).
#[differentiate]
fn lends_an_owned_parameter(x: f64, xs: Vec<f64>) -> f64 {
    let a = head_times(&xs, x);
    a + xs[0]
}

/// The same through a reference parameter: the borrow is the caller's.
#[differentiate]
fn passes_a_reference_parameter(x: f64, xs: &[f64]) -> f64 {
    let a = head_times(xs, x);
    a + xs[0]
}

/// Lent, then changed: f(x) = p([x, x]) + v₀ after v₀ = 3x, i.e. x² + 3x, f' = 2x + 3.
#[differentiate]
fn lends_then_changes(x: f64) -> f64 {
    let mut v = vec![0.0; 2];
    v[0] = x;
    v[1] = x;
    let a = prod01(&v);
    v[0] = 3.0 * x;
    a + v[0]
}

/// Lent twice in a loop whose iterations change the vector: v = [x, 1], then each of 3
/// iterations adds p(v) = v₀·v₁ to s and doubles v₁; s = x + 2x + 4x = 7x, f' = 7.
#[differentiate]
fn lends_a_carried_vec(x: f64) -> f64 {
    let mut v = vec![0.0; 2];
    v[0] = x;
    v[1] = 1.0;
    let mut s = 0.0;
    for _ in 0..3 {
        s += prod01(&v);
        v[1] *= 2.0;
    }
    s
}

fn array_grad_agrees(
    what: &str,
    f: impl Fn(&Array1<f64>) -> f64,
    grad: impl Fn(&Array1<f64>) -> (f64, Array1<f64>),
    vjp_grad: impl Fn(&Array1<f64>) -> (f64, Array1<f64>),
    w: &Array1<f64>,
    expected: Array1<f64>,
) {
    let (y, g) = grad(w);
    let (y2, g2) = vjp_grad(w);
    assert_eq!(y.to_bits(), f(w).to_bits(), "{what}: value");
    assert_eq!(y2.to_bits(), y.to_bits(), "{what}: value of _vjp");
    for k in 0..w.len() {
        close(&format!("{what}: ∂{k}"), g[k], expected[k], TOL);
        close(&format!("{what}: ∂{k} by _vjp"), g2[k], expected[k], TOL);
    }
    let r = gradcheck(|w: &Array1<f64>| f(w), w, &g);
    assert!(r.passed(), "{what}: {r}");
}

#[test]
fn locals_lent_to_calls_of_array_functions() {
    let w = array![1.0, -2.0, 0.5];
    array_grad_agrees(
        "local",
        lends_a_local,
        lends_a_local_grad,
        |w| {
            let (y, pb) = lends_a_local_vjp(w);
            (y, pb(1.0))
        },
        &w,
        &w * 8.0,
    );
    array_grad_agrees(
        "loop",
        lends_in_a_loop,
        lends_in_a_loop_grad,
        |w| {
            let (y, pb) = lends_in_a_loop_vjp(w);
            (y, pb(1.0))
        },
        &w,
        &w * 10.0,
    );
    for c in [0.5, -1.0] {
        let expected = if c > 0.0 { &w * (2.0 * c) } else { &w * 18.0 };
        array_grad_agrees(
            &format!("branch, c = {c}"),
            |w| lends_in_a_branch(w, c),
            |w| {
                let (y, (g, _)) = lends_in_a_branch_grad(w, c);
                (y, g)
            },
            |w| {
                let (y, pb) = lends_in_a_branch_vjp(w, c);
                (y, pb(1.0).0)
            },
            &w,
            expected,
        );
    }
}

#[test]
fn locals_lent_to_calls_of_slice_functions() {
    for x in [0.75, -1.5] {
        let (y, d) = lends_a_pushed_vec_grad(x);
        assert_eq!(y, lends_a_pushed_vec(x));
        close("pushed vec", d, 4.0 * x, TOL);
        close(
            "pushed vec by _vjp",
            lends_a_pushed_vec_vjp(x).1(1.0),
            d,
            0.0,
        );
        fd("pushed vec", lends_a_pushed_vec, x, d);

        let (y, d) = lends_then_changes_grad(x);
        assert_eq!(y, lends_then_changes(x));
        close("lent then changed", d, 2.0 * x + 3.0, TOL);
        close(
            "lent then changed by _vjp",
            lends_then_changes_vjp(x).1(1.0),
            d,
            0.0,
        );
        fd("lent then changed", lends_then_changes, x, d);

        let (y, d) = lends_a_carried_vec_grad(x);
        assert_eq!(y, lends_a_carried_vec(x));
        close("carried vec", d, 7.0, TOL);
        close(
            "carried vec by _vjp",
            lends_a_carried_vec_vjp(x).1(1.0),
            d,
            0.0,
        );
    }
}

#[test]
fn owned_and_reference_parameters_lent_to_calls() {
    let (x, xs) = (0.5, vec![2.0, -1.0]);
    // ∂x = xs₀, ∂xs = (x + 1, 0)
    let (y, (dx, dxs)) = lends_an_owned_parameter_grad(x, xs.clone());
    assert_eq!(y, lends_an_owned_parameter(x, xs.clone()));
    close("owned: ∂x", dx, xs[0], TOL);
    assert_eq!(dxs, vec![x + 1.0, 0.0]);
    let (_, pb) = lends_an_owned_parameter_vjp(x, xs.clone());
    assert_eq!(pb(1.0), (dx, dxs.clone()));
    let (y, (dx2, dxs2)) = passes_a_reference_parameter_grad(x, &xs);
    assert_eq!(y, passes_a_reference_parameter(x, &xs));
    assert_eq!((dx2, dxs2), (dx, dxs));
}

/// q(v) = v₀·v₁².
#[differentiate(hessian)]
fn prod_sq(v: &[f64]) -> f64 {
    v[0] * v[1] * v[1]
}

/// f(x) = Σᵢ₌₀² q([x, i·x]) = 5x³: f' = 15x², f'' = 30x.
#[differentiate(hessian)]
fn lends_in_a_loop_twice_differentiated(x: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..3 {
        let mut v = Vec::new();
        v.push(x);
        v.push(i as f64 * x);
        s += prod_sq(&v);
    }
    s
}

#[test]
fn hessian_vector_products_through_lent_locals() {
    for x in [1.5, -0.25] {
        let (y, g, h) = lends_in_a_loop_twice_differentiated_hvp(x, 1.0);
        assert_eq!(y, lends_in_a_loop_twice_differentiated(x));
        close("gradient", g, 15.0 * x * x, TOL);
        close("Hessian", h, 30.0 * x, TOL);
        let (_, t) = lends_in_a_loop_twice_differentiated_jvp(x, 1.0);
        close("tangent", t, g, TOL);
    }
}
