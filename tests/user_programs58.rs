//! A differentiated function's signature and its exits written as Rust code writes them:
//! parameters as patterns (`(a, b): (f64, f64)`, `&[first, .., last]: &[f64; 4]`, `Point { x, y
//! }: Point`, `mut x: f64`, `_: f64`), tuples and arrays as parameters and results, attributes
//! and doc comments on the function, constants and statics, functions of nested modules called
//! by their paths, and the ways a body leaves: `return` from loops, branches and match arms,
//! guards on the data, `loop { .. break v }`, labelled blocks, `assert!`, `unreachable!()`.
//!
//! Among them, an array pattern with a rest, `let [first, .., last] = x;` (and a parameter
//! written so, `[head, mid @ .., tail]: [f64; 4]`), was an error that said to use a pattern of
//! names: it is bound as the elements at their positions, counted from the end after the `..`.
//!
//! Each gradient is checked against its closed form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's, and some `_jvp` against directional finite differences.

#![allow(clippy::needless_range_loop)] // written as users write them

mod common;
use autodiff::check::{gradcheck, jvpcheck};
use autodiff::differentiate;
use common::*;

const A4: [f64; 4] = [1.5, 2.0, -3.0, 4.0];

// ---------------------------------------------------------------------------------------------
// Array patterns with a rest.
// ---------------------------------------------------------------------------------------------

/// The first element times the last, bound by a parameter pattern through a reference:
/// `∂/∂x[0] = x[3]`, `∂/∂x[3] = x[0]`, zero between.
#[differentiate]
fn ends_ref(&[first, .., last]: &[f64; 4]) -> f64 {
    first * last
}

fn ends_ref_plain(&[first, .., last]: &[f64; 4]) -> f64 {
    first * last
}

#[test]
fn ends_of_a_referenced_array_pattern() {
    let (v, g) = ends_ref_grad(&A4);
    close("value", v, ends_ref_plain(&A4), TOL);
    close_all("gradient", &g, &[A4[3], 0.0, 0.0, A4[0]]);
    let r = gradcheck(|x: &[f64; 4]| ends_ref_plain(x), &A4, &g);
    assert!(r.passed(), "{r}");
    let d = [0.3, -0.1, 0.7, 0.2];
    let (y, dy) = ends_ref_jvp(&A4, &d);
    close("jvp value", y, ends_ref_plain(&A4), TOL);
    close("jvp", dy, A4[3] * d[0] + A4[0] * d[3], TOL);
    let r = jvpcheck(|x: &[f64; 4]| ends_ref_plain(x), &A4, &d, &dy);
    assert!(r.passed(), "{r}");
}

/// `max(first, last) · first` of an array taken by value and taken apart by a `let`: with
/// `last > first`, `∂/∂first = last`, `∂/∂last = first`.
#[differentiate]
fn ends_max(x: [f64; 4]) -> f64 {
    let [first, .., last] = x;
    first.max(last) * first
}

fn ends_max_plain(x: [f64; 4]) -> f64 {
    let [first, .., last] = x;
    first.max(last) * first
}

#[test]
fn ends_of_an_array_by_value() {
    let (v, g) = ends_max_grad(A4);
    close("value", v, ends_max_plain(A4), TOL);
    close_all("gradient", &g, &[A4[3], 0.0, 0.0, A4[0]]);
    let r = gradcheck(|x: &[f64; 4]| ends_max_plain(*x), &A4, &g);
    assert!(r.passed(), "{r}");
}

/// `head · tail + Σ mid²` with `mid @ ..` the two middle elements: `∂/∂head = tail`, `∂/∂tail =
/// head`, `∂/∂mid[k] = 2·mid[k]`.
#[differentiate]
fn head_mid_tail([head, mid @ .., tail]: [f64; 4]) -> f64 {
    head * tail + mid.iter().map(|v| v * v).sum::<f64>()
}

fn head_mid_tail_plain([head, mid @ .., tail]: [f64; 4]) -> f64 {
    head * tail + mid.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn rest_bound_to_a_name() {
    let (v, g) = head_mid_tail_grad(A4);
    close("value", v, head_mid_tail_plain(A4), TOL);
    close_all("gradient", &g, &[A4[3], 2.0 * A4[1], 2.0 * A4[2], A4[0]]);
    let r = gradcheck(|x: &[f64; 4]| head_mid_tail_plain(*x), &A4, &g);
    assert!(r.passed(), "{r}");
    let d = [0.1, 0.2, -0.4, 0.5];
    let (_, dy) = head_mid_tail_jvp(A4, d);
    let r = jvpcheck(|x: &[f64; 4]| head_mid_tail_plain(*x), &A4, &d, &dy);
    assert!(r.passed(), "{r}");
}

/// `a·b·2 + a` of the first two elements of a referenced array, bound as references (`*a`
/// reads one): `∂/∂x[0] = 2·b + 1`, `∂/∂x[1] = 2·a`.
#[differentiate]
fn front_pair(x: &[f64; 4]) -> f64 {
    let [a, b, ..] = x;
    a * b * 2.0 + *a
}

fn front_pair_plain(x: &[f64; 4]) -> f64 {
    let [a, b, ..] = x;
    a * b * 2.0 + *a
}

#[test]
fn leading_names_bound_by_reference() {
    let (v, g) = front_pair_grad(&A4);
    close("value", v, front_pair_plain(&A4), TOL);
    close_all("gradient", &g, &[2.0 * A4[1] + 1.0, 2.0 * A4[0], 0.0, 0.0]);
    let r = gradcheck(|x: &[f64; 4]| front_pair_plain(x), &A4, &g);
    assert!(r.passed(), "{r}");
}

/// The first element times the first of the rest (`rest[0]`, the second) and the last of the
/// array, read through `let [first, rest @ ..] = x;` of a reference: `∂/∂x[0] = x[1] + x[3]`,
/// `∂/∂x[1] = x[0]`, `∂/∂x[3] = x[0]`.
#[differentiate]
fn first_and_rest(x: &[f64; 4]) -> f64 {
    let [first, rest @ ..] = x;
    first * (rest[0] + rest[2])
}

fn first_and_rest_plain(x: &[f64; 4]) -> f64 {
    let [first, rest @ ..] = x;
    first * (rest[0] + rest[2])
}

#[test]
fn rest_of_a_referenced_array() {
    let (v, g) = first_and_rest_grad(&A4);
    close("value", v, first_and_rest_plain(&A4), TOL);
    close_all("gradient", &g, &[A4[1] + A4[3], A4[0], 0.0, A4[0]]);
    let r = gradcheck(|x: &[f64; 4]| first_and_rest_plain(x), &A4, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A struct returned from inside a loop (its type derives `Default`, which the value is carried
// out of the loop in; without it, an error at the loop that says so,
// `tests/ui/return_in_loop_without_default.rs`).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, autodiff::Differentiable)]
pub struct Body {
    pub x: f64,
    pub v: f64,
}

/// Explicit Euler steps of a falling body until it passes the floor: `x_{k+1} = x_k + v_k·dt`,
/// `v_{k+1} = v_k − g·dt`. With the floor crossed at step `k` (fixed near the point), `x_k = x0
/// + k·v0·dt − g·dt²·k(k−1)/2` and `v_k = v0 − k·g·dt`, so `∂x_k/∂x0 = 1`, `∂x_k/∂v0 = k·dt`,
/// `∂v_k/∂v0 = 1`, `∂v_k/∂x0 = 0`.
#[differentiate(wrt(s0))]
fn fall(s0: Body, dt: f64, steps: usize) -> Body {
    let mut s = s0;
    for _ in 0..steps {
        s = Body {
            x: s.x + s.v * dt,
            v: s.v - 9.81 * dt,
        };
        if s.x < 0.0 {
            return s;
        }
    }
    s
}

fn fall_plain(s0: Body, dt: f64, steps: usize) -> (Body, usize) {
    let mut s = s0;
    for k in 0..steps {
        s = Body {
            x: s.x + s.v * dt,
            v: s.v - 9.81 * dt,
        };
        if s.x < 0.0 {
            return (s, k + 1);
        }
    }
    (s, steps)
}

#[test]
fn struct_returned_from_a_loop() {
    let (dt, steps) = (0.05, 200);
    let s0 = Body { x: 1.0, v: 0.3 };
    let (plain, k) = fall_plain(s0, dt, steps);
    assert!(k < steps, "the floor is crossed inside the loop");
    let (s, pullback) = fall_vjp(s0, dt, steps);
    close("x", s.x, plain.x, TOL);
    close("v", s.v, plain.v, TOL);
    let gx = pullback(Body { x: 1.0, v: 0.0 });
    close("∂x/∂x0", gx.x, 1.0, TOL);
    close("∂x/∂v0", gx.v, k as f64 * dt, TOL);
    let gv = fall_vjp(s0, dt, steps).1(Body { x: 0.0, v: 1.0 });
    close("∂v/∂x0", gv.x, 0.0, TOL);
    close("∂v/∂v0", gv.v, 1.0, TOL);
    let r = gradcheck(
        |p: &(f64, f64)| fall_plain(Body { x: p.0, v: p.1 }, dt, steps).0.x,
        &(s0.x, s0.v),
        &(gx.x, gx.v),
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Closure parameters called on data: `impl Fn(usize) -> f64` and a type parameter `F: Fn(..)`
// are data, as `&impl Fn(..)`, `&dyn Fn(..)` and `fn(..)` are. (They were an error that said
// `impl Trait` parameters are not supported, and one that said `F` has no float bound.)
// ---------------------------------------------------------------------------------------------

/// `Σ w(i)·x_i²` with the weight a closure bounded in a `where` clause: `∂/∂x_i = 2·w(i)·x_i`.
#[differentiate]
fn scheduled<F>(x: &[f64], w: F) -> f64
where
    F: Fn(usize) -> f64,
{
    x.iter().enumerate().map(|(i, v)| w(i) * v * v).sum()
}

fn scheduled_plain<F: Fn(usize) -> f64>(x: &[f64], w: F) -> f64 {
    x.iter().enumerate().map(|(i, v)| w(i) * v * v).sum()
}

/// `Σ w(i)·exp(x_i)` with `w: impl Fn(usize) -> f64`: `∂/∂x_i = w(i)·exp(x_i)`.
#[differentiate]
fn discounted(x: &[f64], w: impl Fn(usize) -> f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w(i) * x[i].exp();
    }
    s
}

fn discounted_plain(x: &[f64], w: impl Fn(usize) -> f64) -> f64 {
    (0..x.len()).map(|i| w(i) * x[i].exp()).sum()
}

#[test]
fn closure_parameters_called_on_data() {
    let x = [0.4, -1.1, 0.9];
    let w = |i: usize| 1.0 / (i as f64 + 1.0);
    let (v, g) = scheduled_grad(&x, w);
    close("value", v, scheduled_plain(&x, w), TOL);
    let expected: Vec<f64> = (0..3).map(|i| 2.0 * w(i) * x[i]).collect();
    close_all("gradient", &g, &expected);
    fd_vec("gradient", |x| scheduled_plain(x, w), &x, &g);
    let d = [0.3, 0.5, -0.2];
    let (_, dy) = scheduled_jvp(&x, w, &d.to_vec());
    let r = jvpcheck(
        |p: &Vec<f64>| scheduled_plain(p, w),
        &x.to_vec(),
        &d.to_vec(),
        &dy,
    );
    assert!(r.passed(), "{r}");

    let gamma = 0.9f64;
    let disc = |i: usize| gamma.powi(i as i32);
    let (v, g) = discounted_grad(&x, disc);
    close("value", v, discounted_plain(&x, disc), TOL);
    let expected: Vec<f64> = (0..3).map(|i| disc(i) * x[i].exp()).collect();
    close_all("gradient", &g, &expected);
    fd_vec("gradient", |x| discounted_plain(x, disc), &x, &g);
}

/// `Σ w(i)·x_i` with a weight that counts its calls, lent as `&mut F` of `F: FnMut(..)`:
/// `∂/∂x_i = w(i)`; `_grad` calls it once per element, as the function does.
#[differentiate]
fn counted<F: FnMut(usize) -> f64>(x: &[f64], w: &mut F) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += w(i) * x[i];
    }
    s
}

#[test]
fn closure_lent_mutably() {
    let x = [0.4, -1.1, 0.9];
    let mut calls = 0;
    let mut w = |i: usize| {
        calls += 1;
        i as f64 + 0.5
    };
    let (v, g) = counted_grad(&x, &mut w);
    assert_eq!(calls, 3, "the closure runs once per element");
    close("value", v, 0.5 * x[0] + 1.5 * x[1] + 2.5 * x[2], TOL);
    close_all("gradient", &g, &[0.5, 1.5, 2.5]);
    let plain = |x: &[f64]| (0..3).map(|i| (i as f64 + 0.5) * x[i]).sum::<f64>();
    fd_vec("gradient", plain, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// A `Vec` the loop builds, returned from inside it (`return out;`, also inside the tuple,
// struct literal or call the `return` makes) or carried out by `break
// out` of a `loop`'s value: the value returned and the variable the loop carries are one
// `Vec`, which the generated code moved twice (rustc's "use of moved value" at the attribute).
// ---------------------------------------------------------------------------------------------

/// The running sums `s_k = x_0 + … + x_k`, each times `x_k`, until a sum passes `lim`:
/// `out_k = s_k·x_k`, so `∂out_k/∂x_j = x_k` for `j < k` and `s_k + x_k` for `j = k`.
#[differentiate]
fn weighted_prefix(x: &[f64], lim: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut s = 0.0;
    for &v in x {
        s += v;
        if s > lim {
            return out;
        }
        out.push(s * v);
    }
    out
}

fn weighted_prefix_plain(x: &[f64], lim: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut s = 0.0;
    for &v in x {
        s += v;
        if s > lim {
            return out;
        }
        out.push(s * v);
    }
    out
}

#[test]
fn vec_returned_from_the_loop_that_builds_it() {
    let x = [0.5, 1.5, -0.7, 2.0];
    for lim in [1.0, 10.0] {
        let (y, pullback) = weighted_prefix_vjp(&x, lim);
        let plain = weighted_prefix_plain(&x, lim);
        close_all("value", &y, &plain);
        let w: Vec<f64> = (0..y.len()).map(|k| k as f64 + 1.0).collect();
        let (gx, glim) = pullback(w.clone());
        // Σ_k w_k·out_k: ∂/∂x_j = w_j·(s_j + x_j) + Σ_{k>j} w_k·x_k over the kept k.
        let n = y.len();
        let sums: Vec<f64> = x
            .iter()
            .scan(0.0, |s, &v| {
                *s += v;
                Some(*s)
            })
            .collect();
        let expected: Vec<f64> = (0..x.len())
            .map(|j| {
                if j >= n {
                    return 0.0;
                }
                w[j] * (sums[j] + x[j]) + (j + 1..n).map(|k| w[k] * x[k]).sum::<f64>()
            })
            .collect();
        close_all("gradient", &gx, &expected);
        close("∂/∂lim", glim, 0.0, TOL);
        let f = |x: &[f64]| {
            let y = weighted_prefix_plain(x, lim);
            y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        };
        fd_vec("gradient", f, &x, &gx);
    }
}

/// The squares of `x` up to the first element past `lim`, carried out of a `loop` by
/// `break out`: `∂out_k/∂x_k = 2·x_k`.
#[differentiate]
fn squares_until(x: &[f64], lim: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut i = 0;
    let r = loop {
        if i == x.len() || x[i] > lim {
            break out;
        }
        out.push(x[i] * x[i]);
        i += 1;
    };
    r
}

#[test]
fn vec_carried_out_of_a_loop_by_break() {
    let x = [0.5, -1.5, 0.7, 2.0, 0.1];
    let (y, pullback) = squares_until_vjp(&x, 1.0);
    close_all("value", &y, &[0.25, 2.25, 0.49]);
    let (gx, _) = pullback(vec![1.0, 1.0, 1.0]);
    close_all("gradient", &gx, &[1.0, -3.0, 1.4, 0.0, 0.0]);
    let f = |x: &[f64]| {
        let mut s = 0.0;
        for &v in x {
            if v > 1.0 {
                break;
            }
            s += v * v;
        }
        s
    };
    fd_vec("gradient", f, &x, &gx);
}

/// The squares before the first negative element and that element, as a tuple returned from
/// inside the loop, `return (out, v);`, or `(out, 1.0)` after it: `∂/∂x_k = 2·x_k·w_k` over the
/// kept elements, and the cotangent of the second place reaches the negative element.
#[differentiate]
fn squares_and_stop(x: &[f64]) -> (Vec<f64>, f64) {
    let mut out = Vec::new();
    for &v in x {
        if v < 0.0 {
            return (out, v);
        }
        out.push(v * v);
    }
    (out, 1.0)
}

#[derive(Clone, Debug, Default, autodiff::Differentiable)]
pub struct Squares {
    pub xs: Vec<f64>,
    pub stop: f64,
}

/// The same as a struct literal returned from inside the loop.
#[differentiate]
fn squares_struct(x: &[f64]) -> Squares {
    let mut out = Vec::new();
    for &v in x {
        if v < 0.0 {
            return Squares { xs: out, stop: v };
        }
        out.push(v * v);
    }
    Squares { xs: out, stop: 1.0 }
}

/// `Σ v` of a `Vec` taken by value: `∂/∂v_k = 1`.
#[differentiate]
fn total_of(v: Vec<f64>) -> f64 {
    v.iter().sum()
}

/// The sum of the squares before the first negative element, the `Vec` handed to a call in the
/// `return` inside the loop: `∂/∂x_k = 2·x_k` over the kept elements (twice that where the loop
/// ends without a negative element).
#[differentiate]
fn squares_total(x: &[f64]) -> f64 {
    let mut out = Vec::new();
    for &v in x {
        if v < 0.0 {
            return total_of(out);
        }
        out.push(v * v);
    }
    total_of(out) * 2.0
}

#[test]
fn loop_state_taken_by_the_returned_value() {
    let x = [0.5, 2.0, -1.0, 3.0];
    let w = [1.5, -0.5];
    let ((ys, stop), pullback) = squares_and_stop_vjp(&x);
    close_all("value", &ys, &[0.25, 4.0]);
    close("stop", stop, -1.0, TOL);
    let g = pullback((w.to_vec(), 2.0));
    close_all(
        "gradient",
        &g,
        &[2.0 * 0.5 * w[0], 2.0 * 2.0 * w[1], 2.0, 0.0],
    );
    let f = |x: &[f64]| {
        let n = x.iter().position(|&v| v < 0.0).unwrap_or(x.len());
        let s: f64 = (0..n).map(|k| x[k] * x[k] * w[k]).sum();
        s + 2.0 * x.get(n).copied().unwrap_or(1.0)
    };
    fd_vec("gradient", f, &x, &g);

    let (s, pullback) = squares_struct_vjp(&x);
    close_all("value", &s.xs, &[0.25, 4.0]);
    let gs = pullback(Squares {
        xs: w.to_vec(),
        stop: 2.0,
    });
    close_all("gradient", &gs, &g);

    let (v, g) = squares_total_grad(&x);
    close("value", v, 4.25, TOL);
    close_all("gradient", &g, &[1.0, 4.0, 0.0, 0.0]);
    let y = [0.5, 2.0];
    let (v, g) = squares_total_grad(&y);
    close("value", v, 8.5, TOL);
    close_all("gradient", &g, &[2.0, 8.0]);
    let f = |x: &[f64]| {
        let n = x.iter().position(|&v| v < 0.0);
        let s: f64 = x[..n.unwrap_or(x.len())].iter().map(|v| v * v).sum();
        if n.is_some() { s } else { 2.0 * s }
    };
    fd_vec("gradient", f, &x, &squares_total_grad(&x).1);
    fd_vec("gradient", f, &y, &g);
}
