//! Programs written as Rust users write numerical code — loss functions, physics steps, small
//! models, statistics — with the idioms that were compile errors before and are followed now:
//! `match`/`if let` on `x.iter().find(..)`, slice patterns (`[first, .., last]`, `[a, rest @
//! ..]`), `z.scaled_add(a, &y)`, `a.diag()`, `a.rows().into_iter().map(..)` chains, `sort_by`
//! and `sort_by_key` (a permutation, also of an index `Vec` sorted by the values it points
//! at), and a `&mut` array parameter read whole by the pullback (`z.dot(w)`), which failed to
//! compile in the generated code. An enum of data (`Shape::Circle(r)`) is matched where it is
//! left out with `wrt`.
//!
//! Each gradient is checked against central finite differences through `autodiff::check` and,
//! where it is short to write, against the analytic one (stated beside the function); each
//! value against the plain function's.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::manual_memcpy,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::approx_constant,
    clippy::redundant_closure,
    clippy::match_like_matches_macro,
    clippy::manual_find,
    clippy::unnecessary_fold
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis};
use num_traits::Float;

mod common;
use common::*;

const XS: [f64; 6] = [0.3, -0.5, 1.2, 0.8, -0.1, 0.65];
const YS: [f64; 6] = [0.5, 0.1, -0.3, 0.9, 0.4, -0.7];

/// Each entry of `actual` is the one of `expected`, to [`TOL`].
#[track_caller]
fn close_all(what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (k, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        close(&format!("{what}[{k}]"), a, e, TOL);
    }
}

/// A gradient with respect to an array against central finite differences of `f` at `x`.
#[track_caller]
fn fd_array<D: ndarray::Dimension>(
    what: &str,
    f: impl Fn(&ndarray::Array<f64, D>) -> f64,
    x: &ndarray::Array<f64, D>,
    d: &ndarray::Array<f64, D>,
) {
    let r = gradcheck(|p: &ndarray::Array<f64, D>| f(p), x, d);
    assert!(r.passed(), "{what}: {r}");
}

fn matrix(rows: usize, cols: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_vec((rows, cols), data(rows * cols, seed)).unwrap()
}

fn vector(n: usize, seed: f64) -> Array1<f64> {
    Array1::from(data(n, seed))
}

// ---------------------------------------------------------------------------------------------
// An element's `Option` taken apart by `match`.
// ---------------------------------------------------------------------------------------------

/// `x[i]²` where `i` is in range, else 0: ∂x[i] = 2x[i].
#[differentiate]
fn element_or_zero(x: &[f64], i: usize) -> f64 {
    match x.get(i).copied() {
        Some(v) => v * v,
        None => 0.0,
    }
}

#[test]
fn match_on_get_copied_reads_the_element() {
    for i in [0, 2, 5, 6, 9] {
        let (y, g) = element_or_zero_grad(&XS, i);
        close("value", y, element_or_zero(&XS, i), TOL);
        let mut want = vec![0.0; XS.len()];
        if i < XS.len() {
            want[i] = 2.0 * XS[i];
        }
        close_all("gradient", &g, &want);
        fd_vec("element_or_zero", |x| element_or_zero(x, i), &XS, &g);
    }
}

// ---------------------------------------------------------------------------------------------
// `find` taken apart where it is found.
// ---------------------------------------------------------------------------------------------

/// The first value above `t`, through `exp`, times `t`; `t` where there is none:
/// ∂x[k] = t·exp(x[k]) at the first k with x[k] > t, ∂t = exp(x[k]) (or 2t where none).
#[differentiate]
fn first_above(x: &[f64], t: f64) -> f64 {
    let v = match x.iter().copied().find(|&v| v > t) {
        Some(v) => v.exp(),
        None => t,
    };
    v * t
}

#[test]
fn match_on_find_differentiates_the_item_found() {
    for t in [0.5, 1.0, 2.0] {
        let (y, (gx, gt)) = first_above_grad(&XS, t);
        close("value", y, first_above(&XS, t), TOL);
        let mut want = vec![0.0; XS.len()];
        let want_t = match XS.iter().position(|&v| v > t) {
            Some(k) => {
                want[k] = t * XS[k].exp();
                XS[k].exp()
            }
            None => 2.0 * t,
        };
        close_all("∂x", &gx, &want);
        close("∂t", gt, want_t, TOL);
        fd_vec("first_above x", |x| first_above(x, t), &XS, &gx);
        fd("first_above t", |t| first_above(&XS, t), t, gt);
    }
}

/// `if let` on a search by reference, the item read through the reference:
/// sin(v)·w for the first v > 0.5: ∂v = cos(v)·w, ∂w = sin(v).
#[differentiate]
fn first_big_sin(x: &[f64], w: f64) -> f64 {
    if let Some(v) = x.iter().find(|v| **v > 0.5) {
        v.sin() * w
    } else {
        w
    }
}

/// The last negative value, cubed (`rev()` and a `&v` pattern): ∂ = 3v² there.
#[differentiate]
fn last_negative_cubed(x: &[f64]) -> f64 {
    if let Some(&v) = x.iter().rev().find(|&&v| v < 0.0) {
        v * v * v
    } else {
        0.0
    }
}

#[test]
fn if_let_on_find_by_reference_and_reversed() {
    let (y, (gx, gw)) = first_big_sin_grad(&XS, 1.5);
    close("value", y, first_big_sin(&XS, 1.5), TOL);
    let mut want = vec![0.0; XS.len()];
    want[2] = XS[2].cos() * 1.5;
    close_all("∂x", &gx, &want);
    close("∂w", gw, XS[2].sin(), TOL);
    fd_vec("first_big_sin", |x| first_big_sin(x, 1.5), &XS, &gx);

    let (y, g) = last_negative_cubed_grad(&XS);
    close("value", y, last_negative_cubed(&XS), TOL);
    let mut want = vec![0.0; XS.len()];
    want[4] = 3.0 * XS[4] * XS[4];
    close_all("∂x", &g, &want);
    fd_vec("last_negative_cubed", last_negative_cubed, &XS, &g);
    let (_, g) = last_negative_cubed_grad(&[0.5, 0.25]);
    close_all("none found", &g, &[0.0, 0.0]);
}

/// For each threshold (data), the first sample above it, summed: a search in a loop whose
/// predicate reads the loop's variable.
#[differentiate]
fn first_crossings(x: &[f64], thresholds: &[usize]) -> f64 {
    let mut total = 0.0;
    for &k in thresholds {
        let t = k as f64 * 0.25;
        match x.iter().find(|&&v| v >= t) {
            Some(v) => total += v * v,
            None => total += 1.0,
        }
    }
    total
}

#[test]
fn find_in_a_loop_with_a_captured_threshold() {
    let ks = [0, 1, 2, 3, 4, 8];
    let (y, g) = first_crossings_grad(&XS, &ks);
    close("value", y, first_crossings(&XS, &ks), TOL);
    let mut want = vec![0.0; XS.len()];
    for &k in &ks {
        let t = k as f64 * 0.25;
        if let Some(p) = XS.iter().position(|&v| v >= t) {
            want[p] += 2.0 * XS[p];
        }
    }
    close_all("gradient", &g, &want);
    fd_vec("first_crossings", |x| first_crossings(x, &ks), &XS, &g);
}

// ---------------------------------------------------------------------------------------------
// Slice patterns.
// ---------------------------------------------------------------------------------------------

/// (last − first)/len, the mean slope of a series: ∂first = −1/n, ∂last = 1/n.
#[differentiate]
fn mean_slope(xs: &[f64]) -> f64 {
    if let [first, .., last] = xs[..] {
        (last - first) / xs.len() as f64
    } else {
        0.0
    }
}

/// A recursive-looking definition by length: a·(Σ rest) for two or more.
#[differentiate]
fn head_times_rest(xs: &[f64]) -> f64 {
    match xs {
        [] => 0.0,
        [a] => a * a,
        [a, rest @ ..] => a * rest.iter().sum::<f64>(),
    }
}

/// Guards on the bound names and a `&[..]` pattern.
#[differentiate]
fn guarded_pairs(xs: &[f64]) -> f64 {
    match *xs {
        [a, b, ..] if a > b => a - b,
        [.., y, z] => y * z,
        _ => 0.0,
    }
}

#[test]
fn slice_patterns_bind_elements() {
    let n = XS.len() as f64;
    let (y, g) = mean_slope_grad(&XS);
    close("value", y, mean_slope(&XS), TOL);
    let mut want = vec![0.0; XS.len()];
    want[0] = -1.0 / n;
    want[5] = 1.0 / n;
    close_all("mean_slope", &g, &want);
    fd_vec("mean_slope", mean_slope, &XS, &g);
    let (_, g) = mean_slope_grad(&[]);
    assert!(g.is_empty());

    for xs in [&XS[..], &XS[..1], &XS[..2], &[][..]] {
        let (y, g) = head_times_rest_grad(xs);
        close("value", y, head_times_rest(xs), TOL);
        let mut want = vec![0.0; xs.len()];
        match xs.len() {
            0 => {}
            1 => want[0] = 2.0 * xs[0],
            _ => {
                want[0] = xs[1..].iter().sum::<f64>();
                for w in &mut want[1..] {
                    *w = xs[0];
                }
            }
        }
        close_all("head_times_rest", &g, &want);
        if !xs.is_empty() {
            fd_vec("head_times_rest", head_times_rest, xs, &g);
        }
    }

    // XS: 0.3 > −0.5, so a − b; [0.1, 0.2, 0.9]: y·z of the last two.
    let (_, g) = guarded_pairs_grad(&XS);
    close_all("a − b", &g, &[1.0, -1.0, 0.0, 0.0, 0.0, 0.0]);
    let ys = [0.1, 0.2, 0.9];
    let (y, g) = guarded_pairs_grad(&ys);
    close("value", y, guarded_pairs(&ys), TOL);
    close_all("y·z", &g, &[0.0, 0.9, 0.2]);
    fd_vec("guarded_pairs", guarded_pairs, &ys, &g);
}

/// The discrete second difference through a slice pattern on each window:
/// Σ (a·c − b²).
#[differentiate]
fn window_pattern(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in xs.windows(3) {
        if let [a, b, c] = w {
            s += a * c - b * b;
        }
    }
    s
}

/// A pattern over an array parameter: sin(a)·c.
#[differentiate]
fn array_pattern(x: [f64; 3]) -> f64 {
    match x {
        [a, _, c] => a.sin() * c,
    }
}

#[test]
fn slice_patterns_on_windows_and_arrays() {
    let (y, g) = window_pattern_grad(&XS);
    close("value", y, window_pattern(&XS), TOL);
    let mut want = vec![0.0; XS.len()];
    for i in 0..XS.len() - 2 {
        want[i] += XS[i + 2];
        want[i + 2] += XS[i];
        want[i + 1] -= 2.0 * XS[i + 1];
    }
    close_all("window_pattern", &g, &want);
    fd_vec("window_pattern", window_pattern, &XS, &g);

    let x = [0.3, 0.2, 0.5];
    let (y, g) = array_pattern_grad(x);
    close("value", y, array_pattern(x), TOL);
    close_all("array_pattern", &g, &[x[0].cos() * x[2], 0.0, x[0].sin()]);
}

// ---------------------------------------------------------------------------------------------
// ndarray: `scaled_add`, `diag`, lanes in chains, `&mut` parameters.
// ---------------------------------------------------------------------------------------------

/// Three steps of z ← z − a·y + ½·z0²: Σz = Σz0 − 3a·Σy + 1.5·Σz0²:
/// ∂z0 = 1 + 3·z0, ∂y = −3a, ∂a = −3·Σy.
#[differentiate]
fn axpy_steps(z0: &Array1<f64>, y: &Array1<f64>, a: f64) -> f64 {
    let mut z = z0.clone();
    for _ in 0..3 {
        z.scaled_add(-a, y);
        z.scaled_add(0.5, &z0.mapv(|v| v * v));
    }
    z.sum()
}

/// On a `&mut` parameter: z ← z + a·y, then |z|²: ∂z = 2z', ∂y = 2a·z', ∂a = 2 z'·y.
#[differentiate]
fn axpy_in_place(z: &mut Array1<f64>, y: &Array1<f64>, a: f64) -> f64 {
    z.scaled_add(a, y);
    z.dot(&*z)
}

#[test]
fn scaled_add_is_an_update_in_place() {
    let (z0, y) = (vector(4, 1.0), vector(4, 2.0));
    let (v, (gz, gy, ga)) = axpy_steps_grad(&z0, &y, 0.7);
    close("value", v, axpy_steps(&z0, &y, 0.7), TOL);
    close_all(
        "∂z0",
        gz.as_slice().unwrap(),
        z0.mapv(|v| 1.0 + 3.0 * v).as_slice().unwrap(),
    );
    close_all("∂y", gy.as_slice().unwrap(), &[-2.1; 4]);
    close("∂a", ga, -3.0 * y.sum(), TOL);
    fd_array("axpy_steps", |z| axpy_steps(z, &y, 0.7), &z0, &gz);

    let mut z = z0.clone();
    let (v, (gz, gy, ga)) = axpy_in_place_grad(&mut z, &y, 0.7);
    let zn = &z0 + &(&y * 0.7);
    close_all("z changed", z.as_slice().unwrap(), zn.as_slice().unwrap());
    close("value", v, zn.dot(&zn), TOL);
    close_all(
        "∂z",
        gz.as_slice().unwrap(),
        (&zn * 2.0).as_slice().unwrap(),
    );
    close_all(
        "∂y",
        gy.as_slice().unwrap(),
        (&zn * 1.4).as_slice().unwrap(),
    );
    close("∂a", ga, 2.0 * zn.dot(&y), TOL);
}

/// tr(A) + Σ diag(A)² + tr(AᵀB): ∂A = I + 2·diag(A) on the diagonal + B.
#[differentiate]
fn diagonal_terms(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let d = a.diag();
    a.diag().sum() + d.mapv(|v| v * v).sum() + a.t().dot(b).diag().sum()
}

/// The product of the diagonal, generic: ∂A[i][i] = Π_{j≠i} A[j][j].
#[differentiate]
fn diagonal_product<T: Float>(m: &Array2<T>) -> T {
    m.diag().iter().fold(T::one(), |p, &v| p * v)
}

#[test]
fn diag_reads_the_diagonal() {
    let (a, b) = (matrix(3, 3, 1.0), matrix(3, 3, 2.0));
    let (v, (ga, gb)) = diagonal_terms_grad(&a, &b);
    close("value", v, diagonal_terms(&a, &b), TOL);
    let mut want = b.clone();
    for i in 0..3 {
        want[[i, i]] += 1.0 + 2.0 * a[[i, i]];
    }
    close_all("∂A", ga.as_slice().unwrap(), want.as_slice().unwrap());
    close_all("∂B", gb.as_slice().unwrap(), a.as_slice().unwrap());
    fd_array("diagonal_terms", |a| diagonal_terms(a, &b), &a, &ga);

    let (p, g) = diagonal_product_grad(&a);
    close("value", p, diagonal_product(&a), TOL);
    for i in 0..3 {
        let others: f64 = (0..3).filter(|&j| j != i).map(|j| a[[j, j]]).product();
        close("∂A[i][i]", g[[i, i]], others, TOL);
    }
    fd_array("diagonal_product", |a| diagonal_product(a), &a, &g);
}

/// Σ tanh(xᵢ·w) over the rows, as a chain: ∂w = Σ (1 − tanh²)·xᵢ.
#[differentiate]
fn rows_chain(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    x.rows().into_iter().map(|r| r.dot(w).tanh()).sum::<f64>()
}

/// Squared residuals of a linear model, the rows zipped with the targets.
#[differentiate]
fn rows_zip_residuals(x: &Array2<f64>, y: &Array1<f64>, w: &Array1<f64>) -> f64 {
    x.outer_iter()
        .zip(y.iter())
        .map(|(r, &t)| (r.dot(w) - t).powi(2))
        .sum::<f64>()
}

/// Σⱼ (column sum)², folded over `axis_iter(Axis(1))`: ∂X[i][j] = 2·colsumⱼ.
#[differentiate]
fn column_sums_squared(x: &Array2<f64>) -> f64 {
    x.axis_iter(Axis(1))
        .map(|c| c.sum().powi(2))
        .fold(0.0, |a, b| a + b)
}

/// The rows' scores collected into a `Vec`, then squared.
#[differentiate]
fn rows_collected(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let scores: Vec<f64> = x.rows().into_iter().map(|r| r.dot(w)).collect();
    scores.iter().map(|s| s * s).sum::<f64>()
}

#[test]
fn lanes_at_the_head_of_a_chain() {
    let (x, w, y) = (matrix(4, 3, 1.0), vector(3, 2.0), vector(4, 3.0));
    let (v, (gx, gw)) = rows_chain_grad(&x, &w);
    close("value", v, rows_chain(&x, &w), TOL);
    let mut want = Array1::<f64>::zeros(3);
    for r in x.rows() {
        let t = r.dot(&w).tanh();
        want.scaled_add(1.0 - t * t, &r);
    }
    close_all("∂w", gw.as_slice().unwrap(), want.as_slice().unwrap());
    fd_array("rows_chain x", |x| rows_chain(x, &w), &x, &gx);

    let (v, (gx, gy, gw)) = rows_zip_residuals_grad(&x, &y, &w);
    close("value", v, rows_zip_residuals(&x, &y, &w), TOL);
    let r = x.dot(&w) - &y;
    close_all(
        "∂y",
        gy.as_slice().unwrap(),
        (&r * -2.0).as_slice().unwrap(),
    );
    close_all(
        "∂w",
        gw.as_slice().unwrap(),
        (x.t().dot(&r) * 2.0).as_slice().unwrap(),
    );
    fd_array("rows_zip x", |x| rows_zip_residuals(x, &y, &w), &x, &gx);

    let (v, g) = column_sums_squared_grad(&x);
    close("value", v, column_sums_squared(&x), TOL);
    let sums = x.sum_axis(Axis(0));
    for ((_, j), &d) in g.indexed_iter() {
        close("∂X", d, 2.0 * sums[j], TOL);
    }

    let (v, (gx, gw)) = rows_collected_grad(&x, &w);
    close("value", v, rows_collected(&x, &w), TOL);
    let s = x.dot(&w);
    close_all(
        "∂w",
        gw.as_slice().unwrap(),
        (x.t().dot(&s) * 2.0).as_slice().unwrap(),
    );
    fd_array("rows_collected", |x| rows_collected(x, &w), &x, &gx);
}

/// A `&mut` parameter read whole by the pullback, before and after it changes:
/// w·z + |2z|²: ∂z = w + 8z, ∂w = z.
#[differentiate]
fn mut_param_read(z: &mut Array1<f64>, w: &Array1<f64>) -> f64 {
    let s = w.dot(z);
    *z *= 2.0;
    s + z.dot(&*z)
}

#[test]
fn a_mut_array_parameter_read_by_the_pullback() {
    let (z0, w) = (vector(3, 1.0), vector(3, 2.0));
    let mut z = z0.clone();
    let (v, (gz, gw)) = mut_param_read_grad(&mut z, &w);
    close_all(
        "z doubled",
        z.as_slice().unwrap(),
        (&z0 * 2.0).as_slice().unwrap(),
    );
    close("value", v, mut_param_read(&mut z0.clone(), &w), TOL);
    close_all(
        "∂z",
        gz.as_slice().unwrap(),
        (&w + &(&z0 * 8.0)).as_slice().unwrap(),
    );
    close_all("∂w", gw.as_slice().unwrap(), z0.as_slice().unwrap());
    fd_array(
        "mut_param_read",
        |z| mut_param_read(&mut z.clone(), &w),
        &z0,
        &gz,
    );
}

// ---------------------------------------------------------------------------------------------
// Sorting: a permutation whose adjoint goes back where each element came from.
// ---------------------------------------------------------------------------------------------

/// The median of an odd count: ∂ = 1 at the middle element.
#[differentiate]
fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The mean of the squares with the largest and the smallest left out.
#[differentiate]
fn trimmed_mean_of_squares(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().map(|t| t * t).collect();
    v.sort_unstable_by(|a, b| b.partial_cmp(a).unwrap());
    let n = v.len();
    v[1..n - 1].iter().sum::<f64>() / (n - 2) as f64
}

/// An ordered weighted average: Σ wᵢ·x₍ᵢ₎ (ascending): ∂x₍ᵢ₎ = wᵢ, ∂wᵢ = x₍ᵢ₎.
#[differentiate]
fn ordered_weighted(x: &[f64], w: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let mut s = 0.0;
    for i in 0..v.len() {
        s += w[i] * v[i];
    }
    s
}

/// An argsort of an index `Vec` (data) by the values: 2·min + max.
#[differentiate]
fn argsort_extremes(x: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].partial_cmp(&x[b]).unwrap());
    2.0 * x[idx[0]] + x[idx[idx.len() - 1]]
}

#[test]
fn sorting_routes_the_gradient_through_the_permutation() {
    let mut order: Vec<usize> = (0..XS.len()).collect();
    order.sort_by(|&a, &b| XS[a].partial_cmp(&XS[b]).unwrap());

    let odd = &XS[..5];
    let (y, g) = median_grad(odd);
    close("value", y, median(odd), TOL);
    let mut want = vec![0.0; 5];
    let mut o5: Vec<usize> = (0..5).collect();
    o5.sort_by(|&a, &b| odd[a].partial_cmp(&odd[b]).unwrap());
    want[o5[2]] = 1.0;
    close_all("median", &g, &want);
    let (y, g) = median_grad(&XS);
    close("value", y, median(&XS), TOL);
    let mut want = vec![0.0; 6];
    want[order[2]] = 0.5;
    want[order[3]] = 0.5;
    close_all("median of 6", &g, &want);
    fd_vec("median", median, &XS, &g);

    let (y, g) = trimmed_mean_of_squares_grad(&XS);
    close("value", y, trimmed_mean_of_squares(&XS), TOL);
    fd_vec("trimmed", trimmed_mean_of_squares, &XS, &g);

    let (y, (gx, gw)) = ordered_weighted_grad(&XS, &YS);
    close("value", y, ordered_weighted(&XS, &YS), TOL);
    for (i, &k) in order.iter().enumerate() {
        close("∂x", gx[k], YS[i], TOL);
        close("∂w", gw[i], XS[k], TOL);
    }
    fd_vec("ordered_weighted", |x| ordered_weighted(x, &YS), &XS, &gx);

    let (y, g) = argsort_extremes_grad(&XS);
    close("value", y, argsort_extremes(&XS), TOL);
    let mut want = vec![0.0; 6];
    want[order[0]] = 2.0;
    want[order[5]] = 1.0;
    close_all("argsort", &g, &want);
}

#[derive(Clone, Debug, Differentiable)]
struct Particle {
    x: f64,
    m: f64,
}

/// Particles sorted by position: the lightest-left mass times its position plus the
/// rightmost mass.
#[differentiate]
fn sorted_particles(ps: &[Particle]) -> f64 {
    let mut v = ps.to_vec();
    v.sort_by(|a, b| a.x.partial_cmp(&b.x).unwrap());
    v[0].m * v[0].x + v[v.len() - 1].m
}

/// Sorting a `&mut` parameter in place, descending: max − min.
#[differentiate]
fn range_sorted_in_place(x: &mut Vec<f64>) -> f64 {
    x.sort_by(|a, b| b.total_cmp(a));
    x[0] - x[x.len() - 1]
}

/// By an integer key: the two of smallest magnitude, 3·first + second.
#[differentiate]
fn smallest_magnitudes(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by_key(|a| (a.abs() * 1000.0) as i64);
    3.0 * v[0] + v[1]
}

#[test]
fn sorting_structs_parameters_and_by_key() {
    let ps = vec![
        Particle { x: 0.3, m: 2.0 },
        Particle { x: -0.4, m: 1.5 },
        Particle { x: 0.9, m: 0.7 },
    ];
    let (y, g) = sorted_particles_grad(&ps);
    close("value", y, sorted_particles(&ps), TOL);
    close_all("∂x", &[g[0].x, g[1].x, g[2].x], &[0.0, 1.5, 0.0]);
    close_all("∂m", &[g[0].m, g[1].m, g[2].m], &[0.0, -0.4, 1.0]);

    let mut x = XS.to_vec();
    let (y, g) = range_sorted_in_place_grad(&mut x);
    close("value", y, 1.2 - (-0.5), TOL);
    close_all("∂x", &g, &[0.0, -1.0, 1.0, 0.0, 0.0, 0.0]);
    let mut sorted = XS.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(x, sorted, "the parameter is sorted in place");

    let (y, g) = smallest_magnitudes_grad(&XS);
    close("value", y, smallest_magnitudes(&XS), TOL);
    close_all("∂x", &g, &[1.0, 0.0, 0.0, 0.0, 3.0, 0.0]);
    fd_vec("smallest_magnitudes", smallest_magnitudes, &XS, &g);
}

// ---------------------------------------------------------------------------------------------
// An enum of data.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Shape {
    Circle(f64),
    Rect { w: f64, h: f64 },
}

/// The shapes' areas scaled by `k`, left out of the gradient as data with `wrt(k)`:
/// ∂k = Σ areas.
#[differentiate(wrt(k))]
fn scaled_area(shapes: &[Shape], k: f64) -> f64 {
    let mut total = 0.0;
    for s in shapes {
        total += match s {
            Shape::Circle(r) => std::f64::consts::PI * r * r * k,
            Shape::Rect { w, h } => w * h * k * k,
        };
    }
    total
}

#[test]
fn an_enum_of_data_is_matched_where_it_is_left_out() {
    let shapes = [
        Shape::Circle(1.0),
        Shape::Rect { w: 2.0, h: 0.5 },
        Shape::Circle(0.5),
    ];
    let (y, g) = scaled_area_grad(&shapes, 1.5);
    close("value", y, scaled_area(&shapes, 1.5), TOL);
    let pi = std::f64::consts::PI;
    close("∂k", g, pi * 1.25 + 2.0 * 1.5, TOL);
    fd("scaled_area", |k| scaled_area(&shapes, k), 1.5, g);
}

// ---------------------------------------------------------------------------------------------
// Forward mode and Hessian-vector products through the same forms.
// ---------------------------------------------------------------------------------------------

#[test]
fn forward_mode_through_find_slices_and_sorts() {
    type F = fn(&[f64]) -> f64;
    type J = fn(&[f64], &Vec<f64>) -> (f64, f64);
    let cases: [(&str, F, J); 6] = [
        ("median", median, median_jvp),
        (
            "trimmed",
            trimmed_mean_of_squares,
            trimmed_mean_of_squares_jvp,
        ),
        ("head_times_rest", head_times_rest, head_times_rest_jvp),
        ("window_pattern", window_pattern, window_pattern_jvp),
        ("mean_slope", mean_slope, mean_slope_jvp),
        (
            "last_negative_cubed",
            last_negative_cubed,
            last_negative_cubed_jvp,
        ),
    ];
    let vjps: [fn(&[f64], f64) -> (f64, Vec<f64>); 6] = [
        |x, g| {
            let (y, p) = median_vjp(x);
            (y, p(g))
        },
        |x, g| {
            let (y, p) = trimmed_mean_of_squares_vjp(x);
            (y, p(g))
        },
        |x, g| {
            let (y, p) = head_times_rest_vjp(x);
            (y, p(g))
        },
        |x, g| {
            let (y, p) = window_pattern_vjp(x);
            (y, p(g))
        },
        |x, g| {
            let (y, p) = mean_slope_vjp(x);
            (y, p(g))
        },
        |x, g| {
            let (y, p) = last_negative_cubed_vjp(x);
            (y, p(g))
        },
    ];
    let x = XS.to_vec();
    for ((name, f, jvp), vjp) in cases.into_iter().zip(vjps) {
        forward(name).check(&x, |x| f(x), |x, v| jvp(x, v), |x, g| vjp(x, g));
    }
}

/// Σ of the squares of the two middle values after a sort, a find and a slice pattern:
/// second order through all three.
#[differentiate(hessian)]
fn second_order_forms(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().map(|t| t * t * t).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let found = match x.iter().copied().find(|&t| t > 1.0) {
        Some(t) => t * t,
        None => 0.0,
    };
    let ends = if let [a, .., b] = x[..] { a * b } else { 0.0 };
    v[2] * v[3] + found + ends
}

#[test]
fn hessian_vector_products_through_find_slices_and_sorts() {
    let x = XS.to_vec();
    let v = data(6, 4.0);
    let (y, g, hv) = second_order_forms_hvp(&x, &v);
    close("value", y, second_order_forms(&x), TOL);
    fd_vec("gradient", second_order_forms, &x, &g);
    // The gradient's central difference along v.
    let h = 1e-5;
    let at = |s: f64| {
        let p: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a + s * b).collect();
        second_order_forms_grad(&p).1
    };
    let (gp, gm) = (at(h), at(-h));
    for k in 0..x.len() {
        close("H·v", hv[k], (gp[k] - gm[k]) / (2.0 * h), 1e-6);
    }
}
