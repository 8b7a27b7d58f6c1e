//! Mutation in the shapes where a gradient could go quietly wrong: interior mutability
//! (`Cell`) that holds data only, closures that capture a variable assigned or shadowed after
//! them (`move` copies, nested closures), state carried through `iter_mut().rev()`, a `&mut`
//! slice parameter reordered in place, a reordering under `hessian`, and fields and rows sorted
//! and filtered by closures (`s.v.sort_by(..)`, `s.rows.retain(..)`, `rows[i].sort_by(..)`).
//!
//! A `Cell` or `RefCell` given a differentiated value (`c.set(x * x)`, a `&self` method that
//! records it) gave a gradient that missed the path through the cell; that is now a compile
//! error (`tests/ui/mutation12_cell_set.rs`, `tests/ui/mutation12_refcell_method.rs`). Here,
//! the same cell kept for data (a call counter) still runs as written.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::redundant_closure
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;
use std::cell::Cell;

mod common;
use common::*;

const X: [[f64; 3]; 3] = [[0.7, -0.4, 1.3], [-1.2, 0.9, 0.35], [1.5, 1.1, -0.8]];

/// A `Cell` of data beside the differentiated values: a call counter set from its own value
/// runs as written, and the count it gives is a constant.
#[differentiate]
fn counted(x: f64) -> f64 {
    let calls = Cell::new(0u32);
    calls.set(calls.get() + 1);
    calls.set(calls.get() + 2);
    let k = calls.get() as f64;
    k * x * x
}

#[test]
fn a_cell_of_data_runs_as_written() {
    for x in [-1.5, 0.25, 2.0] {
        // 3x² → 6x
        let (v, d) = counted_grad(x);
        assert_eq!(v, counted(x));
        close("counted", d, 6.0 * x, TOL);
        fd("counted", counted, x, d);
    }
}

/// A `move` closure copies `w` where it is written; `w` is assigned after it. Expanded where
/// it is called, it must still read the copy: `f = 3·x0 + x1²`.
#[differentiate]
fn move_closure(x: &[f64]) -> f64 {
    let mut w = x[0];
    let f = move |v: f64| v * w;
    w = x[1] * x[1];
    f(3.0) + w
}

/// The copy read in every iteration while `w` grows: with `w_i = x0·x0·…·x_i`,
/// `s = x0·(x0 + x1 + x2) + w_0 + w_1 + w_2`.
#[differentiate]
fn move_closure_in_loop(x: &[f64]) -> f64 {
    let mut w = x[0];
    let f = move |v: f64| v * w;
    let mut s = 0.0;
    for i in 0..3 {
        w = w * x[i];
        s += f(x[i]) + w;
    }
    s
}

/// A closure reads the `w` it saw, not the one that shadows it later; a closure calling
/// another reads the other's `k`, not the `k` that shadows it: `2·x0 + 10·x1` and
/// `x2·(x0 + x0²) + 100`.
#[differentiate]
fn shadowed_after_closure(x: &[f64]) -> f64 {
    let w = x[0];
    let f = |v: f64| v * w;
    let w = x[1] * 10.0;
    f(2.0) + w
}

#[differentiate]
fn nested_closures_shadowed(x: &[f64]) -> f64 {
    let k = x[2];
    let f = |a: f64| a * k;
    let g = |b: f64| f(b) + f(b * b);
    let k = 100.0;
    g(x[0]) + k
}

#[test]
fn closures_read_what_they_captured() {
    for x in X {
        let (v, d) = move_closure_grad(&x);
        assert_eq!(v, move_closure(&x));
        close_all("move closure", &d, &[3.0, 2.0 * x[1], 0.0]);
        fd_vec("move closure", move_closure, &x, &d);

        let (a, b, c) = (x[0], x[1], x[2]);
        // ∂s/∂x0 = (x0 + x1 + x2) + x0 + 2x0 + 2x0x1 + 2x0x1x2, ∂s/∂x1 = x0 + x0² + x0²x2,
        // ∂s/∂x2 = x0 + x0²x1
        let expected = [
            (a + b + c) + a + 2.0 * a + 2.0 * a * b + 2.0 * a * b * c,
            a + a * a + a * a * c,
            a + a * a * b,
        ];
        let (v, d) = move_closure_in_loop_grad(&x);
        assert_eq!(v, move_closure_in_loop(&x));
        close_all("move closure in a loop", &d, &expected);
        fd_vec("move closure in a loop", move_closure_in_loop, &x, &d);

        let (v, d) = shadowed_after_closure_grad(&x);
        assert_eq!(v, shadowed_after_closure(&x));
        close_all("shadowed after closure", &d, &[2.0, 10.0, 0.0]);
        fd_vec("shadowed after closure", shadowed_after_closure, &x, &d);

        let (v, d) = nested_closures_shadowed_grad(&x);
        assert_eq!(v, nested_closures_shadowed(&x));
        close_all(
            "nested closures",
            &d,
            &[c * (1.0 + 2.0 * a), 0.0, a + a * a],
        );
        fd_vec("nested closures", nested_closures_shadowed, &x, &d);
    }
}

/// State carried backwards through `iter_mut().rev()`, each element written with it:
/// `s1 = 0.5·x2 + 1`, `s2 = s1·x1 + 1`, `s3 = s2·x0 + 1`, `v = (s3, s2, s1)`, and the result
/// `s3·s2 + s1`.
#[differentiate]
fn carried_backwards(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let mut s = 0.5;
    for e in v.iter_mut().rev() {
        s = s * *e + 1.0;
        *e = s;
    }
    v[0] * v[1] + v[2]
}

#[test]
fn state_carried_through_iter_mut_rev() {
    for x in X {
        let s1 = 0.5 * x[2] + 1.0;
        let s2 = s1 * x[1] + 1.0;
        let s3 = s2 * x[0] + 1.0;
        // ∂/∂x0 = s2², ∂/∂x1 = s1·x0·s2 + s3·s1, ∂/∂x2 = 0.5·x1·x0·s2 + s3·0.5·x1 + 0.5
        let expected = [
            s2 * s2,
            s1 * x[0] * s2 + s3 * s1,
            0.5 * x[1] * x[0] * s2 + s3 * 0.5 * x[1] + 0.5,
        ];
        let (v, d) = carried_backwards_grad(&x);
        assert_eq!(v, carried_backwards(&x));
        close_all("carried backwards", &d, &expected);
        fd_vec("carried backwards", carried_backwards, &x, &d);
    }
}

/// A `&mut [f64]` parameter swapped, scaled, rotated and shifted in place: from `b`, the buffer
/// is `(b0 + x1, b2 + x1, b1·x0 + x1)`, and the result `(b0 + x1)(b2 + x1) + (b1·x0 + x1)·x2`.
#[differentiate]
fn reordered_buffer(x: &[f64], buf: &mut [f64]) -> f64 {
    buf.swap(0, 1);
    buf[0] *= x[0];
    buf.rotate_left(1);
    buf.iter_mut().for_each(|e| *e += x[1]);
    buf[0] * buf[1] + buf[2] * x[2]
}

#[test]
fn a_mut_slice_parameter_reordered_in_place() {
    let run = |p: &(Vec<f64>, Vec<f64>)| {
        let mut b = p.1.clone();
        reordered_buffer(&p.0, &mut b)
    };
    for (x, b) in [(X[0], X[1]), (X[1], X[2]), (X[2], X[0])] {
        let mut buf = b.to_vec();
        let (v, (dx, db)) = reordered_buffer_grad(&x, &mut buf);
        let mut plain = b.to_vec();
        assert_eq!(v, reordered_buffer(&x, &mut plain));
        assert_eq!(buf, plain, "the buffer the caller sees");
        // ∂/∂x = (b1·x2, (b2 + x1) + (b0 + x1) + x2, b1·x0 + x1),
        // ∂/∂b = (b2 + x1, x0·x2, b0 + x1)
        let ex = [
            b[1] * x[2],
            (b[2] + x[1]) + (b[0] + x[1]) + x[2],
            b[1] * x[0] + x[1],
        ];
        let eb = [b[2] + x[1], x[0] * x[2], b[0] + x[1]];
        close_all("reordered buffer, ∂x", &dx, &ex);
        close_all("reordered buffer, ∂b", &db, &eb);
        let r = gradcheck(run, &(x.to_vec(), b.to_vec()), &(dx.to_vec(), db.to_vec()));
        assert!(r.passed(), "reordered buffer: {r}");
    }
}

/// Reorderings and a write through `last_mut` under `hessian`: `v = (x2, x1, x0²)`, and the
/// result `x2·x1 + x0⁴`.
#[differentiate(hessian)]
fn reordered_h(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.swap(0, 1);
    v.rotate_right(1);
    if let Some(e) = v.last_mut() {
        *e *= x[0];
    }
    v[0] * v[1] + v[2] * v[2]
}

#[test]
fn reorderings_under_hessian() {
    let dir = vec![0.3, -0.8, 0.5];
    for x in X {
        let x = x.to_vec();
        // ∇f = (4x0³, x2, x1); H·d = (12x0²·d0, d2, d1)
        let (v, g) = reordered_h_grad(&x);
        assert_eq!(v, reordered_h(&x));
        close_all("reordered, gradient", &g, &[4.0 * x[0].powi(3), x[2], x[1]]);
        fd_vec("reordered", reordered_h, &x, &g);
        let (v2, g2, hv) = reordered_h_hvp(&x, &dir);
        assert_eq!(v2, v);
        close_all("reordered, gradient of hvp", &g2, &g);
        close_all(
            "reordered, H·d",
            &hv,
            &[12.0 * x[0] * x[0] * dir[0], dir[2], dir[1]],
        );
        // H·d against central differences of the gradient along d.
        let h = 1e-5;
        let xp: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + h * b).collect();
        let xm: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a - h * b).collect();
        let (gp, gm) = (reordered_h_grad(&xp).1, reordered_h_grad(&xm).1);
        for k in 0..3 {
            close(
                &format!("reordered, (H·d)[{k}] against differences"),
                hv[k],
                (gp[k] - gm[k]) / (2.0 * h),
                1e-6,
            );
        }
    }
}

#[derive(autodiff::Differentiable, Clone, Debug)]
struct Pool {
    v: Vec<f64>,
    rows: Vec<[f64; 2]>,
    k: f64,
}

#[differentiate]
impl Pool {
    /// The same sort in a `&mut self` method: on a field of `self`.
    fn sort_descending(&mut self) {
        self.v.sort_by(|a, b| b.partial_cmp(a).unwrap());
    }
}

/// Fields sorted and filtered by closures, and a row of a grid sorted: `s.v` sorted descending
/// then scaled at its head, `s.rows` filtered and sorted by their second entry,
/// `grid[1]` sorted ascending. Each element's adjoint goes back where it came from. They were
/// the error "`s.v.sort_by(..)` with a closure may change `s.v` … write an index loop" (which
/// cannot sort), though the same methods on a variable and the other mutations of a field
/// (`s.v.swap`, `s.v.push`) are followed.
#[differentiate]
fn fields_sorted(x: &[f64]) -> f64 {
    let mut s = Pool {
        v: x[..4].to_vec(),
        rows: vec![[x[0], x[4]], [x[1], x[5]], [x[2], x[3]]],
        k: x[5],
    };
    s.sort_descending();
    s.v.sort_by_key(|a| (a * 4.0).floor() as i64);
    s.v.sort_unstable_by(|a, b| b.total_cmp(a));
    s.v[0] *= s.k;
    s.rows.retain(|r| r[0] > -1.0);
    s.rows.sort_by(|a, b| a[1].partial_cmp(&b[1]).unwrap());
    let mut grid = vec![vec![x[3], x[2]], vec![x[5], x[0], x[4]]];
    grid[1].sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut t = 0.0;
    for (i, r) in s.rows.iter().enumerate() {
        t += (i as f64 + 1.0) * (r[0] + 2.0 * r[1]);
    }
    for (i, v) in s.v.iter().enumerate() {
        t += (i as f64 + 1.0) * v;
    }
    t + grid[1][0] * grid[0][1] + 3.0 * grid[1][2]
}

#[test]
fn fields_and_rows_sorted_by_closures() {
    for x in [
        [0.7, -0.4, 1.3, -1.2, 0.9, 0.35],
        [-1.5, 1.1, -0.8, 0.2, -0.6, 1.4],
    ] {
        let (v, g) = fields_sorted_grad(&x);
        assert_eq!(v, fields_sorted(&x));
        fd_vec("fields sorted", fields_sorted, &x, &g);
        let (_, pullback) = fields_sorted_vjp(&x);
        let g3: Vec<f64> = g.iter().map(|d| 3.0 * d).collect();
        close_all("fields sorted, seed 3", &pullback(3.0), &g3);
    }
}

/// A `&mut` parameter copied into a local of the same name, as the error for its fields says,
/// then its field sorted and filtered: the local's fields are a variable's. The positive
/// elements of `p.v` sorted ascending, the first times `k`, plus `p.k`: it was the error for a
/// field of the parameter (the name was taken for the parameter's).
#[differentiate]
fn param_copy_sorted(p: &mut Pool, k: f64) -> f64 {
    let mut p = p.clone();
    p.v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    p.v.retain(|&a| a > 0.0);
    p.v[0] * k + p.v[p.v.len() - 1] + p.k
}

#[test]
fn a_mut_parameter_copied_then_its_field_sorted() {
    let p0 = Pool {
        v: vec![0.8, -0.3, 0.2, 1.4],
        rows: vec![[0.1, 0.2]],
        k: 0.6,
    };
    let k = -1.7;
    let mut p = p0.clone();
    let (v, (gp, gk)) = param_copy_sorted_grad(&mut p, k);
    assert_eq!(v, param_copy_sorted(&mut p0.clone(), k));
    // The smallest positive element, 0.2 (at 2), times k; the largest, 1.4 (at 3); p.k.
    close_all("∂v", &gp.v, &[0.0, 0.0, k, 1.0]);
    close("∂k", gk, 0.2, TOL);
    close("∂p.k", gp.k, 1.0, TOL);
    let r = gradcheck(
        |q: &(Pool, f64)| param_copy_sorted(&mut q.0.clone(), q.1),
        &(p0.clone(), k),
        &(gp, gk),
    );
    assert!(r.passed(), "copied parameter sorted: {r}");
}

/// `v.clone_from(&w)` of a local and of a field of a local: `v = w.clone()`, which it stands
/// for. It was the error "the derivative cannot follow what `clone_from` does to `v`".
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Held {
    v: Vec<f64>,
}

#[differentiate]
fn cloned_over(x: &[f64]) -> f64 {
    let mut v = vec![0.0; x.len()];
    let w: Vec<f64> = x.iter().map(|a| a * a).collect();
    v.clone_from(&w);
    let mut held = Held {
        v: vec![1.0; x.len()],
    };
    held.v.clone_from(&v);
    held.v[0] *= x[1];
    let mut s = 0.0;
    for k in 0..v.len() {
        s += v[k] * x[k] + held.v[k];
    }
    s
}

#[test]
fn clone_from_is_an_assignment_of_a_clone() {
    // Σ x_k³ + Σ x_k² + x₀²(x₁ − 1): at (1, 2): 9 + 5 + 1 = 15.
    let (v, g) = cloned_over_grad(&[1.0, 2.0]);
    assert_eq!(v, cloned_over(&[1.0, 2.0]));
    assert_eq!(v, 15.0);
    // ∂₀ = 3x₀² + 2x₀ + 2x₀(x₁ − 1) = 7, ∂₁ = 3x₁² + 2x₁ + x₀² = 17.
    assert_eq!(g, vec![7.0, 17.0]);
}

/// Elements of fields written through `last_mut`, `first_mut` and `get_mut` in one statement:
/// with `x = (a, b, c)`, `v = (a, b·c, 2a)` and `w₀ = 1 + b·c`, so
/// `f = a² + b²c² + 4a² + (1 + bc) + 2`. They were the error "bind the container to a variable
/// first", though the same writes on a variable and `let r = s.v.last_mut().unwrap();` on a
/// field were followed.
#[differentiate]
fn field_elements_written(x: &[f64]) -> f64 {
    let mut held = Held { v: x.to_vec() };
    let mut other = Held { v: vec![1.0; 3] };
    *held.v.last_mut().unwrap() = 2.0 * x[0];
    *other.v.first_mut().unwrap() += x[1] * x[2];
    *held.v.get_mut(1).expect("three elements") *= x[2];
    held.v.iter().map(|t| t * t).sum::<f64>() + other.v.iter().sum::<f64>()
}

#[test]
fn elements_of_fields_written_through_accessors() {
    let x = [1.5, -0.5, 2.0];
    let (v, g) = field_elements_written_grad(&x);
    assert_eq!(v, field_elements_written(&x));
    let (a, b, c) = (x[0], x[1], x[2]);
    close(
        "value",
        v,
        5.0 * a * a + b * b * c * c + 1.0 + b * c + 2.0,
        TOL,
    );
    // ∂a = 10a, ∂b = 2bc² + c, ∂c = 2b²c + b.
    let expected = [10.0 * a, 2.0 * b * c * c + c, 2.0 * b * b * c + b];
    close_all("∂x", &g, &expected);
    let r = gradcheck(|p: &Vec<f64>| field_elements_written(p), &x.to_vec(), &g);
    assert!(r.passed(), "{r}");
}

/// Fields and rows written through `iter_mut().for_each(..)`, also under `enumerate` and `zip`:
/// with `x = (a, b)`, `v = (2a², 2ab + b)` and the row `g₁ = (a·1, b·1)`, so
/// `f = 4a⁴ + (2ab + b)² + a + b`. They were the error "iterating by mutable reference is
/// followed over a variable … bind the container to a variable first", though a `for` loop
/// over the same `iter_mut()` was followed.
#[differentiate]
fn fields_written_by_for_each(x: &[f64]) -> f64 {
    let mut held = Held { v: x.to_vec() };
    held.v.iter_mut().for_each(|t| *t *= 2.0 * x[0]);
    held.v
        .iter_mut()
        .enumerate()
        .for_each(|(i, t)| *t += i as f64 * x[1]);
    let mut grid = vec![vec![0.0; 2], vec![1.0; 2]];
    let k = 1;
    grid[k]
        .iter_mut()
        .zip(x.iter())
        .for_each(|(g, &xi)| *g *= xi);
    held.v.iter().map(|t| t * t).sum::<f64>() + grid.iter().flatten().sum::<f64>()
}

#[test]
fn fields_and_rows_written_by_for_each() {
    let x = [0.5, -1.5];
    let (v, g) = fields_written_by_for_each_grad(&x);
    assert_eq!(v, fields_written_by_for_each(&x));
    let (a, b) = (x[0], x[1]);
    let u = 2.0 * a * b + b;
    close("value", v, 4.0 * a.powi(4) + u * u + a + b, TOL);
    // ∂a = 16a³ + 2u·2b + 1, ∂b = 2u·(2a + 1) + 1.
    let expected = [
        16.0 * a.powi(3) + 4.0 * u * b + 1.0,
        2.0 * u * (2.0 * a + 1.0) + 1.0,
    ];
    close_all("∂x", &g, &expected);
    let r = gradcheck(
        |p: &Vec<f64>| fields_written_by_for_each(p),
        &x.to_vec(),
        &g,
    );
    assert!(r.passed(), "{r}");
}
