//! Local `Option`s of a float declared without their type, as Rust is usually written: the
//! best so far of a search, `let mut best = None; .. best = Some(v * t); .. best.unwrap_or(t)`;
//! the previous item, `let mut prev = None; .. if let Some(p) = prev { .. } prev = Some(v);`;
//! an `Option` chosen by a branch, `let o = if c > 0.0 { Some(2.0) } else { None };`; a
//! running maximum kept as `m = match m { None => Some(v), Some(p) => .. }`. Each was an error
//! that said to declare the type or keep a flag and a float; each is followed now, as the
//! declaration `Option<f64>` is: where a float is seen going into the `Option` or out of it as
//! its default, or where what goes in is differentiated. An `Option` of an index found by a
//! search (`best = Some(i)`) stays data, as written.
//!
//! Each gradient is checked against its closed form (stated beside the function) and against
//! central finite differences through `autodiff::check`, each value against the plain
//! function's.

#![allow(clippy::needless_range_loop)] // written as users write them

mod common;
use autodiff::differentiate;
use common::*;

const X: [f64; 6] = [0.3, 0.9, -0.2, 0.7, 1.4, -0.6];

/// The last scaled value above a threshold, or `t` where there is none: with `k` the last
/// index where `x[k]·t > 0.5`, `f = x[k]·t`, so `∂f/∂x[k] = t`, `∂f/∂t = x[k]`; with none,
/// `f = t`, `∂f/∂t = 1`.
#[differentiate]
fn last_above(x: &[f64], t: f64) -> f64 {
    let mut best = None;
    for &v in x {
        if v * t > 0.5 {
            best = Some(v * t);
        }
    }
    best.unwrap_or(t)
}

#[test]
fn best_so_far_declared_without_its_type() {
    for t in [1.0, 0.2] {
        let (v, (gx, gt)) = last_above_grad(&X, t);
        close("value", v, last_above(&X, t), TOL);
        let k = (0..X.len()).rev().find(|&i| X[i] * t > 0.5);
        let mut want = vec![0.0; X.len()];
        let want_t = match k {
            Some(k) => {
                want[k] = t;
                X[k]
            }
            None => 1.0,
        };
        close_all("gradient in x", &gx, &want);
        close("gradient in t", gt, want_t, TOL);
        fd_vec("gradient in x", |x| last_above(x, t), &X, &gx);
        fd("gradient in t", |t| last_above(&X, t), t, gt);
    }
}

/// The sum of squared steps between neighbours, through the previous item:
/// `f = Σ (x[i] − x[i−1])²`, `∂f/∂x[i] = 2(x[i] − x[i−1]) − 2(x[i+1] − x[i])` (the terms that
/// exist).
#[differentiate]
fn steps(x: &[f64]) -> f64 {
    let mut prev = None;
    let mut s = 0.0;
    for &v in x {
        if let Some(p) = prev {
            s += (v - p) * (v - p);
        }
        prev = Some(v);
    }
    s
}

#[test]
fn previous_item_declared_without_its_type() {
    let (v, g) = steps_grad(&X);
    close("value", v, steps(&X), TOL);
    let n = X.len();
    let want: Vec<f64> = (0..n)
        .map(|i| {
            let back = if i > 0 { 2.0 * (X[i] - X[i - 1]) } else { 0.0 };
            let ahead = if i + 1 < n {
                2.0 * (X[i + 1] - X[i])
            } else {
                0.0
            };
            back - ahead
        })
        .collect();
    close_all("gradient", &g, &want);
    fd_vec("gradient", steps, &X, &g);
}

/// An `Option` of a constant chosen by a branch, with a differentiated default:
/// `f = 2x` where `c > 0` (`∂f/∂x = 2`), else `x²` (`∂f/∂x = 2x`); `∂f/∂c = 0`.
#[differentiate]
fn chosen(x: f64, c: f64) -> f64 {
    let o = if c > 0.0 { Some(2.0) } else { None };
    o.unwrap_or(x) * x
}

/// The same with a differentiated payload: `f = 2x²` where `c > 0` (`∂f/∂x = 4x`), else `x²`.
#[differentiate]
fn chosen_scaled(x: f64, c: f64) -> f64 {
    let o = if c > 0.0 { Some(x * 2.0) } else { None };
    o.unwrap_or(x) * x
}

#[test]
fn option_chosen_by_a_branch() {
    for (x, c) in [(1.5, 1.0), (1.5, -1.0), (-0.7, 0.3)] {
        let (v, (gx, gc)) = chosen_grad(x, c);
        close("value", v, chosen(x, c), TOL);
        close(
            "gradient in x",
            gx,
            if c > 0.0 { 2.0 } else { 2.0 * x },
            TOL,
        );
        close("gradient in c", gc, 0.0, TOL);
        fd2("gradient", chosen, (x, c), (gx, gc));
        let (v, (gx, gc)) = chosen_scaled_grad(x, c);
        close("value", v, chosen_scaled(x, c), TOL);
        close(
            "gradient in x",
            gx,
            if c > 0.0 { 4.0 * x } else { 2.0 * x },
            TOL,
        );
        fd2("gradient", chosen_scaled, (x, c), (gx, gc));
    }
}

/// Twice the running maximum, kept in an `Option` set by a `match` on it, at `f32`:
/// `∂f/∂x[k] = 2` at the (single) maximum `k`.
#[differentiate]
fn twice_max(x: &[f32]) -> f32 {
    let mut m = None;
    for &v in x {
        m = match m {
            None => Some(v),
            Some(p) => Some(if v > p { v } else { p }),
        };
    }
    m.unwrap_or(0.0) * 2.0
}

#[test]
fn running_maximum_at_f32() {
    let x: Vec<f32> = X.iter().map(|&v| v as f32).collect();
    let (v, g) = twice_max_grad(&x);
    assert_eq!(v, twice_max(&x));
    assert_eq!(g, vec![0.0, 0.0, 0.0, 0.0, 2.0, 0.0]);
    let r = autodiff::check::gradcheck(|p: &Vec<f32>| twice_max(p), &x, &g);
    assert!(r.passed(), "{r}");
}

/// The square of the last positive element, generic: `∂f/∂x[k] = 2x[k]` at that element, and
/// `f = 1` without one.
#[differentiate]
fn last_positive_squared<T: num_traits::Float>(x: &[T]) -> T {
    let mut last = None;
    for &v in x {
        if v > T::zero() {
            last = Some(v * v);
        }
    }
    last.unwrap_or(T::one())
}

#[test]
fn generic_option_declared_without_its_type() {
    let (v, g) = last_positive_squared_grad(&X);
    close("value", v, last_positive_squared(&X), TOL);
    close_all("gradient", &g, &[0.0, 0.0, 0.0, 0.0, 2.0 * X[4], 0.0]);
    fd_vec("gradient", last_positive_squared, &X, &g);
    let (v, g) = last_positive_squared_grad(&[-0.5f64, -1.0]);
    assert_eq!((v, g), (1.0, vec![0.0, 0.0]));
}

/// An `Option` of an index found by a search stays data: `f = x[k]·t` at the last `k` with
/// `x[k] > 0.5`, `∂f/∂x[k] = t`, `∂f/∂t = x[k]`; `f = t` without one.
#[differentiate]
fn at_last_large(x: &[f64], t: f64) -> f64 {
    let mut best = None;
    for i in 0..x.len() {
        if x[i] > 0.5 {
            best = Some(i);
        }
    }
    match best {
        Some(i) => x[i] * t,
        None => t,
    }
}

#[test]
fn option_of_an_index_stays_data() {
    let (v, (gx, gt)) = at_last_large_grad(&X, 2.0);
    close("value", v, at_last_large(&X, 2.0), TOL);
    close_all("gradient in x", &gx, &[0.0, 0.0, 0.0, 0.0, 2.0, 0.0]);
    close("gradient in t", gt, X[4], TOL);
    fd_vec("gradient in x", |x| at_last_large(x, 2.0), &X, &gx);
}

/// Started at `Some(x)` and emptied past a threshold: `f = x·y` (`∂ = (y, x)`) for `y ≤ 1`,
/// else `y²` (`∂ = (0, 2y)`).
#[differentiate]
fn started_at_some(x: f64, y: f64) -> f64 {
    let mut o = Some(x);
    if y > 1.0 {
        o = None;
    }
    if let Some(p) = o { p * y } else { y * y }
}

#[test]
fn option_started_at_some() {
    for (x, y) in [(3.0, 0.5), (3.0, 2.0)] {
        let (v, g) = started_at_some_grad(x, y);
        close("value", v, started_at_some(x, y), TOL);
        let want = if y > 1.0 { (0.0, 2.0 * y) } else { (y, x) };
        close2("gradient", g, want);
        fd2("gradient", started_at_some, (x, y), g);
    }
}
