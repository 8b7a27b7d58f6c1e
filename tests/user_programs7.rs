//! Programs as Rust engineers write them in physics, finance, robotics, graphics, machine-learning
//! losses, signal processing, optimisation, statistics, ODE solvers and dynamic programming over
//! floats: springs, orbits and rigid bodies with structs and `impl` blocks; option pricing,
//! portfolio variance and yield curves; forward kinematics through chains of transforms;
//! ray/sphere intersections, barycentric coordinates and smooth minima; focal, triplet,
//! contrastive, Huber and quantile losses, label smoothing and a CTC-like forward pass; biquad
//! filters and the Goertzel algorithm; Adam and a backtracking line search inside an objective;
//! a Kalman filter and an HMM forward pass with log-sum-exp; RK4 generic over `T: Float`;
//! soft-DTW and a soft Needleman–Wunsch alignment; then DH chains, ray/triangle tests, sphere
//! tracing, filter cascades, EM, implicit Euler, local alignment, particle filters; the order of
//! iterator adapters, shadowed captures, builders and worklists.
//!
//! Then the forms these programs found broken, followed now: `to_vec()` of a row or of another
//! rule's array; an operator trait named by path (`impl std::ops::Mul for Quat`, no `use`); the
//! user's methods on the elements of a `mut` `Vec` parameter after `iter_mut`, and on a copy
//! called at once (`opt.clone().bumped(..)`); array patterns in `for` loops and closures
//! (`for &[l, r] in rows`); a view bound to a name in a loop (`let row = m.row(i);`).
//!
//! Each gradient is checked against its analytic form (stated beside the function) where it is
//! short, and against central finite differences through `autodiff::check`; each value against
//! the plain function's.

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
    clippy::manual_unwrap_or,
    clippy::too_many_arguments,
    clippy::redundant_guards,
    clippy::single_match
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis, s};
use num_traits::Float;
use std::f64::consts::PI;

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Physics: springs, orbits, rigid bodies.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Spring {
    k: f64,
    rest: f64,
}

impl Spring {
    /// ½k(|b − a| − L)²
    #[differentiate]
    fn energy(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        let dx = b[0] - a[0];
        let dy = b[1] - a[1];
        let len = (dx * dx + dy * dy).sqrt();
        0.5 * self.k * (len - self.rest).powi(2)
    }
}

/// A chain of identical springs between consecutive points.
#[differentiate]
fn chain_energy(spring: &Spring, pts: &[[f64; 2]]) -> f64 {
    pts.windows(2).map(|w| spring.energy(w[0], w[1])).sum()
}

#[test]
fn spring_chain_through_windows() {
    let spring = Spring { k: 3.0, rest: 0.8 };
    let pts = vec![[0.0, 0.0], [1.0, 0.2], [1.5, 1.1], [2.7, 0.9]];
    let (v, (gs, gp)) = chain_energy_grad(&spring, &pts);
    close("value", v, chain_energy(&spring, &pts), TOL);
    // ∂k = Σ ½(ℓ − L)², ∂L = −Σ k(ℓ − L); ∂pᵢ = k(ℓ − L)(pᵢ − pⱼ)/ℓ summed over neighbours j
    let (mut wk, mut wl) = (0.0, 0.0);
    let mut wp = vec![[0.0; 2]; pts.len()];
    for i in 0..pts.len() - 1 {
        let (dx, dy) = (pts[i + 1][0] - pts[i][0], pts[i + 1][1] - pts[i][1]);
        let l = (dx * dx + dy * dy).sqrt();
        wk += 0.5 * (l - 0.8) * (l - 0.8);
        wl -= 3.0 * (l - 0.8);
        let c = 3.0 * (l - 0.8) / l;
        wp[i + 1][0] += c * dx;
        wp[i + 1][1] += c * dy;
        wp[i][0] -= c * dx;
        wp[i][1] -= c * dy;
    }
    close("∂k", gs.k, wk, TOL);
    close("∂L", gs.rest, wl, TOL);
    for i in 0..pts.len() {
        close("∂p.x", gp[i][0], wp[i][0], TOL);
        close("∂p.y", gp[i][1], wp[i][1], TOL);
    }
    let r = gradcheck(|p: &Vec<[f64; 2]>| chain_energy(&spring, p), &pts, &gp);
    assert!(r.passed(), "{r}");
}

/// Semi-implicit Euler on a Kepler orbit, counted with a `while` loop; the final x.
#[differentiate]
fn orbit_final_x(vx: f64, vy: f64, gm: f64) -> f64 {
    let (mut x, mut y) = (1.0, 0.0);
    let (mut u, mut v) = (vx, vy);
    let dt = 0.01;
    let mut step = 0;
    while step < 150 {
        let r3 = (x * x + y * y).powf(1.5);
        u -= gm * x / r3 * dt;
        v -= gm * y / r3 * dt;
        x += u * dt;
        y += v * dt;
        step += 1;
    }
    x
}

#[test]
fn kepler_orbit_semi_implicit_euler() {
    let p = (0.1, 1.1, 1.0);
    let (v, (a, b, c)) = orbit_final_x_grad(p.0, p.1, p.2);
    close("value", v, orbit_final_x(p.0, p.1, p.2), TOL);
    fd3("orbit_final_x", orbit_final_x, p, (a, b, c));
}

#[derive(Clone, Differentiable)]
struct RigidBody {
    mass: f64,
    inertia: f64,
    vel: [f64; 2],
    omega: f64,
}

impl RigidBody {
    #[differentiate]
    fn kinetic(&self) -> f64 {
        let v2 = self.vel[0] * self.vel[0] + self.vel[1] * self.vel[1];
        0.5 * self.mass * v2 + 0.5 * self.inertia * self.omega * self.omega
    }

    /// Velocity of a point at offset r from the centre: v + ω × r.
    #[differentiate]
    fn point_speed2(&self, rx: f64, ry: f64) -> f64 {
        let px = self.vel[0] - self.omega * ry;
        let py = self.vel[1] + self.omega * rx;
        px * px + py * py
    }
}

/// Total kinetic energy plus a penalty on the speed of each body's corner.
#[differentiate]
fn bodies_cost(bodies: &[RigidBody], corner: f64) -> f64 {
    let mut total = 0.0;
    for b in bodies {
        total += b.kinetic() + 0.1 * b.point_speed2(corner, -corner);
    }
    total
}

#[test]
fn rigid_bodies_with_methods() {
    let bodies = vec![
        RigidBody {
            mass: 2.0,
            inertia: 0.5,
            vel: [0.3, -0.7],
            omega: 1.2,
        },
        RigidBody {
            mass: 1.0,
            inertia: 0.2,
            vel: [1.1, 0.4],
            omega: -0.6,
        },
    ];
    let (v, (gb, gc)) = bodies_cost_grad(&bodies, 0.4);
    close("value", v, bodies_cost(&bodies, 0.4), TOL);
    // ∂mass = ½|v|², ∂ω = Iω + 0.1·2(px·(−ry) + py·rx)
    for (b, g) in bodies.iter().zip(&gb) {
        close(
            "∂mass",
            g.mass,
            0.5 * (b.vel[0].powi(2) + b.vel[1].powi(2)),
            TOL,
        );
        let (rx, ry) = (0.4, -0.4);
        let px = b.vel[0] - b.omega * ry;
        let py = b.vel[1] + b.omega * rx;
        close(
            "∂ω",
            g.omega,
            b.inertia * b.omega + 0.2 * (-px * ry + py * rx),
            TOL,
        );
    }
    let r = gradcheck(|p: &Vec<RigidBody>| bodies_cost(p, 0.4), &bodies, &gb);
    assert!(r.passed(), "{r}");
    fd("∂corner", |c| bodies_cost(&bodies, c), 0.4, gc);
}

/// Damped harmonic oscillator stepped with velocity Verlet, returning the energy at the end;
/// the state is a tuple carried by `loop { .. break }`.
#[differentiate]
fn verlet_energy(k: f64, c: f64, x0: f64) -> f64 {
    let dt = 0.05;
    let mut state = (x0, 0.0);
    let mut n = 0;
    loop {
        if n == 40 {
            break;
        }
        let (x, v) = state;
        let a = -k * x - c * v;
        let x_new = x + v * dt + 0.5 * a * dt * dt;
        let a_new = -k * x_new - c * v;
        state = (x_new, v + 0.5 * (a + a_new) * dt);
        n += 1;
    }
    let (x, v) = state;
    0.5 * v * v + 0.5 * k * x * x
}

#[test]
fn damped_oscillator_verlet_loop() {
    let p = (2.0, 0.3, 1.0);
    let (v, (a, b, c)) = verlet_energy_grad(p.0, p.1, p.2);
    close("value", v, verlet_energy(p.0, p.1, p.2), TOL);
    fd3("verlet_energy", verlet_energy, p, (a, b, c));
}

// ---------------------------------------------------------------------------------------------
// Finance.
// ---------------------------------------------------------------------------------------------

/// Standard normal CDF through the Abramowitz–Stegun erf (7.1.26).
#[differentiate]
fn norm_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

#[differentiate]
fn black_scholes_call(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> f64 {
    let sqrt_t = t.sqrt();
    let d1 = ((s / k).ln() + (r + 0.5 * sigma * sigma) * t) / (sigma * sqrt_t);
    let d2 = d1 - sigma * sqrt_t;
    s * norm_cdf(d1) - k * (-r * t).exp() * norm_cdf(d2)
}

#[test]
fn black_scholes_greeks() {
    let x = vec![100.0, 95.0, 0.03, 0.25, 0.75];
    let (v, (gs, gk, gr, gsig, gt)) = black_scholes_call_grad(x[0], x[1], x[2], x[3], x[4]);
    close(
        "value",
        v,
        black_scholes_call(x[0], x[1], x[2], x[3], x[4]),
        TOL,
    );
    let bs = |p: &Vec<f64>| black_scholes_call(p[0], p[1], p[2], p[3], p[4]);
    let r = gradcheck(bs, &x, &vec![gs, gk, gr, gsig, gt]);
    assert!(r.passed(), "{r}");
    // delta is N(d1) up to the error of the erf approximation (|ε| < 1.5e-7, and the homogeneity
    // of the price in (S, K): S·∂S + K·∂K = price exactly.
    close("Euler", x[0] * gs + x[1] * gk, v, 1e-12);
}

/// Cox–Ross–Rubinstein binomial tree for a European put, backward induction in a `Vec`.
#[differentiate]
fn crr_put(s: f64, k: f64, r: f64, sigma: f64, t: f64) -> f64 {
    let n = 30;
    let dt = t / n as f64;
    let u = (sigma * dt.sqrt()).exp();
    let d = 1.0 / u;
    let p = ((r * dt).exp() - d) / (u - d);
    let disc = (-r * dt).exp();
    let mut values: Vec<f64> = (0..=n)
        .map(|j| (k - s * u.powi(j as i32) * d.powi((n - j) as i32)).max(0.0))
        .collect();
    for step in (0..n).rev() {
        for j in 0..=step {
            values[j] = disc * (p * values[j + 1] + (1.0 - p) * values[j]);
        }
    }
    values[0]
}

#[test]
fn binomial_tree_put() {
    let x = vec![100.0, 105.0, 0.02, 0.3, 1.0];
    let (v, (gs, gk, gr, gsig, gt)) = crr_put_grad(x[0], x[1], x[2], x[3], x[4]);
    close("value", v, crr_put(x[0], x[1], x[2], x[3], x[4]), TOL);
    // homogeneous of degree one in (S, K)
    close("Euler", x[0] * gs + x[1] * gk, v, 1e-12);
    let r = gradcheck(
        |p: &Vec<f64>| crr_put(p[0], p[1], p[2], p[3], p[4]),
        &x,
        &vec![gs, gk, gr, gsig, gt],
    );
    assert!(r.passed(), "{r}");
}

/// Monte Carlo price of an arithmetic Asian call over fixed normal draws (pathwise gradient).
#[differentiate]
fn asian_call(s0: f64, sigma: f64, draws: &[Vec<f64>]) -> f64 {
    let k = 100.0;
    let dt = 0.25;
    let mut payoff_sum = 0.0;
    for path in draws {
        let mut s = s0;
        let mut avg = 0.0;
        for z in path.iter() {
            s *= ((-0.5 * sigma * sigma) * dt + sigma * dt.sqrt() * z).exp();
            avg += s;
        }
        avg /= path.len() as f64;
        payoff_sum += (avg - k).max(0.0);
    }
    payoff_sum / draws.len() as f64
}

#[test]
fn asian_call_pathwise() {
    let draws: Vec<Vec<f64>> = (0..12)
        .map(|i| data(4, i as f64 * 1.7).iter().map(|z| 1.6 * z).collect())
        .collect();
    let (v, (gs, gsig, _)) = asian_call_grad(101.0, 0.35, &draws);
    close("value", v, asian_call(101.0, 0.35, &draws), TOL);
    fd2(
        "asian",
        |a, b| asian_call(a, b, &draws),
        (101.0, 0.35),
        (gs, gsig),
    );
}

/// Portfolio variance wᵀΣw minus a return term; ∂w = 2Σw − λμ.
#[differentiate]
fn mean_variance(w: &Array1<f64>, cov: &Array2<f64>, mu: &Array1<f64>, lambda: f64) -> f64 {
    let var = w.dot(&cov.dot(w));
    var - lambda * w.dot(mu)
}

#[test]
fn portfolio_mean_variance() {
    let a = matrix(4, 4, 0.3);
    let cov = a.t().dot(&a) + Array2::<f64>::eye(4) * 0.1;
    let w = Array1::from(vec![0.2, 0.3, 0.1, 0.4]);
    let mu = vector(4, 2.0);
    let (v, (gw, gc, gm, gl)) = mean_variance_grad(&w, &cov, &mu, 0.7);
    close("value", v, mean_variance(&w, &cov, &mu, 0.7), TOL);
    let want = cov.dot(&w) * 2.0 - &mu * 0.7;
    close_all("∂w", gw.as_slice().unwrap(), want.as_slice().unwrap());
    // ∂Σ = w wᵀ, ∂μ = −λw, ∂λ = −w·μ
    for i in 0..4 {
        for j in 0..4 {
            close("∂Σ", gc[[i, j]], w[i] * w[j], TOL);
        }
        close("∂μ", gm[i], -0.7 * w[i], TOL);
    }
    close("∂λ", gl, -w.dot(&mu), TOL);
    fd_array("∂w fd", |w| mean_variance(w, &cov, &mu, 0.7), &w, &gw);
}

/// Nelson–Siegel yield curve and a coupon bond priced off it.
#[differentiate]
fn ns_yield(beta0: f64, beta1: f64, beta2: f64, tau: f64, t: f64) -> f64 {
    let x = t / tau;
    let f = (1.0 - (-x).exp()) / x;
    beta0 + beta1 * f + beta2 * (f - (-x).exp())
}

#[differentiate]
fn bond_price(betas: [f64; 3], tau: f64, coupon: f64, years: usize) -> f64 {
    (1..=years)
        .map(|i| {
            let t = i as f64;
            let y = ns_yield(betas[0], betas[1], betas[2], tau, t);
            let cf = if i == years { coupon + 100.0 } else { coupon };
            cf * (-y * t).exp()
        })
        .sum()
}

#[test]
fn nelson_siegel_bond() {
    let betas = [0.04, -0.02, 0.01];
    let (v, (gb, gt, gc)) = bond_price_grad(betas, 2.0, 5.0, 7);
    close("value", v, bond_price(betas, 2.0, 5.0, 7), TOL);
    // ∂β0 = −Σ t·cf·e^{−yt}: the price's duration
    let mut dur = 0.0;
    for i in 1..=7 {
        let t = i as f64;
        let cf = if i == 7 { 105.0 } else { 5.0 };
        dur -= t * cf * (-ns_yield(0.04, -0.02, 0.01, 2.0, t) * t).exp();
    }
    close("∂β0", gb[0], dur, TOL);
    let r = gradcheck(|b: &[f64; 3]| bond_price(*b, 2.0, 5.0, 7), &betas, &gb);
    assert!(r.passed(), "{r}");
    fd2(
        "τ, c",
        |a, b| bond_price(betas, a, b, 7),
        (2.0, 5.0),
        (gt, gc),
    );
}

// ---------------------------------------------------------------------------------------------
// Robotics: forward kinematics.
// ---------------------------------------------------------------------------------------------

/// Planar arm: the end effector's squared distance to a target, the joint angles accumulated by
/// a fold over `zip`.
#[differentiate]
fn reach_error(angles: [f64; 3], lengths: [f64; 3], target: [f64; 2]) -> f64 {
    let (x, y, _) =
        angles
            .iter()
            .zip(lengths.iter())
            .fold((0.0, 0.0, 0.0), |(x, y, th), (&a, &l)| {
                let th = th + a;
                (x + l * th.cos(), y + l * th.sin(), th)
            });
    (x - target[0]).powi(2) + (y - target[1]).powi(2)
}

#[test]
fn planar_arm_fold() {
    let angles = [0.3, -0.5, 0.9];
    let lengths = [1.0, 0.8, 0.5];
    let target = [1.2, 0.9];
    let (v, (ga, gl, gt)) = reach_error_grad(angles, lengths, target);
    close("value", v, reach_error(angles, lengths, target), TOL);
    // ∂target = −2(p − target)
    let (mut x, mut y, mut th) = (0.0, 0.0, 0.0);
    for i in 0..3 {
        th += angles[i];
        x += lengths[i] * th.cos();
        y += lengths[i] * th.sin();
    }
    close("∂tx", gt[0], -2.0 * (x - 1.2), TOL);
    close("∂ty", gt[1], -2.0 * (y - 0.9), TOL);
    let r = gradcheck(
        |a: &[f64; 3]| reach_error(*a, lengths, target),
        &angles,
        &ga,
    );
    assert!(r.passed(), "{r}");
    let r = gradcheck(
        |l: &[f64; 3]| reach_error(angles, *l, target),
        &lengths,
        &gl,
    );
    assert!(r.passed(), "{r}");
}

/// Homogeneous 2-D transforms as `[[f64; 3]; 3]`, composed by a differentiated helper.
#[differentiate]
fn matmul3(a: [[f64; 3]; 3], b: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            for k in 0..3 {
                c[i][j] += a[i][k] * b[k][j];
            }
        }
    }
    c
}

#[differentiate]
fn joint(theta: f64, len: f64) -> [[f64; 3]; 3] {
    let (s, c) = theta.sin_cos();
    [[c, -s, len * c], [s, c, len * s], [0.0, 0.0, 1.0]]
}

#[differentiate]
fn tool_tip_x(thetas: &[f64], lens: &[f64]) -> f64 {
    let mut t = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for i in 0..thetas.len() {
        t = matmul3(t, joint(thetas[i], lens[i]));
    }
    t[0][2] + 0.5 * t[1][2]
}

#[test]
fn chain_of_homogeneous_transforms() {
    let th = vec![0.2, 0.7, -0.4, 1.1];
    let ls = vec![1.0, 0.6, 0.4, 0.3];
    let (v, (gt, gl)) = tool_tip_x_grad(&th, &ls);
    close("value", v, tool_tip_x(&th, &ls), TOL);
    fd_vec("∂θ", |t| tool_tip_x(t, &ls), &th, &gt);
    fd_vec("∂len", |l| tool_tip_x(&th, l), &ls, &gl);
}

// ---------------------------------------------------------------------------------------------
// Graphics.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Differentiable)]
struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

impl Vec3 {
    fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3 { x, y, z }
    }

    #[differentiate]
    fn dot(&self, o: &Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    #[differentiate]
    fn sub(&self, o: &Vec3) -> Vec3 {
        Vec3 {
            x: self.x - o.x,
            y: self.y - o.y,
            z: self.z - o.z,
        }
    }
}

/// Distance along a unit ray to a sphere, or a large constant when it misses: the early
/// `return` of a miss.
#[differentiate]
fn ray_sphere(origin: Vec3, dir: Vec3, center: Vec3, radius: f64) -> f64 {
    let oc = origin.sub(&center);
    // `oc.dot(&dir)` on a method's result is ndarray's `dot`: the struct's, through its type
    let b = Vec3::dot(&oc, &dir);
    let c = Vec3::dot(&oc, &oc) - radius * radius;
    let disc = b * b - c;
    if disc < 0.0 {
        return 1e3;
    }
    -b - disc.sqrt()
}

#[test]
fn ray_sphere_hit_and_miss() {
    let o = Vec3::new(0.0, 0.0, -5.0);
    let d = Vec3::new(0.1, 0.05, 1.0);
    let n = d.dot(&d).sqrt();
    let d = Vec3::new(d.x / n, d.y / n, d.z / n);
    let c = Vec3::new(0.2, -0.1, 0.5);
    let (v, (go, gd, gc, gr)) = ray_sphere_grad(o, d, c, 1.3);
    close("value", v, ray_sphere(o, d, c, 1.3), TOL);
    // t = −b − √(b² − c), c = |oc|² − r²: ∂r = −r/√disc
    let oc = o.sub(&c);
    let b = oc.dot(&d);
    let disc = b * b - oc.dot(&oc) + 1.69;
    close("∂r", gr, -1.3 / disc.sqrt(), TOL);
    // translating origin and centre together changes nothing
    close("∂o + ∂c", go.x + gc.x, 0.0, 1e-12);
    let r = gradcheck(|p: &Vec3| ray_sphere(*p, d, c, 1.3), &o, &go);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|p: &Vec3| ray_sphere(o, *p, c, 1.3), &d, &gd);
    assert!(r.passed(), "{r}");
    // a miss: the constant, no gradient
    let far = Vec3::new(5.0, 5.0, 0.5);
    let (v, (_, _, gc, gr)) = ray_sphere_grad(o, d, far, 1.0);
    close("miss", v, 1e3, 0.0);
    close("miss ∂r", gr, 0.0, 0.0);
    close("miss ∂c", gc.x, 0.0, 0.0);
}

/// Barycentric interpolation of vertex values at a point p in a triangle.
#[differentiate]
fn barycentric_interp(tri: &[[f64; 2]; 3], vals: [f64; 3], p: [f64; 2]) -> f64 {
    let [a, b, c] = *tri;
    let area = |p: [f64; 2], q: [f64; 2], r: [f64; 2]| {
        (q[0] - p[0]) * (r[1] - p[1]) - (r[0] - p[0]) * (q[1] - p[1])
    };
    let total = area(a, b, c);
    let wa = area(p, b, c) / total;
    let wb = area(a, p, c) / total;
    let wc = 1.0 - wa - wb;
    wa * vals[0] + wb * vals[1] + wc * vals[2]
}

#[test]
fn barycentric_coordinates() {
    let tri = [[0.0, 0.0], [2.0, 0.2], [0.5, 1.7]];
    let vals = [1.0, 3.0, -2.0];
    let p = [0.7, 0.6];
    let (v, (gt, gv, gp)) = barycentric_interp_grad(&tri, vals, p);
    close("value", v, barycentric_interp(&tri, vals, p), TOL);
    // the interpolant is linear in p: the gradient is constant, and at a vertex it is the value
    close(
        "at vertex",
        barycentric_interp(&tri, vals, tri[1]),
        3.0,
        1e-12,
    );
    close("Σ∂vals", gv.iter().sum::<f64>(), 1.0, 1e-12);
    let r = gradcheck(
        |t: &[[f64; 2]; 3]| barycentric_interp(t, vals, p),
        &tri,
        &gt,
    );
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 2]| barycentric_interp(&tri, vals, *q), &p, &gp);
    assert!(r.passed(), "{r}");
}

/// Polynomial smooth min of two circle SDFs (Quílez), with `match` on which side of the blend
/// band the point falls.
#[differentiate]
fn smin_sdf(px: f64, py: f64, r1: f64, r2: f64, k: f64) -> f64 {
    let d1 = (px * px + py * py).sqrt() - r1;
    let d2 = ((px - 1.5) * (px - 1.5) + py * py).sqrt() - r2;
    let h = (k - (d1 - d2).abs()).max(0.0) / k;
    match h {
        h if h == 0.0 => d1.min(d2),
        h => d1.min(d2) - h * h * k * 0.25,
    }
}

#[test]
fn smooth_min_of_circles() {
    for &(px, py) in &[(0.8, 0.3), (-0.9, 0.2), (0.75, -0.6)] {
        let (v, g) = smin_sdf_grad(px, py, 0.6, 0.5, 0.4);
        close("value", v, smin_sdf(px, py, 0.6, 0.5, 0.4), TOL);
        let x = vec![px, py, 0.6, 0.5, 0.4];
        let r = gradcheck(
            |q: &Vec<f64>| smin_sdf(q[0], q[1], q[2], q[3], q[4]),
            &x,
            &vec![g.0, g.1, g.2, g.3, g.4],
        );
        assert!(r.passed(), "{r}");
    }
    // far from the blend band: the distance to the first circle, ∂r1 = −1
    let (_, g) = smin_sdf_grad(-0.9, 0.2, 0.6, 0.5, 0.4);
    close("∂r1", g.2, -1.0, 0.0);
}

/// Log-sum-exp smooth min over many circles, with the circles as `Vec<[f64; 3]>` (x, y, r).
#[differentiate]
fn soft_scene(circles: &Vec<[f64; 3]>, p: [f64; 2], k: f32) -> f64 {
    let k = k as f64;
    let ds: Vec<f64> = circles
        .iter()
        .map(|c| ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt() - c[2])
        .collect();
    let m = ds.iter().cloned().fold(f64::INFINITY, f64::min);
    let s: f64 = ds.iter().map(|d| (-(d - m) / k).exp()).sum();
    m - k * s.ln()
}

#[test]
fn log_sum_exp_scene() {
    let circles = vec![
        [0.0, 0.0, 0.5],
        [1.0, 0.3, 0.4],
        [-0.4, 1.2, 0.7],
        [0.9, -1.0, 0.2],
    ];
    let p = [0.4, 0.5];
    let (v, (gc, gp, gk)) = soft_scene_grad(&circles, p, 0.2);
    close("value", v, soft_scene(&circles, p, 0.2), TOL);
    fd32("∂k", |k| soft_scene(&circles, p, k) as f32, 0.2, gk);
    // ∂rᵢ = −softmax(−dᵢ/k)ᵢ: they sum to −1
    let sum_r: f64 = gc.iter().map(|c| c[2]).sum();
    close("Σ∂r", sum_r, -1.0, 1e-12);
    let r = gradcheck(|c: &Vec<[f64; 3]>| soft_scene(c, p, 0.2), &circles, &gc);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 2]| soft_scene(&circles, *q, 0.2), &p, &gp);
    assert!(r.passed(), "{r}");
}

/// Phong-like shading: Lambert plus a specular power term, clamped at zero.
#[differentiate]
fn shade(normal: [f64; 3], light: [f64; 3], view: [f64; 3], shininess: f64) -> f64 {
    let norm = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let nl = norm(normal);
    let n = [normal[0] / nl, normal[1] / nl, normal[2] / nl];
    let ndl: f64 = n.iter().zip(light.iter()).map(|(a, b)| a * b).sum();
    let diffuse = ndl.max(0.0);
    let mut r = [0.0; 3];
    for i in 0..3 {
        r[i] = 2.0 * ndl * n[i] - light[i];
    }
    let rdv: f64 = (0..3).map(|i| r[i] * view[i]).sum();
    let spec = if rdv > 0.0 { rdv.powf(shininess) } else { 0.0 };
    0.8 * diffuse + 0.2 * spec
}

#[test]
fn phong_shading() {
    let nrm = [0.2, 0.9, 0.3];
    let l = [0.0, 0.8, 0.6];
    let vw = [0.3, 0.9, 0.3];
    let (v, (gn, gl, gv, gs)) = shade_grad(nrm, l, vw, 12.0);
    close("value", v, shade(nrm, l, vw, 12.0), TOL);
    // scaling the normal changes nothing: ∂n ⟂ n
    let radial: f64 = (0..3).map(|i| gn[i] * nrm[i]).sum();
    close("∂n·n", radial, 0.0, 1e-12);
    let r = gradcheck(|q: &[f64; 3]| shade(*q, l, vw, 12.0), &nrm, &gn);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 3]| shade(nrm, *q, vw, 12.0), &l, &gl);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 3]| shade(nrm, l, *q, 12.0), &vw, &gv);
    assert!(r.passed(), "{r}");
    fd("∂shininess", |s| shade(nrm, l, vw, s), 12.0, gs);
}

// ---------------------------------------------------------------------------------------------
// Machine-learning losses.
// ---------------------------------------------------------------------------------------------

/// Binary focal loss over logits: −α(1−p)^γ ln p for positives, −(1−α)p^γ ln(1−p) otherwise.
#[differentiate]
fn focal_loss(logits: &[f64], labels: &[bool], gamma: f64) -> f64 {
    let alpha = 0.25;
    let n = logits.len() as f64;
    logits
        .iter()
        .zip(labels)
        .map(|(&z, &y)| {
            let p = 1.0 / (1.0 + (-z).exp());
            if y {
                -alpha * (1.0 - p).powf(gamma) * p.ln()
            } else {
                -(1.0 - alpha) * p.powf(gamma) * (1.0 - p).ln()
            }
        })
        .sum::<f64>()
        / n
}

#[test]
fn focal_loss_over_zip() {
    let z = vec![0.3, -1.2, 2.0, 0.1, -0.4];
    let y = vec![true, false, true, false, true];
    let (v, (gz, gg)) = focal_loss_grad(&z, &y, 2.0);
    close("value", v, focal_loss(&z, &y, 2.0), TOL);
    // γ = 0 is weighted cross-entropy: ∂z = α(p − 1)/n for positives, (1−α)p/n otherwise
    let (_, (g0, _)) = focal_loss_grad(&z, &y, 0.0);
    for i in 0..5 {
        let p = 1.0 / (1.0 + (-z[i]).exp());
        let want = if y[i] { 0.25 * (p - 1.0) } else { 0.75 * p } / 5.0;
        close("∂z, γ=0", g0[i], want, 1e-12);
    }
    fd_vec("∂z", |q| focal_loss(q, &y, 2.0), &z, &gz);
    fd("∂γ", |g| focal_loss(&z, &y, g), 2.0, gg);
}

/// Triplet loss with a margin over rows of embeddings: Σ max(0, |a−p|² − |a−n|² + m).
#[differentiate]
fn triplet_loss(anchor: &[Vec<f64>], pos: &[Vec<f64>], neg: &[Vec<f64>], margin: f64) -> f64 {
    let sq = |u: &Vec<f64>, v: &Vec<f64>| -> f64 {
        u.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum()
    };
    let mut loss = 0.0;
    for i in 0..anchor.len() {
        let l = sq(&anchor[i], &pos[i]) - sq(&anchor[i], &neg[i]) + margin;
        if l > 0.0 {
            loss += l;
        }
    }
    loss / anchor.len() as f64
}

#[test]
fn triplet_loss_rows() {
    let a: Vec<Vec<f64>> = (0..4).map(|i| data(3, i as f64)).collect();
    let p: Vec<Vec<f64>> = (0..4).map(|i| data(3, i as f64 + 0.3)).collect();
    let n: Vec<Vec<f64>> = (0..4).map(|i| data(3, i as f64 + 1.0)).collect();
    let (v, (ga, gp, gn, gm)) = triplet_loss_grad(&a, &p, &n, 0.5);
    close("value", v, triplet_loss(&a, &p, &n, 0.5), TOL);
    // ∂margin = (number of active triplets)/N; ∂p = −2(a − p)/N on active ones
    let mut active = 0.0;
    for i in 0..4 {
        let d = |u: &Vec<f64>, w: &Vec<f64>| {
            u.iter().zip(w).map(|(x, y)| (x - y) * (x - y)).sum::<f64>()
        };
        if d(&a[i], &p[i]) - d(&a[i], &n[i]) + 0.5 > 0.0 {
            active += 1.0;
            for j in 0..3 {
                close("∂p", gp[i][j], -2.0 * (a[i][j] - p[i][j]) / 4.0, TOL);
            }
        }
    }
    assert!(active > 0.0 && active < 4.0, "both branches taken");
    close("∂m", gm, active / 4.0, TOL);
    let r = gradcheck(|q: &Vec<Vec<f64>>| triplet_loss(q, &p, &n, 0.5), &a, &ga);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &Vec<Vec<f64>>| triplet_loss(&a, &p, q, 0.5), &n, &gn);
    assert!(r.passed(), "{r}");
}

/// Contrastive loss on pairs: similar pairs pull (d²), dissimilar pairs push (max(0, m − d)²).
#[differentiate]
fn contrastive(x1: &Array2<f64>, x2: &Array2<f64>, same: &[u8], margin: f64) -> f64 {
    let diff = x1 - x2;
    let d2 = (&diff * &diff).sum_axis(Axis(1));
    let mut total = 0.0;
    for (i, &s) in same.iter().enumerate() {
        let d = (d2[i] + 1e-9).sqrt();
        total += match s {
            1 => d2[i],
            _ => (margin - d).max(0.0).powi(2),
        };
    }
    0.5 * total / same.len() as f64
}

#[test]
fn contrastive_loss_sum_axis() {
    let x1 = matrix(5, 3, 0.0);
    let x2 = matrix(5, 3, 2.5);
    let same = [1u8, 0, 0, 1, 0];
    let (v, (g1, g2, gm)) = contrastive_grad(&x1, &x2, &same, 1.8);
    close("value", v, contrastive(&x1, &x2, &same, 1.8), TOL);
    // symmetric in x1, x2 up to sign
    for (a, b) in g1.iter().zip(g2.iter()) {
        close("∂x1 = −∂x2", *a, -*b, 1e-15);
    }
    fd_array("∂x1", |x| contrastive(x, &x2, &same, 1.8), &x1, &g1);
    fd("∂m", |m| contrastive(&x1, &x2, &same, m), 1.8, gm);
}

/// Cross-entropy with label smoothing over a log-softmax written out.
#[differentiate]
fn smoothed_ce(logits: &[f64], target: usize, eps: f64) -> f64 {
    let k = logits.len();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + logits.iter().map(|&z| (z - max).exp()).sum::<f64>().ln();
    let mut loss = 0.0;
    for (j, &z) in logits.iter().enumerate() {
        let q = if j == target {
            1.0 - eps + eps / k as f64
        } else {
            eps / k as f64
        };
        loss -= q * (z - lse);
    }
    loss
}

#[test]
fn label_smoothing_cross_entropy() {
    let z = vec![1.2, -0.3, 0.8, 2.1, 0.0];
    let (v, (gz, ge)) = smoothed_ce_grad(&z, 2, 0.1);
    close("value", v, smoothed_ce(&z, 2, 0.1), TOL);
    // ∂z = softmax(z) − q
    let s: f64 = z.iter().map(|v| v.exp()).sum();
    for j in 0..5 {
        let q = if j == 2 { 0.92 } else { 0.02 };
        close("∂z", gz[j], z[j].exp() / s - q, 1e-12);
    }
    fd("∂ε", |e| smoothed_ce(&z, 2, e), 0.1, ge);
}

/// Huber and pinball (quantile) losses, chosen by a `match` on a `&str`.
#[differentiate]
fn robust_loss(pred: &[f64], y: &[f64], kind: &str, param: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..pred.len() {
        let r = y[i] - pred[i];
        total += match kind {
            "huber" => {
                if r.abs() <= param {
                    0.5 * r * r
                } else {
                    param * (r.abs() - 0.5 * param)
                }
            }
            "quantile" => {
                if r >= 0.0 {
                    param * r
                } else {
                    (param - 1.0) * r
                }
            }
            _ => r * r,
        };
    }
    total / pred.len() as f64
}

#[test]
fn huber_and_quantile() {
    let pred = vec![0.1, 0.5, -0.3, 2.0, 1.1, -1.4];
    let y = vec![0.3, -0.4, -0.2, 0.5, 1.0, 0.9];
    let (v, (gp, _, gd)) = robust_loss_grad(&pred, &y, "huber", 0.5);
    close("value", v, robust_loss(&pred, &y, "huber", 0.5), TOL);
    // ∂pred = −clamp(r, −δ, δ)/n
    for i in 0..6 {
        close(
            "∂huber",
            gp[i],
            -(y[i] - pred[i]).clamp(-0.5, 0.5) / 6.0,
            1e-15,
        );
    }
    fd_vec(
        "∂huber fd",
        |p| robust_loss(p, &y, "huber", 0.5),
        &pred,
        &gp,
    );
    fd("∂δ", |d| robust_loss(&pred, &y, "huber", d), 0.5, gd);
    let (v, (gp, gy, gq)) = robust_loss_grad(&pred, &y, "quantile", 0.8);
    close("value", v, robust_loss(&pred, &y, "quantile", 0.8), TOL);
    for i in 0..6 {
        let r = y[i] - pred[i];
        close(
            "∂pinball",
            gp[i],
            if r >= 0.0 { -0.8 } else { 0.2 } / 6.0,
            1e-15,
        );
        close("∂y", gy[i], -gp[i], 0.0);
    }
    // ∂τ = mean(r)
    let mr: f64 = y.iter().zip(&pred).map(|(a, b)| a - b).sum::<f64>() / 6.0;
    close("∂τ", gq, mr, 1e-12);
}

/// A CTC-like forward pass: the log-probability of emitting `target` (with blanks between and
/// around its labels) from per-frame log-probabilities, by log-sum-exp recursion.
#[differentiate]
fn ctc_logprob(logp: &[Vec<f64>], target: &[usize]) -> f64 {
    let lse2 = |a: f64, b: f64| {
        let m = a.max(b);
        if m == f64::NEG_INFINITY {
            m
        } else {
            m + ((a - m).exp() + (b - m).exp()).ln()
        }
    };
    let mut ext = vec![0usize];
    for &c in target {
        ext.push(c);
        ext.push(0);
    }
    let s = ext.len();
    let mut alpha = vec![f64::NEG_INFINITY; s];
    alpha[0] = logp[0][ext[0]];
    alpha[1] = logp[0][ext[1]];
    for t in 1..logp.len() {
        let prev = alpha.clone();
        for j in 0..s {
            let mut a = prev[j];
            if j >= 1 {
                a = lse2(a, prev[j - 1]);
            }
            if j >= 2 && ext[j] != 0 && ext[j] != ext[j - 2] {
                a = lse2(a, prev[j - 2]);
            }
            alpha[j] = a + logp[t][ext[j]];
        }
    }
    lse2(alpha[s - 1], alpha[s - 2])
}

#[test]
fn ctc_forward_log_sum_exp() {
    let logp: Vec<Vec<f64>> = (0..6)
        .map(|t| {
            let z = data(4, t as f64 * 0.9);
            let m = z.iter().map(|v| v.exp()).sum::<f64>().ln();
            z.iter().map(|v| v - m).collect()
        })
        .collect();
    let target = [1, 3, 3];
    let (v, g) = ctc_logprob_grad(&logp, &target);
    close("value", v, ctc_logprob(&logp, &target), TOL);
    // the gradient w.r.t. log-probabilities is a posterior occupancy: each frame's row sums to 1
    for t in 0..6 {
        close("Σ_k ∂logp[t][k]", g[t].iter().sum::<f64>(), 1.0, 1e-12);
    }
    let r = gradcheck(|q: &Vec<Vec<f64>>| ctc_logprob(q, &target), &logp, &g);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Signal processing.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
}

impl Biquad {
    /// Direct form I over a signal; the energy of the output.
    #[differentiate]
    fn output_energy(&self, x: &[f64]) -> f64 {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        let mut e = 0.0;
        for &xn in x {
            let y = self.b0 * xn + self.b1 * x1 + self.b2 * x2 - self.a1 * y1 - self.a2 * y2;
            x2 = x1;
            x1 = xn;
            y2 = y1;
            y1 = y;
            e += y * y;
        }
        e
    }
}

#[test]
fn biquad_direct_form() {
    let f = Biquad {
        b0: 0.2,
        b1: 0.4,
        b2: 0.2,
        a1: -0.5,
        a2: 0.3,
    };
    let x = data(24, 0.4);
    let (v, (gf, gx)) = f.output_energy_grad(&x);
    close("value", v, f.output_energy(&x), TOL);
    let r = gradcheck(|q: &Biquad| q.output_energy(&x), &f, &gf);
    assert!(r.passed(), "{r}");
    fd_vec("∂x", |q| f.output_energy(q), &x, &gx);
    // linear in x: x·∂x = 2·energy
    let xg: f64 = x.iter().zip(&gx).map(|(a, b)| a * b).sum();
    close("Euler", xg, 2.0 * v, 1e-12);
}

/// Goertzel power at a (fractional) bin, with a `while` loop over the samples.
#[differentiate]
fn goertzel_power(x: &[f64], freq: f64) -> f64 {
    let n = x.len();
    let w = 2.0 * PI * freq / n as f64;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let s = x[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        i += 1;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

#[test]
fn goertzel_bin_power() {
    let x: Vec<f64> = (0..32)
        .map(|i| (2.0 * PI * 3.0 * i as f64 / 32.0).sin() + 0.3 * data(1, i as f64)[0])
        .collect();
    let (v, (gx, gf)) = goertzel_power_grad(&x, 3.2);
    close("value", v, goertzel_power(&x, 3.2), TOL);
    // quadratic in x: x·∂x = 2·power
    let xg: f64 = x.iter().zip(&gx).map(|(a, b)| a * b).sum();
    close("Euler", xg, 2.0 * v, 1e-11);
    // the power is |Σ x_k e^{−iwk}|² up to phase: compare with the DFT at the bin
    let w = 2.0 * PI * 3.2 / 32.0;
    let (re, im) = x.iter().enumerate().fold((0.0, 0.0), |(r, m), (k, &v)| {
        (r + v * (w * k as f64).cos(), m - v * (w * k as f64).sin())
    });
    close("DFT", v, re * re + im * im, 1e-10);
    fd_vec("∂x fd", |q| goertzel_power(q, 3.2), &x, &gx);
    fd("∂freq", |f| goertzel_power(&x, f), 3.2, gf);
}

/// A moving-average crossover smoothed by tanh, over `windows`, `skip` and `step_by`.
#[differentiate]
fn crossover_signal(prices: &[f64], sharp: f64) -> f64 {
    let fast: Vec<f64> = prices
        .windows(3)
        .map(|w| w.iter().sum::<f64>() / 3.0)
        .collect();
    let slow: Vec<f64> = prices
        .windows(5)
        .map(|w| w.iter().sum::<f64>() / 5.0)
        .collect();
    fast.iter()
        .skip(2)
        .zip(slow.iter())
        .step_by(2)
        .map(|(f, s)| (sharp * (f - s)).tanh())
        .sum()
}

#[test]
fn moving_average_crossover() {
    let prices: Vec<f64> = (0..16)
        .map(|i| 100.0 + 3.0 * (i as f64 * 0.5).sin() + data(1, i as f64)[0])
        .collect();
    let (v, (gp, gs)) = crossover_signal_grad(&prices, 0.8);
    close("value", v, crossover_signal(&prices, 0.8), TOL);
    // a constant shift of all prices changes nothing
    close("Σ∂p", gp.iter().sum::<f64>(), 0.0, 1e-12);
    fd_vec("∂p", |q| crossover_signal(q, 0.8), &prices, &gp);
    fd("∂sharp", |k| crossover_signal(&prices, k), 0.8, gs);
}

/// Linear-phase FIR taps designed by a windowed sinc, applied with `chunks` decimation.
#[differentiate]
fn decimated_energy(x: &[f64], cutoff: f64) -> f64 {
    let taps: Vec<f64> = (0..7)
        .map(|k| {
            let m = k as f64 - 3.0;
            let sinc = if m == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * PI * cutoff * m).sin() / (PI * m)
            };
            let hann = 0.5 - 0.5 * (2.0 * PI * k as f64 / 6.0).cos();
            sinc * hann
        })
        .collect();
    let mut filtered = vec![0.0; x.len()];
    for n in 6..x.len() {
        for k in 0..7 {
            filtered[n] += taps[k] * x[n - k];
        }
    }
    filtered.chunks(2).map(|c| c[0] * c[0]).sum()
}

#[test]
fn windowed_sinc_decimation() {
    let x = data(20, 1.3);
    let (v, (gx, gc)) = decimated_energy_grad(&x, 0.2);
    close("value", v, decimated_energy(&x, 0.2), TOL);
    fd_vec("∂x", |q| decimated_energy(q, 0.2), &x, &gx);
    fd("∂cutoff", |c| decimated_energy(&x, c), 0.2, gc);
}

// ---------------------------------------------------------------------------------------------
// Optimisation inner loops.
// ---------------------------------------------------------------------------------------------

/// Ten steps of Adam written by hand on a quadratic whose centre is the parameter; the loss after
/// them. The gradient flows through the optimiser's moments and the square root.
#[differentiate]
fn adam_unrolled(center: &[f64], lr: f64) -> f64 {
    let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
    let n = center.len();
    let mut x = vec![0.0; n];
    let mut m = vec![0.0; n];
    let mut v = vec![0.0; n];
    for t in 1..=10 {
        for i in 0..n {
            let g = 2.0 * (x[i] - center[i]) * (i as f64 + 1.0);
            m[i] = beta1 * m[i] + (1.0 - beta1) * g;
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
            let mh = m[i] / (1.0 - beta1.powi(t));
            let vh = v[i] / (1.0 - beta2.powi(t));
            x[i] -= lr * mh / (vh.sqrt() + eps);
        }
    }
    x.iter()
        .zip(center)
        .enumerate()
        .map(|(i, (a, c))| (i as f64 + 1.0) * (a - c).powi(2))
        .sum()
}

#[test]
fn hand_written_adam_inside_objective() {
    let c = vec![0.5, -1.0, 2.0];
    let (v, (gc, gl)) = adam_unrolled_grad(&c, 0.1);
    close("value", v, adam_unrolled(&c, 0.1), TOL);
    fd_vec("∂center", |q| adam_unrolled(q, 0.1), &c, &gc);
    fd("∂lr", |l| adam_unrolled(&c, l), 0.1, gl);
}

/// Backtracking (Armijo) line search along the negative gradient of the Rosenbrock function,
/// then the function at the accepted point; the step count is discrete.
#[differentiate]
fn rosen(x: f64, y: f64, a: f64) -> f64 {
    (a - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[differentiate]
fn after_line_search(x: f64, y: f64, a: f64) -> f64 {
    let gx = -2.0 * (a - x) - 400.0 * x * (y - x * x);
    let gy = 200.0 * (y - x * x);
    let f0 = rosen(x, y, a);
    let mut step = 1.0;
    let mut tries = 0;
    while rosen(x - step * gx, y - step * gy, a) > f0 - 1e-4 * step * (gx * gx + gy * gy)
        && tries < 30
    {
        step *= 0.5;
        tries += 1;
    }
    rosen(x - step * gx, y - step * gy, a)
}

#[test]
fn armijo_backtracking() {
    let p = (-0.8, 0.9, 1.0);
    let (v, (a, b, c)) = after_line_search_grad(p.0, p.1, p.2);
    close("value", v, after_line_search(p.0, p.1, p.2), TOL);
    fd3("after_line_search", after_line_search, p, (a, b, c));
}

/// Newton's method for the implied volatility of a call, started at 0.3; the result's derivative
/// w.r.t. the price is 1/vega (the implicit function theorem), up to the erf approximation.
#[differentiate]
fn implied_vol(price: f64, s: f64, k: f64, t: f64) -> f64 {
    let mut sigma = 0.3;
    for _ in 0..8 {
        let model = black_scholes_call(s, k, 0.0, sigma, t);
        let sqrt_t = t.sqrt();
        let d1 = ((s / k).ln() + 0.5 * sigma * sigma * t) / (sigma * sqrt_t);
        let vega = s * (-0.5 * d1 * d1).exp() / (2.0 * PI).sqrt() * sqrt_t;
        sigma -= (model - price) / vega;
    }
    sigma
}

#[test]
fn newton_implied_volatility() {
    let price = black_scholes_call(100.0, 100.0, 0.0, 0.25, 1.0);
    let (v, (gp, gs, gk, gt)) = implied_vol_grad(price, 100.0, 100.0, 1.0);
    close("value", v, implied_vol(price, 100.0, 100.0, 1.0), TOL);
    close("σ", v, 0.25, 1e-6);
    let r = gradcheck(
        |q: &Vec<f64>| implied_vol(q[0], q[1], q[2], q[3]),
        &vec![price, 100.0, 100.0, 1.0],
        &vec![gp, gs, gk, gt],
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Statistics: filters and hidden Markov models.
// ---------------------------------------------------------------------------------------------

/// Negative log-likelihood of a local-level model by a scalar Kalman filter over a `Vec` of
/// observations, noise variances as exponentials.
#[differentiate]
fn kalman_nll(log_q: f64, log_r: f64, obs: &Vec<f64>) -> f64 {
    let (q, r) = (log_q.exp(), log_r.exp());
    let mut mean = obs[0];
    let mut var = 1.0;
    let mut nll = 0.0;
    for y in obs.iter().skip(1) {
        let p = var + q;
        let s = p + r;
        let innov = y - mean;
        nll += 0.5 * ((2.0 * PI * s).ln() + innov * innov / s);
        let gain = p / s;
        mean += gain * innov;
        var = (1.0 - gain) * p;
    }
    nll
}

#[test]
fn kalman_filter_likelihood() {
    let obs: Vec<f64> = (0..20)
        .map(|i| (i as f64 * 0.2).sin() + 0.3 * data(1, i as f64 * 3.0)[0])
        .collect();
    let (v, (gq, gr, go)) = kalman_nll_grad(-2.0, -1.5, &obs);
    close("value", v, kalman_nll(-2.0, -1.5, &obs), TOL);
    fd2(
        "∂log q, ∂log r",
        |a, b| kalman_nll(a, b, &obs),
        (-2.0, -1.5),
        (gq, gr),
    );
    fd_vec("∂obs", |o| kalman_nll(-2.0, -1.5, &o.to_vec()), &obs, &go);
    // the likelihood is invariant to shifting every observation
    close("Σ∂obs", go.iter().sum::<f64>(), 0.0, 1e-10);
}

/// HMM forward algorithm in log space: transition and emission logits as `Array2`, normalised
/// by a log-softmax along rows; the log-likelihood of a sequence of symbols.
#[differentiate]
fn hmm_loglik(trans: &Array2<f64>, emit: &Array2<f64>, obs: &[usize]) -> f64 {
    let n = trans.nrows();
    let lse = |xs: &Vec<f64>| {
        let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    let mut log_a = vec![vec![0.0; n]; n];
    for i in 0..n {
        let row: Vec<f64> = trans.row(i).iter().cloned().collect();
        let z = lse(&row);
        for j in 0..n {
            log_a[i][j] = trans[[i, j]] - z;
        }
    }
    let mut log_b = vec![vec![0.0; emit.ncols()]; n];
    for i in 0..n {
        let row: Vec<f64> = emit.row(i).to_vec();
        let z = lse(&row);
        for k in 0..emit.ncols() {
            log_b[i][k] = emit[[i, k]] - z;
        }
    }
    let mut alpha: Vec<f64> = (0..n)
        .map(|i| -(n as f64).ln() + log_b[i][obs[0]])
        .collect();
    for &o in &obs[1..] {
        let mut next = vec![0.0; n];
        for j in 0..n {
            let terms: Vec<f64> = (0..n).map(|i| alpha[i] + log_a[i][j]).collect();
            next[j] = lse(&terms) + log_b[j][o];
        }
        alpha = next;
    }
    lse(&alpha)
}

#[test]
fn hmm_forward_log_sum_exp() {
    let trans = matrix(3, 3, 0.7);
    let emit = matrix(3, 4, 1.9);
    let obs = [0, 2, 3, 1, 1, 0, 2];
    let (v, (gt, ge)) = hmm_loglik_grad(&trans, &emit, &obs);
    close("value", v, hmm_loglik(&trans, &emit, &obs), TOL);
    // logits of a row are shift-invariant: each row of the gradient sums to 0
    for i in 0..3 {
        close("Σ row ∂trans", gt.row(i).sum(), 0.0, 1e-12);
        close("Σ row ∂emit", ge.row(i).sum(), 0.0, 1e-12);
    }
    fd_array("∂trans", |t| hmm_loglik(t, &emit, &obs), &trans, &gt);
    fd_array("∂emit", |e| hmm_loglik(&trans, e, &obs), &emit, &ge);
}

/// Exponentially weighted mean and variance of a history, newest last, with `rev` and
/// `enumerate`.
#[differentiate]
fn ewm_moments(hist: &[f64], lam: f64) -> (f64, f64) {
    let (mut sw, mut sx, mut sxx) = (0.0, 0.0, 0.0);
    for (age, &x) in hist.iter().rev().enumerate() {
        let w = lam.powi(age as i32);
        sw += w;
        sx += w * x;
        sxx += w * x * x;
    }
    let mean = sx / sw;
    (mean, sxx / sw - mean * mean)
}

/// A Gaussian NLL of the newest point under the moments of the ones before it.
#[differentiate]
fn ewm_surprise(xs: &[f64], half_life: f64) -> f64 {
    let lam = (-(2.0f64).ln() / half_life).exp();
    let newest = xs[xs.len() - 1];
    let (mean, var) = ewm_moments(&xs[..xs.len() - 1], lam);
    0.5 * (var.ln() + (newest - mean).powi(2) / var)
}

#[test]
fn exponentially_weighted_surprise() {
    let xs = data(12, 0.2);
    let (v, (gx, gh)) = ewm_surprise_grad(&xs, 4.0);
    close("value", v, ewm_surprise(&xs, 4.0), TOL);
    // ∂newest = (newest − mean)/var
    let (mean, var) = ewm_moments(&xs[..11], f64::exp(-(2.0f64).ln() / 4.0));
    close("∂newest", gx[11], (xs[11] - mean) / var, 1e-12);
    close("Σ∂x", gx.iter().sum::<f64>(), 0.0, 1e-10);
    fd_vec("∂x", |q| ewm_surprise(q, 4.0), &xs, &gx);
    fd("∂half-life", |h| ewm_surprise(&xs, h), 4.0, gh);
}

// ---------------------------------------------------------------------------------------------
// ODE solvers generic over the float type.
// ---------------------------------------------------------------------------------------------

/// One RK4 step of y' = −k·y + sin(t), written once for `f32` and `f64`.
#[differentiate]
fn rk4_decay<T: Float>(y0: T, k: T, h: T, steps: usize) -> T {
    let two = T::from(2.0).unwrap();
    let six = T::from(6.0).unwrap();
    let half = T::from(0.5).unwrap();
    let f = |t: T, y: T| -k * y + t.sin();
    let mut y = y0;
    let mut t = T::zero();
    for _ in 0..steps {
        let k1 = f(t, y);
        let k2 = f(t + half * h, y + half * h * k1);
        let k3 = f(t + half * h, y + half * h * k2);
        let k4 = f(t + h, y + h * k3);
        y = y + h / six * (k1 + two * k2 + two * k3 + k4);
        t = t + h;
    }
    y
}

#[test]
fn rk4_generic_f32_and_f64() {
    let (v, (gy, gk, gh)) = rk4_decay_grad(1.0f64, 0.7, 0.1, 20);
    close("value", v, rk4_decay(1.0f64, 0.7, 0.1, 20), TOL);
    // linear in y0: ∂y0 = the homogeneous solution's RK4 factor (1 − kh + (kh)²/2 − (kh)³/6 + (kh)⁴/24)^n
    let z = 0.7 * 0.1;
    let factor: f64 = 1.0 - z + z * z / 2.0 - z * z * z / 6.0 + z * z * z * z / 24.0;
    close("∂y0", gy, factor.powi(20), 1e-12);
    let r = gradcheck(
        |q: &(f64, f64, f64)| rk4_decay(q.0, q.1, q.2, 20),
        &(1.0, 0.7, 0.1),
        &(gy, gk, gh),
    );
    assert!(r.passed(), "{r}");
    let (v32, (gy32, gk32, _)) = rk4_decay_grad(1.0f32, 0.7, 0.1, 20);
    close("f32 value", v32 as f64, v, 1e-5);
    close("f32 ∂y0", gy32 as f64, gy, 1e-5);
    close("f32 ∂k", gk32 as f64, gk, 1e-4);
    fd32("f32 ∂k fd", |k| rk4_decay(1.0f32, k, 0.1, 20), 0.7, gk32);
}

/// Lotka–Volterra predator–prey by RK4 over `[T; 2]` states with a helper for the field; the
/// predator population at the end.
#[differentiate]
fn lv_field<T: Float>(s: [T; 2], p: [T; 4]) -> [T; 2] {
    [
        p[0] * s[0] - p[1] * s[0] * s[1],
        p[2] * s[0] * s[1] - p[3] * s[1],
    ]
}

#[differentiate]
fn lotka_volterra<T: Float>(s0: [T; 2], p: [T; 4], h: T, n: usize) -> T {
    let half = T::from(0.5).unwrap();
    let sixth = T::one() / T::from(6.0).unwrap();
    let mut s = s0;
    for _ in 0..n {
        let k1 = lv_field(s, p);
        let k2 = lv_field([s[0] + half * h * k1[0], s[1] + half * h * k1[1]], p);
        let k3 = lv_field([s[0] + half * h * k2[0], s[1] + half * h * k2[1]], p);
        let k4 = lv_field([s[0] + h * k3[0], s[1] + h * k3[1]], p);
        for i in 0..2 {
            s[i] = s[i] + h * sixth * (k1[i] + (k2[i] + k3[i]) * T::from(2.0).unwrap() + k4[i]);
        }
    }
    s[1]
}

#[test]
fn lotka_volterra_rk4_arrays() {
    let s0 = [1.0, 0.5];
    let p = [1.1, 0.4, 0.1, 0.4];
    let (v, (gs, gp, gh)) = lotka_volterra_grad(s0, p, 0.05, 60);
    close("value", v, lotka_volterra(s0, p, 0.05, 60), TOL);
    let r = gradcheck(|q: &[f64; 2]| lotka_volterra(*q, p, 0.05, 60), &s0, &gs);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 4]| lotka_volterra(s0, *q, 0.05, 60), &p, &gp);
    assert!(r.passed(), "{r}");
    fd("∂h", |h| lotka_volterra(s0, p, h, 60), 0.05, gh);
    let (_, (gs32, _, _)) = lotka_volterra_grad([1.0f32, 0.5], [1.1f32, 0.4, 0.1, 0.4], 0.05, 60);
    close("f32 ∂s0", gs32[0] as f64, gs[0], 1e-3);
}

/// Adaptive-step Euler–Heun (order 2 with an error estimate), `loop` with a `break` when the end
/// time is reached: the step sizes depend on the parameter.
#[differentiate]
fn heun_adaptive(k: f64, y0: f64) -> f64 {
    let mut t = 0.0;
    let mut y = y0;
    let mut h = 0.1;
    loop {
        if t >= 2.0 {
            break;
        }
        if t + h > 2.0 {
            h = 2.0 - t;
        }
        let f0 = -k * y * y;
        let y_euler = y + h * f0;
        let f1 = -k * y_euler * y_euler;
        let y_heun = y + 0.5 * h * (f0 + f1);
        let err = (y_heun - y_euler).abs();
        if err < 1e-3 {
            t += h;
            y = y_heun;
            h *= 1.5;
        } else {
            h *= 0.5;
        }
    }
    y
}

#[test]
fn adaptive_heun() {
    let (v, (gk, gy)) = heun_adaptive_grad(0.8, 1.5);
    close("value", v, heun_adaptive(0.8, 1.5), TOL);
    // exact solution y = y0/(1 + k·y0·t): close to the discrete one
    close("vs exact", v, 1.5 / (1.0 + 0.8 * 1.5 * 2.0), 1e-2);
    // the accepted step sizes are a piecewise-constant function of the parameters: the gradient
    // is that of the discrete map at the step sequence taken, which finite differences see too
    fd2("∂k, ∂y0", heun_adaptive, (0.8, 1.5), (gk, gy));
}

// ---------------------------------------------------------------------------------------------
// Dynamic programming over floats.
// ---------------------------------------------------------------------------------------------

/// Soft-DTW (Cuturi & Blondel) between two series, with γ-soft-min of the three predecessors.
#[differentiate]
fn soft_dtw(a: &[f64], b: &[f64], gamma: f64) -> f64 {
    let (n, m) = (a.len(), b.len());
    let softmin = |x: f64, y: f64, z: f64| {
        let lo = x.min(y).min(z);
        lo - gamma
            * ((-(x - lo) / gamma).exp() + (-(y - lo) / gamma).exp() + (-(z - lo) / gamma).exp())
                .ln()
    };
    let big = 1e10;
    let mut r = vec![vec![big; m + 1]; n + 1];
    r[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let cost = (a[i - 1] - b[j - 1]).powi(2);
            r[i][j] = cost + softmin(r[i - 1][j - 1], r[i - 1][j], r[i][j - 1]);
        }
    }
    r[n][m]
}

#[test]
fn soft_dtw_grid() {
    let a = data(6, 0.0);
    let b = data(5, 0.6);
    let (v, (ga, gb, gg)) = soft_dtw_grad(&a, &b, 0.3);
    close("value", v, soft_dtw(&a, &b, 0.3), TOL);
    fd_vec("∂a", |q| soft_dtw(q, &b, 0.3), &a, &ga);
    fd_vec("∂b", |q| soft_dtw(&a, q, 0.3), &b, &gb);
    fd("∂γ", |g| soft_dtw(&a, &b, g), 0.3, gg);
    // shifting both series together changes nothing
    let s: f64 = ga.iter().chain(gb.iter()).sum();
    close("Σ", s, 0.0, 1e-10);
}

/// Needleman–Wunsch alignment score with a soft max over the three moves, over a flat
/// row-major table; the substitution score is a learned matrix of letter similarities.
#[differentiate]
fn soft_nw(sub: &Vec<Vec<f64>>, gap: f64, s1: &[usize], s2: &[usize], temp: f64) -> f64 {
    let (n, m) = (s1.len(), s2.len());
    let w = m + 1;
    let mut t = vec![0.0; (n + 1) * w];
    for i in 1..=n {
        t[i * w] = -gap * i as f64;
    }
    for j in 1..=m {
        t[j] = -gap * j as f64;
    }
    for i in 1..=n {
        for j in 1..=m {
            let opts = [
                t[(i - 1) * w + j - 1] + sub[s1[i - 1]][s2[j - 1]],
                t[(i - 1) * w + j] - gap,
                t[i * w + j - 1] - gap,
            ];
            let mx = opts.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = opts.iter().map(|o| ((o - mx) / temp).exp()).sum();
            t[i * w + j] = mx + temp * z.ln();
        }
    }
    t[(n + 1) * w - 1]
}

#[test]
fn soft_needleman_wunsch() {
    let sub: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..4)
                .map(|j| {
                    if i == j {
                        1.0
                    } else {
                        -0.5 + 0.1 * (i + j) as f64
                    }
                })
                .collect()
        })
        .collect();
    let s1 = [0, 1, 2, 3, 1];
    let s2 = [0, 2, 2, 3];
    let (v, (gs, gg, gt)) = soft_nw_grad(&sub, 0.7, &s1, &s2, 0.5);
    close("value", v, soft_nw(&sub, 0.7, &s1, &s2, 0.5), TOL);
    let r = gradcheck(
        |q: &Vec<Vec<f64>>| soft_nw(q, 0.7, &s1, &s2, 0.5),
        &sub,
        &gs,
    );
    assert!(r.passed(), "{r}");
    fd2(
        "∂gap, ∂temp",
        |g, t| soft_nw(&sub, g, &s1, &s2, t),
        (0.7, 0.5),
        (gg, gt),
    );
}

/// Viterbi-free best path cost through a grid with obstacles penalised by a smooth bump; the
/// cheapest monotone path by a hard min (the gradient is that of the chosen path).
#[differentiate]
fn grid_path(costs: &Array2<f64>, bump: f64) -> f64 {
    let (n, m) = costs.dim();
    let mut dp = Array2::<f64>::zeros((n, m));
    for i in 0..n {
        for j in 0..m {
            let c = costs[[i, j]] + bump * (-(costs[[i, j]] * costs[[i, j]])).exp();
            let best = if i == 0 && j == 0 {
                0.0
            } else if i == 0 {
                dp[[i, j - 1]]
            } else if j == 0 {
                dp[[i - 1, j]]
            } else {
                dp[[i - 1, j]].min(dp[[i, j - 1]])
            };
            dp[[i, j]] = c + best;
        }
    }
    dp[[n - 1, m - 1]]
}

#[test]
fn grid_path_hard_min() {
    let costs = matrix(4, 5, 0.37).mapv(|v| v + 1.2);
    let (v, (gc, gb)) = grid_path_grad(&costs, 0.5);
    close("value", v, grid_path(&costs, 0.5), TOL);
    // the gradient marks one monotone path: n + m − 1 cells with a non-zero entry
    let on_path = gc.iter().filter(|g| **g != 0.0).count();
    assert_eq!(on_path, 4 + 5 - 1);
    fd_array("∂costs", |c| grid_path(c, 0.5), &costs, &gc);
    fd("∂bump", |b| grid_path(&costs, b), 0.5, gb);
}

// ---------------------------------------------------------------------------------------------
// Forms these programs found broken, followed now.
// ---------------------------------------------------------------------------------------------

/// `to_vec()` of an array another rule made (a row, a slice, a product, a `mapv`): its `Vec`'s
/// adjoint goes back as the array's. f = Σⱼ m[1][j]² + Σ_{k≥1} a[k]·m[0][k−1] + Σ 2a + Σ eᵃ.
#[differentiate]
fn to_vec_of_views(m: &Array2<f64>, a: &Array1<f64>) -> f64 {
    let row: Vec<f64> = m.row(1).to_vec();
    let col = m.column(0).to_vec();
    let tail = a.slice(s![1..]).to_vec();
    let doubled = (a * 2.0).to_vec();
    let exps = a.mapv(f64::exp).to_vec();
    let mut total = row.iter().map(|v| v * v).sum::<f64>();
    for k in 0..tail.len() {
        total += tail[k] * m[[0, k]];
    }
    total + doubled.iter().sum::<f64>() + exps.iter().sum::<f64>() + 0.5 * col[2]
}

#[test]
fn to_vec_of_rows_slices_and_results() {
    let m = matrix(3, 4, 0.5);
    let a = vector(4, 1.5);
    let (v, (gm, ga)) = to_vec_of_views_grad(&m, &a);
    close("value", v, to_vec_of_views(&m, &a), TOL);
    // ∂m[1][j] = 2m[1][j], ∂m[0][k] = a[k+1] (k < 3), ∂m[2][0] = ½; ∂a[k] = m[0][k−1] + 2 + eᵃ
    for j in 0..4 {
        close("∂m row", gm[[1, j]], 2.0 * m[[1, j]], TOL);
    }
    for k in 0..3 {
        close("∂m[0]", gm[[0, k]], a[k + 1], TOL);
    }
    close("∂m[2][0]", gm[[2, 0]], 0.5, TOL);
    for k in 0..4 {
        let tail = if k >= 1 { m[[0, k - 1]] } else { 0.0 };
        close("∂a", ga[k], tail + 2.0 + a[k].exp(), TOL);
    }
    fd_array("∂m fd", |q| to_vec_of_views(q, &a), &m, &gm);
    fd_array("∂a fd", |q| to_vec_of_views(&m, q), &a, &ga);
    forward("to_vec_of_views").check(
        &(m, a),
        |p| to_vec_of_views(&p.0, &p.1),
        |p, v| to_vec_of_views_jvp(&p.0, &p.1, &v.0, &v.1),
        |p, w| {
            let (y, pb) = to_vec_of_views_vjp(&p.0, &p.1);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// More physics.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Particle {
    pos: [f64; 2],
    vel: [f64; 2],
    mass: f64,
}

impl Particle {
    #[differentiate]
    fn kinetic(&self) -> f64 {
        0.5 * self.mass * (self.vel[0] * self.vel[0] + self.vel[1] * self.vel[1])
    }
}

/// Gravitational N-body: pairwise potential over `i < j`, plus kinetic energy, after a few
/// symplectic Euler steps on a `Vec<Particle>` taken by value.
#[differentiate]
fn nbody_energy(mut ps: Vec<Particle>, g: f64, dt: f64) -> f64 {
    let n = ps.len();
    for _ in 0..5 {
        for i in 0..n {
            let mut ax = 0.0;
            let mut ay = 0.0;
            for j in 0..n {
                if i != j {
                    let dx = ps[j].pos[0] - ps[i].pos[0];
                    let dy = ps[j].pos[1] - ps[i].pos[1];
                    let r2 = dx * dx + dy * dy + 0.01;
                    let inv = g * ps[j].mass / (r2 * r2.sqrt());
                    ax += inv * dx;
                    ay += inv * dy;
                }
            }
            ps[i].vel[0] += ax * dt;
            ps[i].vel[1] += ay * dt;
        }
        for p in ps.iter_mut() {
            p.pos[0] += p.vel[0] * dt;
            p.pos[1] += p.vel[1] * dt;
        }
    }
    let mut pot = 0.0;
    for i in 0..n {
        for j in (i + 1)..n {
            let dx = ps[j].pos[0] - ps[i].pos[0];
            let dy = ps[j].pos[1] - ps[i].pos[1];
            pot -= g * ps[i].mass * ps[j].mass / (dx * dx + dy * dy + 0.01).sqrt();
        }
    }
    ps.iter().map(|p| p.kinetic()).sum::<f64>() + pot
}

#[test]
fn nbody_symplectic_euler() {
    let ps = vec![
        Particle {
            pos: [0.0, 0.0],
            vel: [0.0, 0.1],
            mass: 1.0,
        },
        Particle {
            pos: [1.0, 0.2],
            vel: [0.0, 0.8],
            mass: 0.3,
        },
        Particle {
            pos: [-0.7, 0.9],
            vel: [-0.5, 0.0],
            mass: 0.2,
        },
    ];
    let (v, (gp, gg, gd)) = nbody_energy_grad(ps.clone(), 1.0, 0.02);
    close("value", v, nbody_energy(ps.clone(), 1.0, 0.02), TOL);
    let r = gradcheck(
        |q: &Vec<Particle>| nbody_energy(q.clone(), 1.0, 0.02),
        &ps,
        &gp,
    );
    assert!(r.passed(), "{r}");
    fd2(
        "∂g, ∂dt",
        |g, d| nbody_energy(ps.clone(), g, d),
        (1.0, 0.02),
        (gg, gd),
    );
}

#[derive(Clone, Differentiable)]
struct Pendulum {
    length: f64,
    gravity: f64,
}

impl Pendulum {
    // a constructor called on differentiated values is differentiated like any function
    #[differentiate]
    fn new(length: f64, gravity: f64) -> Self {
        Pendulum { length, gravity }
    }

    /// The period with the first two corrections for amplitude θ₀.
    #[differentiate]
    fn period(&self, theta0: f64) -> f64 {
        let base = 2.0 * PI * (self.length / self.gravity).sqrt();
        base * (1.0 + theta0 * theta0 / 16.0 + 11.0 * theta0.powi(4) / 3072.0)
    }
}

/// Squared error of the predicted periods for several lengths, the pendulum built by `new`.
#[differentiate]
fn pendulum_fit(gravity: f64, lengths: &[f64], periods: &[f64], theta0: f64) -> f64 {
    let mut err = 0.0;
    for (l, t) in lengths.iter().zip(periods.iter()) {
        let p = Pendulum::new(*l, gravity);
        err += (p.period(theta0) - t).powi(2);
    }
    err
}

#[test]
fn pendulum_constructor_method() {
    let ls = [0.5, 1.0, 1.5];
    let ts = [1.43, 2.02, 2.45];
    let (v, (gg, gl, gt, gth)) = pendulum_fit_grad(9.5, &ls, &ts, 0.2);
    close("value", v, pendulum_fit(9.5, &ls, &ts, 0.2), TOL);
    // ∂g = Σ 2(Tᵢ − tᵢ)·(−Tᵢ/(2g))
    let c = 1.0 + 0.04 / 16.0 + 11.0 * 0.0016 / 3072.0;
    let want: f64 = ls
        .iter()
        .zip(&ts)
        .map(|(l, t)| {
            let p = 2.0 * PI * (l / 9.5f64).sqrt() * c;
            2.0 * (p - t) * (-p / 19.0)
        })
        .sum();
    close("∂g", gg, want, 1e-12);
    fd_vec("∂l", |q| pendulum_fit(9.5, q, &ts, 0.2), &ls, &gl);
    fd_vec("∂t", |q| pendulum_fit(9.5, &ls, q, 0.2), &ts, &gt);
    fd("∂θ0", |q| pendulum_fit(9.5, &ls, &ts, q), 0.2, gth);
}

/// Projectile with quadratic drag: step until it falls below the ground, then interpolate the
/// landing point linearly between the last two steps.
#[differentiate]
fn projectile_range(speed: f64, angle: f64, drag: f64) -> f64 {
    let dt = 0.01;
    let (mut x, mut y) = (0.0, 0.0);
    let (mut vx, mut vy) = (speed * angle.cos(), speed * angle.sin());
    let (mut px, mut py) = (x, y);
    while y >= 0.0 {
        px = x;
        py = y;
        let v = (vx * vx + vy * vy).sqrt();
        vx -= drag * v * vx * dt;
        vy -= (9.81 + drag * v * vy) * dt;
        x += vx * dt;
        y += vy * dt;
    }
    px + (x - px) * py / (py - y)
}

#[test]
fn projectile_with_drag() {
    let p = (12.0, 0.7, 0.05);
    let (v, g) = projectile_range_grad(p.0, p.1, p.2);
    close("value", v, projectile_range(p.0, p.1, p.2), TOL);
    // without drag the range is v²sin 2θ/g, up to the time step
    close(
        "no drag",
        projectile_range(12.0, 0.7, 0.0),
        144.0 * (1.4f64).sin() / 9.81,
        1e-2,
    );
    fd3("projectile_range", projectile_range, p, g);
}

// ---------------------------------------------------------------------------------------------
// More finance.
// ---------------------------------------------------------------------------------------------

/// Sharpe ratio of a portfolio from a matrix of returns (periods × assets): the mean and
/// standard deviation of wᵀrₜ with `mean_axis` and `mapv`.
#[differentiate]
fn sharpe(w: &Array1<f64>, returns: &Array2<f64>) -> f64 {
    let port = returns.dot(w);
    let mean = port.mean().unwrap();
    let var = port.mapv(|r| (r - mean).powi(2)).mean().unwrap();
    let mu = returns.mean_axis(Axis(0)).unwrap();
    // the same mean through the assets' means
    0.5 * (mean + mu.dot(w)) / var.sqrt()
}

#[test]
fn sharpe_ratio_ndarray() {
    let returns = matrix(12, 3, 0.9).mapv(|r| 0.01 + 0.05 * r);
    let w = Array1::from(vec![0.5, 0.3, 0.2]);
    let (v, (gw, gr)) = sharpe_grad(&w, &returns);
    close("value", v, sharpe(&w, &returns), TOL);
    // homogeneous of degree zero in w: w·∂w = 0
    close("w·∂w", w.dot(&gw), 0.0, 1e-12);
    fd_array("∂w", |q| sharpe(q, &returns), &w, &gw);
    fd_array("∂returns", |q| sharpe(&w, q), &returns, &gr);
}

/// Bootstrapping discount factors from par swap rates, one maturity after another, with the
/// factors pushed into a `Vec` as they are found; the 5-year zero rate.
#[differentiate]
fn bootstrap_zero(par: &[f64]) -> f64 {
    let mut dfs: Vec<f64> = Vec::new();
    for (i, &s) in par.iter().enumerate() {
        let annuity: f64 = dfs.iter().take(i).sum();
        let df = (1.0 - s * annuity) / (1.0 + s);
        dfs.push(df);
    }
    let last = *dfs.last().unwrap();
    -last.ln() / dfs.len() as f64
}

#[test]
fn swap_curve_bootstrap() {
    let par = [0.02, 0.022, 0.025, 0.027, 0.028];
    let (v, g) = bootstrap_zero_grad(&par);
    close("value", v, bootstrap_zero(&par), TOL);
    // one flat rate s everywhere: every df is (1+s)^−i, the zero rate ln(1+s), and the
    // gradient's entries sum to 1/(1+s)
    let flat = [0.03; 5];
    let (z, gf) = bootstrap_zero_grad(&flat);
    close("flat", z, 1.03f64.ln(), 1e-12);
    close("Σ∂", gf.iter().sum::<f64>(), 1.0 / 1.03, 1e-12);
    fd_vec("∂par", bootstrap_zero, &par, &g);
}

/// Conditional value-at-risk: the mean of the worst 20% of portfolio losses, the losses sorted
/// with `sort_by`.
#[differentiate]
fn cvar(w: &[f64], scenarios: &[Vec<f64>]) -> f64 {
    let mut losses: Vec<f64> = scenarios
        .iter()
        .map(|s| -s.iter().zip(w).map(|(r, wi)| r * wi).sum::<f64>())
        .collect();
    losses.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let k = losses.len() / 5;
    losses[..k].iter().sum::<f64>() / k as f64
}

#[test]
fn conditional_value_at_risk() {
    let scen: Vec<Vec<f64>> = (0..20).map(|i| data(3, i as f64 * 1.3)).collect();
    let w = [0.5, 0.2, 0.3];
    let (v, (gw, gs)) = cvar_grad(&w, &scen);
    close("value", v, cvar(&w, &scen), TOL);
    // ∂w = −mean of the worst scenarios' returns
    let mut ls: Vec<(f64, usize)> = scen
        .iter()
        .enumerate()
        .map(|(i, s)| (-(s[0] * w[0] + s[1] * w[1] + s[2] * w[2]), i))
        .collect();
    ls.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    for j in 0..3 {
        let want = -ls[..4].iter().map(|(_, i)| scen[*i][j]).sum::<f64>() / 4.0;
        close("∂w", gw[j], want, 1e-12);
    }
    fd_vec("∂w fd", |q| cvar(q, &scen), &w, &gw);
    let r = gradcheck(|q: &Vec<Vec<f64>>| cvar(&w, q), &scen, &gs);
    assert!(r.passed(), "{r}");
}

/// Merton jump-diffusion call as a Poisson-weighted sum of Black–Scholes prices, the series
/// truncated with `take` and the factorial carried by a `fold`.
#[differentiate]
fn merton_call(s: f64, sigma: f64, lambda: f64, jump_mu: f64, jump_sd: f64) -> f64 {
    let (k, r, t) = (100.0, 0.02, 0.5);
    let kappa = (jump_mu + 0.5 * jump_sd * jump_sd).exp() - 1.0;
    let lt = lambda * (1.0 + kappa) * t;
    (0..40)
        .take(12)
        .map(|n| {
            let nf = n as f64;
            let fact = (1..=n).fold(1.0, |acc, i| acc * i as f64);
            let sig_n = (sigma * sigma + nf * jump_sd * jump_sd / t).sqrt();
            let r_n = r - lambda * kappa + nf * (1.0 + kappa).ln() / t;
            (-lt).exp() * lt.powi(n) / fact * black_scholes_call(s, k, r_n, sig_n, t)
        })
        .sum()
}

#[test]
fn merton_jump_diffusion_series() {
    let x = vec![102.0, 0.2, 0.8, -0.05, 0.15];
    let (v, g) = merton_call_grad(x[0], x[1], x[2], x[3], x[4]);
    close("value", v, merton_call(x[0], x[1], x[2], x[3], x[4]), TOL);
    // no jumps: Black–Scholes
    close(
        "λ=0",
        merton_call(102.0, 0.2, 0.0, -0.05, 0.15),
        black_scholes_call(102.0, 100.0, 0.02, 0.2, 0.5),
        1e-12,
    );
    fd_vec(
        "∂",
        |p| merton_call(p[0], p[1], p[2], p[3], p[4]),
        &x,
        &[g.0, g.1, g.2, g.3, g.4],
    );
}

// ---------------------------------------------------------------------------------------------
// More robotics.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Differentiable)]
struct Quat {
    w: f64,
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl std::ops::Mul for Quat {
    type Output = Quat;
    fn mul(self, o: Quat) -> Quat {
        Quat {
            w: self.w * o.w - self.x * o.x - self.y * o.y - self.z * o.z,
            x: self.w * o.x + self.x * o.w + self.y * o.z - self.z * o.y,
            y: self.w * o.y - self.x * o.z + self.y * o.w + self.z * o.x,
            z: self.w * o.z + self.x * o.y - self.y * o.x + self.z * o.w,
        }
    }
}

impl Quat {
    #[differentiate]
    fn from_axis_angle(axis: [f64; 3], angle: f64) -> Quat {
        let n = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
        let (s, c) = (0.5 * angle).sin_cos();
        Quat {
            w: c,
            x: s * axis[0] / n,
            y: s * axis[1] / n,
            z: s * axis[2] / n,
        }
    }

    #[differentiate]
    fn conj(&self) -> Quat {
        Quat {
            w: self.w,
            x: -self.x,
            y: -self.y,
            z: -self.z,
        }
    }
}

/// Rotating a point through a chain of joint rotations q = q₁q₂q₃, p' = q p q*; the distance
/// of the result to a target.
#[differentiate]
fn quat_chain_error(angles: &[f64], point: [f64; 3], target: [f64; 3]) -> f64 {
    let axes = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]];
    let mut q = Quat {
        w: 1.0,
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };
    for i in 0..angles.len() {
        let qi = Quat::from_axis_angle(axes[i], angles[i]);
        q = q * qi;
    }
    let p = Quat {
        w: 0.0,
        x: point[0],
        y: point[1],
        z: point[2],
    };
    let r = q * p * q.conj();
    (r.x - target[0]).powi(2) + (r.y - target[1]).powi(2) + (r.z - target[2]).powi(2)
}

#[test]
fn quaternion_joint_chain() {
    let angles = vec![0.4, -0.7, 1.1];
    let point = [1.0, 0.5, -0.2];
    let target = [0.3, 0.9, 0.4];
    let (v, (ga, gp, gt)) = quat_chain_error_grad(&angles, point, target);
    close("value", v, quat_chain_error(&angles, point, target), TOL);
    // rotations keep lengths: at a target of zero the error is |p|² whatever the angles
    let (z, (gz, _, _)) = quat_chain_error_grad(&angles, point, [0.0; 3]);
    close("|p|²", z, 1.0 + 0.25 + 0.04, 1e-12);
    for g in gz {
        close("∂angle at 0", g, 0.0, 1e-12);
    }
    fd_vec(
        "∂angles",
        |q| quat_chain_error(q, point, target),
        &angles,
        &ga,
    );
    let r = gradcheck(
        |q: &[f64; 3]| quat_chain_error(&angles, *q, target),
        &point,
        &gp,
    );
    assert!(r.passed(), "{r}");
    let r = gradcheck(
        |q: &[f64; 3]| quat_chain_error(&angles, point, *q),
        &target,
        &gt,
    );
    assert!(r.passed(), "{r}");
}

/// Two-link inverse kinematics by damped Newton iterations (a 2×2 solve written out); the
/// elbow angle found, as a function of the target.
#[differentiate]
fn ik_elbow(tx: f64, ty: f64, l1: f64, l2: f64) -> f64 {
    let (mut a, mut b) = (0.3, 0.8);
    for _ in 0..25 {
        let ex = l1 * a.cos() + l2 * (a + b).cos() - tx;
        let ey = l1 * a.sin() + l2 * (a + b).sin() - ty;
        let j11 = -l1 * a.sin() - l2 * (a + b).sin();
        let j12 = -l2 * (a + b).sin();
        let j21 = l1 * a.cos() + l2 * (a + b).cos();
        let j22 = l2 * (a + b).cos();
        let det = j11 * j22 - j12 * j21;
        a -= (j22 * ex - j12 * ey) / det;
        b -= (-j21 * ex + j11 * ey) / det;
    }
    b
}

#[test]
fn inverse_kinematics_newton() {
    let (v, (gx, gy, g1, g2)) = ik_elbow_grad(1.2, 0.7, 1.0, 0.8);
    close("value", v, ik_elbow(1.2, 0.7, 1.0, 0.8), TOL);
    // law of cosines: cos b = (d² − l1² − l2²)/(2 l1 l2); ∂b/∂tx = −tx/(l1 l2 sin b)
    let d2: f64 = 1.2 * 1.2 + 0.7 * 0.7;
    let cb = (d2 - 1.0 - 0.64) / 1.6;
    close("elbow", v, cb.acos(), 1e-10);
    close("∂tx", gx, -1.2 / (0.8 * v.sin()), 1e-8);
    fd_vec(
        "∂",
        |p| ik_elbow(p[0], p[1], p[2], p[3]),
        &[1.2, 0.7, 1.0, 0.8],
        &[gx, gy, g1, g2],
    );
}

// ---------------------------------------------------------------------------------------------
// More graphics.
// ---------------------------------------------------------------------------------------------

/// Bilinear sampling of a texture (rows of texels) at continuous coordinates: the integer cell
/// from `floor`, the weights from what is left.
#[differentiate]
fn bilinear(tex: &[Vec<f64>], u: f64, v: f64) -> f64 {
    let x0 = u.floor() as usize;
    let y0 = v.floor() as usize;
    let fx = u - x0 as f64;
    let fy = v - y0 as f64;
    let top = tex[y0][x0] * (1.0 - fx) + tex[y0][x0 + 1] * fx;
    let bottom = tex[y0 + 1][x0] * (1.0 - fx) + tex[y0 + 1][x0 + 1] * fx;
    top * (1.0 - fy) + bottom * fy
}

#[test]
fn bilinear_texture_sample() {
    let tex: Vec<Vec<f64>> = (0..4).map(|i| data(5, i as f64 * 2.0)).collect();
    let (val, (gt, gu, gv)) = bilinear_grad(&tex, 1.3, 2.6);
    close("value", val, bilinear(&tex, 1.3, 2.6), TOL);
    // ∂u = (1−fy)(t[y0][x0+1] − t[y0][x0]) + fy(t[y0+1][x0+1] − t[y0+1][x0])
    let want = 0.4 * (tex[2][2] - tex[2][1]) + 0.6 * (tex[3][2] - tex[3][1]);
    close("∂u", gu, want, 1e-12);
    // the weights sum to one
    let s: f64 = gt.iter().flatten().sum();
    close("Σ∂tex", s, 1.0, 1e-12);
    fd2("∂u, ∂v", |a, b| bilinear(&tex, a, b), (1.3, 2.6), (gu, gv));
}

/// A cubic Bézier curve by de Casteljau over `Vec<[f64; 2]>` control points, rewritten in
/// place; the squared distance of the point at t to a target.
#[differentiate]
fn bezier_error(ctrl: &Vec<[f64; 2]>, t: f64, target: [f64; 2]) -> f64 {
    let mut pts = ctrl.clone();
    let n = pts.len();
    for level in 1..n {
        for i in 0..n - level {
            pts[i] = [
                (1.0 - t) * pts[i][0] + t * pts[i + 1][0],
                (1.0 - t) * pts[i][1] + t * pts[i + 1][1],
            ];
        }
    }
    (pts[0][0] - target[0]).powi(2) + (pts[0][1] - target[1]).powi(2)
}

#[test]
fn de_casteljau_bezier() {
    let ctrl = vec![[0.0, 0.0], [0.3, 1.0], [0.8, 1.2], [1.0, 0.1]];
    let (v, (gc, gt, gtar)) = bezier_error_grad(&ctrl, 0.35, [0.5, 0.5]);
    close("value", v, bezier_error(&ctrl, 0.35, [0.5, 0.5]), TOL);
    // ∂cᵢ = 2(B(t) − target)·Bernstein_i(t)
    let bern = [
        0.65f64.powi(3),
        3.0 * 0.35 * 0.65f64.powi(2),
        3.0 * 0.35f64.powi(2) * 0.65,
        0.35f64.powi(3),
    ];
    let bx: f64 = (0..4).map(|i| bern[i] * ctrl[i][0]).sum();
    for i in 0..4 {
        close("∂c.x", gc[i][0], 2.0 * (bx - 0.5) * bern[i], 1e-12);
    }
    fd("∂t", |t| bezier_error(&ctrl, t, [0.5, 0.5]), 0.35, gt);
    let r = gradcheck(
        |q: &[f64; 2]| bezier_error(&ctrl, 0.35, *q),
        &[0.5, 0.5],
        &gtar,
    );
    assert!(r.passed(), "{r}");
}

/// Reinhard tone mapping and gamma on an RGB image (pixels × 3), luminance by `dot`.
#[differentiate]
fn tone_mapped_mean(img: &Array2<f64>, exposure: f64, gamma: f64) -> f64 {
    let weights = Array1::from(vec![0.2126, 0.7152, 0.0722]);
    let lum = img.dot(&weights) * exposure;
    let mapped = lum.mapv(|l| (l / (1.0 + l)).powf(1.0 / gamma));
    mapped.mean().unwrap()
}

#[test]
fn reinhard_tone_mapping() {
    let img = matrix(6, 3, 0.1).mapv(|v| v.abs() * 4.0 + 0.05);
    let (v, (gi, ge, gg)) = tone_mapped_mean_grad(&img, 1.5, 2.2);
    close("value", v, tone_mapped_mean(&img, 1.5, 2.2), TOL);
    fd_array("∂img", |q| tone_mapped_mean(q, 1.5, 2.2), &img, &gi);
    fd2(
        "∂exposure, ∂γ",
        |e, g| tone_mapped_mean(&img, e, g),
        (1.5, 2.2),
        (ge, gg),
    );
}

// ---------------------------------------------------------------------------------------------
// More losses and models.
// ---------------------------------------------------------------------------------------------

/// Distillation: KL(softmax(t/T) ‖ softmax(s/T))·T² in `f32`, the teacher fixed.
#[differentiate(wrt(student))]
fn distill(student: &[f32], teacher: &[f32], temp: f32) -> f32 {
    let soft = |z: &[f32]| -> Vec<f32> {
        let m = z.iter().cloned().fold(f32::MIN, f32::max);
        let e: Vec<f32> = z.iter().map(|v| ((v - m) / temp).exp()).collect();
        let s: f32 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let p = soft(teacher);
    let q = soft(student);
    let kl: f32 = p
        .iter()
        .zip(q.iter())
        .map(|(a, b)| a * (a.ln() - b.ln()))
        .sum();
    kl * temp * temp
}

#[test]
fn distillation_f32() {
    let s = [1.0f32, 0.2, -0.5, 2.0];
    let t = [0.8f32, 0.9, -1.0, 1.5];
    let (v, gs) = distill_grad(&s, &t, 2.0);
    close("value", v as f64, distill(&s, &t, 2.0) as f64, 1e-6);
    // ∂s = T(q − p)
    let sm = |z: &[f32]| {
        let e: Vec<f64> = z.iter().map(|v| (*v as f64 / 2.0).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.iter().map(|v| v / sum).collect::<Vec<f64>>()
    };
    let (p, q) = (sm(&t), sm(&s));
    for i in 0..4 {
        close("∂s", gs[i] as f64, 2.0 * (q[i] - p[i]), 1e-5);
    }
    let r = gradcheck(|q: &Vec<f32>| distill(q, &t, 2.0), &s.to_vec(), &gs);
    assert!(r.passed(), "{r}");
}

/// Single-head attention over a sequence (rows), softmax by rows with `insert_axis`.
#[differentiate]
fn attention_loss(x: &Array2<f64>, wq: &Array2<f64>, wk: &Array2<f64>, wv: &Array2<f64>) -> f64 {
    let q = x.dot(wq);
    let k = x.dot(wk);
    let v = x.dot(wv);
    let d = wq.ncols() as f64;
    let scores = q.dot(&k.t()) / d.sqrt();
    // the row maxima for a stable softmax, by a loop (`fold_axis` with a `max` closure is followed
    // too; see `tests/user_tensors2.rs`)
    let mut m = Array1::<f64>::zeros(scores.nrows());
    for i in 0..scores.nrows() {
        m[i] = scores[[i, 0]];
        for j in 1..scores.ncols() {
            m[i] = m[i].max(scores[[i, j]]);
        }
    }
    let e = (&scores - &m.insert_axis(Axis(1))).exp();
    let z = e.sum_axis(Axis(1));
    let attn = &e / &z.insert_axis(Axis(1));
    let out = attn.dot(&v);
    (&out * &out).sum()
}

#[test]
fn attention_with_row_softmax() {
    let x = matrix(4, 3, 0.2);
    let (wq, wk, wv) = (matrix(3, 2, 1.0), matrix(3, 2, 2.0), matrix(3, 2, 3.0));
    let (v, (gx, gq, gk, gv)) = attention_loss_grad(&x, &wq, &wk, &wv);
    close("value", v, attention_loss(&x, &wq, &wk, &wv), TOL);
    fd_array("∂x", |q| attention_loss(q, &wq, &wk, &wv), &x, &gx);
    fd_array("∂wq", |q| attention_loss(&x, q, &wk, &wv), &wq, &gq);
    fd_array("∂wk", |q| attention_loss(&x, &wq, q, &wv), &wk, &gk);
    fd_array("∂wv", |q| attention_loss(&x, &wq, &wk, q), &wv, &gv);
}

/// Gaussian-process negative log marginal likelihood with an RBF kernel, the Cholesky
/// factorisation written by hand over `Vec<Vec<f64>>`.
#[differentiate]
fn gp_nll(xs: &[f64], ys: &[f64], log_ell: f64, log_sf: f64, log_sn: f64) -> f64 {
    let n = xs.len();
    let (ell, sf2, sn2) = (log_ell.exp(), (2.0 * log_sf).exp(), (2.0 * log_sn).exp());
    let mut k = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            let d = (xs[i] - xs[j]) / ell;
            k[i][j] = sf2 * (-0.5 * d * d).exp();
        }
        k[i][i] += sn2;
    }
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = k[i][j];
            for p in 0..j {
                s -= l[i][p] * l[j][p];
            }
            if i == j {
                l[i][j] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // forward substitution: L a = y
    let mut a = vec![0.0; n];
    for i in 0..n {
        let mut s = ys[i];
        for p in 0..i {
            s -= l[i][p] * a[p];
        }
        a[i] = s / l[i][i];
    }
    let quad: f64 = a.iter().map(|v| v * v).sum();
    let logdet: f64 = (0..n).map(|i| l[i][i].ln()).sum::<f64>() * 2.0;
    0.5 * quad + 0.5 * logdet + 0.5 * n as f64 * (2.0 * PI).ln()
}

#[test]
fn gaussian_process_cholesky() {
    let xs = [0.0, 0.4, 1.1, 1.7, 2.5];
    let ys: Vec<f64> = xs.iter().map(|x: &f64| x.sin() + 0.1 * x).collect();
    let (v, (gx, gy, ge, gf, gn)) = gp_nll_grad(&xs, &ys, -0.2, 0.1, -1.5);
    close("value", v, gp_nll(&xs, &ys, -0.2, 0.1, -1.5), TOL);
    fd_vec(
        "∂hyper",
        |p| gp_nll(&xs, &ys, p[0], p[1], p[2]),
        &[-0.2, 0.1, -1.5],
        &[ge, gf, gn],
    );
    fd_vec("∂x", |q| gp_nll(q, &ys, -0.2, 0.1, -1.5), &xs, &gx);
    fd_vec("∂y", |q| gp_nll(&xs, q, -0.2, 0.1, -1.5), &ys, &gy);
}

#[differentiate]
fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// L2-regularised logistic regression with `mapv` calling a differentiated `sigmoid`.
#[differentiate]
fn logreg(w: &Array1<f64>, b: f64, x: &Array2<f64>, y: &Array1<f64>, l2: f64) -> f64 {
    let p = (x.dot(w) + b).mapv(sigmoid);
    let ll = y * &p.mapv(f64::ln) + &(1.0 - y) * &p.mapv(|v| (1.0 - v).ln());
    -ll.mean().unwrap() + 0.5 * l2 * w.dot(w)
}

#[test]
fn logistic_regression_mapv_sigmoid() {
    let x = matrix(8, 3, 0.6);
    let y = Array1::from(vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
    let w = vector(3, 4.0);
    let (v, (gw, gb, _, _, gl)) = logreg_grad(&w, 0.1, &x, &y, 0.01);
    close("value", v, logreg(&w, 0.1, &x, &y, 0.01), TOL);
    // ∂w = Xᵀ(p − y)/n + λw, ∂b = mean(p − y), ∂λ = ½|w|²
    let p = (x.dot(&w) + 0.1).mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let want = x.t().dot(&(&p - &y)) / 8.0 + &w * 0.01;
    close_all("∂w", gw.as_slice().unwrap(), want.as_slice().unwrap());
    close("∂b", gb, (&p - &y).mean().unwrap(), 1e-12);
    close("∂λ", gl, 0.5 * w.dot(&w), 1e-12);
}

/// Soft k-means: each point's softmin-weighted squared distance to the centroids.
#[differentiate]
fn soft_kmeans(centroids: &Vec<[f64; 2]>, points: &[[f64; 2]], beta: f64) -> f64 {
    let mut total = 0.0;
    for p in points {
        let d: Vec<f64> = centroids
            .iter()
            .map(|c| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2))
            .collect();
        let w: Vec<f64> = d.iter().map(|di| (-beta * di).exp()).collect();
        let z: f64 = w.iter().sum();
        total += d.iter().zip(&w).map(|(di, wi)| di * wi / z).sum::<f64>();
    }
    total / points.len() as f64
}

#[test]
fn soft_kmeans_vec_of_arrays() {
    let cs = vec![[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]];
    let pts: Vec<[f64; 2]> = (0..10)
        .map(|i| {
            let d = data(2, i as f64 * 1.1);
            [d[0], d[1]]
        })
        .collect();
    let (v, (gc, gp, gb)) = soft_kmeans_grad(&cs, &pts, 2.0);
    close("value", v, soft_kmeans(&cs, &pts, 2.0), TOL);
    let r = gradcheck(|q: &Vec<[f64; 2]>| soft_kmeans(q, &pts, 2.0), &cs, &gc);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &Vec<[f64; 2]>| soft_kmeans(&cs, q, 2.0), &pts, &gp);
    assert!(r.passed(), "{r}");
    fd("∂β", |b| soft_kmeans(&cs, &pts, b), 2.0, gb);
}

/// Soft Dice loss for a binary mask in `f32`.
#[differentiate]
fn dice_loss(pred_logits: &[f32], mask: &[f32]) -> f32 {
    let probs: Vec<f32> = pred_logits
        .iter()
        .map(|z| 1.0 / (1.0 + (-z).exp()))
        .collect();
    let inter: f32 = probs.iter().zip(mask).map(|(p, m)| p * m).sum();
    let total: f32 = probs.iter().sum::<f32>() + mask.iter().sum::<f32>();
    1.0 - (2.0 * inter + 1.0) / (total + 1.0)
}

#[test]
fn dice_loss_f32() {
    let z = [0.5f32, -1.0, 2.0, 0.1, -0.3, 1.2];
    let m = [1.0f32, 0.0, 1.0, 0.0, 0.0, 1.0];
    let (v, (gz, gm)) = dice_loss_grad(&z, &m);
    close("value", v as f64, dice_loss(&z, &m) as f64, 1e-6);
    let r = gradcheck(|q: &Vec<f32>| dice_loss(q, &m), &z.to_vec(), &gz);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &Vec<f32>| dice_loss(&z, q), &m.to_vec(), &gm);
    assert!(r.passed(), "{r}");
}

/// Cosine embedding loss over flat buffers of 3-vectors read with `chunks(3)`.
#[differentiate]
fn cosine_embedding(a: &[f64], b: &[f64], labels: &[i8], margin: f64) -> f64 {
    let mut loss = 0.0;
    for ((u, v), &l) in a.chunks(3).zip(b.chunks(3)).zip(labels) {
        let dot: f64 = u.iter().zip(v).map(|(x, y)| x * y).sum();
        let nu = u.iter().map(|x| x * x).sum::<f64>().sqrt();
        let nv = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let cos = dot / (nu * nv);
        loss += if l > 0 {
            1.0 - cos
        } else {
            (cos - margin).max(0.0)
        };
    }
    loss / labels.len() as f64
}

#[test]
fn cosine_embedding_chunks() {
    let a = data(12, 0.3);
    let b = data(12, 0.9);
    let labels = [1i8, -1, -1, 1];
    let (v, (ga, gb, gm)) = cosine_embedding_grad(&a, &b, &labels, -0.2);
    close("value", v, cosine_embedding(&a, &b, &labels, -0.2), TOL);
    // scale invariance of each 3-vector: uᵢ·∂uᵢ = 0
    for c in 0..4 {
        let s: f64 = (0..3).map(|k| a[3 * c + k] * ga[3 * c + k]).sum();
        close("u·∂u", s, 0.0, 1e-12);
    }
    fd_vec("∂a", |q| cosine_embedding(q, &b, &labels, -0.2), &a, &ga);
    fd_vec("∂b", |q| cosine_embedding(&a, q, &labels, -0.2), &b, &gb);
    fd("∂m", |m| cosine_embedding(&a, &b, &labels, m), -0.2, gm);
}

// ---------------------------------------------------------------------------------------------
// More signal processing and statistics.
// ---------------------------------------------------------------------------------------------

/// One-pole low-pass in `f32` as a `fold`, the output's last value and its mean.
#[differentiate]
fn one_pole(x: &[f32], alpha: f32) -> f32 {
    let (last, sum) = x.iter().fold((0.0f32, 0.0f32), |(y, s), &v| {
        let y = y + alpha * (v - y);
        (y, s + y)
    });
    last + sum / x.len() as f32
}

#[test]
fn one_pole_lowpass_fold_f32() {
    let x: Vec<f32> = data(16, 0.7).iter().map(|v| *v as f32).collect();
    let (v, (gx, ga)) = one_pole_grad(&x, 0.3);
    close("value", v as f64, one_pole(&x, 0.3) as f64, 1e-6);
    // ∂x_last = α(1 + 1/n)
    close("∂x_last", gx[15] as f64, 0.3 * (1.0 + 1.0 / 16.0), 1e-6);
    let r = gradcheck(|q: &Vec<f32>| one_pole(q, 0.3), &x, &gx);
    assert!(r.passed(), "{r}");
    fd32("∂α", |a| one_pole(&x, a), 0.3, ga);
}

/// A YIN-like cumulative mean normalised difference at lags 1..max_lag, softly minimised.
#[differentiate]
fn yin_soft_period(x: &[f64], max_lag: usize, temp: f64) -> f64 {
    let mut d = vec![0.0; max_lag + 1];
    for lag in 1..=max_lag {
        d[lag] = x
            .iter()
            .zip(x.iter().skip(lag))
            .map(|(a, b)| (a - b).powi(2))
            .sum();
    }
    let mut running = 0.0;
    let mut weights = 0.0;
    let mut weighted = 0.0;
    for lag in 1..=max_lag {
        running += d[lag];
        let cmnd = d[lag] * lag as f64 / running;
        let w = (-cmnd / temp).exp();
        weights += w;
        weighted += w * lag as f64;
    }
    weighted / weights
}

#[test]
fn yin_difference_function() {
    let x: Vec<f64> = (0..40)
        .map(|i| (2.0 * PI * i as f64 / 8.3).sin() + 0.2 * data(1, i as f64)[0])
        .collect();
    let (v, (gx, gt)) = yin_soft_period_grad(&x, 12, 0.1);
    close("value", v, yin_soft_period(&x, 12, 0.1), TOL);
    fd_vec("∂x", |q| yin_soft_period(q, 12, 0.1), &x, &gx);
    fd("∂temp", |t| yin_soft_period(&x, 12, t), 0.1, gt);
}

/// ARMA(1,1) conditional sum of squares, the innovations carried through `zip` and `skip(1)`.
#[differentiate]
fn arma_css(y: &[f64], phi: f64, theta: f64) -> f64 {
    let mut e_prev = 0.0;
    let mut css = 0.0;
    for (prev, cur) in y.iter().zip(y.iter().skip(1)) {
        let e = cur - phi * prev - theta * e_prev;
        css += e * e;
        e_prev = e;
    }
    css
}

#[test]
fn arma_conditional_sum_of_squares() {
    let y = data(30, 2.2);
    let (v, (gy, gp, gt)) = arma_css_grad(&y, 0.5, 0.3);
    close("value", v, arma_css(&y, 0.5, 0.3), TOL);
    // θ = 0: ∂φ = −2Σ eₜ yₜ₋₁
    let (_, (_, gp0, _)) = arma_css_grad(&y, 0.5, 0.0);
    let want: f64 = y
        .windows(2)
        .map(|w| -2.0 * (w[1] - 0.5 * w[0]) * w[0])
        .sum();
    close("∂φ at θ=0", gp0, want, 1e-12);
    fd2("∂φ, ∂θ", |a, b| arma_css(&y, a, b), (0.5, 0.3), (gp, gt));
    fd_vec("∂y", |q| arma_css(q, 0.5, 0.3), &y, &gy);
}

/// Leave-one-out kernel density log-likelihood, the bandwidth learned; the other points by a
/// `filter` on the enumeration.
#[differentiate]
fn kde_loo(xs: &[f64], log_h: f64) -> f64 {
    let h = log_h.exp();
    let n = xs.len();
    let mut ll = 0.0;
    for (i, &xi) in xs.iter().enumerate() {
        let dens: f64 = xs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, &xj)| (-0.5 * ((xi - xj) / h).powi(2)).exp())
            .sum();
        ll += (dens / ((n - 1) as f64 * h * (2.0 * PI).sqrt())).ln();
    }
    -ll
}

#[test]
fn leave_one_out_kde() {
    let xs = data(9, 0.4);
    let (v, (gx, gh)) = kde_loo_grad(&xs, -1.0);
    close("value", v, kde_loo(&xs, -1.0), TOL);
    close("Σ∂x", gx.iter().sum::<f64>(), 0.0, 1e-10);
    fd_vec("∂x", |q| kde_loo(q, -1.0), &xs, &gx);
    fd("∂log h", |h| kde_loo(&xs, h), -1.0, gh);
}

/// Viterbi with hard max and the path's score; the gradient is the chosen path's indicator
/// counts (per transition and per emission).
#[differentiate]
fn viterbi_score(log_a: &[Vec<f64>], log_b: &[Vec<f64>], obs: &[usize]) -> f64 {
    let n = log_a.len();
    let mut delta: Vec<f64> = (0..n).map(|s| log_b[s][obs[0]]).collect();
    for &o in obs.iter().skip(1) {
        let prev = delta.clone();
        for j in 0..n {
            let best = (0..n)
                .map(|i| prev[i] + log_a[i][j])
                .fold(f64::NEG_INFINITY, f64::max);
            delta[j] = best + log_b[j][o];
        }
    }
    delta.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
}

#[test]
fn viterbi_hard_max() {
    let log_a: Vec<Vec<f64>> = (0..3).map(|i| data(3, i as f64 * 3.1)).collect();
    let log_b: Vec<Vec<f64>> = (0..3).map(|i| data(4, i as f64 * 1.9 + 7.0)).collect();
    let obs = [0, 3, 1, 2, 2];
    let (v, (ga, gb)) = viterbi_score_grad(&log_a, &log_b, &obs);
    close("value", v, viterbi_score(&log_a, &log_b, &obs), TOL);
    // one path: 4 transitions, 5 emissions, each counted once
    close("Σ∂a", ga.iter().flatten().sum::<f64>(), 4.0, 0.0);
    close("Σ∂b", gb.iter().flatten().sum::<f64>(), 5.0, 0.0);
    let r = gradcheck(
        |q: &Vec<Vec<f64>>| viterbi_score(q, &log_b, &obs),
        &log_a,
        &ga,
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// More optimisation and ODEs.
// ---------------------------------------------------------------------------------------------

/// Gradient descent on a 2-D quadratic bowl with early stopping when the step is small; the
/// final objective as a function of the bowl's centre.
#[differentiate]
fn gd_early_stop(cx: f64, cy: f64, lr: f64) -> f64 {
    let (mut x, mut y) = (0.0, 0.0);
    let mut iters = 0;
    while iters < 500 {
        let gx = 2.0 * (x - cx) + 0.5 * (y - cy);
        let gy = 4.0 * (y - cy) + 0.5 * (x - cx);
        let step = lr * (gx * gx + gy * gy).sqrt();
        x -= lr * gx;
        y -= lr * gy;
        iters += 1;
        if step < 1e-3 {
            break;
        }
    }
    (x - cx).powi(2) + 2.0 * (y - cy).powi(2) + 0.5 * (x - cx) * (y - cy) + x
}

#[test]
fn gradient_descent_with_early_stop() {
    let p = (1.0, -0.5, 0.1);
    let (v, g) = gd_early_stop_grad(p.0, p.1, p.2);
    close("value", v, gd_early_stop(p.0, p.1, p.2), TOL);
    fd3("gd_early_stop", gd_early_stop, p, g);
}

/// Golden-section search for the minimiser of a smooth function of one variable that moves
/// with the parameter; the bracket's points are found by comparisons only.
#[differentiate]
fn golden_argmin(a: f64) -> f64 {
    let f = |x: f64| (x - a).powi(2) + 0.1 * (3.0 * x).sin();
    let gr = (5.0f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (-3.0, 3.0);
    let mut c = hi - gr * (hi - lo);
    let mut d = lo + gr * (hi - lo);
    for _ in 0..60 {
        if f(c) < f(d) {
            hi = d;
        } else {
            lo = c;
        }
        c = hi - gr * (hi - lo);
        d = lo + gr * (hi - lo);
    }
    0.5 * (lo + hi)
}

/// The minimum found, inside an objective.
#[differentiate]
fn golden_min(a: f64) -> f64 {
    let x = golden_argmin(a);
    (x - a).powi(2) + 0.1 * (3.0 * x).sin()
}

#[test]
fn golden_section_search() {
    // the bracket's points do not depend on a: the minimiser found has derivative 0 ...
    let (x, gx) = golden_argmin_grad(0.7);
    close("argmin", x, golden_argmin(0.7), TOL);
    close("∂argmin", gx, 0.0, 0.0);
    // ... where 2(x − a) + 0.3 cos 3x = 0, to the √ε a search by comparisons reaches
    close(
        "stationary",
        2.0 * (x - 0.7) + 0.3 * (3.0 * x).cos(),
        0.0,
        1e-7,
    );
    // so the minimum's derivative is ∂f/∂a at x, −2(x − a): the envelope theorem's answer, and
    // what finite differences of the value see (f is flat in x there)
    let (v, g) = golden_min_grad(0.7);
    close("value", v, golden_min(0.7), TOL);
    close("∂a", g, -2.0 * (x - 0.7), TOL);
    fd("∂a fd", golden_min, 0.7, g);
}

/// SIR epidemic by explicit midpoint (RK2), generic over the float type; the peak infected
/// fraction tracked with `max`.
#[differentiate]
fn sir_peak<T: Float>(beta: T, gamma: T, i0: T, days: usize) -> T {
    let h = T::from(0.25).unwrap();
    let half = T::from(0.5).unwrap();
    let (mut s, mut i) = (T::one() - i0, i0);
    let mut peak = i;
    for _ in 0..days * 4 {
        let ds = -beta * s * i;
        let di = beta * s * i - gamma * i;
        let sm = s + half * h * ds;
        let im = i + half * h * di;
        s = s + h * (-beta * sm * im);
        i = i + h * (beta * sm * im - gamma * im);
        peak = peak.max(i);
    }
    peak
}

#[test]
fn sir_rk2_peak() {
    let (v, (gb, gg, gi)) = sir_peak_grad(0.6f64, 0.2, 0.01, 60);
    close("value", v, sir_peak(0.6f64, 0.2, 0.01, 60), TOL);
    fd3(
        "sir_peak",
        |a, b, c| sir_peak(a, b, c, 60),
        (0.6, 0.2, 0.01),
        (gb, gg, gi),
    );
    let (v32, (gb32, _, _)) = sir_peak_grad(0.6f32, 0.2, 0.01, 60);
    close("f32", v32 as f64, v, 1e-4);
    close("f32 ∂β", gb32 as f64, gb, 1e-3);
}

/// Soft edit distance between two byte strings with a learned substitution cost, rows of the
/// table swapped each step.
#[differentiate]
fn soft_edit(sub_cost: f64, indel: f64, a: &str, b: &str, temp: f64) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let softmin3 = |x: f64, y: f64, z: f64| {
        let m = x.min(y).min(z);
        m - temp
            * ((-(x - m) / temp).exp() + (-(y - m) / temp).exp() + (-(z - m) / temp).exp()).ln()
    };
    let mut prev: Vec<f64> = (0..=b.len()).map(|j| j as f64 * indel).collect();
    let mut cur = vec![0.0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i as f64 * indel;
        for j in 1..=b.len() {
            let c = if a[i - 1] == b[j - 1] { 0.0 } else { sub_cost };
            cur[j] = softmin3(prev[j - 1] + c, prev[j] + indel, cur[j - 1] + indel);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[test]
fn soft_edit_distance_bytes() {
    let (v, (gs, gi, gt)) = soft_edit_grad(1.0, 0.8, "kitten", "sitting", 0.05);
    close(
        "value",
        v,
        soft_edit(1.0, 0.8, "kitten", "sitting", 0.05),
        TOL,
    );
    // at low temperature, near the hard edit distance: 2 substitutions and 1 insertion
    close("≈ hard", v, 2.0 + 0.8, 0.1);
    fd3(
        "soft_edit",
        |a, b, c| soft_edit(a, b, "kitten", "sitting", c),
        (1.0, 0.8, 0.05),
        (gs, gi, gt),
    );
}

// ---------------------------------------------------------------------------------------------
// Forms users reach for: settings as `Option`s and enums, early exits, generic structs.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Kernel {
    Gaussian,
    Laplace,
    Cauchy,
}

/// A kernel regression prediction with the kernel chosen by an enum (data, left out with
/// `wrt`) and an optional ridge term.
#[differentiate(wrt(weights, bandwidth))]
fn kernel_predict(
    weights: &[f64],
    centers: &[f64],
    bandwidth: f64,
    kind: Kernel,
    ridge: Option<f64>,
    x: f64,
) -> f64 {
    let mut out = 0.0;
    for (w, c) in weights.iter().zip(centers) {
        let r = (x - c).abs() / bandwidth;
        let k = match kind {
            Kernel::Gaussian => (-0.5 * r * r).exp(),
            Kernel::Laplace => (-r).exp(),
            Kernel::Cauchy => 1.0 / (1.0 + r * r),
        };
        out += w * k;
    }
    if let Some(l) = ridge {
        out -= l * weights.iter().map(|w| w * w).sum::<f64>();
    }
    out
}

#[test]
fn kernel_enum_and_optional_ridge() {
    let w = [0.5, -0.2, 0.8, 0.1];
    let c = [-1.0, 0.0, 0.7, 1.5];
    for kind in [Kernel::Gaussian, Kernel::Laplace, Kernel::Cauchy] {
        for ridge in [None, Some(0.3)] {
            let (v, (gw, gb)) = kernel_predict_grad(&w, &c, 0.6, kind, ridge, 0.2);
            close(
                "value",
                v,
                kernel_predict(&w, &c, 0.6, kind, ridge, 0.2),
                TOL,
            );
            fd_vec(
                "∂w",
                |q| kernel_predict(q, &c, 0.6, kind, ridge, 0.2),
                &w,
                &gw,
            );
            fd(
                "∂bandwidth",
                |b| kernel_predict(&w, &c, b, kind, ridge, 0.2),
                0.6,
                gb,
            );
        }
    }
}

/// First-passage: the first time a simulated path of a drifted walk crosses a barrier, softened
/// by interpolation, with an early `return` from inside the loop.
#[differentiate]
fn first_passage(drift: f64, vol: f64, shocks: &[f64]) -> f64 {
    let barrier = 1.0;
    let mut x = 0.0;
    for (t, z) in shocks.iter().enumerate() {
        let next = x + drift + vol * z;
        if next >= barrier {
            return t as f64 + (barrier - x) / (next - x);
        }
        x = next;
    }
    shocks.len() as f64
}

#[test]
fn first_passage_early_return() {
    let shocks = data(40, 0.1);
    let (v, (gd, gv, _)) = first_passage_grad(0.08, 0.3, &shocks);
    close("value", v, first_passage(0.08, 0.3, &shocks), TOL);
    assert!(v < 40.0, "crosses");
    fd2(
        "∂drift, ∂vol",
        |a, b| first_passage(a, b, &shocks),
        (0.08, 0.3),
        (gd, gv),
    );
}

#[derive(Clone, Differentiable)]
struct Mlp<T> {
    w1: Vec<Vec<T>>,
    b1: Vec<T>,
    w2: Vec<T>,
    b2: T,
}

impl<T: Float> Mlp<T> {
    #[differentiate]
    fn forward(&self, x: &[T]) -> T
    where
        T: Float,
    {
        let mut out = self.b2;
        for (row, (b, w)) in self.w1.iter().zip(self.b1.iter().zip(self.w2.iter())) {
            let z = row.iter().zip(x).fold(*b, |acc, (a, xi)| acc + *a * *xi);
            out = out + *w * z.tanh();
        }
        out
    }
}

/// Mean squared error of a tiny generic MLP over a batch of rows.
#[differentiate]
fn mlp_mse<T: Float>(net: &Mlp<T>, xs: &[Vec<T>], ys: &[T]) -> T {
    let mut total = T::zero();
    for (x, &y) in xs.iter().zip(ys) {
        let e = net.forward(x) - y;
        total = total + e * e;
    }
    total / T::from(ys.len()).unwrap()
}

#[test]
fn generic_mlp_struct() {
    let net = Mlp {
        w1: (0..3).map(|i| data(2, i as f64)).collect(),
        b1: data(3, 4.0),
        w2: data(3, 5.0),
        b2: 0.1,
    };
    let xs: Vec<Vec<f64>> = (0..5).map(|i| data(2, i as f64 * 0.7 + 9.0)).collect();
    let ys = data(5, 11.0);
    let (v, (gn, gx, gy)) = mlp_mse_grad(&net, &xs, &ys);
    close("value", v, mlp_mse(&net, &xs, &ys), TOL);
    // ∂b2 = 2·mean(e)
    let mean_e: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| net.forward(x) - y)
        .sum::<f64>()
        / 5.0;
    close("∂b2", gn.b2, 2.0 * mean_e, 1e-12);
    let r = gradcheck(|q: &Mlp<f64>| mlp_mse(q, &xs, &ys), &net, &gn);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &Vec<Vec<f64>>| mlp_mse(&net, q, &ys), &xs, &gx);
    assert!(r.passed(), "{r}");
    fd_vec("∂y", |q| mlp_mse(&net, &xs, q), &ys, &gy);
}

/// Differential-drive odometry: wheel speeds per step as `[left, right]` rows, the heading and
/// position integrated; the distance to a goal.
#[differentiate]
fn odometry(controls: &[[f64; 2]], wheel_base: f64, goal: [f64; 2]) -> f64 {
    let dt = 0.1;
    let (mut x, mut y, mut th) = (0.0, 0.0, 0.0);
    for &[l, r] in controls {
        let v = 0.5 * (l + r);
        let w = (r - l) / wheel_base;
        x += v * th.cos() * dt;
        y += v * th.sin() * dt;
        th += w * dt;
    }
    ((x - goal[0]).powi(2) + (y - goal[1]).powi(2)).sqrt()
}

#[test]
fn differential_drive_odometry() {
    let controls: Vec<[f64; 2]> = (0..20)
        .map(|i| {
            [
                1.0 + 0.2 * data(1, i as f64)[0],
                1.2 + 0.1 * (i as f64 * 0.3).cos(),
            ]
        })
        .collect();
    let (v, (gc, gw, gg)) = odometry_grad(&controls, 0.5, [1.5, 0.6]);
    close("value", v, odometry(&controls, 0.5, [1.5, 0.6]), TOL);
    // ∂goal is minus the unit vector from the goal to the robot: norm 1
    close(
        "|∂goal|",
        (gg[0] * gg[0] + gg[1] * gg[1]).sqrt(),
        1.0,
        1e-12,
    );
    let r = gradcheck(
        |q: &Vec<[f64; 2]>| odometry(q, 0.5, [1.5, 0.6]),
        &controls,
        &gc,
    );
    assert!(r.passed(), "{r}");
    fd(
        "∂wheel base",
        |b| odometry(&controls, b, [1.5, 0.6]),
        0.5,
        gw,
    );
}

/// The energy of a spring network for Newton's method: value, gradient and Hessian-vector
/// products (`hessian`), the rest lengths read with `to_vec()` of a matrix row.
#[differentiate(hessian)]
fn network_energy(pos: &Array1<f64>, springs: &Array2<f64>) -> f64 {
    let rest = springs.row(0).to_vec();
    let stiff = springs.row(1).to_vec();
    let mut e = 0.0;
    for k in 0..rest.len() {
        let d = pos[k + 1] - pos[k];
        e += 0.5 * stiff[k] * (d.abs() - rest[k]).powi(2);
    }
    e + 0.1 * pos[0] * pos[0]
}

#[test]
fn spring_network_hessian() {
    let pos = Array1::from(vec![0.0, 1.2, 2.1, 3.5]);
    let springs = Array2::from(vec![[1.0, 1.0, 1.0], [2.0, 3.0, 0.5]]);
    let (v, (gp, gs)) = network_energy_grad(&pos, &springs);
    close("value", v, network_energy(&pos, &springs), TOL);
    fd_array("∂pos", |q| network_energy(q, &springs), &pos, &gp);
    fd_array("∂springs", |q| network_energy(&pos, q), &springs, &gs);
    // in one dimension with every spring stretched the energy is quadratic in pos: the Hessian
    // is the stiffness Laplacian plus 0.2 at the first node
    let e0 = Array1::from(vec![1.0, 0.0, 0.0, 0.0]);
    let (_, _, (h0, _)) = network_energy_hvp(&pos, &springs, &e0, &Array2::zeros((2, 3)));
    close_all("H e₀", h0.as_slice().unwrap(), &[2.0 + 0.2, -2.0, 0.0, 0.0]);
}

#[derive(Clone, Copy, Differentiable)]
struct Dual2 {
    a: f64,
    b: f64,
}

// The operator traits named by path only, no `use std::ops::..`: the generated code calls the
// trait's method through the type, with the trait in scope there.
#[differentiate]
impl std::ops::Mul for Dual2 {
    type Output = Dual2;
    fn mul(self, o: Dual2) -> Dual2 {
        Dual2 {
            a: self.a * o.a,
            b: self.a * o.b + self.b * o.a,
        }
    }
}

#[differentiate]
impl core::ops::Neg for Dual2 {
    type Output = Dual2;
    fn neg(self) -> Dual2 {
        Dual2 {
            a: -self.a,
            b: -self.b,
        }
    }
}

/// (x·y)·x negated, on a local built by a literal and a parameter: f = −(x_a²y_b + 2x_a x_b y_a).
#[differentiate]
fn operators_by_path(x: Dual2, y: Dual2) -> f64 {
    let mut p = Dual2 { a: 1.0, b: 0.0 };
    p = p * x;
    let q = -(p * y * x);
    q.b
}

#[test]
fn operator_traits_named_by_path() {
    let (x, y) = (Dual2 { a: 1.5, b: -0.5 }, Dual2 { a: 0.7, b: 2.0 });
    let (v, (gx, gy)) = operators_by_path_grad(x, y);
    close("value", v, operators_by_path(x, y), TOL);
    // ∂x_a = −(2x_a y_b + 2x_b y_a), ∂x_b = −2x_a y_a, ∂y_a = −2x_a x_b, ∂y_b = −x_a²
    close("∂x.a", gx.a, -(2.0 * 1.5 * 2.0 + 2.0 * -0.5 * 0.7), TOL);
    close("∂x.b", gx.b, -2.0 * 1.5 * 0.7, TOL);
    close("∂y.a", gy.a, -2.0 * 1.5 * -0.5, TOL);
    close("∂y.b", gy.b, -1.5 * 1.5, TOL);
    forward("operators_by_path").check(
        &(x, y),
        |p| operators_by_path(p.0, p.1),
        |p, v| operators_by_path_jvp(p.0, p.1, v.0, v.1),
        |p, w| {
            let (y, pb) = operators_by_path_vjp(p.0, p.1);
            (y, pb(w))
        },
    );
}

/// The user's methods on the elements of a `mut` `Vec` parameter after `iter_mut` gave it new
/// values: f = Σ ½m(v + 1)² over the particles' speeds (`vel[0]`, `vel[1]` shifted by 1 and 0).
#[differentiate]
fn methods_after_iter_mut(mut ps: Vec<Particle>) -> f64 {
    for p in ps.iter_mut() {
        p.vel[0] += 1.0;
    }
    let mut total = 0.0;
    for p in &ps {
        total += p.kinetic();
    }
    total + ps.iter().map(|p| p.kinetic()).sum::<f64>()
}

#[test]
fn methods_on_elements_after_iter_mut() {
    let ps = vec![
        Particle {
            pos: [0.0, 0.0],
            vel: [0.5, -0.2],
            mass: 2.0,
        },
        Particle {
            pos: [1.0, 1.0],
            vel: [-1.5, 0.4],
            mass: 0.5,
        },
    ];
    let (v, g) = methods_after_iter_mut_grad(ps.clone());
    close("value", v, methods_after_iter_mut(ps.clone()), TOL);
    // ∂vel₀ = 2m(vel₀ + 1), ∂vel₁ = 2m·vel₁, ∂m = (vel₀ + 1)² + vel₁², ∂pos = 0
    for (p, gp) in ps.iter().zip(&g) {
        close("∂vel0", gp.vel[0], 2.0 * p.mass * (p.vel[0] + 1.0), TOL);
        close("∂vel1", gp.vel[1], 2.0 * p.mass * p.vel[1], TOL);
        close(
            "∂m",
            gp.mass,
            (p.vel[0] + 1.0).powi(2) + p.vel[1].powi(2),
            TOL,
        );
        close("∂pos", gp.pos[0], 0.0, 0.0);
    }
    forward("methods_after_iter_mut").check(
        &ps,
        |p| methods_after_iter_mut(p.clone()),
        |p, v| methods_after_iter_mut_jvp(p.clone(), v.clone()),
        |p, w| {
            let (y, pb) = methods_after_iter_mut_vjp(p.clone());
            (y, pb(w))
        },
    );
}

/// Array patterns in `for` loops and closures: `&[l, r]`, `[l, r]` by reference, `|&[x, _, z]|`.
/// f = Σ k·lᵢrᵢ + Σ lᵢ·sin rᵢ + Σ xⱼzⱼ.
#[differentiate]
fn array_patterns(pairs: &[[f64; 2]], triples: &Vec<[f64; 3]>, k: f64) -> f64 {
    let mut t = 0.0;
    for &[l, r] in pairs {
        t += k * l * r;
    }
    for [l, r] in pairs {
        t += *l * r.sin();
    }
    t + triples.iter().map(|&[x, _, z]| x * z).sum::<f64>()
}

#[test]
fn array_patterns_in_loops_and_closures() {
    let pairs = vec![[1.0, 2.0], [3.0, 0.5]];
    let triples = vec![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let (v, (gp, gt, gk)) = array_patterns_grad(&pairs, &triples, 2.0);
    close("value", v, array_patterns(&pairs, &triples, 2.0), TOL);
    for (p, g) in pairs.iter().zip(&gp) {
        close("∂l", g[0], 2.0 * p[1] + p[1].sin(), TOL);
        close("∂r", g[1], 2.0 * p[0] + p[0] * p[1].cos(), TOL);
    }
    close("∂k", gk, 2.0 + 1.5, TOL);
    assert_eq!(gt, vec![[3.0, 0.0, 1.0], [6.0, 0.0, 4.0]]);
    forward("array_patterns").check(
        &(pairs.clone(), triples.clone(), 2.0),
        |p| array_patterns(&p.0, &p.1, p.2),
        |p, v| array_patterns_jvp(&p.0, &p.1, p.2, &v.0, &v.1, v.2),
        |p, w| {
            let (y, pb) = array_patterns_vjp(&p.0, &p.1, p.2);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// A second round: transforms as arrays, sphere tracing, cascades of filters, EM, implicit
// solvers, local alignment.
// ---------------------------------------------------------------------------------------------

/// A Denavit–Hartenberg link transform as a 4×4 `Array2`.
#[differentiate]
fn dh(theta: f64, d: f64, a: f64, alpha: f64) -> Array2<f64> {
    let (st, ct) = theta.sin_cos();
    let (sa, ca) = alpha.sin_cos();
    Array2::from(vec![
        [ct, -st * ca, st * sa, a * ct],
        [st, ct * ca, -ct * sa, a * st],
        [0.0, sa, ca, d],
        [0.0, 0.0, 0.0, 1.0],
    ])
}

/// The tool's position through a chain of DH links, `dot` after `dot`; its squared distance to
/// the origin of the base frame.
#[differentiate]
fn dh_reach(thetas: &[f64], ds: &[f64]) -> f64 {
    let mut t = Array2::<f64>::eye(4);
    for (i, (&th, &d)) in thetas.iter().zip(ds).enumerate() {
        let alpha = if i % 2 == 0 { PI / 2.0 } else { 0.0 };
        t = t.dot(&dh(th, d, 0.4, alpha));
    }
    let p = t.column(3);
    p[0] * p[0] + p[1] * p[1] + p[2] * p[2]
}

#[test]
fn denavit_hartenberg_chain() {
    let th = [0.3, -0.8, 1.2, 0.4];
    let ds = [0.5, 0.0, 0.2, 0.1];
    let (v, (gt, gd)) = dh_reach_grad(&th, &ds);
    close("value", v, dh_reach(&th, &ds), TOL);
    // the first joint rotates about the base's z axis, which leaves the distance unchanged
    close("∂θ₀", gt[0], 0.0, 1e-12);
    fd_vec("∂θ", |q| dh_reach(q, &ds), &th, &gt);
    fd_vec("∂d", |q| dh_reach(&th, q), &ds, &gd);
}

#[differentiate]
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[differentiate]
fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Möller–Trumbore ray/triangle intersection: the distance along the ray, or `None` where it
/// misses, made a penalty by `match`.
#[differentiate]
fn ray_triangle(orig: [f64; 3], dir: [f64; 3], v0: [f64; 3], v1: [f64; 3], v2: [f64; 3]) -> f64 {
    let e1 = [v1[0] - v0[0], v1[1] - v0[1], v1[2] - v0[2]];
    let e2 = [v2[0] - v0[0], v2[1] - v0[1], v2[2] - v0[2]];
    let p = cross(dir, e2);
    let det = dot3(e1, p);
    if det.abs() < 1e-12 {
        return -1.0;
    }
    let inv = 1.0 / det;
    let s = [orig[0] - v0[0], orig[1] - v0[1], orig[2] - v0[2]];
    let u = dot3(s, p) * inv;
    let q = cross(s, e1);
    let v = dot3(dir, q) * inv;
    if u < 0.0 || v < 0.0 || u + v > 1.0 {
        return -1.0;
    }
    dot3(e2, q) * inv
}

#[test]
fn moller_trumbore() {
    let (o, d) = ([0.1, 0.2, -1.0], [0.05, -0.02, 1.0]);
    let (a, b, c) = ([-0.5, -0.5, 0.3], [0.8, -0.4, 0.5], [0.0, 0.9, 0.4]);
    let (t, (go, gd, ga, gb, gc)) = ray_triangle_grad(o, d, a, b, c);
    close("value", t, ray_triangle(o, d, a, b, c), TOL);
    assert!(t > 0.0, "hit");
    // moving everything along a common vector changes nothing
    for k in 0..3 {
        close("translation", go[k] + ga[k] + gb[k] + gc[k], 0.0, 1e-12);
    }
    let r = gradcheck(|q: &[f64; 3]| ray_triangle(*q, d, a, b, c), &o, &go);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 3]| ray_triangle(o, *q, a, b, c), &d, &gd);
    assert!(r.passed(), "{r}");
    let r = gradcheck(|q: &[f64; 3]| ray_triangle(o, d, *q, b, c), &a, &ga);
    assert!(r.passed(), "{r}");
}

/// Sphere tracing an SDF (a sphere blended with a plane) until close, with a step cap; the
/// hit's height. The march count is discrete; the last step's distances carry the gradient.
#[differentiate]
fn sphere_trace(oy: f64, radius: f64, blend: f64) -> f64 {
    let sdf = |x: f64, y: f64, z: f64| {
        let s = (x * x + y * y + (z - 3.0) * (z - 3.0)).sqrt() - radius;
        let p = y + 1.0;
        let h = (0.5 + 0.5 * (p - s) / blend).clamp(0.0, 1.0);
        p * (1.0 - h) + s * h - blend * h * (1.0 - h)
    };
    let (dx, dy, dz) = (0.0, -0.2, 1.0);
    let n: f64 = (dx * dx + dy * dy + dz * dz).sqrt();
    let mut t = 0.0;
    let mut steps = 0;
    loop {
        let d = sdf(dx / n * t, oy + dy / n * t, dz / n * t);
        if d < 1e-9 || steps >= 200 {
            break;
        }
        t += d;
        steps += 1;
    }
    oy + dy / n * t
}

#[test]
fn sphere_tracing_loop() {
    let (v, (go, gr, gb)) = sphere_trace_grad(0.3, 1.0, 0.3);
    close("value", v, sphere_trace(0.3, 1.0, 0.3), TOL);
    fd3("sphere_trace", sphere_trace, (0.3, 1.0, 0.3), (go, gr, gb));
}

/// A cascade of biquads given as a slice of structs, each section's state in local `Vec`s.
#[differentiate]
fn cascade_energy(sections: &[Biquad], x: &[f64]) -> f64 {
    let mut signal = x.to_vec();
    for s in sections {
        let mut out = vec![0.0; signal.len()];
        for n in 0..signal.len() {
            let x1 = if n >= 1 { signal[n - 1] } else { 0.0 };
            let x2 = if n >= 2 { signal[n - 2] } else { 0.0 };
            let y1 = if n >= 1 { out[n - 1] } else { 0.0 };
            let y2 = if n >= 2 { out[n - 2] } else { 0.0 };
            out[n] = s.b0 * signal[n] + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
        }
        signal = out;
    }
    signal.iter().map(|y| y * y).sum()
}

#[test]
fn biquad_cascade() {
    let secs = vec![
        Biquad {
            b0: 0.3,
            b1: 0.2,
            b2: 0.1,
            a1: -0.4,
            a2: 0.2,
        },
        Biquad {
            b0: 0.5,
            b1: -0.1,
            b2: 0.05,
            a1: 0.3,
            a2: 0.1,
        },
    ];
    let x = data(16, 0.8);
    let (v, (gs, gx)) = cascade_energy_grad(&secs, &x);
    close("value", v, cascade_energy(&secs, &x), TOL);
    // one section alone is the direct form I filter above
    let (v1, (g1, _)) = cascade_energy_grad(&secs[..1], &x);
    let (w1, (h1, _)) = secs[0].output_energy_grad(&x);
    close("one section", v1, w1, 1e-12);
    close("one section ∂a1", g1[0].a1, h1.a1, 1e-12);
    let r = gradcheck(|q: &Vec<Biquad>| cascade_energy(q, &x), &secs, &gs);
    assert!(r.passed(), "{r}");
    fd_vec("∂x", |q| cascade_energy(&secs, q), &x, &gx);
}

/// One EM step of a two-component 1-D Gaussian mixture (responsibilities, then the weighted
/// moments), and the log-likelihood at the updated parameters.
#[differentiate]
fn em_step_loglik(mu: [f64; 2], log_sd: [f64; 2], xs: &[f64]) -> f64 {
    let pdf =
        |x: f64, m: f64, s: f64| (-0.5 * ((x - m) / s).powi(2)).exp() / (s * (2.0 * PI).sqrt());
    let sd = [log_sd[0].exp(), log_sd[1].exp()];
    let mut nk = [0.0; 2];
    let mut sx = [0.0; 2];
    let mut sxx = [0.0; 2];
    for &x in xs {
        let p0 = 0.5 * pdf(x, mu[0], sd[0]);
        let p1 = 0.5 * pdf(x, mu[1], sd[1]);
        let r = [p0 / (p0 + p1), p1 / (p0 + p1)];
        for k in 0..2 {
            nk[k] += r[k];
            sx[k] += r[k] * x;
            sxx[k] += r[k] * x * x;
        }
    }
    let n = xs.len() as f64;
    let mut ll = 0.0;
    for &x in xs {
        let mut p = 0.0;
        for k in 0..2 {
            let m = sx[k] / nk[k];
            let s = (sxx[k] / nk[k] - m * m).sqrt();
            p += nk[k] / n * pdf(x, m, s);
        }
        ll += p.ln();
    }
    ll
}

#[test]
fn gmm_em_step() {
    let xs: Vec<f64> = (0..12)
        .map(|i| if i % 2 == 0 { -1.0 } else { 1.2 } + 0.4 * data(1, i as f64)[0])
        .collect();
    let (v, (gm, gs, gx)) = em_step_loglik_grad([-0.5, 0.6], [-0.3, -0.2], &xs);
    close(
        "value",
        v,
        em_step_loglik([-0.5, 0.6], [-0.3, -0.2], &xs),
        TOL,
    );
    let r = gradcheck(
        |q: &[f64; 2]| em_step_loglik(*q, [-0.3, -0.2], &xs),
        &[-0.5, 0.6],
        &gm,
    );
    assert!(r.passed(), "{r}");
    let r = gradcheck(
        |q: &[f64; 2]| em_step_loglik([-0.5, 0.6], *q, &xs),
        &[-0.3, -0.2],
        &gs,
    );
    assert!(r.passed(), "{r}");
    fd_vec(
        "∂x",
        |q| em_step_loglik([-0.5, 0.6], [-0.3, -0.2], q),
        &xs,
        &gx,
    );
}

/// Implicit (backward) Euler for a stiff cubic decay y' = −k(y³ + y), each step solved by
/// Newton's method in a `while` loop with a tolerance.
#[differentiate]
fn implicit_euler(k: f64, y0: f64) -> f64 {
    let h = 0.1;
    let mut y = y0;
    for _ in 0..10 {
        let mut z = y;
        let mut it = 0;
        while it < 50 {
            let g = z - y + h * k * (z * z * z + z);
            let dg = 1.0 + h * k * (3.0 * z * z + 1.0);
            let step = g / dg;
            z -= step;
            it += 1;
            if step.abs() < 1e-14 {
                break;
            }
        }
        y = z;
    }
    y
}

#[test]
fn implicit_euler_newton() {
    let (v, (gk, gy)) = implicit_euler_grad(5.0, 1.3);
    close("value", v, implicit_euler(5.0, 1.3), TOL);
    // the implicit function theorem step by step: ∂y_{n+1}/∂y_n = 1/(1 + hk(3y² + 1)) at the
    // converged root, so ∂y0 is their product
    let mut y: f64 = 1.3;
    let mut want = 1.0;
    for _ in 0..10 {
        let mut z = y;
        for _ in 0..50 {
            z -= (z - y + 0.5 * (z * z * z + z)) / (1.0 + 0.5 * (3.0 * z * z + 1.0));
        }
        want /= 1.0 + 0.5 * (3.0 * z * z + 1.0);
        y = z;
    }
    close("∂y0", gy, want, 1e-10);
    fd2("∂k, ∂y0", implicit_euler, (5.0, 1.3), (gk, gy));
}

/// Smith–Waterman local alignment with a soft max and the zero floor, over two numeric
/// sequences scored by a Gaussian similarity; the best cell by a running `max`.
#[differentiate]
fn soft_smith_waterman(a: &[f64], b: &[f64], gap: f64, temp: f64) -> f64 {
    let (n, m) = (a.len(), b.len());
    let mut h = vec![vec![0.0; m + 1]; n + 1];
    let mut best = 0.0f64;
    for i in 1..=n {
        for j in 1..=m {
            let sim = 2.0 * (-(a[i - 1] - b[j - 1]).powi(2)).exp() - 1.0;
            let opts = [h[i - 1][j - 1] + sim, h[i - 1][j] - gap, h[i][j - 1] - gap];
            let mx = opts.iter().fold(0.0f64, |acc, &o| acc.max(o));
            let z: f64 =
                (-mx / temp).exp() + opts.iter().map(|o| ((o - mx) / temp).exp()).sum::<f64>();
            h[i][j] = mx + temp * z.ln();
            best = best.max(h[i][j]);
        }
    }
    best
}

#[test]
fn soft_local_alignment() {
    let a = data(7, 0.2);
    let b = data(6, 3.0);
    let (v, (ga, gb, gg, gt)) = soft_smith_waterman_grad(&a, &b, 0.4, 0.1);
    close("value", v, soft_smith_waterman(&a, &b, 0.4, 0.1), TOL);
    fd_vec("∂a", |q| soft_smith_waterman(q, &b, 0.4, 0.1), &a, &ga);
    fd_vec("∂b", |q| soft_smith_waterman(&a, q, 0.4, 0.1), &b, &gb);
    fd2(
        "∂gap, ∂temp",
        |g, t| soft_smith_waterman(&a, &b, g, t),
        (0.4, 0.1),
        (gg, gt),
    );
}

/// 1-D Wasserstein distance between two empirical samples of equal size: sort both, then the
/// mean absolute difference of the order statistics.
#[differentiate]
fn wasserstein_1d(x: &[f64], y: &[f64]) -> f64 {
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ys.sort_by(|a, b| a.total_cmp(b));
    xs.iter()
        .zip(ys.iter())
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / xs.len() as f64
}

#[test]
fn wasserstein_by_sorting() {
    let x = data(8, 0.3);
    let y: Vec<f64> = data(8, 5.1).iter().map(|v| v * 1.5 + 0.2).collect();
    let (v, (gx, gy)) = wasserstein_1d_grad(&x, &y);
    close("value", v, wasserstein_1d(&x, &y), TOL);
    // each entry is ±1/n, and the two gradients are opposite once paired by rank
    for g in gx.iter().chain(&gy) {
        close("|∂|", g.abs(), 1.0 / 8.0, TOL);
    }
    close(
        "Σ",
        gx.iter().sum::<f64>() + gy.iter().sum::<f64>(),
        0.0,
        1e-15,
    );
    fd_vec("∂x", |q| wasserstein_1d(q, &y), &x, &gx);
}

/// A particle filter's log-likelihood with fixed noise draws and systematic resampling (the
/// resampled indices are discrete: the gradient is that of the chosen ancestry).
#[differentiate]
fn particle_filter(drift: f64, obs_sd: f64, obs: &[f64], noise: &[Vec<f64>]) -> f64 {
    let n = noise[0].len();
    let mut parts = vec![0.0; n];
    let mut ll = 0.0;
    for (t, y) in obs.iter().enumerate() {
        let mut w = vec![0.0; n];
        for i in 0..n {
            parts[i] += drift + 0.3 * noise[t][i];
            w[i] = (-0.5 * ((y - parts[i]) / obs_sd).powi(2)).exp() / obs_sd;
        }
        let total: f64 = w.iter().sum();
        ll += (total / n as f64).ln();
        // systematic resampling at fixed offsets
        let mut cum = 0.0;
        let mut j = 0;
        let old = parts.clone();
        for i in 0..n {
            let u = (i as f64 + 0.5) / n as f64;
            while j < n - 1 && cum + w[j] / total < u {
                cum += w[j] / total;
                j += 1;
            }
            parts[i] = old[j];
        }
    }
    ll
}

#[test]
fn particle_filter_fixed_draws() {
    let obs: Vec<f64> = (0..6)
        .map(|t| 0.2 * t as f64 + 0.1 * data(1, t as f64)[0])
        .collect();
    let noise: Vec<Vec<f64>> = (0..6).map(|t| data(10, t as f64 * 2.7)).collect();
    let (v, (gd, gs, go, _)) = particle_filter_grad(0.2, 0.5, &obs, &noise);
    close("value", v, particle_filter(0.2, 0.5, &obs, &noise), TOL);
    fd2(
        "∂drift, ∂sd",
        |a, b| particle_filter(a, b, &obs, &noise),
        (0.2, 0.5),
        (gd, gs),
    );
    fd_vec("∂obs", |q| particle_filter(0.2, 0.5, q, &noise), &obs, &go);
}

/// Yield to maturity of a bond by Newton's method on the price, then the modified duration;
/// the gradient through the solver with respect to price and coupon.
#[differentiate]
fn ytm_duration(price: f64, coupon: f64) -> f64 {
    let years = 8;
    let pv = |y: f64| -> (f64, f64) {
        let mut p = 0.0;
        let mut dp = 0.0;
        for t in 1..=years {
            let cf = if t == years { 100.0 + coupon } else { coupon };
            let disc = (1.0 + y).powi(-t);
            p += cf * disc;
            dp -= t as f64 * cf * disc / (1.0 + y);
        }
        (p, dp)
    };
    let mut y = 0.05;
    for _ in 0..30 {
        let (p, dp) = pv(y);
        y -= (p - price) / dp;
    }
    let (p, dp) = pv(y);
    -dp / p
}

#[test]
fn yield_to_maturity_duration() {
    let (v, (gp, gc)) = ytm_duration_grad(96.0, 4.0);
    close("value", v, ytm_duration(96.0, 4.0), TOL);
    fd2("∂price, ∂coupon", ytm_duration, (96.0, 4.0), (gp, gc));
}

/// Spectral centroid of a signal by a naive DFT over `step_by` frequencies and a `rev` window.
#[differentiate]
fn spectral_centroid(x: &[f64]) -> f64 {
    let n = x.len();
    let window: Vec<f64> = (0..n)
        .rev()
        .map(|k| 0.5 - 0.5 * (2.0 * PI * k as f64 / (n - 1) as f64).cos())
        .collect();
    let (mut num, mut den) = (0.0, 0.0);
    for f in (1..n / 2).step_by(1) {
        let (mut re, mut im) = (0.0, 0.0);
        for (k, (&v, &w)) in x.iter().zip(window.iter()).enumerate() {
            let ang = 2.0 * PI * f as f64 * k as f64 / n as f64;
            re += v * w * ang.cos();
            im -= v * w * ang.sin();
        }
        let mag = (re * re + im * im).sqrt();
        num += f as f64 * mag;
        den += mag;
    }
    num / den
}

#[test]
fn spectral_centroid_dft() {
    let x: Vec<f64> = (0..24)
        .map(|i| {
            (2.0 * PI * 3.0 * i as f64 / 24.0).sin()
                + 0.5 * (2.0 * PI * 7.0 * i as f64 / 24.0).cos()
                + 0.1 * data(1, i as f64)[0]
        })
        .collect();
    let (v, g) = spectral_centroid_grad(&x);
    close("value", v, spectral_centroid(&x), TOL);
    // scale invariant: x·∂x = 0
    close(
        "x·∂x",
        x.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>(),
        0.0,
        1e-10,
    );
    fd_vec("∂x", spectral_centroid, &x, &g);
}

/// Multi-class hinge (Crammer–Singer): the largest wrong-class score by `max_by` over an
/// enumeration that skips the target.
#[differentiate]
fn crammer_singer(scores: &[f64], target: usize) -> f64 {
    let worst = scores
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != target)
        .map(|(_, &s)| s)
        .fold(f64::NEG_INFINITY, f64::max);
    (1.0 + worst - scores[target]).max(0.0)
}

#[test]
fn crammer_singer_hinge() {
    let s = vec![0.3, 1.1, 0.9, -0.2];
    let (v, g) = crammer_singer_grad(&s, 2);
    close("value", v, crammer_singer(&s, 2), TOL);
    // active: +1 at the worst wrong class (1), −1 at the target
    assert_eq!(g, vec![0.0, 1.0, -1.0, 0.0]);
    fd_vec("∂s", |q| crammer_singer(q, 2), &s, &g);
}

/// InfoNCE over a batch of paired embeddings (rows), similarities by `dot` of the two matrices.
#[differentiate]
fn info_nce(za: &Array2<f64>, zb: &Array2<f64>, temp: f64) -> f64 {
    let sims = za.dot(&zb.t()) / temp;
    let n = sims.nrows();
    let mut loss = 0.0;
    for i in 0..n {
        let row = sims.row(i);
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|s| (s - m).exp()).sum::<f64>().ln();
        loss += lse - sims[[i, i]];
    }
    loss / n as f64
}

#[test]
fn info_nce_matrix() {
    let za = matrix(4, 3, 0.1);
    let zb = matrix(4, 3, 0.2);
    let (v, (ga, gb, gt)) = info_nce_grad(&za, &zb, 0.5);
    close("value", v, info_nce(&za, &zb, 0.5), TOL);
    fd_array("∂za", |q| info_nce(q, &zb, 0.5), &za, &ga);
    fd_array("∂zb", |q| info_nce(&za, q, 0.5), &zb, &gb);
    fd("∂temp", |t| info_nce(&za, &zb, t), 0.5, gt);
}

// ---------------------------------------------------------------------------------------------
// Forms the second round found broken, followed now.
// ---------------------------------------------------------------------------------------------

/// A row, a column and a slice of a local matrix bound to names inside a loop: the pullback
/// takes each view again rather than keep it (a view kept would borrow the matrix beyond the
/// iteration). f = Σᵢ ln Σⱼ e^{2aᵢⱼ} + Σᵢ (2aᵢ₀)² + Σᵢ Σ_{j≥1} 2aᵢⱼ.
#[differentiate]
fn views_bound_in_loops(a: &Array2<f64>) -> f64 {
    let m = a * 2.0;
    let mut total = 0.0;
    for i in 0..m.nrows() {
        let row = m.row(i);
        total += row.iter().map(|s| s.exp()).sum::<f64>().ln();
        let tail = m.slice(s![i, 1..]);
        total += tail.sum();
    }
    for j in 0..1 {
        let col = m.column(j);
        total += col.iter().map(|v| v * v).sum::<f64>();
    }
    total
}

#[test]
fn views_bound_to_names_in_loops() {
    let a = matrix(3, 4, 0.45);
    let (v, g) = views_bound_in_loops_grad(&a);
    close("value", v, views_bound_in_loops(&a), TOL);
    // ∂aᵢⱼ = 2·softmax(2aᵢ)ⱼ + 8aᵢ₀[j = 0] + 2[j ≥ 1]
    for i in 0..3 {
        let z: f64 = (0..4).map(|j| (2.0 * a[[i, j]]).exp()).sum();
        for j in 0..4 {
            let mut want = 2.0 * (2.0 * a[[i, j]]).exp() / z;
            want += if j == 0 { 8.0 * a[[i, 0]] } else { 2.0 };
            close("∂a", g[[i, j]], want, TOL);
        }
    }
    forward("views_bound_in_loops").check(
        &a,
        |p| views_bound_in_loops(p),
        |p, v| views_bound_in_loops_jvp(p, v),
        |p, w| {
            let (y, pb) = views_bound_in_loops_vjp(p);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// A third round: the order of iterator adapters, shadowed captures, builders, worklists.
// ---------------------------------------------------------------------------------------------

/// Discounted returns in reinforcement learning, written three ways users write them: the
/// positions of `enumerate().rev()` are the original ones, those of `rev().enumerate()` count
/// from the end.
#[differentiate]
fn discounted(rewards: &[f64], gamma: f64) -> f64 {
    let n = rewards.len();
    let a: f64 = rewards
        .iter()
        .enumerate()
        .rev()
        .map(|(t, r)| gamma.powi(t as i32) * r)
        .sum();
    let b: f64 = rewards
        .iter()
        .rev()
        .enumerate()
        .map(|(k, r)| gamma.powi((n - 1 - k) as i32) * r)
        .sum();
    let mut g = 0.0;
    for r in rewards.iter().rev() {
        g = r + gamma * g;
    }
    a + 2.0 * b + 4.0 * g
}

#[test]
fn discounted_returns_adapter_order() {
    let r = data(7, 1.1);
    let (v, (gr, gg)) = discounted_grad(&r, 0.9);
    close("value", v, discounted(&r, 0.9), TOL);
    // each form is Σ γᵗ rₜ: ∂rₜ = 7γᵗ, ∂γ = 7 Σ t γ^{t−1} rₜ
    for t in 0..7 {
        close("∂r", gr[t], 7.0 * 0.9f64.powi(t as i32), TOL);
    }
    let want: f64 = (1..7)
        .map(|t| 7.0 * t as f64 * 0.9f64.powi(t as i32 - 1) * r[t])
        .sum();
    close("∂γ", gg, want, 1e-12);
}

/// Strided and offset reads: `skip(k).step_by(s)` starts at k, `step_by(s).skip(k)` at k·s;
/// `rev().take(n)` are the last n; `zip` stops at the shorter; the last chunk may be short.
#[differentiate]
fn strided(x: &[f64], w: &[f64]) -> f64 {
    let a: f64 = x.iter().skip(1).step_by(3).map(|v| v * v).sum();
    let b: f64 = x.iter().step_by(3).skip(1).map(|v| v * v * v).sum();
    let c: f64 = x
        .iter()
        .rev()
        .take(2)
        .zip(w.iter())
        .map(|(p, q)| p * q)
        .sum();
    let d: f64 = x.chunks(4).map(|ch| ch[0] * ch[ch.len() - 1]).sum();
    let e: f64 = x.windows(3).step_by(2).map(|win| win[2] - win[0]).product();
    a + b + c + d + e
}

#[test]
fn strided_reads_adapter_order() {
    let x = data(10, 0.35);
    let w = vec![1.5, -0.5, 9.0];
    let (v, (gx, gw)) = strided_grad(&x, &w);
    close("value", v, strided(&x, &w), TOL);
    // ∂w = (x₉, x₈, 0): the zip stops at the two items `take` leaves
    assert_eq!(gw, vec![x[9], x[8], 0.0]);
    fd_vec("∂x", |q| strided(q, &w), &x, &gx);
    // a: positions 1, 4, 7; b: 3, 6, 9; d: chunks [0..4], [4..8], [8..10]
    let mut want = vec![0.0; 10];
    for p in [1, 4, 7] {
        want[p] += 2.0 * x[p];
    }
    for p in [3, 6, 9] {
        want[p] += 3.0 * x[p] * x[p];
    }
    want[9] += 1.5;
    want[8] -= 0.5;
    for (s, e) in [(0, 3), (4, 7), (8, 9)] {
        want[s] += x[e];
        want[e] += x[s];
    }
    // e: windows at 0, 2, 4, 6: Π (x[k+2] − x[k])
    let fac: Vec<f64> = [0, 2, 4, 6].iter().map(|&k| x[k + 2] - x[k]).collect();
    for (m, &k) in [0, 2, 4, 6].iter().enumerate() {
        let others: f64 = fac
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != m)
            .map(|(_, f)| f)
            .product();
        want[k + 2] += others;
        want[k] -= others;
    }
    for k in 0..10 {
        close("∂x analytic", gx[k], want[k], 1e-12);
    }
}

/// A closure that captures a value, which is then shadowed: the closure keeps the first.
#[differentiate]
fn shadowed_capture(x: f64, k: f64) -> f64 {
    let scale = 2.0 * k;
    let f = |v: f64| v * scale;
    let first = f(x);
    let scale = 3.0 * x;
    let second = f(k);
    first + second + scale
}

#[test]
fn closure_keeps_captured_value_when_shadowed() {
    let (v, (gx, gk)) = shadowed_capture_grad(1.5, 0.7);
    close("value", v, shadowed_capture(1.5, 0.7), TOL);
    // f = 2xk + 2k² + 3x: ∂x = 2k + 3, ∂k = 2x + 4k
    close("∂x", gx, 2.0 * 0.7 + 3.0, TOL);
    close("∂k", gk, 2.0 * 1.5 + 4.0 * 0.7, TOL);
}

#[derive(Clone, Differentiable)]
struct Option2 {
    strike: f64,
    vol: f64,
}

impl Option2 {
    /// A builder taking `self` by value and returning it changed.
    #[differentiate]
    fn bumped(mut self, dvol: f64) -> Option2 {
        self.vol += dvol;
        self
    }

    #[differentiate]
    fn price(&self, spot: f64) -> f64 {
        black_scholes_call(spot, self.strike, 0.01, self.vol, 1.0)
    }
}

/// Vega by a bump-and-reprice written with the builder, as a risk report would.
#[differentiate]
fn bump_vega(opt: &Option2, spot: f64) -> f64 {
    let up = opt.clone().bumped(0.01);
    let down = opt.clone().bumped(-0.01);
    (up.price(spot) - down.price(spot)) / 0.02
}

#[test]
fn builder_by_value_methods() {
    let o = Option2 {
        strike: 100.0,
        vol: 0.2,
    };
    let (v, (go, gs)) = bump_vega_grad(&o, 105.0);
    close("value", v, bump_vega(&o, 105.0), TOL);
    // the gradient of the difference quotient is the difference quotient of the gradients
    // (finite differences of a difference quotient lose too many digits to compare with)
    let (_, (us, uk, _, uv, _)) = black_scholes_call_grad(105.0, 100.0, 0.01, 0.21, 1.0);
    let (_, (ds, dk, _, dv, _)) = black_scholes_call_grad(105.0, 100.0, 0.01, 0.19, 1.0);
    close("∂strike", go.strike, (uk - dk) / 0.02, 1e-10);
    close("∂vol", go.vol, (uv - dv) / 0.02, 1e-10);
    close("∂spot", gs, (us - ds) / 0.02, 1e-10);
    // forward mode: values and the dot-product test, without finite differences (as above)
    forward("bump_vega").at_kink().check(
        &(o, 105.0),
        |p| bump_vega(&p.0, p.1),
        |p, v| bump_vega_jvp(&p.0, p.1, &v.0, v.1),
        |p, w| {
            let (y, pb) = bump_vega_vjp(&p.0, p.1);
            (y, pb(w))
        },
    );
}

/// Adaptive Simpson quadrature with an explicit worklist (`while let Some(..) = stack.pop()`),
/// intervals pushed as `[a, b]` arrays; the integrand's parameter is differentiated.
#[differentiate]
fn adaptive_simpson(k: f64) -> f64 {
    let f = |x: f64| (k * x).sin() * (-x).exp();
    let mut stack: Vec<[f64; 2]> = vec![[0.0, 3.0]];
    let mut total = 0.0;
    let mut evals = 0;
    while let Some([a, b]) = stack.pop() {
        let m = 0.5 * (a + b);
        let whole = (b - a) / 6.0 * (f(a) + 4.0 * f(m) + f(b));
        let lm = 0.5 * (a + m);
        let rm = 0.5 * (m + b);
        let left = (m - a) / 6.0 * (f(a) + 4.0 * f(lm) + f(m));
        let right = (b - m) / 6.0 * (f(m) + 4.0 * f(rm) + f(b));
        evals += 1;
        if (left + right - whole).abs() < 1e-10 || evals > 2000 {
            total += left + right;
        } else {
            stack.push([a, m]);
            stack.push([m, b]);
        }
    }
    total
}

#[test]
fn adaptive_simpson_worklist() {
    let (v, g) = adaptive_simpson_grad(2.0);
    close("value", v, adaptive_simpson(2.0), TOL);
    // ∫₀³ sin(kx)e^{−x} dx = [k − e^{−3}(sin 3k + k cos 3k)]/(1 + k²); its k-derivative by
    // differences of the closed form
    let exact =
        |k: f64| (k - (-3.0f64).exp() * ((3.0 * k).sin() + k * (3.0 * k).cos())) / (1.0 + k * k);
    close("integral", v, exact(2.0), 1e-9);
    fd("∂k", adaptive_simpson, 2.0, g);
    close(
        "∂k vs closed form",
        g,
        (exact(2.0 + 1e-6) - exact(2.0 - 1e-6)) / 2e-6,
        1e-7,
    );
}

/// A match returning a tuple of differentiated values from its arms, on a regime index.
#[differentiate]
fn regime_moments(x: f64, regime: u8) -> f64 {
    let (mean, var) = match regime {
        0 => (x, 1.0),
        1 => (2.0 * x, x * x),
        _ => (x.sin(), 1.0 + x.cos().powi(2)),
    };
    mean * mean + var
}

#[test]
fn match_arms_yield_tuples() {
    for (r, want) in [
        (0u8, 2.0 * 0.8),
        (1, 8.0 * 0.8 + 2.0 * 0.8),
        (
            2,
            2.0 * 0.8f64.sin() * 0.8f64.cos() - 2.0 * 0.8f64.cos() * 0.8f64.sin(),
        ),
    ] {
        let (v, g) = regime_moments_grad(0.8, r);
        close("value", v, regime_moments(0.8, r), TOL);
        close("∂x", g, want, 1e-12);
    }
}

/// A Fibonacci-like recurrence with tuple assignment and an early `break` on a differentiated
/// threshold.
#[differentiate]
fn growth_until(a0: f64, b0: f64, cap: f64) -> f64 {
    let (mut a, mut b) = (a0, b0);
    let mut n = 0;
    while n < 50 {
        (a, b) = (b, a + 0.5 * b);
        if b > cap {
            break;
        }
        n += 1;
    }
    a + b
}

#[test]
fn tuple_assignment_recurrence() {
    let (v, g) = growth_until_grad(0.3, 0.4, 20.0);
    close("value", v, growth_until(0.3, 0.4, 20.0), TOL);
    fd3("growth_until", growth_until, (0.3, 0.4, 20.0), g);
    // linear in (a0, b0) at a fixed step count: a0·∂a0 + b0·∂b0 = value
    close("Euler", 0.3 * g.0 + 0.4 * g.1, v, 1e-12);
}

/// `f32` data and an `f64` accumulator with casts both ways.
#[differentiate]
fn mixed_precision(w: &[f32], x: &[f64]) -> f64 {
    let mut acc = 0.0f64;
    for (wi, xi) in w.iter().zip(x) {
        let p = (*wi as f64) * xi;
        acc += (p as f32).tanh() as f64;
    }
    acc
}

#[test]
fn mixed_precision_casts() {
    let w: Vec<f32> = vec![0.5, -1.25, 2.0];
    let x = vec![0.3, 0.7, -0.2];
    let (v, (gw, gx)) = mixed_precision_grad(&w, &x);
    close("value", v, mixed_precision(&w, &x), TOL);
    for i in 0..3 {
        let p = (w[i] as f64 * x[i]) as f32;
        let d = 1.0 - p.tanh() * p.tanh();
        close("∂x", gx[i], d as f64 * w[i] as f64, 1e-6);
        close("∂w", gw[i] as f64, d as f64 * x[i], 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// A fourth round: Horner through a struct's `Vec`, argmin loops, `Zip`, nested closures,
// `reduce`, `chunks_exact`-style interleaved audio.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Poly {
    coef: Vec<f64>,
}

impl Poly {
    /// Horner's rule over the coefficients, highest first, by `rev().fold`.
    #[differentiate]
    fn eval(&self, x: f64) -> f64 {
        self.coef.iter().rev().fold(0.0, |acc, &c| acc * x + c)
    }
}

/// Least squares of a polynomial fit with a roughness penalty on the coefficients.
#[differentiate]
fn poly_fit(p: &Poly, xs: &[f64], ys: &[f64], lambda: f64) -> f64 {
    let sse: f64 = xs
        .iter()
        .zip(ys)
        .map(|(&x, &y)| (p.eval(x) - y).powi(2))
        .sum();
    let rough: f64 = p.coef.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
    sse + lambda * rough
}

#[test]
fn polynomial_fit_horner() {
    let p = Poly {
        coef: vec![0.5, -1.0, 0.3, 0.2],
    };
    let xs = data(9, 0.5);
    let ys: Vec<f64> = xs.iter().map(|x| x.exp()).collect();
    let (v, (gp, gx, gy, gl)) = poly_fit_grad(&p, &xs, &ys, 0.1);
    close("value", v, poly_fit(&p, &xs, &ys, 0.1), TOL);
    // ∂cₖ = Σ 2eᵢxᵢᵏ + λ·(roughness)′
    for k in 0..4 {
        let mut want: f64 = xs
            .iter()
            .zip(&ys)
            .map(|(&x, &y)| 2.0 * (p.eval(x) - y) * x.powi(k as i32))
            .sum();
        if k > 0 {
            want += 0.2 * (p.coef[k] - p.coef[k - 1]);
        }
        if k < 3 {
            want -= 0.2 * (p.coef[k + 1] - p.coef[k]);
        }
        close("∂c", gp.coef[k], want, 1e-12);
    }
    fd_vec("∂x", |q| poly_fit(&p, q, &ys, 0.1), &xs, &gx);
    fd_vec("∂y", |q| poly_fit(&p, &xs, q, 0.1), &ys, &gy);
    fd("∂λ", |l| poly_fit(&p, &xs, &ys, l), 0.1, gl);
}

/// The distance from a robot to the nearest waypoint, found by an argmin loop that keeps the
/// best index; then the heading error towards it with `atan2`.
#[differentiate]
fn nearest_waypoint_cost(pos: [f64; 2], heading: f64, waypoints: &[[f64; 2]]) -> f64 {
    let mut best = f64::INFINITY;
    let mut idx = 0;
    for (i, w) in waypoints.iter().enumerate() {
        let d = (w[0] - pos[0]).hypot(w[1] - pos[1]);
        if d < best {
            best = d;
            idx = i;
        }
    }
    let target = waypoints[idx];
    let bearing = (target[1] - pos[1]).atan2(target[0] - pos[0]);
    let err = (bearing - heading).sin();
    best + err * err
}

#[test]
fn nearest_waypoint_argmin() {
    let wps = vec![[2.0, 0.0], [1.0, 1.5], [-1.0, 0.5], [0.5, -2.0]];
    let pos = [0.6, 0.7];
    let (v, (gp, gh, gw)) = nearest_waypoint_cost_grad(pos, 0.3, &wps);
    close("value", v, nearest_waypoint_cost(pos, 0.3, &wps), TOL);
    // only the nearest waypoint (index 1) gets a gradient
    for (i, g) in gw.iter().enumerate() {
        if i != 1 {
            assert_eq!(*g, [0.0, 0.0]);
        }
    }
    let r = gradcheck(
        |q: &[f64; 2]| nearest_waypoint_cost(*q, 0.3, &wps),
        &pos,
        &gp,
    );
    assert!(r.passed(), "{r}");
    fd("∂heading", |h| nearest_waypoint_cost(pos, h, &wps), 0.3, gh);
    let r = gradcheck(
        |q: &Vec<[f64; 2]>| nearest_waypoint_cost(pos, 0.3, q),
        &wps,
        &gw,
    );
    assert!(r.passed(), "{r}");
}

/// Alpha compositing of two images with `Zip::map_collect`, then a gamma-encoded mean.
#[differentiate]
fn composite(fg: &Array2<f64>, bg: &Array2<f64>, alpha: &Array2<f64>) -> f64 {
    let out = ndarray::Zip::from(fg)
        .and(bg)
        .and(alpha)
        .map_collect(|&f, &b, &a| {
            let a = 1.0 / (1.0 + (-a).exp());
            a * f + (1.0 - a) * b
        });
    out.mapv(|v| v.abs().powf(1.0 / 2.2)).mean().unwrap()
}

#[test]
fn alpha_compositing_zip() {
    let fg = matrix(3, 4, 0.1).mapv(|v| v.abs() + 0.1);
    let bg = matrix(3, 4, 1.1).mapv(|v| v.abs() + 0.1);
    let al = matrix(3, 4, 2.1);
    let (v, (gf, gb, ga)) = composite_grad(&fg, &bg, &al);
    close("value", v, composite(&fg, &bg, &al), TOL);
    fd_array("∂fg", |q| composite(q, &bg, &al), &fg, &gf);
    fd_array("∂bg", |q| composite(&fg, q, &al), &bg, &gb);
    fd_array("∂alpha", |q| composite(&fg, &bg, q), &al, &ga);
}

/// Payoffs composed from closures that call other closures: a call spread capped by a digital
/// approximated by a logistic.
#[differentiate]
fn structured_payoff(spots: &[f64], k1: f64, k2: f64, width: f64) -> f64 {
    let call = |s: f64, k: f64| (s - k).max(0.0);
    let spread = |s: f64| call(s, k1) - call(s, k2);
    let digital = |s: f64| 1.0 / (1.0 + (-(s - k2) / width).exp());
    let payoff = |s: f64| spread(s) + 5.0 * digital(s);
    spots.iter().map(|&s| payoff(s)).sum::<f64>() / spots.len() as f64
}

#[test]
fn nested_closure_payoffs() {
    let spots: Vec<f64> = (0..9).map(|i| 90.0 + 2.7 * i as f64).collect();
    let (v, (gs, g1, g2, gw)) = structured_payoff_grad(&spots, 95.0, 105.0, 2.0);
    close("value", v, structured_payoff(&spots, 95.0, 105.0, 2.0), TOL);
    // ∂k1 = −(share of spots above k1)
    let above = spots.iter().filter(|&&s| s > 95.0).count() as f64;
    close("∂k1", g1, -above / 9.0, TOL);
    fd_vec(
        "∂spots",
        |q| structured_payoff(q, 95.0, 105.0, 2.0),
        &spots,
        &gs,
    );
    fd2(
        "∂k2, ∂width",
        |a, b| structured_payoff(&spots, 95.0, a, b),
        (105.0, 2.0),
        (g2, gw),
    );
}

/// Peak normalisation: divide by the largest magnitude found with `reduce(f64::max)`, then an
/// RMS level in dB.
#[differentiate]
fn normalised_rms_db(x: &[f64]) -> f64 {
    let peak = x.iter().map(|v| v.abs()).reduce(f64::max).unwrap();
    let ms = x.iter().map(|v| (v / peak).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

#[test]
fn peak_normalised_level() {
    let x = data(11, 0.9);
    let (v, g) = normalised_rms_db_grad(&x);
    close("value", v, normalised_rms_db(&x), TOL);
    // scale invariant: x·∂x = 0
    close(
        "x·∂x",
        x.iter().zip(&g).map(|(a, b)| a * b).sum::<f64>(),
        0.0,
        1e-12,
    );
    fd_vec("∂x", normalised_rms_db, &x, &g);
}

/// Interleaved stereo: mid/side energy over frames of two samples read with `chunks(2)`, and a
/// balance term.
#[differentiate]
fn stereo_width(interleaved: &[f32], balance: f32) -> f32 {
    let mut mid = 0.0f32;
    let mut side = 0.0f32;
    for frame in interleaved.chunks(2) {
        let (l, r) = (frame[0] * (1.0 - balance), frame[1] * (1.0 + balance));
        mid += (0.5 * (l + r)).powi(2);
        side += (0.5 * (l - r)).powi(2);
    }
    side / (mid + side)
}

#[test]
fn stereo_mid_side_f32() {
    let x: Vec<f32> = data(16, 2.3).iter().map(|v| *v as f32).collect();
    let (v, (gx, gb)) = stereo_width_grad(&x, 0.1);
    close("value", v as f64, stereo_width(&x, 0.1) as f64, 1e-6);
    // scale invariant in the samples
    let s: f32 = x.iter().zip(&gx).map(|(a, b)| a * b).sum();
    close("x·∂x", s as f64, 0.0, 1e-5);
    let r = gradcheck(|q: &Vec<f32>| stereo_width(q, 0.1), &x, &gx);
    assert!(r.passed(), "{r}");
    fd32("∂balance", |b| stereo_width(&x, b), 0.1, gb);
}

/// Max-margin over candidate scores with `max_by(total_cmp)` and the margin's hinge.
#[differentiate]
fn max_margin(scores: &[f64], gold: usize) -> f64 {
    let best_other = scores
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != gold)
        .map(|(_, s)| *s)
        .max_by(|a, b| a.total_cmp(b))
        .unwrap();
    (1.0 - (scores[gold] - best_other)).max(0.0).powi(2)
}

#[test]
fn max_margin_total_cmp() {
    let s = vec![0.2, 1.4, 0.9, 1.1];
    let (v, g) = max_margin_grad(&s, 2);
    close("value", v, max_margin(&s, 2), TOL);
    // h = 1 − (s₂ − s₁) = 1.5: ∂s₁ = 2h, ∂s₂ = −2h
    assert_eq!(g, vec![0.0, 3.0, -3.0, 0.0]);
    fd_vec("∂s", |q| max_margin(q, 2), &s, &g);
}

// ---------------------------------------------------------------------------------------------
// A fifth round: in-place grids, triple zips, closures that change what they capture.
// ---------------------------------------------------------------------------------------------

/// Steady heat on a plate by Gauss–Seidel sweeps over a grid updated in place; the boundary
/// temperatures are the parameters, the mean interior temperature the result.
#[differentiate]
fn gauss_seidel_heat(top: f64, left: f64, source: f64) -> f64 {
    let n = 6;
    let mut t = vec![vec![0.0; n]; n];
    for j in 0..n {
        t[0][j] = top;
    }
    for i in 1..n {
        t[i][0] = left;
    }
    for _ in 0..30 {
        for i in 1..n - 1 {
            for j in 1..n - 1 {
                t[i][j] = 0.25 * (t[i - 1][j] + t[i + 1][j] + t[i][j - 1] + t[i][j + 1] + source);
            }
        }
    }
    let mut sum = 0.0;
    for i in 1..n - 1 {
        for j in 1..n - 1 {
            sum += t[i][j];
        }
    }
    sum / ((n - 2) * (n - 2)) as f64
}

#[test]
fn gauss_seidel_in_place() {
    let (v, g) = gauss_seidel_heat_grad(1.0, 0.5, 0.1);
    close("value", v, gauss_seidel_heat(1.0, 0.5, 0.1), TOL);
    // linear in (top, left, source): the gradient reproduces the value
    close("Euler", g.0 + 0.5 * g.1 + 0.1 * g.2, v, 1e-12);
    fd3("gauss_seidel_heat", gauss_seidel_heat, (1.0, 0.5, 0.1), g);
}

/// Net portfolio return with proportional transaction costs: weights, returns and costs
/// walked by a triple `zip`.
#[differentiate]
fn net_return(w: &[f64], w_prev: &[f64], r: &[f64], cost: f64) -> f64 {
    w.iter()
        .zip(w_prev.iter())
        .zip(r.iter())
        .map(|((wi, pi), ri)| wi * ri - cost * ((wi - pi) * (wi - pi) + 1e-8).sqrt())
        .sum()
}

#[test]
fn triple_zip_costs() {
    let w = vec![0.4, 0.35, 0.25];
    let p = vec![0.3, 0.4, 0.3];
    let r = vec![0.02, -0.01, 0.015];
    let (v, (gw, gp, gr, gc)) = net_return_grad(&w, &p, &r, 0.001);
    close("value", v, net_return(&w, &p, &r, 0.001), TOL);
    for i in 0..3 {
        let d = w[i] - p[i];
        let s = (d * d + 1e-8).sqrt();
        close("∂w", gw[i], r[i] - 0.001 * d / s, TOL);
        close("∂w_prev", gp[i], 0.001 * d / s, TOL);
        close("∂r", gr[i], w[i], TOL);
    }
    fd("∂cost", |c| net_return(&w, &p, &r, c), 0.001, gc);
}

/// Welford's online mean and variance through a closure that changes its captured state,
/// called once per observation, then a z-score of the last point.
#[differentiate]
fn welford_z(xs: &[f64]) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    let mut update = |x: f64| {
        n += 1.0;
        let d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
    };
    for &x in &xs[..xs.len() - 1] {
        update(x);
    }
    let var = m2 / (n - 1.0);
    (xs[xs.len() - 1] - mean) / var.sqrt()
}

#[test]
fn welford_closure_state() {
    let xs = data(10, 0.15);
    let (v, g) = welford_z_grad(&xs);
    close("value", v, welford_z(&xs), TOL);
    // ∂last = 1/sd of the others
    let m = xs[..9].iter().sum::<f64>() / 9.0;
    let var = xs[..9].iter().map(|x| (x - m).powi(2)).sum::<f64>() / 8.0;
    close("∂last", g[9], 1.0 / var.sqrt(), 1e-12);
    close("Σ∂", g.iter().sum::<f64>(), 0.0, 1e-10);
    fd_vec("∂x", welford_z, &xs, &g);
}

/// Softmax written in place with `iter_mut().for_each`, then an expected value with a
/// `for_each` that adds into a captured total.
#[differentiate]
fn inplace_softmax_expectation(logits: &[f64], values: &[f64]) -> f64 {
    let mut p = logits.to_vec();
    let m = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    p.iter_mut().for_each(|e| *e = (*e - m).exp());
    let z: f64 = p.iter().sum();
    p.iter_mut().for_each(|e| *e /= z);
    let mut total = 0.0;
    p.iter().zip(values).for_each(|(pi, vi)| total += pi * vi);
    total
}

#[test]
fn inplace_softmax_for_each() {
    let z = vec![0.5, -0.3, 1.2, 0.1];
    let vals = vec![1.0, 4.0, -2.0, 0.5];
    let (v, (gz, gv)) = inplace_softmax_expectation_grad(&z, &vals);
    close("value", v, inplace_softmax_expectation(&z, &vals), TOL);
    // ∂zᵢ = pᵢ(vᵢ − E), ∂vᵢ = pᵢ
    let s: f64 = z.iter().map(|x| x.exp()).sum();
    for i in 0..4 {
        let p = z[i].exp() / s;
        close("∂z", gz[i], p * (vals[i] - v), 1e-12);
        close("∂v", gv[i], p, 1e-12);
    }
}

/// The first sphere a ray hits among several, with a `return` from a `match` statement inside
/// the loop; the sky's constant when none is hit.
#[differentiate]
fn first_hit(oy: f64, radii: &[f64], centers_z: &[f64]) -> f64 {
    for (r, cz) in radii.iter().zip(centers_z) {
        // ray from (0, oy, 0) along +z; sphere at (0, 0, cz)
        let disc = r * r - oy * oy;
        match disc > 0.0 {
            true => {
                return cz - disc.sqrt();
            }
            false => {}
        }
    }
    100.0
}

#[test]
fn first_hit_return_from_match() {
    let radii = vec![0.3, 0.8, 1.5];
    let cz = vec![2.0, 4.0, 6.0];
    let (v, (go, gr, gc)) = first_hit_grad(0.5, &radii, &cz);
    close("value", v, first_hit(0.5, &radii, &cz), TOL);
    // the second sphere: t = cz − √(r² − oy²)
    let d = (0.64f64 - 0.25).sqrt();
    close("t", v, 4.0 - d, TOL);
    close("∂oy", go, 0.5 / d, TOL);
    close_all("∂radii", &gr, &[0.0, -0.8 / d, 0.0]);
    assert_eq!(gc, vec![0.0, 1.0, 0.0]);
}
