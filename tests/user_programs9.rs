//! Whole small applications as Rust engineers write them to fit and simulate things: physics
//! integrators (a mass–spring chain by semi-implicit Euler over `Vec<[f64; 2]>`, a pendulum by
//! RK4 over a `State` struct with its own `Add` and `Mul`, a projectile with drag, an n-body
//! energy, a heat-equation stencil swapping two buffers); statistics and fitting (negative
//! log-likelihoods, a 1-D Kalman filter, AR(2) residuals, a kernel density estimate, robust
//! regression, softmax regression over `usize` labels); finance (Black–Scholes with an erf
//! approximation, portfolio variance, discounted cash flows, moving averages); geometry and
//! robotics (planar arm kinematics, the shoelace area, Bézier lengths, point-to-segment
//! distances); signal processing (FIR and biquad filters, total variation, DFT magnitudes); and
//! machine learning written as scalar Rust (a tiny MLP over `Vec<Vec<f64>>`, soft k-means,
//! matrix factorization over `(usize, usize, f64)` triples, attention over `&[[f64; 4]]`),
//! some driven by the runtime's optimizers in a short fitting loop.
//!
//! Each gradient is checked against its analytic form (stated beside the function) where it is
//! short, and against central finite differences through `autodiff::check`; each value against
//! the plain function's. About a third also have their forward mode (`_jvp`) or their
//! Hessian-vector products (`_hvp`) checked against finite differences.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::approx_constant,
    clippy::redundant_closure,
    clippy::unnecessary_fold,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::manual_clamp,
    clippy::op_ref,
    clippy::too_many_arguments,
    clippy::single_match
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use num_traits::Float;
use std::f64::consts::PI;
use std::ops::{Add, Mul, Sub};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Physics.
// ---------------------------------------------------------------------------------------------

/// A chain of unit masses on springs of stiffness `k` (the first tied to a wall), state
/// `[position, velocity]` per mass, integrated by semi-implicit Euler: the velocities are kicked
/// by the forces, then the positions drift with the new velocities. The loss is the chain's
/// final squared displacement.
#[differentiate]
fn spring_chain(k: f64, x0: &[[f64; 2]], dt: f64, steps: usize) -> f64 {
    let mut state: Vec<[f64; 2]> = x0.to_vec();
    let n = state.len();
    for _ in 0..steps {
        let mut forces = vec![0.0; n];
        for i in 0..n {
            let left = if i > 0 { state[i - 1][0] } else { 0.0 };
            let right = if i + 1 < n {
                state[i + 1][0]
            } else {
                state[i][0]
            };
            forces[i] = k * (left - 2.0 * state[i][0] + right);
        }
        for (s, f) in state.iter_mut().zip(&forces) {
            s[1] += dt * f;
            s[0] += dt * s[1];
        }
    }
    state.iter().map(|s| s[0] * s[0]).sum()
}

#[test]
fn mass_spring_chain_semi_implicit_euler() {
    let x0: Vec<[f64; 2]> = (0..4)
        .map(|i| [0.1 * (i as f64 + 1.0), 0.05 * i as f64])
        .collect();
    let (k, dt, steps) = (3.0, 0.05, 20);
    let (v, (gk, gx, gdt)) = spring_chain_grad(k, &x0, dt, steps);
    close("value", v, spring_chain(k, &x0, dt, steps), TOL);
    fd("∂k", |k| spring_chain(k, &x0, dt, steps), k, gk);
    fd("∂dt", |dt| spring_chain(k, &x0, dt, steps), dt, gdt);
    let r = gradcheck(|x: &Vec<[f64; 2]>| spring_chain(k, x, dt, steps), &x0, &gx);
    assert!(r.passed(), "∂x0: {r}");
    // One step from rest at k = 0: the positions do not move, ∂x0ᵢ[0] = 2xᵢ, ∂x0ᵢ[1] = 2xᵢ·dt
    let (_, (_, g0, _)) = spring_chain_grad(0.0, &x0, dt, 1);
    for i in 0..4 {
        let x1 = x0[i][0] + dt * x0[i][1];
        close("∂x (k = 0)", g0[i][0], 2.0 * x1, TOL);
        close("∂v (k = 0)", g0[i][1], 2.0 * x1 * dt, TOL);
    }
}

/// A pendulum's state with the vector-space operations RK4 needs.
#[derive(Clone, Copy, Debug, Differentiable)]
struct PendulumState {
    theta: f64,
    omega: f64,
}

#[differentiate]
impl Add for PendulumState {
    type Output = PendulumState;
    fn add(self, o: PendulumState) -> PendulumState {
        PendulumState {
            theta: self.theta + o.theta,
            omega: self.omega + o.omega,
        }
    }
}

#[differentiate]
impl Mul<f64> for PendulumState {
    type Output = PendulumState;
    fn mul(self, k: f64) -> PendulumState {
        PendulumState {
            theta: self.theta * k,
            omega: self.omega * k,
        }
    }
}

/// θ' = ω, ω' = −(g/l)·sin θ − c·ω.
#[differentiate]
fn pendulum_rate(s: PendulumState, g_over_l: f64, damping: f64) -> PendulumState {
    PendulumState {
        theta: s.omega,
        omega: -g_over_l * s.theta.sin() - damping * s.omega,
    }
}

/// The angle after `steps` classic RK4 steps from rest at `theta0`.
#[differentiate]
fn pendulum_rk4(theta0: f64, g_over_l: f64, damping: f64, dt: f64, steps: usize) -> f64 {
    let mut s = PendulumState {
        theta: theta0,
        omega: 0.0,
    };
    for _ in 0..steps {
        let k1: PendulumState = pendulum_rate(s, g_over_l, damping);
        let k2: PendulumState = pendulum_rate(s + k1 * (dt / 2.0), g_over_l, damping);
        let k3: PendulumState = pendulum_rate(s + k2 * (dt / 2.0), g_over_l, damping);
        let k4: PendulumState = pendulum_rate(s + k3 * dt, g_over_l, damping);
        s = s + (k1 + k2 * 2.0 + k3 * 2.0 + k4) * (dt / 6.0);
    }
    s.theta
}

#[test]
fn pendulum_rk4_with_operator_impls() {
    let (th, gl, c, dt) = (0.8, 9.81, 0.1, 0.02);
    let (v, (gth, ggl, gc, gdt)) = pendulum_rk4_grad(th, gl, c, dt, 50);
    close("value", v, pendulum_rk4(th, gl, c, dt, 50), TOL);
    fd("∂θ0", |t| pendulum_rk4(t, gl, c, dt, 50), th, gth);
    fd("∂(g/l)", |g| pendulum_rk4(th, g, c, dt, 50), gl, ggl);
    fd("∂c", |c| pendulum_rk4(th, gl, c, dt, 50), c, gc);
    fd("∂dt", |dt| pendulum_rk4(th, gl, c, dt, 50), dt, gdt);
    // Zero steps: θ = θ0, ∂θ0 = 1 and nothing else.
    let (_, (g0, g1, _, _)) = pendulum_rk4_grad(th, gl, c, dt, 0);
    close2("zero steps", (g0, g1), (1.0, 0.0));
}

/// A projectile with quadratic drag, launched at `speed` and `angle`, integrated by explicit
/// Euler until it falls below the ground; the landing point is interpolated linearly between
/// the last two steps.
#[differentiate]
fn projectile_range(speed: f64, angle: f64, drag: f64) -> f64 {
    const G: f64 = 9.81;
    const DT: f64 = 0.01;
    let (s, c) = angle.sin_cos();
    let (mut x, mut y) = (0.0, 0.0);
    let (mut vx, mut vy) = (speed * c, speed * s);
    for _ in 0..10_000 {
        let v = vx.hypot(vy);
        let (px, py) = (x, y);
        vx -= DT * drag * v * vx;
        vy -= DT * (G + drag * v * vy);
        x += DT * vx;
        y += DT * vy;
        if y < 0.0 {
            let t = py / (py - y);
            return px + t * (x - px);
        }
    }
    x
}

#[test]
fn projectile_with_drag_and_landing_interpolation() {
    let (sp, an, dr) = (20.0, 0.7, 0.02);
    let (v, (gs, ga, gd)) = projectile_range_grad(sp, an, dr);
    close("value", v, projectile_range(sp, an, dr), TOL);
    fd3("projectile", projectile_range, (sp, an, dr), (gs, ga, gd));
    assert!(gd < 0.0, "more drag, shorter range");
}

/// A body of the 2-D n-body problem.
#[derive(Clone, Debug, Differentiable)]
struct Body {
    x: f64,
    y: f64,
    vx: f64,
    vy: f64,
    m: f64,
}

/// Kinetic plus softened gravitational potential energy: Σ ½mv² − Σ_{i<j} G mᵢmⱼ/√(r² + ε²).
#[differentiate]
fn nbody_energy(bodies: &[Body], g: f64, eps: f64) -> f64 {
    let kinetic: f64 = bodies
        .iter()
        .map(|b| 0.5 * b.m * (b.vx * b.vx + b.vy * b.vy))
        .sum();
    let mut potential = 0.0;
    for i in 0..bodies.len() {
        for j in (i + 1)..bodies.len() {
            let dx = bodies[i].x - bodies[j].x;
            let dy = bodies[i].y - bodies[j].y;
            let r = (dx * dx + dy * dy + eps * eps).sqrt();
            potential -= g * bodies[i].m * bodies[j].m / r;
        }
    }
    kinetic + potential
}

fn three_bodies() -> Vec<Body> {
    vec![
        Body {
            x: 0.0,
            y: 0.0,
            vx: 0.1,
            vy: -0.2,
            m: 3.0,
        },
        Body {
            x: 1.0,
            y: 0.5,
            vx: -0.3,
            vy: 0.4,
            m: 1.0,
        },
        Body {
            x: -0.7,
            y: 1.2,
            vx: 0.2,
            vy: 0.1,
            m: 0.5,
        },
    ]
}

#[test]
fn nbody_energy_with_softening() {
    let bodies = three_bodies();
    let (v, (gb, gg, ge)) = nbody_energy_grad(&bodies, 1.0, 0.1);
    close("value", v, nbody_energy(&bodies, 1.0, 0.1), TOL);
    // ∂vxᵢ = mᵢ·vxᵢ; ∂G = potential / G
    for (b, d) in bodies.iter().zip(&gb) {
        close("∂vx", d.vx, b.m * b.vx, TOL);
        close("∂vy", d.vy, b.m * b.vy, TOL);
    }
    let kinetic: f64 = bodies
        .iter()
        .map(|b| 0.5 * b.m * (b.vx * b.vx + b.vy * b.vy))
        .sum();
    close("∂G", gg, v - kinetic, TOL);
    fd("∂ε", |e| nbody_energy(&bodies, 1.0, e), 0.1, ge);
    let r = gradcheck(|b: &Vec<Body>| nbody_energy(b, 1.0, 0.1), &bodies, &gb);
    assert!(r.passed(), "∂bodies: {r}");
}

/// The 1-D heat equation u_t = α u_xx with fixed ends, explicit steps over two buffers swapped
/// after each step; the result is the heat left in the rod's middle half.
#[differentiate]
fn heat_rod(u0: &[f64], alpha: f64, steps: usize) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..steps {
        next[0] = u[0];
        next[n - 1] = u[n - 1];
        for i in 1..n - 1 {
            next[i] = u[i] + alpha * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        }
        std::mem::swap(&mut u, &mut next);
    }
    u[n / 4..3 * n / 4].iter().sum()
}

#[test]
fn heat_equation_with_swapped_buffers() {
    let u0: Vec<f64> = (0..10).map(|i| (PI * i as f64 / 9.0).sin()).collect();
    let (v, (gu, ga)) = heat_rod_grad(&u0, 0.2, 15);
    close("value", v, heat_rod(&u0, 0.2, 15), TOL);
    fd_vec("∂u0", |u| heat_rod(u, 0.2, 15), &u0, &gu);
    fd("∂α", |a| heat_rod(&u0, a, 15), 0.2, ga);
    // No steps: the sum's gradient is the indicator of the middle half.
    let (_, (g0, _)) = heat_rod_grad(&u0, 0.2, 0);
    for i in 0..10 {
        let e = if (2..7).contains(&i) { 1.0 } else { 0.0 };
        close("∂u0 (no steps)", g0[i], e, TOL);
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and fitting.
// ---------------------------------------------------------------------------------------------

/// The Gaussian negative log-likelihood with the scale on a log axis, as fitted in practice:
/// n·log σ + Σ (xᵢ − μ)² / 2σ² (the constant left out).
#[differentiate(hessian, wrt(mu, log_sigma))]
fn gaussian_nll(mu: f64, log_sigma: f64, xs: &[f64]) -> f64 {
    let sigma2 = (2.0 * log_sigma).exp();
    let n = xs.len() as f64;
    let sq: f64 = xs.iter().map(|&x| (x - mu) * (x - mu)).sum();
    n * log_sigma + sq / (2.0 * sigma2)
}

#[test]
fn gaussian_nll_gradient_and_hessian() {
    let xs = data(9, 0.3);
    let (mu, ls) = (0.2, -0.4);
    let (v, (gm, gs)) = gaussian_nll_grad(mu, ls, &xs);
    close("value", v, gaussian_nll(mu, ls, &xs), TOL);
    // ∂μ = −Σ(x − μ)/σ²; ∂ log σ = n − Σ(x − μ)²/σ²
    let s2 = (2.0 * ls).exp();
    let d: f64 = xs.iter().map(|x| x - mu).sum();
    let sq: f64 = xs.iter().map(|x| (x - mu).powi(2)).sum();
    close2("∂", (gm, gs), (-d / s2, 9.0 - sq / s2));
    fd2(
        "gaussian_nll",
        |a, b| gaussian_nll(a, b, &xs),
        (mu, ls),
        (gm, gs),
    );
    // H = [[n/σ², 2Σ(x−μ)/σ²], [2Σ(x−μ)/σ², 2Σ(x−μ)²/σ²]]
    let (_, _, (h0, h1)) = gaussian_nll_hvp(mu, ls, &xs, 1.0, 0.0);
    close2("H·e₀", (h0, h1), (9.0 / s2, 2.0 * d / s2));
    let (_, _, (h0, h1)) = gaussian_nll_hvp(mu, ls, &xs, 0.0, 1.0);
    close2("H·e₁", (h0, h1), (2.0 * d / s2, 2.0 * sq / s2));
}

/// A Poisson log-linear model of counts over time: λ(t) = exp(a + b·t), NLL Σ λ − y·ln λ.
#[differentiate(wrt(a, b))]
fn poisson_trend_nll(a: f64, b: f64, times: &[f64], counts: &[u32]) -> f64 {
    let mut nll = 0.0;
    for (&t, &y) in times.iter().zip(counts) {
        let log_rate = a + b * t;
        nll += log_rate.exp() - y as f64 * log_rate;
    }
    nll
}

#[test]
fn poisson_regression_nll() {
    let times = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5];
    let counts = [1u32, 2, 2, 4, 6, 9];
    let (a, b) = (0.1, 0.6);
    let (v, (ga, gb)) = poisson_trend_nll_grad(a, b, &times, &counts);
    close("value", v, poisson_trend_nll(a, b, &times, &counts), TOL);
    // ∂a = Σ(λ − y), ∂b = Σ t(λ − y)
    let (mut ea, mut eb) = (0.0, 0.0);
    for (&t, &y) in times.iter().zip(&counts) {
        let r = (a + b * t).exp() - y as f64;
        ea += r;
        eb += t * r;
    }
    close2("∂", (ga, gb), (ea, eb));
    fd2(
        "poisson",
        |a, b| poisson_trend_nll(a, b, &times, &counts),
        (a, b),
        (ga, gb),
    );
}

/// The Student-t location–scale NLL with fixed degrees of freedom ν (constants dropped):
/// Σ ln s + (ν + 1)/2 · ln(1 + ((x − μ)/s)²/ν).
#[differentiate(wrt(mu, log_s))]
fn student_t_nll(mu: f64, log_s: f64, nu: f64, xs: &[f64]) -> f64 {
    let s = log_s.exp();
    xs.iter()
        .map(|&x| {
            let z = (x - mu) / s;
            log_s + 0.5 * (nu + 1.0) * (z * z / nu).ln_1p()
        })
        .sum()
}

#[test]
fn student_t_nll_with_wrt() {
    let mut xs = data(8, 1.7);
    xs.push(6.0); // an outlier
    let (v, (gm, gs)) = student_t_nll_grad(0.1, 0.2, 3.0, &xs);
    close("value", v, student_t_nll(0.1, 0.2, 3.0, &xs), TOL);
    // ∂μ = −Σ (ν + 1)(x − μ) / (ν s² + (x − μ)²)
    let s2 = (0.4f64).exp();
    let e: f64 = xs
        .iter()
        .map(|x| -4.0 * (x - 0.1) / (3.0 * s2 + (x - 0.1).powi(2)))
        .sum();
    close("∂μ", gm, e, TOL);
    fd2(
        "student_t",
        |m, s| student_t_nll(m, s, 3.0, &xs),
        (0.1, 0.2),
        (gm, gs),
    );
}

/// Logistic regression's NLL with boolean labels, the log-loss written in its stable form for
/// each sign of the margin.
#[differentiate(wrt(w, b))]
fn logistic_nll(w: &[f64], b: f64, xs: &[Vec<f64>], ys: &[bool]) -> f64 {
    let mut total = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        let z: f64 = w.iter().zip(x).map(|(wi, xi)| wi * xi).sum::<f64>() + b;
        let m = if y { z } else { -z };
        // ln(1 + e^{−m})
        total += if m > 0.0 {
            (-m).exp().ln_1p()
        } else {
            -m + m.exp().ln_1p()
        };
    }
    total / xs.len() as f64
}

#[test]
fn logistic_regression_stable_log_loss() {
    let xs: Vec<Vec<f64>> = (0..6).map(|i| data(3, i as f64)).collect();
    let ys = [true, false, true, true, false, false];
    let w = vec![0.5, -1.0, 2.0];
    let (v, (gw, gb)) = logistic_nll_grad(&w, 0.3, &xs, &ys);
    close("value", v, logistic_nll(&w, 0.3, &xs, &ys), TOL);
    // ∂w = mean (σ(z) − y)·x, ∂b = mean (σ(z) − y)
    let mut ew = vec![0.0; 3];
    let mut eb = 0.0;
    for (x, &y) in xs.iter().zip(&ys) {
        let z: f64 = w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + 0.3;
        let r = 1.0 / (1.0 + (-z).exp()) - if y { 1.0 } else { 0.0 };
        for j in 0..3 {
            ew[j] += r * x[j] / 6.0;
        }
        eb += r / 6.0;
    }
    close_all("∂w", &gw, &ew);
    close("∂b", gb, eb, TOL);
    fd_vec("∂w", |w| logistic_nll(w, 0.3, &xs, &ys), &w, &gw);
}

/// The negative binomial NLL in the mean–dispersion form, with ln Γ(y + r) − ln Γ(r) written
/// as Σ_{k<y} ln(r + k) (no `ln_gamma`), and the constant ln y! dropped.
#[differentiate]
fn neg_binomial_nll(mean: f64, r: f64, counts: &[usize]) -> f64 {
    let mut nll = 0.0;
    for &y in counts {
        let mut log_coef = 0.0;
        for k in 0..y {
            log_coef += (r + k as f64).ln();
        }
        let p = r / (r + mean);
        nll -= log_coef + r * p.ln() + y as f64 * (1.0 - p).ln();
    }
    nll
}

#[test]
fn negative_binomial_without_ln_gamma() {
    let counts = [0usize, 3, 1, 7, 2, 0, 4];
    let (m, r) = (2.4, 1.3);
    let (v, (gm, gr)) = neg_binomial_nll_grad(m, r, &counts);
    close("value", v, neg_binomial_nll(m, r, &counts), TOL);
    // ∂mean = Σ (r + y)/(r + m) − y/m
    let e: f64 = counts
        .iter()
        .map(|&y| (r + y as f64) / (r + m) - y as f64 / m)
        .sum();
    close("∂mean", gm, e, TOL);
    fd2(
        "neg_binomial",
        |m, r| neg_binomial_nll(m, r, &counts),
        (m, r),
        (gm, gr),
    );
}

/// The negative log-likelihood of a 1-D random walk observed in noise, by the Kalman filter's
/// prediction-error decomposition; `q` and `r` on log scales.
#[differentiate(hessian, wrt(log_q, log_r))]
fn kalman_nll(log_q: f64, log_r: f64, obs: &[f64]) -> f64 {
    let (q, r) = (log_q.exp(), log_r.exp());
    let mut mean = 0.0;
    let mut var = 10.0;
    let mut nll = 0.0;
    for &y in obs {
        var += q; // predict
        let s = var + r;
        let innovation = y - mean;
        nll += 0.5 * (s.ln() + innovation * innovation / s);
        let gain = var / s; // update
        mean += gain * innovation;
        var *= 1.0 - gain;
    }
    nll
}

#[test]
fn kalman_filter_likelihood_gradient_and_hessian() {
    let obs: Vec<f64> = (0..12)
        .map(|i| (i as f64 * 0.4).sin() + 0.1 * (i as f64 * 3.1).cos())
        .collect();
    let (lq, lr) = (-2.0, -1.0);
    let (v, (gq, gr)) = kalman_nll_grad(lq, lr, &obs);
    close("value", v, kalman_nll(lq, lr, &obs), TOL);
    fd2("kalman", |a, b| kalman_nll(a, b, &obs), (lq, lr), (gq, gr));
    let grad = |p: &[f64]| {
        let (_, (a, b)) = kalman_nll_grad(p[0], p[1], &obs);
        vec![a, b]
    };
    for dir in [[1.0, 0.0], [0.3, -0.7]] {
        let (y, (g0, g1), (h0, h1)) = kalman_nll_hvp(lq, lr, &obs, dir[0], dir[1]);
        close("hvp value", y, v, TOL);
        close2("hvp gradient", (g0, g1), (gq, gr));
        hvp_against_fd("kalman", grad, &[lq, lr], &dir, &[h0, h1]);
    }
}

/// The residual sum of squares of an AR(2) model, xₜ ≈ c + φ₁xₜ₋₁ + φ₂xₜ₋₂, over `windows(3)`.
#[differentiate(wrt(c, phi))]
fn ar2_rss(c: f64, phi: [f64; 2], xs: &[f64]) -> f64 {
    xs.windows(3)
        .map(|w| {
            let predicted = c + phi[0] * w[1] + phi[1] * w[0];
            (w[2] - predicted).powi(2)
        })
        .sum()
}

#[test]
fn ar2_residual_sum_of_squares() {
    let xs = data(10, 0.8);
    let phi = [0.6, -0.2];
    let (v, (gc, gp)) = ar2_rss_grad(0.05, phi, &xs);
    close("value", v, ar2_rss(0.05, phi, &xs), TOL);
    // ∂c = −2Σe, ∂φ₁ = −2Σe·xₜ₋₁, ∂φ₂ = −2Σe·xₜ₋₂
    let (mut ec, mut e1, mut e2) = (0.0, 0.0, 0.0);
    for t in 2..10 {
        let e = xs[t] - 0.05 - phi[0] * xs[t - 1] - phi[1] * xs[t - 2];
        ec -= 2.0 * e;
        e1 -= 2.0 * e * xs[t - 1];
        e2 -= 2.0 * e * xs[t - 2];
    }
    close("∂c", gc, ec, TOL);
    close2("∂φ", (gp[0], gp[1]), (e1, e2));
    let r = gradcheck(|p: &[f64; 2]| ar2_rss(0.05, *p, &xs), &phi, &gp);
    assert!(r.passed(), "∂φ: {r}");
}

/// Leave-one-out log-likelihood of a Gaussian kernel density estimate, as a bandwidth
/// selector: the kernel is a closure.
#[differentiate]
fn kde_loo_loglik(bandwidth: f64, samples: &[f64]) -> f64 {
    let n = samples.len();
    let kernel = |u: f64| (-0.5 * u * u).exp() / (2.0 * PI).sqrt();
    let mut ll = 0.0;
    for i in 0..n {
        let mut density = 0.0;
        for j in 0..n {
            if i == j {
                continue;
            }
            density += kernel((samples[i] - samples[j]) / bandwidth);
        }
        ll += (density / ((n - 1) as f64 * bandwidth)).ln();
    }
    ll
}

#[test]
fn kernel_density_leave_one_out() {
    let s = data(7, 2.2);
    let (v, (gh, gs)) = kde_loo_loglik_grad(0.4, &s);
    close("value", v, kde_loo_loglik(0.4, &s), TOL);
    fd("∂h", |h| kde_loo_loglik(h, &s), 0.4, gh);
    fd_vec("∂samples", |s| kde_loo_loglik(0.4, s), &s, &gs);
    // Shifting every sample changes nothing: Σ ∂sᵢ = 0.
    close("Σ∂s", gs.iter().sum::<f64>(), 0.0, 1e-12);
}

/// A straight line fitted with Huber's loss (quadratic near zero, linear beyond δ), the branch
/// chosen by a `match` on the residual's size.
#[differentiate(wrt(slope, intercept))]
fn huber_line(slope: f64, intercept: f64, xs: &[f64], ys: &[f64], delta: f64) -> f64 {
    let mut loss = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let r = y - (slope * x + intercept);
        loss += match r.abs() {
            a if a <= delta => 0.5 * r * r,
            a => delta * (a - 0.5 * delta),
        };
    }
    loss
}

/// Tukey's biweight: residuals beyond c contribute a constant and are skipped with `continue`.
#[differentiate(wrt(slope, intercept))]
fn tukey_line(slope: f64, intercept: f64, xs: &[f64], ys: &[f64], c: f64) -> f64 {
    let mut loss = 0.0;
    for i in 0..xs.len() {
        let r = ys[i] - slope * xs[i] - intercept;
        if r.abs() > c {
            loss += c * c / 6.0;
            continue;
        }
        let u = 1.0 - (r / c).powi(2);
        loss += c * c / 6.0 * (1.0 - u * u * u);
    }
    loss
}

#[test]
fn robust_regression_huber_and_tukey() {
    let xs: Vec<f64> = (0..8).map(|i| i as f64 * 0.5).collect();
    let mut ys: Vec<f64> = xs
        .iter()
        .map(|x| 2.0 * x + 1.0 + 0.1 * (x * 5.0).sin())
        .collect();
    ys[5] += 4.0; // an outlier
    let (v, (gs, gi)) = huber_line_grad(1.8, 0.9, &xs, &ys, 0.5);
    close("value", v, huber_line(1.8, 0.9, &xs, &ys, 0.5), TOL);
    // ∂intercept = −Σ ψ(r), ψ(r) = r clipped to [−δ, δ]
    let e: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| -(y - 1.8 * x - 0.9).clamp(-0.5, 0.5))
        .sum();
    close("∂intercept", gi, e, TOL);
    fd2(
        "huber",
        |s, i| huber_line(s, i, &xs, &ys, 0.5),
        (1.8, 0.9),
        (gs, gi),
    );
    let (v, (gs, gi)) = tukey_line_grad(1.8, 0.9, &xs, &ys, 1.5);
    close("value", v, tukey_line(1.8, 0.9, &xs, &ys, 1.5), TOL);
    // ∂intercept = −Σ_{|r|≤c} r(1 − (r/c)²)²
    let e: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| y - 1.8 * x - 0.9)
        .filter(|r| r.abs() <= 1.5)
        .map(|r| -r * (1.0 - (r / 1.5).powi(2)).powi(2))
        .sum();
    close("∂intercept", gi, e, TOL);
    fd2(
        "tukey",
        |s, i| tukey_line(s, i, &xs, &ys, 1.5),
        (1.8, 0.9),
        (gs, gi),
    );
}

/// Multinomial logistic regression: weights one row per class, rows of features, `usize`
/// labels, the log-sum-exp shifted by the largest score.
#[differentiate(wrt(weights))]
fn softmax_regression(weights: &[Vec<f64>], rows: &[Vec<f64>], labels: &[usize]) -> f64 {
    let mut loss = 0.0;
    for (x, &label) in rows.iter().zip(labels) {
        let scores: Vec<f64> = weights
            .iter()
            .map(|w| w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = top + scores.iter().map(|s| (s - top).exp()).sum::<f64>().ln();
        loss += lse - scores[label];
    }
    loss / rows.len() as f64
}

#[test]
fn softmax_regression_over_rows_and_usize_labels() {
    let weights: Vec<Vec<f64>> = (0..3).map(|k| data(4, 5.0 + k as f64)).collect();
    let rows: Vec<Vec<f64>> = (0..5).map(|i| data(4, 0.5 * i as f64)).collect();
    let labels = [0usize, 2, 1, 1, 0];
    let (v, g) = softmax_regression_grad(&weights, &rows, &labels);
    close(
        "value",
        v,
        softmax_regression(&weights, &rows, &labels),
        TOL,
    );
    // ∂W_k = mean (p_k − [k = label])·x
    let mut e = vec![vec![0.0; 4]; 3];
    for (x, &l) in rows.iter().zip(&labels) {
        let s: Vec<f64> = weights
            .iter()
            .map(|w| w.iter().zip(x).map(|(a, b)| a * b).sum())
            .collect();
        let z: f64 = s.iter().map(|v| v.exp()).sum();
        for k in 0..3 {
            let p = s[k].exp() / z - if k == l { 1.0 } else { 0.0 };
            for j in 0..4 {
                e[k][j] += p * x[j] / 5.0;
            }
        }
    }
    for k in 0..3 {
        close_all("∂W", &g[k], &e[k]);
    }
    let r = gradcheck(
        |w: &Vec<Vec<f64>>| softmax_regression(w, &rows, &labels),
        &weights,
        &g,
    );
    assert!(r.passed(), "∂W: {r}");
}

// ---------------------------------------------------------------------------------------------
// Finance.
// ---------------------------------------------------------------------------------------------

/// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5·10⁻⁷), odd by its sign.
#[differentiate]
fn erf_approx(x: f64) -> f64 {
    const A: [f64; 5] = [
        0.254829592,
        -0.284496736,
        1.421413741,
        -1.453152027,
        1.061405429,
    ];
    const P: f64 = 0.3275911;
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + P * x);
    let poly = A.iter().rev().fold(0.0, |acc, &a| acc * t + a) * t;
    sign * (1.0 - poly * (-x * x).exp())
}

#[differentiate]
fn norm_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf_approx(x / std::f64::consts::SQRT_2))
}

/// A European call by Black–Scholes.
#[differentiate]
fn black_scholes_call(spot: f64, strike: f64, rate: f64, vol: f64, t: f64) -> f64 {
    let sqrt_t = t.sqrt();
    let d1 = ((spot / strike).ln() + (rate + 0.5 * vol * vol) * t) / (vol * sqrt_t);
    let d2 = d1 - vol * sqrt_t;
    spot * norm_cdf(d1) - strike * (-rate * t).exp() * norm_cdf(d2)
}

#[test]
fn black_scholes_greeks_through_an_erf_approximation() {
    let (s, k, r, v, t) = (100.0, 95.0, 0.03, 0.25, 0.75);
    let (price, (delta, dk, rho, vega, theta)) = black_scholes_call_grad(s, k, r, v, t);
    close("value", price, black_scholes_call(s, k, r, v, t), TOL);
    fd("delta", |s| black_scholes_call(s, k, r, v, t), s, delta);
    fd("∂K", |k| black_scholes_call(s, k, r, v, t), k, dk);
    fd("rho", |r| black_scholes_call(s, k, r, v, t), r, rho);
    fd("vega", |v| black_scholes_call(s, k, r, v, t), v, vega);
    fd("∂T", |t| black_scholes_call(s, k, r, v, t), t, theta);
    // erf's own derivative, 2/√π·e^{−x²}, to the approximation's accuracy in slope
    let (_, d) = erf_approx_grad(0.3);
    close("erf'", d, 2.0 / PI.sqrt() * (-0.09f64).exp(), 1e-5);
    let (_, d) = erf_approx_grad(-0.8);
    fd("erf' < 0", erf_approx, -0.8, d);
}

/// wᵀΣw with the covariance as rows.
#[differentiate(hessian, wrt(w))]
fn portfolio_variance(w: &[f64], cov: &[Vec<f64>]) -> f64 {
    let mut var = 0.0;
    for (i, row) in cov.iter().enumerate() {
        for (j, c) in row.iter().enumerate() {
            var += w[i] * c * w[j];
        }
    }
    var
}

#[test]
fn portfolio_variance_gradient_and_hessian() {
    let cov = vec![
        vec![0.04, 0.006, -0.002],
        vec![0.006, 0.09, 0.01],
        vec![-0.002, 0.01, 0.0225],
    ];
    let w = vec![0.5, 0.3, 0.2];
    let (v, g) = portfolio_variance_grad(&w, &cov);
    close("value", v, portfolio_variance(&w, &cov), TOL);
    // ∇ = 2Σw, H = 2Σ
    for i in 0..3 {
        let e: f64 = (0..3).map(|j| 2.0 * cov[i][j] * w[j]).sum();
        close("∂w", g[i], e, TOL);
    }
    let dir = vec![1.0, -2.0, 0.5];
    let (_, g2, hv) = portfolio_variance_hvp(&w, &cov, &dir);
    close_all("hvp gradient", &g2, &g);
    for i in 0..3 {
        let e: f64 = (0..3).map(|j| 2.0 * cov[i][j] * dir[j]).sum();
        close("H·v", hv[i], e, TOL);
    }
    hvp_against_fd(
        "portfolio",
        |w| portfolio_variance_grad(w, &cov).1,
        &w,
        &dir,
        &hv,
    );
}

/// The net present value of cash flows at periods 1, 2, …, generic over the float type.
#[differentiate]
fn npv<T: Float>(rate: T, flows: &[T]) -> T {
    let one = T::one();
    let mut total = T::zero();
    for (t, &cf) in flows.iter().enumerate() {
        total = total + cf / (one + rate).powi(t as i32 + 1);
    }
    total
}

#[test]
fn discounted_cash_flow_generic_f64_and_f32() {
    let flows = vec![-100.0, 30.0, 40.0, 50.0, 20.0];
    let (v, (gr, gf)) = npv_grad(0.07, &flows);
    close("value", v, npv(0.07, &flows), TOL);
    // ∂r = −Σ t·cf/(1+r)^{t+1}; ∂cfₜ = (1+r)^{−t}
    let mut e = 0.0;
    for (i, cf) in flows.iter().enumerate() {
        let t = (i + 1) as i32;
        e -= t as f64 * cf / 1.07f64.powi(t + 1);
        close("∂cf", gf[i], 1.07f64.powi(-t), TOL);
    }
    close("∂r", gr, e, TOL);
    let flows32: Vec<f32> = flows.iter().map(|&c| c as f32).collect();
    let (v32, (gr32, _)) = npv_grad(0.07f32, &flows32);
    close("f32 value", v32 as f64, npv(0.07f32, &flows32) as f64, 0.0);
    fd32("∂r (f32)", |r| npv(r, &flows32), 0.07, gr32);
}

/// An exponential moving average tracked against a target series, in `f32`.
#[differentiate]
fn ema_tracking_error(alpha: f32, prices: &[f32], target: &[f32]) -> f32 {
    let mut ema = prices[0];
    let mut err = 0.0f32;
    for (p, t) in prices.iter().zip(target).skip(1) {
        ema = alpha * p + (1.0 - alpha) * ema;
        err += (ema - t) * (ema - t);
    }
    err
}

#[test]
fn exponential_moving_average_in_f32() {
    let prices: Vec<f32> = (0..10).map(|i| 10.0 + (i as f32 * 0.7).sin()).collect();
    let target: Vec<f32> = (0..10)
        .map(|i| 10.0 + (i as f32 * 0.7 - 0.5).sin())
        .collect();
    let (v, (ga, gp, gt)) = ema_tracking_error_grad(0.3, &prices, &target);
    close(
        "value",
        v as f64,
        ema_tracking_error(0.3, &prices, &target) as f64,
        0.0,
    );
    fd32("∂α", |a| ema_tracking_error(a, &prices, &target), 0.3, ga);
    let r = gradcheck(
        |p: &Vec<f32>| ema_tracking_error(0.3, p, &target),
        &prices,
        &gp,
    );
    assert!(r.passed(), "∂prices: {r}");
    // ∂t_k = −2(ema_k − t_k), and the first target is never read
    close("∂t₀", gt[0] as f64, 0.0, 0.0);
    let r = gradcheck(
        |t: &Vec<f32>| ema_tracking_error(0.3, &prices, t),
        &target,
        &gt,
    );
    assert!(r.passed(), "∂target: {r}");
}

// ---------------------------------------------------------------------------------------------
// Geometry and robotics.
// ---------------------------------------------------------------------------------------------

/// Forward kinematics of a planar arm: joint angles accumulate, each link adds
/// `len·(cos φ, sin φ)` from `sin_cos`; the cost is the distance to a target by `hypot` plus a
/// penalty on the end effector's heading from `atan2` of the last link.
#[differentiate(wrt(angles))]
fn arm_reach_cost(angles: &[f64], lengths: &[f64], target: (f64, f64), heading: f64) -> f64 {
    let (mut x, mut y, mut phi) = (0.0, 0.0, 0.0);
    let (mut lx, mut ly) = (1.0, 0.0);
    for (a, l) in angles.iter().zip(lengths) {
        phi += a;
        let (s, c) = phi.sin_cos();
        lx = l * c;
        ly = l * s;
        x += lx;
        y += ly;
    }
    let miss = (x - target.0).hypot(y - target.1);
    let turn = ly.atan2(lx) - heading;
    miss + 0.1 * turn * turn
}

#[test]
fn planar_arm_forward_kinematics() {
    let angles = vec![0.3, 0.5, -0.4];
    let lengths = [1.0, 0.8, 0.5];
    let (v, g) = arm_reach_cost_grad(&angles, &lengths, (1.2, 1.1), 0.2);
    close(
        "value",
        v,
        arm_reach_cost(&angles, &lengths, (1.2, 1.1), 0.2),
        TOL,
    );
    fd_vec(
        "∂angles",
        |a| arm_reach_cost(a, &lengths, (1.2, 1.1), 0.2),
        &angles,
        &g,
    );
    // The heading of the last link is the sum of the angles: its penalty's gradient is
    // 0.2·(Σθ − heading) on every joint, and the last joint moves only the last link.
    forward("arm_reach_cost").check(
        &angles,
        |a| arm_reach_cost(a, &lengths, (1.2, 1.1), 0.2),
        |a, d| arm_reach_cost_jvp(a, &lengths, (1.2, 1.1), 0.2, d),
        |a, w| {
            let (y, pb) = arm_reach_cost_vjp(a, &lengths, (1.2, 1.1), 0.2);
            (y, pb(w))
        },
    );
}

/// The signed area of a polygon by the shoelace formula: consecutive pairs from `windows(2)`
/// and the closing edge from the last vertex back to the first.
#[differentiate(hessian)]
fn shoelace_area(pts: &[[f64; 2]]) -> f64 {
    let open: f64 = pts
        .windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum();
    let first = pts[0];
    let last = pts[pts.len() - 1];
    0.5 * (open + last[0] * first[1] - first[0] * last[1])
}

/// A polygon whose area is held near a target while its perimeter is kept short.
#[differentiate(hessian)]
fn polygon_fit(pts: &[[f64; 2]], target_area: f64) -> f64 {
    let n = pts.len();
    let mut perimeter = 0.0;
    for i in 0..n {
        let j = (i + 1) % n;
        perimeter += (pts[j][0] - pts[i][0]).hypot(pts[j][1] - pts[i][1]);
    }
    let a = shoelace_area(pts);
    (a - target_area).powi(2) + 0.01 * perimeter
}

#[test]
fn shoelace_area_with_wrap_around() {
    let pts = vec![[0.0, 0.0], [2.0, 0.1], [2.2, 1.5], [0.3, 1.9], [-0.4, 0.8]];
    let (v, g) = shoelace_area_grad(&pts);
    close("value", v, shoelace_area(&pts), TOL);
    // ∂xᵢ = (y_{i+1} − y_{i−1})/2, ∂yᵢ = (x_{i−1} − x_{i+1})/2
    let n = pts.len();
    for i in 0..n {
        let (p, q) = (pts[(i + n - 1) % n], pts[(i + 1) % n]);
        close("∂x", g[i][0], 0.5 * (q[1] - p[1]), TOL);
        close("∂y", g[i][1], 0.5 * (p[0] - q[0]), TOL);
    }
    let (v, (gp, gt)) = polygon_fit_grad(&pts, 3.0);
    close("fit value", v, polygon_fit(&pts, 3.0), TOL);
    close("∂target", gt, -2.0 * (shoelace_area(&pts) - 3.0), TOL);
    let r = gradcheck(|p: &Vec<[f64; 2]>| polygon_fit(p, 3.0), &pts, &gp);
    assert!(r.passed(), "∂pts: {r}");
    let dir: Vec<[f64; 2]> = (0..n).map(|i| [0.1 * i as f64, -0.2]).collect();
    let (_, (g2, _), (hp, ht)) = polygon_fit_hvp(&pts, 3.0, &dir, 0.5);
    assert_eq!(bits(&g2), bits(&gp), "hvp gradient");
    let flat = |p: &[f64]| -> (Vec<[f64; 2]>, f64) {
        ((0..n).map(|i| [p[2 * i], p[2 * i + 1]]).collect(), p[2 * n])
    };
    let mut x: Vec<f64> = pts.iter().flatten().copied().collect();
    x.push(3.0);
    let mut d: Vec<f64> = dir.iter().flatten().copied().collect();
    d.push(0.5);
    let mut hv: Vec<f64> = hp.iter().flatten().copied().collect();
    hv.push(ht);
    hvp_against_fd(
        "polygon_fit",
        |p| {
            let (q, t) = flat(p);
            let (_, (g, gt)) = polygon_fit_grad(&q, t);
            let mut out: Vec<f64> = g.iter().flatten().copied().collect();
            out.push(gt);
            out
        },
        &x,
        &d,
        &hv,
    );
}

/// The length of a Bézier curve of any degree, sampled at `n` points by de Casteljau's
/// algorithm over a `Vec` of tuples.
#[differentiate]
fn bezier_length(ctrl: &[(f64, f64)], n: usize) -> f64 {
    let point_at = |t: f64| -> (f64, f64) {
        let mut pts: Vec<(f64, f64)> = ctrl.to_vec();
        for level in 1..pts.len() {
            for i in 0..pts.len() - level {
                pts[i].0 = (1.0 - t) * pts[i].0 + t * pts[i + 1].0;
                pts[i].1 = (1.0 - t) * pts[i].1 + t * pts[i + 1].1;
            }
        }
        pts[0]
    };
    let mut length = 0.0;
    let mut prev = point_at(0.0);
    for k in 1..=n {
        let p = point_at(k as f64 / n as f64);
        length += (p.0 - prev.0).hypot(p.1 - prev.1);
        prev = p;
    }
    length
}

#[test]
fn bezier_curve_length_by_sampling() {
    let ctrl = vec![(0.0, 0.0), (0.5, 1.5), (2.0, 1.8), (3.0, 0.2)];
    let (v, g) = bezier_length_grad(&ctrl, 16);
    close("value", v, bezier_length(&ctrl, 16), TOL);
    let r = gradcheck(|c: &Vec<(f64, f64)>| bezier_length(c, 16), &ctrl, &g);
    assert!(r.passed(), "∂ctrl: {r}");
    // A straight segment as a degree-1 curve: ∂p₁ = unit direction, ∂p₀ = −that
    let (_, g) = bezier_length_grad(&[(0.0, 0.0), (3.0, 4.0)], 5);
    close2("∂p₁", g[1], (0.6, 0.8));
    close2("∂p₀", g[0], (-0.6, -0.8));
}

/// A 2-D point with the vector operations a segment distance needs.
#[derive(Clone, Copy, Debug, Differentiable)]
struct P2 {
    x: f64,
    y: f64,
}

#[differentiate]
impl P2 {
    fn dot(&self, o: &P2) -> f64 {
        self.x * o.x + self.y * o.y
    }
}

#[differentiate]
impl Sub for P2 {
    type Output = P2;
    fn sub(self, o: P2) -> P2 {
        P2 {
            x: self.x - o.x,
            y: self.y - o.y,
        }
    }
}

/// The distance from `p` to the segment `a`–`b`: the projection's parameter clamped to [0, 1].
#[differentiate]
fn point_segment_distance(p: P2, a: P2, b: P2) -> f64 {
    let ab = b - a;
    let ap = p - a;
    let t = (ap.dot(&ab) / ab.dot(&ab)).clamp(0.0, 1.0);
    let closest = P2 {
        x: a.x + t * ab.x,
        y: a.y + t * ab.y,
    };
    let d = p - closest;
    d.dot(&d).sqrt()
}

#[test]
fn point_to_segment_distance_with_clamp() {
    let (a, b) = (P2 { x: 0.0, y: 0.0 }, P2 { x: 4.0, y: 0.0 });
    // Above the middle: the distance is y, ∂p = (0, 1), ∂a = ∂b = (0, −½)
    let p = P2 { x: 1.0, y: 2.0 };
    let (v, (gp, ga, gb)) = point_segment_distance_grad(p, a, b);
    close("value", v, point_segment_distance(p, a, b), TOL);
    close2("∂p", (gp.x, gp.y), (0.0, 1.0));
    close2("∂a", (ga.x, ga.y), (0.0, -0.75));
    close2("∂b", (gb.x, gb.y), (0.0, -0.25));
    // Beyond the end b: the distance is |p − b|
    let q = P2 { x: 6.0, y: 1.5 };
    let (_, (gq, ga, gb)) = point_segment_distance_grad(q, a, b);
    let n = 2.0f64.hypot(1.5);
    close2("∂q", (gq.x, gq.y), (2.0 / n, 1.5 / n));
    close2("∂a beyond b", (ga.x, ga.y), (0.0, 0.0));
    close2("∂b beyond b", (gb.x, gb.y), (-2.0 / n, -1.5 / n));
    let r = gradcheck(
        |s: &(P2, P2, P2)| point_segment_distance(s.0, s.1, s.2),
        &(p, a, b),
        &point_segment_distance_grad(p, a, b).1,
    );
    assert!(r.passed(), "∂: {r}");
}

/// The residual of a two-link arm's inverse kinematics by the law of cosines: the elbow angle
/// from `acos`, the shoulder from `atan2`, and the reached point compared with the target.
#[differentiate]
fn two_link_ik_error(l1: f64, l2: f64, tx: f64, ty: f64) -> f64 {
    let d2 = tx * tx + ty * ty;
    let cos_elbow = ((d2 - l1 * l1 - l2 * l2) / (2.0 * l1 * l2)).clamp(-1.0, 1.0);
    let elbow = cos_elbow.acos();
    let shoulder = ty.atan2(tx) - (l2 * elbow.sin()).atan2(l1 + l2 * elbow.cos());
    let x = l1 * shoulder.cos() + l2 * (shoulder + elbow).cos();
    let y = l1 * shoulder.sin() + l2 * (shoulder + elbow).sin();
    (x - tx).powi(2) + (y - ty).powi(2) + elbow
}

#[test]
fn two_link_inverse_kinematics() {
    let p = (1.0, 0.8, 1.1, 0.9);
    let (v, g) = two_link_ik_error_grad(p.0, p.1, p.2, p.3);
    close("value", v, two_link_ik_error(p.0, p.1, p.2, p.3), TOL);
    let r = gradcheck(
        |q: &(f64, f64, f64, f64)| two_link_ik_error(q.0, q.1, q.2, q.3),
        &p,
        &g,
    );
    assert!(r.passed(), "∂: {r}");
    // The reached point is the target (the residual's gradient is 0): what is left is the
    // elbow's, ∂tx of acos((tx² + ty² − l1² − l2²)/(2 l1 l2)) = −tx/(l1 l2 sin elbow)
    let c = (p.2 * p.2 + p.3 * p.3 - p.0 * p.0 - p.1 * p.1) / (2.0 * p.0 * p.1);
    let s = (1.0 - c * c).sqrt();
    close("∂tx", g.2, -p.2 / (p.0 * p.1 * s), 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Signal processing.
// ---------------------------------------------------------------------------------------------

/// A causal FIR filter, yₙ = Σₖ hₖ·xₙ₋ₖ (taps past the start skipped), fitted to a target.
#[differentiate(wrt(taps))]
fn fir_fit(taps: &[f64], signal: &[f64], target: &[f64]) -> f64 {
    let filtered: Vec<f64> = (0..signal.len())
        .map(|n| {
            taps.iter()
                .enumerate()
                .filter(|&(k, _)| k <= n)
                .map(|(k, h)| h * signal[n - k])
                .sum::<f64>()
        })
        .collect();
    filtered
        .iter()
        .zip(target)
        .map(|(y, t)| (y - t).powi(2))
        .sum()
}

#[test]
fn fir_filter_fit() {
    let signal = data(12, 0.4);
    let target = data(12, 2.9);
    let taps = vec![0.5, 0.3, -0.2, 0.1];
    let (v, g) = fir_fit_grad(&taps, &signal, &target);
    close("value", v, fir_fit(&taps, &signal, &target), TOL);
    // ∂hₖ = 2Σₙ (yₙ − tₙ)·xₙ₋ₖ
    for k in 0..4 {
        let mut e = 0.0;
        for n in k..12 {
            let y: f64 = (0..=n.min(3)).map(|j| taps[j] * signal[n - j]).sum();
            e += 2.0 * (y - target[n]) * signal[n - k];
        }
        close("∂h", g[k], e, TOL);
    }
    fd_vec("∂taps", |h| fir_fit(h, &signal, &target), &taps, &g);
}

/// A biquad section's coefficients.
#[derive(Clone, Debug, Differentiable)]
struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
}

#[differentiate]
impl Biquad {
    /// Direct form I over the input, the two past inputs and outputs carried by the loop; the
    /// output's energy after a warm-up.
    fn output_energy(&self, input: &[f64], warmup: usize) -> f64 {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        let mut energy = 0.0;
        for (n, &x) in input.iter().enumerate() {
            let y = self.b0 * x + self.b1 * x1 + self.b2 * x2 - self.a1 * y1 - self.a2 * y2;
            (x2, x1) = (x1, x);
            (y2, y1) = (y1, y);
            if n >= warmup {
                energy += y * y;
            }
        }
        energy
    }
}

#[test]
fn biquad_filter_state_in_a_loop() {
    let f = Biquad {
        b0: 0.2,
        b1: 0.4,
        b2: 0.2,
        a1: -0.5,
        a2: 0.2,
    };
    let input: Vec<f64> = (0..30).map(|n| (n as f64 * 0.9).sin()).collect();
    let (v, (gf, gx)) = f.output_energy_grad(&input, 5);
    close("value", v, f.output_energy(&input, 5), TOL);
    let r = gradcheck(|f: &Biquad| f.output_energy(&input, 5), &f, &gf);
    assert!(r.passed(), "∂coefficients: {r}");
    fd_vec("∂input", |x| f.output_energy(x, 5), &input, &gx);
    // A pure gain (b0 only): energy = b0²Σx², ∂b0 = 2b0Σx²
    let gain = Biquad {
        b0: 1.5,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };
    let (_, (gg, _)) = gain.output_energy_grad(&input, 0);
    let sq: f64 = input.iter().map(|x| x * x).sum();
    close("∂b0", gg.b0, 3.0 * sq, TOL);
}

/// Total-variation denoising's objective with a smoothed absolute value:
/// ½Σ(uᵢ − fᵢ)² + λΣ√((uᵢ₊₁ − uᵢ)² + ε²).
#[differentiate(hessian, wrt(u))]
fn tv_denoise_objective(u: &[f64], noisy: &[f64], lambda: f64) -> f64 {
    const EPS: f64 = 1e-2;
    let fidelity: f64 = u
        .iter()
        .zip(noisy)
        .map(|(a, b)| 0.5 * (a - b).powi(2))
        .sum();
    let tv: f64 = u
        .windows(2)
        .map(|w| ((w[1] - w[0]).powi(2) + EPS * EPS).sqrt())
        .sum();
    fidelity + lambda * tv
}

#[test]
fn total_variation_gradient_and_hessian() {
    let noisy: Vec<f64> = (0..8)
        .map(|i| if i < 4 { 0.0 } else { 1.0 } + 0.1 * (i as f64 * 2.3).sin())
        .collect();
    let u: Vec<f64> = noisy.iter().map(|v| 0.9 * v + 0.05).collect();
    let (v, g) = tv_denoise_objective_grad(&u, &noisy, 0.3);
    close("value", v, tv_denoise_objective(&u, &noisy, 0.3), TOL);
    fd_vec("∂u", |u| tv_denoise_objective(u, &noisy, 0.3), &u, &g);
    let dir = data(8, 4.4);
    let (_, g2, hv) = tv_denoise_objective_hvp(&u, &noisy, 0.3, &dir);
    close_all("hvp gradient", &g2, &g);
    hvp_against_fd(
        "tv",
        |u| tv_denoise_objective_grad(u, &noisy, 0.3).1,
        &u,
        &dir,
        &hv,
    );
}

/// The magnitude spectrum of a real signal by the DFT written out, |Xₖ| = |Σₙ xₙe^{−2πikn/N}|,
/// summed over the first half of the bins with weights.
#[differentiate(wrt(x))]
fn weighted_spectrum(x: &[f64], weights: &[f64]) -> f64 {
    let n = x.len();
    let mut total = 0.0;
    for (k, w) in weights.iter().enumerate().take(n / 2) {
        let (mut re, mut im) = (0.0, 0.0);
        for (j, &v) in x.iter().enumerate() {
            let angle = 2.0 * PI * (k * j) as f64 / n as f64;
            re += v * angle.cos();
            im -= v * angle.sin();
        }
        total += w * (re * re + im * im).sqrt();
    }
    total
}

#[test]
fn dft_magnitudes_by_explicit_sums() {
    let x: Vec<f64> = (0..8)
        .map(|n| (2.0 * PI * n as f64 / 8.0).cos() + 0.3 * (n as f64).sin() + 0.2)
        .collect();
    let w = [1.0, 2.0, 0.5, 0.25];
    let (v, g) = weighted_spectrum_grad(&x, &w);
    close("value", v, weighted_spectrum(&x, &w), TOL);
    fd_vec("∂x", |x| weighted_spectrum(x, &w), &x, &g);
    // Bin 0 alone: |Σx|, ∂xₙ = sign(Σx)
    let (_, g0) = weighted_spectrum_grad(&x, &[1.0, 0.0, 0.0, 0.0]);
    for gi in &g0 {
        close("∂x (bin 0)", *gi, x.iter().sum::<f64>().signum(), TOL);
    }
    forward("weighted_spectrum").check(
        &x,
        |x| weighted_spectrum(x, &w),
        |x, d| weighted_spectrum_jvp(x, &w, d),
        |x, c| {
            let (y, pb) = weighted_spectrum_vjp(x, &w);
            (y, pb(c))
        },
    );
}

/// A peak picker: the largest sample's value and its neighbours fitted by a parabola (quadratic
/// interpolation), `None` where the peak is at an edge.
#[differentiate]
fn interpolated_peak(x: &[f64]) -> f64 {
    let best = x
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.partial_cmp(b.1).unwrap())
        .map(|(i, _)| i)
        .unwrap();
    if best == 0 || best + 1 == x.len() {
        return x[best];
    }
    let (a, b, c) = (x[best - 1], x[best], x[best + 1]);
    let p = 0.5 * (a - c) / (a - 2.0 * b + c);
    b - 0.25 * (a - c) * p
}

#[test]
fn parabolic_peak_interpolation() {
    let x = vec![0.1, 0.5, 1.2, 1.0, 0.3];
    let (v, g) = interpolated_peak_grad(&x);
    close("value", v, interpolated_peak(&x), TOL);
    fd_vec("∂x", interpolated_peak, &x, &g);
    close("∂x₀", g[0], 0.0, 0.0);
    // At an edge the peak is the sample: ∂ = e_last
    let (_, g) = interpolated_peak_grad(&[0.1, 0.2, 0.9]);
    close_all("∂ edge", &g, &[0.0, 0.0, 1.0]);
}

// ---------------------------------------------------------------------------------------------
// Machine learning as scalar Rust.
// ---------------------------------------------------------------------------------------------

/// A one-hidden-layer perceptron with its weights as rows.
#[derive(Clone, Debug, Differentiable)]
struct Mlp {
    w1: Vec<Vec<f64>>,
    b1: Vec<f64>,
    w2: Vec<f64>,
    b2: f64,
}

#[differentiate]
impl Mlp {
    fn forward(&self, x: &[f64]) -> f64 {
        let mut out = self.b2;
        for (row, (b, w)) in self.w1.iter().zip(self.b1.iter().zip(&self.w2)) {
            let pre: f64 = row.iter().zip(x).map(|(a, v)| a * v).sum::<f64>() + b;
            out += w * pre.tanh();
        }
        out
    }

    fn mse(&self, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        let mut total = 0.0;
        for (x, y) in xs.iter().zip(ys) {
            let e = self.forward(x) - y;
            total += e * e;
        }
        total / ys.len() as f64
    }
}

fn small_mlp() -> Mlp {
    Mlp {
        w1: (0..4).map(|j| data(2, 3.0 * j as f64)).collect(),
        b1: data(4, 7.7),
        w2: data(4, 1.9),
        b2: 0.1,
    }
}

#[test]
fn tiny_mlp_trained_with_adam() {
    use autodiff::optim::{Adam, AdamConfig, Optimizer};
    let xs: Vec<Vec<f64>> = (0..10)
        .map(|i| vec![i as f64 / 5.0 - 1.0, ((i * 7) % 10) as f64 / 5.0 - 1.0])
        .collect();
    let ys: Vec<f64> = xs.iter().map(|x| (x[0] * 2.0).sin() * x[1]).collect();
    let mut model = small_mlp();
    let (v, (g, _, _)) = model.mse_grad(&xs, &ys);
    close("value", v, model.mse(&xs, &ys), TOL);
    let r = gradcheck(|m: &Mlp| m.mse(&xs, &ys), &model, &g);
    assert!(r.passed(), "∂model: {r}");
    // ∂b2 = 2·mean error
    let e: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| 2.0 * (model.forward(x) - y) / 10.0)
        .sum();
    close("∂b2", g.b2, e, TOL);
    let start = v;
    let mut adam = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    for _ in 0..200 {
        let (_, (g, _, _)) = model.mse_grad(&xs, &ys);
        adam.step(&mut model, &g);
    }
    let end = model.mse(&xs, &ys);
    assert!(end < 0.5 * start, "Adam did not fit: {start} → {end}");
}

/// Soft k-means: the smoothed minimum over centres of the squared distance, −T·ln Σ e^{−d²/T},
/// summed over points.
#[differentiate(wrt(centres))]
fn soft_kmeans(centres: &[[f64; 2]], points: &[[f64; 2]], temperature: f64) -> f64 {
    let mut total = 0.0;
    for p in points {
        let d2: Vec<f64> = centres
            .iter()
            .map(|c| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2))
            .collect();
        let nearest = d2.iter().copied().fold(f64::INFINITY, f64::min);
        let z: f64 = d2
            .iter()
            .map(|d| (-(d - nearest) / temperature).exp())
            .sum();
        total += nearest - temperature * z.ln();
    }
    total
}

#[test]
fn soft_kmeans_objective() {
    let centres = vec![[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]];
    let points: Vec<[f64; 2]> = (0..9)
        .map(|i| [((i as f64) * 1.3).sin(), ((i as f64) * 0.7).cos()])
        .collect();
    let (v, g) = soft_kmeans_grad(&centres, &points, 0.5);
    close("value", v, soft_kmeans(&centres, &points, 0.5), TOL);
    // ∂c_k = Σ_p r_{pk}·2(c_k − p) with responsibilities r = softmax(−d²/T)
    for k in 0..3 {
        let mut e = [0.0, 0.0];
        for p in &points {
            let d: Vec<f64> = centres
                .iter()
                .map(|c| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2))
                .collect();
            let z: f64 = d.iter().map(|d| (-d / 0.5).exp()).sum();
            let r = (-d[k] / 0.5).exp() / z;
            e[0] += r * 2.0 * (centres[k][0] - p[0]);
            e[1] += r * 2.0 * (centres[k][1] - p[1]);
        }
        close2("∂c", (g[k][0], g[k][1]), (e[0], e[1]));
    }
    let r = gradcheck(
        |c: &Vec<[f64; 2]>| soft_kmeans(c, &points, 0.5),
        &centres,
        &g,
    );
    assert!(r.passed(), "∂centres: {r}");
}

/// Matrix factorization of observed ratings (row, column, value) with L2 regularization.
#[differentiate(wrt(users, items))]
fn factorization_loss(
    users: &[Vec<f64>],
    items: &[Vec<f64>],
    ratings: &[(usize, usize, f64)],
    reg: f64,
) -> f64 {
    let mut loss = 0.0;
    for &(u, i, r) in ratings {
        let pred: f64 = users[u].iter().zip(&items[i]).map(|(a, b)| a * b).sum();
        loss += (pred - r).powi(2);
    }
    let mut norm = 0.0;
    for u in 0..users.len() {
        for v in &users[u] {
            norm += v * v;
        }
    }
    for i in 0..items.len() {
        norm += items[i].iter().map(|v| v * v).sum::<f64>();
    }
    loss + reg * norm
}

#[test]
fn matrix_factorization_over_triples() {
    let users: Vec<Vec<f64>> = (0..3).map(|u| data(2, u as f64)).collect();
    let items: Vec<Vec<f64>> = (0..4).map(|i| data(2, 10.0 + i as f64)).collect();
    let ratings = vec![
        (0, 1, 4.0),
        (0, 3, 1.0),
        (1, 0, 3.5),
        (2, 2, 2.0),
        (2, 1, 5.0),
    ];
    let (v, (gu, gi)) = factorization_loss_grad(&users, &items, &ratings, 0.1);
    close(
        "value",
        v,
        factorization_loss(&users, &items, &ratings, 0.1),
        TOL,
    );
    // ∂users[1] = 2(u₁·i₀ − 3.5)·i₀ + 0.2·u₁
    let p: f64 = users[1].iter().zip(&items[0]).map(|(a, b)| a * b).sum();
    for k in 0..2 {
        close(
            "∂u₁",
            gu[1][k],
            2.0 * (p - 3.5) * items[0][k] + 0.2 * users[1][k],
            TOL,
        );
    }
    let r = gradcheck(
        |p: &(Vec<Vec<f64>>, Vec<Vec<f64>>)| factorization_loss(&p.0, &p.1, &ratings, 0.1),
        &(users.clone(), items.clone()),
        &(gu, gi),
    );
    assert!(r.passed(), "∂: {r}");
}

/// Scaled dot-product attention of one query over keys and values of width 4; the loss is
/// the attended vector's projection on a read-out.
#[differentiate(wrt(query, keys, values))]
fn attention_readout(
    query: [f64; 4],
    keys: &[[f64; 4]],
    values: &[[f64; 4]],
    readout: [f64; 4],
) -> f64 {
    let scale = 1.0 / 2.0; // 1/√4
    let scores: Vec<f64> = keys
        .iter()
        .map(|k| scale * k.iter().zip(&query).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
    let z: f64 = exps.iter().sum();
    let mut out = [0.0; 4];
    for (e, v) in exps.iter().zip(values) {
        for d in 0..4 {
            out[d] += e / z * v[d];
        }
    }
    out.iter().zip(&readout).map(|(o, r)| o * r).sum()
}

#[test]
fn attention_over_arrays_of_four() {
    let q = [0.3, -0.5, 0.8, 0.1];
    let keys: Vec<[f64; 4]> = (0..5)
        .map(|i| {
            let d = data(4, i as f64 * 1.1);
            [d[0], d[1], d[2], d[3]]
        })
        .collect();
    let values: Vec<[f64; 4]> = (0..5)
        .map(|i| {
            let d = data(4, 20.0 + i as f64);
            [d[0], d[1], d[2], d[3]]
        })
        .collect();
    let readout = [1.0, 0.5, -0.5, 2.0];
    let (v, (gq, gk, gv)) = attention_readout_grad(q, &keys, &values, readout);
    close(
        "value",
        v,
        attention_readout(q, &keys, &values, readout),
        TOL,
    );
    // ∂values_j = pⱼ·readout
    let s: Vec<f64> = keys
        .iter()
        .map(|k| 0.5 * k.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    let z: f64 = s.iter().map(|v| v.exp()).sum();
    for j in 0..5 {
        for d in 0..4 {
            close("∂v", gv[j][d], s[j].exp() / z * readout[d], TOL);
        }
    }
    let r = gradcheck(
        |p: &([f64; 4], Vec<[f64; 4]>, Vec<[f64; 4]>)| attention_readout(p.0, &p.1, &p.2, readout),
        &(q, keys.clone(), values.clone()),
        &(gq, gk, gv),
    );
    assert!(r.passed(), "∂: {r}");
}

// ---------------------------------------------------------------------------------------------
// More physics: particles with `&mut self` steps, bounces, orbits, populations.
// ---------------------------------------------------------------------------------------------

/// A particle in the anharmonic well V(x) = ½k x² + ¼c x⁴.
#[derive(Clone, Debug, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

#[differentiate]
impl Particle {
    fn force(&self, k: f64, c: f64) -> f64 {
        -k * self.x - c * self.x.powi(3)
    }

    /// One velocity-Verlet step.
    fn verlet(&mut self, k: f64, c: f64, dt: f64) {
        let a0 = self.force(k, c);
        self.x += self.v * dt + 0.5 * a0 * dt * dt;
        let a1 = self.force(k, c);
        self.v += 0.5 * (a0 + a1) * dt;
    }

    fn energy(&self, k: f64, c: f64) -> f64 {
        0.5 * self.v * self.v + 0.5 * k * self.x * self.x + 0.25 * c * self.x.powi(4)
    }
}

/// The energy drift of velocity Verlet after `steps` steps.
#[differentiate]
fn verlet_energy_drift(x0: f64, v0: f64, k: f64, c: f64, dt: f64, steps: usize) -> f64 {
    let mut p = Particle { x: x0, v: v0 };
    let e0 = p.energy(k, c);
    for _ in 0..steps {
        p.verlet(k, c, dt);
    }
    p.energy(k, c) - e0
}

#[test]
fn velocity_verlet_with_a_mut_self_step() {
    let (x0, v0, k, c, dt) = (1.0, 0.2, 2.0, 0.5, 0.1);
    let (v, g) = verlet_energy_drift_grad(x0, v0, k, c, dt, 40);
    close("value", v, verlet_energy_drift(x0, v0, k, c, dt, 40), TOL);
    let r = gradcheck(
        |p: &(f64, f64, f64, f64, f64)| verlet_energy_drift(p.0, p.1, p.2, p.3, p.4, 40),
        &(x0, v0, k, c, dt),
        &g,
    );
    assert!(r.passed(), "∂: {r}");
    // Without steps there is no drift, and no gradient.
    let (_, g0) = verlet_energy_drift_grad(x0, v0, k, c, dt, 0);
    assert_eq!(bits(&g0), bits(&(0.0, 0.0, 0.0, 0.0, 0.0)));
}

/// A ball dropped from height `h` bouncing with restitution `e`: where it is after `t_end`.
#[differentiate]
fn bouncing_ball_height(h: f64, e: f64, t_end: f64) -> f64 {
    const G: f64 = 9.81;
    let dt = t_end / 400.0;
    let (mut y, mut vy) = (h, 0.0);
    for _ in 0..400 {
        vy -= G * dt;
        y += vy * dt;
        if y < 0.0 {
            y = -e * y;
            vy = -e * vy;
        }
    }
    y
}

#[test]
fn bouncing_ball_with_restitution() {
    let (v, (gh, ge, gt)) = bouncing_ball_height_grad(2.0, 0.8, 1.5);
    close("value", v, bouncing_ball_height(2.0, 0.8, 1.5), TOL);
    fd3(
        "bounce",
        bouncing_ball_height,
        (2.0, 0.8, 1.5),
        (gh, ge, gt),
    );
    // Before the first bounce, y = h − g·dt²·Σk: ∂h = 1, ∂e = 0
    let (_, (gh, ge, _)) = bouncing_ball_height_grad(2.0, 0.8, 0.3);
    close2("free fall", (gh, ge), (1.0, 0.0));
}

/// Lotka–Volterra predator–prey by Heun's method (RK2), generic over the float type; the
/// result is the prey count at the end.
#[differentiate]
fn lotka_volterra<T: Float>(prey0: T, pred0: T, params: [T; 4], dt: T, steps: usize) -> T {
    let [alpha, beta, delta, gamma] = params;
    let rate = |x: T, y: T| (alpha * x - beta * x * y, delta * x * y - gamma * y);
    let (mut x, mut y) = (prey0, pred0);
    let half = T::from(0.5).unwrap();
    for _ in 0..steps {
        let (dx1, dy1) = rate(x, y);
        let (dx2, dy2) = rate(x + dt * dx1, y + dt * dy1);
        x = x + half * dt * (dx1 + dx2);
        y = y + half * dt * (dy1 + dy2);
    }
    x
}

#[test]
fn lotka_volterra_heun_generic() {
    let params = [1.1, 0.4, 0.1, 0.4];
    let (v, (gx, gy, gp, gdt)) = lotka_volterra_grad(10.0, 5.0, params, 0.05, 60);
    close("value", v, lotka_volterra(10.0, 5.0, params, 0.05, 60), TOL);
    let r = gradcheck(
        |p: &(f64, f64, [f64; 4], f64)| lotka_volterra(p.0, p.1, p.2, p.3, 60),
        &(10.0, 5.0, params, 0.05),
        &(gx, gy, gp, gdt),
    );
    assert!(r.passed(), "∂: {r}");
    // f32 agrees with f64 to f32's accuracy
    let p32 = params.map(|p| p as f32);
    let (_, (gx32, _, _, _)) = lotka_volterra_grad(10.0f32, 5.0, p32, 0.05, 60);
    close("∂prey0 (f32)", gx32 as f64, gx, 1e-3);
}

/// An SIR epidemic by forward Euler; the infected fraction each day against observations.
#[differentiate(wrt(beta, gamma))]
fn sir_misfit(beta: f64, gamma: f64, observed: &[f64]) -> f64 {
    let (mut s, mut i) = (0.99, 0.01);
    let substeps = 10;
    let dt = 1.0 / substeps as f64;
    let mut misfit = 0.0;
    for &obs in observed {
        for _ in 0..substeps {
            let infections = beta * s * i;
            s -= dt * infections;
            i += dt * (infections - gamma * i);
        }
        misfit += (i - obs).powi(2);
    }
    misfit
}

#[test]
fn sir_model_fitted_with_sgd_momentum() {
    use autodiff::optim::{Momentum, MomentumConfig, Optimizer};
    // Observations from β = 0.5, γ = 0.2.
    let days = 20;
    let mut observed = Vec::new();
    {
        let (mut s, mut i) = (0.99, 0.01);
        for _ in 0..days {
            for _ in 0..10 {
                let inf = 0.5 * s * i;
                s -= 0.1 * inf;
                i += 0.1 * (inf - 0.2 * i);
            }
            observed.push(i);
        }
    }
    let mut p = (0.45, 0.23);
    let (v, g) = sir_misfit_grad(p.0, p.1, &observed);
    close("value", v, sir_misfit(p.0, p.1, &observed), TOL);
    fd2("sir", |b, g| sir_misfit(b, g, &observed), p, g);
    let mut opt = Momentum::new(MomentumConfig {
        lr: 0.002,
        ..Default::default()
    });
    for _ in 0..300 {
        let (_, g) = sir_misfit_grad(p.0, p.1, &observed);
        opt.step(&mut p, &g);
    }
    let end = sir_misfit(p.0, p.1, &observed);
    assert!(
        end < 0.1 * v,
        "the fit did not improve: {v} → {end} at {p:?}"
    );
}

/// A square root by Newton's method run to convergence inside the function: the derivative
/// of the iterations converges to that of √a.
#[differentiate]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = if a > 1.0 { a } else { 1.0 };
    let mut iterations = 0;
    while (x * x - a).abs() > 1e-14 * a && iterations < 60 {
        x = 0.5 * (x + a / x);
        iterations += 1;
    }
    x
}

#[test]
fn newton_iteration_to_convergence() {
    for a in [0.25, 2.0, 50.0] {
        let (v, g) = newton_sqrt_grad(a);
        close("value", v, newton_sqrt(a), TOL);
        // d√a/da = 1/(2√a), reached by the converged iteration
        close("∂a", g, 0.5 / a.sqrt(), 1e-10);
        fd("newton_sqrt", newton_sqrt, a, g);
    }
    let t = forward("newton_sqrt").one(2.0, newton_sqrt, newton_sqrt_jvp, newton_sqrt_vjp);
    tangents_are("newton_sqrt", &t, 0.5 / 2.0f64.sqrt(), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// More statistics.
// ---------------------------------------------------------------------------------------------

/// A two-component Gaussian mixture's NLL with log-sum-exp over the components; the weight on
/// a logit, the scales on log axes.
#[differentiate(wrt(theta))]
fn mixture_nll(theta: &[f64; 5], xs: &[f64]) -> f64 {
    let w = 1.0 / (1.0 + (-theta[0]).exp());
    let (m1, m2) = (theta[1], theta[2]);
    let (s1, s2) = (theta[3].exp(), theta[4].exp());
    let log_norm =
        |x: f64, m: f64, s: f64| -0.5 * ((x - m) / s).powi(2) - s.ln() - 0.5 * (2.0 * PI).ln();
    let mut nll = 0.0;
    for &x in xs {
        let a = w.ln() + log_norm(x, m1, s1);
        let b = (1.0 - w).ln() + log_norm(x, m2, s2);
        let m = a.max(b);
        nll -= m + ((a - m).exp() + (b - m).exp()).ln();
    }
    nll
}

#[test]
fn two_component_gaussian_mixture() {
    let xs: Vec<f64> = (0..12)
        .map(|i| if i % 3 == 0 { 2.0 } else { -1.0 } + 0.4 * (i as f64 * 1.9).sin())
        .collect();
    let theta = [0.2, -0.8, 1.7, -0.5, -0.9];
    let (v, g) = mixture_nll_grad(&theta, &xs);
    close("value", v, mixture_nll(&theta, &xs), TOL);
    let r = gradcheck(|t: &[f64; 5]| mixture_nll(t, &xs), &theta, &g);
    assert!(r.passed(), "∂θ: {r}");
    // ∂m₁ = −Σ r₁(x)·(x − m₁)/s₁², r₁ the first component's responsibility
    let w = 1.0 / (1.0 + (-0.2f64).exp());
    let (s1, s2) = ((-0.5f64).exp(), (-0.9f64).exp());
    let dens = |x: f64, m: f64, s: f64| (-0.5 * ((x - m) / s).powi(2)).exp() / s;
    let e: f64 = xs
        .iter()
        .map(|&x| {
            let (p, q) = (w * dens(x, -0.8, s1), (1.0 - w) * dens(x, 1.7, s2));
            -p / (p + q) * (x + 0.8) / (s1 * s1)
        })
        .sum();
    close("∂m₁", g[1], e, 1e-10);
}

/// Ordinary least squares with an optional ridge penalty: `reg: Option<f64>`, a setting that
/// may be off.
#[differentiate(wrt(w))]
fn ridge_loss(w: &[f64], xs: &[Vec<f64>], ys: &[f64], reg: Option<f64>) -> f64 {
    let mut loss = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let pred: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
        loss += 0.5 * (pred - y).powi(2);
    }
    if let Some(lambda) = reg {
        loss += 0.5 * lambda * w.iter().map(|v| v * v).sum::<f64>();
    }
    loss
}

#[test]
fn ridge_with_an_optional_penalty() {
    let xs: Vec<Vec<f64>> = (0..6).map(|i| data(3, 0.7 * i as f64)).collect();
    let ys = data(6, 9.1);
    let w = vec![0.2, -0.4, 0.9];
    let (v0, g0) = ridge_loss_grad(&w, &xs, &ys, None);
    let (v1, g1) = ridge_loss_grad(&w, &xs, &ys, Some(0.3));
    close("value", v0, ridge_loss(&w, &xs, &ys, None), TOL);
    close("value", v1, ridge_loss(&w, &xs, &ys, Some(0.3)), TOL);
    // The penalty adds λw
    for j in 0..3 {
        close("∂w", g1[j], g0[j] + 0.3 * w[j], TOL);
    }
    fd_vec("∂w", |w| ridge_loss(w, &xs, &ys, Some(0.3)), &w, &g1);
}

/// Which side of a quantile a residual falls on.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Under,
    Over,
}

/// The pinball (quantile) loss of a linear predictor, the side decided by a `match` on an
/// enum computed as data.
#[differentiate(wrt(a, b))]
fn pinball_loss(a: f64, b: f64, xs: &[f64], ys: &[f64], tau: f64) -> f64 {
    let mut loss = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let r = y - (a * x + b);
        let side = if r >= 0.0 { Side::Under } else { Side::Over };
        loss += match side {
            Side::Under => tau * r,
            Side::Over => (tau - 1.0) * r,
        };
    }
    loss
}

#[test]
fn quantile_regression_with_an_enum_side() {
    let xs: Vec<f64> = (0..9).map(|i| i as f64).collect();
    let ys: Vec<f64> = xs.iter().map(|x| 0.5 * x + (x * 1.7).sin()).collect();
    let (v, (ga, gb)) = pinball_loss_grad(0.45, 0.1, &xs, &ys, 0.9);
    close("value", v, pinball_loss(0.45, 0.1, &xs, &ys, 0.9), TOL);
    // ∂b = −Σ (τ − [r < 0]), ∂a = −Σ x(τ − [r < 0])
    let (mut ea, mut eb) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let r = y - 0.45 * x - 0.1;
        let d = 0.9 - if r < 0.0 { 1.0 } else { 0.0 };
        ea -= x * d;
        eb -= d;
    }
    close2("∂", (ga, gb), (ea, eb));
    fd2(
        "pinball",
        |a, b| pinball_loss(a, b, &xs, &ys, 0.9),
        (0.45, 0.1),
        (ga, gb),
    );
}

/// Holt's linear trend method (double exponential smoothing): one-step-ahead squared errors.
#[differentiate(hessian, wrt(alpha, beta))]
fn holt_sse(alpha: f64, beta: f64, series: &[f64]) -> f64 {
    let mut level = series[0];
    let mut trend = series[1] - series[0];
    let mut sse = 0.0;
    for &y in &series[1..] {
        let forecast = level + trend;
        sse += (y - forecast).powi(2);
        let new_level = alpha * y + (1.0 - alpha) * forecast;
        trend = beta * (new_level - level) + (1.0 - beta) * trend;
        level = new_level;
    }
    sse
}

#[test]
fn holt_double_exponential_smoothing() {
    let series: Vec<f64> = (0..15)
        .map(|t| 2.0 + 0.3 * t as f64 + 0.5 * (t as f64 * 1.3).sin())
        .collect();
    let (v, (ga, gb)) = holt_sse_grad(0.4, 0.2, &series);
    close("value", v, holt_sse(0.4, 0.2, &series), TOL);
    fd2("holt", |a, b| holt_sse(a, b, &series), (0.4, 0.2), (ga, gb));
    let grad = |p: &[f64]| {
        let (_, (a, b)) = holt_sse_grad(p[0], p[1], &series);
        vec![a, b]
    };
    let (_, _, (h0, h1)) = holt_sse_hvp(0.4, 0.2, &series, 0.6, -0.8);
    hvp_against_fd("holt", grad, &[0.4, 0.2], &[0.6, -0.8], &[h0, h1]);
}

/// The Weibull NLL with shape k and scale λ: −Σ [ln k − k ln λ + (k − 1) ln x − (x/λ)^k].
#[differentiate(wrt(shape, scale))]
fn weibull_nll(shape: f64, scale: f64, xs: &[f64]) -> f64 {
    -xs.iter()
        .map(|&x| {
            shape.ln() - shape * scale.ln() + (shape - 1.0) * x.ln() - (x / scale).powf(shape)
        })
        .sum::<f64>()
}

#[test]
fn weibull_nll_with_powf() {
    let xs = [0.5, 1.2, 0.8, 2.1, 1.6, 0.3];
    let (k, l) = (1.5, 1.1);
    let (v, (gk, gl)) = weibull_nll_grad(k, l, &xs);
    close("value", v, weibull_nll(k, l, &xs), TOL);
    // ∂λ = Σ k/λ − (k/λ)(x/λ)^k
    let e: f64 = xs.iter().map(|x| k / l - k / l * (x / l).powf(k)).sum();
    close("∂λ", gl, e, TOL);
    fd2("weibull", |a, b| weibull_nll(a, b, &xs), (k, l), (gk, gl));
    forward("weibull_nll").two(
        (k, l),
        |a, b| weibull_nll(a, b, &xs),
        |a, b, da, db| weibull_nll_jvp(a, b, &xs, da, db),
        |a, b| weibull_nll_vjp(a, b, &xs),
    );
}

/// The Sharpe ratio of a portfolio's returns: mean over standard deviation of Σⱼ wⱼ·rₜⱼ.
#[differentiate(wrt(weights))]
fn sharpe_ratio(weights: &[f64], returns: &[[f64; 3]], risk_free: f64) -> f64 {
    let series: Vec<f64> = returns
        .iter()
        .map(|r| r.iter().zip(weights).map(|(a, w)| a * w).sum::<f64>() - risk_free)
        .collect();
    let n = series.len() as f64;
    let mean = series.iter().sum::<f64>() / n;
    let var = series.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0);
    mean / var.sqrt()
}

#[test]
fn sharpe_ratio_of_a_portfolio() {
    let returns: Vec<[f64; 3]> = (0..10)
        .map(|t| {
            let t = t as f64;
            [
                0.01 + 0.02 * (t * 0.9).sin(),
                0.005 + 0.01 * (t * 1.7).cos(),
                0.008 + 0.03 * (t * 0.4).sin(),
            ]
        })
        .collect();
    let w = vec![0.5, 0.3, 0.2];
    let (v, g) = sharpe_ratio_grad(&w, &returns, 0.001);
    close("value", v, sharpe_ratio(&w, &returns, 0.001), TOL);
    fd_vec("∂w", |w| sharpe_ratio(w, &returns, 0.001), &w, &g);
    // Scale invariance without a risk-free rate: ⟨∇S, w⟩ = 0
    let (_, g0) = sharpe_ratio_grad(&w, &returns, 0.0);
    close(
        "⟨∇S, w⟩",
        g0.iter().zip(&w).map(|(a, b)| a * b).sum(),
        0.0,
        1e-12,
    );
}

/// An American put on a Cox–Ross–Rubinstein binomial tree: backward induction over a `Vec`
/// with the early-exercise `max`.
#[differentiate]
fn american_put(spot: f64, strike: f64, rate: f64, vol: f64, t: f64, n: usize) -> f64 {
    let dt = t / n as f64;
    let u = (vol * dt.sqrt()).exp();
    let d = 1.0 / u;
    let disc = (-rate * dt).exp();
    let p = ((rate * dt).exp() - d) / (u - d);
    let mut values: Vec<f64> = (0..=n)
        .map(|j| (strike - spot * u.powi(j as i32) * d.powi((n - j) as i32)).max(0.0))
        .collect();
    for step in (0..n).rev() {
        for j in 0..=step {
            let hold = disc * (p * values[j + 1] + (1.0 - p) * values[j]);
            let exercise = strike - spot * u.powi(j as i32) * d.powi((step - j) as i32);
            values[j] = hold.max(exercise);
        }
    }
    values[0]
}

#[test]
fn american_put_on_a_binomial_tree() {
    let (s, k, r, v, t) = (100.0, 105.0, 0.04, 0.3, 1.0);
    let (price, (delta, gk, gr, gv, gt)) = american_put_grad(s, k, r, v, t, 50);
    close("value", price, american_put(s, k, r, v, t, 50), TOL);
    fd("delta", |s| american_put(s, k, r, v, t, 50), s, delta);
    fd("∂K", |k| american_put(s, k, r, v, t, 50), k, gk);
    fd("rho", |r| american_put(s, k, r, v, t, 50), r, gr);
    fd("vega", |v| american_put(s, k, r, v, t, 50), v, gv);
    fd("∂T", |t| american_put(s, k, r, v, t, 50), t, gt);
    assert!(
        (-1.0..0.0).contains(&delta),
        "a put's delta is in (−1, 0): {delta}"
    );
    // Homogeneity of degree one in (S, K): S·∂S + K·∂K = price
    close("Euler", s * delta + k * gk, price, 1e-10);
}

/// A bond's price from its yield, with the coupon schedule in a `const` table; the result is
/// the squared pricing error against a quote, so its derivative carries the duration.
#[differentiate]
fn bond_pricing_error(yield_rate: f64, quote: f64) -> f64 {
    const SCHEDULE: [(f64, f64); 5] =
        [(0.5, 2.5), (1.0, 2.5), (1.5, 2.5), (2.0, 2.5), (2.5, 102.5)];
    let mut price = 0.0;
    for &(t, cash) in SCHEDULE.iter() {
        price += cash * (-yield_rate * t).exp();
    }
    (price - quote).powi(2)
}

#[test]
fn bond_price_from_a_const_schedule() {
    let (v, (gy, gq)) = bond_pricing_error_grad(0.045, 101.0);
    close("value", v, bond_pricing_error(0.045, 101.0), TOL);
    // ∂y = 2(P − q)·(−Σ t·c·e^{−yt})
    let sched = [(0.5, 2.5), (1.0, 2.5), (1.5, 2.5), (2.0, 2.5), (2.5, 102.5)];
    let p: f64 = sched.iter().map(|(t, c)| c * (-0.045f64 * t).exp()).sum();
    let dp: f64 = sched
        .iter()
        .map(|(t, c)| -t * c * (-0.045f64 * t).exp())
        .sum();
    close("∂y", gy, 2.0 * (p - 101.0) * dp, TOL);
    close("∂q", gq, -2.0 * (p - 101.0), TOL);
    fd("∂y", |y| bond_pricing_error(y, 101.0), 0.045, gy);
}

// ---------------------------------------------------------------------------------------------
// More geometry.
// ---------------------------------------------------------------------------------------------

/// A circle fitted to points by geometric distance: Σ (|p − c| − r)².
#[differentiate(hessian, wrt(centre, radius))]
fn circle_fit(centre: [f64; 2], radius: f64, pts: &[(f64, f64)]) -> f64 {
    pts.iter()
        .map(|&(x, y)| ((x - centre[0]).hypot(y - centre[1]) - radius).powi(2))
        .sum()
}

#[test]
fn circle_fit_gradient_and_hessian() {
    let pts: Vec<(f64, f64)> = (0..7)
        .map(|k| {
            let a = k as f64 * 0.9;
            (
                1.0 + 2.0 * a.cos() + 0.05 * (3.0 * a).sin(),
                -0.5 + 2.0 * a.sin(),
            )
        })
        .collect();
    let c = [0.8, -0.3];
    let (v, (_, gr)) = circle_fit_grad(c, 1.7, &pts);
    close("value", v, circle_fit(c, 1.7, &pts), TOL);
    // ∂r = −2Σ(dᵢ − r)
    let e: f64 = pts
        .iter()
        .map(|&(x, y)| -2.0 * ((x - 0.8).hypot(y + 0.3) - 1.7))
        .sum();
    close("∂r", gr, e, TOL);
    let grad = |p: &[f64]| {
        let (_, (g, r)) = circle_fit_grad([p[0], p[1]], p[2], &pts);
        vec![g[0], g[1], r]
    };
    let (_, _, (hc, hr)) = circle_fit_hvp(c, 1.7, &pts, [0.3, 1.0], -0.5);
    hvp_against_fd(
        "circle_fit",
        grad,
        &[0.8, -0.3, 1.7],
        &[0.3, 1.0, -0.5],
        &[hc[0], hc[1], hr],
    );
    // ∂²/∂r² = 2n
    let (_, _, (_, hrr)) = circle_fit_hvp(c, 1.7, &pts, [0.0, 0.0], 1.0);
    close("∂²r", hrr, 14.0, TOL);
}

/// A 3-vector with the products a mesh needs.
#[derive(Clone, Copy, Debug, Differentiable)]
struct V3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl V3 {
    fn new(x: f64, y: f64, z: f64) -> V3 {
        V3 { x, y, z }
    }
    fn sub(&self, o: &V3) -> V3 {
        V3::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
    fn cross(&self, o: &V3) -> V3 {
        V3::new(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }
    fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y + self.z * self.z).sqrt()
    }
}

/// The surface area of a triangle mesh: vertices as a slice of `V3`, faces as index triples.
#[differentiate(wrt(vertices))]
fn mesh_area(vertices: &[V3], faces: &[[usize; 3]]) -> f64 {
    let mut area = 0.0;
    for &[a, b, c] in faces {
        let e1 = vertices[b].sub(&vertices[a]);
        let e2 = vertices[c].sub(&vertices[a]);
        area += 0.5 * e1.cross(&e2).norm();
    }
    area
}

#[test]
fn triangle_mesh_surface_area() {
    // A unit square in the z = 0 plane as two triangles, and one lifted apex.
    let vertices = vec![
        V3::new(0.0, 0.0, 0.0),
        V3::new(1.0, 0.0, 0.0),
        V3::new(1.0, 1.0, 0.0),
        V3::new(0.0, 1.0, 0.0),
        V3::new(0.5, 0.5, 0.7),
    ];
    let faces = [[0, 1, 2], [0, 2, 3], [0, 1, 4], [1, 2, 4]];
    let (v, g) = mesh_area_grad(&vertices, &faces);
    close("value", v, mesh_area(&vertices, &faces), TOL);
    let r = gradcheck(|v: &Vec<V3>| mesh_area(v, &faces), &vertices, &g);
    assert!(r.passed(), "∂vertices: {r}");
    // Only the two flat faces: vertex 3 is the apex (x, y) of the triangle (0, 0), (1, 1),
    // (x, y), of area ½(y − x)
    let (_, g) = mesh_area_grad(&vertices, &faces[..2]);
    close2("∂v₃", (g[3].x, g[3].y), (-0.5, 0.5));
    close("∂v₃ out of plane", g[3].z, 0.0, TOL);
}

/// The smooth signed distance from a point to a closed polygon: the distance to each edge by
/// projection, the minimum over edges by a `fold`, negative inside by the winding's crossing
/// count.
#[differentiate(wrt(p))]
fn polygon_distance(p: (f64, f64), poly: &[(f64, f64)]) -> f64 {
    let n = poly.len();
    let mut inside = false;
    let dist = (0..n)
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % n]);
            let (ex, ey) = (b.0 - a.0, b.1 - a.1);
            let t = (((p.0 - a.0) * ex + (p.1 - a.1) * ey) / (ex * ex + ey * ey)).clamp(0.0, 1.0);
            (p.0 - a.0 - t * ex).hypot(p.1 - a.1 - t * ey)
        })
        .fold(f64::INFINITY, f64::min);
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) * (b.0 - a.0) / (b.1 - a.1) {
            inside = !inside;
        }
    }
    if inside { -dist } else { dist }
}

#[test]
fn signed_distance_to_a_polygon() {
    let square = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)];
    // Inside, nearest the bottom edge: d = −y, ∂ = (0, −1)
    let (v, g) = polygon_distance_grad((0.9, 0.3), &square);
    close("value", v, polygon_distance((0.9, 0.3), &square), TOL);
    close("value", v, -0.3, TOL);
    close2("∂ inside", g, (0.0, -1.0));
    // Outside beyond a corner: the distance to the corner
    let (v, g) = polygon_distance_grad((3.0, 2.5), &square);
    let d = 1.0f64.hypot(0.5);
    close("value", v, d, TOL);
    close2("∂ corner", g, (1.0 / d, 0.5 / d));
    fd2(
        "outside",
        |x, y| polygon_distance((x, y), &square),
        (3.0, 2.5),
        g,
    );
}

/// Reprojection error of a pinhole camera turned by a yaw angle and moved along x: the
/// points' projections against their observed pixels.
#[differentiate(wrt(focal, yaw, shift))]
fn reprojection_error(
    focal: f64,
    yaw: f64,
    shift: f64,
    points: &[[f64; 3]],
    pixels: &[[f64; 2]],
) -> f64 {
    let (s, c) = yaw.sin_cos();
    let mut err = 0.0;
    for (p, uv) in points.iter().zip(pixels) {
        let x = c * p[0] + s * p[2] - shift;
        let z = -s * p[0] + c * p[2];
        let u = focal * x / z;
        let v = focal * p[1] / z;
        err += (u - uv[0]).powi(2) + (v - uv[1]).powi(2);
    }
    err
}

#[test]
fn pinhole_camera_reprojection() {
    let points: Vec<[f64; 3]> = (0..6)
        .map(|i| {
            let t = i as f64;
            [(t * 0.7).sin(), (t * 1.3).cos() * 0.5, 4.0 + 0.3 * t]
        })
        .collect();
    let pixels: Vec<[f64; 2]> = points
        .iter()
        .map(|p| [500.0 * p[0] / p[2] + 3.0, 500.0 * p[1] / p[2] - 2.0])
        .collect();
    let (v, (gf, gy, gs)) = reprojection_error_grad(480.0, 0.05, 0.1, &points, &pixels);
    close(
        "value",
        v,
        reprojection_error(480.0, 0.05, 0.1, &points, &pixels),
        TOL,
    );
    fd3(
        "reprojection",
        |f, y, s| reprojection_error(f, y, s, &points, &pixels),
        (480.0, 0.05, 0.1),
        (gf, gy, gs),
    );
    forward("reprojection_error").three(
        (480.0, 0.05, 0.1),
        |f, y, s| reprojection_error(f, y, s, &points, &pixels),
        |f, y, s, df, dy, ds| reprojection_error_jvp(f, y, s, &points, &pixels, df, dy, ds),
        |f, y, s| reprojection_error_vjp(f, y, s, &points, &pixels),
    );
}

// ---------------------------------------------------------------------------------------------
// More signal processing.
// ---------------------------------------------------------------------------------------------

/// The normalized autocorrelation at lags 1..=3, with the mean removed first.
#[differentiate]
fn autocorrelation_energy(x: &[f64]) -> f64 {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let c0: f64 = centred.iter().map(|v| v * v).sum();
    let mut total = 0.0;
    for lag in 1..=3 {
        let c: f64 = centred[..n - lag]
            .iter()
            .zip(&centred[lag..])
            .map(|(a, b)| a * b)
            .sum();
        total += (c / c0).powi(2);
    }
    total
}

#[test]
fn autocorrelation_at_small_lags() {
    let x: Vec<f64> = (0..16)
        .map(|i| (i as f64 * 0.8).sin() + 0.2 * (i as f64 * 2.9).cos())
        .collect();
    let (v, g) = autocorrelation_energy_grad(&x);
    close("value", v, autocorrelation_energy(&x), TOL);
    fd_vec("∂x", autocorrelation_energy, &x, &g);
    // Invariant to shifts and scales: Σ∂x = 0 and ⟨∂x, x⟩ = 0
    close("Σ∂x", g.iter().sum(), 0.0, 1e-12);
    close(
        "⟨∂x, x⟩",
        g.iter().zip(&x).map(|(a, b)| a * b).sum(),
        0.0,
        1e-12,
    );
    forward("autocorrelation_energy").check(
        &x,
        |x| autocorrelation_energy(x),
        |x, v| autocorrelation_energy_jvp(x, v),
        |x, w| {
            let (y, pb) = autocorrelation_energy_vjp(x);
            (y, pb(w))
        },
    );
}

/// A median filter of width 3 (each window copied and sorted), then the squared difference
/// from a reference.
#[differentiate(wrt(x))]
fn median_filter_misfit(x: &[f64], reference: &[f64]) -> f64 {
    let mut misfit = 0.0;
    for (i, w) in x.windows(3).enumerate() {
        let mut sorted = w.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        misfit += (sorted[1] - reference[i + 1]).powi(2);
    }
    misfit
}

#[test]
fn median_filter_through_sort_by() {
    let x = vec![0.1, 0.9, 0.3, 0.5, 1.4, 0.2, 0.8];
    let reference = data(7, 0.6);
    let (v, g) = median_filter_misfit_grad(&x, &reference);
    close("value", v, median_filter_misfit(&x, &reference), TOL);
    // Each window's median element gets 2(median − ref)
    let mut e = vec![0.0; 7];
    for i in 0..5 {
        let mut idx = [i, i + 1, i + 2];
        idx.sort_by(|a, b| x[*a].partial_cmp(&x[*b]).unwrap());
        e[idx[1]] += 2.0 * (x[idx[1]] - reference[i + 1]);
    }
    close_all("∂x", &g, &e);
    fd_vec("∂x", |x| median_filter_misfit(x, &reference), &x, &g);
}

/// The RMS of each block of 4 samples (`chunks(4)`, the last one short), penalized above a
/// limit by a soft hinge.
#[differentiate]
fn block_rms_penalty(x: &[f64], limit: f64) -> f64 {
    x.chunks(4)
        .map(|block| {
            let rms = (block.iter().map(|v| v * v).sum::<f64>() / block.len() as f64).sqrt();
            let over = rms - limit;
            if over > 0.0 { over * over } else { 0.0 }
        })
        .sum()
}

#[test]
fn block_rms_with_a_short_last_chunk() {
    let x: Vec<f64> = (0..10).map(|i| 1.5 * (i as f64 * 0.9).sin()).collect();
    let (v, (gx, gl)) = block_rms_penalty_grad(&x, 0.6);
    close("value", v, block_rms_penalty(&x, 0.6), TOL);
    fd_vec("∂x", |x| block_rms_penalty(x, 0.6), &x, &gx);
    fd("∂limit", |l| block_rms_penalty(&x, l), 0.6, gl);
}

// ---------------------------------------------------------------------------------------------
// More machine learning as scalar Rust.
// ---------------------------------------------------------------------------------------------

/// An Elman recurrent cell over a sequence: the hidden state a `Vec<f64>` rebuilt each step,
/// the weights rows of a struct; the loss is the last output's squared error.
#[derive(Clone, Debug, Differentiable)]
struct Rnn {
    w_in: Vec<f64>,
    w_rec: Vec<Vec<f64>>,
    w_out: Vec<f64>,
}

#[differentiate]
impl Rnn {
    fn last_output(&self, seq: &[f64]) -> f64 {
        let n = self.w_in.len();
        let mut h = vec![0.0; n];
        for &x in seq {
            let mut next = Vec::with_capacity(n);
            for i in 0..n {
                let rec: f64 = self.w_rec[i].iter().zip(&h).map(|(w, v)| w * v).sum();
                next.push((self.w_in[i] * x + rec).tanh());
            }
            h = next;
        }
        self.w_out.iter().zip(&h).map(|(w, v)| w * v).sum()
    }

    fn loss(&self, seq: &[f64], target: f64) -> f64 {
        (self.last_output(seq) - target).powi(2)
    }
}

#[test]
fn elman_rnn_over_a_sequence() {
    let rnn = Rnn {
        w_in: data(3, 0.5),
        w_rec: (0..3)
            .map(|i| data(3, 4.0 + i as f64).iter().map(|v| 0.5 * v).collect())
            .collect(),
        w_out: data(3, 8.8),
    };
    let seq = data(6, 1.2);
    let (v, (g, gs, gt)) = rnn.loss_grad(&seq, 0.4);
    close("value", v, rnn.loss(&seq, 0.4), TOL);
    close("∂target", gt, -2.0 * (rnn.last_output(&seq) - 0.4), TOL);
    let r = gradcheck(|m: &Rnn| m.loss(&seq, 0.4), &rnn, &g);
    assert!(r.passed(), "∂rnn: {r}");
    fd_vec("∂seq", |s| rnn.loss(s, 0.4), &seq, &gs);
}

/// Layer normalization followed by a linear read-out, generic over the float type.
#[differentiate]
fn layer_norm_readout<T: Float>(x: &[T], gain: &[T], w: &[T]) -> T {
    let n = T::from(x.len()).unwrap();
    let mean = x.iter().fold(T::zero(), |a, &v| a + v) / n;
    let var = x
        .iter()
        .fold(T::zero(), |a, &v| a + (v - mean) * (v - mean))
        / n;
    let inv = T::one() / (var + T::from(1e-5).unwrap()).sqrt();
    let mut out = T::zero();
    for i in 0..x.len() {
        out = out + w[i] * gain[i] * (x[i] - mean) * inv;
    }
    out
}

#[test]
fn layer_norm_generic_with_forward_mode() {
    let x = data(5, 0.9);
    let gain = vec![1.0, 0.9, 1.1, 1.0, 0.8];
    let w = data(5, 3.3);
    let (v, (gx, gg, gw)) = layer_norm_readout_grad(&x, &gain, &w);
    close("value", v, layer_norm_readout(&x, &gain, &w), TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>, Vec<f64>)| layer_norm_readout(&p.0, &p.1, &p.2),
        &(x.clone(), gain.clone(), w.clone()),
        &(gx.clone(), gg, gw),
    );
    assert!(r.passed(), "∂: {r}");
    // Shift invariance: Σ∂x = 0
    close("Σ∂x", gx.iter().sum(), 0.0, 1e-12);
    forward("layer_norm_readout").check(
        &(x.clone(), gain.clone(), w.clone()),
        |p| layer_norm_readout(&p.0, &p.1, &p.2),
        |p, d| layer_norm_readout_jvp(&p.0, &p.1, &p.2, &d.0, &d.1, &d.2),
        |p, c| {
            let (y, pb) = layer_norm_readout_vjp(&p.0, &p.1, &p.2);
            (y, pb(c))
        },
    );
}

/// Cross-entropy with label smoothing over logits for three classes.
#[differentiate(wrt(logits))]
fn smoothed_cross_entropy(logits: &[[f64; 3]], labels: &[usize], smoothing: f64) -> f64 {
    let mut loss = 0.0;
    for (z, &y) in logits.iter().zip(labels) {
        let m = z[0].max(z[1]).max(z[2]);
        let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        for k in 0..3 {
            let target = if k == y {
                1.0 - smoothing + smoothing / 3.0
            } else {
                smoothing / 3.0
            };
            loss -= target * (z[k] - lse);
        }
    }
    loss / labels.len() as f64
}

#[test]
fn label_smoothed_cross_entropy() {
    let logits: Vec<[f64; 3]> = (0..4)
        .map(|i| {
            let d = data(3, 2.0 * i as f64);
            [2.0 * d[0], 2.0 * d[1], 2.0 * d[2]]
        })
        .collect();
    let labels = [2usize, 0, 1, 1];
    let (v, g) = smoothed_cross_entropy_grad(&logits, &labels, 0.1);
    close(
        "value",
        v,
        smoothed_cross_entropy(&logits, &labels, 0.1),
        TOL,
    );
    // ∂zₖ = (softmax(z)ₖ − targetₖ)/n
    for (i, z) in logits.iter().enumerate() {
        let s: f64 = z.iter().map(|v| v.exp()).sum();
        for k in 0..3 {
            let t = if k == labels[i] {
                0.9 + 0.1 / 3.0
            } else {
                0.1 / 3.0
            };
            close("∂z", g[i][k], (z[k].exp() / s - t) / 4.0, TOL);
        }
    }
    let r = gradcheck(
        |l: &Vec<[f64; 3]>| smoothed_cross_entropy(l, &labels, 0.1),
        &logits,
        &g,
    );
    assert!(r.passed(), "∂logits: {r}");
}

/// A Gaussian process's negative log marginal likelihood with an RBF kernel: the kernel matrix
/// built as rows, factored by a hand-written Cholesky, the data solved by forward and back
/// substitution.
#[differentiate(wrt(log_len, log_noise))]
fn gp_nll(log_len: f64, log_noise: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len();
    let (len, noise) = (log_len.exp(), log_noise.exp());
    let mut k = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            k[i][j] = (-0.5 * ((xs[i] - xs[j]) / len).powi(2)).exp();
        }
        k[i][i] += noise;
    }
    // Cholesky: K = L Lᵀ
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = k[i][j];
            for p in 0..j {
                s -= l[i][p] * l[j][p];
            }
            l[i][j] = if i == j { s.sqrt() } else { s / l[j][j] };
        }
    }
    // L z = y, then ½|z|² + Σ ln Lᵢᵢ
    let mut z = vec![0.0; n];
    for i in 0..n {
        let mut s = ys[i];
        for p in 0..i {
            s -= l[i][p] * z[p];
        }
        z[i] = s / l[i][i];
    }
    let fit: f64 = z.iter().map(|v| v * v).sum::<f64>() * 0.5;
    let log_det: f64 = (0..n).map(|i| l[i][i].ln()).sum();
    fit + log_det
}

#[test]
fn gaussian_process_marginal_likelihood_by_cholesky() {
    let xs = [0.0, 0.4, 1.1, 1.5, 2.3, 3.0];
    let ys: Vec<f64> = xs.iter().map(|x: &f64| (1.5 * x).sin()).collect();
    let (v, (gl, gn)) = gp_nll_grad(-0.2, -2.0, &xs, &ys);
    close("value", v, gp_nll(-0.2, -2.0, &xs, &ys), TOL);
    fd2(
        "gp_nll",
        |a, b| gp_nll(a, b, &xs, &ys),
        (-0.2, -2.0),
        (gl, gn),
    );
    // One observation: K = 1 + σ², NLL = ½y²/K + ½ ln K, ∂ ln σ² = ½σ²(1/K − y²/K²)
    let (_, (_, g1)) = gp_nll_grad(0.0, -1.0, &[0.5], &[0.8]);
    let (s2, kk) = ((-1.0f64).exp(), 1.0 + (-1.0f64).exp());
    close(
        "∂ log noise (n = 1)",
        g1,
        0.5 * s2 * (1.0 / kk - 0.64 / (kk * kk)),
        1e-12,
    );
}

/// The reconstruction error of centred data projected on one direction, normalized inside.
#[differentiate(hessian, wrt(dir))]
fn pca_reconstruction(dir: &[f64], rows: &[[f64; 3]]) -> f64 {
    let norm = dir.iter().map(|v| v * v).sum::<f64>().sqrt();
    let u: Vec<f64> = dir.iter().map(|v| v / norm).collect();
    let mut err = 0.0;
    for r in rows {
        let proj: f64 = r.iter().zip(&u).map(|(a, b)| a * b).sum();
        for k in 0..3 {
            err += (r[k] - proj * u[k]).powi(2);
        }
    }
    err
}

#[test]
fn pca_reconstruction_error_and_hessian() {
    let rows: Vec<[f64; 3]> = (0..8)
        .map(|i| {
            let t = i as f64 - 3.5;
            [
                t,
                0.5 * t + 0.1 * (t * 3.0).sin(),
                -0.2 * t + 0.1 * (t * 1.7).cos(),
            ]
        })
        .collect();
    let dir = vec![1.0, 0.3, 0.1];
    let (v, g) = pca_reconstruction_grad(&dir, &rows);
    close("value", v, pca_reconstruction(&dir, &rows), TOL);
    fd_vec("∂dir", |d| pca_reconstruction(d, &rows), &dir, &g);
    // Invariant to the direction's length: ⟨∇, dir⟩ = 0
    close(
        "⟨∇, dir⟩",
        g.iter().zip(&dir).map(|(a, b)| a * b).sum(),
        0.0,
        1e-10,
    );
    let v2 = vec![0.2, -0.5, 1.0];
    let (_, _, hv) = pca_reconstruction_hvp(&dir, &rows, &v2);
    hvp_against_fd(
        "pca",
        |d| pca_reconstruction_grad(d, &rows).1,
        &dir,
        &v2,
        &hv,
    );
}

/// A linear SVM's hinge loss with an L1 penalty (`abs`), trained by plain SGD.
#[differentiate(wrt(w, b))]
fn svm_l1(w: &[f64], b: f64, xs: &[[f64; 2]], ys: &[f64], l1: f64) -> f64 {
    let mut loss = 0.0;
    for (x, &y) in xs.iter().zip(ys) {
        let margin = y * (w[0] * x[0] + w[1] * x[1] + b);
        loss += (1.0 - margin).max(0.0);
    }
    loss / ys.len() as f64 + l1 * w.iter().map(|v| v.abs()).sum::<f64>()
}

#[test]
fn linear_svm_with_l1_trained_by_sgd() {
    use autodiff::optim::{Optimizer, Sgd, SgdConfig};
    let xs: Vec<[f64; 2]> = (0..12)
        .map(|i| {
            let t = i as f64 * 0.7;
            [t.cos() * 2.0 + if i % 2 == 0 { 1.0 } else { -1.0 }, t.sin()]
        })
        .collect();
    let ys: Vec<f64> = (0..12)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let w = vec![0.1, -0.2];
    let (v, (gw, gb)) = svm_l1_grad(&w, 0.05, &xs, &ys, 0.01);
    close("value", v, svm_l1(&w, 0.05, &xs, &ys, 0.01), TOL);
    // ∂b = −mean of yᵢ over the points inside the margin
    let inside: Vec<usize> = (0..12)
        .filter(|&i| ys[i] * (w[0] * xs[i][0] + w[1] * xs[i][1] + 0.05) < 1.0)
        .collect();
    close(
        "∂b",
        gb,
        -inside.iter().map(|&i| ys[i]).sum::<f64>() / 12.0,
        TOL,
    );
    fd_vec("∂w", |w| svm_l1(w, 0.05, &xs, &ys, 0.01), &w, &gw);
    let mut p = (w, 0.05);
    let mut sgd = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    for _ in 0..100 {
        let (_, g) = svm_l1_grad(&p.0, p.1, &xs, &ys, 0.01);
        sgd.step(&mut p, &g);
    }
    let end = svm_l1(&p.0, p.1, &xs, &ys, 0.01);
    assert!(
        end < 0.7 * v,
        "SGD did not reduce the hinge loss: {v} → {end}"
    );
}

// ---------------------------------------------------------------------------------------------
// Forms the programs above first failed on, each in its variants.
// ---------------------------------------------------------------------------------------------

/// A row borrowed by index as an iterable, `&rows[i]`: in a `for` loop and as `zip`'s argument,
/// of a parameter `&[Vec<f64>]`, of a local grid, of rows of arrays and of a struct's field.
#[differentiate]
fn rows_by_reference(rows: &[Vec<f64>], pts: &[[f64; 3]], k: usize) -> f64 {
    let mut s = 0.0;
    for v in &rows[k] {
        s += v * v;
    }
    s += rows[0]
        .iter()
        .zip(&rows[k])
        .map(|(a, b)| a * b)
        .sum::<f64>();
    let mut grid = vec![vec![0.0; 3]; 2];
    for i in 0..2 {
        for j in 0..3 {
            grid[i][j] = pts[i][j] * rows[i][j];
        }
    }
    for (a, &b) in grid[1].iter().zip(&pts[k]) {
        s += a * b;
    }
    for &p in &pts[0] {
        s += p.sin();
    }
    for g in &grid[0] {
        s += g * 2.0;
    }
    s
}

#[derive(Clone, Debug, Differentiable)]
struct Table {
    w: Vec<Vec<f64>>,
}

#[differentiate]
impl Table {
    fn row_dot(&self, x: &[f64], r: usize) -> f64 {
        let mut s = 0.0;
        for (w, v) in x.iter().zip(&self.w[r]) {
            s += w * v;
        }
        s
    }
}

#[test]
fn rows_borrowed_by_index_are_iterated_in_place() {
    let rows: Vec<Vec<f64>> = (0..3).map(|i| data(3, 1.0 + i as f64)).collect();
    let pts: Vec<[f64; 3]> = (0..3)
        .map(|i| {
            let d = data(3, 7.0 + i as f64);
            [d[0], d[1], d[2]]
        })
        .collect();
    let (v, (gr, gp)) = rows_by_reference_grad(&rows, &pts, 2);
    close("value", v, rows_by_reference(&rows, &pts, 2), TOL);
    // ∂rows[2] = 2·rows[2] + rows[0]; ∂rows[0] = rows[2] + 2·pts[0]; ∂rows[1] = pts[1]·pts[2]
    for j in 0..3 {
        close("∂rows[2]", gr[2][j], 2.0 * rows[2][j] + rows[0][j], TOL);
        close("∂rows[0]", gr[0][j], rows[2][j] + 2.0 * pts[0][j], TOL);
        close("∂rows[1]", gr[1][j], pts[1][j] * pts[2][j], TOL);
    }
    let r = gradcheck(
        |p: &(Vec<Vec<f64>>, Vec<[f64; 3]>)| rows_by_reference(&p.0, &p.1, 2),
        &(rows.clone(), pts.clone()),
        &(gr, gp),
    );
    assert!(r.passed(), "∂: {r}");
    forward("rows_by_reference").check(
        &(rows.clone(), pts.clone()),
        |p| rows_by_reference(&p.0, &p.1, 2),
        |p, d| rows_by_reference_jvp(&p.0, &p.1, 2, &d.0, &d.1),
        |p, w| {
            let (y, pb) = rows_by_reference_vjp(&p.0, &p.1, 2);
            (y, pb(w))
        },
    );
    let t = Table { w: rows.clone() };
    let x = data(3, 5.5);
    let (v, (gt, gx)) = t.row_dot_grad(&x, 1);
    close("value", v, t.row_dot(&x, 1), TOL);
    close_all("∂x", &gx, &rows[1]);
    close_all("∂w[1]", &gt.w[1], &x);
    close_all("∂w[0]", &gt.w[0], &[0.0; 3]);
}

/// A window copied into a `Vec` (`w.to_vec()`, `w.to_owned()`) and changed there: sorted, a
/// trimmed mean of each window, and windows of rows.
#[differentiate]
fn window_copies(x: &[f64], rows: &[[f64; 2]]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(4) {
        let mut v = w.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        s += 0.5 * (v[1] + v[2]);
    }
    for c in x.chunks(3) {
        let mut v = c.to_owned();
        v.reverse();
        s += v[0] * c.len() as f64;
    }
    for w in rows.windows(2) {
        let pair = w.to_vec();
        s += pair[0][0] * pair[1][1];
    }
    s
}

#[test]
fn windows_copied_with_to_vec() {
    let x = vec![0.3, 1.2, -0.4, 0.8, 2.0, -1.1, 0.5];
    let rows = vec![[1.0, 2.0], [0.5, -1.0], [3.0, 0.25]];
    let (v, (gx, gr)) = window_copies_grad(&x, &rows);
    close("value", v, window_copies(&x, &rows), TOL);
    // The trimmed means: ½ to each of the two middle elements of every window of 4; the
    // reversed chunks: each chunk's last element times the chunk's length.
    let mut e = vec![0.0; 7];
    for i in 0..4 {
        let mut idx = [i, i + 1, i + 2, i + 3];
        idx.sort_by(|a, b| x[*a].partial_cmp(&x[*b]).unwrap());
        e[idx[1]] += 0.5;
        e[idx[2]] += 0.5;
    }
    e[2] += 3.0;
    e[5] += 3.0;
    e[6] += 1.0;
    close_all("∂x", &gx, &e);
    // ∂rows: r₀[0] ← r₁[1], r₁[1] ← r₀[0], r₁[0] ← r₂[1], r₂[1] ← r₁[0]
    close_all("∂rows", &gr.concat(), &[-1.0, 0.0, 0.25, 1.0, 0.0, 0.5]);
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<[f64; 2]>)| window_copies(&p.0, &p.1),
        &(x.clone(), rows.clone()),
        &(gx, gr),
    );
    assert!(r.passed(), "∂: {r}");
}

// ---------------------------------------------------------------------------------------------
// Simulations that write in place: spring networks, rope constraints, dynamic programming.
// ---------------------------------------------------------------------------------------------

/// A spring network relaxed by a few gradient-descent steps written out by hand (forces
/// accumulated into a `vec![[0.0; 2]; n]` by both ends of each spring), then its energy.
#[differentiate(wrt(pos, stiffness))]
fn relaxed_network_energy(
    pos: &[[f64; 2]],
    springs: &[(usize, usize)],
    rest: &[f64],
    stiffness: f64,
    steps: usize,
) -> f64 {
    let mut p = pos.to_vec();
    let energy = |p: &Vec<[f64; 2]>| -> f64 {
        let mut e = 0.0;
        for (s, &(i, j)) in springs.iter().enumerate() {
            let d = (p[i][0] - p[j][0]).hypot(p[i][1] - p[j][1]);
            e += 0.5 * stiffness * (d - rest[s]).powi(2);
        }
        e
    };
    for _ in 0..steps {
        let mut forces = vec![[0.0; 2]; p.len()];
        for (s, &(i, j)) in springs.iter().enumerate() {
            let (dx, dy) = (p[i][0] - p[j][0], p[i][1] - p[j][1]);
            let d = dx.hypot(dy);
            let f = stiffness * (d - rest[s]) / d;
            forces[i][0] -= f * dx;
            forces[i][1] -= f * dy;
            forces[j][0] += f * dx;
            forces[j][1] += f * dy;
        }
        for (q, f) in p.iter_mut().zip(&forces) {
            q[0] += 0.05 * f[0];
            q[1] += 0.05 * f[1];
        }
    }
    energy(&p)
}

#[test]
fn spring_network_relaxation() {
    let pos = vec![[0.0, 0.0], [1.2, 0.1], [0.4, 1.1], [1.5, 1.3]];
    let springs = [(0, 1), (1, 2), (2, 0), (1, 3), (2, 3)];
    let rest = [1.0, 1.0, 1.0, 1.0, 1.2];
    let (v, (gp, gk)) = relaxed_network_energy_grad(&pos, &springs, &rest, 2.0, 5);
    close(
        "value",
        v,
        relaxed_network_energy(&pos, &springs, &rest, 2.0, 5),
        TOL,
    );
    let r = gradcheck(
        |p: &(Vec<[f64; 2]>, f64)| relaxed_network_energy(&p.0, &springs, &rest, p.1, 5),
        &(pos.clone(), 2.0),
        &(gp.clone(), gk),
    );
    assert!(r.passed(), "∂: {r}");
    // Translation invariance: the gradient's components sum to zero.
    let sx: f64 = gp.iter().map(|g| g[0]).sum();
    let sy: f64 = gp.iter().map(|g| g[1]).sum();
    close2("Σ∂p", (sx, sy), (0.0, 0.0));
}

/// A rope of point masses by position-based dynamics: gravity moves the free points, then each
/// link's length constraint is projected in place on both of its ends, several sweeps.
#[differentiate(wrt(rope))]
fn rope_sag(rope: &[[f64; 2]], links: &[(usize, usize, f64)], sweeps: usize) -> f64 {
    let mut p: Vec<[f64; 2]> = rope.to_vec();
    let n = p.len();
    for k in 1..n {
        p[k][1] -= 0.1; // gravity; the first point is pinned
    }
    for _ in 0..sweeps {
        for &(i, j, len) in links {
            let (dx, dy) = (p[j][0] - p[i][0], p[j][1] - p[i][1]);
            let d = (dx * dx + dy * dy).sqrt();
            let corr = 0.5 * (d - len) / d;
            if i != 0 {
                p[i][0] += corr * dx;
                p[i][1] += corr * dy;
            }
            p[j][0] -= corr * dx;
            p[j][1] -= corr * dy;
        }
    }
    -p[n - 1][1]
}

#[test]
fn rope_by_position_based_dynamics() {
    let rope: Vec<[f64; 2]> = (0..5).map(|k| [0.5 * k as f64, 0.02 * k as f64]).collect();
    let links: Vec<(usize, usize, f64)> = (0..4).map(|k| (k, k + 1, 0.5)).collect();
    let (v, g) = rope_sag_grad(&rope, &links, 6);
    close("value", v, rope_sag(&rope, &links, 6), TOL);
    let r = gradcheck(|p: &Vec<[f64; 2]>| rope_sag(p, &links, 6), &rope, &g);
    assert!(r.passed(), "∂rope: {r}");
    // No sweeps: only gravity, the sag is −y_last + 0.1
    let (_, g) = rope_sag_grad(&rope, &links, 0);
    close_all(
        "∂ (no sweeps)",
        &g.concat(),
        &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0],
    );
}

/// Soft dynamic time warping between two series: a table of rows filled by a soft minimum of
/// its three predecessors.
#[differentiate(wrt(a))]
fn soft_dtw(a: &[f64], b: &[f64], gamma: f64) -> f64 {
    let (n, m) = (a.len(), b.len());
    let big: f64 = 1e10;
    let mut r = vec![vec![big; m + 1]; n + 1];
    r[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let cost = (a[i - 1] - b[j - 1]).powi(2);
            let (x, y, z) = (r[i - 1][j - 1], r[i - 1][j], r[i][j - 1]);
            let lo = x.min(y).min(z);
            let soft = lo
                - gamma
                    * ((-(x - lo) / gamma).exp()
                        + (-(y - lo) / gamma).exp()
                        + (-(z - lo) / gamma).exp())
                    .ln();
            r[i][j] = cost + soft;
        }
    }
    r[n][m]
}

#[test]
fn soft_dynamic_time_warping() {
    let a = data(5, 0.2);
    let b = data(6, 0.9);
    let (v, g) = soft_dtw_grad(&a, &b, 0.5);
    close("value", v, soft_dtw(&a, &b, 0.5), TOL);
    fd_vec("∂a", |a| soft_dtw(a, &b, 0.5), &a, &g);
    // One point each: the cost alone, ∂a = 2(a − b)
    let (_, g) = soft_dtw_grad(&[0.7], &[0.2], 0.5);
    close("∂a (1×1)", g[0], 1.0, TOL);
}

/// The dominant eigenvalue of a symmetric matrix by power iteration (the iterate normalized
/// each step) and the Rayleigh quotient.
#[differentiate]
fn dominant_eigenvalue(m: &[Vec<f64>], iterations: usize) -> f64 {
    let n = m.len();
    let mut v = vec![1.0; n];
    for _ in 0..iterations {
        let w: Vec<f64> = m
            .iter()
            .map(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>())
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        v = w.iter().map(|x| x / norm).collect();
    }
    let mut q = 0.0;
    for i in 0..n {
        for j in 0..n {
            q += v[i] * m[i][j] * v[j];
        }
    }
    q / v.iter().map(|x| x * x).sum::<f64>()
}

#[test]
fn power_iteration_eigenvalue_derivative() {
    let m = vec![
        vec![4.0, 1.0, 0.5],
        vec![1.0, 3.0, 0.2],
        vec![0.5, 0.2, 1.0],
    ];
    let (v, g) = dominant_eigenvalue_grad(&m, 200);
    close("value", v, dominant_eigenvalue(&m, 200), TOL);
    // Converged: ∂λ/∂M = u uᵀ with u the unit eigenvector (from the power iteration itself)
    let mut u = vec![1.0; 3];
    for _ in 0..200 {
        let w: Vec<f64> = m
            .iter()
            .map(|r| r.iter().zip(&u).map(|(a, b)| a * b).sum())
            .collect();
        let nrm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        u = w.iter().map(|x| x / nrm).collect();
    }
    for i in 0..3 {
        for j in 0..3 {
            close("∂M", g[i][j], u[i] * u[j], 1e-9);
        }
    }
}

/// Ten steps of gradient descent on an inner problem, min_w (w − a)² + b·w², unrolled: the
/// outer loss is the final w's distance to a target, differentiated through the learning rate
/// and the problem's data (meta-learning in miniature).
#[differentiate]
fn unrolled_descent(lr: f64, a: f64, b: f64, target: f64) -> f64 {
    let mut w = 0.0;
    for _ in 0..10 {
        let grad = 2.0 * (w - a) + 2.0 * b * w;
        w -= lr * grad;
    }
    (w - target).powi(2)
}

#[test]
fn unrolled_inner_optimization() {
    let p = (0.1, 2.0, 0.5, 1.0);
    let (v, g) = unrolled_descent_grad(p.0, p.1, p.2, p.3);
    close("value", v, unrolled_descent(p.0, p.1, p.2, p.3), TOL);
    // w₁₀ = a/(1+b)·(1 − (1 − 2lr(1+b))¹⁰): ∂lr by the closed form
    let c = 1.0 - 2.0 * p.0 * (1.0 + p.2);
    let w = p.1 / (1.0 + p.2) * (1.0 - c.powi(10));
    let dw_dlr = p.1 / (1.0 + p.2) * 10.0 * c.powi(9) * 2.0 * (1.0 + p.2);
    close("∂lr", g.0, 2.0 * (w - p.3) * dw_dlr, 1e-10);
    let r = gradcheck(
        |q: &(f64, f64, f64, f64)| unrolled_descent(q.0, q.1, q.2, q.3),
        &p,
        &g,
    );
    assert!(r.passed(), "∂: {r}");
}

/// A natural cubic spline through fixed knots evaluated at points: the interval found by
/// `partition_point` on the knots (data), the second derivatives by the tridiagonal (Thomas)
/// algorithm over the values.
#[differentiate(wrt(values))]
fn spline_at(knots: &[f64], values: &[f64], at: &[f64]) -> f64 {
    let n = knots.len();
    let h: Vec<f64> = knots.windows(2).map(|w| w[1] - w[0]).collect();
    // Tridiagonal system for the interior second derivatives.
    let mut diag = vec![0.0; n];
    let mut rhs = vec![0.0; n];
    for i in 1..n - 1 {
        diag[i] = 2.0 * (h[i - 1] + h[i]);
        rhs[i] =
            6.0 * ((values[i + 1] - values[i]) / h[i] - (values[i] - values[i - 1]) / h[i - 1]);
    }
    for i in 2..n - 1 {
        let f = h[i - 1] / diag[i - 1];
        diag[i] -= f * h[i - 1];
        rhs[i] -= f * rhs[i - 1];
    }
    let mut m2 = vec![0.0; n];
    for i in (1..n - 1).rev() {
        m2[i] = (rhs[i] - h[i] * m2[i + 1]) / diag[i];
    }
    let mut total = 0.0;
    for &x in at {
        let k = knots.partition_point(|&t| t <= x).clamp(1, n - 1) - 1;
        let (t0, t1) = ((knots[k + 1] - x) / h[k], (x - knots[k]) / h[k]);
        total += t0 * values[k]
            + t1 * values[k + 1]
            + h[k] * h[k] / 6.0 * ((t0.powi(3) - t0) * m2[k] + (t1.powi(3) - t1) * m2[k + 1]);
    }
    total
}

#[test]
fn natural_cubic_spline_evaluation() {
    let knots = [0.0, 0.5, 1.3, 2.0, 3.1];
    let values = vec![0.0, 0.8, 0.4, -0.3, 0.5];
    let at = [0.2, 0.9, 1.7, 2.5, 3.0];
    let (v, g) = spline_at_grad(&knots, &values, &at);
    close("value", v, spline_at(&knots, &values, &at), TOL);
    // The spline is linear in the values: the gradient is the sum of the cardinal splines at
    // the points, and the value is ⟨gradient, values⟩.
    close(
        "linearity",
        g.iter().zip(&values).map(|(a, b)| a * b).sum(),
        v,
        1e-12,
    );
    fd_vec("∂values", |y| spline_at(&knots, y, &at), &values, &g);
    // At a knot the spline is the value there.
    let (_, g) = spline_at_grad(&knots, &values, &[1.3]);
    close_all("∂ at a knot", &g, &[0.0, 0.0, 1.0, 0.0, 0.0]);
}

/// A regularizer chosen by name (`&str` data), matched on strings.
#[differentiate(wrt(w))]
fn regularized(w: &[f64], kind: &str, lambda: f64) -> f64 {
    let fit: f64 = w
        .iter()
        .enumerate()
        .map(|(i, v)| (v - i as f64 * 0.1).powi(2))
        .sum();
    let penalty = match kind {
        "l1" => w.iter().map(|v| v.abs()).sum::<f64>(),
        "l2" => w.iter().map(|v| v * v).sum::<f64>(),
        "elastic" => w.iter().map(|v| 0.5 * v.abs() + 0.5 * v * v).sum::<f64>(),
        _ => 0.0,
    };
    fit + lambda * penalty
}

#[test]
fn regularizer_chosen_by_a_string() {
    let w = vec![0.3, -0.2, 0.5, 0.05];
    for kind in ["l1", "l2", "elastic", "none"] {
        let (v, g) = regularized_grad(&w, kind, 0.4);
        close("value", v, regularized(&w, kind, 0.4), TOL);
        // ∂wᵢ = 2(wᵢ − 0.1i) + λ·penalty'(wᵢ)
        for i in 0..4 {
            let p = match kind {
                "l1" => w[i].signum(),
                "l2" => 2.0 * w[i],
                "elastic" => 0.5 * w[i].signum() + w[i],
                _ => 0.0,
            };
            close(kind, g[i], 2.0 * (w[i] - 0.1 * i as f64) + 0.4 * p, TOL);
        }
    }
}

/// A Gaussian with its parameters generic over the float type, its log-density a method.
#[derive(Clone, Debug, Differentiable)]
struct Normal<T> {
    mean: T,
    log_sd: T,
}

#[differentiate]
impl<T: Float> Normal<T> {
    fn log_pdf(&self, x: T) -> T
    where
        T: Float,
    {
        let sd = self.log_sd.exp();
        let z = (x - self.mean) / sd;
        -T::from(0.5).unwrap() * z * z - self.log_sd - T::from(0.5 * (2.0 * PI).ln()).unwrap()
    }

    fn total_log_lik(&self, xs: &[T]) -> T
    where
        T: Float,
    {
        xs.iter().fold(T::zero(), |acc, &x| acc + self.log_pdf(x))
    }
}

#[test]
fn generic_normal_log_likelihood() {
    let d = Normal {
        mean: 0.3,
        log_sd: -0.2,
    };
    let xs = data(7, 3.3);
    let (v, (g, gx)) = d.total_log_lik_grad(&xs);
    close("value", v, d.total_log_lik(&xs), TOL);
    // ∂mean = Σ (x − μ)/σ², ∂xᵢ = −(xᵢ − μ)/σ²
    let s2 = (-0.4f64).exp();
    close(
        "∂mean",
        g.mean,
        xs.iter().map(|x| (x - 0.3) / s2).sum(),
        TOL,
    );
    for i in 0..7 {
        close("∂x", gx[i], -(xs[i] - 0.3) / s2, TOL);
    }
    let r = gradcheck(|d: &Normal<f64>| d.total_log_lik(&xs), &d, &g);
    assert!(r.passed(), "∂normal: {r}");
    let d32 = Normal {
        mean: 0.3f32,
        log_sd: -0.2,
    };
    let xs32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let (v32, (g32, _)) = d32.total_log_lik_grad(&xs32);
    close("f32 value", v32 as f64, v, 1e-5);
    close("f32 ∂mean", g32.mean as f64, g.mean, 1e-4);
}

/// Particles advanced by a `&mut self` method through `iter_mut`, then their centre of mass
/// summed with a `fold` over a struct with its own `Add`.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Vec2 {
    x: f64,
    y: f64,
}

#[differentiate]
impl Add for Vec2 {
    type Output = Vec2;
    fn add(self, o: Vec2) -> Vec2 {
        Vec2 {
            x: self.x + o.x,
            y: self.y + o.y,
        }
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Mote {
    pos: Vec2,
    vel: Vec2,
}

#[differentiate]
impl Mote {
    fn drift(&mut self, wind: f64, dt: f64) {
        self.vel.x += wind * dt;
        self.vel.y -= 9.81 * dt;
        self.pos.x += self.vel.x * dt;
        self.pos.y += self.vel.y * dt;
    }
}

#[differentiate(wrt(motes, wind))]
fn swarm_centre_height(motes: &[Mote], wind: f64, steps: usize) -> f64 {
    let mut ms = motes.to_vec();
    for _ in 0..steps {
        for m in ms.iter_mut() {
            m.drift(wind, 0.01);
        }
    }
    let total = ms
        .iter()
        .fold(Vec2 { x: 0.0, y: 0.0 }, |acc, m| acc + m.pos);
    (total.x + total.y) / ms.len() as f64
}

#[test]
fn swarm_of_motes_with_mut_self_and_fold() {
    let motes: Vec<Mote> = (0..4)
        .map(|i| Mote {
            pos: Vec2 {
                x: i as f64,
                y: 1.0 + 0.1 * i as f64,
            },
            vel: Vec2 {
                x: 0.2,
                y: 0.5 - 0.1 * i as f64,
            },
        })
        .collect();
    let (v, (gm, gw)) = swarm_centre_height_grad(&motes, 0.7, 20);
    close("value", v, swarm_centre_height(&motes, 0.7, 20), TOL);
    // Linear dynamics: ∂pos = 1/n per coordinate, ∂vel = t/n, ∂wind = Σ_k k·dt²/... by FD
    for m in &gm {
        close2("∂pos", (m.pos.x, m.pos.y), (0.25, 0.25));
        close2("∂vel", (m.vel.x, m.vel.y), (0.2 * 0.25, 0.2 * 0.25));
    }
    fd("∂wind", |w| swarm_centre_height(&motes, w, 20), 0.7, gw);
}

#[differentiate]
impl Mul<f64> for Vec2 {
    type Output = Vec2;
    fn mul(self, k: f64) -> Vec2 {
        Vec2 {
            x: self.x * k,
            y: self.y * k,
        }
    }
}

/// A `fold` whose accumulator starts from a struct with its own operators (a literal, and a
/// parameter), the operators applied to the accumulator inside the closure and to the
/// folded result after it.
#[differentiate]
fn folded_struct_sums(ps: &[Vec2], origin: Vec2, w: f64) -> f64 {
    let total = ps.iter().fold(Vec2 { x: 0.0, y: w }, |acc, p| acc + *p * w);
    let m = total * 0.5;
    let shifted = ps.iter().fold(origin, |acc, p| acc + *p);
    m.x * m.y + (shifted * w).x
}

#[test]
fn fold_of_a_struct_accumulator_uses_its_operators() {
    let ps = vec![Vec2 { x: 1.0, y: 2.0 }, Vec2 { x: 3.0, y: -1.0 }];
    let o = Vec2 { x: 0.5, y: -0.25 };
    let w = 0.7;
    let (v, (gp, go, gw)) = folded_struct_sums_grad(&ps, o, w);
    close("value", v, folded_struct_sums(&ps, o, w), TOL);
    // total = (4w, 2w), m = (2w, w): m.x·m.y = 2w²; (o.x + 4)·w: ∂w = 4w + o.x + 4, ∂o.x = w,
    // ∂pᵢ.x = ½w·m.y + w = ½w² + w, ∂pᵢ.y = ½w·m.x = w²
    close("∂w", gw, 4.0 * w + 0.5 + 4.0, TOL);
    close2("∂o", (go.x, go.y), (w, 0.0));
    for g in &gp {
        close2("∂p", (g.x, g.y), (0.5 * w * w + w, w * w));
    }
    forward("folded_struct_sums").check(
        &(ps.clone(), o, w),
        |p| folded_struct_sums(&p.0, p.1, p.2),
        |p, d| folded_struct_sums_jvp(&p.0, p.1, p.2, &d.0, d.1, d.2),
        |p, c| {
            let (y, pb) = folded_struct_sums_vjp(&p.0, p.1, p.2);
            (y, pb(c))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Everyday forms inside small applications.
// ---------------------------------------------------------------------------------------------

/// Smoothness of a trajectory by consecutive pairs taken three common ways: `zip` with a
/// `skip(1)` of the same slice, `zip(&x[1..])`, and an index loop reading `x[i - 1]`.
#[differentiate]
fn trajectory_jerk(x: &[f64]) -> f64 {
    let vel: Vec<f64> = x.iter().zip(x.iter().skip(1)).map(|(a, b)| b - a).collect();
    let acc: Vec<f64> = vel.iter().zip(&vel[1..]).map(|(a, b)| b - a).collect();
    let mut jerk = 0.0;
    for i in 1..acc.len() {
        jerk += (acc[i] - acc[i - 1]).powi(2);
    }
    jerk
}

#[test]
fn trajectory_differences_by_zip_skip() {
    let x: Vec<f64> = (0..8).map(|i| (i as f64 * 0.6).sin() * 2.0).collect();
    let (v, g) = trajectory_jerk_grad(&x);
    close("value", v, trajectory_jerk(&x), TOL);
    fd_vec("∂x", trajectory_jerk, &x, &g);
    // Third differences annihilate quadratics: at x = t², the jerk and its gradient are 0
    let q: Vec<f64> = (0..8).map(|i| (i * i) as f64).collect();
    let (v, g) = trajectory_jerk_grad(&q);
    close("jerk of t²", v, 0.0, TOL);
    close_all("∂ at t²", &g, &[0.0; 8]);
}

/// Fibonacci-like recurrences with a tuple assignment, xₙ₊₁ = a·xₙ + b·xₙ₋₁, and the ratio of
/// the last two terms (which tends to the dominant root).
#[differentiate]
fn recurrence_ratio(a: f64, b: f64, n: usize) -> f64 {
    let (mut prev, mut cur) = (1.0, 1.0);
    for _ in 0..n {
        (prev, cur) = (cur, a * cur + b * prev);
    }
    cur / prev
}

#[test]
fn linear_recurrence_by_tuple_assignment() {
    let (v, (ga, gb)) = recurrence_ratio_grad(1.0, 1.0, 40);
    close("value", v, recurrence_ratio(1.0, 1.0, 40), TOL);
    // The limit is r = (a + √(a² + 4b))/2: ∂a = (1 + a/√(a²+4b))/2, ∂b = 1/√(a²+4b)
    let s = 5.0f64.sqrt();
    close2("∂ (converged)", (ga, gb), ((1.0 + 1.0 / s) / 2.0, 1.0 / s));
    let t = forward("recurrence_ratio").two(
        (1.0, 1.0),
        |a, b| recurrence_ratio(a, b, 40),
        |a, b, da, db| recurrence_ratio_jvp(a, b, 40, da, db),
        |a, b| recurrence_ratio_vjp(a, b, 40),
    );
    tangents_are2("recurrence_ratio", &t, (ga, gb), 1e-12);
}

/// A parameter `Vec` taken by value and changed in place: a prefix sum written over itself,
/// then normalized by a helper that writes through `&mut [f64]`.
#[differentiate]
fn normalize_in_place(v: &mut [f64]) {
    let total: f64 = v.iter().sum();
    for e in v.iter_mut() {
        *e /= total;
    }
}

#[differentiate]
fn cumulative_shares(mut w: Vec<f64>, target: &[f64]) -> f64 {
    for i in 1..w.len() {
        w[i] = w[i - 1] + w[i];
    }
    normalize_in_place(&mut w);
    w.iter().zip(target).map(|(a, b)| (a - b).powi(2)).sum()
}

#[test]
fn prefix_sum_in_place_and_a_normalizing_helper() {
    let w = vec![0.5, 1.0, 0.25, 2.0];
    let target = [0.1, 0.3, 0.5, 1.0];
    let (v, (gw, gt)) = cumulative_shares_grad(w.clone(), &target);
    close("value", v, cumulative_shares(w.clone(), &target), TOL);
    fd_vec("∂w", |w| cumulative_shares(w.to_vec(), &target), &w, &gw);
    fd_vec("∂target", |t| cumulative_shares(w.clone(), t), &target, &gt);
    // Scale invariance: ⟨∂w, w⟩ = 0
    close(
        "⟨∂w, w⟩",
        gw.iter().zip(&w).map(|(a, b)| a * b).sum(),
        0.0,
        1e-12,
    );
}

/// A rigid 2-D transform with its angle and offset as a struct of an array and a scalar,
/// methods reading `self.t[i]` and an associated `const`.
#[derive(Clone, Debug, Differentiable)]
struct Pose {
    t: [f64; 2],
    angle: f64,
}

#[differentiate]
impl Pose {
    const SCALE: f64 = 1.0;

    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let (s, c) = self.angle.sin_cos();
        [
            Self::SCALE * (c * p[0] - s * p[1]) + self.t[0],
            Self::SCALE * (s * p[0] + c * p[1]) + self.t[1],
        ]
    }

    /// The alignment error of source points mapped onto targets (one ICP step's objective).
    fn alignment(&self, src: &[[f64; 2]], dst: &[[f64; 2]]) -> f64 {
        let mut err = 0.0;
        for (p, q) in src.iter().zip(dst) {
            let m = self.apply(*p);
            err += (m[0] - q[0]).powi(2) + (m[1] - q[1]).powi(2);
        }
        err
    }
}

#[test]
fn rigid_alignment_through_a_method_returning_an_array() {
    let src: Vec<[f64; 2]> = (0..5).map(|i| [i as f64, (i as f64 * 0.8).sin()]).collect();
    let true_pose = Pose {
        t: [0.3, -0.2],
        angle: 0.4,
    };
    let dst: Vec<[f64; 2]> = src.iter().map(|p| true_pose.apply(*p)).collect();
    let pose = Pose {
        t: [0.0, 0.0],
        angle: 0.1,
    };
    let (v, (g, _, _)) = pose.alignment_grad(&src, &dst);
    close("value", v, pose.alignment(&src, &dst), TOL);
    let r = gradcheck(|p: &Pose| p.alignment(&src, &dst), &pose, &g);
    assert!(r.passed(), "∂pose: {r}");
    // At the true pose every residual is 0, and so is the gradient.
    let (v0, (g0, _, _)) = true_pose.alignment_grad(&src, &dst);
    close("value at the truth", v0, 0.0, 1e-24);
    close2("∂t at the truth", (g0.t[0], g0.t[1]), (0.0, 0.0));
}

/// Back substitution for an upper-triangular system, iterating the rows backwards with
/// `enumerate().rev()`, then the solution's weighted sum.
#[differentiate(wrt(u, b))]
fn back_substitution(u: &[Vec<f64>], b: &[f64], weights: &[f64]) -> f64 {
    let n = b.len();
    let mut x = vec![0.0; n];
    for (i, row) in u.iter().enumerate().rev() {
        let mut s = b[i];
        for j in i + 1..n {
            s -= row[j] * x[j];
        }
        x[i] = s / row[i];
    }
    x.iter().zip(weights).map(|(a, w)| a * w).sum()
}

#[test]
fn back_substitution_by_reverse_enumeration() {
    let u = vec![
        vec![2.0, 0.5, -0.3],
        vec![0.0, 1.5, 0.4],
        vec![0.0, 0.0, 3.0],
    ];
    let b = vec![1.0, -2.0, 0.5];
    let w = [1.0, 2.0, -1.0];
    let (v, (gu, gb)) = back_substitution_grad(&u, &b, &w);
    close("value", v, back_substitution(&u, &b, &w), TOL);
    // ∂b = U⁻ᵀw: solve Uᵀy = w by forward substitution
    let mut y = [0.0; 3];
    for i in 0..3 {
        let mut s = w[i];
        for j in 0..i {
            s -= u[j][i] * y[j];
        }
        y[i] = s / u[i][i];
    }
    close_all("∂b", &gb, &y);
    let r = gradcheck(
        |p: &(Vec<Vec<f64>>, Vec<f64>)| back_substitution(&p.0, &p.1, &w),
        &(u.clone(), b.clone()),
        &(gu, gb),
    );
    assert!(r.passed(), "∂: {r}");
}

/// A fixed-size state vector with a const generic length: a chain of N coupled oscillators'
/// energy after leapfrog steps.
#[differentiate]
fn chain_energy<const N: usize>(q0: [f64; N], k: f64, steps: usize) -> f64 {
    let mut q = q0;
    let mut p = [0.0; N];
    let dt = 0.05;
    for _ in 0..steps {
        for i in 0..N {
            let left = if i > 0 { q[i - 1] } else { 0.0 };
            let right = if i + 1 < N { q[i + 1] } else { 0.0 };
            p[i] += dt * k * (left - 2.0 * q[i] + right);
        }
        for i in 0..N {
            q[i] += dt * p[i];
        }
    }
    let mut e = 0.0;
    for i in 0..N {
        e += 0.5 * p[i] * p[i] + 0.5 * k * q[i] * q[i];
    }
    e
}

#[test]
fn const_generic_oscillator_chain() {
    let q0 = [0.1, -0.2, 0.3, 0.05];
    let (v, (gq, gk)) = chain_energy_grad(q0, 2.0, 30);
    close("value", v, chain_energy(q0, 2.0, 30), TOL);
    let r = gradcheck(
        |p: &([f64; 4], f64)| chain_energy(p.0, p.1, 30),
        &(q0, 2.0),
        &(gq, gk),
    );
    assert!(r.passed(), "∂: {r}");
    // No steps: e = ½k|q|², ∂q = kq, ∂k = ½|q|²
    let (_, (gq, gk)) = chain_energy_grad(q0, 2.0, 0);
    for i in 0..4 {
        close("∂q (no steps)", gq[i], 2.0 * q0[i], TOL);
    }
    close(
        "∂k (no steps)",
        gk,
        0.5 * q0.iter().map(|v| v * v).sum::<f64>(),
        TOL,
    );
}

/// A depth-first walk over a small tree stored as child lists, with a stack of (node, value)
/// pairs kept as two `Vec`s: each child's value is its parent's times an edge weight, the
/// leaves' values summed.
#[differentiate(wrt(edge_weight))]
fn tree_leaf_sum(children: &[Vec<usize>], edge_weight: &[f64]) -> f64 {
    let mut nodes = vec![0usize];
    let mut values = vec![1.0];
    let mut total = 0.0;
    while let Some(node) = nodes.pop() {
        let value = values.pop().unwrap();
        if children[node].is_empty() {
            total += value;
            continue;
        }
        for &c in &children[node] {
            nodes.push(c);
            values.push(value * edge_weight[c]);
        }
    }
    total
}

#[test]
fn tree_walk_with_an_explicit_stack() {
    // 0 → {1, 2}, 1 → {3, 4}, 2 → {}, 3 → {}, 4 → {}
    let children = vec![vec![1, 2], vec![3, 4], vec![], vec![], vec![]];
    let w = vec![0.0, 0.5, 2.0, 3.0, -1.0];
    let (v, g) = tree_leaf_sum_grad(&children, &w);
    close("value", v, tree_leaf_sum(&children, &w), TOL);
    // Σ leaves = w₂ + w₁w₃ + w₁w₄: ∂w₁ = w₃ + w₄, ∂w₂ = 1, ∂w₃ = ∂w₄ = w₁
    close_all("∂w", &g, &[0.0, 2.0, 1.0, 0.5, 0.5]);
}

/// Exponential smoothing with the previous smoothed sample carried in a loop, the first sample
/// taken as it is (first written with `prev: Option<f64>` and `match prev { Some(p) => .. }`,
/// which the macro rejects with a message saying to bind the whole value: the flag is data).
#[differentiate]
fn smoothed_with_previous(x: &[f64], alpha: f64) -> f64 {
    let mut prev = 0.0;
    let mut started = false;
    let mut total = 0.0;
    for &v in x {
        let s = if started {
            alpha * v + (1.0 - alpha) * prev
        } else {
            v
        };
        total += s * s;
        prev = s;
        started = true;
    }
    total
}

#[test]
fn smoothing_with_a_started_flag() {
    let x = data(9, 0.35);
    let (v, (gx, ga)) = smoothed_with_previous_grad(&x, 0.3);
    close("value", v, smoothed_with_previous(&x, 0.3), TOL);
    fd_vec("∂x", |x| smoothed_with_previous(x, 0.3), &x, &gx);
    fd("∂α", |a| smoothed_with_previous(&x, a), 0.3, ga);
    // α = 1 passes the signal through: ∂xᵢ = 2xᵢ
    let (_, (gx, _)) = smoothed_with_previous_grad(&x, 1.0);
    let e: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
    close_all("∂x (α = 1)", &gx, &e);
}

/// Rows of data read by methods run as written (`children[n].is_empty()`, `.len()`,
/// `.contains(..)`, `.first()`) beside the differentiated weights.
#[differentiate(wrt(w))]
fn data_row_methods(children: &[Vec<usize>], w: &[f64]) -> f64 {
    let mut t = 0.0;
    for n in 0..children.len() {
        if children[n].is_empty() {
            t += w[n];
        }
        t += w[n] * children[n].len() as f64;
        if children[n].contains(&0) {
            t += 2.0 * w[n];
        }
        if let Some(&c) = children[n].first() {
            t += w[c] * w[n];
        }
    }
    t
}

#[test]
fn methods_on_rows_of_data_borrow_the_row() {
    let ch = vec![vec![1, 2], vec![], vec![0]];
    let w = vec![1.0, 2.0, 3.0];
    let (v, g) = data_row_methods_grad(&ch, &w);
    close("value", v, data_row_methods(&ch, &w), TOL);
    // t = 2w₀ + w₁ + w₂ + 2w₂ + w₁w₀ + w₀w₂
    close_all("∂w", &g, &[2.0 + w[1] + w[2], 1.0 + w[0], 3.0 + w[0]]);
}

// ---------------------------------------------------------------------------------------------
// Searches, orderings and mixed precision.
// ---------------------------------------------------------------------------------------------

/// The time two discs moving at constant velocity first touch, found by scanning steps and
/// returning from inside the nested loops, refined linearly inside the step.
#[differentiate]
fn first_contact_time(pa: [f64; 2], va: [f64; 2], pb: [f64; 2], vb: [f64; 2], radius: f64) -> f64 {
    let dt = 0.01;
    let gap = |t: f64| {
        let dx = pa[0] + va[0] * t - pb[0] - vb[0] * t;
        let dy = pa[1] + va[1] * t - pb[1] - vb[1] * t;
        dx.hypot(dy) - 2.0 * radius
    };
    let mut prev = gap(0.0);
    for k in 1..1000 {
        let t = k as f64 * dt;
        let g = gap(t);
        if g <= 0.0 {
            return t - dt * g / (g - prev);
        }
        prev = g;
    }
    -1.0
}

#[test]
fn first_contact_by_scanning_with_an_early_return() {
    let (pa, va, pb, vb) = ([0.0, 0.0], [1.0, 0.2], [3.0, 0.5], [-0.5, 0.0]);
    let (t, (gpa, gva, gpb, gvb, gr)) = first_contact_time_grad(pa, va, pb, vb, 0.4);
    close("value", t, first_contact_time(pa, va, pb, vb, 0.4), TOL);
    let r = gradcheck(
        |p: &([f64; 2], [f64; 2], [f64; 2], [f64; 2], f64)| {
            first_contact_time(p.0, p.1, p.2, p.3, p.4)
        },
        &(pa, va, pb, vb, 0.4),
        &(gpa, gva, gpb, gvb, gr),
    );
    assert!(r.passed(), "∂: {r}");
    // Translation invariance: ∂pa + ∂pb = 0
    close2("∂pa + ∂pb", (gpa[0] + gpb[0], gpa[1] + gpb[1]), (0.0, 0.0));
}

/// The area under the ROC curve smoothed by a sigmoid over score pairs, with the positives'
/// scores sorted first by `total_cmp` and the largest found by `max_by` with `total_cmp`.
#[differentiate(wrt(scores))]
fn smooth_auc(scores: &[f64], positive: &[bool], temperature: f64) -> f64 {
    let mut pos: Vec<f64> = Vec::new();
    let mut neg: Vec<f64> = Vec::new();
    for (s, &p) in scores.iter().zip(positive) {
        if p {
            pos.push(*s);
        } else {
            neg.push(*s);
        }
    }
    pos.sort_by(|a, b| a.total_cmp(b));
    let top = *neg.iter().max_by(|a, b| a.total_cmp(b)).unwrap();
    let mut auc = 0.0;
    for &p in &pos {
        for &n in &neg {
            auc += 1.0 / (1.0 + (-(p - n) / temperature).exp());
        }
    }
    auc / (pos.len() * neg.len()) as f64 - 0.01 * top
}

#[test]
fn smoothed_auc_with_total_cmp() {
    let scores = vec![0.9, 0.2, 0.7, 0.4, 0.65, 0.1, 0.8];
    let positive = [true, false, true, false, false, false, true];
    let (v, g) = smooth_auc_grad(&scores, &positive, 0.1);
    close("value", v, smooth_auc(&scores, &positive, 0.1), TOL);
    fd_vec("∂scores", |s| smooth_auc(s, &positive, 0.1), &scores, &g);
    // The pairs' terms are antisymmetric: Σ over all scores of the AUC part is 0, so Σ∂ is
    // the top negative's −0.01
    close("Σ∂", g.iter().sum(), -0.01, 1e-12);
}

/// Classifying a value by `partial_cmp` against a threshold and matching the `Ordering`.
#[differentiate]
fn ordered_penalty(x: &[f64], threshold: f64) -> f64 {
    use std::cmp::Ordering;
    let mut total = 0.0;
    for &v in x {
        total += match v.partial_cmp(&threshold) {
            Some(Ordering::Less) => (threshold - v).powi(2),
            Some(Ordering::Greater) => (v - threshold).ln_1p(),
            _ => 0.0,
        };
    }
    total
}

#[test]
fn match_on_an_ordering() {
    let x = vec![0.1, 0.9, 0.5, 1.4, -0.2];
    let (v, (gx, gt)) = ordered_penalty_grad(&x, 0.6);
    close("value", v, ordered_penalty(&x, 0.6), TOL);
    let e: Vec<f64> = x
        .iter()
        .map(|&v| {
            if v < 0.6 {
                -2.0 * (0.6 - v)
            } else {
                1.0 / (1.0 + v - 0.6)
            }
        })
        .collect();
    close_all("∂x", &gx, &e);
    close("∂threshold", gt, -e.iter().sum::<f64>(), TOL);
}

/// A sensor model in `f32` (as embedded code stores it) fitted in `f64`: readings widened with
/// `as f64`, a calibration computed in `f32` and widened back.
#[differentiate]
fn mixed_precision_fit(gain: f64, offset: f32, readings: &[f32], truth: &[f64]) -> f64 {
    let mut err = 0.0;
    for (r, t) in readings.iter().zip(truth) {
        let calibrated = (*r * 1.5f32 + offset) as f64;
        err += (gain * calibrated - t).powi(2);
    }
    err
}

#[test]
fn f32_readings_fitted_in_f64() {
    let readings: Vec<f32> = (0..6).map(|i| 0.5 + 0.25 * i as f32).collect();
    let truth: Vec<f64> = readings
        .iter()
        .map(|&r| 2.0 * (r as f64 * 1.5 + 0.1))
        .collect();
    let (v, (gg, go, gr, gt)) = mixed_precision_fit_grad(1.8, 0.05, &readings, &truth);
    close(
        "value",
        v,
        mixed_precision_fit(1.8, 0.05, &readings, &truth),
        TOL,
    );
    // ∂gain = 2Σ e·c, ∂offset = 2Σ e·gain (in f32), ∂truth = −2e
    let mut eg = 0.0;
    let mut eo = 0.0;
    for (i, &r) in readings.iter().enumerate() {
        let c = (r * 1.5f32 + 0.05f32) as f64;
        let e = 1.8 * c - truth[i];
        eg += 2.0 * e * c;
        eo += 2.0 * e * 1.8;
        close("∂truth", gt[i], -2.0 * e, TOL);
        close("∂reading", gr[i] as f64, 2.0 * e * 1.8 * 1.5, 1e-5);
    }
    close("∂gain", gg, eg, TOL);
    close("∂offset", go as f64, eo, 1e-5);
}

/// Configuration with defaults filled by `..Default::default()`; a struct literal of data
/// beside the differentiated parameters.
#[derive(Clone, Debug)]
struct SolverConfig {
    steps: usize,
    dt: f64,
    tolerance: f64,
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig {
            steps: 50,
            dt: 0.02,
            tolerance: 1e-9,
        }
    }
}

/// Logistic growth x' = r·x·(1 − x/K) by Euler with a config, stopping early when the change
/// falls below the tolerance.
#[differentiate(wrt(r, k))]
fn logistic_growth(r: f64, k: f64, x0: f64, fine: bool) -> f64 {
    let cfg = SolverConfig {
        steps: if fine { 400 } else { 100 },
        ..Default::default()
    };
    let mut x = x0;
    for _ in 0..cfg.steps {
        let dx = cfg.dt * r * x * (1.0 - x / k);
        x += dx;
        if dx.abs() < cfg.tolerance {
            break;
        }
    }
    x
}

#[test]
fn logistic_growth_with_a_default_config() {
    for fine in [false, true] {
        let (v, (gr, gk)) = logistic_growth_grad(1.2, 5.0, 0.3, fine);
        close("value", v, logistic_growth(1.2, 5.0, 0.3, fine), TOL);
        fd2(
            "logistic",
            |r, k| logistic_growth(r, k, 0.3, fine),
            (1.2, 5.0),
            (gr, gk),
        );
    }
}

/// Attraction of a power law fitted by `powf` with both base and exponent differentiated.
#[differentiate(hessian, wrt(a, b))]
fn power_law_fit(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| (a * x.powf(b) - y).powi(2))
        .sum::<f64>()
}

#[test]
fn power_law_with_a_differentiated_exponent() {
    let xs = [0.5, 1.0, 1.5, 2.0, 3.0];
    let ys: Vec<f64> = xs.iter().map(|x: &f64| 1.3 * x.powf(0.7) + 0.01).collect();
    let (v, (ga, gb)) = power_law_fit_grad(1.1, 0.8, &xs, &ys);
    close("value", v, power_law_fit(1.1, 0.8, &xs, &ys), TOL);
    // ∂a = 2Σ e·x^b, ∂b = 2Σ e·a·x^b·ln x
    let (mut ea, mut eb) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let e = 1.1 * x.powf(0.8) - y;
        ea += 2.0 * e * x.powf(0.8);
        eb += 2.0 * e * 1.1 * x.powf(0.8) * x.ln();
    }
    close2("∂", (ga, gb), (ea, eb));
    let grad = |p: &[f64]| {
        let (_, (a, b)) = power_law_fit_grad(p[0], p[1], &xs, &ys);
        vec![a, b]
    };
    let (_, _, (h0, h1)) = power_law_fit_hvp(1.1, 0.8, &xs, &ys, 0.4, 1.0);
    hvp_against_fd("power_law", grad, &[1.1, 0.8], &[0.4, 1.0], &[h0, h1]);
}

/// A closure over a struct's fields kept in a local and called on each element, summed with
/// `filter` on an index.
#[differentiate]
fn stored_closure_energy(bodies: &[Body], g: f64) -> f64 {
    let energy = |b: &Body| 0.5 * b.m * (b.vx * b.vx + b.vy * b.vy) + b.m * g * b.y;
    let mut total = 0.0;
    for (i, b) in bodies.iter().enumerate() {
        if i % 2 == 0 {
            total += energy(b);
        }
    }
    total
        + bodies
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, b)| energy(b))
            .sum::<f64>()
            * 0.5
}

#[test]
fn closure_over_struct_fields_called_per_element() {
    let bodies = three_bodies();
    let (v, (gb, gg)) = stored_closure_energy_grad(&bodies, 9.81);
    close("value", v, stored_closure_energy(&bodies, 9.81), TOL);
    // ∂g = Σ wᵢ·mᵢ·yᵢ with wᵢ = 1 on even i, ½ on odd
    let e: f64 = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| if i % 2 == 0 { 1.0 } else { 0.5 } * b.m * b.y)
        .sum();
    close("∂g", gg, e, TOL);
    let r = gradcheck(|b: &Vec<Body>| stored_closure_energy(b, 9.81), &bodies, &gb);
    assert!(r.passed(), "∂bodies: {r}");
}

// ---------------------------------------------------------------------------------------------
// Linear algebra and sorting written in place.
// ---------------------------------------------------------------------------------------------

/// Gauss–Seidel sweeps for −u'' = f on a grid with zero ends: each update reads the neighbour
/// already updated in the same sweep.
#[differentiate(wrt(f))]
fn gauss_seidel_mean(f: &[f64], sweeps: usize) -> f64 {
    let n = f.len();
    let h = 1.0 / (n + 1) as f64;
    let mut u = vec![0.0; n];
    for _ in 0..sweeps {
        for i in 0..n {
            let left = if i > 0 { u[i - 1] } else { 0.0 };
            let right = if i + 1 < n { u[i + 1] } else { 0.0 };
            u[i] = 0.5 * (left + right + h * h * f[i]);
        }
    }
    u.iter().sum::<f64>() * h
}

#[test]
fn gauss_seidel_in_place_sweeps() {
    let f: Vec<f64> = (0..6).map(|i| 1.0 + 0.3 * i as f64).collect();
    let (v, g) = gauss_seidel_mean_grad(&f, 3);
    close("value", v, gauss_seidel_mean(&f, 3), TOL);
    fd_vec("∂f", |f| gauss_seidel_mean(f, 3), &f, &g);
    // Linear in f: the value is ⟨∂f, f⟩
    close(
        "linearity",
        g.iter().zip(&f).map(|(a, b)| a * b).sum(),
        v,
        1e-12,
    );
    // One sweep, first entry: u₀ = ½h²f₀ feeds every later one, ∂f_last = ½h²·h
    let (_, g1) = gauss_seidel_mean_grad(&f, 1);
    let h = 1.0 / 7.0;
    close("∂f₅ (one sweep)", g1[5], 0.5 * h * h * h, TOL);
}

/// The log-determinant of a matrix by LU decomposition with partial pivoting written over a
/// local copy of its rows, swapping rows as users do.
#[differentiate]
fn log_abs_det(a: &[Vec<f64>]) -> f64 {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a.to_vec();
    let mut log_det = 0.0;
    for k in 0..n {
        let mut p = k;
        for i in k + 1..n {
            if m[i][k].abs() > m[p][k].abs() {
                p = i;
            }
        }
        m.swap(k, p);
        log_det += m[k][k].abs().ln();
        for i in k + 1..n {
            let factor = m[i][k] / m[k][k];
            for j in k..n {
                m[i][j] -= factor * m[k][j];
            }
        }
    }
    log_det
}

#[test]
fn log_determinant_by_pivoted_lu() {
    let a = vec![
        vec![0.5, 2.0, -1.0],
        vec![3.0, 0.2, 0.4],
        vec![-1.0, 0.7, 2.5],
    ];
    let (v, g) = log_abs_det_grad(&a);
    close("value", v, log_abs_det(&a), TOL);
    // ∂ ln|det A| = A⁻ᵀ: (A⁻ᵀ)ᵢⱼ = cofactorᵢⱼ / det
    let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    close("value", v, det.abs().ln(), 1e-12);
    for i in 0..3 {
        for j in 0..3 {
            let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
            let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
            let cof = a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0];
            close("∂A", g[i][j], cof / det, 1e-12);
        }
    }
}

/// A bubble sort written by hand (comparisons on data, swaps of differentiated values), then
/// rank weights on the sorted values: an L-statistic.
#[differentiate]
fn l_statistic(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let n = v.len();
    for i in 0..n {
        for j in 0..n - 1 - i {
            if v[j] > v[j + 1] {
                v.swap(j, j + 1);
            }
        }
    }
    v.iter()
        .enumerate()
        .map(|(rank, value)| (rank as f64 + 1.0) * value)
        .sum()
}

#[test]
fn hand_written_bubble_sort_then_rank_weights() {
    let x = vec![0.3, -1.2, 2.5, 0.9, -0.4];
    let (v, g) = l_statistic_grad(&x);
    close("value", v, l_statistic(&x), TOL);
    // ∂xᵢ = rank of xᵢ (1-based)
    let mut order: Vec<usize> = (0..5).collect();
    order.sort_by(|a, b| x[*a].partial_cmp(&x[*b]).unwrap());
    let mut e = vec![0.0; 5];
    for (rank, &i) in order.iter().enumerate() {
        e[i] = rank as f64 + 1.0;
    }
    close_all("∂x", &g, &e);
}

/// Insertion into a sorted buffer at the position `partition_point` finds, keeping the k
/// smallest values seen (a running top-k), then their sum.
#[differentiate]
fn k_smallest_sum(x: &[f64], k: usize) -> f64 {
    let mut best: Vec<f64> = Vec::with_capacity(k + 1);
    for &v in x {
        let pos = best.partition_point(|&b| b < v);
        if pos < k {
            best.insert(pos, v);
            if best.len() > k {
                best.pop();
            }
        }
    }
    best.iter().sum()
}

#[test]
fn running_top_k_by_sorted_insertion() {
    let x = vec![0.8, 0.1, 1.5, -0.3, 0.6, 2.0, 0.05];
    let (v, g) = k_smallest_sum_grad(&x, 3);
    close("value", v, k_smallest_sum(&x, 3), TOL);
    // The three smallest (−0.3, 0.05, 0.1) get 1, the rest 0
    close_all("∂x", &g, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
    close("value", v, -0.3 + 0.05 + 0.1, TOL);
}

// ---------------------------------------------------------------------------------------------
// Second order through structs, generics and `f32`.
// ---------------------------------------------------------------------------------------------

/// A spring's potential between two points, a method of a parameter struct with `hessian`.
#[derive(Clone, Debug, Differentiable)]
struct Spring2 {
    k: f64,
    rest: f64,
}

#[differentiate(hessian)]
impl Spring2 {
    fn potential(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        let d = (a[0] - b[0]).hypot(a[1] - b[1]);
        0.5 * self.k * (d - self.rest).powi(2)
    }
}

#[test]
fn spring_potential_hessian_through_a_method() {
    let s = Spring2 { k: 3.0, rest: 1.0 };
    let (a, b) = ([0.0, 0.0], [1.5, 0.5]);
    let (v, (gs, ga, gb)) = s.potential_grad(a, b);
    close("value", v, s.potential(a, b), TOL);
    // ∂k = ½(d − L)², ∂L = −k(d − L), ∂b = k(d − L)(b − a)/d = −∂a
    let d = 1.5f64.hypot(0.5);
    close2(
        "∂s",
        (gs.k, gs.rest),
        (0.5 * (d - 1.0).powi(2), -3.0 * (d - 1.0)),
    );
    close2(
        "∂b",
        (gb[0], gb[1]),
        (3.0 * (d - 1.0) * 1.5 / d, 3.0 * (d - 1.0) * 0.5 / d),
    );
    close2("∂a + ∂b", (ga[0] + gb[0], ga[1] + gb[1]), (0.0, 0.0));
    // H·v along the bond of b alone: k (the bond's stiffness), along b's x
    let dir_s = Spring2 { k: 0.0, rest: 0.0 };
    let u = [1.5 / d, 0.5 / d];
    let (_, _, (_, _, hb)) = s.potential_hvp(a, b, &dir_s, [0.0, 0.0], u);
    close2("H·u (bond)", (hb[0], hb[1]), (3.0 * u[0], 3.0 * u[1]));
    let grad = |p: &[f64]| {
        let s = Spring2 {
            k: p[0],
            rest: p[1],
        };
        let (_, (gs, ga, gb)) = s.potential_grad([p[2], p[3]], [p[4], p[5]]);
        vec![gs.k, gs.rest, ga[0], ga[1], gb[0], gb[1]]
    };
    let dir = [0.3, -0.2, 0.1, 0.5, -0.4, 0.2];
    let (_, _, (hs, ha, hb)) = s.potential_hvp(
        a,
        b,
        &Spring2 {
            k: dir[0],
            rest: dir[1],
        },
        [dir[2], dir[3]],
        [dir[4], dir[5]],
    );
    hvp_against_fd(
        "spring",
        grad,
        &[3.0, 1.0, 0.0, 0.0, 1.5, 0.5],
        &dir,
        &[hs.k, hs.rest, ha[0], ha[1], hb[0], hb[1]],
    );
}

/// The log-sum-exp of a generic float slice, second order: its Hessian is diag(p) − ppᵀ.
#[differentiate(hessian)]
fn log_sum_exp<T: Float>(x: &[T]) -> T {
    let m = x.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
    m + x
        .iter()
        .map(|&v| (v - m).exp())
        .fold(T::zero(), |a, b| a + b)
        .ln()
}

#[test]
fn log_sum_exp_hessian_generic() {
    let x = vec![0.3, -1.0, 2.0, 0.5];
    let (v, g) = log_sum_exp_grad(&x);
    close("value", v, log_sum_exp(&x), TOL);
    let z: f64 = x.iter().map(|v| v.exp()).sum();
    let p: Vec<f64> = x.iter().map(|v| v.exp() / z).collect();
    close_all("∂x = softmax", &g, &p);
    let dir = vec![1.0, 0.5, -0.25, 2.0];
    let (_, _, hv) = log_sum_exp_hvp(&x, &dir);
    let pv: f64 = p.iter().zip(&dir).map(|(a, b)| a * b).sum();
    for i in 0..4 {
        close("H·v", hv[i], p[i] * dir[i] - p[i] * pv, 1e-12);
    }
    // f32: the same to f32's accuracy
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let d32: Vec<f32> = dir.iter().map(|&v| v as f32).collect();
    let (_, _, hv32) = log_sum_exp_hvp(&x32, &d32);
    for i in 0..4 {
        close("H·v (f32)", hv32[i] as f64, hv[i], 1e-5);
    }
}
