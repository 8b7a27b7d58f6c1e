//! Numerical programs as Rust users write them, in domains the earlier files leave out: ODE
//! integrators with a closure for the right-hand side (state as arrays and tuples), spring
//! chains and pair potentials with structs and `impl` methods, log-sum-exp and losses with
//! `match` and `clamp`, discounted cash flows, plane geometry (`hypot`, `atan2`, `windows`,
//! `zip(skip(1))`, `chunks_exact`), small layers over `Vec<f64>` and `ndarray`, fixed-point
//! recurrences with `while` and early `return`, and the iterator idioms (`rev().enumerate()`,
//! `step_by`, `take`/`skip`, `max_by(total_cmp)`, `copied`/`cloned`), shadowing, tuple
//! destructuring, `const` items, helpers declared in the body and generic `T: Float` helpers.
//!
//! Then the forms these programs found rejected and that are followed now: an iterator kept
//! in a variable (`let lp = e.iter().map(..); t.iter().zip(lp)`), struct patterns in `let`
//! (also over array fields, through `&self` and by value), `chain.last().unwrap()`, literal
//! elements in slice patterns (`[a, 0.0]`, `[0, ..]` on labels) and `find` on a mapped chain.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::assign_op_pattern,
    clippy::excessive_precision,
    clippy::approx_constant,
    clippy::redundant_closure,
    clippy::match_bool,
    clippy::unnecessary_fold,
    clippy::type_complexity,
    clippy::let_and_return,
    clippy::manual_clamp,
    clippy::double_ended_iterator_last,
    clippy::manual_unwrap_or
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis};
use num_traits::Float;

mod common;
use common::*;

const XS: [f64; 6] = [0.3, -0.5, 1.2, 0.8, -0.1, 0.65];
const YS: [f64; 6] = [0.5, 0.1, -0.3, 0.9, 0.4, -0.7];

fn softmax_of(x: &[f64]) -> Vec<f64> {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().map(|v| v / z).collect()
}

// ---------------------------------------------------------------------------------------------
// ODE integrators.
// ---------------------------------------------------------------------------------------------

/// Explicit Euler on y' = −k·y with the right-hand side a closure: y_n = y0·(1 − hk)^n, so
/// ∂k = −n·h·y0·(1 − hk)^(n−1), ∂y0 = (1 − hk)^n.
#[differentiate]
fn euler_decay(k: f64, y0: f64) -> f64 {
    let h = 0.05;
    let rhs = |y: f64| -k * y;
    let mut y = y0;
    for _ in 0..40 {
        y += h * rhs(y);
    }
    y
}

#[test]
fn euler_with_a_closure_rhs() {
    let (k, y0) = (1.3, 0.7);
    let (v, g) = euler_decay_grad(k, y0);
    close("value", v, euler_decay(k, y0), TOL);
    let q: f64 = 1.0 - 0.05 * k;
    close2("gradient", g, (-40.0 * 0.05 * y0 * q.powi(39), q.powi(40)));
    fd2("euler", euler_decay, (k, y0), g);
}

/// RK4 on the logistic equation y' = r·y·(1 − y), the stages through a closure. The exact
/// solution y(t) = y0·e^{rt} / (1 − y0 + y0·e^{rt}) has ∂r = t·y(1 − y); RK4 with h = 0.05
/// matches it to about 1e-7.
#[differentiate(wrt(r))]
fn rk4_logistic(r: f64, y0: f64, t_end: f64) -> f64 {
    let f = |y: f64| r * y * (1.0 - y);
    let n = 40;
    let h = t_end / n as f64;
    let mut y = y0;
    for _ in 0..n {
        let k1 = f(y);
        let k2 = f(y + 0.5 * h * k1);
        let k3 = f(y + 0.5 * h * k2);
        let k4 = f(y + h * k3);
        y += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    y
}

#[test]
fn rk4_logistic_growth() {
    let (r, y0, t) = (1.5, 0.2, 2.0);
    let (v, g) = rk4_logistic_grad(r, y0, t);
    close("value", v, rk4_logistic(r, y0, t), TOL);
    let e = (r * t).exp();
    let y = y0 * e / (1.0 - y0 + y0 * e);
    close("≈ exact y", v, y, 1e-6);
    close("≈ t·y(1 − y)", g, t * y * (1.0 - y), 1e-6);
    fd("rk4 logistic", |r| rk4_logistic(r, y0, t), r, g);
}

/// Euler steps of the oscillator with the state an array `[x, v]` and the right-hand side a
/// closure returning an array. After one step from [x0, 0]: x1 = x0, v1 = −w·x0·h; the
/// energy after n steps of explicit Euler grows by (1 + w h²)^n: E_n = ½w·x0²·(1 + w·h²)^n,
/// so ∂w = ½x0²(1 + wh²)^n + ½w·x0²·n·h²(1 + wh²)^(n−1), ∂x0 = w·x0·(1 + wh²)^n.
#[differentiate]
fn euler_oscillator(w: f64, x0: f64) -> f64 {
    let h = 0.1;
    let rhs = |s: [f64; 2]| [s[1], -w * s[0]];
    let mut s = [x0, 0.0];
    for _ in 0..25 {
        let d = rhs(s);
        s = [s[0] + h * d[0], s[1] + h * d[1]];
    }
    0.5 * s[1] * s[1] + 0.5 * w * s[0] * s[0]
}

#[test]
fn euler_state_as_an_array() {
    let (w, x0) = (2.0, 0.8);
    let (v, g) = euler_oscillator_grad(w, x0);
    close("value", v, euler_oscillator(w, x0), TOL);
    let q: f64 = 1.0 + w * 0.01;
    close("energy", v, 0.5 * w * x0 * x0 * q.powi(25), 1e-12);
    close2(
        "gradient",
        g,
        (
            0.5 * x0 * x0 * q.powi(25) + 0.5 * w * x0 * x0 * 25.0 * 0.01 * q.powi(24),
            w * x0 * q.powi(25),
        ),
    );
    fd2("euler oscillator", euler_oscillator, (w, x0), g);
}

/// Velocity Verlet with the state a tuple, updated by tuple assignment, and the force a
/// closure: for a quadratic potential the map is linear, so the final position is linear in
/// (x0, v0): ∂x0, ∂v0 are the first row of the n-th power of the step matrix
/// [[1 − h²k/2, h], [−hk(1 − h²k/4), 1 − h²k/2]].
#[differentiate(wrt(x0, v0))]
fn verlet_position(x0: f64, v0: f64, k: f64) -> f64 {
    let force = |x: f64| -k * x;
    let h = 0.1;
    let (mut x, mut v) = (x0, v0);
    for _ in 0..30 {
        let a = force(x);
        let x_new = x + h * v + 0.5 * h * h * a;
        let a_new = force(x_new);
        (x, v) = (x_new, v + 0.5 * h * (a + a_new));
    }
    x
}

#[test]
fn verlet_state_as_a_tuple() {
    let k = 1.7;
    let (v, g) = verlet_position_grad(0.4, -0.3, k);
    close("value", v, verlet_position(0.4, -0.3, k), TOL);
    let h = 0.1;
    let m = [
        [1.0 - h * h * k / 2.0, h],
        [-h * k * (1.0 - h * h * k / 4.0), 1.0 - h * h * k / 2.0],
    ];
    let mut p = [[1.0, 0.0], [0.0, 1.0]];
    for _ in 0..30 {
        p = [
            [
                m[0][0] * p[0][0] + m[0][1] * p[1][0],
                m[0][0] * p[0][1] + m[0][1] * p[1][1],
            ],
            [
                m[1][0] * p[0][0] + m[1][1] * p[1][0],
                m[1][0] * p[0][1] + m[1][1] * p[1][1],
            ],
        ];
    }
    close2("gradient", g, (p[0][0], p[0][1]));
    fd2("verlet", |a, b| verlet_position(a, b, k), (0.4, -0.3), g);
}

/// Heun's method (improved Euler) for y' = a·sin(y) + t with a `while` loop over time: checked
/// against finite differences, and ∂a against the forward sensitivity equation s' = sin(y) +
/// a·cos(y)·s integrated by the same scheme alongside.
#[differentiate(wrt(a))]
fn heun(a: f64, y0: f64) -> f64 {
    let f = |t: f64, y: f64| a * y.sin() + t;
    let h = 0.05;
    let mut t = 0.0;
    let mut y = y0;
    while t < 1.0 - 1e-9 {
        let k1 = f(t, y);
        let k2 = f(t + h, y + h * k1);
        y += 0.5 * h * (k1 + k2);
        t += h;
    }
    y
}

#[test]
fn heun_in_a_while_loop() {
    let (a, y0) = (0.8, 0.3);
    let (v, g) = heun_grad(a, y0);
    close("value", v, heun(a, y0), TOL);
    // The sensitivity s = ∂y/∂a, differentiated through each Heun step by hand.
    let (mut t, mut y, mut s) = (0.0, y0, 0.0);
    let h = 0.05;
    while t < 1.0 - 1e-9 {
        let k1 = a * f64::sin(y) + t;
        let dk1 = y.sin() + a * y.cos() * s;
        let y2 = y + h * k1;
        let s2 = s + h * dk1;
        let k2 = a * y2.sin() + t + h;
        let dk2 = y2.sin() + a * y2.cos() * s2;
        y += 0.5 * h * (k1 + k2);
        s += 0.5 * h * (dk1 + dk2);
        t += h;
    }
    close("∂a", g, s, 1e-12);
    fd("heun", |a| heun(a, y0), a, g);
}

// ---------------------------------------------------------------------------------------------
// Physics with structs and `impl` methods.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct SpringChain {
    stiffness: Vec<f64>,
    rest: f64,
}

impl SpringChain {
    /// Σ ½k_i(p_{i+1} − p_i − rest)² over consecutive masses: ∂k_i = ½e_i², ∂p through
    /// k_i·e_i, with e_i = p_{i+1} − p_i − rest.
    #[differentiate]
    fn energy(&self, pos: &[f64]) -> f64 {
        self.stiffness
            .iter()
            .zip(pos.windows(2))
            .map(|(k, w)| {
                let e = w[1] - w[0] - self.rest;
                0.5 * k * e * e
            })
            .sum()
    }
}

#[test]
fn spring_chain_method() {
    let chain = SpringChain {
        stiffness: vec![1.0, 2.0, 0.5, 1.5, 3.0],
        rest: 0.2,
    };
    let pos = [0.0, 0.3, 0.35, 0.9, 1.0, 1.4];
    let (v, (gc, gp)) = SpringChain::energy_grad(&chain, &pos);
    close("value", v, chain.energy(&pos), TOL);
    let e: Vec<f64> = pos.windows(2).map(|w| w[1] - w[0] - 0.2).collect();
    let want_k: Vec<f64> = e.iter().map(|e| 0.5 * e * e).collect();
    close_all("∂k", &gc.stiffness, &want_k);
    close(
        "∂rest",
        gc.rest,
        -(0..5).map(|i| chain.stiffness[i] * e[i]).sum::<f64>(),
        TOL,
    );
    let mut want_p = vec![0.0; 6];
    for i in 0..5 {
        want_p[i] -= chain.stiffness[i] * e[i];
        want_p[i + 1] += chain.stiffness[i] * e[i];
    }
    close_all("∂pos", &gp, &want_p);
    fd_vec("spring chain", |p| chain.energy(p), &pos, &gp);
    let r = gradcheck(|c: &SpringChain| c.energy(&pos), &chain, &gc);
    assert!(r.passed(), "{r}");
}

#[derive(Clone, Debug, Differentiable)]
struct Charge {
    x: f64,
    y: f64,
    q: f64,
}

impl Charge {
    /// The distance to another charge, softened.
    #[differentiate]
    fn dist(&self, other: &Charge) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2) + 0.01).sqrt()
    }
}

/// The Coulomb energy Σ_{i<j} q_i q_j / r_ij over pairs, by `enumerate` and a method on the
/// elements: ∂q_i = Σ_{j≠i} q_j / r_ij, ∂x_i = −Σ_{j≠i} q_i q_j (x_i − x_j) / r_ij³.
#[differentiate]
fn coulomb(charges: &[Charge]) -> f64 {
    let mut e = 0.0;
    for (i, a) in charges.iter().enumerate() {
        for j in (i + 1)..charges.len() {
            let b = &charges[j];
            e += a.q * b.q / a.dist(b);
        }
    }
    e
}

fn charges() -> Vec<Charge> {
    vec![
        Charge {
            x: 0.0,
            y: 0.0,
            q: 1.0,
        },
        Charge {
            x: 1.0,
            y: 0.2,
            q: -0.5,
        },
        Charge {
            x: 0.3,
            y: 0.9,
            q: 0.8,
        },
        Charge {
            x: -0.6,
            y: 0.4,
            q: -1.2,
        },
    ]
}

#[test]
fn coulomb_pairs_with_a_method() {
    let cs = charges();
    let (v, g) = coulomb_grad(&cs);
    close("value", v, coulomb(&cs), TOL);
    for i in 0..cs.len() {
        let (mut dq, mut dx) = (0.0, 0.0);
        for j in 0..cs.len() {
            if i != j {
                let r = cs[i].dist(&cs[j]);
                dq += cs[j].q / r;
                dx -= cs[i].q * cs[j].q * (cs[i].x - cs[j].x) / r.powi(3);
            }
        }
        close("∂q", g[i].q, dq, 1e-12);
        close("∂x", g[i].x, dx, 1e-12);
    }
    let r = gradcheck(|c: &Vec<Charge>| coulomb(c), &cs, &g);
    assert!(r.passed(), "{r}");
}

/// The Lennard-Jones energy of points on a line, `&x[i + 1..]` iterated for the partners:
/// V(r) = 4(r⁻¹² − r⁻⁶), ∂x_i = Σ_j V'(r_ij)·sign(x_i − x_j) with V'(r) = 4(−12r⁻¹³ + 6r⁻⁷).
#[differentiate]
fn lennard_jones(x: &[f64]) -> f64 {
    let mut e = 0.0;
    for (i, &xi) in x.iter().enumerate() {
        for &xj in &x[i + 1..] {
            let r = (xi - xj).abs();
            let s6 = r.powi(-6);
            e += 4.0 * (s6 * s6 - s6);
        }
    }
    e
}

#[test]
fn lennard_jones_on_a_line() {
    let x = [0.0, 1.1, 2.3, 3.2];
    let (v, g) = lennard_jones_grad(&x);
    close("value", v, lennard_jones(&x), TOL);
    let mut want = vec![0.0; 4];
    for i in 0..4 {
        for j in 0..4 {
            if i != j {
                let d: f64 = x[i] - x[j];
                let r = d.abs();
                want[i] += 4.0 * (-12.0 * r.powi(-13) + 6.0 * r.powi(-7)) * d.signum();
            }
        }
    }
    close_all("gradient", &g, &want);
    fd_vec("lennard-jones", lennard_jones, &x, &g);
}

#[derive(Clone, Debug, Differentiable)]
struct Pendulum {
    length: f64,
    mass: f64,
}

impl Pendulum {
    const G: f64 = 9.81;

    /// The small-angle period 2π√(L/g): ∂L = π/√(gL).
    #[differentiate]
    fn period(&self) -> f64 {
        2.0 * std::f64::consts::PI * (self.length / Self::G).sqrt()
    }

    /// Total energy at angle θ and angular velocity ω: ½mL²ω² + mgL(1 − cos θ), with
    /// ∂L = mLω² + mg(1 − cos θ), ∂m = ½L²ω² + gL(1 − cos θ), ∂θ = mgL sin θ, ∂ω = mL²ω.
    #[differentiate]
    fn energy(&self, theta: f64, omega: f64) -> f64 {
        let Pendulum { length: l, mass: m } = *self;
        0.5 * m * l * l * omega * omega + m * Self::G * l * (1.0 - theta.cos())
    }
}

#[test]
fn pendulum_methods_with_an_associated_const() {
    let p = Pendulum {
        length: 1.3,
        mass: 0.4,
    };
    let (v, g) = p.period_grad();
    close("value", v, p.period(), TOL);
    close(
        "∂L",
        g.length,
        std::f64::consts::PI / (9.81 * 1.3f64).sqrt(),
        1e-12,
    );
    close("∂m", g.mass, 0.0, TOL);
    let (th, om) = (0.4, -0.7);
    let (e, (gp, gth, gom)) = p.energy_grad(th, om);
    close("energy", e, p.energy(th, om), TOL);
    let (l, m, gr) = (1.3, 0.4, 9.81);
    close(
        "∂L",
        gp.length,
        m * l * om * om + m * gr * (1.0 - th.cos()),
        1e-12,
    );
    close(
        "∂m",
        gp.mass,
        0.5 * l * l * om * om + gr * l * (1.0 - th.cos()),
        1e-12,
    );
    close("∂θ", gth, m * gr * l * th.sin(), 1e-12);
    close("∂ω", gom, m * l * l * om, 1e-12);
    fd2("energy", |a, b| p.energy(a, b), (th, om), (gth, gom));
    let r = gradcheck(|p: &Pendulum| p.energy(th, om), &p, &gp);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Statistics and losses.
// ---------------------------------------------------------------------------------------------

/// log Σ exp(x_i), shifted by the maximum found with `max_by(total_cmp)`: ∂x = softmax(x).
#[differentiate]
fn log_sum_exp(x: &[f64]) -> f64 {
    let m = *x.iter().max_by(|a, b| a.total_cmp(b)).unwrap();
    m + x.iter().map(|&v| (v - m).exp()).sum::<f64>().ln()
}

#[test]
fn log_sum_exp_with_a_max_shift() {
    let (v, g) = log_sum_exp_grad(&XS);
    close("value", v, log_sum_exp(&XS), TOL);
    close(
        "value",
        v,
        XS.iter().map(|v| v.exp()).sum::<f64>().ln(),
        1e-12,
    );
    close_all("gradient", &g, &softmax_of(&XS));
    fd_vec("lse", log_sum_exp, &XS, &g);
}

/// Softmax cross-entropy against a target distribution, the softmax in a `Vec` collected from
/// a chain: ∂logits = softmax(logits)·Σt − t.
#[differentiate(wrt(logits))]
fn soft_target_xent(logits: &[f64], target: &[f64]) -> f64 {
    let max = logits.iter().copied().fold(f64::MIN, f64::max);
    let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    let log_probs: Vec<f64> = exps.iter().map(|e| (e / total).ln()).collect();
    -target
        .iter()
        .zip(log_probs)
        .map(|(t, lp)| t * lp)
        .sum::<f64>()
}

#[test]
fn softmax_cross_entropy_with_soft_targets() {
    let t = [0.1, 0.2, 0.0, 0.4, 0.25, 0.05];
    let (v, g) = soft_target_xent_grad(&XS, &t);
    close("value", v, soft_target_xent(&XS, &t), TOL);
    let s = softmax_of(&XS);
    let want: Vec<f64> = s.iter().zip(&t).map(|(s, t)| s - t).collect();
    close_all("gradient", &g, &want);
    fd_vec("xent", |l| soft_target_xent(l, &t), &XS, &g);
}

/// The weighted variance Σw(x − μ)²/Σw with μ = Σwx/Σw: ∂x_i = 2w_i(x_i − μ)/Σw,
/// ∂w_i = ((x_i − μ)² − var)/Σw.
#[differentiate]
fn weighted_variance(x: &[f64], w: &[f64]) -> f64 {
    let wsum: f64 = w.iter().sum();
    let mean = x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / wsum;
    x.iter()
        .zip(w.iter())
        .map(|(&x, &w)| w * (x - mean).powi(2))
        .sum::<f64>()
        / wsum
}

#[test]
fn weighted_variance_gradient() {
    let w = [1.0, 0.5, 2.0, 1.5, 0.2, 0.8];
    let (v, (gx, gw)) = weighted_variance_grad(&XS, &w);
    close("value", v, weighted_variance(&XS, &w), TOL);
    let ws: f64 = w.iter().sum();
    let mu = XS.iter().zip(&w).map(|(x, w)| x * w).sum::<f64>() / ws;
    let want_x: Vec<f64> = XS
        .iter()
        .zip(&w)
        .map(|(x, w)| 2.0 * w * (x - mu) / ws)
        .collect();
    let want_w: Vec<f64> = XS.iter().map(|x| ((x - mu).powi(2) - v) / ws).collect();
    close_all("∂x", &gx, &want_x);
    close_all("∂w", &gw, &want_w);
    fd_vec("wvar x", |x| weighted_variance(x, &w), &XS, &gx);
    fd_vec("wvar w", |w| weighted_variance(&XS, w), &w, &gw);
}

/// The Huber loss of residuals, the two pieces chosen by a `match` on a comparison:
/// ∂pred_i = r_i where |r_i| ≤ δ, δ·sign(r_i) beyond.
#[differentiate(wrt(pred))]
fn huber(pred: &[f64], target: &[f64], delta: f64) -> f64 {
    let mut total = 0.0;
    for (p, t) in pred.iter().zip(target) {
        let r = p - t;
        total += match r.abs() <= delta {
            true => 0.5 * r * r,
            false => delta * (r.abs() - 0.5 * delta),
        };
    }
    total
}

/// The pinball (quantile) loss with a `match` on the sign of the residual as an `Ordering`:
/// ∂pred_i = −τ where y > pred, 1 − τ where y < pred.
#[differentiate(wrt(pred))]
fn quantile_loss(pred: &[f64], y: &[f64], tau: f64) -> f64 {
    use std::cmp::Ordering;
    let mut s = 0.0;
    for i in 0..pred.len() {
        let r = y[i] - pred[i];
        s += match r.partial_cmp(&0.0) {
            Some(Ordering::Greater) => tau * r,
            Some(Ordering::Less) => (tau - 1.0) * r,
            _ => 0.0,
        };
    }
    s / pred.len() as f64
}

/// A clipped squared error: the residual clamped to [−c, c] before squaring, ∂pred_i = 2r_i
/// inside the band and 0 outside.
#[differentiate(wrt(pred))]
fn clipped_sq(pred: &[f64], y: &[f64], c: f64) -> f64 {
    pred.iter()
        .zip(y)
        .map(|(p, y)| (p - y).clamp(-c, c).powi(2))
        .sum()
}

#[test]
fn robust_losses_with_match_and_clamp() {
    let (v, g) = huber_grad(&XS, &YS, 0.5);
    close("huber", v, huber(&XS, &YS, 0.5), TOL);
    let want: Vec<f64> = XS
        .iter()
        .zip(&YS)
        .map(|(p, t)| {
            let r: f64 = p - t;
            if r.abs() <= 0.5 { r } else { 0.5 * r.signum() }
        })
        .collect();
    close_all("∂huber", &g, &want);
    fd_vec("huber", |p| huber(p, &YS, 0.5), &XS, &g);

    let (v, g) = quantile_loss_grad(&XS, &YS, 0.3);
    close("quantile", v, quantile_loss(&XS, &YS, 0.3), TOL);
    let want: Vec<f64> = XS
        .iter()
        .zip(&YS)
        .map(|(p, y)| if y > p { -0.3 / 6.0 } else { 0.7 / 6.0 })
        .collect();
    close_all("∂quantile", &g, &want);
    fd_vec("quantile", |p| quantile_loss(p, &YS, 0.3), &XS, &g);

    let (v, g) = clipped_sq_grad(&XS, &YS, 0.55);
    close("clipped", v, clipped_sq(&XS, &YS, 0.55), TOL);
    let want: Vec<f64> = XS
        .iter()
        .zip(&YS)
        .map(|(p, y)| {
            let r: f64 = p - y;
            if r.abs() < 0.55 { 2.0 * r } else { 0.0 }
        })
        .collect();
    close_all("∂clipped", &g, &want);
    fd_vec("clipped", |p| clipped_sq(p, &YS, 0.55), &XS, &g);
}

/// A Gaussian negative log-likelihood with the scale through `exp` of its log, the data read
/// with `step_by` (every other sample): ∂μ = −Σ(x − μ)/σ², ∂log σ = n − Σ(x − μ)²/σ².
#[differentiate(wrt(mu, log_sigma))]
fn gaussian_nll_strided(mu: f64, log_sigma: f64, xs: &[f64]) -> f64 {
    let sigma = log_sigma.exp();
    xs.iter()
        .step_by(2)
        .map(|&x| {
            let z = (x - mu) / sigma;
            0.5 * z * z + log_sigma
        })
        .sum()
}

#[test]
fn gaussian_nll_with_step_by() {
    let (mu, ls) = (0.1, -0.3);
    let (v, g) = gaussian_nll_strided_grad(mu, ls, &XS);
    close("value", v, gaussian_nll_strided(mu, ls, &XS), TOL);
    let s2 = (2.0 * ls).exp();
    let picked: Vec<f64> = XS.iter().step_by(2).copied().collect();
    let dmu = -picked.iter().map(|x| x - mu).sum::<f64>() / s2;
    let dls = picked.len() as f64 - picked.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / s2;
    close2("gradient", g, (dmu, dls));
    fd2("nll", |a, b| gaussian_nll_strided(a, b, &XS), (mu, ls), g);
}

/// A trimmed sum: skip the first and take the next three, squared: ∂x_i = 2x_i for i in 1..4.
#[differentiate]
fn skip_take_squares(x: &[f64]) -> f64 {
    x.iter().skip(1).take(3).map(|v| v * v).sum()
}

/// A polynomial with its coefficients highest degree first, evaluated by
/// `rev().enumerate()`: p(t) = Σ_k c_{n−1−k} t^k, ∂c_j = t^{n−1−j}, ∂t = p'(t).
#[differentiate]
fn poly_rev(coeffs: &[f64], t: f64) -> f64 {
    coeffs
        .iter()
        .rev()
        .enumerate()
        .map(|(k, c)| c * t.powi(k as i32))
        .sum()
}

#[test]
fn skip_take_and_rev_enumerate() {
    let (v, g) = skip_take_squares_grad(&XS);
    close("value", v, skip_take_squares(&XS), TOL);
    let want: Vec<f64> = (0..6)
        .map(|i| {
            if (1..4).contains(&i) {
                2.0 * XS[i]
            } else {
                0.0
            }
        })
        .collect();
    close_all("gradient", &g, &want);
    fd_vec("skip take", skip_take_squares, &XS, &g);

    let c = [0.5, -1.0, 2.0, 0.25];
    let t = 0.7;
    let (v, (gc, gt)) = poly_rev_grad(&c, t);
    close("value", v, poly_rev(&c, t), TOL);
    close("value", v, 0.5 * t * t * t - t * t + 2.0 * t + 0.25, 1e-12);
    close_all("∂c", &gc, &[t * t * t, t * t, t, 1.0]);
    close("∂t", gt, 1.5 * t * t - 2.0 * t + 2.0, 1e-12);
    fd_vec("poly c", |c| poly_rev(c, t), &c, &gc);
    fd("poly t", |t| poly_rev(&c, t), t, gt);
}

// ---------------------------------------------------------------------------------------------
// Finance.
// ---------------------------------------------------------------------------------------------

/// The net present value Σ c_t / (1 + r)^t with `powi`: ∂c_t = (1 + r)^−t,
/// ∂r = −Σ t·c_t·(1 + r)^(−t−1).
#[differentiate]
fn npv(rate: f64, cash_flows: &[f64]) -> f64 {
    cash_flows
        .iter()
        .enumerate()
        .map(|(t, cf)| cf / (1.0 + rate).powi(t as i32))
        .sum()
}

/// The same value by Horner's scheme with a `fold` over the reversed flows.
#[differentiate]
fn npv_fold(rate: f64, cash_flows: &[f64]) -> f64 {
    let d = 1.0 / (1.0 + rate);
    cash_flows.iter().rev().fold(0.0, |acc, &cf| acc * d + cf)
}

const FLOWS: [f64; 5] = [-100.0, 30.0, 40.0, 35.0, 25.0];

#[test]
fn net_present_value_two_ways() {
    let r = 0.07;
    let (v, (gr, gc)) = npv_grad(r, &FLOWS);
    let (v2, (gr2, gc2)) = npv_fold_grad(r, &FLOWS);
    close("value", v, npv(r, &FLOWS), TOL);
    close("value fold", v2, npv_fold(r, &FLOWS), TOL);
    close("same value", v, v2, 1e-12);
    let want_r: f64 = FLOWS
        .iter()
        .enumerate()
        .map(|(t, c)| -(t as f64) * c * (1.0f64 + r).powi(-(t as i32) - 1))
        .sum();
    let want_c: Vec<f64> = (0..5).map(|t| (1.0f64 + r).powi(-t)).collect();
    close("∂r", gr, want_r, 1e-12);
    close("∂r fold", gr2, want_r, 1e-12);
    close_all("∂c", &gc, &want_c);
    close_all("∂c fold", &gc2, &want_c);
    fd("npv r", |r| npv(r, &FLOWS), r, gr);
    fd_vec("npv c", |c| npv_fold(r, c), &FLOWS, &gc2);
}

/// The internal rate of return by Newton's method in a `while` loop with an early `return`
/// once the step is small. By the implicit function theorem, ∂r/∂c_t = −(1 + r)^−t / NPV'(r).
#[differentiate]
fn irr(cash_flows: &[f64]) -> f64 {
    let mut r = 0.1;
    let mut iter = 0;
    while iter < 100 {
        let mut f = 0.0;
        let mut df = 0.0;
        for (t, &c) in cash_flows.iter().enumerate() {
            let d = (1.0 + r).powi(-(t as i32));
            f += c * d;
            df -= t as f64 * c * d / (1.0 + r);
        }
        let step = f / df;
        r -= step;
        if step.abs() < 1e-13 {
            return r;
        }
        iter += 1;
    }
    r
}

#[test]
fn internal_rate_of_return_by_newton() {
    let (r, g) = irr_grad(&FLOWS);
    close("value", r, irr(&FLOWS), TOL);
    close("npv(irr) = 0", npv(r, &FLOWS), 0.0, 1e-9);
    let dnpv: f64 = FLOWS
        .iter()
        .enumerate()
        .map(|(t, c)| -(t as f64) * c * (1.0f64 + r).powi(-(t as i32) - 1))
        .sum();
    let want: Vec<f64> = (0..5).map(|t| -(1.0f64 + r).powi(-t) / dnpv).collect();
    close_all("∂c", &g, &want);
    fd_vec("irr", irr, &FLOWS, &g);
}

/// A bond's price from its yield: coupon annuity plus discounted face value,
/// P = c·(1 − (1 + y)^−n)/y + F·(1 + y)^−n. ∂c = (1 − (1 + y)^−n)/y.
#[differentiate(wrt(coupon, yld))]
fn bond_price(coupon: f64, yld: f64, face: f64, years: i32) -> f64 {
    let disc = (1.0 + yld).powi(-years);
    coupon * (1.0 - disc) / yld + face * disc
}

#[test]
fn bond_price_and_duration() {
    let (c, y) = (5.0, 0.04);
    let (p, (gc, gy)) = bond_price_grad(c, y, 100.0, 10);
    close("value", p, bond_price(c, y, 100.0, 10), TOL);
    // The price is the sum of discounted payments, whose ∂y is −Σ t·cf_t·(1 + y)^(−t−1).
    let sum: f64 =
        (1..=10).map(|t| c * (1.0f64 + y).powi(-t)).sum::<f64>() + 100.0 * (1.0f64 + y).powi(-10);
    close("price = Σ payments", p, sum, 1e-12);
    let dy: f64 = (1..=10)
        .map(|t| -(t as f64) * c * (1.0f64 + y).powi(-t - 1))
        .sum::<f64>()
        - 1000.0 * (1.0f64 + y).powi(-11);
    close("∂c", gc, (1.0 - (1.0f64 + y).powi(-10)) / y, 1e-12);
    close("∂y", gy, dy, 1e-11);
    fd2("bond", |c, y| bond_price(c, y, 100.0, 10), (c, y), (gc, gy));
}

/// Compound growth with contributions, written as an accumulating `scan`-free loop over a
/// const array of monthly rates: balance_{k+1} = balance_k·(1 + r_k) + deposit.
/// ∂deposit = Σ_k Π_{j>k}(1 + r_j), ∂start = Π(1 + r_j).
const RATES: [f64; 6] = [0.01, 0.005, -0.002, 0.012, 0.008, 0.0];

#[differentiate]
fn savings(start: f64, deposit: f64) -> f64 {
    let mut balance = start;
    for r in RATES {
        balance = balance * (1.0 + r) + deposit;
    }
    balance
}

#[test]
fn savings_with_a_const_array() {
    let (v, g) = savings_grad(1000.0, 50.0);
    close("value", v, savings(1000.0, 50.0), TOL);
    let growth: f64 = RATES.iter().map(|r| 1.0 + r).product();
    let dd: f64 = (0..6)
        .map(|k| RATES[k + 1..].iter().map(|r| 1.0 + r).product::<f64>())
        .sum();
    close2("gradient", g, (growth, dd));
    fd2("savings", savings, (1000.0, 50.0), g);
}

// ---------------------------------------------------------------------------------------------
// Geometry.
// ---------------------------------------------------------------------------------------------

/// The perimeter of a closed polygon by `zip(skip(1))` and `hypot`, the closing edge from
/// `last()` and `first()`: ∂x_i = (x_i − x_{i−1})/ℓ_{i−1} − (x_{i+1} − x_i)/ℓ_i.
#[differentiate]
fn perimeter(xs: &[f64], ys: &[f64]) -> f64 {
    let open: f64 = xs
        .iter()
        .zip(xs.iter().skip(1))
        .zip(ys.iter().zip(ys.iter().skip(1)))
        .map(|((x0, x1), (y0, y1))| (x1 - x0).hypot(y1 - y0))
        .sum();
    let (xl, yl) = (*xs.last().unwrap(), *ys.last().unwrap());
    open + (xs[0] - xl).hypot(ys[0] - yl)
}

fn polygon() -> (Vec<f64>, Vec<f64>) {
    (
        vec![0.0, 2.0, 2.5, 1.0, -0.5],
        vec![0.0, -0.2, 1.5, 2.2, 1.0],
    )
}

#[test]
fn perimeter_by_zip_skip() {
    let (xs, ys) = polygon();
    let (v, (gx, gy)) = perimeter_grad(&xs, &ys);
    close("value", v, perimeter(&xs, &ys), TOL);
    let n = xs.len();
    let mut want_x = vec![0.0; n];
    let mut want_y = vec![0.0; n];
    for i in 0..n {
        let j = (i + 1) % n;
        let l = (xs[j] - xs[i]).hypot(ys[j] - ys[i]);
        want_x[i] -= (xs[j] - xs[i]) / l;
        want_x[j] += (xs[j] - xs[i]) / l;
        want_y[i] -= (ys[j] - ys[i]) / l;
        want_y[j] += (ys[j] - ys[i]) / l;
    }
    close_all("∂x", &gx, &want_x);
    close_all("∂y", &gy, &want_y);
    fd_vec("perimeter x", |x| perimeter(x, &ys), &xs, &gx);
    fd_vec("perimeter y", |y| perimeter(&xs, y), &ys, &gy);
}

/// The shoelace area of a polygon stored flat as [x0, y0, x1, y1, ..], its vertices read by
/// `chunks_exact(2)` into one `Vec` per coordinate: A = ½Σ(x_i y_{i+1} − x_{i+1} y_i),
/// ∂x_i = ½(y_{i+1} − y_{i−1}), ∂y_i = ½(x_{i−1} − x_{i+1}).
#[differentiate]
fn flat_polygon_area(xy: &[f64]) -> f64 {
    let xs: Vec<f64> = xy.chunks_exact(2).map(|p| p[0]).collect();
    let ys: Vec<f64> = xy.chunks_exact(2).map(|p| p[1]).collect();
    let n = xs.len();
    let mut a = 0.0;
    for i in 0..n {
        let (x0, y0) = (xs[i], ys[i]);
        let (x1, y1) = (xs[(i + 1) % n], ys[(i + 1) % n]);
        a += x0 * y1 - x1 * y0;
    }
    0.5 * a
}

#[test]
fn polygon_area_from_flat_coordinates() {
    let (xs, ys) = polygon();
    let xy: Vec<f64> = xs.iter().zip(&ys).flat_map(|(&x, &y)| [x, y]).collect();
    let (v, g) = flat_polygon_area_grad(&xy);
    close("value", v, flat_polygon_area(&xy), TOL);
    let n = xs.len();
    let mut want = vec![0.0; 2 * n];
    for i in 0..n {
        let (p, q) = ((i + n - 1) % n, (i + 1) % n);
        want[2 * i] = 0.5 * (ys[q] - ys[p]);
        want[2 * i + 1] = 0.5 * (xs[p] - xs[q]);
    }
    close_all("gradient", &g, &want);
    fd_vec("flat area", flat_polygon_area, &xy, &g);
}

/// The turning angle summed along a path, each corner's angle by `atan2` of cross and dot
/// products over `windows(3)`: checked against finite differences, and ∂ of one corner's
/// angle θ = atan2(c, d) by hand, ∂θ = (d·∂c − c·∂d)/(c² + d²).
#[differentiate]
fn total_turning(xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for (wx, wy) in xs.windows(3).zip(ys.windows(3)) {
        let (ax, ay) = (wx[1] - wx[0], wy[1] - wy[0]);
        let (bx, by) = (wx[2] - wx[1], wy[2] - wy[1]);
        let cross = ax * by - ay * bx;
        let dot = ax * bx + ay * by;
        total += cross.atan2(dot).abs();
    }
    total
}

#[test]
fn turning_angles_by_atan2() {
    let (xs, ys) = polygon();
    let (v, (gx, gy)) = total_turning_grad(&xs, &ys);
    close("value", v, total_turning(&xs, &ys), TOL);
    // By hand: ∂θ/∂x_i of each corner, signed by the angle's sign.
    let n = xs.len();
    let mut want_x = vec![0.0; n];
    for i in 0..n - 2 {
        let (ax, ay) = (xs[i + 1] - xs[i], ys[i + 1] - ys[i]);
        let (bx, by) = (xs[i + 2] - xs[i + 1], ys[i + 2] - ys[i + 1]);
        let (c, d) = (ax * by - ay * bx, ax * bx + ay * by);
        let s = c.atan2(d).signum() / (c * c + d * d);
        // ∂c/∂ax = by, ∂c/∂bx = −ay; ∂d/∂ax = bx, ∂d/∂bx = ax.
        let dax = s * (d * by - c * bx);
        let dbx = s * (d * -ay - c * ax);
        want_x[i] -= dax;
        want_x[i + 1] += dax - dbx;
        want_x[i + 2] += dbx;
    }
    close_all("∂x", &gx, &want_x);
    fd_vec("turning x", |x| total_turning(x, &ys), &xs, &gx);
    fd_vec("turning y", |y| total_turning(&xs, y), &ys, &gy);
}

/// A point's polar form by `hypot` and `atan2`, the angle unwrapped into [0, 2π) with an
/// `if`: ∂r/∂x = x/r, ∂θ/∂x = −y/r². The result r + θ.
#[differentiate]
fn polar_sum(x: f64, y: f64) -> f64 {
    let r = x.hypot(y);
    let mut theta = y.atan2(x);
    if theta < 0.0 {
        theta += 2.0 * std::f64::consts::PI;
    }
    r + theta
}

#[test]
fn polar_coordinates() {
    for (x, y) in [(0.6, 0.8), (-0.3, -1.1), (1.2, -0.4)] {
        let (v, g) = polar_sum_grad(x, y);
        close("value", v, polar_sum(x, y), TOL);
        let r2 = x * x + y * y;
        let r = r2.sqrt();
        close2("gradient", g, (x / r - y / r2, y / r + x / r2));
        fd2("polar", polar_sum, (x, y), g);
    }
}

/// The distance from points to a line through the origin at angle φ, by `sin_cos` and tuple
/// destructuring: d_i = |−sin φ·x_i + cos φ·y_i|, the sum of d_i².
/// ∂φ = Σ 2(−s x + c y)(−c x − s y).
#[differentiate(wrt(phi))]
fn line_fit(phi: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let (s, c) = phi.sin_cos();
    let mut sum = 0.0;
    for (&x, &y) in xs.iter().zip(ys) {
        let d = -s * x + c * y;
        sum += d * d;
    }
    sum
}

#[test]
fn line_fit_with_sin_cos() {
    let phi = 0.6;
    let (v, g) = line_fit_grad(phi, &XS, &YS);
    close("value", v, line_fit(phi, &XS, &YS), TOL);
    let (s, c) = phi.sin_cos();
    let want: f64 = XS
        .iter()
        .zip(&YS)
        .map(|(x, y)| 2.0 * (-s * x + c * y) * (-c * x - s * y))
        .sum();
    close("∂φ", g, want, 1e-12);
    fd("line fit", |p| line_fit(p, &XS, &YS), phi, g);
}

// ---------------------------------------------------------------------------------------------
// Small layers over `Vec<f64>`.
// ---------------------------------------------------------------------------------------------

/// A dense layer over flat row-major weights, rows by `chunks(n_in)`, then ReLU and a sum of
/// squares: ∂W_ij = 2·relu(z_i)·[z_i > 0]·x_j, ∂b_i = 2·relu(z_i)·[z_i > 0].
#[differentiate(wrt(w, b))]
fn dense_relu(w: &[f64], b: &[f64], x: &[f64]) -> f64 {
    let n_in = x.len();
    let mut out = Vec::with_capacity(b.len());
    for (row, bias) in w.chunks(n_in).zip(b) {
        let z: f64 = row.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + bias;
        out.push(z.max(0.0));
    }
    out.iter().map(|h| h * h).sum()
}

#[test]
fn dense_layer_over_vecs() {
    let x = [0.5, -1.0, 0.25];
    let w = data(12, 1.0);
    let b = [0.1, -0.2, 0.05, 0.3];
    let (v, (gw, gb)) = dense_relu_grad(&w, &b, &x);
    close("value", v, dense_relu(&w, &b, &x), TOL);
    let mut want_w = vec![0.0; 12];
    let mut want_b = vec![0.0; 4];
    for i in 0..4 {
        let z: f64 = (0..3).map(|j| w[3 * i + j] * x[j]).sum::<f64>() + b[i];
        if z > 0.0 {
            want_b[i] = 2.0 * z;
            for j in 0..3 {
                want_w[3 * i + j] = 2.0 * z * x[j];
            }
        }
    }
    close_all("∂w", &gw, &want_w);
    close_all("∂b", &gb, &want_b);
    fd_vec("dense w", |w| dense_relu(w, &b, &x), &w, &gw);
    fd_vec("dense b", |b| dense_relu(&w, b, &x), &b, &gb);
}

/// A generic softplus helper, called from a concrete function: softplus'(z) = σ(z).
#[differentiate]
fn softplus<T: Float>(z: T) -> T {
    if z > T::from(20.0).unwrap() {
        z
    } else {
        z.exp().ln_1p()
    }
}

/// A logistic-regression loss Σ softplus(−y·w·x) over samples stored flat, with the helper:
/// ∂w_j = Σ −y·x_j·σ(−y·w·x).
#[differentiate(wrt(w))]
fn logistic_flat(w: &[f64], xs: &[f64], ys: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for (x, &y) in xs.chunks_exact(d).zip(ys) {
        let margin: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum();
        loss += softplus(-y * margin);
    }
    loss
}

#[test]
fn logistic_loss_with_a_generic_helper() {
    let w = [0.3, -0.7];
    let xs = data(10, 2.0);
    let ys = [1.0, -1.0, -1.0, 1.0, 1.0];
    let (v, g) = logistic_flat_grad(&w, &xs, &ys);
    close("value", v, logistic_flat(&w, &xs, &ys), TOL);
    let mut want = [0.0; 2];
    for (x, &y) in xs.chunks_exact(2).zip(&ys) {
        let m = x[0] * w[0] + x[1] * w[1];
        let sig = 1.0 / (1.0 + (y * m).exp());
        for j in 0..2 {
            want[j] += -y * x[j] * sig;
        }
    }
    close_all("∂w", &g, &want);
    fd_vec("logistic flat", |w| logistic_flat(w, &xs, &ys), &w, &g);
    // The helper alone, for f32 as well: softplus'(z) = σ(z).
    let (s, d) = softplus_grad(0.4f32);
    close("f32 value", s as f64, softplus(0.4f32) as f64, 1e-6);
    close("f32 σ", d as f64, 1.0 / (1.0 + (-0.4f64).exp()), 1e-6);
}

/// Layer normalisation of a `Vec` by hand then a weighted sum: the gradient of
/// y = Σ g_i·(x_i − μ)/σ is ∂x = (g − mean(g) − x̂·mean(g·x̂))/σ.
#[differentiate(wrt(x))]
fn layer_norm_dot(x: &[f64], gains: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mu = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / n;
    let sd = (var + 1e-5).sqrt();
    let normed: Vec<f64> = x.iter().map(|v| (v - mu) / sd).collect();
    normed.iter().zip(gains).map(|(a, g)| a * g).sum()
}

#[test]
fn layer_norm_by_hand() {
    let gains = [1.0, 0.5, -0.3, 2.0, 0.7, -1.1];
    let (v, g) = layer_norm_dot_grad(&XS, &gains);
    close("value", v, layer_norm_dot(&XS, &gains), TOL);
    let n = 6.0;
    let mu = XS.iter().sum::<f64>() / n;
    let var = XS.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n;
    let sd = (var + 1e-5).sqrt();
    let xh: Vec<f64> = XS.iter().map(|v| (v - mu) / sd).collect();
    let mg = gains.iter().sum::<f64>() / n;
    let mgx = gains.iter().zip(&xh).map(|(g, x)| g * x).sum::<f64>() / n;
    let want: Vec<f64> = (0..6).map(|i| (gains[i] - mg - xh[i] * mgx) / sd).collect();
    close_all("∂x", &g, &want);
    fd_vec("layer norm", |x| layer_norm_dot(x, &gains), &XS, &g);
}

// ---------------------------------------------------------------------------------------------
// Small layers over ndarray.
// ---------------------------------------------------------------------------------------------

/// A row-wise softmax by `sum_axis` and `insert_axis`, then the probability of each row's
/// label: ∂logits = (softmax − onehot)·(−1) … written as the negative log-likelihood, whose
/// gradient is softmax − onehot per row.
#[differentiate(wrt(logits))]
fn row_softmax_nll(logits: &Array2<f64>, labels: &[usize]) -> f64 {
    let e = logits.mapv(f64::exp);
    let z = e.sum_axis(Axis(1)).insert_axis(Axis(1));
    let p = &e / &z;
    let mut nll = 0.0;
    for (i, &l) in labels.iter().enumerate() {
        nll -= p[[i, l]].ln();
    }
    nll
}

#[test]
fn row_softmax_with_sum_axis() {
    let x = matrix(4, 3, 1.0);
    let labels = [2, 0, 1, 1];
    let (v, g) = row_softmax_nll_grad(&x, &labels);
    close("value", v, row_softmax_nll(&x, &labels), TOL);
    for i in 0..4 {
        let row: Vec<f64> = x.row(i).to_vec();
        let s = softmax_of(&row);
        for j in 0..3 {
            let want = s[j] - if j == labels[i] { 1.0 } else { 0.0 };
            close("∂logits", g[[i, j]], want, 1e-12);
        }
    }
    fd_array("softmax nll", |x| row_softmax_nll(x, &labels), &x, &g);
}

#[derive(Clone, Debug, Differentiable)]
struct Affine {
    w: Array2<f64>,
    b: Array1<f64>,
}

impl Affine {
    #[differentiate]
    fn apply(&self, x: &Array1<f64>) -> Array1<f64> {
        self.w.dot(x) + &self.b
    }
}

#[derive(Clone, Debug, Differentiable)]
struct TwoLayer {
    l1: Affine,
    l2: Affine,
}

impl TwoLayer {
    /// ‖l2(tanh(l1(x)))‖² with `wrt(self)`: ∂b2 = 2·out, ∂W2 = 2·out·hᵀ.
    #[differentiate(wrt(self))]
    fn loss(&self, x: &Array1<f64>) -> f64 {
        let h = self.l1.apply(x).mapv(f64::tanh);
        let out = self.l2.apply(&h);
        out.dot(&out)
    }
}

#[test]
fn nested_layers_with_wrt_self() {
    let net = TwoLayer {
        l1: Affine {
            w: matrix(4, 3, 1.0),
            b: vector(4, 2.0),
        },
        l2: Affine {
            w: matrix(2, 4, 3.0),
            b: vector(2, 4.0),
        },
    };
    let x = vector(3, 5.0);
    let (v, g) = net.loss_grad(&x);
    close("value", v, net.loss(&x), TOL);
    let h = (net.l1.w.dot(&x) + &net.l1.b).mapv(f64::tanh);
    let out = net.l2.w.dot(&h) + &net.l2.b;
    for i in 0..2 {
        close("∂b2", g.l2.b[i], 2.0 * out[i], 1e-12);
        for j in 0..4 {
            close("∂W2", g.l2.w[[i, j]], 2.0 * out[i] * h[j], 1e-12);
        }
    }
    let r = gradcheck(|n: &TwoLayer| n.loss(&x), &net, &g);
    assert!(r.passed(), "{r}");
}

/// A gated unit on ndarray: g = σ(Wx), y = g ⊙ tanh(Vx), the mean: checked against finite
/// differences, and ∂V against (1/n)·(g ⊙ (1 − tanh²(Vx))) xᵀ.
#[differentiate(wrt(w, v))]
fn gated_unit(w: &Array2<f64>, v: &Array2<f64>, x: &Array1<f64>) -> f64 {
    let gate = w.dot(x).mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let cand = v.dot(x).mapv(f64::tanh);
    (&gate * &cand).mean().unwrap()
}

#[test]
fn gated_unit_on_arrays() {
    let (w, v, x) = (matrix(3, 4, 1.0), matrix(3, 4, 2.0), vector(4, 3.0));
    let (y, (gw, gv)) = gated_unit_grad(&w, &v, &x);
    close("value", y, gated_unit(&w, &v, &x), TOL);
    let gate = w.dot(&x).mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let t = v.dot(&x).mapv(f64::tanh);
    for i in 0..3 {
        for j in 0..4 {
            let want = gate[i] * (1.0 - t[i] * t[i]) * x[j] / 3.0;
            close("∂V", gv[[i, j]], want, 1e-12);
        }
    }
    fd_array("gated w", |w| gated_unit(w, &v, &x), &w, &gw);
    fd_array("gated v", |v| gated_unit(&w, v, &x), &v, &gv);
}

// ---------------------------------------------------------------------------------------------
// Recurrences, `while` loops and early returns.
// ---------------------------------------------------------------------------------------------

/// The fixed point of x = cos(a·x) by iteration until the change is small, returned early:
/// by the implicit function theorem ∂a = −x·sin(ax) / (1 + a·sin(ax)).
#[differentiate]
fn cos_fixed_point(a: f64) -> f64 {
    let mut x = 0.5;
    for _ in 0..500 {
        let next = (a * x).cos();
        if (next - x).abs() < 1e-15 {
            return next;
        }
        x = next;
    }
    x
}

#[test]
fn fixed_point_with_early_return() {
    let a = 0.7;
    let (x, g) = cos_fixed_point_grad(a);
    close("value", x, cos_fixed_point(a), TOL);
    close("fixed point", x, (a * x).cos(), 1e-14);
    let s = (a * x).sin();
    close("∂a", g, -x * s / (1.0 + a * s), 1e-10);
    fd("fixed point", cos_fixed_point, a, g);
}

/// The golden-section-free Babylonian cube root: x ← (2x + a/x²)/3 in a `while` loop with a
/// counter: ∂a = 1/(3·a^{2/3}).
#[differentiate]
fn cube_root(a: f64) -> f64 {
    let mut x = if a > 1.0 { a / 3.0 } else { 1.0 };
    let mut n = 0;
    while n < 60 {
        x = (2.0 * x + a / (x * x)) / 3.0;
        n += 1;
    }
    x
}

#[test]
fn babylonian_cube_root() {
    for a in [0.5, 2.0, 27.0] {
        let (x, g) = cube_root_grad(a);
        close("value", x, cube_root(a), TOL);
        close("cbrt", x, a.cbrt(), 1e-12);
        close("∂a", g, 1.0 / (3.0 * a.cbrt().powi(2)), 1e-12);
        fd("cube root", cube_root, a, g);
    }
}

/// The three-term recurrence of Legendre polynomials, P_{k+1} = ((2k+1) t P_k − k P_{k−1})/(k+1),
/// with shadowed bindings inside the loop; the result Σ w_k P_k(t). ∂w_k = P_k(t).
#[differentiate]
fn legendre_series(t: f64, w: &[f64]) -> f64 {
    let (mut p0, mut p1) = (1.0, t);
    let mut s = w[0] * p0 + w[1] * p1;
    for k in 1..w.len() - 1 {
        let k = k as f64;
        let p2 = ((2.0 * k + 1.0) * t * p1 - k * p0) / (k + 1.0);
        p0 = p1;
        p1 = p2;
        s += w[k as usize + 1] * p2;
    }
    s
}

#[test]
fn legendre_recurrence_with_shadowing() {
    let t = 0.35;
    let w = [0.5, -1.0, 0.75, 0.2, -0.4];
    let (v, (gt, gw)) = legendre_series_grad(t, &w);
    close("value", v, legendre_series(t, &w), TOL);
    let p = [
        1.0,
        t,
        0.5 * (3.0 * t * t - 1.0),
        0.5 * (5.0 * t.powi(3) - 3.0 * t),
        (35.0 * t.powi(4) - 30.0 * t * t + 3.0) / 8.0,
    ];
    let dp = [
        0.0,
        1.0,
        3.0 * t,
        0.5 * (15.0 * t * t - 3.0),
        (140.0 * t.powi(3) - 60.0 * t) / 8.0,
    ];
    close_all("∂w", &gw, &p);
    close("∂t", gt, (0..5).map(|k| w[k] * dp[k]).sum::<f64>(), 1e-12);
    fd("legendre t", |t| legendre_series(t, &w), t, gt);
    fd_vec("legendre w", |w| legendre_series(t, w), &w, &gw);
}

/// Gradient descent on a quadratic with a tolerance test and an early `return` from inside
/// the loop: minimises ½a(x − c)² from x0, converging to c, so ∂c → 1, ∂a → 0 (the iterate
/// after n steps is c + (x0 − c)(1 − ηa)^n: ∂c = 1 − (1 − ηa)^n, ∂a = −nη(x0 − c)(1 − ηa)^(n−1)).
#[differentiate(wrt(a, c))]
fn descend(a: f64, c: f64, x0: f64) -> f64 {
    let eta = 0.1;
    let mut x = x0;
    let mut steps = 0;
    loop {
        let grad = a * (x - c);
        if steps == 25 {
            return x;
        }
        x -= eta * grad;
        steps += 1;
    }
}

#[test]
fn gradient_descent_with_loop_and_return() {
    let (a, c, x0) = (2.0, 0.3, 1.5);
    let (x, g) = descend_grad(a, c, x0);
    close("value", x, descend(a, c, x0), TOL);
    let q: f64 = 1.0 - 0.1 * a;
    close2(
        "gradient",
        g,
        (-25.0 * 0.1 * (x0 - c) * q.powi(24), 1.0 - q.powi(25)),
    );
    fd2("descend", |a, c| descend(a, c, x0), (a, c), g);
}

// ---------------------------------------------------------------------------------------------
// `Option`, `if let`, and the iterator idioms.
// ---------------------------------------------------------------------------------------------

/// The log of the last positive value, or of the first value's square when none: `if let` on
/// `iter().rev().find(..)`. ∂x_k = 1/x_k at the last positive k.
#[differentiate]
fn log_last_positive(x: &[f64]) -> f64 {
    if let Some(&v) = x.iter().rev().find(|&&v| v > 0.0) {
        v.ln()
    } else {
        (x[0] * x[0]).ln()
    }
}

/// The largest |x_i| times the smallest, found with `max_by`/`min_by` on `total_cmp` over
/// `copied()`: ∂ at the two positions.
#[differentiate]
fn max_abs_times_min(x: &[f64]) -> f64 {
    let big = x
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap();
    let small = x.iter().cloned().min_by(|a, b| a.total_cmp(b)).unwrap();
    big * small
}

#[test]
fn option_and_extremes() {
    let (v, g) = log_last_positive_grad(&XS);
    close("value", v, log_last_positive(&XS), TOL);
    let mut want = vec![0.0; 6];
    want[5] = 1.0 / XS[5];
    close_all("gradient", &g, &want);
    fd_vec("last positive", log_last_positive, &XS, &g);
    let neg = [-0.3, -0.2];
    let (_, g) = log_last_positive_grad(&neg);
    close_all("none", &g, &[2.0 / -0.3, 0.0]);

    let (v, g) = max_abs_times_min_grad(&XS);
    close("value", v, max_abs_times_min(&XS), TOL);
    // |x| is largest at 1.2 (index 2), the minimum is −0.5 (index 1).
    let mut want = vec![0.0; 6];
    want[2] = -0.5;
    want[1] = 1.2;
    close_all("gradient", &g, &want);
    fd_vec("max abs", max_abs_times_min, &XS, &g);
}

/// A running maximum of partial sums (the largest drawdown-free gain), by a `for` loop with
/// tuple destructuring and `max`: checked by hand from the indices where the maximum is taken.
#[differentiate]
fn best_partial_sum(x: &[f64]) -> f64 {
    let (mut run, mut best) = (0.0, f64::NEG_INFINITY);
    for &v in x {
        run = (run + v).max(v);
        best = best.max(run);
    }
    best
}

#[test]
fn kadane_maximum_subarray() {
    let (v, g) = best_partial_sum_grad(&XS);
    close("value", v, best_partial_sum(&XS), TOL);
    // The best subarray is x[2..6] = 1.2 + 0.8 − 0.1 + 0.65 = 2.55.
    close("max", v, 2.55, 1e-12);
    close_all("gradient", &g, &[0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
    fd_vec("kadane", best_partial_sum, &XS, &g);
}

/// The sum of the last element of a computed chain and of the first squared: `last()` on a
/// `map`, `first()` on the input. ∂x_{n−1} = exp(x_{n−1}), ∂x_0 = 2x_0.
#[differentiate]
fn last_of_chain(x: &[f64]) -> f64 {
    let tail = x.iter().map(|v| v.exp()).last().unwrap();
    let head = *x.first().unwrap();
    tail + head * head
}

#[test]
fn last_of_a_mapped_chain() {
    let (v, g) = last_of_chain_grad(&XS);
    close("value", v, last_of_chain(&XS), TOL);
    close_all(
        "gradient",
        &g,
        &[2.0 * XS[0], 0.0, 0.0, 0.0, 0.0, XS[5].exp()],
    );
    fd_vec("last", last_of_chain, &XS, &g);
}

/// Nested helpers declared in the body with the attribute, and shadowing of the parameter:
/// f = Σ sq(cube(x_i)) = Σ x_i⁶, ∂x_i = 6x_i⁵ · scale, scale a `const`.
#[differentiate]
fn sextic(x: &[f64]) -> f64 {
    const SCALE: f64 = 0.5;
    #[differentiate]
    fn sq(v: f64) -> f64 {
        v * v
    }
    #[differentiate]
    fn cube(v: f64) -> f64 {
        v * sq(v)
    }
    let x = x.to_vec();
    let x: Vec<f64> = x.iter().map(|&v| cube(v)).collect();
    SCALE * x.iter().map(|&v| sq(v)).sum::<f64>()
}

#[test]
fn helpers_in_the_body_and_shadowing() {
    let (v, g) = sextic_grad(&XS);
    close("value", v, sextic(&XS), TOL);
    let want: Vec<f64> = XS.iter().map(|x| 3.0 * x.powi(5)).collect();
    close_all("gradient", &g, &want);
    fd_vec("sextic", sextic, &XS, &g);
}

/// Smoothed values by a causal filter over `zip(skip(1))`, then pairwise products with
/// `zip`: y_i = x_i + αx_{i−1}, f = Σ y_i·y_{i+1}.
#[differentiate(wrt(alpha))]
fn filtered_products(alpha: f64, x: &[f64]) -> f64 {
    let y: Vec<f64> = x
        .iter()
        .zip(x.iter().skip(1))
        .map(|(prev, cur)| cur + alpha * prev)
        .collect();
    y.iter().zip(&y[1..]).map(|(a, b)| a * b).sum()
}

#[test]
fn causal_filter_products() {
    let alpha = 0.4;
    let (v, g) = filtered_products_grad(alpha, &XS);
    close("value", v, filtered_products(alpha, &XS), TOL);
    // ∂α = Σ (x_{i−1}·y_{i+1} + y_i·x_i) over consecutive pairs of y.
    let y: Vec<f64> = (1..6).map(|i| XS[i] + alpha * XS[i - 1]).collect();
    let want: f64 = (0..4).map(|k| XS[k] * y[k + 1] + y[k] * XS[k + 1]).sum();
    close("∂α", g, want, 1e-12);
    fd("filter", |a| filtered_products(a, &XS), alpha, g);
}

// ---------------------------------------------------------------------------------------------
// Generic helpers and structs with counters.
// ---------------------------------------------------------------------------------------------

/// A generic Gaussian kernel and the kernel density estimate built on it:
/// ∂h of Σ_i exp(−(t − x_i)²/(2h²))/h = Σ k_i·((t − x_i)²/h³ − 1/h).
#[differentiate]
fn gauss_kernel<T: Float>(u: T, h: T) -> T {
    let two = T::one() + T::one();
    (-(u * u) / (two * h * h)).exp() / h
}

#[differentiate(wrt(t, h))]
fn kde(t: f64, h: f64, xs: &[f64]) -> f64 {
    xs.iter().map(|&x| gauss_kernel(t - x, h)).sum()
}

#[test]
fn kernel_density_with_a_generic_kernel() {
    let (t, h) = (0.2, 0.6);
    let (v, g) = kde_grad(t, h, &XS);
    close("value", v, kde(t, h, &XS), TOL);
    let (mut dt, mut dh) = (0.0, 0.0);
    for x in XS {
        let u = t - x;
        let k = (-u * u / (2.0 * h * h)).exp() / h;
        dt += -k * u / (h * h);
        dh += k * (u * u / (h * h * h) - 1.0 / h);
    }
    close2("gradient", g, (dt, dh));
    fd2("kde", |t, h| kde(t, h, &XS), (t, h), g);
}

/// A generic smooth L1 (the pseudo-Huber loss) over a slice of a generic float:
/// ∂r_i = r_i/√(1 + (r_i/δ)²).
#[differentiate(wrt(r))]
fn pseudo_huber<T: Float>(r: &[T], delta: T) -> T {
    let mut s = T::zero();
    for &v in r {
        let q = v / delta;
        s = s + delta * delta * ((T::one() + q * q).sqrt() - T::one());
    }
    s
}

#[test]
fn pseudo_huber_generic_f32_and_f64() {
    let (v, g) = pseudo_huber_grad(&XS, 0.5);
    close("value", v, pseudo_huber(&XS, 0.5), TOL);
    let want: Vec<f64> = XS
        .iter()
        .map(|r| r / (1.0 + (r / 0.5).powi(2)).sqrt())
        .collect();
    close_all("∂r", &g, &want);
    fd_vec("pseudo huber", |r| pseudo_huber(r, 0.5), &XS, &g);
    let r32: Vec<f32> = XS.iter().map(|&v| v as f32).collect();
    let (_, g32) = pseudo_huber_grad(&r32, 0.5f32);
    for (a, b) in g32.iter().zip(&want) {
        close("f32", *a as f64, *b, 1e-6);
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Polynomial {
    coeffs: [f64; 4],
}

impl Polynomial {
    /// p(t) by a `fold` over the coefficients reversed: ∂c_k = t^k, ∂t = p'(t).
    #[differentiate]
    fn eval(&self, t: f64) -> f64 {
        self.coeffs.iter().rev().fold(0.0, |acc, &c| acc * t + c)
    }

    /// The squared error of the polynomial over data, through `self.eval`, with `wrt(self)`:
    /// ∂c_k = Σ 2(p(x_i) − y_i)·x_i^k.
    #[differentiate(wrt(self))]
    fn sq_error(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut e = 0.0;
        for (&x, &y) in xs.iter().zip(ys) {
            let r = self.eval(x) - y;
            e += r * r;
        }
        e
    }
}

#[test]
fn polynomial_fit_with_a_struct_of_a_const_array() {
    let p = Polynomial {
        coeffs: [0.1, -0.4, 0.8, 0.3],
    };
    let (v, g) = p.sq_error_grad(&XS, &YS);
    close("value", v, p.sq_error(&XS, &YS), TOL);
    let mut want = [0.0; 4];
    for (&x, &y) in XS.iter().zip(&YS) {
        let r = p.eval(x) - y;
        for k in 0..4 {
            want[k] += 2.0 * r * x.powi(k as i32);
        }
    }
    close_all("∂c", &g.coeffs, &want);
    let rr = gradcheck(|p: &Polynomial| p.sq_error(&XS, &YS), &p, &g);
    assert!(rr.passed(), "{rr}");
    let (_, (_, dt)) = p.eval_grad(0.5);
    close("∂t", dt, -0.4 + 1.6 * 0.5 + 0.9 * 0.25, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Forms that were compile errors: an iterator kept in a variable, struct patterns in `let`,
// `last()` of a chain, literal elements in slice patterns.
// ---------------------------------------------------------------------------------------------

/// Softmax cross-entropy with the log-probabilities a lazy iterator kept in a variable and
/// zipped later, and a weighted sum over a zip kept in a variable and looped over:
/// ∂logits = softmax(logits)·Σt − t + w.
#[differentiate(wrt(logits))]
fn lazy_xent(logits: &[f64], target: &[f64], w: &[f64]) -> f64 {
    let max = logits.iter().copied().fold(f64::MIN, f64::max);
    let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    let log_probs = exps.iter().map(|e| (e / total).ln());
    let xent = -target
        .iter()
        .zip(log_probs)
        .map(|(t, lp)| t * lp)
        .sum::<f64>();
    let pairs = logits.iter().zip(w);
    let mut linear = 0.0;
    for (l, w) in pairs {
        linear += l * w;
    }
    xent + linear
}

#[test]
fn iterators_kept_in_variables() {
    let t = [0.1, 0.2, 0.0, 0.4, 0.25, 0.05];
    let (v, g) = lazy_xent_grad(&XS, &t, &YS);
    close("value", v, lazy_xent(&XS, &t, &YS), TOL);
    let s = softmax_of(&XS);
    let want: Vec<f64> = (0..6).map(|i| s[i] - t[i] + YS[i]).collect();
    close_all("gradient", &g, &want);
    fd_vec("lazy xent", |l| lazy_xent(l, &t, &YS), &XS, &g);
}

/// Σ_i Σ_j x_i x_j = (Σx)² by a chain consumed inside the closure of another (what the
/// diagnostic for `flat_map` suggests): ∂x_k = 2Σx.
#[differentiate]
fn pair_products(x: &[f64]) -> f64 {
    let n = x.len();
    (0..n)
        .map(|i| (0..n).map(|j| x[i] * x[j]).sum::<f64>())
        .sum::<f64>()
}

#[test]
fn nested_chains_instead_of_flat_map() {
    let (v, g) = pair_products_grad(&XS);
    close("value", v, pair_products(&XS), TOL);
    let s: f64 = XS.iter().sum();
    close("(Σx)²", v, s * s, 1e-12);
    close_all("gradient", &g, &[2.0 * s; 6]);
    fd_vec("pair products", pair_products, &XS, &g);
}

#[derive(Clone, Debug, Differentiable)]
struct Segment {
    a: f64,
    b: f64,
}

#[differentiate]
fn segment_from(t: f64) -> Segment {
    Segment {
        a: t.sin(),
        b: t * t,
    }
}

/// Struct patterns in `let`: of a reference parameter (the names bind references), of a
/// call's result, and of a literal with `..`. With s = (a, b):
/// f = a·b + sin(t)·t² + exp(a·t), ∂a = b + t·exp(at), ∂b = a,
/// ∂t = cos(t)·t² + 2t·sin(t) + a·exp(at).
#[differentiate]
fn destructured(s: &Segment, t: f64) -> f64 {
    let Segment { a, b } = s;
    let Segment { a: sa, b: sb } = segment_from(t);
    let Segment { a: prod, .. } = Segment { a: a * t, b: *b };
    a * b + sa * sb + prod.exp()
}

#[test]
fn struct_patterns_in_let() {
    let s = Segment { a: 0.4, b: -0.7 };
    let t = 0.9;
    let (v, (gs, gt)) = destructured_grad(&s, t);
    close("value", v, destructured(&s, t), TOL);
    let e = (s.a * t).exp();
    close2("∂s", (gs.a, gs.b), (s.b + t * e, s.a));
    close(
        "∂t",
        gt,
        t.cos() * t * t + 2.0 * t * t.sin() + s.a * e,
        1e-12,
    );
    fd("destructured t", |t| destructured(&s, t), t, gt);
    let r = gradcheck(|s: &Segment| destructured(s, t), &s, &gs);
    assert!(r.passed(), "{r}");
}

/// A reference pattern over a struct binds the fields' values, as `let Segment { a, b } = *s;`
/// does: of a parameter `s: &Segment` and of `&segs[1]`, read again by a branch joining them
/// with floats. It was the error "this pattern is not supported in `let`". With (a, b) = s and
/// a₁ = segs[1].a: f = a·t² + b·a₁ for t > 0, b·t + b·a₁ otherwise.
#[differentiate(hessian)]
fn destructured_through_references(s: &Segment, segs: &[Segment], t: f64) -> f64 {
    let &Segment { a, b } = s;
    let &Segment { a: a1, .. } = &segs[1];
    let y = if t > 0.0 { a * t } else { b };
    y * t + b * a1
}

#[test]
fn struct_patterns_through_references() {
    let s = Segment { a: 0.4, b: -0.7 };
    let segs = vec![Segment { a: 2.0, b: 3.0 }, Segment { a: 1.3, b: 0.2 }];
    let t = 0.9;
    let (v, (gs, gsegs, gt)) = destructured_through_references_grad(&s, &segs, t);
    close(
        "value",
        v,
        destructured_through_references(&s, &segs, t),
        TOL,
    );
    close("value, analytic", v, 0.4 * t * t - 0.7 * 1.3, 1e-12);
    close2("∂s", (gs.a, gs.b), (t * t, 1.3));
    close2("∂segs[0]", (gsegs[0].a, gsegs[0].b), (0.0, 0.0));
    close2("∂segs[1]", (gsegs[1].a, gsegs[1].b), (-0.7, 0.0));
    close("∂t", gt, 2.0 * 0.4 * t, 1e-12);
    let r = gradcheck(
        |s: &Segment| destructured_through_references(s, &segs, t),
        &s,
        &gs,
    );
    assert!(r.passed(), "{r}");
    // ∂²f/∂a∂t = 2t, ∂²f/∂t² = 2a, ∂²f/∂b∂a₁ = 1: H·e_t and H·e_b.
    let zero = Segment { a: 0.0, b: 0.0 };
    let zeros = vec![zero.clone(), zero.clone()];
    let (_, _, (hs, hsegs, ht)) =
        destructured_through_references_hvp(&s, &segs, t, &zero, &zeros, 1.0);
    close2("H·e_t, s", (hs.a, hs.b), (2.0 * t, 0.0));
    close2("H·e_t, segs[1]", (hsegs[1].a, hsegs[1].b), (0.0, 0.0));
    close("H·e_t, t", ht, 2.0 * 0.4, 1e-12);
    let (_, _, (hs, hsegs, ht)) =
        destructured_through_references_hvp(&s, &segs, t, &Segment { a: 0.0, b: 1.0 }, &zeros, 0.0);
    close2("H·e_b, s", (hs.a, hs.b), (0.0, 0.0));
    close2("H·e_b, segs[1]", (hsegs[1].a, hsegs[1].b), (1.0, 0.0));
    close("H·e_b, t", ht, 0.0, 1e-12);
    // The other branch: ∂b = t + a₁, ∂t = b, ∂a₁ = b; the tangent along (1, 1, 1, 1, 1, 1, 1).
    let t = -0.5;
    let (v, (gs, gsegs, gt)) = destructured_through_references_grad(&s, &segs, t);
    close("value, t < 0", v, -0.7 * t - 0.7 * 1.3, 1e-12);
    close2("∂s, t < 0", (gs.a, gs.b), (0.0, t + 1.3));
    close2("∂segs[1], t < 0", (gsegs[1].a, gsegs[1].b), (-0.7, 0.0));
    close("∂t, t < 0", gt, -0.7, 1e-12);
    let one = Segment { a: 1.0, b: 1.0 };
    let (y, dy) = destructured_through_references_jvp(
        &s,
        &segs,
        t,
        &one,
        &vec![one.clone(), one.clone()],
        1.0,
    );
    close("jvp value", y, v, TOL);
    close(
        "tangent",
        dy,
        gs.a + gs.b + gsegs[1].a + gsegs[1].b + gt,
        1e-12,
    );
}

/// `last()` of a reversed, mapped chain is the first element mapped: ∂x_0 = cos(x_0)·w,
/// ∂w = sin(x_0).
#[differentiate]
fn last_of_reversed(x: &[f64], w: f64) -> f64 {
    x.iter().rev().map(|v| v.sin() * w).last().unwrap()
}

#[test]
fn last_of_a_reversed_chain() {
    let (v, (g, gw)) = last_of_reversed_grad(&XS, 1.5);
    close("value", v, last_of_reversed(&XS, 1.5), TOL);
    let mut want = vec![0.0; 6];
    want[0] = XS[0].cos() * 1.5;
    close_all("∂x", &g, &want);
    close("∂w", gw, XS[0].sin(), 1e-12);
    fd_vec("last reversed", |x| last_of_reversed(x, 1.5), &XS, &g);
}

/// Slice patterns with literal elements: a pair whose second element is zero is the first
/// alone, any other pair (or longer) the product of the first two.
/// ∂ = (1, 0) for [a, 0.0]; (b, a, 0, …) for [a, b, ..]; 2a for [a].
#[differentiate]
fn slice_literal(xs: &[f64]) -> f64 {
    match xs {
        [] => 0.0,
        [a] => a * a,
        [a, 0.0] => *a,
        [-1.0, b, ..] => -b,
        [a, b, ..] => a * b,
    }
}

#[test]
fn slice_patterns_with_literals() {
    let cases: [(&[f64], Vec<f64>); 5] = [
        (&[0.3, 0.0], vec![1.0, 0.0]),
        (&[0.3, 0.5], vec![0.5, 0.3]),
        (&[0.3, 0.5, 1.0], vec![0.5, 0.3, 0.0]),
        (&[-1.0, 0.5, 1.0], vec![0.0, -1.0, 0.0]),
        (&[0.7], vec![1.4]),
    ];
    for (x, want) in cases {
        let (v, g) = slice_literal_grad(x);
        close("value", v, slice_literal(x), TOL);
        close_all("gradient", &g, &want);
    }
    // Away from the literals the function is smooth.
    let x = [0.3, 0.5, 1.0];
    let (_, g) = slice_literal_grad(&x);
    fd_vec("slice literal", slice_literal, &x, &g);
}

/// `iter_mut` kept in a variable, then looped over and written through: v_i = x_i·e^{x_i}
/// after the loop, f = Σv_i², ∂x_i = 2v_i·(1 + x_i)·e^{x_i}.
#[differentiate]
fn scaled_in_place(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let items = v.iter_mut();
    for e in items {
        *e *= e.exp();
    }
    v.iter().map(|v| v * v).sum()
}

#[test]
fn iter_mut_kept_in_a_variable() {
    let (s, g) = scaled_in_place_grad(&XS);
    close("value", s, scaled_in_place(&XS), TOL);
    let want: Vec<f64> = XS
        .iter()
        .map(|x| 2.0 * x * x.exp() * (1.0 + x) * x.exp())
        .collect();
    close_all("gradient", &g, &want);
    fd_vec("iter_mut", scaled_in_place, &XS, &g);
}

/// The first scaled value above a threshold, searched with `find` on a mapped chain and taken
/// apart by `match`; `t` where there is none: f = (w·x_k)² at the first k with w·x_k > t,
/// ∂x_k = 2w²x_k, ∂w = 2w·x_k².
#[differentiate(wrt(x, w))]
fn first_scaled_above(x: &[f64], w: f64, t: f64) -> f64 {
    match x.iter().map(|v| v * w).find(|&v| v > t) {
        Some(v) => v * v,
        None => t,
    }
}

/// The last exponential below a bound, through `rev`, `copied` and a function path in `map`:
/// ∂x_k = e^{x_k} at the last k with e^{x_k} < b.
#[differentiate(wrt(x))]
fn last_exp_below(x: &[f64], b: f64) -> f64 {
    if let Some(e) = x.iter().rev().copied().map(f64::exp).find(|&e| e < b) {
        e
    } else {
        0.0
    }
}

#[test]
fn find_on_a_mapped_chain() {
    for (w, t) in [(1.5, 1.0), (0.5, 0.45), (2.0, 5.0)] {
        let (v, (gx, gw)) = first_scaled_above_grad(&XS, w, t);
        close("value", v, first_scaled_above(&XS, w, t), TOL);
        let mut want = vec![0.0; 6];
        let want_w = match XS.iter().position(|&v| v * w > t) {
            Some(k) => {
                want[k] = 2.0 * w * w * XS[k];
                2.0 * w * XS[k] * XS[k]
            }
            None => 0.0,
        };
        close_all("∂x", &gx, &want);
        close("∂w", gw, want_w, 1e-12);
        fd_vec("find map x", |x| first_scaled_above(x, w, t), &XS, &gx);
        fd("find map w", |w| first_scaled_above(&XS, w, t), w, gw);
    }
    let (v, g) = last_exp_below_grad(&XS, 2.0);
    close("value", v, last_exp_below(&XS, 2.0), TOL);
    // From the back: e^{0.65} ≈ 1.92 < 2 is the first found.
    let mut want = vec![0.0; 6];
    want[5] = XS[5].exp();
    close_all("∂x", &g, &want);
    fd_vec("find map rev", |x| last_exp_below(x, 2.0), &XS, &g);
}

impl Affine {
    /// Σ(Wx + b)² with the fields taken apart by a struct pattern on `self` (references to
    /// the arrays): ∂b = 2(Wx + b), ∂W = 2(Wx + b)xᵀ.
    #[differentiate(wrt(self))]
    fn sq_norm(&self, x: &Array1<f64>) -> f64 {
        let Affine { w, b } = self;
        let y = w.dot(x) + b;
        y.dot(&y)
    }
}

/// The same through a struct taken by value, its arrays moved out by the pattern.
#[differentiate(wrt(layer))]
fn affine_by_value(layer: Affine, x: &Array1<f64>) -> f64 {
    let Affine { w, b: bias } = layer;
    let y = w.dot(x) + &bias;
    y.dot(&y)
}

#[test]
fn struct_patterns_over_array_fields() {
    let layer = Affine {
        w: matrix(3, 2, 1.0),
        b: vector(3, 2.0),
    };
    let x = vector(2, 3.0);
    let (v, g) = layer.sq_norm_grad(&x);
    close("value", v, layer.sq_norm(&x), TOL);
    let y = layer.w.dot(&x) + &layer.b;
    for i in 0..3 {
        close("∂b", g.b[i], 2.0 * y[i], 1e-12);
        for j in 0..2 {
            close("∂W", g.w[[i, j]], 2.0 * y[i] * x[j], 1e-12);
        }
    }
    let r = gradcheck(|l: &Affine| l.sq_norm(&x), &layer, &g);
    assert!(r.passed(), "{r}");
    let (v2, g2) = affine_by_value_grad(layer.clone(), &x);
    close("by value", v2, v, 1e-12);
    close_all(
        "∂b by value",
        g2.b.as_slice().unwrap(),
        g.b.as_slice().unwrap(),
    );
    let r = gradcheck(|l: &Affine| affine_by_value(l.clone(), &x), &layer, &g2);
    assert!(r.passed(), "{r}");
}

/// Two iterators kept in variables and zipped: ∂x_i = sin(y_i), ∂y_i = x_i·cos(y_i).
#[differentiate]
fn zip_of_kept_iterators(x: &[f64], y: &[f64]) -> f64 {
    let a = x.iter();
    let b = y.iter().map(|v| v.sin());
    a.zip(b).map(|(p, q)| p * q).sum()
}

/// A reversed iterator kept in a variable, enumerated in a `for` loop: the weight of x_i is
/// its position from the back plus one, ∂x_i = n − i.
#[differentiate]
fn weighted_from_the_back(x: &[f64]) -> f64 {
    let it = x.iter().rev();
    let mut s = 0.0;
    for (i, v) in it.enumerate() {
        s += v * (i as f64 + 1.0);
    }
    s
}

/// A match on data by slice patterns with literals, choosing what is differentiated:
/// ∂ = (x1, x0, 0, ..) for labels [0, ..], e^{x2} at 2 for [1, 2, ..], 1 at 3 otherwise.
#[differentiate(wrt(x))]
fn by_label_prefix(x: &[f64], labels: &[usize]) -> f64 {
    match labels {
        [0, ..] => x[0] * x[1],
        [1, 2, ..] => x[2].exp(),
        _ => x[3],
    }
}

#[test]
fn kept_iterators_and_data_slice_literals() {
    let (v, (gx, gy)) = zip_of_kept_iterators_grad(&XS, &YS);
    close("value", v, zip_of_kept_iterators(&XS, &YS), TOL);
    let want_x: Vec<f64> = YS.iter().map(|y| y.sin()).collect();
    let want_y: Vec<f64> = XS.iter().zip(&YS).map(|(x, y)| x * y.cos()).collect();
    close_all("∂x", &gx, &want_x);
    close_all("∂y", &gy, &want_y);
    fd_vec("zip kept", |x| zip_of_kept_iterators(x, &YS), &XS, &gx);

    let (v, g) = weighted_from_the_back_grad(&XS);
    close("value", v, weighted_from_the_back(&XS), TOL);
    close_all("gradient", &g, &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
    fd_vec("from the back", weighted_from_the_back, &XS, &g);

    for (labels, k) in [
        (vec![0, 5], 0),
        (vec![1, 2, 3], 1),
        (vec![1, 3], 2),
        (vec![], 2),
    ] {
        let (v, g) = by_label_prefix_grad(&XS, &labels);
        close("value", v, by_label_prefix(&XS, &labels), TOL);
        let mut want = vec![0.0; 6];
        match k {
            0 => {
                want[0] = XS[1];
                want[1] = XS[0];
            }
            1 => want[2] = XS[2].exp(),
            _ => want[3] = 1.0,
        }
        close_all("gradient", &g, &want);
        fd_vec("labels", |x| by_label_prefix(x, &labels), &XS, &g);
    }
}
