//! Programs in the forms the random-program generator's `self_borrow`, `closure_env` and
//! `iter_shapes` kinds write: ndarray's `fold` over the sums of a matrix written by element
//! (`m.sum_axis(Axis(1)).fold(..)` of a `let mut m`), an `Array3::from_elem` written by index
//! and summed along an axis, the result iterated or folded (also inside a loop, and its mean
//! along another axis), and methods of a model that read its fields through accessors lending
//! them (`self.weights()` of `fn weights(&self) -> &[f64] { &self.w }`, `*self.bias()`).
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::differentiate;
use ndarray::{Array2, Array3, Axis};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// `fold` over an array a method made from an array variable.
// ---------------------------------------------------------------------------------------------

/// `m[i][j] = a·j + b·i` (2×3), written by element into a `let mut` matrix. Its row sums are
/// `3a + 3b·i`, its column sums `2a·j + b`, so
/// `f = 9a² + 9(a + b)² + b(2a + b)(4a + b)`,
/// `∂f/∂a = 18a + 18(a + b) + b(16a + 6b)`,
/// `∂f/∂b = 18(a + b) + (2a + b)(4a + b) + b(4a + b) + b(2a + b)`.
#[differentiate(hessian)]
fn folded_axis_sums(a: f64, b: f64) -> f64 {
    let mut m = Array2::<f64>::zeros((2, 3));
    for i in 0..2 {
        for j in 0..3 {
            m[[i, j]] = a * (j as f64) + b * (i as f64);
        }
    }
    let rows = m.sum_axis(Axis(1)).fold(0.0, |s, &v| s + v * v);
    rows + m.sum_axis(Axis(0)).fold(1.0, |p, &v| p * v)
}

#[test]
fn a_fold_over_the_axis_sums_of_a_matrix_written_by_element() {
    let (a, b) = (0.7, -0.4);
    let (v, g) = folded_axis_sums_grad(a, b);
    assert_eq!(v, folded_axis_sums(a, b));
    let (p, q) = (2.0 * a + b, 4.0 * a + b);
    close("f", v, 9.0 * a * a + 9.0 * (a + b).powi(2) + b * p * q, TOL);
    close2(
        "∇f",
        g,
        (
            18.0 * a + 18.0 * (a + b) + b * (16.0 * a + 6.0 * b),
            18.0 * (a + b) + p * q + b * q + b * p,
        ),
    );
    let f = |x: &(f64, f64)| folded_axis_sums(x.0, x.1);
    gradcheck(f, &(a, b), &g).assert_ok();
    let dir = (0.6, -0.3);
    let (_, t) = folded_axis_sums_jvp(a, b, dir.0, dir.1);
    jvpcheck(f, &(a, b), &dir, &t).assert_ok();
    let (_, _, hv) = folded_axis_sums_hvp(a, b, dir.0, dir.1);
    hvpcheck(
        |x: &(f64, f64)| folded_axis_sums_grad(x.0, x.1).1,
        &(a, b),
        &dir,
        &hv,
    )
    .assert_ok();
}

/// A fold whose result does not depend on the order, over `mapv` of a parameter:
/// `f = Σ (a·mᵢⱼ)² = a²·Σ mᵢⱼ²`, `∂f/∂a = 2a·Σ mᵢⱼ²`, `∂f/∂mᵢⱼ = 2a²·mᵢⱼ`.
#[differentiate]
fn folded_map(a: f64, m: &Array2<f64>) -> f64 {
    m.mapv(|v| v * a).fold(0.0, |s, &v| s + v * v)
}

#[test]
fn a_fold_over_a_mapped_parameter() {
    let a = -0.8;
    let m = Array2::from_shape_vec((2, 2), vec![0.3, -0.5, 0.7, 0.2]).unwrap();
    let (v, (ga, gm)) = folded_map_grad(a, &m);
    assert_eq!(v, folded_map(a, &m));
    let sq: f64 = m.iter().map(|v| v * v).sum();
    close("f", v, a * a * sq, TOL);
    close("∂f/∂a", ga, 2.0 * a * sq, TOL);
    close_all(
        "∂f/∂m",
        gm.as_slice().unwrap(),
        &m.iter().map(|v| 2.0 * a * a * v).collect::<Vec<_>>(),
    );
    gradcheck(
        |p: &(f64, Array2<f64>)| folded_map(p.0, &p.1),
        &(a, m.clone()),
        &(ga, gm),
    )
    .assert_ok();
}

// ---------------------------------------------------------------------------------------------
// The sums of an `Array3` along an axis are a matrix: iterated element by element.
// ---------------------------------------------------------------------------------------------

/// `g` (2×2×2) holds `a` at `[0, 1, 1]`, `b` at `[1, 0, 1]` and `ab` at `[1, 0, 0]`; its sums
/// along the last axis are `a` at `[0, 1]` and `b + ab` at `[1, 0]` (0 elsewhere), its means
/// along the first `ab/2` at `[0, 0]`, `b/2` at `[0, 1]` and `a/2` at `[1, 1]`. So
/// `f = a² + (b + ab)² + (a²b² + b² + a²)/4`,
/// `∂f/∂a = 2a + 2b(b + ab) + (ab² + a)/2`, `∂f/∂b = 2(1 + a)(b + ab) + (a²b + b)/2`.
#[differentiate(hessian)]
fn cube_axis_sums(a: f64, b: f64) -> f64 {
    let mut g = Array3::from_elem((2, 2, 2), 0.0);
    g[[0, 1, 1]] = a;
    g[[1, 0, 1]] = b;
    g[[1, 0, 0]] = a * b;
    let s2 = g.sum_axis(Axis(2));
    let sums = s2.iter().fold(0.0, |s, &v| s + v * v);
    let means: f64 = g.mean_axis(Axis(0)).unwrap().iter().map(|v| v * v).sum();
    sums + means
}

/// The same sums along the last axis folded directly, in a loop whose trips write the array
/// anew: trip `i` holds `b` at `[1, 0, i]` beside `a` at `[0, 1, 1]` and `ab` at `[1, 1, 2]`,
/// so each trip's sums are `a`, `b`, `ab` at distinct cells and
/// `f = 2(a² + b² + a²b²)`, `∂f/∂a = 4a + 4ab²`, `∂f/∂b = 4b + 4a²b`.
#[differentiate]
fn cube_sums_in_a_loop(a: f64, b: f64) -> f64 {
    let mut t = 0.0;
    for i in 0..2 {
        let mut g = Array3::from_elem((2, 2, 3), 0.0);
        g[[0, 1, 1]] = a;
        g[[1, 0, i]] = b;
        g[[1, 1, 2]] = a * b;
        t += g.sum_axis(Axis(2)).fold(0.0, |s, &v| s + v * v);
    }
    t
}

#[test]
fn the_axis_sums_of_an_array3_iterated() {
    let (a, b) = (0.6, -0.9);
    let (v, g) = cube_axis_sums_grad(a, b);
    assert_eq!(v, cube_axis_sums(a, b));
    let c = b + a * b;
    close(
        "f",
        v,
        a * a + c * c + (a * a * b * b + b * b + a * a) / 4.0,
        TOL,
    );
    close2(
        "∇f",
        g,
        (
            2.0 * a + 2.0 * b * c + (a * b * b + a) / 2.0,
            2.0 * (1.0 + a) * c + (a * a * b + b) / 2.0,
        ),
    );
    let f = |x: &(f64, f64)| cube_axis_sums(x.0, x.1);
    gradcheck(f, &(a, b), &g).assert_ok();
    let dir = (-0.5, 0.4);
    let (_, _, hv) = cube_axis_sums_hvp(a, b, dir.0, dir.1);
    hvpcheck(
        |x: &(f64, f64)| cube_axis_sums_grad(x.0, x.1).1,
        &(a, b),
        &dir,
        &hv,
    )
    .assert_ok();

    let (v, g) = cube_sums_in_a_loop_grad(a, b);
    assert_eq!(v, cube_sums_in_a_loop(a, b));
    close("f", v, 2.0 * (a * a + b * b + a * a * b * b), TOL);
    close2(
        "∇f",
        g,
        (4.0 * a + 4.0 * a * b * b, 4.0 * b + 4.0 * a * a * b),
    );
    gradcheck(|x: &(f64, f64)| cube_sums_in_a_loop(x.0, x.1), &(a, b), &g).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// Accessors lending a field, called by the other methods of their block.
// ---------------------------------------------------------------------------------------------

/// A polynomial whose methods read its coefficients through accessors that lend them.
#[derive(Clone, autodiff::Differentiable)]
struct Poly {
    w: Vec<f64>,
    c: f64,
}

#[differentiate]
impl Poly {
    fn weights(&self) -> &[f64] {
        &self.w
    }

    fn bias(&self) -> &f64 {
        &self.c
    }

    /// `p(x) = c + Σ wᵢ xⁱ`: `∂p/∂c = 1`, `∂p/∂wᵢ = xⁱ`, `∂p/∂x = Σ i·wᵢ·xⁱ⁻¹`.
    fn eval(&self, x: f64) -> f64 {
        let w = self.weights();
        let mut acc = *self.bias();
        for i in 0..w.len() {
            acc += w[i] * x.powi(i as i32);
        }
        acc
    }

    /// `e = c·Σ wᵢ²`: `∂e/∂wᵢ = 2c·wᵢ`, `∂e/∂c = Σ wᵢ²`.
    fn energy(&self) -> f64 {
        self.weights().iter().map(|v| v * v).sum::<f64>() * self.c
    }
}

#[test]
fn methods_reading_through_accessors_that_lend_a_field() {
    let p = Poly {
        w: vec![0.5, -0.7, 0.3],
        c: 0.9,
    };
    let x = -0.6;
    let (v, (gp, gx)) = p.eval_grad(x);
    assert_eq!(v, p.eval(x));
    close("p", v, 0.9 + 0.5 - 0.7 * x + 0.3 * x * x, TOL);
    close("∂p/∂c", gp.c, 1.0, TOL);
    close_all("∂p/∂w", &gp.w, &[1.0, x, x * x]);
    close("∂p/∂x", gx, -0.7 + 2.0 * 0.3 * x, TOL);
    gradcheck(|q: &(Poly, f64)| q.0.eval(q.1), &(p.clone(), x), &(gp, gx)).assert_ok();

    let (v, g) = p.energy_grad();
    assert_eq!(v, p.energy());
    let sq: f64 = p.w.iter().map(|w| w * w).sum();
    close("e", v, p.c * sq, TOL);
    close("∂e/∂c", g.c, sq, TOL);
    close_all(
        "∂e/∂w",
        &g.w,
        &p.w.iter().map(|w| 2.0 * p.c * w).collect::<Vec<_>>(),
    );
    gradcheck(|q: &Poly| q.energy(), &p, &g).assert_ok();
}
