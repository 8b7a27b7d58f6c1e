//! Finite-difference and finite-volume solvers on grids and sparse matrices, written as their
//! users write them.
//!
//! A grid updated through `for ((i, j), v) in u.indexed_iter_mut() { *v = .. }` (ndarray's loop
//! over the elements with their indices, `for (i, v) in u.indexed_iter_mut()` of a vector) was
//! the macro's generic "`for` loops here iterate over ranges, slices, ..." error, which did not
//! say what to write for it. Such a loop over a variable is now the loop over the positions in
//! row-major order with the indices computed from the position, each `*v` (and `v`) the element
//! `u[[i, j]]`: element writes, which the derivative follows.
//!
//! An interior updated by a `Zip` over its region, `Zip::from(u.slice_mut(s![1..-1]))
//! .and(&lap).for_each(|v, &l| *v += r * l)` (`row_mut(i)`, `column_mut(j)` for boundary rows
//! and columns), was the error that a `Zip` writing through `&mut u` runs as written, though the
//! same `Zip` over `&mut u` is followed. The region's is now followed the same way: its new
//! values are collected from the region's view and assigned to the region. A closure calling a
//! method on the element it writes, `Zip::from(&mut u).for_each(|x| *x = x.tanh())` (Rust
//! reads `x.tanh()` through the reference), was the same error, of `&mut u` too: `x` as a
//! method's receiver is now the old element, as `*x` is. ndarray's own form of the update,
//! `u.zip_mut_with(&lap, |x, &l| *x += r * l)`, was the error that the closure may change `u`;
//! with such a closure (one `*x = ..` or `*x += ..`) it is now the `Zip` it stands for, the
//! other array broadcast to `u`'s shape as `zip_mut_with` broadcasts it.
//!
//! An Euler step written as ndarray's axpy, `u.scaled_add(dt, &rhs)`, or on the interior,
//! `u.slice_mut(s![1..-1]).scaled_add(r, &lap)`, was the error that `scaled_add` may change `u`
//! in a way the derivative cannot follow. It is now the arithmetic it stands for, `u = &u +
//! &(&rhs * dt)` (the region's new values assigned to the region), which is followed.
//!
//! Advection by one cell per step written as a shift, `u.copy_within(0..n - 1, 1); u[0] =
//! inflow;`, was the error that `copy_within` may change `u`, whose advice (that `u` might hold
//! a struct of the user's) did not fit. It is now the range copied and written back element by
//! element from the destination, which is followed, for `Vec`s and fixed-size arrays alike.
//!
//! A boundary set to a value on a grid, `u.slice_mut(s![0, ..]).fill(0.0)` (`row_mut(i)`,
//! `column_mut(j)`), was the error that `fill` on a region of an array is not followed. It is
//! now the region assigned the value in every element, the value's gradient the sum of the
//! region's cotangents.
//!
//! The interior's view held in a local and updated by a compound assignment, `let mut inner =
//! u.slice_mut(s![1..-1]); inner += &(r * &lap);`, was the error that a mutable view held in a
//! local is written behind the derivative's back. Such a view changed only by statements of
//! their own (`+=`, `-=`, `*=`, `/=`, `assign`, `fill`, `mapv_inplace`) is now those statements
//! made on the region itself, `u.slice_mut(s![1..-1]).assign(&(&u.slice(s![1..-1]) + ..))`;
//! while the view lives nothing else may use `u`, so the two are the same program.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`, each tangent and Hessian-vector
//! product against the gradient and its differences.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck};
use autodiff::differentiate;
use ndarray::{Array, Array1, Array2, Array3, Zip, s};

mod common;
use common::*;

/// The modes of `f(u, s)`, a function of a grid and a scalar with `hessian`, at `(u0, s)`: its
/// gradient against central differences, its tangent along `(du, ds)` against the gradient's
/// `⟨∇u, du⟩ + ∂s·ds`, and its Hessian-vector product along the same direction against the
/// differences of the gradient.
#[allow(clippy::type_complexity)]
fn check_modes<D: ndarray::Dimension>(
    (u0, s): (&Array<f64, D>, f64),
    (du, ds): (&Array<f64, D>, f64),
    f: impl Fn(&Array<f64, D>, f64) -> f64,
    grad: impl Fn(&Array<f64, D>, f64) -> (f64, (Array<f64, D>, f64)),
    jvp: impl Fn(&Array<f64, D>, f64, &Array<f64, D>, f64) -> (f64, f64),
    hvp: impl Fn(
        &Array<f64, D>,
        f64,
        &Array<f64, D>,
        f64,
    ) -> (f64, (Array<f64, D>, f64), (Array<f64, D>, f64)),
) {
    let p = (u0.clone(), s);
    let (_, (g, gs)) = grad(u0, s);
    let rep = gradcheck(
        |(u, s): &(Array<f64, D>, f64)| f(u, *s),
        &p,
        &(g.clone(), gs),
    );
    assert!(rep.passed(), "{rep}");
    let (_, t) = jvp(u0, s, du, ds);
    close("tangent", t, (&g * du).sum() + gs * ds, 1e-12);
    let (_, _, hv) = hvp(u0, s, du, ds);
    let rep = hvpcheck(
        |(u, s): &(Array<f64, D>, f64)| grad(u, *s).1,
        &p,
        &(du.clone(), ds),
        &hv,
    );
    assert!(rep.passed(), "{rep}");
}

/// One explicit heat step on the interior of a grid, written through `indexed_iter_mut`, scored
/// by the squares: `u₁ = u₀ + a·L u₀` on the interior (`L` the five-point Laplacian, the
/// boundary kept), `f = Σ u₁²`; `∇_{u₀} f = 2 (I + a·L)ᵀ u₁`, `∂_a f = 2 u₁ · L u₀`.
#[differentiate(hessian)]
fn heat_step_indexed(u0: &Array2<f64>, a: f64) -> f64 {
    let (nx, ny) = u0.dim();
    let old = u0.clone();
    let mut u = u0.clone();
    for ((i, j), v) in u.indexed_iter_mut() {
        if i > 0 && j > 0 && i < nx - 1 && j < ny - 1 {
            *v = old[[i, j]]
                + a * (old[[i - 1, j]] + old[[i + 1, j]] + old[[i, j - 1]] + old[[i, j + 1]]
                    - 4.0 * old[[i, j]]);
        }
    }
    u.iter().map(|v| v * v).sum()
}

/// `steps` heat steps through `indexed_iter_mut`, which also reads the element it writes
/// (`*v += ..`).
#[differentiate(hessian)]
fn heat_steps_indexed(u0: &Array2<f64>, a: f64, steps: usize) -> f64 {
    let (nx, ny) = u0.dim();
    let mut u = u0.clone();
    for _ in 0..steps {
        let old = u.clone();
        for ((i, j), v) in u.indexed_iter_mut() {
            if i == 0 || j == 0 || i == nx - 1 || j == ny - 1 {
                continue;
            }
            *v += a
                * (old[[i - 1, j]] + old[[i + 1, j]] + old[[i, j - 1]] + old[[i, j + 1]]
                    - 4.0 * *v);
        }
    }
    u.iter().map(|v| v.powi(3)).sum()
}

/// The laplacian of a grid at an interior point.
fn lap(u: &Array2<f64>, i: usize, j: usize) -> f64 {
    u[[i - 1, j]] + u[[i + 1, j]] + u[[i, j - 1]] + u[[i, j + 1]] - 4.0 * u[[i, j]]
}

#[test]
fn a_heat_step_through_indexed_iter_mut() {
    let (nx, ny) = (4, 5);
    let u0 = Array2::from_shape_vec((nx, ny), data(nx * ny, 0.4)).unwrap();
    let a = 0.15;
    let (y, (g, ga)) = heat_step_indexed_grad(&u0, a);
    close("value", y, heat_step_indexed(&u0, a), TOL);
    // The analytic gradient: u₁, then 2 (I + a·L)ᵀ u₁ by scattering each interior row of L.
    let mut u1 = u0.clone();
    for i in 1..nx - 1 {
        for j in 1..ny - 1 {
            u1[[i, j]] = u0[[i, j]] + a * lap(&u0, i, j);
        }
    }
    let mut want = &u1 * 2.0;
    let mut want_a = 0.0;
    for i in 1..nx - 1 {
        for j in 1..ny - 1 {
            let w = 2.0 * u1[[i, j]] * a;
            want[[i - 1, j]] += w;
            want[[i + 1, j]] += w;
            want[[i, j - 1]] += w;
            want[[i, j + 1]] += w;
            want[[i, j]] -= 4.0 * w;
            want_a += 2.0 * u1[[i, j]] * lap(&u0, i, j);
        }
    }
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂a", ga, want_a, 1e-12);
    // Differences, and forward mode and the Hessian-vector product along a direction of both.
    let du = Array2::from_shape_vec((nx, ny), data(nx * ny, 2.3)).unwrap();
    check_modes(
        (&u0, a),
        (&du, 0.7),
        heat_step_indexed,
        heat_step_indexed_grad,
        heat_step_indexed_jvp,
        heat_step_indexed_hvp,
    );
}

#[test]
fn a_heat_loop_through_indexed_iter_mut_reading_the_element() {
    let u0 = Array2::from_shape_vec((5, 4), data(20, 1.1)).unwrap();
    let (a, steps) = (0.12, 3);
    let (y, _) = heat_steps_indexed_grad(&u0, a, steps);
    close("value", y, heat_steps_indexed(&u0, a, steps), TOL);
    // One step of it is the step above but for the score: f = Σ u₁³ at one step,
    // ∇_{u₀} f = (I + a·L)ᵀ 3u₁².
    let (_, (g1, _)) = heat_steps_indexed_grad(&u0, a, 1);
    let mut u1 = u0.clone();
    for i in 1..4 {
        for j in 1..3 {
            u1[[i, j]] = u0[[i, j]] + a * lap(&u0, i, j);
        }
    }
    let mut want = u1.mapv(|v| 3.0 * v * v);
    for i in 1..4 {
        for j in 1..3 {
            let w = 3.0 * u1[[i, j]] * u1[[i, j]] * a;
            want[[i - 1, j]] += w;
            want[[i + 1, j]] += w;
            want[[i, j - 1]] += w;
            want[[i, j + 1]] += w;
            want[[i, j]] -= 4.0 * w;
        }
    }
    close_all(
        "∇u₀, one step",
        g1.as_slice().unwrap(),
        want.as_slice().unwrap(),
    );
    let du = Array2::from_shape_vec((5, 4), data(20, 0.2)).unwrap();
    check_modes(
        (&u0, a),
        (&du, -0.4),
        |u, a| heat_steps_indexed(u, a, steps),
        |u, a| heat_steps_indexed_grad(u, a, steps),
        |u, a, du, da| heat_steps_indexed_jvp(u, a, steps, du, da),
        |u, a, du, da| heat_steps_indexed_hvp(u, a, steps, du, da),
    );
}

/// A vector's `indexed_iter_mut` scaling each interior element by its own curvature term:
/// `v_i = u_i·(1 + a·(u_{i−1} − 2u_i + u_{i+1}))` for `0 < i < n − 1`, `f = Σ v²`.
#[differentiate]
fn curvature_scaled(u0: &Array1<f64>, a: f64) -> f64 {
    let n = u0.len();
    let mut u = u0.clone();
    for (i, v) in u.indexed_iter_mut() {
        if i == 0 || i == n - 1 {
            continue;
        }
        *v *= 1.0 + a * (u0[i - 1] - 2.0 * u0[i] + u0[i + 1]);
    }
    u.dot(&u)
}

#[test]
fn a_vector_scaled_through_indexed_iter_mut() {
    let u0 = Array1::from(data(7, 0.9));
    let a = 0.3;
    let (_, (g, ga)) = curvature_scaled_grad(&u0, a);
    // ∂_a f = Σ 2 v_i u_i c_i over the interior (c_i the second difference).
    let n = u0.len();
    let mut want_a = 0.0;
    for i in 1..n - 1 {
        let c = u0[i - 1] - 2.0 * u0[i] + u0[i + 1];
        want_a += 2.0 * u0[i] * (1.0 + a * c) * u0[i] * c;
    }
    close("∂a", ga, want_a, 1e-12);
    let p = (u0.clone(), a);
    let r = gradcheck(
        |(u, a): &(Array1<f64>, f64)| curvature_scaled(u, *a),
        &p,
        &(g, ga),
    );
    assert!(r.passed(), "{r}");
}

/// A 3-D grid damped by depth, the first index left out of the pattern:
/// `u_{ijk} ← u_{ijk}·e^{−a·k}`, `f = Σ u²`: `∂_a f = Σ −2k·u_{ijk}² e^{−2ak}`.
#[differentiate]
fn damped_by_depth(u0: &Array3<f64>, a: f64) -> f64 {
    let mut u = u0.clone();
    for ((_, _, k), v) in u.indexed_iter_mut() {
        *v *= (-a * k as f64).exp();
    }
    u.iter().map(|v| v * v).sum()
}

#[test]
fn a_3d_grid_through_indexed_iter_mut() {
    let u0 = Array3::from_shape_vec((2, 3, 4), data(24, 0.5)).unwrap();
    let a = 0.4;
    let (_, (g, ga)) = damped_by_depth_grad(&u0, a);
    let mut want_a = 0.0;
    for ((_, _, k), &v) in u0.indexed_iter() {
        let k = k as f64;
        want_a += -2.0 * k * v * v * (-2.0 * a * k).exp();
    }
    close("∂a", ga, want_a, 1e-12);
    let mut want = u0.clone();
    for ((_, _, k), w) in want.indexed_iter_mut() {
        *w *= 2.0 * (-2.0 * a * k as f64).exp();
    }
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
}

/// Explicit heat steps whose interior is updated by a `Zip` over its region:
/// `u ← u + r·L u` on `1..n−1`, `f = Σ u²`. After one step, `∇_{u₀} f = 2 (I + r·L)ᵀ u₁` and
/// `∂_r f = 2 u₁ · L u₀`.
#[differentiate(hessian)]
fn heat_zip_region(u0: &Array1<f64>, r: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.clone();
    for _ in 0..steps {
        let lap = &u.slice(s![2..]) - &(2.0 * &u.slice(s![1..n - 1])) + &u.slice(s![..n - 2]);
        Zip::from(u.slice_mut(s![1..n - 1]))
            .and(&lap)
            .for_each(|v, &l| *v += r * l);
    }
    u.dot(&u)
}

#[test]
fn a_heat_step_through_a_zip_over_the_interior() {
    let u0 = Array1::from(data(8, 0.6));
    let r = 0.2;
    let n = u0.len();
    let (y, (g, gr)) = heat_zip_region_grad(&u0, r, 1);
    close("value", y, heat_zip_region(&u0, r, 1), TOL);
    let l0: Vec<f64> = (1..n - 1)
        .map(|i| u0[i - 1] - 2.0 * u0[i] + u0[i + 1])
        .collect();
    let mut u1 = u0.clone();
    for i in 1..n - 1 {
        u1[i] += r * l0[i - 1];
    }
    let mut want = &u1 * 2.0;
    let mut want_r = 0.0;
    for i in 1..n - 1 {
        let w = 2.0 * u1[i] * r;
        want[i - 1] += w;
        want[i + 1] += w;
        want[i] -= 2.0 * w;
        want_r += 2.0 * u1[i] * l0[i - 1];
    }
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂r", gr, want_r, 1e-12);
    // Several steps: differences, the tangent and the Hessian-vector product.
    let steps = 4;
    let du = Array1::from(data(8, 1.9));
    check_modes(
        (&u0, r),
        (&du, 0.5),
        |u, r| heat_zip_region(u, r, steps),
        |u, r| heat_zip_region_grad(u, r, steps),
        |u, r, du, d| heat_zip_region_jvp(u, r, steps, du, d),
        |u, r, du, d| heat_zip_region_hvp(u, r, steps, du, d),
    );
}

/// A 2-D step whose interior, first row and first column are written by `Zip`s over their
/// regions (the interior from three neighbours' copies, the row from the next row, the column
/// scaled in place): checked against differences.
#[differentiate]
fn grid_zip_regions(u0: &Array2<f64>, r: f64) -> f64 {
    let mut u = u0.clone();
    for _ in 0..2 {
        let c = u.slice(s![1..-1, 1..-1]).to_owned();
        let up = u.slice(s![..-2, 1..-1]).to_owned();
        let down = u.slice(s![2.., 1..-1]).to_owned();
        Zip::from(u.slice_mut(s![1..-1, 1..-1]))
            .and(&c)
            .and(&up)
            .and(&down)
            .for_each(|o, &cc, &a, &b| *o = cc + r * (a + b - 2.0 * cc));
        let next = u.row(1).to_owned();
        Zip::from(u.row_mut(0))
            .and(&next)
            .for_each(|o, &x| *o = 0.5 * x);
        Zip::from(u.column_mut(0)).for_each(|o| *o *= r);
    }
    u.mapv(|v| v * v).sum()
}

#[test]
fn a_grid_through_zips_over_its_regions() {
    let u0 = Array2::from_shape_vec((4, 5), data(20, 0.4)).unwrap();
    let r = 0.2;
    let (y, (g, gr)) = grid_zip_regions_grad(&u0, r);
    close("value", y, grid_zip_regions(&u0, r), TOL);
    let p = (u0.clone(), r);
    let rep = gradcheck(
        |(u, r): &(Array2<f64>, f64)| grid_zip_regions(u, *r),
        &p,
        &(g, gr),
    );
    assert!(rep.passed(), "{rep}");
}

/// Explicit heat steps as ndarray's axpy on the interior: `u ← u + r·L u` on `1..n−1`,
/// `f = Σ u + u₃u₄`. After one step, `∇_{u₀} f = (I + r·L)ᵀ (1 + u₄e₃ + u₃e₄)` and
/// `∂_r f = (1 + u₄e₃ + u₃e₄) · L u₀` (the scores' gradient `w` at `u₁`).
#[differentiate(hessian)]
fn heat_axpy_interior(u0: &Array1<f64>, r: f64, steps: usize) -> f64 {
    let mut u = u0.clone();
    for _ in 0..steps {
        let lap = &u.slice(s![2..]) + &u.slice(s![..-2]) - 2.0 * &u.slice(s![1..-1]);
        let mut next = u.clone();
        next.slice_mut(s![1..-1]).scaled_add(r, &lap);
        u = next;
    }
    u.sum() + u[3] * u[4]
}

#[test]
fn a_heat_step_as_an_axpy_on_the_interior() {
    let u0 = Array1::from(data(9, 0.6));
    let r = 0.25;
    let n = u0.len();
    let (y, (g, gr)) = heat_axpy_interior_grad(&u0, r, 1);
    close("value", y, heat_axpy_interior(&u0, r, 1), TOL);
    let mut u1 = u0.clone();
    let mut l0 = Array1::zeros(n);
    for i in 1..n - 1 {
        l0[i] = u0[i - 1] - 2.0 * u0[i] + u0[i + 1];
        u1[i] += r * l0[i];
    }
    let mut w = Array1::from_elem(n, 1.0);
    w[3] += u1[4];
    w[4] += u1[3];
    let mut want = w.clone();
    for i in 1..n - 1 {
        want[i - 1] += r * w[i];
        want[i + 1] += r * w[i];
        want[i] -= 2.0 * r * w[i];
    }
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂r", gr, w.dot(&l0), 1e-12);
    let steps = 3;
    let du = Array1::from(data(9, 1.6));
    check_modes(
        (&u0, r),
        (&du, 0.5),
        |u, r| heat_axpy_interior(u, r, steps),
        |u, r| heat_axpy_interior_grad(u, r, steps),
        |u, r, du, d| heat_axpy_interior_jvp(u, r, steps, du, d),
        |u, r, du, d| heat_axpy_interior_hvp(u, r, steps, du, d),
    );
}

/// Forward Euler for `u' = −u²` on a grid as axpys of the whole grid, of a row (its first row
/// relaxed towards the second) and of a broadcast bias: checked against differences.
#[differentiate]
fn euler_axpy(u0: &Array2<f64>, dt: f64) -> f64 {
    let mut u = u0.clone();
    for _ in 0..3 {
        let rhs = u.mapv(|v| -v * v);
        u.scaled_add(dt, &rhs);
        let second = u.row(1).to_owned();
        u.row_mut(0).scaled_add(-0.5, &second);
        let bias = Array1::from(vec![0.1, 0.2, 0.3]);
        u.scaled_add(dt, &bias);
    }
    u.mapv(|v| v.powi(2)).sum()
}

#[test]
fn an_euler_step_as_axpys_of_a_grid() {
    let u0 = Array2::from_shape_vec((3, 3), data(9, 0.7)).unwrap();
    let dt = 0.1;
    let (y, (g, gd)) = euler_axpy_grad(&u0, dt);
    close("value", y, euler_axpy(&u0, dt), TOL);
    let rep = gradcheck(
        |(u, dt): &(Array2<f64>, f64)| euler_axpy(u, *dt),
        &(u0.clone(), dt),
        &(g, gd),
    );
    assert!(rep.passed(), "{rep}");
}

/// Upwind advection at Courant number 1, a shift by one cell per step with an inflow at the
/// left, written with `copy_within`: after `k` steps `u_i = u0_{i−k}` for `i ≥ k` and the
/// inflow values `q·(k − i)` before, `f = Σ (i + 1)·u_i²`; so `∂f/∂u0_j = 2(j + k + 1)·u0_j`
/// for `j < n − k` (0 for the cells shifted out) and `∂f/∂q = Σ_{i<k} 2(i + 1)(k − i)²·q`.
#[differentiate(hessian)]
fn shifted(u0: &[f64], q: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    for k in 0..steps {
        u.copy_within(0..n - 1, 1);
        u[0] = q * (k as f64 + 1.0);
    }
    u.iter()
        .enumerate()
        .map(|(i, v)| (i as f64 + 1.0) * v * v)
        .sum()
}

/// The same shift to the left on a fixed-size array, an open range (`1..`), with an outflow
/// cell written after: `u ← (u₁, u₂, u₃, q·u₃)`, twice: `u = (u₂, u₃, q·u₃, q²·u₃)`,
/// `f = Σ u²`: `∇_u f = (0, 0, 2u₂, 2u₃(1 + q² + q⁴))`, `∂_q f = u₃²(2q + 4q³)`.
#[differentiate]
fn shifted_left(u0: [f64; 4], q: f64) -> f64 {
    let mut u = u0;
    for _ in 0..2 {
        u.copy_within(1.., 0);
        u[3] = q * u[2];
    }
    u.iter().map(|v| v * v).sum()
}

#[test]
fn advection_as_a_shift_with_copy_within() {
    let u0 = data(8, 0.9);
    let (q, steps) = (0.3, 3);
    let n = u0.len();
    let (y, (g, gq)) = shifted_grad(&u0, q, steps);
    close("value", y, shifted(&u0, q, steps), TOL);
    let want: Vec<f64> = (0..n)
        .map(|j| {
            if j + steps < n {
                2.0 * (j + steps + 1) as f64 * u0[j]
            } else {
                0.0
            }
        })
        .collect();
    close_all("∇u0", &g, &want);
    let want_q: f64 = (0..steps)
        .map(|i| 2.0 * (i + 1) as f64 * ((steps - i) as f64).powi(2) * q)
        .sum();
    close("∂q", gq, want_q, 1e-12);
    let du = data(8, 2.2);
    let (_, t) = shifted_jvp(&u0, q, steps, &du, 0.4);
    let want_t: f64 = g.iter().zip(&du).map(|(a, b)| a * b).sum::<f64>() + 0.4 * gq;
    close("tangent", t, want_t, 1e-12);
    let p = (u0.clone(), q);
    let (_, _, hv) = shifted_hvp(&u0, q, steps, &du, 0.4);
    let rep = hvpcheck(
        |(u, q): &(Vec<f64>, f64)| shifted_grad(u, *q, steps).1,
        &p,
        &(du.clone(), 0.4),
        &hv,
    );
    assert!(rep.passed(), "{rep}");

    let u = [0.4, -0.7, 1.1, 0.5];
    let q = 0.6;
    let (_, (g, gq)) = shifted_left_grad(u, q);
    let s = 1.0 + q * q + q.powi(4);
    close_all("∇u, left", &g, &[0.0, 0.0, 2.0 * u[2], 2.0 * u[3] * s]);
    close(
        "∂q, left",
        gq,
        u[3] * u[3] * (2.0 * q + 4.0 * q.powi(3)),
        1e-12,
    );
}

/// Heat steps on a grid whose boundary rows and columns are set by `fill` on their regions,
/// the right column to a value that depends on `a`: checked against one step's analytic
/// gradient below and against differences, the tangent and the Hessian-vector product.
#[differentiate(hessian)]
fn heat_filled_boundary(u0: &Array2<f64>, a: f64, steps: usize) -> f64 {
    let (_, ny) = u0.dim();
    let mut u = u0.clone();
    for _ in 0..steps {
        let lap = &u.slice(s![2.., 1..-1])
            + &u.slice(s![..-2, 1..-1])
            + &u.slice(s![1..-1, 2..])
            + &u.slice(s![1..-1, ..-2])
            - 4.0 * &u.slice(s![1..-1, 1..-1]);
        let inner = &u.slice(s![1..-1, 1..-1]) + &(a * &lap);
        u.slice_mut(s![1..-1, 1..-1]).assign(&inner);
        u.slice_mut(s![0, ..]).fill(0.0);
        u.row_mut(1).mapv_inplace(|v| 0.9 * v);
        u.column_mut(ny - 1).fill(2.0 * a);
    }
    u.mapv(|v| v * v).sum()
}

#[test]
fn a_grid_with_boundaries_set_by_fill() {
    let (nx, ny) = (4, 5);
    let u0 = Array2::from_shape_vec((nx, ny), data(nx * ny, 0.4)).unwrap();
    let a = 0.2;
    // One step: the interior is u0 + a·L u0, then row 0 is 0, row 1 is scaled by 0.9 (its
    // last element after, set to 2a with the rest of the last column). With f = Σ u₁²:
    // ∂f/∂a = Σ_interior 2u₁·s·(L u0) + Σ_{last column} 2·(2a)·2, s the row's scale, and
    // ∇_{u0} f = (I + a·L)ᵀ w on the interior's stencil, w = 2u₁·s at interior points not in
    // the last column or row 0 (those are overwritten), plus 2u₁ where u₁ is u0 unchanged.
    let (_, (g, ga)) = heat_filled_boundary_grad(&u0, a, 1);
    let mut u1 = u0.clone();
    let mut l0 = Array2::<f64>::zeros((nx, ny));
    for i in 1..nx - 1 {
        for j in 1..ny - 1 {
            l0[[i, j]] = lap(&u0, i, j);
            u1[[i, j]] = u0[[i, j]] + a * l0[[i, j]];
        }
    }
    let scale = |i: usize| if i == 1 { 0.9 } else { 1.0 };
    let mut want = Array2::<f64>::zeros((nx, ny));
    let mut want_a = 0.0;
    for i in 0..nx {
        for j in 0..ny {
            if i == 0 || j == ny - 1 {
                continue; // overwritten by `fill`
            }
            // The cotangent of u₁[i, j] before the row's scaling.
            let w = 2.0 * u1[[i, j]] * scale(i) * scale(i);
            if i == nx - 1 || j == 0 {
                want[[i, j]] += w; // u0 kept
                continue;
            }
            want[[i, j]] += w * (1.0 - 4.0 * a);
            want[[i - 1, j]] += w * a;
            want[[i + 1, j]] += w * a;
            want[[i, j - 1]] += w * a;
            want[[i, j + 1]] += w * a;
            want_a += w * l0[[i, j]];
        }
    }
    want_a += nx as f64 * 2.0 * (2.0 * a) * 2.0;
    close_all("∇u0", g.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂a", ga, want_a, 1e-12);
    let steps = 3;
    let du = Array2::from_shape_vec((nx, ny), data(nx * ny, 1.7)).unwrap();
    check_modes(
        (&u0, a),
        (&du, -0.6),
        |u, a| heat_filled_boundary(u, a, steps),
        |u, a| heat_filled_boundary_grad(u, a, steps),
        |u, a, du, d| heat_filled_boundary_jvp(u, a, steps, du, d),
        |u, a, du, d| heat_filled_boundary_hvp(u, a, steps, du, d),
    );
}

/// Heat steps whose interior's view, held in a local, is updated by compound assignments and
/// then damped: `u ← 0.99·(u + r·L u)` on the interior, `f = Σ u²`. After one step,
/// `∇_{u₀} f = (I + r·L)ᵀ w` and `∂_r f = w · L u₀`, `w = 2·0.99·u₁` on the interior and
/// `2u₀` at the two ends.
#[differentiate(hessian)]
fn heat_view_in_a_local(u0: &Array1<f64>, r: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.clone();
    for _ in 0..steps {
        let lap = &u.slice(s![2..]) - &(2.0 * &u.slice(s![1..n - 1])) + &u.slice(s![..n - 2]);
        let mut inner = u.slice_mut(s![1..n - 1]);
        inner += &(r * &lap);
        inner *= 0.99;
    }
    u.dot(&u)
}

/// A grid's interior, top row and left column changed through views held in locals (`+=`,
/// `fill`, `assign` then `mapv_inplace`): checked against differences.
#[differentiate]
fn grid_views_in_locals(u0: &Array2<f64>, a: f64) -> f64 {
    let (nx, _) = u0.dim();
    let mut u = u0.clone();
    for _ in 0..2 {
        let lap = &u.slice(s![2.., 1..-1])
            + &u.slice(s![..-2, 1..-1])
            + &u.slice(s![1..-1, 2..])
            + &u.slice(s![1..-1, ..-2])
            - 4.0 * &u.slice(s![1..-1, 1..-1]);
        let mut interior = u.slice_mut(s![1..-1, 1..-1]);
        interior += &(&lap * a);
        let mut top = u.row_mut(0);
        top.fill(0.0);
        let mut left = u.column_mut(0);
        left.assign(&Array1::from_elem(nx, a));
        left.mapv_inplace(|v| v * 2.0);
    }
    u.mapv(|v| v * v).sum()
}

#[test]
fn views_of_regions_held_in_locals() {
    let u0 = Array1::from(data(8, 0.6));
    let r = 0.2;
    let n = u0.len();
    let (y, (g, gr)) = heat_view_in_a_local_grad(&u0, r, 1);
    close("value", y, heat_view_in_a_local(&u0, r, 1), TOL);
    let mut l0 = Array1::<f64>::zeros(n);
    let mut u1 = u0.clone();
    for i in 1..n - 1 {
        l0[i] = u0[i - 1] - 2.0 * u0[i] + u0[i + 1];
        u1[i] = 0.99 * (u0[i] + r * l0[i]);
    }
    let mut w = &u1 * (2.0 * 0.99);
    w[0] = 2.0 * u0[0];
    w[n - 1] = 2.0 * u0[n - 1];
    let mut want = w.clone();
    for i in 1..n - 1 {
        want[i - 1] += r * w[i];
        want[i + 1] += r * w[i];
        want[i] -= 2.0 * r * w[i];
    }
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂r", gr, w.dot(&l0), 1e-12);
    let steps = 3;
    let du = Array1::from(data(8, 2.4));
    check_modes(
        (&u0, r),
        (&du, 0.3),
        |u, r| heat_view_in_a_local(u, r, steps),
        |u, r| heat_view_in_a_local_grad(u, r, steps),
        |u, r, du, d| heat_view_in_a_local_jvp(u, r, steps, du, d),
        |u, r, du, d| heat_view_in_a_local_hvp(u, r, steps, du, d),
    );

    let u0 = Array2::from_shape_vec((4, 5), data(20, 0.4)).unwrap();
    let a = 0.2;
    let (_, (g, ga)) = grid_views_in_locals_grad(&u0, a);
    let rep = gradcheck(
        |(u, a): &(Array2<f64>, f64)| grid_views_in_locals(u, *a),
        &(u0.clone(), a),
        &(g, ga),
    );
    assert!(rep.passed(), "{rep}");
}

/// A grid squashed elementwise through `Zip`s, the first over the whole grid (`view_mut()`)
/// calling a method on the element it writes, the second over `&mut`: `f = Σ tanh(tanh(u)·a)²`, so
/// `∂f/∂u = 2t·(1 − t²)·a·(1 − tanh²u)`, `∂f/∂a = Σ 2t·(1 − t²)·tanh u`, `t = tanh(a·tanh u)`.
#[differentiate(hessian)]
fn squashed_by_zips(u0: &Array2<f64>, a: f64) -> f64 {
    let mut u = u0.clone();
    Zip::from(u.view_mut()).for_each(|x| *x = x.tanh());
    Zip::from(&mut u).for_each(|x| *x = (a * *x).tanh());
    u.mapv(|v| v * v).sum()
}

#[test]
fn zips_calling_methods_on_the_element() {
    let u0 = Array2::from_shape_vec((2, 3), data(6, 0.8)).unwrap();
    let a = 0.7;
    let (y, (g, ga)) = squashed_by_zips_grad(&u0, a);
    close("value", y, squashed_by_zips(&u0, a), TOL);
    let want = u0.mapv(|v| {
        let t = (a * v.tanh()).tanh();
        2.0 * t * (1.0 - t * t) * a * (1.0 - v.tanh().powi(2))
    });
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
    let want_a: f64 = u0
        .iter()
        .map(|v| {
            let t = (a * v.tanh()).tanh();
            2.0 * t * (1.0 - t * t) * v.tanh()
        })
        .sum();
    close("∂a", ga, want_a, 1e-12);
    let du = Array2::from_shape_vec((2, 3), data(6, 1.3)).unwrap();
    let p = (u0.clone(), a);
    let (_, _, hv) = squashed_by_zips_hvp(&u0, a, &du, 0.2);
    let rep = hvpcheck(
        |(u, a): &(Array2<f64>, f64)| squashed_by_zips_grad(u, *a).1,
        &p,
        &(du.clone(), 0.2),
        &hv,
    );
    assert!(rep.passed(), "{rep}");
}

/// Heat steps through `zip_mut_with` (`u ← u + r·L u`, the ends kept), then each row of a
/// grid built from the result scaled by a per-column weight `w` broadcast along the rows and
/// its first row relaxed by the second: checked against differences, and the heat part (one
/// step, `f = Σ u²`) against `∇_{u₀} f = 2 (I + r·L)ᵀ u₁`, `∂_r f = 2 u₁ · L u₀`.
#[differentiate]
fn heat_zip_mut_with(u0: &Array1<f64>, r: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.clone();
    for _ in 0..steps {
        let mut lap = Array1::zeros(n);
        for i in 1..n - 1 {
            lap[i] = u[i - 1] - 2.0 * u[i] + u[i + 1];
        }
        u.zip_mut_with(&lap, |x, &l| *x += r * l);
    }
    u.dot(&u)
}

#[differentiate]
fn weighted_rows(u0: &Array2<f64>, w: &Array1<f64>) -> f64 {
    let mut u = u0.clone();
    u.zip_mut_with(w, |x, &y| *x = x.tanh() * y);
    let second = u.row(1).to_owned();
    u.row_mut(0).zip_mut_with(&second, |x, &y| *x -= 0.5 * y);
    u.mapv(|v| v * v).sum()
}

#[test]
fn updates_through_zip_mut_with() {
    let u0 = Array1::from(data(8, 0.6));
    let r = 0.2;
    let n = u0.len();
    let (_, (g, gr)) = heat_zip_mut_with_grad(&u0, r, 1);
    let mut l0 = Array1::<f64>::zeros(n);
    let mut u1 = u0.clone();
    for i in 1..n - 1 {
        l0[i] = u0[i - 1] - 2.0 * u0[i] + u0[i + 1];
        u1[i] += r * l0[i];
    }
    let mut want = &u1 * 2.0;
    for i in 1..n - 1 {
        let w = 2.0 * u1[i] * r;
        want[i - 1] += w;
        want[i + 1] += w;
        want[i] -= 2.0 * w;
    }
    close_all("∇u₀", g.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂r", gr, 2.0 * u1.dot(&l0), 1e-12);
    let (_, (g, gr)) = heat_zip_mut_with_grad(&u0, r, 3);
    let rep = gradcheck(
        |(u, r): &(Array1<f64>, f64)| heat_zip_mut_with(u, *r, 3),
        &(u0.clone(), r),
        &(g, gr),
    );
    assert!(rep.passed(), "{rep}");

    let u0 = Array2::from_shape_vec((3, 2), data(6, 0.5)).unwrap();
    let w = Array1::from(vec![0.3, -0.4]);
    let (y, (g, gw)) = weighted_rows_grad(&u0, &w);
    close("value", y, weighted_rows(&u0, &w), TOL);
    let rep = gradcheck(
        |(u, w): &(Array2<f64>, Array1<f64>)| weighted_rows(u, w),
        &(u0.clone(), w.clone()),
        &(g, gw),
    );
    assert!(rep.passed(), "{rep}");
}
