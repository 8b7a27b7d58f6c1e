//! Programs as Rust engineers write them in physics, finance, robotics, graphics, machine-learning
//! losses, signal processing, optimisation, statistics, ODE solvers and dynamic programming over
//! floats: springs, orbits and rigid bodies with structs and `impl` blocks; option pricing,
//! portfolio variance and yield curves; forward kinematics through chains of transforms;
//! ray/sphere intersections, barycentric coordinates and smooth minima; focal, triplet,
//! contrastive, Huber and quantile losses, label smoothing and a CTC-like forward pass; biquad
//! filters and the Goertzel algorithm; Adam and a backtracking line search inside an objective;
//! a Kalman filter and an HMM forward pass with log-sum-exp; RK4 generic over `T: Float`;
//! soft-DTW and a soft Needleman–Wunsch alignment.
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
    clippy::redundant_guards
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis, s};
use num_traits::Float;
use std::f64::consts::PI;

mod common;
use common::*;

/// A gradient with respect to three scalars against central finite differences.
#[track_caller]
fn fd3(what: &str, f: impl Fn(f64, f64, f64) -> f64, p: (f64, f64, f64), g: (f64, f64, f64)) {
    let r = gradcheck(|q: &(f64, f64, f64)| f(q.0, q.1, q.2), &p, &g);
    assert!(r.passed(), "{what} at {p:?}: {r}");
}

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
