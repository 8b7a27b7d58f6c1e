//! Programs written as Rust users write numerical code — loss functions, physics steps, small
//! models, statistics — with the idioms that were compile errors before and are followed now:
//! `match`/`if let` on `x.iter().find(..)`, slice patterns (`[first, .., last]`, `[a, rest @
//! ..]`), `z.scaled_add(a, &y)`, `a.diag()`, `a.rows().into_iter().map(..)` chains, `sort_by`
//! and `sort_by_key` (a permutation, also of an index `Vec` sorted by the values it points
//! at), and a `&mut` array parameter read whole by the pullback (`z.dot(w)`), which failed to
//! compile in the generated code. An enum of data (`Shape::Circle(r)`) is matched where it is
//! left out with `wrt`.
//!
//! Then numerical programs as users write them (losses, statistics, physics steps, small
//! models, iterative methods, generic floats), with the reproducers of what they found: a
//! helper declared in the body without `#[differentiate]` (now an error that names the
//! attribute, rustc's "cannot find function" before), `std::mem::swap` of two buffers, a
//! method of a struct parameter left out with `wrt` given a differentiated argument
//! (`spring.energy(d)`), `let (i, &best) = ..`, `Array2::from_shape_vec(..).unwrap()` (each
//! rejected before), and a `Vec` of `Vec`s of differentiated values (rustc errors inside the
//! generated code before, an error that says what to write now).
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
    clippy::unnecessary_fold,
    clippy::type_complexity
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate, nn};
use ndarray::{Array1, Array2, Axis, s};
use num_traits::Float;

mod common;
use common::*;

const XS: [f64; 6] = [0.3, -0.5, 1.2, 0.8, -0.1, 0.65];
const YS: [f64; 6] = [0.5, 0.1, -0.3, 0.9, 0.4, -0.7];

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

    // No column, so no diagonal: nothing to differentiate, and no panic.
    let empty = Array2::<f64>::zeros((3, 0));
    let (v, (ga, _)) = diagonal_terms_grad(&empty, &Array2::zeros((3, 0)));
    close("empty value", v, 0.0, 0.0);
    assert_eq!(ga.dim(), (3, 0));
    let wide = matrix(2, 4, 3.0);
    let (v, g) = diagonal_product_grad(&wide);
    close("wide value", v, wide[[0, 0]] * wide[[1, 1]], TOL);
    close("wide ∂[0][0]", g[[0, 0]], wide[[1, 1]], TOL);
    close("wide ∂[0][1]", g[[0, 1]], 0.0, 0.0);
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

/// Elements put in buckets of width ½ by an unstable sort by key, then weighted by their
/// position: Σₖ (k + 1)·v[k]. Elements of one bucket tie, and an unstable sort may leave ties
/// in any order: the positions were found by a stable sort, which ordered the ties of more than
/// 20 elements otherwise than the function as written, so the value and the gradient were
/// those of another order.
#[differentiate]
fn bucketed_unstable(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_unstable_by_key(|a| (a * 2.0).floor() as i64);
    v.iter()
        .enumerate()
        .map(|(k, a)| (k as f64 + 1.0) * a)
        .sum()
}

/// The same with the comparison written out, on particles compared by their bucket: the
/// masses weighted by position, Σₖ (k + 1)·ps[k].m + ps[k].x.
#[differentiate]
fn particles_bucketed_unstable(ps: &[Particle]) -> f64 {
    let mut v = ps.to_vec();
    v.sort_unstable_by(|a, b| (a.x * 2.0).floor().total_cmp(&(b.x * 2.0).floor()));
    let mut s = 0.0;
    for (k, p) in v.iter().enumerate() {
        s += (k as f64 + 1.0) * p.m + p.x;
    }
    s
}

#[test]
fn unstable_sorts_order_ties_as_written() {
    let x: Vec<f64> = (0..64)
        .map(|k| 2.0 * ((k * 37 % 64) as f64 / 64.0) - 1.0 + 1e-3 * k as f64)
        .collect();
    let (y, g) = bucketed_unstable_grad(&x);
    assert_eq!(y, bucketed_unstable(&x));
    // ∂xᵢ = 1 + the position at which the sort as written puts xᵢ (the elements are distinct).
    let mut sorted = x.clone();
    sorted.sort_unstable_by_key(|a| (a * 2.0).floor() as i64);
    let mut want = vec![0.0; x.len()];
    for (k, s) in sorted.iter().enumerate() {
        want[x.iter().position(|a| a == s).unwrap()] = k as f64 + 1.0;
    }
    close_all("bucketed", &g, &want);

    let ps: Vec<Particle> = x
        .iter()
        .zip(x.iter().rev())
        .map(|(&x, &m)| Particle { x, m })
        .collect();
    let (y, g) = particles_bucketed_unstable_grad(&ps);
    assert_eq!(y, particles_bucketed_unstable(&ps));
    let mut sorted = ps.clone();
    sorted.sort_unstable_by(|a, b| (a.x * 2.0).floor().total_cmp(&(b.x * 2.0).floor()));
    for (k, s) in sorted.iter().enumerate() {
        let i = ps.iter().position(|p| p.x == s.x).unwrap();
        close("∂m", g[i].m, k as f64 + 1.0, TOL);
        close("∂x", g[i].x, 1.0, TOL);
    }
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

/// A sort in a branch: the sorted `Vec` is the branch's new version of `v` (it was left out of
/// what the branch assigns: rustc's "borrow of moved value" in the generated code).
#[differentiate]
fn sorted_if(x: &[f64], flag: bool) -> f64 {
    let mut v = x.to_vec();
    if flag {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    v[0] * 2.0 + v[1]
}

/// A sort in a loop that changes the `Vec` it carries: each iteration's permutation.
#[differentiate]
fn sorted_in_loop(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let mut s = 0.0;
    for k in 0..3 {
        v[k] += 1.0;
        v.sort_by(|a, b| b.partial_cmp(a).unwrap());
        s += v[0] * (k as f64 + 1.0);
    }
    s
}

#[test]
fn sorting_in_branches_and_loops() {
    let x = [0.3, 0.9, -1.4, 0.2];
    for flag in [true, false] {
        let (y, g) = sorted_if_grad(&x, flag);
        close("value", y, sorted_if(&x, flag), TOL);
        let want = if flag {
            [0.0, 0.0, 2.0, 1.0]
        } else {
            [2.0, 1.0, 0.0, 0.0]
        };
        close_all("sorted_if", &g, &want);
    }
    let (y, g) = sorted_in_loop_grad(&x);
    close("value", y, sorted_in_loop(&x), TOL);
    // Step 1 leads with x₀ + 1 (weight 1); steps 2 and 3 with x₁ + 1 (weights 2 and 3).
    close_all("sorted_in_loop", &g, &[1.0, 5.0, 0.0, 0.0]);
    fd_vec("sorted_in_loop", sorted_in_loop, &x, &g);
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

// ---------------------------------------------------------------------------------------------
// Losses and statistics.
// ---------------------------------------------------------------------------------------------

/// The Huber loss of the residuals of a line, mean over the points.
#[differentiate(wrt(a, b))]
fn huber_line(a: f64, b: f64, xs: &[f64], ys: &[f64], delta: f64) -> f64 {
    let huber = |r: f64| {
        if r.abs() <= delta {
            0.5 * r * r
        } else {
            delta * (r.abs() - 0.5 * delta)
        }
    };
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| huber(a * x + b - y))
        .sum::<f64>()
        / xs.len() as f64
}

#[test]
fn huber_loss_of_a_line() {
    let (a, b) = (0.8, -0.2);
    let (v, g) = huber_line_grad(a, b, &XS, &YS, 0.5);
    close("value", v, huber_line(a, b, &XS, &YS, 0.5), TOL);
    // ∂a = mean ψ(r)·x, ∂b = mean ψ(r), ψ(r) = clamp(r, −δ, δ).
    let (mut da, mut db) = (0.0, 0.0);
    for (&x, &y) in XS.iter().zip(&YS) {
        let psi = (a * x + b - y).clamp(-0.5, 0.5);
        da += psi * x / 6.0;
        db += psi / 6.0;
    }
    close2("gradient", g, (da, db));
    fd2("huber", |a, b| huber_line(a, b, &XS, &YS, 0.5), (a, b), g);
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The negative log-likelihood of logistic regression with an L2 penalty on `w`.
#[differentiate(wrt(w, b))]
fn logistic_nll(w: &[f64], b: f64, xs: &[Vec<f64>], labels: &[bool], lambda: f64) -> f64 {
    let mut nll = 0.0;
    for (x, &y) in xs.iter().zip(labels) {
        let z: f64 = w.iter().zip(x).map(|(wi, xi)| wi * xi).sum::<f64>() + b;
        // log(1 + e^{−z}) for y, log(1 + e^{z}) otherwise, written stably.
        let s = if y { -z } else { z };
        nll += s.max(0.0) + (-s.abs()).exp().ln_1p();
    }
    nll + 0.5 * lambda * w.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn logistic_regression_nll() {
    let xs: Vec<Vec<f64>> = (0..8).map(|i| data(3, i as f64)).collect();
    let labels: Vec<bool> = (0..8).map(|i| i % 3 != 0).collect();
    let w = vec![0.4, -0.3, 0.2];
    let (v, (gw, gb)) = logistic_nll_grad(&w, 0.1, &xs, &labels, 0.01);
    close("value", v, logistic_nll(&w, 0.1, &xs, &labels, 0.01), TOL);
    // ∂w = Σ (σ(z) − y)·x + λw, ∂b = Σ (σ(z) − y).
    let mut want = w.iter().map(|v| 0.01 * v).collect::<Vec<_>>();
    let mut want_b = 0.0;
    for (x, &y) in xs.iter().zip(&labels) {
        let z: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + 0.1;
        let r = sigmoid(z) - if y { 1.0 } else { 0.0 };
        for k in 0..3 {
            want[k] += r * x[k];
        }
        want_b += r;
    }
    for k in 0..3 {
        close("∂w", gw[k], want[k], 1e-12);
    }
    close("∂b", gb, want_b, 1e-12);
    fd_vec(
        "logistic w",
        |w| logistic_nll(w, 0.1, &xs, &labels, 0.01),
        &w,
        &gw,
    );
}

/// Softmax cross-entropy of one example from scratch: the max subtracted, the exponentials
/// collected into a `Vec`, normalised.
#[differentiate]
fn softmax_xent(logits: &[f64], label: usize) -> f64 {
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = logits.iter().map(|&z| (z - m).exp()).collect();
    let total: f64 = exps.iter().sum();
    -(exps[label] / total).ln()
}

#[test]
fn softmax_cross_entropy_from_scratch() {
    for label in [0, 2, 5] {
        let (v, g) = softmax_xent_grad(&XS, label);
        close("value", v, softmax_xent(&XS, label), TOL);
        // ∂z = softmax(z) − onehot(label).
        let e: Vec<f64> = XS.iter().map(|z| z.exp()).collect();
        let s: f64 = e.iter().sum();
        for k in 0..6 {
            let want = e[k] / s - if k == label { 1.0 } else { 0.0 };
            close("∂z", g[k], want, 1e-12);
        }
        fd_vec("softmax_xent", |z| softmax_xent(z, label), &XS, &g);
    }
}

/// The sample variance by two passes.
#[differentiate]
fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// Pearson's correlation of two series.
#[differentiate]
fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    let mut syy = 0.0;
    for (a, b) in x.iter().zip(y.iter()) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    sxy / (sxx * syy).sqrt()
}

#[test]
fn variance_and_correlation() {
    let (v, g) = variance_grad(&XS);
    close("value", v, variance(&XS), TOL);
    // ∂xᵢ = 2(xᵢ − x̄)/(n − 1).
    let m = XS.iter().sum::<f64>() / 6.0;
    let want: Vec<f64> = XS.iter().map(|x| 2.0 * (x - m) / 5.0).collect();
    for k in 0..6 {
        close("∂x", g[k], want[k], 1e-12);
    }
    let (r, (gx, gy)) = pearson_grad(&XS, &YS);
    close("value", r, pearson(&XS, &YS), TOL);
    fd_vec("pearson x", |x| pearson(x, &YS), &XS, &gx);
    fd_vec("pearson y", |y| pearson(&XS, y), &YS, &gy);
    // Correlation is invariant under shifts of x: Σ ∂xᵢ = 0.
    close("Σ∂x", gx.iter().sum::<f64>(), 0.0, 1e-12);
}

/// Weighted least squares, generic over the float type.
#[differentiate(wrt(a, b))]
fn weighted_ls<T: Float>(a: T, b: T, xs: &[T], ys: &[T], ws: &[T]) -> T {
    let mut total = T::zero();
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        total = total + ws[i] * r * r;
    }
    total
}

#[test]
fn weighted_least_squares_generic() {
    let ws = [1.0, 0.5, 2.0, 1.5, 0.25, 1.0];
    let (v, g) = weighted_ls_grad(0.4, 0.1, &XS, &YS, &ws);
    close("value", v, weighted_ls(0.4, 0.1, &XS, &YS, &ws), TOL);
    let (mut da, mut db) = (0.0, 0.0);
    for i in 0..6 {
        let r = 0.4 * XS[i] + 0.1 - YS[i];
        da += 2.0 * ws[i] * r * XS[i];
        db += 2.0 * ws[i] * r;
    }
    close2("gradient", g, (da, db));
    let xs32: Vec<f32> = XS.iter().map(|&v| v as f32).collect();
    let ys32: Vec<f32> = YS.iter().map(|&v| v as f32).collect();
    let ws32: Vec<f32> = ws.iter().map(|&v| v as f32).collect();
    let (_, g32) = weighted_ls_grad(0.4f32, 0.1f32, &xs32, &ys32, &ws32);
    close("f32 ∂a", g32.0 as f64, da, 1e-5);
}

/// A polynomial by Horner's rule from the highest coefficient, through `rev().fold`.
#[differentiate]
fn horner(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

#[test]
fn horner_polynomial() {
    let c = [1.0, -2.0, 0.5, 3.0];
    let x = 0.7;
    let (v, (gc, gx)) = horner_grad(&c, x);
    close("value", v, horner(&c, x), TOL);
    // ∂cₖ = xᵏ, ∂x = Σ k·cₖ·xᵏ⁻¹.
    for k in 0..4 {
        close("∂c", gc[k], x.powi(k as i32), 1e-12);
    }
    close("∂x", gx, -2.0 + 2.0 * 0.5 * x + 3.0 * 3.0 * x * x, 1e-12);
}

/// Chebyshev polynomials by their recurrence, pushed into a `Vec`, then a weighted sum.
#[differentiate(wrt(x, w))]
fn chebyshev_series(x: f64, w: &[f64]) -> f64 {
    let mut t = Vec::with_capacity(w.len());
    t.push(1.0);
    t.push(x);
    for k in 2..w.len() {
        let next = 2.0 * x * t[k - 1] - t[k - 2];
        t.push(next);
    }
    w.iter().zip(&t).map(|(a, b)| a * b).sum()
}

#[test]
fn chebyshev_recurrence() {
    let w = [0.5, -0.2, 0.3, 0.1, -0.4];
    let x = 0.35;
    let (v, (gx, gw)) = chebyshev_series_grad(x, &w);
    close("value", v, chebyshev_series(x, &w), TOL);
    // Tₖ(cos θ) = cos kθ: ∂wₖ = cos(kθ), ∂x = Σ wₖ·k·sin(kθ)/sin θ.
    let th = x.acos();
    let mut want = 0.0;
    for k in 0..5 {
        close("∂w", gw[k], (k as f64 * th).cos(), 1e-12);
        want += w[k] * k as f64 * (k as f64 * th).sin() / th.sin();
    }
    close("∂x", gx, want, 1e-12);
}

/// Cumulative sums built with `push`, then their squares summed.
#[differentiate]
fn cumsum_energy(x: &[f64]) -> f64 {
    let mut c = Vec::new();
    let mut run = 0.0;
    for &v in x {
        run += v;
        c.push(run);
    }
    c.iter().map(|s| s * s).sum()
}

#[test]
fn cumulative_sums() {
    let (v, g) = cumsum_energy_grad(&XS);
    close("value", v, cumsum_energy(&XS), TOL);
    // ∂xᵢ = 2 Σ_{k ≥ i} Sₖ.
    let mut s = Vec::new();
    let mut run = 0.0;
    for &v in &XS {
        run += v;
        s.push(run);
    }
    for i in 0..6 {
        close("∂x", g[i], 2.0 * s[i..].iter().sum::<f64>(), 1e-12);
    }
}

/// A moving average over windows, then the squared distance to a target.
#[differentiate(wrt(x))]
fn moving_average_fit(x: &[f64], target: &[f64], k: usize) -> f64 {
    x.windows(k)
        .zip(target)
        .map(|(w, t)| (w.iter().sum::<f64>() / k as f64 - t).powi(2))
        .sum()
}

#[test]
fn moving_average_windows() {
    let target = [0.1, 0.2, 0.3, 0.4];
    let (v, g) = moving_average_fit_grad(&XS, &target, 3);
    close("value", v, moving_average_fit(&XS, &target, 3), TOL);
    let mut want = vec![0.0; 6];
    for j in 0..4 {
        let r = XS[j..j + 3].iter().sum::<f64>() / 3.0 - target[j];
        for i in j..j + 3 {
            want[i] += 2.0 * r / 3.0;
        }
    }
    for i in 0..6 {
        close("∂x", g[i], want[i], 1e-12);
    }
}

/// The pinball (quantile) loss of predictions: a branch on the residual's sign.
#[differentiate(wrt(pred))]
fn pinball(pred: &[f64], y: &[f64], tau: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..pred.len() {
        let r = y[i] - pred[i];
        s += if r >= 0.0 { tau * r } else { (tau - 1.0) * r };
    }
    s / pred.len() as f64
}

/// The hinge loss of a linear classifier.
#[differentiate(wrt(w))]
fn hinge(w: &[f64], xs: &[f64], labels: &[f64]) -> f64 {
    xs.chunks(2)
        .zip(labels)
        .map(|(x, &y)| (1.0 - y * (w[0] * x[0] + w[1] * x[1])).max(0.0))
        .sum::<f64>()
}

#[test]
fn pinball_and_hinge() {
    let (v, g) = pinball_grad(&XS, &YS, 0.3);
    close("value", v, pinball(&XS, &YS, 0.3), TOL);
    for i in 0..6 {
        let want = if YS[i] - XS[i] >= 0.0 { -0.3 } else { 0.7 } / 6.0;
        close("∂pred", g[i], want, 1e-12);
    }
    let labels = [1.0, -1.0, 1.0];
    let w = [0.7, -0.4];
    let (v, g) = hinge_grad(&w, &XS, &labels);
    close("value", v, hinge(&w, &XS, &labels), TOL);
    let mut want = [0.0, 0.0];
    for (x, &y) in XS.chunks(2).zip(&labels) {
        if 1.0 - y * (w[0] * x[0] + w[1] * x[1]) > 0.0 {
            want[0] -= y * x[0];
            want[1] -= y * x[1];
        }
    }
    close("∂w0", g[0], want[0], 1e-12);
    close("∂w1", g[1], want[1], 1e-12);
}

/// Total variation of a signal plus a data term (away from ties, where it is smooth).
#[differentiate(wrt(u))]
fn total_variation(u: &[f64], f: &[f64], lambda: f64) -> f64 {
    let tv: f64 = u.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
    let data: f64 = u.iter().zip(f).map(|(a, b)| 0.5 * (a - b).powi(2)).sum();
    data + lambda * tv
}

#[test]
fn total_variation_denoising_objective() {
    let (v, g) = total_variation_grad(&XS, &YS, 0.2);
    close("value", v, total_variation(&XS, &YS, 0.2), TOL);
    fd_vec("tv", |u| total_variation(u, &YS, 0.2), &XS, &g);
}

/// The KL divergence between the softmaxes of two logit vectors.
#[differentiate]
fn kl_softmax(p_logits: &[f64], q_logits: &[f64]) -> f64 {
    #[differentiate]
    fn log_softmax(z: &[f64]) -> Vec<f64> {
        let m = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        z.iter().map(|v| v - lse).collect()
    }
    let lp = log_softmax(p_logits);
    let lq = log_softmax(q_logits);
    let mut kl = 0.0;
    for i in 0..lp.len() {
        kl += lp[i].exp() * (lp[i] - lq[i]);
    }
    kl
}

#[test]
fn kl_divergence_of_softmaxes() {
    let (v, (gp, gq)) = kl_softmax_grad(&XS, &YS);
    close("value", v, kl_softmax(&XS, &YS), TOL);
    fd_vec("kl p", |p| kl_softmax(p, &YS), &XS, &gp);
    // ∂q = softmax(q) − softmax(p).
    let sp: Vec<f64> = XS.iter().map(|v| v.exp()).collect();
    let sq: Vec<f64> = YS.iter().map(|v| v.exp()).collect();
    let (tp, tq) = (sp.iter().sum::<f64>(), sq.iter().sum::<f64>());
    for i in 0..6 {
        close("∂q", gq[i], sq[i] / tq - sp[i] / tp, 1e-12);
    }
}

/// A smooth maximum with a temperature, generic.
#[differentiate(wrt(x))]
fn smooth_max<T: Float>(x: &[T], temperature: T) -> T {
    let m = x.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
    let s = x
        .iter()
        .map(|&v| ((v - m) / temperature).exp())
        .fold(T::zero(), |a, b| a + b);
    m + temperature * s.ln()
}

#[test]
fn smooth_maximum() {
    let (v, g) = smooth_max_grad(&XS, 0.5);
    close("value", v, smooth_max(&XS, 0.5), TOL);
    // ∂ = softmax(x/τ), which sums to 1.
    let e: Vec<f64> = XS.iter().map(|v| (v / 0.5).exp()).collect();
    let s: f64 = e.iter().sum();
    for i in 0..6 {
        close("∂x", g[i], e[i] / s, 1e-12);
    }
}

/// AR(1) negative log-likelihood (unit noise) over consecutive pairs.
#[differentiate(wrt(phi, c))]
fn ar1_nll(phi: f64, c: f64, series: &[f64]) -> f64 {
    series
        .windows(2)
        .map(|w| {
            let e = w[1] - c - phi * w[0];
            0.5 * e * e
        })
        .sum()
}

/// An exponential moving average by `fold`, its last value squared.
#[differentiate(wrt(alpha, x))]
fn ema_last(alpha: f64, x: &[f64]) -> f64 {
    let e = x[1..]
        .iter()
        .fold(x[0], |s, &v| alpha * v + (1.0 - alpha) * s);
    e * e
}

#[test]
fn time_series_models() {
    let (v, g) = ar1_nll_grad(0.6, 0.1, &XS);
    close("value", v, ar1_nll(0.6, 0.1, &XS), TOL);
    let (mut dphi, mut dc) = (0.0, 0.0);
    for w in XS.windows(2) {
        let e = w[1] - 0.1 - 0.6 * w[0];
        dphi -= e * w[0];
        dc -= e;
    }
    close2("gradient", g, (dphi, dc));

    let (v, (ga, gx)) = ema_last_grad(0.3, &XS);
    close("value", v, ema_last(0.3, &XS), TOL);
    fd("ema alpha", |a| ema_last(a, &XS), 0.3, ga);
    fd_vec("ema x", |x| ema_last(0.3, x), &XS, &gx);
}

/// Poisson regression: Σ exp(η) − y·η with η = a·x + b.
#[differentiate(wrt(a, b))]
fn poisson_nll(a: f64, b: f64, xs: &[f64], counts: &[u32]) -> f64 {
    let mut s = 0.0;
    for (x, &k) in xs.iter().zip(counts) {
        let eta = a * x + b;
        s += eta.exp() - k as f64 * eta;
    }
    s
}

#[test]
fn poisson_regression() {
    let counts = [1, 0, 4, 2, 1, 3];
    let (v, g) = poisson_nll_grad(0.5, 0.2, &XS, &counts);
    close("value", v, poisson_nll(0.5, 0.2, &XS, &counts), TOL);
    let (mut da, mut db) = (0.0, 0.0);
    for (x, &k) in XS.iter().zip(&counts) {
        let r = (0.5 * x + 0.2).exp() - k as f64;
        da += r * x;
        db += r;
    }
    close2("gradient", g, (da, db));
}

// ---------------------------------------------------------------------------------------------
// Physics steps.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
struct Vec2 {
    x: f64,
    y: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Ball {
    pos: Vec2,
    vel: Vec2,
}

/// A projectile with quadratic drag, Euler steps until it falls below the ground (at most
/// 200): the horizontal distance reached, as a function of the launch speed and the drag.
#[differentiate(wrt(speed, drag))]
fn projectile_range(speed: f64, angle: f64, drag: f64) -> f64 {
    let dt = 0.01;
    let g = 9.81;
    let mut b = Ball {
        pos: Vec2 { x: 0.0, y: 0.0 },
        vel: Vec2 {
            x: speed * angle.cos(),
            y: speed * angle.sin(),
        },
    };
    for _ in 0..200 {
        let v = (b.vel.x * b.vel.x + b.vel.y * b.vel.y).sqrt();
        b.vel.x -= drag * v * b.vel.x * dt;
        b.vel.y -= (g + drag * v * b.vel.y) * dt;
        b.pos.x += b.vel.x * dt;
        b.pos.y += b.vel.y * dt;
        if b.pos.y < 0.0 {
            break;
        }
    }
    b.pos.x
}

#[test]
fn projectile_with_drag() {
    let (v, g) = projectile_range_grad(5.0, 0.7, 0.05);
    close("value", v, projectile_range(5.0, 0.7, 0.05), TOL);
    // The step count is fixed near the point, so the range is smooth there.
    fd2(
        "projectile",
        |s, d| projectile_range(s, 0.7, d),
        (5.0, 0.05),
        g,
    );
}

/// One RK4 step of the harmonic oscillator, as a helper returning a tuple.
#[differentiate]
fn rk4_step(x: f64, v: f64, w2: f64, h: f64) -> (f64, f64) {
    let f = |x: f64, v: f64| (v, -w2 * x);
    let (k1x, k1v) = f(x, v);
    let (k2x, k2v) = f(x + 0.5 * h * k1x, v + 0.5 * h * k1v);
    let (k3x, k3v) = f(x + 0.5 * h * k2x, v + 0.5 * h * k2v);
    let (k4x, k4v) = f(x + h * k3x, v + h * k3v);
    (
        x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x),
        v + h / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v),
    )
}

/// The energy after 50 RK4 steps, as a function of ω².
#[differentiate(wrt(w2))]
fn oscillator_energy(w2: f64, x0: f64) -> f64 {
    let (mut x, mut v) = (x0, 0.0);
    for _ in 0..50 {
        let (nx, nv) = rk4_step(x, v, w2, 0.05);
        x = nx;
        v = nv;
    }
    0.5 * v * v + 0.5 * w2 * x * x
}

#[test]
fn rk4_oscillator() {
    let (e, g) = oscillator_energy_grad(2.0, 1.0);
    close("value", e, oscillator_energy(2.0, 1.0), TOL);
    fd("rk4", |w| oscillator_energy(w, 1.0), 2.0, g);
    // RK4 nearly conserves the energy ½ω²x₀²: ∂/∂ω² ≈ ½x₀².
    close("≈ ½x₀²", g, 0.5, 1e-3);
}

#[derive(Clone, Debug, Differentiable)]
struct Body {
    x: f64,
    y: f64,
    vx: f64,
    vy: f64,
    m: f64,
}

/// Leapfrog steps of bodies under gravity (softened), a `Vec` of structs changed element by
/// element: the final kinetic energy.
#[differentiate]
fn nbody_kinetic(bodies: &[Body]) -> f64 {
    let mut bs = bodies.to_vec();
    let dt = 0.01;
    for _ in 0..20 {
        let n = bs.len();
        let mut ax = vec![0.0; n];
        let mut ay = vec![0.0; n];
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let dx = bs[j].x - bs[i].x;
                    let dy = bs[j].y - bs[i].y;
                    let r2 = dx * dx + dy * dy + 0.01;
                    let inv = bs[j].m / (r2 * r2.sqrt());
                    ax[i] += dx * inv;
                    ay[i] += dy * inv;
                }
            }
        }
        for i in 0..n {
            bs[i].vx += ax[i] * dt;
            bs[i].vy += ay[i] * dt;
            bs[i].x += bs[i].vx * dt;
            bs[i].y += bs[i].vy * dt;
        }
    }
    bs.iter()
        .map(|b| 0.5 * b.m * (b.vx * b.vx + b.vy * b.vy))
        .sum()
}

#[test]
fn nbody_leapfrog() {
    let bodies = vec![
        Body {
            x: 0.0,
            y: 0.0,
            vx: 0.0,
            vy: 0.1,
            m: 1.0,
        },
        Body {
            x: 1.0,
            y: 0.0,
            vx: 0.0,
            vy: 0.8,
            m: 0.1,
        },
        Body {
            x: -0.5,
            y: 0.7,
            vx: 0.3,
            vy: 0.0,
            m: 0.2,
        },
    ];
    let (e, g) = nbody_kinetic_grad(&bodies);
    close("value", e, nbody_kinetic(&bodies), TOL);
    let r = autodiff::check::gradcheck(|b: &Vec<Body>| nbody_kinetic(b), &bodies, &g);
    assert!(r.passed(), "{r}");
}

/// A pendulum integrated by semi-implicit Euler in a `while` loop over time.
#[differentiate(wrt(theta0, damping))]
fn pendulum_angle(theta0: f64, damping: f64, t_end: f64) -> f64 {
    let (mut th, mut om) = (theta0, 0.0);
    let mut t = 0.0;
    let dt = 0.01;
    while t < t_end {
        om += (-9.81 * th.sin() - damping * om) * dt;
        th += om * dt;
        t += dt;
    }
    th
}

#[test]
fn pendulum_while_loop() {
    let (v, g) = pendulum_angle_grad(0.4, 0.3, 1.0);
    close("value", v, pendulum_angle(0.4, 0.3, 1.0), TOL);
    fd2("pendulum", |a, b| pendulum_angle(a, b, 1.0), (0.4, 0.3), g);
}

/// Explicit heat-equation steps with two buffers swapped by `std::mem::swap`.
#[differentiate(wrt(u0, kappa))]
fn heat_swap(u0: &[f64], kappa: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..steps {
        for i in 1..n - 1 {
            next[i] = u[i] + kappa * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        }
        next[0] = u[0];
        next[n - 1] = u[n - 1];
        std::mem::swap(&mut u, &mut next);
    }
    u.iter().map(|v| v * v).sum()
}

/// The same with the buffer copied back (`copy_from_slice`).
#[differentiate(wrt(u0, kappa))]
fn heat_copy(u0: &[f64], kappa: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..steps {
        for i in 1..n - 1 {
            next[i] = u[i] + kappa * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        }
        next[0] = u[0];
        next[n - 1] = u[n - 1];
        u.copy_from_slice(&next);
    }
    u.iter().map(|v| v * v).sum()
}

#[test]
fn heat_equation_buffers() {
    let (v, (gu, gk)) = heat_copy_grad(&XS, 0.2, 5);
    close("value", v, heat_copy(&XS, 0.2, 5), TOL);
    fd_vec("heat u0", |u| heat_copy(u, 0.2, 5), &XS, &gu);
    fd("heat kappa", |k| heat_copy(&XS, k, 5), 0.2, gk);
    let (v2, (gu2, gk2)) = heat_swap_grad(&XS, 0.2, 5);
    close("swap value", v2, v, TOL);
    close_all("swap ∂u0", &gu2, &gu);
    close("swap ∂kappa", gk2, gk, 1e-12);
}

/// A chain of springs: the potential of the stretched links, through a struct's method.
#[derive(Clone, Debug, Differentiable)]
struct Spring {
    k: f64,
    rest: f64,
}

impl Spring {
    #[differentiate]
    fn energy(&self, stretch: f64) -> f64 {
        0.5 * self.k * (stretch - self.rest).powi(2)
    }
}

#[differentiate(wrt(pos))]
fn chain_energy(pos: &[f64], spring: &Spring) -> f64 {
    pos.windows(2).map(|w| spring.energy(w[1] - w[0])).sum()
}

#[test]
fn spring_chain() {
    let pos = [0.0, 1.1, 1.9, 3.2];
    let s = Spring { k: 3.0, rest: 1.0 };
    let (v, g) = chain_energy_grad(&pos, &s);
    close("value", v, chain_energy(&pos, &s), TOL);
    // ∂pᵢ = k(dᵢ − r) − k(dᵢ₊₁ − r) with dᵢ = pᵢ − pᵢ₋₁.
    let f = |d: f64| 3.0 * (d - 1.0);
    let want = [-f(1.1), f(1.1) - f(0.8), f(0.8) - f(1.3), f(1.3)];
    close_all("gradient", &g, &want);
}

/// The area of a polygon by the shoelace formula, the next vertex by `(i + 1) % n`.
#[differentiate]
fn shoelace(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len();
    let mut a = 0.0;
    for i in 0..n {
        let j = (i + 1) % n;
        a += xs[i] * ys[j] - xs[j] * ys[i];
    }
    0.5 * a.abs()
}

/// The length of a polyline through `hypot` over zipped windows.
#[differentiate]
fn polyline_length(xs: &[f64], ys: &[f64]) -> f64 {
    xs.windows(2)
        .zip(ys.windows(2))
        .map(|(a, b)| (a[1] - a[0]).hypot(b[1] - b[0]))
        .sum()
}

#[test]
fn polygon_geometry() {
    let xs = [0.0, 2.0, 2.5, 0.5];
    let ys = [0.0, 0.2, 1.5, 1.8];
    let (a, (gx, gy)) = shoelace_grad(&xs, &ys);
    close("value", a, shoelace(&xs, &ys), TOL);
    // Counter-clockwise: ∂xᵢ = ½(y_{i+1} − y_{i−1}), ∂yᵢ = ½(x_{i−1} − x_{i+1}).
    for i in 0..4 {
        let (p, q) = ((i + 3) % 4, (i + 1) % 4);
        close("∂x", gx[i], 0.5 * (ys[q] - ys[p]), 1e-12);
        close("∂y", gy[i], 0.5 * (xs[p] - xs[q]), 1e-12);
    }
    let (l, (gx, gy)) = polyline_length_grad(&xs, &ys);
    close("value", l, polyline_length(&xs, &ys), TOL);
    fd_vec("polyline x", |x| polyline_length(x, &ys), &xs, &gx);
    fd_vec("polyline y", |y| polyline_length(&xs, y), &ys, &gy);
}

/// The center of mass of bodies by iterator chains over a slice of structs.
#[differentiate]
fn center_of_mass_x(bodies: &[Body]) -> f64 {
    let m: f64 = bodies.iter().map(|b| b.m).sum();
    bodies.iter().map(|b| b.m * b.x).sum::<f64>() / m
}

#[test]
fn center_of_mass() {
    let bodies = vec![
        Body {
            x: 0.5,
            y: 0.0,
            vx: 0.0,
            vy: 0.0,
            m: 1.0,
        },
        Body {
            x: -1.0,
            y: 0.3,
            vx: 0.0,
            vy: 0.0,
            m: 3.0,
        },
    ];
    let (c, g) = center_of_mass_x_grad(&bodies);
    close("value", c, center_of_mass_x(&bodies), TOL);
    // ∂xᵢ = mᵢ/M, ∂mᵢ = (xᵢ − c)/M.
    close("∂x0", g[0].x, 0.25, 1e-12);
    close("∂m1", g[1].m, (-1.0 - c) / 4.0, 1e-12);
    close("∂y", g[1].y, 0.0, 0.0);
}

// ---------------------------------------------------------------------------------------------
// Iterative methods and generic numerics.
// ---------------------------------------------------------------------------------------------

/// Newton's iteration for √a, five steps from 1: ∂/∂a ≈ 1/(2√a).
#[differentiate]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = 1.0;
    for _ in 0..8 {
        x = 0.5 * (x + a / x);
    }
    x
}

/// The logistic map iterated, generic.
#[differentiate]
fn logistic_map<T: Float>(r: T, x0: T) -> T {
    let mut x = x0;
    for _ in 0..10 {
        x = r * x * (T::one() - x);
    }
    x
}

#[test]
fn iterations() {
    let (v, g) = newton_sqrt_grad(2.0);
    close("value", v, 2f64.sqrt(), 1e-12);
    close("∂a", g, 0.5 / 2f64.sqrt(), 1e-10);
    let (v, g) = logistic_map_grad(2.8, 0.3);
    close("value", v, logistic_map(2.8, 0.3), TOL);
    fd2("logistic map", logistic_map, (2.8, 0.3), g);
    let (_, g32) = logistic_map_grad(2.8f32, 0.3f32);
    close("f32", g32.0 as f64, g.0, 1e-3);
}

/// The Rosenbrock function over consecutive pairs, generic.
#[differentiate]
fn rosenbrock<T: Float>(x: &[T]) -> T {
    let hundred = T::from(100.0).unwrap();
    x.windows(2).fold(T::zero(), |s, w| {
        s + hundred * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2)
    })
}

#[test]
fn rosenbrock_generic() {
    let (v, g) = rosenbrock_grad(&XS);
    close("value", v, rosenbrock(&XS), TOL);
    let mut want = vec![0.0; 6];
    for i in 0..5 {
        let t = XS[i + 1] - XS[i] * XS[i];
        want[i] += -400.0 * XS[i] * t - 2.0 * (1.0 - XS[i]);
        want[i + 1] += 200.0 * t;
    }
    close_all("gradient", &g, &want);
    let (_, at_min) = rosenbrock_grad(&[1.0; 4]);
    close_all("at the minimum", &at_min, &[0.0; 4]);
}

/// Batch normalisation of a `Vec` by hand, then a weighted sum.
#[differentiate(wrt(x))]
fn batchnorm_weighted(x: &[f64], w: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let sd = (var + 1e-5).sqrt();
    let normed: Vec<f64> = x.iter().map(|v| (v - mean) / sd).collect();
    normed.iter().zip(w).map(|(a, b)| a * b).sum()
}

#[test]
fn batch_normalisation_by_hand() {
    let w = [0.3, -0.2, 0.5, 0.1, 0.0, -0.4];
    let (v, g) = batchnorm_weighted_grad(&XS, &w);
    close("value", v, batchnorm_weighted(&XS, &w), TOL);
    fd_vec("batchnorm", |x| batchnorm_weighted(x, &w), &XS, &g);
    // Shifting x leaves the normalised values alone: Σ ∂x = 0.
    close("Σ∂x", g.iter().sum::<f64>(), 0.0, 1e-10);
}

/// Piecewise-linear interpolation: the interval found with `position` (data), the value
/// interpolated between the knots' values (differentiated).
#[differentiate(wrt(values))]
fn interpolate(knots: &[f64], values: &[f64], t: f64) -> f64 {
    let i = knots
        .iter()
        .position(|&k| k > t)
        .unwrap_or(knots.len() - 1)
        .max(1)
        - 1;
    let s = (t - knots[i]) / (knots[i + 1] - knots[i]);
    values[i] * (1.0 - s) + values[i + 1] * s
}

/// The same interval by `binary_search_by`.
#[differentiate(wrt(values, t))]
fn interpolate_bs(knots: &[f64], values: &[f64], t: f64) -> f64 {
    let i = match knots.binary_search_by(|k| k.partial_cmp(&t).unwrap()) {
        Ok(i) => i.min(knots.len() - 2),
        Err(i) => i.clamp(1, knots.len() - 1) - 1,
    };
    let s = (t - knots[i]) / (knots[i + 1] - knots[i]);
    values[i] * (1.0 - s) + values[i + 1] * s
}

#[test]
fn interpolation_tables() {
    let knots = [0.0, 0.5, 1.0, 2.0];
    let values = [1.0, 3.0, 2.0, 5.0];
    let (v, g) = interpolate_grad(&knots, &values, 0.75);
    close("value", v, 2.5, 1e-12);
    close_all("gradient", &g, &[0.0, 0.5, 0.5, 0.0]);
    let (v, (g, gt)) = interpolate_bs_grad(&knots, &values, 1.5);
    close("value", v, 3.5, 1e-12);
    close_all("gradient", &g, &[0.0, 0.0, 0.5, 0.5]);
    close("∂t", gt, 3.0, 1e-12);
}

/// Per-class scales chosen by a `match` on an integer label.
#[differentiate(wrt(scales, x))]
fn class_scaled(scales: [f64; 3], x: &[f64], labels: &[usize]) -> f64 {
    let mut s = 0.0;
    for (v, &c) in x.iter().zip(labels) {
        s += match c {
            0 => scales[0] * v,
            1 => scales[1] * v * v,
            _ => scales[2] * v.exp(),
        };
    }
    s
}

#[test]
fn match_on_labels() {
    let labels = [0, 1, 2, 1, 0, 2];
    let sc = [0.5, 2.0, -1.0];
    let (v, (gs, gx)) = class_scaled_grad(sc, &XS, &labels);
    close("value", v, class_scaled(sc, &XS, &labels), TOL);
    let mut want = [0.0; 3];
    for (v, &c) in XS.iter().zip(&labels) {
        want[c] += [*v, v * v, v.exp()][c];
    }
    close_all("gradient", &gs, &want);
    fd_vec("class x", |x| class_scaled(sc, x, &labels), &XS, &gx);
}

/// An argmax value by `max_by` with `partial_cmp`, times its index's weight.
#[differentiate(wrt(x))]
fn best_weighted(x: &[f64], w: &[f64]) -> f64 {
    let (i, &best) = x
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.partial_cmp(b.1).unwrap())
        .unwrap();
    best * w[i]
}

#[test]
fn argmax_value() {
    let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let (v, g) = best_weighted_grad(&XS, &w);
    close("value", v, 1.2 * 3.0, 1e-12);
    close_all("gradient", &g, &[0.0, 0.0, 3.0, 0.0, 0.0, 0.0]);
}

/// A closure that changes a captured accumulator, through `for_each`.
#[differentiate]
fn for_each_accumulate(x: &[f64], k: f64) -> f64 {
    let mut s = 0.0;
    let mut count = 0;
    x.iter().for_each(|v| {
        s += (k * v).sin();
        count += 1;
    });
    s / count as f64
}

/// Enumerated items weighted by position.
#[differentiate]
fn position_weighted(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, v)| v * v * (i as f64 + 1.0))
        .sum()
}

#[test]
fn closures_and_enumerations() {
    let (v, (gx, gk)) = for_each_accumulate_grad(&XS, 1.3);
    close("value", v, for_each_accumulate(&XS, 1.3), TOL);
    for i in 0..6 {
        close("∂x", gx[i], 1.3 * (1.3 * XS[i]).cos() / 6.0, 1e-12);
    }
    fd("∂k", |k| for_each_accumulate(&XS, k), 1.3, gk);
    let (_, g) = position_weighted_grad(&XS);
    for i in 0..6 {
        close("∂x", g[i], 2.0 * XS[i] * (i as f64 + 1.0), 1e-12);
    }
}

/// An array destructured with `let`, a struct built from it, its method called.
#[derive(Clone, Debug, Differentiable)]
struct Triangle {
    a: f64,
    b: f64,
    c: f64,
}

impl Triangle {
    /// Heron's formula.
    #[differentiate]
    fn area(&self) -> f64 {
        let s = 0.5 * (self.a + self.b + self.c);
        (s * (s - self.a) * (s - self.b) * (s - self.c)).sqrt()
    }
}

#[differentiate]
fn heron_from_array(sides: [f64; 3]) -> f64 {
    let [a, b, c] = sides;
    let t = Triangle { a, b, c };
    t.area()
}

#[test]
fn heron_area() {
    let (v, g) = heron_from_array_grad([3.0, 4.0, 5.0]);
    close("value", v, 6.0, 1e-12);
    fd_vec(
        "heron",
        |s| heron_from_array([s[0], s[1], s[2]]),
        &[3.0, 4.0, 5.0],
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Small models on ndarray.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array2<f64>,
    b2: Array1<f64>,
}

impl Mlp {
    #[differentiate]
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        let h = (x.dot(&self.w1) + &self.b1).mapv(f64::tanh);
        h.dot(&self.w2) + &self.b2
    }
}

/// A two-layer network's mean squared error through its `forward` method.
#[differentiate(wrt(p))]
fn mlp_mse(p: &Mlp, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let out = p.forward(x);
    nn::mse(&out, y)
}

#[test]
fn two_layer_network() {
    let p = Mlp {
        w1: matrix(3, 4, 1.0),
        b1: vector(4, 2.0),
        w2: matrix(4, 2, 3.0),
        b2: vector(2, 4.0),
    };
    let (x, y) = (matrix(5, 3, 5.0), matrix(5, 2, 6.0));
    let (v, g) = mlp_mse_grad(&p, &x, &y);
    close("value", v, mlp_mse(&p, &x, &y), TOL);
    let r = gradcheck(|p: &Mlp| mlp_mse(p, &x, &y), &p, &g);
    assert!(r.passed(), "{r}");
}

/// Ridge regression: ‖Xw − y‖²/n + λ‖w‖².
#[differentiate(wrt(w))]
fn ridge(w: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>, lambda: f64) -> f64 {
    let r = x.dot(w) - y;
    r.dot(&r) / y.len() as f64 + lambda * w.mapv(|v| v * v).sum()
}

#[test]
fn ridge_regression() {
    let (w, x, y) = (vector(3, 1.0), matrix(6, 3, 2.0), vector(6, 3.0));
    let (v, g) = ridge_grad(&w, &x, &y, 0.1);
    close("value", v, ridge(&w, &x, &y, 0.1), TOL);
    // ∂w = 2Xᵀ(Xw − y)/n + 2λw.
    let want = x.t().dot(&(x.dot(&w) - &y)) * (2.0 / 6.0) + &w * 0.2;
    for k in 0..3 {
        close("∂w", g[k], want[k], 1e-12);
    }
}

/// Cosine similarity of two vectors.
#[differentiate]
fn cosine(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.dot(b) / (a.dot(a).sqrt() * b.dot(b).sqrt())
}

#[test]
fn cosine_similarity() {
    let (a, b) = (vector(4, 1.0), vector(4, 2.0));
    let (c, (ga, gb)) = cosine_grad(&a, &b);
    close("value", c, cosine(&a, &b), TOL);
    // ∂a = b/(|a||b|) − c·a/|a|²; scale invariance: a·∂a = 0.
    let (na, nb) = (a.dot(&a).sqrt(), b.dot(&b).sqrt());
    let want = &b / (na * nb) - &a * (c / (na * na));
    for k in 0..4 {
        close("∂a", ga[k], want[k], 1e-12);
    }
    close("a·∂a", a.dot(&ga), 0.0, 1e-12);
    fd_array("cosine b", |b| cosine(&a, b), &b, &gb);
}

/// Power iteration, the Rayleigh quotient of the last iterate.
#[differentiate]
fn rayleigh_after_power(a: &Array2<f64>, v0: &Array1<f64>) -> f64 {
    let mut v = v0.clone();
    for _ in 0..5 {
        let w = a.dot(&v);
        let n = w.dot(&w).sqrt();
        v = w / n;
    }
    v.dot(&a.dot(&v))
}

#[test]
fn power_iteration() {
    let mut a = matrix(3, 3, 1.0);
    a = &a + &a.t();
    let v0 = vector(3, 2.0);
    let (r, (ga, gv)) = rayleigh_after_power_grad(&a, &v0);
    close("value", r, rayleigh_after_power(&a, &v0), TOL);
    fd_array("power a", |a| rayleigh_after_power(a, &v0), &a, &ga);
    fd_array("power v0", |v| rayleigh_after_power(&a, v), &v0, &gv);
}

/// Dot-product attention over a few keys, the softmax built in a `Vec`.
#[differentiate(wrt(q, keys))]
fn attention(q: &Array1<f64>, keys: &Array2<f64>, values: &[f64]) -> f64 {
    let scores: Vec<f64> = (0..keys.nrows()).map(|i| keys.row(i).dot(q)).collect();
    let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().zip(values).map(|(w, v)| w / z * v).sum()
}

#[test]
fn attention_weights() {
    let (q, k) = (vector(3, 1.0), matrix(4, 3, 2.0));
    let values = [1.0, -2.0, 0.5, 3.0];
    let (v, (gq, gk)) = attention_grad(&q, &k, &values);
    close("value", v, attention(&q, &k, &values), TOL);
    fd_array("attention q", |q| attention(q, &k, &values), &q, &gq);
    fd_array("attention keys", |k| attention(&q, k, &values), &k, &gk);
}

/// Soft k-means: the softmin-weighted squared distances of points to centers.
#[differentiate(wrt(centers))]
fn soft_kmeans(centers: &Array2<f64>, points: &Array2<f64>, beta: f64) -> f64 {
    let mut total = 0.0;
    for p in points.rows() {
        let mut d = Vec::new();
        for c in centers.rows() {
            let diff = &p - &c;
            d.push(diff.dot(&diff));
        }
        let m = d.iter().cloned().fold(f64::INFINITY, f64::min);
        let lse = d.iter().map(|v| (-beta * (v - m)).exp()).sum::<f64>().ln();
        total += m - lse / beta;
    }
    total
}

#[test]
fn soft_k_means() {
    let (c, p) = (matrix(2, 2, 1.0), matrix(5, 2, 2.0));
    let (v, g) = soft_kmeans_grad(&c, &p, 3.0);
    close("value", v, soft_kmeans(&c, &p, 3.0), TOL);
    fd_array("soft kmeans", |c| soft_kmeans(c, &p, 3.0), &c, &g);
}

/// A 1-D Gaussian mixture's log-likelihood with log-sum-exp over components.
#[differentiate(wrt(means, log_sds))]
fn gmm_loglik(means: &[f64], log_sds: &[f64], weights: &[f64], xs: &[f64]) -> f64 {
    let mut ll = 0.0;
    for &x in xs {
        let terms: Vec<f64> = (0..means.len())
            .map(|k| {
                let sd = log_sds[k].exp();
                let z = (x - means[k]) / sd;
                weights[k].ln() - 0.5 * z * z - log_sds[k] - 0.918_938_533_204_672_7
            })
            .collect();
        let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        ll += m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
    }
    ll
}

#[test]
fn gaussian_mixture() {
    let means = [-0.5, 0.8];
    let log_sds = [-0.2, 0.1];
    let weights = [0.4, 0.6];
    let (v, (gm, gs)) = gmm_loglik_grad(&means, &log_sds, &weights, &XS);
    close("value", v, gmm_loglik(&means, &log_sds, &weights, &XS), TOL);
    fd_vec(
        "gmm means",
        |m| gmm_loglik(m, &log_sds, &weights, &XS),
        &means,
        &gm,
    );
    fd_vec(
        "gmm sds",
        |s| gmm_loglik(&means, s, &weights, &XS),
        &log_sds,
        &gs,
    );
}

/// A recurrent cell unrolled over a sequence, its hidden states kept in a `Vec` of arrays.
#[differentiate(wrt(wh, wx))]
fn rnn_last(wh: &Array2<f64>, wx: &Array1<f64>, seq: &[f64]) -> f64 {
    let mut h = Array1::<f64>::zeros(wh.nrows());
    let mut hs = Vec::new();
    for &x in seq {
        h = (wh.dot(&h) + &(wx * x)).mapv(f64::tanh);
        hs.push(h.clone());
    }
    hs.iter().map(|h| h.sum()).sum::<f64>()
}

#[test]
fn recurrent_cell() {
    let (wh, wx) = (matrix(3, 3, 1.0) * 0.5, vector(3, 2.0));
    let (v, (gh, gx)) = rnn_last_grad(&wh, &wx, &XS);
    close("value", v, rnn_last(&wh, &wx, &XS), TOL);
    fd_array("rnn wh", |w| rnn_last(w, &wx, &XS), &wh, &gh);
    fd_array("rnn wx", |w| rnn_last(&wh, w, &XS), &wx, &gx);
}

/// A convolution of a signal with a kernel written with index loops, then a ReLU energy.
#[differentiate]
fn conv1d_relu(signal: &[f64], kernel: &[f64]) -> f64 {
    let n = signal.len() - kernel.len() + 1;
    let mut out = vec![0.0; n];
    for i in 0..n {
        for (j, k) in kernel.iter().enumerate() {
            out[i] += signal[i + j] * k;
        }
    }
    out.iter().map(|v| v.max(0.0).powi(2)).sum()
}

#[test]
fn convolution_by_loops() {
    let k = [0.5, -1.0, 0.25];
    let (v, (gs, gk)) = conv1d_relu_grad(&XS, &k);
    close("value", v, conv1d_relu(&XS, &k), TOL);
    fd_vec("conv signal", |s| conv1d_relu(s, &k), &XS, &gs);
    fd_vec("conv kernel", |k| conv1d_relu(&XS, k), &k, &gk);
}

/// Column-normalised features through `sum_axis`, `insert_axis` and broadcasting.
#[differentiate]
fn column_normalised(x: &Array2<f64>) -> f64 {
    let mean = x.mean_axis(Axis(0)).unwrap();
    let centered = x - &mean.insert_axis(Axis(0));
    let var = (&centered * &centered).mean_axis(Axis(0)).unwrap();
    let z = &centered / &var.mapv(|v| (v + 1e-3).sqrt());
    z.slice(s![.., 0]).mapv(|v| v.powi(3)).sum() + z.sum_axis(Axis(1)).mapv(f64::sin).sum()
}

#[test]
fn column_normalisation() {
    let x = matrix(5, 3, 1.0);
    let (v, g) = column_normalised_grad(&x);
    close("value", v, column_normalised(&x), TOL);
    fd_array("normalised", column_normalised, &x, &g);
}

/// A kernel matrix built in a flat `Vec`, shaped by `from_shape_vec`, then its trace by
/// `diag` and its sum.
#[differentiate]
fn gram_trace(x: &[f64]) -> f64 {
    let n = x.len();
    let mut flat = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            flat.push((-(x[i] - x[j]).powi(2)).exp() * (1.0 + x[i] * x[j]));
        }
    }
    let k = Array2::from_shape_vec((n, n), flat).unwrap();
    k.diag().sum() + k.sum()
}

#[test]
fn kernel_matrix_by_rows() {
    let x = &XS[..4];
    let (v, g) = gram_trace_grad(x);
    close("value", v, gram_trace(x), TOL);
    fd_vec("gram", gram_trace, x, &g);
}
