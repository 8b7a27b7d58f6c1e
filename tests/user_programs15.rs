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

use autodiff::{Differentiable, differentiate};
use num_traits::Float;
use std::ops::{Add, Div, Mul, Neg, Sub};

mod common;
use common::*;

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
        Dual {
            v: self.v + o.v,
            d: self.d + o.d,
        }
    }
}
impl Sub for Dual {
    type Output = Dual;
    fn sub(self, o: Dual) -> Dual {
        Dual {
            v: self.v - o.v,
            d: self.d - o.d,
        }
    }
}
impl Mul for Dual {
    type Output = Dual;
    fn mul(self, o: Dual) -> Dual {
        Dual {
            v: self.v * o.v,
            d: self.d * o.v + self.v * o.d,
        }
    }
}
impl Div for Dual {
    type Output = Dual;
    fn div(self, o: Dual) -> Dual {
        Dual {
            v: self.v / o.v,
            d: (self.d * o.v - self.v * o.d) / (o.v * o.v),
        }
    }
}
impl Neg for Dual {
    type Output = Dual;
    fn neg(self) -> Dual {
        Dual {
            v: -self.v,
            d: -self.d,
        }
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
        Dual {
            v: self.v * o,
            d: self.d * o,
        }
    }
}
impl Div<f64> for Dual {
    type Output = Dual;
    fn div(self, o: f64) -> Dual {
        Dual {
            v: self.v / o,
            d: self.d / o,
        }
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
        Dual {
            v: self.v.sin(),
            d: self.d * self.v.cos(),
        }
    }
    fn cos(self) -> Dual {
        Dual {
            v: self.v.cos(),
            d: -self.d * self.v.sin(),
        }
    }
    fn ln(self) -> Dual {
        Dual {
            v: self.v.ln(),
            d: self.d / self.v,
        }
    }
    fn sqrt(self) -> Dual {
        Dual {
            v: self.v.sqrt(),
            d: self.d * 0.5 / self.v.sqrt(),
        }
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
fn pendulum_miss(
    theta0: f64,
    damping: f64,
    g_over_l: f64,
    h: f64,
    steps: usize,
    target: f64,
) -> f64 {
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
    close(
        "∂θ₀",
        g0,
        pendulum_dual(dv(th0), dc(c), gl, h, n, target).d,
        1e-11,
    );
    close(
        "∂c",
        gc,
        pendulum_dual(dc(th0), dv(c), gl, h, n, target).d,
        1e-11,
    );
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
        close(
            &format!("∂p{k}"),
            g[k],
            lv_dual(pd, s0, &obs, 0.01, 20).d,
            1e-11,
        );
    }
    fd_any(
        "lotka-volterra",
        |p: &[f64; 4]| lv_misfit(p, s0, &obs, 0.01, 20),
        &p,
        &g,
    );
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
            let right = if i + 1 < x.len() {
                tensions[i + 1]
            } else {
                0.0
            };
            right - tensions[i]
        })
        .collect()
}

/// The squared miss of the last mass's final position, after leapfrog steps from rest.
#[differentiate(wrt(x0, k))]
fn chain_end_miss(
    x0: &[f64],
    k: f64,
    mass: f64,
    rest: f64,
    h: f64,
    steps: usize,
    target: f64,
) -> f64 {
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

fn chain_dual(
    x0: &[Dual],
    k: Dual,
    mass: f64,
    rest: f64,
    h: f64,
    steps: usize,
    target: f64,
) -> Dual {
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
    close(
        "value",
        v,
        chain_end_miss(&x0, k, m, rest, h, n, target),
        TOL,
    );
    // each partial by the tangent-linear Verlet recursion (dual numbers)
    for j in 0..4 {
        let xd: Vec<Dual> = (0..4)
            .map(|i| if i == j { dv(x0[i]) } else { dc(x0[i]) })
            .collect();
        close(
            &format!("∂x{j}"),
            gx[j],
            chain_dual(&xd, dc(k), m, rest, h, n, target).d,
            1e-10,
        );
    }
    let xd: Vec<Dual> = x0.iter().map(|&x| dc(x)).collect();
    close(
        "∂k",
        gk,
        chain_dual(&xd, dv(k), m, rest, h, n, target).d,
        1e-10,
    );
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
    let xn: f64 = h
        * h
        * u.iter()
            .enumerate()
            .map(|(k, uk)| uk * (n - k) as f64)
            .sum::<f64>();
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
    let measured = data(9, 5.0)
        .iter()
        .map(|v| 0.3 * v + 0.2)
        .collect::<Vec<_>>();
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
    let res: Vec<f64> = pow(u0.clone())
        .iter()
        .zip(&measured)
        .map(|(a, b)| a - b)
        .collect();
    let e: Vec<f64> = pow(res)
        .iter()
        .zip(dtd(&u0))
        .map(|(a, b)| a + lam * b)
        .collect();
    close_all("∂u₀", &g, &e);
    fd_vec(
        "heat",
        |u| heat_inverse(u, &measured, r, steps, lam),
        &u0,
        &g,
    );
    let dir = data(9, 7.0);
    let (_, _, hv) = heat_inverse_hvp(&u0, &measured, r, steps, lam, &dir);
    let eh: Vec<f64> = pow(pow(dir.clone()))
        .iter()
        .zip(dtd(&dir))
        .map(|(a, b)| a + lam * b)
        .collect();
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
    let dir: Vec<[f64; 3]> = (0..5)
        .map(|i| [0.3 * i as f64, -0.2, 0.1 + 0.05 * i as f64])
        .collect();
    let (_, _, hv) = lj_energy_hvp(&pos, &dir);
    let flat = |p: &[[f64; 3]]| p.iter().flatten().copied().collect::<Vec<f64>>();
    let unflat = |x: &[f64]| {
        x.chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect::<Vec<[f64; 3]>>()
    };
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
    if x >= F::zero() {
        r
    } else {
        F::from(2.0).unwrap() - r
    }
}

#[differentiate]
fn norm_cdf<F: Float>(x: F) -> F {
    F::from(0.5).unwrap() * erfc_approx(-x / F::from(std::f64::consts::SQRT_2).unwrap())
}

/// Sum of squared errors of Black–Scholes call prices against quotes across strikes.
#[differentiate(wrt(sigma))]
fn bs_calibration(
    sigma: f64,
    spot: f64,
    rate: f64,
    expiry: f64,
    strikes: &[f64],
    quotes: &[f64],
) -> f64 {
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
    close(
        "value",
        v,
        bs_calibration(sigma, spot, rate, expiry, &strikes, &quotes),
        TOL,
    );
    // Φ(x) = ½erfc(−x/√2), Φ'(x) = −erfc'(−x/√2)/(2√2) (the approximation's own derivative);
    // ∂d₁/∂σ = −d₂/σ, ∂d₂/∂σ = −d₁/σ; ∂σ = Σ 2(C − q)(S Φ'(d₁) ∂d₁ − K e^{−rT} Φ'(d₂) ∂d₂)
    let phi = |x: f64| 0.5 * erfc_approx(-x / std::f64::consts::SQRT_2);
    let dphi =
        |x: f64| -erfc_approx_d(-x / std::f64::consts::SQRT_2) / (2.0 * std::f64::consts::SQRT_2);
    let sd = sigma * expiry.sqrt();
    let mut e = 0.0;
    for (&k, &q) in strikes.iter().zip(&quotes) {
        let d1 = ((spot / k).ln() + (rate + 0.5 * sigma * sigma) * expiry) / sd;
        let d2 = d1 - sd;
        let disc = (-rate * expiry).exp();
        let c = spot * phi(d1) - k * disc * phi(d2);
        e +=
            2.0 * (c - q) * (spot * dphi(d1) * (-d2 / sigma) - k * disc * dphi(d2) * (-d1 / sigma));
    }
    close("∂σ", g, e, 1e-11);
    fd(
        "calibration",
        |s| bs_calibration(s, spot, rate, expiry, &strikes, &quotes),
        sigma,
        g,
    );
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
    let dl =
        (ns_fit_grad(&bp, lam, &mats, &ys).1.1 - ns_fit_grad(&bm, lam, &mats, &ys).1.1) / (2.0 * h);
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
    F::from(0.5 * (2.0 * std::f64::consts::PI).ln()).unwrap() + (x + F::from(0.5).unwrap()) * t.ln()
        - t
        + a.ln()
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
    let norm = ln_gamma((nu + 1.0) / 2.0)
        - ln_gamma(nu / 2.0)
        - 0.5 * (nu * std::f64::consts::PI).ln()
        - scale.ln();
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
    let xs = data(15, 0.7)
        .iter()
        .map(|v| 2.0 * v + 0.3)
        .collect::<Vec<_>>();
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
    fd3(
        "student-t",
        |a, b, c| student_t_nll(a, b, c, &xs),
        (nu, mu, s),
        (gn, gm, gs),
    );
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
    acc + x.ln() - 0.5 / x - 1.0 / (12.0 * x * x) + 1.0 / (120.0 * x.powi(4))
        - 1.0 / (252.0 * x.powi(6))
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
    close(
        "∂k",
        gk,
        -(n * rate.ln() + sl - n * stirling_digamma(k)),
        1e-11,
    );
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
    n * (2.0 * std::f64::consts::PI * bessel_i0(kappa)).ln()
        - kappa * angles.iter().map(|&t| (t - mu).cos()).sum::<f64>()
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
            i1 += j as f64 * (0.5 * kappa).powi(2 * j - 1) / (fact * fact);
        }
    }
    close(
        "∂μ",
        gm,
        -kappa * angles.iter().map(|t| (t - mu).sin()).sum::<f64>(),
        1e-11,
    );
    close(
        "∂κ",
        gk,
        n * i1 / i0 - angles.iter().map(|t| (t - mu).cos()).sum::<f64>(),
        1e-11,
    );
    fd2(
        "von mises",
        |a, b| von_mises_nll(a, b, &angles),
        (mu, kappa),
        (gm, gk),
    );
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
    let xs: Vec<f64> = data(16, 0.9)
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { v - 1.5 } else { v + 1.2 })
        .collect();
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
        |q| {
            mixture_nll_grad(&[q[0], q[1], q[2], q[3], q[4]], &xs)
                .1
                .to_vec()
        },
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
    let mut ys: Vec<f64> = xs
        .iter()
        .zip(data(12, 0.3))
        .map(|(x, n)| 0.8 * x + 0.5 + 0.2 * n)
        .collect();
    ys[3] += 6.0;
    ys[9] -= 5.0;
    let (a, b, c) = (0.75, 0.45, 1.5);
    let (v, (ga, gb)) = tukey_line_grad(a, b, &xs, &ys, c);
    close("value", v, tukey_line(a, b, &xs, &ys, c), TOL);
    // ψ(r) = ρ'(r) = r(1 − (r/c)²)² for |r| < c, 0 outside; ∂a = −Σ ψ(r) x, ∂b = −Σ ψ(r)
    let psi = |r: f64| {
        if r.abs() < c {
            r * (1.0 - (r / c).powi(2)).powi(2)
        } else {
            0.0
        }
    };
    let rs: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - a * x - b).collect();
    let ea: f64 = -rs.iter().zip(&xs).map(|(&r, x)| psi(r) * x).sum::<f64>();
    let eb: f64 = -rs.iter().map(|&r| psi(r)).sum::<f64>();
    close2("∂(a, b)", (ga, gb), (ea, eb));
    fd2(
        "tukey",
        |p, q| tukey_line(p, q, &xs, &ys, c),
        (a, b),
        (ga, gb),
    );
    // ψ'(r) = (1 − u)(1 − 5u), u = (r/c)², inside; H = Σ ψ'(r) [x², x; x, 1]
    let dpsi = |r: f64| {
        let u = (r / c).powi(2);
        if r.abs() < c {
            (1.0 - u) * (1.0 - 5.0 * u)
        } else {
            0.0
        }
    };
    let (_, _, (h0, h1)) = tukey_line_hvp(a, b, &xs, &ys, c, 1.0, 0.0);
    close(
        "H₀₀",
        h0,
        rs.iter()
            .zip(&xs)
            .map(|(&r, x)| dpsi(r) * x * x)
            .sum::<f64>(),
        1e-11,
    );
    close(
        "H₁₀",
        h1,
        rs.iter().zip(&xs).map(|(&r, x)| dpsi(r) * x).sum::<f64>(),
        1e-11,
    );
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
    let ys: Vec<f64> = xs
        .iter()
        .zip(data(10, 4.0))
        .map(|(x, n)| 1.2 * x + n)
        .collect();
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
    bq.filter(x)
        .iter()
        .zip(reference)
        .map(|(y, r)| (y - r).powi(2))
        .sum()
}

#[test]
fn biquad_struct_filter_fit() {
    let x = data(30, 0.6);
    let reference: Vec<f64> = data(30, 9.0).iter().map(|v| 0.3 * v).collect();
    let bq = Biquad {
        b0: 0.2,
        b1: 0.35,
        b2: 0.15,
        a1: -0.6,
        a2: 0.2,
    };
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
    fd_any(
        "biquad",
        |b: &Biquad| biquad_fit(b, &x, &reference),
        &bq,
        &g,
    );
}

/// Total-variation denoising: ½‖u − f‖² + λ Σ √((uᵢ₊₁ − uᵢ)² + ε), the differences by
/// `windows(2)`.
#[differentiate(hessian, wrt(u))]
fn tv_denoise(u: &[f64], f: &[f64], lam: f64, eps: f64) -> f64 {
    let fidelity: f64 = u.iter().zip(f).map(|(a, b)| 0.5 * (a - b).powi(2)).sum();
    let tv: f64 = u
        .windows(2)
        .map(|w| ((w[1] - w[0]).powi(2) + eps).sqrt())
        .sum();
    fidelity + lam * tv
}

#[test]
fn total_variation_denoising_objective() {
    let f: Vec<f64> = (0..10)
        .map(|i| if i < 5 { 0.0 } else { 1.0 })
        .zip(data(10, 1.0))
        .map(|(s, n)| s + 0.1 * n)
        .collect();
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
        .map(|i: usize| {
            (0..5usize)
                .filter_map(|k| {
                    (i + k)
                        .checked_sub(2)
                        .filter(|&j| j < 16)
                        .map(|j| kernel[k] * signal[j])
                })
                .sum()
        })
        .collect();
    let e: Vec<f64> = (0..5usize)
        .map(|k| {
            (0..16usize)
                .filter_map(|i| {
                    (i + k)
                        .checked_sub(2)
                        .filter(|&j| j < 16)
                        .map(|j| 2.0 * (out[i] - target[i]) * signal[j])
                })
                .sum()
        })
        .collect();
    close_all("∂kernel", &g, &e);
    fd_vec(
        "conv",
        |k| conv_same_misfit(k, &signal, &target),
        &kernel,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// Robotics: a spatial arm as a struct, a differential-drive robot driven by paired controls.
// ---------------------------------------------------------------------------------------------

/// A yaw–pitch–pitch arm: the base turns about z, two links pitch in the vertical plane.
struct Arm {
    base: f64,
    links: [f64; 2],
}

#[differentiate]
impl Arm {
    /// The hand's position for joint angles (yaw, shoulder pitch, elbow pitch).
    #[differentiate(wrt(q))]
    fn hand(&self, q: &[f64; 3]) -> [f64; 3] {
        let [yaw, p1, p2] = *q;
        let reach = self.links[0] * p1.cos() + self.links[1] * (p1 + p2).cos();
        let height = self.base + self.links[0] * p1.sin() + self.links[1] * (p1 + p2).sin();
        [reach * yaw.cos(), reach * yaw.sin(), height]
    }

    /// Distance from the hand to a target.
    #[differentiate(wrt(q))]
    fn miss(&self, q: &[f64; 3], target: [f64; 3]) -> f64 {
        let h = self.hand(q);
        h.iter()
            .zip(target.iter())
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    }
}

#[test]
fn spatial_arm_hand_distance_as_struct_methods() {
    let arm = Arm {
        base: 0.4,
        links: [1.0, 0.7],
    };
    let q = [0.3, 0.5, -0.8];
    let target = [0.9, 0.6, 0.5];
    let (v, g) = arm.miss_grad(&q, target);
    close("value", v, arm.miss(&q, target), TOL);
    // ∂d/∂q = Jᵀ(h − t)/d with J the hand's Jacobian: ρ = l₁c₁ + l₂c₁₂, z = b + l₁s₁ + l₂s₁₂;
    // ∂h/∂yaw = (−ρ sin ψ, ρ cos ψ, 0), ∂h/∂p₁ = (ρ₁ cos ψ, ρ₁ sin ψ, ρ), ρ₁ = −l₁s₁ − l₂s₁₂,
    // ∂h/∂p₂ = (ρ₂ cos ψ, ρ₂ sin ψ, l₂c₁₂), ρ₂ = −l₂s₁₂
    let h = arm.hand(&q);
    let [l1, l2] = arm.links;
    let (s1, c1, s12, c12) = (
        q[1].sin(),
        q[1].cos(),
        (q[1] + q[2]).sin(),
        (q[1] + q[2]).cos(),
    );
    let rho = l1 * c1 + l2 * c12;
    let (r1, r2) = (-l1 * s1 - l2 * s12, -l2 * s12);
    let (sy, cy) = (q[0].sin(), q[0].cos());
    let cols = [
        [-rho * sy, rho * cy, 0.0],
        [r1 * cy, r1 * sy, l1 * c1 + l2 * c12],
        [r2 * cy, r2 * sy, l2 * c12],
    ];
    let e: Vec<f64> = cols
        .iter()
        .map(|c| (0..3).map(|k| c[k] * (h[k] - target[k])).sum::<f64>() / v)
        .collect();
    close_all("∂q", &g, &e);
    fd_any("arm", |q: &[f64; 3]| arm.miss(q, target), &q, &g);
}

/// A differential-drive robot: per step the wheel speeds are the `chunks(2)` of the controls;
/// the cost is the squared distance of the final pose from the goal plus control effort.
#[differentiate(hessian, wrt(controls))]
fn drive_cost(controls: &[f64], track: f64, dt: f64, goal: [f64; 2], effort: f64) -> f64 {
    let (mut x, mut y, mut th) = (0.0, 0.0, 0.0);
    let mut energy = 0.0;
    for wheels in controls.chunks(2) {
        let (vl, vr) = (wheels[0], wheels[1]);
        let v = 0.5 * (vl + vr);
        let w = (vr - vl) / track;
        x += dt * v * th.cos();
        y += dt * v * th.sin();
        th += dt * w;
        energy += vl * vl + vr * vr;
    }
    (x - goal[0]).powi(2) + (y - goal[1]).powi(2) + effort * energy
}

fn drive_dual(c: &[Dual], track: f64, dt: f64, goal: [f64; 2], effort: f64) -> Dual {
    let (mut x, mut y, mut th) = (dc(0.0), dc(0.0), dc(0.0));
    let mut energy = dc(0.0);
    for k in 0..c.len() / 2 {
        let (vl, vr) = (c[2 * k], c[2 * k + 1]);
        let v = 0.5 * (vl + vr);
        x = x + dt * v * th.cos();
        y = y + dt * v * th.sin();
        th = th + dt * (vr - vl) / track;
        energy = energy + vl * vl + vr * vr;
    }
    (x - goal[0]).sq() + (y - goal[1]).sq() + effort * energy
}

#[test]
fn differential_drive_path_to_a_goal() {
    let controls: Vec<f64> = data(16, 0.5).iter().map(|v| 1.0 + 0.5 * v).collect();
    let (track, dt, goal, effort) = (0.5, 0.1, [1.0, 0.4], 0.01);
    let (v, g) = drive_cost_grad(&controls, track, dt, goal, effort);
    close(
        "value",
        v,
        drive_cost(&controls, track, dt, goal, effort),
        TOL,
    );
    // each partial by the tangent-linear pose recursion (dual numbers)
    for j in 0..16 {
        let cd: Vec<Dual> = (0..16)
            .map(|i| {
                if i == j {
                    dv(controls[i])
                } else {
                    dc(controls[i])
                }
            })
            .collect();
        close(
            &format!("∂u{j}"),
            g[j],
            drive_dual(&cd, track, dt, goal, effort).d,
            1e-11,
        );
    }
    fd_vec(
        "drive",
        |c| drive_cost(c, track, dt, goal, effort),
        &controls,
        &g,
    );
    let dir = data(16, 8.0);
    let (_, _, hv) = drive_cost_hvp(&controls, track, dt, goal, effort, &dir);
    hvp_against_fd(
        "drive",
        |c| drive_cost_grad(c, track, dt, goal, effort).1,
        &controls,
        &dir,
        &hv,
    );
}

// ---------------------------------------------------------------------------------------------
// Geometry: distance to a polyline, reprojection through a pinhole camera, an ellipse fit, a
// polygon's area by the shoelace formula.
// ---------------------------------------------------------------------------------------------

/// Distance from p to the segment ab, the foot's parameter clamped to the segment.
#[differentiate]
fn point_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
    let t = (((p[0] - a[0]) * abx + (p[1] - a[1]) * aby) / (abx * abx + aby * aby)).clamp(0.0, 1.0);
    let (qx, qy) = (a[0] + t * abx, a[1] + t * aby);
    (p[0] - qx).hypot(p[1] - qy)
}

/// Sum of squared distances of sample points to a polyline, each the `fold` of `f64::min` over
/// the segments (`windows(2)` of the vertices).
#[differentiate(wrt(verts))]
fn polyline_fit(verts: &[[f64; 2]], points: &[[f64; 2]]) -> f64 {
    points
        .iter()
        .map(|&p| {
            verts
                .windows(2)
                .map(|s| point_segment(p, s[0], s[1]))
                .fold(f64::INFINITY, f64::min)
                .powi(2)
        })
        .sum()
}

#[test]
fn polyline_fit_by_nearest_segment() {
    let verts = vec![[0.0, 0.0], [1.0, 0.4], [2.0, 0.1], [3.0, 0.8]];
    let points: Vec<[f64; 2]> = (0..9)
        .map(|i| [0.15 + 0.33 * i as f64, 0.5 * (0.7 * i as f64).sin()])
        .collect();
    let (v, g) = polyline_fit_grad(&verts, &points);
    close("value", v, polyline_fit(&verts, &points), TOL);
    // for each point, the nearest segment (a, b) and its foot q = a + t(b − a): with r = p − q,
    // ∂d²/∂a = −2r(1 − t), ∂d²/∂b = −2rt (t inside (0, 1): the foot's own motion is normal to r;
    // at a clamped end t is 0 or 1)
    let mut e = vec![[0.0; 2]; 4];
    for &p in &points {
        let (mut best, mut k) = (f64::INFINITY, 0);
        for s in 0..3 {
            let d = point_segment(p, verts[s], verts[s + 1]);
            if d < best {
                best = d;
                k = s;
            }
        }
        let (a, b) = (verts[k], verts[k + 1]);
        let ab = [b[0] - a[0], b[1] - a[1]];
        let t = (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / (ab[0] * ab[0] + ab[1] * ab[1]))
            .clamp(0.0, 1.0);
        assert!(t > 1e-6 && t < 1.0 - 1e-6 || t == 0.0 || t == 1.0);
        let r = [p[0] - a[0] - t * ab[0], p[1] - a[1] - t * ab[1]];
        for c in 0..2 {
            e[k][c] -= 2.0 * r[c] * (1.0 - t);
            e[k + 1][c] -= 2.0 * r[c] * t;
        }
    }
    for i in 0..4 {
        close_all(&format!("∂v{i}"), &g[i], &e[i]);
    }
    fd_any(
        "polyline",
        |v: &Vec<[f64; 2]>| polyline_fit(v, &points),
        &verts,
        &g,
    );
}

/// Rodrigues' rotation of a point by the axis-angle vector ω.
#[differentiate]
fn rotate(w: [f64; 3], p: [f64; 3]) -> [f64; 3] {
    let th = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
    let k = [w[0] / th, w[1] / th, w[2] / th];
    let (s, c) = th.sin_cos();
    let kxp = [
        k[1] * p[2] - k[2] * p[1],
        k[2] * p[0] - k[0] * p[2],
        k[0] * p[1] - k[1] * p[0],
    ];
    let kp = k[0] * p[0] + k[1] * p[1] + k[2] * p[2];
    std::array::from_fn(|i| p[i] * c + kxp[i] * s + k[i] * kp * (1.0 - c))
}

/// Squared reprojection error of 3-D points through a pinhole camera with pose (ω, t) and
/// focal length f.
#[differentiate(wrt(pose, focal))]
fn reprojection(pose: &[f64; 6], focal: f64, points: &[[f64; 3]], pixels: &[[f64; 2]]) -> f64 {
    let w = [pose[0], pose[1], pose[2]];
    points
        .iter()
        .zip(pixels)
        .map(|(&p, uv)| {
            let r = rotate(w, p);
            let cam = [r[0] + pose[3], r[1] + pose[4], r[2] + pose[5]];
            let (u, v) = (focal * cam[0] / cam[2], focal * cam[1] / cam[2]);
            (u - uv[0]).powi(2) + (v - uv[1]).powi(2)
        })
        .sum()
}

#[test]
fn pinhole_reprojection_with_rodrigues_rotation() {
    let points: Vec<[f64; 3]> = (0..6)
        .map(|i| {
            let t = i as f64;
            [(0.9 * t).sin(), (1.3 * t).cos(), 4.0 + 0.3 * t]
        })
        .collect();
    let pixels: Vec<[f64; 2]> = (0..6)
        .map(|i| [0.1 * i as f64 - 0.2, 0.05 * i as f64])
        .collect();
    let pose = [0.05, -0.1, 0.02, 0.1, -0.05, 0.3];
    let focal = 0.9;
    let (v, (gp, gf)) = reprojection_grad(&pose, focal, &points, &pixels);
    close(
        "value",
        v,
        reprojection(&pose, focal, &points, &pixels),
        TOL,
    );
    // ∂f = Σ 2[(u − ū)x/z + (v − v̄)y/z]; ∂t = Σ 2f[(u − ū)(1/z, 0, −x/z²) + (v − v̄)(0, 1/z, −y/z²)]
    let (mut ef, mut et) = (0.0, [0.0; 3]);
    for (&p, uv) in points.iter().zip(&pixels) {
        let r = rotate([pose[0], pose[1], pose[2]], p);
        let (x, y, z) = (r[0] + pose[3], r[1] + pose[4], r[2] + pose[5]);
        let (du, dv) = (focal * x / z - uv[0], focal * y / z - uv[1]);
        ef += 2.0 * (du * x / z + dv * y / z);
        et[0] += 2.0 * focal * du / z;
        et[1] += 2.0 * focal * dv / z;
        et[2] -= 2.0 * focal * (du * x + dv * y) / (z * z);
    }
    close("∂f", gf, ef, 1e-11);
    close_all("∂t", &gp[3..], &et);
    fd_any(
        "reprojection",
        |q: &([f64; 6], f64)| reprojection(&q.0, q.1, &points, &pixels),
        &(pose, focal),
        &(gp, gf),
    );
}

/// Algebraic-distance ellipse fit: points mapped into the ellipse's frame (centre, semi-axes,
/// rotation in a struct), the residual (x/a)² + (y/b)² − 1.
#[derive(Clone, Debug, Differentiable)]
struct Ellipse {
    cx: f64,
    cy: f64,
    a: f64,
    b: f64,
    angle: f64,
}

#[differentiate(wrt(e))]
fn ellipse_fit(e: &Ellipse, points: &[(f64, f64)]) -> f64 {
    let (s, c) = e.angle.sin_cos();
    points
        .iter()
        .map(|&(px, py)| {
            let (dx, dy) = (px - e.cx, py - e.cy);
            let (u, v) = (c * dx + s * dy, -s * dx + c * dy);
            ((u / e.a).powi(2) + (v / e.b).powi(2) - 1.0).powi(2)
        })
        .sum()
}

#[test]
fn ellipse_fit_in_a_struct() {
    let points: Vec<(f64, f64)> = (0..10)
        .map(|i| {
            let t = 0.63 * i as f64;
            (
                1.0 + 2.1 * t.cos() + 0.05 * (3.0 * t).sin(),
                -0.5 + 0.9 * t.sin(),
            )
        })
        .collect();
    let e = Ellipse {
        cx: 0.9,
        cy: -0.4,
        a: 2.0,
        b: 1.0,
        angle: 0.1,
    };
    let (v, g) = ellipse_fit_grad(&e, &points);
    close("value", v, ellipse_fit(&e, &points), TOL);
    // ρ = u²/a² + v²/b² − 1: ∂a = Σ 2ρ(−2u²/a³), ∂b = Σ 2ρ(−2v²/b³), ∂cx = Σ 2ρ(2u/a²·(−c) +
    // 2v/b²·s), ∂cy = Σ 2ρ(2u/a²·(−s) + 2v/b²·(−c)), ∂θ = Σ 2ρ(2u v/a² − 2v u/b²)
    let (s, c) = e.angle.sin_cos();
    let mut ex = [0.0; 5];
    for &(px, py) in &points {
        let (dx, dy) = (px - e.cx, py - e.cy);
        let (u, w) = (c * dx + s * dy, -s * dx + c * dy);
        let rho = (u / e.a).powi(2) + (w / e.b).powi(2) - 1.0;
        let (gu, gw) = (
            2.0 * rho * 2.0 * u / (e.a * e.a),
            2.0 * rho * 2.0 * w / (e.b * e.b),
        );
        ex[0] += gu * (-c) + gw * s;
        ex[1] += gu * (-s) + gw * (-c);
        ex[2] += 2.0 * rho * (-2.0 * u * u / e.a.powi(3));
        ex[3] += 2.0 * rho * (-2.0 * w * w / e.b.powi(3));
        ex[4] += gu * w + gw * (-u);
    }
    close_all("∂(cx, cy, a, b, θ)", &[g.cx, g.cy, g.a, g.b, g.angle], &ex);
    fd_any("ellipse", |e: &Ellipse| ellipse_fit(e, &points), &e, &g);
}

/// A polygon's area by the shoelace formula, each vertex zipped with the next by
/// `iter().cycle().skip(1)`, penalised against a target area.
#[differentiate(hessian, wrt(verts))]
fn shoelace_penalty(verts: &[[f64; 2]], target: f64) -> f64 {
    let twice: f64 = verts
        .iter()
        .zip(verts.iter().cycle().skip(1))
        .map(|(p, q)| p[0] * q[1] - q[0] * p[1])
        .sum();
    (0.5 * twice - target).powi(2)
}

#[test]
fn shoelace_area_by_cycle_skip() {
    let verts = vec![[0.0, 0.0], [2.0, 0.2], [2.3, 1.7], [0.4, 2.0]];
    let target = 3.0;
    let (v, g) = shoelace_penalty_grad(&verts, target);
    close("value", v, shoelace_penalty(&verts, target), TOL);
    // A = ½Σ(xᵢyᵢ₊₁ − xᵢ₊₁yᵢ): ∂A/∂xᵢ = ½(yᵢ₊₁ − yᵢ₋₁), ∂A/∂yᵢ = ½(xᵢ₋₁ − xᵢ₊₁); ∂ = 2(A − T)∂A
    let n = verts.len();
    let area = 0.5
        * (0..n)
            .map(|i| verts[i][0] * verts[(i + 1) % n][1] - verts[(i + 1) % n][0] * verts[i][1])
            .sum::<f64>();
    for i in 0..n {
        let (p, q) = (verts[(i + n - 1) % n], verts[(i + 1) % n]);
        close_all(
            &format!("∂v{i}"),
            &g[i],
            &[
                2.0 * (area - target) * 0.5 * (q[1] - p[1]),
                2.0 * (area - target) * 0.5 * (p[0] - q[0]),
            ],
        );
    }
    fd_any(
        "shoelace",
        |v: &Vec<[f64; 2]>| shoelace_penalty(v, target),
        &verts,
        &g,
    );
    let dir = vec![[0.1, -0.2], [0.3, 0.0], [-0.1, 0.2], [0.05, 0.1]];
    let (_, _, hv) = shoelace_penalty_hvp(&verts, target, &dir);
    let flat = |p: &[[f64; 2]]| p.iter().flatten().copied().collect::<Vec<f64>>();
    let unflat = |x: &[f64]| x.chunks(2).map(|c| [c[0], c[1]]).collect::<Vec<[f64; 2]>>();
    hvp_against_fd(
        "shoelace",
        |x| flat(&shoelace_penalty_grad(&unflat(x), target).1),
        &flat(&verts),
        &flat(&dir),
        &flat(&hv),
    );
}

// ---------------------------------------------------------------------------------------------
// Interpolation: a table lookup by a search loop, de Casteljau's Bézier by shrinking rows.
// ---------------------------------------------------------------------------------------------

/// Piecewise-linear interpolation in a table, the interval found by a `while` loop, clamped at
/// the ends by early returns.
#[differentiate]
fn lookup(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    if t <= xs[0] {
        return ys[0];
    }
    if t >= xs[xs.len() - 1] {
        return ys[ys.len() - 1];
    }
    let mut i = 0;
    while xs[i + 1] < t {
        i += 1;
    }
    let u = (t - xs[i]) / (xs[i + 1] - xs[i]);
    ys[i] * (1.0 - u) + ys[i + 1] * u
}

/// Squared misfit of a table-driven response at query points, with respect to the table's
/// values and a shift of the queries.
#[differentiate(wrt(ys, shift))]
fn table_fit(ys: &[f64], shift: f64, xs: &[f64], queries: &[f64], observed: &[f64]) -> f64 {
    queries
        .iter()
        .zip(observed)
        .map(|(&q, &o)| (lookup(xs, ys, q + shift) - o).powi(2))
        .sum()
}

#[test]
fn table_lookup_by_search_loop() {
    let xs = [0.0, 0.5, 1.2, 2.0, 3.1];
    let ys = vec![1.0, 1.4, 0.9, 0.3, 0.5];
    let queries = [-0.3, 0.2, 0.7, 1.0, 1.9, 2.6, 3.5];
    let observed = [1.1, 1.2, 1.3, 0.8, 0.4, 0.35, 0.6];
    let shift = 0.13;
    let (v, (gy, gs)) = table_fit_grad(&ys, shift, &xs, &queries, &observed);
    close(
        "value",
        v,
        table_fit(&ys, shift, &xs, &queries, &observed),
        TOL,
    );
    // inside interval i: ∂yᵢ = 2r(1 − u), ∂yᵢ₊₁ = 2ru, ∂shift = 2r(yᵢ₊₁ − yᵢ)/(xᵢ₊₁ − xᵢ);
    // outside the table: the end value, ∂ of that end = 2r, ∂shift = 0
    let (mut ey, mut es) = (vec![0.0; 5], 0.0);
    for (&q, &o) in queries.iter().zip(&observed) {
        let t = q + shift;
        let r = lookup(&xs, &ys, t) - o;
        if t <= xs[0] {
            ey[0] += 2.0 * r;
        } else if t >= xs[4] {
            ey[4] += 2.0 * r;
        } else {
            let i = (0..4).find(|&i| t <= xs[i + 1]).unwrap();
            let u = (t - xs[i]) / (xs[i + 1] - xs[i]);
            ey[i] += 2.0 * r * (1.0 - u);
            ey[i + 1] += 2.0 * r * u;
            es += 2.0 * r * (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]);
        }
    }
    close_all("∂y", &gy, &ey);
    close("∂shift", gs, es, TOL);
    fd_any(
        "table",
        |p: &(Vec<f64>, f64)| table_fit(&p.0, p.1, &xs, &queries, &observed),
        &(ys.clone(), shift),
        &(gy.clone(), gs),
    );
}

/// A Bézier curve's point by de Casteljau: the control points replaced by the `windows(2)`
/// blends of their neighbours until one is left.
#[differentiate]
fn de_casteljau(ctrl: &[[f64; 2]], t: f64) -> [f64; 2] {
    let mut pts = ctrl.to_vec();
    while pts.len() > 1 {
        pts = pts
            .windows(2)
            .map(|w| {
                [
                    (1.0 - t) * w[0][0] + t * w[1][0],
                    (1.0 - t) * w[0][1] + t * w[1][1],
                ]
            })
            .collect();
    }
    pts[0]
}

/// Squared distance of a Bézier curve's samples from target points.
#[differentiate(wrt(ctrl))]
fn bezier_fit(ctrl: &[[f64; 2]], ts: &[f64], targets: &[[f64; 2]]) -> f64 {
    ts.iter()
        .zip(targets)
        .map(|(&t, q)| {
            let p = de_casteljau(ctrl, t);
            (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)
        })
        .sum()
}

#[test]
fn bezier_fit_by_de_casteljau_rows() {
    let ctrl = vec![[0.0, 0.0], [0.5, 1.2], [1.6, 1.1], [2.0, 0.1]];
    let ts = [0.1, 0.3, 0.5, 0.7, 0.9];
    let targets = [[0.2, 0.3], [0.6, 0.8], [1.0, 0.95], [1.4, 0.8], [1.85, 0.3]];
    let (v, g) = bezier_fit_grad(&ctrl, &ts, &targets);
    close("value", v, bezier_fit(&ctrl, &ts, &targets), TOL);
    // p(t) = Σₖ Bₖ(t) Pₖ with Bernstein weights Bₖ = C(3,k) tᵏ(1 − t)³⁻ᵏ: ∂Pₖ = Σ 2(p − q) Bₖ(t)
    let binom = [1.0, 3.0, 3.0, 1.0];
    let mut e = vec![[0.0; 2]; 4];
    for (&t, q) in ts.iter().zip(&targets) {
        let b: Vec<f64> = (0..4)
            .map(|k| binom[k] * t.powi(k as i32) * (1.0 - t).powi(3 - k as i32))
            .collect();
        let p: [f64; 2] = std::array::from_fn(|c| (0..4).map(|k| b[k] * ctrl[k][c]).sum());
        close("de Casteljau point", p[0], de_casteljau(&ctrl, t)[0], 1e-12);
        for k in 0..4 {
            for c in 0..2 {
                e[k][c] += 2.0 * (p[c] - q[c]) * b[k];
            }
        }
    }
    for k in 0..4 {
        close_all(&format!("∂P{k}"), &g[k], &e[k]);
    }
    fd_any(
        "bezier",
        |c: &Vec<[f64; 2]>| bezier_fit(c, &ts, &targets),
        &ctrl,
        &g,
    );
}

// ---------------------------------------------------------------------------------------------
// The forms the programs above needed, each on its own: a table cycled over the steps of an
// integration, a trail of points kept as a `Vec<[f64; 2]>` whose length changes, an array a
// generic helper returns from `std::array::from_fn`.
// ---------------------------------------------------------------------------------------------

/// x' = −κx + f(t) by Euler steps, the forcing a table repeated by `iter().cycle().take(n)`.
#[differentiate(hessian, wrt(forcing, kappa))]
fn periodic_forcing(
    forcing: &[f64],
    kappa: f64,
    x0: f64,
    h: f64,
    steps: usize,
    target: f64,
) -> f64 {
    let mut x = x0;
    for &f in forcing.iter().cycle().take(steps) {
        x += h * (-kappa * x + f);
    }
    (x - target).powi(2)
}

#[test]
fn forcing_table_cycled_over_the_steps() {
    let forcing = vec![1.0, 0.4, -0.3, 0.8, 0.1];
    let (kappa, x0, h, steps, target) = (0.7, 0.2, 0.1, 23, 0.9);
    let (v, (gf, gk)) = periodic_forcing_grad(&forcing, kappa, x0, h, steps, target);
    close(
        "value",
        v,
        periodic_forcing(&forcing, kappa, x0, h, steps, target),
        TOL,
    );
    // x_N = aᴺx₀ + h Σₙ a^{N−1−n} f_{n mod m}, a = 1 − hκ: ∂f_j = 2(x_N − T) h Σ_{n ≡ j} a^{N−1−n};
    // ∂κ by the tangent recursion s ← a s − h xₙ
    let a = 1.0 - h * kappa;
    let (mut x, mut s) = (x0, 0.0);
    for n in 0..steps {
        s = a * s - h * x;
        x = a * x + h * forcing[n % 5];
    }
    let ef: Vec<f64> = (0..5)
        .map(|j| {
            (0..steps)
                .filter(|n| n % 5 == j)
                .map(|n| 2.0 * (x - target) * h * a.powi((steps - 1 - n) as i32))
                .sum()
        })
        .collect();
    close_all("∂forcing", &gf, &ef);
    close("∂κ", gk, 2.0 * (x - target) * s, 1e-12);
    fd_any(
        "cycled forcing",
        |p: &(Vec<f64>, f64)| periodic_forcing(&p.0, p.1, x0, h, steps, target),
        &(forcing.clone(), kappa),
        &(gf.clone(), gk),
    );
    // H·v along the forcing: 2h² (Σ_{n≡j} a^{N−1−n}) (Σ_{n≡k} a^{N−1−n}) v_k
    let dir = vec![0.3, -0.1, 0.2, 0.5, -0.4];
    let (_, _, (hf, _)) = periodic_forcing_hvp(&forcing, kappa, x0, h, steps, target, &dir, 0.0);
    let w: Vec<f64> = (0..5)
        .map(|j| {
            (0..steps)
                .filter(|n| n % 5 == j)
                .map(|n| h * a.powi((steps - 1 - n) as i32))
                .sum()
        })
        .collect();
    let wv: f64 = w.iter().zip(&dir).map(|(a, b)| a * b).sum();
    let eh: Vec<f64> = w.iter().map(|wj| 2.0 * wj * wv).collect();
    close_all("H·v (forcing)", &hf, &eh);
}

/// The centroid of the last four positions of a point moving at constant velocity, the trail a
/// `Vec<[f64; 2]>` that drops its oldest point (unread) once it holds more than four.
#[differentiate(wrt(p0, vel, h))]
fn trail_centroid_miss(p0: [f64; 2], vel: [f64; 2], h: f64, steps: usize, target: [f64; 2]) -> f64 {
    let mut trail: Vec<[f64; 2]> = Vec::new();
    let mut p = p0;
    for _ in 0..steps {
        p = [p[0] + h * vel[0], p[1] + h * vel[1]];
        trail.push(p);
        if trail.len() > 4 {
            trail.remove(0);
        }
    }
    let n = trail.len() as f64;
    let c = trail
        .iter()
        .fold([0.0, 0.0], |acc, q| [acc[0] + q[0] / n, acc[1] + q[1] / n]);
    (c[0] - target[0]).powi(2) + (c[1] - target[1]).powi(2)
}

#[test]
fn trail_of_points_dropping_its_oldest() {
    let (p0, vel, h, steps, target) = ([0.1, -0.2], [0.8, 0.5], 0.1, 9, [0.5, 0.3]);
    let (v, (gp, gv, gh)) = trail_centroid_miss_grad(p0, vel, h, steps, target);
    close(
        "value",
        v,
        trail_centroid_miss(p0, vel, h, steps, target),
        TOL,
    );
    // c = p₀ + h k̄ v with k̄ the mean of the last four step counts (6..=9): ∂p₀ = 2(c − t),
    // ∂v = 2(c − t) h k̄, ∂h = 2(c − t)·v k̄
    let kbar = 7.5;
    let c = [p0[0] + h * kbar * vel[0], p0[1] + h * kbar * vel[1]];
    let r = [2.0 * (c[0] - target[0]), 2.0 * (c[1] - target[1])];
    close_all("∂p₀", &gp, &r);
    close_all("∂v", &gv, &[r[0] * h * kbar, r[1] * h * kbar]);
    close("∂h", gh, (r[0] * vel[0] + r[1] * vel[1]) * kbar, 1e-12);
    fd_any(
        "trail",
        |q: &([f64; 2], [f64; 2], f64)| trail_centroid_miss(q.0, q.1, q.2, steps, target),
        &(p0, vel, h),
        &(gp, gv, gh),
    );
}

/// A point on the segment from a to b, the array built by `std::array::from_fn` as the helper's
/// value, generic over the float.
#[differentiate(hessian)]
fn lerp3<F: Float>(a: [F; 3], b: [F; 3], t: F) -> [F; 3] {
    std::array::from_fn(|i| a[i] + (b[i] - a[i]) * t)
}

#[differentiate(hessian, wrt(t))]
fn lerp_miss(a: [f64; 3], b: [f64; 3], t: f64, q: [f64; 3]) -> f64 {
    let p = lerp3(a, b, t);
    p.iter().zip(q.iter()).map(|(x, y)| (x - y).powi(2)).sum()
}

#[test]
fn array_from_fn_as_a_generic_helpers_value() {
    let (a, b, q) = ([0.0, 1.0, 2.0], [1.0, -1.0, 0.5], [0.4, 0.2, 1.0]);
    let t = 0.35;
    let (v, g) = lerp_miss_grad(a, b, t, q);
    close("value", v, lerp_miss(a, b, t, q), TOL);
    // ∂t = Σ 2(pᵢ − qᵢ)(bᵢ − aᵢ), ∂²t = 2‖b − a‖²
    let e: f64 = (0..3)
        .map(|i| 2.0 * (a[i] + (b[i] - a[i]) * t - q[i]) * (b[i] - a[i]))
        .sum();
    close("∂t", g, e, TOL);
    fd("lerp", |t| lerp_miss(a, b, t, q), t, g);
    let (_, _, h) = lerp_miss_hvp(a, b, t, q, 1.0);
    close(
        "∂²t",
        h,
        2.0 * (0..3).map(|i| (b[i] - a[i]).powi(2)).sum::<f64>(),
        TOL,
    );
    let tg = forward("lerp").one(
        t,
        |t| lerp_miss(a, b, t, q),
        |t, dt| lerp_miss_jvp(a, b, t, q, dt),
        |t| lerp_miss_vjp(a, b, t, q),
    );
    tangents_are("lerp", &tg, e, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// More likelihoods: beta through the generic `ln_gamma` named with a turbofish, Weibull with
// censoring flags.
// ---------------------------------------------------------------------------------------------

/// Beta(a, b) negative log-likelihood: −Σ[(a − 1) ln x + (b − 1) ln(1 − x)] + n ln B(a, b), the
/// log-beta by the generic helper named with its type.
#[differentiate(wrt(a, b))]
fn beta_nll(a: f64, b: f64, xs: &[f64]) -> f64 {
    let log_beta = ln_gamma::<f64>(a) + ln_gamma::<f64>(b) - ln_gamma::<f64>(a + b);
    let n = xs.len() as f64;
    n * log_beta
        - xs.iter()
            .map(|&x| (a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln())
            .sum::<f64>()
}

#[test]
fn beta_likelihood_through_turbofished_ln_gamma() {
    let xs: Vec<f64> = data(18, 0.4).iter().map(|v| 0.5 + 0.4 * v).collect();
    let (a, b) = (2.2, 3.1);
    let (v, (ga, gb)) = beta_nll_grad(a, b, &xs);
    close("value", v, beta_nll(a, b, &xs), TOL);
    // ∂a = n(ψ(a) − ψ(a + b)) − Σ ln x, ∂b = n(ψ(b) − ψ(a + b)) − Σ ln(1 − x)
    let n = xs.len() as f64;
    let ea =
        n * (lanczos_digamma(a) - lanczos_digamma(a + b)) - xs.iter().map(|x| x.ln()).sum::<f64>();
    let eb = n * (lanczos_digamma(b) - lanczos_digamma(a + b))
        - xs.iter().map(|x| (1.0 - x).ln()).sum::<f64>();
    close2("∂(a, b)", (ga, gb), (ea, eb));
    fd2("beta", |p, q| beta_nll(p, q, &xs), (a, b), (ga, gb));
}

/// Weibull(k, λ) negative log-likelihood of lifetimes, right-censored ones (`false` flags)
/// contributing only their survival: the times, flags and weights zipped together.
#[differentiate(hessian, wrt(k, lam))]
fn weibull_nll(k: f64, lam: f64, times: &[f64], observed: &[bool], weights: &[f64]) -> f64 {
    times
        .iter()
        .zip(observed)
        .zip(weights)
        .map(|((&t, &seen), &w)| {
            let z = t / lam;
            let log_surv = -z.powf(k);
            let ll = if seen {
                k.ln() - lam.ln() + (k - 1.0) * z.ln() + log_surv
            } else {
                log_surv
            };
            -w * ll
        })
        .sum()
}

#[test]
fn weibull_survival_with_censoring_flags() {
    let times: Vec<f64> = data(14, 2.0).iter().map(|v| 2.0 + 1.5 * v).collect();
    let observed: Vec<bool> = (0..14).map(|i| i % 3 != 0).collect();
    let weights: Vec<f64> = (0..14).map(|i| 1.0 + 0.1 * i as f64).collect();
    let (k, lam) = (1.7, 2.4);
    let (v, (gk, gl)) = weibull_nll_grad(k, lam, &times, &observed, &weights);
    close(
        "value",
        v,
        weibull_nll(k, lam, &times, &observed, &weights),
        TOL,
    );
    // z = t/λ: ∂k = −Σ w[δ(1/k + ln z) − zᵏ ln z], ∂λ = −Σ w[δ(−k/λ) + k zᵏ/λ]
    let (mut ek, mut el) = (0.0, 0.0);
    for i in 0..14 {
        let z = times[i] / lam;
        let d = if observed[i] { 1.0 } else { 0.0 };
        ek -= weights[i] * (d * (1.0 / k + z.ln()) - z.powf(k) * z.ln());
        el -= weights[i] * (d * (-k / lam) + k * z.powf(k) / lam);
    }
    close2("∂(k, λ)", (gk, gl), (ek, el));
    fd2(
        "weibull",
        |a, b| weibull_nll(a, b, &times, &observed, &weights),
        (k, lam),
        (gk, gl),
    );
    let (_, _, (h0, h1)) = weibull_nll_hvp(k, lam, &times, &observed, &weights, 0.3, -0.7);
    let e = 1e-6;
    let gp = weibull_nll_grad(k + 0.3 * e, lam - 0.7 * e, &times, &observed, &weights).1;
    let gm = weibull_nll_grad(k - 0.3 * e, lam + 0.7 * e, &times, &observed, &weights).1;
    close("(H·v)k", h0, (gp.0 - gm.0) / (2.0 * e), 1e-6);
    close("(H·v)λ", h1, (gp.1 - gm.1) / (2.0 * e), 1e-6);
    let t = forward("weibull").two(
        (k, lam),
        |a, b| weibull_nll(a, b, &times, &observed, &weights),
        |a, b, da, db| weibull_nll_jvp(a, b, &times, &observed, &weights, da, db),
        |a, b| weibull_nll_vjp(a, b, &times, &observed, &weights),
    );
    tangents_are2("weibull", &t, (gk, gl), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// More integrators: gravitating bodies as structs, an RK4 step as a helper given a closure, a
// Van der Pol run to a final time with a shortened last step.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
struct Body {
    pos: [f64; 2],
    vel: [f64; 2],
}

/// Accelerations of softened point masses on each other.
#[differentiate]
fn accelerations(bodies: &[Body], masses: &[f64], soft: f64) -> Vec<[f64; 2]> {
    bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut a = [0.0, 0.0];
            for (j, o) in bodies.iter().enumerate() {
                if i == j {
                    continue;
                }
                let (dx, dy) = (o.pos[0] - b.pos[0], o.pos[1] - b.pos[1]);
                let r2 = dx * dx + dy * dy + soft * soft;
                let f = masses[j] / (r2 * r2.sqrt());
                a[0] += f * dx;
                a[1] += f * dy;
            }
            a
        })
        .collect()
}

/// Kick–drift–kick steps of a few bodies; the loss is the squared distance of the last body's
/// final position from a target, with respect to the masses.
#[differentiate(wrt(masses))]
fn nbody_miss(
    masses: &[f64],
    start: &[Body],
    soft: f64,
    h: f64,
    steps: usize,
    target: [f64; 2],
) -> f64 {
    let mut bodies = start.to_vec();
    for _ in 0..steps {
        let acc = accelerations(&bodies, masses, soft);
        for (b, a) in bodies.iter_mut().zip(&acc) {
            b.vel[0] += 0.5 * h * a[0];
            b.vel[1] += 0.5 * h * a[1];
            b.pos[0] += h * b.vel[0];
            b.pos[1] += h * b.vel[1];
        }
        let acc = accelerations(&bodies, masses, soft);
        for (b, a) in bodies.iter_mut().zip(&acc) {
            b.vel[0] += 0.5 * h * a[0];
            b.vel[1] += 0.5 * h * a[1];
        }
    }
    let last = bodies[bodies.len() - 1].pos;
    (last[0] - target[0]).powi(2) + (last[1] - target[1]).powi(2)
}

fn nbody_dual(
    masses: &[Dual],
    start: &[Body],
    soft: f64,
    h: f64,
    steps: usize,
    target: [f64; 2],
) -> Dual {
    let n = start.len();
    let mut pos: Vec<[Dual; 2]> = start.iter().map(|b| [dc(b.pos[0]), dc(b.pos[1])]).collect();
    let mut vel: Vec<[Dual; 2]> = start.iter().map(|b| [dc(b.vel[0]), dc(b.vel[1])]).collect();
    let acc = |pos: &[[Dual; 2]]| -> Vec<[Dual; 2]> {
        (0..n)
            .map(|i| {
                let mut a = [dc(0.0), dc(0.0)];
                for j in 0..n {
                    if i != j {
                        let (dx, dy) = (pos[j][0] - pos[i][0], pos[j][1] - pos[i][1]);
                        let r2 = dx * dx + dy * dy + soft * soft;
                        let f = masses[j] / (r2 * r2.sqrt());
                        a[0] = a[0] + f * dx;
                        a[1] = a[1] + f * dy;
                    }
                }
                a
            })
            .collect()
    };
    for _ in 0..steps {
        let a = acc(&pos);
        for i in 0..n {
            for c in 0..2 {
                vel[i][c] = vel[i][c] + 0.5 * h * a[i][c];
                pos[i][c] = pos[i][c] + h * vel[i][c];
            }
        }
        let a = acc(&pos);
        for i in 0..n {
            for c in 0..2 {
                vel[i][c] = vel[i][c] + 0.5 * h * a[i][c];
            }
        }
    }
    (pos[n - 1][0] - target[0]).sq() + (pos[n - 1][1] - target[1]).sq()
}

#[test]
fn gravitating_bodies_by_kick_drift_kick() {
    let start = vec![
        Body {
            pos: [0.0, 0.0],
            vel: [0.0, -0.1],
        },
        Body {
            pos: [1.0, 0.0],
            vel: [0.0, 0.9],
        },
        Body {
            pos: [-0.6, 0.8],
            vel: [-0.5, -0.3],
        },
    ];
    let masses = vec![1.0, 0.1, 0.05];
    let (soft, h, steps, target) = (0.1, 0.02, 60, [-1.0, 0.3]);
    let (v, g) = nbody_miss_grad(&masses, &start, soft, h, steps, target);
    close(
        "value",
        v,
        nbody_miss(&masses, &start, soft, h, steps, target),
        TOL,
    );
    // each ∂mⱼ by the tangent-linear kick–drift–kick recursion (dual numbers)
    for j in 0..3 {
        let md: Vec<Dual> = (0..3)
            .map(|i| if i == j { dv(masses[i]) } else { dc(masses[i]) })
            .collect();
        close(
            &format!("∂m{j}"),
            g[j],
            nbody_dual(&md, &start, soft, h, steps, target).d,
            1e-10,
        );
    }
    fd_vec(
        "n-body",
        |m| nbody_miss(m, &start, soft, h, steps, target),
        &masses,
        &g,
    );
}

/// One classical RK4 step of y' = f(t, y), the field given as a closure.
fn rk4_step(f: impl Fn(f64, f64) -> f64, t: f64, y: f64, h: f64) -> f64 {
    let k1 = f(t, y);
    let k2 = f(t + 0.5 * h, y + 0.5 * h * k1);
    let k3 = f(t + 0.5 * h, y + 0.5 * h * k2);
    let k4 = f(t + h, y + h * k3);
    y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
}

/// Logistic growth with harvesting, y' = r y (1 − y/K) − q sin²(t), by RK4 steps written out
/// with the field a closure in a local, the loss on the final population.
#[differentiate(hessian, wrt(r, cap))]
fn harvest_final(r: f64, cap: f64, q: f64, y0: f64, h: f64, steps: usize, target: f64) -> f64 {
    let field = |t: f64, y: f64| r * y * (1.0 - y / cap) - q * t.sin().powi(2);
    let mut y = y0;
    for n in 0..steps {
        let t = n as f64 * h;
        let k1 = field(t, y);
        let k2 = field(t + 0.5 * h, y + 0.5 * h * k1);
        let k3 = field(t + 0.5 * h, y + 0.5 * h * k2);
        let k4 = field(t + h, y + h * k3);
        y += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    (y - target).powi(2)
}

fn harvest_dual(r: Dual, cap: Dual, q: f64, y0: f64, h: f64, steps: usize, target: f64) -> Dual {
    let field = |t: f64, y: Dual| r * y * (1.0 - y / cap) - q * t.sin().powi(2);
    let mut y = dc(y0);
    for n in 0..steps {
        let t = n as f64 * h;
        let k1 = field(t, y);
        let k2 = field(t + 0.5 * h, y + 0.5 * h * k1);
        let k3 = field(t + 0.5 * h, y + 0.5 * h * k2);
        let k4 = field(t + h, y + h * k3);
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    (y - target).sq()
}

#[test]
fn logistic_harvest_by_rk4_with_closure_field() {
    let (r, cap, q, y0, h, n, target) = (0.9, 5.0, 0.4, 0.5, 0.1, 50, 3.5);
    let (v, (gr, gc)) = harvest_final_grad(r, cap, q, y0, h, n, target);
    close("value", v, harvest_final(r, cap, q, y0, h, n, target), TOL);
    // the plain step through the helper agrees with the function
    let mut y = y0;
    for k in 0..n {
        y = rk4_step(
            |t, y| r * y * (1.0 - y / cap) - q * t.sin().powi(2),
            k as f64 * h,
            y,
            h,
        );
    }
    close("helper", (y - target).powi(2), v, 1e-12);
    close(
        "∂r",
        gr,
        harvest_dual(dv(r), dc(cap), q, y0, h, n, target).d,
        1e-11,
    );
    close(
        "∂K",
        gc,
        harvest_dual(dc(r), dv(cap), q, y0, h, n, target).d,
        1e-11,
    );
    fd2(
        "harvest",
        |a, b| harvest_final(a, b, q, y0, h, n, target),
        (r, cap),
        (gr, gc),
    );
    let t = forward("harvest").two(
        (r, cap),
        |a, b| harvest_final(a, b, q, y0, h, n, target),
        |a, b, da, db| harvest_final_jvp(a, b, q, y0, h, n, target, da, db),
        |a, b| harvest_final_vjp(a, b, q, y0, h, n, target),
    );
    tangents_are2("harvest", &t, (gr, gc), 1e-10);
    let (_, _, (h0, h1)) = harvest_final_hvp(r, cap, q, y0, h, n, target, 1.0, 0.0);
    let e = 1e-6;
    let gp = harvest_final_grad(r + e, cap, q, y0, h, n, target).1;
    let gm = harvest_final_grad(r - e, cap, q, y0, h, n, target).1;
    close("H₀₀", h0, (gp.0 - gm.0) / (2.0 * e), 1e-6);
    close("H₁₀", h1, (gp.1 - gm.1) / (2.0 * e), 1e-6);
}

/// The Van der Pol oscillator run to a final time by Euler steps in a `loop`, the last step
/// shortened to land on `t_end`; the loss is the final position.
#[differentiate(wrt(mu, x0))]
fn van_der_pol_end(mu: f64, x0: f64, h: f64, t_end: f64) -> f64 {
    let (mut x, mut v, mut t) = (x0, 0.0, 0.0);
    loop {
        if t >= t_end {
            break;
        }
        let dt = h.min(t_end - t);
        let a = mu * (1.0 - x * x) * v - x;
        x += dt * v;
        v += dt * a;
        t += dt;
    }
    x
}

fn vdp_dual(mu: Dual, x0: Dual, h: f64, t_end: f64) -> Dual {
    let (mut x, mut v, mut t) = (x0, dc(0.0), 0.0);
    while t < t_end {
        let dt = h.min(t_end - t);
        let a = mu * (1.0 - x * x) * v - x;
        x = x + dt * v;
        v = v + dt * a;
        t += dt;
    }
    x
}

#[test]
fn van_der_pol_with_shortened_last_step() {
    let (mu, x0, h, t_end) = (1.3, 0.8, 0.03, 2.0);
    let (v, (gm, gx)) = van_der_pol_end_grad(mu, x0, h, t_end);
    close("value", v, van_der_pol_end(mu, x0, h, t_end), TOL);
    close("∂μ", gm, vdp_dual(dv(mu), dc(x0), h, t_end).d, 1e-11);
    close("∂x₀", gx, vdp_dual(dc(mu), dv(x0), h, t_end).d, 1e-11);
    fd2(
        "van der pol",
        |a, b| van_der_pol_end(a, b, h, t_end),
        (mu, x0),
        (gm, gx),
    );
}

// ---------------------------------------------------------------------------------------------
// Finance again: an American put rolled back in one `Vec` that `pop`s its last node each
// step, a Sharpe ratio over `chunks` of return rows.
// ---------------------------------------------------------------------------------------------

/// An American put on a CRR tree: the node values rolled back in place, each step writing
/// `v[i]` from `v[i]` and `v[i + 1]` and then dropping the last node with `pop()`.
#[differentiate(wrt(spot, strike))]
fn american_put_pop(
    spot: f64,
    strike: f64,
    sigma: f64,
    rate: f64,
    expiry: f64,
    steps: usize,
) -> f64 {
    let dt = expiry / steps as f64;
    let u = (sigma * dt.sqrt()).exp();
    let d = 1.0 / u;
    let p = ((rate * dt).exp() - d) / (u - d);
    let disc = (-rate * dt).exp();
    let mut v: Vec<f64> = (0..=steps)
        .map(|i| (strike - spot * u.powi(i as i32) * d.powi((steps - i) as i32)).max(0.0))
        .collect();
    for step in (0..steps).rev() {
        for i in 0..=step {
            let cont = disc * (p * v[i + 1] + (1.0 - p) * v[i]);
            let exercise = strike - spot * u.powi(i as i32) * d.powi((step - i) as i32);
            v[i] = cont.max(exercise);
        }
        v.pop();
    }
    v[0]
}

#[test]
fn american_put_rolled_back_with_pop() {
    let (s, k, sigma, r, t, n) = (100.0, 104.0, 0.3, 0.05, 1.0, 25);
    let (v, (gs, gk)) = american_put_pop_grad(s, k, sigma, r, t, n);
    close("value", v, american_put_pop(s, k, sigma, r, t, n), TOL);
    // the tree by hand with (value, ∂S, ∂K) per node: a held node takes the discounted
    // mixture of its children's, an exercised one (K − S uⁱdʲ) takes (−uⁱdʲ, 1)
    let dt = t / n as f64;
    let u = (sigma * dt.sqrt()).exp();
    let d = 1.0 / u;
    let p = ((r * dt).exp() - d) / (u - d);
    let disc = (-r * dt).exp();
    let ud = |i: usize, j: usize| u.powi(i as i32) * d.powi((j - i) as i32);
    let mut node: Vec<(f64, f64, f64)> = (0..=n)
        .map(|i| {
            let x = k - s * ud(i, n);
            if x > 0.0 {
                (x, -ud(i, n), 1.0)
            } else {
                (0.0, 0.0, 0.0)
            }
        })
        .collect();
    for step in (0..n).rev() {
        node = (0..=step)
            .map(|i| {
                let (a, b) = (node[i], node[i + 1]);
                let cont = (
                    disc * (p * b.0 + (1.0 - p) * a.0),
                    disc * (p * b.1 + (1.0 - p) * a.1),
                    disc * (p * b.2 + (1.0 - p) * a.2),
                );
                let ex = k - s * ud(i, step);
                if cont.0 >= ex {
                    cont
                } else {
                    (ex, -ud(i, step), 1.0)
                }
            })
            .collect();
    }
    close("tree value", v, node[0].0, 1e-12);
    close("∂S", gs, node[0].1, 1e-12);
    close("∂K", gk, node[0].2, 1e-12);
    fd2(
        "american put",
        |a, b| american_put_pop(a, b, sigma, r, t, n),
        (s, k),
        (gs, gk),
    );
}

/// The (negative) Sharpe ratio of a portfolio over return rows (`chunks` of a flat table),
/// the weights normalised to sum to one.
#[differentiate(hessian, wrt(raw))]
fn neg_sharpe(raw: &[f64], returns: &[f64], rf: f64) -> f64 {
    let total: f64 = raw.iter().sum();
    let w: Vec<f64> = raw.iter().map(|r| r / total).collect();
    let port: Vec<f64> = returns
        .chunks(w.len())
        .map(|row| row.iter().zip(&w).map(|(r, wi)| r * wi).sum::<f64>())
        .collect();
    let n = port.len() as f64;
    let mean = port.iter().sum::<f64>() / n;
    let var = port.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0);
    -(mean - rf) / var.sqrt()
}

#[test]
fn sharpe_ratio_over_chunked_return_rows() {
    let assets = 3;
    let returns: Vec<f64> = data(36, 0.8)
        .iter()
        .enumerate()
        .map(|(i, v)| 0.01 * (i % assets) as f64 + 0.05 * v)
        .collect();
    let raw = vec![0.5, 0.3, 0.4];
    let rf = 0.002;
    let (v, g) = neg_sharpe_grad(&raw, &returns, rf);
    close("value", v, neg_sharpe(&raw, &returns, rf), TOL);
    // w = raw/Σraw; with μ = mᵀw, σ² = wᵀCw (C the sample covariance): ∂S/∂w = −[m/σ −
    // (μ − r_f) Cw/σ³]; ∂w/∂rawⱼ = (eⱼ − w)/Σraw
    let total: f64 = raw.iter().sum();
    let w: Vec<f64> = raw.iter().map(|r| r / total).collect();
    let rows: Vec<&[f64]> = returns.chunks(assets).collect();
    let n = rows.len() as f64;
    let m: Vec<f64> = (0..assets)
        .map(|a| rows.iter().map(|r| r[a]).sum::<f64>() / n)
        .collect();
    let cov = |a: usize, b: usize| {
        rows.iter()
            .map(|r| (r[a] - m[a]) * (r[b] - m[b]))
            .sum::<f64>()
            / (n - 1.0)
    };
    let mu: f64 = (0..assets).map(|a| m[a] * w[a]).sum();
    let cw: Vec<f64> = (0..assets)
        .map(|a| (0..assets).map(|b| cov(a, b) * w[b]).sum())
        .collect();
    let sig = (0..assets).map(|a| w[a] * cw[a]).sum::<f64>().sqrt();
    let dw: Vec<f64> = (0..assets)
        .map(|a| -(m[a] / sig - (mu - rf) * cw[a] / sig.powi(3)))
        .collect();
    let dot: f64 = (0..assets).map(|a| dw[a] * w[a]).sum();
    let e: Vec<f64> = (0..assets).map(|j| (dw[j] - dot) / total).collect();
    close_all("∂raw", &g, &e);
    fd_vec("sharpe", |r| neg_sharpe(r, &returns, rf), &raw, &g);
    let dir = vec![0.2, -0.1, 0.3];
    let (_, _, hv) = neg_sharpe_hvp(&raw, &returns, rf, &dir);
    hvp_against_fd(
        "sharpe",
        |r| neg_sharpe_grad(r, &returns, rf).1,
        &raw,
        &dir,
        &hv,
    );
}

// ---------------------------------------------------------------------------------------------
// Inverse problems: ridge-regularised least squares as a struct with methods, the best of
// several starts chosen by `max_by`.
// ---------------------------------------------------------------------------------------------

/// A linear inverse problem: rows of the forward operator and the data.
struct Inverse {
    rows: Vec<Vec<f64>>,
    data: Vec<f64>,
}

#[differentiate]
impl Inverse {
    /// The predicted data of model `m`, row by row.
    #[differentiate(wrt(m))]
    fn predict(&self, m: &[f64]) -> Vec<f64> {
        self.rows
            .iter()
            .map(|row| row.iter().zip(m).map(|(a, x)| a * x).sum())
            .collect()
    }

    /// ½‖Am − d‖² + ½α‖m‖², Tikhonov's functional.
    #[differentiate(hessian, wrt(m))]
    fn tikhonov(&self, m: &[f64], alpha: f64) -> f64 {
        let misfit: f64 = self
            .rows
            .iter()
            .zip(&self.data)
            .map(|(row, d)| {
                let p: f64 = row.iter().zip(m).map(|(a, x)| a * x).sum();
                0.5 * (p - d).powi(2)
            })
            .sum();
        misfit + 0.5 * alpha * m.iter().map(|x| x * x).sum::<f64>()
    }
}

#[test]
fn tikhonov_functional_as_struct_methods() {
    let rows: Vec<Vec<f64>> = (0..6).map(|i| data(4, i as f64 * 1.7)).collect();
    let inv = Inverse {
        rows,
        data: data(6, 0.33),
    };
    let m = vec![0.3, -0.2, 0.5, 0.1];
    let alpha = 0.1;
    let (v, g) = inv.tikhonov_grad(&m, alpha);
    close("value", v, inv.tikhonov(&m, alpha), TOL);
    // ∇ = Aᵀ(Am − d) + αm, H = AᵀA + αI
    let pred = inv.predict(&m);
    let e: Vec<f64> = (0..4)
        .map(|j| {
            (0..6)
                .map(|i| inv.rows[i][j] * (pred[i] - inv.data[i]))
                .sum::<f64>()
                + alpha * m[j]
        })
        .collect();
    close_all("∂m", &g, &e);
    fd_vec("tikhonov", |m| inv.tikhonov(m, alpha), &m, &g);
    let dir = vec![1.0, 0.5, -0.5, 0.25];
    let (_, _, hv) = inv.tikhonov_hvp(&m, alpha, &dir);
    let ad = inv.predict(&dir);
    let eh: Vec<f64> = (0..4)
        .map(|j| (0..6).map(|i| inv.rows[i][j] * ad[i]).sum::<f64>() + alpha * dir[j])
        .collect();
    close_all("H·v", &hv, &eh);
    // the prediction's pullback is Aᵀ
    let (_, back) = inv.predict_vjp(&m);
    let w = data(6, 4.4);
    let atw: Vec<f64> = (0..4)
        .map(|j| (0..6).map(|i| inv.rows[i][j] * w[i]).sum())
        .collect();
    close_all("Aᵀw", &back(w), &atw);
}

/// The log-likelihood of the best of several Gaussian location hypotheses, each a shift of
/// the parameter, picked by `max_by` on `partial_cmp`.
#[differentiate(wrt(mu))]
fn best_shift_loglik(mu: f64, shifts: &[f64], xs: &[f64]) -> f64 {
    shifts
        .iter()
        .map(|&s| -xs.iter().map(|x| 0.5 * (x - mu - s).powi(2)).sum::<f64>())
        .max_by(|a, b| a.partial_cmp(b).unwrap())
        .unwrap()
}

#[test]
fn best_of_several_shifts_by_max_by() {
    let xs: Vec<f64> = data(10, 1.1).iter().map(|v| v + 0.7).collect();
    let shifts = [-1.0, 0.0, 0.5, 1.5];
    let mu = 0.1;
    let (v, g) = best_shift_loglik_grad(mu, &shifts, &xs);
    close("value", v, best_shift_loglik(mu, &shifts, &xs), TOL);
    // the winning shift s*: ℓ = −½Σ(x − μ − s*)², ∂μ = Σ(x − μ − s*)
    let ll = |s: f64| -xs.iter().map(|x| 0.5 * (x - mu - s).powi(2)).sum::<f64>();
    let best = shifts
        .iter()
        .copied()
        .fold((f64::NEG_INFINITY, 0.0), |(b, bs), s| {
            if ll(s) > b { (ll(s), s) } else { (b, bs) }
        });
    close(
        "∂μ",
        g,
        xs.iter().map(|x| x - mu - best.1).sum::<f64>(),
        TOL,
    );
    fd("best shift", |m| best_shift_loglik(m, &shifts, &xs), mu, g);
}

/// The polygon's perimeter with the vertices' x and y in separate slices, each zipped with
/// its successor by `iter().copied().cycle().skip(1)`.
#[differentiate(wrt(xs, ys))]
fn perimeter_cycled(xs: &[f64], ys: &[f64]) -> f64 {
    let next_x = xs.iter().copied().cycle().skip(1);
    let next_y = ys.iter().copied().cycle().skip(1);
    xs.iter()
        .zip(ys)
        .zip(next_x.zip(next_y))
        .map(|((&x0, &y0), (x1, y1))| (x1 - x0).hypot(y1 - y0))
        .sum()
}

#[test]
fn perimeter_by_copied_cycle() {
    let xs = vec![0.0, 2.0, 2.3, 0.4];
    let ys = vec![0.0, 0.2, 1.7, 2.0];
    let (v, (gx, gy)) = perimeter_cycled_grad(&xs, &ys);
    close("value", v, perimeter_cycled(&xs, &ys), TOL);
    // L = Σ |pᵢ₊₁ − pᵢ|: ∂pᵢ = (pᵢ − pᵢ₋₁)/Lᵢ₋₁ − (pᵢ₊₁ − pᵢ)/Lᵢ
    let n = xs.len();
    let len = |i: usize| (xs[(i + 1) % n] - xs[i]).hypot(ys[(i + 1) % n] - ys[i]);
    let ex: Vec<f64> = (0..n)
        .map(|i| {
            let (p, q) = ((i + n - 1) % n, (i + 1) % n);
            (xs[i] - xs[p]) / len(p) - (xs[q] - xs[i]) / len(i)
        })
        .collect();
    let ey: Vec<f64> = (0..n)
        .map(|i| {
            let (p, q) = ((i + n - 1) % n, (i + 1) % n);
            (ys[i] - ys[p]) / len(p) - (ys[q] - ys[i]) / len(i)
        })
        .collect();
    close_all("∂x", &gx, &ex);
    close_all("∂y", &gy, &ey);
    fd_vec2("perimeter", perimeter_cycled, &xs, &ys, &gx, &gy);
}

/// a + h·b over a state of any length, the array built by `std::array::from_fn` as the
/// helper's value.
#[differentiate]
fn axpy_state<const N: usize>(a: [f64; N], h: f64, b: [f64; N]) -> [f64; N] {
    std::array::from_fn(|i| a[i] + h * b[i])
}

#[differentiate]
fn pendulum_field(s: [f64; 2], k: f64) -> [f64; 2] {
    [s[1], -k * s[0].sin()]
}

/// RK4 over an array state, every stage combined by the const-generic `axpy_state`.
#[differentiate(wrt(k, s0))]
fn rk4_array_state(k: f64, s0: [f64; 2], h: f64, n: usize) -> f64 {
    let mut s = s0;
    for _ in 0..n {
        let k1 = pendulum_field(s, k);
        let k2 = pendulum_field(axpy_state(s, 0.5 * h, k1), k);
        let k3 = pendulum_field(axpy_state(s, 0.5 * h, k2), k);
        let k4 = pendulum_field(axpy_state(s, h, k3), k);
        let incr: [f64; 2] =
            std::array::from_fn(|i| (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0);
        s = axpy_state(s, h, incr);
    }
    s[0] * s[0] + s[1]
}

#[test]
fn rk4_over_an_array_state_with_const_generic_axpy() {
    let (k, s0, h, n) = (1.3, [0.5, 0.1], 0.05, 30);
    let (v, (gk, gs)) = rk4_array_state_grad(k, s0, h, n);
    close("value", v, rk4_array_state(k, s0, h, n), TOL);
    // the same RK4 on dual numbers (θ'' = −k sin θ), loss θ² + ω
    let run = |k: Dual, th: Dual, om: Dual| {
        let (mut th, mut om) = (th, om);
        for _ in 0..n {
            let f = |t: Dual, o: Dual| (o, -(k * t.sin()));
            let (a1, b1) = f(th, om);
            let (a2, b2) = f(th + 0.5 * h * a1, om + 0.5 * h * b1);
            let (a3, b3) = f(th + 0.5 * h * a2, om + 0.5 * h * b2);
            let (a4, b4) = f(th + h * a3, om + h * b3);
            th = th + h * ((a1 + 2.0 * a2 + 2.0 * a3 + a4) / 6.0);
            om = om + h * ((b1 + 2.0 * b2 + 2.0 * b3 + b4) / 6.0);
        }
        th * th + om
    };
    close("∂k", gk, run(dv(k), dc(s0[0]), dc(s0[1])).d, 1e-11);
    close("∂θ₀", gs[0], run(dc(k), dv(s0[0]), dc(s0[1])).d, 1e-11);
    close("∂ω₀", gs[1], run(dc(k), dc(s0[0]), dv(s0[1])).d, 1e-11);
    fd_any(
        "rk4 array",
        |p: &(f64, [f64; 2])| rk4_array_state(p.0, p.1, h, n),
        &(k, s0),
        &(gk, gs),
    );
}

/// Linear interpolation whose interval is found by `partition_point` on the knots.
#[differentiate(wrt(ys, t))]
fn interp_partition(xs: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = xs.partition_point(|&v| v < t).clamp(1, xs.len() - 1);
    let u = (t - xs[i - 1]) / (xs[i] - xs[i - 1]);
    ys[i - 1] + u * (ys[i] - ys[i - 1])
}

#[test]
fn interpolation_by_partition_point() {
    let xs = [0.0, 1.0, 2.5, 3.0];
    let ys = vec![1.0, 2.0, 0.5, 0.7];
    for t in [-0.5, 0.3, 1.7, 2.9, 3.5] {
        let (v, (gy, gt)) = interp_partition_grad(&xs, &ys, t);
        close("value", v, interp_partition(&xs, &ys, t), TOL);
        // segment i (extrapolated from the end segments): ∂yᵢ₋₁ = 1 − u, ∂yᵢ = u,
        // ∂t = (yᵢ − yᵢ₋₁)/(xᵢ − xᵢ₋₁)
        let i = (1..4).find(|&i| t <= xs[i]).unwrap_or(3);
        let u = (t - xs[i - 1]) / (xs[i] - xs[i - 1]);
        let mut e = vec![0.0; 4];
        e[i - 1] = 1.0 - u;
        e[i] = u;
        close_all(&format!("∂y at {t}"), &gy, &e);
        close(
            &format!("∂t at {t}"),
            gt,
            (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]),
            TOL,
        );
        fd_vec("interp y", |y| interp_partition(&xs, y, t), &ys, &gy);
        fd("interp t", |t| interp_partition(&xs, &ys, t), t, gt);
    }
}
