//! Trajectory optimisation and control code: dynamics helpers returning fixed-size state arrays
//! (`fn step(x: [f64; 2], u: f64) -> [f64; 2]`), rollouts that log or score the states through
//! helpers taking slices.
//!
//! A state array that a differentiated function returned, lent as a slice — to a helper taking
//! `&[f64]` (`dot(&x, &x)` of `let x = step(x0, u);`, a method's result `dot(&self.f(x), &x)`),
//! to `log.extend_from_slice(&x)` or to `buf.copy_from_slice(&x)` — was rustc's "mismatched
//! types, expected `[f64; 2]`, found `Vec<f64>`" inside the generated code (and, in `_jvp`,
//! "the tangents of this forward rule do not match the call's differentiable arguments"): the
//! macro does not see the callee's result type, and the slice's gradient, a `Vec`, was added
//! into the array's adjoint as it was. Such a value (a call's result, a part of a tuple one
//! returned, a version of one carried by a loop) now gets its gradient and tangent through the
//! conversions a lent field has, which take the array's `Vec` as the array and any other type
//! as it is. So does an element of such a value, a state of a trajectory a rollout returned
//! (`dot(&traj[k], &traj[k])` of `let traj = rollout(x0, us);`, `for s in &traj { dot(s, s) }`),
//! which was the same error.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`, each tangent and Hessian-vector
//! product against the gradient and its differences.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck};
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, ArrayView1};

mod common;
use common::*;

/// A linear step `x ↦ A·x` of a two-state system.
#[differentiate(hessian)]
fn mat_vec(a: [[f64; 2]; 2], x: [f64; 2]) -> [f64; 2] {
    [
        a[0][0] * x[0] + a[0][1] * x[1],
        a[1][0] * x[0] + a[1][1] * x[1],
    ]
}

/// `x ↦ (x₀·x₁, x₁)`.
#[differentiate(hessian)]
fn squash(x: [f64; 2]) -> [f64; 2] {
    [x[0] * x[1], x[1]]
}

#[differentiate(hessian)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `f = ‖squash(x)‖² = x₀²x₁² + x₁²`: `∂₀ = 2x₀x₁²`, `∂₁ = 2x₀²x₁ + 2x₁`.
#[differentiate(hessian)]
fn norm_of_step(x0: [f64; 2]) -> f64 {
    let x = squash(x0);
    dot(&x, &x)
}

/// `f = x₀x₁·x₁` through a buffer the step's state is copied into: `∇f = (x₁², 2x₀x₁)`.
#[differentiate(hessian)]
fn copied_step(x0: [f64; 2]) -> f64 {
    let x = squash(x0);
    let mut buf = vec![0.0; 2];
    buf.copy_from_slice(&x);
    buf[0] * buf[1]
}

/// The states `x_k = Aᵏ·x₀` (k = 1..=n) logged by `extend_from_slice`, scored by their mean
/// square: `f = Σ_k ‖Aᵏx₀‖² / 2n`, `∇f = Σ_k (Aᵏ)ᵀAᵏx₀ / n`.
#[differentiate(hessian)]
fn logged_rollout(a: [[f64; 2]; 2], x0: [f64; 2], n: usize) -> f64 {
    let mut x = x0;
    let mut log: Vec<f64> = Vec::new();
    for _ in 0..n {
        x = mat_vec(a, x);
        log.extend_from_slice(&x);
    }
    log.iter().map(|v| v * v).sum::<f64>() / log.len() as f64
}

/// The first state a step made, carried by the loop and lent at the top of each iteration, and
/// the parts of a tuple a helper returned: checked against differences only.
#[differentiate(hessian)]
fn split(x: [f64; 2]) -> ([f64; 2], f64) {
    ([x[1], x[0] * x[0]], x[0])
}

#[differentiate(hessian)]
fn carried_states(x0: [f64; 2]) -> f64 {
    let mut x = squash(x0);
    let mut log = Vec::new();
    let mut c = 0.0;
    for _ in 0..3 {
        log.extend_from_slice(&x);
        c += dot(&x, &[1.0, 2.0]);
        x = squash([x[0] * 0.5, x[1] * 0.9]);
    }
    let (a, b) = split(x);
    c + dot(&a, &a) * b + log.iter().map(|v| v * v).sum::<f64>()
}

#[derive(Clone, Debug, Differentiable)]
struct Spring {
    k: f64,
}

#[differentiate(hessian)]
impl Spring {
    /// `ẋ = (x₁, −k·x₀)`.
    fn rate(&self, x: [f64; 2]) -> [f64; 2] {
        [x[1], -self.k * x[0]]
    }

    /// `E = ẋ·x + k·‖ẋ‖² = (1 − k)·x₀x₁ + k·x₁² + k³·x₀²`.
    fn power(&self, x: [f64; 2]) -> f64 {
        let d = self.rate(x);
        dot(&d, &x) + self.k * dot(&d, &d)
    }
}

#[differentiate]
fn squares(x: &Array1<f64>) -> Array1<f64> {
    x.mapv(|v| v * v)
}

/// An `Array1` a helper returned, copied into a `Vec`: `f = Σ xᵢ⁴ + Σ xᵢ²`, `∂ᵢ = 4xᵢ³ + 2xᵢ`.
#[differentiate]
fn squares_copied(x: &Array1<f64>) -> f64 {
    let y = squares(x);
    let v = y.to_vec();
    dot(&v, &v) + y.sum()
}

type Grad = fn([f64; 2]) -> (f64, [f64; 2]);
type Jvp = fn([f64; 2], [f64; 2]) -> (f64, f64);
type Hvp = fn([f64; 2], [f64; 2]) -> (f64, [f64; 2], [f64; 2]);

/// The gradient against differences, the tangent against the gradient, and `H·v` against
/// differences of the gradient.
#[track_caller]
fn modes(what: &str, f: fn([f64; 2]) -> f64, grad: Grad, jvp: Jvp, hvp: Hvp, x: [f64; 2]) {
    let v = [0.4, 0.9];
    let (y, g) = grad(x);
    close(&format!("{what}: value"), y, f(x), TOL);
    let r = gradcheck(|p: &[f64; 2]| f(*p), &x, &g);
    assert!(r.passed(), "{what}: {r}");
    let (y, t) = jvp(x, v);
    close(&format!("{what}: jvp value"), y, f(x), TOL);
    close(
        &format!("{what}: tangent"),
        t,
        g[0] * v[0] + g[1] * v[1],
        TOL,
    );
    let (_, g2, hv) = hvp(x, v);
    close_all(&format!("{what}: hvp gradient"), &g2, &g);
    let r = hvpcheck(|p: &[f64; 2]| grad(*p).1, &x, &v, &hv);
    assert!(r.passed(), "{what}: hvp {r}");
}

#[test]
fn a_step_lent_to_a_slice_helper() {
    let x = [0.7, -1.3];
    let (_, g) = norm_of_step_grad(x);
    let want = [
        2.0 * x[0] * x[1] * x[1],
        2.0 * x[0] * x[0] * x[1] + 2.0 * x[1],
    ];
    close_all("dot of a step", &g, &want);
    modes(
        "dot of a step",
        norm_of_step,
        norm_of_step_grad,
        norm_of_step_jvp,
        norm_of_step_hvp,
        x,
    );

    let (_, g) = copied_step_grad(x);
    close_all("copied step", &g, &[x[1] * x[1], 2.0 * x[0] * x[1]]);
    modes(
        "copied step",
        copied_step,
        copied_step_grad,
        copied_step_jvp,
        copied_step_hvp,
        x,
    );

    modes(
        "carried states",
        carried_states,
        carried_states_grad,
        carried_states_jvp,
        carried_states_hvp,
        x,
    );
}

#[test]
fn a_rollout_logged_by_extend_from_slice() {
    let a = [[0.9, 0.2], [-0.2, 0.9]];
    let x0 = [1.0, 0.5];
    let n = 10;
    let (y, (ga, gx)) = logged_rollout_grad(a, x0, n);
    close("value", y, logged_rollout(a, x0, n), TOL);
    // Σ_k (Aᵏ)ᵀAᵏx₀ / n, with xₖ = Aᵏx₀ stepped by hand.
    let mut want = [0.0; 2];
    let mut pk = [[1.0, 0.0], [0.0, 1.0]];
    for _ in 0..n {
        let mut next = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                next[i][j] = a[i][0] * pk[0][j] + a[i][1] * pk[1][j];
            }
        }
        pk = next;
        let xk = [
            pk[0][0] * x0[0] + pk[0][1] * x0[1],
            pk[1][0] * x0[0] + pk[1][1] * x0[1],
        ];
        for j in 0..2 {
            want[j] += (pk[0][j] * xk[0] + pk[1][j] * xk[1]) / n as f64;
        }
    }
    close_all("∂x₀", &gx, &want);
    let r = gradcheck(
        |p: &([[f64; 2]; 2], [f64; 2])| logged_rollout(p.0, p.1, n),
        &(a, x0),
        &(ga, gx),
    );
    assert!(r.passed(), "{r}");
    let (_, t) = logged_rollout_jvp(a, x0, n, [[0.0; 2]; 2], [1.0, -1.0]);
    close("tangent", t, gx[0] - gx[1], TOL);
    let dir = ([[0.1, -0.2], [0.3, 0.05]], [0.5, 0.25]);
    let (_, _, hv) = logged_rollout_hvp(a, x0, n, dir.0, dir.1);
    let r = hvpcheck(
        |p: &([[f64; 2]; 2], [f64; 2])| logged_rollout_grad(p.0, p.1, n).1,
        &(a, x0),
        &dir,
        &hv,
    );
    assert!(r.passed(), "hvp {r}");
}

#[test]
fn a_method_result_lent_to_a_slice_helper() {
    let s = Spring { k: 1.7 };
    let x = [0.3, 0.8];
    let (y, (gs, gx)) = s.power_grad(x);
    close("value", y, s.power(x), TOL);
    let k = s.k;
    let want_x = [
        (1.0 - k) * x[1] + 2.0 * k * k * k * x[0],
        (1.0 - k) * x[0] + 2.0 * k * x[1],
    ];
    close_all("∂x", &gx, &want_x);
    let want_k = -x[0] * x[1] + x[1] * x[1] + 3.0 * k * k * x[0] * x[0];
    close("∂k", gs.k, want_k, TOL);
    let dir = (Spring { k: -0.4 }, [0.2, 1.0]);
    let (_, t) = s.power_jvp(x, &dir.0, dir.1);
    close(
        "tangent",
        t,
        gs.k * dir.0.k + gx[0] * dir.1[0] + gx[1] * dir.1[1],
        TOL,
    );
    let (_, _, hv) = s.power_hvp(x, &dir.0, dir.1);
    let r = hvpcheck(
        |p: &(Spring, [f64; 2])| p.0.power_grad(p.1).1,
        &(s, x),
        &dir,
        &hv,
    );
    assert!(r.passed(), "hvp {r}");
}

#[test]
fn an_array_result_copied_into_a_vec() {
    let x = Array1::from(vec![0.5, -1.0, 2.0]);
    let (y, g) = squares_copied_grad(&x);
    close("value", y, squares_copied(&x), TOL);
    let want: Vec<f64> = x.iter().map(|v| 4.0 * v * v * v + 2.0 * v).collect();
    close_all("∂x", g.as_slice().unwrap(), &want);
}

/// The states of a rollout, `x_{k+1} = (x₀ + h·x₀x₁, x₁ + h·(u_k − x₀))`, from `x₀`.
#[differentiate(hessian)]
fn rollout(x0: [f64; 2], us: &[f64]) -> Vec<[f64; 2]> {
    let mut traj = vec![x0];
    let mut s = x0;
    for &u in us {
        s = [s[0] + 0.1 * s[1] * s[0], s[1] + 0.1 * (u - s[0])];
        traj.push(s);
    }
    traj
}

/// `x` and its squares, as rows.
#[differentiate(hessian)]
fn with_squares(x: &[f64]) -> Vec<Vec<f64>> {
    vec![x.to_vec(), x.iter().map(|v| v * v).collect()]
}

#[differentiate(hessian)]
fn cube(a: &f64) -> f64 {
    a * a * a
}

/// `f = Σ_k ‖x_k‖² + Σ_t (u_t² + u_t⁴) + u₀⁶ + u₁³`: the states read by index, the rows by a
/// loop over a reference, an element lent as `&f64`.
#[differentiate(hessian)]
fn trajectory_energy(x0: [f64; 2], us: &[f64]) -> f64 {
    let traj = rollout(x0, us);
    let mut c = 0.0;
    for k in 0..traj.len() {
        c += dot(&traj[k], &traj[k]);
    }
    let rows = with_squares(us);
    for r in &rows {
        c += dot(r, r);
    }
    c + cube(&rows[1][0]) + cube(&rows[0][1])
}

/// The same states scored through the items of `for s in &traj` and a chain: `f = Σ_k (x_k,0 +
/// x_k,1 / 2) + Σ_k ‖x_k‖²`.
#[differentiate]
fn trajectory_items(x0: [f64; 2], us: &[f64]) -> f64 {
    let traj = rollout(x0, us);
    let mut c = 0.0;
    for s in &traj {
        c += dot(s, &[1.0, 0.5]);
    }
    c + traj.iter().map(|s| dot(s, s)).sum::<f64>()
}

#[test]
fn the_states_of_a_returned_trajectory_lent_to_a_slice_helper() {
    let x0 = [0.5, -0.3];
    let us = vec![0.3, 0.1, -0.4, 0.8];
    let (y, (gx, gu)) = trajectory_energy_grad(x0, &us);
    close("value", y, trajectory_energy(x0, &us), TOL);
    // The rows' terms have the analytic ∂/∂u_t = 2u_t + 4u_t³ (+ 6u₀⁵, + 3u₁²); what is left
    // is the trajectory's, checked by differences below.
    let gu_traj: Vec<f64> = (0..us.len())
        .map(|t| {
            let u = us[t];
            let mut own = 2.0 * u + 4.0 * u * u * u;
            if t == 0 {
                own += 6.0 * u.powi(5);
            }
            if t == 1 {
                own += 3.0 * u * u;
            }
            gu[t] - own
        })
        .collect();
    // The trajectory's part alone, differentiated through the same states without the rows.
    let traj_only = |x0: [f64; 2], us: &[f64]| -> f64 {
        rollout(x0, us)
            .iter()
            .map(|s| s[0] * s[0] + s[1] * s[1])
            .sum()
    };
    let r = gradcheck(
        |p: &([f64; 2], Vec<f64>)| traj_only(p.0, &p.1),
        &(x0, us.clone()),
        &(gx, gu_traj),
    );
    assert!(r.passed(), "the trajectory's part: {r}");
    let r = gradcheck(
        |p: &([f64; 2], Vec<f64>)| trajectory_energy(p.0, &p.1),
        &(x0, us.clone()),
        &(gx, gu.clone()),
    );
    assert!(r.passed(), "{r}");
    let dir = ([0.2, 1.0], vec![1.0, -1.0, 0.5, 0.3]);
    let (_, t) = trajectory_energy_jvp(x0, &us, dir.0, &dir.1);
    let want = gx[0] * dir.0[0]
        + gx[1] * dir.0[1]
        + gu.iter().zip(&dir.1).map(|(a, b)| a * b).sum::<f64>();
    close("tangent", t, want, TOL);
    let (_, _, hv) = trajectory_energy_hvp(x0, &us, dir.0, &dir.1);
    let r = hvpcheck(
        |p: &([f64; 2], Vec<f64>)| trajectory_energy_grad(p.0, &p.1).1,
        &(x0, us.clone()),
        &dir,
        &hv,
    );
    assert!(r.passed(), "hvp {r}");

    let (y, (gx, gu)) = trajectory_items_grad(x0, &us);
    close("items: value", y, trajectory_items(x0, &us), TOL);
    let r = gradcheck(
        |p: &([f64; 2], Vec<f64>)| trajectory_items(p.0, &p.1),
        &(x0, us.clone()),
        &(gx, gu),
    );
    assert!(r.passed(), "items: {r}");
    let (_, t) = trajectory_items_jvp(x0, &us, [1.0, 0.0], &vec![0.0; 4]);
    close("items: tangent", t, gx[0], TOL);
}

// ---------------------------------------------------------------------------------------------
// A field integrated in place by a helper, through a local of its type.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn axpy_into(x: &mut [f64], f: &[f64], dt: f64) {
    for i in 0..x.len() {
        x[i] += dt * f[i];
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Ball {
    pos: [f64; 2],
    vel: [f64; 2],
}

/// Semi-implicit Euler under gravity, the fields lent to `axpy_into` through locals (a field
/// lent `&mut` itself is an error that says to write this): `y_k = y₀ + h·k·v₀ − h²·g·k(k+1)/2`
/// with `h = 0.1`, `c = Σ_{k=1..n} y_k²`; `∂c/∂y₀ = Σ 2y_k`, `∂c/∂v₀ = Σ 2y_k·h·k`, `∂c/∂g =
/// −Σ 2y_k·h²·k(k+1)/2`, nothing for the horizontal components.
#[differentiate]
fn fall(b0: &Ball, g: f64, n: usize) -> f64 {
    let mut b = b0.clone();
    let mut c = 0.0;
    for _ in 0..n {
        let acc = [0.0, -g];
        let mut v: [f64; 2] = b.vel;
        axpy_into(&mut v, &acc, 0.1);
        b.vel = v;
        let mut p: [f64; 2] = b.pos;
        axpy_into(&mut p, &b.vel, 0.1);
        b.pos = p;
        c += b.pos[1] * b.pos[1];
    }
    c
}

#[test]
fn a_field_integrated_through_a_local() {
    let b = Ball {
        pos: [0.3, 1.0],
        vel: [1.0, 2.0],
    };
    let (g, n, h) = (9.81, 8, 0.1);
    let (y, (gb, gg)) = fall_grad(&b, g, n);
    close("value", y, fall(&b, g, n), TOL);
    let (mut dy0, mut dv0, mut dg) = (0.0, 0.0, 0.0);
    for k in 1..=n {
        let k = k as f64;
        let yk = b.pos[1] + h * k * b.vel[1] - h * h * g * k * (k + 1.0) / 2.0;
        dy0 += 2.0 * yk;
        dv0 += 2.0 * yk * h * k;
        dg -= 2.0 * yk * h * h * k * (k + 1.0) / 2.0;
    }
    close_all("∂pos", &gb.pos, &[0.0, dy0]);
    close_all("∂vel", &gb.vel, &[0.0, dv0]);
    close("∂g", gg, dg, TOL);
    let r = gradcheck(|p: &(Ball, f64)| fall(&p.0, p.1, n), &(b, g), &(gb, gg));
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// A rotation matrix a helper returned, lent as rows.
// ---------------------------------------------------------------------------------------------

/// The planar rotation by `θ`.
#[differentiate(hessian)]
fn rotation(th: f64) -> [[f64; 2]; 2] {
    let (s, c) = th.sin_cos();
    [[c, -s], [s, c]]
}

#[differentiate(hessian)]
fn mat_vec_rows(m: &[[f64; 2]], v: &[f64]) -> Vec<f64> {
    m.iter().map(|r| r[0] * v[0] + r[1] * v[1]).collect()
}

/// A body-frame thrust turned into the world frame, `f = (R(θ)·t)₀ + (R(θ)·t)₁²` with `t =
/// (0, u)`: `f = −u·sin θ + u²·cos² θ`, `∂θ = −u·cos θ − 2u²·sin θ·cos θ`, `∂u = −sin θ +
/// 2u·cos² θ`.
#[differentiate(hessian)]
fn world_thrust(th: f64, u: f64) -> f64 {
    let r = rotation(th);
    let w = mat_vec_rows(&r, &[0.0, u]);
    w[0] + w[1] * w[1]
}

#[test]
fn a_returned_matrix_lent_as_rows() {
    let (th, u) = (0.4, 2.5);
    let (y, (gt, gu)) = world_thrust_grad(th, u);
    close("value", y, world_thrust(th, u), TOL);
    let (s, c) = th.sin_cos();
    close("∂θ", gt, -u * c - 2.0 * u * u * s * c, TOL);
    close("∂u", gu, -s + 2.0 * u * c * c, TOL);
    let (_, t) = world_thrust_jvp(th, u, 1.0, -0.5);
    close("tangent", t, gt - 0.5 * gu, TOL);
    let (_, _, hv) = world_thrust_hvp(th, u, 1.0, -0.5);
    let r = hvpcheck(
        |p: &(f64, f64)| world_thrust_grad(p.0, p.1).1,
        &(th, u),
        &(1.0, -0.5),
        &hv,
    );
    assert!(r.passed(), "hvp {r}");
}

// ---------------------------------------------------------------------------------------------
// A hand-written forward rule taking a slice's tangent as a slice.
// ---------------------------------------------------------------------------------------------

/// A weighted inner product with a hand-written derivative, whose forward rule takes the
/// tangents as Rust code takes slices, `dw: &[f64]`, `dx: &[f64]` (it was rustc's "the tangents
/// of this forward rule do not match the call's differentiable arguments", which asked for
/// `&Vec<f64>`).
fn wdot(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

fn wdot_vjp(w: &[f64], x: &[f64]) -> (f64, impl FnOnce(f64) -> (Vec<f64>, Vec<f64>)) {
    let (ws, xs) = (w.to_vec(), x.to_vec());
    (wdot(w, x), move |g: f64| {
        (
            xs.iter().map(|v| v * g).collect(),
            ws.iter().map(|v| v * g).collect(),
        )
    })
}

fn wdot_jvp(w: &[f64], x: &[f64], dw: &[f64], dx: &[f64]) -> (f64, f64) {
    (wdot(w, x), wdot(dw, x) + wdot(w, dx))
}

/// `f = Σ wᵢxᵢ² + Σ xᵢ⁴` with `w` as data (its tangent slot empty, a zero made for the rule):
/// `∂ᵢ = 2wᵢxᵢ + 4xᵢ³`.
#[differentiate(wrt(x))]
fn weighted_squares(w: &[f64], x: &[f64]) -> f64 {
    let y: Vec<f64> = x.iter().map(|v| v * v).collect();
    wdot(w, &y) + wdot(&y, &y)
}

/// The same rule given a state array a step returned, `f = ‖squash(x)‖²` as in
/// [`norm_of_step`].
#[differentiate]
fn weighted_step(x0: [f64; 2]) -> f64 {
    let x = squash(x0);
    wdot(&x, &x)
}

#[test]
fn a_forward_rule_taking_slices() {
    let w = vec![1.0, -2.0, 0.5];
    let x = vec![0.5, 0.7, -1.1];
    let (y, g) = weighted_squares_grad(&w, &x);
    close("value", y, weighted_squares(&w, &x), TOL);
    let want: Vec<f64> = (0..3)
        .map(|i| 2.0 * w[i] * x[i] + 4.0 * x[i].powi(3))
        .collect();
    close_all("∂x", &g, &want);
    let dx = vec![1.0, 2.0, -0.5];
    let (_, t) = weighted_squares_jvp(&w, &x, &dx);
    close("tangent", t, dot_plain(&g, &dx), TOL);

    let x0 = [0.7, -1.3];
    let (_, g) = weighted_step_grad(x0);
    let want = [
        2.0 * x0[0] * x0[1] * x0[1],
        2.0 * x0[0] * x0[0] * x0[1] + 2.0 * x0[1],
    ];
    close_all("step: ∂x₀", &g, &want);
    let (_, t) = weighted_step_jvp(x0, [0.4, 0.9]);
    close("step: tangent", t, 0.4 * g[0] + 0.9 * g[1], TOL);
}

/// A hand-written derivative of a function taking a view, whose forward rule takes the tangent
/// as a view too (it asked for `&Array1<f64>`).
fn sum_sq(x: ArrayView1<f64>) -> f64 {
    x.dot(&x)
}

fn sum_sq_vjp(x: ArrayView1<f64>) -> (f64, impl FnOnce(f64) -> Array1<f64>) {
    let xs = x.to_owned();
    (sum_sq(x), move |g: f64| xs * (2.0 * g))
}

fn sum_sq_jvp(x: ArrayView1<f64>, dx: ArrayView1<f64>) -> (f64, f64) {
    (sum_sq(x), 2.0 * x.dot(&dx))
}

/// `f = Σ sin²xᵢ + Σ xᵢ²`: `∂ᵢ = 2 sin xᵢ cos xᵢ + 2xᵢ`.
#[differentiate]
fn viewed_squares(x: &Array1<f64>) -> f64 {
    let y = x.mapv(|v| v.sin());
    sum_sq(y.view()) + sum_sq(x.view())
}

#[test]
fn a_forward_rule_taking_views() {
    let x = Array1::from(vec![0.3, -0.5, 1.2]);
    let (y, g) = viewed_squares_grad(&x);
    close("value", y, viewed_squares(&x), TOL);
    let want: Vec<f64> = x
        .iter()
        .map(|v| 2.0 * v.sin() * v.cos() + 2.0 * v)
        .collect();
    close_all("∂x", g.as_slice().unwrap(), &want);
    let dx = Array1::from(vec![1.0, -1.0, 0.5]);
    let (_, t) = viewed_squares_jvp(&x, &dx);
    close("tangent", t, g.dot(&dx), TOL);
}

fn dot_plain(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
