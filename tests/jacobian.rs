//! Dense Jacobians and Hessians (`autodiff::jacobian`) of functions written with
//! `#[differentiate]`, and Hessian-vector products (`#[differentiate(hessian)]`) through the
//! constructs the macro supports.
//!
//! Jacobians: of `R → Rᵐ`, `Rⁿ → R` and `Rⁿ → Rᵐ` functions (scalars, tuples, slices, `Vec`s and
//! arrays, ndarray arrays), by forward mode (`f_jvp` columns) and reverse mode (`f_vjp` rows),
//! which agree to rounding; each column passes `jvpcheck` (central differences of `f` along the
//! unit vector) and equals the analytic Jacobian stated in a comment; the picker calls the mode
//! [`Mode::for_shape`] names, as counted.
//!
//! Hessians: `hessian_columns` from `f_hvp` against central differences of `f_grad`, symmetric
//! to rounding, against the analytic Hessian; `hessian` is its symmetric part.
//!
//! Hessian-vector products over constructs: scalar code, branches, loops, `Vec` mutations,
//! calls between differentiated functions, ndarray tensor code, `nn` functions, convolutions.
//! Along seeded random directions: the value and gradient `f_hvp` returns are `f_grad`'s, `H·v`
//! passes `hvpcheck` (central differences of `f_grad` along `v`), and `⟨u, H v⟩ = ⟨v, H u⟩`
//! (`hessian_symmetry`); where the Hessian is short, `H·v` equals it applied to `v`.

// The differentiated functions index in loops and build `Vec`s by `push` on purpose: those are
// the constructs under test.
#![allow(clippy::needless_range_loop, clippy::vec_init_then_push)]

use std::cell::Cell;

use autodiff::check::{
    directional_difference, hessian_symmetry, hvpcheck, jvpcheck, random_direction,
};
use autodiff::jacobian::{self, Mode};
use autodiff::{Differentiable, conv, differentiate, from_flat, nn, to_flat};
use ndarray::{Array1, Array2, Axis, array};

mod common;
use common::*;

/// A seeded array in [−1, 1) of the given shape.
fn seeded<D: ndarray::Dimension>(
    shape: impl ndarray::ShapeBuilder<Dim = D>,
    seed: u64,
) -> ndarray::Array<f64, D> {
    random_direction(&ndarray::Array::zeros(shape), seed)
}

/// The `j`-th unit vector shaped like `x`.
fn unit<P: Differentiable<Scalar = f64>>(x: &P, j: usize) -> P {
    let mut e = vec![0.0; x.num_scalars()];
    e[j] = 1.0;
    from_flat(x, &e)
}

/// Every entry of `a` within `tol·max(1, |b|)` of `b`'s.
#[track_caller]
fn matrices_close(what: &str, a: &Array2<f64>, b: &Array2<f64>, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for ((ij, x), y) in a.indexed_iter().zip(b) {
        close(&format!("{what}, entry {ij:?}"), *x, *y, tol);
    }
}

// ---------------------------------------------------------------------------------------------
// Jacobians by forward and reverse mode
// ---------------------------------------------------------------------------------------------

/// The Jacobians of `f` at `x` by [`jacobian::forward`] from `jvp`, [`jacobian::reverse`] from
/// `vjp` and the picker [`jacobian::jacobian`]:
/// - forward and reverse mode agree to [`TOL`], and both equal `expected`, the analytic
///   Jacobian (rows: scalars of `f(x)`, columns: scalars of `x`, in leaf order);
/// - each column `J·eⱼ` passes `jvpcheck`: central differences of `f` along `eⱼ`;
/// - the picker calls `jvp` `n` times and `vjp` never when `n ≤ m`, `jvp` once (to learn `m`)
///   and `vjp` `m` times otherwise, and returns that mode's matrix.
#[track_caller]
fn jacobians<'x, P, Y, B>(
    what: &str,
    x: &'x P,
    f: impl Fn(&P) -> Y,
    jvp: impl Fn(&P, &P) -> (Y, Y),
    vjp: impl Fn(&'x P) -> (Y, B),
    expected: &Array2<f64>,
) where
    P: Differentiable<Scalar = f64>,
    Y: Differentiable<Scalar = f64>,
    B: FnOnce(Y) -> P,
{
    let by_columns = jacobian::forward(&jvp, x);
    let by_rows = jacobian::reverse(&vjp, x);
    let (m, n) = by_columns.dim();
    assert_eq!((m, n), expected.dim(), "{what}: shape");
    matrices_close(
        &format!("{what}: forward/reverse"),
        &by_columns,
        &by_rows,
        TOL,
    );
    matrices_close(
        &format!("{what}: forward/analytic"),
        &by_columns,
        expected,
        TOL,
    );
    matrices_close(
        &format!("{what}: reverse/analytic"),
        &by_rows,
        expected,
        TOL,
    );
    let y = f(x);
    for j in 0..n {
        let column = from_flat(&y, &by_columns.column(j).to_vec());
        let r = jvpcheck(&f, x, &unit(x, j), &column);
        assert!(r.passed(), "{what}, column {j}: {r}");
    }
    let (jvps, vjps) = (Cell::new(0), Cell::new(0));
    let picked = jacobian::jacobian(
        |x, v| {
            jvps.set(jvps.get() + 1);
            jvp(x, v)
        },
        |x| {
            vjps.set(vjps.get() + 1);
            vjp(x)
        },
        x,
    );
    match Mode::for_shape(n, m) {
        Mode::Forward => {
            assert!(n <= m, "{what}: forward mode for n = {n} > m = {m}");
            assert_eq!((jvps.get(), vjps.get()), (n, 0), "{what}: calls");
            assert_eq!(picked, by_columns, "{what}: the picker's matrix");
        }
        Mode::Reverse => {
            assert!(n > m, "{what}: reverse mode for n = {n} ≤ m = {m}");
            assert_eq!((jvps.get(), vjps.get()), (1, m), "{what}: calls");
            assert_eq!(picked, by_rows, "{what}: the picker's matrix");
        }
    }
}

/// A curve `R → R⁴` built with `push`: c(t) = (cos t, sin 2t, t³, e^{t/2}),
/// c′(t) = (−sin t, 2 cos 2t, 3t², e^{t/2}/2).
#[differentiate]
fn curve(t: f64) -> Vec<f64> {
    let mut out = Vec::new();
    out.push(t.cos());
    out.push((2.0 * t).sin());
    out.push(t * t * t);
    out.push((0.5 * t).exp());
    out
}

/// An array result: p(t) = [t, t², ln(1 + t²)], p′ = [1, 2t, 2t/(1 + t²)].
#[differentiate]
fn powers(t: f64) -> [f64; 3] {
    let mut p = [0.0; 3];
    p[0] = t;
    p[1] = t * t;
    p[2] = (1.0 + t * t).ln();
    p
}

#[test]
fn jacobians_of_curves() {
    for t in [0.3f64, -1.2] {
        let expected = array![
            [-t.sin()],
            [2.0 * (2.0 * t).cos()],
            [3.0 * t * t],
            [0.5 * (0.5 * t).exp()]
        ];
        jacobians(
            "curve",
            &t,
            |t| curve(*t),
            |t, dt| curve_jvp(*t, *dt),
            |t| curve_vjp(*t),
            &expected,
        );
        let expected = array![[1.0], [2.0 * t], [2.0 * t / (1.0 + t * t)]];
        jacobians(
            "powers",
            &t,
            |t| powers(*t),
            |t, dt| powers_jvp(*t, *dt),
            |t| powers_vjp(*t),
            &expected,
        );
    }
}

/// f(x) = Σᵢ xᵢ²·xᵢ₊₁ + ln(1 + x₀²), indices cyclic:
///   ∂ᵢf = 2xᵢxᵢ₊₁ + xᵢ₋₁² (+ 2x₀/(1 + x₀²) for i = 0);
///   H = ∂²f: Hᵢᵢ = 2xᵢ₊₁ (+ 2(1 − x₀²)/(1 + x₀²)² for i = 0), Hᵢ,ᵢ₊₁ = Hᵢ₊₁,ᵢ = 2xᵢ (n ≥ 3).
#[differentiate(hessian)]
fn cyclic(x: &[f64]) -> f64 {
    let n = x.len();
    let mut s = (1.0 + x[0] * x[0]).ln();
    for i in 0..n {
        s += x[i] * x[i] * x[(i + 1) % n];
    }
    s
}

fn cyclic_gradient(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut g: Vec<f64> = (0..n)
        .map(|i| 2.0 * x[i] * x[(i + 1) % n] + x[(i + n - 1) % n].powi(2))
        .collect();
    g[0] += 2.0 * x[0] / (1.0 + x[0] * x[0]);
    g
}

fn cyclic_hessian(x: &[f64]) -> Array2<f64> {
    let n = x.len();
    let mut h = Array2::zeros((n, n));
    for i in 0..n {
        let next = (i + 1) % n;
        h[[i, i]] += 2.0 * x[next];
        h[[i, next]] += 2.0 * x[i];
        h[[next, i]] += 2.0 * x[i];
    }
    let x0 = x[0] * x[0];
    h[[0, 0]] += 2.0 * (1.0 - x0) / ((1.0 + x0) * (1.0 + x0));
    h
}

/// ∇(log Σ eᵃ + ½‖a‖²) = softmax(a) + a, on an ndarray vector.
#[differentiate(hessian)]
fn soft_quadratic(a: &Array1<f64>) -> f64 {
    nn::log_sum_exp(a) + 0.5 * (a * a).sum()
}

#[test]
fn jacobians_of_scalar_functions() {
    let x = vec![0.5, -1.5, 2.0, 0.25, -0.75];
    let row = Array2::from_shape_vec((1, 5), cyclic_gradient(&x)).unwrap();
    jacobians(
        "cyclic",
        &x,
        |x| cyclic(x),
        |x, dx| cyclic_jvp(x, dx),
        |x| cyclic_vjp(x),
        &row,
    );
    let a = array![0.3, -0.8, 1.1, 0.0];
    let e = a.exp();
    let softmax = &e / e.sum();
    let row = (softmax + &a).insert_axis(Axis(0));
    jacobians(
        "soft quadratic",
        &a,
        soft_quadratic,
        soft_quadratic_jvp,
        soft_quadratic_vjp,
        &row,
    );
}

/// Products of neighbours, `Rⁿ → Rⁿ⁻¹`: yᵢ = xᵢ·xᵢ₊₁·e^{xᵢ}, so
/// ∂yᵢ/∂xᵢ = (1 + xᵢ)·xᵢ₊₁·e^{xᵢ}, ∂yᵢ/∂xᵢ₊₁ = xᵢ·e^{xᵢ}, other entries 0.
#[differentiate]
fn neighbours(x: &[f64]) -> Vec<f64> {
    let m = x.len() - 1;
    let mut y = vec![0.0; m];
    for i in 0..x.len() - 1 {
        y[i] = x[i] * x[i + 1] * x[i].exp();
    }
    y
}

/// Running sums of squares, `Rⁿ → Rⁿ`: yᵢ = Σ_{k≤i} x_k², ∂yᵢ/∂x_k = 2x_k for k ≤ i.
#[differentiate]
fn running(x: &[f64]) -> Vec<f64> {
    let mut y = Vec::new();
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
        y.push(s);
    }
    y
}

/// A layer `R³ → R⁵`: y = tanh(W·x), J = diag(1 − y²)·W (`w` inactive).
#[differentiate(wrt(x))]
fn layer(x: &Array1<f64>, w: &Array2<f64>) -> Array1<f64> {
    w.dot(x).tanh()
}

/// Polar coordinates of two scalars into a tuple, `R² → R³`:
/// (r cos θ, r sin θ, r²θ), J = [[cos θ, −r sin θ], [sin θ, r cos θ], [2rθ, r²]].
#[differentiate]
fn polar(r: f64, theta: f64) -> (f64, f64, f64) {
    (r * theta.cos(), r * theta.sin(), r * r * theta)
}

#[test]
fn jacobians_of_vector_functions() {
    let x = vec![0.5f64, -1.5, 2.0, 0.25];
    let mut expected = Array2::zeros((3, 4));
    for i in 0..3 {
        expected[[i, i]] = (1.0 + x[i]) * x[i + 1] * x[i].exp();
        expected[[i, i + 1]] = x[i] * x[i].exp();
    }
    jacobians(
        "neighbours",
        &x,
        |x| neighbours(x),
        |x, dx| neighbours_jvp(x, dx),
        |x| neighbours_vjp(x),
        &expected,
    );

    let expected = Array2::from_shape_fn((4, 4), |(i, k)| if k <= i { 2.0 * x[k] } else { 0.0 });
    jacobians(
        "running",
        &x,
        |x| running(x),
        |x, dx| running_jvp(x, dx),
        |x| running_vjp(x),
        &expected,
    );

    let w = seeded((5, 3), 1) * 2.0;
    let u = array![0.4, -0.9, 0.6];
    let y = w.dot(&u).tanh();
    let expected = Array2::from_shape_fn((5, 3), |(i, j)| (1.0 - y[i] * y[i]) * w[[i, j]]);
    jacobians(
        "layer",
        &u,
        |x| layer(x, &w),
        |x, dx| layer_jvp(x, &w, dx),
        |x| layer_vjp(x, &w),
        &expected,
    );

    let (r, t) = (1.5f64, 0.7f64);
    let expected = array![
        [t.cos(), -r * t.sin()],
        [t.sin(), r * t.cos()],
        [2.0 * r * t, r * r]
    ];
    jacobians(
        "polar",
        &(r, t),
        |p| polar(p.0, p.1),
        |p, d| polar_jvp(p.0, p.1, d.0, d.1),
        |p| polar_vjp(p.0, p.1),
        &expected,
    );
}

#[test]
fn the_documented_call_forms_compile_and_agree() {
    // The forms the module documentation shows, closures annotated as users write them.
    let x = vec![0.5, -1.5, 2.0, 0.25];
    let f = jacobian::forward(|x: &Vec<f64>, dx: &Vec<f64>| neighbours_jvp(x, dx), &x);
    let r = jacobian::reverse(|x: &Vec<f64>| neighbours_vjp(x), &x);
    let j = jacobian::jacobian(
        |x: &Vec<f64>, dx: &Vec<f64>| neighbours_jvp(x, dx),
        |x: &Vec<f64>| neighbours_vjp(x),
        &x,
    );
    matrices_close("neighbours", &f, &r, TOL);
    assert_eq!(j, r, "n = 4 > m = 3: reverse mode");
}

#[test]
fn the_picker_follows_the_shape() {
    assert_eq!(Mode::for_shape(1, 4), Mode::Forward);
    assert_eq!(Mode::for_shape(4, 4), Mode::Forward);
    assert_eq!(Mode::for_shape(5, 4), Mode::Reverse);
    assert_eq!(Mode::for_shape(10_000, 1), Mode::Reverse);
    assert_eq!(Mode::for_shape(0, 0), Mode::Forward);
}

// ---------------------------------------------------------------------------------------------
// Dense Hessians from Hessian-vector products
// ---------------------------------------------------------------------------------------------

/// Checks of the Hessian of a scalar function from `hvp` at `x`: each column of
/// `hessian_columns` passes `hvpcheck` against central differences of `grad`, the columns are
/// symmetric to rounding, `hessian` is their symmetric part, and both equal `expected` to
/// [`TOL`].
#[track_caller]
fn hessians<P: Differentiable<Scalar = f64>>(
    what: &str,
    x: &P,
    grad: impl Fn(&P) -> P,
    hvp: impl Fn(&P, &P) -> (f64, P, P),
    expected: &Array2<f64>,
) {
    let columns = jacobian::hessian_columns(&hvp, x);
    let n = x.num_scalars();
    assert_eq!(columns.dim(), (n, n), "{what}: shape");
    for j in 0..n {
        let column = from_flat(x, &columns.column(j).to_vec());
        let r = hvpcheck(&grad, x, &unit(x, j), &column);
        assert!(r.passed(), "{what}, column {j}: {r}");
    }
    matrices_close(
        &format!("{what}: symmetry"),
        &columns,
        &columns.t().to_owned(),
        TOL,
    );
    matrices_close(&format!("{what}: analytic"), &columns, expected, TOL);
    let h = jacobian::hessian(&hvp, x);
    assert_eq!(h, h.t(), "{what}: hessian is symmetric");
    assert_eq!(
        h,
        (&columns + &columns.t()) * 0.5,
        "{what}: the symmetric part"
    );
}

/// f(s, v) = Σᵢ softplus(s·vᵢ) + s·‖v‖², with softplus′ = σ (the logistic function) and
/// σ′ = σ(1 − σ):
///   ∂f/∂s = Σ vᵢσ(svᵢ) + ‖v‖², ∂f/∂vᵢ = s·σ(svᵢ) + 2s·vᵢ;
///   H_ss = Σ vᵢ²σ′(svᵢ), H_{s,vᵢ} = σ(svᵢ) + s·vᵢ·σ′(svᵢ) + 2vᵢ,
///   H_{vᵢ,vⱼ} = δᵢⱼ(s²σ′(svᵢ) + 2s).
#[differentiate(hessian)]
fn mixed(s: f64, v: &Array1<f64>) -> f64 {
    nn::softplus(&(v * s)).sum() + s * (v * v).sum()
}

#[test]
fn hessians_from_hvps() {
    let x = vec![0.5, -1.5, 2.0, 0.25, -0.75];
    hessians(
        "cyclic",
        &x,
        |x| cyclic_grad(x).1,
        |x, v| cyclic_hvp(x, v),
        &cyclic_hessian(&x),
    );

    let (s, v) = (0.7, array![0.5, -1.0, 0.3]);
    let sigma = (&v * s).mapv(|z: f64| 1.0 / (1.0 + (-z).exp()));
    let dsigma = &sigma * (1.0 - &sigma);
    let mut expected = Array2::zeros((4, 4));
    expected[[0, 0]] = (&v * &v * &dsigma).sum();
    for i in 0..3 {
        let cross = sigma[i] + s * v[i] * dsigma[i] + 2.0 * v[i];
        expected[[0, i + 1]] = cross;
        expected[[i + 1, 0]] = cross;
        expected[[i + 1, i + 1]] = s * s * dsigma[i] + 2.0 * s;
    }
    hessians(
        "mixed",
        &(s, v.clone()),
        |p| mixed_grad(p.0, &p.1).1,
        |p, d| mixed_hvp(p.0, &p.1, d.0, &d.1),
        &expected,
    );
}

// ---------------------------------------------------------------------------------------------
// Hessian-vector products through constructs
// ---------------------------------------------------------------------------------------------

/// Random directions per point in the second-order checks.
const DIRECTIONS: u64 = 3;

/// Second-order checks of a scalar function at `x`, along [`DIRECTIONS`] seeded random `v` (and
/// `u`): the value and gradient of `hvp(x, v)` are those of `grad(x)` to [`TOL`], `H·v` passes
/// `hvpcheck` (central differences of the gradient along `v`), and `⟨u, H v⟩ = ⟨v, H u⟩`.
/// Returns the pairs `(v, H·v)` for analytic comparisons.
#[track_caller]
fn second_order<P: Differentiable<Scalar = f64>>(
    what: &str,
    x: &P,
    grad: impl Fn(&P) -> (f64, P),
    hvp: impl Fn(&P, &P) -> (f64, P, P),
) -> Vec<(P, P)> {
    let (y, g) = grad(x);
    let mut pairs = Vec::new();
    for seed in 0..DIRECTIONS {
        let v = random_direction(x, seed);
        let (value, gradient, hv) = hvp(x, &v);
        close(&format!("{what}: the value of _hvp"), value, y, TOL);
        for (k, (a, b)) in to_flat(&gradient).iter().zip(to_flat(&g)).enumerate() {
            close(&format!("{what}: gradient entry {k} of _hvp"), *a, b, TOL);
        }
        let r = hvpcheck(|x: &P| grad(x).1, x, &v, &hv);
        assert!(r.passed(), "{what}, direction {seed}: {r}");
        let u = random_direction(x, 100 + seed);
        let (_, _, hu) = hvp(x, &u);
        let s = hessian_symmetry(&u, &hu, &v, &hv);
        assert!(s.passed(), "{what}, directions {seed}: {s}");
        pairs.push((v, hv));
    }
    pairs
}

/// f(x, y) = x²y + sin(xy):
///   H = [[2y − y² sin xy, 2x + cos xy − xy sin xy], [2x + cos xy − xy sin xy, −x² sin xy]].
#[differentiate(hessian)]
fn smooth(x: f64, y: f64) -> f64 {
    x * x * y + (x * y).sin()
}

/// Many scalar methods: g(x, y) = e^{x}/(1 + y²) + x³·tanh y − √|x − y| + atan2(y, x)·ln(1 + x²).
#[differentiate(hessian)]
fn methods(x: f64, y: f64) -> f64 {
    x.exp() / (1.0 + y * y) + x.powi(3) * y.tanh() - (x - y).abs().sqrt()
        + y.atan2(x) * (1.0 + x * x).ln()
}

#[test]
fn hvps_of_scalar_code() {
    for (x, y) in [(0.7, -1.3), (-0.4, 0.9)] {
        let pairs = second_order(
            "smooth",
            &(x, y),
            |p| smooth_grad(p.0, p.1),
            |p, v| smooth_hvp(p.0, p.1, v.0, v.1),
        );
        let (s, c) = (x * y).sin_cos();
        let (hxx, hxy, hyy) = (2.0 * y - y * y * s, 2.0 * x + c - x * y * s, -x * x * s);
        for (v, hv) in pairs {
            close2(
                "smooth H·v",
                hv,
                (hxx * v.0 + hxy * v.1, hxy * v.0 + hyy * v.1),
            );
        }
        second_order(
            "methods",
            &(x, y),
            |p| methods_grad(p.0, p.1),
            |p, v| methods_hvp(p.0, p.1, v.0, v.1),
        );
    }
}

/// A branch on active values and a `match` on an inactive one:
/// z = x²y if x > y else e^{x+y}; then sin z, z², or z.
#[differentiate(hessian)]
fn branches(x: f64, y: f64, k: usize) -> f64 {
    let z = if x > y { x * x * y } else { (x + y).exp() };
    match k {
        0 => z.sin(),
        1 => z * z,
        _ => z * x,
    }
}

#[test]
fn hvps_through_branches() {
    for (x, y) in [(0.9, -0.4), (-0.6, 0.8)] {
        for k in 0..3 {
            second_order(
                &format!("branches k={k} at ({x}, {y})"),
                &(x, y),
                |p| branches_grad(p.0, p.1, k),
                |p, v| branches_hvp(p.0, p.1, k, v.0, v.1),
            );
        }
    }
}

/// `for` and `while` loops with carried values: s = Σ tanh(w·xᵢ)·xᵢ, then t ← t·w + s three
/// times from t = 1.
#[differentiate(hessian)]
fn loops(x: &[f64], w: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (w * x[i]).tanh() * x[i];
    }
    let mut t = 1.0;
    let mut k = 0;
    while k < 3 {
        t = t * w + s;
        k += 1;
    }
    t
}

#[test]
fn hvps_through_loops() {
    let x = (vec![0.5, -1.5, 2.0, 0.25], 0.8);
    second_order(
        "loops",
        &x,
        |p| loops_grad(&p.0, p.1),
        |p, v| loops_hvp(&p.0, p.1, &v.0, v.1),
    );
    // The cyclic sum of the Hessian tests, against its analytic H·v.
    let x = vec![0.3, -1.1, 0.8, 2.0];
    let h = cyclic_hessian(&x);
    for (v, hv) in second_order("cyclic", &x, |x| cyclic_grad(x), |x, v| cyclic_hvp(x, v)) {
        let expected = h.dot(&Array1::from(v.clone()));
        for (a, b) in hv.iter().zip(&expected) {
            close("cyclic H·v", *a, *b, TOL);
        }
    }
}

/// A local array written in a loop from its own earlier values, pushes, a swap, then a sum:
/// hᵢ = hᵢ₋₁·w + xᵢ (h₀ = x₀); v = [h_{n−1}², w·x₀, h₀·h₁] with the first two swapped;
/// f = Σ hᵢ² + v₀·v₁ + v₂.
#[differentiate(hessian)]
fn mutations(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut h = vec![0.0; n];
    h[0] = x[0];
    for i in 1..n {
        h[i] = h[i - 1] * w + x[i];
    }
    let mut v = Vec::new();
    v.push(h[n - 1] * h[n - 1]);
    v.push(w * x[0]);
    v.push(h[0] * h[1]);
    v.swap(0, 1);
    let mut s = v[0] * v[1] + v[2];
    for i in 0..n {
        s += h[i] * h[i];
    }
    s
}

#[test]
fn hvps_through_vec_mutations() {
    let x = (vec![0.5, -1.5, 2.0, 0.25], 0.7);
    second_order(
        "mutations",
        &x,
        |p| mutations_grad(&p.0, p.1),
        |p, v| mutations_hvp(&p.0, p.1, &v.0, v.1),
    );
}

/// ℓ(a, b) = a·e^{b}, a callee with second-order rules.
#[differentiate(hessian)]
fn leaf(a: f64, b: f64) -> f64 {
    a * b.exp()
}

/// Calls of a differentiated function in a loop and nested: s = Σ ℓ(xᵢ₋₁, xᵢ), f = ℓ(s, x₀)·s.
#[differentiate(hessian)]
fn caller(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += leaf(x[i - 1], x[i]);
    }
    leaf(s, x[0]) * s
}

#[test]
fn hvps_through_calls() {
    second_order(
        "leaf",
        &(0.4, -0.3),
        |p| leaf_grad(p.0, p.1),
        |p, v| leaf_hvp(p.0, p.1, v.0, v.1),
    );
    let x = vec![0.5, -0.5, 0.3, 0.2];
    second_order("caller", &x, |x| caller_grad(x), |x, v| caller_hvp(x, v));
}

/// Tensor code: products of every shape, a transpose, broadcasting, reductions, and the
/// elementwise nonlinearities of `nn`. The products take copies of the parameters: with
/// `hessian`, `dot` applied to an array parameter itself does not compile yet, and the
/// elementwise float methods of arrays (`exp`, `tanh`, …) have no second-order rules yet (README,
/// known limitations).
#[differentiate(hessian)]
fn tensors(a: &Array2<f64>, u: &Array1<f64>) -> f64 {
    let a = a.to_owned();
    let u = u.to_owned();
    let b = nn::sigmoid(&a.dot(&u));
    let c = a.t().dot(&b);
    let d = nn::softplus(&(&a * 0.5)).sum_axis(Axis(0));
    c.dot(&c) + a.mean().unwrap() * u.sum() + d.dot(&u) + (a.dot(&a.t()) * a[[0, 1]]).sum()
}

#[test]
fn hvps_of_tensor_code() {
    let x = (seeded((3, 4), 1), seeded(4, 2));
    second_order(
        "tensors",
        &x,
        |p| tensors_grad(&p.0, &p.1),
        |p, v| tensors_hvp(&p.0, &p.1, &v.0, &v.1),
    );
}

/// The parameters of [`network`].
#[derive(Clone, Differentiable)]
struct Net {
    w: Array2<f64>,
    c: Array1<f64>,
    v: Array2<f64>,
}

/// A small network through `nn`: sigmoid hidden layer, softplus and log-softmax terms, the
/// cross-entropy of the logits and a mean squared error.
#[differentiate(wrt(p), hessian)]
fn network(p: &Net, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let h = nn::sigmoid(&(x.dot(&p.w) + &p.c));
    let logits = h.dot(&p.v);
    let reg = nn::softplus(&logits).mean().unwrap() + nn::log_softmax(&logits).sum() * 0.01;
    nn::cross_entropy(&logits, labels) + reg + nn::mse(&h, &(x * 0.5))
}

#[test]
fn hvps_of_nn_functions() {
    let x = seeded((5, 3), 3);
    let labels = [0, 2, 1, 1, 0];
    let p = Net {
        w: seeded((3, 3), 4),
        c: seeded(3, 5),
        v: seeded((3, 3), 6),
    };
    second_order(
        "network",
        &p,
        |p| network_grad(p, &x, &labels),
        |p, d| network_hvp(p, &x, &labels, d),
    );
}

/// Half the squared norm of a convolution, a quadratic in the filter: f(W) = ½‖X ⋆ W‖², so
/// ∇f is linear in W and H·V = ∇f(V).
#[differentiate(wrt(w), hessian)]
fn conv_energy(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let z = conv::conv2d(x, w);
    (&z * &z).sum() * 0.5
}

/// A convolution followed by a nonlinearity: Σ σ(X ⋆ W)·(X ⋆ W), σ the logistic function.
#[differentiate(wrt(w), hessian)]
fn conv_sigmoid(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let z = conv::conv2d(x, w);
    (nn::sigmoid(&z) * &z).sum()
}

/// The parameters of [`conv_layer`]: two 2×2 filters over one channel and their biases.
#[derive(Clone, Differentiable)]
struct ConvLayer {
    kernel: ndarray::Array4<f64>,
    bias: Array1<f64>,
}

/// A batched convolution with bias and zero padding, a logistic nonlinearity and average
/// pooling, then the mean squared distance to a target.
#[differentiate(wrt(p), hessian)]
fn conv_layer(p: &ConvLayer, x: &ndarray::Array4<f64>, target: &ndarray::Array4<f64>) -> f64 {
    let z = conv::conv2d_nchw(x, &p.kernel, &p.bias, 1, 1);
    let pooled = conv::avg_pool2d(&nn::sigmoid(&z), 2, 2);
    nn::mse(&pooled, target)
}

#[test]
fn hvps_of_a_convolution() {
    let x = seeded((5, 5), 7);
    let w = seeded((2, 2), 8);
    for (v, hv) in second_order(
        "conv energy",
        &w,
        |w| conv_energy_grad(w, &x),
        |w, v| conv_energy_hvp(w, &x, v),
    ) {
        let (_, expected) = conv_energy_grad(&v, &x);
        for (a, b) in hv.iter().zip(&expected) {
            close("conv energy H·v = ∇f(v)", *a, *b, TOL);
        }
    }
    second_order(
        "conv sigmoid",
        &w,
        |w| conv_sigmoid_grad(w, &x),
        |w, v| conv_sigmoid_hvp(w, &x, v),
    );

    // Two images of one channel, 4×4, padded to 6×6: 5×5 outputs, pooled to 2×2.
    let images = seeded((2, 1, 4, 4), 9);
    let target = seeded((2, 2, 2, 2), 10);
    let p = ConvLayer {
        kernel: seeded((2, 1, 2, 2), 11),
        bias: seeded(2, 12),
    };
    second_order(
        "conv layer",
        &p,
        |p| conv_layer_grad(p, &images, &target),
        |p, v| conv_layer_hvp(p, &images, &target, v),
    );
}

/// The analytic Hessian of [`cyclic`] that the tests compare with is the central difference of
/// its analytic gradient, column by column.
#[test]
fn the_analytic_cyclic_hessian_is_right() {
    let x = vec![0.5, -1.5, 2.0, 0.25, -0.75];
    let h = cyclic_hessian(&x);
    for j in 0..x.len() {
        let d: Vec<f64> =
            directional_difference(|x: &Vec<f64>| cyclic_gradient(x), &x, &unit(&x, j), 1e-6);
        for (a, b) in d.iter().zip(h.column(j)) {
            close("FD column", *a, *b, 1e-8);
        }
    }
}
