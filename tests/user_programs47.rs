//! Small value types of geometry written with operator impls: a 2×2 matrix applied to a
//! 2-vector by `impl Mul<V2> for M2 { type Output = V2; .. }` (a product of two structs of
//! different types, whose result is the vector, also where it is not bound with its type and
//! where one of the vector's methods is called on it), and the items of loops and folds over
//! containers of a 3-vector written `*v` where the pattern borrows an element (`for v in
//! vs.iter()`, `(p, v)` of `ps.iter_mut().zip(vs.iter())`, `(i, p)` of `.iter().enumerate()`),
//! whose operators are the vector's.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

use autodiff::check::{gradcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};
use std::ops::{Add, Mul, Neg, Sub};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// A matrix times a vector.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Copy, Debug, Default, Differentiable)]
pub struct M2 {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

#[differentiate]
impl Mul<V2> for M2 {
    type Output = V2;
    fn mul(self, v: V2) -> V2 {
        V2 {
            x: self.a * v.x + self.b * v.y,
            y: self.c * v.x + self.d * v.y,
        }
    }
}

#[differentiate]
impl Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        V2 {
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }
}

#[differentiate]
impl Mul<f64> for V2 {
    type Output = V2;
    fn mul(self, k: f64) -> V2 {
        V2 {
            x: self.x * k,
            y: self.y * k,
        }
    }
}

#[differentiate]
impl V2 {
    pub fn new(x: f64, y: f64) -> V2 {
        V2 { x, y }
    }
    pub fn dot(self, o: V2) -> f64 {
        self.x * o.x + self.y * o.y
    }
    pub fn perp(self) -> V2 {
        V2 {
            x: -self.y,
            y: self.x,
        }
    }
}

#[differentiate]
impl M2 {
    pub fn det(&self) -> f64 {
        self.a * self.d - self.b * self.c
    }
}

/// `M = [[a, b], [1/2, d]]`, `v = (1, b)`, `w = Mv = (a + b², 1/2 + db)`; with `u = perp(Mw)`,
/// `u.x = −(w.x/2 + d·w.y)`: `f = w·v + det M + u.x + |w + v|²` (the last through `V2`'s `+`).
#[differentiate]
fn matrix_times_vector(x: &[f64]) -> f64 {
    let m = M2 {
        a: x[0],
        b: x[1],
        c: 0.5,
        d: x[2],
    };
    let v = V2::new(1.0, x[1]);
    let w = m * v;
    let u = (m * w).perp();
    let s = w + v;
    w.dot(v) + m.det() + u.x + s.dot(s)
}

#[test]
fn a_matrix_times_a_vector_is_the_vector() {
    let x = vec![0.3, -0.7, 1.1];
    let (v, g) = matrix_times_vector_grad(&x);
    assert_eq!(v, matrix_times_vector(&x));
    let (a, b, d) = (x[0], x[1], x[2]);
    let (wx, wy) = (a + b * b, 0.5 + d * b);
    let (sx, sy) = (wx + 1.0, wy + b);
    // ∂w.x = (1, 2b, 0), ∂w.y = (0, d, b).
    let dwx = [1.0, 2.0 * b, 0.0];
    let dwy = [0.0, d, b];
    let ddet = [d, -0.5, a];
    // w·v = w.x + b·w.y; u.x = −w.x/2 − d·w.y; |s|² with s = (w.x + 1, w.y + b).
    let expected: Vec<f64> = (0..3)
        .map(|k| {
            let db = if k == 1 { 1.0 } else { 0.0 };
            let dd = if k == 2 { 1.0 } else { 0.0 };
            let dot = dwx[k] + db * wy + b * dwy[k];
            let ux = -0.5 * dwx[k] - dd * wy - d * dwy[k];
            let s2 = 2.0 * sx * dwx[k] + 2.0 * sy * (dwy[k] + db);
            dot + ddet[k] + ux + s2
        })
        .collect();
    close(
        "f",
        v,
        wx + b * wy + (a * d - 0.5 * b) - (0.5 * wx + d * wy) + sx * sx + sy * sy,
        TOL,
    );
    close_all("∇f", &g, &expected);
    fd_vec("matrix_times_vector", matrix_times_vector, &x, &g);
    let dx = vec![0.3, -0.2, 0.5];
    let (_, t) = matrix_times_vector_jvp(&x, &dx);
    jvpcheck(|p: &Vec<f64>| matrix_times_vector(p), &x, &dx, &t).assert_ok();
}

// ---------------------------------------------------------------------------------------------
// `*v` of an item borrowing an element.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, Differentiable)]
pub struct V3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

#[differentiate]
impl Add for V3 {
    type Output = V3;
    fn add(self, o: V3) -> V3 {
        V3 {
            x: self.x + o.x,
            y: self.y + o.y,
            z: self.z + o.z,
        }
    }
}

#[differentiate]
impl Sub for V3 {
    type Output = V3;
    fn sub(self, o: V3) -> V3 {
        V3 {
            x: self.x - o.x,
            y: self.y - o.y,
            z: self.z - o.z,
        }
    }
}

#[differentiate]
impl Mul<f64> for V3 {
    type Output = V3;
    fn mul(self, k: f64) -> V3 {
        V3 {
            x: self.x * k,
            y: self.y * k,
            z: self.z * k,
        }
    }
}

#[differentiate]
impl Neg for V3 {
    type Output = V3;
    fn neg(self) -> V3 {
        V3 {
            x: -self.x,
            y: -self.y,
            z: -self.z,
        }
    }
}

#[differentiate]
impl V3 {
    pub const ZERO: V3 = V3 {
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };
    pub fn new(x: f64, y: f64, z: f64) -> V3 {
        V3 { x, y, z }
    }
    pub fn dot(&self, o: &V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    pub fn norm(&self) -> f64 {
        self.dot(self).sqrt()
    }
}

/// `a = (x₀, x₁, x₂)`, `b = (x₂, x₀, x₁)`: the loops make `acc = 2(a + b) + (a + b) = 3s`
/// with `s = a + b = (x₀ + x₂, x₀ + x₁, x₁ + x₂)`, `f = 9|s|²`, `∂f/∂x₀ = 18(s₀ + s₁)`,
/// `∂f/∂x₁ = 18(s₁ + s₂)`, `∂f/∂x₂ = 18(s₀ + s₂)`.
#[differentiate]
fn sum_of_borrowed_items(x: &[f64]) -> f64 {
    let vs = vec![V3::new(x[0], x[1], x[2]), V3::new(x[2], x[0], x[1])];
    let mut acc = V3::ZERO;
    for v in vs.iter() {
        acc = acc + *v * 2.0;
    }
    for v in &vs {
        acc = acc - -*v;
    }
    acc.dot(&acc)
}

#[test]
fn the_items_of_a_loop_over_a_vec_of_the_struct_are_the_struct() {
    let x = vec![0.3, -0.7, 1.1];
    let (v, g) = sum_of_borrowed_items_grad(&x);
    assert_eq!(v, sum_of_borrowed_items(&x));
    let s = [x[0] + x[2], x[0] + x[1], x[1] + x[2]];
    close("f", v, 9.0 * (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]), TOL);
    close_all(
        "∇f",
        &g,
        &[
            18.0 * (s[0] + s[1]),
            18.0 * (s[1] + s[2]),
            18.0 * (s[0] + s[2]),
        ],
    );
    fd_vec("sum_of_borrowed_items", sum_of_borrowed_items, &x, &g);
}

/// Each of `p = (x₀, x₁, x₂)`, `q = (x₂, x₀, x₁)` drifts three steps by its velocity
/// `u = (1, x₀, 0)`, `w = (x₁, 0, 2)` times 0.1: `p′ = p + 0.3u`, `q′ = q + 0.3w`, and
/// `f = p′·q′`.
#[differentiate]
fn zipped_drift(x: &[f64]) -> f64 {
    let mut ps = vec![V3::new(x[0], x[1], x[2]), V3::new(x[2], x[0], x[1])];
    let vs = vec![V3::new(1.0, x[0], 0.0), V3::new(x[1], 0.0, 2.0)];
    for _ in 0..3 {
        for (p, v) in ps.iter_mut().zip(vs.iter()) {
            *p = *p + *v * 0.1;
        }
    }
    ps[0].dot(&ps[1])
}

#[test]
fn the_borrowed_half_of_a_zipped_item_is_the_struct() {
    let x = vec![0.3, -0.7, 1.1];
    let (v, g) = zipped_drift_grad(&x);
    assert_eq!(v, zipped_drift(&x));
    let h = 0.1 * 3.0;
    let p = [x[0] + h, x[1] + h * x[0], x[2]];
    let q = [x[2] + h * x[1], x[0], x[1] + h * 2.0];
    // ∂p/∂x: p₀ = x₀ + h, p₁ = x₁ + h·x₀, p₂ = x₂; ∂q: q₀ = x₂ + h·x₁, q₁ = x₀, q₂ = x₁ + 2h.
    let dp = [[1.0, 0.0, 0.0], [h, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let dq = [[0.0, h, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    let expected: Vec<f64> = (0..3)
        .map(|k| (0..3).map(|i| dp[i][k] * q[i] + p[i] * dq[i][k]).sum())
        .collect();
    close("f", v, (0..3).map(|i| p[i] * q[i]).sum(), TOL);
    close_all("∇f", &g, &expected);
    fd_vec("zipped_drift", zipped_drift, &x, &g);
}

/// `c = Σᵢ (i + 1)·kᵢ·pᵢ` over `(i, p)` of `ps.iter().enumerate()`, with `kᵢ = x₃`: `f = |c|²
/// = x₃²·|s|²`, `s = Σ (i + 1)·pᵢ`; `∂f/∂x₃ = 2x₃|s|²`, `∂f/∂pᵢ = 2x₃²(i + 1)s`.
#[differentiate]
fn enumerated_weights(ps: &[V3], k: f64) -> f64 {
    let c = ps
        .iter()
        .enumerate()
        .fold(V3::ZERO, |acc, (i, p)| acc + *p * (k * (i as f64 + 1.0)));
    c.dot(&c)
}

#[test]
fn the_item_of_an_enumerated_fold_is_the_struct() {
    let ps = vec![V3::new(0.3, -0.5, 0.9), V3::new(1.0, 0.2, -0.4)];
    let k = 0.8;
    let (v, (gp, gk)) = enumerated_weights_grad(&ps, k);
    assert_eq!(v, enumerated_weights(&ps, k));
    let s = [0.3 + 2.0, -0.5 + 0.4, 0.9 - 0.8];
    let s2: f64 = s.iter().map(|c| c * c).sum();
    close("f", v, k * k * s2, TOL);
    close("∂f/∂k", gk, 2.0 * k * s2, TOL);
    for (i, g) in gp.iter().enumerate() {
        let w = 2.0 * k * k * (i as f64 + 1.0);
        close_all("∂f/∂pᵢ", &[g.x, g.y, g.z], &[w * s[0], w * s[1], w * s[2]]);
    }
    let f = |x: &Vec<f64>| {
        let qs = [V3::new(x[0], x[1], x[2]), V3::new(x[3], x[4], x[5])];
        enumerated_weights(&qs, x[6])
    };
    let x = vec![0.3, -0.5, 0.9, 1.0, 0.2, -0.4, k];
    let gx = vec![gp[0].x, gp[0].y, gp[0].z, gp[1].x, gp[1].y, gp[1].z, gk];
    gradcheck(f, &x, &gx).assert_ok();
}

/// The spread of points about their centroid, `Σ |pᵢ − c|²` with `c` their mean, through a
/// closure's `*p` over a `Vec` the closure's parameter borrows from: for `pᵢ = (xᵢ, 2xᵢ, 1)`,
/// `f = 5·Σ (xᵢ − x̄)²`, `∂f/∂xᵢ = 10(xᵢ − x̄)`.
#[differentiate]
fn spread(x: &[f64]) -> f64 {
    let ps: Vec<V3> = x.iter().map(|&t| V3::new(t, 2.0 * t, 1.0)).collect();
    let c = ps.iter().fold(V3::ZERO, |a, &p| a + p) * (1.0 / x.len() as f64);
    ps.iter().map(|p| (*p - c).dot(&(*p - c))).sum::<f64>()
}

#[test]
fn the_item_of_a_closure_over_a_collected_vec_is_the_struct() {
    let x = vec![0.3, -0.7, 1.1, 0.4];
    let (v, g) = spread_grad(&x);
    assert_eq!(v, spread(&x));
    let m = x.iter().sum::<f64>() / 4.0;
    close(
        "f",
        v,
        5.0 * x.iter().map(|t| (t - m) * (t - m)).sum::<f64>(),
        TOL,
    );
    let expected: Vec<f64> = x.iter().map(|t| 10.0 * (t - m)).collect();
    close_all("∇f", &g, &expected);
    fd_vec("spread", spread, &x, &g);
}

// ---------------------------------------------------------------------------------------------
// A local holding what an operator returned, a field of it assigned.
// ---------------------------------------------------------------------------------------------

/// `a = (x₀, x₁, x₂)`, `b = a·(1 − x₁)` with `b.z = x₀`: `f = b·a + |b|` where, with `k = 1 −
/// x₁`, `b·a = k(x₀² + x₁²) + x₀x₂`, `|b| = √(k²(x₀² + x₁²) + x₀²)`.
#[differentiate]
fn field_written_then_methods(x: &[f64]) -> f64 {
    let a = V3::new(x[0], x[1], x[2]);
    let mut b = a - a * x[1];
    b.z = a.x;
    b.dot(&a) + b.norm()
}

#[test]
fn a_field_written_keeps_the_struct() {
    let x = vec![0.3, -0.7, 1.1];
    let (v, g) = field_written_then_methods_grad(&x);
    assert_eq!(v, field_written_then_methods(&x));
    let (x0, x1, x2) = (x[0], x[1], x[2]);
    let k = 1.0 - x1;
    let r2 = x0 * x0 + x1 * x1;
    let n = (k * k * r2 + x0 * x0).sqrt();
    close("f", v, k * r2 + x0 * x2 + n, TOL);
    // ∂(b·a) = (2kx₀ + x₂, −r2 + 2kx₁, x₀); ∂|b| = (k²x₀ + x₀, −k·r2 + k²x₁, 0)/|b|.
    let expected = [
        2.0 * k * x0 + x2 + (k * k * x0 + x0) / n,
        -r2 + 2.0 * k * x1 + (-k * r2 + k * k * x1) / n,
        x0,
    ];
    close_all("∇f", &g, &expected);
    fd_vec(
        "field_written_then_methods",
        field_written_then_methods,
        &x,
        &g,
    );
}

/// The same local changed field by field in a loop and in a branch: `b = 2a`, then for `i` in
/// `0..3` `b.x += xᵢ` and `b.z /= 2`, and where `x₀ > 0`, `b.y = 3x₂`: with `s = x₀ + x₁ +
/// x₂`, `b = (2x₀ + s, 3x₂, x₂/4)` and `f = b·a + |b|`.
#[differentiate]
fn field_written_in_a_loop_and_a_branch(x: &[f64]) -> f64 {
    let a = V3::new(x[0], x[1], x[2]);
    let mut b = a * 2.0;
    for i in 0..3 {
        b.x += x[i];
        b.z *= 0.5;
    }
    if x[0] > 0.0 {
        b.y = a.z * 3.0;
    }
    b.dot(&a) + b.norm()
}

#[test]
fn a_field_written_in_a_loop_or_a_branch_keeps_the_struct() {
    let x = vec![0.3, -0.7, 1.1];
    let (v, g) = field_written_in_a_loop_and_a_branch_grad(&x);
    assert_eq!(v, field_written_in_a_loop_and_a_branch(&x));
    let (x0, x1, x2) = (x[0], x[1], x[2]);
    let b = [3.0 * x0 + x1 + x2, 3.0 * x2, 0.25 * x2];
    let n = (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]).sqrt();
    close("f", v, b[0] * x0 + b[1] * x1 + b[2] * x2 + n, TOL);
    // ∂b/∂x = [[3, 1, 1], [0, 0, 3], [0, 0, 1/4]]; ∂(b·a)/∂xₖ = Σ ∂bᵢ/∂xₖ·aᵢ + bₖ.
    let db = [[3.0, 1.0, 1.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.25]];
    let expected: Vec<f64> = (0..3)
        .map(|k| (0..3).map(|i| db[i][k] * (x[i] + b[i] / n)).sum::<f64>() + b[k])
        .collect();
    close_all("∇f", &g, &expected);
    fd_vec(
        "field_written_in_a_loop_and_a_branch",
        field_written_in_a_loop_and_a_branch,
        &x,
        &g,
    );
}
