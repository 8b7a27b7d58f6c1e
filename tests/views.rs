//! ndarray views as parameters of differentiated functions (`b: ArrayView1<'_, f64>`,
//! `m: ArrayView2<f64>`, `ArrayView<'a, T, Ix2>`, `&ArrayView1<f64>`): their gradient is the
//! owned array of the same element type and dimension, their tangent in forward mode that array
//! borrowed (as for `&Array1<f64>`), and calls that pass a view of a differentiated array
//! (`g(a.row(i))`, `g(x.view())`, `g(a.column(j))`) bring the gradient back to the array.
//!
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
use ndarray::{Array1, Array2, ArrayView, ArrayView1, ArrayView2, Ix2, s};
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
