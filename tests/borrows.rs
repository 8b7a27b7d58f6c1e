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

/// w₀·w₁ where the mask's first entry is set, sin w₁ otherwise: a helper given a row of data.
#[differentiate]
fn masked_term(w: &[f64], mask: &[bool]) -> f64 {
    if mask[0] { w[0] * w[1] } else { w[1].sin() }
}

/// The sum of squared terms, one per mask, stopping at the first term above `cap`: the loop
/// leaves early, so it keeps each iteration's row for its pullback, which calls
/// `masked_term_vjp` again with it (`&masks[k]` of `&[Vec<bool>]` is not `Copy`: it was moved
/// out of the slice, rustc's E0508).
#[allow(clippy::needless_range_loop)] // the rows lent by index, as written where found
#[differentiate(wrt(w))]
fn masked_until(w: &[f64], masks: &[Vec<bool>], cap: f64) -> f64 {
    let mut t = 0.0;
    for k in 0..masks.len() {
        let p = masked_term(w, &masks[k]);
        if p > cap {
            break;
        }
        t += p * p;
    }
    t
}

/// The same with an early `return`, over a local copy of the masks (a row of a local is kept as
/// a copy: E0507 before) and a `while` loop.
#[differentiate(wrt(w))]
fn masked_copy_until(w: &[f64], masks: &[Vec<bool>], cap: f64) -> f64 {
    let ms = masks.to_vec();
    let mut t = 0.0;
    let mut k = 0;
    while k < ms.len() {
        let p = masked_term(w, &ms[k]);
        if p > cap {
            return -t;
        }
        t = 0.5 * t + p;
        k += 1;
    }
    t
}

/// A set of positions per term: Σₖ (Σ_{i ∈ idx[k]} wᵢ)², stopping above `cap`; the rows of
/// `&[Vec<usize>]` are kept the same way.
#[differentiate]
fn picked(w: &[f64], idx: &[usize]) -> f64 {
    idx.iter().map(|&i| w[i]).sum()
}

#[allow(clippy::needless_range_loop)] // the rows lent by index, as written where found
#[differentiate(wrt(w))]
fn picked_until(w: &[f64], idx: &[Vec<usize>], cap: f64) -> f64 {
    let mut t = 0.0;
    for k in 0..idx.len() {
        let p = picked(w, &idx[k]);
        if p > cap {
            return t;
        }
        t += p * p;
    }
    t
}

/// A data struct without `Clone`, one per term: an element of `&[Site]` kept for the pullback
/// is borrowed (it was copied, rustc's "`Site: Clone` is not satisfied").
struct Site {
    target: Vec<f64>,
}

#[allow(clippy::needless_range_loop)] // the rows lent by index, as written where found
#[differentiate(wrt(w))]
fn site_cost(w: &[f64], s: &Site) -> f64 {
    let mut c = 0.0;
    for i in 0..w.len() {
        c += (w[i] - s.target[i]).powi(2);
    }
    c
}

#[allow(clippy::needless_range_loop)] // the rows lent by index, as written where found
#[differentiate(wrt(w))]
fn sites_until(w: &[f64], sites: &[Site], cap: f64) -> f64 {
    let mut t = 0.0;
    for k in 0..sites.len() {
        let c = site_cost(w, &sites[k]);
        if t + c > cap {
            break;
        }
        t += c;
    }
    t
}

#[test]
fn rows_of_data_kept_for_the_pullback() {
    let w: Vec<f64> = vec![0.5, -1.0];
    let masks = vec![vec![true, false], vec![false, true], vec![true, true]];
    let (p, q) = (w[0] * w[1], w[1].sin());
    let (dp, dq) = ([w[1], w[0]], [0.0, w[1].cos()]);
    // Terms p = -0.5, q = -0.84, p, none above either cap: all three are summed.
    for cap in [10.0, 0.0] {
        let want = 2.0 * p * p + q * q;
        let dwant: Vec<f64> = (0..2).map(|i| 4.0 * p * dp[i] + 2.0 * q * dq[i]).collect();
        let (y, g) = masked_until_grad(&w, &masks, cap);
        assert_eq!(y, masked_until(&w, &masks, cap));
        close("masked_until", y, want, TOL);
        close_all("masked_until: ∂w", &g, &dwant);
        let (_, pb) = masked_until_vjp(&w, &masks, cap);
        close_all(
            "masked_until: pullback(-2)",
            &pb(-2.0),
            &[-2.0 * dwant[0], -2.0 * dwant[1]],
        );
        let r = gradcheck(|v: &Vec<f64>| masked_until(v, &masks, cap), &w, &g);
        assert!(r.passed(), "{r}");
    }
    // Terms q, p, ..: stopped at p > -0.6, only q² is summed.
    let masks2 = vec![vec![false, true], vec![true, false], vec![true, true]];
    let (y, g) = masked_until_grad(&w, &masks2, -0.6);
    assert_eq!(y, masked_until(&w, &masks2, -0.6));
    close("masked_until stopped", y, q * q, TOL);
    close_all(
        "masked_until stopped: ∂w",
        &g,
        &[2.0 * q * dq[0], 2.0 * q * dq[1]],
    );

    for cap in [10.0, -0.6] {
        let (y, g) = masked_copy_until_grad(&w, &masks, cap);
        assert_eq!(y, masked_copy_until(&w, &masks, cap));
        let r = gradcheck(|v: &Vec<f64>| masked_copy_until(v, &masks, cap), &w, &g);
        assert!(r.passed(), "{r}");
    }
    // t = ½(½p + q) + p when nothing stops it.
    let (y, g) = masked_copy_until_grad(&w, &masks, 10.0);
    close("masked_copy_until", y, 0.25 * p + 0.5 * q + p, TOL);
    close_all(
        "masked_copy_until: ∂w",
        &g,
        &[1.25 * dp[0] + 0.5 * dq[0], 1.25 * dp[1] + 0.5 * dq[1]],
    );

    let w3 = vec![0.3, -0.4, 1.1];
    let idx = vec![vec![0, 2], vec![1], vec![0, 1, 2]];
    // Sums 1.4, -0.4, 1.0 (the first and last square to 1.96 and 1.0).
    let (y, g) = picked_until_grad(&w3, &idx, 10.0);
    assert_eq!(y, picked_until(&w3, &idx, 10.0));
    close("picked_until", y, 1.96 + 0.16 + 1.0, TOL);
    close_all("picked_until: ∂w", &g, &[2.8 + 2.0, -0.8 + 2.0, 2.8 + 2.0]);
    let (y, g) = picked_until_grad(&w3, &idx, 1.2);
    close("picked_until stopped", y, 0.0, TOL);
    close_all("picked_until stopped: ∂w", &g, &[0.0, 0.0, 0.0]);

    let sites = vec![
        Site {
            target: vec![1.0, 0.0],
        },
        Site {
            target: vec![0.0, 2.0],
        },
    ];
    // Costs 1.25 and 9.25.
    let (y, g) = sites_until_grad(&w, &sites, 100.0);
    assert_eq!(y, sites_until(&w, &sites, 100.0));
    close("sites_until", y, 10.5, TOL);
    close_all(
        "sites_until: ∂w",
        &g,
        &[
            2.0 * (w[0] - 1.0) + 2.0 * w[0],
            2.0 * w[1] + 2.0 * (w[1] - 2.0),
        ],
    );
    let (y, g) = sites_until_grad(&w, &sites, 5.0);
    close("sites_until stopped", y, 1.25, TOL);
    close_all(
        "sites_until stopped: ∂w",
        &g,
        &[2.0 * (w[0] - 1.0), 2.0 * w[1]],
    );
}
