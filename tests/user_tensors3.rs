//! ndarray programs written as ML engineers write them after reading the README, round three:
//! iterating the elements of matrices and views, lanes through `map_axis`, `axis_iter`,
//! `outer_iter` and `index_axis`, `from_diag`, `diag`, `broadcast`, `as_slice`, masked
//! attention, layer norm with `var_axis`/`std_axis`, activations written by hand with `mapv`,
//! `Zip` into an output buffer, `slice_mut(..).assign(..)`, `linspace` data, `argmax`
//! accuracy beside the loss, generic `A: NdFloat` and `f32`.
//!
//! Each gradient is checked against central finite differences through `autodiff::check`, and
//! against its analytic form (stated beside the function) where that is short; each value
//! against the plain function's.

#![allow(
    clippy::needless_range_loop,
    clippy::op_ref,
    clippy::ptr_arg,
    clippy::let_and_return,
    clippy::type_complexity,
    clippy::too_many_arguments,
    clippy::excessive_precision
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, Zip, array, s};

mod common;
use common::*;

/// Each entry of `a` is the one of `b` to `tol` (absolute below 1, relative above).
#[track_caller]
fn same<D: ndarray::Dimension>(
    what: &str,
    a: &ndarray::Array<f64, D>,
    b: &ndarray::Array<f64, D>,
    tol: f64,
) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (k, (&x, &y)) in a.iter().zip(b.iter()).enumerate() {
        close(&format!("{what}[{k}]"), x, y, tol);
    }
}

// ---------------------------------------------------------------------------------------------
// Iterating the elements of a matrix.
// ---------------------------------------------------------------------------------------------

/// Σ a_ij² through `iter().map(..).sum()`: ∇ = 2a.
#[differentiate]
fn frob_sq(a: &Array2<f64>) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn matrix_iter_map_sum() {
    let a = matrix(3, 4, 0.2);
    let (v, g) = frob_sq_grad(&a);
    assert_eq!(v, frob_sq(&a));
    same("∇a", &g, &(&a * 2.0), 1e-14);
    fd_array("∇a", frob_sq, &a, &g);
}

/// Σ exp(a_ij) in a `for` loop over `a.iter()` of an owned matrix parameter: ∇ = exp(a).
#[differentiate]
fn exp_total(a: Array2<f64>) -> f64 {
    let mut s = 0.0;
    for v in a.iter() {
        s += v.exp();
    }
    s
}

#[test]
fn matrix_for_loop_over_iter() {
    let a = matrix(2, 3, 1.4);
    let (v, g) = exp_total_grad(a.clone());
    assert_eq!(v, exp_total(a.clone()));
    same("∇a", &g, &a.mapv(f64::exp), 1e-14);
    fd_array("∇a", |a| exp_total(a.clone()), &a, &g);
}

/// Squared error of two matrices through `zip`: ∇p = 2(p − t).
#[differentiate(wrt(p))]
fn zip_sq_err(p: &Array2<f64>, t: &Array2<f64>) -> f64 {
    p.iter()
        .zip(t.iter())
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / p.len() as f64
}

#[test]
fn matrix_zip_of_two_matrices() {
    let p = matrix(3, 3, 0.7);
    let t = matrix(3, 3, 2.1);
    let (v, g) = zip_sq_err_grad(&p, &t);
    assert_eq!(v, zip_sq_err(&p, &t));
    same("∇p", &g, &((&p - &t) * (2.0 / 9.0)), 1e-14);
    fd_array("∇p", |p| zip_sq_err(p, &t), &p, &g);
}

/// Σ a_ij⁴ through `fold`: ∇ = 4a³.
#[differentiate]
fn fold_quartic(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0, |acc, &v| acc + v.powi(4))
}

#[test]
fn matrix_fold() {
    let a = matrix(2, 5, 0.9);
    let (v, g) = fold_quartic_grad(&a);
    assert_eq!(v, fold_quartic(&a));
    same("∇a", &g, &a.mapv(|x| 4.0 * x.powi(3)), 1e-14);
    fd_array("∇a", fold_quartic, &a, &g);
}

/// L2 penalty over a weight matrix and its product with data, iterating a local matrix:
/// f = Σ tanh((XW)_ij) + λ Σ W_ij²; ∇W = Xᵀ(1 − tanh²(XW)) + 2λW.
#[differentiate(wrt(w))]
fn tanh_total_l2(w: &Array2<f64>, x: &Array2<f64>, lambda: f64) -> f64 {
    let h = x.dot(w);
    let act: f64 = h.iter().map(|v| v.tanh()).sum();
    let reg: f64 = w.iter().map(|v| v * v).sum();
    act + lambda * reg
}

#[test]
fn local_matrix_iter() {
    let x = matrix(4, 3, 0.1);
    let w = matrix(3, 2, 1.3);
    let (v, g) = tanh_total_l2_grad(&w, &x, 0.3);
    assert_eq!(v, tanh_total_l2(&w, &x, 0.3));
    let h = x.dot(&w);
    let want = x.t().dot(&h.mapv(|v| 1.0 - v.tanh().powi(2))) + &w * 0.6;
    same("∇W", &g, &want, 1e-13);
    fd_array("∇W", |w| tanh_total_l2(w, &x, 0.3), &w, &g);
}

/// The elements of a column slice (a view): Σ over columns 1.. of a_ij³; ∇ = 3a² there.
#[differentiate]
fn view_cubes(a: &Array2<f64>) -> f64 {
    let v = a.slice(s![.., 1..]);
    v.iter().map(|&x| x * x * x).sum()
}

#[test]
fn view_iter() {
    let a = matrix(3, 3, 0.5);
    let (v, g) = view_cubes_grad(&a);
    assert_eq!(v, view_cubes(&a));
    let mut want = a.mapv(|x| 3.0 * x * x);
    want.column_mut(0).fill(0.0);
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", view_cubes, &a, &g);
}

/// A 3-D tensor's elements: Σ sin(t_ijk) · k; ∇ = cos(t) · k.
#[differentiate]
fn tensor3_iter(t: &Array3<f64>, k: f64) -> f64 {
    t.iter().map(|v| v.sin()).sum::<f64>() * k
}

#[test]
fn tensor3_elements() {
    let t = Array3::from_shape_vec((2, 3, 2), data(12, 0.4)).unwrap();
    let (v, (g, gk)) = tensor3_iter_grad(&t, 1.7);
    assert_eq!(v, tensor3_iter(&t, 1.7));
    same("∇t", &g, &t.mapv(|v| v.cos() * 1.7), 1e-14);
    close("∂k", gk, t.mapv(f64::sin).sum(), 1e-14);
    let p = (t.clone(), 1.7);
    gradcheck(
        |p: &(Array3<f64>, f64)| tensor3_iter(&p.0, p.1),
        &p,
        &(g, gk),
    )
    .assert_ok();
}

/// A matrix view parameter iterated with `enumerate`: Σ (idx+1)·v²; ∇ = 2(idx+1)·v.
#[differentiate]
fn weighted_by_position(a: ArrayView2<'_, f64>) -> f64 {
    let mut s = 0.0;
    for (k, v) in a.iter().enumerate() {
        s += (k + 1) as f64 * v * v;
    }
    s
}

#[test]
fn view_parameter_enumerate() {
    let a = matrix(2, 3, 0.8);
    let (v, g) = weighted_by_position_grad(a.view());
    assert_eq!(v, weighted_by_position(a.view()));
    let want = Array2::from_shape_fn((2, 3), |(i, j)| 2.0 * (i * 3 + j + 1) as f64 * a[[i, j]]);
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", |a| weighted_by_position(a.view()), &a, &g);
}

/// The largest entry by `fold` with `max`: ∇ is one at the maximum.
#[differentiate]
fn max_entry(a: &Array2<f64>) -> f64 {
    a.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))
}

#[test]
fn matrix_fold_max() {
    let a = matrix(3, 3, 0.3);
    let (v, g) = max_entry_grad(&a);
    assert_eq!(v, max_entry(&a));
    let k = a
        .iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |b, (k, &v)| if v > b.1 { (k, v) } else { b },
        )
        .0;
    let mut want = Array2::zeros((3, 3));
    want[[k / 3, k % 3]] = 1.0;
    same("∇a", &g, &want, 0.0);
    fd_array("∇a", max_entry, &a, &g);
}

// ---------------------------------------------------------------------------------------------
// Lanes: map_axis, axis_iter, outer_iter, index_axis.
// ---------------------------------------------------------------------------------------------

/// Σ_i (row_i · row_i)^½ via `map_axis`: ∇ row_i = row_i / ‖row_i‖.
#[differentiate]
fn row_norms(a: &Array2<f64>) -> f64 {
    let sq = a.map_axis(Axis(1), |row| row.dot(&row));
    sq.mapv(f64::sqrt).sum()
}

#[test]
fn map_axis_row_dot() {
    let a = matrix(3, 4, 0.6);
    let (v, g) = row_norms_grad(&a);
    assert_eq!(v, row_norms(&a));
    let n = a
        .map_axis(Axis(1), |r| r.dot(&r).sqrt())
        .insert_axis(Axis(1));
    same("∇a", &g, &(&a / &n), 1e-13);
    fd_array("∇a", row_norms, &a, &g);
}

/// Column sums by `map_axis(Axis(0), ..)` squared: ∇ column j = 2 Σ_i a_ij.
#[differentiate]
fn col_sum_sq(a: &Array2<f64>) -> f64 {
    let c = a.map_axis(Axis(0), |col| col.sum());
    c.dot(&c)
}

#[test]
fn map_axis_columns() {
    let a = matrix(3, 2, 1.9);
    let (v, g) = col_sum_sq_grad(&a);
    assert_eq!(v, col_sum_sq(&a));
    let c = a.sum_axis(Axis(0)) * 2.0;
    let want = Array2::from_shape_fn((3, 2), |(_, j)| c[j]);
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", col_sum_sq, &a, &g);
}

/// Log-sum-exp of each row through `axis_iter(Axis(0))`: ∇ row = softmax(row).
#[differentiate]
fn row_logsumexp(x: &Array2<f64>) -> f64 {
    let mut total = 0.0;
    for row in x.axis_iter(Axis(0)) {
        total += row.mapv(f64::exp).sum().ln();
    }
    total
}

#[test]
fn axis_iter_rows() {
    let x = matrix(3, 4, 0.2);
    let (v, g) = row_logsumexp_grad(&x);
    assert_eq!(v, row_logsumexp(&x));
    let e = x.mapv(f64::exp);
    let want = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    same("∇x", &g, &want, 1e-14);
    fd_array("∇x", row_logsumexp, &x, &g);
}

/// Σ over rows of (row · w)², rows through `outer_iter()`: ∇w = 2 Σ (row·w) row, ∇x row = 2 (row·w) w.
#[differentiate]
fn outer_rows_proj(x: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for row in x.outer_iter() {
        let p = row.dot(w);
        s += p * p;
    }
    s
}

#[test]
fn outer_iter_rows_dot() {
    let x = matrix(4, 3, 1.1);
    let w = vector(3, 0.5);
    let (v, (gx, gw)) = outer_rows_proj_grad(&x, &w);
    assert_eq!(v, outer_rows_proj(&x, &w));
    let p = x.dot(&w);
    same("∇w", &gw, &(x.t().dot(&p) * 2.0), 1e-13);
    let want = Array2::from_shape_fn((4, 3), |(i, j)| 2.0 * p[i] * w[j]);
    same("∇x", &gx, &want, 1e-13);
    fd_array("∇w", |w| outer_rows_proj(&x, w), &w, &gw);
    fd_array("∇x", |x| outer_rows_proj(x, &w), &x, &gx);
}

/// Rows by `index_axis(Axis(0), i)`: Σ_i ‖row_i − c‖²; ∇c = −2 Σ (row_i − c).
#[differentiate]
fn index_axis_dist(x: &Array2<f64>, c: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.nrows() {
        let r = x.index_axis(Axis(0), i);
        let d = &r - c;
        s += d.dot(&d);
    }
    s
}

#[test]
fn index_axis_rows() {
    let x = matrix(3, 2, 0.3);
    let c = vector(2, 2.5);
    let (v, (gx, gc)) = index_axis_dist_grad(&x, &c);
    assert_eq!(v, index_axis_dist(&x, &c));
    let d = &x - &c;
    same("∇x", &gx, &(&d * 2.0), 1e-14);
    same("∇c", &gc, &(d.sum_axis(Axis(0)) * -2.0), 1e-14);
    fd_array("∇x", |x| index_axis_dist(x, &c), &x, &gx);
    fd_array("∇c", |c| index_axis_dist(&x, c), &c, &gc);
}

/// Rows with their index through `outer_iter().enumerate()`: Σ_i y_i · (row_i · w).
#[differentiate(wrt(w))]
fn enumerate_rows(x: &Array2<f64>, w: &Array1<f64>, y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, row) in x.outer_iter().enumerate() {
        s += y[i] * row.dot(w).tanh();
    }
    s
}

#[test]
fn outer_iter_enumerate() {
    let x = matrix(3, 2, 0.8);
    let w = vector(2, 1.7);
    let y = [0.5, -1.0, 2.0];
    let (v, g) = enumerate_rows_grad(&x, &w, &y);
    assert_eq!(v, enumerate_rows(&x, &w, &y));
    let p = x.dot(&w);
    let c = Array1::from_shape_fn(3, |i| y[i] * (1.0 - p[i].tanh().powi(2)));
    same("∇w", &g, &x.t().dot(&c), 1e-14);
    fd_array("∇w", |w| enumerate_rows(&x, w, &y), &w, &g);
}

/// Columns through `axis_iter(Axis(1))` and `sum`: Σ_j (Σ_i a_ij)³.
#[differentiate]
fn column_cubes(a: &Array2<f64>) -> f64 {
    a.axis_iter(Axis(1)).map(|c| c.sum().powi(3)).sum::<f64>()
}

#[test]
fn axis_iter_columns_chain() {
    let a = matrix(2, 3, 0.4);
    let (v, g) = column_cubes_grad(&a);
    assert_eq!(v, column_cubes(&a));
    let c = a.sum_axis(Axis(0));
    let want = Array2::from_shape_fn((2, 3), |(_, j)| 3.0 * c[j] * c[j]);
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", column_cubes, &a, &g);
}

// ---------------------------------------------------------------------------------------------
// from_diag, diag, broadcast, as_slice.
// ---------------------------------------------------------------------------------------------

/// Scaling the columns of X by a diagonal matrix: f = Σ (X diag(d))²; ∇d_j = 2 d_j Σ_i x_ij².
#[differentiate(wrt(d))]
fn diag_scale(x: &Array2<f64>, d: &Array1<f64>) -> f64 {
    let dm = Array2::from_diag(d);
    let y = x.dot(&dm);
    (&y * &y).sum()
}

#[test]
fn from_diag_scaling() {
    let x = matrix(3, 2, 0.5);
    let d = vector(2, 1.3);
    let (v, g) = diag_scale_grad(&x, &d);
    assert_eq!(v, diag_scale(&x, &d));
    let want = (&x * &x).sum_axis(Axis(0)) * &d * 2.0;
    same("∇d", &g, &want, 1e-14);
    fd_array("∇d", |d| diag_scale(&x, d), &d, &g);
}

/// Trace of AᵀA plus the squared diagonal: ∇ = 2A + 2 diag(a_ii).
#[differentiate]
fn trace_terms(a: &Array2<f64>) -> f64 {
    let ata = a.t().dot(a);
    let d = a.diag();
    ata.diag().sum() + d.dot(&d)
}

#[test]
fn diag_reads() {
    let a = matrix(3, 3, 0.9);
    let (v, g) = trace_terms_grad(&a);
    assert_eq!(v, trace_terms(&a));
    let mut want = &a * 2.0;
    for i in 0..3 {
        want[[i, i]] += 2.0 * a[[i, i]];
    }
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", trace_terms, &a, &g);
}

/// A bias broadcast explicitly to the batch: Σ (x + broadcast(b))²; ∇b = 2 Σ_i (x_i + b).
#[differentiate(wrt(b))]
fn broadcast_bias(x: &Array2<f64>, b: &Array1<f64>) -> f64 {
    let (n, m) = x.dim();
    let bb = b.broadcast((n, m)).unwrap();
    let y = x + &bb;
    (&y * &y).sum()
}

#[test]
fn broadcast_then_add() {
    let x = matrix(4, 3, 0.1);
    let b = vector(3, 0.6);
    let (v, g) = broadcast_bias_grad(&x, &b);
    assert_eq!(v, broadcast_bias(&x, &b));
    let want = (&x + &b).sum_axis(Axis(0)) * 2.0;
    same("∇b", &g, &want, 1e-13);
    fd_array("∇b", |b| broadcast_bias(&x, b), &b, &g);
}

/// A helper over `&[f64]` given the contents of a differentiated array.
#[differentiate]
fn soft_total(xs: &[f64]) -> f64 {
    xs.iter().map(|x| (1.0 + x.exp()).ln()).sum()
}

/// f = Σ softplus((XW)_ij) through `as_slice()`: ∇W = Xᵀ σ(XW).
#[differentiate(wrt(w))]
fn via_slice(w: &Array2<f64>, x: &Array2<f64>) -> f64 {
    let h = x.dot(w);
    soft_total(h.as_slice().unwrap())
}

#[test]
fn as_slice_to_helper() {
    let x = matrix(3, 2, 0.2);
    let w = matrix(2, 2, 0.7);
    let (v, g) = via_slice_grad(&w, &x);
    assert_eq!(v, via_slice(&w, &x));
    let s = x.dot(&w).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    same("∇W", &g, &x.t().dot(&s), 1e-14);
    fd_array("∇W", |w| via_slice(w, &x), &w, &g);
}
