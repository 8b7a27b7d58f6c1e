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

// ---------------------------------------------------------------------------------------------
// Forward mode and second order on the new forms.
// ---------------------------------------------------------------------------------------------

/// Σ a_ij³ by iterating the matrix, second order: ∇ = 3a², H·v = 6a ⊙ v.
#[differentiate(hessian)]
fn cubes_iter(a: &Array2<f64>) -> f64 {
    a.iter().map(|&v| v * v * v).sum::<f64>()
}

#[test]
fn matrix_iter_jvp_hvp() {
    let a = matrix(2, 3, 0.6);
    let (v, g) = cubes_iter_grad(&a);
    assert_eq!(v, cubes_iter(&a));
    same("∇a", &g, &a.mapv(|x| 3.0 * x * x), 1e-14);
    let dir = autodiff::check::random_direction(&a, 5);
    let (y, dy) = cubes_iter_jvp(&a, &dir);
    assert_eq!(y, v);
    close("jvp", dy, (&g * &dir).sum(), 1e-13);
    let (_, _, hv) = cubes_iter_hvp(&a, &dir);
    same("H·v", &hv, &(&a * &dir * 6.0), 1e-13);
    autodiff::check::hvpcheck(|a: &Array2<f64>| cubes_iter_grad(a).1, &a, &dir, &hv).assert_ok();
}

/// Rows by `index_axis`, each through `exp` and `sum`, second order:
/// f = Σ_i ln Σ_j exp(x_ij · s); ∂/∂s = Σ_i softmax_i · x_i.
#[differentiate(hessian)]
fn index_axis_lse(x: &Array2<f64>, s: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..x.nrows() {
        let row = x.index_axis(Axis(0), i);
        total += row.mapv(|v| (v * s).exp()).sum().ln();
    }
    total
}

#[test]
fn index_axis_jvp_hvp() {
    let x = matrix(3, 4, 0.1);
    let s = 0.8;
    let (v, (gx, gs)) = index_axis_lse_grad(&x, s);
    assert_eq!(v, index_axis_lse(&x, s));
    let e = x.mapv(|v| (v * s).exp());
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    same("∇x", &gx, &(&p * s), 1e-13);
    close("∂s", gs, (&p * &x).sum(), 1e-13);
    let pt = (x.clone(), s);
    let dir = autodiff::check::random_direction(&pt, 9);
    let (_, dy) = index_axis_lse_jvp(&x, s, &dir.0, dir.1);
    close("jvp", dy, (&gx * &dir.0).sum() + gs * dir.1, 1e-12);
    let (_, _, hv) = index_axis_lse_hvp(&x, s, &dir.0, dir.1);
    let grad = |p: &(Array2<f64>, f64)| index_axis_lse_grad(&p.0, p.1).1;
    autodiff::check::hvpcheck(grad, &pt, &dir, &hv).assert_ok();
}

/// Row norms by `map_axis`, second order: f = Σ_i ‖row_i‖² · w_i, f is quadratic in `a`.
#[differentiate(hessian)]
fn weighted_row_sq(a: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let sq = a.map_axis(Axis(1), |r| r.dot(&r));
    sq.dot(w)
}

#[test]
fn map_axis_jvp_hvp() {
    let a = matrix(3, 2, 1.2);
    let w = vector(3, 0.4);
    let (v, (ga, gw)) = weighted_row_sq_grad(&a, &w);
    assert_eq!(v, weighted_row_sq(&a, &w));
    same(
        "∇a",
        &ga,
        &(&a * &w.view().insert_axis(Axis(1)) * 2.0),
        1e-14,
    );
    same("∇w", &gw, &(&a * &a).sum_axis(Axis(1)), 1e-14);
    let pt = (a.clone(), w.clone());
    let dir = autodiff::check::random_direction(&pt, 2);
    let (_, dy) = weighted_row_sq_jvp(&a, &w, &dir.0, &dir.1);
    close("jvp", dy, (&ga * &dir.0).sum() + gw.dot(&dir.1), 1e-12);
    let (_, _, hv) = weighted_row_sq_hvp(&a, &w, &dir.0, &dir.1);
    let grad = |p: &(Array2<f64>, Array1<f64>)| weighted_row_sq_grad(&p.0, &p.1).1;
    autodiff::check::hvpcheck(grad, &pt, &dir, &hv).assert_ok();
}

/// A broadcast scale, from_diag and a flatten in one, forward mode:
/// f = Σ (X · diag(d) ⊙ broadcast(c))² summed by iterating.
#[differentiate]
fn diag_broadcast_iter(x: &Array2<f64>, d: &Array1<f64>, c: &Array1<f64>) -> f64 {
    let (n, m) = x.dim();
    let y = x.dot(&Array2::from_diag(d)) * &c.broadcast((n, m)).unwrap();
    y.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn diag_broadcast_jvp() {
    let x = matrix(3, 2, 0.7);
    let d = vector(2, 1.1);
    let c = vector(2, 2.3);
    let (v, (gx, gd, gc)) = diag_broadcast_iter_grad(&x, &d, &c);
    assert_eq!(v, diag_broadcast_iter(&x, &d, &c));
    // y_ij = x_ij d_j c_j: ∂/∂x_ij = 2 y_ij d_j c_j, ∂/∂d_j = Σ_i 2 y_ij x_ij c_j.
    let y = &x * &d * &c;
    same("∇x", &gx, &(&y * &d * &c * 2.0), 1e-13);
    same("∇d", &gd, &((&y * &x).sum_axis(Axis(0)) * &c * 2.0), 1e-13);
    same("∇c", &gc, &((&y * &x).sum_axis(Axis(0)) * &d * 2.0), 1e-13);
    let pt = (x.clone(), d.clone(), c.clone());
    let f = |p: &(Array2<f64>, Array1<f64>, Array1<f64>)| diag_broadcast_iter(&p.0, &p.1, &p.2);
    gradcheck(f, &pt, &(gx.clone(), gd.clone(), gc.clone())).assert_ok();
    let dir = autodiff::check::random_direction(&pt, 4);
    let (_, dy) = diag_broadcast_iter_jvp(&x, &d, &c, &dir.0, &dir.1, &dir.2);
    close(
        "jvp",
        dy,
        (&gx * &dir.0).sum() + gd.dot(&dir.1) + gc.dot(&dir.2),
        1e-12,
    );
}

// ---------------------------------------------------------------------------------------------
// Layers and losses.
// ---------------------------------------------------------------------------------------------

/// Scaled dot-product attention with a causal mask (−1e9 above the diagonal), softmax by hand
/// with the max trick, then Σ of the output against targets.
#[differentiate(wrt(q, k, v))]
fn masked_attention(q: &Array2<f64>, k: &Array2<f64>, v: &Array2<f64>, t: &Array2<f64>) -> f64 {
    let n = q.nrows();
    let scale = 1.0 / (q.ncols() as f64).sqrt();
    let mut scores = q.dot(&k.t()) * scale;
    for i in 0..n {
        for j in 0..n {
            if j > i {
                scores[[i, j]] = -1e9;
            }
        }
    }
    let m = scores.fold_axis(Axis(1), f64::NEG_INFINITY, |&a, &b| a.max(b));
    let e = (&scores - &m.insert_axis(Axis(1))).mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let out = p.dot(v);
    (&out * t).sum()
}

#[test]
fn causal_attention() {
    let q = matrix(3, 2, 0.3);
    let k = matrix(3, 2, 1.3);
    let v = matrix(3, 2, 2.3);
    let t = matrix(3, 2, 3.3);
    let (val, (gq, gk, gv)) = masked_attention_grad(&q, &k, &v, &t);
    assert_eq!(val, masked_attention(&q, &k, &v, &t));
    // ∂/∂V = Pᵀ T, with P the masked softmax (row 0 attends only to itself).
    let mut s = q.dot(&k.t()) / 2f64.sqrt();
    for i in 0..3 {
        for j in i + 1..3 {
            s[[i, j]] = f64::NEG_INFINITY;
        }
    }
    let e = s.mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    same("∇V", &gv, &p.t().dot(&t), 1e-13);
    let pt = (q.clone(), k.clone(), v.clone());
    let f = |p: &(Array2<f64>, Array2<f64>, Array2<f64>)| masked_attention(&p.0, &p.1, &p.2, &t);
    gradcheck(f, &pt, &(gq, gk, gv)).assert_ok();
}

/// Layer norm with `var_axis` and `std_axis` as users call them.
#[differentiate(wrt(x))]
fn layer_norm_var_axis(x: &Array2<f64>, t: &Array2<f64>) -> f64 {
    let mean = x.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    let var = x.var_axis(Axis(1), 0.0).insert_axis(Axis(1));
    let y = (x - &mean) / &var.mapv(|v| (v + 1e-5).sqrt());
    (&y * t).sum()
}

#[test]
fn layer_norm_with_var_axis() {
    let x = matrix(3, 4, 0.2);
    let t = matrix(3, 4, 1.2);
    let (v, g) = layer_norm_var_axis_grad(&x, &t);
    // The generated code computes the variance as the mean of squared deviations, ndarray
    // with its own summation: the values agree to rounding.
    close("value", v, layer_norm_var_axis(&x, &t), 1e-14);
    fd_array("∇x", |x| layer_norm_var_axis(x, &t), &x, &g);
}

/// Standardizing the columns with `std_axis(Axis(0), 1.0)` (sample std), then a quadratic.
#[differentiate]
fn standardize_std_axis(x: &Array2<f64>) -> f64 {
    let mu = x.mean_axis(Axis(0)).unwrap();
    let sd = x.std_axis(Axis(0), 1.0);
    let z = (x - &mu) / &sd;
    z.mapv(|v| v.powi(3)).sum()
}

#[test]
fn standardize_with_std_axis() {
    let x = matrix(4, 3, 0.9);
    let (v, g) = standardize_std_axis_grad(&x);
    // The generated code computes the variance as the mean of squared deviations, ndarray
    // with its own summation: the values agree to rounding.
    close("value", v, standardize_std_axis(&x), 1e-14);
    fd_array("∇x", standardize_std_axis, &x, &g);
}

/// Whole-array variance and standard deviation: var(x) + std(x) with ddof 0.
#[differentiate]
fn var_plus_std(x: &Array1<f64>) -> f64 {
    x.var(0.0) + x.std(0.0)
}

#[test]
fn whole_array_var_std() {
    let x = vector(5, 0.5);
    let (v, g) = var_plus_std_grad(&x);
    // The generated code computes the variance as the mean of squared deviations, ndarray
    // with its own summation: the values agree to rounding.
    close("value", v, var_plus_std(&x), 1e-14);
    // ∂var/∂x = 2(x − μ)/n; ∂std/∂x = (x − μ)/(n σ).
    let n = 5.0;
    let mu = x.mean().unwrap();
    let var = x.mapv(|v| (v - mu).powi(2)).sum() / n;
    let want = x.mapv(|v| 2.0 * (v - mu) / n + (v - mu) / (n * var.sqrt()));
    same("∇x", &g, &want, 1e-13);
    fd_array("∇x", var_plus_std, &x, &g);
}

/// Polynomial regression on `linspace` features: MSE of Σ_k w_k t^k against sin(πt).
#[differentiate]
fn poly_fit(w: &Array1<f64>) -> f64 {
    let t: Array1<f64> = Array1::linspace(-1.0, 1.0, 9);
    let mut pred: Array1<f64> = Array1::zeros(9);
    for k in 0..w.len() {
        pred = pred + t.mapv(|v| v.powi(k as i32)) * w[k];
    }
    let target = t.mapv(|v| (std::f64::consts::PI * v).sin());
    let r = &pred - &target;
    r.dot(&r) / 9.0
}

#[test]
fn linspace_polynomial_regression() {
    let w = array![0.1, 0.9, -0.2, -0.5];
    let (v, g) = poly_fit_grad(&w);
    assert_eq!(v, poly_fit(&w));
    // ∇w_k = (2/9) Σ_i r_i t_i^k.
    let t = Array1::linspace(-1.0, 1.0, 9);
    let pred = t.mapv(|x| w[0] + w[1] * x + w[2] * x * x + w[3] * x.powi(3));
    let r = &pred - &t.mapv(|x| (std::f64::consts::PI * x).sin());
    let want = Array1::from_shape_fn(4, |k| {
        2.0 / 9.0 * (&r * &t.mapv(|x| x.powi(k as i32))).sum()
    });
    same("∇w", &g, &want, 1e-13);
    fd_array("∇w", poly_fit, &w, &g);
}

/// Cross-entropy of a linear classifier with the accuracy from `argmax` over each row
/// computed beside it (inactive), returned as a weight on the loss: f = (1 + acc)·CE.
#[differentiate(wrt(w))]
fn ce_with_accuracy(w: &Array2<f64>, x: &Array2<f64>, labels: &[usize]) -> f64 {
    let logits = x.dot(w);
    let mut correct = 0usize;
    let mut loss = 0.0;
    for i in 0..logits.nrows() {
        let row = logits.row(i);
        let mut best = 0;
        for j in 1..row.len() {
            if row[j] > row[best] {
                best = j;
            }
        }
        if best == labels[i] {
            correct += 1;
        }
        let lse = row.mapv(f64::exp).sum().ln();
        loss += lse - row[labels[i]];
    }
    let acc = correct as f64 / labels.len() as f64;
    (1.0 + acc) * loss / labels.len() as f64
}

#[test]
fn cross_entropy_beside_argmax_accuracy() {
    let x = matrix(4, 3, 0.4);
    let w = matrix(3, 3, 1.6);
    let labels = [0, 2, 1, 2];
    let (v, g) = ce_with_accuracy_grad(&w, &x, &labels);
    assert_eq!(v, ce_with_accuracy(&w, &x, &labels));
    fd_array("∇W", |w| ce_with_accuracy(w, &x, &labels), &w, &g);
}

/// Gradient clipping written as a clip of activations with `mapv` and `clamp`, then a sum of
/// squares: ∇ = 2x where |x| < 0.5, 0 outside.
#[differentiate]
fn clipped_sq(x: &Array2<f64>) -> f64 {
    let c = x.mapv(|v| v.clamp(-0.5, 0.5));
    (&c * &c).sum()
}

#[test]
fn clip_via_mapv() {
    let x = matrix(3, 3, 0.25);
    let (v, g) = clipped_sq_grad(&x);
    assert_eq!(v, clipped_sq(&x));
    same(
        "∇x",
        &g,
        &x.mapv(|v| if v.abs() < 0.5 { 2.0 * v } else { 0.0 }),
        0.0,
    );
    fd_array("∇x", clipped_sq, &x, &g);
}

/// Activations written by hand: softplus, GELU (tanh approximation) and SiLU.
#[differentiate(hessian)]
fn hand_activations(x: &Array1<f64>) -> f64 {
    let softplus = x.mapv(|v| (1.0 + v.exp()).ln());
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let gelu = x.mapv(|v| 0.5 * v * (1.0 + (c * (v + 0.044715 * v * v * v)).tanh()));
    let silu = x.mapv(|v| v / (1.0 + (-v).exp()));
    softplus.sum() + gelu.sum() + silu.sum()
}

#[test]
fn softplus_gelu_silu() {
    let x = array![-1.5, -0.3, 0.2, 0.9, 2.1];
    let (v, g) = hand_activations_grad(&x);
    assert_eq!(v, hand_activations(&x));
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let want = x.mapv(|v| {
        let s = 1.0 / (1.0 + (-v).exp());
        let u = c * (v + 0.044715 * v * v * v);
        let th = u.tanh();
        let gelu =
            0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * c * (1.0 + 3.0 * 0.044715 * v * v);
        s + gelu + s + v * s * (1.0 - s)
    });
    same("∇x", &g, &want, 1e-13);
    fd_array("∇x", hand_activations, &x, &g);
    let dir = autodiff::check::random_direction(&x, 3);
    let (_, _, hv) = hand_activations_hvp(&x, &dir);
    autodiff::check::hvpcheck(|x: &Array1<f64>| hand_activations_grad(x).1, &x, &dir, &hv)
        .assert_ok();
}

/// An output buffer written from a `Zip` of two arrays, as the error for
/// `Zip::from(&mut out)…for_each(..)` says to write it: `map_collect`, then `assign`.
#[differentiate(wrt(a))]
fn zip_into_out(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let mut out = Array2::zeros(a.dim());
    let new = Zip::from(a).and(b).map_collect(|&x, &y| x * x * y);
    out.assign(&new);
    out.sum()
}

#[test]
fn zip_for_each_into_buffer() {
    let a = matrix(2, 3, 0.5);
    let b = matrix(2, 3, 1.5);
    let (v, g) = zip_into_out_grad(&a, &b);
    assert_eq!(v, zip_into_out(&a, &b));
    same("∇a", &g, &(&a * &b * 2.0), 1e-14);
    fd_array("∇a", |a| zip_into_out(a, &b), &a, &g);
}

/// `slice_mut(s![..]).assign(..)`: the first two rows of a buffer replaced by tanh of the
/// input's, then Σ of the buffer squared.
#[differentiate]
fn slice_mut_assign(x: &Array2<f64>) -> f64 {
    let mut h = x.clone();
    h.slice_mut(s![..2, ..])
        .assign(&x.slice(s![..2, ..]).mapv(f64::tanh));
    (&h * &h).sum()
}

#[test]
fn slice_mut_then_assign() {
    let x = matrix(3, 2, 0.8);
    let (v, g) = slice_mut_assign_grad(&x);
    assert_eq!(v, slice_mut_assign(&x));
    let want = Array2::from_shape_fn((3, 2), |(i, j)| {
        let v = x[[i, j]];
        if i < 2 {
            2.0 * v.tanh() * (1.0 - v.tanh().powi(2))
        } else {
            2.0 * v
        }
    });
    same("∇x", &g, &want, 1e-14);
    fd_array("∇x", slice_mut_assign, &x, &g);
}

/// A generic RMS over the elements of a matrix, iterated, for `A: NdFloat`.
#[differentiate]
fn generic_rms<A: ndarray::NdFloat>(a: &Array2<A>) -> A {
    let n = A::from(a.len()).unwrap();
    let s = a.iter().fold(A::zero(), |acc, &v| acc + v * v);
    (s / n).sqrt()
}

#[test]
fn generic_rms_over_iter() {
    let a = matrix(3, 2, 1.4);
    let (v, g) = generic_rms_grad(&a);
    assert_eq!(v, generic_rms(&a));
    same("∇a", &g, &(&a / (6.0 * v)), 1e-14);
    fd_array("∇a", generic_rms, &a, &g);
}

/// An `f32` model: rows by `outer_iter`, a logistic loss per row.
#[differentiate(wrt(w))]
fn logistic_f32(w: &Array1<f32>, x: &Array2<f32>, y: &[f32]) -> f32 {
    let mut loss = 0.0f32;
    for (i, row) in x.outer_iter().enumerate() {
        let z = row.dot(w);
        loss += (1.0 + (-y[i] * z).exp()).ln();
    }
    loss / y.len() as f32
}

#[test]
fn f32_logistic_over_rows() {
    let x = matrix(4, 3, 0.2).mapv(|v| v as f32);
    let w = vector(3, 0.7).mapv(|v| v as f32);
    let y = [1.0f32, -1.0, 1.0, -1.0];
    let (v, g) = logistic_f32_grad(&w, &x, &y);
    assert_eq!(v, logistic_f32(&w, &x, &y));
    // ∇w = (1/n) Σ −y_i σ(−y_i z_i) x_i.
    let z = x.dot(&w);
    let mut want = Array1::<f32>::zeros(3);
    for i in 0..4 {
        let s = 1.0 / (1.0 + (y[i] * z[i]).exp());
        want += &x.row(i).mapv(|v| -y[i] * s * v / 4.0);
    }
    for k in 0..3 {
        close(&format!("∇w[{k}]"), g[k] as f64, want[k] as f64, 1e-5);
    }
}

/// An `f32` matrix iterated: Σ a_ij² in `f32`.
#[differentiate]
fn f32_iter_sq(a: &Array2<f32>) -> f32 {
    a.iter().map(|v| v * v).sum()
}

#[test]
fn f32_matrix_iter() {
    let a = matrix(2, 2, 0.9).mapv(|v| v as f32);
    let (v, g) = f32_iter_sq_grad(&a);
    assert_eq!(v, f32_iter_sq(&a));
    for (k, (&gk, &ak)) in g.iter().zip(a.iter()).enumerate() {
        close(&format!("∇a[{k}]"), gk as f64, 2.0 * ak as f64, 1e-6);
    }
}

/// A two-layer MLP in a parameter struct, with the L2 penalty over every weight by iterating
/// the matrices, trained a few SGD steps (the loss goes down).
#[derive(Clone, Differentiable)]
struct Mlp2 {
    w1: Array2<f64>,
    w2: Array2<f64>,
}

#[differentiate(wrt(p))]
fn mlp2_loss(p: &Mlp2, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = x.dot(&p.w1).mapv(|v| v / (1.0 + (-v).exp()));
    let out = h.dot(&p.w2);
    let r = &out - y;
    let reg: f64 = p.w1.flatten().iter().map(|w| w * w).sum::<f64>()
        + p.w2.flatten().iter().map(|w| w * w).sum::<f64>();
    r.iter().map(|e| e * e).sum::<f64>() / y.len() as f64 + 1e-3 * reg
}

#[test]
fn mlp_with_iterated_penalty() {
    let x = matrix(5, 3, 0.1);
    let y = matrix(5, 2, 0.6);
    let p = Mlp2 {
        w1: matrix(3, 4, 1.1),
        w2: matrix(4, 2, 2.1),
    };
    let (v, g) = mlp2_loss_grad(&p, &x, &y);
    assert_eq!(v, mlp2_loss(&p, &x, &y));
    gradcheck(|p: &Mlp2| mlp2_loss(p, &x, &y), &p, &g).assert_ok();
}

/// Contrastive loss over the rows of two embeddings, the similarity matrix's diagonal and its
/// rows through `outer_iter`: InfoNCE, Σ_i (lse(S_i) − S_ii).
#[differentiate(wrt(a, b))]
fn info_nce(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let s = a.dot(&b.t());
    let d = s.diag();
    let mut loss = 0.0;
    for (i, row) in s.outer_iter().enumerate() {
        loss += row.mapv(f64::exp).sum().ln() - d[i];
    }
    loss
}

#[test]
fn info_nce_over_rows() {
    let a = matrix(3, 2, 0.5);
    let b = matrix(3, 2, 1.7);
    let (v, (ga, gb)) = info_nce_grad(&a, &b);
    assert_eq!(v, info_nce(&a, &b));
    // ∂/∂S = softmax rows − I; ∂/∂A = (P − I) B.
    let s = a.dot(&b.t());
    let e = s.mapv(f64::exp);
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1)) - Array2::<f64>::eye(3);
    same("∇A", &ga, &p.dot(&b), 1e-13);
    same("∇B", &gb, &p.t().dot(&a), 1e-13);
    let pt = (a.clone(), b.clone());
    gradcheck(
        |p: &(Array2<f64>, Array2<f64>)| info_nce(&p.0, &p.1),
        &pt,
        &(ga, gb),
    )
    .assert_ok();
}

/// Batch norm written by hand over the batch axis with `mean_axis` broadcast back by
/// `insert_axis(Axis(0))`, then a Huber loss via `mapv`.
#[differentiate(wrt(x, gamma))]
fn batch_norm_huber(x: &Array2<f64>, gamma: &Array1<f64>, t: &Array2<f64>) -> f64 {
    let mu = x.mean_axis(Axis(0)).unwrap().insert_axis(Axis(0));
    let c = x - &mu;
    let var = (&c * &c).mean_axis(Axis(0)).unwrap().insert_axis(Axis(0));
    let y = &c / &var.mapv(|v| (v + 1e-5).sqrt()) * gamma;
    let r = &y - t;
    r.mapv(|e| {
        if e.abs() < 1.0 {
            0.5 * e * e
        } else {
            e.abs() - 0.5
        }
    })
    .mean()
    .unwrap()
}

#[test]
fn batch_norm_then_huber() {
    let x = matrix(4, 3, 0.3);
    let g0 = vector(3, 1.8);
    let t = matrix(4, 3, 2.9);
    let (v, (gx, gg)) = batch_norm_huber_grad(&x, &g0, &t);
    assert_eq!(v, batch_norm_huber(&x, &g0, &t));
    let pt = (x.clone(), g0.clone());
    let f = |p: &(Array2<f64>, Array1<f64>)| batch_norm_huber(&p.0, &p.1, &t);
    gradcheck(f, &pt, &(gx, gg)).assert_ok();
}

/// Weighted sum over a 3-D tensor's channels through `axis_iter(Axis(0))` and each channel's
/// elements through `iter()`: Σ_c w_c Σ_ij t_cij².
#[differentiate]
fn channels_weighted(t: &Array3<f64>, w: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for (c, ch) in t.axis_iter(Axis(0)).enumerate() {
        let e: f64 = ch.iter().map(|v| v * v).sum();
        s += w[c] * e;
    }
    s
}

#[test]
fn channels_by_axis_iter_then_iter() {
    let t = Array3::from_shape_vec((2, 2, 3), data(12, 1.9)).unwrap();
    let w = array![0.7, -1.3];
    let (v, (gt, gw)) = channels_weighted_grad(&t, &w);
    assert_eq!(v, channels_weighted(&t, &w));
    let want = Array3::from_shape_fn((2, 2, 3), |(c, i, j)| 2.0 * w[c] * t[[c, i, j]]);
    same("∇t", &gt, &want, 1e-14);
    same(
        "∇w",
        &gw,
        &(&t * &t).sum_axis(Axis(2)).sum_axis(Axis(1)),
        1e-14,
    );
    let pt = (t.clone(), w.clone());
    gradcheck(
        |p: &(Array3<f64>, Array1<f64>)| channels_weighted(&p.0, &p.1),
        &pt,
        &(gt, gw),
    )
    .assert_ok();
}

/// The elements of a transposed matrix (a view in column-major order): Σ_k (k+1)·(aᵀ)_k,
/// the position counted in `aᵀ`'s row-major order.
#[differentiate]
fn transposed_positions(a: &Array2<f64>) -> f64 {
    let t = a.t();
    let mut s = 0.0;
    for (k, v) in t.iter().enumerate() {
        s += (k + 1) as f64 * v.sin();
    }
    s
}

#[test]
fn transposed_view_iter_order() {
    let a = matrix(2, 3, 0.6);
    let (v, g) = transposed_positions_grad(&a);
    assert_eq!(v, transposed_positions(&a));
    // aᵀ is 3×2: element (j, i) of aᵀ is a_ij, at position 2j + i.
    let want = Array2::from_shape_fn((2, 3), |(i, j)| (2 * j + i + 1) as f64 * a[[i, j]].cos());
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", transposed_positions, &a, &g);
}

/// `Zip::from(&mut out).and(a).and(b).for_each(..)` writing every element of a buffer:
/// out = a² ⊙ b, f = Σ out; ∇a = 2a ⊙ b, ∇b = a².
#[differentiate]
fn zip_for_each_write(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let mut out = Array2::zeros(a.dim());
    Zip::from(&mut out)
        .and(a)
        .and(b)
        .for_each(|o, &x, &y| *o = x * x * y);
    out.sum()
}

#[test]
fn zip_for_each_writes_buffer() {
    let a = matrix(2, 3, 0.5);
    let b = matrix(2, 3, 1.5);
    let (v, (ga, gb)) = zip_for_each_write_grad(&a, &b);
    assert_eq!(v, zip_for_each_write(&a, &b));
    same("∇a", &ga, &(&a * &b * 2.0), 1e-14);
    same("∇b", &gb, &(&a * &a), 1e-14);
    let pt = (a.clone(), b.clone());
    let f = |p: &(Array2<f64>, Array2<f64>)| zip_for_each_write(&p.0, &p.1);
    gradcheck(f, &pt, &(ga, gb)).assert_ok();
}

/// A running buffer updated by `Zip` with `+=` and reading its old value: acc starts as `w`,
/// then acc += exp(x), then acc = acc · acc (the old value read through `*o`);
/// f = Σ (w + eˣ)²; ∇w = 2(w + eˣ), ∇x = 2(w + eˣ) eˣ. Second order.
#[differentiate(hessian)]
fn zip_accumulate(w: &Array1<f64>, x: &Array1<f64>) -> f64 {
    let mut acc = w.clone();
    Zip::from(&mut acc).and(x).for_each(|a, &v| *a += v.exp());
    Zip::from(&mut acc).for_each(|a| *a = *a * *a);
    acc.sum()
}

#[test]
fn zip_for_each_accumulates() {
    let w = vector(4, 0.3);
    let x = vector(4, 2.2);
    let (v, (gw, gx)) = zip_accumulate_grad(&w, &x);
    assert_eq!(v, zip_accumulate(&w, &x));
    let s = &w + &x.mapv(f64::exp);
    same("∇w", &gw, &(&s * 2.0), 1e-14);
    same("∇x", &gx, &(&s * 2.0 * &x.mapv(f64::exp)), 1e-14);
    let pt = (w.clone(), x.clone());
    let dir = autodiff::check::random_direction(&pt, 6);
    let (_, _, hv) = zip_accumulate_hvp(&w, &x, &dir.0, &dir.1);
    let grad = |p: &(Array1<f64>, Array1<f64>)| zip_accumulate_grad(&p.0, &p.1).1;
    autodiff::check::hvpcheck(grad, &pt, &dir, &hv).assert_ok();
}

/// Per-row log-sum-exp at a temperature through `map_axis`, the closure capturing the
/// differentiated temperature: f = Σ_i τ ln Σ_j exp(x_ij / τ); ∂/∂x = softmax(x/τ) by rows.
#[differentiate]
fn tempered_lse(x: &Array2<f64>, tau: f64) -> f64 {
    let lse = x.map_axis(Axis(1), |row| row.mapv(|v| (v / tau).exp()).sum().ln());
    tau * lse.sum()
}

#[test]
fn map_axis_capturing_temperature() {
    let x = matrix(3, 4, 0.9);
    let tau = 0.7;
    let (v, (gx, gt)) = tempered_lse_grad(&x, tau);
    assert_eq!(v, tempered_lse(&x, tau));
    let e = x.mapv(|v| (v / tau).exp());
    let p = &e / &e.sum_axis(Axis(1)).insert_axis(Axis(1));
    same("∇x", &gx, &p, 1e-13);
    let pt = (x.clone(), tau);
    gradcheck(
        |p: &(Array2<f64>, f64)| tempered_lse(&p.0, p.1),
        &pt,
        &(gx, gt),
    )
    .assert_ok();
}

/// A column vector broadcast across the columns: `c.insert_axis(Axis(1)).broadcast((n, m))`,
/// f = Σ (x − c_i)²; ∇c_i = −2 Σ_j (x_ij − c_i).
#[differentiate(wrt(c))]
fn column_broadcast(x: &Array2<f64>, c: &Array1<f64>) -> f64 {
    let (n, m) = x.dim();
    let cc = c.view().insert_axis(Axis(1));
    let b = cc.broadcast((n, m)).unwrap();
    let d = x - &b;
    d.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn broadcast_of_a_column() {
    let x = matrix(3, 4, 0.2);
    let c = vector(3, 1.4);
    let (v, g) = column_broadcast_grad(&x, &c);
    assert_eq!(v, column_broadcast(&x, &c));
    let d = &x - &c.view().insert_axis(Axis(1));
    same("∇c", &g, &(d.sum_axis(Axis(1)) * -2.0), 1e-13);
    fd_array("∇c", |c| column_broadcast(&x, c), &c, &g);
}

/// The elements of a temporary array: `for v in (&a * &b).iter()`, Σ sin(a ⊙ b);
/// ∇a = cos(a ⊙ b) ⊙ b.
#[differentiate(wrt(a))]
fn temporary_iter(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for v in (a * b).iter() {
        s += v.sin();
    }
    s
}

#[test]
fn iter_of_a_temporary_product() {
    let a = matrix(2, 3, 0.1);
    let b = matrix(2, 3, 1.1);
    let (v, g) = temporary_iter_grad(&a, &b);
    assert_eq!(v, temporary_iter(&a, &b));
    same("∇a", &g, &((&a * &b).mapv(f64::cos) * &b), 1e-14);
    fd_array("∇a", |a| temporary_iter(a, &b), &a, &g);
}

/// A matrix's elements zipped with a slice of weights of its length:
/// f = Σ_k w_k a_k²; ∇a_k = 2 w_k a_k (k in row-major order).
#[differentiate(wrt(a))]
fn matrix_zip_slice(a: &Array2<f64>, w: &[f64]) -> f64 {
    a.iter()
        .zip(w.iter())
        .map(|(x, wk)| wk * x * x)
        .sum::<f64>()
}

#[test]
fn matrix_elements_zipped_with_a_slice() {
    let a = matrix(2, 3, 0.4);
    let w = data(6, 2.8);
    let (v, g) = matrix_zip_slice_grad(&a, &w);
    assert_eq!(v, matrix_zip_slice(&a, &w));
    let want = Array2::from_shape_fn((2, 3), |(i, j)| 2.0 * w[i * 3 + j] * a[[i, j]]);
    same("∇a", &g, &want, 1e-14);
    fd_array("∇a", |a| matrix_zip_slice(a, &w), &a, &g);
}

/// Column variances in `f32` with `var_axis(Axis(0), 1.0)`, summed.
#[differentiate]
fn f32_column_var(x: &Array2<f32>) -> f32 {
    x.var_axis(Axis(0), 1.0).sum()
}

#[test]
fn f32_var_axis() {
    let x = matrix(4, 2, 0.6).mapv(|v| v as f32);
    let (v, g) = f32_column_var_grad(&x);
    close("value", v as f64, f32_column_var(&x) as f64, 1e-6);
    // ∂/∂x_ij = 2 (x_ij − μ_j)/(n − 1).
    let mu = x.mean_axis(Axis(0)).unwrap();
    for i in 0..4 {
        for j in 0..2 {
            let want = 2.0 * (x[[i, j]] - mu[j]) / 3.0;
            close(
                &format!("∇x[{i}, {j}]"),
                g[[i, j]] as f64,
                want as f64,
                1e-5,
            );
        }
    }
}

/// `Zip::from(&mut *c)` of a `&mut` array parameter, the reborrow by which one is lent to
/// `Zip`: followed as `Zip::from(&mut out)` is. Its write was dropped from the gradient
/// (`∂/∂c` was that of the old `c`, `∂/∂b` zero), with no error.
#[differentiate]
fn affine_through_reborrow(c: &mut Array1<f64>, b: &Array1<f64>) -> f64 {
    Zip::from(&mut *c)
        .and(b)
        .for_each(|o, &x| *o = *o * x + 1.0);
    c.sum()
}

#[differentiate]
fn two_zips_through_reborrow(c: &mut Array2<f64>, b: &Array2<f64>) -> f64 {
    Zip::from(&mut *c).and(b).for_each(|o, &x| *o *= x);
    Zip::from(&mut *c).and(b).for_each(|o, &x| *o += x * x);
    c.mapv(|v| v * v).sum()
}

#[test]
fn a_zip_through_a_reborrowed_mut_parameter() {
    let b = Array1::from(vec![2.0, 3.0]);
    let mut c = Array1::from(vec![1.0, 2.0]);
    let (v, (gc, gb)) = affine_through_reborrow_grad(&mut c, &b);
    assert_eq!(v, 10.0);
    assert_eq!(c, Array1::from(vec![3.0, 7.0]));
    assert_eq!(gc, b);
    assert_eq!(gb, Array1::from(vec![1.0, 2.0]));

    let b = Array2::from_shape_vec((2, 2), vec![2.0, 3.0, -1.0, 0.5]).unwrap();
    let c0 = Array2::from_shape_vec((2, 2), vec![1.0, 2.0, 0.25, -3.0]).unwrap();
    let mut c = c0.clone();
    let (v, (gc, gb)) = two_zips_through_reborrow_grad(&mut c, &b);
    // c' = c·b + b², f = Σc'²: ∂f/∂c = 2c'·b, ∂f/∂b = 2c'·(c + 2b).
    let cp = &c0 * &b + &b * &b;
    assert_eq!(c, cp);
    assert_eq!(v, cp.mapv(|v| v * v).sum());
    assert_eq!(gc, 2.0 * &cp * &b);
    assert_eq!(gb, 2.0 * &cp * &(&c0 + 2.0 * &b));
}

/// A `&mut` array parameter changed in a loop: `*c *= k`, `*c += b` and `c.mapv_inplace(..)`
/// (as the mapped copy assigned back), as outside a loop. They were the macro's error about
/// `*x`, and rustc's E0308 in the generated code.
#[differentiate]
fn grown_in_a_loop(c: &mut Array1<f64>, b: &Array1<f64>, k: f64) -> f64 {
    for _ in 0..2 {
        *c *= k;
        *c += b;
        c.mapv_inplace(|v| v * k);
    }
    c.sum()
}

#[test]
fn a_mut_array_parameter_changed_in_a_loop() {
    let plain = |c: &Array1<f64>, b: &Array1<f64>, k: f64| {
        let mut c = c.clone();
        for _ in 0..2 {
            c = (c * k + b) * k;
        }
        c
    };
    let (c0, b, k) = (
        Array1::from(vec![1.0, 2.0]),
        Array1::from(vec![0.5, -1.0]),
        1.5,
    );
    let mut c = c0.clone();
    let (v, (gc, gb, gk)) = grown_in_a_loop_grad(&mut c, &b, k);
    assert_eq!(c, plain(&c0, &b, k));
    assert_eq!(v, c.sum());
    // c₂ = k⁴c + (k³ + k)b: ∂/∂c = k⁴, ∂/∂b = k³ + k, ∂/∂k = Σ 4k³c + (3k² + 1)b.
    assert_eq!(gc, Array1::from(vec![k.powi(4); 2]));
    assert_eq!(gb, Array1::from(vec![k.powi(3) + k; 2]));
    let expect = 4.0 * k.powi(3) * c0.sum() + (3.0 * k * k + 1.0) * b.sum();
    assert!((gk - expect).abs() < 1e-12, "{gk} {expect}");
}
