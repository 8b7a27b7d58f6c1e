//! Programs that users wrote and that were rejected, or failed inside generated code, and now
//! work: a random-number generator made by a constructor of data (`Lcg::new(7)`,
//! `Rng::seeded(seed)`, `Lcg::default()`) whose `&mut self` methods draw constants for the
//! differentiated computation.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; under `hessian`, `_jvp` and
//! `_hvp` too.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::{Differentiable, differentiate};
use num_traits::Float;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. A generator made by a constructor given data only: its methods run as written, and the
//    floats they return are constants.
// ---------------------------------------------------------------------------------------------

/// A linear congruential generator (Knuth's MMIX constants).
#[derive(Clone)]
struct Lcg {
    state: u64,
}

impl Lcg {
    fn new(seed: u64) -> Self {
        Lcg { state: seed }
    }

    /// A float in [0, 1).
    fn next_f64(&mut self) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uniform(&mut self) -> f32 {
        self.next_f64() as f32
    }

    /// A float in [lo, hi).
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// An index below `n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize
    }
}

impl Default for Lcg {
    fn default() -> Self {
        Lcg::new(42)
    }
}

/// A generator with another constructor's name and a tuple struct's fields.
struct Rng(u64, u32);

impl Rng {
    fn seeded(s: u64) -> Self {
        Rng(s, 0)
    }

    fn uniform(&mut self) -> f64 {
        self.1 += 1;
        self.0 = self
            .0
            .wrapping_mul(2862933555777941757)
            .wrapping_add(3037000493);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The first `n` draws of `Lcg::new(seed)`.
fn lcg_draws(seed: u64, n: usize) -> Vec<f64> {
    let mut r = Lcg::new(seed);
    (0..n).map(|_| r.next_f64()).collect()
}

/// y = Σₖ sin(x·uₖ) over n draws uₖ: dy/dx = Σ uₖ cos(x·uₖ), d²y/dx² = −Σ uₖ² sin(x·uₖ).
#[differentiate(hessian)]
fn noisy_sines(x: f64, n: usize) -> f64 {
    let mut rng = Lcg::new(7);
    let mut y = 0.0;
    for _ in 0..n {
        y += (x * rng.next_f64()).sin();
    }
    y
}

#[test]
fn generator_from_new_of_a_literal_in_a_loop() {
    let u = lcg_draws(7, 6);
    for x in [0.4, -1.7, 2.3] {
        let (y, d) = noisy_sines_grad(x, 6);
        assert_eq!(y, noisy_sines(x, 6));
        let dy: f64 = u.iter().map(|u| u * (x * u).cos()).sum();
        let d2y: f64 = -u.iter().map(|u| u * u * (x * u).sin()).sum::<f64>();
        close("noisy sines", d, dy, TOL);
        fd("noisy sines", |x| noisy_sines(x, 6), x, d);
        let (_, g, hv) = noisy_sines_hvp(x, 6, 1.5);
        close("noisy sines: hvp's gradient", g, dy, TOL);
        close("noisy sines: H·v", hv, 1.5 * d2y, 1e-12);
        let (_, t) = noisy_sines_jvp(x, 6, 0.5);
        close("noisy sines: jvp", t, 0.5 * dy, TOL);
        let pairs = forward("noisy sines").one(
            x,
            |x| noisy_sines(x, 6),
            |x, v| noisy_sines_jvp(x, 6, v),
            |x| noisy_sines_vjp(x, 6),
        );
        tangents_are("noisy sines", &pairs, dy, 1e-12);
    }
}

/// A generator per iteration, seeded from an integer parameter and the loop's index:
/// y = Σₖ x²·uₖ with uₖ the first draw of `Lcg::new(seed + 3k)`; dy/dx = 2x Σ uₖ.
#[differentiate]
fn reseeded_each_step(x: f64, seed: u64, n: usize) -> f64 {
    let mut y = 0.0;
    for k in 0..n {
        let mut rng = Lcg::new(seed + 3 * k as u64);
        let u = rng.next_f64();
        y += x * x * u;
    }
    y
}

#[test]
fn generator_seeded_from_integer_variables() {
    let s: f64 = (0..4).map(|k| lcg_draws(11 + 3 * k, 1)[0]).sum();
    for x in [0.3, -2.1] {
        let (y, d) = reseeded_each_step_grad(x, 11, 4);
        assert_eq!(y, reseeded_each_step(x, 11, 4));
        close("reseeded", d, 2.0 * x * s, TOL);
        fd("reseeded", |x| reseeded_each_step(x, 11, 4), x, d);
    }
}

/// `Lcg::default()`, a draw between two literals (`between(-1.0, 1.0)`), an index drawn by
/// `below(n)` of an integer parameter, and a test on a draw (dropout): y = a·x + b·x² + w·x³
/// with a, b, w drawn (constants): dy/dx = a + 2b·x + 3w·x², d²y/dx² = 2b + 6w·x.
#[differentiate(hessian)]
fn dropout_like(x: f64, n: usize) -> f64 {
    let mut rng = Lcg::default();
    let a = rng.between(-1.0, 1.0);
    let k = rng.below(n);
    let b = if rng.next_f64() < 0.5 { 0.0 } else { k as f64 };
    let w: f64 = rng.next_f64();
    a * x + b * x * x + w * x * x * x
}

#[test]
fn generator_from_default_with_data_arguments() {
    let mut r = Lcg::default();
    let a = r.between(-1.0, 1.0);
    let k = r.below(5);
    let b = if r.next_f64() < 0.5 { 0.0 } else { k as f64 };
    let w = r.next_f64();
    for x in [0.8, -0.6] {
        let (y, d) = dropout_like_grad(x, 5);
        assert_eq!(y, dropout_like(x, 5));
        close("dropout-like", y, a * x + b * x * x + w * x * x * x, TOL);
        let dy = a + 2.0 * b * x + 3.0 * w * x * x;
        close("dropout-like", d, dy, TOL);
        fd("dropout-like", |x| dropout_like(x, 5), x, d);
        let (_, _, hv) = dropout_like_hvp(x, 5, 1.0);
        close("dropout-like: H·v", hv, 2.0 * b + 6.0 * w * x, 1e-12);
        let pairs = forward("dropout-like").one(
            x,
            |x| dropout_like(x, 5),
            |x, v| dropout_like_jvp(x, 5, v),
            |x| dropout_like_vjp(x, 5),
        );
        tangents_are("dropout-like", &pairs, dy, 1e-12);
    }
}

/// `Rng::seeded(3)` (a constructor not named `new`), declared with its type, and reseeded by
/// an assignment: y = eˣ·u₁ + x·v₁, u₁ the first draw of seed 3 and v₁ of seed 9;
/// dy/dx = eˣ·u₁ + v₁.
#[differentiate(hessian)]
fn seeded_then_reseeded(x: f64) -> f64 {
    let mut rng: Rng = Rng::seeded(3);
    let u = rng.uniform();
    rng = Rng::seeded(9);
    x.exp() * u + x * rng.uniform()
}

#[test]
fn generator_with_another_constructor_name_reseeded() {
    let u = Rng::seeded(3).uniform();
    let v = Rng::seeded(9).uniform();
    for x in [0.2, -1.1] {
        let (y, d) = seeded_then_reseeded_grad(x);
        assert_eq!(y, seeded_then_reseeded(x));
        let dy = x.exp() * u + v;
        close("reseeded generator", d, dy, TOL);
        fd("reseeded generator", seeded_then_reseeded, x, d);
        let (_, _, hv) = seeded_then_reseeded_hvp(x, 2.0);
        close("reseeded generator: H·v", hv, 2.0 * x.exp() * u, 1e-12);
        let pairs = forward("reseeded generator").one(
            x,
            seeded_then_reseeded,
            seeded_then_reseeded_jvp,
            seeded_then_reseeded_vjp,
        );
        tangents_are("reseeded generator", &pairs, dy, 1e-12);
    }
}

/// In `f32`: y = Σₖ uₖ·x² over three draws of `uniform() -> f32`; dy/dx = 2x Σ uₖ.
#[differentiate]
fn noisy_square32(x: f32) -> f32 {
    let mut rng = Lcg::new(5);
    let mut y = 0.0f32;
    for _ in 0..3 {
        y += rng.uniform() * x * x;
    }
    y
}

#[test]
fn generator_in_f32() {
    let mut r = Lcg::new(5);
    let s: f32 = (0..3).map(|_| r.uniform()).sum();
    for x in [0.7f32, -1.2] {
        let (y, d) = noisy_square32_grad(x);
        assert_eq!(y, noisy_square32(x));
        close("noisy square (f32)", d as f64, (2.0 * x * s) as f64, 1e-6);
        fd32("noisy square (f32)", noisy_square32, x, d);
    }
}

/// Over a generic float: y = Σᵢ wᵢ·xᵢ² with wᵢ = F::from(uᵢ); ∂y/∂xᵢ = 2wᵢxᵢ.
#[differentiate(hessian)]
fn weighted_squares<F: Float>(x: &[F]) -> F {
    let mut rng = Lcg::new(13);
    let mut y = F::zero();
    for i in 0..x.len() {
        let w = F::from(rng.next_f64()).unwrap();
        y = y + w * x[i] * x[i];
    }
    y
}

#[test]
fn generator_in_a_generic_function() {
    let x = vec![0.5, -1.5, 2.0];
    let u = lcg_draws(13, 3);
    let (y, g) = weighted_squares_grad(&x);
    assert_eq!(y, weighted_squares(&x));
    let expected: Vec<f64> = (0..3).map(|i| 2.0 * u[i] * x[i]).collect();
    close_all("weighted squares", &g, &expected);
    fd_vec("weighted squares", |x| weighted_squares(x), &x, &g);
    // H = diag(2uᵢ).
    let v = vec![1.0, 0.5, -2.0];
    let (_, _, hv) = weighted_squares_hvp(&x, &v);
    let expected: Vec<f64> = (0..3).map(|i| 2.0 * u[i] * v[i]).collect();
    close_all("weighted squares: H·v", &hv, &expected);
    let (_, t) = weighted_squares_jvp(&x, &v);
    close(
        "weighted squares: jvp",
        t,
        (0..3).map(|i| 2.0 * u[i] * x[i] * v[i]).sum(),
        TOL,
    );
}

/// A line fitted to noisy targets, the noise drawn inside a method of the model:
/// L = Σₖ (a·tₖ + b − (tₖ + 0.1·uₖ))² over tₖ = k/n; ∂L/∂a = Σ 2rₖtₖ, ∂L/∂b = Σ 2rₖ.
#[derive(Clone, Differentiable)]
struct Line {
    a: f64,
    b: f64,
}

#[differentiate]
impl Line {
    fn noisy_loss(&self, n: usize) -> f64 {
        let mut rng = Lcg::new(21);
        let mut loss = 0.0;
        for k in 0..n {
            let t = k as f64 / n as f64;
            let target = t + 0.1 * rng.next_f64();
            let r = self.a * t + self.b - target;
            loss += r * r;
        }
        loss
    }
}

#[test]
fn generator_inside_a_method() {
    let line = Line { a: 0.7, b: 0.2 };
    let u = lcg_draws(21, 8);
    let (l, g) = line.noisy_loss_grad(8);
    assert_eq!(l, line.noisy_loss(8));
    let (mut ga, mut gb) = (0.0, 0.0);
    for k in 0..8 {
        let t = k as f64 / 8.0;
        let r = line.a * t + line.b - (t + 0.1 * u[k]);
        ga += 2.0 * r * t;
        gb += 2.0 * r;
    }
    close("noisy line loss, ∂a", g.a, ga, TOL);
    close("noisy line loss, ∂b", g.b, gb, TOL);
    fd2(
        "noisy line loss",
        |a, b| Line { a, b }.noisy_loss(8),
        (line.a, line.b),
        (g.a, g.b),
    );
}

/// A constructor given a differentiated float is not data: `Scale::new(s)` holds `s`, and
/// its method is followed. y = s·0.5 + s·x: ∂y/∂s = 0.5 + x, ∂y/∂x = s.
#[derive(Clone, Differentiable)]
struct Scale {
    s: f64,
}

#[differentiate]
impl Scale {
    fn new(s: f64) -> Self {
        Scale { s }
    }

    fn apply(&self, u: f64) -> f64 {
        self.s * u
    }
}

#[differentiate]
fn scaled_sum(s: f64, x: f64) -> f64 {
    let sc = Scale::new(s);
    sc.apply(0.5) + sc.apply(x)
}

#[test]
fn constructor_of_a_differentiated_float_is_followed() {
    for (s, x) in [(1.5, 0.3), (-0.7, 2.0)] {
        let (y, g) = scaled_sum_grad(s, x);
        assert_eq!(y, scaled_sum(s, x));
        close2("scaled sum", g, (0.5 + x, s));
        fd2("scaled sum", scaled_sum, (s, x), g);
    }
}
