//! Arrays built from their elements (`arr1(&[x, y, 1.0])`, `arr2(&[[..], ..])`,
//! `Array1::from_elem(n, x)`) of differentiated values; a struct with a one-letter name built
//! as a local and changed by its `&mut self` method; an array field mapped and assigned back in
//! a `&mut self` method. Each gradient against its analytic form and central finite
//! differences.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, arr1, arr2};

mod common;
use common::*;

/// f = Σ c_i v_i² of v = (x, x·y, 1), c = (1, 2, 3): x² + 2x²y² + 3;
/// ∂x = 2x + 4xy², ∂y = 4x²y.
#[differentiate]
fn weighted_squares(x: f64, y: f64) -> f64 {
    let v = arr1(&[x, x * y, 1.0]);
    let c = arr1(&[1.0, 2.0, 3.0]);
    (&v * &v * &c).sum()
}

#[test]
fn arr1_of_differentiated_scalars() {
    let (x, y) = (0.7, -1.3);
    let (f, g) = weighted_squares_grad(x, y);
    close("f", f, weighted_squares(x, y), TOL);
    close2("∇", g, (2.0 * x + 4.0 * x * y * y, 4.0 * x * x * y));
    fd2("∇", weighted_squares, (x, y), g);
}

/// m = [[x, y], [1, x·y]]; m·m = [[x² + y, xy + xy²], [x + xy, y + x²y²]], so
/// f = x² + 2y + 2xy + xy² + x + x²y²; ∂x = 2x + 2y + y² + 1 + 2xy², ∂y = 2 + 2x + 2xy + 2x²y.
#[differentiate]
fn matrix_of_scalars(x: f64, y: f64) -> f64 {
    let m = arr2(&[[x, y], [1.0, x * y]]);
    m.dot(&m).sum()
}

#[test]
fn arr2_of_differentiated_scalars() {
    let (x, y) = (0.4, 1.7);
    let (f, g) = matrix_of_scalars_grad(x, y);
    close("f", f, matrix_of_scalars(x, y), TOL);
    let dx = 2.0 * x + 2.0 * y + y * y + 1.0 + 2.0 * x * y * y;
    let dy = 2.0 + 2.0 * x + 2.0 * x * y + 2.0 * x * x * y;
    close2("∇", g, (dx, dy));
    fd2("∇", matrix_of_scalars, (x, y), g);
}

/// u = (x, x, x, x); f = y · Σ w_i u_i² of w = (1, 2, 3, 4): 10x²y; ∂x = 20xy, ∂y = 10x².
#[differentiate]
fn filled_with(x: f64, y: f64) -> f64 {
    let u = Array1::from_elem(4, x);
    let w = Array1::from_vec(vec![1.0, 2.0, 3.0, 4.0]);
    (&u * &u * &w).sum() * y
}

#[test]
fn from_elem_of_a_differentiated_scalar() {
    let (x, y) = (1.1, -0.6);
    let (f, g) = filled_with_grad(x, y);
    close("f", f, filled_with(x, y), TOL);
    close2("∇", g, (20.0 * x * y, 10.0 * x * x));
    fd2("∇", filled_with, (x, y), g);
}

#[derive(Clone, Differentiable)]
struct L {
    w: f64,
}

impl L {
    #[differentiate]
    fn new(w: f64) -> Self {
        L { w }
    }

    #[differentiate]
    fn scale(&mut self, k: f64) {
        self.w = self.w * k;
    }
}

/// l.w = 3x (built by a literal); m.w = 2x² (built by `L::new(x)`, scaled by x then 2):
/// f = 9x² + 4x⁴; ∂x = 18x + 16x³.
#[differentiate]
fn one_letter_struct(x: f64) -> f64 {
    let mut l = L { w: x };
    l.scale(3.0);
    let mut m = L::new(x);
    m.scale(x);
    m.scale(2.0);
    l.w * l.w + m.w * m.w
}

#[test]
fn one_letter_struct_built_as_a_local() {
    let x = 0.8;
    let (f, g) = one_letter_struct_grad(x);
    close("f", f, one_letter_struct(x), TOL);
    close("∂x", g, 18.0 * x + 16.0 * x * x * x, TOL);
    fd("∂x", one_letter_struct, x, g);
}

#[derive(Clone, Differentiable)]
struct Layer {
    w: Array1<f64>,
}

impl Layer {
    #[differentiate]
    fn shrink(&mut self, s: f64) {
        self.w = self.w.mapv(|v| v * s);
    }
}

/// The weights scaled by s², then summed: f = s² Σ w_i; ∂w_i = s², ∂s = 2s Σ w_i.
#[differentiate]
fn shrunk_sum(w: &Array1<f64>, s: f64) -> f64 {
    let mut layer = Layer { w: w.clone() };
    layer.shrink(s);
    layer.shrink(s);
    layer.w.sum()
}

#[test]
fn field_mapped_and_assigned_back() {
    let w = Array1::from_vec(data(5, 0.3));
    let s = 1.3;
    let (f, (gw, gs)) = shrunk_sum_grad(&w, s);
    close("f", f, shrunk_sum(&w, s), TOL);
    close_all("∇w", gw.as_slice().unwrap(), &[s * s; 5]);
    close("∂s", gs, 2.0 * s * w.sum(), TOL);
    fd("∂s", |s| shrunk_sum(&w, s), s, gs);
    fd_vec(
        "∇w",
        |v| shrunk_sum(&Array1::from_vec(v.to_vec()), s),
        w.as_slice().unwrap(),
        gw.as_slice().unwrap(),
    );
}

/// The form the README gives for `Array1::linspace(a, b, n)` of differentiated end points:
/// tᵢ = a + (b − a)·sᵢ with sᵢ = i/(n − 1), f = Σ tᵢ²; ∂a = Σ 2tᵢ(1 − sᵢ), ∂b = Σ 2tᵢsᵢ.
#[differentiate]
fn grid_energy(a: f64, b: f64) -> f64 {
    let n = 5;
    let t = Array1::from_shape_fn(n, |i| a + (b - a) * i as f64 / (n - 1) as f64);
    t.mapv(|v| v * v).sum()
}

#[test]
fn linspace_written_as_from_shape_fn() {
    let (a, b) = (-0.4, 1.1);
    let (f, g) = grid_energy_grad(a, b);
    close("f", f, grid_energy(a, b), TOL);
    let (mut da, mut db) = (0.0, 0.0);
    for i in 0..5 {
        let s = i as f64 / 4.0;
        let t = a + (b - a) * s;
        da += 2.0 * t * (1.0 - s);
        db += 2.0 * t * s;
    }
    close2("∇", g, (da, db));
    fd2("∇", grid_energy, (a, b), g);
}

/// The form the README gives for `aview1(&v)` of differentiated values: v = 2x,
/// f = v·v + v₀ = 4Σx² + 2x₀; ∂xₖ = 8xₖ + 2δₖ₀.
#[differentiate]
fn vec_as_array(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().map(|&u| u * 2.0).collect();
    let a = Array1::from_vec(v.clone());
    a.dot(&a) + v[0]
}

#[test]
fn vec_viewed_as_array_written_as_from_vec() {
    let x = [0.3, -1.2, 0.8];
    let (f, g) = vec_as_array_grad(&x);
    close("f", f, vec_as_array(&x), TOL);
    let want: Vec<f64> = (0..3)
        .map(|k| 8.0 * x[k] + if k == 0 { 2.0 } else { 0.0 })
        .collect();
    close_all("∇", &g, &want);
    fd_vec("∇", vec_as_array, &x, &g);
}
