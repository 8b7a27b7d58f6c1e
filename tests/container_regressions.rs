//! Functions whose gradients were once silently wrong (or panicked where the function does not)
//! because a method changed a container holding differentiated values behind the derivative's
//! back. Each is written exactly as it was found, at x = 0.5, y = 0.7, xs = [3.0], and checked
//! against its analytic gradient (in the comment) and central finite differences.

// The functions are written as they were found, `vec!` included.
#![allow(clippy::useless_vec)]

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

const X: f64 = 0.5;
const Y: f64 = 0.7;

/// [x, y] reversed: v[0]·2 = 2y, gradient (0, 2) (once (2, 0)).
#[differentiate]
fn reversed_vec(x: f64, y: f64) -> f64 {
    let mut v = vec![0.0; 2];
    v[0] = x;
    v[1] = y;
    v.reverse();
    v[0] * 2.0
}

/// The same on an array.
#[differentiate]
fn reversed_array(x: f64, y: f64) -> f64 {
    let mut a = [0.0; 2];
    a[0] = x;
    a[1] = y;
    a.reverse();
    a[0] * 2.0
}

/// [x, y] rotated left by one: [y, x]; gradient (0, 2).
#[differentiate]
fn rotated(x: f64, y: f64) -> f64 {
    let mut v = vec![0.0; 2];
    v[0] = x;
    v[1] = y;
    v.rotate_left(1);
    v[0] * 2.0
}

/// [x] with x² inserted in front: x² + x, derivative 2x + 1 = 2 (once 1).
#[differentiate]
fn inserted(x: f64) -> f64 {
    let mut v = vec![0.0; 1];
    v[0] = x;
    v.insert(0, x * x);
    v[0] + v[1]
}

/// [x] extended by xs: x·xs₀, gradient (xs₀, [x]) (once d/dxs = 0).
#[differentiate]
fn extended(x: f64, xs: &[f64]) -> f64 {
    let mut v = vec![0.0; 1];
    v[0] = x;
    v.extend_from_slice(xs);
    v[0] * v[1]
}

/// [x] resized to [x, y, y]: y·x, gradient (y, x) (once (y, 0)).
#[differentiate]
fn resized(x: f64, y: f64) -> f64 {
    let mut v = vec![0.0; 1];
    v[0] = x;
    v.resize(3, y);
    v[2] * v[0]
}

/// [x, y, 0] truncated to [x]: x·1, gradient (1, 0) (the gradient once panicked).
#[differentiate]
fn truncated(x: f64, y: f64) -> f64 {
    let mut v = vec![0.0; 3];
    v[0] = x;
    v[1] = y;
    v.truncate(1);
    v[0] * v.len() as f64
}

/// x² pushed into a caller's buffer and read back: 3x², derivative 6x = 9 at 1.5 (once 0).
#[differentiate]
fn pushed(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * x);
    out[0] * 3.0
}

fn check2(name: &str, f: impl Fn(f64, f64) -> f64, got: (f64, f64), want: (f64, f64)) {
    close(&format!("{name} ∂x"), got.0, want.0, TOL);
    close(&format!("{name} ∂y"), got.1, want.1, TOL);
    let r = gradcheck(|p: &(f64, f64)| f(p.0, p.1), &(X, Y), &got);
    assert!(r.passed(), "{name}: {r}");
}

#[test]
fn permutations_send_the_cotangent_back_to_where_values_came_from() {
    let (v, g) = reversed_vec_grad(X, Y);
    assert_eq!(v, reversed_vec(X, Y));
    check2("reverse (Vec)", reversed_vec, g, (0.0, 2.0));
    let (v, g) = reversed_array_grad(X, Y);
    assert_eq!(v, reversed_array(X, Y));
    check2("reverse (array)", reversed_array, g, (0.0, 2.0));
    let (v, g) = rotated_grad(X, Y);
    assert_eq!(v, rotated(X, Y));
    check2("rotate_left", rotated, g, (0.0, 2.0));
}

#[test]
fn insert_extend_resize_and_truncate() {
    let (v, d) = inserted_grad(X);
    assert_eq!(v, inserted(X));
    close("insert", d, 2.0 * X + 1.0, TOL);
    let r = gradcheck(|x: &f64| inserted(*x), &X, &d);
    assert!(r.passed(), "insert: {r}");

    let xs = vec![3.0];
    let (v, (dx, dxs)) = extended_grad(X, &xs);
    assert_eq!(v, extended(X, &xs));
    close("extend_from_slice ∂x", dx, xs[0], TOL);
    close("extend_from_slice ∂xs", dxs[0], X, TOL);
    let r = gradcheck(
        |p: &(f64, Vec<f64>)| extended(p.0, &p.1),
        &(X, xs.clone()),
        &(dx, dxs),
    );
    assert!(r.passed(), "extend_from_slice: {r}");

    let (v, g) = resized_grad(X, Y);
    assert_eq!(v, resized(X, Y));
    check2("resize", resized, g, (Y, X));

    let (v, g) = truncated_grad(X, Y);
    assert_eq!(v, truncated(X, Y));
    check2("truncate", truncated, g, (1.0, 0.0));
}

#[test]
fn a_value_pushed_into_a_mut_buffer_and_read_back() {
    let x = 1.5;
    let mut out = Vec::new();
    let (v, (d, _)) = pushed_grad(x, &mut out);
    let mut plain = Vec::new();
    assert_eq!(v, pushed(x, &mut plain));
    // The buffer ends as the plain function leaves it.
    assert_eq!(out, plain);
    close("push into &mut", d, 6.0 * x, TOL);
}
