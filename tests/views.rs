//! ndarray views as parameters of differentiated functions (`b: ArrayView1<'_, f64>`,
//! `m: ArrayView2<f64>`, `ArrayView<'a, T, Ix2>`, `&ArrayView1<f64>`): their gradient is the
//! owned array of the same element type and dimension, their tangent in forward mode that array
//! borrowed (as for `&Array1<f64>`), and calls that pass a view of a differentiated array
//! (`g(a.row(i))`, `g(x.view())`, `g(a.column(j))`) bring the gradient back to the array.
//!
//! Then arrays joined along an axis, `ndarray::concatenate(Axis(k), &[a.view(), b.view()])`
//! and `ndarray::stack(..)` with their `.unwrap()` (`.expect(..)`, and the macros
//! `concatenate!` and `stack!`): each piece's gradient is its part of the result's; and arrays
//! built by `from_shape_fn` with closures that read differentiated values.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; forward mode against differences and
//! the pullback (the dot-product test).

#![allow(
    clippy::needless_range_loop,
    clippy::op_ref,
    clippy::needless_lifetimes
)] // written as users write them

use autodiff::differentiate;
use ndarray::{
    Array1, Array2, ArrayView, ArrayView1, ArrayView2, Axis, Ix2, concatenate, s, stack,
};
use num_traits::Float;

mod common;
use common::*;

/// Each entry of `actual` is the one of `expected`, to [`TOL`], whatever their memory layouts.
#[track_caller]
fn close_arr<D: ndarray::Dimension>(
    what: &str,
    actual: &ndarray::ArrayBase<impl ndarray::Data<Elem = f64>, D>,
    expected: &ndarray::ArrayBase<impl ndarray::Data<Elem = f64>, D>,
) {
    assert_eq!(actual.shape(), expected.shape(), "{what}: shapes");
    for (k, (&a, &e)) in actual.iter().zip(expected.iter()).enumerate() {
        close(&format!("{what}[{k}]"), a, e, TOL);
    }
}

/// Σ bᵢ²: ∂/∂b = 2b.
#[differentiate]
fn sum_sq(b: ArrayView1<'_, f64>) -> f64 {
    (&b * &b).sum()
}

/// Σᵢ Σⱼ aᵢⱼ², one row at a time through `sum_sq`: ∂/∂a = 2a.
#[differentiate]
fn rows_sum_sq(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..a.nrows() {
        s += sum_sq(a.row(i));
    }
    s
}

/// The same of the columns, through a local view: ∂/∂a = 2a.
#[differentiate]
fn cols_sum_sq(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for j in 0..a.ncols() {
        let c = a.column(j);
        s += sum_sq(c);
    }
    s
}

/// The same over the lanes of a loop, `for row in a.rows()`: ∂/∂a = 2a.
#[differentiate]
fn lanes_sum_sq(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for row in a.rows() {
        s += sum_sq(row);
    }
    s
}

#[test]
fn view_parameter_gradient_is_an_owned_array() {
    let x = vector(5, 0.3);
    let (v, g) = sum_sq_grad(x.view());
    close("value", v, x.mapv(|t| t * t).sum(), TOL);
    let expected: Array1<f64> = &x * 2.0;
    close_arr("∂/∂b", &g, &expected);
    fd_array("sum_sq", |x: &Array1<f64>| sum_sq(x.view()), &x, &g);
    // The pullback of `_vjp` gives the owned array too.
    let (_, pb) = sum_sq_vjp(x.view());
    let g2: Array1<f64> = pb(1.0);
    assert_eq!(bits(&g2), bits(&g));
}

#[test]
fn rows_and_columns_passed_as_views() {
    let a = matrix(3, 4, 0.7);
    let expected: Array2<f64> = &a * 2.0;
    for (what, grad) in [
        (
            "rows",
            rows_sum_sq_grad as fn(&Array2<f64>) -> (f64, Array2<f64>),
        ),
        ("columns", cols_sum_sq_grad),
        ("lanes", lanes_sum_sq_grad),
    ] {
        let (v, g) = grad(&a);
        close(what, v, a.mapv(|t| t * t).sum(), TOL);
        close_arr(what, &g, &expected);
    }
    let (_, g) = rows_sum_sq_grad(&a);
    fd_array("rows_sum_sq", rows_sum_sq, &a, &g);
    let (_, g) = cols_sum_sq_grad(&a);
    fd_array("cols_sum_sq", cols_sum_sq, &a, &g);
}

#[test]
fn rows_and_columns_passed_as_views_forward() {
    let a = matrix(3, 4, 0.2);
    for (v, jv) in forward("rows_sum_sq").check(&a, rows_sum_sq, rows_sum_sq_jvp, |a, w| {
        let (y, pb) = rows_sum_sq_vjp(a);
        (y, pb(w))
    }) {
        // J·v = Σ 2aᵢⱼvᵢⱼ.
        close("rows tangent", jv, 2.0 * (&a * &v).sum(), TOL);
    }
    forward("cols_sum_sq").check(&a, cols_sum_sq, cols_sum_sq_jvp, |a, w| {
        let (y, pb) = cols_sum_sq_vjp(a);
        (y, pb(w))
    });
    // The view parameter's own forward mode: its tangent is the owned array, borrowed.
    let x = vector(4, 0.9);
    let d = vector(4, 1.4);
    let (y, dy) = sum_sq_jvp(x.view(), &d);
    close("value", y, sum_sq(x.view()), TOL);
    close("tangent", dy, 2.0 * x.dot(&d), TOL);
}

/// xᵀ M x with `M` a view without a written lifetime: ∂/∂M = x xᵀ, ∂/∂x = (M + Mᵀ) x.
#[differentiate]
fn quad(m: ArrayView2<f64>, x: &Array1<f64>) -> f64 {
    x.dot(&m.dot(x))
}

/// `quad` of a matrix's top-left block, a view of a slice: the block's entries get x xᵀ, the
/// others 0.
#[differentiate]
fn quad_block(w: &Array2<f64>, x: &Array1<f64>) -> f64 {
    let n = x.len();
    quad(w.slice(s![..n, ..n]), x) + quad(w.slice(s![..n, ..n]).view(), x)
}

#[test]
fn matrix_view_parameter_and_sliced_argument() {
    let m = matrix(3, 3, 0.4);
    let x = vector(3, 1.1);
    let (v, (gm, gx)) = quad_grad(m.view(), &x);
    close("value", v, x.dot(&m.dot(&x)), TOL);
    let xcol = x.view().insert_axis(ndarray::Axis(1));
    let outer = xcol.dot(&xcol.t());
    close_arr("∂/∂M", &gm, &outer);
    let sym = &m + &m.t();
    close_arr("∂/∂x", &gx, &sym.dot(&x));

    let w = matrix(4, 5, 0.8);
    let (_, (gw, gx)) = quad_block_grad(&w, &x);
    let mut expected = Array2::<f64>::zeros((4, 5));
    expected.slice_mut(s![..3, ..3]).assign(&(&outer * 2.0));
    close_arr("∂/∂w", &gw, &expected);
    let block = w.slice(s![..3, ..3]);
    let sym = (&block + &block.t()) * 2.0;
    close_arr("∂/∂x", &gx, &sym.dot(&x));
    fd_array("quad_block w", |w: &Array2<f64>| quad_block(w, &x), &w, &gw);
    fd_array("quad_block x", |x: &Array1<f64>| quad_block(&w, x), &x, &gx);
    forward("quad_block").check(
        &(w.clone(), x.clone()),
        |(w, x)| quad_block(w, x),
        |(w, x), (dw, dx)| quad_block_jvp(w, x, dw, dx),
        |(w, x), g| {
            let (y, pb) = quad_block_vjp(w, x);
            (y, pb(g))
        },
    );
}

/// The element reads, length, iteration, float methods and `dot` of a view with its lifetime
/// written: f = Σᵢ bᵢ·wᵢ + Σᵢ exp(bᵢ) + b₀·b_{n−1}, so ∂/∂b = w + exp(b) + (b_{n−1} at 0, b₀
/// at n−1), ∂/∂w = b.
#[differentiate]
fn mixed<'a>(b: ArrayView1<'a, f64>, w: &Array1<f64>) -> f64 {
    let n = b.len();
    let mut s = b[0] * b[n - 1];
    for &v in b.iter() {
        s += v.exp();
    }
    s + b.dot(w)
}

/// `mixed` of each row of a matrix, weighted: ∂/∂a row i = (i + 1)·∂mixed/∂b at row i.
#[differentiate]
fn weighted_rows(a: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..a.nrows() {
        s += (i as f64 + 1.0) * mixed(a.row(i), w);
    }
    s
}

#[test]
fn view_parameter_read_every_way() {
    let b = vector(4, 0.5);
    let w = vector(4, 2.5);
    let (_, (gb, gw)) = mixed_grad(b.view(), &w);
    let mut expected = &w + &b.mapv(f64::exp);
    expected[0] += b[3];
    expected[3] += b[0];
    close_arr("∂/∂b", &gb, &expected);
    close_arr("∂/∂w", &gw, &b);

    let a = matrix(3, 4, 1.3);
    let (_, (ga, gw)) = weighted_rows_grad(&a, &w);
    for i in 0..3 {
        let (_, (gb, _)) = mixed_grad(a.row(i), &w);
        let row = gb * (i as f64 + 1.0);
        close_arr("∂/∂a row", &ga.row(i), &row);
    }
    fd_array(
        "weighted_rows a",
        |a: &Array2<f64>| weighted_rows(a, &w),
        &a,
        &ga,
    );
    fd_array(
        "weighted_rows w",
        |w: &Array1<f64>| weighted_rows(&a, w),
        &w,
        &gw,
    );
    forward("weighted_rows").check(
        &(a.clone(), w.clone()),
        |(a, w)| weighted_rows(a, w),
        |(a, w), (da, dw)| weighted_rows_jvp(a, w, da, dw),
        |(a, w), g| {
            let (y, pb) = weighted_rows_vjp(a, w);
            (y, pb(g))
        },
    );
}

/// A view behind a reference, `&ArrayView1<f64>`: f = Σ bᵢ³, ∂/∂b = 3b².
#[differentiate]
fn cube_sum(b: &ArrayView1<f64>) -> f64 {
    b.mapv(|v| v * v * v).sum()
}

/// A view parameter passed on as it is and as `b.view()`: f = 2·Σ bᵢ³, ∂/∂b = 6b².
#[differentiate]
fn cube_twice(b: ArrayView1<'_, f64>) -> f64 {
    cube_sum(&b) + cube_sum(&b.view())
}

/// The views of a parameter taken by reference: `x.view()`: f = 2·Σ xᵢ³ + Σ xᵢ², ∂/∂x = 6x²
/// + 2x.
#[differentiate]
fn through_views(x: &Array1<f64>) -> f64 {
    cube_twice(x.view()) + sum_sq(x.view())
}

#[test]
fn views_passed_on() {
    let x = vector(5, 2.2);
    let (v, g) = through_views_grad(&x);
    close(
        "value",
        v,
        2.0 * x.mapv(|t| t.powi(3)).sum() + x.dot(&x),
        TOL,
    );
    let expected = x.mapv(|t| 6.0 * t * t + 2.0 * t);
    close_arr("∂/∂x", &g, &expected);
    fd_array("through_views", through_views, &x, &g);
    let (_, g) = cube_sum_grad(&x.view());
    close_arr("∂/∂b", &g, &x.mapv(|t| 3.0 * t * t));
    forward("through_views").check(&x, through_views, through_views_jvp, |x, w| {
        let (y, pb) = through_views_vjp(x);
        (y, pb(w))
    });
    let d = vector(5, 0.1);
    let (_, dy) = cube_twice_jvp(x.view(), &d);
    close("tangent", dy, (&x.mapv(|t| 6.0 * t * t) * &d).sum(), TOL);
}

/// A generic view with its dimension written, `ArrayView<'a, T, Ix2>`: f = Σ sin(mᵢⱼ),
/// ∂/∂m = cos(m).
#[differentiate]
fn sin_sum<'a, T: Float>(m: ArrayView<'a, T, Ix2>) -> T {
    m.mapv(|v| v.sin()).sum()
}

/// `sin_sum` of a matrix's transpose: ∂/∂a = cos(a).
#[differentiate]
fn sin_sum_t(a: &Array2<f32>) -> f32 {
    sin_sum(a.t())
}

#[test]
fn generic_view_parameter() {
    let a = matrix(2, 3, 0.6);
    let (_, g) = sin_sum_grad(a.view());
    close_arr("∂/∂m", &g, &a.mapv(f64::cos));
    fd_array("sin_sum", |a: &Array2<f64>| sin_sum(a.view()), &a, &g);
    let a32 = a.mapv(|v| v as f32);
    let (_, g) = sin_sum_t_grad(&a32);
    for (gi, ai) in g.iter().zip(a32.iter()) {
        close("∂/∂a (f32)", f64::from(*gi), f64::from(ai.cos()), 1e-6);
    }
}

/// Views of a local array (its whole and a region) passed to a function taking a view:
/// f = Σ xᵢ⁴ + Σ_{i ≥ 1} xᵢ⁴, so ∂/∂xᵢ = 4xᵢ³, twice that for i ≥ 1.
#[differentiate]
fn local_views(x: &Array1<f64>) -> f64 {
    let h = x.mapv(|v| v * v);
    sum_sq(h.view()) + sum_sq(h.slice(s![1..]))
}

#[test]
fn views_of_a_local_array_passed_on() {
    let x = vector(4, 0.8);
    let (v, g) = local_views_grad(&x);
    close("value", v, local_views(&x), TOL);
    let e = Array1::from_shape_fn(4, |i| if i == 0 { 4.0 } else { 8.0 } * x[i].powi(3));
    close_arr("∂/∂x", &g, &e);
    fd_array("local_views", local_views, &x, &g);
    forward("local_views").check(&x, local_views, local_views_jvp, |x, w| {
        let (y, pb) = local_views_vjp(x);
        (y, pb(w))
    });
}

/// Σ bᵢ³ of a view, with its second order: (t³)'' = 6t.
#[differentiate(hessian)]
fn cube_view(b: ArrayView1<'_, f64>) -> f64 {
    (&b * &b * &b).sum()
}

/// Σᵢ cube_view(row i of a) + cube_view(column 0 of a): the Hessian is diagonal, 6aᵢⱼ for
/// each entry, twice that in column 0.
#[differentiate(hessian)]
fn cube_rows(a: &Array2<f64>) -> f64 {
    let mut s = cube_view(a.column(0));
    for i in 0..a.nrows() {
        s += cube_view(a.row(i));
    }
    s
}

#[test]
fn view_parameter_second_order() {
    let a = matrix(3, 2, 0.35);
    let v = matrix(3, 2, 2.75);
    let (y, g, hv) = cube_rows_hvp(&a, &v);
    close("value", y, cube_rows(&a), TOL);
    let twice = |j: usize| if j == 0 { 2.0 } else { 1.0 };
    let eg = Array2::from_shape_fn((3, 2), |(i, j)| twice(j) * 3.0 * a[[i, j]].powi(2));
    let eh = Array2::from_shape_fn((3, 2), |(i, j)| twice(j) * 6.0 * a[[i, j]] * v[[i, j]]);
    close_arr("gradient", &g, &eg);
    close_arr("H·v", &hv, &eh);
    let x = vector(3, 0.45);
    let d = vector(3, 1.65);
    let (_, _, hd) = cube_view_hvp(x.view(), &d);
    close_arr("H·v of the view", &hd, &(x.mapv(|t| 6.0 * t) * &d));
}

/// Declared lifetimes beside elided ones, and two declared ones, whose pullback keeps borrows
/// of each: f = Σ xᵢyᵢ, ∂/∂x = y, ∂/∂y = x.
#[differentiate]
fn two_lifetimes<'a, 'b>(x: &'a [f64], y: &'b [f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

#[differentiate]
fn two_view_lifetimes<'a, 'b>(x: ArrayView1<'a, f64>, y: ArrayView1<'b, f64>) -> f64 {
    x.dot(&y)
}

#[differentiate]
fn declared_and_elided<'a>(x: &'a Array1<f64>, y: &Array1<f64>) -> f64 {
    two_view_lifetimes(x.view(), y.view()) + two_lifetimes(&x.to_vec(), &y.to_vec())
}

#[test]
fn declared_lifetimes_of_borrowed_parameters() {
    let (x, y) = (vector(3, 0.2), vector(3, 3.3));
    let (_, pb) = two_lifetimes_vjp(x.as_slice().unwrap(), y.as_slice().unwrap());
    let (gx, gy) = pb(1.0);
    close_all("∂/∂x", &gx, y.as_slice().unwrap());
    close_all("∂/∂y", &gy, x.as_slice().unwrap());
    let (v, (gx, gy)) = declared_and_elided_grad(&x, &y);
    close("value", v, 2.0 * x.dot(&y), TOL);
    close_arr("∂/∂x", &gx, &(&y * 2.0));
    close_arr("∂/∂y", &gy, &(&x * 2.0));
    fd_array(
        "∂/∂x",
        |x: &Array1<f64>| declared_and_elided(x, &y),
        &x,
        &gx,
    );
}

// ---------------------------------------------------------------------------------------------
// concatenate and stack.
// ---------------------------------------------------------------------------------------------

/// f = Σₖ (k + 1)·cₖ² for c = [a; b]: ∂/∂aᵢ = 2(i + 1)aᵢ, ∂/∂bⱼ = 2(n + j + 1)bⱼ (n = len a).
#[differentiate]
fn weighted_concat(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let c = ndarray::concatenate(Axis(0), &[a.view(), b.view()]).unwrap();
    let mut s = 0.0;
    for k in 0..c.len() {
        s += (k as f64 + 1.0) * c[k] * c[k];
    }
    s
}

/// A join of data beside one of differentiated values: the indices, joined as written, pick
/// the entries of c = [a; a]: f = Σ c[idx[k]]², ∂/∂aᵢ = 2aᵢ·(times i or i + n is picked).
#[differentiate(wrt(a))]
fn picked(a: &Array1<f64>, first: &Array1<usize>, second: &Array1<usize>) -> f64 {
    let idx = concatenate(Axis(0), &[first.view(), second.view()]).unwrap();
    let c = concatenate(Axis(0), &[a.view(), a.view()]).unwrap();
    let mut s = 0.0;
    for k in 0..idx.len() {
        s += c[idx[k]] * c[idx[k]];
    }
    s
}

#[test]
fn concatenate_of_data_runs_as_written() {
    let a = vector(3, 0.6);
    let (first, second) = (Array1::from(vec![0usize, 4]), Array1::from(vec![4usize, 2]));
    let (_, g) = picked_grad(&a, &first, &second);
    // Picked: c[0] = a₀, c[4] = a₁ twice, c[2] = a₂.
    let e = Array1::from(vec![2.0 * a[0], 4.0 * a[1], 2.0 * a[2]]);
    close_arr("∂/∂a", &g, &e);
    fd_array(
        "picked",
        |a: &Array1<f64>| picked(a, &first, &second),
        &a,
        &g,
    );
}

#[test]
fn concatenate_of_two_vectors() {
    let (a, b) = (vector(3, 0.4), vector(2, 1.9));
    let (v, (ga, gb)) = weighted_concat_grad(&a, &b);
    close("value", v, weighted_concat(&a, &b), TOL);
    let ea = Array1::from_shape_fn(3, |i| 2.0 * (i as f64 + 1.0) * a[i]);
    let eb = Array1::from_shape_fn(2, |j| 2.0 * (j as f64 + 4.0) * b[j]);
    close_arr("∂/∂a", &ga, &ea);
    close_arr("∂/∂b", &gb, &eb);
    fd_array("∂/∂a", |a: &Array1<f64>| weighted_concat(a, &b), &a, &ga);
    fd_array("∂/∂b", |b: &Array1<f64>| weighted_concat(&a, b), &b, &gb);
    forward("weighted_concat").check(
        &(a.clone(), b.clone()),
        |(a, b)| weighted_concat(a, b),
        |(a, b), (da, db)| weighted_concat_jvp(a, b, da, db),
        |(a, b), g| {
            let (y, pb) = weighted_concat_vjp(a, b);
            (y, pb(g))
        },
    );
}

/// Matrices side by side, `[x | y[.., 1..] | x]` (three pieces, one a region of `y`, one
/// repeated), weighted by `w`: f = Σ (C ∘ w). So ∂/∂x = w[.., ..p] + w[.., p + q..],
/// ∂/∂y = 0 in its first column and w[.., p..p + q] in the others (p, q: the pieces' widths).
#[differentiate]
fn side_by_side(x: &Array2<f64>, y: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let c = concatenate(Axis(1), &[x.view(), y.slice(s![.., 1..]), x.view()]).expect("same rows");
    (&c * w).sum()
}

#[test]
fn concatenate_of_matrices_along_columns() {
    let (x, y) = (matrix(3, 2, 0.5), matrix(3, 4, 1.5));
    let w = matrix(3, 7, 2.5);
    let (_, (gx, gy, gw)) = side_by_side_grad(&x, &y, &w);
    let ex = &w.slice(s![.., ..2]) + &w.slice(s![.., 5..]);
    let mut ey = Array2::<f64>::zeros((3, 4));
    ey.slice_mut(s![.., 1..]).assign(&w.slice(s![.., 2..5]));
    close_arr("∂/∂x", &gx, &ex);
    close_arr("∂/∂y", &gy, &ey);
    fd_array("∂/∂x", |x: &Array2<f64>| side_by_side(x, &y, &w), &x, &gx);
    fd_array("∂/∂y", |y: &Array2<f64>| side_by_side(&x, y, &w), &y, &gy);
    fd_array("∂/∂w", |w: &Array2<f64>| side_by_side(&x, &y, w), &w, &gw);
    forward("side_by_side").check(
        &(x.clone(), y.clone(), w.clone()),
        |(x, y, w)| side_by_side(x, y, w),
        |(x, y, w), (dx, dy, dw)| side_by_side_jvp(x, y, w, dx, dy, dw),
        |(x, y, w), g| {
            let (v, pb) = side_by_side_vjp(x, y, w);
            (v, pb(g))
        },
    );
}

/// Rows stacked into a matrix, `[a; b; a]`, then `m·v` squared: f = Σᵢ (m v)ᵢ². With r = m v,
/// ∂/∂m = 2 r vᵀ, so ∂/∂a = 2(r₀ + r₂)v, ∂/∂b = 2r₁v, ∂/∂v = 2mᵀr.
#[differentiate]
fn stacked_rows(a: &Array1<f64>, b: &Array1<f64>, v: &Array1<f64>) -> f64 {
    let m = stack(Axis(0), &[a.view(), b.view(), a.view()]).unwrap();
    let r = m.dot(v);
    r.dot(&r)
}

/// Vectors stacked as the columns of a matrix with the macro, then its column sums weighted:
/// f = Σⱼ (j + 1)·Σᵢ Mᵢⱼ² = Σᵢ aᵢ² + 2 Σᵢ bᵢ² for M = [a | b]: ∂/∂a = 2a, ∂/∂b = 4b.
#[differentiate]
fn stacked_columns(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let a2 = a * 1.0;
    let m = ndarray::stack![Axis(1), a2, *b];
    let sums = (&m * &m).sum_axis(Axis(0));
    sums[0] + 2.0 * sums[1]
}

/// The same with `concatenate!` of the vectors as single-row matrices, then their
/// concatenation again along the rows of the result's transpose: f = Σ a² + 2 Σ b², as above.
#[differentiate]
fn concatenated_rows(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let ra = a.view().insert_axis(Axis(0));
    let rb = b.view().insert_axis(Axis(0));
    let m = ndarray::concatenate![Axis(0), ra, rb];
    let sums = (&m * &m).sum_axis(Axis(1));
    sums[0] + 2.0 * sums[1]
}

#[test]
fn stack_of_rows_and_columns() {
    let (a, b, v) = (vector(4, 0.1), vector(4, 0.9), vector(4, 2.1));
    let (_, (ga, gb, gv)) = stacked_rows_grad(&a, &b, &v);
    let r = [a.dot(&v), b.dot(&v), a.dot(&v)];
    close_arr("∂/∂a", &ga, &(&v * (2.0 * (r[0] + r[2]))));
    close_arr("∂/∂b", &gb, &(&v * (2.0 * r[1])));
    let ev = (&a * (2.0 * (r[0] + r[2]))) + (&b * (2.0 * r[1]));
    close_arr("∂/∂v", &gv, &ev);
    fd_array("∂/∂a", |a: &Array1<f64>| stacked_rows(a, &b, &v), &a, &ga);
    fd_array("∂/∂b", |b: &Array1<f64>| stacked_rows(&a, b, &v), &b, &gb);
    forward("stacked_rows").check(
        &(a.clone(), b.clone(), v.clone()),
        |(a, b, v)| stacked_rows(a, b, v),
        |(a, b, v), (da, db, dv)| stacked_rows_jvp(a, b, v, da, db, dv),
        |(a, b, v), g| {
            let (y, pb) = stacked_rows_vjp(a, b, v);
            (y, pb(g))
        },
    );
    type Grad = fn(&Array1<f64>, &Array1<f64>) -> (f64, (Array1<f64>, Array1<f64>));
    for (what, f, grad) in [
        (
            "stack!",
            stacked_columns as fn(&Array1<f64>, &Array1<f64>) -> f64,
            stacked_columns_grad as Grad,
        ),
        ("concatenate!", concatenated_rows, concatenated_rows_grad),
    ] {
        let (y, (ga, gb)) = grad(&a, &b);
        close(what, y, a.dot(&a) + 2.0 * b.dot(&b), TOL);
        close_arr(what, &ga, &(&a * 2.0));
        close_arr(what, &gb, &(&b * 4.0));
        fd_array(what, |a: &Array1<f64>| f(a, &b), &a, &ga);
    }
    forward("stacked_columns").check(
        &(a.clone(), b.clone()),
        |(a, b)| stacked_columns(a, b),
        |(a, b), (da, db)| stacked_columns_jvp(a, b, da, db),
        |(a, b), g| {
            let (y, pb) = stacked_columns_vjp(a, b);
            (y, pb(g))
        },
    );
}

/// A join inside a loop, of a growing vector and a row of a matrix, and second order:
/// h = [x; a₀; …; a_{r−1}] (rows of `a`), f = Σ sin(hₖ)·hₖ. Its Hessian is diagonal in the
/// entries of h, with (sin t · t)'' = 2cos t − t·sin t.
#[differentiate(hessian)]
fn grown(x: &Array1<f64>, a: &Array2<f64>) -> f64 {
    let mut h = x.clone();
    for i in 0..a.nrows() {
        h = concatenate(Axis(0), &[h.view(), a.row(i)]).unwrap();
    }
    (h.sin() * &h).sum()
}

#[test]
fn concatenate_in_a_loop_and_its_hessian() {
    let (x, a) = (vector(2, 0.3), matrix(3, 2, 1.2));
    let (_, (gx, ga)) = grown_grad(&x, &a);
    let d = |t: f64| t.sin() + t * t.cos();
    close_arr("∂/∂x", &gx, &x.mapv(d));
    close_arr("∂/∂a", &ga, &a.mapv(d));
    fd_array("∂/∂a", |a: &Array2<f64>| grown(&x, a), &a, &ga);
    let (vx, va) = (vector(2, 4.0), matrix(3, 2, 5.0));
    let (_, _, (hx, ha)) = grown_hvp(&x, &a, &vx, &va);
    let d2 = |t: f64| 2.0 * t.cos() - t * t.sin();
    close_arr("(H·v) x", &hx, &(x.mapv(d2) * &vx));
    close_arr("(H·v) a", &ha, &(a.mapv(d2) * &va));
}

// ---------------------------------------------------------------------------------------------
// from_shape_fn.
// ---------------------------------------------------------------------------------------------

/// A matrix built by `from_shape_fn` from differentiated values, and a vector from a row of it:
/// mᵢⱼ = wᵢ·xⱼ, vⱼ = m₀ⱼ + xⱼ², f = Σ m + Σ v·x. So ∂/∂w = (Σ x, 0, …) + x₀-weighted…; checked
/// against the same function written with element loops (the form the lowering follows) and
/// central differences: ∂f/∂wᵢ = Σⱼ xⱼ + [i = 0]·Σⱼ xⱼ², ∂f/∂xⱼ = Σᵢ wᵢ + 2w₀xⱼ + 3xⱼ².
#[differentiate]
fn outer_built(w: &Array1<f64>, x: &Array1<f64>) -> f64 {
    let m = Array2::from_shape_fn((w.len(), x.len()), |(i, j)| w[i] * x[j]);
    let v = Array1::from_shape_fn(x.len(), |j| m[[0, j]] + x[j] * x[j]);
    m.sum() + v.dot(x)
}

#[test]
fn from_shape_fn_with_differentiated_closures() {
    let (w, x) = (vector(3, 0.25), vector(4, 1.75));
    let (v, (gw, gx)) = outer_built_grad(&w, &x);
    close("value", v, outer_built(&w, &x), TOL);
    let (sx, sx2) = (x.sum(), x.dot(&x));
    let ew = Array1::from_shape_fn(3, |i| sx + if i == 0 { sx2 } else { 0.0 });
    let ex = x.mapv(|t| w.sum() + 2.0 * w[0] * t + 3.0 * t * t);
    close_arr("∂/∂w", &gw, &ew);
    close_arr("∂/∂x", &gx, &ex);
    fd_array("∂/∂x", |x: &Array1<f64>| outer_built(&w, x), &x, &gx);
    forward("outer_built").check(
        &(w.clone(), x.clone()),
        |(w, x)| outer_built(w, x),
        |(w, x), (dw, dx)| outer_built_jvp(w, x, dw, dx),
        |(w, x), g| {
            let (y, pb) = outer_built_vjp(w, x);
            (y, pb(g))
        },
    );
}

/// Index arrays taken as parameters without `wrt`: `Array1<usize>` is data, as `Vec<usize>` is.
/// f = Σₖ a[idx[k]]²: ∂aᵢ = 2aᵢ·(times i is picked).
#[differentiate]
fn picked_by_index_array(a: &Array1<f64>, idx: &Array1<usize>) -> f64 {
    let mut s = 0.0;
    for k in 0..idx.len() {
        s += a[idx[k]] * a[idx[k]];
    }
    s
}

#[test]
fn an_index_array_parameter_is_data() {
    let a = vector(3, 0.6);
    let idx = Array1::from(vec![0usize, 2, 2]);
    let (v, g) = picked_by_index_array_grad(&a, &idx);
    close("value", v, picked_by_index_array(&a, &idx), TOL);
    let e = Array1::from(vec![2.0 * a[0], 0.0, 4.0 * a[2]]);
    close_arr("∂/∂a", &g, &e);
}
