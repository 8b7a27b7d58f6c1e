//! Objectives that scientists and engineers fit, written in idiomatic Rust: ODE integrators
//! (RK4, Euler, leapfrog) stepped over time with the loss on the final state, shooting for an
//! optimal control, molecular potentials with cutoffs, option pricing with a hand-written
//! normal CDF, maximum likelihood with a hand-written `ln_gamma`, filters and denoising
//! objectives, arm kinematics, reprojection and fitting of shapes, interpolation by search
//! loops, and an epidemic stepped in a loop — closures kept in locals and passed to helpers,
//! generic `F: Float` helpers, `const` tables, structs with methods and early returns.
//!
//! Each gradient is checked against its analytic form (stated beside the test; for the
//! integrators, the tangent-linear recursion computed in the test with dual numbers) and
//! against central finite differences through `autodiff::check`; each value against the plain
//! function's. Where `hessian` applies, `_hvp` is checked against central differences of the
//! gradient and `_jvp` against directional differences and the pullback.

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
use std::ops::{Add, Div, Mul, Neg, Sub};

mod common;
use common::*;

/// `H·v` of a function of a `Vec<f64>` against central differences of its gradient along `v`:
/// `(∇f(x + hv) − ∇f(x − hv)) / 2h`, each entry to a relative tolerance of `1e-6`.
#[track_caller]
fn hvp_against_fd(what: &str, grad: impl Fn(&[f64]) -> Vec<f64>, x: &[f64], v: &[f64], hv: &[f64]) {
    let h = 1e-5;
    let xp: Vec<f64> = x.iter().zip(v).map(|(a, b)| a + h * b).collect();
    let xm: Vec<f64> = x.iter().zip(v).map(|(a, b)| a - h * b).collect();
    let (gp, gm) = (grad(&xp), grad(&xm));
    for i in 0..x.len() {
        let e = (gp[i] - gm[i]) / (2.0 * h);
        close(&format!("{what}: (H·v)[{i}]"), hv[i], e, 1e-6);
    }
}

/// A gradient of any differentiable value against central finite differences.
#[track_caller]
fn fd_any<P: Differentiable<Scalar = f64>>(what: &str, f: impl Fn(&P) -> f64, p: &P, g: &P) {
    let r = gradcheck(|q: &P| f(q), p, g);
    assert!(r.passed(), "{what}: {r}");
}

// ---------------------------------------------------------------------------------------------
// Dual numbers for the analytic checks of the integrators: the tangent-linear recursion of a
// stepped simulation, exact up to rounding, computed independently of the macro.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Dual {
    v: f64,
    d: f64,
}

fn dc(v: f64) -> Dual {
    Dual { v, d: 0.0 }
}

fn dv(v: f64) -> Dual {
    Dual { v, d: 1.0 }
}

impl Add for Dual {
    type Output = Dual;
    fn add(self, o: Dual) -> Dual {
        Dual { v: self.v + o.v, d: self.d + o.d }
    }
}
impl Sub for Dual {
    type Output = Dual;
    fn sub(self, o: Dual) -> Dual {
        Dual { v: self.v - o.v, d: self.d - o.d }
    }
}
impl Mul for Dual {
    type Output = Dual;
    fn mul(self, o: Dual) -> Dual {
        Dual { v: self.v * o.v, d: self.d * o.v + self.v * o.d }
    }
}
impl Div for Dual {
    type Output = Dual;
    fn div(self, o: Dual) -> Dual {
        Dual { v: self.v / o.v, d: (self.d * o.v - self.v * o.d) / (o.v * o.v) }
    }
}
impl Neg for Dual {
    type Output = Dual;
    fn neg(self) -> Dual {
        Dual { v: -self.v, d: -self.d }
    }
}
impl Add<f64> for Dual {
    type Output = Dual;
    fn add(self, o: f64) -> Dual {
        self + dc(o)
    }
}
impl Sub<f64> for Dual {
    type Output = Dual;
    fn sub(self, o: f64) -> Dual {
        self - dc(o)
    }
}
impl Mul<f64> for Dual {
    type Output = Dual;
    fn mul(self, o: f64) -> Dual {
        Dual { v: self.v * o, d: self.d * o }
    }
}
impl Div<f64> for Dual {
    type Output = Dual;
    fn div(self, o: f64) -> Dual {
        Dual { v: self.v / o, d: self.d / o }
    }
}
impl Mul<Dual> for f64 {
    type Output = Dual;
    fn mul(self, o: Dual) -> Dual {
        o * self
    }
}
impl Add<Dual> for f64 {
    type Output = Dual;
    fn add(self, o: Dual) -> Dual {
        o + self
    }
}
impl Sub<Dual> for f64 {
    type Output = Dual;
    fn sub(self, o: Dual) -> Dual {
        dc(self) - o
    }
}
impl Dual {
    fn sin(self) -> Dual {
        Dual { v: self.v.sin(), d: self.d * self.v.cos() }
    }
    fn cos(self) -> Dual {
        Dual { v: self.v.cos(), d: -self.d * self.v.sin() }
    }
    fn exp(self) -> Dual {
        Dual { v: self.v.exp(), d: self.d * self.v.exp() }
    }
    fn ln(self) -> Dual {
        Dual { v: self.v.ln(), d: self.d / self.v }
    }
    fn sqrt(self) -> Dual {
        Dual { v: self.v.sqrt(), d: self.d * 0.5 / self.v.sqrt() }
    }
    fn sq(self) -> Dual {
        self * self
    }
}

// ---------------------------------------------------------------------------------------------
// ODEs: a damped pendulum by RK4 with its right-hand side a closure in a local.
// ---------------------------------------------------------------------------------------------

/// A damped pendulum θ'' = −(g/L) sin θ − c θ' stepped by classical RK4, its right-hand side a
/// closure kept in a local; the loss is the miss of the final angle plus the final speed.
#[differentiate(hessian, wrt(theta0, damping))]
fn pendulum_miss(theta0: f64, damping: f64, g_over_l: f64, h: f64, steps: usize, target: f64) -> f64 {
    let rhs = |th: f64, om: f64| (om, -g_over_l * th.sin() - damping * om);
    let (mut th, mut om) = (theta0, 0.0);
    for _ in 0..steps {
        let (k1a, k1b) = rhs(th, om);
        let (k2a, k2b) = rhs(th + 0.5 * h * k1a, om + 0.5 * h * k1b);
        let (k3a, k3b) = rhs(th + 0.5 * h * k2a, om + 0.5 * h * k2b);
        let (k4a, k4b) = rhs(th + h * k3a, om + h * k3b);
        th += h / 6.0 * (k1a + 2.0 * k2a + 2.0 * k3a + k4a);
        om += h / 6.0 * (k1b + 2.0 * k2b + 2.0 * k3b + k4b);
    }
    (th - target).powi(2) + 0.1 * om * om
}

/// The same simulation on dual numbers: the loss and its derivative along the seeded inputs.
fn pendulum_dual(theta0: Dual, damping: Dual, gl: f64, h: f64, steps: usize, target: f64) -> Dual {
    let rhs = |th: Dual, om: Dual| (om, -(gl * th.sin()) - damping * om);
    let (mut th, mut om) = (theta0, dc(0.0));
    for _ in 0..steps {
        let (k1a, k1b) = rhs(th, om);
        let (k2a, k2b) = rhs(th + 0.5 * h * k1a, om + 0.5 * h * k1b);
        let (k3a, k3b) = rhs(th + 0.5 * h * k2a, om + 0.5 * h * k2b);
        let (k4a, k4b) = rhs(th + h * k3a, om + h * k3b);
        th = th + h / 6.0 * (k1a + 2.0 * k2a + 2.0 * k3a + k4a);
        om = om + h / 6.0 * (k1b + 2.0 * k2b + 2.0 * k3b + k4b);
    }
    (th - target).sq() + 0.1 * om * om
}

#[test]
fn damped_pendulum_by_rk4_with_closure_rhs() {
    let (th0, c, gl, h, n, target) = (1.1, 0.3, 9.81, 0.02, 80, 0.2);
    let (v, (g0, gc)) = pendulum_miss_grad(th0, c, gl, h, n, target);
    close("value", v, pendulum_miss(th0, c, gl, h, n, target), TOL);
    // ∂/∂θ₀ and ∂/∂c: the tangent-linear RK4 recursion (dual numbers)
    close("∂θ₀", g0, pendulum_dual(dv(th0), dc(c), gl, h, n, target).d, 1e-11);
    close("∂c", gc, pendulum_dual(dc(th0), dv(c), gl, h, n, target).d, 1e-11);
    fd2(
        "pendulum",
        |a, b| pendulum_miss(a, b, gl, h, n, target),
        (th0, c),
        (g0, gc),
    );
    let (_, g2, (h0, h1)) = pendulum_miss_hvp(th0, c, gl, h, n, target, 1.0, 0.0);
    close2("hvp gradient", g2, (g0, gc));
    let e = 1e-5;
    let gp = pendulum_miss_grad(th0 + e, c, gl, h, n, target).1;
    let gm = pendulum_miss_grad(th0 - e, c, gl, h, n, target).1;
    close("H₀₀", h0, (gp.0 - gm.0) / (2.0 * e), 1e-6);
    close("H₁₀", h1, (gp.1 - gm.1) / (2.0 * e), 1e-6);
    let t = forward("pendulum").two(
        (th0, c),
        |a, b| pendulum_miss(a, b, gl, h, n, target),
        |a, b, da, db| pendulum_miss_jvp(a, b, gl, h, n, target, da, db),
        |a, b| pendulum_miss_vjp(a, b, gl, h, n, target),
    );
    tangents_are2("pendulum", &t, (g0, gc), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Lotka–Volterra fitted by forward Euler, its right-hand side a generic helper over arrays.
// ---------------------------------------------------------------------------------------------

/// The predator–prey field: prey x' = αx − βxy, predators y' = δxy − γy.
#[differentiate]
fn lv_rhs<F: Float>(s: [F; 2], p: &[F; 4]) -> [F; 2] {
    let [x, y] = s;
    [p[0] * x - p[1] * x * y, p[2] * x * y - p[3] * y]
}

/// Mean squared misfit of Euler-stepped populations to observations taken every `sub` steps.
#[differentiate(wrt(p))]
fn lv_misfit(p: &[f64; 4], s0: [f64; 2], obs: &[[f64; 2]], h: f64, sub: usize) -> f64 {
    let mut s = s0;
    let mut loss = 0.0;
    for o in obs {
        for _ in 0..sub {
            let d = lv_rhs(s, p);
            s = [s[0] + h * d[0], s[1] + h * d[1]];
        }
        loss += (s[0] - o[0]).powi(2) + (s[1] - o[1]).powi(2);
    }
    loss / obs.len() as f64
}

fn lv_dual(p: [Dual; 4], s0: [f64; 2], obs: &[[f64; 2]], h: f64, sub: usize) -> Dual {
    let (mut x, mut y) = (dc(s0[0]), dc(s0[1]));
    let mut loss = dc(0.0);
    for o in obs {
        for _ in 0..sub {
            let dx = p[0] * x - p[1] * x * y;
            let dy = p[2] * x * y - p[3] * y;
            x = x + h * dx;
            y = y + h * dy;
        }
        loss = loss + (x - o[0]).sq() + (y - o[1]).sq();
    }
    loss / obs.len() as f64
}

#[test]
fn lotka_volterra_fit_by_euler_with_generic_rhs() {
    let p = [1.1, 0.4, 0.1, 0.4];
    let s0 = [10.0, 5.0];
    let obs = [[9.0, 6.5], [7.5, 7.0], [6.0, 6.8], [5.5, 6.0], [5.8, 5.1]];
    let (v, g) = lv_misfit_grad(&p, s0, &obs, 0.01, 20);
    close("value", v, lv_misfit(&p, s0, &obs, 0.01, 20), TOL);
    // ∂pₖ: the tangent-linear Euler recursion seeded at pₖ (dual numbers)
    for k in 0..4 {
        let pd: [Dual; 4] = std::array::from_fn(|i| if i == k { dv(p[i]) } else { dc(p[i]) });
        close(&format!("∂p{k}"), g[k], lv_dual(pd, s0, &obs, 0.01, 20).d, 1e-11);
    }
    fd_any("lotka-volterra", |p: &[f64; 4]| lv_misfit(p, s0, &obs, 0.01, 20), &p, &g);
}

// ---------------------------------------------------------------------------------------------
// A chain of masses on springs, integrated by velocity Verlet (leapfrog).
// ---------------------------------------------------------------------------------------------

/// Spring forces on a chain fixed at its left end: the tensions are `windows(2)` of the
/// positions (with the wall at 0 in front), each mass pulled by the spring on either side.
#[differentiate]
fn chain_forces(x: &[f64], k: f64, rest: f64) -> Vec<f64> {
    let tensions: Vec<f64> = std::iter::once(0.0)
        .chain(x.iter().copied())
        .collect::<Vec<f64>>()
        .windows(2)
        .map(|w| k * (w[1] - w[0] - rest))
        .collect();
    (0..x.len())
        .map(|i| {
            let right = if i + 1 < x.len() { tensions[i + 1] } else { 0.0 };
            right - tensions[i]
        })
        .collect()
}

/// The squared miss of the last mass's final position, after leapfrog steps from rest.
#[differentiate(wrt(x0, k))]
fn chain_end_miss(x0: &[f64], k: f64, mass: f64, rest: f64, h: f64, steps: usize, target: f64) -> f64 {
    let mut x = x0.to_vec();
    let mut v = vec![0.0; x.len()];
    let mut f = chain_forces(&x, k, rest);
    for _ in 0..steps {
        for (vi, fi) in v.iter_mut().zip(&f) {
            *vi += 0.5 * h * fi / mass;
        }
        for (xi, vi) in x.iter_mut().zip(&v) {
            *xi += h * vi;
        }
        f = chain_forces(&x, k, rest);
        for (vi, fi) in v.iter_mut().zip(&f) {
            *vi += 0.5 * h * fi / mass;
        }
    }
    let last = x[x.len() - 1];
    (last - target).powi(2)
}

fn chain_dual(x0: &[Dual], k: Dual, mass: f64, rest: f64, h: f64, steps: usize, target: f64) -> Dual {
    let n = x0.len();
    let forces = |x: &[Dual]| -> Vec<Dual> {
        let t: Vec<Dual> = (0..n)
            .map(|i| k * (x[i] - if i == 0 { dc(0.0) } else { x[i - 1] } - rest))
            .collect();
        (0..n)
            .map(|i| if i + 1 < n { t[i + 1] } else { dc(0.0) } - t[i])
            .collect()
    };
    let mut x = x0.to_vec();
    let mut v = vec![dc(0.0); n];
    let mut f = forces(&x);
    for _ in 0..steps {
        for i in 0..n {
            v[i] = v[i] + 0.5 * h * f[i] / mass;
            x[i] = x[i] + h * v[i];
        }
        f = forces(&x);
        for i in 0..n {
            v[i] = v[i] + 0.5 * h * f[i] / mass;
        }
    }
    (x[n - 1] - target).sq()
}

#[test]
fn spring_chain_by_leapfrog_with_forces_from_windows() {
    let x0 = vec![1.1, 1.9, 3.2, 3.9];
    let (k, m, rest, h, n, target) = (4.0, 0.5, 1.0, 0.01, 150, 4.3);
    let (v, (gx, gk)) = chain_end_miss_grad(&x0, k, m, rest, h, n, target);
    close("value", v, chain_end_miss(&x0, k, m, rest, h, n, target), TOL);
    // each partial by the tangent-linear Verlet recursion (dual numbers)
    for j in 0..4 {
        let xd: Vec<Dual> = (0..4).map(|i| if i == j { dv(x0[i]) } else { dc(x0[i]) }).collect();
        close(&format!("∂x{j}"), gx[j], chain_dual(&xd, dc(k), m, rest, h, n, target).d, 1e-10);
    }
    let xd: Vec<Dual> = x0.iter().map(|&x| dc(x)).collect();
    close("∂k", gk, chain_dual(&xd, dv(k), m, rest, h, n, target).d, 1e-10);
    fd_any(
        "chain",
        |p: &(Vec<f64>, f64)| chain_end_miss(&p.0, p.1, m, rest, h, n, target),
        &(x0.clone(), k),
        &(gx.clone(), gk),
    );
}

// ---------------------------------------------------------------------------------------------
// Shooting: a double integrator driven to rest at x = 1, controls folded over.
// ---------------------------------------------------------------------------------------------

/// Control effort plus a terminal penalty for a double integrator x'' = u stepped by
/// symplectic Euler, the state and the running cost carried by a `fold` over the controls.
#[differentiate(hessian, wrt(u))]
fn shooting_cost(u: &[f64], h: f64, w: f64) -> f64 {
    let (x, v, effort) = u.iter().fold((0.0, 0.0, 0.0), |(x, v, e), &uk| {
        let v = v + h * uk;
        (x + h * v, v, e + h * uk * uk)
    });
    effort + w * ((x - 1.0).powi(2) + v * v)
}

#[test]
fn shooting_double_integrator_by_fold_over_controls() {
    let u: Vec<f64> = data(12, 0.4);
    let (h, w) = (0.1, 50.0);
    let n = u.len();
    let (val, g) = shooting_cost_grad(&u, h, w);
    close("value", val, shooting_cost(&u, h, w), TOL);
    // v_N = h Σuₖ, x_N = h² Σ uₖ (N − k); ∂uₖ = 2h uₖ + 2w(x_N − 1) h²(N − k) + 2w v_N h;
    // H = 2h I + 2w h⁴ (N − k)(N − j) + 2w h²
    let vn: f64 = h * u.iter().sum::<f64>();
    let xn: f64 = h * h * u.iter().enumerate().map(|(k, uk)| uk * (n - k) as f64).sum::<f64>();
    let e: Vec<f64> = (0..n)
        .map(|k| 2.0 * h * u[k] + 2.0 * w * (xn - 1.0) * h * h * (n - k) as f64 + 2.0 * w * vn * h)
        .collect();
    close_all("∂u", &g, &e);
    fd_vec("shooting", |u| shooting_cost(u, h, w), &u, &g);
    let dir = data(12, 2.0);
    let (_, _, hv) = shooting_cost_hvp(&u, h, w, &dir);
    let eh: Vec<f64> = (0..n)
        .map(|k| {
            2.0 * h * dir[k]
                + (0..n)
                    .map(|j| {
                        (2.0 * w * h.powi(4) * ((n - k) * (n - j)) as f64 + 2.0 * w * h * h)
                            * dir[j]
                    })
                    .sum::<f64>()
        })
        .collect();
    for k in 0..n {
        close(&format!("H·v[{k}]"), hv[k], eh[k], 1e-11);
    }
}

// ---------------------------------------------------------------------------------------------
// Epidemiology: an SIR model stepped daily, compared with weekly case counts.
// ---------------------------------------------------------------------------------------------

/// Squared log-misfit of the infected fraction at each week's end, the weeks read by
/// `obs.get(..)` with `let .. else` leaving the loop when the observations run out.
#[differentiate(wrt(beta, gamma))]
fn sir_weekly_misfit(beta: f64, gamma: f64, i0: f64, obs: &[f64], days: usize) -> f64 {
    let (mut s, mut i) = (1.0 - i0, i0);
    let mut loss = 0.0;
    for day in 1..=days {
        let new_inf = beta * s * i;
        let rec = gamma * i;
        s -= new_inf;
        i += new_inf - rec;
        if day % 7 != 0 {
            continue;
        }
        let Some(&o) = obs.get(day / 7 - 1) else {
            break;
        };
        loss += (i.ln() - o.ln()).powi(2);
    }
    loss
}

fn sir_dual(beta: Dual, gamma: Dual, i0: f64, obs: &[f64], days: usize) -> Dual {
    let (mut s, mut i) = (dc(1.0 - i0), dc(i0));
    let mut loss = dc(0.0);
    for day in 1..=days {
        let new_inf = beta * s * i;
        let rec = gamma * i;
        s = s - new_inf;
        i = i + new_inf - rec;
        if day % 7 == 0 && day / 7 <= obs.len() {
            loss = loss + (i.ln() - obs[day / 7 - 1].ln()).sq();
        }
    }
    loss
}

#[test]
fn sir_model_stepped_daily_against_weekly_counts() {
    let obs = [0.004, 0.012, 0.03, 0.05, 0.06];
    let (b, gm, i0, days) = (0.35, 0.15, 0.001, 60);
    let (v, (gb, gg)) = sir_weekly_misfit_grad(b, gm, i0, &obs, days);
    close("value", v, sir_weekly_misfit(b, gm, i0, &obs, days), TOL);
    // ∂β, ∂γ: the tangent-linear SIR recursion (dual numbers); weeks past the data add nothing
    close("∂β", gb, sir_dual(dv(b), dc(gm), i0, &obs, days).d, 1e-11);
    close("∂γ", gg, sir_dual(dc(b), dv(gm), i0, &obs, days).d, 1e-11);
    fd2(
        "sir",
        |b, g| sir_weekly_misfit(b, g, i0, &obs, days),
        (b, gm),
        (gb, gg),
    );
}

// ---------------------------------------------------------------------------------------------
// Inverse heat conduction: the initial temperature recovered with Tikhonov smoothing.
// ---------------------------------------------------------------------------------------------

/// One explicit step of u_t = u_xx on a rod held at 0 at both ends.
fn heat_step(u: &[f64], r: f64) -> Vec<f64> {
    let n = u.len();
    (0..n)
        .map(|i| {
            let l = if i == 0 { 0.0 } else { u[i - 1] };
            let rr = if i + 1 == n { 0.0 } else { u[i + 1] };
            u[i] + r * (l - 2.0 * u[i] + rr)
        })
        .collect()
}

/// ½‖u_T − measured‖² + ½λ Σ (u₀[i+1] − u₀[i])²: the explicit steps are a `map` over the
/// positions collected into the next state; the smoothing term is `windows(2)` of u₀.
#[differentiate(hessian, wrt(u0))]
fn heat_inverse(u0: &[f64], measured: &[f64], r: f64, steps: usize, lam: f64) -> f64 {
    let n = u0.len();
    let mut u = u0.to_vec();
    for _ in 0..steps {
        let next: Vec<f64> = (0..n)
            .map(|i| {
                let l = if i == 0 { 0.0 } else { u[i - 1] };
                let rr = if i + 1 == n { 0.0 } else { u[i + 1] };
                u[i] + r * (l - 2.0 * u[i] + rr)
            })
            .collect();
        u = next;
    }
    let misfit: f64 = u.iter().zip(measured).map(|(a, b)| (a - b).powi(2)).sum();
    let rough: f64 = u0.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum();
    0.5 * misfit + 0.5 * lam * rough
}

/// Dᵀ D v for the first-difference operator D.
fn dtd(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    (0..n)
        .map(|i| {
            let mut s = 0.0;
            if i > 0 {
                s += v[i] - v[i - 1];
            }
            if i + 1 < n {
                s -= v[i + 1] - v[i];
            }
            s
        })
        .collect()
}

#[test]
fn inverse_heat_equation_with_tikhonov_smoothing() {
    let u0 = data(9, 0.2).iter().map(|v| v + 1.0).collect::<Vec<_>>();
    let measured = data(9, 5.0).iter().map(|v| 0.3 * v + 0.2).collect::<Vec<_>>();
    let (r, steps, lam) = (0.3, 6, 0.05);
    let (v, g) = heat_inverse_grad(&u0, &measured, r, steps, lam);
    close("value", v, heat_inverse(&u0, &measured, r, steps, lam), TOL);
    // the step matrix S is symmetric, so ∇ = Sᴺ(Sᴺu₀ − m) + λDᵀDu₀ and H·v = S²ᴺv + λDᵀDv
    let pow = |mut u: Vec<f64>| {
        for _ in 0..steps {
            u = heat_step(&u, r);
        }
        u
    };
    let res: Vec<f64> = pow(u0.clone()).iter().zip(&measured).map(|(a, b)| a - b).collect();
    let e: Vec<f64> = pow(res).iter().zip(dtd(&u0)).map(|(a, b)| a + lam * b).collect();
    close_all("∂u₀", &g, &e);
    fd_vec("heat", |u| heat_inverse(u, &measured, r, steps, lam), &u0, &g);
    let dir = data(9, 7.0);
    let (_, _, hv) = heat_inverse_hvp(&u0, &measured, r, steps, lam, &dir);
    let eh: Vec<f64> = pow(pow(dir.clone())).iter().zip(dtd(&dir)).map(|(a, b)| a + lam * b).collect();
    close_all("H·v", &hv, &eh);
}

// ---------------------------------------------------------------------------------------------
// Molecular potentials: Lennard-Jones with a cutoff, Morse bonds from a `const` table,
// Coulomb in a struct with a cutoff.
// ---------------------------------------------------------------------------------------------

const RC: f64 = 2.5;

/// Truncated and shifted Lennard-Jones energy 4[(1/r²)⁶ − (1/r²)³] − E(r_c) over the pairs
/// closer than `RC` (σ = ε = 1), pairs skipped by `continue`.
#[differentiate(hessian)]
fn lj_energy(pos: &[[f64; 3]]) -> f64 {
    let shift = {
        let s6 = (1.0 / (RC * RC)).powi(3);
        4.0 * (s6 * s6 - s6)
    };
    let mut e = 0.0;
    for (i, a) in pos.iter().enumerate() {
        for b in &pos[i + 1..] {
            let r2: f64 = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum();
            if r2 > RC * RC {
                continue;
            }
            let s6 = (1.0 / r2).powi(3);
            e += 4.0 * (s6 * s6 - s6) - shift;
        }
    }
    e
}

#[test]
fn lennard_jones_cluster_with_cutoff() {
    let pos = vec![
        [0.0, 0.0, 0.0],
        [1.12, 0.05, -0.02],
        [0.5, 1.0, 0.1],
        [0.4, 0.3, 1.05],
        [3.2, 0.2, 0.1],
    ];
    let (v, g) = lj_energy_grad(&pos);
    close("value", v, lj_energy(&pos), TOL);
    // ∂E/∂aₖ = Σ_{b: r<rc} dU/d(r²)·2(aₖ − bₖ), dU/d(r²) = 4(−6 r⁻¹⁴ + 3 r⁻⁸)
    let mut e = vec![[0.0; 3]; pos.len()];
    for i in 0..pos.len() {
        for j in 0..pos.len() {
            if i == j {
                continue;
            }
            let r2: f64 = (0..3).map(|k| (pos[i][k] - pos[j][k]).powi(2)).sum();
            if r2 > RC * RC {
                continue;
            }
            let du = 4.0 * (-6.0 * r2.powi(-7) + 3.0 * r2.powi(-4));
            for k in 0..3 {
                e[i][k] += du * 2.0 * (pos[i][k] - pos[j][k]);
            }
        }
    }
    for i in 0..pos.len() {
        close_all(&format!("∂pos{i}"), &g[i], &e[i]);
    }
    fd_any("lj", |p: &Vec<[f64; 3]>| lj_energy(p), &pos, &g);
    let dir: Vec<[f64; 3]> = (0..5).map(|i| [0.3 * i as f64, -0.2, 0.1 + 0.05 * i as f64]).collect();
    let (_, _, hv) = lj_energy_hvp(&pos, &dir);
    let flat = |p: &[[f64; 3]]| p.iter().flatten().copied().collect::<Vec<f64>>();
    let unflat = |x: &[f64]| x.chunks(3).map(|c| [c[0], c[1], c[2]]).collect::<Vec<[f64; 3]>>();
    hvp_against_fd(
        "lj",
        |x| flat(&lj_energy_grad(&unflat(x)).1),
        &flat(&pos),
        &flat(&dir),
        &flat(&hv),
    );
}

/// Bonds of a bent triatomic and its neighbours: (atom, atom, equilibrium length).
const BONDS: [(usize, usize, f64); 4] = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.2), (0, 3, 1.6)];

/// Σ D(1 − e^{−a(r − r₀)})² over the bonds of a `const` table, each read by a tuple pattern.
#[differentiate(wrt(xy, a))]
fn morse_energy(xy: &[[f64; 2]], d: f64, a: f64) -> f64 {
    BONDS
        .iter()
        .map(|&(i, j, r0)| {
            let r = (xy[i][0] - xy[j][0]).hypot(xy[i][1] - xy[j][1]);
            let m = 1.0 - (-a * (r - r0)).exp();
            d * m * m
        })
        .sum()
}

#[test]
fn morse_bonds_from_a_const_table() {
    let xy = vec![[0.0, 0.0], [1.1, 0.1], [1.6, 0.9], [0.3, 1.5]];
    let (d, a) = (2.0, 1.3);
    let (v, (gxy, ga)) = morse_energy_grad(&xy, d, a);
    close("value", v, morse_energy(&xy, d, a), TOL);
    // per bond: ∂/∂r = 2Da·m·e^{−a(r−r₀)}, ∂/∂a = 2D·m·(r − r₀)e^{−a(r−r₀)}, ∂r/∂pᵢ = (pᵢ − pⱼ)/r
    let mut ex = vec![[0.0; 2]; 4];
    let mut ea = 0.0;
    for &(i, j, r0) in &BONDS {
        let r = (xy[i][0] - xy[j][0]).hypot(xy[i][1] - xy[j][1]);
        let x = (-a * (r - r0)).exp();
        let m = 1.0 - x;
        let dr = 2.0 * d * a * m * x;
        ea += 2.0 * d * m * (r - r0) * x;
        for k in 0..2 {
            ex[i][k] += dr * (xy[i][k] - xy[j][k]) / r;
            ex[j][k] -= dr * (xy[i][k] - xy[j][k]) / r;
        }
    }
    for i in 0..4 {
        close_all(&format!("∂xy{i}"), &gxy[i], &ex[i]);
    }
    close("∂a", ga, ea, TOL);
    fd_any(
        "morse",
        |p: &(Vec<[f64; 2]>, f64)| morse_energy(&p.0, d, p.1),
        &(xy.clone(), a),
        &(gxy.clone(), ga),
    );
}

/// Point charges in the plane, with a cutoff past which pairs do not interact.
struct Charges {
    q: Vec<f64>,
    cutoff: f64,
}

#[differentiate]
impl Charges {
    /// Shifted Coulomb energy Σ qᵢqⱼ(1/r − 1/r_c) over pairs within the cutoff.
    #[differentiate(wrt(pos))]
    fn energy(&self, pos: &[[f64; 2]]) -> f64 {
        let mut e = 0.0;
        for i in 0..pos.len() {
            for j in i + 1..pos.len() {
                let r = self.dist(pos[i], pos[j]);
                if r < self.cutoff {
                    e += self.q[i] * self.q[j] * (1.0 / r - 1.0 / self.cutoff);
                }
            }
        }
        e
    }

    #[differentiate(wrt(a, b))]
    fn dist(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }
}

#[test]
fn coulomb_energy_with_cutoff_in_a_struct_method() {
    let sys = Charges {
        q: vec![1.0, -1.0, 0.5, -0.5, 1.0],
        cutoff: 2.0,
    };
    let pos = vec![[0.0, 0.0], [0.9, 0.2], [0.4, 1.1], [2.5, 2.6], [1.5, 0.3]];
    let (v, g) = sys.energy_grad(&pos);
    close("value", v, sys.energy(&pos), TOL);
    // ∂/∂pᵢ = −Σ_{j: r<rc} qᵢqⱼ (pᵢ − pⱼ)/r³
    for i in 0..5 {
        let mut e = [0.0; 2];
        for j in 0..5 {
            let r = sys.dist(pos[i], pos[j]);
            if i != j && r < sys.cutoff {
                for k in 0..2 {
                    e[k] -= sys.q[i] * sys.q[j] * (pos[i][k] - pos[j][k]) / r.powi(3);
                }
            }
        }
        close_all(&format!("∂pos{i}"), &g[i], &e);
    }
    fd_any("coulomb", |p: &Vec<[f64; 2]>| sys.energy(p), &pos, &g);
}

// ---------------------------------------------------------------------------------------------
// Finance: implied-volatility calibration with a hand-written normal CDF, a Nelson–Siegel
// yield curve.
// ---------------------------------------------------------------------------------------------

const ERFC_P: f64 = 0.5;
/// Coefficients of the Chebyshev-fitted erfc (fractional error below 1.2e-7 everywhere).
const ERFC_C: [f64; 10] = [
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
];

/// erfc(x) by the Chebyshev fit t·exp(−z² + P(t)), t = 1/(1 + z/2), z = |x|; reflected for
/// negative x.
#[differentiate]
fn erfc_approx<F: Float>(x: F) -> F {
    let z = x.abs();
    let t = F::one() / (F::one() + F::from(ERFC_P).unwrap() * z);
    let poly = ERFC_C
        .iter()
        .rev()
        .fold(F::zero(), |acc, &c| acc * t + F::from(c).unwrap());
    let r = t * (-z * z + poly).exp();
    if x >= F::zero() { r } else { F::from(2.0).unwrap() - r }
}

#[differentiate]
fn norm_cdf<F: Float>(x: F) -> F {
    F::from(0.5).unwrap() * erfc_approx(-x / F::from(std::f64::consts::SQRT_2).unwrap())
}

/// Sum of squared errors of Black–Scholes call prices against quotes across strikes.
#[differentiate(wrt(sigma))]
fn bs_calibration(sigma: f64, spot: f64, rate: f64, expiry: f64, strikes: &[f64], quotes: &[f64]) -> f64 {
    let sd = sigma * expiry.sqrt();
    strikes
        .iter()
        .zip(quotes)
        .map(|(&k, &q)| {
            let d1 = ((spot / k).ln() + (rate + 0.5 * sigma * sigma) * expiry) / sd;
            let d2 = d1 - sd;
            let price = spot * norm_cdf(d1) - k * (-rate * expiry).exp() * norm_cdf(d2);
            (price - q).powi(2)
        })
        .sum()
}

/// The derivative of [`erfc_approx`] by hand: for z = |x|, d/dz [t e^{−z²+P(t)}] =
/// e^{−z²+P(t)}·[t'(1 + tP'(t)) − 2zt], t' = −½t²; reflected with the sign of x.
fn erfc_approx_d(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let p: f64 = ERFC_C.iter().rev().fold(0.0, |a, &c| a * t + c);
    let dp: f64 = (1..10).rev().fold(0.0, |a, k| a * t + k as f64 * ERFC_C[k]);
    let dt = -0.5 * t * t;
    // for x < 0, d/dx (2 − r(−x)) = r'(−x): the same expression
    (-z * z + p).exp() * (dt * (1.0 + t * dp) - 2.0 * z * t)
}

#[test]
fn implied_vol_calibration_with_hand_written_normal_cdf() {
    let (spot, rate, expiry) = (100.0, 0.02, 0.5);
    let strikes = [80.0, 95.0, 100.0, 105.0, 120.0];
    let quotes = [21.5, 8.9, 6.2, 3.9, 0.9];
    let sigma = 0.22;
    let (v, g) = bs_calibration_grad(sigma, spot, rate, expiry, &strikes, &quotes);
    close("value", v, bs_calibration(sigma, spot, rate, expiry, &strikes, &quotes), TOL);
    // Φ(x) = ½erfc(−x/√2), Φ'(x) = −erfc'(−x/√2)/(2√2) (the approximation's own derivative);
    // ∂d₁/∂σ = −d₂/σ, ∂d₂/∂σ = −d₁/σ; ∂σ = Σ 2(C − q)(S Φ'(d₁) ∂d₁ − K e^{−rT} Φ'(d₂) ∂d₂)
    let phi = |x: f64| 0.5 * erfc_approx(-x / std::f64::consts::SQRT_2);
    let dphi = |x: f64| -erfc_approx_d(-x / std::f64::consts::SQRT_2) / (2.0 * std::f64::consts::SQRT_2);
    let sd = sigma * expiry.sqrt();
    let mut e = 0.0;
    for (&k, &q) in strikes.iter().zip(&quotes) {
        let d1 = ((spot / k).ln() + (rate + 0.5 * sigma * sigma) * expiry) / sd;
        let d2 = d1 - sd;
        let disc = (-rate * expiry).exp();
        let c = spot * phi(d1) - k * disc * phi(d2);
        e += 2.0 * (c - q) * (spot * dphi(d1) * (-d2 / sigma) - k * disc * dphi(d2) * (-d1 / sigma));
    }
    close("∂σ", g, e, 1e-11);
    fd("calibration", |s| bs_calibration(s, spot, rate, expiry, &strikes, &quotes), sigma, g);
}

/// Nelson–Siegel zero yields y(τ) = β₀ + β₁ (1 − e^{−τ/λ})/(τ/λ) + β₂ [(1 − e^{−τ/λ})/(τ/λ) −
/// e^{−τ/λ}], fitted to observed yields; the loadings by a helper returning a tuple.
#[differentiate(hessian)]
fn ns_loadings(tau: f64, lam: f64) -> (f64, f64) {
    let x = tau / lam;
    let e = (-x).exp();
    let l1 = (1.0 - e) / x;
    (l1, l1 - e)
}

#[differentiate(hessian, wrt(beta, lam))]
fn ns_fit(beta: &[f64; 3], lam: f64, maturities: &[f64], yields: &[f64]) -> f64 {
    maturities
        .iter()
        .zip(yields)
        .map(|(&tau, &y)| {
            let (l1, l2) = ns_loadings(tau, lam);
            let model = beta[0] + beta[1] * l1 + beta[2] * l2;
            (model - y).powi(2)
        })
        .sum::<f64>()
        / maturities.len() as f64
}

#[test]
fn nelson_siegel_yield_curve_fit() {
    let mats = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];
    let ys = [0.045, 0.046, 0.044, 0.041, 0.039, 0.041, 0.044];
    let beta = [0.045, -0.002, -0.01];
    let lam = 1.8;
    let (v, (gb, gl)) = ns_fit_grad(&beta, lam, &mats, &ys);
    close("value", v, ns_fit(&beta, lam, &mats, &ys), TOL);
    // r = model − y; ∂β = (2/n) Σ r (1, L₁, L₂); with x = τ/λ, ∂L₁/∂λ = (x/λ)[(1 − e^{−x})/x² −
    // e^{−x}/x] ... written as dL₁/dx·(−x/λ), dL₁/dx = e^{−x}/x − (1 − e^{−x})/x², dL₂/dx = dL₁/dx + e^{−x}
    let n = mats.len() as f64;
    let (mut eb, mut el) = ([0.0; 3], 0.0);
    for (&tau, &y) in mats.iter().zip(&ys) {
        let x = tau / lam;
        let e = (-x).exp();
        let l1 = (1.0 - e) / x;
        let l2 = l1 - e;
        let r = beta[0] + beta[1] * l1 + beta[2] * l2 - y;
        let d1 = e / x - (1.0 - e) / (x * x);
        let d2 = d1 + e;
        let dx = -x / lam;
        eb[0] += 2.0 * r / n;
        eb[1] += 2.0 * r * l1 / n;
        eb[2] += 2.0 * r * l2 / n;
        el += 2.0 * r * (beta[1] * d1 + beta[2] * d2) * dx / n;
    }
    close_all("∂β", &gb, &eb);
    close("∂λ", gl, el, 1e-11);
    fd_any(
        "nelson-siegel",
        |p: &([f64; 3], f64)| ns_fit(&p.0, p.1, &mats, &ys),
        &(beta, lam),
        &(gb, gl),
    );
    // H·v along β only: (2/n) Σ (1, L₁, L₂)(1, L₁, L₂)ᵀ v_β for the β block, against the λ row
    // by central differences of the gradient
    let vb = [1.0, -0.5, 0.25];
    let (_, _, (hb, hl)) = ns_fit_hvp(&beta, lam, &mats, &ys, &vb, 0.0);
    let mut ehb = [0.0; 3];
    for &tau in &mats {
        let (l1, l2) = ns_loadings(tau, lam);
        let row = [1.0, l1, l2];
        let rv: f64 = (0..3).map(|k| row[k] * vb[k]).sum();
        for k in 0..3 {
            ehb[k] += 2.0 / n * row[k] * rv;
        }
    }
    for k in 0..3 {
        close(&format!("(H·v)β{k}"), hb[k], ehb[k], 1e-10);
    }
    let h = 1e-6;
    let bp: [f64; 3] = std::array::from_fn(|k| beta[k] + h * vb[k]);
    let bm: [f64; 3] = std::array::from_fn(|k| beta[k] - h * vb[k]);
    let dl = (ns_fit_grad(&bp, lam, &mats, &ys).1 .1 - ns_fit_grad(&bm, lam, &mats, &ys).1 .1) / (2.0 * h);
    close("(H·v)λ", hl, dl, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Statistics: maximum likelihood with `ln_gamma` written by hand.
// ---------------------------------------------------------------------------------------------

const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
];

/// ln Γ(x) for x ≥ ½ by the Lanczos approximation (g = 7, nine terms), generic over the float.
#[differentiate]
fn ln_gamma<F: Float>(x: F) -> F {
    let x = x - F::one();
    let a = LANCZOS
        .iter()
        .enumerate()
        .skip(1)
        .fold(F::from(LANCZOS[0]).unwrap(), |acc, (k, &c)| {
            acc + F::from(c).unwrap() / (x + F::from(k).unwrap())
        });
    let t = x + F::from(LANCZOS_G + 0.5).unwrap();
    F::from(0.5 * (2.0 * std::f64::consts::PI).ln()).unwrap() + (x + F::from(0.5).unwrap()) * t.ln() - t + a.ln()
}

/// ψ(x) = d/dx ln Γ(x) of the same Lanczos approximation, by hand:
/// ln t + (x' + ½)/t − 1 + A'(x')/A(x'), x' = x − 1, A' = −Σ cₖ/(x' + k)².
fn lanczos_digamma(x: f64) -> f64 {
    let x = x - 1.0;
    let a: f64 = LANCZOS[0] + (1..9).map(|k| LANCZOS[k] / (x + k as f64)).sum::<f64>();
    let da: f64 = (1..9).map(|k| -LANCZOS[k] / (x + k as f64).powi(2)).sum();
    let t = x + LANCZOS_G + 0.5;
    t.ln() + (x + 0.5) / t - 1.0 + da / a
}

/// Negative log-likelihood of a location–scale Student-t sample.
#[differentiate(wrt(nu, mu, scale))]
fn student_t_nll(nu: f64, mu: f64, scale: f64, xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let norm = ln_gamma((nu + 1.0) / 2.0) - ln_gamma(nu / 2.0) - 0.5 * (nu * std::f64::consts::PI).ln() - scale.ln();
    let kernel: f64 = xs
        .iter()
        .map(|&x| {
            let z = (x - mu) / scale;
            (1.0 + z * z / nu).ln()
        })
        .sum();
    -(n * norm) + (nu + 1.0) / 2.0 * kernel
}

#[test]
fn student_t_maximum_likelihood_with_lanczos_ln_gamma() {
    let xs = data(15, 0.7).iter().map(|v| 2.0 * v + 0.3).collect::<Vec<_>>();
    let (nu, mu, s) = (4.5, 0.2, 1.1);
    let (v, (gn, gm, gs)) = student_t_nll_grad(nu, mu, s, &xs);
    close("value", v, student_t_nll(nu, mu, s, &xs), TOL);
    // z = (x − μ)/s, q = 1 + z²/ν:
    // ∂ν = −n[½ψ((ν+1)/2) − ½ψ(ν/2) − 1/(2ν)] + ½Σ ln q − (ν+1)/2 Σ z²/(ν² q)
    // ∂μ = −(ν+1)/2 Σ 2z/(ν s q), ∂s = n/s − (ν+1)/2 Σ 2z²/(ν s q)
    let n = xs.len() as f64;
    let (mut en, mut em, mut es) = (
        -n * (0.5 * lanczos_digamma((nu + 1.0) / 2.0) - 0.5 * lanczos_digamma(nu / 2.0) - 0.5 / nu),
        0.0,
        n / s,
    );
    for &x in &xs {
        let z = (x - mu) / s;
        let q = 1.0 + z * z / nu;
        en += 0.5 * q.ln() - (nu + 1.0) / 2.0 * z * z / (nu * nu * q);
        em -= (nu + 1.0) / 2.0 * 2.0 * z / (nu * s * q);
        es -= (nu + 1.0) / 2.0 * 2.0 * z * z / (nu * s * q);
    }
    close("∂ν", gn, en, 1e-11);
    close("∂μ", gm, em, 1e-11);
    close("∂s", gs, es, 1e-11);
    fd3("student-t", |a, b, c| student_t_nll(a, b, c, &xs), (nu, mu, s), (gn, gm, gs));
}

/// ln Γ(x) by shifting x up past 7 with ln Γ(x) = ln Γ(x + 1) − ln x, then Stirling's series.
#[differentiate(hessian)]
fn ln_gamma_stirling(x: f64) -> f64 {
    let mut x = x;
    let mut acc = 0.0;
    while x < 7.0 {
        acc -= x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0));
    acc + (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series
}

/// Gamma(k, rate) negative log-likelihood: −Σ [k ln β + (k − 1) ln x − βx − ln Γ(k)].
#[differentiate(hessian, wrt(k, rate))]
fn gamma_nll(k: f64, rate: f64, xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (sum_ln, sum_x) = xs.iter().fold((0.0, 0.0), |(l, s), &x| (l + x.ln(), s + x));
    -(n * k * rate.ln() + (k - 1.0) * sum_ln - rate * sum_x - n * ln_gamma_stirling(k))
}

/// d/dx of [`ln_gamma_stirling`] by hand: −Σ 1/xᵢ over the shifts, then ln x − 1/(2x) −
/// 1/(12x²) + 1/(120x⁴) − 1/(252x⁶) at the shifted x.
fn stirling_digamma(x: f64) -> f64 {
    let (mut x, mut acc) = (x, 0.0);
    while x < 7.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    acc + x.ln() - 0.5 / x - 1.0 / (12.0 * x * x) + 1.0 / (120.0 * x.powi(4)) - 1.0 / (252.0 * x.powi(6))
}

#[test]
fn gamma_maximum_likelihood_with_shifted_stirling_ln_gamma() {
    let xs: Vec<f64> = data(20, 1.3).iter().map(|v| 1.5 + v).collect();
    let (k, rate) = (2.3, 1.4);
    let (v, (gk, gr)) = gamma_nll_grad(k, rate, &xs);
    close("value", v, gamma_nll(k, rate, &xs), TOL);
    // ∂k = −(n ln β + Σ ln x − n ψ(k)), ∂β = −(nk/β − Σx); H = [[nψ'(k), −n/β], [−n/β, nk/β²]]
    let n = xs.len() as f64;
    let sl: f64 = xs.iter().map(|x| x.ln()).sum();
    let sx: f64 = xs.iter().sum();
    close("∂k", gk, -(n * rate.ln() + sl - n * stirling_digamma(k)), 1e-11);
    close("∂β", gr, -(n * k / rate - sx), 1e-11);
    fd2("gamma", |a, b| gamma_nll(a, b, &xs), (k, rate), (gk, gr));
    let (_, _, (h0, h1)) = gamma_nll_hvp(k, rate, &xs, 0.0, 1.0);
    close("H·e₁, k row", h0, -n / rate, 1e-11);
    close("H·e₁, β row", h1, n * k / (rate * rate), 1e-11);
    let (_, _, (h0, _)) = gamma_nll_hvp(k, rate, &xs, 1.0, 0.0);
    let e = 1e-5;
    let trigamma = (stirling_digamma(k + e) - stirling_digamma(k - e)) / (2.0 * e);
    close("H₀₀", h0, n * trigamma, 1e-6);
    let t = forward("gamma").two(
        (k, rate),
        |a, b| gamma_nll(a, b, &xs),
        |a, b, da, db| gamma_nll_jvp(a, b, &xs, da, db),
        |a, b| gamma_nll_vjp(a, b, &xs),
    );
    tangents_are2("gamma", &t, (gk, gr), 1e-10);
}

/// Modified Bessel I₀(κ) by its power series Σ ((κ/2)^{2j}/(j!)²), each term from the one
/// before, stopping when the terms are negligible.
#[differentiate]
fn bessel_i0(kappa: f64) -> f64 {
    let half = 0.5 * kappa;
    let mut term = 1.0;
    let mut sum = 1.0;
    for j in 1..60 {
        term *= half * half / (j * j) as f64;
        sum += term;
        if term < 1e-17 * sum {
            break;
        }
    }
    sum
}

/// von Mises negative log-likelihood of angles: n ln(2π I₀(κ)) − κ Σ cos(θ − μ).
#[differentiate(wrt(mu, kappa))]
fn von_mises_nll(mu: f64, kappa: f64, angles: &[f64]) -> f64 {
    let n = angles.len() as f64;
    n * (2.0 * std::f64::consts::PI * bessel_i0(kappa)).ln() - kappa * angles.iter().map(|&t| (t - mu).cos()).sum::<f64>()
}

#[test]
fn von_mises_likelihood_with_series_bessel() {
    let angles: Vec<f64> = data(12, 0.1).iter().map(|v| 0.8 + 0.7 * v).collect();
    let (mu, kappa) = (0.6, 2.4);
    let (v, (gm, gk)) = von_mises_nll_grad(mu, kappa, &angles);
    close("value", v, von_mises_nll(mu, kappa, &angles), TOL);
    // ∂μ = −κ Σ sin(θ − μ); ∂κ = n I₁(κ)/I₀(κ) − Σ cos(θ − μ), I₁ = I₀' = Σ j (κ/2)^{2j−1}/(j!)²
    let n = angles.len() as f64;
    let mut i0 = 0.0;
    let mut i1 = 0.0;
    let mut fact = 1.0;
    for j in 0..40 {
        if j > 0 {
            fact *= j as f64;
        }
        i0 += (0.5 * kappa).powi(2 * j) / (fact * fact);
        if j > 0 {
            i1 += j as f64 * (0.5 * kappa).powi(2 * j as i32 - 1) / (fact * fact);
        }
    }
    close("∂μ", gm, -kappa * angles.iter().map(|t| (t - mu).sin()).sum::<f64>(), 1e-11);
    close("∂κ", gk, n * i1 / i0 - angles.iter().map(|t| (t - mu).cos()).sum::<f64>(), 1e-11);
    fd2("von mises", |a, b| von_mises_nll(a, b, &angles), (mu, kappa), (gm, gk));
}

/// Negative log-likelihood of a two-Gaussian mixture, each point's log-sum-exp by hand with
/// the larger term factored out.
#[differentiate(hessian, wrt(params))]
fn mixture_nll(params: &[f64; 5], xs: &[f64]) -> f64 {
    let [logit, m1, m2, ls1, ls2] = *params;
    let w1 = 1.0 / (1.0 + (-logit).exp());
    let log_comp = |x: f64, w: f64, m: f64, ls: f64| {
        let z = (x - m) / ls.exp();
        w.ln() - ls - 0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln()
    };
    -xs.iter()
        .map(|&x| {
            let a = log_comp(x, w1, m1, ls1);
            let b = log_comp(x, 1.0 - w1, m2, ls2);
            let m = a.max(b);
            m + ((a - m).exp() + (b - m).exp()).ln()
        })
        .sum::<f64>()
}

#[test]
fn two_gaussian_mixture_by_log_sum_exp() {
    let xs: Vec<f64> = data(16, 0.9).iter().enumerate().map(|(i, v)| if i % 2 == 0 { v - 1.5 } else { v + 1.2 }).collect();
    let p = [0.3, -1.2, 1.0, -0.2, 0.1];
    let (v, g) = mixture_nll_grad(&p, &xs);
    close("value", v, mixture_nll(&p, &xs), TOL);
    // responsibilities r = σ(a − b); with w = σ(logit): ∂logit = −Σ [r(1 − w) − (1 − r)w],
    // ∂mₖ = −Σ rₖ zₖ/sₖ, ∂lsₖ = −Σ rₖ (zₖ² − 1)
    let w = 1.0 / (1.0 + (-p[0]).exp());
    let mut e = [0.0; 5];
    for &x in &xs {
        let (s1, s2) = (p[3].exp(), p[4].exp());
        let (z1, z2) = ((x - p[1]) / s1, (x - p[2]) / s2);
        let a = w.ln() - p[3] - 0.5 * z1 * z1;
        let b = (1.0 - w).ln() - p[4] - 0.5 * z2 * z2;
        let r = 1.0 / (1.0 + (b - a).exp());
        e[0] -= r * (1.0 - w) - (1.0 - r) * w;
        e[1] -= r * z1 / s1;
        e[2] -= (1.0 - r) * z2 / s2;
        e[3] -= r * (z1 * z1 - 1.0);
        e[4] -= (1.0 - r) * (z2 * z2 - 1.0);
    }
    close_all("∂params", &g, &e);
    fd_any("mixture", |p: &[f64; 5]| mixture_nll(p, &xs), &p, &g);
    let dir = [0.2, -0.4, 0.3, 0.5, -0.1];
    let (_, _, hv) = mixture_nll_hvp(&p, &xs, &dir);
    hvp_against_fd(
        "mixture",
        |q| mixture_nll_grad(&[q[0], q[1], q[2], q[3], q[4]], &xs).1.to_vec(),
        &p,
        &dir,
        &hv,
    );
}

/// Leave-one-out log-likelihood of a Gaussian kernel density estimate, as a function of the
/// bandwidth: each point's density from the others, skipped by `filter` on the index.
#[differentiate(wrt(bw))]
fn kde_loo_nll(bw: f64, xs: &[f64]) -> f64 {
    let n = xs.len();
    let norm = 1.0 / ((n - 1) as f64 * bw * (2.0 * std::f64::consts::PI).sqrt());
    -xs.iter()
        .enumerate()
        .map(|(i, &xi)| {
            let dens: f64 = xs
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, &xj)| (-0.5 * ((xi - xj) / bw).powi(2)).exp())
                .sum();
            (norm * dens).ln()
        })
        .sum::<f64>()
}

#[test]
fn kernel_density_leave_one_out_bandwidth() {
    let xs: Vec<f64> = data(14, 2.2).iter().map(|v| 3.0 * v).collect();
    let bw = 0.7;
    let (v, g) = kde_loo_nll_grad(bw, &xs);
    close("value", v, kde_loo_nll(bw, &xs), TOL);
    // ln p̂ᵢ = −ln h + ln Σⱼ e^{−dᵢⱼ²/2h²} + const: ∂h = −Σᵢ [−1/h + Σⱼ wᵢⱼ dᵢⱼ²/h³ / Σⱼ wᵢⱼ]
    let mut e = 0.0;
    for i in 0..xs.len() {
        let (mut s, mut sd) = (0.0, 0.0);
        for j in 0..xs.len() {
            if i != j {
                let d = xs[i] - xs[j];
                let w = (-0.5 * d * d / (bw * bw)).exp();
                s += w;
                sd += w * d * d / bw.powi(3);
            }
        }
        e -= -1.0 / bw + sd / s;
    }
    close("∂h", g, e, 1e-11);
    fd("kde", |h| kde_loo_nll(h, &xs), bw, g);
}

/// Tukey's biweight loss of a line's residuals: ρ(r) = c²/6 [1 − (1 − (r/c)²)³] inside the
/// cutoff, c²/6 outside, chosen by an early `return` in the helper.
#[differentiate(hessian)]
fn tukey(r: f64, c: f64) -> f64 {
    if r.abs() >= c {
        return c * c / 6.0;
    }
    let u = 1.0 - (r / c).powi(2);
    c * c / 6.0 * (1.0 - u * u * u)
}

#[differentiate(hessian, wrt(slope, intercept))]
fn tukey_line(slope: f64, intercept: f64, xs: &[f64], ys: &[f64], c: f64) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(&x, &y)| tukey(y - slope * x - intercept, c))
        .sum()
}

#[test]
fn tukey_biweight_line_with_outliers() {
    let xs: Vec<f64> = (0..12).map(|i| i as f64 * 0.5).collect();
    let mut ys: Vec<f64> = xs.iter().zip(data(12, 0.3)).map(|(x, n)| 0.8 * x + 0.5 + 0.2 * n).collect();
    ys[3] += 6.0;
    ys[9] -= 5.0;
    let (a, b, c) = (0.75, 0.45, 1.5);
    let (v, (ga, gb)) = tukey_line_grad(a, b, &xs, &ys, c);
    close("value", v, tukey_line(a, b, &xs, &ys, c), TOL);
    // ψ(r) = ρ'(r) = r(1 − (r/c)²)² for |r| < c, 0 outside; ∂a = −Σ ψ(r) x, ∂b = −Σ ψ(r)
    let psi = |r: f64| if r.abs() < c { r * (1.0 - (r / c).powi(2)).powi(2) } else { 0.0 };
    let rs: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - a * x - b).collect();
    let ea: f64 = -rs.iter().zip(&xs).map(|(&r, x)| psi(r) * x).sum::<f64>();
    let eb: f64 = -rs.iter().map(|&r| psi(r)).sum::<f64>();
    close2("∂(a, b)", (ga, gb), (ea, eb));
    fd2("tukey", |p, q| tukey_line(p, q, &xs, &ys, c), (a, b), (ga, gb));
    // ψ'(r) = (1 − u)(1 − 5u), u = (r/c)², inside; H = Σ ψ'(r) [x², x; x, 1]
    let dpsi = |r: f64| {
        let u = (r / c).powi(2);
        if r.abs() < c { (1.0 - u) * (1.0 - 5.0 * u) } else { 0.0 }
    };
    let (_, _, (h0, h1)) = tukey_line_hvp(a, b, &xs, &ys, c, 1.0, 0.0);
    close("H₀₀", h0, rs.iter().zip(&xs).map(|(&r, x)| dpsi(r) * x * x).sum::<f64>(), 1e-11);
    close("H₁₀", h1, rs.iter().zip(&xs).map(|(&r, x)| dpsi(r) * x).sum::<f64>(), 1e-11);
    let t = forward("tukey").two(
        (a, b),
        |p, q| tukey_line(p, q, &xs, &ys, c),
        |p, q, dp, dq| tukey_line_jvp(p, q, &xs, &ys, c, dp, dq),
        |p, q| tukey_line_vjp(p, q, &xs, &ys, c),
    );
    tangents_are2("tukey", &t, (ga, gb), 1e-10);
}

const QUANTILES: [f64; 3] = [0.1, 0.5, 0.9];

/// Pinball loss of three linear quantile regressions, their (slope, intercept) pairs the
/// `chunks(2)` of one parameter slice zipped with a `const` table of levels.
#[differentiate(wrt(params))]
fn quantile_loss(params: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    params
        .chunks(2)
        .zip(QUANTILES.iter())
        .map(|(p, &tau)| {
            xs.iter()
                .zip(ys)
                .map(|(&x, &y)| {
                    let r = y - (p[0] * x + p[1]);
                    if r >= 0.0 { tau * r } else { (tau - 1.0) * r }
                })
                .sum::<f64>()
        })
        .sum()
}

#[test]
fn pinball_loss_of_three_quantile_lines() {
    let xs: Vec<f64> = (0..10).map(|i| 0.3 * i as f64 + 0.05).collect();
    let ys: Vec<f64> = xs.iter().zip(data(10, 4.0)).map(|(x, n)| 1.2 * x + n).collect();
    let params = vec![1.1, -0.7, 1.25, 0.03, 1.3, 0.81];
    let (v, g) = quantile_loss_grad(&params, &xs, &ys);
    close("value", v, quantile_loss(&params, &xs, &ys), TOL);
    // ∂(slope, intercept) of level τ = −Σ ρ'(r)(x, 1), ρ'(r) = τ for r > 0, τ − 1 for r < 0
    let mut e = vec![0.0; 6];
    for (q, &tau) in QUANTILES.iter().enumerate() {
        for (&x, &y) in xs.iter().zip(&ys) {
            let r = y - params[2 * q] * x - params[2 * q + 1];
            assert!(r.abs() > 1e-3, "a residual at a kink");
            let d = if r > 0.0 { tau } else { tau - 1.0 };
            e[2 * q] -= d * x;
            e[2 * q + 1] -= d;
        }
    }
    close_all("∂params", &g, &e);
    fd_vec("pinball", |p| quantile_loss(p, &xs, &ys), &params, &g);
}

// ---------------------------------------------------------------------------------------------
// Signal processing: a biquad as a struct with a method, total variation, a 'same' convolution.
// ---------------------------------------------------------------------------------------------

/// A direct-form-I biquad section's coefficients.
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
    /// y[n] = b₀x[n] + b₁x[n−1] + b₂x[n−2] − a₁y[n−1] − a₂y[n−2], the delays carried in a tuple.
    fn filter(&self, x: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(x.len());
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for &xn in x {
            let y = self.b0 * xn + self.b1 * x1 + self.b2 * x2 - self.a1 * y1 - self.a2 * y2;
            out.push(y);
            (x2, x1) = (x1, xn);
            (y2, y1) = (y1, y);
        }
        out
    }
}

/// Squared error of the biquad's response to a reference output.
#[differentiate(wrt(bq))]
fn biquad_fit(bq: &Biquad, x: &[f64], reference: &[f64]) -> f64 {
    bq.filter(x).iter().zip(reference).map(|(y, r)| (y - r).powi(2)).sum()
}

#[test]
fn biquad_struct_filter_fit() {
    let x = data(30, 0.6);
    let reference: Vec<f64> = data(30, 9.0).iter().map(|v| 0.3 * v).collect();
    let bq = Biquad { b0: 0.2, b1: 0.35, b2: 0.15, a1: -0.6, a2: 0.2 };
    let (v, g) = biquad_fit_grad(&bq, &x, &reference);
    close("value", v, biquad_fit(&bq, &x, &reference), TOL);
    // sensitivities by the recursion itself: s_c[n] = ∂y[n]/∂c = (input of c at n) − a₁s_c[n−1]
    // − a₂s_c[n−2], the input being x[n−k] for bₖ and −y[n−k] for aₖ; ∂c = Σ 2(y − r)s_c
    let y = bq.filter(&x);
    let at = |v: &[f64], n: usize, k: usize| if n >= k { v[n - k] } else { 0.0 };
    let mut e = [0.0; 5];
    for (c, ek) in e.iter_mut().enumerate() {
        let mut s = vec![0.0; 30];
        for n in 0..30 {
            let input = match c {
                0 => x[n],
                1 => at(&x, n, 1),
                2 => at(&x, n, 2),
                3 => -at(&y, n, 1),
                _ => -at(&y, n, 2),
            };
            s[n] = input - bq.a1 * at(&s, n, 1) - bq.a2 * at(&s, n, 2);
            *ek += 2.0 * (y[n] - reference[n]) * s[n];
        }
    }
    close_all("∂(b₀, b₁, b₂, a₁, a₂)", &[g.b0, g.b1, g.b2, g.a1, g.a2], &e);
    fd_any("biquad", |b: &Biquad| biquad_fit(b, &x, &reference), &bq, &g);
}

/// Total-variation denoising: ½‖u − f‖² + λ Σ √((uᵢ₊₁ − uᵢ)² + ε), the differences by
/// `windows(2)`.
#[differentiate(hessian, wrt(u))]
fn tv_denoise(u: &[f64], f: &[f64], lam: f64, eps: f64) -> f64 {
    let fidelity: f64 = u.iter().zip(f).map(|(a, b)| 0.5 * (a - b).powi(2)).sum();
    let tv: f64 = u.windows(2).map(|w| ((w[1] - w[0]).powi(2) + eps).sqrt()).sum();
    fidelity + lam * tv
}

#[test]
fn total_variation_denoising_objective() {
    let f: Vec<f64> = (0..10).map(|i| if i < 5 { 0.0 } else { 1.0 }).zip(data(10, 1.0)).map(|(s, n)| s + 0.1 * n).collect();
    let u: Vec<f64> = f.iter().map(|v| 0.9 * v + 0.02).collect();
    let (lam, eps) = (0.3, 1e-2);
    let (v, g) = tv_denoise_grad(&u, &f, lam, eps);
    close("value", v, tv_denoise(&u, &f, lam, eps), TOL);
    // dᵢ = uᵢ₊₁ − uᵢ, φ'(d) = d/√(d² + ε): ∂uᵢ = uᵢ − fᵢ + λ(φ'(dᵢ₋₁) − φ'(dᵢ));
    // H = I + λ Dᵀ diag(ε/(d² + ε)^{3/2}) D
    let n = u.len();
    let d: Vec<f64> = (0..n - 1).map(|i| u[i + 1] - u[i]).collect();
    let e: Vec<f64> = (0..n)
        .map(|i| {
            let mut s = u[i] - f[i];
            if i > 0 {
                s += lam * d[i - 1] / (d[i - 1] * d[i - 1] + eps).sqrt();
            }
            if i + 1 < n {
                s -= lam * d[i] / (d[i] * d[i] + eps).sqrt();
            }
            s
        })
        .collect();
    close_all("∂u", &g, &e);
    fd_vec("tv", |u| tv_denoise(u, &f, lam, eps), &u, &g);
    let dir = data(10, 3.3);
    let (_, _, hv) = tv_denoise_hvp(&u, &f, lam, eps, &dir);
    let w: Vec<f64> = d.iter().map(|d| eps / (d * d + eps).powf(1.5)).collect();
    let dv: Vec<f64> = (0..n - 1).map(|i| w[i] * (dir[i + 1] - dir[i])).collect();
    let eh: Vec<f64> = (0..n)
        .map(|i| {
            let mut s = dir[i];
            if i > 0 {
                s += lam * dv[i - 1];
            }
            if i + 1 < n {
                s -= lam * dv[i];
            }
            s
        })
        .collect();
    close_all("H·v", &hv, &eh);
}

/// A 'same'-size 1-D convolution with zero padding, the taps centred: out-of-range indices
/// skipped by a signed-index check.
#[differentiate(wrt(kernel))]
fn conv_same_misfit(kernel: &[f64], signal: &[f64], target: &[f64]) -> f64 {
    let n = signal.len() as isize;
    let half = (kernel.len() / 2) as isize;
    let mut loss = 0.0;
    for i in 0..n {
        let mut acc = 0.0;
        for (k, &w) in kernel.iter().enumerate() {
            let j = i + k as isize - half;
            if j < 0 || j >= n {
                continue;
            }
            acc += w * signal[j as usize];
        }
        loss += (acc - target[i as usize]).powi(2);
    }
    loss
}

#[test]
fn same_size_convolution_with_signed_indices() {
    let signal = data(16, 0.2);
    let target: Vec<f64> = data(16, 6.1).iter().map(|v| 0.5 * v).collect();
    let kernel = vec![0.1, 0.3, 0.4, 0.2, -0.1];
    let (v, g) = conv_same_misfit_grad(&kernel, &signal, &target);
    close("value", v, conv_same_misfit(&kernel, &signal, &target), TOL);
    // ∂wₖ = Σᵢ 2(outᵢ − tᵢ) s[i + k − 2] (inside the signal)
    let out: Vec<f64> = (0..16)
        .map(|i: usize| (0..5usize).filter_map(|k| (i + k).checked_sub(2).filter(|&j| j < 16).map(|j| kernel[k] * signal[j])).sum())
        .collect();
    let e: Vec<f64> = (0..5usize)
        .map(|k| {
            (0..16usize)
                .filter_map(|i| (i + k).checked_sub(2).filter(|&j| j < 16).map(|j| 2.0 * (out[i] - target[i]) * signal[j]))
                .sum()
        })
        .collect();
    close_all("∂kernel", &g, &e);
    fd_vec("conv", |k| conv_same_misfit(k, &signal, &target), &kernel, &g);
}
