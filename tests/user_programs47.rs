//! Small value types of geometry written with operator impls: a 2×2 matrix applied to a
//! 2-vector by `impl Mul<V2> for M2 { type Output = V2; .. }` (a product of two structs of
//! different types, whose result is the vector, also where it is not bound with its type and
//! where one of the vector's methods is called on it).
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

use autodiff::check::jvpcheck;
use autodiff::{Differentiable, differentiate};
use std::ops::{Add, Mul};

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
