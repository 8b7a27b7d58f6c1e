//! Objectives whose body takes a gradient with the crate's own generated items: an unrolled
//! gradient step on a quadratic (`quad_grad` inside the loss), Newton's root iteration reading
//! the value and the slope of `cubic_grad`, MAML's meta-gradient and sharpness-aware
//! minimisation with `train_loss_grad` (declared `wrt(w)`, in a module marked
//! `#[differentiate]`), a WGAN-GP gradient penalty on `critic_grad`'s input gradient, a
//! physics-informed Burgers residual whose `u_x`, `u_t` come from `u_grad` and `u_xx` from a
//! central difference of them, a leapfrog simulation whose forces are `energy_grad`, gradient
//! descent on an ndarray view's loss, a parameter struct's energy, the gradient norm of a
//! function taking its weights by value, a slope residual read inside a `map` closure, a
//! method's `_grad` called from another `impl` block, force matching on a spring chain's
//! `chain_energy_grad`, and a Hamiltonian network's fit to observed `(q̇, ṗ)`. The called function is
//! marked `#[differentiate(hessian)]`: its `_grad` is followed through `_grad_vjp` and
//! `_grad_jvp`, made of its `_hvp` (`ȳ·∇f + H·ḡ`).
//!
//! Each gradient is checked against its analytic form where one is short (stated beside the
//! test) and against central finite differences of the plain objective through
//! `autodiff::check`; each value against the plain function's, and some `_jvp` against the
//! gradient along the direction.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::too_many_arguments
)] // written as users write them

use autodiff::differentiate;
use ndarray::{Array1, ArrayView1};

mod common;
use common::*;

#[differentiate(hessian)]
fn quad(x: f64, a: f64) -> f64 {
    a * x * x
}

/// One gradient step inside the loss: `x₁ = x₀ − 0.1·∂quad/∂x = x₀(1 − 0.2a)`, loss
/// `a·x₁²`.
#[differentiate]
fn unrolled(x0: f64, a: f64) -> f64 {
    let (_, (g, _)) = quad_grad(x0, a);
    let x1 = x0 - 0.1 * g;
    quad(x1, a)
}

#[test]
fn gradient_step_inside_the_loss() {
    let (x0, a) = (1.3, 2.0);
    let (v, (gx, ga)) = unrolled_grad(x0, a);
    let e = 1.0 - 0.2 * a;
    close("value", v, unrolled(x0, a), TOL);
    // ∂/∂x₀ = 2a·x₀·e², ∂/∂a = x₀²·(e² − 0.4a·e) with e = 1 − 0.2a.
    close("∂x0", gx, 2.0 * a * x0 * e * e, TOL);
    close("∂a", ga, x0 * x0 * (e * e - 0.4 * a * e), TOL);
    fd2("unrolled", unrolled, (x0, a), (gx, ga));
    let (_, t) = unrolled_jvp(x0, a, 0.3, -0.7);
    close("jvp", t, 0.3 * gx - 0.7 * ga, TOL);
}

#[differentiate(hessian)]
fn cubic(x: f64, a: f64) -> f64 {
    x * x * x - a
}

/// Newton's iteration for `∛a`, reading the value and the slope from `cubic_grad`.
#[differentiate]
fn newton_root(x0: f64, a: f64) -> f64 {
    let mut x = x0;
    for _ in 0..2 {
        let (fv, (dx, _)) = cubic_grad(x, a);
        x = x - fv / dx;
    }
    x * x
}

fn newton_root_plain(x0: f64, a: f64) -> f64 {
    let mut x = x0;
    for _ in 0..2 {
        x = x - (x * x * x - a) / (3.0 * x * x);
    }
    x * x
}

#[test]
fn newton_iteration_on_value_and_slope() {
    let (v, (gx, ga)) = newton_root_grad(1.2, 2.0);
    close("value", v, newton_root_plain(1.2, 2.0), TOL);
    // One step is x ↦ (2x³ + a)/(3x²): ∂/∂x = 2/3 − 2a/(3x³), ∂/∂a = 1/(3x²); chained twice.
    let (x1, d1x, d1a) = (
        (2.0 * 1.2f64.powi(3) + 2.0) / (3.0 * 1.44),
        2.0 / 3.0 - 4.0 / (3.0 * 1.2f64.powi(3)),
        1.0 / (3.0 * 1.44),
    );
    let (d2x, d2a) = (
        2.0 / 3.0 - 4.0 / (3.0 * x1 * x1 * x1),
        1.0 / (3.0 * x1 * x1),
    );
    let x2 = (2.0 * x1 * x1 * x1 + 2.0) / (3.0 * x1 * x1);
    close("∂x0", gx, 2.0 * x2 * d2x * d1x, TOL);
    close("∂a", ga, 2.0 * x2 * (d2x * d1a + d2a), TOL);
    fd2("newton_root", newton_root_plain, (1.2, 2.0), (gx, ga));
    let (_, t) = newton_root_jvp(1.2, 2.0, 0.3, -0.7);
    close("jvp", t, 0.3 * gx - 0.7 * ga, TOL);
}

#[differentiate]
mod meta {
    use autodiff::differentiate;

    /// The mean squared error of a linear model.
    #[differentiate(wrt(w), hessian)]
    pub fn train_loss(w: &[f64], xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        xs.iter()
            .zip(ys)
            .map(|(x, y)| (x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() - y).powi(2))
            .sum::<f64>()
            / ys.len() as f64
    }

    /// MAML: the validation loss after one inner step `w − α∇L_train(w)`.
    #[differentiate(wrt(w, alpha))]
    pub fn maml(
        w: &[f64],
        alpha: f64,
        xs: &[Vec<f64>],
        ys: &[f64],
        xv: &[Vec<f64>],
        yv: &[f64],
    ) -> f64 {
        let (_, g) = train_loss_grad(w, xs, ys);
        let w2: Vec<f64> = w.iter().zip(&g).map(|(a, b)| a - alpha * b).collect();
        train_loss(&w2, xv, yv)
    }

    /// Sharpness-aware minimisation: the loss at `w + ρ·g/‖g‖`.
    #[differentiate(wrt(w))]
    pub fn sam(w: &[f64], rho: f64, xs: &[Vec<f64>], ys: &[f64]) -> f64 {
        let (_, g) = train_loss_grad(w, xs, ys);
        let n = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        let w2: Vec<f64> = w.iter().zip(&g).map(|(a, b)| a + rho * b / n).collect();
        train_loss(&w2, xs, ys)
    }
}

fn regression() -> (Vec<Vec<f64>>, Vec<f64>, Vec<Vec<f64>>, Vec<f64>) {
    (
        vec![vec![1.0, 0.5], vec![0.3, -1.0], vec![2.0, 0.1]],
        vec![1.0, -0.5, 2.0],
        vec![vec![0.7, 0.2], vec![-1.0, 1.0]],
        vec![0.5, 0.3],
    )
}

/// `Aᵀ·v` and `A·w` of the rows `xs`.
fn mat(
    xs: &[Vec<f64>],
) -> (
    usize,
    impl Fn(&[f64]) -> Vec<f64> + '_,
    impl Fn(&[f64]) -> Vec<f64> + '_,
) {
    let n = xs[0].len();
    let av = move |w: &[f64]| {
        xs.iter()
            .map(|x| x.iter().zip(w).map(|(a, b)| a * b).sum())
            .collect()
    };
    let atv = move |v: &[f64]| {
        (0..n)
            .map(|j| xs.iter().zip(v).map(|(x, vi)| x[j] * vi).sum())
            .collect()
    };
    (n, av, atv)
}

#[test]
fn maml_meta_gradient_through_train_loss_grad() {
    let (xs, ys, xv, yv) = regression();
    let w = [0.2, -0.1];
    let alpha = 0.1;
    let (v, (gw, ga)) = meta::maml_grad(&w, alpha, &xs, &ys, &xv, &yv);
    close("value", v, meta::maml(&w, alpha, &xs, &ys, &xv, &yv), TOL);
    // Closed form: g = (2/n)Aᵀ(Aw − y), w' = w − αg, r = Bw' − y_v, L = |r|²/m;
    // ∂L/∂w = (I − α(2/n)AᵀA)·(2/m)Bᵀr, ∂L/∂α = −g·(2/m)Bᵀr.
    let (_, aw, atv) = mat(&xs);
    let (_, bw, btv) = mat(&xv);
    let (n, m) = (ys.len() as f64, yv.len() as f64);
    let res: Vec<f64> = aw(&w).iter().zip(&ys).map(|(a, y)| a - y).collect();
    let g: Vec<f64> = atv(&res).iter().map(|v| 2.0 / n * v).collect();
    let w2: Vec<f64> = w.iter().zip(&g).map(|(a, b)| a - alpha * b).collect();
    let r: Vec<f64> = bw(&w2).iter().zip(&yv).map(|(a, y)| a - y).collect();
    let u: Vec<f64> = btv(&r).iter().map(|v| 2.0 / m * v).collect();
    let hu: Vec<f64> = atv(&aw(&u)).iter().map(|v| 2.0 / n * v).collect();
    let expected: Vec<f64> = u.iter().zip(&hu).map(|(a, b)| a - alpha * b).collect();
    close_all("∂w", &gw, &expected);
    close(
        "∂α",
        ga,
        -g.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>(),
        TOL,
    );
    fd_vec(
        "maml ∂w",
        |p| meta::maml(p, alpha, &xs, &ys, &xv, &yv),
        &w,
        &gw,
    );
    fd(
        "maml ∂α",
        |a| meta::maml(&w, a, &xs, &ys, &xv, &yv),
        alpha,
        ga,
    );
    let (_, t) = meta::maml_jvp(&w, alpha, &xs, &ys, &xv, &yv, &vec![0.3, -0.8], 0.5);
    close("jvp", t, 0.3 * gw[0] - 0.8 * gw[1] + 0.5 * ga, TOL);
}

#[test]
fn sharpness_aware_loss_through_train_loss_grad() {
    let (xs, ys, ..) = regression();
    let w = [0.2, -0.1];
    let (v, gw) = meta::sam_grad(&w, 0.05, &xs, &ys);
    close("value", v, meta::sam(&w, 0.05, &xs, &ys), TOL);
    fd_vec("sam", |p| meta::sam(p, 0.05, &xs, &ys), &w, &gw);
}

#[differentiate(hessian)]
fn critic(x: &[f64], th: &[f64]) -> f64 {
    (0..th.len())
        .map(|k| th[k] * (th[k] * x[k] + 0.5 * x[(k + 1) % x.len()]).tanh())
        .sum()
}

/// WGAN-GP's penalty `(‖∇ₓD(x)‖ − 1)²`.
#[differentiate]
fn gradient_penalty(th: &[f64], x: &[f64]) -> f64 {
    let (_, (gx, _)) = critic_grad(x, th);
    let n = gx.iter().map(|v| v * v).sum::<f64>().sqrt();
    (n - 1.0).powi(2)
}

fn critic_input_grad(th: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut gx = vec![0.0; n];
    for k in 0..th.len() {
        let z = (th[k] * x[k] + 0.5 * x[(k + 1) % n]).tanh();
        let s = th[k] * (1.0 - z * z);
        gx[k] += s * th[k];
        gx[(k + 1) % n] += s * 0.5;
    }
    gx
}

fn gradient_penalty_plain(th: &[f64], x: &[f64]) -> f64 {
    let gx = critic_input_grad(th, x);
    (gx.iter().map(|v| v * v).sum::<f64>().sqrt() - 1.0).powi(2)
}

#[test]
fn wgan_gradient_penalty_through_critic_grad() {
    let (th, x) = ([0.7, -1.1, 0.4], [0.3, -0.2, 0.9]);
    let (v, (gth, gx)) = gradient_penalty_grad(&th, &x);
    close("value", v, gradient_penalty_plain(&th, &x), TOL);
    // ∂/∂θₖ of ∇ₓD: with zₖ = tanh(θₖxₖ + x_{k+1}/2), ∇ₓD gets θₖ²(1 − zₖ²) at k and
    // θₖ(1 − zₖ²)/2 at k+1, whose θₖ-derivative is (2θₖ(1 − zₖ²) − 2θₖ²zₖ(1 − zₖ²)xₖ) and
    // ((1 − zₖ²) − 2θₖzₖ(1 − zₖ²)xₖ)/2; the penalty's is 2(‖∇ₓD‖ − 1)/‖∇ₓD‖ · ∇ₓD·that.
    let gxd = critic_input_grad(&th, &x);
    let nrm = gxd.iter().map(|v| v * v).sum::<f64>().sqrt();
    let c = 2.0 * (nrm - 1.0) / nrm;
    let n = x.len();
    let expected: Vec<f64> = (0..3)
        .map(|k| {
            let z = (th[k] * x[k] + 0.5 * x[(k + 1) % n]).tanh();
            let s = 1.0 - z * z;
            let dk = 2.0 * th[k] * s - 2.0 * th[k] * th[k] * z * s * x[k];
            let dk1 = 0.5 * (s - 2.0 * th[k] * z * s * x[k]);
            c * (gxd[k] * dk + gxd[(k + 1) % n] * dk1)
        })
        .collect();
    close_all("∂θ", &gth, &expected);
    fd_vec("penalty ∂θ", |p| gradient_penalty_plain(p, &x), &th, &gth);
    fd_vec("penalty ∂x", |p| gradient_penalty_plain(&th, p), &x, &gx);
}

#[differentiate(hessian)]
fn u(x: f64, t: f64, th: &[f64]) -> f64 {
    th[3] * (th[0] * x + th[1] * t + th[2]).tanh()
}

/// Burgers' residual `u_t + u·u_x − ν·u_xx` at collocation points, `u_x` and `u_t` from
/// `u_grad`, `u_xx` from a central difference of `u_x`.
#[differentiate(wrt(th))]
fn burgers(th: &[f64], pts: &[(f64, f64)], nu: f64) -> f64 {
    let h = 1e-3;
    let mut l = 0.0;
    for &(x, t) in pts {
        let (uv, (ux, ut, _)) = u_grad(x, t, th);
        let (_, (uxp, _, _)) = u_grad(x + h, t, th);
        let (_, (uxm, _, _)) = u_grad(x - h, t, th);
        let uxx = (uxp - uxm) / (2.0 * h);
        let r = ut + uv * ux - nu * uxx;
        l += r * r;
    }
    l
}

fn burgers_plain(th: &[f64], pts: &[(f64, f64)], nu: f64) -> f64 {
    let h = 1e-3;
    let z = |x: f64, t: f64| (th[0] * x + th[1] * t + th[2]).tanh();
    let uu = |x: f64, t: f64| th[3] * z(x, t);
    let ux = |x: f64, t: f64| th[3] * th[0] * (1.0 - z(x, t).powi(2));
    let ut = |x: f64, t: f64| th[3] * th[1] * (1.0 - z(x, t).powi(2));
    pts.iter()
        .map(|&(x, t)| {
            let r = ut(x, t) + uu(x, t) * ux(x, t) - nu * (ux(x + h, t) - ux(x - h, t)) / (2.0 * h);
            r * r
        })
        .sum()
}

#[test]
fn burgers_residual_through_u_grad() {
    let th = [0.8, -0.5, 0.1, 1.3];
    let pts = [(0.1, 0.2), (-0.4, 0.5), (0.7, 0.9)];
    let (v, g) = burgers_grad(&th, &pts, 0.05);
    close("value", v, burgers_plain(&th, &pts, 0.05), TOL);
    // Without viscosity, with s = 1 − z², r = dθ₁s + d²θ₀zs (d = θ₃): ∂r/∂θ₁ = ds + (terms
    // through z); checked here at ν = 0 in θ₃, where r = d·θ₁·s + d²·θ₀·z·s is d times and d²
    // times functions free of d: ∂(Σr²)/∂d = Σ 2r(θ₁s + 2dθ₀zs).
    let (_, g0) = burgers_grad(&th, &pts, 0.0);
    let d = th[3];
    let expected: f64 = pts
        .iter()
        .map(|&(x, t)| {
            let z = (th[0] * x + th[1] * t + th[2]).tanh();
            let s = 1.0 - z * z;
            let r = d * th[1] * s + d * d * th[0] * z * s;
            2.0 * r * (th[1] * s + 2.0 * d * th[0] * z * s)
        })
        .sum();
    close("∂θ₃ at ν = 0", g0[3], expected, TOL);
    fd_vec("burgers", |p| burgers_plain(p, &pts, 0.05), &th, &g);
}

#[differentiate(hessian)]
fn energy(q: &[f64], k: f64, c: f64) -> f64 {
    q.iter().map(|v| 0.5 * k * v * v + c * v.powi(4)).sum()
}

/// Three leapfrog steps with the forces `−∇E` from `energy_grad`.
#[differentiate]
fn leapfrog(q0: &[f64], p0: &[f64], k: f64, c: f64) -> f64 {
    let dt = 0.1;
    let mut q = q0.to_vec();
    let mut p = p0.to_vec();
    for _ in 0..3 {
        let (_, (f, _, _)) = energy_grad(&q, k, c);
        for i in 0..p.len() {
            p[i] -= 0.5 * dt * f[i];
        }
        for i in 0..q.len() {
            q[i] += dt * p[i];
        }
        let (_, (f, _, _)) = energy_grad(&q, k, c);
        for i in 0..p.len() {
            p[i] -= 0.5 * dt * f[i];
        }
    }
    q.iter().map(|v| v * v).sum::<f64>() + p.iter().sum::<f64>()
}

fn leapfrog_plain(q0: &[f64], p0: &[f64], k: f64, c: f64) -> f64 {
    let dt = 0.1;
    let f = |q: &[f64]| -> Vec<f64> { q.iter().map(|v| k * v + 4.0 * c * v.powi(3)).collect() };
    let (mut q, mut p) = (q0.to_vec(), p0.to_vec());
    for _ in 0..3 {
        let ff = f(&q);
        for i in 0..p.len() {
            p[i] -= 0.5 * dt * ff[i];
        }
        for i in 0..q.len() {
            q[i] += dt * p[i];
        }
        let ff = f(&q);
        for i in 0..p.len() {
            p[i] -= 0.5 * dt * ff[i];
        }
    }
    q.iter().map(|v| v * v).sum::<f64>() + p.iter().sum::<f64>()
}

#[test]
fn leapfrog_with_forces_from_energy_grad() {
    let (q0, p0) = ([0.5, -0.3], [0.1, 0.2]);
    let (v, (gq, gp, gk, gc)) = leapfrog_grad(&q0, &p0, 1.5, 0.3);
    close("value", v, leapfrog_plain(&q0, &p0, 1.5, 0.3), TOL);
    // With c = 0 the map is linear, (q, p) ↦ M·(q, p) per coordinate with M the leapfrog
    // matrix of ω² = k; the loss's ∂/∂p₀ is then 2q₃·M₁₂ + M₂₂ (q₃ = M₁₁q₀ + M₁₂p₀).
    let (_, (_, gp_lin, _, _)) = leapfrog_grad(&q0, &p0, 1.5, 0.0);
    let (k, dt) = (1.5, 0.1);
    let step = [
        [1.0 - 0.5 * dt * dt * k, dt],
        [
            -dt * k * (1.0 - 0.25 * dt * dt * k),
            1.0 - 0.5 * dt * dt * k,
        ],
    ];
    let mul = |a: [[f64; 2]; 2], b: [[f64; 2]; 2]| {
        [
            [
                a[0][0] * b[0][0] + a[0][1] * b[1][0],
                a[0][0] * b[0][1] + a[0][1] * b[1][1],
            ],
            [
                a[1][0] * b[0][0] + a[1][1] * b[1][0],
                a[1][0] * b[0][1] + a[1][1] * b[1][1],
            ],
        ]
    };
    let m3 = mul(step, mul(step, step));
    for i in 0..2 {
        let q3 = m3[0][0] * q0[i] + m3[0][1] * p0[i];
        close(
            &format!("∂p{i} at c = 0"),
            gp_lin[i],
            2.0 * q3 * m3[0][1] + m3[1][1],
            TOL,
        );
    }
    fd_vec(
        "leapfrog ∂q",
        |x| leapfrog_plain(x, &p0, 1.5, 0.3),
        &q0,
        &gq,
    );
    fd_vec(
        "leapfrog ∂p",
        |x| leapfrog_plain(&q0, x, 1.5, 0.3),
        &p0,
        &gp,
    );
    fd_vec(
        "leapfrog ∂(k, c)",
        |s| leapfrog_plain(&q0, &p0, s[0], s[1]),
        &[1.5, 0.3],
        &[gk, gc],
    );
}

#[differentiate(hessian)]
fn view_loss(w: ArrayView1<'_, f64>, c: f64) -> f64 {
    (&w * &w).sum() * c + w.sum().sin()
}

/// Three gradient-descent steps on an ndarray view's loss, then the loss.
#[differentiate]
fn descended(w0: &Array1<f64>, c: f64) -> f64 {
    let mut w = w0.clone();
    for _ in 0..3 {
        let (_, (g, _)) = view_loss_grad(w.view(), c);
        w = &w - &(g * 0.1);
    }
    view_loss(w.view(), c)
}

fn descended_plain(w0: &[f64], c: f64) -> f64 {
    let mut w = w0.to_vec();
    for _ in 0..3 {
        let cs = w.iter().sum::<f64>().cos();
        w = w.iter().map(|v| v - 0.1 * (2.0 * c * v + cs)).collect();
    }
    w.iter().map(|v| v * v).sum::<f64>() * c + w.iter().sum::<f64>().sin()
}

#[test]
fn gradient_descent_on_a_view_loss() {
    let w0 = Array1::from(vec![0.3, -0.6, 1.1]);
    let (v, (gw, gc)) = descended_grad(&w0, 0.7);
    let w0s = w0.as_slice().unwrap();
    close("value", v, descended_plain(w0s, 0.7), TOL);
    // A step is w ↦ w(1 − 0.2c) − 0.1·cos(Σw)·1: along a direction summing to zero (e₀ − e₁)
    // Σw does not move, so the differences w₀ − w₁ scale by (1 − 0.2c) per step and the final
    // c·Σw² gives ∂L/∂w·(e₀ − e₁) = 2c·(w₃,₀ − w₃,₁)·(1 − 0.2c)³ = 2c(1 − 0.2c)⁶(w₀ − w₁)
    // (sin(Σw) and every cos(Σw) term see only Σw).
    let c: f64 = 0.7;
    let along = gw[0] - gw[1];
    close(
        "∂w·(e₀ − e₁)",
        along,
        2.0 * c * (1.0 - 0.2 * c).powi(6) * (w0s[0] - w0s[1]),
        TOL,
    );
    fd_vec(
        "descended ∂w",
        |p| descended_plain(p, 0.7),
        w0s,
        gw.as_slice().unwrap(),
    );
    fd("descended ∂c", |c| descended_plain(w0s, c), 0.7, gc);
}

#[derive(Clone, autodiff::Differentiable)]
struct Spring {
    k: f64,
    r0: f64,
}

#[differentiate(hessian)]
fn spring_energy(s: &Spring, x: f64) -> f64 {
    0.5 * s.k * (x - s.r0).powi(2) + 0.1 * x.powi(4)
}

/// One relaxation step on `x`, then the energy plus the product of its parameter gradient's
/// fields (both read from `spring_energy_grad`).
#[differentiate]
fn relaxed(s: &Spring, x0: f64) -> f64 {
    let (_, (_, gx)) = spring_energy_grad(s, x0);
    let x1 = x0 - 0.2 * gx;
    let (e1, (gs, _)) = spring_energy_grad(s, x1);
    e1 + gs.k * gs.r0
}

fn relaxed_plain(k: f64, r0: f64, x0: f64) -> f64 {
    let x1 = x0 - 0.2 * (k * (x0 - r0) + 0.4 * x0.powi(3));
    0.5 * k * (x1 - r0).powi(2) + 0.1 * x1.powi(4) + 0.5 * (x1 - r0).powi(2) * (-k * (x1 - r0))
}

#[test]
fn relaxation_of_a_parameter_struct_energy() {
    let s = Spring { k: 1.7, r0: 0.4 };
    let (v, (gs, gx)) = relaxed_grad(&s, 1.1);
    close("value", v, relaxed_plain(1.7, 0.4, 1.1), TOL);
    // At a fixed x₁ the loss is ½k(x₁−r₀)² + 0.1x₁⁴ − ½k(x₁−r₀)³, and x₁ = x₀ − 0.2(k(x₀−r₀) +
    // 0.4x₀³): ∂x₁/∂x₀ = 1 − 0.2(k + 1.2x₀²), and ∂L/∂x₁ = k(x₁−r₀) + 0.4x₁³ − 1.5k(x₁−r₀)².
    let (k, r0, x0) = (1.7, 0.4, 1.1f64);
    let x1 = x0 - 0.2 * (k * (x0 - r0) + 0.4 * x0.powi(3));
    let dl = k * (x1 - r0) + 0.4 * x1.powi(3) - 1.5 * k * (x1 - r0).powi(2);
    close("∂x0", gx, dl * (1.0 - 0.2 * (k + 1.2 * x0 * x0)), TOL);
    fd_vec(
        "relaxed",
        |p| relaxed_plain(p[0], p[1], p[2]),
        &[1.7, 0.4, 1.1],
        &[gs.k, gs.r0, gx],
    );
}

#[differentiate(hessian)]
fn owned_loss(w: Vec<f64>, s: f64) -> f64 {
    w.iter().map(|v| (s * v).sin()).sum()
}

/// The squared norm of the gradient of a function taking its weights by value.
#[differentiate]
fn owned_gradient_norm(w: &[f64], s: f64) -> f64 {
    let (_, (g, _)) = owned_loss_grad(w.to_vec(), s);
    g.iter().map(|v| v * v).sum()
}

fn owned_gradient_norm_plain(w: &[f64], s: f64) -> f64 {
    w.iter().map(|v| (s * (s * v).cos()).powi(2)).sum()
}

#[test]
fn gradient_norm_of_a_by_value_parameter() {
    let w = [0.3, -0.9, 1.4];
    let s: f64 = 1.2;
    let (v, (gw, gs)) = owned_gradient_norm_grad(&w, s);
    close("value", v, owned_gradient_norm_plain(&w, s), TOL);
    // Σ s²cos²(s·wᵢ): ∂/∂wᵢ = −s³ sin(2s·wᵢ), ∂/∂s = Σ (2s·cos² − s²·wᵢ·sin(2s·wᵢ)).
    let expected: Vec<f64> = w.iter().map(|v| -s.powi(3) * (2.0 * s * v).sin()).collect();
    close_all("∂w", &gw, &expected);
    let ds: f64 = w
        .iter()
        .map(|v| 2.0 * s * (s * v).cos().powi(2) - s * s * v * (2.0 * s * v).sin())
        .sum();
    close("∂s", gs, ds, TOL);
    fd_vec("owned ∂w", |p| owned_gradient_norm_plain(p, s), &w, &gw);
    fd("owned ∂s", |t| owned_gradient_norm_plain(&w, t), s, gs);
}

#[differentiate(hessian)]
fn wave(x: f64, th: &[f64]) -> f64 {
    th[0] * (th[1] * x).sin() + th[2] * x * x
}

/// A residual `u_x − cos x` at collocation points, `u_x` read from `wave_grad` inside the
/// closure of a `map`.
#[differentiate(wrt(th))]
fn slope_residual(th: &[f64], xs: &[f64]) -> f64 {
    xs.iter()
        .map(|&x| {
            let (_, (ux, _)) = wave_grad(x, th);
            (ux - x.cos()).powi(2)
        })
        .sum()
}

fn slope_residual_plain(th: &[f64], xs: &[f64]) -> f64 {
    xs.iter()
        .map(|&x| (th[0] * th[1] * (th[1] * x).cos() + 2.0 * th[2] * x - x.cos()).powi(2))
        .sum()
}

#[test]
fn slope_residual_through_wave_grad_in_a_closure() {
    let (th, xs) = ([0.9, 1.3, -0.2], [0.1, 0.5, 1.2]);
    let (v, g) = slope_residual_grad(&th, &xs);
    close("value", v, slope_residual_plain(&th, &xs), TOL);
    // r = θ₀θ₁cos(θ₁x) + 2θ₂x − cos x: ∂Σr²/∂θ₂ = Σ 4x·r, ∂/∂θ₀ = Σ 2r·θ₁cos(θ₁x).
    let r = |x: f64| th[0] * th[1] * (th[1] * x).cos() + 2.0 * th[2] * x - x.cos();
    close("∂θ₂", g[2], xs.iter().map(|&x| 4.0 * x * r(x)).sum(), TOL);
    close(
        "∂θ₀",
        g[0],
        xs.iter()
            .map(|&x| 2.0 * r(x) * th[1] * (th[1] * x).cos())
            .sum(),
        TOL,
    );
    fd_vec("slope residual", |p| slope_residual_plain(p, &xs), &th, &g);
}

#[differentiate]
mod critic_methods {
    use autodiff::differentiate;

    #[derive(Clone, autodiff::Differentiable)]
    pub struct Critic {
        pub w: Vec<f64>,
    }

    #[differentiate(wrt(self), hessian)]
    impl Critic {
        pub fn score(&self, x: &[f64]) -> f64 {
            self.w.iter().zip(x).map(|(w, x)| (w * x).sin()).sum()
        }
    }

    #[differentiate(wrt(self))]
    impl Critic {
        /// The squared norm of the score's gradient in the weights, from another block's
        /// `score_grad` (whose `wrt(self)` leaves `x` as data).
        pub fn weight_penalty(&self, x: &[f64]) -> f64 {
            let (_, g) = self.score_grad(x);
            g.w.iter().map(|v| v * v).sum()
        }
    }
}

#[test]
fn penalty_from_a_method_grad_of_another_block() {
    let c = critic_methods::Critic { w: vec![0.7, -1.2] };
    let x = [0.4, 0.9];
    let (v, g) = c.weight_penalty_grad(&x);
    let plain = |w: &[f64]| {
        w.iter()
            .zip(&x)
            .map(|(w, x)| (x * (w * x).cos()).powi(2))
            .sum::<f64>()
    };
    close("value", v, plain(&c.w), TOL);
    // Σ xᵢ²cos²(wᵢxᵢ): ∂/∂wᵢ = −xᵢ³ sin(2wᵢxᵢ).
    let expected: Vec<f64> =
        c.w.iter()
            .zip(&x)
            .map(|(w, x)| -x.powi(3) * (2.0 * w * x).sin())
            .collect();
    close_all("∂w", &g.w, &expected);
    fd_vec("weight penalty", plain, &c.w, &g.w);
}

#[differentiate]
mod force_field {
    use autodiff::differentiate;

    /// A chain of anharmonic springs.
    #[differentiate(wrt(x, k, r0), hessian)]
    pub fn chain_energy(x: &[f64], k: f64, r0: f64) -> f64 {
        x.windows(2)
            .map(|w| 0.5 * k * (w[1] - w[0] - r0).powi(2) + 0.1 * (w[1] - w[0]).powi(4))
            .sum()
    }

    /// Force matching: `Σ ‖∇ₓE(x; k, r₀) + F‖²` over reference configurations and forces.
    #[differentiate(wrt(k, r0))]
    pub fn force_matching(k: f64, r0: f64, confs: &[Vec<f64>], forces: &[Vec<f64>]) -> f64 {
        let mut l = 0.0;
        for (x, f) in confs.iter().zip(forces) {
            let (_, (g, _, _)) = chain_energy_grad(x, k, r0);
            l += g.iter().zip(f).map(|(a, b)| (a + b).powi(2)).sum::<f64>();
        }
        l
    }
}

/// `∇ₓE` of the chain: the tension `k(d − r₀) + 0.4d³` of each spring pulls its two ends.
fn chain_gradient(x: &[f64], k: f64, r0: f64) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    for i in 0..x.len() - 1 {
        let d = x[i + 1] - x[i];
        let t = k * (d - r0) + 0.4 * d.powi(3);
        g[i] -= t;
        g[i + 1] += t;
    }
    g
}

fn force_matching_plain(k: f64, r0: f64, confs: &[Vec<f64>], forces: &[Vec<f64>]) -> f64 {
    confs
        .iter()
        .zip(forces)
        .map(|(x, f)| {
            chain_gradient(x, k, r0)
                .iter()
                .zip(f)
                .map(|(a, b)| (a + b).powi(2))
                .sum::<f64>()
        })
        .sum()
}

#[test]
fn force_matching_through_chain_energy_grad() {
    let confs = vec![vec![0.0, 1.1, 2.0, 3.3], vec![0.1, 0.9, 2.2, 2.9]];
    let forces = vec![vec![0.5, -0.2, 0.1, -0.4], vec![-0.3, 0.3, 0.2, -0.2]];
    let (v, (gk, gr)) = force_field::force_matching_grad(1.3, 0.9, &confs, &forces);
    close(
        "value",
        v,
        force_matching_plain(1.3, 0.9, &confs, &forces),
        TOL,
    );
    // ∇ₓE is linear in (k, r₀) through the tensions: ∂tᵢ/∂k = dᵢ − r₀, ∂tᵢ/∂r₀ = −k; so
    // ∂L/∂k = Σ 2(∇ₓE + F)·∂(∇ₓE)/∂k with ∂(∇ₓE)/∂k = chain_gradient at k = 1, r₀ with the
    // quartic part removed, and ∂L/∂r₀ likewise with −k per spring.
    let (mut ek, mut er) = (0.0, 0.0);
    for (x, f) in confs.iter().zip(&forces) {
        let res: Vec<f64> = chain_gradient(x, 1.3, 0.9)
            .iter()
            .zip(f)
            .map(|(a, b)| a + b)
            .collect();
        for i in 0..x.len() - 1 {
            let d = x[i + 1] - x[i];
            let (dk, dr) = (d - 0.9, -1.3);
            ek += 2.0 * (res[i + 1] - res[i]) * dk;
            er += 2.0 * (res[i + 1] - res[i]) * dr;
        }
    }
    close("∂k", gk, ek, TOL);
    close("∂r0", gr, er, TOL);
    fd2(
        "force matching",
        |k, r| force_matching_plain(k, r, &confs, &forces),
        (1.3, 0.9),
        (gk, gr),
    );
}

#[differentiate(hessian)]
fn hamiltonian(q: f64, p: f64, th: &[f64]) -> f64 {
    th[0] * p * p / 2.0 + th[1] * (1.0 - (th[2] * q).cos())
}

/// A Hamiltonian network's loss: observed `(q̇, ṗ)` against `(∂H/∂p, −∂H/∂q)` from
/// `hamiltonian_grad`.
#[differentiate(wrt(th))]
fn hamiltonian_fit(th: &[f64], qs: &[f64], ps: &[f64], dq: &[f64], dp: &[f64]) -> f64 {
    let mut l = 0.0;
    for i in 0..qs.len() {
        let (_, (hq, hp, _)) = hamiltonian_grad(qs[i], ps[i], th);
        l += (dq[i] - hp).powi(2) + (dp[i] + hq).powi(2);
    }
    l / qs.len() as f64
}

#[test]
fn hamiltonian_network_fit_through_hamiltonian_grad() {
    let th = [1.1, 0.8, 1.3];
    let (qs, ps) = ([0.2, -0.5, 1.0], [0.3, 0.1, -0.4]);
    let (dq, dp) = ([0.25, 0.05, -0.5], [-0.2, 0.4, -0.7]);
    let plain = |th: &[f64]| {
        (0..3)
            .map(|i| {
                let hp = th[0] * ps[i];
                let hq = th[1] * th[2] * (th[2] * qs[i]).sin();
                (dq[i] - hp).powi(2) + (dp[i] + hq).powi(2)
            })
            .sum::<f64>()
            / 3.0
    };
    let (v, g) = hamiltonian_fit_grad(&th, &qs, &ps, &dq, &dp);
    close("value", v, plain(&th), TOL);
    // ∂H/∂p = θ₀p and ∂H/∂q = θ₁θ₂ sin(θ₂q): ∂L/∂θ₀ = −(2/n)Σ(q̇ − θ₀p)p,
    // ∂L/∂θ₁ = (2/n)Σ(ṗ + θ₁θ₂ sin θ₂q)·θ₂ sin θ₂q.
    let e0 = -(2.0 / 3.0) * (0..3).map(|i| (dq[i] - th[0] * ps[i]) * ps[i]).sum::<f64>();
    let e1 = (2.0 / 3.0)
        * (0..3)
            .map(|i| {
                let s = (th[2] * qs[i]).sin();
                (dp[i] + th[1] * th[2] * s) * th[2] * s
            })
            .sum::<f64>();
    close("∂θ₀", g[0], e0, TOL);
    close("∂θ₁", g[1], e1, TOL);
    fd_vec("hamiltonian fit", plain, &th, &g);
}
