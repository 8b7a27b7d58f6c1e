//! Programs that compile and must give the gradient central differences give: compound
//! assignments to a field that holds an array (`s.w -= &g`, `self.w *= c` in a `&mut self`
//! method, `p.b += ..` of a generic float), and ndarray arrays changed in place under
//! `hessian` (a reshaped copy written by element, a region assigned from another region of
//! the same array, a `swap` and an `invert_axis`).
//!
//! `s.w -= &g` read the field's old value out of a reference to the struct, which an array
//! (or any field that is not `Copy`) cannot be moved out of: valid code was rustc's E0507
//! "cannot move out of a shared reference" inside the generated code, for the SGD step
//! `self.w -= &(g * lr)` of a `&mut self` method too. The old value is now a copy of the
//! field (`s.w.clone()`), as the write of an element of a field already was.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's; each `_hvp` against its analytic form or against differences of gradients.

#![allow(clippy::needless_range_loop, clippy::useless_vec)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis, s};
use num_traits::Float;

mod common;
use common::*;

const X: [[f64; 6]; 3] = [
    [0.7, -0.4, 1.3, 0.2, -0.9, 0.6],
    [-1.2, 0.9, 0.35, 1.7, 0.6, -0.3],
    [1.6, 1.1, -0.8, 0.45, 1.25, 0.8],
];

const D: [f64; 6] = [0.3, -0.8, 0.5, 0.25, 0.1, -0.6];

#[derive(Clone, Differentiable)]
struct Lin {
    w: Array1<f64>,
    b: f64,
}

#[differentiate(hessian)]
impl Lin {
    /// A gradient step on the weights, then the bias scaled by the rate.
    fn step(&mut self, g: &Array1<f64>, lr: f64) {
        self.w -= &(g * lr);
        self.b *= lr;
    }
}

/// `w = 2x − x1·x² + x2` (elementwise) by `-=` and `+=` on the field, `f = w·x + x0`.
#[differentiate(hessian)]
fn field_compound(x: &Array1<f64>) -> f64 {
    let mut l = Lin {
        w: x.mapv(|v| v * 2.0),
        b: x[0],
    };
    let g = x.mapv(|v| v * v);
    l.w -= &(&g * x[1]);
    l.w += x[2];
    l.w.dot(x) + l.b
}

/// The step as a `&mut self` method: `w = 2x − x3·x²`, `b = x0·x3`, `f = w·x + b`.
#[differentiate(hessian)]
fn method_step(x: &Array1<f64>) -> f64 {
    let mut l = Lin {
        w: x.mapv(|v| v * 2.0),
        b: x[0],
    };
    let g = x.mapv(|v| v * v);
    l.step(&g, x[3]);
    l.w.dot(x) + l.b
}

#[derive(Clone, Differentiable)]
struct Gp<F: Float> {
    w: Vec<F>,
    b: F,
}

/// Over a generic float: `b = (x0 + x1·x2)²`, `w1 = x1·b`, `f = x0 + w1 + b`.
#[differentiate(hessian)]
fn generic_field<F: Float + std::ops::AddAssign + std::ops::MulAssign>(x: &[F]) -> F {
    let mut p = Gp {
        w: x.to_vec(),
        b: x[0],
    };
    p.b += x[1] * x[2];
    p.b *= p.b;
    p.w[1] *= p.b;
    p.w[0] + p.w[1] + p.b
}

/// `H·d` of `f` at `x` by central differences of its gradient.
fn hvp_by_differences(grad: impl Fn(&Array1<f64>) -> Array1<f64>, x: &Array1<f64>) -> Array1<f64> {
    let d = Array1::from(D.to_vec());
    let e = 1e-5;
    (grad(&(x + &(&d * e))) - grad(&(x - &(&d * e)))) / (2.0 * e)
}

#[test]
fn compound_assignment_to_an_array_field() {
    let d = Array1::from(D.to_vec());
    for x in X {
        let x = Array1::from(x.to_vec());
        let n = x.len();
        let (s1, s3) = (x.sum(), x.mapv(|v| v.powi(3)).sum());

        // ∂k = (2 − 2·x1·xk)·xk + wk + [k = 0] − [k = 1]·Σxᵢ³ + [k = 2]·Σxᵢ,
        // wk = 2xk − x1·xk² + x2
        let (v, g) = field_compound_grad(&x);
        assert_eq!(v, field_compound(&x));
        let e = Array1::from_shape_fn(n, |k| {
            let w = 2.0 * x[k] - x[1] * x[k] * x[k] + x[2];
            (2.0 - 2.0 * x[1] * x[k]) * x[k] + w + [1.0, -s3, s1, 0.0, 0.0, 0.0][k]
        });
        same("field compound", &g, &e, TOL);
        fd_array("field compound", field_compound, &x, &g);
        let (v2, g2, hv) = field_compound_hvp(&x, &d);
        assert_eq!(v2, v);
        same("field compound, gradient of hvp", &g2, &g, TOL);
        same(
            "field compound, H·d",
            &hv,
            &hvp_by_differences(|p| field_compound_grad(p).1, &x),
            1e-6,
        );

        // ∂k = (2 − 2·x3·xk)·xk + wk + [k = 0]·x3 + [k = 3]·(x0 − Σxᵢ³), wk = 2xk − x3·xk²
        let (v, g) = method_step_grad(&x);
        assert_eq!(v, method_step(&x));
        let e = Array1::from_shape_fn(n, |k| {
            let w = 2.0 * x[k] - x[3] * x[k] * x[k];
            (2.0 - 2.0 * x[3] * x[k]) * x[k] + w + [x[3], 0.0, 0.0, x[0] - s3, 0.0, 0.0][k]
        });
        same("method step", &g, &e, TOL);
        fd_array("method step", method_step, &x, &g);
        let (v2, g2, hv) = method_step_hvp(&x, &d);
        assert_eq!(v2, v);
        same("method step, gradient of hvp", &g2, &g, TOL);
        same(
            "method step, H·d",
            &hv,
            &hvp_by_differences(|p| method_step_grad(p).1, &x),
            1e-6,
        );

        // b = u², u = x0 + x1·x2; f = x0 + x1·b + b:
        // ∂0 = 1 + 2u·(x1 + 1), ∂1 = b + 2u·x2·(x1 + 1), ∂2 = 2u·x1·(x1 + 1)
        let xs = x.to_vec();
        let (v, g) = generic_field_grad(&xs);
        assert_eq!(v, generic_field(&xs));
        let u = x[0] + x[1] * x[2];
        let b = u * u;
        let mut e = vec![0.0; n];
        e[0] = 1.0 + 2.0 * u * (x[1] + 1.0);
        e[1] = b + 2.0 * u * x[2] * (x[1] + 1.0);
        e[2] = 2.0 * u * x[1] * (x[1] + 1.0);
        close_all("generic field", &g, &e);
        fd_vec("generic field", generic_field, &xs, &g);
        let (v2, g2, hv) = generic_field_hvp(&xs, &D.to_vec());
        assert_eq!(v2, v);
        close_all("generic field, gradient of hvp", &g2, &g);
        let eh = hvp_by_differences(|p| Array1::from(generic_field_grad(&p.to_vec()).1), &x);
        same("generic field, H·d", &Array1::from(hv), &eh, 1e-6);

        // The same over f32: the gradient to f32 rounding.
        let x32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
        let (v32, g32) = generic_field_grad(&x32);
        assert_eq!(v32, generic_field(&x32));
        for k in 0..n {
            let tol = 1e-4 * e[k].abs().max(1.0);
            assert!(
                (g32[k] as f64 - e[k]).abs() <= tol,
                "generic field, f32 ∂{k}"
            );
        }
    }
}

/// A copy reshaped to 2×3 and written by element: `m01 = 3·x1`, `m12 = x0·x4`, `f = Σ m²`
/// `= x0² + 9x1² + x2² + x3² + x4² + (x0·x4)²` (x5 is overwritten).
#[differentiate(hessian)]
fn reshaped_then_written(x: &Array1<f64>) -> f64 {
    let mut m = x.clone().into_shape_with_order((2, 3)).unwrap();
    m[[0, 1]] *= 3.0;
    m[[1, 2]] = m[[0, 0]] * m[[1, 1]];
    (&m * &m).sum()
}

/// A region assigned from a region of the same array, then an element swap and the axis
/// inverted: `a = (x0, x0², x1², x3, x4, x5)`, swapped to `(x1², x0², x0, x3, x4, x5)`,
/// inverted to `r = (x5, x4, x3, x0, x0², x1²)`; `f = Σ r² + r0·r1 = x5² + x4² + x3² + x0²
/// + x0⁴ + x1⁴ + x5·x4`.
#[differentiate(hessian)]
fn region_from_itself(x: &Array1<f64>) -> f64 {
    let mut a = x.clone();
    let head = a.slice(s![..2]).to_owned();
    a.slice_mut(s![1..3]).assign(&(&head * &head));
    a.swap(0, 2);
    a.invert_axis(Axis(0));
    (&a * &a).sum() + a[0] * a[1]
}

#[test]
fn arrays_changed_in_place_under_hessian() {
    let d = Array1::from(D.to_vec());
    for x in X {
        let x = Array1::from(x.to_vec());
        let [x0, x1, x2, x3, x4, x5] = [x[0], x[1], x[2], x[3], x[4], x[5]];
        let [d0, d1, d2, d3, d4, d5] = D;

        // ∇ = (2x0 + 2x0·x4², 18x1, 2x2, 2x3, 2x4 + 2x4·x0², 0)
        let (v, g) = reshaped_then_written_grad(&x);
        assert_eq!(v, reshaped_then_written(&x));
        let e = Array1::from(vec![
            2.0 * x0 + 2.0 * x0 * x4 * x4,
            18.0 * x1,
            2.0 * x2,
            2.0 * x3,
            2.0 * x4 + 2.0 * x4 * x0 * x0,
            0.0,
        ]);
        same("reshaped", &g, &e, TOL);
        fd_array("reshaped", reshaped_then_written, &x, &g);
        // H·d = ((2 + 2x4²)d0 + 4x0x4·d4, 18d1, 2d2, 2d3, 4x0x4·d0 + (2 + 2x0²)d4, 0)
        let (v2, g2, hv) = reshaped_then_written_hvp(&x, &d);
        assert_eq!(v2, v);
        same("reshaped, gradient of hvp", &g2, &g, TOL);
        let eh = Array1::from(vec![
            (2.0 + 2.0 * x4 * x4) * d0 + 4.0 * x0 * x4 * d4,
            18.0 * d1,
            2.0 * d2,
            2.0 * d3,
            4.0 * x0 * x4 * d0 + (2.0 + 2.0 * x0 * x0) * d4,
            0.0,
        ]);
        same("reshaped, H·d", &hv, &eh, TOL);

        // ∇ = (2x0 + 4x0³, 4x1³, 0, 2x3, 2x4 + x5, 2x5 + x4)
        let (v, g) = region_from_itself_grad(&x);
        assert_eq!(v, region_from_itself(&x));
        let e = Array1::from(vec![
            2.0 * x0 + 4.0 * x0.powi(3),
            4.0 * x1.powi(3),
            0.0,
            2.0 * x3,
            2.0 * x4 + x5,
            2.0 * x5 + x4,
        ]);
        same("region from itself", &g, &e, TOL);
        fd_array("region from itself", region_from_itself, &x, &g);
        // H·d = ((2 + 12x0²)d0, 12x1²·d1, 0, 2d3, 2d4 + d5, 2d5 + d4)
        let (v2, g2, hv) = region_from_itself_hvp(&x, &d);
        assert_eq!(v2, v);
        same("region from itself, gradient of hvp", &g2, &g, TOL);
        let eh = Array1::from(vec![
            (2.0 + 12.0 * x0 * x0) * d0,
            12.0 * x1 * x1 * d1,
            0.0,
            2.0 * d3,
            2.0 * d4 + d5,
            2.0 * d5 + d4,
        ]);
        same("region from itself, H·d", &hv, &eh, TOL);
    }
}

/// The elements of a matrix carried by a loop, iterated in the loop and after it (`a.iter()`
/// was compiled as a vector's, rustc's "`usize: NdIndex<Dim<[usize; 2]>>`" in the generated
/// code): with `a` = 2ᵏ·x in iteration k, `t = x00·Σx² + 4·x11·Σx² + Σ sin(4xᵢⱼ)`.
#[differentiate(hessian)]
fn carried_matrix_elements(x: &Array2<f64>) -> f64 {
    let mut a = x.clone();
    let mut t = 0.0;
    for k in 0..2 {
        for v in a.iter() {
            t += v * v * x[[k, k]];
        }
        a *= 2.0;
    }
    for v in a.iter() {
        t += v.sin();
    }
    t
}

#[test]
fn a_matrix_carried_by_a_loop_is_iterated_as_a_matrix() {
    for seed in [3, 5, 8] {
        let x = seeded(3, 3, seed);
        let q = x.mapv(|v| v * v).sum();
        // ∂ij = 2xᵢⱼ·(x00 + 4x11) + 4cos(4xᵢⱼ) + [ij = 00]·Σx² + [ij = 11]·4Σx²
        let (v, g) = carried_matrix_elements_grad(&x);
        assert_eq!(v, carried_matrix_elements(&x));
        let mut e = x.mapv(|v| 2.0 * v * (x[[0, 0]] + 4.0 * x[[1, 1]]) + 4.0 * (4.0 * v).cos());
        e[[0, 0]] += q;
        e[[1, 1]] += 4.0 * q;
        same("carried matrix", &g, &e, TOL);
        fd_array("carried matrix", carried_matrix_elements, &x, &g);
        // H·d against differences of gradients.
        let d = seeded(3, 3, seed + 100);
        let (v2, g2, hv) = carried_matrix_elements_hvp(&x, &d);
        assert_eq!(v2, v);
        same("carried matrix, gradient of hvp", &g2, &g, TOL);
        let h = 1e-5;
        let grad = |p: &Array2<f64>| carried_matrix_elements_grad(p).1;
        let eh = (grad(&(&x + &(&d * h))) - grad(&(&x - &(&d * h)))) / (2.0 * h);
        same("carried matrix, H·d", &hv, &eh, 1e-6);
    }
}
