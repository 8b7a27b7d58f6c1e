//! Programs users wrote that failed inside generated code, and now are differentiated:
//!
//! - ndarray's constructors given differentiated values: `Array1::linspace(a, b, n)` (as
//!   ndarray computes it, `a + step·i`), `aview1(&v)` and `aview2(&rows)` (as arrays of the
//!   elements), `Array3::from_elem(shape, x)`, `Array::from_elem`, `ArrayD::from_elem` (the
//!   ones of the shape times `x`), `Array::from_shape_vec(shape, v)` and `Array3::..` (the
//!   elements, reshaped), beside the constructors that were followed already (`from_iter`,
//!   `from_vec`, `from_diag`, `ones(..) * x`, `eye(n) * x`, `stack`, `concatenate`), checked
//!   here too;
//! - `axis_chunks_iter(Axis(0), k)` of a vector (a parameter or local declared `Array1`, made
//!   by one of its constructors or mapped from a vector): runs of `k` elements;
//! - a struct update `S { n: 3, ..base }` of a plain data struct without `Clone` whose base is
//!   read again (after it, or in the next iteration of a loop): run as written;
//! - a `Cell` or `RefCell` parameter is shared state read as data, not differentiated.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; under `hessian`, `_jvp` and
//! `_hvp` too.

#![deny(warnings)]
#![allow(clippy::needless_range_loop, clippy::needless_update)] // written as users write them

use std::cell::{Cell, RefCell};

use autodiff::check::gradcheck;
use autodiff::differentiate;
use ndarray::{Array, Array1, Array2, Array3, ArrayD, Axis, aview1, aview2};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. ndarray constructors of differentiated values.
// ---------------------------------------------------------------------------------------------

/// tᵢ = a + (b − a)·sᵢ with sᵢ = i/4 (n = 5), f = Σ tᵢ²; ∂a = Σ 2tᵢ(1 − sᵢ), ∂b = Σ 2tᵢsᵢ;
/// H = 2·[[Σ(1 − sᵢ)², Σ sᵢ(1 − sᵢ)], [Σ sᵢ(1 − sᵢ), Σ sᵢ²]].
#[differentiate(hessian)]
fn grid_energy(a: f64, b: f64) -> f64 {
    let t = Array1::linspace(a, b, 5);
    t.mapv(|v| v * v).sum()
}

/// The same grid of `n` points given by the caller and through `Array::linspace`.
#[differentiate]
fn grid_energy_n(a: f64, b: f64, n: usize) -> f64 {
    let t: Array1<f64> = Array::linspace(a, b, n);
    t.mapv(|v| v * v).sum()
}

/// In `f32`: f = Σ tᵢ of tᵢ = a + (b − a)·i/3 (n = 4), so f = 2a + 2b; ∂a = ∂b = 2.
#[differentiate]
fn grid_sum32(a: f32, b: f32) -> f32 {
    let t = Array1::linspace(a, b, 4);
    t.sum()
}

fn grid_derivatives(a: f64, b: f64, n: usize) -> ((f64, f64), [[f64; 2]; 2]) {
    let (mut da, mut db, mut h) = (0.0, 0.0, [[0.0; 2]; 2]);
    for i in 0..n {
        let s = if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.0
        };
        let t = a + (b - a) * s;
        da += 2.0 * t * (1.0 - s);
        db += 2.0 * t * s;
        h[0][0] += 2.0 * (1.0 - s) * (1.0 - s);
        h[0][1] += 2.0 * s * (1.0 - s);
        h[1][1] += 2.0 * s * s;
    }
    h[1][0] = h[0][1];
    ((da, db), h)
}

#[test]
fn linspace_of_differentiated_end_points() {
    let (a, b) = (-0.4, 1.1);
    let (f, g) = grid_energy_grad(a, b);
    assert_eq!(f.to_bits(), grid_energy(a, b).to_bits(), "the value is f's");
    let (want, h) = grid_derivatives(a, b, 5);
    close2("∇", g, want);
    fd2("∇", grid_energy, (a, b), g);
    let (va, vb) = (0.3, -0.7);
    let (_, _, hv) = grid_energy_hvp(a, b, va, vb);
    close("H·v, a", hv.0, h[0][0] * va + h[0][1] * vb, TOL);
    close("H·v, b", hv.1, h[1][0] * va + h[1][1] * vb, TOL);
    let pairs = forward("linspace").two((a, b), grid_energy, grid_energy_jvp, grid_energy_vjp);
    tangents_are2("linspace", &pairs, want, TOL);

    for n in [0, 1, 2, 7] {
        let (f, g) = grid_energy_n_grad(a, b, n);
        close("f", f, grid_energy_n(a, b, n), TOL);
        close2(&format!("∇, n = {n}"), g, grid_derivatives(a, b, n).0);
        fd2("∇", |a, b| grid_energy_n(a, b, n), (a, b), g);
    }

    let (f, (ga, gb)) = grid_sum32_grad(0.25, 1.5);
    assert_eq!(f, grid_sum32(0.25, 1.5));
    assert!(
        (ga - 2.0).abs() < 1e-5 && (gb - 2.0).abs() < 1e-5,
        "f32: {ga}, {gb}"
    );
    fd32("∂a, f32", |a| grid_sum32(a, 1.5), 0.25, ga);
}

/// v = 2x viewed as an array: f = v·v + v₀ = 4Σx² + 2x₀; ∂xₖ = 8xₖ + 2δₖ₀.
#[differentiate]
fn viewed_vector(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|&u| u * 2.0).collect();
    let a = aview1(&v);
    a.dot(&a) + a[0]
}

/// m = [[x, y], [1, x·y]] viewed as a matrix; f = Σ(m·m) = x² + 2y + 2xy + xy² + x + x²y²;
/// ∂x = 2x + 2y + y² + 1 + 2xy², ∂y = 2 + 2x + 2xy + 2x²y.
#[differentiate]
fn viewed_rows(x: f64, y: f64) -> f64 {
    let rows = [[x, y], [1.0, x * y]];
    let m = aview2(&rows);
    m.dot(&m).sum()
}

#[test]
fn views_of_differentiated_values() {
    let x = [0.3, -1.2, 0.8];
    let (f, g) = viewed_vector_grad(&x);
    close("f", f, viewed_vector(&x), TOL);
    let want: Vec<f64> = (0..3)
        .map(|k| 8.0 * x[k] + if k == 0 { 2.0 } else { 0.0 })
        .collect();
    close_all("aview1", &g, &want);
    fd_vec("aview1", viewed_vector, &x, &g);

    let (x, y) = (0.4, 1.7);
    let (f, g) = viewed_rows_grad(x, y);
    close("f", f, viewed_rows(x, y), TOL);
    let dx = 2.0 * x + 2.0 * y + y * y + 1.0 + 2.0 * x * y * y;
    let dy = 2.0 + 2.0 * x + 2.0 * x * y + 2.0 * x * x * y;
    close2("aview2", g, (dx, dy));
    fd2("aview2", viewed_rows, (x, y), g);
}

/// A 2×2×2 array of x, times y: f = y·Σa² = 8x²y; ∂x = 16xy, ∂y = 8x²;
/// H = [[16y, 16x], [16x, 0]].
#[differentiate(hessian)]
fn filled_cube(x: f64, y: f64) -> f64 {
    let a = Array3::from_elem((2, 2, 2), x);
    (&a * &a).sum() * y
}

/// `Array::from_elem` of a 2×3 shape (6x²) and `ArrayD::from_elem` of a 2×2 one (4·x·y):
/// f = 6x² + 4xy; ∂x = 12x + 4y, ∂y = 4x.
#[differentiate]
fn filled_any(x: f64, y: f64) -> f64 {
    let a = Array::from_elem((2, 3), x);
    let d = ArrayD::from_elem(vec![2, 2], x * y);
    (&a * &a).sum() + d.sum()
}

/// The same constructors of data run as written: f = x·(8n + Σ labels); ∂x = 8n + Σ labels.
#[differentiate]
fn with_data(x: f64, n: usize, labels: &[usize]) -> f64 {
    let counts = Array3::from_elem((2, 2, 2), n);
    let l = aview1(labels);
    x * (counts.sum() + l.sum()) as f64
}

#[test]
fn from_elem_of_any_rank() {
    let (x, y) = (1.1, -0.6);
    let (f, g) = filled_cube_grad(x, y);
    assert_eq!(f.to_bits(), filled_cube(x, y).to_bits(), "the value is f's");
    close2("Array3", g, (16.0 * x * y, 8.0 * x * x));
    fd2("Array3", filled_cube, (x, y), g);
    let (_, _, hv) = filled_cube_hvp(x, y, 0.5, -2.0);
    close("H·v, x", hv.0, 16.0 * y * 0.5 + 16.0 * x * -2.0, TOL);
    close("H·v, y", hv.1, 16.0 * x * 0.5, TOL);
    forward("from_elem").two((x, y), filled_cube, filled_cube_jvp, filled_cube_vjp);

    let labels = [2, 0, 5];
    let (f, g) = with_data_grad(x, 3, &labels);
    close("f", f, with_data(x, 3, &labels), TOL);
    close("data", g, 24.0 + 7.0, TOL);
    fd("data", |x| with_data(x, 3, &labels), x, g);

    let (f, g) = filled_any_grad(x, y);
    close("f", f, filled_any(x, y), TOL);
    close2("Array, ArrayD", g, (12.0 * x + 4.0 * y, 4.0 * x));
    fd2("Array, ArrayD", filled_any, (x, y), g);
}

/// m = [[x₀, x₁], [x₂, x₃]] by `Array::from_shape_vec`, f = Σ(m·m) = Σᵢⱼₖ mᵢₖmₖⱼ:
/// ∂m_pq = Σⱼ m_qj + Σᵢ m_ip (row q's sum and column p's); plus Σ c² of a 2×1×2 array of 3x
/// by `Array3::from_shape_vec`, ∂xₖ += 18xₖ.
#[differentiate]
fn shaped(x: &[f64]) -> f64 {
    let m = Array::from_shape_vec((2, 2), x.to_vec()).unwrap();
    let v: Vec<f64> = x.iter().map(|u| 3.0 * u).collect();
    let c = Array3::from_shape_vec((2, 1, 2), v).expect("four elements");
    m.dot(&m).sum() + (&c * &c).sum()
}

#[test]
fn from_shape_vec_of_any_rank() {
    let x = [0.5, -1.0, 0.25, 2.0];
    let (f, g) = shaped_grad(&x);
    close("f", f, shaped(&x), TOL);
    let m = |p: usize, q: usize| x[2 * p + q];
    let mut want = vec![0.0; 4];
    for p in 0..2 {
        for q in 0..2 {
            want[2 * p + q] = m(q, 0) + m(q, 1) + m(0, p) + m(1, p) + 18.0 * m(p, q);
        }
    }
    close_all("from_shape_vec", &g, &want);
    fd_vec("from_shape_vec", shaped, &x, &g);
}

/// The constructors followed before, given differentiated values: u = 3x by `from_iter`
/// (9Σx²), `Array::ones(3) * x₀` (3x₀²), `Array2::eye(2) * x₁` (Σ of its square: 2x₁²),
/// `Array2::from_diag(&(2x))` (Σ of its square: 4Σx²), `Array1::from_vec(vec![x₀, x₁])`
/// (x₀² + x₁²) and `stack` and `concatenate` of them (2(x₀² + x₁²) + 9Σx² each):
/// ∂x₀ = 18x₀ + 6x₀ + 8x₀ + 2x₀ + 2(2x₀ + 18x₀), ∂x₁ = 18x₁ + 4x₁ + 8x₁ + 2x₁ + 2(2x₁ +
/// 18x₁); with n = 2 elements.
#[differentiate]
fn constructed(x: &Array1<f64>) -> f64 {
    let u = Array1::from_iter(x.iter().map(|v| v * 3.0));
    let o = Array::<f64, _>::ones(3) * x[0];
    let e: Array2<f64> = Array2::eye(2) * x[1];
    let d = Array2::from_diag(&(x * 2.0));
    let p = Array1::from_vec(vec![x[0], x[1]]);
    let s = ndarray::stack(Axis(0), &[p.view(), u.view()]).unwrap();
    let c = ndarray::concatenate(Axis(0), &[p.view(), u.view()]).unwrap();
    u.dot(&u)
        + o.dot(&o)
        + e.dot(&e).sum()
        + d.dot(&d).sum()
        + p.dot(&p)
        + (&s * &s).sum()
        + (&c * &c).sum()
}

#[test]
fn constructors_followed_before() {
    let x = Array1::from_vec(vec![0.7, -0.4]);
    let (f, g) = constructed_grad(&x);
    close("f", f, constructed(&x), TOL);
    let want = [
        (18.0 + 6.0 + 8.0 + 2.0 + 40.0) * x[0],
        (18.0 + 4.0 + 8.0 + 2.0 + 40.0) * x[1],
    ];
    close_all("constructors", g.as_slice().unwrap(), &want);
    let r = gradcheck(|v: &Array1<f64>| constructed(v), &x, &g);
    assert!(r.passed(), "constructors: {r}");
}

// ---------------------------------------------------------------------------------------------
// 2. `axis_chunks_iter(Axis(0), k)` of a vector.
// ---------------------------------------------------------------------------------------------

/// Runs of 2 of x (the last one shorter): f = Σ_c (Σ_{i∈c} xᵢ)²; ∂xᵢ = 2·(the sum of i's run).
#[differentiate]
fn run_energy(x: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for c in x.axis_chunks_iter(Axis(0), 2) {
        let m = c.sum();
        s += m * m;
    }
    s
}

/// The same of a local vector, with `enumerate`: run j weighted by (j + 1);
/// ∂xᵢ = 2(j + 1)·(the sum of i's run j).
#[differentiate]
fn run_energy_local(x: &[f64]) -> f64 {
    let v = Array1::from_vec(x.to_vec());
    let mut s = 0.0;
    for (j, c) in v.axis_chunks_iter(Axis(0), 2).enumerate() {
        s += (j + 1) as f64 * c.sum() * c.sum();
    }
    s
}

/// Of a vector mapped from a parameter: runs of 2 of h = 2x, f = Σ_c (Σ_{i∈c} hᵢ)²;
/// ∂xᵢ = 8·(the sum of x over i's run).
#[differentiate]
fn run_energy_mapped(x: &Array1<f64>) -> f64 {
    let h = x.mapv(|v| 2.0 * v);
    let mut s = 0.0;
    for c in h.axis_chunks_iter(Axis(0), 2) {
        s += c.sum().powi(2);
    }
    s
}

#[test]
fn chunks_of_a_vector() {
    let x = [0.3, -1.2, 0.8, 0.5, -0.9];
    let runs = |i: usize| {
        let j = i / 2;
        (j, x[2 * j..(2 * j + 2).min(5)].iter().sum::<f64>())
    };
    let a = Array1::from_vec(x.to_vec());
    let (f, g) = run_energy_grad(&a);
    close("f", f, run_energy(&a), TOL);
    let want: Vec<f64> = (0..5).map(|i| 2.0 * runs(i).1).collect();
    close_all("parameter", g.as_slice().unwrap(), &want);
    let r = gradcheck(|v: &Array1<f64>| run_energy(v), &a, &g);
    assert!(r.passed(), "parameter: {r}");

    let (f, g) = run_energy_mapped_grad(&a);
    close("f", f, run_energy_mapped(&a), TOL);
    let want: Vec<f64> = (0..5).map(|i| 8.0 * runs(i).1).collect();
    close_all("mapped", g.as_slice().unwrap(), &want);
    let r = gradcheck(|v: &Array1<f64>| run_energy_mapped(v), &a, &g);
    assert!(r.passed(), "mapped: {r}");

    let (f, g) = run_energy_local_grad(&x);
    close("f", f, run_energy_local(&x), TOL);
    let want: Vec<f64> = (0..5)
        .map(|i| 2.0 * (runs(i).0 + 1) as f64 * runs(i).1)
        .collect();
    close_all("local", &g, &want);
    fd_vec("local", run_energy_local, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// 3. A struct update of a data struct without `Clone`, its base read again.
// ---------------------------------------------------------------------------------------------

struct Cfg {
    k: f64,
    n: usize,
}

struct Grid {
    n: usize,
    m: usize,
}

/// c2 = (k, 3) from base = (k, n): f = x·k + 3·x·k + n; ∂x = 4k.
#[differentiate(wrt(x))]
fn updated_param(x: f64, base: Cfg) -> f64 {
    let c2 = Cfg { n: 3, ..base };
    x * base.k + (c2.n as f64) * x * c2.k + base.n as f64
}

/// base = (1, 4), c2 = (3, 4): f = 12x + 4x²; ∂x = 12 + 8x.
#[differentiate]
fn updated_local(x: f64) -> f64 {
    let base = Grid { n: 1, m: 4 };
    let c2 = Grid { n: 3, ..base };
    x * (base.m as f64) * (c2.n as f64) + (c2.m as f64) * x * x
}

/// The update in a loop, its base read in the next iteration: g = (i, 2) for i < 3,
/// f = Σ x·(i + 2)·x = 9x²; ∂x = 18x.
#[differentiate]
fn updated_in_loop(x: f64) -> f64 {
    let base = Grid { n: 0, m: 2 };
    let mut total = 0.0;
    for i in 0..3 {
        let g = Grid { n: i, ..base };
        total += x * ((g.n + g.m) as f64) * x;
    }
    total
}

#[test]
fn struct_update_of_data_without_clone() {
    let x = 0.7;
    let (f, g) = updated_param_grad(x, Cfg { k: 1.5, n: 2 });
    close("f", f, updated_param(x, Cfg { k: 1.5, n: 2 }), TOL);
    close("param", g, 4.0 * 1.5, TOL);
    fd("param", |x| updated_param(x, Cfg { k: 1.5, n: 2 }), x, g);

    let (f, g) = updated_local_grad(x);
    close("f", f, updated_local(x), TOL);
    close("local", g, 12.0 + 8.0 * x, TOL);
    fd("local", updated_local, x, g);

    let (f, g) = updated_in_loop_grad(x);
    close("f", f, updated_in_loop(x), TOL);
    close("loop", g, 18.0 * x, TOL);
    fd("loop", updated_in_loop, x, g);
}

// ---------------------------------------------------------------------------------------------
// 5. `Cell` and `RefCell` parameters, read as data.
// ---------------------------------------------------------------------------------------------

/// f = x²·c; ∂x = 2xc (the cell is not differentiated).
#[differentiate]
fn cell_scaled(x: f64, c: &Cell<f64>) -> f64 {
    x * x * c.get()
}

/// f = x·k + x³ of k read from the cell; ∂x = k + 3x².
#[differentiate]
fn refcell_scaled(x: f64, c: &RefCell<f64>) -> f64 {
    let k = *c.borrow();
    x * k + x * x * x
}

#[test]
fn cells_read_as_data() {
    let x = 0.6;
    let c = Cell::new(2.5);
    let (f, g) = cell_scaled_grad(x, &c);
    close("f", f, cell_scaled(x, &c), TOL);
    close("Cell", g, 2.0 * x * 2.5, TOL);
    fd("Cell", |x| cell_scaled(x, &c), x, g);

    let r = RefCell::new(-1.5);
    let (f, g) = refcell_scaled_grad(x, &r);
    close("f", f, refcell_scaled(x, &r), TOL);
    close("RefCell", g, -1.5 + 3.0 * x * x, TOL);
    fd("RefCell", |x| refcell_scaled(x, &r), x, g);
}

// ---------------------------------------------------------------------------------------------
// 6. `√0` of a constant beside differentiated values, in forward mode and second order.
// ---------------------------------------------------------------------------------------------

/// f = √0 + √(x² + 1), the 0 a constant in the `Vec`: f' = x/√(x² + 1),
/// f'' = (x² + 1)^(−3/2). The tangent of the constant is 0, and so is that of its root (it
/// was 0·∞ = NaN, making `_jvp` NaN).
#[differentiate(hessian)]
fn roots_with_constant(x: f64) -> f64 {
    let mut ys = vec![0.0];
    ys.push(x * x + 1.0);
    ys.iter().map(|y| y.sqrt()).sum::<f64>()
}

/// f = Σ ∛yᵢ of y = (0, x³) (the 0 a constant): f = x, f' = 1, f'' = 0.
#[differentiate(hessian)]
fn cube_roots_with_constant(x: f64) -> f64 {
    let ys = [0.0, x * x * x];
    ys.iter().map(|y| y.cbrt()).sum::<f64>()
}

/// √x itself at x = 0, where its derivative is +∞: a non-zero tangent keeps it.
#[differentiate(hessian)]
fn root(x: f64) -> f64 {
    x.sqrt()
}

#[test]
fn root_of_a_constant_zero() {
    let x: f64 = 0.5;
    let d1 = x / (x * x + 1.0).sqrt();
    let d2 = (x * x + 1.0).powf(-1.5);
    let (f, g) = roots_with_constant_grad(x);
    close("f", f, roots_with_constant(x), TOL);
    close("f'", g, d1, TOL);
    fd("f'", roots_with_constant, x, g);
    let (_, t) = roots_with_constant_jvp(x, 0.7);
    close("jvp", t, d1 * 0.7, TOL);
    let (_, gh, hv) = roots_with_constant_hvp(x, 0.7);
    close("hvp: grad", gh, d1, TOL);
    close("hvp", hv, d2 * 0.7, TOL);
    let pairs = forward("√0 beside √(x² + 1)").one(
        x,
        roots_with_constant,
        roots_with_constant_jvp,
        roots_with_constant_vjp,
    );
    tangents_are("√0 beside √(x² + 1)", &pairs, d1, TOL);

    let x = 1.3;
    let (_, g) = cube_roots_with_constant_grad(x);
    close("∛: f'", g, 1.0, 1e-12);
    fd("∛: f'", cube_roots_with_constant, x, g);
    let (_, t) = cube_roots_with_constant_jvp(x, -0.4);
    close("∛: jvp", t, -0.4, 1e-12);
    let (_, _, hv) = cube_roots_with_constant_hvp(x, -0.4);
    close("∛: hvp", hv, 0.0, 1e-12);

    // At the singular point itself the derivative is +∞, along a non-zero tangent too; along a
    // zero one the argument does not move, and the tangent is 0.
    let (_, g) = root_grad(0.0);
    assert_eq!(g, f64::INFINITY, "d/dx √x at 0");
    assert_eq!(
        root_jvp(0.0, 1.0).1,
        f64::INFINITY,
        "tangent of √x at 0 along 1"
    );
    assert_eq!(root_jvp(0.0, 0.0).1, 0.0, "tangent of √x at 0 along 0");
}
