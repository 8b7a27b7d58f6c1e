//! Programs that compile and must give the derivatives central differences give, in the forms
//! followed since the last review: arrays from a `Vec` with a shape in its own order, a
//! mutation through a cell's guard, `cycle()` of one element or none and `step_by` after it,
//! and `linspace` of one point; items a closure borrows (`|&i| &x[i]`, `|p| &p.x`,
//! `x.iter().cycle()`) copied and collected.
//!
//! `Array3::from_shape_vec((2, 2, 2).f(), v)` and `Array::from_shape_vec((2, 3).f(), v)` were
//! rejected with "no derivative rule for method `unwrap`", and `Array2::from_shape_vec((2,
//! 3).f(), v)` with "qualified paths are not supported" (the positions the rewrite computes
//! went through a qualified path the lowering rejects). They are now the elements the shape's
//! positions name.
//!
//! `c.borrow_mut().push(1.0)` of a `&RefCell<Vec<f64>>` parameter (`m.lock().unwrap()
//! .push(..)` of a `Mutex`) was rustc's E0596 inside the generated code; it is now run as
//! written, the guard dropped at the end of the statement as in the plain function. Given a
//! differentiated value it is an error (tests/ui/review17_guard_push.rs).
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use std::cell::RefCell;
use std::sync::Mutex;

use autodiff::{Differentiable, differentiate};
use ndarray::{Array, Array1, Array3, ShapeBuilder};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. from_shape_vec with a shape in its own order, of any rank.
// ---------------------------------------------------------------------------------------------

/// The weight of `c[i, j, k]` in [`cube_f`].
fn w3(i: usize, j: usize, k: usize) -> f64 {
    (i * 4 + j * 2 + k) as f64 + 1.0
}

/// `c[i, j, k] = 2·x[i + 2j + 4k]` (column-major); `f = Σ w(i, j, k)·c[i, j, k]² + c[1, 0, 0]·
/// c[0, 0, 1]`, so `∂f/∂x[p] = 8·w(pos p)·x[p] + 4·(δ_{p,1}·x[4] + δ_{p,4}·x[1])`.
#[differentiate]
fn cube_f(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|t| t * 2.0).collect();
    let c = Array3::from_shape_vec((2, 2, 2).f(), v).unwrap();
    let mut s = 0.0;
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                s += w3(i, j, k) * c[[i, j, k]] * c[[i, j, k]];
            }
        }
    }
    s + c[[1, 0, 0]] * c[[0, 0, 1]]
}

/// `m[i, j] = x[i + 2j]` by `Array::from_shape_vec((2, 3).f(), ..)` of the parameter's copy;
/// `f = Σ (3i + j + 1)·m[i, j]³`, `∂f/∂x[i + 2j] = 3·(3i + j + 1)·x[i + 2j]²`.
#[differentiate]
fn matrix_f(x: &[f64]) -> f64 {
    let m = Array::from_shape_vec((2, 3).f(), x.to_vec()).unwrap();
    let mut s = 0.0;
    for i in 0..2 {
        for j in 0..3 {
            s += (3 * i + j + 1) as f64 * m[[i, j]] * m[[i, j]] * m[[i, j]];
        }
    }
    s
}

#[test]
fn from_shape_vec_in_column_major_order_of_any_rank() {
    let x = data(8, 0.3);
    let (f, g) = cube_f_grad(&x);
    close("f", f, cube_f(&x), TOL);
    let mut want = vec![0.0; 8];
    for i in 0..2 {
        for j in 0..2 {
            for k in 0..2 {
                let p = i + 2 * j + 4 * k;
                want[p] = 8.0 * w3(i, j, k) * x[p];
            }
        }
    }
    want[1] += 4.0 * x[4];
    want[4] += 4.0 * x[1];
    close_all("cube", &g, &want);
    fd_vec("cube", cube_f, &x, &g);

    let x = data(6, 1.7);
    let (f, g) = matrix_f_grad(&x);
    close("f", f, matrix_f(&x), TOL);
    let mut want = vec![0.0; 6];
    for i in 0..2 {
        for j in 0..3 {
            let p = i + 2 * j;
            want[p] = 3.0 * (3 * i + j + 1) as f64 * x[p] * x[p];
        }
    }
    close_all("matrix", &g, &want);
    fd_vec("matrix", matrix_f, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 2. A mutation through a cell's guard, of data.
// ---------------------------------------------------------------------------------------------

/// One more element in the cell, then `f = x²·len`; `∂x = 2x·len` (len after the push).
#[differentiate]
fn guard_push(x: f64, c: &RefCell<Vec<f64>>) -> f64 {
    c.borrow_mut().push(1.0);
    x * x * c.borrow().len() as f64
}

/// Each element pushes to the log first: `f = Σₖ xₖ²·(n₀ + k + 1)`, `∂xₖ = 2xₖ·(n₀ + k + 1)`.
#[differentiate]
fn guard_push_loop(x: &[f64], log: &Mutex<Vec<f64>>) -> f64 {
    let mut s = 0.0;
    for v in x {
        log.lock().unwrap().push(2.0);
        s += v * v * log.lock().unwrap().len() as f64;
    }
    s
}

#[test]
fn mutation_through_a_guard_runs_as_written() {
    let x = 0.7;
    let c = RefCell::new(vec![1.0]);
    let (f, g) = guard_push_grad(x, &c);
    assert_eq!(c.borrow().len(), 2, "the push ran once");
    close("f", f, x * x * 2.0, TOL);
    close("RefCell", g, 2.0 * x * 2.0, TOL);
    // The function at the same state: a fresh cell of one element for each evaluation.
    fd("RefCell", |x| guard_push(x, &RefCell::new(vec![1.0])), x, g);

    let x = data(4, 0.9);
    let m = Mutex::new(vec![5.0]);
    let (f, g) = guard_push_loop_grad(&x, &m);
    assert_eq!(m.lock().unwrap().len(), 5);
    close("f", f, guard_push_loop(&x, &Mutex::new(vec![5.0])), TOL);
    let want: Vec<f64> = (0..4).map(|k| 2.0 * x[k] * (k as f64 + 2.0)).collect();
    close_all("Mutex", &g, &want);
    fd_vec(
        "Mutex",
        |p| guard_push_loop(p, &Mutex::new(vec![5.0])),
        &x,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// 3. cycle() of one element or none, cycle().step_by, linspace of one point (correct before).
// ---------------------------------------------------------------------------------------------

/// `f = Σᵢ xᵢ·x²₍ᵢ₊₁ mod n₎`; for n = 1, `f = x₀³`. `∂xₖ = x²ₖ₊₁ + 2xₖ·xₖ₋₁` (indices mod n).
#[differentiate(hessian)]
fn ring(x: &[f64]) -> f64 {
    x.iter()
        .zip(x.iter().cycle().skip(1))
        .map(|(a, b)| a * b * b)
        .sum()
}

/// Elements 0, 2, 4, 6 of the cycled list: `f = Σₘ x³₍₂ₘ mod n₎`, `∂xₖ = 3xₖ²·#{m < 4: 2m ≡ k}`.
#[differentiate]
fn cycled_every_other(x: &[f64]) -> f64 {
    x.iter().cycle().step_by(2).take(4).map(|v| v * v * v).sum()
}

/// `linspace(a, b, 1)` is `[a]`: `f = a² + b`, `∂ = (2a, 1)`.
#[differentiate]
fn one_point(a: f64, b: f64) -> f64 {
    let g = Array1::linspace(a, b, 1);
    g.mapv(|v| v * v).sum() + b
}

#[test]
fn cycle_of_short_lists_and_linspace_of_one_point() {
    for n in 0..5 {
        let x = data(n, 2.1);
        let (f, g) = ring_grad(&x);
        close("f", f, ring(&x), TOL);
        let want: Vec<f64> = (0..n)
            .map(|k| x[(k + 1) % n].powi(2) + 2.0 * x[k] * x[(k + n - 1) % n])
            .collect();
        close_all(&format!("ring n={n}"), &g, &want);
        fd_vec("ring", ring, &x, &g);
        if n > 0 {
            let v = data(n, 5.0);
            let (_, _, hv) = ring_hvp(&x, &v);
            let r = autodiff::check::hvpcheck(|p: &Vec<f64>| ring_grad(p).1, &x, &v, &hv);
            assert!(r.passed(), "ring hvp n={n}: {r}");

            let (f, g) = cycled_every_other_grad(&x);
            close("f", f, cycled_every_other(&x), TOL);
            let mut want = vec![0.0; n];
            for m in 0..4 {
                want[(2 * m) % n] += 3.0 * x[(2 * m) % n].powi(2);
            }
            close_all(&format!("step_by n={n}"), &g, &want);
            fd_vec("step_by", cycled_every_other, &x, &g);
        }
    }
    let (f, g) = one_point_grad(0.4, 1.7);
    close("f", f, one_point(0.4, 1.7), TOL);
    close2("linspace 1", g, (0.8, 1.0));
    fd2("linspace 1", one_point, (0.4, 1.7), g);
}

// ---------------------------------------------------------------------------------------------
// 4. Items a closure borrows (`|&i| &x[i]`, `|p| &p.x`, a block ending in `&x[k]`, and
//    `x.iter().cycle()`, read as `&x[k % n]`), then `copied()` or `cloned()` and collected:
//    the `Vec` held the references, rustc's "expected `Vec<f64>`, found `Vec<&f64>`" inside
//    the generated code.
// ---------------------------------------------------------------------------------------------

/// `x` twice by `cycle().take(2n).copied()`: `f = Σₖ (k + 1)·x₍ₖ mod n₎`, `∂xⱼ = 2j + n + 2`.
#[differentiate]
fn cycled_copies(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().cycle().take(2 * x.len()).copied().collect();
    v.iter().enumerate().map(|(k, a)| (k + 1) as f64 * a).sum()
}

/// `v = [x₂, x₀, x₀]` gathered by reference and `cloned()`: `f = v₀·v₁ + v₂² = x₂x₀ + x₀²`,
/// `∂ = (x₂ + 2x₀, 0, x₀, 0)`.
#[differentiate(wrt(x))]
fn gathered_by_reference(x: &[f64], idx: &[usize]) -> f64 {
    let v: Vec<f64> = idx.iter().map(|&i| &x[i]).cloned().collect();
    v[0] * v[1] + v[2] * v[2]
}

/// A block ending in the borrow: `v = [x₁, x₃]` (positions mod 4), `f = v₀·v₁`,
/// `∂ = (0, x₃, 0, x₁)`.
#[differentiate(wrt(x))]
fn borrowed_at_the_end_of_a_block(x: &[f64], idx: &[usize]) -> f64 {
    let v: Vec<f64> = idx
        .iter()
        .map(|&i| {
            let k = i % x.len();
            &x[k]
        })
        .copied()
        .collect();
    v[0] * v[1]
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Pt {
    x: f64,
    y: f64,
}

/// The fields borrowed (`|p| &p.x`) and copied: `f = Σᵢ (i + 1)·xᵢ·y₀`,
/// `∂xᵢ = (i + 1)·y₀`, `∂y₀ = Σᵢ (i + 1)·xᵢ`.
#[differentiate]
fn borrowed_fields(ps: &[Pt]) -> f64 {
    let xs: Vec<f64> = ps.iter().map(|p| &p.x).copied().collect();
    xs.iter()
        .enumerate()
        .map(|(i, v)| (i + 1) as f64 * v)
        .sum::<f64>()
        * ps[0].y
}

#[test]
fn borrowed_items_copied_and_collected() {
    let x = data(4, 1.3);
    let (f, g) = cycled_copies_grad(&x);
    close("f", f, cycled_copies(&x), TOL);
    let want: Vec<f64> = (0..4).map(|j| (2 * j + 4 + 2) as f64).collect();
    close_all("cycled copies", &g, &want);
    fd_vec("cycled copies", cycled_copies, &x, &g);

    let idx = [2, 0, 0];
    let (f, g) = gathered_by_reference_grad(&x, &idx);
    close("f", f, gathered_by_reference(&x, &idx), TOL);
    close_all(
        "gathered by reference",
        &g,
        &[x[2] + 2.0 * x[0], 0.0, x[0], 0.0],
    );
    fd_vec(
        "gathered by reference",
        |p| gathered_by_reference(p, &idx),
        &x,
        &g,
    );

    let (f, g) = borrowed_at_the_end_of_a_block_grad(&x, &[5, 3]);
    close("f", f, borrowed_at_the_end_of_a_block(&x, &[5, 3]), TOL);
    close_all("block", &g, &[0.0, x[3], 0.0, x[1]]);

    let ps = [
        Pt { x: 0.3, y: -0.8 },
        Pt { x: 1.1, y: 0.4 },
        Pt { x: -0.6, y: 2.0 },
    ];
    let (f, g) = borrowed_fields_grad(&ps);
    close("f", f, borrowed_fields(&ps), TOL);
    let sum = 0.3 + 2.0 * 1.1 - 3.0 * 0.6;
    close("∂x₀", g[0].x, -0.8, TOL);
    close("∂x₁", g[1].x, 2.0 * -0.8, TOL);
    close("∂x₂", g[2].x, 3.0 * -0.8, TOL);
    close("∂y₀", g[0].y, sum, TOL);
    close("∂y₁", g[1].y, 0.0, TOL);
    let r = autodiff::check::gradcheck(|p: &Vec<Pt>| borrowed_fields(p), &ps.to_vec(), &g);
    assert!(r.passed(), "borrowed fields: {r}");
}
