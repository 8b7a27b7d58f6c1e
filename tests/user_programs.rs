//! Programs as people new to the crate write them after reading the README: losses over slices
//! and arrays, iterator chains, ODE integrators, parameter structs with methods, `match` and
//! `while` on floats, generic and `f32` variants. Some are the smallest forms of classes that
//! once failed: rows of nested data (`&[Vec<f64>]`, `a[i][j]`) moved out of their container, a
//! `match` on a differentiated value whose arm binds it (`v if v < 0.0 => ..`, a gradient of
//! zero), a guard naming a binding that shadows a variable, `self.g(x)` and `wrt(self)` in
//! methods, `*r` of `let r = &x` or of a parameter `x: &f64`, and tuple assignments
//! `(a, b) = (b, a + b)`, all rejected before; and the user's methods called on fields
//! (`self.layer.forward(x)`), float methods of views, matrices from rows; layers in a `Vec` or
//! array field (`for layer in &self.layers`), and a loop variable that is a reference passed on
//! to a call (`for (x, y) in xs.iter().zip(ys) { net.predict(x) }`).
//!
//! Each gradient is checked against the analytic one (stated beside the function) and against
//! central finite differences through `autodiff::check`.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::op_ref,
    clippy::needless_return,
    clippy::let_and_return,
    clippy::assign_op_pattern,
    clippy::useless_vec,
    clippy::while_let_loop,
    unused_assignments
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, array};

mod common;
use common::*;

/// Checks `d` against central differences of `f` at `x`.
#[track_caller]
fn fd_vec(what: &str, f: impl Fn(&[f64]) -> f64, x: &[f64], d: &[f64]) {
    let r = gradcheck(|p: &Vec<f64>| f(p), &x.to_vec(), &d.to_vec());
    assert!(r.passed(), "{what}: {r}");
}

fn data() -> Vec<Vec<f64>> {
    vec![vec![0.5, -1.0], vec![1.5, 0.3], vec![-0.7, 0.8]]
}

// ---------------------------------------------------------------------------------------------
// Nested data: rows of a `&[Vec<f64>]` and a `&Vec<Vec<f64>>`, read by iteration and by index.
// ---------------------------------------------------------------------------------------------

/// Ridge regression over rows: L = Σᵢ (⟨rowᵢ, w⟩ − tᵢ)² + λ‖w‖²;
/// ∂w = 2 Σᵢ (⟨rowᵢ, w⟩ − tᵢ)·rowᵢ + 2λw.
#[differentiate(wrt(w))]
fn ridge(w: &[f64], data: &[Vec<f64>], y: &[f64], lambda: f64) -> f64 {
    let mut loss = 0.0;
    for (row, t) in data.iter().zip(y) {
        let pred: f64 = row.iter().zip(w).map(|(a, b)| a * b).sum();
        loss += (pred - t).powi(2);
    }
    loss + lambda * w.iter().map(|wi| wi * wi).sum::<f64>()
}

#[test]
fn rows_of_a_slice_of_vecs_are_iterated() {
    let (data, y, w, lambda) = (data(), [1.0, 0.0, 1.0], [0.3, -0.2], 0.1);
    let (_, dw) = ridge_grad(&w, &data, &y, lambda);
    let mut expected = vec![2.0 * lambda * w[0], 2.0 * lambda * w[1]];
    for (row, t) in data.iter().zip(y) {
        let r = row[0] * w[0] + row[1] * w[1] - t;
        expected[0] += 2.0 * r * row[0];
        expected[1] += 2.0 * r * row[1];
    }
    close_all("ridge", &dw, &expected);
    fd_vec("ridge", |w| ridge(w, &data, &y, lambda), &w, &dw);
}

/// vᵀAv with `a[i][j]` of a `&Vec<Vec<f64>>`: ∂v = (A + Aᵀ)v.
#[differentiate(wrt(v))]
fn quad_form(v: &[f64], a: &Vec<Vec<f64>>) -> f64 {
    let mut s = 0.0;
    for i in 0..v.len() {
        for j in 0..v.len() {
            s += v[i] * a[i][j] * v[j];
        }
    }
    s
}

#[test]
fn elements_of_a_vec_of_vecs_are_indexed() {
    let a = vec![
        vec![1.0, 0.5, 0.2],
        vec![0.1, 2.0, -0.3],
        vec![0.0, 0.4, 1.5],
    ];
    let v = [0.3, -0.6, 1.1];
    let (_, dv) = quad_form_grad(&v, &a);
    let expected: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| (a[i][j] + a[j][i]) * v[j]).sum())
        .collect();
    close_all("quad_form", &dv, &expected);
    fd_vec("quad_form", |v| quad_form(v, &a), &v, &dv);
}

/// Σᵢ w·mean(rowᵢ)·|rowᵢ| with `row.len()` and `row.iter().sum()`: ∂w = Σᵢ mean(rowᵢ)·|rowᵢ|
/// (= the sum of all entries).
#[differentiate(wrt(w))]
fn weighted_row_means(w: f64, data: &[Vec<f64>]) -> f64 {
    let mut s = 0.0;
    for i in 0..data.len() {
        let row = &data[i];
        let n = row.len() as f64;
        s += w * row.iter().sum::<f64>() / n * n;
    }
    s
}

#[test]
fn rows_are_measured_and_borrowed() {
    let data = vec![vec![0.5, -1.0, 2.0], vec![1.5], vec![-0.7, 0.8]];
    let (_, dw) = weighted_row_means_grad(0.7, &data);
    close("∂w", dw, data.iter().flatten().sum(), TOL);
    fd(
        "weighted_row_means",
        |w| weighted_row_means(w, &data),
        0.7,
        dw,
    );
}

// ---------------------------------------------------------------------------------------------
// `match` on a differentiated value.
// ---------------------------------------------------------------------------------------------

/// |x| for x < 0, x² on [0, 1), 2x − 1 from 1: ∂x = −1, 2x, 2.
#[differentiate]
fn piecewise(x: f64) -> f64 {
    match x {
        v if v < 0.0 => -v,
        v if v < 1.0 => v * v,
        v => 2.0 * v - 1.0,
    }
}

#[test]
fn a_match_arm_binding_the_differentiated_value_is_differentiated() {
    for (x, d) in [(-0.5, -1.0), (0.5, 1.0), (1.5, 2.0)] {
        let (y, dx) = piecewise_grad(x);
        close("value", y, piecewise(x), TOL);
        close(&format!("∂x at {x}"), dx, d, TOL);
        fd("piecewise", piecewise, x, dx);
        let (_, t) = piecewise_jvp(x, 1.0);
        close(&format!("tangent at {x}"), t, d, TOL);
    }
}

/// An integer scrutinee whose guard names a binding that shadows the float `v`:
/// 2x for k > 3, k·x for k in 1..=3, −10x for k = 0; ∂x = 2, k, −10.
#[differentiate]
fn shadowed_in_a_guard(x: f64, k: u32) -> f64 {
    let v = 10.0;
    match k {
        v if v > 3 => x * 2.0,
        n @ 1..=3 => x * n as f64,
        _ => -x * v,
    }
}

#[test]
fn a_guard_reads_the_pattern_binding_not_the_shadowed_variable() {
    for (k, d) in [(0, -10.0), (1, 1.0), (3, 3.0), (4, 2.0), (9, 2.0)] {
        let (_, dx) = shadowed_in_a_guard_grad(1.5, k);
        close(&format!("∂x at k = {k}"), dx, d, TOL);
        fd(
            "shadowed_in_a_guard",
            |x| shadowed_in_a_guard(x, k),
            1.5,
            dx,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter structs with methods: `self.g(x)`, `Self::g(x)`, `wrt(self)`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Line {
    slope: f64,
    intercept: f64,
}

impl Line {
    /// a·x + b: ∂a = x, ∂b = 1, ∂x = a.
    #[differentiate]
    fn predict(&self, x: f64) -> f64 {
        self.slope * x + self.intercept
    }

    /// Σ (a·xᵢ + b − yᵢ)²: ∂a = 2 Σ rᵢ·xᵢ, ∂b = 2 Σ rᵢ.
    #[differentiate(wrt(self))]
    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..xs.len() {
            let r = self.predict(xs[i]) - ys[i];
            s += r * r;
        }
        s
    }

    /// Huber: r²/2 where |r| ≤ δ, δ(|r| − δ/2) beyond; ∂r = r, δ·sign r.
    #[differentiate]
    fn huber(r: f64, delta: f64) -> f64 {
        if r.abs() <= delta {
            0.5 * r * r
        } else {
            delta * (r.abs() - 0.5 * delta)
        }
    }

    /// Σ huber(a·xᵢ + b − yᵢ, 1): ∂a = Σ huber'(rᵢ)·xᵢ, ∂b = Σ huber'(rᵢ).
    #[differentiate(wrt(self))]
    fn robust_loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..xs.len() {
            s += Self::huber(self.predict(xs[i]) - ys[i], 1.0);
        }
        s
    }
}

#[test]
fn methods_call_methods_of_self() {
    let line = Line {
        slope: 0.5,
        intercept: -0.2,
    };
    let xs = [0.0, 1.0, 2.0, 3.5];
    let ys = [0.1, 0.9, 2.2, 0.4];
    let r: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 0.5 * x - 0.2 - y).collect();
    let at = |a: &[f64]| Line {
        slope: a[0],
        intercept: a[1],
    };

    let (_, g) = line.loss_grad(&xs, &ys);
    let da: f64 = r.iter().zip(&xs).map(|(r, x)| 2.0 * r * x).sum();
    let db: f64 = r.iter().map(|r| 2.0 * r).sum();
    close_all("loss", &[g.slope, g.intercept], &[da, db]);
    fd_vec(
        "loss",
        |a| at(a).loss(&xs, &ys),
        &[0.5, -0.2],
        &[g.slope, g.intercept],
    );

    let (_, g) = line.robust_loss_grad(&xs, &ys);
    let h = |r: f64| if r.abs() <= 1.0 { r } else { r.signum() };
    let da: f64 = r.iter().zip(&xs).map(|(r, x)| h(*r) * x).sum();
    let db: f64 = r.iter().map(|r| h(*r)).sum();
    assert!(r.iter().any(|r| r.abs() > 1.0) && r.iter().any(|r| r.abs() < 1.0));
    close_all("robust_loss", &[g.slope, g.intercept], &[da, db]);
    fd_vec(
        "robust_loss",
        |a| at(a).robust_loss(&xs, &ys),
        &[0.5, -0.2],
        &[g.slope, g.intercept],
    );
}

// ---------------------------------------------------------------------------------------------
// Methods of a block declared `wrt(self)` calling each other with data (`self.forward(x)`), and
// a function declared `wrt(x)` calling itself with data (`horner(&c[1..], x)`): each call's
// gradient has an entry for what the callee's list keeps.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Perceptron {
    w: Vec<f64>,
    b: f64,
}

#[differentiate(hessian, wrt(self))]
impl Perceptron {
    /// tanh(⟨w, x⟩ + b).
    fn forward(&self, x: &[f64]) -> f64 {
        let mut s = self.b;
        for (w, x) in self.w.iter().zip(x) {
            s += w * x;
        }
        s.tanh()
    }

    /// (forward(x) − y)².
    fn point_loss(&self, x: &[f64], y: f64) -> f64 {
        let r = self.forward(x) - y;
        r * r
    }

    /// The mean of the points' losses.
    fn loss(&self, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        let mut s = 0.0;
        for (x, y) in xs.iter().zip(ys) {
            s += Self::point_loss(self, x, *y);
        }
        s / ys.len() as f64
    }
}

/// c₀ + x·(c₁ + x·(c₂ + …)), the coefficients data: ∂x = Σ k·cₖ·xᵏ⁻¹.
#[differentiate(hessian, wrt(x))]
fn horner_in_x(c: &[f64], x: f64) -> f64 {
    if c.is_empty() {
        0.0
    } else {
        c[0] + x * horner_in_x(&c[1..], x)
    }
}

#[test]
fn calls_pass_data_where_the_callees_wrt_leaves_a_float_out() {
    let xs = data();
    let ys = [0.3, -0.4, 0.8];
    let unit = Perceptron {
        w: vec![0.7, -0.3],
        b: 0.2,
    };
    let at = |a: &[f64]| Perceptron {
        w: a[..2].to_vec(),
        b: a[2],
    };
    let (v, g) = unit.loss_grad(&xs, &ys);
    close("loss", v, unit.loss(&xs, &ys), 1e-12);
    // ∂w = mean 2(tᵢ − yᵢ)(1 − tᵢ²)·xᵢ, ∂b the same without xᵢ.
    let (mut dw, mut db) = (vec![0.0; 2], 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let t = (0.7 * x[0] - 0.3 * x[1] + 0.2f64).tanh();
        let e = 2.0 * (t - y) * (1.0 - t * t) / 3.0;
        dw[0] += e * x[0];
        dw[1] += e * x[1];
        db += e;
    }
    close_all("∂w", &g.w, &dw);
    close("∂b", g.b, db, TOL);
    fd_vec(
        "loss",
        |a| at(a).loss(&xs, &ys),
        &[0.7, -0.3, 0.2],
        &[g.w[0], g.w[1], g.b],
    );
    let (_, pb) = unit.point_loss_vjp(&xs[1], ys[1]);
    let (_, g1) = unit.point_loss_grad(&xs[1], ys[1]);
    let s = pb(-0.5);
    close_all(
        "seeded",
        &[s.w[0], s.w[1], s.b],
        &[-0.5 * g1.w[0], -0.5 * g1.w[1], -0.5 * g1.b],
    );
    let dir = Perceptron {
        w: vec![0.4, -1.1],
        b: 0.6,
    };
    let (_, dv) = unit.loss_jvp(&xs, &ys, &dir);
    close(
        "tangent",
        dv,
        0.4 * g.w[0] - 1.1 * g.w[1] + 0.6 * g.b,
        1e-10,
    );
    // H·v against the difference of gradients.
    let (_, _, hv) = unit.loss_hvp(&xs, &ys, &dir);
    let h = 1e-6;
    let shifted = |e: f64| {
        at(&[0.7 + e * 0.4, -0.3 - e * 1.1, 0.2 + e * 0.6])
            .loss_grad(&xs, &ys)
            .1
    };
    let (p, m) = (shifted(h), shifted(-h));
    let want = [
        (p.w[0] - m.w[0]) / (2.0 * h),
        (p.w[1] - m.w[1]) / (2.0 * h),
        (p.b - m.b) / (2.0 * h),
    ];
    for (got, want) in [hv.w[0], hv.w[1], hv.b].into_iter().zip(want) {
        close("H·v", got, want, 1e-6);
    }

    let c = [1.0, -2.0, 0.5, 0.25];
    for x in [-1.3, 0.4, 2.1] {
        let (v, dx) = horner_in_x_grad(&c, x);
        close(
            "horner",
            v,
            1.0 - 2.0 * x + 0.5 * x * x + 0.25 * x * x * x,
            1e-12,
        );
        close("∂x", dx, -2.0 + x + 0.75 * x * x, TOL);
        let (_, _, hx) = horner_in_x_hvp(&c, x, 1.5);
        close("∂²x", hx, 1.5 * (1.0 + 1.5 * x), TOL);
        let (_, dv) = horner_in_x_jvp(&c, x, -2.0);
        close("tangent", dv, -2.0 * dx, TOL);
    }
}

/// A model's functions in a module that carries the attribute: each sees the others' `wrt(..)`
/// lists, so `forward(theta, x)`, declared `wrt(theta)`, is called from the loss with `x` data,
/// and `head.out(h, 2.0)` with the temperature data.
#[differentiate]
mod regression {
    #![allow(clippy::needless_range_loop)]
    use autodiff::{Differentiable, differentiate};

    pub const SCALE: f64 = 0.5;

    #[derive(Clone, Differentiable)]
    pub struct Theta {
        pub w: Vec<f64>,
        pub b: f64,
    }

    #[derive(Clone, Differentiable)]
    pub struct Head {
        pub v: f64,
    }

    impl Head {
        /// v·h / temperature.
        #[differentiate(hessian, wrt(self, h))]
        pub fn out(&self, h: f64, temperature: f64) -> f64 {
            self.v * h / temperature
        }
    }

    /// tanh(SCALE·(⟨w, x⟩ + b)).
    #[differentiate(hessian, wrt(theta))]
    pub fn forward(theta: &Theta, x: &[f64]) -> f64 {
        let mut s = theta.b;
        for i in 0..x.len() {
            s += theta.w[i] * x[i];
        }
        (SCALE * s).tanh()
    }

    /// mean (out(forward(xᵢ), 2) − yᵢ)² + out(0.1, 3).
    #[differentiate(hessian, wrt(theta, head))]
    pub fn loss(theta: &Theta, head: &Head, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        let mut l = 0.0;
        for (x, y) in xs.iter().zip(ys) {
            let h = forward(theta, x);
            let r = head.out(h, 2.0) - y;
            l += r * r;
        }
        l / ys.len() as f64 + Head::out(head, 0.1, 3.0)
    }
}

#[test]
fn functions_of_a_module_see_each_others_wrt() {
    use regression::{Head, Theta, loss, loss_grad, loss_hvp};
    let xs = data();
    let ys = [0.3, -0.4, 0.8];
    let at = |a: &[f64]| {
        let theta = Theta {
            w: a[..2].to_vec(),
            b: a[2],
        };
        (theta, Head { v: a[3] })
    };
    let p = [0.7, -0.3, 0.2, 1.6];
    let (theta, head) = at(&p);
    let (v, (gt, gh)) = loss_grad(&theta, &head, &xs, &ys);
    close("loss", v, loss(&theta, &head, &xs, &ys), 1e-12);
    // By hand: r = v·t/2 − y with t = tanh(s/2); ∂v = mean 2r·t/2 + 0.1/3, ∂s = mean 2r·(v/2)(1 − t²)/2.
    let (mut dw, mut db, mut dv) = ([0.0; 2], 0.0, 0.1 / 3.0);
    for (x, y) in xs.iter().zip(&ys) {
        let t = (0.5 * (0.7 * x[0] - 0.3 * x[1] + 0.2f64)).tanh();
        let r = 1.6 * t / 2.0 - y;
        dv += 2.0 * r * t / 2.0 / 3.0;
        let ds = 2.0 * r * 0.8 * (1.0 - t * t) * 0.5 / 3.0;
        dw[0] += ds * x[0];
        dw[1] += ds * x[1];
        db += ds;
    }
    close_all(
        "∂theta",
        &[gt.w[0], gt.w[1], gt.b, gh.v],
        &[dw[0], dw[1], db, dv],
    );
    let f = |a: &[f64]| {
        let (t, h) = at(a);
        loss(&t, &h, &xs, &ys)
    };
    fd_vec("loss", f, &p, &[gt.w[0], gt.w[1], gt.b, gh.v]);
    // H·u against the difference of gradients.
    let u = [0.4, -1.1, 0.6, 0.3];
    let (du_t, du_h) = at(&u);
    let (_, _, (ht, hh)) = loss_hvp(&theta, &head, &xs, &ys, &du_t, &du_h);
    let shifted = |e: f64| {
        let q: Vec<f64> = p.iter().zip(&u).map(|(p, u)| p + e * u).collect();
        let (t, h) = at(&q);
        let (_, (gt, gh)) = loss_grad(&t, &h, &xs, &ys);
        [gt.w[0], gt.w[1], gt.b, gh.v]
    };
    let (hp, hm) = (shifted(1e-6), shifted(-1e-6));
    for (k, got) in [ht.w[0], ht.w[1], ht.b, hh.v].into_iter().enumerate() {
        close("H·u", got, (hp[k] - hm[k]) / 2e-6, 1e-6);
    }
}

/// A loss object without parameters, a unit struct.
struct MeanSquared;

impl MeanSquared {
    /// mean (pᵢ − tᵢ)².
    #[differentiate(wrt(p, t))]
    fn loss(&self, p: &[f64], t: &[f64]) -> f64 {
        p.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / p.len() as f64
    }
}

/// mean (w₀xᵢ + w₁ − yᵢ)², the loss called on the unit struct's value.
#[differentiate(wrt(w))]
fn fit_by_loss_object(w: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let preds: Vec<f64> = xs.iter().map(|x| w[0] * x + w[1]).collect();
    MeanSquared.loss(&preds, ys)
}

#[test]
fn methods_of_a_unit_struct_value() {
    let (xs, ys) = ([0.5, -1.0, 2.0], [0.2, 0.7, -0.4]);
    let w = [0.3, -0.2];
    let (v, g) = fit_by_loss_object_grad(&w, &xs, &ys);
    close("value", v, fit_by_loss_object(&w, &xs, &ys), 1e-12);
    let r: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 0.3 * x - 0.2 - y).collect();
    let dw0: f64 = r.iter().zip(&xs).map(|(r, x)| 2.0 * r * x / 3.0).sum();
    let dw1: f64 = r.iter().map(|r| 2.0 * r / 3.0).sum();
    close_all("∂w", &g, &[dw0, dw1]);
}

// ---------------------------------------------------------------------------------------------
// References: `*r` of `let r = &x`, `*x` of a parameter `x: &f64`.
// ---------------------------------------------------------------------------------------------

/// x·Σ yᵢ + x through `r = &x`: ∂x = Σ yᵢ + 1, ∂yᵢ = x.
#[differentiate]
fn through_a_reference(x: f64, ys: &[f64]) -> f64 {
    let r = &x;
    let mut s = 0.0;
    for y in ys.iter() {
        s += *y * *r;
    }
    s + *r
}

/// x·y + 2x with `x: &f64`: ∂x = y + 2, ∂y = x.
#[differentiate]
fn reference_parameter(x: &f64, y: f64) -> f64 {
    *x * y + x * 2.0
}

#[test]
fn dereferenced_references_are_the_values_they_borrow() {
    let ys = [1.0, 2.0, -0.5];
    let (_, (dx, dy)) = through_a_reference_grad(1.5, &ys);
    close("∂x", dx, 2.5 + 1.0, TOL);
    close_all("∂y", &dy, &[1.5; 3]);
    fd(
        "through_a_reference",
        |x| through_a_reference(x, &ys),
        1.5,
        dx,
    );

    let (_, (dx, dy)) = reference_parameter_grad(&1.5, 2.0);
    close2("reference_parameter", (dx, dy), (4.0, 1.5));
    fd2(
        "reference_parameter",
        |x, y| reference_parameter(&x, y),
        (1.5, 2.0),
        (dx, dy),
    );
    let (_, t) = reference_parameter_jvp(&1.5, 2.0, &1.0, 0.0);
    close("tangent", t, 4.0, TOL);
}

// ---------------------------------------------------------------------------------------------
// Losses over slices, written with loops and with iterator chains.
// ---------------------------------------------------------------------------------------------

/// Mean binary cross-entropy of σ(⟨w, xᵢ⟩ + b): ∂w = Σ (pᵢ − yᵢ)·xᵢ / n, ∂b = Σ (pᵢ − yᵢ) / n.
#[differentiate(wrt(w, b))]
fn logistic_loss(w: &[f64], b: f64, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (x, &y) in xs.iter().zip(ys.iter()) {
        let mut z = b;
        for j in 0..w.len() {
            z += w[j] * x[j];
        }
        let p = 1.0 / (1.0 + (-z).exp());
        loss -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
    }
    loss / xs.len() as f64
}

#[test]
fn logistic_regression_over_rows() {
    let (xs, ys, w, b) = (data(), [1.0, 0.0, 1.0], [0.3, -0.2], 0.1);
    let (_, (dw, db)) = logistic_loss_grad(&w, b, &xs, &ys);
    let (mut ew, mut eb) = (vec![0.0; 2], 0.0);
    for (x, y) in xs.iter().zip(ys) {
        let p = 1.0 / (1.0 + (-(b + w[0] * x[0] + w[1] * x[1])).exp());
        ew[0] += (p - y) * x[0] / 3.0;
        ew[1] += (p - y) * x[1] / 3.0;
        eb += (p - y) / 3.0;
    }
    close_all("∂w", &dw, &ew);
    close("∂b", db, eb, TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, f64)| logistic_loss(&p.0, p.1, &xs, &ys),
        &(w.to_vec(), b),
        &(dw, db),
    );
    assert!(r.passed(), "{r}");
}

/// −log softmax(l)ₜ with a max shift: ∂l = softmax(l) − eₜ.
#[differentiate]
fn softmax_cross_entropy(logits: &[f64], target: usize) -> f64 {
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = logits.iter().map(|&l| (l - m).exp()).sum();
    -(logits[target] - m - sum.ln())
}

/// log Σ eˣⁱ with the maximum found by a loop: ∂x = softmax(x).
#[differentiate]
fn log_sum_exp(x: &[f64]) -> f64 {
    let mut m = x[0];
    for &v in x.iter() {
        if v > m {
            m = v;
        }
    }
    let s: f64 = x.iter().map(|v| (v - m).exp()).sum();
    m + s.ln()
}

/// ln Σ eˣⁱ through a `Vec` built with `push`: ∂x = softmax(x).
#[differentiate]
fn log_of_pushed_sum(x: &[f64]) -> f64 {
    let mut out = Vec::new();
    for v in x {
        out.push(v.exp());
    }
    let total: f64 = out.iter().sum();
    total.ln()
}

fn softmax(x: &[f64]) -> Vec<f64> {
    let s: f64 = x.iter().map(|v| v.exp()).sum();
    x.iter().map(|v| v.exp() / s).collect()
}

#[test]
fn softmax_losses() {
    let l = [1.0, 2.5, -0.3, 0.7];
    let p = softmax(&l);
    let (_, d) = softmax_cross_entropy_grad(&l, 1);
    let mut e = p.clone();
    e[1] -= 1.0;
    close_all("cross entropy", &d, &e);
    fd_vec("cross entropy", |x| softmax_cross_entropy(x, 1), &l, &d);
    let (_, d) = log_sum_exp_grad(&l);
    close_all("log-sum-exp", &d, &p);
    fd_vec("log-sum-exp", log_sum_exp, &l, &d);
    let (_, d) = log_of_pushed_sum_grad(&l);
    close_all("pushed", &d, &p);
    fd_vec("pushed", log_of_pushed_sum, &l, &d);
}

/// Σ (pᵢ − tᵢ)² / n with `zip`, `map`, `powi`, `sum::<f64>()`: ∂p = 2(p − t)/n = −∂t.
#[differentiate]
fn mse(pred: &[f64], target: &[f64]) -> f64 {
    let n = pred.len() as f64;
    pred.iter()
        .zip(target.iter())
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / n
}

/// Horner's rule in a `fold` over the reversed coefficients: p(x) = Σ cᵢxⁱ;
/// ∂cᵢ = xⁱ, ∂x = Σ i·cᵢ·xⁱ⁻¹.
#[differentiate]
fn horner(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

#[test]
fn iterator_chains() {
    let (p, t) = ([1.0, 2.5, -0.3, 0.7], [0.5, 2.0, 0.0, 1.0]);
    let (_, (dp, dt)) = mse_grad(&p, &t);
    let e: Vec<f64> = p.iter().zip(&t).map(|(p, t)| (p - t) / 2.0).collect();
    close_all("∂p", &dp, &e);
    close_all("∂t", &dt, &e.iter().map(|v| -v).collect::<Vec<_>>());
    fd_vec("mse", |p| mse(p, &t), &p, &dp);

    let (c, x) = ([1.0, -2.0, 0.5, 3.0], 0.7);
    let (y, (dc, dx)) = horner_grad(&c, x);
    close(
        "p(x)",
        y,
        1.0 - 2.0 * x + 0.5 * x * x + 3.0 * x * x * x,
        TOL,
    );
    close_all("∂c", &dc, &[1.0, x, x * x, x * x * x]);
    close("∂x", dx, -2.0 + x + 9.0 * x * x, TOL);
    fd("horner", |x| horner(&c, x), x, dx);
}

/// Spring chain: E = Σᵢ k/2·(pᵢ − pᵢ₋₁ − r)²; with dᵢ = pᵢ − pᵢ₋₁ − r: ∂pᵢ = k(dᵢ − dᵢ₊₁)
/// (d₀ = dₙ = 0), ∂k = Σ dᵢ²/2, ∂r = −k Σ dᵢ.
#[differentiate]
fn spring_energy(pos: &[f64], k: f64, rest: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..pos.len() {
        let d = pos[i] - pos[i - 1] - rest;
        e += 0.5 * k * d * d;
    }
    e
}

#[test]
fn spring_chain() {
    let (pos, k, rest) = ([0.0, 1.2, 1.9, 3.3], 2.0, 1.0);
    let (_, (dp, dk, dr)) = spring_energy_grad(&pos, k, rest);
    let d: Vec<f64> = (1..4).map(|i| pos[i] - pos[i - 1] - rest).collect();
    let at = |i: usize| if (1..4).contains(&i) { d[i - 1] } else { 0.0 };
    let e: Vec<f64> = (0..4).map(|i| k * (at(i) - at(i + 1))).collect();
    close_all("∂pos", &dp, &e);
    close("∂k", dk, d.iter().map(|d| d * d / 2.0).sum(), TOL);
    close("∂rest", dr, -k * d.iter().sum::<f64>(), TOL);
    fd_vec("spring", |p| spring_energy(p, k, rest), &pos, &dp);
}

// ---------------------------------------------------------------------------------------------
// Integrators and iterations with float conditions.
// ---------------------------------------------------------------------------------------------

/// Explicit Euler on y' = −ky with a `Vec` state [y, ∫y]: yₙ = (1 − k·dt)ⁿ·y₀, and the second
/// entry sums dt·yⱼ for j = 1..n. With q = 1 − k·dt: f = y₀·(qⁿ + dt·Σⱼ qʲ);
/// ∂y₀ = qⁿ + dt·Σ qʲ, ∂k = −dt·y₀·(n·qⁿ⁻¹ + dt·Σ j·qʲ⁻¹).
#[differentiate]
fn euler_decay(k: f64, y0: f64, steps: usize) -> f64 {
    let dt = 0.01;
    let mut state = vec![y0, 0.0];
    for _ in 0..steps {
        let dy = -k * state[0];
        state[0] += dt * dy;
        state[1] += dt * state[0];
    }
    state[0] + state[1]
}

#[test]
fn euler_with_a_vec_state() {
    let (k, y0, n, dt) = (0.7, 1.3, 50, 0.01);
    let q: f64 = 1.0 - k * dt;
    let (_, (dk, dy0)) = euler_decay_grad(k, y0, n);
    let sum: f64 = (1..=n).map(|j| q.powi(j as i32)).sum();
    let dsum: f64 = (1..=n).map(|j| j as f64 * q.powi(j as i32 - 1)).sum();
    close("∂y₀", dy0, q.powi(n as i32) + dt * sum, 1e-10);
    close(
        "∂k",
        dk,
        -dt * y0 * (n as f64 * q.powi(n as i32 - 1) + dt * dsum),
        1e-10,
    );
    fd2("euler", |k, y| euler_decay(k, y, n), (k, y0), (dk, dy0));
}

/// Newton's iteration for √a, until the residual is below 1e-12: ∂a = 1/(2√a).
#[differentiate]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    let mut iters = 0;
    while (x * x - a).abs() > 1e-12 && iters < 50 {
        x = x - (x * x - a) / (2.0 * x);
        iters += 1;
    }
    x
}

/// Halving while above 1: x/2ⁿ·(n + 1) with n the number of halvings; ∂x = (n + 1)/2ⁿ.
#[differentiate]
fn halve_until(x: f64) -> f64 {
    let mut y = x;
    let mut n = 0;
    while y > 1.0 {
        y = y / 2.0;
        n += 1;
    }
    y * (n as f64 + 1.0)
}

#[test]
fn while_loops_with_float_conditions() {
    for a in [2.0f64, 9.0, 0.3] {
        let (y, d) = newton_sqrt_grad(a);
        close("√a", y, a.sqrt(), 1e-12);
        close("∂a", d, 0.5 / a.sqrt(), 1e-10);
    }
    let (_, d) = halve_until_grad(7.3); // three halvings
    close("∂x", d, 4.0 / 8.0, TOL);
    fd("halve_until", halve_until, 7.3, d);
}

// ---------------------------------------------------------------------------------------------
// Scalar methods, tuples through `_vjp` and `_jvp`, `f32` and generic variants.
// ---------------------------------------------------------------------------------------------

/// min(x, y) + max(x, 2y) + |x − y| + clamp(x, −1, 1) + x³ + |y|^1.5 + hypot(x, y) + atan2(y, x).
/// At (0.3, 0.7): min = x, max = 2y, |x − y| = y − x, clamp = x: with r² = x² + y²,
/// ∂x = 1 − 1 + 1 + 3x² + x/r − y/r², ∂y = 2 + 1 + 1.5·y^0.5 + y/r + x/r².
#[differentiate]
fn scalar_methods(x: f64, y: f64) -> f64 {
    let a = x.min(y) + x.max(2.0 * y);
    let b = (x - y).abs() + x.clamp(-1.0, 1.0);
    let c = x.powi(3) + y.abs().powf(1.5) + x.hypot(y) + y.atan2(x);
    a + b + c
}

#[test]
fn min_max_abs_clamp_powers_hypot_atan2() {
    let (x, y) = (0.3f64, 0.7f64);
    let r2 = x * x + y * y;
    let e = (
        1.0 + 3.0 * x * x + x / r2.sqrt() - y / r2,
        3.0 + 1.5 * y.sqrt() + y / r2.sqrt() + x / r2,
    );
    let (_, d) = scalar_methods_grad(x, y);
    close2("scalar_methods", d, e);
    for p in [(0.3, 0.7), (1.7, -0.4), (-2.0, 0.3)] {
        let (_, d) = scalar_methods_grad(p.0, p.1);
        fd2("scalar_methods", scalar_methods, p, d);
    }
}

/// (r cos θ, r sin θ): ∂/∂r = (cos θ, sin θ), ∂/∂θ = (−r sin θ, r cos θ).
#[differentiate]
fn polar(r: f64, theta: f64) -> (f64, f64) {
    (r * theta.cos(), r * theta.sin())
}

#[test]
fn tuples_through_vjp_and_jvp() {
    let (r, t) = (2.0f64, 0.5f64);
    let (_, pullback) = polar_vjp(r, t);
    close2(
        "pullback of (1, 2)",
        pullback((1.0, 2.0)),
        (t.cos() + 2.0 * t.sin(), -r * t.sin() + 2.0 * r * t.cos()),
    );
    let (_, (dx, dy)) = polar_jvp(r, t, 0.0, 1.0);
    close2("tangent along θ", (dx, dy), (-r * t.sin(), r * t.cos()));
    forward("polar").two((r, t), polar, polar_jvp, polar_vjp);
}

/// Σ (w·xᵢ − 1)² / n in `f32`: ∂w = 2 Σ (w·xᵢ − 1)·xᵢ / n.
#[differentiate(wrt(w))]
fn f32_loss(w: f32, x: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for xi in x {
        s += (w * xi - 1.0).powi(2);
    }
    s / x.len() as f32
}

/// Rosenbrock, generic: (1 − x)² + 100(y − x²)²; ∂x = −2(1 − x) − 400x(y − x²),
/// ∂y = 200(y − x²).
#[differentiate]
fn rosenbrock<T: num_traits::Float>(x: T, y: T) -> T {
    let hundred = T::from(100.0).unwrap();
    (T::one() - x).powi(2) + hundred * (y - x * x).powi(2)
}

#[test]
fn f32_and_generic_variants() {
    let x = [0.5f32, 1.5, -0.25];
    let (_, d) = f32_loss_grad(0.8, &x);
    let e: f32 = x.iter().map(|xi| 2.0 * (0.8 * xi - 1.0) * xi).sum::<f32>() / 3.0;
    assert!((d - e).abs() <= 1e-6 * e.abs().max(1.0), "{d} vs {e}");
    fd32("f32_loss", |w| f32_loss(w, &x), 0.8, d);

    let (x, y) = (0.3, 0.7);
    let e = (
        -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
        200.0 * (y - x * x),
    );
    let (_, d) = rosenbrock_grad(x, y);
    close2("rosenbrock f64", d, e);
    let (_, d32) = rosenbrock_grad(0.3f32, 0.7f32);
    close("rosenbrock f32 ∂x", d32.0 as f64, e.0, 1e-5);
    close("rosenbrock f32 ∂y", d32.1 as f64, e.1, 1e-5);
    fd2("rosenbrock", rosenbrock, (x, y), d);
}

// ---------------------------------------------------------------------------------------------
// ndarray: logistic regression, a small MLP, parameter structs by value.
// ---------------------------------------------------------------------------------------------

/// Mean binary cross-entropy of σ(Xw + b): ∂w = Xᵀ(p − y)/n, ∂b = Σ(p − y)/n.
#[differentiate(wrt(w, b))]
fn logistic_nd(w: &Array1<f64>, b: f64, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let z = x.dot(w) + b;
    let p = z.mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let l = y * &p.mapv(f64::ln) + (1.0 - y) * &p.mapv(|q| (1.0 - q).ln());
    -l.mean().unwrap()
}

/// ‖tanh(XW₁)w₂ − y‖²/n: with H = tanh(XW₁), e = 2(Hw₂ − y)/n:
/// ∂w₂ = Hᵀe, ∂W₁ = Xᵀ((e w₂ᵀ) ⊙ (1 − H²)).
#[differentiate(wrt(w1, w2))]
fn mlp(w1: &Array2<f64>, w2: &Array1<f64>, x: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let h = x.dot(w1).mapv(|v| v.tanh());
    let out = h.dot(w2);
    let err = &out - y;
    (&err * &err).sum() / y.len() as f64
}

#[test]
fn ndarray_models() {
    let x = array![[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8]];
    let y = array![1.0, 0.0, 1.0];
    let w = array![0.3, -0.2];
    let (_, (dw, db)) = logistic_nd_grad(&w, 0.1, &x, &y);
    let p = (x.dot(&w) + 0.1).mapv(|v| 1.0 / (1.0 + (-v).exp()));
    let r = &p - &y;
    close_all(
        "∂w",
        dw.as_slice().unwrap(),
        (x.t().dot(&r) / 3.0).as_slice().unwrap(),
    );
    close("∂b", db, r.sum() / 3.0, TOL);
    let rep = gradcheck(
        |q: &(Array1<f64>, f64)| logistic_nd(&q.0, q.1, &x, &y),
        &(w.clone(), 0.1),
        &(dw, db),
    );
    assert!(rep.passed(), "{rep}");

    let w1 = array![[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]];
    let w2 = array![0.7, -0.3, 0.2];
    let (_, (d1, d2)) = mlp_grad(&w1, &w2, &x, &y);
    let h = x.dot(&w1).mapv(f64::tanh);
    let e = (h.dot(&w2) - &y) * (2.0 / 3.0);
    let outer = e.clone().insert_axis(ndarray::Axis(1)) * &w2.view().insert_axis(ndarray::Axis(0));
    let e1 = x.t().dot(&(outer * h.mapv(|v| 1.0 - v * v)));
    close_all(
        "∂w₂",
        d2.as_slice().unwrap(),
        h.t().dot(&e).as_slice().unwrap(),
    );
    close_all("∂W₁", d1.as_slice().unwrap(), e1.as_slice().unwrap());
    let rep = gradcheck(
        |q: &(Array2<f64>, Array1<f64>)| mlp(&q.0, &q.1, &x, &y),
        &(w1.clone(), w2.clone()),
        &(d1, d2),
    );
    assert!(rep.passed(), "{rep}");
}

#[derive(Clone, Differentiable)]
struct Gauss {
    mu: f64,
    log_sigma: f64,
}

/// Gaussian negative log-likelihood up to a constant, the struct taken by value:
/// Σ zᵢ²/2 + log σ with zᵢ = (xᵢ − μ)/σ; ∂μ = −Σ zᵢ/σ, ∂log σ = Σ (1 − zᵢ²).
#[differentiate(wrt(g))]
fn gauss_nll(g: Gauss, data: &[f64]) -> f64 {
    let sigma = g.log_sigma.exp();
    let mut s = 0.0;
    for x in data {
        let z = (x - g.mu) / sigma;
        s += 0.5 * z * z + g.log_sigma;
    }
    s
}

#[test]
fn a_parameter_struct_by_value() {
    let data = [0.3, -0.6, 1.1, 0.2, 0.9, -1.4];
    let (mu, ls) = (0.3, -0.2f64);
    let (_, d) = gauss_nll_grad(Gauss { mu, log_sigma: ls }, &data);
    let z: Vec<f64> = data.iter().map(|x| (x - mu) / ls.exp()).collect();
    close("∂μ", d.mu, -z.iter().sum::<f64>() / ls.exp(), TOL);
    close(
        "∂log σ",
        d.log_sigma,
        z.iter().map(|z| 1.0 - z * z).sum(),
        TOL,
    );
    fd2(
        "gauss_nll",
        |mu, log_sigma| gauss_nll(Gauss { mu, log_sigma }, &data),
        (mu, ls),
        (d.mu, d.log_sigma),
    );
}

// ---------------------------------------------------------------------------------------------
// Destructuring assignment of a tuple: `(a, b) = (b, a + b·x)`.
// ---------------------------------------------------------------------------------------------

/// (a, b) ← (b, a + b·x) three times from (x, 1): (x, 1) → (1, 2x) → (2x, 1 + 2x²) →
/// (1 + 2x², 3x + 2x³); f = a + b = 1 + 3x + 2x² + 2x³, ∂x = 3 + 4x + 6x².
#[differentiate]
fn recurrence(x: f64, n: usize) -> f64 {
    let (mut a, mut b) = (x, 1.0);
    for _ in 0..n {
        (a, b) = (b, a + b * x);
    }
    a + b
}

/// Symplectic-looking update of an oscillator, written with tuple assignments (one skipping its
/// first element with `_`): each step maps (x, v) linearly by
/// M = [[1, dt], [−0.99·dt, 0.99]], so (x₃, v₃) = M³(x₀, v₀) and f = x₃·v₃ has
/// ∇f = (M³)ᵀ(v₃, x₃).
#[differentiate]
fn oscillator(x0: f64, v0: f64) -> f64 {
    let (mut x, mut v) = (x0, v0);
    let dt = 0.1;
    for _ in 0..3 {
        (x, v) = (x + dt * v, v - dt * x);
        (_, v) = (0.0, v * 0.99);
    }
    x * v
}

#[test]
fn tuple_assignments() {
    let x = 0.7;
    let (y, d) = recurrence_grad(x, 3);
    close(
        "value",
        y,
        1.0 + 3.0 * x + 2.0 * x * x + 2.0 * x * x * x,
        TOL,
    );
    close("∂x", d, 3.0 + 4.0 * x + 6.0 * x * x, TOL);
    fd("recurrence", |x| recurrence(x, 3), x, d);

    let m = array![[1.0, 0.1], [-0.099, 0.99]];
    let m3 = m.dot(&m).dot(&m);
    let s = m3.dot(&array![0.3, 0.5]);
    let e = m3.t().dot(&array![s[1], s[0]]);
    let (_, d) = oscillator_grad(0.3, 0.5);
    close2("oscillator", d, (e[0], e[1]));
    fd2("oscillator", oscillator, (0.3, 0.5), d);
}

// ---------------------------------------------------------------------------------------------
// Range slices of differentiated data: `&x[1..]`, `x[..2]`, `x[i..j]`, `x[a..=b]`, passed on,
// measured, bound to a variable, and of a window.
// ---------------------------------------------------------------------------------------------

/// Σ_{i≥1} xᵢ² + x₀·(x₀ + x₁): ∂x₀ = 2x₀ + x₁, ∂x₁ = 2x₁ + x₀, ∂xᵢ = 2xᵢ for i ≥ 2.
#[differentiate(hessian)]
fn tail_and_head(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for &v in &x[1..] {
        s += v * v;
    }
    s + x[..2].iter().sum::<f64>() * x[0]
}

/// ⟨x[i..j], y[i..j]⟩: ∂xₖ = yₖ and ∂yₖ = xₖ for i ≤ k < j, zero elsewhere.
#[differentiate]
fn window_dot(x: &[f64], y: &[f64], i: usize, j: usize) -> f64 {
    x[i..j].iter().zip(&y[i..j]).map(|(a, b)| a * b).sum()
}

/// Σ sin vₖ.
#[differentiate]
fn sum_sin(v: &[f64]) -> f64 {
    v.iter().map(|a| a.sin()).sum()
}

/// sum_sin(x[1..3]) + (n − 1)·x₀ + t₀·t₁ with t = x[2..=3]:
/// ∂x₀ = n − 1, ∂x₁ = cos x₁, ∂x₂ = cos x₂ + x₃, ∂x₃ = x₂.
#[differentiate]
fn sub_slices_passed_on(x: &[f64]) -> f64 {
    let t = &x[2..=3];
    sum_sin(&x[1..3]) + x[1..].len() as f64 * x[0] + t[0] * t[t.len() - 1]
}

/// Σ over windows w of Σ_{k≥1} w₀·wₖ, windows of 3 of an array:
/// f = Σᵢ xᵢ(xᵢ₊₁ + xᵢ₊₂) for i = 0, 1, so ∂x = (x₁ + x₂, x₀ + x₂ + x₃, x₀ + x₁, x₁).
#[differentiate]
fn window_tails(x: [f64; 4]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(3) {
        s += w[1..].iter().map(|v| v * w[0]).sum::<f64>();
    }
    s
}

#[test]
fn range_slices_scatter_into_their_range() {
    let x = [0.3, -1.2, 2.0, 0.7];
    let y = [1.5, 0.2, -0.4, 0.9];

    let (_, d) = tail_and_head_grad(&x);
    let expected = [2.0 * x[0] + x[1], 2.0 * x[1] + x[0], 2.0 * x[2], 2.0 * x[3]];
    close_all("tail_and_head", &d, &expected);
    fd_vec("tail_and_head", tail_and_head, &x, &d);
    // H = 2I + (e₀e₁ᵀ + e₁e₀ᵀ).
    let v = [1.0, 0.5, -0.5, 2.0];
    let (_, _, hv) = tail_and_head_hvp(&x, &v.to_vec());
    let h_v = [2.0 * v[0] + v[1], 2.0 * v[1] + v[0], 2.0 * v[2], 2.0 * v[3]];
    close_all("tail_and_head, H·v", &hv, &h_v);

    let (_, (dx, dy)) = window_dot_grad(&x, &y, 1, 3);
    close_all("window_dot, ∂x", &dx, &[0.0, y[1], y[2], 0.0]);
    close_all("window_dot, ∂y", &dy, &[0.0, x[1], x[2], 0.0]);
    fd_vec("window_dot", |x| window_dot(x, &y, 1, 3), &x, &dx);

    let (_, d) = sub_slices_passed_on_grad(&x);
    let expected = [3.0, x[1].cos(), x[2].cos() + x[3], x[2]];
    close_all("sub_slices_passed_on", &d, &expected);
    fd_vec("sub_slices_passed_on", sub_slices_passed_on, &x, &d);

    let (_, d) = window_tails_grad(x);
    let expected = [x[1] + x[2], x[0] + x[2] + x[3], x[0] + x[1], x[1]];
    close_all("window_tails", &d, &expected);
    fd_vec(
        "window_tails",
        |p| window_tails([p[0], p[1], p[2], p[3]]),
        &x,
        &d,
    );
}

// ---------------------------------------------------------------------------------------------
// Methods of a parameter struct called on a parameter: `model.forward(x)`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Unit {
    w: f64,
    b: f64,
}

impl Unit {
    /// tanh(w·x + b): ∂w = (1 − t²)·x, ∂b = 1 − t², ∂x = (1 − t²)·w.
    #[differentiate(hessian)]
    fn forward(&self, x: f64) -> f64 {
        (self.w * x + self.b).tanh()
    }
}

#[derive(Clone, Differentiable)]
struct TwoUnits {
    first: Unit,
    second: Unit,
}

impl TwoUnits {
    /// second(first(x)); a field's method is called through its type.
    #[differentiate(hessian)]
    fn forward(&self, x: f64) -> f64 {
        Unit::forward(&self.second, Unit::forward(&self.first, x))
    }
}

/// Σ (u(xᵢ) − yᵢ)² with u(x) = tanh(w·x + b), tᵢ = u(xᵢ), rᵢ = tᵢ − yᵢ:
/// ∂w = Σ 2rᵢ(1 − tᵢ²)xᵢ, ∂b = Σ 2rᵢ(1 − tᵢ²), ∂xᵢ = 2rᵢ(1 − tᵢ²)w, ∂yᵢ = −2rᵢ.
#[differentiate]
fn unit_loss(model: &Unit, xs: &[f64], ys: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..xs.len() {
        let r = model.forward(xs[i]) - ys[i];
        s += r * r;
    }
    s
}

/// x·net(x) of an owned parameter.
#[differentiate(hessian)]
fn scaled_net(net: TwoUnits, x: f64) -> f64 {
    net.forward(x) * x
}

#[test]
fn methods_of_a_parameter_reach_the_receiver_and_the_arguments() {
    let u = Unit { w: 0.4, b: -0.1 };
    let (xs, ys) = ([0.5, 1.0, -2.0], [0.2, 0.3, -0.5]);
    let (_, (du, dx, dy)) = unit_loss_grad(&u, &xs, &ys);
    let (mut dw, mut db) = (0.0, 0.0);
    for k in 0..3 {
        let t = (u.w * xs[k] + u.b).tanh();
        let r = t - ys[k];
        dw += 2.0 * r * (1.0 - t * t) * xs[k];
        db += 2.0 * r * (1.0 - t * t);
        close(&format!("∂x{k}"), dx[k], 2.0 * r * (1.0 - t * t) * u.w, TOL);
        close(&format!("∂y{k}"), dy[k], -2.0 * r, TOL);
    }
    close_all("unit_loss, ∂model", &[du.w, du.b], &[dw, db]);
    fd_vec(
        "unit_loss",
        |p| unit_loss(&Unit { w: p[0], b: p[1] }, &xs, &ys),
        &[u.w, u.b],
        &[du.w, du.b],
    );

    let net = TwoUnits {
        first: u.clone(),
        second: Unit { w: -0.7, b: 0.3 },
    };
    let at = |p: &[f64]| TwoUnits {
        first: Unit { w: p[0], b: p[1] },
        second: Unit { w: p[2], b: p[3] },
    };
    let flat = |n: &TwoUnits| vec![n.first.w, n.first.b, n.second.w, n.second.b];
    let x = 0.8;
    let (_, (dn, dx)) = scaled_net_grad(net.clone(), x);
    // h = tanh(w₁x + b₁), o = tanh(w₂h + b₂), f = x·o:
    // ∂w₂ = x(1 − o²)h, ∂b₂ = x(1 − o²), ∂w₁ = x(1 − o²)w₂(1 − h²)x, ∂b₁ = x(1 − o²)w₂(1 − h²),
    // ∂x = o + x(1 − o²)w₂(1 − h²)w₁.
    let h = (u.w * x + u.b).tanh();
    let o = (-0.7 * h + 0.3).tanh();
    let back = x * (1.0 - o * o);
    let inner = back * -0.7 * (1.0 - h * h);
    close_all(
        "scaled_net, ∂net",
        &flat(&dn),
        &[inner * x, inner, back * h, back],
    );
    close("scaled_net, ∂x", dx, o + inner * u.w, TOL);
    let mut all = flat(&net);
    all.push(x);
    let mut grad = flat(&dn);
    grad.push(dx);
    fd_vec("scaled_net", |p| scaled_net(at(&p[..4]), p[4]), &all, &grad);
    // Forward mode agrees with the gradient along a direction.
    let dir = [0.3, -1.0, 0.5, 2.0, 0.7];
    let (_, t) = scaled_net_jvp(net.clone(), x, at(&dir[..4]), dir[4]);
    let along: f64 = grad.iter().zip(dir).map(|(g, d)| g * d).sum();
    close("scaled_net, jvp", t, along, TOL);
    // And so does the Hessian along it with differences of gradients.
    let (_, _, (hn, hx)) = scaled_net_hvp(net.clone(), x, at(&dir[..4]), dir[4]);
    let eps = 1e-6;
    let shifted = |s: f64| {
        let p: Vec<f64> = all.iter().zip(dir).map(|(a, d)| a + s * d).collect();
        let (_, (dn, dx)) = scaled_net_grad(at(&p[..4]), p[4]);
        let mut g = flat(&dn);
        g.push(dx);
        g
    };
    let (gp, gm) = (shifted(eps), shifted(-eps));
    let mut hv = flat(&hn);
    hv.push(hx);
    for k in 0..5 {
        close(
            &format!("H·v[{k}]"),
            hv[k],
            (gp[k] - gm[k]) / (2.0 * eps),
            1e-6,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Arrays built from a `Vec`, and views in arithmetic without `.to_owned()`.
// ---------------------------------------------------------------------------------------------

/// ‖a‖²·v₀ with a = Array1::from(v): ∂v₀ = ‖v‖² + 2v₀², ∂vᵢ = 2vᵢv₀ for i ≥ 1.
#[differentiate(hessian)]
fn from_vec_norm(v: &[f64]) -> f64 {
    let a = Array1::from(v.to_vec());
    (&a * &a).sum() * v[0]
}

/// Σ sin vᵢ through `Array1::from_vec(..)` of a collected chain, plus a·a of
/// `ndarray::Array::from(w)`: ∂vᵢ = cos vᵢ, ∂w = 2w.
#[differentiate]
fn from_vec_chain(v: &[f64], w: Vec<f64>) -> f64 {
    let a = Array1::from_vec(v.iter().map(|x| x.sin()).collect());
    let b = ndarray::Array::from(w);
    a.sum() + b.dot(&b)
}

/// Σ over rows of the rows summed, squared: with s = Σᵢ aᵢ,., f = ‖s‖², ∂aᵢⱼ = 2sⱼ.
#[differentiate]
fn rows_accumulated(a: &Array2<f64>) -> f64 {
    let mut acc = Array1::zeros(a.ncols());
    for i in 0..a.nrows() {
        acc += &a.slice(ndarray::s![i, ..]);
    }
    (&acc * &acc).sum()
}

/// Σⱼ 2a₀ⱼa₁ⱼ + Σ (aᵀ)² : ∂a₀ⱼ = 2a₁ⱼ + 2a₀ⱼ, ∂a₁ⱼ = 2a₀ⱼ + 2a₁ⱼ.
#[differentiate]
fn views_multiplied(a: &Array2<f64>) -> f64 {
    (&a.slice(ndarray::s![0, ..]) * &a.slice(ndarray::s![1, ..]) * 2.0).sum()
        + (&a.t() * &a.t()).sum()
}

#[test]
fn arrays_from_vecs_and_views_in_arithmetic() {
    let v = [0.3, -1.0, 2.0];
    let n2: f64 = v.iter().map(|x| x * x).sum();
    let (_, d) = from_vec_norm_grad(&v);
    let expected = [n2 + 2.0 * v[0] * v[0], 2.0 * v[1] * v[0], 2.0 * v[2] * v[0]];
    close_all("from_vec_norm", &d, &expected);
    fd_vec("from_vec_norm", from_vec_norm, &v, &d);
    // H = 2v₀I + 2(v e₀ᵀ + e₀ vᵀ): H·u = 2v₀u + 2v(u₀) + 2e₀⟨v, u⟩.
    let u = [1.0, -0.5, 0.25];
    let (_, _, hu) = from_vec_norm_hvp(&v, &u.to_vec());
    let vu: f64 = v.iter().zip(&u).map(|(a, b)| a * b).sum();
    let mut h_u: Vec<f64> = (0..3)
        .map(|i| 2.0 * v[0] * u[i] + 2.0 * v[i] * u[0])
        .collect();
    h_u[0] += 2.0 * vu;
    close_all("from_vec_norm, H·u", &hu, &h_u);

    let w = vec![0.5, -0.25];
    let (_, (dv, dw)) = from_vec_chain_grad(&v, w.clone());
    close_all("from_vec_chain, ∂v", &dv, &v.map(f64::cos));
    close_all("from_vec_chain, ∂w", &dw, &[2.0 * w[0], 2.0 * w[1]]);
    fd_vec("from_vec_chain", |v| from_vec_chain(v, w.clone()), &v, &dv);

    let a = Array2::from_shape_vec((2, 3), vec![0.3, -1.0, 2.0, 0.5, 0.7, -0.2]).unwrap();
    let flat = |p: &[f64]| Array2::from_shape_vec((2, 3), p.to_vec()).unwrap();
    let (_, d) = rows_accumulated_grad(&a);
    let s = a.sum_axis(ndarray::Axis(0));
    let expected: Vec<f64> = (0..6).map(|k| 2.0 * s[k % 3]).collect();
    close_all("rows_accumulated", d.as_slice().unwrap(), &expected);
    fd_vec(
        "rows_accumulated",
        |p| rows_accumulated(&flat(p)),
        a.as_slice().unwrap(),
        d.as_slice().unwrap(),
    );

    let (_, d) = views_multiplied_grad(&a);
    let expected: Vec<f64> = (0..6)
        .map(|k| 2.0 * a[[1 - k / 3, k % 3]] + 2.0 * a[[k / 3, k % 3]])
        .collect();
    close_all("views_multiplied", d.as_slice().unwrap(), &expected);
    fd_vec(
        "views_multiplied",
        |p| views_multiplied(&flat(p)),
        a.as_slice().unwrap(),
        d.as_slice().unwrap(),
    );
}

// ---------------------------------------------------------------------------------------------
// Methods of a generic `impl`: the bound on the impl's float parameter repeated on the method.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Quadratic<T> {
    a: T,
    b: T,
}

impl<T: num_traits::Float> Quadratic<T> {
    /// a·x² + b·x: ∂a = x², ∂b = x, ∂x = 2a·x + b.
    #[differentiate]
    fn energy(&self, x: T) -> T
    where
        T: num_traits::Float,
    {
        self.a * x * x + self.b * x
    }

    /// Σ energy(xᵢ) over a slice: ∂a = Σ xᵢ², ∂b = Σ xᵢ, ∂xᵢ = 2a·xᵢ + b.
    #[differentiate]
    fn total(&self, xs: &[T]) -> T
    where
        T: num_traits::Float,
    {
        let mut s = T::zero();
        for &x in xs {
            s = s + self.energy(x);
        }
        s
    }
}

#[test]
fn methods_of_a_generic_impl_with_the_bound_repeated() {
    let q = Quadratic { a: 0.5, b: -1.0 };
    let x = 2.0;
    let (e, (dq, dx)) = q.energy_grad(x);
    close("energy", e, 0.5 * 4.0 - 2.0, TOL);
    close_all("energy, ∂q", &[dq.a, dq.b], &[x * x, x]);
    close("energy, ∂x", dx, 2.0 * q.a * x + q.b, TOL);
    fd_vec(
        "energy",
        |p| Quadratic { a: p[0], b: p[1] }.energy(p[2]),
        &[q.a, q.b, x],
        &[dq.a, dq.b, dx],
    );

    let xs = [1.0, -0.5, 3.0];
    let (_, (dq, dxs)) = q.total_grad(&xs);
    close_all(
        "total, ∂q",
        &[dq.a, dq.b],
        &[xs.iter().map(|x| x * x).sum(), xs.iter().sum()],
    );
    let expected: Vec<f64> = xs.iter().map(|x| 2.0 * q.a * x + q.b).collect();
    close_all("total, ∂xs", &dxs, &expected);
    fd_vec("total", |p| q.total(p), &xs, &dxs);

    // The same methods in f32.
    let q32 = Quadratic { a: 0.5f32, b: -1.0 };
    let (_, (dq32, dx32)) = q32.energy_grad(2.0f32);
    assert_eq!((dq32.a, dq32.b, dx32), (4.0, 2.0, 1.0));
}

// ---------------------------------------------------------------------------------------------
// The user's methods called on fields: `self.layer.forward(x)`, `model.enc.l.forward(x)`,
// `let l = &self.out; l.forward(x)`, in generic impls too.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

impl Dense {
    /// tanh(W·x + b): ∂W = (ḡ ⊙ (1 − y²))·xᵀ, ∂b = ḡ ⊙ (1 − y²), ∂x = Wᵀ(ḡ ⊙ (1 − y²)).
    #[differentiate]
    fn forward(&self, x: &Array1<f64>) -> Array1<f64> {
        (self.w.dot(x) + &self.b).mapv(f64::tanh)
    }
}

#[derive(Clone, Differentiable)]
struct Encoder {
    l: Dense,
}

/// Public, with fields of private types: the derived field impls name them without making them
/// part of a public interface.
#[derive(Clone, Differentiable)]
pub struct Stacked {
    enc: Encoder,
    out: Dense,
    head: Array1<f64>,
}

impl Stacked {
    /// ⟨head, out(enc.l(x))⟩: the chain rule through two layers, see `two_dense_by_hand`.
    #[differentiate]
    fn score(&self, x: &Array1<f64>) -> f64 {
        let h = self.enc.l.forward(x);
        let out = &self.out;
        let y = out.forward(&h);
        self.head.dot(&y)
    }
}

/// The same score through a parameter's fields, plus the method: twice `score`.
#[differentiate]
fn score_twice(model: &Stacked, x: &Array1<f64>) -> f64 {
    let h = model.enc.l.forward(x);
    let y = model.out.forward(&h);
    model.head.dot(&y) + model.score(x)
}

/// The gradient of ⟨head, tanh(W₂·tanh(W₁x + b₁) + b₂)⟩ by hand: with h = tanh(W₁x + b₁),
/// y = tanh(W₂h + b₂), δ₂ = head ⊙ (1 − y²), δ₁ = W₂ᵀδ₂ ⊙ (1 − h²):
/// ∂W₂ = δ₂hᵀ, ∂b₂ = δ₂, ∂head = y, ∂W₁ = δ₁xᵀ, ∂b₁ = δ₁, ∂x = W₁ᵀδ₁.
fn two_dense_by_hand(m: &Stacked, x: &Array1<f64>) -> (Stacked, Array1<f64>) {
    let (l1, l2) = (&m.enc.l, &m.out);
    let h = (l1.w.dot(x) + &l1.b).mapv(f64::tanh);
    let y = (l2.w.dot(&h) + &l2.b).mapv(f64::tanh);
    let d2 = &m.head * &y.mapv(|v| 1.0 - v * v);
    let d1 = l2.w.t().dot(&d2) * h.mapv(|v| 1.0 - v * v);
    let outer = |a: &Array1<f64>, b: &Array1<f64>| {
        Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j])
    };
    let grad = Stacked {
        enc: Encoder {
            l: Dense {
                w: outer(&d1, x),
                b: d1.clone(),
            },
        },
        out: Dense {
            w: outer(&d2, &h),
            b: d2,
        },
        head: y,
    };
    (grad, l1.w.t().dot(&d1))
}

fn stacked() -> (Stacked, Array1<f64>) {
    let l1 = Dense {
        w: array![[0.1, -0.3], [0.5, 0.2]],
        b: array![0.1, -0.1],
    };
    let l2 = Dense {
        w: array![[0.3, 0.7], [-0.5, 0.4]],
        b: array![0.0, 0.2],
    };
    let m = Stacked {
        enc: Encoder { l: l1 },
        out: l2,
        head: array![1.0, -2.0],
    };
    (m, array![0.4, -0.9])
}

#[test]
fn methods_called_on_fields_of_self_and_of_a_parameter() {
    let (m, x) = stacked();
    let (want_m, want_x) = two_dense_by_hand(&m, &x);
    let leaves = |s: &Stacked| autodiff::to_flat(s);

    let (_, (dm, dx)) = m.score_grad(&x);
    close_all("score, ∂model", &leaves(&dm), &leaves(&want_m));
    close_all(
        "score, ∂x",
        dx.as_slice().unwrap(),
        want_x.as_slice().unwrap(),
    );
    let r = gradcheck(
        |p: &(Stacked, Array1<f64>)| p.0.score(&p.1),
        &(m.clone(), x.clone()),
        &(dm, dx),
    );
    assert!(r.passed(), "score: {r}");

    let (_, (dm, dx)) = score_twice_grad(&m, &x);
    let twice: Vec<f64> = leaves(&want_m).iter().map(|v| 2.0 * v).collect();
    close_all("score_twice, ∂model", &leaves(&dm), &twice);
    let r = gradcheck(
        |p: &(Stacked, Array1<f64>)| score_twice(&p.0, &p.1),
        &(m.clone(), x.clone()),
        &(dm, dx),
    );
    assert!(r.passed(), "score_twice: {r}");
}

#[derive(Clone, Differentiable)]
struct Affine<T> {
    a: T,
    c: T,
}

impl<T: num_traits::Float> Affine<T> {
    /// tanh(a·x + c): with t = tanh(a·x + c), ∂a = (1 − t²)·x, ∂c = 1 − t², ∂x = (1 − t²)·a.
    #[differentiate]
    fn apply(&self, x: T) -> T
    where
        T: num_traits::Float,
    {
        (self.a * x + self.c).tanh()
    }
}

#[derive(Clone, Differentiable)]
struct Chain2<T> {
    p: Affine<T>,
    q: Affine<T>,
}

impl<T: num_traits::Float> Chain2<T> {
    /// q(p(x)) with u = p(x) = tanh(aₚx + cₚ), y = tanh(a_q·u + c_q):
    /// ∂a_q = (1 − y²)·u, ∂c_q = 1 − y², ∂aₚ = (1 − y²)·a_q·(1 − u²)·x,
    /// ∂cₚ = (1 − y²)·a_q·(1 − u²), ∂x = (1 − y²)·a_q·(1 − u²)·aₚ.
    #[differentiate]
    fn run(&self, x: T) -> T
    where
        T: num_traits::Float,
    {
        self.q.apply(self.p.apply(x))
    }
}

#[test]
fn methods_called_on_fields_in_a_generic_impl_forward_and_reverse() {
    let c = Chain2 {
        p: Affine { a: 0.7f64, c: 0.1 },
        q: Affine { a: -1.2, c: 0.3 },
    };
    let x = 0.5f64;
    let (_, (dc, dx)) = c.run_grad(x);
    let u = (c.p.a * x + c.p.c).tanh();
    let y = (c.q.a * u + c.q.c).tanh();
    let (gy, gu) = (1.0 - y * y, 1.0 - u * u);
    let inner = gy * c.q.a * gu;
    close_all(
        "run, ∂chain",
        &[dc.p.a, dc.p.c, dc.q.a, dc.q.c, dx],
        &[inner * x, inner, gy * u, gy, inner * c.p.a],
    );
    let r = gradcheck(
        |p: &(Chain2<f64>, f64)| p.0.run(p.1),
        &(c.clone(), x),
        &(dc.clone(), dx),
    );
    assert!(r.passed(), "run: {r}");
    // Forward mode along (c, 1): ⟨∇, (c, 1)⟩.
    let (_, dy) = c.run_jvp(x, &c, 1.0);
    let along = dc.p.a * c.p.a + dc.p.c * c.p.c + dc.q.a * c.q.a + dc.q.c * c.q.c + dx;
    close("run, jvp", dy, along, TOL);
}

// ---------------------------------------------------------------------------------------------
// Float methods on views (`a.slice(s![1..]).exp()`, `a.t().powi(2)`, `a.view().ln_1p()`) and
// matrices built from rows (`Array2::from(vec![[..], ..])`).
// ---------------------------------------------------------------------------------------------

/// Σⱼ exp(a₀ⱼ) + Σ (aᵀ)² + Σᵢ tanh(aᵢ₁) + Σ ln(1 + a):
/// ∂a₀ⱼ = exp(a₀ⱼ) + 2a₀ⱼ + 1/(1 + a₀ⱼ) (+ 1 − tanh²(a₀₁) at j = 1),
/// ∂a₁ⱼ = 2a₁ⱼ + 1/(1 + a₁ⱼ) (+ 1 − tanh²(a₁₁) at j = 1).
#[differentiate]
fn float_methods_on_views(a: &Array2<f64>) -> f64 {
    let first = a.slice(ndarray::s![0, ..]).exp().sum();
    let squares = a.t().powi(2).sum();
    first + squares + a.slice(ndarray::s![.., 1]).tanh().sum() + a.view().ln_1p().sum()
}

#[test]
fn float_methods_on_views_are_those_of_the_copied_view() {
    let a = array![[0.3, 0.5, 1.2], [0.1, 0.9, 0.4]];
    let (_, d) = float_methods_on_views_grad(&a);
    let want = Array2::from_shape_fn((2, 3), |(i, j)| {
        let v: f64 = a[[i, j]];
        let row = if i == 0 { v.exp() } else { 0.0 };
        let col = if j == 1 { 1.0 - v.tanh().powi(2) } else { 0.0 };
        row + 2.0 * v + 1.0 / (1.0 + v) + col
    });
    close_all("∂a", d.as_slice().unwrap(), want.as_slice().unwrap());
    let r = gradcheck(|p: &Array2<f64>| float_methods_on_views(p), &a, &d);
    assert!(r.passed(), "{r}");
}

/// M = [[x₀, 2x₁], [x₂, x₀x₁]], L = Σ M·x[..2] = Σᵢ (Mᵢ₀x₀ + Mᵢ₁x₁)
///   = x₀² + 2x₁² + x₂x₀ + x₀x₁²:
/// ∂x₀ = 2x₀ + x₂ + x₁², ∂x₁ = 4x₁ + 2x₀x₁, ∂x₂ = x₀.
#[differentiate]
fn matrix_from_rows(x: &Array1<f64>) -> f64 {
    let m = Array2::from(vec![[x[0], 2.0 * x[1]], [x[2], x[0] * x[1]]]);
    let data = vec![[1.0, 0.0], [0.0, 1.0]];
    let eye = Array2::from(data);
    m.dot(&eye).dot(&x.slice(ndarray::s![..2])).sum()
}

#[test]
fn matrices_from_rows_of_differentiated_values() {
    let x = array![0.3, -0.5, 1.2];
    let (y, d) = matrix_from_rows_grad(&x);
    let (x0, x1, x2) = (x[0], x[1], x[2]);
    close(
        "value",
        y,
        x0 * x0 + 2.0 * x1 * x1 + x2 * x0 + x0 * x1 * x1,
        TOL,
    );
    close_all(
        "∂x",
        d.as_slice().unwrap(),
        &[2.0 * x0 + x2 + x1 * x1, 4.0 * x1 + 2.0 * x0 * x1, x0],
    );
    let r = gradcheck(|p: &Array1<f64>| matrix_from_rows(p), &x, &d);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Layers in a `Vec` or an array field: `for layer in &self.layers { h = layer.forward(&h); }`,
// `self.layers[i].forward(&h)`, `model.layers.iter()`, and training them with an optimizer.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct DeepDense {
    layers: Vec<Dense>,
    head: Array1<f64>,
}

impl DeepDense {
    /// ⟨head, l₂(l₁(x))⟩ over the layers in order: the score of `Stacked` with `enc.l = l₁`,
    /// `out = l₂`, whose gradient `two_dense_by_hand` writes out.
    #[differentiate]
    fn by_iter(&self, x: &Array1<f64>) -> f64 {
        let mut h = x.clone();
        for layer in &self.layers {
            h = layer.forward(&h);
        }
        self.head.dot(&h)
    }

    /// The same score, each layer's method called through its type.
    #[differentiate]
    fn by_path(&self, x: &Array1<f64>) -> f64 {
        let mut h = x.clone();
        for layer in &self.layers {
            h = Dense::forward(layer, &h);
        }
        self.head.dot(&h)
    }

    /// The same score, the layers read by position.
    #[differentiate]
    fn by_index(&self, x: &Array1<f64>) -> f64 {
        let mut h = x.clone();
        for i in 0..self.layers.len() {
            h = self.layers[i].forward(&h);
        }
        self.head.dot(&h)
    }
}

/// The same score through a parameter, its layers by `iter()`.
#[differentiate]
fn deep_score(model: &DeepDense, x: &Array1<f64>) -> f64 {
    let mut h = x.clone();
    for layer in model.layers.iter() {
        h = layer.forward(&h);
    }
    model.head.dot(&h)
}

#[derive(Clone, Differentiable)]
struct PairDense {
    layers: [Dense; 2],
    head: Array1<f64>,
}

impl PairDense {
    /// The same score, the layers in an array.
    #[differentiate]
    fn score(&self, x: &Array1<f64>) -> f64 {
        let mut h = x.clone();
        for layer in &self.layers {
            h = layer.forward(&h);
        }
        self.head.dot(&h)
    }
}

fn deep() -> (DeepDense, Array1<f64>) {
    let (m, x) = stacked();
    let deep = DeepDense {
        layers: vec![m.enc.l, m.out],
        head: m.head,
    };
    (deep, x)
}

/// `Stacked`'s gradient by hand, laid out as a `DeepDense`.
fn deep_by_hand(m: &DeepDense, x: &Array1<f64>) -> (DeepDense, Array1<f64>) {
    let stacked = Stacked {
        enc: Encoder {
            l: m.layers[0].clone(),
        },
        out: m.layers[1].clone(),
        head: m.head.clone(),
    };
    let (g, dx) = two_dense_by_hand(&stacked, x);
    let g = DeepDense {
        layers: vec![g.enc.l, g.out],
        head: g.head,
    };
    (g, dx)
}

#[test]
fn layers_in_a_vec_field_by_iteration_and_by_index() {
    let (m, x) = deep();
    let (want_m, want_x) = deep_by_hand(&m, &x);
    let flat = |d: &DeepDense| autodiff::to_flat(d);
    let grads = [
        ("by_iter", m.by_iter_grad(&x)),
        ("by_index", m.by_index_grad(&x)),
        ("by_path", m.by_path_grad(&x)),
        ("deep_score", deep_score_grad(&m, &x)),
    ];
    for (what, (v, (dm, dx))) in grads {
        close(what, v, m.by_iter(&x), TOL);
        close_all(what, &flat(&dm), &flat(&want_m));
        close_all(what, dx.as_slice().unwrap(), want_x.as_slice().unwrap());
        let r = gradcheck(
            |p: &(DeepDense, Array1<f64>)| p.0.by_index(&p.1),
            &(m.clone(), x.clone()),
            &(dm, dx),
        );
        assert!(r.passed(), "{what}: {r}");
    }
}

#[test]
fn layers_in_an_array_field() {
    let (m, x) = deep();
    let (want_m, want_x) = deep_by_hand(&m, &x);
    let pair = PairDense {
        layers: [m.layers[0].clone(), m.layers[1].clone()],
        head: m.head.clone(),
    };
    let (v, (dp, dx)) = pair.score_grad(&x);
    close("value", v, m.by_iter(&x), TOL);
    close_all(
        "∂model",
        &autodiff::to_flat(&dp),
        &autodiff::to_flat(&want_m),
    );
    close_all("∂x", dx.as_slice().unwrap(), want_x.as_slice().unwrap());
    let r = gradcheck(
        |p: &(PairDense, Array1<f64>)| p.0.score(&p.1),
        &(pair.clone(), x.clone()),
        &(dp, dx),
    );
    assert!(r.passed(), "array of layers: {r}");
}

/// Mean squared error of `DeepDense` over a few points: L = (1/n) Σᵢ (score(xᵢ) − yᵢ)².
#[differentiate(wrt(model))]
fn deep_mse(model: &DeepDense, xs: &[Array1<f64>], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = model.by_iter(&xs[i]) - ys[i];
        total += r * r;
    }
    total / xs.len() as f64
}

#[test]
fn training_a_vec_of_layers_with_adam_lowers_the_loss() {
    use autodiff::optim::{Adam, AdamConfig, Optimizer};
    let (mut m, _) = deep();
    let xs = vec![
        array![0.4, -0.9],
        array![-0.3, 0.5],
        array![1.0, 0.2],
        array![-0.8, -0.6],
    ];
    let ys = [0.5, -0.2, 0.3, -0.4];
    let (start, g0) = deep_mse_grad(&m, &xs, &ys);
    // The gradient the optimizer follows is the loss's: checked by finite differences.
    let r = gradcheck(|p: &DeepDense| deep_mse(p, &xs, &ys), &m, &g0);
    assert!(r.passed(), "mse of a vec of layers: {r}");
    let mut adam = Adam::new(AdamConfig {
        lr: 0.05,
        ..Default::default()
    });
    for _ in 0..300 {
        let (_, g) = deep_mse_grad(&m, &xs, &ys);
        adam.step(&mut m, &g);
    }
    let end = deep_mse(&m, &xs, &ys);
    assert!(end < start / 10.0, "loss {start} → {end}");
}

// ---------------------------------------------------------------------------------------------
// An `f32` model trained over `for (x, y) in xs.iter().zip(ys)`, each `x` a reference passed on
// to the model's method as it is; a result of a tuple through `_vjp`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Dense32 {
    w: Array2<f32>,
    b: Array1<f32>,
}

impl Dense32 {
    /// tanh(W·x + b), as `Dense::forward` in `f32`.
    #[differentiate]
    fn forward(&self, x: &Array1<f32>) -> Array1<f32> {
        (self.w.dot(x) + &self.b).mapv(f32::tanh)
    }
}

#[derive(Clone, Differentiable)]
struct Deep32 {
    layers: Vec<Dense32>,
    head: Array1<f32>,
}

impl Deep32 {
    /// ⟨head, l₂(l₁(x))⟩, as `DeepDense::by_iter`.
    #[differentiate]
    fn predict(&self, x: &Array1<f32>) -> f32 {
        let mut h = x.clone();
        for layer in self.layers.iter() {
            h = layer.forward(&h);
        }
        self.head.dot(&h)
    }

    /// The same model in `f64`.
    fn widened(&self) -> DeepDense {
        let wide = |l: &Dense32| Dense {
            w: l.w.mapv(f64::from),
            b: l.b.mapv(f64::from),
        };
        DeepDense {
            layers: self.layers.iter().map(wide).collect(),
            head: self.head.mapv(f64::from),
        }
    }
}

/// L = (1/n) Σᵢ (predict(xᵢ) − yᵢ)²; ∂model = (2/n) Σᵢ rᵢ·∂predict(xᵢ), rᵢ = predict(xᵢ) − yᵢ.
#[differentiate(wrt(net))]
fn mse32(net: &Deep32, xs: &[Array1<f32>], ys: &[f32]) -> f32 {
    let mut total = 0.0f32;
    for (x, y) in xs.iter().zip(ys) {
        let r = net.predict(x) - *y;
        total += r * r;
    }
    total / xs.len() as f32
}

#[test]
fn an_f32_model_over_zipped_references_trains_with_adam() {
    use autodiff::optim::{Adam, AdamConfig, Optimizer};
    let (m, _) = deep();
    let narrow = |a: &Array1<f64>| a.mapv(|v| v as f32);
    let mut net = Deep32 {
        layers: m
            .layers
            .iter()
            .map(|l| Dense32 {
                w: l.w.mapv(|v| v as f32),
                b: narrow(&l.b),
            })
            .collect(),
        head: narrow(&m.head),
    };
    let xs: Vec<Array1<f32>> = (0..6)
        .map(|i| array![i as f32 / 6.0 - 0.4, 0.8 - i as f32 / 4.0])
        .collect();
    let ys: Vec<f32> = xs.iter().map(|x| 0.7 * x[0] - 0.2 * x[1]).collect();

    // The analytic gradient, in f64 from `deep_by_hand` at each point.
    let wide = net.widened();
    let mut want = wide.zero_like();
    for (x, &y) in xs.iter().zip(&ys) {
        let x = x.mapv(f64::from);
        let (mut g, _) = deep_by_hand(&wide, &x);
        g.scale(2.0 * (wide.by_iter(&x) - f64::from(y)) / xs.len() as f64);
        want.add_assign(&g);
    }
    let (start, g) = mse32_grad(&net, &xs, &ys);
    let got = autodiff::to_flat(&g);
    for (k, (&a, &e)) in got.iter().zip(&autodiff::to_flat(&want)).enumerate() {
        // f32 rounding of a sum of a few terms of size ≲ 1.
        close(&format!("∂net[{k}]"), f64::from(a), e, 1e-5);
    }
    let r = gradcheck(|p: &Deep32| mse32(p, &xs, &ys), &net, &g);
    assert!(r.passed(), "f32 mse: {r}");

    let mut adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    for _ in 0..300 {
        let (_, g) = mse32_grad(&net, &xs, &ys);
        adam.step(&mut net, &g);
    }
    let end = mse32(&net, &xs, &ys);
    assert!(end < start / 10.0, "loss {start} → {end}");
}

/// A sum and an array: (Σⱼ wⱼxⱼ, exp(w ⊙ x)). For a cotangent (s̄, ē):
/// ∂w = s̄·x + ē ⊙ exp(w ⊙ x) ⊙ x.
#[differentiate(wrt(w))]
fn sum_and_exp(w: &Array1<f64>, x: &Array1<f64>) -> (f64, Array1<f64>) {
    let y = w * x;
    (y.sum(), y.mapv(f64::exp))
}

#[test]
fn a_tuple_of_a_float_and_an_array_through_vjp() {
    let (w, x) = (array![0.1, 0.2, -0.4], array![1.0, -1.0, 0.5]);
    let ((s, e), pullback) = sum_and_exp_vjp(&w, &x);
    close("sum", s, -0.3, TOL);
    let (sbar, ebar) = (0.5, array![1.0, -2.0, 3.0]);
    let dw = pullback((sbar, ebar.clone()));
    let want = &x * sbar + &ebar * &e * &x;
    close_all("∂w", dw.as_slice().unwrap(), want.as_slice().unwrap());
    // The pullback is the gradient of ⟨(s̄, ē), f(w)⟩.
    let r = gradcheck(
        |p: &Array1<f64>| {
            let (s, e) = sum_and_exp(p, &x);
            sbar * s + ebar.dot(&e)
        },
        &w,
        &dw,
    );
    assert!(r.passed(), "pullback of a tuple: {r}");
}

// ---------------------------------------------------------------------------------------------
// `if let` and `while let`: the `match` they stand for. A binding of the pattern that shadows an
// outer variable (`Some(mut s)`) leaves that variable alone.
// ---------------------------------------------------------------------------------------------

/// L = Σ_{i even} 2xᵢ − Σ_{i odd} xᵢ²: ∂xᵢ = 2 for even i, −2xᵢ for odd i.
#[differentiate]
fn even_odd(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let k = if i % 2 == 0 { Some(i) } else { None };
        if let Some(j) = k {
            s += x[j] * 2.0;
        } else {
            s -= x[i] * x[i];
        }
    }
    s
}

/// s = x², then acc = Σ_{k=1..3} 2k·x (the pattern's `s` is another variable):
/// f = 12x + x², f' = 12 + 2x.
#[differentiate]
fn countdown(x: f64) -> f64 {
    let s = x * x;
    let mut acc = 0.0;
    let mut k = 3;
    while let Some(mut s) = if k > 0 { Some(k as f64) } else { None } {
        s *= 2.0;
        acc += s * x;
        k -= 1;
    }
    acc + s
}

/// L = Σ_{i even, xᵢ > 0} xᵢ² − Σ_{other i} xᵢ: ∂xᵢ = 2xᵢ where i is even and xᵢ > 0, −1
/// elsewhere (a `let` chained with a test).
#[differentiate]
fn positive_evens(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let k = if i % 2 == 0 { Some(i) } else { None };
        if let Some(j) = k
            && x[j] > 0.0
        {
            s += x[j] * x[j];
        } else {
            s -= x[i];
        }
    }
    s
}

#[test]
fn if_let_and_while_let() {
    let x = [0.3, -1.2, 2.0, 0.7];
    let (_, dx) = even_odd_grad(&x);
    close_all("even_odd", &dx, &[2.0, 2.4, 2.0, -1.4]);
    fd_vec("even_odd", even_odd, &x, &dx);
    let dir = vec![1.0, -0.5, 0.25, 2.0];
    let (_, t) = even_odd_jvp(&x, &dir);
    close("even_odd tangent", t, dx.inner(&dir), TOL);

    let (_, dx) = positive_evens_grad(&x);
    close_all("positive_evens", &dx, &[0.6, -1.0, 4.0, -1.0]);
    fd_vec("positive_evens", positive_evens, &x, &dx);

    let (_, d) = countdown_grad(0.7);
    close("countdown", d, 12.0 + 1.4, TOL);
    fd("countdown", countdown, 0.7, d);
    let (_, t) = countdown_jvp(0.7, 1.0);
    close("countdown tangent", t, 13.4, TOL);
}

// ---------------------------------------------------------------------------------------------
// A literal assigned over the result of a call (`let mut y = g(x); y = 2.0;`) and then the
// receiver of a float method: the method's result takes the type of what it meets.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn cube(x: f64) -> f64 {
    x * x * x
}

/// y is the constant 2 when the float method runs: f = √2 + x, f' = 1.
#[differentiate]
fn replaced_then_sqrt(x: f64) -> f64 {
    let mut y = cube(x);
    y = 2.0;
    y.sqrt() + x
}

/// f = max(2, x)·x: 2x below 2 (f' = 2), x² above (f' = 2x).
#[differentiate]
fn replaced_then_max(x: f64) -> f64 {
    let mut y = cube(x);
    y = 2.0;
    y.max(x) * x
}

#[test]
fn a_literal_over_a_call_result_meets_a_float_method() {
    let (_, d) = replaced_then_sqrt_grad(0.7);
    close("sqrt", d, 1.0, TOL);
    fd("sqrt", replaced_then_sqrt, 0.7, d);
    for (x, want) in [(0.7, 2.0), (2.5, 5.0)] {
        let (_, d) = replaced_then_max_grad(x);
        close("max", d, want, TOL);
        fd("max", replaced_then_max, x, d);
        let (_, t) = replaced_then_max_jvp(x, 1.0);
        close("max tangent", t, want, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// The elements of a `Vec` field of layers reached through an iterator chain: `fold` over
// `self.layers.iter()`, `enumerate`, `map`. The closure's and the pattern's names are elements
// whose methods are followed like `self.layers[i].forward(..)`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Neuron {
    w: f64,
    b: f64,
}

impl Neuron {
    /// tanh(w·x + b).
    #[differentiate]
    fn forward(&self, x: &f64) -> f64 {
        (self.w * x + self.b).tanh()
    }
}

#[derive(Clone, Differentiable)]
struct Neurons {
    neurons: Vec<Neuron>,
    scale: f64,
}

impl Neurons {
    /// s·u₂(u₁(x)) by `fold`.
    #[differentiate]
    fn by_fold(&self, x: f64) -> f64 {
        self.neurons.iter().fold(x, |h, u| u.forward(&h)) * self.scale
    }

    /// The same, by `for (i, u) in ..enumerate()` (the index only counts).
    #[differentiate]
    fn by_enumerate(&self, x: f64) -> f64 {
        let mut h = x;
        for (i, u) in self.neurons.iter().enumerate() {
            assert!(i < 2);
            h = u.forward(&h);
        }
        h * self.scale
    }

    /// s·Σ_{k: wₖ > 0} uₖ(x): the layers picked by `filter`, which reads them as written.
    #[differentiate]
    fn by_filter(&self, x: f64) -> f64 {
        self.neurons
            .iter()
            .filter(|u| u.w > 0.0)
            .map(|u| u.forward(&x))
            .sum::<f64>()
            * self.scale
    }

    /// u₁(x)·u₋₁(x), the layers bound by `first().unwrap()` and `last().unwrap()`.
    #[differentiate]
    fn ends(&self, x: f64) -> f64 {
        let a = self.neurons.first().unwrap();
        let b = self.neurons.last().unwrap();
        a.forward(&x) * b.forward(&x)
    }

    /// s·Σₖ uₖ(x) by `map(..).sum()`.
    #[differentiate]
    fn by_map(&self, x: f64) -> f64 {
        self.neurons.iter().map(|u| u.forward(&x)).sum::<f64>() * self.scale
    }
}

#[test]
fn layers_of_a_vec_field_through_fold_enumerate_and_map() {
    let net = Neurons {
        neurons: vec![Neuron { w: 0.5, b: 0.1 }, Neuron { w: -0.7, b: 0.2 }],
        scale: 1.3,
    };
    let x = 0.4;
    // h₁ = tanh(w₁x + b₁), h₂ = tanh(w₂h₁ + b₂), f = s·h₂:
    // ∂s = h₂, ∂b₂ = s(1 − h₂²), ∂w₂ = ∂b₂·h₁, ∂b₁ = ∂b₂·w₂(1 − h₁²), ∂w₁ = ∂b₁·x, ∂x = ∂b₁·w₁.
    let (u1, u2, s) = (&net.neurons[0], &net.neurons[1], net.scale);
    let h1 = (u1.w * x + u1.b).tanh();
    let h2 = (u2.w * h1 + u2.b).tanh();
    let db2 = s * (1.0 - h2 * h2);
    let db1 = db2 * u2.w * (1.0 - h1 * h1);
    let want = [db1 * x, db1, db2 * h1, db2, h2];
    for (what, grad, f) in [
        (
            "fold",
            Neurons::by_fold_grad as fn(&Neurons, f64) -> (f64, (Neurons, f64)),
            Neurons::by_fold as fn(&Neurons, f64) -> f64,
        ),
        (
            "enumerate",
            Neurons::by_enumerate_grad,
            Neurons::by_enumerate,
        ),
    ] {
        let (y, (g, dx)) = grad(&net, x);
        close(what, y, s * h2, TOL);
        close_all(what, &autodiff::to_flat(&g), &want);
        close(what, dx, db1 * u1.w, TOL);
        let r = gradcheck(|p: &Neurons| f(p, x), &net, &g);
        assert!(r.passed(), "{what}: {r}");
        fd(what, |x| f(&net, x), x, dx);
    }
    // f = s·(h₁ + tanh(w₂x + b₂)): ∂wₖ = s(1 − hₖ²)x, ∂bₖ = s(1 − hₖ²), ∂s = h₁ + h₂'.
    let h2x = (u2.w * x + u2.b).tanh();
    let (_, (g, dx)) = net.by_map_grad(x);
    let (d1, d2) = (s * (1.0 - h1 * h1), s * (1.0 - h2x * h2x));
    close_all(
        "map",
        &autodiff::to_flat(&g),
        &[d1 * x, d1, d2 * x, d2, h1 + h2x],
    );
    close("map ∂x", dx, d1 * u1.w + d2 * u2.w, TOL);
    let (_, t) = net.by_map_jvp(x, &net.zero_like(), 1.0);
    close("map tangent", t, dx, TOL);
    // f = h₁·h₂' with h₂' = tanh(w₂x + b₂): ∂(w₁, b₁) = (1 − h₁²)h₂'·(x, 1),
    // ∂(w₂, b₂) = h₁(1 − h₂'²)·(x, 1), ∂x = (1 − h₁²)w₁h₂' + h₁(1 − h₂'²)w₂.
    let (_, (g, dx)) = net.ends_grad(x);
    let (e1, e2) = ((1.0 - h1 * h1) * h2x, h1 * (1.0 - h2x * h2x));
    close_all(
        "ends",
        &autodiff::to_flat(&g),
        &[e1 * x, e1, e2 * x, e2, 0.0],
    );
    close("ends ∂x", dx, e1 * u1.w + e2 * u2.w, TOL);
    // Only u₁ has w > 0: f = s·h₁.
    let (_, (g, dx)) = net.by_filter_grad(x);
    close_all(
        "filter",
        &autodiff::to_flat(&g),
        &[d1 * x, d1, 0.0, 0.0, h1],
    );
    close("filter ∂x", dx, d1 * u1.w, TOL);
}

// ---------------------------------------------------------------------------------------------
// Items at the top of the body (`const`, `use`, a helper `fn`, itself differentiated or not), and
// struct literals of data that is not differentiated.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Steps {
    n: usize,
    scale: f64,
}

/// L = Σᵢ sq(xᵢ)·wᵢ/2 + π·Σᵢ Wᵢxᵢ + 3(x₀ + x₁) with W = (1, 2, 3, 4):
/// ∂xᵢ = Wᵢxᵢ + πWᵢ + 3·[i < 2].
#[differentiate]
fn with_inner_items(x: &[f64]) -> f64 {
    use std::f64::consts::PI;
    const W: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
    #[differentiate]
    fn sq(v: f64) -> f64 {
        v * v
    }
    fn half_weight(i: usize) -> f64 {
        W[i] * 0.5
    }
    let steps = Steps { n: 2, scale: 3.0 };
    let mut s = 0.0;
    for i in 0..x.len() {
        s += sq(x[i]) * half_weight(i) + W[i] * x[i] * PI;
    }
    for i in 0..steps.n {
        s += x[i] * steps.scale;
    }
    s
}

#[test]
fn items_in_the_body_and_struct_literals_of_data() {
    use std::f64::consts::PI;
    let x = [0.3, -1.2, 2.0, 0.7];
    let (_, dx) = with_inner_items_grad(&x);
    let want: Vec<f64> = (0..4)
        .map(|i| {
            let w = (i + 1) as f64;
            w * x[i] + PI * w + if i < 2 { 3.0 } else { 0.0 }
        })
        .collect();
    close_all("with_inner_items", &dx, &want);
    fd_vec("with_inner_items", with_inner_items, &x, &dx);
    let dir = vec![0.5, 1.0, -1.0, 2.0];
    let (_, t) = with_inner_items_jvp(&x, &dir);
    close(
        "tangent",
        t,
        want.iter().zip(&dir).map(|(a, b)| a * b).sum(),
        1e-12,
    );
}

// ---------------------------------------------------------------------------------------------
// Struct literals of a `#[derive(Differentiable)]` type built from differentiated values: a
// state returned by a step function, rebuilt in a loop, with fields in any order, and the
// receiver of the struct's own methods.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

impl Particle {
    /// v²/2.
    #[differentiate]
    fn kinetic(&self) -> f64 {
        0.5 * self.v * self.v
    }

    /// A constructor by its conventional name.
    #[differentiate]
    fn new(x: f64, v: f64) -> Self {
        Self { x, v }
    }

    /// The step of `kick`, as a method building `Self`.
    #[differentiate]
    fn stepped(&self, k: f64, dt: f64) -> Self {
        Self {
            x: self.x + self.v * dt,
            v: self.v - k * self.x * dt,
        }
    }
}

/// A state made by `Particle::new(k, 2k)`, whose methods are followed: ½(2k)² + k, derivative
/// 4k + 1.
#[differentiate]
fn made_by_new(k: f64) -> f64 {
    let p = Particle::new(k, 2.0 * k);
    p.kinetic() + p.x
}

/// A state returned by a function and bound with its type written, `let p: Particle = ..`:
/// p = kick((1, 0), k, 0.1) = (1, −0.1k), so x² + 2·v²/2 = 1 + 0.01k², derivative 0.02k.
#[differentiate]
fn typed_state(k: f64) -> f64 {
    let p: Particle = kick(&Particle { x: 1.0, v: 0.0 }, k, 0.1);
    p.x * p.x + 2.0 * p.kinetic()
}

/// `energy_after_two` from any start, the state a copy of the parameter stepped by its method:
/// from (1, 0) its derivative in k is the same.
#[differentiate]
fn energy_from(p0: &Particle, k: f64) -> f64 {
    let mut p = p0.clone();
    for _ in 0..2 {
        p = p.stepped(k, 0.1);
    }
    p.x * p.x + 2.0 * p.kinetic()
}

/// One explicit Euler step of x'' = −kx: (x + v·dt, v − k·x·dt). For a cotangent (x̄', v̄'):
/// x̄ = x̄' − v̄'·k·dt, v̄ = x̄'·dt + v̄', k̄ = −v̄'·x·dt, d̄t = x̄'·v − v̄'·k·x.
#[differentiate]
fn kick(p: &Particle, k: f64, dt: f64) -> Particle {
    Particle {
        v: p.v - k * p.x * dt,
        x: p.x + p.v * dt,
    }
}

/// Two steps from (1, 0) with dt = 0.1: x₂ = 1 − 0.01k, v₂ = −0.2k, so
/// E = x₂² + 2·v₂²/2 = (1 − 0.01k)² + 0.04k² and E' = −0.02(1 − 0.01k) + 0.08k.
#[differentiate]
fn energy_after_two(k: f64) -> f64 {
    let mut p = Particle { x: 1.0, v: 0.0 };
    for _ in 0..2 {
        p = kick(&p, k, 0.1);
    }
    p.x * p.x + 2.0 * p.kinetic()
}

/// The same steps written inline, the literal rebuilt in the loop.
#[differentiate]
fn energy_inline(k: f64) -> f64 {
    let mut p = Particle { x: 1.0, v: 0.0 };
    for _ in 0..2 {
        p = Particle {
            x: p.x + p.v * 0.1,
            v: p.v - k * p.x * 0.1,
        };
    }
    let q = Particle { x: p.x, v: p.v };
    q.x * q.x + 2.0 * q.kinetic()
}

#[test]
fn struct_literals_of_differentiated_values() {
    let (p, k, dt) = (Particle { x: 0.8, v: -0.3 }, 1.7, 0.1);
    let (next, pullback) = kick_vjp(&p, k, dt);
    close("x'", next.x, 0.8 - 0.03, TOL);
    let (gx, gv) = (0.5, -2.0);
    let (dp, dk, ddt) = pullback(Particle { x: gx, v: gv });
    close_all(
        "∂kick",
        &[dp.x, dp.v, dk, ddt],
        &[
            gx - gv * k * dt,
            gx * dt + gv,
            -gv * p.x * dt,
            gx * p.v - gv * k * p.x,
        ],
    );
    let (_, t) = kick_jvp(&p, k, dt, &Particle { x: 0.0, v: 0.0 }, 1.0, 0.0);
    close_all("kick tangent along k", &[t.x, t.v], &[0.0, -p.x * dt]);

    let want = -0.02 * (1.0 - 0.01 * k) + 0.08 * k;
    for (what, grad, f) in [
        (
            "energy_after_two",
            energy_after_two_grad as fn(f64) -> (f64, f64),
            energy_after_two as fn(f64) -> f64,
        ),
        ("energy_inline", energy_inline_grad, energy_inline),
    ] {
        let (e, d) = grad(k);
        close(what, e, (1.0 - 0.01 * k).powi(2) + 0.04 * k * k, TOL);
        close(what, d, want, TOL);
        fd(what, f, k, d);
    }
    let (_, t) = energy_inline_jvp(k, 1.0);
    close("energy_inline tangent", t, want, TOL);

    let (_, d) = typed_state_grad(k);
    close("typed_state", d, 0.02 * k, TOL);
    fd("typed_state", typed_state, k, d);

    let (_, d) = made_by_new_grad(k);
    close("made_by_new", d, 4.0 * k + 1.0, TOL);
    fd("made_by_new", made_by_new, k, d);

    let start = Particle { x: 1.0, v: 0.0 };
    let (_, (dp, dk)) = energy_from_grad(&start, k);
    close("energy_from ∂k", dk, want, TOL);
    fd("energy_from ∂k", |k| energy_from(&start, k), k, dk);
    let r = gradcheck(|p: &Particle| energy_from(p, k), &start, &dp);
    assert!(r.passed(), "energy_from ∂p0: {r}");
}

// ---------------------------------------------------------------------------------------------
// A slice of parameter structs (`bodies: &[Body]`), read through an iterator chain and by index:
// its gradient is a `Vec` of the struct.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Body {
    x: f64,
    v: f64,
    m: f64,
}

/// E = Σ_b (½·m·v² + m·x): ∂x = m, ∂v = m·v, ∂m = ½v² + x.
#[differentiate]
fn body_energy(bodies: &[Body]) -> f64 {
    bodies
        .iter()
        .map(|b| 0.5 * b.m * b.v * b.v + b.m * b.x)
        .sum()
}

/// P = Σ_{i<j} mᵢmⱼ(xᵢ − xⱼ)²: ∂xᵢ = Σ_{j≠i} 2mᵢmⱼ(xᵢ − xⱼ), ∂mᵢ = Σ_{j≠i} mⱼ(xᵢ − xⱼ)², ∂v = 0.
#[differentiate]
fn body_pairs(bodies: &[Body]) -> f64 {
    let mut p = 0.0;
    for i in 0..bodies.len() {
        for j in (i + 1)..bodies.len() {
            let d = bodies[i].x - bodies[j].x;
            p += bodies[i].m * bodies[j].m * d * d;
        }
    }
    p
}

#[test]
fn a_slice_of_parameter_structs() {
    let bodies = vec![
        Body {
            x: 0.3,
            v: 1.0,
            m: 2.0,
        },
        Body {
            x: -0.5,
            v: 0.2,
            m: 1.5,
        },
        Body {
            x: 1.1,
            v: -0.4,
            m: 0.7,
        },
    ];
    let (_, g) = body_energy_grad(&bodies);
    for (b, d) in bodies.iter().zip(&g) {
        close_all(
            "∂body",
            &[d.x, d.v, d.m],
            &[b.m, b.m * b.v, 0.5 * b.v * b.v + b.x],
        );
    }
    let r = gradcheck(|p: &Vec<Body>| body_energy(p), &bodies, &g);
    assert!(r.passed(), "body_energy: {r}");
    let dir: Vec<Body> = bodies
        .iter()
        .map(|b| Body {
            x: 1.0,
            v: -b.v,
            m: 0.5,
        })
        .collect();
    let (_, t) = body_energy_jvp(&bodies, &dir);
    close("body_energy tangent", t, g.inner(&dir), TOL);

    let (_, g) = body_pairs_grad(&bodies);
    for (i, (bi, d)) in bodies.iter().zip(&g).enumerate() {
        let (mut dx, mut dm) = (0.0, 0.0);
        for (j, bj) in bodies.iter().enumerate() {
            if j != i {
                dx += 2.0 * bi.m * bj.m * (bi.x - bj.x);
                dm += bj.m * (bi.x - bj.x).powi(2);
            }
        }
        close_all("∂pairs", &[d.x, d.v, d.m], &[dx, 0.0, dm]);
    }
    let r = gradcheck(|p: &Vec<Body>| body_pairs(p), &bodies, &g);
    assert!(r.passed(), "body_pairs: {r}");
}

// ---------------------------------------------------------------------------------------------
// Elements taken out of containers by `if let` / `while let` (`Some(v) = stack.pop()`,
// `Some(&l) = x.last()`, `Some(v) = x.get(i)`), an array destructured by `let [a, b, c]`, and
// `split_at`.
// ---------------------------------------------------------------------------------------------

/// Popping 2x₃, 2x₂, 2x₁, 2x₀ into s ← s/2 + v: s = 2x₀ + x₁ + x₂/2 + x₃/4, plus x₃² from
/// `last` and eˣ² from `get(2)`: ∂ = (2, 1, ½ + eˣ², ¼ + 2x₃).
#[differentiate]
fn drain_stack(x: &[f64]) -> f64 {
    let mut stack: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    let mut s = 0.0;
    while let Some(v) = stack.pop() {
        s = s * 0.5 + v;
    }
    if let Some(&l) = x.last() {
        s += l * l;
    }
    if let Some(v) = x.get(2) {
        s += v.exp();
    } else {
        s -= 1.0;
    }
    s
}

/// (a·b + c)·Σ(tail) with [a, b, c] = [x₀, x₁, x₂] and (head, tail) = x.split_at(2):
/// f = (x₀x₁ + x₂)(x₂ + x₃); ∂ = (x₁t, x₀t, t + p, p) with p = x₀x₁ + x₂, t = x₂ + x₃.
#[differentiate]
fn destructured(x: &[f64]) -> f64 {
    let [a, b, c] = [x[0], x[1], x[2]];
    let (_head, tail) = x.split_at(2);
    (a * b + c) * tail.iter().sum::<f64>()
}

/// Σ xᵢ² by `match x.get(i)` until `None`, plus Σ_{j even} x_{j+1}·x_j by
/// `if let Some(&v) = x.get(j + 1)`: ∂ = 2x + (x₁, x₀, x₃, x₂).
#[differentiate]
fn walk_by_get(x: &[f64]) -> f64 {
    let mut i = 0;
    let mut s = 0.0;
    loop {
        match x.get(i) {
            Some(&v) => s += v * v,
            None => break,
        }
        i += 1;
    }
    for j in (0..x.len()).step_by(2) {
        if let Some(&v) = x.get(j + 1) {
            s += v * x[j];
        }
    }
    s
}

/// `match x.get(i)` with a guard and a second `Some` arm, and `match stack.pop()` with guards
/// and a `_` arm: the arms tried in their order, the element taken out once.
#[differentiate]
fn guarded_element_arms(x: &[f64], i: usize) -> f64 {
    let a = match x.get(i) {
        Some(&v) if v > 0.0 => v * v,
        Some(&v) => -3.0 * v,
        None => 0.5,
    };
    let mut stack = x.to_vec();
    let mut s = 0.0;
    for _ in 0..3 {
        s += match stack.pop() {
            Some(v) if v > 1.0 => v.ln(),
            Some(v) if v < -1.0 => v * v * v,
            Some(v) => v.sin(),
            _ => 1.0,
        };
    }
    a * s + stack.len() as f64
}

#[test]
fn element_matches_with_guards_and_several_some_arms() {
    for seed in 0..6 {
        let x: Vec<f64> = common::data(4, 0.37 + seed as f64)
            .iter()
            .map(|v| 2.5 * v)
            .collect();
        for i in [0, 2, 7] {
            let f = |x: &[f64]| guarded_element_arms(x, i);
            let (y, dx) = guarded_element_arms_grad(&x, i);
            assert_eq!(y.to_bits(), f(&x).to_bits());
            fd_vec("guarded_element_arms", f, &x, &dx);
            let (w, pullback) = guarded_element_arms_vjp(&x, i);
            assert_eq!(w.to_bits(), y.to_bits());
            let seeded = pullback(-1.25);
            for (k, (&g, &d)) in seeded.iter().zip(dx.iter()).enumerate() {
                close(&format!("guarded_element_arms vjp ∂{k}"), g, -1.25 * d, TOL);
            }
            let dir: Vec<f64> = common::data(4, 9.1 + seed as f64);
            let (v, t) = guarded_element_arms_jvp(&x, i, &dir);
            assert_eq!(v.to_bits(), y.to_bits());
            let want: f64 = dx.iter().zip(dir.iter()).map(|(a, b)| a * b).sum();
            close("guarded_element_arms tangent", t, want, TOL);
        }
    }
}

#[test]
fn elements_out_of_containers_and_destructuring() {
    let x = [0.3, -1.2, 2.0, 0.7];
    let (_, dx) = drain_stack_grad(&x);
    close_all(
        "drain_stack",
        &dx,
        &[2.0, 1.0, 0.5 + x[2].exp(), 0.25 + 2.0 * x[3]],
    );
    fd_vec("drain_stack", drain_stack, &x, &dx);
    let dir = vec![1.0, 0.5, -0.5, 2.0];
    let (_, t) = drain_stack_jvp(&x, &dir);
    close("drain_stack tangent", t, dx.inner(&dir), TOL);

    let (_, dx) = walk_by_get_grad(&x);
    let want: Vec<f64> = (0..4).map(|i| 2.0 * x[i] + x[i ^ 1]).collect();
    close_all("walk_by_get", &dx, &want);
    fd_vec("walk_by_get", walk_by_get, &x, &dx);

    let (_, dx) = destructured_grad(&x);
    let (p, t) = (x[0] * x[1] + x[2], x[2] + x[3]);
    close_all("destructured", &dx, &[x[1] * t, x[0] * t, t + p, p]);
    fd_vec("destructured", destructured, &x, &dx);
}

// ---------------------------------------------------------------------------------------------
// The lanes of a matrix: `for row in a.rows()`, `a.outer_iter()`, `a.axis_iter(Axis(1))`, with
// `enumerate`, over data and over a differentiated matrix.
// ---------------------------------------------------------------------------------------------

/// L = Σᵢ (⟨aᵢ, w⟩ − yᵢ)²: ∂w = Σᵢ 2(⟨aᵢ, w⟩ − yᵢ)·aᵢ.
#[differentiate(wrt(w))]
fn row_residuals(w: &Array1<f64>, a: &Array2<f64>, y: &Array1<f64>) -> f64 {
    let mut s = 0.0;
    for (i, row) in a.rows().into_iter().enumerate() {
        s += (row.dot(w) - y[i]).powi(2);
    }
    s
}

/// C = Σⱼ (j + 1)·Σᵢ mᵢⱼ + Σ_rows Σ m²: ∂mᵢⱼ = (j + 1) + 2mᵢⱼ.
#[differentiate]
fn lane_sums(m: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for (j, col) in m.axis_iter(ndarray::Axis(1)).enumerate() {
        s += col.sum() * (j as f64 + 1.0);
    }
    for r in m.outer_iter() {
        s += r.mapv(|v| v * v).sum();
    }
    s
}

#[test]
fn lanes_of_a_matrix() {
    let a = array![[1.0, 2.0, 0.5], [0.3, -0.7, 1.1]];
    let (y, w) = (array![0.5, -1.0], array![0.2, -0.4, 0.9]);
    let (_, dw) = row_residuals_grad(&w, &a, &y);
    let mut want = Array1::zeros(3);
    for (i, row) in a.rows().into_iter().enumerate() {
        want = want + &row * (2.0 * (row.dot(&w) - y[i]));
    }
    close_all("∂w", dw.as_slice().unwrap(), want.as_slice().unwrap());
    let r = gradcheck(|p: &Array1<f64>| row_residuals(p, &a, &y), &w, &dw);
    assert!(r.passed(), "row_residuals: {r}");

    let (_, dm) = lane_sums_grad(&a);
    let want = Array2::from_shape_fn((2, 3), |(i, j)| (j + 1) as f64 + 2.0 * a[[i, j]]);
    close_all("∂m", dm.as_slice().unwrap(), want.as_slice().unwrap());
    let (_, t) = lane_sums_jvp(&a, &Array2::ones((2, 3)));
    close("lane_sums tangent", t, want.sum(), TOL);
}

// ---------------------------------------------------------------------------------------------
// Generic code over `T: Float`: a float method of the type parameter by its path (`T::max` given
// to `fold`, `T::exp(x)`), and a stack of `T`s drained by `while let Some(v) = st.pop()`.
// ---------------------------------------------------------------------------------------------

/// log Σ exp(xᵢ) with the maximum taken out: ∂xᵢ = softmax(x)ᵢ.
#[differentiate]
fn generic_lse<T: num_traits::Float>(x: &[T]) -> T {
    let m = x.iter().cloned().fold(T::neg_infinity(), T::max);
    m + x
        .iter()
        .map(|&v| T::exp(v - m))
        .fold(T::zero(), |a, b| a + b)
        .ln()
}

/// Popping x₃, x₂, x₁, x₀ into s ← s/2 + v²: s = x₀² + x₁²/2 + x₂²/4 + x₃²/8,
/// ∂ = (2x₀, x₁, x₂/2, x₃/4).
#[differentiate]
fn generic_drain<T: num_traits::Float>(x: &[T]) -> T {
    let mut st: Vec<T> = x.to_vec();
    let mut s = T::zero();
    while let Some(v) = st.pop() {
        s = s * T::from(0.5).unwrap() + v * v;
    }
    s
}

#[test]
fn generic_float_paths_and_stacks() {
    let x = [0.3f64, -1.2, 2.0, 0.7];
    let (_, dx) = generic_lse_grad(&x);
    let z: f64 = x.iter().map(|v| v.exp()).sum();
    let want: Vec<f64> = x.iter().map(|v| v.exp() / z).collect();
    close_all("generic_lse", &dx, &want);
    fd_vec("generic_lse", generic_lse, &x, &dx);
    let (_, d32) = generic_lse_grad(&[0.3f32, -1.2, 2.0, 0.7]);
    for (a, e) in d32.iter().zip(&want) {
        close("generic_lse f32", f64::from(*a), *e, 1e-6);
    }

    let (_, dx) = generic_drain_grad(&x);
    close_all(
        "generic_drain",
        &dx,
        &[2.0 * x[0], x[1], x[2] / 2.0, x[3] / 4.0],
    );
    fd_vec("generic_drain", generic_drain, &x, &dx);
    let dir = vec![1.0, -1.0, 0.5, 2.0];
    let (_, t) = generic_drain_jvp(&x, &dir);
    close("generic_drain tangent", t, dx.inner(&dir), TOL);
}

#[derive(Clone, Differentiable)]
struct Weights {
    w: Vec<f64>,
    b: f64,
}

impl Weights {
    /// w₀·w₋₁ + b through `if let Some(&f) = self.w.first()`: ∂w₀ = w₋₁, ∂w₋₁ = w₀, ∂b = 1.
    #[differentiate]
    fn ends(&self) -> f64 {
        let l = *self.w.last().unwrap();
        if let Some(&f) = self.w.first() {
            l * f + self.b
        } else {
            self.b
        }
    }
}

#[test]
fn an_element_of_a_field_out_of_if_let() {
    let m = Weights {
        w: vec![0.5, -0.3, 1.2],
        b: 0.1,
    };
    let (y, g) = m.ends_grad();
    close("ends", y, 0.5 * 1.2 + 0.1, TOL);
    close_all("∂ends", &autodiff::to_flat(&g), &[1.2, 0.0, 0.5, 1.0]);
    let r = gradcheck(|p: &Weights| p.ends(), &m, &g);
    assert!(r.passed(), "ends: {r}");
}

/// Parameters whose tangents would be named by keywords (`do` for `o`, `dyn` for `yn`):
/// f = x·o + yn·o, ∂x = o, ∂o = x + yn, ∂yn = o.
#[differentiate]
fn keyword_tangents(x: f64, o: f64, yn: f64) -> f64 {
    x * o + yn * o
}

#[test]
fn tangents_of_parameters_named_like_keywords() {
    let (x, o, yn) = (0.3, -1.2, 2.0);
    let (_, (dx, d_o, dyn_)) = keyword_tangents_grad(x, o, yn);
    close_all("keyword_tangents", &[dx, d_o, dyn_], &[o, x + yn, o]);
    let (_, t) = keyword_tangents_jvp(x, o, yn, 1.0, 0.5, -1.0);
    close("keyword_tangents tangent", t, o + 0.5 * (x + yn) - o, TOL);
    fd_vec(
        "keyword_tangents",
        |p| keyword_tangents(p[0], p[1], p[2]),
        &[x, o, yn],
        &[dx, d_o, dyn_],
    );
}

/// A parameter named like the generated name of another's first version (`x` and `x_0`, a
/// position and its rest length): E = ½k(x − x₀)², ∂x = k(x − x₀), ∂x₀ = −k(x − x₀),
/// ∂k = ½(x − x₀)². The value and the gradient were those of x₀ = x.
#[differentiate]
fn spring_from_rest(x: f64, x_0: f64, k: f64) -> f64 {
    let d = x - x_0;
    0.5 * k * d * d
}

#[test]
fn parameters_named_like_generated_versions() {
    let (x, x_0, k) = (1.5, 0.5, 2.0);
    let (e, (dx, dx0, dk)) = spring_from_rest_grad(x, x_0, k);
    close("energy", e, 1.0, TOL);
    close_all("∂spring", &[dx, dx0, dk], &[2.0, -2.0, 0.5]);
    let (e, t) = spring_from_rest_jvp(x, x_0, k, 1.0, 0.0, 0.0);
    close_all("spring tangent", &[e, t], &[1.0, 2.0]);
    fd_vec(
        "spring_from_rest",
        |p| spring_from_rest(p[0], p[1], p[2]),
        &[x, x_0, k],
        &[dx, dx0, dk],
    );
}
