//! Programs that users wrote and that were rejected, or failed inside generated code, and now
//! work: a random-number generator made by a constructor of data (`Lcg::new(7)`,
//! `Rng::seeded(seed)`, `Lcg::default()`) whose `&mut self` methods draw constants for the
//! differentiated computation; the operators of a struct on what a function of the user's
//! returned (`let k1 = rate(s, k); s + k1 * h`, RK4 without annotations); a `loop`'s value
//! inside an expression (`2.0 * loop { .. break p .. }`); `it.next()` on an iterator kept in a
//! variable (`let mut it = xs.iter(); let first = *it.next().unwrap(); for v in it { .. }`);
//! `clear`, `truncate` and `resize` on a `Vec` of `#[derive(Differentiable)]` structs.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and
//! against central finite differences through `autodiff::check`; under `hessian`, `_jvp` and
//! `_hvp` too.

#![deny(warnings)]
#![allow(
    clippy::needless_range_loop,
    clippy::redundant_closure,
    clippy::while_let_on_iterator,
    clippy::explicit_counter_loop
)] // written as users write them

use autodiff::{Differentiable, differentiate};
use num_traits::Float;
use std::ops::{Add, AddAssign, Mul, Sub};

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

// ---------------------------------------------------------------------------------------------
// 2. The operators of a struct on what a function returned: `let k1 = rate(s, k); s + k1 * h`.
// ---------------------------------------------------------------------------------------------

/// An oscillator's state, a vector space through its own operators.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Osc {
    x: f64,
    v: f64,
}

#[differentiate(hessian)]
impl Add for Osc {
    type Output = Osc;
    fn add(self, o: Osc) -> Osc {
        Osc {
            x: self.x + o.x,
            v: self.v + o.v,
        }
    }
}

#[differentiate(hessian)]
impl Sub for Osc {
    type Output = Osc;
    fn sub(self, o: Osc) -> Osc {
        Osc {
            x: self.x - o.x,
            v: self.v - o.v,
        }
    }
}

#[differentiate(hessian)]
impl Mul<f64> for Osc {
    type Output = Osc;
    fn mul(self, c: f64) -> Osc {
        Osc {
            x: self.x * c,
            v: self.v * c,
        }
    }
}

/// For the plain function's `s += ..` (the differentiated ones read it as `s = s + ..`).
impl AddAssign for Osc {
    fn add_assign(&mut self, o: Osc) {
        *self = *self + o;
    }
}

/// x' = v, v' = −k·x: the rate is A·s with A = [[0, 1], [−k, 0]].
#[differentiate(hessian)]
fn rate(s: Osc, k: f64) -> Osc {
    Osc {
        x: s.v,
        v: -k * s.x,
    }
}

/// One classic RK4 step, each stage's rate in a variable the macro sees no type for.
#[differentiate(hessian)]
fn rk4_step(x0: f64, v0: f64, k: f64, h: f64) -> f64 {
    let s = Osc { x: x0, v: v0 };
    let k1 = rate(s, k);
    let k2 = rate(s + k1 * (h / 2.0), k);
    let k3 = rate(s + k2 * (h / 2.0), k);
    let k4 = rate(s + k3 * h, k);
    let s1 = s + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (h / 6.0);
    s1.x
}

/// For a linear rate, one RK4 step is the Taylor polynomial of e^{hA} to 4th order; with
/// A² = −k·I: x₁ = c₀x₀ + c₁v₀, c₀ = 1 − h²k/2 + h⁴k²/24, c₁ = h − h³k/6. Its gradient in
/// (x₀, v₀, k, h) and its Hessian, by hand.
fn rk4_step_exact(p: [f64; 4]) -> (f64, [f64; 4], [[f64; 4]; 4]) {
    let [x, v, k, h] = p;
    let c0 = 1.0 - h * h * k / 2.0 + h.powi(4) * k * k / 24.0;
    let c1 = h - h.powi(3) * k / 6.0;
    let (c0k, c0h) = (
        -h * h / 2.0 + h.powi(4) * k / 12.0,
        -h * k + h.powi(3) * k * k / 6.0,
    );
    let (c1k, c1h) = (-h.powi(3) / 6.0, 1.0 - h * h * k / 2.0);
    let (c0kk, c0kh, c0hh) = (
        h.powi(4) / 12.0,
        -h + h.powi(3) * k / 3.0,
        -k + h * h * k * k / 2.0,
    );
    let (c1kk, c1kh, c1hh) = (0.0, -h * h / 2.0, -h * k);
    let y = c0 * x + c1 * v;
    let g = [c0, c1, c0k * x + c1k * v, c0h * x + c1h * v];
    let hess = [
        [0.0, 0.0, c0k, c0h],
        [0.0, 0.0, c1k, c1h],
        [c0k, c1k, c0kk * x + c1kk * v, c0kh * x + c1kh * v],
        [c0h, c1h, c0kh * x + c1kh * v, c0hh * x + c1hh * v],
    ];
    (y, g, hess)
}

#[test]
fn rk4_stages_in_unannotated_variables() {
    for p in [[1.0, 0.0, 4.0, 0.1], [-0.3, 1.2, 2.5, 0.25]] {
        let [x, v, k, h] = p;
        let (y, g) = rk4_step_grad(x, v, k, h);
        let (ye, ge, he) = rk4_step_exact(p);
        close("rk4 step", y, ye, TOL);
        assert_eq!(y, rk4_step(x, v, k, h));
        close_all("rk4 step gradient", &[g.0, g.1, g.2, g.3], &ge);
        let r = autodiff::check::gradcheck(
            |q: &[f64; 4]| rk4_step(q[0], q[1], q[2], q[3]),
            &p,
            &[g.0, g.1, g.2, g.3],
        );
        assert!(r.passed(), "rk4 step: {r}");
        let d = [0.5, -1.0, 0.25, 2.0];
        let (_, _, hv) = rk4_step_hvp(x, v, k, h, d[0], d[1], d[2], d[3]);
        let expected: Vec<f64> = (0..4)
            .map(|i| (0..4).map(|j| he[i][j] * d[j]).sum())
            .collect();
        close_all("rk4 step H·v", &[hv.0, hv.1, hv.2, hv.3], &expected);
        let (_, t) = rk4_step_jvp(x, v, k, h, d[0], d[1], d[2], d[3]);
        close("rk4 step jvp", t, (0..4).map(|i| ge[i] * d[i]).sum(), TOL);
    }
}

/// n explicit Euler steps, the rate called inside the operator's operand and assigned into
/// the state with `+=` and `=`: sₙ = Mⁿ s₀ with M = I + hA.
#[differentiate]
fn euler_steps(x0: f64, v0: f64, k: f64, h: f64, n: usize) -> f64 {
    let mut s = Osc { x: x0, v: v0 };
    for i in 0..n {
        if i % 2 == 0 {
            s += rate(s, k) * h;
        } else {
            let r = rate(s, k);
            s = s - r * (-h);
        }
    }
    s.x
}

type M2 = [[f64; 2]; 2];

fn mat_mul(a: M2, b: M2) -> M2 {
    let mut c = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
        }
    }
    c
}

/// Mⁿ and its derivatives in k and h: d(Mⁿ) = Σᵢ Mⁱ dM Mⁿ⁻¹⁻ⁱ, with ∂M/∂k = [[0, 0], [−h, 0]]
/// and ∂M/∂h = A.
fn euler_exact(x: f64, v: f64, k: f64, h: f64, n: usize) -> (f64, [f64; 4]) {
    let m = [[1.0, h], [-k * h, 1.0]];
    let pow = |p: usize| (0..p).fold([[1.0, 0.0], [0.0, 1.0]], |acc, _| mat_mul(acc, m));
    let deriv = |dm: M2| {
        (0..n).fold([[0.0; 2]; 2], |acc, i| {
            let t = mat_mul(mat_mul(pow(i), dm), pow(n - 1 - i));
            [
                [acc[0][0] + t[0][0], acc[0][1] + t[0][1]],
                [acc[1][0] + t[1][0], acc[1][1] + t[1][1]],
            ]
        })
    };
    let (mn, dk, dh) = (
        pow(n),
        deriv([[0.0, 0.0], [-h, 0.0]]),
        deriv([[0.0, 1.0], [-k, 0.0]]),
    );
    let y = mn[0][0] * x + mn[0][1] * v;
    (
        y,
        [
            mn[0][0],
            mn[0][1],
            dk[0][0] * x + dk[0][1] * v,
            dh[0][0] * x + dh[0][1] * v,
        ],
    )
}

#[test]
fn euler_with_the_rate_inside_the_operand() {
    let (x, v, k, h) = (0.7, -0.4, 3.0, 0.05);
    let (y, g) = euler_steps_grad(x, v, k, h, 7);
    assert_eq!(y, euler_steps(x, v, k, h, 7));
    let (ye, ge) = euler_exact(x, v, k, h, 7);
    close("euler", y, ye, 1e-12);
    close_all("euler gradient", &[g.0, g.1, g.2, g.3], &ge);
    let r = autodiff::check::gradcheck(
        |q: &[f64; 4]| euler_steps(q[0], q[1], q[2], q[3], 7),
        &[x, v, k, h],
        &[g.0, g.1, g.2, g.3],
    );
    assert!(r.passed(), "euler: {r}");
}

/// The rate as a method of a model parameter (`spring.rate(s)`), then a midpoint step:
/// s₁ = s + r(s + r(s)·h/2)·h, x₁ = x + h·v − h²k·x/2.
#[derive(Clone, Differentiable)]
struct Spring {
    k: f64,
}

#[differentiate]
impl Spring {
    fn rate(&self, s: Osc) -> Osc {
        Osc {
            x: s.v,
            v: -self.k * s.x,
        }
    }
}

#[differentiate]
fn midpoint_step(spring: &Spring, x0: f64, v0: f64, h: f64) -> f64 {
    let s = Osc { x: x0, v: v0 };
    let k1 = spring.rate(s);
    let mid = s + k1 * (h / 2.0);
    let k2 = spring.rate(mid);
    (s + k2 * h).x
}

#[test]
fn midpoint_with_a_method_of_a_parameter() {
    let (k, x, v, h) = (2.0, 0.5, 1.5, 0.1);
    let (y, (gs, gx, gv, gh)) = midpoint_step_grad(&Spring { k }, x, v, h);
    assert_eq!(y, midpoint_step(&Spring { k }, x, v, h));
    close("midpoint", y, x + h * v - h * h * k * x / 2.0, 1e-14);
    // ∂/∂k = −h²x/2, ∂/∂x = 1 − h²k/2, ∂/∂v = h, ∂/∂h = v − hkx.
    close("midpoint ∂k", gs.k, -h * h * x / 2.0, TOL);
    close("midpoint ∂x", gx, 1.0 - h * h * k / 2.0, TOL);
    close("midpoint ∂v", gv, h, TOL);
    close("midpoint ∂h", gh, v - h * k * x, TOL);
    let r = autodiff::check::gradcheck(
        |q: &[f64; 4]| midpoint_step(&Spring { k: q[0] }, q[1], q[2], q[3]),
        &[k, x, v, h],
        &[gs.k, gx, gv, gh],
    );
    assert!(r.passed(), "midpoint: {r}");
}

// ---------------------------------------------------------------------------------------------
// 5. A `loop`'s value inside an expression: bound first.
// ---------------------------------------------------------------------------------------------

/// y = 2·x³, the cube found by a loop: dy/dx = 6x², d²y/dx² = 12x.
#[differentiate(hessian)]
fn twice_cube(x: f64) -> f64 {
    let mut p = 1.0;
    let mut k = 0;
    2.0 * loop {
        p *= x;
        k += 1;
        if k == 3 {
            break p;
        }
    }
}

#[test]
fn loop_value_as_an_operand() {
    for x in [0.6, -1.3] {
        let (y, d) = twice_cube_grad(x);
        assert_eq!(y, twice_cube(x));
        close("2·x³", y, 2.0 * x * x * x, TOL);
        close("2·x³", d, 6.0 * x * x, TOL);
        fd("2·x³", twice_cube, x, d);
        let (_, g, hv) = twice_cube_hvp(x, 0.5);
        close("2·x³: hvp's gradient", g, 6.0 * x * x, TOL);
        close("2·x³: H·v", hv, 0.5 * 12.0 * x, TOL);
        let pairs = forward("2·x³").one(x, twice_cube, twice_cube_jvp, twice_cube_vjp);
        tangents_are("2·x³", &pairs, 6.0 * x * x, TOL);
    }
}

/// Over a generic float, after a float method: y = sin x + x², dy/dx = cos x + 2x.
#[differentiate(hessian)]
fn sine_plus_square<F: Float>(x: F) -> F {
    let mut p = F::one();
    let mut k = 0;
    x.sin()
        + loop {
            if k == 2 {
                break p;
            }
            p = p * x;
            k += 1;
        }
}

#[test]
fn loop_value_after_a_float_method_generic() {
    for x in [0.4f64, 2.2] {
        let (y, d) = sine_plus_square_grad(x);
        assert_eq!(y, sine_plus_square(x));
        close("sin x + x²", d, x.cos() + 2.0 * x, TOL);
        fd("sin x + x²", sine_plus_square, x, d);
        let (_, _, hv) = sine_plus_square_hvp(x, 1.0);
        close("sin x + x²: H·v", hv, 2.0 - x.sin(), TOL);
    }
    let x = 0.4f32;
    let (_, d) = sine_plus_square_grad(x);
    close(
        "sin x + x² (f32)",
        d as f64,
        (x.cos() + 2.0 * x) as f64,
        1e-6,
    );
    fd32("sin x + x² (f32)", sine_plus_square, x, d);
}

/// A polynomial, each power found by a loop inside `+=`: y = Σᵢ wᵢ·xⁱ;
/// ∂y/∂x = Σ i·wᵢ·xⁱ⁻¹, ∂y/∂wᵢ = xⁱ.
#[differentiate]
fn poly_by_loops(x: f64, w: &[f64]) -> f64 {
    let mut acc = 0.0;
    for i in 0..w.len() {
        let mut p = 1.0;
        let mut k = 0;
        acc += w[i]
            * loop {
                if k == i {
                    break p;
                }
                p *= x;
                k += 1;
            };
    }
    acc
}

#[test]
fn loop_value_in_a_compound_assignment_inside_a_loop() {
    let w = [0.5, -1.0, 2.0, 0.25];
    for x in [0.9, -1.4] {
        let (y, (gx, gw)) = poly_by_loops_grad(x, &w);
        assert_eq!(y, poly_by_loops(x, &w));
        let dx: f64 = (1..4).map(|i| i as f64 * w[i] * x.powi(i as i32 - 1)).sum();
        close("polynomial ∂x", gx, dx, TOL);
        let dw: Vec<f64> = (0..4).map(|i| x.powi(i)).collect();
        close_all("polynomial ∂w", &gw, &dw);
        fd("polynomial ∂x", |x| poly_by_loops(x, &w), x, gx);
        fd_vec("polynomial ∂w", |w| poly_by_loops(x, w), &w, &gw);
    }
}

/// Two loops as a function's arguments: y = max(x², 3y) (a loop each, evaluated in order);
/// where x² > 3y: ∂/∂x = 2x, ∂/∂y = 0; else ∂/∂x = 0, ∂/∂y = 3.
#[differentiate]
fn max_of_loops(x: f64, y: f64) -> f64 {
    let mut n = 0;
    f64::max(
        loop {
            n += 1;
            if n > 2 {
                break x * x;
            }
        },
        loop {
            n += 1;
            if n > 4 {
                break 3.0 * y;
            }
        },
    )
}

#[test]
fn loop_values_as_arguments() {
    for (x, y) in [(2.0, 0.5), (0.5, 1.0)] {
        let (v, g) = max_of_loops_grad(x, y);
        assert_eq!(v, max_of_loops(x, y));
        let expected = if x * x > 3.0 * y {
            (2.0 * x, 0.0)
        } else {
            (0.0, 3.0)
        };
        close2("max of loops", g, expected);
        fd2("max of loops", max_of_loops, (x, y), g);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. `it.next()` on an iterator kept in a variable, then a loop over the rest.
// ---------------------------------------------------------------------------------------------

/// Σ (xᵢ − xᵢ₋₁)², the first item taken by `next()`: ∂/∂xᵢ = 2(xᵢ − xᵢ₋₁) − 2(xᵢ₊₁ − xᵢ)
/// (the terms that exist).
#[differentiate(hessian)]
fn squared_steps(xs: &[f64]) -> f64 {
    let mut it = xs.iter();
    let mut prev = *it.next().unwrap();
    let mut total = 0.0;
    for &v in it {
        total += (v - prev).powi(2);
        prev = v;
    }
    total
}

fn squared_steps_grad_exact(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let left = if i > 0 { 2.0 * (x[i] - x[i - 1]) } else { 0.0 };
            let right = if i + 1 < n {
                -2.0 * (x[i + 1] - x[i])
            } else {
                0.0
            };
            left + right
        })
        .collect()
}

#[test]
fn next_then_for_over_the_rest() {
    let x = vec![0.3, -0.8, 1.1, 0.4, 2.0];
    let (y, g) = squared_steps_grad(&x);
    assert_eq!(y, squared_steps(&x));
    close_all("squared steps", &g, &squared_steps_grad_exact(&x));
    fd_vec("squared steps", squared_steps, &x, &g);
    // H = the path graph's Laplacian times 2; H·v against the gradient's differences.
    let v = vec![1.0, -0.5, 0.25, 2.0, -1.0];
    let (_, _, hv) = squared_steps_hvp(&x, &v);
    let expected: Vec<f64> = (0..5)
        .map(|i| {
            let mut s = 0.0;
            if i > 0 {
                s += 2.0 * (v[i] - v[i - 1]);
            }
            if i + 1 < 5 {
                s -= 2.0 * (v[i + 1] - v[i]);
            }
            s
        })
        .collect();
    close_all("squared steps: H·v", &hv, &expected);
}

/// The running maximum's softened form over `copied()`, two items taken first:
/// y = a·b + Σ_{i≥2} xᵢ·a with a = x₀, b = x₁: ∂/∂x₀ = b + Σ_{i≥2} xᵢ, ∂/∂x₁ = a,
/// ∂/∂xᵢ = a.
#[differentiate]
fn two_heads(xs: &[f64]) -> f64 {
    let mut it = xs.iter().copied();
    let a = it.next().unwrap();
    let b = it.next().expect("two items");
    let mut y = a * b;
    while let Some(v) = it.next() {
        y += v * a;
    }
    y
}

#[test]
fn next_twice_then_while_let_over_copied() {
    let x = vec![1.5, -0.5, 2.0, 0.25];
    let (y, g) = two_heads_grad(&x);
    assert_eq!(y, two_heads(&x));
    close("two heads", y, 1.5 * -0.5 + (2.0 + 0.25) * 1.5, TOL);
    close_all("two heads", &g, &[-0.5 + 2.25, 1.5, 1.5, 1.5]);
    fd_vec("two heads", two_heads, &x, &g);
}

/// Over a generic float, in `f32` too, with `cloned()`: y = x₀² · Σ_{i≥1} xᵢ;
/// ∂/∂x₀ = 2x₀·S, ∂/∂xᵢ = x₀² (S = Σ_{i≥1} xᵢ).
#[differentiate]
fn head_squared_times_rest<F: Float>(xs: &[F]) -> F {
    let mut it = xs.iter().cloned();
    let h = it.next().unwrap();
    let mut s = F::zero();
    for v in it {
        s = s + v;
    }
    h * h * s
}

#[test]
fn next_over_cloned_generic() {
    let x = vec![0.7, 1.0, -2.0, 0.5];
    let s: f64 = x[1..].iter().sum();
    let (_, g) = head_squared_times_rest_grad(&x);
    close_all("head² · rest", &g, &[2.0 * 0.7 * s, 0.49, 0.49, 0.49]);
    fd_vec("head² · rest", |x| head_squared_times_rest(x), &x, &g);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (y32, g32) = head_squared_times_rest_grad(&x32);
    assert_eq!(y32, head_squared_times_rest(&x32));
    for (a, b) in g32.iter().zip(&g) {
        close("head² · rest (f32)", *a as f64, *b, 1e-6);
    }
}

/// Inside a method, over a `Vec` field's copy: the first weight scales the rest,
/// y = w₀ · Σ_{i≥1} wᵢ·xᵢ; ∂/∂w₀ = Σ_{i≥1} wᵢxᵢ, ∂/∂wᵢ = w₀xᵢ.
#[derive(Clone, Differentiable)]
struct Weights {
    w: Vec<f64>,
}

#[differentiate]
impl Weights {
    fn scaled_dot(&self, x: &[f64]) -> f64 {
        let w = self.w.clone();
        let mut it = w.iter();
        let w0 = *it.next().unwrap();
        let mut s = 0.0;
        let mut i = 1;
        for wi in it {
            s += wi * x[i];
            i += 1;
        }
        w0 * s
    }
}

#[test]
fn next_inside_a_method() {
    let m = Weights {
        w: vec![1.5, 0.5, -1.0],
    };
    let x = [9.0, 2.0, 3.0];
    let (y, (gm, _)) = m.scaled_dot_grad(&x);
    assert_eq!(y, m.scaled_dot(&x));
    close_all(
        "scaled dot",
        &gm.w,
        &[0.5 * 2.0 - 3.0, 1.5 * 2.0, 1.5 * 3.0],
    );
    fd_vec(
        "scaled dot",
        |w| Weights { w: w.to_vec() }.scaled_dot(&x),
        &m.w,
        &gm.w,
    );
}

// ---------------------------------------------------------------------------------------------
// 3. `clear`, `truncate` and `resize` on a local `Vec` of the user's structs.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Pt {
    x: f64,
    y: f64,
}

/// Points pushed, read, cleared and pushed again: y = a·b² (before `clear`) + 3ab + ab (after);
/// ∂/∂a = b² + 4b, ∂/∂b = 2ab + 4a.
#[differentiate]
fn cleared_points(a: f64, b: f64) -> f64 {
    let mut ps: Vec<Pt> = Vec::new();
    ps.push(Pt { x: a, y: b });
    ps.push(Pt { x: b * b, y: a });
    let before = ps[0].x * ps[1].x;
    ps.clear();
    ps.push(Pt { x: a * 3.0, y: b });
    ps.push(Pt { x: a * b, y: 1.0 });
    let mut after = 0.0;
    for p in &ps {
        after += p.x * p.y;
    }
    before + after
}

#[test]
fn clear_on_a_vec_of_structs() {
    for (a, b) in [(0.7, -1.3), (2.0, 0.5)] {
        let (y, g) = cleared_points_grad(a, b);
        assert_eq!(y, cleared_points(a, b));
        close2(
            "cleared points",
            g,
            (b * b + 4.0 * b, 2.0 * a * b + 4.0 * a),
        );
        fd2("cleared points", cleared_points, (a, b), g);
    }
}

/// The first `n` of three points kept: y = Σ_{k<n} xₖ·yₖ over (a, b), (a², b), (b, ab).
/// n = 2: ∂/∂a = b + 2ab, ∂/∂b = a + a²; n = 5 (nothing dropped) adds b·ab:
/// ∂/∂a += b², ∂/∂b += 2ab.
#[differentiate]
fn truncated_points(a: f64, b: f64, n: usize) -> f64 {
    let mut ps = vec![
        Pt { x: a, y: b },
        Pt { x: a * a, y: b },
        Pt { x: b, y: a * b },
    ];
    ps.truncate(n);
    ps.iter().map(|p| p.x * p.y).sum()
}

#[test]
fn truncate_on_a_vec_of_structs() {
    let (a, b) = (0.6, -1.1);
    let (y, g) = truncated_points_grad(a, b, 2);
    assert_eq!(y, truncated_points(a, b, 2));
    close2("truncated points", g, (b + 2.0 * a * b, a + a * a));
    fd2(
        "truncated points",
        |a, b| truncated_points(a, b, 2),
        (a, b),
        g,
    );
    let (_, g) = truncated_points_grad(a, b, 5);
    close2(
        "untruncated points",
        g,
        (b + 2.0 * a * b + b * b, a + a * a + 2.0 * a * b),
    );
    fd2(
        "untruncated points",
        |a, b| truncated_points(a, b, 5),
        (a, b),
        g,
    );
}

/// `resize` growing with copies of a point made from `c` and shrinking:
/// grow to 4 from [(a, 1)]: y = Σ xₖ·yₖ = a + 3·c·c, ∂/∂a = 1, ∂/∂c = 6c;
/// shrink to 1 from [(a, 1), (c, c)]: y = a, ∂/∂a = 1, ∂/∂c = 0.
#[differentiate]
fn resized_points(a: f64, c: f64, grow: bool) -> f64 {
    let mut ps: Vec<Pt> = vec![Pt { x: a, y: 1.0 }];
    if grow {
        ps.resize(4, Pt { x: c, y: c });
    } else {
        ps.push(Pt { x: c, y: c });
        ps.resize(1, Pt { x: 0.0, y: 0.0 });
    }
    let mut s = 0.0;
    for i in 0..ps.len() {
        s += ps[i].x * ps[i].y;
    }
    s
}

#[test]
fn resize_on_a_vec_of_structs() {
    let (a, c) = (0.8, -0.9);
    let (y, g) = resized_points_grad(a, c, true);
    assert_eq!(y, resized_points(a, c, true));
    close2("grown points", g, (1.0, 6.0 * c));
    fd2("grown points", |a, c| resized_points(a, c, true), (a, c), g);
    let (y, g) = resized_points_grad(a, c, false);
    assert_eq!(y, resized_points(a, c, false));
    close2("shrunk points", g, (1.0, 0.0));
    fd2(
        "shrunk points",
        |a, c| resized_points(a, c, false),
        (a, c),
        g,
    );
}
