//! Reduction loops: a `for` loop that adds a term per iteration to one float accumulator and
//! reads everything else from outside without changing it. Reverse mode runs each iteration's
//! pullback right after the iteration, with the accumulator's adjoint at one, and scales what the
//! iterations summed by the accumulator's real adjoint afterwards: the loop keeps no record per
//! iteration (`tests/alloc.rs` shows that such a gradient allocates nothing).
//!
//! Each form the macro recognises (`s += e`, `s = s + e`, `s = e + s`, `s -= e`), what the body
//! may read (parameters, slices, arrays, a local built before the loop, a branch, a call of a
//! differentiated helper), the scaling by a seed other than one (`_vjp`), mixed float types, an
//! empty loop, and loops that are *not* reductions (two accumulators, a product, a loop inside)
//! next to them, all checked against analytic gradients (stated beside each function) and central
//! finite differences; forward mode is checked too, which these loops do not change.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2, array};

mod common;
use common::*;

#[track_caller]
fn fd_vec(what: &str, f: impl Fn(&[f64]) -> f64, x: &[f64], d: &[f64]) {
    let r = gradcheck(|p: &Vec<f64>| f(p), &x.to_vec(), &d.to_vec());
    assert!(r.passed(), "{what}: {r}");
}

fn xs() -> Vec<f64> {
    vec![0.3, -1.2, 0.8, 2.0, -0.4]
}

fn ys() -> Vec<f64> {
    vec![1.1, 0.2, -0.7, 0.5, 1.6]
}

// ---------------------------------------------------------------------------------------------
// The forms of the accumulation
// ---------------------------------------------------------------------------------------------

/// The report's Rosenbrock loop: `s = Σᵢ pᵢ² + 100·qᵢ²`, `uᵢ = a·xᵢ`, `pᵢ = 1 − uᵢ`,
/// `qᵢ = b·yᵢ − uᵢ²`; `∂s/∂a = Σᵢ (−2pᵢ − 400·qᵢ·uᵢ)·xᵢ`, `∂s/∂b = Σᵢ 200·qᵢ·yᵢ`.
#[differentiate(wrt(a, b))]
fn rosen(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let u = a * xs[i];
        let p = 1.0 - u;
        let q = b * ys[i] - u * u;
        s += p * p + 100.0 * (q * q);
    }
    s
}

fn rosen_expected(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let (mut da, mut db) = (0.0, 0.0);
    for i in 0..xs.len() {
        let u = a * xs[i];
        let (p, q) = (1.0 - u, b * ys[i] - u * u);
        da += (-2.0 * p - 400.0 * q * u) * xs[i];
        db += 200.0 * q * ys[i];
    }
    (da, db)
}

#[test]
fn rosenbrock_over_data() {
    let (xs, ys) = (xs(), ys());
    let (a, b) = (0.7, -0.4);
    let (v, g) = rosen_grad(a, b, &xs, &ys);
    assert_eq!(v, rosen(a, b, &xs, &ys));
    close2("rosen", g, rosen_expected(a, b, &xs, &ys));
    fd2("rosen", |a, b| rosen(a, b, &xs, &ys), (a, b), g);
    forward("rosen").two(
        (a, b),
        |a, b| rosen(a, b, &xs, &ys),
        |a, b, da, db| rosen_jvp(a, b, &xs, &ys, da, db),
        |a, b| rosen_vjp(a, b, &xs, &ys),
    );
}

/// Through `_vjp` the pullback scales what the iterations summed by the seed: `3·∇s`.
#[test]
fn the_seed_scales_the_sum() {
    let (xs, ys) = (xs(), ys());
    let (a, b) = (0.7, -0.4);
    let (v, pb) = rosen_vjp(a, b, &xs, &ys);
    assert_eq!(v, rosen(a, b, &xs, &ys));
    let (ea, eb) = rosen_expected(a, b, &xs, &ys);
    close2("3·∇rosen", pb(3.0), (3.0 * ea, 3.0 * eb));
    let (_, pb) = rosen_vjp(a, b, &xs, &ys);
    close2("0·∇rosen", pb(0.0), (0.0, 0.0));
}

/// `s = s + e`, `s = e + s` and `s -= e` in three loops one after the other:
/// `f = Σᵢ w·xᵢ² + Σᵢ (w − xᵢ)² − Σᵢ sin(w·xᵢ)`;
/// `∂f/∂w = Σᵢ xᵢ² + 2(w − xᵢ) − xᵢ·cos(w·xᵢ)`.
#[differentiate(wrt(w))]
fn three_forms(w: f64, xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        s = s + w * xs[i] * xs[i];
    }
    for i in 0..xs.len() {
        let r = w - xs[i];
        s = r * r + s;
    }
    for i in 0..xs.len() {
        s -= (w * xs[i]).sin();
    }
    s
}

#[test]
fn plus_plus_reversed_and_minus() {
    let xs = xs();
    let w = 0.9;
    let (v, g) = three_forms_grad(w, &xs);
    assert_eq!(v, three_forms(w, &xs));
    let expected: f64 = xs
        .iter()
        .map(|&x| x * x + 2.0 * (w - x) - x * (w * x).cos())
        .sum();
    close("three forms", g, expected, TOL);
    fd("three forms", |w| three_forms(w, &xs), w, g);
    forward("three forms").one(
        w,
        |w| three_forms(w, &xs),
        |w, dw| three_forms_jvp(w, &xs, dw),
        |w| three_forms_vjp(w, &xs),
    );
}

/// The same reductions written with iterators: a `map`/`sum` chain, `for` over a `zip` and over
/// a slice: `f = Σᵢ (a·xᵢ + b − yᵢ)² + Σᵢ |a·xᵢ − yᵢ| + Σᵢ sin(b·xᵢ)`;
/// `∂f/∂a = Σᵢ 2rᵢ·xᵢ + sign(a·xᵢ − yᵢ)·xᵢ`, `∂f/∂b = Σᵢ 2rᵢ + xᵢ·cos(b·xᵢ)`.
#[differentiate(wrt(a, b))]
fn iterator_forms(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let s: f64 = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (a * x + b - y).powi(2))
        .sum();
    let mut t = 0.0;
    for (x, y) in xs.iter().zip(ys.iter()) {
        t += (a * x - y).abs();
    }
    let mut u = 0.0;
    for x in xs {
        u += (b * x).sin();
    }
    s + t + u
}

#[test]
fn written_with_iterators() {
    let (xs, ys) = (xs(), ys());
    let (a, b) = (0.5, 0.1);
    let (v, g) = iterator_forms_grad(a, b, &xs, &ys);
    assert_eq!(v, iterator_forms(a, b, &xs, &ys));
    let (mut ea, mut eb) = (0.0, 0.0);
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        ea += 2.0 * r * xs[i] + (a * xs[i] - ys[i]).signum() * xs[i];
        eb += 2.0 * r + xs[i] * (b * xs[i]).cos();
    }
    close2("iterator forms", g, (ea, eb));
    fd2(
        "iterator forms",
        |a, b| iterator_forms(a, b, &xs, &ys),
        (a, b),
        g,
    );
    forward("iterator forms").two(
        (a, b),
        |a, b| iterator_forms(a, b, &xs, &ys),
        |a, b, da, db| iterator_forms_jvp(a, b, &xs, &ys, da, db),
        |a, b| iterator_forms_vjp(a, b, &xs, &ys),
    );
}

// ---------------------------------------------------------------------------------------------
// What the body reads
// ---------------------------------------------------------------------------------------------

/// Least squares over a slice of weights and an array of offsets, the residuals read from a
/// local built by an earlier loop: `zᵢ = wᵢ·xᵢ + cᵢ`, `f = Σᵢ zᵢ² + 0.5·Σᵢ cᵢ·zᵢ`;
/// `∂f/∂wᵢ = (2zᵢ + 0.5cᵢ)·xᵢ`, `∂f/∂cᵢ = 2zᵢ + 0.5cᵢ + 0.5zᵢ`.
#[differentiate(wrt(w, c))]
fn weighted(w: &[f64], c: &Array1<f64>, xs: &[f64]) -> f64 {
    let n = w.len();
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = w[i] * xs[i] + c[i];
    }
    let mut f = 0.0;
    for i in 0..n {
        f += z[i] * z[i] + 0.5 * c[i] * z[i];
    }
    f
}

#[test]
fn slices_arrays_and_a_local_read_in_the_loop() {
    let xs = xs();
    let w = vec![0.4, -0.3, 1.2, 0.1, -0.8];
    let c = array![0.2, 0.5, -0.1, 0.9, -0.6];
    let (v, (gw, gc)) = weighted_grad(&w, &c, &xs);
    assert_eq!(v, weighted(&w, &c, &xs));
    for i in 0..w.len() {
        let z = w[i] * xs[i] + c[i];
        close(
            &format!("∂w[{i}]"),
            gw[i],
            (2.0 * z + 0.5 * c[i]) * xs[i],
            TOL,
        );
        close(
            &format!("∂c[{i}]"),
            gc[i],
            2.0 * z + 0.5 * c[i] + 0.5 * z,
            TOL,
        );
    }
    fd_vec("∂w", |w| weighted(w, &c, &xs), &w, &gw);
    let cv = c.to_vec();
    let gcv = gc.to_vec();
    fd_vec(
        "∂c",
        |c| weighted(&w, &Array1::from(c.to_vec()), &xs),
        &cv,
        &gcv,
    );
}

/// Array values inside the body, an accumulator whose float type only rustc knows (started at a
/// literal, adding `h.sum()` of an array): `hᵢ = rowᵢ ⊙ w`, `zᵢ = Σhᵢ + b`,
/// `f = Σᵢ (zᵢ − yᵢ)² + 0.1·Σᵢ ‖hᵢ‖²`; `∂f/∂w = Σᵢ (2(zᵢ − yᵢ) + 0.2·hᵢ) ⊙ rowᵢ`,
/// `∂f/∂b = Σᵢ 2(zᵢ − yᵢ)`.
#[differentiate(wrt(w, b))]
fn rows_loss(w: &Array1<f64>, b: f64, xs: &Array2<f64>, y: &[f64]) -> f64 {
    let mut loss = 0.0;
    for i in 0..xs.nrows() {
        let row = xs.row(i);
        let h = &row * w;
        let z = h.sum() + b;
        let q = h.mapv(|v| v * v);
        loss += (z - y[i]).powi(2) + 0.1 * q.sum();
    }
    loss
}

/// The same with `f32` arrays: `f = Σᵢ tanh(rowᵢ·w)`, `∂f/∂w = Σᵢ (1 − tanh²(rowᵢ·w))·rowᵢ`.
#[differentiate(wrt(w))]
fn rows_tanh(w: &Array1<f32>, xs: &Array2<f32>) -> f32 {
    let mut f = 0.0;
    for i in 0..xs.nrows() {
        f += xs.row(i).dot(w).tanh();
    }
    f
}

#[test]
fn arrays_in_the_body() {
    let w = array![0.3, -0.2, 0.5];
    let xs = array![[1.0, 2.0, 0.5], [0.1, -1.0, 2.0], [-0.7, 0.4, 1.1]];
    let y = vec![0.5, -0.2, 0.9];
    let b = 0.1;
    let (v, (gw, gb)) = rows_loss_grad(&w, b, &xs, &y);
    assert_eq!(v, rows_loss(&w, b, &xs, &y));
    let (mut ew, mut eb) = (Array1::zeros(3), 0.0);
    for i in 0..xs.nrows() {
        let h = &xs.row(i) * &w;
        let r = h.sum() + b - y[i];
        ew = ew + (2.0 * r + 0.2 * &h) * xs.row(i);
        eb += 2.0 * r;
    }
    close_all("∂w", &gw.to_vec(), &ew.to_vec());
    close("∂b", gb, eb, TOL);
    let wv = w.to_vec();
    fd_vec(
        "∂w",
        |w| rows_loss(&Array1::from(w.to_vec()), b, &xs, &y),
        &wv,
        &gw.to_vec(),
    );
    fd("∂b", |b| rows_loss(&w, b, &xs, &y), b, gb);
    // Through `_vjp`, scaled by the seed.
    let (_, pb) = rows_loss_vjp(&w, b, &xs, &y);
    let (gw2, gb2) = pb(-2.0);
    close_all("−2·∂w", &gw2.to_vec(), &(-2.0 * &gw).to_vec());
    close("−2·∂b", gb2, -2.0 * gb, TOL);

    let (w32, xs32) = (w.mapv(|v| v as f32), xs.mapv(|v| v as f32));
    let (v, g) = rows_tanh_grad(&w32, &xs32);
    assert_eq!(v, rows_tanh(&w32, &xs32));
    for j in 0..3 {
        let e: f32 = (0..3)
            .map(|i| (1.0 - xs32.row(i).dot(&w32).tanh().powi(2)) * xs32[[i, j]])
            .sum();
        assert!(
            (g[j] - e).abs() <= 1e-5 * e.abs().max(1.0),
            "∂w[{j}]: {} vs {e}",
            g[j]
        );
    }
}

/// A branch on the data and one on a differentiated value, and a `match`: the Huber loss of
/// `rᵢ = a·xᵢ − yᵢ` with threshold 1, doubled for even `i`;
/// `∂/∂a = Σᵢ kᵢ·ψ(rᵢ)·xᵢ`, `ψ(r) = r` for `|r| ≤ 1`, `sign(r)` beyond, `kᵢ = 2` for even `i`.
#[differentiate(wrt(a))]
fn huber_loss(a: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let r = a * xs[i] - ys[i];
        let h = if r.abs() <= 1.0 {
            0.5 * r * r
        } else {
            r.abs() - 0.5
        };
        let k = match i % 2 {
            0 => 2.0,
            _ => 1.0,
        };
        s += k * h;
    }
    s
}

#[test]
fn branches_in_the_body() {
    let (xs, ys) = (xs(), ys());
    for a in [0.3, 1.7, -2.5] {
        let (v, g) = huber_loss_grad(a, &xs, &ys);
        assert_eq!(v, huber_loss(a, &xs, &ys));
        let mut expected = 0.0;
        for i in 0..xs.len() {
            let r = a * xs[i] - ys[i];
            let psi = if r.abs() <= 1.0 { r } else { r.signum() };
            expected += if i % 2 == 0 { 2.0 } else { 1.0 } * psi * xs[i];
        }
        close("huber", g, expected, TOL);
        fd("huber", |a| huber_loss(a, &xs, &ys), a, g);
        forward("huber").one(
            a,
            |a| huber_loss(a, &xs, &ys),
            |a, da| huber_loss_jvp(a, &xs, &ys, da),
            |a| huber_loss_vjp(a, &xs, &ys),
        );
    }
}

/// `softplus(t) = ln(1 + eᵗ)`, `softplus'(t) = 1/(1 + e⁻ᵗ)`.
#[differentiate]
fn softplus(t: f64) -> f64 {
    (1.0 + t.exp()).ln()
}

/// A differentiated helper called in the body (its pullback is applied in the same iteration):
/// logistic loss `f = Σᵢ softplus(−yᵢ·(a·xᵢ + b))`;
/// `∂f/∂a = −Σᵢ σ(−yᵢzᵢ)·yᵢ·xᵢ`, `∂f/∂b = −Σᵢ σ(−yᵢzᵢ)·yᵢ`.
#[differentiate(wrt(a, b))]
fn logistic(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut f = 0.0;
    for i in 0..xs.len() {
        let z = a * xs[i] + b;
        f += softplus(-ys[i] * z);
    }
    f
}

#[test]
fn a_call_in_the_body() {
    let xs = xs();
    let ys: Vec<f64> = ys().iter().map(|y| y.signum()).collect();
    let (a, b) = (0.6, -0.2);
    let (v, g) = logistic_grad(a, b, &xs, &ys);
    assert_eq!(v, logistic(a, b, &xs, &ys));
    let (mut ea, mut eb) = (0.0, 0.0);
    for i in 0..xs.len() {
        let t = -ys[i] * (a * xs[i] + b);
        let sig = 1.0 / (1.0 + (-t).exp());
        ea -= sig * ys[i] * xs[i];
        eb -= sig * ys[i];
    }
    close2("logistic", g, (ea, eb));
    fd2("logistic", |a, b| logistic(a, b, &xs, &ys), (a, b), g);
    forward("logistic").two(
        (a, b),
        |a, b| logistic(a, b, &xs, &ys),
        |a, b, da, db| logistic_jvp(a, b, &xs, &ys, da, db),
        |a, b| logistic_vjp(a, b, &xs, &ys),
    );
}

/// An `f32` accumulator over `f64` data, scaled by an `f32` seed: `f = Σᵢ (a·(xᵢ as f32))²`,
/// `∂f/∂a = 2a·Σᵢ xᵢ²`.
#[differentiate(wrt(a))]
fn single(a: f32, xs: &[f64]) -> f32 {
    let mut f = 0.0f32;
    for i in 0..xs.len() {
        let t = a * xs[i] as f32;
        f += t * t;
    }
    f
}

#[test]
fn an_f32_accumulator() {
    let xs = xs();
    let a = 1.3f32;
    let (v, g) = single_grad(a, &xs);
    assert_eq!(v, single(a, &xs));
    let expected: f32 = 2.0 * a * xs.iter().map(|&x| (x as f32) * (x as f32)).sum::<f32>();
    assert!(
        (g - expected).abs() <= 1e-5 * expected.abs(),
        "{g} vs {expected}"
    );
    fd32("single", |a| single(a, &xs), a, g);
    let (_, pb) = single_vjp(a, &xs);
    let g2 = pb(2.0);
    assert!((g2 - 2.0 * g).abs() <= 1e-5 * g.abs(), "{g2} vs 2·{g}");
}

/// Generic code: the accumulator starts at `T::zero()` (or `T::one()`) of a type parameter
/// bounded by `Float`, which only rustc names. `f = c + Σᵢ ln(1 + e^{−yᵢ(a·xᵢ + b)})` with
/// `c` zero or one: `∂f/∂a = Σᵢ −yᵢ·xᵢ·σ(−yᵢzᵢ)`, `∂f/∂b = Σᵢ −yᵢ·σ(−yᵢzᵢ)`, `σ(t) = 1/(1 + e^{−t})`.
#[differentiate(wrt(a, b))]
fn logistic_t<T: num_traits::Float>(a: T, b: T, xs: &[T], ys: &[T], one: bool) -> T {
    let mut s = if one { T::one() } else { T::zero() };
    for i in 0..xs.len() {
        let z = a * xs[i] + b;
        s = s + (T::one() + (-ys[i] * z).exp()).ln();
    }
    s
}

#[differentiate(wrt(a, b))]
fn logistic_t_zero<T: num_traits::Float>(a: T, b: T, xs: &[T], ys: &[T]) -> T {
    let mut s = T::zero();
    for i in 0..xs.len() {
        let z = a * xs[i] + b;
        s = s + (T::one() + (-ys[i] * z).exp()).ln();
    }
    s
}

#[differentiate(wrt(a, b))]
fn logistic_t_one<T: num_traits::Float>(a: T, b: T, xs: &[T], ys: &[T]) -> T {
    let mut s = T::one();
    for i in 0..xs.len() {
        let z = a * xs[i] + b;
        s = s + (T::one() + (-ys[i] * z).exp()).ln();
    }
    s
}

fn logistic_expected(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let sigma = |t: f64| 1.0 / (1.0 + (-t).exp());
    let mut g = (0.0, 0.0);
    for (&x, &y) in xs.iter().zip(ys) {
        let w = sigma(-y * (a * x + b));
        g.0 -= y * x * w;
        g.1 -= y * w;
    }
    g
}

#[test]
fn a_generic_accumulator_started_at_zero_or_one() {
    let (xs, ys) = (xs(), ys());
    let (a, b) = (0.6, -0.2);
    let want = logistic_expected(a, b, &xs, &ys);
    for (one, (v, g)) in [
        (false, logistic_t_zero_grad(a, b, &xs, &ys)),
        (true, logistic_t_one_grad(a, b, &xs, &ys)),
        (false, logistic_t_grad(a, b, &xs, &ys, false)),
        (true, logistic_t_grad(a, b, &xs, &ys, true)),
    ] {
        assert_eq!(v, logistic_t(a, b, &xs, &ys, one));
        close2("generic logistic", g, want);
        fd2(
            "generic logistic",
            |a, b| logistic_t(a, b, &xs, &ys, one),
            (a, b),
            g,
        );
    }
    // A seed other than one scales the sum the iterations computed in place.
    let (_, pb) = logistic_t_zero_vjp(a, b, &xs, &ys);
    close2("seed 3", pb(3.0), (3.0 * want.0, 3.0 * want.1));
    // At f32.
    let (xs32, ys32): (Vec<f32>, Vec<f32>) = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| (x as f32, y as f32))
        .unzip();
    let (_, g32) = logistic_t_one_grad(a as f32, b as f32, &xs32, &ys32);
    for (got, want) in [(g32.0, want.0), (g32.1, want.1)] {
        assert!(
            (f64::from(got) - want).abs() <= 1e-5 * (1.0 + want.abs()),
            "f32: {got} vs {want}"
        );
    }
}

#[test]
fn an_empty_loop_contributes_nothing() {
    let (v, g) = rosen_grad(0.7, -0.4, &[], &[]);
    assert_eq!(v, 0.0);
    close2("empty rosen", g, (0.0, 0.0));
    let (v, g) = weighted_grad(&[], &Array1::zeros(0), &[]);
    assert_eq!(v, 0.0);
    assert!(g.0.is_empty() && g.1.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Beside them, loops that are not reductions
// ---------------------------------------------------------------------------------------------

/// Two accumulators (a mean and a second moment), a product, and a loop with one inside it:
/// `m = Σ xᵢ·w / n`, `q = Σ (xᵢ·w)²`, `p = Πᵢ (1 + 0.1·xᵢ·w)`, `r = Σᵢ Σⱼ w·xᵢ·xⱼ`;
/// `f = q − m² + p + r`; `∂f/∂w = 2w·Σxᵢ² − 2m·Σxᵢ/n + p·Σᵢ 0.1xᵢ/(1 + 0.1xᵢw) + (Σxᵢ)²`.
#[differentiate(wrt(w))]
fn not_reductions(w: f64, xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mut m, mut q) = (0.0, 0.0);
    for i in 0..xs.len() {
        m += xs[i] * w / n;
        q += (xs[i] * w) * (xs[i] * w);
    }
    let mut p = 1.0;
    for i in 0..xs.len() {
        p *= 1.0 + 0.1 * xs[i] * w;
    }
    let mut r = 0.0;
    for i in 0..xs.len() {
        for j in 0..xs.len() {
            r += w * xs[i] * xs[j];
        }
    }
    q - m * m + p + r
}

#[test]
fn loops_that_are_not_reductions_beside_them() {
    let xs = xs();
    let w = 0.8;
    let (v, g) = not_reductions_grad(w, &xs);
    assert_eq!(v, not_reductions(w, &xs));
    let n = xs.len() as f64;
    let sx: f64 = xs.iter().sum();
    let sxx: f64 = xs.iter().map(|x| x * x).sum();
    let m = sx * w / n;
    let p: f64 = xs.iter().map(|x| 1.0 + 0.1 * x * w).product();
    let dp: f64 = p * xs
        .iter()
        .map(|x| 0.1 * x / (1.0 + 0.1 * x * w))
        .sum::<f64>();
    close(
        "not reductions",
        g,
        2.0 * w * sxx - 2.0 * m * sx / n + dp + sx * sx,
        TOL,
    );
    fd("not reductions", |w| not_reductions(w, &xs), w, g);
}

// ---------------------------------------------------------------------------------------------
// Sums whose terms are computed by loops: recorded, with a record per data point
// ---------------------------------------------------------------------------------------------

/// `f = Σᵢ Tᵢ²` with `Tᵢ = Σ_{j<i} sin²(a·xⱼ)`: a sum over data whose term an inner loop
/// computes, which reverse mode keeps in the recorded form (see `autodiff-macro/src/fuse.rs`).
/// `∂f/∂a = Σᵢ 2Tᵢ · Σ_{j<i} 2 sin(a·xⱼ) cos(a·xⱼ) xⱼ`.
#[differentiate(wrt(a), hessian)]
fn triangle(a: f64, xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let mut t = 0.0;
        for j in 0..i {
            let u = (a * xs[j]).sin();
            t += u * u;
        }
        s += t * t;
    }
    s
}

fn triangle_expected(a: f64, xs: &[f64]) -> f64 {
    (0..xs.len())
        .map(|i| {
            let t: f64 = xs[..i].iter().map(|x| (a * x).sin().powi(2)).sum();
            let dt: f64 = xs[..i]
                .iter()
                .map(|x| 2.0 * (a * x).sin() * (a * x).cos() * x)
                .sum();
            2.0 * t * dt
        })
        .sum()
}

#[test]
fn a_loop_inside_the_body() {
    let xs = xs();
    let a = 0.7;
    let (v, g) = triangle_grad(a, &xs);
    assert_eq!(v, triangle(a, &xs));
    close("triangle", g, triangle_expected(a, &xs), TOL);
    fd("triangle", |a| triangle(a, &xs), a, g);
    // The seed scales what the iterations summed.
    let (_, pb) = triangle_vjp(a, &xs);
    close("triangle, seed 2.5", pb(2.5), 2.5 * g, TOL);
    // Forward over reverse agrees.
    let (_, hg, hv) = triangle_hvp(a, &xs, 1.0);
    close("triangle, gradient of _hvp", hg, g, TOL);
    let r = autodiff::check::hvpcheck(|a: &f64| triangle_grad(*a, &xs).1, &a, &1.0, &hv);
    assert!(r.passed(), "triangle _hvp: {r}");
}

/// Per point, a triangle of loops with a branch and a `break` inside, then an online
/// log-sum-exp over components — the shape of a Gaussian mixture's objective:
/// `βᵢc = −½ Σⱼ tᵢcⱼ²`, `tᵢcⱼ = e^{q_c}(xᵢⱼ − μ_cⱼ) + Σ_{l<j} L_c(xᵢₗ − μ_cₗ)` where the sum
/// over `l` stops at the first `l` with `xᵢₗ > 2` (a data-dependent trip count) and a negative
/// difference counts through `L_c²`, and `f = Σᵢ lse_c βᵢc`.
#[differentiate(wrt(mu, q, l))]
fn mixture_like(mu: &[f64], q: &[f64], l: &[f64], xs: &[f64], d: usize) -> f64 {
    let k = q.len();
    let n = xs.len() / d;
    let mut total = 0.0;
    for i in 0..n {
        let mut m = f64::NEG_INFINITY;
        let mut acc = 0.0;
        for c in 0..k {
            let mut sq = 0.0;
            for j in 0..d {
                let mut t = q[c].exp() * (xs[i * d + j] - mu[c * d + j]);
                for ll in 0..j {
                    if xs[i * d + ll] > 2.0 {
                        break;
                    }
                    let e = xs[i * d + ll] - mu[c * d + ll];
                    t += if e > 0.0 { l[c] * e } else { l[c] * l[c] * e };
                }
                sq += t * t;
            }
            let beta = -0.5 * sq;
            if beta > m {
                acc = acc * (m - beta).exp() + 1.0;
                m = beta;
            } else {
                acc += (beta - m).exp();
            }
        }
        total += m + acc.ln();
    }
    total
}

/// The gradient of [`mixture_like`] written out: with `wᵢc` the softmax of `βᵢ·`, `∂f/∂tᵢcⱼ =
/// −wᵢc·tᵢcⱼ`, and through `t` to `μ`, `q` and `L`.
fn mixture_like_expected(
    mu: &[f64],
    q: &[f64],
    l: &[f64],
    xs: &[f64],
    d: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let k = q.len();
    let n = xs.len() / d;
    let (mut gmu, mut gq, mut gl) = (vec![0.0; k * d], vec![0.0; k], vec![0.0; k]);
    for i in 0..n {
        let x = &xs[i * d..(i + 1) * d];
        let mut ts = vec![vec![0.0; d]; k];
        let mut betas = vec![0.0; k];
        for c in 0..k {
            for j in 0..d {
                let mut t = q[c].exp() * (x[j] - mu[c * d + j]);
                for ll in 0..j {
                    if x[ll] > 2.0 {
                        break;
                    }
                    let e = x[ll] - mu[c * d + ll];
                    t += if e > 0.0 { l[c] * e } else { l[c] * l[c] * e };
                }
                ts[c][j] = t;
            }
            betas[c] = -0.5 * ts[c].iter().map(|t| t * t).sum::<f64>();
        }
        let m = betas.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = betas.iter().map(|b| (b - m).exp()).sum();
        for c in 0..k {
            let w = (betas[c] - m).exp() / z;
            for j in 0..d {
                let gt = -w * ts[c][j];
                gq[c] += gt * q[c].exp() * (x[j] - mu[c * d + j]);
                gmu[c * d + j] -= gt * q[c].exp();
                for ll in 0..j {
                    if x[ll] > 2.0 {
                        break;
                    }
                    let e = x[ll] - mu[c * d + ll];
                    let (de, dl) = if e > 0.0 {
                        (l[c], e)
                    } else {
                        (l[c] * l[c], 2.0 * l[c] * e)
                    };
                    gmu[c * d + ll] -= gt * de;
                    gl[c] += gt * dl;
                }
            }
        }
    }
    (gmu, gq, gl)
}

#[test]
fn the_loops_of_a_mixture_inside_the_body() {
    let d = 3;
    let xs = vec![
        0.3, -1.2, 0.8, 2.5, -0.4, 1.1, 0.2, 0.9, -0.6, -1.5, 0.4, 2.2,
    ];
    let mu = vec![0.1, -0.3, 0.5, -0.2, 0.35, 0.0];
    let q = vec![0.2, -0.1];
    let l = vec![0.6, -0.7];
    let (v, (gmu, gq, gl)) = mixture_like_grad(&mu, &q, &l, &xs, d);
    assert_eq!(v, mixture_like(&mu, &q, &l, &xs, d));
    let (emu, eq, el) = mixture_like_expected(&mu, &q, &l, &xs, d);
    close_all("mixture, μ", &gmu, &emu);
    close_all("mixture, q", &gq, &eq);
    close_all("mixture, L", &gl, &el);
    fd_vec("mixture, μ", |p| mixture_like(p, &q, &l, &xs, d), &mu, &gmu);
    fd_vec("mixture, q", |p| mixture_like(&mu, p, &l, &xs, d), &q, &gq);
    fd_vec("mixture, L", |p| mixture_like(&mu, &q, p, &xs, d), &l, &gl);
}

/// A `while` loop inside the body (Newton's iteration for `√(c·xᵢ)`, twenty steps):
/// `f = Σᵢ √(c·xᵢ)`, `∂f/∂c = Σᵢ xᵢ / (2√(c·xᵢ))`.
#[differentiate(wrt(c))]
fn newton_roots(c: f64, xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let target = c * xs[i];
        let mut y = 1.0;
        let mut k = 0;
        while k < 20 {
            y = 0.5 * (y + target / y);
            k += 1;
        }
        s += y;
    }
    s
}

#[test]
fn a_while_loop_inside_the_body() {
    let xs = [0.5, 1.5, 2.0, 3.5];
    let c = 1.3;
    let (v, g) = newton_roots_grad(c, &xs);
    assert_eq!(v, newton_roots(c, &xs));
    let expected: f64 = xs.iter().map(|x| x / (2.0 * (c * x).sqrt())).sum();
    close("newton roots", g, expected, TOL);
    fd("newton roots", |c| newton_roots(c, &xs), c, g);
}
