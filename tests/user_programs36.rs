//! Economics and econometrics code written the way it is ported from MATLAB, Julia or Dynare:
//! likelihoods over a series, fixed points solved by iteration inside the objective, value
//! functions on grids, parameters in structs. Each is checked against its analytic derivative
//! (stated beside the function) and central finite differences.
//!
//! A variable declared without a value before a loop that assigns it before reading it (`let mut
//! prev;`, then `prev = y;` at the top of each iteration: the lag of an AR(1) simulation) is
//! valid Rust, and was a compile error ("`prev` may be unassigned here"): the loop carries it,
//! and it had no value to start from. It starts from `Default::default()` of its type now, which
//! nothing reads: rustc's check of the function as written proves that every read follows an
//! assignment.
//!
//! A value function whose infeasible states are `−∞` (no consumption is positive there), with
//! each state's candidates computed in an `if` or a `match` arm and the best kept by `max`
//! (`.map(|j| if c > 0.0 { c.ln() + beta * v[j] } else { f64::NEG_INFINITY })
//! .fold(f64::NEG_INFINITY, f64::max)`), had a NaN gradient in `beta`: a candidate through an
//! infeasible state is `−∞` and loses the `max`, which gives it a zero cotangent, but the
//! product `beta * v[j]` inside the arm took `0 · (−∞)`. The zero of a dropped candidate was
//! followed through sums and products only, not out of an arm to the `if`'s value; it is now, so
//! the product's rule keeps `0 · ∞` at 0 there, in every mode.

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::differentiate;

mod common;
use common::*;

/// The sum of lag products of an AR(1) path `y_t = ρ y_{t−1} + e_t` (`y_0 = 0`):
/// `A(ρ) = Σ_t y_t y_{t−1}`, with `∂y_t/∂ρ = y_{t−1} + ρ ∂y_{t−1}/∂ρ`, so
/// `∂A/∂ρ = Σ_t (∂y_t/∂ρ · y_{t−1} + y_t · ∂y_{t−1}/∂ρ)`.
#[differentiate(hessian)]
fn autocovariance(rho: f64, e: &[f64]) -> f64 {
    let mut y = 0.0;
    let mut acc = 0.0;
    let mut prev;
    for &et in e {
        prev = y;
        y = rho * y + et;
        acc += y * prev;
    }
    acc
}

#[test]
fn a_lag_declared_before_the_loop_is_carried() {
    let e = data(20, 0.5);
    let rho = 0.6;
    let (v, (g, ge)) = autocovariance_grad(rho, &e);
    assert_eq!(v, autocovariance(rho, &e));
    // Analytic, by the recursion above.
    let (mut y, mut dy, mut da) = (0.0, 0.0, 0.0);
    for &et in &e {
        let (py, pdy) = (y, dy);
        y = rho * py + et;
        dy = py + rho * pdy;
        da += dy * py + y * pdy;
    }
    close("∂A/∂ρ", g, da, TOL);
    fd("∂A/∂ρ", |r| autocovariance(r, &e), rho, g);
    fd_vec("∂A/∂e", |e| autocovariance(rho, e), &e, &ge);
    let (_, t) = autocovariance_jvp(rho, &e, 1.0, &vec![0.0; e.len()]);
    close("jvp along ρ", t, da, TOL);
    let (_, _, hv) = autocovariance_hvp(rho, &e, 1.0, &vec![0.0; e.len()]);
    let r = hvpcheck(
        |p: &(f64, Vec<f64>)| autocovariance_grad(p.0, &p.1).1,
        &(rho, e.clone()),
        &(1.0, vec![0.0; e.len()]),
        &hv,
    );
    assert!(r.passed(), "{r}");
}

/// An integer index declared before the loop and assigned in it:
/// `s = Σ_i (p_i + p_{i+1}) x_i`, so `∂s/∂p_k = x_k + x_{k−1}`, `∂s/∂x_i = p_i + p_{i+1}`.
#[differentiate]
fn neighbour_pairs(p: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut k;
    for i in 0..x.len() {
        k = i;
        s += p[k] * x[i];
        k += 1;
        s += p[k] * x[i];
    }
    s
}

#[test]
fn an_index_declared_before_the_loop_is_carried() {
    let p = vec![1.0, 2.0, 3.0, 4.0];
    let x = vec![0.5, -1.0, 2.0];
    let (_, (dp, dx)) = neighbour_pairs_grad(&p, &x);
    let ep: Vec<f64> = (0..4)
        .map(|k| x.get(k).copied().unwrap_or(0.0) + if k > 0 { x[k - 1] } else { 0.0 })
        .collect();
    let ex: Vec<f64> = (0..3).map(|i| p[i] + p[i + 1]).collect();
    close_all("∂s/∂p", &dp, &ep);
    close_all("∂s/∂x", &dx, &ex);
}

/// Values of other types declared first: a `Vec`, an array and an `Array1` assigned in a
/// `while` loop, and a result assigned in a `loop`.
/// `s = Σ_i (S_i · 2x_i + x_i S_i) = 3 Σ_i x_i S_i` with `S_i = x_0 + .. + x_i`, and the
/// function is `s²`: `∂/∂x_k = 2s · 3 (S_k + Σ_{i≥k} x_i)`.
#[differentiate(hessian)]
fn declared_first(x: &[f64]) -> f64 {
    let mut row;
    let mut arr;
    let mut h: ndarray::Array1<f64>;
    let mut s = 0.0;
    let mut i = 0;
    while i < x.len() {
        row = x[..=i].to_vec();
        arr = [x[i], 2.0 * x[i]];
        h = ndarray::Array1::from(row.clone()) * x[i];
        s += row.iter().sum::<f64>() * arr[1] + h.sum();
        i += 1;
    }
    let out;
    loop {
        out = s * s;
        break;
    }
    out
}

#[test]
fn vectors_and_arrays_declared_before_the_loop_are_carried() {
    let x = vec![0.3, -0.5, 0.8];
    let (v, g) = declared_first_grad(&x);
    assert_eq!(v, declared_first(&x));
    let prefix: Vec<f64> = x
        .iter()
        .scan(0.0, |a, &v| {
            *a += v;
            Some(*a)
        })
        .collect();
    let s: f64 = 3.0 * x.iter().zip(&prefix).map(|(a, b)| a * b).sum::<f64>();
    let expected: Vec<f64> = (0..3)
        .map(|k| 2.0 * s * 3.0 * (prefix[k] + x[k..].iter().sum::<f64>()))
        .collect();
    close_all("∂/∂x", &g, &expected);
    let r = gradcheck(|x: &Vec<f64>| declared_first(x), &x, &g);
    assert!(r.passed(), "{r}");
    let d = vec![1.0, 0.5, -0.5];
    let (_, _, hv) = declared_first_hvp(&x, &d);
    let r = hvpcheck(|x: &Vec<f64>| declared_first_grad(x).1, &x, &d, &hv);
    assert!(r.passed(), "{r}");
}

/// Value-function iteration on a grid where the lowest states can afford nothing: `cash =
/// 2k − 0.5 < k'` for every choice, so their value is `−∞` and the candidates through them lose
/// every `max`. The value is finite and smooth in `β` and `σ` at the other states; the check is
/// central differences, and the tangent against the gradient.
#[differentiate(wrt(beta, sigma), hessian)]
fn value_with_infeasible_states(beta: f64, sigma: f64, grid: &[f64], iters: usize) -> f64 {
    let n = grid.len();
    let mut v = vec![0.0; n];
    for _ in 0..iters {
        let old = v.clone();
        for i in 0..n {
            let cash = 2.0 * grid[i] - 0.5;
            v[i] = (0..n)
                .map(|j| {
                    let c = cash - grid[j];
                    if c > 0.0 {
                        c.powf(1.0 - sigma) / (1.0 - sigma) + beta * old[j]
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .fold(f64::NEG_INFINITY, f64::max);
        }
    }
    v[n - 1] + v[n - 2]
}

/// The same candidates bound by a `let` of a `match`, the best kept by `max` in a loop.
#[differentiate(wrt(beta, sigma), hessian)]
fn value_with_infeasible_states_matched(beta: f64, sigma: f64, grid: &[f64], iters: usize) -> f64 {
    let n = grid.len();
    let mut v = vec![0.0; n];
    for _ in 0..iters {
        let old = v.clone();
        for i in 0..n {
            let cash = 2.0 * grid[i] - 0.5;
            let mut best = f64::NEG_INFINITY;
            for j in 0..n {
                let c = cash - grid[j];
                let cand = match c > 0.0 {
                    true => c.powf(1.0 - sigma) / (1.0 - sigma) + beta * old[j],
                    false => f64::NEG_INFINITY,
                };
                best = best.max(cand);
            }
            v[i] = best;
        }
    }
    v[n - 1] + v[n - 2]
}

#[test]
fn candidates_through_infeasible_states_get_no_nan() {
    let grid: Vec<f64> = (0..10).map(|i| 0.1 + i as f64 * 0.3).collect();
    assert!(value_with_infeasible_states(0.9, 2.0, &grid, 6).is_finite());
    let p = (0.9, 2.0);
    let d = (1.0, 0.5);
    type F = fn(f64, f64, &[f64], usize) -> f64;
    type G = fn(f64, f64, &[f64], usize) -> (f64, (f64, f64));
    type J = fn(f64, f64, &[f64], usize, f64, f64) -> (f64, f64);
    type H = fn(f64, f64, &[f64], usize, f64, f64) -> (f64, (f64, f64), (f64, f64));
    let cases: [(&str, F, G, J, H); 2] = [
        (
            "fold",
            value_with_infeasible_states,
            value_with_infeasible_states_grad,
            value_with_infeasible_states_jvp,
            value_with_infeasible_states_hvp,
        ),
        (
            "match",
            value_with_infeasible_states_matched,
            value_with_infeasible_states_matched_grad,
            value_with_infeasible_states_matched_jvp,
            value_with_infeasible_states_matched_hvp,
        ),
    ];
    for (what, f, grad, jvp, hvp) in cases {
        let (v, g) = grad(p.0, p.1, &grid, 6);
        assert_eq!(v, f(p.0, p.1, &grid, 6), "{what}");
        assert!(g.0.is_finite() && g.1.is_finite(), "{what}: {g:?}");
        fd2(what, |b, s| f(b, s, &grid, 6), p, g);
        let (_, t) = jvp(p.0, p.1, &grid, 6, d.0, d.1);
        close(what, t, d.0 * g.0 + d.1 * g.1, 1e-10);
        let r = jvpcheck(|q: &(f64, f64)| f(q.0, q.1, &grid, 6), &p, &d, &t);
        assert!(r.passed(), "{what}: {r}");
        let (_, _, hv) = hvp(p.0, p.1, &grid, 6, d.0, d.1);
        let r = hvpcheck(|q: &(f64, f64)| grad(q.0, q.1, &grid, 6).1, &p, &d, &hv);
        assert!(r.passed(), "{what}: {r}");
    }
}

/// A monopolist's price declared before a Newton loop and assigned where it converges: the first
/// order condition of `(p − c)·a·p^{−ε}` is `p = cε/(ε − 1)`, and by the envelope theorem
/// `∂π/∂c = −a p^{−ε}`, `∂π/∂a = (p − c) p^{−ε}` at the optimum.
#[differentiate(wrt(a, c))]
fn monopoly_profit(a: f64, c: f64, eps: f64) -> f64 {
    let price;
    let mut p = 2.0 * c;
    let mut it = 0;
    loop {
        let g = (p - c) * eps - p;
        let next = p - g / (eps - 1.0);
        it += 1;
        if (next - p).abs() < 1e-14 || it > 50 {
            price = next;
            break;
        }
        p = next;
    }
    (price - c) * a * price.powf(-eps)
}

/// The lag of [`autocovariance`] in a checkpointed loop.
#[differentiate]
fn autocovariance_checkpointed(rho: f64, e: &[f64]) -> f64 {
    let mut y = 0.0;
    let mut acc = 0.0;
    let mut prev;
    #[checkpoint(snapshots = 3)]
    for t in 0..e.len() {
        prev = y;
        y = rho * y + e[t];
        acc += y * prev;
    }
    acc
}

#[test]
fn a_result_declared_before_a_loop_that_breaks_with_it() {
    let (a, c, eps) = (10.0, 1.0, 3.0);
    let (v, (da, dc)) = monopoly_profit_grad(a, c, eps);
    let p: f64 = c * eps / (eps - 1.0);
    close("π", v, (p - c) * a * p.powf(-eps), TOL);
    close("∂π/∂c", dc, -a * p.powf(-eps), 1e-9);
    close("∂π/∂a", da, (p - c) * p.powf(-eps), TOL);

    let e = data(30, 0.2);
    let (v, (g, ge)) = autocovariance_checkpointed_grad(0.7, &e);
    let (v0, (g0, ge0)) = autocovariance_grad(0.7, &e);
    assert_eq!(v, v0);
    close("checkpointed ∂A/∂ρ", g, g0, TOL);
    close_all("checkpointed ∂A/∂e", &ge, &ge0);
}
