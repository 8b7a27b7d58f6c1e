//! Programs that are valid Rust and inside the supported subset, each the smallest form of a
//! class that once failed with a rustc error inside the generated code (or was rejected):
//! a local vector written in a loop inside an `if`, an early return before a loop that writes
//! the vector it read, `*v` in a condition, literals as the receivers of `f64::cos(1.0)`-style paths, a `return` in an
//! `else` inside a loop, stray semicolons. Each is checked against its analytic gradient
//! (stated in a comment) and central finite differences. Locals and parameters lent to calls
//! are in `borrows.rs`.

#![allow(
    clippy::needless_range_loop,
    clippy::assign_op_pattern,
    clippy::needless_borrow
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array1, Array2, array, s};

mod common;
use common::*;

/// h₀ = x, then n more x when n ≠ 1: g = x·(1 + n·[n ≠ 1]).
#[differentiate]
fn written_in_a_loop_in_an_if(x: f64, n: usize) -> f64 {
    let mut h = vec![0.0; n + 3];
    h[0] = x;
    if n != 1 {
        for _ in 0..n {
            h[0] += x;
        }
    }
    h[0]
}

/// a > 0.7: h₀·a = 0 (h₀ = 0); else a + h₀ with h₀ = a² when m > 0.
#[differentiate]
fn early_return_then_a_loop_writes(a: f64, m: usize) -> f64 {
    let mut h = vec![0.0; m + 2];
    if a > 0.7 {
        return h[0] * a;
    }
    for i in 0..m {
        h[i] = a * a;
    }
    a + h[0]
}

/// Σ tanh(vᵢ)·x + x·#{vᵢ > x}: ∂x = Σ tanh vᵢ + #{vᵢ > x}, ∂vᵢ = x·(1 − tanh² vᵢ).
#[differentiate]
fn deref_in_a_condition(x: f64, xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in xs {
        s += (*v).tanh() * x;
        if *v > x {
            s += x;
        }
    }
    s
}

/// cos(1)·a + max(2, a) + 3² + sin(1): ∂a = cos 1 (+ 1 where a > 2).
#[differentiate]
fn literal_receivers_of_paths(a: f64) -> f64 {
    f64::cos(1.0) * a + f64::max(2.0, a) + f64::powi(3.0, 2) + f32::sin(1.0) as f64
}

/// x^(1 + min(n, 2)), returned from the `else` of the third iteration when n > 2, then
/// doubled: 2x³.
#[differentiate]
fn return_in_an_else_in_a_loop(x: f64, n: usize) -> f64 {
    let mut s = x;
    for i in 0..n {
        if i < 2 {
            s = s * x;
        } else {
            return s * 2.0;
        }
    }
    s
}

/// 2x² if x > 0, else x².
#[differentiate]
#[allow(redundant_semicolons)]
fn stray_semicolons(x: f64) -> f64 {
    let y = x * x;
    let z = {
        let w = y;
        w * 2.0
    };
    if x > 0.0 { z } else { y }
}

#[test]
fn locals_written_in_nested_control_flow() {
    for (x, n) in [(0.7, 3), (-1.2, 1), (0.3, 0)] {
        let (y, d) = written_in_a_loop_in_an_if_grad(x, n);
        assert_eq!(y, written_in_a_loop_in_an_if(x, n));
        let k = if n != 1 { n as f64 } else { 0.0 };
        close("written in a loop in an if", d, 1.0 + k, TOL);
    }
    for (a, m) in [(0.9, 3), (0.5, 3), (0.5, 0)] {
        let (y, d) = early_return_then_a_loop_writes_grad(a, m);
        assert_eq!(y, early_return_then_a_loop_writes(a, m));
        let expected = if a > 0.7 {
            0.0
        } else if m > 0 {
            1.0 + 2.0 * a
        } else {
            1.0
        };
        close("early return, then a loop", d, expected, TOL);
        fd(
            "early return, then a loop",
            |a| early_return_then_a_loop_writes(a, m),
            a,
            d,
        );
    }
}

#[test]
fn slice_elements_dereferenced() {
    let xs = [2.0, 0.1, -0.4];
    let x = 0.5;
    let (y, (dx, dxs)) = deref_in_a_condition_grad(x, &xs);
    assert_eq!(y, deref_in_a_condition(x, &xs));
    let count = xs.iter().filter(|&&v| v > x).count() as f64;
    close(
        "∂x",
        dx,
        xs.iter().map(|v| v.tanh()).sum::<f64>() + count,
        TOL,
    );
    for (k, v) in xs.iter().enumerate() {
        close("∂vₖ", dxs[k], x * (1.0 - v.tanh().powi(2)), TOL);
    }
}

#[test]
fn literals_returns_in_else_and_empty_statements() {
    for a in [0.5, 3.0] {
        let (y, d) = literal_receivers_of_paths_grad(a);
        assert_eq!(y, literal_receivers_of_paths(a));
        close(
            "literal receivers",
            d,
            1f64.cos() + if a > 2.0 { 1.0 } else { 0.0 },
            TOL,
        );
    }
    for (n, expected) in [(0usize, 1.0), (1, 2.0 * 0.5), (4, 6.0 * 0.25)] {
        let x = 0.5;
        let (y, d) = return_in_an_else_in_a_loop_grad(x, n);
        assert_eq!(y, return_in_an_else_in_a_loop(x, n));
        close(&format!("return in an else, n = {n}"), d, expected, TOL);
    }
    for x in [0.5, -0.5] {
        let (y, d) = stray_semicolons_grad(x);
        assert_eq!(y, stray_semicolons(x));
        close(
            "stray semicolons",
            d,
            if x > 0.0 { 4.0 * x } else { 2.0 * x },
            TOL,
        );
    }
}

/// Literals written with a trailing dot or an exponent: 2x + 3 + sin(2x) + 1e-3 + 250x.
#[differentiate]
fn literal_forms(x: f64) -> f64 {
    let y = 2.;
    x * 2. + 3.0 + (y * x).sin() + 1e-3 + 2.5e2 * x
}

/// A by-value `Vec` read inside a branch: t·x with t = v₀ (or x when v is empty).
#[differentiate]
fn owned_vec_read_in_a_branch(x: f64, v: Vec<f64>) -> f64 {
    let t = if !v.is_empty() { v[0] } else { x };
    t * x
}

/// `h.pop();` as a statement discards the element: 2·h₀ = 2x.
#[differentiate]
fn pop_as_a_statement(x: f64) -> f64 {
    let mut h = vec![0.0; 3];
    h[0] = x;
    h.push(x * x);
    h.pop();
    h[0] * 2.0
}

/// A condition that is a block: x if x² > 1, else 2x.
#[differentiate]
fn block_in_a_condition(x: f64) -> f64 {
    if {
        let z = x;
        z * z
    } > 1.0
    {
        x
    } else {
        2.0 * x
    }
}

#[test]
fn literal_forms_options_and_block_conditions() {
    for x in [0.5, -1.5] {
        let (y, d) = literal_forms_grad(x);
        assert_eq!(y, literal_forms(x));
        close("literal forms", d, 2.0 + 2.0 * (2.0 * x).cos() + 250.0, TOL);

        let (y, (dx, dv)) = owned_vec_read_in_a_branch_grad(x, vec![2.0]);
        assert_eq!(y, owned_vec_read_in_a_branch(x, vec![2.0]));
        assert_eq!((dx, dv), (2.0, vec![x]));
        let (y, (dx, dv)) = owned_vec_read_in_a_branch_grad(x, vec![]);
        assert_eq!(y, x * x);
        assert_eq!((dx, dv), (2.0 * x, vec![]));

        let (y, d) = pop_as_a_statement_grad(x);
        assert_eq!((y, d), (2.0 * x, 2.0));

        let (y, d) = block_in_a_condition_grad(x);
        assert_eq!(y, block_in_a_condition(x));
        assert_eq!(d, if x * x > 1.0 { 1.0 } else { 2.0 });
    }
}

/// A tuple built to be taken apart: Σ aᵢuᵢ, ∂a = u, ∂u = a.
#[differentiate]
fn tuple_of_arrays_taken_apart(a: &Array1<f64>, u: &Array1<f64>) -> f64 {
    let (a, u) = (a.to_owned(), u.to_owned());
    (&a * &u).sum()
}

/// A vector sized from a differentiated slice's length: h₀·x₁ with h₀ = x₀.
#[differentiate]
fn sized_from_a_length(x: &[f64]) -> f64 {
    let mut h = vec![0.0; x.len() - 1];
    h[0] = x[0];
    h[0] * x[1]
}

/// A float method on an element of a local array: e^(a₀a₁).
#[differentiate(hessian)]
fn method_on_a_local_element(a: &[f64]) -> f64 {
    let mut v = [0.0; 2];
    v[0] = a[0] * a[1];
    v[0].exp()
}

#[test]
fn tuples_lengths_and_local_elements() {
    let (a, u) = (array![1.0, -2.0, 0.5], array![0.25, 3.0, -1.0]);
    let (y, (da, du)) = tuple_of_arrays_taken_apart_grad(&a, &u);
    assert_eq!(y, tuple_of_arrays_taken_apart(&a, &u));
    assert_eq!((da, du), (u.clone(), a.clone()));

    let x = [1.5, -2.0, 4.0];
    let (y, d) = sized_from_a_length_grad(&x);
    assert_eq!(y, sized_from_a_length(&x));
    assert_eq!(d, vec![x[1], x[0], 0.0]);

    // ∂ = e^(a₀a₁)(a₁, a₀); H = e^(a₀a₁)[[a₁², 1 + a₀a₁], [1 + a₀a₁, a₀²]]
    let a = [0.5f64, -0.75];
    let e = (a[0] * a[1]).exp();
    let (y, g, hv) = method_on_a_local_element_hvp(&a, &vec![1.0, 0.0]);
    assert_eq!(y, method_on_a_local_element(&a));
    close("∂a₀", g[0], e * a[1], TOL);
    close("∂a₁", g[1], e * a[0], TOL);
    close("H₀₀", hv[0], e * a[1] * a[1], TOL);
    close("H₁₀", hv[1], e * (1.0 + a[0] * a[1]), TOL);
}

#[differentiate(hessian)]
fn sum_of_squares(s: &[f64]) -> f64 {
    s.iter().map(|v| v * v).sum()
}

#[differentiate(hessian)]
fn first_times_three(a: &[f64; 2]) -> f64 {
    a[0] * 3.0
}

/// Arrays lent as slices (and as arrays): x·(|a|² + |r|² + 3a₀) + |b|² with b = [x, 0].
#[differentiate(hessian)]
fn arrays_lent_as_slices(x: f64, mut a: [f64; 2], r: &[f64; 2]) -> f64 {
    a.reverse();
    let t = sum_of_squares(&a) + sum_of_squares(r) + first_times_three(&a);
    let mut b = [0.0; 2];
    b[0] = x;
    t * x + sum_of_squares(&b)
}

/// A `&mut` buffer lent to a call after a push: buf·buf = x², plus x.
#[differentiate]
fn buffer_lent_after_a_push(x: f64, buf: &mut Vec<f64>) -> f64 {
    buf.push(x);
    sum_of_squares(&buf) + x
}

#[test]
fn arrays_and_buffers_lent_to_calls() {
    let (x, a, r) = (2.0, [3.0, -1.0], [1.0, 5.0]);
    let (y, (dx, da, dr)) = arrays_lent_as_slices_grad(x, a, &r);
    assert_eq!(y, arrays_lent_as_slices(x, a, &r));
    // after the reverse, a = [−1, 3]: t = 10 + 26 − 3 = 33
    assert_eq!(y, 33.0 * x + x * x);
    assert_eq!(dx, 33.0 + 2.0 * x);
    // ∂a (of the array as passed, before the reverse): x·(2a) + x·3 on what becomes a₀ = a₁
    assert_eq!(da, [x * 2.0 * a[0], x * (2.0 * a[1] + 3.0)]);
    assert_eq!(dr, [x * 2.0 * r[0], x * 2.0 * r[1]]);
    let (_, t) = arrays_lent_as_slices_jvp(x, a, &r, 1.0, [0.0, 0.0], &[0.0, 0.0]);
    assert_eq!(t, dx);
    // ∂²/∂x∂a₁ = 2a₁ + 3
    let (_, _, (_, hv_a, _)) = arrays_lent_as_slices_hvp(x, a, &r, 1.0, [0.0, 0.0], &[0.0, 0.0]);
    assert_eq!(hv_a, [2.0 * a[0], 2.0 * a[1] + 3.0]);

    let mut buf = vec![0.5];
    let (y, (dx, dbuf)) = buffer_lent_after_a_push_grad(1.5, &mut buf);
    assert_eq!(y, 0.25 + 2.25 + 1.5);
    assert_eq!((dx, dbuf), (4.0, vec![1.0]));
    assert_eq!(buf, vec![0.5, 1.5]);
}

/// A vector of an array's elements, extended: h = [a₀, a₁, x], h₀·h₂ + h₁ = a₀x + a₁.
#[differentiate]
fn vec_of_an_array(x: f64, a: [f64; 2]) -> f64 {
    let mut h = a.to_vec();
    h.push(x);
    h[0] * h[2] + h[1]
}

/// A vector filled in a loop that ends in a branch, and a scalar of a type the macro cannot
/// see carried beside it: h = [a₁x; 3] after the loop, so h₀ = a₁x; s = 3·c·x.
#[differentiate]
fn filled_in_a_loop(x: f32, a: [f32; 3]) -> f32 {
    let mut h = a.to_vec();
    let mut s = f32::default();
    let mut k = 0;
    loop {
        h.fill(a[1] * x);
        s += SCALE * x;
        k += 1;
        if k >= 3 {
            break;
        }
    }
    h[0] + s
}

const SCALE: f32 = 0.5;

/// An array declared with its type, lent twice: b = [2x], b₀·b₀ = 4x².
#[differentiate]
fn declared_array_lent_twice(x: f64) -> f64 {
    let mut b: [f64; 1] = [0.0; 1];
    b[0] = x * 2.0;
    first_times_second(&b, &b)
}

#[differentiate]
fn first_times_second(a: &[f64], b: &[f64]) -> f64 {
    a[0] * b[0]
}

#[test]
fn arrays_copied_filled_and_declared() {
    let (y, (dx, da)) = vec_of_an_array_grad(2.0, [3.0, 4.0]);
    assert_eq!((y, dx, da), (10.0, 3.0, [2.0, 1.0]));
    let (y, (dx, da)) = filled_in_a_loop_grad(2.0, [1.0, 3.0, 4.0]);
    assert_eq!(y, filled_in_a_loop(2.0, [1.0, 3.0, 4.0]));
    assert_eq!((dx, da), (3.0 + 3.0 * SCALE, [0.0, 2.0, 0.0]));
    let (y, d) = declared_array_lent_twice_grad(2.0);
    assert_eq!((y, d), (16.0, 16.0));
    assert_eq!(declared_array_lent_twice_jvp(2.0, 1.0), (16.0, 16.0));
}

/// ys₀·ys₁.
#[differentiate]
fn weigh_pair(ys: &[f64]) -> f64 {
    ys[0] * ys[1]
}

/// An array parameter changed in a loop and a branch, then lent as a slice (found by the
/// random-program test: the callee's `Vec` gradient was added to the array's, E0308 inside the
/// generated code). With a = [p, q]: after the loop a = [p·1.5ⁿ, q]; for q > 0 it is reversed.
/// f = a₀·a₁·a₀: q > 0: q²·p·1.5ⁿ, so ∂p = q²·1.5ⁿ, ∂q = 2pq·1.5ⁿ; else p²q·1.5²ⁿ.
#[differentiate]
fn lent_after_a_loop(mut a: [f64; 2], n: usize) -> f64 {
    let mut k = 0;
    while k < n {
        a[0] *= 1.5;
        k += 1;
    }
    if a[1] > 0.0 {
        a.reverse();
    }
    weigh_pair(&a) * a[0]
}

#[test]
fn array_versions_from_loops_and_branches_lent_as_slices() {
    for (p, q, n) in [(0.5, 0.8, 2), (0.5, -0.8, 3), (-1.2, 0.4, 0)] {
        let (v, g) = lent_after_a_loop_grad([p, q], n);
        assert_eq!(v, lent_after_a_loop([p, q], n));
        let s = 1.5f64.powi(n as i32);
        let expected = if q > 0.0 {
            [q * q * s, 2.0 * p * q * s]
        } else {
            [2.0 * p * q * s * s, p * p * s * s]
        };
        close("∂p", g[0], expected[0], TOL);
        close("∂q", g[1], expected[1], TOL);
        let r = autodiff::check::gradcheck(|a: &[f64; 2]| lent_after_a_loop(*a, n), &[p, q], &g);
        assert!(r.passed(), "{r}");
    }
}

/// Literals assigned to variables declared with a float type, then used as method receivers
/// (found by the random-program test: E0689 "ambiguous numeric type" at `x.abs()`, since the
/// generated code no longer had the declaration next to the use). With x reset to −10⁻³:
/// t = x/(|x| + 1) is a constant, f = −t·|c| + √s with c = 2.5 (n > 1) or −1, s = 0.5, so the
/// gradient is 0 whatever x.
#[allow(unused_assignments, unused_parens, clippy::needless_late_init)]
#[differentiate]
fn literals_assigned_to_declared_floats(mut x: f64, n: usize) -> f64 {
    x = -(1e-3);
    let t = (x / ((x).abs() + 1.0));
    let c: f64;
    if n > 1 {
        c = 2.5;
    } else {
        c = -0.5 * 2.0;
    }
    let mut s: f32 = 1.0;
    s = 0.5;
    x = -t;
    x * c.abs() + (s.sqrt() as f64)
}

#[test]
fn literal_assignments_take_the_declared_type() {
    for n in [0, 3] {
        let (v, d) = literals_assigned_to_declared_floats_grad(0.3, n);
        assert_eq!(v, literals_assigned_to_declared_floats(0.3, n));
        let t = -1e-3 / (1e-3 + 1.0);
        let c: f64 = if n > 1 { 2.5 } else { -1.0 };
        close("value", v, -t * c.abs() + 0.5f32.sqrt() as f64, TOL);
        assert_eq!(d, 0.0);
    }
}

/// A sum named `s` beside ndarray's `s![..]`: the macro's name is not the variable (the
/// program was rejected as a macro reading a differentiated value). With rᵢ = Xᵢ·w,
/// f = Σᵢ rᵢ², so ∂f/∂w = 2 Σᵢ rᵢ Xᵢ and ∂f/∂Xᵢⱼ = 2 rᵢ wⱼ.
#[differentiate]
fn sum_named_like_the_slice_macro(xs: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.nrows() {
        let r = xs.slice(s![i, ..]).dot(w);
        s += r * r;
    }
    s
}

/// Rows and columns of a matrix, read as users read them: rᵢ = Xᵢ·w (`row`), plus the first
/// column's entries (`column`): f = Σᵢ rᵢ² + Σᵢ Xᵢ₀, so ∂f/∂Xᵢⱼ = 2 rᵢ wⱼ + [j = 0] and
/// ∂f/∂w = 2 Σᵢ rᵢ Xᵢ.
#[differentiate]
fn rows_and_columns(xs: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut t = 0.0;
    for i in 0..xs.nrows() {
        let r = xs.row(i).dot(w);
        t += r * r + xs.column(0)[i];
    }
    t
}

#[test]
fn rows_columns_and_a_sum_named_s() {
    let xs = array![[1.0, 2.0], [0.5, -1.0], [0.3, 0.7]];
    let w = array![0.3, 0.2];
    let r = xs.dot(&w);
    let gw = 2.0 * xs.t().dot(&r);
    let mut gx = Array2::zeros(xs.dim());
    for i in 0..3 {
        for j in 0..2 {
            gx[[i, j]] = 2.0 * r[i] * w[j];
        }
    }
    let (v, (dx, dw)) = sum_named_like_the_slice_macro_grad(&xs, &w);
    close("value", v, r.dot(&r), TOL);
    for (a, b) in dx.iter().zip(&gx) {
        close("∂/∂X", *a, *b, TOL);
    }
    for (a, b) in dw.iter().zip(&gw) {
        close("∂/∂w", *a, *b, TOL);
    }
    let (v, (dx2, dw2)) = rows_and_columns_grad(&xs, &w);
    close("value", v, r.dot(&r) + xs.column(0).sum(), TOL);
    gx.column_mut(0).mapv_inplace(|g| g + 1.0);
    for (a, b) in dx2.iter().zip(&gx) {
        close("∂/∂X (rows)", *a, *b, TOL);
    }
    for (a, b) in dw2.iter().zip(&gw) {
        close("∂/∂w (rows)", *a, *b, TOL);
    }
    let r = gradcheck(|x: &Array2<f64>| rows_and_columns(x, &w), &xs, &dx2);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|w: &Array1<f64>| rows_and_columns(&xs, w), &w, &dw2);
    assert!(r.passed(), "{r}");
}
