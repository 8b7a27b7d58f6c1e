//! Programs that users wrote and that failed inside generated code, and now are an error that
//! says what to write, with the program written that way here:
//!
//! - a default method of a trait that the `#[differentiate] impl Shape for Rect` block does not
//!   write (`fn compactness(&self) -> f64` in `trait Shape`), called from a differentiated
//!   function: `#[differentiate]` on the trait is an error that names the default methods to
//!   write in the impl block (`tests/ui/users9_trait_definition.rs`); here they are written
//!   there, for one type and for two types implementing the trait, beside a type whose block
//!   has no `#[differentiate]` and keeps the trait's default;
//! - a `&mut self` method returning a value (`fn sample(&mut self) -> f64`) called on a
//!   struct built by a constructor given a float (`let mut n = Noise::new(sigma);`): an error at
//!   the method that says to take `mut self` and return `(Self, value)`, and at the call a note
//!   that says the same (`tests/ui/gaps13_mut_self_returns_value.rs`); here the method written
//!   so, called once, twice and in a loop, beside a `&mut self` method returning nothing.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; under `hessian`, `_jvp` and
//! `_hvp` too.

#![deny(warnings)]

use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. A trait's default method, written in the differentiated impl blocks.
// ---------------------------------------------------------------------------------------------

trait Shape {
    fn area(&self) -> f64;
    fn perimeter(&self) -> f64;
    /// Area over the perimeter squared.
    fn compactness(&self) -> f64 {
        self.area() / self.perimeter().powi(2)
    }
}

#[derive(Clone, Differentiable)]
struct Rect {
    w: f64,
    h: f64,
}

#[differentiate(hessian)]
impl Shape for Rect {
    fn area(&self) -> f64 {
        self.w * self.h
    }
    fn perimeter(&self) -> f64 {
        2.0 * (self.w + self.h)
    }
    // The trait's default, written here so that it is differentiated.
    fn compactness(&self) -> f64 {
        self.area() / self.perimeter().powi(2)
    }
}

#[derive(Clone, Differentiable)]
struct Circle {
    r: f64,
}

#[differentiate(hessian)]
impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * self.r * self.r
    }
    fn perimeter(&self) -> f64 {
        2.0 * std::f64::consts::PI * self.r
    }
    fn compactness(&self) -> f64 {
        self.area() / self.perimeter().powi(2)
    }
}

/// A type that keeps the trait's default and is not differentiated.
struct Square(f64);

impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
    fn perimeter(&self) -> f64 {
        4.0 * self.0
    }
}

/// A rectangle x by 2: compactness c(x) = 2x / (2(x + 2))² = x / (2(x + 2)²);
/// c'(x) = (2 − x) / (2(x + 2)³), c''(x) = (x − 4) / (x + 2)⁴.
#[differentiate(hessian)]
fn rect_compactness(x: f64) -> f64 {
    let r = Rect { w: x, h: 2.0 };
    r.compactness()
}

/// Rectangle x by x plus a circle of radius x: 1/16 + 1/(4π), a constant: derivative 0; and
/// its area x² + π·x² besides, so f = x²(1 + π) + 1/16 + 1/(4π): f' = 2x(1 + π), f'' = 2(1 + π).
#[differentiate(hessian)]
fn two_shapes(x: f64) -> f64 {
    let r = Rect { w: x, h: x };
    let c = Circle { r: x };
    r.compactness() + c.compactness() + r.area() + c.area()
}

/// On a parameter: c(w, h) = wh / (2(w + h))²; ∂c/∂w = h(h − w) / (4(w + h)³),
/// ∂c/∂h = w(w − h) / (4(w + h)³).
#[differentiate]
fn param_compactness(r: &Rect) -> f64 {
    r.compactness()
}

#[test]
fn default_method_written_in_the_impl_block() {
    for &x in &[0.5f64, 1.0, 3.0] {
        let d1 = (2.0 - x) / (2.0 * (x + 2.0).powi(3));
        let d2 = (x - 4.0) / (x + 2.0).powi(4);
        let (y, g) = rect_compactness_grad(x);
        close("compactness", y, x / (2.0 * (x + 2.0).powi(2)), TOL);
        close("compactness: grad", g, d1, TOL);
        fd("compactness", rect_compactness, x, g);
        let (_, g2, hv) = rect_compactness_hvp(x, 0.5);
        close("compactness: hvp's gradient", g2, d1, TOL);
        close("compactness: hvp", hv, 0.5 * d2, TOL);
        let (_, t) = rect_compactness_jvp(x, 0.5);
        close("compactness: jvp", t, 0.5 * d1, TOL);
        forward("compactness").one(
            x,
            rect_compactness,
            rect_compactness_jvp,
            rect_compactness_vjp,
        );

        let pi = std::f64::consts::PI;
        let (y, g) = two_shapes_grad(x);
        close(
            "two shapes",
            y,
            x * x * (1.0 + pi) + 1.0 / 16.0 + 1.0 / (4.0 * pi),
            TOL,
        );
        close("two shapes: grad", g, 2.0 * x * (1.0 + pi), TOL);
        fd("two shapes", two_shapes, x, g);
        let (_, _, hv) = two_shapes_hvp(x, 2.0);
        close("two shapes: hvp", hv, 2.0 * 2.0 * (1.0 + pi), TOL);
        let (_, t) = two_shapes_jvp(x, 2.0);
        close("two shapes: jvp", t, 2.0 * 2.0 * x * (1.0 + pi), TOL);
        forward("two shapes").one(x, two_shapes, two_shapes_jvp, two_shapes_vjp);
    }
    for &(w, h) in &[(1.0f64, 2.0f64), (3.0, 0.5)] {
        let r = Rect { w, h };
        let (y, g) = param_compactness_grad(&r);
        let s3 = 4.0 * (w + h).powi(3);
        close("param compactness", y, w * h / (4.0 * (w + h).powi(2)), TOL);
        close("param compactness: ∂w", g.w, h * (h - w) / s3, TOL);
        close("param compactness: ∂h", g.h, w * (w - h) / s3, TOL);
        fd2(
            "param compactness",
            |w, h| param_compactness(&Rect { w, h }),
            (w, h),
            (g.w, g.h),
        );
    }
    // The trait's default where the block does not write it, as before.
    let sq = Square(2.0);
    close("square's default", sq.compactness(), 4.0 / 64.0, TOL);
}

// ---------------------------------------------------------------------------------------------
// 2. A `&mut self` method returning a value, written as one taking `mut self` and returning
//    the new state with the value.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Noise {
    sigma: f64,
    phase: f64,
}

#[differentiate(hessian)]
impl Noise {
    fn new(sigma: f64) -> Self {
        Noise { sigma, phase: 0.3 }
    }
    /// σ·sin(phase), and the phase advances by 1.
    fn sample(mut self) -> (Self, f64) {
        let s = self.sigma * self.phase.sin();
        self.phase += 1.0;
        (self, s)
    }
    /// A `&mut self` method returning nothing: the noise grows by a factor.
    fn louder(&mut self, k: f64) {
        self.sigma *= k;
    }
}

/// a = σ·sin 0.3, b = σ·sin 1.3: f = a² + b = σ²·sin²0.3 + σ·sin 1.3;
/// f' = 2σ·sin²0.3 + sin 1.3, f'' = 2·sin²0.3.
#[differentiate(hessian)]
fn noisy(sigma: f64) -> f64 {
    let mut n = Noise::new(sigma);
    let (next, a) = n.sample();
    n = next;
    let (_, b) = n.sample();
    a * a + b
}

/// f = Σ_{k<3} (σ·sin(0.3 + k))² = σ²·C with C = Σ_k sin²(0.3 + k): f' = 2σC, f'' = 2C.
#[differentiate(hessian)]
fn noisy_loop(sigma: f64) -> f64 {
    let mut n = Noise::new(sigma);
    let mut total = 0.0;
    for _ in 0..3 {
        let (next, a) = n.sample();
        n = next;
        total += a * a;
    }
    total
}

/// With a `&mut self` step between the draws: a = σ·sin 0.3, then σ becomes σ·k, b = σk·sin 1.3:
/// f = a·b = σ²·k·sin 0.3·sin 1.3; ∂f/∂σ = 2σk·s, ∂f/∂k = σ²·s with s = sin 0.3·sin 1.3.
#[differentiate]
fn noisy_louder(sigma: f64, k: f64) -> f64 {
    let mut n = Noise::new(sigma);
    let (next, a) = n.sample();
    n = next;
    n.louder(k);
    let (next, b) = n.sample();
    n = next;
    a * b + 0.0 * n.phase
}

#[test]
fn mut_self_method_returning_a_value_written_by_value() {
    let (s3, s13) = (0.3f64.sin(), 1.3f64.sin());
    let c: f64 = (0..3).map(|k| (0.3 + k as f64).sin().powi(2)).sum();
    for &s in &[0.5f64, 1.7, -2.0] {
        let d1 = 2.0 * s * s3 * s3 + s13;
        let (y, g) = noisy_grad(s);
        close("noise", y, s * s * s3 * s3 + s * s13, TOL);
        close("noise: grad", g, d1, TOL);
        fd("noise", noisy, s, g);
        let (_, _, hv) = noisy_hvp(s, 0.5);
        close("noise: hvp", hv, 0.5 * 2.0 * s3 * s3, TOL);
        let (_, t) = noisy_jvp(s, 0.5);
        close("noise: jvp", t, 0.5 * d1, TOL);
        forward("noise").one(s, noisy, noisy_jvp, noisy_vjp);

        let (y, g) = noisy_loop_grad(s);
        close("noise loop", y, s * s * c, TOL);
        close("noise loop: grad", g, 2.0 * s * c, TOL);
        fd("noise loop", noisy_loop, s, g);
        let (_, _, hv) = noisy_loop_hvp(s, 1.5);
        close("noise loop: hvp", hv, 1.5 * 2.0 * c, TOL);
        let (_, t) = noisy_loop_jvp(s, 1.5);
        close("noise loop: jvp", t, 1.5 * 2.0 * s * c, TOL);
        forward("noise loop").one(s, noisy_loop, noisy_loop_jvp, noisy_loop_vjp);

        let k = 1.3;
        let (y, (gs, gk)) = noisy_louder_grad(s, k);
        close("louder", y, s * s * k * s3 * s13, TOL);
        close("louder: ∂σ", gs, 2.0 * s * k * s3 * s13, TOL);
        close("louder: ∂k", gk, s * s * s3 * s13, TOL);
        fd2("louder", noisy_louder, (s, k), (gs, gk));
    }
}
